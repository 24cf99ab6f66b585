/* Sign-up with double opt-in: the confirmed request's effects, the consent
 * records, the limits on confirmation mails (signup.h). */
#include "store/signup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/fsx.h"
#include "core/mem.h"
#include "core/timefmt.h"
#include "store/listedit.h"
#include "store/subscribers.h"
#include "store/suppressions.h"
#include "store/suppressions_int.h"

#define CONSENT_HEADER                                                                             \
	"# letterbox consent records: machine-written, append-only, never edit\n"                  \
	"# confirmed\trequested\tsource\tlist\taddress\tip-request\tip-confirm\tconsent-sha256\n"
#define LIMITS_HEADER "# letterbox sign-up limits: machine-written, pruned after a day\n"
#define NFIELDS	      8

/* ---- consent records ------------------------------------------------------------------ */

/* One field of a record: no tab, no line break, no control character. */
static void field(struct buf *b, const char *s)
{
	buf_addc(b, '\t');
	if (!s || !*s) {
		buf_addc(b, '-');
		return;
	}
	for (; *s; s++)
		buf_addc(b, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

/* Split line (without its '\n') at tabs into v[0..max); returns how many. */
static size_t split_tabs(struct span line, struct span *v, size_t max)
{
	size_t k = 0;
	const char *p = line.p, *end = line.p + line.n;
	while (k < max) {
		const char *t = memchr(p, '\t', (size_t)(end - p));
		v[k++] = (struct span){p, (size_t)((t ? t : end) - p)};
		if (!t)
			break;
		p = t + 1;
	}
	return k;
}

static char *dash_dup(struct span s)
{
	return span_eq(s, "-") ? xstrdup("") : span_dup(s);
}

int consents_load(const char *state_dir, struct consents *c, struct lb_err *err)
{
	memset(c, 0, sizeof *c);
	char *path = path_join(state_dir, "consent");
	struct buf text = BUF_INIT;
	int rc = fsx_read_state(path, &text, 256u << 20, err);
	if (rc == LB_ENOINPUT) {
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	size_t lineno = 0;
	const char *p = text.p, *end = text.p + text.n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		lineno++;
		if (!nl)
			break; /* torn by a crash: the record was never acknowledged */
		struct span line = {p, (size_t)(nl - p)}, f[NFIELDS + 1];
		p = nl + 1;
		if (!line.n || line.p[0] == '#')
			continue;
		struct consent r = {0};
		if (split_tabs(line, f, NFIELDS + 1) != NFIELDS ||
		    !sup_parse_when(f[0], &r.confirmed) || !sup_parse_when(f[1], &r.requested)) {
			rc = err_set(err, LB_EDATA, "%s:%zu: not a consent record", path, lineno);
			goto out;
		}
		r.source = span_dup(f[2]);
		r.list = span_dup(f[3]);
		r.address = span_dup(f[4]);
		r.ip_request = dash_dup(f[5]);
		r.ip_confirm = dash_dup(f[6]);
		r.hash = dash_dup(f[7]);
		c->v = xgrowarray(c->v, &c->cap, c->n + 1, sizeof *c->v);
		c->v[c->n++] = r;
	}
out:
	if (rc)
		consents_free(c);
	buf_free(&text);
	free(path);
	return rc;
}

void consents_free(struct consents *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct consent *r = &c->v[i];
		free(r->source);
		free(r->list);
		free(r->address);
		free(r->ip_request);
		free(r->ip_confirm);
		free(r->hash);
	}
	free(c->v);
	memset(c, 0, sizeof *c);
}

/* Whether this very request (address, list, time of request) was recorded. */
static bool consent_known(const struct consents *c, const struct confirm_req *r)
{
	char *key = addr_key(r->address);
	bool found = false;
	for (size_t i = 0; i < c->n && !found; i++) {
		char *k = addr_key(c->v[i].address);
		found = c->v[i].requested == r->requested && strcmp(c->v[i].list, r->list) == 0 &&
			strcmp(k, key) == 0;
		free(k);
	}
	free(key);
	return found;
}

static int consent_append(const char *state_dir, const struct confirm_req *r,
			  const char *confirm_ip, time_t now, struct lb_err *err)
{
	struct buf line = BUF_INIT;
	time_iso(&line, now);
	buf_addc(&line, '\t');
	time_iso(&line, r->requested);
	field(&line, r->source);
	field(&line, r->list);
	field(&line, r->address);
	field(&line, r->ip);
	field(&line, confirm_ip);
	field(&line, r->consent);
	buf_addc(&line, '\n');
	char *path = path_join(state_dir, "consent");
	int rc = sup_append(state_dir, path, CONSENT_HEADER, &line, err);
	free(path);
	buf_free(&line);
	return rc;
}

/* ---- confirming ----------------------------------------------------------------------- */

static int lock_subscribers(const char *state_dir, int *fd, struct lb_err *err)
{
	char *path = path_join(state_dir, "lock.subscribers");
	int rc = fsx_state_dir(state_dir, err);
	if (!rc)
		rc = fsx_lock(path, true, fd, err);
	free(path);
	return rc;
}

int signup_confirm(const char *site_dir, const char *state_dir, const struct confirm_req *r,
		   const char *confirm_ip, time_t now, struct signup_result *res,
		   struct lb_err *err)
{
	memset(res, 0, sizeof *res);
	if (!sublist_id_ok(r->list))
		return err_set(err, LB_EDATA, "sign-up for '%.64s': not a list name", r->list);
	struct addr a = {0};
	struct suppressions *sup = NULL;
	struct consents c = {0};
	struct buf rel = BUF_INIT, ev = BUF_INIT;
	char *path = NULL, *lists = path_join(site_dir, "subscribers");
	const char *why;
	int fd = -1, rc;
	if ((rc = addr_parse_spec(span_cstr(r->address), &a, err)))
		goto out;
	const char *name = r->name && *r->name ? r->name : NULL;
	if (name && !listedit_name_ok(name, &why))
		name = NULL; /* a name we cannot keep does not stop the sign-up */
	if ((rc = lock_subscribers(state_dir, &fd, err)))
		goto out;
	fsx_clean_tmp(lists); /* what an edit killed with -9 left half-written */
	buf_printf(&rel, "subscribers/%s.yaml", r->list);
	path = path_join(site_dir, rel.p);
	struct listedit_entry e = {a.spec, name};
	bool there;
	if ((rc = listedit_add_new(path, r->list, &e, &there, err)))
		goto out;
	res->added = !there;
	if ((rc = suppressions_load(state_dir, &sup, err)))
		goto out;
	const struct suppression *was = suppressions_get(sup, a.spec);
	if (was) {
		buf_printf(&ev, "confirmed sign-up (%s) to %s, after %s since ", r->source, r->list,
			   sup_reason_name(was->reason));
		time_iso(&ev, was->when);
		if ((rc = suppressions_add(sup, a.spec, SUP_RESUBSCRIBED, now, ev.p, err)))
			goto out;
		res->resubscribed = true;
	}
	if ((rc = consents_load(state_dir, &c, err)))
		goto out;
	if (!consent_known(&c, r)) {
		if ((rc = consent_append(state_dir, r, confirm_ip, now, err)))
			goto out;
		res->recorded = true;
	}
out:
	consents_free(&c);
	suppressions_free(sup);
	if (fd >= 0)
		close(fd);
	addr_free(&a);
	buf_free(&rel);
	buf_free(&ev);
	free(path);
	free(lists);
	return rc;
}

/* ---- limits --------------------------------------------------------------------------- */

struct hit {
	time_t when;
	char kind; /* 'a' address (per day), 'i' IP (per hour) */
	struct span key;
};

int signup_ratelimit(const char *state_dir, const char *address, const char *ip, time_t now,
		     long *retry_after, struct lb_err *err)
{
	*retry_after = 0;
	char *lock = path_join(state_dir, "lock.signup"),
	     *path = path_join(state_dir, "signup.limits");
	char *akey = addr_key(address);
	struct buf text = BUF_INIT, out = BUF_INIT;
	int fd = -1;
	int rc = fsx_state_dir(state_dir, err);
	if (!rc)
		rc = fsx_lock(lock, true, &fd, err);
	if (!rc && (rc = fsx_read_state(path, &text, 16u << 20, err)) == LB_ENOINPUT)
		rc = 0;
	if (rc)
		goto out;
	/* Keep the last day's hits; count ours and find the oldest that counts. */
	size_t na = 0, ni = 0;
	time_t oldest_a = now, oldest_i = now;
	buf_adds(&out, LIMITS_HEADER);
	const char *p = text.p ? text.p : "", *end = p + text.n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct span line = {p, (size_t)((nl ? nl : end) - p)}, f[3];
		p = nl ? nl + 1 : end;
		time_t when;
		if (!line.n || line.p[0] == '#' || split_tabs(line, f, 3) != 3 || f[1].n != 1 ||
		    !sup_parse_when(f[0], &when) || when <= now - 86400 || when > now + 300)
			continue; /* old, or not ours to keep */
		char kind = f[1].p[0];
		if (kind == 'a' && span_eq(f[2], akey)) {
			na++;
			oldest_a = when < oldest_a ? when : oldest_a;
		} else if (kind == 'i' && *ip && span_eq(f[2], ip) && when > now - 3600) {
			ni++;
			oldest_i = when < oldest_i ? when : oldest_i;
		} else if (kind == 'i' && when <= now - 3600) {
			continue;
		}
		buf_add(&out, line.p, line.n);
		buf_addc(&out, '\n');
	}
	if (na >= SIGNUP_PER_ADDRESS || ni >= SIGNUP_PER_IP) {
		long a = na >= SIGNUP_PER_ADDRESS ? (long)(oldest_a + 86400 - now) : 0;
		long i = ni >= SIGNUP_PER_IP ? (long)(oldest_i + 3600 - now) : 0;
		*retry_after = (a > i ? a : i) > 0 ? (a > i ? a : i) : 1;
		rc = err_set(err, LB_ETEMP, "too many sign-up requests");
		goto out;
	}
	struct buf stamp = BUF_INIT;
	time_iso(&stamp, now);
	buf_printf(&out, "%s\ta\t%s\n", stamp.p, akey);
	if (*ip && !strpbrk(ip, "\t\n"))
		buf_printf(&out, "%s\ti\t%s\n", stamp.p, ip);
	buf_free(&stamp);
	rc = fsx_write_atomic(path, out.p, out.n, 0600, err);
out:
	if (fd >= 0)
		close(fd);
	buf_free(&text);
	buf_free(&out);
	free(akey);
	free(lock);
	free(path);
	return rc;
}
