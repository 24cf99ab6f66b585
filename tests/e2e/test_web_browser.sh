#!/usr/bin/env bash
# Signing up in headless Chromium (Debian's chromium, chromium-driver and
# python3-selenium: scripts/deps screenshot) through a real lighttpd: the
# form, the confirmation mail from the Maildir outbox, the button.  Skipped
# (one line saying so) where they are not installed.  With SHOTS=DIR the
# screenshots are kept there (docs/subscribe.png, docs/confirmed.png,
# docs/unsubscribed.png come from `SHOTS=docs`).  Then the newsletter's
# unsubscribe link: its button, and the re-subscribe button.
source "$(dirname "$0")/../lib.sh"
if [ ! -x /usr/bin/chromedriver ] || ! $PY -c 'import selenium' 2>/dev/null; then
	echo "  skip browser test: no chromium-driver or python3-selenium (scripts/deps screenshot)"
	exit 0
fi
source "$(dirname "$0")/servers.sh"

S=$T_TMP/site
make_site "$S"
start_lighttpd "$S" || { fail "lighttpd did not start"; exit 1; }
set_web_url "$S" "$WEB_BASE"
OUT=${SHOTS:-$T_TMP/shots}
mkdir -p "$OUT"
# the /u/ token a newsletter would carry for the address signed up (tests/lib.sh's secret)
TB=$($PY -c 'import base64,hashlib,hmac
m=hmac.new(bytes(range(32)),b"news.example.org\0browser@example.org",hashlib.sha256).digest()
print(base64.b32encode(m[:10]).decode().lower())')
timeout 180 $PY "$TOP/tests/browser/subscribe.py" "$WEB_BASE" "$S/outbox" "$OUT" "$WEB_BASE/u/$TB" \
	>"$T_TMP/browser.out" 2>&1
rc=$?
while IFS= read -r line; do
	case $line in
	"  ok   "*) pass "${line#  ok   }" ;;
	"  FAIL "*) fail "${line#  FAIL }" ;;
	*) echo "       $line" ;;
	esac
done <"$T_TMP/browser.out"
same "the browser run ended well" "$rc" 0
check "on the list" grep -q browser@example.org "$S/subscribers/friends.yaml"
same "unsubscribed, re-subscribed, unsubscribed: by web" "$(sup_records "$S" | grep -o $'\t[a-z]*\tbrowser@example.org\tweb: ' \
	| cut -f2 | tr '\n' ' ')" "unsubscribed resubscribed unsubscribed "
exit 0
