/* Certificate chain and host name verification with GnuTLS (tlsverify.h). */
#include "receive/tlsverify.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core/mem.h"

/* More than any real chain; a longer one is refused rather than truncated. */
enum { CHAIN_MAX = 16 };

bool tls_host_is_ip(const char *host)
{
	unsigned char a[16];
	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* The DNS names and IP addresses the certificate is for, for the message
 * that says it is not for our host ("localhost, 127.0.0.1"). */
static void cert_names(gnutls_x509_crt_t crt, char *out, size_t outsz)
{
	size_t used = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < 8 && used + 1 < outsz; i++) {
		char name[256];
		size_t n = sizeof name - 1;
		int type = gnutls_x509_crt_get_subject_alt_name(crt, i, name, &n, NULL);
		if (type < 0)
			break;
		char text[INET6_ADDRSTRLEN];
		const char *shown = NULL;
		if (type == GNUTLS_SAN_DNSNAME) {
			name[n] = '\0';
			shown = name;
		} else if (type == GNUTLS_SAN_IPADDRESS && (n == 4 || n == 16)) {
			shown = inet_ntop(n == 4 ? AF_INET : AF_INET6, name, text, sizeof text);
		}
		if (!shown)
			continue;
		int w = snprintf(out + used, outsz - used, "%s%s", used ? ", " : "", shown);
		if (w < 0)
			break;
		used += (size_t)w < outsz - used ? (size_t)w : outsz - used - 1;
	}
	if (!used) {
		size_t n = outsz;
		if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, out, &n) <
		    0)
			snprintf(out, outsz, "no host names");
	}
}

static int explain(unsigned status, gnutls_x509_crt_t leaf, const char *host, const char *what,
		   struct lb_err *err)
{
	if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
		return err_set(err, LB_ECONFIG,
			       "%s: the server's TLS certificate is not trusted (self-signed or "
			       "signed by an unknown CA); if you trust it, name it (or the CA that "
			       "signed it) in %s.ca_file",
			       host, what);
	if (status & GNUTLS_CERT_EXPIRED)
		return err_set(err, LB_ECONFIG, "%s: the server's TLS certificate has expired",
			       host);
	if (status & GNUTLS_CERT_NOT_ACTIVATED)
		return err_set(
		    err, LB_ECONFIG,
		    "%s: the server's TLS certificate is not valid yet (check the clock)", host);
	if (status & GNUTLS_CERT_UNEXPECTED_OWNER) {
		char names[512];
		cert_names(leaf, names, sizeof names);
		return err_set(
		    err, LB_ECONFIG,
		    "%s: the server's TLS certificate is for %s, not for this host name; "
		    "use a name the certificate lists in %s.url",
		    host, names, what);
	}
	gnutls_datum_t text = {NULL, 0};
	gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0);
	err_set(err, LB_ECONFIG, "%s: the server's TLS certificate is not trusted: %s", host,
		text.data ? (const char *)text.data : "verification failed");
	gnutls_free(text.data);
	return LB_ECONFIG;
}

static int load_trust(gnutls_x509_trust_list_t tl, const char *ca_file, const char *what,
		      struct lb_err *err)
{
	/* The system store may be empty or missing (a minimal container):
	 * then only ca_file can vouch, which is the right failure mode. */
	(void)gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (!ca_file)
		return 0;
	if (access(ca_file, R_OK) != 0)
		return err_sys(err, LB_ECONFIG, "%s.ca_file %s", what, ca_file);
	int added =
	    gnutls_x509_trust_list_add_trust_file(tl, ca_file, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
	if (added <= 0)
		return err_set(err, LB_ECONFIG, "%s.ca_file %s: no PEM certificate in it%s%s", what,
			       ca_file, added < 0 ? ": " : "",
			       added < 0 ? gnutls_strerror(added) : "");
	return 0;
}

int tls_verify_chain(const struct span *chain, size_t n, const char *host, const char *ca_file,
		     const char *what, struct lb_err *err)
{
	if (n == 0)
		return err_set(err, LB_ECONFIG, "%s: the server sent no TLS certificate", host);
	if (n > CHAIN_MAX)
		return err_set(err, LB_ECONFIG,
			       "%s: the server sent a chain of %zu certificates; refusing more "
			       "than %d",
			       host, n, CHAIN_MAX);
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_x509_crt_t crts[CHAIN_MAX] = {0};
	size_t ncrts = 0;
	int rc = 0;
	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		return err_set(err, LB_ESOFTWARE, "cannot set up certificate verification");
	if ((rc = load_trust(tl, ca_file, what, err)))
		goto out;
	for (; ncrts < n; ncrts++) {
		gnutls_datum_t der = {(unsigned char *)(uintptr_t)chain[ncrts].p,
				      (unsigned)chain[ncrts].n};
		if (gnutls_x509_crt_init(&crts[ncrts]) < 0) {
			rc = err_set(err, LB_ESOFTWARE, "cannot set up certificate verification");
			goto out;
		}
		if (gnutls_x509_crt_import(crts[ncrts], &der, GNUTLS_X509_FMT_DER) < 0) {
			ncrts++;
			rc = err_set(err, LB_ECONFIG,
				     "%s: the server sent a TLS certificate that cannot be parsed",
				     host);
			goto out;
		}
	}
	/* The host name (or textual IP address) and the purpose, as a web
	 * browser checks them: RFC 6125 matching, serverAuth if EKU is present. */
	gnutls_typed_vdata_st data[2] = {
	    {GNUTLS_DT_DNS_HOSTNAME, (unsigned char *)(uintptr_t)host, 0},
	    {GNUTLS_DT_KEY_PURPOSE_OID, (unsigned char *)(uintptr_t)GNUTLS_KP_TLS_WWW_SERVER, 0},
	};
	unsigned status = 0;
	int r = gnutls_x509_trust_list_verify_crt2(tl, crts, (unsigned)ncrts, data, 2, 0, &status,
						   NULL);
	if (r < 0)
		rc = err_set(err, LB_ECONFIG, "%s: cannot verify the server's TLS certificate: %s",
			     host, gnutls_strerror(r));
	else if (status)
		rc = explain(status, crts[0], host, what, err);
out:
	for (size_t i = 0; i < ncrts; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_x509_trust_list_deinit(tl, 1);
	return rc;
}

int tls_verify_stream(mailstream *stream, const char *host, const char *ca_file, const char *what,
		      struct lb_err *err)
{
	carray *chain = mailstream_get_certificate_chain(stream);
	if (!chain)
		return err_set(err, LB_ECONFIG, "%s: the server sent no TLS certificate", host);
	size_t n = carray_count(chain);
	struct span *v = xcalloc(n ? n : 1, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		MMAPString *der = carray_get(chain, (unsigned)i);
		v[i] = (struct span){der->str, der->len};
	}
	int rc = tls_verify_chain(v, n, host, ca_file, what, err);
	free(v);
	mailstream_certificate_chain_free(chain);
	return rc;
}

/* Called by libetpan between gnutls_init and the handshake. */
void tls_set_sni(struct mailstream_ssl_context *ctx, void *data)
{
	char *host = data;
	if (!tls_host_is_ip(host))
		mailstream_ssl_set_server_name(ctx, host);
}
