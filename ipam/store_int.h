/*
 * Internal to ipam/: the store's state, shared by store.c (the writer,
 * completions, undo, head publication) and store_open.c (what is
 * checked and loaded before the writer starts).  Not part of the ipam/
 * contract.
 */
#ifndef IPAM_STORE_INT_H
#define IPAM_STORE_INT_H

#include <pthread.h>

#include "ipam/ipam_int.h"

struct event;
struct sqlite3_stmt;

enum stmt_id {
	ST_ALLOC_INSERT,
	ST_ALLOC_DELETE,
	ST_ALLOC_CLAIM,
	ST_QUAR_INSERT,
	ST_QUAR_DELETE,
	ST_RES_INSERT,
	ST_RES_DELETE,
	ST_POOL_PUT,
	ST_POOL_DELETE,
	ST_QUAR_DROP_POOL,
	ST_AUDIT_INSERT,
	ST_HEAD_SET,
	ST_BLOCK_INSERT,
	ST_BLOCK_DELETE,
	ST_SHADOW_PUT,
	ST_SHADOW_DROP_POOL,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_COUNT
};

struct store_op {
	TAILQ_ENTRY(store_op) link;
	struct ipam_op	 op;		/* its strings point to the copies: */
	char		*labels;
	char		*definition;
	uint8_t		*state;
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

/* A pool's latest shadow state, on the event loop's side. */
struct store_shadow {
	char		 pool[IPAM_NAME_MAX + 1];
	uint8_t		*state;
	size_t		 len;
	int64_t		 saved;
};

struct ipam_store {
	char		*dir;
	char		*dbpath;
	struct sqlite3	*db;
	struct sqlite3_stmt *st[ST_COUNT];
	uint8_t		 key[AUDIT_KEY_LEN];
	struct ipam	*ipam;
	ipam_pool_loader pool_load;	/* at open only */
	void		*pool_load_arg;
	struct store_res *res;
	size_t		 nres;
	struct store_shadow *shadow;
	size_t		 nshadow;

	/* The writer's (the opener's until it starts). */
	int64_t		 audit_seq;
	uint8_t		 audit_head[AUDIT_HMAC_LEN];
	int64_t		 anchor_seq;	/* what ipam.anchor names */
	int		 last_rc;	/* of the statement that failed */
	bool		 anchor_failing;

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
	int64_t		 committed_seq;	/* the head after the last batch */
	uint8_t		 committed_head[AUDIT_HMAC_LEN];

	/* The event loop's. */
	int64_t		 published_seq;
	ipam_head_cb	 head_cb;
	void		*head_arg;
	int		 efd;
	struct event	*ev;
};

/* store_open.c: files, checks, schema and loading, on the caller's
 * thread; err names the file and what is wrong. */
int	 store_load(struct ipam_store *, char *err, size_t errlen);
extern const char *const store_stmt_sql[ST_COUNT];

/* store_shadow.c: the shadow_state table.  load at open (bad rows are
 * skipped, logged); apply on the writer; copy and free with the op. */
int	 store_shadow_load(struct ipam_store *, char *err, size_t errlen);
/* store.c: step a bound statement of the writer (-1 logged). */
int	 store_stmt_run(struct ipam_store *, enum stmt_id, int binds);
int	 store_shadow_apply(struct ipam_store *, const struct ipam_op *);
void	 store_shadow_free(struct ipam_store *);

#endif
