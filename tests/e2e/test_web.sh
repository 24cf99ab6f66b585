#!/usr/bin/env bash
# letterbox cgi behind a real lighttpd on 127.0.0.1: the rules every route
# shares (headers, 404, 405 with Allow, 413, 400, HEAD), the stylesheet and
# the site's own page template.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/servers.sh"

S=$T_TMP/site
make_site "$S"
start_lighttpd "$S" || { fail "lighttpd did not start"; exit 1; }

# req METHOD PATH [curl args]: headers to $T_TMP/h, body to $T_TMP/b; prints the status
req() {
	local m=$1 p=$2; shift 2
	curl -s -o "$T_TMP/b" -D "$T_TMP/h" -w '%{http_code}' -X "$m" "$@" "$WEB_BASE$p"
}
hdr() { grep -i "^$1:" "$T_TMP/h" | head -1 | cut -d: -f2- | sed 's/^ //; s/\r$//'; }

same "GET / is served" "$(req GET /)" 200
same "CSP on every response" "$(hdr Content-Security-Policy)" \
	"default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'"
same "nosniff" "$(hdr X-Content-Type-Options)" nosniff
same "no referrer" "$(hdr Referrer-Policy)" no-referrer
check "the page names the site" grep -q "Center for Relationship and Intimacy Wellbeing" "$T_TMP/b"
check "the page links the stylesheet under the script's base" \
	grep -q 'href="/news/static/letterbox.css"' "$T_TMP/b"

same "the stylesheet" "$(req GET /static/letterbox.css)" 200
same "  as text/css" "$(hdr Content-Type)" "text/css; charset=utf-8"
check "  with the accent colour" grep -q -- "--accent:#2f5d58" "$T_TMP/b"
printf 'main{border-color:#123456}\n' >"$S/templates/page.css"
req GET /static/letterbox.css >/dev/null
check "  followed by the site's templates/page.css" grep -q "#123456" "$T_TMP/b"

same "unknown path: 404" "$(req GET /nope)" 404
same "  also under a known prefix" "$(req GET /static/other.css)" 404
same "  and for a dot segment" "$(req GET /static/../letterbox.yaml --path-as-is)" 404
check "  the 404 page still has the headers" grep -qi "^Content-Security-Policy:" "$T_TMP/h"

same "POST to a GET-only page: 405" "$(req POST /static/letterbox.css -d x=1)" 405
same "  with Allow" "$(hdr Allow)" "GET, HEAD"
same "PUT: 405" "$(req PUT /)" 405

same "HEAD: 200" "$(curl -s -o /dev/null -w '%{http_code}' -I "$WEB_BASE/")" 200
REQUEST_METHOD=HEAD PATH_INFO=/ "$LB" -C "$S" cgi >"$T_TMP/head"
same "  with the headers of a GET and no body" \
	"$(sed -n '/^\r$/,$p' "$T_TMP/head" | wc -c) $(grep -c '^Content-Length: [1-9]' "$T_TMP/head")" "2 1"

same "a query that is not UTF-8: 400" "$(req GET '/?x=%C3')" 400

# The site's own page template wraps every page.
cat >"$S/templates/page.html" <<'HTML'
<!DOCTYPE html><html><head><title>{{page.title}}</title>
<link rel="stylesheet" href="{{page.stylesheet}}"></head>
<body class="mine"><p>{{site.name}}</p>{{{page.content}}}</body></html>
HTML
req GET / >/dev/null
check "templates/page.html is used" grep -q 'class="mine"' "$T_TMP/b"
printf '{{#broken}}\n' >"$S/templates/page.html"
same "a broken page template still serves" "$(req GET /)" 200
check "  with the built-in page" grep -q '<main>' "$T_TMP/b"
check "  and says so in the server's log" grep -q "page.html" "$WEB_LOG"
rm "$S/templates/page.html"

# A site that cannot be loaded: 500, and the visitor learns nothing of why.
cp "$S/letterbox.yaml" "$T_TMP/yaml.bak"
printf 'site: [\n' >"$S/letterbox.yaml"
same "a broken config: 500" "$(req GET /)" 500
check "  nothing about the config in the answer" sh -c "! grep -q 'letterbox.yaml' '$T_TMP/b'"
check "  the reason is in the server's log" grep -q "letterbox.yaml" "$WEB_LOG"
cp "$T_TMP/yaml.bak" "$S/letterbox.yaml"

# Without a web server: a usage error, not a page.
expect_exit 64 "cgi outside a web server" env -u REQUEST_METHOD "$LB" -C "$S" cgi
grep_err "REQUEST_METHOD" "  says why"

# A body over 64 KB is refused before it is read.
head -c 70000 /dev/zero | tr '\0' a >"$T_TMP/big"
same "a 70 KB body: 413" "$(REQUEST_METHOD=POST PATH_INFO=/static/letterbox.css CONTENT_LENGTH=70000 "$LB" -C "$S" cgi <"$T_TMP/big" | head -1 | tr -d '\r')" "Status: 413 Content Too Large"
