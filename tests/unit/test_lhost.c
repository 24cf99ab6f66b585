/* Reports in vendors' own shapes (receive/lhost.h): what makes one, what
 * does not, and the auto-reply signs.  The corpus in tests/data/bounces is
 * checked whole by tests/e2e/test_inbound_shapes.sh; these are the edges. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "receive/lhost.h"
#include "receive/parse.h"

#define SNS                                                                                        \
	"From: AWS Notifications <no-reply@sns.amazonaws.com>\n"                                   \
	"To: news@example.org\nSubject: AWS Notification Message\n"                                \
	"X-Amz-Sns-Message-Id: 0a1b2c3d\nContent-Type: text/plain\n\n"

/* Parse raw and read it as a report: the kind, and the first recipient and
 * severity into *rcpt / *sev (when there is one). */
static enum lhost_kind report(const char *raw, char *rcpt, size_t n, enum bounce_severity *sev)
{
	struct inmsg m;
	struct lhost_report r;
	inmsg_parse(raw, strlen(raw), NULL, &m);
	bool found = lhost_report(&m, &r);
	enum lhost_kind k = found ? r.kind : LHOST_NONE;
	snprintf(rcpt, n, "%s", found && r.rcpt.n ? r.rcpt.v[0] : "");
	*sev = r.severity;
	CHECK(found == (r.kind != LHOST_NONE));
	lhost_report_free(&r);
	inmsg_free(&m);
	return k;
}

static void test_ses(void)
{
	static const struct {
		const char *body;
		enum lhost_kind kind;
		const char *rcpt;
		enum bounce_severity sev;
	} cases[] = {
	    /* SNS's envelope, the notification as an escaped string, \u escapes */
	    {"{\"Type\":\"Notification\",\"Message\":\"{\\\"notificationType\\\":\\\"Bounce\\\","
	     "\\\"bounce\\\":{\\\"bounceType\\\":\\\"Permanent\\\",\\\"bouncedRecipients\\\":"
	     "[{\\\"emailAddress\\\":\\\"a\\\\u0040example.com\\\"}]}}\"}\n",
	     LHOST_BOUNCE, "a@example.com", BOUNCE_HARD},
	    /* Undetermined: the status decides, a 4.x.x is soft */
	    {"{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":\"Undetermined\","
	     "\"bouncedRecipients\":[{\"emailAddress\":\"b@example.com\",\"status\":\"4.4.7\"}]}}"
	     "\n",
	     LHOST_BOUNCE, "b@example.com", BOUNCE_SOFT},
	    {"{\"notificationType\":\"Complaint\",\"complaint\":{\"complainedRecipients\":"
	     "[{\"emailAddress\":\"c@example.com\"},{\"emailAddress\":\"d@example.com\"}]}}\n",
	     LHOST_COMPLAINT, "c@example.com", BOUNCE_NONE},
	    /* a delivery notice is no report; nor is broken JSON, nor a bounce
	     * with no address in it */
	    {"{\"notificationType\":\"Delivery\",\"delivery\":{\"recipients\":[\"e@example.com\"]}}"
	     "\n",
	     LHOST_NONE, "", BOUNCE_NONE},
	    {"{\"notificationType\":\"Bounce\",\"bounce\":{\"bouncedRecipients\":[{\"emailAddr",
	     LHOST_NONE, "", BOUNCE_NONE},
	    {"{\"notificationType\":\"Bounce\",\"bounce\":{\"bouncedRecipients\":"
	     "[{\"emailAddress\":\"nobody\"}]}}\n",
	     LHOST_NONE, "", BOUNCE_NONE},
	    {"{\"\\", LHOST_NONE, "", BOUNCE_NONE},
	    {"Hello, this is not JSON.\n", LHOST_NONE, "", BOUNCE_NONE},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char raw[1024], rcpt[128];
		enum bounce_severity sev;
		snprintf(raw, sizeof raw, "%s%s", SNS, cases[i].body);
		CHECK_INT(report(raw, rcpt, sizeof rcpt, &sev), cases[i].kind);
		CHECK_STR(rcpt, cases[i].rcpt);
		if (cases[i].kind == LHOST_BOUNCE)
			CHECK_INT(sev, cases[i].sev);
	}
	/* The same JSON without SNS's field is somebody's mail, not a report. */
	char rcpt[128];
	enum bounce_severity sev;
	CHECK_INT(
	    report("From: dev@example.com\nSubject: look\n\n{\"notificationType\":\"Bounce\","
		   "\"bounce\":{\"bouncedRecipients\":[{\"emailAddress\":\"x@example.com\"}]}}\n",
		   rcpt, sizeof rcpt, &sev),
	    LHOST_NONE);
}

static void test_shapes_need_signs_and_recipients(void)
{
	char rcpt[128], raw[4096];
	enum bounce_severity sev;
	/* KDDI's wording from a person at a KDDI address is not KDDI's report. */
	CHECK_INT(
	    report("From: taro@abc.dion.ne.jp\nSubject: fwd\n\nYour mail sent on: Thu, 3 Dec\n"
		   "    Could not be delivered to: <x@example.jp>\n",
		   rcpt, sizeof rcpt, &sev),
	    LHOST_NONE);
	CHECK_INT(
	    report("From: no-reply@mta.dion.ne.jp\nSubject: notice\n\nYour mail sent on: Thu\n"
		   "    Could not be delivered to: <x@example.jp>\n    As their mailbox is full.\n",
		   rcpt, sizeof rcpt, &sev),
	    LHOST_BOUNCE);
	CHECK_STR(rcpt, "x@example.jp");
	CHECK_INT(sev, BOUNCE_SOFT);
	/* James's subject alone names nobody. */
	CHECK_INT(report("From: a@example.com\nSubject: [BOUNCE]\n\nWhat does this mean?\n", rcpt,
			 sizeof rcpt, &sev),
		  LHOST_NONE);
	/* Our own address in the transcript is not the failed one. */
	CHECK_INT(report("From: james@example.net\nTo: bounces@example.org\nSubject: [BOUNCE]\n\n"
			 "  MAIL FROM: bounces@example.org\n  RCPT TO: bounces@example.org\n",
			 rcpt, sizeof rcpt, &sev),
		  LHOST_NONE);
	/* A line far too long to be a recipient line is not read as one. */
	memset(raw, 0, sizeof raw);
	int k = snprintf(raw, sizeof raw, "Subject: [BOUNCE]\n\n  RCPT TO: y@example.net");
	memset(raw + k, ' ', 1000);
	memcpy(raw + k + 1000, "\n", 2);
	CHECK_INT(report(raw, rcpt, sizeof rcpt, &sev), LHOST_NONE);
	/* Hotmail's complaint format needs its field in the returned message. */
	CHECK_INT(
	    report("From: staff@hotmail.com\nSubject: complaint about message from 192.0.2.1\n"
		   "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n"
		   "report\n--b\nContent-Type: message/rfc822\n\nTo: z@example.com\n\nhi\n--b--\n",
		   rcpt, sizeof rcpt, &sev),
	    LHOST_NONE);
}

static void test_auto_reply_signs(void)
{
	static const struct {
		const char *header;
		bool auto_reply;
	} cases[] = {
	    {"X-Apple-Action: VACATION\nSubject: Re: hello\n", true},
	    {"X-Apple-Action: something-else\nSubject: Re: hello\n", false},
	    {"X-Mail-Autoreply: yes\n", true},
	    {"X-Mail-Autoreply: no\n", false},
	    {"X-AutoReply-From: a@example.com\n", true},
	    {"X-FC-MachineGenerated: true\n", true},
	    {"X-Autogenerated: Reply\n", true},
	    {"X-POST-MessageClass: 9; Autoresponder\n", true},
	    {"Precedence: auto-reply\n", true},
	    {"Precedence: list\n", false},
	    {"Subject: Automatic reply: hello\n", true},
	    {"Subject: Automatische Antwort: Ihre Nachricht\n", true},
	    {"Subject: =?utf-8?q?R=C3=A9ponse_automatique_=3A_hello?=\n", true},
	    {"Subject: =?utf-8?b?6Ieq5YuV5b+c562U77yaaGVsbG8=?=\n", true}, /* full-width colon */
	    {"Subject: Auto: Termin beim Händler\n", false},		   /* a car */
	    {"Subject: Re: Automatic reply: hello\n", false},
	    {"Subject: Automatic replies are annoying\n", false},
	    {"Subject: Out of office: may I still come on Thursday?\n", false},
	    {"Subject: hello\n", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char raw[512];
		snprintf(raw, sizeof raw, "From: p@example.com\n%s\nhello\n", cases[i].header);
		struct inmsg m;
		inmsg_parse(raw, strlen(raw), NULL, &m);
		const char *why = lhost_auto_reply(&m);
		if (!CHECK((why != NULL) == cases[i].auto_reply))
			fprintf(stderr, "    case %zu: %s", i, cases[i].header);
		inmsg_free(&m);
	}
}

int main(void)
{
	RUN(test_ses);
	RUN(test_shapes_need_signs_and_recipients);
	RUN(test_auto_reply_signs);
	return harness_done("lhost");
}
