/*
 * The address-family table: one row per AFI/SAFI the RIB carries.
 *
 * bgpd knows no EVPN.  Each family describes its NLRI by a row of
 * operations (as BIRD's bgp_af_desc does): decode one NLRI from the
 * MP_REACH/MP_UNREACH window into a fixed-size canonical key plus the
 * per-path labels, encode it back, format the key, and optionally a
 * family-specific preference applied before the standard decision
 * process.  evpn/ registers its row with bgp_rib_af_register(); adding a
 * family is adding a row.
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

#define BGP_RIB_KEY_MAX		40
/* No registered family encodes a longer NLRI (EVPN's longest is 54). */
#define BGP_NLRI_MAX_LEN	64
#define BGP_MAX_LABELS		2

struct bgp_labels {
	uint32_t	 label[BGP_MAX_LABELS];	/* 24-bit values */
	uint8_t		 n;
};

struct bgp_rib_path;

struct bgp_af {
	int		 aid;			/* enum bgp_aid */
	uint16_t	 afi;
	uint8_t		 safi;
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

#endif
