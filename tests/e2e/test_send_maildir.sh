#!/usr/bin/env bash
# letterbox send to the built-in Maildir outbox: exactly once, due logic,
# snapshot, lock, dry run, test sends, crash safety.
source "$(dirname "$0")/../lib.sh"
NOW="2026-11-25 10:00"

fresh() { rm -rf "$T_TMP/s"; make_site "$T_TMP/s"; S=$T_TMP/s; }
outbox_count() { find "$S/outbox/new" -type f 2>/dev/null | wc -l; }
# How many messages each address got: "count address" lines.
per_rcpt() { grep -h '^To:' -A1 "$S"/outbox/new/* 2>/dev/null | grep -oE '<[^>]+>|^To: [^ <]+@[^ ]+' |
	sed -E 's/^To: //; s/[<>]//g' | sort | uniq -c; }
status_json() { lb -C "$S" status --json "$@"; }
count_of() { # KEY: a count from the first campaign's status --json
	status_json | $PY -c "import json,sys; print(json.loads(sys.stdin.readline())['counts']['$1'])"; }

fresh
expect_exit 0 "send the sample article" lb -C "$S" send --now "$NOW"
check "6 messages in the outbox" test "$(outbox_count)" = 6
check "each subscriber exactly once" test "$(per_rcpt | awk '$1 != 1' | wc -l)" = 0
check "every subscriber got one" test "$(per_rcpt | wc -l)" = 6
check "status: 6 sent" test "$(count_of sent)" = 6
check "state/ is 0700" test "$(stat -c %a "$S/state")" = 700
check "campaign files are 0600" test -z "$(find "$S/state" -type f ! -perm 600)"
check "Maildir files are 0600" test -z "$(find "$S/outbox" -type f ! -perm 600)"
# every delivered message passes the independent parser's checks
for f in "$S"/outbox/new/*; do
	$PY - "$f" <<'PY' || fail "parse $(basename "$f")"
import email, email.policy, sys
raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw, policy=email.policy.default)
assert all(b < 128 for b in raw), "8-bit"
assert max(len(l) for l in raw.split(b"\r\n")) <= 998
assert len(m["To"].addresses) == 1
assert m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
assert m.get_content_type() == "multipart/alternative"
name = m["To"].addresses[0].display_name
text = m.get_body(("plain",)).get_content()
if name:
    assert ("Dear " + name.split()[0] + ",") in text, "greeting"
PY
done
pass "delivered messages parse, greet by first name, carry one-click unsubscribe"
check "the quote-marked name survives" grep -q 'Dana =?UTF-8?Q?=22Dee=22?= Whitfield\|"Dana \\"Dee\\" Whitfield"' "$S"/outbox/new/*

expect_exit 0 "a second run" lb -C "$S" send --now "$NOW"
check "sends nothing more" test "$(outbox_count)" = 6

# --- due logic ---------------------------------------------------------------------------
fresh
expect_exit 0 "before its date" lb -C "$S" send --now "2026-11-24 10:00"
check "nothing sent before the date" test "$(outbox_count)" = 0
check "and no campaign started" test ! -e "$S/state/campaigns/healing-through-connection/recipients"
expect_exit 0 "five days late" lb -C "$S" send --now "2026-11-30 10:00"
grep_err "healing-through-connection was due at 2026-11-25 09:00 UTC, more than send.catch_up ago: not sent" "reported as missed, in local time"
check "a missed article is not sent" test "$(outbox_count)" = 0
expect_exit 0 "the next run" lb -C "$S" send --now "2026-11-30 10:05"
check "is silent about it" test ! -s "$T_TMP/err"
check "status lists it as missed" grep -q missed <(lb -C "$S" status)
expect_exit 0 "send ARTICLE sends it anyway" lb -C "$S" send healing-through-connection --now "2026-11-30 10:05"
check "6 messages" test "$(outbox_count)" = 6

fresh
sed -i 's/^lists: \[friends\]/lists: [friends]\ndraft: true/' "$S/newsletters/2026-11-25-healing-through-connection.md"
expect_exit 0 "a draft" lb -C "$S" send --now "$NOW"
check "is not sent" test "$(outbox_count)" = 0
expect_exit 65 "send DRAFT" lb -C "$S" send healing-through-connection
grep_err "is a draft" "says it is a draft"
expect_exit 0 "send --to a draft" lb -C "$S" send healing-through-connection --to "Proof Reader <proof@example.org>"
check "one test message" test "$(outbox_count)" = 1
check "to the test address" grep -q '^To: Proof Reader <proof@example.org>' "$S"/outbox/new/*
check "not journaled" test ! -e "$S/state/campaigns/healing-through-connection"
check "the test's subject is marked [TEST]" grep -q '^Subject: \[TEST\] Healing Through' "$S"/outbox/new/*
rm -f "$S"/outbox/new/*
sed -i 's/^send:$/send:\n  test_prefix: "Proof: "/' "$S/letterbox.yaml"
expect_exit 0 "send --to with send.test_prefix" lb -C "$S" send healing-through-connection --to proof@example.org
check "the subject is marked with send.test_prefix" grep -q '^Subject: Proof: Healing Through' "$S"/outbox/new/*

# --- recipients: dedupe, invalid, unknown list ----------------------------------------------
fresh
cat >"$S/subscribers/clients.yaml" <<'YAML'
name: Clients
subscribers:
  - email: ADA.LOVELACE@EXAMPLE.ORG
    name: Ada again
  - email: not-an-address
  - email: new.client@example.org
YAML
sed -i 's/^lists: \[friends\]/lists: [friends, clients]/' "$S/newsletters/2026-11-25-healing-through-connection.md"
expect_exit 0 "two lists" lb -C "$S" send --now "$NOW"
grep_err "clients.yaml:5:[0-9]+: 'not-an-address'" "the bad address is named with file:line"
check "7 messages: the duplicate (other case) once, the invalid none" test "$(outbox_count)" = 7
check "status lists the invalid one as skipped" grep -q "skipped.*invalid.*not-an-address" <(lb -C "$S" status)
check "send --dry-run names the skipped entry's address" grep -q "^  skip not-an-address: invalid: .*clients.yaml:5:" <(lb -C "$S" send healing-through-connection --dry-run --now "$NOW" 2>/dev/null)
fresh
sed -i 's/^lists: \[friends\]/lists: [friends, nosuch]/' "$S/newsletters/2026-11-25-healing-through-connection.md"
expect_exit 65 "an unknown list" lb -C "$S" send --now "$NOW"
grep_err "there is no list 'nosuch'" "names the list"
check "nothing sent" test "$(outbox_count)" = 0

# --- limit, snapshot, resume ------------------------------------------------------------------
fresh
expect_exit 0 "--limit 2" lb -C "$S" send --now "$NOW" --limit 2
check "2 sent" test "$(outbox_count)" = 2
check "4 pending" test "$(count_of pending)" = 4
# Edit the list mid-campaign: the snapshot decides.
sed -i '/mei.chen@example.org/d' "$S/subscribers/friends.yaml"
printf '  - email: late.comer@example.org\n' >>"$S/subscribers/friends.yaml"
expect_exit 0 "resume" lb -C "$S" send --now "$NOW"
check "6 in all" test "$(outbox_count)" = 6
check "the removed one still got it (snapshot)" grep -q '^To: mei.chen@example.org' "$S"/outbox/new/*
check "the late comer did not" test -z "$(grep -l 'late.comer' "$S"/outbox/new/* 2>/dev/null)"

# A suppression made during the campaign reaches the rest of it.
fresh
$PY - "$S/subscribers/friends.yaml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("subscribers:\n" + "".join(f"  - email: reader{i}@example.org\n" for i in range(50)))
PY
expect_exit 0 "--limit 10 of 50" lb -C "$S" send --now "$NOW" --limit 10
check "10 sent" test "$(outbox_count)" = 10
left=$(status_json | $PY -c "import json,sys; print([r['email'] for r in json.loads(sys.stdin.readline())['recipients'] if r['state'] == 'pending'][17])")
expect_exit 0 "remove one of the 40 left ($left)" lb -C "$S" subscribers remove "$left"
expect_exit 0 "resume" lb -C "$S" send --now "$NOW"
check "49 in all" test "$(outbox_count)" = 49
check "the removed one did not get it" test -z "$(grep -l "^To: $left" "$S"/outbox/new/*)"
check "status lists it as skipped, with the reason" grep -q "skipped   $left: suppressed: removed" <(lb -C "$S" status)
check "status --json: 49 sent, 1 skipped, finished" $PY -c "
import json,sys; d=json.loads(sys.stdin.readline())
assert d['counts']['sent'] == 49 and d['counts']['skipped'] == 1 and d['finished'], d['counts']
assert {'email': '$left', 'reason': 'suppressed: removed'} in d['skipped'], d['skipped']" < <(status_json)

# --- what status says: a server's code once, times people read -------------------------------
fresh
expect_exit 0 "--limit 2 (for a journal to add to)" lb -C "$S" send --now "$NOW" --limit 2
t0=$(TZ=UTC date -d "$NOW UTC" +%s)
printf 'A 2 %s\nD 2 %s 452 4.5.3 452 4.5.3 Mailbox full, try later\nA 3 %s\nF 3 %s 550 5.1.1 550 5.1.1 No such user\n' \
	"$t0" "$t0" "$t0" "$t0" >>"$S/state/campaigns/healing-through-connection/journal"
TZ=UTC lb -C "$S" status >"$T_TMP/status"
check "a deferral's code is shown once" grep -q ": 452 4.5.3 Mailbox full, try later (next try 2026-11-25 10:15 UTC)" "$T_TMP/status"
check "a failure's code is shown once" grep -q ": 550 5.1.1 No such user$" "$T_TMP/status"
if grep -qE '452 452|550 550' "$T_TMP/status"; then fail "no code twice"; else pass "no code twice"; fi
expect_exit 0 "send four days later: the deferral expires" env TZ=UTC "$LB" -C "$S" send --now "2026-11-29 10:00"
TZ=UTC lb -C "$S" status >"$T_TMP/status"
check "expired: deferred since a local time, not an epoch" grep -q "failed .*: expired: deferred since 2026-11-25 10:00 UTC$" "$T_TMP/status"

# --- state/: no symbolic links, ours alone, no leftovers of kill -9 ------------------------------
fresh
expect_exit 0 "--limit 1 (a journal to link)" lb -C "$S" send --now "$NOW" --limit 1
J=$S/state/campaigns/healing-through-connection/journal
cp "$J" "$T_TMP/target"
cp "$J" "$T_TMP/target.orig"
rm "$J"
ln -s "$T_TMP/target" "$J"
expect_exit 74 "a symbolic link for the journal" lb -C "$S" send --now "$NOW"
grep_err "journal: a symbolic link in state/: refused" "... is refused, saying why"
check "... and its target is not written" cmp -s "$T_TMP/target" "$T_TMP/target.orig"
check "... nothing more sent" test "$(outbox_count)" = 1
rm "$J"
cp "$T_TMP/target.orig" "$J"
chmod 755 "$S/state"
dead=$(sh -c 'echo $$')
touch "$S/subscribers/friends.yaml.tmp.$dead" "$S/subscribers/friends.yaml.tmp.$$" \
	"$S/state/campaigns/healing-through-connection/recipients.tmp.$dead" "$S/state/digest.tmp.$dead" \
	"$S/outbox/tmp/1795600800.M1P${dead}Q1.host" "$S/outbox/tmp/1795600800.M1P$$Q1.host"
expect_exit 0 "send again, state/ mode 755, leftovers of a killed run" lb -C "$S" send --now "$NOW"
grep_err "state was mode 755, open to others: tightened to 700" "... warns"
check "... state/ is 0700 again" test "$(stat -c %a "$S/state")" = 700
check "... the killed run's temp files in state/ are gone" \
	test ! -e "$S/state/campaigns/healing-through-connection/recipients.tmp.$dead" -a ! -e "$S/state/digest.tmp.$dead"
check "... and its half-written message in outbox/tmp" test ! -e "$S/outbox/tmp/1795600800.M1P${dead}Q1.host"
check "... a live run's are left alone" test -e "$S/outbox/tmp/1795600800.M1P$$Q1.host"
check "... all 6 sent" test "$(outbox_count)" = 6
expect_exit 0 "the next list edit" lb -C "$S" subscribers add kim@example.org
check "... removes the killed edit's temp list" test ! -e "$S/subscribers/friends.yaml.tmp.$dead"
check "... not a live one's" test -e "$S/subscribers/friends.yaml.tmp.$$"
chown nobody "$S/state"
chmod 750 "$S/state"
expect_exit 77 "a state/ open to others and not ours" lb -C "$S" status
grep_err "refusing to use a state directory others may read" "... is refused"
check "... and left as it was" test "$(stat -c %a "$S/state")" = 750

# --- dry run, lock ----------------------------------------------------------------------------
fresh
expect_exit 0 "--dry-run" lb -C "$S" send --dry-run --now "$NOW"
check "reports who would get it" grep -q "would send 6 messages" "$T_TMP/out"
check "sends nothing" test "$(outbox_count)" = 0
check "records nothing" test ! -e "$S/state/campaigns/healing-through-connection"
mkdir -p "$S/state"
flock "$S/state/lock.send" sleep 3 &
sleep 0.3
expect_exit 75 "a second send while one runs" lb -C "$S" send --now "$NOW"
grep_err "another letterbox is running" "says why"
check "sent nothing" test "$(outbox_count)" = 0
wait

# --- kill -9 at random moments: nobody twice, everybody accounted for -------------------------
fresh
$PY - "$S/subscribers/friends.yaml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("subscribers:\n")
    for i in range(2000):
        f.write(f"  - email: reader{i}@example.org\n    name: Reader {i}\n")
PY
crashes=$(kill_runs 0.05 0.15 0.3 0.5 -- "$LB" -C "$S" send --now "$NOW")
for _ in 1 2 3; do "$LB" -C "$S" send --now "$NOW" >/dev/null 2>&1; done
dups=$(per_rcpt | awk '$1 > 1' | wc -l)
got=$(per_rcpt | wc -l)
check "after $crashes kill -9s: no recipient got two copies" test "$dups" = 0
read -r sent unc pend fail < <(status_json | $PY -c "import json,sys; c=json.loads(sys.stdin.readline())['counts']; print(c['sent'], c['uncertain'], c['pending'], c['failed'])")
check "every recipient is sent, failed or uncertain ($sent sent, $unc uncertain)" test "$((sent + unc + fail))" = 2000 -a "$pend" = 0
check "uncertain ones are at most 2 x connections (8) per crash" test "$unc" -le $((8 * crashes))
check "every sent one is in the outbox exactly once" test "$got" -ge "$sent"
expect_exit 0 "--resend-uncertain" lb -C "$S" send healing-through-connection --resend-uncertain --now "$NOW"
check "then all 2000 have it" test "$(per_rcpt | wc -l)" = 2000
check "status says 0 uncertain" test "$(count_of uncertain)" = 0
