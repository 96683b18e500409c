/*
 * Captured datagrams kept as fixtures: one datagram per line in hex,
 * '#' lines are comments (tests/fixtures/softflowd_*.hex, made by
 * capture_softflowd.sh).  Shared by the telemetry tests.
 */
#ifndef TESTS_UNIT_FIXTURE_DGRAM_H
#define TESTS_UNIT_FIXTURE_DGRAM_H

#include <stddef.h>
#include <stdint.h>

#define FIXTURE_DGRAM_MAX	4096

/* Datagram line_no (0-based, comments not counted) of the fixture
 * $top_srcdir/tests/fixtures/name into out (FIXTURE_DGRAM_MAX bytes);
 * its length.  Fails the test when there is none. */
size_t		 fixture_dgram(const char *name, int line_no, uint8_t *out);

#endif
