/* Diagnostics, at three levels (after Postfix's msg(3)):
 *   log_warn   something is wrong, carry on;
 *   log_fatal  the configuration or environment is unusable: print, exit(code);
 *   LB_BUG     a letterbox bug: print where, abort().
 * log_info prints only when verbose.  Everything goes to stderr, prefixed with
 * "letterbox: ".  Never pass a message body or a secret to any of these.
 */
#ifndef LB_LOG_H
#define LB_LOG_H

#include <stdbool.h>

extern int log_verbose; /* 0 quiet, 1 -v, 2 -vv */

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void log_fatal(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void log_bug(const char *file, int line, const char *what);

#define LB_BUG(what) log_bug(__FILE__, __LINE__, (what))
#define LB_ASSERT(cond)                                                                            \
	do {                                                                                       \
		if (!(cond))                                                                       \
			LB_BUG(#cond);                                                             \
	} while (0)

#endif
