/*
 * The EVPN module on the real RIB and FSM (fake transport, fake_peer.h):
 * what evpnd originates for a configuration, byte for byte after
 * decoding; import by route target; MAC mobility and duplicate address
 * detection; reloads; and the JSON views the API serves.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "bgpd/bgp_msg.h"
#include "common/log.h"
#include "common/util.h"
#include "evpn/evpn_int.h"
#include "ipam/fabric.h"
#include "ipam/ipam.h"
#include "tests/unit/fake_datastore.h"
#include "tests/unit/fake_peer.h"
#include "tests/unit/fixture.h"

#define RR	"10.0.0.1"
#define RR2	"10.0.0.3"

/* The example of the EVPN issue. */
#define ISSUE_VXLAN \
    "vxlan vx100\n" \
    " vni 100\n" \
    " bridge br100\n" \
    " local-tunnel-ip 10.0.0.11\n" \
    " static-mac 02:00:00:00:00:05 ip 10.10.0.5\n" \
    " static-mac 02:00:00:00:00:06 sticky\n" \
    "%s" \
    "!\n" \
    "vxlan vx5000\n" \
    " vni 5000\n" \
    " bridge br5000\n" \
    " local-tunnel-ip 10.0.0.11\n" \
    "!\n" \
    "vrf tenant-a\n" \
    " vni 5000\n" \
    " table 1000\n" \
    "!\n"
#define ISSUE_BGP \
    "router bgp 65000\n" \
    " bgp router-id 10.0.0.11\n" \
    " neighbor 10.0.0.1 remote-as 65000\n" \
    " neighbor 10.0.0.3 remote-as 65000\n" \
    " address-family l2vpn evpn\n" \
    "  neighbor 10.0.0.1 activate\n" \
    "  neighbor 10.0.0.3 activate\n" \
    "  advertise-all-vni\n" \
    "%s" \
    "  vni 100\n" \
    "   rd 10.0.0.11:100\n" \
    "   route-target import 65000:100\n" \
    "   route-target export 65000:100\n" \
    "  exit-vni\n" \
    " exit-address-family\n" \
    "exit\n" \
    "!\n" \
    "router bgp 65000 vrf tenant-a\n" \
    " address-family ipv4 unicast\n" \
    "  network 10.20.0.0/24\n" \
    " exit-address-family\n" \
    " address-family l2vpn evpn\n" \
    "  advertise ipv4 unicast\n" \
    " exit-address-family\n" \
    "exit\n"

/* Two L2 VNIs, everything derived. */
static const char derived_conf[] =
    "vxlan vx100\n vni 100\n local-tunnel-ip 10.0.0.11\n!\n"
    "vxlan vx200\n vni 200\n local-tunnel-ip 10.0.0.11\n!\n"
    "router bgp 65000\n"
    " bgp router-id 10.0.0.11\n"
    " neighbor 10.0.0.1 remote-as 65000\n"
    " address-family l2vpn evpn\n"
    "  neighbor 10.0.0.1 activate\n"
    "  advertise-all-vni\n"
    " exit-address-family\n"
    "exit\n";

static const struct fp_remote rr1 = { 65000, "10.0.0.1", false, 0, false,
    false, false };
static const struct fp_remote rr2 = { 65000, "10.0.0.3", false, 0, false,
    false, false };

static struct fp_world w;
static char confbuf[8192];

static const char *
issue_conf(const char *vxlan_extra, const char *evpn_extra)
{
	char fmt[sizeof(confbuf)];

	snprintf(fmt, sizeof(fmt), "%s%s", ISSUE_VXLAN, ISSUE_BGP);
	snprintf(confbuf, sizeof(confbuf), fmt, vxlan_extra, evpn_extra);
	return confbuf;
}

static json_t *last_mac_json;

static void
teardown(void)
{
	json_decref(last_mac_json);
	last_mac_json = NULL;
	if (w.bgp != NULL)
		fp_world_free(&w);
	fp_reset();
}

/* ---- helpers ---------------------------------------------------------- */

static char *
ecomms_str(const struct bgp_attrs *a)
{
	static char buf[256];

	return (char *)bgp_ecomms_fmt(a, buf, sizeof(buf));
}

/* Order-insensitive: every expected community present, no others. */
static void
expect_ecomms(const struct bgp_attrs *a, const char *const *want, size_t n)
{
	char buf[BGP_ECOMM_STRLEN];

	ck_assert_msg(bgp_ecomm_count(a) == n, "communities %s, want %zu",
	    ecomms_str(a), n);
	for (size_t i = 0; i < n; i++) {
		bool found = false;

		for (size_t k = 0; k < bgp_ecomm_count(a); k++)
			if (strcmp(bgp_ecomm_fmt(bgp_ecomm_at(a, k), buf,
			    sizeof(buf)), want[i]) == 0)
				found = true;
		ck_assert_msg(found, "%s missing from %s", want[i],
		    ecomms_str(a));
	}
}

static void
expect_common_attrs(const struct bgp_attrs *a)
{
	struct ipaddr nh;
	char buf[IPADDR_STRLEN];

	ck_assert(a->flags & BGP_ATTRF_ORIGIN);
	ck_assert_uint_eq(a->origin, BGP_ORIGIN_IGP);
	ck_assert(a->flags & BGP_ATTRF_AS_PATH);
	ck_assert_uint_eq(bgp_aspath_length(a), 0);
	ck_assert(a->flags & BGP_ATTRF_LOCAL_PREF);
	ck_assert_uint_eq(a->local_pref, 100);
	ck_assert_uint_eq(a->mp_nexthop_len, 4);
	bgp_attrs_get_mp_nexthop(a, &nh);
	ck_assert_str_eq(ipaddr_fmt(&nh, buf, sizeof(buf)), "10.0.0.11");
	ck_assert(!(a->flags & BGP_ATTRF_MED));
}

static const char *
route_rd(const struct evpn_route *r)
{
	static char buf[RD_STRLEN];

	return rd_fmt(&r->rd, buf, sizeof(buf));
}

static const char *
route_prefix(const struct evpn_route *r)
{
	static char buf[EVPN_PREFIX_STRLEN];

	return evpn_route_prefix_fmt(r, buf, sizeof(buf));
}

/* Everything sent since the last skip, as (route, attrs) rows. */
#define MAX_ROWS	32
struct sent_row {
	struct evpn_route route;
	struct bgp_attrs attrs;		/* scratch copy */
	bool		 withdraw;
};
struct sent {
	struct sent_row	 rows[MAX_ROWS];
	size_t		 n;
	size_t		 updates;	/* UPDATE messages, End-of-RIB excluded */
	bool		 eor;
};

static void
sent_collect(struct fp_conn *c, struct sent *s)
{
	struct fp_update *u = xcalloc(1, sizeof(*u));

	memset(s, 0, sizeof(*s));
	while (fp_next_update(c, false, u)) {
		if (u->eor) {
			s->eor = true;
			fp_update_clear(u);
			continue;
		}
		ck_assert_msg(!s->eor, "UPDATE after End-of-RIB");
		s->updates++;
		for (size_t i = 0; i < u->nreach + u->nunreach; i++) {
			struct sent_row *row = &s->rows[s->n++];
			bool wd = i >= u->nreach;

			ck_assert_uint_le(s->n, MAX_ROWS);
			row->route = wd ? u->unreach[i - u->nreach] :
			    u->reach[i];
			row->withdraw = wd;
			bgp_attrs_copy(&row->attrs, &u->attrs);
		}
		fp_update_clear(u);
	}
	free(u);
}

static void
sent_free(struct sent *s)
{
	for (size_t i = 0; i < s->n; i++)
		bgp_attrs_clear(&s->rows[i].attrs);
	s->n = 0;
}

static struct sent_row *
sent_find(struct sent *s, const char *prefix, bool withdraw)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(route_prefix(&s->rows[i].route), prefix) == 0 &&
		    s->rows[i].withdraw == withdraw)
			return &s->rows[i];
	ck_assert_msg(0, "%s %s not sent", withdraw ? "withdrawal of" :
	    "announcement of", prefix);
	return NULL;
}

static void
mobility_of(const struct bgp_attrs *a, bool *present, uint32_t *seq,
    bool *sticky)
{
	*present = evpn_path_mobility(a, seq, sticky);
}

static struct fp_conn *
start_issue(const char *vxlan_extra, const char *evpn_extra)
{
	struct fp_conn *c;

	fp_world_start(&w, issue_conf(vxlan_extra, evpn_extra));
	c = fp_establish(&w, RR, &rr1);
	fp_run(&w);
	return c;
}

/* A remote VTEP's type 2 for MAC, reflected by RR. */
static void
remote_mac(struct fp_conn *c, const char *rd, const char *mac,
    const char *vtep, const char *rt, int seq, bool sticky)
{
	struct evpn_route r = fp_macip(rd, mac, NULL, 100);

	fp_announce_reflected(c, &r, vtep, rt, seq, sticky);
}

static json_t *
json_route(json_t *routes, const char *prefix, const char *peer)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(routes, "routes"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "prefix")),
		    prefix) == 0 && (peer == NULL || strcmp(json_string_value(
		    json_object_get(r, "peer")), peer) == 0))
			return r;
	return NULL;
}

static const char *
jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	ck_assert_msg(json_is_string(v), "%s is not a string", k);
	return json_string_value(v);
}

static json_int_t
jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	ck_assert_msg(json_is_integer(v), "%s is not an integer", k);
	return json_integer_value(v);
}

/* Routes "show bgp l2vpn evpn" lists for type (0: all) and VNI (0:
 * all). */
static json_int_t
routes_total(int type, uint32_t vni)
{
	json_t *all = evpn_routes_json(w.evpn, type, vni);
	json_int_t n = jint(all, "total");

	json_decref(all);
	return n;
}

/* ---- origination ------------------------------------------------------ */

#define P_T3	"[3]:[0]:[32]:[10.0.0.11]"
#define P_MAC5	"[2]:[0]:[48]:[02:00:00:00:00:05]:[32]:[10.10.0.5]"
#define P_MAC6	"[2]:[0]:[48]:[02:00:00:00:00:06]"
#define P_T5	"[5]:[0]:[24]:[10.20.0.0]"

START_TEST(test_origination_issue_config)
{
	static const char *const ec_l2[] = { "RT:65000:100", "ET:8" };
	struct fp_conn *c;
	struct sent s;
	struct sent_row *r;
	bool mm;
	uint32_t seq;
	bool sticky;
	char buf[64];
	size_t n3 = 0, it = 0;
	uint8_t ec[BGP_ECOMM_LEN];
	struct rt t;

	fp_world_start(&w, issue_conf("", ""));
	c = fp_establish(&w, RR, &rr1);
	fp_run(&w);
	sent_collect(c, &s);
	ck_assert(s.eor);
	ck_assert_uint_eq(s.n, 4);
	for (size_t i = 0; i < s.n; i++) {
		ck_assert(!s.rows[i].withdraw);
		expect_common_attrs(&s.rows[i].attrs);
		ck_assert_uint_eq(s.rows[i].route.eth_tag, 0);
		if (s.rows[i].route.type == EVPN_RT_IMET)
			n3++;
	}
	ck_assert_uint_eq(n3, 1);		/* none for L3 VNI 5000 */

	/* Type 3: PMSI ingress replication, label = VNI, our VTEP. */
	r = sent_find(&s, P_T3, false);
	ck_assert_str_eq(route_rd(&r->route), "10.0.0.11:100");
	ck_assert_uint_eq(r->route.nlabels, 0);
	expect_ecomms(&r->attrs, ec_l2, 2);
	ck_assert(r->attrs.flags & BGP_ATTRF_PMSI);
	ck_assert_uint_eq(r->attrs.pmsi_flags, 0);
	ck_assert_uint_eq(r->attrs.pmsi_type, 6);
	ck_assert_uint_eq(r->attrs.pmsi_label, 100);
	ck_assert_uint_eq(r->attrs.pmsi_id->len, 4);
	ck_assert_mem_eq(r->attrs.pmsi_id->data, "\x0a\x00\x00\x0b", 4);

	/* Type 2 MAC+IP: label 100, no mobility community. */
	r = sent_find(&s, P_MAC5, false);
	ck_assert_str_eq(route_rd(&r->route), "10.0.0.11:100");
	ck_assert_uint_eq(r->route.nlabels, 1);
	ck_assert_uint_eq(evpn_label_get(&r->route.label[0]), 100);
	expect_ecomms(&r->attrs, ec_l2, 2);
	ck_assert(!(r->attrs.flags & BGP_ATTRF_PMSI));

	/* Type 2 sticky MAC: MAC mobility with the sticky flag, seq 0. */
	r = sent_find(&s, P_MAC6, false);
	ck_assert_uint_eq(evpn_label_get(&r->route.label[0]), 100);
	mobility_of(&r->attrs, &mm, &seq, &sticky);
	ck_assert(mm && sticky);
	ck_assert_uint_eq(seq, 0);
	ck_assert_uint_eq(bgp_ecomm_count(&r->attrs), 3);

	/* Type 5: derived RD (the first auto index), L3 VNI label, RT
	 * 65000:5000, router MAC derived from the router id. */
	r = sent_find(&s, P_T5, false);
	ck_assert_str_eq(route_rd(&r->route), "10.0.0.11:1");
	ck_assert_uint_eq(r->route.nlabels, 1);
	ck_assert_uint_eq(evpn_label_get(&r->route.label[0]), 5000);
	ck_assert_uint_eq(r->route.plen, 24);
	ck_assert_uint_eq(bgp_ecomm_count(&r->attrs), 3);
	ck_assert_int_eq(bgp_ecomm_find(&r->attrs, BGP_ECOMM_T_OPAQUE,
	    BGP_ECOMM_ST_ENCAP, &it, ec), 0);
	ck_assert_str_eq(bgp_ecomm_fmt(ec, buf, sizeof(buf)), "ET:8");
	it = 0;
	ck_assert_int_eq(bgp_ecomm_find(&r->attrs, BGP_ECOMM_T_EVPN,
	    EVPN_ECOMM_ST_ROUTER_MAC, &it, ec), 0);
	ck_assert_mem_eq(ec + 2, "\x02\x00\x0a\x00\x00\x0b", 6);
	it = 0;
	ck_assert_int_eq(bgp_rt_next(&r->attrs, &it, &t), 0);
	ck_assert_str_eq(rt_fmt(&t, buf, sizeof(buf)), "65000:5000");
	sent_free(&s);
}
END_TEST

START_TEST(test_origination_json)
{
	json_t *all, *r, *rts;

	start_issue("", "");
	all = evpn_routes_json(w.evpn, 0, 0);
	ck_assert_int_eq(jint(all, "total"), 4);
	r = json_route(all, P_MAC5, "local");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(jint(r, "type"), 2);
	ck_assert_str_eq(jstr(r, "rd"), "10.0.0.11:100");
	ck_assert_int_eq(jint(r, "ethTag"), 0);
	ck_assert_str_eq(jstr(r, "mac"), "02:00:00:00:00:05");
	ck_assert_str_eq(jstr(r, "ip"), "10.10.0.5");
	ck_assert_int_eq(jint(r, "vni"), 100);
	ck_assert_str_eq(jstr(r, "nexthop"), "10.0.0.11");
	rts = json_object_get(r, "routeTargets");
	ck_assert_uint_eq(json_array_size(rts), 1);
	ck_assert_str_eq(json_string_value(json_array_get(rts, 0)), "65000:100");
	ck_assert_str_eq(jstr(r, "encap"), "vxlan");
	ck_assert(json_is_null(json_object_get(r, "routerMac")));
	ck_assert_int_eq(jint(r, "mobilitySeq"), 0);
	ck_assert(json_is_false(json_object_get(r, "sticky")));
	ck_assert(json_is_true(json_object_get(r, "best")));

	r = json_route(all, P_MAC6, "local");
	ck_assert_ptr_nonnull(r);
	ck_assert(json_is_true(json_object_get(r, "sticky")));
	ck_assert(json_is_null(json_object_get(r, "ip")));

	r = json_route(all, P_T3, "local");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(jint(r, "vni"), 100);
	ck_assert_str_eq(jstr(r, "ip"), "10.0.0.11");

	r = json_route(all, P_T5, "local");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(jstr(r, "ipPrefix"), "10.20.0.0/24");
	ck_assert_str_eq(jstr(r, "gatewayIp"), "0.0.0.0");
	ck_assert_int_eq(jint(r, "vni"), 5000);
	ck_assert_str_eq(jstr(r, "routerMac"), "02:00:0a:00:00:0b");
	json_decref(all);

	/* Filters: type and VNI. */
	ck_assert_int_eq(routes_total(2, 0), 2);
	ck_assert_int_eq(routes_total(0, 5000), 1);
	ck_assert_int_eq(routes_total(0, 100), 3);
}
END_TEST

/* FRR 8.4's own type-3 UPDATE (tests/fixtures) for leaf 10.0.0.2, VNI
 * 100, RD 10.0.0.2:2: evpnd configured the same must send the same
 * bytes (the issue: "byte for byte where FRR is the reference"). */
START_TEST(test_type3_bytes_match_frr)
{
	static const char conf[] =
	    "vxlan vx100\n vni 100\n local-tunnel-ip 10.0.0.2\n!\n"
	    "router bgp 65000\n"
	    " bgp router-id 10.0.0.2\n"
	    " neighbor 10.0.0.1 remote-as 65000\n"
	    " address-family l2vpn evpn\n"
	    "  neighbor 10.0.0.1 activate\n"
	    "  advertise-all-vni\n"
	    "  vni 100\n"
	    "   rd 10.0.0.2:2\n"
	    "  exit-vni\n"
	    " exit-address-family\n"
	    "exit\n";
	uint8_t frr[512];
	size_t n = fixture_hex("evpn_frr84_type3.hex", frr, sizeof(frr));
	struct fp_conn *c;
	const uint8_t *msg;
	size_t len;

	fp_world_start(&w, conf);
	c = fp_establish(&w, RR, &rr1);
	fp_run(&w);
	ck_assert(fp_next_msg(c, &msg, &len));
	if (getenv("TEST_VERBOSE")) {
		for (size_t i = 0; i < len; i++)
			printf("%02x", msg[i]);
		printf("\n");
	}
	ck_assert_uint_eq(len, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(msg[i] == frr[i], "byte %zu: 0x%02x, FRR sends "
		    "0x%02x", i, msg[i], frr[i]);
}
END_TEST

START_TEST(test_explicit_rd_rt)
{
	static const char conf[] =
	    "vxlan vx100\n vni 100\n local-tunnel-ip 10.0.0.11\n"
	    " static-mac 02:00:00:00:00:05\n!\n"
	    "router bgp 65000\n"
	    " bgp router-id 10.0.0.11\n"
	    " neighbor 10.0.0.1 remote-as 65000\n"
	    " address-family l2vpn evpn\n"
	    "  neighbor 10.0.0.1 activate\n"
	    "  advertise-all-vni\n"
	    "  vni 100\n"
	    "   rd 65000:7\n"
	    "   route-target import 65000:888\n"
	    "   route-target export 65000:777\n"
	    "  exit-vni\n"
	    " exit-address-family\n"
	    "exit\n";
	static const char *const ec[] = { "RT:65000:777", "ET:8" };
	struct fp_conn *c;
	struct sent s;
	json_t *v, *vni;

	fp_world_start(&w, conf);
	c = fp_establish(&w, RR, &rr1);
	fp_run(&w);
	sent_collect(c, &s);
	ck_assert_uint_eq(s.n, 2);
	for (size_t i = 0; i < s.n; i++) {
		ck_assert_str_eq(route_rd(&s.rows[i].route), "65000:7");
		expect_ecomms(&s.rows[i].attrs, ec, 2);
	}
	sent_free(&s);

	v = evpn_vni_json(w.evpn);
	vni = json_object_get(json_object_get(v, "vnis"), "100");
	ck_assert_ptr_nonnull(vni);
	ck_assert_str_eq(jstr(vni, "rd"), "65000:7");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(vni,
	    "importRts"), 0)), "65000:888");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(vni,
	    "exportRts"), 0)), "65000:777");
	json_decref(v);
}
END_TEST

START_TEST(test_derived_rd_rt)
{
	struct fp_conn *c;
	struct sent s;
	json_t *v, *vni;
	char buf[64];

	fp_world_start(&w, derived_conf);
	c = fp_establish(&w, RR, &rr1);
	fp_run(&w);
	sent_collect(c, &s);
	ck_assert_uint_eq(s.n, 2);		/* one type 3 per VNI */
	for (size_t i = 0; i < s.n; i++) {
		struct rt t;
		size_t it = 0;
		uint32_t vni_of = s.rows[i].attrs.pmsi_label;

		ck_assert_uint_eq(s.rows[i].route.type, EVPN_RT_IMET);
		ck_assert_int_eq(bgp_rt_next(&s.rows[i].attrs, &it, &t), 0);
		snprintf(buf, sizeof(buf), "65000:%u", vni_of);
		ck_assert_str_eq(rt_fmt(&t, buf + 32, 32), buf);
		ck_assert_str_eq(route_rd(&s.rows[i].route), vni_of == 100 ?
		    "10.0.0.11:1" : "10.0.0.11:2");
	}
	sent_free(&s);
	v = evpn_vni_json(w.evpn);
	ck_assert_int_eq(jint(v, "numVnis"), 2);
	vni = json_object_get(json_object_get(v, "vnis"), "200");
	ck_assert_str_eq(jstr(vni, "type"), "L2");
	ck_assert_str_eq(jstr(vni, "rd"), "10.0.0.11:2");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(vni,
	    "importRts"), 0)), "65000:200");
	json_decref(v);
}
END_TEST

/* ---- import ----------------------------------------------------------- */

static json_t *
mac_entry(uint32_t vni, const char *mac)
{
	json_t *o;

	json_decref(last_mac_json);
	last_mac_json = evpn_mac_json(w.evpn, vni);
	ck_assert_ptr_nonnull(last_mac_json);
	o = json_object_get(json_object_get(last_mac_json, "macs"), mac);
	return o;
}

START_TEST(test_import_by_route_target)
{
	struct fp_conn *c;
	struct evpn_route t3 = fp_imet("10.0.0.2:1", "10.0.0.2");
	struct bgp_attrs a;
	json_t *m, *v, *vni;

	fp_world_start(&w, derived_conf);
	c = fp_establish(&w, RR, &rr1);
	fp_run(&w);
	remote_mac(c, "10.0.0.2:1", "02:00:00:00:aa:01", "10.0.0.2",
	    "65000:100", -1, false);
	remote_mac(c, "10.0.0.2:1", "02:00:00:00:aa:02", "10.0.0.2",
	    "65099:100", -1, false);	/* other AS: auto RT still imports */
	remote_mac(c, "10.0.0.2:1", "02:00:00:00:aa:03", "10.0.0.2",
	    "65000:999", -1, false);	/* no such VNI */
	fp_attrs_vtep(&a, "10.0.0.2", "65000:100");
	bgp_attrs_set_pmsi(&a, 0, 6, 100, (const uint8_t *)"\x0a\x00\x00\x02",
	    4);
	fp_announce(c, &a, &t3, 1);
	bgp_attrs_clear(&a);
	fp_run(&w);

	m = mac_entry(100, "02:00:00:00:aa:01");
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(jstr(m, "type"), "remote");
	ck_assert_str_eq(jstr(m, "remoteVtep"), "10.0.0.2");
	ck_assert_ptr_nonnull(mac_entry(100, "02:00:00:00:aa:02"));
	ck_assert_ptr_null(mac_entry(100, "02:00:00:00:aa:03"));
	ck_assert_ptr_null(mac_entry(200, "02:00:00:00:aa:01"));

	v = evpn_vni_json(w.evpn);
	vni = json_object_get(json_object_get(v, "vnis"), "100");
	ck_assert_int_eq(jint(vni, "numRemoteMacs"), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(vni, "remoteVteps")),
	    1);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(vni,
	    "remoteVteps"), 0)), "10.0.0.2");
	vni = json_object_get(json_object_get(v, "vnis"), "200");
	ck_assert_int_eq(jint(vni, "numRemoteMacs"), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(vni, "remoteVteps")),
	    0);
	json_decref(v);

	/* All routes are in the RIB; the VNI view has the imported ones. */
	ck_assert_int_eq(routes_total(2, 0), 3);
	ck_assert_int_eq(routes_total(2, 100), 2);

	/* Withdrawal leaves the VNI. */
	{
		struct evpn_route r = fp_macip("10.0.0.2:1",
		    "02:00:00:00:aa:01", NULL, 100);

		fp_withdraw(c, &r, 1);
	}
	fp_run(&w);
	ck_assert_ptr_null(mac_entry(100, "02:00:00:00:aa:01"));
	mac_entry(100, "02:00:00:00:aa:02");
}
END_TEST

/* With an explicit import RT only that exact RT imports. */
START_TEST(test_import_explicit_rt_is_exact)
{
	struct fp_conn *c = start_issue("", "");

	remote_mac(c, "10.0.0.2:1", "02:00:00:00:aa:01", "10.0.0.2",
	    "65000:100", -1, false);
	remote_mac(c, "10.0.0.2:1", "02:00:00:00:aa:02", "10.0.0.2",
	    "65099:100", -1, false);
	fp_run(&w);
	ck_assert_ptr_nonnull(mac_entry(100, "02:00:00:00:aa:01"));
	ck_assert_ptr_null(mac_entry(100, "02:00:00:00:aa:02"));
	mac_entry(100, "02:00:00:00:aa:01");
}
END_TEST

/* FRR 8.4's own UPDATEs, as captured, are imported. */
START_TEST(test_import_frr_fixtures)
{
	static const char conf[] =
	    "vxlan vx100\n vni 100\n local-tunnel-ip 10.0.0.1\n!\n"
	    "router bgp 65000\n"
	    " bgp router-id 10.0.0.1\n"
	    " neighbor 10.0.0.2 remote-as 65000\n"
	    " address-family l2vpn evpn\n"
	    "  neighbor 10.0.0.2 activate\n"
	    "  advertise-all-vni\n"
	    " exit-address-family\n"
	    "exit\n";
	const struct fp_remote leaf = { 65000, "10.0.0.2", false, 0, false,
	    false, false };
	uint8_t buf[1024];
	size_t n;
	struct fp_conn *c;
	json_t *m, *v, *vni, *ips;

	fp_world_start(&w, conf);
	c = fp_establish(&w, "10.0.0.2", &leaf);
	fp_run(&w);
	n = fixture_hex("evpn_frr84_type2.hex", buf, sizeof(buf));
	fp_deliver(c, buf, n);
	n = fixture_hex("evpn_frr84_type3.hex", buf, sizeof(buf));
	fp_deliver(c, buf, n);
	fp_run(&w);
	ck_assert_int_eq(fp_peer(&w, "10.0.0.2")->state, BGP_ST_ESTABLISHED);

	m = mac_entry(100, "02:00:00:00:00:05");
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(jstr(m, "type"), "remote");
	ck_assert_str_eq(jstr(m, "remoteVtep"), "10.0.0.2");
	ips = json_object_get(m, "ips");
	ck_assert_uint_eq(json_array_size(ips), 1);
	ck_assert_str_eq(json_string_value(json_array_get(ips, 0)),
	    "10.10.0.5");
	ck_assert_ptr_nonnull(mac_entry(100, "02:00:00:00:00:06"));
	ck_assert_ptr_nonnull(mac_entry(100, "02:00:00:00:00:07"));
	v = evpn_vni_json(w.evpn);
	vni = json_object_get(json_object_get(v, "vnis"), "100");
	ck_assert_int_eq(jint(vni, "numRemoteMacs"), 4);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(vni,
	    "remoteVteps"), 0)), "10.0.0.2");
	json_decref(v);
	ck_assert_int_eq(routes_total(0, 0), 6);	/* 5 of FRR's + our type 3 */
}
END_TEST

/* ---- IPAM conflicts in a fabric pool ---------------------------------- */

/* A remote VTEP's type 2 for MAC and IP, reflected by RR. */
static void
remote_macip(struct fp_conn *c, const char *rd, const char *mac,
    const char *ip, const char *vtep, bool withdraw)
{
	struct evpn_route r = fp_macip(rd, mac, ip, 100);

	if (withdraw)
		fp_withdraw(c, &r, 1);
	else
		fp_announce_reflected(c, &r, vtep, "65000:100", -1, false);
	fp_run(&w);
}

static const struct ipaddr *
addr_of(const char *s)
{
	static struct ipaddr a;

	ck_assert_int_eq(ipaddr_parse(s, &a), 0);
	return &a;
}

static const char *
conflict_kind(json_t *o, const char *ip)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(o, "conflicts"), i, c)
		if (strcmp(json_string_value(json_object_get(c, "ip")), ip) ==
		    0)
			return json_string_value(json_object_get(c, "kind"));
	return NULL;
}

/*
 * A fabric pool's endpoint (10.10.0.1, MAC derived from it): another
 * VTEP advertising the same MAC with another IP, or the same IP with
 * another MAC, is a conflict, not a move; in a local pool the same MAC
 * would be mobility.
 */
START_TEST(test_fabric_pool_conflicts)
{
	struct fp_conn *c = start_issue("", "");
	struct ipam_fabric_owner me = { "10.0.0.11", { 0 } };
	struct ipam_request req = { .resource = "ep1",
	    .family = IPAM_FAMILY_IPV4 };
	struct ipam_pool_spec spec;
	const struct ipam_alloc *a;
	struct ipam_fabric *fab;
	struct ipam_store *store;
	struct fake_ds *ds = fake_ds_new(w.base);
	struct ipam *ipam = ipam_new();
	struct prefix pfx;
	char dir[] = "/tmp/test_evpn_XXXXXX", err[256], buf[32];
	bool existing;
	json_t *o;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(&spec, 0, sizeof(spec));
	prefix_parse("10.10.0.0/24", &pfx, false);
	spec.name = "f";
	spec.vni = 100;
	spec.prefixes = &pfx;
	spec.nprefixes = 1;
	spec.fabric = true;
	spec.block_size = 26;
	ck_assert_int_eq(ipam_pool_add(ipam, &spec, err, sizeof(err)), 0);
	store = ipam_store_open(dir, w.base, ipam, err, sizeof(err));
	ck_assert_msg(store != NULL, "%s", err);
	fab = ipam_fabric_new(w.base, ipam, store, &fake_ds_ops, ds, &me);
	ipam_fabric_start(fab, 0);
	ipam_fabric_set_ready(fab);
	ipam_fabric_want(fab, "f", IPAM_FAMILY_IPV4);
	for (int i = 0; i < 20; i++) {
		ipam_store_flush(store);
		fake_ds_run(ds);
		event_base_loop(w.base, EVLOOP_NONBLOCK);
	}
	ck_assert_int_eq(ipam_allocate(ipam, "f", &req, &a, &existing), 0);
	ck_assert_str_eq(ipaddr_fmt(&a->ip, buf, sizeof(buf)), "10.10.0.1");
	ck_assert_str_eq(mac_fmt(&a->mac, buf, sizeof(buf)),
	    "02:00:00:00:00:01");
	evpn_set_ipam(w.evpn, ipam);

	remote_macip(c, "10.0.0.2:1", "02:00:00:00:00:01", "10.10.0.99",
	    "10.0.0.2", false);
	remote_macip(c, "10.0.0.3:1", "02:00:00:00:00:77", "10.10.0.1",
	    "10.0.0.3", false);
	o = evpn_ipam_conflicts_json(w.evpn);
	ck_assert_int_eq(jint(o, "total"), 2);
	ck_assert_str_eq(conflict_kind(o, "10.10.0.99"), "mac");
	ck_assert_str_eq(conflict_kind(o, "10.10.0.1"), "ip");
	json_decref(o);
	/* The same route from another VTEP: both at once. */
	remote_macip(c, "10.0.0.3:1", "02:00:00:00:00:77", "10.10.0.1",
	    "10.0.0.3", true);
	remote_macip(c, "10.0.0.4:1", "02:00:00:00:00:01", "10.10.0.1",
	    "10.0.0.4", false);
	o = evpn_ipam_conflicts_json(w.evpn);
	ck_assert_str_eq(conflict_kind(o, "10.10.0.1"), "ip+mac");
	json_decref(o);
	/* What a reclaim asks: which VTEPs still have routes here. */
	ck_assert_uint_eq(evpn_routes_from_vtep(w.evpn, addr_of("10.0.0.4")),
	    1);
	ck_assert_uint_eq(evpn_routes_from_vtep(w.evpn, addr_of("10.0.0.3")),
	    0);

	evpn_set_ipam(w.evpn, NULL);
	ipam_fabric_stop(fab);
	fake_ds_run(ds);
	ipam_store_close(store);
	ipam_fabric_free(fab);
	fake_ds_free(ds);
	ipam_free(ipam);
	snprintf(err, sizeof(err), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(err), 0);
}
END_TEST

/* ---- MAC mobility (RFC 7432 §15) -------------------------------------- */

/* Our announcements since the last skip: one UPDATE for MAC+IP 05,
 * returning its mobility community. */
static void
expect_readvertised(struct fp_conn *c, uint32_t want_seq)
{
	struct sent s;
	bool mm, sticky;
	uint32_t seq;
	struct sent_row *r;

	sent_collect(c, &s);
	ck_assert_uint_eq(s.n, 1);
	r = sent_find(&s, P_MAC5, false);
	mobility_of(&r->attrs, &mm, &seq, &sticky);
	ck_assert(mm);
	ck_assert(!sticky);
	ck_assert_uint_eq(seq, want_seq);
	sent_free(&s);
}

START_TEST(test_mobility_remote_seq0)
{
	struct fp_conn *c = start_issue("", "");
	json_t *r;

	fp_skip(c);
	remote_mac(c, "10.0.0.2:1", "02:00:00:00:00:05", "10.0.0.2",
	    "65000:100", -1, false);
	fp_run(&w);
	expect_readvertised(c, 1);
	r = evpn_routes_json(w.evpn, 2, 0);
	ck_assert_int_eq(jint(json_route(r, P_MAC5, "local"), "mobilitySeq"),
	    1);
	json_decref(r);
}
END_TEST

START_TEST(test_mobility_remote_seq5)
{
	struct fp_conn *c = start_issue("", "");

	fp_skip(c);
	remote_mac(c, "10.0.0.2:1", "02:00:00:00:00:05", "10.0.0.2",
	    "65000:100", 5, false);
	fp_run(&w);
	expect_readvertised(c, 6);
	/* A lower sequence from elsewhere changes nothing. */
	remote_mac(c, "10.0.0.3:1", "02:00:00:00:00:05", "10.0.0.3",
	    "65000:100", 2, false);
	fp_run(&w);
	ck_assert_uint_eq(fp_count_msgs(c, BGP_MSG_UPDATE), 0);
}
END_TEST

START_TEST(test_mobility_sticky_local_no_bump)
{
	struct fp_conn *c = start_issue("", "");
	json_t *r;

	fp_skip(c);
	remote_mac(c, "10.0.0.2:1", "02:00:00:00:00:06", "10.0.0.2",
	    "65000:100", 0, false);
	remote_mac(c, "10.0.0.2:1", "02:00:00:00:00:06", "10.0.0.2",
	    "65000:100", 9, false);
	fp_run(&w);
	ck_assert_uint_eq(fp_count_msgs(c, BGP_MSG_UPDATE), 0);
	r = evpn_routes_json(w.evpn, 2, 0);
	ck_assert_int_eq(jint(json_route(r, P_MAC6, "local"), "mobilitySeq"),
	    0);
	ck_assert(json_is_true(json_object_get(json_route(r, P_MAC6, "local"),
	    "sticky")));
	json_decref(r);
}
END_TEST

/* A MAC first learnt remotely, then configured here, starts above the
 * remote sequence. */
START_TEST(test_mobility_new_local_mac_after_remote)
{
	struct fp_conn *c = start_issue("", "");
	struct config *nc;
	char err[128];
	struct sent s;
	struct sent_row *r;
	bool mm, sticky;
	uint32_t seq;

	remote_mac(c, "10.0.0.2:1", "02:00:00:00:00:09", "10.0.0.2",
	    "65000:100", 3, false);
	fp_run(&w);
	fp_skip(c);
	nc = fp_conf(issue_conf(" static-mac 02:00:00:00:00:09\n", ""));
	ck_assert_int_eq(evpn_reconfigure(w.evpn, nc, err, sizeof(err)), 0);
	conf_free(w.conf);
	w.conf = nc;
	fp_run(&w);
	sent_collect(c, &s);
	ck_assert_uint_eq(s.n, 1);
	r = sent_find(&s, "[2]:[0]:[48]:[02:00:00:00:00:09]", false);
	mobility_of(&r->attrs, &mm, &seq, &sticky);
	ck_assert(mm);
	ck_assert_uint_eq(seq, 4);
	sent_free(&s);
}
END_TEST

static void
dad_moves(struct fp_conn *c, int n, uint32_t *last_seq)
{
	for (int i = 0; i < n; i++) {
		struct sent s;

		remote_mac(c, "10.0.0.2:1", "02:00:00:00:00:05", "10.0.0.2",
		    "65000:100", (int)*last_seq, false);
		fp_run(&w);
		sent_collect(c, &s);
		for (size_t k = 0; k < s.n; k++) {
			bool mm, sticky;

			mobility_of(&s.rows[k].attrs, &mm, last_seq, &sticky);
		}
		sent_free(&s);
	}
}

START_TEST(test_dad_five_moves)
{
	struct fp_conn *c = start_issue("", "");
	struct evpn_route r = fp_macip("10.0.0.11:100", "02:00:00:00:00:05",
	    "10.10.0.5", 100);
	struct evpn_local *l;
	uint32_t seq = 0;

	fp_skip(c);
	dad_moves(c, 4, &seq);
	ck_assert_uint_eq(seq, 4);
	ck_assert_uint_eq(w.evpn->dad_detections, 0);
	dad_moves(c, 1, &seq);
	ck_assert_uint_eq(w.evpn->dad_detections, 1);
	l = evpn_local_find(w.evpn, &r);
	ck_assert_ptr_nonnull(l);
	ck_assert(l->duplicate);
	/* Without freeze the MAC is still defended. */
	ck_assert_uint_eq(seq, 5);
}
END_TEST

START_TEST(test_dad_freeze_stops_readvertising)
{
	struct fp_conn *c = start_issue("",
	    "  dup-addr-detection max-moves 3 time 180 freeze 30\n");
	uint32_t seq = 0;

	fp_skip(c);
	dad_moves(c, 2, &seq);
	ck_assert_uint_eq(seq, 2);
	dad_moves(c, 1, &seq);
	ck_assert_uint_eq(w.evpn->dad_detections, 1);
	ck_assert_uint_eq(fp_count_msgs(c, BGP_MSG_UPDATE), 0);
	dad_moves(c, 2, &seq);
	ck_assert_uint_eq(w.evpn->dad_detections, 1);
}
END_TEST

/* DAD must be visible to the operator in the JSON (issue: "duplicate
 * address detection ... warn"; FRR shows it per MAC). */
START_TEST(test_dad_in_json)
{
	struct fp_conn *c = start_issue("", "");
	uint32_t seq = 0;
	json_t *m;

	fp_skip(c);
	dad_moves(c, 5, &seq);
	ck_assert_uint_eq(w.evpn->dad_detections, 1);
	m = mac_entry(100, "02:00:00:00:00:05");
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(json_object_get(m, "duplicate") != NULL ||
	    json_object_get(m, "isDuplicate") != NULL,
	    "no duplicate flag in the MAC JSON");
}
END_TEST

/* ---- reload ----------------------------------------------------------- */

START_TEST(test_reload_static_mac)
{
	struct fp_conn *c = start_issue("", "");
	struct config *nc;
	char err[128];
	struct sent s;

	/* Add 09: exactly its announcement. */
	fp_skip(c);
	nc = fp_conf(issue_conf(" static-mac 02:00:00:00:00:09\n", ""));
	ck_assert_int_eq(evpn_reconfigure(w.evpn, nc, err, sizeof(err)), 0);
	conf_free(w.conf);
	w.conf = nc;
	fp_run(&w);
	sent_collect(c, &s);
	ck_assert_uint_eq(s.updates, 1);
	ck_assert_uint_eq(s.n, 1);
	sent_find(&s, "[2]:[0]:[48]:[02:00:00:00:00:09]", false);
	ck_assert_str_eq(route_rd(&s.rows[0].route), "10.0.0.11:100");
	ck_assert_uint_eq(evpn_label_get(&s.rows[0].route.label[0]), 100);
	sent_free(&s);

	/* Same config again: nothing. */
	nc = fp_conf(issue_conf(" static-mac 02:00:00:00:00:09\n", ""));
	ck_assert_int_eq(evpn_reconfigure(w.evpn, nc, err, sizeof(err)), 0);
	conf_free(w.conf);
	w.conf = nc;
	fp_run(&w);
	ck_assert_uint_eq(fp_count_msgs(c, BGP_MSG_UPDATE), 0);

	/* Back to the original: exactly the withdrawal of 09. */
	nc = fp_conf(issue_conf("", ""));
	ck_assert_int_eq(evpn_reconfigure(w.evpn, nc, err, sizeof(err)), 0);
	conf_free(w.conf);
	w.conf = nc;
	fp_run(&w);
	sent_collect(c, &s);
	ck_assert_uint_eq(s.updates, 1);
	ck_assert_uint_eq(s.n, 1);
	sent_find(&s, "[2]:[0]:[48]:[02:00:00:00:00:09]", true);
	sent_free(&s);
}
END_TEST

/* A reload adding a lower VNI must not renumber the derived RD of the
 * others (that would withdraw and re-advertise all their routes). */
START_TEST(test_reload_keeps_derived_rd)
{
	static const char with_50[] =
	    "vxlan vx50\n vni 50\n local-tunnel-ip 10.0.0.11\n!\n";
	char text[2048];
	struct fp_conn *c;
	struct config *nc;
	char err[128];
	struct sent s;
	json_t *v;

	fp_world_start(&w, derived_conf);
	c = fp_establish(&w, RR, &rr1);
	fp_run(&w);
	fp_skip(c);
	snprintf(text, sizeof(text), "%s%s", with_50, derived_conf);
	nc = fp_conf(text);
	ck_assert_int_eq(evpn_reconfigure(w.evpn, nc, err, sizeof(err)), 0);
	conf_free(w.conf);
	w.conf = nc;
	fp_run(&w);
	sent_collect(c, &s);
	/* Only VNI 50's type 3, with the next free index. */
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(s.rows[0].attrs.pmsi_label, 50);
	ck_assert_str_eq(route_rd(&s.rows[0].route), "10.0.0.11:3");
	sent_free(&s);
	v = evpn_vni_json(w.evpn);
	ck_assert_str_eq(jstr(json_object_get(json_object_get(v, "vnis"),
	    "100"), "rd"), "10.0.0.11:1");
	ck_assert_str_eq(jstr(json_object_get(json_object_get(v, "vnis"),
	    "200"), "rd"), "10.0.0.11:2");
	json_decref(v);
}
END_TEST

/* ---- best path within one entry --------------------------------------- */

START_TEST(test_best_path_mobility_in_entry)
{
	struct fp_conn *c1, *c2;
	json_t *routes, *r;
	struct evpn_route m1 = fp_macip("10.0.0.2:1", "02:00:00:00:bb:01",
	    NULL, 100);
	struct evpn_route m2 = fp_macip("10.0.0.2:1", "02:00:00:00:bb:02",
	    NULL, 100);
	const struct bgp_rib_entry *e;
	char buf[IPADDR_STRLEN];

	fp_world_start(&w, issue_conf("", ""));
	c1 = fp_establish(&w, RR, &rr1);
	c2 = fp_establish(&w, RR2, &rr2);
	fp_run(&w);
	/* The same VTEP's route via two reflectors: sticky beats a higher
	 * sequence; RR (lower address, lower id) loses both times. */
	remote_mac(c1, "10.0.0.2:1", "02:00:00:00:bb:01", "10.0.0.2",
	    "65000:100", 7, false);
	remote_mac(c2, "10.0.0.2:1", "02:00:00:00:bb:01", "10.0.0.2",
	    "65000:100", 0, true);
	/* Higher sequence wins. */
	remote_mac(c1, "10.0.0.2:1", "02:00:00:00:bb:02", "10.0.0.2",
	    "65000:100", 2, false);
	remote_mac(c2, "10.0.0.2:1", "02:00:00:00:bb:02", "10.0.0.2",
	    "65000:100", 3, false);
	fp_run(&w);
	e = fp_lookup(&w, &m1);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(ipaddr_fmt(&bgp_rib_path_source(w.rib,
	    bgp_rib_best(e))->addr, buf, sizeof(buf)), RR2);
	e = fp_lookup(&w, &m2);
	ck_assert_str_eq(ipaddr_fmt(&bgp_rib_path_source(w.rib,
	    bgp_rib_best(e))->addr, buf, sizeof(buf)), RR2);

	routes = evpn_routes_json(w.evpn, 2, 100);
	r = json_route(routes, "[2]:[0]:[48]:[02:00:00:00:bb:01]", RR2);
	ck_assert_ptr_nonnull(r);
	ck_assert(json_is_true(json_object_get(r, "best")));
	r = json_route(routes, "[2]:[0]:[48]:[02:00:00:00:bb:01]", RR);
	ck_assert_ptr_nonnull(r);
	ck_assert(json_is_false(json_object_get(r, "best")));
	ck_assert_int_eq(jint(r, "mobilitySeq"), 7);
	json_decref(routes);
}
END_TEST

/* The per-VNI MAC view follows RFC 7432 §15 across VTEPs: higher
 * sequence wins, equal sequence goes to the lower VTEP address, and a
 * local MAC we re-advertised with a higher sequence is local. */
START_TEST(test_mac_view_follows_mobility_winner)
{
	struct fp_conn *c = start_issue("", "");
	json_t *m;

	remote_mac(c, "10.0.0.4:1", "02:00:00:00:cc:01", "10.0.0.4",
	    "65000:100", 3, false);
	remote_mac(c, "10.0.0.2:1", "02:00:00:00:cc:01", "10.0.0.2",
	    "65000:100", 1, false);
	remote_mac(c, "10.0.0.4:1", "02:00:00:00:cc:02", "10.0.0.4",
	    "65000:100", 2, false);
	remote_mac(c, "10.0.0.2:1", "02:00:00:00:cc:02", "10.0.0.2",
	    "65000:100", 2, false);
	fp_run(&w);
	m = mac_entry(100, "02:00:00:00:cc:01");
	ck_assert_str_eq(jstr(m, "remoteVtep"), "10.0.0.4");
	ck_assert_int_eq(jint(m, "seq"), 3);
	m = mac_entry(100, "02:00:00:00:cc:02");
	ck_assert_str_eq(jstr(m, "remoteVtep"), "10.0.0.2");
}
END_TEST

/* Our static MAC 05 re-advertised with seq 1 over the remote seq 0 is
 * local in the MAC view. */
START_TEST(test_mac_view_local_after_move)
{
	struct fp_conn *c = start_issue("", "");
	json_t *m;

	remote_mac(c, "10.0.0.2:1", "02:00:00:00:00:05", "10.0.0.2",
	    "65000:100", -1, false);
	fp_run(&w);
	m = mac_entry(100, "02:00:00:00:00:05");
	ck_assert_str_eq(jstr(m, "type"), "local");
	ck_assert_int_eq(jint(m, "seq"), 1);
}
END_TEST

static Suite *
evpn_suite(void)
{
	Suite *s = suite_create("evpn");
	TCase *tc = tcase_create("evpn");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_origination_issue_config);
	tcase_add_test(tc, test_origination_json);
	tcase_add_test(tc, test_type3_bytes_match_frr);
	tcase_add_test(tc, test_explicit_rd_rt);
	tcase_add_test(tc, test_derived_rd_rt);
	tcase_add_test(tc, test_import_by_route_target);
	tcase_add_test(tc, test_import_explicit_rt_is_exact);
	tcase_add_test(tc, test_import_frr_fixtures);
	tcase_add_test(tc, test_fabric_pool_conflicts);
	tcase_add_test(tc, test_mobility_remote_seq0);
	tcase_add_test(tc, test_mobility_remote_seq5);
	tcase_add_test(tc, test_mobility_sticky_local_no_bump);
	tcase_add_test(tc, test_mobility_new_local_mac_after_remote);
	tcase_add_test(tc, test_dad_five_moves);
	tcase_add_test(tc, test_dad_freeze_stops_readvertising);
	tcase_add_test(tc, test_dad_in_json);
	tcase_add_test(tc, test_reload_static_mac);
	tcase_add_test(tc, test_reload_keeps_derived_rd);
	tcase_add_test(tc, test_best_path_mobility_in_entry);
	tcase_add_test(tc, test_mac_view_follows_mobility_winner);
	tcase_add_test(tc, test_mac_view_local_after_move);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(evpn_suite());
	int failed;

	log_init("test_evpn", LOG_DEST_STDOUT, NULL,
	    getenv("TEST_VERBOSE") ? LOG_DEBUG : LOG_ERR);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
