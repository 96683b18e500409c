/*
 * One peer cannot take the speaker down: the limits bgpd puts on what a
 * single neighbor can make it hold or do, driven through the whole
 * routing core (FSM, RIB, EVPN) over the fake transport and clock of
 * fake_peer.h.
 *
 *   maximum-prefix (RFC 4486 §4): Cease/1 with AFI, SAFI and the limit
 *	at N+1 routes, then Idle until the restart time or "clear bgp";
 *	the threshold and warning-only log instead.
 *   ROUTE-REFRESH: one table dump per peer and family in flight, a
 *	repeat during it remembered once.
 *   unknown attributes: at most BGP_RIB_UNKNOWN_ROUTE_MAX bytes per
 *	route and BGP_RIB_UNKNOWN_PEER_MAX per peer are kept, the rest
 *	dropped and counted, so memory stays bounded.
 *   Send Hold Timer (RFC 9687): a peer that stops reading is dropped
 *	after the send hold time, with NOTIFICATION 8.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "bgpd/bgp_fsm.h"
#include "bgpd/bgp_peer.h"
#include "bgpd/bgp_rib.h"
#include "bgpd/bgp_rib_int.h"
#include "common/byteorder.h"
#include "common/log.h"
#include "common/util.h"
#include "tests/unit/fake_peer.h"

#define A	"10.0.0.1"	/* maximum-prefix 5 60 */
#define B	"10.0.0.2"	/* maximum-prefix 5 warning-only */
#define C	"10.0.0.3"	/* maximum-prefix 5 restart 2 */
#define D	"10.0.0.4"	/* no limit */
#define E	"10.0.0.5"	/* timers 10 30, send-hold 60 */
#define F	"10.0.0.6"	/* send-hold 0: no Send Hold Timer */

#define LIMITS_CONF(a_limit)						\
    "router bgp 65000\n"						\
    " bgp router-id 10.0.0.11\n"					\
    " neighbor 10.0.0.1 remote-as 65000\n"				\
    " neighbor 10.0.0.2 remote-as 65000\n"				\
    " neighbor 10.0.0.3 remote-as 65000\n"				\
    " neighbor 10.0.0.4 remote-as 65000\n"				\
    " neighbor 10.0.0.5 remote-as 65000\n"				\
    " neighbor 10.0.0.5 timers 10 30\n"				\
    " neighbor 10.0.0.5 timers send-hold 60\n"				\
    " neighbor 10.0.0.6 remote-as 65000\n"				\
    " neighbor 10.0.0.6 timers send-hold 0\n"				\
    " address-family l2vpn evpn\n"					\
    "  neighbor 10.0.0.1 activate\n"					\
    "  neighbor 10.0.0.1 maximum-prefix " a_limit "\n"			\
    "  neighbor 10.0.0.2 activate\n"					\
    "  neighbor 10.0.0.2 maximum-prefix 5 warning-only\n"		\
    "  neighbor 10.0.0.3 activate\n"					\
    "  neighbor 10.0.0.3 maximum-prefix 5 restart 2\n"			\
    "  neighbor 10.0.0.4 activate\n"					\
    "  neighbor 10.0.0.5 activate\n"					\
    "  neighbor 10.0.0.6 activate\n"					\
    " exit-address-family\n"						\
    "exit\n"

static const struct fp_remote ra = { 65000, "10.0.0.1", false, 0, false,
    false, false };
static const struct fp_remote rb = { 65000, "10.0.0.2", false, 0, false,
    false, false };
static const struct fp_remote rc = { 65000, "10.0.0.3", false, 0, false,
    false, false };
static const struct fp_remote rd = { 65000, "10.0.0.4", false, 0, false,
    false, false };
/* D with extended messages (RFC 8654): UPDATEs up to 65535 bytes. */
static const struct fp_remote rdx = { 65000, "10.0.0.4", false, 0, false,
    true, false };

static const struct fp_remote re = { 65000, "10.0.0.5", false, 0, false,
    false, false };
static const struct fp_remote rf = { 65000, "10.0.0.6", false, 0, false,
    false, false };

static struct fp_world w;
static char log_path[64];

static void
setup(void)
{
	fp_world_start(&w, LIMITS_CONF("5 60"));
}

static void
teardown(void)
{
	fp_world_free(&w);
	fp_reset();
	if (log_path[0] != '\0')
		unlink(log_path);
	log_path[0] = '\0';
}

/* Announce routes first .. first+n-1 in one UPDATE. */
static void
announce_range(struct fp_conn *c, unsigned first, unsigned n)
{
	struct evpn_route r[64];
	struct bgp_attrs a;

	ck_assert_uint_le(n, 64);
	for (unsigned i = 0; i < n; i++)
		r[i] = fp_route_n(first + i);
	fp_attrs_vtep(&a, "10.0.0.100", "65000:100");
	fp_announce(c, &a, r, n);
	bgp_attrs_clear(&a);
}

static size_t
rib_routes(void)
{
	return bgp_rib_count(w.rib, BGP_AID_L2VPN_EVPN);
}

/* The NOTIFICATION c was sent last, if any: code, subcode, data. */
static bool
last_notification(struct fp_conn *c, uint8_t *code, uint8_t *subcode,
    uint8_t *data, size_t *datalen)
{
	const uint8_t *m, *found = NULL;
	size_t len, flen = 0;

	while (fp_next_msg(c, &m, &len))
		if (m[18] == BGP_MSG_NOTIFICATION) {
			found = m;
			flen = len;
		}
	if (found == NULL)
		return false;
	*code = found[19];
	*subcode = found[20];
	*datalen = flen - 21;
	memcpy(data, found + 21, *datalen);
	return true;
}

/* Send the log to a file of our own, so the test can count lines. */
static void
log_to_file(void)
{
	snprintf(log_path, sizeof(log_path), "/tmp/test_limits.%d.log",
	    (int)getpid());
	unlink(log_path);
	log_init("test_limits", LOG_DEST_FILE, log_path, LOG_WARNING);
}

static size_t
log_lines_with(const char *needle)
{
	char line[1024];
	size_t n = 0;
	FILE *f = fopen(log_path, "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

static void
reconfigure(const char *text)
{
	char err[256];
	struct config *nc = fp_conf(text);

	ck_assert_int_eq(bgp_reconfigure(w.bgp, nc, err, sizeof(err)), 0);
	ck_assert_int_eq(evpn_reconfigure(w.evpn, nc, err, sizeof(err)), 0);
	conf_free(w.conf);
	w.conf = nc;
}

/* ---- maximum-prefix ---------------------------------------------------- */

/* The Cease/Maximum Number of Prefixes Reached of RFC 4486 §4: AFI 25,
 * SAFI 70, the limit in four octets. */
static void
expect_max_prefix_cease(struct fp_conn *c, uint32_t limit)
{
	const uint8_t want[7] = { 0x00, 0x19, 0x46, (uint8_t)(limit >> 24),
	    (uint8_t)(limit >> 16), (uint8_t)(limit >> 8), (uint8_t)limit };
	uint8_t code, subcode, data[BGP_NOTIFY_DATA_MAX];
	size_t len;

	ck_assert_msg(last_notification(c, &code, &subcode, data, &len),
	    "no NOTIFICATION sent");
	ck_assert_uint_eq(code, BGP_ERR_CEASE);
	ck_assert_uint_eq(subcode, BGP_CEASE_MAX_PREFIX);
	ck_assert_uint_eq(len, sizeof(want));
	ck_assert_mem_eq(data, want, sizeof(want));
}

START_TEST(test_max_prefix_cease_at_limit_plus_one)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	struct bgp_peer *pa = fp_peer(&w, A);
	struct bgp_peer_info pi;
	struct fp_conn *in;
	int connects;

	fp_run(&w);
	fp_skip(ca);
	for (unsigned i = 0; i < 5; i++)
		announce_range(ca, i, 1);
	fp_run(&w);
	ck_assert_int_eq(pa->state, BGP_ST_ESTABLISHED);
	ck_assert_uint_eq(fp_count_msgs(ca, BGP_MSG_NOTIFICATION), 0);
	ck_assert_uint_eq(fp_peer_info(&w, A).pfx_accepted[BGP_AID_L2VPN_EVPN],
	    5);
	ck_assert_uint_eq(rib_routes(), 5);

	announce_range(ca, 5, 1);		/* the sixth */
	expect_max_prefix_cease(ca, 5);
	ck_assert(ca->closed);
	ck_assert_int_eq(pa->state, BGP_ST_IDLE);
	fp_run(&w);
	ck_assert_uint_eq(rib_routes(), 0);	/* its routes are gone */
	pi = fp_peer_info(&w, A);
	ck_assert(pi.pfx_overflow);
	ck_assert_uint_eq(pi.pfx_restart_msec, 0);
	ck_assert_uint_eq(pi.last_notify_sent.subcode, BGP_CEASE_MAX_PREFIX);
	ck_assert_msg(strstr(pi.last_reset, "Maximum Number of Prefixes") !=
	    NULL, "last reset: %s", pi.last_reset);

	/* Idle, no restart of its own: no connect in an hour, and the
	 * peer's own connections are refused. */
	connects = fp_connects;
	fp_advance(pa, 3600 * 1000);
	ck_assert_int_eq(pa->state, BGP_ST_IDLE);
	ck_assert_int_eq(fp_connects, connects);
	in = fp_accept(pa);
	ck_assert(in->closed);
	ck_assert_int_eq(pa->state, BGP_ST_IDLE);

	/* "clear bgp": released, connecting again at once. */
	ck_assert_int_eq(bgp_peer_clear(w.bgp, &pa->conf.addr), 0);
	ck_assert_int_eq(pa->state, BGP_ST_CONNECT);
	ck_assert_int_eq(fp_connects, connects + 1);
	ck_assert(!fp_peer_info(&w, A).pfx_overflow);
}
END_TEST

/* Past the limit inside one UPDATE: the rest of it is not taken. */
START_TEST(test_max_prefix_inside_one_update)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	struct fp_conn *cd = fp_establish(&w, D, &rd);

	fp_run(&w);
	fp_skip(ca);
	fp_skip(cd);
	announce_range(ca, 0, 3);
	fp_run(&w);
	fp_skip(cd);
	announce_range(ca, 3, 40);		/* 43 routes: 6th is too many */
	expect_max_prefix_cease(ca, 5);
	ck_assert_int_eq(fp_peer(&w, A)->state, BGP_ST_IDLE);
	fp_run(&w);
	ck_assert_uint_eq(rib_routes(), 0);
	/* The other peer never saw the routes past the sixth. */
	{
		struct fp_update *u = xcalloc(1, sizeof(*u));
		struct evpn_route seventh = fp_route_n(6);

		while (fp_next_update(cd, false, u)) {
			for (size_t i = 0; i < u->nreach; i++)
				ck_assert(evpn_route_cmp(&u->reach[i],
				    &seventh) != 0);
			fp_update_clear(u);
		}
		free(u);
	}
}
END_TEST

/* The threshold (percent of the limit) logs once when crossed; with
 * warning-only the limit logs once and the session stays. */
START_TEST(test_max_prefix_threshold_and_warning_only)
{
	struct fp_conn *ca, *cb;

	log_to_file();
	ca = fp_establish(&w, A, &ra);
	cb = fp_establish(&w, B, &rb);
	fp_run(&w);
	fp_skip(ca);
	fp_skip(cb);

	/* A: threshold 60% of 5 is 3, crossed by the fourth route. */
	for (unsigned i = 0; i < 3; i++)
		announce_range(ca, i, 1);
	ck_assert_uint_eq(log_lines_with("peer 10.0.0.1: l2vpn evpn: "), 0);
	announce_range(ca, 3, 1);
	announce_range(ca, 4, 1);
	ck_assert_uint_eq(log_lines_with("peer 10.0.0.1: l2vpn evpn: 4 "
	    "prefixes received, 60% of the limit of 5 reached"), 1);
	ck_assert_uint_eq(log_lines_with("peer 10.0.0.1: l2vpn evpn: "), 1);
	ck_assert_int_eq(fp_peer(&w, A)->state, BGP_ST_ESTABLISHED);

	/* B: default threshold 75% (3.75), then past the limit, logged
	 * once, and the session and all routes stay. */
	for (unsigned i = 100; i < 110; i++)
		announce_range(cb, i, 1);
	ck_assert_uint_eq(log_lines_with("peer 10.0.0.2: l2vpn evpn: 4 "
	    "prefixes received, 75% of the limit of 5 reached"), 1);
	ck_assert_uint_eq(log_lines_with("peer 10.0.0.2: l2vpn evpn: 6 "
	    "prefixes received, more than the limit of 5 (warning-only)"), 1);
	ck_assert_uint_eq(log_lines_with("peer 10.0.0.2: l2vpn evpn: "), 2);
	ck_assert_int_eq(fp_peer(&w, B)->state, BGP_ST_ESTABLISHED);
	ck_assert_uint_eq(fp_count_msgs(cb, BGP_MSG_NOTIFICATION), 0);
	ck_assert_uint_eq(fp_peer_info(&w, B).pfx_accepted[BGP_AID_L2VPN_EVPN],
	    10);
	fp_run(&w);
	ck_assert_uint_eq(rib_routes(), 15);
}
END_TEST

/* restart MINUTES: Idle for that long, then a new session by itself. */
START_TEST(test_max_prefix_restart_timer)
{
	struct fp_conn *cc = fp_establish(&w, C, &rc);
	struct bgp_peer *pc = fp_peer(&w, C);
	int connects;

	fp_run(&w);
	fp_skip(cc);
	announce_range(cc, 0, 6);
	expect_max_prefix_cease(cc, 5);
	ck_assert_int_eq(pc->state, BGP_ST_IDLE);
	ck_assert_uint_eq(fp_peer_info(&w, C).pfx_restart_msec, 120000);
	connects = fp_connects;
	fp_advance(pc, 119 * 1000);
	ck_assert_int_eq(pc->state, BGP_ST_IDLE);
	ck_assert_int_eq(fp_connects, connects);
	ck_assert_uint_eq(fp_peer_info(&w, C).pfx_restart_msec, 1000);
	fp_advance(pc, 1000);
	ck_assert_int_eq(pc->state, BGP_ST_CONNECT);
	ck_assert_int_eq(fp_connects, connects + 1);
	ck_assert(!fp_peer_info(&w, C).pfx_overflow);
	/* The new session counts its routes afresh. */
	cc = fp_establish(&w, C, &rc);
	announce_range(cc, 0, 5);
	ck_assert_int_eq(pc->state, BGP_ST_ESTABLISHED);
}
END_TEST

/* A lower limit applies to what the peer already sent (as FRR). */
START_TEST(test_max_prefix_lowered_by_reload)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);

	fp_run(&w);
	fp_skip(ca);
	announce_range(ca, 0, 4);
	ck_assert_int_eq(fp_peer(&w, A)->state, BGP_ST_ESTABLISHED);
	reconfigure(LIMITS_CONF("4"));
	ck_assert_int_eq(fp_peer(&w, A)->state, BGP_ST_ESTABLISHED);
	ck_assert_uint_eq(fp_count_msgs(ca, BGP_MSG_NOTIFICATION), 0);
	reconfigure(LIMITS_CONF("3"));
	expect_max_prefix_cease(ca, 3);
	ck_assert_int_eq(fp_peer(&w, A)->state, BGP_ST_IDLE);
	ck_assert(fp_peer_info(&w, A).pfx_overflow);
}
END_TEST

/* ---- ROUTE-REFRESH ------------------------------------------------------ */

static void
local_add(const struct evpn_route *r)
{
	uint8_t key[BGP_RIB_KEY_MAX];
	struct bgp_labels l = { { 100, 0 }, 1 };
	struct bgp_attrs a;

	fp_key(r, key);
	fp_attrs_vtep(&a, "10.0.0.11", "65000:100");
	bgp_attrs_unset(&a, BGP_ATTRF_LOCAL_PREF);
	bgp_rib_local_add(w.rib, BGP_AID_L2VPN_EVPN, key, &l, &a);
	bgp_attrs_clear(&a);
}

static void
send_route_refresh(struct fp_conn *c)
{
	struct bgp_route_refresh rr = { AFI_L2VPN, 0, SAFI_EVPN };
	struct wbuf wb;

	wbuf_init(&wb, 0);
	bgp_rr_encode(&wb, &rr);
	fp_deliver(c, wb.data, wb.len);
	wbuf_free(&wb);
}

/* How often each of routes 0..n-1 was announced to c; the total. */
static size_t
count_announced(struct fp_conn *c, unsigned *times, unsigned n)
{
	struct fp_update *u = xcalloc(1, sizeof(*u));
	size_t total = 0;

	memset(times, 0, n * sizeof(*times));
	while (fp_next_update(c, false, u)) {
		for (size_t i = 0; i < u->nreach; i++) {
			unsigned k = be24_load(u->reach[i].mac.b + 3);

			ck_assert_uint_lt(k, n);
			times[k]++;
			total++;
		}
		fp_update_clear(u);
	}
	free(u);
	return total;
}

#define RR_ROUTES	5000	/* more than one slice of a table walk */

START_TEST(test_route_refresh_coalesced)
{
	static unsigned times[RR_ROUTES];
	struct fp_conn *cd = fp_establish(&w, D, &rd);

	for (unsigned i = 0; i < RR_ROUTES; i++) {
		struct evpn_route r = fp_route_n(i);

		local_add(&r);
	}
	fp_run(&w);
	fp_skip(cd);

	send_route_refresh(cd);
	event_base_loop(w.base, EVLOOP_ONCE);	/* the dump is under way */
	ck_assert(!bgp_rib_idle(w.rib));
	send_route_refresh(cd);
	send_route_refresh(cd);
	send_route_refresh(cd);
	fp_run(&w);
	/* Exactly two dumps: every route twice, no more. */
	ck_assert_uint_eq(count_announced(cd, times, RR_ROUTES),
	    2 * RR_ROUTES);
	for (unsigned i = 0; i < RR_ROUTES; i++)
		ck_assert_msg(times[i] == 2, "route %u sent %u times", i,
		    times[i]);

	/* Once idle, a refresh is one dump again. */
	send_route_refresh(cd);
	fp_run(&w);
	ck_assert_uint_eq(count_announced(cd, times, RR_ROUTES), RR_ROUTES);
}
END_TEST

/* ---- unknown optional transitive attributes ------------------------- */

#define UNK_FLAGS	(BGP_ATTR_FLAG_OPTIONAL | BGP_ATTR_FLAG_TRANSITIVE | \
			 BGP_ATTR_FLAG_PARTIAL)

/* Append one unknown attribute record (bgp_attr.h's layout) whose value
 * is len bytes of fill. */
static void
unk_record(struct wbuf *wb, uint8_t type, size_t len, uint32_t fill)
{
	wbuf_put_u8(wb, UNK_FLAGS);
	wbuf_put_u8(wb, type);
	wbuf_put_u16(wb, (uint16_t)len);
	for (size_t i = 0; i < len; i += 4)
		for (size_t k = 0; k < 4 && i + k < len; k++)
			wbuf_put_u8(wb, (uint8_t)(fill >> (24 - 8 * k)));
}

/* Announce route i carrying the unknown records in recs. */
static void
announce_unknown(struct fp_conn *c, unsigned i, const struct wbuf *recs)
{
	struct evpn_route r = fp_route_n(i);
	struct bgp_attrs a;

	fp_attrs_vtep(&a, "10.0.0.100", "65000:100");
	a.unknown = bgp_blob_intern(recs->data, recs->len);
	a.flags |= BGP_ATTRF_UNKNOWN;
	fp_announce(c, &a, &r, 1);
	bgp_attrs_clear(&a);
}

/* Unknown attribute bytes the RIB kept for route i (-1: no route). */
static long
kept_unknown(unsigned i)
{
	struct evpn_route r = fp_route_n(i);
	const struct bgp_rib_path *p = bgp_rib_best(fp_lookup(&w, &r));

	if (p == NULL)
		return -1;
	return (p->attrs->flags & BGP_ATTRF_UNKNOWN) ? p->attrs->unknown->len :
	    0;
}

START_TEST(test_unknown_attr_route_cap)
{
	struct fp_conn *cd = fp_establish(&w, D, &rdx);
	struct wbuf wb;

	/* 104 + 5004 bytes: the first kept, the second dropped. */
	wbuf_init(&wb, 0);
	unk_record(&wb, 200, 100, 1);
	unk_record(&wb, 201, 5000, 2);
	announce_unknown(cd, 0, &wb);
	wbuf_free(&wb);
	ck_assert_int_eq(kept_unknown(0), 104);
	ck_assert_uint_eq(fp_peer_info(&w, D).stats.unknown_attr_dropped, 1);

	/* Exactly the limit is kept; one byte more drops it (and the set
	 * then has no unknown attribute at all). */
	wbuf_init(&wb, 0);
	unk_record(&wb, 202, BGP_RIB_UNKNOWN_ROUTE_MAX - 4, 3);
	announce_unknown(cd, 1, &wb);
	wbuf_free(&wb);
	ck_assert_int_eq(kept_unknown(1), BGP_RIB_UNKNOWN_ROUTE_MAX);
	wbuf_init(&wb, 0);
	unk_record(&wb, 202, BGP_RIB_UNKNOWN_ROUTE_MAX - 3, 4);
	announce_unknown(cd, 2, &wb);
	wbuf_free(&wb);
	ck_assert_int_eq(kept_unknown(2), 0);
	ck_assert_uint_eq(fp_peer_info(&w, D).stats.unknown_attr_dropped, 2);
	ck_assert_int_eq(fp_peer(&w, D)->state, BGP_ST_ESTABLISHED);
}
END_TEST

/*
 * The attack, scaled down: one-route UPDATEs each with 4000
 * bytes of a unique unknown attribute.  Kept, they would cost 80 MB;
 * the peer's routes keep at most BGP_RIB_UNKNOWN_PEER_MAX of them.
 */
#define UNK_ROUTES	20000
#define UNK_LEN		4000

START_TEST(test_unknown_attr_memory_bounded)
{
	struct fp_conn *cd = fp_establish(&w, D, &rdx);
	size_t before = bgp_attrs_intern_bytes(), grown, fit;
	struct wbuf wb;

	fit = BGP_RIB_UNKNOWN_PEER_MAX / (UNK_LEN + 4);
	for (unsigned i = 0; i < UNK_ROUTES; i++) {
		wbuf_init(&wb, 0);
		unk_record(&wb, 200, UNK_LEN, i);
		announce_unknown(cd, i, &wb);
		wbuf_free(&wb);
	}
	ck_assert_int_eq(fp_peer(&w, D)->state, BGP_ST_ESTABLISHED);
	ck_assert_uint_eq(bgp_rib_count(w.rib, BGP_AID_L2VPN_EVPN),
	    UNK_ROUTES);
	grown = bgp_attrs_intern_bytes() - before;
	printf("unknown attributes: %d routes x %d bytes, attribute memory "
	    "grew by %zu bytes, %zu routes kept theirs\n", UNK_ROUTES, UNK_LEN,
	    grown, fit);
	ck_assert_uint_le(grown, BGP_RIB_UNKNOWN_PEER_MAX + 4 * 1024 * 1024);
	ck_assert_int_eq(kept_unknown((unsigned)fit - 1), UNK_LEN + 4);
	ck_assert_int_eq(kept_unknown((unsigned)fit), 0);
	ck_assert_int_eq(kept_unknown(UNK_ROUTES - 1), 0);
	ck_assert_uint_eq(fp_peer_info(&w, D).stats.unknown_attr_dropped,
	    UNK_ROUTES - fit);

	/* Withdrawn routes give their room back. */
	for (unsigned i = 0; i < 10; i++) {
		struct evpn_route r = fp_route_n(i);

		fp_withdraw(cd, &r, 1);
	}
	wbuf_init(&wb, 0);
	unk_record(&wb, 200, UNK_LEN, 0xffffffff);
	announce_unknown(cd, 0, &wb);
	wbuf_free(&wb);
	ck_assert_int_eq(kept_unknown(0), UNK_LEN + 4);
}
END_TEST

/* ---- Send Hold Timer (RFC 9687) -------------------------------------- */

static const uint8_t notify_send_hold[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x15, 0x03,
	0x08, 0x00,
};

/*
 * Let msec pass in steps of step msec, the peer sending a KEEPALIVE at
 * each (it still talks, it only stopped reading), until the session
 * leaves Established.  Returns the time that passed.
 */
static uint64_t
run_stuck(struct bgp_peer *p, struct fp_conn *c, uint64_t msec,
    uint64_t step)
{
	uint64_t start = fp_now;

	while (fp_now - start < msec && p->state == BGP_ST_ESTABLISHED) {
		fp_advance(p, step < msec - (fp_now - start) ? step :
		    msec - (fp_now - start));
		if (p->state == BGP_ST_ESTABLISHED)
			fp_keepalive(c);
	}
	return fp_now - start;
}

/* Stop reading; returns when the first bytes piled up (our KEEPALIVE),
 * with the time they did. */
static uint64_t
stop_reading(struct bgp_peer *p, struct fp_conn *c)
{
	c->stuck = true;
	for (int i = 0; i < 60 && c->backlog == 0; i++)
		(void)run_stuck(p, c, 1000, 1000);
	ck_assert_uint_gt(c->backlog, 0);
	ck_assert_uint_gt(c->stalled_since, fp_now - 1000);
	return c->stalled_since;
}

static void
expect_last_sent(struct fp_conn *c, const uint8_t *msg, size_t len)
{
	ck_assert_uint_ge(c->out.len, len);
	ck_assert_mem_eq(c->out.data + c->out.len - len, msg, len);
}

/* Up 1 ms before the send hold time since ts, down at it. */
static void
expect_dropped_after(struct bgp_peer *p, struct fp_conn *c, uint64_t ts,
    uint64_t hold)
{
	(void)run_stuck(p, c, ts + hold - 1 - fp_now, 1000);
	ck_assert_int_eq(p->state, BGP_ST_ESTABLISHED);
	(void)run_stuck(p, c, 1000, 1);
	ck_assert_int_ne(p->state, BGP_ST_ESTABLISHED);
	ck_assert_uint_eq(fp_now, ts + hold);
	ck_assert(c->closed);
	expect_last_sent(c, notify_send_hold, sizeof(notify_send_hold));
}

/* Default: max(8 min, 2 x negotiated hold 90 s) = 480 s. */
START_TEST(test_send_hold_drops_peer_that_stops_reading)
{
	struct fp_conn *cd = fp_establish(&w, D, &rd);
	struct bgp_peer *pd = fp_peer(&w, D);
	struct bgp_peer_info pi;
	uint64_t ts;

	ck_assert_uint_eq(fp_peer_info(&w, D).send_hold_msec, 480 * 1000);
	ts = stop_reading(pd, cd);
	expect_dropped_after(pd, cd, ts, 480 * 1000);
	pi = fp_peer_info(&w, D);
	ck_assert_str_eq(pi.last_reset, "Send Hold Timer Expired");
	ck_assert_uint_eq(pi.last_notify_sent.code, BGP_ERR_SEND_HOLD);
	/* An error like any other: it comes back after IdleHold. */
	fp_reconnect(pd);
}
END_TEST

/* A slow reader that makes progress is never dropped. */
START_TEST(test_send_hold_progress_keeps_session)
{
	struct fp_conn *cd = fp_establish(&w, D, &rd);
	struct bgp_peer *pd = fp_peer(&w, D);

	stop_reading(pd, cd);
	for (int i = 0; i < 20; i++) {
		ck_assert_uint_eq(run_stuck(pd, cd, 300 * 1000, 1000),
		    300 * 1000);
		cd->stalled_since = fp_now;	/* it read a little */
	}
	ck_assert_int_eq(pd->state, BGP_ST_ESTABLISHED);
	ck_assert_uint_eq(fp_count_msgs(cd, BGP_MSG_NOTIFICATION), 0);
}
END_TEST

/* "timers send-hold 60" drops after 60 s. */
START_TEST(test_send_hold_configured)
{
	struct fp_conn *ce = fp_establish(&w, E, &re);
	struct bgp_peer *pe = fp_peer(&w, E);
	uint64_t ts;

	ck_assert_uint_eq(fp_peer_info(&w, E).send_hold_msec, 60 * 1000);
	ts = stop_reading(pe, ce);
	expect_dropped_after(pe, ce, ts, 60 * 1000);
}
END_TEST

/* "timers send-hold 0": no Send Hold Timer. */
START_TEST(test_send_hold_off)
{
	struct fp_conn *cf = fp_establish(&w, F, &rf);
	struct bgp_peer *pf = fp_peer(&w, F);

	(void)stop_reading(pf, cf);
	ck_assert_uint_eq(run_stuck(pf, cf, 3600 * 1000, 10000), 3600 * 1000);
	ck_assert_int_eq(pf->state, BGP_ST_ESTABLISHED);
}
END_TEST

static Suite *
limits_suite(void)
{
	Suite *s = suite_create("limits");
	TCase *tc = tcase_create("maximum-prefix");
	TCase *rr = tcase_create("route-refresh");
	TCase *unk = tcase_create("unknown-attributes");
	TCase *sh = tcase_create("send-hold");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_max_prefix_cease_at_limit_plus_one);
	tcase_add_test(tc, test_max_prefix_inside_one_update);
	tcase_add_test(tc, test_max_prefix_threshold_and_warning_only);
	tcase_add_test(tc, test_max_prefix_restart_timer);
	tcase_add_test(tc, test_max_prefix_lowered_by_reload);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(rr, setup, teardown);
	tcase_add_test(rr, test_route_refresh_coalesced);
	suite_add_tcase(s, rr);

	tcase_add_checked_fixture(unk, setup, teardown);
	tcase_set_timeout(unk, 60);
	tcase_add_test(unk, test_unknown_attr_route_cap);
	tcase_add_test(unk, test_unknown_attr_memory_bounded);
	suite_add_tcase(s, unk);

	tcase_add_checked_fixture(sh, setup, teardown);
	tcase_add_test(sh, test_send_hold_drops_peer_that_stops_reading);
	tcase_add_test(sh, test_send_hold_progress_keeps_session);
	tcase_add_test(sh, test_send_hold_configured);
	tcase_add_test(sh, test_send_hold_off);
	suite_add_tcase(s, sh);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(limits_suite());
	int failed;

	log_init("test_limits", LOG_DEST_STDOUT, NULL,
	    getenv("TEST_VERBOSE") ? LOG_DEBUG : LOG_ERR);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
