/*
 * IPFIX (RFC 7011) and NetFlow v9 (RFC 3954) decoding: message header,
 * sets, templates kept per exporter and domain, data records reduced to
 * struct flow_record.  See telemetry.h for how this fits.
 */
#include "telemetry/telemetry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/buf.h"
#include "common/util.h"

#define IPFIX_VERSION		10
#define NF9_VERSION		9
#define IPFIX_HEADER_LEN	16	/* RFC 7011 §3.1 */
#define NF9_HEADER_LEN		20	/* RFC 3954 §5.1 */
#define IPFIX_SET_TEMPLATE	2	/* RFC 7011 §3.3.2 */
#define IPFIX_SET_OPTIONS	3
#define NF9_SET_TEMPLATE	0	/* RFC 3954 §5.2 */
#define NF9_SET_OPTIONS		1
#define FLOW_SET_DATA_MIN	256	/* data set ids start here */
#define IE_ENTERPRISE_BIT	0x8000	/* RFC 7011 §3.2 */
#define IE_VARLEN		65535	/* RFC 7011 §7 */

/* Information elements kept (IANA IPFIX registry; the same numbers in
 * NetFlow v9, RFC 3954 §8). */
enum {
	IE_OCTETS = 1, IE_PACKETS = 2, IE_PROTO = 4, IE_SPORT = 7,
	IE_SRC4 = 8, IE_DPORT = 11, IE_DST4 = 12, IE_SRC6 = 27, IE_DST6 = 28,
	IE_SRC_MAC = 56, IE_DST_MAC = 80,
};

struct flow_field {
	uint16_t	 ie;		/* 0 for enterprise-specific ones */
	uint16_t	 len;		/* IE_VARLEN: length-prefixed */
};

struct flow_template {
	bool		 used;
	uint16_t	 version;
	struct ipaddr	 exporter;
	uint32_t	 domain;
	uint16_t	 id;
	uint16_t	 nfields;
	size_t		 min_len;	/* bytes of the shortest record */
	uint64_t	 last_use;	/* for eviction at the cap */
	struct flow_field fields[FLOW_MAX_FIELDS];
};

struct flow_decoder {
	struct flow_template templates[FLOW_MAX_TEMPLATES];
	uint64_t	 clock;
	struct flow_stats stats;
};

/* What a message is being decoded for. */
struct flow_msg {
	struct flow_decoder	*fd;
	const struct ipaddr	*exporter;
	uint16_t		 version;
	uint32_t		 domain;
	flow_record_cb		*cb;
	void			*arg;
};

struct flow_decoder *
flow_decoder_new(void)
{
	return xcalloc(1, sizeof(struct flow_decoder));
}

void
flow_decoder_free(struct flow_decoder *fd)
{
	free(fd);
}

void
flow_decoder_stats(const struct flow_decoder *fd, struct flow_stats *st)
{
	*st = fd->stats;
}

/* ---- template cache ---------------------------------------------------- */

static bool
template_is(const struct flow_template *t, const struct flow_msg *m,
    uint16_t id)
{
	return t->used && t->id == id && t->domain == m->domain &&
	    t->version == m->version &&
	    ipaddr_cmp(&t->exporter, m->exporter) == 0;
}

static struct flow_template *
template_find(struct flow_decoder *fd, const struct flow_msg *m, uint16_t id)
{
	for (size_t i = 0; i < FLOW_MAX_TEMPLATES; i++)
		if (template_is(&fd->templates[i], m, id)) {
			fd->templates[i].last_use = ++fd->clock;
			return &fd->templates[i];
		}
	return NULL;
}

/* The slot for a new template: a free one, else the least recently
 * used (a flood of template ids cannot grow memory). */
static struct flow_template *
template_slot(struct flow_decoder *fd)
{
	struct flow_template	*oldest = &fd->templates[0];

	for (size_t i = 0; i < FLOW_MAX_TEMPLATES; i++) {
		if (!fd->templates[i].used)
			return &fd->templates[i];
		if (fd->templates[i].last_use < oldest->last_use)
			oldest = &fd->templates[i];
	}
	fd->stats.evicted++;
	return oldest;
}

static void
template_withdraw(struct flow_decoder *fd, const struct flow_msg *m,
    uint16_t id)
{
	struct flow_template	*t = template_find(fd, m, id);

	if (t != NULL)
		t->used = false;
}

/* ---- template sets ----------------------------------------------------- */

/* One template record's fields into t; -1 when malformed. */
static int
template_read_fields(struct rbuf *rb, const struct flow_msg *m,
    struct flow_template *t, uint16_t count)
{
	uint16_t	 ie, len;
	uint32_t	 enterprise;

	if (count > FLOW_MAX_FIELDS)
		return -1;
	t->min_len = 0;
	for (uint16_t i = 0; i < count; i++) {
		if (rbuf_get_u16(rb, &ie) == -1 || rbuf_get_u16(rb, &len) == -1)
			return -1;
		if (m->version == IPFIX_VERSION && (ie & IE_ENTERPRISE_BIT)) {
			if (rbuf_get_u32(rb, &enterprise) == -1)
				return -1;
			ie = 0;		/* not one of ours */
		}
		if (len == 0 || (len == IE_VARLEN &&
		    m->version != IPFIX_VERSION))
			return -1;
		t->fields[i].ie = ie;
		t->fields[i].len = len;
		t->min_len += len == IE_VARLEN ? 1 : len;
	}
	t->nfields = count;
	return 0;
}

static int
template_set_decode(struct rbuf *set, const struct flow_msg *m)
{
	struct flow_template	 t, *slot;
	uint16_t		 id, count;

	/* Records until what is left is padding (RFC 7011 §3.3.1). */
	while (rbuf_left(set) >= 4) {
		if (rbuf_get_u16(set, &id) == -1 ||
		    rbuf_get_u16(set, &count) == -1)
			return -1;
		if (id < FLOW_SET_DATA_MIN)
			return -1;
		if (count == 0) {	/* withdrawal, RFC 7011 §8.1 */
			template_withdraw(m->fd, m, id);
			continue;
		}
		memset(&t, 0, sizeof(t));
		if (template_read_fields(set, m, &t, count) == -1)
			return -1;
		if ((slot = template_find(m->fd, m, id)) == NULL)
			slot = template_slot(m->fd);
		t.used = true;
		t.version = m->version;
		t.exporter = *m->exporter;
		t.domain = m->domain;
		t.id = id;
		t.last_use = ++m->fd->clock;
		*slot = t;
		m->fd->stats.templates++;
	}
	return 0;
}

/* ---- data sets --------------------------------------------------------- */

/* An unsigned counter of 1-8 bytes (reduced-size encoding, §6.2). */
static uint64_t
field_uint(const uint8_t *p, size_t len)
{
	uint64_t	 v = 0;

	for (size_t i = 0; i < len && i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void
field_addr(struct ipaddr *ip, int af, const uint8_t *p, size_t len)
{
	if (len != (af == AF_INET ? 4u : 16u))
		return;
	memset(ip, 0, sizeof(*ip));
	ip->af = (uint8_t)af;
	memcpy(ip->u.b, p, len);
}

static void
field_mac(struct macaddr *mac, bool *has, const uint8_t *p, size_t len)
{
	if (len != 6)
		return;
	memcpy(mac->b, p, 6);
	*has = true;
}

static void
field_keep(struct flow_record *r, uint16_t ie, const uint8_t *p, size_t len)
{
	switch (ie) {
	case IE_OCTETS:		r->octets = field_uint(p, len); break;
	case IE_PACKETS:	r->packets = field_uint(p, len); break;
	case IE_PROTO:		r->proto = (uint8_t)field_uint(p, len); break;
	case IE_SPORT:		r->sport = (uint16_t)field_uint(p, len); break;
	case IE_DPORT:		r->dport = (uint16_t)field_uint(p, len); break;
	case IE_SRC4:		field_addr(&r->src, AF_INET, p, len); break;
	case IE_DST4:		field_addr(&r->dst, AF_INET, p, len); break;
	case IE_SRC6:		field_addr(&r->src, AF_INET6, p, len); break;
	case IE_DST6:		field_addr(&r->dst, AF_INET6, p, len); break;
	case IE_SRC_MAC:
		field_mac(&r->src_mac, &r->has_src_mac, p, len);
		break;
	case IE_DST_MAC:
		field_mac(&r->dst_mac, &r->has_dst_mac, p, len);
		break;
	}
}

/* A variable-length field's length prefix (RFC 7011 §7). */
static int
field_varlen(struct rbuf *rb, uint16_t *len)
{
	uint8_t		 short_len;

	if (rbuf_get_u8(rb, &short_len) == -1)
		return -1;
	if (short_len < 255) {
		*len = short_len;
		return 0;
	}
	return rbuf_get_u16(rb, len);
}

static int
data_record_decode(struct rbuf *set, const struct flow_template *t,
    struct flow_record *r)
{
	uint16_t	 len;
	const uint8_t	*p;

	for (uint16_t i = 0; i < t->nfields; i++) {
		len = t->fields[i].len;
		if (len == IE_VARLEN && field_varlen(set, &len) == -1)
			return -1;
		p = rbuf_ptr(set);
		if (rbuf_skip(set, len) == -1)
			return -1;
		field_keep(r, t->fields[i].ie, p, len);
	}
	return 0;
}

static int
data_set_decode(struct rbuf *set, const struct flow_msg *m, uint16_t id)
{
	const struct flow_template	*t;
	struct flow_record		 r;

	if ((t = template_find(m->fd, m, id)) == NULL) {
		m->fd->stats.unknown_sets++;
		return 0;
	}
	while (rbuf_left(set) >= t->min_len && t->min_len > 0) {
		memset(&r, 0, sizeof(r));
		r.version = m->version;
		r.domain = m->domain;
		if (data_record_decode(set, t, &r) == -1)
			return -1;
		m->fd->stats.records++;
		m->cb(m->arg, &r);
	}
	return 0;
}

/* ---- messages ---------------------------------------------------------- */

static int
sets_decode(struct rbuf *rb, const struct flow_msg *m, char *err,
    size_t errlen)
{
	struct rbuf	 set;
	uint16_t	 id, len;
	bool		 v10 = m->version == IPFIX_VERSION;
	int		 rc;

	while (rbuf_left(rb) > 0) {
		if (rbuf_get_u16(rb, &id) == -1 || rbuf_get_u16(rb, &len) == -1 ||
		    len < 4 || rbuf_slice(rb, len - 4u, &set) == -1) {
			snprintf(err, errlen, "set header or length beyond the "
			    "message");
			return -1;
		}
		if (id == (v10 ? IPFIX_SET_TEMPLATE : NF9_SET_TEMPLATE))
			rc = template_set_decode(&set, m);
		else if (id == (v10 ? IPFIX_SET_OPTIONS : NF9_SET_OPTIONS))
			rc = 0;		/* options: nothing we use */
		else if (id >= FLOW_SET_DATA_MIN)
			rc = data_set_decode(&set, m, id);
		else
			rc = 0;		/* reserved ids are ignored */
		if (rc == -1) {
			snprintf(err, errlen, "malformed %s set %u",
			    id < FLOW_SET_DATA_MIN ? "template" : "data", id);
			return -1;
		}
	}
	return 0;
}

/* The header; rb is left on the first set. */
static int
header_decode(struct rbuf *rb, struct flow_msg *m, char *err, size_t errlen)
{
	uint16_t	 len;
	uint32_t	 skip;

	if (rbuf_get_u16(rb, &m->version) == -1) {
		snprintf(err, errlen, "short message");
		return -1;
	}
	if (m->version == IPFIX_VERSION) {
		/* length, export time, sequence, observation domain */
		if (rbuf_get_u16(rb, &len) == -1 || len < IPFIX_HEADER_LEN ||
		    len > rbuf_left(rb) + 4 || rbuf_get_u32(rb, &skip) == -1 ||
		    rbuf_get_u32(rb, &skip) == -1 ||
		    rbuf_get_u32(rb, &m->domain) == -1) {
			snprintf(err, errlen, "bad IPFIX message header");
			return -1;
		}
		/* Trailing bytes past the header's length are not ours. */
		rbuf_init(rb, rb->data, len);
		return rbuf_skip(rb, IPFIX_HEADER_LEN);
	}
	if (m->version == NF9_VERSION) {
		/* count, sysUptime, unix secs, sequence, source id */
		if (rbuf_get_u16(rb, &len) == -1 ||
		    rbuf_skip(rb, 12) == -1 ||
		    rbuf_get_u32(rb, &m->domain) == -1) {
			snprintf(err, errlen, "bad NetFlow v9 header");
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "unsupported version %u", m->version);
	return -1;
}

int
flow_decode(struct flow_decoder *fd, const struct ipaddr *exporter,
    const uint8_t *data, size_t len, flow_record_cb *cb, void *arg,
    char *err, size_t errlen)
{
	struct flow_msg	 m = { fd, exporter, 0, 0, cb, arg };
	struct rbuf	 rb;

	rbuf_init(&rb, data, len);
	if (header_decode(&rb, &m, err, errlen) == -1 ||
	    sets_decode(&rb, &m, err, errlen) == -1) {
		fd->stats.malformed++;
		return -1;
	}
	fd->stats.messages++;
	return 0;
}
