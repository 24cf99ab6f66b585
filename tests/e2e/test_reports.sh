#!/usr/bin/env bash
# What a report can do (README): bounces, complaints and unsubscribe requests
# read by `letterbox poll` from the Maildir inbox.  A linked report (a
# verified token, one of our Message-IDs) acts on its subscriber, never on
# the addresses it names; an unlinked one is pending evidence until a linked
# report or a 5xx at send time confirms it; addresses on no list change
# nothing.  Then suppressions made while a campaign is deferred reach it.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/servers.sh"
NOW="2026-11-25 10:00"

S=$T_TMP/s
make_site "$S"
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
# tok ADDRESS: the subscriber's token under make_site's fixed secret.
tok() {
	$PY - "$1" <<'PY'
import base64, hashlib, hmac, sys
mac = hmac.new(bytes(range(32)), b"news.example.org\0" + sys.argv[1].encode(), hashlib.sha256).digest()
print(base64.b32encode(mac[:10]).decode().lower())
PY
}
n=0
# dsn TO RCPT STATUS ACTION [RETURNED-MESSAGE-ID]: a DSN into the inbox.
dsn() {
	n=$((n + 1))
	{
		printf 'Return-Path: <>\nFrom: Mail Delivery System <MAILER-DAEMON@mx.elsewhere.example>\n'
		printf 'To: %s\nSubject: Undelivered Mail Returned to Sender\n' "$1"
		printf 'Message-ID: <dsn%d.%s@mx.elsewhere.example>\nAuto-Submitted: auto-replied\n' "$n" "$$"
		printf 'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="b%d"\n\n' "$n"
		printf -- '--b%d\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n' "$n"
		printf -- '--b%d\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.elsewhere.example\n\n' "$n"
		printf 'Final-Recipient: rfc822; %s\nAction: %s\nStatus: %s\nDiagnostic-Code: smtp; %s3 %s mailbox problem\n\n' \
			"$2" "$4" "$3" "${3%%.*}5" "$3"
		if [ -n "${5:-}" ]; then
			printf -- '--b%d\nContent-Type: text/rfc822-headers\n\n' "$n"
			printf 'From: News <news@example.org>\nTo: %s\nSubject: Healing\nMessage-ID: <%s>\n\n' "$2" "$5"
		fi
		printf -- '--b%d--\n' "$n"
	} >"$S/inbox/new/$n.dsn.localhost"
}
# arf TO RCPT: a complaint naming RCPT only in Original-Rcpt-To.
arf() {
	n=$((n + 1))
	{
		printf 'Return-Path: <>\nFrom: Feedback <feedback@arf.elsewhere.example>\nTo: %s\n' "$1"
		printf 'Subject: complaint\nMessage-ID: <arf%d.%s@arf.elsewhere.example>\nMIME-Version: 1.0\n' "$n" "$$"
		printf 'Content-Type: multipart/report; report-type=feedback-report; boundary="a%d"\n\n' "$n"
		printf -- '--a%d\nContent-Type: text/plain\n\nAn abuse report.\n\n' "$n"
		printf -- '--a%d\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nVersion: 1\n' "$n"
		printf 'Original-Rcpt-To: <%s>\n\n--a%d--\n' "$2" "$n"
	} >"$S/inbox/new/$n.arf.localhost"
}
poll() { expect_exit 0 "$1" lb -C "$S" poll --json --now "$NOW"; cp "$T_TMP/out" "$T_TMP/poll.json"; }
sup() { lb -C "$S" subscribers suppressions; }
# suppressed ADDRESS: whether ADDRESS itself is suppressed (not only named in evidence)
suppressed() { lb -C "$S" subscribers suppressions --json |
	$PY -c 'import json,sys; sys.exit(0 if any(o["address"] == sys.argv[1] for o in json.load(sys.stdin)) else 1)' "$1"; }
not_suppressed() { ! suppressed "$1"; }
pending() { lb -C "$S" subscribers suppressions --pending --json |
	$PY -c 'import json,sys; print(" ".join(sorted(o["address"] + "=" + o["reason"] for o in json.load(sys.stdin))))'; }
ADA=ada.lovelace@example.org ZOE=zoe.angstrom@example.org MEI=mei.chen@example.org
SEAN=sean.obrien@example.org DEE=dee.whitfield@example.org JOSE=jose.nunez@example.org

# --- unlinked reports: evidence, nobody suppressed ---------------------------------------------
dsn news@example.org "$ZOE" 5.1.1 failed                     # a stranger's DSN, no token
arf news@example.org "$MEI"                                  # ARF with only Original-Rcpt-To
dsn "bounces+$(tok $ADA)@example.org" "$ZOE" 5.1.1 failed     # Ada's token, names Zoe
dsn news@example.org nobody@elsewhere.example 5.1.1 failed   # on no list
for i in 1 2 3; do dsn news@example.org "$SEAN" 4.2.2 failed; done # unlinked soft bounces
for i in 1 2 3; do dsn "bounces+$(tok $DEE)@example.org" "$DEE" 4.2.2 failed; done # linked
printf 'From: Jose <%s>\nTo: news@example.org\nSubject: unsubscribe\nMessage-ID: <u1.%s@example.net>\n\nunsubscribe\n' \
	"$JOSE" "$$" >"$S/inbox/new/u1.localhost"                # no token, no Message-ID of ours
poll "poll the reports"
check "  a DSN sent to Ada's bounce address suppresses Ada" grep -q "hard-bounce.*$ADA" <(sup)
check "  ... the evidence names Zoe and the link" grep -q "$ADA.*linked by the token in the bounce address.*names $ZOE" <(sup)
check "  ... poll --json says whom it acted on" grep -q "\"subscriber\":\"$ADA\"" "$T_TMP/poll.json"
check "  a stranger's DSN does not suppress Zoe" not_suppressed $ZOE
check "  an ARF with only Original-Rcpt-To does not suppress Mei" not_suppressed $MEI
check "  unlinked soft bounces do not count (Sean)" not_suppressed $SEAN
check "  ... nor are they kept as pending evidence" test -z "$(pending | grep -o "$SEAN")"
check "  three linked soft bounces suppress Dee (failed)" grep -q "failed.*$DEE" <(sup)
check "  an unsubscribe without a token does not suppress Jose" not_suppressed $JOSE
same "  the unlinked ones are pending evidence" "$(pending)" \
	"$JOSE=unsubscribed $MEI=complaint $ZOE=hard-bounce"
check "  an address on no list is stored nowhere" test -z "$(grep -rl nobody@elsewhere "$S/state" --exclude-dir=poll)"
check "  state/letterbox.db is 0600" test "$(stat -c %a "$S/state/letterbox.db")" = 600
expect_exit 0 "status" lb -C "$S" status
check "  lists the pending reports" grep -q "pending   $ZOE: hard-bounce?" "$T_TMP/out"
expect_exit 0 "status --json" lb -C "$S" status --json
check "  ends with pending_reports" $PY -c "
import json,sys; d=json.loads(open('$T_TMP/out').read().splitlines()[-1])
assert sorted(o['address'] for o in d['pending_reports']) == sorted(['$JOSE','$MEI','$ZOE'])"
expect_exit 0 "digest --dry-run" lb -C "$S" digest --dry-run --now "$NOW"
check "  counts the reports awaiting confirmation" grep -q "awaiting confirmation (nobody suppressed): 3" "$T_TMP/out"
expect_exit 0 "poll again" lb -C "$S" poll --now "$NOW"
same "  nothing twice" "$(pending)" "$JOSE=unsubscribed $MEI=complaint $ZOE=hard-bounce"

# --- linked reports confirm ---------------------------------------------------------------------
dsn news@example.org "$ZOE" 5.1.1 failed "healing-through-connection.$(tok $ZOE).abc123@example.org"
dsn "bounces+$(tok $MEI)@example.org" "$MEI" 4.2.2 failed     # one linked soft bounce
dsn news@example.org "$SEAN" 5.1.1 failed                     # a stranger's hard DSN
poll "poll linked reports"
check "  our Message-ID in the returned message links it: Zoe suppressed" grep -q "hard-bounce.*$ZOE.*returned message" <(sup)
check "  a linked soft bounce is no evidence of a complaint: Mei not suppressed" not_suppressed $MEI
same "  three reports pending" "$(pending)" "$JOSE=unsubscribed $MEI=complaint $SEAN=hard-bounce"

# --- a 5xx at send time confirms --------------------------------------------------------------
printf '  - email: pat@example.org\n  - email: kim@example.org\n' >>"$S/subscribers/friends.yaml"
start_faultsmtp --reject "$SEAN" --reject-policy "$JOSE" --reject-policy pat@ \
	--reject-sender-at kim@ || fail "faultsmtp starts"
sed -i "s|  url: maildir:outbox|  url: smtp://127.0.0.1:$FAULT_PORT|" "$S/letterbox.yaml"
expect_exit 0 "send: 550 5.1.1 for Sean, 550 5.7.1 for Jose and Pat" lb -C "$S" send --now "$NOW"
check "  5.1.1 suppresses Sean, confirming his pending report" grep -q "hard-bounce.*$SEAN.*confirms the pending report" <(sup)
check "  a 5.7.1 (policy) is no evidence of an unsubscribe: Jose not suppressed" not_suppressed $JOSE
check "  5.7.1 alone does not suppress Pat" not_suppressed pat@example.org
check "  550 5.1.0 'Sender address rejected' at RCPT does not suppress Kim" not_suppressed kim@example.org
same "  two reports still pending" "$(pending)" "$JOSE=unsubscribed $MEI=complaint"
stop_faultsmtp

# --- a suppression filed while a campaign is deferred reaches it --------------------------------
rm -rf "$S"
make_site "$S"
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
start_faultsmtp --defer "$SEAN" --defer "$DEE" --defer "$JOSE" || fail "faultsmtp starts"
sed -i "s|  url: maildir:outbox|  url: smtp://127.0.0.1:$FAULT_PORT|" "$S/letterbox.yaml"
expect_exit 75 "send: Sean, Dee and Jose deferred" lb -C "$S" send --now "$NOW"
dsn "bounces+$(tok $SEAN)@example.org" "$SEAN" 5.1.1 failed
# Staff delete Jose from the list file by hand; his unsubscribe carries his token.
sed -i "/$JOSE/,+1d" "$S/subscribers/friends.yaml"
printf 'From: <%s>\nTo: unsubscribe+%s@example.org\nSubject: unsubscribe\nMessage-ID: <u2.%s@example.net>\n\nunsubscribe\n' \
	"$JOSE" "$(tok $JOSE)" "$$" >"$S/inbox/new/u2.localhost"
poll "poll files Sean's bounce and Jose's unsubscribe while the campaign is deferred"
check "  Jose, in the campaign but no longer in a list file, is suppressed" suppressed $JOSE
expect_exit 0 "Dee is unsubscribed by staff" lb -C "$S" subscribers remove "$DEE"
stop_faultsmtp
start_faultsmtp || fail "a healthy faultsmtp"
sed -i "s|smtp://127.0.0.1:[0-9]*|smtp://127.0.0.1:$FAULT_PORT|" "$S/letterbox.yaml"
expect_exit 0 "send 20 minutes later" lb -C "$S" send --now "2026-11-25 10:20"
grep_err "3 recipients suppressed since the campaign started: skipped" "  says three were skipped"
same "  neither is sent the newsletter" "$(cat "$FAULT_DIR"/msg-*.eml 2>/dev/null | grep -c '^X-Rcpt-To:')" 0
expect_exit 0 "status" lb -C "$S" status
check "  lists Sean as skipped, with the reason" grep -q "skipped   $SEAN: suppressed: hard-bounce" "$T_TMP/out"
check "  lists Dee as skipped, with the reason" grep -q "skipped   $DEE: suppressed: removed" "$T_TMP/out"
check "  lists Jose as skipped, with the reason" grep -q "skipped   $JOSE: suppressed: unsubscribed" "$T_TMP/out"
check "  and the campaign as finished" grep -q "finished" "$T_TMP/out"
stop_faultsmtp

# --- what followed the sending: status and the digest count it per campaign --------------------
rm -rf "$S"
make_site "$S"
mkdir -p "$S/inbox/new" "$S/inbox/cur" "$S/inbox/tmp"
expect_exit 0 "send the newsletter to six" lb -C "$S" send --now "$NOW"
expect_exit 0 "a digest: nothing after sending yet" lb -C "$S" digest --dry-run --now "$NOW"
check "  no 'since:' yet" test -z "$(grep 'since:' "$T_TMP/out")"
dsn "bounces+$(tok $ADA)@example.org" "$ADA" 5.1.1 failed
printf 'From: <%s>\nTo: unsubscribe+%s@example.org\nSubject: unsubscribe\nMessage-ID: <u3.%s@example.net>\n\nunsubscribe\n' \
	"$ZOE" "$(tok $ZOE)" "$$" >"$S/inbox/new/u3.localhost"
dsn news@example.org "$MEI" 5.1.1 failed # unlinked: evidence only, not counted
poll "poll a linked bounce, an unsubscribe and an unlinked bounce"
expect_exit 0 "status" lb -C "$S" status
check "  6 sent, then 1 bounced later, 1 unsubscribed" \
	grep -qx "  since: 1 bounced later, 1 unsubscribed" "$T_TMP/out"
expect_exit 0 "status --json" lb -C "$S" status --json
check "  \"after\" counts them" $PY -c "
import json; d=json.loads(open('$T_TMP/out').read().splitlines()[0])
assert d['counts']['sent'] == 6 and d['after'] == {'bounced': 1, 'complained': 0, 'unsubscribed': 1}, d"
expect_exit 0 "the digest" lb -C "$S" digest --dry-run --now "2026-11-26 08:00"
check "  names the campaign with what followed it" \
	grep -q "healing-through-connection: 6 delivered.*since: 1 bounced later, 1 unsubscribed" "$T_TMP/out"
# A later campaign to the same people: what followed the first stays the first's.
sed -e 's/^date: .*/date: 2026-11-27 09:00/' -e 's/^title: .*/title: "Second"/' \
	"$S/newsletters/2026-11-25-healing-through-connection.md" >"$S/newsletters/2026-11-27-second.md"
expect_exit 0 "send a second article" lb -C "$S" send --now "2026-11-27 09:10"
expect_exit 0 "status" lb -C "$S" status
same "  the first keeps its bounce and unsubscribe" \
	"$(grep -A2 "^healing-through-connection:" "$T_TMP/out" | grep "since:")" "  since: 1 bounced later, 1 unsubscribed"
check "  the second has none" test -z "$(grep -A2 '^second:' "$T_TMP/out" | grep 'since:')"
