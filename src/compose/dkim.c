#include "compose/dkim.h"

#include <gnutls/gnutls.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compose/dkim_int.h"
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

/* ---- body hash (RFC 6376 3.4.4) ----------------------------------------------------------- */

void dkim_body_init(struct dkim_body *b)
{
	memset(b, 0, offsetof(struct dkim_body, stage));
	b->capture = NULL;
	sha256_init(&b->sha);
}

/* Canonical bytes are gathered and hashed in blocks: a line end or a blank
 * is then a byte copied, not a call into the hash. */
static void emit(struct dkim_body *b, size_t n, const uint8_t *p)
{
	if (b->capture) { /* dkim_piece_prepare: keep the canonical bytes */
		buf_add(b->capture, p, n);
		return;
	}
	if (b->nstage + n > sizeof b->stage) {
		sha256_update(&b->sha, b->nstage, b->stage);
		b->nstage = 0;
	}
	if (n >= sizeof b->stage) {
		sha256_update(&b->sha, n, p);
		return;
	}
	memcpy(b->stage + b->nstage, p, n);
	b->nstage += n;
}

/* Before a byte that is not a blank or a line end: the line ends and the
 * blank run held back are real. */
static void body_flush(struct dkim_body *b)
{
	static const char crlfs[] = "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";
	while (b->crlfs) {
		size_t k = b->crlfs < 8 ? b->crlfs : 8;
		emit(b, 2 * k, (const uint8_t *)crlfs);
		b->crlfs -= k;
	}
	if (b->blank)
		emit(b, 1, (const uint8_t *)" ");
	b->blank = false;
	b->midline = b->any = true;
}

/* The bytes relaxed canonicalisation may change: SP, HTAB, CR. */
static const bool special[256] = {[' '] = true, ['\t'] = true, ['\r'] = true};

/* How far from p the bytes are their own canonical form (given nothing held
 * back before p): no HTAB, a space only before an ordinary byte, a CRLF
 * only before an ordinary byte (so the line end is real). */
static const char *clean_run(const char *p, const char *end)
{
	const char *q = p;
	for (;;) {
		while (q < end && !special[(uint8_t)*q])
			q++;
		if (end - q >= 2 && *q == ' ' && !special[(uint8_t)q[1]])
			q += 2;
		else if (end - q >= 3 && q[0] == '\r' && q[1] == '\n' && !special[(uint8_t)q[2]])
			q += 3;
		else
			return q;
	}
}

void dkim_body_update(struct dkim_body *b, const char *p, size_t n)
{
	const char *end = p + n;
	while (p < end) {
		if (!b->cr && !b->blank) {
			/* Fast path: bytes that are their own canonical form, hashed
			 * in one piece.  In quoted-printable text that is nearly all. */
			const char *q = clean_run(p, end);
			if (q > p) {
				body_flush(b);
				emit(b, (size_t)(q - p), (const uint8_t *)p);
				p = q;
				continue;
			}
		}
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
			emit(b, 1, (const uint8_t *)"\r");
		}
		if (c == ' ' || c == '\t') {
			b->blank = true;
			p++;
		} else if (c == '\r') {
			b->cr = true;
			p++;
		} else {
			body_flush(b); /* the blank run before it: one SP; on with the fast path */
		}
	}
}

void dkim_body_final(struct dkim_body *b, uint8_t hash[SHA256_DIGEST_SIZE])
{
	if (b->cr) {
		body_flush(b);
		emit(b, 1, (const uint8_t *)"\r");
	}
	/* A last line without its CRLF gets one; empty lines at the end go. */
	if (b->midline || (b->crlfs && b->any))
		emit(b, 2, (const uint8_t *)"\r\n");
	sha256_update(&b->sha, b->nstage, b->stage);
	b->nstage = 0;
	sha256_digest(&b->sha, SHA256_DIGEST_SIZE, hash);
}

/* SP, HTAB, CR, LF: a piece's ends, up to its first and from its last other byte. */
static bool edge(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void dkim_piece_prepare(const char *p, size_t n, struct buf *store, struct dkim_piece *pc)
{
	size_t lead = 0, tail = 0;
	while (lead < n && edge(p[lead]))
		lead++;
	while (tail < n - lead && edge(p[n - 1 - tail]))
		tail++;
	*pc = (struct dkim_piece){lead, tail, store->n, 0};
	if (lead == n)
		return;
	/* The middle starts and ends with an ordinary byte: nothing before it can
	 * change how it reads, and it leaves nothing held back. */
	struct dkim_body b;
	dkim_body_init(&b);
	b.capture = store;
	dkim_body_update(&b, p + lead, n - lead - tail);
	pc->n = store->n - pc->off;
}

void dkim_body_update_piece(struct dkim_body *b, const char *p, size_t n,
			    const struct dkim_piece *pc, const char *canon)
{
	if (pc->lead == n) {
		dkim_body_update(b, p, n);
		return;
	}
	dkim_body_update(b, p, pc->lead);
	if (b->cr) { /* a CR before an ordinary byte is one itself */
		b->cr = false;
		body_flush(b);
		emit(b, 1, (const uint8_t *)"\r");
	}
	body_flush(b);
	emit(b, pc->n, (const uint8_t *)canon);
	dkim_body_update(b, p + n - pc->tail, pc->tail);
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
	if (!k && (rc = dkim_import_key(s, &k, err)))
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
		dkim_add_base64(b64, sig.data, sig.size);
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
	dkim_add_base64(&tag, bh, SHA256_DIGEST_SIZE);
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
