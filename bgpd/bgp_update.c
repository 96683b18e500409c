/*
 * Adj-RIBs-Out and outbound UPDATE packing.
 *
 * Each established peer has a struct rib_out: a hash of rows (one per
 * entry it was sent or is about to be sent) and a queue of rows whose
 * best path changed.  Flushing a queue applies the export policy to the
 * current best path, compares with what was sent, and packs the
 * differences: withdrawals per family into MP_UNREACH_NLRI, and
 * announcements grouped by attribute set, so routes sharing attributes
 * travel in one UPDATE up to the negotiated message size (RFC 8654).
 * Once a peer's initial table has gone out, End-of-RIB follows
 * (RFC 4724 §2).
 *
 * Export policy (RFC 4271 §9.1.3, RFC 4456 §6): never back to the peer
 * a route came from; iBGP-learned routes go to iBGP peers only when one
 * side is a route-reflector client, with ORIGINATOR_ID and CLUSTER_LIST
 * set; towards eBGP peers our AS is prepended and LOCAL_PREF, MED and the
 * reflection attributes are dropped.  Next hops are left as they are:
 * for EVPN they name the VTEP that originated the route.
 */
#include "bgpd/bgp_rib_int.h"
#include "bgpd/bgp_peer.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/slab.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_LOCAL_PREF	100

/* Rows are found by their entry, under the entry's own (keyed) hash. */
static uint32_t
adj_hash(const struct hash_node *n)
{
	return hash_entry(n, struct adj_out, node)->entry->hash;
}

static bool
adj_equal(const struct hash_node *n, const void *entry)
{
	return hash_entry(n, struct adj_out, node)->entry == entry;
}

static const struct hash_ops adj_ops = { adj_hash, adj_equal };

struct rib_out *
rib_out_create(struct bgp_rib *rib, struct bgp_peer *peer)
{
	struct rib_out *out = xcalloc(1, sizeof(*out));

	out->peer = peer;
	hash_init(&out->rows, &adj_ops, 256);
	out->slab = slab_create(sizeof(struct adj_out));
	wbuf_init(&out->pend, 0);
	TAILQ_INIT(&out->queue);
	TAILQ_INSERT_TAIL(&rib->outs, out, entry_link);
	return out;
}

void
rib_out_destroy(struct bgp_rib *rib, struct rib_out *out)
{
	struct hash_iter it;
	struct hash_node *n;

	TAILQ_REMOVE(&rib->outs, out, entry_link);
	HASH_FOREACH(n, &it, &out->rows) {
		struct adj_out *a = hash_entry(n, struct adj_out, node);

		bgp_attrs_unref(a->sent);
		a->entry->outrefs--;
		rib_entry_maybe_free(rib, a->entry);
	}
	hash_free(&out->rows);
	slab_destroy(out->slab);
	bgp_attrs_unref(out->pend_attrs);
	bgp_attrs_unref(out->room_attrs);
	if (out->too_big)
		bgp_peer_log(out->peer, LOG_WARNING, "%zu routes were too big "
		    "for this peer's message size and were not sent",
		    out->too_big);
	wbuf_free(&out->pend);
	free(out);
}

struct rib_out *
rib_out_of_peer(struct bgp_rib *rib, const struct bgp_peer *peer)
{
	struct rib_out *out;

	TAILQ_FOREACH(out, &rib->outs, entry_link)
		if (out->peer == peer)
			return out;
	return NULL;
}

bool
rib_out_wants(const struct rib_out *out, int aid)
{
	return out->peer->neg.families[aid];
}

bool
rib_out_pending(const struct rib_out *out)
{
	for (int aid = 0; aid < BGP_AID_MAX; aid++)
		if (out->eor_pending[aid] || out->dump_again[aid])
			return true;
	return !TAILQ_EMPTY(&out->queue) || out->pend_attrs != NULL;
}

static struct adj_out *
adj_find(const struct rib_out *out, const struct bgp_rib_entry *e)
{
	struct hash_node *n = hash_find(&out->rows, e->hash, e);

	return n ? hash_entry(n, struct adj_out, node) : NULL;
}

static struct adj_out *
adj_get(struct rib_out *out, struct bgp_rib_entry *e)
{
	struct adj_out *a = adj_find(out, e);

	if (a)
		return a;
	a = slab_alloc(out->slab);
	a->entry = e;
	e->outrefs++;
	hash_insert(&out->rows, &a->node);
	return a;
}

static void
adj_remove(struct bgp_rib *rib, struct rib_out *out, struct adj_out *a)
{
	struct bgp_rib_entry *e = a->entry;

	hash_remove(&out->rows, &a->node);
	slab_free(out->slab, a);
	e->outrefs--;
	rib_entry_maybe_free(rib, e);
}

void
rib_out_queue(struct bgp_rib *rib, struct rib_out *out,
    struct bgp_rib_entry *e, bool force)
{
	struct adj_out *a;

	if (!rib_out_wants(out, e->aid))
		return;
	if (e->paths == NULL && adj_find(out, e) == NULL)
		return;
	a = adj_get(out, e);
	a->force |= force;
	if (!a->queued) {
		a->queued = true;
		TAILQ_INSERT_TAIL(&out->queue, a, qentry);
	}
	rib_schedule(rib);
}

static bool export_allowed(const struct bgp_peer *,
    const struct bgp_rib_source *, int aid);

void
rib_out_entry_changed(struct bgp_rib *rib, struct bgp_rib_entry *e)
{
	struct rib_out *out;

	TAILQ_FOREACH(out, &rib->outs, entry_link) {
		/* A route a peer may not be sent and was never sent needs
		 * no row: skip the common case of iBGP routes at a leaf. */
		if (e->paths && adj_find(out, e) == NULL &&
		    !export_allowed(out->peer, bgp_rib_path_source(rib,
		    e->paths), e->aid))
			continue;
		rib_out_queue(rib, out, e, false);
	}
}

void
rib_out_dump_done(struct rib_out *out, int aid)
{
	out->eor_pending[aid] = true;
}

/* ---- Export policy -------------------------------------------------- */

/* May a route of family aid from src go to peer to?  Client status is
 * per family: the one the route belongs to counts. */
static bool
export_allowed(const struct bgp_peer *to, const struct bgp_rib_source *src,
    int aid)
{
	if (src->peer == to || ipaddr_cmp(&src->addr, &to->conf.addr) == 0)
		return false;
	if (src->peer == NULL && !ipaddr_is_set(&src->addr))
		return true;			/* local */
	if (src->ebgp || !to->ibgp)
		return true;
	/* RFC 4456 §6: iBGP to iBGP only from or to a client. */
	return src->rr_client[aid] || bgp_peer_rr_client(to, aid);
}

/* The attributes to send for path p of family aid to peer to (a new
 * reference), or NULL when nothing may be sent. */
static const struct bgp_attrs *
export_attrs(struct bgp_rib *rib, const struct bgp_peer *to, int aid,
    const struct bgp_rib_path *p)
{
	const struct bgp_rib_source *src = bgp_rib_path_source(rib, p);
	struct bgp_attrs s;
	const struct bgp_attrs *res;

	if (p == NULL || !export_allowed(to, src, aid))
		return NULL;
	bgp_attrs_copy(&s, p->attrs);
	if (!to->ibgp) {
		bgp_aspath_prepend(&s, rib->bgp->local_as);
		bgp_attrs_unset(&s, BGP_ATTRF_LOCAL_PREF |
		    BGP_ATTRF_ORIGINATOR_ID | BGP_ATTRF_CLUSTER_LIST);
		if (p->slot != BGP_RIB_PEER_LOCAL)
			bgp_attrs_unset(&s, BGP_ATTRF_MED);
	} else {
		if (!(s.flags & BGP_ATTRF_LOCAL_PREF))
			bgp_attrs_set_local_pref(&s, DEFAULT_LOCAL_PREF);
		if (p->slot != BGP_RIB_PEER_LOCAL && !src->ebgp) {
			if (!(s.flags & BGP_ATTRF_ORIGINATOR_ID))
				bgp_attrs_set_originator_id(&s, src->router_id);
			bgp_cluster_list_prepend(&s, rib->bgp->cluster_id);
		}
	}
	res = bgp_attrs_intern(&s);
	bgp_attrs_clear(&s);
	return res;
}

/* ---- Packing -------------------------------------------------------- */

struct pending_ann {
	struct adj_out	*adj;
	const struct bgp_attrs *attrs;
	int		 aid;
};

static int
pending_ann_cmp(const void *x, const void *y)
{
	const struct pending_ann *a = x, *b = y;

	if (a->aid != b->aid)
		return a->aid - b->aid;
	if (a->attrs != b->attrs)
		return (uintptr_t)a->attrs < (uintptr_t)b->attrs ? -1 : 1;
	return 0;
}

static void
send_update(struct bgp_peer *peer, const struct bgp_attrs *attrs, int aid,
    const struct wbuf *nlri, bool withdraw)
{
	struct wbuf msg;
	struct bgp_mp mp;
	struct bgp_attr_enc_ctx ctx;
	size_t start, alen;

	if (nlri->len == 0)
		return;
	memset(&mp, 0, sizeof(mp));
	bgp_aid_to_afi_safi(aid, &mp.afi, &mp.safi);
	rbuf_init(&mp.nlri, nlri->data, nlri->len);
	memset(&ctx, 0, sizeof(ctx));
	ctx.as4 = peer->neg.as4;
	wbuf_init(&msg, 0);
	start = bgp_hdr_begin(&msg, BGP_MSG_UPDATE);
	wbuf_put_u16(&msg, 0);			/* no classic withdrawals */
	alen = wbuf_reserve(&msg, 2);
	if (withdraw) {
		bgp_mp_unreach_encode(&msg, mp.afi, mp.safi, nlri->data,
		    nlri->len);
	} else {
		mp.present = true;
		ctx.mp_reach = &mp;
		bgp_attrs_encode(&msg, attrs, &ctx);
	}
	wbuf_set_u16(&msg, alen, (uint16_t)(msg.len - alen - 2));
	bgp_hdr_finish(&msg, start);
	if (!msg.error)
		bgp_peer_send(peer, msg.data, msg.len);
	wbuf_free(&msg);
}

/* Room left for NLRI in one UPDATE carrying attrs. */
static size_t
nlri_room(const struct bgp_peer *peer, const struct bgp_attrs *attrs,
    bool withdraw)
{
	size_t max = peer->neg.max_msg_len ? peer->neg.max_msg_len :
	    BGP_MAX_MSG_LEN;
	/* header, two length fields, MP attribute header (extended
	 * length), AFI, SAFI, next hop length, next hop, reserved */
	size_t nh = attrs ? attrs->mp_nexthop_len : 0;
	size_t fixed = BGP_HDR_LEN + 4 + 4 + 3 + 1 + nh + 1;
	struct wbuf tmp;
	struct bgp_attr_enc_ctx ctx;
	size_t alen = 0;

	if (!withdraw) {
		memset(&ctx, 0, sizeof(ctx));
		ctx.as4 = peer->neg.as4;
		wbuf_init(&tmp, 0);
		bgp_attrs_encode(&tmp, attrs, &ctx);
		alen = tmp.len;
		wbuf_free(&tmp);
	}
	return max > fixed + alen ? max - fixed - alen : 0;
}

/* Encode one row's NLRI into the batch, sending the batch first when
 * it would overflow. */
static void
batch_add(struct bgp_rib *rib, struct bgp_peer *peer, struct wbuf *batch,
    size_t room, const struct bgp_attrs *attrs, struct adj_out *a,
    bool withdraw)
{
	const struct bgp_af *af = bgp_rib_af(rib, a->entry->aid);
	struct bgp_labels l;
	size_t before = batch->len;

	l.n = a->nlabels;
	memcpy(l.label, a->label, sizeof(l.label));
	af->nlri_encode(batch, a->entry->key, &l, withdraw);
	if (batch->len > room && before > 0) {
		struct wbuf last;

		wbuf_init(&last, 0);
		wbuf_put_bytes(&last, batch->data + before, batch->len - before);
		wbuf_truncate(batch, before);
		send_update(peer, attrs, a->entry->aid, batch, withdraw);
		wbuf_reset(batch);
		wbuf_put_bytes(batch, last.data, last.len);
		wbuf_free(&last);
	}
}

static void
send_withdrawals(struct bgp_rib *rib, struct rib_out *out,
    struct adj_out **rows, size_t n)
{
	struct wbuf batch;
	size_t room = nlri_room(out->peer, NULL, true);

	wbuf_init(&batch, 0);
	for (int aid = 0; aid < BGP_AID_MAX; aid++) {
		wbuf_reset(&batch);
		for (size_t i = 0; i < n; i++)
			if (rows[i]->entry->aid == aid)
				batch_add(rib, out->peer, &batch, room, NULL,
				    rows[i], true);
		send_update(out->peer, NULL, aid, &batch, true);
	}
	wbuf_free(&batch);
	for (size_t i = 0; i < n; i++)
		adj_remove(rib, out, rows[i]);
}

/* Send the partly filled UPDATE held back from the last flush. */
static void
pend_send(struct rib_out *out)
{
	if (out->pend_attrs == NULL)
		return;
	send_update(out->peer, out->pend_attrs, out->pend_aid, &out->pend,
	    false);
	wbuf_reset(&out->pend);
	bgp_attrs_unref(out->pend_attrs);
	out->pend_attrs = NULL;
}

/*
 * Routes sharing an attribute set go out together.  A flush takes a
 * bounded number of rows, so the last group's last, partly filled
 * message is held back while more rows wait: the next flush tops it up
 * and UPDATEs stay full across slices.
 */
static void
send_announcements(struct bgp_rib *rib, struct rib_out *out,
    struct pending_ann *ann, size_t n)
{
	size_t i = 0;

	qsort(ann, n, sizeof(*ann), pending_ann_cmp);
	while (i < n) {
		size_t j = i, room = nlri_room(out->peer, ann[i].attrs, false);

		if (out->pend_attrs != ann[i].attrs ||
		    out->pend_aid != ann[i].aid)
			pend_send(out);
		for (; j < n && pending_ann_cmp(&ann[i], &ann[j]) == 0; j++)
			batch_add(rib, out->peer, &out->pend, room,
			    ann[i].attrs, ann[j].adj, false);
		if (out->pend_attrs == NULL) {
			out->pend_attrs = bgp_attrs_ref(ann[i].attrs);
			out->pend_aid = ann[i].aid;
		}
		if (j < n || TAILQ_EMPTY(&out->queue))
			pend_send(out);
		i = j;
	}
}

enum adj_action {
	ADJ_NOTHING,
	ADJ_ANNOUNCE,
	ADJ_WITHDRAW,
};

/* Can one NLRI with these attributes go in an UPDATE of the size the
 * peer negotiated?  Rows come in runs sharing a set: the last answer is
 * kept (with a reference, so the address cannot be reused). */
static bool
fits_peer(struct rib_out *out, const struct bgp_attrs *attrs)
{
	if (attrs != out->room_attrs) {
		bgp_attrs_unref(out->room_attrs);
		out->room_attrs = bgp_attrs_ref(attrs);
		out->room = nlri_room(out->peer, attrs, false);
	}
	return out->room >= BGP_NLRI_MAX_LEN;
}

/* Nothing to send for the row: withdraw what the peer has, if any. */
static enum adj_action
adj_unsend(struct rib_out *out, struct adj_out *a)
{
	if (a->sent == NULL)
		return ADJ_NOTHING;
	bgp_attrs_unref(a->sent);
	a->sent = NULL;
	out->advertised--;
	return ADJ_WITHDRAW;
}

/* Decide what one queued row needs; on ADJ_ANNOUNCE *want is the set
 * to send (the row holds the reference). */
static enum adj_action
adj_resolve(struct bgp_rib *rib, struct rib_out *out, struct adj_out *a,
    const struct bgp_attrs **want)
{
	const struct bgp_rib_path *best = a->entry->paths;
	bool same, force = a->force;

	a->force = false;
	*want = best ? export_attrs(rib, out->peer, a->entry->aid, best) :
	    NULL;
	if (*want == NULL)
		return adj_unsend(out, a);
	if (!fits_peer(out, *want)) {
		/* RFC 8654 §4: what the peer cannot receive is not sent;
		 * withdraw what it had instead. */
		bgp_attrs_unref(*want);
		*want = NULL;
		out->too_big++;
		return adj_unsend(out, a);
	}
	same = *want == a->sent && a->nlabels == best->nlabels &&
	    memcmp(a->label, best->label, sizeof(a->label)) == 0;
	if (same && !force) {
		bgp_attrs_unref(*want);
		return ADJ_NOTHING;
	}
	if (a->sent == NULL)
		out->advertised++;
	bgp_attrs_unref(a->sent);
	a->sent = *want;
	a->nlabels = best->nlabels;
	memcpy(a->label, best->label, sizeof(a->label));
	return ADJ_ANNOUNCE;
}

static void
send_eors(struct rib_out *out)
{
	struct wbuf wb;

	if (!TAILQ_EMPTY(&out->queue))
		return;
	for (int aid = 0; aid < BGP_AID_MAX; aid++) {
		if (!out->eor_pending[aid])
			continue;
		out->eor_pending[aid] = false;
		wbuf_init(&wb, 0);
		bgp_eor_encode(&wb, aid);
		if (!wb.error)
			bgp_peer_send(out->peer, wb.data, wb.len);
		wbuf_free(&wb);
	}
}

bool
rib_out_flush(struct bgp_rib *rib, struct rib_out *out, size_t budget)
{
	struct pending_ann *ann = xcalloc(budget, sizeof(*ann));
	struct adj_out **wd = xcalloc(budget, sizeof(*wd));
	size_t nann = 0, nwd = 0;
	struct adj_out *a;
	const struct bgp_attrs *want;

	while (nann + nwd < budget && (a = TAILQ_FIRST(&out->queue)) != NULL) {
		TAILQ_REMOVE(&out->queue, a, qentry);
		a->queued = false;
		switch (adj_resolve(rib, out, a, &want)) {
		case ADJ_ANNOUNCE:
			ann[nann].adj = a;
			ann[nann].attrs = want;
			ann[nann++].aid = a->entry->aid;
			break;
		case ADJ_WITHDRAW:
			wd[nwd++] = a;
			break;
		case ADJ_NOTHING:
			if (a->sent == NULL)
				adj_remove(rib, out, a);
			break;
		}
	}
	/* A route in the held-back UPDATE may be among the withdrawals:
	 * its announcement must reach the peer first. */
	if (nwd > 0)
		pend_send(out);
	send_withdrawals(rib, out, wd, nwd);
	send_announcements(rib, out, ann, nann);
	if (TAILQ_EMPTY(&out->queue))
		pend_send(out);
	out->peer->stats.pfx_sent = out->advertised;
	free(ann);
	free(wd);
	send_eors(out);
	return !TAILQ_EMPTY(&out->queue);
}
