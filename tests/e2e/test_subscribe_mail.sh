#!/usr/bin/env bash
# Signing up by mail through a Maildir inbox (then through a real Dovecot
# on 127.0.0.1, the way poll reads a practice's mailbox): a message to subscribe.mailto
# makes `poll` send the confirmation (Reply-To the same address); a reply
# quoting its link confirms (source mail); auto-replies, bounces, someone
# else's link and a list that is not open never do.
source "$(dirname "$0")/../lib.sh"

S=$T_TMP/site
make_site "$S"
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
set_web_url "$S" https://news.example.org/news
printf 'subscribe:\n  mailto: "subscribe+{list}@example.org"\n' >>"$S/letterbox.yaml"
N=0
# deliver HEADERS BODY: into the Maildir inbox
deliver() {
	N=$((N + 1))
	printf '%s\nDate: Thu, 03 Dec 2026 10:00:00 +0000\nMessage-ID: <m%d.%s@example.net>\n\n%s\n' \
		"$1" "$N" "$RANDOM" "$2" >"$S/inbox/new/$N.$RANDOM.test"
}
poll() { lb -C "$S" poll >"$T_TMP/poll.out" 2>"$T_TMP/poll.err"; }
mails_to() { grep -l "^To: .*<$1>" "$S"/outbox/new/* 2>/dev/null | wc -l; }
token_in() {
	$PY - "$(grep -l "^To: .*<$1>" "$S"/outbox/new/* | tail -1)" <<'PY'
import email, re, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
for p in m.walk():
    if p.get_content_type() == 'text/plain':
        print(re.search(r'/confirm/([A-Za-z0-9._~-]+)', p.get_payload(decode=True).decode()).group(1))
PY
}
on_list() { grep -c "$1" "$S/subscribers/friends.yaml"; }

deliver $'From: Bea Brook <bea@example.net>\nTo: subscribe+friends@example.org\nSubject: subscribe' "please add me"
poll
same "a request by mail: poll sends a confirmation" "$(mails_to bea@example.net)" 1
M=$(grep -l '^To: .*<bea@example.net>' "$S"/outbox/new/*)
check "  Reply-To the subscribe address" grep -q '^Reply-To: <\?subscribe+friends@example.org' "$M"
check "  linking {web.url}/confirm/" test -n "$(token_in bea@example.net)"
same "  nobody added yet" "$(on_list bea@example.net)" 0
TOK=$(token_in bea@example.net)

# an auto-reply quoting the link, and a bounce of the confirmation: never confirm
deliver $'From: bea@example.net\nTo: subscribe+friends@example.org\nAuto-Submitted: auto-replied\nSubject: Out of office: Please confirm' "I am away.
> https://news.example.org/news/confirm/$TOK"
deliver $'From: MAILER-DAEMON@example.net\nReturn-Path: <>\nTo: subscribe+friends@example.org\nSubject: Undelivered Mail Returned to Sender' "This is the mail system. Your message could not be delivered.
<bea@example.net>: host mx.example.net said: 550 5.1.1 unknown user
> https://news.example.org/news/confirm/$TOK"
poll
same "an auto-reply and a bounce quoting the link: not confirmed" "$(on_list bea@example.net)" 0
same "  and no new confirmation mail" "$(mails_to bea@example.net)" 1

# someone else's reply with Bea's link: a request of their own, Bea not added
deliver $'From: eve@example.net\nTo: subscribe+friends@example.org\nSubject: Re: Please confirm' "yes
> https://news.example.org/news/confirm/$TOK"
poll
same "another sender with Bea's link: Bea not added" "$(on_list bea@example.net)" 0
same "  the sender gets a confirmation of their own" "$(mails_to eve@example.net)" 1

# Bea replies, quoting the link: subscribed, with a consent record (source mail)
deliver $'From: Bea Brook <bea@example.net>\nReturn-Path: <bea@example.net>\nTo: subscribe+friends@example.org\nSubject: Re: Please confirm your subscription' "Yes please.

On Thu, news wrote:
> To confirm, open this link (it is valid for 7 days):
>
> https://news.example.org/news/confirm/$TOK"
poll
same "a reply quoting the link confirms" "$(on_list bea@example.net)" 1
same "  with the name from the request" "$(grep -A1 'email: bea@example.net' "$S/subscribers/friends.yaml" | tail -1 | sed 's/^ *//')" "name: Bea Brook"
check "  a consent record, source mail" grep -q $'\tmail\tfriends\tbea@example.net\t' <(consent_records "$S")
same "  no third mail" "$(mails_to bea@example.net)" 1
deliver $'From: bea@example.net\nReturn-Path: <bea@example.net>\nTo: subscribe+friends@example.org\nSubject: Re: Please confirm' "again
> https://news.example.org/news/confirm/$TOK"
poll
same "replying twice adds once" "$(on_list bea@example.net)" 1
same "  one consent record" "$(consent_records "$S" | grep -c $'\tbea@example.net\t')" 1

# a list that is not open (several lists, none public), and the per-address limit
printf 'name: Staff\nsubscribers:\n' >"$S/subscribers/staff.yaml"
deliver $'From: cy@example.net\nTo: subscribe+staff@example.org\nSubject: subscribe' "x"
poll
same "a list not open for sign-up: no mail" "$(mails_to cy@example.net)" 0
grep -q "not open for sign-up" "$T_TMP/poll.err" && pass "  the poll says so" || fail "  the poll says so"
printf 'public: true\n' >>"$S/subscribers/friends.yaml"
for i in 1 2 3 4; do deliver $'From: dee@example.net\nTo: subscribe+friends@example.org\nSubject: subscribe '$i "x"; done
poll
same "four requests from one address in a day: three mails" "$(mails_to dee@example.net)" 3

# ---- the same through a real Dovecot (IMAP on 127.0.0.1)
source "$(dirname "$0")/servers.sh"
start_dovecot || { fail "dovecot did not start"; exit 1; }
rm -rf "$S"
make_site "$S"
printf 'secret\n' >"$S/pw"
chmod 600 "$S/pw"
$PY - "$S/letterbox.yaml" "imap://127.0.0.1:$DOVECOT_IMAP_PORT/INBOX" <<'PY'
import sys
p, url = sys.argv[1:3]
s = open(p).read().replace("  url: maildir:inbox", f"  url: {url}\n  username: test\n  password_file: pw")
s += 'subscribe:\n  mailto: "subscribe+{list}@example.org"\n'
open(p, "w").write(s)
PY
set_web_url "$S" https://news.example.org/news
imap_save() { doveadm -c "$DOVECOT_CONF" save -u test -m INBOX; }
printf 'From: Flo Field <flo@example.net>\nTo: subscribe+friends@example.org\nSubject: subscribe\nDate: Thu, 03 Dec 2026 10:00:00 +0000\nMessage-ID: <imap1@example.net>\n\nplease\n' | imap_save
poll
same "through IMAP: a request sends a confirmation" "$(mails_to flo@example.net)" 1
TOK=$(token_in flo@example.net)
printf 'From: flo@example.net\nTo: subscribe+friends@example.org\nAuto-Submitted: auto-replied\nSubject: Auto: Please confirm\nDate: Thu, 03 Dec 2026 10:01:00 +0000\nMessage-ID: <imap2@example.net>\n\naway\n> https://news.example.org/news/confirm/%s\n' "$TOK" | imap_save
poll
same "  an auto-reply with the link does not confirm" "$(grep -c flo@example.net "$S/subscribers/friends.yaml")" 0
printf 'From: Flo Field <flo@example.net>\nTo: subscribe+friends@example.org\nSubject: Re: Please confirm\nDate: Thu, 03 Dec 2026 10:02:00 +0000\nMessage-ID: <imap3@example.net>\n\nyes\n> https://news.example.org/news/confirm/%s\n' "$TOK" | imap_save
poll
same "  the reply confirms" "$(grep -c flo@example.net "$S/subscribers/friends.yaml")" 1
check "  a consent record, source mail" grep -q $'\tmail\tfriends\tflo@example.net\t' <(consent_records "$S")
poll
same "  polling again changes nothing" "$(grep -c flo@example.net "$S/subscribers/friends.yaml") $(consent_records "$S" | grep -c flo@example.net)" "1 1"

exit 0
