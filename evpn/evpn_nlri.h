/*
 * EVPN NLRI codec (AFI 25 / SAFI 70): the route types of RFC 7432 §7
 * (1 Ethernet A-D, 2 MAC/IP, 3 Inclusive Multicast, 4 Ethernet Segment)
 * and RFC 9136 §3 (5 IP Prefix), as carried in MP_REACH_NLRI and
 * MP_UNREACH_NLRI.
 *
 * How this works: each NLRI is route type (1 byte), length (1 byte) and
 * a type-specific value.  One table row per route type knows the lengths
 * that type may have and how to decode, encode, format it and pack and
 * unpack its key.  The decoder cuts the value out with rbuf_slice() and
 * parses only that slice, so a bad length can never make it read a
 * neighbour's bytes; any length its type does not allow, an IP length
 * outside {0, 32, 128} (or not matching the total length), a MAC length
 * other than 48, or a leftover byte makes it fail with -1.  Route types
 * we do not know are skipped by their length (return 1).
 *
 * Labels: for VXLAN the 3-byte label field holds the whole 24-bit VNI
 * (RFC 8365 §5.1.3), with no shift and no bottom-of-stack bit; this is
 * what FRR, GoBGP and BIRD send, and what we send.  The codec keeps the
 * 24 bits as they are, so MPLS labels pass through untouched as well.
 *
 * Route key (what makes two routes the same RIB entry): the RD plus the
 * fields the RFCs name as "part of the prefix"; everything else is a
 * route attribute (a new value replaces the path, it is not a new route).
 *   type 1: RD, ESI, Ethernet Tag                      (RFC 7432 §7.1)
 *   type 2: RD, Ethernet Tag, MAC, IP length, IP       (RFC 7432 §7.2)
 *           not the ESI, not the labels
 *   type 3: RD, Ethernet Tag, originator IP            (RFC 7432 §7.3)
 *   type 4: RD, ESI, originator IP                     (RFC 7432 §7.4)
 *   type 5: RD, Ethernet Tag, prefix length, prefix    (RFC 9136 §3.1)
 *           not the ESI, gateway IP or label
 *
 * The key is packed into EVPN_KEY_LEN bytes, zero-padded; the RIB stores
 * and hashes exactly these bytes (bgpd treats them as opaque), and
 * evpn_route_cmp() and evpn_route_hash() work on them, so all agree:
 *
 *	type, af, plen (type 5; 0 otherwise), then per type
 *	  1: Ethernet Tag, RD, ESI
 *	  2: Ethernet Tag, RD, MAC, IP
 *	  3: Ethernet Tag, RD, IP
 *	  4: RD, ESI, IP
 *	  5: Ethernet Tag, RD, IP
 *
 * with the tag big-endian and the IP in 16 bytes, zero beyond its family's
 * length.  The longest (types 2 and 4) take all 37 bytes, so a RIB entry
 * fits in 64.  Unpacking gives the route with these fields only (no
 * labels, and for types 2 and 5 a zero ESI and gateway: evpnd does no
 * multihoming and no recursive gateway resolution, and sends them as
 * zero).  evpn_route_same() also compares the attribute-like fields
 * (ESI, labels, gateway).
 */
#ifndef EVPN_EVPN_NLRI_H
#define EVPN_EVPN_NLRI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/buf.h"

enum evpn_route_type {
	EVPN_RT_EAD = 1,	/* Ethernet Auto-Discovery */
	EVPN_RT_MACIP = 2,	/* MAC/IP Advertisement */
	EVPN_RT_IMET = 3,	/* Inclusive Multicast Ethernet Tag */
	EVPN_RT_ES = 4,		/* Ethernet Segment */
	EVPN_RT_PREFIX = 5,	/* IP Prefix, RFC 9136 */
};

#define EVPN_ESI_LEN		10
#define EVPN_NLRI_MAX_LEN	54	/* 2 + type 2 with IPv6 and two labels */
#define EVPN_PREFIX_STRLEN	128
#define EVPN_ESI_STRLEN		30	/* "xx:" * 10 */
#define EVPN_LABEL_MAX		0xffffff
#define EVPN_KEY_LEN		37	/* packed route key, see above */

struct evpn_esi {
	uint8_t		 b[EVPN_ESI_LEN];
};

/* A 24-bit label field as on the wire (a VNI for VXLAN). */
struct evpn_label {
	uint8_t		 b[3];
};

/*
 * One EVPN route, 64 bytes so a million fit in 64 MB.  Fields a type does
 * not carry are zero after decode.  Which field means what:
 *   af      family of ip (and of gw): AF_INET, AF_INET6, or 0 for a
 *           type-2 route without IP (and type 1, which has no IP)
 *   ip      type 2 IP, type 3/4 originating router's IP, type 5 prefix
 *   plen    type 5 prefix length only (types 2-4 imply 32/128 by af)
 *   mac     type 2 only; gw shares its bytes and is type 5's gateway IP
 *   esi     types 1, 2, 4, 5
 *   label   nlabels of them: type 1 and 5 one, type 2 one or two (the
 *           second is the L3 VNI of symmetric IRB), types 3 and 4 none
 *   eth_tag types 1, 2, 3, 5
 */
struct evpn_route {
	uint8_t		 type;		/* enum evpn_route_type */
	uint8_t		 af;
	uint8_t		 plen;
	uint8_t		 nlabels;
	uint32_t	 eth_tag;
	struct rd	 rd;
	struct evpn_label label[2];
	struct evpn_esi	 esi;
	union {
		struct macaddr	 mac;
		uint8_t		 gw[16];
	};
	uint8_t		 ip[16];
};
_Static_assert(sizeof(struct evpn_route) == 64,
    "struct evpn_route is sized for a million-route RIB");

/*
 * Decode one NLRI at the reader's position and advance past it.
 * Returns 0 with *r filled, 1 for a well-framed NLRI of a route type we
 * do not know (skipped; *r zeroed with only type set), or -1 if
 * malformed (the reader does not move).
 */
int	 evpn_nlri_decode(struct rbuf *, struct evpn_route *);

/* Called per decoded route; a non-zero return stops the walk. */
typedef int (*evpn_nlri_cb)(const struct evpn_route *, void *arg);

/*
 * Decode every NLRI in the window (the NLRI part of MP_REACH_NLRI or
 * MP_UNREACH_NLRI).  cb may be NULL to validate only: as one malformed
 * NLRI spoils the whole attribute (RFC 7606 §5.3), a caller that must
 * not act on part of a bad UPDATE validates first, then walks again.
 * Returns 0 when all were well-formed, -1 on the first malformed one,
 * or the callback's non-zero value.  Unknown route types are skipped.
 */
int	 evpn_nlri_decode_all(struct rbuf *, evpn_nlri_cb, void *arg);

/*
 * Append the NLRI for r.  Returns 0, or -1 without writing when r cannot
 * be encoded (unknown type, af/plen/nlabels not valid for its type).
 * The wbuf's own error flag reports allocation and limit failures.
 */
int	 evpn_nlri_encode(struct wbuf *, const struct evpn_route *);
/* Its encoded size (2 + value length), or 0 when it cannot be encoded. */
size_t	 evpn_nlri_len(const struct evpn_route *);

/*
 * The packed key of r (EVPN_KEY_LEN bytes); back to a route; its route
 * type.  Every user of a stored key goes through these.
 */
void	 evpn_key_pack(const struct evpn_route *, uint8_t *key);
void	 evpn_key_unpack(const uint8_t *key, struct evpn_route *);
uint8_t	 evpn_key_type(const uint8_t *key);

/* Total order on the packed key above (type first). */
int	 evpn_route_cmp(const struct evpn_route *, const struct evpn_route *);
/* Hash of the same key: cmp == 0 implies equal hashes. */
uint32_t evpn_route_hash(const struct evpn_route *);
/* Same key and same ESI, labels and gateway: nothing to re-advertise. */
bool	 evpn_route_same(const struct evpn_route *, const struct evpn_route *);

/*
 * The prefix as FRR 8.4 prints it (show bgp l2vpn evpn, and the "prefix"
 * key in its JSON), RD excluded:
 *   [2]:[0]:[48]:[02:00:00:00:00:05]:[32]:[10.10.0.5]   MAC+IP
 *   [2]:[0]:[48]:[02:00:00:00:00:06]                    MAC only
 *   [3]:[0]:[32]:[10.0.0.11]
 *   [4]:[00:11:22:33:44:55:66:77:88:99]:[32]:[10.0.0.11]
 *   [5]:[0]:[24]:[10.20.0.0]
 *   [1]:[0]:[00:11:22:33:44:55:66:77:88:99]
 * FRR prints a type-1 route with two more fields it derives from the
 * path, not the NLRI (originator IP from the next hop, fragment id), so
 * for type 1 only the NLRI part is printed here.
 */
const char *evpn_route_prefix_fmt(const struct evpn_route *, char *, size_t);
const char *evpn_esi_fmt(const struct evpn_esi *, char *, size_t);

/* Label field <-> integer (a VNI is the whole 24 bits). */
uint32_t evpn_label_get(const struct evpn_label *);
void	 evpn_label_set(struct evpn_label *, uint32_t);

/* ip and gw as struct ipaddr (af 0 when absent), and back. */
void	 evpn_route_get_ip(const struct evpn_route *, struct ipaddr *);
void	 evpn_route_get_gw(const struct evpn_route *, struct ipaddr *);

/*
 * Build the routes we originate; esi and eth_tag start at zero.
 * type 2: ip NULL or af 0 for MAC only; l3vni 0 means one label.
 * type 5: gw NULL for none (zero address of the prefix's family).
 * Return -1 on a family or prefix length the type cannot carry.
 */
int	 evpn_route_make_macip(struct evpn_route *, const struct rd *,
	    const struct macaddr *, const struct ipaddr *ip, uint32_t l2vni,
	    uint32_t l3vni);
int	 evpn_route_make_imet(struct evpn_route *, const struct rd *,
	    const struct ipaddr *originator);
int	 evpn_route_make_prefix(struct evpn_route *, const struct rd *,
	    const struct prefix *, const struct ipaddr *gw, uint32_t l3vni);

#endif
