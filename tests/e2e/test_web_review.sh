#!/usr/bin/env bash
# What a review of the web side found, each case run straight through
# `letterbox cgi` with a CGI environment (no web server needed): who may
# enter /staff/ (REMOTE_USER blank or space-padded), the staff headers on
# every answer under /staff/ (the router's 404, 405 and 413 too).
source "$(dirname "$0")/../lib.sh"

S=$T_TMP/site
make_site "$S"

# cgi METHOD PATH [VAR=value...]: the whole CGI response to $T_TMP/r; prints its
# status code.  $BODY, when set, is the urlencoded request body.
cgi() {
	local m=$1 p=$2
	shift 2
	printf '%s' "${BODY:-}" | env -i PATH="$PATH" REQUEST_METHOD="$m" PATH_INFO="$p" \
		SCRIPT_NAME=/news HTTP_HOST=127.0.0.1 CONTENT_LENGTH="${#BODY}" \
		CONTENT_TYPE=application/x-www-form-urlencoded "$@" "$LB" -C "$S" cgi \
		>"$T_TMP/r" 2>"$T_TMP/err"
	head -1 "$T_TMP/r" | tr -d '\r' | cut -d' ' -f2
}
hdr() { sed -n '1,/^\r$/p' "$T_TMP/r" | grep -i "^$1:" | head -1 | cut -d: -f2- | sed 's/^ //; s/\r$//'; }

# ---- REMOTE_USER: a name, not blank or padded --------------------------------------------------
BODY=
same "/staff/ as ann (no web.staff: any login)" "$(cgi GET /staff/ REMOTE_USER=ann)" 200
same "/staff/ with REMOTE_USER empty: 403" "$(cgi GET /staff/ REMOTE_USER=)" 403
same "/staff/ with REMOTE_USER one space: 403" "$(cgi GET /staff/ 'REMOTE_USER= ')" 403
same "/staff/ with REMOTE_USER a tab: 403" "$(cgi GET /staff/ "REMOTE_USER=$(printf '\t')")" 403
same "/staff/ with REMOTE_USER 'ann ' (padded): 403" "$(cgi GET /staff/ 'REMOTE_USER=ann ')" 403
same "/staff/ with a line break in REMOTE_USER: 403" "$(cgi GET /staff/ "REMOTE_USER=$(printf 'a\nb')")" 403
sed -i 's|^web:$|web:\n  staff: [ann]|' "$S/letterbox.yaml"
same "web.staff [ann]: ann enters" "$(cgi GET /staff/ REMOTE_USER=ann)" 200
same "  ' ann' does not" "$(cgi GET /staff/ 'REMOTE_USER= ann')" 403
same "  'Ann' does not" "$(cgi GET /staff/ REMOTE_USER=Ann)" 403

# ---- Cache-Control: no-store on every answer under /staff/ -------------------------------------
for c in "GET /staff/" "GET /staff/nope" "DELETE /staff/" "POST /staff/" "GET /staff/inquiries/1/x"; do
	cgi $c REMOTE_USER=ann >/dev/null
	same "$c: Cache-Control no-store" "$(hdr Cache-Control)" no-store
	same "$c:   Referrer-Policy same-origin" "$(hdr Referrer-Policy)" same-origin
	same "$c:   once" "$(sed -n '1,/^\r$/p' "$T_TMP/r" | grep -ci '^Cache-Control:')" 1
done
same "a 70 KB body to /staff/: 413" "$(cgi POST /staff/inquiries/1/note CONTENT_LENGTH=70000)" 413
same "  no-store" "$(hdr Cache-Control)" no-store
cgi GET /subscribe >/dev/null
same "the public pages keep no-referrer" "$(hdr Referrer-Policy)" no-referrer

# ---- "Origin: null" without Sec-Fetch-Site (Safari before 16.4 posting our own
# no-referrer page): the confirmation button works; /subscribe stays strict.
MINT=$(tool confirm_token) || { fail "tests/tools/confirm_token"; exit 1; }
TOK=$("$MINT" "$S/state" "$(date +%s)" friends safari@example.org)
same "POST /confirm/TOKEN, Origin: null alone: 200" "$(cgi POST "/confirm/$TOK" HTTP_ORIGIN=null)" 200
check "  on the list" grep -q "safari@example.org" "$S/subscribers/friends.yaml"
TOK=$("$MINT" "$S/state" "$(date +%s)" friends cross@example.org)
same "  Origin: null with Sec-Fetch-Site: cross-site: 403" \
	"$(cgi POST "/confirm/$TOK" HTTP_ORIGIN=null HTTP_SEC_FETCH_SITE=cross-site)" 403
same "  another site's Origin: 403" "$(cgi POST "/confirm/$TOK" HTTP_ORIGIN=https://evil.example)" 403
check "  neither added" sh -c "! grep -q cross@example.org '$S/subscribers/friends.yaml'"
# ---- RFC 8058: the one-click POST SHOULD be multipart/form-data (its own example) -------------
TA=$($PY -c 'import base64,hashlib,hmac
m=hmac.new(bytes(range(32)),b"news.example.org\0ada.lovelace@example.org",hashlib.sha256).digest()
print(base64.b32encode(m[:10]).decode().lower())')
BODY=$(printf -- '---FormBoundaryjWmhtjORrn\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n---FormBoundaryjWmhtjORrn--\r\n')
same "one-click POST as multipart/form-data: 200" \
	"$(cgi POST "/u/$TA" CONTENT_TYPE='multipart/form-data; boundary=---FormBoundaryjWmhtjORrn')" 200
same "  recorded as unsubscribed by web" \
	"$(sup_records "$S" | grep -c $'\tunsubscribed\tada.lovelace@example.org\tweb: ')" 1
same "  a multipart POST to a staff form: still 403 (no csrf)" "$(cgi POST /staff/inquiries/1/note \
	CONTENT_TYPE='multipart/form-data; boundary=x' REMOTE_USER=ann HTTP_SEC_FETCH_SITE=same-origin)" 403
same "  text/plain: still 415" "$(cgi POST "/u/$TA" CONTENT_TYPE=text/plain)" 415

BODY="email=zoe%40example.org"
same "POST /subscribe, Origin: null alone: still 403" "$(cgi POST /subscribe HTTP_ORIGIN=null)" 403
BODY=


# A gateway that passes REMOTE_USER twice (nginx's fastcgi_params, then a
# fastcgi_param clearing it, reach a directly exec'd CGI as two entries):
# getenv would see the first, unchecked one.  Twice is no login at all.
dup_user() {
	$PY -c 'import ctypes, sys
libc = ctypes.CDLL(None)
env = (ctypes.c_char_p * 5)(b"REQUEST_METHOD=GET", b"PATH_INFO=/staff/",
                            b"REMOTE_USER=ann", b"REMOTE_USER=", None)
argv = (ctypes.c_char_p * 5)(b"letterbox", b"-C", sys.argv[2].encode(), b"cgi", None)
libc.execve(sys.argv[1].encode(), argv, env)' "$LB" "$S" 2>"$T_TMP/dup.err" | head -1 | tr -d '\r'
}
same "REMOTE_USER set twice: 403" "$(dup_user)" "Status: 403 Forbidden"
check "  and the log says why" grep -q "REMOTE_USER is set 2 times" "$T_TMP/dup.err"
