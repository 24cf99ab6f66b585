/* libcurl through dlopen: see curl_load.h.  Each curl_* function here has
 * libcurl's own prototype and forwards to the library's function of that
 * name.  The executable does not export them (nothing it links refers to
 * them), so libcurl's calls stay inside libcurl. */
#define CURL_DISABLE_TYPECHECK /* the macros of typecheck-gcc.h would rename our definitions */
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "deliver/curl_load.h"

#ifndef LB_CURL_SONAME
#define LB_CURL_SONAME "libcurl.so.4"
#endif
/* curl 8.3 made curl_url_get's handle const */
#if LIBCURL_VERSION_NUM >= 0x080300
#define URL_GET_CONST const
#else
#define URL_GET_CONST
#endif

static struct {
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURL *(*easy_duphandle)(CURL *);
	void (*easy_cleanup)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_send)(CURL *, const void *, size_t, size_t *);
	CURLcode (*easy_recv)(CURL *, void *, size_t, size_t *);
	const char *(*easy_strerror)(CURLcode);
	char *(*easy_escape)(CURL *, const char *, int);
	void (*free)(void *);
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
	CURLUcode (*url_get)(URL_GET_CONST CURLU *, CURLUPart, char **, unsigned int);
	const char *(*url_strerror)(CURLUcode);
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool loaded;
static char load_error[256];

/* dlsym into a function pointer: POSIX guarantees the conversion works. */
#define LOOKUP(field, name)                                                                        \
	do {                                                                                       \
		*(void **)&fn.field = dlsym(h, name);                                              \
		if (!fn.field) {                                                                   \
			missing = name;                                                            \
			goto fail;                                                                 \
		}                                                                                  \
	} while (0)

static void open_library(void)
{
	const char *missing = NULL;
	void *h = dlopen(LB_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		snprintf(load_error, sizeof load_error, "cannot load libcurl: %s",
			 e ? e : LB_CURL_SONAME);
		return;
	}
	LOOKUP(global_init, "curl_global_init");
	LOOKUP(global_cleanup, "curl_global_cleanup");
	LOOKUP(easy_init, "curl_easy_init");
	LOOKUP(easy_duphandle, "curl_easy_duphandle");
	LOOKUP(easy_cleanup, "curl_easy_cleanup");
	LOOKUP(easy_setopt, "curl_easy_setopt");
	LOOKUP(easy_getinfo, "curl_easy_getinfo");
	LOOKUP(easy_perform, "curl_easy_perform");
	LOOKUP(easy_send, "curl_easy_send");
	LOOKUP(easy_recv, "curl_easy_recv");
	LOOKUP(easy_strerror, "curl_easy_strerror");
	LOOKUP(easy_escape, "curl_easy_escape");
	LOOKUP(free, "curl_free");
	LOOKUP(url, "curl_url");
	LOOKUP(url_cleanup, "curl_url_cleanup");
	LOOKUP(url_set, "curl_url_set");
	LOOKUP(url_get, "curl_url_get");
	LOOKUP(url_strerror, "curl_url_strerror");
	loaded = true;
	return;
fail:
	snprintf(load_error, sizeof load_error, "cannot load libcurl: %s has no %s (too old?)",
		 LB_CURL_SONAME, missing);
	dlclose(h);
}

bool curl_load(void)
{
	pthread_once(&once, open_library);
	return loaded;
}

const char *curl_load_error(void)
{
	return load_error[0] ? load_error : NULL;
}

CURLcode curl_global_init(long flags)
{
	return curl_load() ? fn.global_init(flags) : CURLE_FAILED_INIT;
}

void curl_global_cleanup(void)
{
	if (curl_load())
		fn.global_cleanup();
}

CURL *curl_easy_init(void)
{
	return curl_load() ? fn.easy_init() : NULL;
}

CURL *curl_easy_duphandle(CURL *h)
{
	return curl_load() ? fn.easy_duphandle(h) : NULL;
}

void curl_easy_cleanup(CURL *h)
{
	if (curl_load())
		fn.easy_cleanup(h);
}

/* The argument's type follows from the option's number, as in libcurl's
 * own curl_easy_setopt: a long, an object or function pointer, a
 * curl_off_t, or a struct curl_blob *. */
CURLcode curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
	if (!curl_load())
		return CURLE_FAILED_INIT;
	va_list ap;
	va_start(ap, opt);
	CURLcode rc;
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		rc = fn.easy_setopt(h, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
		rc = fn.easy_setopt(h, opt, va_arg(ap, void *));
	else if (opt < CURLOPTTYPE_OFF_T)
		rc = fn.easy_setopt(h, opt, va_arg(ap, void (*)(void)));
	else if (opt < CURLOPTTYPE_BLOB)
		rc = fn.easy_setopt(h, opt, va_arg(ap, curl_off_t));
	else
		rc = fn.easy_setopt(h, opt, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	if (!curl_load())
		return CURLE_FAILED_INIT;
	va_list ap;
	va_start(ap, info);
	CURLcode rc = fn.easy_getinfo(h, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode curl_easy_perform(CURL *h)
{
	return curl_load() ? fn.easy_perform(h) : CURLE_FAILED_INIT;
}

CURLcode curl_easy_send(CURL *h, const void *p, size_t n, size_t *sent)
{
	return curl_load() ? fn.easy_send(h, p, n, sent) : CURLE_FAILED_INIT;
}

CURLcode curl_easy_recv(CURL *h, void *p, size_t n, size_t *got)
{
	return curl_load() ? fn.easy_recv(h, p, n, got) : CURLE_FAILED_INIT;
}

const char *curl_easy_strerror(CURLcode c)
{
	return curl_load() ? fn.easy_strerror(c) : "libcurl could not be loaded";
}

char *curl_easy_escape(CURL *h, const char *s, int n)
{
	return curl_load() ? fn.easy_escape(h, s, n) : NULL;
}

void curl_free(void *p)
{
	/* p came from libcurl, so libcurl is loaded whenever p is not NULL */
	if (p && curl_load())
		fn.free(p);
}

CURLU *curl_url(void)
{
	return curl_load() ? fn.url() : NULL;
}

void curl_url_cleanup(CURLU *u)
{
	if (u && curl_load())
		fn.url_cleanup(u);
}

CURLUcode curl_url_set(CURLU *u, CURLUPart what, const char *part, unsigned int flags)
{
	return curl_load() ? fn.url_set(u, what, part, flags) : CURLUE_OUT_OF_MEMORY;
}

CURLUcode curl_url_get(URL_GET_CONST CURLU *u, CURLUPart what, char **part, unsigned int flags)
{
	return curl_load() ? fn.url_get(u, what, part, flags) : CURLUE_OUT_OF_MEMORY;
}

const char *curl_url_strerror(CURLUcode c)
{
	return curl_load() ? fn.url_strerror(c) : "libcurl could not be loaded";
}
