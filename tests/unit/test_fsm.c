/*
 * The BGP FSM driven through its ops with the fake clock and transport
 * of fake_peer.h: every byte the FSM "sends" is captured and compared
 * with the exact encoding, every timer is a deadline on the fake clock.
 * The last tests run two real instances over loopback with libevent.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "bgpd/bgp_fsm.h"
#include "bgpd/bgp_peer.h"
#include "bgpd/bgpd.h"
#include "common/buf.h"
#include "common/byteorder.h"
#include "common/log.h"
#include "common/util.h"
#include "evpn/evpn_int.h"
#include "tests/unit/fake_peer.h"

/*
 * The transport and clock are fake_peer.h's: fp_ops on fp_now, each
 * connection a struct fp_conn recording what the FSM sent, the timers
 * of the peer under test in fp_timer(peer).
 */

/* ---- config and instance ------------------------------------------- */

static struct config cfg;
static struct conf_bgp cbgp;
static struct conf_neighbor nbr;
static struct bgp *bgp;
static struct bgp_peer *peer;

static void
setup(void)
{
	fp_reset();
	memset(&cfg, 0, sizeof(cfg));
	memset(&cbgp, 0, sizeof(cbgp));
	memset(&nbr, 0, sizeof(nbr));
	TAILQ_INIT(&cfg.bgps);
	TAILQ_INIT(&cfg.vxlans);
	TAILQ_INIT(&cfg.vrfs);
	TAILQ_INIT(&cbgp.neighbors);
	TAILQ_INIT(&cbgp.evpn_vnis);
	TAILQ_INIT(&cbgp.networks);
	cbgp.asn = 65001;
	cbgp.has_router_id = true;
	ck_assert_int_eq(ipaddr_parse("10.0.0.1", &cbgp.router_id), 0);
	cbgp.listen_port = 0;
	TAILQ_INSERT_TAIL(&cfg.bgps, &cbgp, entry);
	ck_assert_int_eq(ipaddr_parse("10.0.0.2", &nbr.addr), 0);
	nbr.remote_as = 65002;
	nbr.port = BGP_PORT;
	nbr.af_active = CONF_AF_L2VPN_EVPN;
	TAILQ_INSERT_TAIL(&cbgp.neighbors, &nbr, entry);
	bgp = NULL;
	peer = NULL;
}

static void
teardown(void)
{
	bgp_free(bgp);
	bgp = NULL;
	fp_reset();
}

static void
start(void)
{
	char err[128];

	bgp = bgp_create_with_ops(NULL, &cfg, &fp_ops, err, sizeof(err));
	ck_assert_msg(bgp != NULL, "%s", err);
	peer = bgp_peer_find(bgp, &nbr.addr);
	ck_assert_ptr_nonnull(peer);
}

/* ---- wire helpers -------------------------------------------------- */

#define MARKER	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, \
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff

/* Our OPEN: AS 65001, hold 180, id 10.0.0.1; one optional parameter per
 * capability: MP l2vpn/evpn (25/70), route refresh (128 and 2), AS4
 * 65001, extended message (RFC 8654), graceful restart 120 s with
 * l2vpn/evpn and no forwarding bit. */
static const uint8_t our_open[] = {
	MARKER, 0x00, 0x43, 0x01,
	0x04, 0xfd, 0xe9, 0x00, 0xb4, 0x0a, 0x00, 0x00, 0x01, 0x26,
	0x02, 0x06, 0x01, 0x04, 0x00, 0x19, 0x00, 0x46,
	0x02, 0x02, 0x80, 0x00,
	0x02, 0x02, 0x02, 0x00,
	0x02, 0x06, 0x41, 0x04, 0x00, 0x00, 0xfd, 0xe9,
	0x02, 0x02, 0x06, 0x00,
	0x02, 0x08, 0x40, 0x06, 0x00, 0x78, 0x00, 0x19, 0x46, 0x00,
};
static const uint8_t keepalive[] = { MARKER, 0x00, 0x13, 0x04 };
static const uint8_t eor_evpn[] = {
	MARKER, 0x00, 0x1d, 0x02, 0x00, 0x00, 0x00, 0x06,
	0x80, 0x0f, 0x03, 0x00, 0x19, 0x46,
};
static const uint8_t eor_ipv4[] = {
	MARKER, 0x00, 0x17, 0x02, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t notify_hold[] = { MARKER, 0x00, 0x15, 0x03, 0x04, 0x00 };
static const uint8_t notify_admin[] = { MARKER, 0x00, 0x15, 0x03, 0x06, 0x02 };
static const uint8_t notify_deconf[] = { MARKER, 0x00, 0x15, 0x03, 0x06, 0x03 };
static const uint8_t notify_change[] = { MARKER, 0x00, 0x15, 0x03, 0x06, 0x06 };
static const uint8_t notify_coll[] = { MARKER, 0x00, 0x15, 0x03, 0x06, 0x07 };

/* Assert that the next bytes f sent are exactly msg. */
static void
expect_sent(struct fp_conn *f, const uint8_t *msg, size_t len)
{
	ck_assert_uint_ge(f->out.len - f->seen, len);
	ck_assert_mem_eq(f->out.data + f->seen, msg, len);
	f->seen += len;
}

static void
expect_nothing_more(struct fp_conn *f)
{
	ck_assert_uint_eq(f->out.len, f->seen);
}

static void
remote_open_init(struct bgp_open *o, uint32_t asn, uint16_t hold,
    const char *id)
{
	struct ipaddr a;

	memset(o, 0, sizeof(*o));
	o->version = BGP_VERSION;
	bgp_open_set_as(o, asn);
	o->holdtime = hold;
	ck_assert_int_eq(ipaddr_parse(id, &a), 0);
	o->bgp_id = ipaddr_v4_host(&a);
	o->caps.mp[BGP_AID_L2VPN_EVPN] = true;
	o->caps.route_refresh = true;
}

static void
deliver_open(struct fp_conn *f, const struct bgp_open *o)
{
	struct wbuf wb;

	wbuf_init(&wb, 0);
	bgp_open_encode(&wb, o);
	fp_deliver(f, wb.data, wb.len);
	wbuf_free(&wb);
}

static void
deliver_remote_open(struct fp_conn *f, uint16_t hold, const char *id)
{
	struct bgp_open o;

	remote_open_init(&o, 65002, hold, id);
	deliver_open(f, &o);
}

/* Drive the fresh peer to Established; returns its connection. */
static struct fp_conn *
establish(uint16_t remote_hold)
{
	struct fp_conn *f;

	start();
	ck_assert_int_eq(peer->state, BGP_ST_CONNECT);
	f = fp_conn_last();
	bgp_fsm_conn_event(f->conn, BGP_EV_CONN_OPEN, NULL);
	ck_assert_int_eq(peer->state, BGP_ST_OPENSENT);
	f->seen = f->out.len;
	deliver_remote_open(f, remote_hold, "10.0.0.2");
	ck_assert_int_eq(peer->state, BGP_ST_OPENCONFIRM);
	fp_deliver(f, keepalive, sizeof(keepalive));
	ck_assert_int_eq(peer->state, BGP_ST_ESTABLISHED);
	f->seen = f->out.len;
	return f;
}

/* ---- tests --------------------------------------------------------- */

START_TEST(test_happy_path)
{
	struct bgp_peer_info pi;
	struct fp_conn *f;

	start();
	ck_assert_int_eq(peer->state, BGP_ST_CONNECT);
	ck_assert_int_eq(fp_connects, 1);
	ck_assert(fp_timer(peer)->armed[BGP_TIMER_CONNRETRY]);
	f = fp_conn_last();
	expect_nothing_more(f);

	bgp_fsm_conn_event(f->conn, BGP_EV_CONN_OPEN, NULL);
	ck_assert_int_eq(peer->state, BGP_ST_OPENSENT);
	expect_sent(f, our_open, sizeof(our_open));
	expect_nothing_more(f);
	ck_assert(!fp_timer(peer)->armed[BGP_TIMER_CONNRETRY]);
	ck_assert(fp_timer(peer)->armed[BGP_TIMER_HOLD]);
	ck_assert_uint_eq(fp_timer(peer)->len[BGP_TIMER_HOLD], 240000);

	deliver_remote_open(f, 90, "10.0.0.2");
	ck_assert_int_eq(peer->state, BGP_ST_OPENCONFIRM);
	expect_sent(f, keepalive, sizeof(keepalive));
	expect_nothing_more(f);
	ck_assert_uint_eq(fp_timer(peer)->len[BGP_TIMER_HOLD], 90000);
	ck_assert_uint_eq(fp_timer(peer)->len[BGP_TIMER_KEEPALIVE], 30000);

	fp_deliver(f, keepalive, sizeof(keepalive));
	ck_assert_int_eq(peer->state, BGP_ST_ESTABLISHED);
	/* RFC 4724 §2: End-of-RIB for the one negotiated family. */
	expect_sent(f, eor_evpn, sizeof(eor_evpn));
	expect_nothing_more(f);

	fp_now += 5000;
	ck_assert_int_eq(bgp_peer_lookup(bgp, &nbr.addr, &pi), 0);
	ck_assert_int_eq(pi.state, BGP_ST_ESTABLISHED);
	ck_assert_uint_eq(pi.uptime_msec, 5000);
	ck_assert_uint_eq(pi.remote_id, 0x0a000002);
	ck_assert_uint_eq(pi.holdtime, 90);
	ck_assert_uint_eq(pi.keepalive, 30);
	ck_assert(pi.neg.families[BGP_AID_L2VPN_EVPN]);
	ck_assert(!pi.neg.families[BGP_AID_IPV4_UNICAST]);
	ck_assert_uint_eq(pi.stats.msg_sent[BGP_MSG_OPEN], 1);
	ck_assert_uint_eq(pi.stats.msg_sent[BGP_MSG_KEEPALIVE], 1);
	ck_assert_uint_eq(pi.stats.msg_sent[BGP_MSG_UPDATE], 1);
	ck_assert_uint_eq(pi.stats.msg_rcvd[BGP_MSG_OPEN], 1);
	ck_assert_uint_eq(pi.stats.msg_rcvd[BGP_MSG_KEEPALIVE], 1);
	ck_assert_uint_eq(pi.stats.established, 1);
	ck_assert_uint_eq(pi.stats.state_changes, 4);
	ck_assert_uint_eq(bgp_peer_established_count(bgp), 1);
}
END_TEST

START_TEST(test_hold_negotiation_keepalive_and_expiry)
{
	struct bgp_peer_info pi;
	struct fp_conn *f;
	int i;

	nbr.has_timers = true;
	nbr.holdtime = 9;
	nbr.keepalive = 3;
	f = establish(30);
	ck_assert_uint_eq(peer->neg.holdtime, 9);
	ck_assert_uint_eq(peer->neg.keepalive, 3);

	/* A KEEPALIVE every 3 s while the peer keeps us alive. */
	for (i = 0; i < 4; i++) {
		fp_advance(peer, 3000);
		expect_sent(f, keepalive, sizeof(keepalive));
		expect_nothing_more(f);
		fp_deliver(f, keepalive, sizeof(keepalive));
	}
	ck_assert_int_eq(peer->state, BGP_ST_ESTABLISHED);

	/* Then silence: 9 s after the last KEEPALIVE the hold timer fires. */
	fp_advance(peer, 8999);
	ck_assert_int_eq(peer->state, BGP_ST_ESTABLISHED);
	f->seen = f->out.len;
	fp_advance(peer, 1);
	ck_assert_int_eq(peer->state, BGP_ST_IDLE);
	expect_sent(f, notify_hold, sizeof(notify_hold));
	expect_nothing_more(f);
	ck_assert(f->closed);
	ck_assert_int_eq(bgp_peer_lookup(bgp, &nbr.addr, &pi), 0);
	ck_assert_str_eq(pi.last_reset, "Hold Timer Expired");
	ck_assert_uint_eq(pi.last_notify_sent.code, BGP_ERR_HOLD);
	ck_assert_uint_eq(pi.stats.dropped, 1);

	/* IdleHold (1 s) and then a fresh connect. */
	ck_assert(fp_timer(peer)->armed[BGP_TIMER_IDLEHOLD]);
	ck_assert_uint_eq(fp_timer(peer)->len[BGP_TIMER_IDLEHOLD], 1000);
	fp_advance(peer, 999);
	ck_assert_int_eq(fp_connects, 1);
	fp_advance(peer, 1);
	ck_assert_int_eq(peer->state, BGP_ST_CONNECT);
	ck_assert_int_eq(fp_connects, 2);
}
END_TEST

START_TEST(test_hold_zero_means_no_keepalives)
{
	struct fp_conn *f;

	f = establish(0);
	ck_assert_uint_eq(peer->neg.holdtime, 0);
	ck_assert(!fp_timer(peer)->armed[BGP_TIMER_HOLD]);
	ck_assert(!fp_timer(peer)->armed[BGP_TIMER_KEEPALIVE]);
	fp_advance(peer, 3600 * 1000);
	ck_assert_int_eq(peer->state, BGP_ST_ESTABLISHED);
	expect_nothing_more(f);
}
END_TEST

START_TEST(test_connect_failure_backoff)
{
	struct bgp_peer_info pi;
	uint64_t expect[] = { 5000, 10000, 20000, 40000, 80000, 120000,
	    120000 };
	size_t i;

	fp_connect_fails = true;
	start();
	for (i = 0; i < nitems(expect); i++) {
		ck_assert_int_eq(peer->state, BGP_ST_ACTIVE);
		ck_assert_int_eq(fp_connects, (int)i + 1);
		ck_assert(fp_timer(peer)->armed[BGP_TIMER_CONNRETRY]);
		ck_assert_uint_eq(fp_timer(peer)->len[BGP_TIMER_CONNRETRY],
		    expect[i]);
		fp_advance(peer, expect[i] - 1);
		ck_assert_int_eq(fp_connects, (int)i + 1);
		fp_advance(peer, 1);
	}
	ck_assert_int_eq(bgp_peer_lookup(bgp, &nbr.addr, &pi), 0);
	ck_assert_str_eq(pi.last_reset, "Connection refused");

	/* An asynchronous failure takes the same path. */
	fp_connect_fails = false;
	fp_advance(peer, 120000);
	ck_assert_int_eq(peer->state, BGP_ST_CONNECT);
	bgp_fsm_conn_event(fp_conn_last()->conn, BGP_EV_CONN_OPEN_FAIL,
	    "No route to host");
	ck_assert_int_eq(peer->state, BGP_ST_ACTIVE);
	ck_assert(fp_conn_last()->closed);
	ck_assert_str_eq(peer->last_reset, "No route to host");
}
END_TEST

START_TEST(test_backoff_resets_after_established)
{
	fp_connect_fails = true;
	start();
	fp_advance(peer, 5000);
	ck_assert_uint_eq(fp_timer(peer)->len[BGP_TIMER_CONNRETRY], 10000);
	fp_connect_fails = false;
	fp_advance(peer, 10000);
	ck_assert_int_eq(peer->state, BGP_ST_CONNECT);
	bgp_fsm_conn_event(fp_conn_last()->conn, BGP_EV_CONN_OPEN, NULL);
	deliver_remote_open(fp_conn_last(), 90, "10.0.0.2");
	fp_deliver(fp_conn_last(), keepalive, sizeof(keepalive));
	ck_assert_int_eq(peer->state, BGP_ST_ESTABLISHED);
	ck_assert_uint_eq(peer->connretry_msec, 5000);
}
END_TEST

/* Deliver a bad OPEN; expect exactly the NOTIFICATION want and Idle. */
static void
bad_open(const struct bgp_open *o, const uint8_t *want, size_t len)
{
	struct fp_conn *f;

	start();
	f = fp_conn_last();
	bgp_fsm_conn_event(f->conn, BGP_EV_CONN_OPEN, NULL);
	f->seen = f->out.len;
	deliver_open(f, o);
	ck_assert_int_eq(peer->state, BGP_ST_IDLE);
	expect_sent(f, want, len);
	expect_nothing_more(f);
	ck_assert(f->closed);
	ck_assert(fp_timer(peer)->armed[BGP_TIMER_IDLEHOLD]);
	ck_assert_uint_eq(peer->last_notify_sent.code, want[19]);
	ck_assert_uint_eq(peer->last_notify_sent.subcode, want[20]);
}

START_TEST(test_bad_open_peer_as)
{
	/* Data: the AS the peer claimed (65003). */
	static const uint8_t want[] = { MARKER, 0x00, 0x17, 0x03, 0x02, 0x02,
	    0xfd, 0xeb };
	struct bgp_open o;

	remote_open_init(&o, 65003, 90, "10.0.0.2");
	bad_open(&o, want, sizeof(want));
	ck_assert_str_eq(peer->last_reset,
	    "Notification sent (OPEN Message Error/Bad Peer AS)");
}
END_TEST

START_TEST(test_bad_open_version)
{
	static const uint8_t want[] = { MARKER, 0x00, 0x17, 0x03, 0x02, 0x01,
	    0x00, 0x04 };
	struct bgp_open o;

	remote_open_init(&o, 65002, 90, "10.0.0.2");
	o.version = 3;
	bad_open(&o, want, sizeof(want));
}
END_TEST

START_TEST(test_bad_open_holdtime)
{
	static const uint8_t want[] = { MARKER, 0x00, 0x17, 0x03, 0x02, 0x06,
	    0x00, 0x02 };
	struct bgp_open o;

	remote_open_init(&o, 65002, 2, "10.0.0.2");
	bad_open(&o, want, sizeof(want));
}
END_TEST

START_TEST(test_bad_open_bgp_id)
{
	static const uint8_t want[] = { MARKER, 0x00, 0x19, 0x03, 0x02, 0x03,
	    0x00, 0x00, 0x00, 0x00 };
	struct bgp_open o;

	remote_open_init(&o, 65002, 90, "0.0.0.0");
	bad_open(&o, want, sizeof(want));
}
END_TEST

START_TEST(test_bad_open_no_common_family)
{
	/* 2/7 with the capability we wanted: MP l2vpn/evpn. */
	static const uint8_t want[] = { MARKER, 0x00, 0x1b, 0x03, 0x02, 0x07,
	    0x01, 0x04, 0x00, 0x19, 0x00, 0x46 };
	struct bgp_open o;

	remote_open_init(&o, 65002, 90, "10.0.0.2");
	o.caps.mp[BGP_AID_L2VPN_EVPN] = false;
	o.caps.mp[BGP_AID_IPV6_UNICAST] = true;
	bad_open(&o, want, sizeof(want));
}
END_TEST

START_TEST(test_unexpected_message_is_fsm_error)
{
	/* RFC 6608: 5/1, a KEEPALIVE before the OPEN. */
	static const uint8_t want[] = { MARKER, 0x00, 0x15, 0x03, 0x05, 0x01 };
	struct fp_conn *f;

	start();
	f = fp_conn_last();
	bgp_fsm_conn_event(f->conn, BGP_EV_CONN_OPEN, NULL);
	f->seen = f->out.len;
	fp_deliver(f, keepalive, sizeof(keepalive));
	expect_sent(f, want, sizeof(want));
	ck_assert_int_eq(peer->state, BGP_ST_IDLE);
}
END_TEST

START_TEST(test_header_error_from_transport)
{
	static const uint8_t want[] = { MARKER, 0x00, 0x17, 0x03, 0x01, 0x02,
	    0x00, 0x05 };
	struct bgp_notify n;
	struct fp_conn *f;

	f = establish(90);
	bgp_notify_set(&n, BGP_ERR_HEADER, BGP_ERR_HDR_LEN,
	    (const uint8_t[]){ 0x00, 0x05 }, 2);
	bgp_fsm_conn_error(f->conn, &n);
	expect_sent(f, want, sizeof(want));
	ck_assert_int_eq(peer->state, BGP_ST_IDLE);
}
END_TEST

/* Outgoing connection in OpenSent, then the peer fp_connects to us. */
static struct fp_conn *
collision_setup(struct fp_conn **in)
{
	struct fp_conn *out;

	start();
	out = fp_conn_last();
	bgp_fsm_conn_event(out->conn, BGP_EV_CONN_OPEN, NULL);
	expect_sent(out, our_open, sizeof(our_open));
	*in = fp_accept(peer);
	ck_assert_ptr_eq(peer->coll, (*in)->conn);
	ck_assert_int_eq(peer->state, BGP_ST_OPENSENT);
	expect_sent(*in, our_open, sizeof(our_open));
	return out;
}

START_TEST(test_collision_remote_higher_id_keeps_incoming)
{
	struct fp_conn *out, *in;

	out = collision_setup(&in);
	deliver_remote_open(in, 90, "10.0.0.9");
	expect_sent(out, notify_coll, sizeof(notify_coll));
	ck_assert(out->closed);
	ck_assert(!in->closed);
	ck_assert_ptr_null(peer->coll);
	ck_assert_ptr_eq(peer->conn, in->conn);
	ck_assert_int_eq(peer->state, BGP_ST_OPENCONFIRM);
	expect_sent(in, keepalive, sizeof(keepalive));
	fp_deliver(in, keepalive, sizeof(keepalive));
	ck_assert_int_eq(peer->state, BGP_ST_ESTABLISHED);
	expect_sent(in, eor_evpn, sizeof(eor_evpn));
}
END_TEST

START_TEST(test_collision_local_higher_id_keeps_outgoing)
{
	struct fp_conn *out, *in;

	out = collision_setup(&in);
	deliver_remote_open(in, 90, "9.9.9.9");
	expect_sent(in, notify_coll, sizeof(notify_coll));
	expect_nothing_more(in);
	ck_assert(in->closed);
	ck_assert(!out->closed);
	ck_assert_ptr_null(peer->coll);
	ck_assert_int_eq(peer->state, BGP_ST_OPENSENT);
	expect_nothing_more(out);
	deliver_remote_open(out, 90, "9.9.9.9");
	ck_assert_int_eq(peer->state, BGP_ST_OPENCONFIRM);
	fp_deliver(out, keepalive, sizeof(keepalive));
	ck_assert_int_eq(peer->state, BGP_ST_ESTABLISHED);
}
END_TEST

START_TEST(test_collision_with_established_is_refused)
{
	struct fp_conn *f, *in;

	f = establish(90);
	in = fp_accept(peer);
	expect_sent(in, notify_coll, sizeof(notify_coll));
	expect_nothing_more(in);
	ck_assert(in->closed);
	ck_assert_int_eq(peer->state, BGP_ST_ESTABLISHED);
	expect_nothing_more(f);
}
END_TEST

START_TEST(test_notification_received)
{
	struct bgp_peer_info pi;
	struct fp_conn *f;

	f = establish(90);
	fp_deliver(f, notify_admin, sizeof(notify_admin));
	ck_assert_int_eq(peer->state, BGP_ST_IDLE);
	ck_assert(f->closed);
	expect_nothing_more(f);
	ck_assert_int_eq(bgp_peer_lookup(bgp, &nbr.addr, &pi), 0);
	ck_assert_uint_eq(pi.last_notify_rcvd.code, 6);
	ck_assert_uint_eq(pi.last_notify_rcvd.subcode, 2);
	ck_assert_str_eq(pi.last_reset,
	    "Notification received (Cease/Administrative Shutdown)");
	ck_assert(fp_timer(peer)->armed[BGP_TIMER_IDLEHOLD]);
}
END_TEST

START_TEST(test_manual_stop_and_shutdown_config)
{
	struct fp_conn *f;
	char err[128];

	f = establish(90);
	bgp_fsm(peer, BGP_EV_STOP);
	expect_sent(f, notify_admin, sizeof(notify_admin));
	ck_assert(f->closed);
	ck_assert_int_eq(peer->state, BGP_ST_IDLE);
	ck_assert(!fp_timer(peer)->armed[BGP_TIMER_IDLEHOLD]);
	fp_advance(peer, 600000);
	ck_assert_int_eq(fp_connects, 1);

	/* "no neighbor X shutdown" restarts; "shutdown" stops with 6/2. */
	bgp_fsm(peer, BGP_EV_START);
	ck_assert_int_eq(fp_connects, 2);
	f = fp_conn_last();
	bgp_fsm_conn_event(f->conn, BGP_EV_CONN_OPEN, NULL);
	f->seen = f->out.len;
	nbr.shutdown = true;
	ck_assert_int_eq(bgp_reconfigure(bgp, &cfg, err, sizeof(err)), 0);
	expect_sent(f, notify_admin, sizeof(notify_admin));
	ck_assert_int_eq(peer->state, BGP_ST_IDLE);
	fp_advance(peer, 600000);
	ck_assert_int_eq(fp_connects, 2);
	nbr.shutdown = false;
	ck_assert_int_eq(bgp_reconfigure(bgp, &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(peer->state, BGP_ST_CONNECT);
	ck_assert_int_eq(fp_connects, 3);
}
END_TEST

START_TEST(test_passive_never_connects)
{
	struct fp_conn *in;

	nbr.passive = true;
	start();
	ck_assert_int_eq(peer->state, BGP_ST_ACTIVE);
	fp_advance(peer, 3600 * 1000);
	ck_assert_int_eq(fp_connects, 0);
	ck_assert_int_eq(peer->state, BGP_ST_ACTIVE);
	in = fp_accept(peer);
	ck_assert_int_eq(peer->state, BGP_ST_OPENSENT);
	expect_sent(in, our_open, sizeof(our_open));
	/* After a session error it waits again instead of connecting. */
	fp_deliver(in, notify_admin, sizeof(notify_admin));
	fp_advance(peer, 3600 * 1000);
	ck_assert_int_eq(peer->state, BGP_ST_ACTIVE);
	ck_assert_int_eq(fp_connects, 0);
}
END_TEST

START_TEST(test_eor_for_each_family)
{
	struct bgp_open o;
	struct fp_conn *f;

	nbr.af_active = CONF_AF_IPV4_UNICAST | CONF_AF_L2VPN_EVPN;
	start();
	f = fp_conn_last();
	bgp_fsm_conn_event(f->conn, BGP_EV_CONN_OPEN, NULL);
	f->seen = f->out.len;
	remote_open_init(&o, 65002, 90, "10.0.0.2");
	o.caps.mp[BGP_AID_IPV4_UNICAST] = true;
	o.caps.mp[BGP_AID_IPV6_UNICAST] = true;
	deliver_open(f, &o);
	expect_sent(f, keepalive, sizeof(keepalive));
	fp_deliver(f, keepalive, sizeof(keepalive));
	ck_assert_int_eq(peer->state, BGP_ST_ESTABLISHED);
	expect_sent(f, eor_ipv4, sizeof(eor_ipv4));
	expect_sent(f, eor_evpn, sizeof(eor_evpn));
	expect_nothing_more(f);
}
END_TEST

/* ---- RIB seam ------------------------------------------------------ */

static int rib_ups, rib_downs, rib_updates, rib_refreshes, rib_refresh_aid;
static int rib_fail;

static int
rib_up(struct bgp_peer *p)
{
	rib_ups++;
	return 0;
}

static void
rib_down(struct bgp_peer *p)
{
	rib_downs++;
}

static int
rib_update(struct bgp_peer *p, const struct bgp_update_parts *u,
    struct bgp_notify *err)
{
	rib_updates++;
	if (rib_fail) {
		bgp_notify_set(err, BGP_ERR_UPDATE, BGP_ERR_UPD_ATTRLIST,
		    NULL, 0);
		return -1;
	}
	ck_assert_uint_eq(rbuf_left(&u->withdrawn), 0);
	ck_assert_uint_eq(rbuf_left(&u->attrs), 6);
	return 0;
}

static void
rib_refresh(struct bgp_peer *p, int aid)
{
	rib_refreshes++;
	rib_refresh_aid = aid;
}

static const struct bgp_rib_ops test_rib = {
	.peer_up = rib_up,
	.peer_down = rib_down,
	.update = rib_update,
	.refresh = rib_refresh,
};

START_TEST(test_rib_seam)
{
	static const uint8_t rr_evpn[] = { MARKER, 0x00, 0x17, 0x05,
	    0x00, 0x19, 0x00, 0x46 };
	static const uint8_t rr_ipv6[] = { MARKER, 0x00, 0x17, 0x05,
	    0x00, 0x02, 0x00, 0x01 };
	static const uint8_t want[] = { MARKER, 0x00, 0x15, 0x03, 0x03, 0x01 };
	struct fp_conn *f;

	rib_ups = rib_downs = rib_updates = rib_refreshes = rib_fail = 0;
	start();
	bgp_set_rib_ops(bgp, &test_rib, NULL);
	f = fp_conn_last();
	bgp_fsm_conn_event(f->conn, BGP_EV_CONN_OPEN, NULL);
	deliver_remote_open(f, 90, "10.0.0.2");
	fp_deliver(f, keepalive, sizeof(keepalive));
	ck_assert_int_eq(rib_ups, 1);
	f->seen = f->out.len;

	fp_advance(peer, 60000);
	fp_deliver(f, eor_evpn, sizeof(eor_evpn));
	ck_assert_int_eq(rib_updates, 1);
	/* UPDATE restarts the hold timer. */
	ck_assert_uint_eq(fp_timer(peer)->at[BGP_TIMER_HOLD], fp_now + 90000);
	ck_assert_uint_eq(peer->stats.msg_rcvd[BGP_MSG_UPDATE], 1);

	fp_deliver(f, rr_evpn, sizeof(rr_evpn));
	ck_assert_int_eq(rib_refreshes, 1);
	ck_assert_int_eq(rib_refresh_aid, BGP_AID_L2VPN_EVPN);
	fp_deliver(f, rr_ipv6, sizeof(rr_ipv6));	/* not negotiated */
	ck_assert_int_eq(rib_refreshes, 1);
	ck_assert_int_eq(peer->state, BGP_ST_ESTABLISHED);

	f->seen = f->out.len;
	rib_fail = 1;
	fp_deliver(f, eor_evpn, sizeof(eor_evpn));
	expect_sent(f, want, sizeof(want));
	ck_assert_int_eq(peer->state, BGP_ST_IDLE);
	ck_assert_int_eq(rib_downs, 1);
}
END_TEST

START_TEST(test_idlehold_grows_on_flaps)
{
	struct fp_conn *f;

	f = establish(90);
	fp_deliver(f, notify_admin, sizeof(notify_admin));
	ck_assert_uint_eq(fp_timer(peer)->len[BGP_TIMER_IDLEHOLD], 1000);
	fp_advance(peer, 1000);
	f = fp_conn_last();
	bgp_fsm_conn_event(f->conn, BGP_EV_CONN_OPEN, NULL);
	fp_deliver(f, notify_admin, sizeof(notify_admin));
	ck_assert_uint_eq(fp_timer(peer)->len[BGP_TIMER_IDLEHOLD], 2000);
	fp_advance(peer, 2000);
	f = fp_conn_last();
	bgp_fsm_conn_event(f->conn, BGP_EV_CONN_OPEN, NULL);
	bgp_fsm_conn_event(f->conn, BGP_EV_CONN_CLOSED, NULL);
	ck_assert_uint_eq(fp_timer(peer)->len[BGP_TIMER_IDLEHOLD], 4000);
	ck_assert_str_eq(peer->last_reset, "Peer closed the session");
}
END_TEST

START_TEST(test_reconfigure)
{
	struct conf_neighbor nbr2;
	struct bgp_peer *p2;
	struct fp_conn *f;
	char err[128];
	char *desc = xstrdup("spine 1");

	f = establish(90);
	/* Unchanged and description-only changes keep the session. */
	ck_assert_int_eq(bgp_reconfigure(bgp, &cfg, err, sizeof(err)), 0);
	nbr.description = desc;
	ck_assert_int_eq(bgp_reconfigure(bgp, &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(peer->state, BGP_ST_ESTABLISHED);
	ck_assert_str_eq(peer->conf.description, "spine 1");
	expect_nothing_more(f);
	ck_assert_uint_eq(peer->stats.state_changes, 4);

	/* An added neighbor starts; the existing one stays up. */
	memset(&nbr2, 0, sizeof(nbr2));
	ck_assert_int_eq(ipaddr_parse("10.0.0.0", &nbr2.addr), 0);
	nbr2.remote_as = 65001;
	nbr2.passive = true;
	TAILQ_INSERT_TAIL(&cbgp.neighbors, &nbr2, entry);
	ck_assert_int_eq(bgp_reconfigure(bgp, &cfg, err, sizeof(err)), 0);
	ck_assert_uint_eq(bgp_peer_count(bgp), 2);
	p2 = bgp_peer_find(bgp, &nbr2.addr);
	ck_assert_ptr_nonnull(p2);
	ck_assert(p2->ibgp);
	ck_assert_int_eq(p2->state, BGP_ST_ACTIVE);
	ck_assert_ptr_eq(TAILQ_FIRST(&bgp->peers), p2);	/* sorted */
	ck_assert_int_eq(peer->state, BGP_ST_ESTABLISHED);

	/* A session-relevant change: 6/6 and a restart. */
	nbr.has_timers = true;
	nbr.holdtime = 30;
	nbr.keepalive = 10;
	ck_assert_int_eq(bgp_reconfigure(bgp, &cfg, err, sizeof(err)), 0);
	expect_sent(f, notify_change, sizeof(notify_change));
	ck_assert(f->closed);
	ck_assert_int_eq(peer->state, BGP_ST_CONNECT);
	ck_assert_uint_eq(peer->local_open.holdtime, 30);

	/* Removed: 6/3 and gone. */
	f = fp_conn_last();
	bgp_fsm_conn_event(f->conn, BGP_EV_CONN_OPEN, NULL);
	f->seen = f->out.len;
	TAILQ_REMOVE(&cbgp.neighbors, &nbr, entry);
	ck_assert_int_eq(bgp_reconfigure(bgp, &cfg, err, sizeof(err)), 0);
	expect_sent(f, notify_deconf, sizeof(notify_deconf));
	ck_assert(f->closed);
	ck_assert_uint_eq(bgp_peer_count(bgp), 1);
	ck_assert_ptr_null(bgp_peer_find(bgp, &nbr.addr));
	nbr.description = NULL;
	free(desc);
}
END_TEST

START_TEST(test_router_id_change_resets_all)
{
	struct fp_conn *f;
	char err[128];

	f = establish(90);
	ck_assert_int_eq(ipaddr_parse("10.0.0.7", &cbgp.router_id), 0);
	ck_assert_int_eq(bgp_reconfigure(bgp, &cfg, err, sizeof(err)), 0);
	expect_sent(f, notify_change, sizeof(notify_change));
	ck_assert_int_eq(peer->state, BGP_ST_CONNECT);
	ck_assert_uint_eq(peer->local_open.bgp_id, 0x0a000007);
	ck_assert_uint_eq(bgp_router_id(bgp), 0x0a000007);
}
END_TEST

START_TEST(test_no_router_id)
{
	char err[128];

	cbgp.has_router_id = false;
	ck_assert_ptr_null(bgp_create_with_ops(NULL, &cfg, &fp_ops, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "no router-id"));
}
END_TEST

START_TEST(test_shutdown_sends_cease)
{
	struct fp_conn *f;

	f = establish(90);
	bgp_shutdown(bgp);
	expect_sent(f, notify_admin, sizeof(notify_admin));
	ck_assert(f->closed);
	fp_advance(peer, 600000);
	ck_assert_int_eq(fp_connects, 1);
}
END_TEST

/* bgp graceful-restart: the OPEN claims preserved forwarding state for
 * each family (F bit, RFC 4724 §3) and shutting down just closes the
 * connection, so helpers keep our routes (§4.1). */
START_TEST(test_graceful_restart_shutdown)
{
	struct fp_conn *f;
	struct bgp_open o;
	struct bgp_notify err;
	const uint8_t *open;

	cbgp.graceful_restart = true;
	start();
	f = fp_conn_last();
	bgp_fsm_conn_event(f->conn, BGP_EV_CONN_OPEN, NULL);
	open = f->out.data;
	ck_assert_uint_ge(f->out.len, BGP_HDR_LEN);
	ck_assert_int_eq(bgp_open_decode(open + BGP_HDR_LEN,
	    (size_t)be16_load(open + 16) - BGP_HDR_LEN, &o, &err), 0);
	ck_assert(o.caps.gr);
	ck_assert(o.caps.gr_af[BGP_AID_L2VPN_EVPN]);
	ck_assert(o.caps.gr_af_forwarding[BGP_AID_L2VPN_EVPN]);
	f->seen = f->out.len;
	deliver_remote_open(f, 90, "10.0.0.2");
	fp_deliver(f, keepalive, sizeof(keepalive));
	ck_assert_int_eq(peer->state, BGP_ST_ESTABLISHED);
	f->seen = f->out.len;
	bgp_shutdown(bgp);
	expect_nothing_more(f);		/* no NOTIFICATION */
	ck_assert(f->closed);
}
END_TEST

/* ---- real sockets over loopback ------------------------------------ */

struct lo_side {
	struct config	 cfg;
	struct conf_bgp	 cb;
	struct conf_neighbor nb;
	struct bgp	*bgp;
};

static uint16_t
free_port(const char *addr)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin.sin_addr);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static void
lo_side_init(struct lo_side *s, uint32_t asn, const char *rid,
    const char *me, uint16_t myport, uint32_t peer_as, const char *them,
    uint16_t theirport, bool passive)
{
	memset(s, 0, sizeof(*s));
	TAILQ_INIT(&s->cfg.bgps);
	TAILQ_INIT(&s->cfg.vxlans);
	TAILQ_INIT(&s->cfg.vrfs);
	TAILQ_INIT(&s->cb.neighbors);
	TAILQ_INIT(&s->cb.evpn_vnis);
	TAILQ_INIT(&s->cb.networks);
	s->cb.asn = asn;
	s->cb.has_router_id = true;
	ipaddr_parse(rid, &s->cb.router_id);
	ipaddr_parse(me, &s->cb.listen_addr);
	s->cb.listen_port = myport;
	TAILQ_INSERT_TAIL(&s->cfg.bgps, &s->cb, entry);
	ipaddr_parse(them, &s->nb.addr);
	ipaddr_parse(me, &s->nb.update_source);
	s->nb.remote_as = peer_as;
	s->nb.port = theirport;
	s->nb.passive = passive;
	s->nb.af_active = CONF_AF_L2VPN_EVPN;
	s->nb.has_timers = true;
	s->nb.holdtime = 9;
	s->nb.keepalive = 3;
	s->nb.connect_retry = 1;
	TAILQ_INSERT_TAIL(&s->cb.neighbors, &s->nb, entry);
}

struct lo_pair {
	struct lo_side	*a, *b;
	struct event_base *base;
};

/* Both Established and a has b's End-of-RIB (it follows the
 * KEEPALIVE that made a Established, possibly a loop turn later). */
static void
lo_check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lo_pair *p = arg;
	struct bgp_peer_info pa;

	if (bgp_peer_established_count(p->a->bgp) == 1 &&
	    bgp_peer_established_count(p->b->bgp) == 1 &&
	    bgp_peer_lookup(p->a->bgp, &p->a->nb.addr, &pa) == 0 &&
	    pa.stats.msg_rcvd[BGP_MSG_UPDATE] >= 1)
		event_base_loopbreak(p->base);
}

/* Run until both are Established or 15 s pass. */
static void
lo_run(struct lo_side *a, struct lo_side *b, bool a_passive, bool b_passive)
{
	struct lo_pair pair = { a, b, NULL };
	struct timeval limit = { 15, 0 }, tick = { 0, 20000 };
	struct bgp_peer_info pa, pb;
	struct event *check;
	char err[160];
	uint16_t porta = free_port("127.0.0.1"), portb = free_port("127.0.0.2");

	lo_side_init(a, 65001, "10.0.0.1", "127.0.0.1", porta, 65002,
	    "127.0.0.2", portb, a_passive);
	lo_side_init(b, 65002, "10.0.0.2", "127.0.0.2", portb, 65001,
	    "127.0.0.1", porta, b_passive);
	pair.base = event_base_new();
	ck_assert_ptr_nonnull(pair.base);
	a->bgp = bgp_create(pair.base, &a->cfg, err, sizeof(err));
	ck_assert_msg(a->bgp != NULL, "%s", err);
	b->bgp = bgp_create(pair.base, &b->cfg, err, sizeof(err));
	ck_assert_msg(b->bgp != NULL, "%s", err);
	check = event_new(pair.base, -1, EV_PERSIST, lo_check_cb, &pair);
	event_add(check, &tick);
	event_base_loopexit(pair.base, &limit);
	event_base_dispatch(pair.base);

	ck_assert_int_eq(bgp_peer_lookup(a->bgp, &a->nb.addr, &pa), 0);
	ck_assert_int_eq(bgp_peer_lookup(b->bgp, &b->nb.addr, &pb), 0);
	ck_assert_msg(pa.state == BGP_ST_ESTABLISHED &&
	    pb.state == BGP_ST_ESTABLISHED, "a %s (%s), b %s (%s)",
	    bgp_state_name(pa.state), pa.last_reset,
	    bgp_state_name(pb.state), pb.last_reset);
	ck_assert_uint_eq(pa.holdtime, 9);
	ck_assert_uint_eq(pa.remote_id, 0x0a000002);
	ck_assert_uint_eq(pb.remote_id, 0x0a000001);
	ck_assert(pa.neg.families[BGP_AID_L2VPN_EVPN]);
	ck_assert_uint_eq(pa.stats.msg_rcvd[BGP_MSG_UPDATE], 1);	/* EoR */

	/* Clean shutdown of a: b hears Cease/Administrative Shutdown. */
	bgp_shutdown(a->bgp);
	limit.tv_sec = 0;
	limit.tv_usec = 300000;
	event_del(check);
	event_base_loopexit(pair.base, &limit);
	event_base_dispatch(pair.base);
	ck_assert_int_eq(bgp_peer_lookup(b->bgp, &b->nb.addr, &pb), 0);
	ck_assert_int_ne(pb.state, BGP_ST_ESTABLISHED);
	ck_assert_uint_eq(pb.last_notify_rcvd.code, BGP_ERR_CEASE);
	ck_assert_uint_eq(pb.last_notify_rcvd.subcode,
	    BGP_CEASE_ADMIN_SHUTDOWN);

	event_free(check);
	bgp_free(a->bgp);
	bgp_free(b->bgp);
	event_base_free(pair.base);
}

START_TEST(test_loopback_both_active)
{
	struct lo_side a, b;

	lo_run(&a, &b, false, false);
}
END_TEST

START_TEST(test_loopback_a_passive)
{
	struct lo_side a, b;

	lo_run(&a, &b, true, false);
}
END_TEST

START_TEST(test_loopback_b_passive)
{
	struct lo_side a, b;

	lo_run(&a, &b, false, true);
}
END_TEST

static bool
can_connect(uint16_t port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	return rc == 0;
}

START_TEST(test_listener_follows_config)
{
	struct lo_side a;
	struct event_base *base = event_base_new();
	uint16_t p1 = free_port("127.0.0.1"), p2 = free_port("127.0.0.1");
	char err[160];

	lo_side_init(&a, 65001, "10.0.0.1", "127.0.0.1", p1, 65002,
	    "127.0.0.2", 9, true);
	a.bgp = bgp_create(base, &a.cfg, err, sizeof(err));
	ck_assert_msg(a.bgp != NULL, "%s", err);
	ck_assert(can_connect(p1));
	a.cb.listen_port = p2;
	ck_assert_int_eq(bgp_reconfigure(a.bgp, &a.cfg, err, sizeof(err)), 0);
	ck_assert(!can_connect(p1));
	ck_assert(can_connect(p2));
	a.cb.listen_port = 0;
	ck_assert_int_eq(bgp_reconfigure(a.bgp, &a.cfg, err, sizeof(err)), 0);
	ck_assert(!can_connect(p2));
	bgp_free(a.bgp);
	event_base_free(base);
}
END_TEST

/* ---- a NOTIFICATION reaches a peer that is behind ------------------ */

/* A raw socket from 127.0.0.2 to port: the peer, played by the test. */
static int
raw_peer_connect(uint16_t port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.2", &sin.sin_addr);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	sin.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static void
raw_send_all(int fd, const void *p, size_t len)
{
	ck_assert_int_eq(send(fd, p, len, 0), (ssize_t)len);
}

/* Turn the loop for msec. */
static void
loop_for(struct event_base *base, unsigned msec)
{
	struct timeval tv = { msec / 1000, (msec % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

struct stream_reader {
	uint8_t		 buf[65536 + BGP_MAX_MSG_LEN];
	size_t		 len;
	size_t		 keepalives;
	bool		 notify_seen;
	uint8_t		 code, subcode;
	bool		 eof;
	int		 err;		/* errno of a failed read */
};

/* Read what is there and walk the whole messages in it. */
static void
stream_read(int fd, struct stream_reader *r)
{
	ssize_t n = recv(fd, r->buf + r->len, sizeof(r->buf) - r->len,
	    MSG_DONTWAIT);
	size_t off = 0;

	if (n == 0)
		r->eof = true;
	if (n < 0 && errno != EAGAIN)
		r->err = errno;
	if (n <= 0)
		return;
	r->len += (size_t)n;
	while (r->len - off >= BGP_HDR_LEN) {
		const uint8_t *m = r->buf + off;
		size_t mlen = (size_t)m[16] << 8 | m[17];

		ck_assert_uint_ge(mlen, BGP_HDR_LEN);
		if (r->len - off < mlen)
			break;
		if (m[18] == BGP_MSG_KEEPALIVE)
			r->keepalives++;
		if (m[18] == BGP_MSG_NOTIFICATION) {
			r->notify_seen = true;
			r->code = m[19];
			r->subcode = m[20];
		}
		off += mlen;
	}
	memmove(r->buf, r->buf + off, r->len - off);
	r->len -= off;
}

/*
 * A peer that is behind: it has not read the 4 MB we queued for it and
 * sends more than we read, starting with a message whose marker is
 * wrong.  Our NOTIFICATION (Connection Not Synchronized) goes behind
 * the 4 MB, with unread input on our side: closing the socket there
 * would reset the connection and lose it.  The peer, reading now, must
 * get all of it and then the NOTIFICATION and an orderly end.
 */
START_TEST(test_notification_reaches_peer_that_is_behind)
{
	struct event_base *base = event_base_new();
	struct stream_reader *r = xcalloc(1, sizeof(*r));
	uint16_t port = free_port("127.0.0.1");
	uint8_t keepalive_msg[BGP_HDR_LEN], junk[65536];
	struct bgp_open o;
	struct bgp_peer *p;
	struct lo_side a;
	struct wbuf wb;
	size_t queued = 0;
	uint64_t deadline;
	char err[160];
	int fd;

	lo_side_init(&a, 65001, "10.0.0.1", "127.0.0.1", port, 65002,
	    "127.0.0.2", 179, true);
	a.nb.has_timers = false;
	a.bgp = bgp_create(base, &a.cfg, err, sizeof(err));
	ck_assert_msg(a.bgp != NULL, "%s", err);
	fd = raw_peer_connect(port);

	/* OPEN and KEEPALIVE: Established, without reading a byte. */
	remote_open_init(&o, 65002, 90, "10.0.0.2");
	wbuf_init(&wb, 0);
	bgp_open_encode(&wb, &o);
	bgp_keepalive_encode(&wb);
	raw_send_all(fd, wb.data, wb.len);
	wbuf_free(&wb);
	p = bgp_peer_find(a.bgp, &a.nb.addr);
	for (int i = 0; i < 200 && p->state != BGP_ST_ESTABLISHED; i++)
		loop_for(base, 10);
	ck_assert_int_eq(p->state, BGP_ST_ESTABLISHED);

	/* 4 MB for a peer that does not read. */
	memcpy(keepalive_msg, keepalive, sizeof(keepalive_msg));
	while (queued < 4 * 1024 * 1024) {
		ck_assert_int_eq(bgp_peer_send(p, keepalive_msg,
		    sizeof(keepalive_msg)), 0);
		queued += sizeof(keepalive_msg);
	}
	loop_for(base, 50);
	ck_assert_uint_gt(bgp_peer_pending(p), 0);	/* it is behind */

	/* A header with a bad marker, then far more than we read. */
	memset(junk, 0, sizeof(junk));
	junk[16] = 0;
	junk[17] = BGP_HDR_LEN;
	junk[18] = BGP_MSG_KEEPALIVE;
	for (int i = 0; i < 16; i++)
		(void)send(fd, junk, sizeof(junk), MSG_DONTWAIT);
	for (int i = 0; i < 100 && p->state == BGP_ST_ESTABLISHED; i++)
		loop_for(base, 10);
	ck_assert_int_ne(p->state, BGP_ST_ESTABLISHED);

	/* Now the peer reads. */
	deadline = mono_msec() + 10000;
	while (!r->eof && r->err == 0 && mono_msec() < deadline) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		stream_read(fd, r);
	}
	ck_assert_msg(r->err == 0, "the peer's read failed: %s",
	    strerror(r->err));
	ck_assert_uint_ge(r->keepalives, queued / BGP_HDR_LEN);
	ck_assert_msg(r->notify_seen, "no NOTIFICATION after %zu KEEPALIVEs",
	    r->keepalives);
	ck_assert_uint_eq(r->code, BGP_ERR_HEADER);
	ck_assert_uint_eq(r->subcode, BGP_ERR_HDR_SYNC);
	ck_assert(r->eof);

	close(fd);
	free(r);
	bgp_free(a.bgp);
	event_base_free(base);
}
END_TEST

static Suite *
fsm_suite(void)
{
	Suite *s = suite_create("fsm");
	TCase *tc = tcase_create("fake");
	TCase *lo = tcase_create("loopback");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_happy_path);
	tcase_add_test(tc, test_hold_negotiation_keepalive_and_expiry);
	tcase_add_test(tc, test_hold_zero_means_no_keepalives);
	tcase_add_test(tc, test_connect_failure_backoff);
	tcase_add_test(tc, test_backoff_resets_after_established);
	tcase_add_test(tc, test_bad_open_peer_as);
	tcase_add_test(tc, test_bad_open_version);
	tcase_add_test(tc, test_bad_open_holdtime);
	tcase_add_test(tc, test_bad_open_bgp_id);
	tcase_add_test(tc, test_bad_open_no_common_family);
	tcase_add_test(tc, test_unexpected_message_is_fsm_error);
	tcase_add_test(tc, test_header_error_from_transport);
	tcase_add_test(tc, test_collision_remote_higher_id_keeps_incoming);
	tcase_add_test(tc, test_collision_local_higher_id_keeps_outgoing);
	tcase_add_test(tc, test_collision_with_established_is_refused);
	tcase_add_test(tc, test_notification_received);
	tcase_add_test(tc, test_manual_stop_and_shutdown_config);
	tcase_add_test(tc, test_passive_never_connects);
	tcase_add_test(tc, test_eor_for_each_family);
	tcase_add_test(tc, test_rib_seam);
	tcase_add_test(tc, test_idlehold_grows_on_flaps);
	tcase_add_test(tc, test_reconfigure);
	tcase_add_test(tc, test_router_id_change_resets_all);
	tcase_add_test(tc, test_no_router_id);
	tcase_add_test(tc, test_shutdown_sends_cease);
	tcase_add_test(tc, test_graceful_restart_shutdown);
	suite_add_tcase(s, tc);

	tcase_set_timeout(lo, 60);
	tcase_add_test(lo, test_loopback_both_active);
	tcase_add_test(lo, test_loopback_a_passive);
	tcase_add_test(lo, test_loopback_b_passive);
	tcase_add_test(lo, test_listener_follows_config);
	tcase_add_test(lo, test_notification_reaches_peer_that_is_behind);
	suite_add_tcase(s, lo);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(fsm_suite());
	int failed;

	log_init("test_fsm", LOG_DEST_STDOUT, NULL,
	    getenv("TEST_VERBOSE") ? LOG_DEBUG : LOG_ERR);
	/* The family the sessions negotiate; in evpnd evpn_create()
	 * registers it. */
	bgp_af_register(&evpn_af);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
