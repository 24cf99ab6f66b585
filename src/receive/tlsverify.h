/* Server certificate checks for connections whose TLS library does not make
 * them.  libetpan 1.9.4 (GnuTLS build) completes the handshake without
 * looking at the chain or the host name, so the IMAP source hands the chain
 * the server presented to tls_verify_chain() before it sends anything.
 * The handshake itself proved that the server holds the leaf's private key;
 * what is left is whether a trusted CA vouches for that key and name.
 */
#ifndef LB_TLSVERIFY_H
#define LB_TLSVERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include <libetpan/libetpan.h>

#include "core/buf.h"
#include "core/err.h"

/* Verify chain[0..n) (DER, the server's certificate first) for host (a DNS
 * name or a textual IP address, matched against the subjectAltName per RFC
 * 6125) against the system trust store plus ca_file (PEM, may be NULL).
 * `what` names the setting for messages ("incoming").  Returns 0, or
 * LB_ECONFIG with a message saying why (untrusted, wrong host, expired) and
 * what to do about it. */
int tls_verify_chain(const struct span *chain, size_t n, const char *host, const char *ca_file,
		     const char *what, struct lb_err *err);

/* tls_verify_chain() on the chain a libetpan TLS stream's server sent. */
int tls_verify_stream(mailstream *stream, const char *host, const char *ca_file, const char *what,
		      struct lb_err *err);

/* For libetpan's *_ssl_connect_with_callback (data: the host name, a
 * char *): sets SNI, unless host is an IP address (RFC 6066 section 3). */
void tls_set_sni(struct mailstream_ssl_context *ctx, void *data);

/* True when host is a textual IPv4 or IPv6 address. */
bool tls_host_is_ip(const char *host);

#endif
