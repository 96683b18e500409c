/*
 * bgpd: the BGP-4 speaker's public interface.
 *
 * A struct bgp is one BGP instance on one libevent base: its listener,
 * its peers (one FSM each, RFC 4271 §8) and, later, its RIB.  It is built
 * from the "router bgp" part of a struct config and re-built in place by
 * bgp_reconfigure(): added neighbors start, removed ones stop with a
 * Cease/Peer De-configured NOTIFICATION, changed ones restart only when
 * a session-relevant setting changed, unchanged sessions stay up.
 *
 * Callers outside bgpd (the daemon's API, tests) see peers only through
 * struct bgp_peer_info snapshots; struct bgp_peer stays opaque.
 */
#ifndef BGPD_BGPD_H
#define BGPD_BGPD_H

#include <stdbool.h>
#include <stdint.h>

#include "bgpd/bgp_msg.h"
#include "common/addr.h"
#include "conf/conf.h"

struct event_base;
struct bgp;
struct bgp_peer;

enum bgp_state {
	BGP_ST_IDLE,
	BGP_ST_CONNECT,
	BGP_ST_ACTIVE,
	BGP_ST_OPENSENT,
	BGP_ST_OPENCONFIRM,
	BGP_ST_ESTABLISHED,
	BGP_ST_MAX,
};

const char *bgp_state_name(enum bgp_state);	/* "Idle" .. "Established" */

struct bgp_peer_stats {
	uint64_t	 msg_rcvd[BGP_MSG_ROUTE_REFRESH + 1];	/* by type */
	uint64_t	 msg_sent[BGP_MSG_ROUTE_REFRESH + 1];
	uint64_t	 state_changes;
	uint64_t	 established;		/* times reached Established */
	uint64_t	 dropped;		/* times left Established */
	uint64_t	 pfx_rcvd;		/* routes in Adj-RIB-In */
	uint64_t	 pfx_sent;		/* routes advertised */
	/* unknown attributes dropped over the limits of bgp_rib.h */
	uint64_t	 unknown_attr_dropped;
};

struct bgp_peer_info {
	struct ipaddr	 addr;
	uint16_t	 port;
	uint32_t	 remote_as;
	const char	*description;		/* may be NULL */
	enum bgp_state	 state;
	bool		 admin_shutdown;
	bool		 passive;
	uint64_t	 uptime_msec;		/* in Established (or down since) */
	uint32_t	 remote_id;		/* host order; 0 before OPEN */
	struct ipaddr	 local_addr;		/* of the TCP connection */
	uint16_t	 local_port;
	uint16_t	 remote_port;
	uint16_t	 holdtime;		/* negotiated (configured if down) */
	uint16_t	 keepalive;
	uint32_t	 send_hold_msec;	/* RFC 9687, Established; 0 off */
	struct bgp_negotiated neg;		/* valid in Established */
	bool		 md5;
	struct bgp_notify last_notify_sent;	/* code 0 = none */
	struct bgp_notify last_notify_rcvd;
	char		 last_reset[64];	/* why the session last went down */
	struct bgp_peer_stats stats;
	/* maximum-prefix: accepted prefixes per family (aid), and whether
	 * the peer is held down for exceeding a limit, with the time left
	 * until it restarts (0: until "clear bgp"). */
	uint32_t	 pfx_accepted[BGP_AID_MAX];
	bool		 pfx_overflow;
	uint64_t	 pfx_restart_msec;
};

/* Build an instance from config's default "router bgp" and start it.
 * Returns NULL with err filled if it cannot (e.g. listen fails). */
struct bgp	*bgp_create(struct event_base *, const struct config *,
		    char *err, size_t errlen);
/* Apply a new config (already validated by the parser).  Returns 0, or -1
 * with err filled and nothing changed. */
int		 bgp_reconfigure(struct bgp *, const struct config *,
		    char *err, size_t errlen);
/* Send Cease/Administrative Shutdown to every peer and close. */
void		 bgp_shutdown(struct bgp *);
void		 bgp_free(struct bgp *);

uint32_t	 bgp_local_as(const struct bgp *);
/* The event loop the instance runs on (for work deferred past a RIB
 * callback). */
struct event_base *bgp_event_base(const struct bgp *);
uint32_t	 bgp_router_id(const struct bgp *);	/* host order */
size_t		 bgp_peer_count(const struct bgp *);
size_t		 bgp_peer_established_count(const struct bgp *);

/*
 * Convergence of one address family (aid of bgp_af.h): every configured
 * peer that activates it (and is not shut down) is Established and has
 * sent End-of-RIB for it on its current session (RFC 4724 §2), or did
 * not negotiate the family.  A peer that is down counts as not done.
 * The hook runs each time an End-of-RIB makes a family converged; the
 * caller bounds its wait with a timer of its own.
 */
typedef void	 bgp_converged_cb(void *arg, int aid);
void		 bgp_set_converged_hook(struct bgp *, bgp_converged_cb *,
		    void *arg);
bool		 bgp_family_converged(const struct bgp *, int aid);

typedef void	 bgp_peer_cb(const struct bgp_peer_info *, void *arg);
/* Visit peers in address order. */
void		 bgp_peer_foreach(struct bgp *, bgp_peer_cb *, void *arg);
/* Snapshot one peer; returns -1 if no such neighbor. */
int		 bgp_peer_lookup(struct bgp *, const struct ipaddr *,
		    struct bgp_peer_info *);
/*
 * The operator's reset, FRR's "clear bgp ADDR": a session that is up
 * or coming up ends with Cease/Administrative Reset (RFC 4486 §4) and
 * starts again at once; a peer held down by maximum-prefix is
 * released.  Returns -1 if there is no such neighbor.
 */
int		 bgp_peer_clear(struct bgp *, const struct ipaddr *);

#endif
