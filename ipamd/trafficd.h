/*
 * Traffic telemetry in the daemon: flow records from the collector and
 * packet samples from the bridges, mapped onto IPAM pools, become each
 * pool's traffic rate for its shadow inventory; ARP and ND requests for
 * pool addresses nobody holds become neighbour misses (the shadow
 * inventory issue, item 6).
 *
 * How this works:
 *
 * Sources (the config's "telemetry" block).  A flow collector and one
 * packet sampler per configured bridge (telemetry/telemetry.h), both
 * non-blocking on the event loop: a callback per record or frame, which
 * only counts.  The collector takes datagrams only from the configured
 * flow-exporter prefixes (others are refused and counted); with none
 * it takes them from any source and warns when it opens.
 *
 * Mapping.  A flow record, or a sampled IP frame, counts for every pool
 * with a prefix holding its source or its destination (once per pool
 * when both are in it; pools of different tenants may share a prefix,
 * and each counts it).  A frame sampled on a bridge counts in any case
 * for the pool of the bridge's VNI (the vxlan block naming the bridge,
 * or naming it as its VXLAN device), so frames without an address in a
 * pool count there.  A packet socket on a bridge sees the frames to and
 * from this host and the flooded ones (every ARP request), not unicast
 * forwarded between two ports; sampling the VXLAN device as well sees
 * the traffic to and from the other VTEPs.  The prefixes
 * come from a table rebuilt from the allocator at every tick, so pools
 * made at run time are seen within a second.
 *
 * Scaling.  A flow record counts its packets times the exporter's
 * sampling: the 1 in N its options data announced, else the
 * collector's configured one.  A sampled frame counts rate frames
 * (the kernel passed 1 in rate), except ARP requests and ND
 * solicitations: every one of them is taken, so each counts 1.
 *
 * Rate.  Per pool, packets go into 1-s bins of a ring rate-window
 * seconds long; at each 1-s tick the rate is the ring's sum over the
 * window (packets per second over the last rate-window seconds) and
 * goes to the pool's shadow engine through shadowd_traffic().
 *
 * Neighbour misses.  An ARP request or ND solicitation whose target is
 * in a pool but held by no allocation, no reservation, not the gateway
 * and not seen elsewhere (a remote route marked it, ipam_is_conflict)
 * is a miss: shadowd_neigh_miss() with the asker and the target, a
 * demand precursor and the engine's scan detector.  A gratuitous
 * request (sender = target) announces an address and is no miss.
 *
 * Reload.  trafficd_prepare() opens what the next config needs and is
 * not open yet (a changed collector) into a plan; -1 when the collector
 * cannot bind, nothing changed.  trafficd_commit() then swaps it in
 * (samplers are added and closed to match), trafficd_abort() drops it.
 * A sampler whose bridge does not exist yet is retried at every tick,
 * and reopened when its bridge's index changes (deleted, made again).
 */
#ifndef IPAMD_TRAFFICD_H
#define IPAMD_TRAFFICD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "telemetry/telemetry.h"

#define TRAFFICD_TICK_MS	1000

struct config;
struct event_base;
struct ipamd;
struct trafficd;
struct trafficd_plan;

/* -1 with err when the collector cannot bind. */
struct trafficd	*trafficd_create(struct event_base *, struct ipamd *,
		    const struct config *, char *err, size_t errlen);
void		 trafficd_free(struct trafficd *);
/* Reload in two steps (see above); a NULL plan commits nothing. */
struct trafficd_plan *trafficd_prepare(struct trafficd *,
		    const struct config *next, char *err, size_t errlen);
void		 trafficd_commit(struct trafficd *, struct trafficd_plan *,
		    const struct config *next);
void		 trafficd_abort(struct trafficd_plan *);
/* The clock (ms, non-decreasing); tests set a fake one. */
void		 trafficd_set_clock(struct trafficd *, uint64_t (*)(void *),
		    void *);

/* What the sockets call, for tests to feed directly. */
void		 trafficd_flow_record(void *td, const struct flow_record *);
/* A frame sampled on bridge (a configured one). */
int		 trafficd_sample(struct trafficd *, const char *bridge,
		    const struct pkt_sample *);
/* What the timer does: rebuild the map, roll the bins, feed rates. */
void		 trafficd_tick(struct trafficd *);

/* Views. */
struct trafficd_stats {
	bool			 collector;	/* one is open */
	uint16_t		 collector_port;
	struct flow_stats	 flow;		/* the collector's decoder */
	uint64_t		 records_unmatched;	/* in no pool */
	uint64_t		 samples;	/* frames decoded */
	uint64_t		 samples_unmatched;
	uint64_t		 neigh_requests;	/* ARP/ND seen */
	uint64_t		 neigh_misses;
};
void		 trafficd_stats(const struct trafficd *,
		    struct trafficd_stats *);

struct trafficd_pool_view {
	const char		*pool;
	uint32_t		 vni;
	double			 rate;		/* packets/s, last tick */
	uint64_t		 packets;	/* scaled, since start */
	uint64_t		 records;	/* flow records counted */
	uint64_t		 samples;	/* frames counted */
	uint64_t		 neigh_misses;
};
void		 trafficd_foreach_pool(const struct trafficd *,
		    void (*)(const struct trafficd_pool_view *, void *),
		    void *);

struct trafficd_sampler_view {
	const char		*bridge;
	uint32_t		 rate;
	uint32_t		 vni;		/* of its vxlan block; 0 none */
	bool			 open;
	uint64_t		 frames;	/* read from the socket */
};
void		 trafficd_foreach_sampler(const struct trafficd *,
		    void (*)(const struct trafficd_sampler_view *, void *),
		    void *);

#endif
