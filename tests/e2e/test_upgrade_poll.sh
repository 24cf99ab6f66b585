#!/usr/bin/env bash
# The upgrade of what the poller remembers (issue 10): a site's state/ as the
# release before the indexed store wrote it (tests/data/state-v1) has its
# seen log, cursors, soft bounces and acknowledgement log read into
# state/letterbox.db by the first command, every record with the same
# values; the old files are kept as NAME.pre-1 until the next successful
# command.  A kill -9 at any point of the upgrade leaves the old files
# untouched or the upgrade done, and the next command finishes it.  After it,
# poll behaves as it did: the filed messages again are duplicates, a third
# soft bounce within 30 days suppresses, a sender acknowledged within 7 days
# is not acknowledged again.
source "$(dirname "$0")/../lib.sh"

V1=$TOP/tests/data/state-v1
S=$T_TMP/site
lbs() { lb -C "$S" "$@"; }
fresh() {
	rm -rf "$S"
	make_site "$S"
	set_web_url "$S" http://127.0.0.1:8080/news
	sed -i 's/^  acknowledge: false/  acknowledge: true/' "$S/letterbox.yaml"
	cp -a "$V1/state/." "$S/state/"
	chmod -R go-rwx "$S/state"
	mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
}
TAB=$'\t'
iso() { echo "strftime('%Y-%m-%dT%H:%M:%SZ', $1, 'unixepoch')"; }
# The database's rows in the old files' formats (sorted).
seen_rows() { db -separator "$TAB" "SELECT key, kind, $(iso at), ref FROM poll_seen" | sort; }
soft_rows() { db -separator "$TAB" "SELECT $(iso at), address, key FROM poll_soft_bounces" | sort; }
ack_rows() { db -separator "$TAB" "SELECT $(iso at), hash, inquiry FROM poll_acks" | sort; }
cursor_rows() { db "SELECT 'cursor.' || mailbox || ' ' || uidvalidity || ' ' || last_uid FROM poll_cursors"; }
old_cursors() { (cd "$V1/state/poll" && for f in cursor.*; do echo "$f $(cat "$f")"; done); }
# every record of the area in the database, as in the fixture
all_in() {
	same "$1: the seen log" "$(seen_rows)" "$(sort "$V1/state/poll/seen")"
	same "$1: the soft bounces" "$(soft_rows)" "$(sort "$V1/state/poll/soft-bounces")"
	same "$1: the acknowledgement log" "$(ack_rows)" "$(sort "$V1/state/acknowledged")"
	same "$1: the cursor, by the same name" "$(cursor_rows)" "$(old_cursors)"
}
untouched() {
	check "$1: the old files untouched" diff -r "$V1/state/poll" "$S/state/poll"
	check "$1: and the acknowledgement log" cmp -s "$V1/state/acknowledged" "$S/state/acknowledged"
	check "$1: nothing kept aside" test ! -e "$S/state/poll.pre-1" -a ! -e "$S/state/acknowledged.pre-1"
}

echo "-- the first command reads it all in"
fresh
expect_exit 0 "inquiries list, on the release's state/" lbs inquiries list --status all --json
all_in "  read in"
check "  state/poll kept as poll.pre-1" test -f "$S/state/poll.pre-1/seen" -a ! -e "$S/state/poll"
check "  state/acknowledged as acknowledged.pre-1" \
	test -f "$S/state/acknowledged.pre-1" -a ! -e "$S/state/acknowledged"
check "  the poll lock is not among them" test ! -e "$S/state/lock.poll.pre-1"
expect_exit 0 "one more command" lbs status
check "  the kept files are gone" test ! -e "$S/state/poll.pre-1" -a ! -e "$S/state/acknowledged.pre-1"
all_in "  still"

echo "-- poll after it, as before"
# a third soft bounce of mei.chen within 30 days (the release's two are read in)
sed 's/^Message-ID: <second-/Message-ID: <third-/' "$V1/inbox/cur/1900000004.quota2.localhost:2,S" \
	>"$S/inbox/new/1900000007.quota3.localhost"
# zoe.angstrom again, a new question (acknowledged on 2026-11-20)
printf 'From: Zoe <zoe.angstrom@example.org>\nTo: news@example.org\nSubject: Another question\nDate: Sun, 22 Nov 2026 10:00:00 +0000\nMessage-ID: <zoe-2@example.org>\n\nDo you also see couples?\n' \
	>"$S/inbox/new/1900000008.zoe.localhost"
expect_exit 0 "poll two new messages" lbs poll --json --now "2026-11-22 10:00"
same "  both filed" "$(grep -c '"duplicate":false' "$T_TMP/out")" 2
check "  the third soft bounce within 30 days suppresses mei.chen" \
	grep -q '"address":"mei.chen@example.org","reason":"failed"' <(lbs subscribers suppressions --json)
n=$(lbs inquiries list --status all --json | "$PY" -c '
import json, sys
print([q["number"] for q in json.load(sys.stdin) if q["subject"] == "Another question"][0])')
check "  zoe, acknowledged 2 days ago, is not acknowledged again" \
	grep -q "not-acknowledged: this sender was acknowledged within the last 7 days" <(lbs inquiries show "$n")
cp "$V1"/inbox/cur/* "$S/inbox/new/"
for f in "$S"/inbox/new/*; do mv "$f" "${f%:2,S}"; done
expect_exit 0 "poll the messages the release filed again" lbs poll --json --now "2026-11-22 11:00"
same "  all eleven are duplicates" "$(grep -c '"duplicate":true' "$T_TMP/out")" 11
same "  nothing filed" "$(grep -c '"duplicate":false' "$T_TMP/out")" 0
same "  14 messages seen now" "$(db "SELECT count(*) FROM poll_seen")" 14

echo "-- kill -9 in the upgrade: before its commit, after it, between the renames"
for at in upgrade-imported upgrade-committed upgrade-renamed; do
	fresh
	LETTERBOX_TEST_CRASH=$at lbs status >/dev/null 2>&1
	same "  killed at $at" "$?" 137
	if [ "$at" = upgrade-imported ]; then
		untouched "  $at"
		same "  $at: no poll rows" "$(db "SELECT count(*) FROM sqlite_master WHERE name = 'poll_seen'" ||
			echo 0)" 0
	fi
	expect_exit 0 "  the next command" lbs inquiries list --status all --json
	all_in "  after $at"
	check "  after $at: the old files no longer in place" \
		test ! -e "$S/state/poll" -a ! -e "$S/state/acknowledged"
	[ "$at" = upgrade-imported ] && check "  after $at: but kept aside" \
		test -f "$S/state/poll.pre-1/seen" -a -f "$S/state/acknowledged.pre-1"
	expect_exit 0 "  and one more" lbs status
	check "  after $at: then gone" test ! -e "$S/state/poll.pre-1" -a ! -e "$S/state/acknowledged.pre-1"
done

echo "-- kill -9 at random during the upgrade of a long seen log"
fresh
"$PY" - "$S/state/poll/seen" <<'PY'
import sys
with open(sys.argv[1], "a") as f:
    for i in range(100000):
        f.write(f"mid:{i:08d}@mail.example.net 0123456789abcdef0123456789abcdef\tinquiry\t2026-11-20T12:00:00Z\t1796304633.{i:08d}.localhost\n")
PY
cp "$S/state/poll/seen" "$T_TMP/seen"
kills=$(kill_runs 0.05 0.1 0.15 0.2 0.3 0.4 0.6 0.8 -- "$LB" -C "$S" status)
expect_exit 0 "after $kills kills, a command" lbs status
same "  every record read in, once" "$(db "SELECT count(*) FROM poll_seen")" 100012
same "  with its values" "$(seen_rows | md5sum)" "$(sort "$T_TMP/seen" | md5sum)"
same "  and the rest" "$(soft_rows)" "$(sort "$V1/state/poll/soft-bounces")"
check "  the old files kept aside or gone, never in place" test ! -e "$S/state/poll"
