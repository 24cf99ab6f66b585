#!/usr/bin/env bash
# contrib/'s web server configs for Apache (ScriptAlias + suexec) and nginx +
# fcgiwrap: their syntax checked by the servers themselves, then each one
# run on 127.0.0.1 (without TLS and suexec, which need a real host) with the
# CGI as the site's user, answering /news/ and a one-click unsubscribe.
# lighttpd's contrib/lighttpd.conf is what every other web test runs.
# Skipped (with a note) when the servers are not installed (scripts/deps test).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/servers.sh"
NOW="2026-11-25 10:00"

if [ "$(id -u)" != 0 ] || ! id www-data >/dev/null 2>&1; then
	pass "skipped: needs root and a www-data user to run the CGI as the site's user"
	exit 0
fi
# The site belongs to www-data here: the user the CGI runs as.
chmod 711 "$T_TMP"
S=$T_TMP/site
make_site "$S"
lb -C "$S" send --now "$NOW" >/dev/null 2>&1 || fail "send the sample article"
chown -R www-data:www-data "$S"
CGI=$T_TMP/cgi/letterbox.cgi
mkdir -p "$T_TMP/cgi"
sed -e "s|@LETTERBOX@|$LB|" -e "s|@SITE@|$S|" "$TOP/contrib/letterbox.cgi" >"$CGI"
chmod 755 "$T_TMP/cgi" "$CGI"
# ada's token (tests/lib.sh's secret): see test_web_unsub.sh
TA=$($PY -c 'import base64,hashlib,hmac
m=hmac.new(bytes(range(32)),b"news.example.org\0ada.lovelace@example.org",hashlib.sha256).digest()
print(base64.b32encode(m[:10]).decode().lower())')
state_of_ada() { sup_records "$S" | grep -c $'\tunsubscribed\tada.lovelace@example.org\tweb: '; }

# live BASE NAME: the routes through a server, as the site's user
live() {
	local base=$1 name=$2
	same "$name: GET /news/" "$(curl -s -o /dev/null -w '%{http_code}' "$base/news/")" 200
	same "$name: /news redirects or answers" \
		"$(curl -s -o /dev/null -w '%{http_code}' "$base/news" | grep -cE '^(200|301)$')" 1
	same "$name: the stylesheet" "$(curl -s -o /dev/null -w '%{http_code}' "$base/news/static/letterbox.css")" 200
	same "$name: a forged token: 404" "$(curl -s -o /dev/null -w '%{http_code}' "$base/news/u/aaaaaaaaaaaaaaaa")" 404
	same "$name: GET /news/u/TOKEN" "$(curl -s -o "$T_TMP/b" -w '%{http_code}' "$base/news/u/$TA")" 200
	check "$name:   the form posts to /news/u/TOKEN" grep -q "action=\"/news/u/$TA\"" "$T_TMP/b"
	same "$name: one-click POST" "$(curl -s -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: application/x-www-form-urlencoded' --data-raw 'List-Unsubscribe=One-Click' \
		"$base/news/u/$TA")" 200
	same "$name:   recorded, by the site's user" "$(state_of_ada) $(stat -c %U "$S/state/letterbox.db")" "1 www-data"
	same "$name: a 100 KB body: 413" "$(head -c 100000 /dev/zero | tr '\0' a | curl -s -o /dev/null \
		-w '%{http_code}' -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @- \
		"$base/news/u/$TA")" 413
	store_rows "$S" "DELETE FROM sup_records"
	# No login is configured here: a Basic header the server never checked
	# (nginx's $remote_user is just what the client sent) lets nobody in.
	same "$name: /staff/ with an unchecked Basic header: 403" "$(curl -s -o /dev/null \
		-w '%{http_code}' -u eve:anything "$base/news/staff/")" 403
}

# ---- Apache -----------------------------------------------------------------------------------
if [ -x /usr/sbin/apache2 ]; then
	A=$T_TMP/apache
	mkdir -p "$A"
	PORT=$(sv_free_port)
	M=/usr/lib/apache2/modules
	# contrib's file with this test's paths; suexec as it ships for the syntax check
	sed -e "s|/var/www/letterbox/letterbox.cgi|$CGI|" -e "s|/var/www/letterbox|$T_TMP/cgi|" \
		-e "s|SuexecUserGroup news news|SuexecUserGroup www-data www-data|" \
		"$TOP/contrib/apache-letterbox.conf" >"$A/letterbox.conf"
	conf() { # conf SUEXEC(yes|no)
		cat <<-EOF
			ServerRoot "$A"
			ServerName 127.0.0.1
			Listen 127.0.0.1:$PORT
			PidFile "$A/httpd.pid"
			ErrorLog "$A/error.log"
			LogLevel warn
			User www-data
			Group www-data
			LoadModule mpm_event_module $M/mod_mpm_event.so
			LoadModule authz_core_module $M/mod_authz_core.so
			LoadModule alias_module $M/mod_alias.so
			LoadModule cgid_module $M/mod_cgid.so
			ScriptSock "$A/cgid.sock"
			$([ "$1" = yes ] && echo "LoadModule suexec_module $M/mod_suexec.so")
			DocumentRoot "$A"
			<VirtualHost 127.0.0.1:$PORT>
			Include "$A/letterbox.conf"
			</VirtualHost>
		EOF
	}
	if [ ! -x /usr/lib/apache2/suexec ]; then
		sed -i '/^SuexecUserGroup/d' "$A/letterbox.conf"
		pass "note: no suexec helper (apache2-suexec-pristine): SuexecUserGroup left out of the check"
	fi
	conf yes >"$A/syntax.conf"
	if /usr/sbin/apache2 -t -f "$A/syntax.conf" >"$A/t.out" 2>&1; then pass "apache2 -t: contrib/apache-letterbox.conf"
	else fail "apache2 -t: contrib/apache-letterbox.conf"; cat "$A/t.out"; fi
	# live, without suexec (it needs its setuid helper and /var/www): the
	# server's own user is the site's user here
	sed -i '/^SuexecUserGroup/d' "$A/letterbox.conf"
	conf no >"$A/live.conf"
	if /usr/sbin/apache2 -f "$A/live.conf" -k start >"$A/start.out" 2>&1 && sv_wait_listen "$PORT"; then
		live "http://127.0.0.1:$PORT" apache
	else
		fail "apache2 starts"; cat "$A/start.out" "$A/error.log" 2>/dev/null
	fi
	/usr/sbin/apache2 -f "$A/live.conf" -k stop >/dev/null 2>&1
	pid=$(cat "$A/httpd.pid" 2>/dev/null) && [ -n "$pid" ] && sv_wait_gone "$pid"
else
	pass "skipped: apache2 is not installed (scripts/deps test installs it)"
fi

# ---- nginx + fcgiwrap -------------------------------------------------------------------------
if [ -x /usr/sbin/nginx ] && [ -x /usr/sbin/fcgiwrap ]; then
	N=$T_TMP/nginx
	mkdir -p "$N"
	chown www-data "$N"
	cp /etc/nginx/fastcgi_params "$N/"
	PORT=$(sv_free_port)
	# as the file says: letterbox itself, through a link named letterbox.cgi,
	# with the site in LETTERBOX_SITE (no wrapper)
	ln -s "$LB" "$N/letterbox.cgi"
	sed -e "s|/usr/local/lib/letterbox/letterbox.cgi|$N/letterbox.cgi|" \
		-e "s|unix:/run/letterbox-fcgiwrap.sock|unix:$N/fcgi.sock|" -e "s|LETTERBOX_SITE /srv/news|LETTERBOX_SITE $S|" \
		"$TOP/contrib/nginx-letterbox.conf" >"$N/letterbox.conf"
	check "nginx: the site is LETTERBOX_SITE" grep -q "LETTERBOX_SITE $S;" "$N/letterbox.conf"
	cat >"$N/nginx.conf" <<-EOF
		user www-data;
		worker_processes 1;
		pid $N/nginx.pid;
		error_log $N/error.log;
		events { worker_connections 64; }
		http {
			access_log off;
			client_body_temp_path $N/body;
			fastcgi_temp_path $N/fastcgi;
			proxy_temp_path $N/proxy;
			uwsgi_temp_path $N/uwsgi;
			scgi_temp_path $N/scgi;
			server {
				listen 127.0.0.1:$PORT;
				include $N/letterbox.conf;
			}
		}
	EOF
	if /usr/sbin/nginx -t -c "$N/nginx.conf" >"$N/t.out" 2>&1; then pass "nginx -t: contrib/nginx-letterbox.conf"
	else fail "nginx -t: contrib/nginx-letterbox.conf"; cat "$N/t.out"; fi
	# fcgiwrap as the site's user, as contrib/letterbox-fcgiwrap.service runs it
	setpriv --reuid=www-data --regid=www-data --init-groups /usr/sbin/fcgiwrap -c 2 -s "unix:$N/fcgi.sock" \
		>"$N/fcgiwrap.log" 2>&1 &
	SV_PIDS+=("$!")
	for _ in $(seq 100); do [ -S "$N/fcgi.sock" ] && break; sleep 0.05; done
	if /usr/sbin/nginx -c "$N/nginx.conf" >"$N/start.out" 2>&1 && sv_wait_listen "$PORT"; then
		live "http://127.0.0.1:$PORT" nginx
	else
		fail "nginx starts"; cat "$N/start.out" "$N/error.log" 2>/dev/null
	fi
	/usr/sbin/nginx -c "$N/nginx.conf" -s stop >/dev/null 2>&1
	pid=$(cat "$N/nginx.pid" 2>/dev/null) && [ -n "$pid" ] && sv_wait_gone "$pid"
else
	pass "skipped: nginx or fcgiwrap is not installed (scripts/deps test installs them)"
fi
