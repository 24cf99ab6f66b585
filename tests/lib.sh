# Shared helpers for the shell test scripts.  Source it; every check is
# recorded in $T_RESULTS so tests/run can print one "N passed, N failed" line.
set -u
: "${LB_BUILD:=build}"
: "${T_RESULTS:=$(mktemp)}"
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LB="$TOP/$LB_BUILD/letterbox"
PY=/usr/bin/python3

pass() { echo "  ok   $*"; echo pass >>"$T_RESULTS"; }
fail() { echo "  FAIL $*"; echo fail >>"$T_RESULTS"; }
# check DESCRIPTION COMMAND...: pass when the command succeeds
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
# tool NAME: prints the path of tests/tools/NAME.c as the Makefile builds it, brought up
# to date first when this is the default build (a test never runs a stale copy, nor one
# built from a hand-kept list of sources); fails, saying why, when there is none.
tool() {
	local t=$TOP/$LB_BUILD/tools/$1
	if [ "$LB_BUILD" = build ] &&
		! make -s --no-print-directory -C "$TOP" "build/tools/$1" >"$T_TMP/tool.log" 2>&1; then
		head -20 "$T_TMP/tool.log" >&2
		return 1
	fi
	[ -x "$t" ] && echo "$t"
}
# sup_records SITE / pending_records SITE: the suppression records (the
# pending reports) in state/letterbox.db, one a line, in the format of the
# files they replaced: when TAB reason TAB address TAB evidence.
# consent_records SITE: confirmed requested source list address ip-request
# ip-confirm consent ("-" for empty), as state/consent had them.
store_rows() {
	[ -e "$1/state/letterbox.db" ] || return 0
	sqlite3 -batch -separator $'\t' "$1/state/letterbox.db" "$2"
}
sup_records() { store_rows "$1" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', at, 'unixepoch'), reason,
	address, evidence FROM sup_records ORDER BY seq"; }
pending_records() { store_rows "$1" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', at, 'unixepoch'),
	reason, address, evidence FROM sup_pending ORDER BY seq"; }
consent_records() { store_rows "$1" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', confirmed,
	'unixepoch'), strftime('%Y-%m-%dT%H:%M:%SZ', requested, 'unixepoch'), source, list, address,
	iif(ip_request = '', '-', ip_request), iif(ip_confirm = '', '-', ip_confirm),
	iif(hash = '', '-', hash) FROM sup_consent ORDER BY seq"; }
# same DESCRIPTION GOT WANT: pass when the two strings are equal
same() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi; }
# expect_exit CODE DESCRIPTION COMMAND...: pass when the command exits with CODE
expect_exit() {
	local want=$1 d=$2; shift 2
	"$@" >"$T_TMP/out" 2>"$T_TMP/err"; local got=$?
	if [ "$got" = "$want" ]; then pass "$d (exit $got)"; else
		fail "$d: exit $got, want $want"; sed 's/^/       /' "$T_TMP/err" | head -5; fi
}
# grep_err PATTERN DESCRIPTION: the last expect_exit's stderr matches
grep_err() { if grep -qE -- "$1" "$T_TMP/err"; then pass "$2"; else
	fail "$2: stderr lacks /$1/"; sed 's/^/       /' "$T_TMP/err" | head -5; fi; }

# A private copy of the sample site with a fixed secret, in a temp directory.
T_TMP=$(mktemp -d /tmp/lbtest.XXXXXX)
trap 'rm -rf "$T_TMP"' EXIT
# kill_runs DELAY... -- CMD...: run CMD once per delay, kill -9 it after that
# many seconds; prints how many were killed while still running.
kill_runs() {
	local delays=() n=0 pid d
	while [ "$1" != -- ]; do delays+=("$1"); shift; done
	shift
	for d in "${delays[@]}"; do
		"$@" >/dev/null 2>&1 &
		pid=$!
		sleep "$d"
		kill -9 "$pid" 2>/dev/null && n=$((n + 1))
		wait "$pid" 2>/dev/null
	done
	echo "$n"
}

make_site() {
	local d=$1
	mkdir -p "$d/state"
	cp -r "$TOP/letterbox.yaml" "$TOP/newsletters" "$TOP/subscribers" "$TOP/templates" "$d/"
	chmod 700 "$d/state"
	printf '%s\n' 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f >"$d/state/secret"
	chmod 600 "$d/state/secret"
}
# set_web_url SITE [URL]: the site's web.url set to URL, or the web: block
# taken out when there is none (the sample's is http://127.0.0.1:8080/news).
set_web_url() {
	"$PY" - "$1/letterbox.yaml" "${2:-}" <<'PY'
import re, sys
p, url = sys.argv[1], sys.argv[2]
s = re.sub(r"(?m)^web:\n(  .*\n)*", "", open(p).read())
if url:
    s += "web:\n  url: %s\n" % url
open(p, "w").write(s)
PY
}
# Query site $S's indexed store (state/letterbox.db) with the sqlite3 CLI.
# (Nothing, status 1, when there is none yet: the CLI would make one.)
db() {
	[ -f "$S/state/letterbox.db" ] || return 1
	sqlite3 -batch -cmd ".timeout 10000" "$S/state/letterbox.db" "$@"
}
# Run letterbox, under valgrind when LB_VALGRIND=1.
lb() {
	if [ "${LB_VALGRIND:-0}" = 1 ]; then
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
			"$LB" "$@"
	else
		"$LB" "$@"
	fi
}
