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
