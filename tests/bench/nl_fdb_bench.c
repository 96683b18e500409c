/*
 * netlink/'s FDB floor: add N remote MACs to an existing VXLAN device
 * through nl_fdb_replace() and time until the last ack.  Run by
 * tests/bench/bench_fdb_floor.sh inside a scratch network namespace.
 *
 * usage: nl_fdb_bench VXLAN_DEV COUNT
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/addr.h"
#include "common/log.h"
#include "common/util.h"
#include "netlink/nl.h"

int
main(int argc, char *argv[])
{
	struct nl_counters	 c;
	struct nl_ctx		*nl;
	struct macaddr		 m = { { 0x02, 0, 0, 0, 0, 0 } };
	struct ipaddr		 dst;
	char			 err[256];
	uint64_t		 t0, count;
	int			 ifindex;

	if (argc != 3 || parse_uint(argv[2], 1, 1 << 24, &count) == -1) {
		fprintf(stderr, "usage: nl_fdb_bench VXLAN_DEV COUNT\n");
		return 2;
	}
	log_init("nl_fdb_bench", LOG_DEST_STDOUT, NULL, LOG_WARNING);
	if ((nl = nl_create(NULL, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if ((ifindex = nl_link_index(nl, argv[1])) == 0) {
		fprintf(stderr, "%s: no such device\n", argv[1]);
		return 1;
	}
	ipaddr_parse("10.0.0.12", &dst);
	t0 = mono_msec();
	for (uint64_t i = 0; i < count; i++) {
		m.b[3] = (uint8_t)(i >> 16);
		m.b[4] = (uint8_t)(i >> 8);
		m.b[5] = (uint8_t)i;
		nl_fdb_replace(nl, ifindex, &m, &dst, false);
	}
	if (nl_wait_idle(nl, 600000) == -1)
		fprintf(stderr, "timed out\n");
	nl_get_counters(nl, &c);
	printf("netlink/: %llu entries in %.3f s (%llu acked, %llu failed)\n",
	    (unsigned long long)count, (double)(mono_msec() - t0) / 1000.0,
	    (unsigned long long)c.acked, (unsigned long long)c.failed);
	nl_free(nl);
	return c.failed == 0 ? 0 : 1;
}
