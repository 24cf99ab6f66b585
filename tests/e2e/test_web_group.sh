#!/usr/bin/env bash
# Shared-group mode (core/fsx.h, README "The web side"): cron's user and the
# web server's user, in one group, with state/ mode 2770.  Each makes files
# the other can append to, under a umask of 077 (systemd's UMask=0077), and
# the default (0700, 0600, a group-readable secret refused) is unchanged.
source "$(dirname "$0")/../lib.sh"
NOW="2026-11-25 10:00"

if [ "$(id -u)" != 0 ] || ! id www-data >/dev/null 2>&1 || ! id daemon >/dev/null 2>&1; then
	pass "skipped: needs root to act as two users (daemon for cron, www-data for the web)"
	exit 0
fi
G=4242 # the shared group; setpriv needs no /etc/group entry for it
as_cron() { (umask 077; setpriv --reuid=daemon --regid=daemon --groups=$G "$@"); }
as_web() { (umask 077; setpriv --reuid=www-data --regid=www-data --groups=$G "$@"); }

chmod 711 "$T_TMP"
S=$T_TMP/site
make_site "$S"
chmod -R a+rX "$S"
chown -R daemon "$S"       # the site is cron's user's
chown -R daemon:$G "$S/state"
chmod 2770 "$S/state"
chmod 640 "$S/state/secret"

expect_exit 0 "cron's user sends, in a 2770 state/" as_cron "$LB" -C "$S" send --now "$NOW"
same "  state/ is still 2770" "$(stat -c %a "$S/state")" 2770
check "  its files are the group's (660), whatever the umask" \
	test -z "$(find "$S/state" -type f ! -perm 660 ! -name secret)"
check "  its directories too (2770)" test -z "$(find "$S/state" -type d ! -perm 2770)"
check "  all in the shared group" test -z "$(find "$S/state" ! -group $G)"

TA=$($PY -c 'import base64,hashlib,hmac
m=hmac.new(bytes(range(32)),b"news.example.org\0ada.lovelace@example.org",hashlib.sha256).digest()
print(base64.b32encode(m[:10]).decode().lower())')
cgi_post() { # as USER-FUNCTION TOKEN: the status line
	printf 'List-Unsubscribe=One-Click' | $1 env REQUEST_METHOD=POST PATH_INFO="/u/$2" \
		CONTENT_TYPE=application/x-www-form-urlencoded CONTENT_LENGTH=26 "$LB" -C "$S" cgi 2>"$T_TMP/cgi.err" |
		head -1 | tr -d '\r'
}
same "the web's user unsubscribes Ada" "$(cgi_post as_web "$TA")" "Status: 200 OK"
check "  state/letterbox.db: the shared group's, 660" \
	test "$(stat -c '%g %a' "$S/state/letterbox.db")" = "$G 660"
expect_exit 0 "cron's user appends to it" as_cron "$LB" -C "$S" subscribers remove mei.chen@example.org
expect_exit 0 "  and reads both" as_cron "$LB" -C "$S" subscribers suppressions
check "  Ada (web) and Mei (staff)" grep -q "ada.lovelace@example.org  web" "$T_TMP/out"
expect_exit 0 "cron's user sends again: Ada is skipped" as_cron "$LB" -C "$S" send --now "$NOW"
TZ2=$($PY -c 'import base64,hashlib,hmac
m=hmac.new(bytes(range(32)),b"news.example.org\0zoe.angstrom@example.org",hashlib.sha256).digest()
print(base64.b32encode(m[:10]).decode().lower())')
same "the web's user again, after cron's write" "$(cgi_post as_web "$TZ2")" "Status: 200 OK"
same "  both records there" "$(sup_records "$S" | grep -c $'\tunsubscribed\t')" 2

# The default is unchanged: a state/ that is group-writable but not 2770 is
# tightened, and then a group-readable secret is refused.
S2=$T_TMP/plain
make_site "$S2"
chmod 770 "$S2/state"
chmod 640 "$S2/state/secret"
expect_exit 78 "a 770 state/ (no setgid): tightened, the 640 secret refused" lb -C "$S2" send --now "$NOW"
same "  state/ is 700 again" "$(stat -c %a "$S2/state")" 700
grep_err "readable by others \(mode 640\): chmod 600" "  says chmod 600"
chmod 600 "$S2/state/secret"
expect_exit 0 "  with 600 it sends" lb -C "$S2" send --now "$NOW"
check "  and its files are 600" test -z "$(find "$S2/state" -type f ! -perm 600)"
chmod 2770 "$S2/state"
chmod 604 "$S2/state/secret"
expect_exit 78 "a 2770 state/ still refuses a secret others can read" lb -C "$S2" send --now "$NOW"
grep_err "chmod 660" "  says chmod 660"

# DKIM in a shared-group state/: both users send mail (the web's user the
# confirmations, cron's the newsletters), so the key may be the group's to
# read (0640), owned by either; not the group's to write, nor others'.
S3=$T_TMP/dkim
make_site "$S3"
mkdir -p "$S3/dkim" "$S3/outbox"
cp "$TOP/tests/fixtures/dkim/ed25519.key" "$S3/dkim/"
printf 'dkim:\n  selector: test-ed\n  key_file: dkim/ed25519.key\n  algorithm: ed25519-sha256\n' >>"$S3/letterbox.yaml"
chmod -R a+rX "$S3"
chown -R daemon "$S3"
chown -R daemon:$G "$S3/state" "$S3/outbox"
chmod 2770 "$S3/state" "$S3/outbox"
chmod 640 "$S3/state/secret"
chown daemon:$G "$S3/dkim/ed25519.key"
chmod 640 "$S3/dkim/ed25519.key"
expect_exit 0 "DKIM: the web's user signs with cron's user's 0640 group key" \
	as_web "$LB" -C "$S3" send healing-through-connection --to a@example.org --now "$NOW"
check "  the mail is signed" grep -q '^DKIM-Signature:' "$(find "$S3/outbox" -type f | head -1)"
expect_exit 0 "  check, as the web's user, agrees" as_web "$LB" -C "$S3" check
chmod 660 "$S3/dkim/ed25519.key"
expect_exit 78 "  a key the group may write is refused" \
	as_web "$LB" -C "$S3" send healing-through-connection --to a@example.org --now "$NOW"
grep_err "must be 0640 or stricter" "  says so"
chmod 640 "$S3/dkim/ed25519.key"
chgrp 4243 "$S3/dkim/ed25519.key"
expect_exit 78 "  a key another group may read is refused" \
	as_cron "$LB" -C "$S3" send healing-through-connection --to a@example.org --now "$NOW"
