/*
 * The canonical printer, in the shape of FRR's running-config.
 *
 * How this works: the top level comes in a fixed order (hostname, log,
 * api listen and api clients, vxlan blocks, vrf blocks, the ipam
 * datastore, ipam pools, telemetry, then "router bgp", the default
 * instance first), each block closed by "!".  Inside a block, one space of
 * indentation per level, and only values that differ from the defaults
 * the parser starts from are written, so parsing the output yields the
 * same model and printing it again gives the same bytes.  Neighbors,
 * vxlans, vrfs, static MACs, api clients and route targets keep file
 * order; network statements and EVPN VNIs, whose order carries no
 * meaning, are sorted.  With CONF_PRINT_REDACT secrets print as
 * CONF_REDACTED (that text is no longer a fixed point: it is for
 * showing, not for loading).
 */
#include "conf/conf_parse.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static void
print_log(FILE *f, const struct config *c)
{
	const char *level = log_level_name(c->log_level);

	switch (c->log_dest) {
	case LOG_DEST_STDOUT:
		if (c->log_level != CONF_DEFAULT_LOG_LEVEL)
			fprintf(f, "log stdout %s\n", level);
		break;
	case LOG_DEST_SYSLOG:
		fprintf(f, "log syslog %s\n", level);
		break;
	case LOG_DEST_FILE:
		fprintf(f, "log file %s %s\n", c->log_file, level);
		break;
	}
}

static void
print_global(FILE *f, const struct config *c)
{
	bool any = false;

	if (c->hostname != NULL) {
		fprintf(f, "hostname %s\n", c->hostname);
		any = true;
	}
	if (c->log_dest != LOG_DEST_STDOUT ||
	    c->log_level != CONF_DEFAULT_LOG_LEVEL) {
		print_log(f, c);
		any = true;
	}
	if (any)
		fprintf(f, "!\n");
}

static void
print_vxlan(FILE *f, const struct conf_vxlan *vx)
{
	const struct conf_static_mac *m;
	char a[IPADDR_STRLEN], mac[MAC_STRLEN];

	fprintf(f, "vxlan %s\n", vx->name);
	fprintf(f, " vni %u\n", vx->vni);
	if (vx->bridge != NULL)
		fprintf(f, " bridge %s\n", vx->bridge);
	if (ipaddr_is_set(&vx->local_ip))
		fprintf(f, " local-tunnel-ip %s\n",
		    ipaddr_fmt(&vx->local_ip, a, sizeof(a)));
	if (vx->dstport != CONF_DEFAULT_VXLAN_PORT)
		fprintf(f, " dstport %u\n", vx->dstport);
	if (vx->mtu != 0)
		fprintf(f, " mtu %u\n", vx->mtu);
	if (vx->arp_suppression)
		fprintf(f, " arp-suppression\n");
	if (vx->svi_vrf)
		fprintf(f, " svi-vrf %s\n", vx->svi_vrf);
	if (vx->mac_limit != CONF_DEFAULT_MAC_LIMIT)
		fprintf(f, " mac-limit %u\n", vx->mac_limit);
	TAILQ_FOREACH(m, &vx->static_macs, entry) {
		fprintf(f, " static-mac %s", mac_fmt(&m->mac, mac, sizeof(mac)));
		if (ipaddr_is_set(&m->ip))
			fprintf(f, " ip %s", ipaddr_fmt(&m->ip, a, sizeof(a)));
		fprintf(f, "%s\n", m->sticky ? " sticky" : "");
	}
	fprintf(f, "!\n");
}

static void
print_vrf(FILE *f, const struct conf_vrf *vrf)
{
	char mac[MAC_STRLEN];

	fprintf(f, "vrf %s\n", vrf->name);
	if (vrf->vni != 0)
		fprintf(f, " vni %u\n", vrf->vni);
	if (vrf->table != 0)
		fprintf(f, " table %u\n", vrf->table);
	if (vrf->has_router_mac)
		fprintf(f, " router-mac %s\n",
		    mac_fmt(&vrf->router_mac, mac, sizeof(mac)));
	fprintf(f, "!\n");
}

/* Only what differs from the defaults, as everywhere else. */
static void
print_ipam_shadow(FILE *f, const struct conf_ipam_shadow *sh)
{
	char a[32], b[32];

	fprintf(f, " shadow\n");
	if (sh->horizon != CONF_SHADOW_DEFAULT_HORIZON)
		fprintf(f, "  horizon %u\n", sh->horizon);
	if (sh->confidence != CONF_SHADOW_DEFAULT_CONFIDENCE)
		fprintf(f, "  confidence %s\n",
		    conf_fmt_micro(sh->confidence, a, sizeof(a)));
	if (sh->min_warm != CONF_SHADOW_DEFAULT_MIN_WARM)
		fprintf(f, "  min-warm %u\n", sh->min_warm);
	if (sh->max_warm != CONF_SHADOW_DEFAULT_MAX_WARM)
		fprintf(f, "  max-warm %u\n", sh->max_warm);
	if (sh->max_pool_fraction != CONF_SHADOW_DEFAULT_MAX_FRACTION)
		fprintf(f, "  max-pool-fraction %s\n",
		    conf_fmt_micro(sh->max_pool_fraction, a, sizeof(a)));
	if (sh->cost_wastage != CONF_SHADOW_DEFAULT_WASTAGE ||
	    sh->cost_delay != CONF_SHADOW_DEFAULT_DELAY)
		fprintf(f, "  cost wastage %s delay %s\n",
		    conf_fmt_micro(sh->cost_wastage, a, sizeof(a)),
		    conf_fmt_micro(sh->cost_delay, b, sizeof(b)));
	if (sh->mode == CONF_SHADOW_OBSERVE)
		fprintf(f, "  mode observe\n");
	if (sh->lead_time != CONF_SHADOW_DEFAULT_LEAD_TIME)
		fprintf(f, "  lead-time %u\n", sh->lead_time);
	if (!sh->adapt)
		fprintf(f, "  adapt off\n");
	if (sh->jitter != 0)
		fprintf(f, "  jitter %s\n",
		    conf_fmt_micro(sh->jitter, a, sizeof(a)));
	if (sh->model != CONF_SHADOW_DEFAULT_MODEL)
		fprintf(f, "  model %s\n", conf_shadow_model_names[sh->model]);
	if (!conf_shadow_group_by_is_default(sh)) {
		fprintf(f, "  group-by");
		for (uint8_t i = 0; i < sh->ngroup_by; i++)
			fprintf(f, " %s", sh->group_by[i]);
		fprintf(f, "%s\n", sh->ngroup_by == 0 ? " none" : "");
	}
	fprintf(f, " exit-shadow\n");
}

static void
print_ipam_pool_fabric(FILE *f, const struct conf_ipam_pool *pool)
{
	if (pool->scope != CONF_IPAM_SCOPE_FABRIC)
		return;
	fprintf(f, " scope fabric\n");
	if (pool->block_size != CONF_IPAM_DEFAULT_BLOCK_SIZE)
		fprintf(f, " block-size %u\n", pool->block_size);
	if (!pool->borrow)
		fprintf(f, " no borrow\n");
	if (pool->block_idle_release != CONF_IPAM_DEFAULT_IDLE_RELEASE)
		fprintf(f, " block-idle-release %u\n",
		    pool->block_idle_release);
}

/* Endpoints keep file order: the client tries them in it. */
static void
print_ipam_datastore(FILE *f, const struct conf_ipam_datastore *ds)
{
	if (!ds->enabled)
		return;
	fprintf(f, "ipam datastore etcd\n");
	for (size_t i = 0; i < ds->nendpoints; i++)
		fprintf(f, " endpoint %s\n", ds->endpoints[i]);
	if (ds->key_prefix != NULL && strcmp(ds->key_prefix,
	    CONF_DATASTORE_DEFAULT_PREFIX) != 0)
		fprintf(f, " key-prefix %s\n", ds->key_prefix);
	if (ds->tls_cert != NULL || ds->tls_ca != NULL) {
		fprintf(f, " tls");
		if (ds->tls_cert != NULL)
			fprintf(f, " cert %s key %s", ds->tls_cert,
			    ds->tls_key);
		if (ds->tls_ca != NULL)
			fprintf(f, " ca %s", ds->tls_ca);
		fprintf(f, "\n");
	}
	fprintf(f, "!\n");
}

/* Prefixes, exclusions and reservations keep file order: the prefix
 * order is the order addresses are handed out in. */
static void
print_ipam_pool(FILE *f, const struct conf_ipam_pool *pool, bool redact)
{
	const struct conf_prefix *cp;
	const struct conf_ipam_range *r;
	const struct conf_ipam_reserve *res;
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];

	fprintf(f, "ipam pool %s\n", pool->name);
	if (pool->tenant != NULL)
		fprintf(f, " tenant %s\n", pool->tenant);
	if (pool->vni != 0)
		fprintf(f, " vni %u\n", pool->vni);
	TAILQ_FOREACH(cp, &pool->prefixes, entry)
		fprintf(f, " prefix %s\n", prefix_fmt(&cp->prefix, a,
		    sizeof(a)));
	if (ipaddr_is_set(&pool->gateway4))
		fprintf(f, " gateway %s\n", ipaddr_fmt(&pool->gateway4, a,
		    sizeof(a)));
	if (ipaddr_is_set(&pool->gateway6))
		fprintf(f, " gateway %s\n", ipaddr_fmt(&pool->gateway6, a,
		    sizeof(a)));
	TAILQ_FOREACH(r, &pool->excludes, entry) {
		ipaddr_fmt(&r->lo, a, sizeof(a));
		if (ipaddr_cmp(&r->lo, &r->hi) == 0)
			fprintf(f, " exclude %s\n", a);
		else
			fprintf(f, " exclude %s %s\n", a,
			    ipaddr_fmt(&r->hi, b, sizeof(b)));
	}
	TAILQ_FOREACH(res, &pool->reserves, entry)
		fprintf(f, " reserve %s for %s\n", ipaddr_fmt(&res->ip, a,
		    sizeof(a)), res->name);
	if (pool->quarantine != CONF_IPAM_DEFAULT_QUARANTINE)
		fprintf(f, " quarantine %u\n", pool->quarantine);
	if (pool->mac_prefix_len > 0) {
		fprintf(f, " mac-prefix ");
		for (int i = 0; i < pool->mac_prefix_len; i++)
			fprintf(f, "%s%02x", i ? ":" : "", pool->mac_prefix[i]);
		fprintf(f, "\n");
	}
	print_ipam_pool_fabric(f, pool);
	conf_print_ipam_dns(f, &pool->dns, redact);
	if (pool->has_shadow)
		print_ipam_shadow(f, &pool->shadow);
	fprintf(f, "!\n");
}

char *
conf_ipam_pool_text(const struct conf_ipam_pool *pool, bool redact)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&text, &len)) == NULL)
		fatalx("%s: open_memstream failed", __func__);
	print_ipam_pool(f, pool, redact);
	if (fclose(f) != 0 || text == NULL)
		fatalx("%s: writing to memory failed", __func__);
	return text;
}

/* One neighbor's session settings, "remote-as" first. */
static void
print_neighbor(FILE *f, const struct conf_neighbor *n, int flags)
{
	char a[IPADDR_STRLEN], src[IPADDR_STRLEN];

	ipaddr_fmt(&n->addr, a, sizeof(a));
	fprintf(f, " neighbor %s remote-as %u\n", a, n->remote_as);
	if (n->description != NULL)
		fprintf(f, " neighbor %s description %s\n", a, n->description);
	if (n->shutdown)
		fprintf(f, " neighbor %s shutdown\n", a);
	if (n->port != BGP_PORT)
		fprintf(f, " neighbor %s port %u\n", a, n->port);
	if (n->password != NULL)
		fprintf(f, " neighbor %s password %s\n", a,
		    (flags & CONF_PRINT_REDACT) ? CONF_REDACTED : n->password);
	if (n->passive)
		fprintf(f, " neighbor %s passive\n", a);
	if (n->ebgp_multihop == 255)
		fprintf(f, " neighbor %s ebgp-multihop\n", a);
	else if (n->ebgp_multihop != 0)
		fprintf(f, " neighbor %s ebgp-multihop %u\n", a,
		    n->ebgp_multihop);
	if (ipaddr_is_set(&n->update_source))
		fprintf(f, " neighbor %s update-source %s\n", a,
		    ipaddr_fmt(&n->update_source, src, sizeof(src)));
	if (n->has_timers)
		fprintf(f, " neighbor %s timers %u %u\n", a, n->keepalive,
		    n->holdtime);
	if (n->connect_retry != CONF_DEFAULT_CONNECT_RETRY)
		fprintf(f, " neighbor %s timers connect %u\n", a,
		    n->connect_retry);
	if (n->has_send_hold)
		fprintf(f, " neighbor %s timers send-hold %u\n", a,
		    n->send_hold);
}

static void
print_bgp_global(FILE *f, const struct conf_bgp *bgp, int flags)
{
	const struct conf_neighbor *n;
	struct ipaddr id;
	char a[IPADDR_STRLEN];

	if (bgp->vrf_name != NULL)
		fprintf(f, "router bgp %u vrf %s\n", bgp->asn, bgp->vrf_name);
	else
		fprintf(f, "router bgp %u\n", bgp->asn);
	if (bgp->has_router_id)
		fprintf(f, " bgp router-id %s\n",
		    ipaddr_fmt(&bgp->router_id, a, sizeof(a)));
	if (bgp->cluster_id != 0) {
		ipaddr_from_v4(&id, bgp->cluster_id);
		fprintf(f, " bgp cluster-id %s\n", ipaddr_fmt(&id, a, sizeof(a)));
	}
	if (ipaddr_is_set(&bgp->listen_addr))
		fprintf(f, " bgp listen-address %s\n",
		    ipaddr_fmt(&bgp->listen_addr, a, sizeof(a)));
	if (bgp->listen_port != BGP_PORT)
		fprintf(f, " bgp listen-port %u\n", bgp->listen_port);
	if (bgp->graceful_restart)
		fprintf(f, " bgp graceful-restart\n");
	if (bgp->rib_stale_time != CONF_DEFAULT_RIB_STALE_TIME)
		fprintf(f, " bgp graceful-restart rib-stale-time %u\n",
		    bgp->rib_stale_time);
	TAILQ_FOREACH(n, &bgp->neighbors, entry)
		print_neighbor(f, n, flags);
}

/* FRR's form: the threshold only when it is not the default. */
static void
print_max_prefix(FILE *f, const char *addr, const struct conf_max_prefix *mp)
{
	fprintf(f, "  neighbor %s maximum-prefix %u", addr, mp->max);
	if (mp->threshold != CONF_DEFAULT_MAXPFX_THRESHOLD)
		fprintf(f, " %u", mp->threshold);
	if (mp->warning_only)
		fprintf(f, " warning-only");
	if (mp->restart != 0)
		fprintf(f, " restart %u", mp->restart);
	fprintf(f, "\n");
}

/* "activate", "route-reflector-client" and "maximum-prefix" lines of
 * one family. */
static bool
print_af_neighbors(FILE *f, const struct conf_bgp *bgp, uint8_t af,
    bool dry_run)
{
	const struct conf_neighbor *n;
	const struct conf_max_prefix *mp;
	char a[IPADDR_STRLEN];
	bool any = false;

	TAILQ_FOREACH(n, &bgp->neighbors, entry) {
		mp = &n->max_prefix[conf_af_index(af)];
		if (((n->af_active | n->af_rr_client) & af) == 0 &&
		    mp->max == 0)
			continue;
		any = true;
		if (dry_run)
			continue;
		ipaddr_fmt(&n->addr, a, sizeof(a));
		if (n->af_active & af)
			fprintf(f, "  neighbor %s activate\n", a);
		if (n->af_rr_client & af)
			fprintf(f, "  neighbor %s route-reflector-client\n", a);
		if (mp->max != 0)
			print_max_prefix(f, a, mp);
	}
	return any;
}

static int
prefix_ptr_cmp(const void *a, const void *b)
{
	const struct conf_prefix *const *pa = a, *const *pb = b;

	return prefix_cmp(&(*pa)->prefix, &(*pb)->prefix);
}

static void
print_af_unicast(FILE *f, const struct conf_bgp *bgp, int family)
{
	const struct conf_prefix *cp, **sorted;
	uint8_t af = family == AF_INET ? CONF_AF_IPV4_UNICAST :
	    CONF_AF_IPV6_UNICAST;
	char buf[PREFIX_STRLEN];
	size_t count = 0, i;

	TAILQ_FOREACH(cp, &bgp->networks, entry)
		if (cp->prefix.addr.af == family)
			count++;
	if (count == 0 && !print_af_neighbors(f, bgp, af, true))
		return;
	sorted = xcalloc(count, sizeof(*sorted));
	i = 0;
	TAILQ_FOREACH(cp, &bgp->networks, entry)
		if (cp->prefix.addr.af == family)
			sorted[i++] = cp;
	qsort(sorted, count, sizeof(*sorted), prefix_ptr_cmp);
	fprintf(f, " address-family %s unicast\n",
	    family == AF_INET ? "ipv4" : "ipv6");
	for (i = 0; i < count; i++)
		fprintf(f, "  network %s\n",
		    prefix_fmt(&sorted[i]->prefix, buf, sizeof(buf)));
	free(sorted);
	print_af_neighbors(f, bgp, af, false);
	fprintf(f, " exit-address-family\n");
}

static bool
dad_is_default(const struct conf_dad *dad)
{
	return dad->enabled && dad->max_moves == CONF_DEFAULT_DAD_MAX_MOVES &&
	    dad->time == CONF_DEFAULT_DAD_TIME && dad->freeze == 0 &&
	    !dad->freeze_permanent;
}

/* FRR's two statements: detection window, then the freeze. */
static void
print_dad(FILE *f, const struct conf_dad *dad)
{
	if (dad_is_default(dad))
		return;
	if (!dad->enabled) {
		fprintf(f, "  no dup-addr-detection\n");
		return;
	}
	if (dad->max_moves != CONF_DEFAULT_DAD_MAX_MOVES ||
	    dad->time != CONF_DEFAULT_DAD_TIME)
		fprintf(f, "  dup-addr-detection max-moves %u time %u\n",
		    dad->max_moves, dad->time);
	if (dad->freeze_permanent)
		fprintf(f, "  dup-addr-detection freeze permanent\n");
	else if (dad->freeze != 0)
		fprintf(f, "  dup-addr-detection freeze %u\n", dad->freeze);
}

static void
print_evpn_vni(FILE *f, const struct conf_evpn_vni *v)
{
	const struct conf_rt *cr;
	char buf[RD_STRLEN];

	fprintf(f, "  vni %u\n", v->vni);
	if (v->has_rd)
		fprintf(f, "   rd %s\n", rd_fmt(&v->rd, buf, sizeof(buf)));
	TAILQ_FOREACH(cr, &v->rt_import, entry)
		fprintf(f, "   route-target import %s\n",
		    rt_fmt(&cr->rt, buf, sizeof(buf)));
	TAILQ_FOREACH(cr, &v->rt_export, entry)
		fprintf(f, "   route-target export %s\n",
		    rt_fmt(&cr->rt, buf, sizeof(buf)));
	fprintf(f, "  exit-vni\n");
}

static int
vni_ptr_cmp(const void *a, const void *b)
{
	const struct conf_evpn_vni *const *va = a, *const *vb = b;

	return (*va)->vni < (*vb)->vni ? -1 : (*va)->vni > (*vb)->vni;
}

static void
print_evpn_vnis(FILE *f, const struct conf_bgp *bgp)
{
	const struct conf_evpn_vni *v, **sorted;
	size_t count = 0, i = 0;

	TAILQ_FOREACH(v, &bgp->evpn_vnis, entry)
		count++;
	if (count == 0)
		return;
	sorted = xcalloc(count, sizeof(*sorted));
	TAILQ_FOREACH(v, &bgp->evpn_vnis, entry)
		sorted[i++] = v;
	qsort(sorted, count, sizeof(*sorted), vni_ptr_cmp);
	for (i = 0; i < count; i++)
		print_evpn_vni(f, sorted[i]);
	free(sorted);
}

static void
print_af_evpn(FILE *f, const struct conf_bgp *bgp)
{
	if (!print_af_neighbors(f, bgp, CONF_AF_L2VPN_EVPN, true) &&
	    !bgp->advertise_all_vni && !bgp->advertise_ipv4 &&
	    !bgp->advertise_ipv6 && dad_is_default(&bgp->dad) &&
	    bgp->conv_sample == CONF_DEFAULT_CONV_SAMPLE &&
	    TAILQ_EMPTY(&bgp->evpn_vnis))
		return;
	fprintf(f, " address-family l2vpn evpn\n");
	print_af_neighbors(f, bgp, CONF_AF_L2VPN_EVPN, false);
	if (bgp->advertise_all_vni)
		fprintf(f, "  advertise-all-vni\n");
	if (bgp->advertise_ipv4)
		fprintf(f, "  advertise ipv4 unicast\n");
	if (bgp->advertise_ipv6)
		fprintf(f, "  advertise ipv6 unicast\n");
	print_dad(f, &bgp->dad);
	if (bgp->conv_sample == 0)
		fprintf(f, "  no convergence-sample\n");
	else if (bgp->conv_sample != CONF_DEFAULT_CONV_SAMPLE)
		fprintf(f, "  convergence-sample %u\n", bgp->conv_sample);
	print_evpn_vnis(f, bgp);
	fprintf(f, " exit-address-family\n");
}

static void
print_bgp(FILE *f, const struct conf_bgp *bgp, int flags)
{
	print_bgp_global(f, bgp, flags);
	print_af_unicast(f, bgp, AF_INET);
	print_af_unicast(f, bgp, AF_INET6);
	print_af_evpn(f, bgp);
	fprintf(f, "exit\n!\n");
}

void
conf_print_flags(FILE *f, const struct config *c, int flags)
{
	const struct conf_vxlan *vx;
	const struct conf_vrf *vrf;
	const struct conf_bgp *bgp;
	const struct conf_ipam_pool *pool;

	print_global(f, c);
	conf_print_api(f, c);
	TAILQ_FOREACH(vx, &c->vxlans, entry)
		print_vxlan(f, vx);
	TAILQ_FOREACH(vrf, &c->vrfs, entry)
		print_vrf(f, vrf);
	print_ipam_datastore(f, &c->ipam_datastore);
	TAILQ_FOREACH(pool, &c->ipam_pools, entry)
		print_ipam_pool(f, pool, (flags & CONF_PRINT_REDACT) != 0);
	conf_print_telemetry(f, &c->telemetry);
	/* The parser keeps the default instance first; don't rely on it. */
	if ((bgp = conf_bgp_default(c)) != NULL)
		print_bgp(f, bgp, flags);
	TAILQ_FOREACH(bgp, &c->bgps, entry)
		if (bgp->vrf_name != NULL)
			print_bgp(f, bgp, flags);
}

void
conf_print(FILE *f, const struct config *c)
{
	conf_print_flags(f, c, 0);
}

char *
conf_print_string_flags(const struct config *c, int flags)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&text, &len)) == NULL)
		fatalx("%s: open_memstream failed", __func__);
	conf_print_flags(f, c, flags);
	if (fclose(f) != 0 || text == NULL)
		fatalx("%s: writing to memory failed", __func__);
	return text;
}

char *
conf_print_string(const struct config *c)
{
	return conf_print_string_flags(c, 0);
}
