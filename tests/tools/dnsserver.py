#!/usr/bin/python3
"""dnsserver: a tiny DNS server for tests, on 127.0.0.1 (UDP and TCP) only.

    dnsserver.py --records FILE --port-file FILE

FILE holds NAME=TEXT lines: a TXT record TEXT at NAME (several lines with
one NAME: several records; TEXT longer than 255 octets is split into
strings as a zone file would).  NAME=!SERVFAIL makes queries for NAME fail
with SERVFAIL.  Any other name is NXDOMAIN; a known name asked for another
type gets an empty answer.  The records file is read again for every query,
so a test can change it between runs.  The chosen port is written to the
port file once the server listens.  letterbox is pointed at it with
LETTERBOX_TEST_DNS=127.0.0.1:PORT (test-only; see src/cmd/check_dns.c).
An answer longer than 1232 octets goes over UDP truncated (TC set, no
records), so the resolver asks again over TCP on the same port, as with a
real server.
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


UDP_MAX = 1232


def truncated(resp):
    """The header and question of resp, TC set, no records."""
    qid, flags = struct.unpack(">HH", resp[:4])
    off = 12
    while resp[off] != 0:
        off += 1 + resp[off]
    return struct.pack(">HHHHHH", qid, flags | 0x0200, 1, 0, 0, 0) + resp[12:off + 5]


def serve_tcp(t, path):
    while True:
        conn, _ = t.accept()
        try:
            conn.settimeout(5)
            data = b""
            while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            resp = answer(data[2:], load(path))
            conn.sendall(struct.pack(">H", len(resp)) + resp)
        except (IndexError, struct.error, OSError):
            pass
        finally:
            conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", required=True)
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(("127.0.0.1", s.getsockname()[1]))
    t.listen(8)
    import threading
    threading.Thread(target=serve_tcp, args=(t, a.records), daemon=True).start()
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(s.getsockname()[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    while True:
        data, peer = s.recvfrom(4096)
        try:
            resp = answer(data, load(a.records))
            s.sendto(truncated(resp) if len(resp) > UDP_MAX else resp, peer)
        except (IndexError, struct.error, OSError):
            pass


if __name__ == "__main__":
    main()
