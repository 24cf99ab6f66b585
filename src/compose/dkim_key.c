/* DKIM keys: reading, pooling per thread, making new ones (compose/dkim.h). */
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <nettle/base64.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compose/dkim_int.h"
#include "core/fsx.h"
#include "core/mem.h"

void dkim_add_base64(struct buf *out, const uint8_t *p, size_t n)
{
	size_t len = BASE64_ENCODE_RAW_LENGTH(n);
	if (!buf_grow(out, len + 1))
		return;
	base64_encode_raw(out->p + out->n, n, p);
	out->n += len;
	out->p[out->n] = '\0';
}

/* ---- keys ------------------------------------------------------------------------------ */

int dkim_import_key(const struct dkim_sig *s, gnutls_privkey_t *out, struct lb_err *err)
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
			dkim_add_base64(out, der.data, der.size);
	} else if (g >= 0) {
		gnutls_ecc_curve_t curve;
		g = gnutls_pubkey_export_ecc_raw2(pub, &curve, &x, NULL, 0);
		if (g >= 0)
			dkim_add_base64(out, x.data, x.size);
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
	if (pem_len)
		memcpy(s->pem.data, pem, pem_len);
	s->pem.data[pem_len] = 0;
	s->pem.size = (unsigned)pem_len;
	pthread_mutex_init(&s->mu, NULL);
	gnutls_privkey_t k = NULL;
	int rc = dkim_import_key(s, &k, err);
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

/* Whether this process is in group gid (its own or a supplementary one). */
static bool in_group(gid_t gid)
{
	if (gid == getegid())
		return true;
	gid_t v[256];
	int n = getgroups(256, v);
	for (int i = 0; i < n; i++)
		if (v[i] == gid)
			return true;
	return false;
}

/* The key file as a password file is read: ours, regular, not a link, 0600.
 * In a shared-group state/ (core/fsx.h: the web server's user and cron's
 * are two users in one group, and both send mail: confirmations, and
 * newsletters) the key may be the group's to read, 0640, as the secret may
 * be there; never writable by the group nor readable by others. */
static int read_key_file(const char *path, struct buf *pem, struct lb_err *err)
{
	struct stat st;
	bool shared = fsx_group_mode();
	if (lstat(path, &st) != 0)
		return err_sys(err, LB_ECONFIG, "%s: cannot read the DKIM key", path);
	if (!S_ISREG(st.st_mode))
		return err_set(err, LB_ECONFIG, "%s: the DKIM key is not a regular file", path);
	if (st.st_mode & (shared ? 027 : 077))
		return err_set(err, LB_ECONFIG,
			       "%s: the DKIM key has mode %04o; it must be %s or stricter "
			       "(chmod %s %s)",
			       path, (unsigned)(st.st_mode & 07777), shared ? "0640" : "0600",
			       shared ? "640" : "600", path);
	if (shared && (st.st_mode & 040) && !in_group(st.st_gid))
		return err_set(err, LB_ECONFIG,
			       "%s: the DKIM key is readable by group %u, not the shared group "
			       "of state/",
			       path, (unsigned)st.st_gid);
	if (st.st_uid != geteuid() && !(shared && in_group(st.st_gid)))
		return err_set(err, LB_ECONFIG,
			       "%s: the DKIM key is owned by uid %u, not by the user running "
			       "letterbox (uid %u)",
			       path, (unsigned)st.st_uid, (unsigned)geteuid());
	/* O_NOFOLLOW: a link swapped in after the lstat is refused too. */
	int rc = fsx_read_state(path, pem, 1 << 16, err);
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
