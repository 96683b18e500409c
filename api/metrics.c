/*
 * GET /metrics: Prometheus text exposition format 0.0.4.
 *
 * Each metric family is written as its HELP and TYPE lines followed by
 * all of its samples, so the peers are snapshotted once into an array
 * and walked once per family.  Label values are escaped as the format
 * requires (backslash, double quote, newline).
 *
 * evpnd_bgp_peer_state encodes the RFC 4271 §8.2.2 FSM state as a number,
 * the order OpenBGPD and FRR's exporters use:
 *   1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, 6 Established.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "bgpd/bgpd.h"
#include "common/latency.h"
#include "common/log.h"
#include "common/util.h"
#include "api/api.h"
#include "dataplane/dataplane.h"
#include "ipamd/ipamd.h"
#include "ipamd/shadowd.h"
#include "ipamd/trafficd.h"
#include "evpn/evpn.h"
#include "ipam/fabric.h"
#include "ipam/ipam.h"

struct peer_snap {
	char			 addr[IPADDR_STRLEN];
	struct bgp_peer_info	 info;
};

struct peer_set {
	struct peer_snap	*v;
	size_t			 n;
	size_t			 cap;
};

static const char *const msg_type_label[] = {
	[BGP_MSG_OPEN] = "open",
	[BGP_MSG_UPDATE] = "update",
	[BGP_MSG_NOTIFICATION] = "notification",
	[BGP_MSG_KEEPALIVE] = "keepalive",
	[BGP_MSG_ROUTE_REFRESH] = "route_refresh",
};

static void
peer_set_add(const struct bgp_peer_info *pi, void *arg)
{
	struct peer_set *set = arg;
	struct peer_snap *s;

	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 16;
		set->v = xrealloc(set->v, set->cap * sizeof(*set->v));
	}
	s = &set->v[set->n++];
	s->info = *pi;
	ipaddr_fmt(&pi->addr, s->addr, sizeof(s->addr));
}

/* Label value with \\, \" and \n escaped (format 0.0.4). */
static void
put_label_value(struct evbuffer *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			evbuffer_add(b, "\\\\", 2);
		else if (*v == '"')
			evbuffer_add(b, "\\\"", 2);
		else if (*v == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, v, 1);
	}
}

static void
put_family(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* A histogram family: cumulative counts at each bound (seconds), then
 * +Inf, sum and count. */
static void
put_histogram(struct evbuffer *b, const char *name, const char *help,
    const double *le, const uint64_t *cum, size_t n, uint64_t count,
    double sum)
{
	put_family(b, name, "histogram", help);
	for (size_t i = 0; i < n; i++)
		evbuffer_add_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name,
		    le[i], (unsigned long long)cum[i]);
	evbuffer_add_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.17g\n"
	    "%s_count %llu\n", name, (unsigned long long)count, name, sum,
	    name, (unsigned long long)count);
}

/* A family of one unlabelled sample. */
static void
put_single(struct evbuffer *b, const char *name, const char *type,
    const char *help, uint64_t value)
{
	put_family(b, name, type, help);
	evbuffer_add_printf(b, "%s %llu\n", name, (unsigned long long)value);
}

/* name{peer="ADDR"} value */
static void
put_peer_sample(struct evbuffer *b, const char *name, const char *peer,
    uint64_t value)
{
	evbuffer_add_printf(b, "%s{peer=\"", name);
	put_label_value(b, peer);
	evbuffer_add_printf(b, "\"} %llu\n", (unsigned long long)value);
}

static void
render_peer_states(struct evbuffer *b, const struct peer_set *set)
{
	uint64_t count[BGP_ST_MAX] = { 0 };

	put_family(b, "evpnd_bgp_peers", "gauge",
	    "Number of BGP peers in each FSM state.");
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].info.state < BGP_ST_MAX)
			count[set->v[i].info.state]++;
	for (int st = BGP_ST_IDLE; st < BGP_ST_MAX; st++)
		evbuffer_add_printf(b, "evpnd_bgp_peers{state=\"%s\"} %llu\n",
		    bgp_state_name(st), (unsigned long long)count[st]);

	put_family(b, "evpnd_bgp_peer_state", "gauge",
	    "BGP FSM state of a peer: 1 Idle, 2 Connect, 3 Active, "
	    "4 OpenSent, 5 OpenConfirm, 6 Established.");
	for (size_t i = 0; i < set->n; i++) {
		evbuffer_add(b, "evpnd_bgp_peer_state{peer=\"", 27);
		put_label_value(b, set->v[i].addr);
		evbuffer_add_printf(b, "\",remote_as=\"%u\"} %d\n",
		    set->v[i].info.remote_as, (int)set->v[i].info.state + 1);
	}
}

static void
render_messages(struct evbuffer *b, const struct peer_set *set, bool sent)
{
	const char *name = sent ? "evpnd_bgp_messages_sent_total" :
	    "evpnd_bgp_messages_received_total";

	put_family(b, name, "counter", sent ?
	    "BGP messages sent to a peer, by message type." :
	    "BGP messages received from a peer, by message type.");
	for (size_t i = 0; i < set->n; i++) {
		const struct bgp_peer_stats *st = &set->v[i].info.stats;

		for (int t = BGP_MSG_OPEN; t <= BGP_MSG_ROUTE_REFRESH; t++) {
			evbuffer_add_printf(b, "%s{peer=\"", name);
			put_label_value(b, set->v[i].addr);
			evbuffer_add_printf(b, "\",type=\"%s\"} %llu\n",
			    msg_type_label[t], (unsigned long long)(sent ?
			    st->msg_sent[t] : st->msg_rcvd[t]));
		}
	}
}

/* Families with one sample per peer: one row each, value by offset. */
struct per_peer_family {
	const char	*name;
	const char	*type;
	const char	*help;
	size_t		 off;		/* of a uint64_t in bgp_peer_stats */
};

static const struct per_peer_family per_peer_families[] = {
	{ "evpnd_bgp_state_changes_total", "counter",
	    "BGP FSM state transitions of a peer.",
	    offsetof(struct bgp_peer_stats, state_changes) },
	{ "evpnd_bgp_sessions_established_total", "counter",
	    "Times the session with a peer reached Established.",
	    offsetof(struct bgp_peer_stats, established) },
	{ "evpnd_bgp_prefixes_received", "gauge",
	    "Routes in the Adj-RIB-In of a peer.",
	    offsetof(struct bgp_peer_stats, pfx_rcvd) },
	{ "evpnd_bgp_prefixes_sent", "gauge",
	    "Routes advertised to a peer.",
	    offsetof(struct bgp_peer_stats, pfx_sent) },
};

static void
render_per_peer(struct evbuffer *b, const struct peer_set *set,
    const struct per_peer_family *f)
{
	put_family(b, f->name, f->type, f->help);
	for (size_t i = 0; i < set->n; i++) {
		uint64_t v;

		memcpy(&v, (const char *)&set->v[i].info.stats + f->off,
		    sizeof(v));
		put_peer_sample(b, f->name, set->v[i].addr, v);
	}
}

static void
render_daemon(struct evbuffer *b, const struct evpnd *d)
{
	put_single(b, "evpnd_up", "gauge", "1 while evpnd is running.", 1);
	put_family(b, "evpnd_config_reloads_total", "counter",
	    "Configuration reloads (SIGHUP) by result.");
	evbuffer_add_printf(b,
	    "evpnd_config_reloads_total{result=\"ok\"} %llu\n"
	    "evpnd_config_reloads_total{result=\"error\"} %llu\n",
	    (unsigned long long)d->reloads_ok,
	    (unsigned long long)d->reloads_failed);
}

/* A gauge family with one sample per data-plane entry kind. */
static void
put_by_kind(struct evbuffer *b, const char *name, const char *help,
    const uint64_t v[DATAPLANE_NKINDS])
{
	put_family(b, name, "gauge", help);
	for (int k = 0; k < DATAPLANE_NKINDS; k++)
		evbuffer_add_printf(b, "%s{kind=\"%s\"} %llu\n", name,
		    dataplane_kind_name(k), (unsigned long long)v[k]);
}

/* The data plane's counters. */
static void
render_dataplane(struct evbuffer *b, const struct evpnd *d)
{
	struct dataplane_stats	 st;

	if (d->dp == NULL)
		return;
	dataplane_get_stats(d->dp, &st);
	put_by_kind(b, "evpnd_dataplane_entries",
	    "Kernel entries evpnd installed, by kind.", st.installed);
	put_by_kind(b, "evpnd_dataplane_blocked_entries",
	    "Entries left alone: the kernel holds one evpnd does not own at "
	    "their key.", st.blocked);
	put_single(b, "evpnd_dataplane_overruns_total", "counter",
	    "Netlink event socket overruns (ENOBUFS).", st.nl.overruns);
	put_single(b, "evpnd_dataplane_resyncs_total", "counter",
	    "Full kernel resynchronisations after an overrun.",
	    st.nl.resyncs);
	put_single(b, "evpnd_dataplane_request_errors_total", "counter",
	    "Netlink requests the kernel refused.", st.nl.failed);
}

/* What evpn/ refused to advertise or install (issue 11's limits). */
static void
render_evpn_refusals(struct evbuffer *b, const struct evpnd *d)
{
	struct evpn_dp_counters c;

	if (d->evpn == NULL)
		return;
	evpn_get_dp_counters(d->evpn, &c);
	put_single(b, "evpnd_evpn_mac_limit_drops_total", "counter",
	    "Learned MACs not advertised: their VNI was at its mac-limit.",
	    c.mac_limit_drops);
	put_single(b, "evpnd_evpn_vnis_at_mac_limit", "gauge",
	    "VNIs whose learned MACs reached their mac-limit.",
	    c.vnis_at_mac_limit);
	put_single(b, "evpnd_evpn_bad_vtep_total", "counter",
	    "Remote entries not installed: their VTEP address cannot be one.",
	    c.bad_vtep);
	put_single(b, "evpnd_evpn_bad_prefix_total", "counter",
	    "Type-5 routes not installed: host bits set in the prefix.",
	    c.bad_prefix);
}

/* name{pool="P"} or name{pool="P",family="F"} value */
static void
put_pool_sample(struct evbuffer *b, const char *name, const char *pool,
    const char *family, double value)
{
	evbuffer_add_printf(b, "%s{pool=\"", name);
	put_label_value(b, pool);
	if (family != NULL)
		evbuffer_add_printf(b, "\",family=\"%s", family);
	evbuffer_add_printf(b, "\"} %.17g\n", value);
}

static void
render_ipam_pools(struct evbuffer *b, const struct ipam *ipam)
{
	struct ipam_pool_stats st;
	struct ipam_pool *p;

	put_family(b, "evpnd_ipam_allocations", "gauge",
	    "IPAM allocations held, by pool.");
	for (p = ipam_pool_first(ipam); p; p = ipam_pool_next(p)) {
		ipam_pool_stats(p, &st);
		put_pool_sample(b, "evpnd_ipam_allocations", ipam_pool_name(p),
		    NULL, (double)st.allocations);
	}
	put_family(b, "evpnd_ipam_addresses_free", "gauge",
	    "Addresses an allocation could still get, by pool and family.");
	for (p = ipam_pool_first(ipam); p; p = ipam_pool_next(p)) {
		ipam_pool_stats(p, &st);
		if (st.v4.prefixes > 0)
			put_pool_sample(b, "evpnd_ipam_addresses_free",
			    ipam_pool_name(p), "ipv4", st.v4.free);
		if (st.v6.prefixes > 0)
			put_pool_sample(b, "evpnd_ipam_addresses_free",
			    ipam_pool_name(p), "ipv6", st.v6.free);
	}
}

static void
render_ipam(struct evbuffer *b, const struct evpnd *d)
{
	struct ipam_store_stats ss;

	if (d->ipamd == NULL)
		return;
	render_ipam_pools(b, ipamd_ipam(d->ipamd));
	ipam_store_stats(ipamd_store(d->ipamd), &ss);
	put_single(b, "evpnd_ipam_conflicts_total", "counter",
	    "Allocated addresses seen in another VTEP's type-2 route.",
	    d->evpn ? evpn_ipam_conflicts_total(d->evpn) : 0);
	put_single(b, "evpnd_ipam_store_batches_total", "counter",
	    "Transactions the IPAM store committed (group commit).",
	    ss.batches);
	put_single(b, "evpnd_ipam_store_ops_total", "counter",
	    "Changes the IPAM store committed.", ss.ops);
	put_single(b, "evpnd_ipam_store_failed_total", "counter",
	    "Changes the IPAM store could not commit.", ss.failed);
	put_single(b, "evpnd_ipam_store_max_batch", "gauge",
	    "The largest batch committed in one transaction.", ss.max_batch);
}

/* ---- fabric pools ---- */

static void
render_claim_latency(struct evbuffer *b, const struct ipam_fabric_stats *st)
{
	put_histogram(b, "evpnd_ipam_block_claim_seconds", "Time from a "
	    "block claim's start to the block being usable (claim and loan "
	    "check).", ipam_fabric_latency_bounds, st->latency_count,
	    IPAM_FABRIC_LATENCY_BUCKETS, st->latency_total, st->latency_sum);
}

static void
render_fabric_pools(struct evbuffer *b, const struct ipam *ipam)
{
	static const char *const names[3] = { "evpnd_ipam_blocks_owned",
	    "evpnd_ipam_borrowed_addresses", "evpnd_ipam_lent_addresses" };
	static const char *const helps[3] = {
	    "Blocks of a fabric pool this VTEP owns.",
	    "Single addresses of other VTEPs' blocks this VTEP holds.",
	    "Addresses of this VTEP's blocks offered to or borrowed by "
	    "others." };
	struct ipam_pool_stats st;
	struct ipam_pool *p;

	for (int k = 0; k < 3; k++) {
		put_family(b, names[k], "gauge", helps[k]);
		for (p = ipam_pool_first(ipam); p; p = ipam_pool_next(p)) {
			if (!ipam_pool_is_fabric(p))
				continue;
			ipam_pool_stats(p, &st);
			put_pool_sample(b, names[k], ipam_pool_name(p), NULL,
			    k == 0 ? (double)(st.v4.blocks + st.v6.blocks) :
			    k == 1 ? (double)(st.v4.borrowed + st.v6.borrowed) :
			    (double)(st.v4.lent + st.v6.lent));
		}
	}
}

static void
render_fabric(struct evbuffer *b, const struct evpnd *d)
{
	struct ipam_fabric *fab;
	struct ipam_fabric_stats st;

	if (d->ipamd == NULL || (fab = ipamd_fabric(d->ipamd)) == NULL)
		return;
	ipam_fabric_stats(fab, &st);
	put_family(b, "evpnd_ipam_block_claims_total", "counter",
	    "Block claims of fabric pools by outcome.");
	evbuffer_add_printf(b, "evpnd_ipam_block_claims_total{result=\"won\"} "
	    "%llu\nevpnd_ipam_block_claims_total{result=\"lost\"} %llu\n"
	    "evpnd_ipam_block_claims_total{result=\"error\"} %llu\n",
	    (unsigned long long)st.claims, (unsigned long long)st.claims_lost,
	    (unsigned long long)st.claim_errors);
	render_claim_latency(b, &st);
	put_single(b, "evpnd_ipam_block_releases_total", "counter",
	    "Idle blocks released.", st.releases);
	put_single(b, "evpnd_ipam_datastore_errors_total", "counter",
	    "Fabric datastore requests that got no answer.", st.errors);
	put_single(b, "evpnd_ipam_borrows_total", "counter",
	    "Addresses borrowed from other VTEPs' blocks.", st.borrows);
	put_single(b, "evpnd_ipam_offers_total", "counter",
	    "Addresses of this VTEP's blocks offered to others.", st.offers);
	render_fabric_pools(b, ipamd_ipam(d->ipamd));
}

/* ---- shadow inventory ---- */

struct shadow_snap {
	struct shadowd_view	*v;
	size_t			 n;
};

static void
shadow_snap_add(const struct shadowd_view *v, void *arg)
{
	struct shadow_snap *s = arg;

	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = *v;
}

enum shadow_figure {
	SHADOW_FIG_TARGET,
	SHADOW_FIG_HITS,
	SHADOW_FIG_MISSES,
	SHADOW_FIG_COST,
	SHADOW_FIG_LEAD,
};

static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
} shadow_figures[] = {
	[SHADOW_FIG_TARGET] = { "evpnd_shadow_target", "gauge",
	    "Pre-allocations the shadow inventory aims to hold, by pool." },
	[SHADOW_FIG_HITS] = { "evpnd_shadow_hits_total", "counter",
	    "Requests served by a pre-allocation, by pool." },
	[SHADOW_FIG_MISSES] = { "evpnd_shadow_misses_total", "counter",
	    "Requests allocated fresh in a shadow pool, by pool." },
	[SHADOW_FIG_COST] = { "evpnd_shadow_cost", "gauge",
	    "Shadow inventory cost (wastage x address-seconds + delay x "
	    "request-seconds), by pool." },
	[SHADOW_FIG_LEAD] = { "evpnd_shadow_lead_seconds", "gauge",
	    "Lead time the shadow inventory plans with: measured route "
	    "convergence (p90) when there are samples, else the configured "
	    "lead-time, by pool." },
};

static double
shadow_figure(const struct shadowd_view *v, enum shadow_figure f)
{
	switch (f) {
	case SHADOW_FIG_TARGET:
		return v->report.target;
	case SHADOW_FIG_HITS:
		return (double)v->report.hits;	/* partial ones included */
	case SHADOW_FIG_MISSES:
		return (double)v->report.misses;
	case SHADOW_FIG_LEAD:
		return v->lead_ms / 1000.0;
	case SHADOW_FIG_COST:
	default:
		return v->report.cost;
	}
}

/* name{pool="P",LABEL="V"} value */
static void
put_shadow_sample(struct evbuffer *b, const char *name, const char *pool,
    const char *label, const char *lvalue, double value)
{
	evbuffer_add_printf(b, "%s{pool=\"", name);
	put_label_value(b, pool);
	evbuffer_add_printf(b, "\",%s=\"%s\"} %.17g\n", label, lvalue, value);
}

static void
render_shadow(struct evbuffer *b, const struct evpnd *d)
{
	struct shadow_snap s = { NULL, 0 };

	if (d->ipamd == NULL)
		return;
	shadowd_foreach(ipamd_shadowd(d->ipamd), shadow_snap_add, &s);
	for (size_t f = 0; f < nitems(shadow_figures); f++) {
		put_family(b, shadow_figures[f].name, shadow_figures[f].type,
		    shadow_figures[f].help);
		for (size_t i = 0; i < s.n; i++)
			put_pool_sample(b, shadow_figures[f].name, s.v[i].pool,
			    NULL, shadow_figure(&s.v[i], f));
	}
	put_family(b, "evpnd_shadow_preallocated", "gauge",
	    "Pre-allocations held unused, by pool and state.");
	for (size_t i = 0; i < s.n; i++) {
		put_shadow_sample(b, "evpnd_shadow_preallocated", s.v[i].pool,
		    "state", "ready", s.v[i].ready);
		put_shadow_sample(b, "evpnd_shadow_preallocated", s.v[i].pool,
		    "state", "converging", s.v[i].converging);
	}
	put_family(b, "evpnd_shadow_alerts_total", "counter",
	    "Shadow inventory anomaly alerts, by pool and kind.");
	for (size_t i = 0; i < s.n; i++)
		for (int k = 0; k < SHADOWD_ALERT_KINDS; k++)
			put_shadow_sample(b, "evpnd_shadow_alerts_total",
			    s.v[i].pool, "kind", shadow_alert_kind_name(k),
			    (double)s.v[i].alerts[k]);
	free(s.v);
}

/* ---- traffic telemetry (ipamd/trafficd.h) ---- */

static void
render_flow_counters(struct evbuffer *b, const struct trafficd_stats *st)
{
	const struct {
		const char	*name;
		const char	*help;
		uint64_t	 v;
	} c[] = {
	    { "evpnd_telemetry_flow_messages_total", "IPFIX and NetFlow v9 "
		"messages the flow collector received.", st->flow.messages },
	    { "evpnd_telemetry_flow_refused_total", "Flow export datagrams "
		"dropped undecoded: their source is in no flow-exporter "
		"prefix.", st->flow.refused },
	    { "evpnd_telemetry_flow_records_total", "Flow data records "
		"decoded.", st->flow.records },
	    { "evpnd_telemetry_flow_malformed_total", "Flow export messages "
		"refused as malformed.", st->flow.malformed },
	    { "evpnd_telemetry_flow_templates_total", "Flow templates "
		"learned.", st->flow.templates },
	    { "evpnd_telemetry_flow_sampling_rates_total", "Options data "
		"records announcing an exporter's sampling rate.",
		st->flow.sampling_rates },
	    { "evpnd_telemetry_flow_unknown_sets_total", "Flow data sets "
		"skipped: their template was not known yet.",
		st->flow.unknown_sets },
	    { "evpnd_telemetry_flow_records_unmatched_total", "Flow records "
		"with no address in any pool.", st->records_unmatched },
	    { "evpnd_telemetry_samples_total", "Frames sampled on bridges and "
		"decoded.", st->samples },
	    { "evpnd_telemetry_samples_unmatched_total", "Sampled frames of "
		"no pool (no address in one, no VNI with one).",
		st->samples_unmatched },
	    { "evpnd_telemetry_neighbor_requests_total", "ARP requests and ND "
		"solicitations sampled.", st->neigh_requests },
	};

	for (size_t i = 0; i < nitems(c); i++)
		put_single(b, c[i].name, "counter", c[i].help, c[i].v);
}

static void
put_sampler(const struct trafficd_sampler_view *v, void *arg)
{
	struct evbuffer *b = arg;

	evbuffer_add_printf(b, "evpnd_telemetry_sampler_frames_total{bridge="
	    "\"");
	put_label_value(b, v->bridge);
	evbuffer_add_printf(b, "\"} %llu\n", (unsigned long long)v->frames);
}

struct traffic_snap {
	struct trafficd_pool_view *v;
	size_t			 n;
};

static void
traffic_snap_add(const struct trafficd_pool_view *v, void *arg)
{
	struct traffic_snap *s = arg;

	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = *v;
}

static void
render_traffic_pools(struct evbuffer *b, const struct trafficd *td)
{
	struct traffic_snap s = { NULL, 0 };

	trafficd_foreach_pool(td, traffic_snap_add, &s);
	put_family(b, "evpnd_telemetry_traffic_rate", "gauge", "Packets per "
	    "second in a pool's addresses or its VNI over the rate window, "
	    "scaled for sampling, by pool.");
	for (size_t i = 0; i < s.n; i++)
		put_pool_sample(b, "evpnd_telemetry_traffic_rate", s.v[i].pool,
		    NULL, s.v[i].rate);
	put_family(b, "evpnd_telemetry_traffic_packets_total", "counter",
	    "Packets counted for a pool, scaled for sampling, by pool.");
	for (size_t i = 0; i < s.n; i++)
		put_pool_sample(b, "evpnd_telemetry_traffic_packets_total",
		    s.v[i].pool, NULL, (double)s.v[i].packets);
	put_family(b, "evpnd_telemetry_neighbor_misses_total", "counter",
	    "ARP requests and ND solicitations for a pool address nobody "
	    "holds, by pool.");
	for (size_t i = 0; i < s.n; i++)
		put_pool_sample(b, "evpnd_telemetry_neighbor_misses_total",
		    s.v[i].pool, NULL, (double)s.v[i].neigh_misses);
	free(s.v);
}

static void
render_telemetry(struct evbuffer *b, const struct evpnd *d)
{
	struct trafficd_stats st;

	if (d->traffic == NULL)
		return;
	trafficd_stats(d->traffic, &st);
	render_flow_counters(b, &st);
	put_family(b, "evpnd_telemetry_sampler_frames_total", "counter",
	    "Frames a bridge's sampler read, by bridge.");
	trafficd_foreach_sampler(d->traffic, put_sampler, b);
	render_traffic_pools(b, d->traffic);
}

/* ---- measured convergence (evpn/evpn_converge.c) ---- */

static void
render_convergence_hist(struct evbuffer *b, const struct lat_hist *h)
{
	double le[LAT_NBUCKETS - 1];
	uint64_t cum[LAT_NBUCKETS - 1], c = 0;

	for (size_t i = 0; i < LAT_NBUCKETS - 1; i++) {
		le[i] = lat_bucket_le_ms(i) / 1000.0;
		cum[i] = c += h->bucket[i];
	}
	put_histogram(b, "evpnd_evpn_convergence_seconds", "Latency from a "
	    "sampled EVPN route's origination at another VTEP to its "
	    "data-plane operation here.", le, cum, LAT_NBUCKETS - 1,
	    h->count, (double)h->sum_ms / 1000.0);
}

static void
render_convergence(struct evbuffer *b, const struct evpnd *d)
{
	struct evpn_conv_stats st;

	if (d->evpn == NULL)
		return;
	evpn_conv_stats(d->evpn, &st);
	render_convergence_hist(b, st.hist);
	put_family(b, "evpnd_evpn_convergence_excluded_total", "counter",
	    "Convergence samples left out of the histogram: stamped before "
	    "their session came up (stale), or negative, absurd or from a "
	    "VTEP with a suspect clock (skew).");
	evbuffer_add_printf(b, "evpnd_evpn_convergence_excluded_total"
	    "{reason=\"stale\"} %llu\n"
	    "evpnd_evpn_convergence_excluded_total{reason=\"skew\"} %llu\n",
	    (unsigned long long)st.stale, (unsigned long long)st.skew);
	put_single(b, "evpnd_evpn_convergence_stamped_total", "counter",
	    "Versions of our routes sent with an origination timestamp.",
	    st.stamped);
	put_single(b, "evpnd_evpn_convergence_clock_suspect_vteps", "gauge",
	    "VTEPs whose convergence samples are mostly negative or absurd.",
	    st.suspect_vteps);
}

void
metrics_render(struct evbuffer *b, struct evpnd *d)
{
	struct peer_set set = { NULL, 0, 0 };

	if (d->bgp != NULL)
		bgp_peer_foreach(d->bgp, peer_set_add, &set);
	render_daemon(b, d);
	render_peer_states(b, &set);
	render_messages(b, &set, false);
	render_messages(b, &set, true);
	for (size_t i = 0; i < nitems(per_peer_families); i++)
		render_per_peer(b, &set, &per_peer_families[i]);
	render_dataplane(b, d);
	render_convergence(b, d);
	render_evpn_refusals(b, d);
	render_ipam(b, d);
	render_fabric(b, d);
	render_shadow(b, d);
	render_telemetry(b, d);
	free(set.v);
}

/* The API's own limits, by listener (unix, tls). */
static void
render_api_conns(struct evbuffer *b, const struct api *api)
{
	static const char *const listener[2] = { "unix", "tls" };
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "evpnd_api_connections", "gauge",
		    "API connections open, by listener." },
		{ "evpnd_api_connections_refused_total", "counter",
		    "API connections closed at accept: over a cap." },
		{ "evpnd_api_requests_cut_total", "counter",
		    "API connections closed: a request not complete in time." },
	};
	struct api_conn_stats st[2];
	bool present[2];

	api_listener_stats(api, st, present);
	for (size_t f = 0; f < nitems(fam); f++) {
		put_family(b, fam[f].name, fam[f].type, fam[f].help);
		for (size_t i = 0; i < 2; i++) {
			uint64_t v = f == 0 ? st[i].open : f == 1 ?
			    st[i].refused : st[i].cut;

			if (present[i])
				evbuffer_add_printf(b, "%s{listener=\"%s\"} "
				    "%llu\n", fam[f].name, listener[i],
				    (unsigned long long)v);
		}
	}
}

/* A sample labelled {pool="P"...}: does the client see pool P? */
static bool
sample_visible(const struct api_req *ar, const char *line)
{
	const char *p = strstr(line, "{pool=\""), *end;
	const struct ipam_pool *pool;
	char name[IPAM_NAME_MAX + 1];

	if (p == NULL)
		return true;
	p += strlen("{pool=\"");
	if ((end = strchr(p, '"')) == NULL || (size_t)(end - p) >=
	    sizeof(name) || ar->d->ipamd == NULL)
		return false;
	memcpy(name, p, (size_t)(end - p));
	name[end - p] = '\0';
	pool = ipam_pool_find(ipamd_ipam(ar->d->ipamd), name);
	return pool != NULL && api_authz_pool(ar, pool);
}

/* Other tenants' pools are left out of what a non-admin client gets. */
static void
metrics_own_pools(const struct api_req *ar, struct evbuffer *body)
{
	struct evbuffer *kept = evbuffer_new();
	size_t len;
	char *line;

	if (kept == NULL)
		fatalx("metrics: out of memory");
	while ((line = evbuffer_readln(body, &len, EVBUFFER_EOL_LF)) != NULL) {
		if (sample_visible(ar, line)) {
			evbuffer_add(kept, line, len);
			evbuffer_add(kept, "\n", 1);
		}
		free(line);
	}
	evbuffer_add_buffer(body, kept);
	evbuffer_free(kept);
}

void
api_metrics(struct api_req *ar)
{
	struct evbuffer *body = evbuffer_new();

	if (body == NULL)
		fatalx("metrics: out of memory");
	metrics_render(body, ar->d);
	if (ar->api != NULL)
		render_api_conns(body, ar->api);
	if (!api_authz_admin(ar))
		metrics_own_pools(ar, body);
	api_reply_raw(ar, 200, METRICS_CONTENT_TYPE, body);
	evbuffer_free(body);
}
