/*
 * The RIB driven end to end: peers reach Established over the fake
 * transport of fake_peer.h, send real UPDATEs into the FSM, and every
 * UPDATE evpnd sends back is decoded and checked.  The l2vpn evpn row
 * (registered by evpn_create) is the family carried; the instance has no
 * VNIs, so every route comes from a peer or bgp_rib_local_add().
 *
 * Peers: A 10.0.0.1 and B 10.0.0.2 are iBGP with router ids 10.0.0.9 and
 * 10.0.0.8 (so address order and router-id order disagree), C 10.0.0.3
 * is an iBGP route-reflector client, E 10.0.0.5 is eBGP (AS 65100).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "bgpd/bgp_msg.h"
#include "bgpd/bgp_rib.h"
#include "bgpd/bgp_rib_int.h"
#include "common/byteorder.h"
#include "common/log.h"
#include "common/util.h"
#include "tests/unit/fake_peer.h"

#define A	"10.0.0.1"
#define B	"10.0.0.2"
#define C	"10.0.0.3"
#define E	"10.0.0.5"

static const char rib_conf[] =
    "router bgp 65000\n"
    " bgp router-id 10.0.0.11\n"
    " neighbor 10.0.0.1 remote-as 65000\n"
    " neighbor 10.0.0.2 remote-as 65000\n"
    " neighbor 10.0.0.3 remote-as 65000\n"
    " neighbor 10.0.0.5 remote-as 65100\n"
    " address-family l2vpn evpn\n"
    "  neighbor 10.0.0.1 activate\n"
    "  neighbor 10.0.0.2 activate\n"
    "  neighbor 10.0.0.3 activate\n"
    "  neighbor 10.0.0.3 route-reflector-client\n"
    "  neighbor 10.0.0.5 activate\n"
    " exit-address-family\n"
    "exit\n";

static const struct fp_remote ra = { 65000, "10.0.0.9", false, 0, false,
    false, false };
static const struct fp_remote rb = { 65000, "10.0.0.8", false, 0, false,
    false, false };
static const struct fp_remote rc = { 65000, "10.0.0.3", false, 0, false,
    false, false };
static const struct fp_remote re = { 65100, "10.0.0.5", false, 0, false,
    false, false };

static struct fp_world w;

static void
setup(void)
{
	fp_world_start(&w, rib_conf);
}

static void
teardown(void)
{
	fp_world_free(&w);
	fp_reset();
}

static bool
route_eq(const struct evpn_route *a, const struct evpn_route *b)
{
	return evpn_route_cmp(a, b) == 0;
}

static const char *
best_peer(const struct evpn_route *r)
{
	static char buf[IPADDR_STRLEN];
	const struct bgp_rib_entry *e = fp_lookup(&w, r);
	const struct bgp_rib_path *p;

	ck_assert_ptr_nonnull(e);
	p = bgp_rib_best(e);
	ck_assert_ptr_nonnull(p);
	return ipaddr_fmt(&bgp_rib_path_source(w.rib, p)->addr, buf,
	    sizeof(buf));
}

static size_t
paths_of(const struct evpn_route *r)
{
	const struct bgp_rib_entry *e = fp_lookup(&w, r);
	size_t n = 0;

	if (e == NULL)
		return 0;
	for (const struct bgp_rib_path *p = e->paths; p; p = p->next)
		n++;
	return n;
}

static void
announce_one(struct fp_conn *c, const struct evpn_route *r, uint32_t lp)
{
	struct bgp_attrs a;

	fp_attrs_vtep(&a, "10.0.0.100", "65000:100");
	bgp_attrs_set_local_pref(&a, lp);
	fp_announce(c, &a, r, 1);
	bgp_attrs_clear(&a);
}

static void
expect_no_update(struct fp_conn *c)
{
	ck_assert_uint_eq(fp_count_msgs(c, BGP_MSG_UPDATE), 0);
}

/* ---- add, replace, withdraw ------------------------------------------ */

START_TEST(test_add_replace_withdraw)
{
	struct fp_conn *ca, *cc;
	struct evpn_route x = fp_route_n(1);
	struct fp_update *u = xcalloc(1, sizeof(*u));
	const struct bgp_rib_entry *e;

	ca = fp_establish(&w, A, &ra);
	cc = fp_establish(&w, C, &rc);
	fp_run(&w);
	fp_skip(ca);
	fp_skip(cc);

	announce_one(ca, &x, 100);
	fp_run(&w);
	ck_assert_uint_eq(bgp_rib_count(w.rib, BGP_AID_L2VPN_EVPN), 1);
	ck_assert_uint_eq(bgp_rib_path_count(w.rib), 1);
	ck_assert_uint_eq(fp_peer_info(&w, A).stats.pfx_rcvd, 1);
	ck_assert_str_eq(best_peer(&x), A);
	ck_assert(fp_next_update(cc, false, u));
	ck_assert_uint_eq(u->nreach, 1);
	ck_assert(route_eq(&u->reach[0], &x));
	ck_assert_uint_eq(u->attrs.local_pref, 100);
	fp_update_clear(u);
	ck_assert_uint_eq(fp_peer_info(&w, C).stats.pfx_sent, 1);

	/* Same route, new attributes: the path is replaced, not added. */
	announce_one(ca, &x, 150);
	fp_run(&w);
	ck_assert_uint_eq(bgp_rib_path_count(w.rib), 1);
	ck_assert_uint_eq(paths_of(&x), 1);
	e = fp_lookup(&w, &x);
	ck_assert_uint_eq(bgp_rib_best(e)->attrs->local_pref, 150);
	ck_assert(fp_next_update(cc, false, u));
	ck_assert_uint_eq(u->nreach, 1);
	ck_assert_uint_eq(u->attrs.local_pref, 150);
	fp_update_clear(u);
	ck_assert(!fp_next_update(cc, false, u));

	/* The same announcement again changes nothing on the wire. */
	announce_one(ca, &x, 150);
	fp_run(&w);
	expect_no_update(cc);

	fp_withdraw(ca, &x, 1);
	fp_run(&w);
	ck_assert_ptr_null(fp_lookup(&w, &x));
	ck_assert_uint_eq(bgp_rib_count(w.rib, BGP_AID_L2VPN_EVPN), 0);
	ck_assert_uint_eq(bgp_rib_path_count(w.rib), 0);
	ck_assert_uint_eq(fp_peer_info(&w, A).stats.pfx_rcvd, 0);
	ck_assert(fp_next_update(cc, false, u));
	ck_assert_uint_eq(u->nreach, 0);
	ck_assert_uint_eq(u->nunreach, 1);
	ck_assert(route_eq(&u->unreach[0], &x));
	fp_update_clear(u);
	ck_assert_uint_eq(fp_peer_info(&w, C).stats.pfx_sent, 0);
	/* Withdrawing what is not there is silent. */
	fp_withdraw(ca, &x, 1);
	fp_run(&w);
	expect_no_update(cc);
	free(u);
}
END_TEST

/* ---- best path, RFC 4271 §9.1.2.2 and RFC 4456 §9 --------------------- */

struct spec {
	uint32_t	 lp;
	uint32_t	 as[3];
	size_t		 nas;
	uint8_t		 origin;
	int64_t		 med;		/* -1: none */
	const char	*originator;	/* NULL: none */
	size_t		 ncluster;
};

static void
spec_announce(struct fp_conn *c, const struct evpn_route *r,
    const struct spec *s)
{
	struct bgp_attrs a;

	fp_attrs_vtep(&a, "10.0.0.100", "65000:100");
	bgp_attrs_set_local_pref(&a, s->lp ? s->lp : 100);
	bgp_attrs_set_aspath_seq(&a, s->as, s->nas);
	bgp_attrs_set_origin(&a, s->origin);
	if (s->med >= 0)
		bgp_attrs_set_med(&a, (uint32_t)s->med);
	if (s->originator)
		bgp_attrs_set_originator_id(&a, fp_ip4(s->originator));
	for (size_t i = 0; i < s->ncluster; i++)
		bgp_cluster_list_prepend(&a, 0x01010101u * (uint32_t)(i + 1));
	fp_announce(c, &a, r, 1);
	bgp_attrs_clear(&a);
}

/* Both arrival orders, each on its own route: the winner must not
 * depend on which path came first. */
static void
duel(unsigned n, const char *pa, const struct spec *sa, const char *pb,
    const struct spec *sb, const char *winner)
{
	struct fp_conn *ca = fp_conn_of(fp_peer(&w, pa));
	struct fp_conn *cb = fp_conn_of(fp_peer(&w, pb));
	struct evpn_route r1 = fp_route_n(2 * n), r2 = fp_route_n(2 * n + 1);

	spec_announce(ca, &r1, sa);
	spec_announce(cb, &r1, sb);
	spec_announce(cb, &r2, sb);
	spec_announce(ca, &r2, sa);
	fp_run(&w);
	ck_assert_uint_eq(paths_of(&r1), 2);
	ck_assert_msg(strcmp(best_peer(&r1), winner) == 0,
	    "case %u (a first): best %s, want %s", n, best_peer(&r1), winner);
	ck_assert_msg(strcmp(best_peer(&r2), winner) == 0,
	    "case %u (b first): best %s, want %s", n, best_peer(&r2), winner);
}

START_TEST(test_best_path_steps)
{
	struct spec base = { 100, { 0 }, 0, BGP_ORIGIN_IGP, -1, NULL, 0 };
	struct spec a, b;

	fp_establish(&w, A, &ra);
	fp_establish(&w, B, &rb);
	fp_establish(&w, C, &rc);
	fp_establish(&w, E, &re);
	fp_run(&w);

	/* a) highest LOCAL_PREF, against every later tie-breaker */
	a = base, b = base;
	b.lp = 200;
	a.lp = 150;
	duel(1, A, &a, B, &b, B);
	a = base, b = base;
	a.lp = 200;
	duel(2, B, &b, A, &a, A);

	/* b) shortest AS_PATH */
	a = base, b = base;
	a.as[0] = 65100, a.as[1] = 65200, a.nas = 2;
	b.as[0] = 65100, b.nas = 1;
	a.originator = "10.0.0.1";	/* would win on router id */
	duel(3, A, &a, B, &b, B);

	/* c) lowest ORIGIN */
	a = base, b = base;
	a.origin = BGP_ORIGIN_INCOMPLETE;
	b.origin = BGP_ORIGIN_EGP;
	a.originator = "10.0.0.1";
	duel(4, A, &a, B, &b, B);

	/* d) lowest MED between routes from the same neighbouring AS... */
	a = base, b = base;
	a.as[0] = 65100, a.nas = 1, a.med = 50, a.originator = "10.0.0.1";
	b.as[0] = 65100, b.nas = 1, b.med = 10;
	duel(5, A, &a, B, &b, B);
	/* ...and not between different ones (router id decides: A). */
	a = base, b = base;
	a.as[0] = 65100, a.nas = 1, a.med = 50, a.originator = "10.0.0.1";
	b.as[0] = 65200, b.nas = 1, b.med = 10;
	duel(6, A, &a, B, &b, A);
	/* A missing MED is the lowest value (RFC 4271 §9.1.2.2 c). */
	a = base, b = base;
	a.as[0] = 65100, a.nas = 1, a.med = 5, a.originator = "10.0.0.1";
	b.as[0] = 65100, b.nas = 1;
	duel(7, A, &a, B, &b, B);

	/* e) eBGP over iBGP: C has the lower router id and address. */
	a = base, b = base;
	a.as[0] = 65100, a.nas = 1;
	b.as[0] = 65100, b.nas = 1;
	duel(8, C, &a, E, &b, E);

	/* f) lowest BGP identifier: B (10.0.0.8) over A (10.0.0.9)... */
	a = base, b = base;
	duel(9, A, &a, B, &b, B);
	/* ...where ORIGINATOR_ID stands in for it (RFC 4456 §9). */
	a = base, b = base;
	a.originator = "10.0.0.7";
	duel(10, A, &a, B, &b, A);

	/* g) shortest CLUSTER_LIST */
	a = base, b = base;
	a.originator = b.originator = "10.0.0.7";
	a.ncluster = 2, b.ncluster = 1;
	duel(11, A, &a, B, &b, B);

	/* h) lowest peer address */
	a = base, b = base;
	a.originator = b.originator = "10.0.0.7";
	a.ncluster = b.ncluster = 1;
	duel(12, A, &a, B, &b, A);

	/* LOCAL_PREF from an eBGP peer is ignored (RFC 4271 §5.1.5). */
	a = base, b = base;
	a.as[0] = 65100, a.nas = 1, a.lp = 200;
	b.as[0] = 65100, b.nas = 1, b.lp = 500;
	duel(13, C, &a, E, &b, C);
}
END_TEST

/* Withdrawing the best path promotes the other one and tells peers. */
START_TEST(test_best_path_fallback)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	struct fp_conn *cb = fp_establish(&w, B, &rb);
	struct fp_conn *cc = fp_establish(&w, C, &rc);
	struct evpn_route x = fp_route_n(7);
	struct fp_update *u = xcalloc(1, sizeof(*u));

	fp_run(&w);
	announce_one(ca, &x, 200);
	announce_one(cb, &x, 100);
	fp_run(&w);
	ck_assert_str_eq(best_peer(&x), A);
	fp_skip(cc);
	fp_withdraw(ca, &x, 1);
	fp_run(&w);
	ck_assert_str_eq(best_peer(&x), B);
	ck_assert_uint_eq(paths_of(&x), 1);
	ck_assert(fp_next_update(cc, false, u));
	ck_assert_uint_eq(u->nreach, 1);
	ck_assert_uint_eq(u->attrs.local_pref, 100);
	ck_assert_uint_eq(u->attrs.originator_id, fp_ip4("10.0.0.8"));
	fp_update_clear(u);
	free(u);
}
END_TEST

/* ---- export policy ---------------------------------------------------- */

static uint32_t
cluster_at(const struct bgp_attrs *a, size_t i)
{
	return be32_load(a->cluster_list->data + 4 * i);
}

START_TEST(test_ibgp_reflection)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	struct fp_conn *cb = fp_establish(&w, B, &rb);
	struct fp_conn *cc = fp_establish(&w, C, &rc);
	struct fp_conn *ce = fp_establish(&w, E, &re);
	struct evpn_route x = fp_route_n(1), y = fp_route_n(2);
	struct fp_update *u = xcalloc(1, sizeof(*u));
	char buf[64];

	fp_run(&w);
	fp_skip(ca), fp_skip(cb), fp_skip(cc), fp_skip(ce);

	/* From non-client A: not to non-client B, reflected to client C,
	 * never back to A, and to eBGP E with our AS prepended. */
	announce_one(ca, &x, 120);
	fp_run(&w);
	expect_no_update(ca);
	expect_no_update(cb);
	ck_assert(fp_next_update(cc, false, u));
	ck_assert_uint_eq(u->nreach, 1);
	ck_assert(route_eq(&u->reach[0], &x));
	ck_assert(u->attrs.flags & BGP_ATTRF_ORIGINATOR_ID);
	ck_assert_uint_eq(u->attrs.originator_id, fp_ip4("10.0.0.9"));
	ck_assert_ptr_nonnull(u->attrs.cluster_list);
	ck_assert_uint_eq(u->attrs.cluster_list->len, 4);
	ck_assert_uint_eq(cluster_at(&u->attrs, 0), fp_ip4("10.0.0.11"));
	ck_assert_uint_eq(u->attrs.local_pref, 120);
	ck_assert_uint_eq(bgp_aspath_length(&u->attrs), 0);
	fp_update_clear(u);
	ck_assert(fp_next_update(ce, true, u));
	ck_assert_uint_eq(u->nreach, 1);
	ck_assert_str_eq(bgp_aspath_fmt(&u->attrs, buf, sizeof(buf)), "65000");
	ck_assert(!(u->attrs.flags & BGP_ATTRF_LOCAL_PREF));
	ck_assert(!(u->attrs.flags & BGP_ATTRF_ORIGINATOR_ID));
	ck_assert(!(u->attrs.flags & BGP_ATTRF_CLUSTER_LIST));
	fp_update_clear(u);

	/* From client C: reflected to A and B, not back to C. */
	announce_one(cc, &y, 100);
	fp_run(&w);
	expect_no_update(cc);
	ck_assert(fp_next_update(ca, false, u));
	ck_assert(route_eq(&u->reach[0], &y));
	ck_assert_uint_eq(u->attrs.originator_id, fp_ip4("10.0.0.3"));
	ck_assert_uint_eq(cluster_at(&u->attrs, 0), fp_ip4("10.0.0.11"));
	fp_update_clear(u);
	ck_assert(fp_next_update(cb, false, u));
	ck_assert(route_eq(&u->reach[0], &y));
	ck_assert_uint_eq(u->attrs.originator_id, fp_ip4("10.0.0.3"));
	fp_update_clear(u);
	free(u);
}
END_TEST

/* "route-reflector-client" counts in the family it was given for: D is a
 * client in ipv4 unicast only, so l2vpn evpn routes are not reflected to
 * it, nor from it. */
START_TEST(test_reflection_client_per_family)
{
	static const char conf[] =
	    "router bgp 65000\n"
	    " bgp router-id 10.0.0.11\n"
	    " neighbor 10.0.0.1 remote-as 65000\n"
	    " neighbor 10.0.0.4 remote-as 65000\n"
	    " address-family ipv4 unicast\n"
	    "  neighbor 10.0.0.4 route-reflector-client\n"
	    " exit-address-family\n"
	    " address-family l2vpn evpn\n"
	    "  neighbor 10.0.0.1 activate\n"
	    "  neighbor 10.0.0.4 activate\n"
	    " exit-address-family\n"
	    "exit\n";
	static const struct fp_remote rd = { 65000, "10.0.0.4", false, 0,
	    false, false, false };
	struct fp_conn *ca, *cd;
	struct evpn_route x = fp_route_n(4), y = fp_route_n(5);

	fp_world_free(&w);
	fp_reset();
	fp_world_start(&w, conf);
	ca = fp_establish(&w, A, &ra);
	cd = fp_establish(&w, "10.0.0.4", &rd);
	fp_run(&w);
	fp_skip(ca), fp_skip(cd);

	announce_one(ca, &x, 100);
	announce_one(cd, &y, 100);
	fp_run(&w);
	ck_assert_uint_eq(paths_of(&x), 1);
	ck_assert_uint_eq(paths_of(&y), 1);
	expect_no_update(ca);
	expect_no_update(cd);
}
END_TEST

/* A route reflected back to us (our cluster id in CLUSTER_LIST) is a
 * loop: ignored (RFC 4456 §8). */
START_TEST(test_reflection_loop_dropped)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	struct evpn_route x = fp_route_n(3);
	struct bgp_attrs a;

	fp_run(&w);
	fp_attrs_vtep(&a, "10.0.0.100", "65000:100");
	bgp_attrs_set_originator_id(&a, fp_ip4("10.0.0.7"));
	bgp_cluster_list_prepend(&a, fp_ip4("10.0.0.11"));
	fp_announce(ca, &a, &x, 1);
	bgp_attrs_clear(&a);
	fp_run(&w);
	ck_assert_ptr_null(fp_lookup(&w, &x));
	ck_assert_int_eq(fp_peer(&w, A)->state, BGP_ST_ESTABLISHED);
}
END_TEST

/* ---- peer up / down --------------------------------------------------- */

static void
local_add(const struct evpn_route *r, const char *rt)
{
	uint8_t key[BGP_RIB_KEY_MAX];
	struct bgp_labels l = { { 100, 0 }, 1 };
	struct bgp_attrs a;

	fp_key(r, key);
	fp_attrs_vtep(&a, "10.0.0.11", rt);
	bgp_attrs_unset(&a, BGP_ATTRF_LOCAL_PREF);
	bgp_rib_local_add(w.rib, BGP_AID_L2VPN_EVPN, key, &l, &a);
	bgp_attrs_clear(&a);
}

static void
local_del(const struct evpn_route *r)
{
	uint8_t key[BGP_RIB_KEY_MAX];

	fp_key(r, key);
	bgp_rib_local_del(w.rib, BGP_AID_L2VPN_EVPN, key);
}

START_TEST(test_peer_up_dump_then_eor)
{
	struct fp_conn *ca;
	struct fp_update *u = xcalloc(1, sizeof(*u));
	bool seen[3] = { false, false, false };
	size_t nupd = 0;

	for (unsigned i = 0; i < 3; i++) {
		struct evpn_route r = fp_route_n(i);

		local_add(&r, "65000:100");
	}
	fp_run(&w);
	ca = fp_establish(&w, A, &ra);
	/* End-of-RIB must wait for the table (RFC 4724 §2). */
	ck_assert_uint_eq(fp_count_msgs(ca, BGP_MSG_UPDATE), 0);
	fp_run(&w);
	while (fp_next_update(ca, false, u)) {
		nupd++;
		if (u->eor) {
			ck_assert_int_eq(u->eor_aid, BGP_AID_L2VPN_EVPN);
			fp_update_clear(u);
			break;
		}
		for (size_t i = 0; i < u->nreach; i++)
			for (unsigned k = 0; k < 3; k++) {
				struct evpn_route r = fp_route_n(k);

				if (route_eq(&u->reach[i], &r))
					seen[k] = true;
			}
		ck_assert_uint_eq(u->attrs.local_pref, 100);
		fp_update_clear(u);
	}
	ck_assert(seen[0] && seen[1] && seen[2]);
	ck_assert_uint_eq(nupd, 2);		/* one UPDATE, then EoR */
	ck_assert_uint_eq(ca->seen, ca->out.len);	/* EoR was last */
	ck_assert_uint_eq(fp_peer_info(&w, A).stats.pfx_sent, 3);
	free(u);
}
END_TEST

/* evpn_create() registers the l2vpn evpn row after bgp_create() set the
 * peers up (the daemon's order): the OPEN, built as it goes out, still
 * offers the family.  (Each test runs in a fresh fork in which the row
 * was not registered before fp_world_start.) */
START_TEST(test_open_offers_family_registered_later)
{
	struct bgp_peer *peer = fp_peer(&w, A);
	struct fp_conn *c;
	struct bgp_open o;
	struct bgp_notify err;
	const uint8_t *msg;
	size_t len;

	ck_assert_int_eq(peer->state, BGP_ST_CONNECT);
	c = fp_conn_of(peer);
	bgp_fsm_conn_event(c->conn, BGP_EV_CONN_OPEN, NULL);
	ck_assert(fp_next_msg(c, &msg, &len));
	ck_assert_uint_eq(msg[18], BGP_MSG_OPEN);
	ck_assert_int_eq(bgp_open_decode(msg + BGP_HDR_LEN, len - BGP_HDR_LEN,
	    &o, &err), 0);
	ck_assert(o.caps.mp[BGP_AID_L2VPN_EVPN]);
	ck_assert(!o.caps.mp[BGP_AID_IPV4_UNICAST]);
}
END_TEST

START_TEST(test_peer_up_empty_table_eor)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	struct fp_update *u = xcalloc(1, sizeof(*u));

	fp_run(&w);
	ck_assert(fp_next_update(ca, false, u));
	ck_assert(u->eor);
	fp_update_clear(u);
	ck_assert(!fp_next_update(ca, false, u));
	free(u);
}
END_TEST

static void
announce_many(struct fp_conn *c, unsigned first, unsigned n)
{
	struct evpn_route *r = xcalloc(100, sizeof(*r));
	struct bgp_attrs a;

	fp_attrs_vtep(&a, "10.0.0.100", "65000:100");
	for (unsigned i = 0; i < n; i += 100) {
		unsigned k = n - i < 100 ? n - i : 100;

		for (unsigned j = 0; j < k; j++)
			r[j] = fp_route_n(first + i + j);
		fp_announce(c, &a, r, k);
	}
	bgp_attrs_clear(&a);
	free(r);
}

START_TEST(test_peer_down_flushes)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	struct fp_conn *cc = fp_establish(&w, C, &rc);
	struct fp_update *u = xcalloc(1, sizeof(*u));
	size_t withdrawn = 0;

	fp_run(&w);
	announce_many(ca, 0, 10);
	fp_run(&w);
	ck_assert_uint_eq(fp_peer_info(&w, A).stats.pfx_rcvd, 10);
	ck_assert_uint_eq(fp_peer_info(&w, C).stats.pfx_sent, 10);
	fp_skip(cc);

	bgp_fsm_conn_event(ca->conn, BGP_EV_CONN_CLOSED, "test");
	ck_assert_int_ne(fp_peer(&w, A)->state, BGP_ST_ESTABLISHED);
	/* The paths go in a walk from the event loop, not inline. */
	ck_assert_uint_eq(bgp_rib_count(w.rib, BGP_AID_L2VPN_EVPN), 10);
	fp_run(&w);
	ck_assert_uint_eq(bgp_rib_count(w.rib, BGP_AID_L2VPN_EVPN), 0);
	ck_assert_uint_eq(bgp_rib_path_count(w.rib), 0);
	while (fp_next_update(cc, false, u)) {
		ck_assert_uint_eq(u->nreach, 0);
		withdrawn += u->nunreach;
		fp_update_clear(u);
	}
	ck_assert_uint_eq(withdrawn, 10);
	ck_assert_uint_eq(fp_peer_info(&w, C).stats.pfx_sent, 0);
	ck_assert_uint_eq(fp_peer_info(&w, A).stats.pfx_rcvd, 0);
	free(u);
}
END_TEST

/* A big flush must yield to the event loop between slices, so timers
 * and sockets keep being served: one loop pass must not do it all. */
START_TEST(test_peer_down_flush_is_sliced)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	size_t n = 3 * 4096, left;

	fp_run(&w);
	announce_many(ca, 0, (unsigned)n);
	fp_run(&w);
	ck_assert_uint_eq(bgp_rib_count(w.rib, BGP_AID_L2VPN_EVPN), n);
	bgp_fsm_conn_event(ca->conn, BGP_EV_CONN_CLOSED, "test");
	/* One turn of the loop (EVLOOP_NONBLOCK would keep turning while
	 * zero timeouts are due). */
	event_base_loop(w.base, EVLOOP_ONCE);
	left = bgp_rib_count(w.rib, BGP_AID_L2VPN_EVPN);
	ck_assert_msg(left > 0 && left < n,
	    "one loop pass left %zu of %zu routes", left, n);
	fp_run(&w);
	ck_assert_uint_eq(bgp_rib_count(w.rib, BGP_AID_L2VPN_EVPN), 0);
}
END_TEST

/* ---- packing ---------------------------------------------------------- */

struct sent_stats {
	size_t		 msgs;
	size_t		 routes;
	size_t		 max_len;
	size_t		 overhead;	/* message bytes that are not NLRI */
	size_t		 nlri_len;	/* of one route */
	bool		 all_full;	/* each but the last had no room left */
	uint32_t	 rts[16];
	size_t		 nrts;
};

static uint32_t
rt_value(const struct bgp_attrs *a)
{
	size_t it = 0;
	struct rt t;

	ck_assert_int_eq(bgp_rt_next(a, &it, &t), 0);
	return be32_load(t.b + 4);
}

static void
collect_sent(struct fp_conn *c, bool withdraw, struct sent_stats *s)
{
	struct fp_update *u = xcalloc(1, sizeof(*u));
	size_t prev_len = 0;

	memset(s, 0, sizeof(*s));
	s->all_full = true;
	while (fp_next_update(c, false, u)) {
		size_t n = withdraw ? u->nunreach : u->nreach;

		ck_assert(!u->eor);
		ck_assert_uint_gt(n, 0);
		if (withdraw) {
			ck_assert_uint_eq(u->nreach, 0);
			ck_assert_uint_eq(u->attrs.flags, 0);
		} else {
			ck_assert_uint_eq(u->nunreach, 0);
			if (s->nrts < 16)
				s->rts[s->nrts++] = rt_value(&u->attrs);
			s->nlri_len = u->reach_bytes / n;
			s->overhead = u->len - u->reach_bytes;
		}
		/* The previous message could not have taken this one's
		 * first route. */
		if (s->msgs > 0 && prev_len + evpn_nlri_len(withdraw ?
		    &u->unreach[0] : &u->reach[0]) <= BGP_MAX_MSG_LEN)
			s->all_full = false;
		prev_len = u->len;
		s->msgs++;
		s->routes += n;
		if (u->len > s->max_len)
			s->max_len = u->len;
		fp_update_clear(u);
	}
	free(u);
}

START_TEST(test_packing_one_attribute_set)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	struct sent_stats s;
	size_t per_msg, want;

	fp_run(&w);
	fp_skip(ca);
	for (unsigned i = 0; i < 500; i++) {
		struct evpn_route r = fp_route_n(i);

		local_add(&r, "65000:100");
	}
	fp_run(&w);
	collect_sent(ca, false, &s);
	ck_assert_uint_eq(s.routes, 500);
	ck_assert_uint_le(s.max_len, BGP_MAX_MSG_LEN);
	ck_assert_uint_eq(s.nlri_len, 35);	/* MAC-only type 2 */
	per_msg = (BGP_MAX_MSG_LEN - s.overhead) / s.nlri_len;
	want = (500 + per_msg - 1) / per_msg;
	printf("packing: 500 routes in %zu UPDATEs (minimum %zu, %zu per "
	    "message, %zu bytes overhead)\n", s.msgs, want, per_msg,
	    s.overhead);
	ck_assert_uint_eq(s.msgs, want);
	ck_assert_uint_eq(fp_peer_info(&w, A).stats.pfx_sent, 500);
}
END_TEST

/* Minimum count for any route count: every UPDATE but the last is full. */
START_TEST(test_packing_fills_messages)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	struct sent_stats s;

	fp_run(&w);
	fp_skip(ca);
	for (unsigned i = 0; i < 575; i++) {
		struct evpn_route r = fp_route_n(i);

		local_add(&r, "65000:100");
	}
	fp_run(&w);
	collect_sent(ca, false, &s);
	ck_assert_uint_eq(s.routes, 575);
	ck_assert_msg(s.all_full, "an UPDATE left room for another route "
	    "(%zu UPDATEs for 575 routes)", s.msgs);
}
END_TEST

START_TEST(test_packing_two_attribute_sets)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	struct sent_stats s;

	fp_run(&w);
	fp_skip(ca);
	for (unsigned i = 0; i < 20; i++) {
		struct evpn_route r = fp_route_n(i);

		local_add(&r, i % 2 ? "65000:200" : "65000:100");
	}
	fp_run(&w);
	collect_sent(ca, false, &s);
	ck_assert_uint_eq(s.routes, 20);
	ck_assert_uint_eq(s.msgs, 2);
	ck_assert_uint_ne(s.rts[0], s.rts[1]);
	ck_assert(s.rts[0] == 100 || s.rts[0] == 200);
	ck_assert(s.rts[1] == 100 || s.rts[1] == 200);
}
END_TEST

START_TEST(test_withdrawals_in_mp_unreach)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	struct sent_stats s;
	size_t per_msg;

	fp_run(&w);
	for (unsigned i = 0; i < 500; i++) {
		struct evpn_route r = fp_route_n(i);

		local_add(&r, "65000:100");
	}
	fp_run(&w);
	fp_skip(ca);
	for (unsigned i = 0; i < 500; i++) {
		struct evpn_route r = fp_route_n(i);

		local_del(&r);
	}
	fp_run(&w);
	collect_sent(ca, true, &s);
	ck_assert_uint_eq(s.routes, 500);
	ck_assert_uint_le(s.max_len, BGP_MAX_MSG_LEN);
	/* header, two lengths, MP_UNREACH (extended length) AFI/SAFI */
	per_msg = (BGP_MAX_MSG_LEN - (19 + 2 + 2 + 4 + 3)) / 35;
	ck_assert_uint_eq(s.msgs, (500 + per_msg - 1) / per_msg);
	ck_assert_uint_eq(bgp_rib_count(w.rib, BGP_AID_L2VPN_EVPN), 0);
	ck_assert_uint_eq(fp_peer_info(&w, A).stats.pfx_sent, 0);
}
END_TEST

/* ---- error handling (RFC 7606) --------------------------------------- */

START_TEST(test_treat_as_withdraw)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	struct evpn_route x = fp_route_n(9);
	struct bgp_attrs a;
	struct wbuf wb;
	size_t i;

	fp_run(&w);
	announce_one(ca, &x, 100);
	fp_run(&w);
	ck_assert_ptr_nonnull(fp_lookup(&w, &x));
	fp_skip(ca);

	/* The same route with ORIGIN 7: RFC 7606 §7.1 treat-as-withdraw. */
	fp_attrs_vtep(&a, "10.0.0.100", "65000:100");
	wbuf_init(&wb, 0);
	fp_update_build(&wb, &a, &x, 1);
	bgp_attrs_clear(&a);
	for (i = BGP_HDR_LEN; i + 3 < wb.len; i++)
		if (wb.data[i] == 0x40 && wb.data[i + 1] == BGP_ATTR_ORIGIN &&
		    wb.data[i + 2] == 1 && wb.data[i + 3] == 0)
			break;
	ck_assert_uint_lt(i + 3, wb.len);
	wb.data[i + 3] = 7;
	fp_deliver(ca, wb.data, wb.len);
	wbuf_free(&wb);
	fp_run(&w);
	ck_assert_ptr_null(fp_lookup(&w, &x));
	ck_assert_int_eq(fp_peer(&w, A)->state, BGP_ST_ESTABLISHED);
	ck_assert_uint_eq(fp_count_msgs(ca, BGP_MSG_NOTIFICATION), 0);
	ck_assert_uint_eq(fp_peer_info(&w, A).stats.pfx_rcvd, 0);
}
END_TEST

START_TEST(test_malformed_nlri_resets)
{
	static const uint8_t notify_3_9[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x00, 0x15, 0x03, 0x03, 0x09,
	};
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	struct evpn_route x = fp_route_n(4);
	uint8_t bad[32] = { EVPN_RT_MACIP, 30 };	/* no type 2 is 30 */
	struct bgp_attr_enc_ctx ctx;
	struct bgp_attrs a;
	struct bgp_mp mp;
	struct wbuf wb;
	size_t start, alen;
	const uint8_t *msg;
	size_t len;

	fp_run(&w);
	announce_one(ca, &x, 100);
	fp_run(&w);
	fp_skip(ca);

	fp_attrs_vtep(&a, "10.0.0.100", "65000:100");
	memset(&mp, 0, sizeof(mp));
	memset(&ctx, 0, sizeof(ctx));
	mp.present = true;
	mp.afi = AFI_L2VPN;
	mp.safi = SAFI_EVPN;
	rbuf_init(&mp.nlri, bad, sizeof(bad));
	ctx.as4 = true;
	ctx.mp_reach = &mp;
	wbuf_init(&wb, 0);
	start = bgp_hdr_begin(&wb, BGP_MSG_UPDATE);
	wbuf_put_u16(&wb, 0);
	alen = wbuf_reserve(&wb, 2);
	bgp_attrs_encode(&wb, &a, &ctx);
	wbuf_set_u16(&wb, alen, (uint16_t)(wb.len - alen - 2));
	bgp_hdr_finish(&wb, start);
	bgp_attrs_clear(&a);
	fp_deliver(ca, wb.data, wb.len);
	wbuf_free(&wb);

	ck_assert(fp_next_msg(ca, &msg, &len));
	ck_assert_uint_eq(len, sizeof(notify_3_9));
	ck_assert_mem_eq(msg, notify_3_9, sizeof(notify_3_9));
	ck_assert(ca->closed);
	ck_assert_int_ne(fp_peer(&w, A)->state, BGP_ST_ESTABLISHED);
	fp_run(&w);
	ck_assert_ptr_null(fp_lookup(&w, &x));
}
END_TEST

/* ---- route refresh ---------------------------------------------------- */

START_TEST(test_route_refresh_resends)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	struct bgp_route_refresh rr = { AFI_L2VPN, 0, SAFI_EVPN };
	struct fp_update *u = xcalloc(1, sizeof(*u));
	struct wbuf wb;
	size_t routes = 0;

	for (unsigned i = 0; i < 3; i++) {
		struct evpn_route r = fp_route_n(i);

		local_add(&r, "65000:100");
	}
	fp_run(&w);
	fp_skip(ca);
	fp_run(&w);
	ck_assert_uint_eq(fp_count_msgs(ca, BGP_MSG_UPDATE), 0);

	wbuf_init(&wb, 0);
	bgp_rr_encode(&wb, &rr);
	fp_deliver(ca, wb.data, wb.len);
	wbuf_free(&wb);
	fp_run(&w);
	while (fp_next_update(ca, false, u)) {
		if (!u->eor) {
			ck_assert_uint_eq(u->nunreach, 0);
			routes += u->nreach;
		}
		fp_update_clear(u);
	}
	ck_assert_uint_eq(routes, 3);
	free(u);
}
END_TEST

/* A route held back in a partly filled UPDATE and then withdrawn in the
 * next slice: the announcement must reach the peer before the
 * withdrawal, or the peer keeps a route that is gone. */
START_TEST(test_withdraw_after_held_back_announce)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	struct fp_update *u = xcalloc(1, sizeof(*u));
	struct evpn_route victim = fp_route_n(500);
	bool announced = false;

	fp_run(&w);
	fp_skip(ca);
	for (unsigned i = 0; i < 600; i++) {
		struct evpn_route r = fp_route_n(i);

		local_add(&r, "65000:100");
	}
	event_base_loop(w.base, EVLOOP_ONCE);	/* one slice */
	local_del(&victim);
	fp_run(&w);
	while (fp_next_update(ca, false, u)) {
		for (size_t i = 0; i < u->nunreach; i++)
			if (route_eq(&u->unreach[i], &victim))
				announced = false;
		for (size_t i = 0; i < u->nreach; i++)
			if (route_eq(&u->reach[i], &victim))
				announced = true;
		fp_update_clear(u);
	}
	free(u);
	ck_assert_msg(!announced, "the peer is left with a withdrawn route");
}
END_TEST

/* RFC 8654 §4: a route whose attributes do not fit the peer's message
 * size (here reflected from an eBGP peer with extended messages to one
 * without) is not sent. */
START_TEST(test_route_too_big_for_peer)
{
	static const struct fp_remote rex = { 65100, "10.0.0.5", false, 0,
	    false, true, false };
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	struct fp_conn *ce = fp_establish(&w, E, &rex);
	struct evpn_route r = fp_route_n(7);
	uint32_t comms[1500], as = 65100;
	const uint8_t *m;
	size_t len;
	struct bgp_attrs a;

	fp_run(&w);
	fp_skip(ca);
	for (int i = 0; i < 1500; i++)
		comms[i] = 0xfde80000u + (uint32_t)i;
	fp_attrs_vtep(&a, "10.0.0.100", "65000:100");
	bgp_attrs_unset(&a, BGP_ATTRF_LOCAL_PREF);
	bgp_attrs_set_aspath_seq(&a, &as, 1);
	bgp_attrs_set_communities(&a, comms, 1500);
	fp_announce(ce, &a, &r, 1);
	bgp_attrs_clear(&a);
	fp_run(&w);
	ck_assert_ptr_nonnull(fp_lookup(&w, &r));
	while (fp_next_msg(ca, &m, &len))
		ck_assert_uint_le(len, BGP_MAX_MSG_LEN);
	ck_assert_uint_eq(fp_peer_info(&w, A).stats.pfx_sent, 0);
}
END_TEST

/* A peer that does not read gets nothing more until it has: the send
 * buffer stays bounded, and what it missed follows once it reads. */
START_TEST(test_backpressure_slow_reader)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	struct sent_stats st;
	size_t before;

	fp_run(&w);
	fp_skip(ca);
	ca->backlog = 8 * 1024 * 1024;		/* the peer stopped reading */
	for (unsigned i = 0; i < 300; i++) {
		struct evpn_route r = fp_route_n(i);

		local_add(&r, "65000:100");
	}
	before = ca->out.len;
	for (int i = 0; i < 20; i++)
		event_base_loop(w.base, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(ca->out.len, before);	/* nothing queued */
	ck_assert(!bgp_rib_idle(w.rib));
	ca->backlog = 0;			/* it reads again */
	{
		/* The RIB looks again after RIB_OUT_RETRY_USEC. */
		struct timeval tv = { 0, 100000 };

		event_base_loopexit(w.base, &tv);
		event_base_dispatch(w.base);
	}
	fp_run(&w);
	collect_sent(ca, false, &st);
	ck_assert_uint_eq(st.routes, 300);
}
END_TEST

/* ---- graceful restart, helper side (RFC 4724 §4.2) -------------------- */

START_TEST(test_graceful_restart_stale_then_eor)
{
	const struct fp_remote rgr = { 65000, "10.0.0.9", true, 120, true,
	    false, true };
	struct fp_conn *ca = fp_establish(&w, A, &rgr);
	struct fp_conn *cc = fp_establish(&w, C, &rc);
	struct evpn_route x = fp_route_n(1), y = fp_route_n(2);
	struct fp_update *u = xcalloc(1, sizeof(*u));

	fp_run(&w);
	announce_one(ca, &x, 100);
	announce_one(ca, &y, 100);
	fp_run(&w);
	fp_skip(cc);

	bgp_fsm_conn_event(ca->conn, BGP_EV_CONN_CLOSED, "test");
	fp_run(&w);
	ck_assert_ptr_nonnull(fp_lookup(&w, &x));
	ck_assert_ptr_nonnull(fp_lookup(&w, &y));
	ck_assert(bgp_rib_path_stale(w.rib, bgp_rib_best(fp_lookup(&w, &x))));
	ck_assert(bgp_rib_path_stale(w.rib, bgp_rib_best(fp_lookup(&w, &y))));
	expect_no_update(cc);		/* nothing withdrawn meanwhile */

	ca = fp_establish(&w, A, &rgr);
	announce_one(ca, &x, 100);
	fp_run(&w);
	ck_assert(!bgp_rib_path_stale(w.rib, bgp_rib_best(fp_lookup(&w, &x))));
	ck_assert_uint_eq(paths_of(&x), 1);
	ck_assert(bgp_rib_path_stale(w.rib, bgp_rib_best(fp_lookup(&w, &y))));
	expect_no_update(cc);		/* x unchanged for C */

	fp_send_eor(ca);
	fp_run(&w);
	ck_assert_ptr_nonnull(fp_lookup(&w, &x));
	ck_assert_ptr_null(fp_lookup(&w, &y));
	ck_assert_uint_eq(bgp_rib_path_count(w.rib), 1);
	ck_assert(fp_next_update(cc, false, u));
	ck_assert_uint_eq(u->nreach, 0);
	ck_assert_uint_eq(u->nunreach, 1);
	ck_assert(route_eq(&u->unreach[0], &y));
	fp_update_clear(u);
	ck_assert(!fp_next_update(cc, false, u));
	ck_assert_uint_eq(fp_peer_info(&w, A).stats.pfx_rcvd, 1);
	free(u);
}
END_TEST

/* RFC 4724 §4.2: back without the Forwarding State bit for the family,
 * the peer's stale routes go at once rather than at End-of-RIB. */
START_TEST(test_graceful_restart_no_forwarding_bit)
{
	const struct fp_remote rgr = { 65000, "10.0.0.9", true, 120, true,
	    false, false };
	struct fp_conn *ca = fp_establish(&w, A, &rgr);
	struct evpn_route x = fp_route_n(1);

	fp_run(&w);
	announce_one(ca, &x, 100);
	fp_run(&w);
	bgp_fsm_conn_event(ca->conn, BGP_EV_CONN_CLOSED, "test");
	fp_run(&w);
	ck_assert_ptr_nonnull(fp_lookup(&w, &x));
	ca = fp_establish(&w, A, &rgr);
	fp_run(&w);
	ck_assert_ptr_null(fp_lookup(&w, &x));
}
END_TEST

/* A withdrawal on the new session removes the stale path too. */
START_TEST(test_graceful_restart_withdraw_stale)
{
	const struct fp_remote rgr = { 65000, "10.0.0.9", true, 120, true,
	    false, true };
	struct fp_conn *ca = fp_establish(&w, A, &rgr);
	struct evpn_route x = fp_route_n(1), y = fp_route_n(2);

	fp_run(&w);
	announce_one(ca, &x, 100);
	announce_one(ca, &y, 100);
	fp_run(&w);
	bgp_fsm_conn_event(ca->conn, BGP_EV_CONN_CLOSED, "test");
	fp_run(&w);
	ca = fp_establish(&w, A, &rgr);
	fp_run(&w);
	fp_withdraw(ca, &y, 1);
	fp_run(&w);
	ck_assert_ptr_null(fp_lookup(&w, &y));
	ck_assert_ptr_nonnull(fp_lookup(&w, &x));	/* still stale */
}
END_TEST

/* RFC 4724 §4.2: only the families the peer listed in its capability
 * are kept; a GR capability without l2vpn evpn keeps nothing. */
START_TEST(test_graceful_restart_family_not_listed)
{
	const struct fp_remote rgr = { 65000, "10.0.0.9", true, 120, false,
	    false, false };
	struct fp_conn *ca = fp_establish(&w, A, &rgr);
	struct evpn_route x = fp_route_n(1);

	fp_run(&w);
	announce_one(ca, &x, 100);
	fp_run(&w);
	bgp_fsm_conn_event(ca->conn, BGP_EV_CONN_CLOSED, "test");
	fp_run(&w);
	ck_assert_ptr_null(fp_lookup(&w, &x));
}
END_TEST

/* A session ended by a NOTIFICATION is not a restart: no stale routes
 * (RFC 4724 §4; the RFC 8538 N bit is not negotiated). */
START_TEST(test_graceful_restart_not_after_notification)
{
	const struct fp_remote rgr = { 65000, "10.0.0.9", true, 120, true,
	    false, false };
	static const uint8_t cease[] = { BGP_ERR_CEASE,
	    BGP_CEASE_ADMIN_SHUTDOWN };
	struct fp_conn *ca = fp_establish(&w, A, &rgr);
	struct evpn_route x = fp_route_n(1);

	fp_run(&w);
	announce_one(ca, &x, 100);
	fp_run(&w);
	bgp_fsm_message(ca->conn, BGP_MSG_NOTIFICATION, cease, sizeof(cease));
	fp_run(&w);
	ck_assert_ptr_null(fp_lookup(&w, &x));
	ck_assert_uint_eq(bgp_rib_path_count(w.rib), 0);
}
END_TEST

START_TEST(test_graceful_restart_timer_expires)
{
	const struct fp_remote rgr = { 65000, "10.0.0.9", true, 1, true,
	    false, false };
	struct fp_conn *ca = fp_establish(&w, A, &rgr);
	struct evpn_route x = fp_route_n(1);
	uint64_t until;

	fp_run(&w);
	announce_one(ca, &x, 100);
	fp_run(&w);
	bgp_fsm_conn_event(ca->conn, BGP_EV_CONN_CLOSED, "test");
	fp_run(&w);
	ck_assert_ptr_nonnull(fp_lookup(&w, &x));
	/* The restart timer is a real libevent timer: 1 s. */
	until = mono_msec() + 1500;
	while (mono_msec() < until && fp_lookup(&w, &x) != NULL) {
		struct timeval tv = { 0, 20000 };

		event_base_loopexit(w.base, &tv);
		event_base_dispatch(w.base);
	}
	fp_run(&w);
	ck_assert_ptr_null(fp_lookup(&w, &x));
	ck_assert_uint_eq(bgp_rib_path_count(w.rib), 0);
}
END_TEST

/* ---- peer slots ------------------------------------------------------- */

static void
put_text(struct wbuf *wb, const char *text)
{
	wbuf_put_bytes(wb, text, strlen(text));
}

static void
slot_peer_addr(unsigned i, char *buf, size_t len)
{
	snprintf(buf, len, "10.1.%u.%u", i / 200, 1 + i % 200);
}

/* One more neighbor than the RIB has peer slots: the last session to come
 * up is refused with Cease/Out of Resources (RFC 4486) while the others
 * stay up, and it gets in once a slot is free again. */
START_TEST(test_peer_slots_exhausted)
{
	static const uint8_t cease_resources[] = {
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0x00, 0x15, 0x03, 0x06, 0x08 };
	static const uint8_t cease_admin[] = {
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0x00, 0x15, 0x03, 0x06, 0x02 };
	const unsigned npeers = RIB_MAX_SLOTS;	/* slot 0 is local */
	struct wbuf conf;
	struct fp_remote r = { 65000, NULL, false, 0, false, false, false };
	struct fp_conn *first = NULL, *last;
	struct bgp_peer *refused;
	char addr[IPADDR_STRLEN], line[96];
	const uint8_t *msg;
	size_t len;

	wbuf_init(&conf, 0);
	put_text(&conf, "router bgp 65000\n bgp router-id 10.0.0.11\n");
	for (unsigned i = 0; i < npeers; i++) {
		slot_peer_addr(i, addr, sizeof(addr));
		snprintf(line, sizeof(line), " neighbor %s remote-as 65000\n",
		    addr);
		put_text(&conf, line);
	}
	put_text(&conf, " address-family l2vpn evpn\n");
	for (unsigned i = 0; i < npeers; i++) {
		slot_peer_addr(i, addr, sizeof(addr));
		snprintf(line, sizeof(line), "  neighbor %s activate\n", addr);
		put_text(&conf, line);
	}
	put_text(&conf, " exit-address-family\nexit\n");
	wbuf_put_u8(&conf, 0);
	ck_assert_int_eq(conf.error, 0);
	fp_world_free(&w);
	fp_reset();
	fp_world_start(&w, (const char *)conf.data);
	wbuf_free(&conf);

	for (unsigned i = 0; i + 1 < npeers; i++) {
		slot_peer_addr(i, addr, sizeof(addr));
		r.id = addr;
		if (first == NULL)
			first = fp_establish(&w, addr, &r);
		else
			fp_establish(&w, addr, &r);
	}
	fp_run(&w);
	ck_assert_uint_eq(bgp_peer_established_count(w.bgp), npeers - 1);

	/* The last one: refused, not fatal. */
	slot_peer_addr(npeers - 1, addr, sizeof(addr));
	r.id = addr;
	refused = fp_peer(&w, addr);
	last = fp_open_confirm(&w, addr, &r);
	fp_skip(last);
	fp_keepalive(last);
	ck_assert(fp_next_msg(last, &msg, &len));
	ck_assert_uint_eq(len, sizeof(cease_resources));
	ck_assert_mem_eq(msg, cease_resources, len);
	ck_assert(last->closed);
	ck_assert_int_eq(refused->state, BGP_ST_IDLE);
	ck_assert_str_eq(fp_peer_info(&w, addr).last_reset,
	    "Notification sent (Cease/Out of Resources)");
	fp_run(&w);
	ck_assert_uint_eq(bgp_peer_established_count(w.bgp), npeers - 1);

	/* A peer leaves; after IdleHold the refused one gets its slot. */
	fp_deliver(first, cease_admin, sizeof(cease_admin));
	fp_run(&w);
	ck_assert_uint_eq(bgp_peer_established_count(w.bgp), npeers - 2);
	last = fp_establish(&w, addr, &r);
	fp_run(&w);
	ck_assert_int_eq(refused->state, BGP_ST_ESTABLISHED);
	ck_assert_uint_eq(fp_count_msgs(last, BGP_MSG_UPDATE), 1);	/* EoR */
}
END_TEST

/* ---- memory ----------------------------------------------------------- */

/* ---- sliced scans for the API's views ---------------------------- */

struct scan_seen {
	const struct bgp_rib_entry **orig;	/* sorted */
	unsigned	*hits;
	size_t		 n;
	size_t		 visited;
};

static int
entry_ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(const void *const *)a;
	uintptr_t y = (uintptr_t)*(const void *const *)b;

	return x < y ? -1 : x > y;
}

static void
scan_one(const struct bgp_rib_entry *e, void *arg)
{
	struct scan_seen *ss = arg;
	const struct bgp_rib_entry **hit = bsearch(&e, ss->orig, ss->n,
	    sizeof(*ss->orig), entry_ptr_cmp);

	ss->visited++;
	if (hit != NULL)
		ss->hits[hit - ss->orig]++;
}

/*
 * A scan in slices sees every entry present all along exactly once,
 * though the table doubles three times between two slices.
 */
START_TEST(test_scan_survives_growth)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	struct scan_seen ss = { 0 };
	uint64_t cursor = 0;
	unsigned slices = 0;

	fp_run(&w);
	announce_many(ca, 0, 1000);
	fp_run(&w);
	ss.n = 1000;
	ss.orig = xcalloc(ss.n, sizeof(*ss.orig));
	ss.hits = xcalloc(ss.n, sizeof(*ss.hits));
	for (unsigned i = 0; i < ss.n; i++) {
		struct evpn_route r = fp_route_n(i);

		ss.orig[i] = fp_lookup(&w, &r);
		ck_assert_ptr_nonnull(ss.orig[i]);
	}
	qsort(ss.orig, ss.n, sizeof(*ss.orig), entry_ptr_cmp);
	do {
		cursor = bgp_rib_scan(w.rib, BGP_AID_L2VPN_EVPN, cursor, 64,
		    scan_one, &ss);
		if (++slices == 3) {
			announce_many(ca, 1000, 7000);
			fp_run(&w);
		}
	} while (cursor != 0);
	ck_assert_uint_gt(slices, 10);
	for (size_t i = 0; i < ss.n; i++)
		ck_assert_uint_eq(ss.hits[i], 1);
	/* Added meanwhile: some seen, none twice beyond the total. */
	ck_assert_uint_le(ss.visited, 8000);
	ck_assert_uint_eq(bgp_rib_scan(w.rib, BGP_AID_IPV4_UNICAST, 0, 10,
	    scan_one, &ss), 0);
	free(ss.orig);
	free(ss.hits);
}
END_TEST

START_TEST(test_memory_per_route)
{
	struct fp_conn *ca = fp_establish(&w, A, &ra);
	const unsigned n = 100000;
	size_t bytes;

	fp_run(&w);
	announce_many(ca, 0, n);
	fp_run(&w);
	ck_assert_uint_eq(bgp_rib_count(w.rib, BGP_AID_L2VPN_EVPN), n);
	ck_assert_uint_eq(bgp_attrs_intern_count(), 1);
	bytes = bgp_rib_memory(w.rib);
	printf("memory: %zu bytes for %u routes = %.1f bytes/route\n",
	    bytes, n, (double)bytes / n);
	ck_assert_uint_lt(bytes / n, 110);
}
END_TEST

static Suite *
rib_suite(void)
{
	Suite *s = suite_create("rib");
	TCase *tc = tcase_create("rib");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_add_replace_withdraw);
	tcase_add_test(tc, test_scan_survives_growth);
	tcase_add_test(tc, test_best_path_steps);
	tcase_add_test(tc, test_best_path_fallback);
	tcase_add_test(tc, test_ibgp_reflection);
	tcase_add_test(tc, test_reflection_client_per_family);
	tcase_add_test(tc, test_reflection_loop_dropped);
	tcase_add_test(tc, test_peer_up_dump_then_eor);
	tcase_add_test(tc, test_peer_up_empty_table_eor);
	tcase_add_test(tc, test_open_offers_family_registered_later);
	tcase_add_test(tc, test_peer_down_flushes);
	tcase_add_test(tc, test_peer_down_flush_is_sliced);
	tcase_add_test(tc, test_packing_one_attribute_set);
	tcase_add_test(tc, test_packing_fills_messages);
	tcase_add_test(tc, test_packing_two_attribute_sets);
	tcase_add_test(tc, test_withdrawals_in_mp_unreach);
	tcase_add_test(tc, test_treat_as_withdraw);
	tcase_add_test(tc, test_malformed_nlri_resets);
	tcase_add_test(tc, test_route_refresh_resends);
	tcase_add_test(tc, test_withdraw_after_held_back_announce);
	tcase_add_test(tc, test_backpressure_slow_reader);
	tcase_add_test(tc, test_route_too_big_for_peer);
	tcase_add_test(tc, test_graceful_restart_stale_then_eor);
	tcase_add_test(tc, test_graceful_restart_no_forwarding_bit);
	tcase_add_test(tc, test_graceful_restart_withdraw_stale);
	tcase_add_test(tc, test_graceful_restart_family_not_listed);
	tcase_add_test(tc, test_graceful_restart_timer_expires);
	tcase_add_test(tc, test_graceful_restart_not_after_notification);
	tcase_add_test(tc, test_peer_slots_exhausted);
	tcase_add_test(tc, test_memory_per_route);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(rib_suite());
	int failed;

	log_init("test_rib", LOG_DEST_STDOUT, NULL,
	    getenv("TEST_VERBOSE") ? LOG_DEBUG : LOG_ERR);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
