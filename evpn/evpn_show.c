/*
 * JSON views of EVPN state for the API and evpnctl.  Key names follow
 * FRR's where FRR has one, so tools written for FRR read them.
 */
#include "evpn/evpn_int.h"
#include "bgpd/bgpd.h"
#include "common/util.h"

#include <string.h>

static json_t *
json_ip(const struct ipaddr *a)
{
	char buf[IPADDR_STRLEN];

	return json_string(ipaddr_fmt(a, buf, sizeof(buf)));
}

static json_t *
route_targets_json(const struct bgp_attrs *a)
{
	json_t *l = json_array();
	char buf[RT_STRLEN];
	size_t it = 0;
	struct rt rt;

	while (bgp_rt_next(a, &it, &rt) == 0)
		json_array_append_new(l, json_string(rt_fmt(&rt, buf,
		    sizeof(buf))));
	return l;
}

static json_t *
router_mac_json(const struct bgp_attrs *a)
{
	uint8_t ec[BGP_ECOMM_LEN];
	struct macaddr m;
	char buf[MAC_STRLEN];
	size_t it = 0;

	if (bgp_ecomm_find(a, BGP_ECOMM_T_EVPN, EVPN_ECOMM_ST_ROUTER_MAC,
	    &it, ec) == -1)
		return json_null();
	memcpy(m.b, ec + 2, 6);
	return json_string(mac_fmt(&m, buf, sizeof(buf)));
}

static bool
has_vxlan_encap(const struct bgp_attrs *a)
{
	uint8_t want[BGP_ECOMM_LEN], ec[BGP_ECOMM_LEN];
	size_t it = 0;

	bgp_ecomm_make_encap(want, BGP_TUNNEL_VXLAN);
	while (bgp_ecomm_find(a, BGP_ECOMM_T_OPAQUE, BGP_ECOMM_ST_ENCAP, &it,
	    ec) == 0)
		if (memcmp(ec, want, BGP_ECOMM_LEN) == 0)
			return true;
	return false;
}

static void
route_type_fields(json_t *o, const struct evpn_route *r,
    const struct bgp_rib_path *p)
{
	struct ipaddr ip;
	char buf[PREFIX_STRLEN];

	evpn_route_get_ip(r, &ip);
	if (r->type == EVPN_RT_MACIP) {
		json_object_set_new(o, "mac", json_string(mac_fmt(&r->mac,
		    buf, sizeof(buf))));
		json_object_set_new(o, "ip", ip.af ? json_ip(&ip) :
		    json_null());
	} else if (r->type == EVPN_RT_IMET) {
		json_object_set_new(o, "ip", json_ip(&ip));
	} else if (r->type == EVPN_RT_PREFIX) {
		struct prefix pfx = { ip, r->plen };
		struct ipaddr gw;

		evpn_route_get_gw(r, &gw);
		json_object_set_new(o, "ipPrefix", json_string(prefix_fmt(&pfx,
		    buf, sizeof(buf))));
		if (gw.af == 0) {
			memset(&gw, 0, sizeof(gw));
			gw.af = ip.af;
		}
		json_object_set_new(o, "gatewayIp", json_ip(&gw));
	}
	(void)p;
}

static json_t *
route_json(struct evpn *e, const struct bgp_rib_entry *ent,
    const struct bgp_rib_path *p)
{
	const struct bgp_rib_source *src = bgp_rib_path_source(e->rib, p);
	json_t *o = json_object();
	struct evpn_route r;
	struct ipaddr nh;
	char buf[EVPN_PREFIX_STRLEN];
	uint64_t stamp;
	uint32_t seq;
	bool sticky;

	evpn_key_unpack(ent->key, &r);
	json_object_set_new(o, "prefix", json_string(evpn_route_prefix_fmt(&r,
	    buf, sizeof(buf))));
	json_object_set_new(o, "type", json_integer(r.type));
	json_object_set_new(o, "rd", json_string(rd_fmt(&r.rd, buf,
	    sizeof(buf))));
	json_object_set_new(o, "ethTag", json_integer(r.eth_tag));
	route_type_fields(o, &r, p);
	if (r.type == EVPN_RT_IMET)
		json_object_set_new(o, "vni", json_integer(p->attrs->pmsi_label));
	else
		json_object_set_new(o, "vni", p->nlabels ?
		    json_integer(p->label[0]) : json_null());
	if (p->nlabels > 1)
		json_object_set_new(o, "vni2", json_integer(p->label[1]));
	bgp_attrs_get_mp_nexthop(p->attrs, &nh);
	json_object_set_new(o, "nexthop", nh.af ? json_ip(&nh) : json_null());
	json_object_set_new(o, "routeTargets", route_targets_json(p->attrs));
	json_object_set_new(o, "encap", has_vxlan_encap(p->attrs) ?
	    json_string("vxlan") : json_null());
	json_object_set_new(o, "routerMac", router_mac_json(p->attrs));
	evpn_path_mobility(p->attrs, &seq, &sticky);
	json_object_set_new(o, "mobilitySeq", json_integer(seq));
	json_object_set_new(o, "sticky", json_boolean(sticky));
	json_object_set_new(o, "peer", p->slot == BGP_RIB_PEER_LOCAL ?
	    json_string("local") : json_ip(&src->addr));
	json_object_set_new(o, "best", json_boolean(p == bgp_rib_best(ent)));
	if (bgp_rib_path_stale(e->rib, p))
		json_object_set_new(o, "stale", json_true());
	if (evpn_conv_stamp_of(p->attrs, &stamp) == 0)
		json_object_set_new(o, "originatedMs", json_integer(
		    (json_int_t)stamp));
	return o;
}

struct routes_walk {
	struct evpn	*e;
	int		 type;
	uint32_t	 vni;
	json_t		*list;
};

/* Does the entry belong to the VNI: a local route of it, or imported? */
static bool
entry_in_vni(struct evpn *e, const struct bgp_rib_entry *ent, uint32_t vni)
{
	const struct bgp_rib_path *p = bgp_rib_best(ent);
	uint32_t vnis[16];
	size_t n;

	if (p == NULL)
		return false;
	if (p->slot == BGP_RIB_PEER_LOCAL) {
		struct evpn_route r;
		struct evpn_local *l;

		evpn_key_unpack(ent->key, &r);
		l = evpn_local_find(e, &r);
		return l && l->vni == vni;
	}
	n = evpn_import_vnis(e, evpn_key_type(ent->key), p->attrs, vnis, 16);
	for (size_t i = 0; i < n; i++)
		if (vnis[i] == vni)
			return true;
	return false;
}

static void
routes_walk_one(const struct bgp_rib_entry *ent, void *arg)
{
	struct routes_walk *w = arg;

	if (w->type && evpn_key_type(ent->key) != w->type)
		return;
	if (w->vni && !entry_in_vni(w->e, ent, w->vni))
		return;
	for (const struct bgp_rib_path *p = ent->paths; p; p = p->next)
		json_array_append_new(w->list, route_json(w->e, ent, p));
}

json_t *
evpn_routes_json(struct evpn *e, int type, uint32_t vni)
{
	struct routes_walk w = { e, type, vni, json_array() };
	json_t *o = json_object();

	bgp_rib_foreach(e->rib, BGP_AID_L2VPN_EVPN, routes_walk_one, &w);
	json_object_set_new(o, "total", json_integer(json_array_size(w.list)));
	json_object_set_new(o, "routes", w.list);
	return o;
}

uint64_t
evpn_routes_scan(struct evpn *e, int type, uint32_t vni, uint64_t cursor,
    size_t budget, json_t *list)
{
	struct routes_walk w = { e, type, vni, list };

	return bgp_rib_scan(e->rib, BGP_AID_L2VPN_EVPN, cursor, budget,
	    routes_walk_one, &w);
}

static json_t *
rt_list_json(const struct rt *l, size_t n)
{
	json_t *a = json_array();
	char buf[RT_STRLEN];

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(rt_fmt(&l[i], buf,
		    sizeof(buf))));
	return a;
}

struct vtep_walk {
	uint32_t	 vni;
	json_t		*list;
};

static void
vtep_walk_one(const struct evpn_import *rec, void *arg)
{
	struct vtep_walk *w = arg;
	struct evpn_route r;
	struct ipaddr ip;

	if (rec->vni != w->vni || rec->local ||
	    evpn_key_type(rec->entry->key) != EVPN_RT_IMET)
		return;
	evpn_key_unpack(rec->entry->key, &r);
	evpn_route_get_ip(&r, &ip);
	json_array_append_new(w->list, json_ip(&ip));
}

static json_t *
vni_json(struct evpn *e, const struct evpn_vni *v)
{
	json_t *o = json_object();
	struct vtep_walk w = { v->vni, json_array() };
	char buf[RD_STRLEN];

	json_object_set_new(o, "vni", json_integer(v->vni));
	json_object_set_new(o, "type", json_string(v->l3 ? "L3" : "L2"));
	json_object_set_new(o, "vxlanIf", json_string(v->ifname));
	json_object_set_new(o, "bridge", json_string(v->bridge));
	json_object_set_new(o, "localVtep", json_ip(&v->tunnel_ip));
	json_object_set_new(o, "rd", json_string(rd_fmt(&v->rd, buf,
	    sizeof(buf))));
	json_object_set_new(o, "importRts", rt_list_json(v->rt_import,
	    v->n_import));
	json_object_set_new(o, "exportRts", rt_list_json(v->rt_export,
	    v->n_export));
	if (v->l3) {
		json_object_set_new(o, "vrf", json_string(v->vrf));
		json_object_set_new(o, "table", json_integer(v->table));
		json_object_set_new(o, "routerMac", json_string(mac_fmt(
		    &v->router_mac, buf, sizeof(buf))));
		json_object_set_new(o, "numRemotePrefixes",
		    json_integer(v->n_prefix_remote));
	} else {
		json_object_set_new(o, "numLocalMacs",
		    json_integer(v->n_macip_local));
		json_object_set_new(o, "numRemoteMacs",
		    json_integer(v->n_macip_remote));
		json_object_set_new(o, "numLearnedMacs",
		    json_integer((json_int_t)v->n_learned_macs));
		json_object_set_new(o, "macLimit", json_integer(v->mac_limit));
		json_object_set_new(o, "macLimitReached",
		    json_boolean(v->at_mac_limit));
		json_object_set_new(o, "macLimitDrops",
		    json_integer((json_int_t)v->mac_limit_drops));
		evpn_import_foreach(e, vtep_walk_one, &w);
	}
	json_object_set_new(o, "remoteVteps", w.list);
	return o;
}

json_t *
evpn_vni_json(struct evpn *e)
{
	json_t *o = json_object(), *vnis = json_object();
	struct evpn_vni *v;
	char key[16];

	TAILQ_FOREACH(v, &e->vnis, entry) {
		snprintf(key, sizeof(key), "%u", v->vni);
		json_object_set_new(vnis, key, vni_json(e, v));
	}
	json_object_set_new(o, "advertiseAllVni",
	    json_boolean(e->advertise_all_vni));
	json_object_set_new(o, "numVnis", json_integer(json_object_size(vnis)));
	json_object_set_new(o, "vnis", vnis);
	return o;
}

struct mac_walk {
	struct evpn	*e;
	struct evpn_vni	*v;
	json_t		*macs;
	json_t		*ips;		/* of the MAC being resolved */
	struct evpn_mac_claim best;
};

static void
mac_group_pick(const struct evpn_import *rec, void *arg)
{
	struct mac_walk *w = arg;
	struct evpn_mac_claim c;
	struct evpn_route r;
	struct ipaddr ip;

	evpn_mac_claim_of(w->v, rec, &c);
	if (c.found && evpn_mac_claim_better(&c, &w->best))
		w->best = c;
	evpn_key_unpack(rec->entry->key, &r);
	evpn_route_get_ip(&r, &ip);
	if (ip.af)
		json_array_append_new(w->ips, json_ip(&ip));
}

static void
duplicate_one(struct evpn_local *l, void *arg)
{
	if (l->duplicate)
		*(bool *)arg = true;
}

static bool
mac_duplicate(struct evpn *e, uint32_t vni, const struct macaddr *m)
{
	bool dup = false;

	evpn_locals_of_mac(e, vni, m, duplicate_one, &dup);
	return dup;
}

/* One row per MAC: the RFC 7432 §15 winner among all its routes. */
static void
mac_walk_one(const struct evpn_import *rec, void *arg)
{
	struct mac_walk *w = arg;
	struct evpn_route r;
	char buf[MAC_STRLEN];
	json_t *o;

	if (rec->vni != w->v->vni ||
	    evpn_key_type(rec->entry->key) != EVPN_RT_MACIP)
		return;
	evpn_key_unpack(rec->entry->key, &r);
	mac_fmt(&r.mac, buf, sizeof(buf));
	if (json_object_get(w->macs, buf))
		return;
	memset(&w->best, 0, sizeof(w->best));
	w->ips = json_array();
	evpn_import_group(w->e, w->v->vni, &r, mac_group_pick, w);
	o = json_object();
	json_object_set_new(o, "type", json_string(w->best.local ? "local" :
	    "remote"));
	json_object_set_new(o, "remoteVtep", w->best.local ? json_null() :
	    json_ip(&w->best.vtep));
	json_object_set_new(o, "seq", json_integer(w->best.seq));
	json_object_set_new(o, "sticky", json_boolean(w->best.sticky));
	json_object_set_new(o, "duplicate", json_boolean(mac_duplicate(w->e,
	    w->v->vni, &r.mac)));
	json_object_set_new(o, "ips", w->ips);
	json_object_set_new(w->macs, buf, o);
}

json_t *
evpn_mac_json(struct evpn *e, uint32_t vni)
{
	struct evpn_vni *v = evpn_vni_find(e, vni);
	struct mac_walk w = { e, v, NULL, NULL, { 0 } };
	json_t *o;

	if (v == NULL || v->l3)
		return NULL;
	w.macs = json_object();
	evpn_import_foreach(e, mac_walk_one, &w);
	o = json_object();
	json_object_set_new(o, "vni", json_integer(vni));
	json_object_set_new(o, "numMacs", json_integer(json_object_size(
	    w.macs)));
	json_object_set_new(o, "dadDetections", json_integer(
	    e->dad_detections));
	json_object_set_new(o, "macs", w.macs);
	return o;
}
