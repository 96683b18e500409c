/*
 * netlink/ against the real kernel.  Each test runs in its own forked
 * process (CK_FORK) inside a fresh network namespace, programs the
 * kernel through netlink/, then reads the state back twice: with
 * netlink/'s own dumps and independently with iproute2's JSON output
 * (ip -j, bridge -j) parsed by jansson.  Needs root; exits 77 if not.
 */
#include <check.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/addr.h"
#include "common/log.h"
#include "netlink/nl.h"
#include "tests/unit/kernel_test.h"

#define MAX_SEEN	64

struct seen {
	int		 fdb_added, fdb_removed, neigh_added, link_added;
	int		 overruns;
	struct nl_fdb	 fdb[MAX_SEEN];
	struct nl_neigh	 neigh[MAX_SEEN];
	struct nl_route	 route[MAX_SEEN];
	int		 nfdb, nneigh, nroute, route_added;
};

static struct seen	 seen;
static struct nl_ctx	*nl;
static struct event_base *base;

static void
on_fdb(void *arg, bool added, const struct nl_fdb *f)
{
	if (added)
		seen.fdb_added++;
	else
		seen.fdb_removed++;
	if (seen.nfdb < MAX_SEEN)
		seen.fdb[seen.nfdb++] = *f;
}

static void
on_neigh(void *arg, bool added, const struct nl_neigh *n)
{
	if (added)
		seen.neigh_added++;
	if (seen.nneigh < MAX_SEEN)
		seen.neigh[seen.nneigh++] = *n;
}

static void
on_link(void *arg, bool added, const struct nl_link *l)
{
	if (added)
		seen.link_added++;
}

static void
on_route(void *arg, bool added, const struct nl_route *r)
{
	if (seen.nroute < MAX_SEEN)
		seen.route[seen.nroute++] = *r;
	seen.route_added += added;
}

static void
on_overrun(void *arg)
{
	seen.overruns++;
}

/* A fresh namespace with lo up, and a context on it. */
static void
setup(void)
{
	struct nl_callbacks	 cb = { .fdb = on_fdb, .neigh = on_neigh,
	    .link = on_link, .route = on_route, .overrun = on_overrun };
	char			 err[256];

	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	kt_sh("ip link set lo up");
	memset(&seen, 0, sizeof(seen));
	base = event_base_new();
	nl = nl_create(base, &cb, err, sizeof(err));
	ck_assert_msg(nl != NULL, "%s", err);
}

static void
teardown(void)
{
	nl_free(nl);
	event_base_free(base);
}

/* vx100 (VNI 100, local 10.0.0.1) in br100, both up. */
static void
make_l2(int *vx, int *br, bool suppress)
{
	struct nl_vxlan_params	 p = { "vx100", 100, kt_ip("10.0.0.1"), 0, 0 };
	char			 err[256];
	bool			 created;

	ck_assert_msg(nl_vxlan_ensure(nl, &p, &created, vx, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert(created);
	ck_assert_msg(nl_bridge_ensure(nl, "br100", NULL, &created, br, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_msg(nl_bridge_attach(nl, *vx, *br, false, suppress, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(nl_link_set_up(nl, *br, err, sizeof(err)), 0);
	ck_assert_int_eq(nl_link_set_up(nl, *vx, err, sizeof(err)), 0);
}

START_TEST(test_vxlan_create_and_adopt)
{
	struct nl_vxlan_params	 p = { "vx100", 100, kt_ip("10.0.0.1"), 0, 1450 };
	struct macaddr		 bmac = kt_mac("02:aa:bb:cc:dd:01");
	json_t			*j, *l, *info, *slave;
	char			 err[256];
	bool			 created;
	int			 vx, br, vx2;

	make_l2(&vx, &br, true);
	ck_assert_int_eq(nl_bridge_ensure(nl, "br100", &bmac, &created, &br,
	    err, sizeof(err)), 0);
	ck_assert(!created);
	j = kt_json("ip -j -d link show vx100");
	l = json_array_get(j, 0);
	info = json_object_get(json_object_get(l, "linkinfo"), "info_data");
	slave = json_object_get(json_object_get(l, "linkinfo"),
	    "info_slave_data");
	ck_assert_int_eq(json_integer_value(json_object_get(info, "id")), 100);
	ck_assert_str_eq(json_string_value(json_object_get(info, "local")),
	    "10.0.0.1");
	ck_assert_int_eq(json_integer_value(json_object_get(info, "port")),
	    4789);
	ck_assert(json_is_false(json_object_get(info, "learning")));
	ck_assert_str_eq(json_string_value(json_object_get(l, "master")),
	    "br100");
	ck_assert(json_is_true(json_object_get(slave, "neigh_suppress")));
	ck_assert(json_is_false(json_object_get(slave, "learning")));
	json_decref(j);
	j = kt_json("ip -j link show br100");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j,
	    0), "address")), "02:aa:bb:cc:dd:01");
	json_decref(j);

	/* Same parameters again: adopted, same device (mtu not compared). */
	ck_assert_int_eq(nl_vxlan_ensure(nl, &p, &created, &vx2, err,
	    sizeof(err)), 0);
	ck_assert(!created);
	ck_assert_int_eq(vx2, vx);
	ck_assert_int_eq(nl_link_index(nl, "vx100"), vx);
	ck_assert_int_eq(nl_link_index(nl, "nosuchdev"), 0);
}
END_TEST

START_TEST(test_vxlan_mismatch)
{
	struct nl_vxlan_params	 p = { "vx100", 100, kt_ip("10.0.0.1"), 0, 0 };
	char			 err[256];
	bool			 created;
	int			 ifindex;

	kt_sh("ip link add vx100 type vxlan id 200 local 10.0.0.1 dstport 4789");
	ck_assert_int_eq(nl_vxlan_ensure(nl, &p, &created, &ifindex, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "vx100: exists with VNI 200, config says 100");
	p.vni = 200;
	p.local = kt_ip("10.0.0.2");
	ck_assert_int_eq(nl_vxlan_ensure(nl, &p, &created, &ifindex, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err,
	    "vx100: exists with local 10.0.0.1, config says 10.0.0.2");
	p.local = kt_ip("10.0.0.1");
	p.dstport = 4790;
	ck_assert_int_eq(nl_vxlan_ensure(nl, &p, &created, &ifindex, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err,
	    "vx100: exists with dstport 4789, config says 4790");
	kt_sh("ip link add br9 type bridge");
	p.name = "br9";
	ck_assert_int_eq(nl_vxlan_ensure(nl, &p, &created, &ifindex, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "br9: exists as a bridge device, config says "
	    "vxlan");
	ck_assert_int_eq(nl_bridge_ensure(nl, "vx100", NULL, &created,
	    &ifindex, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "vx100: exists as a vxlan device, config says "
	    "bridge");
}
END_TEST

struct fdb_list {
	struct nl_fdb	 e[8192];
	int		 n;
};

static void
collect_fdb(void *arg, const struct nl_fdb *f)
{
	struct fdb_list	*l = arg;

	if (l->n < (int)(sizeof(l->e) / sizeof(l->e[0])))
		l->e[l->n++] = *f;
}

/* The JSON entry of bridge fdb show for mac with dst (NULL: master). */
static json_t *
fdb_find(json_t *arr, const char *m, const char *dst)
{
	size_t	 i;
	json_t	*e, *d;

	json_array_foreach(arr, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "mac")), m))
			continue;
		d = json_object_get(e, "dst");
		if (dst == NULL ? d == NULL :
		    (d != NULL && !strcmp(json_string_value(d), dst)))
			return e;
	}
	return NULL;
}

static bool
has_flag(json_t *e, const char *flag)
{
	size_t	 i;
	json_t	*f;

	json_array_foreach(json_object_get(e, "flags"), i, f)
		if (!strcmp(json_string_value(f), flag))
			return true;
	return false;
}

START_TEST(test_fdb_replace_delete)
{
	struct macaddr		 m = kt_mac("02:00:00:00:00:05");
	struct ipaddr		 dst = kt_ip("10.0.0.12");
	struct fdb_list		*l = calloc(1, sizeof(*l));
	struct nl_counters	 c;
	json_t			*j, *e;
	int			 vx, br, self = 0, master = 0;

	make_l2(&vx, &br, false);
	nl_fdb_replace(nl, vx, &m, &dst, false);
	ck_assert_int_eq(nl_wait_idle(nl, 2000), 0);
	j = kt_json("bridge -j fdb show dev vx100");
	ck_assert_ptr_nonnull(e = fdb_find(j, "02:00:00:00:00:05",
	    "10.0.0.12"));
	ck_assert(has_flag(e, "self") && has_flag(e, "extern_learn"));
	ck_assert_ptr_nonnull(e = fdb_find(j, "02:00:00:00:00:05", NULL));
	ck_assert(has_flag(e, "extern_learn"));
	ck_assert_str_eq(json_string_value(json_object_get(e, "master")),
	    "br100");
	json_decref(j);

	/* The same through our dump. */
	ck_assert_int_eq(nl_fdb_dump(nl, vx, collect_fdb, l), 0);
	for (int i = 0; i < l->n; i++) {
		if (mac_cmp(&l->e[i].mac, &m) != 0)
			continue;
		ck_assert(l->e[i].flags & NTF_EXT_LEARNED);
		if (l->e[i].flags & NTF_SELF) {
			ck_assert_int_eq(ipaddr_cmp(&l->e[i].dst, &dst), 0);
			self++;
		} else {
			ck_assert_int_eq(l->e[i].master, br);
			master++;
		}
	}
	ck_assert_int_eq(self, 1);
	ck_assert_int_eq(master, 1);

	/* Sticky: permanent and sticky in the VXLAN table. */
	nl_fdb_delete(nl, vx, &m);
	nl_fdb_replace(nl, vx, &m, &dst, true);
	ck_assert_int_eq(nl_wait_idle(nl, 2000), 0);
	j = kt_json("bridge -j fdb show dev vx100");
	e = fdb_find(j, "02:00:00:00:00:05", "10.0.0.12");
	ck_assert_str_eq(json_string_value(json_object_get(e, "state")),
	    "permanent");
	ck_assert(has_flag(e, "sticky") && has_flag(e, "extern_learn"));
	json_decref(j);

	nl_fdb_delete(nl, vx, &m);
	ck_assert_int_eq(nl_wait_idle(nl, 2000), 0);
	j = kt_json("bridge -j fdb show dev vx100");
	ck_assert_ptr_null(fdb_find(j, "02:00:00:00:00:05", "10.0.0.12"));
	ck_assert_ptr_null(fdb_find(j, "02:00:00:00:00:05", NULL));
	json_decref(j);
	/* Two replaces, two deletes of two requests each (master, self). */
	nl_get_counters(nl, &c);
	ck_assert_int_eq(c.sent, 6);
	ck_assert_int_eq(c.acked, 6);
	ck_assert_int_eq(c.failed, 0);
	ck_assert_int_eq(c.pending, 0);
	free(l);
}
END_TEST

START_TEST(test_flood_append)
{
	struct ipaddr	 a = kt_ip("10.0.0.12"), b = kt_ip("10.0.0.13");
	json_t		*j, *e;
	int		 vx, br;

	make_l2(&vx, &br, false);
	nl_flood_append(nl, vx, &a);
	nl_flood_append(nl, vx, &b);
	ck_assert_int_eq(nl_wait_idle(nl, 2000), 0);
	j = kt_json("bridge -j fdb show dev vx100");
	ck_assert_ptr_nonnull(e = fdb_find(j, "00:00:00:00:00:00",
	    "10.0.0.12"));
	ck_assert(has_flag(e, "extern_learn"));
	ck_assert_ptr_nonnull(fdb_find(j, "00:00:00:00:00:00", "10.0.0.13"));
	json_decref(j);
	nl_flood_delete(nl, vx, &a);
	ck_assert_int_eq(nl_wait_idle(nl, 2000), 0);
	j = kt_json("bridge -j fdb show dev vx100");
	ck_assert_ptr_null(fdb_find(j, "00:00:00:00:00:00", "10.0.0.12"));
	ck_assert_ptr_nonnull(fdb_find(j, "00:00:00:00:00:00", "10.0.0.13"));
	json_decref(j);
}
END_TEST

struct neigh_list {
	struct nl_neigh	 e[16];
	int		 n;
};

static void
collect_neigh(void *arg, const struct nl_neigh *n)
{
	struct neigh_list	*l = arg;

	if (l->n < 16)
		l->e[l->n++] = *n;
}

/* Keep the extern_learn entries (the ones we installed); returns how many. */
static int
keep_extern_learned(struct neigh_list *l)
{
	int n = 0;

	for (int i = 0; i < l->n; i++)
		if (l->e[i].flags & NTF_EXT_LEARNED)
			l->e[n++] = l->e[i];
	return n;
}

START_TEST(test_neigh_replace_delete)
{
	struct ipaddr		 a4 = kt_ip("10.1.1.5"), a6 = kt_ip("2001:db8::5");
	struct macaddr		 m = kt_mac("02:00:00:00:00:05");
	struct neigh_list	 l = { .n = 0 };
	json_t			*j, *e;
	int			 vx, br;

	make_l2(&vx, &br, true);
	nl_neigh_replace(nl, br, &a4, &m);
	nl_neigh_replace(nl, br, &a6, &m);
	ck_assert_int_eq(nl_wait_idle(nl, 2000), 0);
	j = kt_json("ip -j -4 neigh show dev br100");
	ck_assert_int_eq(json_array_size(j), 1);
	e = json_array_get(j, 0);
	ck_assert_str_eq(json_string_value(json_object_get(e, "dst")),
	    "10.1.1.5");
	ck_assert_str_eq(json_string_value(json_object_get(e, "lladdr")),
	    "02:00:00:00:00:05");
	ck_assert_ptr_nonnull(json_object_get(e, "extern_learn"));
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(e,
	    "state"), 0)), "NOARP");
	json_decref(j);

	/* Ours only: the kernel may hold IPv6 neighbours of its own on the
	 * bridge (multicast listeners, routers). */
	ck_assert_int_eq(nl_neigh_dump(nl, br, collect_neigh, &l), 0);
	l.n = keep_extern_learned(&l);
	ck_assert_int_eq(l.n, 2);
	for (int i = 0; i < l.n; i++) {
		ck_assert(l.e[i].has_mac);
		ck_assert_int_eq(mac_cmp(&l.e[i].mac, &m), 0);
		ck_assert_int_eq(l.e[i].state, NUD_NOARP);
		ck_assert(l.e[i].flags & NTF_EXT_LEARNED);
	}
	nl_neigh_delete(nl, br, &a4);
	ck_assert_int_eq(nl_wait_idle(nl, 2000), 0);
	j = kt_json("ip -j neigh show dev br100");
	ck_assert_int_eq(json_array_size(j), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j,
	    0), "dst")), "2001:db8::5");
	json_decref(j);
}
END_TEST

START_TEST(test_route_and_rule)
{
	struct prefix	 p4, p6;
	struct ipaddr	 gw = kt_ip("10.0.0.12");
	json_t		*j, *e;
	char		 err[256];
	int		 vx, br;
	bool		 found = false;
	size_t		 i;

	make_l2(&vx, &br, false);
	ck_assert_int_eq(prefix_parse("10.2.0.0/24", &p4, false), 0);
	ck_assert_int_eq(prefix_parse("2001:db8:2::/64", &p6, false), 0);
	nl_route_replace(nl, 100, &p4, &gw, br);
	nl_route_replace(nl, 100, &p6, &gw, br);
	ck_assert_int_eq(nl_wait_idle(nl, 2000), 0);
	j = kt_json("ip -j route show table 100");
	ck_assert_int_eq(json_array_size(j), 1);
	e = json_array_get(j, 0);
	ck_assert_str_eq(json_string_value(json_object_get(e, "dst")),
	    "10.2.0.0/24");
	ck_assert_str_eq(json_string_value(json_object_get(e, "gateway")),
	    "10.0.0.12");
	ck_assert_str_eq(json_string_value(json_object_get(e, "dev")),
	    "br100");
	ck_assert(has_flag(e, "onlink"));
	json_decref(j);
	j = kt_json("ip -j -6 route show table 100");
	e = json_array_get(j, 0);
	ck_assert_str_eq(json_string_value(json_object_get(e, "gateway")),
	    "::ffff:10.0.0.12");
	json_decref(j);
	nl_route_delete(nl, 100, &p4);
	ck_assert_int_eq(nl_wait_idle(nl, 2000), 0);
	j = kt_json("ip -j route show table 100");
	ck_assert_int_eq(json_array_size(j), 0);
	json_decref(j);
	/* A delete names our protocol: somebody else's route stays, and
	 * its absence is no failure. */
	kt_sh("ip route add 10.2.0.0/24 dev br100 table 100 proto static");
	nl_route_delete(nl, 100, &p4);
	ck_assert_int_eq(nl_wait_idle(nl, 2000), 0);
	j = kt_json("ip -j route show table 100");
	ck_assert_int_eq(json_array_size(j), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j,
	    0), "protocol")), "static");
	json_decref(j);
	{
		struct nl_counters	 c;

		nl_get_counters(nl, &c);
		ck_assert_uint_eq(c.failed, 0);
	}

	ck_assert_msg(nl_rule_iif_add(nl, 1000, "br100", 100, err,
	    sizeof(err)) == 0, "%s", err);
	/* Again: already there is not an error. */
	ck_assert_int_eq(nl_rule_iif_add(nl, 1000, "br100", 100, err,
	    sizeof(err)), 0);
	j = kt_json("ip -j rule");
	json_array_foreach(j, i, e)
		if (json_integer_value(json_object_get(e, "priority")) == 1000) {
			ck_assert_str_eq(json_string_value(json_object_get(e,
			    "iif")), "br100");
			ck_assert_str_eq(json_string_value(json_object_get(e,
			    "table")), "100");
			found = true;
		}
	ck_assert(found);
	json_decref(j);
	ck_assert_int_eq(nl_rule_iif_delete(nl, 1000, "br100", 100, err,
	    sizeof(err)), 0);
	j = kt_json("ip -j -6 rule");
	json_array_foreach(j, i, e)
		ck_assert_int_ne(json_integer_value(json_object_get(e,
		    "priority")), 1000);
	json_decref(j);
}
END_TEST

/* A remote MAC that moved to a local port: the bridge took its entry
 * over (now on veth0, not on vx100), and the delete evpnd sends must
 * still remove the VXLAN driver's entry dst the old VTEP, and leave
 * the bridge's local entry alone. */
START_TEST(test_fdb_delete_after_local_takeover)
{
	struct macaddr		 m = kt_mac("02:00:00:00:00:07");
	struct ipaddr		 dst = kt_ip("10.0.0.12");
	struct nl_counters	 c;
	json_t			*j, *e;
	int			 vx, br;

	make_l2(&vx, &br, false);
	kt_sh("ip link add veth0 type veth peer name veth1");
	kt_sh("ip link set veth0 master br100 up");
	nl_fdb_replace(nl, vx, &m, &dst, false);
	ck_assert_int_eq(nl_wait_idle(nl, 2000), 0);
	kt_sh("bridge fdb replace 02:00:00:00:00:07 dev veth0 master static");
	nl_fdb_delete(nl, vx, &m);
	ck_assert_int_eq(nl_wait_idle(nl, 2000), 0);
	j = kt_json("bridge -j fdb show dev vx100");
	ck_assert_ptr_null(fdb_find(j, "02:00:00:00:00:07", NULL));
	json_decref(j);
	j = kt_json("bridge -j fdb show dev veth0");
	ck_assert_ptr_nonnull(e = fdb_find(j, "02:00:00:00:00:07", NULL));
	ck_assert_str_eq(json_string_value(json_object_get(e, "master")),
	    "br100");
	json_decref(j);
	nl_get_counters(nl, &c);
	ck_assert_int_eq(c.sent, 3);
	ck_assert_int_eq(c.acked, 3);
	ck_assert_int_eq(c.failed, 0);
}
END_TEST

START_TEST(test_failure_counted)
{
	struct macaddr		 m = kt_mac("02:00:00:00:00:05");
	struct ipaddr		 dst = kt_ip("10.0.0.12");
	struct nl_counters	 c;
	int			 vx, br;

	make_l2(&vx, &br, false);
	/* A deleted entry that does not exist (the bridge's half may be
	 * gone without error, the VXLAN driver's may not), and a device
	 * that does not exist. */
	nl_fdb_delete(nl, vx, &m);
	nl_fdb_replace(nl, 9999, &m, &dst, false);
	nl_fdb_replace(nl, vx, &m, &dst, false);
	ck_assert_int_eq(nl_wait_idle(nl, 2000), 0);
	nl_get_counters(nl, &c);
	ck_assert_int_eq(c.sent, 4);
	ck_assert_int_eq(c.failed, 2);
	ck_assert_int_eq(c.acked, 2);
	ck_assert_int_eq(c.pending, 0);
}
END_TEST

static void
loop_until_idle(void)
{
	struct nl_counters	 c;
	struct timeval		 tick = { 0, 10000 };

	for (int i = 0; i < 500; i++) {
		nl_get_counters(nl, &c);
		if (c.pending == 0)
			return;
		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
	}
	ck_abort_msg("requests still pending");
}

START_TEST(test_batch_on_event_loop)
{
	struct fdb_list		*l = calloc(1, sizeof(*l));
	struct nl_counters	 c;
	struct ipaddr		 dst = kt_ip("10.0.0.12");
	struct macaddr		 m = kt_mac("02:00:00:00:00:00");
	int			 vx, br, self = 0;

	make_l2(&vx, &br, false);
	/* More than the in-flight window, so flow control is exercised. */
	for (int i = 0; i < NL_MAX_INFLIGHT + 500; i++) {
		m.b[4] = (uint8_t)(i >> 8);
		m.b[5] = (uint8_t)i;
		nl_fdb_replace(nl, vx, &m, &dst, false);
	}
	loop_until_idle();
	nl_get_counters(nl, &c);
	ck_assert_int_eq(c.sent, NL_MAX_INFLIGHT + 500);
	ck_assert_int_eq(c.acked, NL_MAX_INFLIGHT + 500);
	ck_assert_int_eq(nl_fdb_dump(nl, vx, collect_fdb, l), 0);
	for (int i = 0; i < l->n; i++)
		if ((l->e[i].flags & NTF_SELF) &&
		    (l->e[i].flags & NTF_EXT_LEARNED))
			self++;
	ck_assert_int_eq(self, NL_MAX_INFLIGHT + 500);
	free(l);
}
END_TEST

START_TEST(test_events_local_learning)
{
	int	 vx, br, veth;
	bool	 fdb = false, neigh = false;

	make_l2(&vx, &br, false);
	/* Count from before the port exists: the bridge may learn veth1's
	 * MAC from its first frames (IPv6 autoconfiguration) before ours,
	 * and an entry that stays sends no second event. */
	seen.nfdb = seen.nneigh = 0;
	kt_sh("ip link add veth0 type veth peer name veth1 address "
	    "02:00:00:00:00:aa");
	kt_sh("ip link set veth0 master br100 up");
	kt_sh("ip link set veth1 up");
	kt_sh("ip addr add 10.1.1.1/24 dev br100");
	veth = nl_link_index(nl, "veth0");
	nl_events_poll(nl, 100);
	ck_assert_int_gt(seen.link_added, 0);
	/* A real frame: the bridge learns veth1's MAC on veth0, and the
	 * reply's ARP teaches br100 the neighbour. */
	for (int i = 0; i < 30 && !(fdb && neigh); i++) {
		/* Again now and then: a frame sent before the new port
		 * has carrier teaches nothing. */
		if (i % 5 == 0)
			kt_send_arp("veth1", "02:00:00:00:00:aa",
			    "10.1.1.9", "10.1.1.1");
		nl_events_poll(nl, 100);
		for (int k = 0; k < seen.nfdb; k++)
			if (seen.fdb[k].ifindex == veth &&
			    seen.fdb[k].master == br &&
			    seen.fdb[k].mac.b[5] == 0xaa &&
			    !(seen.fdb[k].flags & NTF_EXT_LEARNED))
				fdb = true;
		for (int k = 0; k < seen.nneigh; k++)
			if (seen.neigh[k].ifindex == br &&
			    (seen.neigh[k].state & (NUD_REACHABLE |
			    NUD_STALE | NUD_DELAY)) &&
			    seen.neigh[k].mac.b[5] == 0xaa &&
			    ipaddr_v4_host(&seen.neigh[k].ip) == 0x0a010109)
				neigh = true;
	}
	ck_assert(fdb);
	ck_assert(neigh);
	seen.fdb_removed = 0;
	kt_sh("bridge fdb del 02:00:00:00:00:aa dev veth0 master");
	nl_events_poll(nl, 200);
	ck_assert_int_eq(seen.fdb_removed, 1);
}
END_TEST

START_TEST(test_event_overrun)
{
	struct nl_counters	 c;
	int			 vx, br;
	FILE			*f;

	make_l2(&vx, &br, false);
	nl_events_poll(nl, 50);
	/* The smallest buffer the kernel allows, then a burst. */
	ck_assert_int_eq(nl_events_set_rcvbuf(nl, 1), 0);
	f = popen("bridge -batch -", "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 2000; i++)
		fprintf(f, "fdb add 02:00:00:01:%02x:%02x dev vx100 dst "
		    "10.0.0.12 self\n", i >> 8, i & 0xff);
	ck_assert_int_eq(pclose(f), 0);
	nl_events_poll(nl, 100);
	nl_get_counters(nl, &c);
	ck_assert_int_eq(c.overruns, 1);
	ck_assert_int_eq(seen.overruns, 1);
}
END_TEST

START_TEST(test_vrf_probe)
{
	bool	 kernel_has_vrf;

	kernel_has_vrf = system("ip link add vrfx type vrf table 77 "
	    "2>/dev/null") == 0;
	ck_assert_int_eq(nl_vrf_supported(nl), kernel_has_vrf);
}
END_TEST

/* Route events (once asked for) and dumps say whose a route is; our
 * neighbours carry our protocol. */
START_TEST(test_route_events_and_protocol)
{
	struct prefix	 p;
	struct ipaddr	 gw = kt_ip("10.0.0.12"), h = kt_ip("10.1.1.7");
	struct macaddr	 m = kt_mac("02:00:00:00:00:07");
	struct dump_routes { int ours, static_, other; } d = { 0 };
	int		 vx, br;

	make_l2(&vx, &br, false);
	ck_assert_int_eq(nl_events_routes(nl), 0);
	ck_assert_int_eq(prefix_parse("10.2.0.0/24", &p, false), 0);
	nl_route_replace(nl, 100, &p, &gw, br);
	nl_neigh_replace(nl, br, &h, &m);
	ck_assert_int_eq(nl_wait_idle(nl, 2000), 0);
	kt_sh("ip route add 10.3.0.0/24 dev br100 table 100 proto static");
	kt_sh("ip route add 10.4.0.0/24 dev br100 table 101");
	nl_events_poll(nl, 200);
	ck_assert_int_ge(seen.route_added, 3);
	for (int i = 0; i < seen.nroute; i++) {
		const struct nl_route *r = &seen.route[i];
		char a[PREFIX_STRLEN];

		prefix_fmt(&r->pfx, a, sizeof(a));
		if (strcmp(a, "10.2.0.0/24") == 0) {
			ck_assert_uint_eq(r->table, 100);
			ck_assert_uint_eq(r->protocol, NL_RTPROT_EVPND);
			d.ours++;
		} else if (strcmp(a, "10.3.0.0/24") == 0) {
			ck_assert_uint_eq(r->protocol, RTPROT_STATIC);
			d.static_++;
		} else if (strcmp(a, "10.4.0.0/24") == 0) {
			ck_assert_uint_eq(r->table, 101);
			d.other++;
		}
	}
	ck_assert(d.ours == 1 && d.static_ == 1 && d.other == 1);
	for (int i = 0; i < seen.nneigh; i++)
		if (ipaddr_cmp(&seen.neigh[i].ip, &h) == 0)
			ck_assert_uint_eq(seen.neigh[i].protocol,
			    NL_RTPROT_EVPND);
	kt_sh("ip neigh show dev br100 | grep -q '10.1.1.7 .*proto 237'");
}
END_TEST

struct dump_count {
	int	 fdb, done, error;
};

static void
dump_fdb_cb(void *arg, const struct nl_fdb *f)
{
	((struct dump_count *)arg)->fdb++;
}

static void
dump_done_cb(void *arg, int error)
{
	((struct dump_count *)arg)->done++;
	((struct dump_count *)arg)->error = error;
}

/* A dump read on the loop: it runs across turns, one at a time, and
 * ends with done() once. */
START_TEST(test_dump_on_loop)
{
	struct dump_count	 d = { 0 };
	struct nl_dump_cbs	 cbs = { .fdb = dump_fdb_cb,
	    .done = dump_done_cb, .arg = &d };
	struct ipaddr		 gw = kt_ip("10.0.0.12");
	struct macaddr		 m = kt_mac("02:00:00:02:00:00");
	int			 vx, br, turns = 0;

	make_l2(&vx, &br, false);
	for (int i = 0; i < 500; i++) {
		m.b[4] = (uint8_t)(i >> 8);
		m.b[5] = (uint8_t)i;
		nl_fdb_replace(nl, vx, &m, &gw, false);
	}
	ck_assert_int_eq(nl_wait_idle(nl, 3000), 0);
	ck_assert_int_eq(nl_dump_start(nl, NL_DUMP_FDB, &cbs), 0);
	ck_assert(nl_dump_running(nl));
	ck_assert_int_eq(nl_dump_start(nl, NL_DUMP_FDB, &cbs), -1);
	ck_assert_int_eq(errno, EBUSY);
	while (nl_dump_running(nl) && turns++ < 10000)
		event_base_loop(base, EVLOOP_ONCE);
	ck_assert_int_eq(d.done, 1);
	ck_assert_int_eq(d.error, 0);
	/* Each MAC twice (the VXLAN driver's and the bridge's), plus the
	 * devices' own addresses. */
	ck_assert_int_ge(d.fdb, 1000);
	ck_assert_int_gt(turns, 1);
}
END_TEST

static Suite *
netlink_suite(void)
{
	Suite	*s = suite_create("netlink");
	TCase	*tc = tcase_create("kernel");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_vxlan_create_and_adopt);
	tcase_add_test(tc, test_vxlan_mismatch);
	tcase_add_test(tc, test_fdb_replace_delete);
	tcase_add_test(tc, test_flood_append);
	tcase_add_test(tc, test_neigh_replace_delete);
	tcase_add_test(tc, test_route_and_rule);
	tcase_add_test(tc, test_fdb_delete_after_local_takeover);
	tcase_add_test(tc, test_failure_counted);
	tcase_add_test(tc, test_batch_on_event_loop);
	tcase_add_test(tc, test_events_local_learning);
	tcase_add_test(tc, test_event_overrun);
	tcase_add_test(tc, test_vrf_probe);
	tcase_add_test(tc, test_route_events_and_protocol);
	tcase_add_test(tc, test_dump_on_loop);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return kt_main("test_netlink", netlink_suite);
}
