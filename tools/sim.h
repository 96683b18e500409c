/*
 * shadowsim: replay a demand trace against a pre-allocation policy with
 * a virtual clock (the shadow inventory issue, §6).
 *
 * How this works:
 *
 * Trace.  A CSV file "time_s,vni,event,resource" is read through the
 * bounds-checked reader into an array of events sorted by time (ties
 * keep file order).  Resource ids are interned once, so the run loop
 * works on integers.  Two optional events carry data-plane telemetry
 * instead of a resource: "time_s,vni,traffic,RATE" (the VNI's packets
 * per second, already scaled up for sampling) and
 * "time_s,vni,neigh_miss,SOURCE,TARGET" (an ARP request or ND
 * solicitation from SOURCE for TARGET, a pool address not allocated).
 * The shadow policy feeds them to the engine (unless --no-traffic);
 * the others ignore them.
 *
 * Clock.  Virtual milliseconds.  A tick falls on every whole second;
 * the events at or before a tick's instant are applied first, then the
 * tick runs the policy of every pool.  Nothing reads the wall clock, so
 * a run depends only on the trace, the options and the seed.
 *
 * Pools.  One per VNI seen in the trace, or the pools of --config (an
 * event of a VNI with no pool is counted as skipped).  A pool holds its
 * workloads' addresses and a warm set: pre-allocated addresses not yet
 * handed out, oldest first.  A request takes the oldest warm entry:
 * usable, it waits 0 (a hit); still converging, it waits the remainder;
 * with the warm set empty its own route must converge and it waits for
 * that.  A release returns the workload's address to the pool, never to
 * the warm set.  Waste is the integral over time of the warm set's size
 * (address-milliseconds, kept as an integer so that runs are exact).
 *
 * Convergence (the fabric).  Every new route goes through one FIFO
 * server for the whole fabric: pre-allocations, on-demand allocations
 * and the trace's remote route_adds (other VTEPs' routes load the same
 * reflectors and VTEPs).  With service rate R routes/s a route waits for
 * the routes ahead of it, takes 1/R of service, then the base latency B
 * (--miss-delay-ms): a burst of N new routes on an idle fabric has
 * converged after B + N/R.  Without a rate (0) every route converges
 * after B exactly.  Withdrawals are not modelled.  The server's clock is
 * in integer microseconds, so runs stay exact.
 *
 * Policies.  ondemand never pre-allocates; static:K tops the warm set up
 * to K at every tick; watermark:B:L adds B at a tick when fewer than L
 * are warm; shadow feeds every event to the ipam/shadow engine the
 * daemon runs, asks it for a plan after every event of its pool and at
 * every tick, applies the decision (pre-allocate or release) and reports
 * each served request back.  oracle is the clairvoyant bound: it knows
 * the trace and makes one pre-allocation per request exactly one lead
 * time before it arrives, the lead being the request's convergence time
 * under the fabric model given everything else queued (found by a few
 * passes over the trace, see sim_oracle.c).  Every policy is bounded by
 * the pool's free addresses.
 */
#ifndef TOOLS_SIM_H
#define TOOLS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/hash.h"

#define SIM_DEFAULT_MISS_DELAY_MS 1000
#define SIM_TICK_MS		1000
#define SIM_DEFAULT_POOL_SIZE	65534	/* a /16 without network+broadcast */
#define SIM_DEFAULT_WASTAGE	1.0
#define SIM_DEFAULT_DELAY	100.0
#define SIM_NAME_MAX		63

enum sim_event_kind {
	SIM_EV_ALLOC,
	SIM_EV_RELEASE,
	SIM_EV_ROUTE_ADD,
	SIM_EV_ROUTE_DEL,
	SIM_EV_TRAFFIC,		/* value: packets/s */
	SIM_EV_NEIGH_MISS,	/* resource: source, target: target */
};

struct sim_event {
	int64_t		 t_ms;
	uint32_t	 vni;
	uint32_t	 resource;	/* interned id */
	enum sim_event_kind kind;
	uint32_t	 target;	/* interned id, neigh_miss */
	double		 value;		/* traffic */
};

struct sim_trace {
	struct sim_event *events;
	size_t		 nevents;
	size_t		 capevents;
	char		**names;	/* interned resource ids */
	size_t		 nnames;
	size_t		 capnames;
	struct hash_table by_name;	/* of struct sim_name */
	uint32_t	*vnis;		/* distinct, in order of appearance */
	size_t		 nvnis;
};

/* Parse a whole trace (file or text).  -1 with "NAME:LINE: why". */
int		 sim_trace_read_file(struct sim_trace *, const char *path,
		    char *err, size_t errlen);
int		 sim_trace_parse(struct sim_trace *, const void *data,
		    size_t len, const char *name, char *err, size_t errlen);
void		 sim_trace_free(struct sim_trace *);
const char	*sim_event_name(enum sim_event_kind);

enum sim_policy_kind {
	SIM_POLICY_SHADOW,
	SIM_POLICY_ONDEMAND,
	SIM_POLICY_STATIC,
	SIM_POLICY_WATERMARK,
	SIM_POLICY_ORACLE,
};

struct sim_policy {
	enum sim_policy_kind kind;
	uint32_t	 k;		/* static:K */
	uint32_t	 batch;		/* watermark:BATCH:LOW */
	uint32_t	 low;
};

/* "shadow", "ondemand", "static:K", "watermark:B:L", "oracle"; -1 if
 * malformed. */
int		 sim_policy_parse(const char *, struct sim_policy *);
/* Canonical spelling, as in the JSON "policy" field. */
const char	*sim_policy_fmt(const struct sim_policy *, char *, size_t);

/* The shadow settings of a pool, in engine units (plain numbers). */
struct sim_shadow_settings {
	uint32_t	 horizon;	/* seconds */
	double		 confidence;
	uint32_t	 min_warm;
	uint32_t	 max_warm;
	double		 max_pool_fraction;
	bool		 observe;
};

struct sim_pool_conf {
	char		 name[SIM_NAME_MAX + 1];
	uint32_t	 vni;
	uint64_t	 size;		/* addresses */
	double		 wastage_weight;
	double		 delay_weight;
	bool		 has_shadow;	/* else the engine's defaults */
	struct sim_shadow_settings shadow;
};

/* Pools from an evpnd config file (its "ipam pool" blocks with a vni). */
int		 sim_pools_from_config(const char *path,
		    struct sim_pool_conf **, size_t *, char *err,
		    size_t errlen);
/* Defaults for a pool made up for a VNI seen in the trace. */
void		 sim_pool_conf_default(struct sim_pool_conf *, uint32_t vni);

struct sim_options {
	struct sim_policy policy;
	uint32_t	 miss_delay_ms;	/* base convergence latency */
	double		 service_rate;	/* fabric routes/s; 0: unlimited */
	uint64_t	 seed;
	const struct sim_pool_conf *pools;	/* NULL: one per VNI */
	size_t		 npools;
	bool		 no_traffic;	/* ignore traffic and neigh_miss */
	FILE		*series;		/* per-tick CSV, or NULL */
	uint32_t	 series_vni;		/* 0: the first pool */
	FILE		*requests;	/* per-request CSV, or NULL */
};

struct sim_stats {
	uint64_t	 requests;
	uint64_t	 hits;		/* served at once by a usable one */
	uint64_t	 waste_addr_ms;	/* integral of the warm set's size */
	uint64_t	 wait_ms;	/* sum of all waits */
	uint32_t	*waits;		/* every request's wait, ms */
	size_t		 nwaits;
	size_t		 capwaits;
	uint64_t	 prealloc_made;
	uint64_t	 prealloc_released;
	uint64_t	 skipped;	/* events with no pool, bad releases */
};

struct sim_anomaly {
	int64_t		 t_ms;
	uint32_t	 vni;
	double		 score;
	char		 kind[24];	/* the engine's alert kind name */
	char		 message[96];	/* the engine's words */
};

struct sim_pool_result {
	char		 name[SIM_NAME_MAX + 1];
	uint32_t	 vni;
	double		 wastage_weight;
	double		 delay_weight;
	struct sim_stats stats;
};

struct sim_result {
	char		 policy[64];
	uint32_t	 miss_delay_ms;
	double		 service_rate;
	int64_t		 end_ms;
	struct sim_pool_result *pools;
	size_t		 npools;
	struct sim_anomaly *anomalies;
	size_t		 nanomalies;
	size_t		 capanomalies;
	uint64_t	 skipped;
};

int		 sim_run(const struct sim_trace *, const struct sim_options *,
		    struct sim_result *, char *err, size_t errlen);
void		 sim_result_free(struct sim_result *);

/* Figures derived from a struct sim_stats (sim_out.c). */
struct sim_figures {
	uint64_t	 requests;
	uint64_t	 hits;
	double		 hit_rate;
	double		 waste_address_seconds;
	double		 wait_seconds;
	double		 mean_wait_ms;
	double		 p99_wait_ms;
	double		 cost;
};

void		 sim_stats_figures(const struct sim_stats *, double wastage,
		    double delay, struct sim_figures *);
/* The totals over every pool (waits merged, cost with each pool's weights). */
void		 sim_result_totals(const struct sim_result *,
		    struct sim_figures *);
/* One JSON object (malloc'd string, ends with a newline). */
char		*sim_result_json(const struct sim_result *);
void		 sim_result_print_text(FILE *, const struct sim_result *);

/* Internal to the run: stats bookkeeping shared by sim_run.c/sim_out.c. */
void		 sim_stats_add_wait(struct sim_stats *, uint32_t wait_ms);
void		 sim_stats_free(struct sim_stats *);

#endif
