#!/usr/bin/env bash
# Triage end to end on real servers (tests/e2e/servers.sh): replies appended
# to the practice's Dovecot mailbox -> `letterbox poll` over IMAP ->
# `inquiries list` -> `inquiries reply` through the private Postfix into the
# person's Dovecot mailbox, threaded -> status answered.  Acknowledgements
# (RFC 3834 rules, 7 days per sender, once across kill -9), the urgent alert
# (once, without the message text; after a crash, again as a possible repeat), the digest (matches the store; nothing
# when nothing is new), history and bad input.
#
# The trial's three stories (issue 11), on a UK site (site.timezone
# Europe/London, its own triage.crisis_line): Ann's thread of four messages
# (Ann -> `inquiries reply` -> Ann -> Sam's answer from his mail client, a
# message in the IMAP Sent folder) stays one inquiry with one
# acknowledgement; the acknowledgement carries the site's crisis line, not
# 911/988; times are shown in the site's zone.  The urgency set goes through
# the classifier and through `poll` in test_urgency.sh.
#
# Test-only hook used here: LETTERBOX_TEST_CRASH=after-ack-intent or
# after-alert-intent makes letterbox kill itself (SIGKILL) right after it has
# recorded that it is about to send (deliver/notify.h); the next poll reports
# it and resends the alert, marked "possible repeat" (test_notify_crash.sh
# has the rest).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/servers.sh"

if [ "$(id -u)" != 0 ]; then
	fail "test_triage needs root (Postfix, Dovecot)"
	exit 0
fi
start_postfix || { fail "starting Postfix and Dovecot"; exit 0; }
dv() { timeout 30 doveadm -c "$DOVECOT_CONF" "$@"; }

# People with a mailbox of their own (Postfix delivers *@mail.testbed.test to them).
PEOPLE="ann dee carl noreply erin fay desk lead news bob"
for u in $PEOPLE; do
	echo "$u:{PLAIN}secret:5000:5000::$DOVECOT_DIR/mail/$u" >>"$DOVECOT_DIR/users"
done
# Dovecot re-reads the file when its mtime changes, at one-second resolution.
touch -d '+2 seconds' "$DOVECOT_DIR/users"
for ((i = 0; i < 100; i++)); do dv user bob >/dev/null 2>&1 && break; sleep 0.05; done

# count USER: messages in USER's INBOX.  wait_count USER N: until there are N
# (at most 20 s).  settle: until Postfix's queue is empty, so that a mail
# that should not exist has had every chance to arrive.
count() { dv search -u "$1" mailbox INBOX all 2>/dev/null | wc -l; }
wait_count() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
settle() {
	local i
	for ((i = 0; i < 200; i++)); do
		postqueue -c "$POSTFIX_CONF" -p 2>/dev/null | grep -q 'Mail queue is empty' && return 0
		sleep 0.1
	done
	return 1
}

S=$T_TMP/site
make_site "$S"
printf 'secret\n' >"$T_TMP/pw"
chmod 600 "$T_TMP/pw"
"$PY" - "$S/letterbox.yaml" "$POSTFIX_PORT" "$DOVECOT_IMAP_PORT" "$T_TMP/pw" "$SV_CERT" <<'PY'
import re, sys
p, smtp, imap, pw, ca = sys.argv[1:6]
s = open(p).read()
s = s.replace('from: "Center for Relationship and Intimacy Wellbeing <news@example.org>"',
              'from: "Center for Relationship and Intimacy Wellbeing <news@mail.testbed.test>"')
s = s.replace("  url: maildir:outbox", f"  url: smtp://127.0.0.1:{smtp}\n  ca_file: {ca}")
s = s.replace("  url: maildir:inbox",
              f"  url: imap://127.0.0.1:{imap}/INBOX\n  username: test\n  password_file: {pw}")
s = re.sub(r"staff:\n.*\n.*\n", 'staff:\n  digest_to: ["Front desk <desk@mail.testbed.test>"]\n'
           '  urgent_to: ["Clinical lead <lead@mail.testbed.test>"]\n', s)
s = s.replace("acknowledge: false", "acknowledge: true")
s = s.replace("  article_url:", "  timezone: Europe/London\n  article_url:", 1)
s = s.replace("  password_file: " + pw, "  password_file: " + pw + "\n  sent: Sent", 1)
# A UK site: its acknowledgement must carry its own crisis line.
s = re.sub(r"  crisis_line: >-\n(    .*\n)*",
           '  crisis_line: "In the UK call 999 or Samaritans on 116 123"\n', s)
open(p, "w").write(s)
PY
lbs() { lb -C "$S" "$@"; }
dv mailbox create -u test Sent
expect_exit 0 "the test site checks out" lbs check
check "  (a UK site: its zone, its Sent folder)" grep -q "timezone: Europe/London" "$S/letterbox.yaml"

# put FILE: append a message to the practice's INBOX (user test).
n_msg=0
msg() { # FROM_NAME FROM_ADDR SUBJECT BODY [EXTRA HEADER LINES]
	n_msg=$((n_msg + 1))
	printf 'From: %s <%s>\r\nTo: Practice <news@mail.testbed.test>\r\nSubject: %s\r\n' "$1" "$2" "$3"
	printf 'Date: %s\r\nMessage-ID: <msg%d.%s@people.test>\r\n' "$(date -R)" "$n_msg" "$$"
	printf 'References: <healing-through-connection.aaaaaaaaaaaaaaaa.x1@mail.testbed.test>\r\n'
	printf 'In-Reply-To: <healing-through-connection.aaaaaaaaaaaaaaaa.x1@mail.testbed.test>\r\n'
	[ -n "${5:-}" ] && printf '%s\r\n' "$5"
	printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n' "$4"
}
put() { msg "$@" >"$T_TMP/m$((n_msg + 1)).eml"; dv save -u test -m INBOX <"$T_TMP/m$n_msg.eml"; }
mid() { echo "msg$1.$$@people.test"; }
# inq_of ADDR: the number of the (first) inquiry from ADDR
inq_of() {
	lbs inquiries list --status all --json | "$PY" -c '
import json, sys
for q in json.load(sys.stdin):
    if q["from"] == sys.argv[1]:
        print(q["number"]); break' "$1"
}

# lines3 FILE FIRST: the three lines from the line FIRST on, in the text part, then in
# the HTML part (as a browser breaks it)
lines3() {
	"$PY" - "$1" "$2" <<'PY'
import email, email.policy, html.parser, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
text = m.get_body(("plain",)).get_content()
class Lines(html.parser.HTMLParser):  # text as a browser breaks it: <br> and blocks
    def __init__(self): super().__init__(); self.s = ""
    def handle_starttag(self, tag, a): self.s += "\n" if tag in ("br", "p", "div") else ""
    def handle_data(self, d): self.s += " ".join(d.split()) if d.strip() else ""
p = Lines(); p.feed(m.get_body(("html",)).get_content())
for part in (text, p.s):
    lines = [l.strip() for l in part.splitlines()]
    first = sys.argv[2]
    i = lines.index(first) if first in lines else -1
    print(" | ".join(lines[i:i + 3]) if i >= 0 else "(no line %r)" % first)
PY
}

echo "-- poll files the replies; acknowledgements follow the rules"
put "Ann Example" ann@mail.testbed.test "Re: Healing Through Connection" \
	"Thank you for the article. Could we book a first session next month?"
put "Dee Whitfield" dee@mail.testbed.test "Please call me" \
	"Things are very hard. I have been thinking about suicide and I don't know who else to ask."
put "Bob Away" bob@mail.testbed.test "Automatic reply: Re: Healing Through Connection" \
	"I am out of the office until Monday." "Auto-Submitted: auto-replied"
put "Mail Delivery System" MAILER-DAEMON@mail.testbed.test "Undelivered Mail Returned to Sender" \
	"This is the mail system. I'm sorry to have to inform you that your message could not be delivered to one or more recipients." \
	"Return-Path: <>"
put "Carl List" carl@mail.testbed.test "[friends] what about group sessions?" \
	"Does the practice offer group sessions? Asking for the list." \
	"List-Id: Friends <friends.lists.test>"
put "Notifications" noreply@mail.testbed.test "A question" "Is this address read by anyone?"
put "Ann Example" ann@mail.testbed.test "One more thing" "And is there parking near the practice?"
put "Practice" news@mail.testbed.test "Loop test" "A message from our own address."
expect_exit 0 "poll over IMAP" lbs poll
lbs inquiries list --status all --json >"$T_TMP/all.json"
ninq=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T_TMP/all.json")
same "6 inquiries filed (not the auto-reply, not the bounce)" "$ninq" 6
lbs inquiries list >"$T_TMP/list"
check "inquiries list shows Ann's reply" grep -q "Ann Example" "$T_TMP/list"
first=$(sed -n 2p "$T_TMP/list")
case $first in *URGENT*Dee*) pass "the urgent inquiry lists first" ;; *) fail "the urgent inquiry lists first: '$first'" ;; esac
ANN=$(inq_of ann@mail.testbed.test)
DEE=$(inq_of dee@mail.testbed.test)
check "Dee's inquiry is urgent" grep -q "\"number\":$DEE,.*\"priority\":\"urgent\"" "$T_TMP/all.json"

wait_count ann 1 && wait_count dee 1 && wait_count lead 1
settle
same "an acknowledgement for Ann's first inquiry, none for her second (7 days)" "$(count ann)" 1
same "an acknowledgement for Dee" "$(count dee)" 1
same "none for the auto-reply's sender" "$(count bob)" 0
same "none for the list message" "$(count carl)" 0
same "none for the no-reply sender" "$(count noreply)" 0
same "none to our own address" "$(count news)" 0
ack=$(ls "$DOVECOT_DIR"/mail/ann/Maildir/new/* "$DOVECOT_DIR"/mail/ann/Maildir/cur/* 2>/dev/null | head -1)
check "the acknowledgement says Auto-Submitted: auto-replied" grep -q '^Auto-Submitted: auto-replied' "$ack"
check "... answers Ann's message (In-Reply-To)" grep -q "^In-Reply-To: <$(mid 1)>" "$ack"
check "... carries the UK site's own crisis line" grep -q 'Samaritans on 116 123' "$ack"
if grep -qwE '988|911' "$ack"; then fail "... and not the US numbers"; else pass "... and not the US numbers"; fi
check "... came with the null envelope sender" grep -q '^Return-Path: <>' "$ack"
same "... its sign-off is three lines, in the text part and the HTML part" "$(lines3 "$ack" "With warm regards,")" \
	"With warm regards, | Center for Relationship and Intimacy Wellbeing | 123 Example Street, Suite 4, Woodland Hills, CA 91367, USA
With warm regards, | Center for Relationship and Intimacy Wellbeing | 123 Example Street, Suite 4, Woodland Hills, CA 91367, USA"
lbs inquiries show "$(inq_of carl@mail.testbed.test)" >"$T_TMP/show"
check "the list message's history says why it was not acknowledged" grep -q "not-acknowledged: a mailing-list message" "$T_TMP/show"

echo "-- the urgent alert"
same "one alert to staff.urgent_to" "$(count lead)" 1
alert=$(ls "$DOVECOT_DIR"/mail/lead/Maildir/new/* "$DOVECOT_DIR"/mail/lead/Maildir/cur/* 2>/dev/null | head -1)
check "the alert names the inquiry" grep -q "^Subject: URGENT inquiry $DEE" "$alert"
check "... the sender" grep -q "dee@mail.testbed.test" "$alert"
check "... and the subject" grep -q "Please call me" "$alert"
check "... and when, in the site's zone" grep -qE '^Received: +[0-9-]{10} [0-9:]{5} (GMT|BST)' "$alert"
if grep -qi "suicide\|very hard\|who else" "$alert"; then fail "the alert carries no body text"; else
	pass "the alert carries no body text"; fi
expect_exit 0 "poll again" lbs poll
settle
same "still one alert and one acknowledgement each after another poll" "$(count lead) $(count dee) $(count ann)" "1 1 1"

echo "-- kill -9 between recording the intent and sending"
put "Erin Example" erin@mail.testbed.test "Hello" "I would like to know more about couples therapy."
rc=$({ LETTERBOX_TEST_CRASH=after-ack-intent "$LB" -C "$S" poll >/dev/null 2>&1; echo $?; } 2>/dev/null)
same "poll was killed right after recording the acknowledgement" "$rc" 137
expect_exit 0 "poll after the crash" lbs poll
expect_exit 0 "and once more" lbs poll
settle
same "Erin got no acknowledgement (at most once: it was recorded, not sent)" "$(count erin)" 0
check "... and her history says it may not have been sent" \
	grep -q "ack-uncertain: acknowledgement may not have been sent" <(lbs inquiries show "$(inq_of erin@mail.testbed.test)")
same "her inquiry was filed once" "$(lbs inquiries list --status all --json | grep -o '"from":"erin@mail.testbed.test"' | wc -l)" 1
put "Fay Example" fay@mail.testbed.test "Urgent" "I am not safe at home, this is an emergency."
rc=$({ LETTERBOX_TEST_CRASH=after-alert-intent "$LB" -C "$S" poll >/dev/null 2>&1; echo $?; } 2>/dev/null)
same "poll was killed right after recording the urgent alert" "$rc" 137
expect_exit 0 "poll after the crash" lbs poll
grep_err "urgent alert may not have been sent" "... says the alert may not have been sent"
expect_exit 0 "and once more" lbs poll
wait_count lead 2
settle
same "the alert went out again, once, marked as a possible repeat" "$(count lead)" 2
check "... in its subject" test -n "$(dv search -u lead mailbox INBOX header subject '[possible repeat] URGENT inquiry')"
same "Fay still got her acknowledgement" "$(count fay)" 1

echo "-- reply through Postfix, threaded"
cat >"$T_TMP/reply.md" <<-'EOF'
	Dear Ann,

	Thank you for writing. We have *two* openings next month:

	- Tuesday at 10:00
	- Thursday at 15:30

	Warm regards,
	Ana Lopez
	Front desk, Center for Relationship and Intimacy Wellbeing
EOF
expect_exit 0 "reply --dry-run" lbs inquiries reply "$ANN" --file "$T_TMP/reply.md" --dry-run
check "... shows the text" grep -q "Tuesday at 10:00" "$T_TMP/out"
settle
same "... and sends nothing" "$(count ann)" 1
same "... and leaves the status" "$(lbs inquiries list --json | grep -o "\"number\":$ANN,[^}]*\"status\":\"new\"" | wc -l)" 1
expect_exit 0 "reply" lbs inquiries reply "$ANN" --file "$T_TMP/reply.md" --by ana
wait_count ann 2
dv fetch -u ann 'hdr.subject hdr.in-reply-to hdr.references hdr.auto-submitted' mailbox INBOX \
	not header auto-submitted auto | sed -e ':a' -e 'N' -e '$!ba' -e 's/\n[ \t]/ /g' >"$T_TMP/fetch"
check "the reply landed in Ann's mailbox as Re: her subject" grep -q '^hdr.subject: Re: Healing Through Connection' "$T_TMP/fetch"
check "In-Reply-To is her message" grep -q "^hdr.in-reply-to: <$(mid 1)>" "$T_TMP/fetch"
check "References end with her message" grep -q "^hdr.references: <healing-through-connection.aaaaaaaaaaaaaaaa.x1@mail.testbed.test> <$(mid 1)>" "$T_TMP/fetch"
if grep -q '^hdr.auto-submitted: .' "$T_TMP/fetch"; then fail "a person's reply is not marked Auto-Submitted"; else
	pass "a person's reply is not marked Auto-Submitted"; fi
check "status answered" grep -q "\"number\":$ANN,.*\"status\":\"answered\"" <(lbs inquiries list --status all --json)
lbs inquiries show "$ANN" --copy 1 --raw >"$T_TMP/copy"
check "a copy is kept with the inquiry" grep -q "^In-Reply-To: <$(mid 1)>" "$T_TMP/copy"
same "the signature keeps its three lines, in the text part and the HTML part" "$(lines3 "$T_TMP/copy" "Warm regards,")" \
	"Warm regards, | Ana Lopez | Front desk, Center for Relationship and Intimacy Wellbeing
Warm regards, | Ana Lopez | Front desk, Center for Relationship and Intimacy Wellbeing"

echo "-- Ann answers the reply: her inquiry goes on, no new acknowledgement"
REPLY_ID=$(grep -m1 '^Message-ID:' "$T_TMP/copy" | tr -d '<>\r' | awk '{print $2}')
answer() { # SUBJECT BODY [HEADER]: a message from Ann into the practice's INBOX
	n_msg=$((n_msg + 1))
	{
		printf 'From: Ann Example <ann@mail.testbed.test>\r\nTo: Practice <news@mail.testbed.test>\r\n'
		printf 'Subject: %s\r\nDate: %s\r\nMessage-ID: <msg%d.%s@people.test>\r\n' "$1" "$(date -R)" "$n_msg" "$$"
		[ -n "${3:-}" ] && printf '%s\r\n' "$3"
		printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n' "$2"
	} | dv save -u test -m INBOX
}
answer "Re: Re: Healing Through Connection" "Thank you, Tuesday at 10:00 suits me." "In-Reply-To: <$REPLY_ID>"
expect_exit 0 "poll over IMAP" lbs poll --json
check "  poll --json: a follow-up of her inquiry" grep -q "\"inquiry\":$ANN,.*\"followup\":true" "$T_TMP/out"
same "  her inquiry is open again" "$(lbs inquiries list --status all --json | grep -o "\"number\":$ANN,[^}]*" | grep -o '"status":"[a-z]*"')" '"status":"open"'
echo "-- Sam answers her from his mail client (the IMAP Sent folder): still one inquiry"
nann=$(lbs inquiries list --status all --json | grep -o '"from":"ann@mail.testbed.test"' | wc -l)
{
	printf 'From: Sam Smith <news@mail.testbed.test>\r\nTo: Ann Example <ann@mail.testbed.test>\r\n'
	printf 'Subject: Re: Re: Re: Healing Through Connection\r\nDate: %s\r\n' "$(date -R)"
	printf 'Message-ID: <sam1.%s@mail.testbed.test>\r\nIn-Reply-To: <%s>\r\n' "$$" "$(mid $n_msg)"
	printf 'References: <%s> <%s>\r\n' "$REPLY_ID" "$(mid $n_msg)"
	printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
	printf 'Lovely, see you on Tuesday at 10:00.\r\n\r\nSam\r\n'
} | dv save -u test -m Sent
expect_exit 0 "poll reads the Sent folder" lbs poll --json
check "  poll --json: a staff reply to her inquiry" grep -q "\"kind\":\"staff-reply\",\"inquiry\":$ANN" "$T_TMP/out"
same "  her inquiry is answered" "$(lbs inquiries list --status all --json | grep -o "\"number\":$ANN,[^}]*" | grep -o '"status":"[a-z]*"')" '"status":"answered"'
lbs inquiries show "$ANN" >"$T_TMP/show"
check "  show: one conversation of the four messages" grep -q "^Conversation (4 messages):" "$T_TMP/show"
same "  ... in order: hers, our reply, hers, Sam's" \
	"$(grep -oE '^(Thank you for the article|Dear Ann|Thank you, Tuesday|Lovely, see you)' "$T_TMP/show" | paste -sd'|')" \
	"Thank you for the article|Dear Ann|Thank you, Tuesday|Lovely, see you"
check "  history: answered by Sam (mail client)" grep -q "reply: answered by Sam Smith <news@mail.testbed.test> (mail client)" "$T_TMP/show"
same "  no new inquiry from Ann" "$(lbs inquiries list --status all --json | grep -o '"from":"ann@mail.testbed.test"' | wc -l)" "$nann"
settle
same "  one acknowledgement all along (her mailbox: it and our reply)" "$(count ann)" 2
same "  ... the acknowledgement once" "$(dv search -u ann mailbox INBOX header auto-submitted auto-replied 2>/dev/null | wc -l)" 1
answer "Re: Healing Through Connection" "Oh, and may I bring my husband?"
expect_exit 0 "she writes again, only 'Re: subject'" lbs poll --json
check "  joins too" grep -q "\"inquiry\":$ANN,.*\"followup\":true" "$T_TMP/out"
settle
same "  no acknowledgement for either (her mailbox: the acknowledgement and the reply)" "$(count ann)" 2
lbs inquiries show "$ANN" >"$T_TMP/show"
check "  show: the conversation, five messages" grep -q "^Conversation (5 messages):" "$T_TMP/show"
check "  ... her answer" grep -q "^Thank you, Tuesday at 10:00 suits me." "$T_TMP/show"

echo "-- a reply that cannot be sent"
DEE_STATUS=$(lbs inquiries list --status all --json | grep -o "\"number\":$DEE,[^}]*" | grep -o '"status":"[a-z]*"')
cp "$S/letterbox.yaml" "$T_TMP/yaml.bak"
sed -i "s|smtp://127.0.0.1:$POSTFIX_PORT|smtp://127.0.0.1:$(sv_free_port)|" "$S/letterbox.yaml"
expect_exit 69 "reply while the mail server is down" lbs inquiries reply "$DEE" --file "$T_TMP/reply.md"
grep_err "not sent.*status is unchanged" "... says so and why"
cp "$T_TMP/yaml.bak" "$S/letterbox.yaml"
same "... and the status is unchanged" "$(lbs inquiries list --status all --json | grep -o "\"number\":$DEE,[^}]*" | grep -o '"status":"[a-z]*"')" "$DEE_STATUS"

echo "-- history"
expect_exit 0 "set" lbs inquiries set "$DEE" status=open assign=maria --by maria
expect_exit 0 "note" lbs inquiries note "$DEE" "Called back, appointment tomorrow" --by maria
expect_exit 0 "reply" lbs inquiries reply "$DEE" --file "$T_TMP/reply.md" --by jo
lbs inquiries show "$DEE" >"$T_TMP/show"
order=$(grep -nE '  (maria|jo) ' "$T_TMP/show" | sed -E 's/^[0-9]+: +[0-9-]+ [0-9:]+ [A-Z]+ +([a-z]+) +([a-z-]+):.*/\1 \2/' | xargs)
same "set, note, reply in order, each with who" "$order" "maria status maria assign maria note jo reply jo status jo mailbox"
check "each with its time in the site's zone" grep -qE '^  20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} (GMT|BST)  maria +note: Called back' "$T_TMP/show"

echo "-- site.timezone: the same inquiry in London and in Los Angeles"
# shown NUMBER: "Received" and the note's history time, as `inquiries show` prints them
shown() { lbs inquiries show "$1" | sed -nE 's/^Received: +//p; s/^  (.*)  maria +note: Called back.*/\1/p' | xargs -d '\n' | sed 's/ \([0-9]\{4\}-\)/ | \1/'; }
london=$(shown "$DEE")
# want ZONE: the same times computed by Python's zoneinfo from the store's UTC
want() {
	lbs inquiries list --status all --json | "$PY" -c '
import datetime, json, re, sys, zoneinfo
zone, dee, note = sys.argv[1], int(sys.argv[2]), sys.argv[3]
q = [q for q in json.load(sys.stdin) if q["number"] == dee][0]
def local(iso):
    t = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zoneinfo.ZoneInfo(zone))
    return t.strftime("%Y-%m-%d %H:%M %Z")
print(local(q["received"]) + " | " + local(note))' "$1" "$DEE" \
		"$(sqlite3 -cmd ".timeout 10000" "$S/state/letterbox.db" "SELECT time FROM inq_history WHERE number = $DEE AND who = 'maria' AND what = 'note' LIMIT 1")"
}
same "  London: Received and history in GMT/BST" "$london" "$(want Europe/London)"
check "  ... (both times there: '$london')" grep -qxE '([0-9-]{10} [0-9:]{5} (GMT|BST)( \| )?){2}' <<<"$london"
sed -i 's|^  timezone: Europe/London|  timezone: America/Los_Angeles|' "$S/letterbox.yaml"
la=$(shown "$DEE")
same "  Los Angeles: in PST/PDT" "$la" "$(want America/Los_Angeles)"
check "  ... (both times there: '$la')" grep -qxE '([0-9-]{10} [0-9:]{5} (PST|PDT)( \| )?){2}' <<<"$la"
check "  ... and they differ" test "$london" != "$la"
check "  the store stays UTC" grep -q "\"number\":$DEE,\"received\":\"[0-9T:-]*Z\"" <(lbs inquiries list --status all --json)
sed -i 's|^  timezone: America/Los_Angeles|  timezone: Europe/Lundon|' "$S/letterbox.yaml"
expect_exit 78 "  an unknown zone is a config error" lbs inquiries show "$DEE"
grep_err "letterbox.yaml:$(grep -n 'timezone:' "$S/letterbox.yaml" | cut -d: -f1):[0-9]+: 'timezone': 'Europe/Lundon' is not a zone" "  ... naming file:line:col"
sed -i 's|^  timezone: Europe/Lundon|  timezone: Europe/London|' "$S/letterbox.yaml"

echo "-- bad input changes nothing"
snap() { lbs inquiries list --status all --json; for q in $(seq 1 12); do lbs inquiries show "$q" 2>/dev/null; done; }
snap >"$T_TMP/before"
check "(the snapshot holds the inquiries)" grep -q "\"number\":$DEE," "$T_TMP/before"
expect_exit 65 "set on an inquiry that does not exist" lbs inquiries set 999 status=open
grep_err "no inquiry 999" "... says there is no inquiry 999"
expect_exit 64 "a number that is not one" lbs inquiries set 1x status=open
expect_exit 64 "a bad status" lbs inquiries set "$ANN" status=done
grep_err "use new, open, answered or closed" "... lists the statuses"
expect_exit 64 "a bad key among good ones" lbs inquiries set "$ANN" status=closed colour=red
expect_exit 64 "a bad priority" lbs inquiries set "$ANN" priority=high
expect_exit 64 "note without text" lbs inquiries note "$ANN"
expect_exit 65 "reply to an inquiry that does not exist" lbs inquiries reply 999 --file "$T_TMP/reply.md"
expect_exit 66 "reply with a missing file" lbs inquiries reply "$ANN" --file "$T_TMP/nonexistent.md"
expect_exit 64 "purge with a bad date" lbs inquiries purge --closed-before "last tuesday"
expect_exit 64 "purge without a date" lbs inquiries purge
expect_exit 64 "list with a bad status" lbs inquiries list --status maybe
snap >"$T_TMP/after"
check "nothing changed" cmp -s "$T_TMP/before" "$T_TMP/after"

echo "-- digest"
lbs inquiries list --status all --json >"$T_TMP/all.json"
expect_exit 0 "digest" lbs digest --html "$T_TMP/digest.html"
wait_count desk 1
settle
same "one digest to staff.digest_to" "$(count desk)" 1
dg=$(ls "$DOVECOT_DIR"/mail/desk/Maildir/new/* "$DOVECOT_DIR"/mail/desk/Maildir/cur/* 2>/dev/null | head -1)
"$PY" - "$dg" "$T_TMP/all.json" "$T_TMP/digest.html" <<'PY' >"$T_TMP/dcheck" 2>&1
import email, email.policy, json, re, sys
msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
text = msg.get_body(("plain",)).get_content()
html = msg.get_body(("html",)).get_content()
store = json.load(open(sys.argv[2]))
bad = []
counts = {s: sum(q["status"] == s for q in store) for s in ("new", "open", "answered", "closed")}
want = "Inquiries: %(new)d new, %(open)d open, %(answered)d answered, %(closed)d closed" % counts
if want not in text: bad.append("counts: want %r" % want)
waiting = [q for q in store if q["status"] in ("new", "open")]
waiting.sort(key=lambda q: (q["priority"] != "urgent", q["received"], q["number"]))
got = [int(n) for n in re.findall(r"^  #(\d+)", text, re.M)]
if got != [q["number"] for q in waiting]: bad.append("waiting: got %r want %r" % (got, [q["number"] for q in waiting]))
for q in waiting:
    if q["subject"] not in text: bad.append("subject of %d missing" % q["number"])
    if q["from"] not in text: bad.append("sender of %d missing" % q["number"])
for q in store:
    if q["status"] in ("answered", "closed") and re.search(r"^  #%d\b" % q["number"], text, re.M):
        bad.append("%d is not waiting" % q["number"])
if "suicide" in text.lower() or "suicide" in html.lower(): bad.append("message text in the digest")
if msg["Auto-Submitted"] != "auto-generated": bad.append("Auto-Submitted")
if not re.search(r"the digest of \d{4}-\d\d-\d\d \d\d:\d\d (GMT|BST)\n", text): bad.append("its time not in the site's zone")
page = open(sys.argv[3]).read()
if "%d new</b>" % counts["new"] not in page or "%d answered" % counts["answered"] not in page:
    bad.append("the --html page differs")
print("\n".join(bad) or "ok")
PY
same "the digest matches the store (order, counts, senders, subjects; no text)" "$(cat "$T_TMP/dcheck")" ok
expect_exit 0 "digest again" lbs digest
settle
same "nothing new: nothing sent" "$(count desk)" 1
expect_exit 0 "digest --always" lbs digest --always
wait_count desk 2
same "--always sends anyway" "$(count desk)" 2
put "Gus Example" gus@mail.testbed.test "New question" "Do you offer evening appointments?"
expect_exit 0 "poll a new inquiry" lbs poll
expect_exit 0 "digest after something new" lbs digest
wait_count desk 3
same "a new inquiry makes a digest" "$(count desk)" 3

echo "-- purge"
expect_exit 0 "close Ann's inquiry" lbs inquiries set "$ANN" status=closed
tomorrow=$(date -d tomorrow +%F)
expect_exit 0 "purge --dry-run" lbs inquiries purge --closed-before "$tomorrow" --dry-run
check "... lists it" grep -q "would remove inquiry $ANN " "$T_TMP/out"
expect_exit 0 "... and keeps it" lbs inquiries show "$ANN"
expect_exit 0 "purge" lbs inquiries purge --closed-before "$tomorrow"
check "... prints what it removed" grep -q "inquir.* $ANN " "$T_TMP/out"
expect_exit 65 "the purged inquiry is gone" lbs inquiries show "$ANN"
expect_exit 0 "the others stay" lbs inquiries show "$DEE"
