/*
 * The BGP instance and its peers: building them from the config,
 * applying a new config in place, snapshots for the outside.
 *
 * How this works: every configured neighbor of the default "router bgp"
 * is a struct bgp_peer with a private copy of its conf_neighbor, kept in
 * a list sorted by address.  bgp_reconfigure() diffs the new neighbor
 * list against the peers: removed neighbors get Cease/Peer De-configured
 * (RFC 4486 6/3) and go; added ones start; changed ones are reset with
 * Cease/Other Configuration Change (6/6) only when
 * conf_neighbor_session_differs() says the session depends on what
 * changed, so unchanged sessions never flap.  A change of local AS or
 * router-id resets every session; a listener change re-creates the
 * listeners.
 */
#include "bgpd/bgp_peer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgpd/bgp_session.h"
#include "common/log.h"
#include "common/util.h"

static void	peer_free(struct bgp_peer *);

/* ---- small helpers ------------------------------------------------- */

void
bgp_peer_log(const struct bgp_peer *peer, int level, const char *fmt, ...)
{
	char addr[IPADDR_STRLEN], msg[512];
	va_list ap;

	if (level > log_get_level())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(level, "peer %s: %s",
	    ipaddr_fmt(&peer->conf.addr, addr, sizeof(addr)), msg);
}

uint16_t
bgp_peer_conf_holdtime(const struct bgp_peer *peer)
{
	return conf_neighbor_holdtime(&peer->conf);
}

uint16_t
bgp_peer_conf_keepalive(const struct bgp_peer *peer)
{
	return conf_neighbor_keepalive(&peer->conf);
}

const struct conf_max_prefix *
bgp_peer_max_prefix(const struct bgp_peer *peer, int aid)
{
	const struct bgp_af *af = bgp_af_get(aid);
	const struct conf_max_prefix *mp;

	if (af == NULL || af->conf_af == 0)
		return NULL;
	mp = &peer->conf.max_prefix[conf_af_index(af->conf_af)];
	return mp->max != 0 ? mp : NULL;
}

#define PFX_LOGGED_THRESHOLD	0x01
#define PFX_LOGGED_LIMIT	0x02

/* As FRR: above threshold percent of the limit, then above the limit,
 * each logged once until the count falls back below it. */
bool
bgp_peer_pfx_count(struct bgp_peer *peer, int aid, size_t count)
{
	const struct conf_max_prefix *mp = bgp_peer_max_prefix(peer, aid);
	uint8_t *logged = &peer->pfx_logged[aid];

	peer->pfx_accepted[aid] = count > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)count;
	if (mp == NULL)
		return true;
	if (count > mp->max) {
		if (!(*logged & PFX_LOGGED_LIMIT))
			bgp_peer_log(peer, LOG_WARNING, "%s: %zu prefixes "
			    "received, more than the limit of %u%s",
			    bgp_aid_name(aid), count, mp->max,
			    mp->warning_only ? " (warning-only)" : "");
		*logged |= PFX_LOGGED_LIMIT | PFX_LOGGED_THRESHOLD;
		if (mp->warning_only)
			return true;
		peer->pfx_exceeded_aid = aid;
		return false;
	}
	*logged &= (uint8_t)~PFX_LOGGED_LIMIT;
	if (count > (uint64_t)mp->max * mp->threshold / 100) {
		if (!(*logged & PFX_LOGGED_THRESHOLD))
			bgp_peer_log(peer, LOG_WARNING, "%s: %zu prefixes "
			    "received, %u%% of the limit of %u reached",
			    bgp_aid_name(aid), count, mp->threshold, mp->max);
		*logged |= PFX_LOGGED_THRESHOLD;
	} else
		*logged = 0;
	return true;
}

struct bgp_conn *
bgp_conn_new(struct bgp_peer *peer, bool outgoing)
{
	struct bgp_conn *conn = xcalloc(1, sizeof(*conn));

	conn->peer = peer;
	conn->outgoing = outgoing;
	return conn;
}

void
bgp_conn_free(struct bgp_conn *conn)
{
	free(conn);
}

static char *
strdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* Copy a neighbor's settings; the list linkage is not copied. */
static void
neighbor_copy(struct conf_neighbor *dst, const struct conf_neighbor *src)
{
	*dst = *src;
	memset(&dst->entry, 0, sizeof(dst->entry));
	dst->description = strdup_or_null(src->description);
	dst->password = strdup_or_null(src->password);
}

static void
neighbor_clear(struct conf_neighbor *n)
{
	free(n->description);
	free_secret(n->password);
	n->description = n->password = NULL;
}

static bool
neighbor_session_differs(const struct conf_neighbor *a,
    const struct conf_neighbor *b)
{
	/* The TTL we set depends on multihop, so it is session-relevant. */
	return conf_neighbor_session_differs(a, b) ||
	    a->ebgp_multihop != b->ebgp_multihop;
}

/*
 * Our OPEN: MP per activated family that has a row in the family table,
 * route refresh, AS4, extended messages, graceful restart (RFC 4724): as
 * helper only (no F bits), or with "bgp graceful-restart" also as
 * restarting speaker, with the F bit set because the kernel state evpnd
 * programs outlives the process.  Built when the settings change and
 * again as it goes out (bgp_fsm.c), so it always offers the families
 * registered by then.
 */
void
bgp_peer_open_build(struct bgp_peer *peer)
{
	struct bgp_open *o = &peer->local_open;
	struct bgp_caps *c = &o->caps;
	const struct bgp_af *af;

	memset(o, 0, sizeof(*o));
	o->version = BGP_VERSION;
	bgp_open_set_as(o, peer->bgp->local_as);
	o->holdtime = bgp_peer_conf_holdtime(peer);
	o->bgp_id = peer->bgp->router_id;
	for (int aid = 0; aid < BGP_AID_MAX; aid++) {
		if ((af = bgp_af_get(aid)) == NULL ||
		    !(peer->conf.af_active & af->conf_af))
			continue;
		c->mp[aid] = true;
		c->gr_af[aid] = true;
		c->gr_af_forwarding[aid] = peer->bgp->graceful_restart;
	}
	c->route_refresh = true;
	c->ext_msg = true;
	c->gr = true;
	c->gr_time = BGP_GR_RESTART_TIME;
}

/* "route-reflector-client" is given per address-family block. */
bool
bgp_peer_rr_client(const struct bgp_peer *peer, int aid)
{
	const struct bgp_af *af = bgp_af_get(aid);

	return af != NULL && (peer->conf.af_rr_client & af->conf_af) != 0;
}

static void
peer_apply_conf(struct bgp_peer *peer, const struct conf_neighbor *cn)
{
	neighbor_clear(&peer->conf);
	neighbor_copy(&peer->conf, cn);
	if (peer->conf.port == 0)
		peer->conf.port = BGP_PORT;
	peer->ibgp = peer->conf.remote_as == peer->bgp->local_as;
	bgp_peer_open_build(peer);
}

/* ---- peers --------------------------------------------------------- */

struct bgp_peer *
bgp_peer_find(struct bgp *bgp, const struct ipaddr *addr)
{
	struct bgp_peer *peer;

	TAILQ_FOREACH(peer, &bgp->peers, entry)
		if (ipaddr_cmp(&peer->conf.addr, addr) == 0)
			return peer;
	return NULL;
}

static void
peer_insert_sorted(struct bgp *bgp, struct bgp_peer *peer)
{
	struct bgp_peer *p;

	TAILQ_FOREACH(p, &bgp->peers, entry)
		if (ipaddr_cmp(&peer->conf.addr, &p->conf.addr) < 0) {
			TAILQ_INSERT_BEFORE(p, peer, entry);
			return;
		}
	TAILQ_INSERT_TAIL(&bgp->peers, peer, entry);
}

static struct bgp_peer *
peer_new(struct bgp *bgp, const struct conf_neighbor *cn)
{
	struct bgp_peer *peer = xcalloc(1, sizeof(*peer));
	int t;

	peer->bgp = bgp;
	peer->state = BGP_ST_IDLE;
	for (t = 0; t < BGP_TIMER_MAX; t++) {
		peer->timers[t].peer = peer;
		peer->timers[t].which = t;
	}
	peer_apply_conf(peer, cn);
	peer->connretry_msec = (peer->conf.connect_retry ?
	    peer->conf.connect_retry : CONF_DEFAULT_CONNECT_RETRY) * 1000u;
	peer->idlehold_msec = BGP_IDLEHOLD_START_SEC * 1000;
	peer->pfx_exceeded_aid = -1;
	peer->since = bgp->ops->now(bgp);
	peer_insert_sorted(bgp, peer);
	if (bgp->ops->md5_set && peer->conf.password)
		bgp->ops->md5_set(bgp, &peer->conf.addr, peer->conf.password);
	return peer;
}

/* Stop (Cease with subcode) and remove a peer. */
static void
peer_remove(struct bgp_peer *peer, uint8_t subcode, const char *reason)
{
	struct bgp *bgp = peer->bgp;

	bgp_fsm_stop(peer, subcode, reason);
	if (bgp->ops->md5_set && peer->conf.password)
		bgp->ops->md5_set(bgp, &peer->conf.addr, NULL);
	TAILQ_REMOVE(&bgp->peers, peer, entry);
	peer_free(peer);
}

static void
peer_free(struct bgp_peer *peer)
{
	int t;

	for (t = 0; t < BGP_TIMER_MAX; t++)
		peer->bgp->ops->timer_stop(peer, t);
	if (peer->bgp->ops->peer_release)
		peer->bgp->ops->peer_release(peer);
	neighbor_clear(&peer->conf);
	free(peer);
}

static void
peer_start(struct bgp_peer *peer)
{
	if (!peer->conf.shutdown)
		bgp_fsm(peer, BGP_EV_START);
}

/* The neighbor's settings changed: reset only when the session
 * depends on what changed. */
static void
peer_reconfigure(struct bgp_peer *peer, const struct conf_neighbor *cn)
{
	struct bgp *bgp = peer->bgp;
	bool was_shutdown = peer->conf.shutdown;
	bool differs = neighbor_session_differs(&peer->conf, cn);

	if (differs && bgp->ops->md5_set) {
		if (peer->conf.password)
			bgp->ops->md5_set(bgp, &peer->conf.addr, NULL);
		if (cn->password)
			bgp->ops->md5_set(bgp, &cn->addr, cn->password);
	}
	if (cn->shutdown && !was_shutdown) {
		bgp_fsm_stop(peer, BGP_CEASE_ADMIN_SHUTDOWN, "Admin. shutdown");
		peer_apply_conf(peer, cn);
	} else if (differs && !cn->shutdown) {
		bgp_fsm_stop(peer, BGP_CEASE_CONFIG_CHANGE,
		    "Configuration change");
		peer_apply_conf(peer, cn);
		peer_start(peer);
	} else {
		/* Description and the like: no effect on the session;
		 * maximum-prefix applies to what the peer sent already. */
		peer_apply_conf(peer, cn);
		if (was_shutdown && !cn->shutdown)
			bgp_fsm_clear(peer);	/* releases maximum-prefix too */
		else
			bgp_fsm_pfx_recheck(peer);
	}
}

/* ---- the instance -------------------------------------------------- */

static const struct conf_bgp *
config_bgp(const struct config *conf, char *err, size_t errlen)
{
	const struct conf_bgp *cb = conf_bgp_default(conf);

	if (cb == NULL) {
		snprintf(err, errlen, "no default \"router bgp\" instance");
		return NULL;
	}
	if (!cb->has_router_id) {
		snprintf(err, errlen, "router bgp %u: no router-id", cb->asn);
		return NULL;
	}
	return cb;
}

static void
bgp_apply_globals(struct bgp *bgp, const struct conf_bgp *cb)
{
	bgp->local_as = cb->asn;
	bgp->router_id = ipaddr_v4_host(&cb->router_id);
	bgp->cluster_id = cb->cluster_id ? cb->cluster_id : bgp->router_id;
	bgp->listen_addr = cb->listen_addr;
	bgp->listen_port = cb->listen_port;
	bgp->graceful_restart = cb->graceful_restart;
}

struct bgp *
bgp_create_with_ops(struct event_base *base, const struct config *conf,
    const struct bgp_fsm_ops *ops, char *err, size_t errlen)
{
	const struct conf_bgp *cb;
	const struct conf_neighbor *cn;
	struct bgp_peer *peer;
	struct bgp *bgp;

	if ((cb = config_bgp(conf, err, errlen)) == NULL)
		return NULL;
	bgp = xcalloc(1, sizeof(*bgp));
	bgp->base = base;
	bgp->ops = ops;
	TAILQ_INIT(&bgp->listeners);
	TAILQ_INIT(&bgp->closing);
	TAILQ_INIT(&bgp->peers);
	bgp_apply_globals(bgp, cb);
	if (ops->listen && ops->listen(bgp, err, errlen) == -1) {
		free(bgp);
		return NULL;
	}
	TAILQ_FOREACH(cn, &cb->neighbors, entry)
		if (bgp_peer_find(bgp, &cn->addr) == NULL)
			(void)peer_new(bgp, cn);
	TAILQ_FOREACH(peer, &bgp->peers, entry)
		peer_start(peer);
	return bgp;
}

struct bgp *
bgp_create(struct event_base *base, const struct config *conf, char *err,
    size_t errlen)
{
	return bgp_create_with_ops(base, conf, &bgp_session_ops, err, errlen);
}

void
bgp_set_rib_ops(struct bgp *bgp, const struct bgp_rib_ops *rib, void *arg)
{
	bgp->rib = *rib;
	bgp->rib_arg = arg;
}

static int
bgp_relisten(struct bgp *bgp, const struct conf_bgp *cb, char *err,
    size_t errlen)
{
	struct ipaddr old_addr = bgp->listen_addr;
	uint16_t old_port = bgp->listen_port;

	if (ipaddr_cmp(&old_addr, &cb->listen_addr) == 0 &&
	    old_port == cb->listen_port)
		return 0;
	if (bgp->ops->unlisten)
		bgp->ops->unlisten(bgp);
	bgp->listen_addr = cb->listen_addr;
	bgp->listen_port = cb->listen_port;
	if (bgp->ops->listen == NULL || bgp->ops->listen(bgp, err, errlen) == 0)
		return 0;
	/* Put the old listeners back; the caller reports the error. */
	bgp->listen_addr = old_addr;
	bgp->listen_port = old_port;
	if (bgp->ops->listen(bgp, NULL, 0) == -1)
		log_err("cannot restore the previous BGP listeners");
	return -1;
}

/* Router-id or AS changed: every session restarts with the new one. */
static void
bgp_reset_all(struct bgp *bgp, const struct conf_bgp *cb)
{
	struct bgp_peer *peer;

	TAILQ_FOREACH(peer, &bgp->peers, entry)
		bgp_fsm_stop(peer, BGP_CEASE_CONFIG_CHANGE,
		    "Configuration change");
	bgp_apply_globals(bgp, cb);
	TAILQ_FOREACH(peer, &bgp->peers, entry) {
		struct conf_neighbor cn = peer->conf;

		/* Re-derive iBGP/eBGP and our OPEN for the new globals. */
		peer->conf.description = NULL;
		peer->conf.password = NULL;
		peer_apply_conf(peer, &cn);
		neighbor_clear(&cn);
	}
}

int
bgp_reconfigure(struct bgp *bgp, const struct config *conf, char *err,
    size_t errlen)
{
	const struct conf_bgp *cb;
	const struct conf_neighbor *cn;
	struct bgp_peer *peer, *next;

	if ((cb = config_bgp(conf, err, errlen)) == NULL)
		return -1;
	if (bgp_relisten(bgp, cb, err, errlen) == -1)
		return -1;
	if (cb->asn != bgp->local_as ||
	    ipaddr_v4_host(&cb->router_id) != bgp->router_id)
		bgp_reset_all(bgp, cb);
	/* The OPEN of the next session follows the new globals (e.g.
	 * graceful-restart): it is built as it goes out. */
	bgp_apply_globals(bgp, cb);

	TAILQ_FOREACH_SAFE(peer, &bgp->peers, entry, next)
		if (conf_neighbor_find(cb, &peer->conf.addr) == NULL)
			peer_remove(peer, BGP_CEASE_PEER_DECONFIG,
			    "Peer de-configured");
	TAILQ_FOREACH(cn, &cb->neighbors, entry) {
		if ((peer = bgp_peer_find(bgp, &cn->addr)) != NULL)
			peer_reconfigure(peer, cn);
		else
			peer_start(peer_new(bgp, cn));
	}
	/* Sessions stopped by a global reset come back now. */
	TAILQ_FOREACH(peer, &bgp->peers, entry)
		if (peer->state == BGP_ST_IDLE && !peer->idlehold_running)
			peer_start(peer);
	return 0;
}

void
bgp_shutdown(struct bgp *bgp)
{
	struct bgp_peer *peer;

	if (bgp->shut_down)
		return;
	bgp->shut_down = true;
	TAILQ_FOREACH(peer, &bgp->peers, entry)
		bgp_fsm_stop(peer, bgp->graceful_restart ? 0 :
		    BGP_CEASE_ADMIN_SHUTDOWN, bgp->graceful_restart ?
		    "Graceful restart" : "Admin. shutdown");
	if (bgp->ops->unlisten)
		bgp->ops->unlisten(bgp);
}

void
bgp_free(struct bgp *bgp)
{
	struct bgp_peer *peer;

	if (bgp == NULL)
		return;
	bgp_shutdown(bgp);
	while ((peer = TAILQ_FIRST(&bgp->peers)) != NULL) {
		TAILQ_REMOVE(&bgp->peers, peer, entry);
		peer_free(peer);
	}
	if (bgp->ops->release)
		bgp->ops->release(bgp);
	free(bgp);
}

/* ---- convergence (End-of-RIB from every peer) ---------------------- */

static bool
peer_done(const struct bgp_peer *peer, int aid)
{
	const struct bgp_af *af = bgp_af_get(aid);
	uint8_t conf_af = af != NULL ? af->conf_af : 0;

	if (peer->conf.shutdown || !(peer->conf.af_active & conf_af))
		return true;
	if (peer->state != BGP_ST_ESTABLISHED)
		return false;
	return !peer->neg.families[aid] || peer->eor_rcvd[aid];
}

bool
bgp_family_converged(const struct bgp *bgp, int aid)
{
	const struct bgp_peer *peer;

	if (aid < 0 || aid >= BGP_AID_MAX)
		return false;
	TAILQ_FOREACH(peer, &bgp->peers, entry)
		if (!peer_done(peer, aid))
			return false;
	return true;
}

void
bgp_set_converged_hook(struct bgp *bgp, bgp_converged_cb *cb, void *arg)
{
	bgp->converged_cb = cb;
	bgp->converged_arg = arg;
}

void
bgp_peer_eor_received(struct bgp_peer *peer, int aid)
{
	struct bgp *bgp = peer->bgp;

	if (aid < 0 || aid >= BGP_AID_MAX || peer->eor_rcvd[aid])
		return;
	peer->eor_rcvd[aid] = true;
	if (bgp->converged_cb != NULL && bgp_family_converged(bgp, aid))
		bgp->converged_cb(bgp->converged_arg, aid);
}

/* ---- queries ------------------------------------------------------- */

struct event_base *
bgp_event_base(const struct bgp *bgp)
{
	return bgp->base;
}

uint32_t
bgp_local_as(const struct bgp *bgp)
{
	return bgp->local_as;
}

uint32_t
bgp_router_id(const struct bgp *bgp)
{
	return bgp->router_id;
}

size_t
bgp_peer_count(const struct bgp *bgp)
{
	const struct bgp_peer *peer;
	size_t n = 0;

	TAILQ_FOREACH(peer, &bgp->peers, entry)
		n++;
	return n;
}

size_t
bgp_peer_established_count(const struct bgp *bgp)
{
	const struct bgp_peer *peer;
	size_t n = 0;

	TAILQ_FOREACH(peer, &bgp->peers, entry)
		if (peer->state == BGP_ST_ESTABLISHED)
			n++;
	return n;
}

void
bgp_peer_snapshot(const struct bgp_peer *peer, struct bgp_peer_info *pi)
{
	const struct bgp_conn *conn = peer->conn;
	bool up = peer->state == BGP_ST_ESTABLISHED;
	uint64_t now = peer->bgp->ops->now(peer->bgp);

	memset(pi, 0, sizeof(*pi));
	pi->addr = peer->conf.addr;
	pi->port = peer->conf.port;
	pi->remote_as = peer->conf.remote_as;
	pi->description = peer->conf.description;
	pi->state = peer->state;
	pi->admin_shutdown = peer->conf.shutdown;
	pi->passive = peer->conf.passive;
	pi->uptime_msec = now - peer->since;
	pi->md5 = peer->conf.password != NULL;
	if (conn && peer->state >= BGP_ST_OPENSENT) {
		pi->local_addr = conn->local_addr;
		pi->local_port = conn->local_port;
		pi->remote_port = conn->remote_port;
	}
	if (peer->state >= BGP_ST_OPENCONFIRM) {
		pi->remote_id = peer->remote_open.bgp_id;
		pi->neg = peer->neg;
	}
	pi->holdtime = up || peer->state == BGP_ST_OPENCONFIRM ?
	    peer->neg.holdtime : bgp_peer_conf_holdtime(peer);
	pi->keepalive = up || peer->state == BGP_ST_OPENCONFIRM ?
	    peer->neg.keepalive : bgp_peer_conf_keepalive(peer);
	if (up)
		pi->send_hold_msec = bgp_fsm_send_hold_msec(peer);
	pi->last_notify_sent = peer->last_notify_sent;
	pi->last_notify_rcvd = peer->last_notify_rcvd;
	memcpy(pi->last_reset, peer->last_reset, sizeof(pi->last_reset));
	pi->stats = peer->stats;
	memcpy(pi->pfx_accepted, peer->pfx_accepted, sizeof(pi->pfx_accepted));
	pi->pfx_overflow = peer->pfx_overflow;
	if (peer->pfx_overflow && peer->pfx_restart_at > now)
		pi->pfx_restart_msec = peer->pfx_restart_at - now;
}

void
bgp_peer_foreach(struct bgp *bgp, bgp_peer_cb *cb, void *arg)
{
	struct bgp_peer *peer;
	struct bgp_peer_info pi;

	TAILQ_FOREACH(peer, &bgp->peers, entry) {
		bgp_peer_snapshot(peer, &pi);
		cb(&pi, arg);
	}
}

int
bgp_peer_lookup(struct bgp *bgp, const struct ipaddr *addr,
    struct bgp_peer_info *pi)
{
	struct bgp_peer *peer = bgp_peer_find(bgp, addr);

	if (peer == NULL)
		return -1;
	bgp_peer_snapshot(peer, pi);
	return 0;
}

int
bgp_peer_clear(struct bgp *bgp, const struct ipaddr *addr)
{
	struct bgp_peer *peer = bgp_peer_find(bgp, addr);

	if (peer == NULL)
		return -1;
	bgp_peer_log(peer, LOG_NOTICE, "cleared by the operator");
	bgp_fsm_clear(peer);
	return 0;
}

size_t
bgp_peer_pending(const struct bgp_peer *peer)
{
	if (peer->conn == NULL || peer->bgp->ops->pending == NULL)
		return 0;
	return peer->bgp->ops->pending(peer->conn);
}

int
bgp_peer_send(struct bgp_peer *peer, const uint8_t *msg, size_t len)
{
	if (peer->state != BGP_ST_ESTABLISHED || peer->conn == NULL ||
	    len < BGP_HDR_LEN)
		return -1;
	if (msg[18] <= BGP_MSG_ROUTE_REFRESH)
		peer->stats.msg_sent[msg[18]]++;
	return peer->bgp->ops->send(peer->conn, msg, len);
}
