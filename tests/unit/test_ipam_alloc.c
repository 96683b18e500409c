/*
 * IPAM allocator: edge-size prefixes (/31, /32, /127, /128), special
 * addresses, exhaustion, exclusions and reservations, quarantine with
 * an injected clock, huge pools without enumeration, dual stack,
 * idempotency, MACs and conflicts.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ipam/ipam.h"

static int64_t fake_now;

static int64_t
fake_clock(void *arg)
{
	return fake_now;
}

/* A pool from text: prefixes separated by spaces, optional gateways. */
struct pool_def {
	const char	*name;
	const char	*prefixes;
	const char	*gw4;
	const char	*gw6;
	const char	*excl_lo;
	const char	*excl_hi;
	const char	*reserve;
	uint32_t	 quarantine;
	const char	*mac_prefix;
};

static int
pool_add(struct ipam *ipam, const struct pool_def *d, char *err,
    size_t errlen)
{
	struct prefix pfx[8];
	struct ipam_range excl;
	struct ipam_reservation res;
	struct ipam_pool_spec spec;
	char buf[256], *w, *save = NULL;
	size_t n = 0;

	memset(&spec, 0, sizeof(spec));
	spec.name = d->name;
	spec.vni = 100;
	spec.quarantine = d->quarantine;
	snprintf(buf, sizeof(buf), "%s", d->prefixes);
	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
		ck_assert_int_eq(prefix_parse(w, &pfx[n++], false), 0);
	spec.prefixes = pfx;
	spec.nprefixes = n;
	if (d->gw4)
		ck_assert_int_eq(ipaddr_parse(d->gw4, &spec.gateway4), 0);
	if (d->gw6)
		ck_assert_int_eq(ipaddr_parse(d->gw6, &spec.gateway6), 0);
	if (d->excl_lo) {
		ck_assert_int_eq(ipaddr_parse(d->excl_lo, &excl.lo), 0);
		ck_assert_int_eq(ipaddr_parse(d->excl_hi, &excl.hi), 0);
		spec.excludes = &excl;
		spec.nexcludes = 1;
	}
	if (d->reserve) {
		memset(&res, 0, sizeof(res));
		ck_assert_int_eq(ipaddr_parse(d->reserve, &res.ip), 0);
		strcpy(res.name, "storage-head");
		spec.reservations = &res;
		spec.nreservations = 1;
	}
	if (d->mac_prefix) {
		struct macaddr m;
		char full[32];
		int len = (int)(strlen(d->mac_prefix) + 1) / 3;

		snprintf(full, sizeof(full), "%s", d->mac_prefix);
		for (int i = len; i < 6; i++)
			strcat(full, ":00");
		ck_assert_int_eq(mac_parse(full, &m), 0);
		memcpy(spec.mac_prefix, m.b, (size_t)len);
		spec.mac_prefix_len = (uint8_t)len;
	}
	return ipam_pool_add(ipam, &spec, err, errlen);
}

static struct ipam *
ipam_with(const struct pool_def *d)
{
	struct ipam *ipam = ipam_new();
	char err[256];

	fake_now = 1000;
	ipam_set_clock(ipam, fake_clock, NULL);
	ck_assert_msg(pool_add(ipam, d, err, sizeof(err)) == 0, "%s", err);
	return ipam;
}

/* Allocate resource r<n>; returns the text of the address or NULL. */
static const char *
alloc_ip(struct ipam *ipam, const char *pool, const char *res,
    enum ipam_family fam, char *buf, size_t len)
{
	struct ipam_request req = { .resource = res,
	    .family = fam, .mac = NULL, .preallocated = false };
	const struct ipam_alloc *a;
	bool existing;

	if (ipam_allocate(ipam, pool, &req, &a, &existing) == -1)
		return NULL;
	return ipaddr_fmt(fam == IPAM_FAMILY_IPV6 ? &a->ipv6 : &a->ip, buf,
	    len);
}

/* Allocate until exhausted; the addresses joined by spaces. */
static void
alloc_all(struct ipam *ipam, const char *pool, enum ipam_family fam,
    char *out, size_t outlen)
{
	static int serial;
	char res[32], buf[IPADDR_STRLEN];

	out[0] = '\0';
	for (int i = 0; i < 100; i++) {
		snprintf(res, sizeof(res), "%s-r%d", pool, serial++);
		if (alloc_ip(ipam, pool, res, fam, buf, sizeof(buf)) == NULL) {
			ck_assert_int_eq(errno, ENOSPC);
			return;
		}
		if (out[0] != '\0')
			strncat(out, " ", outlen - strlen(out) - 1);
		strncat(out, buf, outlen - strlen(out) - 1);
	}
	ck_abort_msg("pool %s never exhausted", pool);
}

struct edge_case {
	struct pool_def	 def;
	enum ipam_family fam;
	const char	*expect;
	double		 size;
};

static const struct edge_case edge_cases[] = {
	/* RFC 3021: both addresses of a /31 are usable. */
	{ { "p31", "10.0.0.0/31", NULL, NULL, NULL, NULL, NULL, 30, NULL },
	  IPAM_FAMILY_IPV4, "10.0.0.0 10.0.0.1", 2 },
	/* ... but a gateway is still never handed out. */
	{ { "p31gw", "10.0.0.0/31", "10.0.0.0", NULL, NULL, NULL, NULL, 30,
	  NULL }, IPAM_FAMILY_IPV4, "10.0.0.1", 1 },
	{ { "p32", "10.0.0.7/32", NULL, NULL, NULL, NULL, NULL, 30, NULL },
	  IPAM_FAMILY_IPV4, "10.0.0.7", 1 },
	{ { "p32gw", "10.0.0.7/32", "10.0.0.7", NULL, NULL, NULL, NULL, 30,
	  NULL }, IPAM_FAMILY_IPV4, "", 0 },
	/* Network and broadcast of a /30. */
	{ { "p30", "10.0.0.4/30", "10.0.0.5", NULL, NULL, NULL, NULL, 30,
	  NULL }, IPAM_FAMILY_IPV4, "10.0.0.6", 1 },
	/* RFC 6164: /127 has both usable; /126 loses the anycast ::0. */
	{ { "p127", "2001:db8::/127", NULL, NULL, NULL, NULL, NULL, 30, NULL },
	  IPAM_FAMILY_IPV6, "2001:db8:: 2001:db8::1", 2 },
	{ { "p128", "2001:db8::5/128", NULL, NULL, NULL, NULL, NULL, 30,
	  NULL }, IPAM_FAMILY_IPV6, "2001:db8::5", 1 },
	{ { "p126", "2001:db8::/126", NULL, "2001:db8::1", NULL, NULL, NULL,
	  30, NULL }, IPAM_FAMILY_IPV6, "2001:db8::2 2001:db8::3", 2 },
	/* Several prefixes, in order; exclusion across a boundary. */
	{ { "multi", "10.0.0.0/30 10.0.1.0/29", NULL, NULL, "10.0.1.1",
	  "10.0.1.4", "10.0.1.6", 30, NULL }, IPAM_FAMILY_IPV4,
	  "10.0.0.1 10.0.0.2 10.0.1.5", 3 },
};

START_TEST(test_edge_prefixes)
{
	const struct edge_case *ec = &edge_cases[_i];
	struct ipam *ipam = ipam_with(&ec->def);
	struct ipam_pool_stats st;
	char out[1024];

	ipam_pool_stats(ipam_pool_find(ipam, ec->def.name), &st);
	if (ec->fam == IPAM_FAMILY_IPV4)
		ck_assert_double_eq(st.v4.size, ec->size);
	else
		ck_assert_double_eq(st.v6.size, ec->size);
	alloc_all(ipam, ec->def.name, ec->fam, out, sizeof(out));
	ck_assert_str_eq(out, ec->expect);
	ipam_pool_stats(ipam_pool_find(ipam, ec->def.name), &st);
	ck_assert_double_eq(ec->fam == IPAM_FAMILY_IPV4 ? st.v4.free :
	    st.v6.free, 0);
	ipam_free(ipam);
}
END_TEST

/* The example pool: gateway, exclusion and reservation. */
static const struct pool_def tenant_pool = {
	"tenant-a-train", "10.10.0.0/24 2001:db8:100::/64", "10.10.0.1",
	NULL, "10.10.0.2", "10.10.0.15", "10.10.0.20", 30, "02:00:0a"
};

START_TEST(test_exclusions_reservations)
{
	struct ipam *ipam = ipam_with(&tenant_pool);
	struct ipam_pool_stats st;
	const struct ipam_reservation *res;
	char buf[IPADDR_STRLEN], name[16];
	struct ipam_pool *pool = ipam_pool_find(ipam, "tenant-a-train");

	ck_assert_ptr_nonnull(pool);
	/* 256 - network - broadcast - gateway - 14 excluded - 1 reserved */
	ipam_pool_stats(pool, &st);
	ck_assert_double_eq(st.v4.size, 238);
	ck_assert_uint_eq(st.reserved, 1);
	ck_assert_uint_eq(ipam_pool_reservations(pool, &res), 1);
	ck_assert_str_eq(res[0].name, "storage-head");
	ck_assert_str_eq(alloc_ip(ipam, "tenant-a-train", "a", IPAM_FAMILY_IPV4,
	    buf, sizeof(buf)), "10.10.0.16");
	for (int i = 17; i <= 19; i++) {
		snprintf(name, sizeof(name), "b%d", i);
		alloc_ip(ipam, "tenant-a-train", name, IPAM_FAMILY_IPV4, buf,
		    sizeof(buf));
	}
	ck_assert_str_eq(buf, "10.10.0.19");
	ck_assert_str_eq(alloc_ip(ipam, "tenant-a-train", "c",
	    IPAM_FAMILY_IPV4, buf, sizeof(buf)), "10.10.0.21");
	ipam_pool_stats(pool, &st);
	ck_assert_uint_eq(st.v4.used, 5);
	ck_assert_double_eq(st.v4.free, 233);
	ck_assert_uint_eq(st.allocations, 5);
	ipam_free(ipam);
}
END_TEST

START_TEST(test_quarantine_expiry)
{
	static const struct pool_def d = { "q", "10.0.0.0/29", NULL, NULL,
	    NULL, NULL, NULL, 30, NULL };
	struct ipam *ipam = ipam_with(&d);
	struct ipam_alloc rel;
	struct ipam_pool_stats st;
	char out[512], buf[IPADDR_STRLEN];
	struct ipaddr three;
	char name[IPAM_RESOURCE_MAX + 1];
	int64_t until;

	ipaddr_parse("10.0.0.3", &three);

	alloc_all(ipam, "q", IPAM_FAMILY_IPV4, out, sizeof(out));
	ck_assert_str_eq(out, "10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.5 "
	    "10.0.0.6");
	ck_assert_ptr_nonnull(ipam_find_ip(ipam, "q", &three));
	snprintf(name, sizeof(name), "%s",
	    ipam_find_ip(ipam, "q", &three)->resource);
	ck_assert_ptr_eq(ipam_find(ipam, NULL, name), ipam_find_ip(ipam, "q",
	    &three));
	ck_assert_int_eq(ipam_release(ipam, NULL, name, &rel, &until), 0);
	ck_assert_int_eq(until, 1030);
	ck_assert_str_eq(ipaddr_fmt(&rel.ip, buf, sizeof(buf)), "10.0.0.3");
	ck_assert_int_eq(ipam_release(ipam, NULL, name, NULL, NULL), -1);
	ck_assert_int_eq(errno, ENOENT);
	ipam_pool_stats(ipam_pool_find(ipam, "q"), &st);
	ck_assert_uint_eq(st.v4.quarantined, 1);
	ck_assert_double_eq(st.v4.free, 0);
	fake_now = 1029;
	ck_assert_ptr_null(alloc_ip(ipam, "q", "x", IPAM_FAMILY_IPV4, buf,
	    sizeof(buf)));
	ck_assert_int_eq(errno, ENOSPC);
	fake_now = 1030;
	ck_assert_str_eq(alloc_ip(ipam, "q", "x", IPAM_FAMILY_IPV4, buf,
	    sizeof(buf)), "10.0.0.3");
	ipam_pool_stats(ipam_pool_find(ipam, "q"), &st);
	ck_assert_uint_eq(st.v4.quarantined, 0);
	ck_assert_uint_eq(st.v4.used, 6);
	ipam_free(ipam);
}
END_TEST

/* Fresh addresses are preferred over expired quarantined ones. */
START_TEST(test_prefer_fresh)
{
	static const struct pool_def d = { "f", "10.0.0.0/28", NULL, NULL,
	    NULL, NULL, NULL, 5, NULL };
	struct ipam *ipam = ipam_with(&d);
	char buf[IPADDR_STRLEN];

	ck_assert_str_eq(alloc_ip(ipam, "f", "a", IPAM_FAMILY_IPV4, buf,
	    sizeof(buf)), "10.0.0.1");
	ck_assert_int_eq(ipam_release(ipam, NULL, "a", NULL, NULL), 0);
	fake_now += 100;
	ck_assert_str_eq(alloc_ip(ipam, "f", "b", IPAM_FAMILY_IPV4, buf,
	    sizeof(buf)), "10.0.0.2");
	/* The same resource again is a new allocation after release. */
	ck_assert_str_eq(alloc_ip(ipam, "f", "a", IPAM_FAMILY_IPV4, buf,
	    sizeof(buf)), "10.0.0.3");
	ipam_free(ipam);
}
END_TEST

/* A /64 (and a /8) without enumerating: memory follows allocations. */
START_TEST(test_huge_pools)
{
	static const struct pool_def d6 = { "v6", "2001:db8:1::/64", NULL,
	    NULL, NULL, NULL, NULL, 30, NULL };
	static const struct pool_def d4 = { "v4", "10.0.0.0/8", "10.0.0.1",
	    NULL, NULL, NULL, NULL, 30, NULL };
	struct ipam *ipam = ipam_with(&d6);
	struct ipam_pool_stats st;
	char buf[IPADDR_STRLEN], res[32], err[128];
	size_t before = ipam_memory(ipam), mid = 0, after;

	ck_assert_int_eq(pool_add(ipam, &d4, err, sizeof(err)), 0);
	ck_assert_uint_lt(before, 4096);
	for (int i = 0; i < 20000; i++) {
		snprintf(res, sizeof(res), "v6-%d", i);
		ck_assert_ptr_nonnull(alloc_ip(ipam, "v6", res,
		    IPAM_FAMILY_IPV6, buf, sizeof(buf)));
		snprintf(res, sizeof(res), "v4-%d", i);
		ck_assert_ptr_nonnull(alloc_ip(ipam, "v4", res,
		    IPAM_FAMILY_IPV4, buf, sizeof(buf)));
		if (i == 9999)
			mid = ipam_memory(ipam);
	}
	after = ipam_memory(ipam);
	ck_assert_str_eq(buf, "10.0.78.33");	/* 20000th after .0/.1 */
	ck_assert_str_eq(ipaddr_fmt(&ipam_find(ipam, NULL, "v6-19999")->ipv6, buf,
	    sizeof(buf)), "2001:db8:1::4e20");
	/* Roughly linear in allocations: well under 1 KiB each. */
	ck_assert_uint_lt(after, 40000 * 1024);
	ck_assert_uint_gt(after, mid + mid / 2);
	ipam_pool_stats(ipam_pool_find(ipam, "v6"), &st);
	ck_assert_double_eq(st.v6.size, 18446744073709551615.0);
	ck_assert_uint_eq(st.v6.used, 20000);
	ipam_pool_stats(ipam_pool_find(ipam, "v4"), &st);
	ck_assert_double_eq(st.v4.size, 16777213);
	ck_assert_double_eq(st.v4.free, 16777213 - 20000);
	ipam_free(ipam);
}
END_TEST

START_TEST(test_dual_stack)
{
	static const struct pool_def d = { "d", "10.0.0.0/30 2001:db8::/127",
	    NULL, NULL, NULL, NULL, NULL, 30, NULL };
	static const struct pool_def v4only = { "o", "10.1.0.0/24", NULL,
	    NULL, NULL, NULL, NULL, 30, NULL };
	struct ipam *ipam = ipam_with(&d);
	struct ipam_request req = { .resource = "x",
	    .family = IPAM_FAMILY_DUAL, .mac = NULL, .preallocated = false };
	const struct ipam_alloc *a;
	char buf[IPADDR_STRLEN], err[128];
	bool existing;

	ck_assert_int_eq(pool_add(ipam, &v4only, err, sizeof(err)), 0);
	ck_assert_int_eq(ipam_allocate(ipam, "d", &req, &a, &existing), 0);
	ck_assert_str_eq(ipaddr_fmt(&a->ip, buf, sizeof(buf)), "10.0.0.1");
	ck_assert_str_eq(ipaddr_fmt(&a->ipv6, buf, sizeof(buf)), "2001:db8::");
	req.resource = "y";
	ck_assert_int_eq(ipam_allocate(ipam, "d", &req, &a, &existing), 0);
	req.resource = "z";
	ck_assert_int_eq(ipam_allocate(ipam, "d", &req, &a, &existing), -1);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_ptr_null(ipam_find(ipam, NULL, "z"));
	req.family = IPAM_FAMILY_IPV4;
	ck_assert_int_eq(ipam_allocate(ipam, "d", &req, &a, &existing), -1);
	ck_assert_int_eq(errno, ENOSPC);	/* .1 and .2 are taken */
	/* A pool without IPv6 asked for dual or ipv6. */
	req.resource = "w";
	req.family = IPAM_FAMILY_DUAL;
	ck_assert_int_eq(ipam_allocate(ipam, "o", &req, &a, &existing), -1);
	ck_assert_int_eq(errno, EINVAL);
	req.family = IPAM_FAMILY_IPV6;
	ck_assert_int_eq(ipam_allocate(ipam, "o", &req, &a, &existing), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ipam_allocate(ipam, "nope", &req, &a, &existing), -1);
	ck_assert_int_eq(errno, ENOENT);
	ipam_free(ipam);
}
END_TEST

/* A dual allocation failing on v6 leaves v4 to the next request. */
START_TEST(test_dual_rollback)
{
	static const struct pool_def d = { "d", "10.0.0.0/29 2001:db8::/128",
	    NULL, NULL, NULL, NULL, NULL, 30, NULL };
	struct ipam *ipam = ipam_with(&d);
	struct ipam_request req = { .resource = "x",
	    .family = IPAM_FAMILY_DUAL, .mac = NULL, .preallocated = false };
	const struct ipam_alloc *a;
	char buf[IPADDR_STRLEN];
	bool existing;

	ck_assert_int_eq(ipam_allocate(ipam, "d", &req, &a, &existing), 0);
	req.resource = "y";
	ck_assert_int_eq(ipam_allocate(ipam, "d", &req, &a, &existing), -1);
	req.family = IPAM_FAMILY_IPV4;
	ck_assert_int_eq(ipam_allocate(ipam, "d", &req, &a, &existing), 0);
	ck_assert_str_eq(ipaddr_fmt(&a->ip, buf, sizeof(buf)), "10.0.0.2");
	ipam_free(ipam);
}
END_TEST

START_TEST(test_idempotent)
{
	static const struct pool_def other = { "other", "10.9.0.0/24", NULL,
	    NULL, NULL, NULL, NULL, 30, NULL };
	struct ipam *ipam = ipam_with(&tenant_pool);
	struct ipam_request req = { .resource = "pod-1",
	    .family = IPAM_FAMILY_DUAL, .mac = NULL, .preallocated = false };
	const struct ipam_alloc *a, *b;
	char err[128];
	bool existing;

	ck_assert_int_eq(pool_add(ipam, &other, err, sizeof(err)), 0);
	ck_assert_int_eq(ipam_allocate(ipam, "tenant-a-train", &req, &a,
	    &existing), 0);
	ck_assert(!existing);
	ck_assert_int_eq(ipam_allocate(ipam, "tenant-a-train", &req, &b,
	    &existing), 0);
	ck_assert(existing);
	ck_assert_ptr_eq(a, b);
	ck_assert_ptr_eq(ipam_find(ipam, NULL, "pod-1"), a);
	ck_assert_ptr_eq(ipam_find_ip(ipam, NULL, &a->ip), a);
	ck_assert_ptr_eq(ipam_find_ip(ipam, "tenant-a-train", &a->ipv6), a);
	ck_assert_ptr_null(ipam_find_ip(ipam, "other", &a->ip));
	ck_assert_int_eq(ipam_allocate(ipam, "other", &req, &b, &existing), -1);
	ck_assert_int_eq(errno, EEXIST);
	req.resource = "bad id";
	ck_assert_int_eq(ipam_allocate(ipam, "other", &req, &b, &existing), -1);
	ck_assert_int_eq(errno, EINVAL);
	ipam_free(ipam);
}
END_TEST

/* Pool name of tenant tenant (NULL: none) with one /24. */
static void
pool_of_tenant(struct ipam *ipam, const char *name, const char *tenant,
    const char *prefix)
{
	struct ipam_pool_spec spec;
	struct prefix pfx;
	char err[256];

	memset(&spec, 0, sizeof(spec));
	ck_assert_int_eq(prefix_parse(prefix, &pfx, false), 0);
	spec.name = name;
	spec.tenant = tenant;
	spec.prefixes = &pfx;
	spec.nprefixes = 1;
	ck_assert_msg(ipam_pool_add(ipam, &spec, err, sizeof(err)) == 0, "%s",
	    err);
}

/* Names are per tenant: the same name in two tenants is two
 * allocations; within one tenant it is one, whatever the pool. */
START_TEST(test_names_per_tenant)
{
	struct ipam *ipam = ipam_new();
	struct ipam_request req = { .resource = "pod-1",
	    .family = IPAM_FAMILY_IPV4 };
	const struct ipam_alloc *a1, *a2, *b, *n;
	struct ipam_alloc out;
	bool existing;

	pool_of_tenant(ipam, "a1", "a", "10.1.0.0/24");
	pool_of_tenant(ipam, "a2", "a", "10.2.0.0/24");
	pool_of_tenant(ipam, "b1", "b", "10.3.0.0/24");
	pool_of_tenant(ipam, "none", NULL, "10.4.0.0/24");
	ck_assert_int_eq(ipam_allocate(ipam, "a1", &req, &a1, &existing), 0);
	ck_assert_int_eq(ipam_allocate(ipam, "b1", &req, &b, &existing), 0);
	ck_assert(!existing);
	ck_assert_int_eq(ipam_allocate(ipam, "none", &req, &n, &existing), 0);
	ck_assert(!existing);
	ck_assert_ptr_ne(a1, b);
	ck_assert_str_eq(a1->tenant, "a");
	ck_assert_str_eq(b->tenant, "b");
	ck_assert_str_eq(n->tenant, "");
	/* Another pool of the same tenant: taken. */
	ck_assert_int_eq(ipam_allocate(ipam, "a2", &req, &a2, &existing), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_ptr_eq(ipam_find(ipam, "a", "pod-1"), a1);
	ck_assert_ptr_eq(ipam_find(ipam, "b", "pod-1"), b);
	ck_assert_ptr_eq(ipam_find(ipam, NULL, "pod-1"), n);
	ck_assert_ptr_eq(ipam_find(ipam, "", "pod-1"), n);
	ck_assert_ptr_null(ipam_find(ipam, "c", "pod-1"));
	/* Releasing one tenant's leaves the others'. */
	ck_assert_int_eq(ipam_release(ipam, "b", "pod-1", &out, NULL), 0);
	ck_assert_str_eq(out.pool, "b1");
	ck_assert_ptr_null(ipam_find(ipam, "b", "pod-1"));
	ck_assert_ptr_eq(ipam_find(ipam, "a", "pod-1"), a1);
	ck_assert_int_eq(ipam_release(ipam, "b", "pod-1", NULL, NULL), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* A pre-allocation is claimed in its own tenant only. */
	req.resource = "warm";
	req.preallocated = true;
	ck_assert_int_eq(ipam_allocate(ipam, "a2", &req, &a2, &existing), 0);
	ck_assert_int_eq(ipam_claim(ipam, "b", "warm", "pod-2", &a2), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(ipam_claim(ipam, "a", "warm", "pod-1", &a2), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(ipam_claim(ipam, "a", "warm", "pod-2", &a2), 0);
	ck_assert_ptr_eq(ipam_find(ipam, "a", "pod-2"), a2);
	ipam_free(ipam);
}
END_TEST

static int
count_after(const struct ipam_alloc *a, void *arg)
{
	uint64_t *last = arg;

	ck_assert_uint_gt(a->seq, *last);	/* in seq order */
	*last = a->seq;
	return 0;
}

/* Seqs grow with each allocation; a walk resumes after one, released
 * or not. */
START_TEST(test_foreach_after)
{
	struct ipam *ipam = ipam_new();
	struct ipam_request req = { .family = IPAM_FAMILY_IPV4 };
	const struct ipam_alloc *a[4];
	uint64_t seq1, last;
	bool existing;
	char name[8];

	pool_of_tenant(ipam, "p", NULL, "10.1.0.0/24");
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		req.resource = name;
		ck_assert_int_eq(ipam_allocate(ipam, "p", &req, &a[i],
		    &existing), 0);
	}
	ck_assert_uint_lt(a[0]->seq, a[1]->seq);
	seq1 = a[1]->seq;
	ck_assert_int_eq(ipam_release(ipam, NULL, "r1", NULL, NULL), 0);
	last = seq1;
	ck_assert_int_eq(ipam_foreach_after(ipam, "p", seq1, count_after,
	    &last), 0);
	ck_assert_uint_eq(last, a[3]->seq);
	last = 0;
	ck_assert_int_eq(ipam_foreach_after(ipam, "nope", 0, count_after,
	    &last), 0);
	ck_assert_uint_eq(last, 0);
	ipam_free(ipam);
}
END_TEST

START_TEST(test_macs)
{
	struct ipam *ipam = ipam_with(&tenant_pool);
	struct macaddr want, mc;
	struct ipam_request req = { .resource = "r1",
	    .family = IPAM_FAMILY_IPV4, .mac = &want, .preallocated = false };
	const struct ipam_alloc *a;
	char buf[MAC_STRLEN];
	bool existing;

	mac_parse("02:00:0a:00:00:02", &want);
	ck_assert_int_eq(ipam_allocate(ipam, "tenant-a-train", &req, &a,
	    &existing), 0);
	ck_assert_str_eq(mac_fmt(&a->mac, buf, sizeof(buf)),
	    "02:00:0a:00:00:02");
	req.mac = NULL;
	req.resource = "r2";
	ipam_allocate(ipam, "tenant-a-train", &req, &a, &existing);
	ck_assert_str_eq(mac_fmt(&a->mac, buf, sizeof(buf)),
	    "02:00:0a:00:00:01");
	req.resource = "r3";
	ipam_allocate(ipam, "tenant-a-train", &req, &a, &existing);
	ck_assert_str_eq(mac_fmt(&a->mac, buf, sizeof(buf)),
	    "02:00:0a:00:00:03");
	/* In use, multicast, zero. */
	req.resource = "r4";
	req.mac = &want;
	ck_assert_int_eq(ipam_allocate(ipam, "tenant-a-train", &req, &a,
	    &existing), -1);
	ck_assert_int_eq(errno, EEXIST);
	mac_parse("03:00:00:00:00:01", &mc);
	req.mac = &mc;
	ck_assert_int_eq(ipam_allocate(ipam, "tenant-a-train", &req, &a,
	    &existing), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* The failed requests consumed no address. */
	req.mac = NULL;
	ipam_allocate(ipam, "tenant-a-train", &req, &a, &existing);
	ck_assert_str_eq(ipaddr_fmt(&a->ip, buf, sizeof(buf)), "10.10.0.19");
	ipam_free(ipam);
}
END_TEST

/* A 5-byte mac-prefix leaves 255 MACs (suffix 00 is never used). */
START_TEST(test_mac_exhaustion)
{
	static const struct pool_def d = { "m", "10.0.0.0/16", NULL, NULL,
	    NULL, NULL, NULL, 30, "0a:11:22:33:44" };
	struct ipam *ipam = ipam_with(&d);
	struct ipam_request req = { .resource = NULL,
	    .family = IPAM_FAMILY_IPV4, .mac = NULL, .preallocated = false };
	const struct ipam_alloc *a;
	char res[16], buf[MAC_STRLEN];
	bool existing;

	for (int i = 0; i < 255; i++) {
		snprintf(res, sizeof(res), "m%d", i);
		req.resource = res;
		ck_assert_int_eq(ipam_allocate(ipam, "m", &req, &a, &existing),
		    0);
	}
	ck_assert_str_eq(mac_fmt(&a->mac, buf, sizeof(buf)),
	    "0a:11:22:33:44:ff");
	req.resource = "last";
	ck_assert_int_eq(ipam_allocate(ipam, "m", &req, &a, &existing), -1);
	ck_assert_int_eq(errno, ENOSPC);
	/* A released MAC comes back. */
	ck_assert_int_eq(ipam_release(ipam, NULL, "m7", NULL, NULL), 0);
	ck_assert_int_eq(ipam_allocate(ipam, "m", &req, &a, &existing), 0);
	ck_assert_str_eq(mac_fmt(&a->mac, buf, sizeof(buf)),
	    "0a:11:22:33:44:08");
	ipam_free(ipam);
}
END_TEST

/*
 * Reserved MACs (a VTEP's router MAC 02:00:0a:00:00:0b for router id
 * 10.0.0.11) are skipped by the counter as MACs in use are, and refused
 * when asked for; the reservation is counted.
 */
START_TEST(test_reserved_macs)
{
	static const struct pool_def d = { "r", "10.0.0.0/24", NULL, NULL,
	    NULL, NULL, NULL, 30, "02:00:0a" };
	static const char *const want[] = { "01", "02", "04", "05", "06",
	    "07", "08", "09", "0a", "0c", "0d", "0e" };
	struct ipam *ipam = ipam_with(&d);
	struct ipam_request req = { .resource = NULL,
	    .family = IPAM_FAMILY_IPV4, .mac = NULL, .preallocated = false };
	struct macaddr rmac, other, zero;
	const struct ipam_alloc *a;
	char res[16], buf[MAC_STRLEN], exp[MAC_STRLEN];
	bool existing;

	mac_parse("02:00:0a:00:00:0b", &rmac);
	mac_parse("02:00:0a:00:00:03", &other);
	ipam_mac_reserve(ipam, &rmac);
	ipam_mac_reserve(ipam, &rmac);
	ipam_mac_reserve(ipam, &other);
	ck_assert_uint_eq(ipam_macs_reserved(ipam), 2);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(res, sizeof(res), "e%zu", i);
		req.resource = res;
		ck_assert_int_eq(ipam_allocate(ipam, "r", &req, &a, &existing),
		    0);
		snprintf(exp, sizeof(exp), "02:00:0a:00:00:%s", want[i]);
		ck_assert_str_eq(mac_fmt(&a->mac, buf, sizeof(buf)), exp);
	}
	/* Asked for: refused as a MAC in use, and no address consumed. */
	req.resource = "asks";
	req.mac = &rmac;
	ck_assert_int_eq(ipam_allocate(ipam, "r", &req, &a, &existing), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert(ipam_mac_reserved(ipam, &rmac));
	ck_assert_ptr_null(ipam_find(ipam, NULL, "asks"));
	/* Counted: one unreserve of two leaves it reserved. */
	ck_assert_int_eq(ipam_mac_unreserve(ipam, &rmac), 0);
	ck_assert(ipam_mac_reserved(ipam, &rmac));
	ck_assert_int_eq(ipam_allocate(ipam, "r", &req, &a, &existing), -1);
	ck_assert_int_eq(ipam_mac_unreserve(ipam, &rmac), 0);
	ck_assert(!ipam_mac_reserved(ipam, &rmac));
	ck_assert_int_eq(ipam_mac_unreserve(ipam, &rmac), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_uint_eq(ipam_macs_reserved(ipam), 1);
	ck_assert_int_eq(ipam_allocate(ipam, "r", &req, &a, &existing), 0);
	ck_assert_str_eq(mac_fmt(&a->mac, buf, sizeof(buf)),
	    "02:00:0a:00:00:0b");
	ck_assert_str_eq(ipaddr_fmt(&a->ip, buf, sizeof(buf)), "10.0.0.13");
	/* Where the pool forms a MAC: its 11th; never another prefix or
	 * the all-zero suffix. */
	ck_assert_int_eq(ipam_pool_mac_rank(ipam_pool_find(ipam, "r"), &rmac),
	    10);
	mac_parse("02:00:0b:00:00:0b", &other);
	ck_assert_int_eq(ipam_pool_mac_rank(ipam_pool_find(ipam, "r"),
	    &other), -1);
	mac_parse("02:00:0a:00:00:00", &zero);
	ck_assert_int_eq(ipam_pool_mac_rank(ipam_pool_find(ipam, "r"), &zero),
	    -1);
	ipam_free(ipam);
}
END_TEST

START_TEST(test_conflicts)
{
	static const struct pool_def d = { "c", "10.0.0.0/29", NULL, NULL,
	    NULL, NULL, NULL, 30, NULL };
	struct ipam *ipam = ipam_with(&d);
	struct ipam_pool_stats st;
	struct ipaddr ip2, ip5, out;
	char all[256], buf[IPADDR_STRLEN];

	ipaddr_parse("10.0.0.2", &ip2);
	ipaddr_parse("10.0.0.5", &ip5);
	ipaddr_parse("10.9.9.9", &out);
	ck_assert_int_eq(ipam_mark_conflict(ipam, "c", &ip2, true), 0);
	ck_assert_int_eq(ipam_mark_conflict(ipam, "c", &out, true), -1);
	ck_assert(ipam_is_conflict(ipam, "c", &ip2));
	ck_assert_str_eq(alloc_ip(ipam, "c", "a", IPAM_FAMILY_IPV4, buf,
	    sizeof(buf)), "10.0.0.1");
	ck_assert_str_eq(alloc_ip(ipam, "c", "b", IPAM_FAMILY_IPV4, buf,
	    sizeof(buf)), "10.0.0.3");
	ipam_pool_stats(ipam_pool_find(ipam, "c"), &st);
	ck_assert_uint_eq(st.v4.conflicts, 1);
	ck_assert_double_eq(st.v4.free, 3);
	/* Allocated and then seen elsewhere: reported, and kept out after
	 * release even when the quarantine is over. */
	ck_assert_str_eq(alloc_ip(ipam, "c", "e", IPAM_FAMILY_IPV4, buf,
	    sizeof(buf)), "10.0.0.4");
	ck_assert_str_eq(alloc_ip(ipam, "c", "f", IPAM_FAMILY_IPV4, buf,
	    sizeof(buf)), "10.0.0.5");
	ck_assert_int_eq(ipam_mark_conflict(ipam, "c", &ip5, true), 1);
	ck_assert_int_eq(ipam_release(ipam, NULL, "f", NULL, NULL), 0);
	fake_now += 3600;
	alloc_all(ipam, "c", IPAM_FAMILY_IPV4, all, sizeof(all));
	ck_assert_str_eq(all, "10.0.0.6");
	/* Cleared: both come back. */
	ck_assert_int_eq(ipam_mark_conflict(ipam, "c", &ip2, false), 0);
	ck_assert_int_eq(ipam_mark_conflict(ipam, "c", &ip5, false), 0);
	ck_assert(!ipam_is_conflict(ipam, "c", &ip2));
	ipam_pool_stats(ipam_pool_find(ipam, "c"), &st);
	ck_assert_uint_eq(st.v4.conflicts, 0);
	ck_assert_double_eq(st.v4.free, 2);
	alloc_all(ipam, "c", IPAM_FAMILY_IPV4, all, sizeof(all));
	ck_assert_str_eq(all, "10.0.0.2 10.0.0.5");
	ipam_free(ipam);
}
END_TEST

/* What a neighbour request for an address asks of the allocator. */
static bool
unused(struct ipam *ipam, const char *pool, const char *s)
{
	struct ipaddr a;

	ck_assert_int_eq(ipaddr_parse(s, &a), 0);
	return ipam_addr_unused(ipam, pool, &a);
}

START_TEST(test_addr_unused)
{
	struct ipam *ipam = ipam_with(&tenant_pool);
	const char *p = "tenant-a-train";
	struct ipaddr ip;
	char buf[IPADDR_STRLEN];

	ck_assert(unused(ipam, p, "10.10.0.100"));
	ck_assert(unused(ipam, p, "2001:db8:100::42"));
	ck_assert(!unused(ipam, p, "10.10.0.0"));	/* network */
	ck_assert(!unused(ipam, p, "10.10.0.255"));	/* broadcast */
	ck_assert(!unused(ipam, p, "10.10.0.1"));	/* gateway */
	ck_assert(!unused(ipam, p, "10.10.0.9"));	/* excluded */
	ck_assert(!unused(ipam, p, "10.10.0.20"));	/* reserved */
	ck_assert(!unused(ipam, p, "10.10.1.1"));	/* outside */
	ck_assert(!unused(ipam, "nope", "10.10.0.100"));
	/* Allocated, then quarantined until its time is over. */
	ck_assert_str_eq(alloc_ip(ipam, p, "a", IPAM_FAMILY_IPV4, buf,
	    sizeof(buf)), "10.10.0.16");
	ck_assert(!unused(ipam, p, "10.10.0.16"));
	ck_assert_int_eq(ipam_release(ipam, NULL, "a", NULL, NULL), 0);
	ck_assert(!unused(ipam, p, "10.10.0.16"));
	fake_now += 30;
	ck_assert(unused(ipam, p, "10.10.0.16"));
	/* Seen behind another VTEP. */
	ipaddr_parse("10.10.0.100", &ip);
	ck_assert_int_eq(ipam_mark_conflict(ipam, p, &ip, true), 0);
	ck_assert(!unused(ipam, p, "10.10.0.100"));
	ipam_free(ipam);
}
END_TEST

static int
count_cb(const struct ipam_alloc *a, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

START_TEST(test_foreach_stats)
{
	static const struct pool_def other = { "other", "10.9.0.0/24", NULL,
	    NULL, NULL, NULL, NULL, 30, NULL };
	struct ipam *ipam = ipam_with(&tenant_pool);
	struct ipam_request req = { .resource = "p1",
	    .family = IPAM_FAMILY_IPV4, .mac = NULL, .preallocated = true };
	struct ipam_pool_stats st;
	const struct ipam_alloc *a;
	char buf[IPADDR_STRLEN], err[128];
	bool existing;
	int n = 0;

	ck_assert_int_eq(pool_add(ipam, &other, err, sizeof(err)), 0);
	ipam_allocate(ipam, "tenant-a-train", &req, &a, &existing);
	ck_assert(a->preallocated);
	ck_assert_int_eq(a->created, 1000);
	ck_assert_uint_eq(a->vni, 100);
	alloc_ip(ipam, "tenant-a-train", "p2", IPAM_FAMILY_IPV4, buf,
	    sizeof(buf));
	alloc_ip(ipam, "other", "o1", IPAM_FAMILY_IPV4, buf, sizeof(buf));
	ipam_foreach(ipam, "tenant-a-train", count_cb, &n);
	ck_assert_int_eq(n, 2);
	n = 0;
	ipam_foreach(ipam, NULL, count_cb, &n);
	ck_assert_int_eq(n, 3);
	ipam_pool_stats(ipam_pool_find(ipam, "tenant-a-train"), &st);
	ck_assert_uint_eq(st.allocations, 2);
	ck_assert_uint_eq(st.preallocated, 1);
	ck_assert_uint_eq(st.v4.prefixes, 1);
	ck_assert_uint_eq(st.v6.prefixes, 1);
	ipam_release(ipam, NULL, "p1", NULL, NULL);
	ipam_pool_stats(ipam_pool_find(ipam, "tenant-a-train"), &st);
	ck_assert_uint_eq(st.preallocated, 0);
	ck_assert_ptr_eq(ipam_pool_by_vni(ipam, 100),
	    ipam_pool_find(ipam, "tenant-a-train"));
	ipam_free(ipam);
}
END_TEST

struct bad_pool {
	struct pool_def	 def;
	const char	*error;
};

static const struct bad_pool bad_pools[] = {
	{ { "g", "10.0.0.0/24", "10.0.1.1", NULL, NULL, NULL, NULL, 30, NULL },
	  "pool g: gateway 10.0.1.1 is outside the pool's prefixes" },
	{ { "e", "10.0.0.0/24", NULL, NULL, "10.0.0.9", "10.0.0.2", NULL, 30,
	  NULL }, "pool e: bad exclude range" },
	{ { "r", "10.0.0.0/24", NULL, NULL, "10.0.0.2", "10.0.0.9", "10.0.0.4",
	  30, NULL }, "pool r: reserve 10.0.0.4 is never handed out anyway "
	  "(gateway, network, excluded or reserved twice)" },
	{ { "m", "10.0.0.0/24", NULL, NULL, NULL, NULL, NULL, 30, "01:00" },
	  "pool m: mac-prefix must be 1-5 bytes, locally administered unicast" },
	{ { "o", "10.0.0.0/24 10.0.0.128/25", NULL, NULL, NULL, NULL, NULL, 30,
	  NULL }, "pool o: prefix 10.0.0.128/25 overlaps another prefix of "
	  "the pool" },
	{ { "z", "0.0.0.0/0", NULL, NULL, NULL, NULL, NULL, 30, NULL },
	  "pool z: prefix 0.0.0.0/0 is not usable" },
};

START_TEST(test_bad_pools)
{
	struct ipam *ipam = ipam_new();
	char err[256];

	ck_assert_int_eq(pool_add(ipam, &bad_pools[_i].def, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, bad_pools[_i].error);
	ck_assert_ptr_null(ipam_pool_first(ipam));
	ipam_free(ipam);
}
END_TEST

static Suite *
ipam_alloc_suite(void)
{
	Suite *s = suite_create("ipam_alloc");
	TCase *tc = tcase_create("alloc");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_edge_prefixes, 0,
	    (int)(sizeof(edge_cases) / sizeof(edge_cases[0])));
	tcase_add_test(tc, test_exclusions_reservations);
	tcase_add_test(tc, test_quarantine_expiry);
	tcase_add_test(tc, test_prefer_fresh);
	tcase_add_test(tc, test_huge_pools);
	tcase_add_test(tc, test_dual_stack);
	tcase_add_test(tc, test_dual_rollback);
	tcase_add_test(tc, test_idempotent);
	tcase_add_test(tc, test_names_per_tenant);
	tcase_add_test(tc, test_foreach_after);
	tcase_add_test(tc, test_macs);
	tcase_add_test(tc, test_mac_exhaustion);
	tcase_add_test(tc, test_reserved_macs);
	tcase_add_test(tc, test_conflicts);
	tcase_add_test(tc, test_addr_unused);
	tcase_add_test(tc, test_foreach_stats);
	tcase_add_loop_test(tc, test_bad_pools, 0,
	    (int)(sizeof(bad_pools) / sizeof(bad_pools[0])));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ipam_alloc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
