/*
 * /v1/bgp/... and /v1/config: bgpd's state as JSON, and the operator's
 * "clear bgp" (POST /v1/bgp/neighbors/ADDR/clear).
 *
 * Key names follow FRR's "show bgp summary json" and "show bgp neighbors
 * json" where it has one, so tooling written for FRR fabrics reads ours.
 * Everything comes from struct bgp_peer_info snapshots; bgpd's internals
 * stay opaque.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "bgpd/bgp_af.h"
#include "bgpd/bgpd.h"
#include "common/addr.h"
#include "common/log.h"
#include "common/util.h"
#include "conf/conf.h"
#include "api/api.h"

static void
fmt_router_id(uint32_t id, char *buf, size_t len)
{
	struct ipaddr a;

	ipaddr_from_v4(&a, id);
	ipaddr_fmt(&a, buf, len);
}

static json_t *
summary_peer_json(const struct bgp_peer_info *pi, uint32_t local_as)
{
	const struct bgp_peer_stats *st = &pi->stats;
	uint64_t rcvd = 0, sent = 0;
	json_t *o;

	for (size_t t = BGP_MSG_OPEN; t <= BGP_MSG_ROUTE_REFRESH; t++) {
		rcvd += st->msg_rcvd[t];
		sent += st->msg_sent[t];
	}
	o = json_pack("{s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}",
	    "remoteAs", (json_int_t)pi->remote_as,
	    "localAs", (json_int_t)local_as,
	    "state", bgp_state_name(pi->state),
	    "uptimeMsec", (json_int_t)pi->uptime_msec,
	    "pfxRcd", (json_int_t)st->pfx_rcvd,
	    "pfxSnt", (json_int_t)st->pfx_sent,
	    "msgRcvd", (json_int_t)rcvd,
	    "msgSent", (json_int_t)sent,
	    "connectionsEstablished", (json_int_t)st->established,
	    "connectionsDropped", (json_int_t)st->dropped,
	    "adminShutdown", pi->admin_shutdown);
	if (pi->description != NULL)
		json_object_set_new(o, "description",
		    json_string(pi->description));
	if (pi->pfx_overflow)		/* FRR: "Idle (PfxCt)" */
		json_object_set_new(o, "peerState", json_string("PfxCt"));
	return o;
}

struct summary_walk {
	json_t		*peers;
	uint32_t	 local_as;
};

static void
summary_peer_cb(const struct bgp_peer_info *pi, void *arg)
{
	struct summary_walk *w = arg;
	char addr[IPADDR_STRLEN];

	ipaddr_fmt(&pi->addr, addr, sizeof(addr));
	json_object_set_new(w->peers, addr, summary_peer_json(pi, w->local_as));
}

json_t *
api_bgp_summary_json(struct evpnd *d)
{
	struct summary_walk w;
	char rid[IPADDR_STRLEN];

	w.peers = json_object();
	w.local_as = bgp_local_as(d->bgp);
	bgp_peer_foreach(d->bgp, summary_peer_cb, &w);
	fmt_router_id(bgp_router_id(d->bgp), rid, sizeof(rid));
	return json_pack("{s:s, s:I, s:o, s:I, s:I}",
	    "routerId", rid,
	    "as", (json_int_t)w.local_as,
	    "peers", w.peers,
	    "totalPeers", (json_int_t)bgp_peer_count(d->bgp),
	    "establishedPeers", (json_int_t)bgp_peer_established_count(d->bgp));
}

void
api_bgp_summary(struct api_req *ar)
{
	api_reply_json(ar, 200, api_bgp_summary_json(ar->d));
}

static json_t *
notify_json(const struct bgp_notify *n)
{
	char text[160];

	bgp_notify_name(n->code, n->subcode, text, sizeof(text));
	return json_pack("{s:i, s:i, s:s}", "code", n->code,
	    "subcode", n->subcode, "text", text);
}

static json_t *
message_stats_json(const struct bgp_peer_stats *st)
{
	uint64_t rcvd = 0, sent = 0;

	for (size_t t = BGP_MSG_OPEN; t <= BGP_MSG_ROUTE_REFRESH; t++) {
		rcvd += st->msg_rcvd[t];
		sent += st->msg_sent[t];
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
	    " s:I, s:I}",
	    "opensSent", (json_int_t)st->msg_sent[BGP_MSG_OPEN],
	    "opensRecv", (json_int_t)st->msg_rcvd[BGP_MSG_OPEN],
	    "updatesSent", (json_int_t)st->msg_sent[BGP_MSG_UPDATE],
	    "updatesRecv", (json_int_t)st->msg_rcvd[BGP_MSG_UPDATE],
	    "keepalivesSent", (json_int_t)st->msg_sent[BGP_MSG_KEEPALIVE],
	    "keepalivesRecv", (json_int_t)st->msg_rcvd[BGP_MSG_KEEPALIVE],
	    "notificationsSent",
	    (json_int_t)st->msg_sent[BGP_MSG_NOTIFICATION],
	    "notificationsRecv",
	    (json_int_t)st->msg_rcvd[BGP_MSG_NOTIFICATION],
	    "routeRefreshSent", (json_int_t)st->msg_sent[BGP_MSG_ROUTE_REFRESH],
	    "routeRefreshRecv", (json_int_t)st->msg_rcvd[BGP_MSG_ROUTE_REFRESH],
	    "totalSent", (json_int_t)sent,
	    "totalRecv", (json_int_t)rcvd);
}

/* What both sides agreed on; all false until Established. */
static json_t *
capabilities_json(const struct bgp_peer_info *pi)
{
	const struct bgp_negotiated *neg = &pi->neg;
	bool up = pi->state == BGP_ST_ESTABLISHED;
	json_t *fams = json_array();

	for (int aid = 0; up && aid < BGP_AID_MAX; aid++)
		if (neg->families[aid])
			json_array_append_new(fams,
			    json_string(bgp_aid_name(aid)));
	return json_pack("{s:b, s:b, s:b, s:b, s:b, s:o}",
	    "AS4", up && neg->as4,
	    "routeRefresh", up && neg->route_refresh,
	    "enhancedRouteRefresh", up && neg->enhanced_rr,
	    "extendedMessage", up && neg->ext_msg,
	    "gracefulRestart", up && neg->peer_gr,
	    "families", fams);
}

static void
neighbor_add_timers(json_t *o, const struct bgp_peer_info *pi,
    const struct config *conf)
{
	const struct conf_bgp *cb = conf ? conf_bgp_default(conf) : NULL;
	const struct conf_neighbor *cn = NULL;

	json_object_set_new(o, "holdTimeMsecs",
	    json_integer((json_int_t)pi->holdtime * 1000));
	json_object_set_new(o, "keepaliveIntervalMsecs",
	    json_integer((json_int_t)pi->keepalive * 1000));
	if (pi->state == BGP_ST_ESTABLISHED)
		json_object_set_new(o, "sendHoldTimeMsecs",
		    json_integer((json_int_t)pi->send_hold_msec));
	if (cb != NULL)
		cn = conf_neighbor_find(cb, &pi->addr);
	if (cn == NULL)
		return;
	json_object_set_new(o, "configuredHoldTimeMsecs",
	    json_integer((json_int_t)conf_neighbor_holdtime(cn) * 1000));
	json_object_set_new(o, "configuredKeepaliveIntervalMsecs",
	    json_integer((json_int_t)conf_neighbor_keepalive(cn) * 1000));
	json_object_set_new(o, "configuredConnectRetrySecs",
	    json_integer(cn->connect_retry ? cn->connect_retry :
	    CONF_DEFAULT_CONNECT_RETRY));
}

/* FRR's keys for the families of the CONF_AF_* bits, by conf_af_index(). */
static const struct {
	uint8_t		 conf_af;
	const char	*key;
} af_keys[CONF_AF_COUNT] = {
	{ CONF_AF_IPV4_UNICAST, "ipv4Unicast" },
	{ CONF_AF_IPV6_UNICAST, "ipv6Unicast" },
	{ CONF_AF_L2VPN_EVPN, "l2VpnEvpn" },
};

/* Accepted prefixes of the family of a CONF_AF_* bit (its aid's). */
static uint32_t
af_accepted(const struct bgp_peer_info *pi, uint8_t conf_af)
{
	for (int aid = 0; aid < BGP_AID_MAX; aid++) {
		const struct bgp_af *af = bgp_af_get(aid);

		if (af != NULL && af->conf_af == conf_af)
			return pi->pfx_accepted[aid];
	}
	return 0;
}

static json_t *
af_info_json(const struct bgp_peer_info *pi, const struct conf_neighbor *cn,
    int i)
{
	const struct conf_max_prefix *mp = &cn->max_prefix[i];
	json_t *o = json_object();

	json_object_set_new(o, "acceptedPrefixCounter",
	    json_integer(af_accepted(pi, af_keys[i].conf_af)));
	if (mp->max == 0)
		return o;
	json_object_set_new(o, "prefixAllowedMax", json_integer(mp->max));
	if (mp->warning_only)
		json_object_set_new(o, "prefixAllowedMaxWarning", json_true());
	json_object_set_new(o, "prefixAllowedWarningThresh",
	    json_integer(mp->threshold));
	if (mp->restart != 0)
		json_object_set_new(o, "prefixAllowedRestartIntervalMsecs",
		    json_integer((json_int_t)mp->restart * 60000));
	return o;
}

/* FRR's per-family block and its maximum-prefix state keys. */
static void
neighbor_add_families(json_t *o, const struct bgp_peer_info *pi,
    const struct config *conf)
{
	const struct conf_bgp *cb = conf ? conf_bgp_default(conf) : NULL;
	const struct conf_neighbor *cn;
	json_t *fams;

	if (pi->pfx_overflow) {
		json_object_set_new(o, "prefixesConfigExceedMax", json_true());
		if (pi->pfx_restart_msec != 0) {
			json_object_set_new(o, "reducePrefixNumFrom",
			    json_true());
			json_object_set_new(o, "restartInTimerMsec",
			    json_integer((json_int_t)pi->pfx_restart_msec));
		} else
			json_object_set_new(o, "reducePrefixNumAndClearIpBgp",
			    json_true());
	}
	if (cb == NULL || (cn = conf_neighbor_find(cb, &pi->addr)) == NULL)
		return;
	fams = json_object();
	for (int i = 0; i < CONF_AF_COUNT; i++)
		if ((cn->af_active & af_keys[i].conf_af) ||
		    cn->max_prefix[i].max != 0)
			json_object_set_new(fams, af_keys[i].key,
			    af_info_json(pi, cn, i));
	json_object_set_new(o, "addressFamilyInfo", fams);
}

static void
neighbor_add_connection(json_t *o, const struct bgp_peer_info *pi)
{
	char buf[IPADDR_STRLEN];

	if (ipaddr_is_set(&pi->local_addr)) {
		ipaddr_fmt(&pi->local_addr, buf, sizeof(buf));
		json_object_set_new(o, "hostLocal", json_string(buf));
		json_object_set_new(o, "portLocal",
		    json_integer(pi->local_port));
	}
	ipaddr_fmt(&pi->addr, buf, sizeof(buf));
	json_object_set_new(o, "hostForeign", json_string(buf));
	json_object_set_new(o, "portForeign", json_integer(pi->remote_port ?
	    pi->remote_port : pi->port));
}

static json_t *
neighbor_json(const struct bgp_peer_info *pi, uint32_t local_as,
    const struct config *conf)
{
	char rid[IPADDR_STRLEN];
	json_t *o;

	fmt_router_id(pi->remote_id, rid, sizeof(rid));
	o = json_pack("{s:I, s:I, s:s, s:s, s:I, s:s, s:b, s:b, s:b}",
	    "remoteAs", (json_int_t)pi->remote_as,
	    "localAs", (json_int_t)local_as,
	    "linkType", pi->remote_as == local_as ? "internal" : "external",
	    "bgpState", bgp_state_name(pi->state),
	    "bgpTimerUpMsec", (json_int_t)pi->uptime_msec,
	    "remoteRouterId", rid,
	    "md5", pi->md5,
	    "passive", pi->passive,
	    "adminShutdown", pi->admin_shutdown);
	if (pi->description != NULL)
		json_object_set_new(o, "description",
		    json_string(pi->description));
	neighbor_add_connection(o, pi);
	neighbor_add_timers(o, pi, conf);
	json_object_set_new(o, "neighborCapabilities", capabilities_json(pi));
	json_object_set_new(o, "messageStats", message_stats_json(&pi->stats));
	json_object_set_new(o, "prefixesReceived",
	    json_integer((json_int_t)pi->stats.pfx_rcvd));
	json_object_set_new(o, "prefixesSent",
	    json_integer((json_int_t)pi->stats.pfx_sent));
	json_object_set_new(o, "unknownAttrDropped",
	    json_integer((json_int_t)pi->stats.unknown_attr_dropped));
	neighbor_add_families(o, pi, conf);
	if (pi->last_notify_sent.code != 0)
		json_object_set_new(o, "lastNotificationSent",
		    notify_json(&pi->last_notify_sent));
	if (pi->last_notify_rcvd.code != 0)
		json_object_set_new(o, "lastNotificationReceived",
		    notify_json(&pi->last_notify_rcvd));
	if (pi->last_reset[0] != '\0')
		json_object_set_new(o, "lastResetDueTo",
		    json_string(pi->last_reset));
	json_object_set_new(o, "connectionsEstablished",
	    json_integer((json_int_t)pi->stats.established));
	json_object_set_new(o, "connectionsDropped",
	    json_integer((json_int_t)pi->stats.dropped));
	return o;
}

struct neighbors_walk {
	json_t			*all;
	uint32_t		 local_as;
	const struct config	*conf;
};

static void
neighbors_peer_cb(const struct bgp_peer_info *pi, void *arg)
{
	struct neighbors_walk *w = arg;
	char addr[IPADDR_STRLEN];

	ipaddr_fmt(&pi->addr, addr, sizeof(addr));
	json_object_set_new(w->all, addr, neighbor_json(pi, w->local_as,
	    w->conf));
}

json_t *
api_bgp_neighbors_json(struct evpnd *d)
{
	struct neighbors_walk w = {
		.all = json_object(),
		.local_as = bgp_local_as(d->bgp),
		.conf = d->conf,
	};

	bgp_peer_foreach(d->bgp, neighbors_peer_cb, &w);
	return w.all;
}

void
api_bgp_neighbors(struct api_req *ar)
{
	api_reply_json(ar, 200, api_bgp_neighbors_json(ar->d));
}

/* GET /v1/bgp/neighbors/ADDR: the same object, keyed by ADDR, as FRR. */
void
api_bgp_neighbor(struct api_req *ar)
{
	struct bgp_peer_info pi;
	struct ipaddr addr;
	char key[IPADDR_STRLEN];

	if (ipaddr_parse(ar->arg, &addr) == -1) {
		api_reply_error(ar, 400, "bad neighbor address %.64s", ar->arg);
		return;
	}
	if (bgp_peer_lookup(ar->d->bgp, &addr, &pi) == -1) {
		api_reply_error(ar, 404, "no such neighbor %s", ar->arg);
		return;
	}
	ipaddr_fmt(&pi.addr, key, sizeof(key));
	api_reply_json(ar, 200, json_pack("{s:o}", key,
	    neighbor_json(&pi, bgp_local_as(ar->d->bgp), ar->d->conf)));
}

/* POST /v1/bgp/neighbors/ADDR/clear: FRR's "clear bgp ADDR". */
void
api_bgp_neighbor_clear(struct api_req *ar)
{
	struct ipaddr addr;

	if (ipaddr_parse(ar->arg, &addr) == -1) {
		api_reply_error(ar, 400, "bad neighbor address %.64s", ar->arg);
		return;
	}
	if (bgp_peer_clear(ar->d->bgp, &addr) == -1) {
		api_reply_error(ar, 404, "no such neighbor %s", ar->arg);
		return;
	}
	log_notice("api: clear bgp %s", ar->arg);
	api_reply_empty(ar, 204);
}

/* Does the query string hold name=1? */
static bool
query_flag(struct api_req *ar, const char *name)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ar->req);
	const char *qs = uri ? evhttp_uri_get_query(uri) : NULL, *v;
	struct evkeyvalq q;
	bool on;

	TAILQ_INIT(&q);
	if (qs == NULL || evhttp_parse_query_str(qs, &q) == -1)
		return false;
	on = (v = evhttp_find_header(&q, name)) != NULL && strcmp(v, "1") == 0;
	evhttp_clear_headers(&q);
	return on;
}

/*
 * GET /v1/config[?secrets=1]: the running config, secrets redacted
 * unless an admin asks for them (the route is for admins already; the
 * flag keeps them out of what is shown by default).
 */
void
api_config(struct api_req *ar)
{
	bool secrets = api_authz_admin(ar) && query_flag(ar, "secrets");
	char *text = conf_print_string_flags(ar->d->conf, secrets ? 0 :
	    CONF_PRINT_REDACT);

	api_reply_json(ar, 200, json_pack("{s:s}", "config", text));
	free_secret(text);
}
