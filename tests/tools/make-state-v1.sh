#!/usr/bin/env bash
# Make tests/data/state-v1/: a site's state/ as letterbox 0.1.0 before the
# indexed store (commit bc0db13) wrote it, with every kind of record, for
# the upgrade tests (store/db.h).  It is committed; this script says how it
# was made and remakes it only with that release's binary:
#   git worktree add /tmp/base bc0db13 && make -C /tmp/base all
#   tests/tools/make-state-v1.sh /tmp/base/build/letterbox
# The site is tests/lib.sh's make_site (the repo's sample site, the fixed
# secret) with acknowledgements on and web.url http://127.0.0.1:8080/news.
set -euo pipefail
release=$(realpath "$1")
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/e2e/servers.sh"
LB=$release
FX=$TOP/tests/fixtures/mail
S=$T_TMP/site
make_site "$S"
set_web_url "$S" http://127.0.0.1:8080/news
sed -i 's/^  acknowledge: false/  acknowledge: true/' "$S/letterbox.yaml"
cd "$S"
"$LB" send --now "2026-11-20 09:00" healing-through-connection >/dev/null
# The demo's five replies (an inquiry, an urgent one, a linked bounce, an
# out-of-office, an unsubscribe), then more: a follow-up to the first, a
# second human reply, a full mailbox (soft bounce) twice, a complaint not
# tied to a message of ours (pending), and a second auto-reply.
cp -r "$TOP/samples" "$S/" && cp "$TOP/scripts/demo-inbox" "$S/demo-inbox"
sh ./demo-inbox >/dev/null
first=$(grep -l 'zoe.angstrom' inbox/new/* | head -1)
subject=$(sed -n 's/^Subject: //p' "$first" | head -1)
printf 'From: =?utf-8?q?Zo=C3=AB_=C3=85ngstr=C3=B6m?= <zoe.angstrom@example.org>\nTo: news@example.org\nSubject: %s\nDate: Fri, 20 Nov 2026 11:00:00 +0000\nMessage-ID: <followup-1@mail.example.org>\nIn-Reply-To: <demo-inquiry-1@mail.example.net>\nReferences: <demo-inquiry-1@mail.example.net>\n\nOne more thing: Thursday evenings would suit me best.\n' \
	"$subject" >inbox/new/1900000001.follow.localhost
cp "$FX/reply_gmail.eml" inbox/new/1900000002.gmail.localhost
# mei.chen's own message, so the full mailbox is linked (a soft bounce counts)
sent=$(grep -l '^To:.*mei.chen@example.org' outbox/new/* | head -1)
mid=$(tr -d '\r' <"$sent" | sed -n 's/^Message-ID: <\(.*\)>$/\1/p')
token=$(echo "$mid" | awk -F. '{print $(NF-2)}')
quota() { sed -e 's/dana\.full@gmail\.com/mei.chen@example.org/g' \
	-e "s/healing-through-connection\.[a-z0-9]*\.t5k2x9@example\.org/$mid/g" \
	-e "s/abcdefghijklmnop/$token/g" -e 's/^Status: 5.2.2/Status: 4.2.2/' "$FX/dsn_gmail_quota.eml"; }
quota >inbox/new/1900000003.quota.localhost
quota | sed '0,/^Message-ID/s/^Message-ID: <\(.*\)>/Message-ID: <second-\1>/' >inbox/new/1900000004.quota2.localhost
sed 's/hank@yahoo\.com/dee.whitfield@example.org/g' "$FX/arf_complaint.eml" \
	>inbox/new/1900000005.arf.localhost
cp "$FX/auto_gmail_vacation.eml" inbox/new/1900000006.vac.localhost
"$LB" poll --now "2026-11-20 12:00" >/dev/null 2>&1 || true
# Staff at work: a status, an assignee, a note, a reply (a kept copy), a
# closed inquiry purged (a second generation of messages), a removal.
"$LB" inquiries set 1 status=open assign=sam --by sam >/dev/null
"$LB" inquiries note 1 "Called back, left a message." --by sam >/dev/null
printf 'Thank you for writing.\n\nThursday evenings are possible.\n' >reply.md
"$LB" inquiries reply 1 --file reply.md --by sam >/dev/null
n=$("$LB" inquiries list --status all --json | "$PY" -c 'import json,sys; print([q["number"] for q in json.load(sys.stdin) if "ana.lopez" in q["from"]][0])')
"$LB" inquiries set "$n" status=closed --by sam >/dev/null
"$LB" inquiries purge --closed-before 2030-01-01 >/dev/null
"$LB" subscribers remove kim.lee@example.org >/dev/null 2>&1 ||
	"$LB" subscribers remove "$("$LB" subscribers list --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[-1]["address"])')" >/dev/null
# The web side: a one-click unsubscribe, and a sign-up confirmed.
cgi() { # METHOD PATH [BODY]
	local body=${3:-}
	printf '%s' "$body" | env -i PATH="$PATH" LETTERBOX_SITE="$S" REQUEST_METHOD="$1" \
		PATH_INFO="$2" SCRIPT_NAME=/news CONTENT_TYPE=application/x-www-form-urlencoded \
		CONTENT_LENGTH=${#body} HTTP_HOST=127.0.0.1:8080 REMOTE_ADDR=127.0.0.1 \
		HTTP_SEC_FETCH_SITE=same-origin SERVER_NAME=127.0.0.1 SERVER_PORT=8080 \
		"$LB" cgi
}
tok=$(grep -h -o '/news/u/[A-Za-z0-9_-]*' outbox/new/* | grep -v "$(grep -l jose.nunez outbox/new/* | head -1 | xargs grep -o '/news/u/[A-Za-z0-9_-]*' | head -1)" | head -1 | sed 's|/news/u/||')
cgi POST "/u/$tok" "List-Unsubscribe=One-Click" >/dev/null
cgi POST /subscribe "email=new.reader%40example.net&name=New+Reader&website=" >/dev/null
ctok=$("$PY" - outbox/new <<'PY'
import email, os, re, sys
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    m = email.message_from_binary_file(open(os.path.join(d, f), "rb"))
    if "new.reader" not in str(m["To"]):
        continue
    for part in m.walk():
        if part.get_content_type() == "text/plain":
            t = part.get_payload(decode=True).decode()
            print(re.search(r"/news/confirm/([A-Za-z0-9_.=-]+)", t).group(1))
            sys.exit()
PY
)
cgi POST "/confirm/$ctok" "" >/dev/null
# An IMAP mailbox's cursor (poll from a real Dovecot once).
start_dovecot >/dev/null
printf 'secret\n' >pw && chmod 600 pw
cp letterbox.yaml letterbox.yaml.maildir
"$PY" - letterbox.yaml "imap://127.0.0.1:$DOVECOT_IMAP_PORT/INBOX" <<'PY'
import sys
p, url = sys.argv[1:3]
s = open(p).read().replace("  url: maildir:inbox", f"  url: {url}\n  username: test\n  password_file: pw")
open(p, "w").write(s)
PY
doveadm -c "$DOVECOT_CONF" save -u test -m INBOX <"$FX/reply_thunderbird.eml"
"$LB" poll --now "2026-11-21 09:00" >/dev/null 2>&1
mv letterbox.yaml.maildir letterbox.yaml
stop_all
out=$TOP/tests/data/state-v1

rm -rf "$out/state"
cp -a state "$out/state"
rm -f "$out"/state/lock.* "$out"/state/inquiries/lock
# The messages poll filed (to deliver again: nothing may be filed twice).
rm -rf "$out/inbox" && mkdir -p "$out/inbox" && cp -a inbox/cur "$out/inbox/"
# What that release prints about it (the upgrade must print the same).
mkdir -p "$out/expect"
e=$out/expect
"$LB" inquiries list --status all --json >"$e/inquiries.json"
for n in 1 2 3; do "$LB" inquiries show $n >"$e/show-$n.txt"; done
"$LB" inquiries show 1 --full >"$e/show-1-full.txt"
"$LB" inquiries show 1 --copy 1 >"$e/copy-1-1.txt"
"$LB" subscribers suppressions --json >"$e/suppressions.json"
"$LB" subscribers suppressions --pending --json >"$e/pending.json"
"$LB" subscribers consent --json >"$e/consent.json"
"$LB" subscribers list --json >"$e/subscribers.json"
"$LB" status >"$e/status.txt"
find "$out/state" -type f | sort | sed "s|$out/||"
