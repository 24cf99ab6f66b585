#!/usr/bin/env bash
# Crisis detection (issue 11, item 1): the labelled set in tests/data/urgency/
# through the whole classifier (recall >= 98%, false alarms <= 10%, figures
# printed) and then through `poll` on a Maildir inbox (the store's priorities
# must give the same figures), the trial's example through `poll`,
# `check --urgent-words`, and triage.urgent_words / urgent_languages in
# letterbox.yaml (bad entries refused with file:line:col).
source "$(dirname "$0")/../lib.sh"

# --- the labelled set ------------------------------------------------------------------------------
EVAL=$TOP/$LB_BUILD/tools/urgency_eval
"$EVAL" "$TOP"/tests/data/urgency/*.tsv >"$T_TMP/eval"
rc=$?
sed 's/^/       /' "$T_TMP/eval"
if [ "$rc" = 0 ]; then pass "urgency set: $(tail -1 "$T_TMP/eval" | sed 's/; need.*//')"; else
	fail "urgency set below recall 98% or above false alarms 10%: $(tail -1 "$T_TMP/eval")"; fi
# Each language's urgent messages need that language's lexicon.
spanish() { grep -h '^urgent	es' "$TOP"/tests/data/urgency/*.tsv >"$T_TMP/es.tsv"; "$EVAL" -q "$@" "$T_TMP/es.tsv" | grep -o 'recall [0-9/]*'; }
same "  the Spanish crisis messages are all found with es" "$(spanish -l es)" "recall 20/20"
check "  ... and mostly missed without it (the languages key matters)" \
	test "$(spanish -l en | sed 's/recall \([0-9]*\).*/\1/')" -lt 10

# --- the labelled set through `poll`: filed from a Maildir, urgent in the store ---------------------
# Each line is a mail from a sender of its own (no two join as one conversation);
# the store's priorities must give the same figures as the classifier above.
S=$T_TMP/s
make_site "$S"
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
"$PY" - "$S/inbox/new" "$TOP"/tests/data/urgency/*.tsv >"$T_TMP/labels" <<'PY'
import sys
box, n = sys.argv[1], 0
for path in sys.argv[2:]:
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        label, lang, subject, body, reason = line.split("\t")
        n += 1
        with open("%s/%d.eval" % (box, n), "w", encoding="utf-8") as f:
            f.write("From: Person %d <p%d@people.test>\nTo: hello@example.org\nSubject: %s\n"
                    "Date: Tue, 24 Nov 2026 10:00:00 +0000\nMessage-ID: <eval%d@people.test>\n"
                    "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                    "Content-Transfer-Encoding: 8bit\n\n%s\n"
                    % (n, n, subject, n, body.replace("\\n", "\n")))
        print("p%d@people.test\t%s\t%s:%s" % (n, label, path.rsplit("/", 1)[1], reason))
PY
expect_exit 0 "poll files the labelled set ($(wc -l <"$T_TMP/labels") messages)" lb -C "$S" poll
lb -C "$S" inquiries list --status all --json >"$T_TMP/store.json"
"$PY" - "$T_TMP/labels" "$T_TMP/store.json" >"$T_TMP/polled" <<'PY'
import json, sys
prio = {q["from"]: q["priority"] for q in json.load(open(sys.argv[2]))}
urgent = found = normal = alarms = missing = 0
for line in open(sys.argv[1]):
    who, label, why = line.rstrip("\n").split("\t")
    if who not in prio:
        missing += 1; print("  not filed   " + why); continue
    got = prio[who] == "urgent"
    if label == "urgent":
        urgent += 1; found += got
        if not got: print("  missed      " + why)
    else:
        normal += 1; alarms += got
        if got: print("  false alarm " + why)
print("poll: recall %d/%d, false alarms %d/%d, not filed %d" % (found, urgent, alarms, normal, missing))
PY
sed 's/^/       /' "$T_TMP/polled"
tool_figures=$(tail -1 "$T_TMP/eval" | sed -E 's/.*recall ([0-9]+\/[0-9]+).*false alarms ([0-9]+\/[0-9]+).*/recall \1, false alarms \2/')
same "  through poll, the store's priorities give the classifier's figures" \
	"$(tail -1 "$T_TMP/polled")" "poll: $tool_figures, not filed 0"

# --- the trial's example, end to end --------------------------------------------------------------
S=$T_TMP/s2
make_site "$S"
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
# mail FILE SUBJECT BODY
mail() {
	printf 'From: Pat <pat@people.test>\nTo: hello@example.org\nSubject: %s\nDate: Tue, 24 Nov 2026 10:00:00 +0000\nMessage-ID: <%s@people.test>\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s\n' \
		"$2" "$1" "$3" >"$S/inbox/new/$1"
}
mail a.host "Help - my partner hurts me" "I am scared to go home tonight. He hit me again."
mail b.host "Forms" "Which emergency contact should I put on the intake form?"
mail c.host "Ayuda" "Mi esposo me pega y tengo miedo de volver a casa."
expect_exit 0 "poll: the trial's example, an emergency contact, a Spanish disclosure" lb -C "$S" poll --json
urgent_subjects() { lb -C "$S" inquiries list --status all --urgent --json |
	$PY -c 'import json,sys; print("|".join(sorted(q["subject"] for q in json.load(sys.stdin))))'; }
same "  the partner violence and the Spanish one are urgent, the emergency contact is not" \
	"$(urgent_subjects)" "Ayuda|Help - my partner hurts me"

# --- check --urgent-words and the configuration -------------------------------------------------------
expect_exit 0 "check --urgent-words" lb -C "$S" check --urgent-words
check "  prints the English lexicon" grep -q '^# built in: en$' "$T_TMP/out"
check "  ... and the Spanish one" grep -q '^# built in: es$' "$T_TMP/out"
check "  ... phrase by phrase" grep -qx 'kill\* {myself,meself,myslef}' "$T_TMP/out"
# set_triage YAML-LINES: replace the triage section
set_triage() {
	$PY - "$S/letterbox.yaml" "$1" <<'PY'
import re, sys
p, body = sys.argv[1:3]
s = open(p).read()
s = re.sub(r"(?m)^triage:\n(  .*\n)*", "triage:\n" + body + "\n", s)
open(p, "w").write(s)
PY
}
set_triage '  urgent_languages: [es]
  urgent_words: ["panic attack", "-hit me with"]'
expect_exit 0 "triage.urgent_languages: [es], two urgent_words" lb -C "$S" check --urgent-words
check "  lists Spanish" grep -q '^# built in: es$' "$T_TMP/out"
if grep -q '^# built in: en$' "$T_TMP/out"; then fail "  ... but not English"; else pass "  ... but not English"; fi
check "  ... then the configured phrases" grep -q -A2 '^# triage.urgent_words$' "$T_TMP/out"
check "  ... as written" grep -qx -- '-hit me with' "$T_TMP/out"
line=$(grep -n urgent_languages "$S/letterbox.yaml" | cut -d: -f1)
set_triage '  urgent_languages: [en, xx]'
expect_exit 78 "an unknown language is refused" lb -C "$S" check
grep_err "letterbox.yaml:$line:[0-9]+: .*no built-in lexicon for 'xx' \(there are: en, es\)" "  with its place and the languages there are"
set_triage '  urgent_words: ["{hit,punch me"]'
expect_exit 78 "a phrase that cannot be read is refused" lb -C "$S" check
grep_err "letterbox.yaml:$line:[0-9]+: 'triage.urgent_words': \"\{hit,punch me\": unbalanced \{ \}" "  with its place and why"
