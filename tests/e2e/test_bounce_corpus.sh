#!/usr/bin/env bash
# Real-world bounces: the messages Debian's python3-flufl.bounce ships with its
# tests, scored against the addresses its detector tests expect, and (when
# libsisimai-perl is installed) letterbox's verdicts compared with Sisimai's on
# those messages and on tests/fixtures/mail.  The floors are what letterbox
# scored when this test was written: a change that loses a bounce fails here.
#
# Then our own corpus, tests/data/bounces/*.eml: real DSNs that Postfix, Exim
# and Sendmail made
# on loopback (mta-*: tests/tools/mta_bounces.sh, mta_bounces_exim.sh,
# mta_bounces_sendmail.sh) and hand-made shapes (dsn-* and others), each
# with a .expect beside it (tests/tools/bounce_expect.py says its format).
# Every message must be as its .expect says, and letterbox must name the same
# failed recipients as Sisimai for at least SISIMAI_CORPUS_PCT% of the files
# Sisimai reads as bounces (tests/tools/bounce_sisimai.py: where a DSN's
# Original-Recipient differs, letterbox names it, Sisimai keeps it as alias).
source "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1

FLUFL_FLOOR=106      # of 109 flufl samples with expected addresses
SISIMAI_ADDR_FLOOR=107 # of 110 bounces Sisimai reads, same failed addresses
SISIMAI_CORPUS_PCT=97  # % of tests/data/bounces Sisimai reads as bounces
SISIMAI_KIND_FLOOR=6   # of 6 auto-replies and complaints Sisimai recognises

FLUFL=/usr/lib/python3/dist-packages/flufl/bounce
if [ ! -d "$FLUFL/tests/data" ] || [ ! -f "$FLUFL/testing/helpers.py" ]; then
	fail "python3-flufl.bounce is not installed (scripts/deps test installs it)"
	exit 0
fi

# The driver, as the Makefile builds it.
drv=$(tool classify_file) || { fail "tests/tools/classify_file.c builds (make tool-bin)"; exit 0; }
pass "tests/tools/classify_file.c builds"

data=$FLUFL/tests/data
samples=("$data"/*.txt tests/fixtures/mail/*.eml)
corpus=(tests/data/bounces/*.eml)
all=$((${#samples[@]} + ${#corpus[@]}))
"$drv" "${samples[@]}" "${corpus[@]}" >"$T_TMP/ours.tsv" 2>"$T_TMP/drv.err"
check "the driver classifies all $all samples" test "$(wc -l <"$T_TMP/ours.tsv")" -eq "$all"

# Our corpus against the .expect files.
$PY tests/tools/bounce_expect.py "$T_TMP/ours.tsv" "${corpus[@]}" >"$T_TMP/expect.out"
read -r _ exp_ok exp_n < <(grep '^RESULT' "$T_TMP/expect.out")
grep -v '^RESULT' "$T_TMP/expect.out"
echo "  tests/data/bounces: ${exp_ok:-0} of ${#corpus[@]} as their .expect says (kind, recipient, severity)"
check "tests/data/bounces: all ${#corpus[@]} as their .expect says" \
	test "${exp_ok:-0}" -eq "${#corpus[@]}" -a "${#corpus[@]}" -gt 30

# flufl.bounce's expectations live in its test helper's DATA table; read it
# with ast rather than importing (that would need nose2).
$PY - "$FLUFL/testing/helpers.py" "$T_TMP/ours.tsv" "$FLUFL_FLOOR" >"$T_TMP/flufl.out" <<'EOF'
import ast, sys
helpers, ours, floor = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = None
for node in ast.parse(open(helpers).read()).body:
    if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == 'DATA':
        data = ast.literal_eval(node.value)
expect = {}
for row in data:
    want = {a.decode().lower() for a in row[2]}
    if want or row[1] not in expect:      # a file listed twice: keep the real answer
        expect[row[1]] = (want, len(row) > 3 and row[3])
got = {}
for line in open(ours):
    f = line.rstrip('\n').split('\t')
    got[f[0].rsplit('/', 1)[-1]] = f
right = total = permanence = 0
for name, (want, temporary) in sorted(expect.items()):
    if not want:
        continue                          # flufl itself finds nothing there
    total += 1
    f = got.get(name)
    ok = f is not None and f[1] == 'bounce' and {a.lower() for a in f[3].split(',') if a} == want
    right += ok
    if ok and (f[2] != 'hard') == bool(temporary):
        permanence += 1
    if not ok:
        print('  miss %s: want %s, got %s' % (name, sorted(want), f[1:4] if f else None))
print('RESULT %d %d %d' % (right, total, permanence))
EOF
read -r _ right total permanence < <(grep '^RESULT' "$T_TMP/flufl.out")
grep -v '^RESULT' "$T_TMP/flufl.out"
echo "  flufl.bounce corpus: $right of $total bounces detected with the right addresses" \
	"($permanence also agree on permanent vs temporary)"
check "flufl.bounce corpus: at least $FLUFL_FLOOR of $total right" test "${right:-0}" -ge "$FLUFL_FLOOR"

# Sisimai, an independent bounce analyser, as a second opinion.
if ! perl -MSisimai -e 1 2>/dev/null; then
	echo "  (libsisimai-perl not installed: no Sisimai comparison)"
	exit 0
fi
perl -MSisimai -e '
	for my $f (@ARGV) {
		my $v = Sisimai->make($f, delivered => 1) || [];
		printf "%s\t%s\t%s\t%s\t%d\n", $f, lc($_->recipient->address), lc($_->alias // ""),
			$_->reason, $_->softbounce for @$v;
	}' "${samples[@]}" "${corpus[@]}" >"$T_TMP/sisimai.tsv" 2>/dev/null

pct() { awk -v a="${1:-0}" -v n="${2:-0}" 'BEGIN {printf "%.1f%%", n ? 100 * a / n : 0}'; }
$PY tests/tools/bounce_sisimai.py "$T_TMP/sisimai.tsv" "$T_TMP/ours.tsv" other >"$T_TMP/sisimai.out"
read -r _ addr_ok addr_n sev_ok kind_ok kind_n strict_ok < <(grep '^RESULT' "$T_TMP/sisimai.out")
grep -v '^RESULT' "$T_TMP/sisimai.out"
echo "  flufl.bounce + fixtures: Sisimai agrees on the failed addresses of $addr_ok of $addr_n" \
	"bounces ($(pct "$addr_ok" "$addr_n"); $(pct "$strict_ok" "$addr_n") on Final-Recipient alone;" \
	"hard vs soft for $sev_ok), on $kind_ok of $kind_n auto-replies/complaints"
check "Sisimai agreement: at least $SISIMAI_ADDR_FLOOR bounces" test "${addr_ok:-0}" -ge "$SISIMAI_ADDR_FLOOR"
check "Sisimai agreement: at least $SISIMAI_KIND_FLOOR auto-replies/complaints" \
	test "${kind_ok:-0}" -ge "$SISIMAI_KIND_FLOOR"

$PY tests/tools/bounce_sisimai.py "$T_TMP/sisimai.tsv" "$T_TMP/ours.tsv" corpus >"$T_TMP/corpus.out"
read -r _ addr_ok addr_n sev_ok kind_ok kind_n strict_ok < <(grep '^RESULT' "$T_TMP/corpus.out")
grep -v '^RESULT' "$T_TMP/corpus.out"
echo "  tests/data/bounces: Sisimai reads $addr_n as bounces; same failed recipients for $addr_ok" \
	"($(pct "$addr_ok" "$addr_n"); $(pct "$strict_ok" "$addr_n") on Final-Recipient alone;" \
	"hard vs soft for $sev_ok), on $kind_ok of $kind_n auto-replies/complaints"
check "tests/data/bounces: Sisimai recipient agreement at least $SISIMAI_CORPUS_PCT%" \
	test "$((${addr_ok:-0} * 100))" -ge "$((SISIMAI_CORPUS_PCT * ${addr_n:-1}))" -a "${addr_n:-0}" -gt 0

# Never a bounce in the staff's inquiry list: no message that Sisimai reads as a
# bounce or a complaint (anything but an auto-reply or a delivery) is an inquiry.
$PY - "$T_TMP/sisimai.tsv" "$T_TMP/ours.tsv" >"$T_TMP/asinq.out" <<'PY'
import sys
reports = set()
for line in open(sys.argv[1]):
    f = line.rstrip('\n').split('\t')
    if f[3] not in ('vacation', 'delivered'):
        reports.add(f[0])
bad = [f[0] for f in (l.rstrip('\n').split('\t') for l in open(sys.argv[2]))
       if f[0] in reports and f[1] == 'inquiry']
for b in bad:
    print('  an inquiry, though Sisimai reads a report:', b)
print('RESULT %d %d' % (len(bad), len(reports)))
PY
read -r _ asinq nreports < <(grep '^RESULT' "$T_TMP/asinq.out")
grep -v '^RESULT' "$T_TMP/asinq.out"
check "none of the $nreports messages Sisimai reads as a bounce or complaint is filed as an inquiry" \
	test "${asinq:-1}" -eq 0 -a "${nreports:-0}" -gt 100
