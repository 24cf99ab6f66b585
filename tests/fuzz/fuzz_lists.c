/* Fuzz the subscriber-list readers against each other: where the fast scan
 * (store/listscan.h) reads a list, libyaml's reader (sublist_stream) must
 * load it too and keep the same subscribers, in the same order.  And the
 * edit: wherever a list loads, an entry appended to it (listedit_append_text)
 * is refused with a message, or checked (listedit_verify) and then really
 * the old list plus the entry. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/buf.h"
#include "store/listedit.h"
#include "store/listscan.h"
#include "store/subscribers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_lists: %s:%d: %s\n", __FILE__, __LINE__, #cond);     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The scan's entries as the loader keeps them (store/subscribers.c). */
static int from_scan(void *ctx, const struct listscan_entry *e)
{
	struct addr a;
	struct lb_err err;
	if (!e->email || e->nul || addr_parse_spec((struct span){e->email, e->email_len}, &a, &err))
		return 0;
	bool ok = true;
	for (const char *c = e->name; c && *c; c++)
		ok &= (unsigned char)*c >= 0x20 && *c != 0x7f;
	if (ok) {
		bool named = e->name && span_trim(span_cstr(e->name)).n;
		buf_printf(ctx, "%s|%s|%zu\n", a.spec, named ? e->name : "-", e->nfields);
	}
	addr_free(&a);
	return 0;
}

static int count(void *ctx, const struct subscriber *s)
{
	(void)s;
	++*(size_t *)ctx;
	return 0;
}

static int from_yaml(void *ctx, const struct subscriber *s)
{
	buf_printf(ctx, "%s|%s|%zu\n", s->email, s->name ? s->name : "-", s->nfields);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct listscan scan;
	struct lb_err err = {0};
	struct span text = {(const char *)data, size};
	int rc = listscan_text(text, from_scan, &a, &scan);
	REQUIRE(rc == 0 || rc == LISTSCAN_OTHER);
	if (rc == 0) {
		REQUIRE(memchr(data, '\0', size) == NULL);
		int yrc = sublist_stream("f.yaml", text.p, text.n, NULL, NULL, from_yaml, NULL, &b,
					 NULL, &err);
		if (yrc)
			fprintf(stderr, "fuzz_lists: scanned, but libyaml says: %s\n", err.msg);
		REQUIRE(yrc == 0);
		if (strcmp(buf_cstr(&a), buf_cstr(&b)) != 0)
			fprintf(stderr, "fuzz_lists: scan:\n%s\nlibyaml:\n%s\n", buf_cstr(&a),
				buf_cstr(&b));
		REQUIRE(strcmp(buf_cstr(&a), buf_cstr(&b)) == 0);
		REQUIRE(scan.ins <= size && scan.entries > 0);
	}
	/* An edit that verifies must really be the old list plus the entry:
	 * checked here by counting what libyaml reads of both. */
	buf_reset(&b);
	size_t before = 0, after = 0;
	if (sublist_stream("f.yaml", text.p, text.n, NULL, NULL, count, NULL, &before, NULL,
			   &err) == 0) {
		static const struct listedit_entry add = {"new@example.org", "New: \"One\""};
		struct buf out = BUF_INIT;
		if (listedit_append_text("f.yaml", text, &add, 1, &out, &err) == 0 &&
		    listedit_verify("f.yaml", text, buf_span(&out), &add, 1, &err) == 0) {
			REQUIRE(sublist_stream("f.yaml", out.p, out.n, NULL, NULL, count, NULL,
					       &after, NULL, &err) == 0);
			REQUIRE(after == before + 1);
		} else {
			REQUIRE(err.code == LB_EDATA && err.msg[0]);
		}
		buf_free(&out);
	}
	buf_free(&a);
	buf_free(&b);
	return 0;
}
