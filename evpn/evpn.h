/*
 * EVPN (RFC 7432, RFC 8365 VXLAN, RFC 9136 type 5) on top of bgpd.
 *
 * How this works
 *
 * evpn_create() plugs the EVPN route codec into bgpd's RIB as the
 * l2vpn evpn address family (evpn_af.c) and reads the configuration:
 * every `vxlan` block is a VNI of this VTEP; a VNI named by a `vrf` block
 * is an L3 VNI, the others are L2 VNIs.  Each gets a route
 * distinguisher and route targets, explicit or derived as FRR derives
 * them (see evpn_instances_build()).
 *
 * Origination (evpn_origin.c) turns the configuration into local RIB
 * paths: with advertise-all-vni one type 3 per L2 VNI and one type 2 per
 * static MAC; `network` statements of a VRF instance with `advertise
 * ipv4|ipv6 unicast` become type 5 routes carrying the L3 VNI and the
 * router MAC.  A reload re-derives the set and only the difference
 * reaches the RIB.
 *
 * Import (evpn_import.c): whenever the best path of an EVPN entry
 * changes, its route targets decide which VNIs (type 2, 3) or VRFs
 * (type 5) it belongs to, and an index by (VNI, MAC) / (VNI, VTEP) /
 * (VRF, prefix) is updated.  These per-VNI views are what the data plane
 * programs and what `show evpn` prints.  MAC mobility (RFC 7432 §15) is
 * decided there: per (VNI, MAC) the winning route is the sticky one,
 * else the highest sequence number, else the lowest VTEP address; a
 * local MAC that loses to a remote one with the same or higher sequence
 * is re-advertised with sequence + 1, and duplicate address detection
 * counts those moves.
 *
 * The kernel is reached only through struct evpn_dataplane (evpn_dp.h),
 * which main wires to netlink/ and the unit tests to a recording fake.
 */
#ifndef EVPN_EVPN_H
#define EVPN_EVPN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"

struct bgp;
struct bgp_rib;
struct evpn;
struct ipam;
struct ipam_alloc;

/* What evpn needs of a configuration beyond the parser's checks;
 * -1 with err filled when it cannot be applied. */
int		 evpn_config_check(const struct config *, char *err,
		    size_t errlen);
struct evpn	*evpn_create(struct bgp *, struct bgp_rib *,
		    const struct config *, char *err, size_t errlen);
/* Apply a new configuration; -1 with err filled and nothing changed. */
int		 evpn_reconfigure(struct evpn *, const struct config *,
		    char *err, size_t errlen);
void		 evpn_free(struct evpn *);

/*
 * IPAM (evpn_ipam.c): an allocation, once durable, is advertised as a
 * type-2 MAC+IP route per address in its pool's VNI, and withdrawn on
 * release.  A remote type-2 route in a pool's VNI claiming an address of
 * the pool for another MAC is a conflict: logged, counted, listed, and
 * the address is kept out of allocation while the route stands.
 *
 * Router MACs are reserved in the IPAM (never handed out): this VTEP's
 * own, and those received routes name in the Router's MAC extended
 * community.  evpn_set_ipam() moves them from the IPAM attached before
 * (which must still exist: detach with NULL before freeing it) to the
 * new one.
 */
void		 evpn_set_ipam(struct evpn *, struct ipam *);
/* This VTEP's router and bridge MACs (each once), as configured now. */
size_t		 evpn_own_macs(const struct evpn *, const struct macaddr **);
void		 evpn_ipam_advertise(struct evpn *, const struct ipam_alloc *);
void		 evpn_ipam_withdraw(struct evpn *, const struct ipam_alloc *);
json_t		*evpn_ipam_conflicts_json(struct evpn *);
uint64_t	 evpn_ipam_conflicts_total(const struct evpn *);
/* Remote EVPN paths whose next hop is this VTEP address (reclaiming a
 * gone VTEP's IPAM blocks waits until there are none). */
size_t		 evpn_routes_from_vtep(struct evpn *, const struct ipaddr *);

/*
 * Churn, for the shadow inventory: called as remote type-2 routes enter
 * and leave an L2 VNI (routes from other VTEPs), as the kernel learns a
 * local MAC, and as a MAC moves between here and another VTEP.
 */
enum evpn_churn {
	EVPN_CHURN_REMOTE_ADD,
	EVPN_CHURN_REMOTE_DEL,
	EVPN_CHURN_LOCAL_LEARN,
	EVPN_CHURN_MAC_MOVE,
};
typedef void	 evpn_churn_cb(void *arg, uint32_t vni, enum evpn_churn);
void		 evpn_set_churn_hook(struct evpn *, evpn_churn_cb *, void *arg);

/*
 * Measured convergence (evpn_converge.c): a sample of our type-2 routes
 * carries its origination time in an experimental transitive extended
 * community (type 0x88, sub-type 0x54, 48-bit milliseconds since the
 * epoch); for such routes from other VTEPs the latency from that time
 * to the data-plane operation here goes into a histogram.  Clocks are
 * assumed synchronised to within EVPN_CONV_SKEW_MS; see the file for
 * what is sampled and how a bad clock is told.
 */
#define EVPN_CONV_ECOMM_TYPE	0x88	/* RFC 7153 §5.1: experimental */
#define EVPN_CONV_ECOMM_SUBTYPE	0x54
#define EVPN_CONV_SKEW_MS	100	/* negative latency tolerated */
#define EVPN_CONV_MAX_MS	60000	/* longer is not convergence */
#define EVPN_CONV_WINDOW_MS	600000	/* quantiles over 10 minutes */
#define EVPN_CONV_OUTCOMES	16	/* per VTEP, for the clock check */

struct lat_hist;
struct lat_summary;
struct evpn_conv_stats {
	const struct lat_hist *hist;	/* ok samples, all time */
	uint64_t	 stamped;	/* route versions we stamped */
	uint64_t	 stale;		/* stamped before their session */
	uint64_t	 skew;		/* negative, absurd, suspect clock */
	uint32_t	 suspect_vteps;
};
void		 evpn_conv_stats(struct evpn *, struct evpn_conv_stats *);
/* Quantiles of the ok samples of the last EVPN_CONV_WINDOW_MS. */
void		 evpn_conv_summary(struct evpn *, struct lat_summary *);
json_t		*evpn_convergence_json(struct evpn *);
/* The wall clock in ms since the epoch (tests set a fake one). */
void		 evpn_set_wall_clock(struct evpn *, uint64_t (*)(void *),
		    void *);

/*
 * What evpn/ refused to advertise or install, for /metrics (per VNI in
 * evpn_vni_json): learned MACs beyond a VNI's mac-limit; remote entries
 * whose VTEP cannot be one (unspecified, loopback, multicast,
 * broadcast, our own tunnel address); type-5 prefixes with host bits
 * set.
 */
struct evpn_dp_counters {
	uint64_t	 mac_limit_drops;
	uint32_t	 vnis_at_mac_limit;
	uint64_t	 bad_vtep;
	uint64_t	 bad_prefix;
};
void		 evpn_get_dp_counters(const struct evpn *,
		    struct evpn_dp_counters *);

/* JSON views for the API (new references). */
/* type 0 = all, vni 0 = all. */
json_t		*evpn_routes_json(struct evpn *, int type, uint32_t vni);
/*
 * The same routes in slices: those of about budget entries from cursor
 * (0 to start) appended to list; returns the cursor of the next slice,
 * 0 after the last (see bgp_rib_scan for what a scan guarantees).
 */
uint64_t	 evpn_routes_scan(struct evpn *, int type, uint32_t vni,
		    uint64_t cursor, size_t budget, json_t *list);
json_t		*evpn_vni_json(struct evpn *);
/* NULL if the VNI is not configured. */
json_t		*evpn_mac_json(struct evpn *, uint32_t vni);

/* The bgpd family id under which evpn/ registers l2vpn evpn (for
 * per-family counters such as End-of-RIB). */
int		 evpn_bgp_aid(void);

#endif
