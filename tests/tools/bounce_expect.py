"""bounce_expect.py OURS.tsv FILE.eml...: each message against its .expect.

OURS.tsv is classify_file's output.  A .expect beside FILE.eml holds one line
"kind<TAB>recipient<TAB>severity": kind bounce|complaint|autoreply|
unsubscribe|human; recipient lower-cased, several separated by commas, or
"-" (not asserted); severity hard|soft|- ("-": not asserted; a delay warning
counts as soft).  Prints a line per miss, then "RESULT right total".
"""
import os
import sys

KINDS = {'auto-reply': 'autoreply', 'inquiry': 'human', 'subscribe': 'human'}


def main():
    ours = {}
    for line in open(sys.argv[1]):
        f = line.rstrip('\n').split('\t')
        ours[f[0]] = f
    right = total = 0
    for eml in sys.argv[2:]:
        total += 1
        name = eml.rsplit('/', 1)[-1]
        exp = eml[:-4] + '.expect'
        if not os.path.exists(exp):
            print('  miss %s: no .expect beside it' % name)
            continue
        fields = open(exp).readline().rstrip('\n').split('\t')
        if len(fields) != 3:
            print('  miss %s: its .expect is not kind<TAB>recipient<TAB>severity' % name)
            continue
        kind, rcpt, sev = fields
        o = ours.get(eml)
        if o is None or len(o) < 4:
            print('  miss %s: not classified' % name)
            continue
        got_kind = KINDS.get(o[1], o[1])
        got_rcpt = {a.lower() for a in o[3].split(',') if a}
        got_sev = {'delayed': 'soft'}.get(o[2], o[2])
        bad = []
        if got_kind != kind:
            bad.append('kind %s, want %s' % (got_kind, kind))
        if rcpt != '-' and got_rcpt != {a.lower() for a in rcpt.split(',')}:
            bad.append('recipient %s, want %s' % (','.join(sorted(got_rcpt)) or '-', rcpt))
        if sev != '-' and got_sev != sev:
            bad.append('severity %s, want %s' % (got_sev, sev))
        if bad:
            print('  miss %s: %s' % (name, '; '.join(bad)))
        else:
            right += 1
    print('RESULT %d %d' % (right, total))


main()
