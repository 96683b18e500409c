/*
 * Helpers of the unit tests that run against the real kernel in a
 * private network namespace (test_netlink, test_dataplane): shell
 * commands that must succeed, iproute2's JSON output, addresses from
 * text and a raw ARP request on the wire.  Every helper fails the test
 * instead of returning an error.  Header-only, for the two programs
 * are built from different folders' Makemodule.am.
 */
#ifndef TESTS_UNIT_KERNEL_TEST_H
#define TESTS_UNIT_KERNEL_TEST_H

#include <check.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>

#include <jansson.h>

#include "common/addr.h"
#include "common/log.h"

/* Run a shell command; it must exit 0. */
static inline void
kt_sh(const char *cmd)
{
	ck_assert_msg(system(cmd) == 0, "command failed: %s", cmd);
}

/* The JSON a command prints (iproute2's -j); the caller frees it. */
static inline json_t *
kt_json(const char *cmd)
{
	static char	 buf[1 << 20];
	size_t		 n;
	FILE		*p = popen(cmd, "r");
	json_t		*j;

	ck_assert_ptr_nonnull(p);
	n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	pclose(p);
	j = json_loads(buf, 0, NULL);
	ck_assert_msg(j != NULL, "%s: not JSON: %s", cmd, buf);
	return j;
}

static inline struct ipaddr
kt_ip(const char *s)
{
	struct ipaddr	 a;

	ck_assert_int_eq(ipaddr_parse(s, &a), 0);
	return a;
}

static inline struct macaddr
kt_mac(const char *s)
{
	struct macaddr	 m;

	ck_assert_int_eq(mac_parse(s, &m), 0);
	return m;
}

/* A broadcast ARP request for tip from a host (smac, sip) behind ifname,
 * as raw bytes on the wire. */
static inline void
kt_send_arp(const char *ifname, const char *smac, const char *sip,
    const char *tip)
{
	uint8_t			 f[42] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct macaddr		 m = kt_mac(smac);
	struct ipaddr		 s = kt_ip(sip), t = kt_ip(tip);
	struct sockaddr_ll	 sll = { .sll_family = AF_PACKET,
	    .sll_ifindex = (int)if_nametoindex(ifname), .sll_halen = 6 };
	static const uint8_t	 arp_hdr[] = { 0x08, 0x06, 0, 1, 0x08, 0, 6, 4,
	    0, 1 };
	int			 fd;

	memcpy(f + 6, m.b, 6);
	memcpy(f + 12, arp_hdr, sizeof(arp_hdr));
	memcpy(f + 22, m.b, 6);
	memcpy(f + 28, s.u.b, 4);
	memcpy(f + 38, t.u.b, 4);
	memset(sll.sll_addr, 0xff, 6);
	ck_assert_int_ge(fd = socket(AF_PACKET, SOCK_RAW, 0), 0);
	ck_assert_int_eq(sendto(fd, f, sizeof(f), 0, (struct sockaddr *)&sll,
	    sizeof(sll)), (ssize_t)sizeof(f));
	close(fd);
}

/* The main of a kernel test: runs the suite, each case in a process of
 * its own (it unshares a network namespace); 77 (skipped) when not root
 * or when CK_FORK=no. */
static inline int
kt_main(const char *prog, Suite *(*suite)(void))
{
	SRunner	*sr;
	int	 failed;

	if (geteuid() != 0 || unshare(0) != 0) {
		fprintf(stderr, "%s: needs root, skipped\n", prog);
		return 77;
	}
	if (getenv("CK_FORK") != NULL && strcmp(getenv("CK_FORK"), "no") == 0)
		return 77;
	log_init(prog, LOG_DEST_STDOUT, NULL, LOG_WARNING);
	sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
