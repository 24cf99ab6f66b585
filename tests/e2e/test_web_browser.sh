#!/usr/bin/env bash
# Signing up in headless Chromium (Debian's chromium, chromium-driver and
# python3-selenium: scripts/deps screenshot) through a real lighttpd: the
# form, the confirmation mail from the Maildir outbox, the button.  Skipped
# (one line saying so) where they are not installed.  With SHOTS=DIR the
# screenshots are kept there (docs/subscribe.png, docs/confirmed.png come
# from `SHOTS=docs`).
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
timeout 120 $PY "$TOP/tests/browser/subscribe.py" "$WEB_BASE" "$S/outbox" "$OUT" >"$T_TMP/browser.out" 2>&1
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
exit 0
