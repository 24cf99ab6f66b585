#!/usr/bin/env bash
# letterbox send over SMTP against real servers on 127.0.0.1: smtp-sink, a
# private Postfix (STARTTLS, SMTPS, AUTH), and the fault-injecting faultsmtp.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/servers.sh"
NOW="2026-11-25 10:00"

# site N URL [connections] [extra outgoing lines]: a site with N generated subscribers
site() {
	rm -rf "$T_TMP/s"
	make_site "$T_TMP/s"
	S=$T_TMP/s
	$PY - "$S/subscribers/friends.yaml" "$1" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("subscribers:\n")
    for i in range(int(sys.argv[2])):
        f.write(f"  - email: rcpt{i}@example.net\n    name: Reader {i}\n")
PY
	local extra=${4:-}
	$PY - "$S/letterbox.yaml" "$2" "${3:-2}" "$extra" <<'PY'
import sys
p, url, conns, extra = sys.argv[1:5]
s = open(p).read().replace("  url: maildir:outbox",
    f"  url: {url}\n  connections: {conns}" + (("\n" + extra) if extra else ""))
open(p, "w").write(s)
PY
}
want() { # N [SKIP...]: the expected recipients, sorted
	local n=$1; shift
	for i in $(seq 0 $((n - 1))); do echo "rcpt$i@example.net"; done | grep -vxF -f <(printf '%s\n' "$@" "") | sort
}
sink_got() { cat "$1"/* 2>/dev/null | sed -n 's/^X-Rcpt-Args: <\(rcpt[0-9]*@example.net\)>.*/\1/p' | sort; }
fault_got() { cat "$FAULT_DIR"/msg-*.eml 2>/dev/null | sed -n 's/^X-Rcpt-To: <\(rcpt[0-9]*@example.net\)>.*/\1/p' | sort; }
counts() { lb -C "$S" status --json | $PY -c "import json,sys; c=json.loads(sys.stdin.readline())['counts']; print(' '.join(str(c[k]) for k in ('sent','deferred','failed','uncertain','pending','skipped')))"; }
same() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1"; diff <(echo "$3") <(echo "$2") | head -5 | sed 's/^/       /'; fi; }

# --- smtp-sink: everyone once, right envelope, suppressed and invalid none ---------------
start_smtp_sink || fail "smtp-sink starts"
site 300 "smtp://127.0.0.1:$SINK_PORT" 4
printf '  - email: not-an-address\n' >>"$S/subscribers/friends.yaml"
lb -C "$S" subscribers remove rcpt7@example.net >/dev/null 2>&1
expect_exit 0 "send 300 over 4 connections to smtp-sink" lb -C "$S" send --now "$NOW"
same "every active subscriber exactly once; suppressed and invalid none" "$(sink_got "$SINK_DIR")" "$(want 300 rcpt7@example.net)"
f=$(grep -l '^X-Rcpt-Args: <rcpt42@example.net>' "$SINK_DIR"/* | head -1)
check "envelope sender is the VERP bounce address" grep -qE '^X-Mail-Args: <bounces\+[a-z2-7]{16}@example.org>' "$f"
check "the header To is the same person" grep -q '^To: Reader 42 <rcpt42@example.net>' "$f"
check "List-Unsubscribe-Post present" grep -q '^List-Unsubscribe-Post: List-Unsubscribe=One-Click' "$f"
check "at most 4 sessions" test "$(sink_counter sess)" -le 4
same "status: 299 sent, 2 skipped" "$(counts)" "299 0 0 0 0 2"
n=$(ls "$SINK_DIR" | wc -l)
expect_exit 0 "a second run" lb -C "$S" send --now "$NOW"
check "sends nothing more" test "$(ls "$SINK_DIR" | wc -l)" = "$n"

# --- two overlapping runs: one exits 75, nobody twice ------------------------------------------
rm -rf "$SINK_DIR"/*
site 1500 "smtp://127.0.0.1:$SINK_PORT" 1
"$LB" -C "$S" send --now "$NOW" >/dev/null 2>&1 &
first=$!
sleep 0.2
expect_exit 75 "a second send while the first runs" lb -C "$S" send --now "$NOW"
wait $first
check "the first one finishes" test $? = 0
same "nobody got two copies, everybody one" "$(sink_got "$SINK_DIR")" "$(want 1500)"

# --- kill -9 at random moments, 2000 recipients: nobody twice ------------------------------
rm -rf "$SINK_DIR"/*
site 2000 "smtp://127.0.0.1:$SINK_PORT" 2
crashes=$(kill_runs 0.1 0.25 0.4 0.6 0.8 -- "$LB" -C "$S" send --now "$NOW")
for _ in 1 2 3; do "$LB" -C "$S" send --now "$NOW" >/dev/null 2>&1; done
dups=$(sink_got "$SINK_DIR" | uniq -d | wc -l)
check "after $crashes kill -9s no recipient has two copies at the sink" test "$dups" = 0
read -r sent def fail unc pend skip <<<"$(counts)"
check "every recipient sent or uncertain ($sent sent, $unc uncertain, $pend pending)" test $((sent + unc)) = 2000 -a "$pend" = 0
check "uncertain at most 2 x 2 connections per crash" test "$unc" -le $((4 * crashes))
check "every one marked sent is at the sink" test "$(sink_got "$SINK_DIR" | sort -u | wc -l)" -ge "$sent"
expect_exit 0 "status lists the uncertain ones" lb -C "$S" status
check "  by address" test "$(grep -c '^  uncertain' "$T_TMP/out")" = "$unc"

# --- faults ----------------------------------------------------------------------------------
start_faultsmtp --defer rcpt3@ --reject rcpt5@ --421-at 20 --drop-after-data rcpt9@ || fail "faultsmtp starts"
site 40 "smtp://127.0.0.1:$FAULT_PORT" 2
expect_exit 75 "451, 550, 421 and a drop: exit 75 (deferred remain)" lb -C "$S" send --now "$NOW"
grep_err "1 recipient deferred, will retry" "says a deferral remains"
grep_err "rcpt9@example.net: connection lost after the message was sent" "names the uncertain one"
same "all others delivered once, after the 421 too" "$(fault_got)" "$(want 40 rcpt3@example.net rcpt5@example.net rcpt9@example.net)"
same "status: 37 sent, 1 deferred, 1 failed, 1 uncertain" "$(counts)" "37 1 1 1 0 0"
check "550 5.1.1 suppressed the address (hard bounce)" grep -q "hard-bounce.*rcpt5@example.net" <(lb -C "$S" subscribers suppressions)
check "... with the server's code once in the evidence, source send" grep -qE "rcpt5@example.net  send +550 5.1.1 <rcpt5@example.net>" <(lb -C "$S" subscribers suppressions)
lb -C "$S" status >"$T_TMP/status"
check "status gives each code once" grep -q "failed .*rcpt5@example.net: 550 5.1.1 <rcpt5@example.net>" "$T_TMP/status"
check "... a deferral's too" grep -q "deferred .*rcpt3@example.net: 451 4.2.0 <rcpt3@example.net>" "$T_TMP/status"
if grep -qE '451 451|550 550' "$T_TMP/status"; then fail "... never twice"; else pass "... never twice"; fi
# A reply to an inquiry: refused (not sent), or its data sent with no answer (uncertain).
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
for r in rcpt9 rcpt5; do
	printf 'From: <%s@example.net>\nTo: news@example.org\nSubject: question %s\nMessage-ID: <q.%s@example.net>\n\nA question.\n' \
		"$r" "$r" "$r" >"$S/inbox/new/$r.eml"
	lb -C "$S" poll >/dev/null 2>&1
done
printf 'Thank you.\n' >"$T_TMP/reply.md"
expect_exit 75 "a reply whose data went out with no answer" lb -C "$S" inquiries reply 1 --file "$T_TMP/reply.md"
grep_err "may have been delivered" "... says it may have been delivered"
if grep -q "not sent" "$T_TMP/err"; then fail "... and not that it was not sent"; else pass "... and not that it was not sent"; fi
check "... the history says so, once" grep -q "reply-uncertain: may have been delivered (uncertain: no reply came)" <(lb -C "$S" inquiries show 1)
expect_exit 65 "a reply refused with 550" lb -C "$S" inquiries reply 2 --file "$T_TMP/reply.md"
grep_err "not sent; its status is unchanged: refused: 550 5.1.1 <rcpt5@example.net>" "... says not sent, with the code once"
if grep -qE "perhaps|may have been" "$T_TMP/err"; then fail "... and nothing about maybe"; else pass "... and nothing about maybe"; fi
check "... the history: reply-failed: not sent" grep -q "reply-failed: not sent: refused: 550 5.1.1 <rcpt5" <(lb -C "$S" inquiries show 2)
stop_faultsmtp
start_faultsmtp || fail "a healthy faultsmtp"
sed -i "s|smtp://127.0.0.1:[0-9]*|smtp://127.0.0.1:$FAULT_PORT|" "$S/letterbox.yaml"
expect_exit 75 "a run before the backoff" lb -C "$S" send --now "2026-11-25 10:05"
check "does not retry yet" test "$(fault_got | wc -l)" = 0
expect_exit 0 "a run 20 minutes later" lb -C "$S" send --now "2026-11-25 10:20"
same "the deferred one is delivered, nobody else again" "$(fault_got)" "rcpt3@example.net"
same "status: 38 sent, 1 failed, 1 uncertain" "$(counts)" "38 0 1 1 0 0"
stop_faultsmtp

start_faultsmtp --throttle-at 30 --throttle-for 2 --slow 0.01 || fail "faultsmtp starts"
site 120 "smtp://127.0.0.1:$FAULT_PORT" 2
expect_exit 0 "454 throttling and a slow server" lb -C "$S" send --now "$NOW"
check "the server did throttle" grep -q '^454' "$FAULT_DIR/events.log"
same "slowed down, lost nobody, nobody twice" "$(fault_got)" "$(want 120)"
stop_faultsmtp

port=$(sv_free_port)
site 5 "smtp://127.0.0.1:$port" 1
expect_exit 69 "connection refused" lb -C "$S" send --now "$NOW"
same "  nobody marked failed" "$(counts)" "0 0 0 0 5 0"

# --- TLS and AUTH against a private Postfix ----------------------------------------------------
if start_postfix; then
	site 3 "smtps://127.0.0.1:$POSTFIX_SMTPS_PORT" 1 "  username: test
  password_file: pw"
	printf 'secret\n' >"$S/pw"
	chmod 600 "$S/pw"
	expect_exit 78 "SMTPS to a self-signed server without ca_file" lb -C "$S" send --now "$NOW"
	grep_err "certificate" "says it is the certificate"
	same "  nothing marked" "$(counts)" "0 0 0 0 3 0"
	printf '  ca_file: %s\n' "$SV_CERT" >>"$S/letterbox.yaml"
	sed -i "s|^  ca_file: |  ca_file: |" "$S/letterbox.yaml"
	$PY - "$S/letterbox.yaml" "$SV_CERT" <<'PY'
import sys
p, ca = sys.argv[1:3]
s = open(p).read()
s = s.replace("  ca_file: " + ca + "\n", "")
s = s.replace("  password_file: pw", "  password_file: pw\n  ca_file: " + ca)
open(p, "w").write(s)
PY
	expect_exit 0 "with ca_file and AUTH: sent" lb -C "$S" send --now "$NOW"
	for _ in $(seq 50); do [ "$(sink_got "$RELAY_DIR" | wc -l)" -ge 3 ] && break; sleep 0.2; done
	same "  through Postfix to the relay sink" "$(sink_got "$RELAY_DIR")" "$(want 3)"
	site 3 "smtp://127.0.0.1:$POSTFIX_SUBMIT_PORT" 1 "  username: test
  password_file: pw
  ca_file: $SV_CERT"
	printf 'secret\n' >"$S/pw"
	chmod 600 "$S/pw"
	expect_exit 0 "STARTTLS + AUTH on the submission port" lb -C "$S" send --now "$NOW"
	same "  3 sent" "$(counts)" "3 0 0 0 0 0"
	site 3 "smtp://127.0.0.1:$POSTFIX_SUBMIT_PORT" 1 "  username: test
  password_env: LB_TEST_PW
  ca_file: $SV_CERT"
	LB_TEST_PW=wrong expect_exit 78 "a wrong password" lb -C "$S" send --now "$NOW"
	same "  nothing marked failed" "$(counts)" "0 0 0 0 3 0"
	check "  the password is not in the output" test -z "$(grep -l wrong "$T_TMP/out" "$T_TMP/err")"
else
	fail "the private Postfix starts"
fi
