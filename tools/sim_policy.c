/*
 * shadowsim's settings: policy strings and pools (made up per VNI, or
 * read from an evpnd config through conf/, so the simulator sees the
 * same "ipam pool" blocks and shadow settings the daemon would).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/util.h"
#include "conf/conf.h"
#include "tools/sim.h"

#define SIM_MAX_POOL_SIZE	(1ULL << 40)	/* v6 prefixes are capped */

static int
parse_u32(const char *s, char **end, uint32_t *out)
{
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, end, 10);
	if (errno != 0 || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int
sim_policy_parse(const char *s, struct sim_policy *p)
{
	char	*end;

	memset(p, 0, sizeof(*p));
	if (strcmp(s, "shadow") == 0) {
		p->kind = SIM_POLICY_SHADOW;
		return 0;
	}
	if (strcmp(s, "ondemand") == 0) {
		p->kind = SIM_POLICY_ONDEMAND;
		return 0;
	}
	if (strcmp(s, "oracle") == 0) {
		p->kind = SIM_POLICY_ORACLE;
		return 0;
	}
	if (strncmp(s, "static:", 7) == 0) {
		p->kind = SIM_POLICY_STATIC;
		if (parse_u32(s + 7, &end, &p->k) == -1 || *end != '\0')
			return -1;
		return 0;
	}
	if (strncmp(s, "watermark:", 10) == 0) {
		p->kind = SIM_POLICY_WATERMARK;
		if (parse_u32(s + 10, &end, &p->batch) == -1 || *end != ':')
			return -1;
		if (parse_u32(end + 1, &end, &p->low) == -1 || *end != '\0')
			return -1;
		return p->batch == 0 ? -1 : 0;
	}
	return -1;
}

const char *
sim_policy_fmt(const struct sim_policy *p, char *buf, size_t len)
{
	switch (p->kind) {
	case SIM_POLICY_SHADOW:
		snprintf(buf, len, "shadow");
		break;
	case SIM_POLICY_ONDEMAND:
		snprintf(buf, len, "ondemand");
		break;
	case SIM_POLICY_ORACLE:
		snprintf(buf, len, "oracle");
		break;
	case SIM_POLICY_STATIC:
		snprintf(buf, len, "static:%" PRIu32, p->k);
		break;
	case SIM_POLICY_WATERMARK:
		snprintf(buf, len, "watermark:%" PRIu32 ":%" PRIu32,
		    p->batch, p->low);
		break;
	}
	return buf;
}

static void
shadow_defaults(struct sim_shadow_settings *s)
{
	s->horizon = CONF_SHADOW_DEFAULT_HORIZON;
	s->confidence = (double)CONF_SHADOW_DEFAULT_CONFIDENCE / CONF_MICRO;
	s->min_warm = CONF_SHADOW_DEFAULT_MIN_WARM;
	s->max_warm = CONF_SHADOW_DEFAULT_MAX_WARM;
	s->max_pool_fraction =
	    (double)CONF_SHADOW_DEFAULT_MAX_FRACTION / CONF_MICRO;
	s->observe = false;
}

void
sim_pool_conf_default(struct sim_pool_conf *pc, uint32_t vni)
{
	memset(pc, 0, sizeof(*pc));
	snprintf(pc->name, sizeof(pc->name), "vni%" PRIu32, vni);
	pc->vni = vni;
	pc->size = SIM_DEFAULT_POOL_SIZE;
	pc->wastage_weight = SIM_DEFAULT_WASTAGE;
	pc->delay_weight = SIM_DEFAULT_DELAY;
	shadow_defaults(&pc->shadow);
}

/* Usable addresses of a prefix, as ipam/ counts them (see ipam.h). */
static uint64_t
prefix_size(const struct prefix *pfx)
{
	unsigned bits = pfx->addr.af == AF_INET ? 32 : 128;
	unsigned host = bits - pfx->len;
	uint64_t n;

	if (host >= 40)
		return SIM_MAX_POOL_SIZE;
	n = 1ULL << host;
	if (pfx->addr.af == AF_INET && host >= 2)
		n -= 2;		/* network and broadcast */
	else if (pfx->addr.af != AF_INET && host >= 2)
		n -= 1;		/* subnet-router anycast */
	return n;
}

static void
pool_from_conf(struct sim_pool_conf *pc, const struct conf_ipam_pool *cp)
{
	const struct conf_prefix *pfx;
	uint64_t v4 = 0, v6 = 0;

	sim_pool_conf_default(pc, cp->vni);
	strlcpy_s(pc->name, cp->name, sizeof(pc->name));
	/* A dual-stack pool is bounded by its smaller family. */
	TAILQ_FOREACH(pfx, &cp->prefixes, entry) {
		uint64_t *sum = pfx->prefix.addr.af == AF_INET ? &v4 : &v6;

		*sum += prefix_size(&pfx->prefix);
		if (*sum > SIM_MAX_POOL_SIZE)
			*sum = SIM_MAX_POOL_SIZE;
	}
	pc->size = v4 == 0 ? v6 : v6 == 0 ? v4 : v4 < v6 ? v4 : v6;
	if (!cp->has_shadow)
		return;
	pc->has_shadow = true;
	pc->shadow.horizon = cp->shadow.horizon;
	pc->shadow.confidence = (double)cp->shadow.confidence / CONF_MICRO;
	pc->shadow.min_warm = cp->shadow.min_warm;
	pc->shadow.max_warm = cp->shadow.max_warm;
	pc->shadow.max_pool_fraction =
	    (double)cp->shadow.max_pool_fraction / CONF_MICRO;
	pc->shadow.observe = cp->shadow.mode == CONF_SHADOW_OBSERVE;
	pc->wastage_weight = (double)cp->shadow.cost_wastage / CONF_MICRO;
	pc->delay_weight = (double)cp->shadow.cost_delay / CONF_MICRO;
}

int
sim_pools_from_config(const char *path, struct sim_pool_conf **out,
    size_t *nout, char *err, size_t errlen)
{
	struct config		*conf;
	struct conf_ipam_pool	*cp;
	struct sim_pool_conf	*pools = NULL;
	size_t			 n = 0;

	if ((conf = conf_parse_file(path, err, errlen)) == NULL)
		return -1;
	TAILQ_FOREACH(cp, &conf->ipam_pools, entry) {
		if (cp->vni == 0)
			continue;	/* no VNI: no trace event can reach it */
		pools = xrealloc(pools, (n + 1) * sizeof(*pools));
		pool_from_conf(&pools[n++], cp);
	}
	conf_free(conf);
	*out = pools;
	*nout = n;
	return 0;
}
