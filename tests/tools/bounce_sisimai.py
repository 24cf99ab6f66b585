"""bounce_sisimai.py SISIMAI.tsv OURS.tsv corpus|other: letterbox vs Sisimai.

SISIMAI.tsv: "file<TAB>recipient<TAB>alias<TAB>reason<TAB>softbounce" per
record Sisimai makes (lower case); OURS.tsv: classify_file's output.  Only
the files under tests/data/bounces ("corpus") or only the others ("other").

A bounce agrees when letterbox names each of Sisimai's failed recipients and
nothing else.  Sisimai reports a DSN's Final-Recipient and keeps
Original-Recipient (or Postfix's "expanded from") as its alias; letterbox
names the address we sent to, Original-Recipient (README: classification):
Sisimai's recipient, its alias, or the Original-Recipient the report pairs
with that Final-Recipient counts.  The strict figure counts Final-Recipient alone.  Prints a
line per difference, then "RESULT agree bounces severity kind_ok kinds strict".
"""
import collections
import re
import sys

FIELD = re.compile(r'^(final|original)-recipient:[ \t]*[^;\n]*;[ \t]*<?([^\s<>]+)>?', re.I | re.M)


def pairs(path):
    """Final-Recipient -> Original-Recipient, as the report's blocks pair them."""
    out = {}
    try:
        raw = open(path, encoding='utf-8', errors='replace').read()
    except OSError:
        return out
    for block in re.split(r'\n[ \t]*\r?\n', raw.replace('\r\n', '\n')):
        got = {k.lower(): v.lower() for k, v in FIELD.findall(block)}
        if 'final' in got and 'original' in got:
            out[got['final']] = got['original']
    return out


def main():
    corpus = sys.argv[3] == 'corpus'
    theirs = collections.defaultdict(list)
    for line in open(sys.argv[1]):
        f, addr, alias, reason, soft = line.rstrip('\n').split('\t')
        if ('/tests/data/bounces/' in '/' + f) == corpus:
            theirs[f].append((addr, alias, reason, int(soft)))
    ours = {}
    for line in open(sys.argv[2]):
        f = line.rstrip('\n').split('\t')
        ours[f[0]] = f
    agree = strict = n = sev = kind_ok = kind_n = 0
    for f, rows in sorted(theirs.items()):
        o = ours.get(f)
        if o is None:
            continue
        name = f.rsplit('/', 1)[-1]
        reasons = {r for _, _, r, _ in rows}
        if reasons <= {'vacation', 'feedback'}:  # an auto-reply or a complaint
            kind_n += 1
            want = 'auto-reply' if reasons == {'vacation'} else 'complaint'
            kind_ok += o[1] == want
            if o[1] != want:
                print('  differ %s: Sisimai %s, letterbox %s' % (name, want, o[1]))
            continue
        failed = [(a, al, s) for a, al, _, s in rows if s in (0, 1)]
        if not failed:
            continue
        n += 1
        got = {x.lower() for x in o[3].split(',') if x} if o[1] == 'bounce' else set()
        finals = {a for a, _, _ in failed}
        paired = pairs(f)
        names = [{a, al.strip('<>'), paired.get(a, '')} - {''} for a, al, _ in failed]
        same = (len(got) == len(finals) and all(k & got for k in names) and
                all(any(x in k for k in names) for x in got))
        strict += got == finals
        agree += same
        if same:
            sev += (o[2] == 'hard') == all(s == 0 for _, _, s in failed)
        else:
            print('  differ %s: Sisimai %s, letterbox %s %s' % (name, sorted(finals), o[1], o[3]))
    print('RESULT %d %d %d %d %d %d' % (agree, n, sev, kind_ok, kind_n, strict))


main()
