#include "compose/dkim.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <nettle/base64.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsx.h"
#include "core/mem.h"

/* The fields signed, in this order (RFC 6376 5.4.1; RFC 8058 3.3 for the
 * List-Unsubscribe pair). */
static const char *const signed_fields[] = {
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
};
#define NSIGNED (sizeof signed_fields / sizeof signed_fields[0])

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

bool dkim_alg_parse(const char *name, enum dkim_alg *alg)
{
	if (strcmp(name, "rsa-sha256") == 0)
		*alg = DKIM_RSA_SHA256;
	else if (strcmp(name, "ed25519-sha256") == 0)
		*alg = DKIM_ED25519_SHA256;
	else
		return false;
	return true;
}

const char *dkim_alg_name(enum dkim_alg alg)
{
	return alg == DKIM_RSA_SHA256 ? "rsa-sha256" : "ed25519-sha256";
}

static void add_base64(struct buf *out, const uint8_t *p, size_t n)
{
	size_t len = BASE64_ENCODE_RAW_LENGTH(n);
	if (!buf_grow(out, len + 1))
		return;
	base64_encode_raw(out->p + out->n, n, p);
	out->n += len;
	out->p[out->n] = '\0';
}

/* ---- keys ------------------------------------------------------------------------------ */

static int import_key(const struct dkim_sig *s, gnutls_privkey_t *out, struct lb_err *err)
{
	gnutls_privkey_t k;
	int g = gnutls_privkey_init(&k);
	if (g >= 0)
		g = gnutls_privkey_import_x509_raw(k, &s->pem, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (g < 0) {
		if (g != GNUTLS_E_MEMORY_ERROR)
			gnutls_privkey_deinit(k);
		return err_set(err, LB_ECONFIG, "not a PEM private key (%s)", gnutls_strerror(g));
	}
	*out = k;
	return 0;
}

/* The p= of the DNS record: RSA's SubjectPublicKeyInfo (RFC 6376 3.6.1),
 * Ed25519's 32 raw bytes (RFC 8463 4). */
static int public_of(gnutls_privkey_t k, enum dkim_alg alg, struct buf *out, struct lb_err *err)
{
	gnutls_pubkey_t pub;
	gnutls_datum_t der = {0}, x = {0};
	int g = gnutls_pubkey_init(&pub);
	if (g < 0)
		return err_set(err, LB_ESOFTWARE, "gnutls: %s", gnutls_strerror(g));
	g = gnutls_pubkey_import_privkey(pub, k, 0, 0);
	if (g >= 0 && alg == DKIM_RSA_SHA256) {
		g = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der);
		if (g >= 0)
			add_base64(out, der.data, der.size);
	} else if (g >= 0) {
		gnutls_ecc_curve_t curve;
		g = gnutls_pubkey_export_ecc_raw2(pub, &curve, &x, NULL, 0);
		if (g >= 0)
			add_base64(out, x.data, x.size);
	}
	gnutls_free(der.data);
	gnutls_free(x.data);
	gnutls_pubkey_deinit(pub);
	if (g < 0)
		return err_set(err, LB_ESOFTWARE, "gnutls: %s", gnutls_strerror(g));
	return 0;
}

static int sig_init(struct dkim_sig *s, const char *selector, enum dkim_alg alg, const char *pem,
		    size_t pem_len, struct lb_err *err)
{
	memset(s, 0, sizeof *s);
	s->selector = xstrdup(selector);
	s->alg = alg;
	s->pem.data = xmalloc(pem_len + 1);
	memcpy(s->pem.data, pem, pem_len);
	s->pem.data[pem_len] = 0;
	s->pem.size = (unsigned)pem_len;
	pthread_mutex_init(&s->mu, NULL);
	gnutls_privkey_t k;
	int rc = import_key(s, &k, err);
	if (rc)
		return rc;
	unsigned bits = 0;
	int pk = gnutls_privkey_get_pk_algorithm(k, &bits);
	if (alg == DKIM_RSA_SHA256 && pk != GNUTLS_PK_RSA)
		rc = err_set(err, LB_ECONFIG, "not an RSA key, but algorithm is rsa-sha256");
	else if (alg == DKIM_RSA_SHA256 && bits < 1024)
		rc = err_set(err, LB_ECONFIG,
			     "an RSA key of %u bits; verifiers ignore keys under 1024 bits "
			     "(RFC 8301): make a 2048-bit one",
			     bits);
	else if (alg == DKIM_ED25519_SHA256 && pk != GNUTLS_PK_EDDSA_ED25519)
		rc =
		    err_set(err, LB_ECONFIG, "not an Ed25519 key, but algorithm is ed25519-sha256");
	struct buf pub = BUF_INIT;
	if (!rc)
		rc = public_of(k, alg, &pub, err);
	s->public_b64 = buf_take(&pub);
	s->pool = xgrowarray(s->pool, &s->poolcap, 1, sizeof *s->pool);
	s->pool[s->npool++] = k;
	return rc;
}

static void sig_free(struct dkim_sig *s)
{
	for (size_t i = 0; i < s->npool; i++)
		gnutls_privkey_deinit(s->pool[i]);
	free(s->pool);
	if (s->pem.data) {
		memset(s->pem.data, 0, s->pem.size);
		free(s->pem.data);
	}
	free(s->public_b64);
	free(s->selector);
	pthread_mutex_destroy(&s->mu);
}

int dkim_open_pem(const char *domain, const char *selector, enum dkim_alg alg, const char *pem,
		  size_t pem_len, struct dkim **out, struct lb_err *err)
{
	struct dkim *d = xcalloc(1, sizeof *d);
	d->domain = xstrdup(domain);
	*out = NULL;
	int rc = dkim_add_pem(d, selector, alg, pem, pem_len, err);
	if (rc) {
		dkim_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

int dkim_add_pem(struct dkim *d, const char *selector, enum dkim_alg alg, const char *pem,
		 size_t pem_len, struct lb_err *err)
{
	if (d->nsig == 2)
		return err_set(err, LB_ECONFIG, "at most two DKIM signatures");
	int rc = sig_init(&d->sig[d->nsig], selector, alg, pem, pem_len, err);
	d->nsig++; /* freed by dkim_free either way */
	return rc;
}

void dkim_free(struct dkim *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nsig; i++)
		sig_free(&d->sig[i]);
	free(d->domain);
	free(d);
}

/* The key file as a password file is read: ours, regular, not a link, 0600. */
static int read_key_file(const char *path, struct buf *pem, struct lb_err *err)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return err_sys(err, LB_ECONFIG, "%s: cannot read the DKIM key", path);
	if (!S_ISREG(st.st_mode))
		return err_set(err, LB_ECONFIG, "%s: the DKIM key is not a regular file", path);
	if (st.st_mode & 077)
		return err_set(err, LB_ECONFIG,
			       "%s: the DKIM key has mode %04o; it must be 0600 or stricter "
			       "(chmod 600 %s)",
			       path, (unsigned)(st.st_mode & 07777), path);
	if (st.st_uid != geteuid())
		return err_set(err, LB_ECONFIG,
			       "%s: the DKIM key is owned by uid %u, not by the user running "
			       "letterbox (uid %u)",
			       path, (unsigned)st.st_uid, (unsigned)geteuid());
	int rc = fsx_read(path, pem, 1 << 16, err);
	if (rc)
		return err_set(err, LB_ECONFIG, "%s", err->msg);
	return 0;
}

int dkim_open(const struct config *cfg, struct dkim **out, struct lb_err *err)
{
	*out = NULL;
	if (!cfg->dkim_keys[0].selector)
		return 0;
	struct dkim *d = xcalloc(1, sizeof *d);
	d->domain = xstrdup(cfg->dkim_domain ? cfg->dkim_domain : cfg->from.domain);
	int rc = 0;
	for (size_t i = 0; i < 2 && !rc && cfg->dkim_keys[i].selector; i++) {
		const struct dkim_key_cfg *k = &cfg->dkim_keys[i];
		enum dkim_alg alg = DKIM_RSA_SHA256;
		if (k->algorithm && !dkim_alg_parse(k->algorithm, &alg))
			rc = err_set(err, LB_ECONFIG, "dkim: unknown algorithm \"%s\"",
				     k->algorithm);
		char *path = config_path(cfg, k->key_file);
		struct buf pem = BUF_INIT;
		if (!rc)
			rc = read_key_file(path, &pem, err);
		if (!rc && (rc = dkim_add_pem(d, k->selector, alg, pem.p, pem.n, err)))
			err_prefix(err, "%s", path);
		if (pem.p)
			memset(pem.p, 0, pem.n);
		buf_free(&pem);
		free(path);
	}
	if (rc) {
		dkim_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

const char *dkim_domain(const struct dkim *d)
{
	return d->domain;
}

bool dkim_public(const struct dkim *d, size_t i, struct buf *p, const char **selector,
		 enum dkim_alg *alg)
{
	if (i >= d->nsig)
		return false;
	buf_adds(p, d->sig[i].public_b64);
	*selector = d->sig[i].selector;
	*alg = d->sig[i].alg;
	return true;
}

/* ---- body hash (RFC 6376 3.4.4) ----------------------------------------------------------- */

void dkim_body_init(struct dkim_body *b)
{
	memset(b, 0, sizeof *b);
	sha256_init(&b->sha);
}

/* Before a byte that is not a blank or a line end: the line ends and the
 * blank run held back are real. */
static void body_flush(struct dkim_body *b)
{
	static const char crlfs[] = "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";
	while (b->crlfs) {
		size_t k = b->crlfs < 8 ? b->crlfs : 8;
		sha256_update(&b->sha, 2 * k, (const uint8_t *)crlfs);
		b->crlfs -= k;
	}
	if (b->blank)
		sha256_update(&b->sha, 1, (const uint8_t *)" ");
	b->blank = false;
	b->midline = b->any = true;
}

void dkim_body_update(struct dkim_body *b, const char *p, size_t n)
{
	const char *end = p + n;
	while (p < end) {
		char c = *p;
		if (b->cr) {
			b->cr = false;
			if (c == '\n') { /* a line end: blanks before it do not count */
				b->blank = false;
				b->midline = false;
				b->crlfs++;
				p++;
				continue;
			}
			body_flush(b); /* a lone CR is an ordinary byte */
			sha256_update(&b->sha, 1, (const uint8_t *)"\r");
		}
		if (c == ' ' || c == '\t') {
			b->blank = true;
			p++;
		} else if (c == '\r') {
			b->cr = true;
			p++;
		} else {
			/* A run of ordinary bytes, hashed in one call. */
			const char *q = p + 1;
			while (q < end && *q != ' ' && *q != '\t' && *q != '\r')
				q++;
			body_flush(b);
			sha256_update(&b->sha, (size_t)(q - p), (const uint8_t *)p);
			p = q;
		}
	}
}

void dkim_body_final(struct dkim_body *b, uint8_t hash[SHA256_DIGEST_SIZE])
{
	if (b->cr) {
		body_flush(b);
		sha256_update(&b->sha, 1, (const uint8_t *)"\r");
	}
	/* A last line without its CRLF gets one; empty lines at the end go. */
	if (b->midline || (b->crlfs && b->any))
		sha256_update(&b->sha, 2, (const uint8_t *)"\r\n");
	sha256_digest(&b->sha, SHA256_DIGEST_SIZE, hash);
}

/* ---- header fields (RFC 6376 3.4.2) ------------------------------------------------------ */

struct field {
	const char *p;
	size_t n;     /* the whole field with its CRLF */
	size_t nname; /* the name, without blanks before the colon */
	bool used;
};

static size_t split_fields(const char *head, size_t n, struct field **out, size_t *cap)
{
	size_t k = 0;
	const char *p = head, *end = head + n;
	while (p < end) {
		const char *q = p;
		/* The field runs to a CRLF not followed by a blank (a folded line). */
		for (;;) {
			const char *lf = memchr(q, '\n', (size_t)(end - q));
			q = lf ? lf + 1 : end;
			if (q >= end || (*q != ' ' && *q != '\t'))
				break;
		}
		const char *colon = memchr(p, ':', (size_t)(q - p));
		if (colon) {
			*out = xgrowarray(*out, cap, k + 1, sizeof **out);
			size_t nn = (size_t)(colon - p);
			while (nn && (p[nn - 1] == ' ' || p[nn - 1] == '\t'))
				nn--;
			(*out)[k++] = (struct field){p, (size_t)(q - p), nn, false};
		}
		p = q;
	}
	return k;
}

static bool name_is(const struct field *f, const char *name)
{
	return strlen(name) == f->nname && strncasecmp(f->p, name, f->nname) == 0;
}

/* name:value with the name lower-cased, the value unfolded, blank runs made
 * one space, blanks at both ends of the value gone. */
static void canon_field(struct buf *out, const char *p, size_t n, size_t nname, bool crlf)
{
	for (size_t i = 0; i < nname; i++)
		buf_addc(out, (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]));
	buf_addc(out, ':');
	const char *v = memchr(p, ':', n);
	v = v ? v + 1 : p + n;
	const char *end = p + n;
	bool blank = false, started = false;
	for (; v < end; v++) {
		char c = *v;
		if (c == '\r' || c == '\n')
			continue;
		if (c == ' ' || c == '\t') {
			blank = true;
			continue;
		}
		if (blank && started)
			buf_addc(out, ' ');
		blank = false;
		started = true;
		buf_addc(out, c);
	}
	if (crlf)
		buf_add(out, "\r\n", 2);
}

static void sha256_ctx_hash(const char *p, size_t n, uint8_t out[SHA256_DIGEST_SIZE])
{
	struct sha256_ctx c;
	sha256_init(&c);
	sha256_update(&c, n, (const uint8_t *)p);
	sha256_digest(&c, SHA256_DIGEST_SIZE, out);
}

/* ---- the signature field ------------------------------------------------------------------ */

/* Appends text to the field being built, folding before it when the line
 * would pass 76 octets. */
static void fold_add(struct buf *out, size_t *col, const char *sep, const char *text)
{
	size_t need = strlen(sep) + strlen(text);
	if (*col + need > 76 && *col > 1) {
		buf_adds(out, "\r\n\t");
		*col = 1;
		sep = "";
	}
	buf_adds(out, sep);
	buf_adds(out, text);
	*col += strlen(sep) + strlen(text);
}

static int sign_hash(const struct dkim_sig *cs, const uint8_t h[SHA256_DIGEST_SIZE],
		     struct buf *b64, struct lb_err *err)
{
	/* Only this function touches the pool; the struct stays logically const. */
	struct dkim_sig *s = (struct dkim_sig *)(uintptr_t)cs;
	gnutls_privkey_t k = NULL;
	pthread_mutex_lock(&s->mu);
	if (s->npool)
		k = s->pool[--s->npool];
	pthread_mutex_unlock(&s->mu);
	int rc = 0;
	if (!k && (rc = import_key(s, &k, err)))
		return rc;
	gnutls_datum_t hd = {(unsigned char *)(uintptr_t)h, SHA256_DIGEST_SIZE}, sig = {0};
	/* RSA: PKCS#1 v1.5 over the hash (GnuTLS adds the DigestInfo);
	 * Ed25519: PureEdDSA over the hash, as RFC 8463 3 says. */
	int g = s->alg == DKIM_RSA_SHA256
		    ? gnutls_privkey_sign_hash2(k, GNUTLS_SIGN_RSA_SHA256, 0, &hd, &sig)
		    : gnutls_privkey_sign_data2(k, GNUTLS_SIGN_EDDSA_ED25519, 0, &hd, &sig);
	if (g < 0)
		rc = err_set(err, LB_ESOFTWARE, "DKIM signing failed: %s", gnutls_strerror(g));
	else
		add_base64(b64, sig.data, sig.size);
	gnutls_free(sig.data);
	pthread_mutex_lock(&s->mu);
	s->pool = xgrowarray(s->pool, &s->poolcap, s->npool + 1, sizeof *s->pool);
	s->pool[s->npool++] = k;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int sign_one(const struct dkim *d, const struct dkim_sig *s, struct field *f, size_t nf,
		    const uint8_t bh[SHA256_DIGEST_SIZE], time_t now, struct buf *out,
		    struct lb_err *err)
{
	struct buf data = BUF_INIT, h = BUF_INIT, tag = BUF_INIT;
	size_t start = out->n, col;
	for (size_t i = 0; i < nf; i++)
		f[i].used = false;
	/* Each listed name once per occurrence, bottom-up (RFC 6376 5.4.2),
	 * From once more: that instance matches nothing and seals the set. */
	for (size_t k = 0; k < NSIGNED; k++) {
		bool from = k == 0;
		for (;;) {
			struct field *hit = NULL;
			for (size_t i = nf; i-- > 0;)
				if (!f[i].used && name_is(&f[i], signed_fields[k])) {
					hit = &f[i];
					break;
				}
			if (!hit && !from)
				break;
			buf_printf(&h, "%s%s", h.n ? ":" : "", signed_fields[k]);
			if (!hit)
				break;
			hit->used = true;
			canon_field(&data, hit->p, hit->n, hit->nname, true);
		}
	}
	buf_printf(out, "DKIM-Signature: v=1; a=%s; c=relaxed/relaxed;", dkim_alg_name(s->alg));
	col = out->n - start;
	buf_printf(&tag, "d=%s;", d->domain);
	fold_add(out, &col, " ", tag.p);
	buf_reset(&tag);
	buf_printf(&tag, "s=%s;", s->selector);
	fold_add(out, &col, " ", tag.p);
	buf_reset(&tag);
	buf_printf(&tag, "t=%lld;", (long long)now);
	fold_add(out, &col, " ", tag.p);
	/* h= folds between names. */
	const char *names = h.p;
	for (bool first = true; *names; first = false) {
		const char *colon = strchr(names, ':');
		size_t len = colon ? (size_t)(colon - names) : strlen(names);
		buf_reset(&tag);
		buf_printf(&tag, "%s%.*s%s", first ? "h=" : "", (int)len, names, colon ? ":" : ";");
		fold_add(out, &col, first ? " " : "", tag.p);
		names += len + (colon ? 1 : 0);
	}
	buf_reset(&tag);
	buf_adds(&tag, "bh=");
	add_base64(&tag, bh, SHA256_DIGEST_SIZE);
	buf_addc(&tag, ';');
	fold_add(out, &col, " ", tag.p);
	buf_adds(out, "\r\n\tb=");
	/* The field as signed: b= empty, no CRLF at its end (RFC 6376 3.7). */
	canon_field(&data, out->p + start, out->n - start, strlen("DKIM-Signature"), false);
	uint8_t hh[SHA256_DIGEST_SIZE];
	sha256_ctx_hash(data.p, data.n, hh);
	buf_reset(&tag);
	int rc = sign_hash(s, hh, &tag, err);
	for (size_t i = 0; !rc && i < tag.n; i += 72) {
		if (i)
			buf_adds(out, "\r\n\t");
		buf_add(out, tag.p + i, tag.n - i < 72 ? tag.n - i : 72);
	}
	buf_adds(out, "\r\n");
	if (rc)
		buf_truncate(out, out->n - start);
	buf_free(&data);
	buf_free(&h);
	buf_free(&tag);
	return rc;
}

int dkim_sign_head(const struct dkim *d, const char *head, size_t n,
		   const uint8_t bh[SHA256_DIGEST_SIZE], time_t now, struct buf *out,
		   struct lb_err *err)
{
	struct field *f = NULL;
	size_t cap = 0, nf = split_fields(head, n, &f, &cap);
	int rc = 0;
	/* The Ed25519 one last, so that it is first in the message: verifiers
	 * that know it read it first. */
	for (size_t i = d->nsig; !rc && i-- > 0;)
		rc = sign_one(d, &d->sig[i], f, nf, bh, now, out, err);
	free(f);
	return rc;
}

int dkim_sign(const struct dkim *d, struct buf *msg, time_t now, struct lb_err *err)
{
	const char *sep = msg->n ? memmem(msg->p, msg->n, "\r\n\r\n", 4) : NULL;
	if (!sep)
		return err_set(err, LB_EDATA, "DKIM: the message has no end of header");
	size_t nhead = (size_t)(sep - msg->p) + 2;
	struct dkim_body b;
	dkim_body_init(&b);
	dkim_body_update(&b, sep + 4, msg->n - nhead - 2);
	uint8_t bh[SHA256_DIGEST_SIZE];
	dkim_body_final(&b, bh);
	struct buf out = BUF_INIT;
	buf_init(&out, msg->max);
	int rc = dkim_sign_head(d, msg->p, nhead, bh, now, &out, err);
	if (!rc) {
		buf_add(&out, msg->p, msg->n);
		buf_free(msg);
		*msg = out;
	} else {
		buf_free(&out);
	}
	return rc;
}

int dkim_sign_site(const struct config *cfg, struct buf *msg, time_t now, struct lb_err *err)
{
	struct dkim *d;
	int rc = dkim_open(cfg, &d, err);
	if (!rc && d)
		rc = dkim_sign(d, msg, now, err);
	dkim_free(d);
	return rc;
}

/* ---- keygen ---------------------------------------------------------------------------- */

int dkim_keygen(enum dkim_alg alg, struct buf *pem, struct buf *record, struct lb_err *err)
{
	gnutls_x509_privkey_t k;
	gnutls_datum_t out = {0};
	int g = gnutls_x509_privkey_init(&k);
	if (g < 0)
		return err_set(err, LB_ESOFTWARE, "gnutls: %s", gnutls_strerror(g));
	if (alg == DKIM_RSA_SHA256)
		g = gnutls_x509_privkey_generate(k, GNUTLS_PK_RSA, 2048, 0);
	else
		g = gnutls_x509_privkey_generate(k, GNUTLS_PK_EDDSA_ED25519,
						 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519), 0);
	if (g >= 0)
		g = gnutls_x509_privkey_export2_pkcs8(k, GNUTLS_X509_FMT_PEM, NULL,
						      GNUTLS_PKCS_PLAIN, &out);
	gnutls_x509_privkey_deinit(k);
	if (g < 0)
		return err_set(err, LB_ESOFTWARE, "cannot make a key: %s", gnutls_strerror(g));
	buf_add(pem, out.data, out.size);
	memset(out.data, 0, out.size);
	gnutls_free(out.data);
	/* Read back as letterbox will read it: the record is what it will sign with. */
	struct dkim *d;
	int rc = dkim_open_pem("example.invalid", "s", alg, pem->p, pem->n, &d, err);
	if (rc)
		return rc;
	buf_printf(record, "v=DKIM1; k=%s; p=%s", alg == DKIM_RSA_SHA256 ? "rsa" : "ed25519",
		   d->sig[0].public_b64);
	dkim_free(d);
	return 0;
}
