/*
 * A counted set of MAC addresses.
 *
 * How this works: each distinct MAC has one small node with a count in
 * a keyed hash (common/hash.h: the MACs may come from peers).  Adding
 * a MAC counts one more holder, removing one counts one fewer, and the
 * node goes when the last holder does, so several holders of one MAC
 * (two routes naming one router MAC, two VNIs with one bridge MAC) need
 * not know of each other.  Add and remove return the count after them:
 * the owner sees when a MAC enters (1) and leaves (0) the set.
 */
#ifndef COMMON_MACSET_H
#define COMMON_MACSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/hash.h"

struct macset {
	struct hash_table t;
};

void		 macset_init(struct macset *);
/* Forget every MAC. */
void		 macset_free(struct macset *);
/* One more holder of mac: the count now. */
uint32_t	 macset_add(struct macset *, const struct macaddr *);
/* One holder fewer: the count now (0: mac left the set); -1 and ENOENT
 * when mac is not in the set. */
int64_t		 macset_del(struct macset *, const struct macaddr *);
/* Holders of mac (0: not in the set). */
uint32_t	 macset_refs(const struct macset *, const struct macaddr *);
/* Distinct MACs in the set. */
size_t		 macset_count(const struct macset *);
/* Each MAC once, in no particular order; the set must not change
 * meanwhile. */
void		 macset_foreach(const struct macset *,
		    void (*cb)(const struct macaddr *, uint32_t refs, void *),
		    void *);

#endif
