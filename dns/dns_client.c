/*
 * The DNS client: zones, names and the updates that keep them in the
 * server, on the caller's event loop (see dns.h for the protocol).
 *
 * How this works: a name has one "part" per zone it touches (forward,
 * reverse IPv4, reverse IPv6).  A part knows what it wants (present or
 * absent) and what the server last confirmed; whenever they differ it
 * asks for a slot, sends one UPDATE on its own connected UDP socket,
 * and waits for the socket (the answer) or its timer (no answer).  An
 * answer that verifies makes the part agree, or (a refusal) keeps the
 * reason and arms the retry timer with the part's backoff, doubling
 * each time, as no answer does.  An answer that does not verify is not
 * the answer (RFC 8945 §5.3): the part logs it once, notes it, and waits
 * on for the server's; when the wait ends without one, a noted key
 * rejection is the reason it failed, anything else only a remark.  A
 * change of mind while an update is out (a removal before the addition
 * was confirmed) is sent once the answer or the timeout ends the
 * exchange, so one part never has two updates out.
 * Slots (DNS_MAX_INFLIGHT) are handed out in request order.
 */
#include "dns/dns.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "common/log.h"
#include "common/queue.h"
#include "common/util.h"

enum part_kind {
	PART_FORWARD,
	PART_REVERSE4,
	PART_REVERSE6,
	PART_COUNT,
};

struct dns_part {
	struct dns_name		*name;
	enum part_kind		 kind;
	char			*zone;		/* of this update */
	bool			 used;
	bool			 want;		/* present */
	bool			 sent;		/* what the update out asks */
	bool			 have;		/* what the server has */
	bool			 confirmed;	/* have is the server's word */
	bool			 failed;	/* the last answer refused */
	bool			 queued;
	bool			 out;		/* an update is out */
	bool			 doubt_key;	/* doubt is a key rejection */
	unsigned		 backoff_ms;
	int			 tries;		/* of a removal */
	int			 fd;
	struct dns_update	*u;
	struct event		*ev_read;
	struct event		*ev_timer;	/* answer wait, then retry */
	char			 why[DNS_REASON_MAX];
	char			 doubt[DNS_REASON_MAX];	/* this exchange's
						   unverified answer */
	TAILQ_ENTRY(dns_part)	 qlink;		/* waiting for a slot */
};
TAILQ_HEAD(part_queue, dns_part);

struct dns_name {
	TAILQ_ENTRY(dns_name)	 link;		/* the zone's names */
	TAILQ_ENTRY(dns_name)	 rlink;		/* the client's removals */
	struct dns_zone		*zone;
	char			 fqdn[DNS_NAME_MAX + 1];
	struct ipaddr		 v4;
	struct ipaddr		 v6;
	bool			 removing;
	struct dns_part		 part[PART_COUNT];
};
TAILQ_HEAD(dns_name_list, dns_name);

struct dns_zone {
	TAILQ_ENTRY(dns_zone)	 link;
	struct dns_client	*client;
	struct dns_zone_conf	 conf;		/* strings ours: */
	char			*zone;
	char			*tsig_alg;
	char			*tsig_name;
	char			*tsig_secret;
	bool			 released;
	struct dns_name_list	 names;
};
TAILQ_HEAD(dns_zone_list, dns_zone);

struct dns_client {
	struct event_base	*base;
	struct dns_zone_list	 zones;
	struct dns_name_list	 removing;	/* names on their way out */
	struct part_queue	 queue;
	size_t			 inflight;
	bool			 handing_out;	/* slot_next() is running */
	unsigned		 first_ms;
	unsigned		 max_ms;
	unsigned		 wait_ms;
};

static void	part_kick(struct dns_part *);
static void	name_maybe_free(struct dns_name *);

/* Client and zones */

struct dns_client *
dns_client_new(struct event_base *base)
{
	struct dns_client *c = xcalloc(1, sizeof(*c));

	c->base = base;
	TAILQ_INIT(&c->zones);
	TAILQ_INIT(&c->removing);
	TAILQ_INIT(&c->queue);
	c->first_ms = DNS_FIRST_RETRY_MS;
	c->max_ms = DNS_MAX_RETRY_MS;
	c->wait_ms = DNS_ANSWER_WAIT_MS;
	return c;
}

void
dns_client_set_timing(struct dns_client *c, unsigned first_ms,
    unsigned max_ms, unsigned wait_ms)
{
	if (first_ms != 0)
		c->first_ms = first_ms;
	if (max_ms != 0)
		c->max_ms = max_ms;
	if (wait_ms != 0)
		c->wait_ms = wait_ms;
}

static void
zone_free(struct dns_zone *z)
{
	TAILQ_REMOVE(&z->client->zones, z, link);
	free(z->zone);
	free(z->tsig_alg);
	free(z->tsig_name);
	if (z->tsig_secret != NULL)
		explicit_bzero(z->tsig_secret, strlen(z->tsig_secret));
	free(z->tsig_secret);
	free(z);
}

static bool
tsig_alg_supported(const char *alg)
{
	static const char *const algs[] = { "hmac-sha1", "hmac-sha256",
	    "hmac-sha512" };

	for (size_t i = 0; i < nitems(algs); i++)
		if (strcasecmp(alg, algs[i]) == 0)
			return true;
	return false;
}

/* A key that cannot sign is found now, not at the first allocation. */
static int
zone_try_sign(const struct dns_zone *z, char *why, size_t whylen)
{
	struct dns_update_spec s = { .zone = z->zone, .owner = z->zone,
	    .add = false };
	struct dns_update *u;
	uint8_t *wire;
	size_t len;

	if (dns_update_build(&s, &z->conf, 0, &u, &wire, &len, why,
	    whylen) == -1)
		return -1;
	free(wire);
	dns_update_free(u);
	return 0;
}

struct dns_zone *
dns_zone_new(struct dns_client *c, const struct dns_zone_conf *conf,
    char *why, size_t whylen)
{
	struct dns_zone *z = xcalloc(1, sizeof(*z));

	z->client = c;
	z->zone = xstrdup(conf->zone);
	z->tsig_alg = xstrdup(conf->tsig_alg);
	z->tsig_name = xstrdup(conf->tsig_name);
	z->tsig_secret = xstrdup(conf->tsig_secret);
	z->conf = *conf;
	z->conf.zone = z->zone;
	z->conf.tsig_alg = z->tsig_alg;
	z->conf.tsig_name = z->tsig_name;
	z->conf.tsig_secret = z->tsig_secret;
	if (z->conf.port == 0)
		z->conf.port = DNS_PORT;
	TAILQ_INIT(&z->names);
	TAILQ_INSERT_TAIL(&c->zones, z, link);
	if (!dns_name_valid(z->zone) || !dns_name_valid(z->tsig_name)) {
		snprintf(why, whylen, "zone %s or key %s is not a domain name",
		    z->zone, z->tsig_name);
		zone_free(z);
		return NULL;
	}
	/* What libldns signs with (its error paths leak: ask it only what
	 * it can do). */
	if (!tsig_alg_supported(z->tsig_alg) ||
	    !base64_valid(z->tsig_secret, 4096)) {
		snprintf(why, whylen, "TSIG %s with that secret cannot sign "
		    "here (libldns signs with hmac-sha1, hmac-sha256 and "
		    "hmac-sha512; the secret is base64)", z->tsig_alg);
		zone_free(z);
		return NULL;
	}
	if (zone_try_sign(z, why, whylen) == -1) {
		zone_free(z);
		return NULL;
	}
	return z;
}

void
dns_zone_release(struct dns_zone *z)
{
	if (z == NULL)
		return;
	z->released = true;
	if (TAILQ_EMPTY(&z->names))
		zone_free(z);
}

/* Parts: one exchange at a time */

static void
part_close(struct dns_part *p)
{
	if (p->ev_read != NULL)
		event_free(p->ev_read);
	if (p->fd >= 0)
		close(p->fd);
	p->ev_read = NULL;
	p->fd = -1;
	dns_update_free(p->u);
	p->u = NULL;
	p->doubt[0] = '\0';
	p->doubt_key = false;
	if (p->out) {
		p->out = false;
		p->name->zone->client->inflight--;
	}
}

/*
 * Queued parts get the slots just freed.  A send that fails at once
 * (no route to the server) frees its slot again from inside part_kick()
 * and comes back here: that nested call returns and this loop goes on,
 * so a long queue is walked, not recursed through one frame per part.
 */
static void
slot_next(struct dns_client *c)
{
	struct dns_part *p;

	if (c->handing_out)
		return;
	c->handing_out = true;
	while (c->inflight < DNS_MAX_INFLIGHT &&
	    (p = TAILQ_FIRST(&c->queue)) != NULL) {
		TAILQ_REMOVE(&c->queue, p, qlink);
		p->queued = false;
		part_kick(p);
	}
	c->handing_out = false;
}

static void
part_dequeue(struct dns_part *p)
{
	if (p->queued)
		TAILQ_REMOVE(&p->name->zone->client->queue, p, qlink);
	p->queued = false;
}

static void
timer_ms(struct event *ev, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

/* The exchange ended without agreement: retry after the backoff. */
static void
part_retry(struct dns_part *p, bool refused, const char *why)
{
	struct dns_client *c = p->name->zone->client;

	part_close(p);
	snprintf(p->why, sizeof(p->why), "%s", why);
	p->failed = refused;
	if (p->name->removing && ++p->tries >= DNS_REMOVE_TRIES) {
		log_warn("dns: giving up removing %s from %s: %s",
		    p->name->fqdn, p->zone, why);
		p->want = p->have = false;	/* let it go */
		p->confirmed = true;
		slot_next(c);
		name_maybe_free(p->name);
		return;
	}
	p->backoff_ms = p->backoff_ms == 0 ? c->first_ms :
	    p->backoff_ms * 2 > c->max_ms ? c->max_ms : p->backoff_ms * 2;
	timer_ms(p->ev_timer, p->backoff_ms);
	slot_next(c);
}

static void
part_agreed(struct dns_part *p)
{
	struct dns_client *c = p->name->zone->client;

	part_close(p);
	p->have = p->sent;
	p->confirmed = true;
	p->failed = false;
	p->backoff_ms = 0;
	p->why[0] = '\0';
	slot_next(c);
	if (p->want != p->have || !p->confirmed)
		part_kick(p);
	else
		name_maybe_free(p->name);
}

/*
 * An answer nobody can vouch for: logged (once an exchange, a key
 * rejection over anything else) and kept for when the wait ends.
 */
static void
part_doubt(struct dns_part *p, bool key, const char *why)
{
	char a[IPADDR_STRLEN];

	if (p->doubt[0] != '\0' && (p->doubt_key || !key))
		return;
	snprintf(p->doubt, sizeof(p->doubt), "%s", why);
	p->doubt_key = key;
	if (key)
		log_warn("dns: update of %s in %s: %s rejects our key: %s "
		    "(unsigned; waiting for a signed answer)", p->name->fqdn,
		    p->zone, ipaddr_fmt(&p->name->zone->conf.server, a,
		    sizeof(a)), why);
	else
		log_warn("dns: update of %s in %s: ignoring %s (RFC 8945 "
		    "§5.3)", p->name->fqdn, p->zone, why);
}

static void
part_readable(evutil_socket_t fd, short what, void *arg)
{
	struct dns_part *p = arg;
	const struct dns_zone_conf *zc = &p->name->zone->conf;
	uint8_t buf[4096];
	char why[DNS_REASON_MAX];
	ssize_t n;

	if ((n = recv(fd, buf, sizeof(buf), 0)) < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		/* An ICMP error on the connected socket: unreachable. */
		snprintf(why, sizeof(why), "no answer from the server (%s)",
		    strerror(errno));
		part_retry(p, false, why);
		return;
	}
	switch (dns_update_answer(p->u, zc, buf, (size_t)n, why,
	    sizeof(why))) {
	case DNS_ANSWER_OTHER:
		break;		/* not the answer: wait on */
	case DNS_ANSWER_DONE:
		part_agreed(p);
		break;
	case DNS_ANSWER_REFUSED:
		log_warn("dns: update of %s in %s refused: %s", p->name->fqdn,
		    p->zone, why);
		part_retry(p, true, why);
		break;
	case DNS_ANSWER_KEY_REJECTED:
		part_doubt(p, true, why);
		break;
	case DNS_ANSWER_UNVERIFIED:
		part_doubt(p, false, why);
		break;
	}
}

/* The wait is over: no answer, or none that verified. */
static void
part_timeout(struct dns_part *p)
{
	const struct dns_client *c = p->name->zone->client;
	char why[2 * DNS_REASON_MAX], a[IPADDR_STRLEN];

	ipaddr_fmt(&p->name->zone->conf.server, a, sizeof(a));
	if (p->doubt_key)
		snprintf(why, sizeof(why), "%s: %s rejects our key (unsigned, "
		    "no signed answer within %u ms)", p->doubt, a, c->wait_ms);
	else if (p->doubt[0] != '\0')
		snprintf(why, sizeof(why), "no signed answer from %s within "
		    "%u ms (ignored %s)", a, c->wait_ms, p->doubt);
	else
		snprintf(why, sizeof(why), "no answer from %s within %u ms",
		    a, c->wait_ms);
	part_retry(p, p->doubt_key, why);
}

static void
part_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dns_part *p = arg;

	if (!p->out)		/* the backoff is over */
		part_kick(p);
	else
		part_timeout(p);
}

static void
part_spec(const struct dns_part *p, struct dns_update_spec *s)
{
	const struct dns_name *n = p->name;

	memset(s, 0, sizeof(*s));
	s->zone = p->zone;
	s->owner = n->fqdn;
	s->add = p->want;
	s->ttl = n->zone->conf.ttl;
	switch (p->kind) {
	case PART_FORWARD:
		s->v4 = n->v4;
		s->v6 = n->v6;
		break;
	case PART_REVERSE4:
		s->ptr = true;
		s->target = n->fqdn;
		s->v4 = n->v4;
		break;
	default:
		s->ptr = true;
		s->target = n->fqdn;
		s->v6 = n->v6;
		break;
	}
}

static int
part_socket(struct dns_part *p, char *why, size_t whylen)
{
	const struct dns_zone_conf *zc = &p->name->zone->conf;
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	sl = (socklen_t)ipaddr_to_sockaddr(&zc->server, zc->port, &ss);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&ss, sl) == -1) {
		snprintf(why, whylen, "cannot reach the server: %s",
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	p->fd = fd;
	return 0;
}

/* Send the part's update now (a slot is free). */
static void
part_send(struct dns_part *p)
{
	struct dns_client *c = p->name->zone->client;
	struct dns_update_spec s;
	char why[DNS_REASON_MAX];
	uint16_t id;
	uint8_t *wire;
	size_t len;

	if (RAND_bytes((unsigned char *)&id, sizeof(id)) != 1)
		fatalx("dns: no random bytes for an ID");
	part_spec(p, &s);
	p->sent = p->want;
	p->out = true;
	c->inflight++;
	if (dns_update_build(&s, &p->name->zone->conf, id, &p->u, &wire,
	    &len, why, sizeof(why)) == -1) {
		part_retry(p, true, why);
		return;
	}
	if (part_socket(p, why, sizeof(why)) == -1 ||
	    send(p->fd, wire, len, 0) != (ssize_t)len) {
		if (p->fd != -1)
			snprintf(why, sizeof(why), "cannot send: %s",
			    strerror(errno));
		free(wire);
		part_retry(p, false, why);
		return;
	}
	free(wire);
	p->ev_read = event_new(c->base, p->fd, EV_READ | EV_PERSIST,
	    part_readable, p);
	if (p->ev_read == NULL || event_add(p->ev_read, NULL) == -1)
		fatalx("dns: cannot watch a socket");
	timer_ms(p->ev_timer, c->wait_ms);
}

/* Anything to say to the server?  Then send, or queue for a slot. */
static void
part_kick(struct dns_part *p)
{
	struct dns_client *c = p->name->zone->client;

	if (!p->used || p->out || p->queued ||
	    (p->want == p->have && p->confirmed))
		return;
	if (evtimer_pending(p->ev_timer, NULL))
		return;		/* backing off */
	if (c->inflight >= DNS_MAX_INFLIGHT) {
		TAILQ_INSERT_TAIL(&c->queue, p, qlink);
		p->queued = true;
		return;
	}
	part_send(p);
}

/* Names */

static void
part_init(struct dns_name *n, enum part_kind kind, const char *zone)
{
	struct dns_part *p = &n->part[kind];

	p->name = n;
	p->kind = kind;
	p->fd = -1;
	if (zone == NULL)
		return;
	p->zone = xstrdup(zone);
	p->used = true;
	p->want = true;
	p->ev_timer = evtimer_new(n->zone->client->base, part_timer, p);
	if (p->ev_timer == NULL)
		fatalx("dns: cannot make a timer");
}

static void
name_free(struct dns_name *n)
{
	struct dns_zone *z = n->zone;

	for (int i = 0; i < PART_COUNT; i++) {
		struct dns_part *p = &n->part[i];

		part_dequeue(p);
		part_close(p);
		if (p->ev_timer != NULL)
			event_free(p->ev_timer);
		free(p->zone);
	}
	TAILQ_REMOVE(&z->names, n, link);
	if (n->removing)
		TAILQ_REMOVE(&z->client->removing, n, rlink);
	free(n);
	if (z->released && TAILQ_EMPTY(&z->names))
		zone_free(z);
}

/* A removed name goes once every part agrees it is absent. */
static void
name_maybe_free(struct dns_name *n)
{
	if (!n->removing)
		return;
	for (int i = 0; i < PART_COUNT; i++)
		if (n->part[i].used && (n->part[i].have ||
		    !n->part[i].confirmed || n->part[i].out))
			return;
	name_free(n);
}

/* A removal of the same name in the same zone of the same server
 * (under older settings too) would delete what this one adds: it is
 * dropped. */
static void
cancel_removal(struct dns_zone *z, const char *fqdn)
{
	struct dns_name *n, *next;

	TAILQ_FOREACH_SAFE(n, &z->client->removing, rlink, next) {
		const struct dns_zone *o = n->zone;

		if (strcasecmp(n->fqdn, fqdn) == 0 &&
		    strcasecmp(o->zone, z->zone) == 0 &&
		    ipaddr_cmp(&o->conf.server, &z->conf.server) == 0 &&
		    o->conf.port == z->conf.port)
			name_free(n);
	}
}

struct dns_name *
dns_name_add(struct dns_zone *z, const char *fqdn, const struct ipaddr *v4,
    const struct ipaddr *v6, const char *rev4, const char *rev6)
{
	struct dns_name *n;

	if (!dns_name_valid(fqdn) || !dns_name_in_zone(fqdn, z->zone))
		return NULL;
	cancel_removal(z, fqdn);
	n = xcalloc(1, sizeof(*n));
	n->zone = z;
	strlcpy_s(n->fqdn, fqdn, sizeof(n->fqdn));
	if (v4 != NULL)
		n->v4 = *v4;
	if (v6 != NULL)
		n->v6 = *v6;
	TAILQ_INSERT_TAIL(&z->names, n, link);
	part_init(n, PART_FORWARD, z->zone);
	part_init(n, PART_REVERSE4, ipaddr_is_set(&n->v4) ? rev4 : NULL);
	part_init(n, PART_REVERSE6, ipaddr_is_set(&n->v6) ? rev6 : NULL);
	for (int i = 0; i < PART_COUNT; i++)
		part_kick(&n->part[i]);
	return n;
}

void
dns_name_remove(struct dns_name *n)
{
	if (n == NULL)
		return;
	n->removing = true;
	TAILQ_INSERT_TAIL(&n->zone->client->removing, n, rlink);
	for (int i = 0; i < PART_COUNT; i++) {
		struct dns_part *p = &n->part[i];

		if (!p->used)
			continue;
		p->want = false;
		p->confirmed = false;	/* always say it, even unconfirmed */
		p->backoff_ms = 0;
		if (!p->out)
			evtimer_del(p->ev_timer);
		part_kick(p);
	}
	name_maybe_free(n);
}

enum dns_state
dns_name_state(const struct dns_name *n, char *why, size_t len)
{
	bool all = true;

	if (why != NULL && len > 0)
		why[0] = '\0';
	for (int i = 0; i < PART_COUNT; i++) {
		const struct dns_part *p = &n->part[i];

		if (!p->used)
			continue;
		if (p->failed) {
			if (why != NULL)
				snprintf(why, len, "%s: %s", p->zone, p->why);
			return DNS_FAILED;
		}
		if (!p->have || !p->confirmed)
			all = false;
		if (!all && why != NULL && p->why[0] != '\0' && why[0] == '\0')
			snprintf(why, len, "%s: %s", p->zone, p->why);
	}
	return all ? DNS_REGISTERED : DNS_PENDING;
}

const char *
dns_name_fqdn(const struct dns_name *n)
{
	return n->fqdn;
}

void
dns_client_free(struct dns_client *c)
{
	struct dns_zone *z;
	struct dns_name *n;

	if (c == NULL)
		return;
	while ((z = TAILQ_FIRST(&c->zones)) != NULL) {
		z->released = true;
		if (TAILQ_EMPTY(&z->names)) {
			zone_free(z);
			continue;
		}
		/* The last name's free frees the released zone. */
		while ((n = TAILQ_FIRST(&z->names)) != NULL) {
			bool last = TAILQ_NEXT(n, link) == NULL;

			name_free(n);
			if (last)
				break;
		}
	}
	free(c);
}
