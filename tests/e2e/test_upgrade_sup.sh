#!/usr/bin/env bash
# The upgrade of the suppressions area (store/db.h, suppressions_import.c): a
# state/ made by the release before the indexed store (tests/data/state-v1)
# is read in on the first command, every suppression, pending report,
# consent record and sign-up hit with the values it had; the old files are
# kept as NAME.pre-1 until the next good run; a kill -9 at any moment of the
# upgrade loses nothing.
source "$(dirname "$0")/../lib.sh"
FX=$TOP/tests/data/state-v1
OLD=(suppressions suppressions.pending consent signup.limits)

fresh() {
	rm -rf "$T_TMP/s"
	make_site "$T_TMP/s"
	S=$T_TMP/s
	cp -r "$FX/state/." "$S/state/"
	chmod -R go-rwx "$S/state"
}
# records of the old file NAME, without comments: what the store must hold
old() { grep -v '^#' "$FX/state/$1"; }
# every record of the area in the store, as the old files had them
all_there() {
	[ "$(sup_records "$S")" = "$(old suppressions)" ] &&
		[ "$(pending_records "$S")" = "$(old suppressions.pending)" ] &&
		[ "$(consent_records "$S")" = "$(old consent)" ] &&
		[ "$(store_rows "$S" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', at, 'unixepoch'), kind, who
			FROM sup_signup ORDER BY rowid")" = "$(old signup.limits)" ]
}
old_untouched() {
	local f
	for f in "${OLD[@]}"; do cmp -s "$FX/state/$f" "$S/state/$f" || return 1; done
}
upgraded() { [ "$(store_rows "$S" "PRAGMA user_version")" = 1 ] 2>/dev/null; }

# ---- the first command reads the old files in --------------------------------------------------
fresh
expect_exit 0 "subscribers suppressions --json on the old state/" \
	lb -C "$S" subscribers suppressions --json
check "  prints what the release printed" cmp -s "$T_TMP/out" "$FX/expect/suppressions.json"
check "  every suppression in the store, the same values, in order" \
	test "$(sup_records "$S")" = "$(old suppressions)"
check "  every pending report" test "$(pending_records "$S")" = "$(old suppressions.pending)"
check "  every consent record" test "$(consent_records "$S")" = "$(old consent)"
check "  every sign-up hit" all_there
for f in "${OLD[@]}"; do
	check "  state/$f kept as $f.pre-1, byte for byte" cmp -s "$FX/state/$f" "$S/state/$f.pre-1"
	check "  state/$f itself gone" test ! -e "$S/state/$f"
done
expect_exit 0 "subscribers suppressions --pending --json" \
	lb -C "$S" subscribers suppressions --pending --json
check "  prints what the release printed" cmp -s "$T_TMP/out" "$FX/expect/pending.json"
expect_exit 0 "subscribers consent --json" lb -C "$S" subscribers consent --json
check "  prints what the release printed" cmp -s "$T_TMP/out" "$FX/expect/consent.json"
check "  the .pre-1 files gone after the next good run" \
	test -z "$(ls "$S/state" | grep -F .pre-1 | grep -E '^(suppressions|consent|signup)')"
check "  the records still there" all_there

# ---- kill -9 at the upgrade's crash points -----------------------------------------------------
for at in upgrade-imported upgrade-committed upgrade-renamed; do
	fresh
	LETTERBOX_TEST_CRASH=$at "$LB" -C "$S" subscribers suppressions >/dev/null 2>&1
	same "killed at $at" "$?" 137
	if [ $at = upgrade-imported ]; then
		check "  nothing committed: the old files untouched, the store without them" \
			sh -c "! [ \"\$(sqlite3 '$S/state/letterbox.db' 'PRAGMA user_version')\" = 1 ]"
		check "  the old files untouched" old_untouched
	fi
	expect_exit 0 "  the next command" lb -C "$S" subscribers suppressions --json
	check "  prints every suppression" cmp -s "$T_TMP/out" "$FX/expect/suppressions.json"
	check "  every record there, once" all_there
	check "  no old file left in place" test -z "$(for f in "${OLD[@]}"; do [ -e "$S/state/$f" ] && echo "$f"; done)"
done

# ---- kill -9 at random moments -----------------------------------------------------------------
bad=0 before=0 after=0
for i in $(seq 1 25); do
	fresh
	"$LB" -C "$S" subscribers suppressions >/dev/null 2>&1 &
	pid=$!
	sleep "0.0$((RANDOM % 3))$((RANDOM % 10))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	# either nothing done or the upgrade committed
	if upgraded; then
		after=$((after + 1))
	elif old_untouched; then
		before=$((before + 1))
	else
		bad=$((bad + 1))
	fi
	"$LB" -C "$S" subscribers suppressions >/dev/null 2>&1 || bad=$((bad + 1))
	all_there || bad=$((bad + 1))
done
echo "  (killed before the commit: $before, after it: $after)"
same "25 runs killed at random moments: every one left the old state or the upgrade, the next lost nothing" "$bad" 0
