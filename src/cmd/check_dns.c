/* letterbox check --dns: what the From domain publishes for receivers to
 * authenticate our mail (SPF, DMARC, the DKIM selectors' keys), looked up
 * through the system resolver (res_nquery), and said in plain words.
 *
 * This is the one place letterbox asks DNS anything, and only when asked.
 * For tests, LETTERBOX_TEST_DNS=127.0.0.1:PORT sends the queries to that
 * server instead of resolv.conf's (tests/tools/dnsserver.py): test-only,
 * not a setting for sites.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/check_dns.h"
#include "compose/dkim.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/termsafe.h"

enum lookup { FOUND, NONE, BROKEN };

struct dns {
	struct __res_state rs;
	size_t problems, failures;
};

static int dns_open(struct dns *d, struct lb_err *err)
{
	memset(d, 0, sizeof *d);
	if (res_ninit(&d->rs) != 0)
		return err_set(err, LB_EUNAVAIL, "cannot set up the DNS resolver (resolv.conf)");
	d->rs.options |= RES_USE_EDNS0; /* an RSA key's record passes 512 octets */
	const char *test = getenv("LETTERBOX_TEST_DNS");
	if (test && *test) {
		char host[64];
		const char *colon = strrchr(test, ':');
		size_t n = colon ? (size_t)(colon - test) : strlen(test);
		long port = colon ? strtol(colon + 1, NULL, 10) : 53;
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		if (n >= sizeof host || port <= 0 || port > 65535)
			return err_set(err, LB_EUSAGE, "LETTERBOX_TEST_DNS: want 127.0.0.1:PORT");
		memcpy(host, test, n);
		host[n] = '\0';
		if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
			return err_set(err, LB_EUSAGE, "LETTERBOX_TEST_DNS: want 127.0.0.1:PORT");
		d->rs.nsaddr_list[0] = sa;
		d->rs.nscount = 1;
		d->rs.retrans = 1;
		d->rs.retry = 2;
	}
	return 0;
}

/* Room for the largest DNS message (one over TCP): a domain may publish
 * many TXT records (site verifications), and a smaller buffer gets a cut
 * answer whose length res_nquery reports as the whole one's. */
enum { ANS_MAX = 65535 };

/* The TXT records in the answer ans[0..n) (n: res_nquery's result) into out. */
static enum lookup parse_txt(struct dns *d, const unsigned char *ans, int n, char ***out,
			     struct buf *why)
{
	if (n > ANS_MAX) {
		buf_adds(why, "an answer too large for DNS");
		return BROKEN;
	}
	if (n < 0) {
		int h = d->rs.res_h_errno;
		if (h == HOST_NOT_FOUND || h == NO_DATA)
			return NONE;
		buf_printf(why, "%s",
			   h == TRY_AGAIN ? "no answer from the DNS server (timeout or "
					    "SERVFAIL)"
					  : "the DNS server refused the query");
		return BROKEN;
	}
	ns_msg msg;
	if (ns_initparse(ans, n, &msg) != 0) {
		buf_adds(why, "an answer that is not DNS");
		return BROKEN;
	}
	size_t k = 0;
	for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
		ns_rr rr;
		if (ns_parserr(&msg, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != ns_t_txt)
			continue;
		struct buf s = BUF_INIT;
		const unsigned char *p = ns_rr_rdata(rr), *end = p + ns_rr_rdlen(rr);
		while (p < end) {
			size_t len = *p++;
			if (len > (size_t)(end - p))
				len = (size_t)(end - p);
			buf_add(&s, p, len);
			p += len;
		}
		*out = xgrowarray(*out, &(size_t){0}, k + 2, sizeof **out);
		(*out)[k++] = buf_take(&s);
		(*out)[k] = NULL;
	}
	return k ? FOUND : NONE;
}

/* The TXT records at name, each as one string (its pieces joined), into
 * out (NULL-terminated).  NONE: the name or the record does not exist. */
static enum lookup txt(struct dns *d, const char *name, char ***out, struct buf *why)
{
	unsigned char *ans = xmalloc(ANS_MAX);
	*out = xcalloc(1, sizeof **out);
	int n = res_nquery(&d->rs, name, ns_c_in, ns_t_txt, ans, ANS_MAX);
	enum lookup r = parse_txt(d, ans, n, out, why);
	free(ans);
	return r;
}

static void free_list(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* The records among v that start with prefix (case-insensitively, followed
 * by a blank, ';' or the end). */
static size_t starting(char **v, const char *prefix, const char **first)
{
	size_t n = 0, len = strlen(prefix);
	*first = NULL;
	for (size_t i = 0; v[i]; i++)
		if (strncasecmp(v[i], prefix, len) == 0 &&
		    (v[i][len] == '\0' || v[i][len] == ' ' || v[i][len] == ';')) {
			if (!n)
				*first = v[i];
			n++;
		}
	return n;
}

/* The value of tag (e.g. "p") in a tag=value; list, blanks removed; NULL
 * when absent.  Caller frees. */
static char *tag_value(const char *rec, const char *tag)
{
	size_t tl = strlen(tag);
	for (const char *p = rec; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		const char *semi = strchr(p, ';');
		const char *end = semi ? semi : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (eq) {
			const char *k = p, *ke = eq;
			while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
				ke--;
			if ((size_t)(ke - k) == tl && strncasecmp(k, tag, tl) == 0) {
				struct buf v = BUF_INIT;
				for (const char *q = eq + 1; q < end; q++)
					if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n')
						buf_addc(&v, *q);
				return buf_take(&v);
			}
		}
		p = end;
	}
	return NULL;
}

static void say(const char *what, const char *name, const char *verdict, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void say(const char *what, const char *name, const char *verdict, const char *fmt, ...)
{
	/* The records are whatever a DNS server sent: made safe for the terminal
	 * (core/termsafe.h), on one line. */
	struct buf raw = BUF_INIT, safe = BUF_INIT;
	va_list ap;
	buf_printf(&raw, "%-6s %s: %s: ", what, name, verdict);
	va_start(ap, fmt);
	buf_vprintf(&raw, fmt, ap);
	va_end(ap);
	term_safe(&safe, raw.p, raw.n, 0);
	printf("%s\n", buf_cstr(&safe));
	buf_free(&raw);
	buf_free(&safe);
}

static void check_spf(struct dns *d, const char *domain)
{
	char **v;
	struct buf why = BUF_INIT;
	const char *rec;
	enum lookup r = txt(d, domain, &v, &why);
	size_t n = r == FOUND ? starting(v, "v=spf1", &rec) : 0;
	if (r == BROKEN) {
		say("SPF", domain, "UNKNOWN", "%s", why.p);
		d->failures++;
	} else if (n == 0) {
		say("SPF", domain, "MISSING",
		    "no SPF record, so receivers cannot tell which servers may send as %s. "
		    "Publish a TXT record such as \"v=spf1 mx -all\" naming your mail relay",
		    domain);
		d->problems++;
	} else if (n > 1) {
		say("SPF", domain, "BROKEN",
		    "%zu SPF records; receivers treat more than one as an error (RFC 7208 3.2): "
		    "merge them into one",
		    n);
		d->problems++;
	} else if (strcasestr(rec, "+all") ||
		   (strlen(rec) >= 4 && strcasecmp(rec + strlen(rec) - 4, " all") == 0)) {
		say("SPF", domain, "WEAK",
		    "\"%s\" lets every server on the internet send as %s: end it with -all "
		    "or ~all",
		    rec, domain);
		d->problems++;
	} else {
		say("SPF", domain, "ok",
		    "\"%s\" (make sure it covers the relay in outgoing.url: letterbox cannot "
		    "see which address your relay sends from)",
		    rec);
	}
	free_list(v);
	buf_free(&why);
}

/* relaxed alignment: one domain is the other or ends with "." + the other
 * (close to, not exactly, the organisational domain of RFC 7489 3.2). */
static bool aligned(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	if (na < nb)
		return aligned(b, a);
	return strcasecmp(a + na - nb, b) == 0 && (na == nb || a[na - nb - 1] == '.');
}

static void check_dmarc(struct dns *d, const char *domain, const char *dkim_domain)
{
	char **v, *name = NULL;
	struct buf why = BUF_INIT, nm = BUF_INIT;
	buf_printf(&nm, "_dmarc.%s", domain);
	name = buf_take(&nm);
	const char *rec;
	enum lookup r = txt(d, name, &v, &why);
	size_t n = r == FOUND ? starting(v, "v=DMARC1", &rec) : 0;
	if (r == BROKEN) {
		say("DMARC", name, "UNKNOWN", "%s", why.p);
		d->failures++;
	} else if (n == 0) {
		say("DMARC", name, "MISSING",
		    "no DMARC record; Gmail and Yahoo require one from bulk senders. Publish a "
		    "TXT record such as \"v=DMARC1; p=none; rua=mailto:postmaster@%s\" and "
		    "tighten p= once reports show your mail passes",
		    domain);
		d->problems++;
	} else if (n > 1) {
		say("DMARC", name, "BROKEN", "%zu DMARC records; receivers ignore them all", n);
		d->problems++;
	} else {
		char *p = tag_value(rec, "p"), *adkim = tag_value(rec, "adkim");
		bool strict = adkim && strcasecmp(adkim, "s") == 0;
		if (!p) {
			say("DMARC", name, "BROKEN", "\"%s\" has no p= policy", rec);
			d->problems++;
		} else if (dkim_domain && (strict ? strcasecmp(domain, dkim_domain) != 0
						  : !aligned(domain, dkim_domain))) {
			say("DMARC", name, "MISMATCH",
			    "letterbox signs as d=%s, which does not align with the From domain "
			    "%s%s: set dkim.domain to %s",
			    dkim_domain, domain, strict ? " (adkim=s: they must be equal)" : "",
			    domain);
			d->problems++;
		} else {
			say("DMARC", name, "ok", "\"%s\"%s", rec,
			    strcasecmp(p, "none") == 0
				? " (p=none only monitors: receivers are not asked to reject "
				  "forgeries)"
				: "");
		}
		free(p);
		free(adkim);
	}
	free_list(v);
	buf_free(&why);
	free(name);
}

static void check_selector(struct dns *d, const struct dkim *dk, size_t i, const char *file)
{
	struct buf pub = BUF_INIT, why = BUF_INIT, nm = BUF_INIT;
	const char *selector;
	enum dkim_alg alg;
	if (!dkim_public(dk, i, &pub, &selector, &alg))
		return;
	buf_printf(&nm, "%s._domainkey.%s", selector, dkim_domain(dk));
	char **v;
	const char *rec = NULL;
	enum lookup r = txt(d, nm.p, &v, &why);
	size_t n = 0;
	for (size_t k = 0; r == FOUND && v[k]; k++) {
		char *p = tag_value(v[k], "p");
		if (p) {
			rec = rec ? rec : v[k];
			n++;
		}
		free(p);
	}
	const char *want_k = alg == DKIM_RSA_SHA256 ? "rsa" : "ed25519";
	if (r == BROKEN) {
		say("DKIM", nm.p, "UNKNOWN", "%s", why.p);
		d->failures++;
	} else if (n == 0) {
		say("DKIM", nm.p, "MISSING",
		    "no key published for selector %s, so every signature fails. Publish "
		    "the TXT record `letterbox dkim keygen` printed for %s (%s)",
		    selector, file, dkim_alg_name(alg));
		d->problems++;
	} else if (n > 1) {
		say("DKIM", nm.p, "BROKEN", "%zu key records; verifiers give up on the selector",
		    n);
		d->problems++;
	} else {
		char *p = tag_value(rec, "p"), *k = tag_value(rec, "k");
		if (!*p) {
			say("DKIM", nm.p, "REVOKED",
			    "the record has an empty p=: the key is revoked. Make a new one with "
			    "another selector");
			d->problems++;
		} else if (strcasecmp(k ? k : "rsa", want_k) != 0) {
			say("DKIM", nm.p, "MISMATCH", "the record is for k=%s, but %s is an %s key",
			    k ? k : "rsa", file, dkim_alg_name(alg));
			d->problems++;
		} else if (strcmp(p, pub.p) != 0) {
			say("DKIM", nm.p, "MISMATCH",
			    "the published key is not the one in %s, so every signature fails. "
			    "Publish the record for this key (or point key_file at the right one)",
			    file);
			d->problems++;
		} else {
			say("DKIM", nm.p, "ok", "matches %s (%s)", file, dkim_alg_name(alg));
		}
		free(p);
		free(k);
	}
	free_list(v);
	buf_free(&pub);
	buf_free(&why);
	buf_free(&nm);
}

int check_dns(const struct config *cfg)
{
	struct dns d;
	struct lb_err err = {0};
	struct dkim *dk = NULL;
	if (dns_open(&d, &err) || dkim_open(cfg, &dk, &err)) {
		fprintf(stderr, "letterbox: %s\n", err.msg);
		return err.code;
	}
	const char *domain = cfg->from.domain;
	check_spf(&d, domain);
	check_dmarc(&d, domain, dk ? dkim_domain(dk) : NULL);
	if (!dk) {
		say("DKIM", domain, "OFF",
		    "letterbox does not sign (no dkim: in %s). Fine if your relay signs for "
		    "%s; if not, run `letterbox dkim keygen`",
		    cfg->file, domain);
	}
	for (size_t i = 0; dk && i < 2; i++)
		check_selector(&d, dk, i, cfg->dkim_keys[i].key_file);
	dkim_free(dk);
	res_nclose(&d.rs);
	if (d.problems)
		printf("dns: %zu thing%s to fix before receivers trust mail from %s\n", d.problems,
		       d.problems == 1 ? "" : "s", domain);
	else if (d.failures)
		printf("dns: could not look everything up; try again later\n");
	else
		printf("dns: all good for %s\n", domain);
	return d.problems ? LB_EDATA : d.failures ? LB_EUNAVAIL : 0;
}
