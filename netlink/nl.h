/*
 * netlink/: programming the Linux kernel over rtnetlink with libnl-3.
 *
 * How this works: a struct nl_ctx holds four sockets.
 *
 *  - The request socket is non-blocking and driven by the caller's
 *    libevent base.  FDB, neighbour and route changes are built with
 *    libnl, copied into a batch buffer with NLM_F_ACK and our own
 *    sequence number, and written many messages per sendmsg() on the
 *    next loop turn (or when the batch fills).  Each request keeps a
 *    one-line description; acknowledgements are read on the loop and
 *    matched by sequence number, and a failure is logged in words
 *    ("fdb replace 02:00:00:00:00:05 dev 7 dst 10.0.0.12: File
 *    exists").  At most NL_MAX_INFLIGHT requests wait for their ack at
 *    once, so the acks always fit the socket's receive buffer.
 *  - The event socket is subscribed to RTNLGRP_LINK and RTNLGRP_NEIGH
 *    (bridge FDB and ARP/ND) with a large receive buffer; what the
 *    kernel reports goes to the caller's callbacks.  ENOBUFS means
 *    notifications were lost: the caller's overrun callback resyncs.
 *  - The sync socket is blocking: devices, rules and dumps, which the
 *    caller needs answered before it goes on (a device's ifindex, an
 *    "exists with VNI 200" error, the FDB at start-up).
 *  - The dump socket is non-blocking: a dump whose answers are read on
 *    the loop a few datagrams per turn (nl_dump.c), for work that may
 *    be large but need not be done before the caller goes on (a resync
 *    after an overrun, reading the bridges for learning).
 *
 * This folder knows links, FDB entries, neighbours, routes and rules;
 * it knows nothing of EVPN (dataplane/ maps one to the other).
 */
#ifndef NETLINK_NL_H
#define NETLINK_NL_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

struct event_base;
struct nl_ctx;

#define NL_MAX_INFLIGHT		2048	/* requests awaiting their ack */
#define NL_BATCH_BYTES		(64 * 1024)
#define NL_EVENT_RCVBUF		(32 * 1024 * 1024)
#define NL_VXLAN_PORT		4789
#define NL_RULE_PRIO_BASE	1000	/* "iif BRIDGE lookup TABLE" rules */
/*
 * Our protocol number: on every route (rtm_protocol) and neighbour
 * (NDA_PROTOCOL) we install, so that a dump or an event tells ours from
 * an administrator's static entry, the kernel's connected routes or
 * another daemon's (FRR's zebra uses 11 and 186-198).  237 is in no
 * rt_protos list we know of; "237 evpnd" in /etc/iproute2/rt_protos.d/
 * makes ip(8) print it by name.  The kernel keeps no protocol on bridge
 * FDB entries: ours there are those with extern_learn on our VXLAN
 * devices.
 */
#define NL_RTPROT_EVPND		237

struct nl_counters {
	uint64_t	 sent;		/* requests written to the kernel */
	uint64_t	 acked;		/* answered with success */
	uint64_t	 failed;	/* answered with an error */
	uint64_t	 pending;	/* queued or awaiting an ack */
	uint64_t	 overruns;	/* ENOBUFS on the event socket */
	uint64_t	 resyncs;	/* counted by the caller's reconcile */
	uint64_t	 sync;		/* blocking requests (devices, dumps) */
	uint64_t	 dumps;		/* dumps read on the loop */
};

/* A bridge FDB entry (AF_BRIDGE neighbour). */
struct nl_fdb {
	int		 ifindex;	/* the port (or the VXLAN device) */
	int		 master;	/* the bridge, 0 when not reported */
	struct macaddr	 mac;
	struct ipaddr	 dst;		/* VXLAN remote, af 0 when none */
	uint16_t	 state;		/* NUD_* */
	uint8_t		 flags;		/* NTF_SELF, NTF_MASTER, NTF_EXT_LEARNED */
	uint16_t	 vlan;		/* 0 when none */
};

/* An ARP/ND neighbour. */
struct nl_neigh {
	int		 ifindex;
	struct ipaddr	 ip;
	struct macaddr	 mac;
	bool		 has_mac;
	uint16_t	 state;
	uint8_t		 flags;
	uint8_t		 protocol;	/* NDA_PROTOCOL, 0 when none */
};

/* A route (the fields that say whose it is and where). */
struct nl_route {
	uint32_t	 table;
	struct prefix	 pfx;
	uint8_t		 protocol;	/* RTPROT_* */
	uint8_t		 type;		/* RTN_* */
};

struct nl_link {
	int		 ifindex;
	char		 name[IF_NAMESIZE];
	int		 master;	/* 0 = none */
	bool		 up;		/* IFF_UP */
};

struct nl_callbacks {
	void	(*fdb)(void *arg, bool added, const struct nl_fdb *);
	void	(*neigh)(void *arg, bool added, const struct nl_neigh *);
	void	(*link)(void *arg, bool added, const struct nl_link *);
	/* Only after nl_events_routes(). */
	void	(*route)(void *arg, bool added, const struct nl_route *);
	/* Notifications were lost: dump and reconcile. */
	void	(*overrun)(void *arg);
	void	*arg;
};

/* nl.c: sockets, batching, acks. */
struct nl_ctx	*nl_create(struct event_base *, const struct nl_callbacks *,
		    char *err, size_t errlen);
void		 nl_free(struct nl_ctx *);
void		 nl_get_counters(const struct nl_ctx *, struct nl_counters *);
void		 nl_count_resync(struct nl_ctx *);
/* Write what is queued now (normally done on the next loop turn). */
void		 nl_flush(struct nl_ctx *);
/* Send and read acks without the event loop until nothing is pending;
 * -1 on timeout.  For start-up and tests. */
int		 nl_wait_idle(struct nl_ctx *, int timeout_ms);
/* Read whatever the event socket holds now, without the loop. */
void		 nl_events_poll(struct nl_ctx *, int timeout_ms);
/* Also report route changes (RTNLGRP_IPV4_ROUTE, _IPV6_ROUTE): joined
 * once a caller has tables to watch; 0 or -1. */
int		 nl_events_routes(struct nl_ctx *);
/* Shrink the event socket's receive buffer (tests provoke overruns). */
int		 nl_events_set_rcvbuf(struct nl_ctx *, int bytes);

/* nl_link.c: devices (synchronous). */
struct nl_vxlan_params {
	const char	*name;
	uint32_t	 vni;
	struct ipaddr	 local;
	uint16_t	 dstport;	/* 0 = 4789 */
	uint16_t	 mtu;		/* 0 = kernel default */
};

/* Create the VXLAN device, or adopt an existing one whose VNI, local
 * address, port and type match; -1 with err naming the device and the
 * difference otherwise. */
int	 nl_vxlan_ensure(struct nl_ctx *, const struct nl_vxlan_params *,
	    bool *created, int *ifindex, char *err, size_t errlen);
/* Create or adopt a bridge; set its MAC when mac is not NULL. */
/* Set a link's MAC address (blocking request). */
int	 nl_link_set_mac(struct nl_ctx *, int ifindex, const char *name,
	    const struct macaddr *, char *err, size_t errlen);
int	 nl_bridge_ensure(struct nl_ctx *, const char *name,
	    const struct macaddr *mac, bool *created, int *ifindex,
	    char *err, size_t errlen);
/* Enslave port to bridge and set its bridge-port flags. */
int	 nl_bridge_attach(struct nl_ctx *, int port, int bridge,
	    bool learning, bool neigh_suppress, char *err, size_t errlen);
int	 nl_link_set_up(struct nl_ctx *, int ifindex, char *err,
	    size_t errlen);
int	 nl_link_delete(struct nl_ctx *, int ifindex, char *err,
	    size_t errlen);
/* The same, queued behind the requests before it (not waited for). */
void	 nl_link_delete_queued(struct nl_ctx *, int ifindex,
	    const char *name);
/* ifindex by name, 0 when absent. */
int	 nl_link_index(struct nl_ctx *, const char *name);
int	 nl_link_get(struct nl_ctx *, const char *name, struct nl_link *);
/* Whether the kernel can make VRF devices (probed once at nl_create). */
bool	 nl_vrf_supported(const struct nl_ctx *);
int	 nl_vrf_ensure(struct nl_ctx *, const char *name, uint32_t table,
	    bool *created, int *ifindex, char *err, size_t errlen);
int	 nl_link_set_master(struct nl_ctx *, int ifindex, int master,
	    char *err, size_t errlen);

/* nl_fdb.c: FDB and neighbours (queued). */
/* MAC dst VTEP on the VXLAN device (self) and on its bridge (master),
 * extern_learn; sticky makes both static. */
void	 nl_fdb_replace(struct nl_ctx *, int vxlan_ifindex,
	    const struct macaddr *, const struct ipaddr *dst, bool sticky);
void	 nl_fdb_delete(struct nl_ctx *, int vxlan_ifindex,
	    const struct macaddr *);
/* Head-end replication: 00:00:00:00:00:00 dst VTEP, appended. */
void	 nl_flood_append(struct nl_ctx *, int vxlan_ifindex,
	    const struct ipaddr *dst);
void	 nl_flood_delete(struct nl_ctx *, int vxlan_ifindex,
	    const struct ipaddr *dst);
/* IP lladdr MAC, NOARP, extern_learn, protocol NL_RTPROT_EVPND. */
void	 nl_neigh_replace(struct nl_ctx *, int ifindex, const struct ipaddr *,
	    const struct macaddr *);
void	 nl_neigh_delete(struct nl_ctx *, int ifindex, const struct ipaddr *);

/* Dumps (synchronous): callbacks get each entry; 0 or -1. */
typedef void	 nl_fdb_cb(void *arg, const struct nl_fdb *);
typedef void	 nl_neigh_cb(void *arg, const struct nl_neigh *);
/* ifindex 0 = all; for FDB, entries whose port or master is ifindex. */
int	 nl_fdb_dump(struct nl_ctx *, int ifindex, nl_fdb_cb *, void *arg);
int	 nl_neigh_dump(struct nl_ctx *, int ifindex, nl_neigh_cb *, void *arg);

/* nl_dump.c: dumps read on the event loop, NL_DUMP_SLICE datagrams
 * (of up to 64 KB) per loop turn; each entry to its callback, then
 * done(arg, 0 or -errno) once.  One at a time: -1 with EBUSY while one
 * runs.  Without an event base the whole dump is read before return. */
#define NL_DUMP_SLICE	4
enum nl_dump_kind {
	NL_DUMP_FDB,		/* every bridge FDB entry */
	NL_DUMP_NEIGH,		/* every ARP/ND neighbour */
	NL_DUMP_ROUTE,		/* every route of every table */
};
typedef void	 nl_route_cb(void *arg, const struct nl_route *);
struct nl_dump_cbs {
	nl_fdb_cb	*fdb;
	nl_neigh_cb	*neigh;
	nl_route_cb	*route;
	void		(*done)(void *arg, int error);
	void		*arg;
};
int	 nl_dump_start(struct nl_ctx *, enum nl_dump_kind,
	    const struct nl_dump_cbs *);
bool	 nl_dump_running(const struct nl_ctx *);

/* nl_route.c: routes (queued) and rules (synchronous). */
/* prefix via gw onlink dev ifindex in table, protocol NL_RTPROT_EVPND. */
void	 nl_route_replace(struct nl_ctx *, uint32_t table,
	    const struct prefix *, const struct ipaddr *gw, int ifindex);
/* Deletes only a route of protocol NL_RTPROT_EVPND (the kernel matches
 * the protocol of a delete); "no such route" is no error. */
void	 nl_route_delete(struct nl_ctx *, uint32_t table,
	    const struct prefix *);
/* Routes of one table (0: all), synchronous; 0 or -1. */
int	 nl_route_dump(struct nl_ctx *, uint32_t table, nl_route_cb *,
	    void *arg);
/* "iif NAME lookup TABLE" at priority prio, for both families. */
int	 nl_rule_iif_add(struct nl_ctx *, uint32_t prio, const char *iif,
	    uint32_t table, char *err, size_t errlen);
int	 nl_rule_iif_delete(struct nl_ctx *, uint32_t prio, const char *iif,
	    uint32_t table, char *err, size_t errlen);
void	 nl_rule_iif_delete_queued(struct nl_ctx *, uint32_t prio,
	    const char *iif, uint32_t table);

#endif
