/*
 * The data-plane adapter (dataplane/) against the real kernel,
 * each test in a fresh network namespace of its own forked process:
 * entries land, mark-and-sweep deletes only the stale ones, a new
 * adapter adopts what a previous one left and changes nothing when
 * given the same state, entries without extern_learn are never
 * touched, type-5 installs route + neighbour + FDB, local learning
 * reaches evpn/, and a resync reinstalls what vanished.  The adapter
 * reports to the real evpn/ (on fake_peer.h's routing core, VNI 100 on
 * br100), whose learned routes the tests read; evpn/'s own data plane
 * is the recording fake of fake_dp.h, so what evpn/ pushes back stays
 * out of the kernel under test.  Needs root (77 if not).
 */
#include <check.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <net/if.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/addr.h"
#include "common/log.h"
#include "dataplane/dataplane.h"
#include "evpn/evpn_int.h"
#include "netlink/nl.h"
#include "tests/unit/fake_dp.h"
#include "tests/unit/kernel_test.h"
#include "tests/unit/fake_peer.h"

/* The evpn/ the adapter reports to: VNI 100 on br100, like l2 below. */
static const char evpn_conf[] =
    "vxlan vx100\n vni 100\n bridge br100\n local-tunnel-ip 10.0.0.1\n!\n"
    "router bgp 65000\n"
    " bgp router-id 10.0.0.1\n"
    " address-family l2vpn evpn\n"
    "  advertise-all-vni\n"
    " exit-address-family\n"
    "exit\n";

static struct fp_world w;
static struct fake_dp evpn_pushes;	/* what evpn/ asks of its data plane */

static struct event_base *base;
static struct dataplane *dp;
static const struct evpn_dataplane *ops;
static struct evpn_dp_vni l2, l3;

/* ---- what evpn/ learned ---------------------------------------------- */

/* evpn/ holds a learned local route for MAC (MAC+IP when ip is set). */
static bool
learned(const char *mac, const char *ip)
{
	char rd[RD_STRLEN];
	struct evpn_route r;
	const struct evpn_local *l;

	rd_fmt(&evpn_vni_find(w.evpn, 100)->rd, rd, sizeof(rd));
	r = fp_macip(rd, mac, ip, 100);
	l = evpn_local_find(w.evpn, &r);
	return l != NULL && l->source == EVPN_LOCAL_LEARNED;
}

/* Learned local routes in all, and those for another MAC than m. */
static size_t
learned_count(const struct macaddr *other_than)
{
	const struct evpn_local *l;
	size_t n = 0;

	TAILQ_FOREACH(l, &w.evpn->locals, entry)
		if (l->source == EVPN_LOCAL_LEARNED && (other_than == NULL ||
		    mac_cmp(&l->route.mac, other_than) != 0))
			n++;
	return n;
}

/* ---- helpers -------------------------------------------------------- */

/* Entries in "bridge -j fdb show dev D" / "ip -j neigh show dev D"
 * with this MAC (and dst when given). */
static int
count_fdb(const char *dev, const char *m, const char *dst)
{
	char	 cmd[128];
	json_t	*j, *e, *d;
	size_t	 i;
	int	 n = 0;

	snprintf(cmd, sizeof(cmd), "bridge -j fdb show dev %s", dev);
	j = kt_json(cmd);
	json_array_foreach(j, i, e) {
		d = json_object_get(e, "dst");
		if (strcmp(json_string_value(json_object_get(e, "mac")), m))
			continue;
		if (dst == NULL || (d && !strcmp(json_string_value(d), dst)))
			n++;
	}
	json_decref(j);
	return n;
}

static int
count_neigh(const char *dev, const char *addr)
{
	char	 cmd[128];
	json_t	*j, *e;
	size_t	 i;
	int	 n = 0;

	snprintf(cmd, sizeof(cmd), "ip -j neigh show dev %s", dev);
	j = kt_json(cmd);
	json_array_foreach(j, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "dst")), addr))
			n++;
	json_decref(j);
	return n;
}

static void
settle(void)
{
	ck_assert_int_eq(nl_wait_idle(dataplane_nl(dp), 3000), 0);
}

/* Turn the loop until the data plane has nothing under way. */
static void
run_idle(void)
{
	int	 turns = 0;

	do
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	while (!dataplane_idle(dp) && turns++ < 100000);
	ck_assert(dataplane_idle(dp));
}

/* Run a resync to its end on the loop; how many loop turns it took. */
static int
resync(void)
{
	int	 turns = 0;

	dataplane_resync(dp);
	while (dataplane_resync_running(dp) && turns < 100000) {
		event_base_loop(base, EVLOOP_ONCE);
		turns++;
	}
	ck_assert(!dataplane_resync_running(dp));
	settle();
	return turns;
}

static uint64_t
sent(void)
{
	struct nl_counters	 c;

	nl_get_counters(dataplane_nl(dp), &c);
	return c.sent;
}

static uint64_t
installed(const char *kind)
{
	struct dataplane_stats	 st;

	dataplane_get_stats(dp, &st);
	for (int k = 0; k < DATAPLANE_NKINDS; k++)
		if (strcmp(dataplane_kind_name(k), kind) == 0)
			return st.installed[k];
	ck_abort_msg("no kind %s", kind);
	return 0;
}

static void
first_vni_cb(void *arg, const struct dataplane_vni_state *s)
{
	struct dataplane_vni_state	*out = arg;

	if (out->vni == 0)
		*out = *s;
}

/* The first VNI's devices as the adapter reports them. */
static struct dataplane_vni_state
first_vni(void)
{
	struct dataplane_vni_state	 s = { 0 };

	dataplane_foreach_vni(dp, first_vni_cb, &s);
	ck_assert_uint_ne(s.vni, 0);
	return s;
}

static void
new_adapter(void)
{
	char	 err[256];

	dp = dataplane_create(base, w.evpn, err, sizeof(err));
	ck_assert_msg(dp != NULL, "%s", err);
	ops = dataplane_ops(dp);
}

static void
vni_add(const struct evpn_dp_vni *v)
{
	char	 err[256];

	ck_assert_msg(ops->vni_add(ops->ctx, v, err, sizeof(err)) == 0, "%s",
	    err);
}

static void
setup(void)
{
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	kt_sh("ip link set lo up");
	fp_world_start(&w, evpn_conf);
	base = w.base;
	fdp_init(&evpn_pushes);
	evpn_set_dataplane(w.evpn, &evpn_pushes.ops);
	evpn_dp_settle(w.evpn);
	fdp_clear(&evpn_pushes);
	l2 = (struct evpn_dp_vni){ .vxlan_if = "vx100", .bridge_if = "br100",
	    .vni = 100, .local_ip = kt_ip("10.0.0.1"), .dstport = 4789,
	    .arp_suppress = true };
	l3 = (struct evpn_dp_vni){ .vxlan_if = "vx4000",
	    .bridge_if = "br4000", .vni = 4000, .local_ip = kt_ip("10.0.0.1"),
	    .l3 = true, .table = 100, .vrf = "tenant-a",
	    .router_mac = kt_mac("02:00:00:00:40:00") };
	new_adapter();
}

static void
teardown(void)
{
	dataplane_free(dp);
	fp_world_free(&w);
	fp_reset();
	fdp_free(&evpn_pushes);
}

/* A, B remote MACs, two flood VTEPs and a neighbour. */
static void
push_full_state(void)
{
	struct macaddr	 a = kt_mac("02:00:00:00:00:0a");
	struct macaddr	 b = kt_mac("02:00:00:00:00:0b");
	struct ipaddr	 v1 = kt_ip("10.0.0.12"), v2 = kt_ip("10.0.0.13");
	struct ipaddr	 h = kt_ip("10.1.1.10");

	ops->mac_set(ops->ctx, &l2, &a, &v1, false);
	ops->mac_set(ops->ctx, &l2, &b, &v2, false);
	ops->flood_add(ops->ctx, &l2, &v1);
	ops->flood_add(ops->ctx, &l2, &v2);
	ops->neigh_set(ops->ctx, &l2, &h, &a);
}

/* ---- tests ------------------------------------------------------------ */

START_TEST(test_entries_installed)
{
	struct dataplane_stats		 st;
	struct dataplane_vni_state	 vs;

	vni_add(&l2);
	push_full_state();
	settle();
	ck_assert_int_eq(count_fdb("vx100", "02:00:00:00:00:0a", "10.0.0.12"),
	    1);
	ck_assert_int_eq(count_fdb("vx100", "02:00:00:00:00:0b", "10.0.0.13"),
	    1);
	ck_assert_int_eq(count_fdb("vx100", "00:00:00:00:00:00", NULL), 2);
	ck_assert_int_eq(count_neigh("br100", "10.1.1.10"), 1);
	ck_assert_int_eq(installed("fdb"), 2);
	ck_assert_int_eq(installed("flood"), 2);
	ck_assert_int_eq(installed("neigh"), 1);
	dataplane_get_stats(dp, &st);
	ck_assert(st.vrf_devices == nl_vrf_supported(dataplane_nl(dp)));
	ck_assert_uint_eq(st.nl.acked, 5);
	vs = first_vni();
	ck_assert(vs.vx_created);
	ck_assert(vs.br_up);
	/* Setting what is already there sends nothing. */
	push_full_state();
	ck_assert_int_eq(sent(), 5);
}
END_TEST

START_TEST(test_sync_sweep)
{
	struct macaddr	 a = kt_mac("02:00:00:00:00:0a");
	struct ipaddr	 v1 = kt_ip("10.0.0.12");
	uint64_t	 before;

	vni_add(&l2);
	push_full_state();
	settle();
	before = sent();
	ops->sync_begin(ops->ctx);
	ops->mac_set(ops->ctx, &l2, &a, &v1, false);
	ops->flood_add(ops->ctx, &l2, &v1);
	ops->sync_end(ops->ctx);
	settle();
	/* B (master and self), one flood VTEP and the neighbour went;
	 * nothing re-sent. */
	ck_assert_int_eq(sent() - before, 4);
	ck_assert_int_eq(count_fdb("vx100", "02:00:00:00:00:0a", "10.0.0.12"),
	    1);
	ck_assert_int_eq(count_fdb("vx100", "02:00:00:00:00:0b", NULL), 0);
	ck_assert_int_eq(count_fdb("vx100", "00:00:00:00:00:00", "10.0.0.12"),
	    1);
	ck_assert_int_eq(count_fdb("vx100", "00:00:00:00:00:00", "10.0.0.13"),
	    0);
	ck_assert_int_eq(count_neigh("br100", "10.1.1.10"), 0);
	ck_assert_int_eq(installed("fdb"), 1);
}
END_TEST

START_TEST(test_restart_adopts)
{
	struct macaddr	 a = kt_mac("02:00:00:00:00:0a");
	struct ipaddr	 v1 = kt_ip("10.0.0.12");

	vni_add(&l2);
	push_full_state();
	settle();
	/* Entries somebody else made: no extern_learn, never ours. */
	kt_sh("bridge fdb add 02:00:00:00:00:ee dev vx100 dst 10.0.0.99 self "
	    "static");
	kt_sh("ip neigh add 10.1.1.99 lladdr 02:00:00:00:00:ee dev br100 "
	    "nud permanent");

	/* evpnd restarts: a new adapter over the same kernel state. */
	dataplane_free(dp);
	new_adapter();
	vni_add(&l2);
	ck_assert(!first_vni().vx_created);	/* adopted */
	ck_assert_int_eq(installed("fdb"), 2);
	ck_assert_int_eq(installed("flood"), 2);
	ck_assert_int_eq(installed("neigh"), 1);

	/* The same state pushed again: nothing deleted, nothing re-added. */
	ops->sync_begin(ops->ctx);
	push_full_state();
	ops->sync_end(ops->ctx);
	settle();
	ck_assert_int_eq(sent(), 0);

	/* Less state: only what is missing goes. */
	ops->sync_begin(ops->ctx);
	ops->mac_set(ops->ctx, &l2, &a, &v1, false);
	ops->sync_end(ops->ctx);
	settle();
	ck_assert_int_eq(sent(), 5);	/* B is two deletes */
	ck_assert_int_eq(count_fdb("vx100", "02:00:00:00:00:0a", "10.0.0.12"),
	    1);
	ck_assert_int_eq(count_fdb("vx100", "02:00:00:00:00:0b", NULL), 0);
	ck_assert_int_eq(count_fdb("vx100", "00:00:00:00:00:00", NULL), 0);
	ck_assert_int_eq(count_neigh("br100", "10.1.1.10"), 0);
	ck_assert_int_eq(count_fdb("vx100", "02:00:00:00:00:ee", "10.0.0.99"),
	    1);
	ck_assert_int_eq(count_neigh("br100", "10.1.1.99"), 1);
}
END_TEST

START_TEST(test_type5_route)
{
	struct prefix	 p;
	struct ipaddr	 vtep = kt_ip("10.0.0.12");
	struct macaddr	 rmac = kt_mac("02:00:00:00:12:00");
	json_t		*j, *e;
	char		 want[64];

	vni_add(&l3);
	ck_assert_int_eq(prefix_parse("10.2.0.0/24", &p, false), 0);
	ops->route_set(ops->ctx, &l3, &p, &vtep, &rmac);
	settle();
	j = kt_json("ip -j route show table 100");
	e = json_array_get(j, 0);
	ck_assert_str_eq(json_string_value(json_object_get(e, "dst")),
	    "10.2.0.0/24");
	ck_assert_str_eq(json_string_value(json_object_get(e, "gateway")),
	    "10.0.0.12");
	ck_assert_str_eq(json_string_value(json_object_get(e, "dev")),
	    "br4000");
	json_decref(j);
	ck_assert_int_eq(count_neigh("br4000", "10.0.0.12"), 1);
	ck_assert_int_eq(count_fdb("vx4000", "02:00:00:00:12:00", "10.0.0.12"),
	    1);
	j = kt_json("ip -j link show br4000");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j,
	    0), "address")), "02:00:00:00:40:00");
	json_decref(j);
	if (!nl_vrf_supported(dataplane_nl(dp))) {
		snprintf(want, sizeof(want), "ip rule | grep -q 'from all "
		    "iif br4000 lookup 100'");
		kt_sh(want);
	}
	ck_assert_int_eq(installed("route"), 1);
	ck_assert_int_eq(installed("rmac_fdb"), 1);
	ck_assert_int_eq(installed("rmac_neigh"), 1);

	/* A second route through the same VTEP shares the router MAC. */
	ck_assert_int_eq(prefix_parse("10.3.0.0/24", &p, false), 0);
	ops->route_set(ops->ctx, &l3, &p, &vtep, &rmac);
	ops->route_del(ops->ctx, &l3, &p);
	settle();
	ck_assert_int_eq(count_neigh("br4000", "10.0.0.12"), 1);
	ck_assert_int_eq(prefix_parse("10.2.0.0/24", &p, false), 0);
	ops->route_del(ops->ctx, &l3, &p);
	settle();
	j = kt_json("ip -j route show table 100");
	ck_assert_int_eq(json_array_size(j), 0);
	json_decref(j);
	ck_assert_int_eq(count_neigh("br4000", "10.0.0.12"), 0);
	ck_assert_int_eq(count_fdb("vx4000", "02:00:00:00:12:00", NULL), 0);
	ck_assert_int_eq(installed("rmac_fdb"), 0);
}
END_TEST

/* Stale routes go at sync_end with their router-MAC entries; vni_del
 * of an L3 VNI takes the rest along (its rule too). */
START_TEST(test_type5_sweep_and_vni_del)
{
	struct prefix	 p1, p2;
	struct ipaddr	 v1 = kt_ip("10.0.0.12"), v2 = kt_ip("10.0.0.13");
	struct macaddr	 r1 = kt_mac("02:00:00:00:12:00");
	struct macaddr	 r2 = kt_mac("02:00:00:00:13:00");
	json_t		*j;

	vni_add(&l3);
	ck_assert_int_eq(prefix_parse("10.2.0.0/24", &p1, false), 0);
	ck_assert_int_eq(prefix_parse("2001:db8:2::/64", &p2, false), 0);
	ops->route_set(ops->ctx, &l3, &p1, &v1, &r1);
	ops->route_set(ops->ctx, &l3, &p2, &v2, &r2);
	settle();
	ck_assert_int_eq(count_neigh("br4000", "::ffff:10.0.0.13"), 1);
	ops->sync_begin(ops->ctx);
	ops->route_set(ops->ctx, &l3, &p1, &v1, &r1);
	ops->sync_end(ops->ctx);
	settle();
	ck_assert_int_eq(installed("route"), 1);
	ck_assert_int_eq(installed("rmac_fdb"), 1);
	ck_assert_int_eq(installed("rmac_neigh"), 1);
	ck_assert_int_eq(count_fdb("vx4000", "02:00:00:00:13:00", NULL), 0);
	ck_assert_int_eq(count_neigh("br4000", "10.0.0.13"), 0);
	/* The route moves to another VTEP: the old router MAC goes. */
	ops->route_set(ops->ctx, &l3, &p1, &v2, &r2);
	settle();
	ck_assert_int_eq(count_fdb("vx4000", "02:00:00:00:12:00", NULL), 0);
	ck_assert_int_eq(count_fdb("vx4000", "02:00:00:00:13:00",
	    "10.0.0.13"), 1);
	ck_assert_int_eq(installed("rmac_neigh"), 1);
	ops->vni_del(ops->ctx, &l3);
	settle();
	ck_assert_int_eq(if_nametoindex("vx4000"), 0);
	ck_assert_int_eq(installed("route"), 0);
	ck_assert_int_eq(installed("rmac_fdb"), 0);
	j = kt_json("ip -j route show table 100");
	ck_assert_int_eq(json_array_size(j), 0);
	json_decref(j);
	ck_assert_int_ne(system("ip rule | grep -q 'iif br4000'"), 0);
}
END_TEST

START_TEST(test_vni_mismatch_and_del)
{
	struct evpn_dp_vni	 bad = l2;
	char			 err[256];

	kt_sh("ip link add vx100 type vxlan id 200 local 10.0.0.1 dstport 4789");
	ck_assert_int_eq(ops->vni_add(ops->ctx, &l2, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "vx100: exists with VNI 200, config says 100");
	/* An adopted device stays on vni_del; a created one goes. */
	bad.vni = 200;
	bad.bridge_if = "br200";
	vni_add(&bad);
	ops->vni_del(ops->ctx, &bad);
	settle();		/* the deletes are queued */
	ck_assert_int_ne(if_nametoindex("vx100"), 0);
	ck_assert_int_eq(if_nametoindex("br200"), 0);
}
END_TEST

START_TEST(test_local_learning)
{
	struct macaddr	 host = kt_mac("02:00:00:00:00:aa");

	vni_add(&l2);
	/* veth1 is the host; without IPv6 it sends nothing of its own
	 * (DAD, MLD) that could bring its MAC back after the delete. */
	kt_sh("ip link add veth0 type veth peer name veth1 address "
	    "02:00:00:00:00:aa");
	kt_sh("sysctl -qw net.ipv6.conf.veth1.disable_ipv6=1");
	kt_sh("ip link set veth0 master br100 up");
	kt_sh("ip link set veth1 up");
	kt_sh("ip addr add 10.1.1.1/24 dev br100");
	/* A remote MAC we install must not come back as learned. */
	push_full_state();
	settle();
	kt_send_arp("veth1", "02:00:00:00:00:aa", "10.1.1.9", "10.1.1.1");
	for (int i = 0; i < 10 && !(learned("02:00:00:00:00:aa", NULL) &&
	    learned("02:00:00:00:00:aa", "10.1.1.9")); i++)
		nl_events_poll(dataplane_nl(dp), 100);
	/* Learned on br100, so in VNI 100: the MAC and its ARP entry. */
	ck_assert(learned("02:00:00:00:00:aa", NULL));
	ck_assert(learned("02:00:00:00:00:aa", "10.1.1.9"));
	ck_assert_uint_eq(learned_count(&host), 0);
	kt_sh("bridge fdb del 02:00:00:00:00:aa dev veth0 master");
	nl_events_poll(dataplane_nl(dp), 200);
	/* The MAC went, and its IP with it. */
	ck_assert_uint_eq(learned_count(NULL), 0);
}
END_TEST

/* Hosts already on the bridge when evpnd starts (a restart): the
 * kernel sends no event for entries that merely stay, so the adapter
 * reads the bridge once, on the loop turn after vni_add. */
START_TEST(test_learning_at_start)
{
	struct macaddr	 host = kt_mac("02:00:00:00:00:bb");
	struct evpn_dp_vni	 other = l2;

	/* A set MAC: a bridge whose MAC follows its ports would change it
	 * when vx100 joins, and the kernel flushes the neighbours of a
	 * device whose address changes. */
	kt_sh("ip link add br100 address 02:00:00:00:00:01 type bridge");
	kt_sh("ip link add veth0 type veth peer name veth1");
	kt_sh("ip link set veth0 master br100 up");
	kt_sh("ip link set br100 up");
	kt_sh("bridge fdb add 02:00:00:00:00:bb dev veth0 master static");
	kt_sh("ip neigh add 10.1.1.11 lladdr 02:00:00:00:00:bb dev br100 "
	    "nud reachable");
	/* The events of the commands above come before the VNI exists:
	 * read (and ignored) now, so only the start-up read can learn. */
	nl_events_poll(dataplane_nl(dp), 100);
	vni_add(&l2);
	/* Not from inside vni_add: evpn/ is still configuring the VNI. */
	ck_assert_uint_eq(learned_count(NULL), 0);
	run_idle();
	ck_assert(learned("02:00:00:00:00:bb", NULL));
	ck_assert(learned("02:00:00:00:00:bb", "10.1.1.11"));
	ck_assert_uint_eq(learned_count(&host), 0);
	/* Once per VNI: what evpn/ lets go is not read back, on the next
	 * turns nor when another VNI's bridge is read. */
	evpn_dp_mac_gone(w.evpn, "br100", &host);
	ck_assert_uint_eq(learned_count(NULL), 0);
	run_idle();
	ck_assert_uint_eq(learned_count(NULL), 0);
	other.vxlan_if = "vx200";
	other.bridge_if = "br200";
	other.vni = 200;
	vni_add(&other);
	run_idle();
	ck_assert_uint_eq(learned_count(NULL), 0);
}
END_TEST

START_TEST(test_resync_reinstalls)
{
	struct dataplane_stats st;

	vni_add(&l2);
	push_full_state();
	settle();
	/* Lost behind our back (as if an event had been missed). */
	kt_sh("bridge fdb del 02:00:00:00:00:0b dev vx100 self master");
	kt_sh("ip neigh del 10.1.1.10 dev br100");
	resync();
	ck_assert_int_eq(count_fdb("vx100", "02:00:00:00:00:0b", "10.0.0.13"),
	    1);
	ck_assert_int_eq(count_neigh("br100", "10.1.1.10"), 1);
	/* The owned entries are evpn/'s state: it is not asked again. */
	ck_assert_uint_eq(evpn_pushes.ncalls, 0);
	dataplane_get_stats(dp, &st);
	ck_assert_uint_eq(st.nl.resyncs, 1);
	ck_assert_uint_eq(st.nl.sent, 7);
}
END_TEST

/* ---- the loop is not blocked (issue 11) ------------------------------ */

static void	 read_events(void);

static int
count_lines(const char *cmd)
{
	char	 line[256];
	FILE	*p = popen(cmd, "r");
	int	 n = 0;

	ck_assert_ptr_nonnull(p);
	while (fgets(line, sizeof(line), p) != NULL)
		n++;
	pclose(p);
	return n;
}

#define MANY	3000

static void
push_many(void)
{
	struct ipaddr	 v1 = kt_ip("10.0.0.12");
	struct macaddr	 m = kt_mac("02:00:00:01:00:00");

	for (int i = 0; i < MANY; i++) {
		m.b[4] = (uint8_t)(i >> 8);
		m.b[5] = (uint8_t)i;
		ops->mac_set(ops->ctx, &l2, &m, &v1, false);
	}
}

static bool	 ticked_during;

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	ticked_during = dataplane_resync_running(dp);
}

/*
 * The overrun resync runs in slices across loop turns: a timer due now
 * fires while it is still running, and in the end every entry lost
 * behind our back is back.
 */
START_TEST(test_resync_in_slices)
{
	struct event	*tick;
	struct timeval	 now = { 0, 0 };
	struct dataplane_stats st;
	int		 turns;

	vni_add(&l2);
	push_many();
	settle();
	ck_assert_int_eq(count_lines("bridge fdb show dev vx100 self | "
	    "grep 'dst 10.0.0.12'"), MANY);
	kt_sh("bridge fdb flush dev vx100 self");
	ck_assert_int_eq(count_lines("bridge fdb show dev vx100 self | "
	    "grep 'dst 10.0.0.12'"), 0);
	read_events();

	tick = evtimer_new(base, tick_cb, NULL);
	dataplane_resync(dp);
	ck_assert(dataplane_resync_running(dp));
	evtimer_add(tick, &now);
	turns = 0;
	while (dataplane_resync_running(dp) && turns++ < 100000)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(tick);
	ck_assert(ticked_during);
	ck_assert_int_gt(turns, 3);
	settle();
	ck_assert_int_eq(count_lines("bridge fdb show dev vx100 self | "
	    "grep 'dst 10.0.0.12'"), MANY);
	dataplane_get_stats(dp, &st);
	ck_assert_uint_eq(st.nl.resyncs, 1);
	ck_assert_uint_eq(st.nl.failed, 0);
	/* Another resync finds nothing missing. */
	resync();
	dataplane_get_stats(dp, &st);
	ck_assert_uint_eq(st.nl.sent, 2 * MANY);
}
END_TEST

/* Removing a VNI queues its devices' deletes behind what is pending
 * instead of waiting for the kernel; one added again under the same
 * names right after still gets fresh devices. */
START_TEST(test_vni_del_does_not_wait)
{
	struct nl_counters	 c;

	vni_add(&l2);
	push_many();
	ops->vni_del(ops->ctx, &l2);
	nl_get_counters(dataplane_nl(dp), &c);
	ck_assert_uint_gt(c.pending, 0);
	settle();
	read_events();
	ck_assert_int_eq(if_nametoindex("vx100"), 0);
	ck_assert_int_eq(if_nametoindex("br100"), 0);
	nl_get_counters(dataplane_nl(dp), &c);
	ck_assert_uint_eq(c.failed, 0);

	vni_add(&l2);
	push_many();
	ops->vni_del(ops->ctx, &l2);
	vni_add(&l2);
	settle();
	read_events();
	ck_assert_int_ne(if_nametoindex("vx100"), 0);
	ck_assert(first_vni().vx_created);
}
END_TEST

/* GET /v1/dataplane's view of the devices costs no netlink request: it
 * is what the link events said. */
START_TEST(test_view_without_netlink)
{
	struct nl_counters	 c;
	uint64_t		 before;

	vni_add(&l2);
	nl_get_counters(dataplane_nl(dp), &c);
	before = c.sync;
	ck_assert(first_vni().br_up);
	kt_sh("ip link set br100 down");
	read_events();
	ck_assert(!first_vni().br_up);
	ck_assert(first_vni().vx_up);
	ck_assert_int_eq(first_vni().br_ifindex, if_nametoindex("br100"));
	nl_get_counters(dataplane_nl(dp), &c);
	ck_assert_uint_eq(c.sync, before);
}
END_TEST

/* ---- entries evpnd does not own (issue 11) --------------------------- */

static uint64_t
blocked(const char *kind)
{
	struct dataplane_stats	 st;

	dataplane_get_stats(dp, &st);
	for (int k = 0; k < DATAPLANE_NKINDS; k++)
		if (strcmp(dataplane_kind_name(k), kind) == 0)
			return st.blocked[k];
	ck_abort_msg("no kind %s", kind);
	return 0;
}

/* The one route of table 100 for dst, as "gateway|dev|protocol". */
static const char *
route_of(const char *dst)
{
	static char	 out[128];
	json_t		*j, *e, *gw;
	size_t		 i;

	out[0] = '\0';
	j = kt_json("ip -j route show table 100");
	json_array_foreach(j, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "dst")), dst))
			continue;
		gw = json_object_get(e, "gateway");
		snprintf(out, sizeof(out), "%s|%s|%s", gw ?
		    json_string_value(gw) : "-",
		    json_string_value(json_object_get(e, "dev")),
		    json_string_value(json_object_get(e, "protocol")));
	}
	json_decref(j);
	return out;
}

/* Wait for the kernel's events about what the test did by hand. */
static void
read_events(void)
{
	nl_events_poll(dataplane_nl(dp), 200);
	settle();
}

/*
 * An administrator's static route in the VRF's table is not replaced
 * by a type-5 route for the same prefix, nor deleted with it; once the
 * administrator removes it, ours goes in.  Ours carries our protocol.
 */
START_TEST(test_static_route_left_alone)
{
	struct prefix	 p;
	struct ipaddr	 vtep = kt_ip("10.0.0.12");
	struct macaddr	 rmac = kt_mac("02:00:00:00:12:00");

	vni_add(&l3);
	kt_sh("ip route add 10.2.0.0/24 dev br4000 table 100 proto static");
	read_events();
	ck_assert_int_eq(prefix_parse("10.2.0.0/24", &p, false), 0);
	ops->route_set(ops->ctx, &l3, &p, &vtep, &rmac);
	settle();
	ck_assert_str_eq(route_of("10.2.0.0/24"), "-|br4000|static");
	ck_assert_int_eq(blocked("route"), 1);
	ck_assert_int_eq(installed("route"), 0);
	ops->route_del(ops->ctx, &l3, &p);
	settle();
	ck_assert_str_eq(route_of("10.2.0.0/24"), "-|br4000|static");
	ck_assert_int_eq(blocked("route"), 0);

	ops->route_set(ops->ctx, &l3, &p, &vtep, &rmac);
	kt_sh("ip route del 10.2.0.0/24 table 100");
	read_events();
	ck_assert_str_eq(route_of("10.2.0.0/24"), "10.0.0.12|br4000|237");
	ck_assert_int_eq(installed("route"), 1);
	ck_assert_int_eq(blocked("route"), 0);

	/* Added behind our back: ours stays ours until it is replaced,
	 * then the key is theirs. */
	kt_sh("ip route replace 10.2.0.0/24 dev br4000 table 100 proto static");
	read_events();
	ck_assert_int_eq(blocked("route"), 1);
	ops->route_del(ops->ctx, &l3, &p);
	settle();
	ck_assert_str_eq(route_of("10.2.0.0/24"), "-|br4000|static");
}
END_TEST

/* A static neighbour, and another daemon's extern_learn one (FRR's
 * zebra marks its own with protocol zebra), are not replaced or
 * deleted; ours carry extern_learn and our protocol. */
START_TEST(test_foreign_neighbours_left_alone)
{
	struct macaddr	 a = kt_mac("02:00:00:00:00:0a");
	struct ipaddr	 st = kt_ip("10.1.1.20"), zb = kt_ip("10.1.1.21");
	json_t		*j;

	vni_add(&l2);
	kt_sh("ip neigh add 10.1.1.20 lladdr 02:00:00:00:00:ee dev br100 "
	    "nud permanent");
	kt_sh("ip neigh add 10.1.1.21 lladdr 02:00:00:00:00:ef dev br100 "
	    "nud noarp extern_learn proto zebra");
	read_events();
	ops->neigh_set(ops->ctx, &l2, &st, &a);
	ops->neigh_set(ops->ctx, &l2, &zb, &a);
	push_full_state();
	settle();
	ck_assert_int_eq(blocked("neigh"), 2);
	ops->neigh_del(ops->ctx, &l2, &st, &a);
	ops->neigh_del(ops->ctx, &l2, &zb, &a);
	settle();
	j = kt_json("ip -j neigh show dev br100");
	ck_assert_int_eq(json_array_size(j), 3);
	json_decref(j);
	kt_sh("ip neigh show dev br100 | grep -q '10.1.1.20 lladdr "
	    "02:00:00:00:00:ee PERMANENT'");
	kt_sh("ip neigh show dev br100 | grep -q '10.1.1.21 lladdr "
	    "02:00:00:00:00:ef extern_learn NOARP proto zebra'");
	kt_sh("ip neigh show dev br100 | grep -q '10.1.1.10 lladdr "
	    "02:00:00:00:00:0a extern_learn NOARP proto 237'");
}
END_TEST

/* A static FDB entry on the VXLAN device, and a MAC pinned to a local
 * port, keep their place when a remote route claims the MAC. */
START_TEST(test_static_fdb_left_alone)
{
	struct macaddr	 c = kt_mac("02:00:00:00:00:0c");
	struct macaddr	 d = kt_mac("02:00:00:00:00:0d");
	struct ipaddr	 v1 = kt_ip("10.0.0.12");

	vni_add(&l2);
	kt_sh("ip link add veth0 type veth peer name veth1");
	kt_sh("ip link set veth0 master br100 up");
	kt_sh("bridge fdb add 02:00:00:00:00:0c dev vx100 dst 10.0.0.99 self "
	    "static");
	kt_sh("bridge fdb add 02:00:00:00:00:0d dev veth0 master static");
	read_events();
	ops->mac_set(ops->ctx, &l2, &c, &v1, false);
	ops->mac_set(ops->ctx, &l2, &d, &v1, false);
	settle();
	ck_assert_int_eq(blocked("fdb"), 2);
	ck_assert_int_eq(count_fdb("vx100", "02:00:00:00:00:0c", "10.0.0.99"),
	    1);
	ck_assert_int_eq(count_fdb("vx100", "02:00:00:00:00:0c", "10.0.0.12"),
	    0);
	ck_assert_int_eq(count_fdb("veth0", "02:00:00:00:00:0d", NULL), 1);
	ck_assert_int_eq(count_fdb("vx100", "02:00:00:00:00:0d", NULL), 0);
	ops->mac_del(ops->ctx, &l2, &c);
	ops->mac_del(ops->ctx, &l2, &d);
	settle();
	ck_assert_int_eq(count_fdb("vx100", "02:00:00:00:00:0c", "10.0.0.99"),
	    1);
	ck_assert_int_eq(count_fdb("veth0", "02:00:00:00:00:0d", NULL), 1);
	ck_assert_int_eq(sent(), 0);
}
END_TEST

/* A VNI's setup adopts what is on its own devices only: another VNI's
 * entry whose delete is still queued must not come back as owned (it
 * would never be installed again). */
START_TEST(test_adoption_keeps_to_its_vni)
{
	struct evpn_dp_vni	 other = l2;
	struct macaddr		 a = kt_mac("02:00:00:00:00:0a");
	struct ipaddr		 v1 = kt_ip("10.0.0.12");

	vni_add(&l2);
	push_full_state();
	settle();
	ops->mac_del(ops->ctx, &l2, &a);	/* queued, not sent */
	other.vxlan_if = "vx200";
	other.bridge_if = "br200";
	other.vni = 200;
	vni_add(&other);
	settle();
	ck_assert_int_eq(count_fdb("vx100", "02:00:00:00:00:0a", NULL), 0);
	ops->mac_set(ops->ctx, &l2, &a, &v1, false);
	settle();
	ck_assert_int_eq(count_fdb("vx100", "02:00:00:00:00:0a", "10.0.0.12"),
	    1);
}
END_TEST

/* A restart adopts our routes (our protocol) and sweeps the stale ones;
 * the foreign route in the table is neither. */
START_TEST(test_restart_adopts_routes)
{
	struct prefix	 p1, p2;
	struct ipaddr	 vtep = kt_ip("10.0.0.12");
	struct macaddr	 rmac = kt_mac("02:00:00:00:12:00");

	vni_add(&l3);
	kt_sh("ip route add 10.9.0.0/24 dev br4000 table 100 proto static");
	ck_assert_int_eq(prefix_parse("10.2.0.0/24", &p1, false), 0);
	ck_assert_int_eq(prefix_parse("10.3.0.0/24", &p2, false), 0);
	ops->route_set(ops->ctx, &l3, &p1, &vtep, &rmac);
	ops->route_set(ops->ctx, &l3, &p2, &vtep, &rmac);
	settle();
	dataplane_free(dp);
	new_adapter();
	vni_add(&l3);
	ck_assert_int_eq(installed("route"), 2);
	ops->sync_begin(ops->ctx);
	ops->route_set(ops->ctx, &l3, &p1, &vtep, &rmac);
	ops->sync_end(ops->ctx);
	settle();
	ck_assert_str_eq(route_of("10.2.0.0/24"), "10.0.0.12|br4000|237");
	ck_assert_str_eq(route_of("10.3.0.0/24"), "");
	ck_assert_str_eq(route_of("10.9.0.0/24"), "-|br4000|static");
}
END_TEST

static Suite *
dataplane_suite(void)
{
	Suite	*s = suite_create("dataplane");
	TCase	*tc = tcase_create("kernel");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_entries_installed);
	tcase_add_test(tc, test_sync_sweep);
	tcase_add_test(tc, test_restart_adopts);
	tcase_add_test(tc, test_type5_route);
	tcase_add_test(tc, test_type5_sweep_and_vni_del);
	tcase_add_test(tc, test_vni_mismatch_and_del);
	tcase_add_test(tc, test_local_learning);
	tcase_add_test(tc, test_learning_at_start);
	tcase_add_test(tc, test_resync_reinstalls);
	tcase_add_test(tc, test_static_route_left_alone);
	tcase_add_test(tc, test_foreign_neighbours_left_alone);
	tcase_add_test(tc, test_static_fdb_left_alone);
	tcase_add_test(tc, test_restart_adopts_routes);
	tcase_add_test(tc, test_adoption_keeps_to_its_vni);
	tcase_add_test(tc, test_resync_in_slices);
	tcase_add_test(tc, test_vni_del_does_not_wait);
	tcase_add_test(tc, test_view_without_netlink);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return kt_main("test_dataplane", dataplane_suite);
}
