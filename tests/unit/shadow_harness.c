/*
 * The shadow engine's test harness (see shadow_harness.h).
 */
#include <math.h>
#include <string.h>

#include "ipam/shadow.h"
#include "tests/unit/shadow_harness.h"

static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double
unif(uint64_t *s)
{
	return (double)(rnd(s) >> 11) / (double)(1ULL << 53);
}

unsigned
poisson(uint64_t *s, double mean)
{
	double l, p = 1;
	unsigned k = 0;

	if (mean <= 0)
		return 0;
	if (mean > 50) {
		double u1 = unif(s) + 1e-12, u2 = unif(s);
		double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
		double v = mean + sqrt(mean) * z + 0.5;

		return v < 0 ? 0 : (unsigned)v;
	}
	l = exp(-mean);
	do {
		k++;
		p *= unif(s);
	} while (p > l);
	return k - 1;
}

void
sim_init(struct sim *s, const struct shadow_params *p, uint64_t pool_size)
{
	memset(s, 0, sizeof(*s));
	if (p != NULL)
		s->p = *p;
	else
		shadow_params_default(&s->p);
	s->sh = shadow_new(&s->p, pool_size);
	s->rng = 12345;
	s->lead_ms = 1000;
	s->pool_size = pool_size;
	s->pool_free = pool_size;
}

void
sim_done(struct sim *s)
{
	shadow_free(s->sh);
}

static void
sim_plan(struct sim *s, uint64_t t)
{
	struct shadow_state st;
	struct shadow_decision d;
	uint64_t now = s->now;

	s->now = t;
	sim_state(s, &st);
	shadow_plan(s->sh, t, &st, &d);
	sim_apply(s, t, &d);
	s->now = now;
}

void
sim_alloc(struct sim *s, uint64_t t)
{
	shadow_on_alloc(s->sh, t);
	if (s->nheld > 0) {
		uint64_t r = s->ready_at[0];
		double wait = r > t ? (double)(r - t) / 1000 : 0;

		memmove(&s->ready_at[0], &s->ready_at[1],
		    sizeof(s->ready_at[0]) * --s->nheld);
		shadow_on_served(s->sh, t, true, wait);
		s->hits++;
		s->wait_s += wait;
	} else {
		if (s->pool_free > 0)
			s->pool_free--;
		shadow_on_served(s->sh, t, false, s->lead_ms / 1000.0);
		s->misses++;
		s->wait_s += s->lead_ms / 1000.0;
	}
	if (s->plan_events)
		sim_plan(s, t);
}

void
sim_state(const struct sim *s, struct shadow_state *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < s->nheld; i++) {
		if (s->ready_at[i] <= s->now)
			st->warm_ready++;
		else
			st->warm_converging++;
	}
	st->pool_free = s->pool_free;
	st->pool_size = s->pool_size;
}

void
sim_apply(struct sim *s, uint64_t t, const struct shadow_decision *d)
{
	uint32_t i;

	for (i = 0; i < d->want_alloc && s->nheld < HELD_MAX; i++) {
		s->ready_at[s->nheld++] = t + s->lead_ms;
		s->pool_free--;
		shadow_on_prealloc_made(s->sh, t);
	}
	for (i = 0; i < d->want_release && s->nheld > 0; i++) {
		s->nheld--;		/* the youngest */
		s->pool_free++;
		shadow_on_prealloc_released(s->sh, t);
	}
}

void
sim_tick(struct sim *s)
{
	struct shadow_state st;

	sim_state(s, &st);
	shadow_tick(s->sh, s->now, &st, &s->d);
	sim_apply(s, s->now, &s->d);
}

void
sim_allocs(struct sim *s, uint64_t t, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		sim_alloc(s, t + (uint64_t)(999.0 * (i + 1) / (n + 1)));
}

void
sim_poisson(struct sim *s, double rate, unsigned seconds)
{
	unsigned i;

	for (i = 0; i < seconds; i++) {
		sim_allocs(s, s->now, poisson(&s->rng, rate));
		s->now += 1000;
		sim_tick(s);
	}
}
