/*
 * libFuzzer target for the EVPN NLRI codec.
 *
 * How this works: the input is the NLRI part of an MP_REACH_NLRI or
 * MP_UNREACH_NLRI attribute for AFI 25 / SAFI 70, i.e. a run of
 * (route type, length, value).  It is first walked with
 * evpn_nlri_decode_all() as the daemon will; then, if well-formed, NLRI
 * by NLRI again, and every decoded route is
 *   - re-encoded, which must succeed and give back exactly the bytes it
 *     came from (the codec keeps every field, host bits and unknown
 *     ESI types included),
 *   - re-decoded, which must give the same struct (key and attributes),
 *   - hashed, compared and formatted, which must not misbehave.
 * Any broken promise is an abort(), which libFuzzer reports as a crash.
 *
 * Build (from the top of the tree), e.g.:
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *     tests/fuzz/fuzz_evpn.c evpn/evpn_nlri.c common/buf.c common/addr.c \
 *     common/util.c common/log.c -o fuzz_evpn
 *   ./fuzz_evpn tests/fuzz/corpus/evpn
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evpn/evpn_nlri.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

static int
count_cb(const struct evpn_route *r, void *arg)
{
	size_t *n = arg;

	CHECK(r->type >= EVPN_RT_EAD && r->type <= EVPN_RT_PREFIX);
	(*n)++;
	return 0;
}

static void
check_route(const struct evpn_route *r, const uint8_t *wire, size_t len)
{
	char buf[EVPN_PREFIX_STRLEN];
	struct evpn_route again;
	struct rbuf rb;
	struct wbuf wb;

	CHECK(evpn_nlri_len(r) == len);
	wbuf_init(&wb, 0);
	CHECK(evpn_nlri_encode(&wb, r) == 0 && wb.error == 0);
	CHECK(wb.len == len && memcmp(wb.data, wire, len) == 0);

	rbuf_init(&rb, wb.data, wb.len);
	CHECK(evpn_nlri_decode(&rb, &again) == 0 && rbuf_left(&rb) == 0);
	/* Decode zeroes what a type does not carry, so whole structs match. */
	CHECK(memcmp(&again, r, sizeof(again)) == 0);
	CHECK(evpn_route_same(&again, r));
	CHECK(evpn_route_cmp(&again, r) == 0);
	CHECK(evpn_route_hash(&again) == evpn_route_hash(r));
	wbuf_free(&wb);

	evpn_route_prefix_fmt(r, buf, sizeof(buf));
	CHECK(strlen(buf) < sizeof(buf) - 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct evpn_route r, prev;
	struct rbuf rb;
	size_t n = 0, walked = 0, start;
	int rc, have_prev = 0;

	rbuf_init(&rb, data, len);
	if (evpn_nlri_decode_all(&rb, count_cb, &n) == -1)
		return 0;
	CHECK(rbuf_left(&rb) == 0);

	rbuf_init(&rb, data, len);
	while (rbuf_left(&rb) > 0) {
		start = rb.pos;
		rc = evpn_nlri_decode(&rb, &r);
		CHECK(rc == 0 || rc == 1);	/* decode_all said well-formed */
		if (rc == 1)
			continue;
		walked++;
		check_route(&r, data + start, rb.pos - start);
		if (have_prev) {	/* antisymmetry of the order */
			rc = evpn_route_cmp(&prev, &r);
			CHECK(rc == -evpn_route_cmp(&r, &prev));
			if (rc == 0)
				CHECK(evpn_route_hash(&prev) ==
				    evpn_route_hash(&r));
		}
		prev = r;
		have_prev = 1;
	}
	CHECK(walked == n);
	return 0;
}
