#!/usr/bin/env bash
# What staff see and save (issue 11 §3): `inquiries attachment N K` writes an
# attachment decoded, 0600, under a generated name in the current directory
# (the name the message gives, "../../etc/evil name.pdf", is never a path),
# or to --out FILE; an existing file is never replaced; no such attachment is
# 66.  `inquiries show N --copy K` prints a reply sent decoded (headers, text
# in UTF-8, no quoted-printable left), --raw its source.  Maildir in and out.
source "$(dirname "$0")/../lib.sh"

S=$T_TMP/site
make_site "$S"
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
lbs() { lb -C "$S" "$@"; }

# A PDF-ish binary attachment (every byte value) and a QP text attachment.
"$PY" - "$T_TMP" <<'PY'
import base64, os, sys
d = sys.argv[1]
pdf = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
open(d + "/orig.pdf", "wb").write(pdf)
# The part's text as sent: CRLF line breaks (MIME's canonical form), the
# last one belonging to the boundary.
open(d + "/orig.txt", "wb").write("Caf\u00e9 notes: \u00fcber = 100%\r\nsecond line".encode())
b64 = base64.encodebytes(pdf).decode()
msg = f"""From: Ana Ruiz <ana@people.test>
To: Practice <news@example.org>
Subject: My letter
Date: Thu, 03 Dec 2026 08:00:00 +0000
Message-ID: <att1@people.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="BOUND"

--BOUND
Content-Type: text/plain; charset=utf-8

Here is the letter from the school.

--BOUND
Content-Type: application/pdf; name="../../etc/evil name.pdf"
Content-Disposition: attachment; filename="../../etc/evil name.pdf"
Content-Transfer-Encoding: base64

{b64}
--BOUND
Content-Type: text/plain; charset=utf-8
Content-Disposition: attachment; filename="notes"
Content-Transfer-Encoding: quoted-printable

Caf=C3=A9 notes: =C3=BCber =3D 100%
second line
--BOUND--
"""
open(d + "/site/inbox/new/m1", "w").write(msg.replace("\n", "\r\n"))
PY
expect_exit 0 "poll files the message" lbs poll
N=$(lbs inquiries list --status all --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["number"])')

echo "-- show names the command next to each attachment"
lbs inquiries show "$N" >"$T_TMP/show" 2>&1
check "  attachment 1 listed with its command" \
	grep -q "Attachment: ../../etc/evil name.pdf (application/pdf, .*letterbox inquiries attachment $N 1\$" "$T_TMP/show"
check "  attachment 2 listed with its command" \
	grep -q "Attachment: notes (text/plain, .*letterbox inquiries attachment $N 2\$" "$T_TMP/show"

echo "-- attachment N 1: a generated name in the current directory, the bytes decoded, 0600"
W=$T_TMP/work/a/b
mkdir -p "$W"
touch "$T_TMP/stamp"
(cd "$W" && umask 022 && expect_exit 0 "attachment $N 1" lbs inquiries attachment "$N" 1)
check "  stdout says where" grep -q "wrote inquiry-$N-attachment-1.pdf" "$T_TMP/out"
check "  inquiry-$N-attachment-1.pdf written" test -f "$W/inquiry-$N-attachment-1.pdf"
check "  bytes equal to the original" cmp -s "$T_TMP/orig.pdf" "$W/inquiry-$N-attachment-1.pdf"
same "  mode 0600" "$(stat -c %a "$W/inquiry-$N-attachment-1.pdf" 2>/dev/null)" 600
same "  nothing else anywhere under the test directory" \
	"$(cd "$T_TMP" && find . -path ./site -prune -o -type f -newer "$T_TMP/stamp" -print |
		grep -v -e '^./out$' -e '^./err$')" \
	"./work/a/b/inquiry-$N-attachment-1.pdf"
check "  no file named from the message" bash -c "! find '$T_TMP' /etc -name 'evil name.pdf' 2>/dev/null | grep -q ."

echo "-- attachment N 2: the QP text decoded; the extension from the type"
(cd "$W" && expect_exit 0 "attachment $N 2" lbs inquiries attachment "$N" 2)
check "  QP undone, bytes as sent" cmp -s "$T_TMP/orig.txt" "$W/inquiry-$N-attachment-2.txt"

echo "-- an existing file is never replaced"
echo keep >"$W/taken"
(cd "$W" && expect_exit 65 "attachment $N 1 again (the default name exists)" lbs inquiries attachment "$N" 1)
grep_err "exists" "  says it exists"
check "  the first copy is intact" cmp -s "$T_TMP/orig.pdf" "$W/inquiry-$N-attachment-1.pdf"
expect_exit 65 "--out an existing file" lbs inquiries attachment "$N" 1 --out "$W/taken"
same "  it is unchanged" "$(cat "$W/taken")" keep
ln -s "$T_TMP/victim" "$W/link"
expect_exit 65 "--out a symbolic link" lbs inquiries attachment "$N" 1 --out "$W/link"
check "  nothing written through it" test ! -e "$T_TMP/victim"

echo "-- --out FILE"
expect_exit 0 "attachment $N 1 --out" lbs inquiries attachment "$N" 1 --out "$T_TMP/saved.pdf"
check "  written there" cmp -s "$T_TMP/orig.pdf" "$T_TMP/saved.pdf"
same "  mode 0600" "$(stat -c %a "$T_TMP/saved.pdf" 2>/dev/null)" 600

echo "-- no such attachment, bad arguments"
expect_exit 66 "K out of range" lbs inquiries attachment "$N" 3
grep_err "no attachment 3" "  says so"
expect_exit 66 "no message 9" lbs inquiries attachment "$N" 9.1
expect_exit 64 "K not a number" lbs inquiries attachment "$N" x
expect_exit 64 "K zero" lbs inquiries attachment "$N" 0
expect_exit 64 "no K" lbs inquiries attachment "$N"
expect_exit 65 "no such inquiry" lbs inquiries attachment 999 1
expect_exit 64 "--out without attachment" lbs inquiries show "$N" --out "$T_TMP/x"

echo "-- show --copy K: the reply decoded; --raw its source"
printf 'Querida Ana, gracias por la carta. Nos vemos el miércoles — a las 10:00.\n\nSeñora Núñez\n' >"$T_TMP/reply.md"
expect_exit 0 "reply" lbs inquiries reply "$N" --file "$T_TMP/reply.md" --by sam
expect_exit 0 "show --copy 1" lbs inquiries show "$N" --copy 1
cp "$T_TMP/out" "$T_TMP/copy"
check "  From header" grep -q "^From: .*@" "$T_TMP/copy"
check "  To header" grep -q "^To: .*ana@people.test" "$T_TMP/copy"
check "  Date header" grep -q "^Date: " "$T_TMP/copy"
check "  Subject decoded" grep -q "^Subject: Re: My letter" "$T_TMP/copy"
check "  non-ASCII intact" grep -q "miércoles — a las 10:00" "$T_TMP/copy"
check "  signature intact" grep -q "Señora Núñez" "$T_TMP/copy"
check "  no QP artefacts" bash -c "! grep -qE '=C3|=E2|=\$' '$T_TMP/copy'"
check "  no MIME source" bash -c "! grep -qiE '^(Content-Type|Content-Transfer-Encoding|--[^ ])' '$T_TMP/copy'"
expect_exit 0 "show --copy 1 --raw" lbs inquiries show "$N" --copy 1 --raw
check "  --raw: the MIME source" grep -qi "^Content-Transfer-Encoding:" "$T_TMP/out"
check "  --raw: the Message-ID header" grep -qi "^Message-ID:" "$T_TMP/out"
expect_exit 64 "--raw without --copy" lbs inquiries show "$N" --raw

echo "-- M.K after the conversation went on: message 2 is the reply (no attachments)"
expect_exit 66 "attachment $N 2.1 (the reply has none)" lbs inquiries attachment "$N" 2.1
(cd "$W" && rm -f "inquiry-$N-attachment-1.pdf" && expect_exit 0 "attachment $N 1.1" lbs inquiries attachment "$N" 1.1)
check "  1.1 is the first message's first" cmp -s "$T_TMP/orig.pdf" "$W/inquiry-$N-attachment-1.pdf"
