/*
 * The values of P/convergence/ROUTER-ID (fabric_conv.h): encoding,
 * hostile decoding and the merge into the fabric's distribution.  Kept
 * apart from the etcd traffic so the fuzz target links it alone.
 */
#include "ipamd/fabric_conv.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/util.h"
#include "evpn/evpn.h"

#define CONV_COUNT_MAX	((json_int_t)1 << 53)

char *
fabric_conv_encode(const struct fabric_conv_entry *e, size_t *len)
{
	char vtep[IPADDR_STRLEN], *s;
	json_t *o;

	o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "routerId",
	    e->who.router_id, "vtep", ipaddr_fmt(&e->who.vtep, vtep,
	    sizeof(vtep)), "count", (json_int_t)e->c.count, "p50Ms",
	    (json_int_t)e->c.p50_ms, "p90Ms", (json_int_t)e->c.p90_ms,
	    "p99Ms", (json_int_t)e->c.p99_ms);
	s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (s == NULL)
		fatalx("fabric convergence: cannot encode a value");
	*len = strlen(s);
	return s;
}

/* An integer member in [0, max]. */
static int
member_uint(const json_t *o, const char *key, json_int_t max, uint64_t *out)
{
	const json_t *v = json_object_get(o, key);
	json_int_t i;

	if (!json_is_integer(v) || (i = json_integer_value(v)) < 0 || i > max)
		return -1;
	*out = (uint64_t)i;
	return 0;
}

static int
parse_figures(const json_t *o, struct shadowd_convergence *c)
{
	uint64_t count, p50, p90, p99;

	if (member_uint(o, "count", CONV_COUNT_MAX, &count) == -1 ||
	    member_uint(o, "p50Ms", EVPN_CONV_MAX_MS, &p50) == -1 ||
	    member_uint(o, "p90Ms", EVPN_CONV_MAX_MS, &p90) == -1 ||
	    member_uint(o, "p99Ms", EVPN_CONV_MAX_MS, &p99) == -1 ||
	    p50 > p90 || p90 > p99)
		return -1;
	c->count = count;
	c->p50_ms = (uint32_t)p50;
	c->p90_ms = (uint32_t)p90;
	c->p99_ms = (uint32_t)p99;
	return 0;
}

int
fabric_conv_parse(const char *value, size_t len, struct fabric_conv_entry *e)
{
	json_t *o;
	const char *rid, *vtep;
	int rv = -1;

	memset(e, 0, sizeof(*e));
	if (len > FABRIC_CONV_VALUE_MAX || (o = json_loadb(value, len,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return -1;
	rid = json_string_value(json_object_get(o, "routerId"));
	vtep = json_string_value(json_object_get(o, "vtep"));
	if (json_is_object(o) && rid != NULL && vtep != NULL &&
	    strlen(rid) < sizeof(e->who.router_id) &&
	    ipaddr_parse(vtep, &e->who.vtep) == 0 &&
	    parse_figures(o, &e->c) == 0) {
		strlcpy_s(e->who.router_id, rid, sizeof(e->who.router_id));
		rv = 0;
	}
	json_decref(o);
	return rv;
}

static uint32_t
max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

size_t
fabric_conv_merge(const struct fabric_conv_entry *e, size_t n,
    const char *self, struct shadowd_convergence *out)
{
	size_t used = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		if ((self != NULL && strcmp(e[i].who.router_id, self) == 0) ||
		    e[i].c.count < SHADOWD_LEAD_MIN_SAMPLES)
			continue;
		out->count += e[i].c.count;
		out->p50_ms = max_u32(out->p50_ms, e[i].c.p50_ms);
		out->p90_ms = max_u32(out->p90_ms, e[i].c.p90_ms);
		out->p99_ms = max_u32(out->p99_ms, e[i].c.p99_ms);
		used++;
	}
	return used;
}
