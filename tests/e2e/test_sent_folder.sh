#!/usr/bin/env bash
# Staff replies from their own mail client (issue 11 §2): incoming.sent names
# the Sent folder; poll reads it, and a message there whose In-Reply-To or
# References point at an inquiry records "answered by NAME (mail client)"
# with its text in the conversation, and sets status answered, so the digest
# stops listing it.  Nothing in Sent is ever moved or changed, and nothing is
# recorded twice.  This part: a Maildir source and a Maildir Sent folder.
source "$(dirname "$0")/../lib.sh"

S=$T_TMP/site
make_site "$S"
sed -i 's|^  url: maildir:inbox|  url: maildir:inbox\n  sent: sent|' "$S/letterbox.yaml"
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp" "$S/sent/new" "$S/sent/cur" "$S/sent/tmp"
lbs() { lb -C "$S" "$@"; }
# put DIR NAME FROM TO SUBJECT MESSAGE-ID BODY [HEADER LINES]
put() {
	{
		printf 'From: %s\nTo: %s\nSubject: %s\n' "$3" "$4" "$5"
		printf 'Date: %s\nMessage-ID: <%s>\n' "$(date -R)" "$6"
		[ -n "${8:-}" ] && printf '%s\n' "$8"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' "$7"
	} >"$S/$1/../tmp/$2"
	mv "$S/$1/../tmp/$2" "$S/$1/$2"
}
field() {
	lbs inquiries list --status all --json | "$PY" -c '
import json, sys
for q in json.load(sys.stdin):
    if q["from"] == sys.argv[1]:
        print(q[sys.argv[2]]); break' "$1" "$2"
}
# the Sent folder as it is: names, sizes, modes, times and contents
not_grep() { ! grep -q "$@"; }
not_ok() { ! "$@" >/dev/null 2>"$T_TMP/check.err"; }
snapshot() { (cd "$S/sent" && find . -printf '%p %s %m %T@\n' | sort && cat new/* cur/* | md5sum); }

echo "-- Alice writes; Sam answers from his mail client"
put inbox/new a1 "Alice Adams <alice@people.test>" "Practice <news@example.org>" \
	"Can you help with my son?" "alice1.$$@people.test" "He has not slept for a week."
put inbox/new b1 "Ben Brown <ben@people.test>" "Practice <news@example.org>" \
	"Opening hours" "ben1.$$@people.test" "When are you open on Saturday?"
expect_exit 0 "poll files both" lbs poll
ALICE=$(field alice@people.test number)
BEN=$(field ben@people.test number)
same "  Alice's is new" "$(field alice@people.test status)" new
expect_exit 0 "digest --dry-run" lbs digest --dry-run
check "  lists Alice's inquiry" grep -q "Can you help with my son" "$T_TMP/out"

put sent/cur "1700000000.sam1.host:2,S" "Sam Smith <news@example.org>" \
	"Alice Adams <alice@people.test>" "Re: Can you help with my son?" "sam1.$$@example.org" \
	"Dear Alice, yes: come on Tuesday at 3. Sam" \
	"In-Reply-To: <alice1.$$@people.test>
References: <alice1.$$@people.test>"
put sent/new "1700000001.sam2.host" "Sam Smith <news@example.org>" "Dr Who <dr@elsewhere.test>" \
	"Lunch" "sam2.$$@example.org" "See you at noon."
before=$(snapshot)
expect_exit 0 "poll reads the Sent folder" lbs poll --json
check "  --json names the answered inquiry" \
	grep -q "\"sent\":\"1700000000.sam1.host\",\"kind\":\"staff-reply\",\"inquiry\":$ALICE" "$T_TMP/out"
same "  Alice's inquiry is answered" "$(field alice@people.test status)" answered
same "  Ben's is still new (a Sent message answering nothing changes nothing)" \
	"$(field ben@people.test status)" new
lbs inquiries show "$ALICE" >"$T_TMP/show"
check "  history: answered by Sam (mail client)" \
	grep -q "reply: answered by Sam Smith <news@example.org> (mail client); copy 1" "$T_TMP/show"
check "  the conversation holds Sam's text" grep -q "Dear Alice, yes: come on Tuesday at 3" "$T_TMP/show"
check "  two messages in the conversation" grep -q "^Conversation (2 messages):" "$T_TMP/show"
same "  the Sent folder is unchanged" "$(snapshot)" "$before"
same "  nothing was created in it" "$(find "$S/sent" -type f | wc -l)" 2
expect_exit 0 "digest --dry-run" lbs digest --dry-run
check "  no longer lists Alice's inquiry" not_grep "Can you help with my son" "$T_TMP/out"
check "  still lists Ben's" grep -q "Opening hours" "$T_TMP/out"

echo "-- a second poll, and the mail client changing the flags, record nothing twice"
expect_exit 0 "poll again" lbs poll --json
same "  reports nothing from Sent" "$(grep -c staff-reply "$T_TMP/out")" 0
mv "$S/sent/cur/1700000000.sam1.host:2,S" "$S/sent/cur/1700000000.sam1.host:2,RS"
before=$(snapshot)
expect_exit 0 "poll after the flags changed" lbs poll
same "  the Sent folder is unchanged" "$(snapshot)" "$before"
lbs inquiries show "$ALICE" >"$T_TMP/show"
same "  one mail-client answer in the history" "$(grep -c "(mail client)" "$T_TMP/show")" 1
check "  still two messages" grep -q "^Conversation (2 messages):" "$T_TMP/show"

echo "-- Alice answers Sam's mail-client reply: it joins her inquiry"
put inbox/new a2 "Alice Adams <alice@people.test>" "Practice <news@example.org>" \
	"Re: Can you help with my son?" "alice2.$$@people.test" "Thank you, Tuesday is good." \
	"In-Reply-To: <sam1.$$@example.org>"
expect_exit 0 "poll" lbs poll --json
check "  joins Alice's inquiry" grep -q "\"inquiry\":$ALICE,.*\"followup\":true" "$T_TMP/out"
same "  answered -> open" "$(field alice@people.test status)" open

echo "-- a Sent folder that is missing is a warning, not a failed poll"
mv "$S/sent" "$S/sent.away"
expect_exit 0 "poll" lbs poll
check "  warns about incoming.sent" grep -q "incoming.sent" "$T_TMP/err"
check "  letterbox check says so" not_ok lbs check
check "  ... naming incoming.sent" grep -q "incoming.sent: .*sent is not a Maildir" "$T_TMP/check.err"
mv "$S/sent.away" "$S/sent"
expect_exit 0 "check with the Sent Maildir back" lbs check

