/*
 * Fabric pools: block arithmetic (IPv4, IPv6, block sizes), derived
 * MACs, and the fabric manager of several VTEPs sharing one in-memory
 * datastore (fake_datastore.h) wired at ipam/fabric.h's seam: claim
 * races, allocation bursts with borrowing, offer/take races, an
 * unreachable datastore, restarts, definition mismatches, idle release
 * and reclaim.  Each VTEP is the real allocator, the real SQLite store
 * (in a temporary directory) and the real manager; the assertions read
 * what each VTEP handed out and what the datastore holds.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "ipam/fabric.h"
#include "ipam/ipam.h"
#include "tests/unit/fake_datastore.h"

#define NVTEP	3

static int64_t test_now = 1700000000;

static int64_t
test_clock(void *arg)
{
	return test_now;
}

/* Pools */

struct pool_def {
	const char	*name;
	const char	*tenant;
	const char	*pfx[3];
	uint8_t		 block_size;
	bool		 borrow;
	uint32_t	 idle;
	uint32_t	 quarantine;
};

static const struct pool_def train = { "train", "a",
    { "10.10.0.0/22", "2001:db8:100::/64" }, 26, true, 600, 30 };
static const struct pool_def small = { "small", "a", { "10.20.0.0/24" },
    28, true, 600, 0 };
static const struct pool_def tiny = { "tiny", "a", { "10.40.0.0/28" },
    28, false, 600, 0 };
/* One block only: a second VTEP can but borrow. */
static const struct pool_def one = { "one", "a", { "10.30.0.0/28" }, 28,
    true, 600, 0 };

static int
pool_add(struct ipam *ipam, const struct pool_def *d, char *err, size_t len)
{
	struct ipam_pool_spec spec;
	struct prefix pfx[3];

	memset(&spec, 0, sizeof(spec));
	spec.name = d->name;
	spec.tenant = d->tenant;
	spec.vni = 100;
	for (int i = 0; i < 3 && d->pfx[i] != NULL; i++)
		ck_assert_int_eq(prefix_parse(d->pfx[i],
		    &pfx[spec.nprefixes++], false), 0);
	spec.prefixes = pfx;
	spec.quarantine = d->quarantine;
	spec.fabric = true;
	spec.block_size = d->block_size;
	spec.borrow = d->borrow;
	spec.idle_release = d->idle;
	return ipam_pool_add(ipam, &spec, err, len);
}

/* VTEPs */

struct vtep {
	int		 id;
	char		 dir[256];
	struct ipam	*ipam;
	struct ipam_store *store;
	struct ipam_fabric *fab;
	int		 events;
	int		 space;
	int		 failed;
	int		 last_err;
	char		 last_msg[256];
};

static struct event_base *base;
static struct fake_ds *ds;
static struct vtep vt[NVTEP];

static void
on_event(void *arg, const char *pool, enum ipam_fabric_event ev, int fam,
    int err, const char *msg)
{
	struct vtep *v = arg;

	v->events++;
	if (ev == IPAM_FABRIC_SPACE)
		v->space++;
	if (ev == IPAM_FABRIC_FAILED) {
		v->failed++;
		v->last_err = err;
		snprintf(v->last_msg, sizeof(v->last_msg), "%s", msg);
	}
}

/* Commit what the stores hold, deliver every answer and event, until
 * nothing moves. */
static void
pump(void)
{
	for (int i = 0; i < 100; i++) {
		for (int v = 0; v < NVTEP; v++)
			if (vt[v].fab != NULL)
				ipam_store_flush(vt[v].store);
		fake_ds_run(ds);
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (fake_ds_queued(ds) == 0 && i > 0)
			break;
	}
	event_base_loop(base, EVLOOP_NONBLOCK);
}

static void
vtep_open_dir(struct vtep *v, int id, const struct pool_def *const *pools,
    bool fresh_dir)
{
	struct ipam_fabric_owner me;
	char err[256];

	v->id = id;
	if (fresh_dir) {
		snprintf(v->dir, sizeof(v->dir), "%s/test_fabric_XXXXXX",
		    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		ck_assert_ptr_nonnull(mkdtemp(v->dir));
	}
	v->ipam = ipam_new();
	ipam_set_clock(v->ipam, test_clock, NULL);
	for (; *pools != NULL; pools++)
		ck_assert_int_eq(pool_add(v->ipam, *pools, err, sizeof(err)),
		    0);
	v->store = ipam_store_open(v->dir, base, v->ipam, err, sizeof(err));
	ck_assert_msg(v->store != NULL, "%s", err);
	memset(&me, 0, sizeof(me));
	snprintf(me.router_id, sizeof(me.router_id), "10.0.0.%d", id);
	ipaddr_parse(me.router_id, &me.vtep);
	v->fab = ipam_fabric_new(base, v->ipam, v->store, &fake_ds_ops, ds,
	    &me);
	ipam_fabric_set_hooks(v->fab, on_event, NULL, v);
	ipam_fabric_start(v->fab, 0);
	ipam_fabric_set_ready(v->fab);
	pump();
}

static void
vtep_open(struct vtep *v, int id, const struct pool_def *p)
{
	const struct pool_def *pools[] = { p, NULL };

	vtep_open_dir(v, id, pools, true);
}

/* Stop as a SIGTERM would; the directory stays for a restart. */
static void
vtep_stop(struct vtep *v)
{
	ipam_fabric_stop(v->fab);
	pump();
	ipam_store_close(v->store);
	ipam_fabric_free(v->fab);
	ipam_free(v->ipam);
	v->fab = NULL;
}

static void
vtep_close(struct vtep *v)
{
	char cmd[600];

	if (v->fab != NULL)
		vtep_stop(v);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", v->dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void
setup(void)
{
	base = event_base_new();
	ds = fake_ds_new(base);
	memset(vt, 0, sizeof(vt));
}

static void
teardown(void)
{
	for (int i = 0; i < NVTEP; i++)
		if (vt[i].dir[0] != '\0')
			vtep_close(&vt[i]);
	fake_ds_free(ds);
	event_base_free(base);
}

/* Allocating: commit as the daemon does; on ENOSPC ask and wait. */
static void
commit(struct vtep *v, const struct ipam_alloc *a)
{
	struct ipam_op op;

	ipam_op_alloc(&op, a, "test");
	ck_assert_int_eq(ipam_store_submit(v->store, &op, NULL, NULL), 0);
	ipam_fabric_check(v->fab, a->pool);
}

static int
try_alloc(struct vtep *v, const char *pool, const char *res,
    enum ipam_family fam, const struct ipam_alloc **out)
{
	struct ipam_request req = { .resource = res, .family = fam };
	bool existing;

	if (ipam_allocate(v->ipam, pool, &req, out, &existing) == -1)
		return errno;
	commit(v, *out);
	return 0;
}

/* 0, or the error of the want that failed. */
static int
alloc_wait(struct vtep *v, const char *pool, const char *res,
    enum ipam_family fam, const struct ipam_alloc **out)
{
	for (int tries = 0; tries < 20; tries++) {
		int err = try_alloc(v, pool, res, fam, out);

		if (err != ENOSPC)
			return err;
		v->space = v->failed = 0;
		ipam_fabric_want(v->fab, pool, fam);
		for (int i = 0; i < 50 && v->space == 0 && v->failed == 0; i++)
			pump();
		if (v->failed)
			return v->last_err;
	}
	return ETIMEDOUT;
}

static void
tick_all(void)
{
	for (int i = 0; i < NVTEP; i++)
		if (vt[i].fab != NULL)
			ipam_fabric_tick(vt[i].fab);
	pump();
}

/* Block counts of one VTEP */

static size_t
blocks_of(struct vtep *v, const char *pool, const char *kind)
{
	struct ipam_pool_stats st;
	struct ipam_pool *p = ipam_pool_find(v->ipam, pool);

	ipam_pool_stats(p, &st);
	if (strcmp(kind, "borrowed") == 0)
		return st.v4.borrowed + st.v6.borrowed;
	return st.v4.blocks + st.v6.blocks;
}

/* Block arithmetic */

START_TEST(test_block_arith)
{
	struct ipam *ipam = ipam_new();
	struct ipam_pool *p;
	struct prefix b, two[2];
	ipam_u128 idx;
	char buf[64], err[256];
	struct pool_def d = { "multi", NULL, { "10.0.0.0/24", "10.1.0.0/25",
	    "2001:db8:100::/64" }, 26, true, 0, 0 };

	ck_assert_int_eq(pool_add(ipam, &train, err, sizeof(err)), 0);
	ck_assert_int_eq(pool_add(ipam, &d, err, sizeof(err)), 0);
	p = ipam_pool_find(ipam, "train");
	ck_assert_uint_eq(ipam_block_len(p, 0), 26);
	ck_assert_uint_eq(ipam_block_len(p, 1), 122);
	ck_assert(ipam_block_count(p, 0) == 16);
	ck_assert_int_eq(ipam_block_nth(p, 0, 0, &b), 0);
	ck_assert_str_eq(prefix_fmt(&b, buf, sizeof(buf)), "10.10.0.0/26");
	ck_assert_int_eq(ipam_block_nth(p, 0, 15, &b), 0);
	ck_assert_str_eq(prefix_fmt(&b, buf, sizeof(buf)), "10.10.3.192/26");
	ck_assert_int_eq(ipam_block_nth(p, 0, 16, &b), -1);
	ck_assert_int_eq(ipam_block_nth(p, 1, 1, &b), 0);
	ck_assert_str_eq(prefix_fmt(&b, buf, sizeof(buf)),
	    "2001:db8:100::40/122");
	/* IPv6 blocks: as far as a derived MAC numbers them (2^39 / 64). */
	ck_assert(ipam_block_count(p, 1) == ((ipam_u128)1 << 33));
	prefix_parse("10.10.1.64/26", &b, false);
	ck_assert_int_eq(ipam_block_index(p, &b, &idx), 0);
	ck_assert(idx == 5);
	ipaddr_parse("10.10.1.96", &b.addr);		/* not aligned */
	b.len = 26;
	ck_assert_int_eq(ipam_block_index(p, &b, &idx), -1);
	prefix_parse("10.10.1.64/27", &b, false);	/* not a block */
	ck_assert_int_eq(ipam_block_index(p, &b, &idx), -1);
	prefix_parse("10.11.0.0/26", &b, false);	/* not the pool's */
	ck_assert_int_eq(ipam_block_index(p, &b, &idx), -1);

	/* Several prefixes: numbered across them in file order. */
	p = ipam_pool_find(ipam, "multi");
	ck_assert(ipam_block_count(p, 0) == 6);
	ck_assert_int_eq(ipam_block_nth(p, 0, 4, &two[0]), 0);
	ck_assert_str_eq(prefix_fmt(&two[0], buf, sizeof(buf)),
	    "10.1.0.0/26");
	ck_assert_int_eq(ipam_block_index(p, &two[0], &idx), 0);
	ck_assert(idx == 4);
	ipam_free(ipam);

	/* A prefix smaller than a block is refused. */
	ipam = ipam_new();
	d.pfx[0] = "10.0.0.0/28";
	d.pfx[1] = d.pfx[2] = NULL;
	ck_assert_int_eq(pool_add(ipam, &d, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "pool multi: prefix 10.0.0.0/28 is smaller "
	    "than a block (/26)");
	ipam_free(ipam);
}
END_TEST

/* Block sizes: the same count of addresses in both families. */
START_TEST(test_block_sizes)
{
	static const uint8_t sizes[] = { 16, 24, 28, 30 };
	char err[256], buf[64];
	struct prefix b;

	for (size_t i = 0; i < sizeof(sizes); i++) {
		struct ipam *ipam = ipam_new();
		struct pool_def d = train;
		struct ipam_pool *p;

		d.block_size = sizes[i];
		ck_assert_int_eq(pool_add(ipam, &d, err, sizeof(err)),
		    sizes[i] > 22 ? 0 : -1);
		if (sizes[i] <= 22) {
			ipam_free(ipam);
			continue;
		}
		p = ipam_pool_find(ipam, "train");
		ck_assert(ipam_block_count(p, 0) ==
		    ((ipam_u128)1 << (sizes[i] - 22)));
		ck_assert_int_eq(ipam_block_nth(p, 1, 3, &b), 0);
		ck_assert_uint_eq(b.len, 96 + sizes[i]);
		ck_assert_int_eq(ipam_block_nth(p, 0, 1, &b), 0);
		ck_assert_str_eq(prefix_fmt(&b, buf, sizeof(buf)), sizes[i] ==
		    24 ? "10.10.1.0/24" : sizes[i] == 28 ? "10.10.0.16/28" :
		    "10.10.0.4/30");
		ipam_free(ipam);
	}
}
END_TEST

/* Derived MACs: the family bit, then the offset in the family space. */
START_TEST(test_mac_derived)
{
	const struct ipam_alloc *a4, *a6;
	struct vtep *v = &vt[0];
	char buf[32];

	vtep_open(v, 1, &train);
	ck_assert_int_eq(alloc_wait(v, "train", "ep1", IPAM_FAMILY_IPV4,
	    &a4), 0);
	ck_assert_str_eq(ipaddr_fmt(&a4->ip, buf, sizeof(buf)), "10.10.0.1");
	ck_assert_str_eq(mac_fmt(&a4->mac, buf, sizeof(buf)),
	    "02:00:00:00:00:01");
	ck_assert_int_eq(alloc_wait(v, "train", "ep2", IPAM_FAMILY_IPV6,
	    &a6), 0);
	ck_assert_str_eq(ipaddr_fmt(&a6->ipv6, buf, sizeof(buf)),
	    "2001:db8:100::1");
	ck_assert_str_eq(mac_fmt(&a6->mac, buf, sizeof(buf)),
	    "02:80:00:00:00:01");
	ck_assert_ptr_eq(ipam_find_mac(v->ipam, "train", &a6->mac), a6);
}
END_TEST

/* A fabric pool derives MACs from addresses: the addresses deriving a
 * reserved MAC are skipped, and refused when asked for. */
START_TEST(test_mac_reserved)
{
	struct ipam_request req = { .resource = "asks",
	    .family = IPAM_FAMILY_IPV4 };
	const struct ipam_alloc *a;
	struct vtep *v = &vt[0];
	struct macaddr rmac;
	char buf[32], res[8];
	bool existing;

	vtep_open(v, 1, &train);
	mac_parse("02:00:00:00:00:02", &rmac);
	ipam_mac_reserve(v->ipam, &rmac);
	for (int i = 1; i <= 3; i++) {
		snprintf(res, sizeof(res), "ep%d", i);
		ck_assert_int_eq(alloc_wait(v, "train", res, IPAM_FAMILY_IPV4,
		    &a), 0);
		ck_assert_int_ne(mac_cmp(&a->mac, &rmac), 0);
	}
	ck_assert_str_eq(ipaddr_fmt(&a->ip, buf, sizeof(buf)), "10.10.0.4");
	ipaddr_parse("10.10.0.2", &req.ip);
	ck_assert_int_eq(ipam_allocate(v->ipam, "train", &req, &a, &existing),
	    -1);
	ck_assert_int_eq(errno, EADDRINUSE);
	ck_assert_int_eq(ipam_mac_unreserve(v->ipam, &rmac), 0);
	ck_assert_int_eq(ipam_allocate(v->ipam, "train", &req, &a, &existing),
	    0);
	ck_assert_str_eq(mac_fmt(&a->mac, buf, sizeof(buf)),
	    "02:00:00:00:00:02");
	commit(v, a);
}
END_TEST

static struct ipam_family_stats
v4_stats(struct vtep *v, const char *pool)
{
	struct ipam_pool_stats st;

	ipam_pool_stats(ipam_pool_find(v->ipam, pool), &st);
	return st.v4;
}

/* Allocate until ENOSPC; how many, and the resource given ip (if). */
static int
alloc_all(struct vtep *v, const char *pool, const char *ip, char *holder,
    size_t len)
{
	const struct ipam_alloc *a;
	char buf[32], res[16];
	int n = 0, err;

	for (;;) {
		snprintf(res, sizeof(res), "x%d", n);
		if ((err = try_alloc(v, pool, res, IPAM_FAMILY_IPV4, &a)) != 0)
			break;
		n++;
		if (strcmp(ipaddr_fmt(&a->ip, buf, sizeof(buf)), ip) == 0)
			snprintf(holder, len, "%s", res);
	}
	ck_assert_int_eq(err, ENOSPC);
	return n;
}

/* A reservation (a peer's router MAC) holds an address back only while
 * it lasts: once withdrawn, the address deriving it is handed out
 * again, whether the cursor passed it or it came back from quarantine;
 * what the stats call free is what can be allocated. */
START_TEST(test_mac_reserved_returns)
{
	const struct ipam_alloc *a;
	struct ipam_family_stats st;
	struct vtep *v = &vt[0];
	struct macaddr rmac;
	char buf[32], holder[16] = "";
	int n;

	vtep_open(v, 1, &tiny);
	mac_parse("02:00:00:00:00:01", &rmac);
	ipam_mac_reserve(v->ipam, &rmac);
	ck_assert_int_eq(alloc_wait(v, "tiny", "ep", IPAM_FAMILY_IPV4, &a), 0);
	ck_assert_str_eq(ipaddr_fmt(&a->ip, buf, sizeof(buf)), "10.40.0.2");
	ck_assert_int_eq(ipam_mac_unreserve(v->ipam, &rmac), 0);
	st = v4_stats(v, "tiny");
	ck_assert_uint_eq(st.used, 1);
	ck_assert(st.owned == 14 && st.owned_free == 13);
	n = alloc_all(v, "tiny", "10.40.0.1", holder, sizeof(holder));
	ck_assert_int_eq(n, 13);
	ck_assert_str_ne(holder, "");
	st = v4_stats(v, "tiny");
	ck_assert(st.used == 14 && st.owned_free == 0 && st.free == 0);

	/* Out of quarantine while reserved: kept back, not lost. */
	ck_assert_int_eq(ipam_release(v->ipam, "a", holder, NULL, NULL), 0);
	ipam_mac_reserve(v->ipam, &rmac);
	ck_assert_int_eq(try_alloc(v, "tiny", "q0", IPAM_FAMILY_IPV4, &a),
	    ENOSPC);
	ck_assert_int_eq(try_alloc(v, "tiny", "q1", IPAM_FAMILY_IPV4, &a),
	    ENOSPC);
	st = v4_stats(v, "tiny");
	ck_assert(st.used == 13 && st.quarantined == 0 &&
	    st.owned_free == 1 && st.free == 1);
	ck_assert_int_eq(ipam_mac_unreserve(v->ipam, &rmac), 0);
	ck_assert_int_eq(try_alloc(v, "tiny", "q2", IPAM_FAMILY_IPV4, &a), 0);
	ck_assert_str_eq(ipaddr_fmt(&a->ip, buf, sizeof(buf)), "10.40.0.1");
	ck_assert_str_eq(mac_fmt(&a->mac, buf, sizeof(buf)),
	    "02:00:00:00:00:01");
	st = v4_stats(v, "tiny");
	ck_assert(st.used == 14 && st.owned_free == 0);
}
END_TEST

/* Nothing is handed out before a block is owned; the first want claims
 * the lowest block and the allocation lands in it. */
START_TEST(test_alloc_needs_block)
{
	const struct ipam_alloc *a;
	struct ipam_fabric_block b[4];
	struct vtep *v = &vt[0];
	char buf[64];

	vtep_open(v, 1, &train);
	ck_assert_int_eq(try_alloc(v, "train", "ep1", IPAM_FAMILY_DUAL, &a),
	    ENOSPC);
	ck_assert_uint_eq(fake_ds_blocks(ds, "train", b, 4), 0);
	ck_assert_int_eq(alloc_wait(v, "train", "ep1", IPAM_FAMILY_DUAL, &a),
	    0);
	ck_assert_uint_eq(fake_ds_blocks(ds, "train", b, 4), 2);
	ck_assert_str_eq(b[0].owner.router_id, "10.0.0.1");
	ck_assert_str_eq(prefix_fmt(&b[0].prefix, buf, sizeof(buf)),
	    "10.10.0.0/26");
	ck_assert_str_eq(prefix_fmt(&b[1].prefix, buf, sizeof(buf)),
	    "2001:db8:100::/122");
	ck_assert_str_eq(ipaddr_fmt(&a->ip, buf, sizeof(buf)), "10.10.0.1");
	ck_assert_uint_eq(blocks_of(v, "train", "block"), 2);
}
END_TEST

/* Before the BGP tables are in, the pool is not usable. */
START_TEST(test_not_ready)
{
	struct ipam_fabric_owner me = { "10.0.0.9", { 0 } };
	struct ipam *ipam = ipam_new();
	struct ipam_fabric *fab;
	char err[256], why[256];

	ck_assert_int_eq(pool_add(ipam, &train, err, sizeof(err)), 0);
	fab = ipam_fabric_new(base, ipam, NULL, &fake_ds_ops, ds, &me);
	ck_assert_int_eq(ipam_fabric_usable(fab, "train", why, sizeof(why)),
	    -1);
	ck_assert_int_eq(errno, EAGAIN);
	ipam_fabric_set_ready(fab);
	ck_assert_int_eq(ipam_fabric_usable(fab, "train", why, sizeof(why)),
	    0);
	ipam_fabric_free(fab);
	ipam_free(ipam);
}
END_TEST

/* Two VTEPs want at once: both go for the lowest block, one loses and
 * takes the next. */
START_TEST(test_claim_race)
{
	struct ipam_fabric_stats st[2];
	struct ipam_fabric_block b[8];
	size_t n;

	vtep_open(&vt[0], 1, &small);
	vtep_open(&vt[1], 2, &small);
	ipam_fabric_want(vt[0].fab, "small", IPAM_FAMILY_IPV4);
	ipam_fabric_want(vt[1].fab, "small", IPAM_FAMILY_IPV4);
	pump();
	ck_assert_int_eq(vt[0].space, 1);
	ck_assert_int_eq(vt[1].space, 1);
	n = fake_ds_blocks(ds, "small", b, 8);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_ne(b[0].owner.router_id, b[1].owner.router_id);
	ipam_fabric_stats(vt[0].fab, &st[0]);
	ipam_fabric_stats(vt[1].fab, &st[1]);
	ck_assert_uint_eq(st[0].claims + st[1].claims, 2);
	ck_assert_uint_eq(st[0].claims_lost + st[1].claims_lost, 1);
	ck_assert_uint_eq(blocks_of(&vt[0], "small", "block"), 1);
	ck_assert_uint_eq(blocks_of(&vt[1], "small", "block"), 1);
}
END_TEST

/* Every address and MAC any VTEP handed out, checked for duplicates. */
struct seen {
	char		 ip[300][48];
	char		 mac[300][24];
	size_t		 n;
};

static int
seen_add(const struct ipam_alloc *a, void *arg)
{
	struct seen *s = arg;

	ck_assert_uint_lt(s->n, 300);
	ipaddr_fmt(&a->ip, s->ip[s->n], sizeof(s->ip[0]));
	mac_fmt(&a->mac, s->mac[s->n], sizeof(s->mac[0]));
	for (size_t i = 0; i < s->n; i++) {
		ck_assert_str_ne(s->ip[i], s->ip[s->n]);
		ck_assert_str_ne(s->mac[i], s->mac[s->n]);
	}
	s->n++;
	return 0;
}

/*
 * Three VTEPs allocate from a /24 of /28 blocks, interleaved, until the
 * pool is exhausted.  The first stops at cap allocations for a while, so
 * it still has free addresses when the others run out: they borrow.
 * Then it goes on.  Every address but network and broadcast is handed
 * out exactly once, with a MAC of its own.
 */
static void
burst(int *n, int cap)
{
	int waiting[NVTEP] = { 0 }, idle_rounds = 0;
	char res[32];

	while (idle_rounds < 8) {
		bool progress = false;

		for (int i = 0; i < NVTEP; i++) {
			const struct ipam_alloc *a;
			int err;

			if ((waiting[i] && vt[i].space + vt[i].failed == 0) ||
			    (i == 0 && n[0] >= cap))
				continue;
			waiting[i] = 0;
			snprintf(res, sizeof(res), "v%d-%d", i, n[i]);
			err = try_alloc(&vt[i], "small", res,
			    IPAM_FAMILY_IPV4, &a);
			if (err == 0) {
				n[i]++;
				progress = true;
				continue;
			}
			ck_assert_int_eq(err, ENOSPC);
			vt[i].space = vt[i].failed = 0;
			waiting[i] = 1;
			ipam_fabric_want(vt[i].fab, "small", IPAM_FAMILY_IPV4);
		}
		pump();
		if (!progress) {
			/* Nothing free here now: owners may offer. */
			test_now += 2;
			tick_all();
			idle_rounds++;
		} else
			idle_rounds = 0;
	}
}

START_TEST(test_burst_three_vteps)
{
	static struct seen seen;
	struct ipam_fabric_stats st;
	int n[NVTEP] = { 0 };
	uint64_t borrows = 0;

	for (int i = 0; i < NVTEP; i++)
		vtep_open(&vt[i], i + 1, &small);
	burst(n, 20);
	burst(n, 1000);
	memset(&seen, 0, sizeof(seen));
	for (int i = 0; i < NVTEP; i++) {
		ipam_foreach(vt[i].ipam, "small", seen_add, &seen);
		ipam_fabric_stats(vt[i].fab, &st);
		borrows += st.borrows;
	}
	ck_assert_uint_eq(seen.n, 254);
	ck_assert_uint_eq((uint64_t)(n[0] + n[1] + n[2]), 254);
	ck_assert_uint_gt(borrows, 0);
}
END_TEST

/*
 * Borrowing, step by step: the only block is A's; B finds no offer
 * (ENOSPC); A offers half its free addresses; B borrows one, A never
 * hands it out; B releases it, returns it after the quarantine, and A
 * frees it once it sees the loan gone.
 */
/* Two VTEPs of a one-block pool: the first holds the block, with a0 to
 * a3 allocated there (10 free addresses); the second has none. */
static void
lender_and_borrower(const struct pool_def *p)
{
	const struct ipam_alloc *a;
	char res[16];

	vtep_open(&vt[0], 1, p);
	vtep_open(&vt[1], 2, p);
	for (int i = 0; i < 4; i++) {
		snprintf(res, sizeof(res), "a%d", i);
		ck_assert_int_eq(alloc_wait(&vt[0], p->name, res,
		    IPAM_FAMILY_IPV4, &a), 0);
	}
}

START_TEST(test_borrow_lifecycle)
{
	struct pool_def oneq = one;
	struct ipam_fabric_loan l[16];
	const struct ipam_alloc *a, *b;
	struct ipam_pool_stats st;
	char res[16], bip[48], buf[48];
	size_t nl;
	int i;

	oneq.quarantine = 5;
	lender_and_borrower(&oneq);
	/* No block left, nothing offered yet. */
	ck_assert_int_eq(alloc_wait(&vt[1], "one", "b0", IPAM_FAMILY_IPV4,
	    &b), ENOSPC);
	ck_assert(strstr(vt[1].last_msg, "no address offered") != NULL);
	/* A's timer: 10 free addresses, 5 offered. */
	tick_all();
	ck_assert_uint_eq(fake_ds_loans(ds, "one", l, 16), 5);
	ipam_pool_stats(ipam_pool_find(vt[0].ipam, "one"), &st);
	ck_assert_uint_eq(st.v4.lent, 5);
	test_now += 2;		/* B's fail-fast hold is over */
	ck_assert_int_eq(alloc_wait(&vt[1], "one", "b0", IPAM_FAMILY_IPV4,
	    &b), 0);
	ipaddr_fmt(&b->ip, bip, sizeof(bip));
	ck_assert_uint_eq(blocks_of(&vt[1], "one", "borrowed"), 1);
	nl = fake_ds_loans(ds, "one", l, 16);
	for (i = 0; i < (int)nl; i++)
		if (l[i].taken)
			break;
	ck_assert_int_lt(i, (int)nl);
	ck_assert_str_eq(ipaddr_fmt(&l[i].ip, buf, sizeof(buf)), bip);
	ck_assert_str_eq(l[i].borrower.router_id, "10.0.0.2");
	/* A allocates all it can: never the borrowed address. */
	for (i = 4; i < 20; i++) {
		snprintf(res, sizeof(res), "a%d", i);
		if (try_alloc(&vt[0], "one", res, IPAM_FAMILY_IPV4, &a) != 0)
			break;
		ck_assert_str_ne(ipaddr_fmt(&a->ip, buf, sizeof(buf)), bip);
	}
	/* B lets go; after its quarantine it returns the address. */
	ck_assert_int_eq(ipam_release(vt[1].ipam, "a", "b0", NULL, NULL), 0);
	tick_all();
	ck_assert_uint_eq(blocks_of(&vt[1], "one", "borrowed"), 1);
	test_now += 6;
	tick_all();
	ck_assert_uint_eq(blocks_of(&vt[1], "one", "borrowed"), 0);
	nl = fake_ds_loans(ds, "one", l, 16);
	for (i = 0; i < (int)nl; i++)
		ck_assert(!l[i].taken);
	/* A sees the loan gone (it lists every 2 s) and may use it again:
	 * it is the only address A has left. */
	test_now += 3;
	tick_all();
	ipam_pool_stats(ipam_pool_find(vt[0].ipam, "one"), &st);
	ck_assert_uint_eq(st.v4.lent, nl);
	ck_assert_int_eq(try_alloc(&vt[0], "one", "a-back", IPAM_FAMILY_IPV4,
	    &a), 0);
	ck_assert_str_eq(ipaddr_fmt(&a->ip, buf, sizeof(buf)), bip);
}
END_TEST

/*
 * The owner takes its offers back while a borrower takes one, both at
 * the revision the offer was written with: whichever the datastore
 * applies first wins.  Borrower first: it holds that address, the owner
 * gets the others back.  Owner first: the borrower loses every take.
 * Either way each address is held by exactly one of them.
 */
static void
offer_race(bool borrower_first)
{
	const struct ipam_alloc *a, *b;
	struct ipam_fabric_stats fa, fb;
	struct ipam_pool_stats sa;
	char res[16], bip[48], buf[48];
	int i;

	vtep_open(&vt[0], 1, &one);
	vtep_open(&vt[1], 2, &one);
	ck_assert_int_eq(alloc_wait(&vt[0], "one", "a0", IPAM_FAMILY_IPV4,
	    &a), 0);
	ck_assert_int_eq(alloc_wait(&vt[1], "one", "b0", IPAM_FAMILY_IPV4,
	    &b), ENOSPC);
	tick_all();			/* A offers 6 of its 13 */
	test_now += 2;
	for (i = 1; i < 30; i++) {	/* A uses up the rest */
		snprintf(res, sizeof(res), "a%d", i);
		if (try_alloc(&vt[0], "one", res, IPAM_FAMILY_IPV4, &a) != 0)
			break;
	}
	ck_assert_int_eq(i, 8);
	fake_ds_hold(ds, true);
	ipam_fabric_want(vt[1].fab, "one", IPAM_FAMILY_IPV4);
	if (borrower_first)
		while (fake_ds_issued(ds, "loan_take") == 0)
			ck_assert(fake_ds_step(ds));
	else
		while (fake_ds_issued(ds, "loan_list") < 4)
			ck_assert(fake_ds_step(ds));
	/* Both now write at the revisions they read. */
	ipam_fabric_want(vt[0].fab, "one", IPAM_FAMILY_IPV4);
	fake_ds_hold(ds, false);
	pump();
	ipam_fabric_stats(vt[0].fab, &fa);
	ipam_fabric_stats(vt[1].fab, &fb);
	ipam_pool_stats(ipam_pool_find(vt[0].ipam, "one"), &sa);
	ck_assert_uint_eq(fa.offers, 6);
	ck_assert_uint_eq(fb.borrows, borrower_first ? 1 : 0);
	ck_assert_uint_eq(fa.revokes, borrower_first ? 5 : 6);
	ck_assert_uint_eq(sa.v4.lent, fb.borrows);
	if (borrower_first) {
		ck_assert_int_eq(try_alloc(&vt[1], "one", "b0",
		    IPAM_FAMILY_IPV4, &b), 0);
		ipaddr_fmt(&b->ip, bip, sizeof(bip));
	}
	/* A gets back what it revoked, never what B holds. */
	for (i = 0; i < (int)fa.revokes; i++) {
		snprintf(res, sizeof(res), "back%d", i);
		ck_assert_int_eq(try_alloc(&vt[0], "one", res,
		    IPAM_FAMILY_IPV4, &a), 0);
		if (borrower_first)
			ck_assert_str_ne(ipaddr_fmt(&a->ip, buf, sizeof(buf)),
			    bip);
	}
	ck_assert_int_eq(try_alloc(&vt[0], "one", "none", IPAM_FAMILY_IPV4,
	    &a), ENOSPC);
}

START_TEST(test_offer_race_borrower_first)
{
	offer_race(true);
}
END_TEST

START_TEST(test_offer_race_owner_first)
{
	offer_race(false);
}
END_TEST

/*
 * The datastore goes away: owned blocks keep serving, a want fails with
 * EHOSTUNREACH and leaves nothing claimed; a claim applied whose answer
 * was lost is found again as ours; all recovers when it comes back.
 */
START_TEST(test_unreachable)
{
	struct ipam_fabric_block b[8];
	const struct ipam_alloc *a;
	char res[16];
	int i;

	vtep_open(&vt[0], 1, &small);
	ck_assert_int_eq(alloc_wait(&vt[0], "small", "e0", IPAM_FAMILY_IPV4,
	    &a), 0);
	fake_ds_set_down(ds, true);
	for (i = 1; i < 15; i++) {
		snprintf(res, sizeof(res), "e%d", i);
		ck_assert_int_eq(try_alloc(&vt[0], "small", res,
		    IPAM_FAMILY_IPV4, &a), 0);
	}
	/* The block (.0/28: 14 usable) is full now. */
	ck_assert_int_eq(alloc_wait(&vt[0], "small", "e15", IPAM_FAMILY_IPV4,
	    &a), EHOSTUNREACH);
	ck_assert(strstr(vt[0].last_msg, "fabric datastore unreachable") !=
	    NULL);
	/* For a moment further wants fail at once. */
	ck_assert_int_eq(alloc_wait(&vt[0], "small", "e15", IPAM_FAMILY_IPV4,
	    &a), EHOSTUNREACH);
	ck_assert_uint_eq(fake_ds_blocks(ds, "small", b, 8), 1);
	/* Back, but the answer to the claim is lost: not ours yet... */
	fake_ds_set_down(ds, false);
	test_now += 3;
	fake_ds_apply_then_fail(ds);
	ck_assert_int_eq(alloc_wait(&vt[0], "small", "e15", IPAM_FAMILY_IPV4,
	    &a), EHOSTUNREACH);
	ck_assert_uint_eq(fake_ds_blocks(ds, "small", b, 8), 2);
	ck_assert_uint_eq(blocks_of(&vt[0], "small", "block"), 1);
	/* ... until the next claim finds it held by us. */
	test_now += 3;
	ck_assert_int_eq(alloc_wait(&vt[0], "small", "e15", IPAM_FAMILY_IPV4,
	    &a), 0);
	ck_assert_uint_eq(fake_ds_blocks(ds, "small", b, 8), 2);
	ck_assert_uint_eq(blocks_of(&vt[0], "small", "block"), 2);
}
END_TEST

/* Restart with the same state: same blocks, same allocations.  Restart
 * with the state lost: the blocks come back from the datastore. */
START_TEST(test_restart)
{
	const struct pool_def *pools[] = { &small, NULL };
	const struct ipam_alloc *a;
	char ip[48], mac[24], buf[48];

	vtep_open(&vt[0], 1, &small);
	ck_assert_int_eq(alloc_wait(&vt[0], "small", "r0", IPAM_FAMILY_IPV4,
	    &a), 0);
	ipaddr_fmt(&a->ip, ip, sizeof(ip));
	mac_fmt(&a->mac, mac, sizeof(mac));
	ipam_store_flush(vt[0].store);
	vtep_stop(&vt[0]);
	vtep_open_dir(&vt[0], 1, pools, false);
	ck_assert_uint_eq(blocks_of(&vt[0], "small", "block"), 1);
	a = ipam_find(vt[0].ipam, "a", "r0");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(ipaddr_fmt(&a->ip, buf, sizeof(buf)), ip);
	ck_assert_str_eq(mac_fmt(&a->mac, buf, sizeof(buf)), mac);
	ck_assert_int_eq(try_alloc(&vt[0], "small", "r1", IPAM_FAMILY_IPV4,
	    &a), 0);

	/* A fresh state directory: the datastore's blocks are adopted. */
	vtep_close(&vt[0]);
	vtep_open(&vt[0], 1, &small);
	ck_assert_uint_eq(blocks_of(&vt[0], "small", "block"), 1);
	ck_assert_int_eq(try_alloc(&vt[0], "small", "r2", IPAM_FAMILY_IPV4,
	    &a), 0);
	ck_assert_str_eq(ipaddr_fmt(&a->ip, buf, sizeof(buf)), "10.20.0.1");
}
END_TEST

/* A VTEP whose pool differs from the datastore's record refuses that
 * pool, names the difference, and runs its other pools. */
START_TEST(test_definition_mismatch)
{
	struct pool_def other = small;
	const struct pool_def *pools[] = { &other, &train, NULL };
	const struct ipam_alloc *a;
	char why[256];

	vtep_open(&vt[0], 1, &small);
	other.pfx[0] = "10.20.0.0/23";
	other.block_size = 27;
	vtep_open_dir(&vt[1], 2, pools, true);
	ck_assert_int_eq(ipam_fabric_usable(vt[1].fab, "small", why,
	    sizeof(why)), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_str_eq(why, "pool small differs from the fabric "
	    "datastore's definition (recorded by 10.0.0.1): prefixes "
	    "10.20.0.0/23 here, 10.20.0.0/24 in the datastore; block-size 27 "
	    "here, 28 in the datastore");
	ck_assert_int_eq(ipam_fabric_usable(vt[1].fab, "train", why,
	    sizeof(why)), 0);
	ck_assert_int_eq(alloc_wait(&vt[1], "train", "t0", IPAM_FAMILY_IPV4,
	    &a), 0);
}
END_TEST

/* An owned block empty for the idle time is released. */
START_TEST(test_idle_release)
{
	struct ipam_fabric_block b[4];
	struct ipam_fabric_stats st;
	const struct ipam_alloc *a;

	vtep_open(&vt[0], 1, &small);
	ck_assert_int_eq(alloc_wait(&vt[0], "small", "i0", IPAM_FAMILY_IPV4,
	    &a), 0);
	ck_assert_int_eq(ipam_release(vt[0].ipam, "a", "i0", NULL, NULL), 0);
	test_now += 599;
	tick_all();
	ck_assert_uint_eq(fake_ds_blocks(ds, "small", b, 4), 1);
	test_now += 2;
	tick_all();
	ck_assert_uint_eq(fake_ds_blocks(ds, "small", b, 4), 0);
	ck_assert_uint_eq(blocks_of(&vt[0], "small", "block"), 0);
	ipam_fabric_stats(vt[0].fab, &st);
	ck_assert_uint_eq(st.releases, 1);
	ck_assert_int_eq(try_alloc(&vt[0], "small", "i1", IPAM_FAMILY_IPV4,
	    &a), ENOSPC);
}
END_TEST

/* Two VTEPs of pool small, each with a block and an allocation (a0 on
 * the first, b0 on the second). */
static void
two_vteps_small(void)
{
	const struct ipam_alloc *a;

	vtep_open(&vt[0], 1, &small);
	vtep_open(&vt[1], 2, &small);
	ck_assert_int_eq(alloc_wait(&vt[0], "small", "a0", IPAM_FAMILY_IPV4,
	    &a), 0);
	ck_assert_int_eq(alloc_wait(&vt[1], "small", "b0", IPAM_FAMILY_IPV4,
	    &a), 0);
}

static void
reclaimed(const struct ipam_fabric_reclaim *r, void *arg)
{
	*(struct ipam_fabric_reclaim *)arg = *r;
}

/* The blocks of a VTEP gone for good are deleted on request; a VTEP
 * cannot reclaim its own. */
START_TEST(test_reclaim)
{
	struct ipam_fabric_reclaim out = { .status = 1 };
	struct ipam_fabric_block b[4];
	struct ipaddr vtep;

	two_vteps_small();
	vtep_stop(&vt[0]);
	ipaddr_parse("10.0.0.2", &vtep);
	ck_assert_int_eq(ipam_fabric_reclaim(vt[1].fab, &vtep, reclaimed,
	    &out), -1);
	ck_assert_int_eq(errno, EINVAL);
	ipaddr_parse("10.0.0.1", &vtep);
	ck_assert_int_eq(ipam_fabric_reclaim(vt[1].fab, &vtep, reclaimed,
	    &out), 0);
	pump();
	ck_assert_int_eq(out.status, 0);
	ck_assert_uint_eq(out.blocks, 1);
	ck_assert_uint_eq(fake_ds_blocks(ds, "small", b, 4), 1);
	ck_assert_str_eq(b[0].owner.router_id, "10.0.0.2");
}
END_TEST

/* Does v allocate in its own block pfx? */
struct holds_arg {
	const char	*pfx;
	bool		 found;
};

static void
holds_cb(const struct ipam_fabric_block_view *bv, void *arg)
{
	struct holds_arg *h = arg;
	char buf[64];

	if (bv->mine && strcmp(bv->kind, "block") == 0 &&
	    strcmp(prefix_fmt(&bv->prefix, buf, sizeof(buf)), h->pfx) == 0)
		h->found = true;
}

static bool
holds(struct vtep *v, const char *pool, const char *pfx)
{
	struct holds_arg h = { pfx, false };

	ipam_fabric_blocks(v->fab, pool, holds_cb, &h);
	return h.found;
}

/* The router id holding block pfx in the datastore ("" nobody). */
static const char *
ds_holder(const char *pool, const char *pfx)
{
	static struct ipam_fabric_block b[32];
	char buf[64];
	size_t n = fake_ds_blocks(ds, pool, b, 32);

	for (size_t i = 0; i < n; i++)
		if (strcmp(prefix_fmt(&b[i].prefix, buf, sizeof(buf)), pfx) ==
		    0)
			return b[i].owner.router_id;
	return "";
}

/* No block of pool small (16 /28s) is allocated from by both. */
static void
assert_blocks_apart(struct vtep *x, struct vtep *y)
{
	char pfx[32];

	for (int i = 0; i < 16; i++) {
		snprintf(pfx, sizeof(pfx), "10.20.0.%d/28", i * 16);
		ck_assert_msg(!(holds(x, "small", pfx) && holds(y, "small",
		    pfx)), "both VTEPs allocate in %s", pfx);
	}
}

/* Allocate in v until it claims one more block. */
static void
fill_to_next_block(struct vtep *v, const char *pool)
{
	size_t had = blocks_of(v, pool, "block");
	const struct ipam_alloc *a;
	char res[16];

	for (int i = 0; i < 40 && blocks_of(v, pool, "block") == had; i++) {
		snprintf(res, sizeof(res), "fill%d", i);
		ck_assert_int_eq(alloc_wait(v, pool, res, IPAM_FAMILY_IPV4,
		    &a), 0);
	}
	ck_assert_uint_eq(blocks_of(v, pool, "block"), had + 1);
}

static void
reclaim_from(struct vtep *by, const char *vtep)
{
	struct ipam_fabric_reclaim out = { .status = 1 };
	struct ipaddr ip;

	ipaddr_parse(vtep, &ip);
	ck_assert_int_eq(ipam_fabric_reclaim(by->fab, &ip, reclaimed, &out),
	    0);
	pump();
	ck_assert_int_eq(out.status, 0);
}

/*
 * A VTEP restarts after its block was reclaimed (the key deleted), and
 * its claim of the block again gets no answer (an etcd leader election).
 * It must not serve the block as its own meanwhile: the pool reconciles
 * again and claims it back, and the other VTEP, needing a block, takes
 * another one.
 */
START_TEST(test_restore_claim_fails)
{
	const struct pool_def *pools[] = { &small, NULL };
	uint64_t claims;

	two_vteps_small();
	vtep_stop(&vt[0]);
	reclaim_from(&vt[1], "10.0.0.1");
	ck_assert_str_eq(ds_holder("small", "10.20.0.0/28"), "");

	/* Definition, block list, then the claim: that one fails. */
	claims = fake_ds_issued(ds, "block_claim");
	fake_ds_hold(ds, true);
	vtep_open_dir(&vt[0], 1, pools, false);
	while (fake_ds_issued(ds, "block_claim") == claims)
		ck_assert(fake_ds_step(ds));
	fake_ds_set_down(ds, true);
	ck_assert(fake_ds_step(ds));
	fake_ds_set_down(ds, false);
	fake_ds_hold(ds, false);
	pump();
	ck_assert_str_eq(ds_holder("small", "10.20.0.0/28"), "");

	/* A's retry comes first; then B fills its block and claims. */
	test_now += 2;
	ipam_fabric_tick(vt[0].fab);
	pump();
	fill_to_next_block(&vt[1], "small");
	ck_assert_str_eq(ds_holder("small", "10.20.0.0/28"), "10.0.0.1");
	ck_assert(holds(&vt[0], "small", "10.20.0.0/28"));
	assert_blocks_apart(&vt[0], &vt[1]);
}
END_TEST

/*
 * A running VTEP's block is reclaimed by another (the key deleted).  Its
 * next refresh of the block list claims the block back.  Reclaimed again
 * and claimed by the other VTEP first, the block leaves its allocator:
 * what it allocated there stays, new allocations go to another block.
 */
START_TEST(test_block_reclaimed_while_running)
{
	const struct ipam_alloc *a;
	char buf[48];

	two_vteps_small();
	reclaim_from(&vt[1], "10.0.0.1");
	ck_assert_str_eq(ds_holder("small", "10.20.0.0/28"), "");
	test_now += 5;
	ipam_fabric_tick(vt[0].fab);
	pump();
	ck_assert_str_eq(ds_holder("small", "10.20.0.0/28"), "10.0.0.1");
	ck_assert(holds(&vt[0], "small", "10.20.0.0/28"));

	reclaim_from(&vt[1], "10.0.0.1");
	fill_to_next_block(&vt[1], "small");
	ck_assert_str_eq(ds_holder("small", "10.20.0.0/28"), "10.0.0.2");
	test_now += 5;
	ipam_fabric_tick(vt[0].fab);
	pump();
	ck_assert(!holds(&vt[0], "small", "10.20.0.0/28"));
	assert_blocks_apart(&vt[0], &vt[1]);
	ck_assert_ptr_nonnull(ipam_find(vt[0].ipam, "a", "a0"));
	ck_assert_int_eq(alloc_wait(&vt[0], "small", "a1", IPAM_FAMILY_IPV4,
	    &a), 0);
	ipaddr_fmt(&a->ip, buf, sizeof(buf));
	ck_assert_msg(strncmp(buf, "10.20.0.", 8) != 0 || atoi(buf + 8) >= 16,
	    "a1 got %s, in the lost block", buf);
}
END_TEST

/*
 * The owner lists its loans while an offer is on its way: the listing
 * reads the datastore before the offer's key is created but answers
 * after the offer.  The address is on offer, not returned: the owner
 * must not hand it out, or it and a borrower taking the offer would
 * both use it.
 */
START_TEST(test_stale_loan_list)
{
	struct ipam_fabric_loan l[16];
	const struct ipam_alloc *a;
	char res[16], buf[48], lip[48];
	size_t nl;

	lender_and_borrower(&one);
	/* A's timer offers 5; the fifth offer gets no answer. */
	fake_ds_hold(ds, true);
	ipam_fabric_tick(vt[0].fab);
	pump();
	ck_assert_uint_eq(fake_ds_queued(ds), 5);
	for (int i = 0; i < 4; i++)
		ck_assert(fake_ds_step(ds));
	fake_ds_set_down(ds, true);
	ck_assert(fake_ds_step(ds));
	fake_ds_set_down(ds, false);
	ck_assert_uint_eq(fake_ds_loans(ds, "one", l, 16), 4);

	/* Next turn: the offer again, and the loan list, which reads
	 * first and answers last. */
	test_now += 2;
	ipam_fabric_tick(vt[0].fab);
	ck_assert(fake_ds_read_ahead(ds, "loan_list"));
	fake_ds_hold(ds, false);
	pump();
	nl = fake_ds_loans(ds, "one", l, 16);
	ck_assert_uint_eq(nl, 5);
	ck_assert_uint_eq(v4_stats(&vt[0], "one").lent, nl);
	/* A hands out all it has left: never an address on offer. */
	for (int i = 4;; i++) {
		snprintf(res, sizeof(res), "a%d", i);
		if (try_alloc(&vt[0], "one", res, IPAM_FAMILY_IPV4, &a) != 0)
			break;
		ipaddr_fmt(&a->ip, buf, sizeof(buf));
		for (size_t k = 0; k < nl; k++)
			ck_assert_str_ne(buf, ipaddr_fmt(&l[k].ip, lip,
			    sizeof(lip)));
	}
}
END_TEST

/*
 * The owner takes its offers back; the datastore deletes one key but
 * the answer is lost.  Asked again, the delete is lost (the key is
 * gone): the address came back, it is not a borrower's.
 */
START_TEST(test_revoke_retried)
{
	struct ipam_fabric_loan l[16];
	const struct ipam_alloc *a;
	char holder[16];

	vtep_open(&vt[0], 1, &one);
	ck_assert_int_eq(alloc_wait(&vt[0], "one", "a0", IPAM_FAMILY_IPV4,
	    &a), 0);
	tick_all();			/* A offers 6 of its 13 */
	ck_assert_uint_eq(fake_ds_loans(ds, "one", l, 16), 6);
	/* Out of addresses, A takes its offers back: the first delete's
	 * answer is lost. */
	alloc_all(&vt[0], "one", "", holder, sizeof(holder));
	fake_ds_apply_then_fail(ds);
	ipam_fabric_want(vt[0].fab, "one", IPAM_FAMILY_IPV4);
	pump();
	ck_assert_uint_eq(fake_ds_loans(ds, "one", l, 16), 0);
	ck_assert_uint_eq(v4_stats(&vt[0], "one").lent, 1);
	/* The next want asks again and gets the address back. */
	alloc_all(&vt[0], "one", "", holder, sizeof(holder));
	ipam_fabric_want(vt[0].fab, "one", IPAM_FAMILY_IPV4);
	pump();
	ck_assert_uint_eq(v4_stats(&vt[0], "one").lent, 0);
	ck_assert_int_eq(try_alloc(&vt[0], "one", "back", IPAM_FAMILY_IPV4,
	    &a), 0);
}
END_TEST

/*
 * A claim is applied but its answer is lost (an etcd timeout after the
 * commit).  The block is ours in the datastore: the next refresh of the
 * block list takes it into the allocator.  Left out, it would count as
 * held (by us) and never serve, and pool one has no other block.
 */
START_TEST(test_claim_applied_answer_lost)
{
	const struct ipam_alloc *a;
	char buf[48];

	vtep_open(&vt[0], 1, &one);
	fake_ds_apply_then_fail(ds);
	ck_assert_int_eq(alloc_wait(&vt[0], "one", "a0", IPAM_FAMILY_IPV4,
	    &a), EHOSTUNREACH);
	ck_assert_str_eq(ds_holder("one", "10.30.0.0/28"), "10.0.0.1");
	ck_assert_uint_eq(blocks_of(&vt[0], "one", "block"), 0);
	test_now += 5;
	tick_all();
	ck_assert(holds(&vt[0], "one", "10.30.0.0/28"));
	ck_assert_int_eq(try_alloc(&vt[0], "one", "a0", IPAM_FAMILY_IPV4, &a),
	    0);
	ck_assert_str_eq(ipaddr_fmt(&a->ip, buf, sizeof(buf)), "10.30.0.1");
	/* Idle, it is released as any block of ours. */
	ck_assert_int_eq(ipam_release(vt[0].ipam, "a", "a0", NULL, NULL), 0);
	test_now += 601;
	tick_all();
	ck_assert_str_eq(ds_holder("one", "10.30.0.0/28"), "");
}
END_TEST

/*
 * The same for a take: the offer is rewritten as ours but the answer is
 * lost.  The borrower's next loan listing takes the address in, so it
 * serves there and is returned to the lender once let go.
 */
START_TEST(test_take_applied_answer_lost)
{
	struct ipam_fabric_loan l[16];
	const struct ipam_alloc *b;
	char tip[48], buf[48];
	size_t nl;
	int i;

	lender_and_borrower(&one);
	ck_assert_int_eq(alloc_wait(&vt[1], "one", "b0", IPAM_FAMILY_IPV4,
	    &b), ENOSPC);
	tick_all();			/* A offers 5 */
	test_now += 2;
	fake_ds_apply_then_fail(ds);
	ck_assert_int_eq(alloc_wait(&vt[1], "one", "b0", IPAM_FAMILY_IPV4,
	    &b), EHOSTUNREACH);
	nl = fake_ds_loans(ds, "one", l, 16);
	for (i = 0; i < (int)nl && !l[i].taken; i++)
		;
	ck_assert_int_lt(i, (int)nl);
	ck_assert_str_eq(l[i].borrower.router_id, "10.0.0.2");
	ipaddr_fmt(&l[i].ip, tip, sizeof(tip));
	ck_assert_uint_eq(blocks_of(&vt[1], "one", "borrowed"), 0);
	test_now += 2;
	tick_all();
	ck_assert_uint_eq(blocks_of(&vt[1], "one", "borrowed"), 1);
	ck_assert_int_eq(try_alloc(&vt[1], "one", "b0", IPAM_FAMILY_IPV4, &b),
	    0);
	ck_assert_str_eq(ipaddr_fmt(&b->ip, buf, sizeof(buf)), tip);
	/* Let go, it goes back to the lender. */
	ck_assert_int_eq(ipam_release(vt[1].ipam, "a", "b0", NULL, NULL), 0);
	test_now += 3;
	tick_all();
	ck_assert_uint_eq(blocks_of(&vt[1], "one", "borrowed"), 0);
	nl = fake_ds_loans(ds, "one", l, 16);
	for (i = 0; i < (int)nl; i++)
		ck_assert(!l[i].taken);
}
END_TEST

/*
 * A listing that read the datastore before our release of an idle block
 * answers after the release: the block it shows as ours is gone, not
 * lost by the allocator.  It must not be taken in again (and then
 * claimed back as missing).
 */
START_TEST(test_stale_list_after_release)
{
	struct ipam_fabric_block b[4];
	const struct ipam_alloc *a;

	vtep_open(&vt[0], 1, &small);
	ck_assert_int_eq(alloc_wait(&vt[0], "small", "i0", IPAM_FAMILY_IPV4,
	    &a), 0);
	ck_assert_int_eq(ipam_release(vt[0].ipam, "a", "i0", NULL, NULL), 0);
	test_now += 601;
	/* The refresh's listing, then the release: the listing reads
	 * first and answers last. */
	fake_ds_hold(ds, true);
	ipam_fabric_tick(vt[0].fab);
	ck_assert(fake_ds_read_ahead(ds, "block_list"));
	ck_assert_uint_eq(fake_ds_issued(ds, "block_release"), 1);
	fake_ds_hold(ds, false);
	pump();
	ck_assert_uint_eq(fake_ds_blocks(ds, "small", b, 4), 0);
	ck_assert_uint_eq(blocks_of(&vt[0], "small", "block"), 0);
	test_now += 5;
	tick_all();
	ck_assert_uint_eq(fake_ds_blocks(ds, "small", b, 4), 0);
	ck_assert_uint_eq(blocks_of(&vt[0], "small", "block"), 0);
}
END_TEST

static Suite *
fabric_suite(void)
{
	Suite *s = suite_create("ipam_fabric");
	TCase *tc = tcase_create("arith");
	TCase *tf = tcase_create("fabric");

	tcase_add_test(tc, test_block_arith);
	tcase_add_test(tc, test_block_sizes);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tf, setup, teardown);
	tcase_set_timeout(tf, 60);
	tcase_add_test(tf, test_mac_derived);
	tcase_add_test(tf, test_mac_reserved);
	tcase_add_test(tf, test_mac_reserved_returns);
	tcase_add_test(tf, test_alloc_needs_block);
	tcase_add_test(tf, test_not_ready);
	tcase_add_test(tf, test_claim_race);
	tcase_add_test(tf, test_burst_three_vteps);
	tcase_add_test(tf, test_borrow_lifecycle);
	tcase_add_test(tf, test_offer_race_borrower_first);
	tcase_add_test(tf, test_offer_race_owner_first);
	tcase_add_test(tf, test_unreachable);
	tcase_add_test(tf, test_restart);
	tcase_add_test(tf, test_definition_mismatch);
	tcase_add_test(tf, test_idle_release);
	tcase_add_test(tf, test_reclaim);
	tcase_add_test(tf, test_restore_claim_fails);
	tcase_add_test(tf, test_block_reclaimed_while_running);
	tcase_add_test(tf, test_stale_loan_list);
	tcase_add_test(tf, test_revoke_retried);
	tcase_add_test(tf, test_claim_applied_answer_lost);
	tcase_add_test(tf, test_take_applied_answer_lost);
	tcase_add_test(tf, test_stale_list_after_release);
	suite_add_tcase(s, tf);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(fabric_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
