/* letterbox inquiries: reading a conversation's messages, reply copies and
 * attachments (cmd/inquiries_files.h). */
#include "cmd/inquiries_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsx.h"
#include "core/mem.h"
#include "core/termsafe.h"
#include "receive/parse.h"

int inquiries_copy(struct cli *g, const struct inquiry *q, unsigned k, bool raw)
{
	struct buf src = BUF_INIT;
	struct lb_err err = {0};
	if (inquiry_copy(g->cfg.state_dir, q, k, &src, &err) != 0) {
		buf_free(&src);
		return cli_fail(&err);
	}
	if (raw) {
		fwrite(src.p, 1, src.n, stdout);
		buf_free(&src);
		return 0;
	}
	struct inmsg m;
	inmsg_parse(src.p, src.n, NULL, &m);
	struct buf to = BUF_INIT;
	for (size_t i = 0; i < m.to.n; i++)
		buf_printf(&to, "%s%s", i ? ", " : "", m.to.v[i]);
	/* Stored mail: every field on its own line, the text with its lines,
	 * all through termsafe. */
	if (m.from_name)
		term_printf(stdout, "From:    %s <%s>\n", m.from_name, m.from ? m.from : "");
	else
		term_printf(stdout, "From:    %s\n", m.from ? m.from : "");
	term_printf(stdout, "To:      %s\n", to.p ? to.p : "");
	term_printf(stdout, "Date:    %s\n", m.date ? m.date : "");
	term_printf(stdout, "Subject: %s\n", m.subject ? m.subject : "");
	term_printf(stdout, "\n%s%s", m.text ? m.text : "",
		    m.text && m.text_len && m.text[m.text_len - 1] != '\n' ? "\n" : "");
	buf_free(&to);
	buf_free(&src);
	inmsg_free(&m);
	return 0;
}

int inquiries_attachment(struct cli *g, const char *number, const char *which, const char *out,
			 const char *usage)
{
	char *end;
	unsigned long num = strtoul(number, &end, 10), msg, k;
	if (*number < '0' || *number > '9' || *end || !num || num > 0xFFFFFFFFul)
		return cli_usage(usage, "attachment: '%s' is not an inquiry number", number);
	if (!attachment_which_parse(which, &msg, &k))
		return cli_usage(usage, "attachment: '%s' is not K or M.K (numbers from 1)", which);
	if (out && !*out)
		return cli_usage(usage, "--out: a file name, please");
	const char *state = g->cfg.state_dir;
	struct inquiry q;
	struct lb_err err = {0};
	if (inquiry_load(state, (unsigned)num, &q, &err) != 0) {
		inquiry_free(&q);
		return cli_fail(&err);
	}
	struct buf name = BUF_INIT;
	struct inmsg m;
	int rc = inquiry_attachment_get(state, &q, which, &m, &name, &err);
	const char *path = out ? out : name.p;
	if (!rc)
		rc = fsx_write_new(path, m.att_bytes, m.att_bytes_len, 0600, &err);
	if (rc)
		rc = cli_fail(&err);
	else
		term_printf(stdout, "wrote %s (%zu bytes)\n", path, m.att_bytes_len);
	inmsg_free(&m);
	buf_free(&name);
	inquiry_free(&q);
	return rc;
}
