/* A composed message as bytes: its iovec, its DKIM seal, and writing it out
 * (message.h). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "compose/dkim.h"
#include "compose/message.h"
#include "core/mem.h"

void message_build_iov(struct message *m)
{
	struct message_dkim *d = m->dkim && m->dkim->signer ? m->dkim : NULL;
	struct dkim_body body;
	if (d) {
		dkim_body_init(&body);
		buf_reset(&d->fields);
		d->sealed = false;
	}
	m->iov = xgrowarray(m->iov, &m->iovcap, m->nseg + 2, sizeof *m->iov);
	static char unsigned_[1]; /* iov[0] until message_seal: empty, never NULL */
	m->iov[0] = (struct iovec){unsigned_, 0};
	m->iov[1] = (struct iovec){m->head.p, m->head.n};
	m->size = m->head.n;
	for (size_t i = 0; i < m->nseg; i++) {
		const struct msg_seg *s = &m->seg[i];
		const char *p = s->p ? s->p : m->own.p + s->off;
		m->iov[i + 2] = (struct iovec){(void *)(uintptr_t)p, s->n};
		m->size += s->n;
		/* The body starts after the empty line that opens the first segment. */
		if (d && s->dk)
			dkim_body_update_piece(&body, p, s->n, s->dk, s->dk_canon);
		else if (d)
			dkim_body_update(&body, i == 0 ? p + 2 : p, i == 0 ? s->n - 2 : s->n);
	}
	m->niov = m->nseg + 2;
	if (d)
		dkim_body_final(&body, d->bh);
}

int message_seal(const struct message *m, struct lb_err *err)
{
	struct message_dkim *d = m->dkim;
	if (!d || !d->signer || d->sealed || m->niov < 2)
		return 0;
	buf_reset(&d->fields);
	int rc = dkim_sign_head(d->signer, m->head.p, m->head.n, d->bh, d->when, &d->fields, err);
	if (rc)
		return rc;
	d->sealed = true;
	m->iov[0] = (struct iovec){d->fields.p, d->fields.n};
	return 0;
}

void message_from_bytes(struct message *m, const char *raw, size_t n)
{
	buf_reset(&m->head);
	buf_add(&m->head, raw, n);
	m->nseg = 0;
	if (m->dkim)
		m->dkim->signer = NULL;
	message_build_iov(m);
}

void message_flatten(const struct message *m, struct buf *out)
{
	struct lb_err err;
	(void)message_seal(m, &err);
	for (size_t i = 0; i < m->niov; i++)
		buf_add(out, m->iov[i].iov_base, m->iov[i].iov_len);
}

int message_write(const struct message *m, int fd, struct lb_err *err)
{
	int rc = message_seal(m, err);
	if (rc)
		return rc;
	size_t i = 0, skip = 0;
	while (i < m->niov) {
		struct iovec v[64];
		int k = 0;
		for (size_t j = i; j < m->niov && k < 64; j++, k++)
			v[k] = m->iov[j];
		v[0].iov_base = (char *)v[0].iov_base + skip;
		v[0].iov_len -= skip;
		ssize_t w = writev(fd, v, k);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(err, LB_EIO, "write");
		}
		size_t left = (size_t)w;
		while (i < m->niov && left >= m->iov[i].iov_len - skip) {
			left -= m->iov[i].iov_len - skip;
			skip = 0;
			i++;
		}
		skip += left;
	}
	return 0;
}
