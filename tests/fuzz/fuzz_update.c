/*
 * libFuzzer target: a whole UPDATE body as a peer would send it, through
 * the same path the RIB takes: framing (bgp_update_split), path
 * attributes with RFC 7606 handling (bgp_attrs_decode), then the EVPN
 * NLRI of MP_REACH_NLRI / MP_UNREACH_NLRI (evpn_nlri_decode_all).
 * Whatever it is fed, nothing may read out of bounds, leak or abort.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bgpd/bgp_attr.h"
#include "bgpd/bgp_msg.h"
#include "evpn/evpn_int.h"
#include "evpn/evpn_nlri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
count_route(const struct evpn_route *r, void *arg)
{
	(*(size_t *)arg)++;
	return 0;
}

static void
walk_mp(const struct bgp_mp *mp)
{
	struct rbuf nlri = mp->nlri;
	size_t n = 0;

	if (!mp->present || mp->afi != AFI_L2VPN || mp->safi != SAFI_EVPN)
		return;
	(void)evpn_nlri_decode_all(&nlri, count_route, &n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bgp_update_parts parts;
	struct bgp_notify err;
	struct bgp_attr_ctx ctx;
	struct bgp_attrs attrs;
	struct bgp_mp mpr, mpu;
	enum bgp_attr_action act;

	if (bgp_update_split(data, size, &parts, &err) == -1)
		return 0;
	memset(&ctx, 0, sizeof(ctx));
	ctx.as4 = size & 1;		/* exercise both AS_PATH forms */
	ctx.ebgp = (size & 2) != 0;
	ctx.nlri_present = rbuf_left(&parts.nlri) > 0;
	ctx.local_as = 65000;
	ctx.peer_as = ctx.ebgp ? 65001 : 65000;
	ctx.router_id = 0x0a00000b;
	ctx.cluster_id = 0x0a00000b;
	bgp_attrs_init(&attrs);
	act = bgp_attrs_decode(&parts.attrs, &ctx, &attrs, &mpr, &mpu, &err);
	if (act != BGP_ATTR_SESSION_RESET && act != BGP_ATTR_AFISAFI_DISABLE) {
		walk_mp(&mpu);
		walk_mp(&mpr);
		if (act == BGP_ATTR_OK) {
			const struct bgp_attrs *in = bgp_attrs_intern(&attrs);

			(void)bgp_attrs_looped(in, &ctx);
			bgp_attrs_unref(in);
		}
	}
	bgp_attrs_clear(&attrs);
	return 0;
}
