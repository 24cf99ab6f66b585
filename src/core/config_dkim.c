#include "core/config_dkim.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define CFG LB_ECONFIG

/* A selector or domain label: letters, digits, '-', '_' and dots between. */
static bool dns_name_ok(const char *s)
{
	if (!*s || *s == '.' || s[strlen(s) - 1] == '.')
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		      (*p == '.' && p[1] != '.')))
			return false;
	return true;
}

static int load_key(struct ydoc *d, yaml_node_t *n, const char *what, bool second,
		    struct dkim_key_cfg *k, struct lb_err *err)
{
	static const char *const first_keys[] = {"domain",    "selector", "key_file",
						 "algorithm", "second",	  NULL};
	static const char *const second_keys[] = {"selector", "key_file", "algorithm", NULL};
	int rc = ymap_check(d, n, what, second ? second_keys : first_keys, CFG, err);
	if (rc)
		return rc;
	yaml_node_t *sel = ymap_get(d, n, "selector"), *alg = ymap_get(d, n, "algorithm");
	if ((rc = yget_str(d, sel, "selector", &k->selector, CFG, err)) ||
	    (rc = yget_str(d, ymap_get(d, n, "key_file"), "key_file", &k->key_file, CFG, err)) ||
	    (rc = yget_str(d, alg, "algorithm", &k->algorithm, CFG, err)))
		return rc;
	if (!k->selector)
		return yreq(d, n, what, "selector", CFG, err);
	if (!k->key_file)
		return yreq(d, n, what, "key_file", CFG, err);
	if (!dns_name_ok(k->selector))
		return yerr(d, sel, CFG, err,
			    "'%s.selector': \"%s\" is not a DNS label (letters, digits, '-', '_')",
			    what, k->selector);
	if (!k->algorithm)
		k->algorithm = xstrdup("rsa-sha256");
	else if (strcmp(k->algorithm, "rsa-sha256") != 0 &&
		 strcmp(k->algorithm, "ed25519-sha256") != 0)
		return yerr(d, alg, CFG, err,
			    "'%s.algorithm': \"%s\" is not rsa-sha256 or ed25519-sha256", what,
			    k->algorithm);
	return 0;
}

int config_load_dkim(struct ydoc *d, yaml_node_t *n, struct config *c, struct lb_err *err)
{
	int rc = load_key(d, n, "dkim", false, &c->dkim_keys[0], err);
	yaml_node_t *dom = ymap_get(d, n, "domain"), *sec = ymap_get(d, n, "second");
	if (!rc)
		rc = yget_str(d, dom, "domain", &c->dkim_domain, CFG, err);
	if (rc)
		return rc;
	if (c->dkim_domain && !dns_name_ok(c->dkim_domain))
		return yerr(d, dom, CFG, err, "'dkim.domain': \"%s\" is not a domain name",
			    c->dkim_domain);
	if (!c->dkim_domain && c->from.domain)
		c->dkim_domain = xstrdup(c->from.domain);
	if (sec && (rc = load_key(d, sec, "dkim.second", true, &c->dkim_keys[1], err)))
		return rc;
	if (sec && strcmp(c->dkim_keys[0].selector, c->dkim_keys[1].selector) == 0)
		return yerr(d, sec, CFG, err,
			    "'dkim.second' must have a selector of its own (both are \"%s\")",
			    c->dkim_keys[0].selector);
	return 0;
}

void config_free_dkim(struct config *c)
{
	free(c->dkim_domain);
	for (size_t i = 0; i < 2; i++) {
		free(c->dkim_keys[i].selector);
		free(c->dkim_keys[i].key_file);
		free(c->dkim_keys[i].algorithm);
	}
}
