#include "common/slab.h"
#include "common/log.h"
#include "common/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SLAB_BLOCK	(64 * 1024)

struct slab_block {
	struct slab_block *next;
	/* cells follow, aligned to 16 */
};

struct slab_cell {
	struct slab_cell *next;
};

struct slab {
	size_t		 objsize;
	size_t		 per_block;
	size_t		 in_use;
	size_t		 nblocks;
	struct slab_block *blocks;
	struct slab_cell *free;
};

#define BLOCK_HDR	((sizeof(struct slab_block) + 15) & ~(size_t)15)

struct slab *
slab_create(size_t objsize)
{
	struct slab *s = xcalloc(1, sizeof(*s));

	if (objsize < sizeof(struct slab_cell))
		objsize = sizeof(struct slab_cell);
	s->objsize = (objsize + 7) & ~(size_t)7;
	s->per_block = (SLAB_BLOCK - BLOCK_HDR) / s->objsize;
	if (s->per_block == 0)
		fatalx("slab object of %zu bytes too large", objsize);
	return s;
}

static void
slab_grow(struct slab *s)
{
	struct slab_block *b = xmalloc(SLAB_BLOCK);
	uint8_t *cells = (uint8_t *)b + BLOCK_HDR;

	b->next = s->blocks;
	s->blocks = b;
	s->nblocks++;
	/* Thread cells in address order so allocation walks memory forward. */
	for (size_t i = s->per_block; i > 0; i--) {
		struct slab_cell *c = (void *)(cells + (i - 1) * s->objsize);

		c->next = s->free;
		s->free = c;
	}
}

void *
slab_alloc(struct slab *s)
{
	struct slab_cell *c;

	if (s->free == NULL)
		slab_grow(s);
	c = s->free;
	s->free = c->next;
	s->in_use++;
	memset(c, 0, s->objsize);
	return c;
}

void
slab_free(struct slab *s, void *p)
{
	struct slab_cell *c = p;

	if (p == NULL)
		return;
	c->next = s->free;
	s->free = c;
	s->in_use--;
}

void
slab_destroy(struct slab *s)
{
	struct slab_block *b, *next;

	if (s == NULL)
		return;
	for (b = s->blocks; b; b = next) {
		next = b->next;
		free(b);
	}
	free(s);
}

size_t
slab_in_use(const struct slab *s)
{
	return s->in_use;
}

size_t
slab_bytes(const struct slab *s)
{
	return s->nblocks * SLAB_BLOCK;
}
