/*
 * ipam/fabric.h's operations on the etcd client; see fabric_etcd.h for
 * the keys and values.
 *
 * How this works: each operation builds its key and JSON value, sends
 * one etcd request (create_if_absent, cas, delete_if or get_prefix) and
 * keeps a small context naming what the answer must be decoded into.
 * The answer is turned into a struct ipam_fabric_result on the stack
 * (arrays malloc'd for the callback's duration): ok = false becomes
 * status -1 with etcd client's error text; a compare that held is won,
 * with the cluster revision of the write (the key's new mod_revision);
 * a lost compare carries the key as it is now.
 */
#include "ipamd/fabric_etcd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/util.h"
#include "conf/conf.h"
#include "datastore/etcd.h"

#define FE_KEY_MAX	512
#define FE_VALUE_MAX	4096

struct fabric_etcd {
	struct ds_etcd	*ds;
	char		*prefix;
};

enum fe_kind {
	FE_DEFINE,
	FE_BLOCK,		/* claim: lost -> the holder */
	FE_LOAN,		/* offer, take, end: lost -> the loan */
	FE_DELETE,		/* release */
	FE_BLOCKS,		/* list */
	FE_LOANS,		/* list */
};

struct fe_req {
	enum fe_kind	 kind;
	char		 base[FE_KEY_MAX];	/* key up to the last '/' */
	ipam_fabric_cb	*cb;
	void		*arg;
};

/* Keys */

static void
key_def(const struct fabric_etcd *fe, const struct ipam_fabric_key *k,
    char *out, size_t len)
{
	snprintf(out, len, "%s/ipam/pools/%s", fe->prefix, k->pool);
}

/* P/ipam/TENANT/POOL/WHAT/ (blocks or loans) */
static void
key_base(const struct fabric_etcd *fe, const struct ipam_fabric_key *k,
    const char *what, char *out, size_t len)
{
	snprintf(out, len, "%s/ipam/%s/%s/%s/", fe->prefix, k->tenant,
	    k->pool, what);
}

static void
key_block(const struct fabric_etcd *fe, const struct ipam_fabric_key *k,
    const struct prefix *p, char *out, size_t len)
{
	char base[FE_KEY_MAX], buf[PREFIX_STRLEN];

	key_base(fe, k, "blocks", base, sizeof(base));
	snprintf(out, len, "%s%s", base, prefix_fmt(p, buf, sizeof(buf)));
}

static void
key_loan(const struct fabric_etcd *fe, const struct ipam_fabric_key *k,
    const struct ipaddr *ip, char *out, size_t len)
{
	char base[FE_KEY_MAX], buf[IPADDR_STRLEN];

	key_base(fe, k, "loans", base, sizeof(base));
	snprintf(out, len, "%s%s", base, ipaddr_fmt(ip, buf, sizeof(buf)));
}

/* Values: encoding */

static json_t *
owner_json(const struct ipam_fabric_owner *o)
{
	char buf[IPADDR_STRLEN];

	return json_pack("{s:s, s:s}", "routerId", o->router_id, "vtep",
	    ipaddr_fmt(&o->vtep, buf, sizeof(buf)));
}

/* Compact JSON text of o (stolen); NULL when it does not fit. */
static char *
value_text(json_t *o, size_t *len)
{
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) :
	    NULL;

	json_decref(o);
	if (s != NULL && (*len = strlen(s)) > FE_VALUE_MAX) {
		free(s);
		s = NULL;
	}
	return s;
}

static char *
def_value(const struct ipam_fabric_def *d, size_t *len)
{
	json_t *o = owner_json(&d->by), *l = json_array();
	char buf[PREFIX_STRLEN];

	for (size_t i = 0; i < d->nprefixes; i++)
		json_array_append_new(l, json_string(prefix_fmt(
		    &d->prefixes[i], buf, sizeof(buf))));
	json_object_set_new(o, "tenant", json_string(d->tenant));
	json_object_set_new(o, "prefixes", l);
	json_object_set_new(o, "blockSize", json_integer(d->block_size));
	return value_text(o, len);
}

static char *
block_value(const struct ipam_fabric_block *b, size_t *len)
{
	json_t *o = owner_json(&b->owner);

	json_object_set_new(o, "claimed", json_integer(b->claimed));
	return value_text(o, len);
}

static char *
loan_value(const struct ipam_fabric_loan *l, size_t *len)
{
	json_t *o = json_object();

	json_object_set_new(o, "owner", owner_json(&l->owner));
	if (l->taken)
		json_object_set_new(o, "borrower", owner_json(&l->borrower));
	return value_text(o, len);
}

/* Values: decoding (hostile input) */

static json_t *
value_json(const struct ds_kv *kv)
{
	json_t *o = json_loadb(kv->value, kv->value_len, JSON_REJECT_DUPLICATES,
	    NULL);

	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

static int
owner_parse(const json_t *o, struct ipam_fabric_owner *out)
{
	const char *rid = json_string_value(json_object_get(o, "routerId"));
	const char *vtep = json_string_value(json_object_get(o, "vtep"));

	memset(out, 0, sizeof(*out));
	if (rid == NULL || vtep == NULL || strlen(rid) >= sizeof(out->router_id)
	    || ipaddr_parse(vtep, &out->vtep) == -1)
		return -1;
	strlcpy_s(out->router_id, rid, sizeof(out->router_id));
	return 0;
}

/* The part of the key after base, if the key starts with it. */
static const char *
key_tail(const struct ds_kv *kv, const char *base)
{
	size_t n = strlen(base);

	if (kv->key_len <= n || strncmp(kv->key, base, n) != 0)
		return NULL;
	return kv->key + n;
}

static int
block_parse(const struct ds_kv *kv, const char *base,
    struct ipam_fabric_block *b)
{
	const char *tail = key_tail(kv, base);
	json_t *o = value_json(kv), *c;
	int rv = -1;

	memset(b, 0, sizeof(*b));
	if (tail != NULL && o != NULL && prefix_parse(tail, &b->prefix,
	    false) == 0 && owner_parse(o, &b->owner) == 0 &&
	    json_is_integer(c = json_object_get(o, "claimed"))) {
		b->claimed = json_integer_value(c);
		b->revision = kv->mod_revision;
		rv = 0;
	}
	json_decref(o);
	return rv;
}

static int
loan_parse(const struct ds_kv *kv, const char *base,
    struct ipam_fabric_loan *l)
{
	const char *tail = key_tail(kv, base);
	json_t *o = value_json(kv), *b;
	int rv = -1;

	memset(l, 0, sizeof(*l));
	if (tail != NULL && o != NULL && ipaddr_parse(tail, &l->ip) == 0 &&
	    owner_parse(json_object_get(o, "owner"), &l->owner) == 0) {
		rv = 0;
		if ((b = json_object_get(o, "borrower")) != NULL) {
			l->taken = true;
			rv = owner_parse(b, &l->borrower);
		}
		l->revision = kv->mod_revision;
	}
	json_decref(o);
	return rv;
}

static int
def_prefixes_parse(const json_t *l, struct ipam_fabric_def *d)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(l) || json_array_size(l) > IPAM_FABRIC_PREFIXES_MAX)
		return -1;
	json_array_foreach(l, i, v) {
		if (!json_is_string(v) || prefix_parse(json_string_value(v),
		    &d->prefixes[d->nprefixes++], false) == -1)
			return -1;
	}
	return 0;
}

static int
def_parse(const struct ds_kv *kv, struct ipam_fabric_def *d)
{
	json_t *o = value_json(kv), *bs;
	const char *tenant;
	int rv = -1;

	memset(d, 0, sizeof(*d));
	if (o != NULL && (tenant = json_string_value(json_object_get(o,
	    "tenant"))) != NULL && strlen(tenant) < sizeof(d->tenant) &&
	    json_is_integer(bs = json_object_get(o, "blockSize")) &&
	    json_integer_value(bs) >= 0 && json_integer_value(bs) <= 128 &&
	    def_prefixes_parse(json_object_get(o, "prefixes"), d) == 0) {
		strlcpy_s(d->tenant, tenant, sizeof(d->tenant));
		d->block_size = (uint8_t)json_integer_value(bs);
		owner_parse(o, &d->by);		/* who wrote it, if it says */
		rv = 0;
	}
	json_decref(o);
	return rv;
}

/* Answers */

static void
decode_list(const struct fe_req *q, const struct ds_result *r,
    struct ipam_fabric_result *res)
{
	struct ipam_fabric_block *blocks = NULL;
	struct ipam_fabric_loan *loans = NULL;
	size_t bad = 0, n = 0;

	if (q->kind == FE_BLOCKS || q->kind == FE_BLOCK)
		blocks = xcalloc(r->nkvs + 1, sizeof(*blocks));
	else
		loans = xcalloc(r->nkvs + 1, sizeof(*loans));
	for (size_t i = 0; i < r->nkvs; i++) {
		if (blocks != NULL ? block_parse(&r->kvs[i], q->base,
		    &blocks[n]) == 0 : loan_parse(&r->kvs[i], q->base,
		    &loans[n]) == 0)
			n++;
		else
			bad++;
	}
	if (bad > 0)
		log_warn("ipam: fabric datastore: %zu keys under %s do not "
		    "parse; left out", bad, q->base);
	res->blocks = blocks;
	res->loans = loans;
	if (blocks != NULL)
		res->nblocks = n;
	else
		res->nloans = n;
}

static void
fe_done(const struct ds_result *r, void *arg)
{
	struct fe_req *q = arg;
	struct ipam_fabric_result res;
	struct ipam_fabric_def def;

	memset(&res, 0, sizeof(res));
	if (!r->ok) {
		res.status = -1;
		strlcpy_s(res.error, r->error, sizeof(res.error));
	} else {
		res.won = r->succeeded;
		res.revision = r->revision;
		if (q->kind == FE_DEFINE && !res.won && r->nkvs > 0 &&
		    def_parse(&r->kvs[0], &def) == 0)
			res.def = &def;
		else if (q->kind == FE_BLOCKS || q->kind == FE_LOANS ||
		    ((q->kind == FE_BLOCK || q->kind == FE_LOAN) && !res.won))
			decode_list(q, r, &res);
	}
	q->cb(&res, q->arg);
	free((void *)res.blocks);
	free((void *)res.loans);
	free(q);
}

static struct fe_req *
req_new(enum fe_kind kind, ipam_fabric_cb *cb, void *arg)
{
	struct fe_req *q = xcalloc(1, sizeof(*q));

	q->kind = kind;
	q->cb = cb;
	q->arg = arg;
	return q;
}

/* The request was refused at once: errno is set, no callback. */
static int
req_sent(struct fe_req *q, int rv)
{
	if (rv == -1)
		free(q);
	return rv;
}

/* Operations */

static int
fe_define(void *arg, const struct ipam_fabric_key *k,
    const struct ipam_fabric_def *d, ipam_fabric_cb *cb, void *cbarg)
{
	struct fabric_etcd *fe = arg;
	struct fe_req *q;
	char key[FE_KEY_MAX], *v;
	size_t len;
	int rv;

	if ((v = def_value(d, &len)) == NULL) {
		errno = EINVAL;
		return -1;
	}
	key_def(fe, k, key, sizeof(key));
	q = req_new(FE_DEFINE, cb, cbarg);
	rv = ds_etcd_create_if_absent(fe->ds, key, v, len, 0, fe_done, q);
	free(v);
	return req_sent(q, rv);
}

static int
fe_block_claim(void *arg, const struct ipam_fabric_key *k,
    const struct ipam_fabric_block *b, ipam_fabric_cb *cb, void *cbarg)
{
	struct fabric_etcd *fe = arg;
	struct fe_req *q;
	char key[FE_KEY_MAX], *v;
	size_t len;
	int rv;

	if ((v = block_value(b, &len)) == NULL) {
		errno = EINVAL;
		return -1;
	}
	q = req_new(FE_BLOCK, cb, cbarg);
	key_base(fe, k, "blocks", q->base, sizeof(q->base));
	key_block(fe, k, &b->prefix, key, sizeof(key));
	rv = ds_etcd_create_if_absent(fe->ds, key, v, len, 0, fe_done, q);
	free(v);
	return req_sent(q, rv);
}

static int
fe_block_release(void *arg, const struct ipam_fabric_key *k,
    const struct prefix *p, int64_t revision, ipam_fabric_cb *cb,
    void *cbarg)
{
	struct fabric_etcd *fe = arg;
	struct fe_req *q = req_new(FE_DELETE, cb, cbarg);
	char key[FE_KEY_MAX];

	key_block(fe, k, p, key, sizeof(key));
	return req_sent(q, ds_etcd_delete_if(fe->ds, key, revision, fe_done,
	    q));
}

static int
fe_list(struct fabric_etcd *fe, const struct ipam_fabric_key *k,
    enum fe_kind kind, ipam_fabric_cb *cb, void *cbarg)
{
	struct fe_req *q = req_new(kind, cb, cbarg);

	key_base(fe, k, kind == FE_BLOCKS ? "blocks" : "loans", q->base,
	    sizeof(q->base));
	return req_sent(q, ds_etcd_get_prefix(fe->ds, q->base, fe_done, q));
}

static int
fe_block_list(void *arg, const struct ipam_fabric_key *k, ipam_fabric_cb *cb,
    void *cbarg)
{
	return fe_list(arg, k, FE_BLOCKS, cb, cbarg);
}

static int
fe_loan_list(void *arg, const struct ipam_fabric_key *k, ipam_fabric_cb *cb,
    void *cbarg)
{
	return fe_list(arg, k, FE_LOANS, cb, cbarg);
}

/* offer: create if absent; take: rewrite at the offer's revision. */
static int
fe_loan_write(struct fabric_etcd *fe, const struct ipam_fabric_key *k,
    const struct ipam_fabric_loan *l, bool take, ipam_fabric_cb *cb,
    void *cbarg)
{
	struct fe_req *q;
	char key[FE_KEY_MAX], *v;
	size_t len;
	int rv;

	if ((v = loan_value(l, &len)) == NULL) {
		errno = EINVAL;
		return -1;
	}
	q = req_new(FE_LOAN, cb, cbarg);
	key_base(fe, k, "loans", q->base, sizeof(q->base));
	key_loan(fe, k, &l->ip, key, sizeof(key));
	if (take)
		rv = ds_etcd_cas(fe->ds, key, l->revision, v, len, 0, fe_done,
		    q);
	else
		rv = ds_etcd_create_if_absent(fe->ds, key, v, len, 0, fe_done,
		    q);
	free(v);
	return req_sent(q, rv);
}

static int
fe_loan_offer(void *arg, const struct ipam_fabric_key *k,
    const struct ipam_fabric_loan *l, ipam_fabric_cb *cb, void *cbarg)
{
	return fe_loan_write(arg, k, l, false, cb, cbarg);
}

static int
fe_loan_take(void *arg, const struct ipam_fabric_key *k,
    const struct ipam_fabric_loan *l, ipam_fabric_cb *cb, void *cbarg)
{
	return fe_loan_write(arg, k, l, true, cb, cbarg);
}

static int
fe_loan_end(void *arg, const struct ipam_fabric_key *k,
    const struct ipaddr *ip, int64_t revision, ipam_fabric_cb *cb,
    void *cbarg)
{
	struct fabric_etcd *fe = arg;
	struct fe_req *q = req_new(FE_LOAN, cb, cbarg);
	char key[FE_KEY_MAX];

	key_base(fe, k, "loans", q->base, sizeof(q->base));
	key_loan(fe, k, ip, key, sizeof(key));
	return req_sent(q, ds_etcd_delete_if(fe->ds, key, revision, fe_done,
	    q));
}

static void
fe_status(void *arg, struct ipam_fabric_ds_status *st)
{
	struct fabric_etcd *fe = arg;
	struct ds_etcd_stats s;

	ds_etcd_get_stats(fe->ds, &s);
	st->kind = "etcd";
	st->key_prefix = fe->prefix;
	for (size_t i = 0; i < s.nendpoints && i < nitems(st->endpoints); i++)
		st->endpoints[st->nendpoints++] = ds_etcd_endpoint(fe->ds, i);
	st->current = s.current;
	st->answered = s.answered;
	st->revision = s.revision;
	st->requests = s.requests;
	st->errors = s.errors;
	st->failovers = s.failovers;
	strlcpy_s(st->last_error, s.last_error, sizeof(st->last_error));
}

const struct ipam_fabric_ops fabric_etcd_ops = {
	.define = fe_define,
	.block_claim = fe_block_claim,
	.block_release = fe_block_release,
	.block_list = fe_block_list,
	.loan_offer = fe_loan_offer,
	.loan_take = fe_loan_take,
	.loan_end = fe_loan_end,
	.loan_list = fe_loan_list,
	.status = fe_status,
};

struct fabric_etcd *
fabric_etcd_create(struct event_base *base,
    const struct conf_ipam_datastore *c, const char *key_prefix, char *err,
    size_t errlen)
{
	struct ds_etcd_config dc;
	struct fabric_etcd *fe;
	struct ds_etcd *ds;

	memset(&dc, 0, sizeof(dc));
	for (size_t i = 0; i < c->nendpoints && i < DS_ENDPOINTS_MAX; i++)
		dc.endpoints[dc.nendpoints++] = c->endpoints[i];
	dc.tls_cert = c->tls_cert;
	dc.tls_key = c->tls_key;
	dc.tls_ca = c->tls_ca;
	if ((ds = ds_etcd_create(base, &dc, err, errlen)) == NULL)
		return NULL;
	fe = xcalloc(1, sizeof(*fe));
	fe->ds = ds;
	fe->prefix = xstrdup(key_prefix);
	return fe;
}

struct ds_etcd *
fabric_etcd_client(const struct fabric_etcd *fe)
{
	return fe->ds;
}

void
fabric_etcd_free(struct fabric_etcd *fe)
{
	if (fe == NULL)
		return;
	ds_etcd_free(fe->ds);
	free(fe->prefix);
	free(fe);
}
