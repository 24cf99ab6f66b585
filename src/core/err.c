#include "core/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(struct lb_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	e->code = code;
	return code;
}

int err_sys(struct lb_err *e, int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	size_t n = strlen(e->msg);
	snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(saved));
	e->code = code;
	return code;
}

int err_prefix(struct lb_err *e, const char *fmt, ...)
{
	char old[sizeof e->msg];
	memcpy(old, e->msg, sizeof old);
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	size_t used = n < 0 ? 0 : (size_t)n;
	if (used > sizeof e->msg - 1)
		used = sizeof e->msg - 1;
	const char *parts[] = {": ", old};
	for (size_t i = 0; i < 2; i++) {
		size_t len = strlen(parts[i]);
		if (len > sizeof e->msg - 1 - used)
			len = sizeof e->msg - 1 - used;
		memcpy(e->msg + used, parts[i], len);
		used += len;
	}
	e->msg[used] = '\0';
	return e->code;
}

void err_clear(struct lb_err *e)
{
	e->code = 0;
	e->msg[0] = '\0';
}
