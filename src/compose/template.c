/* Templates: compile once into a flat node list, then evaluate it either all
 * at once (tpl_render) or in two stages (tpl_bind, then tpl_plan_render per
 * recipient).  Sections are not a tree: an opener records the index of its
 * closer and vice versa, so every walk is a loop that can jump, with no
 * recursion for a hostile template to exhaust.
 */
#include "compose/template.h"
#include "core/log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

enum node_kind {
	N_TEXT,
	N_VAR,
	N_SECTION,
	N_INVERTED,
	N_END,
};

struct node {
	enum node_kind kind;
	bool raw;	 /* N_VAR written {{{x}}} or {{&x}} */
	size_t line;	 /* where the tag starts, for messages */
	size_t off, len; /* into tpl->src: the literal text, or the name */
	size_t end;	 /* N_SECTION/N_INVERTED: index of the N_END; N_END: of the opener */
};

struct tpl {
	char *name;
	char *src; /* our copy: the caller's buffer need not outlive us */
	enum tpl_escape esc;
	struct node *nodes;
	size_t n, cap;
	size_t depth; /* deepest section nesting: sizes tpl_bind's stack */
};

/* Longest name or tag excerpt quoted in a message: a runaway tag should not
 * push the template name and line out of a fixed-size lb_err. */
#define QUOTE_MAX 60

static int quote_len(size_t n)
{
	return (int)(n < QUOTE_MAX ? n : QUOTE_MAX);
}

static struct span node_text(const struct tpl *t, const struct node *nd)
{
	return (struct span){t->src + nd->off, nd->len};
}

static enum tpl_escape node_escape(const struct tpl *t, const struct node *nd)
{
	return nd->raw ? TPL_ESC_NONE : t->esc;
}

/* ---- compiling ---- */

struct parser {
	struct tpl *t;
	const char *s;
	size_t n;
	size_t text;	/* start of literal text not yet emitted */
	size_t counted; /* newlines before this offset are in `line` */
	size_t line;
	size_t *stack; /* node indexes of open sections */
	size_t depth, stack_cap;
	struct lb_err *err;
};

#define NPOS SIZE_MAX

static size_t find(const char *s, size_t n, size_t from, const char *needle)
{
	size_t k = strlen(needle);
	while (from + k <= n) {
		const char *hit = memchr(s + from, needle[0], n - from - k + 1);
		if (!hit)
			return NPOS;
		size_t at = (size_t)(hit - s);
		if (memcmp(hit, needle, k) == 0)
			return at;
		from = at + 1;
	}
	return NPOS;
}

/* Tags are met in source order, so counting newlines incrementally keeps
 * line numbers O(n) over the whole template. */
static size_t line_at(struct parser *p, size_t off)
{
	const char *s = p->s;
	for (size_t i = p->counted; i < off; i++)
		if (s[i] == '\n')
			p->line++;
	p->counted = off;
	return p->line;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

static bool valid_name(struct span name)
{
	if (name.n == 0)
		return false;
	for (size_t i = 0; i < name.n; i++)
		if (!is_name_char(name.p[i]))
			return false;
	return true;
}

static struct node *add_node(struct tpl *t, enum node_kind kind)
{
	t->nodes = xgrowarray(t->nodes, &t->cap, t->n + 1, sizeof *t->nodes);
	struct node *nd = &t->nodes[t->n++];
	*nd = (struct node){.kind = kind};
	return nd;
}

static void add_text(struct parser *p, size_t from, size_t to)
{
	if (to <= from)
		return;
	struct node *nd = add_node(p->t, N_TEXT);
	nd->off = from;
	nd->len = to - from;
}

/* A bad tag quoted for the user: control bytes and the like become '?' so a
 * binary template cannot garble a terminal or a log line. */
static int bad_tag(struct parser *p, size_t line, struct span tag, const char *why)
{
	char shown[QUOTE_MAX + 1];
	size_t k = (size_t)quote_len(tag.n);
	for (size_t i = 0; i < k; i++) {
		unsigned char c = (unsigned char)tag.p[i];
		shown[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	shown[k] = '\0';
	return err_set(p->err, LB_EDATA, "%s:%zu: %s: '%s%s'", p->t->name, line, why, shown,
		       tag.n > k ? "..." : "");
}

/* What one tag turned out to be. */
struct tag {
	int kind; /* an enum node_kind, or -1 for a comment */
	bool raw;
	struct span name;
	size_t end; /* offset just past the closing braces */
};

#define TAG_COMMENT (-1)

static int parse_tag(struct parser *p, size_t open, size_t line, struct tag *tag)
{
	const char *s = p->s;
	size_t n = p->n, c = open + 2, close;
	*tag = (struct tag){.kind = N_VAR};

	if (c < n && s[c] == '{') {
		close = find(s, n, c + 1, "}}}");
		if (close == NPOS)
			return err_set(p->err, LB_EDATA, "%s:%zu: unclosed tag", p->t->name, line);
		tag->raw = true;
		tag->name = span_trim((struct span){s + c + 1, close - c - 1});
		tag->end = close + 3;
	} else {
		size_t k = c;
		while (k < n && (is_blank(s[k]) || s[k] == '\r' || s[k] == '\n'))
			k++;
		bool comment = k < n && s[k] == '!';
		/* A comment's text is anything, including "{{", so it ends at the
		 * first "}}" after the '!'; other tags may not contain "{{". */
		close = find(s, n, comment ? k + 1 : c, "}}");
		if (close == NPOS)
			return err_set(p->err, LB_EDATA, "%s:%zu: unclosed tag", p->t->name, line);
		tag->end = close + 2;
		if (comment) {
			tag->kind = TAG_COMMENT;
			return 0;
		}
		struct span in = span_trim((struct span){s + c, close - c});
		if (find(in.p, in.n, 0, "{{") != NPOS)
			return err_set(p->err, LB_EDATA, "%s:%zu: unclosed tag", p->t->name, line);
		char sigil = in.n ? in.p[0] : '\0';
		switch (sigil) {
		case '#':
			tag->kind = N_SECTION;
			break;
		case '^':
			tag->kind = N_INVERTED;
			break;
		case '/':
			tag->kind = N_END;
			break;
		case '&':
			tag->raw = true;
			break;
		case '>':
			return bad_tag(p, line, in, "partials are not supported");
		case '=':
			return bad_tag(p, line, in, "delimiter changes are not supported");
		default:
			break;
		}
		if (tag->kind != N_VAR || tag->raw) {
			in.p++;
			in.n--;
		}
		tag->name = span_trim(in);
	}
	if (tag->name.n == 0)
		return err_set(p->err, LB_EDATA, "%s:%zu: empty tag", p->t->name, line);
	if (!valid_name(tag->name))
		return bad_tag(p, line, tag->name,
			       "bad name (letters, digits, '_', '.' and '-' only)");
	return 0;
}

/* Mustache's standalone rule: a section, closer or comment tag that is the
 * only thing on its line (blanks aside) removes the whole line, newline and
 * all, so that block structure can sit on lines of its own.  On success
 * *from and *to widen the tag to the line. */
static bool standalone(const struct parser *p, size_t *from, size_t *to)
{
	const char *s = p->s;
	size_t i = *from, j = *to;
	/* Any earlier tag on this line ends in '}', which stops this scan, so
	 * the blanks found lie within the pending literal text. */
	while (i > 0 && is_blank(s[i - 1]))
		i--;
	if (i > 0 && s[i - 1] != '\n')
		return false;
	while (j < p->n && is_blank(s[j]))
		j++;
	if (j < p->n && s[j] == '\n')
		j++;
	else if (j + 1 < p->n && s[j] == '\r' && s[j + 1] == '\n')
		j += 2;
	else if (j < p->n)
		return false;
	*from = i;
	*to = j;
	return true;
}

static int add_tag(struct parser *p, const struct tag *tag, size_t line)
{
	struct tpl *t = p->t;
	if (tag->kind == TAG_COMMENT)
		return 0;
	size_t off = (size_t)(tag->name.p - p->s);
	if (tag->kind == N_END) {
		if (p->depth == 0)
			return err_set(p->err, LB_EDATA, "%s:%zu: {{/%.*s}} closes no section",
				       t->name, line, quote_len(tag->name.n), tag->name.p);
		const struct node *open = &t->nodes[p->stack[p->depth - 1]];
		struct span want = node_text(t, open);
		if (want.n != tag->name.n || memcmp(want.p, tag->name.p, want.n) != 0)
			return err_set(p->err, LB_EDATA,
				       "%s:%zu: {{/%.*s}} closes {{%c%.*s}} opened at line %zu",
				       t->name, line, quote_len(tag->name.n), tag->name.p,
				       open->kind == N_SECTION ? '#' : '^', quote_len(want.n),
				       want.p, open->line);
	}
	size_t idx = t->n;
	struct node *nd = add_node(t, (enum node_kind)tag->kind);
	nd->raw = tag->raw;
	nd->line = line;
	nd->off = off;
	nd->len = tag->name.n;
	if (nd->kind == N_SECTION || nd->kind == N_INVERTED) {
		p->stack = xgrowarray(p->stack, &p->stack_cap, p->depth + 1, sizeof *p->stack);
		p->stack[p->depth++] = idx;
		if (p->depth > t->depth)
			t->depth = p->depth;
	} else if (nd->kind == N_END) {
		LB_ASSERT(p->depth > 0); /* the caller matched the tag already */
		size_t opener = p->stack[--p->depth];
		nd->end = opener;
		t->nodes[opener].end = idx;
	}
	return 0;
}

static int parse(struct parser *p)
{
	size_t pos = 0;
	int rc;
	for (;;) {
		size_t open = find(p->s, p->n, pos, "{{");
		if (open == NPOS)
			break;
		size_t line = line_at(p, open);
		struct tag tag;
		if ((rc = parse_tag(p, open, line, &tag)) != 0)
			return rc;
		size_t from = open, to = tag.end;
		if (tag.kind != N_VAR)
			standalone(p, &from, &to);
		add_text(p, p->text, from);
		if ((rc = add_tag(p, &tag, line)) != 0)
			return rc;
		p->text = pos = to;
	}
	add_text(p, p->text, p->n);
	if (p->depth > 0) {
		const struct node *open = &p->t->nodes[p->stack[p->depth - 1]];
		return err_set(p->err, LB_EDATA, "%s:%zu: {{%c%.*s}} is never closed", p->t->name,
			       open->line, open->kind == N_SECTION ? '#' : '^',
			       quote_len(open->len), p->t->src + open->off);
	}
	return 0;
}

int tpl_compile(const char *name, const char *src, size_t n, enum tpl_escape esc, struct tpl **out,
		struct lb_err *err)
{
	struct tpl *t = xcalloc(1, sizeof *t);
	t->name = xstrdup(name ? name : "template");
	t->src = xmalloc(n + 1);
	if (n)
		memcpy(t->src, src, n);
	t->src[n] = '\0';
	t->esc = esc;

	struct parser p = {.t = t, .s = t->src, .n = n, .line = 1, .err = err};
	int rc = parse(&p);
	free(p.stack);
	if (rc) {
		tpl_free(t);
		*out = NULL;
		return rc;
	}
	*out = t;
	return 0;
}

void tpl_free(struct tpl *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->src);
	free(t->nodes);
	free(t);
}

const char *tpl_name(const struct tpl *t)
{
	return t->name;
}

/* ---- evaluating ---- */

void tpl_escape(struct buf *out, struct span src, enum tpl_escape esc)
{
	if (esc == TPL_ESC_NONE)
		buf_addspan(out, src);
	else
		buf_add_html(out, src.p, src.n);
}

static int unknown_name(struct lb_err *err, const struct tpl *t, const struct node *nd)
{
	return err_set(err, LB_EDATA, "%s:%zu: unknown name '%.*s'", t->name, nd->line,
		       quote_len(nd->len), t->src + nd->off);
}

size_t tpl_check(const struct tpl *t, tpl_lookup_fn lookup, void *ctx,
		 void (*report)(void *rctx, const char *msg), void *rctx)
{
	size_t bad = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct node *nd = &t->nodes[i];
		if (nd->kind == N_TEXT || nd->kind == N_END)
			continue;
		struct span value = {"", 0};
		if (lookup(ctx, node_text(t, nd), &value) != TPL_UNKNOWN)
			continue;
		bad++;
		if (report) {
			struct lb_err e;
			unknown_name(&e, t, nd);
			report(rctx, e.msg);
		}
	}
	return bad;
}

/* Whether a section's inside shows, given its name's value. */
static bool shows(bool inverted, struct span value)
{
	return (value.n > 0) != inverted;
}

int tpl_render(const struct tpl *t, tpl_lookup_fn lookup, void *ctx, struct buf *out,
	       struct lb_err *err)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct node *nd = &t->nodes[i];
		if (nd->kind == N_TEXT) {
			buf_addspan(out, node_text(t, nd));
			continue;
		}
		if (nd->kind == N_END)
			continue;
		struct span value = {"", 0};
		enum tpl_lookup_result r = lookup(ctx, node_text(t, nd), &value);
		if (r == TPL_UNKNOWN)
			return unknown_name(err, t, nd);
		if (r != TPL_VALUE)
			return err_set(err, LB_ESOFTWARE, "%s:%zu: no value for '%.*s'", t->name,
				       nd->line, quote_len(nd->len), t->src + nd->off);
		if (nd->kind == N_VAR)
			tpl_escape(out, value, node_escape(t, nd));
		else if (!shows(nd->kind == N_INVERTED, value))
			i = nd->end;
	}
	return 0;
}

/* Plans.  plan->store holds, in order: the template's name with its NUL (for
 * stage-2 messages), then the text of every piece, piece after piece.  Spans
 * are only pointed into the store once it stops growing, at the end of
 * tpl_bind; until then a piece's place in the store is implied by the
 * lengths of the pieces before it. */

static struct tpl_piece *plan_push(struct tpl_plan *plan, enum tpl_piece_kind kind)
{
	plan->pieces = xgrowarray(plan->pieces, &plan->cap, plan->n + 1, sizeof *plan->pieces);
	struct tpl_piece *pc = &plan->pieces[plan->n++];
	*pc = (struct tpl_piece){.kind = kind, .escape = TPL_ESC_NONE};
	return pc;
}

/* Literal output: grows the last TP_TEXT piece when there is one, so that
 * stage 2 copies as few, as large runs as possible. */
static void plan_text(struct tpl_plan *plan, struct span text, enum tpl_escape esc)
{
	size_t before = plan->store.n;
	tpl_escape(&plan->store, text, esc);
	size_t added = plan->store.n - before;
	if (added == 0)
		return;
	if (plan->n == 0 || plan->pieces[plan->n - 1].kind != TP_TEXT)
		plan_push(plan, TP_TEXT);
	plan->pieces[plan->n - 1].text.n += added;
}

static struct tpl_piece *plan_hole(struct tpl_plan *plan, enum tpl_piece_kind kind,
				   struct span name)
{
	struct tpl_piece *pc = plan_push(plan, kind);
	buf_addspan(&plan->store, name);
	pc->text.n = name.n;
	return pc;
}

static void plan_fix_spans(struct tpl_plan *plan)
{
	const char *base = buf_cstr(&plan->store);
	size_t off = strlen(base) + 1;
	for (size_t i = 0; i < plan->n; i++) {
		plan->pieces[i].text.p = base + off;
		off += plan->pieces[i].text.n;
	}
}

/* Marks a section on a resolved name in tpl_bind's stack: its closer emits
 * nothing. */
#define FLATTENED SIZE_MAX

int tpl_bind(const struct tpl *t, tpl_lookup_fn lookup, void *ctx, struct tpl_plan *plan,
	     struct lb_err *err)
{
	*plan = (struct tpl_plan){.store = BUF_INIT};
	buf_add(&plan->store, t->name, strlen(t->name) + 1);
	size_t *stack = xmalloc((t->depth ? t->depth : 1) * sizeof *stack);
	size_t depth = 0;
	int rc = 0;

	for (size_t i = 0; i < t->n; i++) {
		const struct node *nd = &t->nodes[i];
		struct span name = node_text(t, nd), value = {"", 0};
		if (nd->kind == N_TEXT) {
			plan_text(plan, name, TPL_ESC_NONE);
			continue;
		}
		if (nd->kind == N_END) {
			size_t opener = stack[--depth];
			if (opener != FLATTENED) {
				plan->pieces[opener].end = plan->n;
				plan_hole(plan, TP_END, name)->end = opener;
			}
			continue;
		}
		enum tpl_lookup_result r = lookup(ctx, name, &value);
		if (r == TPL_UNKNOWN) {
			rc = unknown_name(err, t, nd);
			goto out;
		}
		if (nd->kind == N_VAR) {
			if (r == TPL_LATER)
				plan_hole(plan, TP_VAR, name)->escape = node_escape(t, nd);
			else
				plan_text(plan, value, node_escape(t, nd));
		} else if (r == TPL_LATER) {
			stack[depth++] = plan->n;
			plan_hole(plan, nd->kind == N_SECTION ? TP_SECTION : TP_INVERTED, name);
		} else if (shows(nd->kind == N_INVERTED, value)) {
			stack[depth++] = FLATTENED;
		} else {
			i = nd->end; /* skip the inside and the closer */
		}
	}
	plan_fix_spans(plan);
out:
	free(stack);
	if (rc)
		tpl_plan_free(plan);
	return rc;
}

void tpl_plan_free(struct tpl_plan *plan)
{
	free(plan->pieces);
	buf_free(&plan->store);
	*plan = (struct tpl_plan){.store = BUF_INIT};
}

int tpl_plan_render(const struct tpl_plan *plan, tpl_lookup_fn lookup, void *ctx, struct buf *out,
		    struct lb_err *err)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct tpl_piece *pc = &plan->pieces[i];
		if (pc->kind == TP_TEXT) {
			buf_addspan(out, pc->text);
			continue;
		}
		if (pc->kind == TP_END)
			continue;
		struct span value = {"", 0};
		enum tpl_lookup_result r = lookup(ctx, pc->text, &value);
		if (r != TPL_VALUE)
			return err_set(err, r == TPL_UNKNOWN ? LB_EDATA : LB_ESOFTWARE,
				       "%s: %s '%.*s'", buf_cstr(&plan->store),
				       r == TPL_UNKNOWN ? "unknown name" : "no value for",
				       quote_len(pc->text.n), pc->text.p);
		if (pc->kind == TP_VAR)
			tpl_escape(out, value, pc->escape);
		else if (!shows(pc->kind == TP_INVERTED, value))
			i = pc->end;
	}
	return 0;
}
