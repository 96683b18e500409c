/*
 * IPAM at run time: requests for a named address, labels (bounds, one
 * canonical text, queries by key and value for the shadow inventory),
 * and pools reshaped or removed under live allocations: what may not
 * change is refused with the number of allocations in the way; what
 * changes keeps every allocation, never hands an address out twice,
 * and keeps the counters true.
 *
 * On a real SQLite store in a temporary directory: labels are stored,
 * restored and audited; run-time pools come back through the loader in
 * creation order with their last definition, a deleted one does not;
 * a schema 3 database is upgraded and its records keep their HMAC; the
 * audit HMAC covers exactly the documented bytes (built here by hand
 * and signed with OpenSSL), so records without labels hash as before.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/hmac.h>
#include <sqlite3.h>

#include "common/buf.h"
#include "common/util.h"
#include "ipam/ipam.h"
#include "ipam/ipam_int.h"

static int64_t fake_now;

static int64_t
fake_clock(void *arg)
{
	return fake_now;
}

/* A pool in a few words: prefixes and reservations separated by spaces
 * ("10.0.0.9=db" reserves 10.0.0.9 for db). */
struct pool_text {
	const char	*name;
	uint32_t	 vni;
	const char	*prefixes;
	const char	*gw4;
	const char	*excl_lo;
	const char	*excl_hi;
	const char	*reserves;
	uint32_t	 quarantine;
};

struct spec_buf {
	struct ipam_pool_spec spec;
	struct prefix	 pfx[8];
	struct ipam_range excl;
	struct ipam_reservation res[8];
};

static const struct ipam_pool_spec *
spec_of(const struct pool_text *t, struct spec_buf *sb)
{
	char buf[256], *w, *save = NULL, *eq;

	memset(sb, 0, sizeof(*sb));
	sb->spec.name = t->name;
	sb->spec.vni = t->vni;
	sb->spec.quarantine = t->quarantine;
	sb->spec.runtime = true;
	snprintf(buf, sizeof(buf), "%s", t->prefixes);
	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
		ck_assert_int_eq(prefix_parse(w,
		    &sb->pfx[sb->spec.nprefixes++], false), 0);
	sb->spec.prefixes = sb->pfx;
	if (t->gw4 != NULL)
		ck_assert_int_eq(ipaddr_parse(t->gw4, &sb->spec.gateway4), 0);
	if (t->excl_lo != NULL) {
		ck_assert_int_eq(ipaddr_parse(t->excl_lo, &sb->excl.lo), 0);
		ck_assert_int_eq(ipaddr_parse(t->excl_hi, &sb->excl.hi), 0);
		sb->spec.excludes = &sb->excl;
		sb->spec.nexcludes = 1;
	}
	snprintf(buf, sizeof(buf), "%s", t->reserves ? t->reserves : "");
	save = NULL;
	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ",
	    &save)) {
		struct ipam_reservation *r =
		    &sb->res[sb->spec.nreservations++];

		ck_assert_ptr_nonnull(eq = strchr(w, '='));
		*eq = '\0';
		ck_assert_int_eq(ipaddr_parse(w, &r->ip), 0);
		strlcpy_s(r->name, eq + 1, sizeof(r->name));
	}
	sb->spec.reservations = sb->res;
	return &sb->spec;
}

static struct ipam *
ipam_with(const struct pool_text *t)
{
	struct ipam *ipam = ipam_new();
	struct spec_buf sb;
	char err[256];

	fake_now = 1000;
	ipam_set_clock(ipam, fake_clock, NULL);
	ck_assert_msg(ipam_pool_add(ipam, spec_of(t, &sb), err, sizeof(err))
	    == 0, "%s", err);
	return ipam;
}

/* Allocate res, asking for ip when not NULL: 0 or errno. */
static int
alloc_asked(struct ipam *ipam, const char *pool, const char *res,
    const char *ip, const char *labels, char *got, size_t len)
{
	struct ipam_request req = { .resource = res,
	    .family = IPAM_FAMILY_IPV4, .labels = labels };
	const struct ipam_alloc *a;
	bool existing;

	if (ip != NULL) {
		ck_assert_int_eq(ipaddr_parse(ip, &req.ip), 0);
		if (req.ip.af == AF_INET6) {
			req.ipv6 = req.ip;
			memset(&req.ip, 0, sizeof(req.ip));
			req.family = IPAM_FAMILY_IPV6;
		}
	}
	if (ipam_allocate(ipam, pool, &req, &a, &existing) == -1)
		return errno;
	if (got != NULL)
		ipaddr_fmt(req.family == IPAM_FAMILY_IPV6 ? &a->ipv6 : &a->ip,
		    got, len);
	return 0;
}

static void
release(struct ipam *ipam, const char *res)
{
	ck_assert_int_eq(ipam_release(ipam, NULL, res, NULL, NULL), 0);
}

/* Allocate until exhausted: the count; each address once. */
static int
alloc_rest(struct ipam *ipam, const char *pool, const char *prefix,
    char seen[][IPADDR_STRLEN], int nseen)
{
	char res[32], got[IPADDR_STRLEN];
	int n = 0;

	for (;;) {
		snprintf(res, sizeof(res), "%s%d", prefix, n);
		if (alloc_asked(ipam, pool, res, NULL, NULL, got,
		    sizeof(got)) != 0)
			break;
		for (int i = 0; i < nseen + n; i++)
			ck_assert_msg(strcmp(seen[i], got) != 0, "%s twice",
			    got);
		snprintf(seen[nseen + n], IPADDR_STRLEN, "%s", got);
		n++;
		ck_assert_int_lt(nseen + n, 300);
	}
	ck_assert_int_eq(errno, ENOSPC);
	return n;
}

static uint64_t
used4(const struct ipam *ipam, const char *pool)
{
	struct ipam_pool_stats st;

	ipam_pool_stats(ipam_pool_find(ipam, pool), &st);
	return st.v4.used;
}

/* ---- asked addresses ---- */

START_TEST(test_asked_address)
{
	struct pool_text t = { "p", 100, "10.0.0.0/28 2001:db8::/126",
	    "10.0.0.1", "10.0.0.12", "10.0.0.13", "10.0.0.9=db", 30 };
	struct ipam *ipam = ipam_with(&t);
	char got[IPADDR_STRLEN], seen[32][IPADDR_STRLEN];
	struct ipaddr ip;
	int n;

	ck_assert_int_eq(alloc_asked(ipam, "p", "a", "10.0.0.5", NULL, got,
	    sizeof(got)), 0);
	ck_assert_str_eq(got, "10.0.0.5");
	ck_assert_int_eq(alloc_asked(ipam, "p", "v6", "2001:db8::2", NULL,
	    got, sizeof(got)), 0);
	ck_assert_str_eq(got, "2001:db8::2");
	/* Taken, reserved: in use.  Outside, network, broadcast, gateway,
	 * excluded: never handed out. */
	ck_assert_int_eq(alloc_asked(ipam, "p", "b", "10.0.0.5", NULL, NULL,
	    0), EADDRINUSE);
	ck_assert_int_eq(alloc_asked(ipam, "p", "b", "10.0.0.9", NULL, NULL,
	    0), EADDRINUSE);
	ck_assert_int_eq(alloc_asked(ipam, "p", "b", "10.0.1.5", NULL, NULL,
	    0), EADDRNOTAVAIL);
	ck_assert_int_eq(alloc_asked(ipam, "p", "b", "10.0.0.0", NULL, NULL,
	    0), EADDRNOTAVAIL);
	ck_assert_int_eq(alloc_asked(ipam, "p", "b", "10.0.0.15", NULL, NULL,
	    0), EADDRNOTAVAIL);
	ck_assert_int_eq(alloc_asked(ipam, "p", "b", "10.0.0.1", NULL, NULL,
	    0), EADDRNOTAVAIL);
	ck_assert_int_eq(alloc_asked(ipam, "p", "b", "10.0.0.13", NULL, NULL,
	    0), EADDRNOTAVAIL);
	ck_assert_int_eq(alloc_asked(ipam, "p", "b", "2001:db8::", NULL, NULL,
	    0), EADDRNOTAVAIL);
	/* Quarantined until its time is up. */
	release(ipam, "a");
	ck_assert_int_eq(alloc_asked(ipam, "p", "b", "10.0.0.5", NULL, NULL,
	    0), EADDRINUSE);
	fake_now += 30;
	ck_assert_int_eq(alloc_asked(ipam, "p", "b", "10.0.0.5", NULL, got,
	    sizeof(got)), 0);
	/* A conflict is never handed out, asked or not. */
	ck_assert_int_eq(ipaddr_parse("10.0.0.7", &ip), 0);
	ck_assert_int_eq(ipam_mark_conflict(ipam, "p", &ip, true), 0);
	ck_assert_int_eq(alloc_asked(ipam, "p", "c", "10.0.0.7", NULL, NULL,
	    0), EADDRINUSE);
	/* The cursor walks past what was asked: every other usable address
	 * once, then exhausted (2..11 and 14, less 5, 7 and 9). */
	snprintf(seen[0], IPADDR_STRLEN, "10.0.0.5");
	n = alloc_rest(ipam, "p", "r", seen, 1);
	ck_assert_int_eq(n, 8);
	ck_assert_uint_eq(used4(ipam, "p"), 9);
	ipam_free(ipam);
}
END_TEST

/* An asked address must be of a family asked; a failed second family
 * gives the first back. */
START_TEST(test_asked_family)
{
	struct pool_text t = { "p", 100, "10.0.0.0/29 2001:db8::/126", NULL,
	    NULL, NULL, NULL, 0 };
	struct ipam *ipam = ipam_with(&t);
	struct ipam_request req = { .resource = "x",
	    .family = IPAM_FAMILY_IPV6 };
	const struct ipam_alloc *a;
	char got[IPADDR_STRLEN];
	bool existing;

	ck_assert_int_eq(ipaddr_parse("10.0.0.3", &req.ip), 0);
	ck_assert_int_eq(ipam_allocate(ipam, "p", &req, &a, &existing), -1);
	ck_assert_int_eq(errno, EINVAL);
	req.family = IPAM_FAMILY_DUAL;
	ck_assert_int_eq(ipaddr_parse("2001:db8::", &req.ipv6), 0);
	ck_assert_int_eq(ipam_allocate(ipam, "p", &req, &a, &existing), -1);
	ck_assert_int_eq(errno, EADDRNOTAVAIL);
	ck_assert_uint_eq(used4(ipam, "p"), 0);
	ck_assert_int_eq(alloc_asked(ipam, "p", "y", "10.0.0.3", NULL, got,
	    sizeof(got)), 0);
	ck_assert_str_eq(got, "10.0.0.3");
	ipam_free(ipam);
}
END_TEST

/* ---- labels ---- */

START_TEST(test_labels_text)
{
	struct ipam_labels ls, back;
	char text[IPAM_LABELS_TEXT_MAX + 1], err[256], key[80], val[300];

	memset(&ls, 0, sizeof(ls));
	ck_assert_int_eq(ipam_labels_add(&ls, "job", "llama-70b", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(ipam_labels_add(&ls, "dns-name", "worker-3.train",
	    err, sizeof(err)), 0);
	ck_assert_int_eq(ipam_labels_add(&ls, "app", "", err, sizeof(err)),
	    0);
	ipam_labels_format(&ls, text, sizeof(text));
	ck_assert_str_eq(text, "app=,dns-name=worker-3.train,job=llama-70b");
	ck_assert(ipam_labels_canonical(text));
	ck_assert(!ipam_labels_canonical("job=a,app=b"));
	ck_assert(!ipam_labels_canonical("job"));
	ck_assert(ipam_labels_canonical(""));
	ck_assert_int_eq(ipam_labels_parse(text, &back), 0);
	ck_assert_uint_eq(back.n, 3);
	ck_assert_str_eq(ipam_label_get(text, "dns-name", val, sizeof(val)),
	    "worker-3.train");
	ck_assert_str_eq(ipam_label_get(text, "app", val, sizeof(val)), "");
	ck_assert_ptr_null(ipam_label_get(text, "jo", val, sizeof(val)));
	ck_assert(ipam_labels_match(text, "job", "llama-70b"));
	ck_assert(ipam_labels_match(text, "job", NULL));
	ck_assert(!ipam_labels_match(text, "job", "llama"));
	ck_assert(!ipam_labels_match(NULL, "job", NULL));

	/* Bounds: characters, lengths, duplicates, count, total. */
	ck_assert_int_eq(ipam_labels_add(&ls, "job", "x", err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "label job given twice");
	ck_assert_int_eq(ipam_labels_add(&ls, "a=b", "x", err, sizeof(err)),
	    -1);
	ck_assert_int_eq(ipam_labels_add(&ls, "", "x", err, sizeof(err)), -1);
	ck_assert_int_eq(ipam_labels_add(&ls, "k", "a,b", err, sizeof(err)),
	    -1);
	ck_assert_int_eq(ipam_labels_add(&ls, "k", "a b", err, sizeof(err)),
	    -1);
	memset(key, 'k', 64);
	key[64] = '\0';
	ck_assert_int_eq(ipam_labels_add(&ls, key, "x", err, sizeof(err)), -1);
	memset(val, 'v', 254);
	val[254] = '\0';
	ck_assert_int_eq(ipam_labels_add(&ls, "k", val, err, sizeof(err)), -1);
	val[253] = '\0';
	memset(&ls, 0, sizeof(ls));
	for (int i = 0; i < 7; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		ck_assert_int_eq(ipam_labels_add(&ls, key, val, err,
		    sizeof(err)), 0);
	}
	snprintf(key, sizeof(key), "k7");
	ck_assert_int_eq(ipam_labels_add(&ls, key, val, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "labels longer than 2047 bytes in all (as "
	    "key=value,...)");
	ipam_labels_format(&ls, text, sizeof(text));
	ck_assert_uint_le(strlen(text), IPAM_LABELS_TEXT_MAX);
	memset(&ls, 0, sizeof(ls));
	for (int i = 0; i < IPAM_LABELS_MAX; i++) {
		snprintf(key, sizeof(key), "k%02d", i);
		ck_assert_int_eq(ipam_labels_add(&ls, key, "v", err,
		    sizeof(err)), 0);
	}
	ck_assert_int_eq(ipam_labels_add(&ls, "z", "v", err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "more than 16 labels");
}
END_TEST

static int
count_cb(const struct ipam_alloc *a, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

struct groups {
	char		 text[256];
};

static int
group_cb(const char *value, size_t count, void *arg)
{
	struct groups *g = arg;
	size_t len = strlen(g->text);

	snprintf(g->text + len, sizeof(g->text) - len, "%s%s:%zu",
	    len ? " " : "", value, count);
	return 0;
}

START_TEST(test_labels_allocations)
{
	struct pool_text t = { "p", 100, "10.0.0.0/24", NULL, NULL, NULL,
	    NULL, 0 };
	struct pool_text t2 = { "q", 200, "10.1.0.0/24", NULL, NULL, NULL,
	    NULL, 0 };
	struct ipam *ipam = ipam_with(&t);
	struct spec_buf sb;
	struct groups g;
	char err[256];
	int n = 0;

	ck_assert_int_eq(ipam_pool_add(ipam, spec_of(&t2, &sb), err,
	    sizeof(err)), 0);
	ck_assert_int_eq(alloc_asked(ipam, "p", "w0", NULL,
	    "app=trainer,job=llama-70b", NULL, 0), 0);
	ck_assert_int_eq(alloc_asked(ipam, "p", "w1", NULL,
	    "app=trainer,job=llama-70b", NULL, 0), 0);
	ck_assert_int_eq(alloc_asked(ipam, "p", "w2", NULL, "job=bert", NULL,
	    0), 0);
	ck_assert_int_eq(alloc_asked(ipam, "q", "w3", NULL, "job=llama-70b",
	    NULL, 0), 0);
	ck_assert_int_eq(alloc_asked(ipam, "p", "w4", NULL, NULL, NULL, 0), 0);
	/* Only canonical text is taken. */
	ck_assert_int_eq(alloc_asked(ipam, "p", "w5", NULL, "job=a,app=b",
	    NULL, 0), EINVAL);
	ck_assert_str_eq(ipam_find(ipam, NULL, "w0")->labels,
	    "app=trainer,job=llama-70b");
	ck_assert_ptr_null(ipam_find(ipam, NULL, "w4")->labels);

	ipam_foreach_label(ipam, NULL, "job", "llama-70b", count_cb, &n);
	ck_assert_int_eq(n, 3);
	n = 0;
	ipam_foreach_label(ipam, "p", "job", "llama-70b", count_cb, &n);
	ck_assert_int_eq(n, 2);
	n = 0;
	ipam_foreach_label(ipam, "p", "job", NULL, count_cb, &n);
	ck_assert_int_eq(n, 3);
	memset(&g, 0, sizeof(g));
	ipam_label_groups(ipam, NULL, "job", group_cb, &g);
	ck_assert_str_eq(g.text, "bert:1 llama-70b:3");
	memset(&g, 0, sizeof(g));
	ipam_label_groups(ipam, "p", "app", group_cb, &g);
	ck_assert_str_eq(g.text, "trainer:2");

	/* Changed, cleared; a release takes them along. */
	ck_assert_int_eq(ipam_set_labels(ipam, NULL, "w4", "job=bert"), 0);
	ck_assert_int_eq(ipam_set_labels(ipam, NULL, "w0", NULL), 0);
	ck_assert_int_eq(ipam_set_labels(ipam, NULL, "w0", "b=1,a=2"), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ipam_set_labels(ipam, NULL, "nobody", NULL), -1);
	ck_assert_int_eq(errno, ENOENT);
	release(ipam, "w1");
	memset(&g, 0, sizeof(g));
	ipam_label_groups(ipam, NULL, "job", group_cb, &g);
	ck_assert_str_eq(g.text, "bert:2 llama-70b:1");
	ipam_free(ipam);
}
END_TEST

/* ---- pools changed at run time ---- */

static int
change(struct ipam *ipam, const struct pool_text *t, uint64_t *blocking,
    char *err, size_t errlen)
{
	struct spec_buf sb;

	if (ipam_pool_check(ipam, spec_of(t, &sb), blocking, err, errlen) ==
	    -1)
		return -1;
	return ipam_pool_change(ipam, spec_of(t, &sb), err, errlen);
}

/* Growing keeps every allocation and hands out the new room; shrinking
 * under allocations is refused with their count. */
START_TEST(test_pool_grow_shrink)
{
	struct pool_text t = { "p", 100, "10.0.0.0/29", NULL, NULL, NULL,
	    NULL, 0 };
	struct pool_text grown = { "p", 100, "10.0.0.0/29 10.0.1.0/29", NULL,
	    NULL, NULL, NULL, 0 };
	struct pool_text shrunk = { "p", 100, "10.0.1.0/29", NULL, NULL, NULL,
	    NULL, 0 };
	struct ipam *ipam = ipam_with(&t);
	char seen[64][IPADDR_STRLEN], err[256], got[IPADDR_STRLEN];
	struct ipam_pool_stats st;
	uint64_t blocking;
	int n;

	ck_assert_int_eq(alloc_rest(ipam, "p", "a", seen, 0), 6);
	ck_assert_int_eq(change(ipam, &grown, &blocking, err, sizeof(err)), 0);
	ck_assert_uint_eq(blocking, 0);
	ck_assert_str_eq(ipaddr_fmt(&ipam_find(ipam, NULL, "a3")->ip, got,
	    sizeof(got)), "10.0.0.4");
	ck_assert_uint_eq(used4(ipam, "p"), 6);
	n = alloc_rest(ipam, "p", "b", seen, 6);
	ck_assert_int_eq(n, 6);
	ipam_pool_stats(ipam_pool_find(ipam, "p"), &st);
	ck_assert(st.v4.size == 12 && st.v4.free == 0);

	/* The first prefix still holds 6 allocations. */
	ck_assert_int_eq(change(ipam, &shrunk, &blocking, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_uint_eq(blocking, 6);
	ck_assert_str_eq(err, "pool p: 6 live allocations would fall outside "
	    "the new definition (outside its prefixes, excluded, reserved, or "
	    "a gateway or network address)");
	ck_assert_uint_eq(used4(ipam, "p"), 12);
	for (int i = 0; i < 6; i++) {
		char res[8];

		snprintf(res, sizeof(res), "a%d", i);
		release(ipam, res);
	}
	/* Their quarantine (0 s) is outside too: forgotten. */
	ck_assert_int_eq(change(ipam, &shrunk, &blocking, err, sizeof(err)),
	    0);
	ipam_pool_stats(ipam_pool_find(ipam, "p"), &st);
	ck_assert(st.v4.size == 6 && st.v4.used == 6 && st.v4.free == 0 &&
	    st.v4.quarantined == 0);
	ck_assert_int_eq(alloc_asked(ipam, "p", "c", NULL, NULL, NULL, 0),
	    ENOSPC);
	ck_assert_int_eq(alloc_asked(ipam, "p", "c", "10.0.0.3", NULL, NULL,
	    0), EADDRNOTAVAIL);
	ipam_free(ipam);
}
END_TEST

/* A reservation, exclusion or gateway over an allocation is refused;
 * over a quarantined address it takes it out of the quarantine. */
START_TEST(test_pool_reserve_over)
{
	struct pool_text t = { "p", 100, "10.0.0.0/28", NULL, NULL, NULL,
	    NULL, 60 };
	struct pool_text res3 = { "p", 100, "10.0.0.0/28", NULL, NULL, NULL,
	    "10.0.0.3=db", 60 };
	struct pool_text res1 = { "p", 100, "10.0.0.0/28", NULL, NULL, NULL,
	    "10.0.0.1=db", 60 };
	struct pool_text gw = { "p", 100, "10.0.0.0/28", "10.0.0.2", NULL,
	    NULL, NULL, 60 };
	struct pool_text ex = { "p", 100, "10.0.0.0/28", NULL, "10.0.0.2",
	    "10.0.0.5", NULL, 60 };
	struct ipam *ipam = ipam_with(&t);
	struct ipam_pool_stats st;
	const struct ipam_reservation *r;
	uint64_t blocking;
	char err[256], got[IPADDR_STRLEN];

	for (int i = 0; i < 3; i++) {
		char res[8];

		snprintf(res, sizeof(res), "a%d", i);
		ck_assert_int_eq(alloc_asked(ipam, "p", res, NULL, NULL, NULL,
		    0), 0);
	}
	release(ipam, "a0");			/* 10.0.0.1 quarantined */
	ck_assert_int_eq(change(ipam, &res3, &blocking, err, sizeof(err)),
	    -1);
	ck_assert_uint_eq(blocking, 1);
	ck_assert_int_eq(change(ipam, &gw, &blocking, err, sizeof(err)), -1);
	ck_assert_uint_eq(blocking, 1);
	ck_assert_int_eq(change(ipam, &ex, &blocking, err, sizeof(err)), -1);
	ck_assert_uint_eq(blocking, 2);
	ck_assert_int_eq(change(ipam, &res1, &blocking, err, sizeof(err)), 0);
	ck_assert_uint_eq(ipam_pool_reservations(ipam_pool_find(ipam, "p"),
	    &r), 1);
	ck_assert_str_eq(r[0].name, "db");
	ipam_pool_stats(ipam_pool_find(ipam, "p"), &st);
	ck_assert(st.v4.quarantined == 0 && st.v4.used == 2 &&
	    st.reserved == 1 && st.v4.size == 13);
	ck_assert_int_eq(alloc_asked(ipam, "p", "b", "10.0.0.1", NULL, NULL,
	    0), EADDRINUSE);
	/* Unreserving gives it back to the cursor. */
	ck_assert_int_eq(change(ipam, &t, &blocking, err, sizeof(err)), 0);
	ck_assert_int_eq(alloc_asked(ipam, "p", "b", NULL, NULL, got,
	    sizeof(got)), 0);
	ck_assert_str_eq(got, "10.0.0.1");
	ipam_free(ipam);
}
END_TEST

/* t's spec in tenant. */
static const struct ipam_pool_spec *
tenant_spec(const struct pool_text *t, const char *tenant,
    struct spec_buf *sb)
{
	spec_of(t, sb);
	sb->spec.tenant = tenant;
	return &sb->spec;
}

/* Quarantine survives a change in expiry order; conflicts inside stay;
 * neither the VNI nor the tenant (names are per tenant) can change under
 * allocations; bad specs name the fault. */
START_TEST(test_pool_change_keeps)
{
	struct pool_text t = { "p", 100, "10.0.0.0/29", NULL, NULL, NULL,
	    NULL, 60 };
	struct pool_text wide = { "p", 100, "10.0.0.0/28", NULL, NULL, NULL,
	    NULL, 60 };
	struct pool_text vni = { "p", 101, "10.0.0.0/28", NULL, NULL, NULL,
	    NULL, 60 };
	struct pool_text bad = { "p", 100, "10.0.0.0/28", "10.9.9.9", NULL,
	    NULL, NULL, 60 };
	struct ipam *ipam = ipam_with(&t);
	struct ipam_pool_stats st;
	struct ipaddr ip;
	struct spec_buf sb;
	uint64_t blocking;
	char err[256], seen[32][IPADDR_STRLEN], got[IPADDR_STRLEN];

	ck_assert_int_eq(alloc_rest(ipam, "p", "a", seen, 0), 6);
	release(ipam, "a4");			/* .5, until 1060 */
	fake_now += 10;
	release(ipam, "a1");			/* .2, until 1070 */
	ck_assert_int_eq(ipaddr_parse("10.0.0.6", &ip), 0);
	ck_assert_int_eq(ipam_mark_conflict(ipam, "p", &ip, true), 1);
	ck_assert_int_eq(change(ipam, &wide, &blocking, err, sizeof(err)), 0);
	ipam_pool_stats(ipam_pool_find(ipam, "p"), &st);
	ck_assert(st.v4.quarantined == 2 && st.v4.used == 4 &&
	    st.v4.size == 14);
	ck_assert(ipam_is_conflict(ipam, "p", &ip));
	/* The fresh part first, then the quarantine in expiry order. */
	fake_now += 100;
	snprintf(seen[1], IPADDR_STRLEN, "%s", seen[5]);	/* drop .2 */
	ck_assert_int_eq(alloc_rest(ipam, "p", "b", seen, 4), 10);
	ck_assert_str_eq(ipaddr_fmt(&ipam_find(ipam, NULL, "b8")->ip, got,
	    sizeof(got)), "10.0.0.5");
	ck_assert_str_eq(ipaddr_fmt(&ipam_find(ipam, NULL, "b9")->ip, got,
	    sizeof(got)), "10.0.0.2");

	ck_assert_int_eq(change(ipam, &vni, &blocking, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_uint_eq(blocking, 14);
	ck_assert_str_eq(err, "pool p: the VNI cannot change under 14 live "
	    "allocations");
	ck_assert_int_eq(ipam_pool_check(ipam, tenant_spec(&wide, "t2", &sb),
	    &blocking, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_str_eq(err, "pool p: the tenant cannot change under 14 live "
	    "allocations");
	ck_assert_ptr_nonnull(ipam_find(ipam, NULL, "b9"));
	ck_assert_int_eq(change(ipam, &bad, &blocking, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(err, "pool p: gateway 10.9.9.9 is outside the pool's "
	    "prefixes");
	ipam_free(ipam);
}
END_TEST

START_TEST(test_pool_remove)
{
	struct pool_text t = { "p", 100, "10.0.0.0/29", NULL, NULL, NULL,
	    NULL, 60 };
	struct pool_text t2 = { "q", 200, "10.0.1.0/29", NULL, NULL, NULL,
	    "10.0.1.3=x", 60 };
	struct ipam *ipam = ipam_with(&t);
	size_t before = ipam_memory(ipam);
	struct spec_buf sb;
	uint64_t n;
	char err[256];

	ck_assert_int_eq(ipam_pool_add(ipam, spec_of(&t2, &sb), err,
	    sizeof(err)), 0);
	ck_assert(ipam_pool_runtime(ipam_pool_find(ipam, "q")));
	ck_assert_int_eq(alloc_asked(ipam, "q", "a", NULL, NULL, NULL, 0), 0);
	ck_assert_int_eq(alloc_asked(ipam, "q", "b", NULL, NULL, NULL, 0), 0);
	ck_assert_int_eq(ipam_pool_remove(ipam, "q", &n), -1);
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_uint_eq(n, 2);
	release(ipam, "a");
	release(ipam, "b");
	ck_assert_int_eq(ipam_pool_remove(ipam, "q", &n), 0);
	ck_assert_ptr_null(ipam_pool_find(ipam, "q"));
	ck_assert_int_eq(ipam_pool_remove(ipam, "q", NULL), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* Its table went with it (ipam_memory counts entries). */
	ck_assert_uint_eq(ipam_memory(ipam), before);
	ipam_free(ipam);
}
END_TEST

/* ---- the store ---- */

static char dir[256];

static void
dir_make(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/test_pools_XXXXXX", tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
dir_remove(void)
{
	static const char *const files[] = { "ipam.db", "ipam.db-wal",
	    "ipam.db-shm", "ipam.key", "ipam.anchor", "ipam.anchor.tmp" };
	char path[512];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void
db_exec(const char *sql)
{
	char path[512], *msg = NULL;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/ipam.db", dir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK,
	    "%s", msg);
	sqlite3_close(db);
}

/* The run-time pools' loader of the tests: a definition is the pool's
 * prefixes, separated by spaces; the order seen is kept. */
struct loaded {
	struct ipam	*ipam;
	char		 seen[256];
};

static int
load_pool(const char *name, const char *definition, void *arg)
{
	struct loaded *l = arg;
	struct pool_text t = { name, 0, definition, NULL, NULL, NULL, NULL,
	    0 };
	struct spec_buf sb;
	char err[256];
	size_t len = strlen(l->seen);

	snprintf(l->seen + len, sizeof(l->seen) - len, "%s%s=%s",
	    len ? ";" : "", name, definition);
	return ipam_pool_add(l->ipam, spec_of(&t, &sb), err, sizeof(err));
}

struct store_h {
	struct event_base *base;
	struct ipam	*ipam;
	struct ipam_store *store;
	struct loaded	 loaded;
	int		 done;
	int		 failed;
};

static void
store_open(struct store_h *h, bool with_loader)
{
	struct pool_text t = { "conf", 100, "10.0.0.0/24", NULL, NULL, NULL,
	    NULL, 30 };
	struct spec_buf sb;
	char err[512];

	memset(h, 0, sizeof(*h));
	h->base = event_base_new();
	h->ipam = ipam_new();
	h->loaded.ipam = h->ipam;
	spec_of(&t, &sb);
	sb.spec.runtime = false;	/* the config's */
	ck_assert_int_eq(ipam_pool_add(h->ipam, &sb.spec, err, sizeof(err)),
	    0);
	h->store = ipam_store_open_with(dir, h->base, h->ipam, with_loader ?
	    load_pool : NULL, &h->loaded, err, sizeof(err));
	ck_assert_msg(h->store != NULL, "%s", err);
}

static void
store_close(struct store_h *h)
{
	ipam_store_close(h->store);
	ipam_free(h->ipam);
	event_base_free(h->base);
}

static void
store_done(int status, void *arg)
{
	struct store_h *h = arg;

	h->done++;
	if (status != 0)
		h->failed++;
}

static void
store_alloc(struct store_h *h, const char *pool, const char *res,
    const char *labels)
{
	struct ipam_request req = { .resource = res,
	    .family = IPAM_FAMILY_IPV4, .labels = labels };
	const struct ipam_alloc *a;
	struct ipam_op op;
	bool existing;

	ck_assert_int_eq(ipam_allocate(h->ipam, pool, &req, &a, &existing),
	    0);
	ipam_op_alloc(&op, a, "alice");
	ck_assert_int_eq(ipam_store_submit(h->store, &op, store_done, h), 0);
}

static void
store_pool(struct store_h *h, enum ipam_op_kind kind, const char *pool,
    const char *def, const char *audit_op)
{
	struct ipam_op op;

	ipam_op_pool(&op, kind, pool, def, audit_op, "admin");
	ck_assert_int_eq(ipam_store_submit(h->store, &op, store_done, h), 0);
}

struct listed {
	char		 text[1024];
};

static int
record_seen(const struct ipam_audit_record *r, void *arg)
{
	struct listed *l = arg;
	size_t len = strlen(l->text);

	snprintf(l->text + len, sizeof(l->text) - len, "%s %s %s %s [%s]\n",
	    r->op, r->actor, r->pool, r->resource, r->labels);
	return 0;
}

static void
verify_ok(struct store_h *h, int64_t records)
{
	struct ipam_audit_report rep;

	ck_assert_int_eq(ipam_audit_verify(h->store, &rep), 0);
	ck_assert_msg(rep.ok, "%s", rep.reason);
	ck_assert_int_eq(rep.records, records);
}

START_TEST(test_store_pools_labels)
{
	struct store_h h;
	struct listed l;
	char err[256];

	dir_make();
	store_open(&h, true);
	store_pool(&h, IPAM_OP_POOL_PUT, "rt1", "10.1.0.0/24", "pool-create");
	load_pool("rt1", "10.1.0.0/24", &h.loaded);
	store_alloc(&h, "rt1", "w0", "dns-name=w0,job=llama-70b");
	store_alloc(&h, "conf", "w1", NULL);
	store_pool(&h, IPAM_OP_POOL_PUT, "rt1", "10.1.0.0/24 10.2.0.0/24",
	    "pool-update");
	store_pool(&h, IPAM_OP_POOL_PUT, "rt2", "10.3.0.0/24", "pool-create");
	store_pool(&h, IPAM_OP_POOL_DEL, "rt2", NULL, "pool-delete");
	ipam_store_flush(h.store);
	ck_assert_int_eq(h.done, 6);
	ck_assert_int_eq(h.failed, 0);
	verify_ok(&h, 6);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(ipam_audit_records(h.store, 0, 10, record_seen, &l,
	    err, sizeof(err)), 6);
	ck_assert_str_eq(l.text,
	    "pool-create admin rt1  []\n"
	    "allocate alice rt1 w0 [dns-name=w0,job=llama-70b]\n"
	    "allocate alice conf w1 []\n"
	    "pool-update admin rt1  []\n"
	    "pool-create admin rt2  []\n"
	    "pool-delete admin rt2  []\n");
	store_close(&h);

	/* Back with its last definition, before its allocation. */
	store_open(&h, true);
	ck_assert_str_eq(h.loaded.seen, "rt1=10.1.0.0/24 10.2.0.0/24");
	ck_assert_ptr_nonnull(ipam_find(h.ipam, NULL, "w0"));
	ck_assert_str_eq(ipam_find(h.ipam, NULL, "w0")->labels,
	    "dns-name=w0,job=llama-70b");
	ck_assert_ptr_null(ipam_find(h.ipam, NULL, "w1")->labels);
	verify_ok(&h, 6);
	store_close(&h);
	/* Without a loader the pool and its allocation stay on disk. */
	store_open(&h, false);
	ck_assert_ptr_null(ipam_find(h.ipam, NULL, "w0"));
	ck_assert_ptr_nonnull(ipam_find(h.ipam, NULL, "w1"));
	store_close(&h);
	store_open(&h, true);
	ck_assert_ptr_nonnull(ipam_find(h.ipam, NULL, "w0"));
	store_close(&h);
	dir_remove();
}
END_TEST

/* Schema 3 (no labels, no pools table): upgraded, the old records keep
 * their HMAC, new ones with labels verify after them. */
START_TEST(test_store_schema3)
{
	struct store_h h;
	char path[512];
	sqlite3 *db;
	sqlite3_stmt *st;
	uint8_t before[4][32];
	int n = 0;

	dir_make();
	store_open(&h, true);
	store_alloc(&h, "conf", "a", NULL);
	store_alloc(&h, "conf", "b", NULL);
	ipam_store_flush(h.store);
	store_close(&h);
	db_exec("ALTER TABLE audit DROP COLUMN labels;"
	    "ALTER TABLE allocations DROP COLUMN labels; DROP TABLE pools;"
	    "UPDATE meta SET value = 3 WHERE key = 'schema_version'");
	snprintf(path, sizeof(path), "%s/ipam.db", dir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT hmac FROM audit ORDER "
	    "BY seq", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW && n < 4)
		memcpy(before[n++], sqlite3_column_blob(st, 0), 32);
	sqlite3_finalize(st);
	sqlite3_close(db);
	ck_assert_int_eq(n, 2);

	store_open(&h, true);
	verify_ok(&h, 2);
	store_alloc(&h, "conf", "c", "job=x");
	store_pool(&h, IPAM_OP_POOL_PUT, "rt", "10.9.0.0/24", "pool-create");
	ipam_store_flush(h.store);
	ck_assert_int_eq(h.failed, 0);
	verify_ok(&h, 4);
	store_close(&h);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT hmac, (SELECT value "
	    "FROM meta WHERE key = 'schema_version') FROM audit ORDER BY seq "
	    "LIMIT 2", -1, &st, NULL), SQLITE_OK);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		ck_assert(memcmp(sqlite3_column_blob(st, 0), before[i], 32) ==
		    0);
		ck_assert_int_eq(sqlite3_column_int(st, 1),
		    IPAM_SCHEMA_VERSION);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	store_open(&h, true);
	ck_assert_str_eq(ipam_find(h.ipam, NULL, "c")->labels, "job=x");
	ck_assert_str_eq(h.loaded.seen, "rt=10.9.0.0/24");
	store_close(&h);
	dir_remove();
}
END_TEST

/* The documented bytes, by hand: prev, seq and time big-endian, then
 * length-prefixed op, resource, pool, ip, ipv6, mac; the actor when
 * there is one; with labels the actor (maybe empty) and the labels. */
static void
hand_hmac(const uint8_t *key, const uint8_t *prev,
    const struct ipam_audit_record *r, bool with_actor, bool with_labels,
    uint8_t *out)
{
	const char *f[] = { r->op, r->resource, r->pool, r->ip, r->ipv6,
	    r->mac, r->actor, r->labels };
	size_t nf = 6 + (with_actor || with_labels) + with_labels;
	uint8_t msg[1024];
	size_t len = 0;
	unsigned int olen = 32;

	memcpy(msg, prev, 32);
	len = 32;
	for (int i = 7; i >= 0; i--)
		msg[len++] = (uint8_t)((uint64_t)r->seq >> (8 * i));
	for (int i = 7; i >= 0; i--)
		msg[len++] = (uint8_t)((uint64_t)r->time >> (8 * i));
	for (size_t i = 0; i < nf; i++) {
		uint32_t n = (uint32_t)strlen(f[i]);

		msg[len++] = (uint8_t)(n >> 24);
		msg[len++] = (uint8_t)(n >> 16);
		msg[len++] = (uint8_t)(n >> 8);
		msg[len++] = (uint8_t)n;
		memcpy(msg + len, f[i], n);
		len += n;
	}
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, 32, msg, len, out,
	    &olen));
}

START_TEST(test_audit_hmac_bytes)
{
	struct ipam_audit_record r = { .seq = 7, .time = 1700000000,
	    .op = "allocate", .resource = "pod-1", .pool = "p",
	    .ip = "10.0.0.2", .ipv6 = "", .mac = "02:00:00:00:00:01",
	    .actor = "", .labels = "" };
	uint8_t key[32], prev[32], got[32], want[32];

	for (int i = 0; i < 32; i++) {
		key[i] = (uint8_t)i;
		prev[i] = (uint8_t)(0xa0 + i);
	}
	audit_hmac(key, prev, &r, got);
	hand_hmac(key, prev, &r, false, false, want);
	ck_assert(memcmp(got, want, 32) == 0);
	r.actor = "local";
	audit_hmac(key, prev, &r, got);
	hand_hmac(key, prev, &r, true, false, want);
	ck_assert(memcmp(got, want, 32) == 0);
	r.labels = "job=x";
	audit_hmac(key, prev, &r, got);
	hand_hmac(key, prev, &r, true, true, want);
	ck_assert(memcmp(got, want, 32) == 0);
	r.actor = "";
	audit_hmac(key, prev, &r, got);
	hand_hmac(key, prev, &r, true, true, want);
	ck_assert(memcmp(got, want, 32) == 0);
	/* Labels change the HMAC, so an edited label is caught. */
	hand_hmac(key, prev, &r, false, false, want);
	ck_assert(memcmp(got, want, 32) != 0);
}
END_TEST

static Suite *
ipam_pools_suite(void)
{
	Suite *s = suite_create("ipam_pools");
	TCase *tc = tcase_create("pools");

	tcase_add_test(tc, test_asked_address);
	tcase_add_test(tc, test_asked_family);
	tcase_add_test(tc, test_labels_text);
	tcase_add_test(tc, test_labels_allocations);
	tcase_add_test(tc, test_pool_grow_shrink);
	tcase_add_test(tc, test_pool_reserve_over);
	tcase_add_test(tc, test_pool_change_keeps);
	tcase_add_test(tc, test_pool_remove);
	suite_add_tcase(s, tc);
	tc = tcase_create("store");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_store_pools_labels);
	tcase_add_test(tc, test_store_schema3);
	tcase_add_test(tc, test_audit_hmac_bytes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ipam_pools_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
