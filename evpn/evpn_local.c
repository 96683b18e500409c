/*
 * The index of locally originated routes: by route key (is this route
 * ours?) and by (VNI, MAC) (which of our routes carry this MAC?), so that
 * learning, MAC mobility and IPAM - which ask these per route, at rates
 * of thousands a second - do not walk every local route.  The TAILQ in
 * struct evpn keeps them in order for reloads and views.
 */
#include "evpn/evpn_int.h"
#include "common/byteorder.h"
#include "common/hash.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

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
}

void
evpn_locals_unlink(struct evpn *e, struct evpn_local *l)
{
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
