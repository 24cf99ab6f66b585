/* The one error convention.
 *
 * A function that can fail returns an int: 0 on success, otherwise one of the
 * sysexits-style codes below, and fills a struct lb_err with a message for the
 * user (already naming the place: "file:line:col: ..." where there is one).
 * The codes are the process exit codes (DESIGN.md contract), so main() returns
 * the first one unchanged.  Callers that only propagate pass the err along.
 */
#ifndef LB_ERR_H
#define LB_ERR_H

enum {
	LB_OK = 0,
	LB_EUSAGE = 64,	  /* command line usage */
	LB_EDATA = 65,	  /* bad data: article, list, message */
	LB_ENOINPUT = 66, /* an input file does not exist */
	LB_EUNAVAIL = 69, /* server unavailable */
	LB_ESOFTWARE = 70,
	LB_EIO = 74,	 /* I/O error */
	LB_ETEMP = 75,	 /* temporary: deferred recipients remain, or a lock is held */
	LB_ENOPERM = 77, /* permission denied (state/, a list, a file) */
	LB_ECONFIG = 78, /* configuration error */
};

struct lb_err {
	int code;
	char msg[1024];
};

/* Record code and message; returns code so that `return err_set(...)` reads well. */
int err_set(struct lb_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same, appending ": strerror(errno)". */
int err_sys(struct lb_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Put "prefix: " in front of an existing message (for context as it travels up). */
int err_prefix(struct lb_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_clear(struct lb_err *e);

#endif
