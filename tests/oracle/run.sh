#!/usr/bin/env bash
# Every message we produce, parsed by Python's email package (policy=default).
source "$(dirname "$0")/../lib.sh"
site=$T_TMP/site
make_site "$site"
title="Healing Through Connection: The Importance of a Therapeutic Relationship"

oracle() { # TAG SITE ARTICLE SLUG TO_ARG TO_NAME TO_ADDR SUBJECT [extra json]
	local tag=$1 s=$2 art=$3 slug=$4 to=$5 name=$6 addr=$7 subject=$8 extra=${9:-}
	local out=$T_TMP/o-$tag
	if ! lb -C "$s" preview "$art" --to "$to" --out "$out" >/dev/null 2>"$T_TMP/err"; then
		fail "$tag: preview failed: $(head -1 "$T_TMP/err")"; return
	fi
	$PY - "$T_TMP/$tag.json" "$slug" "$name" "$addr" "$subject" "$tag" "$extra" <<'PY'
import json, sys
f, slug, name, addr, subject, tag, extra = sys.argv[1:8]
d = {"slug": slug, "to_name": name, "to_addr": addr, "subject": subject, "tag": tag}
if extra: d.update(json.loads(extra))
json.dump(d, open(f, "w"))
PY
	$PY "$TOP/tests/oracle/check_messages.py" "$out" "$T_TMP/$tag.json" >"$T_TMP/py.out"
	local n=0 line
	while IFS= read -r line; do
		case $line in
		"  ok"*) echo pass >>"$T_RESULTS"; n=$((n + 1)) ;;
		"  FAIL"*) echo fail >>"$T_RESULTS"; echo "$line" ;;
		esac
	done <"$T_TMP/py.out"
	echo "  ok   $tag: $n checks by Python's email package passed"
}

oracle seed-accents "$site" healing-through-connection healing-through-connection \
	'"Zoë \"Zo\" Ångström" <zoe@example.org>' 'Zoë "Zo" Ångström' zoe@example.org "$title" \
	'{"text_contains": ["Dear Zoë,", "Woodland Hills", "unsubscribe"], "html_contains": ["Dear Zoë,", "Healing Through Connection"]}'
oracle seed-plain "$site" healing-through-connection healing-through-connection \
	"mei.chen@example.org" "" mei.chen@example.org "$title"
oracle seed-idn "$site" healing-through-connection healing-through-connection \
	"Jürgen Müller <jm@bücher.example>" "Jürgen Müller" jm@xn--bcher-kva.example "$title"
oracle seed-comma "$site" healing-through-connection healing-through-connection \
	'"Lovelace, Ada" <ada@example.org>' "Lovelace, Ada" ada@example.org "$title"

# A hostile title: CR/LF must not start a header; a long non-ASCII title must fold.
cat >"$site/newsletters/2026-11-26-hostile.md" <<'MD'
---
title: "Ünïcödé façade — a very long subject line that will certainly need folding across several header lines\r\nBcc: victim@example.net"
date: 2026-11-26
---
Body with a [relative link](/about/) and an ![image](img/a.png).
MD
oracle hostile-title "$site" hostile hostile "Ada <ada@example.org>" Ada ada@example.org \
	"Ünïcödé façade — a very long subject line that will certainly need folding across several header lines  Bcc: victim@example.net" \
	'{"html_contains": ["https://www.example.org/about/", "https://www.example.org/img/a.png"]}'
