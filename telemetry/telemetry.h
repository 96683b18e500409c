/*
 * Traffic telemetry: decoders for flow export (IPFIX, NetFlow v9) and
 * for packets sampled on a bridge, and the sockets that receive them.
 *
 * Dependencies: telemetry/ uses only common/.  It knows nothing of
 * IPAM or EVPN: it turns datagrams and frames into flow records and
 * packet samples; the daemon maps those onto pools and VNIs.
 *
 * How this works:
 *
 * Flow export.  An exporter (softflowd, a switch) sends UDP datagrams.
 * IPFIX (RFC 7011) and NetFlow v9 (RFC 3954) share one shape: a
 * message header, then sets of records; a template set defines, per
 * template id, the list of (information element, length) of the data
 * records that follow in data sets with that id.  Templates are state
 * kept per (exporter, observation domain / source id, template id) in a
 * bounded cache (struct flow_decoder); data sets whose template is not
 * known yet are skipped and counted, as RFC 7011 §8 allows.  Every
 * field comes out of the message through common/buf.h's reader, one set
 * sliced at a time, so a lying length cannot reach past its set.  Of
 * each data record the decoder keeps what the daemon uses (addresses,
 * ports, protocol, octet and packet counts, MACs); other elements are
 * skipped by their length.  NetFlow v5 is not decoded.
 *
 * Exporter sampling.  Options template sets (RFC 7011 §3.4.2.2, RFC
 * 3954 §6.1) are learned like templates; of options data the decoder
 * keeps only a sampling rate: samplingInterval (NetFlow v9
 * SAMPLING_INTERVAL, 34), samplerRandomInterval (50), or PSAMP's
 * (RFC 5477: packet interval and space 305/306, size and population
 * 309/310, probability 311), whichever comes first in that order.  It
 * holds for the exporter and observation domain (per-sampler scopes
 * are not told apart), in a bounded table like the templates, and the
 * data records decoded after it carry it (flow_record.sampling); the
 * daemon falls back to its configured rate while it is 0.
 *
 * Packet samples.  A packet socket on a bridge with a classic BPF
 * program takes every ARP request and IPv6 neighbour solicitation and
 * 1 in N of all other frames (SKF_AD_RANDOM, so the sampling happens
 * in the kernel).  pkt_decode() reads the Ethernet header (one 802.1Q
 * tag allowed) and returns the kind of frame, its addresses and length.
 */
#ifndef TELEMETRY_TELEMETRY_H
#define TELEMETRY_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

struct event_base;

/* ---- flow export (flow.c) ------------------------------------------- */

#define FLOW_MAX_TEMPLATES	256	/* per decoder, over all exporters */
#define FLOW_MAX_FIELDS		64	/* per template */
#define FLOW_MAX_SAMPLING_DOMAINS 64	/* exporter sampling rates kept */
#define FLOW_MAX_SAMPLING	1000000	/* 1 in N beyond this: ignored */

/* One data record, reduced to what evpnd uses. */
struct flow_record {
	uint16_t	 version;	/* 9 or 10 */
	uint32_t	 domain;	/* observation domain / source id */
	struct ipaddr	 src, dst;	/* af 0 when absent */
	uint16_t	 sport, dport;
	uint8_t		 proto;
	uint64_t	 octets, packets;
	struct macaddr	 src_mac, dst_mac;
	bool		 has_src_mac, has_dst_mac;
	uint32_t	 sampling;	/* 1 in N, as the exporter's options
					 * data said; 0: not said */
};

struct flow_stats {
	uint64_t	 messages;
	uint64_t	 records;
	uint64_t	 templates;	/* template records learned */
	uint64_t	 options_records;	/* options data records */
	uint64_t	 sampling_rates;	/* of them naming a rate */
	uint64_t	 unknown_sets;	/* data sets of no known template */
	uint64_t	 malformed;	/* messages refused */
	uint64_t	 evicted;	/* templates dropped at the cap */
	uint64_t	 refused;	/* datagrams of no allowed exporter
					 * (the collector's count) */
};

typedef void	 flow_record_cb(void *arg, const struct flow_record *);

struct flow_decoder;

struct flow_decoder *flow_decoder_new(void);
void		 flow_decoder_free(struct flow_decoder *);
/*
 * Decode one datagram from exporter: learn its templates, call cb for
 * each data record.  -1 with err filled when the message is malformed
 * (records of sets before the bad one have been delivered).
 */
int		 flow_decode(struct flow_decoder *, const struct ipaddr *exporter,
		    const uint8_t *, size_t, flow_record_cb *, void *arg,
		    char *err, size_t errlen);
void		 flow_decoder_stats(const struct flow_decoder *,
		    struct flow_stats *);

/* ---- packet samples (pkt.c) ----------------------------------------- */

enum pkt_kind {
	PKT_OTHER,		/* not IP, ARP or ND */
	PKT_ARP_REQUEST,	/* who-has target, asked by sender */
	PKT_ND_SOLICIT,		/* IPv6 neighbour solicitation for target */
	PKT_IPV4,
	PKT_IPV6,
};

struct pkt_sample {
	enum pkt_kind	 kind;
	struct macaddr	 src_mac, dst_mac;
	uint16_t	 vlan;		/* 0: untagged */
	struct ipaddr	 src, dst;	/* IP: the header's; ARP/ND: sender
					 * (may be unset) and target */
	uint32_t	 length;	/* frame length */
};

/* -1 when the frame is too short or malformed for its kind. */
int		 pkt_decode(const uint8_t *, size_t, struct pkt_sample *);

/* ---- sockets (collector.c) ------------------------------------------ */

struct flow_collector;
/* Listen for flow export on addr:port (UDP), records to cb. */
struct flow_collector *flow_collector_new(struct event_base *,
		    const struct ipaddr *addr, uint16_t port, flow_record_cb *,
		    void *arg, char *err, size_t errlen);
void		 flow_collector_free(struct flow_collector *);
/*
 * Take datagrams only from sources in one of the n prefixes (copied);
 * n 0: from any source.  The others are dropped before decoding and
 * counted as refused.
 */
void		 flow_collector_allow(struct flow_collector *,
		    const struct prefix *, size_t n);
/* The decoder's counts and the collector's refused ones. */
void		 flow_collector_stats(const struct flow_collector *,
		    struct flow_stats *);
/* The port bound (useful when port 0 asked for any). */
uint16_t	 flow_collector_port(const struct flow_collector *);

typedef void	 pkt_sample_cb(void *arg, const char *ifname,
		    const struct pkt_sample *);
struct pkt_sampler;
/*
 * Sample the frames of interface ifname: every ARP request and ND
 * solicitation, and one in rate of the rest (rate 0: none of the
 * rest).  -1 without CAP_NET_RAW.
 */
struct pkt_sampler *pkt_sampler_new(struct event_base *, const char *ifname,
		    uint32_t rate, pkt_sample_cb *, void *arg, char *err,
		    size_t errlen);
void		 pkt_sampler_free(struct pkt_sampler *);
uint64_t	 pkt_sampler_count(const struct pkt_sampler *);

#endif
