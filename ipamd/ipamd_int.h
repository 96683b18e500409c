/*
 * Internal to ipamd/: the daemon-side IPAM state shared by ipamd.c
 * (allocations, releases, life cycle), pools.c (pools made and changed
 * at run time) and dnsreg.c (DNS registration of allocations).  Not
 * part of the ipamd/ contract.
 */
#ifndef IPAMD_IPAMD_INT_H
#define IPAMD_IPAMD_INT_H

#include "common/queue.h"
#include "ipamd/ipamd.h"

struct config;
struct conf_ipam_dns;
struct dnsreg;
struct event_base;

/* A pool made over the API: its definition and what is under way. */
enum rt_pool_state {
	RT_POOL_READY,
	RT_POOL_CREATING,	/* committed: then added to the allocator */
	RT_POOL_UPDATING,	/* committed: then reshaped */
	RT_POOL_DELETING,	/* committed: then removed */
};

struct rt_pool {
	TAILQ_ENTRY(rt_pool)	 entry;
	char			 name[IPAM_NAME_MAX + 1];
	struct config		*def;	/* holds the one pool; NULL while
					 * being created */
	struct config		*next;	/* the definition being committed */
	enum rt_pool_state	 state;
};
TAILQ_HEAD(rt_pool_list, rt_pool);

struct ipamd {
	struct event_base	*base;
	struct ipam		*ipam;
	struct ipam_store	*store;
	struct evpn		*evpn;
	struct shadowd		*shadowd;	/* shadow inventory */
	struct fabricd		*fabricd;	/* fabric pools, if wired */
	struct dnsreg		*dns;		/* DNS registration */
	const struct config	*conf;		/* the running config */
	struct rt_pool_list	 rt_pools;	/* creation order */
	uint64_t		 inflight;	/* submitted, not called back */
};

/* pools.c */
struct rt_pool	*rt_pool_find(const struct ipamd *, const char *name);
/* The pool takes no allocation while a change of it commits. */
bool		 rt_pool_busy(const struct ipamd *, const char *name);
/* The store's loader (ipam_store_open_with): adds a run-time pool. */
int		 rt_pools_conflict(const struct ipamd *,
		    const struct conf_ipam_pool *, char *, size_t);
int		 rt_pool_load(const char *name, const char *definition,
		    void *arg);
void		 rt_pools_free(struct ipamd *);
/* Turn the pool's shadow inventory on, change or off as its definition
 * says (at start and after each committed change). */
void		 rt_pool_shadow(struct ipamd *, const struct rt_pool *);
/* Fill a spec from a config block (arrays malloc'd, freed by
 * spec_free); runtime as the pool's origin. */
void		 spec_from_conf(struct ipam_pool_spec *,
		    const struct conf_ipam_pool *, bool runtime);
void		 spec_free(struct ipam_pool_spec *);
/* A submission counted in inflight; -1 EIO when the store refuses. */
int		 ipamd_submit(struct ipamd *, const struct ipam_op *,
		    ipam_done_cb, void *);

/* dnsreg.c */
struct dnsreg	*dnsreg_create(struct event_base *);
void		 dnsreg_free(struct dnsreg *);
/* A pool's DNS settings, at start and after every change: names under
 * older settings leave their zone, the pool's allocations are put in
 * under the new ones (nothing when unchanged). */
void		 dnsreg_pool(struct ipamd *, const char *pool,
		    const struct conf_ipam_dns *);
void		 dnsreg_pool_gone(struct ipamd *, const char *pool);
/* A committed allocation or claim; a committed release. */
void		 dnsreg_alloc(struct ipamd *, const struct ipam_alloc *);
void		 dnsreg_release(struct ipamd *, const char *pool,
		    const char *resource);
/* The name of an allocation: 1 when none is asked (no dns-name label,
 * no template), 0 with the absolute name in out, -1 when it is not a
 * valid name in the zone or is its apex (out holds it). */
int		 dnsreg_fqdn(const struct conf_ipam_dns *, const char *pool,
		    const struct ipam_alloc *, char *out, size_t len);

#endif
