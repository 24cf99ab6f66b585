#include "compose/template.h"

#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* A lookup over a small table.  Names marked `later` are per recipient:
 * they answer TPL_LATER while binding, their value when rendering. */
struct var {
	const char *name;
	const char *value;
	bool later;
};

struct env {
	const struct var *vars;
	size_t n;
	bool binding;
	size_t calls;
};

static enum tpl_lookup_result env_lookup(void *ctx, struct span name, struct span *value)
{
	struct env *e = ctx;
	e->calls++;
	for (size_t i = 0; i < e->n; i++) {
		if (!span_eq(name, e->vars[i].name))
			continue;
		if (e->vars[i].later && e->binding)
			return TPL_LATER;
		*value = span_cstr(e->vars[i].value);
		return TPL_VALUE;
	}
	return TPL_UNKNOWN;
}

static const struct var base_vars[] = {
    {"name", "Ann & <Bob>", false},
    {"quote", "\"it's\"", false},
    {"empty", "", false},
    {"yes", "1", false},
    {"article.title", "Sleep & you", false},
    {"site.name", "Calm Practice", false},
    {"sub.name", "Zoë <z@x>", true},
    {"sub.vip", "y", true},
    {"sub.none", "", true},
};

#define NVARS(a) (sizeof(a) / sizeof((a)[0]))

/* Compile and render in one go; returns the output or the error message
 * (prefixed "ERR ") as a heap string. */
static char *run(const char *src, enum tpl_escape esc)
{
	struct tpl *t;
	struct lb_err err = {0};
	struct buf out = BUF_INIT;
	struct env e = {base_vars, NVARS(base_vars), false, 0};
	int rc = tpl_compile("t.html", src, strlen(src), esc, &t, &err);
	if (rc == 0) {
		rc = tpl_render(t, env_lookup, &e, &out, &err);
		tpl_free(t);
	}
	if (rc) {
		buf_reset(&out);
		buf_printf(&out, "ERR %d %s", rc, err.msg);
	}
	return buf_take(&out);
}

static const struct rcase {
	const char *src;
	enum tpl_escape esc;
	const char *want;
} render_cases[] = {
    /* escaping */
    {"Hi {{name}}!", TPL_ESC_HTML, "Hi Ann &amp; &lt;Bob&gt;!"},
    {"{{quote}}", TPL_ESC_HTML, "&quot;it&#39;s&quot;"},
    {"Hi {{name}}!", TPL_ESC_NONE, "Hi Ann & <Bob>!"},
    {"{{{name}}}", TPL_ESC_HTML, "Ann & <Bob>"},
    {"{{&name}}", TPL_ESC_HTML, "Ann & <Bob>"},
    {"{{& name }}", TPL_ESC_HTML, "Ann & <Bob>"},
    {"{{{ quote }}}|{{quote}}", TPL_ESC_NONE, "\"it's\"|\"it's\""},
    {"a{{empty}}b", TPL_ESC_HTML, "ab"},
    {"no tags & <b>", TPL_ESC_HTML, "no tags & <b>"},
    {"", TPL_ESC_HTML, ""},
    {"{ {name} }} {", TPL_ESC_HTML, "{ {name} }} {"},
    {"{{{name}}}}", TPL_ESC_NONE, "Ann & <Bob>}"},
    /* whitespace in tags */
    {"{{ article.title }}", TPL_ESC_NONE, "Sleep & you"},
    {"{{\tsite.name\n}}", TPL_ESC_NONE, "Calm Practice"},
    {"{{# yes }}Y{{/ yes }}", TPL_ESC_NONE, "Y"},
    /* sections and inverted sections */
    {"[{{#yes}}shown{{/yes}}]", TPL_ESC_NONE, "[shown]"},
    {"[{{#empty}}hidden{{/empty}}]", TPL_ESC_NONE, "[]"},
    {"[{{^yes}}hidden{{/yes}}]", TPL_ESC_NONE, "[]"},
    {"[{{^empty}}shown{{/empty}}]", TPL_ESC_NONE, "[shown]"},
    {"{{#yes}}a{{#empty}}b{{/empty}}c{{^empty}}d{{/empty}}{{/yes}}", TPL_ESC_NONE, "acd"},
    {"{{#yes}}{{#yes}}{{#yes}}deep{{/yes}}{{/yes}}{{/yes}}", TPL_ESC_NONE, "deep"},
    {"{{#empty}}{{#yes}}x{{/yes}}{{/empty}}z", TPL_ESC_NONE, "z"},
    {"{{#yes}}{{name}}{{/yes}}", TPL_ESC_HTML, "Ann &amp; &lt;Bob&gt;"},
    /* standalone lines */
    {"a\n{{#yes}}\nb\n{{/yes}}\nc\n", TPL_ESC_NONE, "a\nb\nc\n"},
    {"a\n  {{#empty}}  \nb\n\t{{/empty}}\nc\n", TPL_ESC_NONE, "a\nc\n"},
    {"|\r\n{{#yes}}\r\n{{/yes}}\r\n|", TPL_ESC_NONE, "|\r\n|"},
    {"  {{#yes}}\n#{{/yes}}\n/", TPL_ESC_NONE, "#\n/"},
    {"#{{#yes}}\n/\n  {{/yes}}", TPL_ESC_NONE, "#\n/\n"},
    {"  {{#yes}}YES{{/yes}}\n", TPL_ESC_NONE, "  YES\n"},
    {"  {{site.name}}\n", TPL_ESC_NONE, "  Calm Practice\n"},
    {"{{#yes}}\n{{^empty}}\nin\n{{/empty}}\n{{/yes}}\n", TPL_ESC_NONE, "in\n"},
    /* comments */
    {"12345 {{! Comment Block! }} 67890", TPL_ESC_NONE, "12345  67890"},
    {"Begin.\n{{! gone }}\nEnd.\n", TPL_ESC_NONE, "Begin.\nEnd.\n"},
    {"Begin.\n  {{!\nmulti\n{ line }\n}}\nEnd.\n", TPL_ESC_NONE, "Begin.\nEnd.\n"},
    {"  12 {{! 34 }}\n", TPL_ESC_NONE, "  12 \n"},
    {"{{!styles\np: color: red\n}}\n<p>{{site.name}}</p>", TPL_ESC_HTML, "<p>Calm Practice</p>"},
    {"{{ ! spaced }}x", TPL_ESC_NONE, "x"},
    /* syntax errors name the line */
    {"a\nb {{name\n", TPL_ESC_NONE, "ERR 65 t.html:2: unclosed tag"},
    {"a\n\n{{{name}}", TPL_ESC_NONE, "ERR 65 t.html:3: unclosed tag"},
    {"{{! never ends", TPL_ESC_NONE, "ERR 65 t.html:1: unclosed tag"},
    {"x\n{{name {{yes}}", TPL_ESC_NONE, "ERR 65 t.html:2: unclosed tag"},
    {"\n\n\n{{/yes}}", TPL_ESC_NONE, "ERR 65 t.html:4: {{/yes}} closes no section"},
    {"{{#a}}\n{{^b}}\n{{/a}}", TPL_ESC_NONE,
     "ERR 65 t.html:3: {{/a}} closes {{^b}} opened at line 2"},
    {"x\n{{#yes}}\n{{#empty}}{{/empty}}\n", TPL_ESC_NONE,
     "ERR 65 t.html:2: {{#yes}} is never closed"},
    {"\n{{ }}", TPL_ESC_NONE, "ERR 65 t.html:2: empty tag"},
    {"{{#}}", TPL_ESC_NONE, "ERR 65 t.html:1: empty tag"},
    {"ok\n{{na me}}", TPL_ESC_NONE,
     "ERR 65 t.html:2: bad name (letters, digits, '_', '.' and '-' only): 'na me'"},
    {"{{{#x}}}", TPL_ESC_NONE,
     "ERR 65 t.html:1: bad name (letters, digits, '_', '.' and '-' only): '#x'"},
    {"{{>partial}}", TPL_ESC_NONE, "ERR 65 t.html:1: partials are not supported: '>partial'"},
    {"{{=<% %>=}}", TPL_ESC_NONE,
     "ERR 65 t.html:1: delimiter changes are not supported: '=<% %>='"},
    {"{{!a\nb\nc}}\n{{x\x01}}", TPL_ESC_NONE,
     "ERR 65 t.html:4: bad name (letters, digits, '_', '.' and '-' only): 'x?'"},
    /* unknown names, reached or not */
    {"a\n{{nope}}", TPL_ESC_NONE, "ERR 65 t.html:2: unknown name 'nope'"},
    {"{{#empty}}{{nope}}{{/empty}}ok", TPL_ESC_NONE, "ok"},
    {"{{#nope}}{{/nope}}", TPL_ESC_NONE, "ERR 65 t.html:1: unknown name 'nope'"},
};

static void test_render_table(void)
{
	for (size_t i = 0; i < NVARS(render_cases); i++) {
		const struct rcase *c = &render_cases[i];
		char *got = run(c->src, c->esc);
		if (strcmp(got, c->want) != 0)
			fprintf(stderr, "case %zu: %s\n", i, c->src);
		CHECK_STR(got, c->want);
		free(got);
	}
}

static void test_escape(void)
{
	static const struct {
		const char *in;
		enum tpl_escape esc;
		const char *want;
	} cases[] = {
	    {"", TPL_ESC_HTML, ""},
	    {"plain", TPL_ESC_HTML, "plain"},
	    {"&<>\"'", TPL_ESC_HTML, "&amp;&lt;&gt;&quot;&#39;"},
	    {"a&&b", TPL_ESC_HTML, "a&amp;&amp;b"},
	    {"&<>\"'", TPL_ESC_NONE, "&<>\"'"},
	};
	for (size_t i = 0; i < NVARS(cases); i++) {
		struct buf b = BUF_INIT;
		buf_adds(&b, "x");
		tpl_escape(&b, span_cstr(cases[i].in), cases[i].esc);
		CHECK(b.n > 0 && b.p[0] == 'x');
		CHECK_STR(buf_cstr(&b) + 1, cases[i].want);
		buf_free(&b);
	}
}

static struct tpl *compile(const char *src, enum tpl_escape esc)
{
	struct tpl *t = NULL;
	struct lb_err err = {0};
	int rc = tpl_compile("n.html", src, strlen(src), esc, &t, &err);
	CHECK_INT(rc, 0);
	if (rc)
		fprintf(stderr, "    %s\n", err.msg);
	return t;
}

static void test_bind_merges(void)
{
	struct tpl *t = compile("<h1>{{article.title}}</h1>\n{{#yes}}\n<p>{{{name}}}</p>\n"
				"{{/yes}}\n{{! note }}\n{{^yes}}no{{/yes}}<i>{{site.name}}</i>",
				TPL_ESC_HTML);
	if (!t)
		return;
	CHECK_STR(tpl_name(t), "n.html");
	struct env e = {base_vars, NVARS(base_vars), true, 0};
	struct tpl_plan plan;
	struct lb_err err = {0};
	CHECK_INT(tpl_bind(t, env_lookup, &e, &plan, &err), 0);
	CHECK_INT(plan.n, 1);
	if (plan.n == 1) {
		CHECK_INT(plan.pieces[0].kind, TP_TEXT);
		char *s = span_dup(plan.pieces[0].text);
		CHECK_STR(s, "<h1>Sleep &amp; you</h1>\n<p>Ann & <Bob></p>\n<i>Calm Practice</i>");
		free(s);
	}
	tpl_plan_free(&plan);
	CHECK(plan.n == 0 && plan.pieces == NULL);
	tpl_free(t);
}

/* The plan keeps held names as holes, with sections linked both ways. */
static void test_bind_holes(void)
{
	struct tpl *t = compile("Dear {{sub.name}},\n"
				"{{#sub.vip}}\n"
				"VIP {{name}}{{#yes}} & {{{sub.name}}}{{/yes}}\n"
				"{{/sub.vip}}\n"
				"{{^sub.vip}}regular{{/sub.vip}}\n"
				"{{#empty}}{{sub.name}}{{/empty}}-- {{site.name}}\n",
				TPL_ESC_HTML);
	if (!t)
		return;
	struct env e = {base_vars, NVARS(base_vars), true, 0};
	struct tpl_plan plan;
	struct lb_err err = {0};
	CHECK_INT(tpl_bind(t, env_lookup, &e, &plan, &err), 0);
	static const enum tpl_piece_kind want[] = {
	    TP_TEXT, TP_VAR, TP_TEXT,	  TP_SECTION, TP_TEXT, TP_VAR,
	    TP_TEXT, TP_END, TP_INVERTED, TP_TEXT,    TP_END,  TP_TEXT,
	};
	CHECK_INT(plan.n, NVARS(want));
	for (size_t i = 0; i < plan.n && i < NVARS(want); i++)
		CHECK_INT(plan.pieces[i].kind, want[i]);
	if (plan.n == NVARS(want)) {
		CHECK(span_eq(plan.pieces[0].text, "Dear "));
		CHECK(span_eq(plan.pieces[1].text, "sub.name"));
		CHECK_INT(plan.pieces[1].escape, TPL_ESC_HTML);
		CHECK(span_eq(plan.pieces[4].text, "VIP Ann &amp; &lt;Bob&gt; & "));
		CHECK_INT(plan.pieces[5].escape, TPL_ESC_NONE);
		CHECK_INT(plan.pieces[3].end, 7);
		CHECK_INT(plan.pieces[7].end, 3);
		CHECK(span_eq(plan.pieces[7].text, "sub.vip"));
		CHECK_INT(plan.pieces[8].end, 10);
		CHECK(span_eq(plan.pieces[11].text, "\n-- Calm Practice\n"));
	}

	/* Two recipients, one plan. */
	static const struct var vip[] = {{"sub.name", "Zoë <z@x>", false}, {"sub.vip", "y", false}};
	static const struct var plain[] = {{"sub.name", "Max", false}, {"sub.vip", "", false}};
	static const struct {
		const struct var *vars;
		const char *want;
	} recipients[] = {
	    {vip, "Dear Zoë &lt;z@x&gt;,\nVIP Ann &amp; &lt;Bob&gt; & Zoë <z@x>\n\n"
		  "-- Calm Practice\n"},
	    {plain, "Dear Max,\nregular\n-- Calm Practice\n"},
	};
	for (size_t r = 0; r < NVARS(recipients); r++) {
		struct env re = {recipients[r].vars, 2, false, 0};
		struct buf out = BUF_INIT;
		CHECK_INT(tpl_plan_render(&plan, env_lookup, &re, &out, &err), 0);
		CHECK_STR(buf_cstr(&out), recipients[r].want);
		/* only the holes cost a lookup per recipient */
		CHECK_INT(re.calls, r == 0 ? 4 : 3);
		buf_free(&out);
	}
	struct env none = {base_vars, 0, false, 0};
	struct buf out = BUF_INIT;
	CHECK_INT(tpl_plan_render(&plan, env_lookup, &none, &out, &err), LB_EDATA);
	CHECK_STR(err.msg, "n.html: unknown name 'sub.name'");
	buf_free(&out);
	tpl_plan_free(&plan);
	tpl_free(t);
}

static void test_bind_errors(void)
{
	struct tpl *t = compile("ok\n{{#sub.vip}}\n{{missing}}\n{{/sub.vip}}", TPL_ESC_NONE);
	if (!t)
		return;
	struct env e = {base_vars, NVARS(base_vars), true, 0};
	struct tpl_plan plan;
	struct lb_err err = {0};
	CHECK_INT(tpl_bind(t, env_lookup, &e, &plan, &err), LB_EDATA);
	CHECK_STR(err.msg, "n.html:3: unknown name 'missing'");
	CHECK(plan.n == 0 && plan.pieces == NULL && plan.store.p == NULL);
	tpl_plan_free(&plan); /* harmless after a failed bind */

	/* tpl_render cannot leave holes */
	struct buf out = BUF_INIT;
	CHECK_INT(tpl_render(t, env_lookup, &e, &out, &err), LB_ESOFTWARE);
	CHECK_STR(err.msg, "n.html:2: no value for 'sub.vip'");
	buf_free(&out);
	tpl_free(t);

	struct tpl *bad = (struct tpl *)(void *)&err; /* any non-NULL */
	CHECK_INT(tpl_compile("x", "{{#a}}", 6, TPL_ESC_NONE, &bad, &err), LB_EDATA);
	CHECK(bad == NULL);
}

static void collect(void *rctx, const char *msg)
{
	struct buf *b = rctx;
	buf_printf(b, "%s\n", msg);
}

static void test_check(void)
{
	struct tpl *t = compile("{{nope}}\n{{#yes}}{{sub.name}}{{/yes}}\n{{#gone}}\n"
				"{{nope}}{{/gone}}{{! {{commented}} }}",
				TPL_ESC_HTML);
	if (!t)
		return;
	struct env e = {base_vars, NVARS(base_vars), true, 0};
	struct buf msgs = BUF_INIT;
	CHECK_INT(tpl_check(t, env_lookup, &e, collect, &msgs), 3);
	CHECK_STR(buf_cstr(&msgs), "n.html:1: unknown name 'nope'\n"
				   "n.html:3: unknown name 'gone'\n"
				   "n.html:4: unknown name 'nope'\n");
	CHECK_INT(e.calls, 5);
	buf_free(&msgs);
	tpl_free(t);

	t = compile("{{yes}}{{sub.vip}}", TPL_ESC_HTML);
	if (!t)
		return;
	CHECK_INT(tpl_check(t, env_lookup, &e, NULL, NULL), 0);
	tpl_free(t);
}

/* tpl_plan_render after tpl_bind must equal tpl_render, whatever is held
 * and whatever the values are. */
static const char *const equiv_templates[] = {
    "<p>{{a}}</p>{{#b}}\n[{{c}}{{{d}}}]\n{{/b}}{{^c}}none{{/c}}{{#a}}{{#d}}{{b}}{{/d}}{{/a}}\n",
    "{{#a}}{{^b}}{{#c}}{{#d}}x{{a}}{{/d}}{{/c}}{{/b}}{{/a}}{{&b}}{{! c }}{{^d}}{{^a}}y{{/a}}{{/d}}",
    "  {{#a}}\n{{b}} & {{c}}\n  {{/a}}\n{{^a}}\n'{{d}}'\n{{/a}}\n",
};

static unsigned next_random(unsigned *state)
{
	*state = *state * 1103515245u + 12345u;
	return (*state >> 16) & 0x7fff;
}

static void test_plan_equals_render(void)
{
	static const char *const values[] = {"", "1", "<&>", "it's \"x\""};
	static const char *const names[] = {"a", "b", "c", "d"};
	unsigned seed = 7;
	size_t mismatches = 0, rounds = 0;
	for (size_t k = 0; k < NVARS(equiv_templates); k++) {
		struct tpl *t[2] = {compile(equiv_templates[k], TPL_ESC_HTML),
				    compile(equiv_templates[k], TPL_ESC_NONE)};
		for (size_t round = 0; round < 200 && t[0] && t[1]; round++) {
			struct var vars[4];
			for (size_t i = 0; i < 4; i++)
				vars[i] = (struct var){names[i], values[next_random(&seed) % 4],
						       next_random(&seed) % 2 == 0};
			struct tpl *tp = t[round % 2];
			struct env bind_env = {vars, 4, true, 0}, final = {vars, 4, false, 0};
			struct tpl_plan plan;
			struct lb_err err = {0};
			struct buf a = BUF_INIT, b = BUF_INIT;
			int rc = tpl_bind(tp, env_lookup, &bind_env, &plan, &err);
			rc |= tpl_plan_render(&plan, env_lookup, &final, &a, &err);
			rc |= tpl_render(tp, env_lookup, &final, &b, &err);
			if (rc || a.n != b.n || memcmp(buf_cstr(&a), buf_cstr(&b), a.n) != 0)
				mismatches++;
			rounds++;
			tpl_plan_free(&plan);
			buf_free(&a);
			buf_free(&b);
		}
		tpl_free(t[0]);
		tpl_free(t[1]);
	}
	CHECK_INT(rounds, 600);
	CHECK_INT(mismatches, 0);
}

/* Enough pieces and text that the piece array and the store reallocate many
 * times during tpl_bind: every span must still point at live memory. */
static void test_big_plan(void)
{
	struct buf src = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
	for (int i = 0; i < 2000; i++) {
		buf_printf(&src, "line %d {{site.name}} {{sub.name}}\n", i);
		buf_printf(&want, "line %d Calm Practice Zoë <z@x>\n", i);
	}
	struct tpl *t = compile(buf_cstr(&src), TPL_ESC_NONE);
	if (t) {
		struct env be = {base_vars, NVARS(base_vars), true, 0};
		struct env re = {base_vars, NVARS(base_vars), false, 0};
		struct tpl_plan plan;
		struct lb_err err = {0};
		CHECK_INT(tpl_bind(t, env_lookup, &be, &plan, &err), 0);
		CHECK_INT(plan.n, 4001);
		CHECK_INT(tpl_plan_render(&plan, env_lookup, &re, &got, &err), 0);
		CHECK(got.n == want.n && memcmp(buf_cstr(&got), buf_cstr(&want), got.n) == 0);
		tpl_plan_free(&plan);
		tpl_free(t);
	}
	buf_free(&src);
	buf_free(&want);
	buf_free(&got);
}

/* Sources need not be NUL-terminated: only n bytes are read. */
static void test_not_terminated(void)
{
	const char src[] = "{{yes}}{{name}}";
	struct tpl *t;
	struct lb_err err = {0};
	CHECK_INT(tpl_compile("n", src, 7, TPL_ESC_NONE, &t, &err), 0);
	struct env e = {base_vars, NVARS(base_vars), false, 0};
	struct buf out = BUF_INIT;
	CHECK_INT(tpl_render(t, env_lookup, &e, &out, &err), 0);
	CHECK_STR(buf_cstr(&out), "1");
	buf_free(&out);
	tpl_free(t);
	CHECK_INT(tpl_compile("n", src, 6, TPL_ESC_NONE, &t, &err), LB_EDATA);
	CHECK_STR(err.msg, "n:1: unclosed tag");
}

int main(void)
{
	RUN(test_render_table);
	RUN(test_escape);
	RUN(test_bind_merges);
	RUN(test_bind_holes);
	RUN(test_bind_errors);
	RUN(test_check);
	RUN(test_plan_equals_render);
	RUN(test_big_plan);
	RUN(test_not_terminated);
	return harness_done("template");
}
