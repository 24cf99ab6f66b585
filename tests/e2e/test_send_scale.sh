#!/usr/bin/env bash
# letterbox send on a large list (issue 10): a run's memory does not grow with
# the list (the snapshot is mapped, a byte of state per recipient), and
# status reads a summary kept with the journal, rebuilt when it is missing
# or stale, never trusted over the journal for what is sent.
source "$(dirname "$0")/../lib.sh"
NOW="2026-11-25 10:00"
N=200000
S=$T_TMP/s
make_site "$S"
$PY - "$N" "$S/subscribers/friends.yaml" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("subscribers:\n")
    for i in range(n):
        f.write(f"  - email: reader{i}@example.org\n    name: Reader {i}\n    city: Town {i % 97}\n")
    f.write("  - email: READER7@example.org\n")  # a duplicate, in another case
PY
# peak RSS (KB) of one letterbox run; its exit code in $T_TMP/rc
peak() {
	$PY - "$LB" -C "$S" "$@" <<'PY'
import os, resource, subprocess, sys
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
open(os.environ["T_TMP"] + "/rc", "w").write(str(rc))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}
export T_TMP
# Sanitizer builds carry shadow memory: their sizes say nothing.
rss_le() { # KB LIMIT_KB
	case $LB_BUILD in *asan* | *ubsan*) return 0 ;; esac
	test "$1" -le "$2"
}
counts() { lb -C "$S" status --json | $PY -c "
import json, sys
c = json.loads(sys.stdin.readline())['counts']
print(c['sent'], c['pending'], c['skipped'])"; }
C=$S/state/campaigns/healing-through-connection

# The first run takes the snapshot of 200,000 and sends 500: memory for the
# snapshot was ~60 MB before (the list text, the snapshot text, a copy of
# every address, 80 bytes of state each); now the mapped file's window.
kb=$(peak send --now "$NOW" --limit 500)
same "a 200,000-recipient first run, 500 of them" "$(cat "$T_TMP/rc")" 0
check "its peak RSS is at most 24 MB (was $kb KB)" rss_le "$kb" 24576
check "500 in the outbox" test "$(find "$S/outbox/new" -type f | wc -l)" = 500
kb=$(peak send --now "$NOW" --limit 500)
check "a resumed run's peak RSS is at most 24 MB (was $kb KB)" rss_le "$kb" 24576
check "the summary and the index are written" test -s "$C/summary" -a -s "$C/index"
same "status: 1000 sent, 199000 pending, the duplicate not counted" "$(counts)" "1000 199000 0"
kb=$(peak status)
check "status's peak RSS is at most 12 MB (was $kb KB)" rss_le "$kb" 12288

# Summary: missing (a site from before it existed), stale, or garbage:
# rebuilt from the journal, with the journal's numbers.
rm "$C/summary"
same "no summary: status rebuilds it" "$(counts)" "1000 199000 0"
check "and writes it" test -s "$C/summary"
printf 'S 5000 1796000000 250 2.0.0 ok\n' >>"$C/journal"
same "a record appended after it: rebuilt" "$(counts)" "1001 198999 0"
printf 'letterbox-summary 1\ngarbage\n' >"$C/summary"
same "a garbage summary: rebuilt" "$(counts)" "1001 198999 0"
rm "$C/index"
same "no index: rebuilt" "$(counts)" "1001 198999 0"
check "and written" test -s "$C/index"

# Never trusted over the journal: a summary saying "finished, all sent" for
# this very journal does not stop the run.
$PY - "$C/summary" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p, "rb").read()
head, _, states = s.partition(b"states ")
n, _, rest = states.partition(b"\n")
head = re.sub(rb"finished 0 0", b"finished 1 1796000000", head)
head = re.sub(rb"counts (\d+) (\d+) \d+ \d+ \d+ \d+ \d+", rb"counts \1 \2 \1 0 0 0 0", head)
open(p, "wb").write(head + b"states " + n + b"\n" + bytes([4]) * int(n))
PY
same "the doctored summary is what status reads" "$(counts)" "200000 0 0"
expect_exit 0 "send does not believe it" lb -C "$S" send --now "$NOW" --limit 300
check "300 more in the outbox" test "$(find "$S/outbox/new" -type f | wc -l)" = 1300
same "and status has the journal's numbers again" "$(counts)" "1301 198699 0"

# kill -9 while the snapshot is being taken, or just after: the next run
# starts over or resumes, and nobody gets two.
rm -rf "$S/state/campaigns" "$S/outbox"
killed=$(kill_runs 0.2 0.5 0.9 -- "$LB" -C "$S" send --now "$NOW" --limit 2000)
check "runs were killed mid-way ($killed)" test "$killed" -ge 1
expect_exit 0 "the next run" lb -C "$S" send --now "$NOW" --limit 1000
check "no temp snapshot left behind" test -z "$(find "$C" -name 'recipients.tmp.*')"
dups=$(grep -h '^To:' -r "$S/outbox/new" | sort | uniq -d | wc -l)
same "nobody got two" "$dups" 0
read -r sent pending skipped < <(counts)
unc=$(lb -C "$S" status --json | $PY -c "import json,sys; print(json.loads(sys.stdin.readline())['counts']['uncertain'])")
same "every recipient is sent, uncertain or pending" "$((sent + unc + pending))" "$N"
files=$(find "$S/outbox/new" -type f | wc -l)
check "the outbox holds the sent ones, and at most the uncertain more ($files, $sent, $unc)" \
	test "$files" -ge "$sent" -a "$files" -le $((sent + unc))

exit 0
