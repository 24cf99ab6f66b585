#!/usr/bin/python3
"""An independent check of letterbox's messages with Python's email package.

usage: check_messages.py DIR EXPECT.json
DIR holds SLUG.eml, SLUG.html and SLUG.txt from `letterbox preview`.
EXPECT.json: {"subject": ..., "to_name": ..., "to_addr": ..., "slug": ...}

Prints one line per check ("ok ..." / "FAIL ...") and exits 1 on any failure.
"""
import email
import email.policy
import json
import os
import sys

failures = 0


def check(cond, what):
    global failures
    print(("  ok   " if cond else "  FAIL ") + what)
    if not cond:
        failures += 1


def main():
    d, expect_file = sys.argv[1], sys.argv[2]
    exp = json.load(open(expect_file, encoding="utf-8"))
    slug = exp["slug"]
    raw = open(os.path.join(d, slug + ".eml"), "rb").read()
    text = open(os.path.join(d, slug + ".txt"), encoding="utf-8").read()
    html = open(os.path.join(d, slug + ".html"), encoding="utf-8").read()
    tag = exp.get("tag", slug)

    lines = raw.split(b"\r\n")
    check(lines[-1] == b"", f"{tag}: ends with CRLF")
    check(all(b"\n" not in l and b"\r" not in l for l in lines), f"{tag}: only CRLF line ends")
    check(max(len(l) for l in lines) <= 998, f"{tag}: no line over 998 octets")
    check(max(len(l) for l in lines) <= 78, f"{tag}: no line over 78 octets (we fold/QP at 76)")
    check(all(b < 128 for b in raw), f"{tag}: 7-bit clean")

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    check(not msg.defects, f"{tag}: no parser defects at top level {msg.defects}")
    for h in ["From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "List-Id",
              "List-Unsubscribe", "Precedence", "Auto-Submitted"]:
        check(len(msg.get_all(h, [])) == 1, f"{tag}: exactly one {h}")
    check(msg.get_all("Bcc") is None and msg.get_all("Cc") is None, f"{tag}: no Cc/Bcc")
    check(str(msg["Subject"]) == exp["subject"], f"{tag}: Subject decodes to the title")
    to = msg["To"].addresses
    check(len(to) == 1, f"{tag}: one recipient in To")
    check(to[0].addr_spec == exp["to_addr"], f"{tag}: To address {to[0].addr_spec!r}")
    check(to[0].display_name == exp["to_name"],
          f"{tag}: To name {to[0].display_name!r} == {exp['to_name']!r}")
    mid = str(msg["Message-ID"])
    check(mid.startswith("<" + slug + ".") and mid.endswith(">"), f"{tag}: Message-ID carries the slug")
    lu = str(msg["List-Unsubscribe"])
    check("<mailto:" in lu, f"{tag}: List-Unsubscribe has a mailto")
    if "<https://" in lu:
        check(str(msg.get("List-Unsubscribe-Post", "")) == "List-Unsubscribe=One-Click",
              f"{tag}: one-click header with the https link")
    check(str(msg["Precedence"]) == "bulk", f"{tag}: Precedence bulk")
    check(str(msg["Auto-Submitted"]) == "auto-generated", f"{tag}: Auto-Submitted")
    check(msg.get_content_type() == "multipart/alternative", f"{tag}: multipart/alternative")
    parts = list(msg.iter_parts())
    check([p.get_content_type() for p in parts] == ["text/plain", "text/html"],
          f"{tag}: text/plain then text/html")
    for p in parts:
        check(p.get_content_charset() == "utf-8", f"{tag}: {p.get_content_type()} is UTF-8")
        check(p["Content-Transfer-Encoding"] == "quoted-printable",
              f"{tag}: {p.get_content_type()} is quoted-printable")
        check(not p.defects, f"{tag}: {p.get_content_type()} has no defects {p.defects}")
    norm = lambda s: s.replace("\r\n", "\n")
    check(norm(parts[0].get_content()) == norm(text), f"{tag}: decoded text == rendered .txt")
    check(norm(parts[1].get_content()) == norm(html), f"{tag}: decoded HTML == rendered .html")
    for must in exp.get("text_contains", []):
        check(must in parts[0].get_content(), f"{tag}: text part contains {must!r}")
    for must in exp.get("html_contains", []):
        check(must in parts[1].get_content(), f"{tag}: HTML part contains {must!r}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
