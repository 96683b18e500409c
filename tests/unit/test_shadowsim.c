/*
 * shadowsim: the trace reader, the exact semantics of §6 on hand-made
 * traces (waits, hits, waste integrated to the millisecond, costs, the
 * baselines' refill rules, releases not feeding the warm set, pool
 * bounds from a config, the fabric queue, the oracle's schedule), and,
 * with the real ipam/shadow engine linked,
 * determinism (same trace and seed, same JSON bytes) and the guardrail
 * max-warm seen from outside.
 */
#include <check.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "tools/sim.h"

static void
parse_ok(struct sim_trace *tr, const char *text)
{
	char err[256] = "";

	ck_assert_msg(sim_trace_parse(tr, text, strlen(text), "t", err,
	    sizeof(err)) == 0, "%s", err);
}

/* A run with a 1 s base latency, seed 1, the fabric at rate routes/s
 * (0: no queue). */
static void
run_fabric(const char *text, const char *policy, double rate,
    struct sim_result *res)
{
	struct sim_trace	 tr;
	struct sim_options	 o;
	char			 err[256] = "";

	parse_ok(&tr, text);
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(sim_policy_parse(policy, &o.policy), 0);
	o.miss_delay_ms = SIM_DEFAULT_MISS_DELAY_MS;
	o.service_rate = rate;
	o.seed = 1;
	ck_assert_msg(sim_run(&tr, &o, res, err, sizeof(err)) == 0, "%s",
	    err);
	sim_trace_free(&tr);
}

static void
run_policy(const char *text, const char *policy, struct sim_result *res)
{
	run_fabric(text, policy, 0, res);
}

START_TEST(trace_times_exact)
{
	struct sim_trace tr;

	parse_ok(&tr, "time_s,vni,event,resource\n"
	    "1.5,100,alloc,a\r\n"
	    "2.0005,100,route_add,r\n"
	    "3,200,release,a\n"
	    "\n"
	    "4.0004,100,route_del,r");
	ck_assert_uint_eq(tr.nevents, 4);
	ck_assert_int_eq(tr.events[0].t_ms, 1500);
	ck_assert_int_eq(tr.events[1].t_ms, 2001);	/* half up */
	ck_assert_int_eq(tr.events[2].t_ms, 3000);
	ck_assert_int_eq(tr.events[3].t_ms, 4000);
	ck_assert_int_eq(tr.events[2].kind, SIM_EV_RELEASE);
	ck_assert_uint_eq(tr.events[0].resource, tr.events[2].resource);
	ck_assert_uint_eq(tr.nvnis, 2);
	ck_assert_uint_eq(tr.vnis[1], 200);
	sim_trace_free(&tr);
}
END_TEST

START_TEST(trace_sorted_stably)
{
	struct sim_trace tr;

	parse_ok(&tr, "5,100,alloc,x\n1,100,alloc,y\n5,100,release,y\n"
	    "1,100,alloc,z\n");
	ck_assert_int_eq(tr.events[0].t_ms, 1000);
	ck_assert_str_eq(tr.names[tr.events[0].resource], "y");
	ck_assert_str_eq(tr.names[tr.events[1].resource], "z");
	ck_assert_str_eq(tr.names[tr.events[2].resource], "x");
	ck_assert_int_eq(tr.events[3].kind, SIM_EV_RELEASE);
	sim_trace_free(&tr);
}
END_TEST

START_TEST(trace_errors)
{
	static const char *const bad[] = {
		"1,100,alloc\n",		/* 3 fields */
		"1,100,alloc,a,b\n",		/* 5 fields */
		"x,100,alloc,a\n",
		"1.2.3,100,alloc,a\n",
		"1,0,alloc,a\n",		/* VNI 0 */
		"1,16777216,alloc,a\n",		/* past 24 bits */
		"1,100,grab,a\n",
		"1,100,alloc,\n",
		"-1,100,alloc,a\n",
		"1,100,traffic,\n",		/* no rate */
		"1,100,traffic,abc\n",
		"1,100,traffic,-5\n",
		"1,100,traffic,nan\n",
		"1,100,traffic,1e5\n",		/* digits only */
		"1,100,traffic,5,6\n",
		"1,100,traffic,9999999999999\n",	/* past 1e12 */
		"1,100,neigh_miss,10.0.0.1\n",	/* no target */
		"1,100,neigh_miss,10.0.0.1,\n",
		"1,100,neigh_miss,10.0.0.1,host\n",
		"1,100,neigh_miss,10.0.0.300,10.0.0.2\n",
		"1,100,neigh_miss,10.0.0.1,10.0.0.2,x\n",
	};
	struct sim_trace tr;
	char		 err[256];

	for (size_t i = 0; i < nitems(bad); i++) {
		char text[128];

		snprintf(text, sizeof(text), "time_s,vni,event,resource\n"
		    "0.5,100,alloc,ok\n%s", bad[i]);
		ck_assert_int_eq(sim_trace_parse(&tr, text, strlen(text), "f",
		    err, sizeof(err)), -1);
		ck_assert_msg(strncmp(err, "f:3: ", 5) == 0, "%s", err);
	}
}
END_TEST

/* The telemetry events: a rate, two addresses (v4 or v6), in order. */
START_TEST(trace_signals_parsed)
{
	struct sim_trace tr;

	parse_ok(&tr, "time_s,vni,event,resource\n"
	    "1,100,traffic,5000\n"
	    "1.5,100,traffic,12.25\n"
	    "2,100,neigh_miss,10.0.0.1,10.0.0.9\n"
	    "3,100,neigh_miss,2001:db8::1,2001:db8::99\n"
	    "4,100,alloc,a\n");
	ck_assert_uint_eq(tr.nevents, 5);
	ck_assert_int_eq(tr.events[0].kind, SIM_EV_TRAFFIC);
	ck_assert(tr.events[0].value == 5000);
	ck_assert(tr.events[1].value == 12.25);
	ck_assert_int_eq(tr.events[2].kind, SIM_EV_NEIGH_MISS);
	ck_assert_str_eq(tr.names[tr.events[2].resource], "10.0.0.1");
	ck_assert_str_eq(tr.names[tr.events[2].target], "10.0.0.9");
	ck_assert_str_eq(tr.names[tr.events[3].target], "2001:db8::99");
	ck_assert_str_eq(sim_event_name(tr.events[1].kind), "traffic");
	ck_assert_str_eq(sim_event_name(tr.events[3].kind), "neigh_miss");
	sim_trace_free(&tr);
}
END_TEST

START_TEST(policy_strings)
{
	struct sim_policy p;
	char		  buf[64];

	ck_assert_int_eq(sim_policy_parse("static:12", &p), 0);
	ck_assert_int_eq(p.kind, SIM_POLICY_STATIC);
	ck_assert_uint_eq(p.k, 12);
	ck_assert_int_eq(sim_policy_parse("watermark:16:8", &p), 0);
	ck_assert_uint_eq(p.batch, 16);
	ck_assert_uint_eq(p.low, 8);
	ck_assert_str_eq(sim_policy_fmt(&p, buf, sizeof(buf)),
	    "watermark:16:8");
	ck_assert_int_eq(sim_policy_parse("shadow", &p), 0);
	ck_assert_int_eq(sim_policy_parse("oracle", &p), 0);
	ck_assert_int_eq(p.kind, SIM_POLICY_ORACLE);
	ck_assert_str_eq(sim_policy_fmt(&p, buf, sizeof(buf)), "oracle");
	ck_assert_int_eq(sim_policy_parse("static:", &p), -1);
	ck_assert_int_eq(sim_policy_parse("static:3x", &p), -1);
	ck_assert_int_eq(sim_policy_parse("watermark:16", &p), -1);
	ck_assert_int_eq(sim_policy_parse("watermark:0:8", &p), -1);
	ck_assert_int_eq(sim_policy_parse("magic", &p), -1);
}
END_TEST

START_TEST(ondemand_waits_full_delay)
{
	struct sim_result	 res;
	struct sim_figures	 f;

	run_policy("0.2,100,alloc,a\n0.3,100,alloc,b\n7.9,100,alloc,c\n"
	    "8,100,alloc,a\n", "ondemand", &res);
	sim_result_totals(&res, &f);
	ck_assert_uint_eq(f.requests, 3);	/* a again: skipped */
	ck_assert_uint_eq(res.pools[0].stats.skipped, 1);
	ck_assert_uint_eq(f.hits, 0);
	ck_assert_double_eq(f.waste_address_seconds, 0);
	ck_assert_double_eq(f.wait_seconds, 3.0);
	ck_assert_double_eq(f.p99_wait_ms, 1000);
	ck_assert_double_eq(f.cost, 300.0);
	ck_assert_int_eq(res.end_ms, 8000);
	sim_result_free(&res);
}
END_TEST

/*
 * static:2.  Tick 0 makes two (usable at 1.0).  0.5: the oldest is still
 * converging, wait 0.5 s.  Tick 1 tops up one (usable at 2.0).  1.2: the
 * one from tick 0 is usable, a hit.  1.3: the tick-1 one, wait 0.7 s.
 * Warm: 2 on [0,0.5), 1 on [0.5,1), 2 on [1,1.2), 1 on [1.2,1.3), then
 * 0 until the end at 2.0 s: 1000 + 500 + 400 + 100 = 2000 address-ms.
 */
START_TEST(static_semantics_exact)
{
	struct sim_result	 res;
	struct sim_figures	 f;

	run_policy("0.5,100,alloc,a\n1.2,100,alloc,b\n1.3,100,alloc,c\n",
	    "static:2", &res);
	sim_result_totals(&res, &f);
	ck_assert_uint_eq(f.requests, 3);
	ck_assert_uint_eq(f.hits, 1);
	ck_assert_uint_eq(res.pools[0].stats.waste_addr_ms, 2000);
	ck_assert_uint_eq(res.pools[0].stats.wait_ms, 1200);
	ck_assert_uint_eq(res.pools[0].stats.waits[0], 500);
	ck_assert_uint_eq(res.pools[0].stats.waits[1], 0);
	ck_assert_uint_eq(res.pools[0].stats.waits[2], 700);
	ck_assert_double_eq(f.mean_wait_ms, 400);
	ck_assert_double_eq(f.p99_wait_ms, 700);
	ck_assert_double_eq_tol(f.cost, 2.0 + 100 * 1.2, 1e-9);
	ck_assert_uint_eq(res.pools[0].stats.prealloc_made, 3);
	sim_result_free(&res);
}
END_TEST

/* A release goes back to the pool: the next request still converges. */
START_TEST(release_not_to_warm_set)
{
	struct sim_result res;

	run_policy("2,100,alloc,a\n2.5,100,release,a\n2.7,100,alloc,b\n"
	    "2.8,100,release,nobody\n", "static:1", &res);
	ck_assert_uint_eq(res.pools[0].stats.requests, 2);
	ck_assert_uint_eq(res.pools[0].stats.waits[0], 0);
	ck_assert_uint_eq(res.pools[0].stats.waits[1], 300);
	ck_assert_uint_eq(res.pools[0].stats.skipped, 1);
	sim_result_free(&res);
}
END_TEST

/* watermark:3:2 adds 3 only when fewer than 2 are warm, once a tick. */
START_TEST(watermark_refill)
{
	struct sim_result res;

	/* Tick 0: +3.  1.5, 1.6: two hits, one left.  Tick 2: 1 < 2, +3.
	 * Warm: 3 x 1.5 + 2 x 0.1 + 1 x 0.4 + 4 x 1.0 (to 3.0) = 9.1 s. */
	run_policy("1.5,100,alloc,a\n1.6,100,alloc,b\n3,100,route_add,r\n",
	    "watermark:3:2", &res);
	ck_assert_uint_eq(res.pools[0].stats.hits, 2);
	ck_assert_uint_eq(res.pools[0].stats.prealloc_made, 6);
	ck_assert_uint_eq(res.pools[0].stats.waste_addr_ms, 9100);
	sim_result_free(&res);
}
END_TEST

/*
 * The fabric at 10 routes/s: a remote add at 4.95 s is served until
 * 5.05; three requests at 5.0 queue behind it and each other, done at
 * 5.15, 5.25, 5.35, converged 1 s later.  Without a rate, 1 s each.
 */
START_TEST(fabric_queue_exact)
{
	static const char trace[] = "4.95,100,route_add,r\n"
	    "5,100,alloc,a\n5,100,alloc,b\n5,100,alloc,c\n";
	struct sim_result res;

	run_fabric(trace, "ondemand", 10, &res);
	ck_assert_uint_eq(res.pools[0].stats.waits[0], 1150);
	ck_assert_uint_eq(res.pools[0].stats.waits[1], 1250);
	ck_assert_uint_eq(res.pools[0].stats.waits[2], 1350);
	ck_assert_double_eq(res.service_rate, 10);
	sim_result_free(&res);
	run_fabric(trace, "ondemand", 0, &res);
	ck_assert_uint_eq(res.pools[0].stats.wait_ms, 3000);
	sim_result_free(&res);
}
END_TEST

/*
 * The oracle: each request's pre-allocation one lead time before it.
 * Three requests at 5 s on an idle fabric at 10/s need 1.1, 1.2 and
 * 1.3 s (they queue behind each other): every request is a hit with no
 * wait, and the waste is exactly the leads, 3.6 address-seconds.
 */
START_TEST(oracle_exact)
{
	struct sim_result res;

	run_fabric("5,100,alloc,a\n5,100,alloc,b\n5,100,alloc,c\n"
	    "9,100,release,a\n", "oracle", 10, &res);
	ck_assert_uint_eq(res.pools[0].stats.requests, 3);
	ck_assert_uint_eq(res.pools[0].stats.hits, 3);
	ck_assert_uint_eq(res.pools[0].stats.wait_ms, 0);
	ck_assert_uint_eq(res.pools[0].stats.waste_addr_ms, 3600);
	ck_assert_uint_eq(res.pools[0].stats.prealloc_made, 3);
	sim_result_free(&res);
	/* A request again by a holder is skipped: nothing made for it. */
	run_fabric("5,100,alloc,a\n6,100,alloc,a\n", "oracle", 0, &res);
	ck_assert_uint_eq(res.pools[0].stats.prealloc_made, 1);
	ck_assert_uint_eq(res.pools[0].stats.waste_addr_ms, 1000);
	sim_result_free(&res);
}
END_TEST

static char *
write_temp(const char *text)
{
	char	*path = xstrdup("/tmp/test_shadowsim_XXXXXX");
	int	 fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	return path;
}

static const char small_pool_conf[] =
	"ipam pool tiny\n"
	" vni 300\n"
	" prefix 10.1.0.0/30\n"
	" shadow\n"
	"  max-warm 3\n"
	"  max-pool-fraction 1\n"
	"  cost wastage 2 delay 50\n"
	" exit-shadow\n"
	"!\n"
	"ipam pool novni\n"
	" prefix 10.2.0.0/24\n";

/* A /30 has two usable addresses: static:5 can hold only those. */
START_TEST(config_pools_bound)
{
	struct sim_pool_conf	*pools;
	struct sim_trace	 tr;
	struct sim_options	 o;
	struct sim_result	 res;
	struct sim_figures	 f;
	size_t			 n;
	char			 err[256] = "", *path = write_temp(
	    small_pool_conf);

	ck_assert_msg(sim_pools_from_config(path, &pools, &n, err,
	    sizeof(err)) == 0, "%s", err);
	unlink(path);
	free(path);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(pools[0].size, 2);
	ck_assert_double_eq(pools[0].wastage_weight, 2);
	ck_assert_double_eq(pools[0].delay_weight, 50);
	parse_ok(&tr, "4,300,route_add,r\n4,999,alloc,elsewhere\n");
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(sim_policy_parse("static:5", &o.policy), 0);
	o.miss_delay_ms = 1000;
	o.pools = pools;
	o.npools = n;
	ck_assert_int_eq(sim_run(&tr, &o, &res, err, sizeof(err)), 0);
	ck_assert_uint_eq(res.skipped, 1);
	ck_assert_uint_eq(res.pools[0].stats.prealloc_made, 2);
	ck_assert_uint_eq(res.pools[0].stats.waste_addr_ms, 8000);
	sim_result_totals(&res, &f);
	ck_assert_double_eq(f.cost, 16.0);	/* wastage weight 2 */
	sim_result_free(&res);
	sim_trace_free(&tr);
	free(pools);
}
END_TEST

/* Gangs: remote adds 20 s ahead of local allocs, plus a background. */
static char *
synthetic_trace(void)
{
	size_t	 cap = 1 << 20, len = 0;
	char	*s = xmalloc(cap);
	int	 n = 0;

	len += (size_t)snprintf(s + len, cap - len,
	    "time_s,vni,event,resource\n");
	for (int t = 0; t < 3600; t++) {
		if (t % 37 == 0)
			len += (size_t)snprintf(s + len, cap - len,
			    "%d.250,100,alloc,bg-%d\n", t, n++);
		if (t % 300 == 10)
			for (int i = 0; i < 8; i++)
				len += (size_t)snprintf(s + len, cap - len,
				    "%d.%d00,100,route_add,rmt-%d-%d\n", t, i,
				    t, i);
		if (t % 300 == 30)
			for (int i = 0; i < 4; i++)
				len += (size_t)snprintf(s + len, cap - len,
				    "%d.%d00,100,alloc,job-%d-%d\n", t, 2 * i,
				    t, i);
	}
	return s;
}

static char *
shadow_json(const char *text, uint64_t seed, struct sim_result *keep)
{
	struct sim_trace	 tr;
	struct sim_options	 o;
	struct sim_result	 res;
	char			 err[256] = "", *json;

	parse_ok(&tr, text);
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(sim_policy_parse("shadow", &o.policy), 0);
	o.miss_delay_ms = 1000;
	o.seed = seed;
	ck_assert_msg(sim_run(&tr, &o, &res, err, sizeof(err)) == 0, "%s",
	    err);
	json = sim_result_json(&res);
	ck_assert_ptr_nonnull(json);
	if (keep != NULL)
		*keep = res;
	else
		sim_result_free(&res);
	sim_trace_free(&tr);
	return json;
}

START_TEST(shadow_deterministic)
{
	char		*text = synthetic_trace();
	char		*a = shadow_json(text, 7, NULL);
	char		*b = shadow_json(text, 7, NULL);
	json_t		*o;
	json_error_t	 jerr;

	ck_assert_str_eq(a, b);
	o = json_loads(a, 0, &jerr);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_string_value(json_object_get(o, "policy")),
	    "shadow");
	/* 98 background + 12 gangs x 4. */
	ck_assert_int_eq(json_integer_value(json_object_get(o, "requests")),
	    98 + 12 * 4);
	ck_assert(json_is_array(json_object_get(o, "anomalies")));
	ck_assert(json_is_object(json_object_get(json_object_get(o, "pools"),
	    "100")));
	json_decref(o);
	free(a);
	free(b);
	free(text);
}
END_TEST

/* Steps of 4 requests 30 s after the traffic rises by 4000 pps. */
static char *
traffic_trace(void)
{
	size_t	 cap = 1 << 20, len = 0;
	char	*s = xmalloc(cap);

	len += (size_t)snprintf(s + len, cap - len,
	    "time_s,vni,event,resource\n");
	for (int t = 0; t < 6 * 3600; t++) {
		int e = t / 600, in = t % 600;

		if (in % 5 == 0)
			len += (size_t)snprintf(s + len, cap - len,
			    "%d,100,traffic,%d\n", t, 5000 + (t * 7919 % 50) +
			    (in >= 100 && in < 400 ? 4000 : 0));
		for (int i = 0; i < 4 && in == 130; i++)
			len += (size_t)snprintf(s + len, cap - len,
			    "%d.%d00,100,alloc,ld-%d-%d\n", t, 2 * i, e, i);
		for (int i = 0; i < 4 && in == 450; i++)
			len += (size_t)snprintf(s + len, cap - len,
			    "%d.%d00,100,release,ld-%d-%d\n", t, 2 * i, e, i);
	}
	return s;
}

/* --no-traffic: the same trace without the telemetry hits less. */
START_TEST(shadow_traffic_helps)
{
	struct sim_result	 res[2];
	struct sim_trace	 tr;
	struct sim_options	 o;
	char			 err[256] = "", *text = traffic_trace();

	parse_ok(&tr, text);
	for (int i = 0; i < 2; i++) {
		memset(&o, 0, sizeof(o));
		ck_assert_int_eq(sim_policy_parse("shadow", &o.policy), 0);
		o.miss_delay_ms = SIM_DEFAULT_MISS_DELAY_MS;
		o.seed = 1;
		o.no_traffic = i == 1;
		ck_assert_msg(sim_run(&tr, &o, &res[i], err, sizeof(err)) ==
		    0, "%s", err);
		ck_assert_uint_eq(res[i].pools[0].stats.requests, 36 * 4);
	}
	ck_assert_msg(res[0].pools[0].stats.hits >=
	    res[1].pools[0].stats.hits + 20, "with %" PRIu64 " without %"
	    PRIu64, res[0].pools[0].stats.hits, res[1].pools[0].stats.hits);
	sim_result_free(&res[0]);
	sim_result_free(&res[1]);
	sim_trace_free(&tr);
	free(text);
}
END_TEST

/* The engine never holds more than max-warm: waste <= 3 x duration. */
START_TEST(shadow_guardrail_from_config)
{
	struct sim_pool_conf	*pools;
	struct sim_trace	 tr;
	struct sim_options	 o;
	struct sim_result	 res;
	size_t			 n;
	char			 err[256] = "", *text = synthetic_trace(),
				*path = write_temp(small_pool_conf);

	ck_assert_int_eq(sim_pools_from_config(path, &pools, &n, err,
	    sizeof(err)), 0);
	unlink(path);
	free(path);
	pools[0].vni = 100;	/* the synthetic trace's VNI */
	pools[0].size = 1000;
	parse_ok(&tr, text);
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(sim_policy_parse("shadow", &o.policy), 0);
	o.miss_delay_ms = 1000;
	o.pools = pools;
	o.npools = n;
	ck_assert_int_eq(sim_run(&tr, &o, &res, err, sizeof(err)), 0);
	ck_assert_uint_gt(res.pools[0].stats.prealloc_made, 0);
	ck_assert_uint_le(res.pools[0].stats.waste_addr_ms,
	    3 * (uint64_t)res.end_ms);
	sim_result_free(&res);
	sim_trace_free(&tr);
	free(pools);
	free(text);
}
END_TEST

static Suite *
shadowsim_suite(void)
{
	Suite	*s = suite_create("shadowsim");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, trace_times_exact);
	tcase_add_test(tc, trace_sorted_stably);
	tcase_add_test(tc, trace_errors);
	tcase_add_test(tc, trace_signals_parsed);
	tcase_add_test(tc, policy_strings);
	tcase_add_test(tc, ondemand_waits_full_delay);
	tcase_add_test(tc, static_semantics_exact);
	tcase_add_test(tc, release_not_to_warm_set);
	tcase_add_test(tc, watermark_refill);
	tcase_add_test(tc, fabric_queue_exact);
	tcase_add_test(tc, oracle_exact);
	tcase_add_test(tc, config_pools_bound);
	tcase_add_test(tc, shadow_deterministic);
	tcase_add_test(tc, shadow_guardrail_from_config);
	tcase_add_test(tc, shadow_traffic_helps);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(shadowsim_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
