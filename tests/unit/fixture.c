/*
 * Byte fixtures of the unit tests (see fixture.h).
 */
#include "tests/unit/fixture.h"

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

static FILE *
fixture_open(const char *name)
{
	const char *top = getenv("top_srcdir");
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/fixtures/%s",
	    top != NULL ? top : ".", name);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open fixture %s", path);
	return f;
}

/* The hex digit pairs at the start of s. */
static size_t
hex_line(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (isxdigit((unsigned char)s[0]) && isxdigit((unsigned char)s[1])) {
		unsigned v;

		ck_assert_uint_lt(n, max);
		ck_assert_int_eq(sscanf(s, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

/* Lines idx.. of the fixture (all of them when idx is -1, else one). */
static size_t
fixture_read(const char *name, int idx, uint8_t *out, size_t max)
{
	FILE *f = fixture_open(name);
	char line[16384];
	size_t n = 0;

	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (idx == -1)
			n += hex_line(line, out + n, max - n);
		else if (idx-- == 0) {
			n = hex_line(line, out, max);
			break;
		}
	}
	fclose(f);
	return n;
}

size_t
fixture_hex(const char *name, uint8_t *out, size_t max)
{
	return fixture_read(name, -1, out, max);
}

size_t
fixture_hex_line(const char *name, int idx, uint8_t *out, size_t max)
{
	size_t n;

	ck_assert_int_ge(idx, 0);
	n = fixture_read(name, idx, out, max);
	ck_assert_msg(n > 0, "%s: no line %d", name, idx);
	return n;
}
