/*
 * Fabric pools in the daemon (the fabric IPAM issue): ipam/'s fabric
 * manager on the event loop, and the allocation requests that wait for
 * it.
 *
 * How this works: ipamd_allocate() hands a new resource of a fabric pool
 * to fabricd_allocate().  It allocates at once when the pool may hand
 * out addresses and one is free in this VTEP's blocks (the common case,
 * no datastore round trip).  Otherwise the request is parked: until the
 * BGP sessions delivered their initial tables, or, on ENOSPC, until the
 * manager reports space (a block claimed, an address borrowed or an
 * offer taken back) or failure.  Parked requests are retried in arrival
 * order; a failure answers them with its errno and message (503 for an
 * unreachable datastore, a refused pool or no answer within
 * FABRICD_WAIT_S, 409 for an exhausted pool), and nothing is left
 * half-allocated: an allocation either commits whole or never starts.
 * After each allocation the manager may claim the next block ahead of
 * time; the shadow inventory's forecast (where the pool has one) sets
 * how much ahead.
 */
#ifndef IPAMD_FABRICD_H
#define IPAMD_FABRICD_H

#include <stdbool.h>
#include <stddef.h>

#include "ipamd/ipamd.h"
#include "ipam/fabric.h"

#define FABRICD_WAIT_S		10	/* a parked request waits at most */

struct config;
struct event_base;
struct fabricd;

struct fabricd	*fabricd_create(struct ipamd *, struct event_base *,
		    const struct config *, const struct ipam_fabric_ops *,
		    void *ds, const struct ipam_fabric_owner *me);
/* Answer every parked request (ESHUTDOWN) and stop the manager. */
void		 fabricd_stop(struct fabricd *);
void		 fabricd_free(struct fabricd *);
struct ipam_fabric *fabricd_fabric(const struct fabricd *);
bool		 fabricd_handles(const struct fabricd *, const char *pool);
int		 fabricd_allocate(struct fabricd *, const char *pool,
		    const struct ipam_request *, const char *actor, ipamd_cb *,
		    void *arg);
/* Configuration changes the fabric side cannot take live. */
int		 fabricd_reload_check(const struct config *running,
		    const struct config *next, char *err, size_t errlen);

#endif
