/*
 * Fixed-size object allocator.  Objects come from 64 KiB blocks carved
 * into equal cells, with a free list threaded through free cells, so a
 * million small RIB objects cost their size and not malloc's per-object
 * header and rounding.  slab_destroy() frees every block at once:
 * memory is owned by lifetime, as BIRD's slabs are.
 */
#ifndef COMMON_SLAB_H
#define COMMON_SLAB_H

#include <stddef.h>

struct slab;

struct slab	*slab_create(size_t objsize);
void		*slab_alloc(struct slab *);	/* zeroed */
void		 slab_free(struct slab *, void *);
void		 slab_destroy(struct slab *);
size_t		 slab_in_use(const struct slab *);	/* objects */
size_t		 slab_bytes(const struct slab *);	/* blocks held */

#endif
