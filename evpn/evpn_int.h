/*
 * Inside evpn/: instances, origination, import.  See evpn.h.
 */
#ifndef EVPN_EVPN_INT_H
#define EVPN_EVPN_INT_H

#include "bgpd/bgp_af.h"
#include "bgpd/bgp_attr.h"
#include "bgpd/bgp_rib.h"
#include "common/hash.h"
#include "common/macset.h"
#include "common/queue.h"
#include "evpn/evpn.h"
#include "evpn/evpn_nlri.h"

struct slab;

/* EVPN extended communities (RFC 7432 §7.5, §7.7; RFC 9135 §8.1). */
#define EVPN_ECOMM_ST_MAC_MOB	0x00
#define EVPN_ECOMM_ST_ROUTER_MAC 0x03
#define EVPN_ECOMM_ST_ND	0x08
#define EVPN_ECOMM_ST_DEF_GW	0x0d	/* under transitive opaque 0x03 */
#define EVPN_MAC_MOB_STICKY	0x01
#define EVPN_PMSI_INGRESS_REPL	6	/* RFC 6514 §5 tunnel type */

#define IMPORT_MAX_VNIS		16	/* VNIs one route may be imported into */

struct evpn_vni {
	TAILQ_ENTRY(evpn_vni) entry;
	uint32_t	 vni;
	bool		 l3;		/* an L3 VNI: named by a vrf block */
	char		*vrf;		/* L3: the vrf name */
	uint32_t	 table;		/* L3: kernel table */
	char		*ifname;	/* the vxlan device */
	char		*bridge;
	struct ipaddr	 tunnel_ip;
	struct rd	 rd;
	bool		 rd_auto;
	uint16_t	 rd_index;	/* derived RD: router-id:rd_index */
	struct rt	*rt_import;
	size_t		 n_import;
	bool		 import_auto;	/* match AS:VNI with any AS */
	struct rt	*rt_export;
	size_t		 n_export;
	struct macaddr	 router_mac;	/* L3 */
	uint16_t	 dstport;
	uint16_t	 mtu;
	bool		 arp_suppress;
	bool		 dp_ready;	/* devices exist in the kernel */
	uint32_t	 conv_seen;	/* type-2 locals made, for sampling */
	/* Import counters. */
	size_t		 n_macip_local;
	size_t		 n_macip_remote;
	size_t		 n_imet_remote;
	size_t		 n_prefix_remote;
	/* Learned MACs (distinct MACs of learned routes) and the vxlan
	 * block's mac-limit (0: none); beyond it new MACs are dropped. */
	uint32_t	 mac_limit;
	size_t		 n_learned_macs;
	uint64_t	 mac_limit_drops;
	bool		 at_mac_limit;	/* reached: logged, not again until
					   back below 90% */
};
TAILQ_HEAD(evpn_vni_list, evpn_vni);

/* One locally originated route and what it was built from. */
enum evpn_local_source {
	EVPN_LOCAL_CONFIG,	/* static-mac, network, type 3 */
	EVPN_LOCAL_LEARNED,	/* the kernel learned it on a bridge */
	EVPN_LOCAL_IPAM,	/* an IPAM allocation */
};

struct evpn_local {
	TAILQ_ENTRY(evpn_local) entry;
	struct hash_node by_key;	/* evpn.locals_by_key */
	struct hash_node by_mac;	/* evpn.locals_by_mac (type 2) */
	struct evpn_route route;
	enum evpn_local_source source;
	uint32_t	 vni;		/* L2 VNI (type 2/3) or L3 VNI (type 5) */
	uint32_t	 seq;		/* MAC mobility sequence */
	bool		 sticky;
	bool		 keep;		/* diffing during a reload */
	bool		 rekeyed;	/* moved to a new RD by this reload */
	/* Duplicate address detection (FRR's defaults, RFC 7432 §15.1). */
	uint32_t	 moves;
	uint64_t	 first_move_ms;
	bool		 duplicate;
	/* Convergence sampling (evpn_converge.c). */
	bool		 conv_sampled;
	uint32_t	 conv_version;	/* fingerprint when stamped; 0 never */
	uint64_t	 conv_stamp_ms;	/* 0 = announced without a stamp */
};
TAILQ_HEAD(evpn_local_list, evpn_local);

/* One imported route: a RIB entry counted in one VNI. */
struct evpn_import {
	struct hash_node node;
	const struct bgp_rib_entry *entry;
	uint32_t	 vni;
	uint32_t	 hash;		/* of (vni, type, MAC or IP) */
	bool		 local;
};

struct evpn_dataplane;
struct evpn_dp_vni;
struct evpn_conflict;
struct evpn_conv;
struct event;
struct event_base;
struct mobility_todo;
TAILQ_HEAD(mobility_todo_list, mobility_todo);
TAILQ_HEAD(evpn_conflict_list, evpn_conflict);

struct evpn {
	struct bgp	*bgp;
	const struct evpn_dataplane *dp;
	struct bgp_rib	*rib;
	uint32_t	 asn;
	uint32_t	 router_id;
	bool		 advertise_all_vni;
	struct conf_dad	 dad;
	struct evpn_vni_list vnis;
	struct evpn_local_list locals;
	struct hash_table locals_by_key;	/* evpn_local.c */
	struct hash_table locals_by_mac;
	struct hash_table imports;	/* evpn_import.c */
	struct slab	*import_slab;
	/* evpn_import_vnis() memo: the VNIs of the last attribute set. */
	const struct bgp_attrs *memo_attrs;
	bool		 memo_l3;
	size_t		 memo_n;
	uint32_t	 memo_vnis[IMPORT_MAX_VNIS];
	uint64_t	 dad_detections;
	struct ipam	*ipam;		/* NULL when no pools */
	/* Reserved in the IPAM (evpn_ipam.c): the router and bridge MACs
	 * of our VNIs, each once, and those received routes name. */
	struct macaddr	*own_macs;
	size_t		 n_own_macs;
	struct macset	 remote_rmacs;
	struct mobility_todo_list mobility;	/* deferred checks */
	struct event	*mobility_ev;
	bool		 dp_settling;	/* first sweep deferred */
	struct event	*settle_ev;	/* its end: rib-stale-time, or now */
	uint16_t	 rib_stale_time;
	evpn_churn_cb	*churn_cb;
	void		*churn_arg;
	struct evpn_conflict_list conflicts;
	uint64_t	 conflicts_total;
	struct evpn_conv *conv;		/* evpn_converge.c */
	bool		 reimporting;	/* a reload re-runs the import */
	struct evpn_dp_counters dp_ctr;	/* totals over all VNIs */
	uint64_t	 refusal_log_ms;	/* evpn_dp.c: rate of its log */
	uint64_t	 refusals_unlogged;
};

/* evpn.c */
struct evpn_vni	*evpn_vni_find(const struct evpn *, uint32_t vni);
int		 evpn_instances_build(struct evpn *, const struct config *,
		    struct evpn_vni_list *out, char *err, size_t errlen);
void		 evpn_instances_free(struct evpn_vni_list *);

/* evpn_af.c: the l2vpn evpn row of bgpd's family table (bgp_af.h) */
#define AFI_L2VPN		25	/* IANA; RFC 4761 §3.2.2 */
#define SAFI_EVPN		70	/* RFC 7432 §7 */
#define BGP_AID_L2VPN_EVPN	BGP_AID_REGISTERED
extern const struct bgp_af evpn_af;
/* MAC mobility community of a path: 0 if absent. */
bool		 evpn_path_mobility(const struct bgp_attrs *, uint32_t *seq,
		    bool *sticky);

/* evpn_origin.c */
void		 evpn_originate(struct evpn *, const struct config *);
void		 evpn_locals_free(struct evpn *);
/* evpn_local.c: the index of local routes */
void		 evpn_locals_init(struct evpn *);
struct evpn_local *evpn_local_find(struct evpn *, const struct evpn_route *);
void		 evpn_locals_insert(struct evpn *, struct evpn_local *);
void		 evpn_locals_unlink(struct evpn *, struct evpn_local *);
typedef void	 evpn_local_cb(struct evpn_local *, void *arg);
void		 evpn_locals_of_mac(struct evpn *, uint32_t vni,
		    const struct macaddr *, evpn_local_cb *, void *arg);
bool		 evpn_locals_have_mac(struct evpn *, uint32_t vni,
		    const struct macaddr *);
/* Whether a route learned for mac may be added to v: the mac-limit
 * (counts and logs a refusal). */
bool		 evpn_learned_mac_admit(struct evpn *, struct evpn_vni *,
		    const struct macaddr *);
void		 evpn_local_set_source(struct evpn *, struct evpn_local *,
		    enum evpn_local_source);
/* Count the learned MACs of every VNI again (after a reload). */
void		 evpn_learned_recount(struct evpn *);
struct evpn_local *evpn_local_upsert(struct evpn *, const struct evpn_route *,
		    uint32_t vni, bool sticky, enum evpn_local_source);
/* Withdraw and forget a local route. */
void		 evpn_local_remove(struct evpn *, struct evpn_local *);
void		 evpn_local_announce(struct evpn *, struct evpn_local *);

/* evpn_import.c */
void		 evpn_import_best_changed(void *arg, const struct bgp_rib_entry *,
		    const struct bgp_rib_path *old_best,
		    const struct bgp_rib_path *new_best);
void		 evpn_import_init(struct evpn *);
void		 evpn_mobility_init(struct evpn *, struct event_base *);
void		 evpn_mobility_free(struct evpn *);
void		 evpn_import_free(struct evpn *);
/* Highest remote sequence for (vni, MAC) and whether a remote route for
 * it is sticky; false when no remote route has it. */
bool		 evpn_import_remote_mac(struct evpn *, uint32_t vni,
		    const struct macaddr *, uint32_t *seq, bool *sticky,
		    struct ipaddr *vtep);
/* Which VNIs a route's targets import it into; returns how many. */
size_t		 evpn_import_vnis(struct evpn *, uint8_t type,
		    const struct bgp_attrs *, uint32_t *vnis, size_t max);
typedef void	 evpn_import_cb(const struct evpn_import *, void *arg);
void		 evpn_import_foreach(struct evpn *, evpn_import_cb *, void *);
/* Visit the records of one group: (vni, type 2, MAC), (vni, type 3,
 * VTEP) or (vni, type 5, prefix). */
void		 evpn_import_group(struct evpn *, uint32_t vni,
		    const struct evpn_route *, evpn_import_cb *, void *);

/* What one type-2 route claims for its MAC (RFC 7432 §15). */
struct evpn_mac_claim {
	bool		 found;
	bool		 local;
	bool		 sticky;
	uint32_t	 seq;
	struct ipaddr	 vtep;
};
void		 evpn_mac_claim_of(const struct evpn_vni *,
		    const struct evpn_import *, struct evpn_mac_claim *);
bool		 evpn_mac_claim_better(const struct evpn_mac_claim *,
		    const struct evpn_mac_claim *);

/* evpn.c */
void		 evpn_churn(struct evpn *, uint32_t vni, enum evpn_churn);

/* evpn_converge.c */
void		 evpn_conv_init(struct evpn *);
void		 evpn_conv_free(struct evpn *);
/* Stamp every Nth new type-2 route of a VNI; 0 = none. */
void		 evpn_conv_configure(struct evpn *, uint32_t every);
void		 evpn_conv_ecomm_make(uint8_t ec[BGP_ECOMM_LEN], uint64_t ms);
int		 evpn_conv_ecomm_parse(const uint8_t ec[BGP_ECOMM_LEN],
		    uint64_t *ms);
/* The origination stamp of a path; -1 when it has none. */
int		 evpn_conv_stamp_of(const struct bgp_attrs *, uint64_t *ms);
/* A new local route: sample it (always: a pre-allocation's route)? */
void		 evpn_conv_pick(struct evpn *, struct evpn_local *,
		    bool always);
/* Append the stamp of a sampled route to its n communities (room for
 * max); returns the new count. */
size_t		 evpn_conv_stamp(struct evpn *, struct evpn_local *,
		    const struct ipaddr *nexthop, uint8_t *ec, size_t n,
		    size_t max);
/* The best path of an entry imported into vni changed: a sample? */
void		 evpn_conv_received(struct evpn *, uint32_t vni,
		    const struct bgp_rib_path *old_best,
		    const struct bgp_rib_path *new_best);

/* evpn_ipam.c */
bool		 evpn_ipam_owns_mac(struct evpn *, uint32_t vni,
		    const struct macaddr *);
/* A remote type-2 route with an IP entered (present) or left vni. */
void		 evpn_ipam_remote_route(struct evpn *, uint32_t vni,
		    const struct evpn_route *, const struct bgp_rib_path *,
		    bool present);
void		 evpn_ipam_conflicts_free(struct evpn *);
/* The VNIs changed: reserve their router and bridge MACs instead. */
void		 evpn_ipam_own_macs(struct evpn *);
/* The best path of an entry changed: count the router MACs it names. */
void		 evpn_ipam_router_macs(struct evpn *,
		    const struct bgp_rib_path *old_best,
		    const struct bgp_rib_path *new_best);
/* Forget both sets (the IPAM is not told: it may be gone). */
void		 evpn_ipam_macs_free(struct evpn *);

/* evpn_dp.c */
/* The Router's MAC extended community of a path (RFC 9135 §8.1). */
bool		 evpn_path_router_mac(const struct bgp_attrs *,
		    struct macaddr *);
void		 evpn_dp_vni_spec(const struct evpn_vni *,
		    struct evpn_dp_vni *);
/* Push the kernel state of r's group in vni (a no-op without a data
 * plane). */
void		 evpn_dp_resolve(struct evpn *, uint32_t vni,
		    const struct evpn_route *);
/* A remote path of r entered vni: count and log it when its kernel
 * entry cannot be installed (resolve leaves it out). */
void		 evpn_dp_check_import(struct evpn *, uint32_t vni,
		    const struct evpn_route *, const struct bgp_rib_path *);
/* r left vni: remove what only it installed (its ARP/ND entry). */
void		 evpn_dp_route_gone(struct evpn *, uint32_t vni,
		    const struct evpn_route *, bool was_local);
/* The end of the settling after an attach (bgpd's convergence hook and
 * the rib-stale-time timer). */
void		 evpn_dp_settle_init(struct evpn *, struct event_base *);
void		 evpn_dp_settle_free(struct evpn *);
/* Create the devices of every VNI (start, reload). */
void		 evpn_dp_vnis_apply(struct evpn *, struct evpn_vni_list *old);

#endif
