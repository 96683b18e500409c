/*
 * The address-family table: one row per AFI/SAFI bgpd speaks.
 *
 * How this works: everything that differs between families lives in a
 * struct bgp_af row (as in BIRD's bgp_af_desc): the AFI/SAFI pair and the
 * compact index ("aid") that per-family arrays use, the family's name,
 * the config bit that activates it per neighbor, the next-hop lengths
 * its MP_REACH_NLRI may carry and, for a family the RIB carries, its
 * NLRI codec: decode one NLRI from the MP_REACH/MP_UNREACH window into a
 * fixed-size canonical key plus the per-path labels, encode it back,
 * format the key, and optionally a family-specific preference applied
 * before the standard decision process.  Capabilities, OPEN negotiation,
 * the MP_REACH_NLRI checks, End-of-RIB and the RIB all look families up
 * here; adding a family is adding a row.
 *
 * bgpd knows no EVPN.  Its own rows are IPv4 and IPv6 unicast (without
 * an NLRI codec: the RIB does not carry them).  Any other family is a
 * row registered from outside with bgp_af_register(), or through
 * bgp_rib_af_register() (evpn/ registers l2vpn evpn that way), in one
 * of the aids from BGP_AID_REGISTERED on.  Like the attribute intern
 * tables the table is process-wide: rows are constant, registered at
 * start-up and never removed.  A peer's OPEN is built when it is sent,
 * so a row registered after bgp_create() is still offered.
 *
 * Keys are canonical byte strings of key_len bytes (unused bytes zero),
 * so the RIB hashes and compares them with plain memory operations.
 */
#ifndef BGPD_BGP_AF_H
#define BGPD_BGP_AF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* AFI/SAFI numbers of bgpd's own families (IANA; RFC 4760). */
#define AFI_IPV4	1
#define AFI_IPV6	2
#define SAFI_UNICAST	1

enum bgp_aid {			/* compact index for per-family state */
	BGP_AID_IPV4_UNICAST,
	BGP_AID_IPV6_UNICAST,
	/* The first aid of a family registered from outside bgpd.  There
	 * is one such family today; raise BGP_AID_MAX to register more. */
	BGP_AID_REGISTERED,
	BGP_AID_MAX = BGP_AID_REGISTERED + 1,
};

#define BGP_RIB_KEY_MAX		40
/* No registered family encodes a longer NLRI (EVPN's longest is 54). */
#define BGP_NLRI_MAX_LEN	64
#define BGP_MAX_LABELS		2
/* Next-hop lengths one family may allow (e.g. 4, 16 and 32). */
#define BGP_AF_NEXTHOP_FORMS	3

struct bgp_labels {
	uint32_t	 label[BGP_MAX_LABELS];	/* 24-bit values */
	uint8_t		 n;
};

struct bgp_rib_path;

struct bgp_af {
	int		 aid;			/* enum bgp_aid */
	uint16_t	 afi;
	uint8_t		 safi;
	uint8_t		 conf_af;	/* CONF_AF_* bit activating it */
	const char	*name;		/* "ipv4 unicast", as configured */
	/* The next-hop lengths MP_REACH_NLRI may carry (RFC 4760 §3),
	 * unused entries 0; all 0: any length is taken. */
	uint8_t		 nexthop_lens[BGP_AF_NEXTHOP_FORMS];

	/* The NLRI codec, for a family the RIB carries (else NULL). */
	size_t		 key_len;		/* <= BGP_RIB_KEY_MAX */
	/* One NLRI: fill key (key_len bytes, zeroed by the caller) and
	 * labels; advance rb.  Returns 0, 1 for a well-framed NLRI the
	 * family does not carry (skipped), -1 if malformed (RFC 7606 §5.3). */
	int		(*nlri_decode)(struct rbuf *rb, uint8_t *key,
			    struct bgp_labels *);
	/* One NLRI; for a withdrawal labels may be ignored or zero. */
	void		(*nlri_encode)(struct wbuf *, const uint8_t *key,
			    const struct bgp_labels *, bool withdraw);
	/* <0 a preferred, >0 b preferred, 0 fall through to RFC 4271 §9.1.2.2. */
	int		(*path_prefer)(const uint8_t *key,
			    const struct bgp_rib_path *a,
			    const struct bgp_rib_path *b);
	const char	*(*key_fmt)(const uint8_t *key, char *, size_t);
};

/*
 * Add a row to the table.  Registering the same row again does nothing;
 * a second row for an aid or an AFI/SAFI already taken is a programming
 * error (fatal).
 */
void		 bgp_af_register(const struct bgp_af *);
/* The row of an aid, or NULL when none is registered there. */
const struct bgp_af *bgp_af_get(int aid);
/* The row of an AFI/SAFI pair, or NULL for a family we do not know. */
const struct bgp_af *bgp_af_find(uint16_t afi, uint8_t safi);
/* May the family's MP_REACH_NLRI carry a next hop of len bytes? */
bool		 bgp_af_nexthop_len_ok(const struct bgp_af *, uint8_t len);

/* AFI/SAFI <-> aid through the table; -1 if unknown. */
int		 bgp_aid_from_afi_safi(uint16_t afi, uint8_t safi);
/* Fatal for an aid without a row (a programming error). */
void		 bgp_aid_to_afi_safi(int aid, uint16_t *afi, uint8_t *safi);
const char	*bgp_aid_name(int aid);	/* "ipv4 unicast", or "unknown" */

#endif
