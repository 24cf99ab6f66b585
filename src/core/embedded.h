/* Files compiled into the binary (scripts/embed-files, run by make). */
#ifndef LB_EMBEDDED_H
#define LB_EMBEDDED_H

struct embedded_file {
	const char *name; /* base name, e.g. "reply.txt"; NULL ends a table */
	const char *text; /* the file's bytes, NUL-terminated */
};

/* templates/ of the source tree: what `letterbox init` writes into a site. */
extern const struct embedded_file embedded_templates[];

#endif
