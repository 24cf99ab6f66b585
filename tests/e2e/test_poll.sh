#!/usr/bin/env bash
# letterbox poll against a real Dovecot (and the real bounce loop through a
# private Postfix), on 127.0.0.1: TLS, never lose, never file twice.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/servers.sh"
NOW="2026-11-25 10:00"
FX=$TOP/tests/fixtures/mail

DA() { doveadm -c "$DOVECOT_CONF" "$@"; }
save() { DA save -u "$1" -m "${3:-INBOX}" <"$2"; } # USER FILE [MAILBOX]
count() { DA mailbox status -u "$1" messages "${2:-INBOX}" 2>/dev/null | sed 's/.*messages=//'; }

# site URL [extra incoming lines]
site() {
	rm -rf "$T_TMP/s"
	make_site "$T_TMP/s"
	S=$T_TMP/s
	printf 'secret\n' >"$S/pw"
	chmod 600 "$S/pw"
	$PY - "$S/letterbox.yaml" "$1" "${2:-}" <<'PY'
import sys
p, url, extra = sys.argv[1:4]
s = open(p).read().replace("  url: maildir:inbox",
    f"  url: {url}\n  username: test\n  password_file: pw" + (("\n" + extra) if extra else ""))
open(p, "w").write(s)
PY
}
# inquiries: how many messages were filed as inquiries (a later message with the
# sender and subject of an earlier one joins its conversation: count messages)
inquiries() { lb -C "$S" inquiries list --status all --json | $PY -c 'import json,sys; print(sum(q["messages"] for q in json.load(sys.stdin)))'; }

# --- a Maildir inbox (the sample site's maildir:inbox): dedupe, and what is not a message ------
rm -rf "$T_TMP/m"
make_site "$T_TMP/m"
S=$T_TMP/m
NEW=$S/inbox/new
mkdir -p "$NEW" "$S/inbox/cur" "$S/inbox/tmp"
# mail NAME MESSAGE-ID BODY [HEADER LINES PUT FIRST]: deliver into new/
mail() {
	printf '%sFrom: Ana <ana@example.org>\nTo: news@example.org\nSubject: a question\nDate: Tue, 24 Nov 2026 10:00:00 +0000\nMessage-ID: <%s>\n\n%s\n' \
		"${4:-}" "$2" "$3" >"$NEW/$1"
}
mail 1001.a.host reused@form.example "Where do I park?"
mail 1002.b.host reused@form.example "Can I bring my dog?"
mail 1003.c.host reused@form.example "Where do I park?" "Received: from relay2.example by mx.example; Tue, 24 Nov 2026 10:05:00 +0000
Delivered-To: news@example.org
"
expect_exit 0 "maildir: three messages, one Message-ID (a web form reusing it)" lb -C "$S" poll --json
same "  the two different ones are two inquiries" "$(inquiries)" 2
same "  the same one delivered twice (another Received line) is a duplicate" \
	"$(grep -c '"duplicate":true' "$T_TMP/out")" 1
mv "$S/inbox/cur/1002.b.host:2,S" "$NEW/1002.b.host" # a crash before the move: fetched again
expect_exit 0 "  a re-fetch of the same message" lb -C "$S" poll --json
check "  is a duplicate" grep -q '"duplicate":true' "$T_TMP/out"
same "  and files nothing" "$(inquiries)" 2
# A seen record and an inquiry from before keys had digests ("mid:ID", no key): the
# record proves only the message stored with the inquiry.  A new message reusing the ID
# (the first to come by since, as after a Maildir move) is filed; the old one is not.
mail 1004.d.host legacy@form.example "Filed last week by an older letterbox."
expect_exit 0 "  a message, filed" lb -C "$S" poll --json
db "UPDATE inq_records SET key = NULL WHERE key LIKE 'mid:legacy@form.example %'"
# (as the upgrade reads such a record in: the key without its digest, and by its ref)
db "UPDATE poll_seen SET key = 'mid:legacy@form.example' WHERE key LIKE 'mid:legacy@form.example %';
    INSERT INTO poll_seen_legacy SELECT key, ref, kind FROM poll_seen WHERE key = 'mid:legacy@form.example'"
same "  and made as an older letterbox left it" \
	"$(db "SELECT kind FROM poll_seen WHERE key = 'mid:legacy@form.example'")" inquiry
mail 1005.e.host legacy@form.example "I need to talk to someone today, I am not safe."
expect_exit 0 "  a new message with that Message-ID" lb -C "$S" poll --json
check "  is not a duplicate" grep -q '"duplicate":false' "$T_TMP/out"
same "  and is filed" "$(inquiries)" 4
mv "$S/inbox/cur/1004.d.host:2,S" "$NEW/1004.moved.host" # the old one again, another name
expect_exit 0 "  the old message fetched again" lb -C "$S" poll --json
check "  is a duplicate" grep -q '"duplicate":true' "$T_TMP/out"
same "  and files nothing" "$(inquiries)" 4
# A FIFO (nobody writing to it) in new/ must not hang poll; it is skipped with a warning.
mkfifo "$NEW/1006.fifo.host"
mkdir "$NEW/1007.dir.host"
mail 1008.f.host after-fifo@example.org "Filed although a FIFO came first."
expect_exit 0 "maildir: a FIFO and a directory in new/" timeout 20 "$LB" -C "$S" poll
grep_err "1006\.fifo\.host.*FIFO" "  the warning names the FIFO"
grep_err "1007\.dir\.host.*directory" "  and the directory"
same "  the message after them is filed" "$(inquiries)" 5
check "  the FIFO is left where it is" test -p "$NEW/1006.fifo.host"
expect_exit 0 "  poll --watch, stopped by SIGTERM after 3 s" timeout -k 5 --preserve-status 3 "$LB" -C "$S" poll --watch
same "  is not woken again and again by them" "$(grep -c 1006.fifo.host "$T_TMP/err")" 1
rm -f "$NEW/1006.fifo.host"
rmdir "$NEW/1007.dir.host"
# Filed inquiries count as seen (a crash between filing and recording): by their key, so
# a different message reusing the ID is still filed.
db "DELETE FROM poll_seen; DELETE FROM poll_seen_legacy"
mv "$S/inbox/cur/1001.a.host:2,S" "$NEW/1001.a.host"
mv "$S/inbox/cur/1002.b.host:2,S" "$NEW/1002.b.host"
mail 1009.g.host reused@form.example "A third question, same Message-ID."
expect_exit 0 "maildir: the seen log lost, two filed messages fetched again and a new one" \
	lb -C "$S" poll --json
same "  the two are duplicates (known from the inquiries)" "$(grep -c '"duplicate":true' "$T_TMP/out")" 2
same "  the new one is filed" "$(inquiries)" 6
# Inquiries filed before keys had digests know only the Message-ID: it stands for one message.
db "UPDATE inq_records SET key = NULL"
db "DELETE FROM poll_seen; DELETE FROM poll_seen_legacy"
mv "$S/inbox/cur/1009.g.host:2,S" "$NEW/1009.g.host"
mail 1010.h.host reused@form.example "A fourth question, same Message-ID."
expect_exit 0 "  inquiries without a key: one fetched again and a new one" lb -C "$S" poll --json
same "  the first is a duplicate" "$(grep -c '"duplicate":true' "$T_TMP/out")" 1
same "  the new one is filed" "$(inquiries)" 7

start_postfix || { fail "the private Postfix and Dovecot start"; exit 0; }

# --- TLS: self-signed refused without ca_file; wrong password ------------------------------
site "imaps://127.0.0.1:$DOVECOT_IMAPS_PORT/INBOX"
save test "$FX/reply_gmail.eml"
expect_exit 78 "imaps to a self-signed server without ca_file" lb -C "$S" poll
grep_err "certificate" "  says it is the certificate"
same "  nothing filed" "$(inquiries)" 0
site "imaps://127.0.0.1:$DOVECOT_IMAPS_PORT/INBOX" "  ca_file: $SV_CERT"
expect_exit 0 "with ca_file" lb -C "$S" poll
same "  the reply is an inquiry" "$(inquiries)" 1
check "  and was not marked \\Seen" test -z "$(DA fetch -u test flags mailbox INBOX | grep -i seen)"
expect_exit 0 "polling again" lb -C "$S" poll --json
same "  files nothing twice" "$(inquiries)" 1

# --- every kind, --json, folders ------------------------------------------------------------
DA expunge -u test mailbox INBOX all
site "imap://127.0.0.1:$DOVECOT_IMAP_PORT/INBOX"
for f in reply_outlook reply_html_only dsn_postfix arf_complaint auto_outlook_oof broken_boundary; do
	save test "$FX/$f.eml"
done
# An unsubscribe by mail, to the address with the subscriber's real token
# (HMAC-SHA256 of list id NUL address under make_site's fixed secret).
tok=$($PY - <<'PY'
import base64, hashlib, hmac
key = bytes(range(32))
mac = hmac.new(key, b"news.example.org\0ada.lovelace@example.org", hashlib.sha256).digest()
print(base64.b32encode(mac[:10]).decode().lower())
PY
)
printf 'From: Ada Lovelace <ada.lovelace@example.org>\nTo: unsubscribe+%s@example.org\nSubject: unsubscribe\nMessage-ID: <unsub-e2e@example.org>\n\nunsubscribe\n' "$tok" >"$T_TMP/unsub.eml"
save test "$T_TMP/unsub.eml"
expect_exit 0 "poll --json over plain IMAP on loopback" lb -C "$S" poll --json
$PY - "$T_TMP/out" <<'PY' >"$T_TMP/kinds" || fail "  --json lines parse"
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert {"source", "message_id", "kind", "addresses", "reason"} <= set(o), o
    print(o["kind"], "hard" if o.get("hard") else "", o.get("inquiry", ""))
PY
same "  one line per message" "$(wc -l <"$T_TMP/kinds")" 7
check "  two human replies and the broken one are inquiries" test "$(grep -c '^inquiry' "$T_TMP/kinds")" = 3
check "  the DSN is a hard bounce" grep -q '^bounce hard' "$T_TMP/kinds"
check "  the ARF report is a complaint" grep -q '^complaint' "$T_TMP/kinds"
check "  the out-of-office is set aside" grep -q '^auto-reply' "$T_TMP/kinds"
check "  the unsubscribe (token verified) is one" grep -q '^unsubscribe' "$T_TMP/kinds"
check "  and suppresses Ada" grep -q 'unsubscribed.*ada.lovelace@example.org' <(lb -C "$S" subscribers suppressions)
check "  the broken MIME message is filed, marked unparsed" \
	test "$(lb -C "$S" inquiries list --json | $PY -c 'import json,sys; print(sum(1 for q in json.load(sys.stdin) if q["unparsed"]))')" = 1
same "  without folders the mailbox is left as it was" "$(count test)" 7
site "imap://127.0.0.1:$DOVECOT_IMAP_PORT/INBOX" "  folders: { inquiries: Inquiries, bounces: Bounces, auto_replies: Auto, unsubscribes: Unsub, failed: Failed }"
expect_exit 0 "poll with incoming.folders" lb -C "$S" poll
same "  INBOX is empty" "$(count test)" 0
same "  replies moved to Inquiries" "$(count test Inquiries)" 2
same "  the unparsed one to Failed" "$(count test Failed)" 1
same "  bounce and complaint to Bounces" "$(count test Bounces)" 2
same "  the out-of-office to Auto" "$(count test Auto)" 1
same "  the unsubscribe to Unsub" "$(count test Unsub)" 1

# --- the real bounce loop: Postfix's own DSN for an unknown local user -----------------------
DA expunge -u test mailbox INBOX all
site "imap://127.0.0.1:$DOVECOT_IMAP_PORT/INBOX"
$PY - "$S/letterbox.yaml" "$POSTFIX_PORT" "$SV_CERT" <<'PY'
import sys
p, port, ca = sys.argv[1:4]
s = open(p).read()
s = s.replace("  url: maildir:outbox", f"  url: smtp://127.0.0.1:{port}\n  ca_file: {ca}\n  connections: 1")
s = s.replace('bounce_to: "bounces+{token}@example.org"', 'bounce_to: "test+{token}@mail.testbed.test"')
open(p, "w").write(s)
PY
cat >"$S/subscribers/friends.yaml" <<'YAML'
subscribers:
  - email: nosuchuser@mail.testbed.test
    name: Nobody Here
  - email: reader@example.net
YAML
expect_exit 0 "send through Postfix to an unknown local user" lb -C "$S" send --now "$NOW"
for _ in $(seq 100); do [ "$(count test)" -ge 1 ] && break; sleep 0.1; done
same "  Postfix returned a DSN to the VERP address (in test's INBOX)" "$(count test)" 1
expect_exit 0 "poll reads it" lb -C "$S" poll --json
check "  as a hard bounce for nosuchuser@mail.testbed.test" grep -q '"kind":"bounce".*"hard":true.*nosuchuser@mail.testbed.test' "$T_TMP/out"
check "  which is now suppressed" grep -q 'hard-bounce.*nosuchuser@mail.testbed.test' <(lb -C "$S" subscribers suppressions)

# --- kill -9 in the middle of 2,000 messages; UIDVALIDITY changes: nothing twice -------------
$PY - "$FX" "$SV_DIR/mb/inbox" <<'PY'
import glob, os, re, sys
fx, out = sys.argv[1:3]
os.makedirs(os.path.dirname(out), exist_ok=True)
files = sorted(glob.glob(fx + "/reply_*.eml")) + sorted(glob.glob(fx + "/dsn_*.eml")) + \
        sorted(glob.glob(fx + "/auto_*.eml"))
with open(out, "wb") as f:
    for i in range(2000):
        raw = open(files[i % len(files)], "rb").read().replace(b"\r\n", b"\n")
        raw = re.sub(rb"(?im)^message-id:.*\n(\s.*\n)*", b"", raw, count=1)
        raw = b"Message-ID: <crash-%d@test.example>\n" % i + raw
        raw = re.sub(rb"(?m)^From ", b">From ", raw)
        f.write(b"From t@example Thu Nov 26 10:00:00 2026\n" + raw.rstrip(b"\n") + b"\n\n")
PY
chown -R 5000:5000 "$SV_DIR/mb"
DA import -u bulk -s "mbox:$SV_DIR/mb:INBOX=$SV_DIR/mb/inbox" "" all
same "2,000 messages in bulk's INBOX" "$(count bulk)" 2000
site "imap://127.0.0.1:$DOVECOT_IMAP_PORT/INBOX"
sed -i 's/  username: test/  username: bulk/' "$S/letterbox.yaml"
kills=0
for delay in 0.05 0.1 0.2; do
	"$LB" -C "$S" poll >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
	wait "$pid" 2>/dev/null
done
expect_exit 0 "after $kills kill -9s, poll again to the end" lb -C "$S" poll
seen=$(db "SELECT count(*) FROM poll_seen")
same "  every message recorded once" "$seen" 2000
humans=$($PY -c "
import glob; r=len(glob.glob('$FX/reply_*.eml')); d=len(glob.glob('$FX/dsn_*.eml')); a=len(glob.glob('$FX/auto_*.eml'))
print(sum(1 for i in range(2000) if i % (r+d+a) < r))")
same "  every human reply filed exactly once" "$(inquiries)" "$humans"
DA mailbox delete -u bulk INBOX >/dev/null 2>&1 || DA expunge -u bulk mailbox INBOX all
DA import -u bulk -s "mbox:$SV_DIR/mb:INBOX=$SV_DIR/mb/inbox" "" all
expect_exit 0 "the mailbox recreated (new UIDVALIDITY): poll" lb -C "$S" -v poll
same "  files nothing twice" "$(inquiries)" "$humans"
grep -q "2000 already filed" "$T_TMP/out" && pass "  all 2000 recognised as already filed" || fail "  all 2000 recognised as already filed: $(cat "$T_TMP/out")"

# --- one poll at a time -----------------------------------------------------------------------
exec 9>"$S/state/lock.poll"
flock 9
expect_exit 75 "a second poll while one runs" lb -C "$S" poll
exec 9>&-

# --- wrong password last: Dovecot slows down later logins after a failure --------------------
printf 'wrong\n' >"$S/pw"
expect_exit 78 "a wrong password" lb -C "$S" poll
check "  the password is not echoed" test -z "$(grep -l wrong "$T_TMP/err")"
