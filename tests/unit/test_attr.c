/*
 * Path attributes: byte vectors for every attribute both ways, interning,
 * every RFC 7606 case with its action and NOTIFICATION, AS4 merging and
 * the old-speaker encoding, extended length, ext-community helpers and
 * the CLI formatters.  Every test ends by checking that both intern
 * tables are empty again, so a leaked reference fails the test.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgpd/bgp_attr.h"
#include "evpn/evpn_int.h"
#include "tests/unit/fixture.h"

#define B(...)	((const uint8_t[]){ __VA_ARGS__ })
#define BLEN(...) sizeof((const uint8_t[]){ __VA_ARGS__ })

struct dec_result {
	struct bgp_attrs	 a;
	struct bgp_mp		 mpr;
	struct bgp_mp		 mpu;
	struct bgp_notify	 err;
	enum bgp_attr_action	 act;
};

static struct bgp_attr_ctx
ctx_ibgp(void)
{
	struct bgp_attr_ctx c = {
		.ebgp = false, .as4 = true, .nlri_present = true,
		.local_as = 65000, .peer_as = 65000,
		.router_id = 0x0a000063, .cluster_id = 0x0a000063,
	};
	return c;
}

static struct bgp_attr_ctx
ctx_ebgp(void)
{
	struct bgp_attr_ctx c = ctx_ibgp();

	c.ebgp = true;
	c.peer_as = 65001;
	return c;
}

static void
decode(const struct bgp_attr_ctx *ctx, const uint8_t *p, size_t len,
    struct dec_result *r)
{
	struct rbuf rb;

	memset(r, 0x5a, sizeof(*r));	/* the decoder must set everything */
	bgp_attrs_init(&r->a);
	rbuf_init(&rb, p, len);
	r->act = bgp_attrs_decode(&rb, ctx, &r->a, &r->mpr, &r->mpu, &r->err);
	ck_assert_uint_eq(rbuf_left(&rb), 0);
}

#define DECODE(ctx, ...) decode((ctx), B(__VA_ARGS__), BLEN(__VA_ARGS__), &r)

static void
assert_tables_empty(void)
{
	ck_assert_uint_eq(bgp_attrs_intern_count(), 0);
	ck_assert_uint_eq(bgp_blob_intern_count(), 0);
}

static void
assert_err(const struct dec_result *r, enum bgp_attr_action act,
    uint8_t code, uint8_t subcode)
{
	ck_assert_str_eq(bgp_attr_action_name(r->act),
	    bgp_attr_action_name(act));
	ck_assert_uint_eq(r->err.code, code);
	ck_assert_uint_eq(r->err.subcode, subcode);
}

static void
assert_bytes(const uint8_t *got, size_t gotlen, const uint8_t *want,
    size_t wantlen)
{
	ck_assert_uint_eq(gotlen, wantlen);
	for (size_t i = 0; i < wantlen; i++)
		ck_assert_msg(got[i] == want[i], "byte %zu: got %02x want %02x",
		    i, got[i], want[i]);
}

static void
encode_check(const struct bgp_attrs *a, bool as4, const uint8_t *want,
    size_t len)
{
	struct bgp_attr_enc_ctx ec = { .as4 = as4 };
	struct wbuf wb;

	wbuf_init(&wb, 0);
	bgp_attrs_encode(&wb, a, &ec);
	ck_assert_int_eq(wb.error, 0);
	assert_bytes(wb.data, wb.len, want, len);
	wbuf_free(&wb);
}

/* Every attribute we model, iBGP with AS4, in type-code order. */
static const uint8_t full_vector[] = {
	0x40, 0x01, 0x01, 0x00,				/* ORIGIN IGP */
	0x50, 0x02, 0x00, 0x0a, 0x02, 0x02,		/* AS_SEQUENCE */
	    0x00, 0x00, 0xfd, 0xe9, 0x00, 0x00, 0xfd, 0xea,
	0x40, 0x03, 0x04, 0x0a, 0x00, 0x00, 0x01,	/* NEXT_HOP */
	0x80, 0x04, 0x04, 0x00, 0x00, 0x00, 0x64,	/* MED 100 */
	0x40, 0x05, 0x04, 0x00, 0x00, 0x00, 0xc8,	/* LOCAL_PREF 200 */
	0x40, 0x06, 0x00,				/* ATOMIC_AGGREGATE */
	0xc0, 0x07, 0x08, 0x00, 0x00, 0xfd, 0xe9,	/* AGGREGATOR */
	    0x0a, 0x00, 0x00, 0x01,
	0xc0, 0x08, 0x08, 0xfd, 0xe8, 0x00, 0x01,	/* COMMUNITIES */
	    0xff, 0xff, 0xff, 0x01,
	0x80, 0x09, 0x04, 0x0a, 0x00, 0x00, 0x02,	/* ORIGINATOR_ID */
	0x80, 0x0a, 0x04, 0x0a, 0x00, 0x00, 0x03,	/* CLUSTER_LIST */
	0xc0, 0x10, 0x10,				/* EXT_COMMUNITIES */
	    0x00, 0x02, 0xfd, 0xe8, 0x00, 0x00, 0x00, 0x64,
	    0x03, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
	0xc0, 0x16, 0x09, 0x00, 0x06, 0x00, 0x00, 0x64,	/* PMSI_TUNNEL */
	    0x0a, 0x00, 0x00, 0x01,
};

START_TEST(test_decode_every_attribute)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;
	char buf[128];
	struct rt rt;
	size_t it = 0;

	decode(&ctx, full_vector, sizeof(full_vector), &r);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	ck_assert(!r.mpr.present && !r.mpu.present);
	ck_assert_uint_eq(r.a.flags, BGP_ATTRF_ORIGIN | BGP_ATTRF_AS_PATH |
	    BGP_ATTRF_NEXT_HOP | BGP_ATTRF_MED | BGP_ATTRF_LOCAL_PREF |
	    BGP_ATTRF_ATOMIC_AGGR | BGP_ATTRF_AGGREGATOR |
	    BGP_ATTRF_COMMUNITIES | BGP_ATTRF_ORIGINATOR_ID |
	    BGP_ATTRF_CLUSTER_LIST | BGP_ATTRF_EXT_COMM | BGP_ATTRF_PMSI);
	ck_assert_uint_eq(r.a.origin, BGP_ORIGIN_IGP);
	ck_assert_str_eq(bgp_aspath_fmt(&r.a, buf, sizeof(buf)),
	    "65001 65002");
	ck_assert_uint_eq(r.a.nexthop, 0x0a000001);
	ck_assert_uint_eq(r.a.med, 100);
	ck_assert_uint_eq(r.a.local_pref, 200);
	ck_assert_uint_eq(r.a.aggregator_as, 65001);
	ck_assert_uint_eq(r.a.aggregator_id, 0x0a000001);
	ck_assert_str_eq(bgp_communities_fmt(&r.a, buf, sizeof(buf)),
	    "65000:1 no-export");
	ck_assert_uint_eq(r.a.originator_id, 0x0a000002);
	ck_assert(bgp_cluster_list_contains(&r.a, 0x0a000003));
	ck_assert_uint_eq(bgp_ecomm_count(&r.a), 2);
	ck_assert_int_eq(bgp_rt_next(&r.a, &it, &rt), 0);
	ck_assert_str_eq(rt_fmt(&rt, buf, sizeof(buf)), "65000:100");
	ck_assert_int_eq(bgp_rt_next(&r.a, &it, &rt), -1);
	ck_assert_str_eq(bgp_ecomms_fmt(&r.a, buf, sizeof(buf)),
	    "RT:65000:100 ET:8");
	ck_assert_uint_eq(r.a.pmsi_flags, 0);
	ck_assert_uint_eq(r.a.pmsi_type, 6);
	ck_assert_uint_eq(r.a.pmsi_label, 100);
	ck_assert_uint_eq(r.a.pmsi_id->len, 4);
	ck_assert_int_eq(memcmp(r.a.pmsi_id->data, B(10, 0, 0, 1), 4), 0);

	/* And back to the same bytes. */
	encode_check(&r.a, true, full_vector, sizeof(full_vector));
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_encode_from_setters_in_type_order)
{
	struct bgp_attrs a;
	const uint32_t path[] = { 65001, 65002 };
	const uint32_t comms[] = { 0xfde80001, 0xffffff01 };
	uint8_t ecs[16], ec[8];

	/* Set in a scrambled order; the encoder sorts by type code. */
	bgp_attrs_init(&a);
	bgp_attrs_set_pmsi(&a, 0, 6, 100, B(10, 0, 0, 1), 4);
	memcpy(ecs, B(0x00, 0x02, 0xfd, 0xe8, 0x00, 0x00, 0x00, 0x64), 8);
	bgp_ecomm_make_encap(ec, BGP_TUNNEL_VXLAN);
	memcpy(ecs + 8, ec, 8);
	bgp_attrs_set_ecomms(&a, ecs, 2);
	bgp_attrs_set_local_pref(&a, 200);
	bgp_attrs_set_aspath_seq(&a, path, 2);
	bgp_attrs_set_communities(&a, comms, 2);
	bgp_attrs_set_med(&a, 100);
	bgp_attrs_set_originator_id(&a, 0x0a000002);
	bgp_cluster_list_prepend(&a, 0x0a000003);
	bgp_attrs_set_nexthop(&a, 0x0a000001);
	bgp_attrs_set_origin(&a, BGP_ORIGIN_IGP);
	a.flags |= BGP_ATTRF_ATOMIC_AGGR | BGP_ATTRF_AGGREGATOR;
	a.aggregator_as = 65001;
	a.aggregator_id = 0x0a000001;
	encode_check(&a, true, full_vector, sizeof(full_vector));
	bgp_attrs_clear(&a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_extended_length)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	uint32_t comms[70];
	struct bgp_attrs a;
	struct dec_result r;
	struct wbuf wb;
	struct rbuf rb;
	struct bgp_attr_enc_ctx ec = { .as4 = true };

	for (size_t i = 0; i < 70; i++)
		comms[i] = 0xfde80000 + (uint32_t)i;
	bgp_attrs_init(&a);
	bgp_attrs_set_communities(&a, comms, 70);
	wbuf_init(&wb, 0);
	bgp_attrs_encode(&wb, &a, &ec);
	/* 280 bytes: flag 0x10 and a two-byte length. */
	ck_assert_uint_eq(wb.len, 4 + 280);
	assert_bytes(wb.data, 8, B(0xd0, 0x08, 0x01, 0x18, 0xfd, 0xe8, 0, 0),
	    8);
	ck_assert_uint_eq(wb.data[wb.len - 1], 69);

	/* Decode it back; no NLRI, so no mandatory attributes needed. */
	ctx.nlri_present = false;
	memset(&r, 0, sizeof(r));
	rbuf_init(&rb, wb.data, wb.len);
	r.act = bgp_attrs_decode(&rb, &ctx, &r.a, &r.mpr, &r.mpu, &r.err);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	ck_assert(bgp_attrs_equal(&a, &r.a));
	ck_assert_ptr_eq(a.communities, r.a.communities);
	bgp_attrs_clear(&r.a);
	wbuf_free(&wb);

	/* Extended length on a short value is legal on input. */
	DECODE(&ctx, 0x90, 0x04, 0x00, 0x04, 0, 0, 0, 7);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	ck_assert_uint_eq(r.a.med, 7);
	/* ...and normalised away on output. */
	encode_check(&r.a, true, B(0x80, 0x04, 0x04, 0, 0, 0, 7), 7);
	bgp_attrs_clear(&r.a);
	bgp_attrs_clear(&a);
	assert_tables_empty();
}
END_TEST

/* MP_REACH_NLRI for l2vpn evpn with an IPv4 next hop, one type-3 NLRI. */
static const uint8_t evpn_update_attrs[] = {
	0x90, 0x0e, 0x00, 0x1c, 0x00, 0x19, 0x46, 0x04,	/* MP_REACH, AFI 25 */
	    0x0a, 0x00, 0x00, 0x02, 0x00,		/* nh, reserved */
	    0x03, 0x11, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,	/* type 3 */
	    0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x20, 0x0a, 0x00, 0x00,
	    0x02,
	0x40, 0x01, 0x01, 0x00,				/* ORIGIN */
	0x50, 0x02, 0x00, 0x00,				/* AS_PATH empty */
	0x40, 0x05, 0x04, 0x00, 0x00, 0x00, 0x64,	/* LOCAL_PREF */
	0xc0, 0x10, 0x10,
	    0x00, 0x02, 0xfd, 0xe8, 0x00, 0x00, 0x00, 0x64,
	    0x03, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
	0xc0, 0x16, 0x09, 0x00, 0x06, 0x00, 0x00, 0x64,
	    0x0a, 0x00, 0x00, 0x02,
};

START_TEST(test_mp_reach_evpn_roundtrip)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct bgp_attr_enc_ctx ec = { .as4 = true };
	struct dec_result r;
	struct ipaddr nh;
	struct wbuf wb;
	char buf[64];

	ctx.nlri_present = false;
	decode(&ctx, evpn_update_attrs, sizeof(evpn_update_attrs), &r);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	ck_assert(r.mpr.present && !r.mpu.present);
	ck_assert_uint_eq(r.mpr.afi, AFI_L2VPN);
	ck_assert_uint_eq(r.mpr.safi, SAFI_EVPN);
	ck_assert_uint_eq(r.mpr.nh_len, 4);
	ck_assert_uint_eq(rbuf_left(&r.mpr.nlri), 19);
	ck_assert_uint_eq(rbuf_ptr(&r.mpr.nlri)[0], 3);
	ck_assert(r.a.flags & BGP_ATTRF_MP_NEXTHOP);
	bgp_attrs_get_mp_nexthop(&r.a, &nh);
	ck_assert_str_eq(ipaddr_fmt(&nh, buf, sizeof(buf)), "10.0.0.2");
	ck_assert_uint_eq(bgp_aspath_length(&r.a), 0);
	ck_assert_str_eq(bgp_aspath_fmt(&r.a, buf, sizeof(buf)), "");

	/* MP_REACH first, then the rest in order; MP_REACH and AS_PATH in
	 * the extended-length form, as FRR sends them. */
	ec.mp_reach = &r.mpr;
	wbuf_init(&wb, 0);
	bgp_attrs_encode(&wb, &r.a, &ec);
	assert_bytes(wb.data, wb.len, evpn_update_attrs,
	    sizeof(evpn_update_attrs));
	wbuf_free(&wb);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_mp_encode_helpers)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;
	struct wbuf wb;
	uint8_t nh[32];
	uint8_t nlri[300];

	wbuf_init(&wb, 0);
	bgp_mp_unreach_encode(&wb, AFI_L2VPN, SAFI_EVPN, NULL, 0);
	assert_bytes(wb.data, wb.len,
	    B(0x90, 0x0f, 0x00, 0x03, 0x00, 0x19, 0x46), 7);
	wbuf_reset(&wb);
	/* IPv6 global + link-local next hop, long NLRI: extended length. */
	memset(nh, 0xfe, sizeof(nh));
	memset(nlri, 0x11, sizeof(nlri));
	bgp_mp_reach_encode(&wb, AFI_IPV6, SAFI_UNICAST, nh, 32, nlri, 300);
	assert_bytes(wb.data, 8, B(0x90, 0x0e, 0x01, 0x51, 0x00, 0x02, 0x01,
	    0x20), 8);
	ck_assert_uint_eq(wb.len, 4 + 5 + 32 + 300);
	ck_assert_uint_eq(wb.data[4 + 4 + 32], 0);	/* reserved */

	ctx.nlri_present = false;
	memset(&r, 0, sizeof(r));
	{
		struct rbuf rb;

		rbuf_init(&rb, wb.data, wb.len);
		r.act = bgp_attrs_decode(&rb, &ctx, &r.a, &r.mpr, &r.mpu,
		    &r.err);
	}
	/* NLRI but no ORIGIN/AS_PATH: RFC 7606 §3(d). */
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, BGP_ERR_UPDATE,
	    BGP_ERR_UPD_MISSING_WK);
	ck_assert_uint_eq(r.err.datalen, 1);
	ck_assert_uint_eq(r.err.data[0], BGP_ATTR_ORIGIN);
	ck_assert_uint_eq(r.mpr.nh_len, 32);
	ck_assert_uint_eq(rbuf_left(&r.mpr.nlri), 300);
	ck_assert_uint_eq(r.a.mp_nexthop_len, 32);
	bgp_attrs_clear(&r.a);
	wbuf_free(&wb);
	assert_tables_empty();
}
END_TEST

START_TEST(test_mp_unreach_end_of_rib)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;

	/* EVPN End-of-RIB: an empty MP_UNREACH (RFC 4724 §2). */
	ctx.nlri_present = false;
	DECODE(&ctx, 0x80, 0x0f, 0x03, 0x00, 0x19, 0x46);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	ck_assert(r.mpu.present && !r.mpr.present);
	ck_assert_uint_eq(r.mpu.afi, AFI_L2VPN);
	ck_assert_uint_eq(r.mpu.safi, SAFI_EVPN);
	ck_assert_uint_eq(rbuf_left(&r.mpu.nlri), 0);
	ck_assert_uint_eq(r.a.flags, 0);
	bgp_attrs_clear(&r.a);

	/* Nothing at all: a withdraw-only UPDATE. */
	decode(&ctx, NULL, 0, &r);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

/* ---- interning ---- */

START_TEST(test_intern_shares_identical_sets)
{
	struct bgp_attrs a, b;
	const struct bgp_attrs *ia, *ib, *ic;
	const uint32_t path[] = { 65001, 65002 };

	bgp_attrs_init(&a);
	bgp_attrs_set_origin(&a, BGP_ORIGIN_IGP);
	bgp_attrs_set_aspath_seq(&a, path, 2);
	bgp_attrs_set_med(&a, 10);
	bgp_attrs_init(&b);
	bgp_attrs_set_med(&b, 10);
	bgp_attrs_set_aspath_seq(&b, path, 2);
	bgp_attrs_set_origin(&b, BGP_ORIGIN_IGP);
	/* Equal content built in a different order: one blob, one set. */
	ck_assert_ptr_eq(a.aspath, b.aspath);
	ck_assert_uint_eq(bgp_blob_intern_count(), 1);
	ia = bgp_attrs_intern(&a);
	ib = bgp_attrs_intern(&b);
	ck_assert_ptr_eq(ia, ib);
	ck_assert_ptr_ne(ia, &a);
	ck_assert_uint_eq(ia->refcnt, 2);
	ck_assert_uint_eq(bgp_attrs_intern_count(), 1);

	/* Only MED differs: a second set sharing the AS path blob. */
	bgp_attrs_set_med(&b, 20);
	ic = bgp_attrs_intern(&b);
	ck_assert_ptr_ne(ic, ia);
	ck_assert_ptr_eq(ic->aspath, ia->aspath);
	ck_assert_uint_eq(bgp_attrs_intern_count(), 2);
	ck_assert_uint_eq(bgp_blob_intern_count(), 1);
	ck_assert_uint_eq(ia->aspath->refcnt, 4);	/* a, b, 2 sets */
	ck_assert_uint_gt(bgp_attrs_intern_bytes(), 2 * sizeof(a));

	/* Scratch sets go; the interned ones keep their blobs. */
	bgp_attrs_clear(&a);
	bgp_attrs_clear(&b);
	ck_assert_uint_eq(ia->aspath->refcnt, 2);
	ck_assert_ptr_eq(bgp_attrs_ref(ia), ia);
	ck_assert_uint_eq(ia->refcnt, 3);
	bgp_attrs_unref(ia);
	bgp_attrs_unref(ib);
	ck_assert_uint_eq(bgp_attrs_intern_count(), 2);
	bgp_attrs_unref(ia);
	ck_assert_uint_eq(bgp_attrs_intern_count(), 1);
	bgp_attrs_unref(ic);
	bgp_attrs_unref(NULL);
	assert_tables_empty();
	ck_assert_uint_eq(bgp_attrs_intern_bytes(), 0);
}
END_TEST

START_TEST(test_intern_ignores_absent_fields)
{
	struct bgp_attrs a, b;
	const struct bgp_attrs *ia, *ib;

	bgp_attrs_init(&a);
	bgp_attrs_init(&b);
	bgp_attrs_set_origin(&a, BGP_ORIGIN_EGP);
	bgp_attrs_set_origin(&b, BGP_ORIGIN_EGP);
	b.med = 99;			/* stale value, flag not set */
	ck_assert(bgp_attrs_equal(&a, &b));
	ia = bgp_attrs_intern(&a);
	ib = bgp_attrs_intern(&b);
	ck_assert_ptr_eq(ia, ib);
	ck_assert_uint_eq(ia->med, 0);
	bgp_attrs_set_med(&b, 0);
	ck_assert(!bgp_attrs_equal(&a, &b));	/* MED 0 is not "no MED" */
	bgp_attrs_unset(&b, BGP_ATTRF_MED);
	ck_assert(bgp_attrs_equal(&a, &b));
	bgp_attrs_unref(ia);
	bgp_attrs_unref(ib);
	bgp_attrs_clear(&a);
	bgp_attrs_clear(&b);
	assert_tables_empty();
}
END_TEST

START_TEST(test_intern_many_sets_and_copy)
{
	const struct bgp_attrs *sets[3000];
	struct bgp_attrs a, c;
	uint8_t ec[8];

	/* Enough sets to grow the tables several times. */
	bgp_attrs_init(&a);
	bgp_attrs_set_origin(&a, BGP_ORIGIN_IGP);
	for (uint32_t i = 0; i < 3000; i++) {
		memcpy(ec, B(0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 0), 8);
		ec[7] = (uint8_t)(i % 10);
		bgp_attrs_set_ecomms(&a, ec, 1);
		bgp_attrs_set_med(&a, i);
		sets[i] = bgp_attrs_intern(&a);
	}
	ck_assert_uint_eq(bgp_attrs_intern_count(), 3000);
	ck_assert_uint_eq(bgp_blob_intern_count(), 10);
	for (uint32_t i = 0; i < 3000; i++) {
		bgp_attrs_set_med(&a, i);
		ec[7] = (uint8_t)(i % 10);
		bgp_attrs_set_ecomms(&a, ec, 1);
		ck_assert_ptr_eq(bgp_attrs_intern(&a), sets[i]);
		bgp_attrs_unref(sets[i]);
	}
	/* Copy of an interned set is a scratch set that can be changed. */
	bgp_attrs_copy(&c, sets[5]);
	ck_assert_uint_eq(c.refcnt, 0);
	ck_assert(bgp_attrs_equal(&c, sets[5]));
	bgp_attrs_set_med(&c, 123456);
	ck_assert(!bgp_attrs_equal(&c, sets[5]));
	bgp_attrs_clear(&c);
	for (uint32_t i = 0; i < 3000; i++)
		bgp_attrs_unref(sets[i]);
	bgp_attrs_clear(&a);
	assert_tables_empty();
}
END_TEST

/* ---- AS4 (RFC 6793) ---- */

START_TEST(test_as4_merge)
{
	struct bgp_attr_ctx ctx = ctx_ebgp();
	struct dec_result r;
	char buf[128];

	ctx.as4 = false;
	ctx.peer_as = 65001;
	ctx.enforce_first_as = true;
	/* AS_PATH 65001 23456 23456 65003; AS4_PATH 4200000000 4200000001
	 * 65003: merged 65001 4200000000 4200000001 65003. */
	DECODE(&ctx,
	    0x40, 0x01, 0x01, 0x00,
	    0x40, 0x02, 0x0a, 0x02, 0x04, 0xfd, 0xe9, 0x5b, 0xa0, 0x5b, 0xa0,
	    0xfd, 0xeb,
	    0x40, 0x03, 0x04, 0x0a, 0x00, 0x00, 0x01,
	    0xc0, 0x07, 0x06, 0x5b, 0xa0, 0x0a, 0x00, 0x00, 0x09,
	    0xc0, 0x11, 0x0e, 0x02, 0x03, 0xfa, 0x56, 0xea, 0x00, 0xfa, 0x56,
	    0xea, 0x01, 0x00, 0x00, 0xfd, 0xeb,
	    0xc0, 0x12, 0x08, 0xfa, 0x56, 0xea, 0x00, 0x0a, 0x00, 0x00, 0x09);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	ck_assert_str_eq(bgp_aspath_fmt(&r.a, buf, sizeof(buf)),
	    "65001 4200000000 4200000001 65003");
	ck_assert_uint_eq(bgp_aspath_length(&r.a), 4);
	ck_assert_uint_eq(r.a.aggregator_as, 4200000000u);
	ck_assert_uint_eq(r.a.aggregator_id, 0x0a000009);

	/* Re-encoding for an old speaker gives the same two paths back. */
	encode_check(&r.a, false, B(
	    0x40, 0x01, 0x01, 0x00,
	    0x50, 0x02, 0x00, 0x0a, 0x02, 0x04, 0xfd, 0xe9, 0x5b, 0xa0, 0x5b,
	    0xa0, 0xfd, 0xeb,
	    0x40, 0x03, 0x04, 0x0a, 0x00, 0x00, 0x01,
	    0xc0, 0x07, 0x06, 0x5b, 0xa0, 0x0a, 0x00, 0x00, 0x09,
	    0xc0, 0x11, 0x12, 0x02, 0x04, 0x00, 0x00, 0xfd, 0xe9, 0xfa, 0x56,
	    0xea, 0x00, 0xfa, 0x56, 0xea, 0x01, 0x00, 0x00, 0xfd, 0xeb,
	    0xc0, 0x12, 0x08, 0xfa, 0x56, 0xea, 0x00, 0x0a, 0x00, 0x00, 0x09),
	    4 + 14 + 7 + 9 + 21 + 11);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_as4_merge_ignored)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;
	char buf[128];

	ctx.as4 = false;
	ctx.nlri_present = false;
	/* AS4_PATH longer than AS_PATH: ignored (§4.2.3). */
	DECODE(&ctx,
	    0x40, 0x02, 0x04, 0x02, 0x01, 0x5b, 0xa0,
	    0xc0, 0x11, 0x0a, 0x02, 0x02, 0xfa, 0x56, 0xea, 0x00, 0x00, 0x00,
	    0xfd, 0xeb);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	ck_assert_str_eq(bgp_aspath_fmt(&r.a, buf, sizeof(buf)), "23456");
	bgp_attrs_clear(&r.a);

	/* AGGREGATOR not AS_TRANS: both AS4 attributes ignored. */
	DECODE(&ctx,
	    0x40, 0x02, 0x04, 0x02, 0x01, 0x5b, 0xa0,
	    0xc0, 0x07, 0x06, 0xfd, 0xe9, 0x0a, 0x00, 0x00, 0x09,
	    0xc0, 0x11, 0x06, 0x02, 0x01, 0xfa, 0x56, 0xea, 0x00,
	    0xc0, 0x12, 0x08, 0xfa, 0x56, 0xea, 0x00, 0x0a, 0x00, 0x00, 0x09);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	ck_assert_str_eq(bgp_aspath_fmt(&r.a, buf, sizeof(buf)), "23456");
	ck_assert_uint_eq(r.a.aggregator_as, 65001);
	bgp_attrs_clear(&r.a);

	/* AS4 session: AS4_PATH is discarded, the 4-octet path stands. */
	ctx.as4 = true;
	DECODE(&ctx,
	    0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xe9,
	    0xc0, 0x11, 0x06, 0x02, 0x01, 0xfa, 0x56, 0xea, 0x00);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	ck_assert_str_eq(bgp_aspath_fmt(&r.a, buf, sizeof(buf)), "65001");
	bgp_attrs_clear(&r.a);

	/* Malformed AS4_PATH on an old session: discarded, not fatal. */
	ctx.as4 = false;
	DECODE(&ctx,
	    0x40, 0x02, 0x04, 0x02, 0x01, 0x5b, 0xa0,
	    0xc0, 0x11, 0x05, 0x02, 0x02, 0xfa, 0x56, 0xea);
	assert_err(&r, BGP_ATTR_OK, BGP_ERR_UPDATE, BGP_ERR_UPD_OPTATTR);
	ck_assert_str_eq(bgp_aspath_fmt(&r.a, buf, sizeof(buf)), "23456");
	bgp_attrs_clear(&r.a);

	/* AS4_PATH with a confederation segment: discarded. */
	DECODE(&ctx,
	    0x40, 0x02, 0x04, 0x02, 0x01, 0x5b, 0xa0,
	    0xc0, 0x11, 0x06, 0x03, 0x01, 0xfa, 0x56, 0xea, 0x00);
	assert_err(&r, BGP_ATTR_OK, BGP_ERR_UPDATE, BGP_ERR_UPD_OPTATTR);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_as2_encode_without_wide_as)
{
	struct bgp_attrs a;
	const uint32_t path[] = { 65001, 65002 };

	/* Nothing wide: no AS4_PATH, no AS4_AGGREGATOR. */
	bgp_attrs_init(&a);
	bgp_attrs_set_aspath_seq(&a, path, 2);
	a.flags |= BGP_ATTRF_AGGREGATOR;
	a.aggregator_as = 65001;
	a.aggregator_id = 1;
	encode_check(&a, false, B(
	    0x50, 0x02, 0x00, 0x06, 0x02, 0x02, 0xfd, 0xe9, 0xfd, 0xea,
	    0xc0, 0x07, 0x06, 0xfd, 0xe9, 0x00, 0x00, 0x00, 0x01), 19);
	bgp_attrs_clear(&a);
	assert_tables_empty();
}
END_TEST

/* ---- RFC 7606, attribute by attribute ---- */

START_TEST(test_7606_origin)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;

	/* §7.1: length 2 */
	DECODE(&ctx, 0x40, 0x01, 0x02, 0x00, 0x00);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_LENGTH);
	assert_bytes(r.err.data, r.err.datalen, B(0x40, 0x01, 0x02, 0, 0), 5);
	bgp_attrs_clear(&r.a);
	/* §7.1: undefined value */
	DECODE(&ctx, 0x40, 0x01, 0x01, 0x03);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_ORIGIN);
	ck_assert(!(r.a.flags & BGP_ATTRF_ORIGIN));
	bgp_attrs_clear(&r.a);
	/* §3(c): Optional bit on a well-known attribute */
	DECODE(&ctx, 0xc0, 0x01, 0x01, 0x00);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_FLAGS);
	assert_bytes(r.err.data, r.err.datalen, B(0xc0, 0x01, 0x01, 0x00), 4);
	bgp_attrs_clear(&r.a);
	/* Zero length (§4: only AS_PATH and ATOMIC_AGGREGATE may be empty) */
	DECODE(&ctx, 0x40, 0x01, 0x00);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_LENGTH);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_7606_aspath)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;

	ctx.nlri_present = false;
	/* unknown segment type 5 */
	DECODE(&ctx, 0x40, 0x02, 0x06, 0x05, 0x01, 0, 0, 0xfd, 0xe9);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_ASPATH);
	ck_assert(!(r.a.flags & BGP_ATTRF_AS_PATH));
	bgp_attrs_clear(&r.a);
	/* zero segment length */
	DECODE(&ctx, 0x40, 0x02, 0x02, 0x02, 0x00);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_ASPATH);
	bgp_attrs_clear(&r.a);
	/* segment overruns the attribute */
	DECODE(&ctx, 0x40, 0x02, 0x06, 0x02, 0x02, 0, 0, 0xfd, 0xe9);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_ASPATH);
	bgp_attrs_clear(&r.a);
	/* a lone byte after a good segment */
	DECODE(&ctx, 0x40, 0x02, 0x07, 0x02, 0x01, 0, 0, 0xfd, 0xe9, 0x02);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_ASPATH);
	bgp_attrs_clear(&r.a);
	/* AS 0, RFC 7607 */
	DECODE(&ctx, 0x40, 0x02, 0x06, 0x02, 0x01, 0, 0, 0, 0);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_ASPATH);
	bgp_attrs_clear(&r.a);
	/* confederation segment: fine from iBGP ... */
	DECODE(&ctx, 0x40, 0x02, 0x06, 0x03, 0x01, 0, 0, 0xfd, 0xe9);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	bgp_attrs_clear(&r.a);
	/* ... not from eBGP */
	ctx = ctx_ebgp();
	ctx.nlri_present = false;
	DECODE(&ctx, 0x40, 0x02, 0x06, 0x03, 0x01, 0, 0, 0xfd, 0xe9);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_ASPATH);
	bgp_attrs_clear(&r.a);
	/* first AS not the peer's, when enforced */
	ctx.enforce_first_as = true;
	DECODE(&ctx, 0x40, 0x02, 0x06, 0x02, 0x01, 0, 0, 0xfd, 0xea);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_ASPATH);
	bgp_attrs_clear(&r.a);
	DECODE(&ctx, 0x40, 0x02, 0x06, 0x02, 0x01, 0, 0, 0xfd, 0xe9);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_7606_nexthop)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;

	/* §7.3: length 5 */
	DECODE(&ctx, 0x40, 0x03, 0x05, 10, 0, 0, 1, 0);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_LENGTH);
	bgp_attrs_clear(&r.a);
	/* 0.0.0.0 and multicast are no next hop: 3/8 */
	DECODE(&ctx, 0x40, 0x03, 0x04, 0, 0, 0, 0);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_NEXTHOP);
	bgp_attrs_clear(&r.a);
	DECODE(&ctx, 0x40, 0x03, 0x04, 224, 0, 0, 5);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_NEXTHOP);
	bgp_attrs_clear(&r.a);
	/* No classic NLRI: NEXT_HOP ignored (RFC 4760 §3) */
	ctx.nlri_present = false;
	DECODE(&ctx, 0x40, 0x03, 0x04, 0, 0, 0, 0);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	ck_assert(!(r.a.flags & BGP_ATTRF_NEXT_HOP));
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_7606_med_local_pref)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;

	ctx.nlri_present = false;
	/* §7.4 */
	DECODE(&ctx, 0x80, 0x04, 0x03, 0, 0, 1);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_LENGTH);
	bgp_attrs_clear(&r.a);
	/* MED with the transitive bit: flags error */
	DECODE(&ctx, 0xc0, 0x04, 0x04, 0, 0, 0, 1);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_FLAGS);
	bgp_attrs_clear(&r.a);
	/* §7.5: LOCAL_PREF wrong length from iBGP */
	DECODE(&ctx, 0x40, 0x05, 0x02, 0, 1);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_LENGTH);
	bgp_attrs_clear(&r.a);
	/* §7.5: from eBGP it is discarded, even when malformed */
	ctx = ctx_ebgp();
	ctx.nlri_present = false;
	DECODE(&ctx, 0x40, 0x05, 0x04, 0, 0, 0, 50,
	    0x80, 0x04, 0x04, 0, 0, 0, 1);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	ck_assert_uint_eq(r.a.flags, BGP_ATTRF_MED);
	bgp_attrs_clear(&r.a);
	DECODE(&ctx, 0x40, 0x05, 0x02, 0, 1);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_7606_atomic_aggregator)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;

	ctx.nlri_present = false;
	/* §7.6: ATOMIC_AGGREGATE with a value: discarded, not fatal */
	DECODE(&ctx, 0x40, 0x06, 0x01, 0x00, 0x80, 0x04, 0x04, 0, 0, 0, 9);
	assert_err(&r, BGP_ATTR_OK, 3, BGP_ERR_UPD_LENGTH);
	ck_assert_uint_eq(r.a.flags, BGP_ATTRF_MED);
	bgp_attrs_clear(&r.a);
	/* §7.7: AGGREGATOR of 6 bytes on an AS4 session */
	DECODE(&ctx, 0xc0, 0x07, 0x06, 0xfd, 0xe9, 10, 0, 0, 1);
	assert_err(&r, BGP_ATTR_OK, 3, BGP_ERR_UPD_LENGTH);
	ck_assert_uint_eq(r.a.flags, 0);
	bgp_attrs_clear(&r.a);
	/* ... and of 8 on an old one */
	ctx.as4 = false;
	DECODE(&ctx, 0xc0, 0x07, 0x08, 0, 0, 0xfd, 0xe9, 10, 0, 0, 1);
	assert_err(&r, BGP_ATTR_OK, 3, BGP_ERR_UPD_LENGTH);
	bgp_attrs_clear(&r.a);
	/* RFC 7607: AGGREGATOR AS 0 */
	DECODE(&ctx, 0xc0, 0x07, 0x06, 0, 0, 10, 0, 0, 1);
	assert_err(&r, BGP_ATTR_OK, 3, BGP_ERR_UPD_OPTATTR);
	ck_assert_uint_eq(r.a.flags, 0);
	bgp_attrs_clear(&r.a);
	/* AS4_AGGREGATOR wrong length: discarded */
	DECODE(&ctx, 0xc0, 0x12, 0x06, 0, 0, 10, 0, 0, 1);
	assert_err(&r, BGP_ATTR_OK, 3, BGP_ERR_UPD_OPTATTR);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_7606_lists)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;

	ctx.nlri_present = false;
	/* §7.8: COMMUNITIES not a multiple of 4, or empty */
	DECODE(&ctx, 0xc0, 0x08, 0x05, 0, 1, 0, 1, 0);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_LENGTH);
	bgp_attrs_clear(&r.a);
	DECODE(&ctx, 0xc0, 0x08, 0x00);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_LENGTH);
	bgp_attrs_clear(&r.a);
	/* §7.14: EXTENDED_COMMUNITIES of 12 bytes */
	DECODE(&ctx, 0xc0, 0x10, 0x0c, 0, 2, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_LENGTH);
	ck_assert(!(r.a.flags & BGP_ATTRF_EXT_COMM));
	bgp_attrs_clear(&r.a);
	/* §7.9: ORIGINATOR_ID of 3 bytes */
	DECODE(&ctx, 0x80, 0x09, 0x03, 10, 0, 0);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_LENGTH);
	bgp_attrs_clear(&r.a);
	/* §7.10: CLUSTER_LIST of 6 bytes */
	DECODE(&ctx, 0x80, 0x0a, 0x06, 10, 0, 0, 1, 0, 0);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_LENGTH);
	bgp_attrs_clear(&r.a);
	/* §7.9, §7.10: from eBGP both are discarded */
	ctx = ctx_ebgp();
	ctx.nlri_present = false;
	DECODE(&ctx, 0x80, 0x09, 0x04, 10, 0, 0, 2,
	    0x80, 0x0a, 0x06, 10, 0, 0, 1, 0, 0);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	ck_assert_uint_eq(r.a.flags, 0);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_7606_pmsi)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;

	ctx.nlri_present = false;
	DECODE(&ctx, 0xc0, 0x16, 0x04, 0, 6, 0, 0);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_LENGTH);
	ck_assert(!(r.a.flags & BGP_ATTRF_PMSI));
	bgp_attrs_clear(&r.a);
	/* tunnel type 0 ("no tunnel information") has no identifier */
	DECODE(&ctx, 0xc0, 0x16, 0x05, 0x01, 0, 0x12, 0x34, 0x56);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	ck_assert_uint_eq(r.a.pmsi_flags, 1);
	ck_assert_uint_eq(r.a.pmsi_label, 0x123456);
	ck_assert_uint_eq(r.a.pmsi_id->len, 0);
	encode_check(&r.a, true, B(0xc0, 0x16, 0x05, 0x01, 0, 0x12, 0x34,
	    0x56), 8);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_7606_duplicates)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;

	ctx.nlri_present = false;
	/* §3(g): a second ORIGIN is discarded, the first stands */
	DECODE(&ctx, 0x40, 0x01, 0x01, 0x02, 0x40, 0x01, 0x01, 0x00);
	assert_err(&r, BGP_ATTR_OK, 3, BGP_ERR_UPD_ATTRLIST);
	ck_assert_uint_eq(r.a.origin, BGP_ORIGIN_INCOMPLETE);
	bgp_attrs_clear(&r.a);
	/* a repeated malformed attribute does not count twice */
	DECODE(&ctx, 0xc0, 0x10, 0x08, 0, 2, 0, 1, 0, 0, 0, 1,
	    0xc0, 0x10, 0x03, 0, 0, 0);
	assert_err(&r, BGP_ATTR_OK, 3, BGP_ERR_UPD_ATTRLIST);
	ck_assert_uint_eq(bgp_ecomm_count(&r.a), 1);
	bgp_attrs_clear(&r.a);
	/* §3(g): two MP_REACH_NLRI: session reset, Malformed Attr List */
	DECODE(&ctx,
	    0x80, 0x0e, 0x09, 0x00, 0x19, 0x46, 0x04, 10, 0, 0, 2, 0,
	    0x80, 0x0e, 0x09, 0x00, 0x19, 0x46, 0x04, 10, 0, 0, 2, 0);
	assert_err(&r, BGP_ATTR_SESSION_RESET, 3, BGP_ERR_UPD_ATTRLIST);
	ck_assert_uint_eq(r.err.datalen, 0);
	bgp_attrs_clear(&r.a);
	/* two MP_UNREACH_NLRI */
	DECODE(&ctx, 0x80, 0x0f, 0x03, 0x00, 0x19, 0x46,
	    0x80, 0x0f, 0x03, 0x00, 0x19, 0x46);
	assert_err(&r, BGP_ATTR_SESSION_RESET, 3, BGP_ERR_UPD_ATTRLIST);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_7606_missing_mandatory)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;

	/* §3(d): classic NLRI without NEXT_HOP */
	DECODE(&ctx, 0x40, 0x01, 0x01, 0x00, 0x40, 0x02, 0x00);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_MISSING_WK);
	assert_bytes(r.err.data, r.err.datalen, B(BGP_ATTR_NEXT_HOP), 1);
	bgp_attrs_clear(&r.a);
	/* without AS_PATH */
	DECODE(&ctx, 0x40, 0x01, 0x01, 0x00, 0x40, 0x03, 0x04, 10, 0, 0, 1);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_MISSING_WK);
	assert_bytes(r.err.data, r.err.datalen, B(BGP_ATTR_AS_PATH), 1);
	bgp_attrs_clear(&r.a);
	/* MP_REACH NLRI only: NEXT_HOP not needed */
	ctx.nlri_present = false;
	DECODE(&ctx, 0x40, 0x01, 0x01, 0x00, 0x40, 0x02, 0x00,
	    0x80, 0x0e, 0x0b, 0x00, 0x01, 0x01, 0x04, 10, 0, 0, 2, 0,
	    0x08, 10);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	ck_assert_uint_eq(r.mpr.afi, AFI_IPV4);
	ck_assert_uint_eq(rbuf_left(&r.mpr.nlri), 2);
	bgp_attrs_clear(&r.a);
	/* MP_REACH with an empty NLRI needs nothing */
	DECODE(&ctx, 0x80, 0x0e, 0x09, 0x00, 0x01, 0x01, 0x04, 10, 0, 0, 2, 0);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_7606_overrun)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;

	/* §4: the last attribute overruns; classic NLRI can be found */
	DECODE(&ctx, 0x40, 0x01, 0x01, 0x00, 0x40, 0x02, 0x05, 0x02);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_ATTRLIST);
	bgp_attrs_clear(&r.a);
	/* fewer than three octets left for a header */
	DECODE(&ctx, 0x40, 0x01, 0x01, 0x00, 0x40, 0x02);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_ATTRLIST);
	bgp_attrs_clear(&r.a);
	/* extended length header cut short */
	DECODE(&ctx, 0x50, 0x02, 0x00);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_ATTRLIST);
	bgp_attrs_clear(&r.a);
	/* no NLRI found before the overrun: the MP_REACH may be in the
	 * garbage, so only a reset is safe */
	ctx.nlri_present = false;
	DECODE(&ctx, 0x40, 0x01, 0x01, 0x00, 0x80, 0x0e, 0x20, 0x00);
	assert_err(&r, BGP_ATTR_SESSION_RESET, 3, BGP_ERR_UPD_ATTRLIST);
	bgp_attrs_clear(&r.a);
	/* MP_REACH first (§5.1), overrun after: withdraw its NLRI */
	DECODE(&ctx,
	    0x80, 0x0e, 0x0b, 0x00, 0x01, 0x01, 0x04, 10, 0, 0, 2, 0, 0x08, 10,
	    0x40, 0x01, 0x07, 0x00);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_ATTRLIST);
	ck_assert(r.mpr.present);
	ck_assert_uint_eq(rbuf_left(&r.mpr.nlri), 2);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_7606_mp_reach_malformed)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;

	ctx.nlri_present = false;
	/* §7.11: next hop length 5 for EVPN: AFI/SAFI disable */
	DECODE(&ctx, 0x80, 0x0e, 0x0a, 0x00, 0x19, 0x46, 0x05,
	    10, 0, 0, 2, 1, 0);
	assert_err(&r, BGP_ATTR_AFISAFI_DISABLE, 3, BGP_ERR_UPD_OPTATTR);
	ck_assert(r.mpr.present);
	ck_assert_uint_eq(r.mpr.afi, AFI_L2VPN);
	ck_assert_uint_eq(r.mpr.safi, SAFI_EVPN);
	ck_assert_uint_eq(r.err.data[1], BGP_ATTR_MP_REACH_NLRI);
	bgp_attrs_clear(&r.a);
	/* IPv4 unicast with a 16-byte next hop */
	DECODE(&ctx, 0x80, 0x0e, 0x15, 0x00, 0x01, 0x01, 0x10,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	assert_err(&r, BGP_ATTR_AFISAFI_DISABLE, 3, BGP_ERR_UPD_OPTATTR);
	bgp_attrs_clear(&r.a);
	/* next hop runs past the attribute */
	DECODE(&ctx, 0x80, 0x0e, 0x06, 0x00, 0x19, 0x46, 0x04, 10, 0);
	assert_err(&r, BGP_ATTR_AFISAFI_DISABLE, 3, BGP_ERR_UPD_OPTATTR);
	bgp_attrs_clear(&r.a);
	/* reserved octet missing */
	DECODE(&ctx, 0x80, 0x0e, 0x08, 0x00, 0x19, 0x46, 0x04, 10, 0, 0, 2);
	assert_err(&r, BGP_ATTR_AFISAFI_DISABLE, 3, BGP_ERR_UPD_OPTATTR);
	bgp_attrs_clear(&r.a);
	/* no room for AFI/SAFI: nothing to disable, reset */
	DECODE(&ctx, 0x80, 0x0e, 0x02, 0x00, 0x19);
	assert_err(&r, BGP_ATTR_SESSION_RESET, 3, BGP_ERR_UPD_OPTATTR);
	ck_assert(!r.mpr.present);
	bgp_attrs_clear(&r.a);
	DECODE(&ctx, 0x80, 0x0f, 0x01, 0x00);
	assert_err(&r, BGP_ATTR_SESSION_RESET, 3, BGP_ERR_UPD_OPTATTR);
	bgp_attrs_clear(&r.a);
	/* wrong flags on MP_REACH: withdraw, and its NLRI is still found */
	DECODE(&ctx, 0xc0, 0x0e, 0x0b, 0x00, 0x01, 0x01, 0x04, 10, 0, 0, 2, 0,
	    0x08, 10);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_FLAGS);
	ck_assert_uint_eq(rbuf_left(&r.mpr.nlri), 2);
	bgp_attrs_clear(&r.a);
	/* unknown family: next hop not checked */
	DECODE(&ctx, 0x80, 0x0e, 0x08, 0x40, 0x00, 0x01, 0x03, 1, 2, 3, 0);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	ck_assert_uint_eq(r.mpr.afi, 0x4000);
	ck_assert_uint_eq(r.mpr.nh_len, 3);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_unknown_attributes)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;

	ctx.nlri_present = false;
	/* RFC 4271 §6.3: unrecognized well-known: 3/2 with the attribute */
	DECODE(&ctx, 0x40, 0x63, 0x01, 0xaa);
	assert_err(&r, BGP_ATTR_SESSION_RESET, 3, BGP_ERR_UPD_UNKWN_WK);
	assert_bytes(r.err.data, r.err.datalen, B(0x40, 0x63, 0x01, 0xaa), 4);
	bgp_attrs_clear(&r.a);
	/* optional non-transitive: dropped; optional transitive: kept in
	 * type order and passed on with Partial */
	DECODE(&ctx,
	    0xc0, 0x20, 0x02, 0xbe, 0xef,
	    0x80, 0x63, 0x01, 0xaa,
	    0xe0, 0x13, 0x01, 0x77,
	    0x80, 0x04, 0x04, 0, 0, 0, 5,
	    0x40, 0x01, 0x01, 0x00);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	ck_assert_uint_eq(r.a.flags, BGP_ATTRF_ORIGIN | BGP_ATTRF_MED |
	    BGP_ATTRF_UNKNOWN);
	encode_check(&r.a, true, B(
	    0x40, 0x01, 0x01, 0x00,
	    0x80, 0x04, 0x04, 0, 0, 0, 5,
	    0xe0, 0x13, 0x01, 0x77,
	    0xe0, 0x20, 0x02, 0xbe, 0xef), 20);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_7606_most_severe_wins)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;

	ctx.nlri_present = false;
	/* discard, then withdraw, then reset: reset, with its data */
	DECODE(&ctx,
	    0x40, 0x06, 0x01, 0x00,			/* discard */
	    0x40, 0x01, 0x01, 0x09,			/* withdraw */
	    0x40, 0x63, 0x00,				/* reset */
	    0x40, 0x01, 0x01, 0x00);			/* dup: discard */
	assert_err(&r, BGP_ATTR_SESSION_RESET, 3, BGP_ERR_UPD_UNKWN_WK);
	assert_bytes(r.err.data, r.err.datalen, B(0x40, 0x63, 0x00), 3);
	bgp_attrs_clear(&r.a);
	/* two withdraw errors: the first one is reported */
	DECODE(&ctx,
	    0x40, 0x01, 0x01, 0x09,
	    0x80, 0x04, 0x01, 0x00);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_ORIGIN);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_notify_data_truncated)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;
	uint8_t buf[4 + 301];
	struct rbuf rb;

	/* a 301-byte COMMUNITIES: too long for the NOTIFICATION data */
	ctx.nlri_present = false;
	memset(buf, 0x01, sizeof(buf));
	memcpy(buf, B(0xd0, 0x08, 0x01, 0x2d), 4);
	memset(&r, 0, sizeof(r));
	rbuf_init(&rb, buf, sizeof(buf));
	r.act = bgp_attrs_decode(&rb, &ctx, &r.a, &r.mpr, &r.mpu, &r.err);
	assert_err(&r, BGP_ATTR_TREAT_AS_WITHDRAW, 3, BGP_ERR_UPD_LENGTH);
	ck_assert_uint_eq(r.err.datalen, BGP_NOTIFY_DATA_MAX);
	assert_bytes(r.err.data, 4, buf, 4);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

/* ---- helpers and formatting ---- */

START_TEST(test_ecomm_helpers)
{
	struct bgp_attrs a;
	uint8_t ec[8], found[8];
	struct rt rt;
	size_t it;
	char buf[128];

	bgp_attrs_init(&a);
	ck_assert_uint_eq(bgp_ecomm_count(&a), 0);
	ck_assert_ptr_null(bgp_ecomm_at(&a, 0));
	rt_parse("65000:100", &rt);
	bgp_ecomm_add(&a, rt.b);
	bgp_ecomm_make_encap(ec, BGP_TUNNEL_VXLAN);
	assert_bytes(ec, 8, B(0x03, 0x0c, 0, 0, 0, 0, 0, 0x08), 8);
	bgp_ecomm_add(&a, ec);
	bgp_ecomm_add(&a, rt.b);			/* duplicate: ignored */
	rt_parse("10.0.0.1:5", &rt);
	bgp_ecomm_add(&a, rt.b);
	/* an EVPN-type community bgpd knows only by type/subtype */
	bgp_ecomm_add(&a, B(0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07));
	ck_assert_uint_eq(bgp_ecomm_count(&a), 4);
	ck_assert_str_eq(bgp_ecomms_fmt(&a, buf, sizeof(buf)),
	    "RT:65000:100 ET:8 RT:10.0.0.1:5 0x0600:000000000007");

	it = 0;
	ck_assert_int_eq(bgp_ecomm_find(&a, 0x06, 0x00, &it, found), 0);
	ck_assert_uint_eq(found[7], 7);
	ck_assert_uint_eq(it, 4);
	ck_assert_int_eq(bgp_ecomm_find(&a, 0x06, 0x00, &it, found), -1);

	it = 0;
	ck_assert_int_eq(bgp_rt_next(&a, &it, &rt), 0);
	ck_assert_str_eq(rt_fmt(&rt, buf, sizeof(buf)), "65000:100");
	ck_assert_int_eq(bgp_rt_next(&a, &it, &rt), 0);
	ck_assert_str_eq(rt_fmt(&rt, buf, sizeof(buf)), "10.0.0.1:5");
	ck_assert_int_eq(bgp_rt_next(&a, &it, &rt), -1);

	bgp_ecomm_del_type(&a, BGP_ECOMM_T_AS2, BGP_ECOMM_ST_RT);
	ck_assert_uint_eq(bgp_ecomm_count(&a), 3);
	bgp_ecomm_del_type(&a, BGP_ECOMM_T_OPAQUE, BGP_ECOMM_ST_ENCAP);
	bgp_ecomm_del_type(&a, BGP_ECOMM_T_IPV4, BGP_ECOMM_ST_RT);
	bgp_ecomm_del_type(&a, BGP_ECOMM_T_EVPN, 0x00);
	ck_assert_uint_eq(bgp_ecomm_count(&a), 0);
	ck_assert(!(a.flags & BGP_ATTRF_EXT_COMM));

	/* SoO and a 4-octet-AS route target */
	ck_assert_str_eq(bgp_ecomm_fmt(B(0x00, 0x03, 0xfd, 0xe8, 0, 0, 0, 1),
	    buf, sizeof(buf)), "SoO:65000:1");
	ck_assert_str_eq(bgp_ecomm_fmt(B(0x02, 0x02, 0xfa, 0x56, 0xea, 0x00,
	    0, 9), buf, sizeof(buf)), "RT:4200000000:9");
	bgp_attrs_clear(&a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_aspath_helpers_and_format)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct dec_result r;
	char buf[128];
	uint32_t many[300];

	ctx.nlri_present = false;
	/* seq 65001, set {65002,65003}, confed seq (1 2), confed set [3] */
	DECODE(&ctx, 0x40, 0x02, 0x20,
	    0x02, 0x01, 0, 0, 0xfd, 0xe9,
	    0x01, 0x02, 0, 0, 0xfd, 0xea, 0, 0, 0xfd, 0xeb,
	    0x03, 0x02, 0, 0, 0, 1, 0, 0, 0, 2,
	    0x04, 0x01, 0, 0, 0, 3);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	ck_assert_str_eq(bgp_aspath_fmt(&r.a, buf, sizeof(buf)),
	    "65001 {65002,65003} (1 2) [3]");
	ck_assert_uint_eq(bgp_aspath_length(&r.a), 2);
	ck_assert(bgp_aspath_contains(&r.a, 65003));
	ck_assert(!bgp_aspath_contains(&r.a, 65000));
	ck_assert_uint_eq(bgp_aspath_first_as(&r.a), 65001);
	bgp_aspath_prepend(&r.a, 65000);
	ck_assert_str_eq(bgp_aspath_fmt(&r.a, buf, sizeof(buf)),
	    "65000 65001 {65002,65003} (1 2) [3]");
	/* truncation keeps a terminated string */
	ck_assert_str_eq(bgp_aspath_fmt(&r.a, buf, 9), "65000 65");
	bgp_attrs_clear(&r.a);

	/* prepending to a path that starts with a set opens a sequence */
	DECODE(&ctx, 0x40, 0x02, 0x06, 0x01, 0x01, 0, 0, 0xfd, 0xea);
	bgp_aspath_prepend(&r.a, 65000);
	encode_check(&r.a, true, B(0x50, 0x02, 0x00, 0x0c,
	    0x02, 0x01, 0, 0, 0xfd, 0xe8, 0x01, 0x01, 0, 0, 0xfd, 0xea), 16);
	bgp_attrs_clear(&r.a);

	/* 300 ASes: two segments (255 + 45), extended length */
	for (size_t i = 0; i < 300; i++)
		many[i] = 65000;
	bgp_attrs_init(&r.a);
	bgp_attrs_set_aspath_seq(&r.a, many, 300);
	ck_assert_uint_eq(bgp_aspath_length(&r.a), 300);
	ck_assert_uint_eq(r.a.aspath->len, 4 + 1200);
	ck_assert_uint_eq(r.a.aspath->data[1], 255);
	ck_assert_uint_eq(r.a.aspath->data[2 + 255 * 4 + 1], 45);
	bgp_aspath_prepend(&r.a, 1);		/* first segment full */
	ck_assert_uint_eq(r.a.aspath->data[1], 1);
	ck_assert_uint_eq(bgp_aspath_first_as(&r.a), 1);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_format_origin_communities)
{
	struct bgp_attrs a;
	const uint32_t c[] = { 0xfde80001, 0xffffff02, 0xffffff03, 0xffff029a,
	    0x00010002 };
	char buf[128];

	ck_assert_str_eq(bgp_origin_name(0), "IGP");
	ck_assert_str_eq(bgp_origin_name(1), "EGP");
	ck_assert_str_eq(bgp_origin_name(2), "incomplete");
	ck_assert_str_eq(bgp_origin_name(7), "?");
	bgp_attrs_init(&a);
	ck_assert_str_eq(bgp_communities_fmt(&a, buf, sizeof(buf)), "");
	bgp_attrs_set_communities(&a, c, 5);
	ck_assert_str_eq(bgp_communities_fmt(&a, buf, sizeof(buf)),
	    "65000:1 no-advertise local-AS blackhole 1:2");
	ck_assert(bgp_communities_contains(&a, 0xffffff02));
	ck_assert(!bgp_communities_contains(&a, 0xffffff01));
	bgp_attrs_clear(&a);
	assert_tables_empty();
}
END_TEST

/* Every row of the attribute table formats what the set holds. */
START_TEST(test_format_by_row)
{
	static const uint8_t v6nh[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t pmsi_id[4] = { 10, 0, 0, 7 };
	struct bgp_attrs a;
	const uint32_t path[] = { 65001, 65002 }, comm[] = { 0xfde80001 };
	struct rt rt;
	char buf[128];

	bgp_attrs_init(&a);
	ck_assert_ptr_null(bgp_attr_fmt(&a, BGP_ATTR_ORIGIN, buf, sizeof(buf)));
	bgp_attrs_set_origin(&a, BGP_ORIGIN_EGP);
	bgp_attrs_set_aspath_seq(&a, path, 2);
	bgp_attrs_set_nexthop(&a, 0x0a000001);
	bgp_attrs_set_med(&a, 7);
	bgp_attrs_set_local_pref(&a, 200);
	a.flags |= BGP_ATTRF_ATOMIC_AGGR | BGP_ATTRF_AGGREGATOR;
	a.aggregator_as = 65003;
	a.aggregator_id = 0x0a000003;
	bgp_attrs_set_communities(&a, comm, 1);
	bgp_attrs_set_originator_id(&a, 0x0a000009);
	bgp_cluster_list_prepend(&a, 0x0a000008);
	bgp_cluster_list_prepend(&a, 0x0a000007);
	bgp_attrs_set_mp_nexthop(&a, v6nh, 16);
	rt_make_as2(&rt, 65000, 100);
	bgp_attrs_set_ecomms(&a, rt.b, 1);
	bgp_attrs_set_pmsi(&a, 0, 6, 100, pmsi_id, 4);

#define FMT(t)	bgp_attr_fmt(&a, (t), buf, sizeof(buf))
	ck_assert_str_eq(FMT(BGP_ATTR_ORIGIN), "EGP");
	ck_assert_str_eq(FMT(BGP_ATTR_AS_PATH), "65001 65002");
	ck_assert_str_eq(FMT(BGP_ATTR_NEXT_HOP), "10.0.0.1");
	ck_assert_str_eq(FMT(BGP_ATTR_MED), "7");
	ck_assert_str_eq(FMT(BGP_ATTR_LOCAL_PREF), "200");
	ck_assert_str_eq(FMT(BGP_ATTR_ATOMIC_AGGREGATE), "");
	ck_assert_str_eq(FMT(BGP_ATTR_AGGREGATOR), "65003 10.0.0.3");
	ck_assert_str_eq(FMT(BGP_ATTR_COMMUNITIES), "65000:1");
	ck_assert_str_eq(FMT(BGP_ATTR_ORIGINATOR_ID), "10.0.0.9");
	ck_assert_str_eq(FMT(BGP_ATTR_CLUSTER_LIST), "10.0.0.7 10.0.0.8");
	ck_assert_str_eq(FMT(BGP_ATTR_MP_REACH_NLRI), "2001:db8::1");
	ck_assert_str_eq(FMT(BGP_ATTR_EXT_COMMUNITIES), "RT:65000:100");
	ck_assert_str_eq(FMT(BGP_ATTR_PMSI_TUNNEL),
	    "type 6 label 100 id 10.0.0.7");
	/* Merged as read, or not part of a set: no text of their own. */
	ck_assert_ptr_null(FMT(BGP_ATTR_AS4_PATH));
	ck_assert_ptr_null(FMT(BGP_ATTR_AS4_AGGREGATOR));
	ck_assert_ptr_null(FMT(BGP_ATTR_MP_UNREACH_NLRI));
	ck_assert_ptr_null(FMT(99));
#undef FMT

	ck_assert_str_eq(bgp_attr_name(BGP_ATTR_AS_PATH), "AS_PATH");
	ck_assert_str_eq(bgp_attr_name(BGP_ATTR_PMSI_TUNNEL), "PMSI_TUNNEL");
	ck_assert_ptr_null(bgp_attr_name(99));
	bgp_attrs_clear(&a);
	assert_tables_empty();
}
END_TEST

START_TEST(test_loop_detection)
{
	struct bgp_attr_ctx ctx = ctx_ebgp();
	struct bgp_attrs a;
	const uint32_t path[] = { 65001, 65000 };

	bgp_attrs_init(&a);
	bgp_attrs_set_aspath_seq(&a, path, 1);
	ck_assert(!bgp_attrs_looped(&a, &ctx));
	bgp_attrs_set_aspath_seq(&a, path, 2);
	ck_assert(bgp_attrs_looped(&a, &ctx));		/* our AS */
	ctx = ctx_ibgp();
	ck_assert(!bgp_attrs_looped(&a, &ctx));
	bgp_attrs_set_originator_id(&a, ctx.router_id);
	ck_assert(bgp_attrs_looped(&a, &ctx));		/* RFC 4456 §8 */
	bgp_attrs_unset(&a, BGP_ATTRF_ORIGINATOR_ID);
	ck_assert(!bgp_attrs_looped(&a, &ctx));
	bgp_cluster_list_prepend(&a, 0x01020304);
	ck_assert(!bgp_attrs_looped(&a, &ctx));
	bgp_cluster_list_prepend(&a, ctx.cluster_id);
	ck_assert(bgp_attrs_looped(&a, &ctx));
	encode_check(&a, true, B(
	    0x50, 0x02, 0x00, 0x0a, 0x02, 0x02, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd,
	    0xe8,
	    0x80, 0x0a, 0x08, 0x0a, 0, 0, 0x63, 0x01, 0x02, 0x03, 0x04), 25);
	bgp_attrs_clear(&a);
	assert_tables_empty();
}
END_TEST

/* ---- real FRR 8.4 UPDATEs (tests/fixtures, captured by the evpn work) ---- */

/* Each attribute as (flags without Extended Length, type, value), so two
 * lists that differ only in how lengths were written compare equal. */
static void
attrs_normalise(const uint8_t *p, size_t len, struct wbuf *out)
{
	struct rbuf rb, val;
	uint8_t flags, type, l8;
	uint16_t l;

	rbuf_init(&rb, p, len);
	while (rbuf_left(&rb) > 0) {
		ck_assert_int_eq(rbuf_get_u8(&rb, &flags), 0);
		ck_assert_int_eq(rbuf_get_u8(&rb, &type), 0);
		if (flags & BGP_ATTR_FLAG_EXTLEN)
			ck_assert_int_eq(rbuf_get_u16(&rb, &l), 0);
		else {
			ck_assert_int_eq(rbuf_get_u8(&rb, &l8), 0);
			l = l8;
		}
		ck_assert_int_eq(rbuf_slice(&rb, l, &val), 0);
		wbuf_put_u8(out, flags & ~BGP_ATTR_FLAG_EXTLEN);
		wbuf_put_u8(out, type);
		wbuf_put_u16(out, l);
		wbuf_put_bytes(out, rbuf_ptr(&val), l);
	}
}

/* Decode the attributes of a captured UPDATE, check them, re-encode and
 * compare with what FRR sent. */
static void
check_frr_update(const char *fixture, uint8_t nlri_count_min, bool pmsi)
{
	struct bgp_attr_ctx ctx = ctx_ibgp();
	struct bgp_attr_enc_ctx ec = { .as4 = true };
	uint8_t msg[4096];
	size_t len = fixture_hex(fixture, msg, sizeof(msg));
	struct rbuf rb, attrs;
	uint16_t wlen, alen;
	struct dec_result r;
	struct wbuf got, want, norm;
	struct ipaddr nh;
	char buf[128];

	ck_assert_uint_gt(len, 23);
	ck_assert_uint_eq(msg[18], BGP_MSG_UPDATE);
	rbuf_init(&rb, msg + 19, len - 19);
	ck_assert_int_eq(rbuf_get_u16(&rb, &wlen), 0);
	ck_assert_int_eq(rbuf_skip(&rb, wlen), 0);
	ck_assert_int_eq(rbuf_get_u16(&rb, &alen), 0);
	ck_assert_int_eq(rbuf_slice(&rb, alen, &attrs), 0);
	ctx.nlri_present = rbuf_left(&rb) > 0;

	memset(&r, 0, sizeof(r));
	r.act = bgp_attrs_decode(&attrs, &ctx, &r.a, &r.mpr, &r.mpu, &r.err);
	assert_err(&r, BGP_ATTR_OK, 0, 0);
	ck_assert(r.mpr.present);
	ck_assert_uint_eq(r.mpr.afi, AFI_L2VPN);
	ck_assert_uint_eq(r.mpr.safi, SAFI_EVPN);
	ck_assert_uint_ge(rbuf_left(&r.mpr.nlri), nlri_count_min);
	bgp_attrs_get_mp_nexthop(&r.a, &nh);
	ck_assert_str_eq(ipaddr_fmt(&nh, buf, sizeof(buf)), "10.0.0.2");
	ck_assert_uint_eq(r.a.origin, BGP_ORIGIN_IGP);
	ck_assert_uint_eq(bgp_aspath_length(&r.a), 0);
	ck_assert_uint_eq(r.a.local_pref, 100);
	ck_assert_str_eq(bgp_ecomms_fmt(&r.a, buf, sizeof(buf)),
	    "ET:8 RT:65000:100");
	ck_assert_int_eq(!!(r.a.flags & BGP_ATTRF_PMSI), pmsi);
	if (pmsi) {
		ck_assert_uint_eq(r.a.pmsi_type, 6);	/* ingress replication */
		ck_assert_uint_eq(r.a.pmsi_label, 100);	/* the VNI */
		ck_assert_uint_eq(r.a.pmsi_id->len, 4);
		ck_assert_int_eq(memcmp(r.a.pmsi_id->data, B(10, 0, 0, 2), 4),
		    0);
	}

	/* Same attributes, same order, same values as FRR's. */
	ec.mp_reach = &r.mpr;
	wbuf_init(&got, 0);
	bgp_attrs_encode(&got, &r.a, &ec);
	wbuf_init(&want, 0);
	wbuf_init(&norm, 0);
	attrs_normalise(attrs.data, attrs.len, &want);
	attrs_normalise(got.data, got.len, &norm);
	assert_bytes(norm.data, norm.len, want.data, want.len);
	wbuf_free(&got);
	wbuf_free(&want);
	wbuf_free(&norm);
	bgp_attrs_clear(&r.a);
	assert_tables_empty();
}

START_TEST(test_frr_type2_update)
{
	check_frr_update("evpn_frr84_type2.hex", 4 * 35, false);
}
END_TEST

START_TEST(test_frr_type3_update)
{
	check_frr_update("evpn_frr84_type3.hex", 19, true);
}
END_TEST

static Suite *
attr_suite(void)
{
	Suite *s = suite_create("attr");
	TCase *tc;

	tc = tcase_create("codec");
	tcase_add_test(tc, test_decode_every_attribute);
	tcase_add_test(tc, test_encode_from_setters_in_type_order);
	tcase_add_test(tc, test_extended_length);
	tcase_add_test(tc, test_mp_reach_evpn_roundtrip);
	tcase_add_test(tc, test_mp_encode_helpers);
	tcase_add_test(tc, test_mp_unreach_end_of_rib);
	tcase_add_test(tc, test_unknown_attributes);
	tcase_add_test(tc, test_frr_type2_update);
	tcase_add_test(tc, test_frr_type3_update);
	suite_add_tcase(s, tc);

	tc = tcase_create("intern");
	tcase_add_test(tc, test_intern_shares_identical_sets);
	tcase_add_test(tc, test_intern_ignores_absent_fields);
	tcase_add_test(tc, test_intern_many_sets_and_copy);
	suite_add_tcase(s, tc);

	tc = tcase_create("as4");
	tcase_add_test(tc, test_as4_merge);
	tcase_add_test(tc, test_as4_merge_ignored);
	tcase_add_test(tc, test_as2_encode_without_wide_as);
	suite_add_tcase(s, tc);

	tc = tcase_create("rfc7606");
	tcase_add_test(tc, test_7606_origin);
	tcase_add_test(tc, test_7606_aspath);
	tcase_add_test(tc, test_7606_nexthop);
	tcase_add_test(tc, test_7606_med_local_pref);
	tcase_add_test(tc, test_7606_atomic_aggregator);
	tcase_add_test(tc, test_7606_lists);
	tcase_add_test(tc, test_7606_pmsi);
	tcase_add_test(tc, test_7606_duplicates);
	tcase_add_test(tc, test_7606_missing_mandatory);
	tcase_add_test(tc, test_7606_overrun);
	tcase_add_test(tc, test_7606_mp_reach_malformed);
	tcase_add_test(tc, test_7606_most_severe_wins);
	tcase_add_test(tc, test_notify_data_truncated);
	suite_add_tcase(s, tc);

	tc = tcase_create("helpers");
	tcase_add_test(tc, test_ecomm_helpers);
	tcase_add_test(tc, test_aspath_helpers_and_format);
	tcase_add_test(tc, test_format_origin_communities);
	tcase_add_test(tc, test_format_by_row);
	tcase_add_test(tc, test_loop_detection);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(attr_suite());
	int failed;

	/* The family the vectors use: evpn_create() registers it in evpnd. */
	bgp_af_register(&evpn_af);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
