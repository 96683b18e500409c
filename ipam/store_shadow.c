/*
 * The shadow inventory's state in the store (schema 5): one row per
 * pool in table shadow_state (pool, saved, state), written by the
 * writer thread like every change but outside the audit chain (it is
 * no allocation), and a copy of each pool's latest blob on the event
 * loop's side for the engine made at start or at a reload.
 *
 * How this works: store_shadow_load() reads the rows at open; a row
 * without a pool name, or whose blob is missing or larger than
 * SHADOW_STATE_MAX, is skipped with a log line (the engine then starts
 * cold; what the blob holds is checked by the engine's own reader,
 * ipam/shadow_persist.c).  ipam_store_shadow_put() replaces the copy
 * and submits an IPAM_OP_SHADOW_PUT, so the newest put is what a get
 * answers even before it has committed.
 */
#include "ipam/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/log.h"
#include "common/util.h"
#include "ipam/shadow.h"

static struct store_shadow *
shadow_find(struct ipam_store *s, const char *pool)
{
	for (size_t i = 0; i < s->nshadow; i++)
		if (strcmp(s->shadow[i].pool, pool) == 0)
			return &s->shadow[i];
	return NULL;
}

static void
shadow_keep(struct ipam_store *s, const char *pool, const void *state,
    size_t len, int64_t saved)
{
	struct store_shadow *ss = shadow_find(s, pool);

	if (ss == NULL) {
		s->shadow = xrealloc(s->shadow, (s->nshadow + 1) *
		    sizeof(*s->shadow));
		ss = &s->shadow[s->nshadow++];
		memset(ss, 0, sizeof(*ss));
		strlcpy_s(ss->pool, pool, sizeof(ss->pool));
	}
	free(ss->state);
	ss->state = xmalloc(len);
	memcpy(ss->state, state, len);
	ss->len = len;
	ss->saved = saved;
}

int
store_shadow_load(struct ipam_store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	const char *pool;
	const void *blob;
	int rc, len;

	if (sqlite3_prepare_v2(s->db, "SELECT pool, saved, state FROM "
	    "shadow_state", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: reading shadow state: %s",
		    s->dbpath, sqlite3_errmsg(s->db));
		errno = EIO;
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		pool = (const char *)sqlite3_column_text(st, 0);
		blob = sqlite3_column_blob(st, 2);
		len = sqlite3_column_bytes(st, 2);
		if (pool == NULL || strlen(pool) > IPAM_NAME_MAX ||
		    blob == NULL || len <= 0 || len > SHADOW_STATE_MAX) {
			log_warn("ipam store: a shadow state row (pool %.64s) "
			    "is unusable and ignored", pool != NULL ? pool :
			    "none");
			continue;
		}
		shadow_keep(s, pool, blob, (size_t)len,
		    sqlite3_column_int64(st, 1));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		log_warn("ipam store: %s: reading shadow state stopped: %s; "
		    "the rest starts cold", s->dbpath, sqlite3_errmsg(s->db));
	return 0;
}

/* The writer: replace the pool's row. */
int
store_shadow_apply(struct ipam_store *s, const struct ipam_op *op)
{
	sqlite3_stmt *st = s->st[ST_SHADOW_PUT];
	int b;

	b = sqlite3_bind_text(st, 1, op->pool, -1, SQLITE_TRANSIENT);
	b |= sqlite3_bind_int64(st, 2, op->saved);
	b |= sqlite3_bind_blob(st, 3, op->state != NULL ? op->state : "",
	    (int)op->state_len, SQLITE_TRANSIENT);
	return store_stmt_run(s, ST_SHADOW_PUT, b);
}

void
store_shadow_free(struct ipam_store *s)
{
	for (size_t i = 0; i < s->nshadow; i++)
		free(s->shadow[i].state);
	free(s->shadow);
	s->shadow = NULL;
	s->nshadow = 0;
}

int
ipam_store_shadow_put(struct ipam_store *s, const char *pool,
    const void *state, size_t len, int64_t saved, ipam_done_cb cb,
    void *arg)
{
	struct ipam_op op;

	if (pool == NULL || strlen(pool) > IPAM_NAME_MAX || state == NULL ||
	    len == 0 || len > SHADOW_STATE_MAX) {
		errno = EINVAL;
		return -1;
	}
	memset(&op, 0, sizeof(op));
	op.kind = IPAM_OP_SHADOW_PUT;
	strlcpy_s(op.pool, pool, sizeof(op.pool));
	op.state = state;
	op.state_len = len;
	op.saved = saved;
	if (ipam_store_submit(s, &op, cb, arg) == -1)
		return -1;
	shadow_keep(s, pool, state, len, saved);
	return 0;
}

int
ipam_store_shadow_get(struct ipam_store *s, const char *pool,
    const void **state, size_t *len, int64_t *saved)
{
	struct store_shadow *ss;

	if (s == NULL || pool == NULL || (ss = shadow_find(s, pool)) ==
	    NULL) {
		errno = ENOENT;
		return -1;
	}
	*state = ss->state;
	*len = ss->len;
	*saved = ss->saved;
	return 0;
}

void
ipam_store_shadow_forget(struct ipam_store *s, const char *pool)
{
	struct store_shadow *ss;

	if (s == NULL || pool == NULL || (ss = shadow_find(s, pool)) == NULL)
		return;
	free(ss->state);
	*ss = s->shadow[--s->nshadow];
}
