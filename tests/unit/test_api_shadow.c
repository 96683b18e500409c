/*
 * The shadow inventory through the API, in process (the harness of
 * api_harness.h: evpn, ipamd with the real SQLite store, the API on a
 * Unix socket): pools with a shadow block run on a fake clock, their
 * engines ticked by hand (shadowd_tick).  Pre-allocations made,
 * committed and advertised; a request taking the oldest one; observe
 * mode; max-warm under a scheduler's intent; a restart; the views; the
 * lead time from the configured, local and fabric convergence; per-pool
 * settings and label groups; reload.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/util.h"
#include "conf/conf.h"
#include "api/api.h"
#include "evpn/evpn.h"
#include "ipam/ipam.h"
#include "ipamd/ipamd.h"
#include "ipamd/shadowd.h"
#include "tests/unit/api_harness.h"

static const char shadow_conf[] =
	"vxlan vx100\n vni 100\n local-tunnel-ip 10.0.0.11\n!\n"
	"vxlan vx200\n vni 200\n local-tunnel-ip 10.0.0.11\n!\n"
	"ipam pool warm\n"
	" vni 100\n"
	" prefix 10.30.0.0/24\n"
	" mac-prefix 02:00:0c\n"
	" shadow\n"
	"  min-warm 2\n"
	"  max-warm 3\n"
	"  mode active\n"
	" exit-shadow\n"
	"!\n"
	"ipam pool watch\n"
	" vni 200\n"
	" prefix 10.40.0.0/24\n"
	" mac-prefix 02:00:0d\n"
	" shadow\n"
	"  min-warm 2\n"
	"  mode observe\n"
	" exit-shadow\n"
	"!\n"
	"ipam pool bare\n"
	" prefix 10.50.0.0/24\n"
	"!\n"
	"router bgp 65000\n"
	" bgp router-id 10.0.0.11\n"
	" bgp listen-port 0\n"
	" address-family l2vpn evpn\n"
	"  advertise-all-vni\n"
	" exit-address-family\n"
	"exit\n";

static uint64_t fake_ms;

static uint64_t
fake_clock(void *arg)
{
	(void)arg;
	return fake_ms;
}

static void
shadow_setup(void)
{
	ipam_setup_conf(shadow_conf);
	fake_ms = 1000000;
	shadowd_set_clock(ipamd_shadowd(d.ipamd), fake_clock, NULL);
}

/* n ticks, a second apart, each followed by the commits it caused. */
static void
shadow_ticks(int n)
{
	for (int i = 0; i < n; i++) {
		fake_ms += 1000;
		shadowd_tick(ipamd_shadowd(d.ipamd));
		ipamd_drain(d.ipamd);
	}
}

/* GET path as JSON, asserting 200. */
static json_t *
get_json(const char *path)
{
	char *r = request("GET", path);
	json_t *j;

	ck_assert_int_eq(status_of(r), 200);
	j = body_json(r);
	free(r);
	ck_assert_ptr_nonnull(j);
	return j;
}

/* The allocations of a pool flagged preallocated, as a JSON array. */
static json_t *
preallocations(const char *pool)
{
	char path[128];
	json_t *j, *l = json_array(), *a;
	size_t i;

	snprintf(path, sizeof(path), "/v1/ipam/allocations?pool=%s", pool);
	j = get_json(path);
	json_array_foreach(json_object_get(j, "allocations"), i, a)
		if (json_is_true(json_object_get(a, "preallocated")))
			json_array_append(l, a);
	json_decref(j);
	return l;
}

static json_t *
shadow_pool_view(const char *pool)
{
	json_t *j = get_json("/v1/ipam/shadow"), *p, *out = NULL;
	size_t i;

	json_array_foreach(json_object_get(j, "pools"), i, p)
		if (strcmp(json_string_value(json_object_get(p, "pool")),
		    pool) == 0)
			out = json_incref(p);
	json_decref(j);
	ck_assert_msg(out != NULL, "pool %s not in the shadow view", pool);
	return out;
}

static long long
jpath_int(json_t *o, const char *a, const char *b)
{
	return json_integer_value(json_object_get(json_object_get(o, a), b));
}

static const char *
jstr_of(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* POST job-N; assert how it was served; returns its waitMs (0 if none). */
static long long
expect_served(int n, bool preallocated)
{
	char body[64];
	json_t *j;
	long long wait;

	snprintf(body, sizeof(body), "{\"resource\": \"job-%d\"}", n);
	ck_assert_int_eq(allocate("warm", body, &j), 201);
	ck_assert_msg(json_boolean_value(json_object_get(j, "preallocated")) ==
	    preallocated, "job-%d: preallocated should be %d", n,
	    preallocated);
	wait = json_integer_value(json_object_get(j, "waitMs"));
	json_decref(j);
	return wait;
}

/* min-warm 2: two pre-allocations, committed and advertised before any
 * request; a request takes the oldest; the pool refills at once. */
START_TEST(test_shadow_prealloc_and_claim)
{
	json_t *pre, *j, *v;
	char first_ip[64], first_mac[64];
	size_t i;
	int n = 10, hits = 1;

	shadow_ticks(1);
	pre = preallocations("warm");
	ck_assert_int_eq(json_array_size(pre), 2);
	json_array_foreach(pre, i, j) {
		ck_assert(strncmp(jstr_of(j, "resource"), "shadow:warm:", 12)
		    == 0);
		ck_assert_int_eq(route_count(jstr_of(j, "mac"),
		    jstr_of(j, "ip")), 1);
	}
	snprintf(first_ip, sizeof(first_ip), "%s",
	    jstr_of(json_array_get(pre, 0), "ip"));
	snprintf(first_mac, sizeof(first_mac), "%s",
	    jstr_of(json_array_get(pre, 0), "mac"));
	json_decref(pre);
	ck_assert_int_eq(db_count("SELECT count(*) FROM allocations WHERE "
	    "pool = 'warm' AND preallocated = 1"), 2);

	v = shadow_pool_view("warm");
	ck_assert_int_eq(jpath_int(v, "preallocated", "converging"), 2);
	ck_assert_int_eq(jpath_int(v, "preallocated", "ready"), 0);
	json_decref(v);
	fake_ms += CONF_SHADOW_DEFAULT_LEAD_TIME;
	v = shadow_pool_view("warm");
	ck_assert_int_eq(jpath_int(v, "preallocated", "ready"), 2);
	json_decref(v);

	/* Ready: taken at once, no wait, same MAC and address, route kept. */
	ck_assert_int_eq(allocate("warm", "{\"resource\": \"job-1\"}", &j),
	    201);
	ck_assert(json_is_true(json_object_get(j, "preallocated")));
	ck_assert_str_eq(jstr_of(j, "ip"), first_ip);
	ck_assert_str_eq(jstr_of(j, "mac"), first_mac);
	ck_assert_ptr_null(json_object_get(j, "waitMs"));
	json_decref(j);
	ck_assert_int_eq(route_count(first_mac, first_ip), 1);
	ck_assert_int_eq(db_count("SELECT count(*) FROM allocations WHERE "
	    "resource = 'job-1' AND preallocated = 0"), 1);
	/* Decided per event: the claim's plan made the replacement at once,
	 * no tick needed (min-warm 2). */
	ipamd_drain(d.ipamd);
	pre = preallocations("warm");
	ck_assert_int_eq(json_array_size(pre), 2);
	json_decref(pre);
	/* The same resource again: 200, the same record. */
	ck_assert_int_eq(allocate("warm", "{\"resource\": \"job-1\"}", &j),
	    200);
	ck_assert_str_eq(jstr_of(j, "ip"), first_ip);
	json_decref(j);

	/* A request with its own MAC cannot take a generated one. */
	ck_assert_int_eq(allocate("warm", "{\"resource\": \"job-2\", \"mac\": "
	    "\"02:aa:00:00:00:09\"}", &j), 201);
	ck_assert(json_is_false(json_object_get(j, "preallocated")));
	json_decref(j);

	/* Requests at the same instant: the remaining ready one first, then
	 * replacements the claims' plans made, still converging, which wait
	 * the rest of the convergence; never more than max-warm 3 held. */
	ipamd_drain(d.ipamd);
	pre = preallocations("warm");
	ck_assert_uint_ge(json_array_size(pre), 2);
	ck_assert_uint_le(json_array_size(pre), 3);
	json_decref(pre);
	ck_assert_int_eq(expect_served(++n, true), 0);
	ipamd_drain(d.ipamd);
	ck_assert_int_eq(expect_served(++n, true), CONF_SHADOW_DEFAULT_LEAD_TIME);
	ipamd_drain(d.ipamd);
	ck_assert_int_eq(expect_served(++n, true), CONF_SHADOW_DEFAULT_LEAD_TIME);
	hits += 3;
	ipamd_drain(d.ipamd);
	pre = preallocations("warm");
	ck_assert_uint_le(json_array_size(pre), 3);
	json_decref(pre);

	v = shadow_pool_view("warm");
	ck_assert_int_eq(jpath_int(v, "outcomes", "requests"), n - 10 + 2);
	/* hits include the partial ones (taken while converging) */
	ck_assert_int_eq(jpath_int(v, "outcomes", "hits"), hits);
	ck_assert_int_ge(jpath_int(v, "outcomes", "partialHits"), 2);
	ck_assert_int_eq(jpath_int(v, "outcomes", "misses"), 1);
	json_decref(v);
}
END_TEST

/* Observe mode forecasts and reports, and allocates nothing. */
START_TEST(test_shadow_observe)
{
	json_t *pre, *v;

	shadow_ticks(5);
	pre = preallocations("watch");
	ck_assert_int_eq(json_array_size(pre), 0);
	json_decref(pre);
	ck_assert_int_eq(db_count("SELECT count(*) FROM allocations WHERE "
	    "pool = 'watch'"), 0);
	v = shadow_pool_view("watch");
	ck_assert_str_eq(jstr_of(v, "mode"), "observe");
	ck_assert_int_eq(json_integer_value(json_object_get(v, "target")), 2);
	ck_assert_int_eq(jpath_int(v, "preallocated", "total"), 0);
	json_decref(v);
}
END_TEST

/* A scheduler announces far more than max-warm: never more than 3. */
START_TEST(test_shadow_max_warm)
{
	json_t *pre, *j;
	char *r;

	r = request_body("POST", "/v1/ipam/pools/warm/intent",
	    "{\"count\": 500, \"horizon\": 30}");
	ck_assert_int_eq(status_of(r), 202);
	free(r);
	for (int i = 0; i < 20; i++) {
		shadow_ticks(1);
		pre = preallocations("warm");
		ck_assert_int_le(json_array_size(pre), 3);
		json_decref(pre);
		if (i % 3 == 2) {	/* requests take some */
			char body[64];

			snprintf(body, sizeof(body), "{\"resource\": "
			    "\"t-%d\"}", i);
			ck_assert_int_eq(allocate("warm", body, &j), 201);
			json_decref(j);
		}
	}
	pre = preallocations("warm");
	ck_assert_int_eq(json_array_size(pre), 3);
	json_decref(pre);
	j = shadow_pool_view("warm");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "cap")), 3);
	ck_assert_int_le(json_integer_value(json_object_get(j, "target")), 3);
	ck_assert_int_eq(jpath_int(j, "counters", "intents"), 1);
	json_decref(j);
}
END_TEST

/* Pre-allocations survive a restart and count as ready at once; what
 * the engine learned comes back (models, groups), not a cold start. */
START_TEST(test_shadow_restart)
{
	char err[512], body[128];
	double level;
	json_t *v, *j;

	shadow_ticks(1);
	v = shadow_pool_view("warm");
	ck_assert(json_is_false(json_object_get(json_object_get(v, "state"),
	    "restored")));
	json_decref(v);
	for (int i = 0; i < 20; i++) {
		snprintf(body, sizeof(body), "{\"resource\": \"r-%d\", "
		    "\"labels\": {\"job\": \"llama-70b\"}}", i);
		ck_assert_int_eq(allocate("warm", body, &j), 201);
		json_decref(j);
		shadow_ticks(i % 3 == 0 ? 5 : 1);
	}
	shadow_ticks(10);
	v = shadow_pool_view("warm");
	level = json_number_value(json_object_get(json_object_get(
	    json_object_get(v, "models"), "holt"), "level"));
	ck_assert_double_gt(level, 0);
	json_decref(v);
	/* The released pre-allocations of the run are not the point. */
	ipamd_drain(d.ipamd);
	ipamd_drain(d.ipamd);
	evpn_set_ipam(d.evpn, NULL);
	ipamd_free(d.ipamd);
	d.ipamd = ipamd_create(d.base, d.evpn, d.conf, state_dir, err,
	    sizeof(err));
	ck_assert_msg(d.ipamd != NULL, "%s", err);
	shadowd_set_clock(ipamd_shadowd(d.ipamd), fake_clock, NULL);
	v = shadow_pool_view("warm");
	ck_assert_int_ge(jpath_int(v, "preallocated", "ready"), 2);
	ck_assert(json_is_true(json_object_get(json_object_get(v, "state"),
	    "restored")));
	ck_assert_double_eq(json_number_value(json_object_get(json_object_get(
	    json_object_get(v, "models"), "holt"), "level")), level);
	j = json_array_get(json_object_get(v, "groups"), 0);
	ck_assert_str_eq(jstr_of(j, "label"), "job=llama-70b");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "requests")),
	    20);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "active")), 20);
	json_decref(v);
	v = shadow_pool_view("watch");
	ck_assert(json_is_true(json_object_get(json_object_get(v, "state"),
	    "restored")));
	json_decref(v);
}
END_TEST

START_TEST(test_shadow_views)
{
	static const char *const keys[] = { "pool", "vni", "mode", "model",
	    "target", "cap", "forecast", "preallocated", "outcomes", "models",
	    "policy", "policyChanges", "counters" };
	json_t *j, *p;
	char *r;

	shadow_ticks(2);
	j = get_json("/v1/ipam/shadow");
	ck_assert_int_eq(json_array_size(json_object_get(j, "pools")), 2);
	p = json_array_get(json_object_get(j, "pools"), 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(json_object_get(p, keys[i]) != NULL, "no %s",
		    keys[i]);
	ck_assert_str_eq(jstr_of(p, "pool"), "warm");
	ck_assert(json_is_number(json_object_get(json_object_get(
	    json_object_get(p, "forecast"), "horizon"), "p90")));
	ck_assert_double_eq(json_number_value(json_object_get(json_object_get(
	    json_object_get(p, "forecast"), "horizon"), "windowS")), 300);
	ck_assert(json_is_number(json_object_get(json_object_get(
	    json_object_get(p, "models"), "churn"), "lagS")));
	ck_assert_int_eq(jpath_int(p, "policy", "maxWarm"), 3);
	ck_assert(json_is_array(json_object_get(p, "policyChanges")));
	json_decref(j);

	j = get_json("/v1/ipam/alerts");
	ck_assert(json_is_array(json_object_get(j, "alerts")));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "total")),
	    (json_int_t)json_array_size(json_object_get(j, "alerts")));
	json_decref(j);

	r = request_body("POST", "/v1/ipam/pools/bare/intent",
	    "{\"count\": 1}");
	ck_assert_int_eq(status_of(r), 409);
	free(r);
	r = request_body("POST", "/v1/ipam/pools/nope/intent",
	    "{\"count\": 1}");
	ck_assert_int_eq(status_of(r), 404);
	free(r);
	r = request_body("POST", "/v1/ipam/pools/warm/intent",
	    "{\"count\": -1}");
	ck_assert_int_eq(status_of(r), 400);
	j = body_json(r);
	ck_assert_str_eq(error_of(j),
	    "'count' must be an integer from 0 to 1000000");
	json_decref(j);
	free(r);
	r = request_body("POST", "/v1/ipam/pools/warm/intent",
	    "{\"count\": 1, \"when\": 3}");
	ck_assert_int_eq(status_of(r), 400);
	free(r);

	r = request("GET", "/metrics");
	ck_assert_ptr_nonnull(strstr(r,
	    "\nevpnd_shadow_target{pool=\"warm\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(r,
	    "\nevpnd_shadow_preallocated{pool=\"warm\",state=\"ready\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(r, "\nevpnd_shadow_preallocated{"
	    "pool=\"watch\",state=\"converging\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(r,
	    "\nevpnd_shadow_hits_total{pool=\"warm\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(r,
	    "\nevpnd_shadow_misses_total{pool=\"warm\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(r, "\nevpnd_shadow_alerts_total{"
	    "pool=\"warm\",kind=\"burst\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(r, "\nevpnd_shadow_cost{pool=\"warm\"} "));
	ck_assert_ptr_null(strstr(r, "pool=\"bare\"} 0\nevpnd_shadow"));
	free(r);
}
END_TEST

/* Replace from by to in shadow_conf (the first occurrence, which must
 * exist) and apply it as a reload. */
static void
shadow_reload(const char *from, const char *to)
{
	static char text[sizeof(shadow_conf) + 256];
	const char *p = strstr(shadow_conf, from);
	struct config *next;
	char err[512];

	ck_assert_ptr_nonnull(p);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - shadow_conf),
	    shadow_conf, to, p + strlen(from));
	next = conf_parse_string(text, "next.conf", err, sizeof(err));
	ck_assert_msg(next != NULL, "%s", err);
	ck_assert_msg(ipamd_reload_check(d.ipamd, d.conf, next, err,
	    sizeof(err)) == 0, "%s", err);
	ipamd_reload_apply(d.ipamd, d.conf, next);
	conf_free(d.conf);
	d.conf = next;
}

/* A receive-side convergence measurement as the daemon wires it. */
static struct shadowd_convergence fake_conv;

static void
fake_local_conv(void *arg, struct shadowd_convergence *c)
{
	(void)arg;
	*c = fake_conv;
}

static json_t *
lead_view(const char *pool)
{
	json_t *v = shadow_pool_view(pool), *c;

	c = json_incref(json_object_get(v, "convergence"));
	json_decref(v);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* The pool's lead and its source; the engine plans with it at once. */
static void
expect_lead(const char *pool, long long ms, const char *source)
{
	json_t *c = lead_view(pool), *v = shadow_pool_view(pool);

	ck_assert_int_eq(json_integer_value(json_object_get(c, "leadMs")), ms);
	ck_assert_str_eq(jstr_of(c, "source"), source);
	ck_assert_double_eq_tol(json_number_value(json_object_get(
	    json_object_get(v, "policy"), "leadS")), ms / 1000.0, 1e-9);
	json_decref(c);
	json_decref(v);
}

/*
 * The lead time: configured until a measured source has 5 samples; the
 * local measurement's p90; the fabric's, while its time to live runs;
 * pre-allocations are ready after it and misses wait it.
 */
START_TEST(test_shadow_lead_time)
{
	struct shadowd *sd = ipamd_shadowd(d.ipamd);
	struct shadowd_convergence fab = { 20, 900, 3000, 4000 };
	json_int_t converging;
	json_t *v;
	double delay0;
	size_t i, n;
	char *r;

	expect_lead("warm", CONF_SHADOW_DEFAULT_LEAD_TIME, "configured");
	memset(&fake_conv, 0, sizeof(fake_conv));
	shadowd_set_local_convergence(sd, fake_local_conv, NULL);
	fake_conv = (struct shadowd_convergence){ 4, 100, 250, 300 };
	shadow_ticks(1);
	expect_lead("warm", CONF_SHADOW_DEFAULT_LEAD_TIME, "configured");
	fake_conv.count = 5;
	shadow_ticks(1);
	expect_lead("warm", 250, "local");
	expect_lead("watch", 250, "local");

	/* Requests take what is there; each claim's plan makes its
	 * replacement at once: it converges for 250 ms (the lead the
	 * engine plans with too), then is ready. */
	v = preallocations("warm");
	n = json_array_size(v);
	json_decref(v);
	for (i = 0; i < n; i++)
		expect_served(100 + (int)i, true);
	ipamd_drain(d.ipamd);
	v = preallocations("warm");
	n = json_array_size(v);
	json_decref(v);
	ck_assert_uint_ge(n, 2);
	v = shadow_pool_view("warm");
	converging = jpath_int(v, "preallocated", "converging");
	ck_assert_int_ge(converging, 1);
	json_decref(v);
	fake_ms += 249;
	v = shadow_pool_view("warm");
	ck_assert_int_eq(jpath_int(v, "preallocated", "ready"),
	    (json_int_t)n - converging);
	json_decref(v);
	fake_ms += 1;
	v = shadow_pool_view("warm");
	ck_assert_int_eq(jpath_int(v, "preallocated", "ready"), n);
	json_decref(v);
	r = request("GET", "/metrics");
	ck_assert_ptr_nonnull(strstr(r,
	    "\nevpnd_shadow_lead_seconds{pool=\"warm\"} 0.25\n"));
	ck_assert_ptr_nonnull(strstr(r, "\n# TYPE evpnd_evpn_convergence_seconds "
	    "histogram\nevpnd_evpn_convergence_seconds_bucket{le=\"0.001\"} 0\n"
	    "evpnd_evpn_convergence_seconds_bucket{le=\"0.002\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(r, "\nevpnd_evpn_convergence_seconds_bucket"
	    "{le=\"60\"} 0\nevpnd_evpn_convergence_seconds_bucket{le=\"+Inf\"} 0\n"
	    "evpnd_evpn_convergence_seconds_sum 0\n"
	    "evpnd_evpn_convergence_seconds_count 0\n"));
	ck_assert_ptr_nonnull(strstr(r, "\nevpnd_evpn_convergence_excluded_total"
	    "{reason=\"skew\"} 0\n"));
	free(r);

	/* A request with its own MAC misses and waits the lead time. */
	v = shadow_pool_view("warm");
	delay0 = json_number_value(json_object_get(json_object_get(v,
	    "outcomes"), "delaySeconds"));
	json_decref(v);
	ck_assert_int_eq(allocate("warm", "{\"resource\": \"own\", \"mac\": "
	    "\"02:aa:00:00:00:09\"}", &v), 201);
	json_decref(v);
	v = shadow_pool_view("warm");
	ck_assert_double_eq_tol(json_number_value(json_object_get(
	    json_object_get(v, "outcomes"), "delaySeconds")) - delay0, 0.25,
	    1e-9);
	json_decref(v);

	/* The fabric's distribution wins while it holds, for its pool. */
	ck_assert_int_eq(shadowd_set_fabric_convergence(sd, "warm", &fab,
	    5000), 0);
	expect_lead("warm", 3000, "fabric");
	expect_lead("watch", 250, "local");
	v = lead_view("warm");
	ck_assert_int_eq(json_integer_value(json_object_get(v, "samples")), 20);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "p99Ms")), 4000);
	json_decref(v);
	shadow_ticks(4);
	expect_lead("warm", 3000, "fabric");
	shadow_ticks(1);
	expect_lead("warm", 250, "local");
	ck_assert_int_eq(shadowd_set_fabric_convergence(sd, NULL, &fab, 5000),
	    0);
	expect_lead("watch", 3000, "fabric");
	ck_assert_int_eq(shadowd_set_fabric_convergence(sd, "bare", &fab,
	    5000), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* Too few fabric samples: the local measurement again. */
	fab.count = 2;
	ck_assert_int_eq(shadowd_set_fabric_convergence(sd, "warm", &fab,
	    5000), 0);
	expect_lead("warm", 250, "local");
	/* Nothing measured: the configured lead-time. */
	memset(&fake_conv, 0, sizeof(fake_conv));
	shadow_ticks(1);
	expect_lead("warm", CONF_SHADOW_DEFAULT_LEAD_TIME, "configured");
	shadow_reload("  max-warm 3\n", "  max-warm 3\n  lead-time 400\n");
	expect_lead("warm", 400, "configured");
}
END_TEST

/* adapt, jitter and model per pool, live; a bad value changes nothing. */
START_TEST(test_shadow_settings)
{
	struct config *next;
	char err[512];
	json_t *v;

	v = shadow_pool_view("warm");
	ck_assert_str_eq(jstr_of(v, "model"), "ensemble");
	ck_assert(json_is_true(json_object_get(json_object_get(v, "policy"),
	    "adapt")));
	json_decref(v);
	shadow_reload("  max-warm 3\n", "  max-warm 3\n  adapt off\n"
	    "  jitter 0.2\n  model kalman\n");
	shadow_ticks(1);
	v = shadow_pool_view("warm");
	ck_assert_str_eq(jstr_of(v, "model"), "kalman");
	ck_assert(json_is_false(json_object_get(json_object_get(v, "policy"),
	    "adapt")));
	ck_assert_double_eq_tol(json_number_value(json_object_get(
	    json_object_get(v, "policy"), "jitter")), 0.2, 1e-9);
	json_decref(v);
	v = shadow_pool_view("watch");
	ck_assert_str_eq(jstr_of(v, "model"), "ensemble");
	json_decref(v);
	next = conf_parse_string("ipam pool warm\n prefix 10.30.0.0/24\n"
	    " shadow\n  model arima\n", "next.conf", err, sizeof(err));
	ck_assert_ptr_null(next);
	ck_assert_str_eq(err, "next.conf:4: invalid model 'arima' in 'model "
	    "arima' (holt, kalman, churn or ensemble)");
	v = shadow_pool_view("warm");
	ck_assert_str_eq(jstr_of(v, "model"), "kalman");
	json_decref(v);
}
END_TEST

/* Requests' groups by label (job, then app), with expectations; a
 * release gives back what a group holds; pools reloaded with group-by
 * none keep no groups. */
START_TEST(test_shadow_groups)
{
	json_t *v, *g, *j;
	char body[128], *r;

	for (int i = 0; i < 3; i++) {
		snprintf(body, sizeof(body), "{\"resource\": \"w-%d\", "
		    "\"labels\": {\"job\": \"llama-70b\", \"app\": "
		    "\"trainer\"}}", i);
		ck_assert_int_eq(allocate("warm", body, &j), 201);
		json_decref(j);
	}
	ck_assert_int_eq(allocate("warm", "{\"resource\": \"web-1\", "
	    "\"labels\": {\"app\": \"web\"}}", &j), 201);
	json_decref(j);
	ck_assert_int_eq(allocate("warm", "{\"resource\": \"plain\"}", &j),
	    201);
	json_decref(j);
	r = request("DELETE", "/v1/ipam/allocations/w-2");
	ck_assert_int_eq(status_of(r), 204);
	free(r);
	ipamd_drain(d.ipamd);
	shadow_ticks(1);
	v = shadow_pool_view("warm");
	ck_assert_int_eq(json_array_size(json_object_get(v, "groups")), 2);
	g = json_array_get(json_object_get(v, "groups"), 0);
	ck_assert_str_eq(jstr_of(g, "label"), "app=web");
	g = json_array_get(json_object_get(v, "groups"), 1);
	ck_assert_str_eq(jstr_of(g, "label"), "job=llama-70b");
	ck_assert_int_eq(json_integer_value(json_object_get(g, "active")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(g, "requests")),
	    3);
	ck_assert_double_eq(json_number_value(json_object_get(json_object_get(
	    g, "expected"), "windowS")), 300);
	ck_assert(json_is_number(json_object_get(json_object_get(g,
	    "expected"), "p90")));
	json_decref(v);
	shadow_reload("  max-warm 3\n", "  max-warm 3\n  group-by none\n");
	ck_assert_int_eq(allocate("warm", "{\"resource\": \"w-9\", "
	    "\"labels\": {\"job\": \"other\"}}", &j), 201);
	json_decref(j);
	v = shadow_pool_view("warm");
	ck_assert_int_eq(json_array_size(json_object_get(v, "groups")), 2);
	json_decref(v);
}
END_TEST

START_TEST(test_shadow_reload)
{
	json_t *pre, *v;

	shadow_ticks(1);
	pre = preallocations("warm");
	ck_assert_int_eq(json_array_size(pre), 2);
	json_decref(pre);
	/* Guardrails and mode, live. */
	shadow_reload("  mode observe\n", "  mode active\n");
	shadow_ticks(1);
	pre = preallocations("watch");
	ck_assert_int_eq(json_array_size(pre), 2);
	json_decref(pre);
	v = shadow_pool_view("watch");
	ck_assert_str_eq(jstr_of(v, "mode"), "active");
	json_decref(v);
	/* The block goes: its unused pre-allocations are released and
	 * their routes withdrawn. */
	shadow_reload(" shadow\n  min-warm 2\n  max-warm 3\n  mode active\n"
	    " exit-shadow\n", "");
	ipamd_drain(d.ipamd);
	pre = preallocations("warm");
	ck_assert_int_eq(json_array_size(pre), 0);
	json_decref(pre);
	ck_assert_int_eq(db_count("SELECT count(*) FROM allocations WHERE "
	    "pool = 'warm'"), 0);
	ck_assert_ptr_null(shadowd_pool(ipamd_shadowd(d.ipamd), "warm"));
	v = get_json("/v1/ipam/shadow");
	ck_assert_int_eq(json_array_size(json_object_get(v, "pools")), 1);
	json_decref(v);
}
END_TEST

/* Fixed point in the config, doubles in the engine. */
START_TEST(test_shadow_params_from_conf)
{
	const struct conf_ipam_pool *cp;
	struct shadow_params p;
	struct config *c;
	char path[1024], err[512];
	const char *top = getenv("top_srcdir");

	snprintf(path, sizeof(path), "%s/tests/conf/ipam.conf", top ? top :
	    ".");
	c = conf_parse_file(path, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	cp = conf_ipam_pool_find(c, "plain");
	ck_assert(cp->has_shadow);
	shadowd_params_from_conf(&cp->shadow, &p);
	ck_assert_double_eq_tol(p.confidence, 0.975, 1e-12);
	ck_assert_double_eq_tol(p.wastage_weight, 0.5, 1e-12);
	ck_assert_double_eq_tol(p.delay_weight, 250, 1e-12);
	ck_assert_int_eq(p.mode, SHADOW_MODE_ACTIVE);
	cp = conf_ipam_pool_find(c, "tenant-a-train");
	shadowd_params_from_conf(&cp->shadow, &p);
	ck_assert_int_eq(p.mode, SHADOW_MODE_OBSERVE);
	ck_assert_uint_eq(p.min_warm, 2);
	ck_assert_uint_eq(p.max_warm, 64);
	ck_assert_uint_eq(p.horizon_s, 300);
	ck_assert_double_eq_tol(p.max_pool_fraction, 0.05, 1e-12);
	ck_assert_double_eq_tol(p.confidence, 0.9, 1e-12);
	conf_free(c);
}
END_TEST

static Suite *
api_shadow_suite(void)
{
	Suite *s = suite_create("api_shadow");
	TCase *tc = tcase_create("shadow");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, shadow_setup, ipam_teardown);
	tcase_add_test(tc, test_shadow_prealloc_and_claim);
	tcase_add_test(tc, test_shadow_observe);
	tcase_add_test(tc, test_shadow_max_warm);
	tcase_add_test(tc, test_shadow_restart);
	tcase_add_test(tc, test_shadow_views);
	tcase_add_test(tc, test_shadow_reload);
	tcase_add_test(tc, test_shadow_settings);
	tcase_add_test(tc, test_shadow_groups);
	tcase_add_test(tc, test_shadow_lead_time);
	tcase_add_test(tc, test_shadow_params_from_conf);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(api_shadow_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
