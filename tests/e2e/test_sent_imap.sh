#!/usr/bin/env bash
# Staff replies from their own mail client over IMAP (issue 11 §2), against a
# real Dovecot (tests/e2e/servers.sh): incoming.sent names a folder of the
# same account; poll reads what is new there with its own cursor (UIDVALIDITY
# + last UID) and never changes it (flags and UIDs identical before and
# after); a message there that answers an inquiry records "answered by NAME
# (mail client)" and sets status answered; a second poll records nothing
# twice.  `inquiries reply` APPENDs its reply to that folder with \Seen and
# flags the original \Answered where poll filed it (incoming.folders); a
# failure there is a warning and a history line, never a failed reply.
# test_sent_folder.sh has the Maildir side.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/servers.sh"

if [ "$(id -u)" != 0 ]; then
	fail "test_sent_imap needs root (Dovecot)"
	exit 0
fi
start_dovecot || { fail "starting Dovecot"; exit 0; }
dv() { timeout 30 doveadm -c "$DOVECOT_CONF" "$@"; }

S=$T_TMP/site
make_site "$S"
printf 'secret\n' >"$T_TMP/pw"
chmod 600 "$T_TMP/pw"
sed -i "s|^  url: maildir:inbox|  url: imap://127.0.0.1:$DOVECOT_IMAP_PORT/INBOX\n  username: test\n  password_file: $T_TMP/pw\n  sent: Sent\n  folders: {inquiries: Inquiries}|" \
	"$S/letterbox.yaml"
lbs() { lb -C "$S" "$@"; }
expect_exit 0 "the test site checks out" lbs check

# put MAILBOX FROM TO SUBJECT MESSAGE-ID BODY [HEADER LINES]: save a message
put() {
	{
		printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\n' "$2" "$3" "$4"
		printf 'Date: %s\r\nMessage-ID: <%s>\r\n' "$(date -R)" "$5"
		[ -n "${7:-}" ] && printf '%s\r\n' "$7"
		printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n' "$6"
	} >"$T_TMP/put.eml"
	dv save -u test -m "$1" <"$T_TMP/put.eml"
}
field() {
	lbs inquiries list --status all --json | "$PY" -c '
import json, sys
for q in json.load(sys.stdin):
    if q["from"] == sys.argv[1]:
        print(q[sys.argv[2]]); break' "$1" "$2"
}
# flags MAILBOX HEADER VALUE: the flags of the message there whose HEADER
# holds VALUE (\Recent, a session flag, left out)
flags() {
	dv fetch -u test flags mailbox "$1" header "$2" "$3" 2>&1 | sed -n 's/^flags: *//p' |
		sed 's/\\Recent//; s/^ *//; s/ *$//'
}
# the Sent folder as the server has it: UIDs, flags, Message-IDs
snapshot() { dv fetch -u test "uid flags hdr.message-id" mailbox Sent all 2>&1; dv mailbox status -u test "messages uidvalidity uidnext" Sent 2>&1; }

dv mailbox create -u test Sent
echo "-- Alice writes; Sam answers from his mail client"
put INBOX "Alice Adams <alice@people.test>" "Practice <news@example.org>" \
	"Can you help with my son?" "alice1.$$@people.test" "He has not slept for a week."
put INBOX "Ben Brown <ben@people.test>" "Practice <news@example.org>" \
	"Opening hours" "ben1.$$@people.test" "When are you open on Saturday?"
expect_exit 0 "poll files both" lbs poll
ALICE=$(field alice@people.test number)
same "  Alice's is new" "$(field alice@people.test status)" new
put Sent "Sam Smith <news@example.org>" "Alice Adams <alice@people.test>" \
	"Re: Can you help with my son?" "sam1.$$@example.org" \
	"Dear Alice, yes: come on Tuesday at 3. Sam" \
	"In-Reply-To: <alice1.$$@people.test>"$'\r'"
References: <alice1.$$@people.test>"
put Sent "Sam Smith <news@example.org>" "Dr Who <dr@elsewhere.test>" "Lunch" \
	"sam2.$$@example.org" "See you at noon."
dv flags add -u test '\Seen' mailbox Sent uid 1
before=$(snapshot)
expect_exit 0 "poll reads the Sent folder" lbs poll --json
check "  --json names the answered inquiry" \
	grep -q "\"sent\":\"uid:1\",\"kind\":\"staff-reply\",\"inquiry\":$ALICE" "$T_TMP/out"
same "  Alice's inquiry is answered" "$(field alice@people.test status)" answered
same "  Ben's is still new" "$(field ben@people.test status)" new
lbs inquiries show "$ALICE" >"$T_TMP/show"
check "  history: answered by Sam (mail client)" \
	grep -q "reply: answered by Sam Smith <news@example.org> (mail client); copy 1" "$T_TMP/show"
check "  the conversation holds Sam's text" grep -q "Dear Alice, yes: come on Tuesday at 3" "$T_TMP/show"
same "  the Sent folder is unchanged (UIDs, flags)" "$(snapshot)" "$before"
check "  (the snapshot sees the messages)" grep -q "sam2.$$@example.org" <<<"$before"

echo "-- a second poll records nothing twice; a new Sent message is read from the cursor"
expect_exit 0 "poll again" lbs poll --json
same "  reports nothing from Sent" "$(grep -c staff-reply "$T_TMP/out")" 0
put Sent "Sam Smith <news@example.org>" "Ben Brown <ben@people.test>" "Re: Opening hours" \
	"sam3.$$@example.org" "Saturdays 9 to 12. Sam" "References: <ben1.$$@people.test>"
before=$(snapshot)
expect_exit 0 "poll" lbs poll --json
same "  reads only the new one" "$(grep -o '"sent":"[^"]*"' "$T_TMP/out" | xargs)" "sent:uid:3"
same "  the Sent folder has its own cursor, at its last UID" \
	"$(db "SELECT last_uid FROM poll_cursors ORDER BY last_uid" | xargs)" "2 3"
same "  Ben's inquiry is answered" "$(field ben@people.test status)" answered
same "  the Sent folder is unchanged" "$(snapshot)" "$before"
lbs inquiries show "$ALICE" >"$T_TMP/show"
same "  one mail-client answer in Alice's history" "$(grep -c "(mail client)" "$T_TMP/show")" 1

echo "-- a Sent folder that does not exist is a warning, not a failed poll"
sed -i 's|^  sent: Sent|  sent: Nope|' "$S/letterbox.yaml"
expect_exit 0 "poll" lbs poll
check "  warns about incoming.sent" grep -q "incoming.sent" "$T_TMP/err"
sed -i 's|^  sent: Nope|  sent: Sent|' "$S/letterbox.yaml"

echo "-- inquiries reply: our reply in Sent with \\Seen, the original flagged \\Answered"
put INBOX "Carl Cole <carl@people.test>" "Practice <news@example.org>" \
	"Forms" "carl1.$$@people.test" "Which forms do I need?"
expect_exit 0 "poll files Carl's message (moved to Inquiries)" lbs poll
CARL=$(field carl@people.test number)
same "  (it is in Inquiries, not flagged)" \
	"$(flags Inquiries message-id "carl1.$$")" ""
printf 'The blue one.\n\nSam\n' >"$T_TMP/reply.md"
expect_exit 0 "Sam replies with letterbox" lbs inquiries reply "$CARL" --file "$T_TMP/reply.md" --by sam
same "  no warning" "$(cat "$T_TMP/err")" ""
same "  the reply is in Sent, \\Seen" \
	"$(flags Sent in-reply-to "carl1.$$")" '\Seen'
check "  ... with its text" grep -q "The blue one" \
	<(dv fetch -u test body mailbox Sent header in-reply-to "carl1.$$" 2>&1)
same "  the original is flagged \\Answered in Inquiries" \
	"$(flags Inquiries message-id "carl1.$$")" '\Answered'
lbs inquiries show "$CARL" >"$T_TMP/show"
check "  history says so" grep -q 'mailbox: filed in Sent (\\Seen); original flagged \\Answered' "$T_TMP/show"
expect_exit 0 "poll reads our reply in Sent" lbs poll --json
check "  (it was read)" grep -q '"kind":"staff-reply"' "$T_TMP/out"
lbs inquiries show "$CARL" >"$T_TMP/show"
same "  ... and records nothing more: no mail-client answer" "$(grep -c "(mail client)" "$T_TMP/show")" 0
check "  ... two messages in the conversation" grep -q "^Conversation (2 messages):" "$T_TMP/show"
same "  ... status answered" "$(field carl@people.test status)" answered

echo "-- a Sent folder that refuses the APPEND: a warning and a history line, the reply stands"
put INBOX "Dee Dunn <dee@people.test>" "Practice <news@example.org>" \
	"Parking" "dee1.$$@people.test" "Is there parking?"
expect_exit 0 "poll" lbs poll
DEE=$(field dee@people.test number)
sed -i 's|^  sent: Sent|  sent: Nope|' "$S/letterbox.yaml"
expect_exit 0 "the reply is sent all the same" lbs inquiries reply "$DEE" --file "$T_TMP/reply.md" --by sam
check "  a warning" grep -q "the reply was sent, but not filed in Nope" "$T_TMP/err"
same "  status answered" "$(field dee@people.test status)" answered
lbs inquiries show "$DEE" >"$T_TMP/show"
check "  a history line" grep -q 'mailbox-warning: not filed in Nope: .*; original flagged \\Answered' "$T_TMP/show"
sed -i 's|^  sent: Nope|  sent: Sent|' "$S/letterbox.yaml"

stop_all
