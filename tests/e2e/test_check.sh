#!/usr/bin/env bash
# letterbox check runs the checks the commands make before they start, so
# that "all good" means send, preview and poll will start; and what it
# refuses, the commands refuse too, with the same place.
source "$(dirname "$0")/../lib.sh"
art=newsletters/2026-11-25-healing-through-connection.md
NOW="2026-11-25 09:30"

fresh() { rm -rf "$T_TMP/s"; make_site "$T_TMP/s"; S=$T_TMP/s; }
nothing_sent() {
	check "$1: nothing sent" test -z "$(find "$S/outbox" -type f 2>/dev/null)"
	check "$1: no campaign" test -z "$(ls -A "$S/state/campaigns" 2>/dev/null)"
	check "$1: no journal in state/" test ! -e "$S/state/journal" -a ! -e "$S/state/recipients"
}
# fast SECONDS DESCRIPTION: the last command took at most SECONDS
fast() { check "$2 (${T_SECS}s)" test "$T_SECS" -le "$1"; }
timed() { local t0=$SECONDS; "$@"; T_SECS=$((SECONDS - t0)); }

fresh
expect_exit 0 "the sample site passes check" lb -C "$S" check

# ---- item 9: two articles, one slug -----------------------------------------------------------
fresh
sed 's/^date: .*/date: 2026-11-19 09:00/' "$S/$art" >"$S/newsletters/2026-11-19-healing-through-connection.md"
older=newsletters/2026-11-19-healing-through-connection.md
expect_exit 65 "two articles with one slug: check" lb -C "$S" check
grep_err "$older: .*/$art has the same slug 'healing-through-connection'" "names both files"
grep_err "check: 2 problems" "one problem per file"
expect_exit 65 "two articles with one slug: send" lb -C "$S" send --now "$NOW"
grep_err "$older: .*/$art has the same slug" "send names both files"
nothing_sent "one slug"
expect_exit 65 "two articles with one slug: send ARTICLE" lb -C "$S" send healing-through-connection --now "$NOW"
expect_exit 65 "two articles with one slug: send PATH" lb -C "$S" send "$S/$art" --now "$NOW"
nothing_sent "one slug, named"
expect_exit 65 "two articles with one slug: preview" lb -C "$S" preview "$S/$art"
grep_err "/$art: .*/$older has the same slug" "preview names both files"
check "no preview written" test ! -e "$S/preview"
expect_exit 65 "two articles with one slug: status ARTICLE" lb -C "$S" status healing-through-connection
expect_exit 65 "two articles with one slug: send --dry-run" lb -C "$S" send --dry-run --now "$NOW"

# ---- item 10: slugs that are not [a-z0-9][a-z0-9-]* --------------------------------------------
for name in 2026-11-25-..md 2026-11-25-...md Healing_Through.md; do
	fresh
	mv "$S/$art" "$S/newsletters/$name"
	expect_exit 65 "the file name $name: check" lb -C "$S" check
	grep_err "newsletters/$name: the slug '[^']*' \(from the file name\) may hold only lower-case letters" \
		"says what a slug may hold"
	expect_exit 65 "the file name $name: send" lb -C "$S" send --now "$NOW"
	nothing_sent "$name"
done
fresh
sed -i 's/^date:/slug: ..\ndate:/' "$S/$art"
expect_exit 65 "slug: .. in the front matter: check" lb -C "$S" check
grep_err "$art:3:7: the slug '..' may hold only" "names the front matter's place"
expect_exit 65 "slug: .. in the front matter: send" lb -C "$S" send --now "$NOW"
nothing_sent "slug: .."
fresh
sed -i 's/^date:/slug: healing-through-connection\ndate:/' "$S/$art"
expect_exit 0 "slug: repeating the file name's is fine" lb -C "$S" check

# ---- item 11: check refuses what the commands refuse -------------------------------------------
fresh
sed -i 's/^lists: .*/lists: [friends, clients]/' "$S/$art"
expect_exit 65 "lists: names a list that does not exist: check" lb -C "$S" check
grep_err "$art:6:8: lists: there is no list 'clients' \(no subscribers/clients.yaml\)" "names the place"
expect_exit 65 "... and send" lb -C "$S" send --now "$NOW"
grep_err "$art:6:8: lists: there is no list 'clients'" "the same message"

fresh
sed -i 's|^  url: maildir:outbox|  url: smtp://127.0.0.1:1\n  username: news\n  password_file: smtp-password|' "$S/letterbox.yaml"
printf 'secret\n' >"$S/smtp-password"
chmod 644 "$S/smtp-password"
expect_exit 78 "an outgoing password file that is not 0600: check" lb -C "$S" check
grep_err "smtp-password: the password file has mode 0644; it must be 0600" "names the file and the mode"
expect_exit 78 "... and send" lb -C "$S" send --now "$NOW"
grep_err "smtp-password: the password file has mode 0644" "the same message"
chmod 600 "$S/smtp-password"
expect_exit 0 "at 0600 check passes" lb -C "$S" check
sed -i '/^  username: news/d' "$S/letterbox.yaml"
expect_exit 78 "a password without a username: check" lb -C "$S" check
grep_err "outgoing: a password is set but no username" "says so"

fresh
sed -i 's|^  url: maildir:inbox|  url: imaps://127.0.0.1:1/INBOX\n  username: news\n  password_file: imap-password|' "$S/letterbox.yaml"
printf 'secret\n' >"$S/imap-password"
chmod 640 "$S/imap-password"
expect_exit 78 "an incoming password file that is not 0600: check" lb -C "$S" check
grep_err "imap-password: the password file has mode 0640" "names the file and the mode"
expect_exit 78 "... and poll" lb -C "$S" poll
grep_err "imap-password: the password file has mode 0640" "the same message"
sed -i 's|imaps://|imap://mail.example.org/INBOX\n#|' "$S/letterbox.yaml"
chmod 600 "$S/imap-password"
expect_exit 78 "plain imap:// with a password to another host: check" lb -C "$S" check
grep_err "would send the password in clear text" "says so"

sed -i 's|^  ca_file: .*||; s|^  url: imap://mail.example.org/INBOX|  url: imaps://mail.example.org/INBOX\n  ca_file: no-such-ca.pem|' "$S/letterbox.yaml"
expect_exit 78 "an incoming.ca_file that is not there: check" lb -C "$S" check
grep_err "incoming.ca_file .*no-such-ca.pem: No such file" "names the file"

fresh
sed -i 's|^  url: maildir:inbox|  url: maildir:inbox\n  folders:\n    bounces: "Letterbox//Bounces"|' "$S/letterbox.yaml"
expect_exit 78 "a Maildir folder name with an empty part: check" lb -C "$S" check
grep_err 'incoming.folders: folder "Letterbox//Bounces": not a valid Maildir\+\+ folder name' "names the folder"
mkdir -p "$S/inbox/new"
cp "$TOP/tests/fixtures/mail/"*.eml "$S/inbox/new/" 2>/dev/null || printf 'From: a@example.net\nSubject: hi\n\nhello\n' >"$S/inbox/new/1.eml"
expect_exit 78 "... and poll, before it files anything" lb -C "$S" poll
check "nothing filed" test "$(sqlite3 -cmd ".timeout 10000" "file:$S/state/letterbox.db?mode=ro" "SELECT count(*) FROM inq_records" 2>/dev/null || echo 0)" = 0

fresh
sed -i 's/acknowledge: false/acknowledge: true/' "$S/letterbox.yaml"
rm "$S/templates/acknowledgement.txt"
expect_exit 65 "triage.acknowledge without acknowledgement.txt: check" lb -C "$S" check
grep_err "templates/acknowledgement.txt: the template is missing" "names the template"
sed -i 's/acknowledge: true/acknowledge: false/' "$S/letterbox.yaml"
expect_exit 0 "not needed without triage.acknowledge" lb -C "$S" check
sed -i 's/acknowledge: false/acknowledge: true/' "$S/letterbox.yaml"
cp "$TOP/templates/acknowledgement.txt" "$S/templates/"
printf '{{inquiry.nubmer}}\n' >>"$S/templates/acknowledgement.txt"
expect_exit 65 "an unknown name in acknowledgement.txt: check" lb -C "$S" check
grep_err "templates/acknowledgement.txt:[0-9]+: unknown name 'inquiry.nubmer'" "names template:line"

fresh
rm "$S/templates/reply.txt"
expect_exit 65 "no reply.txt (inquiries reply needs it): check" lb -C "$S" check
grep_err "templates/reply.txt: the template is missing" "names the template"

fresh
sed -i 's/^  urgent_to: .*/  urgent_to: ["Clinical lead <clinical-lead@example.org>", "lead@@example.org"]/' "$S/letterbox.yaml"
expect_exit 78 "a bad staff.urgent_to address: check" lb -C "$S" check
grep_err "letterbox.yaml:[0-9]+:60: 'staff.urgent_to': 'lead@@example.org'" "names the item's place"

# ---- item 12: deep nesting fails fast, with the line ---------------------------------------------
deep() { "$PY" -c "import sys; n=int(sys.argv[1]); print(sys.argv[2] + '['*n + ']'*n)" "$@"; }
fresh
deep 100000 'colour: ' >>"$S/letterbox.yaml"
timed expect_exit 78 "letterbox.yaml nested 100,000 deep: check" lb -C "$S" check
grep_err "letterbox.yaml:[0-9]+:[0-9]+: nested more than 64 levels deep" "names the place"
fast 3 "fails fast"
fresh
{ head -n 2 "$S/$art"; deep 100000 'deep: '; tail -n +3 "$S/$art"; } >"$T_TMP/a.md"
mv "$T_TMP/a.md" "$S/$art"
timed expect_exit 65 "front matter nested 100,000 deep: check" lb -C "$S" check
grep_err "$art:3:70: nested more than 64 levels deep" "names the line and column"
fast 3 "fails fast"
timed expect_exit 65 "... and preview" lb -C "$S" preview healing-through-connection
fast 3 "fails fast"
fresh
deep 100000 '  - email: deep@example.org
    city: ' >>"$S/subscribers/friends.yaml"
timed expect_exit 65 "a list nested 100,000 deep: check" lb -C "$S" check
grep_err "subscribers/friends.yaml:[0-9]+:[0-9]+: " "names the place"
fast 3 "fails fast"

# ---- item 15: invalid UTF-8 and NULs at their place ----------------------------------------------
fresh
sed -i 's/^list_id: news.example.org/list_id: news.ex\xffample.org/' "$S/letterbox.yaml"
line=$(grep -an '^list_id:' "$S/letterbox.yaml" | cut -d: -f1)
expect_exit 78 "invalid UTF-8 in letterbox.yaml: check" lb -C "$S" check
grep_err "letterbox.yaml:$line:17: invalid leading UTF-8 octet" "at its line and column, not 1:1"
fresh
sed -i 's/^    name: Ada Lovelace/    name: "Ada\\0Lovelace"/' "$S/subscribers/friends.yaml"
expect_exit 65 "a subscriber name with \\0: check" lb -C "$S" check
grep_err "friends.yaml:7:11: 'ada.lovelace@example.org': the name holds a NUL byte: left out" \
	"names the recipient and the place"
expect_exit 0 "send leaves that one out" lb -C "$S" send --now "$NOW"
check "five sent, not Ada" test "$(grep -l 'ada.lovelace' "$S"/outbox/new/* | wc -l)" = 0
fresh
sed -i 's/^    name: Ada Lovelace/    name: Ada\x00Lovelace/' "$S/subscribers/friends.yaml"
expect_exit 65 "a raw NUL byte in a list: check" lb -C "$S" check
grep_err "friends.yaml:7:14: control characters are not allowed" "at its place, not 1:1"
