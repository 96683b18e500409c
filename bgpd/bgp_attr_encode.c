/*
 * Path attribute encoding (RFC 4271 §4.3, §5; RFC 4760; RFC 6793 §4.2.2).
 *
 * How this works: MP_REACH_NLRI / MP_UNREACH_NLRI, when the context
 * carries them, go first (RFC 7606 §5.1 asks for that so a receiver can
 * find the NLRI even if a later attribute is broken).  Then the rows of
 * the attribute table (bgp_attr_int.h) follow in their order, which is
 * type-code order: each attribute the set holds is written by its row's
 * encode function, with the unknown transitive attributes of the set
 * merged in by type and marked Partial (RFC 4271 §5: we pass on what we
 * did not understand).
 */
#include "bgpd/bgp_attr_int.h"

#include <string.h>

#include "common/byteorder.h"
#include "common/util.h"

#define OPT	BGP_ATTR_FLAG_OPTIONAL
#define TRANS	BGP_ATTR_FLAG_TRANSITIVE
#define EXTLEN	BGP_ATTR_FLAG_EXTLEN

static void
attr_hdr(struct wbuf *wb, uint8_t flags, uint8_t type, size_t len)
{
	if (len > UINT16_MAX) {
		wb->error = 1;		/* cannot be expressed */
		return;
	}
	/* A caller may ask for the extended form even when short: FRR
	 * sends MP_REACH/MP_UNREACH and AS_PATH so, and we match its
	 * bytes (RFC 4271 §4.3 allows either form). */
	if (len > 255 || (flags & BGP_ATTR_FLAG_EXTLEN)) {
		wbuf_put_u8(wb, flags | BGP_ATTR_FLAG_EXTLEN);
		wbuf_put_u8(wb, type);
		wbuf_put_u16(wb, (uint16_t)len);
	} else {
		wbuf_put_u8(wb, flags & ~BGP_ATTR_FLAG_EXTLEN);
		wbuf_put_u8(wb, type);
		wbuf_put_u8(wb, (uint8_t)len);
	}
}

void
bgp_attr_put(struct wbuf *wb, uint8_t flags, uint8_t type, const void *value,
    size_t len)
{
	attr_hdr(wb, flags, type, len);
	wbuf_put_bytes(wb, value, len);
}

void
bgp_mp_reach_encode(struct wbuf *wb, uint16_t afi, uint8_t safi,
    const uint8_t *nexthop, uint8_t nh_len, const uint8_t *nlri, size_t len)
{
	attr_hdr(wb, OPT | EXTLEN, BGP_ATTR_MP_REACH_NLRI,
	    5 + (size_t)nh_len + len);
	wbuf_put_u16(wb, afi);
	wbuf_put_u8(wb, safi);
	wbuf_put_u8(wb, nh_len);
	wbuf_put_bytes(wb, nexthop, nh_len);
	wbuf_put_u8(wb, 0);			/* Reserved (RFC 4760 §3) */
	wbuf_put_bytes(wb, nlri, len);
}

void
bgp_mp_unreach_encode(struct wbuf *wb, uint16_t afi, uint8_t safi,
    const uint8_t *nlri, size_t len)
{
	attr_hdr(wb, OPT | EXTLEN, BGP_ATTR_MP_UNREACH_NLRI, 3 + len);
	wbuf_put_u16(wb, afi);
	wbuf_put_u8(wb, safi);
	wbuf_put_bytes(wb, nlri, len);
}

static void
put_blob(struct wbuf *wb, uint8_t flags, uint8_t type,
    const struct bgp_blob *b)
{
	bgp_attr_put(wb, flags, type, b ? b->data : NULL, b ? b->len : 0);
}

/*
 * Write the path for an old (2-octet) speaker: numbers that do not fit
 * become AS_TRANS (RFC 6793 §4.2.2).  Returns whether any did, i.e.
 * whether AS4_PATH must follow.  With as4path set, write that instead:
 * 4-octet numbers without the confederation segments (RFC 6793 §3).
 */
static bool
aspath_put_old(struct wbuf *wb, const struct bgp_blob *path, bool as4path)
{
	struct rbuf rb;
	uint8_t type, n;
	bool wide = false;

	if (path == NULL)
		return false;
	rbuf_init(&rb, path->data, path->len);
	while (rbuf_get_u8(&rb, &type) == 0 && rbuf_get_u8(&rb, &n) == 0) {
		const uint8_t *p = rbuf_ptr(&rb);

		if (rbuf_skip(&rb, (size_t)n * 4) == -1)
			break;
		if (as4path && type >= BGP_AS_CONFED_SEQUENCE)
			continue;
		wbuf_put_u8(wb, type);
		wbuf_put_u8(wb, n);
		for (size_t i = 0; i < n; i++) {
			uint32_t as = be32_load(p + 4 * i);

			if (as4path) {
				wbuf_put_u32(wb, as);
				continue;
			}
			if (as > UINT16_MAX) {
				as = BGP_AS_TRANS;
				wide = true;
			}
			wbuf_put_u16(wb, (uint16_t)as);
		}
	}
	return wide;
}

void
attr_enc_aspath(struct wbuf *wb, const struct bgp_attrs *a,
    const struct bgp_attr_enc_ctx *ctx)
{
	struct wbuf tmp;

	if (ctx->as4) {
		put_blob(wb, TRANS | EXTLEN, BGP_ATTR_AS_PATH, a->aspath);
		return;
	}
	wbuf_init(&tmp, 0);
	aspath_put_old(&tmp, a->aspath, false);
	if (tmp.error)
		wb->error = 1;
	bgp_attr_put(wb, TRANS | EXTLEN, BGP_ATTR_AS_PATH, tmp.data, tmp.len);
	wbuf_free(&tmp);
}

/* AS4_PATH, after the 2-octet AS_PATH, only when a number did not fit. */
void
attr_enc_as4_path(struct wbuf *wb, const struct bgp_attrs *a,
    const struct bgp_attr_enc_ctx *ctx)
{
	struct wbuf tmp;

	if (ctx->as4)
		return;
	wbuf_init(&tmp, 0);
	if (aspath_put_old(&tmp, a->aspath, false)) {
		wbuf_reset(&tmp);
		aspath_put_old(&tmp, a->aspath, true);
		if (tmp.error)
			wb->error = 1;
		bgp_attr_put(wb, OPT | TRANS, BGP_ATTR_AS4_PATH, tmp.data,
		    tmp.len);
	}
	wbuf_free(&tmp);
}

void
attr_enc_aggregator(struct wbuf *wb, const struct bgp_attrs *a,
    const struct bgp_attr_enc_ctx *ctx)
{
	uint32_t as = a->aggregator_as;

	if (ctx->as4) {
		attr_hdr(wb, OPT | TRANS, BGP_ATTR_AGGREGATOR, 8);
		wbuf_put_u32(wb, as);
	} else {
		attr_hdr(wb, OPT | TRANS, BGP_ATTR_AGGREGATOR, 6);
		wbuf_put_u16(wb, as > UINT16_MAX ? BGP_AS_TRANS : (uint16_t)as);
	}
	wbuf_put_u32(wb, a->aggregator_id);
}

void
attr_enc_as4_aggregator(struct wbuf *wb, const struct bgp_attrs *a,
    const struct bgp_attr_enc_ctx *ctx)
{
	if (ctx->as4 || a->aggregator_as <= UINT16_MAX)
		return;
	attr_hdr(wb, OPT | TRANS, BGP_ATTR_AS4_AGGREGATOR, 8);
	wbuf_put_u32(wb, a->aggregator_as);
	wbuf_put_u32(wb, a->aggregator_id);
}

static void
put_u32_attr(struct wbuf *wb, uint8_t flags, uint8_t type, uint32_t v)
{
	attr_hdr(wb, flags, type, 4);
	wbuf_put_u32(wb, v);
}

void
attr_enc_pmsi(struct wbuf *wb, const struct bgp_attrs *a,
    const struct bgp_attr_enc_ctx *ctx)
{
	size_t idlen = a->pmsi_id ? a->pmsi_id->len : 0;

	attr_hdr(wb, OPT | TRANS, BGP_ATTR_PMSI_TUNNEL, 5 + idlen);
	wbuf_put_u8(wb, a->pmsi_flags);
	wbuf_put_u8(wb, a->pmsi_type);
	wbuf_put_u24(wb, a->pmsi_label);
	if (idlen > 0)
		wbuf_put_bytes(wb, a->pmsi_id->data, idlen);
}

/* The fixed-size attributes. */

void
attr_enc_origin(struct wbuf *wb, const struct bgp_attrs *a,
    const struct bgp_attr_enc_ctx *ctx)
{
	bgp_attr_put(wb, TRANS, BGP_ATTR_ORIGIN, &a->origin, 1);
}

void
attr_enc_nexthop(struct wbuf *wb, const struct bgp_attrs *a,
    const struct bgp_attr_enc_ctx *ctx)
{
	put_u32_attr(wb, TRANS, BGP_ATTR_NEXT_HOP, a->nexthop);
}

void
attr_enc_med(struct wbuf *wb, const struct bgp_attrs *a,
    const struct bgp_attr_enc_ctx *ctx)
{
	put_u32_attr(wb, OPT, BGP_ATTR_MED, a->med);
}

void
attr_enc_local_pref(struct wbuf *wb, const struct bgp_attrs *a,
    const struct bgp_attr_enc_ctx *ctx)
{
	put_u32_attr(wb, TRANS, BGP_ATTR_LOCAL_PREF, a->local_pref);
}

void
attr_enc_atomic_aggr(struct wbuf *wb, const struct bgp_attrs *a,
    const struct bgp_attr_enc_ctx *ctx)
{
	bgp_attr_put(wb, TRANS, BGP_ATTR_ATOMIC_AGGREGATE, NULL, 0);
}

void
attr_enc_originator_id(struct wbuf *wb, const struct bgp_attrs *a,
    const struct bgp_attr_enc_ctx *ctx)
{
	put_u32_attr(wb, OPT, BGP_ATTR_ORIGINATOR_ID, a->originator_id);
}

/* The lists, written as interned. */

void
attr_enc_communities(struct wbuf *wb, const struct bgp_attrs *a,
    const struct bgp_attr_enc_ctx *ctx)
{
	put_blob(wb, OPT | TRANS, BGP_ATTR_COMMUNITIES, a->communities);
}

void
attr_enc_cluster_list(struct wbuf *wb, const struct bgp_attrs *a,
    const struct bgp_attr_enc_ctx *ctx)
{
	put_blob(wb, OPT, BGP_ATTR_CLUSTER_LIST, a->cluster_list);
}

void
attr_enc_ext_communities(struct wbuf *wb, const struct bgp_attrs *a,
    const struct bgp_attr_enc_ctx *ctx)
{
	put_blob(wb, OPT | TRANS, BGP_ATTR_EXT_COMMUNITIES, a->ecomms);
}

/* Unknown records with a type below limit, from *rb on (see bgp_attr.h). */
static void
enc_unknown_upto(struct wbuf *wb, struct rbuf *rb, unsigned limit)
{
	uint8_t flags, type;
	uint16_t len;

	while (rbuf_left(rb) >= 4 && rbuf_ptr(rb)[1] < limit) {
		struct rbuf save = *rb;

		if (rbuf_get_u8(rb, &flags) == -1 ||
		    rbuf_get_u8(rb, &type) == -1 ||
		    rbuf_get_u16(rb, &len) == -1 || rbuf_left(rb) < len) {
			*rb = save;
			rbuf_skip(rb, rbuf_left(rb));
			return;
		}
		bgp_attr_put(wb, flags | BGP_ATTR_FLAG_PARTIAL, type,
		    rbuf_ptr(rb), len);
		rbuf_skip(rb, len);
	}
}

void
bgp_attrs_encode(struct wbuf *wb, const struct bgp_attrs *a,
    const struct bgp_attr_enc_ctx *ctx)
{
	const struct bgp_mp *mp;
	struct rbuf unk;

#define NLRI_PTR(m) (rbuf_left(&(m)->nlri) ? rbuf_ptr(&(m)->nlri) : NULL)

	if ((mp = ctx->mp_reach) != NULL)
		bgp_mp_reach_encode(wb, mp->afi, mp->safi, a->mp_nexthop,
		    (a->flags & BGP_ATTRF_MP_NEXTHOP) ? a->mp_nexthop_len : 0,
		    NLRI_PTR(mp), rbuf_left(&mp->nlri));
	if ((mp = ctx->mp_unreach) != NULL)
		bgp_mp_unreach_encode(wb, mp->afi, mp->safi, NLRI_PTR(mp),
		    rbuf_left(&mp->nlri));
#undef NLRI_PTR

	rbuf_init(&unk, NULL, 0);
	if ((a->flags & BGP_ATTRF_UNKNOWN) && a->unknown != NULL)
		rbuf_init(&unk, a->unknown->data, a->unknown->len);
	for (unsigned type = 0; type < nitems(attr_rules); type++) {
		const struct attr_rule *r = &attr_rules[type];

		if (r->encode == NULL || !(a->flags & r->attrf))
			continue;
		enc_unknown_upto(wb, &unk, type);
		r->encode(wb, a, ctx);
	}
	enc_unknown_upto(wb, &unk, 256);
}
