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
 * A record is 32 bytes and points at the RIB entry; the views are never
 * copies of routes.  Routes come from peers, so the hash is keyed
 * (common/hash.h): no peer can pile its routes into one chain.
 */
#include "evpn/evpn_int.h"
#include "bgpd/bgpd.h"
#include "common/byteorder.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/slab.h"
#include "common/util.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>


/* A group: (vni, type 2, MAC), (vni, type 3, IP) or (vni, type 5,
 * prefix), and its hash. */
struct import_key {
	uint32_t	 vni;
	uint32_t	 hash;
	const struct evpn_route *r;
};

/* What a record is filed under: the MAC for type 2 (so MAC-only and
 * MAC+IP routes meet), the IP for types 3 and 5. */
static uint32_t
import_hash(uint32_t vni, const struct evpn_route *r)
{
	const uint8_t *a = r->type == EVPN_RT_MACIP ? r->mac.b : r->ip;
	size_t n = r->type == EVPN_RT_MACIP ? sizeof(r->mac.b) : 16;
	uint8_t k[1 + 4 + 16 + 1];
	size_t len = 5 + n;

	k[0] = r->type;
	be32_store(k + 1, vni);
	memcpy(k + 5, a, n);
	if (r->type == EVPN_RT_PREFIX)
		k[len++] = r->plen;
	return hash_bytes_keyed(k, len);
}

static uint32_t
import_node_hash(const struct hash_node *n)
{
	return hash_entry(n, struct evpn_import, node)->hash;
}

static bool
import_in_group(const struct hash_node *n, const void *key)
{
	const struct evpn_import *rec = hash_entry(n, struct evpn_import,
	    node);
	const struct import_key *k = key;
	struct evpn_route o;

	if (rec->hash != k->hash || rec->vni != k->vni ||
	    evpn_key_type(rec->entry->key) != k->r->type)
		return false;
	evpn_key_unpack(rec->entry->key, &o);
	if (k->r->type == EVPN_RT_MACIP)
		return mac_cmp(&o.mac, &k->r->mac) == 0;
	return memcmp(o.ip, k->r->ip, 16) == 0 && o.plen == k->r->plen;
}

static const struct hash_ops import_ops = { import_node_hash,
	import_in_group };

void
evpn_import_init(struct evpn *e)
{
	hash_init(&e->imports, &import_ops, 1024);
	e->import_slab = slab_create(sizeof(struct evpn_import));
}

void
evpn_import_free(struct evpn *e)
{
	bgp_attrs_unref(e->memo_attrs);
	e->memo_attrs = NULL;
	hash_free(&e->imports);
	slab_destroy(e->import_slab);
	e->import_slab = NULL;
	for (struct evpn_vni *v = TAILQ_FIRST(&e->vnis); v;
	    v = TAILQ_NEXT(v, entry))
		v->n_macip_local = v->n_macip_remote = v->n_imet_remote =
		    v->n_prefix_remote = 0;
}

static bool
rt_matches_auto(const struct rt *rt, uint32_t vni)
{
	const uint8_t *b = rt->b;

	if (b[1] != BGP_ECOMM_ST_RT)
		return false;
	if (b[0] == BGP_ECOMM_T_AS2)
		return be32_load(b + 4) == vni;
	if (b[0] == BGP_ECOMM_T_AS4)
		return be16_load(b + 6) == vni;
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
import_add(struct evpn *e, const struct bgp_rib_entry *ent,
    const struct evpn_route *r, uint32_t vni, bool local)
{
	struct evpn_import *rec = slab_alloc(e->import_slab);

	rec->entry = ent;
	rec->vni = vni;
	rec->local = local;
	rec->hash = import_hash(vni, r);
	hash_insert(&e->imports, &rec->node);
	import_count(e, vni, r->type, local, 1);
}

static void
import_del(struct evpn *e, const struct bgp_rib_entry *ent,
    const struct evpn_route *r, uint32_t vni)
{
	struct import_key k = { vni, import_hash(vni, r), r };
	struct hash_node *n = hash_find(&e->imports, k.hash, &k);

	for (; n != NULL; n = hash_find_next(&e->imports, n, &k)) {
		struct evpn_import *rec = hash_entry(n, struct evpn_import,
		    node);

		if (rec->entry == ent) {
			hash_remove(&e->imports, n);
			import_count(e, vni, r->type, rec->local, -1);
			slab_free(e->import_slab, rec);
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

struct remote_mac_arg {
	uint32_t	*seq;
	bool		*sticky;
	struct ipaddr	*vtep;
	bool		 found;
};

static void
remote_mac_one(const struct evpn_import *rec, void *arg)
{
	struct remote_mac_arg *a = arg;
	const struct bgp_rib_path *p = bgp_rib_best(rec->entry);
	uint32_t s;
	bool k;

	if (rec->local || p == NULL)
		return;
	evpn_path_mobility(p->attrs, &s, &k);
	if (!a->found || s > *a->seq) {
		*a->seq = s;
		bgp_attrs_get_mp_nexthop(p->attrs, a->vtep);
	}
	*a->sticky |= k;
	a->found = true;
}

bool
evpn_import_remote_mac(struct evpn *e, uint32_t vni, const struct macaddr *mac,
    uint32_t *seq, bool *sticky, struct ipaddr *vtep)
{
	struct remote_mac_arg a = { seq, sticky, vtep, false };
	struct evpn_route probe;

	memset(&probe, 0, sizeof(probe));
	probe.type = EVPN_RT_MACIP;
	probe.mac = *mac;
	*seq = 0;
	*sticky = false;
	evpn_import_group(e, vni, &probe, remote_mac_one, &a);
	return a.found;
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

	evpn_ipam_router_macs(e, old_best, new_best);
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
	/* The data-plane operations are issued: a convergence sample? */
	if (nn > 0)
		evpn_conv_received(e, nv[0], old_best, new_best);
}

void
evpn_import_group(struct evpn *e, uint32_t vni, const struct evpn_route *r,
    evpn_import_cb *cb, void *arg)
{
	struct import_key k = { vni, import_hash(vni, r), r };
	struct hash_node *n, *next;

	for (n = hash_find(&e->imports, k.hash, &k); n != NULL; n = next) {
		next = hash_find_next(&e->imports, n, &k);
		cb(hash_entry(n, struct evpn_import, node), arg);
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
	struct hash_iter it;
	struct hash_node *n;

	HASH_FOREACH(n, &it, &e->imports)
		cb(hash_entry(n, struct evpn_import, node), arg);
}
