/*
 * The prefix table (common/prefix_table.h): nested and repeated
 * prefixes of both families, /0 and host routes, an empty table, a
 * refill; and, for thousands of random prefixes and addresses, the
 * same entries as the plain walk with prefix_contains() over every
 * prefix, in the promised order (longer first, equal ones as added).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/prefix_table.h"

#define HITS_MAX	8192

/* What a lookup saw, in order. */
struct hits {
	const struct prefix_table_entry *e[HITS_MAX];
	size_t		 n;
	size_t		 stop_after;	/* 0: never stop */
};

static bool
hits_cb(const struct prefix_table_entry *e, void *arg)
{
	struct hits *h = arg;

	/* Plain ifs in the hot paths: each check assertion passed is a
	 * message to the parent process. */
	if (h->n == HITS_MAX)
		ck_abort_msg("more than %d hits", HITS_MAX);
	h->e[h->n++] = e;
	return h->stop_after == 0 || h->n < h->stop_after;
}

static struct hits hits;

/* The entries holding text, in the order the table gives them. */
static size_t
lookup(const struct prefix_table *t, const char *text)
{
	struct ipaddr ip;
	size_t seen;

	ck_assert_int_eq(ipaddr_parse(text, &ip), 0);
	memset(&hits, 0, sizeof(hits));
	seen = prefix_table_match(t, &ip, hits_cb, &hits);
	ck_assert_uint_eq(seen, hits.n);
	return seen;
}

static void
add(struct prefix_table *t, const char *text, void *value)
{
	struct prefix p;

	ck_assert_int_eq(prefix_parse(text, &p, true), 0);
	prefix_table_add(t, &p, value);
}

/* The values of the hits, as names, separated by spaces. */
static const char *
hit_names(void)
{
	static char buf[256];

	buf[0] = '\0';
	for (size_t i = 0; i < hits.n; i++) {
		if (i > 0)
			strcat(buf, " ");
		strcat(buf, hits.e[i]->value);
	}
	return buf;
}

START_TEST(test_empty)
{
	struct prefix_table t;

	memset(&t, 0, sizeof(t));
	ck_assert_uint_eq(lookup(&t, "10.0.0.1"), 0);
	prefix_table_build(&t);
	ck_assert_uint_eq(lookup(&t, "10.0.0.1"), 0);
	ck_assert_uint_eq(lookup(&t, "2001:db8::1"), 0);
	prefix_table_free(&t);
}
END_TEST

START_TEST(test_nested_v4)
{
	struct prefix_table t;

	memset(&t, 0, sizeof(t));
	add(&t, "10.1.2.0/24", "c");
	add(&t, "10.0.0.0/8", "a");
	add(&t, "::/0", "v6-all");
	add(&t, "10.1.2.3/32", "d");
	add(&t, "0.0.0.0/0", "all");
	add(&t, "10.1.0.0/16", "b");
	add(&t, "10.2.0.0/16", "b2");
	prefix_table_build(&t);
	ck_assert_uint_eq(lookup(&t, "10.1.2.3"), 5);
	ck_assert_str_eq(hit_names(), "d c b a all");
	ck_assert_uint_eq(lookup(&t, "10.1.2.4"), 4);
	ck_assert_str_eq(hit_names(), "c b a all");
	ck_assert_uint_eq(lookup(&t, "10.2.255.255"), 3);
	ck_assert_str_eq(hit_names(), "b2 a all");
	ck_assert_uint_eq(lookup(&t, "192.0.2.1"), 1);
	ck_assert_str_eq(hit_names(), "all");
	ck_assert_uint_eq(lookup(&t, "255.255.255.255"), 1);
	ck_assert_uint_eq(lookup(&t, "2001:db8::1"), 1);
	ck_assert_str_eq(hit_names(), "v6-all");
	prefix_table_free(&t);
}
END_TEST

START_TEST(test_nested_v6)
{
	struct prefix_table t;

	memset(&t, 0, sizeof(t));
	add(&t, "2001:db8::/32", "site");
	add(&t, "2001:db8::1/128", "host");
	add(&t, "2001:db8::/64", "lan");
	add(&t, "::/0", "all");
	add(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "top");
	add(&t, "10.0.0.0/8", "v4");
	prefix_table_build(&t);
	ck_assert_uint_eq(lookup(&t, "2001:db8::1"), 4);
	ck_assert_str_eq(hit_names(), "host lan site all");
	ck_assert_uint_eq(lookup(&t, "2001:db8::2"), 3);
	ck_assert_str_eq(hit_names(), "lan site all");
	ck_assert_uint_eq(lookup(&t, "2001:db8:0:1::1"), 2);
	ck_assert_str_eq(hit_names(), "site all");
	ck_assert_uint_eq(lookup(&t, "2001:db9::1"), 1);
	ck_assert_uint_eq(lookup(&t,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 2);
	ck_assert_str_eq(hit_names(), "top all");
	ck_assert_uint_eq(lookup(&t,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), 1);
	/* No IPv4 address is in an IPv6 prefix, mapped or not. */
	ck_assert_uint_eq(lookup(&t, "192.0.2.1"), 0);
	ck_assert_uint_eq(lookup(&t, "::ffff:10.0.0.1"), 1);
	ck_assert_str_eq(hit_names(), "all");
	prefix_table_free(&t);
}
END_TEST

/* Two tenants with one prefix, one of them twice: every owner, in the
 * order added; a callback that says stop is not called again. */
START_TEST(test_equal_prefixes)
{
	struct prefix_table t;
	struct ipaddr ip;

	memset(&t, 0, sizeof(t));
	add(&t, "10.0.0.0/24", "red");
	add(&t, "10.0.1.0/24", "red-b");
	add(&t, "10.0.0.0/24", "blue");
	add(&t, "10.0.0.0/16", "outer");
	add(&t, "10.0.0.0/24", "green");
	add(&t, "9.255.255.0/24", "below");
	prefix_table_build(&t);
	ck_assert_uint_eq(lookup(&t, "10.0.0.9"), 4);
	ck_assert_str_eq(hit_names(), "red blue green outer");
	ck_assert_uint_eq(lookup(&t, "10.0.1.9"), 2);
	ck_assert_str_eq(hit_names(), "red-b outer");

	ck_assert_int_eq(ipaddr_parse("10.0.0.9", &ip), 0);
	memset(&hits, 0, sizeof(hits));
	hits.stop_after = 2;
	ck_assert_uint_eq(prefix_table_match(&t, &ip, hits_cb, &hits), 2);
	ck_assert_str_eq(hit_names(), "red blue");
	prefix_table_free(&t);
}
END_TEST

/* Host bits are cleared on the way in; an unbuilt table after adding
 * is built again; a cleared table holds nothing of before. */
START_TEST(test_mask_rebuild_clear)
{
	struct prefix_table t;

	memset(&t, 0, sizeof(t));
	add(&t, "10.1.2.3/24", "loose");
	prefix_table_build(&t);
	ck_assert_uint_eq(lookup(&t, "10.1.2.200"), 1);
	ck_assert_str_eq(hit_names(), "loose");
	add(&t, "10.1.0.0/16", "later");
	prefix_table_build(&t);
	ck_assert_uint_eq(lookup(&t, "10.1.2.200"), 2);
	ck_assert_str_eq(hit_names(), "loose later");

	prefix_table_clear(&t);
	add(&t, "192.0.2.0/24", "new");
	prefix_table_build(&t);
	ck_assert_uint_eq(lookup(&t, "10.1.2.200"), 0);
	ck_assert_uint_eq(lookup(&t, "192.0.2.7"), 1);
	ck_assert_str_eq(hit_names(), "new");
	ck_assert_uint_eq(t.v[0].seq, 0);
	prefix_table_free(&t);
}
END_TEST

/* ---- against the plain walk ---- */

static uint64_t rng_state;

static uint64_t
rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* Bytes from a few values, so prefixes repeat and nest; now and then
 * any byte. */
static void
random_addr(struct ipaddr *a, int af)
{
	static const uint8_t few[] = { 0x00, 0x0a, 0x80, 0xfe, 0xff };

	memset(a, 0, sizeof(*a));
	a->af = (uint8_t)af;
	for (size_t i = 0; i < ipaddr_len(a); i++)
		a->u.b[i] = rng() % 16 == 0 ? (uint8_t)rng() :
		    few[rng() % sizeof(few)];
}

static int
random_af(void)
{
	return rng() % 2 ? AF_INET : AF_INET6;
}

static void
random_prefix(struct prefix *p)
{
	random_addr(&p->addr, random_af());
	p->len = (uint8_t)(rng() % (ipaddr_len(&p->addr) * 8 + 1));
	prefix_mask(p);
}

/* An address in p: its bits past the length random. */
static void
random_addr_in(struct ipaddr *a, const struct prefix *p)
{
	struct prefix hostbits;

	random_addr(a, p->addr.af);
	hostbits.addr = *a;
	hostbits.len = p->len;
	prefix_mask(&hostbits);
	for (size_t i = 0; i < ipaddr_len(a); i++)
		a->u.b[i] = p->addr.u.b[i] |
		    (a->u.b[i] ^ hostbits.addr.u.b[i]);
}

/* What is wrong with hit i of the table's answer: seen twice, not the
 * value added with it, out of order; NULL when nothing. */
static const char *
hit_fault(const struct prefix *pfx, const bool *got, size_t i)
{
	const struct prefix_table_entry *e = hits.e[i], *prev;

	if (got[e->seq])
		return "twice";
	if (e->value != &pfx[e->seq])
		return "another value";
	if (i == 0)
		return NULL;
	prev = hits.e[i - 1];
	if (prev->prefix.len < e->prefix.len)
		return "a longer prefix after a shorter one";
	if (prefix_cmp(&prev->prefix, &e->prefix) == 0 && prev->seq > e->seq)
		return "equal prefixes not in the order added";
	return NULL;
}

/* The table's answer for ip equals the walk's over the added prefixes
 * (pfx[seq]), each entry once, longer prefixes first, equal prefixes
 * in the order added. */
static void
check_against_walk(const struct prefix_table *t, const struct prefix *pfx,
    size_t n, const struct ipaddr *ip, uint64_t seed)
{
	static bool got[HITS_MAX];
	char a[IPADDR_STRLEN];
	const char *fault;

	hits.n = 0;
	hits.stop_after = 0;
	prefix_table_match(t, ip, hits_cb, &hits);
	memset(got, 0, n * sizeof(*got));
	for (size_t i = 0; i < hits.n; i++) {
		if ((fault = hit_fault(pfx, got, i)) != NULL)
			ck_abort_msg("seed %llu, %s: hit %zu (prefix %zu): %s",
			    (unsigned long long)seed,
			    ipaddr_fmt(ip, a, sizeof(a)), i, hits.e[i]->seq,
			    fault);
		got[hits.e[i]->seq] = true;
	}
	for (size_t i = 0; i < n; i++)
		if (prefix_contains(&pfx[i], ip) != got[i])
			ck_abort_msg("seed %llu, %s: prefix %zu: the walk "
			    "says %d, the table %d", (unsigned long long)seed,
			    ipaddr_fmt(ip, a, sizeof(a)), i, !got[i], got[i]);
}

/* n random prefixes, then queries: addresses inside a random one of
 * them and random addresses.  The number of hits in all. */
static size_t
compare_random(uint64_t seed, size_t n, size_t queries)
{
	struct prefix_table t;
	struct prefix *pfx = calloc(n, sizeof(*pfx));
	struct ipaddr ip;
	size_t total = 0;

	ck_assert_ptr_nonnull(pfx);
	rng_state = seed;
	memset(&t, 0, sizeof(t));
	for (size_t i = 0; i < n; i++) {
		random_prefix(&pfx[i]);
		prefix_table_add(&t, &pfx[i], &pfx[i]);
	}
	prefix_table_build(&t);
	for (size_t k = 0; k < queries; k++) {
		if (k % 2 == 0)
			random_addr_in(&ip, &pfx[rng() % n]);
		else
			random_addr(&ip, random_af());
		check_against_walk(&t, pfx, n, &ip, seed);
		total += hits.n;
	}
	prefix_table_free(&t);
	free(pfx);
	return total;
}

START_TEST(test_random_against_walk)
{
	/* Few prefixes, many repeats; then many. */
	ck_assert_uint_ge(compare_random(1, 16, 2000), 1000);
	ck_assert_uint_ge(compare_random(0x9e3779b97f4a7c15ull, 300, 3000),
	    1500);
	ck_assert_uint_ge(compare_random(20240601, 4000, 4000), 2000);
	ck_assert_uint_ge(compare_random(77, 1000, 20000), 10000);
}
END_TEST

static Suite *
prefix_table_suite(void)
{
	Suite *s = suite_create("prefix_table");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_nested_v4);
	tcase_add_test(tc, test_nested_v6);
	tcase_add_test(tc, test_equal_prefixes);
	tcase_add_test(tc, test_mask_rebuild_clear);
	tcase_add_test(tc, test_random_against_walk);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(prefix_table_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
