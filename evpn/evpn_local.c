/*
 * The index of locally originated routes: by route key (is this route
 * ours?) and by (VNI, MAC) (which of our routes carry this MAC?), so that
 * learning, MAC mobility and IPAM - which ask these per route, at rates
 * of thousands a second - do not walk every local route.  The TAILQ in
 * struct evpn keeps them in order for reloads and views.
 */
#include "evpn/evpn_dp.h"
#include "evpn/evpn_int.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

static void	 learned_mac_count(struct evpn *, const struct evpn_local *,
		    int);

static uint32_t
mac_hash(uint32_t vni, const struct macaddr *m)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 4; i++)
		h = (h ^ (uint8_t)(vni >> (8 * i))) * 16777619u;
	for (int i = 0; i < 6; i++)
		h = (h ^ m->b[i]) * 16777619u;
	return h;
}

static bool
local_has_mac(const struct evpn_local *l)
{
	return l->route.type == EVPN_RT_MACIP;
}

static void
index_link(struct evpn *e, struct evpn_local *l)
{
	size_t mask = e->lbuckets - 1;
	uint32_t kh = evpn_route_hash(&l->route) & mask;

	l->knext = e->kbuckets[kh];
	e->kbuckets[kh] = l;
	if (local_has_mac(l)) {
		uint32_t mh = mac_hash(l->vni, &l->route.mac) & mask;

		l->mnext = e->mbuckets[mh];
		e->mbuckets[mh] = l;
	}
}

static void
index_grow(struct evpn *e)
{
	struct evpn_local *l;

	free(e->kbuckets);
	free(e->mbuckets);
	e->lbuckets = e->lbuckets ? e->lbuckets * 2 : 256;
	e->kbuckets = xcalloc(e->lbuckets, sizeof(*e->kbuckets));
	e->mbuckets = xcalloc(e->lbuckets, sizeof(*e->mbuckets));
	TAILQ_FOREACH(l, &e->locals, entry)
		index_link(e, l);
}

void
evpn_locals_insert(struct evpn *e, struct evpn_local *l)
{
	TAILQ_INSERT_TAIL(&e->locals, l, entry);
	if (++e->nlocals > e->lbuckets)
		index_grow(e);		/* relinks every route, l included */
	else
		index_link(e, l);
	learned_mac_count(e, l, 1);
}

static void
chain_unlink(struct evpn_local **pp, struct evpn_local *l, bool mac_chain)
{
	for (; *pp; pp = mac_chain ? &(*pp)->mnext : &(*pp)->knext) {
		if (*pp == l) {
			*pp = mac_chain ? l->mnext : l->knext;
			return;
		}
	}
}

void
evpn_locals_unlink(struct evpn *e, struct evpn_local *l)
{
	size_t mask = e->lbuckets - 1;

	learned_mac_count(e, l, -1);
	chain_unlink(&e->kbuckets[evpn_route_hash(&l->route) & mask], l, false);
	if (local_has_mac(l))
		chain_unlink(&e->mbuckets[mac_hash(l->vni, &l->route.mac) &
		    mask], l, true);
	TAILQ_REMOVE(&e->locals, l, entry);
	e->nlocals--;
}

struct evpn_local *
evpn_local_find(struct evpn *e, const struct evpn_route *r)
{
	struct evpn_local *l;

	if (e->lbuckets == 0)
		return NULL;
	for (l = e->kbuckets[evpn_route_hash(r) & (e->lbuckets - 1)]; l;
	    l = l->knext)
		if (evpn_route_cmp(&l->route, r) == 0)
			return l;
	return NULL;
}

/* cb may remove the route it is given. */
void
evpn_locals_of_mac(struct evpn *e, uint32_t vni, const struct macaddr *m,
    evpn_local_cb *cb, void *arg)
{
	struct evpn_local *l, *next;

	if (e->lbuckets == 0)
		return;
	for (l = e->mbuckets[mac_hash(vni, m) & (e->lbuckets - 1)]; l;
	    l = next) {
		next = l->mnext;
		if (l->vni == vni && mac_cmp(&l->route.mac, m) == 0)
			cb(l, arg);
	}
}

static void
have_one(struct evpn_local *l, void *arg)
{
	*(bool *)arg = true;
}

bool
evpn_locals_have_mac(struct evpn *e, uint32_t vni, const struct macaddr *m)
{
	bool have = false;

	evpn_locals_of_mac(e, vni, m, have_one, &have);
	return have;
}

void
evpn_locals_free(struct evpn *e)
{
	struct evpn_local *l;

	while ((l = TAILQ_FIRST(&e->locals)) != NULL) {
		TAILQ_REMOVE(&e->locals, l, entry);
		free(l);
	}
	free(e->kbuckets);
	free(e->mbuckets);
	e->kbuckets = e->mbuckets = NULL;
	e->lbuckets = e->nlocals = 0;
}

/* ---- learned MACs and the mac-limit --------------------------------- */

struct learned_walk {
	const struct evpn_local *self;
	bool		 other;		/* another learned route of the MAC */
	bool		 first;		/* self is the lowest address of them */
};

static void
learned_other(struct evpn_local *l, void *arg)
{
	struct learned_walk *w = arg;

	if (l == w->self || l->source != EVPN_LOCAL_LEARNED)
		return;
	w->other = true;
	if ((uintptr_t)l < (uintptr_t)w->self)
		w->first = false;
}

static void
learned_walk(struct evpn *e, const struct evpn_local *l,
    struct learned_walk *w)
{
	w->self = l;
	w->other = false;
	w->first = true;
	evpn_locals_of_mac(e, l->vni, &l->route.mac, learned_other, w);
}

/* The VNI whose learned MACs l counts in, NULL when l is no learned
 * type-2 route. */
static struct evpn_vni *
learned_vni(struct evpn *e, const struct evpn_local *l)
{
	if (l->source != EVPN_LOCAL_LEARNED ||
	    l->route.type != EVPN_RT_MACIP)
		return NULL;
	return evpn_vni_find(e, l->vni);
}

/* Below 90% of the limit again: the MACs refused meanwhile are still in
 * the bridge and the kernel will not report them twice, so the data
 * plane reads the bridge once more. */
static void
learned_below_limit(struct evpn *e, struct evpn_vni *v)
{
	struct evpn_dp_vni spec;

	if (!v->at_mac_limit || (v->mac_limit != 0 && v->n_learned_macs >
	    (size_t)v->mac_limit * 9 / 10))
		return;
	v->at_mac_limit = false;
	log_notice("evpn: VNI %u: %zu learned MACs, below mac-limit %u "
	    "again: learning resumes", v->vni, v->n_learned_macs,
	    v->mac_limit);
	if (e->dp != NULL && e->dp->learn_again != NULL && v->dp_ready) {
		evpn_dp_vni_spec(v, &spec);
		e->dp->learn_again(e->dp->ctx, &spec);
	}
}

/* A learned route came (d = 1) or went (-1): a MAC no other learned
 * route of its VNI carries is one learned MAC more or less. */
static void
learned_mac_count(struct evpn *e, const struct evpn_local *l, int d)
{
	struct learned_walk w;
	struct evpn_vni *v;

	if ((v = learned_vni(e, l)) == NULL)
		return;
	learned_walk(e, l, &w);
	if (w.other)
		return;
	if (d > 0) {
		v->n_learned_macs++;
		return;
	}
	if (v->n_learned_macs > 0)
		v->n_learned_macs--;
	learned_below_limit(e, v);
}

/* The route's source changes (configuration takes over a learned one). */
void
evpn_local_set_source(struct evpn *e, struct evpn_local *l,
    enum evpn_local_source source)
{
	if (l->source == source)
		return;
	learned_mac_count(e, l, -1);
	l->source = source;
	learned_mac_count(e, l, 1);
}

bool
evpn_learned_mac_admit(struct evpn *e, struct evpn_vni *v,
    const struct macaddr *mac)
{
	struct evpn_local probe;
	struct learned_walk w;
	char m[MAC_STRLEN];

	if (v->mac_limit == 0 || v->n_learned_macs < v->mac_limit)
		return true;
	memset(&probe, 0, sizeof(probe));
	probe.vni = v->vni;
	probe.route.mac = *mac;
	learned_walk(e, &probe, &w);
	if (w.other)
		return true;		/* a MAC already counted */
	v->mac_limit_drops++;
	e->dp_ctr.mac_limit_drops++;
	if (!v->at_mac_limit) {
		v->at_mac_limit = true;
		log_warn("evpn: VNI %u: %zu learned MACs reached mac-limit %u: "
		    "MACs learned beyond it (first %s) are not advertised",
		    v->vni, v->n_learned_macs, v->mac_limit,
		    mac_fmt(mac, m, sizeof(m)));
	}
	return false;
}

/*
 * After a reload: count again (the VNIs are new objects), and resume
 * learning where the limit went up or away.
 */
void
evpn_learned_recount(struct evpn *e)
{
	struct learned_walk w;
	struct evpn_local *l;
	struct evpn_vni *v;

	TAILQ_FOREACH(v, &e->vnis, entry)
		v->n_learned_macs = 0;
	TAILQ_FOREACH(l, &e->locals, entry) {
		if ((v = learned_vni(e, l)) == NULL)
			continue;
		learned_walk(e, l, &w);
		if (w.first)
			v->n_learned_macs++;
	}
	TAILQ_FOREACH(v, &e->vnis, entry)
		learned_below_limit(e, v);
}
