/*
 * IPAM endpoints in EVPN.
 *
 * An allocation is advertised as one type-2 MAC+IP route per address
 * (IPv4 and IPv6) in its pool's VNI, with the VNI's RD and route
 * targets, as a local route of source IPAM.  When the workload later
 * shows up on the bridge, local learning finds the same route (same RD,
 * MAC and IP) and adds nothing: no duplicate route, no sequence bump.
 *
 * Conflicts: a remote type-2 route in a pool's VNI for an address of the
 * pool with another MAC.  (In a local pool the same MAC from another
 * VTEP is a move, which MAC mobility decides.)  The address is kept out
 * of allocation while such a route stands; if it was allocated here, the
 * conflict is logged, counted and listed for GET /v1/ipam/conflicts.
 *
 * In a fabric pool every VTEP hands out only addresses of its own blocks
 * (or borrowed ones) and derives each MAC from its address, so the same
 * address or the same MAC advertised by another VTEP for an endpoint
 * allocated here is two endpoints, never a move: both are conflicts
 * ("ip", "mac", or "ip+mac" when the whole route is the same).
 *
 * Router MACs: an endpoint given a VTEP's router MAC would break routing
 * to and from that VTEP (its bridge holds the MAC as its own; type-5
 * routes name it in the Router's MAC extended community, RFC 9135 §8.1,
 * RFC 9136 §3.1), so such MACs are reserved in the IPAM, which then
 * never hands them out: this VTEP's own (the router MAC of each VNI,
 * which is also the MAC its bridge is given) and those other VTEPs
 * announce, counted per RIB entry whose best path names one and
 * released when the last such entry goes.  Both sets are kept here, so
 * an IPAM attached later receives them all.
 */
#include "evpn/evpn_int.h"
#include "common/log.h"
#include "common/util.h"
#include "ipam/fabric.h"
#include "ipam/ipam.h"

#include <string.h>
#include <time.h>

struct evpn_conflict {
	TAILQ_ENTRY(evpn_conflict) entry;
	uint32_t	 vni;
	struct ipaddr	 ip;
	struct macaddr	 mac;		/* the remote route's */
	struct macaddr	 ours;
	struct ipaddr	 vtep;
	char		 resource[IPAM_RESOURCE_MAX + 1];
	int64_t		 since;
	const char	*kind;		/* "ip", "mac", "ip+mac" */
};

static void
ipam_mac_set(struct ipam *ipam, const struct macaddr *m, bool add)
{
	char b[MAC_STRLEN];

	if (ipam == NULL)
		return;
	if (add)
		ipam_mac_reserve(ipam, m);
	else if (ipam_mac_unreserve(ipam, m) == -1)
		log_warn("evpn: router MAC %s was not reserved in the IPAM",
		    mac_fmt(m, b, sizeof(b)));
}

struct rmac_publish {
	struct ipam	*ipam;
	bool		 add;
};

static void
remote_rmac_set(const struct macaddr *m, uint32_t refs, void *arg)
{
	const struct rmac_publish *rp = arg;

	ipam_mac_set(rp->ipam, m, rp->add);
}

/* Reserve (or release) both sets in e->ipam: each MAC once per set. */
static void
macs_publish(struct evpn *e, bool add)
{
	struct rmac_publish rp = { e->ipam, add };

	for (size_t i = 0; i < e->n_own_macs; i++)
		ipam_mac_set(e->ipam, &e->own_macs[i], add);
	macset_foreach(&e->remote_rmacs, remote_rmac_set, &rp);
}

void
evpn_set_ipam(struct evpn *e, struct ipam *ipam)
{
	macs_publish(e, false);
	e->ipam = ipam;
	macs_publish(e, true);
}

static bool
mac_listed(const struct macaddr *l, size_t n, const struct macaddr *m)
{
	for (size_t i = 0; i < n; i++)
		if (mac_cmp(&l[i], m) == 0)
			return true;
	return false;
}

void
evpn_ipam_own_macs(struct evpn *e)
{
	const struct evpn_vni *v;
	struct macaddr *l;
	size_t n = 0, max = 0;

	TAILQ_FOREACH(v, &e->vnis, entry)
		max++;
	l = xcalloc(max + 1, sizeof(*l));
	TAILQ_FOREACH(v, &e->vnis, entry)
		if (!mac_is_zero(&v->router_mac) &&
		    !mac_listed(l, n, &v->router_mac))
			l[n++] = v->router_mac;
	/* The new set first: a MAC in both is never released between. */
	for (size_t i = 0; i < n; i++)
		ipam_mac_set(e->ipam, &l[i], true);
	for (size_t i = 0; i < e->n_own_macs; i++)
		ipam_mac_set(e->ipam, &e->own_macs[i], false);
	free(e->own_macs);
	e->own_macs = l;
	e->n_own_macs = n;
}

size_t
evpn_own_macs(const struct evpn *e, const struct macaddr **l)
{
	*l = e->own_macs;
	return e->n_own_macs;
}

/* The router MAC a received path names; false for our own paths. */
static bool
remote_router_mac(const struct bgp_rib_path *p, struct macaddr *m)
{
	return p != NULL && p->slot != BGP_RIB_PEER_LOCAL &&
	    evpn_path_router_mac(p->attrs, m) && !mac_is_zero(m);
}

void
evpn_ipam_router_macs(struct evpn *e, const struct bgp_rib_path *old_best,
    const struct bgp_rib_path *new_best)
{
	struct macaddr m;

	/* A reload re-runs the import of an unchanged RIB: counted. */
	if (e->reimporting)
		return;
	if (remote_router_mac(new_best, &m) &&
	    macset_add(&e->remote_rmacs, &m) == 1)
		ipam_mac_set(e->ipam, &m, true);
	if (remote_router_mac(old_best, &m) &&
	    macset_del(&e->remote_rmacs, &m) == 0)
		ipam_mac_set(e->ipam, &m, false);
}

void
evpn_ipam_macs_free(struct evpn *e)
{
	macset_free(&e->remote_rmacs);
	free(e->own_macs);
	e->own_macs = NULL;
	e->n_own_macs = 0;
}

static void
ipam_route(struct evpn *e, const struct ipam_alloc *a, const struct ipaddr *ip,
    bool add)
{
	struct evpn_vni *v = evpn_vni_find(e, a->vni);
	struct evpn_local *l;
	struct evpn_route r;

	if (!ipaddr_is_set(ip))
		return;
	if (v == NULL || v->l3) {
		log_warn("evpn: pool %s: VNI %u is not an L2 VNI of this VTEP; "
		    "%s not advertised", a->pool, a->vni, a->resource);
		return;
	}
	if (evpn_route_make_macip(&r, &v->rd, &a->mac, ip, v->vni, 0) == -1)
		return;
	l = evpn_local_find(e, &r);
	if (add) {
		if (l == NULL || l->source == EVPN_LOCAL_LEARNED) {
			l = evpn_local_upsert(e, &r, v->vni, false,
			    EVPN_LOCAL_IPAM);
			l->source = EVPN_LOCAL_IPAM;
			/* What a pre-allocation buys is convergence:
			 * measure every one (evpn_converge.c). */
			if (a->preallocated)
				evpn_conv_pick(e, l, true);
			evpn_local_announce(e, l);
		}
	} else if (l && l->source == EVPN_LOCAL_IPAM)
		evpn_local_remove(e, l);
}

void
evpn_ipam_advertise(struct evpn *e, const struct ipam_alloc *a)
{
	ipam_route(e, a, &a->ip, true);
	ipam_route(e, a, &a->ipv6, true);
}

void
evpn_ipam_withdraw(struct evpn *e, const struct ipam_alloc *a)
{
	ipam_route(e, a, &a->ip, false);
	ipam_route(e, a, &a->ipv6, false);
}

static void
owns_one(struct evpn_local *l, void *arg)
{
	if (l->source == EVPN_LOCAL_IPAM)
		*(bool *)arg = true;
}

/* Does an IPAM route of this VNI carry this MAC (learning defers)? */
bool
evpn_ipam_owns_mac(struct evpn *e, uint32_t vni, const struct macaddr *m)
{
	bool owns = false;

	evpn_locals_of_mac(e, vni, m, owns_one, &owns);
	return owns;
}

static struct evpn_conflict *
conflict_find(struct evpn *e, uint32_t vni, const struct ipaddr *ip)
{
	struct evpn_conflict *c;

	TAILQ_FOREACH(c, &e->conflicts, entry)
		if (c->vni == vni && ipaddr_cmp(&c->ip, ip) == 0)
			return c;
	return NULL;
}

static void
conflict_add(struct evpn *e, uint32_t vni, const struct evpn_route *r,
    const struct ipaddr *ip, const struct ipam_alloc *a,
    const struct bgp_rib_path *p, const char *kind)
{
	struct evpn_conflict *c;
	char ipb[IPADDR_STRLEN], m1[MAC_STRLEN], m2[MAC_STRLEN];

	if (conflict_find(e, vni, ip) != NULL)
		return;
	c = xcalloc(1, sizeof(*c));
	c->vni = vni;
	c->ip = *ip;
	c->mac = r->mac;
	c->ours = a->mac;
	if (p)
		bgp_attrs_get_mp_nexthop(p->attrs, &c->vtep);
	strlcpy_s(c->resource, a->resource, sizeof(c->resource));
	c->since = (int64_t)time(NULL);
	c->kind = kind;
	TAILQ_INSERT_TAIL(&e->conflicts, c, entry);
	e->conflicts_total++;
	log_warn("ipam: %s conflict in VNI %u: another VTEP advertises %s "
	    "with MAC %s; %s is allocated here with MAC %s", kind, vni,
	    ipaddr_fmt(ip, ipb, sizeof(ipb)), mac_fmt(&r->mac, m2,
	    sizeof(m2)), a->resource, mac_fmt(&a->mac, m1, sizeof(m1)));
}

/*
 * Called by import for a remote type-2 route with an IP entering
 * (present) or leaving a VNI.
 */
void
evpn_ipam_remote_route(struct evpn *e, uint32_t vni, const struct evpn_route *r,
    const struct bgp_rib_path *p, bool present)
{
	struct ipam_pool *pool;
	const struct ipam_alloc *a, *m = NULL;
	struct evpn_conflict *c;
	const char *name;
	struct ipaddr ip;
	bool fabric, same_mac;

	if (e->ipam == NULL || (pool = ipam_pool_by_vni(e->ipam, vni)) == NULL)
		return;
	name = ipam_pool_name(pool);
	fabric = ipam_pool_is_fabric(pool);
	evpn_route_get_ip(r, &ip);
	a = ipam_find_ip(e->ipam, name, &ip);
	same_mac = a != NULL && mac_cmp(&a->mac, &r->mac) == 0;
	if (same_mac && !fabric)
		return;			/* the endpoint moved: mobility */
	ipam_mark_conflict(e->ipam, name, &ip, present);
	if (fabric && a == NULL)
		m = ipam_find_mac(e->ipam, name, &r->mac);
	if (present && a)
		conflict_add(e, vni, r, &ip, a, p, same_mac ? "ip+mac" : "ip");
	else if (present && m)
		conflict_add(e, vni, r, &ip, m, p, "mac");
	else if (!present && (c = conflict_find(e, vni, &ip)) != NULL) {
		TAILQ_REMOVE(&e->conflicts, c, entry);
		free(c);
	}
}

struct vtep_count {
	struct ipaddr	 vtep;
	size_t		 n;
};

static void
count_vtep_paths(const struct bgp_rib_entry *ent, void *arg)
{
	struct vtep_count *vc = arg;
	const struct bgp_rib_path *p;
	struct ipaddr nh;

	for (p = ent->paths; p != NULL; p = p->next) {
		if (p->slot == BGP_RIB_PEER_LOCAL)
			continue;
		bgp_attrs_get_mp_nexthop(p->attrs, &nh);
		if (ipaddr_cmp(&nh, &vc->vtep) == 0)
			vc->n++;
	}
}

/* Paths in the RIB whose next hop is vtep: it still speaks for its
 * endpoints, so its blocks must not be reclaimed. */
size_t
evpn_routes_from_vtep(struct evpn *e, const struct ipaddr *vtep)
{
	struct vtep_count vc = { .vtep = *vtep, .n = 0 };

	bgp_rib_foreach(e->rib, BGP_AID_L2VPN_EVPN, count_vtep_paths, &vc);
	return vc.n;
}

json_t *
evpn_ipam_conflicts_json(struct evpn *e)
{
	json_t *l = json_array(), *o;
	struct evpn_conflict *c;
	char a[IPADDR_STRLEN], m[MAC_STRLEN], n[MAC_STRLEN], v[IPADDR_STRLEN];

	TAILQ_FOREACH(c, &e->conflicts, entry) {
		o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I}",
		    "vni", (json_int_t)c->vni, "kind", c->kind,
		    "ip", ipaddr_fmt(&c->ip, a, sizeof(a)),
		    "resource", c->resource,
		    "mac", mac_fmt(&c->ours, m, sizeof(m)),
		    "remoteMac", mac_fmt(&c->mac, n, sizeof(n)),
		    "remoteVtep", ipaddr_fmt(&c->vtep, v, sizeof(v)),
		    "since", (json_int_t)c->since);
		json_array_append_new(l, o);
	}
	o = json_object();
	json_object_set_new(o, "conflicts", l);
	json_object_set_new(o, "total", json_integer((json_int_t)
	    e->conflicts_total));
	return o;
}

uint64_t
evpn_ipam_conflicts_total(const struct evpn *e)
{
	return e->conflicts_total;
}

void
evpn_ipam_conflicts_free(struct evpn *e)
{
	struct evpn_conflict *c;

	while ((c = TAILQ_FIRST(&e->conflicts)) != NULL) {
		TAILQ_REMOVE(&e->conflicts, c, entry);
		free(c);
	}
}
