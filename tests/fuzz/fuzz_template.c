/* Compile arbitrary bytes as a template; when they compile, binding then
 * rendering the plan must give byte for byte what tpl_render gives, and the
 * plan must be well formed (merged text, sections linked both ways). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compose/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A value that depends on the name only, so both stages see the same one:
 * empty for some names (false sections), with HTML specials for others. */
static struct span value_of(struct span name)
{
	static const char *const values[] = {"", "v", "<a href=\"x\">&'</a>", "1"};
	size_t h = name.n;
	for (size_t i = 0; i < name.n; i++)
		h = h * 31 + (unsigned char)name.p[i];
	return span_cstr(values[h % 4]);
}

static enum tpl_lookup_result bind_lookup(void *ctx, struct span name, struct span *value)
{
	(void)ctx;
	if (name.n > 0 && name.p[0] == 's')
		return TPL_LATER;
	*value = value_of(name);
	return TPL_VALUE;
}

static enum tpl_lookup_result final_lookup(void *ctx, struct span name, struct span *value)
{
	(void)ctx;
	*value = value_of(name);
	return TPL_VALUE;
}

static void check_plan(const struct tpl_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct tpl_piece *pc = &plan->pieces[i];
		switch (pc->kind) {
		case TP_TEXT:
			if (pc->text.n == 0 || (i > 0 && plan->pieces[i - 1].kind == TP_TEXT))
				abort();
			break;
		case TP_VAR:
			if (pc->text.n == 0 || pc->text.p[0] != 's')
				abort();
			break;
		case TP_SECTION:
		case TP_INVERTED:
			if (pc->end <= i || pc->end >= plan->n ||
			    plan->pieces[pc->end].kind != TP_END || plan->pieces[pc->end].end != i)
				abort();
			break;
		case TP_END:
			if (pc->end >= i)
				abort();
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	/* The first byte picks the context, the rest is the template. */
	enum tpl_escape esc = data[0] & 1 ? TPL_ESC_NONE : TPL_ESC_HTML;
	const char *src = (const char *)data + 1;
	struct tpl *t;
	struct lb_err err;
	if (tpl_compile("fuzz", src, size - 1, esc, &t, &err) != 0) {
		if (err.code != LB_EDATA || strncmp(err.msg, "fuzz:", 5) != 0)
			abort();
		return 0;
	}
	if (tpl_check(t, bind_lookup, NULL, NULL, NULL) != 0)
		abort();

	struct tpl_plan plan;
	struct buf staged = BUF_INIT, direct = BUF_INIT;
	if (tpl_bind(t, bind_lookup, NULL, &plan, &err) != 0)
		abort();
	check_plan(&plan);
	if (tpl_plan_render(&plan, final_lookup, NULL, &staged, &err) != 0 ||
	    tpl_render(t, final_lookup, NULL, &direct, &err) != 0)
		abort();
	if (staged.n != direct.n || memcmp(buf_cstr(&staged), buf_cstr(&direct), staged.n) != 0)
		abort();
	/* Without a single "{{" the template is its own output. */
	if (!memmem(src, size - 1, "{{", 2) &&
	    (direct.n != size - 1 || memcmp(buf_cstr(&direct), src, direct.n) != 0))
		abort();
	tpl_plan_free(&plan);
	buf_free(&staged);
	buf_free(&direct);
	tpl_free(t);
	return 0;
}
