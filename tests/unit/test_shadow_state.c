/*
 * Shadow inventory engine state from outside: a measured lead reaching
 * the decision (shadow_set_lead).
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

static Suite *
shadow_state_suite(void)
{
	Suite *s = suite_create("shadow_state");
	TCase *tc = tcase_create("lead");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_set_lead);
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
