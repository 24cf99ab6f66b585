#!/usr/bin/env bash
# One-click unsubscribe (RFC 8058) behind a real lighttpd on 127.0.0.1: the
# links in the newsletter, GET changes nothing, the POST exactly as Gmail
# sends it, idempotence, forged tokens, the way back (re-subscribe), and 50
# parallel unsubscribes while `send` runs.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/servers.sh"
NOW="2026-11-25 10:00"

S=$T_TMP/site
make_site "$S"
start_lighttpd "$S" || { fail "lighttpd did not start"; exit 1; }
ORIGIN=${WEB_BASE%/news}
# web.url is this server (the sample site's is make serve's), unsubscribe.url
# left to its default {web.url}/u/{token}
$PY - "$S/letterbox.yaml" "$WEB_BASE" <<'PY'
import sys
p, base = sys.argv[1], sys.argv[2]
y = open(p).read()
assert "\n  url: http://127.0.0.1:8080/news\n" in y and "unsubscribe?t=" not in y
open(p, "w").write(y.replace("\n  url: http://127.0.0.1:8080/news\n", "\n  url: %s\n" % base))
PY

req() {
	local m=$1 p=$2; shift 2
	curl -s -o "$T_TMP/b" -D "$T_TMP/h" -w '%{http_code}' -X "$m" "$@" "$WEB_BASE$p"
}
# token ADDRESS: the token, computed here from the test secret (core/token.h)
token() {
	$PY - "$1" <<'PY'
import base64, hashlib, hmac, sys
key = bytes(range(32))
mac = hmac.new(key, b"news.example.org\0" + sys.argv[1].lower().encode(), hashlib.sha256).digest()
print(base64.b32encode(mac[:10]).decode().lower())
PY
}
sup_json() { lb -C "$S" subscribers suppressions --json; }
# state ADDRESS: "reason source" of its current suppression, or "none"
state() {
	sup_json | $PY -c 'import json,sys
d=[o for o in json.load(sys.stdin) if o["address"].lower()==sys.argv[1]]
print(d[0]["reason"]+" "+d[0]["source"] if d else "none")' "$1"
}
ADA=ada.lovelace@example.org
MEI=mei.chen@example.org
TA=$(token $ADA)

expect_exit 0 "send the sample article" lb -C "$S" send --now "$NOW"
msg=$(grep -l "^To: Ada Lovelace" "$S"/outbox/new/* | head -1)
$PY - "$msg" "$WEB_BASE/u/$TA" <<'PY' && pass "the newsletter's List-Unsubscribe, -Post and footer link point to /u/TOKEN" || fail "the newsletter's links"
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
url = sys.argv[2]
assert "<" + url + ">" in m["List-Unsubscribe"], m["List-Unsubscribe"]
assert m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
assert url in m.get_body(("plain",)).get_content()
assert 'href="' + url + '"' in m.get_body(("html",)).get_content()
PY

# ---- GET: the page, no change --------------------------------------------------------------
same "GET /u/TOKEN: 200" "$(req GET "/u/$TA")" 200
check "  names the site" grep -q "Center for Relationship and Intimacy Wellbeing" "$T_TMP/b"
check "  shows the address masked" grep -q 'a\*\*\*@example.org' "$T_TMP/b"
check "  never the address itself" sh -c "! grep -qi 'lovelace' '$T_TMP/b'"
same "  one button" "$(grep -o '<button' "$T_TMP/b" | wc -l)" 1
check "  that posts to this page" grep -q "<form method=\"post\" action=\"/news/u/$TA\">" "$T_TMP/b"
check "  not cached" grep -qi '^Cache-Control: no-store' "$T_TMP/h"
check "  GET changed nothing" test -z "$(sup_records "$S")"
req HEAD "/u/$TA" -I >/dev/null
same "  nor did HEAD" "$(state $ADA)" none

# ---- the store busy past its 10 s timeout (another process holds the write lock): 503 with
# Retry-After, so that the mail provider tries again; nothing recorded
( echo "BEGIN IMMEDIATE;"; sleep 13; echo "ROLLBACK;" ) | sqlite3 "$S/state/letterbox.db" &
holder=$!
sleep 1
same "one-click POST while the store is busy: 503" "$(req POST "/u/$TA" \
	-H 'Content-Type: application/x-www-form-urlencoded' --data-raw 'List-Unsubscribe=One-Click')" 503
check "  with Retry-After" grep -qi '^Retry-After: 10' "$T_TMP/h"
wait $holder
same "  nothing recorded" "$(state $ADA)" none

# ---- POST as Gmail sends it (RFC 8058): no Origin, no Referer, no cookie --------------------
same "one-click POST: 200" "$(req POST "/u/$TA" -H 'Content-Type: application/x-www-form-urlencoded' \
	--data-raw 'List-Unsubscribe=One-Click')" 200
check "  says so" grep -q "You are unsubscribed" "$T_TMP/b"
check "  offers the way back" grep -q 'name="resubscribe"' "$T_TMP/b"
same "  recorded: unsubscribed, source web" "$(state $ADA)" "unsubscribed web"
check "  the evidence says how" grep -q 'web: one-click unsubscribe (RFC 8058' <(sup_records "$S")
check "  state/letterbox.db is 0600" test "$(stat -c %a "$S/state/letterbox.db")" = 600
expect_exit 0 "subscribers list" lb -C "$S" subscribers list
check "  shows it as unsubscribed (web)" grep -qE "^friends +$ADA +unsubscribed \(web\) +Ada Lovelace$" "$T_TMP/out"
sup_records "$S" >"$T_TMP/sup.1"
same "the same POST again: 200" "$(req POST "/u/$TA" -H 'Content-Type: application/x-www-form-urlencoded' \
	--data-raw 'List-Unsubscribe=One-Click')" 200
check "  idempotent: nothing new recorded" cmp -s <(sup_records "$S") "$T_TMP/sup.1"
same "the token in upper case is the same person" "$(req POST "/u/${TA^^}" --data-raw 'List-Unsubscribe=One-Click')" 200
check "  still nothing new" cmp -s <(sup_records "$S") "$T_TMP/sup.1"
same "GET after unsubscribing: 200" "$(req GET "/u/$TA")" 200
check "  says it is done" grep -q "You are unsubscribed" "$T_TMP/b"

# ---- forged and unknown tokens: 404, nothing written ---------------------------------------
forged=${TA:0:15}$([ "${TA:15:1}" = a ] && echo b || echo a)
same "a forged token: GET 404" "$(req GET "/u/$forged")" 404
same "  POST 404" "$(req POST "/u/$forged" --data-raw 'List-Unsubscribe=One-Click')" 404
same "the token of an address we never knew: 404" \
	"$(req POST "/u/$(token nobody@example.org)" --data-raw 'List-Unsubscribe=One-Click')" 404
same "a token too short: 404" "$(req POST "/u/${TA:0:15}" --data-raw 'List-Unsubscribe=One-Click')" 404
same "a token too long: 404" "$(req POST "/u/${TA}a" --data-raw 'List-Unsubscribe=One-Click')" 404
same "a token outside base32: 404" "$(req POST "/u/${TA:0:15}1" --data-raw 'List-Unsubscribe=One-Click')" 404
same "/u/ alone: 404" "$(req GET "/u/")" 404
check "  none of them wrote anything" cmp -s <(sup_records "$S") "$T_TMP/sup.1"
same "PUT: 405" "$(req PUT "/u/$TA")" 405
grep -i '^Allow:' "$T_TMP/h" | grep -q "GET, HEAD, POST" && pass "  Allow: GET, HEAD, POST" || fail "  Allow"
same "a body that is not a form: 415" "$(req POST "/u/$TA" -H 'Content-Type: text/plain' --data-raw 'x')" 415

# ---- the way back: re-subscribe, from our own page only ------------------------------------
same "re-subscribe without an Origin: 403" "$(req POST "/u/$TA" --data-raw 'resubscribe=1')" 403
same "re-subscribe from another site: 403" \
	"$(req POST "/u/$TA" -H 'Origin: https://evil.example' --data-raw 'resubscribe=1')" 403
same "  still unsubscribed" "$(state $ADA)" "unsubscribed web"
same "re-subscribe from our page: 200" "$(req POST "/u/$TA" -H "Origin: $ORIGIN" --data-raw 'resubscribe=1')" 200
check "  says so" grep -q "You are subscribed again" "$T_TMP/b"
check "  with the unsubscribe button again" grep -q 'name="List-Unsubscribe"' "$T_TMP/b"
same "  mailed again" "$(state $ADA)" none
check "  a resubscribed record, source web" \
	grep -qP "\tresubscribed\t$ADA\tweb: re-subscribed with the button" <(sup_records "$S")
n=$(sup_records "$S" | wc -l)
same "re-subscribe again: 200" "$(req POST "/u/$TA" -H "Origin: $ORIGIN" --data-raw 'resubscribe=1')" 200
same "  nothing new recorded" "$(sup_records "$S" | wc -l)" "$n"
same "the page's own button unsubscribes again" "$(req POST "/u/$TA" -H "Origin: $ORIGIN" \
	--data-raw 'List-Unsubscribe=One-Click&from=page')" 200
same "  recorded, source web" "$(state $ADA)" "unsubscribed web"
check "  the evidence says it was the button" grep -q "web: unsubscribed with the button" <(sup_records "$S")

# A suppression the person did not make is not lifted by a click.
expect_exit 0 "staff remove Mei" lb -C "$S" subscribers remove $MEI
TM=$(token $MEI)
same "Mei's page: 200" "$(req GET "/u/$TM")" 200
check "  no re-subscribe button for a staff removal" sh -c "! grep -q resubscribe '$T_TMP/b'"
same "Mei re-subscribes by hand-made POST: 200" "$(req POST "/u/$TM" -H "Origin: $ORIGIN" --data-raw 'resubscribe=1')" 200
same "  still removed (staff)" "$(state $MEI)" "removed staff"

# Someone deleted from the list file since the campaign: the snapshot knows the token.
sed -i '/jose.nunez@example.org/,+1d' "$S/subscribers/friends.yaml"
same "a token of the campaign's snapshot only: 200" \
	"$(req POST "/u/$(token jose.nunez@example.org)" --data-raw 'List-Unsubscribe=One-Click')" 200
same "  recorded" "$(state jose.nunez@example.org)" "unsubscribed web"

# No secret yet (nothing ever sent): no token can be ours, and nothing is created.
S2=$T_TMP/fresh
make_site "$S2"
rm "$S2/state/secret"
same "a site that never sent: 404" "$(REQUEST_METHOD=POST PATH_INFO=/u/$TA CONTENT_LENGTH=0 \
	"$LB" -C "$S2" cgi </dev/null | head -1 | tr -d '\r')" "Status: 404 Not Found"
check "  and no secret was made" test ! -e "$S2/state/secret"

# ---- 50 parallel one-click POSTs for different people while send runs -----------------------
echo "-- 50 unsubscribes during a send"
C=$T_TMP/conc
make_site "$C"
$PY - "$C" <<'PY'
import sys
s = sys.argv[1]
with open(s + "/subscribers/friends.yaml", "w") as f:
    f.write("subscribers:\n")
    for i in range(200):
        f.write(f"  - email: rcpt{i:03d}@example.net\n")
p = s + "/letterbox.yaml"
y = open(p).read().replace("  url: maildir:outbox",
    "  url: smtp://127.0.0.1:PORT\n  connections: 1\n  rate: 25/s")
open(p, "w").write(y)
PY
start_faultsmtp || { fail "faultsmtp starts"; exit 0; }
sed -i "s|127.0.0.1:PORT|127.0.0.1:$FAULT_PORT|" "$C/letterbox.yaml"
start_lighttpd "$C" || { fail "a second lighttpd"; exit 1; }
for i in $(seq 150 199); do printf 'rcpt%03d@example.net %s\n' "$i" "$(token "rcpt$i@example.net")"; done >"$T_TMP/toks"
# the first run: 100 messages at 25/s, about 4 s
lb -C "$C" send --limit 100 --now "$NOW" >"$T_TMP/send1.out" 2>&1 &
send_pid=$!
until ls "$FAULT_DIR"/msg-* >/dev/null 2>&1 || ! kill -0 $send_pid 2>/dev/null; do sleep 0.05; done
cut -d' ' -f2 "$T_TMP/toks" | xargs -P 50 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
	-H 'Content-Type: application/x-www-form-urlencoded' --data-raw 'List-Unsubscribe=One-Click' \
	"$WEB_BASE/u/{}" >"$T_TMP/codes"
kill -0 $send_pid 2>/dev/null && running=yes || running=no
wait $send_pid
rc=$?
same "  send was still running when the 50 answers came" "$running" yes
same "  the first send run ended well" "$rc" 0
same "  50 answers, all 200" "$(sort "$T_TMP/codes" | uniq -c | tr -s ' ')" " 50 200"
same "  50 records in state/suppressions, none lost" "$(sup_records "$C" | grep -c $'\tunsubscribed\trcpt')" 50
same "  one for each of the 50" "$(sup_records "$C" | grep -oP '\tunsubscribed\t\Krcpt\d+@example.net' | sort -u)" \
	"$(cut -d' ' -f1 "$T_TMP/toks")"
check "  every line whole" $PY -c 'import sys
for l in open(sys.argv[1]).read().split("\n")[:-1]:
    f = l.split("\t"); assert len(f) == 4 and f[1] == "unsubscribed" and f[3].startswith("web: "), l' <(sup_records "$C")
expect_exit 0 "  the campaign's next run" lb -C "$C" send --now "$NOW"
same "  skips the 50" "$(lb -C "$C" status --json | $PY -c 'import json,sys; c=json.loads(sys.stdin.readline())["counts"]; print(c["sent"], c["skipped"])')" "150 50"
same "  the server got 150 messages, none for them" \
	"$(grep -h '^X-Rcpt-To:' "$FAULT_DIR"/msg-* | grep -c 'rcpt1[5-9][0-9]@') $(ls "$FAULT_DIR"/msg-* | wc -l)" "0 150"
