/*
 * BGP capabilities (RFC 5492) and address-family identifiers.
 *
 * How this works: an OPEN carries optional parameters; a parameter of
 * type 2 holds one or more capabilities, each <code, length, value>.
 * bgp_caps_decode() walks one such parameter value with the rbuf reader
 * and fills struct bgp_caps; a capability whose length does not fit its
 * parameter, or whose length is wrong for its code, is a malformed OPEN.
 * Codes we do not know are remembered for logging and otherwise ignored
 * (RFC 5492 §3).  bgp_caps_encode() writes our capabilities back, one
 * optional parameter per capability, which is the layout FRR 8.4 sends
 * (see tests/fixtures/frr84_open_evpn.hex).
 *
 * The per-family state everywhere in bgpd is indexed by a compact "aid"
 * (enum bgp_aid) rather than by the sparse AFI/SAFI numbers; the family
 * table of bgp_af.h maps one to the other, so a capability for a family
 * without a row is not negotiated.
 */
#include "bgpd/bgp_msg.h"

#include <string.h>

#include "common/util.h"

/* RFC 4760 §8: <AFI(2), reserved(1), SAFI(1)>. */
static int
caps_decode_mp(struct rbuf *val, struct bgp_caps *caps)
{
	uint16_t afi;
	uint8_t reserved, safi;
	int aid;

	if (rbuf_left(val) != 4 || rbuf_get_u16(val, &afi) == -1 ||
	    rbuf_get_u8(val, &reserved) == -1 || rbuf_get_u8(val, &safi) == -1)
		return -1;
	/* Families we do not support are simply not negotiated. */
	if ((aid = bgp_aid_from_afi_safi(afi, safi)) != -1)
		caps->mp[aid] = true;
	return 0;
}

/*
 * RFC 4724 §3: restart flags (4 bits) and restart time (12 bits), then
 * <AFI(2), SAFI(1), flags(1)> per family.
 */
static int
caps_decode_gr(struct rbuf *val, struct bgp_caps *caps)
{
	uint16_t hdr, afi;
	uint8_t safi, flags;
	int aid;

	if (rbuf_get_u16(val, &hdr) == -1 || rbuf_left(val) % 4 != 0)
		return -1;
	caps->gr = true;
	caps->gr_restarting = ((hdr >> 12) & BGP_GR_FLAG_RESTART) != 0;
	caps->gr_time = hdr & 0x0fff;
	memset(caps->gr_af, 0, sizeof(caps->gr_af));
	memset(caps->gr_af_forwarding, 0, sizeof(caps->gr_af_forwarding));
	while (rbuf_left(val) > 0) {
		if (rbuf_get_u16(val, &afi) == -1 ||
		    rbuf_get_u8(val, &safi) == -1 ||
		    rbuf_get_u8(val, &flags) == -1)
			return -1;
		if ((aid = bgp_aid_from_afi_safi(afi, safi)) == -1)
			continue;
		caps->gr_af[aid] = true;
		caps->gr_af_forwarding[aid] =
		    (flags & BGP_GR_AF_FORWARDING) != 0;
	}
	return 0;
}

static void
caps_note_unknown(struct bgp_caps *caps, uint8_t code)
{
	for (int i = 0; i < caps->n_unknown; i++)
		if (caps->unknown[i] == code)
			return;
	if (caps->n_unknown < nitems(caps->unknown))
		caps->unknown[caps->n_unknown++] = code;
}

/* One capability's value; -1 if its length is wrong for its code. */
static int
caps_decode_one(uint8_t code, struct rbuf *val, struct bgp_caps *caps)
{
	uint32_t asn;

	switch (code) {
	case BGP_CAPA_MP:
		return caps_decode_mp(val, caps);
	case BGP_CAPA_ROUTE_REFRESH:
	case BGP_CAPA_RR_OLD:
		caps->route_refresh = true;
		return 0;
	case BGP_CAPA_ENH_RR:
		caps->enhanced_rr = true;
		return 0;
	case BGP_CAPA_EXT_MSG:
		caps->ext_msg = true;
		return 0;
	case BGP_CAPA_GR:
		return caps_decode_gr(val, caps);
	case BGP_CAPA_AS4:
		if (rbuf_left(val) != 4 || rbuf_get_u32(val, &asn) == -1)
			return -1;
		caps->as4 = true;
		caps->as4_asn = asn;
		return 0;
	default:
		caps_note_unknown(caps, code);
		return 0;
	}
}

/*
 * Walk the value of one Capabilities optional parameter (RFC 5492 §4).
 * Errors are OPEN Message Error with subcode 0 (Unspecific): RFC 5492
 * defines no subcode for a malformed capability, and RFC 4271 §4.5 says
 * "If no appropriate Error Subcode is defined, then a zero (Unspecific)
 * value is used".  Subcode 4 would be wrong: the parameter type *is*
 * supported, its content is broken.  Flag-only capabilities (route
 * refresh, extended message) are accepted with any length: their value
 * carries nothing we read, and tearing a session down over it helps
 * no one.
 */
int
bgp_caps_decode(struct rbuf *param, struct bgp_caps *caps,
    struct bgp_notify *err)
{
	struct rbuf val;
	uint8_t code, len;

	while (rbuf_left(param) > 0) {
		if (rbuf_get_u8(param, &code) == -1 ||
		    rbuf_get_u8(param, &len) == -1 ||
		    rbuf_slice(param, len, &val) == -1 ||
		    caps_decode_one(code, &val, caps) == -1) {
			bgp_notify_set(err, BGP_ERR_OPEN, 0, NULL, 0);
			return -1;
		}
	}
	return 0;
}

/* Begin an optional parameter holding one capability; returns its start. */
static size_t
caps_begin(struct wbuf *wb, uint8_t code)
{
	size_t start = wb->len;

	wbuf_put_u8(wb, BGP_OPT_PARAM_CAPA);
	wbuf_put_u8(wb, 0);	/* parameter length, backfilled */
	wbuf_put_u8(wb, code);
	wbuf_put_u8(wb, 0);	/* capability length, backfilled */
	return start;
}

static void
caps_finish(struct wbuf *wb, size_t start)
{
	size_t plen = wb->len - start - 2;

	wbuf_set_u8(wb, start + 1, (uint8_t)plen);
	wbuf_set_u8(wb, start + 3, (uint8_t)(plen - 2));
}

static void
caps_encode_mp(struct wbuf *wb, int aid)
{
	uint16_t afi;
	uint8_t safi;
	size_t start;

	bgp_aid_to_afi_safi(aid, &afi, &safi);
	start = caps_begin(wb, BGP_CAPA_MP);
	wbuf_put_u16(wb, afi);
	wbuf_put_u8(wb, 0);
	wbuf_put_u8(wb, safi);
	caps_finish(wb, start);
}

static void
caps_encode_flag(struct wbuf *wb, uint8_t code)
{
	caps_finish(wb, caps_begin(wb, code));
}

static void
caps_encode_gr(struct wbuf *wb, const struct bgp_caps *caps)
{
	uint16_t hdr, afi;
	uint8_t safi;
	size_t start;

	start = caps_begin(wb, BGP_CAPA_GR);
	hdr = caps->gr_time & 0x0fff;
	if (caps->gr_restarting)
		hdr |= BGP_GR_FLAG_RESTART << 12;
	wbuf_put_u16(wb, hdr);
	for (int aid = 0; aid < BGP_AID_MAX; aid++) {
		if (!caps->gr_af[aid])
			continue;
		bgp_aid_to_afi_safi(aid, &afi, &safi);
		wbuf_put_u16(wb, afi);
		wbuf_put_u8(wb, safi);
		wbuf_put_u8(wb, caps->gr_af_forwarding[aid] ?
		    BGP_GR_AF_FORWARDING : 0);
	}
	caps_finish(wb, start);
}

/*
 * Write our capabilities as optional parameters, one per capability, in
 * the order FRR 8.4 uses (MP, route refresh old and new, enhanced route
 * refresh, AS4, extended message, graceful restart), so that captures of
 * the two speakers line up.  Everything we can send stays far below the
 * 255-byte optional parameters limit, so RFC 9072's extended form is
 * never needed on output.
 */
void
bgp_caps_encode(struct wbuf *wb, const struct bgp_caps *caps)
{
	size_t start;

	for (int aid = 0; aid < BGP_AID_MAX; aid++)
		if (caps->mp[aid])
			caps_encode_mp(wb, aid);
	if (caps->route_refresh) {
		caps_encode_flag(wb, BGP_CAPA_RR_OLD);
		caps_encode_flag(wb, BGP_CAPA_ROUTE_REFRESH);
	}
	if (caps->enhanced_rr)
		caps_encode_flag(wb, BGP_CAPA_ENH_RR);
	if (caps->as4) {
		start = caps_begin(wb, BGP_CAPA_AS4);
		wbuf_put_u32(wb, caps->as4_asn);
		caps_finish(wb, start);
	}
	if (caps->ext_msg)
		caps_encode_flag(wb, BGP_CAPA_EXT_MSG);
	if (caps->gr)
		caps_encode_gr(wb, caps);
}
