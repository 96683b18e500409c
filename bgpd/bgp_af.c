/*
 * The address-family table (see bgp_af.h): bgpd's own rows and the
 * lookups everything family-specific goes through.
 */
#include "bgpd/bgp_af.h"

#include "common/log.h"
#include "conf/conf.h"

static const struct bgp_af ipv4_unicast = {
	.aid = BGP_AID_IPV4_UNICAST,
	.afi = AFI_IPV4,
	.safi = SAFI_UNICAST,
	.conf_af = CONF_AF_IPV4_UNICAST,
	.name = "ipv4 unicast",
	.nexthop_lens = { 4 },
};

static const struct bgp_af ipv6_unicast = {
	.aid = BGP_AID_IPV6_UNICAST,
	.afi = AFI_IPV6,
	.safi = SAFI_UNICAST,
	.conf_af = CONF_AF_IPV6_UNICAST,
	.name = "ipv6 unicast",
	.nexthop_lens = { 16, 32 },		/* RFC 2545 §3: + link-local */
};

static const struct bgp_af *af_table[BGP_AID_MAX] = {
	[BGP_AID_IPV4_UNICAST] = &ipv4_unicast,
	[BGP_AID_IPV6_UNICAST] = &ipv6_unicast,
};

void
bgp_af_register(const struct bgp_af *af)
{
	const struct bgp_af *other;

	if (af->aid < 0 || af->aid >= BGP_AID_MAX)
		fatalx("%s: %s: aid %d out of range", __func__, af->name,
		    af->aid);
	if (af_table[af->aid] == af)
		return;
	if (af_table[af->aid] != NULL)
		fatalx("%s: %s: aid %d taken by %s", __func__, af->name,
		    af->aid, af_table[af->aid]->name);
	if ((other = bgp_af_find(af->afi, af->safi)) != NULL)
		fatalx("%s: %s: AFI %u SAFI %u taken by %s", __func__,
		    af->name, af->afi, af->safi, other->name);
	af_table[af->aid] = af;
}

const struct bgp_af *
bgp_af_get(int aid)
{
	if (aid < 0 || aid >= BGP_AID_MAX)
		return NULL;
	return af_table[aid];
}

const struct bgp_af *
bgp_af_find(uint16_t afi, uint8_t safi)
{
	for (int aid = 0; aid < BGP_AID_MAX; aid++)
		if (af_table[aid] && af_table[aid]->afi == afi &&
		    af_table[aid]->safi == safi)
			return af_table[aid];
	return NULL;
}

bool
bgp_af_nexthop_len_ok(const struct bgp_af *af, uint8_t len)
{
	if (af->nexthop_lens[0] == 0)
		return true;
	for (int i = 0; i < BGP_AF_NEXTHOP_FORMS; i++)
		if (af->nexthop_lens[i] != 0 && af->nexthop_lens[i] == len)
			return true;
	return false;
}

int
bgp_aid_from_afi_safi(uint16_t afi, uint8_t safi)
{
	const struct bgp_af *af = bgp_af_find(afi, safi);

	return af ? af->aid : -1;
}

void
bgp_aid_to_afi_safi(int aid, uint16_t *afi, uint8_t *safi)
{
	const struct bgp_af *af = bgp_af_get(aid);

	if (af == NULL)
		fatalx("%s: no family registered at aid %d", __func__, aid);
	*afi = af->afi;
	*safi = af->safi;
}

const char *
bgp_aid_name(int aid)
{
	const struct bgp_af *af = bgp_af_get(aid);

	return af ? af->name : "unknown";
}
