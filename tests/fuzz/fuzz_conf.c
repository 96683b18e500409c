/*
 * libFuzzer target for the config parser and printer.  Besides memory
 * safety it checks the printer's promise: whatever parses prints text
 * that parses again and prints the same bytes (a fixed point).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char err[512], *text, *printed, *again;
	struct config *c, *c2;

	/* The string API stops at a NUL; the parser itself rejects one. */
	text = malloc(len + 1);
	memcpy(text, data, len);
	text[len] = '\0';
	c = conf_parse_string(text, "fuzz.conf", err, sizeof(err));
	free(text);
	if (c == NULL)
		return 0;
	printed = conf_print_string(c);
	c2 = conf_parse_string(printed, "printed.conf", err, sizeof(err));
	if (c2 == NULL)
		abort();	/* the printer wrote something unparsable */
	again = conf_print_string(c2);
	if (strcmp(printed, again) != 0)
		abort();	/* not a fixed point */
	free(again);
	free(printed);
	conf_free(c2);
	conf_free(c);
	return 0;
}
