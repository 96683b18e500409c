/*
 * Fabric-wide convergence on etcd: the publishing and reading rounds of
 * fabric_conv.h.
 *
 * A round: when this VTEP has samples, make sure of a lease (grant one
 * if there is none; a put that fails drops it, so the next round grants
 * a new one), put our value on it and refresh it; then list the prefix
 * and hand the merge to the shadow inventory.  A round does not start
 * while the previous one's requests are under way, so a slow etcd never
 * piles them up.  Every request holds a reference on the struct: it is
 * freed when the last answer has run after fabric_conv_free().
 */
#include "ipamd/fabric_conv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"
#include "datastore/etcd.h"

#define FC_KEY_MAX	512

struct fabric_conv {
	struct ds_etcd		*ds;
	struct event		*timer;
	struct shadowd		*sd;
	shadowd_convergence_fn	*local;
	void			*local_arg;
	struct ipam_fabric_owner me;
	char			 prefix[FC_KEY_MAX];	/* P/convergence/ */
	char			 key[FC_KEY_MAX + IPADDR_STRLEN]; /* ...ROUTER-ID */
	int64_t			 lease;			/* 0: none */
	unsigned		 inflight;
	size_t			 receivers;		/* used last round */
	bool			 dying;
};

static void
fc_unref(struct fabric_conv *fc)
{
	if (--fc->inflight == 0 && fc->dying)
		free(fc);
}

/* Did the request fail?  (Logged at debug level: etcd's own faults
 * are reported by the fabric pools.) */
static bool
fc_answer_failed(struct fabric_conv *fc, const struct ds_result *r,
    const char *what)
{
	if (!r->ok && !fc->dying)
		log_debug("fabric convergence: %s: %s", what, r->error);
	return !r->ok;
}

static void
put_done(const struct ds_result *r, void *arg)
{
	struct fabric_conv *fc = arg;

	if (fc_answer_failed(fc, r, "put"))
		fc->lease = 0;		/* maybe gone: grant a new one */
	fc_unref(fc);
}

static void
keepalive_done(const struct ds_result *r, void *arg)
{
	struct fabric_conv *fc = arg;

	if (!fc_answer_failed(fc, r, "lease keepalive") && r->lease_ttl == 0)
		fc->lease = 0;
	fc_unref(fc);
}

static void
fc_put(struct fabric_conv *fc)
{
	struct fabric_conv_entry e;
	size_t len;
	char *v;

	memset(&e, 0, sizeof(e));
	e.who = fc->me;
	fc->local(fc->local_arg, &e.c);
	if (e.c.count == 0)
		return;
	v = fabric_conv_encode(&e, &len);
	fc->inflight++;
	if (ds_etcd_put(fc->ds, fc->key, v, len, fc->lease, put_done, fc) ==
	    -1)
		fc->inflight--;
	free(v);
	fc->inflight++;
	if (ds_etcd_lease_keepalive(fc->ds, fc->lease, keepalive_done, fc) ==
	    -1)
		fc->inflight--;
}

static void
grant_done(const struct ds_result *r, void *arg)
{
	struct fabric_conv *fc = arg;

	if (!fc_answer_failed(fc, r, "lease grant") && !fc->dying &&
	    r->lease_id != 0) {
		fc->lease = r->lease_id;
		fc_put(fc);
	}
	fc_unref(fc);
}

static void
fc_publish(struct fabric_conv *fc)
{
	struct shadowd_convergence mine;

	fc->local(fc->local_arg, &mine);
	if (mine.count == 0)
		return;
	if (fc->lease != 0) {
		fc_put(fc);
		return;
	}
	fc->inflight++;
	if (ds_etcd_lease_grant(fc->ds, FABRIC_CONV_TTL_S, grant_done, fc) ==
	    -1)
		fc->inflight--;
}

static void
fc_apply(struct fabric_conv *fc, const struct fabric_conv_entry *e, size_t n)
{
	struct shadowd_convergence merged;
	size_t used = fabric_conv_merge(e, n, fc->me.router_id, &merged);

	if (used > 0)
		shadowd_set_fabric_convergence(fc->sd, NULL, &merged,
		    FABRIC_CONV_HOLD_MS);
	if ((used > 0) != (fc->receivers > 0))
		log_info("fabric convergence: %s (%zu other VTEPs publish "
		    "theirs)", used > 0 ? "the shadow inventory plans with the "
		    "fabric's measured convergence" : "no other VTEP publishes "
		    "its convergence; shadow pools use this VTEP's own", used);
	fc->receivers = used;
}

static void
list_done(const struct ds_result *r, void *arg)
{
	struct fabric_conv *fc = arg;
	struct fabric_conv_entry *e;
	size_t n = 0, bad = 0;

	if (!fc_answer_failed(fc, r, "list") && !fc->dying) {
		e = xcalloc(r->nkvs + 1, sizeof(*e));
		for (size_t i = 0; i < r->nkvs; i++) {
			if (fabric_conv_parse(r->kvs[i].value,
			    r->kvs[i].value_len, &e[n]) == 0)
				n++;
			else
				bad++;
		}
		if (bad > 0)
			log_warn("fabric convergence: %zu keys under %s do "
			    "not parse; left out", bad, fc->prefix);
		fc_apply(fc, e, n);
		free(e);
	}
	fc_unref(fc);
}

void
fabric_conv_tick(struct fabric_conv *fc)
{
	if (fc->dying || fc->inflight > 0)
		return;
	fc_publish(fc);
	fc->inflight++;
	if (ds_etcd_get_prefix(fc->ds, fc->prefix, list_done, fc) == -1)
		fc->inflight--;
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fabric_conv_tick(arg);
}

struct fabric_conv *
fabric_conv_create(struct event_base *base, struct ds_etcd *ds,
    const char *key_prefix, const struct ipam_fabric_owner *me,
    struct shadowd *sd, shadowd_convergence_fn *local, void *local_arg)
{
	struct fabric_conv *fc = xcalloc(1, sizeof(*fc));
	struct timeval tv = { FABRIC_CONV_PERIOD_MS / 1000,
	    (FABRIC_CONV_PERIOD_MS % 1000) * 1000 };

	fc->ds = ds;
	fc->sd = sd;
	fc->local = local;
	fc->local_arg = local_arg;
	fc->me = *me;
	snprintf(fc->prefix, sizeof(fc->prefix), "%s/convergence/",
	    key_prefix);
	snprintf(fc->key, sizeof(fc->key), "%s%s", fc->prefix, me->router_id);
	if ((fc->timer = event_new(base, -1, EV_PERSIST, timer_cb, fc)) ==
	    NULL || evtimer_add(fc->timer, &tv) == -1)
		fatalx("fabric convergence: cannot set up the timer");
	return fc;
}

void
fabric_conv_free(struct fabric_conv *fc)
{
	if (fc == NULL)
		return;
	event_free(fc->timer);
	fc->timer = NULL;
	fc->dying = true;
	if (fc->inflight == 0)
		free(fc);
}
