#!/usr/bin/env bash
# mta_bounces_exim.sh EXIM OUTDIR: the cases of mta_bounces.sh, for Exim.
# EXIM is an exim4 binary unpacked from Debian's .deb without installing it
# (installing another MTA would remove Postfix):
#   apt-get download exim4-daemon-light exim4-base libidn12
#   for f in *.deb; do dpkg-deb -x "$f" root; done
#   useradd -r -M Debian-exim     # the user the binary was built for
#   chmod u-s root/usr/sbin/exim4   # else ld.so ignores LD_LIBRARY_PATH
#   printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' \
#     "$PWD/root/usr/lib/x86_64-linux-gnu" "$PWD/root/usr/sbin/exim4" >exim; chmod +x exim
#   tests/tools/mta_bounces_exim.sh ./exim OUTDIR
# Exim runs in the foreground (-odi) with a private configuration and spool;
# the remote servers are smtp-sinks on 127.0.0.1 and the bounces go to
# another one.  Writes OUTDIR/exim-<case>.eml.
set -u
EXIM=$(cd "$(dirname "${1:?usage: mta_bounces_exim.sh EXIM OUTDIR}")" && pwd)/$(basename "$1")
OUT=${2:?usage: mta_bounces_exim.sh EXIM OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
source "$(dirname "$0")/../e2e/servers.sh"

sv_sink CAPTURE || exit 1
sv_sink REJECT -f RCPT -B "550 5.1.1 <unknown>: Recipient address rejected: User unknown" || exit 1
sv_sink FULL -f RCPT -B "552 5.2.2 Mailbox full, over quota" || exit 1
sv_sink BUSY -r RCPT || exit 1
sv_sink SPAM -f DATA -B "554 5.7.1 Message rejected as spam by content filter" || exit 1

d=$SV_DIR/exim
mkdir -p "$d/spool/log"
chown -R Debian-exim "$d/spool"
cat >"$d/aliases" <<EOF
forward: gone@reject.example.com
piper: |/bin/false
procmail: |/bin/sh -c "exit 67" kijitora@example.com
EOF
cat >"$d/exim.conf" <<EOF
exim_path = $EXIM
keep_environment = LD_LIBRARY_PATH
spool_directory = $d/spool
log_file_path = $d/spool/log/%slog
primary_hostname = mx.example.com
qualify_domain = example.com
domainlist local_domains = example.com
trusted_users = root
never_users =
host_lookup =
rfc1413_hosts =
message_size_limit = 20k

begin routers
aliases:
  driver = redirect
  domains = +local_domains
  data = \${lookup{\$local_part}lsearch{$d/aliases}}
  pipe_transport = address_pipe
  allow_fail
remote:
  driver = manualroute
  domains = ! +local_domains
  transport = remote_smtp
  self = send
  route_list = example.org 127.0.0.1::$CAPTURE_PORT ; \\
    reject.example.com 127.0.0.1::$REJECT_PORT ; \\
    full.example.com 127.0.0.1::$FULL_PORT ; \\
    busy.example.com 127.0.0.1::$BUSY_PORT ; \\
    spamcheck.example.com 127.0.0.1::$SPAM_PORT

begin transports
remote_smtp:
  driver = smtp
  hosts_try_chunking =
  hosts_try_fastopen =
address_pipe:
  driver = pipe
  user = Debian-exim
  return_fail_output

begin retry
EOF

n=0
# send CASE RCPT...: one newsletter issue to RCPTs, as letterbox sends it.
send() {
	local case=$1 tok
	shift
	n=$((n + 1))
	tok=$(printf 'e%02dabcdefghijklmnopqrstuv' "$n" | cut -c1-26 | tr 0-9 a-j)
	{
		printf 'From: "Letterbox News" <news@example.org>\n'
		printf 'To: %s\n' "$1"
		printf 'Subject: Issue %d: spring notes\n' "$n"
		printf 'Date: Thu, 03 Dec 2026 10:%02d:00 +0000\n' "$n"
		printf 'Message-ID: <spring-notes.%s.1764756000@example.org>\n' "$tok"
		printf 'List-Unsubscribe: <mailto:unsubscribe+%s@example.org>\n' "$tok"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n'
		printf 'Dear reader,\n\nthis is issue %d (%s).\n' "$n" "$case"
	} >"$SV_DIR/msg-$case"
	echo "$case" >>"$SV_DIR/cases"
	"$EXIM" -C "$d/exim.conf" -odi -f "bounces+$tok@example.org" -- "$@" <"$SV_DIR/msg-$case"
}

send unknown-local stranger@example.com
send remote-unknown gone@reject.example.com
send remote-full user@full.example.com
send remote-soft later@busy.example.com
send remote-spam reader@spamcheck.example.com
send forward forward@example.com
send pipe piper@example.com
send pipe-nouser procmail@example.com
send quoted '"neko....nyaan"@reject.example.com'
send several a.one@reject.example.com b.two@reject.example.com c.three@example.com

want=$(wc -l <"$SV_DIR/cases")
for ((i = 0; i < 100; i++)); do
	[ "$(ls "$CAPTURE_DIR" | wc -l)" -ge "$want" ] && break
	sleep 0.2
done
for f in "$CAPTURE_DIR"/*; do
	c=$(grep -o 'this is issue [0-9]* ([a-z-]*)' "$f" | head -1 | sed 's/.*(\(.*\))/\1/')
	[ -n "$c" ] || c=unknown-$(basename "$f")
	grep -v '^X-\(Client-Addr\|Client-Proto\|Helo-Args\|Mail-Args\|Rcpt-Args\):' "$f" |
		tr -d '\r' >"$OUT/exim-$c.eml"
done
echo "mta_bounces_exim: $(ls "$CAPTURE_DIR" | wc -l) bounces for $want cases in $OUT" >&2
[ -n "${MAILLOG:-}" ] && cat "$d/spool/log/mainlog" >"$MAILLOG"
[ "$(ls "$CAPTURE_DIR" | wc -l)" -eq "$want" ]
