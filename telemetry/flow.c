/*
 * IPFIX (RFC 7011) and NetFlow v9 (RFC 3954) decoding: message header,
 * sets, templates kept per exporter and domain, data records reduced to
 * struct flow_record, options data reduced to the exporter's sampling.
 * See telemetry.h for how this fits.
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

/* Sampling, in options data: samplingInterval (NetFlow v9
 * SAMPLING_INTERVAL), samplerRandomInterval, and PSAMP's (RFC 5477
 * §8.2): systematic count-based interval and space, random n-out-of-N
 * size and population, probability. */
enum {
	IE_SAMPLING_INTERVAL = 34, IE_SAMPLER_RANDOM_INTERVAL = 50,
	IE_SAMPLING_PKT_INTERVAL = 305, IE_SAMPLING_PKT_SPACE = 306,
	IE_SAMPLING_SIZE = 309, IE_SAMPLING_POPULATION = 310,
	IE_SAMPLING_PROBABILITY = 311,
};

struct flow_field {
	uint16_t	 ie;		/* 0 for enterprise-specific and
					 * scope fields */
	uint16_t	 len;		/* IE_VARLEN: length-prefixed */
};

struct flow_template {
	bool		 used;
	bool		 options;	/* an options template */
	uint16_t	 version;
	struct ipaddr	 exporter;
	uint32_t	 domain;
	uint16_t	 id;
	uint16_t	 nfields;
	size_t		 min_len;	/* bytes of the shortest record */
	uint64_t	 last_use;	/* for eviction at the cap */
	struct flow_field fields[FLOW_MAX_FIELDS];
};

/* The sampling an exporter announced for one observation domain. */
struct flow_sampling {
	bool		 used;
	uint16_t	 version;
	struct ipaddr	 exporter;
	uint32_t	 domain;
	uint32_t	 rate;		/* 1 in rate */
	uint64_t	 last_use;
};

struct flow_decoder {
	struct flow_template templates[FLOW_MAX_TEMPLATES];
	struct flow_sampling sampling[FLOW_MAX_SAMPLING_DOMAINS];
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

/* Every template (or every options template) of the message's exporter
 * and domain: the IPFIX "withdraw all", id = set id with no fields
 * (RFC 7011 §8.1). */
static void
template_withdraw_all(struct flow_decoder *fd, const struct flow_msg *m,
    bool options)
{
	for (size_t i = 0; i < FLOW_MAX_TEMPLATES; i++) {
		struct flow_template *t = &fd->templates[i];

		if (template_is(t, m, t->id) && t->options == options)
			t->used = false;
	}
}

/* A withdrawal record (field count 0) in a set of id set_id: of one
 * template, or in IPFIX of all of them when the id is the set's. */
static int
template_withdrawal(const struct flow_msg *m, uint16_t set_id, uint16_t id,
    bool options)
{
	if (m->version == IPFIX_VERSION && id == set_id) {
		template_withdraw_all(m->fd, m, options);
		return 0;
	}
	if (id < FLOW_SET_DATA_MIN)
		return -1;
	template_withdraw(m->fd, m, id);
	return 0;
}

/* ---- exporters' sampling ---------------------------------------------- */

static bool
sampling_is(const struct flow_sampling *fs, const struct flow_msg *m)
{
	return fs->used && fs->domain == m->domain &&
	    fs->version == m->version &&
	    ipaddr_cmp(&fs->exporter, m->exporter) == 0;
}

/* The rate the message's exporter announced for its domain; 0: none. */
static uint32_t
sampling_find(struct flow_decoder *fd, const struct flow_msg *m)
{
	for (size_t i = 0; i < FLOW_MAX_SAMPLING_DOMAINS; i++)
		if (sampling_is(&fd->sampling[i], m)) {
			fd->sampling[i].last_use = ++fd->clock;
			return fd->sampling[i].rate;
		}
	return 0;
}

/* Remember rate for the message's exporter and domain; at the cap the
 * least recently used entry goes, as templates do. */
static void
sampling_set(struct flow_decoder *fd, const struct flow_msg *m,
    uint32_t rate)
{
	struct flow_sampling	*fs = &fd->sampling[0];

	for (size_t i = 0; i < FLOW_MAX_SAMPLING_DOMAINS; i++) {
		if (sampling_is(&fd->sampling[i], m) ||
		    !fd->sampling[i].used) {
			fs = &fd->sampling[i];
			break;
		}
		if (fd->sampling[i].last_use < fs->last_use)
			fs = &fd->sampling[i];
	}
	fs->used = true;
	fs->version = m->version;
	fs->exporter = *m->exporter;
	fs->domain = m->domain;
	fs->rate = rate;
	fs->last_use = ++fd->clock;
}

/* ---- template sets ----------------------------------------------------- */

/*
 * One template record's count fields into t, the first nscope of them
 * scope fields (kept as ie 0: in NetFlow v9 their types are scope
 * types, not elements); -1 when malformed.
 */
static int
template_read_fields(struct rbuf *rb, const struct flow_msg *m,
    struct flow_template *t, uint16_t count, uint16_t nscope)
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
		t->fields[i].ie = i < nscope ? 0 : ie;
		t->fields[i].len = len;
		t->min_len += len == IE_VARLEN ? 1 : len;
	}
	t->nfields = count;
	return 0;
}

/* t, read, into the cache as template id of the message's exporter. */
static void
template_store(const struct flow_msg *m, uint16_t id, struct flow_template *t)
{
	struct flow_template	*slot;

	if ((slot = template_find(m->fd, m, id)) == NULL)
		slot = template_slot(m->fd);
	t->used = true;
	t->version = m->version;
	t->exporter = *m->exporter;
	t->domain = m->domain;
	t->id = id;
	t->last_use = ++m->fd->clock;
	*slot = *t;
	m->fd->stats.templates++;
}

static int
template_set_decode(struct rbuf *set, const struct flow_msg *m)
{
	struct flow_template	 t;
	uint16_t		 id, count;

	/* Records until what is left is padding (RFC 7011 §3.3.1). */
	while (rbuf_left(set) >= 4) {
		if (rbuf_get_u16(set, &id) == -1 ||
		    rbuf_get_u16(set, &count) == -1)
			return -1;
		if (count == 0) {	/* withdrawal, RFC 7011 §8.1 */
			if (template_withdrawal(m, IPFIX_SET_TEMPLATE, id,
			    false) == -1)
				return -1;
			continue;
		}
		if (id < FLOW_SET_DATA_MIN)
			return -1;
		memset(&t, 0, sizeof(t));
		if (template_read_fields(set, m, &t, count, 0) == -1)
			return -1;
		template_store(m, id, &t);
	}
	return 0;
}

/*
 * The header of an options template record after its id: IPFIX gives
 * field count and scope field count (RFC 7011 §3.4.2.2, the scope
 * count never 0), NetFlow v9 the byte lengths of the scope and of the
 * option fields (RFC 3954 §6.1), 4 bytes a field.  *count 0: an IPFIX
 * withdrawal.
 */
static int
options_header_read(struct rbuf *set, const struct flow_msg *m,
    uint16_t *count, uint16_t *nscope)
{
	uint16_t	 a, b;

	if (rbuf_get_u16(set, &a) == -1)
		return -1;
	if (m->version == IPFIX_VERSION) {
		*count = a;
		if (a == 0)
			return 0;
		if (rbuf_get_u16(set, nscope) == -1 || *nscope == 0 ||
		    *nscope > a)
			return -1;
		return 0;
	}
	if (rbuf_get_u16(set, &b) == -1 || a % 4 != 0 || b % 4 != 0 ||
	    a / 4 + b / 4 == 0)
		return -1;
	*nscope = a / 4;
	*count = (uint16_t)(a / 4 + b / 4);
	return 0;
}

static int
options_template_set_decode(struct rbuf *set, const struct flow_msg *m)
{
	struct flow_template	 t;
	uint16_t		 id, count, nscope = 0;

	while (rbuf_left(set) >= 4) {
		if (rbuf_get_u16(set, &id) == -1 ||
		    options_header_read(set, m, &count, &nscope) == -1)
			return -1;
		if (count == 0) {	/* withdrawal, RFC 7011 §8.1 */
			if (template_withdrawal(m, IPFIX_SET_OPTIONS, id,
			    true) == -1)
				return -1;
			continue;
		}
		if (id < FLOW_SET_DATA_MIN)
			return -1;
		memset(&t, 0, sizeof(t));
		if (template_read_fields(set, m, &t, count, nscope) == -1)
			return -1;
		t.options = true;
		template_store(m, id, &t);
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

/* A float64, or a float32 in reduced-size encoding (RFC 7011 §6.2);
 * 0 for any other length. */
static double
field_float(const uint8_t *p, size_t len)
{
	uint64_t	 bits = field_uint(p, len);
	uint32_t	 bits32 = (uint32_t)bits;
	double		 d;
	float		 f;

	if (len == 8) {
		memcpy(&d, &bits, sizeof(d));
		return d;
	}
	if (len == 4) {
		memcpy(&f, &bits32, sizeof(f));
		return f;
	}
	return 0;
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

/* What a data record's fields go into: a flow record's, or an options
 * record's sampling. */
typedef void	 field_keep_fn(void *, uint16_t ie, const uint8_t *, size_t);

static void
field_keep_flow(void *arg, uint16_t ie, const uint8_t *p, size_t len)
{
	struct flow_record	*r = arg;

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

/* The sampling fields of one options record. */
struct opt_sampling {
	uint64_t	 interval, random_interval;
	uint64_t	 pkt_interval, pkt_space;
	uint64_t	 size, population;
	double		 probability;
};

static void
field_keep_sampling(void *arg, uint16_t ie, const uint8_t *p, size_t len)
{
	struct opt_sampling	*o = arg;

	switch (ie) {
	case IE_SAMPLING_INTERVAL:	o->interval = field_uint(p, len); break;
	case IE_SAMPLER_RANDOM_INTERVAL:
		o->random_interval = field_uint(p, len);
		break;
	case IE_SAMPLING_PKT_INTERVAL:
		o->pkt_interval = field_uint(p, len);
		break;
	case IE_SAMPLING_PKT_SPACE:	o->pkt_space = field_uint(p, len); break;
	case IE_SAMPLING_SIZE:		o->size = field_uint(p, len); break;
	case IE_SAMPLING_POPULATION:
		o->population = field_uint(p, len);
		break;
	case IE_SAMPLING_PROBABILITY:
		o->probability = field_float(p, len);
		break;
	}
}

/*
 * 1 in how many packets the options say the exporter samples; 0 when
 * they say nothing usable (no such field, 0, a rate past
 * FLOW_MAX_SAMPLING).  Count-based: interval packets taken, space
 * skipped, so (interval + space) / interval.
 */
static uint32_t
sampling_rate(const struct opt_sampling *o)
{
	double	 n = 0;

	if (o->interval > 0)
		n = (double)o->interval;
	else if (o->random_interval > 0)
		n = (double)o->random_interval;
	else if (o->pkt_interval > 0)
		n = ((double)o->pkt_interval + (double)o->pkt_space) /
		    (double)o->pkt_interval;
	else if (o->size > 0 && o->population >= o->size)
		n = (double)o->population / (double)o->size;
	else if (o->probability > 0 && o->probability <= 1)
		n = 1 / o->probability;
	if (!(n >= 1) || n > FLOW_MAX_SAMPLING)
		return 0;
	return (uint32_t)(n + 0.5);
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
    field_keep_fn *keep, void *arg)
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
		keep(arg, t->fields[i].ie, p, len);
	}
	return 0;
}

/* Options data: a record naming a sampling rate sets the exporter's
 * for its domain (the scope is not told apart). */
static int
options_data_decode(struct rbuf *set, const struct flow_msg *m,
    const struct flow_template *t)
{
	struct opt_sampling	 o;
	uint32_t		 rate;

	while (rbuf_left(set) >= t->min_len && t->min_len > 0) {
		memset(&o, 0, sizeof(o));
		if (data_record_decode(set, t, field_keep_sampling, &o) == -1)
			return -1;
		m->fd->stats.options_records++;
		if ((rate = sampling_rate(&o)) > 0) {
			sampling_set(m->fd, m, rate);
			m->fd->stats.sampling_rates++;
		}
	}
	return 0;
}

static int
data_set_decode(struct rbuf *set, const struct flow_msg *m, uint16_t id)
{
	const struct flow_template	*t;
	struct flow_record		 r;
	uint32_t			 sampling;

	if ((t = template_find(m->fd, m, id)) == NULL) {
		m->fd->stats.unknown_sets++;
		return 0;
	}
	if (t->options)
		return options_data_decode(set, m, t);
	sampling = sampling_find(m->fd, m);
	while (rbuf_left(set) >= t->min_len && t->min_len > 0) {
		memset(&r, 0, sizeof(r));
		r.version = m->version;
		r.domain = m->domain;
		r.sampling = sampling;
		if (data_record_decode(set, t, field_keep_flow, &r) == -1)
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
			rc = options_template_set_decode(&set, m);
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
