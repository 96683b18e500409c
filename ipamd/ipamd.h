/*
 * The daemon's IPAM glue: pools from the config, the durable store under
 * the state directory, and EVPN advertisement of what is committed.
 *
 * Dependencies: ipamd/ binds ipam/ (pools, store, shadow engine) to the
 * running daemon: it uses ipam/, evpn/ (to advertise and to hear churn),
 * telemetry/ (traffic), conf/ and common/; api/ calls it for the
 * /v1/ipam routes and daemon/ creates it.  ipam/ itself knows nothing
 * of it.
 *
 * How this works: ipamd_create() turns every "ipam pool" block into an
 * ipam pool (ipamd_pool_from_conf), opens STATE/ipam.db (which restores
 * allocations and quarantine), records the configured reservations in
 * the store, hands the allocator to evpn (conflict detection) and
 * re-advertises every restored allocation as type-2 routes.
 *
 * Changes go through ipamd_allocate() / ipamd_release(), each naming
 * its actor (who asked; it goes into the audit record): the allocator
 * changes at once in memory, the change is submitted to the store, and
 * the caller's callback runs on the event loop only after the commit
 * (then the route is advertised or withdrawn).  A failed commit has
 * been undone in memory by the store before the callback runs (the
 * allocation is gone, or the released allocation is back and its
 * route was never withdrawn); the result's status says so.  An
 * allocation found already present is answered after a store SYNC when
 * anything is still in flight, since its own commit may be among them.
 *
 * The store refuses to open on data it cannot trust (corruption, audit
 * records missing at the end, an older copy than ipam.anchor, an
 * address held twice): ipamd_create() then fails with errno EBADMSG,
 * and the daemon runs without IPAM rather than heal it.  The audit
 * chain head is published by the store; ipam_store_set_head_hook() on
 * ipamd_store() is where a datastore copy plugs in.
 *
 * Fabric-wide convergence (fabric_conv.h): the shadow inventory's
 * fabric lead-time source, published and read through the same etcd.
 *
 * Shadow inventory (shadowd.h): pools with a "shadow" block get an
 * engine; ipamd_allocate() of a new resource in such a pool first tries
 * to take one of its pre-allocations (ipam_claim + IPAM_OP_CLAIM: the
 * result says preallocated), and releases and evpn churn are reported
 * to it.
 *
 * Reload: pools may be added; removing or changing one (prefixes, VNI,
 * tenant, gateways, exclusions, quarantine, MAC prefix, reservations)
 * needs a restart.  ipamd_reload_check() refuses those before anything
 * is applied; ipamd_reload_apply() then cannot fail.
 *
 * Run-time pools (pools.c): the API's admin calls create, change and
 * delete pools and their reservations without a restart.  A definition
 * is a config holding one "ipam pool" block (the config grammar, the
 * config checks); it is committed to the store's pools table, audited,
 * and only then applied; the store hands it back at start.  Pools of
 * the config file stay read-only.  A pool with live allocations cannot
 * be deleted, nor changed so that one of them no longer fits.
 *
 * Traffic (trafficd.h): flow records and bridge samples mapped onto
 * pools give each shadow engine its pool's traffic rate, and ARP/ND
 * requests for addresses nobody holds; daemon/ creates it beside
 * ipamd.
 *
 * Requests may ask for an address and carry labels (ipam.h); a repeated
 * request must ask the same to be answered with the same allocation.
 *
 * DNS (dnsreg.c): a pool with "dns zone" registers its named
 * allocations once committed and removes them on release, without ever
 * holding an allocation up; settings changed by a reload or the API
 * apply at once.
 */
#ifndef IPAMD_IPAMD_H
#define IPAMD_IPAMD_H

#include <stdbool.h>
#include <stddef.h>

#include "ipam/ipam.h"

struct config;
struct conf_ipam_pool;
struct event_base;
struct evpn;
struct ipamd;
struct shadowd;

/* Fill an ipam_pool_spec from a config block and add the pool. */
int		 ipamd_pool_from_conf(struct ipam *, const struct conf_ipam_pool *,
		    char *err, size_t errlen);

/* NULL with err and errno: EBADMSG when the store holds data it cannot
 * trust (see above), else a configuration or system error. */
struct ipamd	*ipamd_create(struct event_base *, struct evpn *,
		    const struct config *, const char *state_dir, char *err,
		    size_t errlen);
/* Run every pending completion (replies go out); nothing stays queued. */
void		 ipamd_drain(struct ipamd *);
/* Close the store and free the allocator; after evpn_free(). */
void		 ipamd_free(struct ipamd *);

/* -1 with err filled when the new config cannot be applied live (im
 * may be NULL: no IPAM running). */
int		 ipamd_reload_check(const struct ipamd *,
		    const struct config *running, const struct config *next,
		    char *err, size_t errlen);
/* Add the new pools; call only after ipamd_reload_check() passed. */
void		 ipamd_reload_apply(struct ipamd *, const struct config *running,
		    const struct config *next);

/*
 * Fabric pools (fabricd.h): daemon/ wires the datastore operations and
 * this VTEP's identity in after ipamd_create(); nothing is claimed
 * before ipamd_fabric_ready() (the BGP sessions delivered their initial
 * tables).  Without a call, fabric pools hand out nothing.
 */
struct ipam_fabric;
struct ipam_fabric_ops;
struct ipam_fabric_owner;
void		 ipamd_fabric_attach(struct ipamd *, struct event_base *,
		    const struct config *, const struct ipam_fabric_ops *,
		    void *ds, const struct ipam_fabric_owner *me);
void		 ipamd_fabric_ready(struct ipamd *);
/* NULL when no datastore is wired. */
struct ipam_fabric *ipamd_fabric(const struct ipamd *);

struct ipam	*ipamd_ipam(const struct ipamd *);
struct ipam_store *ipamd_store(const struct ipamd *);
struct shadowd	*ipamd_shadowd(const struct ipamd *);

/* What a completion reports. */
struct ipamd_result {
	int			 status;	/* 0 committed, -1 failed and
						 * undone (the store failed) */
	int			 err;		/* failed before any commit
						 * (fabric pools): errno */
	const char		*message;	/* ... and why */
	bool			 existing;	/* allocate: it was there */
	const struct ipam_alloc	*alloc;		/* NULL when failed/released */
	const struct ipam_alloc	*released;	/* release: the record */
	bool			 preallocated;	/* served by a pre-allocation */
	double			 wait_s;	/* ... still converging for */
};
typedef void	 ipamd_cb(const struct ipamd_result *, void *arg);

/* Actors of the changes the daemon makes itself. */
#define IPAMD_ACTOR_LOCAL	"local"		/* the Unix socket */
#define IPAMD_ACTOR_SHADOW	"shadow"	/* the shadow inventory */

/*
 * Allocate and commit; cb runs on the event loop after the commit.
 * actor (NULL: none) is recorded in the audit trail.  -1 and errno as
 * ipam_allocate() (then cb never runs), or EIO when the store refuses
 * the submission.
 */
int		 ipamd_allocate(struct ipamd *, const char *pool,
		    const struct ipam_request *, const char *actor, ipamd_cb *,
		    void *arg);
/* The allocation itself, past the checks ipamd_allocate() makes and
 * past fabric pools' waiting (for ipamd/fabricd.c). */
int		 ipamd_allocate_fresh(struct ipamd *, const char *pool,
		    const struct ipam_request *, const char *actor, ipamd_cb *,
		    void *arg);
/* Release tenant's resource (tenant NULL: the pools without one) and
 * commit; -1 and ENOENT if it holds nothing. */
int		 ipamd_release(struct ipamd *, const char *tenant,
		    const char *resource, const char *actor, ipamd_cb *,
		    void *arg);

/*
 * Pools made at run time.  def is a config holding one "ipam pool"
 * block (conf_parse_string of the request); on success ipamd owns it.
 * Each change commits (pools table and audit) before it takes effect;
 * meanwhile the pool takes no allocation (ipamd_allocate: EAGAIN).  cb
 * then runs with 0, or -1 when the commit failed (nothing changed).
 * -1 with errno and a message in err: EEXIST the name or reservation
 * is taken, EPERM a pool of the config file (read-only), ENOENT no such
 * pool or reservation, EAGAIN a change of it is committing, EINVAL the
 * definition cannot be built, EADDRINUSE it overlaps another pool of
 * its tenant or takes another pool's VNI, EBUSY live allocations are in
 * the way (err counts them), EIO the store refuses.
 */
typedef void	 ipamd_pool_cb(int status, void *arg);
int		 ipamd_pool_create(struct ipamd *, struct config *def,
		    const char *actor, ipamd_pool_cb *, void *arg, char *err,
		    size_t errlen);
int		 ipamd_pool_update(struct ipamd *, struct config *def,
		    const char *actor, ipamd_pool_cb *, void *arg, char *err,
		    size_t errlen);
int		 ipamd_pool_delete(struct ipamd *, const char *name,
		    const char *actor, ipamd_pool_cb *, void *arg, char *err,
		    size_t errlen);
/* A reservation added to or removed from a run-time pool's definition
 * (audited as reserve/unreserve). */
int		 ipamd_pool_reserve(struct ipamd *, const char *pool,
		    const struct ipaddr *, const char *name, const char *actor,
		    ipamd_pool_cb *, void *arg, char *err, size_t errlen);
int		 ipamd_pool_unreserve(struct ipamd *, const char *pool,
		    const struct ipaddr *, const char *actor, ipamd_pool_cb *,
		    void *arg, char *err, size_t errlen);
/*
 * DNS registration (dnsreg.c, through dns/): an allocation named by a
 * dns-name label or its pool's template.  "pending", "registered" or
 * "failed: REASON" into buf and the name into *fqdn; NULL when the
 * allocation has no name to register.
 */
#define DNS_STATE_MAX	256
const char	*ipamd_dns_state(const struct ipamd *, const char *pool,
		    const char *resource, char *buf, size_t len,
		    const char **fqdn);
/* The definition of a pool: the config file's block (*runtime false)
 * or the run-time one; NULL when there is none. */
const struct conf_ipam_pool *ipamd_pool_definition(const struct ipamd *,
		    const char *name, bool *runtime);

#endif
