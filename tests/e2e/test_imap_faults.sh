#!/usr/bin/env bash
# letterbox poll against an IMAP server that misbehaves (tests/tools/faultimap.py,
# plain IMAP on 127.0.0.1): a FETCH that leaves a message out must not move the
# cursor past it nor hold up the messages after it (an urgent one may be among
# them), and a server that closes or stalls in the middle of a reply
# must end the poll promptly (exit 69) — never a message lost, never a poll
# that holds the lock for ever.  Each case then polls the same server, healthy
# again, and checks that every message is filed.
source "$(dirname "$0")/../lib.sh"
FX=$TOP/tests/fixtures/mail
FI_PID=
trap '[ -n "$FI_PID" ] && kill "$FI_PID" 2>/dev/null; rm -rf "$T_TMP"' EXIT

# server [tls]: a fresh faultimap with three replies (UIDs 1 2 3; UID 3 is
# $THIRD, default reply_thunderbird.eml) and a fresh site polling it with
# incoming.timeout 2s, over imaps:// with "tls".
server() {
	local tls=() url=imap ca=""
	if [ "${1:-}" = tls ]; then
		tls=(--tls "$T_TMP/cert.pem" "$T_TMP/key.pem")
		url=imaps
		ca=$T_TMP/cert.pem
	fi
	[ -n "$FI_PID" ] && { kill "$FI_PID" 2>/dev/null; wait "$FI_PID" 2>/dev/null; }
	D=$T_TMP/imap
	rm -rf "$D" "$T_TMP/s"
	mkdir -p "$D"
	"$PY" "$TOP/tests/tools/faultimap.py" --dir "$D" --port-file "$D/port" --stall 30 \
		--life 300 "${tls[@]}" --msg "$FX/reply_gmail.eml" --msg "$FX/reply_outlook.eml" \
		--msg "$FX/${THIRD:-reply_thunderbird.eml}" &
	FI_PID=$!
	for ((i = 0; i < 250; i++)); do [ -s "$D/port" ] && break; sleep 0.02; done
	make_site "$T_TMP/s"
	S=$T_TMP/s
	printf 'secret\n' >"$S/pw"
	chmod 600 "$S/pw"
	"$PY" - "$S/letterbox.yaml" "$url://127.0.0.1:$(cat "$D/port")/INBOX" "$ca" <<-'PY'
		import sys
		p, url, ca = sys.argv[1:4]
		s = open(p).read().replace("  url: maildir:inbox",
		    f"  url: {url}\n  username: test\n  password_file: pw\n  timeout: 2s"
		    + (f"\n  ca_file: {ca}" if ca else ""))
		open(p, "w").write(s)
	PY
}
faults() { printf '%s\n' "$@" >"$D/faults"; }
# The cursor's last UID (0 before one is stored).
cursor() { db "SELECT last_uid FROM poll_cursors" 2>/dev/null | grep . || echo 0; }
# inquiries: messages filed as inquiries (one that continues an earlier one's
# conversation counts too)
inquiries() {
	"$LB" -C "$S" inquiries list --status all --json |
		"$PY" -c 'import json,sys; print(sum(q["messages"] for q in json.load(sys.stdin)))'
}
# jpoll: letterbox poll --json (at most 20 s); then handled: what it handled,
# "uid:N" each, "uid:N=dup" for one found already filed.
jpoll() { timeout 20 "$LB" -C "$S" poll --json; }
handled() {
	"$PY" -c 'import json, sys
print(" ".join(o["source"] + ("=dup" if o["duplicate"] else "") for o in map(json.loads, sys.stdin)))' \
		<"$T_TMP/out"
}
# alerts: how many urgent alerts are in the outbox
alerts() { grep -l "^Subject: .*URGENT inquiry" "$S"/outbox/new/* 2>/dev/null | wc -l; }
# poll [ARGS]: letterbox [ARGS] poll, at most 20 s (the bugs this tests for hang).
# shellcheck disable=SC2120 # (called with -v through expect_exit)
poll() {
	/usr/bin/time -f '%U %S' -o "$T_TMP/cpu" timeout 20 "$LB" -C "$S" "$@" poll
}
# timed: poll; MS gets how long it took, CPU the user+system seconds.
timed() {
	local t0 rc
	t0=$(date +%s%N)
	poll >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
	CPU=$(tail -1 "$T_TMP/cpu" | awk '{print $1 + $2}')
	return $rc
}
healthy_files_all() {
	faults
	expect_exit 0 "$1: the next poll, the server healthy again" poll
	same "... files every message" "$(inquiries)" 3
	same "... and the cursor is at the last UID" "$(cursor)" 3
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
	-subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	-keyout "$T_TMP/key.pem" -out "$T_TMP/cert.pem" 2>/dev/null

echo "-- a FETCH that leaves a message out once: asked again in the same run"
server
faults "omit-body 2 1"
expect_exit 0 "omitted once" poll -v
same "... every message filed" "$(inquiries)" 3
same "... the cursor at 3" "$(cursor)" 3
check "... UID 2 was fetched again" grep -qx "fetch body 2" "$D/events.log"
grep_err "left 1 message out of a UID FETCH: asking again" "... and -v says so"

echo "-- a FETCH that always leaves a message out: the others are filed, the cursor stays before it"
server
faults "omit-body 2"
expect_exit 75 "omitted every time" jpoll
grep_err "did not send the message with UID 2 \(asked twice\)" "... says which UID, on stderr"
grep_err "the next poll tries again" "... and what happens next"
same "... the messages before and after it are filed" "$(handled)" "uid:1 uid:3"
same "... as two inquiries" "$(inquiries)" 2
same "... the cursor stays before it" "$(cursor)" 1
expect_exit 75 "... a second poll, the server still withholding it" jpoll
grep_err "did not send the message with UID 2" "... names it again"
same "... finds UID 3 already filed" "$(handled)" "uid:3=dup"
same "... files nothing twice" "$(inquiries)" 2
same "... the cursor still before it" "$(cursor)" 1
faults
expect_exit 0 "... the server healthy again" jpoll
same "... files UID 2 only" "$(handled)" "uid:2 uid:3=dup"
same "... every message filed once" "$(inquiries)" 3
same "... the cursor at the last UID" "$(cursor)" 3
expect_exit 0 "... and a poll after that" jpoll
same "... handles nothing" "$(handled)" ""
same "... files nothing twice" "$(inquiries)" 3

echo "-- the same with incoming.folders: an urgent reply after it is filed and alerted, and moved"
THIRD=inquiry_urgent.eml server
sed -i 's/^  timeout: 2s$/&\n  folders: { inquiries: Inquiries }/' "$S/letterbox.yaml"
faults "omit-body 2"
expect_exit 75 "omitted every time" jpoll
same "... the messages before and after it are filed" "$(handled)" "uid:1 uid:3"
same "... the urgent one is alerted" "$(alerts)" 1
check "... and moved out of INBOX" grep -q "^moved 3 " "$D/events.log"
same "... the cursor stays before it" "$(cursor)" 1
L=$(wc -l <"$D/events.log")
expect_exit 75 "... a second poll, the server still withholding it" jpoll
same "... handles nothing" "$(handled)" ""
same "... fetches only UID 2 again" "$(tail -n +$((L + 1)) "$D/events.log" | grep "^fetch " | grep -cv " 2$")" 0
same "... alerts nothing twice" "$(alerts)" 1
faults
expect_exit 0 "... the server healthy again" jpoll
same "... files UID 2" "$(handled)" "uid:2"
same "... every message filed once" "$(inquiries)" 3
same "... the cursor passes it (UID 3 has left the mailbox)" "$(cursor)" 2
same "... one alert in all" "$(alerts)" 1

echo "-- a size FETCH that always leaves a message out"
server
faults "omit-size 2"
expect_exit 75 "no size for UID 2" jpoll
grep_err "UID 2" "... names it"
same "... the messages before and after it are filed" "$(handled)" "uid:1 uid:3"
same "... the cursor stays before it" "$(cursor)" 1
healthy_files_all "no size for UID 2"

echo "-- a message expunged by another client between SEARCH and FETCH: passed"
server
faults "gone 2"
expect_exit 0 "expunged after the SEARCH" poll -v
grep_err "uid 2 was expunged by another client" "... -v says so"
same "... the others filed" "$(inquiries)" 2
same "... the cursor passes it" "$(cursor)" 3

echo "-- the server closes in the middle of a literal"
server
faults "close-mid-literal 2"
timed
RC=$?
same "poll exits 69" "$RC" 69
check "... promptly (${MS} ms < 10000)" [ "$MS" -lt 10000 ]
check "... without spinning (${CPU} s of CPU < 2)" awk -v c="$CPU" 'BEGIN { exit !(c != "" && c < 2) }'
grep_err "UID FETCH: the server closed the connection" "... says the server closed the connection"
check "... the fault happened" grep -qx "closed mid-literal 2" "$D/events.log"
same "... the cursor is not moved" "$(cursor)" 0
healthy_files_all "closed mid-literal"

echo "-- the server stalls in the middle of a literal (incoming.timeout: 2s)"
server
faults "stall-mid-literal 2"
timed
RC=$?
same "poll exits 69" "$RC" 69
check "... after the timeout (${MS} ms, 2 s <= t < 6 s)" [ "$MS" -ge 1900 -a "$MS" -lt 6000 ]
grep_err "the server sent nothing for 2 s \(incoming.timeout\)" "... says the server stalled"
same "... the cursor is not moved" "$(cursor)" 0
healthy_files_all "stalled mid-literal"

echo "-- the server stalls in the middle of a line (SELECT)"
server
faults "stall-reply SELECT"
timed
RC=$?
same "poll exits 69" "$RC" 69
check "... after the timeout (${MS} ms, 2 s <= t < 6 s)" [ "$MS" -ge 1900 -a "$MS" -lt 6000 ]
grep_err "sent nothing for 2 s" "... says so"
healthy_files_all "stalled in SELECT"

echo "-- the server accepts the connection but sends no greeting"
server
faults "stall-greeting"
timed
RC=$?
same "poll exits 69" "$RC" 69
check "... after the timeout (${MS} ms, 2 s <= t < 6 s)" [ "$MS" -ge 1900 -a "$MS" -lt 6000 ]
grep_err "cannot connect" "... says it could not connect"
healthy_files_all "no greeting"

echo "-- over TLS: the server closes in the middle of a literal (no close_notify)"
server tls
faults "close-mid-literal 2"
timed
RC=$?
same "poll exits 69" "$RC" 69
check "... promptly (${MS} ms < 10000)" [ "$MS" -lt 10000 ]
grep_err "UID FETCH: the server closed the connection" "... says the server closed the connection"
same "... the cursor is not moved" "$(cursor)" 0
healthy_files_all "TLS, closed mid-literal"

echo "-- over TLS: the server stalls in the middle of a literal"
server tls
faults "stall-mid-literal 2"
timed
RC=$?
same "poll exits 69" "$RC" 69
check "... after the timeout (${MS} ms, 2 s <= t < 6 s)" [ "$MS" -ge 1900 -a "$MS" -lt 6000 ]
grep_err "the server sent nothing for 2 s" "... says the server stalled"
healthy_files_all "TLS, stalled mid-literal"
