#include "receive/parse.h"

#include <libetpan/libetpan.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compose/mime.h"
#include "core/mem.h"
#include "receive/charset.h"
#include "receive/text.h"

/* libetpan recurses once per nested multipart or message and rescans the
 * input at every level; more nesting than this is an attack, not mail. */
#define MAX_NESTING	100
#define MAX_LIST	1000
#define MAX_ATTACHMENTS 1000

struct walk {
	struct inmsg *m;
	struct hfields h;
	struct buf plain, html;	     /* text collected from the parts */
	struct buf dec, conv, conv2; /* scratch, reused from part to part */
	int depth;
	size_t want_att; /* parse_opts.attachment */
};

/* What a part's own header says about it; spans point into the input. */
struct part {
	struct span type, ctype, cte, disp;
};

/* ---- top-level header fields ----------------------------------------------------------------- */

static char *raw_dup(struct span v)
{
	return header_unfold_dup(v);
}

static void add_spec(void *ctx, struct span spec, struct span display)
{
	struct strv *l = ctx;
	(void)display;
	if (l->n < MAX_LIST)
		strv_add(l, spec, false);
}

static void add_id(void *ctx, struct span id)
{
	struct strv *l = ctx;
	if (l->n < MAX_LIST)
		strv_add(l, id, false);
}

struct mbox {
	struct span spec, display;
	bool found;
};

static void first_mbox(void *ctx, struct span spec, struct span display)
{
	struct mbox *mb = ctx;
	if (!mb->found)
		*mb = (struct mbox){spec, display, true};
}

static void set_raw(char **dst, struct span v)
{
	if (!*dst)
		*dst = raw_dup(v);
}

/* The top-level fields letterbox reads.  Raw values and address lists are
 * stored by offset; every other field is passed over after a length and
 * first-letter check. */
enum field {
	F_RAW,
	F_LIST,
	F_MESSAGE_ID,
	F_FROM,
	F_SUBJECT,
	F_DATE,
	F_IN_REPLY_TO,
	F_REFS,
	F_RPATH
};

#define FIELD(name, kind, member)                                                                  \
	{                                                                                          \
		name, sizeof(name) - 1, kind, offsetof(struct inmsg, member)                       \
	}

static const struct {
	const char *name; /* lower case */
	size_t n;
	enum field kind;
	size_t at;
} fields[] = {
    FIELD("message-id", F_MESSAGE_ID, message_id),
    FIELD("from", F_FROM, from),
    FIELD("to", F_LIST, to),
    FIELD("cc", F_LIST, cc),
    FIELD("delivered-to", F_LIST, delivered_to),
    FIELD("x-original-to", F_LIST, x_original_to),
    FIELD("x-failed-recipients", F_LIST, x_failed_recipients),
    FIELD("envelope-to", F_LIST, envelope_to),
    FIELD("x-envelope-to", F_LIST, envelope_to),
    FIELD("x-rcpt-to", F_LIST, envelope_to),
    FIELD("subject", F_SUBJECT, subject),
    FIELD("date", F_DATE, date),
    FIELD("in-reply-to", F_IN_REPLY_TO, in_reply_to),
    FIELD("references", F_REFS, references),
    FIELD("return-path", F_RPATH, return_path),
    FIELD("auto-submitted", F_RAW, auto_submitted),
    FIELD("precedence", F_RAW, precedence),
    FIELD("x-autoreply", F_RAW, x_autoreply),
    FIELD("x-autorespond", F_RAW, x_autorespond),
    FIELD("x-auto-response-suppress", F_RAW, x_auto_response_suppress),
    FIELD("list-id", F_RAW, list_id),
    FIELD("list-unsubscribe", F_RAW, list_unsubscribe),
    FIELD("content-type", F_RAW, content_type),
};

static void top_field(struct inmsg *m, struct span name, struct span v)
{
	char c = name.n && name.p[0] >= 'A' && name.p[0] <= 'Z' ? (char)(name.p[0] + 32)
		 : name.n					? name.p[0]
								: 0;
	size_t i = 0;
	while (i < sizeof fields / sizeof *fields &&
	       !(fields[i].n == name.n && fields[i].name[0] == c &&
		 header_is(name, fields[i].name, fields[i].n)))
		i++;
	if (i == sizeof fields / sizeof *fields)
		return;
	char **str = (char **)(void *)((char *)m + fields[i].at);
	struct strv *list = (struct strv *)(void *)((char *)m + fields[i].at);
	struct buf b = BUF_INIT;
	struct mbox mb = {{NULL, 0}, {NULL, 0}, false};
	struct span id;
	switch (fields[i].kind) {
	case F_RAW:
		set_raw(str, v);
		break;
	case F_LIST:
		header_mailboxes(v, add_spec, list);
		break;
	case F_MESSAGE_ID:
	case F_IN_REPLY_TO:
		if (!*str && (id = header_first_msgid(v)).n)
			*str = raw_dup(id);
		break;
	case F_FROM:
		if (m->from || m->from_name)
			break;
		header_mailboxes(v, first_mbox, &mb);
		if (mb.found) {
			m->from = raw_dup(mb.spec);
			header_display(&b, mb.display);
		} else { /* "Postmaster <>": keep the name */
			const char *lt = memchr(v.p, '<', v.n);
			header_display(&b, lt ? (struct span){v.p, (size_t)(lt - v.p)} : v);
		}
		m->from_name = b.n ? buf_take(&b) : NULL;
		break;
	case F_SUBJECT:
		if (!m->subject) {
			header_text(&b, v);
			m->subject = buf_take(&b);
		}
		break;
	case F_DATE:
		if (!m->date) {
			m->date = raw_dup(v);
			if (!header_date(v, &m->date_time))
				m->date_time = 0;
		}
		break;
	case F_REFS:
		if (m->references.n == 0)
			header_msgids(v, add_id, &m->references);
		break;
	case F_RPATH:
		if (m->return_path)
			break;
		header_mailboxes(v, first_mbox, &mb);
		if (mb.found) {
			m->return_path = raw_dup(mb.spec);
		} else { /* "<>", or "<MAILER-DAEMON>" */
			struct span t = span_trim(v);
			while (t.n && (t.p[0] == '<' || t.p[0] == ' '))
				t.p++, t.n--;
			while (t.n && (t.p[t.n - 1] == '>' || t.p[t.n - 1] == ' '))
				t.n--;
			m->return_path = raw_dup(t);
		}
		break;
	}
	buf_free(&b);
}

/* ---- bodies ---------------------------------------------------------------------------------- */

/* The body with its transfer encoding undone (in w->dec, or the body
 * itself when it is not encoded). */
static struct span decoded(struct walk *w, struct span body, struct span cte)
{
	struct span e = header_word(cte);
	buf_reset(&w->dec);
	if (HEADER_IS(e, "base64")) {
		base64_decode(&w->dec, body);
	} else if (HEADER_IS(e, "quoted-printable")) {
		qp_decode(&w->dec, body.p, body.n);
	} else {
		return body;
	}
	return buf_span(&w->dec);
}

/* ---- parts ----------------------------------------------------------------------------------- */

static const char *body_start(const struct mailmime *mm)
{
	if (mm->mm_body && mm->mm_body->dt_type == MAILMIME_DATA_TEXT)
		return mm->mm_body->dt_data.dt_text.dt_data;
	return mm->mm_mime_start + mm->mm_length;
}

static struct span single_body(const struct mailmime *mm)
{
	const struct mailmime_data *d = mm->mm_data.mm_single;
	if (!d || d->dt_type != MAILMIME_DATA_TEXT || !d->dt_data.dt_text.dt_data)
		return (struct span){"", 0};
	return (struct span){d->dt_data.dt_text.dt_data, d->dt_data.dt_text.dt_length};
}

static struct part part_info(struct walk *w, struct span hdr, const struct mailmime *mm)
{
	struct part pt = {{NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}};
	header_scan(hdr, false, &w->h);
	pt.ctype = header_get(&w->h, "Content-Type");
	pt.cte = header_get(&w->h, "Content-Transfer-Encoding");
	pt.disp = header_get(&w->h, "Content-Disposition");
	pt.type = header_mime_type(pt.ctype);
	if (!pt.type.n || !memchr(pt.type.p, '/', pt.type.n))
		pt.type = mm && mm->mm_type == MAILMIME_MESSAGE ? SPAN_LIT("message/rfc822")
								: SPAN_LIT("text/plain");
	return pt;
}

static bool has_filename(const struct part *pt, struct buf *name)
{
	buf_reset(name);
	return header_param(pt->disp, "filename", name) || header_param(pt->ctype, "name", name);
}

static void add_attachment(struct walk *w, const struct part *pt, struct buf *name, size_t size)
{
	struct inmsg *m = w->m;
	if (m->natt >= MAX_ATTACHMENTS)
		return;
	m->att = xgrowarray(m->att, &m->att_cap, m->natt + 1, sizeof *m->att);
	struct attachment *a = &m->att[m->natt++];
	a->filename = name->n ? xstrdup(buf_cstr(name)) : NULL;
	a->content_type = header_dup(pt->type);
	for (char *c = a->content_type; *c; c++)
		*c = *c >= 'A' && *c <= 'Z' ? (char)(*c + 32) : *c;
	a->size = size;
}

/* Keep the bytes of the attachment just added when it is the one asked for. */
static void keep_attachment(struct walk *w, struct span bytes)
{
	struct inmsg *m = w->m;
	if (!w->want_att || m->natt != w->want_att || m->att_bytes)
		return;
	m->att_bytes = xmalloc(bytes.n + 1);
	if (bytes.n)
		memcpy(m->att_bytes, bytes.p, bytes.n);
	m->att_bytes[bytes.n] = '\0';
	m->att_bytes_len = bytes.n;
}

/* <meta charset="…"> or http-equiv's "charset=…" near the start of HTML. */
static struct span html_charset(struct span html)
{
	struct span head = {html.p, html.n < 4096 ? html.n : 4096};
	for (size_t i = 0; i + 8 < head.n; i++) {
		if (strncasecmp(head.p + i, "charset=", 8) != 0)
			continue;
		size_t j = i + 8;
		while (j < head.n && (head.p[j] == '"' || head.p[j] == '\'' || head.p[j] == ' '))
			j++;
		size_t k = j;
		while (k < head.n && k - j < 40 &&
		       (((head.p[k] | 32) >= 'a' && (head.p[k] | 32) <= 'z') ||
			(head.p[k] >= '0' && head.p[k] <= '9') ||
			(head.p[k] && strchr("-_.:", head.p[k]))))
			k++;
		return (struct span){head.p + j, k - j};
	}
	return (struct span){NULL, 0};
}

/* Decode, convert and collect a text/plain or text/html part. */
static void text_part(struct walk *w, const struct part *pt, struct span body, bool html)
{
	struct span dec = decoded(w, body, pt->cte);
	struct buf cs = BUF_INIT;
	if (!header_param(pt->ctype, "charset", &cs) && html) {
		struct span meta = html_charset(dec);
		buf_addspan(&cs, meta);
	}
	buf_reset(&w->conv);
	charset_to_utf8(&w->conv, buf_span(&cs), dec.p, dec.n);
	if (html) {
		if (w->html.n)
			buf_addc(&w->html, '\n');
		html_to_text(&w->html, buf_cstr(&w->conv), w->conv.n);
		buf_free(&cs);
		return;
	}
	struct buf *out = &w->plain;
	if (out->n && out->p[out->n - 1] != '\n')
		buf_addc(out, '\n');
	buf_reset(&cs);
	if (header_param(pt->ctype, "format", &cs) && HEADER_IS(buf_span(&cs), "flowed")) {
		buf_reset(&cs);
		bool delsp =
		    header_param(pt->ctype, "delsp", &cs) && HEADER_IS(buf_span(&cs), "yes");
		buf_reset(&w->conv2);
		text_lf(&w->conv2, buf_cstr(&w->conv), w->conv.n);
		text_unflow(out, buf_cstr(&w->conv2), w->conv2.n, delsp);
	} else {
		text_lf(out, buf_cstr(&w->conv), w->conv.n);
	}
	buf_free(&cs);
}

static void walk(struct walk *w, struct mailmime *mm, struct span hdr, bool want_text, bool report);

static struct span child_header(const struct mailmime *c)
{
	return (struct span){c->mm_mime_start, (size_t)(body_start(c) - c->mm_mime_start)};
}

static void multipart(struct walk *w, struct mailmime *mm, const struct part *pt, bool want_text)
{
	clist *list = mm->mm_data.mm_multipart.mm_mp_list;
	bool alternative = HEADER_IS(pt->type, "multipart/alternative");
	bool report = HEADER_IS(pt->type, "multipart/report");
	int chosen = -1, rank = 0, i = 0;
	clistiter *it;

	if (alternative) {
		/* Plain text wins; else HTML; else the first nested multipart. */
		for (it = clist_begin(list), i = 0; it; it = clist_next(it), i++) {
			struct mailmime *c = clist_content(it);
			struct part cp = part_info(w, child_header(c), c);
			int r = HEADER_IS(cp.type, "text/plain")  ? 3
				: HEADER_IS(cp.type, "text/html") ? 2
				: c->mm_type == MAILMIME_MULTIPLE ? 1
								  : 0;
			if (r > rank)
				rank = r, chosen = i;
		}
	}
	for (it = clist_begin(list), i = 0; it; it = clist_next(it), i++) {
		struct mailmime *c = clist_content(it);
		bool text = want_text && (alternative ? i == chosen : report ? i == 0 : true);
		walk(w, c, child_header(c), text, report);
	}
}

/* Keep a copy of the first returned original's header (parse.h). */
static void keep_orig_header(struct inmsg *m, struct span hdr)
{
	if (m->orig_header)
		return;
	size_t n = hdr.n, end = 0;
	/* text/rfc822-headers and message/rfc822 bodies: up to the empty line. */
	for (size_t i = 0; i < n; i++) {
		if (hdr.p[i] == '\n' &&
		    (i + 1 == n || hdr.p[i + 1] == '\n' ||
		     (hdr.p[i + 1] == '\r' && i + 2 < n && hdr.p[i + 2] == '\n'))) {
			end = i + 1;
			break;
		}
	}
	if (end)
		n = end;
	m->orig_header = xstrndup(hdr.p, n < PARSE_HEADER_MAX ? n : PARSE_HEADER_MAX);
}

/* The header of an embedded message/rfc822 (libetpan parsed it). */
static void message_part(struct walk *w, struct mailmime *mm, const struct part *pt, bool report)
{
	const char *s = body_start(mm);
	struct mailmime *inner = mm->mm_data.mm_message.mm_msg_mime;
	const char *e = inner ? body_start(inner) : mm->mm_mime_start + mm->mm_length;
	if (e < s)
		e = s;
	struct span hdr = {s, (size_t)(e - s)};
	if (!report && inner && inner->mm_type == MAILMIME_MULTIPLE) {
		/* A report forwarded as an attachment (gateways that add a
		 * disclaimer do this): read the report inside. */
		struct part ip = part_info(w, hdr, inner);
		if (HEADER_IS(ip.type, "multipart/report")) {
			walk(w, inner, hdr, false, false);
			return;
		}
	}
	orig_parse(hdr, &w->m->original);
	keep_orig_header(w->m, hdr);
	w->m->has_original = true;
	if (!report) {
		struct buf name = BUF_INIT;
		has_filename(pt, &name);
		size_t len = (size_t)(mm->mm_mime_start + mm->mm_length - s);
		add_attachment(w, pt, &name, len);
		keep_attachment(w, (struct span){s, len});
		buf_free(&name);
	}
}

static void single(struct walk *w, struct span body, const struct part *pt, bool want_text,
		   bool report)
{
	struct inmsg *m = w->m;
	struct span t = pt->type;
	struct buf name = BUF_INIT;
	bool named = has_filename(pt, &name);
	bool attached = HEADER_IS(header_word(pt->disp), "attachment") || named;

	if (HEADER_IS(t, "message/delivery-status") ||
	    HEADER_IS(t, "message/global-delivery-status")) {
		dsn_parse(decoded(w, body, pt->cte), &m->dsn);
		m->has_dsn = true;
	} else if (HEADER_IS(t, "message/feedback-report")) {
		arf_parse(decoded(w, body, pt->cte), &m->arf);
		m->has_arf = true;
	} else if (HEADER_IS(t, "text/rfc822-headers") || HEADER_IS(t, "message/global-headers")) {
		struct span dec = decoded(w, body, pt->cte);
		orig_parse(dec, &m->original);
		keep_orig_header(m, dec);
		m->has_original = true;
	} else if (HEADER_IS(t, "message/rfc822") || HEADER_IS(t, "message/global")) {
		struct span dec = decoded(w, body, pt->cte);
		orig_parse(dec, &m->original);
		keep_orig_header(m, dec);
		m->has_original = true;
		if (!report) {
			add_attachment(w, pt, &name, dec.n);
			keep_attachment(w, dec);
		}
	} else if (span_starts_with_ci(t, "multipart/")) {
		/* No usable boundary: the parts cannot be told apart. */
		m->unparsed = true;
		if (want_text)
			text_part(w, pt, body, false);
	} else if ((HEADER_IS(t, "text/plain") || HEADER_IS(t, "text/html")) && !attached) {
		if (want_text)
			text_part(w, pt, body, HEADER_IS(t, "text/html"));
	} else {
		bool encoded = HEADER_IS(header_word(pt->cte), "base64");
		add_attachment(w, pt, &name, encoded ? base64_size(body) : body.n);
		if (w->want_att && m->natt == w->want_att)
			keep_attachment(w, decoded(w, body, pt->cte));
	}
	buf_free(&name);
}

static void walk(struct walk *w, struct mailmime *mm, struct span hdr, bool want_text, bool report)
{
	if (!mm)
		return;
	if (w->depth >= MAX_NESTING) {
		w->m->unparsed = true;
		return;
	}
	w->depth++;
	struct part pt = part_info(w, hdr, mm);
	switch (mm->mm_type) {
	case MAILMIME_MULTIPLE:
		multipart(w, mm, &pt, want_text);
		break;
	case MAILMIME_MESSAGE:
		message_part(w, mm, &pt, report);
		break;
	case MAILMIME_SINGLE:
		single(w, single_body(mm), &pt, want_text, report);
		break;
	default:
		w->m->unparsed = true;
		break;
	}
	w->depth--;
}

/* ---- the whole message ----------------------------------------------------------------------- */

/* Count nesting-capable parts, stopping early: see MAX_NESTING. */
static bool too_nested(const char *p, size_t n)
{
	/* "oundary", "OUNDARY", "essage/rfc822", "ESSAGE/RFC822": none of them
	 * can overlap another or itself, so their occurrences add up; each is
	 * found from a byte rare in mail ('y', 'Y', '/') with memchr. */
	const char *end = p + n, *q;
	size_t count = 0;
	for (q = p; count <= MAX_NESTING && (q = memchr(q, 'y', (size_t)(end - q))); q++)
		count += q - p >= 6 && memcmp(q - 6, "oundar", 6) == 0;
	for (q = p; count <= MAX_NESTING && (q = memchr(q, 'Y', (size_t)(end - q))); q++)
		count += q - p >= 6 && memcmp(q - 6, "OUNDAR", 6) == 0;
	for (q = p; count <= MAX_NESTING && (q = memchr(q, '/', (size_t)(end - q))); q++)
		count += q - p >= 6 && end - q >= 7 &&
			 ((memcmp(q - 6, "essage", 6) == 0 && memcmp(q + 1, "rfc822", 6) == 0) ||
			  (memcmp(q - 6, "ESSAGE", 6) == 0 && memcmp(q + 1, "RFC822", 6) == 0));
	return count > MAX_NESTING;
}

/* Whether libetpan is sure to read a message with this top-level
 * Content-Type (unfolded, trimmed; {NULL, 0} when absent) as one single
 * part, the whole body: without the field it takes text/plain, and a value
 * that starts with a discrete type gives a discrete type (libetpan first
 * decodes encoded-words in the value, which leaves a leading "text/" alone,
 * and a value it cannot parse is text/plain).  "multipart" and "message" are
 * what it splits or descends into; anything unusual goes to libetpan. */
static bool one_part(struct span type)
{
	static const char *const discrete[] = {"text/", "image/", "audio/", "video/",
					       "application/"};
	if (!type.p)
		return true;
	for (size_t i = 0; i < sizeof discrete / sizeof *discrete; i++)
		if (span_starts_with_ci(type, discrete[i]))
			return true;
	return false;
}

/* Old bounces quote the returned message in their text (dsn.h). */
static void inline_original(struct inmsg *m)
{
	if (m->text && !m->has_original)
		m->has_original = orig_parse_quoted(m->text, m->text_len, &m->original);
}

/* When the MIME structure is unusable: the body as text, decoded by the
 * top-level header's rules. */
static void fallback_text(struct walk *w, struct span hdr, struct span body)
{
	struct part pt = part_info(w, hdr, NULL);
	buf_reset(&w->plain);
	buf_reset(&w->html);
	text_part(w, &pt, body, HEADER_IS(pt.type, "text/html"));
}

static bool blank(const struct buf *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (!(b->p[i] == ' ' || b->p[i] == '\n' || b->p[i] == '\t'))
			return false;
	return true;
}

void inmsg_parse(const char *raw, size_t n, const struct parse_opts *opts, struct inmsg *m)
{
	struct walk w = {.m = m, .want_att = opts ? opts->attachment : 0};
	struct hfields top = {0};
	*m = (struct inmsg){0};

	if (!raw)
		raw = "", n = 0;
	size_t skip = 0;
	if (n >= 5 && memcmp(raw, "From ", 5) == 0) { /* an mbox separator line */
		const char *nl = memchr(raw, '\n', n);
		skip = nl ? (size_t)(nl + 1 - raw) : n;
	}
	struct span in = {raw + skip, n - skip};
	size_t body_off = header_scan(in, false, &top);
	m->body_off = skip + body_off;
	for (size_t i = 0; i < top.n; i++)
		top_field(m, top.v[i].name, top.v[i].value);
	m->header = xstrndup(in.p, body_off < PARSE_HEADER_MAX ? body_off : PARSE_HEADER_MAX);
	struct span hdr = {in.p, body_off}, body = {in.p + body_off, in.n - body_off};

	/* libetpan is given only the MIME fields and the body: its parse of
	 * the other fields (Received, To, References, …) would be thrown away,
	 * costs half its time on ordinary mail and much more on a hostile
	 * megabyte of addresses.  Its tree points into mime_in, kept until
	 * mailmime_free. */
	struct buf mime_in = BUF_INIT;
	static const char *const mime_fields[] = {"Content-Type", "Content-Transfer-Encoding"};
	size_t type_at = 0, type_n = 0; /* the Content-Type value as libetpan reads it */
	bool typed = false;
	for (size_t i = 0; i < 2; i++) {
		struct span v = header_get(&top, mime_fields[i]);
		if (!v.p)
			continue;
		buf_adds(&mime_in, mime_fields[i]);
		buf_adds(&mime_in, ": ");
		size_t at = mime_in.n;
		header_unfold(&mime_in, v);
		if (i == 0)
			typed = true, type_at = at, type_n = mime_in.n - at;
		buf_adds(&mime_in, "\r\n");
	}
	buf_adds(&mime_in, "\r\n");
	size_t mime_hdr = mime_in.n;
	hfields_free(&top);
	struct span type = {typed ? mime_in.p + type_at : NULL, type_n};

	struct mailmime *mime = NULL;
	size_t idx = 0;
	if (too_nested(body.p, body.n)) {
		m->unparsed = true;
	} else if (one_part(type)) {
		/* What libetpan would make of it is known: one part, the body. */
		struct span mhdr = {mime_in.p, mime_hdr};
		w.depth++;
		struct part pt = part_info(&w, mhdr, NULL);
		single(&w, body, &pt, true, false);
		w.depth--;
	} else {
		buf_grow(&mime_in, body.n); /* at once, not by doubling */
		buf_addspan(&mime_in, body);
		charset_libetpan();
		if (mailmime_parse(mime_in.p, mime_in.n, &idx, &mime) != MAILIMF_NO_ERROR ||
		    !mime || mime->mm_type != MAILMIME_MESSAGE ||
		    !mime->mm_data.mm_message.mm_msg_mime)
			m->unparsed = true;
		else
			walk(&w, mime->mm_data.mm_message.mm_msg_mime,
			     (struct span){mime_in.p, mime_hdr}, true, false);
	}
	if (mime)
		mailmime_free(mime);
	buf_free(&mime_in);
	if (m->unparsed && blank(&w.plain) && blank(&w.html))
		fallback_text(&w, hdr, body);

	bool use_plain = !blank(&w.plain) || blank(&w.html);
	struct buf *t = use_plain ? &w.plain : &w.html;
	m->text_from_html = !use_plain;
	m->text_len = t->n;
	m->text = buf_take(t);
	struct buf own = BUF_INIT;
	m->trimmed = text_own(&own, m->text, m->text_len, opts ? opts->quote_markers : NULL);
	m->own_text = buf_take(&own);
	inline_original(m);

	hfields_free(&w.h);
	buf_free(&w.plain);
	buf_free(&w.html);
	buf_free(&w.dec);
	buf_free(&w.conv);
	buf_free(&w.conv2);
}

void inmsg_free(struct inmsg *m)
{
	char **strings[] = {&m->message_id,    &m->from,
			    &m->from_name,     &m->subject,
			    &m->date,	       &m->in_reply_to,
			    &m->return_path,   &m->auto_submitted,
			    &m->precedence,    &m->x_autoreply,
			    &m->x_autorespond, &m->x_auto_response_suppress,
			    &m->list_id,       &m->list_unsubscribe,
			    &m->content_type,  &m->text,
			    &m->own_text,      &m->att_bytes,
			    &m->header,	       &m->orig_header};
	for (size_t i = 0; i < sizeof strings / sizeof *strings; i++)
		free(*strings[i]);
	struct strv *lists[] = {
	    &m->to,	     &m->cc,	     &m->delivered_to,	     &m->x_original_to,
	    &m->envelope_to, &m->references, &m->x_failed_recipients};
	for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
		strv_free(lists[i]);
	for (size_t i = 0; i < m->natt; i++) {
		free(m->att[i].filename);
		free(m->att[i].content_type);
	}
	free(m->att);
	dsn_free(&m->dsn);
	arf_free(&m->arf);
	orig_free(&m->original);
	*m = (struct inmsg){0};
}
