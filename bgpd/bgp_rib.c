/*
 * RIB tables, the Adj-RIBs-In, peer slots and sliced walks.
 * See bgp_rib.h for how the pieces fit.
 */
#include "bgpd/bgp_rib_int.h"
#include "bgpd/bgp_peer.h"
#include "common/log.h"
#include "common/slab.h"
#include "common/util.h"

#include <event2/event.h>
#include <string.h>

static void	rib_work(evutil_socket_t, short, void *);

/* FNV-1a over the canonical key: keys are short and fixed-size. */
static uint32_t
rib_key_hash(const uint8_t *key, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	return h ^ (h >> 15);
}

struct rib_table *
rib_table(struct bgp_rib *rib, int aid)
{
	if (aid < 0 || aid >= BGP_AID_MAX || rib->tables[aid].nbuckets == 0)
		return NULL;
	return &rib->tables[aid];
}

static const struct bgp_rib_ops rib_ops;

struct bgp_rib *
bgp_rib_create(struct bgp *bgp)
{
	struct bgp_rib *rib = xcalloc(1, sizeof(*rib));

	rib->bgp = bgp;
	rib->paths = slab_create(sizeof(struct bgp_rib_path));
	TAILQ_INIT(&rib->walks);
	TAILQ_INIT(&rib->outs);
	rib->work_ev = event_new(bgp->base, -1, 0, rib_work, rib);
	for (size_t i = 0; i < RIB_MAX_SLOTS; i++)
		rib->slots[i].rib = rib;
	rib->slots[BGP_RIB_PEER_LOCAL].in_use = true;
	bgp_set_rib_ops(bgp, &rib_ops, rib);
	return rib;
}

void
bgp_rib_af_register(struct bgp_rib *rib, const struct bgp_af *af,
    bgp_rib_best_cb *cb, void *arg)
{
	struct rib_table *t;

	bgp_af_register(af);
	t = &rib->tables[af->aid];
	if (af->key_len > BGP_RIB_KEY_MAX || af->nlri_decode == NULL ||
	    af->nlri_encode == NULL || t->nbuckets != 0)
		fatalx("bad address-family registration for aid %d", af->aid);
	t->af = af;
	t->best_cb = cb;
	t->best_arg = arg;
	t->nbuckets = 1024;
	t->buckets = xcalloc(t->nbuckets, sizeof(*t->buckets));
	t->entries = slab_create(sizeof(struct bgp_rib_entry) + af->key_len);
}

const struct bgp_af *
bgp_rib_af(const struct bgp_rib *rib, int aid)
{
	if (aid < 0 || aid >= BGP_AID_MAX)
		return NULL;
	return rib->tables[aid].af;
}

static void
rib_table_grow(struct rib_table *t)
{
	size_t n = t->nbuckets * 2;
	struct bgp_rib_entry **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < t->nbuckets; i++) {
		struct bgp_rib_entry *e, *next;

		for (e = t->buckets[i]; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
	t->generation++;
}

static struct bgp_rib_entry *
rib_entry_find(const struct rib_table *t, const uint8_t *key, uint32_t hash)
{
	struct bgp_rib_entry *e;

	for (e = t->buckets[hash & (t->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == hash && memcmp(e->key, key, t->af->key_len) == 0)
			return e;
	return NULL;
}

static struct bgp_rib_entry *
rib_entry_get(struct rib_table *t, const uint8_t *key, uint32_t hash)
{
	struct bgp_rib_entry *e = rib_entry_find(t, key, hash);
	size_t idx;

	if (e)
		return e;
	if (t->count >= t->nbuckets)
		rib_table_grow(t);
	e = slab_alloc(t->entries);
	e->hash = hash;
	e->aid = (uint8_t)t->af->aid;
	memcpy(e->key, key, t->af->key_len);
	idx = hash & (t->nbuckets - 1);
	e->hnext = t->buckets[idx];
	t->buckets[idx] = e;
	t->count++;
	return e;
}

/* Free an entry nobody needs: no paths, not held by an Adj-RIB-Out. */
void
rib_entry_maybe_free(struct bgp_rib *rib, struct bgp_rib_entry *e)
{
	struct rib_table *t = &rib->tables[e->aid];
	struct bgp_rib_entry **pp;

	if (e->paths != NULL || e->outrefs != 0)
		return;
	for (pp = &t->buckets[e->hash & (t->nbuckets - 1)]; *pp;
	    pp = &(*pp)->hnext) {
		if (*pp == e) {
			*pp = e->hnext;
			t->count--;
			slab_free(t->entries, e);
			return;
		}
	}
}

static void
rib_path_free(struct bgp_rib *rib, struct bgp_rib_path *p)
{
	rib->slots[p->slot].npaths--;
	bgp_attrs_unref(p->attrs);
	slab_free(rib->paths, p);
}

/* Put p into e's list at its place by preference. */
static void
rib_path_insert(struct bgp_rib *rib, struct bgp_rib_entry *e,
    struct bgp_rib_path *p)
{
	const struct bgp_af *af = rib->tables[e->aid].af;
	struct bgp_rib_path **pp;

	for (pp = &e->paths; *pp; pp = &(*pp)->next)
		if (bgp_rib_path_cmp(rib, af, e->key, p, *pp) < 0)
			break;
	p->next = *pp;
	*pp = p;
}

/* Unlink the path of slot (and, with same_peer, the stale path of an
 * earlier slot of the same peer) from e; returns it, or NULL. */
static struct bgp_rib_path *
rib_path_unlink(struct bgp_rib *rib, struct bgp_rib_entry *e, uint16_t slot)
{
	struct bgp_rib_path **pp, *p;

	for (pp = &e->paths; (p = *pp) != NULL; pp = &p->next) {
		if (p->slot == slot) {
			*pp = p->next;
			p->next = NULL;
			return p;
		}
	}
	return NULL;
}

static void
rib_best_changed(struct bgp_rib *rib, struct bgp_rib_entry *e,
    const struct bgp_rib_path *old_best)
{
	struct rib_table *t = &rib->tables[e->aid];

	if (t->best_cb)
		t->best_cb(t->best_arg, e, old_best, e->paths);
	rib_out_entry_changed(rib, e);
}

/*
 * Replace (or add) the path of one slot.  GR: a new path from a peer
 * replaces its stale path from the previous session.
 */
static void
rib_path_set(struct bgp_rib *rib, struct rib_table *t, const uint8_t *key,
    uint32_t hash, uint16_t slot, uint16_t stale_slot,
    const struct bgp_attrs *attrs, const struct bgp_labels *labels)
{
	struct bgp_rib_entry *e = rib_entry_get(t, key, hash);
	struct bgp_rib_path *old_best = e->paths, *old, *stale = NULL, *p;

	old = rib_path_unlink(rib, e, slot);
	if (stale_slot != 0)
		stale = rib_path_unlink(rib, e, stale_slot);
	p = slab_alloc(rib->paths);
	p->attrs = bgp_attrs_ref(attrs);
	p->slot = slot;
	p->nlabels = labels ? labels->n : 0;
	for (int i = 0; i < p->nlabels && i < BGP_MAX_LABELS; i++)
		p->label[i] = labels->label[i];
	rib->slots[slot].npaths++;
	rib_path_insert(rib, e, p);
	if (e->paths != old_best || old == old_best || stale == old_best)
		rib_best_changed(rib, e, old_best);
	if (old)
		rib_path_free(rib, old);
	if (stale)
		rib_path_free(rib, stale);
}

static void
rib_path_remove(struct bgp_rib *rib, struct bgp_rib_entry *e, uint16_t slot)
{
	struct bgp_rib_path *old_best = e->paths, *p;

	if ((p = rib_path_unlink(rib, e, slot)) == NULL)
		return;
	if (p == old_best)
		rib_best_changed(rib, e, old_best);
	rib_path_free(rib, p);
	rib_entry_maybe_free(rib, e);
}

static void
rib_path_withdraw(struct bgp_rib *rib, struct rib_table *t, const uint8_t *key,
    uint32_t hash, uint16_t slot)
{
	struct bgp_rib_entry *e = rib_entry_find(t, key, hash);

	if (e)
		rib_path_remove(rib, e, slot);
}

void
bgp_rib_local_add(struct bgp_rib *rib, int aid, const uint8_t *key,
    const struct bgp_labels *labels, const struct bgp_attrs *scratch)
{
	struct rib_table *t = rib_table(rib, aid);
	const struct bgp_attrs *a;

	if (t == NULL)
		return;
	a = bgp_attrs_intern(scratch);
	rib_path_set(rib, t, key, rib_key_hash(key, t->af->key_len),
	    BGP_RIB_PEER_LOCAL, 0, a, labels);
	bgp_attrs_unref(a);
	rib_schedule(rib);
}

void
bgp_rib_local_del(struct bgp_rib *rib, int aid, const uint8_t *key)
{
	struct rib_table *t = rib_table(rib, aid);

	if (t == NULL)
		return;
	rib_path_withdraw(rib, t, key, rib_key_hash(key, t->af->key_len),
	    BGP_RIB_PEER_LOCAL);
	rib_schedule(rib);
}

/* ---- Peer slots ---------------------------------------------------- */

struct rib_slot *
rib_slot_of_peer(struct bgp_rib *rib, const struct bgp_peer *peer)
{
	for (size_t i = 1; i < RIB_MAX_SLOTS; i++)
		if (rib->slots[i].in_use && !rib->slots[i].stale &&
		    rib->slots[i].src.peer == peer)
			return &rib->slots[i];
	return NULL;
}

static uint16_t
rib_slot_index(const struct bgp_rib *rib, const struct rib_slot *s)
{
	return (uint16_t)(s - rib->slots);
}

/* The slot holding the stale paths of an earlier session of peer. */
static uint16_t
rib_stale_slot_of(const struct bgp_rib *rib, const struct bgp_peer *peer)
{
	for (size_t i = 1; i < RIB_MAX_SLOTS; i++)
		if (rib->slots[i].in_use && rib->slots[i].stale &&
		    ipaddr_cmp(&rib->slots[i].src.addr, &peer->conf.addr) == 0)
			return (uint16_t)i;
	return 0;
}

static void
rib_slot_release(struct bgp_rib *rib, uint16_t idx)
{
	struct rib_slot *s = &rib->slots[idx];

	if (s->gr_timer)
		event_free(s->gr_timer);
	memset(s, 0, sizeof(*s));
	s->rib = rib;
}

static struct rib_walk *
rib_walk_start(struct bgp_rib *rib, enum rib_walk_kind kind, int aid,
    uint16_t slot, struct rib_out *out)
{
	struct rib_walk *w = xcalloc(1, sizeof(*w));

	w->kind = kind;
	w->aid = aid;
	w->slot = slot;
	w->out = out;
	w->generation = rib->tables[aid].generation;
	TAILQ_INSERT_TAIL(&rib->walks, w, entry);
	rib_schedule(rib);
	return w;
}

static void
rib_walk_all_families(struct bgp_rib *rib, enum rib_walk_kind kind,
    uint16_t slot)
{
	for (int aid = 0; aid < BGP_AID_MAX; aid++)
		if (rib->tables[aid].nbuckets)
			rib_walk_start(rib, kind, aid, slot, NULL);
}

static void
rib_gr_expired(evutil_socket_t fd, short ev, void *arg)
{
	struct rib_slot *s = arg;
	struct bgp_rib *rib = s->rib;

	char a[IPADDR_STRLEN];

	log_info("peer %s: graceful restart time passed, removing stale "
	    "routes", ipaddr_fmt(&s->src.addr, a, sizeof(a)));
	rib_walk_all_families(rib, RIB_WALK_FLUSH, rib_slot_index(rib, s));
}

/*
 * A gracefully restarting peer is back (RFC 4724 §4.2): the restart timer
 * stops and its stale routes wait for End-of-RIB, bounded by the
 * stale-path time; families its new OPEN no longer lists with the
 * Forwarding State bit lose their stale routes at once.
 */
static void
rib_gr_reestablished(struct bgp_rib *rib, struct bgp_peer *peer)
{
	uint16_t st = rib_stale_slot_of(rib, peer);
	const struct bgp_caps *c = &peer->remote_open.caps;
	struct timeval stalepath = { BGP_RIB_STALEPATH_SEC, 0 };

	if (st == 0)
		return;
	if (rib->slots[st].gr_timer) {
		evtimer_del(rib->slots[st].gr_timer);
		evtimer_add(rib->slots[st].gr_timer, &stalepath);
	}
	for (int aid = 0; aid < BGP_AID_MAX; aid++)
		if (rib->tables[aid].nbuckets &&
		    (!c->gr || !c->gr_af_forwarding[aid]))
			rib_walk_start(rib, RIB_WALK_FLUSH, aid, st, NULL);
}

/*
 * A session came up: give the peer a slot and queue the table towards
 * it.  Nothing bounds the number of neighbors, and a gracefully
 * restarting peer keeps its old slot for its stale routes, so the slots
 * can run out: that session is refused (the FSM sends Cease/Out of
 * Resources and retries later), the others go on.
 */
static int
rib_peer_up(struct bgp_peer *peer)
{
	struct bgp_rib *rib = peer->bgp->rib_arg;
	struct rib_slot *s = NULL;
	struct rib_out *out;

	for (size_t i = 1; i < RIB_MAX_SLOTS && s == NULL; i++)
		if (!rib->slots[i].in_use)
			s = &rib->slots[i];
	if (s == NULL) {
		bgp_peer_log(peer, LOG_ERR, "refusing the session: all %d RIB "
		    "peer slots are taken", RIB_MAX_SLOTS - 1);
		return -1;
	}
	s->in_use = true;
	s->eor_rcvd = 0;
	s->src.peer = peer;
	s->src.addr = peer->conf.addr;
	s->src.router_id = peer->remote_open.bgp_id;
	s->src.asn = peer->conf.remote_as;
	s->src.ebgp = !peer->ibgp;
	for (int aid = 0; aid < BGP_AID_MAX; aid++)
		s->src.rr_client[aid] = bgp_peer_rr_client(peer, aid);
	rib_gr_reestablished(rib, peer);
	out = rib_out_create(rib, peer);
	for (int aid = 0; aid < BGP_AID_MAX; aid++) {
		if (!rib->tables[aid].nbuckets || !rib_out_wants(out, aid))
			continue;
		/* The initial table ends with End-of-RIB (RFC 4724 §2). */
		rib_walk_start(rib, RIB_WALK_DUMP, aid, 0, out)->eor = true;
	}
	return 0;
}

static void
rib_peer_down(struct bgp_peer *peer)
{
	struct bgp_rib *rib = peer->bgp->rib_arg;
	struct rib_slot *s = rib_slot_of_peer(rib, peer);
	struct rib_out *out = rib_out_of_peer(rib, peer);
	struct rib_walk *w, *wn;

	if (out) {
		TAILQ_FOREACH_SAFE(w, &rib->walks, entry, wn) {
			if (w->out == out) {
				TAILQ_REMOVE(&rib->walks, w, entry);
				free(w);
			}
		}
		rib_out_destroy(rib, out);
	}
	if (s == NULL)
		return;
	s->src.peer = NULL;
	if (peer->neg.peer_gr && peer->neg.peer_gr_time > 0 &&
	    !peer->notified && rib_stale_slot_of(rib, peer) == 0) {
		struct timeval tv = { peer->neg.peer_gr_time, 0 };

		/* RFC 4724 §4.2: keep the routes of the families the peer
		 * listed in its capability, marked stale; flush the rest. */
		s->stale = true;
		s->gr_timer = evtimer_new(rib->bgp->base, rib_gr_expired, s);
		evtimer_add(s->gr_timer, &tv);
		for (int aid = 0; aid < BGP_AID_MAX; aid++)
			if (rib->tables[aid].nbuckets &&
			    !peer->neg.peer_gr_af[aid])
				rib_walk_start(rib, RIB_WALK_FLUSH, aid,
				    rib_slot_index(rib, s), NULL);
		bgp_peer_log(peer, LOG_INFO, "graceful restart: keeping %zu "
		    "routes stale for %u s", s->npaths, peer->neg.peer_gr_time);
		return;
	}
	peer->stats.pfx_rcvd = 0;	/* its paths go in the flush walk */
	rib_walk_all_families(rib, RIB_WALK_FLUSH, rib_slot_index(rib, s));
}

/* ---- Receiving UPDATEs ---------------------------------------------- */

static void
rib_attr_ctx(const struct bgp_peer *peer, const struct bgp_update_parts *u,
    struct bgp_attr_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->ebgp = !peer->ibgp;
	ctx->as4 = peer->neg.as4;
	ctx->nlri_present = rbuf_left(&u->nlri) > 0;
	ctx->enforce_first_as = !peer->ibgp;
	ctx->local_as = peer->bgp->local_as;
	ctx->peer_as = peer->conf.remote_as;
	ctx->router_id = peer->bgp->router_id;
	ctx->cluster_id = peer->bgp->cluster_id;
}

/* NLRI decoded ahead of their table lookups, so the bucket heads can be
 * prefetched: at a million routes the lookups are cache misses. */
#define RIB_NLRI_BATCH	64

struct nlri_batch {
	size_t		 n;
	uint32_t	 hash[RIB_NLRI_BATCH];
	struct bgp_labels labels[RIB_NLRI_BATCH];
	uint8_t		 key[RIB_NLRI_BATCH][BGP_RIB_KEY_MAX];
};

/* Decode up to a batch; -1 on a malformed NLRI (RFC 7606 §5.3). */
static int
nlri_batch_fill(struct rib_table *t, struct rbuf *rb, struct nlri_batch *b)
{
	b->n = 0;
	while (b->n < RIB_NLRI_BATCH && rbuf_left(rb) > 0) {
		uint8_t *key = b->key[b->n];
		int rc;

		memset(key, 0, t->af->key_len);
		memset(&b->labels[b->n], 0, sizeof(b->labels[b->n]));
		if ((rc = t->af->nlri_decode(rb, key, &b->labels[b->n])) == -1)
			return -1;
		if (rc == 1)
			continue;
		b->hash[b->n] = rib_key_hash(key, t->af->key_len);
		__builtin_prefetch(&t->buckets[b->hash[b->n] &
		    (t->nbuckets - 1)]);
		b->n++;
	}
	return 0;
}

/* Walk the NLRI of one MP attribute; add (attrs != NULL) or withdraw. */
static int
rib_mp_nlri(struct bgp_rib *rib, struct bgp_peer *peer, uint16_t slot,
    const struct bgp_mp *mp, const struct bgp_attrs *attrs,
    struct bgp_notify *err)
{
	int aid = bgp_aid_from_afi_safi(mp->afi, mp->safi);
	struct rib_table *t = rib_table(rib, aid);
	uint16_t stale = rib_stale_slot_of(rib, peer);
	struct rbuf rb = mp->nlri;
	struct nlri_batch *b;
	int rc = 0;

	if (t == NULL || !peer->neg.families[aid]) {
		bgp_peer_log(peer, LOG_DEBUG, "ignoring NLRI of AFI %u SAFI %u",
		    mp->afi, mp->safi);
		return 0;
	}
	b = xmalloc(sizeof(*b));
	while (rc == 0 && rbuf_left(&rb) > 0) {
		if ((rc = nlri_batch_fill(t, &rb, b)) == -1) {
			/* RFC 4760 §7, RFC 7606 §5.3: unparseable NLRI. */
			bgp_notify_set(err, BGP_ERR_UPDATE,
			    BGP_ERR_UPD_OPTATTR, NULL, 0);
		}
		for (size_t i = 0; rc == 0 && i < b->n; i++) {
			if (attrs) {
				rib_path_set(rib, t, b->key[i], b->hash[i],
				    slot, stale, attrs, &b->labels[i]);
				continue;
			}
			rib_path_withdraw(rib, t, b->key[i], b->hash[i], slot);
			if (stale)
				rib_path_withdraw(rib, t, b->key[i], b->hash[i],
				    stale);
		}
	}
	free(b);
	return rc;
}

/* RFC 4724 §2: End-of-RIB is an UPDATE with nothing but an empty
 * MP_UNREACH_NLRI (or, for IPv4 unicast, nothing at all). */
static int
rib_update_eor_aid(const struct bgp_update_parts *u, const struct bgp_mp *mpr,
    const struct bgp_mp *mpu)
{
	if (rbuf_left(&u->withdrawn) || rbuf_left(&u->nlri) || mpr->present)
		return -1;
	if (rbuf_left(&u->attrs) == 0)
		return BGP_AID_IPV4_UNICAST;
	if (mpu->present && rbuf_left(&mpu->nlri) == 0)
		return bgp_aid_from_afi_safi(mpu->afi, mpu->safi);
	return -1;
}

static void
rib_eor_received(struct bgp_rib *rib, struct bgp_peer *peer, int aid)
{
	uint16_t stale = rib_stale_slot_of(rib, peer);
	struct rib_slot *s = rib_slot_of_peer(rib, peer);

	bgp_peer_log(peer, LOG_DEBUG, "End-of-RIB for %s", bgp_aid_name(aid));
	if (s != NULL && aid >= 0 && aid < 32)
		s->eor_rcvd |= 1U << aid;
	if (stale && aid >= 0 && rib_table(rib, aid))
		rib_walk_start(rib, RIB_WALK_FLUSH, aid, stale, NULL);
}

static int
rib_update(struct bgp_peer *peer, const struct bgp_update_parts *u,
    struct bgp_notify *err)
{
	struct bgp_rib *rib = peer->bgp->rib_arg;
	struct rib_slot *s = rib_slot_of_peer(rib, peer);
	struct bgp_attr_ctx ctx;
	struct bgp_attrs scratch;
	struct bgp_mp mpr, mpu;
	struct rbuf attrs_rb = u->attrs;
	enum bgp_attr_action act;
	const struct bgp_attrs *a = NULL;
	uint16_t slot;
	int eor, rc = 0;

	if (s == NULL)
		return 0;
	slot = rib_slot_index(rib, s);
	rib_attr_ctx(peer, u, &ctx);
	bgp_attrs_init(&scratch);
	memset(err, 0, sizeof(*err));
	act = bgp_attrs_decode(&attrs_rb, &ctx, &scratch, &mpr, &mpu, err);
	if (act >= BGP_ATTR_AFISAFI_DISABLE) {
		/* AFI/SAFI disable is done as a session reset, which
		 * RFC 7606 §2 allows in its place. */
		bgp_attrs_clear(&scratch);
		return -1;
	}
	if (err->code)
		bgp_peer_log(peer, LOG_WARNING, "UPDATE: attribute discarded "
		    "(%s)", bgp_notify_subcode_name(err->code, err->subcode));
	memset(err, 0, sizeof(*err));
	if ((eor = rib_update_eor_aid(u, &mpr, &mpu)) >= 0) {
		bgp_attrs_clear(&scratch);
		rib_eor_received(rib, peer, eor);
		return 0;
	}
	if (act == BGP_ATTR_OK && !bgp_attrs_looped(&scratch, &ctx))
		a = bgp_attrs_intern(&scratch);
	else if (act == BGP_ATTR_TREAT_AS_WITHDRAW)
		bgp_peer_log(peer, LOG_WARNING, "UPDATE: malformed attribute, "
		    "treating as withdraw (RFC 7606)");
	bgp_attrs_clear(&scratch);
	if (mpu.present)
		rc = rib_mp_nlri(rib, peer, slot, &mpu, NULL, err);
	if (rc == 0 && mpr.present)
		rc = rib_mp_nlri(rib, peer, slot, &mpr, a, err);
	bgp_attrs_unref(a);
	peer->stats.pfx_rcvd = s->npaths;
	rib_schedule(rib);
	return rc;
}

static void
rib_refresh(struct bgp_peer *peer, int aid)
{
	struct bgp_rib *rib = peer->bgp->rib_arg;
	struct rib_out *out = rib_out_of_peer(rib, peer);

	if (out && rib_table(rib, aid))
		rib_walk_start(rib, RIB_WALK_DUMP, aid, 0, out);
}

static const struct bgp_rib_ops rib_ops = {
	.sends_eor = true,
	.peer_up = rib_peer_up,
	.peer_down = rib_peer_down,
	.update = rib_update,
	.refresh = rib_refresh,
};

/* ---- Sliced work ---------------------------------------------------- */

/*
 * Run rib_work on a later turn of the loop.  A zero timeout, not
 * event_active(): libevent runs an event activated from its own
 * callback again in the same pass, so a long walk would starve timers
 * and sockets (keepalives) until it ended.
 */
/* Come back when a blocked peer may have read some of its queue. */
static void
rib_schedule_later(struct bgp_rib *rib)
{
	static const struct timeval later = { 0, RIB_OUT_RETRY_USEC };

	if (!rib->work_scheduled) {
		rib->work_scheduled = true;
		event_add(rib->work_ev, &later);
	}
}

void
rib_schedule(struct bgp_rib *rib)
{
	static const struct timeval next_turn = { 0, 0 };

	if (!rib->work_scheduled) {
		rib->work_scheduled = true;
		event_add(rib->work_ev, &next_turn);
	}
}

static void
rib_walk_entry(struct bgp_rib *rib, struct rib_walk *w,
    struct bgp_rib_entry *e)
{
	switch (w->kind) {
	case RIB_WALK_FLUSH:
		rib_path_remove(rib, e, w->slot);
		break;
	case RIB_WALK_DUMP:
		rib_out_queue(rib, w->out, e, true);
		break;
	}
}

/* Run one slice of a walk; true when the walk is finished. */
static bool
rib_walk_step(struct bgp_rib *rib, struct rib_walk *w, size_t *budget)
{
	struct rib_table *t = &rib->tables[w->aid];

	if (w->generation != t->generation) {
		/* The table was resized: start over (every step is
		 * idempotent, so visiting entries twice is harmless). */
		w->generation = t->generation;
		w->bucket = 0;
	}
	while (w->bucket < t->nbuckets && *budget > 0) {
		struct bgp_rib_entry *e, *next;

		for (e = t->buckets[w->bucket]; e; e = next) {
			next = e->hnext;
			rib_walk_entry(rib, w, e);
			if (*budget > 0)
				(*budget)--;
		}
		w->bucket++;
	}
	return w->bucket >= t->nbuckets;
}

static void
rib_walk_finished(struct bgp_rib *rib, struct rib_walk *w)
{
	struct rib_slot *s = &rib->slots[w->slot];
	struct rib_walk *o;

	if (w->kind == RIB_WALK_DUMP) {
		if (w->eor)
			rib_out_dump_done(w->out, w->aid);
		return;
	}
	if (w->slot == BGP_RIB_PEER_LOCAL || s->npaths != 0)
		return;
	TAILQ_FOREACH(o, &rib->walks, entry)
		if (o != w && o->slot == w->slot && o->kind != RIB_WALK_DUMP)
			return;
	rib_slot_release(rib, w->slot);
}

static void
rib_work(evutil_socket_t fd, short ev, void *arg)
{
	struct bgp_rib *rib = arg;
	size_t budget = RIB_SLICE_ENTRIES;
	struct rib_walk *w;
	struct rib_out *out;
	bool more = false, blocked = false;

	rib->work_scheduled = false;
	while ((w = TAILQ_FIRST(&rib->walks)) != NULL && budget > 0) {
		if (!rib_walk_step(rib, w, &budget))
			break;
		TAILQ_REMOVE(&rib->walks, w, entry);
		rib_walk_finished(rib, w);
		free(w);
	}
	TAILQ_FOREACH(out, &rib->outs, entry_link) {
		/* A peer that does not read its socket stops getting more
		 * until it has: what it has not taken stays in its queue of
		 * rows (bounded by the table), not in our send buffer. */
		if (bgp_peer_pending(out->peer) > RIB_OUT_HIGH_WATER) {
			blocked = true;
			continue;
		}
		if (rib_out_flush(rib, out, RIB_SLICE_UPDATES))
			more = true;
	}
	if (more || !TAILQ_EMPTY(&rib->walks))
		rib_schedule(rib);
	else if (blocked)
		rib_schedule_later(rib);
}

/* ---- Queries and lifetime ------------------------------------------- */

const struct bgp_rib_entry *
bgp_rib_lookup(const struct bgp_rib *rib, int aid, const uint8_t *key)
{
	const struct rib_table *t;
	uint8_t k[BGP_RIB_KEY_MAX];

	if (aid < 0 || aid >= BGP_AID_MAX || rib->tables[aid].nbuckets == 0)
		return NULL;
	t = &rib->tables[aid];
	memset(k, 0, sizeof(k));
	memcpy(k, key, t->af->key_len);
	return rib_entry_find(t, k, rib_key_hash(k, t->af->key_len));
}

const struct bgp_rib_path *
bgp_rib_best(const struct bgp_rib_entry *e)
{
	return e ? e->paths : NULL;
}

const struct bgp_rib_source *
bgp_rib_path_source(const struct bgp_rib *rib, const struct bgp_rib_path *p)
{
	return &rib->slots[p->slot].src;
}

size_t
bgp_rib_eor_peers(const struct bgp_rib *rib, int aid, size_t *up)
{
	size_t n = 0;

	*up = 0;
	for (size_t i = 1; i < RIB_MAX_SLOTS; i++) {
		const struct rib_slot *s = &rib->slots[i];

		if (!s->in_use || s->stale || s->src.peer == NULL)
			continue;
		(*up)++;
		if (aid >= 0 && aid < 32 && (s->eor_rcvd & (1U << aid)))
			n++;
	}
	return n;
}

size_t
bgp_rib_count(const struct bgp_rib *rib, int aid)
{
	if (aid < 0 || aid >= BGP_AID_MAX)
		return 0;
	return rib->tables[aid].count;
}

size_t
bgp_rib_path_count(const struct bgp_rib *rib)
{
	return slab_in_use(rib->paths);
}

void
bgp_rib_foreach(const struct bgp_rib *rib, int aid, bgp_rib_entry_cb *cb,
    void *arg)
{
	const struct rib_table *t;

	if (aid < 0 || aid >= BGP_AID_MAX || rib->tables[aid].nbuckets == 0)
		return;
	t = &rib->tables[aid];
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct bgp_rib_entry *e = t->buckets[i]; e; e = e->hnext)
			if (e->paths)
				cb(e, arg);
}

bool
bgp_rib_idle(const struct bgp_rib *rib)
{
	const struct rib_out *out;

	if (!TAILQ_EMPTY(&rib->walks))
		return false;
	TAILQ_FOREACH(out, &rib->outs, entry_link)
		if (rib_out_pending(out))
			return false;
	return true;
}

size_t
bgp_rib_memory(const struct bgp_rib *rib)
{
	size_t n = slab_bytes(rib->paths);

	for (int aid = 0; aid < BGP_AID_MAX; aid++) {
		const struct rib_table *t = &rib->tables[aid];

		if (t->nbuckets == 0)
			continue;
		n += slab_bytes(t->entries) + t->nbuckets * sizeof(void *);
	}
	return n;
}

bool
bgp_rib_path_stale(const struct bgp_rib *rib, const struct bgp_rib_path *p)
{
	return rib->slots[p->slot].stale;
}

void
bgp_rib_free(struct bgp_rib *rib)
{
	struct rib_walk *w;
	struct rib_out *out;

	if (rib == NULL)
		return;
	while ((w = TAILQ_FIRST(&rib->walks)) != NULL) {
		TAILQ_REMOVE(&rib->walks, w, entry);
		free(w);
	}
	while ((out = TAILQ_FIRST(&rib->outs)) != NULL)
		rib_out_destroy(rib, out);
	for (int aid = 0; aid < BGP_AID_MAX; aid++) {
		struct rib_table *t = &rib->tables[aid];

		for (size_t i = 0; i < t->nbuckets; i++) {
			struct bgp_rib_entry *e = t->buckets[i];

			for (; e; e = e->hnext) {
				struct bgp_rib_path *p, *pn;

				for (p = e->paths; p; p = pn) {
					pn = p->next;
					bgp_attrs_unref(p->attrs);
				}
			}
		}
		free(t->buckets);
		slab_destroy(t->entries);
	}
	for (size_t i = 0; i < RIB_MAX_SLOTS; i++)
		if (rib->slots[i].gr_timer)
			event_free(rib->slots[i].gr_timer);
	slab_destroy(rib->paths);
	event_free(rib->work_ev);
	free(rib);
}
