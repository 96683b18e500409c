/*
 * Import by route target into per-VNI / per-VRF views, and MAC mobility.
 *
 * The RIB calls evpn_import_best_changed() whenever the best path of an
 * EVPN entry changes.  The route targets of the old and new best paths
 * say which VNIs the entry leaves and joins (type 2 and 3 into L2 VNIs,
 * type 5 into L3 VNIs, i.e. VRFs).  Membership is kept in one hash of
 * small records keyed by (VNI, route type, MAC or IP), so all routes for
 * one MAC in one VNI - from every VTEP, with or without IP - sit in one
 * chain: that is what MAC mobility (RFC 7432 §15) compares.
 *
 * A record is 24 bytes and points at the RIB entry; the views are never
 * copies of routes.
 */
#include "evpn/evpn_int.h"
#include "bgpd/bgpd.h"
#include "common/log.h"
#include "common/slab.h"
#include "common/util.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>


void
evpn_import_init(struct evpn *e)
{
	e->nbuckets = 1024;
	e->buckets = xcalloc(e->nbuckets, sizeof(*e->buckets));
	e->nimports = 0;
	e->import_slab = slab_create(sizeof(struct evpn_import));
}

void
evpn_import_free(struct evpn *e)
{
	bgp_attrs_unref(e->memo_attrs);
	e->memo_attrs = NULL;
	free(e->buckets);
	e->buckets = NULL;
	e->nbuckets = 0;
	slab_destroy(e->import_slab);
	e->import_slab = NULL;
	for (struct evpn_vni *v = TAILQ_FIRST(&e->vnis); v;
	    v = TAILQ_NEXT(v, entry))
		v->n_macip_local = v->n_macip_remote = v->n_imet_remote =
		    v->n_prefix_remote = 0;
}

/* What a record is filed under: the MAC for type 2 (so MAC-only and
 * MAC+IP routes meet), the IP for types 3 and 5. */
static uint32_t
import_hash(uint32_t vni, const struct evpn_route *r)
{
	const uint8_t *p = r->type == EVPN_RT_MACIP ? r->mac.b : r->ip;
	size_t n = r->type == EVPN_RT_MACIP ? 6 : 16;
	uint32_t h = 2166136261u;

	h = (h ^ r->type) * 16777619u;
	for (int i = 0; i < 4; i++)
		h = (h ^ (uint8_t)(vni >> (8 * i))) * 16777619u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	if (r->type == EVPN_RT_PREFIX)
		h = (h ^ r->plen) * 16777619u;
	return h;
}

static bool
rt_matches_auto(const struct rt *rt, uint32_t vni)
{
	const uint8_t *b = rt->b;

	if (b[1] != BGP_ECOMM_ST_RT)
		return false;
	if (b[0] == BGP_ECOMM_T_AS2)
		return ((uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 |
		    (uint32_t)b[6] << 8 | b[7]) == vni;
	if (b[0] == BGP_ECOMM_T_AS4)
		return ((uint32_t)b[6] << 8 | b[7]) == vni;
	return false;
}

static bool
vni_imports(const struct evpn_vni *v, const struct rt *rt)
{
	if (v->import_auto)
		return rt_matches_auto(rt, v->vni);
	for (size_t i = 0; i < v->n_import; i++)
		if (rt_cmp(&v->rt_import[i], rt) == 0)
			return true;
	return false;
}

static size_t
import_vnis_compute(struct evpn *e, uint8_t type, const struct bgp_attrs *a,
    uint32_t *vnis, size_t max)
{
	struct evpn_vni *v;
	size_t n = 0;

	TAILQ_FOREACH(v, &e->vnis, entry) {
		size_t it = 0;
		struct rt rt;

		if (v->l3 != (type == EVPN_RT_PREFIX) || n >= max)
			continue;
		while (bgp_rt_next(a, &it, &rt) == 0) {
			if (vni_imports(v, &rt)) {
				vnis[n++] = v->vni;
				break;
			}
		}
	}
	return n;
}

/*
 * Routes arrive in runs sharing one attribute set (a peer packs them so),
 * so the answer for the last set is kept.  The memo holds a reference:
 * the set cannot be freed and its address reused while memoized.
 */
size_t
evpn_import_vnis(struct evpn *e, uint8_t type, const struct bgp_attrs *a,
    uint32_t *vnis, size_t max)
{
	bool l3 = type == EVPN_RT_PREFIX;

	if (a == NULL)
		return 0;
	if (a != e->memo_attrs || l3 != e->memo_l3) {
		bgp_attrs_unref(e->memo_attrs);
		e->memo_attrs = bgp_attrs_ref(a);
		e->memo_l3 = l3;
		e->memo_n = import_vnis_compute(e, type, a, e->memo_vnis,
		    IMPORT_MAX_VNIS);
	}
	if (max > e->memo_n)
		max = e->memo_n;
	memcpy(vnis, e->memo_vnis, max * sizeof(*vnis));
	return max;
}

static void
import_count(struct evpn *e, uint32_t vni, uint8_t type, bool local, int d)
{
	struct evpn_vni *v = evpn_vni_find(e, vni);

	if (v == NULL)
		return;
	if (type == EVPN_RT_MACIP && local)
		v->n_macip_local += d;
	else if (type == EVPN_RT_MACIP)
		v->n_macip_remote += d;
	else if (type == EVPN_RT_IMET && !local)
		v->n_imet_remote += d;
	else if (type == EVPN_RT_PREFIX && !local)
		v->n_prefix_remote += d;
}

static void
import_grow(struct evpn *e)
{
	size_t n = e->nbuckets * 2;
	struct evpn_import **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < e->nbuckets; i++) {
		struct evpn_import *r, *next;

		for (r = e->buckets[i]; r; r = next) {
			next = r->hnext;
			r->hnext = b[r->hash & (n - 1)];
			b[r->hash & (n - 1)] = r;
		}
	}
	free(e->buckets);
	e->buckets = b;
	e->nbuckets = n;
}

static void
import_add(struct evpn *e, const struct bgp_rib_entry *ent,
    const struct evpn_route *r, uint32_t vni, bool local)
{
	struct evpn_import *rec;
	size_t idx;

	if (e->nimports >= e->nbuckets)
		import_grow(e);
	rec = slab_alloc(e->import_slab);
	rec->entry = ent;
	rec->vni = vni;
	rec->local = local;
	rec->hash = import_hash(vni, r);
	idx = rec->hash & (e->nbuckets - 1);
	rec->hnext = e->buckets[idx];
	e->buckets[idx] = rec;
	e->nimports++;
	import_count(e, vni, r->type, local, 1);
}

static void
import_del(struct evpn *e, const struct bgp_rib_entry *ent,
    const struct evpn_route *r, uint32_t vni)
{
	uint32_t h = import_hash(vni, r);
	struct evpn_import **pp, *rec;

	for (pp = &e->buckets[h & (e->nbuckets - 1)]; (rec = *pp) != NULL;
	    pp = &rec->hnext) {
		if (rec->entry == ent && rec->vni == vni) {
			*pp = rec->hnext;
			import_count(e, vni, r->type, rec->local, -1);
			slab_free(e->import_slab, rec);
			e->nimports--;
			return;
		}
	}
}

static bool
vni_in(const uint32_t *vnis, size_t n, uint32_t vni)
{
	for (size_t i = 0; i < n; i++)
		if (vnis[i] == vni)
			return true;
	return false;
}

bool
evpn_import_remote_mac(struct evpn *e, uint32_t vni, const struct macaddr *mac,
    uint32_t *seq, bool *sticky, struct ipaddr *vtep)
{
	struct evpn_route probe;
	struct evpn_import *rec;
	bool found = false;
	uint32_t h;

	memset(&probe, 0, sizeof(probe));
	probe.type = EVPN_RT_MACIP;
	probe.mac = *mac;
	h = import_hash(vni, &probe);
	*seq = 0;
	*sticky = false;
	for (rec = e->buckets[h & (e->nbuckets - 1)]; rec; rec = rec->hnext) {
		const struct bgp_rib_path *p = bgp_rib_best(rec->entry);
		struct evpn_route r;
		uint32_t s;
		bool k;

		if (rec->local || rec->hash != h || rec->vni != vni || !p)
			continue;
		evpn_key_unpack(rec->entry->key, &r);
		if (r.type != EVPN_RT_MACIP || mac_cmp(&r.mac, mac) != 0)
			continue;
		evpn_path_mobility(p->attrs, &s, &k);
		if (!found || s > *seq) {
			*seq = s;
			bgp_attrs_get_mp_nexthop(p->attrs, vtep);
		}
		*sticky |= k;
		found = true;
	}
	return found;
}

/*
 * Duplicate address detection (FRR's defaults: 5 moves in 180 s): a MAC
 * that keeps moving between this VTEP and others is reported, and with
 * "freeze" no longer re-advertised.
 */
static bool
dad_note_move(struct evpn *e, struct evpn_local *l)
{
	uint64_t now = mono_msec();
	char m[MAC_STRLEN];

	if (!e->dad.enabled)
		return false;
	if (l->moves == 0 || now - l->first_move_ms > e->dad.time * 1000ull) {
		l->moves = 0;
		l->first_move_ms = now;
	}
	if (++l->moves >= e->dad.max_moves && !l->duplicate) {
		l->duplicate = true;
		e->dad_detections++;
		log_warn("evpn: duplicate address detected: MAC %s in VNI %u "
		    "moved %u times in %u s", mac_fmt(&l->route.mac, m,
		    sizeof(m)), l->vni, l->moves, e->dad.time);
	}
	return l->duplicate && (e->dad.freeze || e->dad.freeze_permanent);
}

/*
 * A remote route now claims a MAC we advertise.  A configured (static)
 * MAC stays here: re-advertise it with a higher sequence number
 * (RFC 7432 §15.1), unless it is sticky already or frozen as duplicate.
 */
struct mobility_arg {
	struct evpn	*e;
	uint32_t	 seq;		/* the highest remote sequence */
};

static void
mobility_one(struct evpn_local *l, void *arg)
{
	struct mobility_arg *ma = arg;

	if (ma->seq < l->seq || l->sticky)
		return;
	if (ma->seq == UINT32_MAX) {
		/* Nothing can outbid it (RFC 7432 §15 has no wrap): keep
		 * ours and say so rather than wrap to 0 and lose forever. */
		log_warn("evpn: MAC mobility sequence of a remote route is at "
		    "its maximum; not re-advertising VNI %u", l->vni);
		return;
	}
	if (l->source == EVPN_LOCAL_LEARNED) {
		/* RFC 7432 §15.1: a higher sequence elsewhere means the host
		 * moved there; the kernel will age ours. */
		if (ma->seq > l->seq) {
			evpn_churn(ma->e, l->vni, EVPN_CHURN_MAC_MOVE);
			evpn_local_remove(ma->e, l);
		}
		return;
	}
	if (dad_note_move(ma->e, l))
		return;
	l->seq = ma->seq + 1;
	evpn_local_announce(ma->e, l);
}

/*
 * A remote route now claims a MAC we advertise.  A configured (static)
 * or allocated MAC stays here: re-advertise it with a higher sequence
 * number (RFC 7432 §15.1), unless it is sticky already or frozen as
 * duplicate.
 */
static void
mobility_run(struct evpn *e, uint32_t vni, const struct macaddr *mac)
{
	struct mobility_arg ma = { e, 0 };
	struct ipaddr vtep;
	bool sticky;

	if (!evpn_import_remote_mac(e, vni, mac, &ma.seq, &sticky, &vtep))
		return;
	evpn_locals_of_mac(e, vni, mac, mobility_one, &ma);
}

struct mobility_todo {
	TAILQ_ENTRY(mobility_todo) entry;
	uint32_t	 vni;
	struct macaddr	 mac;
};

/* Deferred mobility checks, run once the RIB operation that imported the
 * remote route has returned: re-advertising from inside the RIB's
 * best-path callback would change the RIB in the middle of its own
 * update. */
static void
mobility_deferred(evutil_socket_t fd, short ev, void *arg)
{
	struct evpn *e = arg;
	struct mobility_todo *t;

	while ((t = TAILQ_FIRST(&e->mobility)) != NULL) {
		TAILQ_REMOVE(&e->mobility, t, entry);
		mobility_run(e, t->vni, &t->mac);
		free(t);
	}
}

static void
mobility_check(struct evpn *e, uint32_t vni, const struct evpn_route *r)
{
	struct mobility_todo *t;

	/* Only when one of our routes carries the MAC: cheap to ask. */
	if (!evpn_locals_have_mac(e, vni, &r->mac))
		return;
	t = xcalloc(1, sizeof(*t));
	t->vni = vni;
	t->mac = r->mac;
	TAILQ_INSERT_TAIL(&e->mobility, t, entry);
	if (e->mobility_ev)
		event_active(e->mobility_ev, 0, 0);
	else
		mobility_deferred(-1, 0, e);	/* no event loop (tests) */
}

void
evpn_mobility_init(struct evpn *e, struct event_base *base)
{
	TAILQ_INIT(&e->mobility);
	if (base)
		e->mobility_ev = event_new(base, -1, 0, mobility_deferred, e);
}

void
evpn_mobility_free(struct evpn *e)
{
	struct mobility_todo *t;

	while ((t = TAILQ_FIRST(&e->mobility)) != NULL) {
		TAILQ_REMOVE(&e->mobility, t, entry);
		free(t);
	}
	if (e->mobility_ev)
		event_free(e->mobility_ev);
	e->mobility_ev = NULL;
}

void
evpn_import_best_changed(void *arg, const struct bgp_rib_entry *ent,
    const struct bgp_rib_path *old_best, const struct bgp_rib_path *new_best)
{
	struct evpn *e = arg;
	uint32_t ov[IMPORT_MAX_VNIS], nv[IMPORT_MAX_VNIS];
	size_t no, nn;
	struct evpn_route r;
	bool local = new_best && new_best->slot == BGP_RIB_PEER_LOCAL;
	bool was_local = old_best && old_best->slot == BGP_RIB_PEER_LOCAL;

	evpn_key_unpack(ent->key, &r);
	if (r.type != EVPN_RT_MACIP && r.type != EVPN_RT_IMET &&
	    r.type != EVPN_RT_PREFIX)
		return;
	no = evpn_import_vnis(e, r.type, old_best ? old_best->attrs : NULL,
	    ov, IMPORT_MAX_VNIS);
	nn = evpn_import_vnis(e, r.type, new_best ? new_best->attrs : NULL,
	    nv, IMPORT_MAX_VNIS);
	for (size_t i = 0; i < no; i++) {
		import_del(e, ent, &r, ov[i]);
		if (!vni_in(nv, nn, ov[i])) {
			evpn_dp_route_gone(e, ov[i], &r, was_local);
			evpn_dp_resolve(e, ov[i], &r);
			if (r.type == EVPN_RT_MACIP && !was_local)
				evpn_churn(e, ov[i], EVPN_CHURN_REMOTE_DEL);
			if (r.type == EVPN_RT_MACIP && r.af && !was_local)
				evpn_ipam_remote_route(e, ov[i], &r, old_best,
				    false);
		}
	}
	for (size_t i = 0; i < nn; i++) {
		import_add(e, ent, &r, nv[i], local);
		if (!local)
			evpn_dp_check_import(e, nv[i], &r, new_best);
		if (r.type == EVPN_RT_MACIP && !local) {
			if (!vni_in(ov, no, nv[i]))
				evpn_churn(e, nv[i], EVPN_CHURN_REMOTE_ADD);
			mobility_check(e, nv[i], &r);
			if (r.af)
				evpn_ipam_remote_route(e, nv[i], &r, new_best,
				    true);
		}
		evpn_dp_resolve(e, nv[i], &r);
	}
}

void
evpn_import_group(struct evpn *e, uint32_t vni, const struct evpn_route *r,
    evpn_import_cb *cb, void *arg)
{
	uint32_t h = import_hash(vni, r);
	struct evpn_import *rec, *next;

	for (rec = e->buckets[h & (e->nbuckets - 1)]; rec; rec = next) {
		struct evpn_route o;

		next = rec->hnext;
		if (rec->hash != h || rec->vni != vni ||
		    evpn_key_type(rec->entry->key) != r->type)
			continue;
		evpn_key_unpack(rec->entry->key, &o);
		if (r->type == EVPN_RT_MACIP ? mac_cmp(&o.mac, &r->mac) != 0 :
		    (memcmp(o.ip, r->ip, 16) != 0 || o.plen != r->plen))
			continue;
		cb(rec, arg);
	}
}

void
evpn_mac_claim_of(const struct evpn_vni *v, const struct evpn_import *rec,
    struct evpn_mac_claim *c)
{
	const struct bgp_rib_path *p = bgp_rib_best(rec->entry);

	memset(c, 0, sizeof(*c));
	if (p == NULL)
		return;
	c->found = true;
	c->local = rec->local;
	evpn_path_mobility(p->attrs, &c->seq, &c->sticky);
	if (rec->local)
		c->vtep = v->tunnel_ip;
	else
		bgp_attrs_get_mp_nexthop(p->attrs, &c->vtep);
}

/* RFC 7432 §15: sticky, then the higher sequence, then the lower VTEP. */
bool
evpn_mac_claim_better(const struct evpn_mac_claim *a,
    const struct evpn_mac_claim *b)
{
	if (!b->found)
		return true;
	if (a->sticky != b->sticky)
		return a->sticky;
	if (a->seq != b->seq)
		return a->seq > b->seq;
	return ipaddr_cmp(&a->vtep, &b->vtep) < 0;
}

void
evpn_import_foreach(struct evpn *e, evpn_import_cb *cb, void *arg)
{
	for (size_t i = 0; i < e->nbuckets; i++)
		for (struct evpn_import *r = e->buckets[i]; r; r = r->hnext)
			cb(r, arg);
}
