/*
 * The shadow inventory in the daemon: one ipam/shadow engine per pool
 * that has a "shadow" block, fed with the daemon's events and acted on
 * every second and after every event (the shadow inventory issue,
 * §2-§5).
 *
 * How this works:
 *
 * Engines.  shadowd_create() builds a struct shadow for every configured
 * pool with a shadow block, and shadowd_pool_set() one for a pool made
 * over the API whose definition has one (params from the block;
 * pool_size is the pool's IPv4 size, or its IPv6 size capped at 2^53
 * for an IPv6-only pool: a dual pre-allocation consumes one IPv4
 * address, the scarce family).  A reload changes the params of the engines that stay, adds
 * the new ones and retires the pools whose block went (their unused
 * pre-allocations are released).  Each engine gets a seed of its own
 * from the kernel's random source (common/hash.h random_fill), kept
 * across reloads: it keys the engine's hash of neighbour-miss targets,
 * which a scanner chooses, and its jitter; the simulator and the
 * engine's own tests set fixed seeds instead, to replay a run.
 *
 * Events, on the monotonic clock in ms: every new allocation request
 * of the pool (before hit or miss is decided), releases, churn from
 * evpn's churn hook matched to pools by VNI (remote type-2 adds and
 * withdraws, local learns, MAC moves) and scheduler intent (POST
 * /v1/ipam/pools/NAME/intent).
 *
 * Lead time: how long a pre-allocation's route takes to converge
 * across the fabric, per pool, from the first source that has at least
 * SHADOWD_LEAD_MIN_SAMPLES samples: (1) the fabric's distribution, as
 * the receivers publish it in the datastore (shadowd_set_fabric_
 * convergence(), until its time to live passes); (2) this VTEP's own
 * receive-side measurement (evpn's convergence histogram of the other
 * VTEPs' routes, wired by the daemon with shadowd_set_local_
 * convergence()); (3) the pool's configured "lead-time" (1 s by
 * default).  A measured source gives its p90.  It is re-read at every
 * tick and event, and whenever it moves the engine plans with it at
 * once (shadow_set_lead): its lookahead is the measured convergence.
 *
 * Ticks.  A 1 s timer ticks every engine with the state it needs:
 * pre-allocations "ready" (committed and advertised at least one lead
 * time ago: the route has had time to converge across the fabric),
 * "converging" (younger, or submitted and not committed) and the
 * pool's free count.  want_alloc pre-allocations are made
 * through ipamd like any allocation (resource "shadow:POOL:N",
 * preallocated, family dual when the pool has both families, else the
 * one it has); ipamd advertises each once committed (the pre-advertise).
 * want_release releases the youngest unused ones.  Observe mode gets 0/0
 * from the engine and does nothing.
 *
 * Plans.  Every event also marks its pool; a deferred event (it runs
 * once the current callback has returned, so never inside ipamd's
 * allocation path, and once for a storm of churn) asks the engine for a
 * plan (shadow_plan) and acts on it as a tick does: a request makes the
 * replacement, and the followers of a run, without waiting a second.
 *
 * Claims.  A request for a new resource in such a pool, of the
 * pre-allocations' family and without its own MAC, takes the oldest
 * committed pre-allocation (ready ones are always older than converging
 * ones, so the oldest is ready when any is): ipamd renames it with
 * ipam_claim() and commits an IPAM_OP_CLAIM; the route does not change.
 * Feedback to the engine: hit with wait 0 (ready), hit with the
 * remaining convergence (converging), miss with the lead time (the
 * engine learns its lead from those waits).
 * A taken pre-allocation leaves the list at once, so a release decided
 * later can never pick it.
 *
 * Groups.  Each request and release names its allocation's group to
 * the engine: "key=value" of the first of the pool's group-by keys
 * (job, app by default) its labels carry.  At start what each group
 * holds is counted from the allocator.
 *
 * Restart.  Pre-allocations are durable allocations: at start those of
 * a shadow pool are registered as ready (ipamd re-advertises them).
 * What the engine learned (ipam/shadow_persist.c) is handed to the
 * store every SHADOWD_SAVE_MS, when a pool's block goes and at stop
 * (before the store closes, which commits it on its writer thread);
 * an engine made at start or at a reload takes its pool's saved state
 * back (a blob the engine refuses is logged and the pool starts cold).
 */
#ifndef IPAMD_SHADOWD_H
#define IPAMD_SHADOWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ipam/ipam.h"
#include "ipam/shadow.h"

#define SHADOWD_TICK_MS		1000
/* Samples a measured convergence source needs before it is trusted. */
#define SHADOWD_LEAD_MIN_SAMPLES 5
#define SHADOWD_PREFIX		"shadow:"
#define SHADOWD_SAVE_MS		300000	/* learned state to the store */
#define SHADOWD_ALERT_KINDS	SHADOW_ALERT_KINDS

struct config;
struct conf_ipam_shadow;
struct event_base;
struct evbuffer;
struct ipamd;
struct shadowd;
struct shadowd_pool;

/* Engines for the pools of conf that have a shadow block; the 1 s timer
 * runs on base.  Existing pre-allocations are registered as ready. */
struct shadowd	*shadowd_create(struct event_base *, struct ipamd *,
		    const struct config *);
/* Save every engine's state, stop the timer and ignore completions from
 * now on (before the store closes: closing commits the saves and runs
 * the callbacks still queued). */
void		 shadowd_stop(struct shadowd *);
void		 shadowd_free(struct shadowd *);
/* Params of a config block (conf's fixed point to the engine's). */
void		 shadowd_params_from_conf(const struct conf_ipam_shadow *,
		    struct shadow_params *);
/* Apply next: new params, new engines, retired ones (of the config's
 * pools; those made at run time are left alone). */
void		 shadowd_reload(struct shadowd *, const struct config *next);
/*
 * One pool's shadow inventory, for the pools made at run time (their
 * definition's block, at start and after every committed change): cs
 * turns it on (its saved state restored, its pre-allocations found
 * again) or changes its settings; NULL turns it off (state saved,
 * unused pre-allocations released).  -1 (ENOENT) when the pool is not
 * in the allocator or shadowd is stopped.
 */
int		 shadowd_pool_set(struct shadowd *, const char *pool,
		    const struct conf_ipam_shadow *cs);
/* The clock (ms, non-decreasing); tests set a fake one. */
void		 shadowd_set_clock(struct shadowd *, uint64_t (*)(void *),
		    void *);
/* What the timer does: tick every engine and act on its decision. */
void		 shadowd_tick(struct shadowd *);

/* The engine of a pool; NULL when the pool has no shadow block. */
struct shadowd_pool *shadowd_pool(struct shadowd *, const char *pool);

/* Pre-allocations submitted and not yet committed. */
uint32_t	 shadowd_pool_making(const struct shadowd_pool *);
/* The seed of the pool's engine (random per engine, see Engines). */
uint64_t	 shadowd_pool_seed(const struct shadowd_pool *);
/* The pool's configured horizon (seconds). */
uint32_t	 shadowd_pool_horizon(const struct shadowd_pool *);
/* Requests the forecast expects over that horizon (its target
 * quantile): what a fabric pool keeps free in its blocks. */
uint64_t	 shadowd_pool_demand(const struct shadowd_pool *);

/*
 * Convergence sources for the lead time.  A distribution of route
 * convergence latencies (origination to data plane); count 0 = none.
 */
struct shadowd_convergence {
	uint64_t		 count;
	uint32_t		 p50_ms;
	uint32_t		 p90_ms;
	uint32_t		 p99_ms;
};
enum shadowd_lead_source {
	SHADOWD_LEAD_CONFIGURED,
	SHADOWD_LEAD_LOCAL,
	SHADOWD_LEAD_FABRIC,
};
const char	*shadowd_lead_source_name(enum shadowd_lead_source);
/* This VTEP's receive-side measurement: fn fills the distribution of
 * the recent window (every pool shares it). */
typedef void	 shadowd_convergence_fn(void *arg,
		    struct shadowd_convergence *);
void		 shadowd_set_local_convergence(struct shadowd *,
		    shadowd_convergence_fn *, void *arg);
/* The fabric's distribution for a pool (NULL: every pool), as read
 * from the datastore; trusted for ttl_ms.  -1 (ENOENT) for a pool
 * without a shadow block. */
int		 shadowd_set_fabric_convergence(struct shadowd *,
		    const char *pool, const struct shadowd_convergence *,
		    uint64_t ttl_ms);
/* The pool's lead time now (seconds): what a miss waits. */
double		 shadowd_lead_s(const struct shadowd_pool *);

/* Events. */
void		 shadowd_churn(struct shadowd *, uint32_t vni, int kind);
void		 shadowd_on_release(struct shadowd *,
		    const struct ipam_alloc *);
/* -1 (ENOENT) when the pool has no shadow block. */
int		 shadowd_intent(struct shadowd *, const char *pool,
		    uint32_t count, uint32_t horizon_s);
/*
 * Traffic telemetry (trafficd.h): the pool's traffic rate now (packets
 * per second, scaled for sampling), at every tick; an ARP request or ND
 * solicitation from source for target, a pool address nobody holds.
 * -1 (ENOENT) when the pool has no shadow block.
 */
int		 shadowd_traffic(struct shadowd *, const char *pool,
		    double rate);
int		 shadowd_neigh_miss(struct shadowd *, const char *pool,
		    const struct ipaddr *source, const struct ipaddr *target);

/*
 * A new request in sp: record it, and if a pre-allocation can serve it
 * take the oldest (removed from the list; its name in prev) and return
 * true with the wait the request sees in *wait_s.  Then the caller
 * claims it (shadowd_served with hit) or, false, allocates fresh.
 */
bool		 shadowd_take(struct shadowd_pool *,
		    const struct ipam_request *, char *prev, size_t prevlen,
		    double *wait_s);
void		 shadowd_served(struct shadowd_pool *, bool hit, double wait_s);
/* A pre-allocation was released by someone else (API DELETE). */
void		 shadowd_forget(struct shadowd *, const char *resource);

/* Views (new references). */
json_t		*shadowd_json(struct shadowd *);
json_t		*shadowd_alerts_json(struct shadowd *);
/* A pool's figures for /metrics. */
struct shadowd_view {
	const char		*pool;
	uint32_t		 vni;
	uint32_t		 ready;
	uint32_t		 converging;
	uint32_t		 lead_ms;
	enum shadowd_lead_source lead_source;
	uint64_t		 alerts[SHADOWD_ALERT_KINDS];	/* logged */
	struct shadow_report	 report;
};
void		 shadowd_foreach(struct shadowd *,
		    void (*)(const struct shadowd_view *, void *), void *);


#endif
