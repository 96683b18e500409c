/* The bounds-checked reader and the growable writer. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/byteorder.h"

START_TEST(test_read_ints)
{
	const uint8_t b[] = { 1, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	    0x09, 0x0a };
	struct rbuf rb;
	uint8_t u8;
	uint16_t u16;
	uint32_t u24, u32;

	rbuf_init(&rb, b, sizeof(b));
	ck_assert_int_eq(rbuf_get_u8(&rb, &u8), 0);
	ck_assert_uint_eq(u8, 1);
	ck_assert_int_eq(rbuf_get_u16(&rb, &u16), 0);
	ck_assert_uint_eq(u16, 0x0203);
	ck_assert_int_eq(rbuf_get_u24(&rb, &u24), 0);
	ck_assert_uint_eq(u24, 0x040506);
	ck_assert_int_eq(rbuf_get_u32(&rb, &u32), 0);
	ck_assert_uint_eq(u32, 0x0708090a);
	ck_assert_uint_eq(rbuf_left(&rb), 0);
}
END_TEST

START_TEST(test_read_past_end_fails_without_moving)
{
	const uint8_t b[] = { 0xaa, 0xbb, 0xcc };
	struct rbuf rb;
	uint32_t u32 = 0x12345678;
	uint16_t u16;

	rbuf_init(&rb, b, sizeof(b));
	ck_assert_int_eq(rbuf_get_u32(&rb, &u32), -1);
	ck_assert_uint_eq(u32, 0x12345678);
	ck_assert_uint_eq(rbuf_left(&rb), 3);
	ck_assert_int_eq(rbuf_skip(&rb, 4), -1);
	ck_assert_int_eq(rbuf_skip(&rb, 2), 0);
	ck_assert_int_eq(rbuf_get_u16(&rb, &u16), -1);
	ck_assert_uint_eq(rbuf_left(&rb), 1);
}
END_TEST

START_TEST(test_slice_is_bounded)
{
	const uint8_t b[] = { 1, 2, 3, 4, 5 };
	struct rbuf rb, sub;
	uint16_t u16;
	uint8_t u8;

	rbuf_init(&rb, b, sizeof(b));
	ck_assert_int_eq(rbuf_slice(&rb, 6, &sub), -1);
	ck_assert_int_eq(rbuf_slice(&rb, 2, &sub), 0);
	ck_assert_uint_eq(rbuf_left(&rb), 3);
	ck_assert_int_eq(rbuf_get_u8(&sub, &u8), 0);
	/* Only one byte left in the slice, though the parent has more. */
	ck_assert_int_eq(rbuf_get_u16(&sub, &u16), -1);
	ck_assert_int_eq(rbuf_get_u8(&rb, &u8), 0);
	ck_assert_uint_eq(u8, 3);
}
END_TEST

START_TEST(test_write_and_backfill)
{
	struct wbuf wb;
	size_t off;
	const uint8_t want[] = { 0x01, 0x00, 0x07, 0xde, 0xad, 0xbe, 0xef,
	    0x00, 0x00, 0x01 };

	wbuf_init(&wb, 0);
	wbuf_put_u8(&wb, 1);
	off = wbuf_reserve(&wb, 2);
	wbuf_put_u32(&wb, 0xdeadbeef);
	wbuf_put_u24(&wb, 1);
	wbuf_set_u16(&wb, off, 7);
	ck_assert_int_eq(wb.error, 0);
	ck_assert_uint_eq(wb.len, sizeof(want));
	ck_assert_mem_eq(wb.data, want, sizeof(want));
	wbuf_free(&wb);
}
END_TEST

START_TEST(test_write_limit_sets_error)
{
	struct wbuf wb;
	uint8_t big[600];

	memset(big, 0x5a, sizeof(big));
	wbuf_init(&wb, 512);
	wbuf_put_bytes(&wb, big, 500);
	ck_assert_int_eq(wb.error, 0);
	wbuf_put_bytes(&wb, big, 13);
	ck_assert_int_eq(wb.error, 1);
	ck_assert_uint_eq(wb.len, 500);
	wbuf_put_u8(&wb, 1);		/* ignored once failed */
	ck_assert_uint_eq(wb.len, 500);
	wbuf_free(&wb);
}
END_TEST

/* Network order whatever the host's, at any alignment; and the u64
 * reader and writer built on it. */
START_TEST(test_byteorder)
{
	uint8_t b[9] = { 0 };
	struct wbuf wb;
	struct rbuf rb;
	uint64_t u64;

	be16_store(b + 1, 0x0102);
	be24_store(b + 3, 0xaa030405);
	ck_assert_mem_eq(b, "\0\x01\x02\x03\x04\x05", 6);
	ck_assert_uint_eq(be16_load(b + 1), 0x0102);
	ck_assert_uint_eq(be24_load(b + 3), 0x030405);
	be32_store(b + 1, 0xdeadbeef);
	ck_assert_mem_eq(b + 1, "\xde\xad\xbe\xef", 4);
	ck_assert_uint_eq(be32_load(b + 1), 0xdeadbeef);
	be64_store(b + 1, 0x0102030405060708ull);
	ck_assert_mem_eq(b + 1, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	ck_assert(be64_load(b + 1) == 0x0102030405060708ull);
	ck_assert(le64_load(b + 1) == 0x0807060504030201ull);

	wbuf_init(&wb, 0);
	wbuf_put_u64(&wb, 0x8877665544332211ull);
	wbuf_put_u24(&wb, 0x123456);
	ck_assert_mem_eq(wb.data, "\x88\x77\x66\x55\x44\x33\x22\x11"
	    "\x12\x34\x56", 11);
	rbuf_init(&rb, wb.data, wb.len);
	ck_assert_int_eq(rbuf_get_u64(&rb, &u64), 0);
	ck_assert(u64 == 0x8877665544332211ull);
	ck_assert_int_eq(rbuf_get_u64(&rb, &u64), -1);
	wbuf_free(&wb);
}
END_TEST

static Suite *
buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_read_ints);
	tcase_add_test(tc, test_read_past_end_fails_without_moving);
	tcase_add_test(tc, test_slice_is_bounded);
	tcase_add_test(tc, test_write_and_backfill);
	tcase_add_test(tc, test_write_limit_sets_error);
	tcase_add_test(tc, test_byteorder);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(buf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
