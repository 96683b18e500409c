/*
 * Shadow inventory anomaly detection: a two-sided CUSUM on standardised
 * forecast residuals, and churn that no allocation follows.
 *
 * How this works: each closed bin brings the requests seen and the
 * ensemble's one-tick prediction made before the bin opened.  Every
 * SHADOW_ANOMALY_BLOCK bins the block's count Y and predicted mean M give
 * z = 2 (sqrt(Y + 3/8) - sqrt(M + 3/8)) / sqrt(phi) (Anscombe's variance-
 * stabilising transform, divided by the residual dispersion phi so
 * clumpy demand is not mistaken for a shift), which feeds
 *   S+ = max(0, S+ + z - k)   ("burst" when S+ > h)
 *   S- = max(0, S- - z - k)   ("drop" when S- > h)
 * Both restart after an alert.  The false-alarm behaviour at the defaults
 * is in shadow.h.  Churn without allocation: over tumbling windows of
 * SHADOW_CHURN_QUIET_S, when the churn model expected at least
 * QUIET_MIN_EXPECTED requests from fresh remote adds and the requests
 * seen are below the Poisson lower tail QUIET_P of everything predicted.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ipam/shadow_int.h"

#define WARMUP_BINS		120	/* let the models settle first */
#define PHI_MAX			4.0
#define QUIET_MIN_EXPECTED	3.0
#define QUIET_P			1e-3
#define QUIET_BIN_MIN		0.05	/* churn-predicted requests in a bin */
#define QUIET_REPEAT_MS		3600000	/* one such alert an hour at most */
#define SINGLE_Z		8.0	/* one block this far out: burst */
#define HOLD_BLOCKS		60	/* no drop alert 10 min after a burst */

/*
 * One block against the rate predicted when it started: the one-tick
 * predictions made during a burst climb with it (every model learns from
 * the burst's first bins), which hid the burst and then flagged a "drop"
 * after it.  A block far outside (z > SINGLE_Z) alerts at once; smaller
 * shifts accumulate in the CUSUM.  After a burst the drop side is held
 * for HOLD_BLOCKS: the models are still unlearning the burst and a drop
 * then is the burst ending, not demand vanishing.
 */
static void
cusum_block(struct shadow *sh, uint64_t t_ms)
{
	struct shadow_anomaly_state *an = &sh->an;
	double phi, z, zd, y = an->blk_y, m = an->blk_rate * an->blk_n;
	double win_s = an->blk_n * sh->p.tick_ms / 1000.0;
	char msg[SHADOW_MSG_MAX];

	phi = an->blk_phi;
	phi = phi < 1 ? 1 : phi > PHI_MAX ? PHI_MAX : phi;
	z = 2 * (sqrt(y + 0.375) - sqrt(fmax(m, 0) + 0.375)) / sqrt(phi);
	/* A drop must be a drop against both expectations: the frozen one
	 * counts requests the lag kernels expected (a gang's local share),
	 * which may simply be smaller this time. */
	zd = 2 * (sqrt(y + 0.375) - sqrt(fmax(fmin(m, an->blk_m), 0) +
	    0.375)) / sqrt(phi);
	an->s_pos = fmax(0, an->s_pos + z - sh->p.cusum_k);
	if (an->hold_blocks > 0) {
		an->hold_blocks--;
		an->s_neg = 0;
	} else
		an->s_neg = fmax(0, an->s_neg - zd - sh->p.cusum_k);
	if (an->s_pos > sh->p.cusum_h || z > SINGLE_Z) {
		snprintf(msg, sizeof(msg), "burst: %.0f requests in %.0fs, "
		    "%.1f expected (z %.1f, cusum %.1f)", y, win_s, m, z,
		    an->s_pos);
		shadow_alert_add(sh, t_ms, SHADOW_ALERT_BURST,
		    fmax(an->s_pos, z), msg);
		an->s_pos = an->s_neg = 0;
		an->hold_blocks = HOLD_BLOCKS;
	} else if (an->s_neg > sh->p.cusum_h) {
		snprintf(msg, sizeof(msg), "drop: %.0f requests in %.0fs, "
		    "%.1f expected (cusum %.1f > %.1f)", y, win_s, m,
		    an->s_neg, sh->p.cusum_h);
		shadow_alert_add(sh, t_ms, SHADOW_ALERT_DROP, an->s_neg, msg);
		an->s_pos = an->s_neg = 0;
	}
}

static void
quiet_window(struct shadow *sh, uint64_t t_ms)
{
	struct shadow_anomaly_state *an = &sh->an;
	double p;
	char msg[SHADOW_MSG_MAX];

	if (an->quiet_pred_churn < QUIET_MIN_EXPECTED)
		return;
	p = shadow_poisson_cdf(an->quiet_y, an->quiet_pred_all);
	if (p >= QUIET_P)
		return;
	/* The same condition persists while the model relearns: say it
	 * once an hour, not every window. */
	if (an->quiet_alerted && t_ms - an->quiet_alert_ms < QUIET_REPEAT_MS)
		return;
	an->quiet_alerted = true;
	an->quiet_alert_ms = t_ms;
	snprintf(msg, sizeof(msg), "churn without allocation: %.0f remote "
	    "adds, %.1f requests expected, %.0f seen", an->quiet_adds,
	    an->quiet_pred_all, an->quiet_y);
	shadow_alert_add(sh, t_ms, SHADOW_ALERT_CHURN_NO_ALLOC,
	    p > 0 ? -log10(p) : 300, msg);
}

/*
 * The expectation for the next block, frozen now, before any of its bins
 * is learned: the forecast mean over the block (the rate, plus what the
 * lag kernels expect from adds and requests already seen: a gang
 * announced by its remote routes is no surprise) and the dispersion.
 */
static void
block_freeze(struct shadow *sh)
{
	struct shadow_anomaly_state *an = &sh->an;
	struct shadow_quantiles q;

	shadow_forecast_window(sh, SHADOW_ANOMALY_BLOCK, 0, 0.5, &q);
	an->blk_rate = q.mean / SHADOW_ANOMALY_BLOCK;
	an->blk_phi = shadow_model_dispersion(sh, sh->p.model);
	an->blk_primed = true;
}

void
shadow_anomaly_bin(struct shadow *sh, uint64_t bin_ms, double y, double pred,
    double pred_churn, double pred_churn_model, double x)
{
	struct shadow_anomaly_state *an = &sh->an;
	uint64_t end_ms = bin_ms + sh->p.tick_ms;

	if (sh->bins_closed < WARMUP_BINS)
		return;
	/* Freeze the expectation at the block's start: the rate then, plus
	 * what the lag kernels already expected from adds and requests
	 * seen (a gang announced by its remote routes is no surprise). */
	if (an->blk_n == 0 && !an->blk_primed) {
		an->blk_rate = pred;
		an->blk_phi = shadow_model_dispersion(sh, sh->p.model);
	}
	an->blk_y += y;
	an->blk_m += pred;
	if (++an->blk_n >= SHADOW_ANOMALY_BLOCK) {
		cusum_block(sh, end_ms);
		an->blk_y = an->blk_m = 0;
		an->blk_n = 0;
		block_freeze(sh);
	}

	if (!an->quiet_started) {
		an->quiet_started = true;
		an->quiet_start_ms = bin_ms;
	}
	/* Only the bins where churn said requests were due: background
	 * demand elsewhere must not hide a missing response. */
	if (pred_churn >= QUIET_BIN_MIN) {
		an->quiet_pred_churn += pred_churn;
		an->quiet_pred_all += pred_churn_model;
		an->quiet_y += y;
	}
	an->quiet_adds += x;
	if (end_ms - an->quiet_start_ms >= SHADOW_CHURN_QUIET_S * 1000ULL) {
		quiet_window(sh, end_ms);
		an->quiet_start_ms = end_ms;
		an->quiet_pred_churn = an->quiet_pred_all = 0;
		an->quiet_y = an->quiet_adds = 0;
	}
}
