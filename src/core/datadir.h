/* Where an installed letterbox keeps what a site may lack: templates/ and
 * examples/ under $(PREFIX)/share/letterbox (README "Installing"). */
#ifndef LB_DATADIR_H
#define LB_DATADIR_H

#include <stdbool.h>

#include "core/config.h"

/* The installed share directory: EXE/../share/letterbox when that exists (an
 * install under DESTDIR or moved elsewhere keeps working), else the LB_DATADIR
 * the binary was built with.  Static storage; never NULL. */
const char *datadir(void);

/* The template file a site uses: SITE/templates/FILE when the site has it,
 * else DATADIR/templates/FILE when that exists (said with -v: which file),
 * else SITE/templates/FILE, so that an error names where it belongs.
 * *installed (may be NULL) tells whether the installed copy was chosen.
 * Caller frees. */
char *datadir_template(const struct config *cfg, const char *file, bool *installed);

/* When reading datadir_template's path found nothing (LB_ENOINPUT): err
 * says "templates/FILE: the template is missing, and DATADIR/templates has
 * none either (...)"; returns LB_ENOINPUT. */
int datadir_missing(const char *file, struct lb_err *err);

#endif
