/*
 * Shadow inventory anomaly detection: requests far above what was
 * expected or announced ("burst"), far below ("drop"), and route churn
 * that no allocation follows ("churn_without_alloc").
 *
 * How this works.  Requests come in runs (shadow_runs.c): an autoscaler
 * step of a dozen requests in a few seconds is one event, not a dozen,
 * and a detector that counts requests mistakes every step for a burst
 * and the quiet after it for a drop.  So there are two tests.
 *
 * Announced demand comes off first.  A request that an open intent
 * announced consumes it; otherwise it may consume the credit remote
 * adds leave: each fresh add brings the high end of the requests-per-add
 * spread learned over earlier runs that followed adds (mean + 3 sd; a
 * gang's local share varies from a sixth to a half of its size), and
 * the credit fades with a time constant of CREDIT_TAU_S.  What neither
 * covers is unannounced.
 *
 * Runs (at every request).  The unannounced requests of the current run
 * are compared with the sizes of earlier unannounced runs: P(S >= n)
 * from their histogram, with an exponential tail above its 99th
 * percentile u (the mean excess over it, at least u/4) so that sizes
 * never seen still get a probability.  Below RUN_ALERT_P (and at least
 * RUN_ALERT_MIN unannounced requests, and RUN_MIN_HISTORY runs seen) it
 * alerts "burst", once per run.  A few thousand runs a week per pool at
 * 1e-4 would be a few tenths of a false alarm a week if the tail fitted
 * exactly; the tail is wider than the steps it is fitted to, and the
 * measured numbers are in the README.
 *
 * Blocks (every SHADOW_ANOMALY_BLOCK ticks).  The block's unannounced
 * requests Y are compared with M, those the forecast expected when the
 * block began (the level and the current run), frozen so that a surge
 * cannot raise its own yardstick.  Counts made of runs are
 * over-dispersed by phi = E[S^2] / E[S] of the run sizes (compound
 * Poisson), so through Anscombe's transform
 *   z = 2 (sqrt(Y + 3/8) - sqrt(M + 3/8)) / sqrt(phi)
 * is roughly N(0,1), and feeds a two-sided CUSUM
 *   S+ = max(0, S+ + z - k)   ("burst": a surge of requests)
 *   S- = max(0, S- - z - k)   ("drop": demand that vanished; M is then
 *                              the level alone, announced demand that
 *                              does not come is the next test's)
 * with k = 0.5, h = 8 (one block with z > SINGLE_Z alerts at once).  For
 * N(0,1) z one side's in-control run length is about 19,000 blocks; at
 * the small means of quiet hours z is skewed the safe way (a block with
 * no request moves S- by less than k, so a drop can only be seen where
 * requests are expected).  The level models learn from run starts, so
 * an autoscaler step neither lifts M for the blocks after it nor makes
 * them look like a drop.  After a burst both sides are held off for
 * HOLD_BLOCKS: its end is not news.
 *
 * Churn without allocation.  Over tumbling windows of
 * SHADOW_CHURN_QUIET_S, in the bins where the churn kernel expected
 * requests after fresh remote adds, the requests seen (less the
 * background there) over those expected give a per-window ratio; its
 * mean and spread are learned (QUIET_MEMORY windows, each ratio
 * winsorised at 2 sd so that the anomaly cannot widen its own
 * yardstick).  A window alerts when, even at the low end of the spread
 * (mean - 3 sd, and 3 sd / sqrt(3) over the last three windows
 * together), the requests seen are
 * implausibly few (Poisson lower tail below QUIET_P) and at least
 * QUIET_MIN_EXPECTED were expected; at most once an hour.  Gangs whose
 * local share varies from a sixth to a half do not look like a broken
 * allocation path; three windows of remote adds with no local request
 * do.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "ipam/shadow_int.h"

#define WARMUP_BINS		120	/* let the models settle first */
#define WARMUP_RUNS		20	/* ... and see some demand */
#define SINGLE_Z		8.0	/* one block this far out: burst */
#define PHI_MAX			16.0
#define HOLD_BLOCKS		60	/* 10 min after a burst: quiet */
#define RUN_ALERT_P		1e-4
#define RUN_ALERT_MIN		10.0	/* unexplained requests in the run */
#define CREDIT_TAU_S		60.0	/* announced requests fade */
#define RUN_TAIL_Q		0.99	/* exponential tail above this */
#define RUN_TAIL_PRIOR		0.5	/* runs of prior mass above it */
#define RUN_MIN_HISTORY		50	/* unannounced runs before the test */
#define RATIO_SPREAD		3.0	/* sd of the churn ratio */
#define QUIET_MIN_EXPECTED	3.0
#define QUIET_P			1e-3
#define QUIET_BIN_MIN		0.05	/* churn-predicted requests in a bin */
#define QUIET_REPEAT_MS		3600000	/* one such alert an hour at most */
#define QUIET_MEMORY		50.0	/* windows */
#define QUIET_PRIOR		3.0	/* windows of prior: mean 1, sd 0.5 */

/* The ratio's mean and sd over windows (with a prior of QUIET_PRIOR
 * windows at mean 1, sd 0.5, so a few windows do not make it exact). */
static void
ratio_stats(const struct shadow_anomaly_state *an, double *mean, double *sd)
{
	double n = an->ratio_n + QUIET_PRIOR;

	*mean = (an->ratio_sum + QUIET_PRIOR) / n;
	*sd = sqrt(fmax(0, (an->ratio_sq + QUIET_PRIOR * 1.25) / n -
	    *mean * *mean));
}

/*
 * Requests per fresh remote add, over runs that followed adds (a gang's
 * local share, and chance requests after churn): the high end of its
 * spread is how much of a run the adds before it can explain.
 */
static double
episode_ratio_hi(const struct shadow *sh)
{
	const struct shadow_anomaly_state *an = &sh->an;
	double n = an->ep_n + QUIET_PRIOR, m, sd;

	m = (an->ep_sum + QUIET_PRIOR * 0.5) / n;
	sd = sqrt(fmax(0, (an->ep_sq + QUIET_PRIOR * 0.5) / n - m * m));
	return m + RATIO_SPREAD * sd;
}

void
shadow_anomaly_run_closed(struct shadow *sh, uint32_t n, double adds)
{
	struct shadow_anomaly_state *an = &sh->an;
	double r, a;

	if (adds < 1)
		return;
	r = (double)n / adds;
	an->ep_runs++;
	a = 1 - 1 / fmin((double)an->ep_runs, QUIET_MEMORY);
	an->ep_n = an->ep_n * a + 1;
	an->ep_sum = an->ep_sum * a + r;
	an->ep_sq = an->ep_sq * a + r * r;
}

/*
 * P(S >= x) for unannounced runs: the histogram up to its RUN_TAIL_Q
 * quantile u, then P(S > u) exp(-(x - u - 1) / theta), theta the mean
 * excess over u (at least 1).
 */
static double
run_tail(const struct shadow *sh, double x)
{
	const struct shadow_runs *r = &sh->runs;
	double tot = r->total[0], above = 0, excess = 0, theta;
	size_t u, i;

	if (x <= 1 || tot <= 0)
		return 1;
	for (u = 1; u < SHADOW_RUN_SIZES; u++) {
		above = 0;
		for (i = u + 1; i <= SHADOW_RUN_SIZES; i++)
			above += r->size[0][i];
		if (above / tot <= 1 - RUN_TAIL_Q)
			break;
	}
	if (x <= (double)u) {
		double sum = 0;

		for (i = (size_t)ceil(x); i <= SHADOW_RUN_SIZES; i++)
			sum += r->size[0][i];
		return sum / tot;
	}
	for (i = u + 1; i <= SHADOW_RUN_SIZES; i++)
		excess += ((double)i - (double)u) * r->size[0][i];
	/* At least a quarter of u: a tail seen in a few runs only is not
	 * sharper than the sizes below it. */
	theta = fmax((double)u / 4, above > 0 ? fmax(1, excess / above) : 1);
	/* Never seen above u is not impossible: half a run of prior. */
	return (above + RUN_TAIL_PRIOR) / tot * exp(-(x - (double)u - 1) /
	    theta);
}

static void
burst_alerted(struct shadow *sh)
{
	struct shadow_anomaly_state *an = &sh->an;

	an->s_pos = an->s_neg = 0;
	an->hold_blocks = HOLD_BLOCKS;
}

/* The credit of announced requests, decayed to t_ms. */
static void
credit_decay(struct shadow_anomaly_state *an, uint64_t t_ms)
{
	if (t_ms > an->credit_ms) {
		an->credit *= exp(-(double)(t_ms - an->credit_ms) /
		    (1000.0 * CREDIT_TAU_S));
		an->credit_ms = t_ms;
	}
}

void
shadow_anomaly_add(struct shadow *sh, uint64_t t_ms)
{
	struct shadow_anomaly_state *an = &sh->an;

	credit_decay(an, t_ms);
	an->credit += episode_ratio_hi(sh);
}

void
shadow_anomaly_request(struct shadow *sh, uint64_t t_ms, bool explained)
{
	struct shadow_anomaly_state *an = &sh->an;
	struct shadow_runs *r = &sh->runs;
	double u, p;
	char msg[SHADOW_MSG_MAX];

	credit_decay(an, t_ms);
	if (!explained && an->credit >= 1) {
		an->credit -= 1;
		explained = true;
	}
	if (explained)
		an->blk_expl++;
	else if (r->unexplained < UINT32_MAX)
		r->unexplained++;
	if (sh->bins_closed < WARMUP_BINS || !r->active ||
	    an->hold_blocks > 0 || r->closed[0] < RUN_MIN_HISTORY ||
	    an->run_alerted_start == r->start_ms + 1)
		return;
	u = r->unexplained;
	if (u < RUN_ALERT_MIN || (p = run_tail(sh, u)) >= RUN_ALERT_P)
		return;
	an->run_alerted_start = r->start_ms + 1;
	snprintf(msg, sizeof(msg), "burst: %u requests in %.0fs, %u not "
	    "announced, P %.1e for a run of unannounced demand", r->n,
	    (double)(t_ms - r->start_ms) / 1000.0, r->unexplained, p);
	shadow_alert_add(sh, t_ms, SHADOW_ALERT_BURST, -log10(p), msg);
	burst_alerted(sh);
}

static double
anscombe_z(double y, double m)
{
	return 2 * (sqrt(y + 0.375) - sqrt(fmax(m, 0) + 0.375));
}

/* Dispersion of counts made of runs: E[S^2] / E[S] (compound Poisson). */
static double
run_dispersion(const struct shadow *sh)
{
	const struct shadow_runs *r = &sh->runs;
	double s1 = 0, s2 = 0;
	size_t i;

	for (i = 1; i <= SHADOW_RUN_SIZES; i++) {
		s1 += (double)i * r->size[0][i];
		s2 += (double)(i * i) * r->size[0][i];
	}
	return s1 > 0 ? fmin(PHI_MAX, fmax(1, s2 / s1)) : 1;
}

static void
cusum_block(struct shadow *sh, uint64_t t_ms)
{
	struct shadow_anomaly_state *an = &sh->an;
	double y = an->blk_y, m = an->blk_m, z, sphi = sqrt(an->blk_phi);
	double win_s = an->blk_n * sh->p.tick_ms / 1000.0;
	char msg[SHADOW_MSG_MAX];

	z = anscombe_z(y, m) / sphi;
	if (an->hold_blocks > 0) {
		an->hold_blocks--;
		an->s_pos = an->s_neg = 0;
		return;
	}
	an->s_pos = fmax(0, an->s_pos + z - sh->p.cusum_k);
	/* A drop is one against the background: announced demand that
	 * does not come is churn without allocation. */
	an->s_neg = fmax(0, an->s_neg - anscombe_z(y, an->blk_m_bg) / sphi -
	    sh->p.cusum_k);
	if (an->s_pos > sh->p.cusum_h || z > SINGLE_Z) {
		snprintf(msg, sizeof(msg), "burst: %.0f requests in %.0fs, "
		    "%.1f expected (z %.1f, cusum %.1f)", y, win_s, m, z,
		    an->s_pos);
		shadow_alert_add(sh, t_ms, SHADOW_ALERT_BURST,
		    fmax(an->s_pos, z), msg);
		burst_alerted(sh);
	} else if (an->s_neg > sh->p.cusum_h) {
		snprintf(msg, sizeof(msg), "drop: %.0f requests in %.0fs, "
		    "%.1f expected (cusum %.1f > %.1f)", y, win_s,
		    an->blk_m_bg, an->s_neg, sh->p.cusum_h);
		shadow_alert_add(sh, t_ms, SHADOW_ALERT_DROP, an->s_neg, msg);
		an->s_pos = an->s_neg = 0;
	}
}

/*
 * The requests expected in the next block, frozen now, before any of
 * its bins is learned: the level and what the current run still brings
 * (announced requests are taken off the count instead); the level alone
 * for the drop side; the dispersion of runs.
 */
static void
block_freeze(struct shadow *sh)
{
	struct shadow_anomaly_state *an = &sh->an;
	double w = SHADOW_ANOMALY_BLOCK;
	uint64_t now = sh->next_bin * sh->p.tick_ms;

	an->blk_m_bg = shadow_background_window(sh, w);
	an->blk_m = an->blk_m_bg + shadow_runs_pending(sh, now,
	    w * sh->p.tick_ms / 1000.0);
	an->blk_phi = run_dispersion(sh);
	an->blk_primed = true;
}

static void
quiet_alert(struct shadow *sh, uint64_t t_ms, double y, double b, double pc,
    double r_lo, const char *span)
{
	struct shadow_anomaly_state *an = &sh->an;
	double lo = b + r_lo * pc, p = shadow_poisson_cdf(y, lo);
	char msg[SHADOW_MSG_MAX];

	if (pc < QUIET_MIN_EXPECTED || r_lo * pc < QUIET_MIN_EXPECTED ||
	    p >= QUIET_P)
		return;
	/* The same condition persists while the model relearns: say it
	 * once an hour, not every window. */
	if (an->quiet_alerted && t_ms - an->quiet_alert_ms < QUIET_REPEAT_MS)
		return;
	an->quiet_alerted = true;
	an->quiet_alert_ms = t_ms;
	snprintf(msg, sizeof(msg), "churn without allocation: %.1f requests "
	    "expected after remote adds (at least %.1f), %.0f seen %s",
	    b + pc, lo, y, span);
	shadow_alert_add(sh, t_ms, SHADOW_ALERT_CHURN_NO_ALLOC,
	    p > 0 ? -log10(p) : 300, msg);
}

/* One window ends: test it alone and with the two before it, then learn
 * its ratio. */
static void
quiet_window(struct shadow *sh, uint64_t t_ms)
{
	struct shadow_anomaly_state *an = &sh->an;
	struct shadow_quiet *w = an->quiet_last, *cur = &an->quiet;
	double m, sd, y = 0, b = 0, pc = 0, r, a;
	size_t i;

	ratio_stats(an, &m, &sd);
	quiet_alert(sh, t_ms, cur->y, cur->bg, cur->pred,
	    m - RATIO_SPREAD * sd, "in the last window");
	memmove(&w[1], &w[0], sizeof(w[0]) * (nitems(an->quiet_last) - 1));
	w[0] = *cur;
	for (i = 0; i < nitems(an->quiet_last); i++) {
		y += w[i].y;
		b += w[i].bg;
		pc += w[i].pred;
	}
	quiet_alert(sh, t_ms, y, b, pc, m - RATIO_SPREAD * sd /
	    sqrt(nitems(an->quiet_last)), "over three windows");
	if (cur->pred >= 1) {
		/* Winsorised at 2 sd: a run of empty windows (the anomaly
		 * itself) must not widen the spread that judges it. */
		r = fmax(0, cur->y - cur->bg) / cur->pred;
		r = fmin(fmax(r, m - 2 * sd), m + 2 * sd);
		an->ratio_windows++;
		a = 1 - 1 / fmin((double)an->ratio_windows, QUIET_MEMORY);
		an->ratio_n = an->ratio_n * a + 1;
		an->ratio_sum = an->ratio_sum * a + r;
		an->ratio_sq = an->ratio_sq * a + r * r;
	}
	memset(cur, 0, sizeof(*cur));
}

void
shadow_anomaly_bin(struct shadow *sh, const struct shadow_bin *bin,
    double pred_churn, double pred_churn_model)
{
	struct shadow_anomaly_state *an = &sh->an;
	uint64_t end_ms = bin->t_ms + sh->p.tick_ms;

	if (sh->bins_closed < WARMUP_BINS ||
	    sh->runs.closed[0] + sh->runs.closed[1] < WARMUP_RUNS)
		return;
	if (!an->blk_primed)
		block_freeze(sh);
	an->blk_y += bin->allocs;
	if (++an->blk_n >= SHADOW_ANOMALY_BLOCK) {
		an->blk_y = fmax(0, an->blk_y - an->blk_expl);
		cusum_block(sh, end_ms);
		an->blk_y = an->blk_expl = 0;
		an->blk_n = 0;
		block_freeze(sh);
	}

	if (!an->quiet_started) {
		an->quiet_started = true;
		an->quiet_start_ms = bin->t_ms;
	}
	/* Only the bins where churn said requests were due: background
	 * demand elsewhere must not hide a missing response. */
	if (pred_churn >= QUIET_BIN_MIN) {
		an->quiet.pred += pred_churn;
		an->quiet.bg += fmax(0, pred_churn_model - pred_churn);
		an->quiet.y += bin->allocs;
	}
	an->quiet.adds += bin->route_adds;
	if (end_ms - an->quiet_start_ms >= SHADOW_CHURN_QUIET_S * 1000ULL) {
		quiet_window(sh, end_ms);
		an->quiet_start_ms = end_ms;
	}
}

/*
 * Requests the leading signals (traffic rises, neighbour misses)
 * announce for the bin now open are credited like remote adds' (at
 * ANNOUNCE_HIGH times their mean: the high end of what they bring).
 */
#define ANNOUNCE_HIGH		2.0

void
shadow_anomaly_announce(struct shadow *sh, uint64_t t_ms, double expected)
{
	credit_decay(&sh->an, t_ms);
	sh->an.credit += ANNOUNCE_HIGH * expected;
}

/*
 * Scans.  One source asking (ARP, ND) for many pool addresses that no
 * one holds is walking the pool, not about to be answered.  Per source
 * (the SHADOW_SCAN_SOURCES most recent), the distinct targets of the
 * current and the previous SCAN_HALF_S are counted in two
 * SHADOW_SCAN_BITS-bit bitmaps by linear counting (Whang et al., 1990):
 * n ~ -m ln(zeros / m).  At SCAN_TARGETS distinct targets within one to
 * two half-windows the source is scanning: alert "scan" naming it, once
 * until it has gone quiet for a whole window.  A handful of ordinary
 * misses (a client retrying, a service not up yet) stays far below.
 * Returns whether the source counts as scanning, so that its misses are
 * not taken for demand (at SCAN_DEMAND_MAX targets already).
 */
#define SCAN_HALF_S		30
#define SCAN_TARGETS		32
#define SCAN_DEMAND_MAX		8

static struct shadow_scan_source *
scan_source(struct shadow_neigh *nm, const struct ipaddr *a, uint32_t now_s)
{
	struct shadow_scan_source *s, *oldest = &nm->src[0];
	size_t i;

	for (i = 0; i < SHADOW_SCAN_SOURCES; i++) {
		s = &nm->src[i];
		if (s->last_s != 0 && ipaddr_cmp(&s->addr, a) == 0)
			return s;
		if (s->last_s < oldest->last_s)
			oldest = s;
	}
	memset(oldest, 0, sizeof(*oldest));
	oldest->addr = *a;
	oldest->half = now_s / SCAN_HALF_S;
	return oldest;
}

static double
scan_distinct(const struct shadow_scan_source *s)
{
	size_t i, zeros = 0;

	for (i = 0; i < sizeof(s->cur); i++)
		zeros += 8 - (size_t)__builtin_popcount(s->cur[i] | s->prev[i]);
	if (zeros == 0)
		zeros = 1;
	return -SHADOW_SCAN_BITS * log((double)zeros / SHADOW_SCAN_BITS);
}

/* Move the source's windows on to now_s's half-window. */
static void
scan_roll(struct shadow_scan_source *s, uint32_t now_s)
{
	uint32_t half = now_s / SCAN_HALF_S;

	if (half == s->half)
		return;
	if (half == s->half + 1)
		memcpy(s->prev, s->cur, sizeof(s->prev));
	else
		memset(s->prev, 0, sizeof(s->prev));
	memset(s->cur, 0, sizeof(s->cur));
	s->half = half;
	if (scan_distinct(s) < SCAN_TARGETS / 2.0)
		s->alerted = false;
}

bool
shadow_scan_miss(struct shadow *sh, uint64_t t_ms,
    const struct ipaddr *source, uint32_t target_hash)
{
	uint32_t now_s = (uint32_t)(t_ms / 1000) + 1, bit;
	struct shadow_scan_source *s;
	char addr[64], msg[SHADOW_MSG_MAX];
	double n;

	s = scan_source(&sh->nm, source, now_s);
	scan_roll(s, now_s);
	s->last_s = now_s;
	bit = target_hash % SHADOW_SCAN_BITS;
	s->cur[bit / 8] |= (uint8_t)(1u << (bit % 8));
	n = scan_distinct(s);
	if (n >= SCAN_TARGETS && !s->alerted) {
		s->alerted = true;
		ipaddr_fmt(source, addr, sizeof(addr));
		snprintf(msg, sizeof(msg), "%.46s asked for %.0f unallocated "
		    "addresses in %d s", addr, fmin(n, 9999), 2 * SCAN_HALF_S);
		shadow_alert_add(sh, t_ms, SHADOW_ALERT_SCAN, n, msg);
	}
	return n >= SCAN_DEMAND_MAX;
}
