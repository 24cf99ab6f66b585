/* letterbox's own one-off mails (compose/onemail.h) and the rules for who
 * may get an acknowledgement (deliver/notify_rules.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compose/mime.h"
#include "compose/onemail.h"
#include "compose/render.h"
#include "core/addr.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "deliver/notify_rules.h"
#include "harness.h"
#include "receive/parse.h"

static struct addr mk(const char *s)
{
	struct addr a;
	struct lb_err e;
	if (addr_parse(span_cstr(s), &a, &e))
		memset(&a, 0, sizeof a);
	return a;
}

/* The header block of a message, unfolded, one field per line, LF. */
static char *headers(const char *msg)
{
	struct buf b = BUF_INIT;
	for (const char *p = msg; *p && !(p[0] == '\r' && p[1] == '\n');) {
		const char *e = strstr(p, "\r\n");
		if (!e)
			break;
		if (*p == ' ' || *p == '\t')
			buf_truncate(&b, 1); /* a fold: join with the line before */
		buf_add(&b, p, (size_t)(e - p));
		buf_addc(&b, '\n');
		p = e + 2;
	}
	return buf_take(&b);
}

static bool has_line(const char *hdrs, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = hdrs; p && *p;) {
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return false;
}

static bool has_prefix_line(const char *hdrs, const char *prefix)
{
	size_t n = strlen(prefix);
	for (const char *p = hdrs; p && *p;) {
		if (strncmp(p, prefix, n) == 0)
			return true;
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return false;
}

/* Every line CRLF-terminated, at most 78 octets, 7-bit. */
static bool well_formed(const struct buf *m)
{
	size_t col = 0;
	for (size_t i = 0; i < m->n; i++) {
		unsigned char c = (unsigned char)m->p[i];
		if (c >= 0x80 || c == 0)
			return false;
		if (c == '\n') {
			if (i == 0 || m->p[i - 1] != '\r')
				return false;
			col = 0;
		} else if (c != '\r' && ++col > 78) {
			return false;
		}
	}
	return m->n > 2 && m->p[m->n - 1] == '\n';
}

struct fixture {
	struct addr from, to, to2, rt;
};

static void fixture_init(struct fixture *f)
{
	f->from = mk("Center for Relationship and Intimacy Wellbeing <news@example.org>");
	f->to = mk("Zoë Ångström <zoe@example.org>");
	f->to2 = mk("Clinical lead <lead@example.org>");
	f->rt = mk("Front desk <hello+abc@example.org>");
}

static void fixture_free(struct fixture *f)
{
	addr_free(&f->from);
	addr_free(&f->to);
	addr_free(&f->to2);
	addr_free(&f->rt);
}

static void test_reply_headers(void)
{
	struct fixture f;
	fixture_init(&f);
	const char *refs[] = {"root@a.example", "mid@b.example", "their-msg@c.example", NULL};
	const char *text = "Dear Zoë,\n\nThank you — we will call you.\n";
	struct onemail om = {.kind = OM_REPLY,
			     .from = &f.from,
			     .reply_to = &f.rt,
			     .to = &f.to,
			     .nto = 1,
			     .subject = "Re: Healing Through Connection",
			     .in_reply_to = "their-msg@c.example",
			     .references = refs,
			     .text = text,
			     .html = "<p>Dear Zoë</p>",
			     .date = 1795600000};
	struct buf m = BUF_INIT;
	char *id = NULL;
	struct lb_err err = {0};
	CHECK_INT(onemail_compose(&om, &m, &id, &err), 0);
	char *h = headers(m.p);
	CHECK(well_formed(&m));
	CHECK(
	    has_line(h, "From: Center for Relationship and Intimacy Wellbeing <news@example.org>"));
	CHECK(has_line(h, "To: =?UTF-8?Q?Zo=C3=AB_=C3=85ngstr=C3=B6m?= <zoe@example.org>"));
	CHECK(has_line(h, "Reply-To: Front desk <hello+abc@example.org>"));
	CHECK(has_line(h, "Subject: Re: Healing Through Connection"));
	CHECK(has_line(h, "In-Reply-To: <their-msg@c.example>"));
	CHECK(has_line(h, "References: <root@a.example> <mid@b.example> <their-msg@c.example>"));
	CHECK(has_prefix_line(h, "Date: "));
	CHECK(has_line(h, "MIME-Version: 1.0"));
	CHECK(has_prefix_line(h, "Content-Type: multipart/alternative; boundary="));
	CHECK(!has_prefix_line(h, "Auto-Submitted:"));
	CHECK(!has_prefix_line(h, "Precedence:"));
	/* Message-ID: ours, on the From domain, and handed back. */
	CHECK(id && strncmp(id, "lb.reply.", 9) == 0);
	CHECK(id && strlen(id) > 12 && strcmp(id + strlen(id) - 12, "@example.org") == 0);
	struct buf want = BUF_INIT;
	buf_printf(&want, "Message-ID: <%s>", id ? id : "");
	CHECK(has_line(h, want.p));
	/* The text part decodes back to the text, the HTML part follows it. */
	const char *tp = strstr(m.p, "Content-Type: text/plain; charset=utf-8\r\n"
				     "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	const char *hp = strstr(m.p, "Content-Type: text/html; charset=utf-8");
	CHECK(tp && hp && tp < hp);
	if (tp && hp) {
		tp = strstr(tp, "\r\n\r\n") + 4;
		const char *end = strstr(tp, "\r\n--=_lb_");
		struct buf dec = BUF_INIT;
		qp_decode(&dec, tp, end ? (size_t)(end - tp) : 0);
		CHECK_STR(dec.p, "Dear Zoë,\r\n\r\nThank you — we will call you.\r\n");
		buf_free(&dec);
	}
	/* A second compose gets another Message-ID. */
	struct buf m2 = BUF_INIT;
	char *id2 = NULL;
	CHECK_INT(onemail_compose(&om, &m2, &id2, &err), 0);
	CHECK(id && id2 && strcmp(id, id2) != 0);
	free(id2);
	buf_free(&m2);
	buf_free(&want);
	free(h);
	free(id);
	buf_free(&m);
	fixture_free(&f);
}

static void test_auto_kinds(void)
{
	struct fixture f;
	fixture_init(&f);
	struct addr two[2] = {f.to, f.to2};
	static const struct {
		enum onemail_kind kind;
		const char *header;
		const char *idprefix;
	} cases[] = {
	    {OM_ACK, "Auto-Submitted: auto-replied", "Message-ID: <lb.ack."},
	    {OM_ALERT, "Auto-Submitted: auto-generated", "Message-ID: <lb.alert."},
	    {OM_DIGEST, "Auto-Submitted: auto-generated", "Message-ID: <lb.digest."},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct onemail om = {.kind = cases[i].kind,
				     .from = &f.from,
				     .to = two,
				     .nto = 2,
				     .subject = "Urgent inquiry 7",
				     .text = "x\n",
				     .date = 1795600000};
		struct buf m = BUF_INIT;
		struct lb_err err = {0};
		CHECK_INT(onemail_compose(&om, &m, NULL, &err), 0);
		char *h = headers(m.p);
		CHECK(has_line(h, cases[i].header));
		CHECK(has_line(h, "X-Auto-Response-Suppress: All"));
		CHECK(has_prefix_line(h, cases[i].idprefix));
		CHECK(has_line(h, "To: =?UTF-8?Q?Zo=C3=AB_=C3=85ngstr=C3=B6m?= <zoe@example.org>, "
				  "Clinical lead <lead@example.org>"));
		CHECK(!has_prefix_line(h, "In-Reply-To:"));
		CHECK(!has_prefix_line(h, "References:"));
		/* no .html given: one is made from the text */
		CHECK(strstr(m.p, "Content-Type: text/html; charset=utf-8") != NULL);
		CHECK(well_formed(&m));
		free(h);
		buf_free(&m);
	}
	fixture_free(&f);
}

static void test_hostile_values(void)
{
	struct fixture f;
	fixture_init(&f);
	/* Ids that cannot stand in a header are left out, not copied. */
	const char *refs[] = {"ok@x.example", "bad id@x", "bad<id>@x",
			      "b\xc3\xa4"
			      "d@x",
			      NULL};
	struct onemail om = {.kind = OM_REPLY,
			     .from = &f.from,
			     .to = &f.to,
			     .nto = 1,
			     .subject = "Hello\r\nBcc: everyone@example.org",
			     .in_reply_to = "evil\r\nBcc: x@y",
			     .references = refs,
			     .text = "",
			     .date = 1795600000};
	struct buf m = BUF_INIT;
	struct lb_err err = {0};
	CHECK_INT(onemail_compose(&om, &m, NULL, &err), 0);
	char *h = headers(m.p);
	CHECK(!has_prefix_line(h, "Bcc:"));
	CHECK(!has_prefix_line(h, "In-Reply-To:"));
	CHECK(has_line(h, "References: <ok@x.example>"));
	CHECK(well_formed(&m));
	free(h);
	buf_free(&m);
	/* Long threads: the first id and the newest nine. */
	const char *many[16];
	char store[15][16];
	for (int i = 0; i < 15; i++) {
		snprintf(store[i], sizeof store[i], "m%d@x", i);
		many[i] = store[i];
	}
	many[15] = NULL;
	om.subject = "Re: x";
	om.references = many;
	CHECK_INT(onemail_compose(&om, &m, NULL, &err), 0);
	h = headers(m.p);
	CHECK(has_line(h, "References: <m0@x> <m6@x> <m7@x> <m8@x> <m9@x> <m10@x> <m11@x> <m12@x> "
			  "<m13@x> <m14@x>"));
	free(h);
	buf_free(&m);
	/* No recipient: refused. */
	om.nto = 0;
	CHECK_INT(onemail_compose(&om, &m, NULL, &err), LB_EDATA);
	buf_free(&m);
	fixture_free(&f);
}

static void test_subject(void)
{
	static const struct {
		const char *prefix, *in, *want;
	} cases[] = {
	    {"Re: ", "Hello", "Re: Hello"},
	    {"Re: ", "Re: Hello", "Re: Hello"},
	    {"Re: ", "RE:Hello", "RE:Hello"},
	    {"Re: ", "  Hello  ", "Re: Hello"},
	    {"Re: ", "", "Re: your message"},
	    {"Re: ", NULL, "Re: your message"},
	    {"Auto: ", "Re: Hello", "Auto: Re: Hello"},
	    {"Auto: ", "Reply", "Auto: Reply"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b = BUF_INIT;
		onemail_subject(&b, cases[i].prefix, cases[i].in, "your message");
		CHECK_STR(b.p, cases[i].want);
		buf_free(&b);
	}
}

static void test_text_html(void)
{
	struct buf h = BUF_INIT;
	onemail_text_html(&h, "Dear <Dee> & co,\n\nline one\nline two\n  - a list\n- item\n", "en");
	CHECK(strstr(h.p, "Dear &lt;Dee&gt; &amp; co,</p>") != NULL);
	/* A line break is a line break (it used to flow: "line one\nline two"
	 * showed as one line, and so did a sign-off and its address). */
	CHECK(strstr(h.p, "line one<br>\nline two<br>\n  - a list<br>\n- item</p>") != NULL);
	CHECK(strstr(h.p, "<html lang=\"en\">") != NULL);
	CHECK(strstr(h.p, "<Dee>") == NULL);
	buf_free(&h);
	/* Web addresses are links; the sentence's punctuation stays outside,
	 * and nothing from the text can end the attribute. */
	onemail_text_html(
	    &h, "chat at https://988lifeline.org/. Or http://x.example/a?b=1&c=\"2\"\n", "en");
	CHECK(
	    strstr(h.p,
		   "chat at <a href=\"https://988lifeline.org/\">https://988lifeline.org/</a>. "
		   "Or <a href=\"http://x.example/a?b=1&amp;c=\">http://x.example/a?b=1&amp;c=</a>"
		   "&quot;2&quot;") != NULL);
	buf_free(&h);
	onemail_text_html(&h, "http:// alone, httpx://no, https://", "en");
	CHECK(strstr(h.p, "<a ") == NULL);
	buf_free(&h);
	/* Text wrapped at 72 columns flows again; the sign-off keeps its lines. */
	onemail_text_html(
	    &h,
	    "Thank you for writing to us. This is an automatic note to let you know\n"
	    "that your message has arrived. A member of our team reads every message\n"
	    "and will answer you.\n\nWith warm regards,\nThe Practice\n1 Main St\n",
	    "en");
	CHECK(strstr(h.p, "to let you know\nthat your message has arrived. A member of our team "
			  "reads every message\nand will answer you.</p>") != NULL);
	CHECK(strstr(h.p, "With warm regards,<br>\nThe Practice<br>\n1 Main St</p>") != NULL);
	buf_free(&h);
	/* Columns, not bytes: 35 two-byte letters and a short word fit. */
	struct buf wide = BUF_INIT;
	for (int i = 0; i < 35; i++)
		buf_adds(&wide, "\xc3\xa9");
	buf_adds(&wide, "\nnext\n");
	onemail_text_html(&h, wide.p, "en");
	CHECK(strstr(h.p, "\xc3\xa9<br>\nnext</p>") != NULL);
	buf_free(&h);
	buf_free(&wide);
	/* Commands (indented four) are whole on a 375 px screen: each in a code
	 * element that does not wrap, in a block that scrolls instead. */
	onemail_text_html(&h,
			  "Read it:\n\n    letterbox inquiries show 7\n"
			  "    letterbox inquiries reply 7 --file REPLY.md\n\nThanks.\n",
			  "en");
	CHECK(strstr(h.p, "Read it:</p>\n<div style=\"margin:0 0 16px 0;overflow-x:auto;\">\n<code "
			  "style=\"display:block;white-space:nowrap;") != NULL);
	CHECK(strstr(h.p, "\">letterbox inquiries show 7</code>\n<code ") != NULL);
	CHECK(strstr(h.p, "\">letterbox inquiries reply 7 --file REPLY.md</code>\n</div>\n<p ") !=
	      NULL);
	buf_free(&h);
}

/* The practice's own acknowledgement template (the sample site's): its
 * sign-off is three lines in the text part and in the HTML part. */
static void test_ack_signoff(void)
{
	char name[] = "Center for Relationship and Intimacy Wellbeing", lang[] = "en",
	     addr[] = "123 Example Street, Suite 4, Woodland Hills, CA 91367, USA",
	     crisis[] = "In the UK call 999 or Samaritans on 116 123", dir[] = ".";
	struct config cfg = {.site_dir = dir,
			     .site_name = name,
			     .site_lang = lang,
			     .site_postal_address = addr,
			     .crisis_line = crisis,
			     .file = name};
	struct om_var vars[] = {{"person.first_name", "Dee", NULL}};
	struct buf t = BUF_INIT, h = BUF_INIT;
	struct lb_err err = {0};
	CHECK_INT(onemail_template(&cfg, "acknowledgement", vars, 1, 1795600000, &t, &h, &err), 0);
	CHECK(strstr(t.p, "With warm regards,\nCenter for Relationship and Intimacy Wellbeing\n"
			  "123 Example Street") != NULL);
	CHECK(strstr(h.p, "With warm regards,<br>\nCenter for Relationship and Intimacy "
			  "Wellbeing<br>\n123 Example Street") != NULL);
	CHECK(strstr(h.p, "Samaritans on 116 123") != NULL);
	buf_free(&t);
	buf_free(&h);
}

/* A site directory with templates, for onemail_template / _markdown. */
static char site[] = "/tmp/lbtest-onemail.XXXXXX";

static void put(const char *rel, const char *text)
{
	char *p = path_join(site, rel);
	struct lb_err e;
	fsx_write_atomic(p, text, strlen(text), 0600, &e);
	free(p);
}

static void test_templates(void)
{
	CHECK(mkdtemp(site) != NULL);
	char *tdir = path_join(site, "templates");
	mkdir(tdir, 0700);
	free(tdir);
	char name[] = "Test practice", lang[] = "en", addr[] = "1 Main St";
	struct config cfg = {.site_dir = site,
			     .site_name = name,
			     .site_lang = lang,
			     .site_postal_address = addr,
			     .file = name};
	struct om_var vars[] = {{"person.name", "Dee <b>", NULL},
				{"content", "text content", "<p>html content</p>"}};
	struct buf t = BUF_INIT, h = BUF_INIT;
	struct lb_err err = {0};

	CHECK_INT(onemail_template(&cfg, "ack", vars, 2, 1795600000, &t, &h, &err), LB_ENOINPUT);
	CHECK(strstr(err.msg, "templates/ack.txt") != NULL);

	put("templates/ack.txt", "Hi {{person.name}},\n{{{content}}}\n{{site.name}} {{year}}\n");
	buf_reset(&t);
	buf_reset(&h);
	CHECK_INT(onemail_template(&cfg, "ack", vars, 2, 1795600000, &t, &h, &err), 0);
	CHECK_STR(t.p, "Hi Dee <b>,\ntext content\nTest practice 2026\n");
	/* no ack.html: made from the text, escaped */
	CHECK(strstr(h.p, "Hi Dee &lt;b&gt;,") != NULL);

	put("templates/ack.html", "<p>{{person.name}}</p>{{{content}}}");
	buf_reset(&t);
	buf_reset(&h);
	CHECK_INT(onemail_template(&cfg, "ack", vars, 2, 1795600000, &t, &h, &err), 0);
	CHECK_STR(h.p, "<p>Dee &lt;b&gt;</p><p>html content</p>");

	put("templates/ack.txt", "line\n{{nosuch.name}}\n");
	CHECK_INT(onemail_template(&cfg, "ack", vars, 2, 1795600000, &t, &h, &err), LB_EDATA);
	CHECK(strstr(err.msg, "templates/ack.txt:2") != NULL);

	/* Markdown with styles from a template's block. */
	put("templates/reply.html", "{{! a comment }}\n{{!styles\np: color:#123456;\n}}\n");
	buf_reset(&t);
	buf_reset(&h);
	const char *md = "Hello *there*.\n\n- one\n";
	CHECK_INT(render_markdown(&cfg, md, strlen(md), MD_FLOW, "reply.html", &h, &t, &err), 0);
	CHECK(strstr(h.p, "color:#123456;") != NULL);
	CHECK(strstr(h.p, "<em") != NULL);
	CHECK(strstr(t.p, "Hello") != NULL && strstr(t.p, "<") == NULL);
	/* A staff reply: a line break is a line break, in both parts (the
	 * signature); an article's Markdown flows as CommonMark says. */
	md = "See you on Tuesday.\n\nSam Smith\nFront desk\n+44 20 7946 0000\n";
	buf_reset(&t);
	buf_reset(&h);
	CHECK_INT(render_markdown(&cfg, md, strlen(md), MD_LINE_BREAKS, "reply.html", &h, &t, &err),
		  0);
	CHECK(strstr(h.p, "Sam Smith<br>\nFront desk<br>\n+44 20 7946 0000</p>") != NULL);
	CHECK(strstr(t.p, "\nSam Smith\nFront desk\n+44 20 7946 0000\n") != NULL);
	buf_reset(&t);
	buf_reset(&h);
	CHECK_INT(render_markdown(&cfg, md, strlen(md), MD_FLOW, "reply.html", &h, &t, &err), 0);
	CHECK(strstr(t.p, "Sam Smith Front desk +44 20 7946 0000") != NULL);
	CHECK(strstr(h.p, "<br>") == NULL);
	buf_free(&t);
	buf_free(&h);
	const char *files[] = {"templates/ack.txt", "templates/ack.html", "templates/reply.html",
			       "templates", NULL};
	for (size_t i = 0; files[i]; i++) {
		char *p = path_join(site, files[i]);
		if (unlink(p) != 0)
			rmdir(p);
		free(p);
	}
	rmdir(site);
}

/* ---- who may get an acknowledgement ---------------------------------------------------------- */

static void test_machine_local(void)
{
	static const struct {
		const char *local;
		bool machine;
	} cases[] = {
	    {"MAILER-DAEMON", true}, {"postmaster", true},    {"noreply", true},
	    {"no-reply", true},	     {"No_Reply", true},      {"donotreply", true},
	    {"noreply-123", true},   {"owner-list", true},    {"friends-request", true},
	    {"news-bounces", true},  {"bounces+abc", true},   {"listserv", true},
	    {"dee", false},	     {"noreen", false},	      {"ownership", false},
	    {"request", false},	     {"zoe.angstrom", false}, {"post", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (!CHECK(ack_machine_local(cases[i].local) == cases[i].machine))
			fprintf(stderr, "    local part '%s'\n", cases[i].local);
}

static void test_own_address(void)
{
	struct config cfg = {0};
	cfg.from = mk("Practice <news@example.org>");
	char rt[] = "Practice <hello+{token}@example.org>",
	     un[] = "unsubscribe+{token}@example.org", bt[] = "bounces+{token}@example.org",
	     d0[] = "Front desk <desk@example.org>";
	char *digest[] = {d0, NULL};
	cfg.reply_to = rt;
	cfg.unsub_mailto = un;
	cfg.bounce_to = bt;
	cfg.digest_to = digest;
	static const struct {
		const char *spec;
		bool own;
	} cases[] = {
	    {"news@example.org", true},
	    {"NEWS@Example.org", true},
	    {"hello+abcdefghijklmnop@example.org", true},
	    {"hello@example.org", true},
	    {"unsubscribe+x@example.org", true},
	    {"bounces+q@example.org", true},
	    {"desk@example.org", true},
	    {"dee@example.org", false},
	    {"hello+abc@example.net", false},
	    {"hellox@example.org", false},
	    {"news@example.org.evil", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (!CHECK(ack_own_address(&cfg, cases[i].spec) == cases[i].own))
			fprintf(stderr, "    address '%s'\n", cases[i].spec);
	addr_free(&cfg.from);
}

static void test_machine_message(void)
{
	static const struct {
		const char *extra; /* header lines added to a person's message */
		bool machine;
	} cases[] = {
	    {"", false},
	    {"Auto-Submitted: no\r\n", false},
	    {"Auto-Submitted: auto-replied\r\n", true},
	    {"Auto-Submitted: auto-generated (vacation)\r\n", true},
	    {"X-Autoreply: yes\r\n", true},
	    {"Precedence: bulk\r\n", true},
	    {"Precedence: list\r\n", true},
	    {"Precedence: junk\r\n", true},
	    {"List-Id: Friends <friends.example.net>\r\n", true},
	    {"List-Unsubscribe: <mailto:leave@example.net>\r\n", true},
	    {"X-Auto-Response-Suppress: All\r\n", true},
	    {"Return-Path: <>\r\n", true},
	    {"Return-Path: <dee@example.org>\r\n", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf raw = BUF_INIT;
		buf_printf(&raw,
			   "%sFrom: Dee <dee@example.org>\r\nTo: hello@example.org\r\n"
			   "Subject: a question\r\nMessage-ID: <q%zu@example.org>\r\n\r\n"
			   "Could you call me?\r\n",
			   cases[i].extra, i);
		struct inmsg m;
		inmsg_parse(raw.p, raw.n, NULL, &m);
		const char *why = ack_machine_message(&m);
		if (!CHECK((why != NULL) == cases[i].machine))
			fprintf(stderr, "    case %zu: %s -> %s\n", i, cases[i].extra,
				why ? why : "(person)");
		inmsg_free(&m);
		buf_free(&raw);
	}
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	RUN(test_reply_headers);
	RUN(test_auto_kinds);
	RUN(test_hostile_values);
	RUN(test_subject);
	RUN(test_text_html);
	RUN(test_templates);
	RUN(test_ack_signoff);
	RUN(test_machine_local);
	RUN(test_own_address);
	RUN(test_machine_message);
	return harness_done("onemail");
}
