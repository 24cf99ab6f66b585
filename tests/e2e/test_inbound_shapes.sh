#!/usr/bin/env bash
# Reports in vendors' own shapes (src/receive/lhost.c): every message in
# tests/data/bounces/ classified as its .expect says (kind, recipient,
# hard/soft), no bounce or complaint ever taken for a person's inquiry; then
# `letterbox poll` from a Maildir: a KDDI and an Amazon SES bounce suppress
# the subscriber their token names, an SES complaint without one is pending
# evidence, an Apple vacation reply is set aside, and none is an inquiry.
source "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1
NOW="2026-12-03 10:00"

drv=$(tool classify_file) || { fail "tests/tools/classify_file.c builds (make tool-bin)"; exit 0; }
corpus=(tests/data/bounces/*.eml)
"$drv" "${corpus[@]}" >"$T_TMP/ours.tsv" 2>"$T_TMP/drv.err"
same "the driver classifies all ${#corpus[@]} corpus messages" "$(wc -l <"$T_TMP/ours.tsv")" "${#corpus[@]}"

$PY - "$T_TMP/ours.tsv" >"$T_TMP/corpus.out" <<'EOF'
import sys
names = {'auto-reply': 'autoreply', 'inquiry': 'human'}
right = total = inquiries = 0
for line in open(sys.argv[1]):
    f = line.rstrip('\n').split('\t')
    path, kind, sev, addrs = f[0], names.get(f[1], f[1]), f[2], f[3]
    want = open(path[:-len('.eml')] + '.expect').read().rstrip('\n').split('\t')
    got = [kind, ','.join(sorted({a.lower() for a in addrs.split(',') if a})) or '-',
           sev if kind == 'bounce' else '-']
    total += 1
    if got == want:
        right += 1
    else:
        print('  wrong %s: want %s, got %s (%s)' % (path.rsplit('/', 1)[-1], '/'.join(want),
              '/'.join(got), f[-1]))
    if want[0] in ('bounce', 'complaint') and kind == 'human':
        inquiries += 1
        print('  INQUIRY %s: a %s filed for the staff' % (path.rsplit('/', 1)[-1], want[0]))
print('RESULT %d %d %d' % (right, total, inquiries))
EOF
read -r _ right total inquiries < <(grep '^RESULT' "$T_TMP/corpus.out")
grep -v '^RESULT' "$T_TMP/corpus.out"
echo "  tests/data/bounces: $right of $total as expected"
same "every corpus message: kind, recipient and hard/soft as its .expect says" "$right" "$total"
same "no bounce or complaint in the corpus is taken for an inquiry" "$inquiries" 0

# --- letterbox poll from a Maildir -------------------------------------------------------------
S=$T_TMP/s
make_site "$S"
NEW=$S/inbox/new
mkdir -p "$NEW" "$S/inbox/cur" "$S/inbox/tmp"
tok() {
	$PY - "$1" <<'PY'
import base64, hashlib, hmac, sys
mac = hmac.new(bytes(range(32)), b"news.example.org\0" + sys.argv[1].encode(), hashlib.sha256).digest()
print(base64.b32encode(mac[:10]).decode().lower())
PY
}
ADA=ada.lovelace@example.org ZOE=zoe.angstrom@example.org MEI=mei.chen@example.org
# au by KDDI, sent back to Ada's bounce address: linked by the token.
cat >"$NEW/1.kddi.localhost" <<EOF
Return-Path: <>
Received: from mx.example.org by lsean.ezweb.ne.jp (EZweb Mail) with ESMTP id 11A0F; Thu, 3 Dec 2026 09:12:05 +0900
From: no-reply@mta.dion.ne.jp
To: bounces+$(tok $ADA)@example.org
Subject: Notice of your mail
Date: Thu, 3 Dec 2026 09:14:09 +0900
Message-ID: <n1.kddi.e2e@mta.dion.ne.jp>
Content-Type: text/plain; charset=us-ascii

Your mail attempted to be delivered on: Thu, 3 Dec 2026 09:11:58 +0900
    Could not be delivered to: <$ADA>
    As the remote domain doesnt exist.
EOF
# Amazon SES through SNS, to a plain address: linked by our Message-ID in commonHeaders.
cat >"$NEW/2.ses.localhost" <<EOF
From: AWS Notifications <no-reply@sns.amazonaws.com>
To: news@example.org
Subject: AWS Notification Message
Date: Thu, 3 Dec 2026 00:12:20 +0000
Message-ID: <ses.bounce.e2e@email.amazonses.com>
X-Amz-Sns-Message-Id: 6a1c3e0f-0000-4c5e-8f90-0a1b2c3d4e01
Content-Type: text/plain; charset=UTF-8

{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General",
"bouncedRecipients":[{"emailAddress":"$ZOE","action":"failed","status":"5.1.1",
"diagnosticCode":"smtp; 550 5.1.1 user unknown"}]},"mail":{"source":"news@example.org",
"destination":["$ZOE"],"commonHeaders":{"messageId":"<december.$(tok $ZOE).20261203@example.org>"}}}
EOF
# An SES complaint with nothing of ours in it: pending evidence about Mei.
cat >"$NEW/3.ses.localhost" <<EOF
From: AWS Notifications <no-reply@sns.amazonaws.com>
To: news@example.org
Subject: AWS Notification Message
Date: Thu, 3 Dec 2026 00:14:20 +0000
Message-ID: <ses.complaint.e2e@email.amazonses.com>
X-Amz-Sns-Message-Id: 6a1c3e0f-0000-4c5e-8f90-0a1b2c3d4e03
Content-Type: text/plain; charset=UTF-8

{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"$MEI"}],
"complaintFeedbackType":"abuse"},"mail":{"source":"news@example.org","destination":["$MEI"]}}
EOF
cp tests/data/bounces/apple-vacation-01.eml "$NEW/4.apple.localhost"

expect_exit 0 "poll a Maildir with a KDDI bounce, two SES notifications and an Apple vacation reply" \
	lb -C "$S" poll --json --now "$NOW"
kinds=$($PY -c 'import json,sys; print(" ".join(json.loads(l)["kind"] for l in open(sys.argv[1])))' "$T_TMP/out")
same "  read as two bounces, a complaint and an auto-reply" "$(tr ' ' '\n' <<<"$kinds" | sort | tr '\n' ' ')" \
	"auto-reply bounce bounce complaint "
same "  none of them is an inquiry" \
	"$(lb -C "$S" inquiries list --status all --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')" 0
sup=$(lb -C "$S" subscribers suppressions)
check "  the KDDI bounce suppresses Ada (linked by her bounce address)" grep -q "hard-bounce.*$ADA" <<<"$sup"
check "  the SES bounce suppresses Zoe (linked by our Message-ID)" grep -q "hard-bounce.*$ZOE.*linked by the returned message" <<<"$sup"
check "  the unlinked SES complaint does not suppress Mei" test -z "$(grep "$MEI" <<<"$sup")"
same "  ... it is pending evidence" "$(lb -C "$S" subscribers suppressions --pending --json |
	$PY -c 'import json,sys; print(" ".join(o["address"] + "=" + o["reason"] for o in json.load(sys.stdin)))')" \
	"$MEI=complaint"
