/*
 * Shadow inventory engine state from outside: a measured lead reaching
 * the decision (shadow_set_lead), the per-group expectations
 * (shadow_groups.c).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ipam/shadow.h"
#include "tests/unit/shadow_harness.h"

/*
 * A steady rate of requests: the lookahead is the lead, and a longer
 * measured lead makes the engine hold more units at once (the k-th
 * unit is held while P(N(lead) >= k) is high enough); a shorter one
 * gives them back.
 */
START_TEST(test_set_lead)
{
	struct shadow_params p;
	struct shadow_report r;
	struct sim s;
	uint32_t t1, t5;

	shadow_params_default(&p);
	p.adapt = false;
	sim_init(&s, &p, 1000000);
	sim_poisson(&s, 1.0, 1800);
	ck_assert_double_eq_tol(s.d.lookahead_s, 1.0, 1e-9);
	t1 = s.d.target;

	shadow_set_lead(s.sh, 5.0);
	s.lead_ms = 5000;
	sim_tick(&s);
	ck_assert_double_eq_tol(s.d.lookahead_s, 5.0, 1e-9);
	ck_assert_double_eq_tol(s.d.lead_s, 5.0, 1e-9);
	t5 = s.d.target;
	ck_assert_uint_gt(t5, t1 + 2);
	shadow_report(s.sh, &r);
	ck_assert_double_eq_tol(r.lead_s, 5.0, 1e-9);
	ck_assert_double_eq_tol(shadow_params(s.sh)->lead_s, 5.0, 1e-9);
	ck_assert_uint_eq(r.policy_changes, 1);

	/* The same lead again: nothing logged. */
	shadow_set_lead(s.sh, 5.0);
	shadow_report(s.sh, &r);
	ck_assert_uint_eq(r.policy_changes, 1);

	/* Through shadow_set_params too (a reload with a new lead). */
	p.lead_s = 0.2;
	shadow_set_params(s.sh, &p);
	sim_tick(&s);
	ck_assert_double_eq_tol(s.d.lookahead_s, 0.2, 1e-9);
	ck_assert_uint_lt(s.d.target, t5);
	ck_assert_uint_gt(s.d.want_release, 0);

	/* Nonsense is refused, an overlong lead clamped. */
	shadow_set_lead(s.sh, NAN);
	shadow_set_lead(s.sh, -1);
	ck_assert_double_eq_tol(shadow_params(s.sh)->lead_s, 0.2, 1e-9);
	shadow_set_lead(s.sh, 1e6);
	ck_assert_double_eq(shadow_params(s.sh)->lead_s, SHADOW_LEAD_MAX_S);
	sim_done(&s);
}
END_TEST

static const struct shadow_group_view *
group_view(const struct shadow_group_view *v, size_t n, const char *label)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].label, label) == 0)
			return &v[i];
	ck_abort_msg("no group %s", label);
	return NULL;
}

/* A run of n requests of group label at t (100 ms apart). */
static void
group_run(struct shadow *sh, uint64_t t, const char *label, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		shadow_group_request(sh, t + 100 * i, label);
}

/*
 * A job that scales by six every two minutes expects about 15 more in
 * 5 minutes (2.5 runs of 6), with a wide p90; a job that started once
 * expects nothing more once its run is over; the requests and what is
 * held follow requests and releases.
 */
START_TEST(test_groups_expectations)
{
	struct shadow_group_view v[SHADOW_GROUPS_MAX];
	const struct shadow_group_view *a, *b;
	struct shadow *sh = shadow_new(NULL, 1000);
	uint64_t t = 1000000;
	size_t n;

	group_run(sh, t, "job=once", 4);
	for (int k = 0; k < 60; k++) {
		group_run(sh, t, "job=llama-70b", 6);
		t += 120000;
		shadow_groups_tick(sh, t);
	}
	/* The first job's run is over; it released one. */
	shadow_group_release(sh, t, "job=once");
	shadow_group_release(sh, t, "job=nobody");	/* unknown: ignored */
	n = shadow_groups(sh, t, v, nitems(v));
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].label, "job=llama-70b");	/* label order */
	a = group_view(v, n, "job=llama-70b");
	b = group_view(v, n, "job=once");
	ck_assert_uint_eq(a->requests, 360);
	ck_assert_uint_eq(a->active, 360);
	ck_assert_double_eq(a->expected.window_s, 300);
	ck_assert_double_ge(a->expected.mean, 12);
	ck_assert_double_le(a->expected.mean, 18);
	ck_assert_double_ge(a->expected.p90, a->expected.mean);
	ck_assert_double_ge(a->expected.p90, 18);
	ck_assert_double_le(a->expected.p90, 30);
	ck_assert_double_eq(a->expected.pconf, a->expected.p90);
	ck_assert_uint_eq(b->requests, 4);
	ck_assert_uint_eq(b->active, 3);
	ck_assert_double_eq(b->expected.p90, 0);

	/* In the middle of a run of 6 after 2: the rest of it is expected
	 * at once. */
	group_run(sh, t, "job=llama-70b", 2);
	n = shadow_groups(sh, t + 200, v, nitems(v));
	a = group_view(v, n, "job=llama-70b");
	ck_assert_double_ge(a->expected.mean, 4 + 12);
	/* No label, an overlong one: no group. */
	shadow_group_request(sh, t, NULL);
	shadow_group_request(sh, t, "");
	{
		char big[SHADOW_GROUP_LABEL_MAX + 2];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		shadow_group_request(sh, t, big);
	}
	ck_assert_uint_eq(shadow_groups(sh, t, v, nitems(v)), 2);
	shadow_free(sh);
}
END_TEST

/*
 * At most SHADOW_GROUPS_MAX groups: a new one replaces an idle group
 * that holds nothing before one that holds something; groups that hold
 * nothing are dropped after an hour of quiet; the count the caller
 * makes at start replaces what the groups held.
 */
START_TEST(test_groups_bounded)
{
	struct shadow_group_view v[SHADOW_GROUPS_MAX + 8];
	struct shadow *sh = shadow_new(NULL, 1000);
	uint64_t t = 1000000;
	char label[32];
	size_t n;

	for (int i = 0; i < SHADOW_GROUPS_MAX; i++) {
		snprintf(label, sizeof(label), "job=j%02d", i);
		shadow_group_request(sh, t + (uint64_t)i * 10000, label);
	}
	/* j00 gives its address back: it is the one to go. */
	shadow_group_release(sh, t + 400000, "job=j00");
	shadow_group_request(sh, t + 500000, "app=new");
	n = shadow_groups(sh, t + 500000, v, nitems(v));
	ck_assert_uint_eq(n, SHADOW_GROUPS_MAX);
	ck_assert_uint_eq(shadow_groups_evicted(sh), 1);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_ne(v[i].label, "job=j00");
	ck_assert_str_eq(v[0].label, "app=new");
	/* All hold something: the quietest goes (j01). */
	shadow_group_request(sh, t + 600000, "app=newer");
	n = shadow_groups(sh, t + 600000, v, nitems(v));
	ck_assert_uint_eq(n, SHADOW_GROUPS_MAX);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_ne(v[i].label, "job=j01");

	/* The caller's count at start: only app=new holds two now. */
	shadow_groups_held_reset(sh);
	shadow_group_held(sh, t + 600000, "app=new", 2);
	shadow_groups_tick(sh, t + 600000 + 3600000);
	n = shadow_groups(sh, t + 600000 + 3600000, v, nitems(v));
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].label, "app=new");
	ck_assert_uint_eq(v[0].active, 2);
	shadow_free(sh);
}
END_TEST

static Suite *
shadow_state_suite(void)
{
	Suite *s = suite_create("shadow_state");
	TCase *tc = tcase_create("lead");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_set_lead);
	suite_add_tcase(s, tc);
	tc = tcase_create("groups");
	tcase_add_test(tc, test_groups_expectations);
	tcase_add_test(tc, test_groups_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(shadow_state_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
