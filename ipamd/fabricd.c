/*
 * Fabric pools in the daemon: parked requests and the manager's events.
 * See fabricd.h.
 */
#include "ipamd/fabricd.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/queue.h"
#include "common/util.h"
#include "conf/conf.h"
#include "ipamd/shadowd.h"

#define FABRICD_SWEEP_MS	500

/* A request waiting for space or readiness. */
struct parked {
	TAILQ_ENTRY(parked) link;
	char		 pool[IPAM_NAME_MAX + 1];
	char		 resource[IPAM_RESOURCE_MAX + 1];
	enum ipam_family family;
	bool		 has_mac;
	struct macaddr	 mac;
	bool		 preallocated;
	int64_t		 deadline_ms;
	char		 actor[IPAM_ACTOR_MAX + 1];
	ipamd_cb	*cb;
	void		*arg;
};
TAILQ_HEAD(parked_list, parked);

struct fabricd {
	struct ipamd	*im;
	struct ipam_fabric *fab;
	struct parked_list parked;
	struct event	*sweep;
	bool		 stopped;
};

static void
parked_request(const struct parked *pk, struct ipam_request *req)
{
	memset(req, 0, sizeof(*req));
	req->resource = pk->resource;
	req->family = pk->family;
	req->mac = pk->has_mac ? &pk->mac : NULL;
	req->preallocated = pk->preallocated;
}

static void
parked_fail(struct parked *pk, int err, const char *msg)
{
	struct ipamd_result res = { .status = -1, .err = err,
	    .message = msg };

	if (pk->cb != NULL)
		pk->cb(&res, pk->arg);
	free(pk);
}

enum try_result {
	TRY_DONE,	/* allocated (its callback comes) or answered */
	TRY_WAIT,	/* park it */
	TRY_FAILED,	/* errno */
};

/* Names are per tenant: the pool's. */
static const char *
pool_tenant(const struct fabricd *fd, const char *pool)
{
	const struct ipam_pool *p = ipam_pool_find(ipamd_ipam(fd->im), pool);

	return p != NULL ? ipam_pool_tenant(p) : NULL;
}

/* Allocate now if the pool may and can; else say why to wait. */
static enum try_result
try_now(struct fabricd *fd, struct parked *pk)
{
	struct ipam_request req;
	char why[IPAM_FABRIC_ERROR_MAX];

	parked_request(pk, &req);
	/* Already there (a twin request came first): the ordinary path
	 * answers a repeat. */
	if (ipam_find(ipamd_ipam(fd->im), pool_tenant(fd, pk->pool),
	    pk->resource) != NULL)
		return ipamd_allocate(fd->im, pk->pool, &req, pk->actor,
		    pk->cb, pk->arg) == 0 ? TRY_DONE : TRY_FAILED;
	if (ipam_fabric_usable(fd->fab, pk->pool, why, sizeof(why)) == -1)
		return errno == EAGAIN ? TRY_WAIT : TRY_FAILED;
	if (ipamd_allocate_fresh(fd->im, pk->pool, &req, pk->actor, pk->cb,
	    pk->arg) == 0) {
		ipam_fabric_check(fd->fab, pk->pool);
		return TRY_DONE;
	}
	if (errno != ENOSPC)
		return TRY_FAILED;
	ipam_fabric_want(fd->fab, pk->pool, pk->family);
	return TRY_WAIT;
}

/* The refusal of a pool, for the answer. */
static void
fail_refused(struct fabricd *fd, struct parked *pk)
{
	char why[IPAM_FABRIC_ERROR_MAX];

	ipam_fabric_usable(fd->fab, pk->pool, why, sizeof(why));
	parked_fail(pk, EPERM, why);
}

int
fabricd_allocate(struct fabricd *fd, const char *pool,
    const struct ipam_request *req, const char *actor, ipamd_cb *cb,
    void *arg)
{
	struct parked *pk = xcalloc(1, sizeof(*pk));
	int err;

	strlcpy_s(pk->pool, pool, sizeof(pk->pool));
	strlcpy_s(pk->resource, req->resource, sizeof(pk->resource));
	pk->family = req->family;
	if ((pk->has_mac = req->mac != NULL))
		pk->mac = *req->mac;
	pk->preallocated = req->preallocated;
	pk->deadline_ms = (int64_t)mono_msec() + FABRICD_WAIT_S * 1000;
	strlcpy_s(pk->actor, actor != NULL ? actor : "", sizeof(pk->actor));
	pk->cb = cb;
	pk->arg = arg;
	switch (try_now(fd, pk)) {
	case TRY_DONE:
		free(pk);
		return 0;
	case TRY_WAIT:
		TAILQ_INSERT_TAIL(&fd->parked, pk, link);
		return 0;
	case TRY_FAILED:
		if (errno == EPERM) {
			fail_refused(fd, pk);
			return 0;
		}
		err = errno;
		free(pk);
		errno = err;
		return -1;
	}
	return 0;
}

static bool
needs_fam(const struct parked *pk, int fam)
{
	if (fam < 0)
		return true;
	if (fam == 0)
		return pk->family != IPAM_FAMILY_IPV6;
	return pk->family != IPAM_FAMILY_IPV4;
}

/* Retry (or fail) the parked requests of pool concerned by fam. */
static void
parked_run(struct fabricd *fd, const char *pool, int fam, int err,
    const char *msg)
{
	struct parked_list batch;
	struct parked *pk, *next;

	TAILQ_INIT(&batch);
	TAILQ_FOREACH_SAFE(pk, &fd->parked, link, next) {
		if (strcmp(pk->pool, pool) != 0 || !needs_fam(pk, fam))
			continue;
		TAILQ_REMOVE(&fd->parked, pk, link);
		TAILQ_INSERT_TAIL(&batch, pk, link);
	}
	while ((pk = TAILQ_FIRST(&batch)) != NULL) {
		TAILQ_REMOVE(&batch, pk, link);
		if (err != 0) {
			parked_fail(pk, err, msg);
			continue;
		}
		switch (try_now(fd, pk)) {
		case TRY_DONE:
			free(pk);
			break;
		case TRY_WAIT:
			TAILQ_INSERT_TAIL(&fd->parked, pk, link);
			break;
		case TRY_FAILED:
			if (errno == EPERM)
				fail_refused(fd, pk);
			else
				parked_fail(pk, errno, strerror(errno));
			break;
		}
	}
}

static void
on_fabric_event(void *arg, const char *pool, enum ipam_fabric_event ev,
    int fam, int err, const char *msg)
{
	struct fabricd *fd = arg;

	if (fd->stopped)
		return;
	if (ev == IPAM_FABRIC_FAILED)
		parked_run(fd, pool, fam, err != 0 ? err : EIO, msg);
	else
		parked_run(fd, pool, ev == IPAM_FABRIC_USABLE ? -1 : fam, 0,
		    NULL);
}

/* The shadow inventory's forecast over its horizon, where it has one. */
static uint64_t
demand(void *arg, const char *pool)
{
	struct fabricd *fd = arg;
	struct shadowd_pool *sp = shadowd_pool(ipamd_shadowd(fd->im), pool);

	return sp != NULL ? shadowd_pool_demand(sp) : 0;
}

static void
sweep_cb(evutil_socket_t fd_, short what, void *arg)
{
	struct fabricd *fd = arg;
	int64_t now = (int64_t)mono_msec();
	struct parked *pk, *next;
	char msg[IPAM_FABRIC_ERROR_MAX], why[IPAM_FABRIC_ERROR_MAX - 64];

	TAILQ_FOREACH_SAFE(pk, &fd->parked, link, next) {
		if (pk->deadline_ms > now)
			continue;
		TAILQ_REMOVE(&fd->parked, pk, link);
		if (ipam_fabric_usable(fd->fab, pk->pool, why, sizeof(why)) ==
		    0)
			snprintf(why, sizeof(why), "no block or borrowed "
			    "address came");
		snprintf(msg, sizeof(msg), "no address in pool %.63s within %ds: "
		    "%.150s", pk->pool, FABRICD_WAIT_S, why);
		parked_fail(pk, ETIMEDOUT, msg);
	}
}

/* Each pool's VTEP is the local-tunnel-ip of its VNI's vxlan. */
static void
pool_vteps(struct fabricd *fd, const struct config *conf)
{
	const struct conf_ipam_pool *cp;
	const struct conf_vxlan *vx;

	TAILQ_FOREACH(cp, &conf->ipam_pools, entry)
		if (cp->scope == CONF_IPAM_SCOPE_FABRIC && cp->vni != 0 &&
		    (vx = conf_vxlan_by_vni(conf, cp->vni)) != NULL &&
		    ipaddr_is_set(&vx->local_ip))
			ipam_fabric_set_vtep(fd->fab, cp->name, &vx->local_ip);
}

struct fabricd *
fabricd_create(struct ipamd *im, struct event_base *base,
    const struct config *conf, const struct ipam_fabric_ops *ops, void *ds,
    const struct ipam_fabric_owner *me)
{
	struct fabricd *fd = xcalloc(1, sizeof(*fd));
	struct timeval tv = { 0, FABRICD_SWEEP_MS * 1000 };

	fd->im = im;
	TAILQ_INIT(&fd->parked);
	fd->fab = ipam_fabric_new(base, ipamd_ipam(im), ipamd_store(im), ops,
	    ds, me);
	pool_vteps(fd, conf);
	ipam_fabric_set_hooks(fd->fab, on_fabric_event, demand, fd);
	if ((fd->sweep = event_new(base, -1, EV_PERSIST, sweep_cb, fd)) !=
	    NULL)
		event_add(fd->sweep, &tv);
	ipam_fabric_start(fd->fab, IPAM_FABRIC_TICK_MS);
	return fd;
}

void
fabricd_stop(struct fabricd *fd)
{
	struct parked *pk;

	if (fd == NULL || fd->stopped)
		return;
	fd->stopped = true;
	while ((pk = TAILQ_FIRST(&fd->parked)) != NULL) {
		TAILQ_REMOVE(&fd->parked, pk, link);
		parked_fail(pk, ESHUTDOWN, "evpnd is shutting down");
	}
	ipam_fabric_stop(fd->fab);
	if (fd->sweep != NULL)
		event_del(fd->sweep);
}

void
fabricd_free(struct fabricd *fd)
{
	if (fd == NULL)
		return;
	fabricd_stop(fd);
	ipam_fabric_free(fd->fab);
	if (fd->sweep != NULL)
		event_free(fd->sweep);
	free(fd);
}

struct ipam_fabric *
fabricd_fabric(const struct fabricd *fd)
{
	return fd != NULL ? fd->fab : NULL;
}

bool
fabricd_handles(const struct fabricd *fd, const char *pool)
{
	const struct ipam_pool *p;

	return fd != NULL && (p = ipam_pool_find(ipamd_ipam(fd->im), pool)) !=
	    NULL && ipam_pool_is_fabric(p);
}

/* Reload */

static bool
datastore_differs(const struct conf_ipam_datastore *a,
    const struct conf_ipam_datastore *b)
{
	const char *sa[3] = { a->tls_cert, a->tls_key, a->tls_ca };
	const char *sb[3] = { b->tls_cert, b->tls_key, b->tls_ca };

	if (a->enabled != b->enabled || a->nendpoints != b->nendpoints)
		return true;
	for (size_t i = 0; i < a->nendpoints; i++)
		if (strcmp(a->endpoints[i], b->endpoints[i]) != 0)
			return true;
	for (int i = 0; i < 3; i++)
		if ((sa[i] == NULL) != (sb[i] == NULL) || (sa[i] != NULL &&
		    strcmp(sa[i], sb[i]) != 0))
			return true;
	return false;
}

int
fabricd_reload_check(const struct config *running, const struct config *next,
    char *err, size_t errlen)
{
	const struct conf_ipam_pool *np, *rp;

	if (datastore_differs(&running->ipam_datastore, &next->ipam_datastore)
	    || strcmp(conf_datastore_prefix(running),
	    conf_datastore_prefix(next)) != 0) {
		snprintf(err, errlen, "ipam datastore changed: restart evpnd "
		    "to apply");
		return -1;
	}
	TAILQ_FOREACH(np, &next->ipam_pools, entry) {
		if (np->scope != CONF_IPAM_SCOPE_FABRIC ||
		    conf_ipam_pool_find(running, np->name) != NULL)
			continue;
		snprintf(err, errlen, "fabric pool %s added: restart evpnd to "
		    "apply", np->name);
		return -1;
	}
	TAILQ_FOREACH(rp, &running->ipam_pools, entry) {
		if ((np = conf_ipam_pool_find(next, rp->name)) == NULL)
			continue;
		if (rp->scope != np->scope || rp->block_size != np->block_size
		    || rp->borrow != np->borrow || rp->block_idle_release !=
		    np->block_idle_release) {
			snprintf(err, errlen, "ipam pool %s changed (scope, "
			    "block-size, borrow or block-idle-release): "
			    "restart evpnd to apply", rp->name);
			return -1;
		}
	}
	return 0;
}
