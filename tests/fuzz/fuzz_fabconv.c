/*
 * libFuzzer target for the values VTEPs publish under
 * P/convergence/ROUTER-ID (ipamd/fabric_conv_value.c): anyone who can
 * write to etcd writes these.  A value that parses must hold what the
 * parser promises (ordered quantiles within EVPN_CONV_MAX_MS, a
 * NUL-terminated router id), encode again and parse back the same; the
 * merge of what parsed must stay within the same bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evpn/evpn.h"
#include "ipamd/fabric_conv.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

static void
check_figures(const struct shadowd_convergence *c)
{
	CHECK(c->p50_ms <= c->p90_ms && c->p90_ms <= c->p99_ms);
	CHECK(c->p99_ms <= EVPN_CONV_MAX_MS);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fabric_conv_entry e[2];
	struct shadowd_convergence m;
	char *v;
	size_t n;

	if (fabric_conv_parse((const char *)data, len, &e[0]) == -1)
		return 0;
	CHECK(memchr(e[0].who.router_id, '\0', sizeof(e[0].who.router_id)));
	check_figures(&e[0].c);
	v = fabric_conv_encode(&e[0], &n);
	CHECK(fabric_conv_parse(v, n, &e[1]) == 0);
	free(v);
	CHECK(memcmp(&e[0].c, &e[1].c, sizeof(e[0].c)) == 0);
	CHECK(strcmp(e[0].who.router_id, e[1].who.router_id) == 0);
	n = fabric_conv_merge(e, 2, NULL, &m);
	CHECK(n == 0 || n == 2);
	if (n > 0)
		check_figures(&m);
	return 0;
}
