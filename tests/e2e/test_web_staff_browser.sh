#!/usr/bin/env bash
# A receptionist's morning in a real browser: headless Chromium (scripts/deps
# screenshot) on the staff pages behind lighttpd's basic auth, driven by
# tests/tools/cdp.py: open the list, take the urgent one, read it, add a note,
# preview a reply and send it, close another.  Then the store says who did it.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/servers.sh"
if ! command -v chromium >/dev/null; then
	echo "  skip (no chromium: scripts/deps screenshot)"
	exit 0
fi
S=$T_TMP/site
make_site "$S"
sed -i 's|^web:$|web:\n  staff: [frontdesk]|' "$S/letterbox.yaml"
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
mail() {
	printf 'From: %s\nTo: hello@example.org\nSubject: %s\nDate: Tue, 24 Nov 2026 10:00:00 +0000\nMessage-ID: <%s@people.test>\nContent-Type: text/plain; charset=utf-8\n\n%s\n' \
		"$2" "$3" "$1" "$4" >"$S/inbox/new/$1"
}
mail b.host "Sam <sam@people.test>" "Forms" "Which emergency contact should I put on the intake form?"
mail a.host "Pat <pat@people.test>" "Please call me" "I am scared to go home tonight. He hit me again."
expect_exit 0 "poll files two inquiries" lb -C "$S" poll
WEB_AUTH="frontdesk:pw-desk" start_lighttpd "$S" || { fail "lighttpd did not start"; exit 1; }
CDP_PORT=$(sv_free_port)
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
	--disable-component-update --disable-sync --no-first-run --hide-scrollbars \
	--user-data-dir="$T_TMP/profile" --window-size=375,900 --remote-debugging-address=127.0.0.1 \
	--remote-debugging-port="$CDP_PORT" about:blank >"$T_TMP/chromium.log" 2>&1 &
CHROME=$!
timeout 120 $PY "$TOP/tests/tools/cdp.py" "$CDP_PORT" \
	"http://frontdesk:pw-desk@127.0.0.1:$WEB_PORT/news" "$T_TMP" >"$T_TMP/steps" 2>&1
rc=$?
# Chromium's own children write to the profile until they are gone.
kill "$CHROME" 2>/dev/null
wait "$CHROME" 2>/dev/null
for ((i = 0; i < 100; i++)); do
	[ -z "$(find "$T_TMP/profile" -name 'Singleton*' 2>/dev/null)" ] && break
	sleep 0.05
done
while read -r line; do
	case $line in ok*) pass "${line#ok   }" ;; FAIL*) fail "${line#FAIL }" ;; *) echo "  $line" ;; esac
done <"$T_TMP/steps"
same "the browser's morning ran to the end" "$rc" 0
N_PAT=$(lb -C "$S" inquiries list --status all --json | $PY -c 'import json,sys; print([q["number"] for q in json.load(sys.stdin) if q["subject"] == "Please call me"][0])')
lb -C "$S" inquiries show "$N_PAT" >"$T_TMP/show"
check "  the store: taken by frontdesk" grep -qE '  frontdesk +assign: frontdesk' "$T_TMP/show"
check "  the note by frontdesk" grep -qE '  frontdesk +note: Called back' "$T_TMP/show"
check "  the reply by frontdesk" grep -qE '  frontdesk +reply: copy 1 sent to pat@people.test' "$T_TMP/show"
check "  the other one closed by frontdesk" grep -qE '  frontdesk +status: new -> closed' <(lb -C "$S" inquiries show "$(lb -C "$S" inquiries list --status closed --json | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["number"])')")
