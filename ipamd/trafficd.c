/*
 * Traffic telemetry in the daemon: the sockets, the pool map, the rate
 * ring per pool, neighbour misses.  See trafficd.h for the shape.
 *
 * Per-pool state (struct tpool) is keyed by the pool's name and lives
 * across map rebuilds, so its counters and ring survive; a pool that
 * left the allocator loses its state at the next tick.  Between ticks
 * the map only points at tpools, which are freed at ticks only.  The
 * map is a prefix table (common/prefix_table.h): a record costs a
 * binary search per prefix length, not a walk over every pool prefix.
 */
#include "ipamd/trafficd.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/prefix_table.h"
#include "common/queue.h"
#include "common/util.h"
#include "conf/conf.h"
#include "ipam/ipam.h"
#include "ipamd/ipamd.h"
#include "ipamd/shadowd.h"

struct tpool {
	TAILQ_ENTRY(tpool)	 entry;
	char			 name[IPAM_NAME_MAX + 1];
	uint32_t		 vni;
	double			*bins;		/* packets per second slot */
	uint32_t		 nbins;		/* the rate window */
	uint64_t		 bin_s;		/* second of the newest bin */
	double			 rate;
	double			 packets;	/* scaled, since start */
	uint64_t		 records;
	uint64_t		 samples;
	uint64_t		 neigh_misses;
	uint64_t		 mark;		/* counted for this record */
	bool			 seen;		/* in the allocator (rebuild) */
};
TAILQ_HEAD(tpool_list, tpool);

struct tsampler {
	TAILQ_ENTRY(tsampler)	 entry;
	struct trafficd		*td;
	char			 bridge[IF_NAMESIZE];
	uint32_t		 rate;
	uint32_t		 vni;		/* the bridge's, 0: none */
	struct tpool		*tp;		/* the pool of that VNI */
	struct pkt_sampler	*ps;		/* NULL: not open (yet) */
	unsigned		 ifindex;	/* of the open socket */
	uint64_t		 frames_before;	/* of sockets closed */
	bool			 warned;
};
TAILQ_HEAD(tsampler_list, tsampler);

struct trafficd {
	struct event_base	*base;
	struct ipamd		*im;
	struct event		*timer;
	struct flow_collector	*fc;
	struct ipaddr		 fc_addr;	/* as configured */
	uint16_t		 fc_port;
	uint32_t		 fc_sampling;
	uint8_t			 fc_nallow;	/* flow-exporter prefixes */
	uint32_t		 window;	/* seconds */
	struct tpool_list	 pools;
	struct prefix_table	 map;		/* pool prefixes -> tpool */
	struct tsampler_list	 samplers;
	uint64_t		 mark;
	uint64_t		 (*clock)(void *);
	void			*clock_arg;
	struct trafficd_stats	 st;
};

struct trafficd_plan {
	bool			 new_collector;
	struct flow_collector	*fc;		/* NULL: none from now */
};

static uint64_t
clock_mono(void *arg)
{
	(void)arg;
	return mono_msec();
}

static uint64_t
now_s(const struct trafficd *td)
{
	return td->clock(td->clock_arg) / 1000;
}

/* The rings start again on the new clock's time. */
void
trafficd_set_clock(struct trafficd *td, uint64_t (*fn)(void *), void *arg)
{
	struct tpool *tp;

	td->clock = fn != NULL ? fn : clock_mono;
	td->clock_arg = arg;
	TAILQ_FOREACH(tp, &td->pools, entry) {
		memset(tp->bins, 0, tp->nbins * sizeof(*tp->bins));
		tp->bin_s = now_s(td);
	}
}

/* ---- the rate ring ---- */

/* Zero the bins of the seconds between the newest bin and now. */
static void
ring_advance(struct tpool *tp, uint64_t now)
{
	uint64_t gap = now - tp->bin_s;

	if (now <= tp->bin_s)
		return;
	if (gap >= tp->nbins)
		gap = tp->nbins;
	for (uint64_t s = 1; s <= gap; s++)
		tp->bins[(now - gap + s) % tp->nbins] = 0;
	tp->bin_s = now;
}

static void
ring_resize(struct tpool *tp, uint32_t window, uint64_t now)
{
	if (tp->nbins == window)
		return;
	free(tp->bins);
	tp->bins = xcalloc(window, sizeof(*tp->bins));
	tp->nbins = window;
	tp->bin_s = now;
}

static void
pool_count(struct trafficd *td, struct tpool *tp, double packets)
{
	ring_advance(tp, now_s(td));
	tp->bins[tp->bin_s % tp->nbins] += packets;
	tp->packets += packets;
}

static double
ring_rate(const struct tpool *tp)
{
	double sum = 0;

	for (uint32_t i = 0; i < tp->nbins; i++)
		sum += tp->bins[i];
	return sum / tp->nbins;
}

/* ---- the pool map ---- */

static struct tpool *
tpool_find(const struct trafficd *td, const char *name)
{
	struct tpool *tp;

	TAILQ_FOREACH(tp, &td->pools, entry)
		if (strcmp(tp->name, name) == 0)
			return tp;
	return NULL;
}

static struct tpool *
tpool_get(struct trafficd *td, const char *name)
{
	struct tpool *tp = tpool_find(td, name);

	if (tp != NULL)
		return tp;
	tp = xcalloc(1, sizeof(*tp));
	strlcpy_s(tp->name, name, sizeof(tp->name));
	ring_resize(tp, td->window, now_s(td));
	TAILQ_INSERT_TAIL(&td->pools, tp, entry);
	return tp;
}

static struct tpool *
tpool_by_vni(const struct trafficd *td, uint32_t vni)
{
	struct tpool *tp;

	if (vni == 0)
		return NULL;
	TAILQ_FOREACH(tp, &td->pools, entry)
		if (tp->vni == vni)
			return tp;
	return NULL;
}

/* The allocator's pools now: prefixes into the map, state kept by name,
 * the state of pools gone freed, samplers pointed at their VNI's. */
static void
map_rebuild(struct trafficd *td)
{
	const struct ipam *ipam = ipamd_ipam(td->im);
	const struct ipam_pool *p;
	const struct prefix *pfx;
	struct tpool *tp, *next;
	struct tsampler *ts;
	size_t n;

	prefix_table_clear(&td->map);
	TAILQ_FOREACH(tp, &td->pools, entry)
		tp->seen = false;
	for (p = ipam_pool_first(ipam); p != NULL; p = ipam_pool_next(p)) {
		tp = tpool_get(td, ipam_pool_name(p));
		tp->seen = true;
		tp->vni = ipam_pool_vni(p);
		n = ipam_pool_prefixes(p, &pfx);
		for (size_t i = 0; i < n; i++)
			prefix_table_add(&td->map, &pfx[i], tp);
	}
	prefix_table_build(&td->map);
	TAILQ_FOREACH_SAFE(tp, &td->pools, entry, next)
		if (!tp->seen) {
			TAILQ_REMOVE(&td->pools, tp, entry);
			free(tp->bins);
			free(tp);
		}
	TAILQ_FOREACH(ts, &td->samplers, entry)
		ts->tp = tpool_by_vni(td, ts->vni);
}

/* One record or sample being counted: the pools it counted for carry
 * td->mark. */
struct tcount {
	struct trafficd		*td;
	double			 packets;
	bool			 record;
	unsigned		 pools;
};

static void
count_pool(struct tcount *c, struct tpool *tp)
{
	if (tp->mark == c->td->mark)
		return;
	tp->mark = c->td->mark;
	pool_count(c->td, tp, c->packets);
	if (c->record)
		tp->records++;
	else
		tp->samples++;
	c->pools++;
}

static bool
count_match_cb(const struct prefix_table_entry *e, void *arg)
{
	count_pool(arg, e->value);
	return true;
}

/*
 * Count packets for every pool holding src or dst, and for also (the
 * bridge's pool; may be NULL), each pool once.  The number of pools
 * counted.
 */
static unsigned
count_addresses(struct trafficd *td, const struct ipaddr *src,
    const struct ipaddr *dst, struct tpool *also, double packets,
    bool record)
{
	struct tcount c = { td, packets, record, 0 };

	td->mark++;
	prefix_table_match(&td->map, src, count_match_cb, &c);
	prefix_table_match(&td->map, dst, count_match_cb, &c);
	if (also != NULL)
		count_pool(&c, also);
	return c.pools;
}

/* ---- flow records ---- */

void
trafficd_flow_record(void *arg, const struct flow_record *r)
{
	struct trafficd *td = arg;
	uint32_t sampling = r->sampling > 0 ? r->sampling : td->fc_sampling;
	double packets = (double)r->packets * sampling;

	if (count_addresses(td, &r->src, &r->dst, NULL, packets, true) == 0)
		td->st.records_unmatched++;
}

/* ---- packet samples ---- */

/* A pool holding a neighbour target, and whose entry it is. */
struct tunused {
	const struct ipam	*ipam;
	const struct ipaddr	*target;
	struct tpool		*tp;
	size_t			 seq;
};

/* Of the pools where the target is unused, the first in the
 * allocator's order (pools whose prefixes overlap: other tenants'). */
static bool
unused_match_cb(const struct prefix_table_entry *e, void *arg)
{
	struct tunused *u = arg;
	struct tpool *tp = e->value;

	if (u->tp != NULL && u->seq < e->seq)
		return true;
	if (ipam_addr_unused(u->ipam, tp->name, u->target)) {
		u->tp = tp;
		u->seq = e->seq;
	}
	return true;
}

/* The pool of target whose address nobody holds; NULL when none. */
static struct tpool *
neigh_unused_pool(struct trafficd *td, const struct ipaddr *target)
{
	struct tunused u = { ipamd_ipam(td->im), target, NULL, 0 };

	prefix_table_match(&td->map, target, unused_match_cb, &u);
	return u.tp;
}

static bool
addr_unspecified(const struct ipaddr *a)
{
	static const uint8_t zero[16];

	return a->af == AF_INET ? a->u.v4.s_addr == 0 :
	    memcmp(a->u.v6.s6_addr, zero, sizeof(zero)) == 0;
}

/* An ARP request or ND solicitation (RFC 826, RFC 4861 §4.3). */
static void
neigh_request(struct trafficd *td, const struct pkt_sample *s)
{
	struct tpool *tp;

	td->st.neigh_requests++;
	if (ipaddr_cmp(&s->src, &s->dst) == 0)
		return;			/* gratuitous: an announcement */
	/* From no address: a host probing the address it is about to
	 * claim (RFC 5227 §2.1.1, RFC 4862 §5.4.2), not a client
	 * looking for an endpoint. */
	if (addr_unspecified(&s->src))
		return;
	if ((tp = neigh_unused_pool(td, &s->dst)) == NULL)
		return;
	tp->neigh_misses++;
	td->st.neigh_misses++;
	if (shadowd_neigh_miss(ipamd_shadowd(td->im), tp->name, &s->src,
	    &s->dst) == -1 && errno != ENOENT)
		log_debug("telemetry: pool %s: neighbour miss: %s", tp->name,
		    strerror(errno));
}

static struct tsampler *
sampler_find(const struct trafficd *td, const char *bridge)
{
	struct tsampler *ts;

	TAILQ_FOREACH(ts, &td->samplers, entry)
		if (strcmp(ts->bridge, bridge) == 0)
			return ts;
	return NULL;
}

static void
sample_count(struct tsampler *ts, const struct pkt_sample *s)
{
	struct trafficd *td = ts->td;
	bool neigh = s->kind == PKT_ARP_REQUEST || s->kind == PKT_ND_SOLICIT;
	double packets = neigh || ts->rate == 0 ? 1.0 : (double)ts->rate;

	td->st.samples++;
	if (count_addresses(td, &s->src, &s->dst, ts->tp, packets, false) == 0)
		td->st.samples_unmatched++;
	if (neigh)
		neigh_request(td, s);
}

int
trafficd_sample(struct trafficd *td, const char *bridge,
    const struct pkt_sample *s)
{
	struct tsampler *ts = sampler_find(td, bridge);

	if (ts == NULL) {
		errno = ENOENT;
		return -1;
	}
	sample_count(ts, s);
	return 0;
}

static void
sampler_cb(void *arg, const char *ifname, const struct pkt_sample *s)
{
	(void)ifname;
	sample_count(arg, s);
}

/* ---- samplers ---- */

static void
sampler_close(struct tsampler *ts)
{
	if (ts->ps == NULL)
		return;
	ts->frames_before += pkt_sampler_count(ts->ps);
	pkt_sampler_free(ts->ps);
	ts->ps = NULL;
}

/* Open it if its bridge exists and is not the one it is open on. */
static void
sampler_refresh(struct tsampler *ts)
{
	unsigned ifindex = if_nametoindex(ts->bridge);
	char err[256];

	if (ts->ps != NULL && ifindex == ts->ifindex)
		return;
	sampler_close(ts);
	if (ifindex == 0)
		return;
	ts->ps = pkt_sampler_new(ts->td->base, ts->bridge, ts->rate,
	    sampler_cb, ts, err, sizeof(err));
	if (ts->ps == NULL) {
		if (!ts->warned)
			log_warn("telemetry: %s; retrying every second", err);
		ts->warned = true;
		return;
	}
	ts->ifindex = ifindex;
	ts->warned = false;
	log_info("telemetry: sampling bridge %s, 1 in %u", ts->bridge,
	    ts->rate);
}

/* The VNI of the vxlan block whose bridge, or VXLAN device, is ifname. */
static uint32_t
bridge_vni(const struct config *conf, const char *ifname)
{
	const struct conf_vxlan *vx;

	TAILQ_FOREACH(vx, &conf->vxlans, entry)
		if ((vx->bridge != NULL && strcmp(vx->bridge, ifname) == 0) ||
		    strcmp(vx->name, ifname) == 0)
			return vx->vni;
	return 0;
}

/* Samplers to match conf: new ones, changed rates reopened, the ones
 * that went closed. */
static void
samplers_apply(struct trafficd *td, const struct config *conf)
{
	const struct conf_telemetry_sampler *cs;
	struct tsampler *ts, *next;

	TAILQ_FOREACH_SAFE(ts, &td->samplers, entry, next)
		if (conf_telemetry_sampler_find(&conf->telemetry,
		    ts->bridge) == NULL) {
			TAILQ_REMOVE(&td->samplers, ts, entry);
			sampler_close(ts);
			free(ts);
		}
	TAILQ_FOREACH(cs, &conf->telemetry.samplers, entry) {
		if ((ts = sampler_find(td, cs->bridge)) == NULL) {
			ts = xcalloc(1, sizeof(*ts));
			ts->td = td;
			strlcpy_s(ts->bridge, cs->bridge, sizeof(ts->bridge));
			ts->rate = cs->rate;
			TAILQ_INSERT_TAIL(&td->samplers, ts, entry);
		} else if (ts->rate != cs->rate) {
			sampler_close(ts);
			ts->rate = cs->rate;
		}
		ts->vni = bridge_vni(conf, cs->bridge);
		sampler_refresh(ts);
	}
}

/* ---- the collector ---- */

static bool
collector_same(const struct trafficd *td, const struct conf_telemetry *t)
{
	if (!t->has_collector)
		return td->fc == NULL;
	return td->fc != NULL && td->fc_port == t->collector_port &&
	    ipaddr_cmp(&td->fc_addr, &t->collector_addr) == 0;
}

/* Every address: the IPv6 wildcard (IPv4 mapped), else IPv4's. */
static struct flow_collector *
collector_open(struct trafficd *td, const struct conf_telemetry *t,
    char *err, size_t errlen)
{
	struct flow_collector *fc;
	struct ipaddr any;

	if (ipaddr_is_set(&t->collector_addr))
		return flow_collector_new(td->base, &t->collector_addr,
		    t->collector_port, trafficd_flow_record, td, err, errlen);
	ipaddr_parse("::", &any);
	if ((fc = flow_collector_new(td->base, &any, t->collector_port,
	    trafficd_flow_record, td, err, errlen)) != NULL)
		return fc;
	ipaddr_parse("0.0.0.0", &any);
	return flow_collector_new(td->base, &any, t->collector_port,
	    trafficd_flow_record, td, err, errlen);
}

/* Add the counts of fc's decoder to st. */
static void
flow_stats_add(struct flow_stats *st, const struct flow_collector *fc)
{
	struct flow_stats fs;

	flow_collector_stats(fc, &fs);
	st->messages += fs.messages;
	st->records += fs.records;
	st->templates += fs.templates;
	st->options_records += fs.options_records;
	st->sampling_rates += fs.sampling_rates;
	st->unknown_sets += fs.unknown_sets;
	st->malformed += fs.malformed;
	st->evicted += fs.evicted;
	st->refused += fs.refused;
}

/* Keep the decoder's counts of a collector that closes. */
static void
collector_close(struct trafficd *td)
{
	if (td->fc == NULL)
		return;
	flow_stats_add(&td->st.flow, td->fc);
	flow_collector_free(td->fc);
	td->fc = NULL;
}

/* ---- reload ---- */

struct trafficd_plan *
trafficd_prepare(struct trafficd *td, const struct config *next, char *err,
    size_t errlen)
{
	const struct conf_telemetry *t = &next->telemetry;
	struct trafficd_plan *plan = xcalloc(1, sizeof(*plan));

	if (collector_same(td, t))
		return plan;
	plan->new_collector = true;
	if (t->has_collector &&
	    (plan->fc = collector_open(td, t, err, errlen)) == NULL) {
		free(plan);
		return NULL;
	}
	return plan;
}

void
trafficd_abort(struct trafficd_plan *plan)
{
	if (plan == NULL)
		return;
	flow_collector_free(plan->fc);
	free(plan);
}

/*
 * The collector takes datagrams from the flow-exporter prefixes only;
 * without any it takes them from anyone, and says so when a collector
 * opens or loses its last prefix.
 */
static void
exporters_apply(struct trafficd *td, const struct conf_telemetry *t,
    bool opened)
{
	if (td->fc == NULL)
		return;
	flow_collector_allow(td->fc, t->exporters, t->nexporters);
	if (t->nexporters == 0 && (opened || td->fc_nallow > 0))
		log_warn("telemetry: the flow collector takes datagrams from "
		    "any source; name the exporters with 'flow-exporter "
		    "PREFIX'");
	td->fc_nallow = t->nexporters;
}

static void
settings_apply(struct trafficd *td, const struct conf_telemetry *t)
{
	struct tpool *tp;
	uint64_t now = now_s(td);

	td->fc_addr = t->collector_addr;
	td->fc_port = t->collector_port;
	td->fc_sampling = t->has_collector ? t->collector_sampling : 1;
	td->window = t->rate_window;
	TAILQ_FOREACH(tp, &td->pools, entry)
		ring_resize(tp, td->window, now);
}

void
trafficd_commit(struct trafficd *td, struct trafficd_plan *plan,
    const struct config *next)
{
	if (plan == NULL)
		return;
	if (plan->new_collector) {
		collector_close(td);
		td->fc = plan->fc;
		if (td->fc != NULL)
			log_info("telemetry: flow collector on port %u",
			    flow_collector_port(td->fc));
	}
	exporters_apply(td, &next->telemetry, plan->new_collector);
	free(plan);
	settings_apply(td, &next->telemetry);
	samplers_apply(td, next);
	map_rebuild(td);
}

/* ---- ticks ---- */

void
trafficd_tick(struct trafficd *td)
{
	struct shadowd *sd = ipamd_shadowd(td->im);
	struct tsampler *ts;
	struct tpool *tp;
	uint64_t now = now_s(td);

	TAILQ_FOREACH(ts, &td->samplers, entry)
		sampler_refresh(ts);
	map_rebuild(td);
	TAILQ_FOREACH(tp, &td->pools, entry) {
		ring_advance(tp, now);
		tp->rate = ring_rate(tp);
		if (shadowd_traffic(sd, tp->name, tp->rate) == -1 &&
		    errno != ENOENT)
			log_debug("telemetry: pool %s: %s", tp->name,
			    strerror(errno));
	}
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	trafficd_tick(arg);
}

/* ---- life cycle ---- */

struct trafficd *
trafficd_create(struct event_base *base, struct ipamd *im,
    const struct config *conf, char *err, size_t errlen)
{
	struct trafficd *td = xcalloc(1, sizeof(*td));
	struct trafficd_plan *plan;
	struct timeval tv = { TRAFFICD_TICK_MS / 1000,
	    (TRAFFICD_TICK_MS % 1000) * 1000 };

	td->base = base;
	td->im = im;
	td->clock = clock_mono;
	td->window = conf->telemetry.rate_window;
	TAILQ_INIT(&td->pools);
	TAILQ_INIT(&td->samplers);
	if ((plan = trafficd_prepare(td, conf, err, errlen)) == NULL) {
		free(td);
		return NULL;
	}
	trafficd_commit(td, plan, conf);
	if ((td->timer = event_new(base, -1, EV_PERSIST, timer_cb, td)) ==
	    NULL || evtimer_add(td->timer, &tv) == -1)
		fatalx("telemetry: cannot set up the tick timer");
	return td;
}

void
trafficd_free(struct trafficd *td)
{
	struct tsampler *ts;
	struct tpool *tp;

	if (td == NULL)
		return;
	if (td->timer != NULL)
		event_free(td->timer);
	flow_collector_free(td->fc);
	while ((ts = TAILQ_FIRST(&td->samplers)) != NULL) {
		TAILQ_REMOVE(&td->samplers, ts, entry);
		sampler_close(ts);
		free(ts);
	}
	while ((tp = TAILQ_FIRST(&td->pools)) != NULL) {
		TAILQ_REMOVE(&td->pools, tp, entry);
		free(tp->bins);
		free(tp);
	}
	prefix_table_free(&td->map);
	free(td);
}

/* ---- views ---- */

void
trafficd_stats(const struct trafficd *td, struct trafficd_stats *st)
{
	*st = td->st;
	if (td->fc == NULL)
		return;
	st->collector = true;
	st->collector_port = flow_collector_port(td->fc);
	flow_stats_add(&st->flow, td->fc);
}

void
trafficd_foreach_pool(const struct trafficd *td,
    void (*cb)(const struct trafficd_pool_view *, void *), void *arg)
{
	const struct tpool *tp;
	struct trafficd_pool_view v;

	TAILQ_FOREACH(tp, &td->pools, entry) {
		memset(&v, 0, sizeof(v));
		v.pool = tp->name;
		v.vni = tp->vni;
		v.rate = tp->rate;
		/* Counted from exporters' claims: saturated, not wrapped. */
		v.packets = tp->packets < 0x1p64 ? (uint64_t)tp->packets :
		    UINT64_MAX;
		v.records = tp->records;
		v.samples = tp->samples;
		v.neigh_misses = tp->neigh_misses;
		cb(&v, arg);
	}
}

void
trafficd_foreach_sampler(const struct trafficd *td,
    void (*cb)(const struct trafficd_sampler_view *, void *), void *arg)
{
	const struct tsampler *ts;
	struct trafficd_sampler_view v;

	TAILQ_FOREACH(ts, &td->samplers, entry) {
		memset(&v, 0, sizeof(v));
		v.bridge = ts->bridge;
		v.rate = ts->rate;
		v.vni = ts->vni;
		v.open = ts->ps != NULL;
		v.frames = ts->frames_before + (ts->ps != NULL ?
		    pkt_sampler_count(ts->ps) : 0);
		cb(&v, arg);
	}
}
