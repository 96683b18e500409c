/*
 * EVPN -> kernel: what each imported route group means for the data
 * plane, and kernel -> EVPN: local learning.
 *
 * Import (evpn_import.c) files routes in groups: all type-2 routes of
 * one MAC in one VNI, all type-3 routes of one VTEP in one VNI, all
 * type-5 routes of one prefix in one VRF.  After any change to a group,
 * evpn_dp_resolve() works out the one kernel state the group stands for
 * and pushes it through struct evpn_dataplane:
 *   MAC    the winner by RFC 7432 §15 (sticky, then highest sequence,
 *          then lowest VTEP address); remote -> FDB entry to its VTEP
 *          and its IPs as ARP/ND entries; local or none -> no entry
 *   VTEP   any remote type 3 -> flood entry; none -> removed
 *   prefix a remote type 5 -> route via its VTEP with its router MAC
 * Pushing the same state twice is harmless, so a full resync is a walk
 * over every group between sync_begin and sync_end.
 *
 * What is never installed (counted, logged when it enters a VNI): a
 * remote entry whose VTEP address cannot be a VTEP, and a type-5 route
 * whose prefix has host bits set.  The latter is refused rather than
 * masked: we never advertise one (the config parser refuses such a
 * network), a reflector passes the NLRI on unchanged, and masking would
 * make 10.1.0.5/24 and 10.1.0.0/24 - two routes, two groups - fight over
 * one kernel route.
 */
#include "evpn/evpn_dp.h"
#include "evpn/evpn_int.h"
#include "bgpd/bgpd.h"
#include "common/log.h"
#include "common/util.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
evpn_dp_vni_spec(const struct evpn_vni *v, struct evpn_dp_vni *s)
{
	memset(s, 0, sizeof(*s));
	s->vxlan_if = v->ifname;
	s->bridge_if = v->bridge;
	s->vni = v->vni;
	s->local_ip = v->tunnel_ip;
	s->dstport = v->dstport ? v->dstport : 4789;
	s->mtu = v->mtu;
	s->arp_suppress = v->arp_suppress;
	s->l3 = v->l3;
	s->table = v->table;
	s->vrf = v->vrf;
	s->router_mac = v->router_mac;
}

/* ---- what can be installed --------------------------------------- */

/*
 * Can a remote VTEP have this address?  Not the unspecified address,
 * loopback, multicast or (IPv4) broadcast and the reserved 240/4 (RFC
 * 8365 §5: the outer destination of a VXLAN packet is the remote VTEP's
 * unicast address), and not one of our own tunnel addresses (the
 * traffic would come back to us).
 */
static bool
vtep_usable(const struct evpn *e, const struct ipaddr *a)
{
	const struct evpn_vni *v;
	const uint8_t *b = a->u.b;
	static const uint8_t zero[16];

	if (a->af == AF_INET) {
		if (b[0] == 0 || b[0] == 127 || b[0] >= 224)
			return false;
	} else if (a->af == AF_INET6) {
		if (memcmp(b, zero, 16) == 0 || b[0] == 0xff ||
		    (memcmp(b, zero, 15) == 0 && b[15] == 1))
			return false;
	} else
		return false;
	TAILQ_FOREACH(v, &e->vnis, entry)
		if (ipaddr_cmp(&v->tunnel_ip, a) == 0)
			return false;
	return true;
}

static bool
prefix_has_host_bits(const struct evpn_route *r)
{
	struct prefix p, masked;

	evpn_route_get_ip(r, &p.addr);
	p.len = r->plen;
	masked = p;
	prefix_mask(&masked);
	return ipaddr_cmp(&masked.addr, &p.addr) != 0;
}

/* The VTEP a remote route's kernel entry points at: the originating
 * router's IP for type 3 (the flood entry), else the next hop. */
static void
route_vtep(const struct evpn_route *r, const struct bgp_rib_path *p,
    struct ipaddr *vtep)
{
	if (r->type == EVPN_RT_IMET)
		evpn_route_get_ip(r, vtep);
	else
		bgp_attrs_get_mp_nexthop(p->attrs, vtep);
}

/* One line a second at most: a peer sending a million such routes must
 * not flood the log (the counters keep the full count). */
static void __attribute__((format(printf, 2, 3)))
refusal_log(struct evpn *e, const char *fmt, ...)
{
	uint64_t now = mono_msec();
	char line[256];
	va_list ap;

	if (e->refusal_log_ms != 0 && now - e->refusal_log_ms < 1000) {
		e->refusals_unlogged++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (e->refusals_unlogged > 0)
		log_warn("%s (and %llu more since the last such line)", line,
		    (unsigned long long)e->refusals_unlogged);
	else
		log_warn("%s", line);
	e->refusal_log_ms = now;
	e->refusals_unlogged = 0;
}

void
evpn_dp_check_import(struct evpn *e, uint32_t vni, const struct evpn_route *r,
    const struct bgp_rib_path *p)
{
	const struct bgp_rib_source *src = bgp_rib_path_source(e->rib, p);
	char rt[EVPN_PREFIX_STRLEN], a[IPADDR_STRLEN], from[IPADDR_STRLEN];
	struct ipaddr vtep;

	if (r->type != EVPN_RT_MACIP && r->type != EVPN_RT_IMET &&
	    r->type != EVPN_RT_PREFIX)
		return;
	evpn_route_prefix_fmt(r, rt, sizeof(rt));
	ipaddr_fmt(&src->addr, from, sizeof(from));
	if (r->type == EVPN_RT_PREFIX && prefix_has_host_bits(r)) {
		e->dp_ctr.bad_prefix++;
		refusal_log(e, "evpn: VNI %u: %s from %s: host bits set in the "
		    "prefix, not installed", vni, rt, from);
		return;
	}
	route_vtep(r, p, &vtep);
	if (!vtep_usable(e, &vtep)) {
		e->dp_ctr.bad_vtep++;
		refusal_log(e, "evpn: VNI %u: %s from %s: %s cannot be a VTEP, "
		    "not installed", vni, rt, from, vtep.af ?
		    ipaddr_fmt(&vtep, a, sizeof(a)) : "no address");
	}
}

/* ---- one kernel state per group ----------------------------------- */

struct mac_resolve {
	struct evpn	*e;
	struct evpn_vni	*v;
	struct evpn_mac_claim best;
};

static void
mac_pick(const struct evpn_import *rec, void *arg)
{
	struct mac_resolve *mr = arg;
	struct evpn_mac_claim c;

	evpn_mac_claim_of(mr->v, rec, &c);
	if (c.found && !c.local && !vtep_usable(mr->e, &c.vtep))
		return;
	if (c.found && evpn_mac_claim_better(&c, &mr->best))
		mr->best = c;
}

/* ARP/ND entries for the winning remote VTEP's MAC+IP routes. */
static void
mac_neigh_push(const struct evpn_import *rec, void *arg)
{
	struct mac_resolve *mr = arg;
	struct evpn_dp_vni spec;
	struct evpn_mac_claim c;
	struct evpn_route r;
	struct ipaddr ip;

	evpn_key_unpack(rec->entry->key, &r);
	if (rec->local || r.af == 0)
		return;
	evpn_mac_claim_of(mr->v, rec, &c);
	if (ipaddr_cmp(&c.vtep, &mr->best.vtep) != 0)
		return;
	evpn_route_get_ip(&r, &ip);
	evpn_dp_vni_spec(mr->v, &spec);
	mr->e->dp->neigh_set(mr->e->dp->ctx, &spec, &ip, &r.mac);
}

static void
resolve_mac(struct evpn *e, struct evpn_vni *v, const struct evpn_route *r)
{
	struct mac_resolve mr = { e, v, { 0 } };
	struct evpn_dp_vni spec;

	evpn_import_group(e, v->vni, r, mac_pick, &mr);
	evpn_dp_vni_spec(v, &spec);
	if (mr.best.found && !mr.best.local) {
		e->dp->mac_set(e->dp->ctx, &spec, &r->mac, &mr.best.vtep,
		    mr.best.sticky);
		evpn_import_group(e, v->vni, r, mac_neigh_push, &mr);
	} else
		e->dp->mac_del(e->dp->ctx, &spec, &r->mac);
}

struct first_remote {
	struct evpn	*e;
	const struct evpn_import *rec;
};

/* The first remote route of a group whose VTEP is usable. */
static void
first_remote_pick(const struct evpn_import *rec, void *arg)
{
	struct first_remote *f = arg;
	const struct bgp_rib_path *p;
	struct evpn_route r;
	struct ipaddr vtep;

	if (rec->local || f->rec != NULL ||
	    (p = bgp_rib_best(rec->entry)) == NULL)
		return;
	evpn_key_unpack(rec->entry->key, &r);
	route_vtep(&r, p, &vtep);
	if (vtep_usable(f->e, &vtep))
		f->rec = rec;
}

static void
resolve_vtep(struct evpn *e, struct evpn_vni *v, const struct evpn_route *r)
{
	struct first_remote f = { e, NULL };
	struct evpn_dp_vni spec;
	struct ipaddr vtep;

	evpn_import_group(e, v->vni, r, first_remote_pick, &f);
	evpn_route_get_ip(r, &vtep);
	evpn_dp_vni_spec(v, &spec);
	if (f.rec)
		e->dp->flood_add(e->dp->ctx, &spec, &vtep);
	else
		e->dp->flood_del(e->dp->ctx, &spec, &vtep);
}

bool
evpn_path_router_mac(const struct bgp_attrs *a, struct macaddr *m)
{
	uint8_t ec[BGP_ECOMM_LEN];
	size_t it = 0;

	if (bgp_ecomm_find(a, BGP_ECOMM_T_EVPN, EVPN_ECOMM_ST_ROUTER_MAC, &it,
	    ec) == -1)
		return false;
	memcpy(m->b, ec + 2, 6);
	return true;
}

static void
resolve_prefix(struct evpn *e, struct evpn_vni *v, const struct evpn_route *r)
{
	struct first_remote f = { e, NULL };
	struct evpn_dp_vni spec;
	struct prefix pfx;
	struct ipaddr vtep;
	struct macaddr rmac;
	const struct bgp_rib_path *p;

	if (prefix_has_host_bits(r))
		return;
	evpn_import_group(e, v->vni, r, first_remote_pick, &f);
	evpn_route_get_ip(r, &pfx.addr);
	pfx.len = r->plen;
	evpn_dp_vni_spec(v, &spec);
	if (f.rec && (p = bgp_rib_best(f.rec->entry)) != NULL) {
		bgp_attrs_get_mp_nexthop(p->attrs, &vtep);
		memset(&rmac, 0, sizeof(rmac));
		if (!evpn_path_router_mac(p->attrs, &rmac))
			log_warn("evpn: type-5 route without router MAC from "
			    "a VTEP; installing it anyway");
		e->dp->route_set(e->dp->ctx, &spec, &pfx, &vtep, &rmac);
	} else
		e->dp->route_del(e->dp->ctx, &spec, &pfx);
}

void
evpn_dp_resolve(struct evpn *e, uint32_t vni, const struct evpn_route *r)
{
	struct evpn_vni *v;

	if (e->dp == NULL || (v = evpn_vni_find(e, vni)) == NULL ||
	    !v->dp_ready)
		return;
	switch (r->type) {
	case EVPN_RT_MACIP:
		resolve_mac(e, v, r);
		break;
	case EVPN_RT_IMET:
		resolve_vtep(e, v, r);
		break;
	case EVPN_RT_PREFIX:
		resolve_prefix(e, v, r);
		break;
	}
}

void
evpn_dp_route_gone(struct evpn *e, uint32_t vni, const struct evpn_route *r,
    bool was_local)
{
	struct evpn_vni *v;
	struct evpn_dp_vni spec;
	struct ipaddr ip;

	if (e->dp == NULL || was_local || r->type != EVPN_RT_MACIP ||
	    r->af == 0 || (v = evpn_vni_find(e, vni)) == NULL || !v->dp_ready)
		return;
	evpn_dp_vni_spec(v, &spec);
	evpn_route_get_ip(r, &ip);
	e->dp->neigh_del(e->dp->ctx, &spec, &ip, &r->mac);
}

static void
resync_one(const struct evpn_import *rec, void *arg)
{
	struct evpn_route r;

	evpn_key_unpack(rec->entry->key, &r);
	evpn_dp_resolve(arg, rec->vni, &r);
}

/*
 * Push everything; entries of ours not pushed again go at sync_end -
 * except while settling after start-up, when the RIB is still filling
 * and what the kernel kept from before the restart must stay until
 * evpn_dp_settle().
 */
void
evpn_dp_resync(struct evpn *e)
{
	if (e->dp == NULL)
		return;
	e->dp->sync_begin(e->dp->ctx);
	evpn_import_foreach(e, resync_one, e);
	if (!e->dp_settling)
		e->dp->sync_end(e->dp->ctx);
}

void
evpn_dp_settle(struct evpn *e)
{
	if (e->settle_ev != NULL)
		evtimer_del(e->settle_ev);
	if (e->dp == NULL || !e->dp_settling)
		return;
	e->dp_settling = false;
	evpn_dp_resync(e);
}

/*
 * When the settling ends: once every peer has sent End-of-RIB for
 * l2vpn evpn (bgpd's convergence hook), or rib-stale-time after the
 * attach at the latest - a peer that is down or never sends End-of-RIB
 * must not keep stale entries forever, and one that is merely late (a
 * reflector slow to come back) must not have its routes black-holed by
 * an early sweep.
 */
static void
settle_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct evpn *e = arg;

	if (!e->dp_settling)
		return;
	log_notice("evpn: %s: removing the kernel entries of the last run "
	    "that no peer announced again", bgp_family_converged(e->bgp,
	    BGP_AID_L2VPN_EVPN) ? "every peer sent End-of-RIB" :
	    "rib-stale-time passed before every peer sent End-of-RIB");
	evpn_dp_settle(e);
}

static void
settle_converged(void *arg, int aid)
{
	struct evpn *e = arg;

	/* Not from inside the RIB's UPDATE processing: next loop turn. */
	if (aid == BGP_AID_L2VPN_EVPN && e->dp_settling &&
	    e->settle_ev != NULL)
		event_active(e->settle_ev, EV_TIMEOUT, 1);
}

void
evpn_dp_settle_init(struct evpn *e, struct event_base *base)
{
	if (base != NULL)
		e->settle_ev = evtimer_new(base, settle_timer_cb, e);
	bgp_set_converged_hook(e->bgp, settle_converged, e);
}

void
evpn_dp_settle_free(struct evpn *e)
{
	if (e->settle_ev != NULL)
		event_free(e->settle_ev);
	e->settle_ev = NULL;
}

/* Attaching: settle at once when there is nobody to wait for. */
static void
settle_start(struct evpn *e)
{
	struct timeval tv = { e->rib_stale_time, 0 };

	e->dp_settling = !bgp_family_converged(e->bgp, BGP_AID_L2VPN_EVPN);
	if (e->dp_settling && e->settle_ev != NULL)
		evtimer_add(e->settle_ev, &tv);
}

static struct evpn_vni *
vni_by_name(struct evpn_vni_list *l, const char *ifname)
{
	struct evpn_vni *v;

	TAILQ_FOREACH(v, l, entry)
		if (strcmp(v->ifname, ifname) == 0)
			return v;
	return NULL;
}

void
evpn_dp_vnis_apply(struct evpn *e, struct evpn_vni_list *old)
{
	struct evpn_dp_vni spec;
	struct evpn_vni *v;
	char err[256];

	if (e->dp == NULL)
		return;
	if (old) {
		TAILQ_FOREACH(v, old, entry) {
			if (v->dp_ready && vni_by_name(&e->vnis, v->ifname) ==
			    NULL) {
				evpn_dp_vni_spec(v, &spec);
				e->dp->vni_del(e->dp->ctx, &spec);
			}
		}
	}
	TAILQ_FOREACH(v, &e->vnis, entry) {
		evpn_dp_vni_spec(v, &spec);
		if (e->dp->vni_add(e->dp->ctx, &spec, err, sizeof(err)) == -1) {
			log_err("evpn: VNI %u: %s", v->vni, err);
			v->dp_ready = false;
		} else
			v->dp_ready = true;
	}
}

void
evpn_set_dataplane(struct evpn *e, const struct evpn_dataplane *dp)
{
	e->dp = dp;
	if (dp == NULL) {
		if (e->settle_ev != NULL)
			evtimer_del(e->settle_ev);
		return;
	}
	evpn_dp_vnis_apply(e, NULL);
	settle_start(e);
	evpn_dp_resync(e);
}

/* ---- Local learning ------------------------------------------------- */

static struct evpn_vni *
l2_vni_by_bridge(struct evpn *e, const char *bridge)
{
	struct evpn_vni *v;

	TAILQ_FOREACH(v, &e->vnis, entry)
		if (!v->l3 && strcmp(v->bridge, bridge) == 0)
			return v;
	return NULL;
}

static void
learned_add(struct evpn *e, const char *bridge, const struct ipaddr *ip,
    const struct macaddr *mac)
{
	struct evpn_vni *v = l2_vni_by_bridge(e, bridge);
	struct evpn_local *l;
	struct evpn_route r;

	if (v == NULL || evpn_route_make_macip(&r, &v->rd, mac, ip, v->vni,
	    0) == -1)
		return;
	if ((l = evpn_local_find(e, &r)) != NULL)
		return;		/* configured, allocated or already learned */
	/* An IPAM endpoint appearing on the bridge: its MAC+IP route says
	 * it already (no second route, no sequence bump). */
	if (ip == NULL && evpn_ipam_owns_mac(e, v->vni, mac))
		return;
	if (!evpn_learned_mac_admit(e, v, mac))
		return;
	l = evpn_local_upsert(e, &r, v->vni, false, EVPN_LOCAL_LEARNED);
	/* A MAC also known from another VTEP has moved here. */
	evpn_churn(e, v->vni, l->seq > 0 ? EVPN_CHURN_MAC_MOVE :
	    EVPN_CHURN_LOCAL_LEARN);
	if (e->advertise_all_vni)
		evpn_local_announce(e, l);
}

static void
learned_mac_gone(struct evpn_local *l, void *arg)
{
	if (l->source == EVPN_LOCAL_LEARNED)
		evpn_local_remove(arg, l);	/* the MAC and its IPs */
}

static void
learned_del(struct evpn *e, const char *bridge, const struct ipaddr *ip,
    const struct macaddr *mac)
{
	struct evpn_vni *v = l2_vni_by_bridge(e, bridge);
	struct evpn_local *l, *ln;
	struct ipaddr lip;

	if (v == NULL)
		return;
	if (mac) {
		evpn_locals_of_mac(e, v->vni, mac, learned_mac_gone, e);
		return;
	}
	/* A neighbour gone names only its IP: rarer, walk our routes. */
	TAILQ_FOREACH_SAFE(l, &e->locals, entry, ln) {
		if (l->source != EVPN_LOCAL_LEARNED || l->vni != v->vni ||
		    l->route.type != EVPN_RT_MACIP)
			continue;
		evpn_route_get_ip(&l->route, &lip);
		if (ipaddr_cmp(&lip, ip) == 0)
			evpn_local_remove(e, l);
	}
}

void
evpn_dp_mac_learned(struct evpn *e, const char *bridge,
    const struct macaddr *mac)
{
	learned_add(e, bridge, NULL, mac);
}

void
evpn_dp_mac_gone(struct evpn *e, const char *bridge, const struct macaddr *mac)
{
	learned_del(e, bridge, NULL, mac);
}

void
evpn_dp_neigh_learned(struct evpn *e, const char *bridge,
    const struct ipaddr *ip, const struct macaddr *mac)
{
	learned_add(e, bridge, ip, mac);
}

void
evpn_dp_neigh_gone(struct evpn *e, const char *bridge, const struct ipaddr *ip)
{
	learned_del(e, bridge, ip, NULL);
}
