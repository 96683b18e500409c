/*
 * Configuration: the data model, the Quagga/FRR-style parser and the
 * canonical printer.
 *
 * The parser reads the whole file into a fresh struct config; on any
 * error it frees what it built and reports "FILE:LINE: message", so a
 * bad file never changes the running configuration.  The printer writes
 * the canonical text; parse(print(c)) prints the same text again (a
 * fixed point), which is what "evpnd -n" shows.
 *
 * The model holds plain values only; the parts that act on them (bgpd,
 * evpn, ipam) read it.  Lists keep file order so the printer can follow
 * it where order matters, and sort where it does not.
 */
#ifndef CONF_CONF_H
#define CONF_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/addr.h"
#include "common/log.h"
#include "common/queue.h"

#define BGP_PORT		179
#define CONF_DEFAULT_KEEPALIVE	60
#define CONF_DEFAULT_HOLDTIME	180
#define CONF_DEFAULT_CONNECT_RETRY 5
#define CONF_DEFAULT_VXLAN_PORT	4789	/* IANA VXLAN, RFC 7348 §5 */
#define CONF_DEFAULT_DAD_MAX_MOVES 5
#define CONF_DEFAULT_DAD_TIME	180
/* Learned MACs one VNI may advertise (see the vxlan block's mac-limit):
 * above any real segment (a /18 of hosts), far below what a host
 * spraying random source MACs would make every VTEP of the fabric
 * hold.  0 in the config means no limit. */
#define CONF_DEFAULT_MAC_LIMIT	10000
#define CONF_MAX_MAC_LIMIT	16000000
/* After a restart, kernel entries of the last run that nobody
 * re-announced are swept once every peer sent End-of-RIB, or this many
 * seconds after the start at the latest. */
#define CONF_DEFAULT_RIB_STALE_TIME 120
#define CONF_DEFAULT_LOG_LEVEL	LOG_INFO
#define CONF_TCP_MD5_MAXKEYLEN	80	/* Linux TCP_MD5SIG_MAXKEYLEN */
#define CONF_DEFAULT_CONV_SAMPLE 16	/* 1 in N type-2 routes stamped */
#define CONF_DEFAULT_MAXPFX_THRESHOLD 75	/* percent, as FRR */

/*
 * Address families a neighbor can activate.  Nothing is active by
 * default (FRR's "no bgp default ipv4-unicast"): af_active holds exactly
 * what "neighbor X activate" said in each address-family block.
 */
#define CONF_AF_IPV4_UNICAST	0x01
#define CONF_AF_IPV6_UNICAST	0x02
#define CONF_AF_L2VPN_EVPN	0x04
#define CONF_AF_COUNT		3	/* per-family arrays: conf_af_index() */

/*
 * "neighbor X maximum-prefix N [THRESHOLD] [warning-only|restart MIN]"
 * in an address-family block, FRR's syntax: more than max accepted
 * prefixes of the family end the session with Cease/Maximum Number of
 * Prefixes Reached (RFC 4486 §4), which then stays down for restart
 * minutes, or until "clear bgp" when restart is 0.  threshold percent
 * of max logs a warning; warning-only logs and keeps the session.
 */
struct conf_max_prefix {
	uint32_t	 max;			/* 0 = no limit */
	uint8_t		 threshold;		/* percent, 1..100 */
	bool		 warning_only;
	uint16_t	 restart;		/* minutes; 0 = never */
};

struct conf_neighbor {
	TAILQ_ENTRY(conf_neighbor) entry;
	struct ipaddr	 addr;
	uint32_t	 remote_as;
	char		*description;
	struct ipaddr	 update_source;		/* af 0 = not set */
	char		*password;		/* TCP MD5, RFC 2385 */
	bool		 has_timers;
	uint16_t	 keepalive;		/* seconds */
	uint16_t	 holdtime;		/* seconds, 0 or >= 3 */
	uint16_t	 connect_retry;		/* seconds, "timers connect N" */
	uint16_t	 port;			/* remote port, default 179 */
	bool		 shutdown;
	bool		 passive;		/* never connect, only accept */
	uint8_t		 ebgp_multihop;		/* 0 = not set */
	uint8_t		 af_active;		/* CONF_AF_* activated */
	/* CONF_AF_* in which "neighbor X route-reflector-client" was
	 * given: the neighbor is a client for those families only. */
	uint8_t		 af_rr_client;
	struct conf_max_prefix max_prefix[CONF_AF_COUNT];
	/* "timers send-hold S" (RFC 9687): 0 turns the Send Hold Timer
	 * off; unset, bgpd uses the RFC's default. */
	bool		 has_send_hold;
	uint16_t	 send_hold;		/* seconds */
};
TAILQ_HEAD(conf_neighbor_list, conf_neighbor);

struct conf_rt {
	TAILQ_ENTRY(conf_rt) entry;
	struct rt	 rt;
};
TAILQ_HEAD(conf_rt_list, conf_rt);

/* "vni N" block under address-family l2vpn evpn. */
struct conf_evpn_vni {
	TAILQ_ENTRY(conf_evpn_vni) entry;
	uint32_t	 vni;
	bool		 has_rd;
	struct rd	 rd;
	struct conf_rt_list rt_import;
	struct conf_rt_list rt_export;
};
TAILQ_HEAD(conf_evpn_vni_list, conf_evpn_vni);

/* Duplicate address detection, FRR defaults: 5 moves in 180 s. */
struct conf_dad {
	bool		 enabled;
	uint32_t	 max_moves;
	uint32_t	 time;		/* seconds */
	uint32_t	 freeze;	/* seconds; 0 = no freeze */
	bool		 freeze_permanent;
};

struct conf_prefix {
	TAILQ_ENTRY(conf_prefix) entry;
	struct prefix	 prefix;
};
TAILQ_HEAD(conf_prefix_list, conf_prefix);

/* "router bgp ASN" (vrf_name NULL) or "router bgp ASN vrf NAME". */
struct conf_bgp {
	TAILQ_ENTRY(conf_bgp) entry;
	uint32_t	 asn;
	char		*vrf_name;		/* NULL for the default instance */
	bool		 has_router_id;
	struct ipaddr	 router_id;		/* IPv4 */
	struct ipaddr	 listen_addr;		/* af 0 = any */
	uint16_t	 listen_port;		/* default 179; 0 = do not listen */
	uint32_t	 cluster_id;		/* 0 = router-id */
	/* bgp graceful-restart: restart without a NOTIFICATION and claim
	 * preserved forwarding state, so helpers keep our routes (RFC 4724) */
	bool		 graceful_restart;
	/* bgp graceful-restart rib-stale-time: the latest sweep of kernel
	 * entries kept from before a restart, in seconds */
	uint16_t	 rib_stale_time;
	struct conf_neighbor_list neighbors;
	/* address-family l2vpn evpn */
	bool		 advertise_all_vni;
	bool		 advertise_ipv4;	/* vrf instance: type-5 */
	bool		 advertise_ipv6;
	struct conf_evpn_vni_list evpn_vnis;
	struct conf_dad	 dad;
	/* convergence-sample N: stamp 1 in N new type-2 routes per VNI
	 * (and every pre-allocation's) with their origination time;
	 * 0 = "no convergence-sample" */
	uint32_t	 conv_sample;
	/* address-family ipv4|ipv6 unicast: network statements */
	struct conf_prefix_list networks;
};
TAILQ_HEAD(conf_bgp_list, conf_bgp);

struct conf_static_mac {
	TAILQ_ENTRY(conf_static_mac) entry;
	struct macaddr	 mac;
	struct ipaddr	 ip;			/* af 0 = MAC only */
	bool		 sticky;
};
TAILQ_HEAD(conf_static_mac_list, conf_static_mac);

struct conf_vxlan {
	TAILQ_ENTRY(conf_vxlan) entry;
	char		*name;			/* the VXLAN device */
	uint32_t	 vni;
	char		*bridge;
	struct ipaddr	 local_ip;		/* local-tunnel-ip */
	uint16_t	 dstport;		/* default 4789 */
	uint16_t	 mtu;			/* 0 = kernel default */
	bool		 arp_suppression;
	char		*svi_vrf;		/* the bridge routes in this vrf */
	uint32_t	 mac_limit;		/* learned MACs; 0 = no limit */
	struct conf_static_mac_list static_macs;
};
TAILQ_HEAD(conf_vxlan_list, conf_vxlan);

struct conf_vrf {
	TAILQ_ENTRY(conf_vrf) entry;
	char		*name;
	uint32_t	 vni;			/* L3 VNI; 0 = none */
	uint32_t	 table;
	bool		 has_router_mac;
	struct macaddr	 router_mac;
};
TAILQ_HEAD(conf_vrf_list, conf_vrf);

/*
 * "ipam pool NAME" (the IPAM issue) and its "shadow" block (the shadow
 * inventory issue).  Fractions are fixed point in millionths so that
 * printing is exact: confidence 0.9 is 900000.
 */
#define CONF_IPAM_NAME_MAX	63
#define CONF_IPAM_MAC_PREFIX_MAX 5
#define CONF_IPAM_DEFAULT_QUARANTINE 30
#define CONF_MICRO		1000000ULL
#define CONF_SHADOW_DEFAULT_HORIZON 300
#define CONF_SHADOW_DEFAULT_CONFIDENCE 900000	/* 0.9 */
#define CONF_SHADOW_DEFAULT_MIN_WARM 0
#define CONF_SHADOW_DEFAULT_MAX_WARM 64
#define CONF_SHADOW_DEFAULT_MAX_FRACTION 50000	/* 0.05 */
#define CONF_SHADOW_DEFAULT_WASTAGE 1000000	/* 1 */
#define CONF_SHADOW_DEFAULT_DELAY 100000000	/* 100 */
#define CONF_SHADOW_DEFAULT_LEAD_TIME 1000	/* ms, until measured */

struct conf_ipam_range {
	TAILQ_ENTRY(conf_ipam_range) entry;
	struct ipaddr	 lo;
	struct ipaddr	 hi;			/* == lo for one address */
};
TAILQ_HEAD(conf_ipam_range_list, conf_ipam_range);

struct conf_ipam_reserve {
	TAILQ_ENTRY(conf_ipam_reserve) entry;
	struct ipaddr	 ip;
	char		*name;
};
TAILQ_HEAD(conf_ipam_reserve_list, conf_ipam_reserve);

/* scope local: this VTEP's own pool; scope fabric: one pool shared by
 * every VTEP that configures it, blocks coordinated in the datastore. */
enum conf_ipam_scope {
	CONF_IPAM_SCOPE_LOCAL,
	CONF_IPAM_SCOPE_FABRIC,
};
#define CONF_IPAM_DEFAULT_BLOCK_SIZE	26	/* IPv4: 64 addresses */
#define CONF_IPAM_BLOCK_SIZE_MIN	16
#define CONF_IPAM_BLOCK_SIZE_MAX	30
#define CONF_IPAM_DEFAULT_IDLE_RELEASE	600	/* seconds */

enum conf_shadow_mode {
	CONF_SHADOW_ACTIVE,
	CONF_SHADOW_OBSERVE,
};

/* The forecast the decision uses (the engine's models, same order). */
enum conf_shadow_model {
	CONF_SHADOW_MODEL_HOLT,
	CONF_SHADOW_MODEL_KALMAN,
	CONF_SHADOW_MODEL_CHURN,
	CONF_SHADOW_MODEL_ENSEMBLE,
};
#define CONF_SHADOW_NMODELS	4
#define CONF_SHADOW_DEFAULT_MODEL CONF_SHADOW_MODEL_ENSEMBLE
extern const char *const conf_shadow_model_names[CONF_SHADOW_NMODELS];
#define CONF_SHADOW_JITTER_MAX	500000	/* 0.5 of the lead */
/* group-by: the label keys that name an allocation's group, first
 * present wins (a label key: 1..63 of [A-Za-z0-9._/-]). */
#define CONF_SHADOW_GROUP_KEYS	4
#define CONF_SHADOW_GROUP_KEY_MAX 63

struct conf_ipam_shadow {
	uint32_t	 horizon;		/* seconds */
	uint32_t	 confidence;		/* millionths, (0, 1) */
	uint32_t	 min_warm;
	uint32_t	 max_warm;
	uint32_t	 max_pool_fraction;	/* millionths, [0, 1] */
	uint64_t	 cost_wastage;		/* millionths */
	uint64_t	 cost_delay;		/* millionths */
	enum conf_shadow_mode mode;
	/* ms a pre-allocation's route takes to converge until measured
	 * convergence has samples (lead-time MS) */
	uint32_t	 lead_time;
	bool		 adapt;			/* policy learning (on) */
	uint32_t	 jitter;		/* millionths of the lead (0) */
	enum conf_shadow_model model;		/* ensemble */
	char		 group_by[CONF_SHADOW_GROUP_KEYS]
			    [CONF_SHADOW_GROUP_KEY_MAX + 1];	/* job app */
	uint8_t		 ngroup_by;		/* 0: group-by none */
};
/* The default group-by keys (job, app) set in sh; true when sh has
 * them. */
void		 conf_shadow_group_by_default(struct conf_ipam_shadow *);
bool		 conf_shadow_group_by_is_default(
		    const struct conf_ipam_shadow *);

/*
 * "dns zone ZONE server ADDR tsig ALG NAME SECRET [reverse] [ttl N]" and
 * "dns name-template TEMPLATE" in an ipam pool: allocations named by a
 * dns-name label or by the template get A/AAAA records in ZONE (and PTR
 * records with reverse) through dynamic updates (RFC 2136) signed with
 * TSIG (RFC 8945).  tsig_secret is a secret (base64 as in knot.conf or
 * named.conf): never logged, redacted when the config is shown.
 * Template placeholders: {resource} {pool} {ip} {label:KEY}.
 */
#define CONF_DNS_NAME_MAX	253	/* RFC 1035 §2.3.4, without the dot */
#define CONF_DNS_SECRET_MAX	512	/* base64 characters */
#define CONF_DNS_DEFAULT_TTL	60
#define CONF_DNS_MAX_TTL	86400

struct conf_ipam_dns {
	char		*zone;			/* NULL = no DNS registration */
	struct ipaddr	 server;
	char		*tsig_alg;		/* hmac-sha256, ... */
	char		*tsig_name;
	char		*tsig_secret;		/* a secret */
	bool		 reverse;		/* PTR records too */
	uint32_t	 ttl;
	char		*name_template;		/* NULL: dns-name labels only */
};

struct conf_ipam_pool {
	TAILQ_ENTRY(conf_ipam_pool) entry;
	unsigned	 line;			/* of "ipam pool NAME" */
	char		*name;
	char		*tenant;		/* NULL = the default tenant */
	uint32_t	 vni;			/* 0 = none */
	struct conf_prefix_list prefixes;	/* file order */
	struct ipaddr	 gateway4;		/* af 0 = none */
	struct ipaddr	 gateway6;
	struct conf_ipam_range_list excludes;
	struct conf_ipam_reserve_list reserves;
	uint32_t	 quarantine;		/* seconds */
	uint8_t		 mac_prefix[CONF_IPAM_MAC_PREFIX_MAX];
	uint8_t		 mac_prefix_len;	/* 0 = not set */
	bool		 has_shadow;
	struct conf_ipam_shadow shadow;
	struct conf_ipam_dns dns;
	/* fabric-wide pools (the fabric IPAM issue) */
	enum conf_ipam_scope scope;
	uint8_t		 block_size;		/* IPv4 block prefix length */
	bool		 borrow;
	uint32_t	 block_idle_release;	/* seconds; 0 = never */
	bool		 fabric_set;		/* any of the three given */
};
TAILQ_HEAD(conf_ipam_pool_list, conf_ipam_pool);

/*
 * "ipam datastore etcd": where fabric pools keep block ownership.  An
 * endpoint is "http://HOST:PORT" or "https://HOST:PORT" (IPv6 as
 * [ADDR]); https needs "tls ... ca FILE".  tls cert and key go
 * together.
 */
#define CONF_DATASTORE_ENDPOINTS_MAX	16
#define CONF_DATASTORE_URL_MAX		128
#define CONF_DATASTORE_PREFIX_MAX	128
#define CONF_DATASTORE_DEFAULT_PREFIX	"/evpnd"

struct conf_ipam_datastore {
	bool		 enabled;
	char		*endpoints[CONF_DATASTORE_ENDPOINTS_MAX];
	size_t		 nendpoints;
	char		*key_prefix;		/* NULL = the default */
	char		*tls_cert;
	char		*tls_key;
	char		*tls_ca;
};

/* "api listen ADDR PORT tls cert FILE key FILE client-ca FILE [crl FILE]" */
struct conf_api_listen {
	bool		 enabled;
	struct ipaddr	 addr;
	uint16_t	 port;
	char		*cert;
	char		*key;
	char		*client_ca;
	char		*crl;			/* NULL = no revocation list */
};

/*
 * "api client NAME role ROLE [tenant T ...]": what a TLS client whose
 * certificate names NAME (subject CN or SAN DNS name) may do.  read sees
 * its tenants' pools and the BGP/EVPN views; allocate also allocates,
 * releases and posts intents in them; admin does everything (and sees
 * every tenant).  Tenant "*" is every tenant, pools without one too.
 */
#define CONF_API_CLIENT_NAME_MAX 253		/* a DNS name */

enum conf_api_role {
	CONF_API_READ,
	CONF_API_ALLOCATE,
	CONF_API_ADMIN,
};

struct conf_api_client {
	TAILQ_ENTRY(conf_api_client) entry;
	char		*name;
	enum conf_api_role role;
	char		**tenants;
	size_t		 ntenants;
};
TAILQ_HEAD(conf_api_client_list, conf_api_client);

/*
 * "telemetry": traffic as a leading signal for the shadow inventory
 * (the shadow inventory issue, item 6).
 *
 *   telemetry
 *    flow-collector port PORT [address ADDR] [sampling N]
 *    flow-exporter PREFIX
 *    sample bridge NAME rate N
 *    rate-window SECONDS
 *   exit-telemetry
 *
 * flow-collector: IPFIX (RFC 7011) / NetFlow v9 (RFC 3954) over UDP on
 * PORT (all addresses when none is given); sampling N says the
 * exporter counts 1 in N packets, so its counts are scaled by N (unless
 * the exporter announces its own rate in options data, which wins).
 * flow-exporter (repeatable): datagrams are taken only from a source
 * in one of these prefixes; others are dropped before decoding and
 * counted.  Without any, every source is taken and the daemon warns at
 * start: anyone who reaches the port could inflate a pool's traffic.
 * sample bridge: every ARP request and ND solicitation on NAME, and 1
 * in N of its other frames (rate 0: only those requests).  rate-window:
 * the traffic rate is what arrived over the last SECONDS (at least the
 * exporter's active timeout, or a flow's packets come as a spike).
 */
#define CONF_TELEMETRY_DEFAULT_WINDOW	10	/* seconds */
#define CONF_TELEMETRY_MAX_WINDOW	600
#define CONF_TELEMETRY_MAX_RATE		1000000	/* 1 in N, both kinds */
#define CONF_TELEMETRY_MAX_SAMPLERS	64
#define CONF_TELEMETRY_MAX_EXPORTERS	64

struct conf_telemetry_sampler {
	TAILQ_ENTRY(conf_telemetry_sampler) entry;
	char		*bridge;
	uint32_t	 rate;			/* 1 in rate; 0 = ARP/ND only */
};
TAILQ_HEAD(conf_telemetry_sampler_list, conf_telemetry_sampler);

struct conf_telemetry {
	bool		 enabled;		/* the block is there */
	bool		 has_collector;
	struct ipaddr	 collector_addr;	/* af 0 = every address */
	uint16_t	 collector_port;
	uint32_t	 collector_sampling;	/* exporter's 1 in N; 1 = all */
	struct prefix	 exporters[CONF_TELEMETRY_MAX_EXPORTERS];
	uint8_t		 nexporters;		/* 0: any source */
	uint32_t	 rate_window;		/* seconds */
	struct conf_telemetry_sampler_list samplers;	/* file order */
};

struct config {
	char		*hostname;
	enum log_dest	 log_dest;
	char		*log_file;
	int		 log_level;		/* syslog level */
	struct conf_bgp_list bgps;		/* default instance first */
	struct conf_vxlan_list vxlans;
	struct conf_vrf_list vrfs;
	struct conf_ipam_pool_list ipam_pools;
	struct conf_ipam_datastore ipam_datastore;
	struct conf_api_listen api_listen;
	struct conf_api_client_list api_clients;	/* file order */
	struct conf_telemetry telemetry;
};

/* Parse; on error returns NULL and writes "FILE:LINE: message" to err. */
struct config	*conf_parse_file(const char *path, char *err, size_t errlen);
/* Same on a string; name is used in error messages in place of FILE. */
struct config	*conf_parse_string(const char *text, const char *name,
		    char *err, size_t errlen);
void		 conf_free(struct config *);
/* Canonical text, secrets included (evpnd -n, the golden files). */
void		 conf_print(FILE *, const struct config *);
char		*conf_print_string(const struct config *);	/* malloc'd */
/*
 * The same with CONF_PRINT_REDACT: every secret (a neighbor's TCP MD5
 * password, a pool's TSIG secret) printed as CONF_REDACTED, for showing
 * the running config.
 */
#define CONF_PRINT_REDACT	0x01
#define CONF_REDACTED		"<redacted>"
void		 conf_print_flags(FILE *, const struct config *, int flags);
char		*conf_print_string_flags(const struct config *, int flags);

/* Lookups used by the parts that apply a config. */
struct conf_bgp	*conf_bgp_default(const struct config *);
struct conf_bgp	*conf_bgp_vrf(const struct config *, const char *vrf);
struct conf_neighbor *conf_neighbor_find(const struct conf_bgp *,
		    const struct ipaddr *);
struct conf_vrf	*conf_vrf_find(const struct config *, const char *name);
struct conf_vrf	*conf_vrf_by_vni(const struct config *, uint32_t vni);
struct conf_vxlan *conf_vxlan_by_vni(const struct config *, uint32_t vni);
struct conf_ipam_pool *conf_ipam_pool_find(const struct config *,
		    const char *name);
const struct conf_api_client *conf_api_client_find(const struct config *,
		    const char *name);
bool		 conf_api_client_has_tenant(const struct conf_api_client *,
		    const char *tenant);
/* May the client see pools of tenant (NULL: a pool without tenant)? */
bool		 conf_api_client_sees(const struct conf_api_client *,
		    const char *tenant);
const char	*conf_api_role_name(enum conf_api_role);
/* The pool block alone, as the printer writes it; malloc'd.  With
 * redact the TSIG secret is written as CONF_REDACTED. */
char		*conf_ipam_pool_text(const struct conf_ipam_pool *,
		    bool redact);
void		 conf_ipam_datastore_clear(struct conf_ipam_datastore *);
void		 conf_telemetry_clear(struct conf_telemetry *);
/* The sampler of bridge in t; NULL when there is none. */
const struct conf_telemetry_sampler *conf_telemetry_sampler_find(
		    const struct conf_telemetry *, const char *bridge);
/* The datastore's key prefix, the default when not configured. */
const char	*conf_datastore_prefix(const struct config *);
/* Millionths as the shortest exact decimal: 900000 -> "0.9". */
const char	*conf_fmt_micro(uint64_t, char *, size_t);
/* Effective timers of a neighbor (its own, else defaults). */
uint16_t	 conf_neighbor_holdtime(const struct conf_neighbor *);
uint16_t	 conf_neighbor_keepalive(const struct conf_neighbor *);
/* The index of a CONF_AF_* bit in per-family arrays (0 .. CONF_AF_COUNT-1). */
int		 conf_af_index(uint8_t af);
/* True when the session-relevant settings of two neighbors differ
 * (AS, source, password, timers, port, passive, address families):
 * a reload must reset the session then, and only then. */
bool		 conf_neighbor_session_differs(const struct conf_neighbor *,
		    const struct conf_neighbor *);

#endif
