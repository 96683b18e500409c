/*
 * Path attribute decoding: RFC 4271 §4.3/§5/§6.3 as revised by RFC 7606,
 * with RFC 4760 (MP_REACH/MP_UNREACH), RFC 4456 (route reflection),
 * RFC 6793 (AS4) and RFC 7607 (AS 0).
 *
 * How this works: the attribute list is walked once.  Each attribute's
 * header is read, its value cut into its own rbuf slice, and the type's
 * row of attr_rules[] (the attribute table of bgp_attr_int.h, kept here)
 * gives the expected Optional/Transitive flags and the decoder.
 * Decoders never stop the walk: they record an error with the RFC 7606
 * approach for that attribute (dec_error), and the most severe approach
 * seen becomes the result (RFC 7606 §3(f)).  Only an
 * attribute overrunning the list ends the walk, since nothing after it
 * can be located.  After the walk come the checks that need the whole
 * set: AS4_PATH/AS4_AGGREGATOR merging, well-known mandatory attributes,
 * and the eBGP first-AS check.
 */
#include "bgpd/bgp_attr_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

/* RFC 7606 §2 approaches, least severe first; discard is not an action. */
enum severity {
	SEV_NONE,
	SEV_DISCARD,		/* attribute discard */
	SEV_WITHDRAW,		/* treat-as-withdraw */
	SEV_DISABLE,		/* AFI/SAFI disable */
	SEV_RESET,		/* session reset */
};

#define OPT	BGP_ATTR_FLAG_OPTIONAL
#define TRANS	BGP_ATTR_FLAG_TRANSITIVE
#define WK	TRANS			/* well-known: O=0, T=1 */

struct unknown_attr {
	uint8_t		 flags;
	uint8_t		 type;
	uint16_t	 len;
	const uint8_t	*value;
};

struct attr_dec {
	const struct bgp_attr_ctx *ctx;
	struct bgp_attrs	*out;
	struct bgp_mp		*mpr;
	struct bgp_mp		*mpu;
	struct bgp_notify	*err;
	enum severity		 worst;		/* decides the action */
	enum severity		 err_sev;	/* of the error in *err */
	uint8_t			 seen[256 / 8];
	/* The attribute being decoded. */
	uint8_t			 flags;
	uint8_t			 type;
	struct rbuf		 val;
	const uint8_t		*raw;		/* header + value */
	size_t			 rawlen;
	/* AS4 material merged at the end (RFC 6793 §4.2.3). */
	bool			 has_as4_path;
	struct rbuf		 as4_path;
	bool			 has_as4_aggr;
	uint32_t		 as4_aggr_as;
	uint32_t		 as4_aggr_id;
	/* Optional transitive attributes we do not know, to pass on. */
	size_t			 n_unknown;
	struct unknown_attr	 unknown[256];
};

/*
 * Record an error.  The NOTIFICATION kept is the first one of the most
 * severe approach; data is the whole attribute (RFC 4271 §6.3), or the
 * given bytes, truncated to what a NOTIFICATION holds.
 */
static void
dec_error_data(struct attr_dec *d, enum severity sev, uint8_t subcode,
    const void *data, size_t len)
{
	if (sev > d->worst)
		d->worst = sev;
	if (sev <= d->err_sev)
		return;
	d->err_sev = sev;
	if (len > BGP_NOTIFY_DATA_MAX)
		len = BGP_NOTIFY_DATA_MAX;
	d->err->code = BGP_ERR_UPDATE;
	d->err->subcode = subcode;
	d->err->datalen = (uint16_t)len;
	if (len > 0)
		memcpy(d->err->data, data, len);
}

static void
dec_error(struct attr_dec *d, enum severity sev, uint8_t subcode)
{
	dec_error_data(d, sev, subcode, d->raw, d->rawlen);
}

/* Fixed-length attribute: is the value exactly n bytes? */
static bool
len_is(struct attr_dec *d, size_t n)
{
	return rbuf_left(&d->val) == n;
}

/* ---- well-known attributes ---- */

static void
dec_origin(struct attr_dec *d)
{
	uint8_t v;

	/* RFC 7606 §7.1: wrong length or undefined value: withdraw. */
	if (!len_is(d, 1) || rbuf_get_u8(&d->val, &v) == -1) {
		dec_error(d, SEV_WITHDRAW, BGP_ERR_UPD_LENGTH);
		return;
	}
	if (v > BGP_ORIGIN_INCOMPLETE) {
		dec_error(d, SEV_WITHDRAW, BGP_ERR_UPD_ORIGIN);
		return;
	}
	bgp_attrs_set_origin(d->out, v);
}

/*
 * Check an AS path of asz-octet numbers and write it in 4-octet form.
 * Returns -1 if malformed (RFC 7606 §7.2: unknown segment type, zero
 * segment length, a segment overrunning the attribute; RFC 7607: AS 0).
 * *confed tells whether confederation segments were seen.
 */
static int
aspath_convert(struct rbuf *rb, size_t asz, struct wbuf *wb, bool *confed)
{
	uint8_t type, n;
	uint32_t as;

	*confed = false;
	while (rbuf_left(rb) > 0) {
		if (rbuf_get_u8(rb, &type) == -1 || rbuf_get_u8(rb, &n) == -1)
			return -1;
		if (type < BGP_AS_SET || type > BGP_AS_CONFED_SET || n == 0 ||
		    rbuf_left(rb) < n * asz)
			return -1;
		if (type >= BGP_AS_CONFED_SEQUENCE)
			*confed = true;
		wbuf_put_u8(wb, type);
		wbuf_put_u8(wb, n);
		for (size_t i = 0; i < n; i++) {
			if (asz == 2) {
				uint16_t as2;

				rbuf_get_u16(rb, &as2);
				as = as2;
			} else
				rbuf_get_u32(rb, &as);
			if (as == 0)
				return -1;
			wbuf_put_u32(wb, as);
		}
	}
	return wb->error ? -1 : 0;
}

static void
dec_aspath(struct attr_dec *d)
{
	struct wbuf wb;
	bool confed;

	wbuf_init(&wb, 0);
	if (aspath_convert(&d->val, d->ctx->as4 ? 4 : 2, &wb, &confed) == -1) {
		dec_error(d, SEV_WITHDRAW, BGP_ERR_UPD_ASPATH);
	} else if (confed && d->ctx->ebgp) {
		/* No confederations here: an eBGP peer cannot send these
		 * (RFC 5065 §5); malformed AS_PATH, RFC 7606 §7.2. */
		dec_error(d, SEV_WITHDRAW, BGP_ERR_UPD_ASPATH);
	} else {
		bgp_blob_unref(d->out->aspath);
		d->out->aspath = bgp_blob_intern(wb.data, wb.len);
		d->out->flags |= BGP_ATTRF_AS_PATH;
	}
	wbuf_free(&wb);
}

/* A four-byte value; any other length: withdraw (RFC 7606 §7.3, §7.4,
 * §7.5, §7.9). */
static int
dec_u32(struct attr_dec *d, uint32_t *v)
{
	if (!len_is(d, 4) || rbuf_get_u32(&d->val, v) == -1) {
		dec_error(d, SEV_WITHDRAW, BGP_ERR_UPD_LENGTH);
		return -1;
	}
	return 0;
}

static void
dec_nexthop(struct attr_dec *d)
{
	uint32_t nh;

	/* RFC 4760 §3: with no classic NLRI, NEXT_HOP is ignored. */
	if (!d->ctx->nlri_present)
		return;
	if (dec_u32(d, &nh) == -1)
		return;
	/* RFC 4271 §6.3 syntactic check, RFC 7606 §7.3: withdraw.
	 * 0.0.0.0, class D/E and broadcast are never a next hop. */
	if (nh == 0 || (nh >> 28) >= 0xe) {
		dec_error(d, SEV_WITHDRAW, BGP_ERR_UPD_NEXTHOP);
		return;
	}
	bgp_attrs_set_nexthop(d->out, nh);
}

static void
dec_med(struct attr_dec *d)
{
	uint32_t v;

	/* RFC 7606 §7.4 */
	if (dec_u32(d, &v) == -1)
		return;
	bgp_attrs_set_med(d->out, v);
}

static void
dec_local_pref(struct attr_dec *d)
{
	uint32_t v;

	/* RFC 7606 §7.5: from an external neighbor it is discarded. */
	if (d->ctx->ebgp)
		return;
	if (dec_u32(d, &v) == -1)
		return;
	bgp_attrs_set_local_pref(d->out, v);
}

static void
dec_atomic_aggr(struct attr_dec *d)
{
	/* RFC 7606 §7.6 */
	if (!len_is(d, 0)) {
		dec_error(d, SEV_DISCARD, BGP_ERR_UPD_LENGTH);
		return;
	}
	d->out->flags |= BGP_ATTRF_ATOMIC_AGGR;
}

/* ---- optional attributes ---- */

static void
dec_aggregator(struct attr_dec *d)
{
	uint32_t as = 0, id;
	uint16_t as2 = 0;
	int rv = -1;

	/* RFC 7606 §7.7: 6 bytes, or 8 with AS4; else discard. */
	if (d->ctx->as4 && len_is(d, 8))
		rv = rbuf_get_u32(&d->val, &as);
	else if (!d->ctx->as4 && len_is(d, 6)) {
		rv = rbuf_get_u16(&d->val, &as2);
		as = as2;
	}
	if (rv == -1 || rbuf_get_u32(&d->val, &id) == -1) {
		dec_error(d, SEV_DISCARD, BGP_ERR_UPD_LENGTH);
		return;
	}
	if (as == 0) {			/* RFC 7607 §2 */
		dec_error(d, SEV_DISCARD, BGP_ERR_UPD_OPTATTR);
		return;
	}
	d->out->aggregator_as = as;
	d->out->aggregator_id = id;
	d->out->flags |= BGP_ATTRF_AGGREGATOR;
}

/* Non-empty list of n-byte items: COMMUNITIES, CLUSTER_LIST, EXT. */
static bool
list_len_ok(struct attr_dec *d, size_t item)
{
	size_t len = rbuf_left(&d->val);

	return len > 0 && len % item == 0;
}

static void
dec_list(struct attr_dec *d, size_t item, struct bgp_blob **field, uint32_t bit)
{
	if (!list_len_ok(d, item)) {
		dec_error(d, SEV_WITHDRAW, BGP_ERR_UPD_LENGTH);
		return;
	}
	bgp_blob_unref(*field);
	*field = bgp_blob_intern(rbuf_ptr(&d->val), rbuf_left(&d->val));
	d->out->flags |= bit;
}

static void
dec_communities(struct attr_dec *d)
{
	/* RFC 7606 §7.8 */
	dec_list(d, 4, &d->out->communities, BGP_ATTRF_COMMUNITIES);
}

static void
dec_originator_id(struct attr_dec *d)
{
	uint32_t v;

	/* RFC 7606 §7.9: discard from eBGP; wrong length: withdraw. */
	if (d->ctx->ebgp)
		return;
	if (dec_u32(d, &v) == -1)
		return;
	bgp_attrs_set_originator_id(d->out, v);
}

static void
dec_cluster_list(struct attr_dec *d)
{
	/* RFC 7606 §7.10 */
	if (d->ctx->ebgp)
		return;
	dec_list(d, 4, &d->out->cluster_list, BGP_ATTRF_CLUSTER_LIST);
}

static void
dec_ext_communities(struct attr_dec *d)
{
	/* RFC 7606 §7.14 */
	dec_list(d, BGP_ECOMM_LEN, &d->out->ecomms, BGP_ATTRF_EXT_COMM);
}

static void
dec_pmsi(struct attr_dec *d)
{
	uint8_t flags, type;
	uint32_t label;

	/*
	 * RFC 6514 §5: flags, tunnel type, 3-byte label, tunnel id.  RFC
	 * 7606 predates a rule for it; its default (§2) is withdraw.
	 */
	if (rbuf_get_u8(&d->val, &flags) == -1 ||
	    rbuf_get_u8(&d->val, &type) == -1 ||
	    rbuf_get_u24(&d->val, &label) == -1) {
		dec_error(d, SEV_WITHDRAW, BGP_ERR_UPD_LENGTH);
		return;
	}
	bgp_attrs_set_pmsi(d->out, flags, type, label, rbuf_ptr(&d->val),
	    rbuf_left(&d->val));
}

/* ---- MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760) ---- */

/* Next hop lengths the family's row allows; unknown families are not
 * checked. */
static bool
mp_nexthop_len_ok(uint16_t afi, uint8_t safi, uint8_t len)
{
	const struct bgp_af *af = bgp_af_find(afi, safi);

	if (len > BGP_MP_NEXTHOP_MAX)
		return false;
	return af == NULL || bgp_af_nexthop_len_ok(af, len);
}

/* AFI and SAFI, which open both MP attributes; without them nothing
 * can be disabled: session reset (RFC 7606 §7.11). */
static int
dec_mp_family(struct attr_dec *d, struct bgp_mp *mp)
{
	memset(mp, 0, sizeof(*mp));
	if (rbuf_get_u16(&d->val, &mp->afi) == -1 ||
	    rbuf_get_u8(&d->val, &mp->safi) == -1) {
		dec_error(d, SEV_RESET, BGP_ERR_UPD_OPTATTR);
		return -1;
	}
	mp->present = true;
	return 0;
}

static void
dec_mp_reach(struct attr_dec *d)
{
	struct bgp_mp *mp = d->mpr;

	/*
	 * With AFI/SAFI, a next hop that does not fit the family or the
	 * attribute hides where the NLRI starts: RFC 7606 §7.11 says
	 * session reset or AFI/SAFI disable; we give the milder one and RFC
	 * 4760 §7's Optional Attribute Error for the caller that resets
	 * instead.
	 */
	if (dec_mp_family(d, mp) == -1)
		return;
	if (rbuf_get_u8(&d->val, &mp->nh_len) == -1 ||
	    !mp_nexthop_len_ok(mp->afi, mp->safi, mp->nh_len) ||
	    rbuf_get_bytes(&d->val, mp->nh, mp->nh_len) == -1 ||
	    rbuf_skip(&d->val, 1) == -1) {	/* Reserved, was SNPAs */
		mp->nh_len = 0;
		dec_error(d, SEV_DISABLE, BGP_ERR_UPD_OPTATTR);
		return;
	}
	rbuf_slice(&d->val, rbuf_left(&d->val), &mp->nlri);
	if (mp->nh_len > 0)
		bgp_attrs_set_mp_nexthop(d->out, mp->nh, mp->nh_len);
}

static void
dec_mp_unreach(struct attr_dec *d)
{
	struct bgp_mp *mp = d->mpu;

	if (dec_mp_family(d, mp) == -1)
		return;
	rbuf_slice(&d->val, rbuf_left(&d->val), &mp->nlri);
}

/* ---- AS4 (RFC 6793) ---- */

static void
dec_as4_path(struct attr_dec *d)
{
	struct rbuf copy = d->val;
	struct wbuf wb;
	bool confed;
	int rv;

	/* A NEW speaker ignores these from a NEW speaker (§4.2.3 intro). */
	if (d->ctx->as4)
		return;
	/* Malformed, AS 0 (RFC 7607) or confed segments (§3): discard. */
	wbuf_init(&wb, 0);
	rv = aspath_convert(&copy, 4, &wb, &confed);
	wbuf_free(&wb);
	if (rv == -1 || confed) {
		dec_error(d, SEV_DISCARD, BGP_ERR_UPD_OPTATTR);
		return;
	}
	d->has_as4_path = true;
	d->as4_path = d->val;
}

static void
dec_as4_aggregator(struct attr_dec *d)
{
	if (d->ctx->as4)
		return;
	if (!len_is(d, 8) || rbuf_get_u32(&d->val, &d->as4_aggr_as) == -1 ||
	    rbuf_get_u32(&d->val, &d->as4_aggr_id) == -1 ||
	    d->as4_aggr_as == 0) {
		dec_error(d, SEV_DISCARD, BGP_ERR_UPD_OPTATTR);
		return;
	}
	d->has_as4_aggr = true;
}

/* ---- the table ---- */

const struct attr_rule attr_rules[256] = {
	[BGP_ATTR_ORIGIN] = { "ORIGIN", WK, BGP_ATTRF_ORIGIN,
	    dec_origin, attr_enc_origin, attr_fmt_origin },
	[BGP_ATTR_AS_PATH] = { "AS_PATH", WK, BGP_ATTRF_AS_PATH,
	    dec_aspath, attr_enc_aspath, bgp_aspath_fmt },
	[BGP_ATTR_NEXT_HOP] = { "NEXT_HOP", WK, BGP_ATTRF_NEXT_HOP,
	    dec_nexthop, attr_enc_nexthop, attr_fmt_nexthop },
	[BGP_ATTR_MED] = { "MULTI_EXIT_DISC", OPT, BGP_ATTRF_MED,
	    dec_med, attr_enc_med, attr_fmt_med },
	[BGP_ATTR_LOCAL_PREF] = { "LOCAL_PREF", WK, BGP_ATTRF_LOCAL_PREF,
	    dec_local_pref, attr_enc_local_pref, attr_fmt_local_pref },
	[BGP_ATTR_ATOMIC_AGGREGATE] = { "ATOMIC_AGGREGATE", WK,
	    BGP_ATTRF_ATOMIC_AGGR,
	    dec_atomic_aggr, attr_enc_atomic_aggr, attr_fmt_present },
	[BGP_ATTR_AGGREGATOR] = { "AGGREGATOR", OPT | TRANS,
	    BGP_ATTRF_AGGREGATOR,
	    dec_aggregator, attr_enc_aggregator, attr_fmt_aggregator },
	[BGP_ATTR_COMMUNITIES] = { "COMMUNITIES", OPT | TRANS,
	    BGP_ATTRF_COMMUNITIES,
	    dec_communities, attr_enc_communities, bgp_communities_fmt },
	[BGP_ATTR_ORIGINATOR_ID] = { "ORIGINATOR_ID", OPT,
	    BGP_ATTRF_ORIGINATOR_ID,
	    dec_originator_id, attr_enc_originator_id, attr_fmt_originator_id },
	[BGP_ATTR_CLUSTER_LIST] = { "CLUSTER_LIST", OPT, BGP_ATTRF_CLUSTER_LIST,
	    dec_cluster_list, attr_enc_cluster_list, attr_fmt_cluster_list },
	[BGP_ATTR_MP_REACH_NLRI] = { "MP_REACH_NLRI", OPT, BGP_ATTRF_MP_NEXTHOP,
	    dec_mp_reach, NULL, attr_fmt_mp_nexthop },
	[BGP_ATTR_MP_UNREACH_NLRI] = { "MP_UNREACH_NLRI", OPT, 0,
	    dec_mp_unreach, NULL, NULL },
	[BGP_ATTR_EXT_COMMUNITIES] = { "EXTENDED_COMMUNITIES", OPT | TRANS,
	    BGP_ATTRF_EXT_COMM,
	    dec_ext_communities, attr_enc_ext_communities, bgp_ecomms_fmt },
	/* Written after AS_PATH/AGGREGATOR for a 2-octet speaker when an
	 * AS number does not fit (RFC 6793 §4.2.2). */
	[BGP_ATTR_AS4_PATH] = { "AS4_PATH", OPT | TRANS, BGP_ATTRF_AS_PATH,
	    dec_as4_path, attr_enc_as4_path, NULL },
	[BGP_ATTR_AS4_AGGREGATOR] = { "AS4_AGGREGATOR", OPT | TRANS,
	    BGP_ATTRF_AGGREGATOR,
	    dec_as4_aggregator, attr_enc_as4_aggregator, NULL },
	[BGP_ATTR_PMSI_TUNNEL] = { "PMSI_TUNNEL", OPT | TRANS, BGP_ATTRF_PMSI,
	    dec_pmsi, attr_enc_pmsi, attr_fmt_pmsi },
};

static bool
is_mp(uint8_t type)
{
	return type == BGP_ATTR_MP_REACH_NLRI ||
	    type == BGP_ATTR_MP_UNREACH_NLRI;
}

static void
dec_unknown(struct attr_dec *d)
{
	struct unknown_attr *u;

	/* RFC 4271 §6.3: an unrecognized well-known attribute. */
	if (!(d->flags & OPT)) {
		dec_error(d, SEV_RESET, BGP_ERR_UPD_UNKWN_WK);
		return;
	}
	/* RFC 4271 §5: optional non-transitive ones are quietly ignored;
	 * transitive ones are passed on with Partial set.  Storing the
	 * flags that way makes sets that differ only in that bit one set. */
	if (!(d->flags & TRANS))
		return;
	u = &d->unknown[d->n_unknown++];
	u->flags = OPT | TRANS | BGP_ATTR_FLAG_PARTIAL;
	u->type = d->type;
	u->len = (uint16_t)rbuf_left(&d->val);
	u->value = rbuf_ptr(&d->val);
}

static void
dec_one(struct attr_dec *d)
{
	const struct attr_rule *r = &attr_rules[d->type];
	uint8_t bit = (uint8_t)(1u << (d->type & 7));

	/* RFC 7606 §3(g): repeated MP attributes reset the session; any
	 * other repeat is discarded, the first one stands. */
	if (d->seen[d->type >> 3] & bit) {
		if (is_mp(d->type))
			dec_error_data(d, SEV_RESET, BGP_ERR_UPD_ATTRLIST,
			    NULL, 0);
		else
			dec_error(d, SEV_DISCARD, BGP_ERR_UPD_ATTRLIST);
		return;
	}
	d->seen[d->type >> 3] |= bit;
	if (r->decode == NULL) {
		dec_unknown(d);
		return;
	}
	/* RFC 7606 §3(c): Optional/Transitive bits in conflict with the
	 * type: malformed, withdraw.  MP attributes are still read, since
	 * withdrawing needs their NLRI. */
	if ((d->flags & (OPT | TRANS)) != r->flags) {
		dec_error(d, SEV_WITHDRAW, BGP_ERR_UPD_FLAGS);
		if (!is_mp(d->type))
			return;
	}
	r->decode(d);
}

/*
 * Read one attribute header and slice its value.  -1 when the header or
 * the value runs past the attribute list (RFC 7606 §4).
 */
static int
dec_header(struct attr_dec *d, struct rbuf *attrs)
{
	size_t start = attrs->pos;
	uint16_t len;
	uint8_t len8;

	if (rbuf_get_u8(attrs, &d->flags) == -1 ||
	    rbuf_get_u8(attrs, &d->type) == -1)
		return -1;
	if (d->flags & BGP_ATTR_FLAG_EXTLEN) {
		if (rbuf_get_u16(attrs, &len) == -1)
			return -1;
	} else {
		if (rbuf_get_u8(attrs, &len8) == -1)
			return -1;
		len = len8;
	}
	if (rbuf_slice(attrs, len, &d->val) == -1)
		return -1;
	d->raw = attrs->data + start;
	d->rawlen = attrs->pos - start;
	return 0;
}

/*
 * RFC 7606 §4: the last attribute overruns the list.  Withdrawing is
 * right when the NLRI can still be found (classic NLRI, located by the
 * Total Path Attribute Length, or MP attributes already read, RFC 7606
 * §5.1 asks senders to put them first); otherwise the MP_REACH could be
 * in the garbage and only a reset is safe (RFC 7606 §5.3 last para.).
 */
static void
dec_overrun(struct attr_dec *d, struct rbuf *attrs)
{
	enum severity sev = SEV_RESET;

	if (d->ctx->nlri_present || d->mpr->present || d->mpu->present)
		sev = SEV_WITHDRAW;
	dec_error_data(d, sev, BGP_ERR_UPD_ATTRLIST, NULL, 0);
	rbuf_skip(attrs, rbuf_left(attrs));
}

/* ---- whole-set checks ---- */

static int
unknown_cmp(const void *a, const void *b)
{
	const struct unknown_attr *ua = a, *ub = b;

	return (int)ua->type - (int)ub->type;
}

static void
dec_finish_unknown(struct attr_dec *d)
{
	struct wbuf wb;

	if (d->n_unknown == 0)
		return;
	qsort(d->unknown, d->n_unknown, sizeof(d->unknown[0]), unknown_cmp);
	wbuf_init(&wb, 0);
	for (size_t i = 0; i < d->n_unknown; i++) {
		wbuf_put_u8(&wb, d->unknown[i].flags);
		wbuf_put_u8(&wb, d->unknown[i].type);
		wbuf_put_u16(&wb, d->unknown[i].len);
		wbuf_put_bytes(&wb, d->unknown[i].value, d->unknown[i].len);
	}
	if (wb.error)
		fatalx("bgp_attrs_decode: out of memory");
	bgp_blob_unref(d->out->unknown);
	d->out->unknown = bgp_blob_intern(wb.data, wb.len);
	d->out->flags |= BGP_ATTRF_UNKNOWN;
	wbuf_free(&wb);
}

/*
 * The first n ASes of a 4-octet path (AS_SET counting one, confed
 * segments none, as RFC 6793 §4.2.3 counts), written to wb.  Returns the
 * offset of the last segment written if it is an AS_SEQUENCE, so the
 * caller can extend it, else SIZE_MAX.
 */
static size_t
aspath_put_leading(const struct bgp_blob *path, size_t n, struct wbuf *wb)
{
	struct rbuf rb;
	uint8_t type, cnt;
	size_t last = SIZE_MAX;

	rbuf_init(&rb, path->data, path->len);
	while (n > 0 && rbuf_get_u8(&rb, &type) == 0 &&
	    rbuf_get_u8(&rb, &cnt) == 0) {
		size_t take = cnt;

		if (type == BGP_AS_SEQUENCE) {
			if (take > n)
				take = n;
			n -= take;
		} else if (type == BGP_AS_SET)
			n--;
		last = type == BGP_AS_SEQUENCE ? wb->len : SIZE_MAX;
		wbuf_put_u8(wb, type);
		wbuf_put_u8(wb, (uint8_t)take);
		wbuf_put_bytes(wb, rbuf_ptr(&rb), take * 4);
		rbuf_skip(&rb, (size_t)cnt * 4);
	}
	return last;
}

/* leading + as4, joining a trailing and a leading AS_SEQUENCE so the
 * merged path has the shape the 4-octet speaker sent. */
static void
aspath_join(const struct bgp_blob *path, size_t n, const struct bgp_blob *as4,
    struct wbuf *wb)
{
	size_t last = aspath_put_leading(path, n, wb);

	if (last != SIZE_MAX && !wb->error && as4->len >= 2 &&
	    as4->data[0] == BGP_AS_SEQUENCE &&
	    (size_t)wb->data[last + 1] + as4->data[1] <= 255) {
		wbuf_set_u8(wb, last + 1, wb->data[last + 1] + as4->data[1]);
		wbuf_put_bytes(wb, as4->data + 2, as4->len - 2);
	} else
		wbuf_put_bytes(wb, as4->data, as4->len);
}

static size_t
aspath_count(const struct bgp_blob *path)
{
	struct bgp_attrs tmp;

	memset(&tmp, 0, sizeof(tmp));
	tmp.aspath = (struct bgp_blob *)path;
	return bgp_aspath_length(&tmp);
}

/* RFC 6793 §4.2.3: rebuild the 4-octet path from a 2-octet speaker's. */
static void
dec_merge_as4(struct attr_dec *d)
{
	struct bgp_attrs *a = d->out;
	struct bgp_blob *as4, *merged;
	size_t n2, n4;
	struct wbuf wb;

	if ((a->flags & BGP_ATTRF_AGGREGATOR) &&
	    a->aggregator_as != BGP_AS_TRANS)
		return;		/* AS4_AGGREGATOR and AS4_PATH ignored */
	if (d->has_as4_aggr && (a->flags & BGP_ATTRF_AGGREGATOR)) {
		a->aggregator_as = d->as4_aggr_as;
		a->aggregator_id = d->as4_aggr_id;
	}
	if (!d->has_as4_path || !(a->flags & BGP_ATTRF_AS_PATH))
		return;
	as4 = bgp_blob_intern(rbuf_ptr(&d->as4_path),
	    rbuf_left(&d->as4_path));
	n2 = aspath_count(a->aspath);
	n4 = aspath_count(as4);
	if (n2 >= n4) {
		wbuf_init(&wb, 0);
		aspath_join(a->aspath, n2 - n4, as4, &wb);
		if (wb.error)
			fatalx("bgp_attrs_decode: out of memory");
		merged = bgp_blob_intern(wb.data, wb.len);
		wbuf_free(&wb);
		bgp_blob_unref(a->aspath);
		a->aspath = merged;
	}
	bgp_blob_unref(as4);
}

static void
dec_check_mandatory(struct attr_dec *d)
{
	static const struct {
		uint8_t		 type;
		uint32_t	 bit;
	} wk[] = {
		{ BGP_ATTR_ORIGIN, BGP_ATTRF_ORIGIN },
		{ BGP_ATTR_AS_PATH, BGP_ATTRF_AS_PATH },
		{ BGP_ATTR_NEXT_HOP, BGP_ATTRF_NEXT_HOP },
	};
	bool mp_nlri = d->mpr->present && rbuf_left(&d->mpr->nlri) > 0;

	/* RFC 7606 §3(d); NEXT_HOP only with classic NLRI (RFC 4760 §3). */
	if (!d->ctx->nlri_present && !mp_nlri)
		return;
	for (size_t i = 0; i < nitems(wk); i++) {
		if (wk[i].type == BGP_ATTR_NEXT_HOP && !d->ctx->nlri_present)
			continue;
		if (d->out->flags & wk[i].bit)
			continue;
		if (d->seen[wk[i].type >> 3] & (1u << (wk[i].type & 7)))
			continue;	/* present but malformed: reported */
		dec_error_data(d, SEV_WITHDRAW, BGP_ERR_UPD_MISSING_WK,
		    &wk[i].type, 1);
	}
}

static void
dec_check_first_as(struct attr_dec *d)
{
	const struct bgp_attr_ctx *ctx = d->ctx;

	/* RFC 4271 §6.3 (a MAY): an eBGP peer's AS leads the path. */
	if (!ctx->ebgp || !ctx->enforce_first_as ||
	    !(d->out->flags & BGP_ATTRF_AS_PATH))
		return;
	if (bgp_aspath_first_as(d->out) != ctx->peer_as)
		dec_error_data(d, SEV_WITHDRAW, BGP_ERR_UPD_ASPATH, NULL, 0);
}

static enum bgp_attr_action
severity_action(enum severity sev)
{
	switch (sev) {
	case SEV_NONE:
	case SEV_DISCARD:
		return BGP_ATTR_OK;
	case SEV_WITHDRAW:
		return BGP_ATTR_TREAT_AS_WITHDRAW;
	case SEV_DISABLE:
		return BGP_ATTR_AFISAFI_DISABLE;
	case SEV_RESET:
		break;
	}
	return BGP_ATTR_SESSION_RESET;
}

enum bgp_attr_action
bgp_attrs_decode(struct rbuf *attrs, const struct bgp_attr_ctx *ctx,
    struct bgp_attrs *out, struct bgp_mp *mp_reach, struct bgp_mp *mp_unreach,
    struct bgp_notify *err)
{
	struct attr_dec *d = xcalloc(1, sizeof(*d));
	enum bgp_attr_action action;

	d->ctx = ctx;
	d->out = out;
	d->mpr = mp_reach;
	d->mpu = mp_unreach;
	d->err = err;
	memset(mp_reach, 0, sizeof(*mp_reach));
	memset(mp_unreach, 0, sizeof(*mp_unreach));
	memset(err, 0, sizeof(*err));

	while (rbuf_left(attrs) > 0) {
		if (dec_header(d, attrs) == -1) {
			dec_overrun(d, attrs);
			break;
		}
		dec_one(d);
	}
	dec_finish_unknown(d);
	if (!ctx->as4)
		dec_merge_as4(d);
	dec_check_mandatory(d);
	dec_check_first_as(d);
	action = severity_action(d->worst);
	free(d);
	return action;
}
