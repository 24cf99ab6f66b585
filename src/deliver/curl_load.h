/* libcurl, loaded when first used.  letterbox does not link libcurl: the
 * curl_* functions it calls (curl_easy_*, curl_url*, curl_global_*,
 * curl_free) are defined in curl_load.c, which opens the library
 * (LB_CURL_SONAME, the libcurl the build found: libcurl-gnutls.so.4 on
 * Debian) with dlopen on the first call.  libcurl and the ~25 libraries it
 * pulls in (nghttp2, ssh2, krb5, ldap, brotli, ...) cost several
 * milliseconds at every start, and most runs never talk SMTP or IMAP: one
 * `letterbox cgi` per web request above all (bench/web).  Callers include
 * <curl/curl.h> and call curl as usual.
 *
 * When the library cannot be opened every function fails the way libcurl
 * says it may: curl_global_init CURLE_FAILED_INIT, curl_easy_init and
 * curl_url NULL, curl_url_set/get CURLUE_OUT_OF_MEMORY, and so on;
 * curl_load_error() then says why. */
#ifndef LB_CURL_LOAD_H
#define LB_CURL_LOAD_H

#include <stdbool.h>

/* Opens libcurl now if it is not open yet (thread-safe; once per process).
 * Returns whether it is usable. */
bool curl_load(void);

/* Why curl_load failed ("cannot load libcurl-gnutls.so.4: ..."), or NULL
 * when it did not fail (or was not tried).  Static storage. */
const char *curl_load_error(void);

#endif
