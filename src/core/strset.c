#include "core/strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static size_t slot(const struct strset *s, const char *key)
{
	size_t mask = s->cap - 1;
	size_t i = (size_t)hash(key) & mask;
	while (s->keys[i] && strcmp(s->keys[i], key) != 0)
		i = (i + 1) & mask;
	return i;
}

static void grow(struct strset *s)
{
	struct strset bigger = {0};
	bigger.cap = s->cap ? s->cap * 2 : 64;
	bigger.keys = xcalloc(bigger.cap, sizeof *bigger.keys);
	bigger.vals = xcalloc(bigger.cap, sizeof *bigger.vals);
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->keys[i])
			continue;
		size_t j = slot(&bigger, s->keys[i]);
		bigger.keys[j] = s->keys[i];
		bigger.vals[j] = s->vals[i];
	}
	free(s->keys);
	free(s->vals);
	s->keys = bigger.keys;
	s->vals = bigger.vals;
	s->cap = bigger.cap;
}

bool strset_add(struct strset *s, const char *key, void *val, void **old)
{
	/* keep the load under 1/2: probes stay short */
	if ((s->n + 1) * 2 > s->cap)
		grow(s);
	size_t i = slot(s, key);
	if (s->keys[i]) {
		if (old)
			*old = s->vals[i];
		return false;
	}
	s->keys[i] = key;
	s->vals[i] = val;
	s->n++;
	return true;
}

static const char *intern(struct strset *s, const char *key)
{
	size_t n = strlen(key) + 1;
	if (n > s->room) {
		size_t size = n > 65536 ? n : 65536;
		s->blocks = xrealloc(s->blocks, (s->nblocks + 1) * sizeof *s->blocks);
		s->blocks[s->nblocks++] = xmalloc(size);
		s->used = 0;
		s->room = size;
	}
	char *p = s->blocks[s->nblocks - 1] + s->used;
	memcpy(p, key, n);
	s->used += n;
	s->room -= n;
	return p;
}

bool strset_add_copy(struct strset *s, const char *key, void *val, void **old)
{
	if (!strset_add(s, key, val, old))
		return false;
	/* Point the new entry at a copy of its key. */
	size_t i = slot(s, key);
	s->keys[i] = intern(s, key);
	return true;
}

void *strset_get(const struct strset *s, const char *key, bool *found)
{
	if (!s->cap) {
		if (found)
			*found = false;
		return NULL;
	}
	size_t i = slot(s, key);
	if (found)
		*found = s->keys[i] != NULL;
	return s->keys[i] ? s->vals[i] : NULL;
}

void strset_set(struct strset *s, const char *key, void *val)
{
	if (!s->cap)
		return;
	size_t i = slot(s, key);
	if (s->keys[i])
		s->vals[i] = val;
}

void strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->nblocks; i++)
		free(s->blocks[i]);
	free(s->blocks);
	free(s->keys);
	free(s->vals);
	memset(s, 0, sizeof *s);
}
