/*
 * Shadow inventory internals shared by shadow.c (engine and rings),
 * shadow_model.c (forecasts), shadow_policy.c (learning) and
 * shadow_anomaly.c (detection).  Not a contract: only ipam/shadow*.c
 * include it.
 */
#ifndef IPAM_SHADOW_INT_H
#define IPAM_SHADOW_INT_H

#include "common/addr.h"
#include "ipam/shadow.h"

#define SHADOW_INTENTS		16
#define SHADOW_PMF_MAX		256	/* units weighed one by one */
#define SHADOW_RUN_SIZES	64	/* run-size histogram, last: 64+ */
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
	double		 gain;		/* of the last update */
	uint32_t	 n;		/* updates */
	/* level-shift test, on run starts per block */
	double		 blk_starts;
	double		 blk_pred;
	uint32_t	 blk_n;
	int		 prev_dir;
	double		 prev_starts;
	uint64_t	 blocks;
	uint64_t	 shifts;
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

struct shadow_runs {
	uint64_t	 start_ms;	/* the current run's first request */
	uint64_t	 last_ms;	/* its last request */
	uint32_t	 n;		/* its requests so far */
	double		 expl_adds;	/* fresh remote adds before and in it */
	uint32_t	 unexplained;	/* requests no announcement covered */
	bool		 active;
	bool		 announced;	/* started while demand was announced */
	/* decayed counts by size: [0] unannounced, [1] announced runs */
	double		 size[2][SHADOW_RUN_SIZES + 1];
	double		 total[2];
	uint64_t	 closed[2];
	double		 pace_ms;	/* mean gap inside a run */
};

/* What the decision asks the run model about one window. */
struct shadow_window_in {
	double		 a1_s;		/* the window ends this far from now */
	double		 w_s;		/* its length */
	double		 background;	/* requests from new runs (mean) */
	double		 announced;	/* churn kernel and intents (mean) */
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

/* Expected requests per future bin from the lag kernels: bin 1 is the
 * open bin, f how far into it "now" is (ticks). */
#define SHADOW_OUTLOOK_BINS	(SHADOW_CHURN_MAX_LAG + 2)
struct shadow_outlook {
	double		 f;
	double		 churn[SHADOW_OUTLOOK_BINS];	/* from remote adds */
	double		 signal[SHADOW_OUTLOOK_BINS];	/* traffic, misses */
	double		 run_s;		/* now, seconds: runs are timed in ms */
	uint64_t	 now_ms;
};

/* A predictive count distribution: mean and variance. */
struct shadow_dist {
	double		 mean;
	double		 var;
};

/* A marginal decision to settle once its window has passed. */
struct shadow_check {
	uint64_t	 end_ms;
	uint64_t	 allocs0;	/* requests counted when made */
	uint32_t	 k;		/* did at least k come? */
	double		 p;		/* predicted P(N >= k) */
};
#define SHADOW_CHECKS		64

struct shadow_policy_state {
	uint64_t	 epoch_start_ms;
	double		 lead_obs;	/* EWMA of miss waits, seconds */
	bool		 lead_seen;
	int64_t		 held_est;	/* held between ticks */
	/* calibration */
	struct shadow_check pending[SHADOW_CHECKS];
	size_t		 head;
	size_t		 npending;
	uint64_t	 nchecks;
	double		 sum_pred;
	double		 sum_obs;
	double		 factor;
	double		 logged_q;
};

/* One churn-without-allocation window. */
struct shadow_quiet {
	double		 pred;		/* requests the churn kernel expected */
	double		 bg;		/* background in the same bins */
	double		 y;		/* requests seen there */
	double		 adds;
};

struct shadow_anomaly_state {
	/* block CUSUM */
	double		 s_pos;
	double		 s_neg;
	double		 blk_y;		/* requests */
	double		 blk_m;		/* expected, frozen */
	double		 blk_m_bg;	/* ... from the level alone */
	double		 blk_phi;	/* dispersion of runs */
	uint32_t	 blk_n;
	bool		 blk_primed;
	uint32_t	 hold_blocks;	/* after a burst */
	uint64_t	 run_alerted_start;	/* start_ms + 1 of that run */
	double		 credit;	/* requests remote adds announced */
	uint64_t	 credit_ms;	/* as of */
	double		 blk_expl;	/* requests of the block it covered */
	/* churn-without-allocation windows */
	uint64_t	 quiet_start_ms;
	bool		 quiet_started;
	struct shadow_quiet quiet;
	struct shadow_quiet quiet_last[3];
	uint64_t	 ratio_windows;
	double		 ratio_n;	/* decayed count, sum, sum of squares */
	double		 ratio_sum;
	double		 ratio_sq;
	/* requests per fresh remote add, per run that followed adds */
	uint64_t	 ep_runs;
	double		 ep_n;
	double		 ep_sum;
	double		 ep_sq;
	bool		 quiet_alerted;
	uint64_t	 quiet_alert_ms;
};

/*
 * A leading signal (shadow_traffic.c): requests follow its per-bin
 * values x at lags learned from their cross-covariance.  Traffic rises
 * and fresh neighbour misses are two of them.
 */
#define SHADOW_TRAFFIC_MAX_LAG	300	/* ticks: autoscalers act in minutes */
#define SHADOW_TRAFFIC_RATE_MAX	1e9	/* packets/s: more is taken as this */
#define SHADOW_NEIGH_MAX_LAG	60
#define SHADOW_LEAD_RING	(2 * SHADOW_TRAFFIC_MAX_LAG + 1)
#define SHADOW_OPEN_BINS	4	/* as in struct shadow */
struct shadow_lead {
	double		 x[SHADOW_LEAD_RING];	/* closed bins, ring */
	size_t		 head;		/* next slot to write */
	double		 open[SHADOW_OPEN_BINS];	/* bins not closed */
	double		 cov[SHADOW_TRAFFIC_MAX_LAG + 1];	/* x(t-l), req(t) */
	double		 acov[SHADOW_TRAFFIC_MAX_LAG + 1];	/* x(t), x(t-k) */
	double		 kernel[SHADOW_TRAFFIC_MAX_LAG + 1];	/* req per x */
	double		 mass[SHADOW_OUTLOOK_BINS];	/* from closed bins */
	double		 mx, my, vy;
	double		 lag;		/* ticks */
	double		 gain;		/* requests per unit of x */
	double		 corr;
	uint32_t	 max_lag;
	uint32_t	 lo, hi;	/* the kernel's region */
	uint64_t	 n;		/* bins learned from */
	bool		 seen;		/* the signal ever came */
};

/* Traffic in the VNI. */
struct shadow_traffic {
	double		 rate;		/* smoothed packets/s */
	uint64_t	 last_ms;	/* last sample */
	uint64_t	 samples;
	bool		 started;
	struct shadow_lead lead;	/* x: rises of the rate */
};

/* ARP/ND for unallocated pool addresses: recent targets, and sources
 * watched by the scan detector. */
#define SHADOW_NEIGH_SLOTS	1024
#define SHADOW_SCAN_SOURCES	32
#define SHADOW_SCAN_BITS	256
struct shadow_neigh_target {
	uint32_t	 hash;
	uint32_t	 t_s;		/* last asked, seconds + 1 (0: empty) */
};
struct shadow_scan_source {
	struct ipaddr	 addr;
	bool		 alerted;
	uint32_t	 half;		/* half-window of cur */
	uint32_t	 last_s;
	uint8_t		 cur[SHADOW_SCAN_BITS / 8];
	uint8_t		 prev[SHADOW_SCAN_BITS / 8];
};
struct shadow_neigh {
	uint64_t	 total;
	struct shadow_neigh_target targets[SHADOW_NEIGH_SLOTS];
	struct shadow_scan_source src[SHADOW_SCAN_SOURCES];
	struct shadow_lead lead;	/* x: fresh misses, scans left out */
};

/* One group's demand (shadow_groups.c); label "" is a free slot. */
struct shadow_group {
	char		 label[SHADOW_GROUP_LABEL_MAX + 1];
	uint64_t	 active;
	uint64_t	 requests;
	uint64_t	 first_ms;
	uint64_t	 last_ms;	/* last request or release */
	uint64_t	 run_last_ms;
	uint32_t	 run_n;		/* the current run's requests */
	double		 starts;	/* decayed further run starts */
	uint64_t	 starts_ms;	/* as of */
	double		 sz_n;		/* decayed run sizes: count, */
	double		 sz_sum;	/* sum, */
	double		 sz_sq;		/* sum of squares */
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
	struct shadow_runs runs;	/* requests after requests */
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
	double		 jitter_u;	/* drawn at each tick, in [-1, 1] */
	double		 fab_busy_ms;	/* the fabric's backlog ends */
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
	struct shadow_traffic tr;
	struct shadow_neigh nm;

	/* logs */
	struct shadow_alert alerts[SHADOW_ALERT_RING];
	uint64_t	 alert_seq;
	struct shadow_policy_change plog[SHADOW_POLICY_RING];
	uint64_t	 plog_seq;

	/* groups (shadow_groups.c) */
	struct shadow_group groups[SHADOW_GROUPS_MAX];
	uint64_t	 groups_evicted;
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
/* Learn from the bin just closed (y requests, y_level the run starts
 * weighted by the mean run size; the adds are read from the rings). */
void		 shadow_models_update(struct shadow *, double y,
		    double y_level);
/* The background (new runs) over w ticks: the ensemble's level. */
double		 shadow_background_window(const struct shadow *, double w);
/* The lag kernels' expectations from what has been seen up to now. */
void		 shadow_outlook_at(const struct shadow *, uint64_t now_ms,
		    double f, struct shadow_outlook *);
double		 shadow_outlook_sum(const double *mass, double f, double w);
/* Requests within the w ticks from the outlook's now, per model. */
struct shadow_dist shadow_model_window(const struct shadow *,
		    const struct shadow_outlook *, enum shadow_model, double w);
/* The churn model's component alone over the next w ticks from the
 * open bin's start (requests following seen adds). */
double		 shadow_churn_pending(const struct shadow *, double w);
/* Dispersion (variance / mean of one-tick residuals) of a model. */
double		 shadow_model_dispersion(const struct shadow *,
		    enum shadow_model);
/* The ensemble's components (or the selected model) over w ticks, with
 * extra known requests; returns how many, weights in wt. */
size_t		 shadow_window_dists(const struct shadow *,
		    const struct shadow_outlook *, double w, double extra,
		    struct shadow_dist *d, double *wt);
/* Quantiles of the ensemble (or of the selected model) over w ticks. */
void		 shadow_forecast_window(const struct shadow *,
		    const struct shadow_outlook *, double w, double extra,
		    double q_target, struct shadow_quantiles *);
/* P(N >= k) for a mixture. */
double		 shadow_mixture_sf(const double *weights,
		    const struct shadow_dist *, size_t n, double k);
/* Smallest k with P(N <= k) >= q for a mixture (exposed for tests). */
double		 shadow_mixture_quantile(const double *weights,
		    const struct shadow_dist *, size_t n, double q);
double		 shadow_poisson_cdf(double k, double mean);

/* shadow_runs.c */
void		 shadow_runs_init(struct shadow *);
/* A request: true when it starts a new run. */
bool		 shadow_runs_request(struct shadow *, uint64_t t_ms,
		    bool announced);
/* End the current run once its gap has passed. */
void		 shadow_runs_age(struct shadow *, uint64_t t_ms);
bool		 shadow_runs_announced(double expected);
double		 shadow_runs_mean_size(const struct shadow *);
double		 shadow_runs_announced_size(const struct shadow *);
double		 shadow_runs_pace_s(const struct shadow *);
/* The pmf of the requests in a window, up to kmax (<= SHADOW_PMF_MAX). */
void		 shadow_runs_window(const struct shadow *, uint64_t t_ms,
		    const struct shadow_window_in *, double *pmf, size_t kmax);
/* Expected further requests of the current run within a1_s. */
double		 shadow_runs_pending(const struct shadow *, uint64_t t_ms,
		    double a1_s);

/* shadow_policy.c */
void		 shadow_policy_init(struct shadow *);
void		 shadow_policy_served(struct shadow *, uint64_t t_ms, bool hit,
		    double wait_s);
void		 shadow_policy_tick(struct shadow *, uint64_t t_ms, double dt_s,
		    uint64_t held);
/* Record a marginal decision: P(at least k requests within window_s). */
void		 shadow_policy_check(struct shadow *, uint64_t t_ms,
		    double window_s, uint32_t k, double p);

/* shadow_traffic.c */
void		 shadow_signals_init(struct shadow *);
/* A bin closed (the fine ring holds it at age 0): learn, look ahead. */
void		 shadow_signals_bin(struct shadow *);
/* Requests the leading signals announce per future bin (as churn). */
void		 shadow_signals_outlook(const struct shadow *, double *mass);
void		 shadow_traffic_report(const struct shadow *,
		    struct shadow_report *);

/* shadow_anomaly.c */
/* A bin closed: pred_churn is what the churn kernel expected in it,
 * pred_churn_model the churn model's whole prediction. */
void		 shadow_anomaly_bin(struct shadow *, const struct shadow_bin *,
		    double pred_churn, double pred_churn_model);
/* A request was counted into the current run; explained: an intent
 * announced it. */
void		 shadow_anomaly_request(struct shadow *, uint64_t t_ms,
		    bool explained);
/* A fresh remote add: announces requests. */
void		 shadow_anomaly_add(struct shadow *, uint64_t t_ms);
/* Requests the leading signals announce in the bin now open. */
void		 shadow_anomaly_announce(struct shadow *, uint64_t t_ms,
		    double expected);
/* A neighbour miss for target from source (the scan detector). */
bool		 shadow_scan_miss(struct shadow *, uint64_t t_ms,
		    const struct ipaddr *source, uint32_t target_hash);
/* A run ended; adds: the fresh remote adds before and during it. */
void		 shadow_anomaly_run_closed(struct shadow *, uint32_t n,
		    double adds);

#endif
