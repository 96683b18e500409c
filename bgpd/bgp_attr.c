/*
 * Attribute sets: interning, scratch-set setters, AS path / community /
 * extended community helpers and CLI formatting.  The wire codec is in
 * bgp_attr_decode.c and bgp_attr_encode.c.
 *
 * Two intern tables (common/hash.h): blobs (keyed by bytes) and sets
 * (keyed by their canonical fields; blob pointers stand for their
 * contents, since equal blobs are one object).  What a peer sends is
 * what they are keyed by, so both hash with the process's secret key.
 * The tables free their arrays when they empty, so a test that
 * releases everything ends with nothing allocated.
 */
#include "bgpd/bgp_attr_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/byteorder.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/util.h"

/* ---- blobs ---- */

struct blob_key {
	const void	*data;
	size_t		 len;
	uint32_t	 hash;
};

static uint32_t
blob_hash(const struct hash_node *n)
{
	return hash_entry(n, struct bgp_blob, node)->hash;
}

static bool
blob_equal(const struct hash_node *n, const void *key)
{
	const struct bgp_blob *b = hash_entry(n, struct bgp_blob, node);
	const struct blob_key *k = key;

	return b->hash == k->hash && b->len == k->len &&
	    (k->len == 0 || memcmp(b->data, k->data, k->len) == 0);
}

static const struct hash_ops blob_ops = { blob_hash, blob_equal };
static struct hash_table blob_tab = { .ops = &blob_ops };
static size_t blob_bytes;

struct bgp_blob *
bgp_blob_intern(const void *data, size_t len)
{
	struct blob_key k = { data, len, hash_bytes_keyed(data, len) };
	struct hash_node *n = hash_find(&blob_tab, k.hash, &k);
	struct bgp_blob *b;

	if (n != NULL) {
		b = hash_entry(n, struct bgp_blob, node);
		b->refcnt++;
		return b;
	}
	b = xmalloc(sizeof(*b) + len);
	b->hash = k.hash;
	b->refcnt = 1;
	b->len = (uint32_t)len;
	if (len > 0)
		memcpy(b->data, data, len);
	hash_insert(&blob_tab, &b->node);
	blob_bytes += sizeof(*b) + len;
	return b;
}

struct bgp_blob *
bgp_blob_ref(struct bgp_blob *b)
{
	if (b != NULL)
		b->refcnt++;
	return b;
}

void
bgp_blob_unref(struct bgp_blob *b)
{
	if (b == NULL || --b->refcnt > 0)
		return;
	hash_remove(&blob_tab, &b->node);
	blob_bytes -= sizeof(*b) + b->len;
	free(b);
}

size_t
bgp_blob_intern_count(void)
{
	return hash_count(&blob_tab);
}

/* ---- sets ---- */

/* Copy only the fields whose presence bit is set; no references taken. */
static void
attrs_canon(const struct bgp_attrs *a, struct bgp_attrs *c)
{
	uint32_t f = a->flags;

	memset(c, 0, sizeof(*c));
	c->flags = f;
#define KEEP(bit, field) do { if (f & (bit)) c->field = a->field; } while (0)
	KEEP(BGP_ATTRF_ORIGIN, origin);
	KEEP(BGP_ATTRF_AS_PATH, aspath);
	KEEP(BGP_ATTRF_NEXT_HOP, nexthop);
	KEEP(BGP_ATTRF_MED, med);
	KEEP(BGP_ATTRF_LOCAL_PREF, local_pref);
	KEEP(BGP_ATTRF_AGGREGATOR, aggregator_as);
	KEEP(BGP_ATTRF_AGGREGATOR, aggregator_id);
	KEEP(BGP_ATTRF_COMMUNITIES, communities);
	KEEP(BGP_ATTRF_ORIGINATOR_ID, originator_id);
	KEEP(BGP_ATTRF_CLUSTER_LIST, cluster_list);
	KEEP(BGP_ATTRF_EXT_COMM, ecomms);
	KEEP(BGP_ATTRF_PMSI, pmsi_flags);
	KEEP(BGP_ATTRF_PMSI, pmsi_type);
	KEEP(BGP_ATTRF_PMSI, pmsi_label);
	KEEP(BGP_ATTRF_PMSI, pmsi_id);
	KEEP(BGP_ATTRF_UNKNOWN, unknown);
#undef KEEP
	if (f & BGP_ATTRF_MP_NEXTHOP) {
		c->mp_nexthop_len = a->mp_nexthop_len;
		memcpy(c->mp_nexthop, a->mp_nexthop, a->mp_nexthop_len);
	}
}

/* The canonical fields as bytes, blobs by address, for the keyed hash. */
static uint32_t
attrs_hash(const struct bgp_attrs *c)
{
	const struct bgp_blob *blobs[] = { c->aspath, c->communities,
	    c->ecomms, c->cluster_list, c->pmsi_id, c->unknown };
	const uint32_t words[] = { c->flags, c->pmsi_label, c->nexthop,
	    c->med, c->local_pref, c->aggregator_as, c->aggregator_id,
	    c->originator_id };
	uint8_t k[sizeof(words) + 4 + BGP_MP_NEXTHOP_MAX + sizeof(blobs)];
	uint8_t *p = k;

	for (size_t i = 0; i < nitems(words); i++, p += 4)
		be32_store(p, words[i]);
	*p++ = c->origin;
	*p++ = c->mp_nexthop_len;
	*p++ = c->pmsi_flags;
	*p++ = c->pmsi_type;
	memcpy(p, c->mp_nexthop, c->mp_nexthop_len);
	p += c->mp_nexthop_len;
	memcpy(p, blobs, sizeof(blobs));
	p += sizeof(blobs);
	return hash_bytes_keyed(k, (size_t)(p - k));
}

static bool
canon_equal(const struct bgp_attrs *a, const struct bgp_attrs *b)
{
	return a->flags == b->flags && a->origin == b->origin &&
	    a->mp_nexthop_len == b->mp_nexthop_len &&
	    a->pmsi_flags == b->pmsi_flags && a->pmsi_type == b->pmsi_type &&
	    a->pmsi_label == b->pmsi_label && a->nexthop == b->nexthop &&
	    a->med == b->med && a->local_pref == b->local_pref &&
	    a->aggregator_as == b->aggregator_as &&
	    a->aggregator_id == b->aggregator_id &&
	    a->originator_id == b->originator_id &&
	    memcmp(a->mp_nexthop, b->mp_nexthop, a->mp_nexthop_len) == 0 &&
	    a->aspath == b->aspath && a->communities == b->communities &&
	    a->ecomms == b->ecomms && a->cluster_list == b->cluster_list &&
	    a->pmsi_id == b->pmsi_id && a->unknown == b->unknown;
}

static uint32_t
set_hash(const struct hash_node *n)
{
	return hash_entry(n, struct bgp_attrs, intern_node)->intern_hash;
}

/* key: a canonical set (attrs_canon) with intern_hash filled in. */
static bool
set_equal(const struct hash_node *n, const void *key)
{
	const struct bgp_attrs *s = hash_entry(n, struct bgp_attrs,
	    intern_node);
	const struct bgp_attrs *k = key;

	return s->intern_hash == k->intern_hash && canon_equal(s, k);
}

static const struct hash_ops set_ops = { set_hash, set_equal };
static struct hash_table set_tab = { .ops = &set_ops };

bool
bgp_attrs_equal(const struct bgp_attrs *a, const struct bgp_attrs *b)
{
	struct bgp_attrs ca, cb;

	attrs_canon(a, &ca);
	attrs_canon(b, &cb);
	return canon_equal(&ca, &cb);
}

static void
attrs_ref_blobs(struct bgp_attrs *a)
{
	bgp_blob_ref(a->aspath);
	bgp_blob_ref(a->communities);
	bgp_blob_ref(a->ecomms);
	bgp_blob_ref(a->cluster_list);
	bgp_blob_ref(a->pmsi_id);
	bgp_blob_ref(a->unknown);
}

static void
attrs_unref_blobs(struct bgp_attrs *a)
{
	bgp_blob_unref(a->aspath);
	bgp_blob_unref(a->communities);
	bgp_blob_unref(a->ecomms);
	bgp_blob_unref(a->cluster_list);
	bgp_blob_unref(a->pmsi_id);
	bgp_blob_unref(a->unknown);
}

const struct bgp_attrs *
bgp_attrs_intern(const struct bgp_attrs *a)
{
	struct bgp_attrs key, *s;
	struct hash_node *n;

	attrs_canon(a, &key);
	key.intern_hash = attrs_hash(&key);
	if ((n = hash_find(&set_tab, key.intern_hash, &key)) != NULL) {
		s = hash_entry(n, struct bgp_attrs, intern_node);
		s->refcnt++;
		return s;
	}
	s = xmalloc(sizeof(*s));
	*s = key;
	s->refcnt = 1;
	attrs_ref_blobs(s);
	hash_insert(&set_tab, &s->intern_node);
	return s;
}

const struct bgp_attrs *
bgp_attrs_ref(const struct bgp_attrs *a)
{
	struct bgp_attrs *s = (struct bgp_attrs *)a;

	if (s != NULL) {
		if (s->refcnt == 0)
			fatalx("bgp_attrs_ref: not an interned set");
		s->refcnt++;
	}
	return a;
}

void
bgp_attrs_unref(const struct bgp_attrs *a)
{
	struct bgp_attrs *s = (struct bgp_attrs *)a;

	if (s == NULL)
		return;
	if (s->refcnt == 0)
		fatalx("bgp_attrs_unref: not an interned set");
	if (--s->refcnt > 0)
		return;
	hash_remove(&set_tab, &s->intern_node);
	attrs_unref_blobs(s);
	free(s);
}

size_t
bgp_attrs_intern_count(void)
{
	return hash_count(&set_tab);
}

size_t
bgp_attrs_intern_bytes(void)
{
	return blob_bytes + hash_count(&set_tab) * sizeof(struct bgp_attrs) +
	    hash_memory(&blob_tab) + hash_memory(&set_tab);
}

/* ---- scratch sets ---- */

void
bgp_attrs_init(struct bgp_attrs *a)
{
	memset(a, 0, sizeof(*a));
}

void
bgp_attrs_clear(struct bgp_attrs *a)
{
	attrs_unref_blobs(a);
	memset(a, 0, sizeof(*a));
}

void
bgp_attrs_copy(struct bgp_attrs *dst, const struct bgp_attrs *src)
{
	attrs_canon(src, dst);
	attrs_ref_blobs(dst);
}

/* Replace one blob field of a scratch set. */
static void
set_blob(struct bgp_attrs *a, struct bgp_blob **field, uint32_t bit,
    const void *data, size_t len)
{
	struct bgp_blob *nb = bgp_blob_intern(data, len);

	bgp_blob_unref(*field);
	*field = nb;
	a->flags |= bit;
}

void
bgp_attrs_set_origin(struct bgp_attrs *a, uint8_t origin)
{
	a->origin = origin;
	a->flags |= BGP_ATTRF_ORIGIN;
}

void
bgp_attrs_set_nexthop(struct bgp_attrs *a, uint32_t nh)
{
	a->nexthop = nh;
	a->flags |= BGP_ATTRF_NEXT_HOP;
}

void
bgp_attrs_set_mp_nexthop(struct bgp_attrs *a, const uint8_t *nh, uint8_t len)
{
	if (len > BGP_MP_NEXTHOP_MAX)
		fatalx("bgp_attrs_set_mp_nexthop: length %u", len);
	memset(a->mp_nexthop, 0, sizeof(a->mp_nexthop));
	memcpy(a->mp_nexthop, nh, len);
	a->mp_nexthop_len = len;
	a->flags |= BGP_ATTRF_MP_NEXTHOP;
}

void
bgp_attrs_get_mp_nexthop(const struct bgp_attrs *a, struct ipaddr *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (!(a->flags & BGP_ATTRF_MP_NEXTHOP))
		return;
	if (a->mp_nexthop_len == 4) {
		ip->af = AF_INET;
		memcpy(ip->u.b, a->mp_nexthop, 4);
	} else if (a->mp_nexthop_len >= 16) {
		ip->af = AF_INET6;
		memcpy(ip->u.b, a->mp_nexthop, 16);
	}
}

void
bgp_attrs_set_med(struct bgp_attrs *a, uint32_t med)
{
	a->med = med;
	a->flags |= BGP_ATTRF_MED;
}

void
bgp_attrs_set_local_pref(struct bgp_attrs *a, uint32_t lp)
{
	a->local_pref = lp;
	a->flags |= BGP_ATTRF_LOCAL_PREF;
}

void
bgp_attrs_set_originator_id(struct bgp_attrs *a, uint32_t id)
{
	a->originator_id = id;
	a->flags |= BGP_ATTRF_ORIGINATOR_ID;
}

/* Set a blob of 4-byte values. */
static void
set_u32_blob(struct bgp_attrs *a, struct bgp_blob **field, uint32_t bit,
    const uint32_t *v, size_t n)
{
	uint8_t *buf = xcalloc(n ? n : 1, 4);

	for (size_t i = 0; i < n; i++)
		be32_store(buf + 4 * i, v[i]);
	set_blob(a, field, bit, buf, n * 4);
	free(buf);
}

void
bgp_attrs_set_aspath_seq(struct bgp_attrs *a, const uint32_t *asns, size_t n)
{
	/* Segments hold at most 255 ASes (one length octet). */
	size_t nseg = (n + 254) / 255;
	uint8_t *buf = xmalloc(nseg * 2 + n * 4 + 1), *p = buf;

	for (size_t i = 0; i < n; ) {
		size_t cnt = n - i > 255 ? 255 : n - i;

		*p++ = BGP_AS_SEQUENCE;
		*p++ = (uint8_t)cnt;
		for (size_t j = 0; j < cnt; j++, i++, p += 4)
			be32_store(p, asns[i]);
	}
	set_blob(a, &a->aspath, BGP_ATTRF_AS_PATH, buf, (size_t)(p - buf));
	free(buf);
}

void
bgp_attrs_set_communities(struct bgp_attrs *a, const uint32_t *c, size_t n)
{
	set_u32_blob(a, &a->communities, BGP_ATTRF_COMMUNITIES, c, n);
}

void
bgp_attrs_set_ecomms(struct bgp_attrs *a, const uint8_t *ecs, size_t n)
{
	set_blob(a, &a->ecomms, BGP_ATTRF_EXT_COMM, ecs, n * BGP_ECOMM_LEN);
}

void
bgp_attrs_set_pmsi(struct bgp_attrs *a, uint8_t flags, uint8_t type,
    uint32_t label, const uint8_t *id, size_t idlen)
{
	a->pmsi_flags = flags;
	a->pmsi_type = type;
	a->pmsi_label = label & 0xffffff;
	set_blob(a, &a->pmsi_id, BGP_ATTRF_PMSI, id, idlen);
}

void
bgp_attrs_unset(struct bgp_attrs *a, uint32_t bit)
{
	struct bgp_attrs c;

	a->flags &= ~bit;
	/* Re-canonicalise: zero the fields, drop the blob no longer used. */
	attrs_canon(a, &c);
	attrs_ref_blobs(&c);
	bgp_attrs_clear(a);
	*a = c;
}

/*
 * Keep the unknown attributes of a scratch set (records in type order)
 * while their bytes stay within max; drop the rest.  Returns how many
 * were dropped.
 */
size_t
bgp_attrs_unknown_trim(struct bgp_attrs *a, size_t max)
{
	struct rbuf rb;
	size_t keep = 0, dropped = 0;
	uint16_t len;

	if (!(a->flags & BGP_ATTRF_UNKNOWN) || a->unknown == NULL)
		return 0;
	rbuf_init(&rb, a->unknown->data, a->unknown->len);
	while (rbuf_left(&rb) >= 4) {
		rbuf_skip(&rb, 2);
		if (rbuf_get_u16(&rb, &len) == -1 || rbuf_skip(&rb, len) == -1)
			break;
		if (dropped == 0 && rb.pos <= max)
			keep = rb.pos;
		else
			dropped++;
	}
	if (dropped == 0)
		return 0;
	if (keep == 0)
		bgp_attrs_unset(a, BGP_ATTRF_UNKNOWN);
	else
		set_blob(a, &a->unknown, BGP_ATTRF_UNKNOWN, a->unknown->data,
		    keep);
	return dropped;
}

/* ---- AS path ---- */

/* Walk the segments of an AS path blob; cb returns false to stop. */
static void
aspath_walk(const struct bgp_blob *b,
    bool (*cb)(uint8_t type, const uint8_t *asns, size_t n, void *), void *arg)
{
	struct rbuf rb;
	uint8_t type, n;

	if (b == NULL)
		return;
	rbuf_init(&rb, b->data, b->len);
	while (rbuf_get_u8(&rb, &type) == 0 && rbuf_get_u8(&rb, &n) == 0) {
		if (rbuf_left(&rb) < (size_t)n * 4)
			return;
		if (!cb(type, rbuf_ptr(&rb), n, arg))
			return;
		rbuf_skip(&rb, (size_t)n * 4);
	}
}

static bool
aspath_count_cb(uint8_t type, const uint8_t *asns, size_t n, void *arg)
{
	size_t *len = arg;

	if (type == BGP_AS_SEQUENCE)
		*len += n;
	else if (type == BGP_AS_SET)
		*len += 1;
	return true;
}

size_t
bgp_aspath_length(const struct bgp_attrs *a)
{
	size_t len = 0;

	aspath_walk(a->aspath, aspath_count_cb, &len);
	return len;
}

struct as_search {
	uint32_t	 as;
	bool		 found;
};

static bool
aspath_contains_cb(uint8_t type, const uint8_t *asns, size_t n, void *arg)
{
	struct as_search *s = arg;

	for (size_t i = 0; i < n; i++) {
		if (be32_load(asns + 4 * i) == s->as) {
			s->found = true;
			return false;
		}
	}
	return true;
}

bool
bgp_aspath_contains(const struct bgp_attrs *a, uint32_t as)
{
	struct as_search s = { .as = as };

	aspath_walk(a->aspath, aspath_contains_cb, &s);
	return s.found;
}

uint32_t
bgp_aspath_first_as(const struct bgp_attrs *a)
{
	const struct bgp_blob *b = a->aspath;

	if (b == NULL || b->len < 6 || b->data[0] != BGP_AS_SEQUENCE ||
	    b->data[1] == 0)
		return 0;
	return be32_load(b->data + 2);
}

void
bgp_aspath_prepend(struct bgp_attrs *a, uint32_t as)
{
	const struct bgp_blob *old = a->aspath;
	size_t oldlen = old ? old->len : 0;
	uint8_t *buf = xmalloc(oldlen + 6);
	size_t len;

	if (old != NULL && oldlen >= 2 && old->data[0] == BGP_AS_SEQUENCE &&
	    old->data[1] < 255) {
		/* Grow the leading sequence. */
		buf[0] = BGP_AS_SEQUENCE;
		buf[1] = old->data[1] + 1;
		be32_store(buf + 2, as);
		memcpy(buf + 6, old->data + 2, oldlen - 2);
		len = oldlen + 4;
	} else {
		buf[0] = BGP_AS_SEQUENCE;
		buf[1] = 1;
		be32_store(buf + 2, as);
		if (oldlen > 0)
			memcpy(buf + 6, old->data, oldlen);
		len = oldlen + 6;
	}
	set_blob(a, &a->aspath, BGP_ATTRF_AS_PATH, buf, len);
	free(buf);
}

/* ---- cluster list, communities ---- */

static bool
u32_blob_contains(const struct bgp_blob *b, uint32_t v)
{
	if (b == NULL)
		return false;
	for (size_t i = 0; i + 4 <= b->len; i += 4)
		if (be32_load(b->data + i) == v)
			return true;
	return false;
}

bool
bgp_cluster_list_contains(const struct bgp_attrs *a, uint32_t id)
{
	return u32_blob_contains(a->cluster_list, id);
}

void
bgp_cluster_list_prepend(struct bgp_attrs *a, uint32_t id)
{
	size_t oldlen = a->cluster_list ? a->cluster_list->len : 0;
	uint8_t *buf = xmalloc(oldlen + 4);

	be32_store(buf, id);
	if (oldlen > 0)
		memcpy(buf + 4, a->cluster_list->data, oldlen);
	set_blob(a, &a->cluster_list, BGP_ATTRF_CLUSTER_LIST, buf, oldlen + 4);
	free(buf);
}

bool
bgp_communities_contains(const struct bgp_attrs *a, uint32_t c)
{
	return u32_blob_contains(a->communities, c);
}

bool
bgp_attrs_looped(const struct bgp_attrs *a, const struct bgp_attr_ctx *ctx)
{
	if (ctx->ebgp && bgp_aspath_contains(a, ctx->local_as))
		return true;
	if ((a->flags & BGP_ATTRF_ORIGINATOR_ID) &&
	    a->originator_id == ctx->router_id)
		return true;
	return bgp_cluster_list_contains(a, ctx->cluster_id);
}

/* ---- extended communities ---- */

size_t
bgp_ecomm_count(const struct bgp_attrs *a)
{
	return a->ecomms ? a->ecomms->len / BGP_ECOMM_LEN : 0;
}

const uint8_t *
bgp_ecomm_at(const struct bgp_attrs *a, size_t i)
{
	if (i >= bgp_ecomm_count(a))
		return NULL;
	return a->ecomms->data + i * BGP_ECOMM_LEN;
}

int
bgp_ecomm_find(const struct bgp_attrs *a, uint8_t type, uint8_t subtype,
    size_t *iter, uint8_t out[BGP_ECOMM_LEN])
{
	size_t n = bgp_ecomm_count(a);

	for (size_t i = *iter; i < n; i++) {
		const uint8_t *ec = bgp_ecomm_at(a, i);

		if (ec[0] == type && ec[1] == subtype) {
			if (out != NULL)
				memcpy(out, ec, BGP_ECOMM_LEN);
			*iter = i + 1;
			return 0;
		}
	}
	*iter = n;
	return -1;
}

void
bgp_ecomm_add(struct bgp_attrs *a, const uint8_t ec[BGP_ECOMM_LEN])
{
	size_t n = bgp_ecomm_count(a);
	uint8_t *buf;

	for (size_t i = 0; i < n; i++)
		if (memcmp(bgp_ecomm_at(a, i), ec, BGP_ECOMM_LEN) == 0)
			return;
	buf = xmalloc((n + 1) * BGP_ECOMM_LEN);
	if (n > 0)
		memcpy(buf, a->ecomms->data, n * BGP_ECOMM_LEN);
	memcpy(buf + n * BGP_ECOMM_LEN, ec, BGP_ECOMM_LEN);
	bgp_attrs_set_ecomms(a, buf, n + 1);
	free(buf);
}

void
bgp_ecomm_del_type(struct bgp_attrs *a, uint8_t type, uint8_t subtype)
{
	size_t n = bgp_ecomm_count(a), kept = 0;
	uint8_t *buf;

	if (n == 0)
		return;
	buf = xmalloc(n * BGP_ECOMM_LEN);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *ec = bgp_ecomm_at(a, i);

		if (ec[0] == type && ec[1] == subtype)
			continue;
		memcpy(buf + kept++ * BGP_ECOMM_LEN, ec, BGP_ECOMM_LEN);
	}
	if (kept == 0)
		bgp_attrs_unset(a, BGP_ATTRF_EXT_COMM);
	else if (kept < n)
		bgp_attrs_set_ecomms(a, buf, kept);
	free(buf);
}

static bool
ecomm_is_rt(const uint8_t *ec)
{
	return ec[0] <= BGP_ECOMM_T_AS4 && ec[1] == BGP_ECOMM_ST_RT;
}

int
bgp_rt_next(const struct bgp_attrs *a, size_t *iter, struct rt *rt)
{
	size_t n = bgp_ecomm_count(a);

	for (size_t i = *iter; i < n; i++) {
		const uint8_t *ec = bgp_ecomm_at(a, i);

		if (ecomm_is_rt(ec)) {
			memcpy(rt->b, ec, BGP_ECOMM_LEN);
			*iter = i + 1;
			return 0;
		}
	}
	*iter = n;
	return -1;
}

void
bgp_ecomm_make_encap(uint8_t ec[BGP_ECOMM_LEN], uint16_t tunnel_type)
{
	/* RFC 9012 §4.1: 4 reserved octets, then the tunnel type. */
	memset(ec, 0, BGP_ECOMM_LEN);
	ec[0] = BGP_ECOMM_T_OPAQUE;
	ec[1] = BGP_ECOMM_ST_ENCAP;
	be16_store(ec + 6, tunnel_type);
}

const char *
bgp_ecomm_fmt(const uint8_t ec[BGP_ECOMM_LEN], char *buf, size_t len)
{
	char tmp[RT_STRLEN];
	struct rt rt;

	if (ec[0] <= BGP_ECOMM_T_AS4 &&
	    (ec[1] == BGP_ECOMM_ST_RT || ec[1] == BGP_ECOMM_ST_SOO)) {
		/* Same admin:value layout; rt_fmt knows it as subtype 2. */
		memcpy(rt.b, ec, BGP_ECOMM_LEN);
		rt.b[1] = BGP_ECOMM_ST_RT;
		snprintf(buf, len, "%s:%s",
		    ec[1] == BGP_ECOMM_ST_RT ? "RT" : "SoO",
		    rt_fmt(&rt, tmp, sizeof(tmp)));
	} else if (ec[0] == BGP_ECOMM_T_OPAQUE && ec[1] == BGP_ECOMM_ST_ENCAP) {
		snprintf(buf, len, "ET:%u", be16_load(ec + 6));
	} else {
		snprintf(buf, len, "0x%02x%02x:%02x%02x%02x%02x%02x%02x",
		    ec[0], ec[1], ec[2], ec[3], ec[4], ec[5], ec[6], ec[7]);
	}
	return buf;
}

/* ---- formatting ---- */

const char *
bgp_origin_name(uint8_t origin)
{
	switch (origin) {
	case BGP_ORIGIN_IGP:
		return "IGP";
	case BGP_ORIGIN_EGP:
		return "EGP";
	case BGP_ORIGIN_INCOMPLETE:
		return "incomplete";
	}
	return "?";
}

/* Append to a NUL-terminated buffer, truncating. */
struct strbuf {
	char	*buf;
	size_t	 size;
	size_t	 len;
};

static void
sb_add(struct strbuf *sb, const char *s)
{
	size_t n = strlen(s);

	if (sb->size == 0 || sb->len >= sb->size - 1)
		return;
	if (n > sb->size - 1 - sb->len)
		n = sb->size - 1 - sb->len;
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

static bool
aspath_fmt_cb(uint8_t type, const uint8_t *asns, size_t n, void *arg)
{
	static const char *seg_open[] = { "", "{", "", "(", "[" };
	static const char *seg_close[] = { "", "}", "", ")", "]" };
	struct strbuf *sb = arg;
	const char *sep = (type == BGP_AS_SET || type == BGP_AS_CONFED_SET) ?
	    "," : " ";
	char num[16];

	if (type < 1 || type > 4)
		return false;
	if (sb->len > 0)
		sb_add(sb, " ");
	sb_add(sb, seg_open[type]);
	for (size_t i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%s%u", i ? sep : "",
		    be32_load(asns + 4 * i));
		sb_add(sb, num);
	}
	sb_add(sb, seg_close[type]);
	return true;
}

const char *
bgp_aspath_fmt(const struct bgp_attrs *a, char *buf, size_t len)
{
	struct strbuf sb = { buf, len, 0 };

	if (len > 0)
		buf[0] = '\0';
	aspath_walk(a->aspath, aspath_fmt_cb, &sb);
	return buf;
}

static const char *
community_name(uint32_t c)
{
	switch (c) {
	case 0xffff0000:
		return "graceful-shutdown";	/* RFC 8326 */
	case 0xffff029a:
		return "blackhole";		/* RFC 7999 */
	case 0xffffff01:
		return "no-export";		/* RFC 1997 */
	case 0xffffff02:
		return "no-advertise";
	case 0xffffff03:
		return "local-AS";		/* NO_EXPORT_SUBCONFED */
	case 0xffffff04:
		return "no-peer";		/* RFC 3765 */
	}
	return NULL;
}

const char *
bgp_communities_fmt(const struct bgp_attrs *a, char *buf, size_t len)
{
	struct strbuf sb = { buf, len, 0 };
	const struct bgp_blob *b = a->communities;
	char one[24];

	if (len > 0)
		buf[0] = '\0';
	for (size_t i = 0; b != NULL && i + 4 <= b->len; i += 4) {
		uint32_t c = be32_load(b->data + i);
		const char *name = community_name(c);

		if (name != NULL)
			snprintf(one, sizeof(one), "%s%s", i ? " " : "", name);
		else
			snprintf(one, sizeof(one), "%s%u:%u", i ? " " : "",
			    c >> 16, c & 0xffff);
		sb_add(&sb, one);
	}
	return buf;
}

const char *
bgp_ecomms_fmt(const struct bgp_attrs *a, char *buf, size_t len)
{
	struct strbuf sb = { buf, len, 0 };
	char one[BGP_ECOMM_STRLEN];

	if (len > 0)
		buf[0] = '\0';
	for (size_t i = 0; i < bgp_ecomm_count(a); i++) {
		if (i > 0)
			sb_add(&sb, " ");
		sb_add(&sb, bgp_ecomm_fmt(bgp_ecomm_at(a, i), one, sizeof(one)));
	}
	return buf;
}

/* The formatters of the attribute table's rows (bgp_attr_int.h). */

const char *
attr_fmt_origin(const struct bgp_attrs *a, char *buf, size_t len)
{
	snprintf(buf, len, "%s", bgp_origin_name(a->origin));
	return buf;
}

static const char *
fmt_ipv4(uint32_t host_order, char *buf, size_t len)
{
	struct ipaddr ip;

	ipaddr_from_v4(&ip, host_order);
	return ipaddr_fmt(&ip, buf, len);
}

const char *
attr_fmt_nexthop(const struct bgp_attrs *a, char *buf, size_t len)
{
	return fmt_ipv4(a->nexthop, buf, len);
}

const char *
attr_fmt_med(const struct bgp_attrs *a, char *buf, size_t len)
{
	snprintf(buf, len, "%u", a->med);
	return buf;
}

const char *
attr_fmt_local_pref(const struct bgp_attrs *a, char *buf, size_t len)
{
	snprintf(buf, len, "%u", a->local_pref);
	return buf;
}

/* An attribute that is all in its presence (ATOMIC_AGGREGATE). */
const char *
attr_fmt_present(const struct bgp_attrs *a, char *buf, size_t len)
{
	if (len > 0)
		buf[0] = '\0';
	return buf;
}

/* "65001 10.0.0.1": the AS and BGP Identifier of the aggregating speaker. */
const char *
attr_fmt_aggregator(const struct bgp_attrs *a, char *buf, size_t len)
{
	char id[IPADDR_STRLEN];

	snprintf(buf, len, "%u %s", a->aggregator_as,
	    fmt_ipv4(a->aggregator_id, id, sizeof(id)));
	return buf;
}

const char *
attr_fmt_originator_id(const struct bgp_attrs *a, char *buf, size_t len)
{
	return fmt_ipv4(a->originator_id, buf, len);
}

/* "10.0.0.1 10.0.0.2": cluster ids, nearest first. */
const char *
attr_fmt_cluster_list(const struct bgp_attrs *a, char *buf, size_t len)
{
	struct strbuf sb = { buf, len, 0 };
	const struct bgp_blob *b = a->cluster_list;
	char id[IPADDR_STRLEN];

	if (len > 0)
		buf[0] = '\0';
	for (size_t i = 0; b != NULL && i + 4 <= b->len; i += 4) {
		if (i > 0)
			sb_add(&sb, " ");
		sb_add(&sb, fmt_ipv4(be32_load(b->data + i), id, sizeof(id)));
	}
	return buf;
}

const char *
attr_fmt_mp_nexthop(const struct bgp_attrs *a, char *buf, size_t len)
{
	struct ipaddr ip;

	bgp_attrs_get_mp_nexthop(a, &ip);
	return ipaddr_fmt(&ip, buf, len);
}

/* "type 6 label 100 id 10.0.0.1" (RFC 6514 §5); flags only when set. */
const char *
attr_fmt_pmsi(const struct bgp_attrs *a, char *buf, size_t len)
{
	const struct bgp_blob *id = a->pmsi_id;
	char idtext[IPADDR_STRLEN] = "";
	struct ipaddr ip;

	memset(&ip, 0, sizeof(ip));
	if (id != NULL && (id->len == 4 || id->len == 16)) {
		ip.af = id->len == 4 ? AF_INET : AF_INET6;
		memcpy(ip.u.b, id->data, id->len);
		ipaddr_fmt(&ip, idtext, sizeof(idtext));
	}
	if (a->pmsi_flags)
		snprintf(buf, len, "flags 0x%02x type %u label %u id %s",
		    a->pmsi_flags, a->pmsi_type, a->pmsi_label, idtext);
	else
		snprintf(buf, len, "type %u label %u id %s", a->pmsi_type,
		    a->pmsi_label, idtext);
	return buf;
}

const char *
bgp_attr_name(uint8_t type)
{
	return attr_rules[type].name;
}

const char *
bgp_attr_fmt(const struct bgp_attrs *a, uint8_t type, char *buf, size_t len)
{
	const struct attr_rule *r = &attr_rules[type];

	if (r->format == NULL || !(a->flags & r->attrf))
		return NULL;
	return r->format(a, buf, len);
}

const char *
bgp_attr_action_name(enum bgp_attr_action act)
{
	switch (act) {
	case BGP_ATTR_OK:
		return "ok";
	case BGP_ATTR_TREAT_AS_WITHDRAW:
		return "treat-as-withdraw";
	case BGP_ATTR_AFISAFI_DISABLE:
		return "afi/safi-disable";
	case BGP_ATTR_SESSION_RESET:
		return "session-reset";
	}
	return "?";
}
