/*
 * RIB tables, the Adj-RIBs-In, peer slots and sliced walks.
 * See bgp_rib.h for how the pieces fit.
 */
#include "bgpd/bgp_rib_int.h"
#include "bgpd/bgp_peer.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/slab.h"
#include "common/util.h"

#include <event2/event.h>
#include <string.h>

static void	rib_work(evutil_socket_t, short, void *);

/* Keys come from peers' NLRI: hashed with the process's secret key. */
static uint32_t
rib_key_hash(const uint8_t *key, size_t len)
{
	return hash_bytes_keyed(key, len);
}

/* What rib_entry_find() looks for. */
struct rib_key {
	const uint8_t	*bytes;
	size_t		 len;
	uint32_t	 hash;
};

static uint32_t
rib_entry_hash(const struct hash_node *n)
{
	return hash_entry(n, struct bgp_rib_entry, node)->hash;
}

static bool
rib_entry_equal(const struct hash_node *n, const void *key)
{
	const struct bgp_rib_entry *e = hash_entry(n, struct bgp_rib_entry,
	    node);
	const struct rib_key *k = key;

	return e->hash == k->hash && memcmp(e->key, k->bytes, k->len) == 0;
}

static const struct hash_ops rib_entry_ops = {
	rib_entry_hash, rib_entry_equal
};

struct rib_table *
rib_table(struct bgp_rib *rib, int aid)
{
	if (aid < 0 || aid >= BGP_AID_MAX || rib->tables[aid].af == NULL)
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
	    af->nlri_encode == NULL || t->af != NULL)
		fatalx("bad address-family registration for aid %d", af->aid);
	t->af = af;
	t->best_cb = cb;
	t->best_arg = arg;
	hash_init(&t->by_key, &rib_entry_ops, 1024);
	t->entries = slab_create(sizeof(struct bgp_rib_entry) + af->key_len);
}

const struct bgp_af *
bgp_rib_af(const struct bgp_rib *rib, int aid)
{
	if (aid < 0 || aid >= BGP_AID_MAX)
		return NULL;
	return rib->tables[aid].af;
}

static struct bgp_rib_entry *
rib_entry_find(const struct rib_table *t, const uint8_t *key, uint32_t hash)
{
	struct rib_key k = { key, t->af->key_len, hash };
	struct hash_node *n = hash_find(&t->by_key, hash, &k);

	return n ? hash_entry(n, struct bgp_rib_entry, node) : NULL;
}

static struct bgp_rib_entry *
rib_entry_get(struct rib_table *t, const uint8_t *key, uint32_t hash)
{
	struct bgp_rib_entry *e = rib_entry_find(t, key, hash);

	if (e)
		return e;
	e = slab_alloc(t->entries);
	e->hash = hash;
	e->aid = (uint8_t)t->af->aid;
	memcpy(e->key, key, t->af->key_len);
	hash_insert(&t->by_key, &e->node);
	return e;
}

/* Free an entry nobody needs: no paths, not held by an Adj-RIB-Out. */
void
rib_entry_maybe_free(struct bgp_rib *rib, struct bgp_rib_entry *e)
{
	struct rib_table *t = &rib->tables[e->aid];

	if (e->paths != NULL || e->outrefs != 0)
		return;
	hash_remove(&t->by_key, &e->node);
	slab_free(t->entries, e);
}

/* Bytes of unknown attributes a path holds. */
static size_t
unknown_len(const struct bgp_attrs *a)
{
	return (a->flags & BGP_ATTRF_UNKNOWN) && a->unknown ?
	    a->unknown->len : 0;
}

static void
rib_path_free(struct bgp_rib *rib, int aid, struct bgp_rib_path *p)
{
	rib->slots[p->slot].npaths--;
	rib->slots[p->slot].npaths_af[aid]--;
	rib->slots[p->slot].unknown_bytes -= unknown_len(p->attrs);
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
	rib->slots[slot].npaths_af[e->aid]++;
	rib->slots[slot].unknown_bytes += unknown_len(attrs);
	rib_path_insert(rib, e, p);
	if (e->paths != old_best || old == old_best || stale == old_best)
		rib_best_changed(rib, e, old_best);
	if (old)
		rib_path_free(rib, e->aid, old);
	if (stale)
		rib_path_free(rib, e->aid, stale);
}

static void
rib_path_remove(struct bgp_rib *rib, struct bgp_rib_entry *e, uint16_t slot)
{
	struct bgp_rib_path *old_best = e->paths, *p;

	if ((p = rib_path_unlink(rib, e, slot)) == NULL)
		return;
	if (p == old_best)
		rib_best_changed(rib, e, old_best);
	rib_path_free(rib, e->aid, p);
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
	hash_iter_init(&w->it, &rib->tables[aid].by_key);
	if (kind == RIB_WALK_DUMP)
		out->dump_running[aid] = true;
	TAILQ_INSERT_TAIL(&rib->walks, w, entry);
	rib_schedule(rib);
	return w;
}

static void
rib_walk_all_families(struct bgp_rib *rib, enum rib_walk_kind kind,
    uint16_t slot)
{
	for (int aid = 0; aid < BGP_AID_MAX; aid++)
		if (rib->tables[aid].af)
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
		if (rib->tables[aid].af &&
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
		if (!rib->tables[aid].af || !rib_out_wants(out, aid))
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
			if (rib->tables[aid].af &&
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
		hash_prefetch(&t->by_key, b->hash[b->n]);
		b->n++;
	}
	return 0;
}

/*
 * Walk the NLRI of one MP attribute; add (attrs != NULL) or withdraw.
 * An added route that takes the peer past its maximum-prefix ends the
 * walk: the rest of the UPDATE is not taken (the FSM ends the session).
 */
static int
rib_mp_nlri(struct bgp_rib *rib, struct bgp_peer *peer, uint16_t slot,
    const struct bgp_mp *mp, const struct bgp_attrs *attrs,
    struct bgp_notify *err)
{
	int aid = bgp_aid_from_afi_safi(mp->afi, mp->safi);
	struct rib_table *t = rib_table(rib, aid);
	uint16_t stale = rib_stale_slot_of(rib, peer);
	const size_t *count;
	struct rbuf rb = mp->nlri;
	struct nlri_batch *b;
	bool over = false;
	int rc = 0;

	if (t == NULL || !peer->neg.families[aid]) {
		bgp_peer_log(peer, LOG_DEBUG, "ignoring NLRI of AFI %u SAFI %u",
		    mp->afi, mp->safi);
		return 0;
	}
	count = &rib->slots[slot].npaths_af[aid];
	b = xmalloc(sizeof(*b));
	while (rc == 0 && !over && rbuf_left(&rb) > 0) {
		if ((rc = nlri_batch_fill(t, &rb, b)) == -1) {
			/* RFC 4760 §7, RFC 7606 §5.3: unparseable NLRI. */
			bgp_notify_set(err, BGP_ERR_UPDATE,
			    BGP_ERR_UPD_OPTATTR, NULL, 0);
		}
		for (size_t i = 0; rc == 0 && !over && i < b->n; i++) {
			if (attrs) {
				rib_path_set(rib, t, b->key[i], b->hash[i],
				    slot, stale, attrs, &b->labels[i]);
				over = !bgp_peer_pfx_count(peer, aid, *count);
				continue;
			}
			rib_path_withdraw(rib, t, b->key[i], b->hash[i], slot);
			if (stale)
				rib_path_withdraw(rib, t, b->key[i], b->hash[i],
				    stale);
		}
	}
	free(b);
	if (!over)
		(void)bgp_peer_pfx_count(peer, aid, *count);
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

	bgp_peer_log(peer, LOG_DEBUG, "End-of-RIB for %s", bgp_aid_name(aid));
	bgp_peer_eor_received(peer, aid);
	if (stale && aid >= 0 && rib_table(rib, aid))
		rib_walk_start(rib, RIB_WALK_FLUSH, aid, stale, NULL);
}

/* Hold the unknown attributes of a received set to the limits of
 * bgp_rib.h before it is interned. */
static void
rib_unknown_limit(struct bgp_peer *peer, struct rib_slot *s,
    struct bgp_attrs *scratch)
{
	size_t room = BGP_RIB_UNKNOWN_ROUTE_MAX, dropped;

	if (s->unknown_bytes >= BGP_RIB_UNKNOWN_PEER_MAX)
		room = 0;
	else if (BGP_RIB_UNKNOWN_PEER_MAX - s->unknown_bytes < room)
		room = BGP_RIB_UNKNOWN_PEER_MAX - s->unknown_bytes;
	if ((dropped = bgp_attrs_unknown_trim(scratch, room)) == 0)
		return;
	peer->stats.unknown_attr_dropped += dropped;
	if (s->unknown_logged)
		return;
	s->unknown_logged = true;
	bgp_peer_log(peer, LOG_WARNING, "dropping unknown attributes past %d "
	    "bytes per route or %d bytes over the peer's routes (counted, "
	    "logged once per session)", BGP_RIB_UNKNOWN_ROUTE_MAX,
	    BGP_RIB_UNKNOWN_PEER_MAX);
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
	if (act == BGP_ATTR_OK && !bgp_attrs_looped(&scratch, &ctx)) {
		rib_unknown_limit(peer, s, &scratch);
		a = bgp_attrs_intern(&scratch);
	}
	else if (act == BGP_ATTR_TREAT_AS_WITHDRAW)
		bgp_peer_log(peer, LOG_WARNING, "UPDATE: malformed attribute, "
		    "treating as withdraw (RFC 7606)");
	bgp_attrs_clear(&scratch);
	if (mpu.present)
		rc = rib_mp_nlri(rib, peer, slot, &mpu, NULL, err);
	if (rc == 0 && mpr.present && peer->pfx_exceeded_aid < 0)
		rc = rib_mp_nlri(rib, peer, slot, &mpr, a, err);
	bgp_attrs_unref(a);
	peer->stats.pfx_rcvd = s->npaths;
	rib_schedule(rib);
	return rc;
}

/*
 * ROUTE-REFRESH (RFC 2918 §4): dump the family's table towards the
 * peer again.  A peer asking while a dump runs gets one more dump after
 * it, however often it asked: repeats cost it nothing, and cannot queue
 * one table walk per request.
 */
static void
rib_refresh(struct bgp_peer *peer, int aid)
{
	struct bgp_rib *rib = peer->bgp->rib_arg;
	struct rib_out *out = rib_out_of_peer(rib, peer);

	if (out == NULL || rib_table(rib, aid) == NULL)
		return;
	if (out->dump_running[aid]) {
		if (!out->dump_again[aid])
			bgp_peer_log(peer, LOG_DEBUG, "ROUTE-REFRESH for %s "
			    "during a dump: once more after it",
			    bgp_aid_name(aid));
		out->dump_again[aid] = true;
		return;
	}
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

/* Run one slice of a walk; true when the walk is finished.  A slice
 * ends between buckets, so nothing points into the table while other
 * events run; if the table grows meanwhile the walk starts over (every
 * step is idempotent, so visiting entries twice is harmless). */
static bool
rib_walk_step(struct bgp_rib *rib, struct rib_walk *w, size_t *budget)
{
	struct hash_node *n;

	while (*budget > 0 || !hash_iter_at_boundary(&w->it)) {
		if ((n = hash_iter_next(&w->it)) == NULL)
			return true;
		rib_walk_entry(rib, w, hash_entry(n, struct bgp_rib_entry,
		    node));
		if (*budget > 0)
			(*budget)--;
	}
	return false;
}

static void
rib_walk_finished(struct bgp_rib *rib, struct rib_walk *w)
{
	struct rib_slot *s = &rib->slots[w->slot];
	struct rib_walk *o;

	if (w->kind == RIB_WALK_DUMP) {
		w->out->dump_running[w->aid] = false;
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

/* The remembered refreshes whose first dump has gone out start now. */
static void
rib_refresh_again(struct bgp_rib *rib)
{
	struct rib_out *out;

	TAILQ_FOREACH(out, &rib->outs, entry_link) {
		if (!TAILQ_EMPTY(&out->queue) || out->pend_attrs != NULL)
			continue;
		for (int aid = 0; aid < BGP_AID_MAX; aid++) {
			if (!out->dump_again[aid] || out->dump_running[aid])
				continue;
			out->dump_again[aid] = false;
			rib_walk_start(rib, RIB_WALK_DUMP, aid, 0, out);
		}
	}
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
	rib_refresh_again(rib);
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

	if (aid < 0 || aid >= BGP_AID_MAX || rib->tables[aid].af == NULL)
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
bgp_rib_count(const struct bgp_rib *rib, int aid)
{
	if (aid < 0 || aid >= BGP_AID_MAX)
		return 0;
	return hash_count(&rib->tables[aid].by_key);
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
	struct hash_iter it;
	struct hash_node *n;

	if (aid < 0 || aid >= BGP_AID_MAX || rib->tables[aid].af == NULL)
		return;
	HASH_FOREACH(n, &it, &rib->tables[aid].by_key) {
		const struct bgp_rib_entry *e = hash_entry(n,
		    struct bgp_rib_entry, node);

		if (e->paths)
			cb(e, arg);
	}
}

static uint64_t
bits_reverse(uint64_t v)
{
	uint64_t r = 0;

	for (int i = 0; i < 64; i++, v >>= 1)
		r = (r << 1) | (v & 1);
	return r;
}

/*
 * The cursor is a bucket index counted in bit-reversed order: the
 * buckets already visited at size n are, after a doubling, exactly the
 * pairs (i, i + n) that their entries moved to, so growth neither skips
 * nor repeats an entry.
 */
uint64_t
bgp_rib_scan(const struct bgp_rib *rib, int aid, uint64_t cursor,
    size_t budget, bgp_rib_entry_cb *cb, void *arg)
{
	const struct rib_table *t;
	uint64_t mask;
	size_t seen = 0;

	if (aid < 0 || aid >= BGP_AID_MAX ||
	    rib->tables[aid].by_key.nbuckets == 0)
		return 0;
	t = &rib->tables[aid];
	/* common/hash.h: bucket = hash & (nbuckets - 1), doubling. */
	mask = t->by_key.nbuckets - 1;
	do {
		for (struct hash_node *n = t->by_key.buckets[cursor & mask];
		    n != NULL; n = n->next) {
			const struct bgp_rib_entry *e = hash_entry(n,
			    struct bgp_rib_entry, node);

			if (e->paths) {
				cb(e, arg);
				seen++;
			}
		}
		cursor |= ~mask;
		cursor = bits_reverse(bits_reverse(cursor) + 1);
	} while (cursor != 0 && seen < budget);
	return cursor;
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

		if (t->af == NULL)
			continue;
		n += slab_bytes(t->entries) + hash_memory(&t->by_key);
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
	struct hash_iter it;
	struct hash_node *n;

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

		HASH_FOREACH(n, &it, &t->by_key) {
			struct bgp_rib_entry *e = hash_entry(n,
			    struct bgp_rib_entry, node);
			struct bgp_rib_path *p, *pn;

			for (p = e->paths; p; p = pn) {
				pn = p->next;
				bgp_attrs_unref(p->attrs);
			}
		}
		hash_free(&t->by_key);
		slab_destroy(t->entries);
	}
	for (size_t i = 0; i < RIB_MAX_SLOTS; i++)
		if (rib->slots[i].gr_timer)
			event_free(rib->slots[i].gr_timer);
	slab_destroy(rib->paths);
	event_free(rib->work_ev);
	free(rib);
}
