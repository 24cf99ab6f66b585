/* Inside the DKIM module: dkim.c (canonicalisation, signing) and
 * dkim_key.c (keys) share these. */
#ifndef LB_DKIM_INT_H
#define LB_DKIM_INT_H

#include <gnutls/abstract.h>
#include <pthread.h>

#include "compose/dkim.h"

/* One signature: a selector and its key.  GnuTLS documents its objects as
 * safe when one thread uses one object at a time, so the key is imported
 * once per thread that signs at the same time and the copies are pooled. */
struct dkim_sig {
	char *selector;
	enum dkim_alg alg;
	gnutls_datum_t pem;
	char *public_b64;
	pthread_mutex_t mu;
	gnutls_privkey_t *pool;
	size_t npool, poolcap;
};

struct dkim {
	char *domain;
	struct dkim_sig sig[2];
	size_t nsig;
};

/* Append base64 of p[0..n) to out. */
void dkim_add_base64(struct buf *out, const uint8_t *p, size_t n);
/* A fresh key object from s's PEM (each signing thread needs its own). */
int dkim_import_key(const struct dkim_sig *s, gnutls_privkey_t *out, struct lb_err *err);

#endif
