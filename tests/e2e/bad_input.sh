#!/usr/bin/env bash
# Bad input: a clear error naming the place, the right exit code, nothing
# written half-way.
source "$(dirname "$0")/../lib.sh"
art=newsletters/2026-11-25-healing-through-connection.md

fresh() { rm -rf "$T_TMP/s"; make_site "$T_TMP/s"; S=$T_TMP/s; }
nothing_written() { check "$1: no preview written" test ! -e "$S/preview"; }

fresh
expect_exit 0 "the sample site passes check" lb -C "$S" check

fresh
sed -i '/^title:/d' "$S/$art"
expect_exit 65 "article without a title: check" lb -C "$S" check
grep_err "2026-11-25-healing-through-connection.md:2:1: the front matter is missing the required key 'title'" \
	"names the article and the key"
expect_exit 65 "article without a title: preview" lb -C "$S" preview healing-through-connection
nothing_written "article without a title"

fresh
sed -i 's/^date: .*/date: [2026-11-25/' "$S/$art"
expect_exit 65 "front matter that is not YAML" lb -C "$S" preview healing-through-connection
grep_err 'healing-through-connection.md:[0-9]+:[0-9]+: ' "gives file:line:col"
nothing_written "bad front matter"

fresh
sed -i 's/^date: .*/date: 25 November/' "$S/$art"
expect_exit 65 "a date that is not a date" lb -C "$S" check
grep_err "md:3:7: 'date' must be a date" "points at the date's value"

fresh
printf 'site:\n  name: x\n  url: [unclosed\n' >"$S/letterbox.yaml"
expect_exit 78 "letterbox.yaml that is not YAML" lb -C "$S" check
grep_err 'letterbox.yaml:[0-9]+:[0-9]+: ' "gives file:line:col"

fresh
sed -i 's/^list_id:/colour: blue\nlist_id:/' "$S/letterbox.yaml"
expect_exit 78 "an unknown key in letterbox.yaml" lb -C "$S" check
grep_err "letterbox.yaml:[0-9]+:1: unknown key 'colour'" "names the unknown key and its place"

fresh
sed -i 's/^outgoing:/outgoing:\n  connections: many/' "$S/letterbox.yaml"
expect_exit 78 "a key with the wrong type" lb -C "$S" check
grep_err "letterbox.yaml:[0-9]+:16: 'connections' must be a whole number" "names the value's place"

fresh
sed -i 's/^incoming:/incoming:\n  timeout: 0s/' "$S/letterbox.yaml"
expect_exit 78 "incoming.timeout of 0s" lb -C "$S" check
grep_err "letterbox.yaml:[0-9]+:12: 'timeout' must be from 1s to 1h" "names the value's place and the range"

fresh
sed -i '/^list_id:/d' "$S/letterbox.yaml"
expect_exit 78 "a missing required key" lb -C "$S" preview healing-through-connection
grep_err "missing the required key 'list_id'" "names the missing key"
nothing_written "missing list_id"

fresh
sed -i 's/{{site.name}}/{{site.nmae}}/' "$S/templates/newsletter.txt"
expect_exit 65 "a template with an unknown name: check" lb -C "$S" check
grep_err "templates/newsletter.txt:[0-9]+: unknown name 'site.nmae'" "names template:line"
expect_exit 65 "a template with an unknown name: preview" lb -C "$S" preview healing-through-connection
nothing_written "unknown template name"

fresh
sed -i 's/{{site.name}}/{{site.nmae}}/' "$S/templates/reply.txt"
expect_exit 65 "a reply template with an unknown name: check" lb -C "$S" check
grep_err "templates/reply.txt:[0-9]+: unknown name 'site.nmae'" "names template:line"

fresh
sed -i 's/^  - mei.chen@example.org/  - mei.chen@@example.org/' "$S/subscribers/friends.yaml"
expect_exit 65 "a list with a bad address" lb -C "$S" check
grep_err "subscribers/friends.yaml:[0-9]+:5: 'mei.chen@@example.org'" "names the address and file:line"

fresh
sed -i 's/^    name: Ada Lovelace/    name: "Ada\\r\\nBcc: victim@example.net"/' "$S/subscribers/friends.yaml"
expect_exit 65 "a name with CR/LF in a list" lb -C "$S" check
grep_err "friends.yaml:[0-9]+:5: the name holds a line break" "names the place"

fresh
expect_exit 64 "--to with CR/LF" lb -C "$S" preview healing-through-connection --to $'Ada\r\nBcc: x@y.z <ada@example.org>'
nothing_written "--to with CR/LF"
expect_exit 64 "an unknown option" lb -C "$S" preview --bogus healing-through-connection
expect_exit 66 "an article that does not exist" lb -C "$S" preview no-such-article
expect_exit 64 "an unknown command" lb -C "$S" frobnicate
expect_exit 0 "--version" lb --version
expect_exit 0 "preview --help" lb preview --help

# Hostile mail: what reaches the staff's terminal is shown, never obeyed.
fresh
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
printf 'From: Eve \xe2\x80\xae Evil <eve@example.net>\r\nTo: news@example.org\r\nSubject: Invoice \xe2\x80\xaefdp.exe\r\nMessage-ID: <esc1@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello \x1b[8mhidden\x1b[0m text\x07 \x1b]0;pwned\x07\r\n\tindented line\r\n' \
	>"$S/inbox/new/1.eml"
expect_exit 0 "poll a message with escapes and a bidi override" lb -C "$S" poll
raw_bytes() { LC_ALL=C grep -qP '[\x00-\x08\x0b-\x1f\x7f]|\xe2\x80\xae' "$1"; }
expect_exit 0 "inquiries (list)" lb -C "$S" inquiries
check "the list shows the override visibly" grep -q 'Invoice <U+202E>fdp.exe' "$T_TMP/out"
check "... and the sender's" grep -q 'Eve <U+202E> Evil' "$T_TMP/out"
if raw_bytes "$T_TMP/out"; then fail "the list holds no raw control or bidi character"; else
	pass "the list holds no raw control or bidi character"; fi
expect_exit 0 "inquiries show" lb -C "$S" inquiries show 1
check "the body's ESC and BEL are shown as \\x1b and \\x07" grep -qF 'Hello \x1b[8mhidden\x1b[0m text\x07 \x1b]0;pwned\x07' "$T_TMP/out"
check "the subject's override is shown" grep -q '^Subject: *Invoice <U+202E>fdp.exe$' "$T_TMP/out"
check "tabs and line breaks in the body stay" grep -q $'^\tindented line$' "$T_TMP/out"
if raw_bytes "$T_TMP/out"; then fail "show prints no raw control or bidi character"; else
	pass "show prints no raw control or bidi character"; fi
expect_exit 0 "--json stays JSON" lb -C "$S" inquiries list --json
check "... with the subject as received" "$PY" -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))[0]["subject"] != "Invoice \u202efdp.exe")' "$T_TMP/out"
lb -C "$S" inquiries show 1 >"$T_TMP/before"
expect_exit 64 "assign= with an escape sequence" lb -C "$S" inquiries set 1 $'assign=ma\e[2Jria'
expect_exit 64 "assign= with a bidi override" lb -C "$S" inquiries set 1 $'assign=ma\u202eria'
expect_exit 64 "--by with an escape sequence" lb -C "$S" inquiries note 1 hello $'--by=x\e]0;t\a'
lb -C "$S" inquiries show 1 >"$T_TMP/after"
check "none of them changed the inquiry" cmp -s "$T_TMP/before" "$T_TMP/after"

# Staff who may not read state/ are told so (77, or 74 for another I/O
# error), with the path: never "nothing there".
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$LB" -C "$S" "$@"; }
open_site() { chmod o+x "$T_TMP"; chmod -R o+rX "$S"; chmod "$1" "$S/state"; }
fresh
open_site 700
chown -R nobody "$S/state"
expect_exit 0 "a fresh site of the user's own: status" as_nobody status
check "... says no campaigns yet" grep -q "^no campaigns yet$" "$T_TMP/out"
expect_exit 0 "... inquiries" as_nobody inquiries
check "... says there are none" grep -q "^no new or open inquiries$" "$T_TMP/out"
fresh
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
printf 'From: <ann@example.net>\nTo: news@example.org\nSubject: hello\nMessage-ID: <perm1@example.net>\n\nA question.\n' >"$S/inbox/new/1.eml"
lb -C "$S" poll >/dev/null 2>&1
lb -C "$S" send --now "2026-11-25 10:00" >/dev/null 2>&1
lb -C "$S" subscribers remove ada.lovelace@example.org >/dev/null 2>&1
open_site 700
expect_exit 77 "inquiries as a user who may not read state/" as_nobody inquiries
grep_err "state/(letterbox.db|inquiries/log): Permission denied" "... names the path and the reason"
expect_exit 77 "inquiries show 1, likewise" as_nobody inquiries show 1
grep_err "Permission denied" "... not 'there is no inquiry 1'"
expect_exit 77 "status, likewise" as_nobody status
grep_err "state/(letterbox.db|campaigns): Permission denied" "... not 'no campaigns yet'"
expect_exit 77 "status ARTICLE, likewise" as_nobody status healing-through-connection
# (and frees what it loaded before the error: under valgrind, unless $LB is built with
# ASan, which then checks the case above itself)
vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)
grep -q __asan_init "$LB" && vg=()
expect_exit 77 "... leaking nothing" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"${vg[@]}" "$LB" -C "$S" status healing-through-connection
expect_exit 77 "subscribers suppressions, likewise" as_nobody subscribers suppressions
expect_exit 77 "digest --dry-run, likewise" as_nobody digest --dry-run
expect_exit 77 "send --dry-run, likewise" as_nobody send --dry-run --now "2026-11-25 10:00"
chmod 755 "$S/state"
chmod 600 "$S/state/letterbox.db"
expect_exit 77 "inquiries with only the database unreadable" as_nobody inquiries
chmod 700 "$S/state/campaigns"
expect_exit 77 "status with only state/campaigns closed" as_nobody status
mv "$S/state/campaigns" "$S/state/campaigns.d"
touch "$S/state/campaigns"
expect_exit 74 "status when state/campaigns is not a directory: an I/O error" lb -C "$S" status
grep_err "state/campaigns: Not a directory" "... names the path and the reason"

# A state file is never read through a symbolic link (one to a FIFO would hang the
# reader for ever: `status` under cron, the poll), and one that cannot be read is an
# error, never read as empty.
fresh
mkfifo "$T_TMP/fifo"
ln -s "$T_TMP/fifo" "$S/state/suppressions.pending"
expect_exit 74 "status with state/suppressions.pending a symbolic link to a FIFO" \
	timeout 10 "$LB" -C "$S" status
grep_err "suppressions\.pending: a symbolic link" "... refused at once, saying so"
rm "$S/state/suppressions.pending"
mkfifo "$S/state/suppressions.pending"
expect_exit 74 "status with a FIFO itself as state/suppressions.pending" \
	timeout 10 "$LB" -C "$S" status
grep_err "suppressions\.pending: not a regular file" "... refused at once, saying so"
rm "$S/state/suppressions.pending"
mkdir -p "$S/state/campaigns/healing-through-connection"
ln -s "$T_TMP/fifo" "$S/state/campaigns/healing-through-connection/missed"
expect_exit 74 "status ARTICLE with its 'missed' note a symbolic link to a FIFO" \
	timeout 10 "$LB" -C "$S" status healing-through-connection
grep_err "missed: a symbolic link" "... refused at once, saying so"
rm "$S/state/campaigns/healing-through-connection/missed"
ln -s "$T_TMP/fifo" "$S/state/campaigns/healing-through-connection/recipients"
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
printf 'From: <MAILER-DAEMON@mx.example.net>\nTo: bounces+aaaaaaaaaaaaaaaa@example.org\nSubject: Undelivered\nMessage-ID: <fifo-bounce@mx.example.net>\n\nGone.\n' >"$S/inbox/new/1.eml"
expect_exit 0 "poll with a campaign's snapshot a symbolic link to a FIFO" \
	timeout 10 "$LB" -C "$S" poll
grep_err "recipients: a symbolic link" "... warns and files the message"
check "... which is no longer in new/" test ! -e "$S/inbox/new/1.eml"
