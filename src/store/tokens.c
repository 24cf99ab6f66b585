/* Token -> address, by recomputing the tokens of every known address. */
#include "store/tokens.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsx.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strset.h"
#include "store/subscribers.h"

/* fn once per address: the same people are in every campaign's snapshot,
 * and a token no one has (a forged one) is tried against all of them. */
struct once {
	tokens_address_fn fn;
	void *ctx;
	struct strset seen;
};

static int once_address(void *ctx, const char *address)
{
	struct once *o = ctx;
	if (!strset_add_copy(&o->seen, address, NULL, NULL))
		return 0;
	return o->fn(o->ctx, address);
}

static int list_entry(void *ctx, const struct subscriber *s)
{
	return once_address(ctx, s->email);
}

/* A snapshot's "R<TAB>address<TAB>…" lines; text is modified. */
static int snapshot_walk(struct buf *text, tokens_address_fn fn, void *ctx)
{
	char *p = text->p, *end = text->p + text->n;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		*nl = '\0';
		if (p[0] == 'R' && p[1] == '\t') {
			char *tab = strchr(p + 2, '\t');
			if (tab)
				*tab = '\0';
			int rc = fn(ctx, p + 2);
			if (rc)
				return rc;
		}
		p = nl + 1;
	}
	return 0;
}

/* Campaign snapshots first, newest first: whoever clicks an unsubscribe
 * link is in the snapshot of the newsletter that carried it, and a snapshot
 * line costs far less to read than a YAML list entry (bench/web). */
static int walk_snapshots(const struct config *cfg, tokens_address_fn fn, void *ctx)
{
	int rc = 0;
	char *cdir = path_join(cfg->state_dir, "campaigns");
	char **camps = fsx_list(cdir, "");
	size_t n = 0;
	while (camps && camps[n])
		n++;
	/* slugs start with their date: the last in name order is the newest */
	for (size_t i = n; i-- > 0 && !rc;) {
		char *snap = path_join(camps[i], "recipients");
		struct buf text = BUF_INIT;
		struct lb_err err = {0};
		int r = fsx_read_state(snap, &text, 0, &err);
		if (r && r != LB_ENOINPUT)
			log_warn("%s", err.msg);
		if (r == 0)
			rc = snapshot_walk(&text, fn, ctx);
		buf_free(&text);
		free(snap);
	}
	fsx_list_free(camps);
	free(cdir);
	return rc;
}

int tokens_each_address(const struct config *cfg, tokens_address_fn fn, void *ctx)
{
	struct once w = {fn, ctx, STRSET_INIT};
	int rc = walk_snapshots(cfg, once_address, &w);
	char **paths = rc ? NULL : sublist_paths(cfg->site_dir);
	for (char **p = paths; p && *p && !rc; p++) {
		struct lb_err err = {0};
		int r = sublist_stream_file(*p, NULL, NULL, list_entry, NULL, &w, NULL, &err);
		/* fn's own stop is passed on; a list that cannot be read or is
		 * not valid YAML just ends its walk (`letterbox check` reports it) */
		if (r > 0 && !err.code)
			rc = r;
	}
	fsx_list_free(paths);
	strset_free(&w.seen);
	return rc;
}

/* ---- one look-up ---------------------------------------------------------------------------- */

struct find {
	struct token_maker maker;
	char want[TOKEN_LEN + 1];
	char *found;
};

static int find_one(void *ctx, const char *address)
{
	struct find *f = ctx;
	char tok[TOKEN_LEN + 1];
	token_maker_make(&f->maker, address, tok);
	if (memcmp(tok, f->want, TOKEN_LEN) != 0)
		return 0;
	f->found = xstrdup(address);
	return 1;
}

char *tokens_find(const struct config *cfg, const struct secret *s, const char *token)
{
	struct find f = {.found = NULL};
	token_maker_init(&f.maker, s, cfg->list_id);
	if (!token_parse(token, strlen(token), f.want))
		return NULL; /* no address has it: nothing to read */
	tokens_each_address(cfg, find_one, &f);
	return f.found;
}

/* ---- an index ------------------------------------------------------------------------------- */

struct token_index {
	const struct config *cfg;
	const struct secret *secret;
	struct token_maker maker;
	struct strset tokens; /* token -> address */
	char **addresses;     /* what the values point at */
	size_t n, cap;
};

static int index_one(void *ctx, const char *address)
{
	struct token_index *ix = ctx;
	char tok[TOKEN_LEN + 1];
	token_maker_make(&ix->maker, address, tok);
	char *copy = xstrdup(address);
	if (strset_add_copy(&ix->tokens, tok, copy, NULL)) {
		ix->addresses =
		    xgrowarray(ix->addresses, &ix->cap, ix->n + 1, sizeof *ix->addresses);
		ix->addresses[ix->n++] = copy;
	} else {
		free(copy);
	}
	return 0;
}

struct token_index *token_index_build(const struct config *cfg, const struct secret *s)
{
	struct token_index *ix = xcalloc(1, sizeof *ix);
	ix->cfg = cfg;
	ix->secret = s;
	token_maker_init(&ix->maker, s, cfg->list_id);
	tokens_each_address(cfg, index_one, ix);
	return ix;
}

const char *token_index_get(const struct token_index *ix, const char *token)
{
	return strset_get(&ix->tokens, token, NULL);
}

size_t token_index_size(const struct token_index *ix)
{
	return ix->n;
}

void token_index_free(struct token_index *ix)
{
	if (!ix)
		return;
	strset_free(&ix->tokens);
	for (size_t i = 0; i < ix->n; i++)
		free(ix->addresses[i]);
	free(ix->addresses);
	free(ix);
}
