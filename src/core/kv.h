/* A key and its value, both owned heap strings: front-matter extras,
 * subscriber fields. */
#ifndef LB_KV_H
#define LB_KV_H

struct kv {
	char *key, *value;
};

#endif
