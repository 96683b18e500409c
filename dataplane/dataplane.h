/*
 * The data-plane adapter: struct evpn_dataplane (evpn/evpn_dp.h)
 * implemented with netlink/.  The only folder that knows both EVPN and
 * the kernel: it uses evpn/'s data-plane interface, netlink/ and
 * common/; only daemon/ wires it into evpn/ (evpn_set_dataplane with
 * dataplane_ops()), and api/ reads its state for GET /v1/dataplane.
 *
 * Files: dp_entry.c (owned entries, mark and sweep, adoption),
 * dp_owner.c (whose a kernel entry is, entries of others), dp_vni.c
 * (VNI devices: create or adopt, remove), dp_learn.c (kernel events:
 * local learning), dp_resync.c (the overrun resync), dataplane.c (life
 * cycle, the operations, the read-only views).
 *
 * How this works: every entry evpn/ asks for (remote MAC, flood VTEP,
 * neighbour, type-5 route and the router-MAC neighbour/FDB pair a route
 * needs) is kept in a hash of owned entries; a set whose entry is
 * already owned with the same value sends nothing.  sync_begin marks
 * every owned entry, each set unmarks one, sync_end deletes what is
 * still marked.  When a VNI's devices are created or adopted, the
 * extern_learn FDB and neighbour entries already on them are taken as
 * owned and marked, so a restarted evpnd that pushes the same state
 * changes nothing in the kernel (no black hole).  Entries that are not
 * ours - a connected or static route in a VRF's table, a static
 * neighbour, another daemon's - are never replaced or deleted: ours
 * carry a protocol tag, theirs block the key (dp_owner.c).  Kernel
 * events on the managed bridges become local learning for evpn/; an
 * event-socket overrun dumps the kernel and reinstalls what is missing
 * (dp_resync.c).
 */
#ifndef DATAPLANE_DATAPLANE_H
#define DATAPLANE_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evpn/evpn_dp.h"
#include "netlink/nl.h"

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

/* What the adapter holds, for the API's view and /metrics. */
#define DATAPLANE_NKINDS	6
struct dataplane_stats {
	bool		 vrf_devices;	/* VRF devices, else ip rules */
	uint64_t	 installed[DATAPLANE_NKINDS]; /* owned entries by kind */
	/* Entries evpn/ asked for whose key holds an entry evpnd does not
	 * own (an administrator's, the kernel's, another daemon's): left
	 * alone, by kind now, and how many times that happened. */
	uint64_t	 blocked[DATAPLANE_NKINDS];
	uint64_t	 refused;
	struct nl_counters nl;		/* netlink requests and overruns */
};
/* "fdb", "flood", "neigh", "route", "rmac_fdb", "rmac_neigh". */
const char		*dataplane_kind_name(int kind);
void			 dataplane_get_stats(struct dataplane *,
			    struct dataplane_stats *);

/* One VNI's devices as the kernel has them now. */
struct dataplane_vni_state {
	uint32_t	 vni;
	bool		 l3;
	uint32_t	 table;		/* L3: the VRF's table */
	const char	*vxlan_if, *bridge_if;
	bool		 vx_created, br_created; /* else adopted */
	int		 vx_ifindex, br_ifindex; /* 0: gone */
	bool		 vx_up, br_up;
};
typedef void		 dataplane_vni_cb(void *arg,
			    const struct dataplane_vni_state *);
void			 dataplane_foreach_vni(struct dataplane *,
			    dataplane_vni_cb *, void *arg);
/* Read the kernel again, reinstall our missing entries, note others'
 * and report local MACs again: what an event overrun triggers.  It
 * runs in slices on later loop turns; one asked for while another runs
 * follows it. */
void			 dataplane_resync(struct dataplane *);
bool			 dataplane_resync_running(const struct dataplane *);
/* Nothing under way: no resync, no read of the bridges, no request
 * waiting for the kernel (tests, benchmarks). */
bool			 dataplane_idle(const struct dataplane *);
struct nl_ctx		*dataplane_nl(struct dataplane *);

#endif
