/*
 * Inside the attribute codec: the table of known path attributes.
 *
 * One row per type code (as BIRD's bgp_attr_table): the Optional and
 * Transitive flags the type carries, the BGP_ATTRF_* bit under which a
 * set holds it, and how to decode, encode and format it.  The decoder
 * (bgp_attr_decode.c, which holds the table) checks flags and runs
 * decode; the encoder (bgp_attr_encode.c) walks the rows in index order,
 * which is type-code order, and writes each one the set holds; the
 * formatting (bgp_attr.c) gives the text of one.  Adding an attribute is
 * adding a row.
 */
#ifndef BGPD_BGP_ATTR_INT_H
#define BGPD_BGP_ATTR_INT_H

#include "bgpd/bgp_attr.h"

struct attr_dec;		/* one decoding pass, bgp_attr_decode.c */

struct attr_rule {
	const char	*name;		/* as RFC 4271 §5 names it */
	uint8_t		 flags;		/* expected Optional|Transitive */
	uint32_t	 attrf;		/* BGP_ATTRF_* of a set holding it */
	/* NULL: not a known type (passed on or ignored, RFC 4271 §5). */
	void		(*decode)(struct attr_dec *);
	/* NULL: never written from the set (the MP attributes come from
	 * the encoding context, ahead of the rest: RFC 7606 §5.1). */
	void		(*encode)(struct wbuf *, const struct bgp_attrs *,
			    const struct bgp_attr_enc_ctx *);
	/* NULL: no text of its own (AS4_PATH and AS4_AGGREGATOR are
	 * merged into AS_PATH and AGGREGATOR as they are read). */
	const char	*(*format)(const struct bgp_attrs *, char *, size_t);
};

extern const struct attr_rule attr_rules[256];

/* bgp_attr_encode.c */
void	 attr_enc_origin(struct wbuf *, const struct bgp_attrs *,
	    const struct bgp_attr_enc_ctx *);
void	 attr_enc_aspath(struct wbuf *, const struct bgp_attrs *,
	    const struct bgp_attr_enc_ctx *);
void	 attr_enc_nexthop(struct wbuf *, const struct bgp_attrs *,
	    const struct bgp_attr_enc_ctx *);
void	 attr_enc_med(struct wbuf *, const struct bgp_attrs *,
	    const struct bgp_attr_enc_ctx *);
void	 attr_enc_local_pref(struct wbuf *, const struct bgp_attrs *,
	    const struct bgp_attr_enc_ctx *);
void	 attr_enc_atomic_aggr(struct wbuf *, const struct bgp_attrs *,
	    const struct bgp_attr_enc_ctx *);
void	 attr_enc_aggregator(struct wbuf *, const struct bgp_attrs *,
	    const struct bgp_attr_enc_ctx *);
void	 attr_enc_communities(struct wbuf *, const struct bgp_attrs *,
	    const struct bgp_attr_enc_ctx *);
void	 attr_enc_originator_id(struct wbuf *, const struct bgp_attrs *,
	    const struct bgp_attr_enc_ctx *);
void	 attr_enc_cluster_list(struct wbuf *, const struct bgp_attrs *,
	    const struct bgp_attr_enc_ctx *);
void	 attr_enc_ext_communities(struct wbuf *, const struct bgp_attrs *,
	    const struct bgp_attr_enc_ctx *);
void	 attr_enc_as4_path(struct wbuf *, const struct bgp_attrs *,
	    const struct bgp_attr_enc_ctx *);
void	 attr_enc_as4_aggregator(struct wbuf *, const struct bgp_attrs *,
	    const struct bgp_attr_enc_ctx *);
void	 attr_enc_pmsi(struct wbuf *, const struct bgp_attrs *,
	    const struct bgp_attr_enc_ctx *);

/* bgp_attr.c; AS_PATH and the community lists use the public
 * bgp_aspath_fmt, bgp_communities_fmt and bgp_ecomms_fmt. */
const char *attr_fmt_origin(const struct bgp_attrs *, char *, size_t);
const char *attr_fmt_nexthop(const struct bgp_attrs *, char *, size_t);
const char *attr_fmt_med(const struct bgp_attrs *, char *, size_t);
const char *attr_fmt_local_pref(const struct bgp_attrs *, char *, size_t);
const char *attr_fmt_present(const struct bgp_attrs *, char *, size_t);
const char *attr_fmt_aggregator(const struct bgp_attrs *, char *, size_t);
const char *attr_fmt_originator_id(const struct bgp_attrs *, char *,
	    size_t);
const char *attr_fmt_cluster_list(const struct bgp_attrs *, char *, size_t);
const char *attr_fmt_mp_nexthop(const struct bgp_attrs *, char *, size_t);
const char *attr_fmt_pmsi(const struct bgp_attrs *, char *, size_t);

#endif
