/*
 * Shadow inventory internals shared by shadow.c (engine and rings),
 * shadow_model.c (forecasts), shadow_policy.c (learning) and
 * shadow_anomaly.c (detection).  Not a contract: only ipam/shadow*.c
 * include it.
 */
#ifndef IPAM_SHADOW_INT_H
#define IPAM_SHADOW_INT_H

#include "ipam/shadow.h"

#define SHADOW_INTENTS		16
#define SHADOW_RECENT_SLOTS	15	/* minutes of hit-rate history */
#define SHADOW_GAP_MAX_BINS	86400	/* longer silences are skipped */

struct shadow_coarse {
	uint32_t	 allocs;
	uint32_t	 route_adds;
};

struct shadow_holt {
	double		 level;		/* requests per tick */
	double		 trend;		/* per tick per tick */
	bool		 started;
};

struct shadow_kalman {
	double		 x;		/* rate per tick */
	double		 p;		/* variance of x */
	double		 innov;		/* EWMA of normalised innovations */
};

struct shadow_churn {
	double		 mx;		/* mean fresh adds per tick */
	double		 my;		/* mean requests per tick */
	double		 vy;
	double		 cov[SHADOW_CHURN_MAX_LAG + 1];	/* adds(t-l), req(t) */
	double		 acov[SHADOW_CHURN_MAX_LAG + 1];	/* adds(t), adds(t-k) */
	double		 kernel[SHADOW_CHURN_MAX_LAG + 1];	/* req per add */
	double		 lag;		/* ticks */
	double		 ratio;
	double		 corr;
	double		 base;		/* unexplained requests per tick */
	uint64_t	 n;
};

/* Per-model one-tick error statistics. */
struct shadow_err {
	double		 pred;		/* prediction for the bin being filled */
	double		 mse;
	double		 res2;		/* EWMA of squared residual */
	double		 mean;		/* EWMA of predictions */
};

struct shadow_intent {
	uint64_t	 end_ms;
	double		 remaining;
};

struct shadow_recent_slot {
	uint64_t	 minute;
	uint32_t	 requests;
	uint32_t	 hits;
};

/* A predictive count distribution: mean and variance. */
struct shadow_dist {
	double		 mean;
	double		 var;
};

struct shadow_policy_state {
	uint64_t	 epoch_start_ms;
	double		 miss_wait;	/* request-seconds of misses */
	double		 partial_wait;	/* of hits still converging */
	uint32_t	 misses;
	uint32_t	 partials;
	uint32_t	 last_unit_hits;
	double		 held_pos_s;	/* seconds with at least one held */
	double		 lead_obs;	/* EWMA of miss waits, seconds */
	bool		 lead_seen;
	int64_t		 held_est;	/* held between ticks */
};

struct shadow_anomaly_state {
	double		 s_pos;
	double		 s_neg;
	double		 blk_y;
	double		 blk_m;
	double		 blk_phi;
	uint32_t	 blk_n;
	double		 blk_rate;	/* per tick, frozen at block start */
	bool		 blk_primed;	/* blk_rate, blk_phi set for it */
	uint32_t	 hold_blocks;	/* after a burst: no learning, no drop */
	/* churn-without-allocation window */
	uint64_t	 quiet_start_ms;
	double		 quiet_pred_churn;
	double		 quiet_pred_all;
	double		 quiet_y;
	double		 quiet_adds;
	bool		 quiet_started;
	bool		 quiet_alerted;
	uint64_t	 quiet_alert_ms;
};

struct shadow {
	struct shadow_params p;
	uint64_t	 pool_size;
	uint64_t	 rng;

	/* time */
	bool		 clock_set;
	uint64_t	 next_bin;	/* first bin not closed yet */
	uint64_t	 last_tick_ms;
	bool		 ticked;
	uint64_t	 ticks;
	uint64_t	 bins_closed;

	/* open bins: [next_bin, next_bin + SHADOW_OPEN_BINS) */
#define SHADOW_OPEN_BINS	4
	struct shadow_bin open[SHADOW_OPEN_BINS];

	/* move detection */
	uint32_t	 del_credit;
	uint64_t	 last_del_ms;

	/* rings */
	struct shadow_bin fine[SHADOW_FINE_BINS];
	size_t		 fine_head;	/* next slot to write */
	size_t		 fine_len;
	struct shadow_coarse coarse[SHADOW_COARSE_BINS];
	size_t		 coarse_head;
	size_t		 coarse_len;
	struct shadow_coarse coarse_open;
	uint32_t	 coarse_fill;	/* bins in coarse_open */
	uint64_t	 coarse_total;	/* coarse bins ever closed */

	/* models */
	struct shadow_holt holt;
	struct shadow_kalman kalman;
	struct shadow_churn churn;	/* requests after fresh remote adds */
	struct shadow_churn excite;	/* requests after requests */
	struct shadow_err err[SHADOW_NMODELS];
	double		 weights[SHADOW_NMODELS];
	double		 churn_next;	/* churn part of the next prediction */
	double		 ens_next;	/* ensemble prediction, next bin */

	struct shadow_intent intents[SHADOW_INTENTS];

	/* policy */
	double		 quantile;
	double		 lead_s;
	double		 lead_mult;
	struct shadow_policy_state pol;

	/* engine */
	uint64_t	 over_since_ms;
	bool		 over;
	struct shadow_decision last;
	struct shadow_state state;

	/* outcomes */
	uint64_t	 requests, hits, partial_hits, misses;
	double		 waste, delay;
	struct shadow_recent_slot recent[SHADOW_RECENT_SLOTS];

	/* counters */
	uint64_t	 n_allocs, n_releases, n_adds, n_dels, n_learns, n_moves;
	uint64_t	 n_intents, n_made, n_released;

	struct shadow_anomaly_state an;

	/* logs */
	struct shadow_alert alerts[SHADOW_ALERT_RING];
	uint64_t	 alert_seq;
	struct shadow_policy_change plog[SHADOW_POLICY_RING];
	uint64_t	 plog_seq;
};

/* shadow.c */
const struct shadow_bin *shadow_fine_at(const struct shadow *, size_t age);
double		 shadow_intent_in(const struct shadow *, uint64_t now_ms,
		    double window_s);
void		 shadow_alert_add(struct shadow *, uint64_t t_ms,
		    enum shadow_alert_kind, double score, const char *msg);
void		 shadow_policy_add(struct shadow *, uint64_t t_ms,
		    enum shadow_policy_what, double old_value, double new_value,
		    const char *reason);
double		 shadow_newsvendor(const struct shadow_params *);
double		 shadow_quantile_lo(const struct shadow_params *);

/* shadow_model.c */
void		 shadow_models_init(struct shadow *);
/* Learn from the bin just closed (y requests, x fresh adds). */
void		 shadow_models_update(struct shadow *, double y, double x);
/* Requests within the next w ticks, per model. */
struct shadow_dist shadow_model_window(const struct shadow *,
		    enum shadow_model, double w);
/* The churn model's component alone (requests following seen adds). */
double		 shadow_churn_pending(const struct shadow *, double w);
/* Requests still expected after the next w ticks from the adds and the
 * requests already seen (both lag kernels), within their maximum lag. */
double		 shadow_churn_due(const struct shadow *, double w);
/* Dispersion (variance / mean of one-tick residuals) of a model. */
double		 shadow_model_dispersion(const struct shadow *,
		    enum shadow_model);
/* Quantiles of the ensemble (or of the selected model) over w ticks. */
void		 shadow_forecast_window(const struct shadow *, double w,
		    double extra, double q_target, struct shadow_quantiles *);
/* Smallest k with P(N <= k) >= q for a mixture (exposed for tests). */
double		 shadow_mixture_quantile(const double *weights,
		    const struct shadow_dist *, size_t n, double q);
double		 shadow_poisson_cdf(double k, double mean);

/* shadow_policy.c */
void		 shadow_policy_init(struct shadow *);
void		 shadow_policy_served(struct shadow *, uint64_t t_ms, bool hit,
		    double wait_s);
void		 shadow_policy_tick(struct shadow *, uint64_t t_ms, double dt_s,
		    uint64_t held);

/* shadow_anomaly.c */
/* pred: the ensemble's prediction for the bin; pred_churn: the churn
 * component of it; pred_churn_model: the churn model's whole prediction. */
void		 shadow_anomaly_bin(struct shadow *, uint64_t bin_ms, double y,
		    double pred, double pred_churn, double pred_churn_model,
		    double x);

#endif
