/*
 * The in-memory datastore of fake_datastore.h.
 */
#include "tests/unit/fake_datastore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/queue.h"
#include "common/util.h"

struct fk_def {
	char		 pool[IPAM_NAME_MAX + 1];
	struct ipam_fabric_def def;
};

struct fk_block {
	char		 pool[IPAM_NAME_MAX + 1];
	struct ipam_fabric_block b;
};

struct fk_loan {
	char		 pool[IPAM_NAME_MAX + 1];
	struct ipam_fabric_loan l;
};

enum fk_op {
	FK_DEFINE,
	FK_CLAIM,
	FK_RELEASE,
	FK_BLOCKS,
	FK_OFFER,
	FK_TAKE,
	FK_END,
	FK_LOANS,
	FK_NOPS
};

static const char *const fk_op_names[FK_NOPS] = {
	"define", "block_claim", "block_release", "block_list", "loan_offer",
	"loan_take", "loan_end", "loan_list",
};

/* A request in flight: carried out when its answer is delivered. */
struct fk_reply {
	TAILQ_ENTRY(fk_reply) link;
	enum fk_op	 op;
	char		 pool[IPAM_NAME_MAX + 1];
	struct ipam_fabric_def def;		/* define: ours, then theirs */
	struct ipam_fabric_block blk;		/* claim */
	struct ipam_fabric_loan loan;		/* offer, take */
	struct prefix	 prefix;		/* release; end: the address */
	int64_t		 revision;		/* release, end */
	bool		 lose_answer;
	bool		 applied;		/* read ahead: answer only */
	struct ipam_fabric_result res;
	struct ipam_fabric_block *blocks;
	struct ipam_fabric_loan *loans;
	ipam_fabric_cb	*cb;
	void		*arg;
};
TAILQ_HEAD(fk_reply_list, fk_reply);

struct fake_ds {
	struct event_base *base;
	struct event	*ev;
	int64_t		 revision;
	struct fk_def	*defs;
	size_t		 ndefs;
	struct fk_block	*blocks;
	size_t		 nblocks;
	struct fk_loan	*loans;
	size_t		 nloans;
	struct fk_reply_list replies;
	size_t		 queued;
	bool		 down;
	bool		 apply_then_fail;
	bool		 hold;
	uint64_t	 requests;
	uint64_t	 issued[FK_NOPS];
};

static void	fk_apply(struct fake_ds *, struct fk_reply *);

/* Answers */

static void
reply_free(struct fk_reply *r)
{
	free(r->blocks);
	free(r->loans);
	free(r);
}

/* Carry out and answer the oldest request; false when none waits. */
static bool
deliver_one(struct fake_ds *ds)
{
	struct fk_reply *r = TAILQ_FIRST(&ds->replies);

	if (r == NULL)
		return false;
	TAILQ_REMOVE(&ds->replies, r, link);
	ds->queued--;
	if (ds->down) {
		r->res.status = -1;
		snprintf(r->res.error, sizeof(r->res.error), "fake: no "
		    "endpoint answered");
	} else {
		if (!r->applied)
			fk_apply(ds, r);
		if (r->lose_answer) {
			memset(&r->res, 0, sizeof(r->res));
			r->res.status = -1;
			snprintf(r->res.error, sizeof(r->res.error), "fake: "
			    "the answer was lost");
		}
	}
	r->res.blocks = r->blocks;
	r->res.loans = r->loans;
	r->cb(&r->res, r->arg);
	reply_free(r);
	return true;
}

static void
deliver(evutil_socket_t fd, short what, void *arg)
{
	struct fake_ds *ds = arg;

	while (!ds->hold && deliver_one(ds))
		;
}

static struct fk_reply *
request_new(struct fake_ds *ds, enum fk_op op,
    const struct ipam_fabric_key *key, ipam_fabric_cb *cb, void *arg)
{
	struct fk_reply *r = xcalloc(1, sizeof(*r));
	struct timeval now = { 0, 0 };

	ds->requests++;
	ds->issued[op]++;
	r->op = op;
	strlcpy_s(r->pool, key->pool, sizeof(r->pool));
	r->cb = cb;
	r->arg = arg;
	if (op != FK_BLOCKS && op != FK_LOANS && ds->apply_then_fail) {
		ds->apply_then_fail = false;
		r->lose_answer = true;
	}
	TAILQ_INSERT_TAIL(&ds->replies, r, link);
	ds->queued++;
	event_add(ds->ev, &now);
	return r;
}

static void
reply_block(struct fk_reply *r, const struct ipam_fabric_block *b)
{
	r->blocks = xcalloc(1, sizeof(*b));
	r->blocks[0] = *b;
	r->res.nblocks = 1;
}

static void
reply_loan(struct fk_reply *r, const struct ipam_fabric_loan *l)
{
	r->loans = xcalloc(1, sizeof(*l));
	r->loans[0] = *l;
	r->res.nloans = 1;
}

/* Lookups */

static struct fk_block *
block_find(struct fake_ds *ds, const char *pool, const struct prefix *p)
{
	for (size_t i = 0; i < ds->nblocks; i++)
		if (strcmp(ds->blocks[i].pool, pool) == 0 &&
		    prefix_cmp(&ds->blocks[i].b.prefix, p) == 0)
			return &ds->blocks[i];
	return NULL;
}

static struct fk_loan *
loan_find(struct fake_ds *ds, const char *pool, const struct ipaddr *ip)
{
	for (size_t i = 0; i < ds->nloans; i++)
		if (strcmp(ds->loans[i].pool, pool) == 0 &&
		    ipaddr_cmp(&ds->loans[i].l.ip, ip) == 0)
			return &ds->loans[i];
	return NULL;
}

/* Carrying requests out */

static void
apply_define(struct fake_ds *ds, struct fk_reply *r)
{
	for (size_t i = 0; i < ds->ndefs; i++) {
		if (strcmp(ds->defs[i].pool, r->pool) == 0) {
			r->def = ds->defs[i].def;
			r->res.def = &r->def;
			return;
		}
	}
	ds->defs = xrealloc(ds->defs, (ds->ndefs + 1) * sizeof(*ds->defs));
	strlcpy_s(ds->defs[ds->ndefs].pool, r->pool, IPAM_NAME_MAX + 1);
	ds->defs[ds->ndefs++].def = r->def;
	r->res.won = true;
	r->res.revision = ++ds->revision;
}

static void
apply_claim(struct fake_ds *ds, struct fk_reply *r)
{
	struct fk_block *fb;

	if ((fb = block_find(ds, r->pool, &r->blk.prefix)) != NULL) {
		reply_block(r, &fb->b);
		return;
	}
	ds->blocks = xrealloc(ds->blocks, (ds->nblocks + 1) *
	    sizeof(*ds->blocks));
	fb = &ds->blocks[ds->nblocks++];
	strlcpy_s(fb->pool, r->pool, sizeof(fb->pool));
	fb->b = r->blk;
	fb->b.revision = ++ds->revision;
	r->res.won = true;
	r->res.revision = fb->b.revision;
}

static void
apply_release(struct fake_ds *ds, struct fk_reply *r)
{
	struct fk_block *fb = block_find(ds, r->pool, &r->prefix);

	if (fb != NULL && fb->b.revision == r->revision) {
		*fb = ds->blocks[--ds->nblocks];
		ds->revision++;
		r->res.won = true;
	}
	r->res.revision = ds->revision;
}

static void
apply_offer(struct fake_ds *ds, struct fk_reply *r)
{
	struct fk_loan *fl;

	if ((fl = loan_find(ds, r->pool, &r->loan.ip)) != NULL) {
		reply_loan(r, &fl->l);
		return;
	}
	ds->loans = xrealloc(ds->loans, (ds->nloans + 1) *
	    sizeof(*ds->loans));
	fl = &ds->loans[ds->nloans++];
	strlcpy_s(fl->pool, r->pool, sizeof(fl->pool));
	fl->l = r->loan;
	fl->l.taken = false;
	fl->l.revision = ++ds->revision;
	r->res.won = true;
	r->res.revision = fl->l.revision;
}

static void
apply_take(struct fake_ds *ds, struct fk_reply *r)
{
	struct fk_loan *fl = loan_find(ds, r->pool, &r->loan.ip);

	if (fl == NULL)
		return;
	if (fl->l.revision != r->loan.revision) {
		reply_loan(r, &fl->l);
		return;
	}
	fl->l.taken = true;
	fl->l.borrower = r->loan.borrower;
	fl->l.revision = ++ds->revision;
	r->res.won = true;
	r->res.revision = fl->l.revision;
}

static void
apply_end(struct fake_ds *ds, struct fk_reply *r)
{
	struct fk_loan *fl = loan_find(ds, r->pool, &r->prefix.addr);

	if (fl != NULL && fl->l.revision != r->revision)
		reply_loan(r, &fl->l);
	else if (fl != NULL) {
		*fl = ds->loans[--ds->nloans];
		ds->revision++;
		r->res.won = true;
	}
	r->res.revision = ds->revision;
}

/* A listing carries the revision it read at, as etcd's header does. */
static void
apply_list(struct fake_ds *ds, struct fk_reply *r)
{
	r->res.revision = ds->revision;
	if (r->op == FK_BLOCKS) {
		r->blocks = xcalloc(ds->nblocks + 1, sizeof(*r->blocks));
		for (size_t i = 0; i < ds->nblocks; i++)
			if (strcmp(ds->blocks[i].pool, r->pool) == 0)
				r->blocks[r->res.nblocks++] = ds->blocks[i].b;
		return;
	}
	r->loans = xcalloc(ds->nloans + 1, sizeof(*r->loans));
	for (size_t i = 0; i < ds->nloans; i++)
		if (strcmp(ds->loans[i].pool, r->pool) == 0)
			r->loans[r->res.nloans++] = ds->loans[i].l;
}

static void
fk_apply(struct fake_ds *ds, struct fk_reply *r)
{
	switch (r->op) {
	case FK_DEFINE:
		apply_define(ds, r);
		break;
	case FK_CLAIM:
		apply_claim(ds, r);
		break;
	case FK_RELEASE:
		apply_release(ds, r);
		break;
	case FK_OFFER:
		apply_offer(ds, r);
		break;
	case FK_TAKE:
		apply_take(ds, r);
		break;
	case FK_END:
		apply_end(ds, r);
		break;
	default:
		apply_list(ds, r);
		break;
	}
}

/* The operations: queued, carried out on delivery */

static int
fk_define(void *arg, const struct ipam_fabric_key *key,
    const struct ipam_fabric_def *def, ipam_fabric_cb *cb, void *cbarg)
{
	request_new(arg, FK_DEFINE, key, cb, cbarg)->def = *def;
	return 0;
}

static int
fk_block_claim(void *arg, const struct ipam_fabric_key *key,
    const struct ipam_fabric_block *b, ipam_fabric_cb *cb, void *cbarg)
{
	request_new(arg, FK_CLAIM, key, cb, cbarg)->blk = *b;
	return 0;
}

static int
fk_block_release(void *arg, const struct ipam_fabric_key *key,
    const struct prefix *p, int64_t revision, ipam_fabric_cb *cb,
    void *cbarg)
{
	struct fk_reply *r = request_new(arg, FK_RELEASE, key, cb, cbarg);

	r->prefix = *p;
	r->revision = revision;
	return 0;
}

static int
fk_block_list(void *arg, const struct ipam_fabric_key *key,
    ipam_fabric_cb *cb, void *cbarg)
{
	request_new(arg, FK_BLOCKS, key, cb, cbarg);
	return 0;
}

static int
fk_loan_offer(void *arg, const struct ipam_fabric_key *key,
    const struct ipam_fabric_loan *l, ipam_fabric_cb *cb, void *cbarg)
{
	request_new(arg, FK_OFFER, key, cb, cbarg)->loan = *l;
	return 0;
}

static int
fk_loan_take(void *arg, const struct ipam_fabric_key *key,
    const struct ipam_fabric_loan *l, ipam_fabric_cb *cb, void *cbarg)
{
	request_new(arg, FK_TAKE, key, cb, cbarg)->loan = *l;
	return 0;
}

static int
fk_loan_end(void *arg, const struct ipam_fabric_key *key,
    const struct ipaddr *ip, int64_t revision, ipam_fabric_cb *cb,
    void *cbarg)
{
	struct fk_reply *r = request_new(arg, FK_END, key, cb, cbarg);

	r->prefix.addr = *ip;
	r->revision = revision;
	return 0;
}

static int
fk_loan_list(void *arg, const struct ipam_fabric_key *key,
    ipam_fabric_cb *cb, void *cbarg)
{
	request_new(arg, FK_LOANS, key, cb, cbarg);
	return 0;
}

static void
fk_status(void *arg, struct ipam_fabric_ds_status *st)
{
	struct fake_ds *ds = arg;

	st->kind = "fake";
	st->key_prefix = "/fake";
	st->nendpoints = 1;
	st->endpoints[0] = "memory";
	st->answered = !ds->down;
	st->revision = ds->revision;
	st->requests = ds->requests;
}

const struct ipam_fabric_ops fake_ds_ops = {
	.define = fk_define,
	.block_claim = fk_block_claim,
	.block_release = fk_block_release,
	.block_list = fk_block_list,
	.loan_offer = fk_loan_offer,
	.loan_take = fk_loan_take,
	.loan_end = fk_loan_end,
	.loan_list = fk_loan_list,
	.status = fk_status,
};

/* Life cycle and inspection */

struct fake_ds *
fake_ds_new(struct event_base *base)
{
	struct fake_ds *ds = xcalloc(1, sizeof(*ds));

	ds->base = base;
	ds->ev = evtimer_new(base, deliver, ds);
	TAILQ_INIT(&ds->replies);
	return ds;
}

void
fake_ds_free(struct fake_ds *ds)
{
	struct fk_reply *r;

	while ((r = TAILQ_FIRST(&ds->replies)) != NULL) {
		TAILQ_REMOVE(&ds->replies, r, link);
		reply_free(r);
	}
	event_free(ds->ev);
	free(ds->defs);
	free(ds->blocks);
	free(ds->loans);
	free(ds);
}

void
fake_ds_run(struct fake_ds *ds)
{
	deliver(-1, 0, ds);
}

void
fake_ds_hold(struct fake_ds *ds, bool hold)
{
	ds->hold = hold;
}

bool
fake_ds_step(struct fake_ds *ds)
{
	return deliver_one(ds);
}

uint64_t
fake_ds_issued(const struct fake_ds *ds, const char *op)
{
	for (int i = 0; i < FK_NOPS; i++)
		if (strcmp(fk_op_names[i], op) == 0)
			return ds->issued[i];
	return 0;
}

size_t
fake_ds_queued(const struct fake_ds *ds)
{
	return ds->queued;
}

void
fake_ds_set_down(struct fake_ds *ds, bool down)
{
	ds->down = down;
}

bool
fake_ds_read_ahead(struct fake_ds *ds, const char *op)
{
	struct fk_reply *r;

	TAILQ_FOREACH(r, &ds->replies, link)
		if (!r->applied && strcmp(fk_op_names[r->op], op) == 0)
			break;
	if (r == NULL)
		return false;
	fk_apply(ds, r);
	r->applied = true;
	TAILQ_REMOVE(&ds->replies, r, link);
	TAILQ_INSERT_TAIL(&ds->replies, r, link);
	return true;
}

void
fake_ds_apply_then_fail(struct fake_ds *ds)
{
	ds->apply_then_fail = true;
}

size_t
fake_ds_blocks(const struct fake_ds *ds, const char *pool,
    struct ipam_fabric_block *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ds->nblocks; i++)
		if (strcmp(ds->blocks[i].pool, pool) == 0 && n < max)
			out[n++] = ds->blocks[i].b;
	return n;
}

size_t
fake_ds_loans(const struct fake_ds *ds, const char *pool,
    struct ipam_fabric_loan *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ds->nloans; i++)
		if (strcmp(ds->loans[i].pool, pool) == 0 && n < max)
			out[n++] = ds->loans[i].l;
	return n;
}

uint64_t
fake_ds_requests(const struct fake_ds *ds)
{
	return ds->requests;
}
