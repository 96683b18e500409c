/*
 * The IPAM statements: "ipam pool NAME" with its settings and its
 * "shadow" block.
 *
 * How this works: like conf_cmd.c, one handler per statement writing
 * into p->pool.  Whether a gateway, exclusion or reservation lies inside
 * the pool's prefixes, whether a pool has a prefix at all, whether two
 * pools of one tenant overlap, and min-warm <= max-warm depend on lines
 * that may come later, so those are recorded as pending checks (with
 * their own line) and run once the file is read.  Fractions and cost
 * weights are read as fixed point (millionths), so printing them back is
 * exact and the printer's output is a fixed point.
 */
#include "conf/conf_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* Helpers */

/* "D[.DDDDDD]" into millionths, at most max_micro. */
static int
parse_micro(const char *s, uint64_t max_micro, uint64_t *out)
{
	uint64_t v = 0, frac = 0;
	int nfrac = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max_micro / CONF_MICRO + 1)
			return -1;
	}
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		for (; isdigit((unsigned char)*s); s++) {
			if (++nfrac > 6)
				return -1;
			frac = frac * 10 + (uint64_t)(*s - '0');
		}
		for (int i = nfrac; i < 6; i++)
			frac *= 10;
	}
	if (*s != '\0' || v * CONF_MICRO + frac > max_micro)
		return -1;
	*out = v * CONF_MICRO + frac;
	return 0;
}

static int
arg_micro(struct parser *p, int i, const char *what, uint64_t min,
    uint64_t max, uint64_t *out)
{
	char lo[32], hi[32];

	if (parse_micro(cp_arg(p, i), max, out) == 0 && *out >= min)
		return 0;
	return cp_err(p, "invalid %s '%s' in '%s' (%s..%s)", what,
	    cp_arg(p, i), p->line, conf_fmt_micro(min, lo, sizeof(lo)),
	    conf_fmt_micro(max, hi, sizeof(hi)));
}

const char *
conf_fmt_micro(uint64_t v, char *buf, size_t len)
{
	uint64_t frac = v % CONF_MICRO;
	int n = snprintf(buf, len, "%llu", (unsigned long long)(v /
	    CONF_MICRO));

	if (frac != 0 && n > 0 && (size_t)n < len) {
		char f[8];
		int end = 6;

		snprintf(f, sizeof(f), "%06llu", (unsigned long long)frac);
		while (end > 0 && f[end - 1] == '0')
			end--;
		f[end] = '\0';
		snprintf(buf + n, len - (size_t)n, ".%s", f);
	}
	return buf;
}

/* Names travel in URLs: letters, digits, '.', '_' and '-'. */
static int
arg_name(struct parser *p, int i, const char *what, char **out)
{
	const char *s = cp_arg(p, i);
	size_t len = strlen(s);

	for (size_t k = 0; k < len; k++)
		if (!isalnum((unsigned char)s[k]) && strchr("._-", s[k]) ==
		    NULL)
			len = 0;
	if (len == 0 || len > CONF_IPAM_NAME_MAX)
		return cp_err(p, "invalid %s '%s' in '%s' (1..%d letters, "
		    "digits, '.', '_' or '-')", what, s, p->line,
		    CONF_IPAM_NAME_MAX);
	free(*out);
	*out = xstrdup(s);
	return 0;
}

static const struct conf_prefix *
pool_prefix_of(const struct conf_ipam_pool *pool, const struct ipaddr *ip)
{
	const struct conf_prefix *cp;

	TAILQ_FOREACH(cp, &pool->prefixes, entry)
		if (prefix_contains(&cp->prefix, ip))
			return cp;
	return NULL;
}

/* Top level: ipam pool NAME */

static void
shadow_defaults(struct conf_ipam_shadow *sh)
{
	sh->horizon = CONF_SHADOW_DEFAULT_HORIZON;
	sh->confidence = CONF_SHADOW_DEFAULT_CONFIDENCE;
	sh->min_warm = CONF_SHADOW_DEFAULT_MIN_WARM;
	sh->max_warm = CONF_SHADOW_DEFAULT_MAX_WARM;
	sh->max_pool_fraction = CONF_SHADOW_DEFAULT_MAX_FRACTION;
	sh->cost_wastage = CONF_SHADOW_DEFAULT_WASTAGE;
	sh->cost_delay = CONF_SHADOW_DEFAULT_DELAY;
	sh->mode = CONF_SHADOW_ACTIVE;
	sh->lead_time = CONF_SHADOW_DEFAULT_LEAD_TIME;
	sh->adapt = true;
	sh->jitter = 0;
	sh->model = CONF_SHADOW_DEFAULT_MODEL;
	conf_shadow_group_by_default(sh);
}

static const char *const group_by_default[] = { "job", "app" };

void
conf_shadow_group_by_default(struct conf_ipam_shadow *sh)
{
	memset(sh->group_by, 0, sizeof(sh->group_by));
	for (size_t i = 0; i < nitems(group_by_default); i++)
		strlcpy_s(sh->group_by[i], group_by_default[i],
		    sizeof(sh->group_by[i]));
	sh->ngroup_by = nitems(group_by_default);
}

bool
conf_shadow_group_by_is_default(const struct conf_ipam_shadow *sh)
{
	if (sh->ngroup_by != nitems(group_by_default))
		return false;
	for (size_t i = 0; i < nitems(group_by_default); i++)
		if (strcmp(sh->group_by[i], group_by_default[i]) != 0)
			return false;
	return true;
}

int
cp_cmd_ipam_pool(struct parser *p)
{
	struct conf_ipam_pool *pool;
	char *name = NULL;

	if (cp_want_args(p, 1, 1) == -1 ||
	    arg_name(p, 0, "pool name", &name) == -1)
		return -1;
	if (conf_ipam_pool_find(p->conf, name) != NULL) {
		free(name);
		return cp_err(p, "duplicate '%s': ipam pool %s is already "
		    "declared", p->line, cp_arg(p, 0));
	}
	pool = xcalloc(1, sizeof(*pool));
	pool->line = p->lineno;
	pool->name = name;
	pool->quarantine = CONF_IPAM_DEFAULT_QUARANTINE;
	TAILQ_INIT(&pool->prefixes);
	TAILQ_INIT(&pool->excludes);
	TAILQ_INIT(&pool->reserves);
	shadow_defaults(&pool->shadow);
	cp_pool_fabric_defaults(pool);
	TAILQ_INSERT_TAIL(&p->conf->ipam_pools, pool, entry);
	cp_check_add(p, CHECK_IPAM_POOL_HAS_PREFIX, pool);
	cp_check_add(p, CHECK_IPAM_FABRIC, pool);
	p->pool = pool;
	p->node = NODE_IPAM_POOL;
	return 0;
}

/* ipam pool: settings */

static int
cmd_pool_tenant(struct parser *p)
{
	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	return arg_name(p, 0, "tenant", &p->pool->tenant);
}

static int
cmd_pool_vni(struct parser *p)
{
	struct conf_ipam_pool *other;
	uint32_t vni;

	if (cp_want_args(p, 1, 1) == -1 || cp_arg_vni(p, 0, &vni) == -1)
		return -1;
	TAILQ_FOREACH(other, &p->conf->ipam_pools, entry)
		if (other != p->pool && other->vni == vni)
			return cp_err(p, "vni %u is already used by ipam pool "
			    "%s in '%s'", vni, other->name, p->line);
	p->pool->vni = vni;
	return 0;
}

static int
cmd_pool_prefix(struct parser *p)
{
	struct conf_prefix *cp;
	struct prefix pfx;
	char buf[PREFIX_STRLEN];

	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	if (prefix_parse(cp_arg(p, 0), &pfx, false) == -1 || pfx.len == 0)
		return cp_err(p, "invalid prefix '%s' in '%s'", cp_arg(p, 0),
		    p->line);
	TAILQ_FOREACH(cp, &p->pool->prefixes, entry)
		if (prefix_overlap(&cp->prefix, &pfx))
			return cp_err(p, "prefix %s overlaps prefix %s of the "
			    "same pool in '%s'", cp_arg(p, 0),
			    prefix_fmt(&cp->prefix, buf, sizeof(buf)),
			    p->line);
	cp = xcalloc(1, sizeof(*cp));
	cp->prefix = pfx;
	TAILQ_INSERT_TAIL(&p->pool->prefixes, cp, entry);
	cp_check_add2(p, CHECK_IPAM_OVERLAP, p->pool, cp);
	return 0;
}

static void
check_inside(struct parser *p, const char *what, const struct ipaddr *ip)
{
	cp_check_add2(p, CHECK_IPAM_INSIDE, p->pool, ip);
	snprintf(p->checks[p->nchecks - 1].text,
	    sizeof(p->checks[p->nchecks - 1].text), "%s", what);
}

/* One gateway per family; repeating one replaces it. */
static int
cmd_pool_gateway(struct parser *p)
{
	struct ipaddr a;
	struct ipaddr *slot;

	if (cp_want_args(p, 1, 1) == -1 || cp_arg_ip(p, 0, &a) == -1)
		return -1;
	slot = a.af == AF_INET ? &p->pool->gateway4 : &p->pool->gateway6;
	if (!ipaddr_is_set(slot))
		check_inside(p, "gateway", slot);
	*slot = a;
	return 0;
}

static int
cmd_pool_exclude(struct parser *p)
{
	struct conf_ipam_range *r;
	struct ipaddr lo, hi;

	if (cp_want_args(p, 1, 2) == -1 || cp_arg_ip(p, 0, &lo) == -1)
		return -1;
	hi = lo;
	if (cp_nargs(p) == 2 && cp_arg_ip(p, 1, &hi) == -1)
		return -1;
	if (hi.af != lo.af || ipaddr_cmp(&lo, &hi) > 0)
		return cp_err(p, "invalid range in '%s' (first <= last, one "
		    "address family)", p->line);
	r = xcalloc(1, sizeof(*r));
	r->lo = lo;
	r->hi = hi;
	TAILQ_INSERT_TAIL(&p->pool->excludes, r, entry);
	check_inside(p, "exclude", &r->lo);
	check_inside(p, "exclude", &r->hi);
	return 0;
}

/* reserve IP for NAME */
static int
cmd_pool_reserve(struct parser *p)
{
	struct conf_ipam_reserve *r;
	struct ipaddr ip;
	char *name = NULL;

	if (cp_want_args(p, 3, 3) == -1 || cp_arg_ip(p, 0, &ip) == -1)
		return -1;
	if (strcmp(cp_arg(p, 1), "for") != 0)
		return cp_err(p, "unexpected '%s' in '%s' (reserve IP for "
		    "NAME)", cp_arg(p, 1), p->line);
	if (arg_name(p, 2, "reservation name", &name) == -1)
		return -1;
	TAILQ_FOREACH(r, &p->pool->reserves, entry) {
		if (ipaddr_cmp(&r->ip, &ip) == 0 ||
		    strcmp(r->name, name) == 0) {
			free(name);
			return cp_err(p, "duplicate reservation in '%s'",
			    p->line);
		}
	}
	r = xcalloc(1, sizeof(*r));
	r->ip = ip;
	r->name = name;
	TAILQ_INSERT_TAIL(&p->pool->reserves, r, entry);
	check_inside(p, "reserve", &r->ip);
	return 0;
}

/* Up to a week: a quarantine is about ARP/ND caches, not archives. */
static int
cmd_pool_quarantine(struct parser *p)
{
	uint64_t v;

	if (cp_want_args(p, 1, 1) == -1 ||
	    cp_arg_uint(p, 0, "quarantine", 0, 604800, &v) == -1)
		return -1;
	p->pool->quarantine = (uint32_t)v;
	return 0;
}

/* 1-5 bytes "xx:yy:..": locally administered (0x02) unicast (0x01). */
static int
cmd_pool_mac_prefix(struct parser *p)
{
	const char *s;
	uint8_t b[CONF_IPAM_MAC_PREFIX_MAX];
	int n = 0;

	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	for (s = cp_arg(p, 0);; s += 3) {
		unsigned v;

		if (n == CONF_IPAM_MAC_PREFIX_MAX || !isxdigit((unsigned
		    char)s[0]) || !isxdigit((unsigned char)s[1]) ||
		    (s[2] != ':' && s[2] != '\0') ||
		    sscanf(s, "%2x", &v) != 1)
			return cp_err(p, "invalid mac-prefix '%s' in '%s' (1 to "
			    "5 bytes, as 02:00:0a)", cp_arg(p, 0), p->line);
		b[n++] = (uint8_t)v;
		if (s[2] == '\0')
			break;
	}
	if ((b[0] & 0x03) != 0x02)
		return cp_err(p, "mac-prefix '%s' is not locally administered "
		    "unicast (first byte: bit 0x02 set, bit 0x01 clear) in "
		    "'%s'", cp_arg(p, 0), p->line);
	memcpy(p->pool->mac_prefix, b, (size_t)n);
	p->pool->mac_prefix_len = (uint8_t)n;
	return 0;
}

static int
cmd_pool_shadow(struct parser *p)
{
	if (cp_want_args(p, 0, 0) == -1)
		return -1;
	if (!p->pool->has_shadow)
		cp_check_add(p, CHECK_IPAM_SHADOW, p->pool);
	p->pool->has_shadow = true;
	p->node = NODE_IPAM_SHADOW;
	return 0;
}

/* shadow: forecasting and guardrails (the shadow inventory issue) */

static int
shadow_uint(struct parser *p, const char *what, uint64_t min, uint64_t max,
    uint32_t *out)
{
	uint64_t v;

	if (cp_want_args(p, 1, 1) == -1 ||
	    cp_arg_uint(p, 0, what, min, max, &v) == -1)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
cmd_shadow_horizon(struct parser *p)
{
	return shadow_uint(p, "horizon", 1, 86400, &p->pool->shadow.horizon);
}

static int
cmd_shadow_min_warm(struct parser *p)
{
	return shadow_uint(p, "min-warm", 0, 1000000,
	    &p->pool->shadow.min_warm);
}

static int
cmd_shadow_max_warm(struct parser *p)
{
	return shadow_uint(p, "max-warm", 0, 1000000,
	    &p->pool->shadow.max_warm);
}

/* A probability strictly between 0 and 1. */
static int
cmd_shadow_confidence(struct parser *p)
{
	uint64_t v;

	if (cp_want_args(p, 1, 1) == -1 ||
	    arg_micro(p, 0, "confidence", 1, CONF_MICRO - 1, &v) == -1)
		return -1;
	p->pool->shadow.confidence = (uint32_t)v;
	return 0;
}

static int
cmd_shadow_fraction(struct parser *p)
{
	uint64_t v;

	if (cp_want_args(p, 1, 1) == -1 ||
	    arg_micro(p, 0, "max-pool-fraction", 0, CONF_MICRO, &v) == -1)
		return -1;
	p->pool->shadow.max_pool_fraction = (uint32_t)v;
	return 0;
}

/* cost wastage W delay D */
static int
cmd_shadow_cost(struct parser *p)
{
	uint64_t w, d;

	if (cp_want_args(p, 4, 4) == -1)
		return -1;
	if (strcmp(cp_arg(p, 0), "wastage") != 0 ||
	    strcmp(cp_arg(p, 2), "delay") != 0)
		return cp_err(p, "'%s': expected 'cost wastage W delay D'",
		    p->line);
	if (arg_micro(p, 1, "wastage weight", 0, 1000000 * CONF_MICRO, &w)
	    == -1 || arg_micro(p, 3, "delay weight", 0, 1000000 * CONF_MICRO,
	    &d) == -1)
		return -1;
	if (w == 0 && d == 0)
		return cp_err(p, "'%s': the weights cannot both be 0", p->line);
	p->pool->shadow.cost_wastage = w;
	p->pool->shadow.cost_delay = d;
	return 0;
}

/* lead-time MS: convergence assumed until it is measured (the engine
 * plans with at most 300 s). */
static int
cmd_shadow_lead_time(struct parser *p)
{
	return shadow_uint(p, "lead-time", 1, 300000,
	    &p->pool->shadow.lead_time);
}

static int
cmd_shadow_mode(struct parser *p)
{
	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	if (strcmp(cp_arg(p, 0), "active") == 0)
		p->pool->shadow.mode = CONF_SHADOW_ACTIVE;
	else if (strcmp(cp_arg(p, 0), "observe") == 0)
		p->pool->shadow.mode = CONF_SHADOW_OBSERVE;
	else
		return cp_err(p, "invalid mode '%s' in '%s' (active or "
		    "observe)", cp_arg(p, 0), p->line);
	return 0;
}

/* adapt on|off: the policy calibrates its quantile and learns the lead
 * from misses, or keeps what the config and the measurement say. */
static int
cmd_shadow_adapt(struct parser *p)
{
	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	if (strcmp(cp_arg(p, 0), "on") == 0)
		p->pool->shadow.adapt = true;
	else if (strcmp(cp_arg(p, 0), "off") == 0)
		p->pool->shadow.adapt = false;
	else
		return cp_err(p, "invalid adapt '%s' in '%s' (on or off)",
		    cp_arg(p, 0), p->line);
	return 0;
}

/* jitter F: each tick moves the lead by up to F of itself (explores). */
static int
cmd_shadow_jitter(struct parser *p)
{
	uint64_t v;

	if (cp_want_args(p, 1, 1) == -1 ||
	    arg_micro(p, 0, "jitter", 0, CONF_SHADOW_JITTER_MAX, &v) == -1)
		return -1;
	p->pool->shadow.jitter = (uint32_t)v;
	return 0;
}

const char *const conf_shadow_model_names[CONF_SHADOW_NMODELS] = {
	[CONF_SHADOW_MODEL_HOLT] = "holt",
	[CONF_SHADOW_MODEL_KALMAN] = "kalman",
	[CONF_SHADOW_MODEL_CHURN] = "churn",
	[CONF_SHADOW_MODEL_ENSEMBLE] = "ensemble",
};

static int
cmd_shadow_model(struct parser *p)
{
	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	for (size_t i = 0; i < CONF_SHADOW_NMODELS; i++)
		if (strcmp(cp_arg(p, 0), conf_shadow_model_names[i]) == 0) {
			p->pool->shadow.model = (enum conf_shadow_model)i;
			return 0;
		}
	return cp_err(p, "invalid model '%s' in '%s' (holt, kalman, churn or "
	    "ensemble)", cp_arg(p, 0), p->line);
}

static bool
group_key_ok(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > CONF_SHADOW_GROUP_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)k[i]) && k[i] != '.' &&
		    k[i] != '_' && k[i] != '/' && k[i] != '-')
			return false;
	return true;
}

/* group-by KEY... | none: the label keys that name a request's group
 * (the first the allocation carries); none: no groups. */
static int
cmd_shadow_group_by(struct parser *p)
{
	struct conf_ipam_shadow *sh = &p->pool->shadow;
	int n;

	if (cp_want_args(p, 1, CONF_SHADOW_GROUP_KEYS) == -1)
		return -1;
	n = cp_nargs(p);
	if (n == 1 && strcmp(cp_arg(p, 0), "none") == 0) {
		memset(sh->group_by, 0, sizeof(sh->group_by));
		sh->ngroup_by = 0;
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (!group_key_ok(cp_arg(p, i)))
			return cp_err(p, "invalid label key '%s' in '%s' (1 "
			    "to %d letters, digits, '.', '_', '/' or '-')",
			    cp_arg(p, i), p->line, CONF_SHADOW_GROUP_KEY_MAX);
		for (int j = 0; j < i; j++)
			if (strcmp(cp_arg(p, i), cp_arg(p, j)) == 0)
				return cp_err(p, "label key '%s' given twice "
				    "in '%s'", cp_arg(p, i), p->line);
	}
	memset(sh->group_by, 0, sizeof(sh->group_by));
	for (int i = 0; i < n; i++)
		strlcpy_s(sh->group_by[i], cp_arg(p, i),
		    sizeof(sh->group_by[i]));
	sh->ngroup_by = (uint8_t)n;
	return 0;
}

const struct command cp_ipam_pool_cmds[CP_IPAM_POOL_NCMDS] = {
	{ "tenant", cmd_pool_tenant },
	{ "vni", cmd_pool_vni },
	{ "prefix", cmd_pool_prefix },
	{ "gateway", cmd_pool_gateway },
	{ "exclude", cmd_pool_exclude },
	{ "reserve", cmd_pool_reserve },
	{ "quarantine", cmd_pool_quarantine },
	{ "mac-prefix", cmd_pool_mac_prefix },
	{ "shadow", cmd_pool_shadow },
	{ "dns zone", cp_cmd_pool_dns_zone },
	{ "dns name-template", cp_cmd_pool_dns_template },
	{ "scope", cp_cmd_pool_scope },
	{ "block-size", cp_cmd_pool_block_size },
	{ "borrow", cp_cmd_pool_borrow },
	{ "no borrow", cp_cmd_pool_no_borrow },
	{ "block-idle-release", cp_cmd_pool_block_idle_release },
	{ "exit", cp_cmd_exit },
};

const struct command cp_ipam_shadow_cmds[CP_IPAM_SHADOW_NCMDS] = {
	{ "horizon", cmd_shadow_horizon },
	{ "confidence", cmd_shadow_confidence },
	{ "min-warm", cmd_shadow_min_warm },
	{ "max-warm", cmd_shadow_max_warm },
	{ "max-pool-fraction", cmd_shadow_fraction },
	{ "cost", cmd_shadow_cost },
	{ "mode", cmd_shadow_mode },
	{ "lead-time", cmd_shadow_lead_time },
	{ "adapt", cmd_shadow_adapt },
	{ "jitter", cmd_shadow_jitter },
	{ "model", cmd_shadow_model },
	{ "group-by", cmd_shadow_group_by },
	{ "exit-shadow", cp_cmd_exit },
	{ "exit", cp_cmd_exit },
};

/* Whole-file checks */

static const char *
tenant_name(const struct conf_ipam_pool *pool)
{
	return pool->tenant != NULL ? pool->tenant : "default";
}

/* Pools of one tenant share an address space; different tenants may
 * reuse prefixes.  Reported at the later pool, naming both. */
static int
check_overlap(struct parser *p, const struct conf_ipam_pool *pool,
    const struct conf_prefix *cp)
{
	const struct conf_ipam_pool *other;
	const struct conf_prefix *oc;
	char a[PREFIX_STRLEN], b[PREFIX_STRLEN];

	TAILQ_FOREACH(other, &p->conf->ipam_pools, entry) {
		if (other == pool)
			break;
		if (strcmp(tenant_name(other), tenant_name(pool)) != 0)
			continue;
		TAILQ_FOREACH(oc, &other->prefixes, entry)
			if (prefix_overlap(&oc->prefix, &cp->prefix))
				return cp_err(p, "ipam pool %s: prefix %s "
				    "overlaps prefix %s of ipam pool %s "
				    "(tenant %s)", pool->name,
				    prefix_fmt(&cp->prefix, a, sizeof(a)),
				    prefix_fmt(&oc->prefix, b, sizeof(b)),
				    other->name, tenant_name(pool));
	}
	return 0;
}

int
cp_ipam_check(struct parser *p, const struct pending_check *chk)
{
	const struct conf_ipam_pool *pool = chk->obj;
	const struct ipaddr *ip = chk->obj2;
	char buf[IPADDR_STRLEN];

	switch (chk->kind) {
	case CHECK_IPAM_POOL_HAS_PREFIX:
		if (TAILQ_EMPTY(&pool->prefixes))
			return cp_err(p, "ipam pool %s: no 'prefix' statement",
			    pool->name);
		break;
	case CHECK_IPAM_INSIDE:
		if (pool_prefix_of(pool, ip) == NULL)
			return cp_err(p, "ipam pool %s: %s %s is outside the "
			    "pool's prefixes", pool->name, chk->text,
			    ipaddr_fmt(ip, buf, sizeof(buf)));
		break;
	case CHECK_IPAM_OVERLAP:
		return check_overlap(p, pool, chk->obj2);
	case CHECK_IPAM_SHADOW:
		if (pool->shadow.min_warm > pool->shadow.max_warm)
			return cp_err(p, "ipam pool %s: shadow min-warm %u is "
			    "above max-warm %u", pool->name,
			    pool->shadow.min_warm, pool->shadow.max_warm);
		break;
	case CHECK_IPAM_DNS:
		return cp_dns_check(p, pool);
	default:
		return cp_fabric_check(p, chk);
	}
	return 0;
}
