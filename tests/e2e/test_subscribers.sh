#!/usr/bin/env bash
# letterbox subscribers: list, add, remove, import and suppressions, run by the
# real binary on a copy of the sample site.
source "$(dirname "$0")/../lib.sh"
CSV=$TOP/tests/fixtures/csv

fresh() { rm -rf "$T_TMP/s"; make_site "$T_TMP/s"; S=$T_TMP/s; F=$S/subscribers/friends.yaml; }
# jcheck DESCRIPTION PYTHON: run PYTHON with d = the JSON on the last stdout; pass if it is true
jcheck() { check "$1" "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$T_TMP/out"; }
# only_added BEFORE AFTER: AFTER is BEFORE with lines added, not one byte of BEFORE changed
only_added() { [ "$(git diff --no-index --numstat "$1" "$2" | cut -f2)" = 0 ] && ! diff "$1" "$2" | grep -q '^<'; }
out_has() { grep -qE -- "$1" "$T_TMP/out"; }
no_temp_files() { [ -z "$(find "$S/subscribers" -name '*.tmp.*')" ]; }

# ---- list ------------------------------------------------------------------------------------
fresh
expect_exit 0 "list" lb -C "$S" subscribers list
check "list shows the six sample subscribers" test "$(grep -c '@example.org' "$T_TMP/out")" = 6
check "list shows the status" out_has '^friends +ada.lovelace@example.org +active +Ada Lovelace$'
expect_exit 0 "list --json" lb -C "$S" subscribers list --json
jcheck "JSON: one array of 6 objects with the documented keys" \
	'len(d) == 6 and all(sorted(o) == ["address", "list", "name", "source", "status"] for o in d)'
jcheck "JSON: names as written, null when there is none, all active" \
	'd[1]["name"] == "Zoë Ångström" and d[3]["name"] == "Dana \"Dee\" Whitfield" and d[5]["name"] is None and {o["status"] for o in d} == {"active"}'
expect_exit 64 "list --list of a list that does not exist" lb -C "$S" subscribers list --list nope
grep_err "no list 'nope' \(lists: friends\)" "names the lists there are"

fresh
printf '  - email: eve@example.org\n    name: "Eve \\u202Egnp.exe \\u2066x\\u2069"\n' >>"$F"
expect_exit 0 "list, with a bidi override in a name" lb -C "$S" subscribers list
check "the override is shown, not obeyed" out_has '^friends +eve@example.org +active +Eve <U\+202E>gnp.exe <U\+2066>x<U\+2069>$'
if LC_ALL=C grep -q $'\xe2\x80\xae' "$T_TMP/out"; then fail "no raw U+202E on the terminal"; else
	pass "no raw U+202E on the terminal"; fi

# ---- add -------------------------------------------------------------------------------------
fresh
cp "$F" "$T_TMP/before.yaml"
expect_exit 0 "add with a name" lb -C "$S" subscribers add noor@example.org --name "Noor Al-Sayed: LMFT"
check "says so" out_has '^added noor@example.org to friends'
check "comments and order survive, byte for byte" only_added "$T_TMP/before.yaml" "$F"
check "appended in the file's block style, quoted where YAML needs it" \
	test "$(tail -n 2 "$F")" = "$(printf '  - email: noor@example.org\n    name: "Noor Al-Sayed: LMFT"')"
expect_exit 0 "the edited site passes check" lb -C "$S" check
cp "$F" "$T_TMP/after1.yaml"
expect_exit 0 "add an address that is already there (other case)" lb -C "$S" subscribers add NOOR@example.org
check "says it is already on the list" out_has 'already on friends: not added again'
check "not added twice" cmp -s "$F" "$T_TMP/after1.yaml"
expect_exit 0 "add in the \"Name <address>\" form" lb -C "$S" subscribers add "Bo Berg <bo@example.org>"
check "the display name is the name" test "$(tail -n 1 "$F")" = "    name: Bo Berg"
cp "$F" "$T_TMP/after2.yaml"
expect_exit 65 "a bad address" lb -C "$S" subscribers add 'ada@@example.org'
grep_err "'ada@@example.org'" "the error names the address"
expect_exit 65 "a name with a line break" lb -C "$S" subscribers add x@example.org --name "$(printf 'a\nb')"
grep_err "line break" "says what is wrong with the name"
check "nothing written for either" cmp -s "$F" "$T_TMP/after2.yaml"
expect_exit 64 "add without an address" lb -C "$S" subscribers add
expect_exit 64 "add with two addresses" lb -C "$S" subscribers add a@example.org b@example.org
expect_exit 64 "add with a list name that is a path" lb -C "$S" subscribers add a@example.org --list ../x
check "no file outside subscribers/" test ! -e "$S/x.yaml"

expect_exit 0 "add to a list that does not exist yet" lb -C "$S" subscribers add pat@example.org --list staff
check "the new list has name: and subscribers:" \
	test "$(cat "$S/subscribers/staff.yaml")" = "$(printf 'name: staff\nsubscribers:\n  - email: pat@example.org')"
expect_exit 64 "add without --list when there are two lists" lb -C "$S" subscribers add q@example.org
grep_err "2 lists \(friends, staff\): say which with --list" "asks for --list, naming the lists"
expect_exit 64 "import without --list when there are two lists" lb -C "$S" subscribers import "$CSV/listmonk_export.csv"
expect_exit 0 "both lists pass check" lb -C "$S" check

# ---- remove and suppressions -------------------------------------------------------------------
fresh
cp "$F" "$T_TMP/before.yaml"
expect_exit 0 "remove someone on the list" lb -C "$S" subscribers remove Ada.Lovelace@example.org
check "says the list file is left alone" out_has 'on friends; the list file is left as it is'
check "the list file is not edited" cmp -s "$F" "$T_TMP/before.yaml"
check "state/letterbox.db is 0600" test "$(stat -c %a "$S/state/letterbox.db")" = 600
check "state/ is 0700" test "$(stat -c %a "$S/state")" = 700
expect_exit 0 "remove an address on no list" lb -C "$S" subscribers remove ghost@example.org
check "says it is on no list" out_has 'not on any list: suppressed anyway'
expect_exit 0 "remove it again" lb -C "$S" subscribers remove ghost@example.org
check "says it is already suppressed" out_has 'already suppressed \(removed since'
check "  since a local time, with its zone" out_has 'removed since [0-9-]+ [0-9:]+ [A-Z+0-9-]+\)'
expect_exit 65 "remove a bad address" lb -C "$S" subscribers remove 'not an address'
expect_exit 0 "list --json after remove" lb -C "$S" subscribers list --json
jcheck "the removed subscriber shows as removed, the rest active" \
	'[o["status"] for o in d] == ["removed"] + ["active"] * 5'
expect_exit 0 "suppressions --json" lb -C "$S" subscribers suppressions --json
jcheck "suppressions: address, reason, when (ISO 8601 UTC), evidence" \
	'[o["address"] for o in d] == ["Ada.Lovelace@example.org", "ghost@example.org"] and all(sorted(o) == ["address", "evidence", "reason", "source", "when"] and o["reason"] == "removed" and o["source"] == "staff" and __import__("re").fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", o["when"]) for o in d)'
expect_exit 0 "suppressions as text" lb -C "$S" subscribers suppressions
check "text has a row per suppression" test "$(grep -c removed "$T_TMP/out")" = 2

expect_exit 0 "add a removed address again: re-subscribe" lb -C "$S" subscribers add ada.lovelace@example.org
check "says it is re-subscribed" out_has 're-subscribed, it will be mailed again'
check "the list file is still not edited" cmp -s "$F" "$T_TMP/before.yaml"
expect_exit 0 "suppressions --json after re-subscribing" lb -C "$S" subscribers suppressions --json
jcheck "only ghost is left" '[o["address"] for o in d] == ["ghost@example.org"]'
expect_exit 0 "list --json after re-subscribing" lb -C "$S" subscribers list --json
jcheck "everyone is active again" '{o["status"] for o in d} == {"active"}'

# ---- import --------------------------------------------------------------------------------------
fresh
cp "$F" "$T_TMP/before.yaml"
expect_exit 0 "import a Mailchimp export" lb -C "$S" subscribers import "$CSV/mailchimp_subscribed.csv"
check "imported 4, skipped 1" out_has '^imported 4, skipped 1$'
grep_err "mailchimp_subscribed.csv: row 4: skipped: bad address: 'tom.hughes.example.com'" \
	"the bad row by number and reason"
check "comments and order survive the import" only_added "$T_TMP/before.yaml" "$F"
cp "$F" "$T_TMP/after_mc.yaml"
expect_exit 0 "import a listmonk export" lb -C "$S" subscribers import "$CSV/listmonk_export.csv"
check "imported 4, skipped 1 (listmonk)" out_has '^imported 4, skipped 1$'
grep_err "listmonk_export.csv: row 4: skipped: bad address: 'hana@'" "the bad listmonk row"
check "the second import only adds" only_added "$T_TMP/after_mc.yaml" "$F"
expect_exit 0 "the imported lists pass check" lb -C "$S" check
expect_exit 0 "list --json after the imports" lb -C "$S" subscribers list --json
jcheck "14 subscribers in file order, names joined and quoted right" \
	'len(d) == 14 and d[6]["address"] == "priya.raman@example.net" and d[7]["address"] == "Lena.Fischer@example.de" and d[8]["name"] == "\"Kit\" Marlowe" and d[9]["name"] == "Siobhán Ní Bhriain, MSc" and d[13]["name"] == "Dr. Amara Eze: Family Therapist"'
cp "$F" "$T_TMP/after_both.yaml"
expect_exit 0 "import the same file again" lb -C "$S" subscribers import "$CSV/listmonk_export.csv"
check "all duplicates now: imported 0, skipped 5" out_has '^imported 0, skipped 5$'
grep_err "row 2: skipped: duplicate: arjun.mehta@example.in is already on friends" "names the duplicate"
check "the list file is untouched" cmp -s "$F" "$T_TMP/after_both.yaml"

printf 'E-Mail;Name\r\n"a@example.org";"Semi Colon"\r\n;No Email\r\nA@EXAMPLE.ORG;Again\r\n\r\nb@example.org;"Two\r\nLines"\r\nc@example.org;\r\n' |
	sed '1s/^/\xef\xbb\xbf/' >"$T_TMP/semi.csv"
expect_exit 0 "import: BOM, ';', CRLF, a quoted line break, blanks" lb -C "$S" subscribers import "$T_TMP/semi.csv"
check "imported 3, skipped 2" out_has '^imported 3, skipped 2$'
grep_err "row 3: skipped: missing email" "a row without an email"
grep_err "row 4: skipped: duplicate: A@example.org is on row 2 too" "a duplicate inside the file"
check "a name over two lines becomes one line" grep -qx '    name: Two Lines' "$F"

printf 'email,name,status\nd@example.org,D,blocklisted\ne@example.org,E,enabled\n' >"$T_TMP/status.csv"
expect_exit 0 "import: listmonk's blocklisted rows are skipped" lb -C "$S" subscribers import "$T_TMP/status.csv"
grep_err "row 2: skipped: blocklisted" "says why"

lb -C "$S" subscribers remove gone@example.org >/dev/null
printf 'email\ngone@example.org\n' >"$T_TMP/gone.csv"
expect_exit 0 "import of a suppressed address" lb -C "$S" subscribers import "$T_TMP/gone.csv"
grep_err "gone@example.org stays suppressed \(removed\)" "warns that it stays suppressed"

cp "$F" "$T_TMP/before.yaml"
printf 'Name,Phone\nAda,555\n' >"$T_TMP/noemail.csv"
expect_exit 65 "import a file without an email column" lb -C "$S" subscribers import "$T_TMP/noemail.csv"
grep_err 'no email column.*"Name", "Phone"' "says which columns there are"
printf '"Email Address","First Name","UNSUB_TIME"\nx@example.org,X,2025-01-01\n' >"$T_TMP/unsub.csv"
expect_exit 65 "import Mailchimp's unsubscribed export" lb -C "$S" subscribers import "$T_TMP/unsub.csv"
grep_err "unsubscribed or cleaned" "refuses to subscribe people who left"
printf 'email,name\nx@example.org,"open\n' >"$T_TMP/open.csv"
expect_exit 65 "import a CSV with an unclosed quote" lb -C "$S" subscribers import "$T_TMP/open.csv"
grep_err "open.csv:2: a quoted field" "names the line"
expect_exit 66 "import a file that does not exist" lb -C "$S" subscribers import "$T_TMP/nope.csv"
check "none of these touched the list" cmp -s "$F" "$T_TMP/before.yaml"

# ---- an edit that is refused leaves nothing behind -------------------------------------------------
fresh
printf '# flow style\nname: Friends\nsubscribers: [ada@example.org, zoe@example.org]\n' >"$F"
cp "$F" "$T_TMP/before.yaml"
expect_exit 65 "add to a flow-style list" lb -C "$S" subscribers add new@example.org
grep_err "friends.yaml:3:14: the list is written in flow style" "says where and why"
check "the file is byte for byte the same" cmp -s "$F" "$T_TMP/before.yaml"
check "no temporary file left" no_temp_files
expect_exit 65 "import into a flow-style list" lb -C "$S" subscribers import "$CSV/listmonk_export.csv"
grep_err "nothing was imported" "says nothing was imported"
check "the file is still the same" cmp -s "$F" "$T_TMP/before.yaml"
printf 'name: Friends\nsubscribers:\n  - a@example.org\n  - [broken\n' >"$F"
cp "$F" "$T_TMP/before.yaml"
expect_exit 65 "add to a list that does not parse" lb -C "$S" subscribers add new@example.org
check "the broken file is not touched" cmp -s "$F" "$T_TMP/before.yaml"
check "still no temporary file" no_temp_files

# ---- a file mode and a CRLF file are kept ------------------------------------------------------------
fresh
sed -i 's/$/\r/' "$F"
chmod 640 "$F"
cp "$F" "$T_TMP/before.yaml"
expect_exit 0 "add to a CRLF list" lb -C "$S" subscribers add crlf@example.org --name Cee
check "CRLF kept, new lines CRLF too" test "$(grep -c $'\r$' "$F")" = "$(($(wc -l <"$F")))"
check "and only added" only_added "$T_TMP/before.yaml" "$F"
check "the mode is kept" test "$(stat -c %a "$F")" = 640

# ---- big lists: streamed, in memory that does not grow with them (issue 10) ------------------------
# 300,000 subscribers: a libyaml document of it takes ~360 MB, the text 18 MB.  Under a 64 MB
# address-space limit the edits and check must still work: the list is streamed, never held.
big_list() { # FILE [BAD_AT]: 300,000 entries, entry BAD_AT written as YAML that does not parse
	"$PY" - "$1" "${2:--1}" <<'PYEOF'
import sys
path, bad = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("# a big list\nname: Friends\nsubscribers:\n")
    for i in range(300000):
        f.write(f"  - email: reader{i}@example.org\n    name: \"Reader {i}" + ("" if i == bad else "\"") + "\n")
PYEOF
}
limited() { (ulimit -v 65536; "$@"); }
if [ "${LB_VALGRIND:-0}" != 1 ]; then
	fresh
	big_list "$F"
	cp "$F" "$T_TMP/big.yaml"
	expect_exit 0 "add to a 300,000-subscriber list in 64 MB of address space" limited lb -C "$S" subscribers add new@example.org --name "New One"
	check "says so" out_has '^added new@example.org to friends'
	check "only the new entry added, the rest byte for byte" only_added "$T_TMP/big.yaml" "$F"
	check "at the end, in the file's style" test "$(tail -n 2 "$F")" = "$(printf '  - email: new@example.org\n    name: New One')"
	cp "$F" "$T_TMP/big2.yaml"
	expect_exit 0 "add someone already on it (last but one entry), in 64 MB" limited lb -C "$S" subscribers add READER299999@example.org
	check "not added twice" out_has 'already on friends: not added again'
	check "the file untouched" cmp -s "$F" "$T_TMP/big2.yaml"
	expect_exit 0 "remove someone on it, in 64 MB" limited lb -C "$S" subscribers remove reader299998@example.org
	check "names the list" out_has '^removed reader299998@example.org: .*on friends'
	expect_exit 0 "check the big list in 64 MB" limited lb -C "$S" check
	check "counts every subscriber" out_has 'with 300001 subscribers'
	expect_exit 0 "list --json of the big list in 64 MB" limited lb -C "$S" subscribers list --json
	check "every subscriber listed" test "$(grep -c '"address"' "$T_TMP/out")" = 300001
	expect_exit 0 "list of the big list in 64 MB" limited lb -C "$S" subscribers list
	check "the removed one shown as removed" out_has '^friends +reader299998@example.org +removed \(staff\) +Reader 299998$'
	check "no temporary file left" no_temp_files

	fresh
	big_list "$F" 250000
	cp "$F" "$T_TMP/bad.yaml"
	expect_exit 65 "add to a big list broken near its end, in 64 MB" limited lb -C "$S" subscribers add new@example.org
	grep_err 'friends.yaml:50000[0-9]:[0-9]+: ' "the error names the file, line and column"
	check "the list is untouched" cmp -s "$F" "$T_TMP/bad.yaml"
	check "no temporary file left" no_temp_files
	expect_exit 65 "check reports it too, in 64 MB" limited lb -C "$S" check
	grep_err 'friends.yaml:50000[0-9]:[0-9]+: ' "at its line and column"
fi

# ---- help and usage ---------------------------------------------------------------------------------------
for sub in list add remove import suppressions; do
	expect_exit 0 "subscribers $sub --help" lb -C "$S" subscribers $sub --help
	check "$sub --help prints its usage" out_has "^usage: letterbox subscribers $sub"
done
expect_exit 0 "subscribers --help" lb -C "$S" subscribers --help
expect_exit 64 "subscribers without a subcommand" lb -C "$S" subscribers
expect_exit 64 "an unknown subcommand" lb -C "$S" subscribers frobnicate
expect_exit 64 "an unknown option" lb -C "$S" subscribers list --colour
expect_exit 64 "an option another subcommand has" lb -C "$S" subscribers remove x@example.org --list friends
expect_exit 64 "suppressions takes no arguments" lb -C "$S" subscribers suppressions extra
