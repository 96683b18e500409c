/*
 * libFuzzer target for the BGP message codec.
 *
 * How this works: the input is one BGP message as it would come off the
 * wire.  It goes through bgp_hdr_parse() and then the decoder for its
 * type.  So that the fuzzer does not first have to learn to make the
 * length field agree with the input size, the body handed to the decoder
 * is the whole rest of the input whenever the header is rejected or
 * claims more bytes than there are; with a consistent header it is
 * exactly the framed body.
 *
 * Besides "no crash, no sanitizer report", each decoder's output is
 * checked for consistency: what decodes re-encodes, and the re-encoded
 * form decodes to the same values (abort() otherwise, which libFuzzer
 * reports as a crash).
 *
 * Adding a parser: decode more inside the matching fuzz_* function
 * (e.g. the path attributes and EVPN NLRI inside fuzz_update), and add
 * its .c file to SOURCES in tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgpd/bgp_msg.h"
#include "evpn/evpn_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

/* Compare what the encoder can express (unknown codes are dropped). */
static void
check_same_open(const struct bgp_open *a, const struct bgp_open *b)
{
	struct bgp_caps ca = a->caps, cb = b->caps;

	CHECK(a->version == b->version && a->my_as == b->my_as &&
	    a->holdtime == b->holdtime && a->bgp_id == b->bgp_id);
	ca.n_unknown = cb.n_unknown = 0;
	memset(ca.unknown, 0, sizeof(ca.unknown));
	memset(cb.unknown, 0, sizeof(cb.unknown));
	CHECK(memcmp(&ca, &cb, sizeof(ca)) == 0);
}

static void
fuzz_open(const uint8_t *body, size_t len)
{
	static const struct bgp_open_policy pol = {
		.local_as = 65000,
		.local_bgp_id = 0x0a000002,
		.remote_as = 65000,
		.families = { [BGP_AID_L2VPN_EVPN] = true },
	};
	struct bgp_open open, again, local;
	struct bgp_negotiated neg;
	struct bgp_notify err;
	struct wbuf wb;
	uint8_t type;
	uint16_t mlen;

	if (bgp_open_decode(body, len, &open, &err) == -1) {
		CHECK(err.code != 0);
		return;
	}
	(void)bgp_open_validate(&open, &pol, &err);
	memset(&local, 0, sizeof(local));
	local.holdtime = 90;
	local.caps.mp[BGP_AID_L2VPN_EVPN] = true;
	bgp_negotiate(&local, &open, 0, &neg);
	CHECK(neg.keepalive <= neg.holdtime);

	wbuf_init(&wb, BGP_MAX_MSG_LEN);
	bgp_open_encode(&wb, &open);
	CHECK(wb.error == 0);
	CHECK(bgp_hdr_parse(wb.data, BGP_MAX_MSG_LEN, &type, &mlen, &err) == 0);
	CHECK(type == BGP_MSG_OPEN && mlen == wb.len);
	CHECK(bgp_open_decode(wb.data + BGP_HDR_LEN, wb.len - BGP_HDR_LEN,
	    &again, &err) == 0);
	check_same_open(&open, &again);
	wbuf_free(&wb);
}

static void
fuzz_notify(const uint8_t *body, size_t len)
{
	struct bgp_notify n, again;
	struct wbuf wb;

	if (bgp_notify_decode(body, len, &n) == -1)
		return;
	CHECK(n.datalen <= BGP_NOTIFY_DATA_MAX);
	(void)bgp_notify_code_name(n.code);
	(void)bgp_notify_subcode_name(n.code, n.subcode);
	wbuf_init(&wb, 0);
	bgp_notify_encode(&wb, &n);
	CHECK(wb.error == 0);
	CHECK(bgp_notify_decode(wb.data + BGP_HDR_LEN, wb.len - BGP_HDR_LEN,
	    &again) == 0);
	CHECK(memcmp(&n, &again, sizeof(n)) == 0);
	wbuf_free(&wb);
}

static void
fuzz_rr(const uint8_t *body, size_t len)
{
	struct bgp_route_refresh rr;
	struct bgp_notify err;
	struct wbuf wb;

	if (bgp_rr_decode(body, len, &rr, &err) == -1) {
		CHECK(err.code == BGP_ERR_ROUTE_REFRESH && err.subcode == 1);
		return;
	}
	wbuf_init(&wb, 0);
	bgp_rr_encode(&wb, &rr);
	CHECK(wb.len == BGP_HDR_LEN + 4);
	CHECK(memcmp(wb.data + BGP_HDR_LEN, body, 4) == 0);
	wbuf_free(&wb);
}

static void
fuzz_update(const uint8_t *body, size_t len)
{
	struct bgp_update_parts parts;
	struct bgp_notify err;

	if (bgp_update_split(body, len, &parts, &err) == -1) {
		CHECK(err.code == BGP_ERR_UPDATE);
		return;
	}
	/* The three windows tile the body after the two length fields. */
	CHECK(parts.withdrawn.len + parts.attrs.len + parts.nlri.len + 4 ==
	    len);
	CHECK(parts.withdrawn.data == body + 2);
	CHECK(parts.attrs.data == body + 4 + parts.withdrawn.len);
	CHECK(parts.nlri.data + parts.nlri.len == body + len);
	/* Attribute and NLRI decoders plug in here. */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bgp_notify err;
	const uint8_t *body;
	size_t blen;
	uint8_t type;
	uint16_t len;

	if (size < BGP_HDR_LEN)
		return 0;
	body = data + BGP_HDR_LEN;
	blen = size - BGP_HDR_LEN;
	if (bgp_hdr_parse(data, BGP_MAX_EXT_MSG_LEN, &type, &len, &err) == 0) {
		if (len <= size)
			blen = len - BGP_HDR_LEN;
	} else {
		CHECK(err.code == BGP_ERR_HEADER);
		type = data[BGP_HDR_LEN - 1];
	}
	switch (type) {
	case BGP_MSG_OPEN:
		fuzz_open(body, blen);
		break;
	case BGP_MSG_UPDATE:
		fuzz_update(body, blen);
		break;
	case BGP_MSG_NOTIFICATION:
		fuzz_notify(body, blen);
		break;
	case BGP_MSG_ROUTE_REFRESH:
		fuzz_rr(body, blen);
		break;
	default:
		break;
	}
	return 0;
}
