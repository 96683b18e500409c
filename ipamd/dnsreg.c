/*
 * DNS registration of allocations: what a pool's "dns" statements ask,
 * carried out by dns/ on the event loop.
 *
 * How this works: each pool with a zone gets a dns_zone (its settings
 * are kept to notice a change).  A committed allocation is named by its
 * dns-name label, else by the pool's name template ({resource}, {pool},
 * {ip} and {label:KEY}, each made of letters, digits and '-'); a name
 * that is not absolute (no final dot, not ending in the zone) is
 * completed with the zone.  The name gets the allocation's addresses
 * and, with "reverse", PTR records in the reverse zones of the pool
 * prefixes holding them.  A committed release removes them.  A change
 * of a pool's settings takes its names out of the old zone and puts
 * them in the new one; at start every restored allocation is put in
 * again (an update replaces, so this is harmless).  Registrations are
 * found by pool and resource (names are per tenant) in a common/hash.h
 * table; none of this ever holds
 * an allocation up: its answer says "pending" until the server agrees.
 *
 * A name has one holder.  Putting a name in replaces its RRsets (RFC
 * 2136 §2.5.2), so an allocation must not take one another allocation
 * registered: a second table, by name, holds the entries whose records
 * are in (or on their way in), and an allocation asking for a held name
 * is refused ("failed", a log line) and waits as a contender; when the
 * holder goes, a contender takes the name.  The zone apex is never an
 * allocation's name (its SOA and NS live there).
 */
#include "ipamd/ipamd_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/util.h"
#include "conf/conf.h"
#include "dns/dns.h"

struct dnsreg_pool {
	TAILQ_ENTRY(dnsreg_pool) entry;
	char			 pool[IPAM_NAME_MAX + 1];
	struct conf_ipam_dns	 conf;		/* a copy, to compare */
	struct dns_zone		*zone;		/* NULL: settings refused */
	bool			 clearing;	/* its entries are going */
	char			 error[DNS_REASON_MAX];
};
TAILQ_HEAD(dnsreg_pool_list, dnsreg_pool);

struct dnsreg_entry {
	struct hash_node	 hn;		/* dnsreg->entries */
	uint32_t		 hash;
	struct hash_node	 fn;		/* dnsreg->holders */
	uint32_t		 fhash;
	bool			 holds;		/* in holders: name is ours */
	bool			 contends;	/* refused: another holds fqdn */
	char			 resource[IPAM_RESOURCE_MAX + 1];
	char			 pool[IPAM_NAME_MAX + 1];
	char			 fqdn[DNS_NAME_MAX + 1];
	struct ipaddr		 v4, v6;
	struct dns_name		*name;		/* NULL: error says why */
	char			 error[DNS_REASON_MAX + 64];
};

struct dnsreg {
	struct dns_client	*client;
	struct dnsreg_pool_list	 pools;
	struct hash_table	 entries;	/* by pool and resource */
	struct hash_table	 holders;	/* entries by fqdn */
	size_t			 contenders;
};

/* Settings */

static void
dns_conf_clear(struct conf_ipam_dns *d)
{
	free(d->zone);
	free(d->tsig_alg);
	free(d->tsig_name);
	if (d->tsig_secret != NULL)
		explicit_bzero(d->tsig_secret, strlen(d->tsig_secret));
	free(d->tsig_secret);
	free(d->name_template);
	memset(d, 0, sizeof(*d));
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
dns_conf_copy(struct conf_ipam_dns *to, const struct conf_ipam_dns *from)
{
	*to = *from;
	to->zone = dup_or_null(from->zone);
	to->tsig_alg = dup_or_null(from->tsig_alg);
	to->tsig_name = dup_or_null(from->tsig_name);
	to->tsig_secret = dup_or_null(from->tsig_secret);
	to->name_template = dup_or_null(from->name_template);
}

static bool
str_same(const char *a, const char *b)
{
	return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

static bool
dns_conf_same(const struct conf_ipam_dns *a, const struct conf_ipam_dns *b)
{
	return str_same(a->zone, b->zone) &&
	    ipaddr_cmp(&a->server, &b->server) == 0 &&
	    str_same(a->tsig_alg, b->tsig_alg) &&
	    str_same(a->tsig_name, b->tsig_name) &&
	    str_same(a->tsig_secret, b->tsig_secret) &&
	    a->reverse == b->reverse && a->ttl == b->ttl &&
	    str_same(a->name_template, b->name_template);
}

/*
 * Registrations by pool and resource (names an API client chose: keyed
 * hash of "POOL\0RESOURCE").
 */
struct entry_key {
	const char	*pool;
	const char	*resource;
};

static uint32_t
entry_key_hash(const char *pool, const char *resource)
{
	char buf[IPAM_NAME_MAX + 1 + IPAM_RESOURCE_MAX + 1];
	size_t pl = strnlen(pool, IPAM_NAME_MAX);
	size_t rl = strnlen(resource, IPAM_RESOURCE_MAX);

	memcpy(buf, pool, pl);
	buf[pl] = '\0';
	memcpy(buf + pl + 1, resource, rl);
	return hash_bytes_keyed(buf, pl + 1 + rl);
}

static uint32_t
entry_hash(const struct hash_node *n)
{
	return hash_entry(n, struct dnsreg_entry, hn)->hash;
}

static bool
entry_equal(const struct hash_node *n, const void *key)
{
	const struct dnsreg_entry *e = hash_entry(n, struct dnsreg_entry, hn);
	const struct entry_key *k = key;

	return strcmp(e->pool, k->pool) == 0 &&
	    strcmp(e->resource, k->resource) == 0;
}

static const struct hash_ops entry_ops = { entry_hash, entry_equal };

static struct dnsreg_entry *
entry_find(const struct dnsreg *dr, const char *pool, const char *resource)
{
	struct entry_key k = { pool, resource };
	struct hash_node *n = hash_find(&dr->entries, entry_key_hash(pool,
	    resource), &k);

	return n != NULL ? hash_entry(n, struct dnsreg_entry, hn) : NULL;
}

/* Holders by name (DNS names compare without case: RFC 4343). */
static uint32_t
fqdn_hash(const char *fqdn)
{
	char buf[DNS_NAME_MAX + 1];
	size_t n = strnlen(fqdn, DNS_NAME_MAX);

	for (size_t i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)fqdn[i]);
	return hash_bytes_keyed(buf, n);
}

static uint32_t
holder_hash(const struct hash_node *n)
{
	return hash_entry(n, struct dnsreg_entry, fn)->fhash;
}

static bool
holder_equal(const struct hash_node *n, const void *key)
{
	return strcasecmp(hash_entry(n, struct dnsreg_entry, fn)->fqdn,
	    key) == 0;
}

static const struct hash_ops holder_ops = { holder_hash, holder_equal };

static struct dnsreg_entry *
holder_find(const struct dnsreg *dr, const char *fqdn)
{
	struct hash_node *n = hash_find(&dr->holders, fqdn_hash(fqdn), fqdn);

	return n != NULL ? hash_entry(n, struct dnsreg_entry, fn) : NULL;
}

/* Take an entry out of the tables; its records are removed.  Whether
 * it held its name (then free for a contender: contender_promote()). */
static bool
entry_drop(struct dnsreg *dr, struct dnsreg_entry *e)
{
	bool held = e->holds;

	hash_remove(&dr->entries, &e->hn);
	if (e->holds)
		hash_remove(&dr->holders, &e->fn);
	if (e->contends)
		dr->contenders--;
	dns_name_remove(e->name);
	free(e);
	return held;
}

struct dnsreg *
dnsreg_create(struct event_base *base)
{
	struct dnsreg *dr = xcalloc(1, sizeof(*dr));

	dr->client = dns_client_new(base);
	TAILQ_INIT(&dr->pools);
	hash_init(&dr->entries, &entry_ops, 0);
	hash_init(&dr->holders, &holder_ops, 0);
	return dr;
}

/* Nothing more is sent: records stay in DNS, the next start puts them
 * in again. */
void
dnsreg_free(struct dnsreg *dr)
{
	struct dnsreg_pool *dp;
	struct hash_iter it;
	struct hash_node *n;

	if (dr == NULL)
		return;
	dns_client_free(dr->client);
	HASH_FOREACH(n, &it, &dr->entries)
		free(hash_entry(n, struct dnsreg_entry, hn));
	hash_free(&dr->entries);
	hash_free(&dr->holders);
	while ((dp = TAILQ_FIRST(&dr->pools)) != NULL) {
		TAILQ_REMOVE(&dr->pools, dp, entry);
		dns_conf_clear(&dp->conf);
		free(dp);
	}
	free(dr);
}

/* Names */

/* Letters and digits kept (lower case), dots kept when asked, anything
 * else a '-'. */
static void
name_append(char *out, size_t len, const char *s, bool dots)
{
	size_t off = strlen(out);

	for (; *s != '\0' && off + 1 < len; s++) {
		unsigned char c = (unsigned char)*s;

		out[off++] = isalnum(c) ? (char)tolower(c) :
		    (dots && c == '.') ? '.' : '-';
	}
	out[off] = '\0';
}

/* {ip}: the IPv4 address (else the IPv6 one) with '-' for its dots or
 * colons. */
static void
name_ip(char *out, size_t len, const struct ipam_alloc *a)
{
	char buf[IPADDR_STRLEN];

	ipaddr_fmt(ipaddr_is_set(&a->ip) ? &a->ip : &a->ipv6, buf,
	    sizeof(buf));
	name_append(out, len, buf, false);
}

static void
template_expand(const char *t, const char *pool, const struct ipam_alloc *a,
    char *out, size_t len)
{
	char value[IPAM_LABEL_VALUE_MAX + 1], key[IPAM_LABEL_KEY_MAX + 1];

	out[0] = '\0';
	while (*t != '\0' && strlen(out) + 1 < len) {
		const char *end = *t == '{' ? strchr(t, '}') : NULL;
		size_t klen = end != NULL ? (size_t)(end - t) - 7 : 0;

		if (end == NULL) {
			char c[2] = { *t++, '\0' };

			name_append(out, len, c, true);
			continue;
		}
		if (strncmp(t, "{resource}", 10) == 0)
			name_append(out, len, a->resource, false);
		else if (strncmp(t, "{pool}", 6) == 0)
			name_append(out, len, pool, false);
		else if (strncmp(t, "{ip}", 4) == 0)
			name_ip(out, len, a);
		else if (strncmp(t, "{label:", 7) == 0 && klen < sizeof(key)) {
			memcpy(key, t + 7, klen);
			key[klen] = '\0';
			if (ipam_label_get(a->labels, key, value,
			    sizeof(value)) != NULL)
				name_append(out, len, value, true);
		}
		t = end + 1;
	}
}

int
dnsreg_fqdn(const struct conf_ipam_dns *d, const char *pool,
    const struct ipam_alloc *a, char *out, size_t len)
{
	char name[2 * DNS_NAME_MAX + 2], label[IPAM_LABEL_VALUE_MAX + 1];
	size_t n;

	if (ipam_label_get(a->labels, "dns-name", label, sizeof(label)) !=
	    NULL) {
		name[0] = '\0';
		name_append(name, sizeof(name), label, true);
	} else if (d->name_template != NULL)
		template_expand(d->name_template, pool, a, name, sizeof(name));
	else
		return 1;
	n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		name[n - 1] = '\0';		/* absolute as written */
	else if (!dns_name_in_zone(name, d->zone))
		snprintf(name + n, sizeof(name) - n, ".%s", d->zone);
	snprintf(out, len, "%s", name);
	return dns_name_valid(name) && dns_name_in_zone(name, d->zone) &&
	    strcasecmp(name, d->zone) != 0 && strlen(name) < len ? 0 : -1;
}

/* The reverse zone of ip: from the pool prefix that holds it. */
static bool
reverse_zone_of(const struct ipam_pool *p, const struct ipaddr *ip,
    char *out, size_t len)
{
	const struct prefix *pfx;
	size_t n = ipam_pool_prefixes(p, &pfx);

	for (size_t i = 0; i < n && ipaddr_is_set(ip); i++)
		if (prefix_contains(&pfx[i], ip))
			return dns_reverse_zone(&pfx[i], out, len) == 0;
	return false;
}

static struct dnsreg_pool *
pool_find(const struct dnsreg *dr, const char *pool)
{
	struct dnsreg_pool *dp;

	TAILQ_FOREACH(dp, &dr->pools, entry)
		if (strcmp(dp->pool, pool) == 0)
			return dp;
	return NULL;
}

/*
 * Put the entry's name in its pool's zone, unless another entry holds
 * the name: then it is refused, and contends for the name.
 */
static void
entry_register(struct ipamd *im, const struct dnsreg_pool *dp,
    struct dnsreg_entry *e)
{
	struct dnsreg *dr = im->dns;
	const struct ipam_pool *p = ipam_pool_find(im->ipam, e->pool);
	const struct dnsreg_entry *h = holder_find(dr, e->fqdn);
	char rev4[80], rev6[80];

	if (h != NULL) {
		snprintf(e->error, sizeof(e->error), "'%.100s' is registered "
		    "for another allocation", e->fqdn);
		log_warn("ipam: pool %s: %s cannot register %s: %s of pool %s "
		    "holds it", e->pool, e->resource, e->fqdn, h->resource,
		    h->pool);
		e->contends = true;
		dr->contenders++;
		return;
	}
	e->name = dns_name_add(dp->zone, e->fqdn, &e->v4, &e->v6,
	    dp->conf.reverse && p != NULL && reverse_zone_of(p, &e->v4, rev4,
	    sizeof(rev4)) ? rev4 : NULL, dp->conf.reverse && p != NULL &&
	    reverse_zone_of(p, &e->v6, rev6, sizeof(rev6)) ? rev6 : NULL);
	if (e->name == NULL) {
		snprintf(e->error, sizeof(e->error), "'%.100s' is not a name "
		    "in zone %s", e->fqdn, dp->conf.zone);
		return;
	}
	e->error[0] = '\0';
	e->fhash = fqdn_hash(e->fqdn);
	hash_insert(&dr->holders, &e->fn);
	e->holds = true;
}

/* A name let go: the first contender for it (outside a pool whose
 * entries are going) takes it. */
static void
contender_promote(struct ipamd *im, const char *fqdn)
{
	struct dnsreg *dr = im->dns;
	struct dnsreg_pool *dp;
	struct hash_iter it;
	struct hash_node *n;

	if (dr->contenders == 0 || holder_find(dr, fqdn) != NULL)
		return;
	HASH_FOREACH(n, &it, &dr->entries) {
		struct dnsreg_entry *e = hash_entry(n, struct dnsreg_entry, hn);

		if (!e->contends || strcasecmp(e->fqdn, fqdn) != 0 ||
		    (dp = pool_find(dr, e->pool)) == NULL || dp->clearing ||
		    dp->zone == NULL)
			continue;
		e->contends = false;
		dr->contenders--;
		log_info("ipam: pool %s: %s registers %s, let go by its holder",
		    e->pool, e->resource, e->fqdn);
		entry_register(im, dp, e);
		return;
	}
}

/* Drop an entry; a name it held goes to a contender. */
static void
entry_release(struct ipamd *im, struct dnsreg_entry *e)
{
	char fqdn[DNS_NAME_MAX + 1];

	strlcpy_s(fqdn, e->fqdn, sizeof(fqdn));
	if (entry_drop(im->dns, e))
		contender_promote(im, fqdn);
}

/* Register a committed allocation when its pool and its name ask. */
void
dnsreg_alloc(struct ipamd *im, const struct ipam_alloc *a)
{
	struct dnsreg *dr = im->dns;
	struct dnsreg_pool *dp = dr != NULL ? pool_find(dr, a->pool) : NULL;
	char fqdn[DNS_NAME_MAX + 1], old[DNS_NAME_MAX + 1] = "";
	struct dnsreg_entry *e;
	bool held = false;
	int rv;

	if (dp == NULL || dp->conf.zone == NULL ||
	    (rv = dnsreg_fqdn(&dp->conf, a->pool, a, fqdn, sizeof(fqdn))) ==
	    1)
		return;
	if ((e = entry_find(dr, a->pool, a->resource)) != NULL) {
		if ((e->name != NULL || e->contends) &&
		    strcmp(e->fqdn, fqdn) == 0 &&
		    ipaddr_cmp(&e->v4, &a->ip) == 0 &&
		    ipaddr_cmp(&e->v6, &a->ipv6) == 0)
			return;		/* already under way */
		/* Contenders only after the new entry: its name stays its
		 * own when it keeps it. */
		strlcpy_s(old, e->fqdn, sizeof(old));
		held = entry_drop(dr, e);
	}
	e = xcalloc(1, sizeof(*e));
	strlcpy_s(e->resource, a->resource, sizeof(e->resource));
	strlcpy_s(e->pool, a->pool, sizeof(e->pool));
	e->hash = entry_key_hash(e->pool, e->resource);
	hash_insert(&dr->entries, &e->hn);
	strlcpy_s(e->fqdn, fqdn, sizeof(e->fqdn));
	e->v4 = a->ip;
	e->v6 = a->ipv6;
	if (dp->zone == NULL)
		snprintf(e->error, sizeof(e->error), "%s", dp->error);
	else if (rv == -1 && strcasecmp(fqdn, dp->conf.zone) == 0)
		snprintf(e->error, sizeof(e->error), "'%.100s' is the apex of "
		    "the zone, not a name for an allocation", fqdn);
	else if (rv == -1)
		snprintf(e->error, sizeof(e->error), "'%.100s' is not a name "
		    "in zone %s", fqdn, dp->conf.zone);
	else
		entry_register(im, dp, e);
	if (held)
		contender_promote(im, old);
}

void
dnsreg_release(struct ipamd *im, const char *pool, const char *resource)
{
	struct dnsreg_entry *e;

	if (im->dns != NULL && (e = entry_find(im->dns, pool, resource)) !=
	    NULL)
		entry_release(im, e);
}

static int
alloc_register(const struct ipam_alloc *a, void *arg)
{
	dnsreg_alloc(arg, a);
	return 0;
}

/* Every registration of the pool out of the zone, and the zone let go;
 * names they held go to other pools' contenders. */
static void
pool_clear(struct ipamd *im, struct dnsreg_pool *dp)
{
	struct hash_iter it;
	struct hash_node *n;

	dp->clearing = true;
	/* The iterator is past n: n may go (a promotion removes nothing). */
	HASH_FOREACH(n, &it, &im->dns->entries) {
		struct dnsreg_entry *e = hash_entry(n, struct dnsreg_entry, hn);

		if (strcmp(e->pool, dp->pool) == 0)
			entry_release(im, e);
	}
	dp->clearing = false;
	dns_zone_release(dp->zone);
	dp->zone = NULL;
	dns_conf_clear(&dp->conf);
}

void
dnsreg_pool(struct ipamd *im, const char *pool,
    const struct conf_ipam_dns *d)
{
	struct dnsreg *dr = im->dns;
	struct dnsreg_pool *dp = pool_find(dr, pool);
	struct dns_zone_conf zc;

	if (dp != NULL && dns_conf_same(&dp->conf, d))
		return;
	if (dp == NULL && d->zone == NULL)
		return;
	if (dp == NULL) {
		dp = xcalloc(1, sizeof(*dp));
		strlcpy_s(dp->pool, pool, sizeof(dp->pool));
		TAILQ_INSERT_TAIL(&dr->pools, dp, entry);
	} else
		pool_clear(im, dp);
	dns_conf_copy(&dp->conf, d);
	dp->error[0] = '\0';
	if (d->zone == NULL)
		return;
	memset(&zc, 0, sizeof(zc));
	zc.zone = d->zone;
	zc.server = d->server;
	zc.tsig_alg = d->tsig_alg;
	zc.tsig_name = d->tsig_name;
	zc.tsig_secret = d->tsig_secret;
	zc.ttl = d->ttl;
	if ((dp->zone = dns_zone_new(dr->client, &zc, dp->error,
	    sizeof(dp->error))) == NULL)
		log_warn("ipam: pool %s: DNS registration in %s is off: %s",
		    pool, d->zone, dp->error);
	ipam_foreach(im->ipam, pool, alloc_register, im);
}

void
dnsreg_pool_gone(struct ipamd *im, const char *pool)
{
	struct dnsreg_pool *dp = pool_find(im->dns, pool);

	if (dp == NULL)
		return;
	pool_clear(im, dp);
	TAILQ_REMOVE(&im->dns->pools, dp, entry);
	free(dp);
}

const char *
ipamd_dns_state(const struct ipamd *im, const char *pool,
    const char *resource, char *buf, size_t len, const char **fqdn)
{
	struct dnsreg_entry *e;
	char why[DNS_REASON_MAX + 64];

	if (im->dns == NULL || (e = entry_find(im->dns, pool, resource)) ==
	    NULL)
		return NULL;
	*fqdn = e->fqdn;
	if (e->name == NULL) {
		snprintf(buf, len, "failed: %s", e->error);
		return buf;
	}
	switch (dns_name_state(e->name, why, sizeof(why))) {
	case DNS_REGISTERED:
		snprintf(buf, len, "registered");
		break;
	case DNS_FAILED:
		snprintf(buf, len, "failed: %s", why);
		break;
	default:
		snprintf(buf, len, "pending");
		break;
	}
	return buf;
}
