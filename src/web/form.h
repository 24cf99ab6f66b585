/* application/x-www-form-urlencoded, as browsers send forms and query
 * strings (WHATWG URL, "application/x-www-form-urlencoded parsing"):
 * name=value pairs joined by '&', '+' for a space, %XX for a byte.
 *
 * Decoded names and values must be UTF-8 without NUL; a pair that is not
 * (or that has a bad %-escape) makes the whole form invalid, so a handler
 * never sees half a form.  At most FORM_MAX_FIELDS pairs.
 */
#ifndef LB_FORM_H
#define LB_FORM_H

#include <stdbool.h>
#include <stddef.h>

#define FORM_MAX_FIELDS 64

struct form_field {
	char *name, *value; /* decoded, NUL-terminated */
};

struct form {
	struct form_field *v;
	size_t n;
};

/* Parse s[0..n) into f (which is reset first).  Returns false, with f
 * empty and *why saying what is wrong, for a bad escape, a byte sequence
 * that is not UTF-8, a NUL, or more than FORM_MAX_FIELDS pairs. */
bool form_parse(struct form *f, const char *s, size_t n, const char **why);
void form_free(struct form *f);

/* The first value of name, or NULL. */
const char *form_get(const struct form *f, const char *name);

/* Decode one %-escaped component (without '+' → space when plus is false,
 * as in a URL path).  Caller frees; NULL when it is not valid as above. */
char *form_decode(const char *s, size_t n, bool plus);

#endif
