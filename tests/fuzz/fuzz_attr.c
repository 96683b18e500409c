/*
 * libFuzzer target for the path attribute decoder.
 *
 * The first input byte picks the session context (bit 0 eBGP, bit 1 AS4,
 * bit 2 classic NLRI present, bit 3 enforce first AS); the rest is the
 * attribute list.  Whatever the decoder returns, nothing may read out of
 * bounds or leak.  When it accepts the input on an AS4 session, the set
 * is interned, encoded (with its MP attributes first) and decoded again,
 * and the second decode must accept and give the same set: the encoder
 * writes only what the decoder can read back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgpd/bgp_attr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
roundtrip(const struct bgp_attr_ctx *ctx, const struct bgp_attrs *set,
    const struct bgp_mp *mpr, const struct bgp_mp *mpu)
{
	struct bgp_attr_enc_ctx ec = { .as4 = ctx->as4 };
	struct bgp_mp mpr2, mpu2;
	struct bgp_notify err;
	struct bgp_attrs again;
	struct wbuf wb;
	struct rbuf rb;

	ec.mp_reach = mpr->present ? mpr : NULL;
	ec.mp_unreach = mpu->present ? mpu : NULL;
	wbuf_init(&wb, 0);
	bgp_attrs_encode(&wb, set, &ec);
	if (wb.error)
		abort();
	bgp_attrs_init(&again);
	rbuf_init(&rb, wb.data, wb.len);
	if (bgp_attrs_decode(&rb, ctx, &again, &mpr2, &mpu2, &err) !=
	    BGP_ATTR_OK)
		abort();
	if (!bgp_attrs_equal(set, &again))
		abort();
	if (mpr2.present != mpr->present ||
	    rbuf_left(&mpr2.nlri) != rbuf_left(&mpr->nlri) ||
	    mpu2.present != mpu->present ||
	    rbuf_left(&mpu2.nlri) != rbuf_left(&mpu->nlri))
		abort();
	bgp_attrs_clear(&again);
	wbuf_free(&wb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bgp_attr_ctx ctx = {
		.local_as = 65000, .peer_as = 65001,
		.router_id = 0x0a000001, .cluster_id = 0x0a000001,
	};
	const struct bgp_attrs *set;
	struct bgp_mp mpr, mpu;
	struct bgp_notify err;
	struct bgp_attrs a;
	struct rbuf rb;
	char buf[512];

	if (size < 1)
		return 0;
	ctx.ebgp = data[0] & 1;
	ctx.as4 = data[0] & 2;
	ctx.nlri_present = data[0] & 4;
	ctx.enforce_first_as = data[0] & 8;
	bgp_attrs_init(&a);
	rbuf_init(&rb, data + 1, size - 1);
	if (bgp_attrs_decode(&rb, &ctx, &a, &mpr, &mpu, &err) == BGP_ATTR_OK) {
		set = bgp_attrs_intern(&a);
		for (unsigned t = 0; t < 256; t++)
			(void)bgp_attr_fmt(set, (uint8_t)t, buf, sizeof(buf));
		(void)bgp_aspath_length(set);
		(void)bgp_attrs_looped(set, &ctx);
		if (ctx.as4)
			roundtrip(&ctx, set, &mpr, &mpu);
		bgp_attrs_unref(set);
	}
	bgp_attrs_clear(&a);
	if (bgp_attrs_intern_count() != 0 || bgp_blob_intern_count() != 0)
		abort();
	return 0;
}
