/*
 * BGP-4 message codec (RFC 4271 §4): header framing, OPEN with optional
 * parameters and capabilities (RFC 5492), UPDATE framing, NOTIFICATION,
 * KEEPALIVE and ROUTE-REFRESH (RFC 2918).
 *
 * Decoders take the message body (after the 19-byte header) through the
 * common rbuf reader and never read outside it.  A decode error fills a
 * struct bgp_notify with the RFC 4271 §6 code/subcode/data to send; the
 * caller sends it and closes.  Meaning (AS numbers, hold time policy,
 * capability negotiation against config) is checked by
 * bgp_open_validate(), not by the decoder.  Per-family state is
 * indexed by aid, the families being the rows of bgp_af.h.
 */
#ifndef BGPD_BGP_MSG_H
#define BGPD_BGP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgpd/bgp_af.h"
#include "common/buf.h"

#define BGP_HDR_LEN		19
#define BGP_MARKER_LEN		16
#define BGP_MAX_MSG_LEN		4096
#define BGP_MAX_EXT_MSG_LEN	65535	/* RFC 8654 */
#define BGP_VERSION		4
#define BGP_AS_TRANS		23456	/* RFC 6793 */

enum bgp_msg_type {
	BGP_MSG_OPEN = 1,
	BGP_MSG_UPDATE = 2,
	BGP_MSG_NOTIFICATION = 3,
	BGP_MSG_KEEPALIVE = 4,
	BGP_MSG_ROUTE_REFRESH = 5,
};

/* RFC 4271 §4.5 error codes and subcodes. */
enum bgp_err_code {
	BGP_ERR_HEADER = 1,
	BGP_ERR_OPEN = 2,
	BGP_ERR_UPDATE = 3,
	BGP_ERR_HOLD = 4,
	BGP_ERR_FSM = 5,
	BGP_ERR_CEASE = 6,
	BGP_ERR_ROUTE_REFRESH = 7,	/* RFC 7313 */
	BGP_ERR_SEND_HOLD = 8,		/* RFC 9687 */
};
enum bgp_err_header {
	BGP_ERR_HDR_SYNC = 1,		/* Connection Not Synchronized */
	BGP_ERR_HDR_LEN = 2,		/* Bad Message Length */
	BGP_ERR_HDR_TYPE = 3,		/* Bad Message Type */
};
enum bgp_err_open {
	BGP_ERR_OPEN_VERSION = 1,
	BGP_ERR_OPEN_AS = 2,
	BGP_ERR_OPEN_BGPID = 3,
	BGP_ERR_OPEN_OPT = 4,		/* Unsupported Optional Parameter */
	BGP_ERR_OPEN_HOLD = 6,		/* Unacceptable Hold Time */
	BGP_ERR_OPEN_CAPA = 7,		/* Unsupported Capability, RFC 5492 */
};
enum bgp_err_update {
	BGP_ERR_UPD_ATTRLIST = 1,	/* Malformed Attribute List */
	BGP_ERR_UPD_UNKWN_WK = 2,
	BGP_ERR_UPD_MISSING_WK = 3,
	BGP_ERR_UPD_FLAGS = 4,
	BGP_ERR_UPD_LENGTH = 5,
	BGP_ERR_UPD_ORIGIN = 6,
	BGP_ERR_UPD_NEXTHOP = 8,
	BGP_ERR_UPD_OPTATTR = 9,
	BGP_ERR_UPD_NETWORK = 10,
	BGP_ERR_UPD_ASPATH = 11,
};
enum bgp_err_cease {		/* RFC 4486 */
	BGP_CEASE_MAX_PREFIX = 1,
	BGP_CEASE_ADMIN_SHUTDOWN = 2,
	BGP_CEASE_PEER_DECONFIG = 3,
	BGP_CEASE_ADMIN_RESET = 4,
	BGP_CEASE_CONN_REJECT = 5,
	BGP_CEASE_CONFIG_CHANGE = 6,
	BGP_CEASE_COLLISION = 7,
	BGP_CEASE_RESOURCES = 8,
};

#define BGP_NOTIFY_DATA_MAX	256

struct bgp_notify {
	uint8_t		 code;
	uint8_t		 subcode;
	uint16_t	 datalen;
	uint8_t		 data[BGP_NOTIFY_DATA_MAX];
};

/* Capability codes (IANA). */
#define BGP_CAPA_MP		1
#define BGP_CAPA_ROUTE_REFRESH	2
#define BGP_CAPA_EXT_MSG	6	/* RFC 8654 */
#define BGP_CAPA_GR		64	/* RFC 4724 */
#define BGP_CAPA_AS4		65	/* RFC 6793 */
#define BGP_CAPA_ENH_RR		70	/* RFC 7313 */
#define BGP_CAPA_RR_OLD		128	/* Cisco pre-standard route refresh */

#define BGP_GR_FLAG_RESTART	0x8	/* R bit, high nibble of the 16 bits */
#define BGP_GR_AF_FORWARDING	0x80	/* F bit per AFI/SAFI */

struct bgp_caps {
	bool		 mp[BGP_AID_MAX];	/* multiprotocol per family */
	bool		 as4;
	uint32_t	 as4_asn;
	bool		 route_refresh;
	bool		 enhanced_rr;
	bool		 ext_msg;
	bool		 gr;
	bool		 gr_restarting;		/* R bit */
	uint16_t	 gr_time;		/* 12 bits, seconds */
	bool		 gr_af[BGP_AID_MAX];	/* families in the GR cap */
	bool		 gr_af_forwarding[BGP_AID_MAX];
	/* Seen but not understood, for logging (RFC 5492 §3: ignore). */
	uint8_t		 unknown[16];
	uint8_t		 n_unknown;
};

struct bgp_open {
	uint8_t		 version;
	uint16_t	 my_as;			/* 2-byte field; AS_TRANS if > 65535 */
	uint16_t	 holdtime;
	uint32_t	 bgp_id;		/* host order */
	struct bgp_caps	 caps;
};

/* Local settings bgp_open_validate() checks a received OPEN against. */
struct bgp_open_policy {
	uint32_t	 local_as;
	uint32_t	 local_bgp_id;		/* host order */
	uint32_t	 remote_as;		/* configured */
	bool		 families[BGP_AID_MAX];	/* activated locally */
};

/* Optional parameter types in OPEN (RFC 4271 §4.2, RFC 9072). */
#define BGP_OPT_PARAM_CAPA	2
#define BGP_OPT_PARAM_EXT	255	/* RFC 9072 extended length marker */

/*
 * Header (RFC 4271 §4.1, §6.1): hdr points at BGP_HDR_LEN bytes.
 * max_len is the largest message accepted (4096, or 65535 once extended
 * messages are negotiated).  Checks marker, length range per type and
 * known type; returns 0 with *type and *len (whole message length), or
 * -1 with err filled (data = the bad length or type, as §6.1 says).
 * OPEN is limited to 4096 whatever max_len (RFC 8654 §4).  ROUTE-REFRESH
 * is only held to its minimum: bgp_rr_decode() reports any other length
 * as 7/1, as RFC 7313 §5 asks.
 */
int	 bgp_hdr_parse(const uint8_t *hdr, size_t max_len, uint8_t *type,
	    uint16_t *len, struct bgp_notify *err);
/* Writes marker, a length placeholder and type; returns the start. */
size_t	 bgp_hdr_begin(struct wbuf *, uint8_t type);
/* Backfills the length of the message begun at start. */
void	 bgp_hdr_finish(struct wbuf *, size_t start);
/* Every *_encode() below appends a complete message, header included;
 * every *_decode() takes the body only (after the 19-byte header). */

int	 bgp_open_decode(const uint8_t *body, size_t len, struct bgp_open *,
	    struct bgp_notify *err);
void	 bgp_open_encode(struct wbuf *, const struct bgp_open *);
/* Set my_as (AS_TRANS when asn > 65535) and the AS4 capability. */
void	 bgp_open_set_as(struct bgp_open *, uint32_t asn);
/*
 * Capabilities inside one Capabilities optional parameter (RFC 5492):
 * decode adds what it finds to caps (2/0 on a malformed capability);
 * encode writes one optional parameter per capability (FRR's layout).
 */
int	 bgp_caps_decode(struct rbuf *param, struct bgp_caps *,
	    struct bgp_notify *err);
void	 bgp_caps_encode(struct wbuf *, const struct bgp_caps *);
/* Check a decoded OPEN against local policy (version, AS incl. AS4
 * capability, BGP identifier, hold time 0 or >= 3, common family).
 * Returns 0 or -1 with err filled; the data is what FRR 8.4 sends
 * (bad AS, hold time, identifier; our MP capabilities for 2/7). */
int	 bgp_open_validate(const struct bgp_open *,
	    const struct bgp_open_policy *, struct bgp_notify *err);
/* The peer's real AS: the AS4 capability if present, else my_as. */
uint32_t bgp_open_peer_as(const struct bgp_open *);
/* Negotiated session values from both OPENs. */
struct bgp_negotiated {
	uint16_t	 holdtime;		/* min of both */
	uint16_t	 keepalive;		/* holdtime / 3 unless configured lower */
	bool		 as4;
	bool		 route_refresh;
	bool		 enhanced_rr;
	bool		 ext_msg;
	size_t		 max_msg_len;
	bool		 families[BGP_AID_MAX];	/* both sides */
	bool		 peer_gr;
	bool		 peer_gr_restarting;
	uint16_t	 peer_gr_time;
	bool		 peer_gr_af[BGP_AID_MAX];
};
void	 bgp_negotiate(const struct bgp_open *local, const struct bgp_open *remote,
	    uint16_t conf_keepalive, struct bgp_negotiated *);

void	 bgp_keepalive_encode(struct wbuf *);

int	 bgp_notify_decode(const uint8_t *body, size_t len, struct bgp_notify *);
void	 bgp_notify_encode(struct wbuf *, const struct bgp_notify *);
void	 bgp_notify_set(struct bgp_notify *, uint8_t code, uint8_t subcode,
	    const void *data, size_t datalen);
/* "Hold Timer Expired", "OPEN Message Error/Bad Peer AS" ... */
const char *bgp_notify_code_name(uint8_t code);
const char *bgp_notify_subcode_name(uint8_t code, uint8_t subcode);
/* Both, as FRR logs them: "Cease/Administrative Shutdown",
 * "Hold Timer Expired", "OPEN Message Error/Unspecific". */
const char *bgp_notify_name(uint8_t code, uint8_t subcode, char *buf,
	    size_t len);

/* ROUTE-REFRESH (RFC 2918; subtype per RFC 7313: 0 normal, 1 BoRR, 2 EoRR). */
struct bgp_route_refresh {
	uint16_t	 afi;
	uint8_t		 subtype;
	uint8_t		 safi;
};
/* Length other than 4 -> 7/1 with the whole message (RFC 7313 §5).
 * Subtypes above 2 decode; the caller must ignore them (RFC 7313 §5). */
int	 bgp_rr_decode(const uint8_t *body, size_t len,
	    struct bgp_route_refresh *, struct bgp_notify *err);
void	 bgp_rr_encode(struct wbuf *, const struct bgp_route_refresh *);

/*
 * UPDATE framing (RFC 4271 §4.3, §6.3): split the body into the withdrawn
 * routes, the path attributes and the NLRI, each its own window.  Fails
 * with 3/1 (Malformed Attribute List) when the two length fields do not
 * fit the message.  Attribute meaning is bgp_attr's job.
 */
struct bgp_update_parts {
	struct rbuf	 withdrawn;
	struct rbuf	 attrs;
	struct rbuf	 nlri;
};
int	 bgp_update_split(const uint8_t *body, size_t len,
	    struct bgp_update_parts *, struct bgp_notify *err);

/*
 * End-of-RIB marker for one family (RFC 4724 §2).  IPv4 unicast: an
 * UPDATE empty but for its two zero length fields.  Any other family:
 * the Total Path Attribute Length is BGP_EOR_MP_ATTRS_LEN, one
 * MP_UNREACH_NLRI (Optional, short length) whose value is the AFI and
 * SAFI alone, BGP_EOR_MP_UNREACH_LEN bytes.
 */
#define BGP_EOR_MP_UNREACH_LEN	3		/* AFI(2) SAFI(1) */
#define BGP_EOR_MP_ATTRS_LEN	(3 + BGP_EOR_MP_UNREACH_LEN)	/* + header */
void	 bgp_eor_encode(struct wbuf *, int aid);

#endif
