/*
 * The index of locally originated routes: by route key (is this route
 * ours?) and by (VNI, MAC) (which of our routes carry this MAC?), so that
 * learning, MAC mobility and IPAM - which ask these per route, at rates
 * of thousands a second - do not walk every local route.  The TAILQ in
 * struct evpn keeps them in order for reloads and views.
 */
#include "evpn/evpn_dp.h"
#include "evpn/evpn_int.h"
#include "common/byteorder.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

static void	 learned_mac_count(struct evpn *, const struct evpn_local *,
		    int);

/* Local routes come from the config, IPAM and the MACs hosts send from:
 * both indexes hash with the process's secret key. */
static uint32_t
by_key_hash(const struct hash_node *n)
{
	return evpn_route_hash(&hash_entry(n, struct evpn_local,
	    by_key)->route);
}

static bool
by_key_equal(const struct hash_node *n, const void *route)
{
	return evpn_route_cmp(&hash_entry(n, struct evpn_local, by_key)->route,
	    route) == 0;
}

struct mac_key {
	uint32_t	 vni;
	const struct macaddr *mac;
};

static uint32_t
mac_hash(uint32_t vni, const struct macaddr *m)
{
	uint8_t k[4 + sizeof(m->b)];

	be32_store(k, vni);
	memcpy(k + 4, m->b, sizeof(m->b));
	return hash_bytes_keyed(k, sizeof(k));
}

static uint32_t
by_mac_hash(const struct hash_node *n)
{
	const struct evpn_local *l = hash_entry(n, struct evpn_local, by_mac);

	return mac_hash(l->vni, &l->route.mac);
}

static bool
by_mac_equal(const struct hash_node *n, const void *key)
{
	const struct evpn_local *l = hash_entry(n, struct evpn_local, by_mac);
	const struct mac_key *k = key;

	return l->vni == k->vni && mac_cmp(&l->route.mac, k->mac) == 0;
}

static const struct hash_ops by_key_ops = { by_key_hash, by_key_equal };
static const struct hash_ops by_mac_ops = { by_mac_hash, by_mac_equal };

static bool
local_has_mac(const struct evpn_local *l)
{
	return l->route.type == EVPN_RT_MACIP;
}

void
evpn_locals_init(struct evpn *e)
{
	TAILQ_INIT(&e->locals);
	hash_init(&e->locals_by_key, &by_key_ops, 0);
	hash_init(&e->locals_by_mac, &by_mac_ops, 0);
}

void
evpn_locals_insert(struct evpn *e, struct evpn_local *l)
{
	TAILQ_INSERT_TAIL(&e->locals, l, entry);
	hash_insert(&e->locals_by_key, &l->by_key);
	if (local_has_mac(l))
		hash_insert(&e->locals_by_mac, &l->by_mac);
	learned_mac_count(e, l, 1);
}

void
evpn_locals_unlink(struct evpn *e, struct evpn_local *l)
{
	learned_mac_count(e, l, -1);
	hash_remove(&e->locals_by_key, &l->by_key);
	if (local_has_mac(l))
		hash_remove(&e->locals_by_mac, &l->by_mac);
	TAILQ_REMOVE(&e->locals, l, entry);
}

struct evpn_local *
evpn_local_find(struct evpn *e, const struct evpn_route *r)
{
	struct hash_node *n = hash_find(&e->locals_by_key, evpn_route_hash(r),
	    r);

	return n ? hash_entry(n, struct evpn_local, by_key) : NULL;
}

/* cb may remove the route it is given. */
void
evpn_locals_of_mac(struct evpn *e, uint32_t vni, const struct macaddr *m,
    evpn_local_cb *cb, void *arg)
{
	struct mac_key k = { vni, m };
	struct hash_node *n, *next;

	n = hash_find(&e->locals_by_mac, mac_hash(vni, m), &k);
	for (; n != NULL; n = next) {
		next = hash_find_next(&e->locals_by_mac, n, &k);
		cb(hash_entry(n, struct evpn_local, by_mac), arg);
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
	hash_free(&e->locals_by_key);
	hash_free(&e->locals_by_mac);
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
