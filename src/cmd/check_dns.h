/* letterbox check --dns (check_dns.c). */
#ifndef LB_CHECK_DNS_H
#define LB_CHECK_DNS_H

#include "core/config.h"

/* Look up the From domain's SPF and DMARC records and each configured DKIM
 * selector's key (system resolver; LETTERBOX_TEST_DNS=127.0.0.1:PORT for
 * tests only) and print one line per finding, in plain words, on stdout.
 * Returns 0 when all is well, LB_EDATA when something is missing or does
 * not match the key, LB_EUNAVAIL when DNS did not answer, LB_ECONFIG for a
 * DKIM key that cannot be read. */
int check_dns(const struct config *cfg);

#endif
