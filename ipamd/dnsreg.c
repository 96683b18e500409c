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
 */
#include "ipamd/ipamd_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	char			 error[DNS_REASON_MAX];
};
TAILQ_HEAD(dnsreg_pool_list, dnsreg_pool);

struct dnsreg_entry {
	struct hash_node	 hn;		/* dnsreg->entries */
	uint32_t		 hash;
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

/* Take an entry out of the table; its records are removed. */
static void
entry_drop(struct dnsreg *dr, struct dnsreg_entry *e)
{
	hash_remove(&dr->entries, &e->hn);
	dns_name_remove(e->name);
	free(e);
}

struct dnsreg *
dnsreg_create(struct event_base *base)
{
	struct dnsreg *dr = xcalloc(1, sizeof(*dr));

	dr->client = dns_client_new(base);
	TAILQ_INIT(&dr->pools);
	hash_init(&dr->entries, &entry_ops, 0);
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
	    strlen(name) < len ? 0 : -1;
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

/* Register a committed allocation when its pool and its name ask. */
void
dnsreg_alloc(struct ipamd *im, const struct ipam_alloc *a)
{
	struct dnsreg *dr = im->dns;
	struct dnsreg_pool *dp = dr != NULL ? pool_find(dr, a->pool) : NULL;
	char fqdn[DNS_NAME_MAX + 1], rev4[80], rev6[80];
	const struct ipam_pool *p;
	struct dnsreg_entry *e;
	int rv;

	if (dp == NULL || dp->conf.zone == NULL ||
	    (rv = dnsreg_fqdn(&dp->conf, a->pool, a, fqdn, sizeof(fqdn))) ==
	    1)
		return;
	if ((e = entry_find(dr, a->pool, a->resource)) != NULL) {
		if (e->name != NULL && strcmp(e->fqdn, fqdn) == 0 &&
		    ipaddr_cmp(&e->v4, &a->ip) == 0 &&
		    ipaddr_cmp(&e->v6, &a->ipv6) == 0)
			return;		/* already under way */
		entry_drop(dr, e);
	}
	e = xcalloc(1, sizeof(*e));
	strlcpy_s(e->resource, a->resource, sizeof(e->resource));
	strlcpy_s(e->pool, a->pool, sizeof(e->pool));
	e->hash = entry_key_hash(e->pool, e->resource);
	hash_insert(&dr->entries, &e->hn);
	strlcpy_s(e->fqdn, fqdn, sizeof(e->fqdn));
	e->v4 = a->ip;
	e->v6 = a->ipv6;
	if (dp->zone == NULL) {
		snprintf(e->error, sizeof(e->error), "%s", dp->error);
		return;
	}
	if (rv == -1) {
		snprintf(e->error, sizeof(e->error), "'%.100s' is not a name "
		    "in zone %s", fqdn, dp->conf.zone);
		return;
	}
	p = ipam_pool_find(im->ipam, a->pool);
	e->name = dns_name_add(dp->zone, fqdn, &a->ip, &a->ipv6,
	    dp->conf.reverse && p != NULL && reverse_zone_of(p, &a->ip, rev4,
	    sizeof(rev4)) ? rev4 : NULL, dp->conf.reverse && p != NULL &&
	    reverse_zone_of(p, &a->ipv6, rev6, sizeof(rev6)) ? rev6 : NULL);
	if (e->name == NULL)
		snprintf(e->error, sizeof(e->error), "'%.100s' is not a name "
		    "in zone %s", fqdn, dp->conf.zone);
}

void
dnsreg_release(struct ipamd *im, const char *pool, const char *resource)
{
	struct dnsreg_entry *e;

	if (im->dns != NULL && (e = entry_find(im->dns, pool, resource)) !=
	    NULL)
		entry_drop(im->dns, e);
}

static int
alloc_register(const struct ipam_alloc *a, void *arg)
{
	dnsreg_alloc(arg, a);
	return 0;
}

/* Every registration of the pool out of the zone, and the zone let go. */
static void
pool_clear(struct dnsreg *dr, struct dnsreg_pool *dp)
{
	struct hash_iter it;
	struct hash_node *n;

	/* The iterator is past n: n may go. */
	HASH_FOREACH(n, &it, &dr->entries) {
		struct dnsreg_entry *e = hash_entry(n, struct dnsreg_entry, hn);

		if (strcmp(e->pool, dp->pool) == 0)
			entry_drop(dr, e);
	}
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
		pool_clear(dr, dp);
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
	pool_clear(im->dns, dp);
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
