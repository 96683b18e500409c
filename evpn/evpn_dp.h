/*
 * The data-plane interface: everything evpn/ asks of the kernel, and
 * everything the kernel tells evpn/ back.
 *
 * evpn/ declares it and calls it; it never includes libnl.  main wires
 * an implementation built on netlink/ (dataplane/); the unit
 * tests wire a fake that records calls.  Operations are requests: they
 * return at once, the implementation batches them and reports failures
 * by log and counters (a failed install is retried by the next resync,
 * not by evpn/).  Names are kernel interface names from the config.
 *
 * What evpn/ programs (RFC 8365 §5, and what FRR's zebra does, so a
 * fabric mixing evpnd and FRR leaves forwards the same way):
 *   type 2 MAC       -> FDB entry on the VXLAN device: MAC dst VTEP,
 *                       extern_learn (sticky -> static)
 *   type 2 MAC+IP    -> neighbour entry on the bridge: IP lladdr MAC,
 *                       extern_learn, NOARP (ARP/ND suppression answers it)
 *   type 3           -> flood entry 00:00:00:00:00:00 dst VTEP, appended
 *   type 5           -> route in the VRF table via VTEP onlink on the L3
 *                       VNI's bridge, plus the router MAC as the VTEP's
 *                       neighbour there and as an FDB entry dst VTEP
 */
#ifndef EVPN_EVPN_DP_H
#define EVPN_EVPN_DP_H

#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"

struct evpn;

/* One vxlan block (and, for an L3 VNI, its vrf) as the kernel sees it. */
struct evpn_dp_vni {
	const char	*vxlan_if;
	const char	*bridge_if;
	uint32_t	 vni;
	struct ipaddr	 local_ip;
	uint16_t	 dstport;
	uint16_t	 mtu;		/* 0 = kernel default */
	bool		 arp_suppress;	/* neigh_suppress on the bridge port */
	bool		 l3;
	uint32_t	 table;		/* L3: routes go here */
	const char	*vrf;		/* L3: the vrf name */
	struct macaddr	 router_mac;	/* L3: the bridge's MAC */
};

struct evpn_dataplane {
	void	*ctx;
	/* Create or adopt the VXLAN device and its bridge.  -1 with err
	 * filled (naming the device and the difference) when an existing
	 * device does not match. */
	int	(*vni_add)(void *ctx, const struct evpn_dp_vni *, char *err,
		    size_t errlen);
	/* Remove what vni_add created (adopted devices stay). */
	void	(*vni_del)(void *ctx, const struct evpn_dp_vni *);

	void	(*mac_set)(void *ctx, const struct evpn_dp_vni *,
		    const struct macaddr *, const struct ipaddr *vtep,
		    bool sticky);
	void	(*mac_del)(void *ctx, const struct evpn_dp_vni *,
		    const struct macaddr *);
	void	(*flood_add)(void *ctx, const struct evpn_dp_vni *,
		    const struct ipaddr *vtep);
	void	(*flood_del)(void *ctx, const struct evpn_dp_vni *,
		    const struct ipaddr *vtep);
	void	(*neigh_set)(void *ctx, const struct evpn_dp_vni *,
		    const struct ipaddr *, const struct macaddr *);
	/* Only when the installed entry still maps the IP to this MAC (an
	 * IP that moved to another MAC keeps its new entry). */
	void	(*neigh_del)(void *ctx, const struct evpn_dp_vni *,
		    const struct ipaddr *, const struct macaddr *);
	/* vni is the L3 VNI; rmac the remote router MAC. */
	void	(*route_set)(void *ctx, const struct evpn_dp_vni *,
		    const struct prefix *, const struct ipaddr *vtep,
		    const struct macaddr *rmac);
	void	(*route_del)(void *ctx, const struct evpn_dp_vni *,
		    const struct prefix *);
	/* Start of a full push (start-up, resync): entries evpn/ owns that
	 * are not pushed again before sync_end are stale and go. */
	void	(*sync_begin)(void *ctx);
	void	(*sync_end)(void *ctx);
	/* Report the MACs and neighbours the VNI's bridge holds now, as if
	 * just learned (the mac-limit let some go unreported); optional. */
	void	(*learn_again)(void *ctx, const struct evpn_dp_vni *);
};

/* Kernel -> evpn/: local learning (a MAC or neighbour the kernel learned
 * on a managed bridge, not one evpn/ installed). */
void	 evpn_dp_mac_learned(struct evpn *, const char *bridge_if,
	    const struct macaddr *);
void	 evpn_dp_mac_gone(struct evpn *, const char *bridge_if,
	    const struct macaddr *);
void	 evpn_dp_neigh_learned(struct evpn *, const char *bridge_if,
	    const struct ipaddr *, const struct macaddr *);
void	 evpn_dp_neigh_gone(struct evpn *, const char *bridge_if,
	    const struct ipaddr *);
/* The kernel state may have diverged (netlink overrun): push it all
 * again between sync_begin and sync_end. */
void	 evpn_dp_resync(struct evpn *);
/* Attach a data plane (NULL detaches); pushes the full state.  What the
 * kernel holds of ours from before (a restart) is kept, not swept, until
 * the settling ends: when every peer has sent End-of-RIB for l2vpn evpn,
 * or rib-stale-time (the config's bgp graceful-restart rib-stale-time)
 * after the attach, so a restart does not empty the FDB while the RIB
 * refills.  evpn_dp_settle() ends it now. */
void	 evpn_set_dataplane(struct evpn *, const struct evpn_dataplane *);
void	 evpn_dp_settle(struct evpn *);

#endif
