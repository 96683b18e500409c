/*
 * The index of locally originated routes: by route key (is this route
 * ours?) and by (VNI, MAC) (which of our routes carry this MAC?), so that
 * learning, MAC mobility and IPAM - which ask these per route, at rates
 * of thousands a second - do not walk every local route.  The TAILQ in
 * struct evpn keeps them in order for reloads and views.
 */
#include "evpn/evpn_int.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

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
