/*
 * The shadow inventory in the daemon: per-pool engines, the 1 s tick
 * and the plans after events, pre-allocation and release through ipamd,
 * claims, views.  See
 * shadowd.h for the shape.
 *
 * A pre-allocation lives in three places: the allocator (preallocated
 * allocation), the store (durable row) and here, in its pool's warm
 * list (committed ones, oldest first, with the time they were
 * committed and advertised) or its "making" count (submitted, not yet
 * committed).  Completions find their pool again by name, so a pool
 * retired by a reload while a commit is in flight is no dangling
 * pointer: the late pre-allocation is released instead.
 */
#include "ipamd/shadowd.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "common/buf.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/queue.h"
#include "common/util.h"
#include "conf/conf.h"
#include "ipamd/ipamd.h"
#include "evpn/evpn.h"

#define SHADOWD_SIZE_MAX	9007199254740992.0	/* 2^53 */

struct warm {
	TAILQ_ENTRY(warm)	 entry;
	uint64_t		 made_ms;	/* committed and advertised */
	char			 resource[IPAM_RESOURCE_MAX + 1];
};
TAILQ_HEAD(warm_list, warm);

struct shadowd_pool {
	TAILQ_ENTRY(shadowd_pool) entry;
	struct shadowd		*sd;
	char			 name[IPAM_NAME_MAX + 1];
	uint32_t		 vni;
	enum ipam_family	 family;	/* of its pre-allocations */
	struct shadow		*engine;
	struct warm_list	 warm;		/* committed, oldest first */
	uint32_t		 nwarm;
	uint32_t		 making;	/* submitted, not committed */
	uint64_t		 next_seq;	/* for names */
	uint64_t		 alert_seq;	/* newest alert logged */
	uint64_t		 alerts[SHADOWD_ALERT_KINDS];
	/* Lead time (shadowd.h): the configured one, the fabric's last
	 * distribution and until when it holds, what is used now. */
	uint32_t		 lead_conf_ms;
	struct shadowd_convergence fabric;
	uint64_t		 fabric_until_ms;
	struct shadowd_convergence lead_dist;	/* of the source used */
	uint32_t		 lead_ms;
	enum shadowd_lead_source lead_source;
	uint64_t		 seed;		/* random, for its life */
	bool			 replan;	/* an event since the plan */
	double			 traffic_rate;	/* packets/s, as measured */
	/* Label keys naming a request's group (conf group-by). */
	char			 group_by[CONF_SHADOW_GROUP_KEYS]
				    [CONF_SHADOW_GROUP_KEY_MAX + 1];
	uint8_t			 ngroup_by;
	/* Learned state in the store: restored at creation, saved. */
	bool			 restored;
	uint64_t		 saved_ms;	/* last put, engine clock */
	int64_t			 saved_at;	/* unix seconds; 0 never */
};
TAILQ_HEAD(shadowd_pool_list, shadowd_pool);

struct shadowd {
	struct ipamd		*im;
	struct event		*timer;
	struct event		*plan_ev;	/* deferred per-event plans */
	struct shadowd_pool_list pools;
	uint64_t		 (*clock)(void *);
	void			*clock_arg;
	shadowd_convergence_fn	*local_conv;
	void			*local_conv_arg;
	bool			 stopped;
};

/* One pre-allocation submitted to the store. */
struct make_op {
	struct shadowd		*sd;
	char			 pool[IPAM_NAME_MAX + 1];
};

static uint64_t
clock_mono(void *arg)
{
	(void)arg;
	return mono_msec();
}

static uint64_t
now_ms(const struct shadowd *sd)
{
	return sd->clock(sd->clock_arg);
}

void
shadowd_set_clock(struct shadowd *sd, uint64_t (*fn)(void *), void *arg)
{
	sd->clock = fn != NULL ? fn : clock_mono;
	sd->clock_arg = arg;
}

static enum shadow_model
model_from_conf(enum conf_shadow_model m)
{
	switch (m) {
	case CONF_SHADOW_MODEL_HOLT:
		return SHADOW_MODEL_HOLT;
	case CONF_SHADOW_MODEL_KALMAN:
		return SHADOW_MODEL_KALMAN;
	case CONF_SHADOW_MODEL_CHURN:
		return SHADOW_MODEL_CHURN;
	case CONF_SHADOW_MODEL_ENSEMBLE:
	default:
		return SHADOW_MODEL_ENSEMBLE;
	}
}

void
shadowd_params_from_conf(const struct conf_ipam_shadow *cs,
    struct shadow_params *p)
{
	shadow_params_default(p);
	p->horizon_s = cs->horizon;
	p->confidence = (double)cs->confidence / CONF_MICRO;
	p->min_warm = cs->min_warm;
	p->max_warm = cs->max_warm;
	p->max_pool_fraction = (double)cs->max_pool_fraction / CONF_MICRO;
	p->wastage_weight = (double)cs->cost_wastage / CONF_MICRO;
	p->delay_weight = (double)cs->cost_delay / CONF_MICRO;
	p->mode = cs->mode == CONF_SHADOW_OBSERVE ? SHADOW_MODE_OBSERVE :
	    SHADOW_MODE_ACTIVE;
	p->lead_s = cs->lead_time / 1000.0;
	p->tick_ms = SHADOWD_TICK_MS;
	p->adapt = cs->adapt;
	p->jitter = (double)cs->jitter / CONF_MICRO;
	p->model = model_from_conf(cs->model);
}

/* ---- lead time ---- */

const char *
shadowd_lead_source_name(enum shadowd_lead_source s)
{
	switch (s) {
	case SHADOWD_LEAD_FABRIC:
		return "fabric";
	case SHADOWD_LEAD_LOCAL:
		return "local";
	case SHADOWD_LEAD_CONFIGURED:
	default:
		return "configured";
	}
}

/* The first source with enough samples (shadowd.h). */
static void
lead_choose(struct shadowd_pool *sp, uint64_t now)
{
	struct shadowd *sd = sp->sd;
	struct shadowd_convergence local;

	memset(&local, 0, sizeof(local));
	if (sd->local_conv != NULL)
		sd->local_conv(sd->local_conv_arg, &local);
	if (now < sp->fabric_until_ms &&
	    sp->fabric.count >= SHADOWD_LEAD_MIN_SAMPLES) {
		sp->lead_source = SHADOWD_LEAD_FABRIC;
		sp->lead_dist = sp->fabric;
	} else if (local.count >= SHADOWD_LEAD_MIN_SAMPLES) {
		sp->lead_source = SHADOWD_LEAD_LOCAL;
		sp->lead_dist = local;
	} else {
		sp->lead_source = SHADOWD_LEAD_CONFIGURED;
		memset(&sp->lead_dist, 0, sizeof(sp->lead_dist));
		sp->lead_ms = sp->lead_conf_ms;
		return;
	}
	sp->lead_ms = sp->lead_dist.p90_ms;
}

/* Choose the lead again; the engine plans with it as soon as it moves
 * (not only from the next miss's wait). */
static void
lead_refresh(struct shadowd_pool *sp, uint64_t now)
{
	uint32_t before = sp->lead_ms;

	lead_choose(sp, now);
	if (sp->engine != NULL && sp->lead_ms != before)
		shadow_set_lead(sp->engine, shadowd_lead_s(sp));
}

double
shadowd_lead_s(const struct shadowd_pool *sp)
{
	return sp->lead_ms / 1000.0;
}

void
shadowd_set_local_convergence(struct shadowd *sd, shadowd_convergence_fn *fn,
    void *arg)
{
	struct shadowd_pool *sp;

	if (sd == NULL)
		return;
	sd->local_conv = fn;
	sd->local_conv_arg = arg;
	TAILQ_FOREACH(sp, &sd->pools, entry)
		lead_refresh(sp, now_ms(sd));
}

static void
fabric_set(struct shadowd_pool *sp, const struct shadowd_convergence *c,
    uint64_t ttl_ms)
{
	uint64_t now = now_ms(sp->sd);

	sp->fabric = *c;
	sp->fabric_until_ms = now + ttl_ms;
	lead_refresh(sp, now);
}

int
shadowd_set_fabric_convergence(struct shadowd *sd, const char *pool,
    const struct shadowd_convergence *c, uint64_t ttl_ms)
{
	struct shadowd_pool *sp;

	if (sd == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (pool == NULL) {
		TAILQ_FOREACH(sp, &sd->pools, entry)
			fabric_set(sp, c, ttl_ms);
		return 0;
	}
	if ((sp = shadowd_pool(sd, pool)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	fabric_set(sp, c, ttl_ms);
	return 0;
}

/* ---- groups ---- */

static void
group_keys_set(struct shadowd_pool *sp, const struct conf_ipam_shadow *cs)
{
	memcpy(sp->group_by, cs->group_by, sizeof(sp->group_by));
	sp->ngroup_by = cs->ngroup_by;
}

/* "key=value" of the first group-by key the labels carry; NULL: none. */
static const char *
group_of(const struct shadowd_pool *sp, const char *labels, char *buf,
    size_t len)
{
	char value[IPAM_LABEL_VALUE_MAX + 1];

	for (uint8_t i = 0; i < sp->ngroup_by; i++) {
		if (ipam_label_get(labels, sp->group_by[i], value,
		    sizeof(value)) == NULL || value[0] == '\0')
			continue;
		snprintf(buf, len, "%s=%s", sp->group_by[i], value);
		return buf;
	}
	return NULL;
}

/* What each group holds now, from the allocator (at start). */
static int
count_group(const struct ipam_alloc *a, void *arg)
{
	struct shadowd_pool *sp = arg;
	char g[SHADOW_GROUP_LABEL_MAX + 1];

	if (!a->preallocated)
		shadow_group_held(sp->engine, now_ms(sp->sd), group_of(sp,
		    a->labels, g, sizeof(g)), 1);
	return 0;
}

static void
groups_count(struct shadowd_pool *sp)
{
	shadow_groups_held_reset(sp->engine);
	if (sp->ngroup_by > 0)
		ipam_foreach(ipamd_ipam(sp->sd->im), sp->name, count_group,
		    sp);
}

/* ---- learned state across restarts ---- */

/* The pool's saved state, if the store has one that the engine takes;
 * anything else is a cold start, said once in the log. */
static void
state_restore(struct shadowd_pool *sp, uint64_t now)
{
	struct ipam_store *store = ipamd_store(sp->sd->im);
	const void *blob;
	size_t len;
	int64_t saved, age_s;
	char err[128];

	sp->saved_ms = now;
	if (store == NULL || ipam_store_shadow_get(store, sp->name, &blob,
	    &len, &saved) == -1)
		return;
	age_s = (int64_t)time(NULL) - saved;
	if (age_s < 0)
		age_s = 0;
	if (shadow_state_restore(sp->engine, blob, len, now,
	    (uint64_t)age_s * 1000, err, sizeof(err)) == -1) {
		log_warn("shadow: pool %s: saved state ignored, starting "
		    "cold: %s", sp->name, err);
		return;
	}
	sp->restored = true;
	sp->saved_at = saved;
	log_info("shadow: pool %s: learned state restored (saved %llds "
	    "ago)", sp->name, (long long)age_s);
}

/* Hand the engine's state to the store (its writer commits it). */
static void
state_save(struct shadowd_pool *sp, uint64_t now)
{
	struct ipam_store *store = ipamd_store(sp->sd->im);
	struct wbuf wb;
	int64_t t = (int64_t)time(NULL);

	if (store == NULL)
		return;
	wbuf_init(&wb, SHADOW_STATE_MAX);
	if (shadow_state_save(sp->engine, &wb) == -1 ||
	    ipam_store_shadow_put(store, sp->name, wb.data, wb.len, t, NULL,
	    NULL) == -1)
		log_warn("shadow: pool %s: saving the learned state: %s",
		    sp->name, strerror(errno));
	else {
		sp->saved_ms = now;
		sp->saved_at = t;
	}
	wbuf_free(&wb);
}

/* ---- pools ---- */

/* Size and free count of the family a pre-allocation consumes. */
static void
pool_room(const struct shadowd_pool *sp, uint64_t *size, uint64_t *free)
{
	const struct ipam_pool *p = ipam_pool_find(ipamd_ipam(sp->sd->im),
	    sp->name);
	const struct ipam_family_stats *f;
	struct ipam_pool_stats st;

	*size = *free = 0;
	if (p == NULL)
		return;
	ipam_pool_stats(p, &st);
	f = st.v4.prefixes > 0 ? &st.v4 : &st.v6;
	*size = (uint64_t)(f->size < SHADOWD_SIZE_MAX ? f->size :
	    SHADOWD_SIZE_MAX);
	*free = (uint64_t)(f->free < SHADOWD_SIZE_MAX ? f->free :
	    SHADOWD_SIZE_MAX);
}

static enum ipam_family
pool_family(const struct ipam_pool *p)
{
	struct ipam_pool_stats st;

	ipam_pool_stats(p, &st);
	if (st.v4.prefixes > 0 && st.v6.prefixes > 0)
		return IPAM_FAMILY_DUAL;
	return st.v4.prefixes > 0 ? IPAM_FAMILY_IPV4 : IPAM_FAMILY_IPV6;
}

static void
warm_append(struct shadowd_pool *sp, const char *resource, uint64_t made)
{
	struct warm *w = xcalloc(1, sizeof(*w));

	strlcpy_s(w->resource, resource, sizeof(w->resource));
	w->made_ms = made;
	TAILQ_INSERT_TAIL(&sp->warm, w, entry);
	sp->nwarm++;
}

static void
warm_remove(struct shadowd_pool *sp, struct warm *w)
{
	TAILQ_REMOVE(&sp->warm, w, entry);
	sp->nwarm--;
	free(w);
}

struct restore_ctx {
	struct shadowd_pool	*sp;
	uint64_t		 made;
};

/* Pre-allocations restored from the store count as ready: their routes
 * were re-advertised at start and had converged before the restart. */
static int
restore_warm(const struct ipam_alloc *a, void *arg)
{
	struct restore_ctx *rc = arg;

	if (a->preallocated)
		warm_append(rc->sp, a->resource, rc->made);
	return 0;
}

/*
 * The engine's params: the block's, the lead time in use (measured, if
 * it is) and the pool's own seed.  The seed keys the hash of the
 * neighbour-miss targets (ipam/shadow_traffic.c), which whoever sends
 * ARP chooses: drawn at random per engine, nobody can aim collisions
 * at it, and a reload keeps it so the engine's table stays valid.
 */
static void
pool_params(const struct shadowd_pool *sp, const struct conf_ipam_shadow *cs,
    struct shadow_params *params)
{
	shadowd_params_from_conf(cs, params);
	params->lead_s = shadowd_lead_s(sp);
	params->seed = sp->seed;
}

/* The block's settings into an engine that exists: its params, its
 * group keys and its configured lead time; the pool's VNI and families
 * again (a pool made at run time may have changed them). */
static void
pool_configure(struct shadowd_pool *sp, const struct conf_ipam_shadow *cs)
{
	const struct ipam_pool *p = ipam_pool_find(ipamd_ipam(sp->sd->im),
	    sp->name);
	struct shadow_params params;

	if (p != NULL) {
		sp->vni = ipam_pool_vni(p);
		sp->family = pool_family(p);
	}
	sp->lead_conf_ms = cs->lead_time;
	group_keys_set(sp, cs);
	lead_refresh(sp, now_ms(sp->sd));
	pool_params(sp, cs, &params);
	shadow_set_params(sp->engine, &params);
}

static struct shadowd_pool *
pool_create(struct shadowd *sd, const char *name,
    const struct conf_ipam_shadow *cs)
{
	const struct ipam_pool *p = ipam_pool_find(ipamd_ipam(sd->im), name);
	struct shadowd_pool *sp;
	struct shadow_params params;
	struct restore_ctx rc;
	uint64_t size, free_;
	uint64_t now = now_ms(sd);

	if (p == NULL)
		return NULL;
	sp = xcalloc(1, sizeof(*sp));
	sp->sd = sd;
	strlcpy_s(sp->name, name, sizeof(sp->name));
	sp->vni = ipam_pool_vni(p);
	sp->family = pool_family(p);
	TAILQ_INIT(&sp->warm);
	sp->lead_conf_ms = cs->lead_time;
	lead_refresh(sp, now);
	random_fill(&sp->seed, sizeof(sp->seed));
	pool_params(sp, cs, &params);
	pool_room(sp, &size, &free_);
	sp->engine = shadow_new(&params, size);
	state_restore(sp, now);
	group_keys_set(sp, cs);
	rc.sp = sp;
	rc.made = now > sp->lead_ms ? now - sp->lead_ms : 0;
	ipam_foreach(ipamd_ipam(sd->im), sp->name, restore_warm, &rc);
	groups_count(sp);
	TAILQ_INSERT_TAIL(&sd->pools, sp, entry);
	log_info("shadow: pool %s: %s mode, %u pre-allocations restored",
	    sp->name, shadow_mode_name(params.mode), sp->nwarm);
	return sp;
}

/* Pre-allocations are named in their pool's tenant. */
static const char *
sp_tenant(const struct shadowd_pool *sp)
{
	const struct ipam_pool *p = ipam_pool_find(ipamd_ipam(sp->sd->im),
	    sp->name);

	return p != NULL ? ipam_pool_tenant(p) : NULL;
}

/* The pool lost its shadow block: release what it holds unused. */
static void
pool_retire(struct shadowd *sd, struct shadowd_pool *sp)
{
	struct warm *w;
	char name[IPAM_RESOURCE_MAX + 1];

	state_save(sp, now_ms(sd));	/* for when the block comes back */
	while ((w = TAILQ_FIRST(&sp->warm)) != NULL) {
		strlcpy_s(name, w->resource, sizeof(name));
		warm_remove(sp, w);
		if (ipamd_release(sd->im, sp_tenant(sp), name,
		    IPAMD_ACTOR_SHADOW, NULL, NULL) == -1)
			log_warn("shadow: releasing %s: %s", name,
			    strerror(errno));
	}
	log_info("shadow: pool %s: shadow inventory off", sp->name);
	TAILQ_REMOVE(&sd->pools, sp, entry);
	shadow_free(sp->engine);
	free(sp);
}

struct shadowd_pool *
shadowd_pool(struct shadowd *sd, const char *pool)
{
	struct shadowd_pool *sp;

	if (sd == NULL || pool == NULL)
		return NULL;
	TAILQ_FOREACH(sp, &sd->pools, entry)
		if (strcmp(sp->name, pool) == 0)
			return sp;
	return NULL;
}

uint32_t
shadowd_pool_horizon(const struct shadowd_pool *sp)
{
	return shadow_params(sp->engine)->horizon_s;
}

uint64_t
shadowd_pool_demand(const struct shadowd_pool *sp)
{
	struct shadow_report rep;
	double d;

	shadow_report(sp->engine, &rep);
	d = ceil(rep.forecast.horizon.ptarget);
	return d > 0 && d < 1e9 ? (uint64_t)d : 0;
}

/* ---- making and releasing pre-allocations ---- */

static void
make_done(const struct ipamd_result *res, void *arg)
{
	struct make_op *mo = arg;
	struct shadowd *sd = mo->sd;
	struct shadowd_pool *sp = shadowd_pool(sd, mo->pool);

	if (sd->stopped || res->status != 0 || res->alloc == NULL) {
		if (sp != NULL && sp->making > 0)
			sp->making--;
		free(mo);
		return;
	}
	if (sp == NULL) {
		/* Retired while the commit was in flight. */
		ipamd_release(sd->im, res->alloc->tenant,
		    res->alloc->resource, IPAMD_ACTOR_SHADOW, NULL, NULL);
		free(mo);
		return;
	}
	if (sp->making > 0)	/* the pool may be a new one, re-created */
		sp->making--;
	/* ipamd advertised it before calling us: it converges from now. */
	warm_append(sp, res->alloc->resource, now_ms(sd));
	shadow_on_prealloc_made(sp->engine, now_ms(sd));
	free(mo);
}

static void
make_one(struct shadowd_pool *sp)
{
	struct shadowd *sd = sp->sd;
	const struct ipam *ipam = ipamd_ipam(sd->im);
	struct ipam_request req;
	struct make_op *mo;
	char name[IPAM_RESOURCE_MAX + 1];

	do
		snprintf(name, sizeof(name), SHADOWD_PREFIX "%s:%llu",
		    sp->name, (unsigned long long)++sp->next_seq);
	while (ipam_find(ipam, sp_tenant(sp), name) != NULL);
	memset(&req, 0, sizeof(req));
	req.resource = name;
	req.family = sp->family;
	req.preallocated = true;
	mo = xcalloc(1, sizeof(*mo));
	mo->sd = sd;
	strlcpy_s(mo->pool, sp->name, sizeof(mo->pool));
	sp->making++;
	if (ipamd_allocate(sd->im, sp->name, &req, IPAMD_ACTOR_SHADOW,
	    make_done, mo) == -1) {
		sp->making--;
		log_warn("shadow: pool %s: pre-allocation failed: %s",
		    sp->name, strerror(errno));
		free(mo);
	}
}

/* The youngest unused ones: they have converged least, and the oldest
 * are the ones the next requests take. */
static void
release_youngest(struct shadowd_pool *sp, uint32_t n)
{
	struct warm *w;
	char name[IPAM_RESOURCE_MAX + 1];

	while (n-- > 0 && (w = TAILQ_LAST(&sp->warm, warm_list)) != NULL) {
		strlcpy_s(name, w->resource, sizeof(name));
		warm_remove(sp, w);
		shadow_on_prealloc_released(sp->engine, now_ms(sp->sd));
		if (ipamd_release(sp->sd->im, sp_tenant(sp), name,
		    IPAMD_ACTOR_SHADOW, NULL, NULL) == -1)
			log_warn("shadow: pool %s: releasing %s: %s",
			    sp->name, name, strerror(errno));
	}
}

/* ---- ticks ---- */

static void
warm_counts(const struct shadowd_pool *sp, uint64_t now, uint32_t *ready,
    uint32_t *converging)
{
	const struct warm *w;

	*ready = 0;
	*converging = sp->making;
	TAILQ_FOREACH(w, &sp->warm, entry) {
		if (now - w->made_ms >= sp->lead_ms)
			(*ready)++;
		else
			(*converging)++;
	}
}

/* Each new alert is logged once, at warning level, and counted. */
static void
alerts_log(struct shadowd_pool *sp)
{
	struct shadow_alert al[SHADOW_ALERT_RING];
	size_t n = shadow_alerts(sp->engine, sp->alert_seq, al, nitems(al));

	for (size_t i = 0; i < n; i++) {
		log_warn("shadow: pool %s vni %u: %s alert (score %.2f): %s",
		    sp->name, sp->vni, shadow_alert_kind_name(al[i].kind),
		    al[i].score, al[i].message);
		if ((unsigned)al[i].kind < SHADOWD_ALERT_KINDS)
			sp->alerts[al[i].kind]++;
		sp->alert_seq = al[i].seq;
	}
}

/* A tick (learn, then decide) or a plan (decide between ticks): the
 * engine's entry point is the only difference. */
static void
pool_decide(struct shadowd_pool *sp, uint64_t now,
    void (*decide)(struct shadow *, uint64_t, const struct shadow_state *,
    struct shadow_decision *))
{
	struct shadow_state st;
	struct shadow_decision dec;
	uint32_t ready, converging;

	lead_refresh(sp, now);
	warm_counts(sp, now, &ready, &converging);
	memset(&st, 0, sizeof(st));
	st.warm_ready = ready;
	st.warm_converging = converging;
	pool_room(sp, &st.pool_size, &st.pool_free);
	decide(sp->engine, now, &st, &dec);
	for (uint32_t i = 0; i < dec.want_alloc; i++)
		make_one(sp);
	if (dec.want_release > 0)
		release_youngest(sp, dec.want_release);
	alerts_log(sp);
}

void
shadowd_tick(struct shadowd *sd)
{
	struct shadowd_pool *sp;
	uint64_t now;

	if (sd == NULL || sd->stopped)
		return;
	now = now_ms(sd);
	TAILQ_FOREACH(sp, &sd->pools, entry) {
		sp->replan = false;
		pool_decide(sp, now, shadow_tick);
		shadow_groups_tick(sp->engine, now);
		if (now - sp->saved_ms >= SHADOWD_SAVE_MS)
			state_save(sp, now);
	}
}

/*
 * Decide per event: a request, a release, churn or an intent marks its
 * pool and the plan runs once the current callback has returned (never
 * inside ipamd's allocation path, and once for a storm of churn).
 */
static void
plan_cb(evutil_socket_t fd, short what, void *arg)
{
	struct shadowd *sd = arg;
	struct shadowd_pool *sp;
	uint64_t now;

	(void)fd;
	(void)what;
	if (sd->stopped)
		return;
	now = now_ms(sd);
	TAILQ_FOREACH(sp, &sd->pools, entry)
		if (sp->replan) {
			sp->replan = false;
			pool_decide(sp, now, shadow_plan);
		}
}

static void
plan_soon(struct shadowd_pool *sp)
{
	struct shadowd *sd = sp->sd;

	sp->replan = true;
	if (!sd->stopped && sd->plan_ev != NULL)
		event_active(sd->plan_ev, EV_TIMEOUT, 0);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	shadowd_tick(arg);
}

/* ---- events ---- */

void
shadowd_churn(struct shadowd *sd, uint32_t vni, int kind)
{
	struct shadowd_pool *sp;
	uint64_t now;

	if (sd == NULL || vni == 0)
		return;
	now = now_ms(sd);
	TAILQ_FOREACH(sp, &sd->pools, entry) {
		if (sp->vni != vni)
			continue;
		switch (kind) {
		case EVPN_CHURN_REMOTE_ADD:
			shadow_on_route_add(sp->engine, now);
			break;
		case EVPN_CHURN_REMOTE_DEL:
			shadow_on_route_del(sp->engine, now);
			break;
		case EVPN_CHURN_LOCAL_LEARN:
			shadow_on_mac_learn(sp->engine, now);
			break;
		case EVPN_CHURN_MAC_MOVE:
			shadow_on_mac_move(sp->engine, now);
			break;
		default:
			continue;
		}
		plan_soon(sp);
	}
}

void
shadowd_on_release(struct shadowd *sd, const struct ipam_alloc *a)
{
	struct shadowd_pool *sp = shadowd_pool(sd, a->pool);
	char g[SHADOW_GROUP_LABEL_MAX + 1];

	if (sp != NULL) {
		shadow_on_release(sp->engine, now_ms(sd));
		shadow_group_release(sp->engine, now_ms(sd), group_of(sp,
		    a->labels, g, sizeof(g)));
		plan_soon(sp);
	}
}

int
shadowd_intent(struct shadowd *sd, const char *pool, uint32_t count,
    uint32_t horizon_s)
{
	struct shadowd_pool *sp = shadowd_pool(sd, pool);

	if (sp == NULL) {
		errno = ENOENT;
		return -1;
	}
	shadow_on_intent(sp->engine, now_ms(sd), count, horizon_s);
	plan_soon(sp);
	return 0;
}

int
shadowd_traffic(struct shadowd *sd, const char *pool, double rate)
{
	struct shadowd_pool *sp = shadowd_pool(sd, pool);

	if (sp == NULL) {
		errno = ENOENT;
		return -1;
	}
	sp->traffic_rate = rate;
	shadow_traffic(sp->engine, now_ms(sd), rate);
	return 0;
}

int
shadowd_neigh_miss(struct shadowd *sd, const char *pool,
    const struct ipaddr *source, const struct ipaddr *target)
{
	struct shadowd_pool *sp = shadowd_pool(sd, pool);

	if (sp == NULL) {
		errno = ENOENT;
		return -1;
	}
	/* A repeat or a scanner changes no forecast: no plan for it, so
	 * a scan cannot make the loop plan on every turn. */
	if (shadow_neigh_miss(sp->engine, now_ms(sd), source, target))
		plan_soon(sp);
	return 0;
}

bool
shadowd_take(struct shadowd_pool *sp, const struct ipam_request *req,
    char *prev, size_t prevlen, double *wait_s)
{
	uint64_t now = now_ms(sp->sd), age;
	char g[SHADOW_GROUP_LABEL_MAX + 1];
	struct warm *w;

	shadow_on_alloc(sp->engine, now);
	shadow_group_request(sp->engine, now, group_of(sp, req->labels, g,
	    sizeof(g)));
	plan_soon(sp);
	/* A pre-allocation has a generated MAC and its pool's family. */
	if (req->mac != NULL || req->family != sp->family ||
	    (w = TAILQ_FIRST(&sp->warm)) == NULL)
		return false;
	age = now - w->made_ms;
	*wait_s = age >= sp->lead_ms ? 0.0 :
	    (double)(sp->lead_ms - age) / 1000.0;
	strlcpy_s(prev, w->resource, prevlen);
	warm_remove(sp, w);
	return true;
}

void
shadowd_served(struct shadowd_pool *sp, bool hit, double wait_s)
{
	shadow_on_served(sp->engine, now_ms(sp->sd), hit, wait_s);
}

void
shadowd_forget(struct shadowd *sd, const char *resource)
{
	struct shadowd_pool *sp;
	struct warm *w;

	if (sd == NULL)
		return;
	TAILQ_FOREACH(sp, &sd->pools, entry)
		TAILQ_FOREACH(w, &sp->warm, entry)
			if (strcmp(w->resource, resource) == 0) {
				warm_remove(sp, w);
				shadow_on_prealloc_released(sp->engine,
				    now_ms(sd));
				plan_soon(sp);
				return;
			}
}

/* ---- life cycle ---- */

struct shadowd *
shadowd_create(struct event_base *base, struct ipamd *im,
    const struct config *conf)
{
	struct shadowd *sd = xcalloc(1, sizeof(*sd));
	const struct conf_ipam_pool *cp;
	struct timeval tv = { SHADOWD_TICK_MS / 1000,
	    (SHADOWD_TICK_MS % 1000) * 1000 };

	sd->im = im;
	sd->clock = clock_mono;
	TAILQ_INIT(&sd->pools);
	TAILQ_FOREACH(cp, &conf->ipam_pools, entry)
		if (cp->has_shadow)
			pool_create(sd, cp->name, &cp->shadow);
	if ((sd->timer = event_new(base, -1, EV_PERSIST, timer_cb, sd)) ==
	    NULL || evtimer_add(sd->timer, &tv) == -1)
		fatalx("shadow: cannot set up the tick timer");
	if ((sd->plan_ev = event_new(base, -1, 0, plan_cb, sd)) == NULL)
		fatalx("shadow: cannot set up the plan event");
	return sd;
}

/* Pools made at run time are not the config's: shadowd_pool_set(). */
static bool
pool_is_runtime(const struct shadowd *sd, const char *name)
{
	const struct ipam_pool *p = ipam_pool_find(ipamd_ipam(sd->im), name);

	return p != NULL && ipam_pool_runtime(p);
}

void
shadowd_reload(struct shadowd *sd, const struct config *next)
{
	const struct conf_ipam_pool *cp;
	struct shadowd_pool *sp, *tmp;

	TAILQ_FOREACH_SAFE(sp, &sd->pools, entry, tmp) {
		if (pool_is_runtime(sd, sp->name))
			continue;
		cp = conf_ipam_pool_find(next, sp->name);
		if (cp == NULL || !cp->has_shadow)
			pool_retire(sd, sp);
		else
			pool_configure(sp, &cp->shadow);
	}
	TAILQ_FOREACH(cp, &next->ipam_pools, entry)
		if (cp->has_shadow && shadowd_pool(sd, cp->name) == NULL)
			pool_create(sd, cp->name, &cp->shadow);
}

int
shadowd_pool_set(struct shadowd *sd, const char *pool,
    const struct conf_ipam_shadow *cs)
{
	struct shadowd_pool *sp;

	if (sd == NULL || sd->stopped) {
		errno = ENOENT;
		return -1;
	}
	sp = shadowd_pool(sd, pool);
	if (cs == NULL) {
		if (sp != NULL)
			pool_retire(sd, sp);
		return 0;
	}
	if (sp != NULL) {
		pool_configure(sp, cs);
		plan_soon(sp);
		return 0;
	}
	if ((sp = pool_create(sd, pool, cs)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	plan_soon(sp);
	return 0;
}

uint32_t
shadowd_pool_making(const struct shadowd_pool *sp)
{
	return sp->making;
}

uint64_t
shadowd_pool_seed(const struct shadowd_pool *sp)
{
	return shadow_params(sp->engine)->seed;
}

void
shadowd_stop(struct shadowd *sd)
{
	struct shadowd_pool *sp;

	if (sd == NULL)
		return;
	if (!sd->stopped)
		TAILQ_FOREACH(sp, &sd->pools, entry)
			state_save(sp, now_ms(sd));
	sd->stopped = true;
	if (sd->timer != NULL)
		event_free(sd->timer);
	sd->timer = NULL;
	if (sd->plan_ev != NULL)
		event_free(sd->plan_ev);
	sd->plan_ev = NULL;
}

void
shadowd_free(struct shadowd *sd)
{
	struct shadowd_pool *sp;
	struct warm *w;

	if (sd == NULL)
		return;
	shadowd_stop(sd);
	while ((sp = TAILQ_FIRST(&sd->pools)) != NULL) {
		while ((w = TAILQ_FIRST(&sp->warm)) != NULL)
			warm_remove(sp, w);
		TAILQ_REMOVE(&sd->pools, sp, entry);
		shadow_free(sp->engine);
		free(sp);
	}
	free(sd);
}

/* ---- views ---- */

void
shadowd_foreach(struct shadowd *sd,
    void (*cb)(const struct shadowd_view *, void *), void *arg)
{
	struct shadowd_pool *sp;
	struct shadowd_view v;
	uint64_t now;

	if (sd == NULL)
		return;
	now = now_ms(sd);
	TAILQ_FOREACH(sp, &sd->pools, entry) {
		memset(&v, 0, sizeof(v));
		v.pool = sp->name;
		v.vni = sp->vni;
		warm_counts(sp, now, &v.ready, &v.converging);
		v.lead_ms = sp->lead_ms;
		v.lead_source = sp->lead_source;
		memcpy(v.alerts, sp->alerts, sizeof(v.alerts));
		shadow_report(sp->engine, &v.report);
		cb(&v, arg);
	}
}

static json_t *
quantiles_json(const struct shadow_quantiles *q)
{
	return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}",
	    "windowS", q->window_s, "mean", q->mean, "p50", q->p50,
	    "p80", q->p80, "p90", q->p90, "p99", q->p99, "pConfidence",
	    q->pconf, "pTarget", q->ptarget);
}

static json_t *
models_json(const struct shadow_report *r)
{
	return json_pack("{s:{s:f, s:f, s:f, s:f, s:f, s:b}, "
	    "s:{s:f, s:f, s:f, s:f, s:f}, "
	    "s:{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}}",
	    "holt", "weight", r->weights[SHADOW_MODEL_HOLT], "rate",
	    r->model_rate[SHADOW_MODEL_HOLT], "mse",
	    r->model_mse[SHADOW_MODEL_HOLT], "level", r->holt_level,
	    "trend", r->holt_trend, "seasonal", r->seasonal,
	    "kalman", "weight", r->weights[SHADOW_MODEL_KALMAN], "rate",
	    r->model_rate[SHADOW_MODEL_KALMAN], "mse",
	    r->model_mse[SHADOW_MODEL_KALMAN], "estimate", r->kalman_rate,
	    "sd", r->kalman_sd,
	    "churn", "weight", r->weights[SHADOW_MODEL_CHURN], "rate",
	    r->model_rate[SHADOW_MODEL_CHURN], "mse",
	    r->model_mse[SHADOW_MODEL_CHURN], "lagS", r->churn_lag_s,
	    "ratio", r->churn_ratio, "correlation", r->churn_corr,
	    "baseline", r->churn_baseline, "pending", r->churn_pending);
}

static json_t *
policy_json(const struct shadow_report *r, const struct shadow_params *p)
{
	return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:I, "
	    "s:I, s:f, s:f, s:f, s:b, s:f}",
	    "quantile", r->quantile, "quantileLow", r->quantile_lo,
	    "quantileHigh", r->quantile_hi, "newsvendor", r->newsvendor,
	    "leadS", r->lead_s, "leadMult", r->lead_mult, "lookaheadS",
	    r->lookahead_s, "confidence", p->confidence, "horizonS",
	    (json_int_t)p->horizon_s, "minWarm", (json_int_t)p->min_warm,
	    "maxWarm", (json_int_t)p->max_warm, "maxPoolFraction",
	    p->max_pool_fraction, "wastageWeight", p->wastage_weight,
	    "delayWeight", p->delay_weight, "adapt", p->adapt, "jitter",
	    p->jitter);
}

/* Monotonic ms of the engine to unix seconds. */
static json_int_t
wall_time(const struct shadowd *sd, uint64_t t_ms)
{
	uint64_t now = now_ms(sd);
	int64_t ago = now > t_ms ? (int64_t)((now - t_ms) / 1000) : 0;

	return (json_int_t)(time(NULL) - ago);
}

static json_t *
policy_log_json(const struct shadowd_pool *sp)
{
	struct shadow_policy_change ch[SHADOW_POLICY_RING];
	size_t n = shadow_policy_log(sp->engine, 0, ch, nitems(ch));
	json_t *l = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(l, json_pack("{s:I, s:I, s:s, s:f, s:f, "
		    "s:s}", "seq", (json_int_t)ch[i].seq, "time",
		    wall_time(sp->sd, ch[i].t_ms), "what",
		    shadow_policy_what_name(ch[i].what), "old",
		    ch[i].old_value, "new", ch[i].new_value, "reason",
		    ch[i].reason));
	return l;
}

static json_t *
outcomes_json(const struct shadow_report *r)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:f, s:f, s:f}",
	    "requests", (json_int_t)r->requests, "hits", (json_int_t)r->hits,
	    "partialHits", (json_int_t)r->partial_hits, "misses",
	    (json_int_t)r->misses, "hitRate", r->hit_rate, "hitRateRecent",
	    r->hit_rate_recent, "requestsRecent",
	    (json_int_t)r->requests_recent, "wasteAddressSeconds", r->waste,
	    "delaySeconds", r->delay, "cost", r->cost);
}

static json_t *
counters_json(const struct shadow_report *r)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I}", "ticks", (json_int_t)r->ticks, "allocs",
	    (json_int_t)r->allocs, "releases", (json_int_t)r->releases,
	    "routeAdds", (json_int_t)r->route_adds, "routeDels",
	    (json_int_t)r->route_dels, "macLearns", (json_int_t)r->mac_learns,
	    "macMoves", (json_int_t)r->mac_moves, "intents",
	    (json_int_t)r->intents, "preallocMade",
	    (json_int_t)r->prealloc_made, "preallocReleased",
	    (json_int_t)r->prealloc_released, "alerts",
	    (json_int_t)r->alerts, "policyChanges",
	    (json_int_t)r->policy_changes);
}

/* Traffic and neighbour misses: the leading signals of the VNI. */
static json_t *
signals_json(const struct shadow_report *r, json_t *o)
{
	json_object_set_new(o, "traffic", json_pack("{s:f, s:f, s:f, s:f, "
	    "s:f, s:I}", "rate", r->traffic_rate, "lagS", r->traffic_lag_s,
	    "gain", r->traffic_gain, "correlation", r->traffic_corr,
	    "pending", r->traffic_pending, "samples",
	    (json_int_t)r->traffic_samples));
	json_object_set_new(o, "neighMisses", json_pack("{s:I, s:I}",
	    "total", (json_int_t)r->neigh_misses, "targets",
	    (json_int_t)r->neigh_targets));
	return o;
}

static json_t *
convergence_json(const struct shadowd_pool *sp)
{
	const struct shadowd_convergence *c = &sp->lead_dist;

	return json_pack("{s:I, s:s, s:I, s:I, s:I, s:I, s:I}", "leadMs",
	    (json_int_t)sp->lead_ms, "source",
	    shadowd_lead_source_name(sp->lead_source), "configuredMs",
	    (json_int_t)sp->lead_conf_ms, "samples", (json_int_t)c->count,
	    "p50Ms", (json_int_t)c->p50_ms, "p90Ms", (json_int_t)c->p90_ms,
	    "p99Ms", (json_int_t)c->p99_ms);
}

static json_t *
groups_json(const struct shadowd_pool *sp)
{
	struct shadow_group_view *v;
	json_t *l = json_array();
	size_t n;

	v = xcalloc(SHADOW_GROUPS_MAX, sizeof(*v));
	n = shadow_groups(sp->engine, now_ms(sp->sd), v, SHADOW_GROUPS_MAX);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(l, json_pack("{s:s, s:I, s:I, s:f, "
		    "s:o}", "label", v[i].label, "active",
		    (json_int_t)v[i].active, "requests",
		    (json_int_t)v[i].requests, "idleS", v[i].idle_s,
		    "expected", quantiles_json(&v[i].expected)));
	free(v);
	return l;
}

static json_t *
pool_json(struct shadowd_pool *sp)
{
	struct shadow_report r;
	uint32_t ready, converging;
	json_t *o;

	shadow_report(sp->engine, &r);
	warm_counts(sp, now_ms(sp->sd), &ready, &converging);
	o = json_pack("{s:s, s:I, s:s, s:s, s:I, s:I, s:I}", "pool",
	    sp->name, "vni", (json_int_t)sp->vni, "mode",
	    shadow_mode_name(r.mode), "model", shadow_model_name(r.model),
	    "target", (json_int_t)r.target, "targetRaw",
	    (json_int_t)r.target_raw, "cap", (json_int_t)r.cap);
	json_object_set_new(o, "forecast", json_pack("{s:f, s:o, s:o}",
	    "rate", r.forecast.rate, "lead", quantiles_json(&r.forecast.lead),
	    "horizon", quantiles_json(&r.forecast.horizon)));
	json_object_set_new(o, "preallocated", json_pack("{s:I, s:I, s:I}",
	    "ready", (json_int_t)ready, "converging", (json_int_t)converging,
	    "total", (json_int_t)(ready + converging)));
	json_object_set_new(o, "outcomes", outcomes_json(&r));
	json_object_set_new(o, "models", models_json(&r));
	signals_json(&r, o);
	/* The rate as trafficd measured it, before the engine smooths it. */
	json_object_set_new(json_object_get(o, "traffic"), "measured",
	    json_real(sp->traffic_rate));
	json_object_set_new(o, "policy", policy_json(&r,
	    shadow_params(sp->engine)));
	json_object_set_new(o, "convergence", convergence_json(sp));
	json_object_set_new(o, "policyChanges", policy_log_json(sp));
	json_object_set_new(o, "counters", counters_json(&r));
	json_object_set_new(o, "groups", groups_json(sp));
	json_object_set_new(o, "groupsEvicted", json_integer((json_int_t)
	    shadow_groups_evicted(sp->engine)));
	json_object_set_new(o, "state", json_pack("{s:b, s:I}", "restored",
	    sp->restored, "savedAt", (json_int_t)sp->saved_at));
	json_object_set_new(o, "memoryBytes", json_integer((json_int_t)
	    shadow_memory(sp->engine)));
	return o;
}

json_t *
shadowd_json(struct shadowd *sd)
{
	struct shadowd_pool *sp;
	json_t *l = json_array();

	if (sd != NULL)
		TAILQ_FOREACH(sp, &sd->pools, entry)
			json_array_append_new(l, pool_json(sp));
	return json_pack("{s:o}", "pools", l);
}

json_t *
shadowd_alerts_json(struct shadowd *sd)
{
	struct shadow_alert al[SHADOW_ALERT_RING];
	struct shadowd_pool *sp;
	json_t *l = json_array();
	size_t n;

	if (sd != NULL)
		TAILQ_FOREACH(sp, &sd->pools, entry) {
			n = shadow_alerts(sp->engine, 0, al, nitems(al));
			for (size_t i = 0; i < n; i++)
				json_array_append_new(l, json_pack("{s:s, s:I, "
				    "s:I, s:s, s:f, s:s}", "pool", sp->name,
				    "vni", (json_int_t)sp->vni, "time",
				    wall_time(sd, al[i].t_ms), "kind",
				    shadow_alert_kind_name(al[i].kind),
				    "score", al[i].score, "message",
				    al[i].message));
		}
	return json_pack("{s:o, s:I}", "alerts", l, "total",
	    (json_int_t)json_array_size(l));
}
