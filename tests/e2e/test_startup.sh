#!/usr/bin/env bash
# What every run pays before it starts (issue 12, bench/web: a web server
# starts one `letterbox cgi` per request): libcurl and the libraries it pulls
# in are opened only by what talks SMTP or IMAP (src/deliver/curl_load.h),
# and a link named *.cgi is `letterbox cgi` with no shell in between.
source "$(dirname "$0")/../lib.sh"
NOW="2026-11-25 10:00"
S=$T_TMP/site
make_site "$S"

check "letterbox does not link libcurl" bash -c "! readelf -d '$LB' | grep -q 'NEEDED.*libcurl'"

# A libcurl that cannot be loaded (an empty file first in the search path):
# what does not talk to a server never notices; what does says why.
B=$T_TMP/badlib
mkdir -p "$B"
: >"$B/libcurl-gnutls.so.4"
: >"$B/libcurl.so.4"
css() { # PROGRAM [ARGS]: the status line of GET /static/letterbox.css
	env -i PATH=/usr/bin:/bin LD_LIBRARY_PATH="$B" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET \
		PATH_INFO=/static/letterbox.css SCRIPT_NAME=/news SERVER_NAME=127.0.0.1 SERVER_PORT=80 \
		SERVER_PROTOCOL=HTTP/1.1 REMOTE_ADDR=127.0.0.1 LETTERBOX_SITE="$S" "$@" 2>"$T_TMP/cgi.err" |
		head -1 | tr -d '\r'
}
same "cgi answers without libcurl" "$(css "$LB" cgi)" "Status: 200 OK"
expect_exit 0 "subscribers list without libcurl" env LD_LIBRARY_PATH="$B" "$LB" -C "$S" subscribers list
sed -i 's|^  url: maildir:outbox|  url: smtp://127.0.0.1:1|' "$S/letterbox.yaml"
expect_exit 70 "send over SMTP without libcurl" env LD_LIBRARY_PATH="$B" "$LB" -C "$S" send --now "$NOW"
grep_err "cannot load libcurl: .*libcurl" "  says that libcurl cannot be loaded, and why"
sed -i 's|^  url: smtp://127.0.0.1:1|  url: maildir:outbox|' "$S/letterbox.yaml"

# Run through a link named NAME.cgi, letterbox is `letterbox cgi` for the
# site in LETTERBOX_SITE, whatever its arguments (Apache passes a query
# without "=" as arguments, RFC 3875 4.4).
ln -s "$LB" "$T_TMP/letterbox.cgi"
same "a link named letterbox.cgi answers the request" "$(css "$T_TMP/letterbox.cgi")" "Status: 200 OK"
same "  its arguments are not letterbox's" "$(css "$T_TMP/letterbox.cgi" send --now)" "Status: 200 OK"
ln -s "$LB" "$T_TMP/letterbox-cgi"
expect_exit 64 "  another name is the command line (no command: usage)" "$T_TMP/letterbox-cgi"

# scripts/web-conf (make serve, the tests, bench/web) sets lighttpd up that way
"$TOP/scripts/web-conf" "$T_TMP/web" 127.0.0.1 8080 "$S" "$LB" || fail "scripts/web-conf"
same "web-conf: www/news.cgi is a link to letterbox" "$(readlink "$T_TMP/web/www/news.cgi")" "$LB"
check "  the site is in LETTERBOX_SITE" grep -qF "\"LETTERBOX_SITE\" => \"$S\"" "$T_TMP/web/lighttpd.conf"
