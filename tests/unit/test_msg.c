/*
 * Message codec tests: every message type against byte vectors written
 * out by hand from RFC 4271 §4 (and the capability RFCs), the OPEN that
 * FRR 8.4 really sends (tests/fixtures/frr84_open_evpn.hex, recorded by
 * tests/fixtures/capture_frr_open.sh), each §6.1/§6.2 error with its
 * code, subcode and data, truncation at every length, and negotiation.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgpd/bgp_msg.h"
#include "evpn/evpn_int.h"
#include "tests/unit/fixture.h"

#define MARKER	"ffffffffffffffffffffffffffffffff"

/* Hex (whitespace ignored) to bytes; returns the byte count. */
static size_t
hex2bin(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;

		if (*hex >= '0' && *hex <= '9')
			v = *hex - '0';
		else if (*hex >= 'a' && *hex <= 'f')
			v = *hex - 'a' + 10;
		else if (*hex >= 'A' && *hex <= 'F')
			v = *hex - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
			continue;
		}
		ck_assert_uint_lt(n, max);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	ck_assert_int_eq(hi, -1);
	return n;
}

static void
assert_bytes(const struct wbuf *wb, const char *hex)
{
	uint8_t want[4096];
	size_t n = hex2bin(hex, want, sizeof(want));

	ck_assert_int_eq(wb->error, 0);
	ck_assert_uint_eq(wb->len, n);
	ck_assert_mem_eq(wb->data, want, n);
}

static void
assert_notify(const struct bgp_notify *n, uint8_t code, uint8_t subcode,
    const char *datahex)
{
	uint8_t want[BGP_NOTIFY_DATA_MAX];
	size_t len = hex2bin(datahex, want, sizeof(want));

	ck_assert_uint_eq(n->code, code);
	ck_assert_uint_eq(n->subcode, subcode);
	ck_assert_uint_eq(n->datalen, len);
	if (len > 0)
		ck_assert_mem_eq(n->data, want, len);
}

/* ---- header ------------------------------------------------------------ */

static int
parse_hdr(const char *hex, size_t max_len, uint8_t *type, uint16_t *len,
    struct bgp_notify *err)
{
	uint8_t hdr[BGP_HDR_LEN];

	ck_assert_uint_eq(hex2bin(hex, hdr, sizeof(hdr)), BGP_HDR_LEN);
	return bgp_hdr_parse(hdr, max_len, type, len, err);
}

START_TEST(test_hdr_valid)
{
	static const struct {
		const char	*hex;
		size_t		 max;
		uint8_t		 type;
		uint16_t	 len;
	} ok[] = {
		{ MARKER "001d01", 4096, 1, 29 },
		{ MARKER "100001", 4096, 1, 4096 },
		{ MARKER "001702", 4096, 2, 23 },
		{ MARKER "ffff02", 65535, 2, 65535 },
		{ MARKER "001503", 4096, 3, 21 },
		{ MARKER "001304", 4096, 4, 19 },
		{ MARKER "001705", 4096, 5, 23 },
	};
	struct bgp_notify err;
	uint8_t type;
	uint16_t len;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_int_eq(parse_hdr(ok[i].hex, ok[i].max, &type, &len,
		    &err), 0);
		ck_assert_uint_eq(type, ok[i].type);
		ck_assert_uint_eq(len, ok[i].len);
	}
}
END_TEST

START_TEST(test_hdr_errors)
{
	static const struct {
		const char	*hex;
		size_t		 max;
		uint8_t		 subcode;
		const char	*data;
	} bad[] = {
		/* §6.1 marker not all ones: 1/1, no data. */
		{ "fffffffffffffffffffffffffffffffe001304", 4096, 1, "" },
		{ "00ffffffffffffffffffffffffffffff001304", 4096, 1, "" },
		/* Overall range: 1/2 with the length field. */
		{ MARKER "001204", 4096, 2, "0012" },
		{ MARKER "000002", 4096, 2, "0000" },
		{ MARKER "100102", 4096, 2, "1001" },
		/* OPEN stays <= 4096 even with extended messages. */
		{ MARKER "100101", 65535, 2, "1001" },
		/* Per-type minimum / exact lengths. */
		{ MARKER "001c01", 4096, 2, "001c" },
		{ MARKER "001602", 4096, 2, "0016" },
		{ MARKER "001403", 4096, 2, "0014" },
		{ MARKER "001404", 4096, 2, "0014" },
		{ MARKER "001605", 4096, 2, "0016" },
		/* Unknown type: 1/3 with the type byte. */
		{ MARKER "001300", 4096, 3, "00" },
		{ MARKER "001306", 4096, 3, "06" },
		{ MARKER "0013ff", 4096, 3, "ff" },
	};
	struct bgp_notify err;
	uint8_t type = 0xaa;
	uint16_t len = 0xbbbb;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(parse_hdr(bad[i].hex, bad[i].max, &type, &len,
		    &err), -1);
		assert_notify(&err, BGP_ERR_HEADER, bad[i].subcode,
		    bad[i].data);
	}
	ck_assert_uint_eq(type, 0xaa);
	ck_assert_uint_eq(len, 0xbbbb);
}
END_TEST

START_TEST(test_keepalive_encode)
{
	struct wbuf wb;

	wbuf_init(&wb, 0);
	bgp_keepalive_encode(&wb);
	assert_bytes(&wb, MARKER "001304");
	wbuf_free(&wb);
}
END_TEST

/* ---- OPEN -------------------------------------------------------------- */

/*
 * Our OPEN for AS 65000, hold 90, id 192.0.2.1, l2vpn evpn + ipv4
 * unicast, route refresh, enhanced RR, AS4, extended messages, GR
 * (120 s, evpn with F bit), each capability in its own parameter.
 */
#define OPEN_OURS \
	MARKER "005301" "04" "fde8" "005a" "c0000201" "36" \
	"0206" "01040001" "0001" \
	"0206" "01040019" "0046" \
	"0202" "8000" \
	"0202" "0200" \
	"0202" "4600" \
	"0206" "4104" "0000fde8" \
	"0202" "0600" \
	"020c" "400a" "0078" "0001" "01" "00" "0019" "46" "80"

static void
open_ours(struct bgp_open *o)
{
	memset(o, 0, sizeof(*o));
	o->version = 4;
	bgp_open_set_as(o, 65000);
	o->holdtime = 90;
	o->bgp_id = 0xc0000201;
	o->caps.mp[BGP_AID_IPV4_UNICAST] = true;
	o->caps.mp[BGP_AID_L2VPN_EVPN] = true;
	o->caps.route_refresh = true;
	o->caps.enhanced_rr = true;
	o->caps.ext_msg = true;
	o->caps.gr = true;
	o->caps.gr_time = 120;
	o->caps.gr_af[BGP_AID_IPV4_UNICAST] = true;
	o->caps.gr_af[BGP_AID_L2VPN_EVPN] = true;
	o->caps.gr_af_forwarding[BGP_AID_L2VPN_EVPN] = true;
}

START_TEST(test_open_encode)
{
	struct bgp_open o;
	struct wbuf wb;

	open_ours(&o);
	wbuf_init(&wb, 0);
	bgp_open_encode(&wb, &o);
	assert_bytes(&wb, OPEN_OURS);
	wbuf_free(&wb);
}
END_TEST

START_TEST(test_open_roundtrip)
{
	struct bgp_open want, got;
	struct bgp_notify err;
	struct wbuf wb;
	uint8_t type;
	uint16_t len;

	open_ours(&want);
	wbuf_init(&wb, 0);
	bgp_open_encode(&wb, &want);
	ck_assert_int_eq(bgp_hdr_parse(wb.data, 4096, &type, &len, &err), 0);
	ck_assert_uint_eq(type, BGP_MSG_OPEN);
	ck_assert_uint_eq(len, wb.len);
	ck_assert_int_eq(bgp_open_decode(wb.data + BGP_HDR_LEN,
	    len - BGP_HDR_LEN, &got, &err), 0);
	ck_assert_mem_eq(&got, &want, sizeof(got));
	wbuf_free(&wb);
}
END_TEST

/* An OPEN with a 2-byte AS above AS_TRANS range uses AS_TRANS. */
START_TEST(test_open_as4_trans)
{
	struct bgp_open o;

	memset(&o, 0, sizeof(o));
	bgp_open_set_as(&o, 4200000001u);
	ck_assert_uint_eq(o.my_as, BGP_AS_TRANS);
	ck_assert(o.caps.as4);
	ck_assert_uint_eq(o.caps.as4_asn, 4200000001u);
	ck_assert_uint_eq(bgp_open_peer_as(&o), 4200000001u);
	bgp_open_set_as(&o, 65535);
	ck_assert_uint_eq(o.my_as, 65535);
	o.caps.as4 = false;
	o.my_as = 64512;
	ck_assert_uint_eq(bgp_open_peer_as(&o), 64512);
}
END_TEST

START_TEST(test_open_frr_fixture)
{
	uint8_t msg[4096];
	struct bgp_open o;
	struct bgp_notify err;
	uint8_t type;
	uint16_t len;
	size_t n;

	n = fixture_hex_line("frr84_open_evpn.hex", 0, msg, sizeof(msg));
	ck_assert_uint_eq(n, 98);
	ck_assert_int_eq(bgp_hdr_parse(msg, 4096, &type, &len, &err), 0);
	ck_assert_uint_eq(type, BGP_MSG_OPEN);
	ck_assert_uint_eq(len, n);
	ck_assert_int_eq(bgp_open_decode(msg + BGP_HDR_LEN, n - BGP_HDR_LEN,
	    &o, &err), 0);
	ck_assert_uint_eq(o.version, 4);
	ck_assert_uint_eq(o.my_as, 65000);
	ck_assert_uint_eq(o.holdtime, 180);
	ck_assert_uint_eq(o.bgp_id, 0x0a000001);
	ck_assert(!o.caps.mp[BGP_AID_IPV4_UNICAST]);
	ck_assert(!o.caps.mp[BGP_AID_IPV6_UNICAST]);
	ck_assert(o.caps.mp[BGP_AID_L2VPN_EVPN]);
	ck_assert(o.caps.route_refresh);
	ck_assert(o.caps.enhanced_rr);
	ck_assert(o.caps.ext_msg);
	ck_assert(o.caps.as4);
	ck_assert_uint_eq(o.caps.as4_asn, 65000);
	/* FRR starts with R and N set (0xc), 120 s, no families yet. */
	ck_assert(o.caps.gr);
	ck_assert(o.caps.gr_restarting);
	ck_assert_uint_eq(o.caps.gr_time, 120);
	ck_assert(!o.caps.gr_af[BGP_AID_L2VPN_EVPN]);
	/* ADD-PATH (69), FQDN (73), long-lived GR (71): logged only. */
	ck_assert_uint_eq(o.caps.n_unknown, 3);
	ck_assert_uint_eq(o.caps.unknown[0], 69);
	ck_assert_uint_eq(o.caps.unknown[1], 73);
	ck_assert_uint_eq(o.caps.unknown[2], 71);
}
END_TEST

/*
 * With the same settings our OPEN is FRR's minus the capabilities we do
 * not implement: same order, one capability per optional parameter.
 */
START_TEST(test_open_layout_matches_frr)
{
	uint8_t frr[4096];
	struct bgp_open o;
	struct wbuf wb;
	size_t n;

	n = fixture_hex_line("frr84_open_evpn.hex", 0, frr, sizeof(frr));
	ck_assert_uint_eq(n, 98);
	memset(&o, 0, sizeof(o));
	o.version = 4;
	bgp_open_set_as(&o, 65000);
	o.holdtime = 180;
	o.bgp_id = 0x0a000001;
	o.caps.mp[BGP_AID_L2VPN_EVPN] = true;
	o.caps.route_refresh = true;
	o.caps.enhanced_rr = true;
	o.caps.ext_msg = true;
	o.caps.gr = true;
	o.caps.gr_restarting = true;
	o.caps.gr_time = 120;
	wbuf_init(&wb, 0);
	bgp_open_encode(&wb, &o);
	/* Fixed part and the first 6 parameters (MP .. ext msg) match
	 * byte for byte once the lengths are set aside. */
	ck_assert_uint_ge(wb.len, 29 + 32);
	ck_assert_mem_eq(wb.data + 19, frr + 19, 9);
	ck_assert_mem_eq(wb.data + 29, frr + 29, 32);
	/* FRR then has ADD-PATH (8) and FQDN (12); then GR's flags/time,
	 * which we send without the N bit (RFC 8538 not implemented). */
	ck_assert_uint_eq(wb.data[29 + 32], 0x02);
	ck_assert_uint_eq(wb.data[29 + 32 + 2], BGP_CAPA_GR);
	ck_assert_mem_eq(wb.data + 29 + 32, frr + 29 + 32 + 8 + 12, 4);
	ck_assert_uint_eq(frr[29 + 32 + 8 + 12 + 4], 0xc0);
	ck_assert_uint_eq(wb.data[29 + 32 + 4], 0x80);
	ck_assert_uint_eq(wb.data[29 + 32 + 5], 0x78);
	ck_assert_uint_eq(wb.len, 29 + 32 + 6);
	wbuf_free(&wb);
}
END_TEST

/* Every shorter body of a valid OPEN fails cleanly. */
START_TEST(test_open_truncated)
{
	uint8_t msg[4096];
	struct bgp_open o;
	struct bgp_notify err;
	size_t n, body;

	n = fixture_hex_line("frr84_open_evpn.hex", 0, msg, sizeof(msg));
	body = n - BGP_HDR_LEN;
	for (size_t cut = 0; cut < body; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);

		memcpy(copy, msg + BGP_HDR_LEN, cut);
		memset(&err, 0, sizeof(err));
		ck_assert_int_eq(bgp_open_decode(copy, cut, &o, &err), -1);
		ck_assert_uint_ne(err.code, 0);
		free(copy);
	}
	ck_assert_int_eq(bgp_open_decode(msg + BGP_HDR_LEN, body, &o, &err),
	    0);
}
END_TEST

static int
decode_body(const char *hex, struct bgp_open *o, struct bgp_notify *err)
{
	uint8_t body[4096];
	size_t n = hex2bin(hex, body, sizeof(body));

	memset(err, 0, sizeof(*err));
	return bgp_open_decode(body, n, o, err);
}

#define OPEN_FIXED	"04" "fde8" "00b4" "0a000001"

START_TEST(test_open_decode_errors)
{
	static const struct {
		const char	*hex;
		uint8_t		 code, subcode;
	} bad[] = {
		/* Fixed part shorter than 10: header length error. */
		{ "04fde800b40a0000", 1, 2 },
		/* Opt param length overruns / underruns the message. */
		{ OPEN_FIXED "05" "02020200", 2, 0 },
		{ OPEN_FIXED "03" "02020200", 2, 0 },
		/* Type 1 (authentication, deprecated) and unknown types. */
		{ OPEN_FIXED "02" "0100", 2, 4 },
		{ OPEN_FIXED "04" "02020200" "03", 2, 0 },
		{ OPEN_FIXED "06" "02020200" "0700", 2, 4 },
		/* Parameter length overruns the parameters. */
		{ OPEN_FIXED "04" "02030200", 2, 0 },
		/* Capability length overruns its parameter. */
		{ OPEN_FIXED "04" "02020201", 2, 0 },
		{ OPEN_FIXED "03" "020102", 2, 0 },
		/* Wrong length for MP, AS4, GR. */
		{ OPEN_FIXED "07" "0205010300010" "1", 2, 0 },
		{ OPEN_FIXED "06" "0204410200fd", 2, 0 },
		{ OPEN_FIXED "05" "02034001" "00", 2, 0 },
		{ OPEN_FIXED "09" "0207400500780019" "46", 2, 0 },
		/* RFC 9072 form with a short length. */
		{ OPEN_FIXED "ff" "ff00", 2, 0 },
	};
	struct bgp_open o;
	struct bgp_notify err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(decode_body(bad[i].hex, &o, &err) == -1,
		    "case %zu decoded", i);
		ck_assert_msg(err.code == bad[i].code &&
		    err.subcode == bad[i].subcode, "case %zu: %u/%u", i,
		    err.code, err.subcode);
	}
}
END_TEST

START_TEST(test_open_decode_params)
{
	struct bgp_open o;
	struct bgp_notify err;

	/* No optional parameters at all. */
	ck_assert_int_eq(decode_body(OPEN_FIXED "00", &o, &err), 0);
	ck_assert(!o.caps.as4 && !o.caps.route_refresh);
	/* Several capabilities in one parameter; unsupported family
	 * (ipv4 multicast) ignored; unknown code recorded once. */
	ck_assert_int_eq(decode_body(OPEN_FIXED "14" "0212"
	    "010400010002" "010400190046" "0200" "4a00" "4a00", &o, &err), 0);
	ck_assert(!o.caps.mp[BGP_AID_IPV4_UNICAST]);
	ck_assert(o.caps.mp[BGP_AID_L2VPN_EVPN]);
	ck_assert(o.caps.route_refresh);
	ck_assert_uint_eq(o.caps.n_unknown, 1);
	ck_assert_uint_eq(o.caps.unknown[0], 0x4a);
	/* Empty capabilities parameter. */
	ck_assert_int_eq(decode_body(OPEN_FIXED "02" "0200", &o, &err), 0);
	/* GR with families; F bit on ipv6 only, unknown family skipped. */
	ck_assert_int_eq(decode_body(OPEN_FIXED "12" "0210" "400e" "812c"
	    "00010100" "00020180" "00010480", &o, &err), 0);
	ck_assert(o.caps.gr && o.caps.gr_restarting);
	ck_assert_uint_eq(o.caps.gr_time, 300);
	ck_assert(o.caps.gr_af[BGP_AID_IPV4_UNICAST]);
	ck_assert(!o.caps.gr_af_forwarding[BGP_AID_IPV4_UNICAST]);
	ck_assert(o.caps.gr_af[BGP_AID_IPV6_UNICAST]);
	ck_assert(o.caps.gr_af_forwarding[BGP_AID_IPV6_UNICAST]);
	ck_assert(!o.caps.gr_af[BGP_AID_L2VPN_EVPN]);
}
END_TEST

/* RFC 9072: opt len 255, type 255, 2-byte length, 2-byte param lens. */
START_TEST(test_open_decode_rfc9072)
{
	struct bgp_open o;
	struct bgp_notify err;

	ck_assert_int_eq(decode_body(OPEN_FIXED "ff" "ff" "000e"
	    "02" "0006" "41040000fde8" "02" "0002" "4600", &o, &err), 0);
	ck_assert(o.caps.as4);
	ck_assert_uint_eq(o.caps.as4_asn, 65000);
	ck_assert(o.caps.enhanced_rr);
	/* Extended length overrunning the message. */
	ck_assert_int_eq(decode_body(OPEN_FIXED "ff" "ff" "000f"
	    "02" "0006" "41040000fde8" "02" "0002" "4600", &o, &err), -1);
	assert_notify(&err, 2, 0, "");
	/* Parameter length overrunning the extended block. */
	ck_assert_int_eq(decode_body(OPEN_FIXED "ff" "ff" "0005"
	    "02" "0003" "4600", &o, &err), -1);
	assert_notify(&err, 2, 0, "");
}
END_TEST

/* ---- OPEN validation --------------------------------------------------- */

static void
policy_ibgp(struct bgp_open_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->local_as = 65000;
	pol->local_bgp_id = 0x0a000002;
	pol->remote_as = 65000;
	pol->families[BGP_AID_L2VPN_EVPN] = true;
}

static void
peer_open(struct bgp_open *o)
{
	memset(o, 0, sizeof(*o));
	o->version = 4;
	bgp_open_set_as(o, 65000);
	o->holdtime = 180;
	o->bgp_id = 0x0a000001;
	o->caps.mp[BGP_AID_L2VPN_EVPN] = true;
}

START_TEST(test_open_validate)
{
	struct bgp_open_policy pol;
	struct bgp_open o;
	struct bgp_notify err;

	policy_ibgp(&pol);
	peer_open(&o);
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), 0);

	o.version = 3;
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), -1);
	assert_notify(&err, 2, 1, "0004");
	o.version = 5;
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), -1);
	assert_notify(&err, 2, 1, "0004");

	peer_open(&o);
	bgp_open_set_as(&o, 65001);
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), -1);
	assert_notify(&err, 2, 2, "fde9");
	/* Without AS4 capability the 2-byte field is the AS. */
	peer_open(&o);
	o.caps.as4 = false;
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), 0);
	o.my_as = 65001;
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), -1);
	assert_notify(&err, 2, 2, "fde9");
	/* AS4 disagreeing with the 2-byte field: the AS4 value counts. */
	peer_open(&o);
	o.my_as = 65001;
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), 0);

	peer_open(&o);
	o.holdtime = 1;
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), -1);
	assert_notify(&err, 2, 6, "0001");
	o.holdtime = 2;
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), -1);
	assert_notify(&err, 2, 6, "0002");
	o.holdtime = 0;
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), 0);
	o.holdtime = 3;
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), 0);

	peer_open(&o);
	o.bgp_id = 0;
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), -1);
	assert_notify(&err, 2, 3, "00000000");
	o.bgp_id = pol.local_bgp_id;
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), -1);
	assert_notify(&err, 2, 3, "0a000002");
}
END_TEST

START_TEST(test_open_validate_4byte_as)
{
	struct bgp_open_policy pol;
	struct bgp_open o;
	struct bgp_notify err;

	policy_ibgp(&pol);
	pol.remote_as = 4200000001u;
	peer_open(&o);
	bgp_open_set_as(&o, 4200000001u);
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), 0);
	/* RFC 6793: a 4-byte AS must come with AS_TRANS in My AS. */
	o.my_as = 65000;
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), -1);
	assert_notify(&err, 2, 2, "fde8");
	/* A 4-byte AS configured, peer without AS4: cannot match. */
	peer_open(&o);
	o.caps.as4 = false;
	o.my_as = BGP_AS_TRANS;
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), -1);
	assert_notify(&err, 2, 2, "5ba0");
	/* A wrong 4-byte AS: all four octets in the data. */
	peer_open(&o);
	bgp_open_set_as(&o, 4200000002u);
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), -1);
	assert_notify(&err, 2, 2, "fa56ea02");
	/* eBGP: the same BGP id as ours is fine (RFC 6286 §2.2). */
	peer_open(&o);
	bgp_open_set_as(&o, 4200000001u);
	o.bgp_id = pol.local_bgp_id;
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), 0);
}
END_TEST

START_TEST(test_open_validate_families)
{
	struct bgp_open_policy pol;
	struct bgp_open o;
	struct bgp_notify err;

	policy_ibgp(&pol);
	peer_open(&o);
	o.caps.mp[BGP_AID_L2VPN_EVPN] = false;
	o.caps.mp[BGP_AID_IPV6_UNICAST] = true;
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), -1);
	assert_notify(&err, 2, 7, "01040019" "0046");
	pol.families[BGP_AID_IPV4_UNICAST] = true;
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), -1);
	assert_notify(&err, 2, 7, "010400010001" "010400190046");
	/* No MP capability at all means IPv4 unicast (plain RFC 4271). */
	o.caps.mp[BGP_AID_IPV6_UNICAST] = false;
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), 0);
	pol.families[BGP_AID_IPV4_UNICAST] = false;
	ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), -1);
	assert_notify(&err, 2, 7, "010400190046");
}
END_TEST

/*
 * The OPENs capture_frr_open.sh sends FRR (configured remote-as 65000,
 * router-id 10.0.0.1): our NOTIFICATION for each is byte for byte the
 * one FRR sent.
 */
START_TEST(test_open_errors_match_frr)
{
	static const char *const opens[] = {
		"04fde9005a0a000002" "10" "0206010400190046" "020641040000fde9",
		"04fde800010a000002" "10" "0206010400190046" "020641040000fde8",
		"04fde8005a00000000" "10" "0206010400190046" "020641040000fde8",
	};
	struct bgp_open_policy pol;
	struct bgp_open o;
	struct bgp_notify err, got;
	struct wbuf wb;
	uint8_t frr[64];
	size_t n;

	policy_ibgp(&pol);
	pol.local_bgp_id = 0x0a000001;
	wbuf_init(&wb, 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(decode_body(opens[i], &o, &err), 0);
		ck_assert_int_eq(bgp_open_validate(&o, &pol, &err), -1);
		wbuf_reset(&wb);
		bgp_notify_encode(&wb, &err);
		n = fixture_hex_line("frr84_notify_open_errors.hex", i, frr,
		    sizeof(frr));
		ck_assert_uint_eq(wb.len, n);
		ck_assert_mem_eq(wb.data, frr, n);
		ck_assert_int_eq(bgp_notify_decode(frr + BGP_HDR_LEN,
		    n - BGP_HDR_LEN, &got), 0);
		ck_assert_mem_eq(&got, &err, sizeof(got));
	}
	wbuf_free(&wb);
}
END_TEST

/* ---- negotiation ------------------------------------------------------- */

START_TEST(test_negotiate)
{
	struct bgp_open local, remote;
	struct bgp_negotiated neg;

	open_ours(&local);
	peer_open(&remote);
	remote.caps.route_refresh = true;
	remote.caps.gr = true;
	remote.caps.gr_restarting = true;
	remote.caps.gr_time = 77;
	remote.caps.gr_af[BGP_AID_L2VPN_EVPN] = true;
	bgp_negotiate(&local, &remote, 0, &neg);
	ck_assert_uint_eq(neg.holdtime, 90);
	ck_assert_uint_eq(neg.keepalive, 30);
	ck_assert(neg.as4);
	ck_assert(neg.route_refresh);
	ck_assert(!neg.enhanced_rr);
	ck_assert(!neg.ext_msg);
	ck_assert_uint_eq(neg.max_msg_len, 4096);
	ck_assert(!neg.families[BGP_AID_IPV4_UNICAST]);
	ck_assert(!neg.families[BGP_AID_IPV6_UNICAST]);
	ck_assert(neg.families[BGP_AID_L2VPN_EVPN]);
	ck_assert(neg.peer_gr && neg.peer_gr_restarting);
	ck_assert_uint_eq(neg.peer_gr_time, 77);
	ck_assert(neg.peer_gr_af[BGP_AID_L2VPN_EVPN]);
	ck_assert(!neg.peer_gr_af[BGP_AID_IPV4_UNICAST]);

	/* Configured keepalive lower than hold/3 wins; higher does not. */
	bgp_negotiate(&local, &remote, 10, &neg);
	ck_assert_uint_eq(neg.keepalive, 10);
	bgp_negotiate(&local, &remote, 60, &neg);
	ck_assert_uint_eq(neg.keepalive, 30);

	/* Hold time 0 on either side: no keepalives at all. */
	remote.holdtime = 0;
	bgp_negotiate(&local, &remote, 10, &neg);
	ck_assert_uint_eq(neg.holdtime, 0);
	ck_assert_uint_eq(neg.keepalive, 0);

	/* The smaller hold time; the remote's here. */
	remote.holdtime = 9;
	bgp_negotiate(&local, &remote, 0, &neg);
	ck_assert_uint_eq(neg.holdtime, 9);
	ck_assert_uint_eq(neg.keepalive, 3);
}
END_TEST

START_TEST(test_negotiate_caps)
{
	struct bgp_open local, remote;
	struct bgp_negotiated neg;

	open_ours(&local);
	peer_open(&remote);
	remote.caps.ext_msg = true;
	remote.caps.enhanced_rr = true;
	bgp_negotiate(&local, &remote, 0, &neg);
	ck_assert(neg.ext_msg);
	ck_assert_uint_eq(neg.max_msg_len, 65535);
	ck_assert(neg.enhanced_rr);
	ck_assert(!neg.route_refresh);
	ck_assert(!neg.peer_gr);
	/* No AS4 on one side. */
	remote.caps.as4 = false;
	bgp_negotiate(&local, &remote, 0, &neg);
	ck_assert(!neg.as4);
	/* Peer without any MP capability: IPv4 unicast only. */
	memset(remote.caps.mp, 0, sizeof(remote.caps.mp));
	bgp_negotiate(&local, &remote, 0, &neg);
	ck_assert(neg.families[BGP_AID_IPV4_UNICAST]);
	ck_assert(!neg.families[BGP_AID_L2VPN_EVPN]);
	/* Route refresh learnt through the old code counts. */
	ck_assert_int_eq(decode_body(OPEN_FIXED "04" "02028000", &remote,
	    &(struct bgp_notify){ 0 }), 0);
	bgp_negotiate(&local, &remote, 0, &neg);
	ck_assert(neg.route_refresh);
}
END_TEST

/* ---- NOTIFICATION ------------------------------------------------------ */

START_TEST(test_notify_codec)
{
	struct bgp_notify n, got;
	struct wbuf wb;
	uint8_t body[400], big[300];

	bgp_notify_set(&n, BGP_ERR_CEASE, BGP_CEASE_ADMIN_SHUTDOWN, "bye", 3);
	wbuf_init(&wb, 0);
	bgp_notify_encode(&wb, &n);
	assert_bytes(&wb, MARKER "0018" "03" "06" "02" "627965");
	ck_assert_int_eq(bgp_notify_decode(wb.data + BGP_HDR_LEN,
	    wb.len - BGP_HDR_LEN, &got), 0);
	assert_notify(&got, 6, 2, "627965");
	wbuf_reset(&wb);

	bgp_notify_set(&n, BGP_ERR_HOLD, 0, NULL, 0);
	bgp_notify_encode(&wb, &n);
	assert_bytes(&wb, MARKER "0015" "03" "04" "00");
	wbuf_free(&wb);

	/* Too short for code and subcode. */
	ck_assert_int_eq(bgp_notify_decode(body, 0, &got), -1);
	body[0] = 6;
	ck_assert_int_eq(bgp_notify_decode(body, 1, &got), -1);

	/* Data beyond BGP_NOTIFY_DATA_MAX is cut silently. */
	body[0] = 3;
	body[1] = 1;
	for (size_t i = 2; i < sizeof(body); i++)
		body[i] = (uint8_t)i;
	ck_assert_int_eq(bgp_notify_decode(body, sizeof(body), &got), 0);
	ck_assert_uint_eq(got.datalen, BGP_NOTIFY_DATA_MAX);
	ck_assert_mem_eq(got.data, body + 2, BGP_NOTIFY_DATA_MAX);
	memset(big, 0xab, sizeof(big));
	bgp_notify_set(&n, 3, 1, big, sizeof(big));
	ck_assert_uint_eq(n.datalen, BGP_NOTIFY_DATA_MAX);
}
END_TEST

START_TEST(test_notify_names)
{
	char buf[128];

	ck_assert_str_eq(bgp_notify_code_name(4), "Hold Timer Expired");
	ck_assert_str_eq(bgp_notify_code_name(99), "Unknown Error");
	ck_assert_str_eq(bgp_notify_code_name(0), "Unknown Error");
	ck_assert_str_eq(bgp_notify_subcode_name(2, 2), "Bad Peer AS");
	ck_assert_str_eq(bgp_notify_subcode_name(1, 3), "Bad Message Type");
	ck_assert_str_eq(bgp_notify_subcode_name(3, 1),
	    "Malformed Attribute List");
	ck_assert_str_eq(bgp_notify_subcode_name(7, 1),
	    "Invalid Message Length");
	ck_assert_str_eq(bgp_notify_subcode_name(2, 0), "Unspecific");
	ck_assert_str_eq(bgp_notify_subcode_name(2, 200), "Unknown");
	ck_assert_str_eq(bgp_notify_subcode_name(6, 8), "Out of Resources");
	ck_assert_str_eq(bgp_notify_name(6, 2, buf, sizeof(buf)),
	    "Cease/Administrative Shutdown");
	ck_assert_str_eq(bgp_notify_name(2, 2, buf, sizeof(buf)),
	    "OPEN Message Error/Bad Peer AS");
	ck_assert_str_eq(bgp_notify_name(4, 0, buf, sizeof(buf)),
	    "Hold Timer Expired");
	ck_assert_str_eq(bgp_notify_name(5, 2, buf, sizeof(buf)),
	    "Neighbor Events Error/Receive Unexpected Message in "
	    "OpenConfirm State");
}
END_TEST

/* ---- ROUTE-REFRESH ----------------------------------------------------- */

START_TEST(test_rr_codec)
{
	struct bgp_route_refresh rr = { AFI_L2VPN, 1, SAFI_EVPN }, got;
	struct bgp_notify err;
	struct wbuf wb;
	uint8_t body[8];
	size_t n;

	wbuf_init(&wb, 0);
	bgp_rr_encode(&wb, &rr);
	assert_bytes(&wb, MARKER "0017" "05" "0019" "01" "46");
	ck_assert_int_eq(bgp_rr_decode(wb.data + BGP_HDR_LEN, 4, &got, &err),
	    0);
	ck_assert_uint_eq(got.afi, AFI_L2VPN);
	ck_assert_uint_eq(got.subtype, 1);
	ck_assert_uint_eq(got.safi, SAFI_EVPN);
	wbuf_free(&wb);

	/* RFC 7313 §5: 7/1 with the complete message as data. */
	n = hex2bin("0001000101", body, sizeof(body));
	ck_assert_int_eq(bgp_rr_decode(body, n, &got, &err), -1);
	assert_notify(&err, 7, 1, MARKER "0018" "05" "0001000101");
	ck_assert_int_eq(bgp_rr_decode(body, 3, &got, &err), -1);
	assert_notify(&err, 7, 1, MARKER "0016" "05" "000100");
}
END_TEST

/* ---- UPDATE framing ---------------------------------------------------- */

START_TEST(test_update_split)
{
	struct bgp_update_parts p;
	struct bgp_notify err;
	uint8_t body[64];
	size_t n;

	/* Withdrawn 10.0.0.0/8, attrs ORIGIN IGP, NLRI 192.0.2.0/24. */
	n = hex2bin("0002" "080a" "0004" "40010100" "18c00002", body,
	    sizeof(body));
	ck_assert_int_eq(bgp_update_split(body, n, &p, &err), 0);
	ck_assert_uint_eq(p.withdrawn.len, 2);
	ck_assert_mem_eq(p.withdrawn.data, body + 2, 2);
	ck_assert_uint_eq(p.attrs.len, 4);
	ck_assert_mem_eq(p.attrs.data, body + 6, 4);
	ck_assert_uint_eq(p.nlri.len, 4);
	ck_assert_mem_eq(p.nlri.data, body + 10, 4);
	ck_assert_uint_eq(p.nlri.pos, 0);

	/* End-of-RIB for IPv4: all empty. */
	n = hex2bin("00000000", body, sizeof(body));
	ck_assert_int_eq(bgp_update_split(body, n, &p, &err), 0);
	ck_assert_uint_eq(p.withdrawn.len + p.attrs.len + p.nlri.len, 0);

	/* §6.3: withdrawn or attribute length past the end: 3/1. */
	n = hex2bin("0003" "080a" "0000", body, sizeof(body));
	ck_assert_int_eq(bgp_update_split(body, n, &p, &err), -1);
	assert_notify(&err, 3, 1, "");
	n = hex2bin("0000" "0005" "40010100", body, sizeof(body));
	ck_assert_int_eq(bgp_update_split(body, n, &p, &err), -1);
	assert_notify(&err, 3, 1, "");
	n = hex2bin("0002" "080a" "00", body, sizeof(body));
	ck_assert_int_eq(bgp_update_split(body, n, &p, &err), -1);
	assert_notify(&err, 3, 1, "");
	ck_assert_int_eq(bgp_update_split(body, 1, &p, &err), -1);
	ck_assert_int_eq(bgp_update_split(body, 0, &p, &err), -1);
}
END_TEST

/* RFC 4724 §2: the two End-of-RIB forms. */
START_TEST(test_eor_encode)
{
	struct wbuf wb;

	wbuf_init(&wb, 0);
	bgp_eor_encode(&wb, BGP_AID_IPV4_UNICAST);
	assert_bytes(&wb, MARKER "0017 02 0000 0000");
	wbuf_reset(&wb);
	bgp_eor_encode(&wb, BGP_AID_L2VPN_EVPN);
	assert_bytes(&wb, MARKER "001d 02 0000 0006 800f03 0019 46");
	wbuf_reset(&wb);
	bgp_eor_encode(&wb, BGP_AID_IPV6_UNICAST);
	assert_bytes(&wb, MARKER "001d 02 0000 0006 800f03 0002 01");
	wbuf_free(&wb);
}
END_TEST

/* ---- aid helpers ------------------------------------------------------- */

START_TEST(test_aid)
{
	uint16_t afi;
	uint8_t safi;

	ck_assert_int_eq(bgp_aid_from_afi_safi(1, 1), BGP_AID_IPV4_UNICAST);
	ck_assert_int_eq(bgp_aid_from_afi_safi(2, 1), BGP_AID_IPV6_UNICAST);
	ck_assert_int_eq(bgp_aid_from_afi_safi(25, 70), BGP_AID_L2VPN_EVPN);
	ck_assert_int_eq(bgp_aid_from_afi_safi(1, 2), -1);
	ck_assert_int_eq(bgp_aid_from_afi_safi(25, 65), -1);
	bgp_aid_to_afi_safi(BGP_AID_L2VPN_EVPN, &afi, &safi);
	ck_assert_uint_eq(afi, 25);
	ck_assert_uint_eq(safi, 70);
	ck_assert_str_eq(bgp_aid_name(BGP_AID_L2VPN_EVPN), "l2vpn evpn");
	ck_assert_str_eq(bgp_aid_name(BGP_AID_IPV4_UNICAST), "ipv4 unicast");
	ck_assert_str_eq(bgp_aid_name(-1), "unknown");
	ck_assert_str_eq(bgp_aid_name(BGP_AID_MAX), "unknown");
}
END_TEST

/* One row per family: bgpd's own two and the l2vpn evpn row evpn/
 * registers, each with its config bit and next-hop rule. */
START_TEST(test_af_table)
{
	const struct bgp_af *v4 = bgp_af_get(BGP_AID_IPV4_UNICAST);
	const struct bgp_af *v6 = bgp_af_find(2, 1);
	const struct bgp_af *evpn = bgp_af_find(25, 70);

	ck_assert_ptr_nonnull(v4);
	ck_assert_ptr_nonnull(v6);
	ck_assert_ptr_eq(evpn, &evpn_af);
	ck_assert_ptr_eq(bgp_af_get(BGP_AID_L2VPN_EVPN), &evpn_af);
	ck_assert_ptr_null(bgp_af_get(BGP_AID_MAX));
	ck_assert_ptr_null(bgp_af_find(25, 65));
	bgp_af_register(&evpn_af);		/* again: nothing changes */
	ck_assert_ptr_eq(bgp_af_find(25, 70), &evpn_af);

	ck_assert_uint_eq(v4->conf_af, CONF_AF_IPV4_UNICAST);
	ck_assert_uint_eq(v6->conf_af, CONF_AF_IPV6_UNICAST);
	ck_assert_uint_eq(evpn->conf_af, CONF_AF_L2VPN_EVPN);

	ck_assert(bgp_af_nexthop_len_ok(v4, 4));
	ck_assert(!bgp_af_nexthop_len_ok(v4, 16));
	ck_assert(!bgp_af_nexthop_len_ok(v6, 4));
	ck_assert(bgp_af_nexthop_len_ok(v6, 16));
	ck_assert(bgp_af_nexthop_len_ok(v6, 32));
	ck_assert(bgp_af_nexthop_len_ok(evpn, 4));
	ck_assert(bgp_af_nexthop_len_ok(evpn, 16));
	ck_assert(bgp_af_nexthop_len_ok(evpn, 32));
	ck_assert(!bgp_af_nexthop_len_ok(evpn, 0));
	ck_assert(!bgp_af_nexthop_len_ok(evpn, 5));
}
END_TEST

static Suite *
msg_suite(void)
{
	Suite *s = suite_create("msg");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, test_hdr_valid);
	tcase_add_test(tc, test_hdr_errors);
	tcase_add_test(tc, test_keepalive_encode);
	tcase_add_test(tc, test_open_encode);
	tcase_add_test(tc, test_open_roundtrip);
	tcase_add_test(tc, test_open_as4_trans);
	tcase_add_test(tc, test_open_frr_fixture);
	tcase_add_test(tc, test_open_layout_matches_frr);
	tcase_add_test(tc, test_open_truncated);
	tcase_add_test(tc, test_open_decode_errors);
	tcase_add_test(tc, test_open_decode_params);
	tcase_add_test(tc, test_open_decode_rfc9072);
	tcase_add_test(tc, test_open_validate);
	tcase_add_test(tc, test_open_validate_4byte_as);
	tcase_add_test(tc, test_open_validate_families);
	tcase_add_test(tc, test_open_errors_match_frr);
	tcase_add_test(tc, test_negotiate);
	tcase_add_test(tc, test_negotiate_caps);
	tcase_add_test(tc, test_notify_codec);
	tcase_add_test(tc, test_notify_names);
	tcase_add_test(tc, test_rr_codec);
	tcase_add_test(tc, test_update_split);
	tcase_add_test(tc, test_eor_encode);
	tcase_add_test(tc, test_aid);
	tcase_add_test(tc, test_af_table);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(msg_suite());
	int failed;

	/* The family the vectors use: evpn_create() registers it in evpnd. */
	bgp_af_register(&evpn_af);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
