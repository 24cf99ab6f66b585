#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/termsafe.h"

int log_verbose;

__attribute__((format(printf, 2, 0))) static void vlog(const char *level, const char *fmt,
						       va_list ap)
{
	/* Messages name addresses, files and servers' words: made safe for the
	 * terminal, and written one whole line at a time (the SMTP transport's
	 * worker threads log too). */
	struct buf raw = BUF_INIT, line = BUF_INIT;
	buf_vprintf(&raw, fmt, ap);
	buf_adds(&line, "letterbox: ");
	if (level)
		buf_adds(&line, level);
	term_safe(&line, raw.p, raw.n, TERM_LINES);
	buf_addc(&line, '\n');
	flockfile(stderr);
	fwrite(line.p, 1, line.n, stderr);
	funlockfile(stderr);
	buf_free(&raw);
	buf_free(&line);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	if (log_verbose < 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(NULL, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	if (log_verbose < 2)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap);
	va_end(ap);
}

void log_fatal(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(NULL, fmt, ap);
	va_end(ap);
	exit(code);
}

void log_bug(const char *file, int line, const char *what)
{
	fprintf(stderr, "letterbox: internal error at %s:%d: %s\n", file, line, what);
	abort();
}
