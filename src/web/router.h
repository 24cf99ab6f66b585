/* The route table (router.c), visible for its fuzz target and tests. */
#ifndef LB_WEB_ROUTER_H
#define LB_WEB_ROUTER_H

#include "core/buf.h"
#include "web/web.h"

/* The index of the route whose pattern path matches, -1 for none; *arg gets
 * the segment its "*" matched (empty without one). */
int web_route_find(const char *path, struct span *arg);
/* The same, with *arg2 the second "*" segment (empty without one). */
int web_route_find2(const char *path, struct span *arg, struct span *arg2);

#endif
