#include "deliver/ratelimit.h"

/* Tokens may pile up for a twentieth of a second: enough that a high rate is
 * not cut into one-message-per-wakeup slices, little enough to stay smooth. */
static double burst(double eff)
{
	return eff / 20 > 1 ? eff / 20 : 1;
}

void ratelimit_init(struct ratelimit *rl, double rate, double now)
{
	*rl = (struct ratelimit){0};
	rl->rate = rate > 0 ? rate : 0;
	rl->eff = rl->rate;
	rl->tokens = burst(rl->eff);
	rl->last = rl->window = now;
	rl->last_slow = rl->last_halved = now - 3600;
}

static void refill(struct ratelimit *rl, double now)
{
	double dt = now - rl->last;
	if (dt <= 0)
		return;
	rl->last = now;
	if (rl->eff == 0)
		return;
	/* Recover only once the server has been calm for a second, and only
	 * for the calm part of this interval. */
	double calm = now - (rl->last_slow + 1);
	if (calm > dt)
		calm = dt;
	if (calm > 1)
		calm = 1;
	if (calm > 0 && (rl->rate == 0 || rl->eff < rl->rate)) {
		rl->eff += rl->eff * 0.1 * calm;
		if (rl->rate > 0 && rl->eff >= rl->rate) {
			rl->eff = rl->rate;
		} else if (rl->rate == 0 && rl->eff >= rl->ceiling) {
			rl->eff = 0; /* back to where we were before: unlimited */
			rl->ceiling = 0;
			return;
		}
	}
	rl->tokens += rl->eff * dt;
	if (rl->tokens > burst(rl->eff))
		rl->tokens = burst(rl->eff);
}

unsigned ratelimit_available(struct ratelimit *rl, double now, unsigned unlimited)
{
	refill(rl, now);
	if (rl->eff == 0)
		return unlimited;
	return rl->tokens >= 1 ? (unsigned)rl->tokens : 0;
}

void ratelimit_take(struct ratelimit *rl, double now)
{
	refill(rl, now);
	if (rl->eff > 0)
		rl->tokens -= 1;
}

long ratelimit_wait_ms(struct ratelimit *rl, double now)
{
	refill(rl, now);
	if (rl->eff == 0)
		return -1;
	if (rl->tokens >= 1)
		return 0;
	double ms = (1 - rl->tokens) / rl->eff * 1000;
	return (long)ms + 1; /* round up: waking early only means waking twice */
}

void ratelimit_done(struct ratelimit *rl, double now)
{
	if (now - rl->window >= 1) {
		rl->observed = now - rl->window < 2 ? rl->in_window : 0;
		rl->window = now;
		rl->in_window = 0;
	}
	rl->in_window++;
}

void ratelimit_slow_down(struct ratelimit *rl, double now)
{
	refill(rl, now);
	rl->last_slow = now;
	if (now - rl->last_halved < 1)
		return;
	rl->last_halved = now;
	double base = rl->eff;
	if (base == 0) {
		/* Unlimited: halve what we were actually reaching (a young
		 * window counts from a quarter second, so a fast start is not
		 * mistaken for a handful per second). */
		double span = now - rl->window > 0.25 ? now - rl->window : 0.25;
		double recent = (double)rl->in_window / span;
		base = (double)rl->observed > recent ? (double)rl->observed : recent;
		if (base < 2 * RATELIMIT_MIN)
			base = 2 * RATELIMIT_MIN;
		rl->ceiling = base;
		rl->tokens = 0;
	}
	rl->eff = base / 2 > RATELIMIT_MIN ? base / 2 : RATELIMIT_MIN;
	if (rl->tokens > burst(rl->eff))
		rl->tokens = burst(rl->eff);
}
