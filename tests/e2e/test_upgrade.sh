#!/usr/bin/env bash
# A site whose state/ the release before the indexed store wrote
# (tests/data/state-v1) upgrades itself on its first command (store/db.h):
# every record is read in, the old files are kept as NAME.pre-1 until the
# next successful command, nothing is filed twice afterwards, and a kill -9
# at any point of the upgrade loses nothing.
source "$(dirname "$0")/../lib.sh"
FXS=$TOP/tests/data/state-v1
EXP=$FXS/expect
# What the areas of the store read in and rename (db_schema.c).
OLD="inquiries poll acknowledged suppressions suppressions.pending consent signup.limits"

site() {
	rm -rf "$T_TMP/s"
	make_site "$T_TMP/s"
	S=$T_TMP/s
	set_web_url "$S" http://127.0.0.1:8080/news
	sed -i 's/^  acknowledge: false/  acknowledge: true/' "$S/letterbox.yaml"
	rm -rf "$S/state"
	cp -a "$FXS/state" "$S/state"
	chmod 700 "$S/state"
	chmod 600 "$S/state/secret" # git keeps no 0600: a fresh checkout has it 0644
}
# same_as NAME CMD...: CMD's output is what the release printed (expect/NAME)
same_as() {
	local name=$1
	shift
	if lb -C "$S" "$@" >"$T_TMP/got" 2>"$T_TMP/err" && cmp -s "$T_TMP/got" "$EXP/$name"; then
		pass "  $* as before the upgrade"
	else
		fail "  $* as before the upgrade: $(diff "$EXP/$name" "$T_TMP/got" | head -5) $(head -2 "$T_TMP/err")"
	fi
}
everything_as_before() {
	same_as inquiries.json inquiries list --status all --json
	same_as show-1.txt inquiries show 1
	same_as show-1-full.txt inquiries show 1 --full
	same_as copy-1-1.txt inquiries show 1 --copy 1
	same_as show-2.txt inquiries show 2
	same_as show-3.txt inquiries show 3
	same_as suppressions.json subscribers suppressions --json
	same_as pending.json subscribers suppressions --pending --json
	same_as consent.json subscribers consent --json
	same_as subscribers.json subscribers list --json
	same_as status.txt status
}

# --- the first command upgrades ------------------------------------------------------------
site
expect_exit 0 "the first command on a site from the release before" lb -C "$S" status
check "  made state/letterbox.db" test -s "$S/state/letterbox.db"
check "  0600" test "$(stat -c %a "$S/state/letterbox.db")" = 600
for f in $OLD; do
	check "  state/$f kept as $f.pre-1" test -e "$S/state/$f.pre-1" -a ! -e "$S/state/$f"
done
everything_as_before
for f in $OLD; do
	check "  the next successful command removed $f.pre-1" test ! -e "$S/state/$f.pre-1"
done

# --- nothing is filed twice: the messages it had filed come again ----------------------------
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
for m in "$FXS"/inbox/cur/*; do
	b=${m##*/}
	cp "$m" "$S/inbox/new/${b%%:*}"
done
expect_exit 0 "poll with every message it had filed delivered again" lb -C "$S" poll --json \
	--now "2026-11-22 09:00"
check "  every one is a duplicate" \
	test "$(grep -c '"duplicate":true' "$T_TMP/out")" -eq "$(ls "$FXS"/inbox/cur | wc -l)"
same_as inquiries.json inquiries list --status all --json
same_as suppressions.json subscribers suppressions --json
same_as pending.json subscribers suppressions --pending --json

# --- a kill -9 at each point of the upgrade --------------------------------------------------
for at in upgrade-imported upgrade-committed upgrade-renamed; do
	site
	LETTERBOX_TEST_CRASH=$at lb -C "$S" status >/dev/null 2>&1
	check "killed at $at" test $? -eq 137
	if [ "$at" = upgrade-imported ]; then
		for f in $OLD; do
			check "  state/$f untouched" test -e "$S/state/$f" -a ! -e "$S/state/$f.pre-1"
		done
	fi
	expect_exit 0 "  the next command after the kill at $at" lb -C "$S" inquiries list
	for f in $OLD; do
		check "  state/$f is $f.pre-1 after it" test -e "$S/state/$f.pre-1" -a ! -e "$S/state/$f"
	done
	everything_as_before
done

# --- and kill -9 at random moments of the first command --------------------------------------
lost=0
for d in 0.001 0.003 0.005 0.008 0.01 0.02 0.03 0.05; do
	site
	lb -C "$S" status >/dev/null 2>&1 &
	pid=$!
	sleep "$d"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	lb -C "$S" status >"$T_TMP/got" 2>&1 && cmp -s "$T_TMP/got" "$EXP/status.txt" || lost=$((lost + 1))
	lb -C "$S" inquiries list --status all --json >"$T_TMP/got" 2>&1 &&
		cmp -s "$T_TMP/got" "$EXP/inquiries.json" || lost=$((lost + 1))
	lb -C "$S" subscribers suppressions --json >"$T_TMP/got" 2>&1 &&
		cmp -s "$T_TMP/got" "$EXP/suppressions.json" || lost=$((lost + 1))
done
same "kill -9 at 8 moments of the upgrade: every record there after the next command" "$lost" 0

# --- a database from a newer letterbox is refused ------------------------------------------
site
lb -C "$S" status >/dev/null 2>&1
sqlite3 "$S/state/letterbox.db" 'PRAGMA user_version = 99' 2>/dev/null ||
	"$PY" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version = 99"); c.commit()' \
		"$S/state/letterbox.db"
expect_exit 65 "a state/letterbox.db from a newer letterbox" lb -C "$S" status
grep_err "newer than this letterbox" "  says so"

