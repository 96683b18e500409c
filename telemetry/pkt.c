/*
 * Sampled frames: Ethernet (one 802.1Q tag), then ARP (RFC 826), IPv4,
 * or IPv6 with an ICMPv6 neighbour solicitation (RFC 4861 §4.3) right
 * after the fixed header.  See telemetry.h.
 */
#include "telemetry/telemetry.h"

#include <string.h>
#include <sys/socket.h>

#include "common/buf.h"

#define ETH_TYPE_IPV4		0x0800
#define ETH_TYPE_ARP		0x0806
#define ETH_TYPE_VLAN		0x8100
#define ETH_TYPE_IPV6		0x86dd
#define ARP_HTYPE_ETHER		1
#define ARP_OP_REQUEST		1
#define IPV6_NEXT_ICMPV6	58
#define ICMPV6_NS		135

static int
ip_read(struct rbuf *rb, int af, struct ipaddr *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->af = (uint8_t)af;
	return rbuf_get_bytes(rb, ip->u.b, af == AF_INET ? 4 : 16);
}

static int
arp_decode(struct rbuf *rb, struct pkt_sample *s)
{
	uint16_t	 htype, ptype, op;
	uint8_t		 hlen, plen;

	if (rbuf_get_u16(rb, &htype) == -1 || rbuf_get_u16(rb, &ptype) == -1 ||
	    rbuf_get_u8(rb, &hlen) == -1 || rbuf_get_u8(rb, &plen) == -1 ||
	    rbuf_get_u16(rb, &op) == -1)
		return -1;
	if (htype != ARP_HTYPE_ETHER || ptype != ETH_TYPE_IPV4 || hlen != 6 ||
	    plen != 4)
		return -1;
	if (op != ARP_OP_REQUEST)
		return 0;		/* a reply: PKT_OTHER */
	/* sender MAC, sender IP, target MAC, target IP */
	if (rbuf_skip(rb, 6) == -1 || ip_read(rb, AF_INET, &s->src) == -1 ||
	    rbuf_skip(rb, 6) == -1 || ip_read(rb, AF_INET, &s->dst) == -1)
		return -1;
	s->kind = PKT_ARP_REQUEST;
	return 0;
}

static int
ipv4_decode(struct rbuf *rb, struct pkt_sample *s)
{
	uint8_t		 vihl;

	/* version/IHL, TOS, length, id, fragment, TTL, protocol, checksum */
	if (rbuf_get_u8(rb, &vihl) == -1 || (vihl >> 4) != 4 ||
	    rbuf_skip(rb, 11) == -1 || ip_read(rb, AF_INET, &s->src) == -1 ||
	    ip_read(rb, AF_INET, &s->dst) == -1)
		return -1;
	s->kind = PKT_IPV4;
	return 0;
}

static int
ipv6_decode(struct rbuf *rb, struct pkt_sample *s)
{
	uint8_t		 vtc, next, type;

	/* version/class/flow label (4), payload length (2), next header,
	 * hop limit, source, destination */
	if (rbuf_get_u8(rb, &vtc) == -1 || (vtc >> 4) != 6 ||
	    rbuf_skip(rb, 5) == -1 || rbuf_get_u8(rb, &next) == -1 ||
	    rbuf_skip(rb, 1) == -1 || ip_read(rb, AF_INET6, &s->src) == -1 ||
	    ip_read(rb, AF_INET6, &s->dst) == -1)
		return -1;
	s->kind = PKT_IPV6;
	if (next != IPV6_NEXT_ICMPV6 || rbuf_get_u8(rb, &type) == -1 ||
	    type != ICMPV6_NS)
		return 0;
	/* code, checksum, reserved, then the target address */
	if (rbuf_skip(rb, 7) == -1 || ip_read(rb, AF_INET6, &s->dst) == -1)
		return -1;
	s->kind = PKT_ND_SOLICIT;
	return 0;
}

int
pkt_decode(const uint8_t *data, size_t len, struct pkt_sample *s)
{
	struct rbuf	 rb;
	uint16_t	 type, tci;

	memset(s, 0, sizeof(*s));
	s->length = (uint32_t)len;
	rbuf_init(&rb, data, len);
	if (rbuf_get_bytes(&rb, s->dst_mac.b, 6) == -1 ||
	    rbuf_get_bytes(&rb, s->src_mac.b, 6) == -1 ||
	    rbuf_get_u16(&rb, &type) == -1)
		return -1;
	if (type == ETH_TYPE_VLAN) {
		if (rbuf_get_u16(&rb, &tci) == -1 ||
		    rbuf_get_u16(&rb, &type) == -1)
			return -1;
		s->vlan = tci & 0x0fff;
	}
	switch (type) {
	case ETH_TYPE_ARP:
		return arp_decode(&rb, s);
	case ETH_TYPE_IPV4:
		return ipv4_decode(&rb, s);
	case ETH_TYPE_IPV6:
		return ipv6_decode(&rb, s);
	default:
		return 0;
	}
}
