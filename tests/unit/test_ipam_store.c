/*
 * IPAM store and audit chain, on real SQLite files in a temporary
 * directory: restart restores the same state; a child killed with
 * SIGKILL in the middle of a burst loses no acknowledged allocation and
 * duplicates none; the audit chain verifies, and edits, deletions and
 * reordering of its rows are reported at the right seq.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "ipam/ipam.h"

static char dir[256];

static void
dir_make(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/test_ipam_XXXXXX", tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
dir_remove(void)
{
	static const char *const files[] = { "ipam.db", "ipam.db-wal",
	    "ipam.db-shm", "ipam.key", "acks" };
	char path[512];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static struct ipam *
ipam_make(void)
{
	struct ipam *ipam = ipam_new();
	struct prefix pfx[2];
	struct ipam_reservation res;
	struct ipam_pool_spec spec;
	char err[256];

	memset(&spec, 0, sizeof(spec));
	memset(&res, 0, sizeof(res));
	prefix_parse("10.10.0.0/16", &pfx[0], false);
	prefix_parse("2001:db8:100::/64", &pfx[1], false);
	ipaddr_parse("10.10.0.20", &res.ip);
	strcpy(res.name, "storage-head");
	spec.name = "pool-a";
	spec.tenant = "tenant-a";
	spec.vni = 100;
	spec.prefixes = pfx;
	spec.nprefixes = 2;
	ipaddr_parse("10.10.0.1", &spec.gateway4);
	spec.reservations = &res;
	spec.nreservations = 1;
	spec.quarantine = 30;
	ck_assert_int_eq(ipam_pool_add(ipam, &spec, err, sizeof(err)), 0);
	return ipam;
}

struct harness {
	struct event_base *base;
	struct ipam	*ipam;
	struct ipam_store *store;
	int		 done;
	int		 failed;
	int		 ack_fd;	/* crash test: acked resources */
};

static void
harness_open(struct harness *h)
{
	char err[512];

	memset(h, 0, sizeof(*h));
	h->ack_fd = -1;
	h->base = event_base_new();
	h->ipam = ipam_make();
	h->store = ipam_store_open(dir, h->base, h->ipam, err, sizeof(err));
	ck_assert_msg(h->store != NULL, "%s", err);
}

static void
harness_close(struct harness *h)
{
	ipam_store_close(h->store);
	ipam_free(h->ipam);
	event_base_free(h->base);
}

static void
count_done(int status, void *arg)
{
	struct harness *h = arg;

	h->done++;
	if (status != 0)
		h->failed++;
}

static void
wait_done(struct harness *h, int n)
{
	while (h->done < n)
		event_base_loop(h->base, EVLOOP_ONCE);
}

static const struct ipam_alloc *
allocate(struct harness *h, const char *res, enum ipam_family fam)
{
	struct ipam_request req = { res, fam, NULL, false };
	const struct ipam_alloc *a;
	struct ipam_op op;
	bool existing;

	ck_assert_int_eq(ipam_allocate(h->ipam, "pool-a", &req, &a, &existing),
	    0);
	ipam_op_alloc(&op, a);
	ck_assert_int_eq(ipam_store_submit(h->store, &op, count_done, h), 0);
	return a;
}

static void
release(struct harness *h, const char *res)
{
	struct ipam_alloc a;
	struct ipam_op op;
	int64_t until;

	ck_assert_int_eq(ipam_release(h->ipam, res, &a, &until), 0);
	ipam_op_release(&op, &a, until);
	ck_assert_int_eq(ipam_store_submit(h->store, &op, count_done, h), 0);
}

/* A text fingerprint of every allocation, to compare two states. */
static int
dump_cb(const struct ipam_alloc *a, void *arg)
{
	char ip[IPADDR_STRLEN], ip6[IPADDR_STRLEN], mac[MAC_STRLEN];
	FILE *f = arg;

	fprintf(f, "%s %s %s %s %s %d %lld\n", a->resource, a->pool,
	    a->ip.af ? ipaddr_fmt(&a->ip, ip, sizeof(ip)) : "-",
	    a->ipv6.af ? ipaddr_fmt(&a->ipv6, ip6, sizeof(ip6)) : "-",
	    mac_fmt(&a->mac, mac, sizeof(mac)), a->preallocated,
	    (long long)a->created);
	return 0;
}

static char *
dump(struct ipam *ipam)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ipam_foreach(ipam, NULL, dump_cb, f);
	fclose(f);
	return text;
}

START_TEST(test_reopen_same_state)
{
	struct harness h;
	struct ipam_pool_stats st1, st2;
	struct ipam_store_stats ss;
	char res[32], buf[IPADDR_STRLEN], *before, *after;
	const struct ipam_alloc *a;

	dir_make();
	harness_open(&h);
	for (int i = 0; i < 500; i++) {
		snprintf(res, sizeof(res), "pod-%d", i);
		allocate(&h, res, i % 3 == 0 ? IPAM_FAMILY_DUAL :
		    IPAM_FAMILY_IPV4);
	}
	for (int i = 0; i < 500; i += 7) {
		snprintf(res, sizeof(res), "pod-%d", i);
		release(&h, res);
	}
	wait_done(&h, 500 + 72);
	ck_assert_int_eq(h.failed, 0);
	ipam_store_stats(h.store, &ss);
	ck_assert_uint_eq(ss.ops, 572);
	ck_assert_uint_le(ss.batches, ss.ops);
	before = dump(h.ipam);
	ipam_pool_stats(ipam_pool_find(h.ipam, "pool-a"), &st1);
	harness_close(&h);

	harness_open(&h);
	after = dump(h.ipam);
	ck_assert_str_eq(after, before);
	ipam_pool_stats(ipam_pool_find(h.ipam, "pool-a"), &st2);
	ck_assert_uint_eq(st2.allocations, 500 - 72);
	ck_assert_uint_eq(st2.v4.used, st1.v4.used);
	ck_assert_uint_eq(st2.v6.used, st1.v6.used);
	ck_assert_uint_eq(st2.v4.quarantined, 72);
	ck_assert_uint_eq(st2.v4.quarantined, st1.v4.quarantined);
	/* Fresh addresses continue after the restored ones; the released
	 * ones stay quarantined; the MAC counter continues too. */
	a = allocate(&h, "new", IPAM_FAMILY_IPV4);
	ck_assert_str_eq(ipaddr_fmt(&a->ip, buf, sizeof(buf)), "10.10.1.247");
	ck_assert_ptr_null(ipam_find(h.ipam, "pod-0"));
	wait_done(&h, 1);
	free(before);
	free(after);
	harness_close(&h);
	dir_remove();
}
END_TEST

/* Crash: the child allocates in a loop, writes each acknowledged id. */
struct ack {
	struct harness	*h;
	char		 res[32];
};

static void
ack_cb(int status, void *arg)
{
	struct ack *ack = arg;
	char line[40];
	int n;

	if (status != 0)
		_exit(3);
	n = snprintf(line, sizeof(line), "%s\n", ack->res);
	if (write(ack->h->ack_fd, line, (size_t)n) != n)
		_exit(4);
	ack->h->done++;
	free(ack);
}

static void
crash_child(void)
{
	struct harness h;
	char path[512], err[512];
	struct ipam_request req = { NULL, IPAM_FAMILY_DUAL, NULL, false };

	memset(&h, 0, sizeof(h));
	snprintf(path, sizeof(path), "%s/acks", dir);
	h.ack_fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	h.base = event_base_new();
	h.ipam = ipam_make();
	h.store = ipam_store_open(dir, h.base, h.ipam, err, sizeof(err));
	if (h.store == NULL || h.ack_fd == -1)
		_exit(2);
	for (int i = 0;; i++) {
		const struct ipam_alloc *a;
		struct ipam_op op;
		struct ack *ack = calloc(1, sizeof(*ack));
		bool existing;

		ack->h = &h;
		snprintf(ack->res, sizeof(ack->res), "c-%d", i);
		req.resource = ack->res;
		if (ipam_allocate(h.ipam, "pool-a", &req, &a, &existing) == -1) {
			/* Pool full before the kill came (a fast machine):
			 * keep committing what is queued until it does. */
			if (errno != ENOSPC)
				_exit(5);
			free(ack);
			for (;;)
				event_base_loop(h.base, EVLOOP_ONCE);
		}
		ipam_op_alloc(&op, a);
		ipam_store_submit(h.store, &op, ack_cb, ack);
		/* Bursts of 50, then let completions in. */
		if (i % 50 == 49)
			event_base_loop(h.base, EVLOOP_NONBLOCK);
	}
}

static int
count_ip_cb(const struct ipam_alloc *a, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

START_TEST(test_crash_kill9)
{
	struct harness h;
	char path[512], line[64];
	struct timespec ts;
	int status, acked = 0, rows = 0, distinct;
	sqlite3 *db;
	sqlite3_stmt *st;
	FILE *f;
	pid_t pid;

	dir_make();
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		crash_child();
	/* Kill somewhere between 150 ms and 650 ms into the burst. */
	ts.tv_sec = 0;
	ts.tv_nsec = (150 + random() % 500) * 1000000L;
	nanosleep(&ts, NULL);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status), "child exited with %d",
	    WEXITSTATUS(status));

	harness_open(&h);
	snprintf(path, sizeof(path), "%s/acks", dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strchr(line, '\n') == NULL)
			break;		/* torn last line: not counted */
		*strchr(line, '\n') = '\0';
		ck_assert_msg(ipam_find(h.ipam, line) != NULL,
		    "acknowledged %s lost", line);
		acked++;
	}
	fclose(f);
	ck_assert_int_gt(acked, 0);
	ipam_foreach(h.ipam, NULL, count_ip_cb, &rows);
	ck_assert_int_ge(rows, acked);
	/* None twice: every address and MAC is held by one row only. */
	ck_assert_int_eq(sqlite3_open(ipam_store_path(h.store), &db),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(DISTINCT ip) + "
	    "count(DISTINCT ipv6) + count(DISTINCT mac) FROM allocations", -1,
	    &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	distinct = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	ck_assert_int_eq(distinct, 3 * rows);
	fprintf(stderr, "crash test: %d acknowledged, %d committed\n", acked,
	    rows);
	{
		struct ipam_audit_report rep;

		ck_assert_int_eq(ipam_audit_verify(h.store, &rep), 0);
		ck_assert_msg(rep.ok, "%s", rep.reason);
		ck_assert_int_eq(rep.records, rows);
	}
	harness_close(&h);
	dir_remove();
}
END_TEST

/* Audit chain */

static void
audit_fill(void)
{
	struct harness h;
	char res[16];

	harness_open(&h);
	ck_assert_int_eq(ipam_store_sync_reservations(h.store, h.ipam,
	    count_done, &h), 1);
	for (int i = 0; i < 8; i++) {
		snprintf(res, sizeof(res), "a%d", i);
		allocate(&h, res, IPAM_FAMILY_DUAL);
		if (i == 3)
			release(&h, "a1");
	}
	ipam_store_flush(h.store);
	ck_assert_int_eq(h.done, 10);
	ck_assert_int_eq(h.failed, 0);
	harness_close(&h);
}

static void
db_exec(const char *sql)
{
	char path[512], *msg = NULL;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/ipam.db", dir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK,
	    "%s", msg);
	sqlite3_close(db);
}

START_TEST(test_audit_ok)
{
	struct ipam_audit_report rep;
	struct harness h;
	char path[512];
	struct stat sb;

	dir_make();
	audit_fill();
	ck_assert_int_eq(ipam_audit_verify_dir(dir, &rep), 0);
	ck_assert_msg(rep.ok, "%s", rep.reason);
	ck_assert_int_eq(rep.records, 10);
	ck_assert_int_eq(rep.bad_seq, 0);
	ck_assert_str_eq(rep.reason, "10 records, chain intact");
	snprintf(path, sizeof(path), "%s/ipam.key", dir);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(sb.st_size, 32);
	/* Reopen: the chain continues; reservations already in sync. */
	harness_open(&h);
	ck_assert_int_eq(ipam_store_sync_reservations(h.store, h.ipam,
	    count_done, &h), 0);
	allocate(&h, "later", IPAM_FAMILY_IPV4);
	ipam_store_flush(h.store);
	ck_assert_int_eq(ipam_audit_verify(h.store, &rep), 0);
	ck_assert_msg(rep.ok, "%s", rep.reason);
	ck_assert_int_eq(rep.records, 11);
	harness_close(&h);
	dir_remove();
}
END_TEST

struct tamper {
	const char	*sql;
	int64_t		 bad_seq;
	const char	*reason;
};

static const struct tamper tampers[] = {
	{ "UPDATE audit SET ip = '10.10.0.99' WHERE seq = 3", 3,
	  "seq 3: record altered (HMAC mismatch)" },
	{ "UPDATE audit SET time = time + 1 WHERE seq = 7", 7,
	  "seq 7: record altered (HMAC mismatch)" },
	{ "DELETE FROM audit WHERE seq = 5", 5,
	  "seq 5: record missing (gap in the sequence)" },
	/* Swap two records' places. */
	{ "UPDATE audit SET seq = -1 WHERE seq = 4;"
	  "UPDATE audit SET seq = 4 WHERE seq = 6;"
	  "UPDATE audit SET seq = 6 WHERE seq = -1", 4,
	  "seq 4: broken link (record removed, moved or replaced)" },
	/* Remove one and renumber the rest to hide the gap. */
	{ "DELETE FROM audit WHERE seq = 2;"
	  "UPDATE audit SET seq = seq - 1 WHERE seq > 2", 2,
	  "seq 2: broken link (record removed, moved or replaced)" },
	/* Remove the newest record. */
	{ "DELETE FROM audit WHERE seq = 10", 10,
	  "seq 10: chain head does not match the last record (records "
	  "removed at the end, or head altered)" },
	/* ... and the head removed too. */
	{ "DELETE FROM audit WHERE seq = 10;"
	  "UPDATE meta SET value = NULL WHERE key = 'audit_head'", 10,
	  "seq 10: chain head does not match the last record (records "
	  "removed at the end, or head altered)" },
};

START_TEST(test_audit_tamper)
{
	struct ipam_audit_report rep;

	dir_make();
	audit_fill();
	db_exec(tampers[_i].sql);
	ck_assert_int_eq(ipam_audit_verify_dir(dir, &rep), 0);
	ck_assert(!rep.ok);
	ck_assert_int_eq(rep.bad_seq, tampers[_i].bad_seq);
	ck_assert_str_eq(rep.reason, tampers[_i].reason);
	dir_remove();
}
END_TEST

START_TEST(test_open_errors)
{
	struct event_base *base = event_base_new();
	struct ipam *ipam = ipam_make();
	struct ipam_store *s;
	char err[512], path[512], want[600];

	dir_make();
	audit_fill();
	/* A missing key with a non-empty audit trail is refused. */
	snprintf(path, sizeof(path), "%s/ipam.key", dir);
	{
		char saved[512];

		snprintf(saved, sizeof(saved), "%s/ipam.key.saved", dir);
		ck_assert_int_eq(rename(path, saved), 0);
		s = ipam_store_open(dir, base, ipam, err, sizeof(err));
		ck_assert_ptr_null(s);
		snprintf(want, sizeof(want), "%s: No such file or directory "
		    "(the audit trail needs the key it was written with)",
		    path);
		ck_assert_str_eq(err, want);
		ck_assert_int_eq(rename(saved, path), 0);
	}
	/* A key readable by others is refused. */
	chmod(path, 0644);
	ck_assert_ptr_null(ipam_store_open(dir, base, ipam, err, sizeof(err)));
	chmod(path, 0600);
	/* A schema from another version. */
	db_exec("UPDATE meta SET value = 99 WHERE key = 'schema_version'");
	s = ipam_store_open(dir, base, ipam, err, sizeof(err));
	ck_assert_ptr_null(s);
	snprintf(want, sizeof(want), "%s/ipam.db: schema version 99, this "
	    "evpnd knows 1", dir);
	ck_assert_str_eq(err, want);
	ipam_free(ipam);
	event_base_free(base);
	dir_remove();
}
END_TEST

/* A request takes a pre-allocation: same addresses and MAC, new name,
 * no longer preallocated, durable and audited. */
START_TEST(test_claim_prealloc)
{
	struct harness h;
	struct ipam_request req = { "warm-1", IPAM_FAMILY_DUAL, NULL, true };
	const struct ipam_alloc *a, *c;
	struct ipam_audit_report rep;
	struct ipam_pool_stats st;
	struct ipaddr ip;
	struct ipam_op op;
	bool existing;

	dir_make();
	harness_open(&h);
	ck_assert_int_eq(ipam_allocate(h.ipam, "pool-a", &req, &a, &existing),
	    0);
	ck_assert(a->preallocated);
	ip = a->ip;
	ipam_op_alloc(&op, a);
	ck_assert_int_eq(ipam_store_submit(h.store, &op, count_done, &h), 0);
	allocate(&h, "plain", IPAM_FAMILY_IPV4);
	/* Not a pre-allocation, or a taken name: refused. */
	ck_assert_int_eq(ipam_claim(h.ipam, "plain", "pod-x", &c), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(ipam_claim(h.ipam, "warm-1", "plain", &c), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(ipam_claim(h.ipam, "warm-1", "pod-1", &c), 0);
	ck_assert_str_eq(c->resource, "pod-1");
	ck_assert(!c->preallocated);
	ck_assert_int_eq(ipaddr_cmp(&c->ip, &ip), 0);
	ck_assert_ptr_null(ipam_find(h.ipam, "warm-1"));
	ipam_pool_stats(ipam_pool_find(h.ipam, "pool-a"), &st);
	ck_assert_uint_eq(st.preallocated, 0);
	ipam_op_claim(&op, c, "warm-1");
	ck_assert_int_eq(ipam_store_submit(h.store, &op, count_done, &h), 0);
	wait_done(&h, 3);
	ck_assert_int_eq(h.failed, 0);
	harness_close(&h);

	harness_open(&h);
	c = ipam_find(h.ipam, "pod-1");
	ck_assert_ptr_nonnull(c);
	ck_assert(!c->preallocated);
	ck_assert_int_eq(ipaddr_cmp(&c->ip, &ip), 0);
	ck_assert_ptr_null(ipam_find(h.ipam, "warm-1"));
	ck_assert_int_eq(ipam_audit_verify(h.store, &rep), 0);
	ck_assert(rep.ok);
	ck_assert_int_eq(rep.records, 3);
	harness_close(&h);
	dir_remove();
}
END_TEST

static Suite *
ipam_store_suite(void)
{
	Suite *s = suite_create("ipam_store");
	TCase *tc = tcase_create("store");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_reopen_same_state);
	tcase_add_test(tc, test_claim_prealloc);
	tcase_add_test(tc, test_crash_kill9);
	tcase_add_test(tc, test_audit_ok);
	tcase_add_loop_test(tc, test_audit_tamper, 0,
	    (int)(sizeof(tampers) / sizeof(tampers[0])));
	tcase_add_test(tc, test_open_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ipam_store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
