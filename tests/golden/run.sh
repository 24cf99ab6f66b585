#!/usr/bin/env bash
# Golden tests: the seed article composed for a fixed recipient, at a fixed
# time, with a fixed secret, must equal the checked-in .eml/.html/.txt.
# LB_UPDATE_GOLDEN=1 rewrites the expectations (review the diff before committing).
source "$(dirname "$0")/../lib.sh"
export TZ=UTC
site=$T_TMP/site
make_site "$site"
exp=$TOP/tests/golden/expected
out=$T_TMP/out

compose() {
	lb -C "$site" preview healing-through-connection --now "2026-11-25 09:00" \
		--to "$1" --out "$out/$2" >/dev/null
}

check "preview for an accented name with a quote mark" \
	compose '"Zoë \"Zo\" Ångström" <zoe@example.org>' zoe
check "preview for an address without a name" compose "mei.chen@example.org" mei

for who in zoe mei; do
	for ext in eml html txt; do
		f=healing-through-connection.$ext
		if [ "${LB_UPDATE_GOLDEN:-0}" = 1 ]; then
			mkdir -p "$exp/$who"
			cp "$out/$who/$f" "$exp/$who/$f"
		fi
		if cmp -s "$out/$who/$f" "$exp/$who/$f"; then
			pass "golden $who/$f"
		else
			fail "golden $who/$f differs:"
			diff -u "$exp/$who/$f" "$out/$who/$f" | head -20 | sed 's/^/       /'
		fi
	done
done

# DKIM: the same article signed with the fixed test keys (tests/fixtures/dkim)
# at the fixed time: RSA PKCS#1 v1.5 and Ed25519 signatures are deterministic,
# so the whole signed message is a golden file too.
dsite=$T_TMP/dkim-site
make_site "$dsite"
mkdir -p "$dsite/dkim"
cp "$TOP/tests/fixtures/dkim/rsa.key" "$TOP/tests/fixtures/dkim/ed25519.key" "$dsite/dkim/"
chmod 600 "$dsite"/dkim/*.key
printf 'dkim:\n  selector: test-rsa\n  key_file: dkim/rsa.key\n  second:\n    selector: test-ed\n    key_file: dkim/ed25519.key\n    algorithm: ed25519-sha256\n' >>"$dsite/letterbox.yaml"
signed_preview() {
	lb -C "$dsite" preview healing-through-connection --now "2026-11-25 09:00" \
		--to "mei.chen@example.org" --out "$out/dkim" >/dev/null
}
check "signed preview (rsa-sha256 + ed25519-sha256)" signed_preview
f=healing-through-connection.eml
if [ "${LB_UPDATE_GOLDEN:-0}" = 1 ]; then
	mkdir -p "$exp/dkim"
	cp "$out/dkim/$f" "$exp/dkim/$f"
fi
if cmp -s "$out/dkim/$f" "$exp/dkim/$f"; then
	pass "golden dkim/$f"
else
	fail "golden dkim/$f differs:"
	diff -u "$exp/dkim/$f" "$out/dkim/$f" | head -20 | sed 's/^/       /'
fi
mapfile -t rec <"$TOP/tests/fixtures/dkim/records"
dkim_verify() { $PY "$TOP/tests/tools/dkim_verify.py" "$@" >"$T_TMP/v" 2>&1 || { cat "$T_TMP/v"; false; }; }
check "golden dkim/$f verifies (python3-dkim)" dkim_verify "$exp/dkim/$f" "${rec[@]}"
# The signed message is the unsigned one with the two DKIM-Signature fields in front.
check "golden dkim/$f is mei/$f plus the signatures" \
	cmp -s <(awk '/^DKIM-Signature:/{s=1;next} s&&/^\t/{next} {s=0; print}' "$exp/dkim/$f") "$exp/mei/$f"

# The archive's page and feed for the seed article (src/web/archive.c,
# feed.c), from a campaign that went out at a fixed time: the bodies as the
# CGI answers them.
asite=$T_TMP/archive-site
make_site "$asite"
set_web_url "$asite" https://news.example.org/news
mkdir -p "$asite/state/campaigns/healing-through-connection" "$out/archive"
printf '# letterbox campaign healing-through-connection started 1795597200\nR\tmei.chen@example.org\t\tfriends\n' \
	>"$asite/state/campaigns/healing-through-connection/recipients"
printf 'A 0 1795597201\nS 0 1795597202 250 2.0.0 ok\nE 1795597203\n' \
	>"$asite/state/campaigns/healing-through-connection/journal"
for page in healing-through-connection:healing-through-connection.html feed.xml:feed.xml; do
	REQUEST_METHOD=GET SCRIPT_NAME=/news PATH_INFO="/archive/${page%%:*}" HTTP_HOST=news.example.org \
		lb -C "$asite" cgi | sed '1,/^\r$/d' >"$out/archive/${page#*:}"
	f=archive/${page#*:}
	if [ "${LB_UPDATE_GOLDEN:-0}" = 1 ]; then
		mkdir -p "$exp/archive"
		cp "$out/$f" "$exp/$f"
	fi
	if cmp -s "$out/$f" "$exp/$f"; then
		pass "golden $f"
	else
		fail "golden $f differs:"
		diff -u "$exp/$f" "$out/$f" | head -20 | sed 's/^/       /'
	fi
done
