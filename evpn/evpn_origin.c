/*
 * Origination: the routes this VTEP advertises, derived from the
 * configuration, and their path attributes.
 *
 *   type 3 (RFC 7432 §7.3, RFC 8365 §9): one per L2 VNI with
 *          advertise-all-vni; PMSI tunnel attribute "ingress
 *          replication", label = VNI, tunnel endpoint = our VTEP IP.
 *   type 2 (RFC 7432 §7.2): one per static-mac, label = VNI; sticky
 *          MACs and moved MACs carry the MAC mobility community (§7.7).
 *   type 5 (RFC 9136 §3): one per `network` of a VRF instance that
 *          advertises its family; label = L3 VNI; router MAC community
 *          (RFC 9135 §8.1) so receivers can rewrite the inner Ethernet
 *          header.
 * Every route carries the VNI's export route targets and the VXLAN
 * encapsulation community (RFC 9012 §4.1, tunnel type 8), and our VTEP
 * IP as next hop; a sampled type 2 also its origination time
 * (evpn_converge.c).
 */
#include "evpn/evpn_int.h"
#include "bgpd/bgpd.h"
#include "common/byteorder.h"
#include "common/log.h"
#include "common/util.h"

#include <string.h>

static void
put_mobility(uint8_t *ec, uint32_t seq, bool sticky)
{
	memset(ec, 0, BGP_ECOMM_LEN);
	ec[0] = BGP_ECOMM_T_EVPN;
	ec[1] = EVPN_ECOMM_ST_MAC_MOB;
	ec[2] = sticky ? EVPN_MAC_MOB_STICKY : 0;
	be32_store(ec + 4, seq);
}

static void
put_router_mac(uint8_t *ec, const struct macaddr *m)
{
	ec[0] = BGP_ECOMM_T_EVPN;
	ec[1] = EVPN_ECOMM_ST_ROUTER_MAC;
	memcpy(ec + 2, m->b, 6);
}

/* Extended communities of a local route, in the order FRR 8.4 puts
 * them on the wire (encapsulation first; see the captured UPDATEs in
 * tests/fixtures), so our UPDATEs match FRR's byte for byte. */
static size_t
local_ecomms(const struct evpn_local *l, const struct evpn_vni *v,
    uint8_t *buf, size_t max)
{
	size_t n = 0;

	if (n < max)
		bgp_ecomm_make_encap(buf + 8 * n++, BGP_TUNNEL_VXLAN);
	for (size_t i = 0; i < v->n_export && n < max; i++)
		memcpy(buf + 8 * n++, v->rt_export[i].b, 8);
	if (n < max && l->route.type == EVPN_RT_MACIP &&
	    (l->seq > 0 || l->sticky))
		put_mobility(buf + 8 * n++, l->seq, l->sticky);
	if (n < max && l->route.type == EVPN_RT_PREFIX)
		put_router_mac(buf + 8 * n++, &v->router_mac);
	return n;
}

void
evpn_local_announce(struct evpn *e, struct evpn_local *l)
{
	struct evpn_vni *v = evpn_vni_find(e, l->vni);
	uint8_t key[EVPN_KEY_LEN], ec[8 * 20];
	struct bgp_labels labels;
	struct bgp_attrs a;
	size_t n;

	if (v == NULL)
		return;
	bgp_attrs_init(&a);
	bgp_attrs_set_origin(&a, BGP_ORIGIN_IGP);
	bgp_attrs_set_aspath_seq(&a, NULL, 0);
	bgp_attrs_set_mp_nexthop(&a, v->tunnel_ip.u.b,
	    (uint8_t)ipaddr_len(&v->tunnel_ip));
	n = local_ecomms(l, v, ec, sizeof(ec) / 8);
	n = evpn_conv_stamp(e, l, &v->tunnel_ip, ec, n, sizeof(ec) / 8);
	bgp_attrs_set_ecomms(&a, ec, n);
	memset(&labels, 0, sizeof(labels));
	if (l->route.type == EVPN_RT_IMET)
		bgp_attrs_set_pmsi(&a, 0, EVPN_PMSI_INGRESS_REPL, v->vni,
		    v->tunnel_ip.u.b, ipaddr_len(&v->tunnel_ip));
	else {
		labels.n = 1;
		labels.label[0] = l->vni;
	}
	evpn_key_pack(&l->route, key);
	bgp_rib_local_add(e->rib, BGP_AID_L2VPN_EVPN, key, &labels, &a);
	bgp_attrs_clear(&a);
}

/* Find or add a local route; marks it kept. */
struct evpn_local *
evpn_local_upsert(struct evpn *e, const struct evpn_route *r, uint32_t vni,
    bool sticky, enum evpn_local_source source)
{
	struct evpn_local *l = evpn_local_find(e, r);
	struct ipaddr vtep;
	uint32_t seq;
	bool rsticky;

	if (l == NULL) {
		l = xcalloc(1, sizeof(*l));
		l->route = *r;
		l->vni = vni;
		/* RFC 7432 §15: a MAC already known from another VTEP is
		 * advertised with a higher sequence number. */
		if (r->type == EVPN_RT_MACIP && evpn_import_remote_mac(e, vni,
		    &r->mac, &seq, &rsticky, &vtep))
			l->seq = seq < UINT32_MAX ? seq + 1 : UINT32_MAX;
		l->source = source;
		evpn_locals_insert(e, l);
		evpn_conv_pick(e, l, false);
	}
	/* Configuration wins over learning for the same route (the MAC
	 * then counts no more against the mac-limit). */
	if (source == EVPN_LOCAL_CONFIG)
		evpn_local_set_source(e, l, source);
	l->sticky = sticky;
	l->keep = true;
	return l;
}

static void
originate_l2(struct evpn *e, const struct config *conf, struct evpn_vni *v)
{
	const struct conf_vxlan *x;
	const struct conf_static_mac *m;
	struct evpn_route r;

	if (evpn_route_make_imet(&r, &v->rd, &v->tunnel_ip) == 0)
		evpn_local_upsert(e, &r, v->vni, false, EVPN_LOCAL_CONFIG);
	TAILQ_FOREACH(x, &conf->vxlans, entry) {
		if (x->vni != v->vni)
			continue;
		TAILQ_FOREACH(m, &x->static_macs, entry) {
			if (evpn_route_make_macip(&r, &v->rd, &m->mac,
			    ipaddr_is_set(&m->ip) ? &m->ip : NULL, v->vni,
			    0) == 0)
				evpn_local_upsert(e, &r, v->vni, m->sticky,
				    EVPN_LOCAL_CONFIG);
		}
	}
}

static void
originate_vrf(struct evpn *e, const struct config *conf,
    const struct conf_bgp *b)
{
	const struct conf_vrf *vrf = conf_vrf_find(conf, b->vrf_name);
	const struct conf_prefix *p;
	struct evpn_vni *v;
	struct evpn_route r;

	if (vrf == NULL || (v = evpn_vni_find(e, vrf->vni)) == NULL)
		return;
	TAILQ_FOREACH(p, &b->networks, entry) {
		int af = p->prefix.addr.af;

		if ((af == AF_INET && !b->advertise_ipv4) ||
		    (af == AF_INET6 && !b->advertise_ipv6))
			continue;
		if (evpn_route_make_prefix(&r, &v->rd, &p->prefix, NULL,
		    v->vni) == 0)
			evpn_local_upsert(e, &r, v->vni, false, EVPN_LOCAL_CONFIG);
	}
}

void
evpn_local_remove(struct evpn *e, struct evpn_local *l)
{
	uint8_t key[EVPN_KEY_LEN];

	evpn_key_pack(&l->route, key);
	evpn_locals_unlink(e, l);
	bgp_rib_local_del(e->rib, BGP_AID_L2VPN_EVPN, key);
	free(l);
}

/* Move a kept route to a new RD: withdraw the old key first. */
static void
local_rekey(struct evpn *e, struct evpn_local *l, const struct rd *rd)
{
	uint8_t key[EVPN_KEY_LEN];

	evpn_key_pack(&l->route, key);
	bgp_rib_local_del(e->rib, BGP_AID_L2VPN_EVPN, key);
	evpn_locals_unlink(e, l);
	l->route.rd = *rd;
	evpn_locals_insert(e, l);
	l->rekeyed = true;
}

void
evpn_originate(struct evpn *e, const struct config *conf)
{
	struct evpn_local *l, *ln;
	const struct conf_bgp *b;
	struct evpn_vni *v;

	/* Learned and allocated routes stay while their VNI does (under the
	 * VNI's RD, which a router-id change moves); configured ones must be
	 * derived again. */
	TAILQ_FOREACH_SAFE(l, &e->locals, entry, ln) {
		v = evpn_vni_find(e, l->vni);
		l->keep = l->source != EVPN_LOCAL_CONFIG && v != NULL;
		if (l->keep && rd_cmp(&l->route.rd, &v->rd) != 0)
			local_rekey(e, l, &v->rd);
	}
	if (e->advertise_all_vni) {
		TAILQ_FOREACH(v, &e->vnis, entry)
			if (!v->l3)
				originate_l2(e, conf, v);
	}
	TAILQ_FOREACH(b, &conf->bgps, entry)
		if (b->vrf_name)
			originate_vrf(e, conf, b);
	/* Announcing an unchanged route is harmless but not free: learned
	 * and allocated routes (there may be many) only when moved. */
	TAILQ_FOREACH_SAFE(l, &e->locals, entry, ln) {
		if (!l->keep) {
			evpn_local_remove(e, l);
			continue;
		}
		if (l->source == EVPN_LOCAL_CONFIG || l->rekeyed)
			evpn_local_announce(e, l);
		l->rekeyed = false;
	}
}

