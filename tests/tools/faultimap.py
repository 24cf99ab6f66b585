#!/usr/bin/python3
"""faultimap: a small scripted IMAP server for fault injection in tests.

Plain IMAP (or implicit TLS with --tls CERT KEY) on 127.0.0.1 only, just what letterbox's IMAP source sends:
LOGIN (any password but "wrong"), CAPABILITY, SELECT, NOOP, UID SEARCH,
UID FETCH (UID, RFC822.SIZE, BODY.PEEK[], BODY.PEEK[HEADER]), CREATE (every
folder exists already), UID MOVE (the message leaves the mailbox; the folders
keep nothing) and LOGOUT.
The mailbox holds the --msg files, UIDs 1, 2, ... in order, UIDVALIDITY 1234.

The faults are read from DIR/faults at the start of every session (so a test
can make the next poll meet a healthy server on the same port), one a line:
  omit-body UID [N]    leave UID out of body FETCH responses (the first N
                       times it is asked for; always without N)
  omit-size UID [N]    the same for RFC822.SIZE FETCH responses
  gone UID             SEARCH and the first RFC822.SIZE FETCH list UID, then
                       it is expunged (as by another client): no later FETCH
                       or SEARCH has it
  close-mid-literal UID  send half of UID's body literal, then close
  stall-mid-literal UID  send half of UID's body literal, then nothing
  stall-greeting       accept the connection, then send nothing
  stall-reply CMD      answer CMD (SELECT, NOOP, SEARCH, FETCH) with half
                       a line, then nothing
DIR/events.log gets one line per session ("session N"), per FETCH
("fetch body 1:3"), per fault that happened ("omitted body 2",
"closed mid-literal 2", "stalled ..."), per MOVE ("moved 3 Inquiries") and per
disconnect ("bye N").
The port (any free one) is written to --port-file once listening.
"""
import argparse
import os
import re
import socket
import ssl
import threading
import time


class Mailbox:
    def __init__(self, files):
        self.lock = threading.Lock()
        self.msgs = {}  # uid -> bytes
        for i, f in enumerate(files, 1):
            with open(f, "rb") as fh:
                data = fh.read()
            # IMAP messages have CRLF line ends.
            self.msgs[i] = re.sub(rb"\r?\n", b"\r\n", data)
        self.uidnext = len(files) + 1
        self.counts = {}  # (fault, uid) -> times applied

    def uids(self):
        return sorted(self.msgs)


def parse_set(text, maxuid):
    out = set()
    for part in text.split(","):
        a, _, b = part.partition(":")
        lo = maxuid if a == "*" else int(a)
        hi = lo if not b else (maxuid if b == "*" else int(b))
        if lo > hi:
            lo, hi = hi, lo
        out.update(range(lo, hi + 1))
    return out


def load_faults(path):
    faults = []
    try:
        with open(path) as f:
            for line in f:
                w = line.split()
                if w:
                    faults.append(w)
    except FileNotFoundError:
        pass
    return faults


class Session:
    def __init__(self, srv, conn, n):
        self.srv = srv
        self.box = srv.box
        self.conn = conn
        self.n = n
        self.rfile = conn.makefile("rb")
        self.faults = load_faults(os.path.join(srv.dir, "faults"))

    def event(self, text):
        self.srv.event(text)

    def send(self, data):
        self.conn.sendall(data)

    def fault(self, kind, arg=None):
        """The fault's argument words when `kind` (for `arg`) is configured."""
        for w in self.faults:
            if w[0] == kind and (arg is None or (len(w) > 1 and w[1] == str(arg))):
                return w
        return None

    def take(self, kind, uid):
        """Whether a counted fault applies to uid this time (and count it)."""
        w = self.fault(kind, uid)
        if not w:
            return False
        with self.box.lock:
            k = (kind, uid)
            used = self.box.counts.get(k, 0)
            if len(w) > 2 and used >= int(w[2]):
                return False
            self.box.counts[k] = used + 1
        return True

    def stall(self, what):
        self.event("stalled " + what)
        time.sleep(self.srv.stall)
        raise ConnectionError("stalled")

    def maybe_stall_reply(self, cmd):
        if self.fault("stall-reply", cmd):
            self.send(b"* OK [UIDVAL")
            self.stall("reply " + cmd)

    def run(self):
        if self.fault("stall-greeting"):
            self.stall("greeting")
        self.send(b"* OK [CAPABILITY IMAP4rev1 MOVE] faultimap ready\r\n")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            words = line.decode("latin-1").strip().split(" ")
            tag, cmd, args = words[0], (words[1].upper() if len(words) > 1 else ""), words[2:]
            if cmd == "UID" and args:
                cmd, args = "UID " + args[0].upper(), args[1:]
            if cmd == "LOGIN":
                if "wrong" in line.decode("latin-1"):
                    self.send(tag.encode() + b" NO [AUTHENTICATIONFAILED] no\r\n")
                else:
                    self.send(tag.encode() + b" OK logged in\r\n")
            elif cmd == "CAPABILITY":
                self.send(b"* CAPABILITY IMAP4rev1 MOVE\r\n" + tag.encode() + b" OK done\r\n")
            elif cmd == "SELECT":
                self.maybe_stall_reply("SELECT")
                with self.box.lock:
                    n, nxt = len(self.box.msgs), self.box.uidnext
                self.send(b"* %d EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen \\Deleted)\r\n"
                          b"* OK [UIDVALIDITY 1234] ok\r\n* OK [UIDNEXT %d] ok\r\n"
                          % (n, nxt) + tag.encode() + b" OK [READ-WRITE] selected\r\n")
            elif cmd == "NOOP":
                self.maybe_stall_reply("NOOP")
                self.send(tag.encode() + b" OK noop\r\n")
            elif cmd == "UID SEARCH":
                self.maybe_stall_reply("SEARCH")
                self.search(tag, args)
            elif cmd == "UID FETCH":
                self.maybe_stall_reply("FETCH")
                self.fetch(tag, args[0], " ".join(args[1:]).upper())
            elif cmd == "CREATE":
                self.send(tag.encode() + b" NO [ALREADYEXISTS] exists\r\n")
            elif cmd == "UID MOVE":
                self.move(tag, args[0], " ".join(args[1:]))
            elif cmd == "LOGOUT":
                self.send(b"* BYE\r\n" + tag.encode() + b" OK bye\r\n")
                return
            else:
                self.send(tag.encode() + b" BAD not here\r\n")

    def search(self, tag, args):
        # Only "UID SEARCH UID set" (what letterbox sends).
        uids = self.box.uids()
        maxuid = uids[-1] if uids else 0
        want = parse_set(args[1], maxuid) if len(args) > 1 and args[0].upper() == "UID" else set(uids)
        hits = [u for u in uids if u in want]
        self.event("search %s -> %s" % (args[1] if len(args) > 1 else "", ",".join(map(str, hits))))
        self.send(b"* SEARCH" + b"".join(b" %d" % u for u in hits) + b"\r\n")
        self.send(tag.encode() + b" OK search done\r\n")

    def move(self, tag, setspec, folder):
        with self.box.lock:
            uids = self.box.uids()
            want = parse_set(setspec, uids[-1] if uids else 0)
            # Highest first: each EXPUNGE renumbers the messages after it.
            gone = [(seq, u) for seq, u in enumerate(uids, 1) if u in want][::-1]
            for _, u in gone:
                del self.box.msgs[u]
        for seq, u in gone:
            self.event("moved %d %s" % (u, folder))
            self.send(b"* %d EXPUNGE\r\n" % seq)
        self.send(tag.encode() + b" OK moved\r\n")

    def expunge_gone(self):
        for w in self.faults:
            if w[0] == "gone" and int(w[1]) in self.box.msgs:
                with self.box.lock:
                    del self.box.msgs[int(w[1])]
                self.event("expunged %s" % w[1])

    def fetch(self, tag, setspec, items):
        uids = self.box.uids()
        maxuid = uids[-1] if uids else 0
        want = parse_set(setspec, maxuid)
        body = "BODY.PEEK[" in items
        header = "BODY.PEEK[HEADER]" in items
        kind = "body" if body else "size"
        self.event("fetch %s %s" % (kind, setspec))
        for seq, uid in enumerate(uids, 1):
            if uid not in want:
                continue
            if self.take("omit-" + kind, uid):
                self.event("omitted %s %d" % (kind, uid))
                continue
            raw = self.box.msgs[uid]
            if not body:
                self.send(b"* %d FETCH (UID %d RFC822.SIZE %d)\r\n" % (seq, uid, len(raw)))
                continue
            data = raw[: raw.find(b"\r\n\r\n") + 4] if header else raw
            name = b"BODY[HEADER]" if header else b"BODY[]"
            head = b"* %d FETCH (UID %d %s {%d}\r\n" % (seq, uid, name, len(data))
            if self.fault("close-mid-literal", uid):
                self.send(head + data[: len(data) // 2])
                self.event("closed mid-literal %d" % uid)
                raise ConnectionError("closed")
            if self.fault("stall-mid-literal", uid):
                self.send(head + data[: len(data) // 2])
                self.stall("mid-literal %d" % uid)
            self.send(head + data + b")\r\n")
        self.send(tag.encode() + b" OK fetch done\r\n")
        if not body:
            self.expunge_gone()


class Server:
    def __init__(self, a):
        self.dir = a.dir
        self.stall = a.stall
        self.box = Mailbox(a.msg)
        self.tls = None
        if a.tls:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(a.tls[0], a.tls[1])
        self.sessions = 0
        self.log = open(os.path.join(a.dir, "events.log"), "a", buffering=1)
        self.loglock = threading.Lock()

    def event(self, text):
        with self.loglock:
            self.log.write(text + "\n")

    def serve(self, conn, n):
        try:
            if self.tls:
                conn.settimeout(10)
                conn = self.tls.wrap_socket(conn, server_side=True)
                conn.settimeout(None)
            s = Session(self, conn, n)
            s.run()
        except (OSError, ConnectionError, ssl.SSLError):
            pass
        finally:
            conn.close()  # over TLS, without close_notify
            self.event("bye %d" % n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--msg", action="append", default=[])
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="implicit TLS")
    ap.add_argument("--stall", type=float, default=60, help="seconds a stall lasts")
    ap.add_argument("--life", type=float, default=600, help="exit after this many seconds")
    a = ap.parse_args()
    srv = Server(a)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    ls.settimeout(1)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(ls.getsockname()[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    end = time.time() + a.life
    while time.time() < end:
        try:
            conn, _ = ls.accept()
        except socket.timeout:
            continue
        srv.sessions += 1
        srv.event("session %d" % srv.sessions)
        threading.Thread(target=srv.serve, args=(conn, srv.sessions), daemon=True).start()


if __name__ == "__main__":
    main()
