/*
 * Opening the store: what is checked and loaded before the writer
 * starts, on the caller's thread.
 *
 * How this works, in order: the state directory must be ours and not
 * writable by group or others (a looser mode is tightened with a
 * warning), ipam.db and its -wal and -shm are 0600 (created so, or
 * tightened); PRAGMA quick_check must answer "ok" before anything is
 * written; the schema is created or migrated (1 to 2: the audit actor
 * column and UNIQUE (pool, ip), (pool, ipv6), (pool, mac), whose
 * creation also finds an address held twice; 2 to 3: allocations keyed
 * by pool and resource, names being per tenant; 3 to 4: labels columns
 * and the pools table; 4 to 5: the shadow_state table); the key is read; the audit chain head is
 * checked against its tag and against ipam.anchor (audit.c); then
 * run-time pools (to the caller's loader), allocations, quarantine and
 * reservations are loaded,
 * every sqlite3_step() checked: a read error stops the load, it never
 * yields a partial set.  Any doubt about the data (corruption, records
 * missing, an older copy, an address twice) fails with errno EBADMSG
 * and a message naming the file and the seqs.
 */
#include "ipam/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/log.h"
#include "common/util.h"

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta ("
	" key TEXT PRIMARY KEY, value BLOB);"
	"CREATE TABLE IF NOT EXISTS allocations ("
	" resource TEXT NOT NULL, pool TEXT NOT NULL, ip TEXT, ipv6 TEXT,"
	" mac TEXT NOT NULL, preallocated INTEGER NOT NULL,"
	" created INTEGER NOT NULL, labels TEXT,"
	" PRIMARY KEY (pool, resource));"
	"CREATE TABLE IF NOT EXISTS quarantine ("
	" pool TEXT NOT NULL, ip TEXT NOT NULL, until INTEGER NOT NULL,"
	" PRIMARY KEY (pool, ip));"
	"CREATE TABLE IF NOT EXISTS reservations ("
	" pool TEXT NOT NULL, ip TEXT NOT NULL, name TEXT NOT NULL,"
	" PRIMARY KEY (pool, ip));"
	"CREATE TABLE IF NOT EXISTS audit ("
	" seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, op TEXT NOT NULL,"
	" resource TEXT, pool TEXT, ip TEXT, ipv6 TEXT, mac TEXT,"
	" prev_hmac BLOB NOT NULL, hmac BLOB NOT NULL, actor TEXT,"
	" labels TEXT);"
	/* fabric pools: blocks held, addresses borrowed and lent */
	"CREATE TABLE IF NOT EXISTS fabric_blocks ("
	" pool TEXT NOT NULL, block TEXT NOT NULL, kind TEXT NOT NULL,"
	" revision INTEGER NOT NULL, claimed INTEGER NOT NULL,"
	" PRIMARY KEY (pool, block));"
	/* pools made at run time (schema 4) */
	"CREATE TABLE IF NOT EXISTS pools ("
	" name TEXT PRIMARY KEY, definition TEXT NOT NULL,"
	" created INTEGER NOT NULL, updated INTEGER NOT NULL);"
	/* the shadow inventory's learned state per pool (schema 5) */
	"CREATE TABLE IF NOT EXISTS shadow_state ("
	" pool TEXT PRIMARY KEY, saved INTEGER NOT NULL,"
	" state BLOB NOT NULL);";

/* Columns later schemas added to tables of earlier ones (2: actor;
 * 4: labels), all TEXT. */
static const struct {
	const char	*table;
	const char	*column;
} added_column[] = {
	{ "audit", "actor" },
	{ "audit", "labels" },
	{ "allocations", "labels" },
};

/* No address or MAC twice in a pool (NULLs, an absent family, differ). */
static const struct {
	const char	*column;
	const char	*sql;
} unique_index[] = {
	{ "ip", "CREATE UNIQUE INDEX IF NOT EXISTS allocations_ip ON "
	    "allocations (pool, ip)" },
	{ "ipv6", "CREATE UNIQUE INDEX IF NOT EXISTS allocations_ipv6 ON "
	    "allocations (pool, ipv6)" },
	{ "mac", "CREATE UNIQUE INDEX IF NOT EXISTS allocations_mac ON "
	    "allocations (pool, mac)" },
};

const char *const store_stmt_sql[ST_COUNT] = {
	[ST_ALLOC_INSERT] = "INSERT INTO allocations (resource, pool, ip, "
	    "ipv6, mac, preallocated, created, labels) VALUES (?, ?, ?, ?, ?, "
	    "?, ?, ?)",
	[ST_ALLOC_DELETE] = "DELETE FROM allocations WHERE pool = ? AND "
	    "resource = ?",
	[ST_ALLOC_CLAIM] = "UPDATE allocations SET resource = ?, "
	    "preallocated = 0, labels = ? WHERE pool = ? AND resource = ? AND "
	    "preallocated = 1",
	[ST_QUAR_INSERT] = "INSERT OR REPLACE INTO quarantine (pool, ip, "
	    "until) VALUES (?, ?, ?)",
	[ST_QUAR_DELETE] = "DELETE FROM quarantine WHERE pool = ? AND ip = ?",
	[ST_RES_INSERT] = "INSERT OR REPLACE INTO reservations (pool, ip, "
	    "name) VALUES (?, ?, ?)",
	[ST_RES_DELETE] = "DELETE FROM reservations WHERE pool = ? AND ip = ?",
	/* An update keeps the row (and its rowid: the creation order). */
	[ST_POOL_PUT] = "INSERT INTO pools (name, definition, created, "
	    "updated) VALUES (?1, ?2, ?3, ?3) ON CONFLICT (name) DO UPDATE SET "
	    "definition = excluded.definition, updated = excluded.updated",
	[ST_POOL_DELETE] = "DELETE FROM pools WHERE name = ?",
	[ST_QUAR_DROP_POOL] = "DELETE FROM quarantine WHERE pool = ?",
	[ST_AUDIT_INSERT] = "INSERT INTO audit (seq, time, op, resource, pool, "
	    "ip, ipv6, mac, prev_hmac, hmac, actor, labels) VALUES (?, ?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_HEAD_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES "
	    "('audit_head', ?)",
	[ST_BLOCK_INSERT] = "INSERT OR REPLACE INTO fabric_blocks (pool, "
	    "block, kind, revision, claimed) VALUES (?, ?, ?, ?, ?)",
	[ST_BLOCK_DELETE] = "DELETE FROM fabric_blocks WHERE pool = ? AND "
	    "block = ?",
	[ST_SHADOW_PUT] = "INSERT OR REPLACE INTO shadow_state (pool, saved, "
	    "state) VALUES (?, ?, ?)",
	[ST_SHADOW_DROP_POOL] = "DELETE FROM shadow_state WHERE pool = ?",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
};

/* The data cannot be trusted: refuse with errno EBADMSG. */
static int
refuse(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	errno = EBADMSG;
	return -1;
}

static int
db_error(struct ipam_store *s, const char *what, char *err, size_t errlen)
{
	int rc = sqlite3_errcode(s->db);

	snprintf(err, errlen, "%s: %s: %s", s->dbpath, what,
	    sqlite3_errmsg(s->db));
	errno = rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB ? EBADMSG : EIO;
	return -1;
}

static int
db_exec(struct ipam_store *s, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "%s: %s", s->dbpath, msg != NULL ? msg :
	    sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	errno = EIO;
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

/* Files and modes */

static int
sys_error(const char *path, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

/* Ours, a directory, and not writable by group or others. */
static int
state_dir_check(const char *dir, char *err, size_t errlen)
{
	struct stat sb;
	mode_t mode;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return sys_error(dir, err, errlen);
	if (stat(dir, &sb) == -1)
		return sys_error(dir, err, errlen);
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return -1;
	}
	if (sb.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u, not by the uid "
		    "evpnd runs as (%u)", dir, (unsigned)sb.st_uid,
		    (unsigned)geteuid());
		return -1;
	}
	if ((sb.st_mode & 022) == 0)
		return 0;
	mode = sb.st_mode & 07755 & ~(mode_t)022;
	if (chmod(dir, mode) == -1)
		return sys_error(dir, err, errlen);
	log_warn("%s: was writable by group or others (mode %04o); now %04o",
	    dir, (unsigned)(sb.st_mode & 07777), (unsigned)mode);
	return 0;
}

/* A state file is a regular file of mode 0600 (created so if asked). */
static int
state_file_check(const char *dir, const char *name, bool create, char *err,
    size_t errlen)
{
	char path[4096];
	struct stat sb;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (lstat(path, &sb) == -1) {
		if (errno != ENOENT)
			return sys_error(path, err, errlen);
		if (!create)
			return 0;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd == -1)
			return sys_error(path, err, errlen);
		close(fd);
		return 0;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if ((sb.st_mode & 077) == 0)
		return 0;
	if (chmod(path, 0600) == -1)
		return sys_error(path, err, errlen);
	log_warn("%s: was mode %04o; now 0600", path,
	    (unsigned)(sb.st_mode & 07777));
	return 0;
}

static int
state_files_check(const char *dir, char *err, size_t errlen)
{
	if (state_dir_check(dir, err, errlen) == -1 ||
	    state_file_check(dir, "ipam.db", true, err, errlen) == -1 ||
	    state_file_check(dir, "ipam.db-wal", false, err, errlen) == -1 ||
	    state_file_check(dir, "ipam.db-shm", false, err, errlen) == -1)
		return -1;
	return 0;
}

/* Schema */

static int
quick_check(struct ipam_store *s, char *err, size_t errlen)
{
	const unsigned char *msg = NULL;
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			msg = sqlite3_column_text(st, 0);
		if (msg != NULL && strcmp((const char *)msg, "ok") == 0) {
			sqlite3_finalize(st);
			return 0;
		}
	}
	refuse(err, errlen, "%s: the database is corrupt (quick_check: %s); "
	    "the IPAM is refused: restore the file from a backup", s->dbpath,
	    msg != NULL ? (const char *)msg : sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return -1;
}

/* The first value held twice in a pool, named; -1 after err is set. */
static int
duplicate_name(struct ipam_store *s, const char *column, char *err,
    size_t errlen)
{
	char sql[256];
	sqlite3_stmt *st;

	snprintf(sql, sizeof(sql), "SELECT pool, %s, min(resource), "
	    "max(resource) FROM allocations WHERE %s IS NOT NULL GROUP BY "
	    "pool, %s HAVING count(*) > 1 LIMIT 1", column, column, column);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(s, "looking for duplicates", err, errlen);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_error(s, "looking for duplicates", err, errlen);
	}
	refuse(err, errlen, "%s: pool %s: %s %s is held by both %s and %s; "
	    "the IPAM is refused until one of them is removed", s->dbpath,
	    sqlite3_column_text(st, 0), column, sqlite3_column_text(st, 1),
	    sqlite3_column_text(st, 2), sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	return -1;
}

static int
unique_indexes(struct ipam_store *s, char *err, size_t errlen)
{
	for (size_t i = 0; i < nitems(unique_index); i++) {
		if (sqlite3_exec(s->db, unique_index[i].sql, NULL, NULL,
		    NULL) == SQLITE_OK)
			continue;
		if ((sqlite3_errcode(s->db) & 0xff) == SQLITE_CONSTRAINT)
			return duplicate_name(s, unique_index[i].column, err,
			    errlen);
		return db_error(s, "creating a unique index", err, errlen);
	}
	return 0;
}

/*
 * Schema 2 to 3: resource names are per tenant, so two pools may hold
 * the same name; the allocations table is keyed by (pool, resource)
 * instead of resource.  SQLite cannot change a primary key: the table
 * is copied in rowid order (the order allocations are restored in) and
 * the unique indexes, dropped with the old one, come back after.
 */
static const char alloc_rekey_sql[] =
	"CREATE TABLE allocations_v3 ("
	" resource TEXT NOT NULL, pool TEXT NOT NULL, ip TEXT, ipv6 TEXT,"
	" mac TEXT NOT NULL, preallocated INTEGER NOT NULL,"
	" created INTEGER NOT NULL, PRIMARY KEY (pool, resource));"
	"INSERT INTO allocations_v3 SELECT resource, pool, ip, ipv6, mac,"
	" preallocated, created FROM allocations ORDER BY rowid;"
	"DROP TABLE allocations;"
	"ALTER TABLE allocations_v3 RENAME TO allocations;";

static int
migrate_alloc_key(struct ipam_store *s, char *err, size_t errlen)
{
	int64_t keys;

	if (db_int(s->db, "SELECT count(*) FROM pragma_table_info("
	    "'allocations') WHERE pk > 0", 0, &keys) == -1)
		return db_error(s, "reading the allocations table", err,
		    errlen);
	if (keys != 1)
		return 0;
	return db_exec(s, alloc_rekey_sql, err, errlen);
}

static bool
column_exists(struct ipam_store *s, const char *table, const char *column)
{
	sqlite3_stmt *st;
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT %s FROM %s LIMIT 0", column, table);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_finalize(st);
	return true;
}

/*
 * Schema 1 to 2: the audit actor; 2 to 3: allocations keyed by pool and
 * resource; 3 to 4: labels of allocations and of audit records, and the
 * pools table; 4 to 5: the shadow_state table (both created with the
 * schema).  The key first: its copy of
 * the table has the columns of before.  Old audit records have neither
 * actor nor labels and keep their HMAC.
 */
static int
migrate(struct ipam_store *s, int64_t from, char *err, size_t errlen)
{
	char sql[128];

	if (migrate_alloc_key(s, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < nitems(added_column); i++) {
		if (column_exists(s, added_column[i].table,
		    added_column[i].column))
			continue;
		snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s TEXT",
		    added_column[i].table, added_column[i].column);
		if (db_exec(s, sql, err, errlen) == -1)
			return -1;
	}
	snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO meta (key, value) "
	    "VALUES ('schema_version', %d)", IPAM_SCHEMA_VERSION);
	if (db_exec(s, sql, err, errlen) == -1)
		return -1;
	if (from != 0)
		log_info("%s: schema %lld upgraded to %d", s->dbpath,
		    (long long)from, IPAM_SCHEMA_VERSION);
	return 0;
}

/* Create or upgrade the schema, the unique indexes included, in one
 * transaction (one fsync on a new database, none on a current one). */
static int
schema_update(struct ipam_store *s, char *err, size_t errlen)
{
	int64_t v;

	if (db_exec(s, schema_sql, err, errlen) == -1)
		return -1;
	if (db_int(s->db, "SELECT value FROM meta WHERE key = "
	    "'schema_version'", 0, &v) == -1)
		return db_error(s, "schema version", err, errlen);
	if (v > IPAM_SCHEMA_VERSION || v < 0) {
		snprintf(err, errlen, "%s: schema version %lld, this evpnd "
		    "knows %d", s->dbpath, (long long)v, IPAM_SCHEMA_VERSION);
		return -1;
	}
	if (v < IPAM_SCHEMA_VERSION && migrate(s, v, err, errlen) == -1)
		return -1;
	/* Also on a current schema: an index dropped by hand comes back,
	 * or names the address it cannot hold. */
	return unique_indexes(s, err, errlen);
}

static int
schema_setup(struct ipam_store *s, char *err, size_t errlen)
{
	if (db_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
	    err, errlen) == -1 || db_exec(s, "BEGIN IMMEDIATE", err,
	    errlen) == -1)
		return -1;
	if (schema_update(s, err, errlen) == -1) {
		int saved = errno;

		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		errno = saved;
		return -1;
	}
	return db_exec(s, "COMMIT", err, errlen);
}

/* Loading */

static int
col_ip(sqlite3_stmt *st, int i, struct ipaddr *ip)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	memset(ip, 0, sizeof(*ip));
	return t == NULL ? 0 : ipaddr_parse(t, ip);
}

/* One allocation row: 0, 1 when its pool is not configured, -1. */
static int
load_allocation(struct ipam_store *s, sqlite3_stmt *st, char *err,
    size_t errlen)
{
	const char *res = (const char *)sqlite3_column_text(st, 0);
	const char *mac = (const char *)sqlite3_column_text(st, 4);
	struct ipam_alloc rec;
	int rv;

	memset(&rec, 0, sizeof(rec));
	strlcpy_s(rec.resource, res ? res : "", sizeof(rec.resource));
	rec.pool = (const char *)sqlite3_column_text(st, 1);
	rec.preallocated = sqlite3_column_int(st, 5) != 0;
	rec.created = sqlite3_column_int64(st, 6);
	rec.labels = (const char *)sqlite3_column_text(st, 7);
	if (res == NULL || rec.pool == NULL || col_ip(st, 2, &rec.ip) == -1 ||
	    col_ip(st, 3, &rec.ipv6) == -1 || mac == NULL ||
	    mac_parse(mac, &rec.mac) == -1 ||
	    !ipam_labels_canonical(rec.labels))
		return refuse(err, errlen, "%s: bad allocation row for %s",
		    s->dbpath, rec.resource);
	if ((rv = ipam_restore_alloc(s->ipam, &rec, err, errlen)) == 1)
		log_warn("ipam store: %s: pool %s is not configured; "
		    "allocation kept on disk", rec.resource, rec.pool);
	else if (rv == -1)
		errno = EBADMSG;
	return rv;
}

/* Step through a query; each row to fn; any step error stops it. */
static int
load_rows(struct ipam_store *s, const char *sql, const char *what,
    int (*fn)(struct ipam_store *, sqlite3_stmt *, char *, size_t),
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc, rv = 0;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(s, what, err, errlen);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((rv = fn(s, st, err, errlen)) == -1)
			break;
	if (rv != -1 && rc != SQLITE_DONE)
		rv = db_error(s, what, err, errlen);
	sqlite3_finalize(st);
	return rv == -1 ? -1 : 0;
}

static int
load_quarantined(struct ipam_store *s, sqlite3_stmt *st, char *err,
    size_t errlen)
{
	const char *pool = (const char *)sqlite3_column_text(st, 0);
	struct ipaddr ip;

	if (pool == NULL || sqlite3_column_type(st, 1) == SQLITE_NULL ||
	    col_ip(st, 1, &ip) == -1)
		return refuse(err, errlen, "%s: bad quarantine row",
		    s->dbpath);
	ipam_restore_quarantine(s->ipam, pool, &ip,
	    sqlite3_column_int64(st, 2));
	return 0;
}

static int
load_reservation(struct ipam_store *s, sqlite3_stmt *st, char *err,
    size_t errlen)
{
	struct store_res *r;
	const char *t[3];

	for (int i = 0; i < 3; i++)
		if ((t[i] = (const char *)sqlite3_column_text(st, i)) == NULL)
			return refuse(err, errlen, "%s: bad reservation row",
			    s->dbpath);
	s->res = xrealloc(s->res, (s->nres + 1) * sizeof(*s->res));
	r = &s->res[s->nres++];
	strlcpy_s(r->pool, t[0], sizeof(r->pool));
	strlcpy_s(r->ip, t[1], sizeof(r->ip));
	strlcpy_s(r->name, t[2], sizeof(r->name));
	return 0;
}

/* A block, borrowed or lent address of a fabric pool. */
static int
load_block(struct ipam_store *s, sqlite3_stmt *st, char *err, size_t errlen)
{
	const char *pool = (const char *)sqlite3_column_text(st, 0);
	const char *blk = (const char *)sqlite3_column_text(st, 1);
	const char *kind = (const char *)sqlite3_column_text(st, 2);
	struct ipam_block_rec rec;
	int rv;

	memset(&rec, 0, sizeof(rec));
	if (pool == NULL || blk == NULL || kind == NULL ||
	    prefix_parse(blk, &rec.prefix, false) == -1)
		return refuse(err, errlen, "%s: bad fabric block row",
		    s->dbpath);
	strlcpy_s(rec.kind, kind, sizeof(rec.kind));
	rec.revision = sqlite3_column_int64(st, 3);
	rec.claimed = sqlite3_column_int64(st, 4);
	if ((rv = ipam_restore_block(s->ipam, pool, &rec, err, errlen)) == 1)
		log_warn("ipam store: pool %s is not a configured fabric "
		    "pool; its %s %s is kept on disk", pool, kind, blk);
	else if (rv == -1)
		errno = EBADMSG;
	return rv;
}

/* A run-time pool, to the loader before any allocation. */
static int
load_pool(struct ipam_store *s, sqlite3_stmt *st, char *err, size_t errlen)
{
	const char *name = (const char *)sqlite3_column_text(st, 0);
	const char *def = (const char *)sqlite3_column_text(st, 1);

	if (name == NULL || def == NULL)
		return refuse(err, errlen, "%s: bad pools row", s->dbpath);
	if (s->pool_load == NULL)
		log_warn("ipam store: pool %s was made at run time and nothing "
		    "loads it here; kept on disk", name);
	else if (s->pool_load(name, def, s->pool_load_arg) == -1)
		log_warn("ipam store: pool %s (made at run time) is left out; "
		    "kept on disk", name);
	return 0;
}

/* Run-time pools first (they must exist for what follows), then fabric
 * blocks before the allocations: fabric pools hand out only what they
 * hold. */
static int
load_tables(struct ipam_store *s, char *err, size_t errlen)
{
	if (load_rows(s, "SELECT name, definition FROM pools ORDER BY rowid",
	    "reading pools", load_pool, err, errlen) == -1 ||
	    load_rows(s, "SELECT pool, block, kind, revision, claimed FROM "
	    "fabric_blocks ORDER BY rowid", "reading fabric blocks",
	    load_block, err, errlen) == -1 ||
	    load_rows(s, "SELECT resource, pool, ip, ipv6, mac, preallocated, "
	    "created, labels FROM allocations ORDER BY rowid",
	    "reading allocations", load_allocation, err, errlen) == -1 ||
	    load_rows(s, "SELECT pool, ip, until FROM quarantine ORDER BY "
	    "until", "reading the quarantine", load_quarantined, err,
	    errlen) == -1 ||
	    load_rows(s, "SELECT pool, ip, name FROM reservations",
	    "reading reservations", load_reservation, err, errlen) == -1 ||
	    store_shadow_load(s, err, errlen) == -1)
		return -1;
	return 0;
}

/* The audit chain at open */

/*
 * The head must match its tag, the last record and the anchor; then
 * the anchor catches up (it is missing after an upgrade, or behind
 * after a crash between a commit and its anchor).
 */
static int
audit_open_check(struct ipam_store *s, char *err, size_t errlen)
{
	struct ipam_audit_report rep;
	struct audit_anchor anchor;
	char aerr[512], hex[2 * AUDIT_HMAC_LEN + 1];

	memset(&rep, 0, sizeof(rep));
	rep.ok = true;
	if (audit_anchor_read(s->dir, s->key, &anchor, aerr,
	    sizeof(aerr)) == -1)
		return refuse(err, errlen, "%s; the IPAM is refused", aerr);
	if (audit_head_check(s->db, s->key, &anchor, &rep, &s->audit_seq,
	    s->audit_head) == -1)
		return db_error(s, "reading the audit chain", err, errlen);
	if (!rep.ok)
		return refuse(err, errlen, "%s: audit chain: %s; the IPAM is "
		    "refused: put back the latest copy of the database%s",
		    s->dbpath, rep.reason, rep.rolled_back ? " (to accept "
		    "the loss instead, remove ipam.anchor)" : "");
	s->anchor_seq = anchor.present ? anchor.seq : 0;
	if (!anchor.present && s->audit_seq > 0)
		log_warn("%s/ipam.anchor: missing; anchoring the audit chain "
		    "at seq %lld now (a rollback before this start cannot be "
		    "detected)", s->dir, (long long)s->audit_seq);
	if (s->audit_seq > s->anchor_seq) {
		if (audit_anchor_write(s->dir, s->key, s->audit_seq,
		    s->audit_head, aerr, sizeof(aerr)) == -1)
			log_warn("ipam store: %s", aerr);
		else
			s->anchor_seq = s->audit_seq;
	}
	audit_hex(s->audit_head, AUDIT_HMAC_LEN, hex);
	log_info("ipam: audit chain head seq %lld %s (at start)",
	    (long long)s->audit_seq, hex);
	return 0;
}

static int
store_prepare(struct ipam_store *s, char *err, size_t errlen)
{
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(s->db, store_stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK)
			return db_error(s, "preparing statements", err,
			    errlen);
	return 0;
}

int
store_load(struct ipam_store *s, char *err, size_t errlen)
{
	int64_t naudit;

	if (state_files_check(s->dir, err, errlen) == -1)
		return -1;
	if (sqlite3_open_v2(s->dbpath, &s->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", s->dbpath,
		    s->db ? sqlite3_errmsg(s->db) : "cannot open");
		errno = EIO;
		return -1;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (quick_check(s, err, errlen) == -1 ||
	    schema_setup(s, err, errlen) == -1)
		return -1;
	if (db_int(s->db, "SELECT count(*) FROM audit", 0, &naudit) == -1)
		return db_error(s, "counting audit records", err, errlen);
	if (audit_key_load(s->dir, naudit == 0, s->key, err, errlen) == -1 ||
	    store_prepare(s, err, errlen) == -1 ||
	    audit_open_check(s, err, errlen) == -1 ||
	    load_tables(s, err, errlen) == -1)
		return -1;
	return 0;
}
