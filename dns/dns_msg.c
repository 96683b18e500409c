/*
 * DNS messages: names, reverse zones, and the UPDATE messages of
 * dns.h built, signed, and their answers checked, all with libldns.
 *
 * How this works: a request is an ldns update packet (zone section:
 * the zone's SOA, class IN; no prerequisites; the update section from
 * the spec), given the caller's ID, RD cleared, signed with
 * ldns_pkt_tsig_sign() and turned to wire with ldns_pkt2wire().  The
 * request's MAC is kept (cloned from its TSIG record) because the
 * answer's TSIG covers it (RFC 8945 §4.3.1).  An answer is screened
 * (its header matched by ID, QR and opcode, its records read one by one
 * and one TSIG at most), parsed with ldns_wire2pkt(), its TSIG checked
 * (it names our key and algorithm, and ldns_pkt_tsig_verify() accepts
 * it) whatever its RCODE, and only then judged by its RCODE.
 */
#include "dns/dns.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "common/log.h"
#include "common/util.h"

struct dns_update {
	uint16_t	 id;
	ldns_rdf	*mac;		/* the request's TSIG MAC */
};

/* Names */

bool
dns_name_valid(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > DNS_NAME_MAX || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if ((!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_') || ++label > 63)
			return false;
	}
	return true;
}

bool
dns_name_in_zone(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	if (n == z)
		return strcasecmp(name, zone) == 0;
	return n > z && name[n - z - 1] == '.' &&
	    strcasecmp(name + n - z, zone) == 0;
}

/* The first n octets (IPv4) or nibbles (IPv6) of an address, reversed
 * and dot-separated, then the arpa domain. */
static void
reverse_labels(const struct ipaddr *ip, size_t n, char *out, size_t len)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = n; i > 0 && off < len; i--) {
		unsigned v;

		if (ip->af == AF_INET)
			v = ip->u.b[i - 1];
		else
			v = (i - 1) % 2 == 0 ? ip->u.b[(i - 1) / 2] >> 4 :
			    ip->u.b[(i - 1) / 2] & 0x0f;
		off += (size_t)snprintf(out + off, len - off,
		    ip->af == AF_INET ? "%u." : "%x.", v);
	}
	if (off < len)
		snprintf(out + off, len - off, "%s", ip->af == AF_INET ?
		    "in-addr.arpa" : "ip6.arpa");
}

int
dns_reverse_zone(const struct prefix *p, char *out, size_t len)
{
	size_t n = p->addr.af == AF_INET ? p->len / 8U : p->len / 4U;

	if (n == 0 || (p->addr.af != AF_INET && p->addr.af != AF_INET6))
		return -1;
	reverse_labels(&p->addr, n, out, len);
	return 0;
}

void
dns_reverse_name(const struct ipaddr *ip, char *out, size_t len)
{
	reverse_labels(ip, ip->af == AF_INET ? 4 : 32, out, len);
}

/* An absolute name for ldns (with the final dot). */
static ldns_rdf *
dname(const char *name)
{
	char abs[DNS_NAME_MAX + 2];

	snprintf(abs, sizeof(abs), "%s.", name);
	return ldns_dname_new_frm_str(abs);
}

/* Building */

static ldns_rr *
rr_new(const char *owner, ldns_rr_type type, ldns_rr_class cls,
    uint32_t ttl, ldns_rdf *rdata)
{
	ldns_rr *rr = ldns_rr_new();

	if (rr == NULL)
		fatalx("dns: out of memory");
	ldns_rr_set_owner(rr, dname(owner));
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, cls);
	ldns_rr_set_ttl(rr, ttl);
	if (rdata != NULL)
		ldns_rr_push_rdf(rr, rdata);
	return rr;
}

static ldns_rdf *
addr_rdf(const struct ipaddr *ip)
{
	return ip->af == AF_INET ? ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4,
	    ip->u.b) : ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16, ip->u.b);
}

/*
 * Adding replaces the RRset (delete it, class ANY: RFC 2136 §2.5.2,
 * then add: §2.5.1); removing deletes one record (class NONE, TTL 0:
 * §2.5.4).
 */
static void
push_record(ldns_rr_list *up, const struct dns_update_spec *s,
    const char *owner, ldns_rr_type type, ldns_rdf *rdata, bool delete_set)
{
	if (s->add && delete_set)
		ldns_rr_list_push_rr(up, rr_new(owner, type,
		    LDNS_RR_CLASS_ANY, 0, NULL));
	if (rdata != NULL)
		ldns_rr_list_push_rr(up, rr_new(owner, type, s->add ?
		    LDNS_RR_CLASS_IN : LDNS_RR_CLASS_NONE, s->add ? s->ttl : 0,
		    rdata));
}

static ldns_rr_list *
update_records(const struct dns_update_spec *s)
{
	ldns_rr_list *up = ldns_rr_list_new();
	char rev[80];

	if (s->ptr) {
		const struct ipaddr *ip = ipaddr_is_set(&s->v4) ? &s->v4 :
		    &s->v6;

		dns_reverse_name(ip, rev, sizeof(rev));
		push_record(up, s, rev, LDNS_RR_TYPE_PTR, dname(s->target),
		    true);
		return up;
	}
	/* Both address RRsets go on adding: the name is these addresses. */
	push_record(up, s, s->owner, LDNS_RR_TYPE_A, ipaddr_is_set(&s->v4) ?
	    addr_rdf(&s->v4) : NULL, true);
	push_record(up, s, s->owner, LDNS_RR_TYPE_AAAA,
	    ipaddr_is_set(&s->v6) ? addr_rdf(&s->v6) : NULL, true);
	return up;
}

static void
alg_name(const char *alg, char *out, size_t len)
{
	snprintf(out, len, "%s.", alg);
}

int
dns_update_build(const struct dns_update_spec *s,
    const struct dns_zone_conf *zc, uint16_t id, struct dns_update **u,
    uint8_t **wire, size_t *len, char *why, size_t whylen)
{
	ldns_rr_list *up = update_records(s);
	char key[DNS_NAME_MAX + 2], alg[32];
	ldns_status st;
	ldns_pkt *p;

	*u = NULL;
	p = ldns_update_pkt_new(dname(s->zone), LDNS_RR_CLASS_IN, NULL, up,
	    NULL);
	ldns_rr_list_deep_free(up);
	if (p == NULL) {
		snprintf(why, whylen, "cannot build an update of %s", s->zone);
		return -1;
	}
	ldns_pkt_set_id(p, id);
	ldns_pkt_set_rd(p, false);
	snprintf(key, sizeof(key), "%s.", zc->tsig_name);
	alg_name(zc->tsig_alg, alg, sizeof(alg));
	if ((st = ldns_pkt_tsig_sign(p, key, zc->tsig_secret, DNS_TSIG_FUDGE,
	    alg, NULL)) != LDNS_STATUS_OK || ldns_pkt_tsig(p) == NULL) {
		snprintf(why, whylen, "cannot sign with TSIG %s key %s: %s",
		    zc->tsig_alg, zc->tsig_name, ldns_get_errorstr_by_id(st));
		ldns_pkt_free(p);
		return -1;
	}
	if (ldns_pkt2wire(wire, p, len) != LDNS_STATUS_OK) {
		snprintf(why, whylen, "cannot encode an update of %s",
		    s->zone);
		ldns_pkt_free(p);
		return -1;
	}
	*u = xcalloc(1, sizeof(**u));
	(*u)->id = id;
	(*u)->mac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(p), 3));
	ldns_pkt_free(p);
	return 0;
}

void
dns_update_free(struct dns_update *u)
{
	if (u == NULL)
		return;
	ldns_rdf_deep_free(u->mac);
	free(u);
}

/* Answers */

static const char *
rcode_name(unsigned rc)
{
	static const char *const names[] = { "NOERROR", "FORMERR",
	    "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN",
	    "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE" };

	return rc < sizeof(names) / sizeof(names[0]) ? names[rc] : "RCODE?";
}

/* RFC 8945 §4.3.3 (and the registry): the TSIG errors. */
#define TSIG_BADSIG	16
#define TSIG_BADKEY	17
#define TSIG_BADTIME	18
#define TSIG_BADTRUNC	22

static const char *
tsig_error_name(unsigned e)
{
	switch (e) {
	case TSIG_BADSIG:	return "BADSIG";
	case TSIG_BADKEY:	return "BADKEY";
	case TSIG_BADTIME:	return "BADTIME";
	case TSIG_BADTRUNC:	return "BADTRUNC";
	default:		return NULL;
	}
}

/* The TSIG error field of an answer; 0 without one. */
static unsigned
tsig_error(const ldns_pkt *p)
{
	const ldns_rr *t = ldns_pkt_tsig(p);
	const ldns_rdf *err = t != NULL ? ldns_rr_rdf(t, 5) : NULL;

	return err != NULL && ldns_rdf_size(err) == 2 ?
	    ldns_rdf2native_int16(err) : 0;
}

/*
 * A server that will not take our key says so with NOTAUTH and the
 * TSIG error BADKEY, BADSIG or BADTIME; the first two come unsigned by
 * design (RFC 8945 §5.3.2: it cannot sign with a key it rejects).
 */
static bool
key_rejection(const ldns_pkt *p)
{
	unsigned e = tsig_error(p);

	return ldns_pkt_get_rcode(p) == LDNS_RCODE_NOTAUTH &&
	    (e == TSIG_BADKEY || e == TSIG_BADSIG || e == TSIG_BADTIME);
}

/* What an answer says: its RCODE, and the TSIG error if any. */
static void
answer_claim(const ldns_pkt *p, char *why, size_t whylen)
{
	const char *e = tsig_error_name(tsig_error(p));

	snprintf(why, whylen, "%s%s%s%s", rcode_name(ldns_pkt_get_rcode(p)),
	    e != NULL ? " (TSIG " : "", e != NULL ? e : "",
	    e != NULL ? ")" : "");
}

/* The answer's TSIG names our key and algorithm (RFC 8945 §5.3: the
 * server answers with the request's key).  Checked before libldns
 * verifies: it leaks the record when the algorithm is one it lacks. */
static bool
tsig_ours(const ldns_rr *t, const struct dns_zone_conf *zc)
{
	char alg[32];
	ldns_rdf *key = dname(zc->tsig_name), *a;
	bool same;

	alg_name(zc->tsig_alg, alg, sizeof(alg));
	a = ldns_dname_new_frm_str(alg);
	same = key != NULL && a != NULL && ldns_rr_rdf(t, 0) != NULL &&
	    ldns_dname_compare(ldns_rr_owner(t), key) == 0 &&
	    ldns_dname_compare(ldns_rr_rdf(t, 0), a) == 0;
	ldns_rdf_deep_free(key);
	ldns_rdf_deep_free(a);
	return same;
}

/*
 * Before libldns builds a packet of it: the header is the answer to u
 * (ID, QR, opcode), and the records (read one by one with
 * ldns_wire2rr()) hold one TSIG at most: ldns_wire2pkt() leaks all but
 * the last of several, which anyone able to send to our port could
 * repeat.
 */
static bool
answer_screen(const struct dns_update *u, const uint8_t *wire, size_t len)
{
	size_t pos = LDNS_HEADER_SIZE, n[4];
	int tsigs = 0;

	if (len < LDNS_HEADER_SIZE || LDNS_ID_WIRE(wire) != u->id ||
	    !LDNS_QR_WIRE(wire) || LDNS_OPCODE_WIRE(wire) != LDNS_PACKET_UPDATE)
		return false;
	n[0] = LDNS_QDCOUNT(wire);
	n[1] = LDNS_ANCOUNT(wire);
	n[2] = LDNS_NSCOUNT(wire);
	n[3] = LDNS_ARCOUNT(wire);
	for (int sec = 0; sec < 4; sec++) {
		for (size_t i = 0; i < n[sec]; i++) {
			ldns_pkt_section section = (ldns_pkt_section)sec;
			ldns_rr *rr;

			if (ldns_wire2rr(&rr, wire, len, &pos, section) !=
			    LDNS_STATUS_OK)
				return false;
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TSIG)
				tsigs++;
			ldns_rr_free(rr);
		}
	}
	return tsigs <= 1;
}

/* The answer carries our key's TSIG and it verifies against the
 * request's MAC (RFC 8945 §5.3); else why says what it claimed. */
static bool
answer_verified(const struct dns_update *u, const struct dns_zone_conf *zc,
    ldns_pkt *p, const uint8_t *wire, size_t len, char *why, size_t whylen)
{
	char key[DNS_NAME_MAX + 2], claim[64];

	answer_claim(p, claim, sizeof(claim));
	snprintf(key, sizeof(key), "%s.", zc->tsig_name);
	if (ldns_pkt_tsig(p) == NULL)
		snprintf(why, whylen, "a %s answer without TSIG", claim);
	else if (!tsig_ours(ldns_pkt_tsig(p), zc))
		snprintf(why, whylen, "a %s answer signed with another key or "
		    "algorithm", claim);
	else if (!ldns_pkt_tsig_verify(p, wire, len, key, zc->tsig_secret,
	    u->mac))
		snprintf(why, whylen, "a %s answer whose TSIG does not verify",
		    claim);
	else
		return true;
	return false;
}

enum dns_answer
dns_update_answer(const struct dns_update *u, const struct dns_zone_conf *zc,
    const uint8_t *wire, size_t len, char *why, size_t whylen)
{
	enum dns_answer rv;
	ldns_pkt *p;

	if (!answer_screen(u, wire, len) ||
	    ldns_wire2pkt(&p, wire, len) != LDNS_STATUS_OK)
		return DNS_ANSWER_OTHER;
	if (ldns_pkt_id(p) != u->id || !ldns_pkt_qr(p) ||
	    ldns_pkt_get_opcode(p) != LDNS_PACKET_UPDATE) {
		ldns_pkt_free(p);
		return DNS_ANSWER_OTHER;
	}
	if (answer_verified(u, zc, p, wire, len, why, whylen)) {
		answer_claim(p, why, whylen);
		rv = ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR ?
		    DNS_ANSWER_DONE : DNS_ANSWER_REFUSED;
	} else if (key_rejection(p) && tsig_ours(ldns_pkt_tsig(p), zc)) {
		answer_claim(p, why, whylen);
		rv = DNS_ANSWER_KEY_REJECTED;
	} else
		rv = DNS_ANSWER_UNVERIFIED;
	ldns_pkt_free(p);
	return rv;
}
