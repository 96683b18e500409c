/*
 * The audit chain: each record's HMAC covers the previous record's HMAC
 * and this record's canonical bytes, so no record can be edited,
 * removed or moved without breaking every later link.
 *
 * How this works: the canonical bytes are the seq and time as 64-bit
 * big-endian integers, then op, resource, pool, ip, ipv6 and mac as
 * text, each prefixed by its 32-bit length (absent fields are empty),
 * then, when the record names one, the actor the same way (records of
 * schema 1 have none, and keep their HMAC), and when it carries labels
 * (schema 4), the actor even if empty and then the labels' canonical
 * text: a record without labels hashes exactly as before, and since
 * every field carries its length, a record with labels can never hash
 * the bytes of one without.  hmac = HMAC-SHA256(key,
 * prev_hmac || canonical); the first record's prev_hmac is 32 zero
 * bytes.  store.c appends records inside the transaction that makes
 * the change, and stores the chain head (last seq and hmac) in the meta
 * table with its own tag, HMAC-SHA256(key, "head" || seq || hmac):
 * dropping the newest records would need a tag for an older head.
 *
 * An older copy of the whole database has such a tag, though.  So the
 * head is also kept outside the database, in STATE/ipam.anchor, one
 * line "evpnd-ipam-anchor 1 seq N head HEX tag HEX" with tag =
 * HMAC-SHA256(key, "anchor" || seq || hmac); it is replaced atomically
 * after commits, always after the database, so the database is never
 * behind a sound anchor: it must hold a record at the anchored seq with
 * the anchored hmac, or it was rolled back (or replaced by another
 * copy).
 *
 * audit_head_check() compares the tagged head, the last record and the
 * anchor (at open and after a verification); verification walks the
 * rows in seq order on its own read-only connection and reports the
 * first seq that is missing, mislinked or altered.  The anchor is read
 * before the database snapshot, so a commit racing the check can only
 * make the database newer than the anchor, never older.
 */
#include "ipam/ipam_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "common/buf.h"
#include "common/log.h"

static void
put_text(struct wbuf *wb, const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;

	wbuf_put_u32(wb, (uint32_t)len);
	wbuf_put_bytes(wb, s, len);
}

void
audit_hmac(const uint8_t *key, const uint8_t *prev,
    const struct ipam_audit_record *r, uint8_t *out)
{
	struct wbuf wb;
	unsigned int len = AUDIT_HMAC_LEN;

	wbuf_init(&wb, 0);
	wbuf_put_bytes(&wb, prev, AUDIT_HMAC_LEN);
	wbuf_put_u64(&wb, (uint64_t)r->seq);
	wbuf_put_u64(&wb, (uint64_t)r->time);
	put_text(&wb, r->op);
	put_text(&wb, r->resource);
	put_text(&wb, r->pool);
	put_text(&wb, r->ip);
	put_text(&wb, r->ipv6);
	put_text(&wb, r->mac);
	if (r->labels != NULL && r->labels[0] != '\0') {
		put_text(&wb, r->actor);
		put_text(&wb, r->labels);
	} else if (r->actor != NULL && r->actor[0] != '\0')
		put_text(&wb, r->actor);
	if (wb.error || HMAC(EVP_sha256(), key, AUDIT_KEY_LEN, wb.data,
	    wb.len, out, &len) == NULL)
		fatalx("%s: HMAC failed", __func__);
	wbuf_free(&wb);
}

static void
put_be64(uint8_t *p, int64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
}

static int64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return (int64_t)v;
}

/* HMAC-SHA256(key, label || seq || hmac) */
static void
label_tag(const uint8_t *key, const char *label, int64_t seq,
    const uint8_t *hmac, uint8_t *out)
{
	uint8_t msg[16 + 8 + AUDIT_HMAC_LEN];
	size_t n = strlen(label);
	unsigned int len = AUDIT_HMAC_LEN;

	memcpy(msg, label, n);
	put_be64(msg + n, seq);
	memcpy(msg + n + 8, hmac, AUDIT_HMAC_LEN);
	if (HMAC(EVP_sha256(), key, AUDIT_KEY_LEN, msg, n + 8 + AUDIT_HMAC_LEN,
	    out, &len) == NULL)
		fatalx("%s: HMAC failed", __func__);
}

void
audit_head_tag(const uint8_t *key, int64_t seq, const uint8_t *hmac,
    uint8_t *out)
{
	label_tag(key, "head", seq, hmac, out);
}

void
audit_head_blob(const uint8_t *key, int64_t seq, const uint8_t *hmac,
    uint8_t *blob)
{
	put_be64(blob, seq);
	memcpy(blob + 8, hmac, AUDIT_HMAC_LEN);
	audit_head_tag(key, seq, hmac, blob + 8 + AUDIT_HMAC_LEN);
}

void
audit_hex(const uint8_t *b, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

/* The key file */

static int
key_create(const char *path, uint8_t *key, char *err, size_t errlen)
{
	int fd;

	if (RAND_bytes(key, AUDIT_KEY_LEN) != 1) {
		snprintf(err, errlen, "%s: no random bytes for the key", path);
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (write(fd, key, AUDIT_KEY_LEN) != AUDIT_KEY_LEN || fsync(fd) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

int
audit_key_load(const char *dir, bool create, uint8_t *key, char *err,
    size_t errlen)
{
	char path[4096];
	struct stat sb;
	int fd;

	snprintf(path, sizeof(path), "%s/ipam.key", dir);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT && create)
		return key_create(path, key, err, errlen);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
		    errno == ENOENT ? " (the audit trail needs the key it "
		    "was written with)" : "");
		return -1;
	}
	if (fstat(fd, &sb) == -1 || (sb.st_mode & 077) != 0 ||
	    read(fd, key, AUDIT_KEY_LEN) != AUDIT_KEY_LEN ||
	    sb.st_size != AUDIT_KEY_LEN) {
		snprintf(err, errlen, "%s: must be %d bytes, mode 0600",
		    path, AUDIT_KEY_LEN);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The anchor file */

#define ANCHOR_MAGIC	"evpnd-ipam-anchor 1"
#define ANCHOR_LINE_MAX	(sizeof(ANCHOR_MAGIC) + 32 + 4 * AUDIT_HMAC_LEN)

static int
anchor_format(const uint8_t *key, int64_t seq, const uint8_t *hmac,
    char *line, size_t len)
{
	char head[2 * AUDIT_HMAC_LEN + 1], tag[2 * AUDIT_HMAC_LEN + 1];
	uint8_t t[AUDIT_HMAC_LEN];

	label_tag(key, "anchor", seq, hmac, t);
	audit_hex(hmac, AUDIT_HMAC_LEN, head);
	audit_hex(t, AUDIT_HMAC_LEN, tag);
	return snprintf(line, len, ANCHOR_MAGIC " seq %lld head %s tag %s\n",
	    (long long)seq, head, tag);
}

static int
hex_decode(const char *s, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < 2 * len; i++) {
		const char *d = strchr("0123456789abcdef", s[i]);

		if (s[i] == '\0' || d == NULL)
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)((d - "0123456789abcdef") << 4);
		else
			out[i / 2] |= (uint8_t)(d - "0123456789abcdef");
	}
	return 0;
}

/*
 * Parse the line and accept it only if formatting what was parsed gives
 * it back byte for byte under a tag that matches: no other spelling.
 */
static int
anchor_parse(const char *line, const uint8_t *key, struct audit_anchor *a)
{
	char again[ANCHOR_LINE_MAX], *end;
	const char *p;
	long long seq;

	if (strncmp(line, ANCHOR_MAGIC " seq ", sizeof(ANCHOR_MAGIC " seq ")
	    - 1) != 0)
		return -1;
	p = line + sizeof(ANCHOR_MAGIC " seq ") - 1;
	errno = 0;
	seq = strtoll(p, &end, 10);
	if (errno != 0 || seq < 0 || strncmp(end, " head ", 6) != 0 ||
	    hex_decode(end + 6, a->hmac, AUDIT_HMAC_LEN) == -1)
		return -1;
	a->seq = seq;
	if (anchor_format(key, a->seq, a->hmac, again, sizeof(again)) < 0 ||
	    strcmp(again, line) != 0)
		return -1;
	a->present = true;
	return 0;
}

static void
anchor_path(const char *dir, const char *suffix, char *path, size_t len)
{
	snprintf(path, len, "%s/ipam.anchor%s", dir, suffix);
}

int
audit_anchor_read(const char *dir, const uint8_t *key,
    struct audit_anchor *a, char *err, size_t errlen)
{
	char path[4096], line[ANCHOR_LINE_MAX];
	struct stat sb;
	ssize_t n;
	int fd;

	memset(a, 0, sizeof(*a));
	anchor_path(dir, "", path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, line, sizeof(line) - 1);
	if (n >= 0 && fstat(fd, &sb) == 0 && (sb.st_mode & 077) != 0 &&
	    fchmod(fd, 0600) == 0)
		log_warn("%s: was mode %04o; now 0600", path,
		    (unsigned)(sb.st_mode & 0777));
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	line[n] = '\0';
	if (anchor_parse(line, key, a) == -1) {
		snprintf(err, errlen, "%s: not an anchor this key vouches for "
		    "(altered, or written with another ipam.key)", path);
		memset(a, 0, sizeof(*a));
		return -1;
	}
	return 0;
}

int
audit_anchor_write(const char *dir, const uint8_t *key, int64_t seq,
    const uint8_t *hmac, char *err, size_t errlen)
{
	char path[4096], tmp[4096], line[ANCHOR_LINE_MAX];
	int fd, len = anchor_format(key, seq, hmac, line, sizeof(line));

	anchor_path(dir, "", path, sizeof(path));
	anchor_path(dir, ".tmp", tmp, sizeof(tmp));
	if (unlink(tmp) == -1 && errno != ENOENT)
		goto fail;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		goto fail;
	/* fsync before the rename: after a crash the name holds the old
	 * anchor or the new one, never a torn one. */
	errno = 0;
	if (write(fd, line, (size_t)len) != len || fsync(fd) == -1) {
		if (errno == 0)
			errno = ENOSPC;
		close(fd);
		unlink(tmp);
		goto fail;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		unlink(tmp);
		goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

/* Verification */

static const char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? (const char *)t : "";
}

static bool
col_blob_eq(sqlite3_stmt *st, int i, const uint8_t *want, size_t len)
{
	const void *b = sqlite3_column_blob(st, i);

	return b != NULL && (size_t)sqlite3_column_bytes(st, i) == len &&
	    memcmp(b, want, len) == 0;
}

static void
report_bad(struct ipam_audit_report *rep, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
report_bad(struct ipam_audit_report *rep, int64_t seq, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!rep->ok)
		return;		/* the first problem names the report */
	rep->ok = false;
	rep->bad_seq = seq;
	n = snprintf(rep->reason, sizeof(rep->reason), "seq %lld: ",
	    (long long)seq);
	va_start(ap, fmt);
	vsnprintf(rep->reason + n, sizeof(rep->reason) - (size_t)n, fmt, ap);
	va_end(ap);
}

#define AUDIT_COLUMNS	"seq, time, op, resource, pool, ip, ipv6, mac, " \
			"prev_hmac, hmac, actor, labels"
/* The same on a database not migrated yet (an IPAM refused before its
 * schema was upgraded): the columns it lacks read as NULL. */
#define AUDIT_COLUMNS_V2 "seq, time, op, resource, pool, ip, ipv6, mac, " \
			"prev_hmac, hmac, actor, NULL"
#define AUDIT_COLUMNS_V1 "seq, time, op, resource, pool, ip, ipv6, mac, " \
			"prev_hmac, hmac, NULL, NULL"

/* SELECT the record columns FROM audit, then tail: prepared on the
 * columns the database has. */
static int
audit_prepare(sqlite3 *db, const char *tail, sqlite3_stmt **st)
{
	static const char *const cols[] = { AUDIT_COLUMNS, AUDIT_COLUMNS_V2,
	    AUDIT_COLUMNS_V1 };
	char sql[512];
	int rc = SQLITE_ERROR;

	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT %s FROM audit %s", cols[i],
		    tail);
		if ((rc = sqlite3_prepare_v2(db, sql, -1, st, NULL)) ==
		    SQLITE_OK)
			return rc;
	}
	return rc;
}

static void
row_rec(sqlite3_stmt *st, struct ipam_audit_record *r)
{
	r->seq = sqlite3_column_int64(st, 0);
	r->time = sqlite3_column_int64(st, 1);
	r->op = col_text(st, 2);
	r->resource = col_text(st, 3);
	r->pool = col_text(st, 4);
	r->ip = col_text(st, 5);
	r->ipv6 = col_text(st, 6);
	r->mac = col_text(st, 7);
	r->actor = col_text(st, 10);
	r->labels = col_text(st, 11);
}

/* One row against the expected seq and link; false when bad. */
static bool
verify_row(sqlite3_stmt *st, const uint8_t *key, int64_t expect,
    uint8_t *prev, struct ipam_audit_report *rep)
{
	struct ipam_audit_record r;
	uint8_t h[AUDIT_HMAC_LEN];

	row_rec(st, &r);
	if (r.seq != expect) {
		report_bad(rep, expect, "%s", r.seq > expect ? "record missing "
		    "(gap in the sequence)" : "sequence out of order");
		return false;
	}
	if (!col_blob_eq(st, 8, prev, AUDIT_HMAC_LEN)) {
		report_bad(rep, expect, "broken link (record removed, moved "
		    "or replaced)");
		return false;
	}
	audit_hmac(key, prev, &r, h);
	if (!col_blob_eq(st, 9, h, AUDIT_HMAC_LEN)) {
		report_bad(rep, expect, "record altered (HMAC mismatch)");
		return false;
	}
	memcpy(prev, h, AUDIT_HMAC_LEN);
	return true;
}

/* Run a query with one optional int64 parameter; SQLITE_ROW with st
 * left for the caller to read (and finalize), else st finalized. */
static int
query_row(sqlite3 *db, const char *sql, int64_t arg, sqlite3_stmt **st)
{
	int rc;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, st, NULL)) != SQLITE_OK)
		return rc;
	if (sqlite3_bind_parameter_count(*st) > 0 &&
	    (rc = sqlite3_bind_int64(*st, 1, arg)) != SQLITE_OK) {
		sqlite3_finalize(*st);
		return rc;
	}
	if ((rc = sqlite3_step(*st)) != SQLITE_ROW)
		sqlite3_finalize(*st);
	return rc;
}

/* The last record: seq and hmac (0 and zeros when there is none). */
static int
last_record(sqlite3 *db, int64_t *seq, uint8_t *hmac)
{
	sqlite3_stmt *st;
	int rc;

	*seq = 0;
	memset(hmac, 0, AUDIT_HMAC_LEN);
	rc = query_row(db, "SELECT seq, hmac FROM audit ORDER BY seq DESC "
	    "LIMIT 1", 0, &st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -1;
	*seq = sqlite3_column_int64(st, 0);
	if (sqlite3_column_bytes(st, 1) == AUDIT_HMAC_LEN)
		memcpy(hmac, sqlite3_column_blob(st, 1), AUDIT_HMAC_LEN);
	sqlite3_finalize(st);
	return 0;
}

/*
 * The tagged head in meta: 1 and *seq, hmac when present and vouched
 * for, 0 when absent, 2 when present but not vouched for, -1 on error.
 */
static int
tagged_head(sqlite3 *db, const uint8_t *key, int64_t *seq, uint8_t *hmac)
{
	uint8_t want[AUDIT_HEAD_BLOB_LEN];
	const uint8_t *blob;
	sqlite3_stmt *st;
	int rc, found = 2;

	rc = query_row(db, "SELECT value FROM meta WHERE key = 'audit_head'",
	    0, &st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -1;
	blob = sqlite3_column_blob(st, 0);
	if (blob == NULL)
		found = 0;
	else if (sqlite3_column_bytes(st, 0) == AUDIT_HEAD_BLOB_LEN) {
		*seq = get_be64(blob);
		memcpy(hmac, blob + 8, AUDIT_HMAC_LEN);
		audit_head_blob(key, *seq, hmac, want);
		if (memcmp(blob, want, sizeof(want)) == 0)
			found = 1;
	}
	sqlite3_finalize(st);
	return found;
}

/* The record at seq has the anchored hmac (1), another (0); -1 error. */
static int
record_is(sqlite3 *db, int64_t seq, const uint8_t *hmac)
{
	sqlite3_stmt *st;
	bool same;
	int rc;

	rc = query_row(db, "SELECT hmac FROM audit WHERE seq = ?", seq, &st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -1;
	same = col_blob_eq(st, 0, hmac, AUDIT_HMAC_LEN);
	sqlite3_finalize(st);
	return same;
}

static void
check_head(int found, int64_t last, const uint8_t *last_hmac, int64_t head,
    const uint8_t *head_hmac, struct ipam_audit_report *rep)
{
	rep->head_seq = found == 1 ? head : 0;
	if (found == 0 && last > 0)
		report_bad(rep, last + 1, "the chain head is missing: records "
		    "up to seq %lld are not vouched for", (long long)last);
	else if (found == 2)
		report_bad(rep, last + 1, "the chain head is altered (its tag "
		    "does not match)");
	else if (found == 1 && head > last) {
		rep->truncated = true;
		report_bad(rep, last + 1, "records %lld..%lld are missing at "
		    "the end (the chain head names seq %lld, the last record "
		    "is seq %lld)", (long long)last + 1, (long long)head,
		    (long long)head, (long long)last);
	} else if (found == 1 && head < last)
		report_bad(rep, head + 1, "records %lld..%lld follow the chain "
		    "head (seq %lld): not written by evpnd",
		    (long long)head + 1, (long long)last, (long long)head);
	else if (found == 1 && memcmp(head_hmac, last_hmac,
	    AUDIT_HMAC_LEN) != 0)
		report_bad(rep, last, "the last record is not the one the "
		    "chain head names (replaced)");
}

static int
check_anchor(sqlite3 *db, const struct audit_anchor *a, int64_t last,
    struct ipam_audit_report *rep)
{
	int same;

	rep->anchored = a != NULL && a->present;
	if (!rep->anchored)
		return 0;
	rep->anchor_seq = a->seq;
	if (a->seq > last) {
		rep->rolled_back = !rep->truncated;
		report_bad(rep, last + 1, "records %lld..%lld are missing: the "
		    "database ends at seq %lld but ipam.anchor names seq %lld "
		    "(rolled back to an older copy)", (long long)last + 1,
		    (long long)a->seq, (long long)last, (long long)a->seq);
		return 0;
	}
	if (a->seq == 0)
		return 0;
	if ((same = record_is(db, a->seq, a->hmac)) == -1)
		return -1;
	if (!same) {
		rep->rolled_back = true;
		report_bad(rep, a->seq, "not the record ipam.anchor names (the "
		    "database was replaced by another copy)");
	}
	return 0;
}

int
audit_head_check(sqlite3 *db, const uint8_t *key,
    const struct audit_anchor *anchor, struct ipam_audit_report *rep,
    int64_t *last, uint8_t *last_hmac)
{
	uint8_t head_hmac[AUDIT_HMAC_LEN];
	int64_t head = 0;
	int found;

	if (last_record(db, last, last_hmac) == -1 ||
	    (found = tagged_head(db, key, &head, head_hmac)) == -1)
		return -1;
	rep->last_seq = *last;
	check_head(found, *last, last_hmac, head, head_hmac, rep);
	return check_anchor(db, anchor, *last, rep);
}

static void
report_error(struct ipam_audit_report *rep, const char *what,
    const char *why)
{
	rep->ok = false;
	snprintf(rep->reason, sizeof(rep->reason), "%s%s%s", what,
	    what[0] != '\0' ? ": " : "", why);
}

/* The chain, then its head and the anchor, on one read snapshot. */
static int
audit_verify_db(sqlite3 *db, const uint8_t *key,
    const struct audit_anchor *anchor, struct ipam_audit_report *rep)
{
	sqlite3_stmt *st;
	uint8_t prev[AUDIT_HMAC_LEN], last_hmac[AUDIT_HMAC_LEN];
	int64_t expect = 1, last;
	int rc;

	memset(prev, 0, sizeof(prev));
	if (audit_prepare(db, "ORDER BY seq", &st) != SQLITE_OK) {
		report_error(rep, "", sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!verify_row(st, key, expect, prev, rep))
			break;
		rep->records++;
		expect++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		report_error(rep, "", sqlite3_errmsg(db));
		return -1;
	}
	if (audit_head_check(db, key, anchor, rep, &last, last_hmac) == -1) {
		report_error(rep, "", sqlite3_errmsg(db));
		return -1;
	}
	if (rep->ok)
		snprintf(rep->reason, sizeof(rep->reason), "%lld records, "
		    "chain intact%s", (long long)rep->records, rep->anchored ?
		    "" : " (no anchor yet)");
	return 0;
}

static int
verify_path(const char *dir, const char *path, const uint8_t *key,
    struct ipam_audit_report *rep)
{
	struct audit_anchor anchor;
	sqlite3 *db;
	int rv;

	memset(rep, 0, sizeof(*rep));
	rep->ok = true;
	/* The anchor first: it is written after the commits it names. */
	if (audit_anchor_read(dir, key, &anchor, rep->reason,
	    sizeof(rep->reason)) == -1) {
		rep->ok = false;
		return 0;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		report_error(rep, path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	/* One read transaction: the rows and the chain head must come from
	 * the same snapshot, or a commit between the two reads looks like
	 * tampering. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		report_error(rep, path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	rv = audit_verify_db(db, key, &anchor, rep);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	return rv;
}

int
ipam_audit_verify(struct ipam_store *store, struct ipam_audit_report *rep)
{
	return verify_path(store_dir(store), store_db_path(store),
	    store_key(store), rep);
}

int
ipam_audit_verify_dir(const char *dir, struct ipam_audit_report *rep)
{
	uint8_t key[AUDIT_KEY_LEN];
	char path[4096];
	int rv;

	memset(rep, 0, sizeof(*rep));
	if (audit_key_load(dir, false, key, rep->reason,
	    sizeof(rep->reason)) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/ipam.db", dir);
	rv = verify_path(dir, path, key, rep);
	explicit_bzero(key, sizeof(key));
	return rv;
}

/* Listing */

static void
col_hex(sqlite3_stmt *st, int i, char *out)
{
	if (sqlite3_column_bytes(st, i) == AUDIT_HMAC_LEN)
		audit_hex(sqlite3_column_blob(st, i), AUDIT_HMAC_LEN, out);
	else
		out[0] = '\0';
}

static int
records_walk(sqlite3 *db, int64_t since, size_t limit,
    int (*cb)(const struct ipam_audit_record *, void *), void *arg)
{
	struct ipam_audit_record r;
	sqlite3_stmt *st;
	int rc, n = 0;

	if (audit_prepare(db, "WHERE seq > ? ORDER BY seq LIMIT ?", &st) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_bind_int64(st, 1, since) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit) != SQLITE_OK) {
		sqlite3_finalize(st);
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_rec(st, &r);
		col_hex(st, 8, r.prev_hex);
		col_hex(st, 9, r.hmac_hex);
		n++;
		if (cb(&r, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? n : -1;
}

int
ipam_audit_records(struct ipam_store *store, int64_t since, size_t limit,
    int (*cb)(const struct ipam_audit_record *, void *), void *arg,
    char *err, size_t errlen)
{
	const char *path = store_db_path(store);
	sqlite3 *db;
	int n;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	if ((n = records_walk(db, since, limit, cb, arg)) == -1)
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
	sqlite3_close(db);
	return n;
}
