/*
 * The fake BGP transport of the unit tests, and the harness test_rib and
 * test_evpn build on it: a whole evpnd routing core (struct bgp + RIB +
 * EVPN module) on a real libevent base, whose peers talk over the fake
 * transport.  test_fsm uses the transport and clock alone, on an
 * instance it configures by hand.
 *
 * How this works: bgp_create_with_ops() gets fp_ops, a fake struct
 * bgp_fsm_ops.  Every connection the FSM opens (or fp_accept() hands
 * it) becomes a struct fp_conn that records every byte evpnd sends; the
 * test plays the remote side by handing whole messages to
 * bgp_fsm_message(), as the transport would.  FSM timers are only
 * recorded, per peer (the clock is fp_now; fp_advance() moves it and
 * fires what falls due); the RIB's own work runs from the event base,
 * which fp_run() spins until bgp_rib_idle().  Only the process boundary
 * is faked: the FSM, RIB, attribute codec and EVPN code are the
 * shipping objects.
 *
 * Sent UPDATEs are decoded back with the project's decoders
 * (bgp_update_split, bgp_attrs_decode, evpn_nlri_decode_all) into a
 * struct fp_update the tests assert on field by field.
 */
#ifndef TESTS_UNIT_FAKE_PEER_H
#define TESTS_UNIT_FAKE_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgpd/bgp_attr.h"
#include "bgpd/bgp_fsm.h"
#include "bgpd/bgp_peer.h"
#include "bgpd/bgp_rib.h"
#include "common/buf.h"
#include "conf/conf.h"
#include "evpn/evpn.h"
#include "evpn/evpn_int.h"
#include "evpn/evpn_nlri.h"

struct event_base;

/* One fake TCP connection and everything evpnd wrote to it. */
struct fp_conn {
	struct bgp_conn	*conn;		/* NULL once closed */
	bool		 closed;
	struct wbuf	 out;
	size_t		 seen;		/* bytes already consumed by the test */
	size_t		 backlog;	/* what the "peer" has not read */
	/* The peer stopped reading: everything sent from now on adds to
	 * the backlog, which has not moved since stalled_since (set it to
	 * fp_now to let some of it through). */
	bool		 stuck;
	uint64_t	 stalled_since;
};

/* The routing core under test. */
struct fp_world {
	struct event_base *base;
	struct config	*conf;
	struct bgp	*bgp;
	struct bgp_rib	*rib;
	struct evpn	*evpn;
};

/* What the remote side puts in its OPEN. */
struct fp_remote {
	uint32_t	 asn;
	const char	*id;		/* BGP identifier */
	bool		 gr;		/* graceful restart capability */
	uint16_t	 gr_time;
	bool		 gr_evpn;	/* l2vpn evpn listed in the GR cap */
	bool		 ext_msg;	/* RFC 8654 */
	bool		 gr_forwarding;	/* F bit for l2vpn evpn (RFC 4724 §3) */
};

/* A peer's FSM timers as the FSM last set them. */
struct fp_timer {
	const struct bgp_peer *peer;
	bool		 armed[BGP_TIMER_MAX];
	uint64_t	 at[BGP_TIMER_MAX];	/* deadline on fp_now */
	uint64_t	 len[BGP_TIMER_MAX];	/* as last set, msec */
};

extern const struct bgp_fsm_ops fp_ops;
extern uint64_t fp_now;			/* the fake monotonic clock, msec */
extern int	 fp_connects;		/* connect() calls so far */
extern bool	 fp_connect_fails;	/* connect() fails: "Connection refused" */

/* Parse config text; fails the test on a parse error. */
struct config	*fp_conf(const char *text);
/* Build base, bgp (fake transport), RIB and EVPN from config text. */
void		 fp_world_start(struct fp_world *, const char *conftext);
/* Free everything; asserts no interned attribute set leaked. */
void		 fp_world_free(struct fp_world *);
/* Release every fake connection, timer and counter (test teardown). */
void		 fp_reset(void);
/* The timers of a peer. */
struct fp_timer	*fp_timer(const struct bgp_peer *);
/* Move the clock by msec, firing the peer's timers in deadline order. */
void		 fp_advance(struct bgp_peer *, uint64_t msec);
/* The connection made last. */
struct fp_conn	*fp_conn_last(void);
/* A connection from the peer's address: handed to bgp_fsm_accept(). */
struct fp_conn	*fp_accept(struct bgp_peer *);

struct bgp_peer	*fp_peer(struct fp_world *, const char *addr);
/* bgp_peer_lookup()'s snapshot of a configured peer. */
struct bgp_peer_info fp_peer_info(struct fp_world *, const char *addr);
struct fp_conn	*fp_conn_of(const struct bgp_peer *);
/* Drive a configured neighbor to Established over a fresh connection;
 * the bytes sent up to then are marked seen. */
struct fp_conn	*fp_establish(struct fp_world *, const char *addr,
		    const struct fp_remote *);
/* The same up to OpenConfirm (nothing marked seen)... */
struct fp_conn	*fp_open_confirm(struct fp_world *, const char *addr,
		    const struct fp_remote *);
/* ...and the KEEPALIVE that confirms the OPEN. */
void		 fp_keepalive(struct fp_conn *);
/* Fire the FSM timers of a peer that is Idle until it connects again. */
void		 fp_reconnect(struct bgp_peer *);
/* Spin the event base until the RIB has nothing left to do. */
void		 fp_run(struct fp_world *);

/* Hand one whole message (header included) to the FSM. */
void		 fp_deliver(struct fp_conn *, const uint8_t *, size_t);
/* The next unseen message sent on c; false when none. */
bool		 fp_next_msg(struct fp_conn *, const uint8_t **, size_t *);
/* Mark everything sent so far as seen. */
void		 fp_skip(struct fp_conn *);
/* Unseen messages of a type (consumes nothing). */
size_t		 fp_count_msgs(const struct fp_conn *, uint8_t type);

/* ---- UPDATEs ---------------------------------------------------------- */

#define FP_MAX_ROUTES	1024

struct fp_update {
	size_t		 len;		/* whole message */
	bool		 eor;		/* End-of-RIB marker */
	int		 eor_aid;
	struct bgp_attrs attrs;		/* scratch; fp_update_clear() */
	struct bgp_mp	 mpr, mpu;
	size_t		 reach_bytes;	/* NLRI bytes in MP_REACH */
	size_t		 nreach, nunreach;
	struct evpn_route reach[FP_MAX_ROUTES];
	struct evpn_route unreach[FP_MAX_ROUTES];
};

/* Decode one UPDATE (whole message) sent to a peer of the given kind;
 * asserts that it is well-formed. */
void		 fp_update_decode(const uint8_t *, size_t, bool ebgp,
		    struct fp_update *);
void		 fp_update_clear(struct fp_update *);
/* Decode the next unseen message, which must be an UPDATE. */
bool		 fp_next_update(struct fp_conn *, bool ebgp, struct fp_update *);

/* Scratch attributes a remote VTEP would send: ORIGIN IGP, empty
 * AS_PATH, MP next hop, LOCAL_PREF 100, the route target "ASN:NN" (or
 * none when rt is NULL) and the VXLAN encapsulation community. */
void		 fp_attrs_vtep(struct bgp_attrs *, const char *nexthop,
		    const char *rt);
/* Add the MAC mobility community (RFC 7432 §7.7). */
void		 fp_attrs_mobility(struct bgp_attrs *, uint32_t seq,
		    bool sticky);
/* Announce route r as a remote VTEP's, reflected to us: fp_attrs_vtep,
 * ORIGINATOR_ID vtep and, unless seq < 0, MAC mobility seq. */
void		 fp_announce_reflected(struct fp_conn *,
		    const struct evpn_route *, const char *vtep, const char *rt,
		    int seq, bool sticky);
/* Encode an UPDATE announcing routes with attrs (MP_REACH from the
 * set's next hop), or withdrawing them (attrs NULL). */
void		 fp_update_build(struct wbuf *, const struct bgp_attrs *,
		    const struct evpn_route *, size_t n);
/* Build and deliver. */
void		 fp_announce(struct fp_conn *, const struct bgp_attrs *,
		    const struct evpn_route *, size_t n);
void		 fp_withdraw(struct fp_conn *, const struct evpn_route *,
		    size_t n);
void		 fp_send_eor(struct fp_conn *);

/* Routes from text; fail the test on bad text. */
struct evpn_route fp_macip(const char *rd, const char *mac, const char *ip,
		    uint32_t vni);
struct evpn_route fp_imet(const char *rd, const char *ip);
/* Route number i: a MAC-only type 2 (MAC 02:00:00 and i's low 24 bits)
 * in RD 10.0.0.100:1, VNI 100. */
struct evpn_route fp_route_n(unsigned i);
/* RIB key of a route (the EVPN row's packing). */
void		 fp_key(const struct evpn_route *, uint8_t *key);
const struct bgp_rib_entry *fp_lookup(struct fp_world *,
		    const struct evpn_route *);

/* Address text of an IPv4 host-order value, for messages. */
uint32_t	 fp_ip4(const char *);

#endif
