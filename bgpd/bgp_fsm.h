/*
 * The BGP finite state machine (RFC 4271 §8).
 *
 * How this works: one entry point, bgp_fsm(peer, event), switches over
 * state × event; entering a state is one function that does that
 * state's side effects.  Everything that crosses the process boundary
 * (TCP connect/send/close, timers, the clock, randomness) goes through
 * struct bgp_fsm_ops, which the session layer (bgp_session.c) binds to
 * libevent and the unit tests bind to a fake clock and transport.  The
 * FSM itself never touches a socket.
 *
 * A peer has one main connection (peer->conn) whose state is the peer's
 * state.  During collision detection (RFC 4271 §6.8) a second, incoming
 * connection (peer->coll) may live alongside it until its OPEN arrives;
 * then one of the two is closed with Cease/Connection Collision
 * Resolution.
 *
 * The transport reports what happens on a connection with
 * bgp_fsm_conn_event() (connected, failed, closed), bgp_fsm_conn_error()
 * (a framing error: NOTIFICATION to send) and bgp_fsm_message() (one
 * whole message, header already checked with bgp_hdr_parse).  The FSM
 * may close and free the connection from inside any of these calls.
 */
#ifndef BGPD_BGP_FSM_H
#define BGPD_BGP_FSM_H

#include <stddef.h>
#include <stdint.h>

#include "bgpd/bgpd.h"

struct bgp_conn;

enum bgp_event {
	BGP_EV_START,			/* ManualStart / AutomaticStart */
	BGP_EV_STOP,			/* ManualStop */
	BGP_EV_CONN_OPEN,		/* TCP connection confirmed */
	BGP_EV_CONN_OPEN_FAIL,		/* TcpConnectionFails (connect) */
	BGP_EV_CONN_CLOSED,		/* TcpConnectionFails (later) */
	BGP_EV_TIMER_CONNRETRY,
	BGP_EV_TIMER_HOLD,
	BGP_EV_TIMER_KEEPALIVE,
	BGP_EV_TIMER_IDLEHOLD,
	BGP_EV_RCVD_OPEN,		/* decoded OPEN in peer->rx_open */
	BGP_EV_RCVD_KEEPALIVE,
	BGP_EV_RCVD_UPDATE,		/* parts in peer->rx_update */
	BGP_EV_RCVD_NOTIFICATION,	/* in peer->rx_notify */
	BGP_EV_RCVD_ROUTE_REFRESH,	/* in peer->rx_rr */
	BGP_EV_TIMER_PFX_RESTART,	/* maximum-prefix restart */
	BGP_EV_TIMER_SENDHOLD,		/* RFC 9687 */
	BGP_EV_MAX,
};

enum bgp_timer {
	BGP_TIMER_CONNRETRY,
	BGP_TIMER_HOLD,
	BGP_TIMER_KEEPALIVE,
	BGP_TIMER_IDLEHOLD,
	BGP_TIMER_PFX_RESTART,
	BGP_TIMER_SENDHOLD,
	BGP_TIMER_MAX,
};

/* RFC 4271 §8: a large hold timer while waiting for the OPEN. */
#define BGP_OPENSENT_HOLD_SEC		240
/* ConnectRetry backoff cap, and DampPeerOscillations (§8.1.1) limits. */
#define BGP_CONNRETRY_MAX_SEC		120
#define BGP_IDLEHOLD_START_SEC		1
#define BGP_IDLEHOLD_MAX_SEC		60
/* A session up this long resets the IdleHold backoff when it drops. */
#define BGP_IDLEHOLD_STABLE_SEC		60
/* Graceful restart (RFC 4724), helper side: the time we advertise. */
#define BGP_GR_RESTART_TIME		120
/* RFC 9687 §6: the send hold time defaults to the greater of 8 minutes
 * and twice the negotiated hold time. */
#define BGP_SEND_HOLD_MIN_SEC		480

/*
 * What the FSM asks of the outside world.  connect() starts a
 * non-blocking connect on conn and returns 0 (the transport reports the
 * outcome later with bgp_fsm_conn_event) or -1 on immediate failure.
 * send() queues bytes; close() releases the transport side (the FSM
 * frees conn itself), which still delivers what was queued, e.g. a
 * NOTIFICATION, before the connection really closes.  The ops
 * marked optional may be NULL (tests without sockets).
 */
struct bgp_fsm_ops {
	uint64_t (*now)(struct bgp *);			/* monotonic msec */
	uint32_t (*random)(struct bgp *);
	int	 (*connect)(struct bgp_conn *);
	int	 (*send)(struct bgp_conn *, const uint8_t *, size_t);
	void	 (*close)(struct bgp_conn *);
	void	 (*timer_set)(struct bgp_peer *, enum bgp_timer, uint64_t msec);
	void	 (*timer_stop)(struct bgp_peer *, enum bgp_timer);
	/* optional: per-peer transport state (timers) to free */
	void	 (*peer_release)(struct bgp_peer *);
	/* optional: (re)create the listeners from bgp->listen_* */
	int	 (*listen)(struct bgp *, char *err, size_t errlen);
	void	 (*unlisten)(struct bgp *);
	/* optional: install (password) or remove (NULL) a TCP MD5 key for
	 * a peer address on the listeners */
	void	 (*md5_set)(struct bgp *, const struct ipaddr *,
		    const char *password);
	/* optional: bytes queued on conn and not yet written */
	size_t	 (*pending)(const struct bgp_conn *);
	/* optional: since when (now's clock) bytes have waited on conn
	 * without any being written; 0 while nothing waits */
	uint64_t (*send_stalled)(const struct bgp_conn *);
	/* optional: free what the transport still holds for the instance
	 * (connections closed but still flushing) */
	void	 (*release)(struct bgp *);
};

void	 bgp_fsm(struct bgp_peer *, enum bgp_event);
const char *bgp_event_name(enum bgp_event);
/* The event a timer raises when it fires (for the transports). */
enum bgp_event bgp_timer_event(enum bgp_timer);

/* Transport -> FSM. */
void	 bgp_fsm_conn_event(struct bgp_conn *, enum bgp_event,
	    const char *reason);
void	 bgp_fsm_conn_error(struct bgp_conn *, const struct bgp_notify *);
void	 bgp_fsm_message(struct bgp_conn *, uint8_t type,
	    const uint8_t *body, size_t len);
/* A connection accepted from the peer's address: adopt it, keep it for
 * collision detection, or refuse it (the FSM closes and frees it). */
void	 bgp_fsm_accept(struct bgp_peer *, struct bgp_conn *);
/* Largest message the transport may accept on conn right now. */
size_t	 bgp_fsm_max_msg_len(const struct bgp_conn *);

/* Stop a peer with Cease/subcode (sent only if an OPEN went out; none
 * for subcode 0); leaves it Idle without the automatic restart. */
void	 bgp_fsm_stop(struct bgp_peer *, uint8_t cease_subcode,
	    const char *reason);
/* "clear bgp": end the session with Cease/Administrative Reset and start
 * again at once; releases a peer held down by maximum-prefix. */
void	 bgp_fsm_clear(struct bgp_peer *);
/* The send hold time of the negotiated session (RFC 9687); 0 = off. */
uint32_t bgp_fsm_send_hold_msec(const struct bgp_peer *);
/* Check the accepted prefix counts against maximum-prefix again (after
 * a reconfiguration); ends the session when a limit is exceeded. */
void	 bgp_fsm_pfx_recheck(struct bgp_peer *);

#endif
