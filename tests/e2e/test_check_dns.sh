#!/usr/bin/env bash
# letterbox check --dns against a DNS server on 127.0.0.1 (tests/tools/dnsserver.py),
# never the internet: SPF, DMARC and the DKIM selectors' keys, in plain words.
source "$(dirname "$0")/../lib.sh"
FX=$TOP/tests/fixtures/dkim
ZONE=$T_TMP/zone
$PY "$TOP/tests/tools/dnsserver.py" --records "$ZONE" --port-file "$T_TMP/dnsport" &
DNS_PID=$!
trap 'kill "$DNS_PID" 2>/dev/null; wait "$DNS_PID" 2>/dev/null; rm -rf "$T_TMP"' EXIT
for _ in $(seq 100); do [ -s "$T_TMP/dnsport" ] && break; sleep 0.05; done
export LETTERBOX_TEST_DNS=127.0.0.1:$(cat "$T_TMP/dnsport")

S=$T_TMP/s
make_site "$S"
mkdir -p "$S/dkim"
cp "$FX/rsa.key" "$FX/ed25519.key" "$S/dkim/"
chmod 600 "$S"/dkim/*.key
cp "$S/letterbox.yaml" "$T_TMP/plain.yaml"
printf 'dkim:\n  selector: test-rsa\n  key_file: dkim/rsa.key\n  second:\n    selector: test-ed\n    key_file: dkim/ed25519.key\n    algorithm: ed25519-sha256\n' >>"$S/letterbox.yaml"
RSA=$(grep '^test-rsa' "$FX/records")
ED=$(grep '^test-ed' "$FX/records")
zone() { printf '%s\n' "$@" >"$ZONE"; }
dns() { expect_exit "$1" "$2" lb -C "$S" check --dns; }
says() { if grep -qE -- "$1" "$T_TMP/out"; then pass "$2"; else
	fail "$2: stdout lacks /$1/"; sed 's/^/       /' "$T_TMP/out"; fi; }
GOOD=("example.org=v=spf1 mx -all" "example.org=google-site-verification=abc"
	"_dmarc.example.org=v=DMARC1; p=quarantine; rua=mailto:dmarc@example.org" "$RSA" "$ED")

zone "${GOOD[@]}"
dns 0 "everything published and matching"
says '^SPF    example.org: ok: "v=spf1 mx -all"' "  SPF found among other TXT records"
says '^DMARC  _dmarc.example.org: ok' "  DMARC found"
says '^DKIM   test-rsa._domainkey.example.org: ok: matches dkim/rsa.key \(rsa-sha256\)' "  the RSA key matches"
says '^DKIM   test-ed._domainkey.example.org: ok: matches dkim/ed25519.key \(ed25519-sha256\)' "  the Ed25519 key matches"
says '^dns: all good for example.org' "  the verdict"

zone "${GOOD[@]:0:2}" "$RSA" "$ED"
dns 65 "no DMARC record"
says '^DMARC  _dmarc.example.org: MISSING: no DMARC record; Gmail and Yahoo require one' "  says what is missing and why"
says '^dns: 1 thing to fix' "  one thing to fix"

zone "${GOOD[@]:1:2}" "$RSA" "$ED"
dns 65 "no SPF record"
says '^SPF    example.org: MISSING' "  says so"

zone "${GOOD[@]}" "example.org=v=spf1 a -all"
dns 65 "two SPF records"
says '^SPF    example.org: BROKEN: 2 SPF records' "  says so"

zone "example.org=v=spf1 +all" "${GOOD[@]:1}"
dns 65 "SPF +all"
says '^SPF    example.org: WEAK' "  says anyone may send"

zone "${GOOD[@]:0:3}" "$ED"
dns 65 "the RSA selector not published"
says '^DKIM   test-rsa._domainkey.example.org: MISSING: no key published for selector test-rsa' "  says which selector"

zone "${GOOD[@]:0:3}" "test-rsa._domainkey.example.org=v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqn063fpBELknjpzCKbAx1tdKcQHO69WgwANSup5BcXD5EYXnaabdVkS55LBFnkw79vdVs" "$ED"
dns 65 "another RSA key published"
says '^DKIM   test-rsa._domainkey.example.org: MISMATCH: the published key is not the one in dkim/rsa.key' "  says it does not match"

zone "${GOOD[@]:0:3}" "$RSA" "test-ed._domainkey.example.org=v=DKIM1; k=rsa; p=${ED##*p=}"
dns 65 "the Ed25519 key published as k=rsa"
says 'MISMATCH: the record is for k=rsa, but dkim/ed25519.key is an ed25519-sha256 key' "  says so"

zone "${GOOD[@]:0:3}" "$RSA" "test-ed._domainkey.example.org=v=DKIM1; k=ed25519; p="
dns 65 "a revoked key (empty p=)"
says 'REVOKED' "  says revoked"

zone "${GOOD[@]:0:2}" "_dmarc.example.org=!SERVFAIL" "$RSA" "$ED"
dns 69 "SERVFAIL for the DMARC name"
says '^DMARC  _dmarc.example.org: UNKNOWN' "  says it could not tell"

zone "${GOOD[@]}"
sed -i 's/^dkim:/dkim:\n  domain: mail.example.org/' "$S/letterbox.yaml"
zone "${GOOD[@]:0:2}" "_dmarc.example.org=v=DMARC1; p=reject; adkim=s" "${RSA/example.org/mail.example.org}" "${ED/example.org/mail.example.org}"
dns 65 "strict DKIM alignment, signing as a subdomain"
says 'MISMATCH: letterbox signs as d=mail.example.org, which does not align with the From domain example.org \(adkim=s' "  says why"
zone "${GOOD[@]:0:2}" "_dmarc.example.org=v=DMARC1; p=reject" "${RSA/example.org/mail.example.org}" "${ED/example.org/mail.example.org}"
dns 0 "relaxed alignment: a subdomain is fine"

cp "$T_TMP/plain.yaml" "$S/letterbox.yaml"
zone "${GOOD[@]:0:3}"
dns 0 "not signing: SPF and DMARC only"
says '^DKIM   example.org: OFF: letterbox does not sign' "  says letterbox does not sign"

# A domain with many TXT records (site verifications): the answer passes
# 8 KB and comes over TCP; read whole, not cut (nor read past its buffer).
FILL=$(printf 'x%.0s' $(seq 2000))
zone "example.org=a $FILL" "example.org=b $FILL" "example.org=c $FILL" "example.org=d $FILL" \
	"example.org=e $FILL" "${GOOD[@]:0:3}"
dns 0 "an answer of 10 KB (over TCP)"
says '^SPF    example.org: ok: "v=spf1 mx -all"' "  the SPF record after 10 KB of others is found"

# What a DNS server sends is printed made safe: no escape sequence reaches
# the terminal.
zone "example.org=v=spf1 mx -all $(printf '\033]0;owned\007\033[2J')" "${GOOD[@]:1:2}"
dns 0 "a record with terminal escapes"
if grep -q $'\033' "$T_TMP/out"; then fail "  an ESC reached the terminal"; else pass "  no ESC on stdout"; fi
says 'mx -all \\x1b\]0;owned\\x07' "  the escapes shown visibly"

kill "$DNS_PID" 2>/dev/null
wait "$DNS_PID" 2>/dev/null
dns 69 "no DNS server answering"
says 'UNKNOWN: no answer from the DNS server' "  says so"
