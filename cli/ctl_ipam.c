/*
 * evpnctl's IPAM commands: show ipam pools|allocations|conflicts|
 * shadow|alerts, ipam allocate|release|intent, ipam audit verify (and
 * the printer of one pool in full, for ctl_pools.c).
 * They are thin: the API does the work, these print its answers (as
 * JSON with --json, the very object the API returned).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "cli/apiclient.h"
#include "cli/evpnctl.h"

/* A count that may be a huge float (IPv6 pools). */
static void
print_count(const json_t *v, int width)
{
	if (json_is_integer(v))
		printf(" %*lld", width, (long long)json_integer_value(v));
	else
		printf(" %*.3g", width, json_number_value(v));
}

static void
print_pool(const json_t *p)
{
	const json_t *pfx = json_object_get(p, "prefixes"), *v;
	size_t i;

	printf("%-20s %-12s %8lld", jstr(p, "name", "?"),
	    jstr(p, "tenant", "-"), jint(p, "vni"));
	print_count(json_object_get(p, "size"), 12);
	printf(" %10lld", jint(p, "used"));
	print_count(json_object_get(p, "free"), 12);
	printf(" %8lld ", jint(p, "reserved"));
	json_array_foreach(pfx, i, v)
		printf("%s%s", i ? "," : "", json_string_value(v));
	printf("\n");
}

static void
print_ipam_pools(const json_t *o)
{
	json_t *p;
	size_t i;

	printf("%-20s %-12s %8s %12s %10s %12s %8s %s\n", "Pool", "Tenant",
	    "VNI", "Size", "Used", "Free", "Reserved", "Prefixes");
	json_array_foreach(json_object_get(o, "pools"), i, p)
		print_pool(p);
}

int
run_ipam_pools(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	return api_show(ctl, "/v1/ipam/pools", print_ipam_pools);
}

/* An array of strings joined by ", " (or "-"). */
static void
print_list(const char *label, const json_t *l)
{
	const json_t *v;
	size_t i;

	printf("  %s: ", label);
	if (json_array_size(l) == 0)
		printf("-");
	json_array_foreach(l, i, v)
		printf("%s%s", i ? ", " : "", json_string_value(v));
	printf("\n");
}

static void
print_pool_dns(const json_t *dns)
{
	const json_t *t = json_object_get(dns, "tsig");

	printf("  dns: zone %s, server %s, tsig %s %s%s, ttl %lld",
	    jstr(dns, "zone", "?"), jstr(dns, "server", "?"),
	    jstr(t, "algorithm", "?"), jstr(t, "name", "?"),
	    jbool(dns, "reverse") ? ", reverse" : "", jint(dns, "ttl"));
	if (jstr(dns, "nameTemplate", NULL) != NULL)
		printf(", names %s", jstr(dns, "nameTemplate", ""));
	printf("\n");
}

static double
jnumber(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

/* The settings of the pool's shadow inventory (its state: show ipam
 * shadow). */
static void
print_pool_shadow(const json_t *sh)
{
	printf("  shadow: %s, model %s, horizon %llds, confidence %g, "
	    "warm %lld..%lld, max-pool-fraction %g\n", jstr(sh, "mode", "?"),
	    jstr(sh, "model", "?"), jint(sh, "horizonS"),
	    jnumber(sh, "confidence"), jint(sh, "minWarm"),
	    jint(sh, "maxWarm"), jnumber(sh, "maxPoolFraction"));
	printf("  shadow cost wastage %g delay %g, lead-time %lldms, "
	    "adapt %s, jitter %g\n", jnumber(sh, "wastageWeight"),
	    jnumber(sh, "delayWeight"), jint(sh, "leadTimeMs"),
	    jbool(sh, "adapt") ? "on" : "off", jnumber(sh, "jitter"));
	print_list("shadow group-by", json_object_get(sh, "groupBy"));
}

/* One pool in full: where it is defined, its settings and counts. */
void
ctl_print_pool_detail(const json_t *p)
{
	const json_t *def = json_object_get(p, "definition");
	const json_t *cf = json_object_get(p, "config"), *r;
	size_t i;

	printf("Pool %s", jstr(p, "name", "?"));
	if (jbool(p, "runtime"))
		printf(" (made at run time)\n");
	else if (cf != NULL)
		printf(" (%s line %lld)\n", jstr(cf, "file", "?"),
		    jint(cf, "line"));
	else
		printf("\n");
	printf("  tenant %s, VNI %lld, quarantine %llds\n",
	    jstr(p, "tenant", "-"), jint(p, "vni"), jint(def, "quarantine"));
	print_list("prefixes", json_object_get(p, "prefixes"));
	print_list("gateways", json_object_get(def, "gateways"));
	print_list("excludes", json_object_get(def, "excludes"));
	printf("  size");
	print_count(json_object_get(p, "size"), 0);
	printf(", used %lld, free", jint(p, "used"));
	print_count(json_object_get(p, "free"), 0);
	printf(", allocations %lld, quarantined %lld, conflicts %lld\n",
	    jint(p, "allocations"), jint(p, "quarantined"),
	    jint(p, "conflicts"));
	printf("  reservations:");
	if (json_array_size(json_object_get(p, "reservations")) == 0)
		printf(" -");
	json_array_foreach(json_object_get(p, "reservations"), i, r)
		printf("%s %s (%s)", i ? "," : "", jstr(r, "ip", "?"),
		    jstr(r, "name", "?"));
	printf("\n");
	if (json_object_get(def, "dns") != NULL)
		print_pool_dns(json_object_get(def, "dns"));
	if (json_object_get(def, "shadow") != NULL)
		print_pool_shadow(json_object_get(def, "shadow"));
}

/* "RESOURCE: IP [IPV6] MAC (pool P, VNI N) [k=v,...]" */
static void
print_alloc_line(const json_t *a)
{
	const char *ip = jstr(a, "ip", NULL), *ip6 = jstr(a, "ipv6", NULL);
	const json_t *labels = json_object_get(a, "labels"), *v;
	const char *k;
	int n = 0;

	printf("%s: %s%s%s %s (pool %s, VNI %lld)%s", jstr(a, "resource",
	    "?"), ip ? ip : "", ip && ip6 ? " " : "", ip6 ? ip6 : "",
	    jstr(a, "mac", "?"), jstr(a, "pool", "?"), jint(a, "vni"),
	    jbool(a, "preallocated") ? " pre-allocated" : "");
	json_object_foreach((json_t *)labels, k, v)
		printf("%s%s=%s", n++ ? "," : " ", k, json_string_value(v));
	if (jstr(a, "dns", NULL) != NULL)
		printf(" dns %s", jstr(a, "dns", ""));
	printf("\n");
}

/* --label K=V options: into an object (allocate) or a query. */
static json_t *
labels_object(const struct ctl *ctl)
{
	json_t *o = json_object();

	for (int i = 0; i < ctl->nlabels; i++) {
		const char *eq = strchr(ctl->labels[i], '=');
		char key[128];

		if (eq == NULL || eq == ctl->labels[i] ||
		    (size_t)(eq - ctl->labels[i]) >= sizeof(key)) {
			fprintf(stderr, "evpnctl: --label takes KEY=VALUE\n");
			json_decref(o);
			return NULL;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - ctl->labels[i]),
		    ctl->labels[i]);
		json_object_set_new(o, key, json_string(eq + 1));
	}
	return o;
}

static void
print_allocations(const json_t *o)
{
	json_t *a;
	size_t i;

	json_array_foreach(json_object_get(o, "allocations"), i, a)
		print_alloc_line(a);
	printf("Total: %lld\n", jint(o, "total"));
}

int
run_ipam_allocations(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	char *path, *q, *more;
	json_t *o;

	if (nargs > 0)
		path = apiclient_path("/v1/ipam/allocations?pool=%s", args[0]);
	else
		path = xstrdup("/v1/ipam/allocations?");
	/* --label K[=V]: each term must match. */
	for (int l = 0; l < ctl->nlabels; l++) {
		q = apiclient_escape(ctl->labels[l]);
		if (asprintf(&more, "%s%slabel=%s", path, path[strlen(path) -
		    1] == '?' ? "" : "&", q) == -1)
			fatalx("evpnctl: out of memory");
		free(q);
		free(path);
		path = more;
	}
	o = api_get(ctl, path);
	free(path);
	return api_print(ctl, o, print_allocations);
}

static void
print_ipam_conflicts(const json_t *o)
{
	json_t *c;
	size_t i;

	printf("%-8s %-39s %-20s %-17s %-17s %s\n", "VNI", "IP", "Resource",
	    "MAC", "Remote MAC", "Remote VTEP");
	json_array_foreach(json_object_get(o, "conflicts"), i, c)
		printf("%-8lld %-39s %-20s %-17s %-17s %s\n", jint(c, "vni"),
		    jstr(c, "ip", "?"), jstr(c, "resource", "?"),
		    jstr(c, "mac", "?"), jstr(c, "remoteMac", "?"),
		    jstr(c, "remoteVtep", "?"));
	printf("Conflicts seen since start: %lld\n", jint(o, "total"));
}

int
run_ipam_conflicts(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	return api_show(ctl, "/v1/ipam/conflicts", print_ipam_conflicts);
}

int
run_ipam_allocate(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	char *path, *body;
	json_t *req, *o;

	req = json_pack("{s:s}", "resource", args[1]);
	if (req == NULL) {
		fprintf(stderr, "evpnctl: bad resource id\n");
		return 2;
	}
	if (ctl->family != NULL)
		json_object_set_new(req, "family", json_string(ctl->family));
	if (ctl->mac != NULL)
		json_object_set_new(req, "mac", json_string(ctl->mac));
	if (ctl->ip != NULL)
		json_object_set_new(req, "ip", json_string(ctl->ip));
	if (ctl->nlabels > 0) {
		json_t *l = labels_object(ctl);

		if (l == NULL) {
			json_decref(req);
			return 2;
		}
		json_object_set_new(req, "labels", l);
	}
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (body == NULL) {
		fprintf(stderr, "evpnctl: cannot encode the request\n");
		return 2;
	}
	path = apiclient_path("/v1/ipam/pools/%s/allocations", args[0]);
	o = api_call(ctl, "POST", path, body, NULL);
	free(path);
	free(body);
	return api_print(ctl, o, print_alloc_line);
}

int
run_ipam_release(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	char *path, *res, *pool;
	json_t *o;

	path = apiclient_path("/v1/ipam/allocations/%s", args[0]);
	if (nargs > 1) {
		/* Names are per tenant: the pool says whose. */
		res = path;
		pool = apiclient_escape(args[1]);
		if (asprintf(&path, "%s?pool=%s", res, pool) == -1)
			fatalx("evpnctl: out of memory");
		free(res);
		free(pool);
	}
	o = api_call(ctl, "DELETE", path, NULL, NULL);
	free(path);
	if (o == NULL)
		return 1;
	json_decref(o);
	if (!ctl->json)
		printf("released %s\n", args[0]);
	return 0;
}

/* Exit 0 when the chain is intact, 1 (and the reason) when not: records
 * altered or missing, missing at the end (truncated), or the database
 * older than the anchor kept outside it (rolled back). */
int
run_ipam_audit_verify(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	json_t *o;
	int rc;

	if ((o = api_get(ctl, "/v1/ipam/audit")) == NULL)
		return 1;
	rc = jbool(o, "ok") ? 0 : 1;
	if (ctl->json)
		print_json(o);
	else if (rc == 0 && jbool(o, "anchored"))
		printf("audit trail ok: %lld records, anchored at seq %lld\n",
		    jint(o, "records"), jint(o, "anchorSeq"));
	else if (rc == 0)
		printf("audit trail ok: %lld records (no anchor yet)\n",
		    jint(o, "records"));
	else if (jbool(o, "rolledBack"))
		printf("audit trail ROLLED BACK: the database ends at seq "
		    "%lld, the anchor names seq %lld: %s\n", jint(o, "lastSeq"),
		    jint(o, "anchorSeq"), jstr(o, "reason", "?"));
	else if (jbool(o, "truncated"))
		printf("audit trail TRUNCATED: the database ends at seq %lld, "
		    "its head names seq %lld: %s\n", jint(o, "lastSeq"),
		    jint(o, "headSeq"), jstr(o, "reason", "?"));
	else
		printf("audit trail BROKEN at record %lld (%lld verified "
		    "before it): %s\n", jint(o, "badSeq"), jint(o, "records"),
		    jstr(o, "reason", "?"));
	json_decref(o);
	return rc;
}

/* ---- shadow inventory ---- */

/* A number at a path of object keys (NULL-terminated); 0 if absent. */
static double
jnum(const json_t *o, ...)
{
	const char *k;
	va_list ap;

	va_start(ap, o);
	while (o != NULL && (k = va_arg(ap, const char *)) != NULL)
		o = json_object_get(o, k);
	va_end(ap);
	return o != NULL ? json_number_value(o) : 0;
}

static void
print_quantiles(const char *what, const json_t *q)
{
	printf("  %-8s %6.0fs  mean %7.2f  p50 %5.0f  p80 %5.0f  p90 %5.0f  "
	    "p99 %5.0f  target-q %5.0f\n", what, jnum(q, "windowS", NULL),
	    jnum(q, "mean", NULL), jnum(q, "p50", NULL), jnum(q, "p80", NULL),
	    jnum(q, "p90", NULL), jnum(q, "p99", NULL),
	    jnum(q, "pTarget", NULL));
}

/* "job llama-70b: 90% confident 6 more within 5 min (holding 10, 24
 * requests)". */
static void
print_shadow_groups(const json_t *p)
{
	double conf = 100 * jnum(p, "policy", "confidence", NULL), w;
	const json_t *g;
	const char *label, *eq;
	size_t i;

	json_array_foreach(json_object_get(p, "groups"), i, g) {
		label = jstr(g, "label", "?");
		eq = strchr(label, '=');
		w = jnum(g, "expected", "windowS", NULL);
		printf("  %.*s %s: %.0f%% confident %.0f more within ",
		    eq != NULL ? (int)(eq - label) : (int)strlen(label), label,
		    eq != NULL ? eq + 1 : "", conf,
		    jnum(g, "expected", "pConfidence", NULL));
		if (w >= 60 && (long long)w % 60 == 0)
			printf("%.0f min", w / 60);
		else
			printf("%.0f s", w);
		printf(" (holding %lld, %lld requests)\n", jint(g, "active"),
		    jint(g, "requests"));
	}
}

static void
print_shadow_pool(const json_t *p)
{
	const json_t *f = json_object_get(p, "forecast");
	const json_t *m = json_object_get(p, "models");
	const json_t *c, *pol = json_object_get(p, "policy");
	size_t i, n;

	printf("Pool %s (VNI %lld): %s mode, model %s\n", jstr(p, "pool", "?"),
	    jint(p, "vni"), jstr(p, "mode", "?"), jstr(p, "model", "?"));
	printf("  target %lld (quantile %lld, cap %lld); pre-allocated: %.0f "
	    "ready, %.0f converging\n", jint(p, "target"),
	    jint(p, "targetRaw"), jint(p, "cap"),
	    jnum(p, "preallocated", "ready", NULL),
	    jnum(p, "preallocated", "converging", NULL));
	printf("  forecast: %.3f requests/s\n", jnum(f, "rate", NULL));
	print_quantiles("lead", json_object_get(f, "lead"));
	print_quantiles("horizon", json_object_get(f, "horizon"));
	printf("  outcomes: %.0f requests, hit rate %.1f%% (recent %.1f%%), "
	    "waste %.1f addr-s, delay %.1f req-s, cost %.1f\n",
	    jnum(p, "outcomes", "requests", NULL),
	    100 * jnum(p, "outcomes", "hitRate", NULL),
	    100 * jnum(p, "outcomes", "hitRateRecent", NULL),
	    jnum(p, "outcomes", "wasteAddressSeconds", NULL),
	    jnum(p, "outcomes", "delaySeconds", NULL),
	    jnum(p, "outcomes", "cost", NULL));
	printf("  models: holt %.2f, kalman %.2f, churn %.2f (lag %.1fs, "
	    "ratio %.2f)\n", jnum(m, "holt", "weight", NULL),
	    jnum(m, "kalman", "weight", NULL), jnum(m, "churn", "weight", NULL),
	    jnum(m, "churn", "lagS", NULL), jnum(m, "churn", "ratio", NULL));
	printf("  traffic: %.1f packets/s (measured %.1f), lag %.1fs, gain "
	    "%.4f; neighbour misses %.0f (%.0f targets recently)\n",
	    jnum(p, "traffic", "rate", NULL),
	    jnum(p, "traffic", "measured", NULL),
	    jnum(p, "traffic", "lagS", NULL), jnum(p, "traffic", "gain", NULL),
	    jnum(p, "neighMisses", "total", NULL),
	    jnum(p, "neighMisses", "targets", NULL));
	printf("  policy: quantile %.3f [%.3f, %.3f], lead %.2fs x %.2f, "
	    "warm %.0f..%.0f, max fraction %.3f\n",
	    jnum(pol, "quantile", NULL), jnum(pol, "quantileLow", NULL),
	    jnum(pol, "quantileHigh", NULL), jnum(pol, "leadS", NULL),
	    jnum(pol, "leadMult", NULL), jnum(pol, "minWarm", NULL),
	    jnum(pol, "maxWarm", NULL), jnum(pol, "maxPoolFraction", NULL));
	c = json_object_get(p, "convergence");
	printf("  lead time %.0f ms (%s", jnum(c, "leadMs", NULL),
	    jstr(c, "source", "?"));
	if (jnum(c, "samples", NULL) > 0)
		printf(": p90 of %.0f samples; p50 %.0f, p99 %.0f ms",
		    jnum(c, "samples", NULL), jnum(c, "p50Ms", NULL),
		    jnum(c, "p99Ms", NULL));
	printf("; configured %.0f ms)\n", jnum(c, "configuredMs", NULL));
	print_shadow_groups(p);
	n = json_array_size(json_object_get(p, "policyChanges"));
	for (i = n > 5 ? n - 5 : 0; i < n; i++) {
		c = json_array_get(json_object_get(p, "policyChanges"), i);
		printf("  change %lld: %s %.3f -> %.3f: %s\n", jint(c, "seq"),
		    jstr(c, "what", "?"), jnum(c, "old", NULL),
		    jnum(c, "new", NULL), jstr(c, "reason", ""));
	}
}

static void
print_ipam_shadow(const json_t *o)
{
	json_t *p;
	size_t i;

	if (json_array_size(json_object_get(o, "pools")) == 0)
		printf("no pool has a shadow inventory\n");
	json_array_foreach(json_object_get(o, "pools"), i, p)
		print_shadow_pool(p);
}

int
run_ipam_shadow(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	return api_show(ctl, "/v1/ipam/shadow", print_ipam_shadow);
}

static void
print_ipam_alerts(const json_t *o)
{
	char when[32];
	json_t *a;
	time_t t;
	size_t i;

	printf("%-19s %-16s %-8s %-20s %7s %s\n", "Time", "Pool", "VNI",
	    "Kind", "Score", "Message");
	json_array_foreach(json_object_get(o, "alerts"), i, a) {
		t = (time_t)jint(a, "time");
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
		    localtime(&t));
		printf("%-19s %-16s %-8lld %-20s %7.2f %s\n", when,
		    jstr(a, "pool", "?"), jint(a, "vni"), jstr(a, "kind", "?"),
		    jnum(a, "score", NULL), jstr(a, "message", ""));
	}
	printf("Total: %lld\n", jint(o, "total"));
}

int
run_ipam_alerts(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	return api_show(ctl, "/v1/ipam/alerts", print_ipam_alerts);
}

static void
print_intent(const json_t *o)
{
	printf("intent: %lld endpoints within %llds in pool %s\n",
	    jint(o, "count"), jint(o, "horizon"), jstr(o, "pool", "?"));
}

/* ipam intent POOL COUNT [HORIZON]: a scheduler's announcement. */
int
run_ipam_intent(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	char body[128], *end, *path;
	long long count, horizon = -1;
	json_t *o;

	count = strtoll(args[1], &end, 10);
	if (*end != '\0' || count < 0 || (nargs > 2 &&
	    ((horizon = strtoll(args[2], &end, 10)) < 0 || *end != '\0'))) {
		fprintf(stderr, "evpnctl: COUNT and HORIZON are integers\n");
		return 2;
	}
	if (horizon >= 0)
		snprintf(body, sizeof(body), "{\"count\": %lld, \"horizon\": "
		    "%lld}", count, horizon);
	else
		snprintf(body, sizeof(body), "{\"count\": %lld}", count);
	path = apiclient_path("/v1/ipam/pools/%s/intent", args[0]);
	o = api_call(ctl, "POST", path, body, NULL);
	free(path);
	return api_print(ctl, o, print_intent);
}
