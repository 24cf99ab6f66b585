#!/usr/bin/env bash
# mta_bounces_sendmail.sh ROOT OUTDIR: the cases of mta_bounces.sh, for
# Sendmail.  ROOT is Debian's sendmail packages unpacked without installing
# them (installing another MTA would remove Postfix):
#   apt-get download sendmail-bin sendmail-base sendmail-cf
#   for f in *.deb; do dpkg-deb -x "$f" root; done
#   tests/tools/mta_bounces_sendmail.sh root OUTDIR
# Sendmail is run per message in the foreground (-odi) with a sendmail.cf
# made here from the packaged m4 files; every remote domain goes to one
# tests/tools/faultsmtp.py on 127.0.0.1, which refuses some recipients and
# takes the bounces.  Writes OUTDIR/sendmail-<case>.eml.
set -u
ROOT=$(cd "${1:?usage: mta_bounces_sendmail.sh ROOT OUTDIR}" && pwd)
OUT=${2:?usage: mta_bounces_sendmail.sh ROOT OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TOOLS=$(cd "$(dirname "$0")" && pwd)
source "$TOOLS/../e2e/servers.sh"

d=$SV_DIR/sendmail
mkdir -p "$d/mqueue" "$d/fault"
start_faultsmtp --reject reject.example.com --reject gone@ --defer busy.example.com \
	--reject-policy relay.example.com || exit 1
CF=$ROOT/usr/share/sendmail/cf
cat >"$d/aliases" <<EOF
forward: gone@reject.example.com
piper: "|/bin/false"
procmail: "|/bin/sh -c 'exit 67' kijitora@example.com"
EOF
printf 'hosts files\naliases files\n' >"$d/service.switch"
printf '127.0.0.1 localhost mx.example.com\n' >"$d/hosts"
cat >"$d/sendmail.mc" <<EOF
divert(-1)
divert(0)dnl
include(\`$CF/m4/cf.m4')dnl
VERSIONID(\`letterbox tests')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.example.com')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`ALIAS_FILE', \`$d/aliases')dnl
define(\`QUEUE_DIR', \`$d/mqueue')dnl
define(\`STATUS_FILE', \`$d/statistics')dnl
define(\`confPID_FILE', \`$d/sendmail.pid')dnl
define(\`confSERVICE_SWITCH_FILE', \`$d/service.switch')dnl
define(\`confHOSTS_FILE', \`$d/hosts')dnl
define(\`confTO_QUEUERETURN', \`1s')dnl
define(\`confTO_QUEUEWARN', \`1h')dnl
define(\`confDEF_USER_ID', \`nobody:nogroup')dnl
define(\`confRUN_AS_USER', \`root')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit,MapInUnsafeDirPath,ClassFileInUnsafeDirPath,NonRootSafeAddr,RunProgramInUnsafeDirPath')dnl
define(\`SMART_HOST', \`esmtp:[127.0.0.1]')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $FAULT_PORT')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $FAULT_PORT')dnl
define(\`SMTP_MAILER_ARGS', \`TCP \$h $FAULT_PORT')dnl
define(\`confCW_FILE', \`$d/local-host-names')dnl
FEATURE(\`use_cw_file')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
printf 'example.com\nmx.example.com\n' >"$d/local-host-names"
m4 "$d/sendmail.mc" >"$d/sendmail.cf" || exit 1
# Sendmail sleeps a minute when the host name is not qualified ("vm"): it
# runs in a UTS namespace of its own, named mx.example.com.
SM=$d/sendmail
printf '#!/bin/sh\nexec unshare -u sh -c '"'"'hostname mx.example.com && exec "$0" "$@"'"'"' %s "$@"\n' \
	"$ROOT/usr/libexec/sendmail/sendmail" >"$SM"
chmod +x "$SM"
"$SM" -C "$d/sendmail.cf" -bi >"$d/newaliases.log" 2>&1 || { cat "$d/newaliases.log" >&2; exit 1; }

n=0
send() {
	local case=$1 tok
	shift
	n=$((n + 1))
	tok=$(printf 's%02dabcdefghijklmnopqrstuv' "$n" | cut -c1-26 | tr 0-9 a-j)
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
	"$SM" -C "$d/sendmail.cf" -odi -oi -f "bounces+$tok@example.org" -- "$@" \
		<"$SV_DIR/msg-$case" >>"$d/send.log" 2>&1
}

send unknown-local stranger@example.com
send remote-unknown gone@reject.example.com
send remote-relay someone@relay.example.com
send remote-soft later@busy.example.com
send forward forward@example.com
send pipe piper@example.com
send pipe-nouser procmail@example.com
send quoted '"neko....nyaan"@reject.example.com'
send several a.one@reject.example.com b.two@reject.example.com c.three@example.com
# The deferred one times out (confTO_QUEUERETURN) on the next queue run.
sleep 2
"$SM" -C "$d/sendmail.cf" -q >>"$d/send.log" 2>&1

want=$(wc -l <"$SV_DIR/cases")
for ((i = 0; i < 100; i++)); do
	[ "$(grep -l '^X-Mail-From: <>' "$FAULT_DIR"/msg-*.eml 2>/dev/null | wc -l)" -ge "$want" ] && break
	sleep 0.2
done
got=0
for f in $(grep -l '^X-Mail-From: <>' "$FAULT_DIR"/msg-*.eml 2>/dev/null); do
	c=$(grep -o 'this is issue [0-9]* ([a-z-]*)' "$f" | head -1 | sed 's/.*(\(.*\))/\1/')
	[ -n "$c" ] || c=unknown-$(basename "$f" .eml)
	grep -v '^X-\(Mail-From\|Rcpt-To\):' "$f" | tr -d '\r' |
		sed "s|$SV_DIR/sendmail|/etc/mail|g" >"$OUT/sendmail-$c.eml"
	got=$((got + 1))
done
echo "mta_bounces_sendmail: $got bounces for $want cases in $OUT" >&2
[ -n "${MAILLOG:-}" ] && cat "$d/send.log" "$FAULT_DIR/events.log" >"$MAILLOG"
[ "$got" -eq "$want" ]
