/* A token bucket for outgoing messages, with "slow down" handling.
 *
 * The configured rate (messages per second, 0 = unlimited) is an upper
 * bound.  When the server says slow down (421, 454) the effective rate is
 * halved (from the configured rate, or from the rate we were actually
 * reaching when unlimited) and then recovers by 10 % per calm second, so a
 * throttling server sees fewer messages at once instead of the same burst
 * again.  Time is passed in (seconds, monotonic) so that the whole thing is
 * a pure function of its inputs and can be tested without sleeping.
 */
#ifndef LB_RATELIMIT_H
#define LB_RATELIMIT_H

#include <stdbool.h>

struct ratelimit {
	double rate;	    /* configured messages/s, 0 = unlimited */
	double eff;	    /* effective messages/s now, 0 = unlimited */
	double ceiling;	    /* unlimited only: eff above this means unlimited again */
	double tokens;	    /* messages that may start now (while eff > 0) */
	double last;	    /* time tokens were last refilled */
	double last_slow;   /* time of the last slow_down: recovery waits for calm */
	double last_halved; /* halve at most once a second: one burst of 421s is one signal */
	double window;	    /* start of the current one-second counting window */
	unsigned in_window; /* messages completed in the current window */
	unsigned observed;  /* messages completed in the last full window */
};

/* Lowest effective rate: one message every five seconds. */
#define RATELIMIT_MIN 0.2

void ratelimit_init(struct ratelimit *rl, double rate, double now);

/* Whole messages that may start now, or `unlimited` when there is no limit. */
unsigned ratelimit_available(struct ratelimit *rl, double now, unsigned unlimited);

/* Account for one message started now.  Call only when available > 0. */
void ratelimit_take(struct ratelimit *rl, double now);

/* Milliseconds until one more message may start: 0 when one may start now,
 * -1 when there is no limit at all. */
long ratelimit_wait_ms(struct ratelimit *rl, double now);

/* A message completed (accepted or not): feeds the observed rate. */
void ratelimit_done(struct ratelimit *rl, double now);

/* The server asked us to slow down. */
void ratelimit_slow_down(struct ratelimit *rl, double now);

#endif
