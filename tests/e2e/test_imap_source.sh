#!/usr/bin/env bash
# The IMAP source end to end against a real Dovecot (tests/e2e/servers.sh):
# certificate checks (a self-signed server, a host name the certificate does
# not list), login, fetch after a cursor without setting \Seen, MOVE to a
# folder (and the COPY/EXPUNGE fallback), batches with bounded memory,
# headers-only fetches of large messages, and IDLE.  tests/tools/src_dump
# drives the source API the way `letterbox poll` does.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/servers.sh"

if [ "$(id -u)" != 0 ]; then
	fail "test_imap_source needs root (Dovecot)"
	exit 0
fi

SD=$(tool src_dump) || { fail "building src_dump (make tool-bin)"; exit 0; }
sd() { timeout 60 "$SD" "$@"; }

start_dovecot || { fail "starting Dovecot"; exit 0; }
CONF=$DOVECOT_CONF
IMAP=127.0.0.1:$DOVECOT_IMAP_PORT
IMAPS=$DOVECOT_IMAPS_PORT
dv() { timeout 30 doveadm -c "$CONF" "$@"; }
PW=$T_TMP/pw
printf 'secret\n' >"$PW"
chmod 600 "$PW"
printf 'wrong\n' >"$T_TMP/badpw"
chmod 600 "$T_TMP/badpw"

# More users, each with its own mailbox: nomove and noext see fewer
# capabilities after login (Dovecot lets userdb fields override settings).
cat >>"$DOVECOT_DIR/users" <<-EOF
	nomove:{PLAIN}secret:5000:5000::$DOVECOT_DIR/mail/nomove::userdb_imap_capability=UIDPLUS
	noext:{PLAIN}secret:5000:5000::$DOVECOT_DIR/mail/noext::userdb_imap_capability=IMAP4rev1
	many:{PLAIN}secret:5000:5000::$DOVECOT_DIR/mail/many
EOF
# Dovecot re-reads the file when its mtime changes, at one-second resolution.
touch -d '+2 seconds' "$DOVECOT_DIR/users"
for ((i = 0; i < 100; i++)); do dv user many >/dev/null 2>&1 && break; sleep 0.05; done

# msg N [SIZE]: a message with Message-ID <mN@example.org>, CRLF line ends.
msg() {
	printf 'From: Ann <ann@example.org>\r\nTo: test@localhost\r\nSubject: test %s\r\n' "$1"
	printf 'Message-ID: <m%s@example.org>\r\n\r\nBODY-MARKER %s\r\n' "$1" "$1"
	local i
	for ((i = 0; i < ${2:-0} / 78; i++)); do printf '%076d\r\n' "$i"; done
}
save() { msg "$2" "${3:-0}" >"$T_TMP/m$2.eml" && dv save -u "$1" -m INBOX <"$T_TMP/m$2.eml"; }
# uids USER MAILBOX: the UIDs there, one line.
uids() { dv search -u "$1" mailbox "$2" all 2>/dev/null | awk '{print $2}' | sort -n | xargs; }
msgids() { dv fetch -u "$1" hdr.message-id mailbox "$2" all 2>/dev/null | sed -n 's/^hdr.message-id: //p' | sort | xargs; }
# lines: the message lines of src_dump's output (not the "#" ones).
lines() { grep -v '^#' "$T_TMP/out"; }
same() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}

echo "-- certificates and login"
# A second certificate that names only localhost (no IP address), served by
# a stub that speaks just enough IMAP to refuse a login and records SNI.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
	-subj /CN=localhost -addext "subjectAltName=DNS:localhost" \
	-keyout "$T_TMP/key2.pem" -out "$T_TMP/cert2.pem" 2>/dev/null
"$PY" - "$T_TMP/cert2.pem" "$T_TMP/key2.pem" "$T_TMP/stub.port" "$T_TMP/sni" <<-'EOF' &
	import socket, ssl, sys
	cert, key, portfile, snifile = sys.argv[1:5]
	ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
	ctx.load_cert_chain(cert, key)
	def sni(sock, name, c):
	    with open(snifile, "a") as f:
	        f.write((name or "-") + "\n")
	ctx.sni_callback = sni
	srv = socket.socket()
	srv.bind(("127.0.0.1", 0))
	srv.listen(8)
	srv.settimeout(120)
	open(portfile, "w").write(str(srv.getsockname()[1]))
	while True:
	    try:
	        raw, _ = srv.accept()
	    except socket.timeout:
	        break
	    raw.settimeout(10)
	    try:
	        s = ctx.wrap_socket(raw, server_side=True)
	        s.sendall(b"* OK stub ready\r\n")
	        f = s.makefile("rb")
	        for line in f:
	            tag, cmd = (line.split(b" ", 2) + [b"", b""])[:2]
	            cmd = cmd.strip().upper()
	            if cmd == b"LOGIN":
	                s.sendall(tag + b" NO [AUTHENTICATIONFAILED] stub says no\r\n")
	            elif cmd == b"LOGOUT":
	                s.sendall(b"* BYE\r\n" + tag + b" OK\r\n")
	                break
	            else:
	                s.sendall(tag + b" BAD stub\r\n")
	    except (OSError, ssl.SSLError):
	        pass
	    finally:
	        raw.close()
EOF
STUB_PID=$!
SV_PIDS+=("$STUB_PID")
for ((i = 0; i < 200; i++)); do [ -s "$T_TMP/stub.port" ] && break; sleep 0.02; done
STUB=$(cat "$T_TMP/stub.port" 2>/dev/null)

expect_exit 78 "self-signed server, no ca_file: refused" \
	sd -u test -P "$PW" "imaps://localhost:$IMAPS/INBOX"
grep_err "certificate is not trusted" "the message says the certificate is not trusted"
grep_err "incoming\.ca_file" "the message suggests incoming.ca_file"
expect_exit 0 "self-signed server, its certificate in ca_file: accepted" \
	sd -u test -P "$PW" -a "$SV_CERT" "imaps://localhost:$IMAPS/INBOX"
expect_exit 0 "connecting as 127.0.0.1 (the certificate lists IP 127.0.0.1): accepted" \
	sd -u test -P "$PW" -a "$SV_CERT" "imaps://127.0.0.1:$IMAPS/"
expect_exit 78 "a certificate from another issuer in ca_file: refused" \
	sd -u test -P "$PW" -a "$T_TMP/cert2.pem" "imaps://localhost:$IMAPS/"
grep_err "not trusted" "... as not trusted"
: >"$T_TMP/sni"
expect_exit 78 "host name mismatch (certificate for localhost only, connecting as 127.0.0.1)" \
	sd -u test -P "$PW" -a "$T_TMP/cert2.pem" "imaps://127.0.0.1:$STUB/"
grep_err "is for localhost, not for this host name" "... says which names the certificate lists"
expect_exit 78 "the same certificate as localhost: verified, then the stub refuses the login" \
	sd -u test -P "$PW" -a "$T_TMP/cert2.pem" "imaps://localhost:$STUB/"
grep_err "refused the login" "... so the certificate passed"
same "SNI: none for an IP address, the host name otherwise" "$(xargs <"$T_TMP/sni")" "- localhost"
expect_exit 0 "plain imap:// to 127.0.0.1" sd -u test -P "$PW" "imap://$IMAP/"
expect_exit 78 "plain imap:// to a host that is not loopback" \
	sd -u test -P "$PW" "imap://mail.example.org/"
grep_err "clear text" "... says the password would go in clear text"
expect_exit 69 "tls: none to a host that does not resolve: unavailable, not a config error" \
	sd -u test -P "$PW" -k "imap://nonexistent.invalid/"
expect_exit 69 "nothing listening" sd -u test -P "$PW" "imap://127.0.0.1:$(sv_free_port)/"
expect_exit 69 "imaps:// to the plain port" sd -u test -P "$PW" "imaps://$IMAP/"
expect_exit 78 "a mailbox that does not exist" sd -u test -P "$PW" "imap://$IMAP/No%20Such"
grep_err "No Such" "... named, %-decoded"
expect_exit 78 "ca_file that does not exist" \
	sd -u test -P "$PW" -a "$T_TMP/none.pem" "imaps://localhost:$IMAPS/"

echo "-- fetch after a cursor"
for n in 1 2 3; do save test $n; done
expect_exit 0 "fetch everything" sd -u test -P "$PW" -o "$T_TMP" "imap://$IMAP/INBOX"
V=$(sed -n 's/^# uidvalidity //p' "$T_TMP/out")
same "three messages, in UID order" "$(lines | awk '{print $1, $4}' | xargs)" \
	"1 <m1@example.org> 2 <m2@example.org> 3 <m3@example.org>"
if cmp -s "$T_TMP/m2.eml" "$T_TMP/2.eml"; then pass "the fetched message is byte for byte the saved one"
else fail "the fetched message differs from the saved one"; fi
same "RFC822.SIZE reported" "$(lines | awk '$1 == 2 {print $2}')" "$(wc -c <"$T_TMP/m2.eml")"
expect_exit 0 "after cursor $V:1" sd -u test -P "$PW" -c "$V:1" "imap://$IMAP/INBOX"
same "only UIDs 2 and 3" "$(lines | awk '{print $1}' | xargs)" "2 3"
expect_exit 0 "after the last UID" sd -u test -P "$PW" -c "$V:3" "imap://$IMAP/INBOX"
same "nothing (\"4:*\" matching UID 3 is filtered)" "$(lines | wc -l)" 0
expect_exit 0 "another UIDVALIDITY" sd -u test -P "$PW" -c "$((V - 1)):3" "imap://$IMAP/INBOX"
same "everything again" "$(lines | awk '{print $1}' | xargs)" "1 2 3"
if dv fetch -u test flags mailbox INBOX all | grep -q Seen; then fail "\\Seen was set by fetching"
else pass "no message got \\Seen"; fi

echo "-- done"
FLAGS_BEFORE=$(dv fetch -u test 'uid flags' mailbox INBOX all)
expect_exit 0 "done without a folder" sd -u test -P "$PW" -D "imap://$IMAP/INBOX"
same "... the mailbox is exactly as it was" "$(dv fetch -u test 'uid flags' mailbox INBOX all)" \
	"$FLAGS_BEFORE"
expect_exit 0 "done with a folder, after $V:2" \
	sd -u test -P "$PW" -c "$V:2" -d Letterbox/Handled "imap://$IMAP/INBOX"
same "... the message is in the folder" "$(msgids test Letterbox/Handled)" "<m3@example.org>"
same "... and no longer in INBOX" "$(uids test INBOX)" "1 2"
expect_exit 0 "again, into the folder that now exists" \
	sd -u test -P "$PW" -c "$V:1" -d Letterbox/Handled "imap://$IMAP/INBOX"
same "... moved too" "$(msgids test Letterbox/Handled)" "<m2@example.org> <m3@example.org>"
save nomove 11
save nomove 12
save nomove 13
sd -u nomove -P "$PW" "imap://$IMAP/" >"$T_TMP/out" 2>&1
VN=$(sed -n 's/^# uidvalidity //p' "$T_TMP/out")
expect_exit 0 "a server without MOVE (UIDPLUS only)" \
	sd -u nomove -P "$PW" -c "$VN:1" -d Done "imap://$IMAP/"
same "... COPY + UID EXPUNGE moved them" "$(msgids nomove Done)" "<m12@example.org> <m13@example.org>"
same "... and left the one before the cursor" "$(msgids nomove INBOX)" "<m11@example.org>"
# Folder names are UTF-8 in the configuration and modified UTF-7 on the wire
# (RFC 3501, 5.1.3): Dovecot refuses raw UTF-8 in CREATE and MOVE.
LAST=$(uids nomove INBOX | awk '{print $NF}')
save nomove 41
expect_exit 0 "done with a non-ASCII folder (COPY + UID EXPUNGE)" \
	sd -u nomove -P "$PW" -c "$VN:$LAST" -d "Entwürfe/Beantwortet ✓" "imap://$IMAP/INBOX"
same "... the message is in it" "$(msgids nomove "Entwürfe/Beantwortet ✓")" "<m41@example.org>"
check "... named in modified UTF-7 on the server" \
	grep -qx 'Entw&APw-rfe/Beantwortet &JxM-' <(dv mailbox list -7 -u nomove 2>/dev/null)
save noext 21
expect_exit 0 "a server without MOVE and UIDPLUS" sd -u noext -P "$PW" -d Done "imap://$IMAP/"
same "... leaves the message" "$(msgids noext INBOX)" "<m21@example.org>"
grep_err "neither MOVE nor UIDPLUS" "... and warns"

echo "-- batches"
M=$DOVECOT_DIR/mail/many/Maildir
mkdir -p "$M/cur" "$M/new" "$M/tmp"
# 1,000 messages of 31 KB straight into the Maildir (doveadm save would take 13 s).
"$PY" - "$M/new" <<-'EOF'
	import sys
	body = ("x" * 76 + "\r\n") * 400
	for i in range(1000):
	    with open(f"{sys.argv[1]}/1700000000.M{i:06d}P1.bulk", "w", newline="") as f:
	        f.write(f"Subject: bulk {i}\r\nMessage-ID: <bulk{i}@example.org>\r\n\r\n{body}")
EOF
chown -R 5000:5000 "$DOVECOT_DIR/mail/many"
rss() { /usr/bin/time -f %M -o "$T_TMP/rss" timeout 60 "$SD" "$@" >"$T_TMP/out" 2>"$T_TMP/err"; }
if rss -u many -P "$PW" -b 100 "imap://$IMAP/"; then pass "1,000 messages in batches of 100"
else fail "1,000 messages in batches of 100"; sed 's/^/       /' "$T_TMP/err" | head -5; fi
same "... every one, once, in UID order" "$(lines | awk '{print $1}' | xargs)" "$(seq 1 1000 | xargs)"
R100=$(cat "$T_TMP/rss")
check "... peak RSS ${R100} KB < 20 MB" [ "$R100" -lt 20480 ]
rss -u many -P "$PW" -b 1000 "imap://$IMAP/"
R1000=$(cat "$T_TMP/rss")
check "control: one batch of 1,000 peaks higher (${R1000} KB), so the RSS check can fail" \
	[ "$R1000" -gt 20480 ]

echo "-- max_size"
save test 4 200000
expect_exit 0 "fetch with max_size 50000" \
	sd -u test -P "$PW" -m 50000 -o "$T_TMP" -c "$V:0" "imap://$IMAP/INBOX"
same "the large one is flagged truncated, with its real size" \
	"$(lines | awk '$1 == 4 {print $3, ($2 > 200000)}')" "1 1"
same "the small one is whole" "$(lines | awk '$1 == 1 {print $3}')" "0"
if grep -q BODY-MARKER "$T_TMP/4.eml"; then fail "the truncated message holds its body"
else pass "the truncated message holds the header only"; fi
same "... up to the empty line" "$(tail -c 4 "$T_TMP/4.eml" | od -An -tx1 | xargs)" "0d 0a 0d 0a"
check "... with its headers" grep -q '^Message-ID: <m4@example.org>' "$T_TMP/4.eml"

echo "-- IDLE"
LAST=$(uids test INBOX | awk '{print $NF}')
rm -f "$T_TMP/idle.out"
sd -u test -P "$PW" -a "$SV_CERT" -c "$V:$LAST" -w 20 "imaps://localhost:$IMAPS/INBOX" \
	>"$T_TMP/idle.out" 2>"$T_TMP/idle.err" &
IDLE_PID=$!
for ((i = 0; i < 200; i++)); do grep -q '^# waiting' "$T_TMP/idle.out" 2>/dev/null && break; sleep 0.02; done
sleep 1 # into IDLE
T0=$(date +%s%N)
save test 5
wait "$IDLE_PID"
RC=$?
MS=$((($(date +%s%N) - T0) / 1000000))
check "source_wait returned 0" [ "$RC" = 0 ]
check "... ${MS} ms after the delivery (< 2000)" [ "$MS" -lt 2000 ]
same "... and the fetch found the new message" "$(grep -v '^#' "$T_TMP/idle.out" | awk '{print $4}')" \
	"<m5@example.org>"
T0=$(date +%s%N)
expect_exit 0 "source_wait without new mail" sd -u test -P "$PW" -c "$V:99" -w 2 "imap://$IMAP/"
MS=$((($(date +%s%N) - T0) / 1000000))
check "... times out after 2 s (${MS} ms)" test "$MS" -ge 1900 -a "$MS" -lt 5000
# Another client changing flags during the wait: an update, but no new mail.
rm -f "$T_TMP/flags.out"
T0=$(date +%s%N)
sd -u test -P "$PW" -c "$V:99" -w 3 "imap://$IMAP/" >"$T_TMP/flags.out" 2>"$T_TMP/flags.err" &
FLAGS_PID=$!
for ((i = 0; i < 200; i++)); do grep -q '^# waiting' "$T_TMP/flags.out" 2>/dev/null && break; sleep 0.02; done
sleep 0.5 # into IDLE
dv flags add -u test '\Flagged' mailbox INBOX all
wait "$FLAGS_PID"
MS=$((($(date +%s%N) - T0) / 1000000))
check "a flag change by another client does not end the wait (${MS} ms, 3 s)" \
	test "$MS" -ge 2900 -a "$MS" -lt 6000
# Mail that comes between a fetch and the wait: noext has no IDLE, so
# without the check before waiting only the first NOOP (60 s) would see it.
rm -f "$T_TMP/gap.out"
sd -u noext -P "$PW" -w 10 -p 1500 "imap://$IMAP/" >"$T_TMP/gap.out" 2>"$T_TMP/gap.err" &
GAP_PID=$!
for ((i = 0; i < 200; i++)); do grep -q '^# count' "$T_TMP/gap.out" 2>/dev/null && break; sleep 0.02; done
T0=$(date +%s%N)
save noext 22
wait "$GAP_PID"
MS=$((($(date +%s%N) - T0) / 1000000))
check "mail between fetch and wait (no IDLE): the wait ends at once (${MS} ms < 2500)" \
	test "$MS" -lt 2500
same "... and the next fetch has it" "$(grep -v '^#' "$T_TMP/gap.out" | awk '{print $4}' | xargs)" \
	"<m21@example.org> <m22@example.org>"

echo "-- a wrong password (last: Dovecot may slow the next login from the same address)"
expect_exit 78 "wrong password" sd -u test -P "$T_TMP/badpw" "imap://$IMAP/"
grep_err "refused the login as test" "... says the login was refused"
if grep -q wrong "$T_TMP/err"; then fail "the password appears in the message"; else
	pass "the password is not in the message"; fi
