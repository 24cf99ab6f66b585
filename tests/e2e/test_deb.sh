#!/usr/bin/env bash
# The Debian package (issue 14): `make deb` builds letterbox_*.deb from a copy
# of the sources with Debian's own -dev packages, lintian-clean; then the
# package is installed here, a site started with the installed binary and the
# demo run on it with the installed templates, and the package is purged.
# Skipped, saying so, only where dpkg-buildpackage cannot be installed.
source "$(dirname "$0")/../lib.sh"

if ! "$TOP/scripts/deps" deb >"$T_TMP/deps.log" 2>&1 || ! command -v dpkg-buildpackage >/dev/null ||
	! command -v dh >/dev/null || ! command -v lintian >/dev/null; then
	echo "  skip the .deb: dpkg-buildpackage, debhelper or lintian cannot be installed here"
	sed 's/^/       /' "$T_TMP/deps.log" | tail -3
	exit 0
fi

B=$T_TMP/b
if make -s --no-print-directory -C "$TOP" deb BUILD="$B" >"$T_TMP/deb.log" 2>&1; then
	pass "make deb: built, lintian clean"
else
	fail "make deb"; grep -v "^running with root" "$T_TMP/deb.log" | tail -15 | sed 's/^/       /'
	exit 0
fi
DEB=$(ls "$B"/deb/letterbox_*.deb)
dpkg -c "$DEB" | awk '{print $6}' | sed 's|^\./|/|' >"$T_TMP/contents"
for f in /usr/bin/letterbox /usr/share/man/man1/letterbox.1.gz /usr/share/man/man5/letterbox.yaml.5.gz \
	/usr/share/letterbox/templates/newsletter.html /usr/share/letterbox/templates/reply.txt \
	/usr/share/letterbox/examples/crontab.example /lib/systemd/system/letterbox-poll-watch.service \
	/lib/systemd/system/letterbox-send.timer /usr/lib/sysusers.d/letterbox.conf \
	/usr/lib/tmpfiles.d/letterbox.conf; do
	check "the package has $f" grep -qx "$f" "$T_TMP/contents"
done
check "it depends on libcurl3-gnutls (opened with dlopen: shlibs cannot see it)" bash -c \
	"dpkg-deb -f '$DEB' Depends | grep -q 'libcurl3-gnutls'"
check "the units run /usr/bin/letterbox" bash -c "dpkg-deb --fsys-tarfile '$DEB' |
	tar -xOf - ./lib/systemd/system/letterbox-send.service | grep -qx 'ExecStart=/usr/bin/letterbox send'"

# ---- install it here, use it, purge it ----------------------------------------------------------
if [ "$(id -u)" != 0 ]; then
	echo "  skip installing the .deb: not root"
	exit 0
fi
# One install at a time on this machine (other test runs), and never over a
# letterbox someone installed for real.
exec 9>/tmp/letterbox-test-deb.lock
flock 9
if dpkg -s letterbox >/dev/null 2>&1; then
	echo "  skip installing the .deb: a letterbox package is installed here already"
	exit 0
fi
had_dir=$([ -e /var/lib/letterbox ] && echo yes || echo no)
cleanup() {
	dpkg --purge letterbox >/dev/null 2>&1
	[ "$had_dir" = no ] && rmdir /var/lib/letterbox 2>/dev/null
	rm -rf "$T_TMP"
}
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
if dpkg -i "$DEB" >"$T_TMP/install.log" 2>&1; then pass "dpkg -i the package"; else
	fail "dpkg -i"; tail -5 "$T_TMP/install.log" | sed 's/^/       /'; exit 0; fi
IL=/usr/bin/letterbox
same "the installed binary runs" "$($IL --version)" "letterbox 0.1.0"
check "the letterbox user exists" bash -c "id letterbox >/dev/null"
same "/var/lib/letterbox: group letterbox, setgid" "$(stat -c '%a %U %G' /var/lib/letterbox)" \
	"2770 letterbox letterbox"
check "no unit was enabled by installing" bash -c \
	"! systemctl is-enabled letterbox-send.timer letterbox-poll-watch.service 2>/dev/null | grep -qx enabled"

S=$T_TMP/site
expect_exit 0 "installed: letterbox init" $IL init "$S" --name "Deb Test" \
	--from "Deb Test <news@deb.example>" --postal-address "4 Package Lane"
check "  init ran check: all good" grep -q "^check: all good" "$T_TMP/out"
check "  init wrote the installed templates" cmp -s /usr/share/letterbox/templates/newsletter.html \
	"$S/templates/newsletter.html"
expect_exit 0 "installed: preview" $IL -C "$S" preview welcome --out "$T_TMP/pv"
expect_exit 0 "installed: send --dry-run --to" $IL -C "$S" send welcome --dry-run --to me@deb.example

# The demo (make demo) on a copy of the sample site without its templates:
# the package's are used.
D=$T_TMP/demo
mkdir -p "$D"
cp -r "$TOP/letterbox.yaml" "$TOP/newsletters" "$TOP/subscribers" "$TOP/samples" "$TOP/scripts" "$D/"
if (cd "$D" && scripts/demo "$IL") >"$T_TMP/demo.out" 2>&1; then pass "installed: the demo runs"; else
	fail "installed: the demo"; tail -10 "$T_TMP/demo.out" | sed 's/^/       /'; fi
same "  six newsletters and the urgent alert in the outbox" "$(ls "$D/outbox/new" | wc -l)" 7
check "  the replies were filed" grep -q "Inquiry\|inquir" "$T_TMP/demo.out"
expect_exit 0 "  -v names the installed template" $IL -v -C "$D" preview healing-through-connection \
	--out "$T_TMP/dpv"
grep_err "using /usr/share/letterbox/templates/newsletter.html" "  (the package's)"

if dpkg --purge letterbox >"$T_TMP/purge.log" 2>&1; then pass "dpkg --purge"; else
	fail "dpkg --purge"; tail -5 "$T_TMP/purge.log" | sed 's/^/       /'; fi
check "the binary is gone" test ! -e /usr/bin/letterbox
check "the units are gone" test ! -e /lib/systemd/system/letterbox-send.service
