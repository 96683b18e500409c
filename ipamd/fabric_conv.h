/*
 * Fabric-wide convergence: the shadow inventory's "fabric" lead-time
 * source (shadowd.h) through the fabric pools' etcd.
 *
 * How this works: every FABRIC_CONV_PERIOD_MS each VTEP
 *  (1) publishes what it measures of the other VTEPs' routes (evpn's
 *      receive-side window, evpn_converge.c) under
 *      P/convergence/ROUTER-ID as
 *	{"routerId", "vtep", "count", "p50Ms", "p90Ms", "p99Ms"}
 *      attached to a lease of FABRIC_CONV_TTL_S that it keeps alive, so
 *      the key of a VTEP that stops goes away by itself (nothing is
 *      published while it has no sample);
 *  (2) reads P/convergence/ and hands the shadow inventory the fabric's
 *      distribution: over the other VTEPs' entries with at least
 *      SHADOWD_LEAD_MIN_SAMPLES samples, the highest p50, p90 and p99
 *      (a route has converged across the fabric when the slowest
 *      receiver has it) and the summed counts, trusted for
 *      FABRIC_CONV_HOLD_MS.  Without such an entry, or when etcd stops
 *      answering, the fabric source lapses and each pool falls back to
 *      the local measurement, then to its lead-time.
 * Values are read as hostile: a key whose value does not parse, or
 * whose figures are out of range (above EVPN_CONV_MAX_MS, not ordered
 * p50 <= p90 <= p99), is left out.
 */
#ifndef IPAMD_FABRIC_CONV_H
#define IPAMD_FABRIC_CONV_H

#include <stddef.h>
#include <stdint.h>

#include "ipam/fabric.h"
#include "ipamd/shadowd.h"

#define FABRIC_CONV_PERIOD_MS	5000
#define FABRIC_CONV_TTL_S	15	/* the key's lease */
#define FABRIC_CONV_HOLD_MS	(3 * FABRIC_CONV_PERIOD_MS)
#define FABRIC_CONV_VALUE_MAX	512

struct event_base;
struct ds_etcd;
struct fabric_conv;

/* One VTEP's published distribution. */
struct fabric_conv_entry {
	struct ipam_fabric_owner who;
	struct shadowd_convergence c;
};

/* The value of a VTEP's key (malloc'd JSON text, its length in *len). */
char		*fabric_conv_encode(const struct fabric_conv_entry *,
		    size_t *len);
/* -1 when the value is not one (hostile input). */
int		 fabric_conv_parse(const char *value, size_t len,
		    struct fabric_conv_entry *);
/* The fabric's distribution from n entries, leaving out self (a router
 * id) and entries with too few samples; returns how many were used. */
size_t		 fabric_conv_merge(const struct fabric_conv_entry *, size_t n,
		    const char *self, struct shadowd_convergence *out);

/* Publish and read on ds under key prefix P (the datastore's); local
 * gives this VTEP's receive-side distribution.  The timer starts at
 * once. */
struct fabric_conv *fabric_conv_create(struct event_base *,
		    struct ds_etcd *, const char *key_prefix,
		    const struct ipam_fabric_owner *me, struct shadowd *,
		    shadowd_convergence_fn *local, void *local_arg);
/* One round now (the timer's work). */
void		 fabric_conv_tick(struct fabric_conv *);
/* Stop; the memory goes once the requests under way have answered
 * (call before freeing the client, which answers them). */
void		 fabric_conv_free(struct fabric_conv *);

#endif
