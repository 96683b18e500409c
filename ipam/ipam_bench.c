/*
 * Raw store throughput: allocate N addresses in a /8 pool and commit
 * them through ipam_store_submit, keeping at most WINDOW outstanding
 * (as concurrent API clients would), with durable (synchronous=FULL)
 * group commits.  Prints allocations/s, batches and the p50/p99 time
 * from submit to done callback.
 *
 *   ipam_bench [N [WINDOW [STATE_DIR]]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/util.h"
#include "ipam/ipam.h"

struct bench {
	struct event_base *base;
	struct ipam	*ipam;
	struct ipam_store *store;
	uint64_t	*lat_us;
	long		 done;
	long		 failed;
};

struct pending {
	struct bench	*b;
	long		 i;
	uint64_t	 t0;
};

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
done_cb(int status, void *arg)
{
	struct pending *p = arg;

	p->b->lat_us[p->i] = now_us() - p->t0;
	p->b->done++;
	if (status != 0)
		p->b->failed++;
	free(p);
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
submit_one(struct bench *b, long i)
{
	struct ipam_request req = { .resource = NULL,
	    .family = IPAM_FAMILY_IPV4, .mac = NULL, .preallocated = false };
	const struct ipam_alloc *a;
	struct pending *p = xcalloc(1, sizeof(*p));
	struct ipam_op op;
	char res[32];
	bool existing;

	snprintf(res, sizeof(res), "bench-%ld", i);
	req.resource = res;
	if (ipam_allocate(b->ipam, "bench", &req, &a, &existing) == -1) {
		perror("ipam_allocate");
		exit(1);
	}
	p->b = b;
	p->i = i;
	p->t0 = now_us();
	ipam_op_alloc(&op, a, "bench");
	ipam_store_submit(b->store, &op, done_cb, p);
}

static void
pool_setup(struct ipam *ipam)
{
	struct ipam_pool_spec spec;
	struct prefix pfx;
	char err[256];

	memset(&spec, 0, sizeof(spec));
	prefix_parse("10.0.0.0/8", &pfx, false);
	spec.name = "bench";
	spec.vni = 100;
	spec.prefixes = &pfx;
	spec.nprefixes = 1;
	spec.quarantine = 30;
	if (ipam_pool_add(ipam, &spec, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	long window = argc > 2 ? atol(argv[2]) : 256;
	char tmpl[] = "/tmp/ipam_bench_XXXXXX", err[512];
	const char *dir = argc > 3 ? argv[3] : mkdtemp(tmpl);
	struct ipam_store_stats ss;
	struct bench b;
	uint64_t t0, t1;
	long next = 0;

	memset(&b, 0, sizeof(b));
	b.base = event_base_new();
	b.ipam = ipam_new();
	b.lat_us = xcalloc((size_t)n, sizeof(*b.lat_us));
	pool_setup(b.ipam);
	if (dir == NULL || (b.store = ipam_store_open(dir, b.base, b.ipam,
	    err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", dir ? err : "mkdtemp failed");
		return 1;
	}
	t0 = now_us();
	while (b.done < n) {
		while (next < n && next - b.done < window)
			submit_one(&b, next++);
		event_base_loop(b.base, EVLOOP_ONCE);
	}
	t1 = now_us();
	ipam_store_stats(b.store, &ss);
	qsort(b.lat_us, (size_t)n, sizeof(*b.lat_us), u64_cmp);
	printf("allocations %ld window %ld: %.0f allocations/s, %llu batches "
	    "(max %llu), p50 %.2f ms, p99 %.2f ms, failed %ld\n", n, window,
	    (double)n * 1e6 / (double)(t1 - t0),
	    (unsigned long long)ss.batches, (unsigned long long)ss.max_batch,
	    (double)b.lat_us[n / 2] / 1000.0,
	    (double)b.lat_us[n * 99 / 100] / 1000.0, b.failed);
	ipam_store_close(b.store);
	ipam_free(b.ipam);
	event_base_free(b.base);
	free(b.lat_us);
	if (argc <= 3) {
		char path[600];

		for (const char *f = "ipam.db\0ipam.db-wal\0ipam.db-shm\0"
		    "ipam.key\0"; *f; f += strlen(f) + 1) {
			snprintf(path, sizeof(path), "%s/%s", dir, f);
			unlink(path);
		}
		rmdir(dir);
	}
	return b.failed ? 1 : 0;
}
