/*
 * DNS registration: A, AAAA and PTR records kept in an authoritative
 * server by dynamic updates (RFC 2136) signed with TSIG (RFC 8945).
 *
 * Dependencies: dns/ uses common/, libevent (the event loop it runs
 * on) and Debian's libldns (every DNS message is built, signed,
 * verified and parsed by it; nothing here writes DNS wire format by
 * hand).  Nothing else of ours: ipamd/ wires it to allocations.
 *
 * How this works:
 *
 * Messages (dns_msg.c).  A name's records live in up to three zones:
 * its forward zone (A and AAAA of the name) and, with reverse
 * registration, the in-addr.arpa and ip6.arpa zones of its addresses
 * (PTR back to the name; the zone is the pool prefix rounded down to an
 * octet, or a nibble for IPv6: RFC 1035 §3.5, RFC 3596 §2.5).  Each is
 * one UPDATE to that zone.  Putting a name in replaces its RRsets
 * (delete the RRset, class ANY, then add each record: RFC 2136 §2.5.2,
 * §2.5.1); taking it out deletes only its own records (class NONE,
 * §2.5.4), so a name that moved to another address meanwhile keeps it.
 * The update is signed with the zone's key; an answer counts only when
 * its ID matches, it is an UPDATE answer, and its TSIG verifies against
 * the request's MAC, whatever its RCODE (RFC 8945 §5.3): neither a
 * forged "success" nor a forged REFUSED can decide a record's fate.
 * An unverified answer is logged and the wait goes on; the one kind a
 * server must send unsigned, NOTAUTH with TSIG error BADKEY or BADSIG
 * (§5.3.2: it rejects our key), becomes the reason reported once the
 * wait ends with no verified answer.
 *
 * Client (dns_client.c).  Everything runs on the caller's event loop
 * and nothing blocks: each update is one non-blocking UDP socket
 * connect()ed to the server, the answer is read when the socket is
 * readable, and a timer bounds the wait.  No answer, an ICMP error or a
 * failure answer schedules a retry with exponential backoff (first_ms
 * doubling up to max_ms); a server that is down therefore never holds
 * anything up and is caught up with when it is back.  At most
 * DNS_MAX_INFLIGHT updates are out at once; the rest queue, and are
 * handed the slots in a loop, so a queue whose sends all fail at once
 * (no route to the server) costs no stack.
 *
 * A dns_name is what the caller asked for one name: its state is
 * registered when every zone answered NOERROR, failed (with the last
 * server's reason) when one refused (a verified refusal, or a key
 * rejection and no verified answer), pending otherwise.  Removing a
 * name sends the deletions (retried the same way, DNS_REMOVE_TRIES
 * times at most) and frees it; a name added again while the removal of
 * the same name in the same zone is still under way cancels that
 * removal, so a late deletion cannot take the new records away.
 */
#ifndef DNS_DNS_H
#define DNS_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

#define DNS_NAME_MAX		253	/* RFC 1035 §2.3.4, no final dot */
#define DNS_PORT		53
#define DNS_TSIG_FUDGE		300	/* seconds, RFC 8945 §10 */
#define DNS_FIRST_RETRY_MS	1000
#define DNS_MAX_RETRY_MS	60000
#define DNS_ANSWER_WAIT_MS	2000	/* per attempt */
#define DNS_MAX_INFLIGHT	64
#define DNS_REMOVE_TRIES	8
#define DNS_REASON_MAX		160

struct event_base;
struct dns_client;
struct dns_zone;
struct dns_name;

/* A zone and how to update it. */
struct dns_zone_conf {
	const char	*zone;		/* "train.example.net" */
	struct ipaddr	 server;
	uint16_t	 port;		/* 0: 53 */
	const char	*tsig_alg;	/* "hmac-sha256" */
	const char	*tsig_name;
	const char	*tsig_secret;	/* base64 */
	uint32_t	 ttl;
};

enum dns_state {
	DNS_PENDING,
	DNS_REGISTERED,
	DNS_FAILED,
};

/* Messages (dns_msg.c) */

/* The reverse zone of an address in prefix: the prefix rounded down to
 * an octet (IPv4) or a nibble (IPv6), e.g. 10.10.0.0/24 gives
 * "0.10.10.in-addr.arpa".  -1 when the prefix is shorter than /8 (/4). */
int		 dns_reverse_zone(const struct prefix *, char *out, size_t len);
/* The PTR owner name of an address: "5.0.10.10.in-addr.arpa". */
void		 dns_reverse_name(const struct ipaddr *, char *out,
		    size_t len);
/* A domain name of letters, digits, '-' and '_' labels, 1..63 each,
 * 253 in all, no final dot. */
bool		 dns_name_valid(const char *);
/* name ends with zone on a label boundary (or is it). */
bool		 dns_name_in_zone(const char *name, const char *zone);

struct dns_update;
/*
 * One UPDATE to zone, for owner (ignored for PTR: owner is then the
 * address's reverse name and target the name it points to).  add:
 * replace the RRsets by these records; else delete only these records.
 * v4 and v6 may be unset (af 0).
 */
struct dns_update_spec {
	const char	*zone;
	const char	*owner;
	bool		 ptr;
	const char	*target;	/* PTR: the name */
	struct ipaddr	 v4;
	struct ipaddr	 v6;		/* A and AAAA, or PTR's address */
	bool		 add;
	uint32_t	 ttl;
};
/* The signed wire of an update with this id (malloc'd into *wire);
 * the request MAC is kept in *u for checking the answer.  -1 with a
 * reason (a bad key or algorithm). */
int		 dns_update_build(const struct dns_update_spec *,
		    const struct dns_zone_conf *, uint16_t id,
		    struct dns_update **u, uint8_t **wire, size_t *len,
		    char *why, size_t whylen);
void		 dns_update_free(struct dns_update *);
/* What a datagram is to an update (RFC 8945 §5.3). */
enum dns_answer {
	DNS_ANSWER_OTHER,	/* not its answer (ID, QR, opcode): ignore */
	DNS_ANSWER_DONE,	/* NOERROR, TSIG verifies */
	DNS_ANSWER_REFUSED,	/* another RCODE, TSIG verifies */
	DNS_ANSWER_KEY_REJECTED, /* unverified NOTAUTH, TSIG error BADKEY,
				    BADSIG or BADTIME: the server's word
				    on our key, or a forgery of it */
	DNS_ANSWER_UNVERIFIED,	/* any other answer without a TSIG that
				    verifies: not the answer */
};
/* The answer to u; why holds what it said ("REFUSED", "NOTAUTH (TSIG
 * BADKEY)") or, unverified, what it claimed ("a REFUSED answer without
 * TSIG"). */
enum dns_answer	 dns_update_answer(const struct dns_update *,
		    const struct dns_zone_conf *, const uint8_t *wire,
		    size_t len, char *why, size_t whylen);

/* Client (dns_client.c) */

struct dns_client *dns_client_new(struct event_base *);
/* Stop: nothing more is sent, every zone and name is freed. */
void		 dns_client_free(struct dns_client *);
/* Backoff and wait per attempt (tests); 0 keeps the default. */
void		 dns_client_set_timing(struct dns_client *, unsigned first_ms,
		    unsigned max_ms, unsigned wait_ms);

/* A zone to update; NULL with a reason when its key or algorithm cannot
 * sign.  Strings are copied. */
struct dns_zone	*dns_zone_new(struct dns_client *, const struct dns_zone_conf *,
		    char *why, size_t whylen);
/* No more names will be added; it goes once its names are gone. */
void		 dns_zone_release(struct dns_zone *);

/*
 * Put fqdn (absolute, no final dot, in the zone) in the zone with these
 * addresses (either may be unset) and, when rev4/rev6 name reverse
 * zones, PTR records in them.  NULL when the name is not in the zone.
 */
struct dns_name	*dns_name_add(struct dns_zone *, const char *fqdn,
		    const struct ipaddr *v4, const struct ipaddr *v6,
		    const char *rev4, const char *rev6);
/* Take its records out (retried), then free it. */
void		 dns_name_remove(struct dns_name *);
enum dns_state	 dns_name_state(const struct dns_name *, char *why,
		    size_t len);
const char	*dns_name_fqdn(const struct dns_name *);

#endif
