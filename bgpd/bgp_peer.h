/*
 * Inside bgpd: the instance (struct bgp), its peers and their
 * connections.  bgpd.h is the outside view; this header is shared by
 * the FSM (bgp_fsm.c), the libevent transport (bgp_session.c), the
 * instance/peer management (bgp_peer.c) and, later, the RIB.
 *
 * How this works: bgp_create_with_ops() builds a struct bgp from the
 * default "router bgp" of a config and a struct bgp_fsm_ops (the real
 * one is bgp_session_ops; the unit tests pass a fake).  Each configured
 * neighbor becomes a struct bgp_peer holding a private copy of its
 * conf_neighbor; peers are kept sorted by address.  The routing engine
 * plugs in through struct bgp_rib_ops: the FSM calls peer_up when a
 * session reaches Established (the RIB may refuse it), peer_down when it
 * leaves, update for every UPDATE and refresh for a ROUTE-REFRESH of a
 * negotiated family.
 */
#ifndef BGPD_BGP_PEER_H
#define BGPD_BGP_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "bgpd/bgp_fsm.h"
#include "bgpd/bgp_msg.h"
#include "bgpd/bgpd.h"
#include "common/addr.h"
#include "common/queue.h"
#include "conf/conf.h"

struct event_base;
struct bgp_listener;
struct bgp_io;

/* One TCP connection of a peer.  io is the transport's. */
struct bgp_conn {
	struct bgp_peer	*peer;
	bool		 outgoing;	/* we initiated it */
	bool		 open_sent;
	bool		 open_rcvd;
	uint32_t	 remote_id;	/* from its OPEN, host order */
	struct ipaddr	 local_addr;
	uint16_t	 local_port;
	uint16_t	 remote_port;
	void		*io;
};

/* The routing engine's seam.  peer_up returns 0, or -1 when the engine
 * cannot take another peer: the FSM then closes the session with
 * Cease/Out of Resources (RFC 4486) and retries after IdleHold.  update
 * returns 0, or -1 with err filled to reset the session with that
 * NOTIFICATION.  Unless sends_eor is
 * set, the FSM sends End-of-RIB for every negotiated family right after
 * peer_up (right for an empty or synchronously sent initial table); a
 * RIB that sends its table later sets it and sends End-of-RIB itself
 * (bgp_eor_encode + bgp_peer_send). */
struct bgp_rib_ops {
	bool	 sends_eor;
	int	(*peer_up)(struct bgp_peer *);
	void	(*peer_down)(struct bgp_peer *);
	int	(*update)(struct bgp_peer *, const struct bgp_update_parts *,
		    struct bgp_notify *err);
	void	(*refresh)(struct bgp_peer *, int aid);
};

struct bgp_peer_timer {
	struct bgp_peer	*peer;
	enum bgp_timer	 which;
	void		*ev;		/* transport's timer */
};

struct bgp_peer {
	TAILQ_ENTRY(bgp_peer) entry;
	struct bgp	*bgp;
	struct conf_neighbor conf;	/* private copy (strings owned) */
	bool		 ibgp;
	enum bgp_state	 state;
	struct bgp_conn	*conn;		/* the FSM's connection */
	struct bgp_conn	*coll;		/* pending collision candidate */

	struct bgp_open	 local_open;	/* what we send */
	struct bgp_open	 remote_open;	/* what the peer sent */
	struct bgp_negotiated neg;	/* valid from OpenConfirm on */

	uint32_t	 connretry_msec;	/* next ConnectRetry delay */
	uint32_t	 idlehold_msec;		/* next IdleHold delay */
	bool		 idlehold_running;
	uint64_t	 since;			/* last change into/out of Established */

	/* End-of-RIB received per family on the current session. */
	bool		 eor_rcvd[BGP_AID_MAX];
	struct bgp_notify last_notify_sent;
	struct bgp_notify last_notify_rcvd;
	/* The session ended with a NOTIFICATION (either way): no graceful
	 * restart for it (RFC 4724 §4; RFC 8538 is not done). */
	bool		 notified;
	char		 last_reset[64];
	struct bgp_peer_stats stats;

	struct bgp_peer_timer timers[BGP_TIMER_MAX];

	/* maximum-prefix (RFC 4486 §4): accepted prefixes per family as
	 * the RIB counts them, the warnings already logged, a limit just
	 * exceeded (the FSM acts on it once the UPDATE is done) and the
	 * overflow that keeps the peer Idle until the restart timer or
	 * "clear bgp". */
	uint32_t	 pfx_accepted[BGP_AID_MAX];
	uint8_t		 pfx_logged[BGP_AID_MAX];
	int		 pfx_exceeded_aid;	/* -1: none */
	bool		 pfx_overflow;
	uint64_t	 pfx_restart_at;	/* ops->now; 0: no timer */

	/* The message being processed (RCVD_* events). */
	struct bgp_open	 rx_open;
	struct bgp_notify rx_notify;
	struct bgp_update_parts rx_update;
	struct bgp_route_refresh rx_rr;
	struct bgp_conn	*rx_conn;
};
TAILQ_HEAD(bgp_peer_list, bgp_peer);
TAILQ_HEAD(bgp_listener_list, bgp_listener);
TAILQ_HEAD(bgp_io_list, bgp_io);

struct bgp {
	struct event_base *base;
	const struct bgp_fsm_ops *ops;
	uint32_t	 local_as;
	uint32_t	 router_id;		/* host order */
	uint32_t	 cluster_id;		/* host order; router-id if unset */
	struct ipaddr	 listen_addr;		/* af 0 = any */
	uint16_t	 listen_port;		/* 0 = do not listen */
	struct bgp_listener_list listeners;
	struct bgp_io_list closing;		/* the transport's, lingering */
	struct bgp_peer_list peers;		/* sorted by address */
	bool		 graceful_restart;	/* bgp graceful-restart */
	struct bgp_rib_ops rib;
	void		*rib_arg;
	bool		 shut_down;
	bgp_converged_cb *converged_cb;
	void		*converged_arg;
};

struct bgp	*bgp_create_with_ops(struct event_base *, const struct config *,
		    const struct bgp_fsm_ops *, char *err, size_t errlen);
void		 bgp_set_rib_ops(struct bgp *, const struct bgp_rib_ops *,
		    void *arg);
struct bgp_peer	*bgp_peer_find(struct bgp *, const struct ipaddr *);
void		 bgp_peer_snapshot(const struct bgp_peer *,
		    struct bgp_peer_info *);
/* Log a line prefixed "peer 10.0.0.1: ". */
void		 bgp_peer_log(const struct bgp_peer *, int level,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Connections (FSM and transport). */
struct bgp_conn	*bgp_conn_new(struct bgp_peer *, bool outgoing);
void		 bgp_conn_free(struct bgp_conn *);

/* (Re)build our OPEN from the settings and the family table. */
void		 bgp_peer_open_build(struct bgp_peer *);
/* Is the neighbor a route-reflector client for the family (RFC 4456)? */
bool		 bgp_peer_rr_client(const struct bgp_peer *, int aid);

/* The maximum-prefix setting of the neighbor for a family; NULL when
 * there is none. */
const struct conf_max_prefix *bgp_peer_max_prefix(const struct bgp_peer *,
		    int aid);
/*
 * The RIB's count of accepted prefixes of a family changed.  Checks it
 * against maximum-prefix, logging the threshold and the limit once
 * each; false when the limit is exceeded and enforced: the RIB takes
 * no more routes of the UPDATE, and the FSM ends the session when the
 * UPDATE is done (peer->pfx_exceeded_aid).
 */
bool		 bgp_peer_pfx_count(struct bgp_peer *, int aid, size_t count);

/* Effective timers of the peer's configuration. */
uint16_t	 bgp_peer_conf_holdtime(const struct bgp_peer *);
uint16_t	 bgp_peer_conf_keepalive(const struct bgp_peer *);

/* Send a whole encoded message on the peer's connection (for the RIB);
 * counts it.  Returns -1 when the peer is not Established. */
int		 bgp_peer_send(struct bgp_peer *, const uint8_t *, size_t);
/* Bytes queued towards the peer and not yet written (backpressure). */
size_t		 bgp_peer_pending(const struct bgp_peer *);
/* The RIB saw the peer's End-of-RIB for aid (convergence, bgpd.h). */
void		 bgp_peer_eor_received(struct bgp_peer *, int aid);

#endif
