/*
 * Config parser and printer: golden round trips (tests/conf/NAME.conf
 * prints as NAME.golden, and the golden file is a fixed point), exact
 * error messages for bad input, and the parsed values themselves.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf/conf.h"

static char *
read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text;
	long len;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = calloc(1, (size_t)len + 1);
	ck_assert_uint_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return text;
}

static void
conf_path(char *buf, size_t len, const char *name, const char *ext)
{
	const char *top = getenv("top_srcdir");

	snprintf(buf, len, "%s/tests/conf/%s.%s", top ? top : ".", name, ext);
}

/* Parse a string that must be valid. */
static struct config *
parse_ok(const char *text)
{
	char err[512];
	struct config *c = conf_parse_string(text, "evpnd.conf", err,
	    sizeof(err));

	ck_assert_msg(c != NULL, "unexpected error: %s", err);
	return c;
}

/* Golden files */

static const char *const golden_names[] = {
	"session",		/* the foundation issue's leaf */
	"evpn_full",		/* every statement of the EVPN grammar */
	"comments",		/* comments, indentation, implicit exits */
	"mixed_order",		/* blocks out of order, unsorted lists */
	"defaults",		/* explicit defaults vanish */
	"ipam",			/* ipam pools, shadow blocks, api listen */
	"api",			/* api listen with a crl, api clients */
	"fabric",		/* ipam datastore, fabric pools */
	"limits",		/* maximum-prefix, send hold time */
	"telemetry",		/* flow collector, samplers, window */
	"telemetry_default",	/* explicit defaults of telemetry */
};

START_TEST(test_golden)
{
	char in[1024], gold[1024], err[512];
	char *expect, *text, *again;
	struct config *c, *c2;

	conf_path(in, sizeof(in), golden_names[_i], "conf");
	conf_path(gold, sizeof(gold), golden_names[_i], "golden");
	c = conf_parse_file(in, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	expect = read_text(gold);
	text = conf_print_string(c);
	ck_assert_str_eq(text, expect);

	/* The golden text is a fixed point of parse + print. */
	c2 = conf_parse_file(gold, err, sizeof(err));
	ck_assert_msg(c2 != NULL, "%s", err);
	again = conf_print_string(c2);
	ck_assert_str_eq(again, expect);

	free(again);
	free(text);
	free(expect);
	conf_free(c2);
	conf_free(c);
}
END_TEST

/* Errors: each input with its exact message */

struct bad_case {
	const char	*text;
	const char	*error;
};

#define BGP	"router bgp 65000\n neighbor 10.0.0.1 remote-as 65000\n"

static const struct bad_case bad_cases[] = {
	{ "hostname l1\nrouter bgp 65000\n neighbr 10.0.0.1 remote-as 65000\n",
	  "evpnd.conf:3: unknown command 'neighbr 10.0.0.1 remote-as 65000'" },
	{ "router bgp 65000\n bgp router-id 10.0.0.300\n",
	  "evpnd.conf:2: invalid IPv4 address '10.0.0.300' in "
	  "'bgp router-id 10.0.0.300'" },
	{ "router bgp 65000\n bgp router-id 2001:db8::1\n",
	  "evpnd.conf:2: invalid IPv4 address '2001:db8::1' in "
	  "'bgp router-id 2001:db8::1'" },
	{ "router bgp 0\n",
	  "evpnd.conf:1: invalid AS number '0' in 'router bgp 0' "
	  "(1..4294967295)" },
	{ "router bgp 4294967296\n",
	  "evpnd.conf:1: invalid AS number '4294967296' in "
	  "'router bgp 4294967296' (1..4294967295)" },
	{ "router bgp 1.10\n",
	  "evpnd.conf:1: invalid AS number '1.10' in 'router bgp 1.10' "
	  "(1..4294967295)" },
	{ "hostname\n",
	  "evpnd.conf:1: incomplete command 'hostname'" },
	{ "hostname a b\n",
	  "evpnd.conf:1: unexpected 'b' in 'hostname a b'" },
	{ "router bgp\n",
	  "evpnd.conf:1: incomplete command 'router bgp'" },
	{ "router bgp 65000 vrf\n",
	  "evpnd.conf:1: incomplete command 'router bgp 65000 vrf'" },
	{ "router bgp 65000 view x\n",
	  "evpnd.conf:1: unexpected 'view' in 'router bgp 65000 view x'" },
	{ "router bgp 65000\n neighbor 10.0.0.1\n",
	  "evpnd.conf:2: incomplete command 'neighbor 10.0.0.1'" },
	{ BGP " neighbor 10.0.0.1 passive now\n",
	  "evpnd.conf:3: unexpected 'now' in 'neighbor 10.0.0.1 passive now'" },
	{ "router bgp 65000\n neighbor 10.0.0.9 password x\n",
	  "evpnd.conf:2: neighbor 10.0.0.9 is not defined; add "
	  "'neighbor 10.0.0.9 remote-as ASN' first" },
	{ BGP " address-family l2vpn evpn\n  neighbor 10.0.0.9 activate\n",
	  "evpnd.conf:4: neighbor 10.0.0.9 is not defined; add "
	  "'neighbor 10.0.0.9 remote-as ASN' first" },
	{ "router bgp 65000\n neighbor 10.0.0.256 remote-as 65000\n",
	  "evpnd.conf:2: invalid IP address '10.0.0.256' in "
	  "'neighbor 10.0.0.256 remote-as 65000'" },
	{ BGP " neighbor 10.0.0.1 remote-as 65001\n",
	  "evpnd.conf:3: neighbor 10.0.0.1 is already defined with remote-as "
	  "65000 in 'neighbor 10.0.0.1 remote-as 65001'" },
	{ BGP " neighbor 10.0.0.1 timers 1 2\n",
	  "evpnd.conf:3: invalid holdtime '2' in "
	  "'neighbor 10.0.0.1 timers 1 2' (0 or 3..65535)" },
	{ BGP " neighbor 10.0.0.1 timers 0 1\n",
	  "evpnd.conf:3: invalid holdtime '1' in "
	  "'neighbor 10.0.0.1 timers 0 1' (0 or 3..65535)" },
	{ BGP " neighbor 10.0.0.1 timers 70000 90\n",
	  "evpnd.conf:3: invalid keepalive '70000' in "
	  "'neighbor 10.0.0.1 timers 70000 90' (0..65535)" },
	{ BGP " neighbor 10.0.0.1 timers connect 0\n",
	  "evpnd.conf:3: invalid connect-retry time '0' in "
	  "'neighbor 10.0.0.1 timers connect 0' (1..65535)" },
	{ BGP " neighbor 10.0.0.1 timers 3\n",
	  "evpnd.conf:3: incomplete command 'neighbor 10.0.0.1 timers 3'" },
	{ BGP " neighbor 10.0.0.1 timers send-hold 70000\n",
	  "evpnd.conf:3: invalid send hold time '70000' in "
	  "'neighbor 10.0.0.1 timers send-hold 70000' (0..65535)" },
	{ BGP " neighbor 10.0.0.1 timers send-hold 180\n",
	  "evpnd.conf:3: neighbor 10.0.0.1: send hold time 180 is not "
	  "greater than the hold time 180 (RFC 9687 4.4)" },
	{ BGP " neighbor 10.0.0.1 timers send-hold 20\n"
	  " neighbor 10.0.0.1 timers 10 30\n",
	  "evpnd.conf:3: neighbor 10.0.0.1: send hold time 20 is not "
	  "greater than the hold time 30 (RFC 9687 4.4)" },
	{ BGP " address-family l2vpn evpn\n"
	  "  neighbor 10.0.0.1 maximum-prefix 0\n",
	  "evpnd.conf:4: invalid prefix limit '0' in "
	  "'neighbor 10.0.0.1 maximum-prefix 0' (1..4294967295)" },
	{ BGP " address-family l2vpn evpn\n"
	  "  neighbor 10.0.0.1 maximum-prefix 10 101\n",
	  "evpnd.conf:4: invalid threshold '101' in "
	  "'neighbor 10.0.0.1 maximum-prefix 10 101' (1..100)" },
	{ BGP " address-family l2vpn evpn\n"
	  "  neighbor 10.0.0.1 maximum-prefix 10 restart 0\n",
	  "evpnd.conf:4: invalid restart interval '0' in "
	  "'neighbor 10.0.0.1 maximum-prefix 10 restart 0' (1..65535)" },
	{ BGP " address-family l2vpn evpn\n"
	  "  neighbor 10.0.0.1 maximum-prefix 10 restart\n",
	  "evpnd.conf:4: incomplete command "
	  "'neighbor 10.0.0.1 maximum-prefix 10 restart'" },
	{ BGP " address-family l2vpn evpn\n"
	  "  neighbor 10.0.0.1 maximum-prefix 10 warning-only restart 1\n",
	  "evpnd.conf:4: unexpected 'restart' in "
	  "'neighbor 10.0.0.1 maximum-prefix 10 warning-only restart 1'" },
	{ BGP " address-family l2vpn evpn\n"
	  "  neighbor 10.0.0.1 maximum-prefix 10 force\n",
	  "evpnd.conf:4: unexpected 'force' in "
	  "'neighbor 10.0.0.1 maximum-prefix 10 force'" },
	{ BGP " neighbor 10.0.0.1 maximum-prefix 10\n",
	  "evpnd.conf:3: 'neighbor 10.0.0.1 maximum-prefix 10' is not valid "
	  "here; it belongs in an 'address-family ipv4 unicast' block, an "
	  "'address-family ipv6 unicast' block or an 'address-family l2vpn "
	  "evpn' block" },
	{ BGP " neighbor 10.0.0.1 port 65536\n",
	  "evpnd.conf:3: invalid port '65536' in "
	  "'neighbor 10.0.0.1 port 65536' (1..65535)" },
	{ BGP " neighbor 10.0.0.1 ebgp-multihop 256\n",
	  "evpnd.conf:3: invalid hop count '256' in "
	  "'neighbor 10.0.0.1 ebgp-multihop 256' (1..255)" },
	{ BGP " neighbor 10.0.0.1 update-source 2001:db8::1\n",
	  "evpnd.conf:3: update-source 2001:db8::1 is not of the address "
	  "family of neighbor 10.0.0.1 in "
	  "'neighbor 10.0.0.1 update-source 2001:db8::1'" },
	{ BGP " neighbor 10.0.0.1 password "
	  "123456789012345678901234567890123456789012345678901234567890"
	  "123456789012345678901\n",
	  "evpnd.conf:3: neighbor 10.0.0.1 password: one word of 1 to 80 "
	  "characters" },
	{ BGP " neighbor 10.0.0.1 password two words\n",
	  "evpnd.conf:3: neighbor 10.0.0.1 password: one word of 1 to 80 "
	  "characters" },
	{ BGP " neighbor 10.0.0.1 description "
	  "12345678901234567890123456789012345678901234567890"
	  "123456789012345678901234567890 1\n",
	  "evpnd.conf:3: description longer than 80 characters in "
	  "'neighbor 10.0.0.1 description "
	  "12345678901234567890123456789012345678901234567890"
	  "123456789012345678901234567890 1'" },
	{ "router bgp 65000\nexit\nrouter bgp 65000\n",
	  "evpnd.conf:3: duplicate 'router bgp 65000': the default instance "
	  "is already configured" },
	{ "router bgp 65000\nexit\nrouter bgp 65001\n",
	  "evpnd.conf:3: 'router bgp 65001': the default instance is already "
	  "'router bgp 65000'" },
	{ "vrf a\nrouter bgp 1 vrf a\nrouter bgp 2 vrf a\n",
	  "evpnd.conf:3: duplicate 'router bgp 2 vrf a': the instance for vrf "
	  "a is already configured" },
	{ "vni 100\n",
	  "evpnd.conf:1: 'vni 100' is not valid here; it belongs in an "
	  "'address-family l2vpn evpn' block, a 'vxlan' block, a 'vrf' "
	  "block or an 'ipam pool' block" },
	{ BGP " neighbor 10.0.0.1 activate\n",
	  "evpnd.conf:3: 'neighbor 10.0.0.1 activate' is not valid here; it "
	  "belongs in an 'address-family ipv4 unicast' block, an "
	  "'address-family ipv6 unicast' block or an 'address-family l2vpn "
	  "evpn' block" },
	{ "vxlan vx1\n vni 1\n router-mac 02:00:00:00:00:01\n",
	  "evpnd.conf:3: 'router-mac 02:00:00:00:00:01' is not valid here; it "
	  "belongs in a 'vrf' block" },
	{ "router bgp 65000\n address-family l2vpn evpn\n  network 10.0.0.0/8\n",
	  "evpnd.conf:3: 'network 10.0.0.0/8' is not valid here; it belongs "
	  "in an 'address-family ipv4 unicast' block or an 'address-family "
	  "ipv6 unicast' block" },
	{ "router bgp 65000\n rd 65000:1\n",
	  "evpnd.conf:2: 'rd 65000:1' is not valid here; it belongs in a "
	  "'vni' block of 'address-family l2vpn evpn'" },
	{ "vxlan vx1\n vni 1\nvxlan vx1\n",
	  "evpnd.conf:3: duplicate 'vxlan vx1': vxlan vx1 is already declared" },
	{ "vxlan a\n vni 100\nvxlan b\n vni 100\n",
	  "evpnd.conf:4: vni 100 is already used by vxlan a in 'vni 100'" },
	{ "vxlan a\n vni 100\n vni 101\n",
	  "evpnd.conf:3: vxlan a already has vni 100 in 'vni 101'" },
	{ "vxlan a\n vni 16777216\n",
	  "evpnd.conf:2: invalid VNI '16777216' in 'vni 16777216' "
	  "(1..16777215)" },
	{ "vxlan vx1\n bridge br1\n",
	  "evpnd.conf:1: vxlan vx1: no 'vni' statement" },
	{ "vxlan interface-name-16\n",
	  "evpnd.conf:1: invalid interface name 'interface-name-16' in "
	  "'vxlan interface-name-16' (1..15 characters, no '/')" },
	{ "vxlan a\n vni 1\n mtu 67\n",
	  "evpnd.conf:3: invalid MTU '67' in 'mtu 67' (68..65535)" },
	{ "vxlan a\n vni 1\n static-mac 02:00:00:00:00:0g\n",
	  "evpnd.conf:3: invalid MAC address '02:00:00:00:00:0g' in "
	  "'static-mac 02:00:00:00:00:0g'" },
	{ "vxlan a\n vni 1\n static-mac 02:00:00:00:00:01 ip\n",
	  "evpnd.conf:3: incomplete command 'static-mac 02:00:00:00:00:01 ip'" },
	{ "vxlan a\n vni 1\n static-mac 02:00:00:00:00:01\n"
	  " static-mac 02:00:00:00:00:01 sticky\n",
	  "evpnd.conf:4: duplicate static-mac 02:00:00:00:00:01 in "
	  "'static-mac 02:00:00:00:00:01 sticky'" },
	{ "vrf a\n vni 1\nvrf a\n",
	  "evpnd.conf:3: duplicate 'vrf a': vrf a is already declared" },
	{ "vrf tenant-a\n vni 5000\n table 10\n",
	  "evpnd.conf:2: vrf tenant-a: vni 5000 has no vxlan block" },
	{ "vxlan v\n vni 5\n svi-vrf nope\n",
	  "evpnd.conf:3: vxlan v: svi-vrf nope is not declared; add a "
	  "'vrf nope' block" },
	{ "vxlan v\n vni 5\n svi-vrf a\nvrf a\n vni 5\n",
	  "evpnd.conf:3: vxlan v: VNI 5 is the L3 VNI of vrf a; svi-vrf is "
	  "for L2 VNIs" },
	{ "vxlan v\n vni 5\nvrf a\n vni 5\nvrf b\n vni 5\n",
	  "evpnd.conf:6: vni 5 is already used by vrf a in 'vni 5'" },
	{ "vrf a\n table 254\n",
	  "evpnd.conf:2: table 254 is reserved (253 default, 254 main, "
	  "255 local) in 'table 254'" },
	{ "vrf a\n router-mac 01:00:5e:00:00:01\n",
	  "evpnd.conf:2: MAC address '01:00:5e:00:00:01' is not a unicast "
	  "address in 'router-mac 01:00:5e:00:00:01'" },
	{ "router bgp 65000 vrf tenant-b\nexit\n",
	  "evpnd.conf:1: vrf tenant-b is not declared; add a 'vrf tenant-b' "
	  "block" },
	{ "vxlan v\n vni 5000\nvrf a\n vni 5000\nrouter bgp 1\n"
	  " address-family l2vpn evpn\n  vni 5000\n",
	  "evpnd.conf:7: vni 5000 is the L3 VNI of vrf a; it cannot also "
	  "have an L2 'vni' block" },
	{ "router bgp 1\n address-family l2vpn evpn\n  vni 10\n  exit-vni\n"
	  "  vni 10\n",
	  "evpnd.conf:5: duplicate 'vni 10': vni 10 is already configured" },
	{ "router bgp 1\n address-family l2vpn evpn\n  vni 10\n"
	  "   route-target import 65000\n",
	  "evpnd.conf:4: invalid route target '65000' in "
	  "'route-target import 65000'" },
	{ "router bgp 1\n address-family l2vpn evpn\n  vni 10\n"
	  "   route-target imports 1:1\n",
	  "evpnd.conf:4: invalid route-target direction 'imports' in "
	  "'route-target imports 1:1' (import, export or both)" },
	{ "router bgp 1\n address-family l2vpn evpn\n  vni 10\n"
	  "   rd 1.2.3:4\n",
	  "evpnd.conf:4: invalid route distinguisher '1.2.3:4' in "
	  "'rd 1.2.3:4'" },
	{ "router bgp 1\n address-family ipv4 unicast\n"
	  "  network 10.20.0.1/24\n",
	  "evpnd.conf:3: invalid IPv4 prefix '10.20.0.1/24' in "
	  "'network 10.20.0.1/24'" },
	{ "router bgp 1\n address-family ipv4\n  network 2001:db8::/32\n",
	  "evpnd.conf:3: invalid IPv4 prefix '2001:db8::/32' in "
	  "'network 2001:db8::/32'" },
	{ "router bgp 1\n address-family ipv4 multicast\n",
	  "evpnd.conf:2: unknown address family in 'address-family ipv4 "
	  "multicast' (ipv4 unicast, ipv6 unicast or l2vpn evpn)" },
	{ "vrf a\nrouter bgp 1 vrf a\n address-family l2vpn evpn\n"
	  "  advertise-all-vni\n",
	  "evpnd.conf:4: 'advertise-all-vni' is only valid in the default "
	  "instance (router bgp without vrf)" },
	{ "router bgp 1\n neighbor 10.0.0.2 remote-as 2\n"
	  " address-family l2vpn evpn\n"
	  "  neighbor 10.0.0.2 route-reflector-client\n",
	  "evpnd.conf:4: neighbor 10.0.0.2 is not internal (remote-as 2, "
	  "local AS 1); route-reflector-client needs an iBGP neighbor in "
	  "'neighbor 10.0.0.2 route-reflector-client'" },
	{ "vxlan v\n vni 1\n mac-limit many\n",
	  "evpnd.conf:3: invalid MAC limit 'many' in 'mac-limit many' "
	  "(0..16000000)" },
	{ "vxlan v\n vni 1\n mac-limit 16000001\n",
	  "evpnd.conf:3: invalid MAC limit '16000001' in "
	  "'mac-limit 16000001' (0..16000000)" },
	{ "vxlan v\n vni 1\n mac-limit\n",
	  "evpnd.conf:3: incomplete command 'mac-limit'" },
	{ "router bgp 1\n bgp graceful-restart rib-stale-time 0\n",
	  "evpnd.conf:2: invalid rib-stale-time '0' in "
	  "'bgp graceful-restart rib-stale-time 0' (1..3600)" },
	{ "vrf a\nrouter bgp 1 vrf a\n"
	  " bgp graceful-restart rib-stale-time 60\n",
	  "evpnd.conf:3: 'bgp graceful-restart rib-stale-time 60' is only "
	  "valid in the default instance (router bgp without vrf)" },
	{ "router bgp 1\n address-family l2vpn evpn\n"
	  "  dup-addr-detection max-moves 1 time 10\n",
	  "evpnd.conf:3: invalid max-moves '1' in "
	  "'dup-addr-detection max-moves 1 time 10' (2..1000)" },
	{ "router bgp 1\n address-family l2vpn evpn\n"
	  "  dup-addr-detection freeze 10\n",
	  "evpnd.conf:3: invalid freeze time '10' in "
	  "'dup-addr-detection freeze 10' (30..3600)" },
	{ "router bgp 1\n address-family l2vpn evpn\n"
	  "  convergence-sample 0\n",
	  "evpnd.conf:3: invalid convergence-sample '0' in "
	  "'convergence-sample 0' (1..65535)" },
	{ "vrf a\nrouter bgp 1 vrf a\n address-family l2vpn evpn\n"
	  "  no convergence-sample\n",
	  "evpnd.conf:4: 'no convergence-sample' is only valid in the default "
	  "instance (router bgp without vrf)" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n shadow\n  lead-time 0\n",
	  "evpnd.conf:4: invalid lead-time '0' in 'lead-time 0' "
	  "(1..300000)" },
	{ "router bgp 1\n address-family l2vpn evpn\n"
	  "  dup-addr-detection time\n",
	  "evpnd.conf:3: incomplete command 'dup-addr-detection time'" },
	{ "log stdout loud\n",
	  "evpnd.conf:1: invalid log level 'loud' in 'log stdout loud'" },
	{ "log console\n",
	  "evpnd.conf:1: unknown log destination 'console' in 'log console' "
	  "(stdout, syslog or file)" },
	{ "log file\n",
	  "evpnd.conf:1: incomplete command 'log file'" },
	{ "log syslog errors extra\n",
	  "evpnd.conf:1: unexpected 'extra' in 'log syslog errors extra'" },
	{ "hostname a\x01\n",
	  "evpnd.conf:1: invalid character 0x01" },
	{ "router bgp 65000\n bgp cluster-id 0.0.0.0\n",
	  "evpnd.conf:2: invalid cluster-id '0.0.0.0' in "
	  "'bgp cluster-id 0.0.0.0' (A.B.C.D or 1..4294967295)" },
	{ "exit-vni\n",
	  "evpnd.conf:1: 'exit-vni' is not valid here; it belongs in a 'vni' "
	  "block of 'address-family l2vpn evpn'" },
	/* ipam pools */
	{ "ipam pool a\n tenant t\n prefix 10.10.0.0/16\n"
	  "ipam pool b\n tenant t\n prefix 10.11.0.0/16\n"
	  " prefix 10.10.4.0/24\n",
	  "evpnd.conf:7: ipam pool b: prefix 10.10.4.0/24 overlaps prefix "
	  "10.10.0.0/16 of ipam pool a (tenant t)" },
	/* The tenant may come after the prefix. */
	{ "ipam pool a\n prefix 2001:db8::/48\n"
	  "ipam pool b\n prefix 2001:db8:0:1::/64\n tenant x\n"
	  "ipam pool c\n prefix 2001:db8::/32\n",
	  "evpnd.conf:7: ipam pool c: prefix 2001:db8::/32 overlaps prefix "
	  "2001:db8::/48 of ipam pool a (tenant default)" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n prefix 10.0.0.128/25\n",
	  "evpnd.conf:3: prefix 10.0.0.128/25 overlaps prefix 10.0.0.0/24 of "
	  "the same pool in 'prefix 10.0.0.128/25'" },
	{ "ipam pool a\n gateway 10.1.0.1\n prefix 10.0.0.0/24\n",
	  "evpnd.conf:2: ipam pool a: gateway 10.1.0.1 is outside the pool's "
	  "prefixes" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n exclude 10.0.0.5 10.0.1.9\n",
	  "evpnd.conf:3: ipam pool a: exclude 10.0.1.9 is outside the pool's "
	  "prefixes" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n exclude 10.0.0.9 10.0.0.5\n",
	  "evpnd.conf:3: invalid range in 'exclude 10.0.0.9 10.0.0.5' (first "
	  "<= last, one address family)" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n reserve 2001:db8::1 for x\n",
	  "evpnd.conf:3: ipam pool a: reserve 2001:db8::1 is outside the "
	  "pool's prefixes" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n reserve 10.0.0.3 to x\n",
	  "evpnd.conf:3: unexpected 'to' in 'reserve 10.0.0.3 to x' (reserve "
	  "IP for NAME)" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n reserve 10.0.0.3 for x\n"
	  " reserve 10.0.0.4 for x\n",
	  "evpnd.conf:4: duplicate reservation in 'reserve 10.0.0.4 for x'" },
	{ "ipam pool a\n tenant t\n",
	  "evpnd.conf:1: ipam pool a: no 'prefix' statement" },
	{ "ipam pool a\n prefix 10.0.0.0/24\nipam pool a\n",
	  "evpnd.conf:3: duplicate 'ipam pool a': ipam pool a is already "
	  "declared" },
	{ "ipam pool a/b\n",
	  "evpnd.conf:1: invalid pool name 'a/b' in 'ipam pool a/b' (1..63 "
	  "letters, digits, '.', '_' or '-')" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n mac-prefix 03:00:0a\n",
	  "evpnd.conf:3: mac-prefix '03:00:0a' is not locally administered "
	  "unicast (first byte: bit 0x02 set, bit 0x01 clear) in "
	  "'mac-prefix 03:00:0a'" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n mac-prefix 00:00:0a\n",
	  "evpnd.conf:3: mac-prefix '00:00:0a' is not locally administered "
	  "unicast (first byte: bit 0x02 set, bit 0x01 clear) in "
	  "'mac-prefix 00:00:0a'" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n mac-prefix 02:00:00:00:00:01\n",
	  "evpnd.conf:3: invalid mac-prefix '02:00:00:00:00:01' in "
	  "'mac-prefix 02:00:00:00:00:01' (1 to 5 bytes, as 02:00:0a)" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n mac-prefix 2:0\n",
	  "evpnd.conf:3: invalid mac-prefix '2:0' in 'mac-prefix 2:0' (1 to 5 "
	  "bytes, as 02:00:0a)" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n quarantine -1\n",
	  "evpnd.conf:3: invalid quarantine '-1' in 'quarantine -1' "
	  "(0..604800)" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n vni 5\n"
	  "ipam pool b\n prefix 10.1.0.0/24\n vni 5\n",
	  "evpnd.conf:6: vni 5 is already used by ipam pool a in 'vni 5'" },
	{ "ipam pool a\n prefix 0.0.0.0/0\n",
	  "evpnd.conf:2: invalid prefix '0.0.0.0/0' in 'prefix 0.0.0.0/0'" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n shadow\n confidence 1\n",
	  "evpnd.conf:4: invalid confidence '1' in 'confidence 1' "
	  "(0.000001..0.999999)" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n shadow\n confidence 0\n",
	  "evpnd.conf:4: invalid confidence '0' in 'confidence 0' "
	  "(0.000001..0.999999)" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n shadow\n confidence .5\n",
	  "evpnd.conf:4: invalid confidence '.5' in 'confidence .5' "
	  "(0.000001..0.999999)" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n shadow\n"
	  "  max-pool-fraction 1.5\n",
	  "evpnd.conf:4: invalid max-pool-fraction '1.5' in "
	  "'max-pool-fraction 1.5' (0..1)" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n shadow\n  min-warm 65\n",
	  "evpnd.conf:3: ipam pool a: shadow min-warm 65 is above max-warm 64" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n shadow\n  adapt maybe\n",
	  "evpnd.conf:4: invalid adapt 'maybe' in 'adapt maybe' (on or off)" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n shadow\n  jitter 0.6\n",
	  "evpnd.conf:4: invalid jitter '0.6' in 'jitter 0.6' (0..0.5)" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n shadow\n  model arima\n",
	  "evpnd.conf:4: invalid model 'arima' in 'model arima' (holt, "
	  "kalman, churn or ensemble)" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n shadow\n  group-by job=x\n",
	  "evpnd.conf:4: invalid label key 'job=x' in 'group-by job=x' (1 to "
	  "63 letters, digits, '.', '_', '/' or '-')" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n shadow\n  group-by job job\n",
	  "evpnd.conf:4: label key 'job' given twice in 'group-by job job'" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n shadow\n  mode eager\n",
	  "evpnd.conf:4: invalid mode 'eager' in 'mode eager' (active or "
	  "observe)" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n shadow\n  cost delay 1 "
	  "wastage 2\n",
	  "evpnd.conf:4: 'cost delay 1 wastage 2': expected 'cost wastage W "
	  "delay D'" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n shadow\n  cost wastage 0 "
	  "delay 0\n",
	  "evpnd.conf:4: 'cost wastage 0 delay 0': the weights cannot both "
	  "be 0" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n horizon 5\n",
	  "evpnd.conf:3: 'horizon 5' is not valid here; it belongs in a "
	  "'shadow' block of 'ipam pool'" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n dns zone z server 10.0.0.5 "
	  "tsig hmac-sha256 k\n",
	  "evpnd.conf:3: incomplete command 'dns zone ...' (dns zone ZONE "
	  "server ADDR tsig ALG NAME SECRET [reverse] [ttl N])" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n dns zone z srv 10.0.0.5 "
	  "tsig hmac-sha256 k c2VjcmV0\n",
	  "evpnd.conf:3: expected 'dns zone ZONE server ADDR tsig ALG NAME "
	  "SECRET [reverse] [ttl N]'" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n dns zone a..b server 10.0.0.5 "
	  "tsig hmac-sha256 k c2VjcmV0\n",
	  "evpnd.conf:3: invalid zone 'a..b' in 'dns zone ...' (a domain name: "
	  "labels of 1..63 letters, digits, '-' or '_', 253 characters at "
	  "most)" },
	/* Found by fuzz_conf: "b.." printed as "b." and reprinted as "b". */
	{ "ipam pool a\n prefix 10.0.0.0/24\n dns zone b.. server 10.0.0.5 "
	  "tsig hmac-sha256 k c2VjcmV0\n",
	  "evpnd.conf:3: invalid zone 'b..' in 'dns zone ...' (a domain name: "
	  "labels of 1..63 letters, digits, '-' or '_', 253 characters at "
	  "most)" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n dns zone z server 10.0.0.500 "
	  "tsig hmac-sha256 k c2VjcmV0\n",
	  "evpnd.conf:3: invalid server address '10.0.0.500' in 'dns zone "
	  "...'" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n dns zone z server 10.0.0.5 "
	  "tsig hmac-md5 k c2VjcmV0\n",
	  "evpnd.conf:3: invalid TSIG algorithm 'hmac-md5' in 'dns zone ...' "
	  "(hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384 or "
	  "hmac-sha512)" },
	/* The secret is never quoted. */
	{ "ipam pool a\n prefix 10.0.0.0/24\n dns zone z server 10.0.0.5 "
	  "tsig hmac-sha256 k s3cr3t!\n",
	  "evpnd.conf:3: invalid TSIG secret in 'dns zone ...' (base64, at "
	  "most 512 characters)" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n dns zone z server 10.0.0.5 "
	  "tsig hmac-sha256 k c2VjcmV0 ttl 0\n",
	  "evpnd.conf:3: invalid ttl '0' in 'dns zone ...' (1..86400)" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n dns zone z server 10.0.0.5 "
	  "tsig hmac-sha256 k c2VjcmV0 reverse reverse\n",
	  "evpnd.conf:3: unexpected 'reverse' in 'dns zone ...' (after the "
	  "secret: [reverse] [ttl N])" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n dns name-template {resource}\n",
	  "evpnd.conf:3: ipam pool a: 'dns name-template' needs a 'dns zone' "
	  "statement" },
	{ "ipam pool a\n prefix 10.0.0.0/24\n dns name-template {host}\n",
	  "evpnd.conf:3: invalid name template '{host}' in 'dns name-template "
	  "{host}' (letters, digits, '-', '_', '.' and {resource}, {pool}, "
	  "{ip}, {label:KEY}; 253 characters at most)" },
	/* fabric pools and the datastore */
	{ "ipam pool a\n prefix 10.0.0.0/22\n scope fabric\n",
	  "evpnd.conf:1: ipam pool a: scope fabric needs an 'ipam datastore "
	  "etcd' block" },
	{ "ipam pool a\n prefix 10.0.0.0/22\n block-size 24\n",
	  "evpnd.conf:1: ipam pool a: block-size, no borrow and "
	  "block-idle-release apply to 'scope fabric' pools only" },
	{ "ipam datastore etcd\n endpoint http://h:2379\n"
	  "ipam pool a\n prefix 10.0.0.0/28\n scope fabric\n",
	  "evpnd.conf:3: ipam pool a: prefix 10.0.0.0/28 is smaller than one "
	  "block (block-size 26: /26 blocks)" },
	{ "ipam datastore etcd\n endpoint http://h:2379\n"
	  "ipam pool a\n prefix 2001:db8::/124\n scope fabric\n",
	  "evpnd.conf:3: ipam pool a: prefix 2001:db8::/124 is smaller than "
	  "one block (block-size 26: /122 blocks)" },
	{ "ipam datastore etcd\n endpoint http://h:2379\n"
	  "ipam pool a\n prefix 10.0.0.0/16\n scope fabric\n"
	  " mac-prefix 02:00:00:00\n",
	  "evpnd.conf:3: ipam pool a: a 4-byte mac-prefix leaves 15 bits for "
	  "addresses, too few for the pool's 65536 IPv4 addresses (fabric "
	  "pools derive each MAC from its address)" },
	{ "ipam pool a\n prefix 10.0.0.0/22\n scope global\n",
	  "evpnd.conf:3: invalid scope 'global' in 'scope global' (local or "
	  "fabric)" },
	{ "ipam pool a\n prefix 10.0.0.0/22\n block-size 31\n",
	  "evpnd.conf:3: invalid block-size '31' in 'block-size 31' "
	  "(16..30)" },
	{ "ipam datastore etcd\n",
	  "evpnd.conf:1: ipam datastore: no 'endpoint' statement" },
	{ "ipam datastore consul\n",
	  "evpnd.conf:1: unknown datastore 'consul' in 'ipam datastore consul' "
	  "(etcd)" },
	{ "ipam datastore etcd\n endpoint http://h\nipam datastore etcd\n",
	  "evpnd.conf:3: duplicate 'ipam datastore etcd': there is one ipam "
	  "datastore" },
	{ "ipam datastore etcd\n endpoint 10.0.0.1:2379\n",
	  "evpnd.conf:2: invalid endpoint '10.0.0.1:2379' in 'endpoint "
	  "10.0.0.1:2379' (http://HOST:PORT or https://HOST:PORT, IPv6 as "
	  "[ADDR])" },
	{ "ipam datastore etcd\n endpoint http://[10.0.0.1]:2379\n",
	  "evpnd.conf:2: invalid endpoint 'http://[10.0.0.1]:2379' in "
	  "'endpoint http://[10.0.0.1]:2379' (http://HOST:PORT or "
	  "https://HOST:PORT, IPv6 as [ADDR])" },
	{ "ipam datastore etcd\n endpoint http://h:0\n",
	  "evpnd.conf:2: invalid endpoint 'http://h:0' in 'endpoint "
	  "http://h:0' (http://HOST:PORT or https://HOST:PORT, IPv6 as "
	  "[ADDR])" },
	{ "ipam datastore etcd\n endpoint http://h\n endpoint http://h\n",
	  "evpnd.conf:3: duplicate 'endpoint http://h'" },
	{ "ipam datastore etcd\n endpoint https://h:2379\n",
	  "evpnd.conf:1: ipam datastore: https endpoints need 'tls ca FILE'" },
	{ "ipam datastore etcd\n endpoint http://h\n key-prefix evpnd\n",
	  "evpnd.conf:3: invalid key-prefix 'evpnd' in 'key-prefix evpnd' "
	  "(/NAME[/NAME...], at most 128 characters: letters, digits, '.', "
	  "'_', '-')" },
	{ "ipam datastore etcd\n endpoint http://h\n key-prefix /a/\n",
	  "evpnd.conf:3: invalid key-prefix '/a/' in 'key-prefix /a/' "
	  "(/NAME[/NAME...], at most 128 characters: letters, digits, '.', "
	  "'_', '-')" },
	{ "ipam datastore etcd\n endpoint http://h\n tls cert c ca a\n",
	  "evpnd.conf:3: 'tls cert c ca a': tls cert and key go together" },
	{ "ipam datastore etcd\n endpoint http://h\n tls ca a ca b\n",
	  "evpnd.conf:3: 'tls ca a ca b': expected 'tls [cert FILE] [key "
	  "FILE] [ca FILE]', each once" },
	{ "ipam datastore etcd\n endpoint http://h\n block-size 24\n",
	  "evpnd.conf:3: 'block-size 24' is not valid here; it belongs in an "
	  "'ipam pool' block" },
	{ "api listen 0.0.0.0 8443 tls cert a key b\n",
	  "evpnd.conf:1: incomplete command 'api listen 0.0.0.0 8443 tls cert "
	  "a key b'" },
	{ "api listen 0.0.0.0 8443 tcp cert a key b client-ca c\n",
	  "evpnd.conf:1: 'api listen 0.0.0.0 8443 tcp cert a key b client-ca "
	  "c': only 'tls' listeners are allowed" },
	{ "api listen 0.0.0.0 8443 tls cert a key b cert c\n",
	  "evpnd.conf:1: 'cert' given twice in 'api listen 0.0.0.0 8443 tls "
	  "cert a key b cert c'" },
	{ "api listen 0.0.0.0 0 tls cert a key b client-ca c\n",
	  "evpnd.conf:1: invalid port '0' in 'api listen 0.0.0.0 0 tls cert a "
	  "key b client-ca c' (1..65535)" },
	{ "api listen 0.0.0.0 8443 tls cert a key b crl c\n",
	  "evpnd.conf:1: 'api listen 0.0.0.0 8443 tls cert a key b crl c' "
	  "needs cert, key and client-ca" },
	{ "api listen 0.0.0.0 8443 tls cert a key b client-ca c crl\n",
	  "evpnd.conf:1: incomplete command 'api listen 0.0.0.0 8443 tls cert "
	  "a key b client-ca c crl'" },
	{ "api listen 0.0.0.0 8443 tls cert a crl d key b crl e\n",
	  "evpnd.conf:1: 'crl' given twice in 'api listen 0.0.0.0 8443 tls "
	  "cert a crl d key b crl e'" },
	{ "api client a role\n",
	  "evpnd.conf:1: incomplete command 'api client a role'" },
	{ "api client a role root\n",
	  "evpnd.conf:1: invalid role 'root' in 'api client a role root' "
	  "(read, allocate or admin)" },
	{ "api client a rule read\n",
	  "evpnd.conf:1: unexpected 'rule' in 'api client a rule read' (api "
	  "client NAME role ROLE [tenant T ...])" },
	{ "api client a/b role read\n",
	  "evpnd.conf:1: invalid client name 'a/b' in 'api client a/b role "
	  "read' (1..253 letters, digits, '.', '-', '_' or '@': a "
	  "certificate's CN or DNS name)" },
	{ "api client a role read\napi client a role admin\n",
	  "evpnd.conf:2: duplicate 'api client a role admin': api client a "
	  "is already declared" },
	{ "api client a role read tenant\n",
	  "evpnd.conf:1: incomplete command 'api client a role read tenant'" },
	{ "api client a role read tenants x\n",
	  "evpnd.conf:1: unexpected 'tenants' in 'api client a role read "
	  "tenants x'" },
	{ "api client a role admin tenant x\n",
	  "evpnd.conf:1: 'api client a role admin tenant x': an admin client "
	  "sees every tenant; 'tenant' is for read and allocate clients" },
	{ "api client a role read tenant x y x\n",
	  "evpnd.conf:1: tenant 'x' repeated or beside '*' in 'api client a "
	  "role read tenant x y x'" },
	{ "api client a role read tenant x *\n",
	  "evpnd.conf:1: tenant '*' repeated or beside '*' in 'api client a "
	  "role read tenant x *'" },
	{ "api client a role allocate tenant x/y\n",
	  "evpnd.conf:1: invalid tenant 'x/y' in 'api client a role allocate "
	  "tenant x/y' (1..63 letters, digits, '.', '_' or '-', or '*')" },
	{ "telemetry\n",
	  "evpnd.conf:1: telemetry: neither a 'flow-collector' nor a "
	  "'sample bridge' statement" },
	{ "telemetry\n sample bridge br0 rate 10\ntelemetry\n",
	  "evpnd.conf:3: duplicate 'telemetry': there is one telemetry "
	  "block" },
	{ "telemetry\n flow-collector port 0\n",
	  "evpnd.conf:2: invalid port '0' in 'flow-collector port 0' "
	  "(1..65535)" },
	{ "telemetry\n flow-collector address 10.0.0.1\n",
	  "evpnd.conf:2: 'flow-collector address 10.0.0.1': the "
	  "flow-collector needs a port" },
	{ "telemetry\n flow-collector port 1 port 2\n",
	  "evpnd.conf:2: 'flow-collector port 1 port 2': expected "
	  "'flow-collector port PORT [address ADDR] [sampling N]', each "
	  "once" },
	{ "telemetry\n flow-collector port 4739 sampling\n",
	  "evpnd.conf:2: 'flow-collector port 4739 sampling': expected "
	  "'flow-collector port PORT [address ADDR] [sampling N]'" },
	{ "telemetry\n flow-collector port 4739 sampling 0\n",
	  "evpnd.conf:2: invalid sampling '0' in 'flow-collector port 4739 "
	  "sampling 0' (1..1000000)" },
	{ "telemetry\n flow-collector port 4739 address 10.0.0.300\n",
	  "evpnd.conf:2: invalid IP address '10.0.0.300' in 'flow-collector "
	  "port 4739 address 10.0.0.300'" },
	{ "telemetry\n flow-collector port 1\n flow-collector port 2\n",
	  "evpnd.conf:3: duplicate 'flow-collector port 2': there is one "
	  "flow-collector" },
	{ "telemetry\n sample bridge br0 rate 1000001\n",
	  "evpnd.conf:2: invalid rate '1000001' in 'sample bridge br0 rate "
	  "1000001' (0..1000000)" },
	{ "telemetry\n sample bridge br0\n",
	  "evpnd.conf:2: incomplete command 'sample bridge br0'" },
	{ "telemetry\n sample port br0 rate 1\n",
	  "evpnd.conf:2: 'sample port br0 rate 1': expected 'sample bridge "
	  "NAME rate N'" },
	{ "telemetry\n sample bridge a/b rate 1\n",
	  "evpnd.conf:2: invalid interface name 'a/b' in 'sample bridge a/b "
	  "rate 1' (1..15 characters, no '/')" },
	{ "telemetry\n sample bridge br0 rate 1\n sample bridge br0 rate 2\n",
	  "evpnd.conf:3: duplicate sampler for bridge br0 in 'sample bridge "
	  "br0 rate 2'" },
	{ "telemetry\n sample bridge br0 rate 1\n rate-window 0\n",
	  "evpnd.conf:3: invalid rate-window '0' in 'rate-window 0' "
	  "(1..600)" },
	{ "telemetry\n flow-collector port 1\n flow-exporter 10.0.0.1/8\n",
	  "evpnd.conf:3: invalid prefix '10.0.0.1/8' in 'flow-exporter "
	  "10.0.0.1/8' (an address with its length, host bits zero)" },
	{ "telemetry\n flow-collector port 1\n flow-exporter\n",
	  "evpnd.conf:3: incomplete command 'flow-exporter'" },
	{ "telemetry\n sample bridge br0 rate 1\n flow-exporter 10.0.0.0/8\n",
	  "evpnd.conf:1: telemetry: 'flow-exporter' without a "
	  "'flow-collector'" },
	{ "sample bridge br0 rate 1\n",
	  "evpnd.conf:1: 'sample bridge br0 rate 1' is not valid here; it "
	  "belongs in a 'telemetry' block" },
};

START_TEST(test_bad)
{
	const struct bad_case *bc = &bad_cases[_i];
	char err[512];
	struct config *c;

	memset(err, 'x', sizeof(err));
	c = conf_parse_string(bc->text, "evpnd.conf", err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, bc->error);
}
END_TEST

START_TEST(test_bad_line_limits)
{
	char err[512], *text;
	struct config *c;
	size_t i;

	/* A line of 4097 characters. */
	text = malloc(4200);
	strcpy(text, "hostname ");
	for (i = strlen(text); i < 4097; i++)
		text[i] = 'a';
	strcpy(text + i, "\n");
	c = conf_parse_string(text, "big.conf", err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "big.conf:1: line longer than 4096 characters");
	free(text);

	c = conf_parse_string("\n\nhostname a b c d e f g h i j k l m n o p "
	    "q r s t u v w x y z 1 2 3 4 5 6 7\n", "w.conf", err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "w.conf:3: more than 32 words in 'hostname a b "
	    "c d e f g h i j k l m n o p q r s t u v w x y z 1 2 3 4 5 6 7'");

	c = conf_parse_file("/nonexistent/evpnd.conf", err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "/nonexistent/evpnd.conf: No such file or "
	    "directory");
}
END_TEST

/* A NUL inside a file is reported, not taken as the end of the text. */
START_TEST(test_bad_nul_in_file)
{
	char path[] = "/tmp/test_conf_XXXXXX", err[512], want[600];
	static const char text[] = "hostname a\nhost\0name b\n";
	struct config *c;
	int fd = mkstemp(path);
	FILE *f;

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_uint_eq(fwrite(text, 1, sizeof(text) - 1, f),
	    sizeof(text) - 1);
	fclose(f);
	c = conf_parse_file(path, err, sizeof(err));
	unlink(path);
	ck_assert_ptr_null(c);
	snprintf(want, sizeof(want), "%s:2: invalid character 0x00", path);
	ck_assert_str_eq(err, want);
}
END_TEST

/* Values */

static const char full_text[] =
	"hostname l1\n"
	"log file /var/log/evpnd.log errors\n"
	"router bgp 65000\n"
	" bgp router-id 10.0.0.11\n"
	" bgp cluster-id 167772161\n"
	" bgp listen-address 10.0.0.11\n"
	" bgp listen-port 0\n"
	" bgp graceful-restart rib-stale-time 600\n"
	" neighbor 10.0.0.1 remote-as 65000\n"
	" neighbor 10.0.0.1 password s3cret\n"
	" neighbor 10.0.0.1 timers 3 9\n"
	" neighbor 10.0.0.1 timers connect 7\n"
	" neighbor 10.0.0.1 port 1179\n"
	" neighbor 10.0.0.1 passive\n"
	" neighbor 10.0.0.1 update-source 10.0.0.11\n"
	" neighbor 10.0.0.2 remote-as 65002\n"
	" neighbor 10.0.0.2 ebgp-multihop 2\n"
	" neighbor 10.0.0.2 shutdown\n"
	" address-family ipv4 unicast\n"
	"  neighbor 10.0.0.2 activate\n"
	" address-family l2vpn evpn\n"
	"  neighbor 10.0.0.1 activate\n"
	"  neighbor 10.0.0.1 route-reflector-client\n"
	"  neighbor 10.0.0.2 activate\n"
	"  advertise-all-vni\n"
	"  dup-addr-detection max-moves 7 time 60 freeze permanent\n"
	"  vni 100\n"
	"   rd 10.0.0.11:100\n"
	"   route-target import 65000:100\n"
	"   route-target both 4200000000:7\n"
	"   route-target export 10.0.0.11:9\n"
	"  exit-vni\n"
	" exit-address-family\n"
	"exit\n"
	"vxlan vx100\n"
	" vni 100\n"
	" bridge br100\n"
	" local-tunnel-ip 10.0.0.11\n"
	" dstport 8472\n"
	" mtu 1450\n"
	" arp-suppression\n"
	" mac-limit 250\n"
	" static-mac 02:00:00:00:00:05 ip 10.10.0.5\n"
	" static-mac 02:00:00:00:00:06 sticky\n"
	" static-mac 02:00:00:00:00:07 sticky ip 2001:db8::7\n"
	"vxlan vx5000\n"
	" vni 5000\n"
	"vrf tenant-a\n"
	" vni 5000\n"
	" table 1000\n"
	" router-mac 02:00:00:00:50:00\n"
	"router bgp 65000 vrf tenant-a\n"
	" address-family ipv6 unicast\n"
	"  network 2001:db8:20::/64\n"
	" address-family l2vpn evpn\n"
	"  advertise ipv4 unicast\n";

START_TEST(test_values_global)
{
	struct config *c = parse_ok(full_text);
	struct conf_bgp *bgp = conf_bgp_default(c);
	char buf[IPADDR_STRLEN];

	ck_assert_str_eq(c->hostname, "l1");
	ck_assert_int_eq(c->log_dest, LOG_DEST_FILE);
	ck_assert_str_eq(c->log_file, "/var/log/evpnd.log");
	ck_assert_int_eq(c->log_level, LOG_ERR);
	ck_assert_ptr_nonnull(bgp);
	ck_assert_ptr_eq(TAILQ_FIRST(&c->bgps), bgp);
	ck_assert_uint_eq(bgp->asn, 65000);
	ck_assert(bgp->has_router_id);
	ck_assert_uint_eq(ipaddr_v4_host(&bgp->router_id), 0x0a00000b);
	ck_assert_uint_eq(bgp->cluster_id, 167772161);	/* 10.0.0.1 */
	ck_assert_str_eq(ipaddr_fmt(&bgp->listen_addr, buf, sizeof(buf)),
	    "10.0.0.11");
	ck_assert_uint_eq(bgp->listen_port, 0);
	ck_assert_uint_eq(bgp->rib_stale_time, 600);
	conf_free(c);
}
END_TEST

START_TEST(test_values_neighbors)
{
	struct config *c = parse_ok(full_text);
	struct conf_bgp *bgp = conf_bgp_default(c);
	struct conf_neighbor *n1, *n2;
	struct ipaddr a;

	ipaddr_parse("10.0.0.1", &a);
	n1 = conf_neighbor_find(bgp, &a);
	ipaddr_parse("10.0.0.2", &a);
	n2 = conf_neighbor_find(bgp, &a);
	ck_assert_ptr_nonnull(n1);
	ck_assert_ptr_nonnull(n2);
	ck_assert_ptr_eq(TAILQ_FIRST(&bgp->neighbors), n1);
	ck_assert_uint_eq(n1->remote_as, 65000);
	ck_assert_str_eq(n1->password, "s3cret");
	ck_assert(n1->has_timers);
	ck_assert_uint_eq(n1->keepalive, 3);
	ck_assert_uint_eq(n1->holdtime, 9);
	ck_assert_uint_eq(conf_neighbor_keepalive(n1), 3);
	ck_assert_uint_eq(conf_neighbor_holdtime(n1), 9);
	ck_assert_uint_eq(n1->connect_retry, 7);
	ck_assert_uint_eq(n1->port, 1179);
	ck_assert(n1->passive);
	ck_assert(!n1->shutdown);
	ck_assert_uint_eq(ipaddr_v4_host(&n1->update_source), 0x0a00000b);
	ck_assert_uint_eq(n1->af_active, CONF_AF_L2VPN_EVPN);
	ck_assert_uint_eq(n1->af_rr_client, CONF_AF_L2VPN_EVPN);
	ck_assert(n1->af_rr_client != 0);	/* a client (in some family) */

	ck_assert_uint_eq(n2->remote_as, 65002);
	ck_assert_ptr_null(n2->password);
	ck_assert(!n2->has_timers);
	ck_assert_uint_eq(conf_neighbor_keepalive(n2), 60);
	ck_assert_uint_eq(conf_neighbor_holdtime(n2), 180);
	ck_assert_uint_eq(n2->connect_retry, CONF_DEFAULT_CONNECT_RETRY);
	ck_assert_uint_eq(n2->port, 179);
	ck_assert_uint_eq(n2->ebgp_multihop, 2);
	ck_assert(n2->shutdown);
	ck_assert(!ipaddr_is_set(&n2->update_source));
	ck_assert_uint_eq(n2->af_active,
	    CONF_AF_IPV4_UNICAST | CONF_AF_L2VPN_EVPN);
	ck_assert(n2->af_rr_client == 0);	/* a client in no family */
	conf_free(c);
}
END_TEST

START_TEST(test_values_evpn)
{
	static const uint8_t rd[8] = { 0, 1, 10, 0, 0, 11, 0, 100 };
	static const uint8_t rt_as2[8] = { 0x00, 0x02, 0xfd, 0xe8,
	    0, 0, 0, 100 };
	static const uint8_t rt_as4[8] = { 0x02, 0x02, 0xfa, 0x56,
	    0xea, 0x00, 0, 7 };
	static const uint8_t rt_ip[8] = { 0x01, 0x02, 10, 0, 0, 11, 0, 9 };
	struct config *c = parse_ok(full_text);
	struct conf_bgp *bgp = conf_bgp_default(c);
	struct conf_evpn_vni *v = TAILQ_FIRST(&bgp->evpn_vnis);
	struct conf_rt *rt;
	struct rt parsed;

	ck_assert(bgp->advertise_all_vni);
	ck_assert(bgp->dad.enabled);
	ck_assert_uint_eq(bgp->dad.max_moves, 7);
	ck_assert_uint_eq(bgp->dad.time, 60);
	ck_assert(bgp->dad.freeze_permanent);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(v->vni, 100);
	ck_assert(v->has_rd);
	ck_assert_mem_eq(v->rd.b, rd, 8);
	/* import: 65000:100, then "both" 4200000000:7 */
	rt = TAILQ_FIRST(&v->rt_import);
	ck_assert_mem_eq(rt->rt.b, rt_as2, 8);
	ck_assert_int_eq(rt_parse("65000:100", &parsed), 0);
	ck_assert_mem_eq(rt->rt.b, parsed.b, 8);
	rt = TAILQ_NEXT(rt, entry);
	ck_assert_mem_eq(rt->rt.b, rt_as4, 8);
	ck_assert_ptr_null(TAILQ_NEXT(rt, entry));
	/* export: "both" 4200000000:7, then 10.0.0.11:9 */
	rt = TAILQ_FIRST(&v->rt_export);
	ck_assert_mem_eq(rt->rt.b, rt_as4, 8);
	rt = TAILQ_NEXT(rt, entry);
	ck_assert_mem_eq(rt->rt.b, rt_ip, 8);
	ck_assert_ptr_null(TAILQ_NEXT(rt, entry));
	ck_assert_ptr_null(TAILQ_NEXT(v, entry));
	conf_free(c);
}
END_TEST

START_TEST(test_values_vxlan_vrf)
{
	static const uint8_t rmac[6] = { 2, 0, 0, 0, 0x50, 0 };
	struct config *c = parse_ok(full_text);
	struct conf_vxlan *vx = TAILQ_FIRST(&c->vxlans);
	struct conf_static_mac *m;
	struct conf_vrf *vrf;
	struct conf_bgp *bgp;
	char buf[IPADDR_STRLEN];

	ck_assert_str_eq(vx->name, "vx100");
	ck_assert_uint_eq(vx->vni, 100);
	ck_assert_str_eq(vx->bridge, "br100");
	ck_assert_str_eq(ipaddr_fmt(&vx->local_ip, buf, sizeof(buf)),
	    "10.0.0.11");
	ck_assert_uint_eq(vx->dstport, 8472);
	ck_assert_uint_eq(vx->mtu, 1450);
	ck_assert(vx->arp_suppression);
	ck_assert_uint_eq(vx->mac_limit, 250);
	m = TAILQ_FIRST(&vx->static_macs);
	ck_assert_uint_eq(m->mac.b[5], 5);
	ck_assert_str_eq(ipaddr_fmt(&m->ip, buf, sizeof(buf)), "10.10.0.5");
	ck_assert(!m->sticky);
	m = TAILQ_NEXT(m, entry);
	ck_assert_uint_eq(m->mac.b[5], 6);
	ck_assert_uint_eq(m->ip.af, 0);
	ck_assert(m->sticky);
	m = TAILQ_NEXT(m, entry);
	ck_assert_uint_eq(m->mac.b[5], 7);
	ck_assert_str_eq(ipaddr_fmt(&m->ip, buf, sizeof(buf)), "2001:db8::7");
	ck_assert(m->sticky);
	ck_assert_ptr_null(TAILQ_NEXT(m, entry));

	vx = TAILQ_NEXT(vx, entry);
	ck_assert_uint_eq(vx->dstport, CONF_DEFAULT_VXLAN_PORT);
	ck_assert_uint_eq(vx->mtu, 0);
	ck_assert_uint_eq(vx->mac_limit, CONF_DEFAULT_MAC_LIMIT);
	ck_assert_ptr_eq(conf_vxlan_by_vni(c, 5000), vx);

	vrf = conf_vrf_find(c, "tenant-a");
	ck_assert_ptr_nonnull(vrf);
	ck_assert_ptr_eq(conf_vrf_by_vni(c, 5000), vrf);
	ck_assert_ptr_null(conf_vrf_by_vni(c, 100));
	ck_assert_ptr_null(conf_vrf_find(c, "tenant-b"));
	ck_assert_uint_eq(vrf->table, 1000);
	ck_assert(vrf->has_router_mac);
	ck_assert_mem_eq(vrf->router_mac.b, rmac, 6);

	bgp = conf_bgp_vrf(c, "tenant-a");
	ck_assert_ptr_nonnull(bgp);
	ck_assert_ptr_eq(TAILQ_NEXT(conf_bgp_default(c), entry), bgp);
	ck_assert(bgp->advertise_ipv4);
	ck_assert(!bgp->advertise_ipv6);
	ck_assert(!bgp->advertise_all_vni);
	ck_assert_uint_eq(TAILQ_FIRST(&bgp->networks)->prefix.len, 64);
	ck_assert_ptr_eq(conf_bgp_vrf(c, NULL), conf_bgp_default(c));
	conf_free(c);
}
END_TEST

START_TEST(test_defaults)
{
	struct config *c = parse_ok("router bgp 65000\n"
	    " neighbor 2001:db8::1 remote-as 65001\n"
	    "vxlan v\n vni 1\n");
	struct conf_bgp *bgp = conf_bgp_default(c);
	struct conf_neighbor *n = TAILQ_FIRST(&bgp->neighbors);
	struct conf_vxlan *vx = TAILQ_FIRST(&c->vxlans);

	ck_assert_ptr_null(c->hostname);
	ck_assert_int_eq(c->log_dest, LOG_DEST_STDOUT);
	ck_assert_int_eq(c->log_level, LOG_INFO);
	ck_assert_uint_eq(bgp->listen_port, 179);
	ck_assert(!ipaddr_is_set(&bgp->listen_addr));
	ck_assert(!bgp->has_router_id);
	ck_assert_uint_eq(bgp->cluster_id, 0);
	ck_assert(bgp->dad.enabled);
	ck_assert_uint_eq(bgp->dad.max_moves, 5);
	ck_assert_uint_eq(bgp->dad.time, 180);
	ck_assert_uint_eq(bgp->dad.freeze, 0);
	ck_assert(!bgp->dad.freeze_permanent);
	ck_assert_int_eq(n->addr.af, AF_INET6);
	ck_assert_uint_eq(n->port, 179);
	ck_assert_uint_eq(n->connect_retry, 5);
	/* Nothing is active until "activate" says so. */
	ck_assert_uint_eq(n->af_active, 0);
	ck_assert_uint_eq(vx->dstport, 4789);
	ck_assert_uint_eq(vx->mac_limit, 10000);
	ck_assert_uint_eq(bgp->rib_stale_time, 120);
	ck_assert_ptr_null(conf_bgp_vrf(c, "x"));
	conf_free(c);

	c = parse_ok("! only comments\n# here\n\n");
	ck_assert(TAILQ_EMPTY(&c->bgps));
	ck_assert_ptr_null(conf_bgp_default(c));
	{
		char *text = conf_print_string(c);

		ck_assert_str_eq(text, "");
		free(text);
	}
	conf_free(c);
}
END_TEST

/* CRLF line ends, tabs, no final newline, '!' inside a value. */
START_TEST(test_lexical)
{
	struct config *c = parse_ok("hostname l1\r\n"
	    "router bgp 65000\r\n"
	    "\tneighbor 10.0.0.1 remote-as 65000\r\n"
	    "\tneighbor 10.0.0.1 password a!b#c\r\n"
	    "\tneighbor 10.0.0.1 description  rr # one\t two ");
	struct conf_neighbor *n = TAILQ_FIRST(&conf_bgp_default(c)->neighbors);

	ck_assert_str_eq(c->hostname, "l1");
	ck_assert_str_eq(n->password, "a!b#c");
	ck_assert_str_eq(n->description, "rr # one\t two");
	conf_free(c);
}
END_TEST

/* convergence-sample: the default prints nothing, "no" prints back. */
START_TEST(test_conv_sample_statements)
{
	struct config *c = parse_ok("router bgp 1\n address-family l2vpn evpn\n"
	    "  convergence-sample 16\n");
	char *text;

	ck_assert_uint_eq(conf_bgp_default(c)->conv_sample,
	    CONF_DEFAULT_CONV_SAMPLE);
	text = conf_print_string(c);
	ck_assert_str_eq(text, "router bgp 1\nexit\n!\n");
	free(text);
	conf_free(c);
	c = parse_ok("router bgp 1\n address-family l2vpn evpn\n"
	    "  convergence-sample 3\n  no convergence-sample\n");
	ck_assert_uint_eq(conf_bgp_default(c)->conv_sample, 0);
	text = conf_print_string(c);
	ck_assert_str_eq(text, "router bgp 1\n"
	    " address-family l2vpn evpn\n"
	    "  no convergence-sample\n"
	    " exit-address-family\n"
	    "exit\n!\n");
	free(text);
	conf_free(c);
	c = parse_ok("router bgp 1\n");
	ck_assert_uint_eq(conf_bgp_default(c)->conv_sample,
	    CONF_DEFAULT_CONV_SAMPLE);
	conf_free(c);
}
END_TEST

/* "dup-addr-detection" variants keep earlier settings they don't name. */
START_TEST(test_dad_statements)
{
	struct config *c = parse_ok("router bgp 1\n address-family l2vpn evpn\n"
	    "  dup-addr-detection max-moves 3 time 30\n"
	    "  dup-addr-detection freeze 40\n");
	struct conf_dad *dad = &conf_bgp_default(c)->dad;
	char *text;

	ck_assert(dad->enabled);
	ck_assert_uint_eq(dad->max_moves, 3);
	ck_assert_uint_eq(dad->time, 30);
	ck_assert_uint_eq(dad->freeze, 40);
	ck_assert(!dad->freeze_permanent);
	text = conf_print_string(c);
	ck_assert_str_eq(text, "router bgp 1\n"
	    " address-family l2vpn evpn\n"
	    "  dup-addr-detection max-moves 3 time 30\n"
	    "  dup-addr-detection freeze 40\n"
	    " exit-address-family\n"
	    "exit\n!\n");
	free(text);
	conf_free(c);

	c = parse_ok("router bgp 1\n address-family l2vpn evpn\n"
	    "  no dup-addr-detection\n");
	ck_assert(!conf_bgp_default(c)->dad.enabled);
	conf_free(c);
}
END_TEST

START_TEST(test_values_ipam)
{
	struct config *c = parse_ok("ipam pool p\n prefix 10.0.0.0/24\n"
	    " prefix 2001:db8::/64\n gateway 10.0.0.1\n"
	    " exclude 10.0.0.2 10.0.0.9\n reserve 10.0.0.20 for head\n"
	    " mac-prefix 02:00:0a\n shadow\n  confidence 0.95\n"
	    "  cost wastage 2.5 delay 0.000001\n exit-shadow\n"
	    "ipam pool q\n prefix 10.0.0.0/24\n tenant other\n"
	    "api listen 2001:db8::1 443 tls client-ca c key k cert e\n");
	struct conf_ipam_pool *p = conf_ipam_pool_find(c, "p");
	struct conf_ipam_pool *q = conf_ipam_pool_find(c, "q");
	struct conf_ipam_range *r;
	char buf[64];

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(p->tenant);
	ck_assert_str_eq(q->tenant, "other");
	ck_assert_uint_eq(p->vni, 0);
	ck_assert_uint_eq(p->quarantine, 30);
	ck_assert_uint_eq(q->quarantine, 30);
	ck_assert_uint_eq(TAILQ_FIRST(&p->prefixes)->prefix.len, 24);
	ck_assert_uint_eq(TAILQ_LAST(&p->prefixes, conf_prefix_list)->prefix.len,
	    64);
	ck_assert_str_eq(ipaddr_fmt(&p->gateway4, buf, sizeof(buf)),
	    "10.0.0.1");
	ck_assert(!ipaddr_is_set(&p->gateway6));
	r = TAILQ_FIRST(&p->excludes);
	ck_assert_str_eq(ipaddr_fmt(&r->hi, buf, sizeof(buf)), "10.0.0.9");
	ck_assert_str_eq(TAILQ_FIRST(&p->reserves)->name, "head");
	ck_assert_uint_eq(p->mac_prefix_len, 3);
	ck_assert_uint_eq(p->mac_prefix[2], 0x0a);
	ck_assert(p->has_shadow);
	ck_assert(!q->has_shadow);
	ck_assert_uint_eq(p->shadow.confidence, 950000);
	ck_assert_uint_eq(p->shadow.cost_wastage, 2500000);
	ck_assert_uint_eq(p->shadow.cost_delay, 1);
	ck_assert_uint_eq(p->shadow.horizon, 300);
	ck_assert_uint_eq(p->shadow.min_warm, 0);
	ck_assert_uint_eq(p->shadow.max_warm, 64);
	ck_assert_uint_eq(p->shadow.max_pool_fraction, 50000);
	ck_assert_int_eq(p->shadow.mode, CONF_SHADOW_ACTIVE);
	ck_assert(p->shadow.adapt);
	ck_assert_uint_eq(p->shadow.jitter, 0);
	ck_assert_int_eq(p->shadow.model, CONF_SHADOW_MODEL_ENSEMBLE);
	ck_assert_uint_eq(p->shadow.ngroup_by, 2);
	ck_assert_str_eq(p->shadow.group_by[0], "job");
	ck_assert_str_eq(p->shadow.group_by[1], "app");
	ck_assert(c->api_listen.enabled);
	ck_assert_uint_eq(c->api_listen.port, 443);
	ck_assert_str_eq(c->api_listen.cert, "e");
	ck_assert_str_eq(c->api_listen.key, "k");
	ck_assert_str_eq(c->api_listen.client_ca, "c");
	ck_assert_str_eq(conf_fmt_micro(1, buf, sizeof(buf)), "0.000001");
	ck_assert_str_eq(conf_fmt_micro(100000000, buf, sizeof(buf)), "100");
	ck_assert_str_eq(conf_fmt_micro(1050000, buf, sizeof(buf)), "1.05");
	conf_free(c);
}
END_TEST

START_TEST(test_values_ipam_dns)
{
	struct config *c = parse_ok("ipam pool p\n prefix 10.0.0.0/24\n"
	    " dns zone Example.NET. server 2001:db8::53 tsig hmac-sha512 "
	    "Key.One c2VjcmV0LXNlY3JldA==\n"
	    " dns name-template w-{label:job}.{pool}\n"
	    "ipam pool q\n prefix 10.1.0.0/24\n");
	struct conf_ipam_pool *p = conf_ipam_pool_find(c, "p");
	struct conf_ipam_pool *q = conf_ipam_pool_find(c, "q");
	char buf[64], *text;

	ck_assert_uint_eq(p->line, 1);
	ck_assert_uint_eq(q->line, 5);
	ck_assert_str_eq(p->dns.zone, "example.net");
	ck_assert_str_eq(ipaddr_fmt(&p->dns.server, buf, sizeof(buf)),
	    "2001:db8::53");
	ck_assert_str_eq(p->dns.tsig_alg, "hmac-sha512");
	ck_assert_str_eq(p->dns.tsig_name, "key.one");
	ck_assert_str_eq(p->dns.tsig_secret, "c2VjcmV0LXNlY3JldA==");
	ck_assert(!p->dns.reverse);
	ck_assert_uint_eq(p->dns.ttl, CONF_DNS_DEFAULT_TTL);
	ck_assert_str_eq(p->dns.name_template, "w-{label:job}.{pool}");
	ck_assert_ptr_null(q->dns.zone);
	/* One pool's block, with the secret and without. */
	text = conf_ipam_pool_text(p, false);
	ck_assert_str_eq(text, "ipam pool p\n prefix 10.0.0.0/24\n"
	    " dns zone example.net server 2001:db8::53 tsig hmac-sha512 "
	    "key.one c2VjcmV0LXNlY3JldA==\n"
	    " dns name-template w-{label:job}.{pool}\n!\n");
	free(text);
	text = conf_ipam_pool_text(p, true);
	ck_assert_ptr_null(strstr(text, "c2VjcmV0"));
	ck_assert_ptr_nonnull(strstr(text, " key.one " CONF_REDACTED "\n"));
	free(text);
	/* The running config shown: the secret redacted there too. */
	text = conf_print_string_flags(c, CONF_PRINT_REDACT);
	ck_assert_ptr_null(strstr(text, "c2VjcmV0"));
	ck_assert_ptr_nonnull(strstr(text, " key.one " CONF_REDACTED "\n"));
	free(text);
	conf_free(c);
}
END_TEST

START_TEST(test_values_api_clients)
{
	struct config *c = parse_ok(
	    "api listen 0.0.0.0 8443 tls cert e key k client-ca c crl r\n"
	    "api client orch role allocate tenant a b\n"
	    "api client noc role read\n"
	    "api client ops role admin\n"
	    "api client all role read tenant *\n");
	const struct conf_api_client *orch, *noc, *ops, *all;

	ck_assert_str_eq(c->api_listen.crl, "r");
	orch = conf_api_client_find(c, "orch");
	noc = conf_api_client_find(c, "noc");
	ops = conf_api_client_find(c, "ops");
	all = conf_api_client_find(c, "all");
	ck_assert_ptr_nonnull(orch);
	ck_assert_ptr_null(conf_api_client_find(c, "orc"));
	ck_assert_int_eq(orch->role, CONF_API_ALLOCATE);
	ck_assert_uint_eq(orch->ntenants, 2);
	ck_assert_int_eq(noc->role, CONF_API_READ);
	ck_assert_int_eq(ops->role, CONF_API_ADMIN);
	/* Tenants: its own; "*" and admin every one, untenanted too. */
	ck_assert(conf_api_client_sees(orch, "a"));
	ck_assert(conf_api_client_sees(orch, "b"));
	ck_assert(!conf_api_client_sees(orch, "c"));
	ck_assert(!conf_api_client_sees(orch, NULL));
	ck_assert(!conf_api_client_sees(noc, "a"));
	ck_assert(!conf_api_client_sees(noc, NULL));
	ck_assert(conf_api_client_sees(ops, "a"));
	ck_assert(conf_api_client_sees(ops, NULL));
	ck_assert(conf_api_client_sees(all, "zz"));
	ck_assert(conf_api_client_sees(all, NULL));
	ck_assert_str_eq(conf_api_role_name(CONF_API_ALLOCATE), "allocate");
	conf_free(c);
}
END_TEST

/* Shown, a password is redacted; printed for loading, it is kept. */
START_TEST(test_print_redacted)
{
	struct config *c = parse_ok("router bgp 1\n"
	    " neighbor 10.0.0.1 remote-as 1\n"
	    " neighbor 10.0.0.1 password s3cr3t!\n"
	    " neighbor 10.0.0.2 remote-as 1\n");
	char *full = conf_print_string(c);
	char *shown = conf_print_string_flags(c, CONF_PRINT_REDACT);

	ck_assert_ptr_nonnull(strstr(full,
	    " neighbor 10.0.0.1 password s3cr3t!\n"));
	ck_assert_ptr_null(strstr(shown, "s3cr3t"));
	ck_assert_ptr_nonnull(strstr(shown,
	    " neighbor 10.0.0.1 password <redacted>\n"));
	/* Everything else is the same text. */
	ck_assert_uint_eq(strlen(full) - strlen("s3cr3t!"),
	    strlen(shown) - strlen("<redacted>"));
	free(full);
	free(shown);
	conf_free(c);
}
END_TEST

START_TEST(test_values_fabric)
{
	struct config *c = parse_ok("ipam datastore etcd\n"
	    " endpoint http://10.200.0.1:2379\n"
	    " endpoint http://10.200.0.2:2379\n"
	    " tls ca ca.pem\n"
	    "ipam pool f\n prefix 10.0.0.0/22\n scope fabric\n"
	    "ipam pool g\n prefix 10.1.0.0/22\n scope fabric\n"
	    " block-size 28\n no borrow\n block-idle-release 30\n"
	    "ipam pool l\n prefix 10.2.0.0/24\n");
	const struct conf_ipam_datastore *ds = &c->ipam_datastore;
	struct conf_ipam_pool *f = conf_ipam_pool_find(c, "f");
	struct conf_ipam_pool *g = conf_ipam_pool_find(c, "g");
	struct conf_ipam_pool *l = conf_ipam_pool_find(c, "l");

	ck_assert(ds->enabled);
	ck_assert_uint_eq(ds->nendpoints, 2);
	ck_assert_str_eq(ds->endpoints[1], "http://10.200.0.2:2379");
	ck_assert_str_eq(conf_datastore_prefix(c), "/evpnd");
	ck_assert_ptr_null(ds->tls_cert);
	ck_assert_str_eq(ds->tls_ca, "ca.pem");
	ck_assert_int_eq(f->scope, CONF_IPAM_SCOPE_FABRIC);
	ck_assert_uint_eq(f->block_size, 26);
	ck_assert(f->borrow);
	ck_assert_uint_eq(f->block_idle_release, 600);
	ck_assert_uint_eq(g->block_size, 28);
	ck_assert(!g->borrow);
	ck_assert_uint_eq(g->block_idle_release, 30);
	ck_assert_int_eq(l->scope, CONF_IPAM_SCOPE_LOCAL);
	conf_free(c);
}
END_TEST

START_TEST(test_session_differs)
{
	struct config *c = parse_ok("router bgp 1\n"
	    " neighbor 10.0.0.1 remote-as 1\n"
	    " neighbor 10.0.0.2 remote-as 1\n");
	struct conf_bgp *bgp = conf_bgp_default(c);
	struct conf_neighbor *a = TAILQ_FIRST(&bgp->neighbors);
	struct conf_neighbor b = *TAILQ_NEXT(a, entry);

	/* Same settings at another address: no reset. */
	ck_assert(!conf_neighbor_session_differs(a, &b));
	b.description = "changed";
	b.shutdown = true;
	b.connect_retry = 30;
	ck_assert(!conf_neighbor_session_differs(a, &b));
	b.has_timers = true;
	b.keepalive = 60;
	b.holdtime = 180;
	ck_assert(!conf_neighbor_session_differs(a, &b));	/* = defaults */
	b.holdtime = 90;
	ck_assert(conf_neighbor_session_differs(a, &b));
	b.has_timers = false;
	b.password = "x";
	ck_assert(conf_neighbor_session_differs(a, &b));
	b.password = NULL;
	b.af_active = CONF_AF_L2VPN_EVPN;
	ck_assert(conf_neighbor_session_differs(a, &b));
	b.af_active = 0;
	b.passive = true;
	ck_assert(conf_neighbor_session_differs(a, &b));
	b.passive = false;
	b.port = 1179;
	ck_assert(conf_neighbor_session_differs(a, &b));
	b.port = 179;
	b.remote_as = 2;
	ck_assert(conf_neighbor_session_differs(a, &b));
	b.remote_as = 1;
	ipaddr_parse("10.0.0.9", &b.update_source);
	ck_assert(conf_neighbor_session_differs(a, &b));
	conf_free(c);
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("golden");

	tcase_add_loop_test(tc, test_golden, 0, (int)(sizeof(golden_names) /
	    sizeof(golden_names[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof(bad_cases) /
	    sizeof(bad_cases[0])));
	tcase_add_test(tc, test_bad_line_limits);
	tcase_add_test(tc, test_bad_nul_in_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_test(tc, test_values_global);
	tcase_add_test(tc, test_values_neighbors);
	tcase_add_test(tc, test_values_evpn);
	tcase_add_test(tc, test_values_vxlan_vrf);
	tcase_add_test(tc, test_values_api_clients);
	tcase_add_test(tc, test_print_redacted);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_lexical);
	tcase_add_test(tc, test_dad_statements);
	tcase_add_test(tc, test_conv_sample_statements);
	tcase_add_test(tc, test_session_differs);
	tcase_add_test(tc, test_values_ipam);
	tcase_add_test(tc, test_values_ipam_dns);
	tcase_add_test(tc, test_values_fabric);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(conf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
