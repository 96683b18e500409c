/*
 * The durable store: SQLite in WAL mode, written by one background
 * thread with group commit, completions delivered on the event loop.
 *
 * How this works: ipam_store_open() checks and loads STATE/ipam.db on
 * the calling thread (store_open.c), and only then starts the writer;
 * from then on the writer alone uses the connection.
 * ipam_store_submit() copies an op onto the pending queue (mutex +
 * condition variable).  The writer takes the whole queue, runs it as
 * one transaction (BEGIN IMMEDIATE ... COMMIT, each op with its audit
 * record, then the chain head), and moves the ops to the done queue
 * with their status.  It then bumps an eventfd; the event loop's read
 * callback takes the done queue and, for each op, undoes a failed
 * change in the allocator and runs the done callback, so neither ever
 * runs on the writer thread.  If a batch fails because of one op (a
 * constraint), each op is retried in a transaction of its own so that
 * op fails alone; if it fails because of the database (busy, disk
 * full, I/O), every op of the batch fails and none is retried.
 *
 * Durability: journal_mode=WAL and synchronous=FULL: COMMIT returns
 * after the WAL is fsync'd, so a callback (and the answer the caller
 * sends from it) follows a durable commit; kill -9 or power loss loses
 * no acknowledged change, and a change is either wholly in (allocation
 * row, quarantine rows, audit record) or wholly out.  A batch costs one
 * fsync whatever its size, which is what makes group commit pay.
 *
 * The chain head leaves the database three ways: the writer replaces
 * STATE/ipam.anchor after a batch when nothing else is queued (or every
 * IPAM_HEAD_PUBLISH_EVERY records under load), after the answers went
 * out; the event loop logs it and calls the "head published" hook
 * every IPAM_HEAD_PUBLISH_EVERY records; ipam_store_close() does all
 * three at shutdown.
 */
#include "ipam/store_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "common/log.h"
#include "common/util.h"

const char *
store_db_path(const struct ipam_store *s)
{
	return s->dbpath;
}

const char *
store_dir(const struct ipam_store *s)
{
	return s->dir;
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

/* Binding helpers: empty text is stored as NULL.  They return the
 * SQLite code; callers OR them and check the sum once. */

static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL || s[0] == '\0')
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static int
stmt_fail(struct ipam_store *s, enum stmt_id id, int rc, const char *why)
{
	s->last_rc = rc;
	log_warn("ipam store: %s: %s", store_stmt_sql[id], why);
	return -1;
}

/* Step a statement whose parameters are bound (binds: the OR of their
 * codes, so anything but SQLITE_OK means one failed). */
static int
stmt_run(struct ipam_store *s, enum stmt_id id, int binds)
{
	sqlite3_stmt *st = s->st[id];
	int rc;

	if (binds != SQLITE_OK) {
		sqlite3_clear_bindings(st);
		return stmt_fail(s, id, SQLITE_RANGE, "cannot bind a value");
	}
	if ((rc = sqlite3_step(st)) != SQLITE_DONE)
		stmt_fail(s, id, rc, sqlite3_errmsg(s->db));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_stmt_run(struct ipam_store *s, enum stmt_id id, int binds)
{
	return stmt_run(s, id, binds);
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
audit_append(struct ipam_store *s, const struct ipam_audit_record *rec)
{
	struct ipam_audit_record r = *rec;
	sqlite3_stmt *st = s->st[ST_AUDIT_INSERT];
	uint8_t h[AUDIT_HMAC_LEN];
	int b;

	r.seq = s->audit_seq + 1;
	audit_hmac(s->key, s->audit_head, &r, h);
	b = sqlite3_bind_int64(st, 1, r.seq);
	b |= sqlite3_bind_int64(st, 2, r.time);
	b |= bind_text(st, 3, r.op);
	b |= bind_text(st, 4, r.resource);
	b |= bind_text(st, 5, r.pool);
	b |= bind_text(st, 6, r.ip);
	b |= bind_text(st, 7, r.ipv6);
	b |= bind_text(st, 8, r.mac);
	b |= sqlite3_bind_blob(st, 9, s->audit_head, AUDIT_HMAC_LEN,
	    SQLITE_TRANSIENT);
	b |= sqlite3_bind_blob(st, 10, h, AUDIT_HMAC_LEN, SQLITE_TRANSIENT);
	b |= bind_text(st, 11, r.actor);
	b |= bind_text(st, 12, r.labels);
	if (stmt_run(s, ST_AUDIT_INSERT, b) == -1)
		return -1;
	s->audit_seq = r.seq;
	memcpy(s->audit_head, h, AUDIT_HMAC_LEN);
	return 0;
}

static int
head_write(struct ipam_store *s)
{
	uint8_t blob[AUDIT_HEAD_BLOB_LEN];

	audit_head_blob(s->key, s->audit_seq, s->audit_head, blob);
	return stmt_run(s, ST_HEAD_SET, sqlite3_bind_blob(s->st[ST_HEAD_SET],
	    1, blob, sizeof(blob), SQLITE_TRANSIENT));
}

static int
quarantine_row(struct ipam_store *s, enum stmt_id id, const char *pool,
    const char *ip, int64_t until)
{
	int b;

	if (ip[0] == '\0')
		return 0;
	b = sqlite3_bind_text(s->st[id], 1, pool, -1, SQLITE_TRANSIENT);
	b |= sqlite3_bind_text(s->st[id], 2, ip, -1, SQLITE_TRANSIENT);
	if (id == ST_QUAR_INSERT)
		b |= sqlite3_bind_int64(s->st[id], 3, until);
	return stmt_run(s, id, b);
}

static int
apply_alloc(struct ipam_store *s, const struct ipam_op *op,
    struct ipam_audit_record *r)
{
	sqlite3_stmt *st = s->st[ST_ALLOC_INSERT];
	int b;

	r->op = "allocate";
	r->labels = op->alloc.labels;
	b = sqlite3_bind_text(st, 1, op->alloc.resource, -1, SQLITE_TRANSIENT);
	b |= sqlite3_bind_text(st, 2, op->pool, -1, SQLITE_TRANSIENT);
	b |= bind_text(st, 3, r->ip);
	b |= bind_text(st, 4, r->ipv6);
	b |= bind_text(st, 5, r->mac);
	b |= sqlite3_bind_int(st, 6, op->alloc.preallocated);
	b |= sqlite3_bind_int64(st, 7, op->alloc.created);
	b |= bind_text(st, 8, op->alloc.labels);
	if (stmt_run(s, ST_ALLOC_INSERT, b) == -1 ||
	    quarantine_row(s, ST_QUAR_DELETE, op->pool, r->ip, 0) == -1 ||
	    quarantine_row(s, ST_QUAR_DELETE, op->pool, r->ipv6, 0) == -1)
		return -1;
	return 0;
}

static int
apply_release(struct ipam_store *s, const struct ipam_op *op,
    struct ipam_audit_record *r)
{
	sqlite3_stmt *st = s->st[ST_ALLOC_DELETE];
	int b;

	r->op = "release";
	b = sqlite3_bind_text(st, 1, op->pool, -1, SQLITE_TRANSIENT);
	b |= sqlite3_bind_text(st, 2, op->alloc.resource, -1,
	    SQLITE_TRANSIENT);
	if (stmt_run(s, ST_ALLOC_DELETE, b) == -1 ||
	    quarantine_row(s, ST_QUAR_INSERT, op->pool, r->ip, op->until) == -1
	    || quarantine_row(s, ST_QUAR_INSERT, op->pool, r->ipv6,
	    op->until) == -1)
		return -1;
	return 0;
}

static int
apply_claim(struct ipam_store *s, const struct ipam_op *op,
    struct ipam_audit_record *r)
{
	sqlite3_stmt *st = s->st[ST_ALLOC_CLAIM];
	int b;

	r->op = "claim";
	r->labels = op->alloc.labels;
	b = sqlite3_bind_text(st, 1, op->alloc.resource, -1, SQLITE_TRANSIENT);
	b |= bind_text(st, 2, op->alloc.labels);
	b |= sqlite3_bind_text(st, 3, op->pool, -1, SQLITE_TRANSIENT);
	b |= sqlite3_bind_text(st, 4, op->prev_resource, -1, SQLITE_TRANSIENT);
	if (stmt_run(s, ST_ALLOC_CLAIM, b) == -1)
		return -1;
	/* The pre-allocation must have been there to be claimed. */
	if (sqlite3_changes(s->db) != 1)
		return stmt_fail(s, ST_ALLOC_CLAIM, SQLITE_CONSTRAINT,
		    "no such pre-allocation");
	return 0;
}

static int
apply_reservation(struct ipam_store *s, const struct ipam_op *op,
    struct ipam_audit_record *r)
{
	enum stmt_id id = op->kind == IPAM_OP_RESERVE ? ST_RES_INSERT :
	    ST_RES_DELETE;
	sqlite3_stmt *st = s->st[id];
	int b;

	r->op = op->kind == IPAM_OP_RESERVE ? "reserve" : "unreserve";
	r->resource = op->reservation.name;
	b = sqlite3_bind_text(st, 1, op->pool, -1, SQLITE_TRANSIENT);
	b |= sqlite3_bind_text(st, 2, r->ip, -1, SQLITE_TRANSIENT);
	if (id == ST_RES_INSERT)
		b |= sqlite3_bind_text(st, 3, op->reservation.name, -1,
		    SQLITE_TRANSIENT);
	return stmt_run(s, id, b);
}

/* Audited as "block-claim"/"block-release", "borrow"/"return",
 * "lend"/"lend-end", the block in the ip column. */
static int
apply_block(struct ipam_store *s, const struct ipam_op *op,
    struct ipam_audit_record *r, char *buf, size_t len)
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
	int b;

	r->resource = r->ipv6 = r->mac = "";
	b = sqlite3_bind_text(st, 1, op->pool, -1, SQLITE_TRANSIENT);
	b |= sqlite3_bind_text(st, 2, r->ip, -1, SQLITE_TRANSIENT);
	if (add) {
		b |= sqlite3_bind_text(st, 3, k, -1, SQLITE_TRANSIENT);
		b |= sqlite3_bind_int64(st, 4, op->block.revision);
		b |= sqlite3_bind_int64(st, 5, op->block.claimed);
	}
	return stmt_run(s, id, b);
}

/* A deleted pool's quarantine and shadow inventory state go with it
 * (a new pool of its name starts afresh). */
static int
drop_pool(struct ipam_store *s, const char *pool)
{
	static const enum stmt_id drops[] = { ST_POOL_DELETE,
	    ST_QUAR_DROP_POOL, ST_SHADOW_DROP_POOL };

	for (size_t i = 0; i < nitems(drops); i++)
		if (stmt_run(s, drops[i], sqlite3_bind_text(s->st[drops[i]], 1,
		    pool, -1, SQLITE_TRANSIENT)) == -1)
			return -1;
	return 0;
}

/*
 * A run-time pool's definition, audited under the op the caller names
 * (a reservation change names the address and the reservation).
 */
static int
apply_pool(struct ipam_store *s, const struct ipam_op *op,
    struct ipam_audit_record *r, char *ip, size_t iplen)
{
	sqlite3_stmt *st = s->st[ST_POOL_PUT];
	int b;

	r->op = op->audit_op;
	r->resource = op->reservation.name;
	r->ip = ip_text(&op->reservation.ip, ip, iplen);
	r->ipv6 = r->mac = "";
	if (op->kind == IPAM_OP_POOL_DEL)
		return drop_pool(s, op->pool);
	if (op->definition == NULL)
		return stmt_fail(s, ST_POOL_PUT, SQLITE_MISUSE,
		    "no definition");
	b = sqlite3_bind_text(st, 1, op->pool, -1, SQLITE_TRANSIENT);
	b |= sqlite3_bind_text(st, 2, op->definition, -1, SQLITE_TRANSIENT);
	b |= sqlite3_bind_int64(st, 3, r->time);
	return stmt_run(s, ST_POOL_PUT, b);
}

static int
apply_op(struct ipam_store *s, const struct ipam_op *op)
{
	char ip[PREFIX_STRLEN], ip6[IPADDR_STRLEN], mac[MAC_STRLEN];
	struct ipam_audit_record r;
	int rv;

	memset(&r, 0, sizeof(r));
	r.time = (int64_t)time(NULL);	/* when the record is written */
	r.pool = op->pool;
	r.resource = op->alloc.resource;
	r.actor = op->actor;
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
	case IPAM_OP_POOL_PUT:
	case IPAM_OP_POOL_DEL:
		rv = apply_pool(s, op, &r, ip, sizeof(ip));
		break;
	case IPAM_OP_SYNC:
		return 0;
	case IPAM_OP_SHADOW_PUT:
		return store_shadow_apply(s, op);	/* not audited */
	default:
		return stmt_fail(s, ST_BEGIN, SQLITE_MISUSE, "unknown op");
	}
	if (rv == -1)
		return -1;
	return audit_append(s, &r);
}

/* Roll back what is open (SQLite has already done so after some errors,
 * such as a full disk). */
static void
txn_abort(struct ipam_store *s)
{
	int rc = s->last_rc;

	if (!sqlite3_get_autocommit(s->db) &&
	    stmt_run(s, ST_ROLLBACK, SQLITE_OK) == -1 &&
	    !sqlite3_get_autocommit(s->db))
		log_warn("ipam store: a transaction stays open after a failed "
		    "ROLLBACK; every change will fail until restart");
	s->last_rc = rc;
}

/* Run ops from..to (exclusive) as one transaction. */
static int
txn_run(struct ipam_store *s, struct store_op *from, struct store_op *to)
{
	int64_t seq = s->audit_seq;
	uint8_t head[AUDIT_HMAC_LEN];
	struct store_op *so;

	memcpy(head, s->audit_head, sizeof(head));
	s->last_rc = SQLITE_OK;
	if (stmt_run(s, ST_BEGIN, SQLITE_OK) == -1)
		return -1;
	for (so = from; so != to; so = TAILQ_NEXT(so, link))
		if (apply_op(s, &so->op) == -1)
			goto fail;
	if (s->audit_seq != seq && head_write(s) == -1)
		goto fail;
	if (stmt_run(s, ST_COMMIT, SQLITE_OK) == 0)
		return 0;
fail:
	txn_abort(s);
	s->audit_seq = seq;
	memcpy(s->audit_head, head, sizeof(head));
	return -1;
}

/* Did the op itself fail (so that the others may pass without it)? */
static bool
failed_alone(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
	case SQLITE_MISUSE:
		return true;
	default:
		return false;	/* busy, full, I/O: the database failed */
	}
}

static void
batch_commit(struct ipam_store *s, struct store_op_list *batch)
{
	struct store_op *so;
	bool db_failed;

	if (txn_run(s, TAILQ_FIRST(batch), NULL) == 0) {
		TAILQ_FOREACH(so, batch, link)
			so->status = 0;
		return;
	}
	/* One bad op must not fail the others: retry one by one, unless
	 * the database itself failed (then a retry of each would wait for
	 * the busy timeout again, or fill the log). */
	db_failed = !failed_alone(s->last_rc);
	TAILQ_FOREACH(so, batch, link) {
		if (db_failed || TAILQ_NEXT(TAILQ_FIRST(batch), link) == NULL) {
			so->status = -1;
			continue;
		}
		so->status = txn_run(s, so, TAILQ_NEXT(so, link));
		if (so->status == -1 && !failed_alone(s->last_rc))
			db_failed = true;
	}
}

/* The anchor follows the head when the writer is idle, or every
 * IPAM_HEAD_PUBLISH_EVERY records under load. */
static void
anchor_update(struct ipam_store *s, bool idle)
{
	char err[512];

	if (s->audit_seq <= s->anchor_seq || (!idle && s->audit_seq -
	    s->anchor_seq < IPAM_HEAD_PUBLISH_EVERY))
		return;
	if (audit_anchor_write(s->dir, s->key, s->audit_seq, s->audit_head,
	    err, sizeof(err)) == -1) {
		if (!s->anchor_failing)
			log_warn("ipam store: cannot update the anchor: %s",
			    err);
		s->anchor_failing = true;
		return;
	}
	if (s->anchor_failing)
		log_info("ipam store: the anchor is updated again");
	s->anchor_failing = false;
	s->anchor_seq = s->audit_seq;
}

/* Under the mutex: account for a finished batch and hand it over. */
static void
batch_done(struct ipam_store *s, struct store_op_list *batch)
{
	struct store_op *so;
	uint64_t n = 0, one = 1;

	TAILQ_FOREACH(so, batch, link) {
		n++;
		if (so->status != 0)
			s->stats.failed++;
	}
	s->stats.ops += n;
	s->stats.batches++;
	if (n > s->stats.max_batch)
		s->stats.max_batch = n;
	s->committed_seq = s->audit_seq;
	memcpy(s->committed_head, s->audit_head, AUDIT_HMAC_LEN);
	TAILQ_CONCAT(&s->done, batch, link);
	s->finished += n;
	pthread_cond_broadcast(&s->done_cond);
	if (write(s->efd, &one, sizeof(one)) != sizeof(one))
		log_warn("ipam store: eventfd: %s", strerror(errno));
}

static void *
writer_main(void *arg)
{
	struct ipam_store *s = arg;
	struct store_op_list batch;
	bool idle;

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
		batch_done(s, &batch);
		idle = TAILQ_EMPTY(&s->pending);
		pthread_mutex_unlock(&s->mtx);
		/* After the answers: the anchor costs them no latency. */
		anchor_update(s, idle);
		pthread_mutex_lock(&s->mtx);
	}
	pthread_mutex_unlock(&s->mtx);
	return NULL;
}

/* Event loop side */

/* A change that did not commit leaves the allocator as it was. */
static void
op_undo(struct ipam_store *s, const struct ipam_op *op)
{
	struct ipam_alloc rec = op->alloc;

	rec.pool = op->pool;
	switch (op->kind) {
	case IPAM_OP_ALLOC:
		if (alloc_drop(s->ipam, &rec))
			log_warn("ipam store: allocation of %s not committed: "
			    "undone", rec.resource);
		break;
	case IPAM_OP_RELEASE:
		if (alloc_reinstate(s->ipam, &rec) == 0)
			log_warn("ipam store: release of %s not committed: "
			    "allocated again", rec.resource);
		break;
	case IPAM_OP_CLAIM:
		if (alloc_unclaim(s->ipam, &rec, op->prev_resource) == 0)
			log_warn("ipam store: claim of %s by %s not committed: "
			    "undone", op->prev_resource, rec.resource);
		break;
	default:
		break;
	}
}

static void
head_fill(struct ipam_audit_head *h, int64_t seq, const uint8_t *hash,
    bool shutdown)
{
	memset(h, 0, sizeof(*h));
	h->seq = seq;
	memcpy(h->hash, hash, AUDIT_HMAC_LEN);
	audit_hex(hash, AUDIT_HMAC_LEN, h->hex);
	h->shutdown = shutdown;
}

static void
head_publish(struct ipam_store *s, const struct ipam_audit_head *h)
{
	log_info("ipam: audit chain head seq %lld %s%s", (long long)h->seq,
	    h->hex, h->shutdown ? " (at shutdown)" : "");
	s->published_seq = h->seq;
	if (s->head_cb != NULL)
		s->head_cb(h, s->head_arg);
}

void
ipam_store_head(struct ipam_store *s, struct ipam_audit_head *h)
{
	int64_t seq;
	uint8_t hash[AUDIT_HMAC_LEN];

	pthread_mutex_lock(&s->mtx);
	seq = s->committed_seq;
	memcpy(hash, s->committed_head, sizeof(hash));
	pthread_mutex_unlock(&s->mtx);
	head_fill(h, seq, hash, false);
}

void
ipam_store_set_head_hook(struct ipam_store *s, ipam_head_cb cb, void *arg)
{
	s->head_cb = cb;
	s->head_arg = arg;
}

static void
store_op_free(struct store_op *so)
{
	free(so->labels);
	free(so->definition);
	free(so->state);
	free(so);
}

static void
deliver(struct ipam_store *s)
{
	struct store_op_list done;
	struct ipam_audit_head h;
	struct store_op *so;

	TAILQ_INIT(&done);
	pthread_mutex_lock(&s->mtx);
	TAILQ_CONCAT(&done, &s->done, link);
	pthread_mutex_unlock(&s->mtx);
	while ((so = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, so, link);
		s->delivered++;
		if (so->status != 0)
			op_undo(s, &so->op);
		if (so->cb != NULL)
			so->cb(so->status, so->arg);
		store_op_free(so);
	}
	ipam_store_head(s, &h);
	if (h.seq / IPAM_HEAD_PUBLISH_EVERY > s->published_seq /
	    IPAM_HEAD_PUBLISH_EVERY)
		head_publish(s, &h);
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

	if (op->kind > IPAM_OP_SHADOW_PUT) {
		errno = EINVAL;
		return -1;
	}
	so = xcalloc(1, sizeof(*so));
	so->op = *op;
	so->op.alloc.pool = NULL;	/* op->pool names it; no dangling */
	/* The strings are the caller's until we return: keep copies. */
	if (op->alloc.labels != NULL && op->alloc.labels[0] != '\0')
		so->labels = xstrdup(op->alloc.labels);
	so->op.alloc.labels = so->labels;
	if (op->definition != NULL)
		so->definition = xstrdup(op->definition);
	so->op.definition = so->definition;
	if (op->state != NULL && op->state_len > 0) {
		so->state = xmalloc(op->state_len);
		memcpy(so->state, op->state, op->state_len);
	}
	so->op.state = so->state;
	so->op.alloc.tenant = NULL;
	so->cb = cb;
	so->arg = arg;
	pthread_mutex_lock(&s->mtx);
	if (s->stop) {
		pthread_mutex_unlock(&s->mtx);
		store_op_free(so);
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
ipam_op_alloc(struct ipam_op *op, const struct ipam_alloc *a,
    const char *actor)
{
	memset(op, 0, sizeof(*op));
	op->kind = IPAM_OP_ALLOC;
	op->alloc = *a;
	op->alloc.pool = NULL;
	op->alloc.tenant = NULL;
	strlcpy_s(op->pool, a->pool, sizeof(op->pool));
	if (actor != NULL)
		strlcpy_s(op->actor, actor, sizeof(op->actor));
}

void
ipam_op_claim(struct ipam_op *op, const struct ipam_alloc *a,
    const char *prev, const char *actor)
{
	ipam_op_alloc(op, a, actor);
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
ipam_op_pool(struct ipam_op *op, enum ipam_op_kind kind, const char *pool,
    const char *definition, const char *audit_op, const char *actor)
{
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	strlcpy_s(op->pool, pool, sizeof(op->pool));
	op->definition = definition;
	strlcpy_s(op->audit_op, audit_op, sizeof(op->audit_op));
	if (actor != NULL)
		strlcpy_s(op->actor, actor, sizeof(op->actor));
}

void
ipam_op_release(struct ipam_op *op, const struct ipam_alloc *a,
    int64_t until, const char *actor)
{
	ipam_op_alloc(op, a, actor);
	op->kind = IPAM_OP_RELEASE;
	op->until = until;
}

/* Opening and closing */

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
	explicit_bzero(s->key, sizeof(s->key));
	pthread_mutex_destroy(&s->mtx);
	pthread_cond_destroy(&s->work_cond);
	pthread_cond_destroy(&s->done_cond);
	free(s->res);
	store_shadow_free(s);
	free(s->dir);
	free(s->dbpath);
	free(s);
}

struct ipam_store *
ipam_store_open(const char *dir, struct event_base *base, struct ipam *ipam,
    char *err, size_t errlen)
{
	return ipam_store_open_with(dir, base, ipam, NULL, NULL, err, errlen);
}

struct ipam_store *
ipam_store_open_with(const char *dir, struct event_base *base,
    struct ipam *ipam, ipam_pool_loader load, void *load_arg, char *err,
    size_t errlen)
{
	struct ipam_store *s = xcalloc(1, sizeof(*s));
	size_t len = strlen(dir) + sizeof("/ipam.db");
	int saved;

	err[0] = '\0';
	s->efd = -1;
	s->ipam = ipam;
	s->pool_load = load;
	s->pool_load_arg = load_arg;
	s->dir = xstrdup(dir);
	s->dbpath = xmalloc(len);
	snprintf(s->dbpath, len, "%s/ipam.db", dir);
	pthread_mutex_init(&s->mtx, NULL);
	pthread_cond_init(&s->work_cond, NULL);
	pthread_cond_init(&s->done_cond, NULL);
	TAILQ_INIT(&s->pending);
	TAILQ_INIT(&s->done);
	errno = 0;
	if (store_load(s, err, errlen) == -1)
		goto fail;
	s->committed_seq = s->published_seq = s->audit_seq;
	memcpy(s->committed_head, s->audit_head, AUDIT_HMAC_LEN);
	if ((s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    (s->ev = event_new(base, s->efd, EV_READ | EV_PERSIST,
	    on_completion, s)) == NULL || event_add(s->ev, NULL) == -1) {
		snprintf(err, errlen, "ipam store: eventfd: %s",
		    strerror(errno));
		goto fail;
	}
	if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
		snprintf(err, errlen, "ipam store: cannot start the writer");
		errno = EAGAIN;
		goto fail;
	}
	s->thread_started = true;
	return s;
fail:
	saved = errno != 0 ? errno : EIO;
	if (err[0] == '\0')
		snprintf(err, errlen, "%s: cannot open", s->dbpath);
	store_destroy(s);
	errno = saved;
	return NULL;
}

void
ipam_store_close(struct ipam_store *s)
{
	struct ipam_audit_head h;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mtx);
	s->stop = true;
	pthread_cond_signal(&s->work_cond);
	pthread_mutex_unlock(&s->mtx);
	if (s->thread_started)
		pthread_join(s->thread, NULL);
	deliver(s);
	anchor_update(s, true);
	ipam_store_head(s, &h);
	h.shutdown = true;
	head_publish(s, &h);
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
	strlcpy_s(op.actor, "config", sizeof(op.actor));
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
		for (size_t i = 0; i < pool->nres && !pool->runtime; i++) {
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
