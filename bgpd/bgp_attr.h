/*
 * BGP path attributes (RFC 4271 §4.3, §5): the parsed attribute set of
 * one UPDATE, its wire codec with RFC 7606 error handling, and interning.
 *
 * How this works
 *
 * A struct bgp_attrs holds one canonical attribute set: fixed-size
 * attributes as plain fields, variable-size ones (AS_PATH, COMMUNITIES,
 * EXTENDED_COMMUNITIES, CLUSTER_LIST, the PMSI tunnel identifier and the
 * unknown transitive attributes) as pointers to interned byte strings
 * (struct bgp_blob).  A presence bitmask (BGP_ATTRF_*) says which are set;
 * absent fields are zero.
 *
 * Interning happens at two levels.  Blobs are shared by content in one
 * table, so two sets that differ only in MED share their AS path and
 * communities.  bgp_attrs_intern() then stores a whole set once, keyed by
 * its fields and blob pointers, and returns a reference-counted,
 * immutable copy; a route holds only that pointer.  Both tables are
 * process-wide and single-threaded (like the RDE's attribute tables in
 * OpenBGPD).
 *
 * A set that is being built (by the decoder, or locally for an originated
 * route) is a "scratch" set: a caller-owned struct bgp_attrs whose blob
 * references it owns.  bgp_attrs_clear() releases them.  The usual life:
 *
 *	struct bgp_attrs a;
 *	bgp_attrs_init(&a);
 *	action = bgp_attrs_decode(&rb, &ctx, &a, &mpr, &mpu, &err);
 *	if (action == BGP_ATTR_OK)
 *		route->attrs = bgp_attrs_intern(&a);	(a new reference)
 *	bgp_attrs_clear(&a);
 *	...
 *	bgp_attrs_unref(route->attrs);
 *
 * Decoding follows RFC 4271 §6.3 as revised by RFC 7606: each error maps
 * to the approach the RFC prescribes for that attribute, and when several
 * errors occur the most severe approach wins (§3(f)).  Attribute discard
 * is not reported as an action: the attribute is dropped and decoding
 * returns BGP_ATTR_OK, but err->code is set so the caller can log it.
 * MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760) are returned as windows on
 * the message; the address-family code parses their NLRI.
 *
 * bgpd knows nothing of EVPN: extended communities are exposed by
 * type/subtype only; the EVPN code gives them meaning.
 */
#ifndef BGPD_BGP_ATTR_H
#define BGPD_BGP_ATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgpd/bgp_msg.h"
#include "common/addr.h"
#include "common/buf.h"
#include "common/hash.h"

/* Attribute flags (RFC 4271 §4.3). */
#define BGP_ATTR_FLAG_OPTIONAL	0x80
#define BGP_ATTR_FLAG_TRANSITIVE 0x40
#define BGP_ATTR_FLAG_PARTIAL	0x20
#define BGP_ATTR_FLAG_EXTLEN	0x10

/* Attribute type codes (IANA). */
enum bgp_attr_type {
	BGP_ATTR_ORIGIN = 1,
	BGP_ATTR_AS_PATH = 2,
	BGP_ATTR_NEXT_HOP = 3,
	BGP_ATTR_MED = 4,
	BGP_ATTR_LOCAL_PREF = 5,
	BGP_ATTR_ATOMIC_AGGREGATE = 6,
	BGP_ATTR_AGGREGATOR = 7,
	BGP_ATTR_COMMUNITIES = 8,		/* RFC 1997 */
	BGP_ATTR_ORIGINATOR_ID = 9,		/* RFC 4456 */
	BGP_ATTR_CLUSTER_LIST = 10,		/* RFC 4456 */
	BGP_ATTR_MP_REACH_NLRI = 14,		/* RFC 4760 */
	BGP_ATTR_MP_UNREACH_NLRI = 15,		/* RFC 4760 */
	BGP_ATTR_EXT_COMMUNITIES = 16,		/* RFC 4360 */
	BGP_ATTR_AS4_PATH = 17,			/* RFC 6793 */
	BGP_ATTR_AS4_AGGREGATOR = 18,		/* RFC 6793 */
	BGP_ATTR_PMSI_TUNNEL = 22,		/* RFC 6514 §5 */
};

/* Presence bits in struct bgp_attrs.flags. */
#define BGP_ATTRF_ORIGIN	0x0001
#define BGP_ATTRF_AS_PATH	0x0002
#define BGP_ATTRF_NEXT_HOP	0x0004
#define BGP_ATTRF_MED		0x0008
#define BGP_ATTRF_LOCAL_PREF	0x0010
#define BGP_ATTRF_ATOMIC_AGGR	0x0020
#define BGP_ATTRF_AGGREGATOR	0x0040
#define BGP_ATTRF_COMMUNITIES	0x0080
#define BGP_ATTRF_ORIGINATOR_ID	0x0100
#define BGP_ATTRF_CLUSTER_LIST	0x0200
#define BGP_ATTRF_EXT_COMM	0x0400
#define BGP_ATTRF_PMSI		0x0800
#define BGP_ATTRF_MP_NEXTHOP	0x1000
#define BGP_ATTRF_UNKNOWN	0x2000

#define BGP_ORIGIN_IGP		0
#define BGP_ORIGIN_EGP		1
#define BGP_ORIGIN_INCOMPLETE	2

/* AS_PATH segment types (RFC 4271 §4.3, RFC 5065 §3). */
#define BGP_AS_SET		1
#define BGP_AS_SEQUENCE		2
#define BGP_AS_CONFED_SEQUENCE	3
#define BGP_AS_CONFED_SET	4

#define BGP_MP_NEXTHOP_MAX	32	/* IPv6 global + link-local */

/*
 * An interned, immutable byte string.  Read data/len only; the
 * rest belongs to the intern table.
 */
struct bgp_blob {
	struct hash_node node;
	uint32_t	 hash;
	uint32_t	 refcnt;
	uint32_t	 len;
	uint8_t		 data[];
};

/*
 * One attribute set.  Blob layouts (all big-endian, as on the wire):
 *   aspath	segments of (type, count, count x 4-octet AS), RFC 6793 form
 *   communities	4-byte values in received order
 *   ecomms	8-byte extended communities in received order
 *   cluster_list	4-byte cluster ids, nearest first
 *   pmsi_id	the PMSI tunnel identifier (e.g. 4 or 16 address bytes)
 *   unknown	records (flags, type, length u16, value), sorted by type;
 *		only optional transitive attributes are kept (RFC 4271 §5),
 *		flags always Optional|Transitive|Partial
 */
struct bgp_attrs {
	uint32_t	 flags;			/* BGP_ATTRF_* present */
	uint8_t		 origin;
	uint8_t		 mp_nexthop_len;	/* 4, 16 or 32 */
	uint8_t		 pmsi_flags;
	uint8_t		 pmsi_type;		/* tunnel type, 6 = ingress repl. */
	uint32_t	 pmsi_label;		/* the 3 label bytes as a number */
	uint32_t	 nexthop;		/* NEXT_HOP, host order */
	uint32_t	 med;
	uint32_t	 local_pref;
	uint32_t	 aggregator_as;
	uint32_t	 aggregator_id;		/* host order */
	uint32_t	 originator_id;		/* host order */
	uint8_t		 mp_nexthop[BGP_MP_NEXTHOP_MAX];
	struct bgp_blob	*aspath;
	struct bgp_blob	*communities;
	struct bgp_blob	*ecomms;
	struct bgp_blob	*cluster_list;
	struct bgp_blob	*pmsi_id;
	struct bgp_blob	*unknown;
	/* Interned sets only (zero in scratch sets). */
	struct hash_node intern_node;
	uint32_t	 intern_hash;
	uint32_t	 refcnt;
};

/* Blob interning: each call returns a new reference. */
struct bgp_blob *bgp_blob_intern(const void *, size_t);
struct bgp_blob *bgp_blob_ref(struct bgp_blob *);
void	 bgp_blob_unref(struct bgp_blob *);		/* NULL is fine */

/* Scratch sets. */
void	 bgp_attrs_init(struct bgp_attrs *);
/* Release the blob references of a scratch set and zero it. */
void	 bgp_attrs_clear(struct bgp_attrs *);
/* dst (uninitialised) becomes a scratch copy of src (either kind). */
void	 bgp_attrs_copy(struct bgp_attrs *dst, const struct bgp_attrs *src);
bool	 bgp_attrs_equal(const struct bgp_attrs *, const struct bgp_attrs *);

/* Interning. */
const struct bgp_attrs *bgp_attrs_intern(const struct bgp_attrs *);
const struct bgp_attrs *bgp_attrs_ref(const struct bgp_attrs *);
void	 bgp_attrs_unref(const struct bgp_attrs *);	/* NULL is fine */
size_t	 bgp_attrs_intern_count(void);	/* distinct sets */
size_t	 bgp_blob_intern_count(void);	/* distinct blobs */
size_t	 bgp_attrs_intern_bytes(void);	/* memory held by both tables */

/* Setters for scratch sets (they replace what was there). */
void	 bgp_attrs_set_origin(struct bgp_attrs *, uint8_t);
void	 bgp_attrs_set_nexthop(struct bgp_attrs *, uint32_t host_order);
void	 bgp_attrs_set_mp_nexthop(struct bgp_attrs *, const uint8_t *,
	    uint8_t len);
/* Next hop as an address (global part of a 32-byte one); af 0 = none. */
void	 bgp_attrs_get_mp_nexthop(const struct bgp_attrs *, struct ipaddr *);
void	 bgp_attrs_set_med(struct bgp_attrs *, uint32_t);
void	 bgp_attrs_set_local_pref(struct bgp_attrs *, uint32_t);
void	 bgp_attrs_set_originator_id(struct bgp_attrs *, uint32_t);
/* A single AS_SEQUENCE (n may be 0: empty path, as iBGP originates). */
void	 bgp_attrs_set_aspath_seq(struct bgp_attrs *, const uint32_t *, size_t);
void	 bgp_attrs_set_communities(struct bgp_attrs *, const uint32_t *,
	    size_t);
void	 bgp_attrs_set_ecomms(struct bgp_attrs *, const uint8_t *, size_t n);
void	 bgp_attrs_set_pmsi(struct bgp_attrs *, uint8_t flags, uint8_t type,
	    uint32_t label, const uint8_t *id, size_t idlen);
/* Drop an attribute (BGP_ATTRF_* bit) and its blob. */
void	 bgp_attrs_unset(struct bgp_attrs *, uint32_t attrf);
/* Keep the unknown attributes of a scratch set, in type order, while
 * their records (4 bytes of header each, and the value) fit in max
 * bytes; returns how many were dropped. */
size_t	 bgp_attrs_unknown_trim(struct bgp_attrs *, size_t max);

/* AS path (RFC 4271 §9.1.2.2: AS_SET counts 1, confed segments 0). */
size_t	 bgp_aspath_length(const struct bgp_attrs *);
bool	 bgp_aspath_contains(const struct bgp_attrs *, uint32_t as);
/* Leftmost AS of the first AS_SEQUENCE; 0 if none. */
uint32_t bgp_aspath_first_as(const struct bgp_attrs *);
/* Prepend as to a scratch set (eBGP advertisement, RFC 4271 §5.1.2). */
void	 bgp_aspath_prepend(struct bgp_attrs *, uint32_t as);
bool	 bgp_cluster_list_contains(const struct bgp_attrs *, uint32_t id);
/* Route reflection (RFC 4456 §8): prepend our cluster id. */
void	 bgp_cluster_list_prepend(struct bgp_attrs *, uint32_t id);
bool	 bgp_communities_contains(const struct bgp_attrs *, uint32_t);

/*
 * Extended communities (RFC 4360).  Types 0x00/0x01/0x02 are the
 * two-octet-AS, IPv4 and four-octet-AS forms; subtype 0x02 of each is the
 * route target, 0x03 the route origin.
 */
#define BGP_ECOMM_LEN		8
#define BGP_ECOMM_T_AS2		0x00
#define BGP_ECOMM_T_IPV4	0x01
#define BGP_ECOMM_T_AS4		0x02
#define BGP_ECOMM_T_OPAQUE	0x03	/* transitive opaque, RFC 4360 §3.3 */
#define BGP_ECOMM_T_EVPN	0x06	/* RFC 7432 §7; meaning lives in evpn/ */
#define BGP_ECOMM_ST_RT		0x02
#define BGP_ECOMM_ST_SOO	0x03
#define BGP_ECOMM_ST_ENCAP	0x0c	/* RFC 9012 §4.1 */
#define BGP_TUNNEL_VXLAN	8	/* RFC 9012 tunnel type */

size_t	 bgp_ecomm_count(const struct bgp_attrs *);
const uint8_t *bgp_ecomm_at(const struct bgp_attrs *, size_t i);
/* First community with this type and subtype at index >= *iter; copies it
 * to out (may be NULL), sets *iter past it, returns 0 or -1 when none. */
int	 bgp_ecomm_find(const struct bgp_attrs *, uint8_t type, uint8_t subtype,
	    size_t *iter, uint8_t out[BGP_ECOMM_LEN]);
/* Append to a scratch set unless an identical one is present. */
void	 bgp_ecomm_add(struct bgp_attrs *, const uint8_t ec[BGP_ECOMM_LEN]);
/* Remove every community of this type/subtype from a scratch set. */
void	 bgp_ecomm_del_type(struct bgp_attrs *, uint8_t type, uint8_t subtype);
/* Route targets (types 0x00-0x02, subtype 0x02) in order; as find. */
int	 bgp_rt_next(const struct bgp_attrs *, size_t *iter, struct rt *);
/* Encapsulation community with the given tunnel type (RFC 9012 §4.1). */
void	 bgp_ecomm_make_encap(uint8_t ec[BGP_ECOMM_LEN], uint16_t tunnel_type);
/* "RT:65000:100", "SoO:10.0.0.1:5", "ET:8", else "0x0600:000000000001". */
#define BGP_ECOMM_STRLEN	40
const char *bgp_ecomm_fmt(const uint8_t ec[BGP_ECOMM_LEN], char *, size_t);

/* CLI formatting; all NUL-terminate and truncate. */
const char *bgp_origin_name(uint8_t);		/* "IGP" "EGP" "incomplete" */
/* "65001 65002 {65003,65004}", confed segments as "(1 2)" and "[1,2]". */
const char *bgp_aspath_fmt(const struct bgp_attrs *, char *, size_t);
/* "65000:1 no-export" */
const char *bgp_communities_fmt(const struct bgp_attrs *, char *, size_t);
/* space-separated bgp_ecomm_fmt() forms */
const char *bgp_ecomms_fmt(const struct bgp_attrs *, char *, size_t);
/* The RFC name of a known attribute type ("AS_PATH"); NULL if unknown. */
const char *bgp_attr_name(uint8_t type);
/* One attribute of the set as text, by its row's formatter: "IGP",
 * "65001 65002", "10.0.0.1" ...; NULL when the set does not hold it or
 * it has no text of its own (AS4_PATH, AS4_AGGREGATOR, MP_UNREACH). */
const char *bgp_attr_fmt(const struct bgp_attrs *, uint8_t type, char *,
	    size_t);

/*
 * Decoding (RFC 4271 §5, §6.3; RFC 7606; RFC 4760; RFC 6793 §4.2.3).
 */
enum bgp_attr_action {		/* in increasing severity, RFC 7606 §2 */
	BGP_ATTR_OK,
	BGP_ATTR_TREAT_AS_WITHDRAW,
	BGP_ATTR_AFISAFI_DISABLE,
	BGP_ATTR_SESSION_RESET,
};

struct bgp_attr_ctx {
	bool		 ebgp;
	bool		 as4;			/* AS4 capability negotiated */
	bool		 nlri_present;		/* classic NLRI field non-empty */
	bool		 enforce_first_as;	/* RFC 4271 §6.3 MAY: eBGP only */
	uint32_t	 local_as;
	uint32_t	 peer_as;
	uint32_t	 router_id;		/* host order; for loop checks */
	uint32_t	 cluster_id;		/* host order; for loop checks */
};

/* MP_REACH_NLRI / MP_UNREACH_NLRI contents (RFC 4760 §3, §4). */
struct bgp_mp {
	bool		 present;
	uint16_t	 afi;
	uint8_t		 safi;
	uint8_t		 nh_len;		/* MP_REACH only */
	uint8_t		 nh[BGP_MP_NEXTHOP_MAX];
	struct rbuf	 nlri;			/* window on the message */
};

/*
 * Decode the path attributes window of an UPDATE into out (a scratch
 * set, initialised).  mp_reach/mp_unreach get the MP attributes (present
 * false when absent).  Returns the action to take; err is filled with the
 * NOTIFICATION for the most severe error seen (code 0 if none), also when
 * the action is OK but an attribute was discarded.  out must be cleared
 * with bgp_attrs_clear() whatever the result; it is meaningful only on OK.
 * On AFISAFI_DISABLE, mp_reach->afi/safi (or mp_unreach's) name the family.
 */
enum bgp_attr_action bgp_attrs_decode(struct rbuf *attrs,
	    const struct bgp_attr_ctx *, struct bgp_attrs *out,
	    struct bgp_mp *mp_reach, struct bgp_mp *mp_unreach,
	    struct bgp_notify *err);
const char *bgp_attr_action_name(enum bgp_attr_action);

/* Has the route looped back: our AS in the path (eBGP), our router id as
 * ORIGINATOR_ID or our cluster id in CLUSTER_LIST (RFC 4456 §8)? */
bool	 bgp_attrs_looped(const struct bgp_attrs *, const struct bgp_attr_ctx *);

/*
 * Encoding.  Attributes are written in type-code order (the order of
 * the attribute table's rows, bgp_attr_int.h) with their proper flags,
 * the extended-length flag when a value passes 255 bytes and the Partial
 * flag on unknown transitive attributes passed on.  When the peer
 * lacks AS4, AS_PATH/AGGREGATOR go out in 2-octet form with AS_TRANS and
 * AS4_PATH/AS4_AGGREGATOR carry the real numbers (RFC 6793 §4.2.2).
 * The encoder writes what the set holds; eBGP policy (prepend, stripping
 * LOCAL_PREF) is the caller's, on a scratch copy.
 */
struct bgp_attr_enc_ctx {
	bool		 as4;
	/* Written first (RFC 7606 §5.1), next hop from the set's mp_nexthop. */
	const struct bgp_mp *mp_reach;		/* NULL = none */
	const struct bgp_mp *mp_unreach;	/* NULL = none */
};
void	 bgp_attrs_encode(struct wbuf *, const struct bgp_attrs *,
	    const struct bgp_attr_enc_ctx *);
void	 bgp_mp_reach_encode(struct wbuf *, uint16_t afi, uint8_t safi,
	    const uint8_t *nexthop, uint8_t nh_len, const uint8_t *nlri,
	    size_t len);
void	 bgp_mp_unreach_encode(struct wbuf *, uint16_t afi, uint8_t safi,
	    const uint8_t *nlri, size_t len);
/* One attribute header + value, extended length when len > 255. */
void	 bgp_attr_put(struct wbuf *, uint8_t flags, uint8_t type,
	    const void *value, size_t len);

#endif
