/*
 * telemetry/: the IPFIX and NetFlow v9 decoder against datagrams
 * captured from softflowd (tests/fixtures/softflowd_*.hex, made by
 * capture_softflowd.sh; the expected values are what tshark's cflow
 * dissector reads from the same bytes), hostile messages, the packet
 * decoder on hand-built frames, and the two sockets for real: the UDP
 * collector on loopback and the packet sampler on a veth in a private
 * network namespace (root; those cases are skipped otherwise).
 */
#include <check.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "common/addr.h"
#include "common/byteorder.h"
#include "common/util.h"
#include "telemetry/telemetry.h"
#include "tests/unit/fixture.h"

#define MAX_DGRAM	FIXTURE_DGRAM_MAX
#define MAX_RECORDS	64

struct seen {
	struct flow_record	 r[MAX_RECORDS];
	size_t			 n;
};

static void
record_cb(void *arg, const struct flow_record *r)
{
	struct seen	*s = arg;

	if (s->n < MAX_RECORDS)
		s->r[s->n] = *r;
	s->n++;
}

static struct ipaddr
ip(const char *s)
{
	struct ipaddr	 a;

	ck_assert_int_eq(ipaddr_parse(s, &a), 0);
	return a;
}

/* The record from src to dst with the most packets (a neighbour
 * advertisement and the echo flow share addresses). */
static const struct flow_record *
find_flow(const struct seen *s, const char *src, const char *dst)
{
	struct ipaddr		 a = ip(src), b = ip(dst);
	const struct flow_record *best = NULL;

	for (size_t i = 0; i < s->n && i < MAX_RECORDS; i++)
		if (ipaddr_cmp(&s->r[i].src, &a) == 0 &&
		    ipaddr_cmp(&s->r[i].dst, &b) == 0 &&
		    (best == NULL || s->r[i].packets > best->packets))
			best = &s->r[i];
	return best;
}

static struct ipaddr exporter;

static void
decode_fixture(struct flow_decoder *fd, const char *name, int lines,
    struct seen *s)
{
	uint8_t		 d[MAX_DGRAM];
	size_t		 len;
	char		 err[128];

	for (int i = 0; i < lines; i++) {
		len = fixture_hex_line(name, i, d,
		    FIXTURE_DGRAM_MAX);
		ck_assert_msg(flow_decode(fd, &exporter, d, len, record_cb, s,
		    err, sizeof(err)) == 0, "%s line %d: %s", name, i, err);
	}
}

START_TEST(test_ipfix_softflowd)
{
	struct flow_decoder	*fd = flow_decoder_new();
	struct seen		 s = { .n = 0 };
	const struct flow_record *r;
	struct flow_stats	 st;

	decode_fixture(fd, "softflowd_ipfix.hex", 2, &s);
	/* tshark: 5 IPv6 records in the first datagram, 6 in the second */
	ck_assert_uint_eq(s.n, 11);
	ck_assert_ptr_nonnull(r = find_flow(&s, "10.10.0.1", "10.10.0.77"));
	ck_assert_uint_eq(r->version, 10);
	ck_assert_uint_eq(r->proto, 1);
	ck_assert_uint_eq(r->packets, 2000);
	ck_assert_uint_eq(r->octets, 168000);
	ck_assert_ptr_nonnull(r = find_flow(&s, "2001:db8::77",
	    "2001:db8::1"));
	ck_assert_uint_eq(r->proto, 58);
	ck_assert_uint_eq(r->packets, 1375);
	ck_assert_uint_eq(r->octets, 143000);
	flow_decoder_stats(fd, &st);
	ck_assert_uint_eq(st.messages, 2);
	ck_assert_uint_eq(st.records, 11);
	ck_assert_uint_eq(st.templates, 5);	/* 4 and 1 of options */
	ck_assert_uint_eq(st.malformed, 0);
	flow_decoder_free(fd);
}
END_TEST

START_TEST(test_nfv9_softflowd)
{
	struct flow_decoder	*fd = flow_decoder_new();
	struct seen		 s = { .n = 0 };
	const struct flow_record *r;

	decode_fixture(fd, "softflowd_nfv9.hex", 3, &s);
	ck_assert_ptr_nonnull(r = find_flow(&s, "10.10.0.77", "10.10.0.1"));
	ck_assert_uint_eq(r->version, 9);
	ck_assert_uint_eq(r->packets, 2000);
	ck_assert_uint_eq(r->octets, 168000);
	ck_assert_ptr_nonnull(find_flow(&s, "10.10.0.1", "10.10.0.77"));
	flow_decoder_free(fd);
}
END_TEST

/* Data before its template is skipped and counted (RFC 7011 §8). */
START_TEST(test_data_before_template)
{
	struct flow_decoder	*fd = flow_decoder_new();
	struct seen		 s = { .n = 0 };
	struct flow_stats	 st;
	uint8_t			 d[MAX_DGRAM];
	size_t			 len;
	char			 err[128];

	len = fixture_hex_line("softflowd_ipfix.hex", 1, d,
		    FIXTURE_DGRAM_MAX);
	ck_assert_int_eq(flow_decode(fd, &exporter, d, len, record_cb, &s,
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(s.n, 0);
	flow_decoder_stats(fd, &st);
	ck_assert_uint_gt(st.unknown_sets, 0);
	flow_decoder_free(fd);
}
END_TEST

/* A template learned from one exporter does not decode another's. */
START_TEST(test_templates_per_exporter)
{
	struct flow_decoder	*fd = flow_decoder_new();
	struct seen		 s = { .n = 0 };
	struct ipaddr		 other = ip("192.0.2.9");
	uint8_t			 d[MAX_DGRAM];
	size_t			 len;
	char			 err[128];

	len = fixture_hex_line("softflowd_ipfix.hex", 0, d,
		    FIXTURE_DGRAM_MAX);
	ck_assert_int_eq(flow_decode(fd, &exporter, d, len, record_cb, &s,
	    err, sizeof(err)), 0);
	s.n = 0;
	len = fixture_hex_line("softflowd_ipfix.hex", 1, d,
		    FIXTURE_DGRAM_MAX);
	ck_assert_int_eq(flow_decode(fd, &other, d, len, record_cb, &s,
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(s.n, 0);
	flow_decoder_free(fd);
}
END_TEST

/* An IPFIX header of total length len, domain 7. */
static void
ipfix_header(uint8_t *d, uint16_t len)
{
	memset(d, 0, 16);
	be16_store(d, 10);
	be16_store(d + 2, len);
	d[15] = 7;
}

START_TEST(test_hostile_lengths)
{
	struct flow_decoder	*fd = flow_decoder_new();
	struct seen		 s = { .n = 0 };
	uint8_t			 d[64];
	char			 err[128];

	/* header length beyond the datagram */
	ipfix_header(d, 60);
	ck_assert_int_eq(flow_decode(fd, &exporter, d, 16, record_cb, &s,
	    err, sizeof(err)), -1);
	/* set length beyond the message */
	ipfix_header(d, 24);
	be16_store(d + 16, 256);
	be16_store(d + 18, 200);
	ck_assert_int_eq(flow_decode(fd, &exporter, d, 24, record_cb, &s,
	    err, sizeof(err)), -1);
	/* set length below its own header */
	be16_store(d + 18, 2);
	ck_assert_int_eq(flow_decode(fd, &exporter, d, 24, record_cb, &s,
	    err, sizeof(err)), -1);
	/* template claiming more fields than the set holds */
	ipfix_header(d, 28);
	be16_store(d + 16, 2);
	be16_store(d + 18, 12);
	be16_store(d + 20, 300);
	be16_store(d + 22, 50);
	be16_store(d + 24, 8);
	be16_store(d + 26, 4);
	ck_assert_int_eq(flow_decode(fd, &exporter, d, 28, record_cb, &s,
	    err, sizeof(err)), -1);
	/* a version we do not speak */
	be16_store(d, 5);
	ck_assert_int_eq(flow_decode(fd, &exporter, d, 28, record_cb, &s,
	    err, sizeof(err)), -1);
	ck_assert_uint_eq(s.n, 0);
	flow_decoder_free(fd);
}
END_TEST

/* Variable-length fields (RFC 7011 §7) are skipped by their prefix. */
START_TEST(test_varlen_field)
{
	struct flow_decoder	*fd = flow_decoder_new();
	struct seen		 s = { .n = 0 };
	uint8_t			 d[64];
	char			 err[128];
	struct ipaddr		 src;
	size_t			 n;

	/* template 256: sourceIPv4Address (4), a varlen IE 82 */
	ipfix_header(d, 0);
	be16_store(d + 16, 2);
	be16_store(d + 18, 16);
	be16_store(d + 20, 256);
	be16_store(d + 22, 2);
	be16_store(d + 24, 8);
	be16_store(d + 26, 4);
	be16_store(d + 28, 82);
	be16_store(d + 30, 65535);
	/* data: 10.0.0.5, then "eth0" as a 1-byte-length string */
	be16_store(d + 32, 256);
	be16_store(d + 34, 13);
	memcpy(d + 36, "\x0a\x00\x00\x05\x04" "eth0", 9);
	n = 45;
	be16_store(d + 2, (uint16_t)n);
	ck_assert_int_eq(flow_decode(fd, &exporter, d, n, record_cb, &s,
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(s.n, 1);
	src = ip("10.0.0.5");
	ck_assert_int_eq(ipaddr_cmp(&s.r[0].src, &src), 0);
	ck_assert_uint_eq(s.r[0].dst.af, 0);
	/* a varlen length running past the set */
	d[36 + 4] = 200;
	ck_assert_int_eq(flow_decode(fd, &exporter, d, n, record_cb, &s,
	    err, sizeof(err)), -1);
	flow_decoder_free(fd);
}
END_TEST

/* A flood of template ids stays within the cache and evicts. */
START_TEST(test_template_flood)
{
	struct flow_decoder	*fd = flow_decoder_new();
	struct seen		 s = { .n = 0 };
	struct flow_stats	 st;
	uint8_t			 d[32];
	char			 err[128];

	for (int id = 256; id < 256 + FLOW_MAX_TEMPLATES + 10; id++) {
		ipfix_header(d, 28);
		be16_store(d + 16, 2);
		be16_store(d + 18, 12);
		be16_store(d + 20, (uint16_t)id);
		be16_store(d + 22, 1);
		be16_store(d + 24, 8);
		be16_store(d + 26, 4);
		ck_assert_int_eq(flow_decode(fd, &exporter, d, 28, record_cb,
		    &s, err, sizeof(err)), 0);
	}
	flow_decoder_stats(fd, &st);
	ck_assert_uint_eq(st.evicted, 10);
	flow_decoder_free(fd);
}
END_TEST

/* ---- exporter sampling in options data ---------------------------------- */

/* softflowd -s 10 announces its 1 in 10 in options data (IPFIX: PSAMP
 * packet interval 1, space 9; NetFlow v9: SAMPLING_INTERVAL 10); the
 * records that follow carry it. */
START_TEST(test_sampled_softflowd)
{
	const char		*names[] = { "softflowd_ipfix_sampled.hex",
				    "softflowd_nfv9_sampled.hex" };
	struct flow_decoder	*fd;
	struct seen		 s;
	const struct flow_record *r;
	struct flow_stats	 st;

	for (size_t i = 0; i < 2; i++) {
		fd = flow_decoder_new();
		s.n = 0;
		decode_fixture(fd, names[i], 2, &s);
		ck_assert_ptr_nonnull(r = find_flow(&s, "10.10.0.1",
		    "10.10.0.77"));
		ck_assert_uint_eq(r->sampling, 10);
		ck_assert_uint_gt(r->packets, 0);
		ck_assert_uint_lt(r->packets, 2000);
		flow_decoder_stats(fd, &st);
		ck_assert_uint_eq(st.options_records, 1);
		ck_assert_uint_eq(st.sampling_rates, 1);
		ck_assert_uint_eq(st.malformed, 0);
		flow_decoder_free(fd);
	}
}
END_TEST

/* Unsampled, softflowd says so too (packet interval 1, space 0, in the
 * first datagram before its records): every record carries 1. */
START_TEST(test_unsampled_softflowd)
{
	struct flow_decoder	*fd = flow_decoder_new();
	struct seen		 s = { .n = 0 };

	decode_fixture(fd, "softflowd_ipfix.hex", 2, &s);
	ck_assert_uint_eq(s.n, 11);
	for (size_t i = 0; i < s.n && i < MAX_RECORDS; i++)
		ck_assert_uint_eq(s.r[i].sampling, 1);
	flow_decoder_free(fd);
}
END_TEST

/* A message built field by field, big-endian. */
struct msg {
	uint8_t		 d[512];
	size_t		 n;
	size_t		 set;		/* where the open set starts */
};

static void
put16(struct msg *m, uint16_t v)
{
	be16_store(m->d + m->n, v);
	m->n += 2;
}

static void
put32(struct msg *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

static void
put_bytes(struct msg *m, const void *p, size_t len)
{
	memcpy(m->d + m->n, p, len);
	m->n += len;
}

/* version 9 or 10, domain 7 (NetFlow v9's count left 0: unused). */
static void
msg_start(struct msg *m, uint16_t version)
{
	memset(m, 0, sizeof(*m));
	put16(m, version);
	put16(m, 0);
	m->n = version == 10 ? 16 : 20;
	be32_store(m->d + m->n - 4, 7);
}

static size_t
msg_end(struct msg *m)
{
	if (be16_load(m->d) == 10)
		be16_store(m->d + 2, (uint16_t)m->n);
	return m->n;
}

static void
set_open(struct msg *m, uint16_t id)
{
	m->set = m->n;
	put16(m, id);
	put16(m, 0);
}

static void
set_close(struct msg *m)
{
	be16_store(m->d + m->set + 2, (uint16_t)(m->n - m->set));
}

/*
 * IPFIX: options template 300 (scope observationDomainId, then the
 * sampling element ie of len bytes), its data (value), a template 256
 * of (sourceIPv4Address, packetDeltaCount) and one record of 7 packets.
 */
static size_t
ipfix_with_options(struct msg *m, uint16_t ie, uint16_t len,
    const uint8_t *value)
{
	msg_start(m, 10);
	set_open(m, 3);				/* RFC 7011 §3.4.2.2 */
	put16(m, 300);
	put16(m, 2);				/* field count */
	put16(m, 1);				/* scope field count */
	put16(m, 149);
	put16(m, 4);
	put16(m, ie);
	put16(m, len);
	set_close(m);
	set_open(m, 300);
	put32(m, 7);
	put_bytes(m, value, len);
	set_close(m);
	set_open(m, 2);
	put16(m, 256);
	put16(m, 2);
	put16(m, 8);
	put16(m, 4);
	put16(m, 2);
	put16(m, 4);
	set_close(m);
	set_open(m, 256);
	put_bytes(m, "\x0a\x00\x00\x05", 4);
	put32(m, 7);
	set_close(m);
	return msg_end(m);
}

/* Each sampling element, and values that say nothing usable. */
START_TEST(test_options_sampling_elements)
{
	const struct {
		uint16_t	 ie, len;
		const char	*value;
		uint32_t	 want;
	} c[] = {
		{ 34, 4, "\x00\x00\x00\x64", 100 },	/* samplingInterval */
		{ 34, 2, "\x00\x20", 32 },		/* reduced size */
		{ 50, 4, "\x00\x00\x04\x00", 1024 },	/* random interval */
		{ 309, 4, "\x00\x00\x00\x00", 0 },	/* size 0, no pop. */
		/* samplingProbability 0.25 as float64, then float32 */
		{ 311, 8, "\x3f\xd0\x00\x00\x00\x00\x00\x00", 4 },
		{ 311, 4, "\x3e\x80\x00\x00", 4 },
		{ 311, 8, "\x7f\xf8\x00\x00\x00\x00\x00\x00", 0 },	/* NaN */
		{ 34, 4, "\x00\x00\x00\x00", 0 },
		{ 34, 4, "\x00\x00\x00\x01", 1 },
		{ 34, 4, "\x00\x0f\x42\x41", 0 },	/* 1000001: too big */
		{ 82, 4, "eth0", 0 },			/* not sampling */
	};
	struct flow_decoder	*fd;
	struct seen		 s;
	struct msg		 m;
	size_t			 len;
	char			 err[128];

	for (size_t i = 0; i < nitems(c); i++) {
		fd = flow_decoder_new();
		s.n = 0;
		len = ipfix_with_options(&m, c[i].ie, c[i].len,
		    (const uint8_t *)c[i].value);
		ck_assert_msg(flow_decode(fd, &exporter, m.d, len, record_cb,
		    &s, err, sizeof(err)) == 0, "case %zu: %s", i, err);
		ck_assert_uint_eq(s.n, 1);
		ck_assert_uint_eq(s.r[0].packets, 7);
		ck_assert_msg(s.r[0].sampling == c[i].want, "case %zu: %u", i,
		    s.r[0].sampling);
		flow_decoder_free(fd);
	}
}
END_TEST

/* PSAMP count-based (interval 2, space 6: 2 in 8) and n-out-of-N
 * (size 3, population 300) need both fields of a pair. */
START_TEST(test_options_sampling_pairs)
{
	struct flow_decoder	*fd = flow_decoder_new();
	struct seen		 s = { .n = 0 };
	struct msg		 m;
	char			 err[128];

	msg_start(&m, 10);
	set_open(&m, 3);
	put16(&m, 300);
	put16(&m, 3);
	put16(&m, 1);
	put16(&m, 149); put16(&m, 4);
	put16(&m, 305); put16(&m, 4);
	put16(&m, 306); put16(&m, 4);
	set_close(&m);
	set_open(&m, 300);
	put32(&m, 7);
	put32(&m, 2);
	put32(&m, 6);
	set_close(&m);
	set_open(&m, 2);
	put16(&m, 256); put16(&m, 1);
	put16(&m, 8); put16(&m, 4);
	set_close(&m);
	set_open(&m, 256);
	put_bytes(&m, "\x0a\x00\x00\x05", 4);
	set_close(&m);
	ck_assert_int_eq(flow_decode(fd, &exporter, m.d, msg_end(&m),
	    record_cb, &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(s.r[0].sampling, 4);
	/* the same template ids, now size 3 of population 300 */
	be16_store(m.d + 16 + 4 + 10, 309);
	be16_store(m.d + 16 + 4 + 14, 310);
	be32_store(m.d + 16 + 22 + 8, 3);
	be32_store(m.d + 16 + 22 + 12, 300);
	s.n = 0;
	ck_assert_int_eq(flow_decode(fd, &exporter, m.d, m.n, record_cb, &s,
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(s.r[0].sampling, 100);
	flow_decoder_free(fd);
}
END_TEST

/* The rate holds for its exporter and domain only, and an options
 * template withdrawn (RFC 7011 §8.1) decodes no more options data. */
START_TEST(test_options_sampling_scope)
{
	struct flow_decoder	*fd = flow_decoder_new();
	struct seen		 s = { .n = 0 };
	struct ipaddr		 other = ip("192.0.2.9");
	struct flow_stats	 st;
	struct msg		 m, w;
	size_t			 len;
	char			 err[128];

	len = ipfix_with_options(&m, 34, 4,
	    (const uint8_t *)"\x00\x00\x00\x64");
	ck_assert_int_eq(flow_decode(fd, &exporter, m.d, len, record_cb, &s,
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(s.r[0].sampling, 100);
	/* the other exporter's data template, no options from it */
	msg_start(&w, 10);
	memcpy(w.d + 16, m.d + 16 + 18 + 12, len - 16 - 18 - 12);
	w.n = len - 18 - 12;
	msg_end(&w);
	s.n = 0;
	ck_assert_int_eq(flow_decode(fd, &other, w.d, w.n, record_cb, &s,
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(s.r[0].sampling, 0);
	/* another domain of the same exporter */
	w.d[15] = 8;
	s.n = 0;
	ck_assert_int_eq(flow_decode(fd, &exporter, w.d, w.n, record_cb, &s,
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(s.r[0].sampling, 0);
	/* withdraw options template 300, then its data is unknown */
	msg_start(&w, 10);
	set_open(&w, 3);
	put16(&w, 300);
	put16(&w, 0);
	set_close(&w);
	memcpy(w.d + w.n, m.d + 16 + 18, 12);	/* the options data set */
	w.n += 12;
	ck_assert_int_eq(flow_decode(fd, &exporter, w.d, msg_end(&w),
	    record_cb, &s, err, sizeof(err)), 0);
	flow_decoder_stats(fd, &st);
	ck_assert_uint_eq(st.options_records, 1);
	ck_assert_uint_eq(st.unknown_sets, 1);
	flow_decoder_free(fd);
}
END_TEST

/* One message of id sets: each a lone withdrawal record (id, 0), or,
 * for a data id, the one record ipfix_with_options' templates read. */
static size_t
ipfix_sets(struct msg *m, const uint16_t *ids, size_t n)
{
	msg_start(m, 10);
	for (size_t i = 0; i < n; i++) {
		set_open(m, ids[i] >= 256 ? ids[i] : ids[i] >> 4);
		if (ids[i] == 256) {
			put_bytes(m, "\x0a\x00\x00\x05", 4);
			put32(m, 7);
		} else if (ids[i] == 300) {
			put32(m, 7);
			put_bytes(m, "\x00\x00\x00\x64", 4);
		} else {		/* (set << 4) | record id */
			put16(m, ids[i] & 0xf);
			put16(m, 0);
		}
		set_close(m);
	}
	return msg_end(m);
}

/* "Withdraw all" of one kind (template id = set id, RFC 7011 §8.1)
 * forgets that kind only; a withdrawal of another reserved id is
 * malformed. */
START_TEST(test_withdraw_all)
{
	struct flow_decoder	*fd = flow_decoder_new();
	struct seen		 s = { .n = 0 };
	struct flow_stats	 st;
	struct msg		 m;
	char			 err[128];
	const uint16_t		 data[] = { 300, 256 };
	const uint16_t		 all_data[] = { 0x22 }, all_opts[] = { 0x33 };
	const uint16_t		 bad[] = { 0x25 };

	ck_assert_int_eq(flow_decode(fd, &exporter, m.d,
	    ipfix_with_options(&m, 34, 4, (const uint8_t *)"\x00\x00\x00\x64"),
	    record_cb, &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_int_eq(flow_decode(fd, &exporter, m.d, ipfix_sets(&m,
	    all_data, 1), record_cb, &s, err, sizeof(err)), 0);
	s.n = 0;
	ck_assert_int_eq(flow_decode(fd, &exporter, m.d, ipfix_sets(&m, data,
	    2), record_cb, &s, err, sizeof(err)), 0);
	flow_decoder_stats(fd, &st);
	ck_assert_uint_eq(s.n, 0);			/* 256 is gone */
	ck_assert_uint_eq(st.options_records, 2);	/* 300 is not */
	ck_assert_int_eq(flow_decode(fd, &exporter, m.d, ipfix_sets(&m,
	    all_opts, 1), record_cb, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(flow_decode(fd, &exporter, m.d, ipfix_sets(&m, data,
	    2), record_cb, &s, err, sizeof(err)), 0);
	flow_decoder_stats(fd, &st);
	ck_assert_uint_eq(st.options_records, 2);
	ck_assert_uint_eq(st.unknown_sets, 3);	/* 256, then both */
	ck_assert_int_eq(flow_decode(fd, &exporter, m.d, ipfix_sets(&m, bad,
	    1), record_cb, &s, err, sizeof(err)), -1);
	flow_decoder_free(fd);
}
END_TEST

/* Options templates that lie are refused, in both versions. */
START_TEST(test_options_hostile)
{
	struct flow_decoder	*fd = flow_decoder_new();
	struct seen		 s = { .n = 0 };
	struct msg		 m;
	char			 err[128];
	const uint16_t		 ipfix_bad[][5] = {
		{ 300, 2, 0, 149, 4 },		/* scope count 0 */
		{ 300, 1, 2, 149, 4 },		/* scope count > fields */
		{ 300, 2, 1, 149, 4 },		/* 2 fields, 1 there */
		{ 200, 1, 1, 149, 4 },		/* a set id, not a template */
		{ 300, 1, 1, 149, 0 },		/* a field of length 0 */
	};
	const uint16_t		 nf9_bad[][3] = {
		{ 300, 3, 4 },			/* scope length not 4k */
		{ 300, 4, 6 },			/* option length not 4k */
		{ 300, 0, 0 },			/* no field at all */
		{ 300, 4, 8 },			/* more than the set holds */
	};

	for (size_t i = 0; i < nitems(ipfix_bad); i++) {
		msg_start(&m, 10);
		set_open(&m, 3);
		for (size_t k = 0; k < 5; k++)
			put16(&m, ipfix_bad[i][k]);
		set_close(&m);
		ck_assert_msg(flow_decode(fd, &exporter, m.d, msg_end(&m),
		    record_cb, &s, err, sizeof(err)) == -1, "IPFIX case %zu",
		    i);
	}
	for (size_t i = 0; i < nitems(nf9_bad); i++) {
		msg_start(&m, 9);
		set_open(&m, 1);			/* RFC 3954 §6.1 */
		for (size_t k = 0; k < 3; k++)
			put16(&m, nf9_bad[i][k]);
		put16(&m, 2);				/* interface scope */
		put16(&m, 4);
		put16(&m, 34);
		put16(&m, 4);
		set_close(&m);
		ck_assert_msg(flow_decode(fd, &exporter, m.d, msg_end(&m),
		    record_cb, &s, err, sizeof(err)) == -1, "v9 case %zu", i);
	}
	flow_decoder_free(fd);
}
END_TEST

/* NetFlow v9 scope fields carry scope types: a scope of type 34 is no
 * SAMPLING_INTERVAL. */
START_TEST(test_nf9_scope_not_element)
{
	struct flow_decoder	*fd = flow_decoder_new();
	struct seen		 s = { .n = 0 };
	struct flow_stats	 st;
	struct msg		 m;
	char			 err[128];

	msg_start(&m, 9);
	set_open(&m, 1);
	put16(&m, 300);
	put16(&m, 4);				/* scope: one field */
	put16(&m, 4);				/* options: one field */
	put16(&m, 34); put16(&m, 4);		/* scope "34" */
	put16(&m, 35); put16(&m, 4);		/* SAMPLING_ALGORITHM */
	set_close(&m);
	set_open(&m, 300);
	put32(&m, 50);
	put32(&m, 1);
	set_close(&m);
	ck_assert_int_eq(flow_decode(fd, &exporter, m.d, msg_end(&m),
	    record_cb, &s, err, sizeof(err)), 0);
	flow_decoder_stats(fd, &st);
	ck_assert_uint_eq(st.options_records, 1);
	ck_assert_uint_eq(st.sampling_rates, 0);
	flow_decoder_free(fd);
}
END_TEST

/* ---- packets ------------------------------------------------------------ */

static size_t
frame_arp_request(uint8_t *f, const char *sender, const char *target)
{
	struct in_addr	 a;

	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	be16_store(f + 12, ETH_P_ARP);
	be16_store(f + 14, 1);
	be16_store(f + 16, ETH_P_IP);
	f[18] = 6;
	f[19] = 4;
	be16_store(f + 20, 1);
	memcpy(f + 22, f + 6, 6);
	inet_pton(AF_INET, sender, &a);
	memcpy(f + 28, &a, 4);
	inet_pton(AF_INET, target, &a);
	memcpy(f + 38, &a, 4);
	return 60;
}

START_TEST(test_pkt_arp)
{
	struct pkt_sample	 s;
	uint8_t			 f[64];
	struct ipaddr		 t = ip("10.10.0.50"), snd = ip("10.10.0.9");

	ck_assert_int_eq(pkt_decode(f, frame_arp_request(f, "10.10.0.9",
	    "10.10.0.50"), &s), 0);
	ck_assert_int_eq(s.kind, PKT_ARP_REQUEST);
	ck_assert_int_eq(ipaddr_cmp(&s.dst, &t), 0);
	ck_assert_int_eq(ipaddr_cmp(&s.src, &snd), 0);
	ck_assert_uint_eq(s.src_mac.b[5], 1);
	/* cut in the middle of the target address */
	ck_assert_int_eq(pkt_decode(f, 40, &s), -1);
	/* a reply is no request */
	be16_store(f + 20, 2);
	ck_assert_int_eq(pkt_decode(f, 60, &s), 0);
	ck_assert_int_eq(s.kind, PKT_OTHER);
}
END_TEST

START_TEST(test_pkt_nd_and_ip)
{
	struct pkt_sample	 s;
	uint8_t			 f[128] = { 0 };
	struct ipaddr		 t = ip("2001:db8::50");

	/* a VLAN-tagged IPv6 neighbour solicitation */
	be16_store(f + 12, 0x8100);
	be16_store(f + 14, 0x0064);
	be16_store(f + 16, ETH_P_IPV6);
	f[18] = 0x60;
	f[18 + 6] = 58;
	f[18 + 40] = 135;
	memcpy(f + 18 + 48, t.u.b, 16);
	ck_assert_int_eq(pkt_decode(f, 18 + 64, &s), 0);
	ck_assert_int_eq(s.kind, PKT_ND_SOLICIT);
	ck_assert_uint_eq(s.vlan, 100);
	ck_assert_int_eq(ipaddr_cmp(&s.dst, &t), 0);
	ck_assert_int_eq(pkt_decode(f, 18 + 50, &s), -1);
	/* plain IPv4 */
	memset(f, 0, sizeof(f));
	be16_store(f + 12, ETH_P_IP);
	f[14] = 0x45;
	memcpy(f + 14 + 12, "\x0a\x0a\x00\x01\x0a\x0a\x00\x4d", 8);
	ck_assert_int_eq(pkt_decode(f, 34, &s), 0);
	ck_assert_int_eq(s.kind, PKT_IPV4);
	t = ip("10.10.0.77");
	ck_assert_int_eq(ipaddr_cmp(&s.dst, &t), 0);
	ck_assert_int_eq(pkt_decode(f, 20, &s), -1);
}
END_TEST

/* ---- sockets ------------------------------------------------------------ */

START_TEST(test_collector_udp)
{
	struct event_base	*base = event_base_new();
	struct flow_collector	*c;
	struct seen		 s = { .n = 0 };
	struct ipaddr		 lo = ip("127.0.0.1");
	struct sockaddr_storage	 ss;
	uint8_t			 d[MAX_DGRAM];
	size_t			 len;
	char			 err[128];
	int			 sock;

	c = flow_collector_new(base, &lo, 0, record_cb, &s, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	sock = socket(AF_INET, SOCK_DGRAM, 0);
	socklen_t sl = (socklen_t)ipaddr_to_sockaddr(&lo,
	    flow_collector_port(c), &ss);
	for (int i = 0; i < 2; i++) {
		len = fixture_hex_line("softflowd_ipfix.hex", i, d,
		    FIXTURE_DGRAM_MAX);
		ck_assert_int_eq(sendto(sock, d, len, 0,
		    (struct sockaddr *)&ss, sl), (ssize_t)len);
	}
	for (int i = 0; i < 50 && s.n < 11; i++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(10000);
	}
	ck_assert_uint_eq(s.n, 11);
	close(sock);
	flow_collector_free(c);
	event_base_free(base);
}
END_TEST

/* Sources outside the allowed prefixes are dropped before decoding and
 * counted; an allowed one is decoded. */
START_TEST(test_collector_allow)
{
	struct event_base	*base = event_base_new();
	struct flow_collector	*c;
	struct seen		 s = { .n = 0 };
	struct ipaddr		 lo = ip("127.0.0.1");
	struct prefix		 allow[2];
	struct flow_stats	 st;
	struct sockaddr_storage	 ss;
	uint8_t			 d[MAX_DGRAM];
	size_t			 len;
	char			 err[128];
	int			 sock;

	ck_assert_int_eq(prefix_parse("192.0.2.0/24", &allow[0], false), 0);
	ck_assert_int_eq(prefix_parse("127.0.0.0/8", &allow[1], false), 0);
	c = flow_collector_new(base, &lo, 0, record_cb, &s, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	flow_collector_allow(c, allow, 1);
	sock = socket(AF_INET, SOCK_DGRAM, 0);
	socklen_t sl = (socklen_t)ipaddr_to_sockaddr(&lo,
	    flow_collector_port(c), &ss);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 2; i++) {
			len = fixture_hex_line("softflowd_ipfix.hex", i, d,
			    FIXTURE_DGRAM_MAX);
			ck_assert_int_eq(sendto(sock, d, len, 0,
			    (struct sockaddr *)&ss, sl), (ssize_t)len);
		}
		for (int i = 0; i < 50; i++) {
			event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
			flow_collector_stats(c, &st);
			if (st.refused + st.messages == 2u * (round + 1))
				break;
			usleep(10000);
		}
		flow_collector_stats(c, &st);
		if (round == 0) {
			ck_assert_uint_eq(st.refused, 2);
			ck_assert_uint_eq(st.messages, 0);
			ck_assert_uint_eq(st.templates, 0);
			ck_assert_uint_eq(s.n, 0);
			flow_collector_allow(c, allow, 2);
		}
	}
	ck_assert_uint_eq(st.refused, 2);
	ck_assert_uint_eq(st.messages, 2);
	ck_assert_uint_eq(s.n, 11);
	close(sock);
	flow_collector_free(c);
	event_base_free(base);
}
END_TEST

struct samples {
	size_t	 arp, other;
};

static void
sample_cb(void *arg, const char *ifname, const struct pkt_sample *p)
{
	struct samples	*s = arg;

	if (p->kind == PKT_ARP_REQUEST)
		s->arp++;
	else
		s->other++;
}

static void
send_frames(const char *ifname, const uint8_t *f, size_t len, int count)
{
	struct sockaddr_ll	 sll = { .sll_family = AF_PACKET };
	int			 sock = socket(AF_PACKET, SOCK_RAW, 0);

	ck_assert_int_ge(sock, 0);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	sll.sll_halen = 6;
	for (int i = 0; i < count; i++)
		ck_assert_int_eq(sendto(sock, f, len, 0,
		    (struct sockaddr *)&sll, sizeof(sll)), (ssize_t)len);
	close(sock);
}

/* Every ARP request crosses; 1 in rate of the rest, in the kernel. */
START_TEST(test_sampler_veth)
{
	struct event_base	*base;
	struct pkt_sampler	*sp;
	struct samples		 s = { 0, 0 };
	uint8_t			 arp[64], other[64] = { 0 };
	char			 err[128];

	if (geteuid() != 0)
		return;
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	ck_assert_int_eq(system("ip link add tva type veth peer name tvb && "
	    "ip link set tva up && ip link set tvb up"), 0);
	base = event_base_new();
	sp = pkt_sampler_new(base, "tvb", 10, sample_cb, &s, err, sizeof(err));
	ck_assert_msg(sp != NULL, "%s", err);
	frame_arp_request(arp, "10.10.0.9", "10.10.0.50");
	send_frames("tva", arp, 60, 20);
	be16_store(other + 12, 0x88b5);	/* local experimental ethertype */
	send_frames("tva", other, 60, 2000);
	for (int i = 0; i < 100; i++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(5000);
	}
	ck_assert_uint_eq(s.arp, 20);
	/* 2000 frames at 1 in 10: 200 expected; far outside is a bug */
	ck_assert_msg(s.other > 100 && s.other < 320, "sampled %zu",
	    s.other);
	ck_assert_uint_eq(pkt_sampler_count(sp), s.arp + s.other);
	pkt_sampler_free(sp);
	event_base_free(base);
}
END_TEST

static Suite *
telemetry_suite(void)
{
	Suite	*s = suite_create("telemetry");
	TCase	*tc = tcase_create("flow");

	tcase_add_test(tc, test_ipfix_softflowd);
	tcase_add_test(tc, test_nfv9_softflowd);
	tcase_add_test(tc, test_data_before_template);
	tcase_add_test(tc, test_templates_per_exporter);
	tcase_add_test(tc, test_hostile_lengths);
	tcase_add_test(tc, test_varlen_field);
	tcase_add_test(tc, test_template_flood);
	tcase_add_test(tc, test_sampled_softflowd);
	tcase_add_test(tc, test_unsampled_softflowd);
	tcase_add_test(tc, test_options_sampling_elements);
	tcase_add_test(tc, test_options_sampling_pairs);
	tcase_add_test(tc, test_options_sampling_scope);
	tcase_add_test(tc, test_withdraw_all);
	tcase_add_test(tc, test_options_hostile);
	tcase_add_test(tc, test_nf9_scope_not_element);
	suite_add_tcase(s, tc);
	tc = tcase_create("packets");
	tcase_add_test(tc, test_pkt_arp);
	tcase_add_test(tc, test_pkt_nd_and_ip);
	suite_add_tcase(s, tc);
	tc = tcase_create("sockets");
	tcase_add_test(tc, test_collector_udp);
	tcase_add_test(tc, test_collector_allow);
	tcase_add_test(tc, test_sampler_veth);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(telemetry_suite());
	int	 failed;

	ipaddr_parse("127.0.0.1", &exporter);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
