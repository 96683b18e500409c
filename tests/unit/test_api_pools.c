/*
 * The run-time IPAM API in process, with the real SQLite store: pools
 * created, grown, refused when they would shrink under allocations or
 * clash with another pool, deleted once empty, and back after a
 * restart; pools of the config file read-only with their line named;
 * reservations added and removed; definitions that cannot build (or
 * try to smuggle a line in) refused with the parser's message.
 * A shadow inventory in a run-time pool's definition: its settings
 * shown, checked by the config's ranges (refusals name the field and
 * change nothing), changed and removed by PATCH, its engine made (the
 * shadow view, min-warm pre-allocations) and back after a restart.
 * Allocations asking for an address, carrying labels, filtered by label
 * and audited with them.  The DNS name an allocation registers under:
 * its dns-name label or its pool's template, completed with the zone.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "api/api.h"
#include "ipam/ipam.h"
#include "conf/conf.h"
#include "ipamd/ipamd.h"
#include "ipamd/ipamd_int.h"
#include "ipamd/shadowd.h"
#include "tests/unit/api_harness.h"

static const char conf_text[] =
	"vxlan vx100\n vni 100\n local-tunnel-ip 10.0.0.11\n!\n"
	"vxlan vx300\n vni 300\n local-tunnel-ip 10.0.0.11\n!\n"
	"ipam pool pa\n"			/* line 9 */
	" vni 100\n"
	" prefix 10.10.0.0/24\n"
	" prefix 2001:db8:100::/64\n"
	" gateway 10.10.0.1\n"
	" reserve 10.10.0.20 for storage\n"
	"!\n"
	"router bgp 65000\n"
	" bgp router-id 10.0.0.11\n"
	" bgp listen-port 0\n"
	" address-family l2vpn evpn\n"
	"  advertise-all-vni\n"
	" exit-address-family\n"
	"exit\n";

static void
setup(void)
{
	ipam_setup_conf(conf_text);
}

/* One request: its status; *j the body (NULL for none; caller frees). */
static int
call(const char *method, const char *path, const char *body, json_t **j)
{
	char *r = request_body(method, path, body);
	int code = status_of(r);

	*j = code == 204 ? NULL : body_json(r);
	free(r);
	return code;
}

/* The status and, when msg is given, the exact error message. */
static void
expect(const char *method, const char *path, const char *body, int code,
    const char *msg)
{
	json_t *j;
	int got = call(method, path, body, &j);

	ck_assert_msg(got == code, "%s %s: %d, not %d: %s", method, path, got,
	    code, j != NULL && error_of(j) ? error_of(j) : "");
	if (msg != NULL) {
		ck_assert_msg(j != NULL && error_of(j) != NULL, "no error");
		ck_assert_str_eq(error_of(j), msg);
	}
	json_decref(j);
}

static long long
jint_of(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *
jstr_of(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Allocate res in pool: the address given (or NULL on failure). */
static const char *
alloc(const char *pool, const char *body, char *ip, size_t len)
{
	char path[128];
	json_t *j;
	int code;

	snprintf(path, sizeof(path), "/v1/ipam/pools/%s/allocations", pool);
	code = call("POST", path, body, &j);
	if (code != 201 && code != 200) {
		json_decref(j);
		return NULL;
	}
	snprintf(ip, len, "%s", jstr_of(j, "ip") ? jstr_of(j, "ip") :
	    jstr_of(j, "ipv6"));
	json_decref(j);
	return ip;
}

static json_t *
get(const char *path)
{
	json_t *j;

	ck_assert_int_eq(call("GET", path, NULL, &j), 200);
	return j;
}

START_TEST(test_pool_lifecycle)
{
	char ip[64], body[128];
	json_t *j;

	ck_assert_int_eq(call("POST", "/v1/ipam/pools", "{\"name\": \"rt\", "
	    "\"vni\": 300, \"prefixes\": [\"10.30.0.0/29\"], \"gateways\": "
	    "[\"10.30.0.1\"], \"reservations\": [{\"ip\": \"10.30.0.6\", "
	    "\"name\": \"db\"}], \"quarantine\": 0}", &j), 201);
	ck_assert_str_eq(jstr_of(j, "name"), "rt");
	ck_assert(json_is_true(json_object_get(j, "runtime")));
	ck_assert_int_eq(jint_of(j, "size"), 4);
	ck_assert_int_eq(json_array_size(json_object_get(j, "reservations")),
	    1);
	json_decref(j);
	expect("POST", "/v1/ipam/pools", "{\"name\": \"rt\", \"prefixes\": "
	    "[\"10.40.0.0/24\"]}", 409, "ipam pool rt already exists");
	/* The config's pool is read-only, named with its line. */
	expect("POST", "/v1/ipam/pools", "{\"name\": \"pa\", \"prefixes\": "
	    "[\"10.40.0.0/24\"]}", 409, "ipam pool pa is defined in ipam.conf "
	    "line 9 and is read-only over the API");
	expect("PATCH", "/v1/ipam/pools/pa", "{\"quarantine\": 5}", 409,
	    "ipam pool pa is defined in ipam.conf line 9 and is read-only "
	    "over the API");
	expect("DELETE", "/v1/ipam/pools/pa", NULL, 409, "ipam pool pa is "
	    "defined in ipam.conf line 9 and is read-only over the API");
	expect("POST", "/v1/ipam/pools/pa/reservations", "{\"ip\": "
	    "\"10.10.0.9\", \"name\": \"x\"}", 409, NULL);
	j = get("/v1/ipam/pools/pa");
	ck_assert_int_eq(jint_of(json_object_get(j, "config"), "line"), 9);
	json_decref(j);
	/* Clashes with other pools. */
	expect("POST", "/v1/ipam/pools", "{\"name\": \"ov\", \"prefixes\": "
	    "[\"10.30.0.0/24\"]}", 409, "prefix 10.30.0.0/24 overlaps prefix "
	    "10.30.0.0/29 of ipam pool rt (tenant default)");
	ck_assert_int_eq(call("POST", "/v1/ipam/pools", "{\"name\": \"ov\", "
	    "\"tenant\": \"other\", \"prefixes\": [\"10.30.0.0/24\"]}", &j),
	    201);
	json_decref(j);
	expect("POST", "/v1/ipam/pools", "{\"name\": \"v\", \"vni\": 100, "
	    "\"prefixes\": [\"10.50.0.0/24\"]}", 409, "vni 100 is already used "
	    "by ipam pool pa");

	/* Fill it, then it cannot shrink away from its allocations. */
	for (int i = 0; i < 4; i++) {
		snprintf(body, sizeof(body), "{\"resource\": \"r%d\"}", i);
		ck_assert_ptr_nonnull(alloc("rt", body, ip, sizeof(ip)));
	}
	ck_assert_ptr_null(alloc("rt", "{\"resource\": \"r4\"}", ip,
	    sizeof(ip)));
	expect("PATCH", "/v1/ipam/pools/rt", "{\"prefixes\": "
	    "[\"10.31.0.0/29\"], \"gateways\": null, \"reservations\": "
	    "null}", 409, "pool rt: 4 live allocations would "
	    "fall outside the new definition (outside its prefixes, excluded, "
	    "reserved, or a gateway or network address)");
	expect("PATCH", "/v1/ipam/pools/rt", "{\"name\": \"rt2\"}", 400,
	    "a pool cannot be renamed");
	ck_assert_int_eq(call("PATCH", "/v1/ipam/pools/rt", "{\"prefixes\": "
	    "[\"10.30.0.0/29\", \"10.30.1.0/29\"]}", &j), 200);
	ck_assert_int_eq(jint_of(j, "size"), 10);
	ck_assert_str_eq(jstr_of(json_object_get(j, "definition"),
	    "name"), "rt");
	json_decref(j);
	ck_assert_str_eq(alloc("rt", "{\"resource\": \"r4\"}", ip,
	    sizeof(ip)), "10.30.1.1");
	expect("DELETE", "/v1/ipam/pools/rt", NULL, 409, "ipam pool rt has 5 "
	    "live allocations");

	/* Reservations. */
	ck_assert_int_eq(call("POST", "/v1/ipam/pools/rt/reservations",
	    "{\"ip\": \"10.30.1.2\", \"name\": \"lb\"}", &j), 201);
	ck_assert_str_eq(jstr_of(j, "name"), "lb");
	json_decref(j);
	expect("POST", "/v1/ipam/pools/rt/reservations", "{\"ip\": "
	    "\"10.30.1.3\", \"name\": \"lb\"}", 409, "ipam pool rt already has "
	    "a reservation of 10.30.1.3 or named lb");
	expect("POST", "/v1/ipam/pools/rt/reservations", "{\"ip\": "
	    "\"10.30.0.2\", \"name\": \"x\"}", 409, "10.30.0.2 is allocated to "
	    "r0");
	expect("POST", "/v1/ipam/pools/rt/reservations", "{\"ip\": "
	    "\"10.30.1.3\", \"name\": \"a b\"}", 400, NULL);
	expect("POST", "/v1/ipam/pools/rt/allocations", "{\"resource\": "
	    "\"x\", \"ip\": \"10.30.1.2\"}", 409, "10.30.1.2 is not free in "
	    "pool rt (reserved, in quarantine or in conflict)");
	j = get("/v1/ipam/pools/rt");
	ck_assert_int_eq(json_array_size(json_object_get(j, "reservations")),
	    2);
	json_decref(j);

	/* Back after a restart, reservations and allocations included. */
	ipam_restart(conf_text);
	j = get("/v1/ipam/pools/rt");
	ck_assert_int_eq(jint_of(j, "allocations"), 5);
	ck_assert_int_eq(jint_of(j, "size"), 9);
	ck_assert(json_is_true(json_object_get(j, "runtime")));
	json_decref(j);
	expect("DELETE", "/v1/ipam/pools/rt/reservations/10.30.1.2", NULL, 204,
	    NULL);
	expect("DELETE", "/v1/ipam/pools/rt/reservations/10.30.1.2", NULL, 404,
	    "ipam pool rt has no reservation of 10.30.1.2");
	for (int i = 0; i < 5; i++) {
		snprintf(body, sizeof(body), "/v1/ipam/allocations/r%d", i);
		expect("DELETE", body, NULL, 204, NULL);
	}
	expect("DELETE", "/v1/ipam/pools/rt", NULL, 204, NULL);
	expect("GET", "/v1/ipam/pools/rt", NULL, 404, NULL);
	ipam_restart(conf_text);
	expect("GET", "/v1/ipam/pools/rt", NULL, 404, NULL);
	j = get("/v1/ipam/pools/ov");
	json_decref(j);
}
END_TEST

/* A definition that does not build is refused with the parser's words;
 * no value can add a statement of its own. */
START_TEST(test_pool_bad_definitions)
{
	static const char *const bad[][2] = {
		{ "{\"name\": \"b\", \"prefixes\": [\"10.0.0.0/33\"]}",
		  "invalid prefix '10.0.0.0/33' in 'prefix 10.0.0.0/33'" },
		{ "{\"name\": \"b\"}", "ipam pool b: no 'prefix' statement" },
		{ "{\"name\": \"b\", \"prefixes\": [\"10.0.0.0/24\"], "
		  "\"colour\": 1}", "unknown field 'colour'" },
		{ "{\"name\": \"b\", \"prefixes\": [\"10.0.0.0/24\\n vni 7\"]}",
		  "'prefixes' must be printable ASCII without spaces" },
		{ "{\"name\": \"b c\", \"prefixes\": [\"10.0.0.0/24\"]}",
		  "'name' must be printable ASCII without spaces" },
		{ "{\"name\": \"b\", \"prefixes\": \"10.0.0.0/24\"}",
		  "'prefixes' must be an array of strings" },
		{ "{\"name\": \"b\", \"prefixes\": [\"10.0.0.0/24\"], "
		  "\"gateways\": [\"10.9.0.1\"]}",
		  "ipam pool b: gateway 10.9.0.1 is outside the pool's "
		  "prefixes" },
		{ "{\"name\": \"b\", \"prefixes\": [\"10.0.0.0/24\"], "
		  "\"vni\": -1}", "'vni' must be a non-negative integer" },
		{ "{\"name\": \"b\", \"prefixes\": [\"10.0.0.0/24\"], "
		  "\"dns\": {\"zone\": \"z\", \"server\": \"10.0.0.53\"}}",
		  "'dns.tsig' must be {\"algorithm\", \"name\", \"secret\"}" },
		{ "{\"name\": \"b\", \"prefixes\": [\"10.0.0.0/24\"], "
		  "\"dns\": {\"zone\": \"z\", \"server\": \"10.0.0.53\", "
		  "\"tsig\": {\"algorithm\": \"hmac-sha256\", \"name\": \"k\", "
		  "\"secret\": \"not-base64\"}}}",
		  "invalid TSIG secret in 'dns zone ...' (base64, at most 512 "
		  "characters)" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect("POST", "/v1/ipam/pools", bad[i][0], 400, bad[i][1]);
	expect("GET", "/v1/ipam/pools/b", NULL, 404, NULL);
}
END_TEST

/* DNS settings travel without their secret and survive a PATCH that
 * does not name them. */
START_TEST(test_pool_dns_definition)
{
	json_t *j, *dns;

	ck_assert_int_eq(call("POST", "/v1/ipam/pools", "{\"name\": \"dn\", "
	    "\"prefixes\": [\"10.60.0.0/24\"], \"dns\": {\"zone\": "
	    "\"Example.NET\", \"server\": \"10.0.0.53\", \"tsig\": "
	    "{\"algorithm\": \"hmac-sha256\", \"name\": \"evpnd\", "
	    "\"secret\": \"c2VjcmV0\"}, \"reverse\": true}}", &j), 201);
	dns = json_object_get(json_object_get(j, "definition"), "dns");
	ck_assert_str_eq(jstr_of(dns, "zone"), "example.net");
	ck_assert_ptr_null(json_object_get(json_object_get(dns, "tsig"),
	    "secret"));
	json_decref(j);
	ck_assert_int_eq(call("PATCH", "/v1/ipam/pools/dn", "{\"dns\": "
	    "{\"server\": \"10.0.0.54\"}}", &j), 200);
	dns = json_object_get(json_object_get(j, "definition"), "dns");
	ck_assert_str_eq(jstr_of(dns, "server"), "10.0.0.54");
	ck_assert(json_is_true(json_object_get(dns, "reverse")));
	json_decref(j);
	ck_assert_int_eq(call("PATCH", "/v1/ipam/pools/dn", "{\"dns\": null}",
	    &j), 200);
	ck_assert_ptr_null(json_object_get(json_object_get(j, "definition"),
	    "dns"));
	json_decref(j);
}
END_TEST

/* The definition's shadow object of pool (NULL: none); *j to free. */
static json_t *
shadow_def(const char *pool, json_t **j)
{
	char path[128];

	snprintf(path, sizeof(path), "/v1/ipam/pools/%s", pool);
	*j = get(path);
	return json_object_get(json_object_get(*j, "definition"), "shadow");
}

/* The shadow view's entry for pool (NULL: none); *j to free. */
static json_t *
shadow_view(const char *pool, json_t **j)
{
	json_t *p;
	size_t i;

	*j = get("/v1/ipam/shadow");
	json_array_foreach(json_object_get(*j, "pools"), i, p)
		if (strcmp(jstr_of(p, "pool"), pool) == 0)
			return p;
	return NULL;
}

/* Pre-allocations of pool, once the engine has had ticks to make them
 * (each request turns the loop, so commits complete). */
static size_t
preallocated(const char *pool, size_t want)
{
	char path[128];
	json_t *j, *a;
	size_t i, n = 0;

	snprintf(path, sizeof(path), "/v1/ipam/allocations?pool=%s", pool);
	for (int round = 0; round < 20 && n < want; round++) {
		shadowd_tick(ipamd_shadowd(d.ipamd));
		j = get(path);
		n = 0;
		json_array_foreach(json_object_get(j, "allocations"), i, a)
			n += json_is_true(json_object_get(a, "preallocated"));
		json_decref(j);
	}
	return n;
}

START_TEST(test_pool_shadow)
{
	static const char *const bad[][2] = {
		{ "{\"minWarm\": 2000000}", "shadow.minWarm: invalid min-warm "
		  "'2000000' in 'min-warm 2000000' (0..1000000)" },
		{ "{\"confidence\": 1}", "shadow.confidence: invalid "
		  "confidence '1.000000' in 'confidence 1.000000' "
		  "(0.000001..0.999999)" },
		{ "{\"maxPoolFraction\": -0.5}", "shadow.maxPoolFraction: "
		  "invalid max-pool-fraction '-0.500000' in 'max-pool-fraction "
		  "-0.500000' (0..1)" },
		{ "{\"jitter\": 0.75}", "shadow.jitter: invalid jitter "
		  "'0.750000' in 'jitter 0.750000' (0..0.5)" },
		{ "{\"leadTimeMs\": 0}", "shadow.leadTimeMs: invalid lead-time "
		  "'0' in 'lead-time 0' (1..300000)" },
		{ "{\"mode\": \"fast\"}", "shadow.mode: invalid mode 'fast' in "
		  "'mode fast' (active or observe)" },
		{ "{\"model\": \"arima\"}", "shadow.model: invalid model "
		  "'arima' in 'model arima' (holt, kalman, churn or "
		  "ensemble)" },
		{ "{\"groupBy\": [\"a,b\"]}", "shadow.groupBy: invalid label "
		  "key 'a,b' in 'group-by a,b' (1 to 63 letters, digits, '.', "
		  "'_', '/' or '-')" },
		{ "{\"wastageWeight\": 0, \"delayWeight\": 0}",
		  "shadow.wastageWeight: 'cost wastage 0.000000 delay "
		  "0.000000': the weights cannot both be 0" },
		{ "{\"minWarm\": 8, \"maxWarm\": 4}", "shadow: ipam pool sh: "
		  "shadow min-warm 8 is above max-warm 4" },
		{ "{\"adapt\": \"yes\"}", "'shadow.adapt' must be true or "
		  "false" },
		{ "{\"horizonS\": 1.5}", "'shadow.horizonS' must be a "
		  "non-negative integer" },
		{ "{\"confidence\": \"high\"}", "'shadow.confidence' must be a "
		  "number" },
		{ "{\"colour\": 1}", "unknown field 'colour' in 'shadow'" },
		{ "[]", "'shadow' must be an object" },
	};
	char body[512];
	json_t *j, *sh, *v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "{\"name\": \"sh\", \"prefixes\": "
		    "[\"10.70.0.0/24\"], \"shadow\": %s}", bad[i][0]);
		expect("POST", "/v1/ipam/pools", body, 400, bad[i][1]);
	}
	expect("GET", "/v1/ipam/pools/sh", NULL, 404, NULL);

	/* Made with it: every setting shown, the defaults included. */
	expect("POST", "/v1/ipam/pools", "{\"name\": \"sh\", \"prefixes\": "
	    "[\"10.70.0.0/24\"], \"shadow\": {\"mode\": \"active\", "
	    "\"minWarm\": 2, \"maxWarm\": 16, \"confidence\": 0.8, "
	    "\"wastageWeight\": 2, \"leadTimeMs\": 500, \"adapt\": false, "
	    "\"groupBy\": [\"job\"]}}", 201, NULL);
	sh = shadow_def("sh", &j);
	ck_assert_ptr_nonnull(sh);
	ck_assert_int_eq(jint_of(sh, "minWarm"), 2);
	ck_assert_int_eq(jint_of(sh, "maxWarm"), 16);
	ck_assert_int_eq(jint_of(sh, "leadTimeMs"), 500);
	ck_assert(json_real_value(json_object_get(sh, "confidence")) == 0.8);
	ck_assert(json_real_value(json_object_get(sh, "wastageWeight")) ==
	    2.0);
	ck_assert(json_real_value(json_object_get(sh, "delayWeight")) ==
	    100.0);
	ck_assert(json_is_false(json_object_get(sh, "adapt")));
	ck_assert_int_eq(json_array_size(json_object_get(sh, "groupBy")), 1);
	ck_assert_str_eq(jstr_of(sh, "mode"), "active");
	ck_assert_str_eq(jstr_of(sh, "model"), "ensemble");
	json_decref(j);

	/* Its engine runs: in the shadow view with these settings, and
	 * holding min-warm pre-allocations. */
	ck_assert_ptr_nonnull(v = shadow_view("sh", &j));
	ck_assert_int_eq(jint_of(json_object_get(v, "policy"), "minWarm"), 2);
	ck_assert_int_eq(jint_of(json_object_get(v, "convergence"),
	    "configuredMs"), 500);
	json_decref(j);
	ck_assert_uint_ge(preallocated("sh", 2), 2);

	/* A bad PATCH changes nothing. */
	expect("PATCH", "/v1/ipam/pools/sh", "{\"shadow\": {\"maxWarm\": 1}}",
	    400, "shadow: ipam pool sh: shadow min-warm 2 is above max-warm "
	    "1");
	/* A PATCH changes what it names, keeps the rest; null: default. */
	expect("PATCH", "/v1/ipam/pools/sh", "{\"shadow\": {\"minWarm\": 3, "
	    "\"mode\": \"observe\", \"confidence\": null}}", 200, NULL);
	sh = shadow_def("sh", &j);
	ck_assert_int_eq(jint_of(sh, "minWarm"), 3);
	ck_assert_int_eq(jint_of(sh, "maxWarm"), 16);
	ck_assert_str_eq(jstr_of(sh, "mode"), "observe");
	ck_assert(json_real_value(json_object_get(sh, "confidence")) == 0.9);
	json_decref(j);
	ck_assert_ptr_nonnull(v = shadow_view("sh", &j));
	ck_assert_str_eq(jstr_of(v, "mode"), "observe");
	ck_assert_int_eq(jint_of(json_object_get(v, "policy"), "minWarm"), 3);
	json_decref(j);

	/* Back after a restart: the settings and the engine. */
	ipam_restart(conf_text);
	sh = shadow_def("sh", &j);
	ck_assert_int_eq(jint_of(sh, "minWarm"), 3);
	ck_assert_str_eq(jstr_of(sh, "mode"), "observe");
	json_decref(j);
	ck_assert_ptr_nonnull(v = shadow_view("sh", &j));
	ck_assert(json_is_true(json_object_get(json_object_get(v, "state"),
	    "restored")));
	json_decref(j);

	/* Removed: the engine goes, its unused pre-allocations too. */
	expect("PATCH", "/v1/ipam/pools/sh", "{\"shadow\": null}", 200, NULL);
	ck_assert_ptr_null(shadow_def("sh", &j));
	json_decref(j);
	ck_assert_ptr_null(shadow_view("sh", &j));
	json_decref(j);
	ck_assert_uint_eq(preallocated("sh", 0), 0);
	j = get("/v1/ipam/pools/sh");
	ck_assert_int_eq(jint_of(j, "allocations"), 0);
	json_decref(j);
}
END_TEST

/* A pool whose only allocations are its shadow inventory's unused
 * pre-allocations can be deleted (they go first); a new pool of its
 * name starts cold. */
START_TEST(test_pool_shadow_delete)
{
	json_t *j, *v;

	expect("POST", "/v1/ipam/pools", "{\"name\": \"sd\", \"prefixes\": "
	    "[\"10.71.0.0/24\"], \"shadow\": {\"minWarm\": 2}}", 201, NULL);
	ck_assert_uint_ge(preallocated("sd", 2), 2);
	expect("POST", "/v1/ipam/pools/sd/allocations", "{\"resource\": "
	    "\"live\"}", 201, NULL);
	expect("DELETE", "/v1/ipam/pools/sd", NULL, 409, "ipam pool sd has 1 "
	    "live allocation");
	expect("DELETE", "/v1/ipam/allocations/live", NULL, 204, NULL);
	ck_assert_uint_ge(preallocated("sd", 2), 2);
	expect("DELETE", "/v1/ipam/pools/sd", NULL, 204, NULL);
	expect("GET", "/v1/ipam/pools/sd", NULL, 404, NULL);
	ck_assert_ptr_null(shadow_view("sd", &j));
	json_decref(j);
	expect("POST", "/v1/ipam/pools", "{\"name\": \"sd\", \"prefixes\": "
	    "[\"10.72.0.0/24\"], \"shadow\": {}}", 201, NULL);
	ck_assert_ptr_nonnull(v = shadow_view("sd", &j));
	ck_assert(json_is_false(json_object_get(json_object_get(v, "state"),
	    "restored")));
	json_decref(j);
}
END_TEST

static size_t
listed(const char *query)
{
	char path[256];
	json_t *j;
	size_t n;

	snprintf(path, sizeof(path), "/v1/ipam/allocations%s", query);
	j = get(path);
	n = json_array_size(json_object_get(j, "allocations"));
	ck_assert_int_eq(jint_of(j, "total"), (long long)n);
	json_decref(j);
	return n;
}

START_TEST(test_asked_and_labels)
{
	char ip[64], body[2048];
	json_t *j, *l;
	size_t n;

	ck_assert_int_eq(call("POST", "/v1/ipam/pools/pa/allocations",
	    "{\"resource\": \"w1\", \"ip\": \"10.10.0.50\", \"labels\": "
	    "{\"job\": \"llama-70b\", \"app\": \"trainer\", \"dns-name\": "
	    "\"worker-3.train\"}}", &j), 201);
	ck_assert_str_eq(jstr_of(j, "ip"), "10.10.0.50");
	l = json_object_get(j, "labels");
	ck_assert_str_eq(jstr_of(l, "job"), "llama-70b");
	ck_assert_str_eq(jstr_of(l, "dns-name"), "worker-3.train");
	json_decref(j);
	/* Repeated: the same question gets the same answer. */
	ck_assert_int_eq(call("POST", "/v1/ipam/pools/pa/allocations",
	    "{\"resource\": \"w1\", \"ip\": \"10.10.0.50\", \"labels\": "
	    "{\"app\": \"trainer\", \"job\": \"llama-70b\", \"dns-name\": "
	    "\"worker-3.train\"}}", &j), 200);
	json_decref(j);
	expect("POST", "/v1/ipam/pools/pa/allocations", "{\"resource\": "
	    "\"w1\", \"ip\": \"10.10.0.50\"}", 409, "resource w1 is allocated "
	    "in pool pa with other parameters (a repeated request must ask "
	    "the same)");
	expect("POST", "/v1/ipam/pools/pa/allocations", "{\"resource\": "
	    "\"w2\", \"ip\": \"10.10.0.50\"}", 409, "10.10.0.50 is allocated "
	    "to w1 in pool pa");
	expect("POST", "/v1/ipam/pools/pa/allocations", "{\"resource\": "
	    "\"w2\", \"ip\": \"10.10.0.1\"}", 409, "pool pa never hands out "
	    "10.10.0.1 (outside its prefixes, excluded, its gateway or a "
	    "network address)");
	expect("POST", "/v1/ipam/pools/pa/allocations", "{\"resource\": "
	    "\"w2\", \"ip\": \"10.99.0.1\"}", 409, "pool pa never hands out "
	    "10.99.0.1 (outside its prefixes, excluded, its gateway or a "
	    "network address)");
	expect("POST", "/v1/ipam/pools/pa/allocations", "{\"resource\": "
	    "\"w2\", \"ip\": \"10.10.0.20\"}", 409, NULL);
	expect("POST", "/v1/ipam/pools/pa/allocations", "{\"resource\": "
	    "\"w2\", \"ip\": \"nope\"}", 400, "'ip' must be an IP address");
	expect("POST", "/v1/ipam/pools/pa/allocations", "{\"resource\": "
	    "\"w2\", \"labels\": {\"job\": 7}}", 400, "label 'job' must be a "
	    "string");
	expect("POST", "/v1/ipam/pools/pa/allocations", "{\"resource\": "
	    "\"w2\", \"labels\": {\"a,b\": \"x\"}}", 400, "label key 'a,b' "
	    "must be 1 to 63 letters, digits, '.', '_', '/' or '-'");
	snprintf(body, sizeof(body), "{\"resource\": \"w2\", \"labels\": {");
	for (int i = 0; i <= IPAM_LABELS_MAX; i++)
		snprintf(body + strlen(body), sizeof(body) - strlen(body),
		    "%s\"k%d\": \"v\"", i ? ", " : "", i);
	strcat(body, "}}");
	expect("POST", "/v1/ipam/pools/pa/allocations", body, 400,
	    "more than 16 labels");
	ck_assert_ptr_null(ipam_find(ipamd_ipam(d.ipamd), NULL, "w2"));
	/* An IPv6 address alone asks for IPv6 alone. */
	ck_assert_str_eq(alloc("pa", "{\"resource\": \"w6\", \"ip\": "
	    "\"2001:db8:100::50\", \"labels\": {\"job\": \"bert\"}}", ip,
	    sizeof(ip)), "2001:db8:100::50");
	ck_assert_ptr_nonnull(alloc("pa", "{\"resource\": \"w3\", \"labels\": "
	    "{\"job\": \"llama-70b\"}}", ip, sizeof(ip)));
	ck_assert_ptr_nonnull(alloc("pa", "{\"resource\": \"w4\"}", ip,
	    sizeof(ip)));

	ck_assert_uint_eq(listed(""), 4);
	ck_assert_uint_eq(listed("?label=job=llama-70b"), 2);
	ck_assert_uint_eq(listed("?label=job"), 3);
	ck_assert_uint_eq(listed("?label=job=llama-70b&label=app=trainer"),
	    1);
	ck_assert_uint_eq(listed("?pool=pa&label=app"), 1);
	ck_assert_uint_eq(listed("?label=job=none"), 0);
	j = get("/v1/ipam/allocations/w1");
	ck_assert_str_eq(jstr_of(json_object_get(j, "labels"), "app"),
	    "trainer");
	json_decref(j);
	expect("GET", "/v1/ipam/allocations/nobody", NULL, 404, NULL);

	/* Audited with them, and the chain holds. */
	j = get("/v1/ipam/audit/records?since=1");
	n = json_array_size(json_object_get(j, "records"));
	ck_assert_uint_ge(n, 1);
	l = json_array_get(json_object_get(j, "records"), 0);
	ck_assert_str_eq(jstr_of(l, "resource"), "w1");
	ck_assert_str_eq(jstr_of(json_object_get(l, "labels"), "job"),
	    "llama-70b");
	json_decref(j);
	j = get("/v1/ipam/audit");
	ck_assert(json_is_true(json_object_get(j, "ok")));
	json_decref(j);
	ipam_restart(conf_text);
	j = get("/v1/ipam/allocations/w6");
	ck_assert_str_eq(jstr_of(json_object_get(j, "labels"), "job"), "bert");
	json_decref(j);
}
END_TEST

/* A run-time pool of prefix, and allocations in it: "res[:job]..." */
static void
pool_with(const char *name, const char *prefix, const char *allocs)
{
	char body[256], buf[256], ip[64], *w, *save = NULL, *colon;

	snprintf(body, sizeof(body), "{\"name\": \"%s\", \"prefixes\": "
	    "[\"%s\"]}", name, prefix);
	expect("POST", "/v1/ipam/pools", body, 201, NULL);
	snprintf(buf, sizeof(buf), "%s", allocs);
	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ",
	    &save)) {
		if ((colon = strchr(w, ':')) != NULL)
			*colon++ = '\0';
		snprintf(body, sizeof(body), "{\"resource\": \"%s\"%s%s%s}",
		    w, colon ? ", \"labels\": {\"job\": \"" : "",
		    colon ? colon : "", colon ? "\"}" : "");
		ck_assert_ptr_nonnull(alloc(name, body, ip, sizeof(ip)));
	}
}

/* A page's resources appended to seen ("a b "); its next into next. */
static void
page_of(const char *path, char *seen, size_t len, char *next,
    size_t nextlen)
{
	json_t *j = get(path), *a;
	size_t i;

	json_array_foreach(json_object_get(j, "allocations"), i, a)
		snprintf(seen + strlen(seen), len - strlen(seen), "%s ",
		    jstr_of(a, "resource"));
	snprintf(next, nextlen, "%s", jstr_of(j, "next") ? jstr_of(j,
	    "next") : "");
	json_decref(j);
}

/* Pages filtered by label go on where they were when a pool before
 * them is deleted between two pages; a pool's tenant stays while it
 * holds allocations. */
START_TEST(test_label_pages)
{
	char seen[256] = "", next[64], path[256];

	pool_with("r1", "10.31.0.0/28", "b1:x");
	pool_with("r2", "10.32.0.0/28", "a1:x a2 a3:x");
	pool_with("r3", "10.33.0.0/28", "c1:x c2:y");
	page_of("/v1/ipam/allocations?label=job=x&limit=2", seen,
	    sizeof(seen), next, sizeof(next));
	ck_assert_str_eq(seen, "b1 a1 ");
	ck_assert_str_ne(next, "");
	expect("DELETE", "/v1/ipam/allocations/b1", NULL, 204, NULL);
	expect("DELETE", "/v1/ipam/pools/r1", NULL, 204, NULL);
	while (next[0] != '\0') {
		snprintf(path, sizeof(path), "/v1/ipam/allocations?label=job"
		    "=x&limit=2&after=%s", next);
		page_of(path, seen, sizeof(seen), next, sizeof(next));
	}
	ck_assert_str_eq(seen, "b1 a1 a3 c1 ");
	/* Streamed: the same filter. */
	ck_assert_uint_eq(listed("?label=job=x"), 3);
	ck_assert_uint_eq(listed("?label=job"), 4);
	expect("GET", "/v1/ipam/allocations?label=", NULL, 400, NULL);
	expect("PATCH", "/v1/ipam/pools/r2", "{\"tenant\": \"t2\"}", 409,
	    "pool r2: the tenant cannot change under 3 live allocations");
}
END_TEST

/* The name of an allocation with these labels under this template. */
static int
fqdn_of(const char *tmpl, const char *resource, const char *labels,
    char *out, size_t len)
{
	struct conf_ipam_dns dns = { .zone = "train.example.net",
	    .name_template = (char *)tmpl };
	struct ipam_alloc a;

	memset(&a, 0, sizeof(a));
	snprintf(a.resource, sizeof(a.resource), "%s", resource);
	a.labels = labels;
	ck_assert_int_eq(ipaddr_parse("10.10.0.5", &a.ip), 0);
	return dnsreg_fqdn(&dns, "pa", &a, out, len);
}

START_TEST(test_dns_names)
{
	char n[300];

	ck_assert_int_eq(fqdn_of(NULL, "r", NULL, n, sizeof(n)), 1);
	ck_assert_int_eq(fqdn_of(NULL, "r", "dns-name=worker-3", n,
	    sizeof(n)), 0);
	ck_assert_str_eq(n, "worker-3.train.example.net");
	ck_assert_int_eq(fqdn_of(NULL, "r", "dns-name=Worker-3.Train", n,
	    sizeof(n)), 0);
	ck_assert_str_eq(n, "worker-3.train.train.example.net");
	ck_assert_int_eq(fqdn_of(NULL, "r",
	    "dns-name=w.train.example.net", n, sizeof(n)), 0);
	ck_assert_str_eq(n, "w.train.example.net");
	ck_assert_int_eq(fqdn_of(NULL, "r", "dns-name=w.other.net.", n,
	    sizeof(n)), -1);
	/* The label wins over the template. */
	ck_assert_int_eq(fqdn_of("{resource}", "r", "dns-name=w", n,
	    sizeof(n)), 0);
	ck_assert_str_eq(n, "w.train.example.net");
	ck_assert_int_eq(fqdn_of("{label:app}-{resource}", "abc/eth0",
	    "app=trainer", n, sizeof(n)), 0);
	ck_assert_str_eq(n, "trainer-abc-eth0.train.example.net");
	ck_assert_int_eq(fqdn_of("{ip}.{pool}", "r", NULL, n, sizeof(n)), 0);
	ck_assert_str_eq(n, "10-10-0-5.pa.train.example.net");
	/* An empty label makes an empty DNS label: not a name. */
	ck_assert_int_eq(fqdn_of("{label:app}.x", "r", NULL, n, sizeof(n)),
	    -1);
}
END_TEST

/* A reload or a restart must not let a config pool meet a pool made at
 * run time: both would hand out the same addresses. */
START_TEST(test_pool_reload_conflict)
{
	static const char *const clash[][2] = {
		{ " prefix 10.30.0.0/24\n", "ipam pool cfg: prefix "
		  "10.30.0.0/24 overlaps prefix 10.30.0.0/29 of ipam pool rt "
		  "(tenant default)" },
		{ " vni 300\n prefix 10.60.0.0/24\n", "ipam pool cfg: vni 300 "
		  "is already used by ipam pool rt" },
	};
	char text[2048], err[512];
	struct config *next;
	json_t *j;

	ck_assert_int_eq(call("POST", "/v1/ipam/pools", "{\"name\": \"rt\", "
	    "\"vni\": 300, \"prefixes\": [\"10.30.0.0/29\"]}", &j), 201);
	json_decref(j);
	for (size_t i = 0; i < sizeof(clash) / sizeof(clash[0]); i++) {
		snprintf(text, sizeof(text), "ipam pool cfg\n%s!\n%s",
		    clash[i][0], conf_text);
		next = conf_parse_string(text, "next", err, sizeof(err));
		ck_assert_msg(next != NULL, "%s", err);
		ck_assert_int_eq(ipamd_reload_check(d.ipamd, d.conf, next, err,
		    sizeof(err)), -1);
		ck_assert_str_eq(err, clash[i][1]);
		conf_free(next);
	}
	/* Another tenant may reuse the prefix. */
	snprintf(text, sizeof(text), "ipam pool cfg\n tenant b\n prefix "
	    "10.30.0.0/24\n!\n%s", conf_text);
	next = conf_parse_string(text, "next", err, sizeof(err));
	ck_assert_msg(next != NULL, "%s", err);
	ck_assert_msg(ipamd_reload_check(d.ipamd, d.conf, next, err,
	    sizeof(err)) == 0, "%s", err);
	conf_free(next);
	/* Stopped, the file gains a clashing pool: the file wins, and the
	 * run-time pool is left out (its rows stay for an operator). */
	snprintf(text, sizeof(text), "ipam pool cfg\n%s!\n%s", clash[0][0],
	    conf_text);
	ipam_restart(text);
	expect("GET", "/v1/ipam/pools/rt", NULL, 404, NULL);
	j = get("/v1/ipam/pools/cfg");
	json_decref(j);
}
END_TEST

/* The DNS state of resource's allocation ("none" without one). */
static void
expect_dns(const char *resource, const char *state)
{
	char path[128];
	json_t *j;

	snprintf(path, sizeof(path), "/v1/ipam/allocations/%s", resource);
	ck_assert_int_eq(call("GET", path, NULL, &j), 200);
	ck_assert_msg(strcmp(jstr_of(j, "dns") ? jstr_of(j, "dns") : "none",
	    state) == 0, "%s: '%s', not '%s'", resource, jstr_of(j, "dns"),
	    state);
	json_decref(j);
}

/*
 * A name has one holder: an allocation asking for a name another one
 * registered (or the zone's apex) is refused and says so, the holder
 * keeps it, and once the holder is released the name goes to the
 * refused one.
 */
START_TEST(test_dns_name_holders)
{
	const char *taken = "failed: 'w.train.example.net' is registered "
	    "for another allocation";
	char ip[64];

	expect("POST", "/v1/ipam/pools", "{\"name\": \"dz\", "
	    "\"prefixes\": [\"10.61.0.0/24\"], \"dns\": {\"zone\": "
	    "\"train.example.net\", \"server\": \"127.0.0.1\", \"tsig\": "
	    "{\"algorithm\": \"hmac-sha256\", \"name\": \"evpnd\", "
	    "\"secret\": \"c2VjcmV0\"}}}", 201, NULL);
	ck_assert_ptr_nonnull(alloc("dz", "{\"resource\": \"r1\", "
	    "\"labels\": {\"dns-name\": \"w\"}}", ip, sizeof(ip)));
	expect_dns("r1", "pending");
	/* The same name, written absolute or in capitals. */
	ck_assert_ptr_nonnull(alloc("dz", "{\"resource\": \"r2\", "
	    "\"labels\": {\"dns-name\": \"w.train.example.net.\"}}", ip,
	    sizeof(ip)));
	expect_dns("r2", taken);
	ck_assert_ptr_nonnull(alloc("dz", "{\"resource\": \"r3\", "
	    "\"labels\": {\"dns-name\": \"W\"}}", ip, sizeof(ip)));
	expect_dns("r3", taken);
	ck_assert_ptr_nonnull(alloc("dz", "{\"resource\": \"r4\", "
	    "\"labels\": {\"dns-name\": \"Train.Example.Net.\"}}", ip,
	    sizeof(ip)));
	expect_dns("r4", "failed: 'train.example.net' is the apex of the "
	    "zone, not a name for an allocation");
	expect_dns("r1", "pending");
	/* A contender gives up; the holder goes: the name is r2's. */
	expect("DELETE", "/v1/ipam/allocations/r3", NULL, 204, NULL);
	expect_dns("r2", taken);
	expect("DELETE", "/v1/ipam/allocations/r1", NULL, 204, NULL);
	expect_dns("r2", "pending");
	ck_assert_ptr_nonnull(alloc("dz", "{\"resource\": \"r5\", "
	    "\"labels\": {\"dns-name\": \"w\"}}", ip, sizeof(ip)));
	expect_dns("r5", taken);
}
END_TEST

static Suite *
api_pools_suite(void)
{
	Suite *s = suite_create("api_pools");
	TCase *tc = tcase_create("pools");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, ipam_teardown);
	tcase_add_test(tc, test_pool_lifecycle);
	tcase_add_test(tc, test_pool_reload_conflict);
	tcase_add_test(tc, test_pool_bad_definitions);
	tcase_add_test(tc, test_pool_dns_definition);
	tcase_add_test(tc, test_pool_shadow);
	tcase_add_test(tc, test_pool_shadow_delete);
	tcase_add_test(tc, test_asked_and_labels);
	tcase_add_test(tc, test_label_pages);
	tcase_add_test(tc, test_dns_name_holders);
	suite_add_tcase(s, tc);
	tc = tcase_create("dns");
	tcase_add_test(tc, test_dns_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(api_pools_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
