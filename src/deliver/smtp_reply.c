/* SMTP replies and what they mean for a job (see smtp.h). */
#include "deliver/smtp.h"

#include <stdio.h>
#include <string.h>

void smtp_reply_reset(struct smtp_reply *r)
{
	r->code = 0;
	r->status[0] = r->text[0] = r->bad[0] = '\0';
	r->cur_code = 0;
	r->cur_n = 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "5.1.1" at the start of p (RFC 3463: class.subject.detail, 1-3 digits
 * each), whose class must match the reply's first digit.  Returns its
 * length, 0 when there is none. */
static size_t enhanced_status(const char *p, size_t n, char cls)
{
	if (n < 5 || p[0] != cls || p[1] != '.')
		return 0;
	size_t i = 2;
	for (int part = 0; part < 2; part++) {
		size_t start = i;
		while (i < n && i - start < 3 && is_digit(p[i]))
			i++;
		if (i == start)
			return 0;
		if (part == 0) {
			if (i >= n || p[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < n && p[i] != ' ')
		return 0;
	return i;
}

/* Append text to the reply being read, dropping control characters and
 * replacing bytes outside ASCII: the text ends up in logs and journals. */
static void append_text(struct smtp_reply *r, const char *p, size_t n)
{
	size_t cap = sizeof r->cur_text - 1;
	for (size_t i = 0; i < n && r->cur_n < cap; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f)
			continue;
		r->cur_text[r->cur_n++] = c >= 0x80 ? '?' : (char)c;
	}
	r->cur_text[r->cur_n] = '\0';
}

/* The line that was not SMTP, for messages (and the code of the lines
 * before it that it contradicts, if any): the reply being read is gone. */
static int malformed(struct smtp_reply *r, const char *line, size_t n, int after)
{
	char tail[24] = "";
	if (after)
		snprintf(tail, sizeof tail, " (after %d- lines)", after);
	size_t o = 0, cap = sizeof r->bad - strlen(tail);
	for (size_t i = 0; i < n && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)line[i];
		r->bad[o++] = c < 0x20 || c == 0x7f ? ' ' : c >= 0x80 ? '?' : (char)c;
	}
	memcpy(r->bad + o, tail, strlen(tail) + 1);
	r->cur_code = 0;
	r->cur_n = 0;
	return SMTP_REPLY_MALFORMED;
}

int smtp_reply_line(struct smtp_reply *r, const char *line, size_t n)
{
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (n < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]) ||
	    line[0] < '2' || line[0] > '5' || (n > 3 && line[3] != ' ' && line[3] != '-'))
		return malformed(r, line, n, 0);
	int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	bool last = n == 3 || line[3] == ' ';
	const char *p = line + 4;
	size_t pn = n > 4 ? n - 4 : 0;

	if (r->cur_code != 0 && r->cur_code != code)
		return malformed(r, line, n, r->cur_code); /* "250-Ok" then "550 No": which? */
	if (r->cur_code == 0) {
		r->cur_code = code;
		r->cur_n = 0;
		r->cur_status[0] = '\0';
		append_text(r, line, 3);
	}
	size_t sn = enhanced_status(p, pn, line[0]);
	if (sn > 0) {
		if (r->cur_status[0] == '\0') {
			memcpy(r->cur_status, p, sn);
			r->cur_status[sn] = '\0';
			append_text(r, " ", 1);
			append_text(r, p, sn);
		}
		p += sn;
		pn -= sn;
	}
	while (pn > 0 && *p == ' ') {
		p++;
		pn--;
	}
	if (pn > 0) {
		append_text(r, " ", 1);
		append_text(r, p, pn);
	}
	if (!last)
		return 0;
	r->code = code;
	memcpy(r->status, r->cur_status, sizeof r->status);
	memcpy(r->text, r->cur_text, r->cur_n + 1);
	r->cur_code = 0;
	r->cur_n = 0;
	return code;
}

/* curl's codes for a session that could not be set up: these stop the
 * campaign whatever the reply, since every other message would meet the
 * same fate.  Returns SMTP_FINAL for codes that are not of that kind. */
static enum smtp_verdict session_failure(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_OUT_OF_MEMORY:
	case CURLE_FAILED_INIT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return SMTP_STOP_UNAVAIL;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_LOGIN_DENIED:
		return SMTP_STOP_CONFIG;
	default:
		return SMTP_FINAL;
	}
}

enum smtp_verdict smtp_classify(const struct smtp_finish *f, enum outcome_kind *kind)
{
	*kind = OUT_NOT_SENT;
	if (f->result == CURLE_OK) {
		*kind = OUT_SENT;
		return SMTP_FINAL;
	}
	/* A reply that is not SMTP: neither it nor the reply before it (to
	 * another command) judges the recipient.  While the session opens it
	 * stops the campaign (every connection would meet it); else the message
	 * goes again on a new connection, unless all of it had been sent. */
	if (f->malformed) {
		if (f->data_complete) {
			*kind = OUT_UNCERTAIN;
			return SMTP_FINAL;
		}
		return f->opening ? SMTP_STOP_UNAVAIL : SMTP_RETRY;
	}
	/* "Slow down", wherever it came: never a verdict on the recipient. */
	if (f->reply == 421 || f->reply == 454)
		return SMTP_SLOW_DOWN;
	enum smtp_verdict v = session_failure(f->result);
	if (v != SMTP_FINAL)
		return v;
	if (f->reply == 530) /* authentication (or STARTTLS) required: ours to fix */
		return SMTP_STOP_CONFIG;
	/* The envelope sender refused for good: every message would be, and
	 * no recipient should be marked failed (or suppressed) for it. */
	if (f->sender_refused && f->reply >= 500)
		return SMTP_STOP_CONFIG;
	/* curl says "weird server reply" both for a refused greeting or EHLO
	 * and for a refusal of the data: only the latter judges the recipient. */
	if (!f->data_complete &&
	    (f->result == CURLE_WEIRD_SERVER_REPLY || f->result == CURLE_REMOTE_ACCESS_DENIED))
		return f->new_conn ? SMTP_STOP_UNAVAIL : SMTP_RETRY;
	if (f->reply >= 500) {
		*kind = OUT_FAILED;
		return SMTP_FINAL;
	}
	if (f->reply >= 400) {
		*kind = OUT_DEFERRED;
		return SMTP_FINAL;
	}
	/* No refusal: the connection broke or timed out. */
	if (f->data_complete) {
		*kind = OUT_UNCERTAIN;
		return SMTP_FINAL;
	}
	if (f->new_conn && f->reply == 0)
		return SMTP_STOP_UNAVAIL; /* not even a greeting */
	return SMTP_RETRY;
}
