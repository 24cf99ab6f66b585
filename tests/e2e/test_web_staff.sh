#!/usr/bin/env bash
# The staff pages (/staff/) behind lighttpd's basic auth on 127.0.0.1: who may
# enter (401 without a login, 403 for a login not in web.staff or no login
# required at all), every action as two users with the history naming each,
# CSRF (missing, wrong, another user's, expired, another origin: 403 and
# nothing changed), mail's markup shown as text, attachments as downloads,
# the CLI seeing the same store, and poll + web actions at once losing nothing.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/servers.sh"
PY=/usr/bin/python3

S=$T_TMP/site
make_site "$S"
sed -i 's|^web:$|web:\n  staff: [ann, bob]|' "$S/letterbox.yaml"
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
WEB_AUTH="ann:pw-ann bob:pw-bob eve:pw-eve" start_lighttpd "$S" || { fail "lighttpd did not start"; exit 1; }
ORIGIN="http://127.0.0.1:$WEB_PORT"

# mail FILE FROM SUBJECT BODY: a plain message in the inbox
mail() {
	printf 'From: %s\nTo: hello@example.org\nSubject: %s\nDate: Tue, 24 Nov 2026 10:00:00 +0000\nMessage-ID: <%s@people.test>\nContent-Type: text/plain; charset=utf-8\n\n%s\n' \
		"$2" "$3" "$1" "$4" >"$S/inbox/new/$1"
}
# 1: markup everywhere: name, subject, body, attachment name
cat >"$S/inbox/new/x.host" <<'EOF'
From: "<script>alert(1)</script> Ann" <xss@people.test>
To: hello@example.org
Subject: Help "><img src=x onerror=alert(1)> javascript:alert(1)
Message-ID: <x1@people.test>
Date: Tue, 24 Nov 2026 09:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=XX

--XX
Content-Type: text/plain; charset=utf-8

I need help <script>alert(2)</script> "><img src=x onerror=alert(5)> javascript:alert(3)
--XX
Content-Type: text/html; name="\"><img src=x onerror=alert(4)>javascript:.html"
Content-Disposition: attachment; filename="\"><img src=x onerror=alert(4)>javascript:.html"
Content-Transfer-Encoding: base64

PHNjcmlwdD5hbGVydCg2KTwvc2NyaXB0Pg==
--XX--
EOF
# 2: an HTML body: never rendered as HTML
cat >"$S/inbox/new/h.host" <<'EOF'
From: Hal <hal@people.test>
To: hello@example.org
Subject: In HTML
Message-ID: <h1@people.test>
Date: Tue, 24 Nov 2026 09:30:00 +0000
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<p>Hello <b>bold</b> <a href="javascript:alert(8)">link</a> <img src=x onerror=alert(9)></p>
EOF
mail a.host "Pat <pat@people.test>" "Help - my partner hurts me" "I am scared to go home tonight. He hit me again."
mail b.host "Sam <sam@people.test>" "Forms" "Which emergency contact should I put on the intake form?"
expect_exit 0 "poll files four inquiries" lb -C "$S" poll

# req USER METHOD PATH [curl args]: headers to $T_TMP/h, body to $T_TMP/b; prints the status
req() {
	local u=$1 m=$2 p=$3 auth=()
	shift 3
	[ "$u" = - ] || auth=(-u "$u:pw-$u")
	curl -s -o "$T_TMP/b" -D "$T_TMP/h" -w '%{http_code}' -X "$m" "${auth[@]}" "$@" "$WEB_BASE$p"
}
hdr() { grep -i "^$1:" "$T_TMP/h" | head -1 | cut -d: -f2- | sed 's/^ //; s/\r$//'; }
# token USER PAGE ACTION: the csrf field of the form posting to ACTION on PAGE
token() {
	req "$1" GET "$2" >/dev/null
	grep -o "action=\"/news$3\" class=\"[^\"]*\"><input type=\"hidden\" name=\"csrf\" value=\"[^\"]*\"" "$T_TMP/b" |
		head -1 | sed 's/.*value="//; s/"$//'
}
# post USER ACTION [curl args]: a form from our own origin
post() {
	local u=$1 a=$2
	shift 2
	req "$u" POST "$a" -H "Origin: $ORIGIN" "$@"
}
history() { lb -C "$S" inquiries show "$1" | sed -n '/^History:/,$p'; }

# --- who may enter ------------------------------------------------------------------------------
same "no login: 401 from the server" "$(req - GET /staff/)" 401
same "a wrong password: 401" "$(curl -s -o /dev/null -w '%{http_code}' -u ann:nope "$WEB_BASE/staff/")" 401
same "a login not in web.staff: 403" "$(req eve GET /staff/)" 403
check "  saying so" grep -q "not as one of the staff named in web.staff" "$T_TMP/b"
REQUEST_METHOD=GET PATH_INFO=/staff/ "$LB" -C "$S" cgi >"$T_TMP/direct"
check "a server that asks for no login: 403" grep -q '^Status: 403' "$T_TMP/direct"
check "  naming the README and contrib/" grep -q 'contrib/' "$T_TMP/direct"
check "  and nothing about the inquiries" bash -c "! grep -q 'pat@people.test' '$T_TMP/direct'"
same "ann: the list" "$(req ann GET /staff/)" 200
same "  Cache-Control: no-store" "$(hdr Cache-Control)" no-store
same "  Referrer-Policy same-origin, once (no-referrer makes browsers post Origin: null)" \
	"$(grep -ci '^Referrer-Policy:' "$T_TMP/h") $(hdr Referrer-Policy)" "1 same-origin"
same "  CSP with frame-ancestors 'none'" "$(hdr Content-Security-Policy)" \
	"default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'"
same "  urgent first" "$(grep -o 'class="subject"[^#]*#[0-9]* [^<]*' "$T_TMP/b" | head -1 | sed 's/.*#[0-9]* //')" "Help - my partner hurts me"
check "  counts per status" grep -q 'new <strong>4</strong>' "$T_TMP/b"
N_PAT=$(grep -o 'inquiries/[0-9]*">[^#]*#[0-9]* Help - my' "$T_TMP/b" | sed 's/inquiries\/\([0-9]*\).*/\1/')
N_SAM=$(grep -o 'inquiries/[0-9]*">#[0-9]* Forms' "$T_TMP/b" | sed 's/inquiries\/\([0-9]*\).*/\1/')
N_X=$(grep -o 'inquiries/[0-9]*">#[0-9]* Help &quot;' "$T_TMP/b" | sed 's/inquiries\/\([0-9]*\).*/\1/')
check "  three of them listed ($N_PAT $N_SAM $N_X)" test -n "$N_PAT" -a -n "$N_SAM" -a -n "$N_X"
same "  filter urgent" "$(req ann GET '/staff/?urgent=1' >/dev/null; grep -o 'class="subject"' "$T_TMP/b" | wc -l)" 1
same "  filter status=closed: none" "$(req ann GET '/staff/?status=closed' >/dev/null; grep -c 'Nothing here' "$T_TMP/b")" 1
same "  a bad status: 400" "$(req ann GET '/staff/?status=nope')" 400

# --- what came by mail is text --------------------------------------------------------------------
nomarkup() { # the page holds no tag or link from the mail
	! grep -qiE '<script|<img|href="javascript|onerror=alert[^<]*>' "$T_TMP/b"
}
req ann GET /staff/ >/dev/null
check "list: markup from mail escaped" nomarkup
check "  shown as text" grep -q 'Help &quot;&gt;&lt;img src=x onerror=alert(1)&gt; javascript:alert(1)' "$T_TMP/b"
same "the inquiry page" "$(req ann GET "/staff/inquiries/$N_X")" 200
check "  markup from mail escaped" nomarkup
check "  the name as text" grep -q '&lt;script&gt;alert(1)&lt;/script&gt; Ann' "$T_TMP/b"
check "  the body as text" grep -q 'I need help &lt;script&gt;alert(2)&lt;/script&gt; &quot;&gt;&lt;img src=x onerror=alert(5)&gt; javascript:alert(3)' "$T_TMP/b"
check "  the attachment name as text" grep -q '&quot;&gt;&lt;img src=x onerror=alert(4)&gt;javascript:.html</a>' "$T_TMP/b"
check "  linked for download" grep -q "href=\"/news/staff/inquiries/$N_X/attachments/1\" download" "$T_TMP/b"
N_H=$(lb -C "$S" inquiries list --json | $PY -c 'import json,sys; print([q["number"] for q in json.load(sys.stdin) if q["subject"] == "In HTML"][0])')
same "an HTML mail's page" "$(req ann GET "/staff/inquiries/$N_H")" 200
check "  is not rendered as HTML" nomarkup
check "  its text is there" grep -q 'Hello' "$T_TMP/b"
check "  said to be HTML" grep -q 'Sent as HTML: shown as plain text.' "$T_TMP/b"
same "the attachment" "$(req ann GET "/staff/inquiries/$N_X/attachments/1")" 200
same "  as a download" "$(hdr Content-Disposition)" "attachment; filename=\"inquiry-$N_X-attachment-1.html\""
same "  of no type a browser shows" "$(hdr Content-Type)" application/octet-stream
same "  the bytes" "$(cat "$T_TMP/b")" "<script>alert(6)</script>"
same "  no such attachment: 404" "$(req ann GET "/staff/inquiries/$N_X/attachments/2")" 404
same "  no such inquiry: 404" "$(req ann GET /staff/inquiries/999)" 404
same "  not a number: 404" "$(req ann GET /staff/inquiries/x1)" 404
same "an attachment needs a login too" "$(req - GET "/staff/inquiries/$N_X/attachments/1")" 401

# --- every action, as two users --------------------------------------------------------------------
P=/staff/inquiries/$N_PAT
tok=$(token ann /staff/ "$P/set")
same "ann takes it from the list: 303" "$(post ann "$P/set" --data-urlencode "csrf=$tok" -d assign=ann -d status=open -d next=list)" 303
same "  back to the list" "$(hdr Location)" /news/staff/
history "$N_PAT" >"$T_TMP/hist"
check "  history: status by ann" grep -qE '  ann +status: new -> open' "$T_TMP/hist"
check "  history: assign by ann" grep -qE '  ann +assign: ann' "$T_TMP/hist"
tok=$(token bob "$P" "$P/note")
same "bob adds a note: 303" "$(post bob "$P/note" --data-urlencode "csrf=$tok" --data-urlencode 'text=Called her <b>back</b>')" 303
same "  back to the inquiry" "$(hdr Location)" "/news$P"
check "  history: the note by bob" grep -qE '  bob +note: Called her <b>back</b>' <(history "$N_PAT")
req ann GET "$P" >/dev/null
check "  the page shows it as text" grep -q 'bob</span> note: Called her &lt;b&gt;back&lt;/b&gt;' "$T_TMP/b"
tok=$(token bob "$P" "$P/set")
same "bob sets the priority and assigns it to himself" "$(post bob "$P/set" --data-urlencode "csrf=$tok" -d status=open -d assign=bob -d priority=normal)" 303
check "  history: by bob" grep -qE '  bob +priority: urgent -> normal' <(history "$N_PAT")
tok=$(token ann "$P" "$P/note")
same "ann adds a note" "$(post ann "$P/note" --data-urlencode "csrf=$tok" -d text=second)" 303
check "  history: by ann" grep -qE '  ann +note: second' <(history "$N_PAT")

outbox() { find "$S/outbox/new" -type f 2>/dev/null | wc -l; }
sent0=$(outbox) # the urgent alert went there
tok=$(token ann "$P" "$P/reply")
same "ann previews a reply: 200" "$(post ann "$P/reply" --data-urlencode "csrf=$tok" -d preview=1 --data-urlencode $'body=Dear Pat,\n\nwe **will** call you <b>today</b>.\nLine two')" 200
check "  the text as it will be sent" grep -q "we \*will\* call you today." "$T_TMP/b"
check "  all of it" grep -q 'Line two' "$T_TMP/b"
check "  Re: the subject" grep -q 'Re: Help - my partner hurts me' "$T_TMP/b"
check "  the text kept in the form" grep -q "we \*\*will\*\* call you &lt;b&gt;today&lt;/b&gt;." "$T_TMP/b"
same "  nothing sent" "$(outbox)" "$sent0"
same "  nothing in the history" "$(history "$N_PAT" | grep -c reply)" 0
tok=$(grep -o "action=\"/news$P/reply\" class=\"[^\"]*\"><input type=\"hidden\" name=\"csrf\" value=\"[^\"]*\"" "$T_TMP/b" | sed 's/.*value="//; s/"$//')
same "bob cannot send it with ann's form: 403" "$(post bob "$P/reply" --data-urlencode "csrf=$tok" --data-urlencode $'body=Dear Pat,\n\nwe will call you today.')" 403
tok=$(token bob "$P" "$P/reply")
same "  with his own form: 303" "$(post bob "$P/reply" --data-urlencode "csrf=$tok" --data-urlencode $'body=Dear Pat,\n\nwe will call you today.')" 303
same "  one mail in the outbox" "$(outbox)" $((sent0 + 1))
M=$(grep -l '^To: Pat' $(find "$S/outbox/new" -type f) | head -1)
check "  threaded" grep -q '^In-Reply-To: <a.host@people.test>' "$M"
check "  Re: their subject" grep -q '^Subject: Re: Help - my partner hurts me' "$M"
history "$N_PAT" >"$T_TMP/hist"
check "  history: the reply by bob" grep -qE '  bob +reply: copy 1 sent to pat@people.test' "$T_TMP/hist"
check "  status answered by bob" grep -qE '  bob +status: open -> answered' "$T_TMP/hist"
check "  the CLI sees it" grep -q '^Status: *answered' <(lb -C "$S" inquiries show "$N_PAT")
tok=$(token ann "/staff/inquiries/$N_SAM" "/staff/inquiries/$N_SAM/set")
same "ann closes another" "$(post ann "/staff/inquiries/$N_SAM/set" --data-urlencode "csrf=$tok" -d status=closed)" 303
check "  history by ann" grep -qE '  ann +status: new -> closed' <(history "$N_SAM")
tok=$(token ann "/staff/inquiries/$N_SAM" "/staff/inquiries/$N_SAM/set")
same "a bad status: 400" "$(post ann "/staff/inquiries/$N_SAM/set" --data-urlencode "csrf=$tok" -d status=gone)" 400
same "an empty note: 400" "$(post ann "/staff/inquiries/$N_SAM/note" --data-urlencode "csrf=$(token ann "/staff/inquiries/$N_SAM" "/staff/inquiries/$N_SAM/note")" -d text=)" 400

# --- CSRF: 403 and nothing changed ----------------------------------------------------------------
Q=/staff/inquiries/$N_X
logsum() { sqlite3 -cmd ".timeout 10000" "$S/state/letterbox.db" "SELECT * FROM inq_records; SELECT * FROM inq_history; SELECT * FROM inq_thread" | md5sum; }
before=$(logsum)
good=$(token ann "$Q" "$Q/note")
same "no csrf field: 403" "$(post ann "$Q/note" -d text=x)" 403
check "  saying why" grep -q 'did not come from these pages' "$T_TMP/b"
same "a wrong one: 403" "$(post ann "$Q/note" -d text=x -d csrf=1.00000000000000000000000000000000)" 403
same "another user's: 403" "$(post bob "$Q/note" -d text=x --data-urlencode "csrf=$good")" 403
same "another action's: 403" "$(post ann "$Q/set" -d status=closed --data-urlencode "csrf=$good")" 403
same "another inquiry's: 403" "$(post ann "/staff/inquiries/$N_SAM/note" -d text=x --data-urlencode "csrf=$good")" 403
old=$($PY - "$S/state/secret" "$Q/note" <<'PY'
import hmac, hashlib, sys, time
key = bytes.fromhex(open(sys.argv[1]).read().strip())
w = int(time.time()) // (4 * 3600) - 2
msg = b"letterbox-staff-csrf\0ann\0" + sys.argv[2].encode() + b"\0" + str(w).encode()
print("%d.%s" % (w, hmac.new(key, msg, hashlib.sha256).hexdigest()[:32]))
PY
)
same "an expired one (two windows old): 403" "$(post ann "$Q/note" -d text=x --data-urlencode "csrf=$old")" 403
same "from another origin: 403" "$(req ann POST "$Q/note" -H 'Origin: http://evil.example' -d text=x --data-urlencode "csrf=$good")" 403
same "a Referer from another site: 403" "$(req ann POST "$Q/note" -H 'Referer: http://evil.example/x' -d text=x --data-urlencode "csrf=$good")" 403
same "neither Origin nor Referer: 403" "$(req ann POST "$Q/note" -d text=x --data-urlencode "csrf=$good")" 403
same "GET never changes: 405" "$(req ann GET "$Q/note?text=x&csrf=$good")" 405
same "nothing changed" "$(logsum)" "$before"
same "the good token works (same origin by Referer)" "$(req ann POST "$Q/note" -H "Referer: $ORIGIN/news$Q" -d text=ok --data-urlencode "csrf=$good")" 303

# --- poll and the web at once -------------------------------------------------------------------
for i in $(seq 1 40); do mail "c$i.host" "P$i <p$i@people.test>" "Question $i" "Body $i"; done
lb -C "$S" poll >"$T_TMP/poll.out" 2>&1 &
POLL=$!
tok=$(token ann "$Q" "$Q/note")
CURLS=()
for i in $(seq 1 20); do
	post ann "$Q/note" --data-urlencode "csrf=$tok" -d "text=while polling $i" >"$T_TMP/c$i" &
	CURLS+=("$!")
done
wait $POLL
same "poll while staff work: ends well" "$?" 0
for p in "${CURLS[@]}"; do wait "$p"; done
same "  every note answered 303" "$(cat "$T_TMP"/c* | grep -o 303 | wc -l)" 20
same "  every note is there" "$(history "$N_X" | grep -c 'while polling')" 20
same "  every message is filed" "$(lb -C "$S" inquiries list --status all --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')" 44
check "  the CGI logged nothing alarming" bash -c "! grep -qiE 'error|warning' '$WEB_LOG'"

# the store busy past its 10 s timeout (another process holds the write lock): 503 with
# Retry-After (try again), not 500; nothing written
before=$(logsum)
( echo "BEGIN IMMEDIATE;"; sleep 13; echo "ROLLBACK;" ) | sqlite3 "$S/state/letterbox.db" &
holder=$!
sleep 1
same "a note while the store is busy: 503" "$(post ann "$Q/note" -d text=busy --data-urlencode "csrf=$good")" 503
same "  Retry-After" "$(hdr Retry-After)" 10
wait $holder
same "  nothing changed" "$(logsum)" "$before"
check "  the log says the store was busy, naming it" grep -q "staff: state/letterbox.db: BEGIN IMMEDIATE: database is locked" "$WEB_LOG"

# --- campaigns and subscribers ----------------------------------------------------------------------
same "campaigns: none yet" "$(req bob GET /staff/campaigns)" 200
check "  says so" grep -q 'No campaigns yet' "$T_TMP/b"
expect_exit 0 "a campaign goes out" lb -C "$S" send --now "2026-11-25 12:00"
lb -C "$S" subscribers remove ada.lovelace@example.org >/dev/null
same "campaigns: each one's counts" "$(req bob GET /staff/campaigns)" 200
check "  sent" grep -q '<dt>Sent</dt><dd>6</dd>' "$T_TMP/b"
check "  a removal since is not a report" grep -q '<dt>Unsubscribed since</dt><dd>0</dd>' "$T_TMP/b"
same "  no-store" "$(hdr Cache-Control)" no-store
same "  staff only" "$(req eve GET /staff/campaigns)" 403
same "subscribers: search" "$(req ann GET '/staff/subscribers?q=LOVELACE')" 200
check "  finds by address, any case" grep -q 'ada.lovelace@example.org' "$T_TMP/b"
check "  says she is suppressed" grep -q '<strong>removed</strong> since' "$T_TMP/b"
check "  and only her" test "$(grep -c 'class="by"' "$T_TMP/b")" = 1
req ann GET '/staff/subscribers?q=%22Dee%22' >/dev/null
check "  by name, escaped" grep -q 'Dana &quot;Dee&quot; Whitfield' "$T_TMP/b"
same "  staff only" "$(req - GET /staff/subscribers)" 401
stok=$(token ann /staff/subscribers /staff/subscribers)
same "ann adds someone: 303" "$(post ann /staff/subscribers --data-urlencode "csrf=$stok" -d action=add -d email=new.person@example.org --data-urlencode 'name=New "Person"')" 303
same "  back to a search for them" "$(hdr Location)" "/news/staff/subscribers?q=new.person@example.org"
check "  in the list file, as the CLI writes it" grep -q 'email: new.person@example.org' "$S/subscribers/friends.yaml"
check "  the CLI lists them" grep -q 'new.person@example.org' <(lb -C "$S" subscribers list)
same "  again: not added twice" "$(post ann /staff/subscribers --data-urlencode "csrf=$stok" -d action=add -d email=new.person@example.org)" 303
same "  once in the file" "$(grep -c 'new.person@example.org' "$S/subscribers/friends.yaml")" 1
stok=$(token bob /staff/subscribers /staff/subscribers)
same "bob removes someone: 303" "$(post bob /staff/subscribers --data-urlencode "csrf=$stok" -d action=remove -d email=jose.nunez@example.org)" 303
check "  suppressed, and the evidence names bob" grep -q 'jose.nunez@example.org.*by bob' <(lb -C "$S" subscribers suppressions)
same "  a bad address: 400" "$(post bob /staff/subscribers --data-urlencode "csrf=$stok" -d action=remove -d email=nope)" 400
same "  without a csrf field: 403" "$(post bob /staff/subscribers -d action=remove -d email=mei.chen@example.org)" 403
check "  and nobody was removed" bash -c "! grep -q mei.chen <('$LB' -C '$S' subscribers suppressions)"
