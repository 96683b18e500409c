/*
 * How many flow records per second trafficd's pool map can place: the
 * walk over every pool prefix (as trafficd did) against the prefix
 * table (common/prefix_table.h).  POOLS pools, each with an IPv4 /24
 * and an IPv6 /64, every tenth repeated by another tenant and every
 * fifth with a /26 of a third inside; records whose source or
 * destination lies in a random pool, one in four in none.  Prints one
 * JSON line.  Usage: prefix_table_bench [POOLS [RECORDS]].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/addr.h"
#include "common/prefix_table.h"
#include "common/util.h"

struct record {
	struct ipaddr	 src;
	struct ipaddr	 dst;
};

struct map {
	struct prefix	*pfx;
	size_t		 n;
	unsigned	*pool;		/* of each prefix */
	unsigned	*mark;		/* per pool */
	unsigned	 round;
	struct prefix_table t;
};

static uint64_t rng_state = 88172645463325252ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
map_add(struct map *m, const char *text, unsigned pool)
{
	if (prefix_parse(text, &m->pfx[m->n], false) == -1) {
		fprintf(stderr, "bad prefix %s\n", text);
		exit(1);
	}
	m->pool[m->n] = pool;
	prefix_table_add(&m->t, &m->pfx[m->n], &m->pool[m->n]);
	m->n++;
}

static void
map_fill(struct map *m, unsigned pools)
{
	char text[PREFIX_STRLEN];
	unsigned next = pools;		/* pools of the other tenants */

	m->pfx = xcalloc(pools * 4, sizeof(*m->pfx));
	m->pool = xcalloc(pools * 4, sizeof(*m->pool));
	for (unsigned i = 0; i < pools; i++) {
		snprintf(text, sizeof(text), "10.%u.%u.0/24", i / 256, i % 256);
		map_add(m, text, i);
		if (i % 10 == 0)
			map_add(m, text, next++);
		if (i % 5 == 0) {
			snprintf(text, sizeof(text), "10.%u.%u.0/26", i / 256,
			    i % 256);
			map_add(m, text, next++);
		}
		snprintf(text, sizeof(text), "2001:db8:%x:%x::/64", i / 256,
		    i % 256);
		map_add(m, text, i);
	}
	m->mark = xcalloc(next, sizeof(*m->mark));
	prefix_table_build(&m->t);
}

/* An address of pool i (IPv4 or IPv6), or of none. */
static void
random_addr(struct ipaddr *a, unsigned pools)
{
	char text[IPADDR_STRLEN];
	unsigned i = (unsigned)(rng() % pools), host = (unsigned)(rng() % 256);

	if (rng() % 4 == 0)
		snprintf(text, sizeof(text), "192.0.2.%u", host);
	else if (rng() % 2)
		snprintf(text, sizeof(text), "10.%u.%u.%u", i / 256, i % 256,
		    host);
	else
		snprintf(text, sizeof(text), "2001:db8:%x:%x::%x", i / 256,
		    i % 256, host);
	ipaddr_parse(text, a);
}

static unsigned
count_pool(struct map *m, unsigned pool)
{
	if (m->mark[pool] == m->round)
		return 0;
	m->mark[pool] = m->round;
	return 1;
}

static unsigned
walk_record(struct map *m, const struct record *r)
{
	unsigned n = 0;

	m->round++;
	for (size_t i = 0; i < m->n; i++)
		if (prefix_contains(&m->pfx[i], &r->src) ||
		    prefix_contains(&m->pfx[i], &r->dst))
			n += count_pool(m, m->pool[i]);
	return n;
}

struct table_count {
	struct map	*m;
	unsigned	 n;
};

static bool
table_cb(const struct prefix_table_entry *e, void *arg)
{
	struct table_count *c = arg;

	c->n += count_pool(c->m, *(const unsigned *)e->value);
	return true;
}

static unsigned
table_record(struct map *m, const struct record *r)
{
	struct table_count c = { m, 0 };

	m->round++;
	prefix_table_match(&m->t, &r->src, table_cb, &c);
	prefix_table_match(&m->t, &r->dst, table_cb, &c);
	return c.n;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Records per second through fn; the pools counted in all. */
static double
run(struct map *m, const struct record *r, size_t n,
    unsigned (*fn)(struct map *, const struct record *), uint64_t *hits)
{
	double t0 = now();

	*hits = 0;
	for (size_t i = 0; i < n; i++)
		*hits += fn(m, &r[i]);
	return (double)n / (now() - t0);
}

int
main(int argc, char **argv)
{
	unsigned pools = argc > 1 ? (unsigned)atoi(argv[1]) : 500;
	size_t nrec = argc > 2 ? (size_t)atol(argv[2]) : 200000;
	struct map m;
	struct record *r;
	uint64_t walk_hits, table_hits;
	double walk, table;

	if (pools == 0 || pools > 65536 || nrec == 0) {
		fprintf(stderr, "usage: prefix_table_bench [POOLS [RECORDS]]\n");
		return 2;
	}
	memset(&m, 0, sizeof(m));
	map_fill(&m, pools);
	r = xcalloc(nrec, sizeof(*r));
	for (size_t i = 0; i < nrec; i++) {
		random_addr(&r[i].src, pools);
		random_addr(&r[i].dst, pools);
	}
	walk = run(&m, r, nrec, walk_record, &walk_hits);
	table = run(&m, r, nrec, table_record, &table_hits);
	printf("{\"pools\": %u, \"prefixes\": %zu, \"records\": %zu, "
	    "\"walkRecordsPerS\": %.0f, \"tableRecordsPerS\": %.0f, "
	    "\"sameCounts\": %s}\n", pools, m.n, nrec, walk, table,
	    walk_hits == table_hits ? "true" : "false");
	prefix_table_free(&m.t);
	free(m.pfx);
	free(m.pool);
	free(m.mark);
	free(r);
	return walk_hits == table_hits ? 0 : 1;
}
