/* The staff's changes to inquiries (cmd/inquiries_edit.c), called by
 * cmd/inquiries.c once the command line is parsed.  Each validates all of
 * its input before it changes anything: a bad number or value is LB_EUSAGE,
 * an inquiry that does not exist LB_EDATA; then nothing was written.  Every
 * change is appended to the inquiry's history with the time and `by`.
 * Each prints what it did and returns an exit code.
 */
#ifndef LB_INQUIRIES_EDIT_H
#define LB_INQUIRIES_EDIT_H

#include <stdbool.h>

#include "cmd/cmd.h"

/* The name changes are recorded under: --by, else the login name. */
const char *inquiries_who(const char *by);

/* set N key=value...: status=new|open|answered|closed, assign=NAME (empty
 * or "nobody" unassigns), priority=urgent|normal. */
int inquiries_set(struct cli *g, const char *number, char **pairs, int npairs, const char *by,
		  const char *usage);

/* note N TEXT...: the words joined by blanks. */
int inquiries_note(struct cli *g, const char *number, char **words, int nwords, const char *by,
		   const char *usage);

/* reply N --file REPLY.md ("-": standard input): render with
 * templates/reply.{html,txt}, send through outgoing.url, then keep a copy in
 * the store (inquiry_add_copy) and set the status to answered.  A failure to
 * send changes nothing but the history.  dry_run prints the text and sends
 * and records nothing. */
int inquiries_reply(struct cli *g, const char *number, const char *file, bool dry_run,
		    const char *by, const char *usage);

/* purge --closed-before DATE: remove closed inquiries closed before DATE
 * (the last history line that set them closed; else when they arrived). */
int inquiries_purge(struct cli *g, const char *before, bool dry_run, const char *usage);

#endif
