/*
 * The BGP FSM (RFC 4271 §8.2.2).  See bgp_fsm.h for the shape: one entry
 * point switching over state × event, one function per state entered,
 * side effects through bgp->ops.
 *
 * Timers: ConnectRetry backs off from the configured value (default 5 s)
 * doubling to BGP_CONNRETRY_MAX_SEC with jitter (RFC 4271 §10: 0.75 to
 * 1.0 of the value) and is reset once a session is Established.  After a
 * session error the peer waits IdleHold before restarting; IdleHold
 * doubles on repeated flaps (§8.1.1 DampPeerOscillations) and starts
 * over once a session has stayed up BGP_IDLEHOLD_STABLE_SEC.
 */
#include "bgpd/bgp_fsm.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bgpd/bgp_peer.h"
#include "common/byteorder.h"
#include "common/log.h"
#include "common/util.h"

/* RFC 6608 FSM error subcodes: unexpected message in a state. */
#define BGP_ERR_FSM_OPENSENT		1
#define BGP_ERR_FSM_OPENCONFIRM		2
#define BGP_ERR_FSM_ESTABLISHED		3

static const char *const state_names[BGP_ST_MAX] = {
	"Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established",
};

static const char *const event_names[BGP_EV_MAX] = {
	"Start", "Stop", "ConnOpen", "ConnOpenFail", "ConnClosed",
	"ConnectRetryTimer", "HoldTimer", "KeepaliveTimer", "IdleHoldTimer",
	"OPEN", "KEEPALIVE", "UPDATE", "NOTIFICATION", "ROUTE-REFRESH",
	"MaxPrefixRestartTimer", "SendHoldTimer",
};

static void	fsm_idle(struct bgp_peer *, enum bgp_event);
static void	fsm_connect(struct bgp_peer *, enum bgp_event);
static void	fsm_active(struct bgp_peer *, enum bgp_event);
static void	fsm_opensent(struct bgp_peer *, enum bgp_event);
static void	fsm_openconfirm(struct bgp_peer *, enum bgp_event);
static void	fsm_established(struct bgp_peer *, enum bgp_event);
static void	fsm_coll(struct bgp_conn *, enum bgp_event);
static void	session_fail_code(struct bgp_peer *, uint8_t code,
		    uint8_t subcode);
static void	session_fail(struct bgp_peer *, const struct bgp_notify *);

const char *
bgp_state_name(enum bgp_state s)
{
	return (unsigned)s < BGP_ST_MAX ? state_names[s] : "Unknown";
}

const char *
bgp_event_name(enum bgp_event e)
{
	return (unsigned)e < BGP_EV_MAX ? event_names[e] : "Unknown";
}

enum bgp_event
bgp_timer_event(enum bgp_timer t)
{
	static const enum bgp_event events[BGP_TIMER_MAX] = {
		[BGP_TIMER_CONNRETRY] = BGP_EV_TIMER_CONNRETRY,
		[BGP_TIMER_HOLD] = BGP_EV_TIMER_HOLD,
		[BGP_TIMER_KEEPALIVE] = BGP_EV_TIMER_KEEPALIVE,
		[BGP_TIMER_IDLEHOLD] = BGP_EV_TIMER_IDLEHOLD,
		[BGP_TIMER_PFX_RESTART] = BGP_EV_TIMER_PFX_RESTART,
		[BGP_TIMER_SENDHOLD] = BGP_EV_TIMER_SENDHOLD,
	};

	if ((unsigned)t >= BGP_TIMER_MAX)
		fatalx("no timer %d", t);
	return events[t];
}

/* ---- side effects through the ops --------------------------------- */

static uint64_t
fsm_now(const struct bgp_peer *peer)
{
	return peer->bgp->ops->now(peer->bgp);
}

static void
timer_set(struct bgp_peer *peer, enum bgp_timer t, uint64_t msec)
{
	peer->bgp->ops->timer_set(peer, t, msec);
}

static void
timer_stop(struct bgp_peer *peer, enum bgp_timer t)
{
	peer->bgp->ops->timer_stop(peer, t);
}

static void
set_reset_reason(struct bgp_peer *peer, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_reset_reason(struct bgp_peer *peer, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(peer->last_reset, sizeof(peer->last_reset), fmt, ap);
	va_end(ap);
}

static void
conn_send(struct bgp_conn *conn, struct wbuf *wb, uint8_t type)
{
	struct bgp_peer *peer = conn->peer;

	if (wb->error) {
		bgp_peer_log(peer, LOG_ERR, "cannot encode a type %u message",
		    type);
		return;
	}
	if (type <= BGP_MSG_ROUTE_REFRESH)
		peer->stats.msg_sent[type]++;
	peer->bgp->ops->send(conn, wb->data, wb->len);
}

static void
send_open(struct bgp_conn *conn)
{
	struct wbuf wb;

	wbuf_init(&wb, BGP_MAX_MSG_LEN);
	bgp_open_encode(&wb, &conn->peer->local_open);
	conn_send(conn, &wb, BGP_MSG_OPEN);
	wbuf_free(&wb);
	conn->open_sent = true;
}

static void
send_keepalive(struct bgp_conn *conn)
{
	struct wbuf wb;

	wbuf_init(&wb, BGP_MAX_MSG_LEN);
	bgp_keepalive_encode(&wb);
	conn_send(conn, &wb, BGP_MSG_KEEPALIVE);
	wbuf_free(&wb);
}

static void
send_notify(struct bgp_conn *conn, const struct bgp_notify *n)
{
	struct bgp_peer *peer = conn->peer;
	char name[96];
	struct wbuf wb;

	bgp_peer_log(peer, LOG_WARNING, "sending NOTIFICATION %s",
	    bgp_notify_name(n->code, n->subcode, name, sizeof(name)));
	wbuf_init(&wb, BGP_MAX_MSG_LEN);
	bgp_notify_encode(&wb, n);
	conn_send(conn, &wb, BGP_MSG_NOTIFICATION);
	wbuf_free(&wb);
	peer->last_notify_sent = *n;
	if (conn == peer->conn)
		peer->notified = true;
}

static void
send_cease(struct bgp_conn *conn, uint8_t subcode)
{
	struct bgp_notify n;

	bgp_notify_set(&n, BGP_ERR_CEASE, subcode, NULL, 0);
	send_notify(conn, &n);
}

static void
send_eor(struct bgp_conn *conn, int aid)
{
	struct wbuf wb;

	wbuf_init(&wb, BGP_MAX_MSG_LEN);
	bgp_eor_encode(&wb, aid);
	conn_send(conn, &wb, BGP_MSG_UPDATE);
	wbuf_free(&wb);
}

/* Close and free one connection of the peer. */
static void
conn_drop(struct bgp_peer *peer, struct bgp_conn *conn)
{
	if (conn == NULL)
		return;
	if (peer->conn == conn)
		peer->conn = NULL;
	if (peer->coll == conn)
		peer->coll = NULL;
	peer->bgp->ops->close(conn);
	bgp_conn_free(conn);
}

/* ---- state changes ------------------------------------------------- */

static void
change_state(struct bgp_peer *peer, enum bgp_state to)
{
	enum bgp_state from = peer->state;
	uint64_t now = fsm_now(peer);

	if (from == to)
		return;
	bgp_peer_log(peer, LOG_INFO, "%s -> %s", bgp_state_name(from),
	    bgp_state_name(to));
	peer->stats.state_changes++;
	peer->state = to;
	if (from == BGP_ST_ESTABLISHED) {
		peer->stats.dropped++;
		/* The next session's routes are counted afresh. */
		memset(peer->pfx_accepted, 0, sizeof(peer->pfx_accepted));
		memset(peer->pfx_logged, 0, sizeof(peer->pfx_logged));
		peer->pfx_exceeded_aid = -1;
		if (now - peer->since >= BGP_IDLEHOLD_STABLE_SEC * 1000)
			peer->idlehold_msec = BGP_IDLEHOLD_START_SEC * 1000;
		peer->since = now;
		if (peer->bgp->rib.peer_down)
			peer->bgp->rib.peer_down(peer);
	}
	if (to == BGP_ST_ESTABLISHED) {
		peer->stats.established++;
		peer->since = now;
		peer->notified = false;
	}
}

/* The next ConnectRetry delay, with jitter; backs the next one off. */
static uint64_t
connretry_next(struct bgp_peer *peer)
{
	uint64_t d = peer->connretry_msec;
	uint32_t jitter = peer->bgp->ops->random(peer->bgp);

	if (peer->connretry_msec * 2 < BGP_CONNRETRY_MAX_SEC * 1000)
		peer->connretry_msec *= 2;
	else
		peer->connretry_msec = BGP_CONNRETRY_MAX_SEC * 1000;
	return d - jitter % (d / 4 + 1);
}

static void
connretry_reset(struct bgp_peer *peer)
{
	uint16_t s = peer->conf.connect_retry;

	peer->connretry_msec = (s ? s : CONF_DEFAULT_CONNECT_RETRY) * 1000u;
}

static void
enter_idle(struct bgp_peer *peer, bool restart)
{
	timer_stop(peer, BGP_TIMER_CONNRETRY);
	timer_stop(peer, BGP_TIMER_HOLD);
	timer_stop(peer, BGP_TIMER_KEEPALIVE);
	timer_stop(peer, BGP_TIMER_SENDHOLD);
	conn_drop(peer, peer->coll);
	conn_drop(peer, peer->conn);
	change_state(peer, BGP_ST_IDLE);
	if (!restart || peer->conf.shutdown || peer->bgp->shut_down)
		return;
	timer_set(peer, BGP_TIMER_IDLEHOLD, peer->idlehold_msec);
	peer->idlehold_running = true;
	if (peer->idlehold_msec * 2 < BGP_IDLEHOLD_MAX_SEC * 1000)
		peer->idlehold_msec *= 2;
	else
		peer->idlehold_msec = BGP_IDLEHOLD_MAX_SEC * 1000;
}

static void
enter_connect(struct bgp_peer *peer)
{
	struct bgp_conn *conn;

	conn_drop(peer, peer->conn);
	conn = bgp_conn_new(peer, true);
	peer->conn = conn;
	change_state(peer, BGP_ST_CONNECT);
	/* In Connect the timer bounds the TCP handshake (§8.2.2). */
	timer_set(peer, BGP_TIMER_CONNRETRY, peer->connretry_msec);
	/* The transport writes the reason (strerror) to last_reset. */
	if (peer->bgp->ops->connect(conn) == -1)
		bgp_fsm(peer, BGP_EV_CONN_OPEN_FAIL);
}

static void
enter_active(struct bgp_peer *peer)
{
	conn_drop(peer, peer->conn);
	change_state(peer, BGP_ST_ACTIVE);
	if (!peer->conf.passive)
		timer_set(peer, BGP_TIMER_CONNRETRY, connretry_next(peer));
}

static void
enter_opensent(struct bgp_peer *peer)
{
	timer_stop(peer, BGP_TIMER_CONNRETRY);
	/* Families registered since the peer was set up are offered too. */
	bgp_peer_open_build(peer);
	send_open(peer->conn);
	timer_set(peer, BGP_TIMER_HOLD, BGP_OPENSENT_HOLD_SEC * 1000);
	change_state(peer, BGP_ST_OPENSENT);
}

static void
arm_negotiated_timers(struct bgp_peer *peer)
{
	if (peer->neg.holdtime == 0) {
		timer_stop(peer, BGP_TIMER_HOLD);
		timer_stop(peer, BGP_TIMER_KEEPALIVE);
		return;
	}
	timer_set(peer, BGP_TIMER_HOLD, peer->neg.holdtime * 1000u);
	timer_set(peer, BGP_TIMER_KEEPALIVE, peer->neg.keepalive * 1000u);
}

static void
log_unknown_caps(struct bgp_peer *peer, const struct bgp_open *open)
{
	uint8_t i;

	for (i = 0; i < open->caps.n_unknown &&
	    i < sizeof(open->caps.unknown); i++)
		bgp_peer_log(peer, LOG_INFO,
		    "ignoring unsupported capability %u",
		    open->caps.unknown[i]);
}

/* The OPEN in peer->rx_open arrived on peer->conn: negotiate, confirm. */
static void
enter_openconfirm(struct bgp_peer *peer)
{
	struct bgp_conn *conn = peer->conn;

	peer->remote_open = peer->rx_open;
	conn->open_rcvd = true;
	conn->remote_id = peer->rx_open.bgp_id;
	log_unknown_caps(peer, &peer->rx_open);
	bgp_negotiate(&peer->local_open, &peer->remote_open,
	    bgp_peer_conf_keepalive(peer), &peer->neg);
	send_keepalive(conn);
	arm_negotiated_timers(peer);
	change_state(peer, BGP_ST_OPENCONFIRM);
}

/*
 * RFC 9687 §4.3-§4.4, §6: the send hold time of the session; 0 when the
 * timer is off (configured so, or no hold time was negotiated).
 */
uint32_t
bgp_fsm_send_hold_msec(const struct bgp_peer *peer)
{
	uint32_t s;

	if (peer->neg.holdtime == 0)
		return 0;
	if (peer->conf.has_send_hold)
		s = peer->conf.send_hold;
	else if ((s = 2u * peer->neg.holdtime) < BGP_SEND_HOLD_MIN_SEC)
		s = BGP_SEND_HOLD_MIN_SEC;
	return s * 1000u;
}

/*
 * The Send Hold Timer (RFC 9687 §4.3).  Rather than restarting it on
 * every write, the transport says since when queued bytes have not
 * moved; the timer looks when the send hold time could have run out
 * and, if it has not, looks again when it could.
 */
static void
send_hold_arm(struct bgp_peer *peer)
{
	uint32_t hold = bgp_fsm_send_hold_msec(peer);
	uint64_t since = 0, now = fsm_now(peer);

	if (hold == 0 || peer->conn == NULL) {
		timer_stop(peer, BGP_TIMER_SENDHOLD);
		return;
	}
	if (peer->bgp->ops->send_stalled)
		since = peer->bgp->ops->send_stalled(peer->conn);
	if (since == 0 || since > now)
		since = now;
	timer_set(peer, BGP_TIMER_SENDHOLD, since + hold - now);
}

static void
send_hold_check(struct bgp_peer *peer)
{
	uint32_t hold = bgp_fsm_send_hold_msec(peer);
	uint64_t since = 0, now = fsm_now(peer);

	if (peer->bgp->ops->send_stalled && peer->conn)
		since = peer->bgp->ops->send_stalled(peer->conn);
	if (hold == 0 || since == 0 || now - since < hold) {
		send_hold_arm(peer);
		return;
	}
	/* §4.3: log it; send the NOTIFICATION, which the transport still
	 * tries to deliver behind what the peer has not read, and close. */
	bgp_peer_log(peer, LOG_ERR, "Send Hold Timer Expired: nothing "
	    "could be sent for %u s", hold / 1000);
	session_fail_code(peer, BGP_ERR_SEND_HOLD, 0);
	set_reset_reason(peer, "Send Hold Timer Expired");
}

static void
enter_established(struct bgp_peer *peer)
{
	int aid;

	connretry_reset(peer);
	if (peer->coll) {
		/* §6.8: a collision with an Established session loses. */
		send_cease(peer->coll, BGP_CEASE_COLLISION);
		conn_drop(peer, peer->coll);
	}
	arm_negotiated_timers(peer);
	memset(peer->eor_rcvd, 0, sizeof(peer->eor_rcvd));
	change_state(peer, BGP_ST_ESTABLISHED);
	send_hold_arm(peer);
	if (peer->bgp->rib.peer_up && peer->bgp->rib.peer_up(peer) == -1) {
		/* The routing engine cannot take the peer (it logged why):
		 * close with Cease/Out of Resources (RFC 4486 §4) and try
		 * again after IdleHold. */
		session_fail_code(peer, BGP_ERR_CEASE, BGP_CEASE_RESOURCES);
		return;
	}
	if (peer->bgp->rib.sends_eor)
		return;
	/* RFC 4724 §2: the initial table (sent by peer_up) then End-of-RIB. */
	for (aid = 0; aid < BGP_AID_MAX && peer->conn; aid++)
		if (peer->neg.families[aid])
			send_eor(peer->conn, aid);
}

/*
 * A session error on the main connection: send n (if any), close, go
 * Idle and restart after IdleHold.  A pending collision connection, if
 * there is one, takes over instead (it is a session of its own).
 */
static void
session_fail(struct bgp_peer *peer, const struct bgp_notify *n)
{
	struct bgp_conn *coll = peer->coll;
	char name[96];

	if (n && peer->conn) {
		send_notify(peer->conn, n);
		set_reset_reason(peer, "Notification sent (%s)",
		    bgp_notify_name(n->code, n->subcode, name, sizeof(name)));
	}
	if (coll == NULL) {
		enter_idle(peer, true);
		return;
	}
	timer_stop(peer, BGP_TIMER_KEEPALIVE);
	conn_drop(peer, peer->conn);
	peer->coll = NULL;
	peer->conn = coll;
	memset(&peer->neg, 0, sizeof(peer->neg));
	timer_set(peer, BGP_TIMER_HOLD, BGP_OPENSENT_HOLD_SEC * 1000);
	change_state(peer, BGP_ST_OPENSENT);
}

/* End the session with a NOTIFICATION code/subcode without data
 * (FSM error, Cease, a hold timer) and restart after IdleHold. */
static void
session_fail_code(struct bgp_peer *peer, uint8_t code, uint8_t subcode)
{
	struct bgp_notify n;

	bgp_notify_set(&n, code, subcode, NULL, 0);
	session_fail(peer, &n);
}

static void
notification_received(struct bgp_peer *peer)
{
	const struct bgp_notify *n = &peer->rx_notify;
	char name[96];

	peer->last_notify_rcvd = *n;
	peer->notified = true;
	bgp_notify_name(n->code, n->subcode, name, sizeof(name));
	bgp_peer_log(peer, LOG_WARNING, "received NOTIFICATION %s", name);
	set_reset_reason(peer, "Notification received (%s)", name);
	session_fail(peer, NULL);
}

static void
hold_expired(struct bgp_peer *peer)
{
	session_fail_code(peer, BGP_ERR_HOLD, 0);
	set_reset_reason(peer, "Hold Timer Expired");
}

static void
fill_policy(const struct bgp_peer *peer, struct bgp_open_policy *pol)
{
	bool any = false;
	int aid;

	memset(pol, 0, sizeof(*pol));
	pol->local_as = peer->bgp->local_as;
	pol->local_bgp_id = peer->bgp->router_id;
	pol->remote_as = peer->conf.remote_as;

	for (aid = 0; aid < BGP_AID_MAX; aid++) {
		pol->families[aid] = peer->local_open.caps.mp[aid];
		any = any || pol->families[aid];
	}
	/* No Multiprotocol capability sent: plain IPv4 unicast (RFC 4760). */
	if (!any)
		pol->families[BGP_AID_IPV4_UNICAST] = true;
}

/* Validate peer->rx_open; on error returns -1 with n filled. */
static int
open_check(struct bgp_peer *peer, struct bgp_notify *n)
{
	struct bgp_open_policy pol;

	fill_policy(peer, &pol);
	return bgp_open_validate(&peer->rx_open, &pol, n);
}

/* ---- the states ---------------------------------------------------- */

static void
start_session(struct bgp_peer *peer)
{
	if (peer->conf.shutdown || peer->bgp->shut_down || peer->pfx_overflow)
		return;
	timer_stop(peer, BGP_TIMER_IDLEHOLD);
	peer->idlehold_running = false;
	if (peer->conf.passive)
		enter_active(peer);
	else
		enter_connect(peer);
}

static void
fsm_idle(struct bgp_peer *peer, enum bgp_event ev)
{
	switch (ev) {
	case BGP_EV_START:
	case BGP_EV_TIMER_IDLEHOLD:
		start_session(peer);
		break;
	case BGP_EV_TIMER_PFX_RESTART:
		bgp_peer_log(peer, LOG_INFO, "maximum-prefix restart time "
		    "passed");
		peer->pfx_overflow = false;
		peer->pfx_restart_at = 0;
		start_session(peer);
		break;
	case BGP_EV_STOP:
		bgp_fsm_stop(peer, BGP_CEASE_ADMIN_SHUTDOWN, "Admin. shutdown");
		break;
	default:
		/* §8.2.2: everything else is ignored in Idle. */
		break;
	}
}

static void
fsm_connect(struct bgp_peer *peer, enum bgp_event ev)
{
	switch (ev) {
	case BGP_EV_CONN_OPEN:
		enter_opensent(peer);
		break;
	case BGP_EV_CONN_OPEN_FAIL:
	case BGP_EV_CONN_CLOSED:
		enter_active(peer);
		break;
	case BGP_EV_TIMER_CONNRETRY:
		set_reset_reason(peer, "Connect timeout");
		(void)connretry_next(peer);	/* back off the next attempt */
		enter_connect(peer);
		break;
	case BGP_EV_STOP:
		bgp_fsm_stop(peer, BGP_CEASE_ADMIN_SHUTDOWN, "Admin. shutdown");
		break;
	default:
		break;
	}
}

static void
fsm_active(struct bgp_peer *peer, enum bgp_event ev)
{
	switch (ev) {
	case BGP_EV_TIMER_CONNRETRY:
		if (!peer->conf.passive)
			enter_connect(peer);
		break;
	case BGP_EV_STOP:
		bgp_fsm_stop(peer, BGP_CEASE_ADMIN_SHUTDOWN, "Admin. shutdown");
		break;
	default:
		break;
	}
}

/* Events every connected state handles the same way; returns true if
 * ev was one of them. */
static bool
fsm_connected_common(struct bgp_peer *peer, enum bgp_event ev)
{
	switch (ev) {
	case BGP_EV_STOP:
		bgp_fsm_stop(peer, BGP_CEASE_ADMIN_SHUTDOWN, "Admin. shutdown");
		return true;
	case BGP_EV_CONN_CLOSED:
	case BGP_EV_CONN_OPEN_FAIL:
		session_fail(peer, NULL);
		return true;
	case BGP_EV_TIMER_HOLD:
		hold_expired(peer);
		return true;
	case BGP_EV_RCVD_NOTIFICATION:
		notification_received(peer);
		return true;
	case BGP_EV_START:
	case BGP_EV_TIMER_CONNRETRY:
	case BGP_EV_TIMER_IDLEHOLD:
	case BGP_EV_TIMER_PFX_RESTART:
	case BGP_EV_CONN_OPEN:
		return true;		/* stale or meaningless here */
	case BGP_EV_TIMER_SENDHOLD:
		if (peer->state == BGP_ST_ESTABLISHED)
			return false;
		return true;
	default:
		return false;
	}
}

static void
fsm_opensent(struct bgp_peer *peer, enum bgp_event ev)
{
	struct bgp_notify n;

	if (fsm_connected_common(peer, ev))
		return;
	switch (ev) {
	case BGP_EV_RCVD_OPEN:
		if (open_check(peer, &n) == -1) {
			session_fail(peer, &n);
			break;
		}
		enter_openconfirm(peer);
		break;
	case BGP_EV_TIMER_KEEPALIVE:
		break;
	default:
		session_fail_code(peer, BGP_ERR_FSM, BGP_ERR_FSM_OPENSENT);
		break;
	}
}

static void
fsm_openconfirm(struct bgp_peer *peer, enum bgp_event ev)
{
	if (fsm_connected_common(peer, ev))
		return;
	switch (ev) {
	case BGP_EV_RCVD_KEEPALIVE:
		enter_established(peer);
		break;
	case BGP_EV_TIMER_KEEPALIVE:
		send_keepalive(peer->conn);
		timer_set(peer, BGP_TIMER_KEEPALIVE,
		    peer->neg.keepalive * 1000u);
		break;
	default:
		session_fail_code(peer, BGP_ERR_FSM, BGP_ERR_FSM_OPENCONFIRM);
		break;
	}
}

static void
route_refresh_received(struct bgp_peer *peer)
{
	int aid = bgp_aid_from_afi_safi(peer->rx_rr.afi, peer->rx_rr.safi);

	if (aid < 0 || !peer->neg.families[aid]) {
		bgp_peer_log(peer, LOG_INFO, "ignoring ROUTE-REFRESH for "
		    "non-negotiated AFI %u SAFI %u", peer->rx_rr.afi,
		    peer->rx_rr.safi);
		return;
	}
	/* Subtypes 1/2 (BoRR/EoRR, RFC 7313) only frame a re-advertisement. */
	if (peer->rx_rr.subtype == 0 && peer->bgp->rib.refresh)
		peer->bgp->rib.refresh(peer, aid);
}

/*
 * maximum-prefix exceeded: Cease/Maximum Number of Prefixes Reached with
 * the AFI, SAFI and limit as its data (RFC 4486 §4), then Idle without
 * the automatic restart: the peer stays down until the restart timer,
 * if configured, or "clear bgp" (FRR's behaviour).
 */
static void
pfx_limit_exceeded(struct bgp_peer *peer, int aid)
{
	const struct conf_max_prefix *mp = bgp_peer_max_prefix(peer, aid);
	struct bgp_notify n;
	uint8_t data[7];
	uint16_t afi;
	uint8_t safi;
	char name[96];

	peer->pfx_exceeded_aid = -1;
	if (mp == NULL)
		return;
	bgp_aid_to_afi_safi(aid, &afi, &safi);
	be16_store(data, afi);
	data[2] = safi;
	be32_store(data + 3, mp->max);
	bgp_notify_set(&n, BGP_ERR_CEASE, BGP_CEASE_MAX_PREFIX, data,
	    sizeof(data));
	if (peer->conn)
		send_notify(peer->conn, &n);
	timer_stop(peer, BGP_TIMER_IDLEHOLD);
	peer->idlehold_running = false;
	enter_idle(peer, false);
	set_reset_reason(peer, "Notification sent (%s)",
	    bgp_notify_name(n.code, n.subcode, name, sizeof(name)));
	peer->pfx_overflow = true;
	peer->pfx_restart_at = 0;
	if (mp->restart == 0) {
		bgp_peer_log(peer, LOG_WARNING, "held down until \"clear bgp\" "
		    "(maximum-prefix %u for %s)", mp->max, bgp_aid_name(aid));
		return;
	}
	peer->pfx_restart_at = fsm_now(peer) + mp->restart * 60000ull;
	timer_set(peer, BGP_TIMER_PFX_RESTART, mp->restart * 60000ull);
	bgp_peer_log(peer, LOG_WARNING, "held down for %u minutes "
	    "(maximum-prefix %u for %s)", mp->restart, mp->max,
	    bgp_aid_name(aid));
}

static void
update_received(struct bgp_peer *peer)
{
	struct bgp_notify n;
	int rc;

	if (peer->neg.holdtime)
		timer_set(peer, BGP_TIMER_HOLD, peer->neg.holdtime * 1000u);
	if (peer->bgp->rib.update == NULL)
		return;
	memset(&n, 0, sizeof(n));
	rc = peer->bgp->rib.update(peer, &peer->rx_update, &n);
	if (peer->pfx_exceeded_aid >= 0)
		pfx_limit_exceeded(peer, peer->pfx_exceeded_aid);
	else if (rc == -1)
		session_fail(peer, &n);
}

static void
fsm_established(struct bgp_peer *peer, enum bgp_event ev)
{
	if (fsm_connected_common(peer, ev))
		return;
	switch (ev) {
	case BGP_EV_RCVD_KEEPALIVE:
		if (peer->neg.holdtime)
			timer_set(peer, BGP_TIMER_HOLD,
			    peer->neg.holdtime * 1000u);
		break;
	case BGP_EV_RCVD_UPDATE:
		update_received(peer);
		break;
	case BGP_EV_RCVD_ROUTE_REFRESH:
		route_refresh_received(peer);
		break;
	case BGP_EV_TIMER_KEEPALIVE:
		send_keepalive(peer->conn);
		timer_set(peer, BGP_TIMER_KEEPALIVE,
		    peer->neg.keepalive * 1000u);
		break;
	case BGP_EV_TIMER_SENDHOLD:
		send_hold_check(peer);
		break;
	default:
		session_fail_code(peer, BGP_ERR_FSM, BGP_ERR_FSM_ESTABLISHED);
		break;
	}
}

void
bgp_fsm(struct bgp_peer *peer, enum bgp_event ev)
{
	if (ev == BGP_EV_TIMER_IDLEHOLD)
		peer->idlehold_running = false;
	switch (peer->state) {
	case BGP_ST_IDLE:
		fsm_idle(peer, ev);
		break;
	case BGP_ST_CONNECT:
		fsm_connect(peer, ev);
		break;
	case BGP_ST_ACTIVE:
		fsm_active(peer, ev);
		break;
	case BGP_ST_OPENSENT:
		fsm_opensent(peer, ev);
		break;
	case BGP_ST_OPENCONFIRM:
		fsm_openconfirm(peer, ev);
		break;
	case BGP_ST_ESTABLISHED:
		fsm_established(peer, ev);
		break;
	default:
		fatalx("peer in bad state %d", peer->state);
	}
}

void
bgp_fsm_stop(struct bgp_peer *peer, uint8_t cease_subcode,
    const char *reason)
{
	/* Subcode 0: a planned graceful restart (RFC 4724 §4.1) just
	 * closes the connection, so helpers keep our routes. */
	if (cease_subcode && peer->conn && peer->conn->open_sent)
		send_cease(peer->conn, cease_subcode);
	if (cease_subcode && peer->coll && peer->coll->open_sent)
		send_cease(peer->coll, cease_subcode);
	timer_stop(peer, BGP_TIMER_IDLEHOLD);
	peer->idlehold_running = false;
	enter_idle(peer, false);
	if (reason)
		set_reset_reason(peer, "%s", reason);
}

void
bgp_fsm_clear(struct bgp_peer *peer)
{
	timer_stop(peer, BGP_TIMER_PFX_RESTART);
	peer->pfx_overflow = false;
	peer->pfx_restart_at = 0;
	if (peer->state != BGP_ST_IDLE || peer->coll)
		bgp_fsm_stop(peer, BGP_CEASE_ADMIN_RESET, "Admin. reset");
	timer_stop(peer, BGP_TIMER_IDLEHOLD);
	peer->idlehold_running = false;
	peer->idlehold_msec = BGP_IDLEHOLD_START_SEC * 1000;
	connretry_reset(peer);
	start_session(peer);
}

void
bgp_fsm_pfx_recheck(struct bgp_peer *peer)
{
	if (peer->state != BGP_ST_ESTABLISHED)
		return;
	for (int aid = 0; aid < BGP_AID_MAX; aid++)
		if (!bgp_peer_pfx_count(peer, aid, peer->pfx_accepted[aid])) {
			pfx_limit_exceeded(peer, aid);
			return;
		}
}

/* ---- collision detection (RFC 4271 §6.8) --------------------------- */

/*
 * The OPEN in peer->rx_open arrived on the pending incoming connection.
 * The connection initiated by the side with the higher BGP Identifier
 * survives; the other is closed with Cease/Connection Collision
 * Resolution.
 */
static void
collision_resolve(struct bgp_conn *coll)
{
	struct bgp_peer *peer = coll->peer;
	struct bgp_conn *cur = peer->conn;
	bool keep_coll;

	/* coll was initiated by the peer; main by whoever main->outgoing
	 * says.  Same initiator on both: the newer connection wins. */
	if (cur->outgoing)
		keep_coll = peer->rx_open.bgp_id > peer->bgp->router_id;
	else
		keep_coll = true;
	bgp_peer_log(peer, LOG_INFO, "connection collision: keeping the %s "
	    "connection", keep_coll ? "incoming" : "outgoing");
	if (!keep_coll) {
		send_cease(coll, BGP_CEASE_COLLISION);
		conn_drop(peer, coll);
		return;
	}
	send_cease(cur, BGP_CEASE_COLLISION);
	timer_stop(peer, BGP_TIMER_KEEPALIVE);
	conn_drop(peer, cur);
	peer->coll = NULL;
	peer->conn = coll;
	enter_openconfirm(peer);
}

static void
fsm_coll(struct bgp_conn *coll, enum bgp_event ev)
{
	struct bgp_peer *peer = coll->peer;
	struct bgp_notify n;

	switch (ev) {
	case BGP_EV_RCVD_OPEN:
		if (open_check(peer, &n) == -1) {
			send_notify(coll, &n);
			conn_drop(peer, coll);
			break;
		}
		collision_resolve(coll);
		break;
	case BGP_EV_RCVD_NOTIFICATION:
		peer->last_notify_rcvd = peer->rx_notify;
		conn_drop(peer, coll);
		break;
	case BGP_EV_CONN_CLOSED:
	case BGP_EV_CONN_OPEN_FAIL:
		conn_drop(peer, coll);
		break;
	default:
		bgp_notify_set(&n, BGP_ERR_FSM, BGP_ERR_FSM_OPENSENT, NULL, 0);
		send_notify(coll, &n);
		conn_drop(peer, coll);
		break;
	}
}

/* ---- transport entry points ---------------------------------------- */

void
bgp_fsm_accept(struct bgp_peer *peer, struct bgp_conn *conn)
{
	conn->outgoing = false;
	switch (peer->state) {
	case BGP_ST_CONNECT:
	case BGP_ST_ACTIVE:
		/* §8.2.2: the incoming connection replaces our attempt. */
		conn_drop(peer, peer->conn);
		peer->conn = conn;
		enter_opensent(peer);
		return;
	case BGP_ST_OPENSENT:
	case BGP_ST_OPENCONFIRM:
		if (peer->coll == NULL) {
			peer->coll = conn;
			send_open(conn);
			return;
		}
		bgp_peer_log(peer, LOG_INFO, "refusing a third connection");
		send_cease(conn, BGP_CEASE_COLLISION);
		break;
	case BGP_ST_ESTABLISHED:
		bgp_peer_log(peer, LOG_INFO,
		    "refusing connection: session is Established");
		send_cease(conn, BGP_CEASE_COLLISION);
		break;
	default:
		bgp_peer_log(peer, LOG_INFO, "refusing connection in %s",
		    bgp_state_name(peer->state));
		break;
	}
	peer->bgp->ops->close(conn);
	bgp_conn_free(conn);
}

void
bgp_fsm_conn_event(struct bgp_conn *conn, enum bgp_event ev,
    const char *reason)
{
	struct bgp_peer *peer = conn->peer;

	if (conn == peer->coll) {
		fsm_coll(conn, ev);
		return;
	}
	if (conn != peer->conn)
		fatalx("event %s on a connection the peer does not own",
		    bgp_event_name(ev));
	if (reason)
		set_reset_reason(peer, "%s", reason);
	else if (ev == BGP_EV_CONN_CLOSED)
		set_reset_reason(peer, "Peer closed the session");
	else if (ev == BGP_EV_CONN_OPEN_FAIL)
		set_reset_reason(peer, "Connection failed");
	bgp_fsm(peer, ev);
}

void
bgp_fsm_conn_error(struct bgp_conn *conn, const struct bgp_notify *n)
{
	struct bgp_peer *peer = conn->peer;

	if (conn == peer->coll) {
		send_notify(conn, n);
		conn_drop(peer, conn);
		return;
	}
	session_fail(peer, n);
}

static enum bgp_event
message_decode(struct bgp_peer *peer, uint8_t type, const uint8_t *body,
    size_t len, struct bgp_notify *err)
{
	switch (type) {
	case BGP_MSG_OPEN:
		memset(&peer->rx_open, 0, sizeof(peer->rx_open));
		if (bgp_open_decode(body, len, &peer->rx_open, err) == -1)
			return BGP_EV_MAX;
		return BGP_EV_RCVD_OPEN;
	case BGP_MSG_UPDATE:
		if (bgp_update_split(body, len, &peer->rx_update, err) == -1)
			return BGP_EV_MAX;
		return BGP_EV_RCVD_UPDATE;
	case BGP_MSG_NOTIFICATION:
		memset(&peer->rx_notify, 0, sizeof(peer->rx_notify));
		/* A malformed NOTIFICATION still ends the session. */
		(void)bgp_notify_decode(body, len, &peer->rx_notify);
		return BGP_EV_RCVD_NOTIFICATION;
	case BGP_MSG_KEEPALIVE:
		return BGP_EV_RCVD_KEEPALIVE;
	case BGP_MSG_ROUTE_REFRESH:
		if (bgp_rr_decode(body, len, &peer->rx_rr, err) == -1)
			return BGP_EV_MAX;
		return BGP_EV_RCVD_ROUTE_REFRESH;
	default:
		bgp_notify_set(err, BGP_ERR_HEADER, BGP_ERR_HDR_TYPE,
		    &type, 1);
		return BGP_EV_MAX;
	}
}

void
bgp_fsm_message(struct bgp_conn *conn, uint8_t type, const uint8_t *body,
    size_t len)
{
	struct bgp_peer *peer = conn->peer;
	struct bgp_notify err;
	enum bgp_event ev;

	if (type <= BGP_MSG_ROUTE_REFRESH)
		peer->stats.msg_rcvd[type]++;
	memset(&err, 0, sizeof(err));
	ev = message_decode(peer, type, body, len, &err);
	if (ev == BGP_EV_MAX) {
		bgp_fsm_conn_error(conn, &err);
		return;
	}
	peer->rx_conn = conn;
	if (conn == peer->coll)
		fsm_coll(conn, ev);
	else
		bgp_fsm(peer, ev);
	peer->rx_conn = NULL;
}

size_t
bgp_fsm_max_msg_len(const struct bgp_conn *conn)
{
	const struct bgp_peer *peer = conn->peer;

	/* RFC 8654 §3: only once both sides advertised the capability. */
	if (conn == peer->conn && peer->state >= BGP_ST_OPENCONFIRM &&
	    peer->neg.ext_msg)
		return BGP_MAX_EXT_MSG_LEN;
	return BGP_MAX_MSG_LEN;
}
