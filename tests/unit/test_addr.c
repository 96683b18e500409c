/* Address, prefix, MAC, RD and RT text forms and their wire layout. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/addr.h"

START_TEST(test_ipaddr_roundtrip)
{
	struct ipaddr a;
	char buf[IPADDR_STRLEN];

	ck_assert_int_eq(ipaddr_parse("10.0.0.11", &a), 0);
	ck_assert_int_eq(a.af, AF_INET);
	ck_assert_uint_eq(ipaddr_v4_host(&a), 0x0a00000b);
	ck_assert_str_eq(ipaddr_fmt(&a, buf, sizeof(buf)), "10.0.0.11");
	ck_assert_int_eq(ipaddr_parse("2001:db8::1", &a), 0);
	ck_assert_int_eq(a.af, AF_INET6);
	ck_assert_str_eq(ipaddr_fmt(&a, buf, sizeof(buf)), "2001:db8::1");
	ck_assert_int_eq(ipaddr_parse("10.0.0.256", &a), -1);
	ck_assert_int_eq(ipaddr_parse("", &a), -1);
}
END_TEST

START_TEST(test_prefix_parse)
{
	struct prefix p;
	char buf[PREFIX_STRLEN];

	ck_assert_int_eq(prefix_parse("10.20.0.0/24", &p, false), 0);
	ck_assert_str_eq(prefix_fmt(&p, buf, sizeof(buf)), "10.20.0.0/24");
	ck_assert_int_eq(prefix_parse("10.20.0.1/24", &p, false), -1);
	ck_assert_int_eq(prefix_parse("10.20.0.1/24", &p, true), 0);
	ck_assert_str_eq(prefix_fmt(&p, buf, sizeof(buf)), "10.20.0.0/24");
	ck_assert_int_eq(prefix_parse("10.20.0.0/33", &p, false), -1);
	ck_assert_int_eq(prefix_parse("2001:db8:100::/64", &p, false), 0);
	ck_assert_int_eq(prefix_parse("2001:db8:100::/129", &p, false), -1);
	ck_assert_int_eq(prefix_parse("10.20.0.0", &p, false), -1);
}
END_TEST

START_TEST(test_mac_parse)
{
	struct macaddr m;
	char buf[MAC_STRLEN];

	ck_assert_int_eq(mac_parse("02:00:00:00:00:05", &m), 0);
	ck_assert_uint_eq(m.b[0], 2);
	ck_assert_uint_eq(m.b[5], 5);
	ck_assert_str_eq(mac_fmt(&m, buf, sizeof(buf)), "02:00:00:00:00:05");
	ck_assert_int_eq(mac_parse("02:00:00:00:00:5", &m), -1);
	ck_assert_int_eq(mac_parse("02:00:00:00:00:0g", &m), -1);
	ck_assert_int_eq(mac_parse("02-00-00-00-00-05", &m), -1);
}
END_TEST

START_TEST(test_rd_forms)
{
	struct rd rd;
	char buf[RD_STRLEN];
	const uint8_t type1[8] = { 0, 1, 10, 0, 0, 11, 0, 100 };
	const uint8_t type0[8] = { 0, 0, 0xfd, 0xe8, 0, 0, 0, 100 };
	const uint8_t type2[8] = { 0, 2, 0, 1, 0x86, 0xa0, 0, 7 };

	ck_assert_int_eq(rd_parse("10.0.0.11:100", &rd), 0);
	ck_assert_mem_eq(rd.b, type1, 8);
	ck_assert_str_eq(rd_fmt(&rd, buf, sizeof(buf)), "10.0.0.11:100");
	ck_assert_int_eq(rd_parse("65000:100", &rd), 0);
	ck_assert_mem_eq(rd.b, type0, 8);
	ck_assert_str_eq(rd_fmt(&rd, buf, sizeof(buf)), "65000:100");
	ck_assert_int_eq(rd_parse("100000:7", &rd), 0);
	ck_assert_mem_eq(rd.b, type2, 8);
	ck_assert_str_eq(rd_fmt(&rd, buf, sizeof(buf)), "100000:7");
	ck_assert_int_eq(rd_parse("100000:70000", &rd), -1);
	ck_assert_int_eq(rd_parse("10.0.0.11:70000", &rd), -1);
	ck_assert_int_eq(rd_parse("65000", &rd), -1);
	rd_make_ipv4(&rd, 0x0a00000b, 100);
	ck_assert_mem_eq(rd.b, type1, 8);
}
END_TEST

START_TEST(test_rt_forms)
{
	struct rt rt, made;
	char buf[RT_STRLEN];
	const uint8_t as2[8] = { 0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 100 };
	const uint8_t ip[8] = { 0x01, 0x02, 10, 0, 0, 1, 0, 5 };

	ck_assert_int_eq(rt_parse("65000:100", &rt), 0);
	ck_assert_mem_eq(rt.b, as2, 8);
	ck_assert_str_eq(rt_fmt(&rt, buf, sizeof(buf)), "65000:100");
	rt_make_as2(&made, 65000, 100);
	ck_assert_int_eq(rt_cmp(&rt, &made), 0);
	ck_assert_int_eq(rt_parse("10.0.0.1:5", &rt), 0);
	ck_assert_mem_eq(rt.b, ip, 8);
	ck_assert_int_eq(rt_parse("4200000000:5", &rt), 0);
	ck_assert_uint_eq(rt.b[0], 0x02);
	ck_assert_str_eq(rt_fmt(&rt, buf, sizeof(buf)), "4200000000:5");
	ck_assert_int_eq(rt_parse("x:5", &rt), -1);
}
END_TEST

static Suite *
addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_ipaddr_roundtrip);
	tcase_add_test(tc, test_prefix_parse);
	tcase_add_test(tc, test_mac_parse);
	tcase_add_test(tc, test_rd_forms);
	tcase_add_test(tc, test_rt_forms);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(addr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
