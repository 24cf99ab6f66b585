#!/usr/bin/env bash
# Conversations (issue 11, "a follow-up becomes a new inquiry"): a message that
# answers one of our replies or acknowledgements, or names an inquiry's own
# message, joins that inquiry; so does one from the same sender with the same
# subject (Re:/Fwd:/AW:… stripped) within 30 days of its last message.  It is
# never acknowledged, reopens an answered or closed inquiry, makes it urgent
# on crisis language (with the alert), shows in `inquiries show` in order,
# says "followup": true in `poll --json`, and is filed exactly once across
# kill -9.  Maildir in and out: no servers needed.
#
# Test-only hook: LETTERBOX_TEST_CRASH=after-followup-message (its raw bytes
# stored, the record not yet pointing at them) | after-followup (filed, not
# yet recorded as seen) makes letterbox kill itself there (receive/followup.c).
source "$(dirname "$0")/../lib.sh"

S=$T_TMP/site
make_site "$S"
sed -i 's/acknowledge: false/acknowledge: true/' "$S/letterbox.yaml"
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
lbs() { lb -C "$S" "$@"; }
n_msg=0
# put NAME ADDR SUBJECT BODY [HEADER LINES]: a message into the practice's inbox
put() {
	n_msg=$((n_msg + 1))
	{
		printf 'From: %s <%s>\nTo: Practice <news@example.org>\nSubject: %s\n' "$1" "$2" "$3"
		printf 'Date: %s\nMessage-ID: <%s>\n' "$(date -R)" "$(mid $n_msg)"
		[ -n "${5:-}" ] && printf '%s\n' "$5"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' "$4"
	} >"$S/inbox/tmp/m$n_msg"
	mv "$S/inbox/tmp/m$n_msg" "$S/inbox/new/m$n_msg"
}
mid() { echo "conv$1.$$@people.test"; }
# field ADDR KEY: KEY of the (first) inquiry from ADDR in `inquiries list --json`
field() {
	lbs inquiries list --status all --json | "$PY" -c '
import json, sys
for q in json.load(sys.stdin):
    if q["from"] == sys.argv[1]:
        print(q[sys.argv[2]]); break' "$1" "$2"
}
from_count() { lbs inquiries list --status all --json | grep -o "\"from\":\"$1\"" | wc -l; }
# mail KIND ADDR: how many of our mails in the outbox: acks to ADDR, replies to
# ADDR, or urgent alerts for inquiry ADDR (a number)
mail() {
	"$PY" - "$S/outbox" "$1" "$2" <<'PY'
import email, email.policy, glob, re, sys
box, kind, who = sys.argv[1:4]
n = 0
for f in glob.glob(box + "/new/*") + glob.glob(box + "/cur/*"):
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
    subj, to = str(m["Subject"]), str(m["To"])
    if kind == "alert":
        n += bool(re.search(r"URGENT inquiry %s - " % who, subj))
    elif kind == "ack":
        n += m["Auto-Submitted"] == "auto-replied" and who in to
    elif kind == "reply":
        n += m["Auto-Submitted"] is None and "URGENT" not in subj and who in to
print(n)
PY
}
# msgid KIND ADDR: the Message-ID (no brackets) of our ack or reply to ADDR
msgid() {
	"$PY" - "$S/outbox" "$1" "$2" <<'PY'
import email, email.policy, glob, sys
box, kind, who = sys.argv[1:4]
for f in glob.glob(box + "/new/*") + glob.glob(box + "/cur/*"):
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
    auto = m["Auto-Submitted"] == "auto-replied"
    if who in str(m["To"]) and auto == (kind == "ack"):
        print(str(m["Message-ID"]).strip("<> ")); break
PY
}
history_count() { lbs inquiries show "$1" | grep -c "letterbox  $2"; }

echo "-- Bob writes, Sam answers, Bob answers the reply: one inquiry, one acknowledgement"
put "Bob Baker" bob@people.test "Appointment tomorrow?" "Can I come tomorrow at 10?"
expect_exit 0 "poll files Bob's message" lbs poll
BOB=$(field bob@people.test number)
same "  acknowledged once" "$(mail ack bob@people.test)" 1
printf 'Yes, 10:00 is fine.\n\nSam\n' >"$T_TMP/reply.md"
expect_exit 0 "Sam replies" lbs inquiries reply "$BOB" --file "$T_TMP/reply.md" --by sam
same "  the reply went out" "$(mail reply bob@people.test)" 1
same "  status answered" "$(field bob@people.test status)" answered
REPLY=$(msgid reply bob@people.test)
check "  (the reply has a Message-ID)" test -n "$REPLY"
put "Bob Baker" bob@people.test "Re: Appointment tomorrow?" "Thanks Sam, see you tomorrow" \
	"In-Reply-To: <$REPLY>"
expect_exit 0 "poll Bob's answer to the reply (In-Reply-To only)" lbs poll --json
check "  poll --json says followup, with the inquiry" \
	grep -q "\"inquiry\":$BOB,.*\"followup\":true" "$T_TMP/out"
same "  still one inquiry from Bob" "$(from_count bob@people.test)" 1
same "  no acknowledgement for the answer" "$(mail ack bob@people.test)" 1
same "  status back to open" "$(field bob@people.test status)" open
same "  two messages in the conversation" "$(field bob@people.test messages)" 2

echo "-- Bob writes again with only 'Re: subject', no references"
expect_exit 0 "staff close it" lbs inquiries set "$BOB" status=closed
put "Bob Baker" bob@people.test "RE: Fwd:  appointment   TOMORROW?" "One more thing: can I bring my partner?"
expect_exit 0 "poll" lbs poll --json
check "  joins the same inquiry" grep -q "\"inquiry\":$BOB,.*\"followup\":true" "$T_TMP/out"
same "  still one inquiry from Bob" "$(from_count bob@people.test)" 1
same "  still one acknowledgement" "$(mail ack bob@people.test)" 1
same "  closed -> open" "$(field bob@people.test status)" open

echo "-- Bob answers the acknowledgement (In-Reply-To only)"
ACK=$(msgid ack bob@people.test)
check "  (the acknowledgement has a Message-ID)" test -n "$ACK"
put "Bob Baker" bob@people.test "Something else entirely" "Sorry, I only saw your automatic mail now." \
	"In-Reply-To: <$ACK>"
expect_exit 0 "poll" lbs poll --json
check "  joins the same inquiry" grep -q "\"inquiry\":$BOB,.*\"followup\":true" "$T_TMP/out"
same "  still one acknowledgement" "$(mail ack bob@people.test)" 1

echo "-- inquiries show: the whole conversation in order"
lbs inquiries show "$BOB" >"$T_TMP/show"
check "  five messages" grep -q "^Conversation (5 messages):" "$T_TMP/show"
order=$(grep -E "^--- [0-9]+\. " "$T_TMP/show" | sed -E 's/^--- ([0-9]+)\. [0-9-]+ [0-9:]+ [^ ]+  (from Bob Baker <bob@people.test>|reply sent).*/\1 \2/' | sed 's/from Bob.*/bob/; s/reply sent/reply/' | xargs)
same "  in order, each with when and from" "$order" "1 bob 2 reply 3 bob 4 bob 5 bob"
texts=$(grep -nE "^(Can I come|Yes, 10:00|Thanks Sam|One more thing|Sorry, I only)" "$T_TMP/show" | cut -d: -f2- | cut -c1-8 | xargs)
same "  each message's text" "$texts" "Can I co Yes, 10: Thanks S One more Sorry, I"
same "  history: three new messages, numbered as shown" \
	"$(grep -o 'letterbox  new message: message [0-9] of the conversation, from bob@people.test' "$T_TMP/show" | grep -o 'message [0-9]' | xargs)" \
	"message 3 message 4 message 5"
check "  history: status answered -> open" grep -q "letterbox  status: answered -> open" "$T_TMP/show"
check "  history: status closed -> open" grep -q "letterbox  status: closed -> open" "$T_TMP/show"

echo "-- a follow-up with crisis language"
expect_exit 0 "staff answer and close it" lbs inquiries set "$BOB" status=closed
put "Bob Baker" bob@people.test "Re: Appointment tomorrow?" "I have been thinking about suicide again."
expect_exit 0 "poll" lbs poll --json
check "  joins, urgent" grep -q "\"inquiry\":$BOB,\"urgent\":true,\"followup\":true" "$T_TMP/out"
same "  the inquiry is urgent" "$(field bob@people.test priority)" urgent
same "  and open" "$(field bob@people.test status)" open
same "  one urgent alert" "$(mail alert "$BOB")" 1
alert_text=$("$PY" - "$S/outbox" "$BOB" <<'PY'
import email, email.policy, glob, re, sys
for f in glob.glob(sys.argv[1] + "/new/*"):
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
    if re.search(r"URGENT inquiry %s - " % sys.argv[2], str(m["Subject"])):
        print(m.get_body(("plain",)).get_content())
PY
)
case $alert_text in *"A new message in inquiry $BOB is URGENT"*) pass "  the alert says a new message is urgent" ;;
*) fail "  the alert says a new message is urgent: $alert_text" ;; esac
case $alert_text in *suicide*) fail "  ... without its text" ;; *) pass "  ... without its text" ;; esac
same "  no acknowledgement" "$(mail ack bob@people.test)" 1
check "  history: priority normal -> urgent" grep -q "priority: normal -> urgent" <(lbs inquiries show "$BOB")
put "Bob Baker" bob@people.test "Re: Appointment tomorrow?" "Still thinking about suicide."
expect_exit 0 "another while it is open and urgent" lbs poll
same "  no second alert (staff know)" "$(mail alert "$BOB")" 1
expect_exit 0 "staff close it" lbs inquiries set "$BOB" status=closed
put "Bob Baker" bob@people.test "Re: Appointment tomorrow?" "It is an emergency, I want to kill myself."
expect_exit 0 "one after it was closed" lbs poll
same "  alerts again (staff thought it settled)" "$(mail alert "$BOB")" 2
same "  still one inquiry, one acknowledgement" "$(from_count bob@people.test) $(mail ack bob@people.test)" "1 1"

echo "-- an answer more than 7 days later (past the acknowledgements' per-sender limit)"
put "Hal Hart" hal@people.test "Evening slots" "Do you have evening appointments?"
expect_exit 0 "poll on 1 March" lbs poll --now 2026-03-01T10:00:00Z
HAL=$(field hal@people.test number)
expect_exit 0 "Sam replies" lbs inquiries reply "$HAL" --file "$T_TMP/reply.md" --by sam
put "Hal Hart" hal@people.test "Re: Evening slots" "Thanks!" "In-Reply-To: <$(msgid reply hal@people.test)>"
expect_exit 0 "Hal answers on 10 March" lbs poll --now 2026-03-10T10:00:00Z
same "  one inquiry, one acknowledgement" "$(from_count hal@people.test) $(mail ack hal@people.test)" "1 1"

echo "-- someone else with the same subject: a new inquiry"
put "Cat Cole" cat@people.test "Re: Appointment tomorrow?" "Is there still a slot tomorrow?"
expect_exit 0 "poll" lbs poll --json
if grep -q '"followup":true' "$T_TMP/out"; then fail "  not a follow-up"; else pass "  not a follow-up"; fi
same "  a new inquiry" "$(from_count cat@people.test)" 1
same "  acknowledged" "$(mail ack cat@people.test)" 1

echo "-- a message naming an inquiry's own message (References) joins it"
put "Dee Dunn" dee@people.test "Couples sessions" "Do you offer couples sessions?"
DEE_MID=$(mid $n_msg)
expect_exit 0 "poll" lbs poll
put "Ed Dunn" ed@people.test "Re: Couples sessions" "I am Dee's partner; we would both come." \
	"References: <other.thread@people.test> <$DEE_MID>"
expect_exit 0 "poll her partner's message" lbs poll --json
check "  joins Dee's inquiry" grep -q "\"inquiry\":$(field dee@people.test number),.*\"followup\":true" "$T_TMP/out"
same "  no inquiry from Ed, no acknowledgement to him" "$(from_count ed@people.test) $(mail ack ed@people.test)" "0 0"

echo "-- the 30 days without references"
put "Eve Eng" eve@people.test "Fees" "What do sessions cost?"
put "Fay Fox" fay@people.test "Fees" "Do you take insurance?"
expect_exit 0 "poll on 1 January" lbs poll --now 2026-01-01T10:00:00Z
put "Eve Eng" eve@people.test "Re: Fees" "And is there a sliding scale?"
expect_exit 0 "Eve again 29 days later" lbs poll --now 2026-01-30T10:00:00Z --json
check "  joins her inquiry" grep -q '"followup":true' "$T_TMP/out"
put "Fay Fox" fay@people.test "Re: Fees" "Following up on my question."
expect_exit 0 "Fay again 31 days later" lbs poll --now 2026-02-01T10:00:01Z --json
if grep -q '"followup":true' "$T_TMP/out"; then fail "  a new inquiry"; else pass "  a new inquiry"; fi
same "  Eve: one inquiry, Fay: two" "$(from_count eve@people.test) $(from_count fay@people.test)" "1 2"

echo "-- kill -9 while filing a follow-up: filed once, never lost"
put "Gus Gray" gus@people.test "Parking" "Where can I park?"
expect_exit 0 "poll" lbs poll
GUS=$(field gus@people.test number)
put "Gus Gray" gus@people.test "Re: Parking" "Found it, thanks."
rc=$({ LETTERBOX_TEST_CRASH=after-followup "$LB" -C "$S" poll >/dev/null 2>&1; echo $?; } 2>/dev/null)
same "poll killed right after filing the follow-up" "$rc" 137
cp "$S/inbox/new/m$n_msg" "$T_TMP/again"
expect_exit 0 "poll after the crash" lbs poll --json
check "  the message is known as filed" grep -q '"duplicate":true' "$T_TMP/out"
same "  filed once" "$(field gus@people.test messages) $(history_count "$GUS" "new message")" "2 1"
cp "$T_TMP/again" "$S/inbox/new/m-again"
expect_exit 0 "the same message delivered again" lbs poll --json
check "  is a duplicate" grep -q '"duplicate":true' "$T_TMP/out"
same "  still filed once" "$(field gus@people.test messages)" 2
put "Gus Gray" gus@people.test "Re: Parking" "And where is the entrance?"
rc=$({ LETTERBOX_TEST_CRASH=after-followup-message "$LB" -C "$S" poll >/dev/null 2>&1; echo $?; } 2>/dev/null)
same "poll killed between storing the message and its record" "$rc" 137
expect_exit 0 "poll after the crash" lbs poll --json
check "  files it now" grep -q '"followup":true' "$T_TMP/out"
same "  filed once" "$(field gus@people.test messages) $(history_count "$GUS" "new message")" "3 2"
same "  nothing left in the inbox" "$(ls "$S/inbox/new" | wc -l)" 0
same "  Gus was acknowledged once" "$(mail ack gus@people.test)" 1

echo "-- kill -9 after filing an urgent follow-up, before its alert"
put "Ivy Isles" ivy@people.test "Sessions" "How long is a session?"
expect_exit 0 "poll" lbs poll
IVY=$(field ivy@people.test number)
expect_exit 0 "staff answer and close it" lbs inquiries set "$IVY" status=closed
put "Ivy Isles" ivy@people.test "Re: Sessions" "I took too many pills, this is an emergency."
rc=$({ LETTERBOX_TEST_CRASH=after-followup "$LB" -C "$S" poll >/dev/null 2>&1; echo $?; } 2>/dev/null)
same "poll killed right after filing it" "$rc" 137
same "  (no alert yet)" "$(mail alert "$IVY")" 0
expect_exit 0 "the next poll" lbs poll
same "  sends the alert" "$(mail alert "$IVY")" 1
expect_exit 0 "and the one after" lbs poll
same "  not twice" "$(mail alert "$IVY")" 1
same "  one inquiry (open again), two messages, one acknowledgement" \
	"$(from_count ivy@people.test) $(field ivy@people.test status) $(field ivy@people.test messages) $(mail ack ivy@people.test)" "1 open 2 1"

echo "-- purge keeps the other conversations whole"
expect_exit 0 "close Cat's" lbs inquiries set "$(field cat@people.test number)" status=closed
expect_exit 0 "purge it" lbs inquiries purge --closed-before 2099-01-01
lbs inquiries show "$BOB" >"$T_TMP/show2"
check "  Bob's conversation reads the same" grep -q "^Thanks Sam, see you tomorrow" "$T_TMP/show2"
check "  ... its last message too" grep -q "^It is an emergency" "$T_TMP/show2"
same "  ... all of it" "$(grep -c '^--- ' "$T_TMP/show2")" 8
put "Bob Baker" bob@people.test "Re: Appointment tomorrow?" "See you then." "In-Reply-To: <$REPLY>"
expect_exit 0 "an answer to the reply after the purge" lbs poll --json
check "  still joins" grep -q "\"inquiry\":$BOB,.*\"followup\":true" "$T_TMP/out"
