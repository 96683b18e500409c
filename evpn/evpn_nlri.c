/*
 * EVPN NLRI codec: see evpn_nlri.h for the wire format and the route key.
 *
 * One row of evpn_types[] per route type: the value lengths it allows,
 * its decode, encode and format functions, and how it packs its key
 * fields and unpacks them.  The generic code frames (type, length),
 * picks the row, checks the length against the row, then hands the
 * type-specific function a slice holding exactly the value; each decoder
 * ends by requiring that slice to be empty.  Keys are framed the same
 * way: the generic code writes the type byte, the row the rest.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/byteorder.h"
#include "common/hash.h"
#include "common/util.h"
#include "evpn/evpn_nlri.h"

/* Where a key's pack (out) or unpack (in) function is in the key. */
struct evpn_key_cursor {
	uint8_t		*out;
	const uint8_t	*in;
	size_t		 o;
};

struct evpn_type {
	uint8_t		 lens[4];	/* allowed value lengths, 0 = unused */
	int		(*decode)(struct rbuf *, struct evpn_route *);
	void		(*encode)(struct wbuf *, const struct evpn_route *);
	size_t		(*value_len)(const struct evpn_route *);	/* 0: invalid */
	void		(*key_pack)(const struct evpn_route *,
			    struct evpn_key_cursor *);
	void		(*key_unpack)(struct evpn_key_cursor *,
			    struct evpn_route *);
	void		(*fmt)(const struct evpn_route *, char *, size_t);
};

/* --- small helpers -------------------------------------------------- */

uint32_t
evpn_label_get(const struct evpn_label *l)
{
	return be24_load(l->b);
}

void
evpn_label_set(struct evpn_label *l, uint32_t v)
{
	be24_store(l->b, v);
}

static size_t
af_bytes(uint8_t af)
{
	return af == AF_INET ? 4 : af == AF_INET6 ? 16 : 0;
}

static uint8_t
af_of_bytes(size_t n)
{
	return n == 4 ? AF_INET : n == 16 ? AF_INET6 : 0;
}

static void
addr_to_ipaddr(uint8_t af, const uint8_t *b, struct ipaddr *out)
{
	memset(out, 0, sizeof(*out));
	out->af = af;
	memcpy(out->u.b, b, af_bytes(af));
}

void
evpn_route_get_ip(const struct evpn_route *r, struct ipaddr *out)
{
	addr_to_ipaddr(r->af, r->ip, out);
}

void
evpn_route_get_gw(const struct evpn_route *r, struct ipaddr *out)
{
	addr_to_ipaddr(r->type == EVPN_RT_PREFIX ? r->af : 0, r->gw, out);
}

static void
addr_fmt(uint8_t af, const uint8_t *b, char *buf, size_t len)
{
	if (inet_ntop(af, b, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

const char *
evpn_esi_fmt(const struct evpn_esi *e, char *buf, size_t len)
{
	const uint8_t *b = e->b;

	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x:%02x:%02x:%02x:%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]);
	return buf;
}

static void
key_put(struct evpn_key_cursor *k, const void *p, size_t n)
{
	memcpy(k->out + k->o, p, n);
	k->o += n;
}

static void
key_get(struct evpn_key_cursor *k, void *p, size_t n)
{
	memcpy(p, k->in + k->o, n);
	k->o += n;
}

static void
key_put_u32(struct evpn_key_cursor *k, uint32_t v)
{
	be32_store(k->out + k->o, v);
	k->o += 4;
}

static uint32_t
key_get_u32(struct evpn_key_cursor *k)
{
	uint32_t v = be32_load(k->in + k->o);

	k->o += 4;
	return v;
}

/* Every key goes on with the family and a prefix length (type 5's). */
static void
key_put_family(struct evpn_key_cursor *k, uint8_t af, uint8_t plen)
{
	k->out[k->o++] = af;
	k->out[k->o++] = plen;
}

static void
key_get_family(struct evpn_key_cursor *k, struct evpn_route *r)
{
	r->af = k->in[k->o++];
	r->plen = k->in[k->o++];
}

/* The IP in 16 bytes whatever its family, zero beyond its length. */
static void
key_put_ip(struct evpn_key_cursor *k, const struct evpn_route *r)
{
	memset(k->out + k->o, 0, 16);
	memcpy(k->out + k->o, r->ip, af_bytes(r->af));
	k->o += 16;
}

static void
key_get_ip(struct evpn_key_cursor *k, struct evpn_route *r)
{
	key_get(k, r->ip, 16);
}

/*
 * Read an IP length in bits and the address it announces.  want_bytes is
 * what the NLRI's total length leaves for the address, so the two must
 * agree.  Sets af and ip.
 */
static int
get_ip(struct rbuf *rb, size_t want_bytes, struct evpn_route *r)
{
	uint8_t bits;

	if (rbuf_get_u8(rb, &bits) == -1)
		return -1;
	if ((bits != 0 && bits != 32 && bits != 128) ||
	    (size_t)bits / 8 != want_bytes)
		return -1;
	r->af = af_of_bytes(want_bytes);
	return rbuf_get_bytes(rb, r->ip, want_bytes);
}

static void
put_ip(struct wbuf *wb, const struct evpn_route *r)
{
	wbuf_put_u8(wb, (uint8_t)(af_bytes(r->af) * 8));
	wbuf_put_bytes(wb, r->ip, af_bytes(r->af));
}

static int
get_labels(struct rbuf *rb, struct evpn_route *r, uint8_t n)
{
	for (uint8_t i = 0; i < n; i++)
		if (rbuf_get_bytes(rb, r->label[i].b, 3) == -1)
			return -1;
	r->nlabels = n;
	return 0;
}

static void
put_labels(struct wbuf *wb, const struct evpn_route *r)
{
	for (uint8_t i = 0; i < r->nlabels; i++)
		wbuf_put_bytes(wb, r->label[i].b, 3);
}

/* --- type 1: Ethernet A-D, RFC 7432 §7.1 ----------------------------
 * RD(8) ESI(10) Ethernet Tag(4) MPLS Label(3) = 25 */

static int
ead_decode(struct rbuf *rb, struct evpn_route *r)
{
	if (rbuf_get_bytes(rb, r->rd.b, 8) == -1 ||
	    rbuf_get_bytes(rb, r->esi.b, EVPN_ESI_LEN) == -1 ||
	    rbuf_get_u32(rb, &r->eth_tag) == -1 ||
	    get_labels(rb, r, 1) == -1)
		return -1;
	return 0;
}

static size_t
ead_value_len(const struct evpn_route *r)
{
	return r->af == 0 && r->nlabels == 1 ? 25 : 0;
}

static void
ead_encode(struct wbuf *wb, const struct evpn_route *r)
{
	wbuf_put_bytes(wb, r->rd.b, 8);
	wbuf_put_bytes(wb, r->esi.b, EVPN_ESI_LEN);
	wbuf_put_u32(wb, r->eth_tag);
	put_labels(wb, r);
}

static void
ead_key_pack(const struct evpn_route *r, struct evpn_key_cursor *k)
{
	key_put_family(k, r->af, 0);
	key_put_u32(k, r->eth_tag);
	key_put(k, r->rd.b, 8);
	key_put(k, r->esi.b, EVPN_ESI_LEN);
}

static void
ead_key_unpack(struct evpn_key_cursor *k, struct evpn_route *r)
{
	key_get_family(k, r);
	r->eth_tag = key_get_u32(k);
	key_get(k, r->rd.b, 8);
	key_get(k, r->esi.b, EVPN_ESI_LEN);
}

static void
ead_fmt(const struct evpn_route *r, char *buf, size_t len)
{
	char esi[EVPN_ESI_STRLEN];

	snprintf(buf, len, "[1]:[%u]:[%s]", r->eth_tag,
	    evpn_esi_fmt(&r->esi, esi, sizeof(esi)));
}

/* --- type 2: MAC/IP Advertisement, RFC 7432 §7.2 --------------------
 * RD(8) ESI(10) Ethernet Tag(4) MAC Len(1) MAC(6) IP Len(1) IP(0/4/16)
 * Label1(3) [Label2(3)] = 33/37/49, +3 with Label2 */

static int
macip_decode(struct rbuf *rb, struct evpn_route *r)
{
	/* Total length fixes both the IP size and the label count. */
	size_t len = rbuf_left(rb), ip_bytes, nlabels;
	uint8_t mac_bits;

	ip_bytes = len == 33 || len == 36 ? 0 : len == 37 || len == 40 ? 4 : 16;
	nlabels = len - 30 - ip_bytes == 3 ? 1 : 2;
	if (rbuf_get_bytes(rb, r->rd.b, 8) == -1 ||
	    rbuf_get_bytes(rb, r->esi.b, EVPN_ESI_LEN) == -1 ||
	    rbuf_get_u32(rb, &r->eth_tag) == -1 ||
	    rbuf_get_u8(rb, &mac_bits) == -1 || mac_bits != 48 ||
	    rbuf_get_bytes(rb, r->mac.b, 6) == -1 ||
	    get_ip(rb, ip_bytes, r) == -1 ||
	    get_labels(rb, r, (uint8_t)nlabels) == -1)
		return -1;
	return 0;
}

static size_t
macip_value_len(const struct evpn_route *r)
{
	if (r->af != 0 && r->af != AF_INET && r->af != AF_INET6)
		return 0;
	if (r->nlabels != 1 && r->nlabels != 2)
		return 0;
	return 30 + af_bytes(r->af) + 3 * (size_t)r->nlabels;
}

static void
macip_encode(struct wbuf *wb, const struct evpn_route *r)
{
	wbuf_put_bytes(wb, r->rd.b, 8);
	wbuf_put_bytes(wb, r->esi.b, EVPN_ESI_LEN);
	wbuf_put_u32(wb, r->eth_tag);
	wbuf_put_u8(wb, 48);
	wbuf_put_bytes(wb, r->mac.b, 6);
	put_ip(wb, r);
	put_labels(wb, r);
}

static void
macip_key_pack(const struct evpn_route *r, struct evpn_key_cursor *k)
{
	key_put_family(k, r->af, 0);
	key_put_u32(k, r->eth_tag);
	key_put(k, r->rd.b, 8);
	key_put(k, r->mac.b, 6);
	key_put_ip(k, r);
}

static void
macip_key_unpack(struct evpn_key_cursor *k, struct evpn_route *r)
{
	key_get_family(k, r);
	r->eth_tag = key_get_u32(k);
	key_get(k, r->rd.b, 8);
	key_get(k, r->mac.b, 6);
	key_get_ip(k, r);
}

static void
macip_fmt(const struct evpn_route *r, char *buf, size_t len)
{
	char mac[MAC_STRLEN], ip[IPADDR_STRLEN];

	/* FRR prints this tag with %d. */
	mac_fmt(&r->mac, mac, sizeof(mac));
	if (r->af == 0) {
		snprintf(buf, len, "[2]:[%d]:[48]:[%s]", (int32_t)r->eth_tag,
		    mac);
		return;
	}
	addr_fmt(r->af, r->ip, ip, sizeof(ip));
	snprintf(buf, len, "[2]:[%d]:[48]:[%s]:[%zu]:[%s]",
	    (int32_t)r->eth_tag, mac, af_bytes(r->af) * 8, ip);
}

/* --- type 3: Inclusive Multicast Ethernet Tag, RFC 7432 §7.3 --------
 * RD(8) Ethernet Tag(4) IP Len(1) Originator IP(4/16) = 17/29 */

static int
imet_decode(struct rbuf *rb, struct evpn_route *r)
{
	size_t ip_bytes = rbuf_left(rb) - 13;

	if (rbuf_get_bytes(rb, r->rd.b, 8) == -1 ||
	    rbuf_get_u32(rb, &r->eth_tag) == -1 ||
	    get_ip(rb, ip_bytes, r) == -1)
		return -1;
	return 0;
}

static size_t
imet_value_len(const struct evpn_route *r)
{
	return af_bytes(r->af) ? 13 + af_bytes(r->af) : 0;
}

static void
imet_encode(struct wbuf *wb, const struct evpn_route *r)
{
	wbuf_put_bytes(wb, r->rd.b, 8);
	wbuf_put_u32(wb, r->eth_tag);
	put_ip(wb, r);
}

/* Types 3 and 5 share a key layout; only type 5 has a prefix length. */
static void
tag_rd_ip_key_pack(const struct evpn_route *r, uint8_t plen,
    struct evpn_key_cursor *k)
{
	key_put_family(k, r->af, plen);
	key_put_u32(k, r->eth_tag);
	key_put(k, r->rd.b, 8);
	key_put_ip(k, r);
}

static void
tag_rd_ip_key_unpack(struct evpn_key_cursor *k, struct evpn_route *r)
{
	key_get_family(k, r);
	r->eth_tag = key_get_u32(k);
	key_get(k, r->rd.b, 8);
	key_get_ip(k, r);
}

static void
imet_key_pack(const struct evpn_route *r, struct evpn_key_cursor *k)
{
	tag_rd_ip_key_pack(r, 0, k);
}

static void
imet_fmt(const struct evpn_route *r, char *buf, size_t len)
{
	char ip[IPADDR_STRLEN];

	addr_fmt(r->af, r->ip, ip, sizeof(ip));
	snprintf(buf, len, "[3]:[%d]:[%zu]:[%s]", (int32_t)r->eth_tag,
	    af_bytes(r->af) * 8, ip);
}

/* --- type 4: Ethernet Segment, RFC 7432 §7.4 ------------------------
 * RD(8) ESI(10) IP Len(1) Originator IP(4/16) = 23/35 */

static int
es_decode(struct rbuf *rb, struct evpn_route *r)
{
	size_t ip_bytes = rbuf_left(rb) - 19;

	if (rbuf_get_bytes(rb, r->rd.b, 8) == -1 ||
	    rbuf_get_bytes(rb, r->esi.b, EVPN_ESI_LEN) == -1 ||
	    get_ip(rb, ip_bytes, r) == -1)
		return -1;
	return 0;
}

static size_t
es_value_len(const struct evpn_route *r)
{
	return af_bytes(r->af) ? 19 + af_bytes(r->af) : 0;
}

static void
es_encode(struct wbuf *wb, const struct evpn_route *r)
{
	wbuf_put_bytes(wb, r->rd.b, 8);
	wbuf_put_bytes(wb, r->esi.b, EVPN_ESI_LEN);
	put_ip(wb, r);
}

static void
es_key_pack(const struct evpn_route *r, struct evpn_key_cursor *k)
{
	key_put_family(k, r->af, 0);
	key_put(k, r->rd.b, 8);
	key_put(k, r->esi.b, EVPN_ESI_LEN);
	key_put_ip(k, r);
}

static void
es_key_unpack(struct evpn_key_cursor *k, struct evpn_route *r)
{
	key_get_family(k, r);
	key_get(k, r->rd.b, 8);
	key_get(k, r->esi.b, EVPN_ESI_LEN);
	key_get_ip(k, r);
}

static void
es_fmt(const struct evpn_route *r, char *buf, size_t len)
{
	char esi[EVPN_ESI_STRLEN], ip[IPADDR_STRLEN];

	addr_fmt(r->af, r->ip, ip, sizeof(ip));
	snprintf(buf, len, "[4]:[%s]:[%zu]:[%s]",
	    evpn_esi_fmt(&r->esi, esi, sizeof(esi)), af_bytes(r->af) * 8, ip);
}

/* --- type 5: IP Prefix, RFC 9136 §3.1 -------------------------------
 * RD(8) ESI(10) Ethernet Tag(4) IP Prefix Len(1) IP Prefix(4/16)
 * GW IP(4/16) MPLS Label(3) = 34/58.  Prefix and gateway are the same
 * family, told apart only by the total length.  Host bits past the
 * prefix length are kept as received so the route re-encodes exactly. */

static int
ipprefix_decode(struct rbuf *rb, struct evpn_route *r)
{
	size_t ip_bytes = rbuf_left(rb) == 34 ? 4 : 16;

	if (rbuf_get_bytes(rb, r->rd.b, 8) == -1 ||
	    rbuf_get_bytes(rb, r->esi.b, EVPN_ESI_LEN) == -1 ||
	    rbuf_get_u32(rb, &r->eth_tag) == -1 ||
	    rbuf_get_u8(rb, &r->plen) == -1 || r->plen > ip_bytes * 8 ||
	    rbuf_get_bytes(rb, r->ip, ip_bytes) == -1 ||
	    rbuf_get_bytes(rb, r->gw, ip_bytes) == -1 ||
	    get_labels(rb, r, 1) == -1)
		return -1;
	r->af = af_of_bytes(ip_bytes);
	return 0;
}

static size_t
ipprefix_value_len(const struct evpn_route *r)
{
	size_t n = af_bytes(r->af);

	if (n == 0 || r->plen > n * 8 || r->nlabels != 1)
		return 0;
	return 26 + 2 * n;
}

static void
ipprefix_encode(struct wbuf *wb, const struct evpn_route *r)
{
	wbuf_put_bytes(wb, r->rd.b, 8);
	wbuf_put_bytes(wb, r->esi.b, EVPN_ESI_LEN);
	wbuf_put_u32(wb, r->eth_tag);
	wbuf_put_u8(wb, r->plen);
	wbuf_put_bytes(wb, r->ip, af_bytes(r->af));
	wbuf_put_bytes(wb, r->gw, af_bytes(r->af));
	put_labels(wb, r);
}

static void
ipprefix_key_pack(const struct evpn_route *r, struct evpn_key_cursor *k)
{
	tag_rd_ip_key_pack(r, r->plen, k);
}

static void
ipprefix_fmt(const struct evpn_route *r, char *buf, size_t len)
{
	char ip[IPADDR_STRLEN];

	addr_fmt(r->af, r->ip, ip, sizeof(ip));
	snprintf(buf, len, "[5]:[%d]:[%u]:[%s]", (int32_t)r->eth_tag, r->plen,
	    ip);
}

/* --- the table and the generic code --------------------------------- */

static const struct evpn_type evpn_types[] = {
	[EVPN_RT_EAD] = { { 25 }, ead_decode, ead_encode,
	    ead_value_len, ead_key_pack, ead_key_unpack, ead_fmt },
	[EVPN_RT_MACIP] = { { 33, 37, 49 }, macip_decode, macip_encode,
	    macip_value_len, macip_key_pack, macip_key_unpack, macip_fmt },
	[EVPN_RT_IMET] = { { 17, 29 }, imet_decode, imet_encode,
	    imet_value_len, imet_key_pack, tag_rd_ip_key_unpack, imet_fmt },
	[EVPN_RT_ES] = { { 23, 35 }, es_decode, es_encode,
	    es_value_len, es_key_pack, es_key_unpack, es_fmt },
	[EVPN_RT_PREFIX] = { { 34, 58 }, ipprefix_decode, ipprefix_encode,
	    ipprefix_value_len, ipprefix_key_pack, tag_rd_ip_key_unpack,
	    ipprefix_fmt },
};

static const struct evpn_type *
evpn_type_get(uint8_t type)
{
	if (type == 0 || type >= nitems(evpn_types))
		return NULL;
	return &evpn_types[type];
}

static bool
evpn_len_allowed(uint8_t type, size_t len)
{
	const struct evpn_type *t = evpn_type_get(type);

	for (size_t i = 0; i < sizeof(t->lens); i++) {
		if (t->lens[i] == 0)
			break;
		/* A second label (type 2 only) adds 3 bytes. */
		if (len == t->lens[i] ||
		    (type == EVPN_RT_MACIP && len == t->lens[i] + 3u))
			return true;
	}
	return false;
}

/* Works on a copy of the reader, committed only on success. */
int
evpn_nlri_decode(struct rbuf *rb, struct evpn_route *r)
{
	const struct evpn_type *t;
	struct rbuf cur = *rb, value;
	uint8_t type, len;

	memset(r, 0, sizeof(*r));
	if (rbuf_get_u8(&cur, &type) == -1 || rbuf_get_u8(&cur, &len) == -1 ||
	    rbuf_slice(&cur, len, &value) == -1)
		return -1;
	r->type = type;
	if ((t = evpn_type_get(type)) == NULL) {
		*rb = cur;
		return 1;
	}
	if (!evpn_len_allowed(type, len) || t->decode(&value, r) == -1 ||
	    rbuf_left(&value) != 0) {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	*rb = cur;
	return 0;
}

int
evpn_nlri_decode_all(struct rbuf *rb, evpn_nlri_cb cb, void *arg)
{
	struct evpn_route r;
	int rc;

	while (rbuf_left(rb) > 0) {
		if ((rc = evpn_nlri_decode(rb, &r)) == -1)
			return -1;
		if (rc == 1 || cb == NULL)
			continue;
		if ((rc = cb(&r, arg)) != 0)
			return rc;
	}
	return 0;
}

size_t
evpn_nlri_len(const struct evpn_route *r)
{
	const struct evpn_type *t = evpn_type_get(r->type);
	size_t n;

	if (t == NULL || (n = t->value_len(r)) == 0)
		return 0;
	return 2 + n;
}

int
evpn_nlri_encode(struct wbuf *wb, const struct evpn_route *r)
{
	size_t n = evpn_nlri_len(r);

	if (n == 0)
		return -1;
	wbuf_put_u8(wb, r->type);
	wbuf_put_u8(wb, (uint8_t)(n - 2));
	evpn_type_get(r->type)->encode(wb, r);
	return 0;
}

/* The type byte leads every key; the row lays out the rest. */
void
evpn_key_pack(const struct evpn_route *r, uint8_t *key)
{
	const struct evpn_type *t = evpn_type_get(r->type);
	struct evpn_key_cursor k = { .out = key, .o = 1 };

	memset(key, 0, EVPN_KEY_LEN);
	key[0] = r->type;
	if (t != NULL)
		t->key_pack(r, &k);
}

void
evpn_key_unpack(const uint8_t *key, struct evpn_route *r)
{
	const struct evpn_type *t = evpn_type_get(key[0]);
	struct evpn_key_cursor k = { .in = key, .o = 1 };

	memset(r, 0, sizeof(*r));
	r->type = key[0];
	if (t != NULL)
		t->key_unpack(&k, r);
}

uint8_t
evpn_key_type(const uint8_t *key)
{
	return key[0];
}

int
evpn_route_cmp(const struct evpn_route *a, const struct evpn_route *b)
{
	uint8_t ka[EVPN_KEY_LEN], kb[EVPN_KEY_LEN];
	int c;

	evpn_key_pack(a, ka);
	evpn_key_pack(b, kb);
	c = memcmp(ka, kb, EVPN_KEY_LEN);
	return c < 0 ? -1 : c > 0 ? 1 : 0;
}

/* Routes come from peers: hashed under the process's secret key. */
uint32_t
evpn_route_hash(const struct evpn_route *r)
{
	uint8_t k[EVPN_KEY_LEN];

	evpn_key_pack(r, k);
	return hash_bytes_keyed(k, sizeof(k));
}

bool
evpn_route_same(const struct evpn_route *a, const struct evpn_route *b)
{
	if (evpn_route_cmp(a, b) != 0 || a->nlabels != b->nlabels ||
	    memcmp(a->esi.b, b->esi.b, EVPN_ESI_LEN) != 0)
		return false;
	if (memcmp(a->label, b->label, 3 * (size_t)a->nlabels) != 0)
		return false;
	return a->type != EVPN_RT_PREFIX ||
	    memcmp(a->gw, b->gw, af_bytes(a->af)) == 0;
}

const char *
evpn_route_prefix_fmt(const struct evpn_route *r, char *buf, size_t len)
{
	const struct evpn_type *t = evpn_type_get(r->type);

	if (t == NULL)
		snprintf(buf, len, "[%u]:[unknown]", r->type);
	else
		t->fmt(r, buf, len);
	return buf;
}

/* --- building routes we originate ----------------------------------- */

static void
route_init(struct evpn_route *r, uint8_t type, const struct rd *rd)
{
	memset(r, 0, sizeof(*r));
	r->type = type;
	r->rd = *rd;
}

static int
route_set_ip(struct evpn_route *r, const struct ipaddr *ip)
{
	if (ip == NULL || ip->af == 0)
		return 0;
	if (af_bytes(ip->af) == 0)
		return -1;
	r->af = ip->af;
	memcpy(r->ip, ip->u.b, af_bytes(ip->af));
	return 0;
}

int
evpn_route_make_macip(struct evpn_route *r, const struct rd *rd,
    const struct macaddr *mac, const struct ipaddr *ip, uint32_t l2vni,
    uint32_t l3vni)
{
	route_init(r, EVPN_RT_MACIP, rd);
	r->mac = *mac;
	if (l2vni > EVPN_LABEL_MAX || l3vni > EVPN_LABEL_MAX ||
	    route_set_ip(r, ip) == -1)
		return -1;
	evpn_label_set(&r->label[0], l2vni);
	r->nlabels = 1;
	if (l3vni != 0) {
		evpn_label_set(&r->label[1], l3vni);
		r->nlabels = 2;
	}
	return 0;
}

int
evpn_route_make_imet(struct evpn_route *r, const struct rd *rd,
    const struct ipaddr *originator)
{
	route_init(r, EVPN_RT_IMET, rd);
	if (originator == NULL || originator->af == 0)
		return -1;
	return route_set_ip(r, originator);
}

int
evpn_route_make_prefix(struct evpn_route *r, const struct rd *rd,
    const struct prefix *p, const struct ipaddr *gw, uint32_t l3vni)
{
	route_init(r, EVPN_RT_PREFIX, rd);
	if (p->addr.af == 0 || route_set_ip(r, &p->addr) == -1 ||
	    p->len > af_bytes(p->addr.af) * 8 || l3vni > EVPN_LABEL_MAX)
		return -1;
	if (gw != NULL && gw->af != 0) {
		if (gw->af != p->addr.af)
			return -1;
		memcpy(r->gw, gw->u.b, af_bytes(gw->af));
	}
	r->plen = p->len;
	evpn_label_set(&r->label[0], l3vni);
	r->nlabels = 1;
	return 0;
}
