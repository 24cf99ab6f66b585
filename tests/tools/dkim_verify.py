#!/usr/bin/python3
"""Verify every DKIM-Signature of a message with an independent verifier
(Debian's python3-dkim; Ed25519 through python3-nacl).

    dkim_verify.py MESSAGE NAME=RECORD...

NAME is the DNS name a signature points at (lb1._domainkey.example.org) and
RECORD the TXT text published there.  Prints one line per signature,
"ok a=ALG s=SELECTOR" or "FAIL a=ALG s=SELECTOR", and exits 0 only when the
message has at least one signature and every one verifies.  No network.
"""
import re
import sys

import dkim


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 64
    msg = open(sys.argv[1], "rb").read()
    records = {}
    for arg in sys.argv[2:]:
        name, _, rec = arg.partition("=")
        records[name.rstrip(".").lower()] = rec.encode()

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        return records.get(name.rstrip(".").lower())

    d = dkim.DKIM(msg)
    sigs = [v for k, v in d.headers if k.lower() == b"dkim-signature"]
    if not sigs:
        print("FAIL no DKIM-Signature")
        return 1
    bad = 0
    for i, sig in enumerate(sigs):
        tags = dict(re.findall(rb"\s*([a-z]+)\s*=\s*([^;]*)", sig))
        what = "a=%s s=%s" % (tags.get(b"a", b"?").decode(), tags.get(b"s", b"?").decode())
        try:
            ok = d.verify(idx=i, dnsfunc=dnsfunc)
        except dkim.DKIMException as e:
            ok = False
            what += " (%s)" % e
        print(("ok   " if ok else "FAIL ") + what)
        bad += not ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
