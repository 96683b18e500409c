/* Captured datagrams kept as fixtures (fixture_dgram.h). */
#include "tests/unit/fixture_dgram.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

size_t
fixture_dgram(const char *name, int line_no, uint8_t *out)
{
	char		 path[1024], line[2 * FIXTURE_DGRAM_MAX + 16];
	const char	*top = getenv("top_srcdir");
	unsigned int	 byte;
	size_t		 n = 0;
	int		 k = 0;
	FILE		*f;

	snprintf(path, sizeof(path), "%s/tests/fixtures/%s",
	    top != NULL ? top : ".", name);
	ck_assert_msg((f = fopen(path, "r")) != NULL, "no fixture %s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || k++ != line_no)
			continue;
		for (char *p = line; sscanf(p, "%2x", &byte) == 1 &&
		    n < FIXTURE_DGRAM_MAX; p += 2)
			out[n++] = (uint8_t)byte;
		break;
	}
	fclose(f);
	ck_assert_uint_gt(n, 0);
	return n;
}
