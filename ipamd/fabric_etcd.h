/*
 * The fabric pools' datastore operations (ipam/fabric.h) on etcd
 * (datastore/etcd.h): key layout, JSON values, results.  daemon/ creates
 * it from the "ipam datastore etcd" block and hands fabric_etcd_ops with
 * it to ipamd; nothing else knows that the datastore is etcd.
 *
 * Keys, under the configured key-prefix P (default /evpnd):
 *   P/ipam/pools/POOL                    the pool's definition
 *	{"tenant", "prefixes": [...], "blockSize", "routerId", "vtep"}
 *   P/ipam/TENANT/POOL/blocks/CIDR       a block and its owner
 *	{"routerId", "vtep", "claimed"}
 *   P/ipam/TENANT/POOL/loans/ADDRESS     an offered or borrowed address
 *	{"owner": {"routerId", "vtep"}, "borrower": {...}}  (no borrower:
 *	an offer)
 *   P/convergence/ROUTER-ID              measured convergence, see
 *					  fabric_conv.h
 * A key's mod_revision is the revision the fabric manager compares on.
 * Values are read as hostile: a key or value that does not parse is
 * left out of the answer (and logged once per listing).
 */
#ifndef IPAMD_FABRIC_ETCD_H
#define IPAMD_FABRIC_ETCD_H

#include <stddef.h>

#include "ipam/fabric.h"

struct event_base;
struct conf_ipam_datastore;
struct fabric_etcd;

extern const struct ipam_fabric_ops fabric_etcd_ops;

/* NULL with err filled when the client cannot be made (URL, TLS). */
struct fabric_etcd *fabric_etcd_create(struct event_base *,
		    const struct conf_ipam_datastore *, const char *key_prefix,
		    char *err, size_t errlen);
/* The client, for the fabric's other keys (fabric_conv.h). */
struct ds_etcd	*fabric_etcd_client(const struct fabric_etcd *);
/* Answers still under way run (failed) before this returns. */
void		 fabric_etcd_free(struct fabric_etcd *);

#endif
