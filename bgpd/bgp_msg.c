/*
 * BGP-4 message codec (RFC 4271 §4, §6).
 *
 * How this works: the session reads 19 bytes and calls bgp_hdr_parse(),
 * which checks framing only (marker, length range for the type, known
 * type) and maps each failure to its §6.1 NOTIFICATION.  Once the whole
 * message is in, the session hands the body (the bytes after the header)
 * to the decoder for its type.  Every decoder reads through a struct
 * rbuf over exactly that body, so a lying length field can make it fail
 * but never read outside the message.  Decoders check syntax; OPEN
 * semantics against our configuration are bgp_open_validate()'s job, and
 * the values the session then runs with come from bgp_negotiate().
 *
 * Encoders write complete messages (header included) into a wbuf:
 * bgp_hdr_begin() writes the marker and type with a placeholder length,
 * the encoder appends the body, and bgp_hdr_finish() backfills the length.
 * Capabilities live in bgp_caps.c.
 */
#include "bgpd/bgp_msg.h"
#include "bgpd/bgp_attr.h"

#include <stdio.h>
#include <string.h>

#include "common/byteorder.h"
#include "common/log.h"
#include "common/util.h"

/* Smallest legal whole message per type (RFC 4271 §4; RFC 2918 §3). */
#define BGP_OPEN_MIN_LEN	29
#define BGP_UPDATE_MIN_LEN	23
#define BGP_NOTIFY_MIN_LEN	21
#define BGP_KEEPALIVE_LEN	19
#define BGP_RR_LEN		23
#define BGP_OPEN_FIXED_LEN	10	/* version .. opt param len */

/* ---- notifications ---------------------------------------------------- */

void
bgp_notify_set(struct bgp_notify *n, uint8_t code, uint8_t subcode,
    const void *data, size_t datalen)
{
	memset(n, 0, sizeof(*n));
	n->code = code;
	n->subcode = subcode;
	if (datalen > sizeof(n->data))
		datalen = sizeof(n->data);
	if (data != NULL && datalen > 0)
		memcpy(n->data, data, datalen);
	else
		datalen = 0;
	n->datalen = (uint16_t)datalen;
}

static void
notify_set_u16(struct bgp_notify *n, uint8_t code, uint8_t subcode,
    uint16_t v)
{
	uint8_t b[2];

	be16_store(b, v);
	bgp_notify_set(n, code, subcode, b, sizeof(b));
}

/* RFC 4271 §4.5: code, subcode, data to the end of the message.  Data
 * longer than we keep is cut silently: it only ever goes to logs. */
int
bgp_notify_decode(const uint8_t *body, size_t len, struct bgp_notify *n)
{
	struct rbuf rb;
	uint8_t code, subcode;

	rbuf_init(&rb, body, len);
	if (rbuf_get_u8(&rb, &code) == -1 || rbuf_get_u8(&rb, &subcode) == -1)
		return -1;
	bgp_notify_set(n, code, subcode, rbuf_ptr(&rb), rbuf_left(&rb));
	return 0;
}

void
bgp_notify_encode(struct wbuf *wb, const struct bgp_notify *n)
{
	size_t start = bgp_hdr_begin(wb, BGP_MSG_NOTIFICATION);
	size_t datalen = n->datalen;

	if (datalen > sizeof(n->data))
		datalen = sizeof(n->data);
	wbuf_put_u8(wb, n->code);
	wbuf_put_u8(wb, n->subcode);
	wbuf_put_bytes(wb, n->data, datalen);
	bgp_hdr_finish(wb, start);
}

/* Names as FRR prints them, so logs and CLI output read the same. */
static const char *const code_names[] = {
	[BGP_ERR_HEADER] = "Message Header Error",
	[BGP_ERR_OPEN] = "OPEN Message Error",
	[BGP_ERR_UPDATE] = "UPDATE Message Error",
	[BGP_ERR_HOLD] = "Hold Timer Expired",
	[BGP_ERR_FSM] = "Neighbor Events Error",
	[BGP_ERR_CEASE] = "Cease",
	[BGP_ERR_ROUTE_REFRESH] = "ROUTE-REFRESH Message Error",
	[BGP_ERR_SEND_HOLD] = "Send Hold Timer Expired",
};

static const char *const header_subcodes[] = {
	[1] = "Connection Not Synchronized",
	[2] = "Bad Message Length",
	[3] = "Bad Message Type",
};
static const char *const open_subcodes[] = {
	[1] = "Unsupported Version Number",
	[2] = "Bad Peer AS",
	[3] = "Bad BGP Identifier",
	[4] = "Unsupported Optional Parameter",
	[5] = "Authentication Failure",
	[6] = "Unacceptable Hold Time",
	[7] = "Unsupported Capability",
	[11] = "Role Mismatch",		/* RFC 9234 */
};
static const char *const update_subcodes[] = {
	[1] = "Malformed Attribute List",
	[2] = "Unrecognized Well-known Attribute",
	[3] = "Missing Well-known Attribute",
	[4] = "Attribute Flags Error",
	[5] = "Attribute Length Error",
	[6] = "Invalid ORIGIN Attribute",
	[7] = "AS Routing Loop",
	[8] = "Invalid NEXT_HOP Attribute",
	[9] = "Optional Attribute Error",
	[10] = "Invalid Network Field",
	[11] = "Malformed AS_PATH",
};
static const char *const fsm_subcodes[] = {	/* RFC 6608 */
	[1] = "Receive Unexpected Message in OpenSent State",
	[2] = "Receive Unexpected Message in OpenConfirm State",
	[3] = "Receive Unexpected Message in Established State",
};
static const char *const cease_subcodes[] = {	/* RFC 4486, 8538, 9384 */
	[1] = "Maximum Number of Prefixes Reached",
	[2] = "Administrative Shutdown",
	[3] = "Peer De-configured",
	[4] = "Administrative Reset",
	[5] = "Connection Rejected",
	[6] = "Other Configuration Change",
	[7] = "Connection Collision Resolution",
	[8] = "Out of Resources",
	[9] = "Hard Reset",
	[10] = "BFD Down",
};
static const char *const rr_subcodes[] = {	/* RFC 7313 */
	[1] = "Invalid Message Length",
};

const char *
bgp_notify_code_name(uint8_t code)
{
	if (code < nitems(code_names) && code_names[code] != NULL)
		return code_names[code];
	return "Unknown Error";
}

static const char *
subcode_lookup(const char *const *names, size_t n, uint8_t subcode)
{
	if (subcode < n && names[subcode] != NULL)
		return names[subcode];
	return "Unknown";
}

#define SUBCODE(t, s)	subcode_lookup((t), nitems(t), (s))

const char *
bgp_notify_subcode_name(uint8_t code, uint8_t subcode)
{
	/* RFC 4271 §4.5: zero means no more specific subcode. */
	if (subcode == 0)
		return "Unspecific";
	switch (code) {
	case BGP_ERR_HEADER:
		return SUBCODE(header_subcodes, subcode);
	case BGP_ERR_OPEN:
		return SUBCODE(open_subcodes, subcode);
	case BGP_ERR_UPDATE:
		return SUBCODE(update_subcodes, subcode);
	case BGP_ERR_FSM:
		return SUBCODE(fsm_subcodes, subcode);
	case BGP_ERR_CEASE:
		return SUBCODE(cease_subcodes, subcode);
	case BGP_ERR_ROUTE_REFRESH:
		return SUBCODE(rr_subcodes, subcode);
	default:
		return "Unknown";
	}
}

const char *
bgp_notify_name(uint8_t code, uint8_t subcode, char *buf, size_t len)
{
	/* The timer errors have no subcodes; FRR prints them bare. */
	if ((code == BGP_ERR_HOLD || code == BGP_ERR_SEND_HOLD) &&
	    subcode == 0)
		snprintf(buf, len, "%s", bgp_notify_code_name(code));
	else
		snprintf(buf, len, "%s/%s", bgp_notify_code_name(code),
		    bgp_notify_subcode_name(code, subcode));
	return buf;
}

/* ---- header ------------------------------------------------------------ */

static bool
hdr_len_ok(uint8_t type, uint16_t len)
{
	switch (type) {
	case BGP_MSG_OPEN:
		/* RFC 8654 §4: OPEN never exceeds 4096, whatever was agreed. */
		return len >= BGP_OPEN_MIN_LEN && len <= BGP_MAX_MSG_LEN;
	case BGP_MSG_UPDATE:
		return len >= BGP_UPDATE_MIN_LEN;
	case BGP_MSG_NOTIFICATION:
		return len >= BGP_NOTIFY_MIN_LEN;
	case BGP_MSG_KEEPALIVE:
		return len == BGP_KEEPALIVE_LEN;
	case BGP_MSG_ROUTE_REFRESH:
		/*
		 * Only the minimum here: RFC 7313 §5 wants a wrong
		 * ROUTE-REFRESH length reported as 7/1 with the whole
		 * message, which bgp_rr_decode() does.
		 */
		return len >= BGP_RR_LEN;
	default:
		return false;
	}
}

/*
 * RFC 4271 §6.1 in its order: marker, then length (overall range, then
 * per type), then type.  An unknown type cannot have its length judged,
 * so the type is checked before the per-type length.
 */
int
bgp_hdr_parse(const uint8_t *hdr, size_t max_len, uint8_t *type,
    uint16_t *len, struct bgp_notify *err)
{
	struct rbuf rb;
	uint8_t marker[BGP_MARKER_LEN];
	uint16_t mlen;
	uint8_t mtype;

	rbuf_init(&rb, hdr, BGP_HDR_LEN);
	if (rbuf_get_bytes(&rb, marker, sizeof(marker)) == -1 ||
	    rbuf_get_u16(&rb, &mlen) == -1 || rbuf_get_u8(&rb, &mtype) == -1)
		fatalx("%s: short header buffer", __func__);
	for (size_t i = 0; i < sizeof(marker); i++) {
		if (marker[i] != 0xff) {
			bgp_notify_set(err, BGP_ERR_HEADER, BGP_ERR_HDR_SYNC,
			    NULL, 0);
			return -1;
		}
	}
	if (mlen < BGP_HDR_LEN || mlen > max_len) {
		notify_set_u16(err, BGP_ERR_HEADER, BGP_ERR_HDR_LEN, mlen);
		return -1;
	}
	if (mtype < BGP_MSG_OPEN || mtype > BGP_MSG_ROUTE_REFRESH) {
		bgp_notify_set(err, BGP_ERR_HEADER, BGP_ERR_HDR_TYPE,
		    &mtype, 1);
		return -1;
	}
	if (!hdr_len_ok(mtype, mlen)) {
		notify_set_u16(err, BGP_ERR_HEADER, BGP_ERR_HDR_LEN, mlen);
		return -1;
	}
	*type = mtype;
	*len = mlen;
	return 0;
}

size_t
bgp_hdr_begin(struct wbuf *wb, uint8_t type)
{
	static const uint8_t marker[BGP_MARKER_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	size_t start = wb->len;

	wbuf_put_bytes(wb, marker, sizeof(marker));
	wbuf_put_u16(wb, 0);
	wbuf_put_u8(wb, type);
	return start;
}

void
bgp_hdr_finish(struct wbuf *wb, size_t start)
{
	size_t len = wb->len - start;

	/* A message over 65535 bytes cannot be framed: mark it failed. */
	if (len > BGP_MAX_EXT_MSG_LEN) {
		wb->error = 1;
		return;
	}
	wbuf_set_u16(wb, start + BGP_MARKER_LEN, (uint16_t)len);
}

void
bgp_keepalive_encode(struct wbuf *wb)
{
	bgp_hdr_finish(wb, bgp_hdr_begin(wb, BGP_MSG_KEEPALIVE));
}

/* ---- OPEN -------------------------------------------------------------- */

static int
open_malformed(struct bgp_notify *err)
{
	/* RFC 4271 §4.5: no subcode fits, so 0 (Unspecific). */
	bgp_notify_set(err, BGP_ERR_OPEN, 0, NULL, 0);
	return -1;
}

/*
 * Walk the optional parameters.  ext selects RFC 9072's form, where each
 * parameter length is two octets instead of one.
 */
static int
open_decode_params(struct rbuf *params, bool ext, struct bgp_open *open,
    struct bgp_notify *err)
{
	struct rbuf val;
	uint8_t type, len8;
	uint16_t plen;

	while (rbuf_left(params) > 0) {
		if (rbuf_get_u8(params, &type) == -1)
			return open_malformed(err);
		if (ext) {
			if (rbuf_get_u16(params, &plen) == -1)
				return open_malformed(err);
		} else {
			if (rbuf_get_u8(params, &len8) == -1)
				return open_malformed(err);
			plen = len8;
		}
		if (rbuf_slice(params, plen, &val) == -1)
			return open_malformed(err);
		if (type != BGP_OPT_PARAM_CAPA) {
			/* RFC 4271 §6.2: no data for this subcode. */
			bgp_notify_set(err, BGP_ERR_OPEN, BGP_ERR_OPEN_OPT,
			    NULL, 0);
			return -1;
		}
		if (bgp_caps_decode(&val, &open->caps, err) == -1)
			return -1;
	}
	return 0;
}

int
bgp_open_decode(const uint8_t *body, size_t len, struct bgp_open *open,
    struct bgp_notify *err)
{
	struct rbuf rb, params;
	uint8_t optlen8, first;
	uint16_t optlen;
	bool ext = false;

	memset(open, 0, sizeof(*open));
	rbuf_init(&rb, body, len);
	if (rbuf_get_u8(&rb, &open->version) == -1 ||
	    rbuf_get_u16(&rb, &open->my_as) == -1 ||
	    rbuf_get_u16(&rb, &open->holdtime) == -1 ||
	    rbuf_get_u32(&rb, &open->bgp_id) == -1 ||
	    rbuf_get_u8(&rb, &optlen8) == -1) {
		/* Only reachable when the header check was skipped. */
		notify_set_u16(err, BGP_ERR_HEADER, BGP_ERR_HDR_LEN,
		    (uint16_t)(len + BGP_HDR_LEN));
		return -1;
	}
	optlen = optlen8;
	/* RFC 9072 §2: length 255 followed by type 255 means a 2-octet
	 * length follows and every parameter has a 2-octet length. */
	if (optlen8 == 255 && rbuf_peek_u8(&rb, &first) == 0 &&
	    first == BGP_OPT_PARAM_EXT) {
		ext = true;
		if (rbuf_skip(&rb, 1) == -1 || rbuf_get_u16(&rb, &optlen) == -1)
			return open_malformed(err);
	}
	/*
	 * The parameters must fill the message exactly: RFC 4271 §4.2 makes
	 * their length the rest of the OPEN, and trailing bytes would mean
	 * the two length fields disagree.
	 */
	if (rbuf_slice(&rb, optlen, &params) == -1 || rbuf_left(&rb) != 0)
		return open_malformed(err);
	return open_decode_params(&params, ext, open, err);
}

void
bgp_open_encode(struct wbuf *wb, const struct bgp_open *open)
{
	size_t start, optlen_off, optlen;

	start = bgp_hdr_begin(wb, BGP_MSG_OPEN);
	wbuf_put_u8(wb, open->version);
	wbuf_put_u16(wb, open->my_as);
	wbuf_put_u16(wb, open->holdtime);
	wbuf_put_u32(wb, open->bgp_id);
	optlen_off = wbuf_reserve(wb, 1);
	bgp_caps_encode(wb, &open->caps);
	optlen = wb->len - optlen_off - 1;
	if (optlen > 255)	/* cannot happen with the caps we send */
		fatalx("%s: optional parameters too long (%zu)", __func__,
		    optlen);
	wbuf_set_u8(wb, optlen_off, (uint8_t)optlen);
	bgp_hdr_finish(wb, start);
}

void
bgp_open_set_as(struct bgp_open *open, uint32_t asn)
{
	open->my_as = asn > 0xffff ? BGP_AS_TRANS : (uint16_t)asn;
	open->caps.as4 = true;
	open->caps.as4_asn = asn;
}

uint32_t
bgp_open_peer_as(const struct bgp_open *open)
{
	return open->caps.as4 ? open->caps.as4_asn : open->my_as;
}

/*
 * The families an OPEN offers.  A speaker that sends no Multiprotocol
 * capability at all speaks plain RFC 4271 BGP, which carries IPv4
 * unicast only (RFC 4760 §1 adds the others on top of it).
 */
static void
open_families(const struct bgp_open *open, bool fam[BGP_AID_MAX])
{
	bool any = false;

	for (int aid = 0; aid < BGP_AID_MAX; aid++) {
		fam[aid] = open->caps.mp[aid];
		any = any || fam[aid];
	}
	if (!any)
		fam[BGP_AID_IPV4_UNICAST] = true;
}

/*
 * RFC 4271 §6.2 gives 2/2, 2/3 and 2/6 no data; FRR 8.4 sends the
 * offending value (tests/fixtures/frr84_notify_open_errors.hex) and we
 * do the same so both speakers' logs read alike: the AS in two octets,
 * or four when it does not fit (FRR's choice there not verified).
 */
static int
open_validate_as(const struct bgp_open *open,
    const struct bgp_open_policy *pol, struct bgp_notify *err)
{
	uint32_t as = bgp_open_peer_as(open);
	uint8_t b[4];

	/* RFC 6793 §4.1: a 4-octet AS travels as AS_TRANS in My AS. */
	if (open->caps.as4 && as > 0xffff && open->my_as != BGP_AS_TRANS) {
		notify_set_u16(err, BGP_ERR_OPEN, BGP_ERR_OPEN_AS,
		    open->my_as);
		return -1;
	}
	if (as != pol->remote_as) {
		if (as > 0xffff) {
			be32_store(b, as);
			bgp_notify_set(err, BGP_ERR_OPEN, BGP_ERR_OPEN_AS,
			    b, 4);
		} else
			notify_set_u16(err, BGP_ERR_OPEN, BGP_ERR_OPEN_AS,
			    (uint16_t)as);
		return -1;
	}
	return 0;
}

/*
 * No family in common: RFC 5492 §3 lets a speaker that cannot work
 * without a capability refuse with Unsupported Capability, the data
 * being the capabilities it wanted, here our Multiprotocol ones.
 */
static int
open_validate_families(const struct bgp_open *open,
    const struct bgp_open_policy *pol, struct bgp_notify *err)
{
	struct wbuf wb;
	bool fam[BGP_AID_MAX];
	uint16_t afi;
	uint8_t safi;

	open_families(open, fam);
	for (int aid = 0; aid < BGP_AID_MAX; aid++)
		if (fam[aid] && pol->families[aid])
			return 0;
	wbuf_init(&wb, BGP_NOTIFY_DATA_MAX);
	for (int aid = 0; aid < BGP_AID_MAX; aid++) {
		if (!pol->families[aid])
			continue;
		bgp_aid_to_afi_safi(aid, &afi, &safi);
		wbuf_put_u8(&wb, BGP_CAPA_MP);
		wbuf_put_u8(&wb, 4);
		wbuf_put_u16(&wb, afi);
		wbuf_put_u8(&wb, 0);
		wbuf_put_u8(&wb, safi);
	}
	bgp_notify_set(err, BGP_ERR_OPEN, BGP_ERR_OPEN_CAPA, wb.data, wb.len);
	wbuf_free(&wb);
	return -1;
}

/* RFC 4271 §6.2, in its order: version, My AS, Hold Time, BGP Id. */
int
bgp_open_validate(const struct bgp_open *open,
    const struct bgp_open_policy *pol, struct bgp_notify *err)
{
	if (open->version != BGP_VERSION) {
		/* Data: the largest version we support (§6.2). */
		notify_set_u16(err, BGP_ERR_OPEN, BGP_ERR_OPEN_VERSION,
		    BGP_VERSION);
		return -1;
	}
	if (open_validate_as(open, pol, err) == -1)
		return -1;
	if (open->holdtime == 1 || open->holdtime == 2) {
		notify_set_u16(err, BGP_ERR_OPEN, BGP_ERR_OPEN_HOLD,
		    open->holdtime);
		return -1;
	}
	/* RFC 6286 §2.2: non-zero; unique only within one AS. */
	if (open->bgp_id == 0 || (pol->remote_as == pol->local_as &&
	    open->bgp_id == pol->local_bgp_id)) {
		uint8_t id[4];

		be32_store(id, open->bgp_id);
		bgp_notify_set(err, BGP_ERR_OPEN, BGP_ERR_OPEN_BGPID, id, 4);
		return -1;
	}
	return open_validate_families(open, pol, err);
}

void
bgp_negotiate(const struct bgp_open *local, const struct bgp_open *remote,
    uint16_t conf_keepalive, struct bgp_negotiated *neg)
{
	bool lfam[BGP_AID_MAX], rfam[BGP_AID_MAX];

	memset(neg, 0, sizeof(*neg));
	/* RFC 4271 §4.2: the smaller hold time; 0 disables keepalives. */
	neg->holdtime = local->holdtime < remote->holdtime ?
	    local->holdtime : remote->holdtime;
	neg->keepalive = neg->holdtime / 3;
	if (neg->holdtime != 0 && conf_keepalive != 0 &&
	    conf_keepalive < neg->keepalive)
		neg->keepalive = conf_keepalive;
	neg->as4 = local->caps.as4 && remote->caps.as4;
	neg->route_refresh = local->caps.route_refresh &&
	    remote->caps.route_refresh;
	neg->enhanced_rr = local->caps.enhanced_rr && remote->caps.enhanced_rr;
	/* RFC 8654 §3: only when both sides advertised it. */
	neg->ext_msg = local->caps.ext_msg && remote->caps.ext_msg;
	neg->max_msg_len = neg->ext_msg ? BGP_MAX_EXT_MSG_LEN : BGP_MAX_MSG_LEN;
	open_families(local, lfam);
	open_families(remote, rfam);
	for (int aid = 0; aid < BGP_AID_MAX; aid++)
		neg->families[aid] = lfam[aid] && rfam[aid];
	neg->peer_gr = remote->caps.gr;
	neg->peer_gr_restarting = remote->caps.gr_restarting;
	neg->peer_gr_time = remote->caps.gr_time;
	memcpy(neg->peer_gr_af, remote->caps.gr_af, sizeof(neg->peer_gr_af));
}

/* ---- ROUTE-REFRESH ----------------------------------------------------- */

/*
 * RFC 2918 §3 body: AFI(2), reserved/subtype(1), SAFI(1).  RFC 7313 §5:
 * any other length is 7/1 with the complete message as data; we rebuild
 * the header, which is fully known once bgp_hdr_parse() accepted it.
 * Subtypes above 2 decode fine; RFC 7313 §5 has the caller ignore them.
 */
int
bgp_rr_decode(const uint8_t *body, size_t len, struct bgp_route_refresh *rr,
    struct bgp_notify *err)
{
	struct rbuf rb;
	struct wbuf wb;
	size_t start;

	rbuf_init(&rb, body, len);
	if (len == 4 && rbuf_get_u16(&rb, &rr->afi) == 0 &&
	    rbuf_get_u8(&rb, &rr->subtype) == 0 &&
	    rbuf_get_u8(&rb, &rr->safi) == 0)
		return 0;
	wbuf_init(&wb, 0);
	start = bgp_hdr_begin(&wb, BGP_MSG_ROUTE_REFRESH);
	wbuf_put_bytes(&wb, body, len);
	bgp_hdr_finish(&wb, start);
	bgp_notify_set(err, BGP_ERR_ROUTE_REFRESH, 1,
	    wb.error ? NULL : wb.data, wb.len);
	wbuf_free(&wb);
	return -1;
}

void
bgp_rr_encode(struct wbuf *wb, const struct bgp_route_refresh *rr)
{
	size_t start = bgp_hdr_begin(wb, BGP_MSG_ROUTE_REFRESH);

	wbuf_put_u16(wb, rr->afi);
	wbuf_put_u8(wb, rr->subtype);
	wbuf_put_u8(wb, rr->safi);
	bgp_hdr_finish(wb, start);
}

/* ---- UPDATE framing ---------------------------------------------------- */

/* RFC 4271 §4.3, §6.3: both length fields must fit; NLRI is the rest. */
int
bgp_update_split(const uint8_t *body, size_t len,
    struct bgp_update_parts *parts, struct bgp_notify *err)
{
	struct rbuf rb;
	uint16_t wlen, alen;

	rbuf_init(&rb, body, len);
	if (rbuf_get_u16(&rb, &wlen) == -1 ||
	    rbuf_slice(&rb, wlen, &parts->withdrawn) == -1 ||
	    rbuf_get_u16(&rb, &alen) == -1 ||
	    rbuf_slice(&rb, alen, &parts->attrs) == -1) {
		bgp_notify_set(err, BGP_ERR_UPDATE, BGP_ERR_UPD_ATTRLIST,
		    NULL, 0);
		return -1;
	}
	(void)rbuf_slice(&rb, rbuf_left(&rb), &parts->nlri);
	return 0;
}

/*
 * End-of-RIB (RFC 4724 §2): for IPv4 unicast an UPDATE with neither
 * withdrawn routes nor attributes; for any other family one whose only
 * attribute is an MP_UNREACH_NLRI with the AFI/SAFI and no NLRI, in the
 * short attribute form (FRR's bytes).
 */
void
bgp_eor_encode(struct wbuf *wb, int aid)
{
	uint8_t mp_unreach[BGP_EOR_MP_UNREACH_LEN];
	size_t start;
	uint16_t afi;
	uint8_t safi;

	start = bgp_hdr_begin(wb, BGP_MSG_UPDATE);
	wbuf_put_u16(wb, 0);		/* no withdrawn routes */
	if (aid == BGP_AID_IPV4_UNICAST) {
		wbuf_put_u16(wb, 0);	/* no path attributes */
	} else {
		bgp_aid_to_afi_safi(aid, &afi, &safi);
		be16_store(mp_unreach, afi);
		mp_unreach[2] = safi;
		wbuf_put_u16(wb, BGP_EOR_MP_ATTRS_LEN);
		bgp_attr_put(wb, BGP_ATTR_FLAG_OPTIONAL,
		    BGP_ATTR_MP_UNREACH_NLRI, mp_unreach, sizeof(mp_unreach));
	}
	bgp_hdr_finish(wb, start);
}
