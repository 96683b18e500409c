/*
 * The prefix table: sorted entries, groups of one family and length,
 * a binary search per group.  See prefix_table.h.
 */
#include "common/prefix_table.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

void
prefix_table_add(struct prefix_table *t, const struct prefix *p,
    void *value)
{
	struct prefix_table_entry *e;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
	}
	e = &t->v[t->n];
	e->prefix = *p;
	prefix_mask(&e->prefix);
	e->value = value;
	e->seq = t->n++;
	t->built = false;
}

/* Family, then length, then address; equal prefixes in the order added. */
static int
entry_cmp(const void *a, const void *b)
{
	const struct prefix_table_entry *x = a, *y = b;

	if (x->prefix.addr.af != y->prefix.addr.af)
		return x->prefix.addr.af < y->prefix.addr.af ? -1 : 1;
	if (x->prefix.len != y->prefix.len)
		return x->prefix.len < y->prefix.len ? -1 : 1;
	if (ipaddr_cmp(&x->prefix.addr, &y->prefix.addr) != 0)
		return ipaddr_cmp(&x->prefix.addr, &y->prefix.addr);
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
group_open(struct prefix_table *t, const struct prefix *p, size_t start)
{
	struct prefix_table_group *g;

	if (t->ngroups == t->capgroups) {
		t->capgroups = t->capgroups ? t->capgroups * 2 : 8;
		t->groups = xrealloc(t->groups,
		    t->capgroups * sizeof(*t->groups));
	}
	g = &t->groups[t->ngroups++];
	g->af = p->addr.af;
	g->len = p->len;
	g->start = start;
	g->end = start;
}

void
prefix_table_build(struct prefix_table *t)
{
	const struct prefix *p;
	struct prefix_table_group *last;

	if (t->n > 0)
		qsort(t->v, t->n, sizeof(*t->v), entry_cmp);
	t->ngroups = 0;
	for (size_t i = 0; i < t->n; i++) {
		p = &t->v[i].prefix;
		last = t->ngroups > 0 ? &t->groups[t->ngroups - 1] : NULL;
		if (last == NULL || last->af != p->addr.af ||
		    last->len != p->len)
			group_open(t, p, i);
		t->groups[t->ngroups - 1].end = i + 1;
	}
	t->built = true;
}

void
prefix_table_clear(struct prefix_table *t)
{
	t->n = 0;
	t->ngroups = 0;
	t->built = false;
}

void
prefix_table_free(struct prefix_table *t)
{
	free(t->v);
	free(t->groups);
	memset(t, 0, sizeof(*t));
}

/* The first entry of g whose address is not below a. */
static size_t
group_lower_bound(const struct prefix_table *t,
    const struct prefix_table_group *g, const struct ipaddr *a)
{
	size_t lo = g->start, hi = g->end, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ipaddr_cmp(&t->v[mid].prefix.addr, a) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t
prefix_table_match(const struct prefix_table *t, const struct ipaddr *ip,
    prefix_table_cb cb, void *arg)
{
	const struct prefix_table_group *g;
	struct prefix key;
	size_t seen = 0;

	if (!t->built && t->n > 0)
		fatalx("prefix table: a lookup before the build");
	for (size_t k = t->ngroups; k-- > 0;) {
		g = &t->groups[k];
		if (g->af != ip->af)
			continue;
		key.addr = *ip;
		key.len = g->len;
		prefix_mask(&key);
		for (size_t i = group_lower_bound(t, g, &key.addr);
		    i < g->end && ipaddr_cmp(&t->v[i].prefix.addr,
		    &key.addr) == 0; i++) {
			seen++;
			if (!cb(&t->v[i], arg))
				return seen;
		}
	}
	return seen;
}
