#!/usr/bin/env bash
# mta_bounces.sh OUTDIR: make a private Postfix on 127.0.0.1 produce real
# bounces (DSNs) and write each to OUTDIR/postfix-<case>.eml.  The cases:
# an unknown local user, an unknown virtual user, a full virtual mailbox
# (virtual_mailbox_limit), remote 5xx refusals (user unknown, relay denied,
# mailbox full, content rejected at DATA) and a 4xx that outlives the queue,
# forwarding through an alias (so Original-Recipient differs from
# Final-Recipient), pipe aliases that fail (exit 1, 67, 75), a quoted local
# part, a percent-hack address and one message to several bad recipients.
# The remote servers are smtp-sinks with reject options; the bounces go to
# another sink, which is where they are picked up.  Everything uses
# example.org (our side), example.net (the receiving site) and example.com
# (remote domains).  Needs root (Postfix); run by hand, the output is
# committed under tests/data/bounces/ (as mta-postfix-NN.eml with a .expect).
set -u
OUT=${1:?usage: mta_bounces.sh OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
source "$(dirname "$0")/../e2e/servers.sh"

sv_sink CAPTURE || exit 1
sv_sink REJECT -f RCPT -B "550 5.1.1 <unknown>: Recipient address rejected: User unknown in virtual mailbox table" || exit 1
sv_sink RELAY -f RCPT -B "554 5.7.1 Relay access denied" || exit 1
sv_sink FULL -f RCPT -B "552 5.2.2 Mailbox full, over quota" || exit 1
sv_sink BUSY -r RCPT || exit 1
sv_sink SPAM -f DATA -B "554 5.7.1 Message rejected as spam by content filter" || exit 1

d=$SV_DIR/postfix
mkdir -p "$d/etc" "$d/spool" "$d/data" "$d/vmail/box.example.net"
chown postfix "$d/data"
chown -R 5000:5000 "$d/vmail"
cat >"$d/etc/transport" <<EOF
example.org smtp:[127.0.0.1]:$CAPTURE_PORT
reject.example.com smtp:[127.0.0.1]:$REJECT_PORT
relay.example.com smtp:[127.0.0.1]:$RELAY_PORT
full.example.com smtp:[127.0.0.1]:$FULL_PORT
busy.example.com smtp:[127.0.0.1]:$BUSY_PORT
spamcheck.example.com smtp:[127.0.0.1]:$SPAM_PORT
EOF
cat >"$d/etc/aliases" <<EOF
forward gone@reject.example.com
movedon nobody-here@box.example.net
fullfwd alice@box.example.net
piper "|/bin/false"
procmail "|/bin/sh -c 'exit 67' kijitora@example.net"
tempfail "|/bin/sh -c 'exit 75'"
EOF
cat >"$d/etc/vmailbox" <<EOF
alice@box.example.net box.example.net/alice
EOF
cat >"$d/etc/main.cf" <<EOF
compatibility_level = 3.6
config_directory = $d/etc
queue_directory = $d/spool
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $d/maillog
maillog_file_prefixes = $d
myhostname = mx.example.net
mydomain = example.net
myorigin = example.net
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination = example.net, mx.example.net
alias_maps = texthash:$d/etc/aliases
alias_database =
local_recipient_maps =
allow_mail_to_commands = alias
transport_maps = texthash:$d/etc/transport
virtual_mailbox_domains = box.example.net
virtual_mailbox_maps = texthash:$d/etc/vmailbox
virtual_mailbox_base = $d/vmail
virtual_uid_maps = static:5000
virtual_gid_maps = static:5000
virtual_minimum_uid = 100
virtual_mailbox_limit = 25000
message_size_limit = 20000
smtp_host_lookup = native
smtpd_peername_lookup = no
smtp_tls_security_level = none
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maximal_queue_lifetime = 0
bounce_queue_lifetime = 0
biff = no
EOF
cat >"$d/etc/master.cf" <<EOF
pickup unix n - n 1 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
virtual unix - n n - - virtual
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
EOF
postfix -c "$d/etc" start >"$d/start.log" 2>&1 || { cat "$d/start.log" "$d/maillog" >&2; exit 1; }
SV_POSTFIX+=("$d")

n=0
# send CASE RCPT...: one newsletter issue to RCPTs, as letterbox sends it.
send() {
	local case=$1 tok
	shift
	n=$((n + 1))
	tok=$(printf 'k%02dabcdefghijklmnopqrstuv' "$n" | cut -c1-26 | tr 0-9 a-j)
	{
		printf 'From: "Letterbox News" <news@example.org>\n'
		printf 'To: %s\n' "$1"
		printf 'Subject: Issue %d: spring notes\n' "$n"
		printf 'Date: Thu, 03 Dec 2026 10:%02d:00 +0000\n' "$n"
		printf 'Message-ID: <spring-notes.%s.1764756000@example.org>\n' "$tok"
		printf 'List-Unsubscribe: <mailto:unsubscribe+%s@example.org>\n' "$tok"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n'
		printf 'Dear reader,\n\nthis is issue %d (%s).\n' "$n" "$case"
		case $case in fill | full | forward-full) head -c 14000 /dev/zero | tr '\0' 'x' | fold -w 70 ;;
		esac
	} >"$SV_DIR/msg-$case"
	echo "$case" >>"$SV_DIR/cases"
	sendmail -C "$d/etc" -f "bounces+$tok@example.org" -- "$@" <"$SV_DIR/msg-$case"
}

# Fill alice's mailbox first, so that the next message overflows it.
send fill alice@box.example.net
sleep 2
send unknown-local stranger@example.net
send unknown-virtual nobody@box.example.net
send full alice@box.example.net
send remote-unknown gone@reject.example.com
send remote-relay someone@relay.example.com
send remote-full user@full.example.com
send remote-soft later@busy.example.com
send remote-spam reader@spamcheck.example.com
send forward forward@example.net
send forward-virtual movedon@example.net
send forward-full fullfwd@example.net
send pipe piper@example.net
send pipe-nouser procmail@example.net
send pipe-tempfail tempfail@example.net
send quoted '"neko....nyaan"@reject.example.com'
send percent 'kijitora%reject.example.com@example.net'
send several a.one@reject.example.com b.two@reject.example.com c.three@example.net

# Wait for one bounce per case but the fill (at most 60 s).
want=$(($(wc -l <"$SV_DIR/cases") - 1))
for ((i = 0; i < 300; i++)); do
	got=$(ls "$CAPTURE_DIR" | wc -l)
	[ "$got" -ge "$want" ] && break
	sleep 0.2
done
sleep 1
# Name each bounce by the case its returned message names.
for f in "$CAPTURE_DIR"/*; do
	c=$(grep -o 'this is issue [0-9]* ([a-z-]*)' "$f" | head -1 | sed 's/.*(\(.*\))/\1/')
	[ -n "$c" ] || c=unknown-$(basename "$f")
	# The sink's envelope lines go; the message starts at its first field.
	grep -v '^X-\(Client-Addr\|Client-Proto\|Helo-Args\|Mail-Args\|Rcpt-Args\):' "$f" | tr -d '\r' |
		sed "s|$SV_DIR/postfix|/var/spool/postfix|g" >"$OUT/postfix-$c.eml"
done
echo "mta_bounces: $(ls "$CAPTURE_DIR" | wc -l) bounces for $want cases in $OUT" >&2
ls "$CAPTURE_DIR" | wc -l | grep -qx "$want" || { tail -40 "$d/maillog" >&2; exit 1; }
[ -n "${MAILLOG:-}" ] && cp "$d/maillog" "$MAILLOG"
