#!/usr/bin/env python3
"""bench/inquiries table|pollack: the inquiry store at 1k/10k/100k (issue 10).

The store is made in the release's format (state/inquiries/log and
messages.1, as bc0db13 wrote them), so that both builds read the same
inquiries: "before" reads the files, "after" reads them into
state/letterbox.db on its first command (untimed; the upgrade's time is
printed).  A realistic store: 1% waiting (new or open, a tenth of them
urgent), 4% answered, 95% closed, most with a conversation of two messages.

  table   per command and size: p95 of RUNS runs (time) and the largest peak
          RSS: inquiries list / show / set / note, GET /staff/ (the CGI), the
          digest (--dry-run), and one purge of 1,000 closed inquiries.
  pollack poll with acknowledgements on, every sender new: M messages into
          an empty store and into a store of N inquiries; cost per message.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


T0 = 1735689600  # 2025-01-01
PURGE = 1000


def make_site(d, n):
    os.makedirs(d + "/state/inquiries")
    for f in ("letterbox.yaml", "newsletters", "subscribers", "templates"):
        src = os.path.join(REPO, f)
        (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, os.path.join(d, f))
    os.chmod(d + "/state", 0o700)
    with open(d + "/state/secret", "w") as f:
        f.write("%064x\n" % 7)
    os.chmod(d + "/state/secret", 0o600)
    y = open(d + "/letterbox.yaml").read()
    y = y.replace("web:\n", "web:\n  staff: [frontdesk]\n", 1)
    y = y.replace("acknowledge: false", "acknowledge: true")
    open(d + "/letterbox.yaml", "w").write(y)
    for sub in ("inbox/new", "inbox/cur", "inbox/tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    if not n:
        return
    log = [b"# letterbox inquiries messages.1\n"]
    hist = []
    msgs = bytearray()
    closed_seen = 0

    def blob(num, raw):
        msgs.extend(b"#%d %d\n" % (num, len(raw)))
        off = len(msgs)
        msgs.extend(raw + b"\n")
        return off

    for i in range(1, n + 1):
        r = T0 + i * (500 * 86400 // n)
        k = i % 100
        status = "new" if k == 0 else "open" if k == 50 else "answered" if k in (10, 30, 70, 90) else "closed"
        prio = "urgent" if (k == 0 and i % 1000 == 0) or (k == 50 and i % 700 == 50) else "normal"
        raw = (("From: Person %d <p%d@example.net>\nTo: news@example.org\nSubject: question %d\n"
                "Message-ID: <q%d@example.net>\nDate: Tue, 24 Nov 2026 10:00:00 +0000\n\n" % (i, i, i, i)) +
               ("I have a question about article %d, and about couples therapy in general.\n" % i) * 6).encode()
        off = blob(i, raw)
        rec = ["R %d" % i, "received: " + iso(r), "from: p%d@example.net" % i,
               "from_name: Person %d" % i, "subject: question %d" % i, "message_id: q%d@example.net" % i,
               "key: mid:q%d@example.net %032x" % (i, i), "article: healing-through-connection",
               "subscriber: yes", "status: " + status, "priority: " + prio]
        if i % 7 == 0:
            rec.append("assignee: sam")
        rec += ["acknowledged: " + iso(r), "ack_state: sent",
                "excerpt: I have a question about article %d, and about couples therapy in general." % i,
                "message: %d %d" % (off, len(raw)), "."]
        log.append(("\n".join(rec) + "\n").encode())
        hist.append("H %d\t%s\tletterbox\tfiled\t" % (i, iso(r)))
        hist.append("H %d\t%s\tletterbox\tacknowledged\tacknowledgement sent to the sender" % (i, iso(r)))
        if i % 2 == 0:  # a follow-up
            f = b"From: p%d@example.net\nSubject: Re: question %d\nMessage-ID: <f%d@example.net>\n\nThank you.\n" % (i, i, i)
            fo = blob(i, f)
            log.append(("M %d\tin\t%s\t%d\t%d\tmid:f%d@example.net %032x\tf%d@example.net\tp%d@example.net\n"
                        % (i, iso(r + 3600), fo, len(f), i, i, i, i)).encode())
        if status == "closed":
            closed_seen += 1
            when = T0 + 86400 if closed_seen <= PURGE else T0 + 600 * 86400
            hist.append("H %d\t%s\tsam\tstatus\tanswered -> closed" % (i, iso(when)))
    log.append(("\n".join(hist) + "\n").encode())
    with open(d + "/state/inquiries/log", "wb") as f:
        f.write(b"".join(log))
    with open(d + "/state/inquiries/messages.1", "wb") as f:
        f.write(msgs)


def run(lb, site, args, env=None, stdin=None):
    """(seconds, peak RSS in KB, exit code) of one run; run.cpu: its CPU seconds.
    GNU time measures the RSS: a child's ru_maxrss seen from this process
    counts the Python it was forked from."""
    e = dict(os.environ, TZ="UTC")
    if env:
        e.update(env)
    out = os.path.join(tempfile.gettempdir(), "lbinq-time.%d" % os.getpid())
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-o", out, "-f", "%M %U %S", lb, "-C", site] + args,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=e)
    dt = time.perf_counter() - t
    rss, u, s = open(out).read().split()[-3:]
    os.unlink(out)
    run.cpu = float(u) + float(s)
    if p.returncode not in (0, 1):
        sys.stderr.write("%s %s: exit %d: %s\n" % (lb, args, p.returncode, p.stderr.decode()[:300]))
    return dt, int(rss), p.returncode


def p95(v):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * 0.95 + 0.5) - 1)]


STAFF = {"REQUEST_METHOD": "GET", "PATH_INFO": "/staff/", "REMOTE_USER": "frontdesk",
         "HTTP_HOST": "127.0.0.1", "SERVER_NAME": "127.0.0.1"}


def commands(n):
    mid = max(1, n // 2 + 50)  # an open one
    return [
        ("inquiries list", ["inquiries", "list"], None),
        ("inquiries show", ["inquiries", "show", str(mid)], None),
        ("inquiries set", ["inquiries", "set", str(mid), "assign=ann", "--by", "sam"], None),
        ("inquiries note", ["inquiries", "note", str(mid), "called back", "--by", "sam"], None),
        ("GET /staff/ (cgi)", ["cgi"], STAFF),
        ("digest --dry-run", ["digest", "--dry-run"], None),
    ]


def table(builds, sizes, runs):
    tmp = tempfile.mkdtemp(prefix="lbinqstore.")
    rows = {}
    try:
        for n in sizes:
            base = os.path.join(tmp, "gen%d" % n)
            t = time.perf_counter()
            make_site(base, n)
            sys.stderr.write("store of %d made in %.1f s (%d MB log + messages)\n" % (
                n, time.perf_counter() - t,
                (os.path.getsize(base + "/state/inquiries/log") +
                 os.path.getsize(base + "/state/inquiries/messages.1")) >> 20))
            for name, lb in builds:
                site = os.path.join(tmp, "%s%d" % (name, n))
                shutil.copytree(base, site, symlinks=True)
                dt, rss, _ = run(lb, site, ["inquiries", "list", "--status", "new"])
                sys.stderr.write("  %s: first command (the upgrade, if any) %.2f s (cpu %.2f s), %d MB\n"
                                 % (name, dt, run.cpu, rss >> 10))
                for label, args, env in commands(n):
                    ts, ms, cs = [], [], []
                    for _ in range(runs):
                        dt, rss, _ = run(lb, site, args, env)
                        ts.append(dt)
                        ms.append(rss)
                        cs.append(run.cpu)
                    rows[(label, n, name)] = (p95(ts), max(ms), p95(cs))
                site2 = site + "p"
                shutil.copytree(base, site2, symlinks=True)
                run(lb, site2, ["inquiries", "list", "--status", "new"])
                dt, rss, _ = run(lb, site2, ["inquiries", "purge", "--closed-before", "2025-06-01"])
                rows[("purge 1,000 closed (950 at 1k)", n, name)] = (dt, rss, run.cpu)
                shutil.rmtree(site2)
                shutil.rmtree(site)
            shutil.rmtree(base)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    labels = []
    for (label, _, _) in rows:
        if label not in labels:
            labels.append(label)
    names = [b[0] for b in builds]
    head = "| command | " + " | ".join("%s %s" % (nm, fmt(n)) for n in sizes for nm in names) + " |"
    print(head)
    print("|" + "---|" * (1 + len(sizes) * len(names)))
    for label in labels:
        cells = []
        for n in sizes:
            for nm in names:
                v = rows.get((label, n, nm))
                cells.append("%.0f ms (cpu %.0f), %.1f MB" % (v[0] * 1000, v[2] * 1000, v[1] / 1024) if v else "-")
        print("| %s | %s |" % (label, " | ".join(cells)))


def fmt(n):
    return "%dk" % (n // 1000) if n >= 1000 else str(n)


def pollack(builds, n, ms):
    """For each build and store (empty, n): a poll of each count in ms; with
    two counts, the cost of one more message (the slope) and the run's fixed
    cost (the intercept: opening the store, poll's index of the inquiries)."""
    tmp = tempfile.mkdtemp(prefix="lbinqpoll.")
    try:
        for size in (0, n):
            base = os.path.join(tmp, "gen%d" % size)
            make_site(base, size)
            for name, lb in builds:
                pts = []
                for m in ms:
                    site = os.path.join(tmp, "%s%d" % (name, size))
                    shutil.copytree(base, site, symlinks=True)
                    run(lb, site, ["inquiries", "list", "--status", "new"])  # the upgrade, untimed
                    for i in range(m):
                        with open("%s/inbox/new/a%d.m" % (site, i), "w") as f:
                            f.write("From: New %d <new%d@people.test>\nTo: news@example.org\n"
                                    "Subject: a question %d\nMessage-ID: <a%d@people.test>\n"
                                    "Date: Tue, 24 Nov 2026 10:00:00 +0000\n\n"
                                    "Do you offer evening sessions?\n" % (i, i, i, i))
                    dt, rss, rc = run(lb, site, ["poll", "--now", "2026-11-25 09:00"])
                    pts.append((m, dt, run.cpu))
                    print("poll, acknowledgements on: %s, store of %d: %d messages in %.2f s = %.2f ms/message"
                          " (cpu %.2f ms/message), %.1f MB"
                          % (name, size, m, dt, dt * 1000 / m, run.cpu * 1000 / m, rss / 1024), flush=True)
                    shutil.rmtree(site)
                if len(pts) == 2:
                    (m1, t1, c1), (m2, t2, c2) = pts
                    print("  %s, store of %d: one more message %.2f ms (cpu %.2f ms); fixed %.2f s (cpu %.2f s)"
                          % (name, size, (t2 - t1) * 1000 / (m2 - m1), (c2 - c1) * 1000 / (m2 - m1),
                             t1 - m1 * (t2 - t1) / (m2 - m1), c1 - m1 * (c2 - c1) / (m2 - m1)), flush=True)
            shutil.rmtree(base)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    builds = [tuple(b.split("=", 1)) for b in sys.argv[2].split(",")]
    if mode == "table":
        sizes = [int(x) for x in sys.argv[3].split(",")]
        table(builds, sizes, int(sys.argv[4]))
    else:
        pollack(builds, int(sys.argv[3]), [int(x) for x in sys.argv[4].split(",")])
