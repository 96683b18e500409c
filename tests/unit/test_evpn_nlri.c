/*
 * EVPN NLRI codec: byte vectors for every route type and length variant,
 * every rejection, round trips, key order, hash and packed layout, FRR's
 * prefix strings, and UPDATEs captured from a real FRR 8.4
 * (tests/fixtures/evpn_frr84_*, made by tests/fixtures/capture_frr_evpn.sh).
 */
#include <check.h>
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/buf.h"
#include "common/util.h"
#include "evpn/evpn_nlri.h"

/* Pieces of NLRI values, hex. */
#define RD_A	"00010a0000020002"		/* 10.0.0.2:2 */
#define RD_B	"0000fde800000064"		/* 65000:100 */
#define ESI0	"00000000000000000000"
#define ESI1	"00112233445566778899"
#define TAG0	"00000000"
#define TAG7	"00000007"
#define MAC5	"020000000005"
#define IP4	"0a0a0005"			/* 10.10.0.5 */
#define IP6	"fd000000000000000000000000000005"	/* fd00::5 */
#define LBL100	"000064"
#define LBL5000	"001388"

#define T2_MAC_VAL	RD_A ESI0 TAG0 "30" MAC5 "00" LBL100
#define T2_V4_VAL	RD_A ESI0 TAG0 "30" MAC5 "20" IP4 LBL100
#define T3_V4_VAL	RD_A TAG0 "20" "0a00000b"
#define T5_V4_VAL	RD_A ESI0 TAG0 "18" "0a140000" "00000000" LBL5000

static size_t
hex_to_bytes(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned int v;

	while (*hex != '\0') {
		if (isspace((unsigned char)*hex)) {
			hex++;
			continue;
		}
		ck_assert_msg(n < max, "hex vector too long");
		ck_assert_int_eq(sscanf(hex, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

static void
ip_str(const struct evpn_route *r, char *buf, size_t len)
{
	struct ipaddr a;

	evpn_route_get_ip(r, &a);
	ipaddr_fmt(&a, buf, len);
}

static void
gw_str(const struct evpn_route *r, char *buf, size_t len)
{
	struct ipaddr a;

	evpn_route_get_gw(r, &a);
	ipaddr_fmt(&a, buf, len);
}

/* --- valid vectors: decode, check every field, re-encode ------------ */

struct vector {
	const char	*hex;
	uint8_t		 type;
	const char	*rd;
	uint32_t	 eth_tag;
	const char	*esi;
	const char	*mac;		/* NULL: not type 2 */
	const char	*ip;		/* ipaddr_fmt form, "none" if absent */
	uint8_t		 plen;
	const char	*gw;
	uint8_t		 nlabels;
	uint32_t	 label[2];
	const char	*prefix;	/* FRR form */
};

static const struct vector vectors[] = {
	{ "0119" RD_A ESI1 TAG7 LBL100, 1, "10.0.0.2:2", 7,
	    "00:11:22:33:44:55:66:77:88:99", NULL, "none", 0, "none", 1,
	    { 100, 0 }, "[1]:[7]:[00:11:22:33:44:55:66:77:88:99]" },
	{ "0221" T2_MAC_VAL, 2, "10.0.0.2:2", 0,
	    "00:00:00:00:00:00:00:00:00:00", "02:00:00:00:00:05", "none", 0,
	    "none", 1, { 100, 0 }, "[2]:[0]:[48]:[02:00:00:00:00:05]" },
	{ "0224" T2_MAC_VAL LBL5000, 2, "10.0.0.2:2", 0,
	    "00:00:00:00:00:00:00:00:00:00", "02:00:00:00:00:05", "none", 0,
	    "none", 2, { 100, 5000 }, "[2]:[0]:[48]:[02:00:00:00:00:05]" },
	{ "0225" T2_V4_VAL, 2, "10.0.0.2:2", 0,
	    "00:00:00:00:00:00:00:00:00:00", "02:00:00:00:00:05", "10.10.0.5",
	    0, "none", 1, { 100, 0 },
	    "[2]:[0]:[48]:[02:00:00:00:00:05]:[32]:[10.10.0.5]" },
	{ "0228" RD_B ESI1 TAG7 "30" MAC5 "20" IP4 LBL100 LBL5000, 2,
	    "65000:100", 7, "00:11:22:33:44:55:66:77:88:99",
	    "02:00:00:00:00:05", "10.10.0.5", 0, "none", 2, { 100, 5000 },
	    "[2]:[7]:[48]:[02:00:00:00:00:05]:[32]:[10.10.0.5]" },
	{ "0231" RD_A ESI0 TAG0 "30" MAC5 "80" IP6 LBL100, 2, "10.0.0.2:2", 0,
	    "00:00:00:00:00:00:00:00:00:00", "02:00:00:00:00:05", "fd00::5",
	    0, "none", 1, { 100, 0 },
	    "[2]:[0]:[48]:[02:00:00:00:00:05]:[128]:[fd00::5]" },
	{ "0234" RD_A ESI0 TAG0 "30" MAC5 "80" IP6 "ffffff" LBL5000, 2,
	    "10.0.0.2:2", 0, "00:00:00:00:00:00:00:00:00:00",
	    "02:00:00:00:00:05", "fd00::5", 0, "none", 2, { 0xffffff, 5000 },
	    "[2]:[0]:[48]:[02:00:00:00:00:05]:[128]:[fd00::5]" },
	{ "0311" T3_V4_VAL, 3, "10.0.0.2:2", 0, "00:00:00:00:00:00:00:00:00:00",
	    NULL, "10.0.0.11", 0, "none", 0, { 0, 0 },
	    "[3]:[0]:[32]:[10.0.0.11]" },
	{ "031d" RD_B TAG7 "80" IP6, 3, "65000:100", 7,
	    "00:00:00:00:00:00:00:00:00:00", NULL, "fd00::5", 0, "none", 0,
	    { 0, 0 }, "[3]:[7]:[128]:[fd00::5]" },
	{ "0417" RD_A ESI1 "20" "0a00000b", 4, "10.0.0.2:2", 0,
	    "00:11:22:33:44:55:66:77:88:99", NULL, "10.0.0.11", 0, "none", 0,
	    { 0, 0 }, "[4]:[00:11:22:33:44:55:66:77:88:99]:[32]:[10.0.0.11]" },
	{ "0423" RD_A ESI1 "80" IP6, 4, "10.0.0.2:2", 0,
	    "00:11:22:33:44:55:66:77:88:99", NULL, "fd00::5", 0, "none", 0,
	    { 0, 0 }, "[4]:[00:11:22:33:44:55:66:77:88:99]:[128]:[fd00::5]" },
	{ "0522" T5_V4_VAL, 5, "10.0.0.2:2", 0,
	    "00:00:00:00:00:00:00:00:00:00", NULL, "10.20.0.0", 24, "0.0.0.0",
	    1, { 5000, 0 }, "[5]:[0]:[24]:[10.20.0.0]" },
	{ "053a" RD_A ESI1 TAG7 "40" "20010db8000100020000000000000000" IP6
	    LBL5000, 5, "10.0.0.2:2", 7, "00:11:22:33:44:55:66:77:88:99", NULL,
	    "2001:db8:1:2::", 64, "fd00::5", 1, { 5000, 0 },
	    "[5]:[7]:[64]:[2001:db8:1:2::]" },
};

static void
check_route(const struct evpn_route *r, const struct vector *v)
{
	char buf[EVPN_PREFIX_STRLEN];

	ck_assert_uint_eq(r->type, v->type);
	ck_assert_str_eq(rd_fmt(&r->rd, buf, sizeof(buf)), v->rd);
	ck_assert_uint_eq(r->eth_tag, v->eth_tag);
	ck_assert_str_eq(evpn_esi_fmt(&r->esi, buf, sizeof(buf)), v->esi);
	if (v->mac != NULL)
		ck_assert_str_eq(mac_fmt(&r->mac, buf, sizeof(buf)), v->mac);
	ip_str(r, buf, sizeof(buf));
	ck_assert_str_eq(buf, v->ip);
	ck_assert_uint_eq(r->plen, v->plen);
	gw_str(r, buf, sizeof(buf));
	ck_assert_str_eq(buf, v->gw);
	ck_assert_uint_eq(r->nlabels, v->nlabels);
	ck_assert_uint_eq(evpn_label_get(&r->label[0]), v->label[0]);
	ck_assert_uint_eq(evpn_label_get(&r->label[1]), v->label[1]);
	ck_assert_str_eq(evpn_route_prefix_fmt(r, buf, sizeof(buf)),
	    v->prefix);
}

START_TEST(test_vector_decode_encode)
{
	const struct vector *v = &vectors[_i];
	uint8_t b[EVPN_NLRI_MAX_LEN + 8];
	struct evpn_route r;
	struct rbuf rb;
	struct wbuf wb;
	size_t n;

	n = hex_to_bytes(v->hex, b, sizeof(b));
	ck_assert_uint_eq(n, 2 + (size_t)b[1]);
	rbuf_init(&rb, b, n);
	ck_assert_int_eq(evpn_nlri_decode(&rb, &r), 0);
	ck_assert_uint_eq(rbuf_left(&rb), 0);
	check_route(&r, v);

	ck_assert_uint_eq(evpn_nlri_len(&r), n);
	wbuf_init(&wb, 0);
	ck_assert_int_eq(evpn_nlri_encode(&wb, &r), 0);
	ck_assert_int_eq(wb.error, 0);
	ck_assert_uint_eq(wb.len, n);
	ck_assert_mem_eq(wb.data, b, n);
	wbuf_free(&wb);
}
END_TEST

/* The exact lengths the brief and RFCs give, per type and variant. */
START_TEST(test_lengths)
{
	static const uint8_t want[] = { 25, 33, 36, 37, 40, 49, 52, 17, 29,
	    23, 35, 34, 58 };
	uint8_t b[EVPN_NLRI_MAX_LEN + 8];

	ck_assert_uint_eq(nitems(vectors), sizeof(want));
	for (size_t i = 0; i < sizeof(want); i++) {
		hex_to_bytes(vectors[i].hex, b, sizeof(b));
		ck_assert_uint_eq(b[1], want[i]);
	}
}
END_TEST

/* --- rejections ------------------------------------------------------ */

static const char *const malformed[] = {
	"02",					/* no length byte */
	"0200",					/* empty value */
	"0311" RD_A TAG0,			/* length past the data */
	"0118" RD_A ESI1 "000000" LBL100,	/* type 1: 24 */
	"011a" RD_A ESI1 TAG0 LBL100 "00",	/* type 1: 26 */
	"0222" T2_MAC_VAL "00",			/* type 2: 34 */
	"0220" RD_A ESI0 TAG0 "30" MAC5 "00" "0000",	/* type 2: 32 */
	"0226" T2_V4_VAL "00",			/* type 2: 38 */
	"0235" RD_A ESI0 TAG0 "30" MAC5 "80" IP6 LBL100 "000000" "00",
	"0221" RD_A ESI0 TAG0 "2f" MAC5 "00" LBL100,	/* MAC length 47 */
	"0221" RD_A ESI0 TAG0 "00" MAC5 "00" LBL100,	/* MAC length 0 */
	"0221" RD_A ESI0 TAG0 "30" MAC5 "20" LBL100,	/* IP 32 in 33 */
	"0225" RD_A ESI0 TAG0 "30" MAC5 "00" IP4 LBL100, /* IP 0 in 37 */
	"0225" RD_A ESI0 TAG0 "30" MAC5 "18" IP4 LBL100, /* IP 24 */
	"0225" RD_A ESI0 TAG0 "30" MAC5 "80" IP4 LBL100, /* IP 128 in 37 */
	"0225" RD_A ESI0 TAG0 "30" MAC5 "21" IP4 LBL100, /* IP 33: 33/8 = 4 */
	"0231" RD_A ESI0 TAG0 "30" MAC5 "87" IP6 LBL100, /* IP 135 */
	"0231" RD_A ESI0 TAG0 "30" MAC5 "20" IP6 LBL100, /* IP 32 in 49 */
	"0310" RD_A TAG0 "20" "0a0000",		/* type 3: 16 */
	"0312" T3_V4_VAL "00",			/* type 3: 18 */
	"0311" RD_A TAG0 "80" "0a00000b",	/* IP 128 in 17 */
	"0311" RD_A TAG0 "00" "0a00000b",	/* IP 0 in 17 */
	"031d" RD_A TAG0 "20" IP6,		/* IP 32 in 29 */
	"031d" RD_A TAG0 "81" IP6,		/* IP 129 */
	"0416" RD_A ESI1 "20" "0a0000",		/* type 4: 22 */
	"0417" RD_A ESI1 "80" "0a00000b",	/* IP 128 in 23 */
	"0423" RD_A ESI1 "20" IP6,		/* IP 32 in 35 */
	"0417" RD_A ESI1 "27" "0a00000b",	/* IP 39 */
	"0523" T5_V4_VAL "00",			/* type 5: 35 */
	"052a" RD_A ESI0 TAG0 "40" IP6 LBL5000,	/* type 5 IPv6, no GW: 42 */
	"0522" RD_A ESI0 TAG0 "21" "0a140000" "00000000" LBL5000, /* /33 */
	"053a" RD_A ESI0 TAG0 "81" IP6 IP6 LBL5000,	/* /129 */
};

START_TEST(test_malformed_rejected)
{
	uint8_t b[EVPN_NLRI_MAX_LEN + 8];
	struct evpn_route r;
	struct rbuf rb;
	size_t n;

	n = hex_to_bytes(malformed[_i], b, sizeof(b));
	rbuf_init(&rb, b, n);
	memset(&r, 0xaa, sizeof(r));
	ck_assert_int_eq(evpn_nlri_decode(&rb, &r), -1);
	/* The reader stays put and nothing half-decoded leaks out. */
	ck_assert_uint_eq(rbuf_left(&rb), n);
	ck_assert_uint_eq(r.type, 0);
	ck_assert_uint_eq(r.af, 0);
	rbuf_init(&rb, b, n);
	ck_assert_int_eq(evpn_nlri_decode_all(&rb, NULL, NULL), -1);
}
END_TEST

struct collect {
	struct evpn_route r[16];
	size_t		 n;
	int		 stop_at;	/* return 7 after this many; 0 never */
};

static int
collect_cb(const struct evpn_route *r, void *arg)
{
	struct collect *c = arg;

	ck_assert_uint_lt(c->n, nitems(c->r));
	c->r[c->n++] = *r;
	return c->stop_at != 0 && (int)c->n == c->stop_at ? 7 : 0;
}

START_TEST(test_decode_all_trailing_bytes)
{
	uint8_t b[128];
	struct collect c = { .n = 0 };
	struct rbuf rb;
	size_t n;

	/* A good route followed by one stray byte spoils the field. */
	n = hex_to_bytes("0311" T3_V4_VAL "03", b, sizeof(b));
	rbuf_init(&rb, b, n);
	ck_assert_int_eq(evpn_nlri_decode_all(&rb, collect_cb, &c), -1);
	/* ... and a route cut short at the end too. */
	n = hex_to_bytes("0311" T3_V4_VAL "0311" RD_A, b, sizeof(b));
	rbuf_init(&rb, b, n);
	ck_assert_int_eq(evpn_nlri_decode_all(&rb, NULL, NULL), -1);
}
END_TEST

START_TEST(test_unknown_type_skipped)
{
	uint8_t b[128];
	struct collect c = { .n = 0 };
	struct evpn_route r;
	struct rbuf rb;
	size_t n;

	/* Type 11 (RFC 9572 leaf A-D) with 3 bytes, then a type 3. */
	n = hex_to_bytes("0b03aabbcc" "0311" T3_V4_VAL "0000", b, sizeof(b));
	rbuf_init(&rb, b, n);
	ck_assert_int_eq(evpn_nlri_decode(&rb, &r), 1);
	ck_assert_uint_eq(r.type, 11);
	ck_assert_uint_eq(rbuf_left(&rb), n - 5);
	rbuf_init(&rb, b, n);
	ck_assert_int_eq(evpn_nlri_decode_all(&rb, collect_cb, &c), 0);
	/* Type 0 is unknown too: "0000" is skipped like any other. */
	ck_assert_uint_eq(c.n, 1);
	ck_assert_uint_eq(c.r[0].type, 3);
}
END_TEST

START_TEST(test_callback_stops_walk)
{
	uint8_t b[128];
	struct collect c = { .n = 0, .stop_at = 2 };
	struct rbuf rb;
	size_t n;

	n = hex_to_bytes("0311" T3_V4_VAL "0221" T2_MAC_VAL "0311" T3_V4_VAL,
	    b, sizeof(b));
	rbuf_init(&rb, b, n);
	ck_assert_int_eq(evpn_nlri_decode_all(&rb, collect_cb, &c), 7);
	ck_assert_uint_eq(c.n, 2);
	ck_assert_uint_eq(c.r[1].type, 2);
}
END_TEST

START_TEST(test_encode_rejects_invalid)
{
	struct evpn_route r;
	struct wbuf wb;
	struct rd rd;

	ck_assert_int_eq(rd_parse("10.0.0.2:2", &rd), 0);
	wbuf_init(&wb, 0);
	memset(&r, 0, sizeof(r));
	r.type = 6;
	ck_assert_int_eq(evpn_nlri_encode(&wb, &r), -1);
	r.type = 0;
	ck_assert_int_eq(evpn_nlri_encode(&wb, &r), -1);
	r.type = EVPN_RT_MACIP;			/* no label */
	ck_assert_int_eq(evpn_nlri_encode(&wb, &r), -1);
	r.nlabels = 3;
	ck_assert_int_eq(evpn_nlri_encode(&wb, &r), -1);
	r.nlabels = 1;
	r.af = 7;
	ck_assert_int_eq(evpn_nlri_encode(&wb, &r), -1);
	r.type = EVPN_RT_IMET;			/* needs an originator */
	r.af = 0;
	ck_assert_int_eq(evpn_nlri_encode(&wb, &r), -1);
	r.type = EVPN_RT_PREFIX;
	r.af = AF_INET;
	r.plen = 33;
	ck_assert_int_eq(evpn_nlri_encode(&wb, &r), -1);
	r.plen = 24;
	r.nlabels = 0;
	ck_assert_int_eq(evpn_nlri_encode(&wb, &r), -1);
	r.type = EVPN_RT_EAD;
	ck_assert_int_eq(evpn_nlri_encode(&wb, &r), -1);
	ck_assert_uint_eq(wb.len, 0);
	ck_assert_uint_eq(evpn_nlri_len(&r), 0);
	wbuf_free(&wb);
}
END_TEST

/* --- building the routes we originate -------------------------------- */

static void
check_encodes_to(const struct evpn_route *r, const char *hex)
{
	uint8_t b[EVPN_NLRI_MAX_LEN + 8];
	struct wbuf wb;
	size_t n = hex_to_bytes(hex, b, sizeof(b));

	wbuf_init(&wb, 0);
	ck_assert_int_eq(evpn_nlri_encode(&wb, r), 0);
	ck_assert_uint_eq(wb.len, n);
	ck_assert_mem_eq(wb.data, b, n);
	wbuf_free(&wb);
}

START_TEST(test_make_routes)
{
	struct evpn_route r;
	struct macaddr mac;
	struct ipaddr ip, ip6, gw;
	struct prefix p;
	struct rd rd;

	ck_assert_int_eq(rd_parse("10.0.0.2:2", &rd), 0);
	ck_assert_int_eq(mac_parse("02:00:00:00:00:05", &mac), 0);
	ck_assert_int_eq(ipaddr_parse("10.10.0.5", &ip), 0);
	ck_assert_int_eq(ipaddr_parse("fd00::5", &ip6), 0);

	ck_assert_int_eq(evpn_route_make_macip(&r, &rd, &mac, NULL, 100, 0), 0);
	check_encodes_to(&r, "0221" T2_MAC_VAL);
	ck_assert_int_eq(evpn_route_make_macip(&r, &rd, &mac, &ip, 100, 0), 0);
	check_encodes_to(&r, "0225" T2_V4_VAL);
	ck_assert_int_eq(evpn_route_make_macip(&r, &rd, &mac, &ip, 100, 5000),
	    0);
	check_encodes_to(&r, "0228" T2_V4_VAL LBL5000);
	ck_assert_int_eq(evpn_route_make_macip(&r, &rd, &mac, &ip6, 100, 0),
	    0);
	check_encodes_to(&r, "0231" RD_A ESI0 TAG0 "30" MAC5 "80" IP6 LBL100);
	ck_assert_int_eq(evpn_route_make_macip(&r, &rd, &mac, &ip, 1u << 24,
	    0), -1);

	ck_assert_int_eq(ipaddr_parse("10.0.0.11", &ip), 0);
	ck_assert_int_eq(evpn_route_make_imet(&r, &rd, &ip), 0);
	check_encodes_to(&r, "0311" T3_V4_VAL);
	ck_assert_int_eq(evpn_route_make_imet(&r, &rd, NULL), -1);

	ck_assert_int_eq(prefix_parse("10.20.0.0/24", &p, false), 0);
	ck_assert_int_eq(evpn_route_make_prefix(&r, &rd, &p, NULL, 5000), 0);
	check_encodes_to(&r, "0522" T5_V4_VAL);
	ck_assert_int_eq(ipaddr_parse("10.0.0.9", &gw), 0);
	ck_assert_int_eq(evpn_route_make_prefix(&r, &rd, &p, &gw, 5000), 0);
	check_encodes_to(&r, "0522" RD_A ESI0 TAG0 "18" "0a140000" "0a000009"
	    LBL5000);
	/* Gateway of the other family: RFC 9136 §3.1 has one length. */
	ck_assert_int_eq(evpn_route_make_prefix(&r, &rd, &p, &ip6, 5000), -1);
}
END_TEST

/* --- key: order, hash, sameness --------------------------------------- */

static void
decode_hex(const char *hex, struct evpn_route *r)
{
	uint8_t b[EVPN_NLRI_MAX_LEN + 8];
	struct rbuf rb;

	rbuf_init(&rb, b, hex_to_bytes(hex, b, sizeof(b)));
	ck_assert_int_eq(evpn_nlri_decode(&rb, r), 0);
}

static void
assert_key_equal(const struct evpn_route *a, const struct evpn_route *b)
{
	ck_assert_int_eq(evpn_route_cmp(a, b), 0);
	ck_assert_int_eq(evpn_route_cmp(b, a), 0);
	ck_assert_uint_eq(evpn_route_hash(a), evpn_route_hash(b));
}

static void
assert_key_less(const struct evpn_route *a, const struct evpn_route *b)
{
	ck_assert_int_lt(evpn_route_cmp(a, b), 0);
	ck_assert_int_gt(evpn_route_cmp(b, a), 0);
	ck_assert_uint_ne(evpn_route_hash(a), evpn_route_hash(b));
}

START_TEST(test_key_excludes_attributes)
{
	struct evpn_route a, b;

	/* Type 2: ESI and labels are attributes (RFC 7432 §7.2). */
	decode_hex("0225" T2_V4_VAL, &a);
	decode_hex("0228" RD_A ESI1 TAG0 "30" MAC5 "20" IP4 "0000c8" LBL5000,
	    &b);
	assert_key_equal(&a, &b);
	ck_assert(!evpn_route_same(&a, &b));
	ck_assert(evpn_route_same(&a, &a));
	/* Only the label differs: same key, not the same route. */
	decode_hex("0225" RD_A ESI0 TAG0 "30" MAC5 "20" IP4 "000065", &b);
	assert_key_equal(&a, &b);
	ck_assert(!evpn_route_same(&a, &b));

	/* Type 5: ESI, gateway and label are attributes (RFC 9136 §3.1). */
	decode_hex("0522" T5_V4_VAL, &a);
	decode_hex("0522" RD_A ESI1 TAG0 "18" "0a140000" "0a000009" "000001",
	    &b);
	assert_key_equal(&a, &b);
	ck_assert(!evpn_route_same(&a, &b));
	decode_hex("0522" RD_A ESI0 TAG0 "18" "0a140000" "0a000009" LBL5000,
	    &b);
	ck_assert(!evpn_route_same(&a, &b));

	/* Type 1: the label is not part of the key (RFC 7432 §7.1). */
	decode_hex("0119" RD_A ESI1 TAG7 LBL100, &a);
	decode_hex("0119" RD_A ESI1 TAG7 LBL5000, &b);
	assert_key_equal(&a, &b);
	ck_assert(!evpn_route_same(&a, &b));
}
END_TEST

START_TEST(test_key_order)
{
	struct evpn_route a, b;

	/* Type first: any type 2 sorts before any type 3. */
	decode_hex("0225" RD_B ESI0 TAG7 "30" MAC5 "20" IP4 LBL100, &a);
	decode_hex("0311" T3_V4_VAL, &b);
	assert_key_less(&a, &b);
	/* Then RD: 10.0.0.2:2 (type 1) after 65000:100 (type 0). */
	decode_hex("0225" RD_B ESI0 TAG0 "30" MAC5 "20" IP4 LBL100, &a);
	decode_hex("0225" T2_V4_VAL, &b);
	assert_key_less(&a, &b);
	/* Type 2: tag, MAC, then MAC-only before MAC+IP, v4 before v6. */
	decode_hex("0225" T2_V4_VAL, &a);
	decode_hex("0225" RD_A ESI0 TAG7 "30" MAC5 "20" IP4 LBL100, &b);
	assert_key_less(&a, &b);
	decode_hex("0225" T2_V4_VAL, &a);
	decode_hex("0225" RD_A ESI0 TAG0 "30" "020000000006" "20" IP4 LBL100,
	    &b);
	assert_key_less(&a, &b);
	decode_hex("0221" T2_MAC_VAL, &a);
	decode_hex("0225" T2_V4_VAL, &b);
	assert_key_less(&a, &b);
	decode_hex("0225" T2_V4_VAL, &a);
	decode_hex("0231" RD_A ESI0 TAG0 "30" MAC5 "80" IP6 LBL100, &b);
	assert_key_less(&a, &b);
	/* Type 3: the originator is the key. */
	decode_hex("0311" T3_V4_VAL, &a);
	decode_hex("0311" RD_A TAG0 "20" "0a00000c", &b);
	assert_key_less(&a, &b);
	/* Type 4: ESI, then originator. */
	decode_hex("0417" RD_A ESI0 "20" "0a00000c", &a);
	decode_hex("0417" RD_A ESI1 "20" "0a00000b", &b);
	assert_key_less(&a, &b);
	/* Type 5: /24 and /25 of one address differ; v4 0/0 vs v6 ::/0. */
	decode_hex("0522" T5_V4_VAL, &a);
	decode_hex("0522" RD_A ESI0 TAG0 "19" "0a140000" "00000000" LBL5000,
	    &b);
	assert_key_less(&a, &b);
	decode_hex("0522" RD_A ESI0 TAG0 "00" "00000000" "00000000" LBL5000,
	    &a);
	decode_hex("053a" RD_A ESI0 TAG0 "00" "00000000000000000000000000000000"
	    "00000000000000000000000000000000" LBL5000, &b);
	assert_key_less(&a, &b);
}
END_TEST

/* Every pair of the vectors: cmp is antisymmetric, agrees with hash. */
START_TEST(test_cmp_hash_consistent)
{
	struct evpn_route r[nitems(vectors)];
	size_t n = nitems(vectors);

	for (size_t i = 0; i < n; i++)
		decode_hex(vectors[i].hex, &r[i]);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			int c = evpn_route_cmp(&r[i], &r[j]);

			ck_assert_int_eq(c, -evpn_route_cmp(&r[j], &r[i]));
			if (c == 0)
				ck_assert_uint_eq(evpn_route_hash(&r[i]),
				    evpn_route_hash(&r[j]));
			if (evpn_route_same(&r[i], &r[j]))
				ck_assert_int_eq(c, 0);
		}
	}
	/* Vectors 1 and 2 differ only in the second label. */
	ck_assert_int_eq(evpn_route_cmp(&r[1], &r[2]), 0);
	ck_assert(!evpn_route_same(&r[1], &r[2]));
}
END_TEST

/* --- packed key: the bytes the RIB stores ------------------------------ */

static void
check_key_bytes(const char *nlri_hex, const char *key_hex)
{
	uint8_t want[EVPN_KEY_LEN], key[EVPN_KEY_LEN];
	struct evpn_route r;

	decode_hex(nlri_hex, &r);
	ck_assert_uint_eq(hex_to_bytes(key_hex, want, sizeof(want)),
	    EVPN_KEY_LEN);
	evpn_key_pack(&r, key);
	ck_assert_mem_eq(key, want, EVPN_KEY_LEN);
	ck_assert_uint_eq(evpn_key_type(key), r.type);
}

/* The layout of evpn_nlri.h, one type at a time (AF_INET 2, AF_INET6 10). */
START_TEST(test_key_layout)
{
	check_key_bytes("0119" RD_A ESI1 TAG7 LBL100,
	    "01" "00" "00" TAG7 RD_A ESI1 "000000000000000000000000");
	check_key_bytes("0225" T2_V4_VAL,
	    "02" "02" "00" TAG0 RD_A MAC5 IP4 "000000000000000000000000");
	check_key_bytes("0311" T3_V4_VAL, "03" "02" "00" TAG0 RD_A "0a00000b"
	    "000000000000000000000000" "000000000000");
	check_key_bytes("0423" RD_A ESI1 "80" IP6,
	    "04" "0a" "00" RD_A ESI1 IP6);
	check_key_bytes("0522" T5_V4_VAL, "05" "02" "18" TAG0 RD_A "0a140000"
	    "000000000000000000000000" "000000000000");
}
END_TEST

/* Bytes past the family's address length are not part of the key. */
START_TEST(test_key_ignores_ip_tail)
{
	uint8_t ka[EVPN_KEY_LEN], kb[EVPN_KEY_LEN];
	struct evpn_route a, b;

	decode_hex("0225" T2_V4_VAL, &a);
	b = a;
	memset(b.ip + 4, 0xee, 12);
	evpn_key_pack(&a, ka);
	evpn_key_pack(&b, kb);
	ck_assert_mem_eq(ka, kb, EVPN_KEY_LEN);
	assert_key_equal(&a, &b);
}
END_TEST

/* Unpacking gives back the key fields and nothing else. */
START_TEST(test_key_roundtrip)
{
	uint8_t key[EVPN_KEY_LEN], again[EVPN_KEY_LEN];
	struct evpn_route r, want, u;

	decode_hex(vectors[_i].hex, &r);
	evpn_key_pack(&r, key);
	ck_assert_uint_eq(evpn_key_type(key), vectors[_i].type);
	evpn_key_unpack(key, &u);

	want = r;
	want.nlabels = 0;
	memset(want.label, 0, sizeof(want.label));
	if (r.type == EVPN_RT_MACIP || r.type == EVPN_RT_PREFIX)
		memset(&want.esi, 0, sizeof(want.esi));
	if (r.type == EVPN_RT_PREFIX)
		memset(want.gw, 0, sizeof(want.gw));
	ck_assert_mem_eq(&u, &want, sizeof(u));

	evpn_key_pack(&u, again);
	ck_assert_mem_eq(again, key, EVPN_KEY_LEN);
	assert_key_equal(&r, &u);
}
END_TEST

START_TEST(test_prefix_fmt_edge)
{
	struct evpn_route r;
	char buf[EVPN_PREFIX_STRLEN];

	/* FRR prints the tag of types 2, 3 and 5 with %d. */
	decode_hex("0311" RD_A "fffffffe" "20" "0a00000b", &r);
	ck_assert_str_eq(evpn_route_prefix_fmt(&r, buf, sizeof(buf)),
	    "[3]:[-2]:[32]:[10.0.0.11]");
	memset(&r, 0, sizeof(r));
	r.type = 9;
	ck_assert_str_eq(evpn_route_prefix_fmt(&r, buf, sizeof(buf)),
	    "[9]:[unknown]");
	/* Truncation is safe. */
	decode_hex("0225" T2_V4_VAL, &r);
	evpn_route_prefix_fmt(&r, buf, 10);
	ck_assert_str_eq(buf, "[2]:[0]:[");
}
END_TEST

/* --- fixtures ---------------------------------------------------------- */

static char *
fixture_path(const char *name)
{
	const char *top = getenv("top_srcdir");
	static char path[1024];

	snprintf(path, sizeof(path), "%s/tests/fixtures/%s",
	    top != NULL ? top : ".", name);
	return path;
}

/* The bytes of a fixture ('#' lines are comments): all data lines
 * joined when line_no < 0, else data line line_no (0-based) alone. */
static size_t
fixture_read(const char *name, int line_no, uint8_t *out, size_t max)
{
	char line[8192];
	FILE *f = fopen(fixture_path(name), "r");
	size_t n = 0;
	int k = 0;

	ck_assert_msg(f != NULL, "missing fixture %s", fixture_path(name));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (line_no < 0 || k++ == line_no)
			n += hex_to_bytes(line, out + n, max - n);
	}
	fclose(f);
	return n;
}

/*
 * Just enough UPDATE parsing to find MP_REACH_NLRI (RFC 4760 §3): the
 * attribute codec lives in bgpd and is not what is under test here.
 */
static void
find_mp_reach_nlri(const uint8_t *msg, size_t len, struct rbuf *nlri,
    struct rbuf *nexthop)
{
	struct rbuf rb, attrs, val;
	uint16_t wlen, alen, afi, vlen16;
	uint8_t flags, type, vlen8, safi, nhlen;

	ck_assert_uint_gt(len, 19);
	ck_assert_uint_eq(msg[18], 2);		/* UPDATE */
	rbuf_init(&rb, msg + 19, len - 19);
	ck_assert_int_eq(rbuf_get_u16(&rb, &wlen), 0);
	ck_assert_int_eq(rbuf_skip(&rb, wlen), 0);
	ck_assert_int_eq(rbuf_get_u16(&rb, &alen), 0);
	ck_assert_int_eq(rbuf_slice(&rb, alen, &attrs), 0);
	while (rbuf_left(&attrs) > 0) {
		ck_assert_int_eq(rbuf_get_u8(&attrs, &flags), 0);
		ck_assert_int_eq(rbuf_get_u8(&attrs, &type), 0);
		if (flags & 0x10) {
			ck_assert_int_eq(rbuf_get_u16(&attrs, &vlen16), 0);
		} else {
			ck_assert_int_eq(rbuf_get_u8(&attrs, &vlen8), 0);
			vlen16 = vlen8;
		}
		ck_assert_int_eq(rbuf_slice(&attrs, vlen16, &val), 0);
		if (type != 14)
			continue;
		ck_assert_int_eq(rbuf_get_u16(&val, &afi), 0);
		ck_assert_int_eq(rbuf_get_u8(&val, &safi), 0);
		ck_assert_uint_eq(afi, 25);
		ck_assert_uint_eq(safi, 70);
		ck_assert_int_eq(rbuf_get_u8(&val, &nhlen), 0);
		ck_assert_int_eq(rbuf_slice(&val, nhlen, nexthop), 0);
		ck_assert_int_eq(rbuf_skip(&val, 1), 0);	/* reserved */
		/* The rest is the NLRI, as a window of its own. */
		ck_assert_int_eq(rbuf_slice(&val, rbuf_left(&val), nlri), 0);
		return;
	}
	ck_abort_msg("no MP_REACH_NLRI");
}

/* The NLRI re-encoded from the decoded routes is byte for byte FRR's. */
static void
check_reencode(const struct collect *c, const struct rbuf *nlri)
{
	struct wbuf wb;

	wbuf_init(&wb, 0);
	for (size_t i = 0; i < c->n; i++)
		ck_assert_int_eq(evpn_nlri_encode(&wb, &c->r[i]), 0);
	ck_assert_uint_eq(wb.len, nlri->len);
	ck_assert_mem_eq(wb.data, nlri->data, nlri->len);
	wbuf_free(&wb);
}

/* Our prefix strings are the keys of FRR's own JSON for the same RD. */
static void
check_frr_json(const struct collect *c)
{
	char path[1024], rd[RD_STRLEN], pfx[EVPN_PREFIX_STRLEN];
	json_error_t jerr;
	json_t *root, *rdobj, *route, *p;

	snprintf(path, sizeof(path), "%s",
	    fixture_path("evpn_frr84_show_bgp_l2vpn_evpn.json"));
	root = json_load_file(path, 0, &jerr);
	ck_assert_msg(root != NULL, "%s: %s", path, jerr.text);
	for (size_t i = 0; i < c->n; i++) {
		rdobj = json_object_get(root, rd_fmt(&c->r[i].rd, rd,
		    sizeof(rd)));
		ck_assert_ptr_nonnull(rdobj);
		evpn_route_prefix_fmt(&c->r[i], pfx, sizeof(pfx));
		route = json_object_get(rdobj, pfx);
		ck_assert_msg(route != NULL, "FRR has no route %s", pfx);
		p = json_object_get(route, "prefix");
		ck_assert_str_eq(json_string_value(p), pfx);
	}
	json_decref(root);
}

static void
check_t2(const struct evpn_route *r, const char *mac, const char *ip)
{
	char buf[EVPN_PREFIX_STRLEN];

	ck_assert_uint_eq(r->type, EVPN_RT_MACIP);
	ck_assert_str_eq(rd_fmt(&r->rd, buf, sizeof(buf)), "10.0.0.2:2");
	ck_assert_str_eq(evpn_esi_fmt(&r->esi, buf, sizeof(buf)),
	    "00:00:00:00:00:00:00:00:00:00");
	ck_assert_uint_eq(r->eth_tag, 0);
	ck_assert_str_eq(mac_fmt(&r->mac, buf, sizeof(buf)), mac);
	ip_str(r, buf, sizeof(buf));
	ck_assert_str_eq(buf, ip);
	/* VNI 100 as the whole 24-bit label (RFC 8365 §5.1.3). */
	ck_assert_uint_eq(r->nlabels, 1);
	ck_assert_uint_eq(evpn_label_get(&r->label[0]), 100);
}

START_TEST(test_frr84_type2)
{
	uint8_t msg[4096];
	struct collect c = { .n = 0 };
	struct rbuf nlri, nh;
	size_t n;

	n = fixture_read("evpn_frr84_type2.hex", -1, msg, sizeof(msg));
	find_mp_reach_nlri(msg, n, &nlri, &nh);
	ck_assert_uint_eq(nh.len, 4);
	ck_assert_mem_eq(nh.data, "\x0a\x00\x00\x02", 4);	/* 10.0.0.2 */
	ck_assert_int_eq(evpn_nlri_decode_all(&nlri, collect_cb, &c), 0);
	ck_assert_uint_eq(c.n, 4);
	check_t2(&c.r[0], "02:00:00:00:00:05", "none");
	check_t2(&c.r[1], "02:00:00:00:00:07", "none");
	check_t2(&c.r[2], "02:00:00:00:00:06", "none");
	check_t2(&c.r[3], "02:00:00:00:00:05", "10.10.0.5");
	nlri.pos = 0;
	check_reencode(&c, &nlri);
	check_frr_json(&c);
}
END_TEST

START_TEST(test_frr84_type3)
{
	uint8_t msg[4096];
	struct collect c = { .n = 0 };
	char buf[EVPN_PREFIX_STRLEN];
	struct rbuf nlri, nh;
	size_t n;

	n = fixture_read("evpn_frr84_type3.hex", -1, msg, sizeof(msg));
	find_mp_reach_nlri(msg, n, &nlri, &nh);
	ck_assert_uint_eq(nh.len, 4);
	ck_assert_int_eq(evpn_nlri_decode_all(&nlri, collect_cb, &c), 0);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_uint_eq(c.r[0].type, EVPN_RT_IMET);
	ck_assert_str_eq(rd_fmt(&c.r[0].rd, buf, sizeof(buf)), "10.0.0.2:2");
	ck_assert_uint_eq(c.r[0].eth_tag, 0);
	ip_str(&c.r[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "10.0.0.2");		/* the VTEP */
	ck_assert_uint_eq(c.r[0].nlabels, 0);
	ck_assert_str_eq(evpn_route_prefix_fmt(&c.r[0], buf, sizeof(buf)),
	    "[3]:[0]:[32]:[10.0.0.2]");
	nlri.pos = 0;
	check_reencode(&c, &nlri);
	check_frr_json(&c);
}
END_TEST

/* Hand-written from RFC 9136 §3.1 (see the fixture's header). */
static const struct vector type5_fixture[] = {
	{ NULL, 5, "10.0.0.2:5", 0, "00:00:00:00:00:00:00:00:00:00", NULL,
	    "10.20.0.0", 24, "0.0.0.0", 1, { 5000, 0 },
	    "[5]:[0]:[24]:[10.20.0.0]" },
	{ NULL, 5, "65000:100", 0, "00:00:00:00:00:00:00:00:00:00", NULL,
	    "2001:db8:1::", 48, "::", 1, { 5001, 0 },
	    "[5]:[0]:[48]:[2001:db8:1::]" },
	{ NULL, 5, "10.0.0.2:5", 7, "00:00:00:00:00:00:00:00:00:00", NULL,
	    "10.30.0.1", 32, "10.10.0.5", 1, { 5000, 0 },
	    "[5]:[7]:[32]:[10.30.0.1]" },
	{ NULL, 5, "10.0.0.2:5", 0, "03:02:00:00:00:00:05:00:00:01", NULL,
	    "10.40.0.0", 16, "0.0.0.0", 1, { 0, 0 },
	    "[5]:[0]:[16]:[10.40.0.0]" },
};

START_TEST(test_rfc9136_type5_fixture)
{
	uint8_t b[EVPN_NLRI_MAX_LEN + 8];
	struct evpn_route r;
	struct rbuf rb;
	struct wbuf wb;
	size_t n;

	n = fixture_read("evpn_rfc9136_type5.hex", _i, b, sizeof(b));
	ck_assert_uint_eq(n, _i == 1 ? 60 : 36);
	rbuf_init(&rb, b, n);
	ck_assert_int_eq(evpn_nlri_decode(&rb, &r), 0);
	ck_assert_uint_eq(rbuf_left(&rb), 0);
	check_route(&r, &type5_fixture[_i]);
	wbuf_init(&wb, 0);
	ck_assert_int_eq(evpn_nlri_encode(&wb, &r), 0);
	ck_assert_mem_eq(wb.data, b, n);
	wbuf_free(&wb);
}
END_TEST

static Suite *
evpn_nlri_suite(void)
{
	Suite *s = suite_create("evpn_nlri");
	TCase *tc = tcase_create("codec");

	tcase_add_loop_test(tc, test_vector_decode_encode, 0,
	    (int)nitems(vectors));
	tcase_add_test(tc, test_lengths);
	tcase_add_loop_test(tc, test_malformed_rejected, 0,
	    (int)nitems(malformed));
	tcase_add_test(tc, test_decode_all_trailing_bytes);
	tcase_add_test(tc, test_unknown_type_skipped);
	tcase_add_test(tc, test_callback_stops_walk);
	tcase_add_test(tc, test_encode_rejects_invalid);
	tcase_add_test(tc, test_make_routes);
	tcase_add_test(tc, test_key_excludes_attributes);
	tcase_add_test(tc, test_key_order);
	tcase_add_test(tc, test_cmp_hash_consistent);
	tcase_add_test(tc, test_key_layout);
	tcase_add_test(tc, test_key_ignores_ip_tail);
	tcase_add_loop_test(tc, test_key_roundtrip, 0, nitems(vectors));
	tcase_add_test(tc, test_prefix_fmt_edge);
	suite_add_tcase(s, tc);

	tc = tcase_create("fixtures");
	tcase_add_test(tc, test_frr84_type2);
	tcase_add_test(tc, test_frr84_type3);
	tcase_add_loop_test(tc, test_rfc9136_type5_fixture, 0,
	    (int)nitems(type5_fixture));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(evpn_nlri_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
