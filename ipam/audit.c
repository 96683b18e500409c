/*
 * The audit chain: each record's HMAC covers the previous record's HMAC
 * and this record's canonical bytes, so no record can be edited,
 * removed or moved without breaking every later link.
 *
 * How this works: the canonical bytes are the seq and time as 64-bit
 * big-endian integers, then op, resource, pool, ip, ipv6 and mac as
 * text, each prefixed by its 32-bit length (absent fields are empty).
 * hmac = HMAC-SHA256(key, prev_hmac || canonical); the first record's
 * prev_hmac is 32 zero bytes.  store.c appends records inside the
 * transaction that makes the change, and stores the chain head (last
 * seq and hmac) in the meta table with its own tag, HMAC-SHA256(key,
 * "head" || seq || hmac): dropping the newest records would need a tag
 * for an older head, which was never written.  Verification walks the
 * rows in seq order on its own read-only connection and reports the
 * first seq that is missing, mislinked or altered.
 */
#include "ipam/ipam_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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
    const struct audit_rec *r, uint8_t *out)
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
	if (wb.error || HMAC(EVP_sha256(), key, AUDIT_KEY_LEN, wb.data,
	    wb.len, out, &len) == NULL)
		fatalx("%s: HMAC failed", __func__);
	wbuf_free(&wb);
}

void
audit_head_tag(const uint8_t *key, int64_t seq, const uint8_t *hmac,
    uint8_t *out)
{
	uint8_t msg[4 + 8 + AUDIT_HMAC_LEN];
	unsigned int len = AUDIT_HMAC_LEN;

	memcpy(msg, "head", 4);
	for (int i = 0; i < 8; i++)
		msg[4 + i] = (uint8_t)((uint64_t)seq >> (56 - 8 * i));
	memcpy(msg + 12, hmac, AUDIT_HMAC_LEN);
	if (HMAC(EVP_sha256(), key, AUDIT_KEY_LEN, msg, sizeof(msg), out,
	    &len) == NULL)
		fatalx("%s: HMAC failed", __func__);
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
report_bad(struct ipam_audit_report *rep, int64_t seq, const char *why)
{
	rep->ok = false;
	rep->bad_seq = seq;
	snprintf(rep->reason, sizeof(rep->reason), "seq %lld: %s",
	    (long long)seq, why);
}

/* One row against the expected seq and link; false when bad. */
static bool
verify_row(sqlite3_stmt *st, const uint8_t *key, int64_t expect,
    uint8_t *prev, struct ipam_audit_report *rep)
{
	struct audit_rec r;
	uint8_t h[AUDIT_HMAC_LEN];

	r.seq = sqlite3_column_int64(st, 0);
	if (r.seq != expect) {
		report_bad(rep, expect, r.seq > expect ? "record missing "
		    "(gap in the sequence)" : "sequence out of order");
		return false;
	}
	if (!col_blob_eq(st, 8, prev, AUDIT_HMAC_LEN)) {
		report_bad(rep, expect, "broken link (record removed, moved "
		    "or replaced)");
		return false;
	}
	r.time = sqlite3_column_int64(st, 1);
	r.op = col_text(st, 2);
	r.resource = col_text(st, 3);
	r.pool = col_text(st, 4);
	r.ip = col_text(st, 5);
	r.ipv6 = col_text(st, 6);
	r.mac = col_text(st, 7);
	audit_hmac(key, prev, &r, h);
	if (!col_blob_eq(st, 9, h, AUDIT_HMAC_LEN)) {
		report_bad(rep, expect, "record altered (HMAC mismatch)");
		return false;
	}
	memcpy(prev, h, AUDIT_HMAC_LEN);
	return true;
}

/* The head in meta must name the last record, under a valid tag. */
static void
verify_head(sqlite3 *db, const uint8_t *key, int64_t last,
    const uint8_t *hmac, struct ipam_audit_report *rep)
{
	sqlite3_stmt *st;
	uint8_t tag[AUDIT_HMAC_LEN], want[8 + 2 * AUDIT_HMAC_LEN];
	bool ok;

	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE "
	    "key = 'audit_head'", -1, &st, NULL) != SQLITE_OK) {
		report_bad(rep, last + 1, "no chain head");
		return;
	}
	for (int i = 0; i < 8; i++)
		want[i] = (uint8_t)((uint64_t)last >> (56 - 8 * i));
	memcpy(want + 8, hmac, AUDIT_HMAC_LEN);
	audit_head_tag(key, last, hmac, tag);
	memcpy(want + 8 + AUDIT_HMAC_LEN, tag, AUDIT_HMAC_LEN);
	if (sqlite3_step(st) == SQLITE_ROW)
		ok = col_blob_eq(st, 0, want, sizeof(want));
	else
		ok = last == 0;
	sqlite3_finalize(st);
	if (!ok)
		report_bad(rep, last + 1, "chain head does not match the last "
		    "record (records removed at the end, or head altered)");
}

int
audit_verify_db(sqlite3 *db, const uint8_t *key,
    struct ipam_audit_report *rep)
{
	sqlite3_stmt *st;
	uint8_t prev[AUDIT_HMAC_LEN];
	int64_t expect = 1;
	int rc;

	memset(rep, 0, sizeof(*rep));
	memset(prev, 0, sizeof(prev));
	rep->ok = true;
	if (sqlite3_prepare_v2(db, "SELECT seq, time, op, resource, pool, ip, "
	    "ipv6, mac, prev_hmac, hmac FROM audit ORDER BY seq", -1, &st,
	    NULL) != SQLITE_OK) {
		snprintf(rep->reason, sizeof(rep->reason), "%s",
		    sqlite3_errmsg(db));
		rep->ok = false;
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
		snprintf(rep->reason, sizeof(rep->reason), "%s",
		    sqlite3_errmsg(db));
		rep->ok = false;
		return -1;
	}
	if (rep->ok)
		verify_head(db, key, expect - 1, prev, rep);
	if (rep->ok)
		snprintf(rep->reason, sizeof(rep->reason), "%lld records, "
		    "chain intact", (long long)rep->records);
	return 0;
}

static int
verify_path(const char *path, const uint8_t *key,
    struct ipam_audit_report *rep)
{
	sqlite3 *db;
	int rv;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		memset(rep, 0, sizeof(*rep));
		snprintf(rep->reason, sizeof(rep->reason), "%s: %s", path,
		    sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	/* One read transaction: the rows and the chain head must come from
	 * the same snapshot, or a commit between the two reads looks like
	 * tampering. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		memset(rep, 0, sizeof(*rep));
		snprintf(rep->reason, sizeof(rep->reason), "%s: %s", path,
		    sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	rv = audit_verify_db(db, key, rep);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	return rv;
}

int
ipam_audit_verify(struct ipam_store *store, struct ipam_audit_report *rep)
{
	return verify_path(store_db_path(store), store_key(store), rep);
}

int
ipam_audit_verify_dir(const char *dir, struct ipam_audit_report *rep)
{
	uint8_t key[AUDIT_KEY_LEN];
	char path[4096];

	memset(rep, 0, sizeof(*rep));
	if (audit_key_load(dir, false, key, rep->reason,
	    sizeof(rep->reason)) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/ipam.db", dir);
	return verify_path(path, key, rep);
}
