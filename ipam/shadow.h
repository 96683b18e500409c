/*
 * Shadow inventory: per pool, forecast how many endpoints will be asked
 * for soon and say how many to pre-allocate (the shadow inventory issue).
 * One struct shadow per pool.  The engine does no I/O and reads no clock:
 * every input carries a time in milliseconds on the caller's clock (the
 * daemon's monotonic clock, or the simulator's virtual one), so the same
 * code runs in evpnd and in shadowsim, deterministically for a seed.
 *
 * How this works:
 *
 * Collection (shadow.c).  Events (requests, releases, remote type-2 adds
 * and withdraws in the VNI, MAC learns and moves, scheduler intent) are
 * counted into bins of tick_ms (bin k covers [k*tick, (k+1)*tick)).
 * shadow_tick() closes every bin that ended at or before its time.  Closed
 * bins go into two fixed rings: SHADOW_FINE_BINS 1-tick bins (the last 10
 * minutes at 1 s) and SHADOW_COARSE_BINS 60-s bins (one day, for daily
 * seasonality).  Everything lives inside struct shadow, allocated once:
 * memory is constant whatever the uptime (shadow_memory()).
 *
 * A remote route add that re-adds an endpoint withdrawn less than
 * SHADOW_MOVE_WINDOW_MS before (a MAC move shows as a withdraw then an
 * add, RFC 7432 §15) is counted as a move, not as churn; the churn model
 * sees only fresh adds.
 *
 * Runs (shadow_runs.c).  Requests closer than a few seconds to each
 * other form a run (an autoscaler step, a gang's local share); the
 * sizes of finished runs and the pace inside them are learned, apart
 * for runs that demand announced (churn, intents) and for the rest.
 *
 * Forecasting (shadow_model.c).  Three models, each updated online on
 * every closed bin, each giving a mean and a variance of the number of
 * requests in a future window:
 *  - holt: Holt's linear smoothing (level + trend), plus a daily
 *    seasonal correction from the 60-s ring once a day of history
 *    exists;
 *  - kalman: a local-level Kalman filter whose level drifts in proportion
 *    to itself (its memory is a few dozen requests at any rate), with a
 *    level-shift test on run starts (two blocks of 120 ticks beyond a
 *    Poisson tail of 1e-3 on the same side);
 *  - churn: learns how local requests follow fresh remote adds in the
 *    VNI.  It tracks the cross-covariance of adds at t-l and requests at
 *    t for lags l = 0..SHADOW_CHURN_MAX_LAG s; the lag is the centroid of
 *    the significant peak and the ratio is the peak's mass divided by the
 *    summed autocovariance of adds (so bursts of adds are not counted
 *    twice); plus a background that the kernel does not explain.
 * The levels (Holt, Kalman, churn background) learn from run starts
 * weighted by the mean run size, so a step of a dozen requests moves
 * them as one run does; each model's prediction is its level plus what
 * the current run still brings (and, for churn, what the kernel expects
 * from adds seen).  ensemble (default) mixes the three with Bates-Granger
 * weights (inverse of each model's recent mean squared one-tick error);
 * the views' quantiles are those of a negative-binomial mixture.
 *
 * Engine (shadow.c).  At every tick and, through shadow_plan(), at every
 * event (request, release, churn) between ticks, the engine decides how
 * many units to hold, unit by unit: the k-th is held while
 *	P(N(now + D/2, now + D/2 + L_k] >= k) > 1 - q
 * N the requests in the window, from three independent parts (the
 * current run going on, new runs at the ensemble's level with the
 * learned sizes, announced demand as runs: the churn kernel's mass in
 * the window and intents), D the time to the next tick, L_k the
 * convergence time of a unit made now as the k-th:
 *	L_k = lead x (1 + jitter x u) + backlog / R + k / R
 * lead the learned base latency, R the fabric's service rate (0: not
 * modelled) and backlog the routes the pool saw queued (its remote
 * adds, pre-allocations and misses).  q starts at the newsvendor ratio
 * d/(d+w); the derivation (and why the last unit is released as soon as
 * d x L x arrival rate < w, with no slack) is at units_wanted() in
 * shadow.c.  Then the guardrails:
 *   cap    = min(max_warm, floor(max_pool_fraction x pool_size))
 *   target = min(max(target, min_warm), cap)      (cap wins over min_warm)
 *   want_alloc   = min(target - held, cap - held, pool_free), >= 0
 *   want_release = held - max(target, min_warm), at once (after
 *                  release_hold_s if set), and at once what exceeds cap.
 * held = warm_ready + warm_converging.  OBSERVE computes and reports the
 * target but returns want_alloc = want_release = 0.  Jitter (0 by
 * default: the lead comes from measured waits, not from exploring) moves
 * the lead only; the guardrails are applied after it, so it can never
 * break them.
 *
 * Groups (shadow_groups.c).  Where the caller names a request's group
 * (a label, "job=llama-70b"), each of at most SHADOW_GROUPS_MAX groups
 * keeps what it holds, its requests and its runs' rate and sizes, for
 * the view's per-group expectations; the pool's decision does not read
 * them.
 *
 * Cost.  waste = address-seconds held pre-allocated and unused,
 * integrated from the warm counts seen at each tick (held x time since
 * the previous tick); delay = request-seconds waited (shadow_on_served).
 * cost = wastage_weight x waste + delay_weight x delay.
 *
 * Policy (shadow_policy.c).  The rule is exact when the forecast's
 * probabilities are; what is learned is their calibration at the margin
 * (the last unit held, the first not held, settled once their window has
 * passed), which scales the threshold 1 - q; and the base latency, from
 * the waits of misses less the queue the model expected.  Every change
 * is logged with its reason (shadow_policy_log()).
 *
 * Leading signals (shadow_traffic.c).  The VNI's traffic rate
 * (shadow_traffic) and ARP/ND requests for unallocated pool addresses
 * (shadow_neigh_miss) are learned like remote adds: rises of the rate
 * and fresh misses, at lags and gains from their cross-covariance with
 * the requests; what they announce is counted as known demand, like an
 * intent.  Without them nothing is learned.
 *
 * Anomalies (shadow_anomaly.c).  Requests that remote adds (times the
 * high end of the learned requests-per-add spread, fading over a
 * minute) or intents announced are taken off first.  "burst": a run
 * whose unannounced part is beyond the learned run sizes (P < 1e-4 with
 * an exponential tail), or a two-sided CUSUM (k = 0.5, h = 8) on 10-tick
 * blocks of unannounced requests against the level and the current run,
 * standardised by Anscombe's transform and the dispersion of runs;
 * "drop": its other side, against the level alone;
 * "churn_without_alloc": requests after remote adds implausibly few even
 * at the low end of the learned ratio's spread, over a 300-s window or
 * three; "scan": one source asking for 32 or more distinct
 * unallocated addresses within a minute.  Measured false alarms: none on 20 generated days x 2 pools,
 * one on four generated weeks with a weekly pattern x 2 pools (README).
 */
#ifndef IPAM_SHADOW_H
#define IPAM_SHADOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHADOW_FINE_BINS	600	/* 1-tick bins kept (10 min at 1 s) */
#define SHADOW_COARSE_BINS	1440	/* 60-s bins kept (one day) */
#define SHADOW_COARSE_S		60
#define SHADOW_CHURN_MAX_LAG	60	/* ticks */
#define SHADOW_MOVE_WINDOW_MS	2000
#define SHADOW_POLICY_EPOCH_S	60
#define SHADOW_POLICY_STEP	0.25	/* logit units */
#define SHADOW_ANOMALY_BLOCK	10	/* ticks per CUSUM sample */
#define SHADOW_CHURN_QUIET_S	300
#define SHADOW_ALERT_RING	64
#define SHADOW_POLICY_RING	64
#define SHADOW_MSG_MAX		96
#define SHADOW_QUANTILE_MAX	0.999
#define SHADOW_LEAD_MAX_S	300.0	/* longest lead planned with */

enum shadow_mode {
	SHADOW_MODE_ACTIVE,
	SHADOW_MODE_OBSERVE,
};

enum shadow_model {
	SHADOW_MODEL_HOLT,
	SHADOW_MODEL_KALMAN,
	SHADOW_MODEL_CHURN,
	SHADOW_MODEL_ENSEMBLE,
};
#define SHADOW_NMODELS	3	/* holt, kalman, churn: weights[] index */

struct shadow_params {
	uint32_t	 horizon_s;		/* 300: the reported forecast */
	double		 lead_s;		/* 1.0: base convergence time */
	double		 service_rate;		/* 0: fabric routes/s, unknown */
	double		 confidence;		/* 0.9: floor of the quantile */
	uint32_t	 min_warm;		/* 0 */
	uint32_t	 max_warm;		/* 64 */
	double		 max_pool_fraction;	/* 0.05 */
	double		 wastage_weight;	/* 1 per address-second */
	double		 delay_weight;		/* 100 per request-second */
	enum shadow_mode mode;			/* ACTIVE */
	uint32_t	 tick_ms;		/* 1000 */
	enum shadow_model model;		/* ENSEMBLE */
	double		 jitter;		/* 0: of the lead, in [0, 0.5] */
	double		 cusum_k;		/* 0.5 */
	double		 cusum_h;		/* 8 */
	uint32_t	 release_hold_s;	/* 0: release to target at once */
	bool		 adapt;			/* true: policy learning on */
	uint64_t	 seed;			/* 1 */
};

/* What exists now, as the caller sees it at a tick. */
struct shadow_state {
	uint64_t	 warm_ready;		/* pre-allocated and usable */
	uint64_t	 warm_converging;	/* pre-allocated, younger than lead */
	uint64_t	 pool_free;		/* addresses that can be allocated */
	uint64_t	 pool_size;
};

/* Predicted requests within a window starting now. */
struct shadow_quantiles {
	double		 window_s;
	double		 mean;
	double		 p50;
	double		 p80;
	double		 p90;
	double		 p99;
	double		 pconf;			/* at params.confidence */
	double		 ptarget;		/* at the current target quantile */
};

struct shadow_forecast {
	double		 rate;			/* requests per second, ensemble */
	struct shadow_quantiles lead;		/* over the lookahead */
	struct shadow_quantiles horizon;	/* over horizon_s */
};

struct shadow_decision {
	uint32_t	 want_alloc;		/* inside all guardrails */
	uint32_t	 want_release;
	uint32_t	 target;		/* after guardrails */
	uint32_t	 target_raw;		/* the quantile, before them */
	uint32_t	 cap;			/* min(max_warm, fraction x size) */
	double		 quantile;
	double		 lead_s;		/* lead_s x lead_mult */
	double		 jitter_s;		/* shift applied this tick */
	double		 lookahead_s;
	struct shadow_forecast forecast;
};

struct shadow_report {
	uint64_t	 t_ms;			/* last tick */
	uint64_t	 ticks;
	enum shadow_mode mode;
	enum shadow_model model;
	struct shadow_forecast forecast;
	uint32_t	 target;
	uint32_t	 target_raw;
	uint32_t	 cap;
	struct shadow_state state;		/* as seen at the last tick */

	/* policy */
	double		 quantile;
	double		 quantile_lo;
	double		 quantile_hi;
	double		 newsvendor;
	double		 lead_s;		/* learned convergence time */
	double		 lead_mult;
	double		 lookahead_s;

	/* outcomes */
	uint64_t	 requests;
	uint64_t	 hits;			/* served by a pre-allocation */
	uint64_t	 partial_hits;		/* ... still converging */
	uint64_t	 misses;
	double		 hit_rate;		/* over everything */
	double		 hit_rate_recent;	/* last 15 minutes */
	uint64_t	 requests_recent;
	double		 waste;			/* address-seconds */
	double		 delay;			/* request-seconds */
	double		 cost;

	/* models */
	double		 weights[SHADOW_NMODELS];
	double		 model_rate[SHADOW_NMODELS];	/* per second, now */
	double		 model_mse[SHADOW_NMODELS];	/* one-tick error */
	double		 holt_level;		/* per second */
	double		 holt_trend;		/* per second per second */
	double		 kalman_rate;		/* per second */
	double		 kalman_sd;
	double		 churn_lag_s;
	double		 churn_ratio;		/* requests per fresh remote add */
	double		 churn_corr;		/* peak correlation, 0..1 */
	double		 churn_baseline;	/* per second */
	double		 churn_pending;		/* requests still expected */
	bool		 seasonal;		/* a day of history seen */

	/* anomaly detector */
	double		 cusum_pos;
	double		 cusum_neg;

	/* traffic and neighbour misses (shadow_traffic.c) */
	double		 traffic_rate;		/* packets/s, smoothed */
	double		 traffic_lag_s;		/* requests follow rises by */
	double		 traffic_gain;		/* requests per packet/s of rise */
	double		 traffic_corr;		/* peak correlation, 0..1 */
	double		 traffic_pending;	/* requests still expected */
	uint64_t	 traffic_samples;
	uint64_t	 neigh_misses;
	uint64_t	 neigh_targets;		/* distinct, last 5 minutes */
	double		 neigh_lag_s;		/* requests follow misses by */
	double		 neigh_gain;		/* requests per fresh miss */

	/* counters */
	uint64_t	 allocs;
	uint64_t	 releases;
	uint64_t	 route_adds;		/* fresh */
	uint64_t	 route_dels;
	uint64_t	 mac_learns;
	uint64_t	 mac_moves;		/* incl. re-adds after withdraw */
	uint64_t	 intents;
	uint64_t	 prealloc_made;
	uint64_t	 prealloc_released;
	uint64_t	 alerts;
	uint64_t	 policy_changes;
};

enum shadow_alert_kind {
	SHADOW_ALERT_BURST,
	SHADOW_ALERT_DROP,
	SHADOW_ALERT_CHURN_NO_ALLOC,
	SHADOW_ALERT_SCAN,
};
#define SHADOW_ALERT_KINDS	4

struct shadow_alert {
	uint64_t	 seq;			/* 1, 2, ... */
	uint64_t	 t_ms;
	enum shadow_alert_kind kind;
	double		 score;			/* CUSUM value, or -log10 p */
	char		 message[SHADOW_MSG_MAX];
};

enum shadow_policy_what {
	SHADOW_POLICY_QUANTILE,
	SHADOW_POLICY_LEAD,
	SHADOW_POLICY_LEAD_MULT,
};

struct shadow_policy_change {
	uint64_t	 seq;
	uint64_t	 t_ms;
	enum shadow_policy_what what;
	double		 old_value;
	double		 new_value;
	char		 reason[SHADOW_MSG_MAX];
};

/* One closed bin, for plots and the view. */
struct shadow_bin {
	uint64_t	 t_ms;			/* start of the bin */
	uint32_t	 allocs;
	uint32_t	 run_starts;		/* allocs that began a run */
	uint32_t	 releases;
	uint32_t	 route_adds;		/* fresh */
	uint32_t	 route_dels;
	uint32_t	 mac_learns;
	uint32_t	 mac_moves;
	float		 forecast;		/* ensemble one-tick prediction */
};

/*
 * Groups (shadow_groups.c): demand per label value, for the view.  A
 * group is named "key=value"; at most SHADOW_GROUPS_MAX per pool.
 */
#define SHADOW_GROUPS_MAX	32
#define SHADOW_GROUP_LABEL_MAX	319	/* key (63) '=' value (253) */

struct shadow_group_view {
	char		 label[SHADOW_GROUP_LABEL_MAX + 1];
	uint64_t	 active;		/* allocations held now */
	uint64_t	 requests;		/* since first seen */
	double		 idle_s;		/* since its last event */
	struct shadow_quantiles expected;	/* more within horizon_s */
};

struct shadow;
struct ipaddr;

void		 shadow_params_default(struct shadow_params *);
/* Out-of-range params are clamped (see shadow_params_default). */
struct shadow	*shadow_new(const struct shadow_params *, uint64_t pool_size);
void		 shadow_free(struct shadow *);
/* Change guardrails, weights or mode at run time (config reload). */
void		 shadow_set_params(struct shadow *, const struct shadow_params *);
const struct shadow_params *shadow_params(const struct shadow *);
/* The base convergence time measured now (seconds): the decisions
 * plan with it at once (a changed params.lead_s does the same). */
void		 shadow_set_lead(struct shadow *, double lead_s);

/* Events.  Times are ms on the caller's clock, non-decreasing. */
void		 shadow_on_alloc(struct shadow *, uint64_t t_ms);
void		 shadow_on_release(struct shadow *, uint64_t t_ms);
void		 shadow_on_route_add(struct shadow *, uint64_t t_ms);
void		 shadow_on_route_del(struct shadow *, uint64_t t_ms);
void		 shadow_on_mac_learn(struct shadow *, uint64_t t_ms);
void		 shadow_on_mac_move(struct shadow *, uint64_t t_ms);
/* A scheduler says count endpoints will be asked within horizon_s. */
void		 shadow_on_intent(struct shadow *, uint64_t t_ms, uint32_t count,
		    uint32_t horizon_s);

/*
 * Traffic in the pool's VNI: rate in packets per second (already scaled
 * up by the caller for its sampling), measured at t_ms.  A leading
 * signal: rises are learned as announcing requests (shadow_traffic.c).
 */
void		 shadow_traffic(struct shadow *, uint64_t t_ms, double rate);
/*
 * An ARP request or ND solicitation (RFC 826, RFC 4861 §7.2.2) for
 * target, a pool address that is not allocated, asked by source: a
 * short-horizon demand precursor and the scan detector's input.  True
 * when it added demand (not a target asked again within a minute, not a
 * scanning source): only then is a new plan worth making.
 */
bool		 shadow_neigh_miss(struct shadow *, uint64_t t_ms,
		    const struct ipaddr *source, const struct ipaddr *target);

/* Feedback.  wait_s: 0 for a ready hit, the remaining convergence for a
 * converging one, the full wait for a miss. */
void		 shadow_on_served(struct shadow *, uint64_t t_ms, bool hit,
		    double wait_s);
void		 shadow_on_prealloc_made(struct shadow *, uint64_t t_ms);
void		 shadow_on_prealloc_released(struct shadow *, uint64_t t_ms);

/* Close bins up to t_ms, learn, decide.  out may be NULL. */
void		 shadow_tick(struct shadow *, uint64_t t_ms,
		    const struct shadow_state *, struct shadow_decision *out);
/* Decide again between ticks, after an event (a request, a release,
 * churn): nothing is learned, the forecast counts the events so far. */
void		 shadow_plan(struct shadow *, uint64_t t_ms,
		    const struct shadow_state *, struct shadow_decision *out);

/* Groups: a request or release of an allocation in a group (label
 * "key=value"; NULL or "" for none). */
void		 shadow_group_request(struct shadow *, uint64_t t_ms,
		    const char *label);
void		 shadow_group_release(struct shadow *, uint64_t t_ms,
		    const char *label);
/* What the groups hold, as the caller counts it (at start): reset all
 * to 0, then add n to a group's count (made if new). */
void		 shadow_groups_held_reset(struct shadow *);
void		 shadow_group_held(struct shadow *, uint64_t t_ms,
		    const char *label, uint64_t n);
/* End runs that are over, drop idle groups (at each tick). */
void		 shadow_groups_tick(struct shadow *, uint64_t t_ms);
/* Up to max groups in label order, with their expectations at t_ms. */
size_t		 shadow_groups(const struct shadow *, uint64_t t_ms,
		    struct shadow_group_view *, size_t max);
uint64_t	 shadow_groups_evicted(const struct shadow *);

/*
 * Persistence (shadow_persist.c): the learned state and recent history
 * as a versioned blob (at most SHADOW_STATE_MAX bytes).  save appends
 * it to wb (-1 EMSGSIZE when it does not fit).  restore adopts a blob
 * into an engine that has not run yet, saved age_ms before now_ms; -1
 * with a message (EBADMSG: not a blob of this version and build, or
 * damaged; EBUSY) leaves the engine as it was.
 */
#define SHADOW_STATE_VERSION	2
#define SHADOW_STATE_MAX	(256 * 1024)
struct wbuf;
int		 shadow_state_save(const struct shadow *, struct wbuf *);
int		 shadow_state_restore(struct shadow *, const void *, size_t,
		    uint64_t now_ms, uint64_t age_ms, char *err, size_t errlen);

/* Views. */
void		 shadow_report(const struct shadow *, struct shadow_report *);
/* Copy up to max entries, oldest first, with seq > after_seq.  Returns
 * how many were copied. */
size_t		 shadow_alerts(const struct shadow *, uint64_t after_seq,
		    struct shadow_alert *, size_t max);
uint64_t	 shadow_alert_count(const struct shadow *);
size_t		 shadow_policy_log(const struct shadow *, uint64_t after_seq,
		    struct shadow_policy_change *, size_t max);
/* The newest closed bins, oldest first (at most SHADOW_FINE_BINS). */
size_t		 shadow_recent(const struct shadow *, struct shadow_bin *,
		    size_t max);
/* Bytes held: constant for the life of the object. */
size_t		 shadow_memory(const struct shadow *);

const char	*shadow_mode_name(enum shadow_mode);
const char	*shadow_model_name(enum shadow_model);
/* -1 on an unknown name; accepts "holt", "kalman", "churn", "ensemble". */
int		 shadow_model_parse(const char *, enum shadow_model *);
const char	*shadow_alert_kind_name(enum shadow_alert_kind);
const char	*shadow_policy_what_name(enum shadow_policy_what);

#endif
