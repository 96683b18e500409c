/*
 * Byte fixtures of the unit tests: messages captured from real peers,
 * kept as hex under $top_srcdir/tests/fixtures (the current directory
 * when top_srcdir is not set), one message a line, '#' lines comments.
 * A missing file or a fixture larger than the buffer fails the test.
 */
#ifndef TESTS_UNIT_FIXTURE_H
#define TESTS_UNIT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#define FIXTURE_DGRAM_MAX	4096	/* a captured datagram */

/* All of the fixture's lines, one after another; returns the length. */
size_t	fixture_hex(const char *name, uint8_t *out, size_t max);
/* Its idx-th line (from 0) alone; fails the test if there is none. */
size_t	fixture_hex_line(const char *name, int idx, uint8_t *out,
	    size_t max);

#endif
