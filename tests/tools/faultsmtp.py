#!/usr/bin/python3
"""faultsmtp: a small scripted SMTP server for fault injection in tests.

Listens on 127.0.0.1 only.  Every accepted message is written to
DIR/msg-NNNNNN.eml, starting with "X-Mail-From: <...>" and "X-Rcpt-To: <...>"
lines, so tests can count deliveries per recipient.  DIR/events.log records
each session and each injected fault (one line each: "session 3",
"421 at MAIL 50", "drop-after-data <rcpt>", "454 <n>", "eof-in-data <rcpt>" when
the client went away in the middle of a message, ...), so a test can
check that the fault it asked for really happened.

Faults (recipients are matched by substring, options may repeat):
  --defer S            451 4.2.0 at RCPT
  --reject S           550 5.1.1 at RCPT
  --reject-policy S    550 5.7.1 at RCPT (refused by policy: not "no such user")
  --reject-sender-at S 550 5.1.0 at RCPT about the *sender* (Postfix's delayed reject)
  --reject-sender S    553 5.1.8 at MAIL FROM
  --drop-after-data S  read the whole message, then close without a reply
  --drop-in-data S     close after the first line of the message data
  --421-at N           the Nth MAIL FROM (over all sessions) gets 421 4.3.2, then the
                       connection is closed
  --slow SECONDS       wait before every reply
  --stall-data SECONDS after the first line of a message's data, stop reading for a while
  --refuse-session N   greet the Nth session with 554 5.3.2, then close it
  --throttle-at N      once N messages were accepted, answer MAIL FROM with
                       454 4.7.0 for --throttle-for seconds
  --idle-timeout SECS  a client silent that long gets "421 4.4.2 timeout exceeded"
                       and the connection is closed (as Postfix's smtpd_timeout)
  --pipelining         offer PIPELINING (RFC 2920) in EHLO; "pipelined MAIL N" in
                       events.log when the commands after a MAIL FROM came with it
  --garbage-reply WHERE  a reply that is not SMTP; WHERE is one of
                       greeting      every session is greeted with a line without a code
                       ehlo          EHLO is answered with a line without a code
                       rcpt:S        the first RCPT TO of each recipient matching S gets a
                                     line without a code (later ones are accepted)
                       rcptmix:S     likewise, a reply whose lines disagree on the code
                                     ("250-..." then "550 ..."); before rcpt:S
                       dot:S         the final "." of a message for S gets a line without a
                                     code (the message is kept as garbled-NNNNNN.eml)
                       then the server goes on reading, as a confused one would
  --stall-after-data S read the whole message for S, then never answer its final "."
                       (kept as stalled-NNNNNN.eml); the session hangs until the client
                       goes away
The port (0: any free one) is written to --port-file once listening.
"""
import argparse
import asyncio
import os
import sys
import time


class Server:
    def __init__(self, args):
        self.a = args
        self.sessions = 0
        self.active = 0
        self.max_active = 0
        self.mails = 0
        self.accepted = 0
        self.dropped = 0
        self.throttle_until = 0.0
        self.garbled_rcpts = set()  # recipients whose first RCPT was answered with garbage
        self.counts = {}
        g = {"greeting": False, "ehlo": False, "rcpt": [], "rcptmix": [], "dot": []}
        for w in args.garbage_reply or []:
            where, _, pat = w.partition(":")
            if where in ("greeting", "ehlo") and not pat:
                g[where] = True
            elif where in ("rcpt", "rcptmix", "dot") and pat:
                g[where].append(pat)
            else:
                sys.exit("faultsmtp: --garbage-reply %s: want greeting, ehlo, rcpt:S, "
                         "rcptmix:S or dot:S" % w)
        self.garbage = g
        self.log = open(os.path.join(args.dir, "events.log"), "a", buffering=1)

    def event(self, text):
        self.log.write(text + "\n")

    def match(self, patterns, rcpt):
        return any(p in rcpt for p in patterns or [])

    async def reply(self, w, text):
        if self.a.slow:
            await asyncio.sleep(self.a.slow)
        w.write(text.encode() + b"\r\n")
        await w.drain()

    def store(self, kind, mail_from, rcpts, lines):
        if kind == "msg":
            self.accepted += 1
            n = self.accepted
        elif kind == "dropped":
            self.dropped += 1
            n = self.dropped
        else:
            n = self.counts[kind] = self.counts.get(kind, 0) + 1
        path = os.path.join(self.a.dir, "%s-%06d.eml" % (kind, n))
        with open(path + ".tmp", "wb") as f:
            f.write(b"X-Mail-From: <%s>\r\n" % mail_from.encode())
            for r in rcpts:
                f.write(b"X-Rcpt-To: <%s>\r\n" % r.encode())
            f.writelines(lines)
        os.rename(path + ".tmp", path)

    async def session(self, r, w):
        self.sessions += 1
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        self.event("session %d active %d" % (self.sessions, self.active))
        try:
            await self.dialogue(r, w)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            pass
        finally:
            self.active -= 1
            w.close()

    async def dialogue(self, r, w):
        if self.sessions == self.a.refuse_session:
            self.event("554 greeting, session %d" % self.sessions)
            await self.reply(w, "554 5.3.2 No SMTP service here")
            return
        if self.garbage["greeting"]:
            self.event("garbage greeting, session %d" % self.sessions)
            await self.reply(w, "Welcome to faultsmtp")
        else:
            await self.reply(w, "220 faultsmtp ESMTP")
        mail_from, rcpts = None, []
        while True:
            try:
                raw = await asyncio.wait_for(r.readline(), self.a.idle_timeout or 120)
            except asyncio.TimeoutError:
                if not self.a.idle_timeout:
                    raise
                self.event("idle timeout, session %d" % self.sessions)
                await self.reply(w, "421 4.4.2 faultsmtp Error: timeout exceeded")
                return
            if not raw:
                return
            line = raw.decode("latin-1").rstrip("\r\n")
            verb = line[:4].upper()
            arg = line[4:].strip()
            if verb == "EHLO" and self.garbage["ehlo"]:
                self.event("garbage ehlo, session %d" % self.sessions)
                await self.reply(w, "faultsmtp at your service")
            elif verb == "EHLO":
                await self.reply(w, "250-faultsmtp\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n"
                                 + ("250-PIPELINING\r\n" if self.a.pipelining else "")
                                 + "250 ENHANCEDSTATUSCODES")
            elif verb == "HELO":
                await self.reply(w, "250 faultsmtp")
            elif verb == "MAIL":
                self.mails += 1
                if self.a.pipelining and len(r._buffer):  # already received: RCPT, DATA
                    self.event("pipelined MAIL %d" % self.mails)
                if self.a.at421 and self.mails == self.a.at421:
                    self.event("421 at MAIL %d" % self.mails)
                    await self.reply(w, "421 4.3.2 Service shutting down, closing channel")
                    return
                if time.monotonic() < self.throttle_until:
                    self.event("454 at MAIL %d" % self.mails)
                    await self.reply(w, "454 4.7.0 Too many messages, slow down")
                    continue
                if self.match(self.a.reject_sender, addr(arg)):
                    self.event("553 sender %s" % addr(arg))
                    await self.reply(w, "553 5.1.8 <%s>: Sender address rejected: Domain not found"
                                     % addr(arg))
                    continue
                mail_from, rcpts = addr(arg), []
                await self.reply(w, "250 2.1.0 Ok")
            elif verb == "RCPT":
                rcpt = addr(arg)
                garbage = None
                if rcpt not in self.garbled_rcpts:
                    if self.match(self.garbage["rcptmix"], rcpt):
                        garbage = "rcptmix", "250-2.1.5 Ok\r\n550 5.1.1 <%s>: no such user" % rcpt
                    elif self.match(self.garbage["rcpt"], rcpt):
                        garbage = "rcpt", "Recipient looks fine to me"
                if mail_from is None:
                    await self.reply(w, "503 5.5.1 Error: need MAIL command")
                elif garbage:
                    self.garbled_rcpts.add(rcpt)
                    self.event("garbage at %s %s" % (garbage[0], rcpt))
                    await self.reply(w, garbage[1])
                elif self.match(self.a.defer, rcpt):
                    self.event("451 %s" % rcpt)
                    await self.reply(w, "451 4.2.0 <%s>: Recipient address rejected: "
                                     "try again later" % rcpt)
                elif self.match(self.a.reject, rcpt):
                    self.event("550 %s" % rcpt)
                    await self.reply(w, "550-5.1.1 <%s>: Recipient address rejected:\r\n"
                                     "550 5.1.1 User unknown in virtual mailbox table" % rcpt)
                elif self.match(self.a.reject_sender_at, rcpt):
                    self.event("550 sender %s" % rcpt)
                    await self.reply(w, "550 5.1.0 <news@example.org>: Sender address rejected: "
                                     "Domain not found")
                elif self.match(self.a.reject_policy, rcpt):
                    self.event("550 policy %s" % rcpt)
                    await self.reply(w, "550 5.7.1 <%s>: Recipient address rejected: "
                                     "Access denied" % rcpt)
                else:
                    rcpts.append(rcpt)
                    await self.reply(w, "250 2.1.5 Ok")
            elif verb == "DATA":
                if not rcpts:
                    await self.reply(w, "554 5.5.1 Error: no valid recipients")
                    continue
                await self.reply(w, "354 End data with <CR><LF>.<CR><LF>")
                lines = []
                drop_in = any(self.match(self.a.drop_in_data, x) for x in rcpts)
                first = True
                # No wait_for() per line here: it makes a task each time, and
                # a 24 MB message then takes tens of seconds to read on a busy
                # machine (the tests that wait for "eof-in-data" time out).
                while True:
                    raw = await r.readline()
                    if not raw:
                        self.event("eof-in-data %s" % " ".join(rcpts))
                        return
                    if first and self.a.stall_data:
                        await asyncio.sleep(self.a.stall_data)
                    first = False
                    if drop_in:
                        self.event("drop-in-data %s" % " ".join(rcpts))
                        w.transport.abort()
                        return
                    if raw == b".\r\n":
                        break
                    lines.append(raw[1:] if raw.startswith(b"..") else raw)
                if any(self.match(self.a.stall_after_data, x) for x in rcpts):
                    self.event("stall-after-data %s" % " ".join(rcpts))
                    self.store("stalled", mail_from, rcpts, lines)
                    while await r.read(65536):  # no reply, ever; until the client leaves
                        pass
                    self.event("client left, stalled %s" % " ".join(rcpts))
                    return
                if any(self.match(self.garbage["dot"], x) for x in rcpts):
                    self.event("garbage at dot %s" % " ".join(rcpts))
                    self.store("garbled", mail_from, rcpts, lines)
                    mail_from, rcpts = None, []
                    await self.reply(w, "Thank you for your message")
                    continue
                if any(self.match(self.a.drop_after_data, x) for x in rcpts):
                    self.event("drop-after-data %s" % " ".join(rcpts))
                    self.store("dropped", mail_from, rcpts, lines)
                    w.transport.abort()
                    return
                self.store("msg", mail_from, rcpts, lines)
                if self.a.throttle_at and self.accepted == self.a.throttle_at:
                    self.throttle_until = time.monotonic() + self.a.throttle_for
                    self.event("throttle for %.1f s" % self.a.throttle_for)
                mail_from, rcpts = None, []
                await self.reply(w, "250 2.0.0 Ok: queued as F%06d" % self.accepted)
            elif verb == "RSET":
                mail_from, rcpts = None, []
                await self.reply(w, "250 2.0.0 Ok")
            elif verb == "NOOP":
                await self.reply(w, "250 2.0.0 Ok")
            elif verb == "QUIT":
                await self.reply(w, "221 2.0.0 Bye")
                return
            else:
                await self.reply(w, "502 5.5.2 Error: command not recognized")


def addr(arg):
    """The address in 'FROM:<a@b> SIZE=1' or 'TO:<a@b>'."""
    lt, gt = arg.find("<"), arg.find(">")
    return arg[lt + 1:gt] if 0 <= lt < gt else arg.partition(":")[2].strip()


async def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--defer", action="append")
    p.add_argument("--reject", action="append")
    p.add_argument("--reject-sender", action="append")
    p.add_argument("--reject-policy", action="append")
    p.add_argument("--reject-sender-at", action="append")
    p.add_argument("--drop-after-data", action="append")
    p.add_argument("--drop-in-data", action="append")
    p.add_argument("--421-at", dest="at421", type=int, default=0)
    p.add_argument("--slow", type=float, default=0)
    p.add_argument("--stall-data", type=float, default=0)
    p.add_argument("--refuse-session", type=int, default=0)
    p.add_argument("--throttle-at", type=int, default=0)
    p.add_argument("--throttle-for", type=float, default=2.0)
    p.add_argument("--pipelining", action="store_true")
    p.add_argument("--idle-timeout", type=float, default=0)
    p.add_argument("--garbage-reply", action="append")
    p.add_argument("--stall-after-data", action="append")
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    srv = Server(a)
    server = await asyncio.start_server(srv.session, "127.0.0.1", a.port, limit=1 << 20)
    port = server.sockets[0].getsockname()[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(a.port_file + ".tmp", a.port_file)
    else:
        print(port, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
