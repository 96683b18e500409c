/*
 * A counted set of MAC addresses: see macset.h.
 */
#include "common/macset.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>

struct macset_node {
	struct hash_node hn;
	uint32_t	 hash;
	uint32_t	 refs;
	struct macaddr	 mac;
};

static uint32_t
macset_hash(const struct macaddr *mac)
{
	return hash_bytes_keyed(mac->b, sizeof(mac->b));
}

static uint32_t
node_hash(const struct hash_node *n)
{
	return hash_entry(n, struct macset_node, hn)->hash;
}

static bool
node_equal(const struct hash_node *n, const void *mac)
{
	return mac_cmp(&hash_entry(n, struct macset_node, hn)->mac,
	    mac) == 0;
}

static const struct hash_ops macset_ops = { node_hash, node_equal };

static struct macset_node *
macset_find(const struct macset *s, const struct macaddr *mac)
{
	struct hash_node *n = hash_find(&s->t, macset_hash(mac), mac);

	return n != NULL ? hash_entry(n, struct macset_node, hn) : NULL;
}

void
macset_init(struct macset *s)
{
	hash_init(&s->t, &macset_ops, 0);
}

void
macset_free(struct macset *s)
{
	struct hash_iter it;
	struct hash_node *n;

	HASH_FOREACH(n, &it, &s->t) {
		hash_remove(&s->t, n);
		free(hash_entry(n, struct macset_node, hn));
	}
	hash_free(&s->t);
}

uint32_t
macset_add(struct macset *s, const struct macaddr *mac)
{
	struct macset_node *m = macset_find(s, mac);

	if (m == NULL) {
		m = xcalloc(1, sizeof(*m));
		m->mac = *mac;
		m->hash = macset_hash(mac);
		hash_insert(&s->t, &m->hn);
	}
	return ++m->refs;
}

int64_t
macset_del(struct macset *s, const struct macaddr *mac)
{
	struct macset_node *m = macset_find(s, mac);
	uint32_t left;

	if (m == NULL) {
		errno = ENOENT;
		return -1;
	}
	if ((left = --m->refs) == 0) {
		hash_remove(&s->t, &m->hn);
		free(m);
	}
	return left;
}

uint32_t
macset_refs(const struct macset *s, const struct macaddr *mac)
{
	const struct macset_node *m = macset_find(s, mac);

	return m != NULL ? m->refs : 0;
}

size_t
macset_count(const struct macset *s)
{
	return hash_count(&s->t);
}

void
macset_foreach(const struct macset *s,
    void (*cb)(const struct macaddr *, uint32_t, void *), void *arg)
{
	struct hash_iter it;
	struct hash_node *n;

	HASH_FOREACH(n, &it, &s->t) {
		const struct macset_node *m = hash_entry(n,
		    struct macset_node, hn);

		cb(&m->mac, m->refs, arg);
	}
}
