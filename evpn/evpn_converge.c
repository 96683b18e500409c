/*
 * Measured convergence: origination timestamps on a sample of our
 * routes, and the latency from those timestamps to our data plane for
 * the routes of other VTEPs.
 *
 * The timestamp (one extended community, RFC 4360 §2; RFC 7153 §5.1
 * reserves types 0x80-0x8F for experimental use, transitive):
 *
 *	octet 0     0x88  type: experimental, transitive (bit 0x40 clear)
 *	octet 1     0x54  sub-type ("T")
 *	octets 2-7        milliseconds since the Unix epoch (UTC), 48 bits,
 *	                  big-endian (good until the year 10889)
 *
 * Type 0x88 is clear of the flow-spec actions that took 0x80-0x82
 * (RFC 8955 §7, RFC 7674).  Being transitive it crosses route
 * reflectors unchanged: they pass communities they do not understand
 * (RFC 4360 §2, RFC 4456 §8), FRR 8.4 included (test_convergence.sh).
 * bgpd sees only bytes; the meaning lives here.
 *
 * Origination.  A local route is "sampled" when it is created: every
 * Nth new type-2 route of a VNI ("convergence-sample N", default 16)
 * and every pre-allocation's route, which is the one whose convergence
 * the shadow inventory pays for.  A sampled route is stamped each time
 * its attributes change (first announcement, a MAC mobility sequence,
 * a new RD or route targets): a fingerprint of key, next hop and
 * communities tells a new version from a repeated announcement, so a
 * reload that re-announces an unchanged route does not restamp it.
 * Nothing is stamped while no BGP session is up: that time would be
 * session set-up, not convergence.  Only sampled routes get an
 * attribute set of their own; the others keep sharing theirs.
 *
 * Reception.  When the best path of an entry changes to a remote path
 * carrying a stamp, evpn_import_best_changed() has just issued the
 * route's data-plane operation (evpn_dp_resolve(); the data plane
 * batches it to the kernel in the same event-loop turn; its ack is
 * not waited for) and calls evpn_conv_received(): latency = wall clock
 * now - stamp.  A repeated version (the same stamp on another path, as
 * through a second reflector) and the re-import of a reload are not
 * samples.  Each sample is one of:
 *   ok     0 <= latency <= EVPN_CONV_MAX_MS, or negative by no more
 *          than EVPN_CONV_SKEW_MS (clamped to 0): the clocks of two
 *          VTEPs are assumed synchronised (NTP/PTP) to within that;
 *   stale  stamped before the session it arrived on came up: the route
 *          waited for the session (a restart, the initial table), not
 *          for the fabric;
 *   skew   more negative than the tolerance, or later than the
 *          maximum, or from a VTEP whose clock is suspect.
 * Only ok samples enter the histogram.  Per originating VTEP (the
 * route's next hop) the outcomes of its last EVPN_CONV_OUTCOMES
 * samples are kept; when at least 8 are known and more than half were
 * skew, its clock is suspect: logged at warning level, flagged in the
 * view, and its samples excluded until no more than a quarter of them
 * are (logged again).  A clock that is behind by less than the maximum
 * cannot be told from a slow fabric by one VTEP; the fabric-wide view
 * (one VTEP's samples far above the others') is the operator's.
 */
#include "evpn/evpn_int.h"
#include "bgpd/bgpd.h"
#include "common/latency.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define CONV_RECENT		32	/* samples listed by the view */
#define CONV_MAX_VTEPS		4096	/* VTEPs tracked for skew */
#define CONV_SUSPECT_MIN	8	/* outcomes known before judging */

enum conv_result {
	CONV_OK,
	CONV_STALE,
	CONV_SKEW,
};

struct conv_vtep {
	TAILQ_ENTRY(conv_vtep) entry;
	struct ipaddr	 vtep;
	uint64_t	 ok;
	uint64_t	 stale;
	uint64_t	 skew;
	int64_t		 last_ms;	/* latency of the newest sample */
	uint32_t	 outcomes;	/* bit set = skew, newest in bit 0 */
	uint8_t		 noutcomes;
	bool		 suspect;
};
TAILQ_HEAD(conv_vtep_list, conv_vtep);

struct conv_recent {
	uint64_t	 at_ms;		/* wall clock */
	struct ipaddr	 vtep;
	uint32_t	 vni;
	int64_t		 latency_ms;
	enum conv_result result;
};

struct evpn_conv {
	uint32_t	 every;		/* 0 = no stamps */
	uint64_t	(*clock)(void *);
	void		*clock_arg;
	uint64_t	 stamped;	/* versions we stamped */
	uint64_t	 stale;
	uint64_t	 skew;
	struct lat_hist	 hist;		/* ok samples, at wall ms */
	struct conv_vtep_list vteps;
	size_t		 nvteps;
	struct conv_recent recent[CONV_RECENT];
	size_t		 rhead;
	size_t		 nrecent;
};

static uint64_t
clock_wall(void *arg)
{
	(void)arg;
	return wall_msec();
}

static uint64_t
conv_now(const struct evpn_conv *c)
{
	return c->clock(c->clock_arg);
}

void
evpn_conv_init(struct evpn *e)
{
	e->conv = xcalloc(1, sizeof(*e->conv));
	e->conv->every = CONF_DEFAULT_CONV_SAMPLE;
	e->conv->clock = clock_wall;
	TAILQ_INIT(&e->conv->vteps);
}

void
evpn_conv_free(struct evpn *e)
{
	struct conv_vtep *cv;

	if (e->conv == NULL)
		return;
	while ((cv = TAILQ_FIRST(&e->conv->vteps)) != NULL) {
		TAILQ_REMOVE(&e->conv->vteps, cv, entry);
		free(cv);
	}
	free(e->conv);
	e->conv = NULL;
}

void
evpn_conv_configure(struct evpn *e, uint32_t every)
{
	e->conv->every = every;
}

void
evpn_set_wall_clock(struct evpn *e, uint64_t (*fn)(void *), void *arg)
{
	e->conv->clock = fn != NULL ? fn : clock_wall;
	e->conv->clock_arg = arg;
}

/* ---- the community ---- */

void
evpn_conv_ecomm_make(uint8_t ec[BGP_ECOMM_LEN], uint64_t ms)
{
	ec[0] = EVPN_CONV_ECOMM_TYPE;
	ec[1] = EVPN_CONV_ECOMM_SUBTYPE;
	for (int i = 0; i < 6; i++)
		ec[2 + i] = (uint8_t)(ms >> (8 * (5 - i)));
}

int
evpn_conv_ecomm_parse(const uint8_t ec[BGP_ECOMM_LEN], uint64_t *ms)
{
	struct rbuf rb;
	uint8_t type, subtype;
	uint16_t hi;
	uint32_t lo;

	rbuf_init(&rb, ec, BGP_ECOMM_LEN);
	if (rbuf_get_u8(&rb, &type) == -1 || rbuf_get_u8(&rb, &subtype) ==
	    -1 || rbuf_get_u16(&rb, &hi) == -1 || rbuf_get_u32(&rb, &lo) == -1)
		return -1;
	if (type != EVPN_CONV_ECOMM_TYPE || subtype != EVPN_CONV_ECOMM_SUBTYPE)
		return -1;
	*ms = (uint64_t)hi << 32 | lo;
	return 0;
}

int
evpn_conv_stamp_of(const struct bgp_attrs *a, uint64_t *ms)
{
	uint8_t ec[BGP_ECOMM_LEN];
	size_t it = 0;

	if (a == NULL || bgp_ecomm_find(a, EVPN_CONV_ECOMM_TYPE,
	    EVPN_CONV_ECOMM_SUBTYPE, &it, ec) == -1)
		return -1;
	return evpn_conv_ecomm_parse(ec, ms);
}

/* ---- origination ---- */

void
evpn_conv_pick(struct evpn *e, struct evpn_local *l, bool always)
{
	struct evpn_vni *v;

	if (e->conv->every == 0 || l->route.type != EVPN_RT_MACIP ||
	    l->conv_sampled)
		return;
	if (always) {
		l->conv_sampled = true;
		return;
	}
	if ((v = evpn_vni_find(e, l->vni)) == NULL)
		return;
	if (++v->conv_seen % e->conv->every == 0)
		l->conv_sampled = true;
}

static uint32_t
fnv(uint32_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* What tells one version of a route from the next. */
static uint32_t
version_fingerprint(const struct evpn_local *l, const struct ipaddr *nh,
    const uint8_t *ec, size_t n)
{
	uint8_t key[EVPN_KEY_LEN];
	uint32_t h = 2166136261u;

	evpn_key_pack(&l->route, key);
	h = fnv(h, key, sizeof(key));
	h = fnv(h, nh->u.b, ipaddr_len(nh));
	h = fnv(h, ec, n * BGP_ECOMM_LEN);
	return h != 0 ? h : 1;		/* 0 = never announced */
}

size_t
evpn_conv_stamp(struct evpn *e, struct evpn_local *l, const struct ipaddr *nh,
    uint8_t *ec, size_t n, size_t max)
{
	uint32_t fp;

	if (!l->conv_sampled || e->conv->every == 0)
		return n;
	fp = version_fingerprint(l, nh, ec, n);
	if (fp != l->conv_version) {
		l->conv_version = fp;
		l->conv_stamp_ms = 0;
		if (bgp_peer_established_count(e->bgp) > 0) {
			l->conv_stamp_ms = conv_now(e->conv);
			e->conv->stamped++;
		}
	}
	if (l->conv_stamp_ms == 0 || n >= max)
		return n;
	evpn_conv_ecomm_make(ec + BGP_ECOMM_LEN * n, l->conv_stamp_ms);
	return n + 1;
}

/* ---- reception ---- */

static struct conv_vtep *
vtep_find(struct evpn_conv *c, const struct ipaddr *vtep)
{
	struct conv_vtep *cv;

	TAILQ_FOREACH(cv, &c->vteps, entry)
		if (ipaddr_cmp(&cv->vtep, vtep) == 0)
			return cv;
	if (c->nvteps >= CONV_MAX_VTEPS)
		return NULL;
	cv = xcalloc(1, sizeof(*cv));
	cv->vtep = *vtep;
	TAILQ_INSERT_TAIL(&c->vteps, cv, entry);
	c->nvteps++;
	return cv;
}

static unsigned
skew_count(const struct conv_vtep *cv)
{
	return (unsigned)__builtin_popcount(cv->outcomes);
}

/* Note an ok or skew outcome and judge the VTEP's clock. */
static void
vtep_judge(struct conv_vtep *cv, bool skewed)
{
	char b[IPADDR_STRLEN];
	unsigned bad;

	cv->outcomes = (cv->outcomes << 1 | (skewed ? 1 : 0)) &
	    ((1u << EVPN_CONV_OUTCOMES) - 1);
	if (cv->noutcomes < EVPN_CONV_OUTCOMES)
		cv->noutcomes++;
	if (cv->noutcomes < CONV_SUSPECT_MIN)
		return;
	bad = skew_count(cv);
	if (!cv->suspect && 2 * bad > cv->noutcomes) {
		cv->suspect = true;
		log_warn("evpn: the clock of VTEP %s looks wrong: %u of its "
		    "last %u convergence samples were negative or absurd "
		    "(latest %lld ms); its samples are excluded until it is "
		    "fixed (check NTP/PTP on both ends)", ipaddr_fmt(&cv->vtep,
		    b, sizeof(b)), bad, cv->noutcomes,
		    (long long)cv->last_ms);
	} else if (cv->suspect && 4 * bad <= cv->noutcomes) {
		cv->suspect = false;
		log_info("evpn: the clock of VTEP %s looks right again: %u of "
		    "its last %u convergence samples were skewed",
		    ipaddr_fmt(&cv->vtep, b, sizeof(b)), bad, cv->noutcomes);
	}
}

/* Was the route stamped before the session it came on was up? */
static bool
conv_predates_session(struct evpn *e, const struct bgp_rib_path *p,
    uint64_t stamp, uint64_t now)
{
	const struct bgp_rib_source *src = bgp_rib_path_source(e->rib, p);
	struct bgp_peer_info pi;

	if (src == NULL || src->peer == NULL ||
	    bgp_peer_lookup(e->bgp, &src->addr, &pi) == -1 ||
	    pi.state != BGP_ST_ESTABLISHED || pi.uptime_msec > now)
		return false;
	return stamp + EVPN_CONV_SKEW_MS < now - pi.uptime_msec;
}

static enum conv_result
conv_classify(struct evpn *e, const struct bgp_rib_path *p, uint64_t stamp,
    uint64_t now, int64_t latency)
{
	if (conv_predates_session(e, p, stamp, now))
		return CONV_STALE;
	if (latency < -(int64_t)EVPN_CONV_SKEW_MS ||
	    latency > (int64_t)EVPN_CONV_MAX_MS)
		return CONV_SKEW;
	return CONV_OK;
}

static void
recent_add(struct evpn_conv *c, uint64_t now, const struct ipaddr *vtep,
    uint32_t vni, int64_t latency, enum conv_result res)
{
	struct conv_recent *r = &c->recent[c->rhead];

	r->at_ms = now;
	r->vtep = *vtep;
	r->vni = vni;
	r->latency_ms = latency;
	r->result = res;
	c->rhead = (c->rhead + 1) % CONV_RECENT;
	if (c->nrecent < CONV_RECENT)
		c->nrecent++;
}

static void
conv_count(struct evpn_conv *c, struct conv_vtep *cv, enum conv_result res,
    int64_t latency, uint64_t now)
{
	switch (res) {
	case CONV_OK:
		lat_hist_add(&c->hist, latency > 0 ? (uint32_t)latency : 0,
		    now);
		if (cv != NULL)
			cv->ok++;
		break;
	case CONV_STALE:
		c->stale++;
		if (cv != NULL)
			cv->stale++;
		break;
	case CONV_SKEW:
		c->skew++;
		if (cv != NULL)
			cv->skew++;
		break;
	}
}

void
evpn_conv_received(struct evpn *e, uint32_t vni,
    const struct bgp_rib_path *old_best, const struct bgp_rib_path *new_best)
{
	struct evpn_conv *c = e->conv;
	struct conv_vtep *cv;
	struct ipaddr vtep;
	enum conv_result res;
	uint64_t stamp, old, now;
	int64_t latency;

	if (e->reimporting || new_best == NULL ||
	    new_best->slot == BGP_RIB_PEER_LOCAL ||
	    evpn_conv_stamp_of(new_best->attrs, &stamp) == -1)
		return;
	if (old_best != NULL && old_best->slot != BGP_RIB_PEER_LOCAL &&
	    evpn_conv_stamp_of(old_best->attrs, &old) == 0 && old == stamp)
		return;		/* the same version by another path */
	now = conv_now(c);
	latency = (int64_t)now - (int64_t)stamp;
	bgp_attrs_get_mp_nexthop(new_best->attrs, &vtep);
	res = conv_classify(e, new_best, stamp, now, latency);
	cv = vtep_find(c, &vtep);
	if (cv != NULL && res != CONV_STALE) {
		cv->last_ms = latency;
		vtep_judge(cv, res == CONV_SKEW);
		if (cv->suspect)
			res = CONV_SKEW;
	}
	conv_count(c, cv, res, latency, now);
	recent_add(c, now, &vtep, vni, latency, res);
}

/* ---- views ---- */

void
evpn_conv_summary(struct evpn *e, struct lat_summary *s)
{
	uint64_t now = conv_now(e->conv);

	lat_hist_summary(&e->conv->hist, now > EVPN_CONV_WINDOW_MS ?
	    now - EVPN_CONV_WINDOW_MS : 0, s);
}

void
evpn_conv_stats(struct evpn *e, struct evpn_conv_stats *st)
{
	const struct conv_vtep *cv;

	memset(st, 0, sizeof(*st));
	st->hist = &e->conv->hist;
	st->stamped = e->conv->stamped;
	st->stale = e->conv->stale;
	st->skew = e->conv->skew;
	TAILQ_FOREACH(cv, &e->conv->vteps, entry)
		if (cv->suspect)
			st->suspect_vteps++;
}

static const char *
result_name(enum conv_result r)
{
	switch (r) {
	case CONV_OK:
		return "ok";
	case CONV_STALE:
		return "stale";
	case CONV_SKEW:
	default:
		return "skew";
	}
}

static json_t *
vteps_json(const struct evpn_conv *c)
{
	const struct conv_vtep *cv;
	char b[IPADDR_STRLEN];
	json_t *l = json_array();

	TAILQ_FOREACH(cv, &c->vteps, entry)
		json_array_append_new(l, json_pack("{s:s, s:I, s:I, s:I, s:I, "
		    "s:b}", "vtep", ipaddr_fmt(&cv->vtep, b, sizeof(b)),
		    "samples", (json_int_t)cv->ok, "skew", (json_int_t)cv->skew,
		    "stale", (json_int_t)cv->stale, "lastLatencyMs",
		    (json_int_t)cv->last_ms, "clockSuspect", cv->suspect));
	return l;
}

/* Newest first. */
static json_t *
recent_json(const struct evpn_conv *c)
{
	char b[IPADDR_STRLEN];
	json_t *l = json_array();

	for (size_t i = 1; i <= c->nrecent; i++) {
		const struct conv_recent *r =
		    &c->recent[(c->rhead + CONV_RECENT - i) % CONV_RECENT];

		json_array_append_new(l, json_pack("{s:I, s:s, s:I, s:I, s:s}",
		    "timeMs", (json_int_t)r->at_ms, "vtep", ipaddr_fmt(&r->vtep,
		    b, sizeof(b)), "vni", (json_int_t)r->vni, "latencyMs",
		    (json_int_t)r->latency_ms, "result",
		    result_name(r->result)));
	}
	return l;
}

json_t *
evpn_convergence_json(struct evpn *e)
{
	const struct evpn_conv *c = e->conv;
	struct lat_summary s;

	evpn_conv_summary(e, &s);
	return json_pack("{s:{s:I, s:I, s:s}, s:s, s:I, s:I, s:I, "
	    "s:{s:I, s:I, s:I, s:f}, s:{s:I, s:I, s:I, s:I, s:I}, s:o, s:o}",
	    "sampling", "every", (json_int_t)c->every, "stamped",
	    (json_int_t)c->stamped, "ecommunity", "0x88:0x54",
	    "measuredAt", "dataplane-issue",
	    "skewToleranceMs", (json_int_t)EVPN_CONV_SKEW_MS,
	    "maxLatencyMs", (json_int_t)EVPN_CONV_MAX_MS,
	    "windowS", (json_int_t)(EVPN_CONV_WINDOW_MS / 1000),
	    "received", "samples", (json_int_t)c->hist.count, "skew",
	    (json_int_t)c->skew, "stale", (json_int_t)c->stale,
	    "sumSeconds", (double)c->hist.sum_ms / 1000.0,
	    "window", "count", (json_int_t)s.count, "p50Ms",
	    (json_int_t)s.p50_ms, "p90Ms", (json_int_t)s.p90_ms, "p99Ms",
	    (json_int_t)s.p99_ms, "maxMs", (json_int_t)s.max_ms,
	    "vteps", vteps_json(c), "recent", recent_json(c));
}
