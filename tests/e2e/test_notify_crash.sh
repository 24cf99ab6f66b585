#!/usr/bin/env bash
# The urgent alert and the acknowledgement across kill -9 (issue 9, item 6):
# never twice by themselves, and never lost without a word.  A crash between
# recording the intent and recording the outcome leaves it in doubt; the next
# poll reports it (stderr, history, status, digest) once, sends an urgent
# alert again marked "possible repeat", and never resends an acknowledgement.
# Maildir in and out: no servers needed.
#
# Test-only hook: LETTERBOX_TEST_CRASH=after-alert-intent | after-alert-sent |
# after-ack-intent | after-ack-sent | after-repeat-intent | after-acklog makes
# letterbox kill itself (SIGKILL) there (deliver/notify.h).
source "$(dirname "$0")/../lib.sh"

S=$T_TMP/site
make_site "$S"
sed -i 's/acknowledge: false/acknowledge: true/' "$S/letterbox.yaml"
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
lbs() { lb -C "$S" "$@"; }
n_msg=0
# put NAME ADDR SUBJECT BODY: a message into the practice's Maildir inbox
put() {
	n_msg=$((n_msg + 1))
	printf 'From: %s <%s>\nTo: Practice <news@example.org>\nSubject: %s\nDate: %s\nMessage-ID: <nc%d.%s@people.test>\n\n%s\n' \
		"$1" "$2" "$3" "$(date -R)" "$n_msg" "$$" "$4" >"$S/inbox/tmp/m$n_msg"
	mv "$S/inbox/tmp/m$n_msg" "$S/inbox/new/m$n_msg"
}
urgent() { put "$1" "$2" "Please help" "I am not safe at home, this is an emergency."; }
# inq_of ADDR: the number of the inquiry from ADDR
inq_of() {
	lbs inquiries list --status all --json | "$PY" -c '
import json, sys
for q in json.load(sys.stdin):
    if q["from"] == sys.argv[1]:
        print(q["number"]); break' "$1"
}
# mail N ADDR: "ALERTS REPEATS ACKS" in the outbox: alerts for inquiry N, how
# many of them are marked "possible repeat" (subject and text), acks to ADDR
mail() {
	"$PY" - "$S/outbox" "$1" "$2" <<'PY'
import email, email.policy, glob, re, sys
box, n, addr = sys.argv[1:4]
alerts = repeats = acks = 0
for f in glob.glob(box + "/new/*") + glob.glob(box + "/cur/*"):
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
    subj = str(m["Subject"])
    if re.search(r"URGENT inquiry %s - " % n, subj):
        alerts += 1
        text = m.get_body(("plain",)).get_content()
        repeats += subj.startswith("[possible repeat] ") and "POSSIBLE REPEAT" in text
    elif m["Auto-Submitted"] == "auto-replied" and addr in str(m["To"]):
        acks += 1
print(alerts, repeats, acks)
PY
}
crash() { # POINT: a poll killed at POINT (its exit status)
	{ LETTERBOX_TEST_CRASH=$1 "$LB" -C "$S" poll >/dev/null 2>&1; echo $?; } 2>/dev/null
}

echo "-- kill -9 after the alert's intent, before the send"
urgent "Fay Example" fay@people.test
same "poll killed right after recording the alert's intent" "$(crash after-alert-intent)" 137
FAY=$(inq_of fay@people.test)
same "  no alert went out, no acknowledgement" "$(mail "$FAY" fay@people.test)" "0 0 0"
expect_exit 0 "the next poll" lbs poll
grep_err "inquiry $FAY: urgent alert may not have been sent.*check.*possible repeat" "  says so on stderr"
same "  sends the alert again, marked possible repeat, once; and the acknowledgement" \
	"$(mail "$FAY" fay@people.test)" "1 1 1"
lbs inquiries show "$FAY" >"$T_TMP/show"
check "  the history says the alert may not have been sent — check" \
	grep -q "alert-uncertain: urgent alert may not have been sent (letterbox was interrupted) — check" "$T_TMP/show"
check "  ... and that it was sent again" grep -q 'alerted: urgent alert sent again .*"possible repeat"' "$T_TMP/show"
expect_exit 0 "status" lbs status
check "  lists the alert in doubt" grep -q "inquiry $FAY: the urgent alert may not have been sent.*sent again" "$T_TMP/out"
expect_exit 0 "digest --dry-run" lbs digest --dry-run
check "  names it under the inquiry" grep -q "Check: the urgent alert may not have been sent" "$T_TMP/out"
lbs digest --dry-run --html "$T_TMP/d.html" >/dev/null 2>&1
expect_exit 0 "a third poll" lbs poll
same "  is silent" "$(cat "$T_TMP/err")" ""
same "  and sends nothing more" "$(mail "$FAY" fay@people.test)" "1 1 1"
same "  nor writes more history" "$(lbs inquiries show "$FAY" | grep -c 'letterbox  ')" \
	"$(grep -c 'letterbox  ' "$T_TMP/show")"

echo "-- kill -9 after the alert went out, before its outcome was recorded"
urgent "Gus Example" gus@people.test
same "poll killed right after the send returned" "$(crash after-alert-sent)" 137
GUS=$(inq_of gus@people.test)
same "  the alert went out" "$(mail "$GUS" gus@people.test)" "1 0 0"
expect_exit 0 "the next poll" lbs poll
grep_err "inquiry $GUS: urgent alert may not have been sent" "  says so on stderr"
same "  sends it once more, marked possible repeat (a repeat beats a loss)" \
	"$(mail "$GUS" gus@people.test)" "2 1 1"
expect_exit 0 "a third poll" lbs poll
same "  is silent" "$(cat "$T_TMP/err")" ""
same "  and sends nothing more" "$(mail "$GUS" gus@people.test)" "2 1 1"

echo "-- kill -9 around the acknowledgement"
put "Erin Example" erin@people.test "Hello" "I would like to know more about couples therapy."
same "poll killed right after recording the acknowledgement's intent" "$(crash after-ack-intent)" 137
ERIN=$(inq_of erin@people.test)
expect_exit 0 "the next poll" lbs poll
grep_err "inquiry $ERIN: acknowledgement may not have been sent" "  says so on stderr"
same "  does not send it (never two to a person)" "$(mail "$ERIN" erin@people.test)" "0 0 0"
check "  the history says it may not have been sent" \
	grep -q "ack-uncertain: acknowledgement may not have been sent" <(lbs inquiries show "$ERIN")
urgent "Hal Example" hal@people.test
same "an urgent one, killed after its acknowledgement went out" "$(crash after-ack-sent)" 137
HAL=$(inq_of hal@people.test)
same "  alert and acknowledgement went out" "$(mail "$HAL" hal@people.test)" "1 0 1"
expect_exit 0 "the next poll" lbs poll
grep_err "inquiry $HAL: acknowledgement may not have been sent" "  says so on stderr"
if grep -q "inquiry $HAL: urgent alert" "$T_TMP/err"; then fail "  the alert (recorded as sent) is not in doubt"; else
	pass "  the alert (recorded as sent) is not in doubt"; fi
same "  nothing is resent" "$(mail "$HAL" hal@people.test)" "1 0 1"
expect_exit 0 "status" lbs status
check "  lists both acknowledgements in doubt" \
	test "$(grep -cE "inquiry ($ERIN|$HAL): the acknowledgement may not have been sent" "$T_TMP/out")" = 2
expect_exit 0 "digest --dry-run" lbs digest --dry-run
check "  names them" test "$(grep -c "Check: the acknowledgement may not have been sent" "$T_TMP/out")" = 2
expect_exit 0 "a third poll" lbs poll
same "  is silent" "$(cat "$T_TMP/err")" ""
same "  and sends nothing" "$(mail "$ERIN" erin@people.test) $(mail "$HAL" hal@people.test)" "0 0 0 1 0 1"

put "Lou Example" lou@people.test "Hello" "Do you see couples on Saturdays?"
same "killed between the sender log and the record" "$(crash after-acklog)" 137
LOU=$(inq_of lou@people.test)
expect_exit 0 "the next poll" lbs poll
same "  sends the acknowledgement (nothing had gone out)" "$(mail "$LOU" lou@people.test)" "0 0 1"
same "  and has nothing to report" "$(cat "$T_TMP/err")" ""

echo "-- a repeat that is itself cut short is reported, not repeated again"
urgent "Ida Example" ida@people.test
same "poll killed after the alert's intent" "$(crash after-alert-intent)" 137
IDA=$(inq_of ida@people.test)
same "the next poll killed after the repeat's intent" "$(crash after-repeat-intent)" 137
expect_exit 0 "the poll after" lbs poll
grep_err "inquiry $IDA: the repeated urgent alert may not have been sent either" "  says so on stderr"
same "  and sends no third attempt" "$(mail "$IDA" ida@people.test | cut -d' ' -f1-2)" "0 0"
check "  status says: check" grep -q "inquiry $IDA: the urgent alert may not have been sent (poll was interrupted) — check" <(lbs status)

echo "-- a repeat that certainly did not leave is tried again by the next poll"
urgent "Max Example" max@people.test
same "poll killed after the alert's intent" "$(crash after-alert-intent)" 137
MAX=$(inq_of max@people.test)
cp "$S/letterbox.yaml" "$T_TMP/yaml.bak"
closed=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i "s|  url: maildir:outbox|  url: smtp://127.0.0.1:$closed|" "$S/letterbox.yaml"
lbs poll >/dev/null 2>"$T_TMP/err"
grep_err "inquiry $MAX: urgent alert may not have been sent" "  the next poll (mail server down) reports it"
check "  status: the repeat is due" grep -q "inquiry $MAX: .*a repeat marked \"possible repeat\" is due" <(lbs status)
cp "$T_TMP/yaml.bak" "$S/letterbox.yaml"
expect_exit 0 "the poll after, server back" lbs poll
if grep -q "inquiry $MAX: urgent alert may not have been sent" "$T_TMP/err"; then fail "  does not report it twice"; else
	pass "  does not report it twice"; fi
same "  sends the repeat" "$(mail "$MAX" max@people.test | cut -d' ' -f1-2)" "1 1"

echo "-- records from before outcomes were kept: the history decides"
urgent "Jo Example" jo@people.test
expect_exit 0 "a poll that sends the alert" lbs poll
JO=$(inq_of jo@people.test)
urgent "Kim Example" kim@people.test
same "a poll killed after the alert's intent" "$(crash after-alert-intent)" 137
KIM=$(inq_of kim@people.test)
# The record as the old code wrote it: the intent without its state.
sqlite3 -cmd ".timeout 10000" "$S/state/letterbox.db" "UPDATE inq_records SET alert_state = NULL, ack_state = NULL"
expect_exit 0 "the next poll" lbs poll
grep_err "inquiry $KIM: urgent alert may not have been sent" "  reports the intent with no outcome in the history"
if grep -qE "inquiry ($JO|$FAY|$GUS|$HAL|$ERIN|$LOU|$MAX): " "$T_TMP/err"; then fail "  not those whose history has the outcome"; else
	pass "  not those whose history has the outcome"; fi
same "  and repeats Kim's alert" "$(mail "$KIM" kim@people.test | cut -d' ' -f1-2)" "1 1"

echo "-- the log of acknowledgements not readable (its table gone): withheld, never twice"
put "Nia Example" nia@people.test "A question" "Do you offer evening sessions?"
expect_exit 0 "a poll that acknowledges Nia" lbs poll
same "  one acknowledgement" "$(mail 0 nia@people.test | cut -d' ' -f3)" 1
acks=$(db "SELECT count(*) FROM poll_acks")
same "  its sender's hash logged" "$(db "SELECT count(*) FROM poll_acks WHERE inquiry = (SELECT max(inquiry) FROM poll_acks)")" 1
db "ALTER TABLE poll_acks RENAME TO poll_acks_away"
put "Nia Example" nia@people.test "One more thing" "And on Saturdays?"
expect_exit 0 "Nia again, the log unreadable: the poll goes on" lbs poll
NIA2=$(lbs inquiries list --status all --json | "$PY" -c '
import json, sys
print(max(q["number"] for q in json.load(sys.stdin) if q["from"] == "nia@people.test"))')
grep_err "inquiry $NIA2: no acknowledgement: the log of acknowledgements cannot be read.*poll_acks" \
	"  says on stderr that the acknowledgement is withheld, and why"
same "  the message is filed" "$(lbs inquiries list --status all --json | grep -o nia@people.test | wc -l)" 2
same "  no second acknowledgement within 7 days" "$(mail 0 nia@people.test | cut -d' ' -f3)" 1
check "  the history says why" grep -q "not-acknowledged: the log of acknowledgements cannot be read" <(lbs inquiries show "$NIA2")
same "  the log is left as it was" "$(db "SELECT count(*) FROM poll_acks_away")" "$acks"
db "ALTER TABLE poll_acks_away RENAME TO poll_acks"

echo "-- kill -9 at random during a poll of 40 urgent messages"
db "DELETE FROM inq_blobs; DELETE FROM inq_thread; DELETE FROM inq_history;
    DELETE FROM inq_records; DELETE FROM inq_meta; DELETE FROM poll_seen; DELETE FROM poll_seen_legacy;
    DELETE FROM poll_cursors; DELETE FROM poll_soft_bounces; DELETE FROM poll_acks"
rm -rf "$S/outbox" "$S/inbox"
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
for i in $(seq 1 40); do urgent "Person $i" "p$i@people.test"; done
kills=$(kill_runs 0.02 0.03 0.04 0.05 0.06 0.08 0.1 0.12 0.15 0.02 0.04 0.06 0.08 0.1 0.2 0.03 0.05 \
	0.07 0.09 0.11 0.13 0.17 0.25 0.3 -- "$LB" -C "$S" poll)
expect_exit 0 "after $kills kills, a poll to the end" lbs poll
expect_exit 0 "and one more" lbs poll
same "  which is silent" "$(cat "$T_TMP/err")" ""
lbs inquiries list --status all --json >"$T_TMP/all.json"
"$PY" - "$S/outbox" "$T_TMP/all.json" "$LB" "$S" <<'PY' >"$T_TMP/loop" 2>&1
import email, email.policy, glob, json, re, subprocess, sys
box, listing, lb, site = sys.argv[1:5]
alerts, repeats, acks = {}, {}, {}
for f in glob.glob(box + "/new/*"):
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
    subj = str(m["Subject"])
    hit = re.search(r"URGENT inquiry (\d+) - ", subj)
    if hit:
        n = int(hit.group(1))
        alerts[n] = alerts.get(n, 0) + 1
        repeats[n] = repeats.get(n, 0) + subj.startswith("[possible repeat] ")
    elif m["Auto-Submitted"] == "auto-replied":
        a = m["To"].addresses[0].addr_spec
        acks[a] = acks.get(a, 0) + 1
qs = json.load(open(listing))
bad = []
if len(qs) != 40: bad.append("%d inquiries, want 40" % len(qs))
doubted = 0
for q in qs:
    n, a = q["number"], q["from"]
    h = subprocess.run([lb, "-C", site, "inquiries", "show", str(n)], capture_output=True, text=True).stdout
    alert_doubt = "alert-uncertain: " in h
    ack_doubt = "ack-uncertain: " in h
    doubted += alert_doubt + ack_doubt
    if q["priority"] != "urgent": bad.append("%d not urgent" % n)
    if not alerts.get(n) and not alert_doubt: bad.append("%d: no alert and none reported" % n)
    if alerts.get(n, 0) > 1 + alert_doubt: bad.append("%d: %d alerts" % (n, alerts[n]))
    if alerts.get(n, 0) > 1 and repeats.get(n) != 1: bad.append("%d: the second alert unmarked" % n)
    if not acks.get(a) and not ack_doubt: bad.append("%d: no acknowledgement and none reported" % n)
    if acks.get(a, 0) > 1: bad.append("%d: %d acknowledgements" % (n, acks[a]))
print("\n".join(bad) or "ok")
print("in doubt: %d" % doubted, file=sys.stderr)
PY
same "  every urgent inquiry has its alert sent or reported in doubt, never neither; at most one ack each" \
	"$(grep -v '^in doubt' "$T_TMP/loop")" ok
echo "  ($(grep '^in doubt' "$T_TMP/loop"))"

echo "-- what staff see and send (issue 11 §3): a UK site, Maildir in and out"
U=$T_TMP/uk
make_site "$U"
mkdir -p "$U/inbox/new" "$U/inbox/cur" "$U/inbox/tmp"
"$PY" - "$U/letterbox.yaml" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
s = re.sub(r"  crisis_line: >-\n(    .*\n)*", "", s)
s = s.replace("acknowledge: false", "acknowledge: true")
open(p, "w").write(s)
PY
lbu() { lb -C "$U" "$@"; }
uput() { # NAME ADDR SUBJECT BODY
	n_msg=$((n_msg + 1))
	printf 'From: %s <%s>\nTo: Practice <news@example.org>\nSubject: %s\nDate: %s\nMessage-ID: <uk%d.%s@people.test>\n\n%s\n' \
		"$1" "$2" "$3" "$(date -R)" "$n_msg" "$$" "$4" >"$U/inbox/tmp/u$n_msg"
	mv "$U/inbox/tmp/u$n_msg" "$U/inbox/new/u$n_msg"
}
expect_exit 0 "check with acknowledgements on and no triage.crisis_line" lbu check
grep_err "warning: .*triage.crisis_line is not set" "  warns that the crisis line is unset"
check "  ... and still says all good (a warning, not a problem)" grep -q "check: all good" "$T_TMP/out"
expect_exit 0 "a site with the sample crisis_line (US)" lb -C "$S" check
if grep -q crisis_line "$T_TMP/err"; then fail "  no crisis-line warning"; else
	pass "  no crisis-line warning"; fi
printf '  crisis_line: "In the UK call 999 or Samaritans on 116 123"\n' >>"$U/letterbox.yaml"
expect_exit 0 "check with triage.crisis_line set" lbu check
if grep -q crisis_line "$T_TMP/err"; then fail "  no warning once it is set"; else pass "  no warning once it is set"; fi

# Under cron: stdout and stderr are files, no -v.
uput "Hana Example" hana@people.test "Opening hours" "When are you open on Saturdays?"
expect_exit 0 "poll under cron, an ordinary inquiry" lbu poll
same "  prints nothing" "$(cat "$T_TMP/out" "$T_TMP/err")" ""
"$PY" - "$U/outbox" hana@people.test <<'PY' >"$T_TMP/ack"
import email, email.policy, glob, sys
box, addr = sys.argv[1:3]
for f in glob.glob(box + "/new/*"):
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
    if m["Auto-Submitted"] == "auto-replied" and addr in str(m["To"]):
        print(m.get_body(("plain",)).get_content())
        print(m.get_body(("html",)).get_content())
PY
check "a UK site's acknowledgement carries its own crisis line" \
	grep -q "In the UK call 999 or Samaritans on 116 123" "$T_TMP/ack"
if grep -q "988\|911" "$T_TMP/ack"; then fail "  ... and no US numbers"; else pass "  ... and no US numbers"; fi

uput "Ivy Example" ivy@people.test "Help & <please> - my partner hurts me" \
	"I am scared to go home tonight. He hit me again."
expect_exit 0 "poll under cron, an urgent inquiry" lbu poll
IVY=$(lb -C "$U" inquiries list --status all --json | "$PY" -c '
import json, sys
print([q["number"] for q in json.load(sys.stdin) if q["from"] == "ivy@people.test"][0])')
same "  prints one line: the inquiry's number, urgent" "$(cat "$T_TMP/out")" \
	"poll: inquiry $IVY is URGENT: letterbox inquiries show $IVY"
if grep -qi "hurts\|scared\|hit me" "$T_TMP/out" "$T_TMP/err"; then fail "  ... and nothing of the message"; else
	pass "  ... and nothing of the message"; fi

"$PY" - "$U/outbox" "$IVY" >"$T_TMP/rows" 2>&1 <<'PY'
import email, email.policy, glob, html.parser, re, sys
box, n = sys.argv[1:3]
class Rows(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = []; self.cell = None
    def handle_starttag(self, tag, attrs):
        if tag == "tr": self.rows.append([])
        if tag in ("th", "td"): self.cell = ""
        if tag == "code":  # a command: "code nowrap | text" when it cannot break
            nowrap = "white-space:nowrap" in (dict(attrs).get("style") or "")
            self.rows.append(["code nowrap" if nowrap else "code"]); self.cell = ""
    def handle_endtag(self, tag):
        if tag in ("th", "td", "code") and self.cell is not None:
            self.rows[-1].append(self.cell.strip()); self.cell = None
    def handle_data(self, d):
        if self.cell is not None: self.cell += d
for f in glob.glob(box + "/new/*"):
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
    if re.search(r"URGENT inquiry %s - " % n, str(m["Subject"])):
        p = Rows(); p.feed(m.get_body(("html",)).get_content())
        for r in p.rows: print(" | ".join(r))
PY
check "the alert's HTML part has a row for the number" grep -qx "Inquiry | $IVY" "$T_TMP/rows"
check "  ... for who it is from" grep -qx "From | Ivy Example <ivy@people.test>" "$T_TMP/rows"
check "  ... for the subject (escaped, parsed back whole)" grep -qx "Subject | Help & <please> - my partner hurts me" "$T_TMP/rows"
check "  ... and for when it was received" grep -qE "^Received \| [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} " "$T_TMP/rows"
check "  its two commands do not break on a phone (each a code element, nowrap)" \
	grep -qx "code nowrap | letterbox inquiries reply $IVY --file REPLY.md" "$T_TMP/rows"
check "  ... the other too" grep -qx "code nowrap | letterbox inquiries show $IVY" "$T_TMP/rows"

echo "-- a missing acknowledgement template: said once per inquiry"
rm "$U/templates/acknowledgement.txt"
uput "Jo Example" jo@people.test "Fees" "What do you charge for a first session?"
expect_exit 0 "poll with templates/acknowledgement.txt gone" lbu poll
JO=$(lb -C "$U" inquiries list --status all --json | "$PY" -c '
import json, sys
print([q["number"] for q in json.load(sys.stdin) if q["from"] == "jo@people.test"][0])')
same "  warns once, naming the template" "$(grep -c "inquiry $JO: .*acknowledgement.txt: the template is missing" "$T_TMP/err")" 1
expect_exit 0 "the next poll" lbu poll
same "  does not warn again" "$(cat "$T_TMP/err")" ""
expect_exit 0 "and the one after" lbu poll
same "  nor that one" "$(cat "$T_TMP/err")" ""
lbu inquiries show "$JO" >"$T_TMP/show"
check "  the history says it is not tried again" \
	grep -q "ack-failed: acknowledgement not sent (.*the template is missing.*); not tried again" "$T_TMP/show"
if grep -q "tries again" "$T_TMP/show"; then fail "  ... and promises no retry"; else pass "  ... and promises no retry"; fi
same "  one entry about it" "$(grep -c "ack-failed" "$T_TMP/show")" 1
