#!/usr/bin/env bash
# DKIM signing (compose/dkim.h): every mail letterbox sends verifies with an
# independent verifier (python3-dkim, Ed25519 through python3-nacl), and one
# altered signed header or body byte makes it fail; keygen; bad keys.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/servers.sh"
NOW="2026-11-25 10:00"
FX=$TOP/tests/fixtures/dkim
mapfile -t REC <"$FX/records"
# verify FILE: every signature verifies (output in $T_TMP/v)
verify() { $PY "$TOP/tests/tools/dkim_verify.py" "$1" "${REC[@]}" >"$T_TMP/v" 2>&1; }
fails() { ! verify "$1"; }

# dkim_site DIR rsa|ed25519|both
dkim_site() {
	rm -rf "$1"
	make_site "$1"
	mkdir -p "$1/dkim"
	cp "$FX/rsa.key" "$FX/ed25519.key" "$1/dkim/"
	chmod 600 "$1"/dkim/*.key
	case $2 in
	rsa) printf 'dkim:\n  selector: test-rsa\n  key_file: dkim/rsa.key\n' ;;
	ed25519) printf 'dkim:\n  selector: test-ed\n  key_file: dkim/ed25519.key\n  algorithm: ed25519-sha256\n' ;;
	both) printf 'dkim:\n  selector: test-rsa\n  key_file: dkim/rsa.key\n  algorithm: rsa-sha256\n  second:\n    selector: test-ed\n    key_file: dkim/ed25519.key\n    algorithm: ed25519-sha256\n' ;;
	esac >>"$1/letterbox.yaml"
}
first_eml() { find "$1" -name '*.eml' -o -type f -path '*/new/*' | sort | head -1; }

echo "-- keygen"
S=$T_TMP/k
make_site "$S"
expect_exit 0 "keygen --selector s1 (RSA)" lb -C "$S" dkim keygen --selector s1
check "  the key is 0600" test "$(stat -c %a "$S/dkim/s1.key")" = 600
check "  the key is PEM PKCS#8" grep -q "BEGIN PRIVATE KEY" "$S/dkim/s1.key"
# A site kept in git: `git add -A` must not take the private key along.
git -C "$S" init -q 2>/dev/null && git -C "$S" add -A
check "  git add -A in the site leaves the key out" test -z "$(git -C "$S" ls-files dkim)"
check "  the record names the selector" grep -q '^s1._domainkey.example.org. IN TXT "v=DKIM1; k=rsa; p=MII' "$T_TMP/out"
check "  no zone string over 255 octets" test -z "$(grep -o '"[^"]*"' "$T_TMP/out" | awk 'length > 257')"
expect_exit 65 "keygen over an existing key" lb -C "$S" dkim keygen --selector s1
grep_err "exists" "  says the file exists"
expect_exit 0 "keygen --algorithm ed25519-sha256" lb -C "$S" dkim keygen --selector s2 --algorithm ed25519-sha256
check "  an Ed25519 record: 32 bytes of key" grep -qE '"v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}="' "$T_TMP/out"
rec=$(grep -o '"v=DKIM1[^"]*"' "$T_TMP/out" | tr -d '"')
expect_exit 64 "keygen --algorithm rsa-sha1" lb -C "$S" dkim keygen --selector s3 --algorithm rsa-sha1
expect_exit 64 "keygen without --selector" lb -C "$S" dkim keygen
expect_exit 64 "keygen --selector with a dot-dot-slash" lb -C "$S" dkim keygen --selector ../x
# The key keygen made signs what its record verifies.
printf 'dkim:\n  selector: s2\n  key_file: dkim/s2.key\n  algorithm: ed25519-sha256\n' >>"$S/letterbox.yaml"
expect_exit 0 "preview with the new key" lb -C "$S" preview healing-through-connection --now "$NOW" --to a@example.org --out "$T_TMP/kp"
REC=("s2._domainkey.example.org=$rec")
check "  verifies with the record keygen printed" verify "$(first_eml "$T_TMP/kp")"
mapfile -t REC <"$FX/records"

echo "-- a newsletter, both algorithms at once"
S=$T_TMP/both
dkim_site "$S" both
expect_exit 0 "preview" lb -C "$S" preview healing-through-connection --now "$NOW" --to '"Zoë Ångström" <zoe@example.org>' --out "$T_TMP/p"
E=$(first_eml "$T_TMP/p")
check "  two signatures" test "$(grep -c '^DKIM-Signature:' "$E")" = 2
check "  the Ed25519 one first" grep -q '^DKIM-Signature: v=1; a=ed25519-sha256' <(head -1 "$E")
check "  both verify (python3-dkim)" verify "$E"
same "  verifier's lines" "$(cat "$T_TMP/v")" "$(printf 'ok   a=ed25519-sha256 s=test-ed\nok   a=rsa-sha256 s=test-rsa')"
check "  h= names From twice (oversigned) and the one-click pair" \
	grep -qz 'h=From:From:To:Subject:Date:Message-ID:MIME-Version:.*List-Unsubscribe:List-Unsubscribe-Post;' <(tr -d '\r\n\t' <"$E")
check "  no line over 78 octets" test -z "$(awk 'length > 79' "$E")"
sed '0,/^Subject: /s/^Subject: /Subject: Re: /' "$E" >"$T_TMP/alt1"
check "  a changed Subject fails" fails "$T_TMP/alt1"
grep -q "FAIL a=rsa" "$T_TMP/v" && grep -q "FAIL a=ed25519" "$T_TMP/v" && pass "  (both signatures fail)" || fail "  both signatures should fail: $(cat "$T_TMP/v")"
# One body byte: the first "e" of the text part becomes "E".
$PY - "$E" "$T_TMP/alt2" <<'PY'
import sys
m = open(sys.argv[1], "rb").read()
i = m.index(b"\r\n\r\n") + 4
j = m.index(b"e", m.index(b"quoted-printable", i))
open(sys.argv[2], "wb").write(m[:j] + b"E" + m[j + 1:])
PY
check "  one changed body byte fails" fails "$T_TMP/alt2"
grep -q "body hash mismatch" "$T_TMP/v" && pass "  (as a body hash mismatch)" || fail "  body: $(cat "$T_TMP/v")"
printf 'From: Mallory <m@evil.example>\r\n' | cat - "$E" >"$T_TMP/alt3"
check "  a second From added on top fails" fails "$T_TMP/alt3"
printf 'X-Spam-Score: 0\r\n' | cat - "$E" >"$T_TMP/alt4"
check "  a field that is not signed may be added (relays do)" verify "$T_TMP/alt4"

echo "-- send: every message signed, through the Maildir transport"
for alg in rsa ed25519; do
	S=$T_TMP/send-$alg
	dkim_site "$S" $alg
	expect_exit 0 "send ($alg)" lb -C "$S" send --now "$NOW"
	n=0 bad=0
	for f in "$S"/outbox/new/*; do
		n=$((n + 1))
		verify "$f" || bad=$((bad + 1))
	done
	same "  6 messages, all verify ($alg)" "$n $bad" "6 0"
	check "  one signature each" test -z "$(grep -c '^DKIM-Signature:' "$S"/outbox/new/* | grep -v ':1$')"
done

echo "-- send over SMTP, 4 connections: signed on the connections' threads"
if start_faultsmtp; then
	S=$T_TMP/smtp
	dkim_site "$S" both
	sed -i "s|  url: maildir:outbox|  url: smtp://127.0.0.1:$FAULT_PORT\n  connections: 4|" "$S/letterbox.yaml"
	expect_exit 0 "send over SMTP" lb -C "$S" send --now "$NOW"
	n=0 bad=0
	for f in "$FAULT_DIR"/msg-*.eml; do
		n=$((n + 1))
		verify "$f" || bad=$((bad + 1))
	done
	same "  6 messages received, all verify" "$n $bad" "6 0"
	stop_faultsmtp
else
	fail "faultsmtp starts"
fi

echo "-- one-off mails: an acknowledgement (poll) and a reply"
S=$T_TMP/one
dkim_site "$S" both
sed -i 's/acknowledge: false/acknowledge: true/' "$S/letterbox.yaml"
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
printf 'From: Ana <ana@people.test>\nTo: news@example.org\nSubject: a question\nDate: Wed, 25 Nov 2026 09:00:00 +0000\nMessage-ID: <q1@people.test>\n\nWhere do I park?\n' >"$S/inbox/new/1.a.host"
expect_exit 0 "poll" lb -C "$S" poll --now "$NOW"
ack=$(grep -l '^Auto-Submitted: auto-replied' "$S"/outbox/new/* 2>/dev/null | head -1)
check "  an acknowledgement was sent" test -n "$ack"
check "  it verifies, both signatures" verify "${ack:-/dev/null}"
printf 'Park behind the building.\n' >"$T_TMP/reply.md"
expect_exit 0 "inquiries reply" lb -C "$S" inquiries reply 1 --file "$T_TMP/reply.md" --by sam
rep=$(grep -L '^Auto-Submitted' "$S"/outbox/new/* | head -1)
check "  the reply was sent" test -n "$rep"
check "  it verifies, both signatures" verify "${rep:-/dev/null}"
same "  two signatures on the reply" "$(grep -c '^DKIM-Signature:' "${rep:-/dev/null}")" 2

echo "-- keys that cannot be used"
S=$T_TMP/bad
dkim_site "$S" rsa
chmod 644 "$S/dkim/rsa.key"
expect_exit 78 "send with a key readable by others" lb -C "$S" send --now "$NOW"
grep_err "rsa.key: the DKIM key has mode 0644; it must be 0600" "  names the file and the mode"
check "  nothing sent" test -z "$(ls "$S/outbox/new" 2>/dev/null)"
expect_exit 78 "check says so too" lb -C "$S" check
grep_err "must be 0600" "  check: the mode"
chmod 600 "$S/dkim/rsa.key"
ln -s rsa.key "$S/dkim/link.key"
sed -i 's|key_file: dkim/rsa.key|key_file: dkim/link.key|' "$S/letterbox.yaml"
expect_exit 78 "a key file that is a symbolic link" lb -C "$S" send --now "$NOW"
grep_err "link.key: the DKIM key is not a regular file" "  says so"
check "  nothing sent" test -z "$(ls "$S/outbox/new" 2>/dev/null)"
sed -i 's|key_file: dkim/link.key|key_file: dkim/ed25519.key|' "$S/letterbox.yaml"
expect_exit 78 "an Ed25519 key with algorithm rsa-sha256" lb -C "$S" send --now "$NOW"
grep_err "ed25519.key: not an RSA key" "  says which"
sed -i 's|key_file: dkim/ed25519.key|key_file: dkim/none.key|' "$S/letterbox.yaml"
expect_exit 78 "a missing key file" lb -C "$S" check
grep_err "none.key: cannot read the DKIM key" "  says which"
printf 'not a key\n' >"$S/dkim/none.key"
chmod 600 "$S/dkim/none.key"
expect_exit 78 "a key file that is not PEM" lb -C "$S" check
grep_err "none.key: not a PEM private key" "  says so"
dkim_site "$S" rsa
printf '  algorithm: rsa-sha1\n' >>"$S/letterbox.yaml"
expect_exit 78 "algorithm: rsa-sha1" lb -C "$S" check
grep_err "letterbox.yaml:[0-9]+:[0-9]+: 'dkim.algorithm': \"rsa-sha1\" is not rsa-sha256 or ed25519-sha256" "  with its place"
dkim_site "$S" rsa
printf '  colour: blue\n' >>"$S/letterbox.yaml"
expect_exit 78 "an unknown key in dkim:" lb -C "$S" check
dkim_site "$S" rsa
sed -i 's/selector: test-rsa/selector: "a b"/' "$S/letterbox.yaml"
expect_exit 78 "a selector with a space" lb -C "$S" check
grep_err "is not a DNS label" "  says so"
dkim_site "$S" rsa
expect_exit 0 "check with a good key" lb -C "$S" check
