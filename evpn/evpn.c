/*
 * EVPN instances: the VNIs of this VTEP, their RDs and RTs, built from
 * the configuration; the module's life cycle.
 *
 * Derivation when not configured (what FRR does, so evpnd and FRR
 * leaves agree without configuration):
 *   RD  = router-id:N, type 1, N counting from 1 over the VNIs in
 *         ascending order (FRR hands out the same kind of small index);
 *         a VNI keeps its N across reloads;
 *   RT  = (AS & 0xFFFF):VNI in the two-octet-AS form, for import and
 *         export; an auto-derived import RT matches any AS with that
 *         VNI, so leaves in different ASes still import each other.
 */
#include "evpn/evpn_dp.h"
#include "evpn/evpn_int.h"
#include "bgpd/bgpd.h"
#include "common/byteorder.h"
#include "common/log.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

struct evpn_vni *
evpn_vni_find(const struct evpn *e, uint32_t vni)
{
	struct evpn_vni *v;

	TAILQ_FOREACH(v, &e->vnis, entry)
		if (v->vni == vni)
			return v;
	return NULL;
}

static void
evpn_vni_free(struct evpn_vni *v)
{
	free(v->vrf);
	free(v->ifname);
	free(v->bridge);
	free(v->rt_import);
	free(v->rt_export);
	free(v);
}

void
evpn_instances_free(struct evpn_vni_list *l)
{
	struct evpn_vni *v;

	while ((v = TAILQ_FIRST(l)) != NULL) {
		TAILQ_REMOVE(l, v, entry);
		evpn_vni_free(v);
	}
}

static struct rt *
rt_list_copy(const struct conf_rt_list *l, size_t *n)
{
	const struct conf_rt *c;
	struct rt *out;
	size_t i = 0;

	*n = 0;
	TAILQ_FOREACH(c, l, entry)
		(*n)++;
	if (*n == 0)
		return NULL;
	out = xcalloc(*n, sizeof(*out));
	TAILQ_FOREACH(c, l, entry)
		out[i++] = c->rt;
	return out;
}

static const struct conf_evpn_vni *
conf_evpn_vni_find(const struct conf_bgp *b, uint32_t vni)
{
	const struct conf_evpn_vni *c;

	if (b == NULL)
		return NULL;
	TAILQ_FOREACH(c, &b->evpn_vnis, entry)
		if (c->vni == vni)
			return c;
	return NULL;
}

/* A locally administered MAC from the router id, for an L3 VNI with no
 * router-mac configured: stable across restarts. */
static void
derive_router_mac(uint32_t router_id, struct macaddr *m)
{
	m->b[0] = 0x02;
	m->b[1] = 0x00;
	be32_store(m->b + 2, router_id);
}

static void
evpn_vni_targets(struct evpn_vni *v, const struct conf_evpn_vni *c,
    uint32_t asn)
{
	if (c) {
		v->rt_import = rt_list_copy(&c->rt_import, &v->n_import);
		v->rt_export = rt_list_copy(&c->rt_export, &v->n_export);
	}
	if (v->n_import == 0) {
		v->import_auto = true;
		v->rt_import = xcalloc(1, sizeof(struct rt));
		rt_make_as2(v->rt_import, (uint16_t)(asn & 0xffff), v->vni);
		v->n_import = 1;
	}
	if (v->n_export == 0) {
		v->rt_export = xcalloc(1, sizeof(struct rt));
		rt_make_as2(v->rt_export, (uint16_t)(asn & 0xffff), v->vni);
		v->n_export = 1;
	}
}

static struct evpn_vni *
evpn_vni_from_conf(const struct config *conf, const struct conf_vxlan *x,
    uint32_t asn, uint32_t router_id, uint16_t index)
{
	const struct conf_evpn_vni *c =
	    conf_evpn_vni_find(conf_bgp_default(conf), x->vni);
	const struct conf_vrf *vrf = conf_vrf_by_vni(conf, x->vni);
	struct evpn_vni *v = xcalloc(1, sizeof(*v));

	v->vni = x->vni;
	v->ifname = xstrdup(x->name);
	if (x->bridge)
		v->bridge = xstrdup(x->bridge);
	else {
		/* A VNI needs a bridge in the kernel; name it after the VNI. */
		char name[16];

		snprintf(name, sizeof(name), "br%u", x->vni);
		v->bridge = xstrdup(name);
	}
	v->tunnel_ip = x->local_ip;
	v->dstport = x->dstport;
	v->mtu = x->mtu;
	v->arp_suppress = x->arp_suppression;
	v->mac_limit = x->mac_limit;
	/* The bridge MAC of an L2 VNI (and, for an L3 VNI, the router MAC
	 * below): the vrf's router-mac, else derived from the router id. */
	derive_router_mac(router_id, &v->router_mac);
	if (vrf == NULL && x->svi_vrf != NULL) {
		const struct conf_vrf *sv = conf_vrf_find(conf, x->svi_vrf);

		/* An L2 VNI whose bridge routes in a tenant VRF. */
		v->vrf = xstrdup(x->svi_vrf);
		v->table = sv ? sv->table : 0;
		if (sv && sv->has_router_mac)
			v->router_mac = sv->router_mac;
	}
	if (vrf) {
		v->l3 = true;
		v->vrf = xstrdup(vrf->name);
		v->table = vrf->table;
		if (vrf->has_router_mac)
			v->router_mac = vrf->router_mac;
		else
			derive_router_mac(router_id, &v->router_mac);
	}
	if (c && c->has_rd)
		v->rd = c->rd;
	else {
		v->rd_auto = true;
		rd_make_ipv4(&v->rd, router_id, index);
	}
	evpn_vni_targets(v, c, asn);
	return v;
}

static bool
rd_index_used(const struct evpn_vni_list *l, uint16_t index)
{
	const struct evpn_vni *v;

	TAILQ_FOREACH(v, l, entry)
		if (v->rd_auto && v->rd_index == index)
			return true;
	return false;
}

/*
 * Derived RD indices: a VNI keeps the index it had (a reload adding a
 * VNI must not renumber, and so re-advertise, the others); new VNIs take
 * the lowest free index, in ascending VNI order, from 1.
 */
static void
evpn_rd_indices(const struct evpn *e, struct evpn_vni_list *l,
    uint32_t router_id)
{
	struct evpn_vni *v;
	const struct evpn_vni *old;
	uint16_t next = 1;

	TAILQ_FOREACH(v, l, entry) {
		if (!v->rd_auto)
			continue;
		old = evpn_vni_find(e, v->vni);
		if (old && old->rd_auto && e->router_id == router_id)
			v->rd_index = old->rd_index;
	}
	TAILQ_FOREACH(v, l, entry) {
		if (!v->rd_auto)
			continue;
		if (v->rd_index == 0) {
			while (rd_index_used(l, next))
				next++;
			v->rd_index = next;
		}
		rd_make_ipv4(&v->rd, router_id, v->rd_index);
	}
}

/* Insert keeping ascending VNI order. */
static void
vni_list_insert(struct evpn_vni_list *l, struct evpn_vni *v)
{
	struct evpn_vni *o;

	TAILQ_FOREACH(o, l, entry) {
		if (o->vni > v->vni) {
			TAILQ_INSERT_BEFORE(o, v, entry);
			return;
		}
	}
	TAILQ_INSERT_TAIL(l, v, entry);
}

int
evpn_instances_build(struct evpn *e, const struct config *conf,
    struct evpn_vni_list *out, char *err, size_t errlen)
{
	const struct conf_bgp *b = conf_bgp_default(conf);
	const struct conf_vxlan *x;
	uint32_t router_id;

	TAILQ_INIT(out);
	if (b == NULL)
		return 0;
	router_id = ipaddr_v4_host(&b->router_id);
	if (evpn_config_check(conf, err, errlen) == -1)
		return -1;
	TAILQ_FOREACH(x, &conf->vxlans, entry) {
		vni_list_insert(out, evpn_vni_from_conf(conf, x, b->asn,
		    router_id, 0));
	}
	evpn_rd_indices(e, out, router_id);
	return 0;
}

int
evpn_config_check(const struct config *conf, char *err, size_t errlen)
{
	const struct conf_vxlan *x;

	TAILQ_FOREACH(x, &conf->vxlans, entry) {
		if (!ipaddr_is_set(&x->local_ip)) {
			snprintf(err, errlen, "vxlan %s: no local-tunnel-ip",
			    x->name);
			return -1;
		}
	}
	return 0;
}

static void
evpn_apply_globals(struct evpn *e, const struct config *conf)
{
	const struct conf_bgp *b = conf_bgp_default(conf);

	e->asn = b ? b->asn : 0;
	e->router_id = b ? ipaddr_v4_host(&b->router_id) : 0;
	e->advertise_all_vni = b ? b->advertise_all_vni : false;
	if (b)
		e->dad = b->dad;
	evpn_conv_configure(e, b ? b->conv_sample : CONF_DEFAULT_CONV_SAMPLE);
	e->rib_stale_time = b ? b->rib_stale_time :
	    CONF_DEFAULT_RIB_STALE_TIME;
}

struct evpn *
evpn_create(struct bgp *bgp, struct bgp_rib *rib, const struct config *conf,
    char *err, size_t errlen)
{
	struct evpn *e = xcalloc(1, sizeof(*e));
	struct evpn_vni_list fresh;

	e->bgp = bgp;
	e->rib = rib;
	evpn_locals_init(e);
	TAILQ_INIT(&e->vnis);
	TAILQ_INIT(&e->conflicts);
	macset_init(&e->remote_rmacs);
	if (evpn_instances_build(e, conf, &fresh, err, errlen) == -1) {
		free(e);
		return NULL;
	}
	TAILQ_CONCAT(&e->vnis, &fresh, entry);
	evpn_ipam_own_macs(e);
	evpn_conv_init(e);
	evpn_apply_globals(e, conf);
	evpn_import_init(e);
	evpn_mobility_init(e, bgp_event_base(bgp));
	evpn_dp_settle_init(e, bgp_event_base(bgp));
	bgp_rib_af_register(rib, &evpn_af, evpn_import_best_changed, e);
	evpn_originate(e, conf);
	return e;
}

/* What a VNI counted survives a reload that keeps the VNI. */
static void
evpn_vnis_carry_counters(struct evpn *e, const struct evpn_vni_list *old)
{
	const struct evpn_vni *o;
	struct evpn_vni *v;

	TAILQ_FOREACH(o, old, entry) {
		if ((v = evpn_vni_find(e, o->vni)) == NULL)
			continue;
		v->mac_limit_drops = o->mac_limit_drops;
		v->at_mac_limit = o->at_mac_limit;
	}
}

/* Re-run the import of an entry (route targets may have changed). */
static void
reimport_one(const struct bgp_rib_entry *ent, void *arg)
{
	evpn_import_best_changed(arg, ent, NULL, bgp_rib_best(ent));
}

int
evpn_reconfigure(struct evpn *e, const struct config *conf, char *err,
    size_t errlen)
{
	struct evpn_vni_list fresh, old;

	if (evpn_instances_build(e, conf, &fresh, err, errlen) == -1)
		return -1;
	TAILQ_INIT(&old);
	TAILQ_CONCAT(&old, &e->vnis, entry);
	TAILQ_CONCAT(&e->vnis, &fresh, entry);
	evpn_vnis_carry_counters(e, &old);
	evpn_ipam_own_macs(e);
	evpn_apply_globals(e, conf);
	evpn_dp_vnis_apply(e, &old);
	evpn_instances_free(&old);
	evpn_import_free(e);
	evpn_import_init(e);
	e->reimporting = true;		/* not news: no convergence samples */
	bgp_rib_foreach(e->rib, BGP_AID_L2VPN_EVPN, reimport_one, e);
	e->reimporting = false;
	evpn_originate(e, conf);
	evpn_learned_recount(e);
	evpn_dp_resync(e);
	return 0;
}

void
evpn_get_dp_counters(const struct evpn *e, struct evpn_dp_counters *c)
{
	const struct evpn_vni *v;

	*c = e->dp_ctr;
	c->vnis_at_mac_limit = 0;
	TAILQ_FOREACH(v, &e->vnis, entry)
		if (v->at_mac_limit)
			c->vnis_at_mac_limit++;
}

void
evpn_set_churn_hook(struct evpn *e, evpn_churn_cb *cb, void *arg)
{
	e->churn_cb = cb;
	e->churn_arg = arg;
}

void
evpn_churn(struct evpn *e, uint32_t vni, enum evpn_churn kind)
{
	if (e->churn_cb)
		e->churn_cb(e->churn_arg, vni, kind);
}

void
evpn_free(struct evpn *e)
{
	if (e == NULL)
		return;
	evpn_mobility_free(e);
	evpn_dp_settle_free(e);
	evpn_locals_free(e);
	evpn_ipam_conflicts_free(e);
	evpn_ipam_macs_free(e);
	evpn_import_free(e);
	evpn_instances_free(&e->vnis);
	evpn_conv_free(e);
	free(e);
}
