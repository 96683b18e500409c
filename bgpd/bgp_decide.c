/*
 * The decision process (RFC 4271 §9.1.2.2, RFC 4456 §9), preceded by the
 * address family's own preference (EVPN: RFC 7432 §15 MAC mobility).
 * bgp_rib_path_cmp() is a total order: paths are kept sorted by it, the
 * first being the best.
 */
#include "bgpd/bgp_rib_int.h"

#include <string.h>

#define DEFAULT_LOCAL_PREF	100

static uint32_t
path_local_pref(const struct bgp_rib_path *p)
{
	if (p->attrs->flags & BGP_ATTRF_LOCAL_PREF)
		return p->attrs->local_pref;
	return DEFAULT_LOCAL_PREF;
}

static uint32_t
path_med(const struct bgp_rib_path *p)
{
	return (p->attrs->flags & BGP_ATTRF_MED) ? p->attrs->med : 0;
}

static size_t
path_cluster_len(const struct bgp_rib_path *p)
{
	const struct bgp_blob *cl = p->attrs->cluster_list;

	return cl ? cl->len / 4 : 0;
}

/* RFC 4456 §9: ORIGINATOR_ID stands in for the BGP Identifier. */
static uint32_t
path_router_id(const struct bgp_rib *rib, const struct bgp_rib_path *p)
{
	if (p->attrs->flags & BGP_ATTRF_ORIGINATOR_ID)
		return p->attrs->originator_id;
	return rib->slots[p->slot].src.router_id;
}

#define PREFER_LOWER(x, y)	do {				\
	if ((x) != (y))						\
		return (x) < (y) ? -1 : 1;			\
} while (0)

static int
path_cmp_attrs(const struct bgp_rib_path *a, const struct bgp_rib_path *b)
{
	PREFER_LOWER(path_local_pref(b), path_local_pref(a));
	/* Locally originated first (as FRR's weight does). */
	PREFER_LOWER(a->slot != BGP_RIB_PEER_LOCAL, b->slot != BGP_RIB_PEER_LOCAL);
	PREFER_LOWER(bgp_aspath_length(a->attrs), bgp_aspath_length(b->attrs));
	PREFER_LOWER(a->attrs->origin, b->attrs->origin);
	/* MED only between routes from the same neighbouring AS (§9.1.2.2 c). */
	if (bgp_aspath_first_as(a->attrs) == bgp_aspath_first_as(b->attrs))
		PREFER_LOWER(path_med(a), path_med(b));
	return 0;
}

int
bgp_rib_path_cmp(const struct bgp_rib *rib, const struct bgp_af *af,
    const uint8_t *key, const struct bgp_rib_path *a,
    const struct bgp_rib_path *b)
{
	const struct bgp_rib_source *sa = &rib->slots[a->slot].src;
	const struct bgp_rib_source *sb = &rib->slots[b->slot].src;
	int c;

	if (af->path_prefer && (c = af->path_prefer(key, a, b)) != 0)
		return c;
	/* A fresh path beats one kept stale across a restart. */
	PREFER_LOWER(rib->slots[a->slot].stale, rib->slots[b->slot].stale);
	if ((c = path_cmp_attrs(a, b)) != 0)
		return c;
	PREFER_LOWER(!sa->ebgp, !sb->ebgp);
	PREFER_LOWER(path_router_id(rib, a), path_router_id(rib, b));
	PREFER_LOWER(path_cluster_len(a), path_cluster_len(b));
	if ((c = ipaddr_cmp(&sa->addr, &sb->addr)) != 0)
		return c;
	PREFER_LOWER(a->slot, b->slot);
	return 0;
}
