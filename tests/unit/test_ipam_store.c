/*
 * IPAM store and audit chain, on real SQLite files in a temporary
 * directory: restart restores the same state; a child killed with
 * SIGKILL in the middle of a burst loses no acknowledged allocation and
 * duplicates none; the audit chain verifies, and edits, deletions and
 * reordering of its rows are reported at the right seq.
 *
 * Faults: the last audit records deleted, or the database copied back
 * from an older copy, refuse the open (the anchor catches the second);
 * a release under another connection's write lock, and allocations on
 * a full tmpfs (root: a private mount namespace), fail and are undone
 * in memory, memory then equal to what the disk holds; a page
 * overwritten in the middle of the allocations table refuses the open;
 * state files are 0600; schema 1 is upgraded, an address held twice
 * refused; the head is published (hook, anchor); records carry actors.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
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
	    "ipam.db-shm", "ipam.key", "ipam.anchor", "ipam.anchor.tmp",
	    "acks", "old.db", "filler" };
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
	/* Two addresses, no quarantine: a released one is reused at once. */
	memset(&spec, 0, sizeof(spec));
	prefix_parse("10.20.0.0/30", &pfx[0], false);
	spec.name = "pool-q0";
	spec.vni = 200;
	spec.prefixes = pfx;
	spec.nprefixes = 1;
	ck_assert_int_eq(ipam_pool_add(ipam, &spec, err, sizeof(err)), 0);
	return ipam;
}

/* pool-a's names are tenant-a's, pool-q0's the unnamed tenant's. */
static const struct ipam_alloc *
find(const struct ipam *ipam, const char *res)
{
	const struct ipam_alloc *a = ipam_find(ipam, "tenant-a", res);

	return a != NULL ? a : ipam_find(ipam, NULL, res);
}

static const char *
tenant_of(const struct ipam *ipam, const char *res)
{
	const struct ipam_alloc *a = find(ipam, res);

	return a != NULL ? a->tenant : NULL;
}

struct harness {
	struct event_base *base;
	struct ipam	*ipam;
	struct ipam_store *store;
	int		 done;
	int		 failed;
	int		 ack_fd;	/* crash test: acked resources */
	const char	*actor;		/* of the changes made */
};

static void
harness_open(struct harness *h)
{
	char err[512];

	memset(h, 0, sizeof(*h));
	h->ack_fd = -1;
	h->actor = "test";
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
allocate_in(struct harness *h, const char *pool, const char *res,
    enum ipam_family fam)
{
	struct ipam_request req = { .resource = res,
	    .family = fam, .mac = NULL, .preallocated = false };
	const struct ipam_alloc *a;
	struct ipam_op op;
	bool existing;

	ck_assert_int_eq(ipam_allocate(h->ipam, pool, &req, &a, &existing),
	    0);
	ipam_op_alloc(&op, a, h->actor);
	ck_assert_int_eq(ipam_store_submit(h->store, &op, count_done, h), 0);
	return a;
}

static const struct ipam_alloc *
allocate(struct harness *h, const char *res, enum ipam_family fam)
{
	return allocate_in(h, "pool-a", res, fam);
}

static void
release(struct harness *h, const char *res)
{
	struct ipam_alloc a;
	struct ipam_op op;
	int64_t until;

	ck_assert_int_eq(ipam_release(h->ipam, tenant_of(h->ipam, res), res, &a, &until), 0);
	ipam_op_release(&op, &a, until, h->actor);
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

static int
line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted: a release put back after a failed commit comes back at the
 * end of its pool's list, the same row on disk where it was. */
static char *
dump(struct ipam *ipam)
{
	char *text = NULL, *out, *line, **lines = NULL, *save = NULL;
	size_t len = 0, n = 0;
	FILE *f = open_memstream(&text, &len);

	ipam_foreach(ipam, NULL, dump_cb, f);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		lines = realloc(lines, (n + 1) * sizeof(*lines));
		lines[n++] = line;
	}
	qsort(lines, n, sizeof(*lines), line_cmp);
	f = open_memstream(&out, &len);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", lines[i]);
	fclose(f);
	free(lines);
	free(text);
	return out;
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
	ck_assert_ptr_null(find(h.ipam, "pod-0"));
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
	struct ipam_request req = { .resource = NULL,
	    .family = IPAM_FAMILY_DUAL, .mac = NULL, .preallocated = false };

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
		ipam_op_alloc(&op, a, "test");
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
	struct stat sb;
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
	/* Kill somewhere between 100 and 600 ms after the first
	 * acknowledgement (opening takes a while under sanitizers). */
	snprintf(path, sizeof(path), "%s/acks", dir);
	ts.tv_sec = 0;
	ts.tv_nsec = 5 * 1000000L;
	for (int i = 0; i < 2000 && (stat(path, &sb) == -1 ||
	    sb.st_size == 0); i++)
		nanosleep(&ts, NULL);
	ts.tv_nsec = (100 + random() % 500) * 1000000L;
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
		ck_assert_msg(find(h.ipam, line) != NULL,
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
	  "seq 10: records 10..10 are missing at the end (the chain head "
	  "names seq 10, the last record is seq 9)" },
	/* ... and the head removed too. */
	{ "DELETE FROM audit WHERE seq = 10;"
	  "UPDATE meta SET value = NULL WHERE key = 'audit_head'", 10,
	  "seq 10: the chain head is missing: records up to seq 9 are not "
	  "vouched for" },
	/* The actor is part of the record. */
	{ "UPDATE audit SET actor = 'someone-else' WHERE seq = 4", 4,
	  "seq 4: record altered (HMAC mismatch)" },
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
	    "evpnd knows %d", dir, IPAM_SCHEMA_VERSION);
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
	struct ipam_request req = { .resource = "warm-1",
	    .family = IPAM_FAMILY_DUAL, .mac = NULL, .preallocated = true };
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
	ipam_op_alloc(&op, a, "test");
	ck_assert_int_eq(ipam_store_submit(h.store, &op, count_done, &h), 0);
	allocate(&h, "plain", IPAM_FAMILY_IPV4);
	/* Not a pre-allocation, or a taken name: refused. */
	ck_assert_int_eq(ipam_claim(h.ipam, "tenant-a", "plain", "pod-x", &c), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(ipam_claim(h.ipam, "tenant-a", "warm-1", "plain", &c), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(ipam_claim(h.ipam, "tenant-a", "warm-1", "pod-1", &c), 0);
	ck_assert_str_eq(c->resource, "pod-1");
	ck_assert(!c->preallocated);
	ck_assert_int_eq(ipaddr_cmp(&c->ip, &ip), 0);
	ck_assert_ptr_null(find(h.ipam, "warm-1"));
	ipam_pool_stats(ipam_pool_find(h.ipam, "pool-a"), &st);
	ck_assert_uint_eq(st.preallocated, 0);
	ipam_op_claim(&op, c, "warm-1", "test");
	ck_assert_int_eq(ipam_store_submit(h.store, &op, count_done, &h), 0);
	wait_done(&h, 3);
	ck_assert_int_eq(h.failed, 0);
	harness_close(&h);

	harness_open(&h);
	c = find(h.ipam, "pod-1");
	ck_assert_ptr_nonnull(c);
	ck_assert(!c->preallocated);
	ck_assert_int_eq(ipaddr_cmp(&c->ip, &ip), 0);
	ck_assert_ptr_null(find(h.ipam, "warm-1"));
	ck_assert_int_eq(ipam_audit_verify(h.store, &rep), 0);
	ck_assert(rep.ok);
	ck_assert_int_eq(rep.records, 3);
	harness_close(&h);
	dir_remove();
}
END_TEST

/* Faults: what the store must detect or survive */

/* Opening must fail: the message in err, errno returned. */
static int
open_refused(char *err, size_t errlen)
{
	struct event_base *base = event_base_new();
	struct ipam *ipam = ipam_make();
	struct ipam_store *s = ipam_store_open(dir, base, ipam, err, errlen);
	int e = errno;

	ck_assert_msg(s == NULL, "the store opened");
	ipam_free(ipam);
	event_base_free(base);
	return e;
}

static void
path_of(const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", dir, name);
}

static void
file_copy(const char *from, const char *to)
{
	char src[512], dst[512], buf[65536];
	ssize_t n;
	int in, out;

	path_of(from, src, sizeof(src));
	path_of(to, dst, sizeof(dst));
	in = open(src, O_RDONLY);
	ck_assert_int_ge(in, 0);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(out, 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	close(in);
	close(out);
}

/* The database alone, as a copy of it would be (no WAL beside it). */
static void
db_replace(const char *from)
{
	char path[512];

	file_copy(from, "ipam.db");
	path_of("ipam.db-wal", path, sizeof(path));
	unlink(path);
	path_of("ipam.db-shm", path, sizeof(path));
	unlink(path);
}

static int64_t
db_count(const char *sql)
{
	char path[512];
	sqlite3_stmt *st;
	sqlite3 *db;
	int64_t v;

	path_of("ipam.db", path, sizeof(path));
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void
assert_contains(const char *text, const char *want)
{
	ck_assert_msg(strstr(text, want) != NULL, "'%s' does not say '%s'",
	    text, want);
}

/* What ipam_audit_verify_dir() says: broken, and how. */
static void
assert_report(bool truncated, bool rolled_back, int64_t records,
    int64_t last, int64_t head, int64_t anchor)
{
	struct ipam_audit_report rep;

	ck_assert_int_eq(ipam_audit_verify_dir(dir, &rep), 0);
	ck_assert(!rep.ok);
	ck_assert_int_eq(rep.truncated, truncated);
	ck_assert_int_eq(rep.rolled_back, rolled_back);
	ck_assert_int_eq(rep.records, records);
	ck_assert_int_eq(rep.last_seq, last);
	ck_assert_int_eq(rep.head_seq, head);
	ck_assert_int_eq(rep.anchor_seq, anchor);
	ck_assert_int_eq(rep.bad_seq, last + 1);
}

/* The last records deleted while evpnd is stopped: refused at open,
 * naming the seqs, and nothing is written over them. */
START_TEST(test_truncation_refused)
{
	char err[1024], want[1200];

	dir_make();
	audit_fill();
	db_exec("DELETE FROM audit WHERE seq > 7");
	ck_assert_int_eq(open_refused(err, sizeof(err)), EBADMSG);
	snprintf(want, sizeof(want), "%s/ipam.db: audit chain: seq 8: "
	    "records 8..10 are missing at the end (the chain head names seq "
	    "10, the last record is seq 7); the IPAM is refused", dir);
	assert_contains(err, want);
	ck_assert_int_eq(open_refused(err, sizeof(err)), EBADMSG);
	assert_report(true, false, 7, 7, 10, 10);
	/* The head removed as well: still refused. */
	db_exec("DELETE FROM meta WHERE key = 'audit_head'");
	ck_assert_int_eq(open_refused(err, sizeof(err)), EBADMSG);
	assert_contains(err, "the chain head is missing: records up to seq 7 "
	    "are not vouched for");
	dir_remove();
}
END_TEST

static void
fill_more(const char *prefix, int n)
{
	struct harness h;
	char res[32];

	harness_open(&h);
	for (int i = 0; i < n; i++) {
		snprintf(res, sizeof(res), "%s%d", prefix, i);
		allocate(&h, res, IPAM_FAMILY_IPV4);
	}
	ipam_store_flush(h.store);
	ck_assert_int_eq(h.failed, 0);
	harness_close(&h);
}

/* The whole database copied back from an older copy, chain head and
 * all: only the anchor outside it can tell, and does. */
START_TEST(test_rollback_refused)
{
	struct ipam_audit_report rep;
	char err[1024], want[1200];

	dir_make();
	audit_fill();				/* seq 1..10 */
	file_copy("ipam.db", "old.db");
	fill_more("b", 3);			/* seq 11..13, anchored */
	db_replace("old.db");
	ck_assert_int_eq(open_refused(err, sizeof(err)), EBADMSG);
	snprintf(want, sizeof(want), "%s/ipam.db: audit chain: seq 11: "
	    "records 11..13 are missing: the database ends at seq 10 but "
	    "ipam.anchor names seq 13 (rolled back to an older copy); the "
	    "IPAM is refused: put back the latest copy of the database (to "
	    "accept the loss instead, remove ipam.anchor)", dir);
	ck_assert_str_eq(err, want);
	assert_report(false, true, 10, 10, 10, 13);

	/* Another history of the same length: the anchor names a record
	 * this copy does not have. */
	file_copy("ipam.anchor", "filler");
	{
		char path[512];

		path_of("ipam.anchor", path, sizeof(path));
		ck_assert_int_eq(unlink(path), 0);
	}
	fill_more("c", 3);			/* another seq 11..13 */
	file_copy("filler", "ipam.anchor");
	ck_assert_int_eq(open_refused(err, sizeof(err)), EBADMSG);
	assert_contains(err, "audit chain: seq 13: not the record ipam.anchor "
	    "names (the database was replaced by another copy)");
	ck_assert_int_eq(ipam_audit_verify_dir(dir, &rep), 0);
	ck_assert(rep.rolled_back);
	ck_assert_int_eq(rep.bad_seq, 13);
	dir_remove();
}
END_TEST

/* Memory is what the disk holds: a restart finds the same, and the
 * audit chain verifies. */
static void
reopen_same(struct harness *h)
{
	struct ipam_audit_report rep;
	char *before = dump(h->ipam), *after;

	harness_close(h);
	harness_open(h);
	after = dump(h->ipam);
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(ipam_audit_verify(h->store, &rep), 0);
	ck_assert_msg(rep.ok, "%s", rep.reason);
	free(before);
	free(after);
}

/* Another connection holds the write lock. */
static sqlite3 *
lock_hold(void)
{
	char path[512];
	sqlite3 *db;

	path_of("ipam.db", path, sizeof(path));
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL),
	    SQLITE_OK);
	return db;
}

struct locked_release {
	struct harness	*h;
	sqlite3		*lock;
	int		 status;
	const char	*ip_then;	/* what memory held when it ran */
};

static void
locked_release_done(int status, void *arg)
{
	struct locked_release *lr = arg;
	const struct ipam_alloc *a = find(lr->h->ipam, "r1");
	static char ip[IPADDR_STRLEN];

	lr->h->done++;
	lr->status = status;
	lr->ip_then = a != NULL ? ipaddr_fmt(&a->ip, ip, sizeof(ip)) : "";
	/* The lock goes: what was queued behind it commits now. */
	ck_assert_int_eq(sqlite3_exec(lr->lock, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(lr->lock);
	lr->lock = NULL;
}

/*
 * A release cannot commit (SQLITE_BUSY after the busy timeout): the
 * allocation is back in memory before the callback runs, and what was
 * allocated meanwhile out of its address (no quarantine in pool-q0)
 * fails, since the store still holds the address.
 */
START_TEST(test_release_locked)
{
	struct locked_release lr;
	struct ipam_alloc gone;
	struct ipam_op op;
	struct harness h;
	const struct ipam_alloc *a;
	char ip[IPADDR_STRLEN];
	int64_t until;

	dir_make();
	harness_open(&h);
	allocate_in(&h, "pool-q0", "r1", IPAM_FAMILY_IPV4);
	allocate(&h, "keep", IPAM_FAMILY_DUAL);
	wait_done(&h, 2);
	ck_assert_int_eq(h.failed, 0);

	memset(&lr, 0, sizeof(lr));
	lr.h = &h;
	lr.lock = lock_hold();
	ck_assert_int_eq(ipam_release(h.ipam, NULL, "r1", &gone, &until), 0);
	ipam_op_release(&op, &gone, until, "test");
	ck_assert_int_eq(ipam_store_submit(h.store, &op, locked_release_done,
	    &lr), 0);
	usleep(200 * 1000);	/* the writer is waiting for the lock */
	allocate_in(&h, "pool-q0", "r2", IPAM_FAMILY_IPV4);
	a = allocate_in(&h, "pool-q0", "r3", IPAM_FAMILY_IPV4);
	ck_assert_str_eq(ipaddr_fmt(&a->ip, ip, sizeof(ip)), "10.20.0.1");
	wait_done(&h, 5);

	ck_assert_int_eq(lr.status, -1);
	ck_assert_str_eq(lr.ip_then, "10.20.0.1");
	a = find(h.ipam, "r1");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(ipaddr_fmt(&a->ip, ip, sizeof(ip)), "10.20.0.1");
	ck_assert_ptr_null(find(h.ipam, "r3"));
	ck_assert_int_ge(h.failed, 1);	/* r3 (and r2 if batched) */
	ck_assert_ptr_nonnull(find(h.ipam, "keep"));
	reopen_same(&h);
	harness_close(&h);
	dir_remove();
}
END_TEST

/* A small tmpfs fills up: each failed change is undone, nothing is
 * half-applied, and the store goes on once there is room. */
START_TEST(test_disk_full)
{
	struct ipam_pool_stats st;
	struct harness h;
	char res[32], failed_res[32] = "", path[512];
	static char filler[192 * 1024];
	int ok = 0, fd, n, failed;

	if (geteuid() != 0) {
		fprintf(stderr, "test_disk_full: skipped: mounting a tmpfs "
		    "needs root\n");
		return;
	}
	dir_make();
	ck_assert_msg(unshare(CLONE_NEWNS) == 0, "unshare: %s",
	    strerror(errno));
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ck_assert_msg(mount("evpnd-test", dir, "tmpfs", 0,
	    "size=512k,mode=0700") == 0, "mount: %s", strerror(errno));
	path_of("filler", path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	memset(filler, 0x5a, sizeof(filler));
	ck_assert_int_eq(write(fd, filler, sizeof(filler)), sizeof(filler));
	close(fd);

	harness_open(&h);
	for (int i = 0; i < 20000; i++) {
		snprintf(res, sizeof(res), "f%d", i);
		n = h.done + 1;
		allocate(&h, res, IPAM_FAMILY_DUAL);
		wait_done(&h, n);
		if (h.failed > 0) {
			snprintf(failed_res, sizeof(failed_res), "%s", res);
			break;
		}
		ok++;
	}
	ck_assert_msg(failed_res[0] != '\0', "the disk never filled up");
	ck_assert_ptr_null(find(h.ipam, failed_res));
	ipam_pool_stats(ipam_pool_find(h.ipam, "pool-a"), &st);
	ck_assert_uint_eq(st.allocations, (uint64_t)ok);
	ck_assert_uint_eq(st.v4.used, (uint64_t)ok);
	/* A release on the full disk: kept if it did not commit. */
	failed = h.failed;
	n = h.done + 1;
	release(&h, "f0");
	wait_done(&h, n);
	if (h.failed > failed)
		ck_assert_ptr_nonnull(find(h.ipam, "f0"));
	else
		ck_assert_ptr_null(find(h.ipam, "f0"));
	/* Room again. */
	ck_assert_int_eq(unlink(path), 0);
	failed = h.failed;
	n = h.done + 1;
	allocate(&h, "after", IPAM_FAMILY_IPV4);
	wait_done(&h, n);
	ck_assert_int_eq(h.failed, failed);
	reopen_same(&h);
	fprintf(stderr, "disk full after %d allocations\n", ok);
	harness_close(&h);
	ck_assert_int_eq(umount2(dir, MNT_DETACH), 0);
	dir_remove();
}
END_TEST

static uint32_t
be_get(const uint8_t *p, int n)
{
	uint32_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* A leaf in the middle of a table's b-tree (its root is an interior
 * page: SQLite file format §1.6). */
static uint32_t
middle_leaf(const char *table, uint32_t *page_size)
{
	static uint8_t page[65536];
	char path[512], sql[128];
	const uint8_t *hdr;
	sqlite3_stmt *st;
	sqlite3 *db;
	uint32_t root, ncells, cell;
	int fd;

	path_of("ipam.db", path, sizeof(path));
	snprintf(sql, sizeof(sql), "SELECT rootpage FROM sqlite_master WHERE "
	    "type = 'table' AND name = '%s'", table);
	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	root = (uint32_t)sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, page, 100, 0), 100);
	*page_size = be_get(page + 16, 2) == 1 ? 65536 : be_get(page + 16, 2);
	ck_assert_int_eq(pread(fd, page, *page_size,
	    (off_t)(root - 1) * *page_size), *page_size);
	close(fd);
	hdr = page + (root == 1 ? 100 : 0);
	ck_assert_int_eq(hdr[0], 0x05);	/* an interior table page */
	ncells = be_get(hdr + 3, 2);
	ck_assert_uint_ge(ncells, 4);
	cell = be_get(hdr + 12 + 2 * (ncells / 2), 2);
	return be_get(page + cell, 4);
}

/* A page in the middle of the allocations table overwritten: the start
 * is refused with the file named, not made with part of the rows. */
START_TEST(test_corrupt_page)
{
	static uint8_t junk[65536];
	struct harness h;
	char res[64], err[1024], want[1200], path[512];
	uint32_t leaf, page_size;
	int fd;

	dir_make();
	harness_open(&h);
	for (int i = 0; i < 3000; i++) {
		snprintf(res, sizeof(res), "corrupt-test-resource-%04d", i);
		allocate(&h, res, IPAM_FAMILY_IPV4);
	}
	wait_done(&h, 3000);
	ck_assert_int_eq(h.failed, 0);
	harness_close(&h);
	path_of("ipam.db-wal", path, sizeof(path));
	ck_assert_int_eq(access(path, F_OK), -1);	/* checkpointed */

	leaf = middle_leaf("allocations", &page_size);
	memset(junk, 0xa5, sizeof(junk));
	path_of("ipam.db", path, sizeof(path));
	fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, junk, page_size,
	    (off_t)(leaf - 1) * page_size), page_size);
	close(fd);

	ck_assert_int_eq(open_refused(err, sizeof(err)), EBADMSG);
	snprintf(want, sizeof(want), "%s/ipam.db: the database is corrupt "
	    "(quick_check: ", dir);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	assert_contains(err, "the IPAM is refused: restore the file from a "
	    "backup");
	dir_remove();
}
END_TEST

static mode_t
file_mode(const char *name)
{
	char path[512];
	struct stat sb;

	path_of(name, path, sizeof(path));
	ck_assert_msg(stat(path, &sb) == 0, "%s: %s", path, strerror(errno));
	return sb.st_mode & 07777;
}

START_TEST(test_file_modes)
{
	struct harness h;
	char path[512];

	umask(022);
	dir_make();
	harness_open(&h);
	allocate(&h, "m", IPAM_FAMILY_IPV4);
	wait_done(&h, 1);
	ck_assert_int_eq(file_mode("ipam.db"), 0600);
	ck_assert_int_eq(file_mode("ipam.db-wal"), 0600);
	ck_assert_int_eq(file_mode("ipam.db-shm"), 0600);
	ck_assert_int_eq(file_mode("ipam.key"), 0600);
	harness_close(&h);
	ck_assert_int_eq(file_mode("ipam.anchor"), 0600);
	/* Looser modes are tightened at open. */
	ck_assert_int_eq(chmod(dir, 0777), 0);
	path_of("ipam.db", path, sizeof(path));
	ck_assert_int_eq(chmod(path, 0644), 0);
	path_of("ipam.anchor", path, sizeof(path));
	ck_assert_int_eq(chmod(path, 0644), 0);
	harness_open(&h);
	ck_assert_int_eq(file_mode("."), 0755);
	ck_assert_int_eq(file_mode("ipam.db"), 0600);
	ck_assert_int_eq(file_mode("ipam.anchor"), 0600);
	harness_close(&h);
	dir_remove();
}
END_TEST

/* Two tenants use one name: both commit, both come back, either goes
 * alone. */
START_TEST(test_names_per_tenant)
{
	struct harness h;
	struct ipam_alloc gone;
	struct ipam_op op;
	int64_t until;

	dir_make();
	harness_open(&h);
	allocate_in(&h, "pool-a", "same", IPAM_FAMILY_IPV4);
	allocate_in(&h, "pool-q0", "same", IPAM_FAMILY_IPV4);
	wait_done(&h, 2);
	ck_assert_int_eq(h.failed, 0);
	harness_close(&h);

	harness_open(&h);
	ck_assert_str_eq(ipam_find(h.ipam, "tenant-a", "same")->pool,
	    "pool-a");
	ck_assert_str_eq(ipam_find(h.ipam, NULL, "same")->pool, "pool-q0");
	ck_assert_int_eq(ipam_release(h.ipam, NULL, "same", &gone, &until), 0);
	ipam_op_release(&op, &gone, until, h.actor);
	ck_assert_int_eq(ipam_store_submit(h.store, &op, count_done, &h), 0);
	wait_done(&h, 1);
	ck_assert_int_eq(h.failed, 0);
	harness_close(&h);

	harness_open(&h);
	ck_assert_ptr_null(ipam_find(h.ipam, NULL, "same"));
	ck_assert_ptr_nonnull(ipam_find(h.ipam, "tenant-a", "same"));
	harness_close(&h);
	dir_remove();
}
END_TEST

/* A schema 1 database (no actor, no labels, no unique indexes, no
 * pools, allocations keyed by resource alone) is upgraded; one with an
 * address held twice is refused, both holders named. */
START_TEST(test_schema_migration)
{
	struct ipam_audit_report rep;
	struct harness h;
	char err[1024], want[1200];

	dir_make();
	harness_open(&h);
	h.actor = NULL;
	for (int i = 0; i < 4; i++) {
		char res[8];

		snprintf(res, sizeof(res), "a%d", i);
		allocate(&h, res, IPAM_FAMILY_DUAL);
	}
	wait_done(&h, 4);
	harness_close(&h);
	db_exec("DROP INDEX allocations_ip; DROP INDEX allocations_ipv6;"
	    "DROP INDEX allocations_mac; ALTER TABLE audit DROP COLUMN actor;"
	    "ALTER TABLE audit DROP COLUMN labels; DROP TABLE pools;"
	    "CREATE TABLE v1 (resource TEXT PRIMARY KEY, pool TEXT NOT NULL,"
	    " ip TEXT, ipv6 TEXT, mac TEXT NOT NULL, preallocated INTEGER NOT"
	    " NULL, created INTEGER NOT NULL);"
	    "INSERT INTO v1 SELECT resource, pool, ip, ipv6, mac,"
	    " preallocated, created FROM allocations ORDER BY rowid;"
	    "DROP TABLE allocations; ALTER TABLE v1 RENAME TO allocations;"
	    "UPDATE meta SET value = 1 WHERE key = 'schema_version'");

	harness_open(&h);
	allocate(&h, "a4", IPAM_FAMILY_IPV4);
	wait_done(&h, 1);
	ck_assert_int_eq(h.failed, 0);
	ck_assert_int_eq(ipam_audit_verify(h.store, &rep), 0);
	ck_assert_msg(rep.ok, "%s", rep.reason);
	ck_assert_int_eq(rep.records, 5);
	harness_close(&h);
	ck_assert_int_eq(db_count("SELECT value FROM meta WHERE key = "
	    "'schema_version'"), IPAM_SCHEMA_VERSION);
	/* Keyed by pool and resource (names are per tenant), in order. */
	ck_assert_int_eq(db_count("SELECT count(*) FROM pragma_table_info("
	    "'allocations') WHERE pk > 0"), 2);
	ck_assert_int_eq(db_count("SELECT rowid FROM allocations WHERE "
	    "resource = 'a4'"), 5);
	ck_assert_int_eq(db_count("SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'index' AND name LIKE 'allocations_%'"), 3);
	ck_assert_int_eq(db_count("SELECT count(*) FROM audit WHERE actor = "
	    "'test'"), 1);

	db_exec("DROP INDEX allocations_ip;"
	    "UPDATE allocations SET ip = '10.10.0.2' WHERE resource = 'a2'");
	ck_assert_int_eq(open_refused(err, sizeof(err)), EBADMSG);
	snprintf(want, sizeof(want), "%s/ipam.db: pool pool-a: ip 10.10.0.2 "
	    "is held by both a0 and a2; the IPAM is refused until one of them "
	    "is removed", dir);
	ck_assert_str_eq(err, want);
	dir_remove();
}
END_TEST

/*
 * Shadow engine state (schema 5): a put replaces the pool's row, is
 * answered by get at once, commits without an audit record and is
 * there after a restart; an unusable row is skipped, not fatal; a
 * schema 4 database gets the table.
 */
START_TEST(test_shadow_state_rows)
{
	struct ipam_audit_report rep;
	struct harness h;
	const void *blob;
	size_t len;
	int64_t saved;

	dir_make();
	harness_open(&h);
	ck_assert_int_eq(ipam_store_shadow_get(h.store, "pool-a", &blob, &len,
	    &saved), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(ipam_store_shadow_put(h.store, "pool-a", "first", 5,
	    100, count_done, &h), 0);
	ck_assert_int_eq(ipam_store_shadow_put(h.store, "pool-a", "second!",
	    7, 200, count_done, &h), 0);
	ck_assert_int_eq(ipam_store_shadow_put(h.store, "pool-a", "", 0, 1,
	    NULL, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ipam_store_shadow_get(h.store, "pool-a", &blob, &len,
	    &saved), 0);
	ck_assert_uint_eq(len, 7);
	ck_assert_int_eq(memcmp(blob, "second!", 7), 0);
	wait_done(&h, 2);
	ck_assert_int_eq(h.failed, 0);
	ck_assert_int_eq(ipam_audit_verify(h.store, &rep), 0);
	ck_assert_int_eq(rep.records, 0);
	harness_close(&h);
	ck_assert_int_eq(db_count("SELECT count(*) FROM shadow_state"), 1);

	db_exec("INSERT INTO shadow_state VALUES ('pool-q0', 5, x'')");
	harness_open(&h);
	ck_assert_int_eq(ipam_store_shadow_get(h.store, "pool-a", &blob, &len,
	    &saved), 0);
	ck_assert_uint_eq(len, 7);
	ck_assert_int_eq(saved, 200);
	ck_assert_int_eq(memcmp(blob, "second!", 7), 0);
	ck_assert_int_eq(ipam_store_shadow_get(h.store, "pool-q0", &blob, &len,
	    &saved), -1);
	harness_close(&h);

	db_exec("DROP TABLE shadow_state; UPDATE meta SET value = 4 WHERE "
	    "key = 'schema_version'");
	harness_open(&h);
	ck_assert_int_eq(ipam_store_shadow_put(h.store, "pool-a", "x", 1, 300,
	    count_done, &h), 0);
	wait_done(&h, 1);
	ck_assert_int_eq(h.failed, 0);
	harness_close(&h);
	ck_assert_int_eq(db_count("SELECT value FROM meta WHERE key = "
	    "'schema_version'"), 5);
	ck_assert_int_eq(db_count("SELECT saved FROM shadow_state"), 300);
	dir_remove();
}
END_TEST

struct heads {
	int		 n;
	struct ipam_audit_head last;
};

static void
head_seen(const struct ipam_audit_head *head, void *arg)
{
	struct heads *hs = arg;

	hs->n++;
	hs->last = *head;
}

/* The head leaves the database: the hook every 1000 records and at
 * shutdown, and the anchor file. */
START_TEST(test_head_published)
{
	struct ipam_audit_head cur;
	struct heads hs = { 0 };
	struct harness h;
	char res[16], path[512], line[256], want[200];
	FILE *f;

	dir_make();
	harness_open(&h);
	ipam_store_set_head_hook(h.store, head_seen, &hs);
	for (int i = 0; i < IPAM_HEAD_PUBLISH_EVERY + 1; i++) {
		snprintf(res, sizeof(res), "p%d", i);
		allocate(&h, res, IPAM_FAMILY_IPV4);
	}
	wait_done(&h, IPAM_HEAD_PUBLISH_EVERY + 1);
	ck_assert_int_eq(h.failed, 0);
	ck_assert_int_eq(hs.n, 1);
	ck_assert_int_ge(hs.last.seq, IPAM_HEAD_PUBLISH_EVERY);
	ck_assert(!hs.last.shutdown);
	ipam_store_head(h.store, &cur);
	ck_assert_int_eq(cur.seq, IPAM_HEAD_PUBLISH_EVERY + 1);
	ck_assert_uint_eq(strlen(cur.hex), 64);
	harness_close(&h);
	ck_assert_int_eq(hs.n, 2);
	ck_assert(hs.last.shutdown);
	ck_assert_int_eq(hs.last.seq, cur.seq);
	ck_assert_str_eq(hs.last.hex, cur.hex);
	path_of("ipam.anchor", path, sizeof(path));
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	fclose(f);
	snprintf(want, sizeof(want), "evpnd-ipam-anchor 1 seq %lld head %s "
	    "tag ", (long long)cur.seq, cur.hex);
	ck_assert_msg(strncmp(line, want, strlen(want)) == 0, "%s", line);
	dir_remove();
}
END_TEST

struct listed {
	int		 n;
	int64_t		 seq[8];
	char		 actor[8][16];
	char		 op[8][16];
	char		 prev[8][65];
	char		 hmac[8][65];
};

static int
record_seen(const struct ipam_audit_record *r, void *arg)
{
	struct listed *l = arg;

	ck_assert_int_lt(l->n, 8);
	l->seq[l->n] = r->seq;
	snprintf(l->actor[l->n], sizeof(l->actor[0]), "%s", r->actor);
	snprintf(l->op[l->n], sizeof(l->op[0]), "%s", r->op);
	snprintf(l->prev[l->n], sizeof(l->prev[0]), "%s", r->prev_hex);
	snprintf(l->hmac[l->n], sizeof(l->hmac[0]), "%s", r->hmac_hex);
	l->n++;
	return 0;
}

/* Each record names its actor; the records can be listed from a seq. */
START_TEST(test_audit_records)
{
	struct listed l;
	struct harness h;
	char err[256];

	dir_make();
	harness_open(&h);
	h.actor = "alice";
	allocate(&h, "x", IPAM_FAMILY_IPV4);
	h.actor = "bob";
	release(&h, "x");
	h.actor = NULL;
	allocate(&h, "y", IPAM_FAMILY_IPV4);
	ipam_store_flush(h.store);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(ipam_audit_records(h.store, 0, 10, record_seen, &l,
	    err, sizeof(err)), 3);
	ck_assert_int_eq(l.seq[0], 1);
	ck_assert_str_eq(l.op[0], "allocate");
	ck_assert_str_eq(l.actor[0], "alice");
	ck_assert_str_eq(l.op[1], "release");
	ck_assert_str_eq(l.actor[1], "bob");
	ck_assert_str_eq(l.actor[2], "");
	ck_assert_str_eq(l.prev[0], "00000000000000000000000000000000"
	    "00000000000000000000000000000000");
	ck_assert_str_eq(l.prev[1], l.hmac[0]);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(ipam_audit_records(h.store, 1, 1, record_seen, &l,
	    err, sizeof(err)), 1);
	ck_assert_int_eq(l.seq[0], 2);
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
	tcase_add_test(tc, test_names_per_tenant);
	tcase_add_test(tc, test_crash_kill9);
	tcase_add_test(tc, test_audit_ok);
	tcase_add_loop_test(tc, test_audit_tamper, 0,
	    (int)(sizeof(tampers) / sizeof(tampers[0])));
	tcase_add_test(tc, test_open_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("faults");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_truncation_refused);
	tcase_add_test(tc, test_rollback_refused);
	tcase_add_test(tc, test_release_locked);
	tcase_add_test(tc, test_disk_full);
	tcase_add_test(tc, test_corrupt_page);
	tcase_add_test(tc, test_file_modes);
	tcase_add_test(tc, test_schema_migration);
	tcase_add_test(tc, test_shadow_state_rows);
	tcase_add_test(tc, test_head_published);
	tcase_add_test(tc, test_audit_records);
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
