/*
 * Configuration model: freeing and the lookups the parts that apply a
 * config use.  Parsing lives in conf_parse.c, printing in conf_print.c.
 *
 * Every list owns its elements and every string is malloc'd, so freeing
 * is a plain walk; conf_free() also accepts a half-built config, which
 * is how the parser discards a file that failed part-way.
 */
#include "conf/conf_parse.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static void
conf_rt_list_free(struct conf_rt_list *list)
{
	struct conf_rt *rt, *next;

	TAILQ_FOREACH_SAFE(rt, list, entry, next) {
		TAILQ_REMOVE(list, rt, entry);
		free(rt);
	}
}

static void
conf_neighbor_free(struct conf_neighbor *n)
{
	free(n->description);
	free_secret(n->password);
	free(n);
}

static void
conf_bgp_free(struct conf_bgp *bgp)
{
	struct conf_neighbor *n, *nn;
	struct conf_evpn_vni *v, *nv;
	struct conf_prefix *p, *np;

	TAILQ_FOREACH_SAFE(n, &bgp->neighbors, entry, nn) {
		TAILQ_REMOVE(&bgp->neighbors, n, entry);
		conf_neighbor_free(n);
	}
	TAILQ_FOREACH_SAFE(v, &bgp->evpn_vnis, entry, nv) {
		TAILQ_REMOVE(&bgp->evpn_vnis, v, entry);
		conf_rt_list_free(&v->rt_import);
		conf_rt_list_free(&v->rt_export);
		free(v);
	}
	TAILQ_FOREACH_SAFE(p, &bgp->networks, entry, np) {
		TAILQ_REMOVE(&bgp->networks, p, entry);
		free(p);
	}
	free(bgp->vrf_name);
	free(bgp);
}

static void
conf_vxlan_free(struct conf_vxlan *vx)
{
	struct conf_static_mac *m, *nm;

	TAILQ_FOREACH_SAFE(m, &vx->static_macs, entry, nm) {
		TAILQ_REMOVE(&vx->static_macs, m, entry);
		free(m);
	}
	free(vx->name);
	free(vx->bridge);
	free(vx->svi_vrf);
	free(vx);
}

void
conf_ipam_datastore_clear(struct conf_ipam_datastore *ds)
{
	for (size_t i = 0; i < ds->nendpoints; i++)
		free(ds->endpoints[i]);
	free(ds->key_prefix);
	free(ds->tls_cert);
	free(ds->tls_key);
	free(ds->tls_ca);
	memset(ds, 0, sizeof(*ds));
}

static void
conf_ipam_pool_free(struct conf_ipam_pool *pool)
{
	struct conf_prefix *p, *np;
	struct conf_ipam_range *r, *nr;
	struct conf_ipam_reserve *res, *nres;

	TAILQ_FOREACH_SAFE(p, &pool->prefixes, entry, np)
		free(p);
	TAILQ_FOREACH_SAFE(r, &pool->excludes, entry, nr)
		free(r);
	TAILQ_FOREACH_SAFE(res, &pool->reserves, entry, nres) {
		free(res->name);
		free(res);
	}
	free(pool->dns.zone);
	free(pool->dns.tsig_alg);
	free(pool->dns.tsig_name);
	if (pool->dns.tsig_secret != NULL)
		explicit_bzero(pool->dns.tsig_secret,
		    strlen(pool->dns.tsig_secret));
	free(pool->dns.tsig_secret);
	free(pool->dns.name_template);
	free(pool->name);
	free(pool->tenant);
	free(pool);
}

void
conf_free(struct config *c)
{
	struct conf_ipam_pool *pool, *npool;
	struct conf_bgp *bgp, *nbgp;
	struct conf_vxlan *vx, *nvx;
	struct conf_vrf *vrf, *nvrf;

	if (c == NULL)
		return;
	TAILQ_FOREACH_SAFE(bgp, &c->bgps, entry, nbgp) {
		TAILQ_REMOVE(&c->bgps, bgp, entry);
		conf_bgp_free(bgp);
	}
	TAILQ_FOREACH_SAFE(vx, &c->vxlans, entry, nvx) {
		TAILQ_REMOVE(&c->vxlans, vx, entry);
		conf_vxlan_free(vx);
	}
	TAILQ_FOREACH_SAFE(vrf, &c->vrfs, entry, nvrf) {
		TAILQ_REMOVE(&c->vrfs, vrf, entry);
		free(vrf->name);
		free(vrf);
	}
	TAILQ_FOREACH_SAFE(pool, &c->ipam_pools, entry, npool)
		conf_ipam_pool_free(pool);
	conf_ipam_datastore_clear(&c->ipam_datastore);
	conf_api_listen_clear(&c->api_listen);
	conf_api_clients_clear(&c->api_clients);
	conf_telemetry_clear(&c->telemetry);
	free(c->hostname);
	free(c->log_file);
	free(c);
}

struct conf_bgp *
conf_bgp_default(const struct config *c)
{
	struct conf_bgp *bgp;

	TAILQ_FOREACH(bgp, &c->bgps, entry)
		if (bgp->vrf_name == NULL)
			return bgp;
	return NULL;
}

struct conf_bgp *
conf_bgp_vrf(const struct config *c, const char *vrf)
{
	struct conf_bgp *bgp;

	if (vrf == NULL)
		return conf_bgp_default(c);
	TAILQ_FOREACH(bgp, &c->bgps, entry)
		if (bgp->vrf_name != NULL && strcmp(bgp->vrf_name, vrf) == 0)
			return bgp;
	return NULL;
}

struct conf_neighbor *
conf_neighbor_find(const struct conf_bgp *bgp, const struct ipaddr *addr)
{
	struct conf_neighbor *n;

	TAILQ_FOREACH(n, &bgp->neighbors, entry)
		if (ipaddr_cmp(&n->addr, addr) == 0)
			return n;
	return NULL;
}

struct conf_vrf *
conf_vrf_find(const struct config *c, const char *name)
{
	struct conf_vrf *vrf;

	TAILQ_FOREACH(vrf, &c->vrfs, entry)
		if (strcmp(vrf->name, name) == 0)
			return vrf;
	return NULL;
}

struct conf_vrf *
conf_vrf_by_vni(const struct config *c, uint32_t vni)
{
	struct conf_vrf *vrf;

	if (vni == 0)
		return NULL;
	TAILQ_FOREACH(vrf, &c->vrfs, entry)
		if (vrf->vni == vni)
			return vrf;
	return NULL;
}

struct conf_vxlan *
conf_vxlan_by_vni(const struct config *c, uint32_t vni)
{
	struct conf_vxlan *vx;

	if (vni == 0)
		return NULL;
	TAILQ_FOREACH(vx, &c->vxlans, entry)
		if (vx->vni == vni)
			return vx;
	return NULL;
}

uint16_t
conf_neighbor_holdtime(const struct conf_neighbor *n)
{
	return n->has_timers ? n->holdtime : CONF_DEFAULT_HOLDTIME;
}

uint16_t
conf_neighbor_keepalive(const struct conf_neighbor *n)
{
	return n->has_timers ? n->keepalive : CONF_DEFAULT_KEEPALIVE;
}

int
conf_af_index(uint8_t af)
{
	switch (af) {
	case CONF_AF_IPV4_UNICAST:
		return 0;
	case CONF_AF_IPV6_UNICAST:
		return 1;
	case CONF_AF_L2VPN_EVPN:
		return 2;
	default:
		fatalx("%s: 0x%02x is not one address family", __func__, af);
	}
}

static bool
str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/*
 * What goes into the OPEN or the TCP connection: changing any of these
 * only takes effect on a new session.  Description, shutdown (handled
 * as its own stop/start), connect-retry, route-reflector-client
 * (a route refresh suffices), maximum-prefix and the send hold time
 * (bgpd applies them to the running session) are left out on purpose.
 */
bool
conf_neighbor_session_differs(const struct conf_neighbor *a,
    const struct conf_neighbor *b)
{
	return a->remote_as != b->remote_as ||
	    ipaddr_cmp(&a->update_source, &b->update_source) != 0 ||
	    str_differs(a->password, b->password) ||
	    conf_neighbor_holdtime(a) != conf_neighbor_holdtime(b) ||
	    conf_neighbor_keepalive(a) != conf_neighbor_keepalive(b) ||
	    a->port != b->port ||
	    a->passive != b->passive ||
	    a->af_active != b->af_active;
}

const char *
conf_datastore_prefix(const struct config *c)
{
	return c->ipam_datastore.key_prefix != NULL ?
	    c->ipam_datastore.key_prefix : CONF_DATASTORE_DEFAULT_PREFIX;
}

struct conf_ipam_pool *
conf_ipam_pool_find(const struct config *c, const char *name)
{
	struct conf_ipam_pool *pool;

	TAILQ_FOREACH(pool, &c->ipam_pools, entry)
		if (strcmp(pool->name, name) == 0)
			return pool;
	return NULL;
}
