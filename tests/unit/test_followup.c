/* receive/followup.h: which inquiry a received message continues, and the
 * subject normalisation it matches by; store/conversation.h: thread entries
 * as written and read back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "harness.h"
#include "receive/followup.h"
#include "store/conversation.h"

#define DAY 86400L

static void test_subject(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"Appointment tomorrow?", "appointment tomorrow?"},
	    {"Re: Appointment tomorrow?", "appointment tomorrow?"},
	    {"Re: Re: Appointment tomorrow?", "appointment tomorrow?"},
	    {"RE: Fwd:  appointment   TOMORROW?", "appointment tomorrow?"},
	    {"AW: WG: Termin", "termin"},
	    {"SV: VS: Tid", "tid"},
	    {"Fw: Re[2]: Question", "question"},
	    {"Re^3: Question", "question"},
	    {"Re(2): Question", "question"},
	    {"Réf : Question", "question"},
	    {"RE :Question", "question"},
	    {"Auto: Re: Question", "question"},
	    {"  Re:\tQuestion  \t about   fees ", "question about fees"},
	    {"Regarding fees", "regarding fees"},	  /* "Regarding" is no prefix */
	    {"Re fees", "re fees"},			  /* no colon: no prefix */
	    {"Re[x]: fees", "re[x]: fees"},		  /* a counter is digits */
	    {"[friends] Re: fees", "[friends] re: fees"}, /* a list tag stays */
	    {"Re:", ""},
	    {"", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b = BUF_INIT;
		followup_subject(&b, cases[i].in);
		CHECK_STR(buf_cstr(&b), cases[i].want);
		buf_free(&b);
	}
	struct buf b = BUF_INIT;
	followup_subject(&b, NULL);
	CHECK_STR(buf_cstr(&b), "");
	buf_free(&b);
}

/* A received message with only what followup_find looks at. */
static struct inmsg msg(const char *from, const char *subject, const char *in_reply_to,
			const char *reference)
{
	struct inmsg m;
	memset(&m, 0, sizeof m);
	m.from = (char *)(uintptr_t)from;
	m.subject = (char *)(uintptr_t)subject;
	m.in_reply_to = (char *)(uintptr_t)in_reply_to;
	if (reference)
		strv_add(&m.references, span_cstr(reference), true);
	return m;
}

static void test_find(void)
{
	time_t t0 = 1780000000;
	struct followups *x = followups_new();
	struct inquiry q = {.number = 3,
			    .received = t0,
			    .from = xstrdup("Bob@People.test"),
			    .subject = xstrdup("Appointment tomorrow?"),
			    .message_id = xstrdup("first@people.test")};
	/* a reply of ours and a later message, as the log gives them back */
	q.thread = xstrdup("out\t2026-05-29T00:00:00Z\tlb.reply.1.2@example.org\treply\n"
			   "in\t2026-05-30T00:00:00Z\t10\t20\tmid:later x\tlater@people.test\t"
			   "bob@people.test");
	followup_add(x, &q);
	time_t last = 0;
	size_t n;
	struct conv_msg *v = conv_msgs(&q, &n);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(v[0].dir, CONV_OUT);
		CHECK_STR(v[0].message_id, "lb.reply.1.2@example.org");
		CHECK_STR(v[0].from, "reply");
		CHECK_INT(v[1].dir, CONV_IN);
		CHECK_INT(v[1].off, 10);
		CHECK_INT(v[1].len, 20);
		CHECK_STR(v[1].key, "mid:later x");
		CHECK_STR(v[1].from, "bob@people.test");
		last = v[1].when;
	}
	conv_msgs_free(v, n);
	CHECK_INT(inquiry_last_message(&q), last);

	bool by_ref = false;
	struct inmsg m = msg("eve@else.test", "Other", "lb.reply.1.2@example.org", NULL);
	CHECK_INT(followup_find(x, &m, t0, &by_ref), 3); /* answers our reply, any sender */
	CHECK(by_ref);
	m = msg("eve@else.test", "Other", NULL, "first@people.test");
	CHECK_INT(followup_find(x, &m, t0, &by_ref), 3); /* names the inquiry's message */
	strv_free(&m.references);
	m = msg("eve@else.test", "Other", "unknown@x", "later@people.test");
	CHECK_INT(followup_find(x, &m, t0, &by_ref), 3); /* names a later message */
	strv_free(&m.references);

	m = msg("bob@people.test", "RE: appointment  TOMORROW?", NULL, NULL);
	CHECK_INT(followup_find(x, &m, last + 30 * DAY, &by_ref), 3); /* within 30 days */
	CHECK(!by_ref);
	CHECK_INT(followup_find(x, &m, last + 30 * DAY + 1, NULL), 0); /* past them */
	m = msg("cat@people.test", "Re: Appointment tomorrow?", NULL, NULL);
	CHECK_INT(followup_find(x, &m, last, NULL), 0); /* another sender */
	m = msg("bob@people.test", "Something else", NULL, NULL);
	CHECK_INT(followup_find(x, &m, last, NULL), 0); /* another subject */
	m = msg("bob@people.test", "Something else", "newsletter.tok.1@example.org", NULL);
	CHECK_INT(followup_find(x, &m, last, NULL), 0); /* a reference that is no inquiry's */

	/* the same sender and subject again, a newer inquiry: it wins */
	followup_note(x, 9, "nine@people.test", "bob@people.test", "Appointment tomorrow?",
		      last + DAY);
	m = msg("bob@people.test", "Re: Appointment tomorrow?", NULL, NULL);
	CHECK_INT(followup_find(x, &m, last + 2 * DAY, NULL), 9);
	m = msg("x@y", "z", "nine@people.test", NULL);
	CHECK_INT(followup_find(x, &m, last + 2 * DAY, NULL), 9);
	/* an empty subject never matches by subject */
	followup_note(x, 10, NULL, "dan@people.test", "", t0);
	m = msg("dan@people.test", "", NULL, NULL);
	CHECK_INT(followup_find(x, &m, t0, NULL), 0);

	inquiry_free(&q);
	followups_free(x);
}

int main(void)
{
	RUN(test_subject);
	RUN(test_find);
	return harness_done("followup");
}
