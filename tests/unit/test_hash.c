/*
 * The hash table (common/hash.h) and SipHash.  SipHash-2-4 is checked
 * against the test vectors of the reference implementation (key
 * 00 01 .. 0f, message 00 01 .. n-1 for n = 0..63; entry 15 is the
 * example of the paper's Appendix A); SipHash-1-3 against OpenSSL's
 * EVP_MAC "SIPHASH" with c-rounds 1, d-rounds 3.  Outputs are the
 * 8 output bytes read as a little-endian number.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/byteorder.h"
#include "common/hash.h"

static const uint64_t siphash24_vectors[64] = {
	0x726fdb47dd0e0e31ull, 0x74f839c593dc67fdull, 0x0d6c8009d9a94f5aull,
	0x85676696d7fb7e2dull, 0xcf2794e0277187b7ull, 0x18765564cd99a68dull,
	0xcbc9466e58fee3ceull, 0xab0200f58b01d137ull, 0x93f5f5799a932462ull,
	0x9e0082df0ba9e4b0ull, 0x7a5dbbc594ddb9f3ull, 0xf4b32f46226bada7ull,
	0x751e8fbc860ee5fbull, 0x14ea5627c0843d90ull, 0xf723ca908e7af2eeull,
	0xa129ca6149be45e5ull, 0x3f2acc7f57c29bdbull, 0x699ae9f52cbe4794ull,
	0x4bc1b3f0968dd39cull, 0xbb6dc91da77961bdull, 0xbed65cf21aa2ee98ull,
	0xd0f2cbb02e3b67c7ull, 0x93536795e3a33e88ull, 0xa80c038ccd5ccec8ull,
	0xb8ad50c6f649af94ull, 0xbce192de8a85b8eaull, 0x17d835b85bbb15f3ull,
	0x2f2e6163076bcfadull, 0xde4daaaca71dc9a5ull, 0xa6a2506687956571ull,
	0xad87a3535c49ef28ull, 0x32d892fad841c342ull, 0x7127512f72f27cceull,
	0xa7f32346f95978e3ull, 0x12e0b01abb051238ull, 0x15e034d40fa197aeull,
	0x314dffbe0815a3b4ull, 0x027990f029623981ull, 0xcadcd4e59ef40c4dull,
	0x9abfd8766a33735cull, 0x0e3ea96b5304a7d0ull, 0xad0c42d6fc585992ull,
	0x187306c89bc215a9ull, 0xd4a60abcf3792b95ull, 0xf935451de4f21df2ull,
	0xa9538f0419755787ull, 0xdb9acddff56ca510ull, 0xd06c98cd5c0975ebull,
	0xe612a3cb9ecba951ull, 0xc766e62cfcadaf96ull, 0xee64435a9752fe72ull,
	0xa192d576b245165aull, 0x0a8787bf8ecb74b2ull, 0x81b3e73d20b49b6full,
	0x7fa8220ba3b2eceaull, 0x245731c13ca42499ull, 0xb78dbfaf3a8d83bdull,
	0xea1ad565322a1a0bull, 0x60e61c23a3795013ull, 0x6606d7e446282b93ull,
	0x6ca4ecb15c5f91e1ull, 0x9f626da15c9625f3ull, 0xe51b38608ef25f57ull,
	0x958a324ceb064572ull,
};

static const uint64_t siphash13_vectors[16] = {
	0xabac0158050fc4dcull, 0xc9f49bf37d57ca93ull, 0x82cb9b024dc7d44dull,
	0x8bf80ab8e7ddf7fbull, 0xcf75576088d38328ull, 0xdef9d52f49533b67ull,
	0xc50d2b50c59f22a7ull, 0xd3927d989bb11140ull, 0x369095118d299a8eull,
	0x25a48eb36c063de4ull, 0x79de85ee92ff097full, 0x70c118c1f94dc352ull,
	0x78a384b157b4d9a2ull, 0x306f760c1229ffa7ull, 0x605aa111c0f95d34ull,
	0xd320d86d2a519956ull,
};

static void
vector_key_msg(uint8_t key[16], uint8_t msg[64])
{
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
}

START_TEST(test_siphash24_vectors)
{
	uint8_t key[16], msg[64];

	vector_key_msg(key, msg);
	for (size_t n = 0; n < 64; n++)
		ck_assert_msg(siphash24(key, msg, n) == siphash24_vectors[n],
		    "SipHash-2-4 of %zu bytes", n);
}
END_TEST

START_TEST(test_siphash13_vectors)
{
	uint8_t key[16], msg[64];

	vector_key_msg(key, msg);
	for (size_t n = 0; n < 16; n++)
		ck_assert_msg(siphash13(key, msg, n) == siphash13_vectors[n],
		    "SipHash-1-3 of %zu bytes", n);
}
END_TEST

/* ---- the process key ---- */

static const char *const key_probes[] = { "", "a", "10.0.0.1", "vni 100" };

static void
print_keyed(void)
{
	for (size_t i = 0; i < 4; i++)
		printf("%08x", hash_bytes_keyed(key_probes[i],
		    strlen(key_probes[i])));
	printf("\n");
}

/* What a fresh run of this program prints for --print-keyed. */
static void
keyed_of_new_process(char *out, size_t len)
{
	char exe[4096], cmd[4200];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *f;

	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	snprintf(cmd, sizeof(cmd), "'%s' --print-keyed", exe);
	ck_assert_ptr_nonnull(f = popen(cmd, "r"));
	ck_assert_ptr_nonnull(fgets(out, (int)len, f));
	ck_assert_int_eq(pclose(f), 0);
	ck_assert_uint_eq(strlen(out), 33);
}

START_TEST(test_keyed_stable_in_process_new_per_process)
{
	char a[64], b[64];

	ck_assert_uint_eq(hash_bytes_keyed("x", 1), hash_bytes_keyed("x", 1));
	ck_assert_uint_ne(hash_bytes_keyed("x", 1), hash_bytes_keyed("y", 1));
	keyed_of_new_process(a, sizeof(a));
	keyed_of_new_process(b, sizeof(b));
	ck_assert_str_ne(a, b);
}
END_TEST

/* ---- the table ---- */

struct obj {
	struct hash_node node;
	uint32_t	 key;
	uint32_t	 hash;
	bool		 seen;
};

static uint32_t
obj_hash(const struct hash_node *n)
{
	return hash_entry(n, struct obj, node)->hash;
}

static bool
obj_equal(const struct hash_node *n, const void *key)
{
	return hash_entry(n, struct obj, node)->key == *(const uint32_t *)key;
}

static const struct hash_ops obj_ops = { obj_hash, obj_equal };

/* Keys hash by hash_bytes_keyed, or all into one chain. */
static bool one_chain;

static uint32_t
key_hash(uint32_t key)
{
	uint8_t b[4];

	if (one_chain)
		return 7;
	be32_store(b, key);
	return hash_bytes_keyed(b, sizeof(b));
}

static struct obj *
objs_make(size_t n)
{
	struct obj *o = calloc(n, sizeof(*o));

	ck_assert_ptr_nonnull(o);
	for (size_t i = 0; i < n; i++) {
		o[i].key = (uint32_t)i * 2654435761u;
		o[i].hash = key_hash(o[i].key);
	}
	return o;
}

static struct obj *
find(const struct hash_table *t, uint32_t key)
{
	struct hash_node *n = hash_find(t, key_hash(key), &key);

	return n ? hash_entry(n, struct obj, node) : NULL;
}

#define NOBJ	5000

static void
insert_all(struct hash_table *t, struct obj *o, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hash_insert(t, &o[i].node);
}

START_TEST(test_insert_find_grow)
{
	struct hash_table t;
	struct obj *o;
	uint32_t gen;

	one_chain = _i == 1;
	o = objs_make(NOBJ);
	hash_init(&t, &obj_ops, 100);
	ck_assert_uint_eq(t.nbuckets, 128);
	gen = t.generation;
	insert_all(&t, o, NOBJ);
	ck_assert_uint_eq(hash_count(&t), NOBJ);
	/* Doubled at load 1: the next power of two at or above NOBJ. */
	ck_assert_uint_eq(t.nbuckets, 8192);
	ck_assert_uint_eq(hash_memory(&t), 8192 * sizeof(void *));
	ck_assert_uint_ne(t.generation, gen);
	for (size_t i = 0; i < NOBJ; i++)
		ck_assert_ptr_eq(find(&t, o[i].key), &o[i]);
	ck_assert_ptr_null(find(&t, 1));
	hash_free(&t);
	free(o);
}
END_TEST

START_TEST(test_remove)
{
	struct hash_table t;
	struct obj *o;

	one_chain = _i == 1;
	o = objs_make(NOBJ);
	hash_init(&t, &obj_ops, 0);
	ck_assert_uint_eq(hash_memory(&t), 0);
	insert_all(&t, o, NOBJ);
	for (size_t i = 0; i < NOBJ; i += 2)
		hash_remove(&t, &o[i].node);
	ck_assert_uint_eq(hash_count(&t), NOBJ / 2);
	for (size_t i = 0; i < NOBJ; i++)
		ck_assert_ptr_eq(find(&t, o[i].key), i % 2 ? &o[i] : NULL);
	for (size_t i = 1; i < NOBJ; i += 2)
		hash_remove(&t, &o[i].node);
	/* Created with 0 buckets: nothing held once empty. */
	ck_assert_uint_eq(hash_count(&t), 0);
	ck_assert_uint_eq(hash_memory(&t), 0);
	ck_assert_ptr_null(find(&t, o[1].key));
	insert_all(&t, o, 3);
	ck_assert_ptr_eq(find(&t, o[2].key), &o[2]);
	hash_free(&t);
	free(o);
}
END_TEST

START_TEST(test_remove_absent_aborts)
{
	struct hash_table t;
	struct obj *o = objs_make(2);

	hash_init(&t, &obj_ops, 16);
	hash_insert(&t, &o[0].node);
	hash_remove(&t, &o[1].node);
}
END_TEST

START_TEST(test_find_next_visits_every_match)
{
	struct hash_table t;
	struct obj *o;
	struct hash_node *n;
	uint32_t key = 42;
	size_t matches = 0;

	one_chain = true;
	o = objs_make(10);
	for (size_t i = 0; i < 10; i++)
		o[i].key = i % 3 ? key : (uint32_t)i;
	hash_init(&t, &obj_ops, 0);
	insert_all(&t, o, 10);
	for (n = hash_find(&t, 7, &key); n; n = hash_find_next(&t, n, &key)) {
		ck_assert_uint_eq(hash_entry(n, struct obj, node)->key, key);
		matches++;
	}
	ck_assert_uint_eq(matches, 6);
	hash_free(&t);
	free(o);
}
END_TEST

START_TEST(test_iterate_removing_current)
{
	struct hash_table t;
	struct hash_iter it;
	struct hash_node *n;
	struct obj *o;
	size_t visits = 0;

	one_chain = _i == 1;
	o = objs_make(NOBJ);
	hash_init(&t, &obj_ops, 0);
	insert_all(&t, o, NOBJ);
	HASH_FOREACH(n, &it, &t) {
		struct obj *x = hash_entry(n, struct obj, node);

		ck_assert(!x->seen);
		x->seen = true;
		visits++;
		if ((x - o) % 2 == 0)
			hash_remove(&t, n);
	}
	ck_assert_uint_eq(visits, NOBJ);
	ck_assert_uint_eq(hash_count(&t), NOBJ / 2);
	/* Removing every node as it is visited empties (and frees) it. */
	visits = 0;
	HASH_FOREACH(n, &it, &t) {
		ck_assert_uint_eq((hash_entry(n, struct obj, node) - o) % 2, 1);
		hash_remove(&t, n);
		visits++;
	}
	ck_assert_uint_eq(visits, NOBJ / 2);
	ck_assert_uint_eq(hash_memory(&t), 0);
	hash_free(&t);
	free(o);
}
END_TEST

/* A walk paused at a bucket boundary while the table grew starts over
 * and still meets every object. */
START_TEST(test_paused_walk_survives_growth)
{
	struct hash_table t;
	struct hash_iter it;
	struct hash_node *n;
	struct obj *o = objs_make(NOBJ);
	size_t steps = 0;

	hash_init(&t, &obj_ops, 1024);
	insert_all(&t, o, NOBJ / 4);
	hash_iter_init(&it, &t);
	while (steps < 100 || !hash_iter_at_boundary(&it)) {
		ck_assert_ptr_nonnull(n = hash_iter_next(&it));
		steps++;
	}
	insert_all(&t, o + NOBJ / 4, NOBJ - NOBJ / 4);	/* grows */
	while ((n = hash_iter_next(&it)) != NULL)
		hash_entry(n, struct obj, node)->seen = true;
	for (size_t i = 0; i < NOBJ; i++)
		ck_assert(o[i].seen);
	hash_free(&t);
	free(o);
}
END_TEST

static Suite *
hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *tc = tcase_create("siphash");

	tcase_add_test(tc, test_siphash24_vectors);
	tcase_add_test(tc, test_siphash13_vectors);
	tcase_add_test(tc, test_keyed_stable_in_process_new_per_process);
	suite_add_tcase(s, tc);
	tc = tcase_create("table");
	/* Loop index 1: every key in one chain. */
	tcase_add_loop_test(tc, test_insert_find_grow, 0, 2);
	tcase_add_loop_test(tc, test_remove, 0, 2);
	tcase_add_test_raise_signal(tc, test_remove_absent_aborts, SIGABRT);
	tcase_add_test(tc, test_find_next_visits_every_match);
	tcase_add_loop_test(tc, test_iterate_removing_current, 0, 2);
	tcase_add_test(tc, test_paused_walk_survives_growth);
	suite_add_tcase(s, tc);
	return s;
}

int
main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	if (argc > 1 && strcmp(argv[1], "--print-keyed") == 0) {
		print_keyed();
		return 0;
	}
	sr = srunner_create(hash_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
