#!/usr/bin/env bash
# From nothing to a running site (issue 14): `letterbox init`, its placeholders
# and check, the installed layout (`make install DESTDIR=`) with its fallback
# templates, the crontab lines under cron's own environment, the systemd units.
source "$(dirname "$0")/../lib.sh"

# ---- init with no values: placeholders that check names ------------------------------------
S=$T_TMP/blank
expect_exit 0 "init in a new directory" lb init "$S"
grep -q "^check: " "$T_TMP/out" && fail "init without values: check passed" ||
	pass "init without values: check does not pass"
grep_err "letterbox.yaml:[0-9]+:[0-9]+: 'postal_address' still holds the placeholder CHANGE-ME" \
	"check names the postal address placeholder with its place"
grep_err "'name' still holds the placeholder" "check names the site name placeholder"
grep_err "'from' still holds the placeholder" "check names the from placeholder"
check "init prints the next steps" grep -q "fill in the placeholders" "$T_TMP/out"
expect_exit 78 "check on the placeholders" lb -C "$S" check
for f in letterbox.yaml .gitignore subscribers/news.yaml templates/newsletter.html \
	templates/newsletter.txt templates/reply.txt templates/acknowledgement.txt; do
	check "init wrote $f" test -s "$S/$f"
done
for t in "$TOP"/templates/*; do
	check "init wrote every template: $(basename "$t")" cmp -s "$t" "$S/templates/$(basename "$t")"
done
check "the example article is a draft" grep -q '^draft: true' "$S"/newsletters/*-welcome.md
check ".gitignore keeps state/ out" grep -qx '/state/' "$S/.gitignore"
check "every top-level key is there" bash -c "for k in site from reply_to list_id unsubscribe \
	bounce_to outgoing incoming send staff triage compose styles; do \
	grep -qE \"^(# )?\$k:\" '$S/letterbox.yaml' || exit 1; done"
expect_exit 0 "preview works on the placeholders" lb -C "$S" preview welcome --out "$T_TMP/pv0"
sed -i '/^draft: true/d' "$S"/newsletters/*-welcome.md
lb -C "$S" subscribers add ada@example.org --list news >/dev/null 2>&1
expect_exit 0 "send --dry-run works on the placeholders" lb -C "$S" send welcome --dry-run
expect_exit 0 "a test send works on the placeholders" lb -C "$S" send welcome --to me@example.org
expect_exit 78 "a real send refuses the placeholders" lb -C "$S" send welcome
grep_err "letterbox.yaml:[0-9]+:[0-9]+: 'postal_address' still holds the placeholder" "  naming each"
check "  nothing but the test went out" test "$(ls "$S/outbox/new" | wc -l)" = 1
check "  no campaign" test ! -e "$S/state/campaigns/welcome"
rm -rf "$S/outbox" "$S/state"
sed -i 's/^lists: \[news\]/lists: [news]\ndraft: true/' "$S"/newsletters/*-welcome.md

# ---- refusing a site that is there ----------------------------------------------------------
expect_exit 64 "init refuses a non-empty directory" lb init "$S"
grep_err "is not empty.*--force" "and says how"
check "letterbox.yaml untouched" grep -q CHANGE-ME "$S/letterbox.yaml"

# ---- init with every value: check passes, preview and send --dry-run work -------------------
S=$T_TMP/site
expect_exit 0 "init with values" lb init "$S" --name "Smith & Jones, LLC" \
	--from "Smith & Jones <news@smith.example>" --postal-address "1 High Street, Townsville" \
	--url https://smith.example --timezone Europe/London
check "init ran check: all good" grep -q "^check: all good" "$T_TMP/out"
check "site.name as given" grep -qF 'name: "Smith & Jones, LLC"' "$S/letterbox.yaml"
check "from as given" grep -qF 'from: "Smith & Jones <news@smith.example>"' "$S/letterbox.yaml"
check "reply_to from the from address" grep -qF 'news+{token}@smith.example' "$S/letterbox.yaml"
check "site.url with --url" grep -qF 'url: "https://smith.example/"' "$S/letterbox.yaml"
check "site.timezone written" grep -qE '^  timezone: "Europe/London"' "$S/letterbox.yaml"
expect_exit 0 "check passes on the new site" lb -C "$S" check
expect_exit 0 "preview on the new site" lb -C "$S" preview welcome --out "$T_TMP/pv"
check "preview has the postal address" grep -q "1 High Street, Townsville" "$T_TMP/pv/welcome.txt"
expect_exit 0 "subscribers add" lb -C "$S" subscribers add ada@example.org --name Ada --list news
sed -i '/^draft: true/d; /^# A draft/d' "$S"/newsletters/*-welcome.md
expect_exit 0 "send --dry-run on the new site" lb -C "$S" send welcome --dry-run
check "send --dry-run lists who would get it, without -v" grep -q "would send to ada@example.org" \
	"$T_TMP/out"
check "nothing sent" test -z "$(find "$S/outbox" -type f 2>/dev/null)"

# --force keeps the data, --templates adds only what is missing
echo "# mine" >>"$S/templates/reply.txt"
expect_exit 0 "init --force on a site" lb init --force "$S" --name Other --from n@o.example \
	--postal-address "2 Low Road"
check "--force: the list is kept" grep -q ada@example.org "$S/subscribers/news.yaml"
check "--force: the site's template is kept" grep -q "^# mine" "$S/templates/reply.txt"
check "--force: letterbox.yaml replaced" grep -qF 'name: "Other"' "$S/letterbox.yaml"
check "--force: the old letterbox.yaml kept beside it" \
	grep -qF 'name: "Smith & Jones, LLC"' "$S/letterbox.yaml.old"
check "--force: and said so" grep -q "old letterbox.yaml is kept as .*letterbox.yaml.old" "$T_TMP/out"
rm "$S/templates/acknowledgement.txt"
expect_exit 0 "init --templates" lb init "$S" --templates
check "--templates copied the missing one" cmp -s "$TOP/templates/acknowledgement.txt" \
	"$S/templates/acknowledgement.txt"
check "--templates kept the site's own" grep -q "^# mine" "$S/templates/reply.txt"
expect_exit 64 "init --templates where there is no site" lb init "$T_TMP/none" --templates

# A From address whose local part list_id cannot take as it is ('+'): the
# site still loads.
expect_exit 0 "init --from news+nl@..." lb init "$T_TMP/plus" --name N --from news+nl@plus.example \
	--postal-address P
check "  list_id made of it a domain-like name" grep -qF 'list_id: "news-nl.plus.example"' \
	"$T_TMP/plus/letterbox.yaml"
expect_exit 0 "  check passes" lb -C "$T_TMP/plus" check

# ---- a bad value: one line and a hint ---------------------------------------------------------
expect_exit 64 "init --from with a bad address" lb init "$T_TMP/bad" --from "not an address"
check "one line and a hint" test "$(wc -l <"$T_TMP/err")" -le 2
grep_err "init --from 'not an address'" "names the option and the value"
grep_err "init --help" "hints at --help"
expect_exit 64 "init --timezone Mars/Olympus" lb init "$T_TMP/bad" --timezone Mars/Olympus
grep_err "Europe/London" "says what a time zone looks like"
check "nothing made for a bad value" test ! -e "$T_TMP/bad"
# Values YAML cannot hold (DEL, bytes that are not UTF-8) are refused, not
# written into a letterbox.yaml that then does not load.
expect_exit 64 "init --name with a DEL" lb init "$T_TMP/bad1" --name "$(printf 'a\177b')"
expect_exit 64 "init --name not UTF-8" lb init "$T_TMP/bad2" --name "$(printf 'Caf\351')"
check "nothing made for either" test ! -e "$T_TMP/bad1" -a ! -e "$T_TMP/bad2"
# The zone is checked as config.c checks site.timezone (against TZDIR when
# set), so init never writes one the site then refuses.
mkdir -p "$T_TMP/nozones"
TZDIR=$T_TMP/nozones expect_exit 64 "init --timezone a zone TZDIR lacks" \
	lb init "$T_TMP/bad3" --timezone Europe/London

# ---- check: the templates the features need -------------------------------------------------
S=$T_TMP/site
rm "$S"/templates/reply.* "$S"/templates/acknowledgement.txt
sed -i 's/^  acknowledge: false/  acknowledge: true/' "$S/letterbox.yaml"
expect_exit 65 "check: a site without reply and acknowledgement templates" lb -C "$S" check
grep_err "templates/reply.txt: the template is missing" "names reply.txt"
grep_err "templates/acknowledgement.txt: the template is missing" "names acknowledgement.txt"

# ---- the installed layout: make install DESTDIR=, then the installed binary -------------------
D=$T_TMP/root
make -s --no-print-directory -C "$TOP" BUILD="$LB_BUILD" install DESTDIR="$D" >"$T_TMP/install.log" 2>&1
check "make install DESTDIR=" test -x "$D/usr/local/bin/letterbox"
IL=$D/usr/local/bin/letterbox
SH=$D/usr/local/share/letterbox
for t in "$TOP"/templates/*; do
	check "installed template $(basename "$t")" cmp -s "$t" "$SH/templates/$(basename "$t")"
done
check "installed crontab example" test -s "$SH/examples/crontab.example"
check "installed units" test -s "$SH/examples/systemd/letterbox-poll-watch.service"
check "installed man page" test -s "$D/usr/local/share/man/man1/letterbox.1"
check "the man page names the installed examples" grep -q "share/letterbox/examples" \
	"$D/usr/local/share/man/man1/letterbox.1"

# The site lacks reply and acknowledgement: the installed ones are used, and said.
expect_exit 0 "installed binary: check uses the installed templates" "$IL" -C "$S" check
grep_err "templates/reply.txt: not in the site; where needed, .*/usr/local/share/letterbox/templates/reply.txt is used" \
	"check says which installed file it uses"
"$IL" -v -C "$S" inquiries --help >/dev/null 2>&1
I=$T_TMP/inst
expect_exit 0 "installed binary: init" "$IL" init "$I" --name N --from "N <n@n.example>" \
	--postal-address "3 Road"
rm "$I"/templates/newsletter.*
expect_exit 0 "installed binary: check without newsletter templates" "$IL" -C "$I" check
expect_exit 0 "installed binary: preview -v with the installed template" \
	"$IL" -v -C "$I" preview welcome --out "$T_TMP/ipv"
grep_err "templates/newsletter.html: not in the site, using .*/share/letterbox/templates/newsletter.html" \
	"-v says which template file it used"
expect_exit 0 "installed binary: send --dry-run" "$IL" -C "$I" send welcome --dry-run --to x@n.example
if [ -e /usr/local/share/letterbox/templates/newsletter.html ]; then
	echo "  skip the build's binary without installed templates: /usr/local has them"
else
	expect_exit 65 "the build's binary, no installed copy: check names the missing template" \
		lb -C "$I" check
	grep_err "templates/newsletter.html: the template is missing, and .* has none either" \
		"names newsletter.html and where it looked"
fi

# ---- cron: each line of the example crontab under cron's environment ------------------------
C=$T_TMP/cron
"$IL" init "$C" --name N --from "N <n@n.example>" --postal-address "3 Road" >/dev/null 2>&1
vars=() jobs=0
while IFS= read -r line; do
	case $line in '#'* | '') continue ;; esac
	if [[ $line =~ ^([A-Z_]+)=(.*)$ ]]; then
		v=${BASH_REMATCH[2]}
		case ${BASH_REMATCH[1]} in
		PATH) v=${v//\/usr\/local\/bin/$D\/usr\/local\/bin} ;;
		SITE) v=$C ;;
		esac
		vars+=("${BASH_REMATCH[1]}=$v")
		continue
	fi
	# Five time fields, then the command; cron turns \% into %.
	cmd=$(echo "$line" | sed -E 's/^([^ ]+ +){5}//; s/\\%/%/g')
	(cd /tmp && env -i PATH=/usr/bin:/bin "${vars[@]}" sh -c "$cmd") >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	if [ "$rc" = 0 ] || [ "$rc" = 75 ]; then pass "cron line runs: $cmd (exit $rc)"; else
		fail "cron line: $cmd: exit $rc"; sed 's/^/       /' "$T_TMP/err" | head -3; fi
	jobs=$((jobs + 1))
done <"$SH/examples/crontab.example"
same "the crontab has four jobs" "$jobs" 4
check "cron: poll made the site's state" test -d "$C/state"

# ---- systemd: the units verify ----------------------------------------------------------------
if command -v systemd-analyze >/dev/null 2>&1; then
	U=$T_TMP/units
	mkdir -p "$U"
	for f in "$SH"/examples/systemd/*.service "$SH"/examples/systemd/*.timer; do
		sed "s|/usr/local/bin/letterbox|$IL|" "$f" >"$U/$(basename "$f")"
	done
	# verify exits 0 on an unknown key too: a line naming one of our files is a failure.
	systemd-analyze verify --man=no "$U"/*.service "$U"/*.timer >"$T_TMP/verify" 2>&1
	vrc=$?
	if [ "$vrc" = 0 ] && ! grep -q "$U/" "$T_TMP/verify"; then
		pass "systemd-analyze verify: the units, nothing said about them"
	else
		fail "systemd-analyze verify (exit $vrc)"; sed 's/^/       /' "$T_TMP/verify" | head -10
	fi
	check "poll-watch restarts on failure" grep -qx "Restart=on-failure" "$U/letterbox-poll-watch.service"
	for h in ProtectSystem=strict ReadWritePaths=/var/lib/letterbox NoNewPrivileges=yes PrivateTmp=yes; do
		check "every service has $h" bash -c "for f in '$U'/*.service; do grep -qx '$h' \"\$f\" || exit 1; done"
	done
	if command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
		R=$T_TMP/sysroot
		mkdir -p "$R/etc"
		: >"$R/etc/passwd"; : >"$R/etc/group"
		check "sysusers.d: makes the letterbox user" \
			bash -c "systemd-sysusers --root='$R' '$SH/examples/systemd/letterbox-sysusers.conf' >/dev/null 2>&1"
		check "sysusers.d: the user is there" grep -q '^letterbox:' "$R/etc/passwd"
		check "tmpfiles.d: the site directory, group setgid" bash -c \
			"systemd-tmpfiles --root='$R' --create '$SH/examples/systemd/letterbox-tmpfiles.conf' &&
			 [ \"\$(stat -c %a '$R/var/lib/letterbox')\" = 2770 ]"
		check "tmpfiles.d: state/ shared-group (2770)" \
			test "$(stat -c %a "$R/var/lib/letterbox/state")" = 2770
		# init fills a site directory whose state/ tmpfiles.d made in advance
		mkdir -p "$T_TMP/pre/state"
		expect_exit 0 "init with an empty state/ already there" lb init "$T_TMP/pre"
		mkdir -p "$T_TMP/pre2/state" && : >"$T_TMP/pre2/state/secret"
		expect_exit 64 "init refuses a state/ with something in it" lb init "$T_TMP/pre2"
	fi
	# poll --watch stops on SIGTERM with exit 0 and nothing on stderr (systemctl stop).
	(cd "$I" && exec "$IL" poll --watch) 2>"$T_TMP/watch.err" &
	pid=$!
	sleep 1
	kill -TERM "$pid"
	wait "$pid"
	same "poll --watch: SIGTERM is a clean exit" "$?" 0
	check "poll --watch: nothing logged on SIGTERM" test ! -s "$T_TMP/watch.err"
else
	echo "  skip systemd-analyze verify: systemd is not installed here"
fi

# ---- --help fits a terminal; a bad value is one line and a hint --------------------------------
# fits FILE: at most 24 lines of at most 80 characters
fits() { $PY - "$1" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
bad = [l for l in lines if len(l) > 80]
sys.exit(0 if len(lines) <= 24 and not bad else (print(len(lines), "lines;", *bad, sep="\n") or 1))
PY
}
helps=("" init check preview send poll digest status subscribers inquiries)
for s in list add remove import suppressions; do helps+=("subscribers $s"); done
for s in list show attachment set note reply purge; do helps+=("inquiries $s"); done
for h in "${helps[@]}"; do
	# shellcheck disable=SC2086
	lb $h --help >"$T_TMP/help" 2>&1
	check "letterbox $h --help fits 80x24" fits "$T_TMP/help"
done
check "inquiries reply --help says what reply does" grep -q "templates/reply.html" <(lb inquiries reply --help)
for bad in "send --limit x" "status a b" "subscribers frob" "inquiries show x" "init --bogus" \
	"digest --frob" "frob"; do
	# shellcheck disable=SC2086
	expect_exit 64 "letterbox $bad" lb $bad
	same "  one line and a hint" "$(wc -l <"$T_TMP/err")" 2
	grep_err "--help. (says how|lists them)" "  the hint names --help"
done
