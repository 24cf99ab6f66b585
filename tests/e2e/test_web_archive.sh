#!/usr/bin/env bash
# The archive through a real lighttpd on 127.0.0.1: /archive/ lists the sent
# newsletters (two sent to the Maildir outbox with `letterbox send`, one in
# progress) newest first; drafts, future, failed and unknown articles are
# 404; no page carries a subscriber's token, address or name; the Atom feed
# parses and escapes; web.archive: false turns it all off.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/servers.sh"

S=$T_TMP/site
make_site "$S"
set_web_url "$S" https://news.example.org/news

# The sample article (2026-11-25) plus an older one whose title and summary
# need escaping everywhere, a draft, a future one, one still going out and
# one that reached nobody.
cat >"$S/newsletters/2026-11-01-fish-and-chips.md" <<'MD'
---
title: "Fish <&> \"chips\" news"
date: 2026-11-01 09:00
summary: "Cod & haddock <b>not bold</b>"
author: Front desk
---

Our first letter. Read [the notes](notes/) and see the map:

![The way to our door](https://www.example.org/img/map.png)

<script>alert(1)</script>
MD
cat >"$S/newsletters/2026-11-20-draft-notes.md" <<'MD'
---
title: Unfinished notes
date: 2026-11-20
draft: true
---
Not yet.
MD
cat >"$S/newsletters/2099-06-01-next-summer.md" <<'MD'
---
title: Next summer
date: 2099-06-01
---
Later.
MD
cat >"$S/newsletters/2026-11-10-going-out.md" <<'MD'
---
title: Going out now
date: 2026-11-10
preheader: The preheader stands in for a summary
---
Half of you have this already.
MD
cat >"$S/newsletters/2026-11-05-reached-nobody.md" <<'MD'
---
title: Reached nobody
date: 2026-11-05
---
Every address refused it.
MD

lb -C "$S" send fish-and-chips >/dev/null 2>"$T_TMP/send.err" || fail "send fish-and-chips: $(cat "$T_TMP/send.err")"
lb -C "$S" send healing-through-connection >/dev/null 2>>"$T_TMP/send.err" || fail "send healing"
lb -C "$S" send going-out --limit 2 >/dev/null 2>>"$T_TMP/send.err" # 75: more to send
# A campaign whose every recipient failed: a snapshot and a journal of F.
mkdir -p "$S/state/campaigns/reached-nobody"
printf '# letterbox campaign reached-nobody started 1795000000\nR\tada.lovelace@example.org\tAda\tfriends\n' \
	>"$S/state/campaigns/reached-nobody/recipients"
printf 'A 0 1795000001\nF 0 1795000002 550 5.1.1 no such user\nE 1795000003\n' \
	>"$S/state/campaigns/reached-nobody/journal"
same "the outbox has the two newsletters and the partial one" \
	"$(ls "$S/outbox/new" | wc -l)" $((6 + 6 + 2))

start_lighttpd "$S" || { fail "lighttpd did not start"; exit 1; }

req() {
	local p=$1; shift
	curl -s -o "$T_TMP/b" -D "$T_TMP/h" -w '%{http_code}' "$@" "$WEB_BASE$p"
}
hdr() { grep -i "^$1:" "$T_TMP/h" | head -1 | cut -d: -f2- | sed 's/^ //; s/\r$//'; }
CSP="default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'"

# ---- the list -------------------------------------------------------------------------
same "GET /archive/" "$(req /archive/)" 200
same "  with the CSP" "$(hdr Content-Security-Policy)" "$CSP"
cp "$T_TMP/b" "$T_TMP/list.html"
same "  the sent ones, newest first (the partial one included)" \
	"$(grep -o 'href="/news/archive/[a-z-]*"' "$T_TMP/list.html" | tr '\n' ' ')" \
	'href="/news/archive/healing-through-connection" href="/news/archive/going-out" href="/news/archive/fish-and-chips" '
check "  titles escaped" grep -qF 'Fish &lt;&amp;&gt; &quot;chips&quot; news</a>' "$T_TMP/list.html"
check "  dates" grep -qF '<time datetime="2026-11-25">25 November 2026</time>' "$T_TMP/list.html"
check "  the front matter's summary, escaped" \
	grep -qF '<span class="summary">Cod &amp; haddock &lt;b&gt;not bold&lt;/b&gt;</span>' "$T_TMP/list.html"
check "  else the preheader" grep -qF 'The preheader stands in for a summary' "$T_TMP/list.html"
for gone in draft-notes next-summer reached-nobody; do
	check "  not $gone" sh -c "! grep -q '$gone' '$T_TMP/list.html'"
done
same "GET /archive (no slash) is the list too" "$(req /archive)" 200

# ---- one newsletter -------------------------------------------------------------------
same "GET /archive/fish-and-chips" "$(req /archive/fish-and-chips)" 200
cp "$T_TMP/b" "$T_TMP/fish.html"
same "  with the CSP" "$(hdr Content-Security-Policy)" "$CSP"
check "  the title, escaped, in <title> and <h1>" sh -c \
	"grep -qF '<title>Fish &lt;&amp;&gt; &quot;chips&quot; news · ' '$T_TMP/fish.html' &&
	 grep -qF '<h1>Fish &lt;&amp;&gt; &quot;chips&quot; news</h1>' '$T_TMP/fish.html'"
check "  date and author" grep -qF \
	'<p class="date"><time datetime="2026-11-01">1 November 2026</time> · Front desk</p>' "$T_TMP/fish.html"
check "  the article through the mail's renderer (links resolved against site.url)" grep -qF \
	'<a href="https://www.example.org/notes/">the notes</a>' "$T_TMP/fish.html"
check "  an image is a link to it (the CSP loads no images)" grep -qF \
	'<a class="image" href="https://www.example.org/img/map.png">Image: The way to our door</a>' "$T_TMP/fish.html"
check "  no <img>, no style attribute, no <style>, no script" \
	sh -c "! grep -qiE '<img|style=|<style|<script' '$T_TMP/fish.html'"
check "  the reader is invited to subscribe where the mail has its unsubscribe link" \
	grep -qF '<a href="/news/subscribe">Subscribe</a>' "$T_TMP/fish.html"
check "  no greeting (the mail's is per reader)" sh -c "! grep -q 'Dear ' '$T_TMP/fish.html'"

same "GET /archive/healing-through-connection" "$(req /archive/healing-through-connection)" 200
cp "$T_TMP/b" "$T_TMP/healing.html"
check "  headings and the closing note" sh -c \
	"grep -qF '<h2>The Power of Empathy: How Understanding Fuels Healing</h2>' '$T_TMP/healing.html' &&
	 grep -qF '<blockquote class=\"closing\"><p>At the Center' '$T_TMP/healing.html'"
same "the partial campaign is served" "$(req /archive/going-out)" 200

same "a draft: 404" "$(req /archive/draft-notes)" 404
cp "$T_TMP/b" "$T_TMP/404.html"
same "a future article: 404" "$(req /archive/next-summer)" 404
same "  the same page as an unknown slug" "$(cmp -s "$T_TMP/b" "$T_TMP/404.html" && echo same)" same
same "a campaign that reached nobody: 404" "$(req /archive/reached-nobody)" 404
same "an unknown slug: 404" "$(req /archive/no-such-thing)" 404
same "a slug with a dot: 404" "$(req /archive/healing-through-connection.md)" 404
same "POST to the archive: 405" "$(req /archive/fish-and-chips -d x=1)" 405

# ---- the feed -------------------------------------------------------------------------
same "GET /archive/feed.xml" "$(req /archive/feed.xml)" 200
same "  as Atom" "$(hdr Content-Type)" "application/atom+xml; charset=utf-8"
same "  with the CSP" "$(hdr Content-Security-Policy)" "$CSP"
cp "$T_TMP/b" "$T_TMP/feed.xml"
cat >"$T_TMP/feed.py" <<'PY'
import sys, xml.dom.minidom
import xml.etree.ElementTree as ET
xml.dom.minidom.parse(sys.argv[1])  # a second parser agrees it is XML
A = "{http://www.w3.org/2005/Atom}"
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == A + "feed", root.tag
base = "https://news.example.org/news/archive/"
assert root.find(A + "id").text == base
assert root.find(A + "title").text == "Center for Relationship and Intimacy Wellbeing"
assert root.find(A + "updated").text.endswith("Z")
links = {l.get("rel"): l.get("href") for l in root.findall(A + "link")}
assert links["self"] == base + "feed.xml", links
assert root.find(A + "author/" + A + "name") is not None
entries = root.findall(A + "entry")
print(" ".join(e.find(A + "id").text[len(base):] for e in entries))
fish = [e for e in entries if e.find(A + "id").text == base + "fish-and-chips"][0]
assert fish.find(A + "title").text == 'Fish <&> "chips" news', fish.find(A + "title").text
assert fish.find(A + "summary").text == "Cod & haddock <b>not bold</b>"
assert fish.find(A + "link").get("href") == base + "fish-and-chips"
assert fish.find(A + "published").text == fish.find(A + "updated").text
content = fish.find(A + "content")
assert content.get("type") == "html"
assert '<a href="https://www.example.org/notes/">the notes</a>' in content.text, content.text
assert "<script" not in content.text
for e in entries:
    for tag in ("id", "title", "updated", "link", "content"):
        assert e.find(A + tag) is not None, (tag, e.find(A + "id").text)
PY
same "  parses, one entry per sent newsletter, newest first, escaping survives" \
	"$($PY "$T_TMP/feed.py" "$T_TMP/feed.xml" 2>&1)" "healing-through-connection going-out fish-and-chips"

# ---- nobody's data --------------------------------------------------------------------
# Every token the newsletters carried (Message-ID <slug.TOKEN.stamp@...>),
# every address and name on the list: none may appear on an archive page.
grep -h '^Message-ID:' "$S/outbox/new/"* | sed 's/.*<[a-z-]*\.\([a-z2-7]*\)\..*/\1/' | sort -u >"$T_TMP/tokens"
same "  (tokens collected)" "$(wc -l <"$T_TMP/tokens")" 6
{
	cat "$T_TMP/tokens"
	grep -o '[a-z.]*@example.org' "$S/subscribers/friends.yaml" | sort -u
	printf '%s\n' "Ada Lovelace" "Ada," "Lovelace" "unsubscribe?t=" "hello+" "bounces+" "unsubscribe+"
} >"$T_TMP/private"
for page in list.html fish.html healing.html feed.xml; do
	check "no token, address or name in $page" sh -c "! grep -qiF -f '$T_TMP/private' '$T_TMP/$page'"
done
req /archive/going-out >/dev/null
check "no token, address or name in the partial one" sh -c "! grep -qiF -f '$T_TMP/private' '$T_TMP/b'"

# ---- web.archive: false ---------------------------------------------------------------
sed -i 's|^  url: https://news.example.org/news|&\n  archive: false|' "$S/letterbox.yaml"
for p in /archive/ /archive /archive/fish-and-chips /archive/feed.xml; do
	same "web.archive: false: $p is 404" "$(req "$p")" 404
done
req / >/dev/null
check "  and the home page does not link it" sh -c "! grep -q '/archive/' '$T_TMP/b'"
