/*
 * The durable store: SQLite in WAL mode, written by one background
 * thread with group commit, completions delivered on the event loop.
 *
 * How this works: ipam_store_open() opens STATE/ipam.db on the calling
 * thread, creates or checks the schema, loads allocations and the
 * quarantine into the allocator, and only then starts the writer; from
 * then on the writer alone uses the connection.  ipam_store_submit()
 * copies an op onto the pending queue (mutex + condition variable).
 * The writer takes the whole queue, runs it as one transaction (BEGIN
 * IMMEDIATE ... COMMIT, each op with its audit record, then the chain
 * head), and moves the ops to the done queue with their status.  It
 * then bumps an eventfd; the event loop's read callback takes the done
 * queue and runs each done callback, so callbacks never run on the
 * writer thread.  If a batch fails, each op is retried in a transaction
 * of its own so one bad op fails alone.
 *
 * Durability: journal_mode=WAL and synchronous=FULL: COMMIT returns
 * after the WAL is fsync'd, so a callback (and the answer the caller
 * sends from it) follows a durable commit; kill -9 or power loss loses
 * no acknowledged change, and a change is either wholly in (allocation
 * row, quarantine rows, audit record) or wholly out.  A batch costs one
 * fsync whatever its size, which is what makes group commit pay.
 */
#include "ipam/ipam_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "common/log.h"
#include "common/util.h"

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta ("
	" key TEXT PRIMARY KEY, value BLOB);"
	"CREATE TABLE IF NOT EXISTS allocations ("
	" resource TEXT PRIMARY KEY, pool TEXT NOT NULL, ip TEXT, ipv6 TEXT,"
	" mac TEXT NOT NULL, preallocated INTEGER NOT NULL,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS quarantine ("
	" pool TEXT NOT NULL, ip TEXT NOT NULL, until INTEGER NOT NULL,"
	" PRIMARY KEY (pool, ip));"
	"CREATE TABLE IF NOT EXISTS reservations ("
	" pool TEXT NOT NULL, ip TEXT NOT NULL, name TEXT NOT NULL,"
	" PRIMARY KEY (pool, ip));"
	"CREATE TABLE IF NOT EXISTS audit ("
	" seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, op TEXT NOT NULL,"
	" resource TEXT, pool TEXT, ip TEXT, ipv6 TEXT, mac TEXT,"
	" prev_hmac BLOB NOT NULL, hmac BLOB NOT NULL);"
	/* fabric pools: blocks held, addresses borrowed and lent */
	"CREATE TABLE IF NOT EXISTS fabric_blocks ("
	" pool TEXT NOT NULL, block TEXT NOT NULL, kind TEXT NOT NULL,"
	" revision INTEGER NOT NULL, claimed INTEGER NOT NULL,"
	" PRIMARY KEY (pool, block));";

enum stmt_id {
	ST_ALLOC_INSERT,
	ST_ALLOC_DELETE,
	ST_ALLOC_CLAIM,
	ST_QUAR_INSERT,
	ST_QUAR_DELETE,
	ST_RES_INSERT,
	ST_RES_DELETE,
	ST_AUDIT_INSERT,
	ST_HEAD_SET,
	ST_BLOCK_INSERT,
	ST_BLOCK_DELETE,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_ALLOC_INSERT] = "INSERT INTO allocations (resource, pool, ip, "
	    "ipv6, mac, preallocated, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
	[ST_ALLOC_DELETE] = "DELETE FROM allocations WHERE resource = ?",
	[ST_ALLOC_CLAIM] = "UPDATE allocations SET resource = ?, "
	    "preallocated = 0 WHERE resource = ? AND preallocated = 1",
	[ST_QUAR_INSERT] = "INSERT OR REPLACE INTO quarantine (pool, ip, "
	    "until) VALUES (?, ?, ?)",
	[ST_QUAR_DELETE] = "DELETE FROM quarantine WHERE pool = ? AND ip = ?",
	[ST_RES_INSERT] = "INSERT OR REPLACE INTO reservations (pool, ip, "
	    "name) VALUES (?, ?, ?)",
	[ST_RES_DELETE] = "DELETE FROM reservations WHERE pool = ? AND ip = ?",
	[ST_AUDIT_INSERT] = "INSERT INTO audit (seq, time, op, resource, pool, "
	    "ip, ipv6, mac, prev_hmac, hmac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
	    "?, ?)",
	[ST_HEAD_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES "
	    "('audit_head', ?)",
	[ST_BLOCK_INSERT] = "INSERT OR REPLACE INTO fabric_blocks (pool, "
	    "block, kind, revision, claimed) VALUES (?, ?, ?, ?, ?)",
	[ST_BLOCK_DELETE] = "DELETE FROM fabric_blocks WHERE pool = ? AND "
	    "block = ?",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
};

struct store_op {
	TAILQ_ENTRY(store_op) link;
	struct ipam_op	 op;
	ipam_done_cb	 cb;
	void		*arg;
	int		 status;
};
TAILQ_HEAD(store_op_list, store_op);

/* A reservation as the store holds it, for ipam_store_sync_reservations. */
struct store_res {
	char		 pool[IPAM_NAME_MAX + 1];
	char		 ip[IPADDR_STRLEN];
	char		 name[IPAM_NAME_MAX + 1];
};

struct ipam_store {
	char		*dir;
	char		*dbpath;
	sqlite3		*db;
	sqlite3_stmt	*st[ST_COUNT];
	uint8_t		 key[AUDIT_KEY_LEN];
	int64_t		 audit_seq;
	uint8_t		 audit_head[AUDIT_HMAC_LEN];
	struct ipam	*ipam;
	struct store_res *res;
	size_t		 nres;

	pthread_t	 thread;
	bool		 thread_started;
	pthread_mutex_t	 mtx;
	pthread_cond_t	 work_cond;	/* writer: something to do */
	pthread_cond_t	 done_cond;	/* flush: a batch finished */
	struct store_op_list pending;
	struct store_op_list done;
	bool		 stop;
	uint64_t	 submitted;
	uint64_t	 finished;	/* by the writer */
	uint64_t	 delivered;	/* callbacks run */
	struct ipam_store_stats stats;

	int		 efd;
	struct event	*ev;
};

const char *
store_db_path(const struct ipam_store *s)
{
	return s->dbpath;
}

const uint8_t *
store_key(const struct ipam_store *s)
{
	return s->key;
}

const char *
ipam_store_path(const struct ipam_store *s)
{
	return s->dbpath;
}

/* Binding helpers: empty text is stored as NULL. */

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL || s[0] == '\0')
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static int
stmt_run(struct ipam_store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		log_warn("ipam store: %s: %s", stmt_sql[id],
		    sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

static const char *
ip_text(const struct ipaddr *ip, char *buf, size_t len)
{
	if (!ipaddr_is_set(ip))
		return "";
	return ipaddr_fmt(ip, buf, len);
}

/* Writer: applying ops */

static int
audit_append(struct ipam_store *s, const struct audit_rec *rec)
{
	struct audit_rec r = *rec;
	sqlite3_stmt *st = s->st[ST_AUDIT_INSERT];
	uint8_t h[AUDIT_HMAC_LEN];

	r.seq = s->audit_seq + 1;
	audit_hmac(s->key, s->audit_head, &r, h);
	sqlite3_bind_int64(st, 1, r.seq);
	sqlite3_bind_int64(st, 2, r.time);
	bind_text(st, 3, r.op);
	bind_text(st, 4, r.resource);
	bind_text(st, 5, r.pool);
	bind_text(st, 6, r.ip);
	bind_text(st, 7, r.ipv6);
	bind_text(st, 8, r.mac);
	sqlite3_bind_blob(st, 9, s->audit_head, AUDIT_HMAC_LEN,
	    SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 10, h, AUDIT_HMAC_LEN, SQLITE_TRANSIENT);
	if (stmt_run(s, ST_AUDIT_INSERT) == -1)
		return -1;
	s->audit_seq = r.seq;
	memcpy(s->audit_head, h, AUDIT_HMAC_LEN);
	return 0;
}

static int
head_write(struct ipam_store *s)
{
	uint8_t blob[8 + 2 * AUDIT_HMAC_LEN];

	for (int i = 0; i < 8; i++)
		blob[i] = (uint8_t)((uint64_t)s->audit_seq >> (56 - 8 * i));
	memcpy(blob + 8, s->audit_head, AUDIT_HMAC_LEN);
	audit_head_tag(s->key, s->audit_seq, s->audit_head,
	    blob + 8 + AUDIT_HMAC_LEN);
	sqlite3_bind_blob(s->st[ST_HEAD_SET], 1, blob, sizeof(blob),
	    SQLITE_TRANSIENT);
	return stmt_run(s, ST_HEAD_SET);
}

static int
quarantine_row(struct ipam_store *s, enum stmt_id id, const char *pool,
    const char *ip, int64_t until)
{
	if (ip[0] == '\0')
		return 0;
	sqlite3_bind_text(s->st[id], 1, pool, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s->st[id], 2, ip, -1, SQLITE_TRANSIENT);
	if (id == ST_QUAR_INSERT)
		sqlite3_bind_int64(s->st[id], 3, until);
	return stmt_run(s, id);
}

static int
apply_alloc(struct ipam_store *s, const struct ipam_op *op,
    struct audit_rec *r)
{
	sqlite3_stmt *st = s->st[ST_ALLOC_INSERT];

	r->op = "allocate";
	sqlite3_bind_text(st, 1, op->alloc.resource, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, op->pool, -1, SQLITE_TRANSIENT);
	bind_text(st, 3, r->ip);
	bind_text(st, 4, r->ipv6);
	bind_text(st, 5, r->mac);
	sqlite3_bind_int(st, 6, op->alloc.preallocated);
	sqlite3_bind_int64(st, 7, op->alloc.created);
	if (stmt_run(s, ST_ALLOC_INSERT) == -1 ||
	    quarantine_row(s, ST_QUAR_DELETE, op->pool, r->ip, 0) == -1 ||
	    quarantine_row(s, ST_QUAR_DELETE, op->pool, r->ipv6, 0) == -1)
		return -1;
	return 0;
}

static int
apply_release(struct ipam_store *s, const struct ipam_op *op,
    struct audit_rec *r)
{
	r->op = "release";
	sqlite3_bind_text(s->st[ST_ALLOC_DELETE], 1, op->alloc.resource, -1,
	    SQLITE_TRANSIENT);
	if (stmt_run(s, ST_ALLOC_DELETE) == -1 ||
	    quarantine_row(s, ST_QUAR_INSERT, op->pool, r->ip, op->until) == -1
	    || quarantine_row(s, ST_QUAR_INSERT, op->pool, r->ipv6,
	    op->until) == -1)
		return -1;
	return 0;
}

static int
apply_claim(struct ipam_store *s, const struct ipam_op *op,
    struct audit_rec *r)
{
	sqlite3_stmt *st = s->st[ST_ALLOC_CLAIM];

	r->op = "claim";
	sqlite3_bind_text(st, 1, op->alloc.resource, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, op->prev_resource, -1, SQLITE_TRANSIENT);
	if (stmt_run(s, ST_ALLOC_CLAIM) == -1)
		return -1;
	/* The pre-allocation must have been there to be claimed. */
	return sqlite3_changes(s->db) == 1 ? 0 : -1;
}

static int
apply_reservation(struct ipam_store *s, const struct ipam_op *op,
    struct audit_rec *r)
{
	enum stmt_id id = op->kind == IPAM_OP_RESERVE ? ST_RES_INSERT :
	    ST_RES_DELETE;
	sqlite3_stmt *st = s->st[id];

	r->op = op->kind == IPAM_OP_RESERVE ? "reserve" : "unreserve";
	r->resource = op->reservation.name;
	sqlite3_bind_text(st, 1, op->pool, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, r->ip, -1, SQLITE_TRANSIENT);
	if (id == ST_RES_INSERT)
		sqlite3_bind_text(st, 3, op->reservation.name, -1,
		    SQLITE_TRANSIENT);
	return stmt_run(s, id);
}

/* Audited as "block-claim"/"block-release", "borrow"/"return",
 * "lend"/"lend-end", the block in the ip column. */
static int
apply_block(struct ipam_store *s, const struct ipam_op *op,
    struct audit_rec *r, char *buf, size_t len)
{
	bool add = op->kind == IPAM_OP_BLOCK_ADD;
	enum stmt_id id = add ? ST_BLOCK_INSERT : ST_BLOCK_DELETE;
	const char *k = op->block.kind;
	sqlite3_stmt *st = s->st[id];

	if (strcmp(k, "block") == 0)
		r->op = add ? "block-claim" : "block-release";
	else if (strcmp(k, "borrowed") == 0)
		r->op = add ? "borrow" : "return";
	else
		r->op = add ? "lend" : "lend-end";
	r->ip = prefix_fmt(&op->block.prefix, buf, len);
	r->resource = r->ipv6 = r->mac = "";
	sqlite3_bind_text(st, 1, op->pool, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, r->ip, -1, SQLITE_TRANSIENT);
	if (add) {
		sqlite3_bind_text(st, 3, k, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, op->block.revision);
		sqlite3_bind_int64(st, 5, op->block.claimed);
	}
	return stmt_run(s, id);
}

static int
apply_op(struct ipam_store *s, const struct ipam_op *op)
{
	char ip[PREFIX_STRLEN], ip6[IPADDR_STRLEN], mac[MAC_STRLEN];
	struct audit_rec r;
	int rv;

	memset(&r, 0, sizeof(r));
	r.time = (int64_t)time(NULL);	/* when the record is written */
	r.pool = op->pool;
	r.resource = op->alloc.resource;
	r.ip = ip_text(&op->alloc.ip, ip, sizeof(ip));
	r.ipv6 = ip_text(&op->alloc.ipv6, ip6, sizeof(ip6));
	r.mac = mac_fmt(&op->alloc.mac, mac, sizeof(mac));
	switch (op->kind) {
	case IPAM_OP_ALLOC:
		rv = apply_alloc(s, op, &r);
		break;
	case IPAM_OP_RELEASE:
		rv = apply_release(s, op, &r);
		break;
	case IPAM_OP_CLAIM:
		rv = apply_claim(s, op, &r);
		break;
	case IPAM_OP_RESERVE:
	case IPAM_OP_UNRESERVE:
		r.ip = ip_text(&op->reservation.ip, ip, sizeof(ip));
		r.ipv6 = r.mac = "";
		rv = apply_reservation(s, op, &r);
		break;
	case IPAM_OP_BLOCK_ADD:
	case IPAM_OP_BLOCK_DEL:
		rv = apply_block(s, op, &r, ip, sizeof(ip));
		break;
	case IPAM_OP_SYNC:
		return 0;
	default:
		return -1;
	}
	if (rv == -1)
		return -1;
	return audit_append(s, &r);
}

/* Run ops from..to (exclusive) as one transaction. */
static int
txn_run(struct ipam_store *s, struct store_op *from, struct store_op *to)
{
	int64_t seq = s->audit_seq;
	uint8_t head[AUDIT_HMAC_LEN];
	struct store_op *so;

	memcpy(head, s->audit_head, sizeof(head));
	if (stmt_run(s, ST_BEGIN) == -1)
		return -1;
	for (so = from; so != to; so = TAILQ_NEXT(so, link))
		if (apply_op(s, &so->op) == -1)
			goto fail;
	if (s->audit_seq != seq && head_write(s) == -1)
		goto fail;
	if (stmt_run(s, ST_COMMIT) == 0)
		return 0;
fail:
	stmt_run(s, ST_ROLLBACK);
	s->audit_seq = seq;
	memcpy(s->audit_head, head, sizeof(head));
	return -1;
}

static void
batch_commit(struct ipam_store *s, struct store_op_list *batch)
{
	struct store_op *so;

	if (txn_run(s, TAILQ_FIRST(batch), NULL) == 0) {
		TAILQ_FOREACH(so, batch, link)
			so->status = 0;
		return;
	}
	/* One bad op must not fail the others: retry one by one. */
	TAILQ_FOREACH(so, batch, link)
		so->status = txn_run(s, so, TAILQ_NEXT(so, link));
}

static void *
writer_main(void *arg)
{
	struct ipam_store *s = arg;
	struct store_op_list batch;
	struct store_op *so;
	uint64_t n, one = 1;

	pthread_mutex_lock(&s->mtx);
	for (;;) {
		while (TAILQ_EMPTY(&s->pending) && !s->stop)
			pthread_cond_wait(&s->work_cond, &s->mtx);
		if (TAILQ_EMPTY(&s->pending))
			break;
		TAILQ_INIT(&batch);
		TAILQ_CONCAT(&batch, &s->pending, link);
		pthread_mutex_unlock(&s->mtx);

		batch_commit(s, &batch);

		pthread_mutex_lock(&s->mtx);
		n = 0;
		TAILQ_FOREACH(so, &batch, link) {
			n++;
			if (so->status != 0)
				s->stats.failed++;
		}
		s->stats.ops += n;
		s->stats.batches++;
		if (n > s->stats.max_batch)
			s->stats.max_batch = n;
		TAILQ_CONCAT(&s->done, &batch, link);
		s->finished += n;
		pthread_cond_broadcast(&s->done_cond);
		if (write(s->efd, &one, sizeof(one)) != sizeof(one))
			log_warn("ipam store: eventfd: %s", strerror(errno));
	}
	pthread_mutex_unlock(&s->mtx);
	return NULL;
}

/* Event loop side */

static void
deliver(struct ipam_store *s)
{
	struct store_op_list done;
	struct store_op *so;

	TAILQ_INIT(&done);
	pthread_mutex_lock(&s->mtx);
	TAILQ_CONCAT(&done, &s->done, link);
	pthread_mutex_unlock(&s->mtx);
	while ((so = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, so, link);
		s->delivered++;
		if (so->cb != NULL)
			so->cb(so->status, so->arg);
		free(so);
	}
}

static void
on_completion(evutil_socket_t fd, short what, void *arg)
{
	struct ipam_store *s = arg;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_warn("ipam store: eventfd: %s", strerror(errno));
	deliver(s);
}

int
ipam_store_submit(struct ipam_store *s, const struct ipam_op *op,
    ipam_done_cb cb, void *arg)
{
	struct store_op *so;

	if (op->kind > IPAM_OP_BLOCK_DEL) {
		errno = EINVAL;
		return -1;
	}
	so = xcalloc(1, sizeof(*so));
	so->op = *op;
	so->op.alloc.pool = NULL;	/* op->pool names it; no dangling */
	so->cb = cb;
	so->arg = arg;
	pthread_mutex_lock(&s->mtx);
	if (s->stop) {
		pthread_mutex_unlock(&s->mtx);
		free(so);
		errno = ESHUTDOWN;
		return -1;
	}
	TAILQ_INSERT_TAIL(&s->pending, so, link);
	s->submitted++;
	pthread_cond_signal(&s->work_cond);
	pthread_mutex_unlock(&s->mtx);
	return 0;
}

void
ipam_store_flush(struct ipam_store *s)
{
	for (;;) {
		pthread_mutex_lock(&s->mtx);
		while (s->finished < s->submitted)
			pthread_cond_wait(&s->done_cond, &s->mtx);
		pthread_mutex_unlock(&s->mtx);
		deliver(s);
		/* Callbacks may have submitted more. */
		pthread_mutex_lock(&s->mtx);
		if (s->delivered == s->submitted) {
			pthread_mutex_unlock(&s->mtx);
			return;
		}
		pthread_mutex_unlock(&s->mtx);
	}
}

void
ipam_store_stats(struct ipam_store *s, struct ipam_store_stats *st)
{
	pthread_mutex_lock(&s->mtx);
	*st = s->stats;
	pthread_mutex_unlock(&s->mtx);
}

void
ipam_op_alloc(struct ipam_op *op, const struct ipam_alloc *a)
{
	memset(op, 0, sizeof(*op));
	op->kind = IPAM_OP_ALLOC;
	op->alloc = *a;
	op->alloc.pool = NULL;
	strlcpy_s(op->pool, a->pool, sizeof(op->pool));
}

void
ipam_op_claim(struct ipam_op *op, const struct ipam_alloc *a, const char *prev)
{
	ipam_op_alloc(op, a);
	op->kind = IPAM_OP_CLAIM;
	strlcpy_s(op->prev_resource, prev, sizeof(op->prev_resource));
}

void
ipam_op_block(struct ipam_op *op, bool add, const char *pool,
    const struct ipam_block_rec *rec)
{
	memset(op, 0, sizeof(*op));
	op->kind = add ? IPAM_OP_BLOCK_ADD : IPAM_OP_BLOCK_DEL;
	strlcpy_s(op->pool, pool, sizeof(op->pool));
	op->block = *rec;
}

void
ipam_op_release(struct ipam_op *op, const struct ipam_alloc *a,
    int64_t until)
{
	ipam_op_alloc(op, a);
	op->kind = IPAM_OP_RELEASE;
	op->until = until;
}

/* Opening: schema, restore, writer */

static int
db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "ipam.db: %s", msg != NULL ? msg :
	    sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

/* Run a one-value query; returns the int64 or dflt when no row. */
static int
db_int(sqlite3 *db, const char *sql, int64_t dflt, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : dflt;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int
schema_setup(struct ipam_store *s, char *err, size_t errlen)
{
	char sql[128];
	int64_t v;

	if (db_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
	    err, errlen) == -1 || db_exec(s->db, schema_sql, err, errlen) == -1)
		return -1;
	if (db_int(s->db, "SELECT value FROM meta WHERE key = "
	    "'schema_version'", 0, &v) == -1) {
		snprintf(err, errlen, "ipam.db: %s", sqlite3_errmsg(s->db));
		return -1;
	}
	if (v == 0) {
		snprintf(sql, sizeof(sql), "INSERT INTO meta (key, value) "
		    "VALUES ('schema_version', %d)", IPAM_SCHEMA_VERSION);
		return db_exec(s->db, sql, err, errlen);
	}
	if (v != IPAM_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: schema version %lld, this evpnd "
		    "knows %d", s->dbpath, (long long)v, IPAM_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

static int
col_ip(sqlite3_stmt *st, int i, struct ipaddr *ip)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	memset(ip, 0, sizeof(*ip));
	return t == NULL ? 0 : ipaddr_parse(t, ip);
}

static int
load_allocations(struct ipam_store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	struct ipam_alloc rec;
	int rc, rv = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT resource, pool, ip, ipv6, mac, "
	    "preallocated, created FROM allocations ORDER BY rowid", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	while (rv == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *res = (const char *)sqlite3_column_text(st, 0);
		const char *mac = (const char *)sqlite3_column_text(st, 4);

		memset(&rec, 0, sizeof(rec));
		strlcpy_s(rec.resource, res ? res : "", sizeof(rec.resource));
		rec.pool = (const char *)sqlite3_column_text(st, 1);
		rec.preallocated = sqlite3_column_int(st, 5) != 0;
		rec.created = sqlite3_column_int64(st, 6);
		if (rec.pool == NULL || col_ip(st, 2, &rec.ip) == -1 ||
		    col_ip(st, 3, &rec.ipv6) == -1 || mac == NULL ||
		    mac_parse(mac, &rec.mac) == -1) {
			snprintf(err, errlen, "ipam.db: bad allocation row "
			    "for %s", rec.resource);
			rv = -1;
			break;
		}
		rv = ipam_restore_alloc(s->ipam, &rec, err, errlen);
		if (rv == 1) {
			log_warn("ipam store: %s: pool %s is not configured; "
			    "allocation kept on disk", rec.resource, rec.pool);
			rv = 0;
		}
	}
	sqlite3_finalize(st);
	return rv;
}

/* Before the allocations: fabric pools hand out only what they hold. */
static int
load_blocks(struct ipam_store *s, char *err, size_t errlen)
{
	struct ipam_block_rec rec;
	sqlite3_stmt *st;
	int rv = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT pool, block, kind, revision, "
	    "claimed FROM fabric_blocks ORDER BY rowid", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	while (rv == 0 && sqlite3_step(st) == SQLITE_ROW) {
		const char *pool = (const char *)sqlite3_column_text(st, 0);
		const char *blk = (const char *)sqlite3_column_text(st, 1);
		const char *kind = (const char *)sqlite3_column_text(st, 2);

		memset(&rec, 0, sizeof(rec));
		if (pool == NULL || blk == NULL || kind == NULL ||
		    prefix_parse(blk, &rec.prefix, false) == -1) {
			snprintf(err, errlen, "ipam.db: bad fabric block row");
			rv = -1;
			break;
		}
		strlcpy_s(rec.kind, kind, sizeof(rec.kind));
		rec.revision = sqlite3_column_int64(st, 3);
		rec.claimed = sqlite3_column_int64(st, 4);
		if ((rv = ipam_restore_block(s->ipam, pool, &rec, err,
		    errlen)) == 1) {
			log_warn("ipam store: pool %s is not a configured "
			    "fabric pool; its %s %s is kept on disk", pool,
			    kind, blk);
			rv = 0;
		}
	}
	sqlite3_finalize(st);
	return rv;
}

static int
load_quarantine(struct ipam_store *s)
{
	sqlite3_stmt *st;
	struct ipaddr ip;

	if (sqlite3_prepare_v2(s->db, "SELECT pool, ip, until FROM quarantine "
	    "ORDER BY until", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *pool = (const char *)sqlite3_column_text(st, 0);

		if (pool != NULL && col_ip(st, 1, &ip) == 0)
			ipam_restore_quarantine(s->ipam, pool, &ip,
			    sqlite3_column_int64(st, 2));
	}
	sqlite3_finalize(st);
	return 0;
}

static int
load_reservations(struct ipam_store *s)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(s->db, "SELECT pool, ip, name FROM "
	    "reservations", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct store_res *r;
		const char *t[3];

		for (int i = 0; i < 3; i++)
			if ((t[i] = (const char *)sqlite3_column_text(st, i))
			    == NULL)
				t[i] = "";
		s->res = xrealloc(s->res, (s->nres + 1) * sizeof(*s->res));
		r = &s->res[s->nres++];
		strlcpy_s(r->pool, t[0], sizeof(r->pool));
		strlcpy_s(r->ip, t[1], sizeof(r->ip));
		strlcpy_s(r->name, t[2], sizeof(r->name));
	}
	sqlite3_finalize(st);
	return 0;
}

static int
audit_head_load(struct ipam_store *s)
{
	sqlite3_stmt *st;
	const void *h;

	memset(s->audit_head, 0, sizeof(s->audit_head));
	s->audit_seq = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT seq, hmac FROM audit ORDER BY "
	    "seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		s->audit_seq = sqlite3_column_int64(st, 0);
		h = sqlite3_column_blob(st, 1);
		if (h != NULL && sqlite3_column_bytes(st, 1) == AUDIT_HMAC_LEN)
			memcpy(s->audit_head, h, AUDIT_HMAC_LEN);
	}
	sqlite3_finalize(st);
	return 0;
}

static int
store_prepare(struct ipam_store *s, char *err, size_t errlen)
{
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "ipam.db: %s",
			    sqlite3_errmsg(s->db));
			return -1;
		}
	}
	return 0;
}

static void
store_destroy(struct ipam_store *s)
{
	if (s->ev != NULL)
		event_free(s->ev);
	if (s->efd >= 0)
		close(s->efd);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->mtx);
	pthread_cond_destroy(&s->work_cond);
	pthread_cond_destroy(&s->done_cond);
	free(s->res);
	free(s->dir);
	free(s->dbpath);
	free(s);
}

/* Everything up to the writer thread, on the caller's thread. */
static int
store_load(struct ipam_store *s, char *err, size_t errlen)
{
	int64_t naudit;

	if (sqlite3_open_v2(s->dbpath, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", s->dbpath,
		    s->db ? sqlite3_errmsg(s->db) : "cannot open");
		return -1;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (schema_setup(s, err, errlen) == -1)
		return -1;
	if (db_int(s->db, "SELECT count(*) FROM audit", 0, &naudit) == -1 ||
	    audit_key_load(s->dir, naudit == 0, s->key, err, errlen) == -1 ||
	    store_prepare(s, err, errlen) == -1 || audit_head_load(s) == -1 ||
	    load_blocks(s, err, errlen) == -1 ||
	    load_allocations(s, err, errlen) == -1 || load_quarantine(s) == -1
	    || load_reservations(s) == -1) {
		if (err[0] == '\0')
			snprintf(err, errlen, "ipam.db: %s",
			    sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

struct ipam_store *
ipam_store_open(const char *dir, struct event_base *base, struct ipam *ipam,
    char *err, size_t errlen)
{
	struct ipam_store *s = xcalloc(1, sizeof(*s));
	size_t len = strlen(dir) + sizeof("/ipam.db");

	err[0] = '\0';
	s->efd = -1;
	s->ipam = ipam;
	s->dir = xstrdup(dir);
	s->dbpath = xmalloc(len);
	snprintf(s->dbpath, len, "%s/ipam.db", dir);
	pthread_mutex_init(&s->mtx, NULL);
	pthread_cond_init(&s->work_cond, NULL);
	pthread_cond_init(&s->done_cond, NULL);
	TAILQ_INIT(&s->pending);
	TAILQ_INIT(&s->done);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (store_load(s, err, errlen) == -1)
		goto fail;
	if ((s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    (s->ev = event_new(base, s->efd, EV_READ | EV_PERSIST,
	    on_completion, s)) == NULL || event_add(s->ev, NULL) == -1) {
		snprintf(err, errlen, "ipam store: eventfd: %s",
		    strerror(errno));
		goto fail;
	}
	if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
		snprintf(err, errlen, "ipam store: cannot start the writer");
		goto fail;
	}
	s->thread_started = true;
	return s;
fail:
	store_destroy(s);
	return NULL;
}

void
ipam_store_close(struct ipam_store *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mtx);
	s->stop = true;
	pthread_cond_signal(&s->work_cond);
	pthread_mutex_unlock(&s->mtx);
	if (s->thread_started)
		pthread_join(s->thread, NULL);
	deliver(s);
	store_destroy(s);
}

/* Reservations: the store follows the configured ones. */

static int
res_submit(struct ipam_store *s, enum ipam_op_kind kind, const char *pool,
    const struct ipaddr *ip, const char *name, ipam_done_cb cb, void *arg)
{
	struct ipam_op op;

	memset(&op, 0, sizeof(op));
	op.kind = kind;
	strlcpy_s(op.pool, pool, sizeof(op.pool));
	op.reservation.ip = *ip;
	strlcpy_s(op.reservation.name, name, sizeof(op.reservation.name));
	return ipam_store_submit(s, &op, cb, arg) == 0 ? 1 : 0;
}

int
ipam_store_sync_reservations(struct ipam_store *s, const struct ipam *ipam,
    ipam_done_cb cb, void *arg)
{
	const struct ipam_pool *pool;
	struct store_res *now = NULL;
	size_t nnow = 0;
	bool *seen = xcalloc(s->nres + 1, sizeof(*seen));
	int n = 0;

	for (pool = ipam_pool_first(ipam); pool; pool = ipam_pool_next(pool)) {
		for (size_t i = 0; i < pool->nres; i++) {
			const struct ipam_reservation *r = &pool->res[i];
			struct store_res sr;
			size_t j;

			memset(&sr, 0, sizeof(sr));
			strlcpy_s(sr.pool, pool->name, sizeof(sr.pool));
			ipaddr_fmt(&r->ip, sr.ip, sizeof(sr.ip));
			strlcpy_s(sr.name, r->name, sizeof(sr.name));
			for (j = 0; j < s->nres; j++)
				if (strcmp(s->res[j].pool, sr.pool) == 0 &&
				    strcmp(s->res[j].ip, sr.ip) == 0)
					break;
			if (j < s->nres)
				seen[j] = true;
			if (j == s->nres || strcmp(s->res[j].name, sr.name) != 0)
				n += res_submit(s, IPAM_OP_RESERVE, sr.pool,
				    &r->ip, sr.name, cb, arg);
			now = xrealloc(now, (nnow + 1) * sizeof(*now));
			now[nnow++] = sr;
		}
	}
	for (size_t j = 0; j < s->nres; j++) {
		struct ipaddr ip;

		if (!seen[j] && ipaddr_parse(s->res[j].ip, &ip) == 0)
			n += res_submit(s, IPAM_OP_UNRESERVE, s->res[j].pool,
			    &ip, s->res[j].name, cb, arg);
	}
	free(seen);
	free(s->res);
	s->res = now;
	s->nres = nnow;
	return n;
}
