/*
 * The fake transport, clock and UPDATE helpers of fake_peer.h.
 */
#include "tests/unit/fake_peer.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "bgpd/bgp_msg.h"
#include "common/byteorder.h"
#include "common/util.h"
#include "evpn/evpn_int.h"

/* Enough for a neighbor per RIB peer slot and then some. */
#define FP_MAX_CONNS	4096
#define FP_MAX_TIMERS	2048

#define FP_START_MSEC	1000000

uint64_t fp_now = FP_START_MSEC;
int fp_connects;
bool fp_connect_fails;

static struct fp_conn conns[FP_MAX_CONNS];
static int n_conns;
static struct fp_timer timers[FP_MAX_TIMERS];

/* ---- fake transport and clock --------------------------------------- */

static struct fp_conn *
conn_new(struct bgp_conn *bc)
{
	struct fp_conn *c;

	ck_assert_int_lt(n_conns, FP_MAX_CONNS);
	c = &conns[n_conns++];
	memset(c, 0, sizeof(*c));
	c->conn = bc;
	wbuf_init(&c->out, 0);
	bc->io = c;
	return c;
}

static uint64_t
fake_now(struct bgp *bgp)
{
	(void)bgp;
	return fp_now;
}

static uint32_t
fake_random(struct bgp *bgp)
{
	(void)bgp;
	return 0;
}

static int
fake_connect(struct bgp_conn *bc)
{
	struct bgp_peer *peer = bc->peer;

	fp_connects++;
	if (fp_connect_fails) {
		/* What the socket transport reports for ECONNREFUSED. */
		snprintf(peer->last_reset, sizeof(peer->last_reset),
		    "Connection refused");
		return -1;
	}
	conn_new(bc);
	return 0;
}

static int
fake_send(struct bgp_conn *bc, const uint8_t *data, size_t len)
{
	struct fp_conn *c = bc->io;

	ck_assert_ptr_nonnull(c);
	ck_assert(!c->closed);
	wbuf_put_bytes(&c->out, data, len);
	if (c->stuck) {
		if (c->backlog == 0)
			c->stalled_since = fp_now;
		c->backlog += len;
	}
	return 0;
}

static uint64_t
fake_send_stalled(const struct bgp_conn *bc)
{
	const struct fp_conn *c = bc->io;

	return c == NULL || c->backlog == 0 ? 0 : c->stalled_since;
}

static size_t
fake_pending(const struct bgp_conn *bc)
{
	const struct fp_conn *c = bc->io;

	return c == NULL ? 0 : c->backlog;
}

static void
fake_close(struct bgp_conn *bc)
{
	struct fp_conn *c = bc->io;

	if (c == NULL)
		return;
	c->closed = true;
	c->conn = NULL;
	bc->io = NULL;
}

struct fp_timer *
fp_timer(const struct bgp_peer *peer)
{
	struct fp_timer *free_slot = NULL;

	for (size_t i = 0; i < FP_MAX_TIMERS; i++) {
		if (timers[i].peer == peer)
			return &timers[i];
		if (timers[i].peer == NULL && free_slot == NULL)
			free_slot = &timers[i];
	}
	ck_assert_ptr_nonnull(free_slot);
	free_slot->peer = peer;
	return free_slot;
}

static void
fake_timer_set(struct bgp_peer *peer, enum bgp_timer t, uint64_t msec)
{
	struct fp_timer *ft = fp_timer(peer);

	ft->armed[t] = true;
	ft->at[t] = fp_now + msec;
	ft->len[t] = msec;
}

static void
fake_timer_stop(struct bgp_peer *peer, enum bgp_timer t)
{
	fp_timer(peer)->armed[t] = false;
}

static void
fake_peer_release(struct bgp_peer *peer)
{
	struct fp_timer *ft = fp_timer(peer);

	memset(ft, 0, sizeof(*ft));
}

const struct bgp_fsm_ops fp_ops = {
	.now = fake_now,
	.random = fake_random,
	.connect = fake_connect,
	.send = fake_send,
	.close = fake_close,
	.timer_set = fake_timer_set,
	.timer_stop = fake_timer_stop,
	.peer_release = fake_peer_release,
	.pending = fake_pending,
	.send_stalled = fake_send_stalled,
};

void
fp_reset(void)
{
	for (int i = 0; i < n_conns; i++)
		wbuf_free(&conns[i].out);
	n_conns = 0;
	memset(timers, 0, sizeof(timers));
	fp_now = FP_START_MSEC;
	fp_connects = 0;
	fp_connect_fails = false;
}

struct fp_conn *
fp_conn_last(void)
{
	ck_assert_int_gt(n_conns, 0);
	return &conns[n_conns - 1];
}

struct fp_conn *
fp_accept(struct bgp_peer *peer)
{
	struct fp_conn *c = conn_new(bgp_conn_new(peer, false));

	bgp_fsm_accept(peer, c->conn);
	return c;
}

/* ---- the clock -------------------------------------------------------- */

/* Fire the peer's earliest timer if it is due by limit (moving the clock
 * to it); false when none is. */
static bool
fire_next_timer(struct bgp_peer *peer, uint64_t limit)
{
	struct fp_timer *ft = fp_timer(peer);
	int first = -1;

	for (int t = 0; t < BGP_TIMER_MAX; t++)
		if (ft->armed[t] && ft->at[t] <= limit &&
		    (first == -1 || ft->at[t] < ft->at[first]))
			first = t;
	if (first == -1)
		return false;
	if (ft->at[first] > fp_now)
		fp_now = ft->at[first];
	ft->armed[first] = false;
	bgp_fsm(peer, bgp_timer_event(first));
	return true;
}

void
fp_advance(struct bgp_peer *peer, uint64_t msec)
{
	uint64_t end = fp_now + msec;

	while (fire_next_timer(peer, end))
		;
	fp_now = end;
}

/* ---- the world -------------------------------------------------------- */

struct config *
fp_conf(const char *text)
{
	char err[256];
	struct config *c = conf_parse_string(text, "test", err, sizeof(err));

	ck_assert_msg(c != NULL, "config: %s", err);
	return c;
}

void
fp_world_start(struct fp_world *w, const char *conftext)
{
	char err[256];

	memset(w, 0, sizeof(*w));
	ck_assert_uint_eq(bgp_attrs_intern_count(), 0);
	w->base = event_base_new();
	ck_assert_ptr_nonnull(w->base);
	w->conf = fp_conf(conftext);
	w->bgp = bgp_create_with_ops(w->base, w->conf, &fp_ops, err,
	    sizeof(err));
	ck_assert_msg(w->bgp != NULL, "bgp: %s", err);
	w->rib = bgp_rib_create(w->bgp);
	w->evpn = evpn_create(w->bgp, w->rib, w->conf, err, sizeof(err));
	ck_assert_msg(w->evpn != NULL, "evpn: %s", err);
	fp_run(w);
}

void
fp_world_free(struct fp_world *w)
{
	/* The daemon's order: bgp_free() reports its peers down to the RIB. */
	bgp_free(w->bgp);
	evpn_free(w->evpn);
	bgp_rib_free(w->rib);
	event_base_free(w->base);
	conf_free(w->conf);
	memset(w, 0, sizeof(*w));
	/* Every reference the RIB took must be given back. */
	ck_assert_uint_eq(bgp_attrs_intern_count(), 0);
}

struct bgp_peer *
fp_peer(struct fp_world *w, const char *addr)
{
	struct ipaddr a;
	struct bgp_peer *p;

	ck_assert_int_eq(ipaddr_parse(addr, &a), 0);
	p = bgp_peer_find(w->bgp, &a);
	ck_assert_msg(p != NULL, "no peer %s", addr);
	return p;
}

struct bgp_peer_info
fp_peer_info(struct fp_world *w, const char *addr)
{
	struct bgp_peer_info pi;
	struct ipaddr a;

	ck_assert_int_eq(ipaddr_parse(addr, &a), 0);
	ck_assert_int_eq(bgp_peer_lookup(w->bgp, &a, &pi), 0);
	return pi;
}

struct fp_conn *
fp_conn_of(const struct bgp_peer *peer)
{
	ck_assert_ptr_nonnull(peer->conn);
	return peer->conn->io;
}

uint32_t
fp_ip4(const char *s)
{
	struct ipaddr a;

	ck_assert_int_eq(ipaddr_parse(s, &a), 0);
	return ipaddr_v4_host(&a);
}

static void
remote_open(struct fp_conn *c, const struct fp_remote *r)
{
	struct bgp_open o;
	struct wbuf wb;

	memset(&o, 0, sizeof(o));
	o.version = BGP_VERSION;
	bgp_open_set_as(&o, r->asn);
	o.holdtime = 90;
	o.bgp_id = fp_ip4(r->id);
	o.caps.mp[BGP_AID_L2VPN_EVPN] = true;
	o.caps.route_refresh = true;
	o.caps.ext_msg = r->ext_msg;
	if (r->gr) {
		o.caps.gr = true;
		o.caps.gr_time = r->gr_time;
		o.caps.gr_af[BGP_AID_L2VPN_EVPN] = r->gr_evpn;
		o.caps.gr_af_forwarding[BGP_AID_L2VPN_EVPN] = r->gr_forwarding;
	}
	wbuf_init(&wb, 0);
	bgp_open_encode(&wb, &o);
	fp_deliver(c, wb.data, wb.len);
	wbuf_free(&wb);
}

void
fp_reconnect(struct bgp_peer *peer)
{
	for (int round = 0; round < 4 && peer->state != BGP_ST_CONNECT;
	    round++)
		ck_assert(fire_next_timer(peer, UINT64_MAX));
	ck_assert_int_eq(peer->state, BGP_ST_CONNECT);
}

static const uint8_t keepalive_msg[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x13, 0x04,
};

struct fp_conn *
fp_open_confirm(struct fp_world *w, const char *addr,
    const struct fp_remote *r)
{
	struct bgp_peer *peer = fp_peer(w, addr);
	struct fp_conn *c;

	if (peer->state != BGP_ST_CONNECT)
		fp_reconnect(peer);
	c = fp_conn_of(peer);
	bgp_fsm_conn_event(c->conn, BGP_EV_CONN_OPEN, NULL);
	ck_assert_int_eq(peer->state, BGP_ST_OPENSENT);
	remote_open(c, r);
	ck_assert_int_eq(peer->state, BGP_ST_OPENCONFIRM);
	return c;
}

void
fp_keepalive(struct fp_conn *c)
{
	fp_deliver(c, keepalive_msg, sizeof(keepalive_msg));
}

struct fp_conn *
fp_establish(struct fp_world *w, const char *addr, const struct fp_remote *r)
{
	struct fp_conn *c = fp_open_confirm(w, addr, r);

	fp_keepalive(c);
	ck_assert_int_eq(fp_peer(w, addr)->state, BGP_ST_ESTABLISHED);
	fp_skip(c);
	return c;
}

void
fp_run(struct fp_world *w)
{
	int i;

	for (i = 0; i < 100000; i++) {
		event_base_loop(w->base, EVLOOP_NONBLOCK);
		if (bgp_rib_idle(w->rib))
			break;
	}
	ck_assert_msg(bgp_rib_idle(w->rib), "RIB never became idle");
	event_base_loop(w->base, EVLOOP_NONBLOCK);
}

/* ---- messages --------------------------------------------------------- */

void
fp_deliver(struct fp_conn *c, const uint8_t *msg, size_t len)
{
	struct bgp_notify err;
	uint8_t type;
	uint16_t mlen;

	ck_assert_ptr_nonnull(c->conn);
	ck_assert_int_eq(bgp_hdr_parse(msg, bgp_fsm_max_msg_len(c->conn),
	    &type, &mlen, &err), 0);
	ck_assert_uint_eq(mlen, len);
	bgp_fsm_message(c->conn, type, msg + BGP_HDR_LEN, len - BGP_HDR_LEN);
}

bool
fp_next_msg(struct fp_conn *c, const uint8_t **msg, size_t *len)
{
	const uint8_t *p;
	size_t mlen;

	if (c->out.len == c->seen)
		return false;
	ck_assert_uint_ge(c->out.len - c->seen, BGP_HDR_LEN);
	p = c->out.data + c->seen;
	mlen = be16_load(p + 16);
	ck_assert_uint_ge(mlen, BGP_HDR_LEN);
	ck_assert_uint_ge(c->out.len - c->seen, mlen);
	*msg = p;
	*len = mlen;
	c->seen += mlen;
	return true;
}

void
fp_skip(struct fp_conn *c)
{
	c->seen = c->out.len;
}

size_t
fp_count_msgs(const struct fp_conn *c, uint8_t type)
{
	size_t off = c->seen, n = 0;

	while (off + BGP_HDR_LEN <= c->out.len) {
		const uint8_t *p = c->out.data + off;
		size_t mlen = be16_load(p + 16);

		ck_assert_uint_ge(mlen, BGP_HDR_LEN);
		if (p[18] == type)
			n++;
		off += mlen;
	}
	return n;
}

/* ---- UPDATE decoding -------------------------------------------------- */

struct route_sink {
	struct evpn_route *out;
	size_t		*n;
};

static int
route_collect(const struct evpn_route *r, void *arg)
{
	struct route_sink *s = arg;

	ck_assert_uint_lt(*s->n, FP_MAX_ROUTES);
	s->out[(*s->n)++] = *r;
	return 0;
}

static void
decode_mp_routes(const struct bgp_mp *mp, struct evpn_route *out, size_t *n)
{
	struct rbuf rb = mp->nlri;
	struct route_sink s = { out, n };

	ck_assert_uint_eq(mp->afi, AFI_L2VPN);
	ck_assert_uint_eq(mp->safi, SAFI_EVPN);
	ck_assert_int_eq(evpn_nlri_decode_all(&rb, route_collect, &s), 0);
}

void
fp_update_decode(const uint8_t *msg, size_t len, bool ebgp,
    struct fp_update *u)
{
	struct bgp_update_parts parts;
	struct bgp_notify err;
	struct bgp_attr_ctx ctx;
	struct rbuf attrs;

	memset(u, 0, sizeof(*u));
	bgp_attrs_init(&u->attrs);
	u->len = len;
	ck_assert_uint_le(len, BGP_MAX_MSG_LEN);
	ck_assert_uint_eq(msg[18], BGP_MSG_UPDATE);
	ck_assert_int_eq(bgp_update_split(msg + BGP_HDR_LEN, len - BGP_HDR_LEN,
	    &parts, &err), 0);
	/* evpnd sends EVPN only: no classic withdrawals or NLRI. */
	ck_assert_uint_eq(rbuf_left(&parts.withdrawn), 0);
	ck_assert_uint_eq(rbuf_left(&parts.nlri), 0);
	memset(&ctx, 0, sizeof(ctx));
	ctx.ebgp = ebgp;
	ctx.as4 = true;
	attrs = parts.attrs;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(bgp_attrs_decode(&attrs, &ctx, &u->attrs, &u->mpr,
	    &u->mpu, &err), BGP_ATTR_OK);
	ck_assert_uint_eq(err.code, 0);
	if (u->mpu.present && rbuf_left(&u->mpu.nlri) == 0 && !u->mpr.present) {
		u->eor = true;
		u->eor_aid = bgp_aid_from_afi_safi(u->mpu.afi, u->mpu.safi);
		return;
	}
	if (u->mpr.present) {
		u->reach_bytes = rbuf_left(&u->mpr.nlri);
		decode_mp_routes(&u->mpr, u->reach, &u->nreach);
	}
	if (u->mpu.present)
		decode_mp_routes(&u->mpu, u->unreach, &u->nunreach);
}

void
fp_update_clear(struct fp_update *u)
{
	bgp_attrs_clear(&u->attrs);
}

bool
fp_next_update(struct fp_conn *c, bool ebgp, struct fp_update *u)
{
	const uint8_t *msg;
	size_t len;

	if (!fp_next_msg(c, &msg, &len))
		return false;
	ck_assert_msg(msg[18] == BGP_MSG_UPDATE, "message type %u, not UPDATE",
	    msg[18]);
	fp_update_decode(msg, len, ebgp, u);
	return true;
}

/* ---- UPDATE building -------------------------------------------------- */

void
fp_attrs_vtep(struct bgp_attrs *a, const char *nexthop, const char *rt)
{
	struct ipaddr nh;
	uint8_t ec[2][BGP_ECOMM_LEN];
	size_t n = 0;
	struct rt t;

	bgp_attrs_init(a);
	bgp_attrs_set_origin(a, BGP_ORIGIN_IGP);
	bgp_attrs_set_aspath_seq(a, NULL, 0);
	bgp_attrs_set_local_pref(a, 100);
	ck_assert_int_eq(ipaddr_parse(nexthop, &nh), 0);
	bgp_attrs_set_mp_nexthop(a, nh.u.b, (uint8_t)ipaddr_len(&nh));
	if (rt != NULL) {
		ck_assert_int_eq(rt_parse(rt, &t), 0);
		memcpy(ec[n++], t.b, BGP_ECOMM_LEN);
	}
	bgp_ecomm_make_encap(ec[n++], BGP_TUNNEL_VXLAN);
	bgp_attrs_set_ecomms(a, &ec[0][0], n);
}

void
fp_attrs_mobility(struct bgp_attrs *a, uint32_t seq, bool sticky)
{
	uint8_t ec[BGP_ECOMM_LEN] = { BGP_ECOMM_T_EVPN, EVPN_ECOMM_ST_MAC_MOB,
	    sticky ? EVPN_MAC_MOB_STICKY : 0 };

	be32_store(ec + 4, seq);
	bgp_ecomm_add(a, ec);
}

void
fp_announce_reflected(struct fp_conn *c, const struct evpn_route *r,
    const char *vtep, const char *rt, int seq, bool sticky)
{
	struct bgp_attrs a;

	fp_attrs_vtep(&a, vtep, rt);
	bgp_attrs_set_originator_id(&a, fp_ip4(vtep));
	if (seq >= 0)
		fp_attrs_mobility(&a, (uint32_t)seq, sticky);
	fp_announce(c, &a, r, 1);
	bgp_attrs_clear(&a);
}

void
fp_update_build(struct wbuf *wb, const struct bgp_attrs *a,
    const struct evpn_route *r, size_t n)
{
	struct wbuf nlri;
	struct bgp_attr_enc_ctx ctx;
	struct bgp_mp mp;
	size_t start, alen;

	wbuf_init(&nlri, 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(evpn_nlri_encode(&nlri, &r[i]), 0);
	start = bgp_hdr_begin(wb, BGP_MSG_UPDATE);
	wbuf_put_u16(wb, 0);
	alen = wbuf_reserve(wb, 2);
	if (a == NULL) {
		bgp_mp_unreach_encode(wb, AFI_L2VPN, SAFI_EVPN, nlri.data,
		    nlri.len);
	} else {
		memset(&mp, 0, sizeof(mp));
		memset(&ctx, 0, sizeof(ctx));
		mp.present = true;
		mp.afi = AFI_L2VPN;
		mp.safi = SAFI_EVPN;
		rbuf_init(&mp.nlri, nlri.data, nlri.len);
		ctx.as4 = true;
		ctx.mp_reach = &mp;
		bgp_attrs_encode(wb, a, &ctx);
	}
	wbuf_set_u16(wb, alen, (uint16_t)(wb->len - alen - 2));
	bgp_hdr_finish(wb, start);
	ck_assert_int_eq(wb->error, 0);
	wbuf_free(&nlri);
}

void
fp_announce(struct fp_conn *c, const struct bgp_attrs *a,
    const struct evpn_route *r, size_t n)
{
	struct wbuf wb;

	wbuf_init(&wb, 0);
	fp_update_build(&wb, a, r, n);
	fp_deliver(c, wb.data, wb.len);
	wbuf_free(&wb);
}

void
fp_withdraw(struct fp_conn *c, const struct evpn_route *r, size_t n)
{
	fp_announce(c, NULL, r, n);
}

void
fp_send_eor(struct fp_conn *c)
{
	struct wbuf wb;

	wbuf_init(&wb, 0);
	bgp_eor_encode(&wb, BGP_AID_L2VPN_EVPN);
	fp_deliver(c, wb.data, wb.len);
	wbuf_free(&wb);
}

/* ---- routes ----------------------------------------------------------- */

struct evpn_route
fp_macip(const char *rd, const char *mac, const char *ip, uint32_t vni)
{
	struct evpn_route r;
	struct rd d;
	struct macaddr m;
	struct ipaddr a;

	ck_assert_int_eq(rd_parse(rd, &d), 0);
	ck_assert_int_eq(mac_parse(mac, &m), 0);
	if (ip != NULL)
		ck_assert_int_eq(ipaddr_parse(ip, &a), 0);
	ck_assert_int_eq(evpn_route_make_macip(&r, &d, &m, ip ? &a : NULL,
	    vni, 0), 0);
	return r;
}

struct evpn_route
fp_imet(const char *rd, const char *ip)
{
	struct evpn_route r;
	struct rd d;
	struct ipaddr a;

	ck_assert_int_eq(rd_parse(rd, &d), 0);
	ck_assert_int_eq(ipaddr_parse(ip, &a), 0);
	ck_assert_int_eq(evpn_route_make_imet(&r, &d, &a), 0);
	return r;
}

struct evpn_route
fp_route_n(unsigned i)
{
	char mac[MAC_STRLEN];

	snprintf(mac, sizeof(mac), "02:00:00:%02x:%02x:%02x",
	    (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
	return fp_macip("10.0.0.100:1", mac, NULL, 100);
}

void
fp_key(const struct evpn_route *r, uint8_t *key)
{
	memset(key, 0, BGP_RIB_KEY_MAX);
	evpn_key_pack(r, key);
}

const struct bgp_rib_entry *
fp_lookup(struct fp_world *w, const struct evpn_route *r)
{
	uint8_t key[BGP_RIB_KEY_MAX];

	fp_key(r, key);
	return bgp_rib_lookup(w->rib, BGP_AID_L2VPN_EVPN, key);
}
