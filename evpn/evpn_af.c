/*
 * The l2vpn evpn row of bgpd's address-family table.
 *
 * The RIB keys EVPN routes by the packed route key of evpn_nlri.h,
 * holding exactly the fields RFC 7432 §7 and RFC 9136 §3.1 make part of
 * the prefix.  Labels travel beside the key, per path.
 */
#include "evpn/evpn_int.h"
#include "common/byteorder.h"

#include <string.h>

_Static_assert(EVPN_KEY_LEN <= BGP_RIB_KEY_MAX, "EVPN key fits the RIB");

static int
evpn_af_decode(struct rbuf *rb, uint8_t *key, struct bgp_labels *labels)
{
	struct evpn_route r;
	int rc;

	if ((rc = evpn_nlri_decode(rb, &r)) != 0)
		return rc;
	evpn_key_pack(&r, key);
	labels->n = r.nlabels;
	for (int i = 0; i < r.nlabels && i < BGP_MAX_LABELS; i++)
		labels->label[i] = evpn_label_get(&r.label[i]);
	return 0;
}

static void
evpn_af_encode(struct wbuf *wb, const uint8_t *key,
    const struct bgp_labels *labels, bool withdraw)
{
	struct evpn_route r;

	evpn_key_unpack(key, &r);
	/* Types 1, 2 and 5 always carry one label; type 2 may carry two. */
	if (r.type == EVPN_RT_EAD || r.type == EVPN_RT_PREFIX)
		r.nlabels = 1;
	else if (r.type == EVPN_RT_MACIP)
		r.nlabels = labels->n == 2 ? 2 : 1;
	for (int i = 0; i < r.nlabels; i++)
		evpn_label_set(&r.label[i], i < labels->n ? labels->label[i] : 0);
	(void)withdraw;
	evpn_nlri_encode(wb, &r);
}

bool
evpn_path_mobility(const struct bgp_attrs *a, uint32_t *seq, bool *sticky)
{
	uint8_t ec[BGP_ECOMM_LEN];
	size_t it = 0;

	*seq = 0;
	*sticky = false;
	if (bgp_ecomm_find(a, BGP_ECOMM_T_EVPN, EVPN_ECOMM_ST_MAC_MOB, &it,
	    ec) == -1)
		return false;
	*sticky = (ec[2] & EVPN_MAC_MOB_STICKY) != 0;
	*seq = be32_load(ec + 4);
	return true;
}

/*
 * RFC 7432 §15 between paths of one type-2 entry (the same VTEP's route
 * heard twice, e.g. through two reflectors): sticky first, then the
 * higher sequence number.  Between different VTEPs (different RDs) the
 * same rules run per MAC in evpn_import.c.
 */
static int
evpn_af_prefer(const uint8_t *key, const struct bgp_rib_path *a,
    const struct bgp_rib_path *b)
{
	uint32_t sa, sb;
	bool ka, kb;

	if (evpn_key_type(key) != EVPN_RT_MACIP)
		return 0;
	evpn_path_mobility(a->attrs, &sa, &ka);
	evpn_path_mobility(b->attrs, &sb, &kb);
	if (ka != kb)
		return ka ? -1 : 1;
	if (sa != sb)
		return sa > sb ? -1 : 1;
	return 0;
}

static const char *
evpn_af_fmt(const uint8_t *key, char *buf, size_t len)
{
	struct evpn_route r;

	evpn_key_unpack(key, &r);
	return evpn_route_prefix_fmt(&r, buf, len);
}

/*
 * The row, registered by evpn_create() (through bgp_rib_af_register()).
 * Next hop: the originating VTEP's IPv4 or IPv6 address (RFC 7432), or
 * an IPv6 global and link-local pair (RFC 2545 §3).
 */
const struct bgp_af evpn_af = {
	.aid = BGP_AID_L2VPN_EVPN,
	.afi = AFI_L2VPN,
	.safi = SAFI_EVPN,
	.conf_af = CONF_AF_L2VPN_EVPN,
	.name = "l2vpn evpn",
	.nexthop_lens = { 4, 16, 32 },
	.key_len = EVPN_KEY_LEN,
	.nlri_decode = evpn_af_decode,
	.nlri_encode = evpn_af_encode,
	.path_prefer = evpn_af_prefer,
	.key_fmt = evpn_af_fmt,
};

int
evpn_bgp_aid(void)
{
	return BGP_AID_L2VPN_EVPN;
}
