/* A small CSV reader (RFC 4180, and what spreadsheets and mailing-list
 * services actually write).
 *
 * Fields are separated by a comma, or by ';' or a tab when the first line
 * has more of those (spreadsheets in many locales write ';').  A field may
 * be quoted: "a, ""b""" is  a, "b"  and may then span lines.  Rows end in
 * CRLF, LF or a lone CR.  A UTF-8 byte order mark is skipped.  Being lenient
 * where nothing is lost: a quote inside an unquoted field is kept as it is,
 * and text after a closing quote is appended to the field.  The reader does
 * not judge the bytes (the caller checks what it uses) and copies fields
 * out, so the text may go once the row is read.
 */
#ifndef LB_CSV_H
#define LB_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

struct csv {
	const char *file; /* for messages */
	struct span text;
	size_t pos;
	size_t line; /* 1-based line where the next row starts */
	size_t rows; /* rows read so far */
	char sep;
};

struct csv_row {
	char **v; /* fields, NUL-terminated copies; a blank line is one empty field */
	size_t n, cap;
	size_t row;  /* 1-based, as a spreadsheet numbers rows: the header is row 1 */
	size_t line; /* 1-based line of the file where the row starts */
};

/* Start reading text (which must outlive c).  file names it in messages. */
void csv_init(struct csv *c, const char *file, struct span text);

/* Read the next row into r, replacing what it held.  At the end of the text
 * r->n is 0.  A quoted field that is never closed is LB_EDATA naming the
 * line where it starts. */
int csv_next(struct csv *c, struct csv_row *r, struct lb_err *err);

void csv_row_free(struct csv_row *r);

/* The field at column i of r; "" when the row is shorter or i is -1. */
const char *csv_field(const struct csv_row *r, long i);
/* Every field empty or blank (an empty line reads as one empty field). */
bool csv_row_blank(const struct csv_row *r);

/* The columns of an export of people, found by name in the header row
 * (case and surrounding blanks do not matter); -1 when absent:
 *   Mailchimp   "Email Address", "First Name", "Last Name"
 *   listmonk    "email", "name", "status" (its "attributes" are JSON: unused)
 *   plain       "email" or "e-mail", "name"
 * Mailchimp exports unsubscribed and cleaned contacts separately, with an
 * UNSUB_TIME or CLEAN_TIME column: `left` says the file is one of those. */
struct csv_people {
	long email, name, first, last, status;
	bool left;
};
void csv_people_columns(const struct csv_row *header, struct csv_people *c);
/* A row's name: "name", else "First Name" and "Last Name" joined; runs of
 * blanks and line breaks (a quoted field may hold them) become one space.
 * NULL when there is none; caller frees. */
char *csv_people_name(const struct csv_row *r, const struct csv_people *c);

#endif
