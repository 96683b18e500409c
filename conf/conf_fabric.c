/*
 * Fabric-wide pools (the fabric IPAM issue): the "ipam datastore etcd"
 * block and a pool's "scope", "block-size", "[no] borrow" and
 * "block-idle-release" statements.
 *
 * How this works: like conf_ipam.c, one handler per statement.  Whether
 * a fabric pool has a datastore to coordinate in, whether its prefixes
 * hold whole blocks, whether its MAC prefix leaves room for a MAC per
 * address, and whether an https endpoint has a CA depend on lines that
 * may come later; they are pending checks run once the file is read.
 */
#include "conf/conf_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void
cp_pool_fabric_defaults(struct conf_ipam_pool *pool)
{
	pool->scope = CONF_IPAM_SCOPE_LOCAL;
	pool->block_size = CONF_IPAM_DEFAULT_BLOCK_SIZE;
	pool->borrow = true;
	pool->block_idle_release = CONF_IPAM_DEFAULT_IDLE_RELEASE;
	pool->fabric_set = false;
}

/* ipam datastore etcd */

int
cp_cmd_ipam_datastore(struct parser *p)
{
	struct conf_ipam_datastore *ds = &p->conf->ipam_datastore;

	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	if (strcmp(cp_arg(p, 0), "etcd") != 0)
		return cp_err(p, "unknown datastore '%s' in '%s' (etcd)",
		    cp_arg(p, 0), p->line);
	if (ds->enabled)
		return cp_err(p, "duplicate '%s': there is one ipam datastore",
		    p->line);
	ds->enabled = true;
	cp_check_add(p, CHECK_IPAM_DATASTORE, ds);
	p->node = NODE_IPAM_DATASTORE;
	return 0;
}

/* HOST of a URL: a DNS name, an IPv4 address or [IPv6]; *end after it. */
static bool
url_host_valid(const char *s, const char **end)
{
	struct ipaddr a;
	char buf[IPADDR_STRLEN];
	const char *close;
	size_t len;

	if (*s == '[') {
		if ((close = strchr(s, ']')) == NULL ||
		    (len = (size_t)(close - s - 1)) == 0 || len >= sizeof(buf))
			return false;
		memcpy(buf, s + 1, len);
		buf[len] = '\0';
		*end = close + 1;
		return ipaddr_parse(buf, &a) == 0 && a.af == AF_INET6;
	}
	for (len = 0; isalnum((unsigned char)s[len]) || s[len] == '-' ||
	    s[len] == '.'; len++)
		;
	*end = s + len;
	return len > 0 && len < 254;
}

/* http://HOST[:PORT] or https://HOST[:PORT], nothing after. */
static bool
endpoint_valid(const char *url)
{
	const char *s, *end;
	uint64_t port;

	if (strlen(url) > CONF_DATASTORE_URL_MAX)
		return false;
	if (strncmp(url, "http://", 7) == 0)
		s = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		s = url + 8;
	else
		return false;
	if (!url_host_valid(s, &end))
		return false;
	if (*end == '\0')
		return true;
	return *end == ':' && parse_uint(end + 1, 1, UINT16_MAX, &port) == 0;
}

static int
cmd_ds_endpoint(struct parser *p)
{
	struct conf_ipam_datastore *ds = &p->conf->ipam_datastore;

	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	if (!endpoint_valid(cp_arg(p, 0)))
		return cp_err(p, "invalid endpoint '%s' in '%s' "
		    "(http://HOST:PORT or https://HOST:PORT, IPv6 as [ADDR])",
		    cp_arg(p, 0), p->line);
	for (size_t i = 0; i < ds->nendpoints; i++)
		if (strcmp(ds->endpoints[i], cp_arg(p, 0)) == 0)
			return cp_err(p, "duplicate '%s'", p->line);
	if (ds->nendpoints == CONF_DATASTORE_ENDPOINTS_MAX)
		return cp_err(p, "more than %d endpoints at '%s'",
		    CONF_DATASTORE_ENDPOINTS_MAX, p->line);
	ds->endpoints[ds->nendpoints++] = xstrdup(cp_arg(p, 0));
	return 0;
}

/* "/evpnd": keys live under it; letters, digits, '.', '_', '-', '/'. */
static int
cmd_ds_key_prefix(struct parser *p)
{
	struct conf_ipam_datastore *ds = &p->conf->ipam_datastore;
	const char *s;
	size_t len;

	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	s = cp_arg(p, 0);
	len = strlen(s);
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._-/", s[i]) ==
		    NULL)
			len = 0;
	if (len < 2 || len > CONF_DATASTORE_PREFIX_MAX || s[0] != '/' ||
	    s[len - 1] == '/' || strstr(s, "//") != NULL)
		return cp_err(p, "invalid key-prefix '%s' in '%s' (/NAME[/NAME"
		    "...], at most %d characters: letters, digits, '.', '_', "
		    "'-')", s, p->line, CONF_DATASTORE_PREFIX_MAX);
	free(ds->key_prefix);
	ds->key_prefix = xstrdup(s);
	return 0;
}

/* tls [cert FILE] [key FILE] [ca FILE], in any order, each once. */
static int
cmd_ds_tls(struct parser *p)
{
	struct conf_ipam_datastore *ds = &p->conf->ipam_datastore;
	char *v[3] = { NULL, NULL, NULL };
	static const char *const names[3] = { "cert", "key", "ca" };
	int n = cp_nargs(p), k;

	if (n == 0 || n % 2 != 0 || n > 6)
		return cp_err(p, "'%s': expected 'tls [cert FILE] [key FILE] "
		    "[ca FILE]'", p->line);
	for (int i = 0; i < n; i += 2) {
		for (k = 0; k < 3; k++)
			if (strcmp(cp_arg(p, i), names[k]) == 0)
				break;
		if (k == 3 || v[k] != NULL || strlen(cp_arg(p, i + 1)) >
		    CONF_MAX_PATH) {
			for (k = 0; k < 3; k++)
				free(v[k]);
			return cp_err(p, "'%s': expected 'tls [cert FILE] [key "
			    "FILE] [ca FILE]', each once", p->line);
		}
		v[k] = xstrdup(cp_arg(p, i + 1));
	}
	if ((v[0] == NULL) != (v[1] == NULL)) {
		for (k = 0; k < 3; k++)
			free(v[k]);
		return cp_err(p, "'%s': tls cert and key go together",
		    p->line);
	}
	free(ds->tls_cert);
	free(ds->tls_key);
	free(ds->tls_ca);
	ds->tls_cert = v[0];
	ds->tls_key = v[1];
	ds->tls_ca = v[2];
	return 0;
}

const struct command cp_ipam_datastore_cmds[CP_IPAM_DATASTORE_NCMDS] = {
	{ "endpoint", cmd_ds_endpoint },
	{ "key-prefix", cmd_ds_key_prefix },
	{ "tls", cmd_ds_tls },
	{ "exit", cp_cmd_exit },
};

/* ipam pool: fabric statements */

int
cp_cmd_pool_scope(struct parser *p)
{
	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	if (strcmp(cp_arg(p, 0), "local") == 0)
		p->pool->scope = CONF_IPAM_SCOPE_LOCAL;
	else if (strcmp(cp_arg(p, 0), "fabric") == 0)
		p->pool->scope = CONF_IPAM_SCOPE_FABRIC;
	else
		return cp_err(p, "invalid scope '%s' in '%s' (local or fabric)",
		    cp_arg(p, 0), p->line);
	return 0;
}

int
cp_cmd_pool_block_size(struct parser *p)
{
	uint64_t v;

	if (cp_want_args(p, 1, 1) == -1 ||
	    cp_arg_uint(p, 0, "block-size", CONF_IPAM_BLOCK_SIZE_MIN,
	    CONF_IPAM_BLOCK_SIZE_MAX, &v) == -1)
		return -1;
	p->pool->block_size = (uint8_t)v;
	p->pool->fabric_set = true;
	return 0;
}

int
cp_cmd_pool_borrow(struct parser *p)
{
	if (cp_want_args(p, 0, 0) == -1)
		return -1;
	p->pool->borrow = true;
	return 0;
}

int
cp_cmd_pool_no_borrow(struct parser *p)
{
	if (cp_want_args(p, 0, 0) == -1)
		return -1;
	p->pool->borrow = false;
	p->pool->fabric_set = true;
	return 0;
}

/* Up to a week; 0 keeps empty blocks for good. */
int
cp_cmd_pool_block_idle_release(struct parser *p)
{
	uint64_t v;

	if (cp_want_args(p, 1, 1) == -1 ||
	    cp_arg_uint(p, 0, "block-idle-release", 0, 604800, &v) == -1)
		return -1;
	p->pool->block_idle_release = (uint32_t)v;
	p->pool->fabric_set = true;
	return 0;
}

/* Whole-file checks */

/*
 * A fabric pool's prefixes are cut into blocks: an IPv4 prefix must be
 * at most block-size long, an IPv6 one at most 96 + block-size (blocks
 * of both families hold the same number of addresses).
 */
static int
check_fabric_prefixes(struct parser *p, const struct conf_ipam_pool *pool)
{
	const struct conf_prefix *cp;
	char buf[PREFIX_STRLEN];
	unsigned max;

	TAILQ_FOREACH(cp, &pool->prefixes, entry) {
		max = cp->prefix.addr.af == AF_INET ? pool->block_size :
		    96U + pool->block_size;
		if (cp->prefix.len > max)
			return cp_err(p, "ipam pool %s: prefix %s is smaller "
			    "than one block (block-size %u: /%u blocks)",
			    pool->name, prefix_fmt(&cp->prefix, buf,
			    sizeof(buf)), pool->block_size, max);
	}
	return 0;
}

/*
 * Fabric pools derive a MAC from each address (mac-prefix, one bit for
 * the family, the address's offset in the pool): the prefix must leave
 * room for every IPv4 address of the pool.
 */
static int
check_fabric_macs(struct parser *p, const struct conf_ipam_pool *pool)
{
	const struct conf_prefix *cp;
	unsigned mlen = pool->mac_prefix_len ? pool->mac_prefix_len : 1;
	unsigned bits = 8 * (6 - mlen) - 1;
	double size = 0;

	TAILQ_FOREACH(cp, &pool->prefixes, entry)
		if (cp->prefix.addr.af == AF_INET)
			size += (double)(1ULL << (32 - cp->prefix.len));
	if (size <= (double)(1ULL << bits))
		return 0;
	return cp_err(p, "ipam pool %s: a %u-byte mac-prefix leaves %u bits "
	    "for addresses, too few for the pool's %.0f IPv4 addresses "
	    "(fabric pools derive each MAC from its address)", pool->name,
	    mlen, bits, size);
}

static int
check_fabric(struct parser *p, const struct conf_ipam_pool *pool)
{
	if (pool->scope == CONF_IPAM_SCOPE_LOCAL) {
		if (pool->fabric_set)
			return cp_err(p, "ipam pool %s: block-size, no borrow "
			    "and block-idle-release apply to 'scope fabric' "
			    "pools only", pool->name);
		return 0;
	}
	if (!p->conf->ipam_datastore.enabled)
		return cp_err(p, "ipam pool %s: scope fabric needs an 'ipam "
		    "datastore etcd' block", pool->name);
	if (check_fabric_prefixes(p, pool) == -1)
		return -1;
	return check_fabric_macs(p, pool);
}

static int
check_datastore(struct parser *p, const struct conf_ipam_datastore *ds)
{
	bool https = false;

	if (ds->nendpoints == 0)
		return cp_err(p, "ipam datastore: no 'endpoint' statement");
	for (size_t i = 0; i < ds->nendpoints; i++)
		if (strncmp(ds->endpoints[i], "https://", 8) == 0)
			https = true;
	if (https && ds->tls_ca == NULL)
		return cp_err(p, "ipam datastore: https endpoints need 'tls ca "
		    "FILE'");
	return 0;
}

int
cp_fabric_check(struct parser *p, const struct pending_check *chk)
{
	switch (chk->kind) {
	case CHECK_IPAM_FABRIC:
		return check_fabric(p, chk->obj);
	case CHECK_IPAM_DATASTORE:
		return check_datastore(p, chk->obj);
	default:
		break;
	}
	return 0;
}
