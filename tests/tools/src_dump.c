/* src_dump: open a mail source (receive/source.h) from a URL, fetch what is
 * after a cursor and print one line per message, the way `letterbox poll`
 * drives it.  The IMAP end-to-end test uses it.
 *
 *   src_dump [-u user] [-P password_file] [-E password_env] [-a ca_file] [-k]
 *            [-m max_size] [-b batch] [-c UIDVALIDITY:LAST_UID] [-d folder | -D]
 *            [-o dir] [-w seconds [-p ms]] [-S site_dir] [-v] URL
 *
 *   -k  tls: none        -d  source_done into folder after each message
 *   -D  source_done without a folder               -o  write each message to dir/ID.eml
 *   -w  then source_wait (prints "# waiting", then "# waited SECONDS") and
 *       fetch again after the messages seen, as the poller's loop does
 *   -p  pause ms between the first fetch and the wait
 *
 * Output: "# uidvalidity N", then per message "UID SIZE TRUNCATED MESSAGE-ID"
 * (UID is the file name for Maildir; TRUNCATED 0 or 1; "-" without a
 * Message-ID), then "# count N last_uid U" (after each fetch).  Exit status:
 * 0 or the source's error code, with the message on stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "receive/source.h"

#ifdef SRC_DUMP_STUB_TRANSPORTS
/* Built without the SMTP and Maildir transports (transport.c names them). */
#include "deliver/transport.h"
int smtp_open(const struct transport_opts *o, struct transport **t, struct lb_err *err)
{
	(void)o, (void)t;
	return err_set(err, LB_ESOFTWARE, "src_dump has no transports");
}
int maildir_out_open(const struct transport_opts *o, struct transport **t, struct lb_err *err)
{
	(void)o, (void)t;
	return err_set(err, LB_ESOFTWARE, "src_dump has no transports");
}
int smtp_check(const struct transport_opts *o, struct lb_err *err)
{
	(void)o;
	return err_set(err, LB_ESOFTWARE, "src_dump has no transports");
}
#endif

struct run {
	struct msg_source *src;
	const char *folder;
	bool done;
	const char *out_dir;
	size_t count;
	uint32_t last_uid;
	struct lb_err err;
};

static bool number(const char *s, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	if (!s || !*s || *s == '-')
		return false;
	*out = strtoul(s, &end, 10);
	return *end == '\0' && *out <= max;
}

/* The Message-ID header's value in the header part of raw, or "-". */
static struct span message_id(const char *raw, size_t n)
{
	struct span line = {raw, 0};
	for (size_t i = 0; i <= n; i++) {
		if (i < n && raw[i] != '\n')
			continue;
		line.n = (size_t)(raw + i - line.p);
		struct span t = span_trim(line);
		if (t.n == 0)
			break;
		if (span_starts_with_ci(t, "message-id:"))
			return span_trim((struct span){t.p + 11, t.n - 11});
		line.p = raw + i + 1;
	}
	return SPAN_LIT("-");
}

static int write_copy(struct run *r, const struct src_msg *m)
{
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/%s.eml", r->out_dir, m->uid ? m->id + 4 : m->id);
	FILE *f = fopen(path.p, "wb");
	int rc = 0;
	if (!f || fwrite(m->raw, 1, m->n, f) != m->n)
		rc = err_sys(&r->err, LB_EIO, "%s", path.p);
	if (f && fclose(f) != 0 && !rc)
		rc = err_sys(&r->err, LB_EIO, "%s", path.p);
	buf_free(&path);
	return rc;
}

static int on_msg(void *ctx, const struct src_msg *m)
{
	struct run *r = ctx;
	struct span id = message_id(m->raw, m->n);
	if (m->uid)
		printf("%u %zu %d %.*s\n", m->uid, m->size, m->truncated, (int)id.n, id.p);
	else
		printf("%s %zu %d %.*s\n", m->id, m->size, m->truncated, (int)id.n, id.p);
	r->count++;
	if (m->uid > r->last_uid)
		r->last_uid = m->uid;
	int rc = r->out_dir ? write_copy(r, m) : 0;
	if (!rc && r->done)
		rc = source_done(r->src, m, r->folder, &r->err);
	return rc;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: src_dump [-u user] [-P password_file] [-E password_env] [-a "
			"ca_file] [-k] [-m max_size] [-b batch] [-c UIDVALIDITY:LAST_UID] [-d "
			"folder | -D] [-o dir] [-w seconds] [-S site_dir] [-v] URL\n");
	exit(LB_EUSAGE);
}

int main(int argc, char **argv)
{
	struct endpoint ep = {.tls = TLS_REQUIRED, .max_size = 25u << 20};
	struct cursor cur = {0, 0};
	struct run r = {0};
	unsigned long batch = 100, wait_s = 0, pause_ms = 0, v = 0;
	const char *site = ".";
	int opt;
	while ((opt = getopt(argc, argv, "u:P:E:a:km:b:c:d:Do:w:p:S:v")) != -1) {
		switch (opt) {
		case 'u':
			ep.username = optarg;
			break;
		case 'P':
			ep.password_file = optarg;
			break;
		case 'E':
			ep.password_env = optarg;
			break;
		case 'a':
			ep.ca_file = optarg;
			break;
		case 'k':
			ep.tls = TLS_NONE;
			break;
		case 'm':
			if (!number(optarg, SIZE_MAX, &v))
				usage();
			ep.max_size = v;
			break;
		case 'b':
			if (!number(optarg, 100000, &batch) || !batch)
				usage();
			break;
		case 'c': {
			const char *colon = strchr(optarg, ':');
			char *first = colon ? xstrndup(optarg, (size_t)(colon - optarg)) : NULL;
			unsigned long a = 0, b = 0;
			bool ok = first && number(first, UINT32_MAX, &a) &&
				  number(colon + 1, UINT32_MAX, &b);
			free(first);
			if (!ok)
				usage();
			cur = (struct cursor){(uint32_t)a, (uint32_t)b};
			break;
		}
		case 'd':
			r.folder = optarg, r.done = true;
			break;
		case 'D':
			r.folder = NULL, r.done = true;
			break;
		case 'o':
			r.out_dir = optarg;
			break;
		case 'w':
			if (!number(optarg, 86400, &wait_s))
				usage();
			break;
		case 'p':
			if (!number(optarg, 60000, &pause_ms))
				usage();
			break;
		case 'S':
			site = optarg;
			break;
		case 'v':
			log_verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc)
		usage();
	ep.url = argv[optind];
	setvbuf(stdout, NULL, _IOLBF, 0);

	int rc = source_open(&ep, site, &r.src, &r.err);
	if (rc)
		goto out;
	printf("# uidvalidity %u\n", source_uidvalidity(r.src));
	rc = source_fetch(r.src, &cur, batch, on_msg, &r, &r.err);
	printf("# count %zu last_uid %u\n", r.count, r.last_uid);
	if (rc || !wait_s)
		goto out;
	struct timespec pause = {(time_t)(pause_ms / 1000), (long)(pause_ms % 1000) * 1000000};
	nanosleep(&pause, NULL);
	printf("# waiting\n");
	double t0 = now_s();
	if ((rc = source_wait(r.src, (int)wait_s, &r.err)))
		goto out;
	printf("# waited %.2f\n", now_s() - t0);
	cur.uidvalidity = source_uidvalidity(r.src);
	if (r.last_uid > cur.last_uid)
		cur.last_uid = r.last_uid;
	rc = source_fetch(r.src, &cur, batch, on_msg, &r, &r.err);
	printf("# count %zu last_uid %u\n", r.count, r.last_uid);
out:
	source_close(r.src);
	if (rc)
		fprintf(stderr, "src_dump: %s\n", r.err.msg[0] ? r.err.msg : "failed");
	return rc;
}
