/*
 * The data-plane adapter: struct evpn_dataplane (evpn/evpn_dp.h)
 * implemented with netlink/.  The only file that knows both EVPN and
 * the kernel.
 *
 * How this works: every entry evpn/ asks for (remote MAC, flood VTEP,
 * neighbour, type-5 route and the router-MAC neighbour/FDB pair a route
 * needs) is kept in a hash of owned entries; a set whose entry is
 * already owned with the same value sends nothing.  sync_begin marks
 * every owned entry, each set unmarks one, sync_end deletes what is
 * still marked.  When a VNI's devices are created or adopted, the
 * extern_learn FDB and neighbour entries already on them are taken as
 * owned and marked, so a restarted evpnd that pushes the same state
 * changes nothing in the kernel (no black hole), and entries without
 * extern_learn are never touched.  Kernel events on the managed
 * bridges become local learning for evpn/; an event-socket overrun
 * dumps the kernel, reinstalls what is missing and asks evpn/ to push
 * everything again.
 */
#ifndef DAEMON_DATAPLANE_H
#define DAEMON_DATAPLANE_H

#include <stddef.h>

#include <jansson.h>

#include "evpn/evpn_dp.h"

struct event_base;
struct evpn;
struct nl_ctx;
struct dataplane;

/* evpn may be NULL until evpn_create() ran (dataplane_set_evpn). */
struct dataplane	*dataplane_create(struct event_base *, struct evpn *,
			    char *err, size_t errlen);
void			 dataplane_free(struct dataplane *);
void			 dataplane_set_evpn(struct dataplane *, struct evpn *);
/* The operations table to hand to evpn_set_dataplane(). */
const struct evpn_dataplane *dataplane_ops(struct dataplane *);
/* Counts, counters, VRF mode and per-VNI device state (new reference). */
json_t			*dataplane_json(struct dataplane *);
/* Dump the kernel, reinstall missing entries, ask evpn/ to resync:
 * what an event overrun triggers. */
void			 dataplane_resync(struct dataplane *);
struct nl_ctx		*dataplane_nl(struct dataplane *);

#endif
