#!/usr/bin/env bash
# The inquiry store (store/inquiries.h).  The upgrade of a site's
# inquiries (store/inquiries_import.c): the state
# the release before the indexed store wrote (tests/data/state-v1) is read
# into state/letterbox.db on the first command, and every command then
# prints what that release printed; state/inquiries becomes inquiries.pre-1
# and goes after the next successful command.  kill -9 during the upgrade,
# at random and at its crash points, loses nothing and reads nothing twice.
# A purge really deletes; the digest lists the 50 most pressing waiting
# inquiries and counts the rest, with the staff pages' link.
source "$(dirname "$0")/../lib.sh"
FIX=$TOP/tests/data/state-v1
S=$T_TMP/site

# fresh: the site with the fixture's state/, as the release left it
fresh() {
	rm -rf "$S"
	make_site "$S"
	set_web_url "$S" http://127.0.0.1:8080/news
	sed -i 's/^  acknowledge: false/  acknowledge: true/' "$S/letterbox.yaml"
	cp -r "$FIX/state/." "$S/state/"
	chmod -R go-rwx "$S/state"
}
lbs() { lb -C "$S" "$@"; }
sql() { sqlite3 -cmd ".timeout 10000" "$S/state/letterbox.db" "$1"; }

echo "-- the first command upgrades; it and the next print what the release printed"
fresh
expect_exit 0 "inquiries list --status all --json" lbs inquiries list --status all --json
same "  the same records" "$(cat "$T_TMP/out")" "$(cat "$FIX/expect/inquiries.json")"
check "  state/inquiries is kept as inquiries.pre-1" test -d "$S/state/inquiries.pre-1" -a ! -e "$S/state/inquiries"
for n in 1 2 3; do
	expect_exit 0 "inquiries show $n" lbs inquiries show $n
	same "  as the release showed it" "$(cat "$T_TMP/out")" "$(cat "$FIX/expect/show-$n.txt")"
done
expect_exit 0 "inquiries show 1 --full" lbs inquiries show 1 --full
same "  the whole conversation, byte for byte" "$(cat "$T_TMP/out")" "$(cat "$FIX/expect/show-1-full.txt")"
expect_exit 0 "inquiries show 1 --copy 1" lbs inquiries show 1 --copy 1
same "  the reply's copy" "$(cat "$T_TMP/out")" "$(cat "$FIX/expect/copy-1-1.txt")"
check "  after a successful command, inquiries.pre-1 is gone" test ! -e "$S/state/inquiries.pre-1"

echo "-- every record of the log in the tables"
hist_lines=$(grep -cP '^H [123]\t' "$FIX/state/inquiries/log")
same "  3 records (4 was purged)" "$(sql 'SELECT group_concat(number) FROM inq_records ORDER BY number')" "1,2,3"
same "  every history line of theirs, in order" "$(sql 'SELECT count(*) FROM inq_history')" "$hist_lines"
same "  the history as written" "$(sql "SELECT time||' '||who||' '||what||' '||detail FROM inq_history WHERE number = 1 ORDER BY id" | head -3)" \
	"$(grep -P '^H 1\t' "$FIX/state/inquiries/log" | head -3 | cut -f2- | tr '\t' ' ')"
same "  the conversation entries" "$(sql 'SELECT count(*) FROM inq_thread')" "$(grep -cP '^M [123]\t' "$FIX/state/inquiries/log")"
same "  3 first messages, a follow-up, a reply copy" "$(sql 'SELECT count(*) FROM inq_blobs')" 5
same "  the outcomes the history names (noted)" "$(sql 'SELECT noted FROM inq_records WHERE number = 2')" 3
expect_exit 0 "the next inquiry" lbs inquiries note 3 "still here" --by sam
# (the release's purge compacted 4 away: its log names 3 as the highest)
same "  the highest number is kept" "$(sql 'SELECT value FROM inq_meta WHERE key = "highest"')" 3

echo "-- kill -9 at the upgrade's crash points: the next command completes it"
for point in upgrade-imported upgrade-committed upgrade-renamed; do
	fresh
	LETTERBOX_TEST_CRASH=$point lbs inquiries list --status all --json >/dev/null 2>&1
	same "  killed at $point" "$?" 137
	expect_exit 0 "  then inquiries list" lbs inquiries list --status all --json
	same "  the same records" "$(cat "$T_TMP/out")" "$(cat "$FIX/expect/inquiries.json")"
	same "  each once" "$(sql 'SELECT count(*) FROM inq_records') $(sql 'SELECT count(*) FROM inq_history')" "3 $hist_lines"
	check "  the old directory renamed" test ! -e "$S/state/inquiries"
done

echo "-- kill -9 at random during the upgrade"
bad=0
for d in 0.001 0.003 0.005 0.008 0.01 0.015 0.02 0.03 0.05 0.08; do
	fresh
	lbs inquiries list --status all --json >/dev/null 2>&1 &
	pid=$!
	sleep "$d"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# either untouched or done
	if [ -e "$S/state/inquiries" ] && [ -e "$S/state/inquiries.pre-1" ]; then bad=$((bad + 1)); fi
	out=$(lbs inquiries list --status all --json 2>&1)
	[ "$out" = "$(cat "$FIX/expect/inquiries.json")" ] || bad=$((bad + 1))
	[ "$(sql 'SELECT count(*) FROM inq_history')" = "$hist_lines" ] || bad=$((bad + 1))
done
same "  every run then reads the same records, each once" "$bad" 0

echo "-- purge: the rows go, and the file does not keep them"
fresh
expect_exit 0 "close 3" lbs inquiries set 3 status=closed --by sam
cat "$S/state/letterbox.db"* >"$T_TMP/before"
expect_exit 0 "purge it" lbs inquiries purge --closed-before 2100-01-01
check "  reports it" grep -q "removing inquiry 3" "$T_TMP/out"
check "  its words were in the database before (its WAL)" grep -q "night shifts" "$T_TMP/before"
# (before any sqlite3 command: the CLI's close would checkpoint the WAL itself)
if cat "$S/state/letterbox.db"* | grep -q "night shifts"; then
	fail "  its message is in neither the database nor its WAL (secure_delete, the WAL emptied)"
else pass "  its message is in neither the database nor its WAL (secure_delete, the WAL emptied)"; fi
same "  its rows are gone" "$(sql 'SELECT count(*) FROM inq_records WHERE number = 3') $(sql 'SELECT count(*) FROM inq_blobs WHERE number = 3') $(sql 'SELECT count(*) FROM inq_history WHERE number = 3')" "0 0 0"

echo "-- the digest: the 50 most pressing, the rest counted, the link to all of them"
fresh
expect_exit 0 "the upgrade" lbs inquiries
sql "WITH RECURSIVE c(i) AS (SELECT 10 UNION ALL SELECT i + 1 FROM c WHERE i < 69)
	INSERT INTO inq_records(number, received, from_addr, subject, status, priority)
	SELECT i, 1796000000 + i, 'p' || i || '@example.org', 'question ' || i, 'new',
	CASE WHEN i = 69 THEN 'urgent' ELSE 'normal' END FROM c"
expect_exit 0 "digest --dry-run with 62 waiting" lbs digest --dry-run
same "  lists 50" "$(grep -c '^  #[0-9]' "$T_TMP/out")" 50
same "  urgent first, then oldest" "$(grep -o '^  #[0-9]*' "$T_TMP/out" | head -4 | xargs)" "#2 #69 #3 #10"
check "  counts the rest" grep -qx "  and 12 more" "$T_TMP/out"
check "  links to the staff pages" grep -qx "All of them: http://127.0.0.1:8080/news/staff/" "$T_TMP/out"
check "  says how many wait" grep -q "^Inquiries: 62 new, 0 open, 1 answered" "$T_TMP/out"
set_web_url "$S" ""
expect_exit 0 "without web.url" lbs digest --dry-run
if grep -q "/staff/" "$T_TMP/out"; then fail "  no link"; else pass "  no link"; fi

[ -z "$(grep -c fail "$T_RESULTS" | grep -v '^0$')" ]
