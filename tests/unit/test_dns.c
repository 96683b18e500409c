/*
 * dns/: names and reverse zones; UPDATE messages read back with libldns
 * (sections, classes, TTLs, the TSIG over them); answers judged as RFC
 * 8945 asks (a signed answer counts, an unsigned or mis-signed one does
 * not whatever its RCODE, a refusal says why, a key rejection is told
 * apart, a stranger's packet is ignored); and
 * the client on a real event loop against a stand-in server on a UDP
 * socket (the process boundary): an update retried with backoff while
 * the server is silent and confirmed once it answers, a refusal
 * reported, a removal sending deletions and freeing the name.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "common/addr.h"
#include "dns/dns.h"

#define KEY	"evpnd-key"
#define SECRET	"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ=="

static struct dns_zone_conf zc = {
	.zone = "train.example.net", .tsig_alg = "hmac-sha256",
	.tsig_name = KEY, .tsig_secret = SECRET, .ttl = 60,
};

START_TEST(test_names)
{
	struct prefix p;
	struct ipaddr ip;
	char buf[128];

	ck_assert_int_eq(prefix_parse("10.10.0.0/24", &p, false), 0);
	ck_assert_int_eq(dns_reverse_zone(&p, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "0.10.10.in-addr.arpa");
	ck_assert_int_eq(prefix_parse("10.16.0.0/12", &p, false), 0);
	ck_assert_int_eq(dns_reverse_zone(&p, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "10.in-addr.arpa");
	ck_assert_int_eq(prefix_parse("2001:db8:100::/64", &p, false), 0);
	ck_assert_int_eq(dns_reverse_zone(&p, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "0.0.0.0.0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa");
	ck_assert_int_eq(prefix_parse("0.0.0.0/7", &p, true), 0);
	ck_assert_int_eq(dns_reverse_zone(&p, buf, sizeof(buf)), -1);
	ck_assert_int_eq(ipaddr_parse("10.10.0.5", &ip), 0);
	dns_reverse_name(&ip, buf, sizeof(buf));
	ck_assert_str_eq(buf, "5.0.10.10.in-addr.arpa");
	ck_assert_int_eq(ipaddr_parse("2001:db8::1", &ip), 0);
	dns_reverse_name(&ip, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "8.b.d.0.1.0.0.2.ip6.arpa");
	ck_assert(dns_name_valid("worker-3.train.example.net"));
	ck_assert(!dns_name_valid("worker 3.example.net"));
	ck_assert(!dns_name_valid("a..b"));
	ck_assert(!dns_name_valid("a.b."));
	ck_assert(!dns_name_valid(""));
	memset(buf, 'a', 64);
	buf[64] = '\0';
	ck_assert(!dns_name_valid(buf));
	ck_assert(dns_name_in_zone("w.Train.example.net", "train.example.net"));
	ck_assert(dns_name_in_zone("train.example.net", "train.example.net"));
	ck_assert(!dns_name_in_zone("xtrain.example.net", "train.example.net"));
	ck_assert(!dns_name_in_zone("example.net", "train.example.net"));
}
END_TEST

/* Build, then read back with ldns. */
static ldns_pkt *
built(const struct dns_update_spec *s, uint16_t id, struct dns_update **u,
    uint8_t **wire, size_t *len)
{
	ldns_pkt *p;
	char why[256];

	ck_assert_msg(dns_update_build(s, &zc, id, u, wire, len, why,
	    sizeof(why)) == 0, "%s", why);
	ck_assert_int_eq(ldns_wire2pkt(&p, *wire, *len), LDNS_STATUS_OK);
	return p;
}

/* The update section as text, one record a line. */
static char *
update_text(const ldns_pkt *p)
{
	return ldns_rr_list2str(ldns_pkt_authority(p));
}

START_TEST(test_update_messages)
{
	struct dns_update_spec s = { .zone = "train.example.net",
	    .owner = "w3.train.example.net", .add = true, .ttl = 60 };
	struct dns_update *u;
	uint8_t *wire;
	size_t len;
	ldns_pkt *p;
	char *text, key[32];

	ck_assert_int_eq(ipaddr_parse("10.10.0.5", &s.v4), 0);
	ck_assert_int_eq(ipaddr_parse("2001:db8::5", &s.v6), 0);
	p = built(&s, 4711, &u, &wire, &len);
	ck_assert_int_eq(ldns_pkt_get_opcode(p), LDNS_PACKET_UPDATE);
	ck_assert_int_eq(ldns_pkt_id(p), 4711);
	ck_assert(!ldns_pkt_qr(p) && !ldns_pkt_rd(p));
	text = ldns_rr_list2str(ldns_pkt_question(p));
	ck_assert_str_eq(text, "train.example.net.\tIN\tSOA\n");
	free(text);
	text = update_text(p);
	ck_assert_str_eq(text,
	    "w3.train.example.net.\t0\tANY\tA\t\\# 0\n"
	    "w3.train.example.net.\t60\tIN\tA\t10.10.0.5\n"
	    "w3.train.example.net.\t0\tANY\tAAAA\t\\# 0\n"
	    "w3.train.example.net.\t60\tIN\tAAAA\t2001:db8::5\n");
	free(text);
	ck_assert_ptr_nonnull(ldns_pkt_tsig(p));
	snprintf(key, sizeof(key), "%s.", KEY);
	ck_assert(ldns_pkt_tsig_verify(p, wire, len, key, SECRET, NULL));
	ck_assert(!ldns_pkt_tsig_verify(p, wire, len, key, "b3RoZXI=",
	    NULL));
	ldns_pkt_free(p);
	free(wire);
	dns_update_free(u);

	/* A removal deletes only its own records. */
	s.add = false;
	memset(&s.v6, 0, sizeof(s.v6));
	p = built(&s, 1, &u, &wire, &len);
	text = update_text(p);
	ck_assert_str_eq(text,
	    "w3.train.example.net.\t0\tNONE\tA\t10.10.0.5\n");
	free(text);
	ldns_pkt_free(p);
	free(wire);
	dns_update_free(u);

	/* PTR, in the reverse zone. */
	s = (struct dns_update_spec){ .zone = "0.10.10.in-addr.arpa",
	    .ptr = true, .target = "w3.train.example.net", .add = true,
	    .ttl = 60 };
	ck_assert_int_eq(ipaddr_parse("10.10.0.5", &s.v4), 0);
	p = built(&s, 2, &u, &wire, &len);
	text = update_text(p);
	ck_assert_str_eq(text,
	    "5.0.10.10.in-addr.arpa.\t0\tANY\tPTR\t\\# 0\n"
	    "5.0.10.10.in-addr.arpa.\t60\tIN\tPTR\tw3.train.example.net.\n");
	free(text);
	ldns_pkt_free(p);
	free(wire);
	dns_update_free(u);
}
END_TEST

/* An answer to the request in wire, as a server would make it: signed
 * with secret, or (NULL) unsigned, and then with a TSIG only for a
 * tsig_error, its MAC empty (RFC 8945 §5.3.2). */
static size_t
answer(const uint8_t *req, size_t reqlen, uint16_t id, ldns_pkt_rcode rc,
    const char *secret, int tsig_error, uint8_t *out, size_t outlen)
{
	ldns_pkt *q, *a = ldns_pkt_new();
	ldns_rdf *mac;
	uint8_t *w;
	size_t len;

	ck_assert_int_eq(ldns_wire2pkt(&q, req, reqlen), LDNS_STATUS_OK);
	ldns_pkt_set_id(a, id);
	ldns_pkt_set_qr(a, true);
	ldns_pkt_set_opcode(a, LDNS_PACKET_UPDATE);
	ldns_pkt_set_rcode(a, (uint8_t)rc);
	mac = ldns_rr_rdf(ldns_pkt_tsig(q), 3);
	if (secret != NULL || tsig_error != 0)
		ck_assert_int_eq(ldns_pkt_tsig_sign(a, KEY ".", secret != NULL ?
		    secret : SECRET, 300, "hmac-sha256.", mac), LDNS_STATUS_OK);
	if (secret == NULL && tsig_error != 0)
		ldns_rdf_deep_free(ldns_rr_set_rdf(ldns_pkt_tsig(a),
		    ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, 2, "\0\0"),
		    3));
	if (tsig_error != 0)
		ldns_rdf_deep_free(ldns_rr_set_rdf(ldns_pkt_tsig(a),
		    ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16,
		    (uint16_t)tsig_error), 5));
	ck_assert_int_eq(ldns_pkt2wire(&w, a, &len), LDNS_STATUS_OK);
	ck_assert_uint_le(len, outlen);
	memcpy(out, w, len);
	free(w);
	ldns_pkt_free(a);
	ldns_pkt_free(q);
	return len;
}

/* Answers a server (or anyone) could send, and what they are. */
static const struct {
	uint16_t	 id;
	ldns_pkt_rcode	 rcode;
	const char	*secret;	/* NULL: unsigned */
	int		 tsig_error;
	enum dns_answer	 is;
	const char	*why;
} answers[] = {
	{ 77, LDNS_RCODE_NOERROR, SECRET, 0, DNS_ANSWER_DONE, "NOERROR" },
	/* Someone else's ID: not the answer. */
	{ 78, LDNS_RCODE_NOERROR, SECRET, 0, DNS_ANSWER_OTHER, NULL },
	/* A success nobody can vouch for does not count. */
	{ 77, LDNS_RCODE_NOERROR, NULL, 0, DNS_ANSWER_UNVERIFIED,
	  "a NOERROR answer without TSIG" },
	{ 77, LDNS_RCODE_NOERROR, "b3RoZXI=", 0, DNS_ANSWER_UNVERIFIED,
	  "a NOERROR answer whose TSIG does not verify" },
	/* Nor does a refusal (RFC 8945 §5.3). */
	{ 77, LDNS_RCODE_REFUSED, NULL, 0, DNS_ANSWER_UNVERIFIED,
	  "a REFUSED answer without TSIG" },
	{ 77, LDNS_RCODE_REFUSED, "b3RoZXI=", 0, DNS_ANSWER_UNVERIFIED,
	  "a REFUSED answer whose TSIG does not verify" },
	{ 77, LDNS_RCODE_NOTAUTH, NULL, 0, DNS_ANSWER_UNVERIFIED,
	  "a NOTAUTH answer without TSIG" },
	/* Signed with our key, it is a refusal and says why. */
	{ 77, LDNS_RCODE_REFUSED, SECRET, 0, DNS_ANSWER_REFUSED, "REFUSED" },
	/* A server rejecting our key cannot sign: told apart. */
	{ 77, LDNS_RCODE_NOTAUTH, NULL, 16, DNS_ANSWER_KEY_REJECTED,
	  "NOTAUTH (TSIG BADSIG)" },
	{ 77, LDNS_RCODE_NOTAUTH, "b3RoZXI=", 17, DNS_ANSWER_KEY_REJECTED,
	  "NOTAUTH (TSIG BADKEY)" },
};

START_TEST(test_answers)
{
	struct dns_update_spec s = { .zone = "train.example.net",
	    .owner = "w.train.example.net", .add = true, .ttl = 60 };
	struct dns_update *u;
	uint8_t *wire, ans[1024];
	char why[256];
	size_t len, n;

	ck_assert_int_eq(ipaddr_parse("10.10.0.5", &s.v4), 0);
	ck_assert_int_eq(dns_update_build(&s, &zc, 77, &u, &wire, &len, why,
	    sizeof(why)), 0);
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		n = answer(wire, len, answers[i].id, answers[i].rcode,
		    answers[i].secret, answers[i].tsig_error, ans,
		    sizeof(ans));
		ck_assert_int_eq(dns_update_answer(u, &zc, ans, n, why,
		    sizeof(why)), answers[i].is);
		if (answers[i].why != NULL)
			ck_assert_str_eq(why, answers[i].why);
	}
	ck_assert_int_eq(dns_update_answer(u, &zc, (const uint8_t *)"xy", 2,
	    why, sizeof(why)), DNS_ANSWER_OTHER);
	n = answer(wire, len, 77, LDNS_RCODE_NOERROR, SECRET, 0, ans,
	    sizeof(ans));
	ans[n - 60] ^= 0x01;	/* a letter of the algorithm's name */
	ck_assert_int_eq(dns_update_answer(u, &zc, ans, n, why, sizeof(why)),
	    DNS_ANSWER_UNVERIFIED);
	ck_assert_str_eq(why, "a NOERROR answer signed with another key or "
	    "algorithm");
	free(wire);
	dns_update_free(u);
}
END_TEST

START_TEST(test_bad_keys)
{
	struct event_base *base = event_base_new();
	struct dns_client *c = dns_client_new(base);
	struct dns_zone_conf bad = zc;
	char why[256];

	bad.tsig_alg = "hmac-sha224";
	ck_assert_ptr_null(dns_zone_new(c, &bad, why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "TSIG hmac-sha224 with that secret "
	    "cannot sign here"));
	bad = zc;
	bad.tsig_secret = "!!";
	ck_assert_ptr_null(dns_zone_new(c, &bad, why, sizeof(why)));
	bad = zc;
	bad.zone = "a..b";
	ck_assert_ptr_null(dns_zone_new(c, &bad, why, sizeof(why)));
	dns_client_free(c);
	event_base_free(base);
}
END_TEST

/* ---- the client against a stand-in server ---- */

struct server {
	int		 fd;
	struct event	*ev;
	int		 silent;	/* requests left unanswered */
	ldns_pkt_rcode	 rcode;
	const char	*secret;	/* signs the answers; NULL: unsigned */
	int		 tsig_error;
	bool		 spoof_first;	/* an unsigned REFUSED goes first */
	int		 requests;
	char		 last[1024];	/* the last update section */
};

static void
server_read(evutil_socket_t fd, short what, void *arg)
{
	struct server *sv = arg;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	uint8_t req[2048], ans[2048];
	ssize_t n;
	size_t len;
	ldns_pkt *q;
	char *text;

	if ((n = recvfrom(fd, req, sizeof(req), 0, (struct sockaddr *)&ss,
	    &sl)) <= 0)
		return;
	sv->requests++;
	ck_assert_int_eq(ldns_wire2pkt(&q, req, (size_t)n), LDNS_STATUS_OK);
	text = ldns_rr_list2str(ldns_pkt_authority(q));
	snprintf(sv->last, sizeof(sv->last), "%s", text);
	free(text);
	if (sv->silent > 0) {
		sv->silent--;
		ldns_pkt_free(q);
		return;
	}
	if (sv->spoof_first) {
		len = answer(req, (size_t)n, ldns_pkt_id(q),
		    LDNS_RCODE_REFUSED, NULL, 0, ans, sizeof(ans));
		ck_assert_int_eq(sendto(fd, ans, len, 0,
		    (struct sockaddr *)&ss, sl), (ssize_t)len);
	}
	len = answer(req, (size_t)n, ldns_pkt_id(q), sv->rcode, sv->secret,
	    sv->tsig_error, ans, sizeof(ans));
	ldns_pkt_free(q);
	ck_assert_int_eq(sendto(fd, ans, len, 0, (struct sockaddr *)&ss, sl),
	    (ssize_t)len);
}

static void
server_start(struct event_base *base, struct server *sv, uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);

	memset(sv, 0, sizeof(*sv));
	sv->secret = SECRET;
	sin.sin_addr.s_addr = htonl(0x7f000001);
	sv->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(sv->fd, 0);
	ck_assert_int_eq(bind(sv->fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	ck_assert_int_eq(getsockname(sv->fd, (struct sockaddr *)&sin, &sl),
	    0);
	*port = ntohs(sin.sin_port);
	sv->ev = event_new(base, sv->fd, EV_READ | EV_PERSIST, server_read,
	    sv);
	event_add(sv->ev, NULL);
}

static void
server_stop(struct server *sv)
{
	event_free(sv->ev);
	close(sv->fd);
}

/* Turn the loop until the name is in state st (or 5 s pass). */
static bool
wait_state(struct event_base *base, struct dns_name *n, enum dns_state st)
{
	for (int i = 0; i < 500; i++) {
		struct timeval tv = { 0, 10000 };

		if (dns_name_state(n, NULL, 0) == st)
			return true;
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	return false;
}

/* A client on its loop with one zone at the stand-in server: updates
 * retried after 50 ms doubling to 200, answers awaited 100 ms. */
struct client_env {
	struct event_base	*base;
	struct dns_client	*c;
	struct dns_zone		*z;
	struct server		 sv;
	struct ipaddr		 v4;	/* 10.10.0.5 */
};

static void
env_start(struct client_env *e)
{
	struct dns_zone_conf conf = zc;
	char why[256];

	e->base = event_base_new();
	e->c = dns_client_new(e->base);
	server_start(e->base, &e->sv, &conf.port);
	ck_assert_int_eq(ipaddr_parse("127.0.0.1", &conf.server), 0);
	ck_assert_int_eq(ipaddr_parse("10.10.0.5", &e->v4), 0);
	dns_client_set_timing(e->c, 50, 200, 100);
	e->z = dns_zone_new(e->c, &conf, why, sizeof(why));
	ck_assert_msg(e->z != NULL, "%s", why);
}

static void
env_stop(struct client_env *e)
{
	dns_zone_release(e->z);
	dns_client_free(e->c);
	server_stop(&e->sv);
	event_base_free(e->base);
}

START_TEST(test_client_retry)
{
	struct client_env e;
	struct dns_name *n;
	char why[256];

	env_start(&e);
	ck_assert_ptr_null(dns_name_add(e.z, "w.other.net", &e.v4, NULL, NULL,
	    NULL));
	/* Silent twice: pending with the reason, then registered. */
	e.sv.silent = 2;
	n = dns_name_add(e.z, "w.train.example.net", &e.v4, NULL, NULL, NULL);
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(dns_name_state(n, why, sizeof(why)), DNS_PENDING);
	ck_assert(wait_state(e.base, n, DNS_REGISTERED));
	ck_assert_int_eq(e.sv.requests, 3);
	ck_assert_str_eq(e.sv.last, "w.train.example.net.\t0\tANY\tA\t\\# 0\n"
	    "w.train.example.net.\t60\tIN\tA\t10.10.0.5\n"
	    "w.train.example.net.\t0\tANY\tAAAA\t\\# 0\n");
	/* A refusal is reported, and retried. */
	e.sv.rcode = LDNS_RCODE_REFUSED;
	n = dns_name_add(e.z, "x.train.example.net", &e.v4, NULL, NULL, NULL);
	ck_assert(wait_state(e.base, n, DNS_FAILED));
	dns_name_state(n, why, sizeof(why));
	ck_assert_str_eq(why, "train.example.net: REFUSED");
	e.sv.rcode = LDNS_RCODE_NOERROR;
	ck_assert(wait_state(e.base, n, DNS_REGISTERED));
	/* Removal: the deletion goes out, then the name is freed. */
	e.sv.requests = 0;
	dns_name_remove(n);
	for (int i = 0; i < 100 && e.sv.requests == 0; i++)
		event_base_loop(e.base, EVLOOP_ONCE | EVLOOP_NONBLOCK),
		    usleep(1000);
	ck_assert_str_eq(e.sv.last,
	    "x.train.example.net.\t0\tNONE\tA\t10.10.0.5\n");
	env_stop(&e);
}
END_TEST

/* Turn the loop until the name has a reason (or 5 s pass). */
static void
wait_reason(struct event_base *base, struct dns_name *n, char *why,
    size_t len)
{
	for (int i = 0; i < 500 && (dns_name_state(n, why, len),
	    why[0] == '\0'); i++) {
		struct timeval tv = { 0, 10000 };

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
}

/*
 * Answers nobody can vouch for (RFC 8945 §5.3): an unsigned REFUSED
 * ahead of the server's signed answer changes nothing; one in place of
 * it leaves the name pending, the reason saying what was ignored; an
 * unsigned key rejection (NOTAUTH, TSIG BADSIG) is what the state
 * reports once the wait ends without a signed answer.
 */
START_TEST(test_client_unverified)
{
	struct client_env e;
	struct dns_name *n;
	char why[256];

	env_start(&e);
	e.sv.spoof_first = true;
	n = dns_name_add(e.z, "a.train.example.net", &e.v4, NULL, NULL, NULL);
	ck_assert(wait_state(e.base, n, DNS_REGISTERED));
	ck_assert_int_eq(e.sv.requests, 1);
	/* The server's answer never signed. */
	e.sv.spoof_first = false;
	e.sv.secret = NULL;
	e.sv.rcode = LDNS_RCODE_REFUSED;
	n = dns_name_add(e.z, "b.train.example.net", &e.v4, NULL, NULL, NULL);
	wait_reason(e.base, n, why, sizeof(why));
	ck_assert_int_eq(dns_name_state(n, why, sizeof(why)), DNS_PENDING);
	ck_assert_str_eq(why, "train.example.net: no signed answer from "
	    "127.0.0.1 within 100 ms (ignored a REFUSED answer without "
	    "TSIG)");
	dns_name_remove(n);
	/* The key rejected. */
	e.sv.rcode = LDNS_RCODE_NOTAUTH;
	e.sv.tsig_error = 16;
	n = dns_name_add(e.z, "c.train.example.net", &e.v4, NULL, NULL, NULL);
	ck_assert(wait_state(e.base, n, DNS_FAILED));
	dns_name_state(n, why, sizeof(why));
	ck_assert_str_eq(why, "train.example.net: NOTAUTH (TSIG BADSIG): "
	    "127.0.0.1 rejects our key (unsigned, no signed answer within "
	    "100 ms)");
	env_stop(&e);
}
END_TEST

/*
 * Every slot held by updates to a silent server, then 20,000 names
 * queued for a server that cannot be reached at all (a link-local
 * address with no interface: connect() fails at once).  When the slots
 * time out, each queued part fails as it is sent and hands its slot to
 * the next: all of them must be walked without one stack frame per part,
 * and every one must end waiting for its retry with the reason.
 */
#define LOST_NAMES	20000

START_TEST(test_client_unreachable_queue)
{
	struct event_base *base = event_base_new();
	struct dns_client *c = dns_client_new(base);
	struct dns_zone_conf conf = zc, lost = zc;
	struct dns_name **names = calloc(LOST_NAMES, sizeof(*names));
	struct dns_name *held[DNS_MAX_INFLIGHT];
	struct dns_zone *z, *zl;
	const char *reason = "lost.example.net: cannot reach the server: ";
	struct ipaddr v4;
	struct server sv;
	char why[256], name[64];

	ck_assert_ptr_nonnull(names);
	server_start(base, &sv, &conf.port);
	sv.silent = 1000000;
	ck_assert_int_eq(ipaddr_parse("127.0.0.1", &conf.server), 0);
	lost.zone = "lost.example.net";
	ck_assert_int_eq(ipaddr_parse("fe80::1", &lost.server), 0);
	ck_assert_int_eq(ipaddr_parse("10.10.0.5", &v4), 0);
	dns_client_set_timing(c, 60000, 60000, 50);
	ck_assert_ptr_nonnull(z = dns_zone_new(c, &conf, why, sizeof(why)));
	ck_assert_ptr_nonnull(zl = dns_zone_new(c, &lost, why, sizeof(why)));
	for (int i = 0; i < DNS_MAX_INFLIGHT; i++) {
		snprintf(name, sizeof(name), "h%d.train.example.net", i);
		held[i] = dns_name_add(z, name, &v4, NULL, NULL, NULL);
		ck_assert_ptr_nonnull(held[i]);
	}
	for (int i = 0; i < LOST_NAMES; i++) {
		snprintf(name, sizeof(name), "l%d.lost.example.net", i);
		names[i] = dns_name_add(zl, name, &v4, NULL, NULL, NULL);
		ck_assert_ptr_nonnull(names[i]);
	}
	/* Queued behind the silent server: nothing tried yet. */
	ck_assert_int_eq(dns_name_state(names[0], why, sizeof(why)),
	    DNS_PENDING);
	ck_assert_str_eq(why, "");
	wait_reason(base, names[LOST_NAMES - 1], why, sizeof(why));
	for (int i = 0; i < DNS_MAX_INFLIGHT; i++) {
		ck_assert_int_eq(dns_name_state(held[i], why, sizeof(why)),
		    DNS_PENDING);
		ck_assert_str_eq(why, "train.example.net: no answer from "
		    "127.0.0.1 within 50 ms");
	}
	for (int i = 0; i < LOST_NAMES; i++) {
		ck_assert_int_eq(dns_name_state(names[i], why, sizeof(why)),
		    DNS_PENDING);
		ck_assert_msg(strncmp(why, reason, strlen(reason)) == 0,
		    "name %d: '%s'", i, why);
	}
	free(names);
	dns_client_free(c);
	server_stop(&sv);
	event_base_free(base);
}
END_TEST

static Suite *
dns_suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc = tcase_create("dns");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_update_messages);
	tcase_add_test(tc, test_answers);
	tcase_add_test(tc, test_bad_keys);
	tcase_add_test(tc, test_client_retry);
	tcase_add_test(tc, test_client_unverified);
	tcase_add_test(tc, test_client_unreachable_queue);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dns_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
