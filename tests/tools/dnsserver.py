#!/usr/bin/python3
"""dnsserver: a tiny DNS server for tests, on 127.0.0.1 (UDP) only.

    dnsserver.py --records FILE --port-file FILE

FILE holds NAME=TEXT lines: a TXT record TEXT at NAME (several lines with
one NAME: several records; TEXT longer than 255 octets is split into
strings as a zone file would).  NAME=!SERVFAIL makes queries for NAME fail
with SERVFAIL.  Any other name is NXDOMAIN; a known name asked for another
type gets an empty answer.  The records file is read again for every query,
so a test can change it between runs.  The chosen port is written to the
port file once the server listens.  letterbox is pointed at it with
LETTERBOX_TEST_DNS=127.0.0.1:PORT (test-only; see src/cmd/check_dns.c).
"""
import argparse
import socket
import struct


def load(path):
    recs = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#") or "=" not in line:
                continue
            name, text = line.split("=", 1)
            recs.setdefault(name.rstrip(".").lower(), []).append(text)
    return recs


def parse_name(data, off):
    labels = []
    while True:
        n = data[off]
        off += 1
        if n == 0:
            return ".".join(labels), off
        labels.append(data[off:off + n].decode("ascii", "replace"))
        off += n


def answer(data, recs):
    qid, flags, qd = struct.unpack(">HHH", data[:6])
    name, off = parse_name(data, 12)
    qtype, qclass = struct.unpack(">HH", data[off:off + 4])
    question = data[12:off + 4]
    rd = flags & 0x0100
    texts = recs.get(name.lower())
    rcode, rrs = 0, []
    if texts is None:
        rcode = 3
    elif texts == ["!SERVFAIL"]:
        rcode = 2
    elif qtype == 16:
        for t in texts:
            b = t.encode()
            rdata = b"".join(bytes([len(b[i:i + 255])]) + b[i:i + 255]
                             for i in range(0, max(len(b), 1), 255))
            rrs.append(b"\xc0\x0c" + struct.pack(">HHIH", 16, 1, 60, len(rdata)) + rdata)
    head = struct.pack(">HHHHHH", qid, 0x8080 | rd | rcode, 1, len(rrs), 0, 0)
    return head + question + b"".join(rrs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", required=True)
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(s.getsockname()[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    while True:
        data, peer = s.recvfrom(4096)
        try:
            s.sendto(answer(data, load(a.records)), peer)
        except (IndexError, struct.error, OSError):
            pass


if __name__ == "__main__":
    main()
