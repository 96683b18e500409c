/*
 * A table of prefixes, each with a value, that answers which prefixes
 * hold an address: every one of them, not only the longest, since
 * prefixes may repeat (several owners of one prefix) and nest.
 *
 * How this works: the entries are added, then built once: sorted by
 * (family, length, masked address) and cut into groups of one family
 * and one length.  A lookup masks the address to each group's length,
 * longest first, and finds the masked address in that group by binary
 * search; equal prefixes lie next to each other and are all visited, in
 * the order they were added.  That is O(lengths x log n) per address
 * instead of a walk over all n.  Prefixes are masked on the way in.
 * Adding after a build needs another build before the next lookup.
 *
 * An all-zero struct prefix_table is an empty table.
 */
#ifndef COMMON_PREFIX_TABLE_H
#define COMMON_PREFIX_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/addr.h"

struct prefix_table_entry {
	struct prefix	 prefix;	/* masked */
	void		*value;
	size_t		 seq;		/* the order of adding, from 0 */
};

/* The entries of one family and one prefix length: [start, end). */
struct prefix_table_group {
	uint8_t		 af;
	uint8_t		 len;
	size_t		 start;
	size_t		 end;
};

struct prefix_table {
	struct prefix_table_entry	*v;
	size_t				 n;
	size_t				 cap;
	struct prefix_table_group	*groups;
	size_t				 ngroups;
	size_t				 capgroups;
	bool				 built;
};

/* Called for each entry holding the address; false stops the walk. */
typedef bool	(*prefix_table_cb)(const struct prefix_table_entry *, void *);

void	 prefix_table_add(struct prefix_table *, const struct prefix *,
	    void *value);
/* Sort what was added so lookups can run. */
void	 prefix_table_build(struct prefix_table *);
/* Drop the entries, keep the memory for the next fill. */
void	 prefix_table_clear(struct prefix_table *);
void	 prefix_table_free(struct prefix_table *);
/*
 * cb for every entry whose prefix holds ip: longer prefixes first,
 * equal prefixes in the order added.  The number of entries cb saw.
 * The table must be built.
 */
size_t	 prefix_table_match(const struct prefix_table *,
	    const struct ipaddr *ip, prefix_table_cb cb, void *arg);

#endif
