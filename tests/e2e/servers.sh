# A private mail testbed on 127.0.0.1 for the end-to-end tests.  Source it
# (after tests/lib.sh); it needs root for Postfix and Dovecot.
#
# Everything lives in $SV_DIR (a fresh temp directory), listens on 127.0.0.1
# only, on ports picked free at run time, and is stopped by stop_all, which
# sourcing this file installs as an EXIT trap (next to lib.sh's clean-up).
# Every start_* waits until its ports listen (at most SV_WAIT seconds) and
# returns non-zero, with the server's log on stderr, when they do not.
#
#   start_smtp_sink [ARGS]  an smtp-sink dumping one file per message
#                           SINK_PORT SINK_DIR SINK_LOG (running counters) SINK_PID
#                           sink_counter sess|quit|mesg  prints a counter
#   start_faultsmtp [ARGS]  tests/tools/faultsmtp.py with ARGS (the faults)
#                           FAULT_PORT FAULT_DIR (msg-*.eml, events.log) FAULT_PID
#   make_tls_cert           a self-signed certificate for localhost and 127.0.0.1
#                           SV_CERT SV_KEY (SV_CERT is also the CA to trust)
#   start_dovecot           IMAP, IMAPS, LMTP and a SASL auth listener; users
#                           test and bulk, password "secret"
#                           DOVECOT_IMAP_PORT DOVECOT_IMAPS_PORT DOVECOT_LMTP_PORT
#                           DOVECOT_AUTH_PORT DOVECOT_CONF DOVECOT_DIR
#   start_postfix           the "private Postfix": local domains (localhost,
#                           mail.testbed.test) go to Dovecot over LMTP (unknown
#                           users bounce with a real DSN), everything else is
#                           relayed to a second smtp-sink.  Starts Dovecot and
#                           makes the certificate when needed.
#                           POSTFIX_PORT         STARTTLS offered, no AUTH (relay from loopback)
#                           POSTFIX_SUBMIT_PORT  STARTTLS required, AUTH required
#                           POSTFIX_SMTPS_PORT   implicit TLS, AUTH required
#                           RELAY_PORT RELAY_DIR RELAY_LOG  the sink behind it
#                           POSTFIX_DIR POSTFIX_CONF (config dir for postfix -c)
#   start_lighttpd SITE [LB] lighttpd serving `LB -C SITE cgi` at /news (LB: the
#                           letterbox binary, default $LB), the way contrib/ sets it up
#                           WEB_PORT WEB_BASE (http://127.0.0.1:PORT/news) WEB_DIR
#                           WEB_LOG (the CGI's stderr: lighttpd's server.breakagelog)
#                           With WEB_AUTH="user:password ..." set, /news/staff/ asks for
#                           a login (mod_auth basic, an htpasswd file made here)
#   stop_all                stop everything started here, remove $SV_DIR
#
# Pitfall: after a failed AUTH through Postfix, Dovecot delays the next
# authentications from 127.0.0.1 (its anvil penalty: 2 s, doubling up to 15;
# login_trusted_networks does not lift it for Postfix's SASL requests).  Put
# wrong-password tests last, or expect the delay.

: "${SV_WAIT:=15}"
SV_DIR=$(mktemp -d /tmp/lbsv.XXXXXX)
chmod 755 "$SV_DIR"
SV_PIDS=()        # processes we started ourselves
SV_POSTFIX=()     # postfix config dirs to stop
SV_DOVECOT=()     # dovecot master.pid files
SV_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SV_PY=/usr/bin/python3
trap 'stop_all; rm -rf "${T_TMP:-/nonexistent}"' EXIT
# A non-interactive bash killed by a signal skips its EXIT trap: turn the
# usual ones into an exit, so daemons are not left behind (timeout, ^C).
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

sv_log() { echo "servers: $*" >&2; }

# A port nobody listens on right now.
sv_free_port() {
	"$SV_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# True when something listens on 127.0.0.1:PORT (read from /proc: no probe
# connection, which would show up in session counters).
sv_listening() {
	local hex
	hex=$(printf '0100007F:%04X' "$1")
	grep -q " $hex 00000000:0000 0A " /proc/net/tcp
}

# sv_wait_listen PORT...: until all listen, or SV_WAIT seconds.
sv_wait_listen() {
	local deadline=$((SECONDS + SV_WAIT)) p
	for p in "$@"; do
		until sv_listening "$p"; do
			[ "$SECONDS" -lt "$deadline" ] || { sv_log "port $p does not listen"; return 1; }
			sleep 0.02
		done
	done
}

# sv_wait_gone PID: until the process is gone or a zombie (daemons we did not
# fork are reaped by someone else, late), at most 10 s.
sv_wait_gone() {
	local i state
	for ((i = 0; i < 500; i++)); do
		[ -r "/proc/$1/stat" ] || return 0
		state=$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 0
		[ "$state" = Z ] && return 0
		sleep 0.02
	done
	return 1
}

# sv_sink NAME [ARGS]: an smtp-sink; sets NAME_PORT, NAME_DIR, NAME_LOG, NAME_PID.
sv_sink() {
	local name=$1 port dir log pid
	shift
	port=$(sv_free_port)
	dir="$SV_DIR/$name.dump"
	log="$SV_DIR/$name.log"
	mkdir -p "$dir"
	chown nobody "$dir"
	# -c: session and message counters on stdout; %H%M%S. plus a random
	# suffix: one file per transaction.
	/usr/sbin/smtp-sink -c -u nobody -h "$name.sink.test" -d "$dir/%H%M%S." "$@" \
		"127.0.0.1:$port" 1024 >"$log" 2>&1 &
	pid=$!
	SV_PIDS+=("$pid")
	printf -v "${name}_PORT" %s "$port"
	printf -v "${name}_DIR" %s "$dir"
	printf -v "${name}_LOG" %s "$log"
	printf -v "${name}_PID" %s "$pid"
	sv_wait_listen "$port" || { cat "$log" >&2; return 1; }
}

start_smtp_sink() { sv_sink SINK "$@"; }

# sink_counter sess|quit|mesg [LOG]: the sink's latest counter value.
sink_counter() {
	tr '\r' '\n' <"${2:-$SINK_LOG}" | sed -n "s/.*\<$1=\([0-9]*\).*/\1/p" | tail -1 |
		grep . || echo 0
}

start_faultsmtp() {
	FAULT_DIR=$(mktemp -d "$SV_DIR/fault.XXXXXX")
	"$SV_PY" "$SV_TOP/tests/tools/faultsmtp.py" --dir "$FAULT_DIR" \
		--port-file "$FAULT_DIR/port" "$@" >"$FAULT_DIR/log" 2>&1 &
	FAULT_PID=$!
	SV_PIDS+=("$FAULT_PID")
	local deadline=$((SECONDS + SV_WAIT))
	until [ -s "$FAULT_DIR/port" ]; do
		if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$FAULT_PID" 2>/dev/null; then
			sv_log "faultsmtp did not start"
			cat "$FAULT_DIR/log" >&2
			return 1
		fi
		sleep 0.02
	done
	FAULT_PORT=$(cat "$FAULT_DIR/port")
}

# stop_faultsmtp: stop the last one (to start another with other faults).
stop_faultsmtp() {
	[ -n "${FAULT_PID:-}" ] || return 0
	kill "$FAULT_PID" 2>/dev/null
	wait "$FAULT_PID" 2>/dev/null
	FAULT_PID=
}

make_tls_cert() {
	[ -n "${SV_CERT:-}" ] && return 0
	mkdir -p "$SV_DIR/tls"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj /CN=localhost \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$SV_DIR/tls/key.pem" -out "$SV_DIR/tls/cert.pem" 2>"$SV_DIR/tls/log" ||
		{ cat "$SV_DIR/tls/log" >&2; return 1; }
	chmod 644 "$SV_DIR/tls/key.pem" # Dovecot and Postfix read it as root; nothing secret
	SV_CERT=$SV_DIR/tls/cert.pem
	SV_KEY=$SV_DIR/tls/key.pem
}

start_dovecot() {
	[ -n "${DOVECOT_CONF:-}" ] && return 0
	make_tls_cert || return 1
	local d="$SV_DIR/dovecot"
	mkdir -p "$d/run" "$d/state" "$d/mail"
	chown 5000:5000 "$d/mail"
	DOVECOT_DIR=$d
	DOVECOT_IMAP_PORT=$(sv_free_port)
	DOVECOT_IMAPS_PORT=$(sv_free_port)
	DOVECOT_LMTP_PORT=$(sv_free_port)
	DOVECOT_AUTH_PORT=$(sv_free_port)
	DOVECOT_CONF=$d/dovecot.conf
	cat >"$d/users" <<-EOF
		test:{PLAIN}secret:5000:5000::$d/mail/test
		bulk:{PLAIN}secret:5000:5000::$d/mail/bulk::userdb_mail=mdbox:~/mdbox
	EOF
	cat >"$DOVECOT_CONF" <<-EOF
		base_dir = $d/run
		state_dir = $d/state
		instance_name = lbtest-${d##*/lbsv.}
		log_path = $d/dovecot.log
		info_log_path = $d/dovecot.log
		protocols = imap lmtp
		listen = 127.0.0.1
		first_valid_uid = 5000
		last_valid_uid = 5000
		first_valid_gid = 5000
		last_valid_gid = 5000
		auth_mechanisms = plain login
		auth_failure_delay = 0
		login_trusted_networks = 127.0.0.0/8
		disable_plaintext_auth = no
		auth_username_format = %Ln
		passdb {
		  driver = passwd-file
		  args = scheme=PLAIN username_format=%n $d/users
		}
		userdb {
		  driver = passwd-file
		  args = username_format=%n $d/users
		}
		mail_location = maildir:~/Maildir
		mail_fsync = never
		namespace inbox {
		  inbox = yes
		  separator = /
		  mailbox Sent {
		    special_use = \Sent
		    auto = create
		  }
		  mailbox Trash {
		    special_use = \Trash
		    auto = create
		  }
		}
		ssl = yes
		ssl_cert = <$SV_CERT
		ssl_key = <$SV_KEY
		ssl_min_protocol = TLSv1.2
		service imap-login {
		  inet_listener imap {
		    address = 127.0.0.1
		    port = $DOVECOT_IMAP_PORT
		  }
		  inet_listener imaps {
		    address = 127.0.0.1
		    port = $DOVECOT_IMAPS_PORT
		    ssl = yes
		  }
		}
		service lmtp {
		  inet_listener lmtp {
		    address = 127.0.0.1
		    port = $DOVECOT_LMTP_PORT
		  }
		}
		protocol imap {
		  mail_max_userip_connections = 100
		}
		protocol lmtp {
		  postmaster_address = postmaster@localhost
		}
		service pop3-login {
		  inet_listener pop3 {
		    port = 0
		  }
		  inet_listener pop3s {
		    port = 0
		  }
		}
		service submission-login {
		  inet_listener submission {
		    port = 0
		  }
		}
		service auth {
		  inet_listener auth-postfix {
		    address = 127.0.0.1
		    port = $DOVECOT_AUTH_PORT
		  }
		}
	EOF
	if ! dovecot -c "$DOVECOT_CONF" 2>"$d/start.log"; then
		sv_log "dovecot did not start"
		cat "$d/start.log" "$d/dovecot.log" >&2 2>/dev/null
		return 1
	fi
	SV_DOVECOT+=("$d/run/master.pid")
	sv_wait_listen "$DOVECOT_IMAP_PORT" "$DOVECOT_IMAPS_PORT" "$DOVECOT_LMTP_PORT" \
		"$DOVECOT_AUTH_PORT" || { cat "$d/dovecot.log" >&2; return 1; }
}

start_postfix() {
	[ -n "${POSTFIX_CONF:-}" ] && return 0
	start_dovecot || return 1
	sv_sink RELAY || return 1
	local d="$SV_DIR/postfix"
	POSTFIX_DIR=$d
	POSTFIX_CONF=$d/etc
	mkdir -p "$d/etc" "$d/spool" "$d/data"
	chown postfix "$d/data"
	POSTFIX_PORT=$(sv_free_port)
	POSTFIX_SUBMIT_PORT=$(sv_free_port)
	POSTFIX_SMTPS_PORT=$(sv_free_port)
	cat >"$d/etc/main.cf" <<-EOF
		compatibility_level = 3.6
		config_directory = $d/etc
		queue_directory = $d/spool
		data_directory = $d/data
		mail_owner = postfix
		setgid_group = postdrop
		maillog_file = $d/maillog
		maillog_file_prefixes = $d
		myhostname = mail.testbed.test
		mydomain = testbed.test
		myorigin = \$myhostname
		inet_interfaces = 127.0.0.1
		inet_protocols = ipv4
		mynetworks = 127.0.0.0/8
		mydestination = localhost, \$myhostname
		alias_maps =
		alias_database =
		local_recipient_maps =
		local_transport = lmtp:inet:127.0.0.1:$DOVECOT_LMTP_PORT
		relayhost = [127.0.0.1]:$RELAY_PORT
		default_transport = smtp:[127.0.0.1]:$RELAY_PORT
		relay_transport = smtp:[127.0.0.1]:$RELAY_PORT
		smtp_host_lookup = native
		lmtp_host_lookup = native
		smtpd_peername_lookup = no
		smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
		smtpd_tls_cert_file = $SV_CERT
		smtpd_tls_key_file = $SV_KEY
		smtpd_tls_security_level = may
		smtp_tls_security_level = none
		smtpd_sasl_type = dovecot
		smtpd_sasl_path = inet:127.0.0.1:$DOVECOT_AUTH_PORT
		smtpd_sasl_auth_enable = no
		smtpd_client_connection_count_limit = 0
		smtpd_client_connection_rate_limit = 0
		queue_run_delay = 2s
		minimal_backoff_time = 2s
		maximal_backoff_time = 10s
		bounce_queue_lifetime = 0
		biff = no
	EOF
	# smtpd_tls_auth_only: AUTH only after TLS, on every port.
	cat >"$d/etc/master.cf" <<-EOF
		127.0.0.1:$POSTFIX_PORT inet n - n - - smtpd
		127.0.0.1:$POSTFIX_SUBMIT_PORT inet n - n - - smtpd
		  -o syslog_name=postfix/submission
		  -o smtpd_tls_security_level=encrypt
		  -o smtpd_sasl_auth_enable=yes
		  -o smtpd_tls_auth_only=yes
		  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
		127.0.0.1:$POSTFIX_SMTPS_PORT inet n - n - - smtpd
		  -o syslog_name=postfix/submissions
		  -o smtpd_tls_wrappermode=yes
		  -o smtpd_sasl_auth_enable=yes
		  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
		pickup unix n - n 60 1 pickup
		cleanup unix n - n - 0 cleanup
		qmgr unix n - n 300 1 qmgr
		tlsmgr unix - - n 1000? 1 tlsmgr
		rewrite unix - - n - - trivial-rewrite
		bounce unix - - n - 0 bounce
		defer unix - - n - 0 bounce
		trace unix - - n - 0 bounce
		verify unix - - n - 1 verify
		flush unix n - n 1000? 0 flush
		proxymap unix - - n - - proxymap
		proxywrite unix - - n - 1 proxymap
		smtp unix - - n - - smtp
		relay unix - - n - - smtp
		showq unix n - n - - showq
		error unix - - n - - error
		retry unix - - n - - error
		discard unix - - n - - discard
		local unix - n n - - local
		lmtp unix - - n - - lmtp
		anvil unix - - n - 1 anvil
		scache unix - - n - 1 scache
		postlog unix-dgram n - n - 1 postlogd
	EOF
	if ! postfix -c "$d/etc" start >"$d/start.log" 2>&1; then
		sv_log "postfix did not start"
		cat "$d/start.log" "$d/maillog" >&2 2>/dev/null
		return 1
	fi
	SV_POSTFIX+=("$d")
	sv_wait_listen "$POSTFIX_PORT" "$POSTFIX_SUBMIT_PORT" "$POSTFIX_SMTPS_PORT" ||
		{ cat "$d/start.log" "$d/maillog" >&2 2>/dev/null; return 1; }
}

# start_lighttpd SITE [LETTERBOX]: contrib/lighttpd.conf (scripts/web-conf),
# letterbox cgi at /news.  WEB_BASE WEB_PORT WEB_DIR (www/ is the document
# root) WEB_LOG (the CGI's stderr)
start_lighttpd() {
	local site=$1 bin=${2:-$LB}
	WEB_DIR=$(mktemp -d "$SV_DIR/web.XXXXXX")
	WEB_PORT=$(sv_free_port)
	WEB_BASE="http://127.0.0.1:$WEB_PORT/news"
	WEB_LOG="$WEB_DIR/cgi.log"
	"$SV_TOP/scripts/web-conf" "$WEB_DIR" 127.0.0.1 "$WEB_PORT" "$site" "$bin" || return 1
	if [ -n "${WEB_AUTH:-}" ]; then
		local up
		: >"$WEB_DIR/htpasswd"
		for up in $WEB_AUTH; do
			printf '%s:%s\n' "${up%%:*}" "$(openssl passwd -apr1 "${up#*:}")" >>"$WEB_DIR/htpasswd"
		done
		cat >>"$WEB_DIR/lighttpd.conf" <<EOF
server.modules += ("mod_auth", "mod_authn_file")
auth.backend = "htpasswd"
auth.backend.htpasswd.userfile = "$WEB_DIR/htpasswd"
auth.require = ("/news/staff" => ("method" => "basic", "realm" => "staff", "require" => "valid-user"))
EOF
	fi
	/usr/sbin/lighttpd -D -f "$WEB_DIR/lighttpd.conf" >"$WEB_DIR/stdout" 2>&1 &
	SV_PIDS+=("$!")
	sv_wait_listen "$WEB_PORT" || { cat "$WEB_DIR/stdout" "$WEB_DIR/error.log" >&2; return 1; }
}

stop_all() {
	local d pid pidfile
	for d in "${SV_POSTFIX[@]}"; do
		pid=$(tr -d ' ' <"$d/spool/pid/master.pid" 2>/dev/null)
		timeout 10 postfix -c "$d/etc" stop >/dev/null 2>&1 ||
			{ [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; }
		[ -n "$pid" ] && sv_wait_gone "$pid"
	done
	SV_POSTFIX=()
	for pidfile in "${SV_DOVECOT[@]}"; do
		pid=$(cat "$pidfile" 2>/dev/null)
		[ -n "$pid" ] || continue
		kill -TERM "$pid" 2>/dev/null
		sv_wait_gone "$pid" || kill -KILL "$pid" 2>/dev/null
	done
	SV_DOVECOT=()
	for pid in "${SV_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${SV_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	SV_PIDS=()
	unset POSTFIX_CONF DOVECOT_CONF SV_CERT
	[ -n "${SV_DIR:-}" ] && [ -d "$SV_DIR" ] && rm -rf "$SV_DIR"
}
