/*
 * The config statements: one handler per statement, and the command
 * table of each parser node.
 *
 * How this works: conf_parse.c finds the node whose table has the line's
 * keywords and calls the handler with p->argi at the first argument.  A
 * handler checks its arguments (cp_want_args, cp_arg_*), reports with
 * cp_err() quoting the line, and writes the value into the object of
 * the block it is in (p->bgp, p->vni, p->vxlan, p->vrf).  Handlers that
 * open a block create its object and move to its node.  Repeating a
 * plain setting overwrites it (FRR's behaviour); repeating a block or an
 * identity (router bgp, vxlan, vrf, a VNI) is an error.
 */
#include "conf/conf_parse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* Top level: hostname, log, and the blocks */

static int
cmd_hostname(struct parser *p)
{
	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	if (strlen(cp_arg(p, 0)) > CONF_MAX_HOSTNAME)
		return cp_err(p, "hostname longer than %d characters in '%s'",
		    CONF_MAX_HOSTNAME, p->line);
	free(p->conf->hostname);
	p->conf->hostname = xstrdup(cp_arg(p, 0));
	return 0;
}

/* log stdout [LEVEL] | log syslog [LEVEL] | log file PATH [LEVEL] */
static int
cmd_log(struct parser *p)
{
	struct config *c = p->conf;
	enum log_dest dest;
	int level = CONF_DEFAULT_LOG_LEVEL, first = 1;

	if (cp_want_args(p, 1, 3) == -1)
		return -1;
	if (strcmp(cp_arg(p, 0), "stdout") == 0)
		dest = LOG_DEST_STDOUT;
	else if (strcmp(cp_arg(p, 0), "syslog") == 0)
		dest = LOG_DEST_SYSLOG;
	else if (strcmp(cp_arg(p, 0), "file") == 0) {
		if (cp_nargs(p) < 2)
			return cp_err(p, "incomplete command '%s'", p->line);
		dest = LOG_DEST_FILE;
		first = 2;
		if (strlen(cp_arg(p, 1)) > CONF_MAX_PATH)
			return cp_err(p, "log file path longer than %d "
			    "characters in '%s'", CONF_MAX_PATH, p->line);
	} else
		return cp_err(p, "unknown log destination '%s' in '%s' "
		    "(stdout, syslog or file)", cp_arg(p, 0), p->line);
	if (cp_nargs(p) > first + 1)
		return cp_err(p, "unexpected '%s' in '%s'", cp_arg(p, first + 1),
		    p->line);
	if (cp_nargs(p) == first + 1 &&
	    (level = log_level_parse(cp_arg(p, first))) == -1)
		return cp_err(p, "invalid log level '%s' in '%s'", cp_arg(p, first),
		    p->line);
	free(c->log_file);
	c->log_file = dest == LOG_DEST_FILE ? xstrdup(cp_arg(p, 1)) : NULL;
	c->log_dest = dest;
	c->log_level = level;
	return 0;
}

static struct conf_bgp *
bgp_new(uint32_t asn, const char *vrf)
{
	struct conf_bgp *bgp = xcalloc(1, sizeof(*bgp));

	bgp->asn = asn;
	bgp->vrf_name = vrf ? xstrdup(vrf) : NULL;
	bgp->listen_port = BGP_PORT;
	TAILQ_INIT(&bgp->neighbors);
	TAILQ_INIT(&bgp->evpn_vnis);
	TAILQ_INIT(&bgp->networks);
	bgp->dad.enabled = true;
	bgp->dad.max_moves = CONF_DEFAULT_DAD_MAX_MOVES;
	bgp->dad.time = CONF_DEFAULT_DAD_TIME;
	bgp->conv_sample = CONF_DEFAULT_CONV_SAMPLE;
	bgp->rib_stale_time = CONF_DEFAULT_RIB_STALE_TIME;
	return bgp;
}

/* router bgp ASN [vrf NAME]; each instance is declared once. */
static int
cmd_router_bgp(struct parser *p)
{
	struct conf_bgp *bgp;
	char *vrf = NULL;
	uint32_t asn;

	if (cp_want_args(p, 1, 3) == -1 || cp_arg_asn(p, 0, &asn) == -1)
		return -1;
	if (cp_nargs(p) >= 2 && strcmp(cp_arg(p, 1), "vrf") != 0)
		return cp_err(p, "unexpected '%s' in '%s'", cp_arg(p, 1), p->line);
	if (cp_nargs(p) == 2)
		return cp_err(p, "incomplete command '%s'", p->line);
	if (cp_nargs(p) == 3 && cp_arg_ifname(p, 2, &vrf) == -1)
		return -1;
	bgp = conf_bgp_vrf(p->conf, vrf);
	if (bgp != NULL) {
		free(vrf);
		if (bgp->vrf_name != NULL)
			return cp_err(p, "duplicate '%s': the instance for vrf "
			    "%s is already configured", p->line, bgp->vrf_name);
		if (bgp->asn != asn)
			return cp_err(p, "'%s': the default instance is already "
			    "'router bgp %u'", p->line, bgp->asn);
		return cp_err(p, "duplicate '%s': the default instance is "
		    "already configured", p->line);
	}
	bgp = bgp_new(asn, vrf);
	free(vrf);
	if (bgp->vrf_name == NULL)
		TAILQ_INSERT_HEAD(&p->conf->bgps, bgp, entry);
	else {
		TAILQ_INSERT_TAIL(&p->conf->bgps, bgp, entry);
		cp_check_add(p, CHECK_BGP_VRF_DECLARED, bgp);
	}
	p->bgp = bgp;
	p->node = NODE_BGP;
	return 0;
}

static int
cmd_vxlan(struct parser *p)
{
	struct conf_vxlan *vx;
	char *name = NULL;

	if (cp_want_args(p, 1, 1) == -1 || cp_arg_ifname(p, 0, &name) == -1)
		return -1;
	TAILQ_FOREACH(vx, &p->conf->vxlans, entry) {
		if (strcmp(vx->name, name) == 0) {
			free(name);
			return cp_err(p, "duplicate '%s': vxlan %s is already "
			    "declared", p->line, vx->name);
		}
	}
	vx = xcalloc(1, sizeof(*vx));
	vx->name = name;
	vx->dstport = CONF_DEFAULT_VXLAN_PORT;
	vx->mac_limit = CONF_DEFAULT_MAC_LIMIT;
	TAILQ_INIT(&vx->static_macs);
	TAILQ_INSERT_TAIL(&p->conf->vxlans, vx, entry);
	cp_check_add(p, CHECK_VXLAN_HAS_VNI, vx);
	p->vxlan = vx;
	p->node = NODE_VXLAN;
	return 0;
}

static int
cmd_vrf(struct parser *p)
{
	struct conf_vrf *vrf;
	char *name = NULL;

	if (cp_want_args(p, 1, 1) == -1 || cp_arg_ifname(p, 0, &name) == -1)
		return -1;
	if (conf_vrf_find(p->conf, name) != NULL) {
		free(name);
		return cp_err(p, "duplicate '%s': vrf %s is already declared",
		    p->line, cp_arg(p, 0));
	}
	vrf = xcalloc(1, sizeof(*vrf));
	vrf->name = name;
	TAILQ_INSERT_TAIL(&p->conf->vrfs, vrf, entry);
	p->vrf = vrf;
	p->node = NODE_VRF;
	return 0;
}

static int
cmd_graceful_restart(struct parser *p)
{
	if (cp_want_args(p, 0, 0) == -1)
		return -1;
	p->bgp->graceful_restart = true;
	return 0;
}

/* Statements that describe what we do anyway, accepted for FRR configs. */
static int
cmd_noop(struct parser *p)
{
	return cp_want_args(p, 0, 0);
}

int
cp_cmd_exit(struct parser *p)
{
	if (cp_want_args(p, 0, 0) == -1)
		return -1;
	cp_enter_node(p, cp_nodes[p->node].parent);
	return 0;
}

/* router bgp: instance settings */

static int
cmd_router_id(struct parser *p)
{
	struct ipaddr a;

	if (cp_want_args(p, 1, 1) == -1 || cp_arg_ipv4(p, 0, &a) == -1)
		return -1;
	/* RFC 6286 §2.1: a non-zero 4-octet identifier. */
	if (ipaddr_v4_host(&a) == 0)
		return cp_err(p, "router-id must not be 0.0.0.0 in '%s'",
		    p->line);
	p->bgp->router_id = a;
	p->bgp->has_router_id = true;
	return 0;
}

/* RFC 4456 §7: a 4-octet CLUSTER_ID, written as A.B.C.D or a number. */
static int
cmd_cluster_id(struct parser *p)
{
	struct ipaddr a;
	uint64_t v;

	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	if (ipaddr_parse(cp_arg(p, 0), &a) == 0 && a.af == AF_INET)
		v = ipaddr_v4_host(&a);
	else if (parse_uint(cp_arg(p, 0), 0, UINT32_MAX, &v) == -1)
		v = 0;
	if (v == 0)
		return cp_err(p, "invalid cluster-id '%s' in '%s' (A.B.C.D or "
		    "1..4294967295)", cp_arg(p, 0), p->line);
	p->bgp->cluster_id = (uint32_t)v;
	return 0;
}

static int
cmd_listen_address(struct parser *p)
{
	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	return cp_arg_ip(p, 0, &p->bgp->listen_addr);
}

static int
cmd_listen_port(struct parser *p)
{
	uint64_t v;

	if (cp_want_args(p, 1, 1) == -1 ||
	    cp_arg_uint(p, 0, "port", 0, UINT16_MAX, &v) == -1)
		return -1;
	p->bgp->listen_port = (uint16_t)v;
	return 0;
}

/* router bgp: neighbors */

static struct conf_neighbor *
neighbor_arg(struct parser *p)
{
	struct conf_neighbor *n;
	struct ipaddr a;

	if (ipaddr_parse(p->word[1], &a) == -1) {
		cp_err(p, "invalid IP address '%s' in '%s'", p->word[1], p->line);
		return NULL;
	}
	if ((n = conf_neighbor_find(p->bgp, &a)) == NULL)
		cp_err(p, "neighbor %s is not defined; add 'neighbor %s "
		    "remote-as ASN' first", p->word[1], p->word[1]);
	return n;
}

/* Creates the neighbor; repeating it with the same AS changes nothing. */
static int
cmd_nb_remote_as(struct parser *p)
{
	struct conf_neighbor *n;
	struct ipaddr a;
	uint32_t asn;

	if (ipaddr_parse(p->word[1], &a) == -1)
		return cp_err(p, "invalid IP address '%s' in '%s'", p->word[1],
		    p->line);
	if (cp_want_args(p, 1, 1) == -1 || cp_arg_asn(p, 0, &asn) == -1)
		return -1;
	if ((n = conf_neighbor_find(p->bgp, &a)) != NULL) {
		if (n->remote_as == asn)
			return 0;
		return cp_err(p, "neighbor %s is already defined with remote-as "
		    "%u in '%s'", p->word[1], n->remote_as, p->line);
	}
	n = xcalloc(1, sizeof(*n));
	n->addr = a;
	n->remote_as = asn;
	n->port = BGP_PORT;
	n->connect_retry = CONF_DEFAULT_CONNECT_RETRY;
	TAILQ_INSERT_TAIL(&p->bgp->neighbors, n, entry);
	return 0;
}

/* The rest of the line, spacing inside it kept; FRR's limit of 80. */
static int
cmd_nb_description(struct parser *p)
{
	struct conf_neighbor *n;

	const char *text;

	if ((n = neighbor_arg(p)) == NULL || cp_want_args(p, 1, CONF_MAX_WORDS)
	    == -1)
		return -1;
	text = p->line + p->word_off[p->argi];
	if (strlen(text) > CONF_MAX_DESCRIPTION)
		return cp_err(p, "description longer than %d characters in '%s'",
		    CONF_MAX_DESCRIPTION, p->line);
	free(n->description);
	n->description = xstrdup(text);
	return 0;
}

static int
cmd_nb_update_source(struct parser *p)
{
	struct conf_neighbor *n;
	struct ipaddr a;

	if ((n = neighbor_arg(p)) == NULL || cp_want_args(p, 1, 1) == -1 ||
	    cp_arg_ip(p, 0, &a) == -1)
		return -1;
	if (a.af != n->addr.af)
		return cp_err(p, "update-source %s is not of the address family "
		    "of neighbor %s in '%s'", cp_arg(p, 0), p->word[1], p->line);
	n->update_source = a;
	return 0;
}

static int
cmd_nb_password(struct parser *p)
{
	struct conf_neighbor *n;

	if ((n = neighbor_arg(p)) == NULL)
		return -1;
	/* The message must not quote the line: it holds the secret. */
	if (cp_nargs(p) != 1 || strlen(cp_arg(p, 0)) >
	    CONF_TCP_MD5_MAXKEYLEN)
		return cp_err(p, "neighbor %s password: one word of 1 to %d "
		    "characters", p->word[1], CONF_TCP_MD5_MAXKEYLEN);
	free_secret(n->password);
	n->password = xstrdup(cp_arg(p, 0));
	return 0;
}

/*
 * "timers KEEPALIVE HOLDTIME", "timers connect SECONDS" or "timers
 * send-hold SECONDS" (RFC 9687; checked against the hold time once the
 * file is read).  RFC 4271 §4.2: the hold time is 0 or at least 3
 * seconds.
 */
static int
cmd_nb_timers(struct parser *p)
{
	struct conf_neighbor *n;
	uint64_t ka, hold;

	if ((n = neighbor_arg(p)) == NULL || cp_want_args(p, 2, 2) == -1)
		return -1;
	if (strcmp(cp_arg(p, 0), "connect") == 0) {
		if (cp_arg_uint(p, 1, "connect-retry time", 1, UINT16_MAX,
		    &ka) == -1)
			return -1;
		n->connect_retry = (uint16_t)ka;
		return 0;
	}
	if (strcmp(cp_arg(p, 0), "send-hold") == 0) {
		if (cp_arg_uint(p, 1, "send hold time", 0, UINT16_MAX,
		    &ka) == -1)
			return -1;
		n->send_hold = (uint16_t)ka;
		n->has_send_hold = true;
		cp_check_add(p, CHECK_NB_SEND_HOLD, n);
		return 0;
	}
	if (cp_arg_uint(p, 0, "keepalive", 0, UINT16_MAX, &ka) == -1)
		return -1;
	if (parse_uint(cp_arg(p, 1), 0, UINT16_MAX, &hold) == -1 ||
	    hold == 1 || hold == 2)
		return cp_err(p, "invalid holdtime '%s' in '%s' (0 or 3..65535)",
		    cp_arg(p, 1), p->line);
	n->keepalive = (uint16_t)ka;
	n->holdtime = (uint16_t)hold;
	n->has_timers = true;
	return 0;
}

static int
cmd_nb_port(struct parser *p)
{
	struct conf_neighbor *n;
	uint64_t v;

	if ((n = neighbor_arg(p)) == NULL || cp_want_args(p, 1, 1) == -1 ||
	    cp_arg_uint(p, 0, "port", 1, UINT16_MAX, &v) == -1)
		return -1;
	n->port = (uint16_t)v;
	return 0;
}

static int
cmd_nb_passive(struct parser *p)
{
	struct conf_neighbor *n;

	if ((n = neighbor_arg(p)) == NULL || cp_want_args(p, 0, 0) == -1)
		return -1;
	n->passive = true;
	return 0;
}

static int
cmd_nb_shutdown(struct parser *p)
{
	struct conf_neighbor *n;

	if ((n = neighbor_arg(p)) == NULL || cp_want_args(p, 0, 0) == -1)
		return -1;
	n->shutdown = true;
	return 0;
}

/* Without a count FRR allows the maximum TTL, 255. */
static int
cmd_nb_ebgp_multihop(struct parser *p)
{
	struct conf_neighbor *n;
	uint64_t v = 255;

	if ((n = neighbor_arg(p)) == NULL || cp_want_args(p, 0, 1) == -1)
		return -1;
	if (cp_nargs(p) == 1 && cp_arg_uint(p, 0, "hop count", 1, 255, &v) == -1)
		return -1;
	n->ebgp_multihop = (uint8_t)v;
	return 0;
}

/* address-family ipv4 [unicast] | ipv6 [unicast] | l2vpn evpn */
static int
cmd_address_family(struct parser *p)
{
	const char *afi, *safi;

	if (cp_want_args(p, 1, 2) == -1)
		return -1;
	afi = cp_arg(p, 0);
	safi = cp_nargs(p) == 2 ? cp_arg(p, 1) : NULL;
	if (strcmp(afi, "ipv4") == 0 &&
	    (safi == NULL || strcmp(safi, "unicast") == 0))
		p->node = NODE_AF_IPV4;
	else if (strcmp(afi, "ipv6") == 0 &&
	    (safi == NULL || strcmp(safi, "unicast") == 0))
		p->node = NODE_AF_IPV6;
	else if (strcmp(afi, "l2vpn") == 0 && safi != NULL &&
	    strcmp(safi, "evpn") == 0)
		p->node = NODE_AF_EVPN;
	else
		return cp_err(p, "unknown address family in '%s' (ipv4 unicast, "
		    "ipv6 unicast or l2vpn evpn)", p->line);
	return 0;
}

/* Address families */

static uint8_t
node_af(enum node node)
{
	switch (node) {
	case NODE_AF_IPV4:
		return CONF_AF_IPV4_UNICAST;
	case NODE_AF_IPV6:
		return CONF_AF_IPV6_UNICAST;
	case NODE_AF_EVPN:
		return CONF_AF_L2VPN_EVPN;
	default:
		fatalx("%s: node %d is no address family", __func__, node);
	}
}

static int
cmd_nb_activate(struct parser *p)
{
	struct conf_neighbor *n;

	if ((n = neighbor_arg(p)) == NULL || cp_want_args(p, 0, 0) == -1)
		return -1;
	n->af_active |= node_af(p->node);
	return 0;
}

/* RFC 4456 §6: reflection is between internal peers only. */
static int
cmd_nb_rr_client(struct parser *p)
{
	struct conf_neighbor *n;

	if ((n = neighbor_arg(p)) == NULL || cp_want_args(p, 0, 0) == -1)
		return -1;
	if (n->remote_as != p->bgp->asn)
		return cp_err(p, "neighbor %s is not internal (remote-as %u, "
		    "local AS %u); route-reflector-client needs an iBGP "
		    "neighbor in '%s'", p->word[1], n->remote_as, p->bgp->asn,
		    p->line);
	n->af_rr_client |= node_af(p->node);
	return 0;
}

/*
 * "maximum-prefix N [THRESHOLD] [warning-only|restart MINUTES]", FRR's
 * words and ranges, for the family of the block.
 */
static int
cmd_nb_max_prefix(struct parser *p)
{
	struct conf_max_prefix mp = { 0, CONF_DEFAULT_MAXPFX_THRESHOLD,
	    false, 0 };
	struct conf_neighbor *n;
	uint64_t v;
	int i = 1;

	if ((n = neighbor_arg(p)) == NULL || cp_want_args(p, 1, 4) == -1 ||
	    cp_arg_uint(p, 0, "prefix limit", 1, UINT32_MAX, &v) == -1)
		return -1;
	mp.max = (uint32_t)v;
	if (i < cp_nargs(p) && isdigit((unsigned char)cp_arg(p, i)[0])) {
		if (cp_arg_uint(p, i++, "threshold", 1, 100, &v) == -1)
			return -1;
		mp.threshold = (uint8_t)v;
	}
	if (i < cp_nargs(p) && strcmp(cp_arg(p, i), "warning-only") == 0) {
		mp.warning_only = true;
		i++;
	} else if (i < cp_nargs(p) && strcmp(cp_arg(p, i), "restart") == 0) {
		if (i + 1 == cp_nargs(p))
			return cp_err(p, "incomplete command '%s'", p->line);
		if (cp_arg_uint(p, i + 1, "restart interval", 1, UINT16_MAX,
		    &v) == -1)
			return -1;
		mp.restart = (uint16_t)v;
		i += 2;
	}
	if (i < cp_nargs(p))
		return cp_err(p, "unexpected '%s' in '%s'", cp_arg(p, i),
		    p->line);
	n->max_prefix[conf_af_index(node_af(p->node))] = mp;
	return 0;
}

static int
cmd_network(struct parser *p)
{
	struct conf_prefix *cp;
	struct prefix pfx;
	int af = p->node == NODE_AF_IPV4 ? AF_INET : AF_INET6;

	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	if (prefix_parse(cp_arg(p, 0), &pfx, false) == -1 || pfx.addr.af != af)
		return cp_err(p, "invalid %s prefix '%s' in '%s'",
		    af == AF_INET ? "IPv4" : "IPv6", cp_arg(p, 0), p->line);
	TAILQ_FOREACH(cp, &p->bgp->networks, entry)
		if (prefix_cmp(&cp->prefix, &pfx) == 0)
			return 0;
	cp = xcalloc(1, sizeof(*cp));
	cp->prefix = pfx;
	TAILQ_INSERT_TAIL(&p->bgp->networks, cp, entry);
	return 0;
}

/* L2 VNIs and their settings belong to the default instance (as FRR). */
static int
need_default_instance(struct parser *p)
{
	if (p->bgp->vrf_name != NULL)
		return cp_err(p, "'%s' is only valid in the default instance "
		    "(router bgp without vrf)", p->line);
	return 0;
}

/*
 * bgp graceful-restart rib-stale-time SECONDS (FRR's name for how long
 * zebra keeps the routes of a restarted bgpd): after our own restart,
 * kernel entries of the last run wait this long at most for every peer's
 * End-of-RIB before the ones nobody announced again are removed.
 */
static int
cmd_rib_stale_time(struct parser *p)
{
	uint64_t v;

	if (cp_want_args(p, 1, 1) == -1 ||
	    cp_arg_uint(p, 0, "rib-stale-time", 1, 3600, &v) == -1 ||
	    need_default_instance(p) == -1)
		return -1;
	p->bgp->rib_stale_time = (uint16_t)v;
	return 0;
}

static int
cmd_advertise_all_vni(struct parser *p)
{
	if (cp_want_args(p, 0, 0) == -1 || need_default_instance(p) == -1)
		return -1;
	p->bgp->advertise_all_vni = true;
	return 0;
}

/* advertise ipv4|ipv6 unicast: type-5 routes, RFC 9136. */
static int
cmd_advertise(struct parser *p)
{
	if (cp_want_args(p, 2, 2) == -1)
		return -1;
	if (strcmp(cp_arg(p, 1), "unicast") != 0)
		return cp_err(p, "unknown address family in '%s' (ipv4 unicast "
		    "or ipv6 unicast)", p->line);
	if (strcmp(cp_arg(p, 0), "ipv4") == 0)
		p->bgp->advertise_ipv4 = true;
	else if (strcmp(cp_arg(p, 0), "ipv6") == 0)
		p->bgp->advertise_ipv6 = true;
	else
		return cp_err(p, "unknown address family in '%s' (ipv4 unicast "
		    "or ipv6 unicast)", p->line);
	return 0;
}

/*
 * dup-addr-detection [max-moves N] [time S] [freeze N|permanent], FRR's
 * ranges: max-moves 2..1000, time 2..1800, freeze 30..3600.
 */
static int
cmd_dad(struct parser *p)
{
	struct conf_dad dad;
	uint64_t v;
	int i;

	if (need_default_instance(p) == -1)
		return -1;
	dad = p->bgp->dad;
	dad.enabled = true;
	for (i = 0; i < cp_nargs(p); i += 2) {
		const char *key = cp_arg(p, i);

		if (cp_arg(p, i + 1) == NULL)
			return cp_err(p, "incomplete command '%s'", p->line);
		if (strcmp(key, "max-moves") == 0) {
			if (cp_arg_uint(p, i + 1, "max-moves", 2, 1000, &v) == -1)
				return -1;
			dad.max_moves = (uint32_t)v;
		} else if (strcmp(key, "time") == 0) {
			if (cp_arg_uint(p, i + 1, "time", 2, 1800, &v) == -1)
				return -1;
			dad.time = (uint32_t)v;
		} else if (strcmp(key, "freeze") == 0) {
			dad.freeze_permanent =
			    strcmp(cp_arg(p, i + 1), "permanent") == 0;
			dad.freeze = 0;
			if (!dad.freeze_permanent && cp_arg_uint(p, i + 1,
			    "freeze time", 30, 3600, &v) == -1)
				return -1;
			if (!dad.freeze_permanent)
				dad.freeze = (uint32_t)v;
		} else
			return cp_err(p, "unexpected '%s' in '%s'", key, p->line);
	}
	p->bgp->dad = dad;
	return 0;
}

/* convergence-sample N: origination timestamps on 1 in N new type-2
 * routes per VNI (measured convergence). */
static int
cmd_conv_sample(struct parser *p)
{
	uint64_t v;

	if (cp_want_args(p, 1, 1) == -1 || need_default_instance(p) == -1 ||
	    cp_arg_uint(p, 0, "convergence-sample", 1, 65535, &v) == -1)
		return -1;
	p->bgp->conv_sample = (uint32_t)v;
	return 0;
}

static int
cmd_no_conv_sample(struct parser *p)
{
	if (cp_want_args(p, 0, 0) == -1 || need_default_instance(p) == -1)
		return -1;
	p->bgp->conv_sample = 0;
	return 0;
}

static int
cmd_no_dad(struct parser *p)
{
	if (cp_want_args(p, 0, 0) == -1 || need_default_instance(p) == -1)
		return -1;
	p->bgp->dad.enabled = false;
	return 0;
}

static int
cmd_evpn_vni(struct parser *p)
{
	struct conf_evpn_vni *v;
	uint32_t vni;

	if (cp_want_args(p, 1, 1) == -1 || need_default_instance(p) == -1 ||
	    cp_arg_vni(p, 0, &vni) == -1)
		return -1;
	TAILQ_FOREACH(v, &p->bgp->evpn_vnis, entry)
		if (v->vni == vni)
			return cp_err(p, "duplicate '%s': vni %u is already "
			    "configured", p->line, vni);
	v = xcalloc(1, sizeof(*v));
	v->vni = vni;
	TAILQ_INIT(&v->rt_import);
	TAILQ_INIT(&v->rt_export);
	TAILQ_INSERT_TAIL(&p->bgp->evpn_vnis, v, entry);
	cp_check_add(p, CHECK_EVPN_VNI_NOT_L3, v);
	p->vni = v;
	p->node = NODE_EVPN_VNI;
	return 0;
}

/* EVPN vni: RD and route targets */

static int
cmd_rd(struct parser *p)
{
	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	if (rd_parse(cp_arg(p, 0), &p->vni->rd) == -1)
		return cp_err(p, "invalid route distinguisher '%s' in '%s'",
		    cp_arg(p, 0), p->line);
	p->vni->has_rd = true;
	return 0;
}

static void
rt_list_add(struct conf_rt_list *list, const struct rt *rt)
{
	struct conf_rt *cr;

	TAILQ_FOREACH(cr, list, entry)
		if (rt_cmp(&cr->rt, rt) == 0)
			return;
	cr = xcalloc(1, sizeof(*cr));
	cr->rt = *rt;
	TAILQ_INSERT_TAIL(list, cr, entry);
}

/* route-target import|export|both RT; "both" fills both lists (FRR). */
static int
cmd_route_target(struct parser *p)
{
	const char *dir;
	struct rt rt;
	bool import, export;

	if (cp_want_args(p, 2, 2) == -1)
		return -1;
	dir = cp_arg(p, 0);
	import = strcmp(dir, "import") == 0 || strcmp(dir, "both") == 0;
	export = strcmp(dir, "export") == 0 || strcmp(dir, "both") == 0;
	if (!import && !export)
		return cp_err(p, "invalid route-target direction '%s' in '%s' "
		    "(import, export or both)", dir, p->line);
	if (rt_parse(cp_arg(p, 1), &rt) == -1)
		return cp_err(p, "invalid route target '%s' in '%s'", cp_arg(p, 1),
		    p->line);
	if (import)
		rt_list_add(&p->vni->rt_import, &rt);
	if (export)
		rt_list_add(&p->vni->rt_export, &rt);
	return 0;
}

/* vxlan NAME */

static int
cmd_vxlan_vni(struct parser *p)
{
	struct conf_vxlan *other;
	uint32_t vni;

	if (cp_want_args(p, 1, 1) == -1 || cp_arg_vni(p, 0, &vni) == -1)
		return -1;
	if (p->vxlan->vni != 0)
		return cp_err(p, "vxlan %s already has vni %u in '%s'",
		    p->vxlan->name, p->vxlan->vni, p->line);
	if ((other = conf_vxlan_by_vni(p->conf, vni)) != NULL)
		return cp_err(p, "vni %u is already used by vxlan %s in '%s'",
		    vni, other->name, p->line);
	p->vxlan->vni = vni;
	return 0;
}

static int
cmd_vxlan_bridge(struct parser *p)
{
	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	return cp_arg_ifname(p, 0, &p->vxlan->bridge);
}

static int
cmd_vxlan_local_ip(struct parser *p)
{
	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	return cp_arg_ip(p, 0, &p->vxlan->local_ip);
}

static int
cmd_vxlan_dstport(struct parser *p)
{
	uint64_t v;

	if (cp_want_args(p, 1, 1) == -1 ||
	    cp_arg_uint(p, 0, "port", 1, UINT16_MAX, &v) == -1)
		return -1;
	p->vxlan->dstport = (uint16_t)v;
	return 0;
}

/* 68 is the smallest MTU an IPv4 link may have (RFC 791). */
static int
cmd_vxlan_mtu(struct parser *p)
{
	uint64_t v;

	if (cp_want_args(p, 1, 1) == -1 ||
	    cp_arg_uint(p, 0, "MTU", 68, UINT16_MAX, &v) == -1)
		return -1;
	p->vxlan->mtu = (uint16_t)v;
	return 0;
}

/*
 * mac-limit N: at most N MACs learned on this VNI's bridge are
 * advertised (0: no limit); beyond it a new MAC is logged, counted and
 * not advertised, so one host spraying source MACs cannot make every
 * VTEP of the fabric hold millions of routes.
 */
static int
cmd_vxlan_mac_limit(struct parser *p)
{
	uint64_t v;

	if (cp_want_args(p, 1, 1) == -1 ||
	    cp_arg_uint(p, 0, "MAC limit", 0, CONF_MAX_MAC_LIMIT, &v) == -1)
		return -1;
	p->vxlan->mac_limit = (uint32_t)v;
	return 0;
}

static int
cmd_vxlan_arp_suppression(struct parser *p)
{
	if (cp_want_args(p, 0, 0) == -1)
		return -1;
	p->vxlan->arp_suppression = true;
	return 0;
}

/* svi-vrf NAME: this L2 VNI's bridge (its SVI) routes in vrf NAME. */
static int
cmd_vxlan_svi_vrf(struct parser *p)
{
	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	free(p->vxlan->svi_vrf);
	p->vxlan->svi_vrf = NULL;
	if (cp_arg_ifname(p, 0, &p->vxlan->svi_vrf) == -1)
		return -1;
	cp_check_add(p, CHECK_VXLAN_SVI_VRF, p->vxlan);
	return 0;
}

/* static-mac MAC [ip ADDR] [sticky], options in any order. */
static int
cmd_vxlan_static_mac(struct parser *p)
{
	struct conf_static_mac sm, *m;
	int i;

	memset(&sm, 0, sizeof(sm));
	if (cp_want_args(p, 1, 4) == -1 || cp_arg_unicast_mac(p, 0, &sm.mac) == -1)
		return -1;
	for (i = 1; i < cp_nargs(p); i++) {
		if (strcmp(cp_arg(p, i), "sticky") == 0 && !sm.sticky)
			sm.sticky = true;
		else if (strcmp(cp_arg(p, i), "ip") == 0 && sm.ip.af == 0) {
			if (cp_arg(p, i + 1) == NULL)
				return cp_err(p, "incomplete command '%s'",
				    p->line);
			if (cp_arg_ip(p, ++i, &sm.ip) == -1)
				return -1;
		} else
			return cp_err(p, "unexpected '%s' in '%s'", cp_arg(p, i),
			    p->line);
	}
	TAILQ_FOREACH(m, &p->vxlan->static_macs, entry)
		if (mac_cmp(&m->mac, &sm.mac) == 0)
			return cp_err(p, "duplicate static-mac %s in '%s'",
			    cp_arg(p, 0), p->line);
	m = xcalloc(1, sizeof(*m));
	*m = sm;
	TAILQ_INSERT_TAIL(&p->vxlan->static_macs, m, entry);
	return 0;
}

/* vrf NAME */

static int
cmd_vrf_vni(struct parser *p)
{
	struct conf_vrf *other;
	uint32_t vni;

	if (cp_want_args(p, 1, 1) == -1 || cp_arg_vni(p, 0, &vni) == -1)
		return -1;
	if (p->vrf->vni != 0)
		return cp_err(p, "vrf %s already has vni %u in '%s'",
		    p->vrf->name, p->vrf->vni, p->line);
	if ((other = conf_vrf_by_vni(p->conf, vni)) != NULL)
		return cp_err(p, "vni %u is already used by vrf %s in '%s'",
		    vni, other->name, p->line);
	p->vrf->vni = vni;
	cp_check_add(p, CHECK_VRF_VNI_HAS_VXLAN, p->vrf);
	return 0;
}

/* Kernel tables 253..255 are default, main and local (rtnetlink.h). */
static int
cmd_vrf_table(struct parser *p)
{
	uint64_t v;

	if (cp_want_args(p, 1, 1) == -1 ||
	    cp_arg_uint(p, 0, "table", 1, UINT32_MAX, &v) == -1)
		return -1;
	if (v >= 253 && v <= 255)
		return cp_err(p, "table %s is reserved (253 default, 254 main, "
		    "255 local) in '%s'", cp_arg(p, 0), p->line);
	p->vrf->table = (uint32_t)v;
	return 0;
}

static int
cmd_vrf_router_mac(struct parser *p)
{
	if (cp_want_args(p, 1, 1) == -1 ||
	    cp_arg_unicast_mac(p, 0, &p->vrf->router_mac) == -1)
		return -1;
	p->vrf->has_router_mac = true;
	return 0;
}

/* Command tables, one per node */

static const struct command top_cmds[] = {
	{ "hostname", cmd_hostname },
	{ "log", cmd_log },
	{ "router bgp", cmd_router_bgp },
	{ "vxlan", cmd_vxlan },
	{ "vrf", cmd_vrf },
	{ "ipam pool", cp_cmd_ipam_pool },
	{ "ipam datastore", cp_cmd_ipam_datastore },
	{ "telemetry", cp_cmd_telemetry },
	{ "api listen", cp_cmd_api_listen },
	{ "api client", cp_cmd_api_client },
	{ "exit", cmd_noop },
	{ "end", cmd_noop },
};

static const struct command bgp_cmds[] = {
	{ "bgp router-id", cmd_router_id },
	{ "bgp cluster-id", cmd_cluster_id },
	{ "bgp listen-address", cmd_listen_address },
	{ "bgp listen-port", cmd_listen_port },
	{ "bgp graceful-restart rib-stale-time", cmd_rib_stale_time },
	{ "bgp graceful-restart", cmd_graceful_restart },
	{ "no bgp default ipv4-unicast", cmd_noop },
	{ "no bgp ebgp-requires-policy", cmd_noop },
	{ "neighbor * remote-as", cmd_nb_remote_as },
	{ "neighbor * description", cmd_nb_description },
	{ "neighbor * update-source", cmd_nb_update_source },
	{ "neighbor * password", cmd_nb_password },
	{ "neighbor * timers", cmd_nb_timers },
	{ "neighbor * port", cmd_nb_port },
	{ "neighbor * passive", cmd_nb_passive },
	{ "neighbor * shutdown", cmd_nb_shutdown },
	{ "neighbor * ebgp-multihop", cmd_nb_ebgp_multihop },
	{ "address-family", cmd_address_family },
	{ "exit", cp_cmd_exit },
};

static const struct command af_unicast_cmds[] = {
	{ "network", cmd_network },
	{ "neighbor * activate", cmd_nb_activate },
	{ "neighbor * route-reflector-client", cmd_nb_rr_client },
	{ "neighbor * maximum-prefix", cmd_nb_max_prefix },
	{ "exit-address-family", cp_cmd_exit },
	{ "exit", cp_cmd_exit },
};

static const struct command af_evpn_cmds[] = {
	{ "neighbor * activate", cmd_nb_activate },
	{ "neighbor * route-reflector-client", cmd_nb_rr_client },
	{ "neighbor * maximum-prefix", cmd_nb_max_prefix },
	{ "advertise-all-vni", cmd_advertise_all_vni },
	{ "advertise", cmd_advertise },
	{ "dup-addr-detection", cmd_dad },
	{ "no dup-addr-detection", cmd_no_dad },
	{ "convergence-sample", cmd_conv_sample },
	{ "no convergence-sample", cmd_no_conv_sample },
	{ "vni", cmd_evpn_vni },
	{ "exit-address-family", cp_cmd_exit },
	{ "exit", cp_cmd_exit },
};

static const struct command evpn_vni_cmds[] = {
	{ "rd", cmd_rd },
	{ "route-target", cmd_route_target },
	{ "exit-vni", cp_cmd_exit },
	{ "exit", cp_cmd_exit },
};

static const struct command vxlan_cmds[] = {
	{ "vni", cmd_vxlan_vni },
	{ "bridge", cmd_vxlan_bridge },
	{ "local-tunnel-ip", cmd_vxlan_local_ip },
	{ "dstport", cmd_vxlan_dstport },
	{ "mtu", cmd_vxlan_mtu },
	{ "arp-suppression", cmd_vxlan_arp_suppression },
	{ "mac-limit", cmd_vxlan_mac_limit },
	{ "svi-vrf", cmd_vxlan_svi_vrf },
	{ "static-mac", cmd_vxlan_static_mac },
	{ "exit", cp_cmd_exit },
};

static const struct command vrf_cmds[] = {
	{ "vni", cmd_vrf_vni },
	{ "table", cmd_vrf_table },
	{ "router-mac", cmd_vrf_router_mac },
	{ "exit-vrf", cp_cmd_exit },
	{ "exit", cp_cmd_exit },
};

#define NODE(where, parent, cmds) { where, parent, cmds, nitems(cmds) }
const struct node_def cp_nodes[NODE_COUNT] = {
	[NODE_TOP] = NODE("the top level", NODE_TOP, top_cmds),
	[NODE_BGP] = NODE("a 'router bgp' block", NODE_TOP, bgp_cmds),
	[NODE_AF_IPV4] = NODE("an 'address-family ipv4 unicast' block",
	    NODE_BGP, af_unicast_cmds),
	[NODE_AF_IPV6] = NODE("an 'address-family ipv6 unicast' block",
	    NODE_BGP, af_unicast_cmds),
	[NODE_AF_EVPN] = NODE("an 'address-family l2vpn evpn' block",
	    NODE_BGP, af_evpn_cmds),
	[NODE_EVPN_VNI] = NODE("a 'vni' block of 'address-family l2vpn evpn'",
	    NODE_AF_EVPN, evpn_vni_cmds),
	[NODE_VXLAN] = NODE("a 'vxlan' block", NODE_TOP, vxlan_cmds),
	[NODE_VRF] = NODE("a 'vrf' block", NODE_TOP, vrf_cmds),
	[NODE_IPAM_POOL] = { "an 'ipam pool' block", NODE_TOP,
	    cp_ipam_pool_cmds, CP_IPAM_POOL_NCMDS },
	[NODE_IPAM_SHADOW] = { "a 'shadow' block of 'ipam pool'",
	    NODE_IPAM_POOL, cp_ipam_shadow_cmds, CP_IPAM_SHADOW_NCMDS },
	[NODE_IPAM_DATASTORE] = { "an 'ipam datastore' block", NODE_TOP,
	    cp_ipam_datastore_cmds, CP_IPAM_DATASTORE_NCMDS },
	[NODE_TELEMETRY] = { "a 'telemetry' block", NODE_TOP,
	    cp_telemetry_cmds, CP_TELEMETRY_NCMDS },
};
