#!/usr/bin/env bash
# Signing up through a real lighttpd on 127.0.0.1: the form, the request
# (same-origin, validation, the same page for every address, the honeypot,
# the limits), the confirmation mail in the Maildir outbox, its link
# followed (GET shows a button, POST subscribes, twice adds once), forged,
# altered and expired tokens, a suppressed address re-subscribed, the
# consent record and `subscribers consent`.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/servers.sh"

S=$T_TMP/site
make_site "$S"
start_lighttpd "$S" || { fail "lighttpd did not start"; exit 1; }
ORIGIN="http://127.0.0.1:$WEB_PORT"
MINT=$(tool confirm_token) || { fail "tests/tools/confirm_token"; exit 1; }

req() {
	local m=$1 p=$2; shift 2
	curl -s -o "$T_TMP/b" -D "$T_TMP/h" -w '%{http_code}' -X "$m" "$@" "$WEB_BASE$p"
}
hdr() { grep -i "^$1:" "$T_TMP/h" | head -1 | cut -d: -f2- | sed 's/^ //; s/\r$//'; }
# sign_up EMAIL [curl args]: POST the form from our own page; prints the status
sign_up() {
	local e=$1; shift
	req POST /subscribe -H "Origin: $ORIGIN" --data-urlencode "email=$e" "$@"
}
mails() { find "$S/outbox/new" -type f 2>/dev/null | wc -l; }
# link_in FILE: the token of the confirmation link in a mail's text part
link_in() {
	$PY - "$1" <<'PY'
import email, re, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
for p in m.walk():
    if p.get_content_type() == 'text/plain':
        t = p.get_payload(decode=True).decode()
        print(re.search(r'/confirm/([A-Za-z0-9._~-]+)', t).group(1))
PY
}
newest() { ls -t "$S"/outbox/new/* | head -1; }
list_sum() { md5sum <"$S/subscribers/friends.yaml"; }

# Without web.url there is no link to send: closed, and the log says why.
set_web_url "$S"
same "no web.url: /subscribe is closed (503)" "$(req GET /subscribe)" 503
check "  the log names web.url" grep -q "web.url" "$WEB_LOG"
set_web_url "$S" "$WEB_BASE"

# ---- the form
same "GET /subscribe" "$(req GET /subscribe)" 200
check "  an email field" grep -q '<input type="email" id="email" name="email"' "$T_TMP/b"
check "  a name field" grep -q 'name="name"' "$T_TMP/b"
check "  posts to itself under the script's base" grep -q 'action="/news/subscribe"' "$T_TMP/b"
check "  the honeypot hidden by a class" grep -q '<div class="hp" aria-hidden="true">' "$T_TMP/b"
check "  no inline style anywhere" sh -c "! grep -q 'style=' '$T_TMP/b'"
check "  the default consent text" grep -q "unsubscribe at any time" "$T_TMP/b"
check "  one list: no choice offered" sh -c "! grep -q '<select' '$T_TMP/b'"
check "  the stylesheet hides .hp" sh -c "curl -s '$WEB_BASE/static/letterbox.css' | grep -q '^\.hp{'"
same "HEAD /subscribe" "$(curl -s -o /dev/null -w '%{http_code}' -I "$WEB_BASE/subscribe")" 200
same "PUT /subscribe: 405" "$(req PUT /subscribe)" 405
same "  Allow" "$(hdr Allow)" "GET, HEAD, POST"
same "DELETE /confirm/x: 405" "$(req DELETE /confirm/abc)" 405

# web.consent, escaped; several public lists: a choice, named by their titles
printf '  consent: "Yes, send me <b>news</b> & tips."\n' >>"$S/letterbox.yaml"
printf 'name: Parents & carers\npublic: true\nsubscribers:\n' >"$S/subscribers/parents.yaml"
printf 'name: Staff only\nsubscribers:\n' >"$S/subscribers/staff.yaml"
printf 'public: true\n' >>"$S/subscribers/friends.yaml"
req GET /subscribe >/dev/null
check "web.consent shown, escaped" grep -q 'Yes, send me &lt;b&gt;news&lt;/b&gt; &amp; tips.' "$T_TMP/b"
check "several public lists: a choice" grep -q '<select id="list" name="list">' "$T_TMP/b"
check "  with the list's name, escaped" grep -q '<option value="parents">Parents &amp; carers</option>' "$T_TMP/b"
check "  a list that is not public is not offered" sh -c "! grep -q 'staff' '$T_TMP/b'"
expect_exit 0 "check accepts public: in list files" "$LB" -C "$S" check
same "a list that is not offered: the form again (400)" "$(sign_up z@example.org --data-urlencode list=staff)" 400
check "  saying so" grep -q "choose a newsletter" "$T_TMP/b"
same "  nothing sent" "$(mails)" 0

# ---- refused outright: another site's form, no origin at all, a body over 64 KB
same "POST from another site: 403" "$(req POST /subscribe -H 'Origin: https://evil.example' --data-urlencode email=zoe@example.org --data-urlencode list=friends)" 403
same "POST with another site's Referer: 403" "$(req POST /subscribe -H 'Referer: https://evil.example/form' --data-urlencode email=zoe@example.org --data-urlencode list=friends)" 403
same "POST with neither Origin nor Referer: 403" "$(req POST /subscribe --data-urlencode email=zoe@example.org --data-urlencode list=friends)" 403
# Browsers post our forms with `Origin: null` (our Referrer-Policy: no-referrer); their
# Sec-Fetch-Site says where the form was
same "Origin: null alone: 403" "$(req POST /subscribe -H 'Origin: null' --data-urlencode email=zoe@example.org --data-urlencode list=friends)" 403
same "Sec-Fetch-Site: cross-site: 403" "$(req POST /subscribe -H "Origin: $ORIGIN" -H 'Sec-Fetch-Site: cross-site' --data-urlencode email=zoe@example.org --data-urlencode list=friends)" 403
same "Sec-Fetch-Site: same-site (a sibling host): 403" "$(req POST /subscribe -H 'Sec-Fetch-Site: same-site' --data-urlencode email=zoe@example.org --data-urlencode list=friends)" 403
same "  nothing sent" "$(mails)" 0
head -c 70000 /dev/zero | tr '\0' a >"$T_TMP/big"
same "a body over 64 KB: 413" "$(req POST /subscribe -H "Origin: $ORIGIN" -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @"$T_TMP/big")" 413
same "  nothing sent" "$(mails)" 0

# ---- a bad address: the form again, with a message, what was typed escaped
same "a bad address: 400" "$(sign_up 'zoe<script>@' --data-urlencode list=friends --data-urlencode 'name=Zoë <i>')" 400
check "  a clear message" grep -q "does not look like an email address" "$T_TMP/b"
check "  the address typed, escaped" grep -q 'value="zoe&lt;script&gt;@"' "$T_TMP/b"
check "  the name typed, escaped" grep -q 'value="Zoë &lt;i&gt;"' "$T_TMP/b"
check "  the list chosen stays chosen" grep -q '<option value="friends" selected>' "$T_TMP/b"
same "an empty address: 400" "$(sign_up '' --data-urlencode list=friends)" 400
same "  nothing sent" "$(mails)" 0

# ---- the same page for a new, a subscribed and a robot's request
same "a new address: 200" "$(sign_up zoe@example.org --data-urlencode list=friends --data-urlencode 'name=Zoë Quinn')" 200
cp "$T_TMP/b" "$T_TMP/page.new"
same "  one confirmation mail" "$(mails)" 1
M=$(newest)
check "  to the address" grep -q '^To: <zoe@example.org>' "$M"
check "  marked automatic" grep -q '^Auto-Submitted: auto-generated' "$M"
same "a subscriber's address, as a browser posts it (Origin: null, Sec-Fetch-Site: same-origin): 200" \
	"$(req POST /subscribe -H 'Origin: null' -H 'Sec-Fetch-Site: same-origin' --data-urlencode email=ada@example.org --data-urlencode list=friends)" 200
cmp -s "$T_TMP/b" "$T_TMP/page.new" && pass "  the very same page" || fail "  the very same page"
same "the honeypot filled: 200" "$(sign_up bot@example.org --data-urlencode list=friends --data-urlencode website=http://spam.example)" 200
cmp -s "$T_TMP/b" "$T_TMP/page.new" && pass "  the very same page" || fail "  the very same page"
same "  no mail for the robot" "$(grep -l '^To: <bot@example.org>' "$S"/outbox/new/* 2>/dev/null | wc -l)" 0
check "the sign-up never names the address in the log" sh -c "! grep -q 'zoe@example.org' '$WEB_LOG'"

# ---- the link
TOK=$(link_in "$M")
check "the mail links {web.url}/confirm/TOKEN" test -n "$TOK"
check "  the HTML part links it too" grep -q "confirm/" "$M"
BEFORE=$(list_sum)
same "GET /confirm/TOKEN: 200" "$(req GET "/confirm/$TOK")" 200
check "  a button" grep -q '<button type="submit">' "$T_TMP/b"
check "  naming the address" grep -q 'zoe@example.org' "$T_TMP/b"
same "  GET changes nothing" "$(list_sum)" "$BEFORE"
check "  no consent record yet" test -z "$(consent_records "$S")"
same "POST /confirm/TOKEN from another site: 403" "$(req POST "/confirm/$TOK" -H 'Origin: https://evil.example' -d '')" 403
same "  nothing changed" "$(list_sum)" "$BEFORE"
same "POST /confirm/TOKEN: 200" "$(req POST "/confirm/$TOK" -H "Origin: $ORIGIN" -d '')" 200
check "  says so" grep -q "You are subscribed" "$T_TMP/b"
same "  on the list, with the name" "$(grep -A1 'email: zoe@example.org' "$S/subscribers/friends.yaml" | tail -1 | sed 's/^ *//')" "name: Zoë Quinn"
check "  the list's comments kept" grep -q '^#' "$S/subscribers/friends.yaml"
same "  mailed" "$("$LB" -C "$S" subscribers list --list friends | awk '$2=="zoe@example.org"{print $3}')" active
same "  one consent record" "$(consent_records "$S" | grep -c $'\tzoe@example.org\t')" 1
same "  0600" "$(stat -c %a "$S/state/letterbox.db")" 600
IFS=$'\t' read -r c_conf c_req c_src c_list c_addr c_ip1 c_ip2 c_hash < <(consent_records "$S" | tail -1)
same "  source web, list friends" "$c_src $c_list" "web friends"
same "  both IPs" "$c_ip1 $c_ip2" "127.0.0.1 127.0.0.1"
same "  the consent text's hash" "$c_hash" "$(printf '%s' 'Yes, send me <b>news</b> & tips.' | sha256sum | cut -c1-32)"
check "  both times" sh -c "echo '$c_req $c_conf' | grep -Eq '^[0-9-]{10}T[0-9:]{8}Z [0-9-]{10}T[0-9:]{8}Z$'"
AFTER=$(list_sum)
same "confirming again: 200" "$(req POST "/confirm/$TOK" -H "Origin: $ORIGIN" -d '')" 200
same "  added once" "$(list_sum)" "$AFTER"
same "  recorded once" "$(consent_records "$S" | grep -c $'\tzoe@example.org\t')" 1
"$LB" -C "$S" subscribers consent zoe@example.org >"$T_TMP/consent"
check "subscribers consent ADDRESS shows the record" grep -q "web.*friends.*zoe@example.org.*127.0.0.1.*$c_hash" "$T_TMP/consent"
check "  its times local, with the zone" grep -qE "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} [A-Z]+ +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} [A-Z]+ " "$T_TMP/consent"
same "  --json" "$("$LB" -C "$S" subscribers consent --json | $PY -c 'import json,sys; r=json.load(sys.stdin)[0]; print(r["address"], r["source"], r["consent_sha256"])')" "zoe@example.org web $c_hash"

# ---- forged, altered, expired
ALT=$([ "${TOK:0:1}" = M ] && echo N || echo M)${TOK:1}
same "an altered token: 404" "$(req GET "/confirm/$ALT")" 404
# the payload changed to another address, the MAC kept
SWAP=$($PY - "$TOK" <<'PY'
import base64, sys
p, mac = sys.argv[1].split('.')
raw = base64.urlsafe_b64decode(p + '=' * (-len(p) % 4)).replace(b'zoe@', b'eve@')
print(base64.urlsafe_b64encode(raw).decode().rstrip('=') + '.' + mac)
PY
)
same "  another address under the same MAC: 404" "$(req POST "/confirm/$SWAP" -H "Origin: $ORIGIN" -d '')" 404
check "  nobody added" sh -c "! grep -q eve@example.org '$S/subscribers/friends.yaml'"
same "  also for POST" "$(req POST "/confirm/x${TOK}" -H "Origin: $ORIGIN" -d '')" 404
same "a made-up token: 404" "$(req GET /confirm/bm90LWEtdG9rZW4.AAAAAAAAAAAAAAAAAAAAAA)" 404
same "a recipient token: 404" "$(req GET /confirm/abcdefghijklmnop)" 404
OTHER=$T_TMP/other-state; mkdir -m 700 "$OTHER"
printf '%s\n' 1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100 >"$OTHER/secret"; chmod 600 "$OTHER/secret"
same "a token made with another secret: 404" "$(req POST "/confirm/$("$MINT" "$OTHER" "$(date +%s)" friends eve@example.org)" -H "Origin: $ORIGIN" -d '')" 404
OLD=$("$MINT" "$S/state" "$(( $(date +%s) - 8 * 86400 ))" friends old@example.org)
same "an expired token: 404" "$(req GET "/confirm/$OLD")" 404
check "  'this link has expired, sign up again'" grep -q "This link has expired" "$T_TMP/b"
check "  with a link to the form" grep -q 'href="/news/subscribe"' "$T_TMP/b"
same "  POST: 404" "$(req POST "/confirm/$OLD" -H "Origin: $ORIGIN" -d '')" 404
check "  nothing changed" test -z "$(grep old@example.org "$S/subscribers/friends.yaml"; consent_records "$S" | grep old@example.org)"
SIX=$("$MINT" "$S/state" "$(( $(date +%s) - 6 * 86400 ))" parents six@example.org)
same "a six-day-old token still works" "$(req POST "/confirm/$SIX" -H "Origin: $ORIGIN" -d '')" 200
check "  on the list it names" grep -q six@example.org "$S/subscribers/parents.yaml"

# ---- a suppressed address signs up again
"$LB" -C "$S" subscribers remove mei.chen@example.org >/dev/null
same "a removed address signs up: 200" "$(sign_up mei.chen@example.org --data-urlencode list=friends)" 200
same "  confirms: 200" "$(req POST "/confirm/$(link_in "$(newest)")" -H "Origin: $ORIGIN" -d '')" 200
same "  mailed again" "$("$LB" -C "$S" subscribers list --list friends | awk '$2=="mei.chen@example.org"{print $3}')" active
check "  a resubscribed record" grep -q $'resubscribed\tmei.chen@example.org\tconfirmed sign-up (web)' <(sup_records "$S")
same "  not added twice" "$(grep -c mei.chen@example.org "$S/subscribers/friends.yaml")" 1

# ---- limits: 3 mails per address per day, 20 per IP per hour
store_rows "$S" "DELETE FROM sup_signup"
for i in 1 2 3; do sign_up limit@example.org --data-urlencode list=friends >/dev/null; done
same "a fourth request for one address in a day: 429" "$(sign_up limit@example.org --data-urlencode list=friends)" 429
check "  with Retry-After" sh -c "[ '$(hdr Retry-After)' -gt 80000 ]"
same "  three mails, not four" "$(grep -l '^To: <limit@example.org>' "$S"/outbox/new/* | wc -l)" 3
same "  the three counted in the store, for the address and the IP" \
	"$(store_rows "$S" "SELECT kind, count(*) FROM sup_signup GROUP BY kind" | tr '\t\n' ': ')" "a:3 i:3 "
store_rows "$S" "DELETE FROM sup_signup"
pids=()
for i in $(seq 1 30); do
	sign_up "p$i@example.org" --data-urlencode list=friends >"$T_TMP/st.$i" &
	pids+=("$!")
done
wait "${pids[@]}"
same "30 requests at once from one IP: 20 pass" "$(grep -l '^200$' "$T_TMP"/st.* | wc -l)" 20
same "  10 are refused with 429" "$(grep -l '^429$' "$T_TMP"/st.* | wc -l)" 10
same "  20 mails" "$(grep -l '^To: <p[0-9]*@example.org>' "$S"/outbox/new/* | wc -l)" 20

# ---- the store busy: another process holds its write lock past the 10 s
# busy timeout.  A sign-up and a confirmation answer 503 with Retry-After
# (try again), not 429 "too many requests" nor 500.
store_rows "$S" "DELETE FROM sup_signup"
same "busy: a request to confirm first" "$(sign_up busy@example.org --data-urlencode list=friends)" 200
BUSY_TOK=$(link_in "$(newest)")
( echo "BEGIN IMMEDIATE;"; sleep 14; echo "ROLLBACK;" ) | sqlite3 "$S/state/letterbox.db" &
holder=$!
sleep 1
sign_up busy2@example.org --data-urlencode list=friends >"$T_TMP/busy.st" &
p1=$!
curl -s -o /dev/null -D "$T_TMP/busy.h2" -w '%{http_code}' -X POST -H "Origin: $ORIGIN" -d '' \
	"$WEB_BASE/confirm/$BUSY_TOK" >"$T_TMP/busy.st2" &
p2=$!
wait $p1 $p2
wait $holder
same "  the sign-up: 503" "$(cat "$T_TMP/busy.st")" 503
same "  with Retry-After" "$(hdr Retry-After)" 10
same "  the confirmation: 503" "$(cat "$T_TMP/busy.st2")" 503
check "  with Retry-After" grep -qi '^Retry-After: 10' "$T_TMP/busy.h2"
same "  once free, the confirmation goes through" "$(req POST "/confirm/$BUSY_TOK" -H "Origin: $ORIGIN" -d '')" 200

exit 0
