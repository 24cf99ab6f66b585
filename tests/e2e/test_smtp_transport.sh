#!/usr/bin/env bash
# The SMTP transport end to end: tests/tools/tx_send drives the transport API
# (as the campaign does) against smtp-sink, the fault-injecting faultsmtp and
# a private Postfix with STARTTLS, SMTPS and AUTH (tests/e2e/servers.sh).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/servers.sh"

if [ "$(id -u)" != 0 ]; then
	fail "test_smtp_transport needs root (smtp-sink -u, Postfix, Dovecot)"
	exit 0
fi

TX=$(tool tx_send) || { fail "building tx_send (make tool-bin)"; exit 0; }

# summary KEY [FILE]: a value from tx_send's summary line.
summary() { sed -n "s/^summary .*\<$1=\([0-9.]*\).*/\1/p" "${2:-$T_TMP/out}"; }
# outcomes KIND [FILE]: the recipients that ended with KIND, sorted.
outcomes() { awk -v k="$1" '$1 == k { print $2 }' "${2:-$T_TMP/out}" | sort; }
# want_rcpts PREFIX N [SKIP...]: PREFIX0@example.net .. PREFIX(N-1)@..., sorted, minus SKIP.
want_rcpts() {
	local p=$1 n=$2 i
	shift 2
	for ((i = 0; i < n; i++)); do echo "$p$i@example.net"; done | grep -vxF -f <(printf '%s\n' "$@" '#') | sort
}
# sink_rcpts DIR PREFIX: the recipients smtp-sink received (one per dump file).
sink_rcpts() { cat "$1"/* 2>/dev/null | sed -n "s/^X-Rcpt-Args: <\($2[0-9]*@example.net\)>.*/\1/p" | sort; }
# fault_rcpts PREFIX: the recipients faultsmtp accepted.
fault_rcpts() { cat "$FAULT_DIR"/msg-*.eml 2>/dev/null | sed -n "s/^X-Rcpt-To: <\($1[0-9]*@example.net\)>.*/\1/p" | sort; }
# same DESCRIPTION GOT WANT: pass when two lists are equal; show the difference otherwise.
same() {
	if [ "$2" = "$3" ]; then pass "$1"; else
		fail "$1"
		diff <(echo "$3") <(echo "$2") | head -6 | sed 's/^/       /'
	fi
}
# wait_for SECONDS COMMAND...: until the command succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

echo "-- smtp-sink: every recipient once, right envelope, sessions <= connections"
start_smtp_sink || { fail "smtp-sink starts"; exit 0; }
for c in 1 4; do
	quit0=$(sink_counter quit)
	expect_exit 0 "200 messages over $c connection(s)" \
		"$TX" -q -c "$c" -p "c${c}r" "smtp://127.0.0.1:$SINK_PORT" 200
	check "  summary says 200 sent" test "$(summary sent)" = 200
	same "  each recipient received exactly once" "$(sink_rcpts "$SINK_DIR" "c${c}r")" \
		"$(want_rcpts "c${c}r" 200)"
	wait_for 5 test "$(sink_counter quit)" -ge "$((quit0 + 1))"
	sleep 0.2
	sessions=$(($(sink_counter sess) - quit0))
	check "  $sessions SMTP session(s), at most $c" test "$sessions" -ge 1 -a "$sessions" -le "$c"
done
mapfile -t files < <(grep -l "^X-Rcpt-Args: <c4r" "$SINK_DIR"/*)
check "envelope sender is <news@example.org> on all 200" \
	test "$(grep -h '^X-Mail-Args:' "${files[@]}" | sort | uniq -c | awk '{print $1, $3}')" = "200 <news@example.org>"
check "EHLO names the sender's domain" grep -q '^X-Helo-Args: example.org$' "${files[0]}"
check "the message arrives intact (dot-stuffing undone)" \
	grep -qx $'\\.A line that starts with a dot\\.\r\\?' "${files[0]}"
expect_exit 0 "the null sender" "$TX" -q -f "" -p nullr "smtp://127.0.0.1:$SINK_PORT" 3
check "  MAIL FROM:<>" test "$(cat "$SINK_DIR"/* | grep -A1 '^X-Mail-Args: <>$' | grep -c 'X-Rcpt-Args: <nullr')" = 3

expect_exit 0 "rate 20/s: 30 messages over 4 connections" \
	"$TX" -q -c 4 -r 20 -p rate "smtp://127.0.0.1:$SINK_PORT" 30
secs=$(summary seconds)
check "  took $secs s (1.4 s or more at 20/s)" awk -v s="$secs" 'BEGIN { exit !(s >= 1.4 && s < 5) }'

echo "-- faultsmtp: deferred, failed, 421, drops, slow, throttled, refused"
start_faultsmtp --defer rcpt3@ --defer rcpt17@ --reject rcpt5@ --reject rcpt42@ ||
	{ fail "faultsmtp starts"; exit 0; }
expect_exit 0 "451 and 550 for some recipients" "$TX" -c 2 "smtp://127.0.0.1:$FAULT_PORT" 60
same "  451 -> DEFERRED, for those two only" "$(outcomes DEFERRED)" \
	"$(printf '%s\n' rcpt17@example.net rcpt3@example.net)"
same "  550 -> FAILED, for those two only" "$(outcomes FAILED)" \
	"$(printf '%s\n' rcpt42@example.net rcpt5@example.net)"
check "  DEFERRED carries 451 4.2.0 and the server's text" \
	grep -q '^DEFERRED rcpt3@example.net 451 4.2.0 451 4.2.0 <rcpt3@example.net>: Recipient' "$T_TMP/out"
check "  FAILED carries 550 5.1.1 (multi-line reply joined)" \
	grep -q '^FAILED rcpt5@example.net 550 5.1.1 550 5.1.1 <rcpt5@example.net>: Recipient address rejected: User unknown' "$T_TMP/out"
same "  the other 56 delivered once each" "$(fault_rcpts rcpt)" \
	"$(want_rcpts rcpt 60 rcpt3@example.net rcpt17@example.net rcpt5@example.net rcpt42@example.net)"
stop_faultsmtp

# The same faults with PIPELINING: MAIL, RCPT and DATA go in one write, and
# a refusal is followed by RSET on the same connection.
start_faultsmtp --pipelining --defer rcpt3@ --reject rcpt5@ --421-at 20 ||
	{ fail "faultsmtp starts"; exit 0; }
expect_exit 0 "PIPELINING: 451, 550 and a 421 in one run" "$TX" -c 2 "smtp://127.0.0.1:$FAULT_PORT" 40
check "  the commands were pipelined" grep -q '^pipelined MAIL' "$FAULT_DIR/events.log"
same "  451 -> DEFERRED" "$(outcomes DEFERRED)" rcpt3@example.net
same "  550 -> FAILED" "$(outcomes FAILED)" rcpt5@example.net
check "  the 421 came back NOT_SENT" test "$(grep -c '^NOT_SENT .* 421 4.3.2 ' "$T_TMP/out")" = 1
same "  the other 38 delivered once each" "$(fault_rcpts rcpt)" \
	"$(want_rcpts rcpt 40 rcpt3@example.net rcpt5@example.net)"
sessions=$(grep -c '^session' "$FAULT_DIR/events.log")
check "  the 451 and 550 did not cost a connection: $sessions sessions, at most 3 (2, and 1 after the 421)" \
	test "$sessions" -le 3
stop_faultsmtp

# A refused envelope sender is about us, not the recipients: stop (78), and
# nobody is marked failed (a 5.1.8 would otherwise suppress the whole list).
start_faultsmtp --pipelining --reject-sender nowhere.invalid || { fail "faultsmtp starts"; exit 0; }
expect_exit 78 "MAIL FROM refused (553 5.1.8): LB_ECONFIG" \
	"$TX" -c 2 -f news@nowhere.invalid "smtp://127.0.0.1:$FAULT_PORT" 10
grep_err "refuses the envelope sender: 553 5.1.8" "  says the sender was refused"
check "  no recipient FAILED, all came back NOT_SENT" \
	test "$(outcomes FAILED | wc -l) $(summary not_sent)" = "0 10"
stop_faultsmtp

# A server that drops idle clients (Postfix: smtpd_timeout, with a 421): a
# kept session that has been told so is not used for the next message.
start_faultsmtp --pipelining --idle-timeout 0.3 || { fail "faultsmtp starts"; exit 0; }
expect_exit 0 "a server that times out idle sessions, messages 1 s apart" \
	"$TX" -r 1 "smtp://127.0.0.1:$FAULT_PORT" 3
check "  the server did time them out" grep -q '^idle timeout' "$FAULT_DIR/events.log"
check "  all 3 sent at the first attempt: none came back, nothing slowed down" \
	test "$(summary sent) $(summary resubmitted) $(outcomes NOT_SENT | wc -l)" = "3 0 0"
stop_faultsmtp

start_faultsmtp --421-at 50 || fail "faultsmtp starts"
expect_exit 0 "421 in the middle of a session" "$TX" -c 2 "smtp://127.0.0.1:$FAULT_PORT" 200
check "  the server did send 421 once" test "$(grep -c '^421 at MAIL' "$FAULT_DIR/events.log")" = 1
check "  that job came back NOT_SENT with 421" test "$(grep -c '^NOT_SENT .* 421 4.3.2 ' "$T_TMP/out")" = 1
check "  summary: 200 sent, 1 resubmitted" test "$(summary sent) $(summary resubmitted)" = "200 1"
same "  after reconnecting: all 200 delivered, none lost, none twice" "$(fault_rcpts rcpt)" \
	"$(want_rcpts rcpt 200)"
stop_faultsmtp

start_faultsmtp --drop-after-data rcpt7@ || fail "faultsmtp starts"
expect_exit 0 "connection dropped after the data, before the reply" \
	"$TX" -c 2 "smtp://127.0.0.1:$FAULT_PORT" 30
check "  the server did drop it" grep -q '^drop-after-data rcpt7@' "$FAULT_DIR/events.log"
same "  UNCERTAIN for exactly that message" "$(outcomes UNCERTAIN)" rcpt7@example.net
check "  and it was not sent again" test "$(grep -c ' rcpt7@' "$T_TMP/out")" = 1
same "  the other 29 delivered once each" "$(fault_rcpts rcpt)" "$(want_rcpts rcpt 30 rcpt7@example.net)"
stop_faultsmtp

# The commit gate (the campaign holds each message there until its journal
# record is durable): everything but the last byte goes out, then the gate,
# then the last byte and the dot.  tx_send's messages have a ".line", so
# curl dot-stuffs them: the stuffed count must not end the data early.
start_faultsmtp || fail "faultsmtp starts"
expect_exit 0 "a commit gate that opens after 30 ms, 20 messages over 2 connections" \
	"$TX" -c 2 -g 30 -p gate "smtp://127.0.0.1:$FAULT_PORT" 20
check "  all 20 sent" test "$(summary sent)" = 20
same "  each recipient once" "$(fault_rcpts gate)" "$(want_rcpts gate 20)"
whole=0
for f in "$FAULT_DIR"/msg-*.eml; do
	tail -c 80 "$f" | grep -q $'0123456789\r$' && whole=$((whole + 1))
done
check "  all 20 arrived whole, up to their last byte ($whole)" test "$whole" = 20
expect_exit 0 "a gate that stays shut for one recipient" \
	"$TX" -c 2 -R 0 -x 3 -p shut "smtp://127.0.0.1:$FAULT_PORT" 10
same "  NOT_SENT for exactly that one" "$(outcomes NOT_SENT)" shut3@example.net
same "  the server took the other 9, and nothing for it" "$(fault_rcpts shut)" \
	"$(want_rcpts shut 10 shut3@example.net)"
check "  its data ended short of the dot" grep -q '^eof-in-data shut3@' "$FAULT_DIR/events.log"
stop_faultsmtp

# A message (24 MB) larger than the socket buffers: the client cannot have
# written all of it when the server drops the connection after the first line,
# so this is "not sent", not "uncertain".  (When all of a message fits in the
# buffers, the client cannot tell; then it says UNCERTAIN, the safe side.)
start_faultsmtp --drop-in-data rcpt0@ || fail "faultsmtp starts"
expect_exit 0 "connection dropped in the middle of the data" \
	"$TX" -R 1 -s 24000000 "smtp://127.0.0.1:$FAULT_PORT" 1
check "  the server did drop it (twice: sent again once)" \
	test "$(grep -c '^drop-in-data rcpt0@' "$FAULT_DIR/events.log")" = 2
check "  NOT_SENT both times, never UNCERTAIN" \
	test "$(grep -c '^NOT_SENT rcpt0@' "$T_TMP/out") $(outcomes UNCERTAIN | wc -l)" = "2 0"
stop_faultsmtp

start_faultsmtp --slow 0.1 || fail "faultsmtp starts"
expect_exit 0 "a slow server (0.1 s per reply, timeout 1 s)" \
	"$TX" -q -T 1 -c 2 "smtp://127.0.0.1:$FAULT_PORT" 6
check "  all 6 sent" test "$(summary sent)" = 6
check "  over at most 2 sessions" test "$(grep -c '^session' "$FAULT_DIR/events.log")" -le 2
stop_faultsmtp

start_faultsmtp --slow 4 || fail "faultsmtp starts"
t0=$SECONDS
expect_exit 69 "a server slower than the timeout (1 s): gives up" \
	"$TX" -q -T 1 "smtp://127.0.0.1:$FAULT_PORT" 3
check "  within seconds ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -le 4
grep_err "no reply from the server" "  says there was no reply"
stop_faultsmtp

# Replies that are not SMTP end the connection at once, instead of a wait for
# a valid one until the timeout: the message goes again on a new connection,
# unless its final "." had been sent (then it is uncertain).
start_faultsmtp --garbage-reply rcpt:g --garbage-reply rcptmix:g7@ \
	--garbage-reply dot:g5@ --garbage-reply dot:g14@ || { fail "faultsmtp starts"; exit 0; }
expect_exit 0 "20 messages, each first RCPT and 2 final dots answered with garbage (timeout 3 s)" \
	"$TX" -T 3 -c 2 -p g "smtp://127.0.0.1:$FAULT_PORT" 20
secs=$(summary seconds)
check "  took $secs s, not a timeout per message (< 10 s)" awk -v s="$secs" 'BEGIN { exit !(s < 10) }'
garbled=$(grep -c '^garbage at' "$FAULT_DIR/events.log")
check "  the server garbled 22 replies ($garbled)" test "$garbled" = 22
sessions=$(grep -c '^session' "$FAULT_DIR/events.log")
check "  each ended its connection: $sessions sessions, 22 to 24" test "$sessions" -ge 22 -a "$sessions" -le 24
check "  every first try came back NOT_SENT, saying why" \
	test "$(grep -c '^NOT_SENT g[0-9]*@example.net 0 - not sent: a reply that is not SMTP: "' "$T_TMP/out")" = 20
check "  \"250-\" then \"550\" is no verdict: none FAILED" test -z "$(outcomes FAILED)"
same "  UNCERTAIN: the two whose final dot got garbage" "$(outcomes UNCERTAIN)" \
	"$(printf '%s\n' g14@example.net g5@example.net)"
same "  the other 18 delivered once each, on a new connection" "$(fault_rcpts g)" \
	"$(want_rcpts g 20 g5@example.net g14@example.net)"
stop_faultsmtp

# ... and in curl's part of the session (the greeting, EHLO): every
# connection would meet it, so the run stops, at once.
for where in greeting ehlo; do
	start_faultsmtp --garbage-reply "$where" || { fail "faultsmtp starts"; exit 0; }
	expect_exit 69 "a $where reply that is not SMTP: LB_EUNAVAIL (timeout 5 s)" \
		"$TX" -T 5 -c 2 "smtp://127.0.0.1:$FAULT_PORT" 4
	secs=$(summary seconds)
	check "  at once ($secs s, < 2 s)" awk -v s="$secs" 'BEGIN { exit !(s < 2) }'
	grep_err 'does not speak SMTP: it said "[A-Za-z ]+"' "  says what the server said"
	check "  nobody marked, all NOT_SENT" test "$(summary not_sent)" = 4
	stop_faultsmtp
done

start_faultsmtp --throttle-at 30 --throttle-for 1 || fail "faultsmtp starts"
expect_exit 0 "454 4.7.0 throttling for 1 s" "$TX" -c 4 "smtp://127.0.0.1:$FAULT_PORT" 100
n454=$(grep -c '^454 at MAIL' "$FAULT_DIR/events.log")
check "  the server did throttle ($n454 refusals)" test "$n454" -ge 1
check "  we backed off: fewer refusals than connections x 3" test "$n454" -le 12
check "  those came back NOT_SENT and were resubmitted" \
	test "$(summary resubmitted)" = "$n454" -a "$(summary sent)" = 100
secs=$(summary seconds)
check "  slowed down (took $secs s, at least 1 s)" awk -v s="$secs" 'BEGIN { exit !(s >= 1) }'
same "  nothing lost, nothing twice" "$(fault_rcpts rcpt)" "$(want_rcpts rcpt 100)"
stop_faultsmtp

# A stop while another connection is in the middle of a message's data: that
# transfer is aborted without the final dot (removing it from curl's multi
# would send one, and deliver a truncated message).
start_faultsmtp --refuse-session 2 --stall-data 1 || fail "faultsmtp starts"
expect_exit 69 "a session refused (554) while another is sending: LB_EUNAVAIL" \
	"$TX" -c 2 -r 4 -s 24000000 "smtp://127.0.0.1:$FAULT_PORT" 2
grep_err "refused the session: 554 5.3.2" "  says the server refused the session"
check "  the one in flight came back NOT_SENT" \
	grep -q '^NOT_SENT rcpt0@example.net 0 - not sent: the campaign stopped' "$T_TMP/out"
check "  the server saw it end without the final dot" \
	wait_for 15 grep -q '^eof-in-data rcpt0@' "$FAULT_DIR/events.log"
check "  and stored nothing" test -z "$(fault_rcpts rcpt)"
stop_faultsmtp

expect_exit 69 "connection refused: LB_EUNAVAIL" "$TX" -q "smtp://127.0.0.1:$(sv_free_port)" 5
grep_err "smtp://127.0.0.1:[0-9]+: cannot connect" "  names host, port and what failed"
check "  the jobs came back NOT_SENT" test "$(summary not_sent)" = 5

echo "-- a server that never answers the final dot: the run stops, the rest stays pending"
# The campaign through letterbox send (status, a later run): outgoing.timeout 2 s.
NOW="2026-11-25 10:00"
S=$T_TMP/stall
make_site "$S"
$PY - "$S" <<'PY'
import sys
s = sys.argv[1]
with open(s + "/subscribers/friends.yaml", "w") as f:
    f.write("subscribers:\n")
    for i in range(20):
        f.write(f"  - email: rcpt{i}@example.net\n")
p = s + "/letterbox.yaml"
y = open(p).read().replace("  url: maildir:outbox",
    "  url: smtp://127.0.0.1:PORT\n  connections: 2\n  timeout: 2")
open(p, "w").write(y)
PY
counts() { lb -C "$S" status --json | $PY -c "import json,sys; c=json.loads(sys.stdin.readline())['counts']; print(' '.join(str(c[k]) for k in ('sent','uncertain','pending')))"; }
in_state() { lb -C "$S" status | awk -v s="$1" '$1 == s { sub(/:$/, "", $2); print $2 }' | sort; }
start_faultsmtp --stall-after-data rcpt || { fail "faultsmtp starts"; exit 0; }
sed -i "s|127.0.0.1:PORT|127.0.0.1:$FAULT_PORT|" "$S/letterbox.yaml"
t0=$SECONDS
expect_exit 69 "20 messages, 2 connections, timeout 2 s: stops (LB_EUNAVAIL)" lb -C "$S" send --now "$NOW"
check "  after the second timeout, not one per message ($((SECONDS - t0)) s, < 10 s)" \
	test $((SECONDS - t0)) -lt 10
grep_err "did not answer the end of 2 messages in a row" "  says why it stopped"
read -r sent unc pend <<<"$(counts)"
check "  $unc uncertain: 2 to 4 (at most 2 x connections, as after a crash)" \
	test "$unc" -ge 2 -a "$unc" -le 4
check "  the other $pend pending, none marked sent" test $((unc + pend)) = 20 -a "$sent" = 0
uncertain=$(in_state uncertain)
same "  the uncertain ones are the ones the server got" "$uncertain" \
	"$(cat "$FAULT_DIR"/stalled-*.eml | sed -n 's/^X-Rcpt-To: <\(.*\)>.*/\1/p' | sort)"
stop_faultsmtp
start_faultsmtp || { fail "faultsmtp starts"; exit 0; }
sed -i "s|smtp://127.0.0.1:[0-9]*|smtp://127.0.0.1:$FAULT_PORT|" "$S/letterbox.yaml"
expect_exit 0 "a later run against a healthy server" lb -C "$S" send --now "$NOW"
# shellcheck disable=SC2086
same "  sends the pending ones, once each, and not the uncertain ones" "$(fault_rcpts rcpt)" \
	"$(want_rcpts rcpt 20 $uncertain)"
same "  status: $((20 - unc)) sent, $unc uncertain, 0 pending" "$(counts)" "$((20 - unc)) $unc 0"
stop_faultsmtp

echo "-- private Postfix: STARTTLS, SMTPS, AUTH"
start_postfix || { fail "Postfix starts"; exit 0; }
printf 'secret\n' >"$T_TMP/pw"
chmod 600 "$T_TMP/pw"
printf 'wrong\n' >"$T_TMP/badpw"
chmod 600 "$T_TMP/badpw"

expect_exit 78 "STARTTLS, self-signed certificate, no ca_file: LB_ECONFIG" \
	"$TX" -q "smtp://127.0.0.1:$POSTFIX_PORT" 3
grep_err "certificate is not trusted" "  says the certificate is not trusted"
expect_exit 0 "STARTTLS with ca_file" \
	"$TX" -q -c 2 -a "$SV_CERT" -p tlsr "smtp://127.0.0.1:$POSTFIX_PORT" 20
check "  STARTTLS was used" wait_for 5 grep -q 'postfix/smtpd.* starttls=1 mail=' "$POSTFIX_DIR/maillog"
expect_exit 0 "tls: none on loopback: plain text" \
	"$TX" -q -n -p plainr "smtp://127.0.0.1:$POSTFIX_PORT" 2
expect_exit 78 "SMTPS without ca_file: LB_ECONFIG" \
	"$TX" -q -u test -P "$T_TMP/pw" "smtps://127.0.0.1:$POSTFIX_SMTPS_PORT" 2
expect_exit 0 "SMTPS + AUTH, password file 0600" \
	"$TX" -q -c 2 -u test -P "$T_TMP/pw" -a "$SV_CERT" -p authr \
	"smtps://127.0.0.1:$POSTFIX_SMTPS_PORT" 10
chmod 644 "$T_TMP/pw"
expect_exit 78 "a password file readable by others: LB_ECONFIG" \
	"$TX" -q -u test -P "$T_TMP/pw" -a "$SV_CERT" "smtps://127.0.0.1:$POSTFIX_SMTPS_PORT" 2
grep_err "$T_TMP/pw: the password file has mode 0644" "  names the file and its mode"
chmod 600 "$T_TMP/pw"
expect_exit 0 "STARTTLS required + AUTH (submission), password from the environment" \
	env LB_TEST_PW=secret "$TX" -q -u test -E LB_TEST_PW -a "$SV_CERT" -p subr \
	"smtp://127.0.0.1:$POSTFIX_SUBMIT_PORT" 5
expect_exit 0 "-vv logs the dialogue" env LB_TEST_PW=secret "$TX" -q -v -v -u test \
	-E LB_TEST_PW -a "$SV_CERT" -p vvr "smtp://127.0.0.1:$POSTFIX_SUBMIT_PORT" 1
check "  with AUTH hidden" grep -q 'AUTH (mechanism and credentials hidden)' "$T_TMP/err"
check "  and the 235 reply shown" grep -q '< 235 ' "$T_TMP/err"
check "  never the password (plain or base64)" \
	test "$(grep -c -e secret -e AHRlc3QAc2VjcmV0 -e c2VjcmV0 "$T_TMP/err")" = 0
check "  never the message body" test "$(grep -c 'abcdefghijklmnopqrstuvwxyz' "$T_TMP/err")" = 0

relayed() { test "$(sink_rcpts "$RELAY_DIR" "$1" | wc -l)" -ge "$2"; }
wait_for 15 relayed tlsr 20
same "Postfix relayed the STARTTLS messages, each once" "$(sink_rcpts "$RELAY_DIR" tlsr)" \
	"$(want_rcpts tlsr 20)"
wait_for 10 relayed authr 10
same "Postfix relayed the SMTPS + AUTH messages, each once" "$(sink_rcpts "$RELAY_DIR" authr)" \
	"$(want_rcpts authr 10)"
wait_for 10 relayed subr 5
same "Postfix relayed the submission messages, each once" "$(sink_rcpts "$RELAY_DIR" subr)" \
	"$(want_rcpts subr 5)"

# Last: after a failed AUTH, Dovecot delays the next ones from 127.0.0.1 (its
# anvil auth penalty, 2 s and growing; see servers.sh).
expect_exit 78 "SMTPS + AUTH, wrong password: LB_ECONFIG" \
	"$TX" -q -u test -P "$T_TMP/badpw" -a "$SV_CERT" "smtps://127.0.0.1:$POSTFIX_SMTPS_PORT" 2
grep_err "authentication as 'test' failed: 535 5.7.8" "  names the user and the server's 535"
