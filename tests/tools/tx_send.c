/* tx_send: send COUNT generated messages to URL through the transport API,
 * the way the campaign does (fill capacity, wait, resubmit what comes back
 * OUT_NOT_SENT), and print one line per outcome plus a summary.  The e2e
 * tests and the transport benchmark use it.
 *
 *   tx_send [-c conns] [-r rate] [-s size] [-f from] [-p prefix] [-d domain]
 *           [-u user] [-P password_file] [-E password_env] [-a ca_file] [-n]
 *           [-T timeout_s] [-R resubmits] [-g gate_ms] [-x shut_i] [-q] [-v] URL COUNT
 *
 * Recipient i is PREFIX<i>@DOMAIN (rcpt0@example.net, ...).  -g gives every
 * job a commit gate that opens after gate_ms milliseconds (as the campaign's
 * waits for its journal); -x makes the gate of recipient shut_i stay shut.  Outcome lines:
 *   KIND RCPT CODE STATUS|- TEXT
 * Summary (last line):
 *   summary sent=N deferred=N failed=N uncertain=N not_sent=N resubmitted=N
 *           seconds=S msg_per_s=R
 * Exit status: 0, or the code transport_open / transport_wait returned.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "deliver/transport.h"

#ifdef TX_SEND_STUB_MAILDIR
/* Built without deliver/maildir_out.c: this tool only speaks SMTP. */
int maildir_out_open(const struct transport_opts *o, struct transport **t, struct lb_err *err)
{
	(void)o, (void)t;
	return err_set(err, LB_ECONFIG, "tx_send was built without the maildir transport");
}
#endif

struct slot {
	struct run *r;
	struct message msg;
	struct iovec iov[2];
	struct tx_job job;
	char *head;
	char *rcpt;
	unsigned attempts;
};

struct run {
	struct slot *slots;
	size_t count, next;
	size_t *again; /* NOT_SENT jobs to resubmit (a FIFO) */
	size_t again_head, again_tail;
	size_t final;
	unsigned max_resubmits;
	bool quiet;
	size_t n[OUT_NOT_SENT + 1];
	size_t resubmitted;
	long gate_ms;	/* -g: < 0 = no gate */
	long shut;	/* -x: < 0 = none */
};

static bool gate(struct tx_job *job, bool wait)
{
	const struct slot *sl = job->user;
	if (!wait)
		return false; /* always the slow path: hold the last byte */
	if (sl->r->gate_ms > 0) {
		struct timespec ts = {sl->r->gate_ms / 1000, sl->r->gate_ms % 1000 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return sl->r->shut < 0 || sl != &sl->r->slots[sl->r->shut];
}

static const char *const kind_name[] = {"SENT", "DEFERRED", "FAILED", "UNCERTAIN", "NOT_SENT"};

static void on_done(void *ctx, struct tx_job *job, const struct outcome *o)
{
	struct run *r = ctx;
	struct slot *sl = job->user;
	if (!r->quiet)
		printf("%s %s %d %s %s\n", kind_name[o->kind], job->rcpt, o->code,
		       o->status[0] ? o->status : "-", o->text);
	if (o->kind == OUT_NOT_SENT && sl->attempts <= r->max_resubmits) {
		r->again[r->again_tail++ % r->count] = (size_t)(sl - r->slots);
		return;
	}
	r->n[o->kind]++;
	r->final++;
}

static bool parse_num(const char *s, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static void usage(void)
{
	fputs("usage: tx_send [-c conns] [-r rate] [-s size] [-f from] [-p prefix] [-d domain]\n"
	      "               [-u user] [-P password_file] [-E password_env] [-a ca_file] [-n]\n"
	      "               [-T timeout_s] [-R resubmits] [-g gate_ms] [-x shut_i] [-q] [-v]\n"
	      "               URL COUNT\n",
	      stderr);
	exit(LB_EUSAGE);
}

/* The shared body: ~size octets of CRLF lines, one starting with a dot so
 * that dot-stuffing is exercised on every message. */
static char *make_body(size_t size)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "This is a generated test message.\r\n"
		     ".A line that starts with a dot.\r\n");
	for (unsigned i = 0; b.n < size; i++)
		buf_printf(
		    &b, "%06u abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789\r\n",
		    i);
	return buf_take(&b);
}

int main(int argc, char **argv)
{
	struct endpoint ep = {.connections = 1, .tls = TLS_REQUIRED};
	const char *from = "news@example.org", *prefix = "rcpt", *domain = "example.net";
	double size = 30000, timeout = 60, resubmits = 20, v;
	struct run r = {.gate_ms = -1, .shut = -1};
	int opt;
	while ((opt = getopt(argc, argv, "c:r:s:f:p:d:u:P:E:a:nT:R:g:x:qv")) != -1) {
		switch (opt) {
		case 'c':
			if (!parse_num(optarg, 1, 64, &v))
				usage();
			ep.connections = (long)v;
			break;
		case 'r':
			if (!parse_num(optarg, 0, 1e6, &ep.rate))
				usage();
			break;
		case 's':
			if (!parse_num(optarg, 0, 1 << 26, &size))
				usage();
			break;
		case 'f':
			from = optarg;
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'd':
			domain = optarg;
			break;
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
		case 'n':
			ep.tls = TLS_NONE;
			break;
		case 'T':
			if (!parse_num(optarg, 1, 3600, &timeout))
				usage();
			break;
		case 'R':
			if (!parse_num(optarg, 0, 1000, &resubmits))
				usage();
			break;
		case 'g':
			if (!parse_num(optarg, 0, 60000, &v))
				usage();
			r.gate_ms = (long)v;
			break;
		case 'x':
			if (!parse_num(optarg, 0, 1e7, &v))
				usage();
			r.shut = (long)v;
			break;
		case 'q':
			r.quiet = true;
			break;
		case 'v':
			log_verbose++;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || !parse_num(argv[optind + 1], 1, 1e7, &v))
		usage();
	ep.url = argv[optind];
	r.count = (size_t)v;
	r.max_resubmits = (unsigned)resubmits;
	if (r.shut >= (long)r.count)
		usage();

	char *body = make_body((size_t)size);
	size_t body_n = strlen(body);
	r.slots = xcalloc(r.count, sizeof *r.slots);
	r.again = xcalloc(r.count, sizeof *r.again);
	time_t stamp = time(NULL);
	for (size_t i = 0; i < r.count; i++) {
		struct slot *sl = &r.slots[i];
		struct buf b = BUF_INIT;
		buf_printf(&b, "%s%zu@%s", prefix, i, domain);
		sl->rcpt = buf_take(&b);
		buf_printf(&b,
			   "From: <%s>\r\nTo: <%s>\r\nSubject: tx_send test %zu\r\n"
			   "Message-ID: <%zu.%lld@tx-send.invalid>\r\nX-Seq: %zu\r\n\r\n",
			   from, sl->rcpt, i, i, (long long)stamp, i);
		sl->head = buf_take(&b);
		sl->iov[0] = (struct iovec){sl->head, strlen(sl->head)};
		sl->iov[1] = (struct iovec){body, body_n};
		sl->msg.iov = sl->iov;
		sl->msg.niov = 2;
		sl->msg.size = sl->iov[0].iov_len + body_n;
		sl->r = &r;
		bool gated = r.gate_ms >= 0 || r.shut >= 0;
		sl->job = (struct tx_job){&sl->msg, from, sl->rcpt, sl, gated ? gate : NULL};
	}

	struct transport_opts o = {.ep = &ep, .site_dir = ".", .timeout_s = (long)timeout};
	struct transport *t;
	struct lb_err err = {0};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = transport_open(&o, &t, &err);
	while (!rc && r.final < r.count) {
		while (transport_capacity(t) > 0) {
			size_t i;
			if (r.again_head != r.again_tail)
				i = r.again[r.again_head++ % r.count];
			else if (r.next < r.count)
				i = r.next++;
			else
				break;
			r.resubmitted += r.slots[i].attempts++ > 0;
			transport_submit(t, &r.slots[i].job);
		}
		rc = transport_wait(t, 1000, -1, on_done, &r, &err);
	}
	if (rc)
		fprintf(stderr, "tx_send: %s\n", err.msg);
	transport_close(t);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	r.n[OUT_NOT_SENT] += r.count - r.final; /* left over after a stop */
	printf("summary sent=%zu deferred=%zu failed=%zu uncertain=%zu not_sent=%zu "
	       "resubmitted=%zu seconds=%.3f msg_per_s=%.0f\n",
	       r.n[OUT_SENT], r.n[OUT_DEFERRED], r.n[OUT_FAILED], r.n[OUT_UNCERTAIN],
	       r.n[OUT_NOT_SENT], r.resubmitted, secs, secs > 0 ? (double)r.n[OUT_SENT] / secs : 0);
	for (size_t i = 0; i < r.count; i++) {
		free(r.slots[i].rcpt);
		free(r.slots[i].head);
	}
	free(r.slots);
	free(r.again);
	free(body);
	return rc;
}
