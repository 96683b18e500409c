/*
 * evpn/ and the data plane, through the recording fake of fake_dp.h
 * wired with evpn_set_dataplane(): what each imported route group asks
 * of the kernel (evpn_dp_resolve: the RFC 7432 §15 winner of a MAC, its
 * ARP/ND entries, flood entries, type-5 routes), the settle/sweep rule
 * after a restart (sync_begin without sync_end until evpn_dp_settle),
 * and local learning (the evpn_dp_* callbacks: a learned MAC or
 * neighbour becomes a local route sent to the peers, a MAC known
 * remotely moves here, a vanished one is withdrawn).  The routing core
 * is the shipping one on the fake transport of fake_peer.h.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "bgpd/bgpd.h"
#include "common/log.h"
#include "common/util.h"
#include "evpn/evpn_dp.h"
#include "evpn/evpn_int.h"
#include "ipam/ipam.h"
#include "tests/unit/fake_dp.h"
#include "tests/unit/fake_peer.h"

#define RR	"10.0.0.1"

static const char conf[] =
    "vxlan vx100\n"
    " vni 100\n"
    " bridge br100\n"
    " local-tunnel-ip 10.0.0.11\n"
    " mac-limit 3\n"
    " static-mac 02:00:00:00:00:05 ip 10.10.0.5\n"
    " static-mac 02:00:00:00:00:06\n"
    "!\n"
    "vxlan vx5000\n"
    " vni 5000\n"
    " bridge br5000\n"
    " local-tunnel-ip 10.0.0.11\n"
    "!\n"
    "vrf tenant-a\n"
    " vni 5000\n"
    " table 1000\n"
    "!\n"
    "router bgp 65000\n"
    " bgp router-id 10.0.0.11\n"
    " neighbor 10.0.0.1 remote-as 65000\n"
    " address-family l2vpn evpn\n"
    "  neighbor 10.0.0.1 activate\n"
    "  advertise-all-vni\n"
    "  vni 100\n"
    "   rd 10.0.0.11:100\n"
    "   route-target import 65000:100\n"
    "   route-target export 65000:100\n"
    "  exit-vni\n"
    " exit-address-family\n"
    "exit\n"
    "!\n"
    "router bgp 65000 vrf tenant-a\n"
    " address-family l2vpn evpn\n"
    "  advertise ipv4 unicast\n"
    " exit-address-family\n"
    "exit\n";

#define VNI_ADD_100	"vni_add 100 vx100 br100 10.0.0.11"
#define VNI_ADD_5000	"vni_add 5000 vx5000 br5000 10.0.0.11 l3 table 1000"

static const struct fp_remote rr1 = { 65000, "10.0.0.1", false, 0, false,
    false, false };

static struct fp_world w;
static struct fake_dp fd;
static struct fp_conn *rr;
static unsigned churns[EVPN_CHURN_MAC_MOVE + 1];

static void
count_churn(void *arg, uint32_t vni, enum evpn_churn kind)
{
	(void)arg;
	(void)vni;
	churns[kind]++;
}

/* The world with the RR up and nothing sent yet; no data plane. */
static void
setup(void)
{
	fdp_init(&fd);
	memset(churns, 0, sizeof(churns));
	fp_world_start(&w, conf);
	evpn_set_churn_hook(w.evpn, count_churn, NULL);
	rr = fp_establish(&w, RR, &rr1);
	fp_run(&w);
	fp_skip(rr);
}

static void
teardown(void)
{
	if (w.bgp != NULL)
		fp_world_free(&w);
	fp_reset();
	fdp_free(&fd);
}

/* Attach the fake and end the settling, then forget the calls. */
static void
attach_settled(void)
{
	evpn_set_dataplane(w.evpn, &fd.ops);
	evpn_dp_settle(w.evpn);
	fdp_clear(&fd);
}

/* ---- what the RR hears ------------------------------------------------ */

/* A remote VTEP's route with route target rt, reflected by the RR. */
static void
remote(const struct evpn_route *r, const char *vtep, const char *rt, int seq,
    bool sticky)
{
	fp_announce_reflected(rr, r, vtep, rt, seq, sticky);
	fp_run(&w);
}

static void
remote_mac(const char *mac, const char *ip, const char *vtep, int seq,
    bool sticky)
{
	char rd[RD_STRLEN];
	struct evpn_route r;

	snprintf(rd, sizeof(rd), "%s:1", vtep);
	r = fp_macip(rd, mac, ip, 100);
	remote(&r, vtep, "65000:100", seq, sticky);
}

static void
remote_mac_withdraw(const char *mac, const char *ip, const char *vtep)
{
	char rd[RD_STRLEN];
	struct evpn_route r;

	snprintf(rd, sizeof(rd), "%s:1", vtep);
	r = fp_macip(rd, mac, ip, 100);
	fp_withdraw(rr, &r, 1);
	fp_run(&w);
}

/* VTEP 10.0.0.2's type 5 for 10.30.0.0/24 in L3 VNI 5000. */
static struct evpn_route
remote_t5(void)
{
	struct evpn_route t5;
	struct prefix p;
	struct rd d;

	ck_assert_int_eq(rd_parse("10.0.0.2:2", &d), 0);
	ck_assert_int_eq(prefix_parse("10.30.0.0/24", &p, false), 0);
	ck_assert_int_eq(evpn_route_make_prefix(&t5, &d, &p, NULL, 5000), 0);
	return t5;
}

/*
 * Every route sent to the RR since the last skip, in order, as
 * "+prefix rd" (announced, " seq N" with a mobility community) or
 * "-prefix rd" (withdrawn), joined by "; ".
 */
static const char *
sent_routes(void)
{
	static char buf[2048];
	struct fp_update *u = xcalloc(1, sizeof(*u));
	char p[EVPN_PREFIX_STRLEN], d[RD_STRLEN];
	size_t o = 0;
	uint32_t seq;
	bool sticky;

	buf[0] = '\0';
	while (fp_next_update(rr, false, u)) {
		for (size_t i = 0; i < u->nreach + u->nunreach; i++) {
			bool wd = i >= u->nreach;
			const struct evpn_route *r = wd ?
			    &u->unreach[i - u->nreach] : &u->reach[i];

			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
			    "%s%c%s %s", o ? "; " : "", wd ? '-' : '+',
			    evpn_route_prefix_fmt(r, p, sizeof(p)),
			    rd_fmt(&r->rd, d, sizeof(d)));
			if (!wd && evpn_path_mobility(&u->attrs, &seq,
			    &sticky))
				o += (size_t)snprintf(buf + o, sizeof(buf) - o,
				    " seq %u", seq);
			ck_assert_uint_lt(o, sizeof(buf));
		}
		fp_update_clear(u);
	}
	free(u);
	return buf;
}

/* ---- attach, settle, resync ------------------------------------------- */

/*
 * After a restart the kernel still holds what the last run installed.
 * Attaching pushes the whole state inside sync_begin but must not end
 * the sync (that would sweep the FDB while the RIB refills); the sweep
 * comes with evpn_dp_settle(), once.
 */
START_TEST(test_attach_defers_sweep_until_settle)
{
	remote_mac("02:00:00:00:aa:01", NULL, "10.0.0.2", -1, false);

	evpn_set_dataplane(w.evpn, &fd.ops);
	ck_assert_str_eq(fd.calls[0], VNI_ADD_100);
	ck_assert_str_eq(fd.calls[1], VNI_ADD_5000);
	ck_assert_str_eq(fd.calls[2], "sync_begin");
	fdp_expect(&fd, "mac_set 100 02:00:00:00:aa:01 10.0.0.2");
	ck_assert_uint_eq(fdp_count(&fd, "sync_end"), 0);

	/* Routes arriving while settling are pushed, still no sweep. */
	fdp_clear(&fd);
	remote_mac("02:00:00:00:aa:02", NULL, "10.0.0.2", -1, false);
	ck_assert_str_eq(fdp_dump(&fd),
	    "\n  mac_set 100 02:00:00:00:aa:02 10.0.0.2");

	/* The settle: one full push, ended. */
	fdp_clear(&fd);
	evpn_dp_settle(w.evpn);
	ck_assert_str_eq(fd.calls[0], "sync_begin");
	ck_assert_str_eq(fd.calls[fd.ncalls - 1], "sync_end");
	ck_assert_uint_eq(fdp_count(&fd, "sync_"), 2);
	fdp_expect(&fd, "mac_set 100 02:00:00:00:aa:01 10.0.0.2");
	fdp_expect(&fd, "mac_set 100 02:00:00:00:aa:02 10.0.0.2");
	/* Our own MAC: no FDB entry to a VTEP. */
	fdp_expect(&fd, "mac_del 100 02:00:00:00:00:05");

	/* Only once. */
	fdp_clear(&fd);
	evpn_dp_settle(w.evpn);
	ck_assert_uint_eq(fd.ncalls, 0);
}
END_TEST

/*
 * The settling ends when every peer has sent End-of-RIB for l2vpn evpn
 * (bgpd's convergence hook), not after a fixed time: a late reflector's
 * routes are not swept before it could send them.
 */
START_TEST(test_settle_on_end_of_rib)
{
	remote_mac("02:00:00:00:aa:01", NULL, "10.0.0.2", -1, false);
	evpn_set_dataplane(w.evpn, &fd.ops);
	fp_run(&w);
	ck_assert(!bgp_family_converged(w.bgp, BGP_AID_L2VPN_EVPN));
	ck_assert_uint_eq(fdp_count(&fd, "sync_end"), 0);
	fdp_clear(&fd);
	fp_send_eor(rr);
	fp_run(&w);
	ck_assert(bgp_family_converged(w.bgp, BGP_AID_L2VPN_EVPN));
	ck_assert_str_eq(fd.calls[0], "sync_begin");
	ck_assert_str_eq(fd.calls[fd.ncalls - 1], "sync_end");
	ck_assert_uint_eq(fdp_count(&fd, "sync_end"), 1);
	/* A second End-of-RIB (a new session) sweeps nothing more. */
	fdp_clear(&fd);
	fp_send_eor(rr);
	fp_run(&w);
	ck_assert_uint_eq(fdp_count(&fd, "sync_"), 0);
}
END_TEST

/* Two reflectors, one down: the End-of-RIB of the other is not enough;
 * rib-stale-time (1 s here) ends the wait.  Peers that are shut down or
 * do not carry l2vpn evpn are not waited for. */
START_TEST(test_settle_waits_for_every_peer)
{
	static const char two[] =
	    "vxlan vx100\n vni 100\n bridge br100\n"
	    " local-tunnel-ip 10.0.0.11\n!\n"
	    "router bgp 65000\n bgp router-id 10.0.0.11\n"
	    " bgp graceful-restart rib-stale-time 1\n"
	    " neighbor 10.0.0.1 remote-as 65000\n"
	    " neighbor 10.0.0.3 remote-as 65000\n"
	    " neighbor 10.0.0.4 remote-as 65000\n"
	    " neighbor 10.0.0.4 shutdown\n"
	    " neighbor 10.0.0.5 remote-as 65000\n"
	    " address-family ipv4 unicast\n"
	    "  neighbor 10.0.0.5 activate\n"
	    " exit-address-family\n"
	    " address-family l2vpn evpn\n"
	    "  neighbor 10.0.0.1 activate\n"
	    "  neighbor 10.0.0.3 activate\n"
	    "  neighbor 10.0.0.4 activate\n"
	    "  advertise-all-vni\n"
	    " exit-address-family\nexit\n";
	struct timeval tv = { 1, 500000 };

	fp_world_free(&w);
	fp_reset();
	fp_world_start(&w, two);
	rr = fp_establish(&w, RR, &rr1);
	fp_run(&w);
	evpn_set_dataplane(w.evpn, &fd.ops);
	fp_send_eor(rr);
	fp_run(&w);
	ck_assert(!bgp_family_converged(w.bgp, BGP_AID_L2VPN_EVPN));
	ck_assert_uint_eq(fdp_count(&fd, "sync_end"), 0);
	event_base_loopexit(w.base, &tv);
	event_base_dispatch(w.base);
	ck_assert_uint_eq(fdp_count(&fd, "sync_end"), 1);
	ck_assert_str_eq(fd.calls[fd.ncalls - 1], "sync_end");
}
END_TEST

/* Nobody to wait for (no peer carries l2vpn evpn): settled at once. */
START_TEST(test_settle_without_peers)
{
	static const char none[] =
	    "vxlan vx100\n vni 100\n bridge br100\n"
	    " local-tunnel-ip 10.0.0.11\n!\n"
	    "router bgp 65000\n bgp router-id 10.0.0.11\n"
	    " address-family l2vpn evpn\n  advertise-all-vni\n"
	    " exit-address-family\nexit\n";

	fp_world_free(&w);
	fp_reset();
	fp_world_start(&w, none);
	evpn_set_dataplane(w.evpn, &fd.ops);
	ck_assert_str_eq(fd.calls[fd.ncalls - 1], "sync_end");
}
END_TEST

/* A resync (netlink overrun) while settling does not sweep either. */
START_TEST(test_resync_while_settling_does_not_sweep)
{
	remote_mac("02:00:00:00:aa:01", NULL, "10.0.0.2", -1, false);
	evpn_set_dataplane(w.evpn, &fd.ops);
	fdp_clear(&fd);
	evpn_dp_resync(w.evpn);
	ck_assert_str_eq(fd.calls[0], "sync_begin");
	fdp_expect(&fd, "mac_set 100 02:00:00:00:aa:01 10.0.0.2");
	ck_assert_uint_eq(fdp_count(&fd, "sync_end"), 0);
}
END_TEST

START_TEST(test_resync_after_settle_sweeps)
{
	struct evpn_route t3 = fp_imet("10.0.0.2:1", "10.0.0.2");
	size_t mac, flood;

	remote_mac("02:00:00:00:aa:01", NULL, "10.0.0.2", -1, false);
	remote(&t3, "10.0.0.2", "65000:100", -1, false);
	attach_settled();
	evpn_dp_resync(w.evpn);
	ck_assert_str_eq(fd.calls[0], "sync_begin");
	mac = fdp_expect(&fd, "mac_set 100 02:00:00:00:aa:01 10.0.0.2");
	flood = fdp_expect(&fd, "flood_add 100 10.0.0.2");
	ck_assert_str_eq(fd.calls[fd.ncalls - 1], "sync_end");
	ck_assert_uint_lt(mac, fd.ncalls - 1);
	ck_assert_uint_lt(flood, fd.ncalls - 1);
	ck_assert_uint_eq(fdp_count(&fd, "sync_"), 2);
}
END_TEST

/* Without a data plane evpn/ pushes nothing; detaching stops pushes. */
START_TEST(test_detached_pushes_nothing)
{
	attach_settled();
	evpn_set_dataplane(w.evpn, NULL);
	remote_mac("02:00:00:00:aa:01", NULL, "10.0.0.2", -1, false);
	evpn_dp_resync(w.evpn);
	evpn_dp_settle(w.evpn);
	ck_assert_uint_eq(fd.ncalls, 0);
}
END_TEST

/* A VNI whose devices could not be made gets no entries; others do. */
START_TEST(test_vni_not_ready_gets_nothing)
{
	struct evpn_route t5 = remote_t5();

	fd.fail_vni = 100;
	attach_settled();
	remote_mac("02:00:00:00:aa:01", NULL, "10.0.0.2", -1, false);
	ck_assert_uint_eq(fd.ncalls, 0);

	remote(&t5, "10.0.0.2", "65000:5000", -1, false);
	fdp_expect(&fd, "route_set 5000 10.30.0.0/24 10.0.0.2 "
	    "00:00:00:00:00:00");
}
END_TEST

/* ---- evpn_dp_resolve: one kernel state per group ----------------------- */

/* RFC 7432 §15: the highest sequence wins, on a tie the lower VTEP. */
START_TEST(test_mac_follows_mobility_winner)
{
	const char *m1 = "02:00:00:00:cc:01";

	attach_settled();
	remote_mac(m1, NULL, "10.0.0.4", 3, false);
	remote_mac(m1, NULL, "10.0.0.2", 1, false);
	ck_assert_str_eq(fdp_last(&fd, "mac_"),
	    "mac_set 100 02:00:00:00:cc:01 10.0.0.4");
	fdp_expect_none(&fd, "mac_set 100 02:00:00:00:cc:01 10.0.0.2");

	remote_mac(m1, NULL, "10.0.0.2", 3, false);
	ck_assert_str_eq(fdp_last(&fd, "mac_"),
	    "mac_set 100 02:00:00:00:cc:01 10.0.0.2");

	/* The winner leaves: the other VTEP takes over; then none. */
	remote_mac_withdraw(m1, NULL, "10.0.0.2");
	ck_assert_str_eq(fdp_last(&fd, "mac_"),
	    "mac_set 100 02:00:00:00:cc:01 10.0.0.4");
	remote_mac_withdraw(m1, NULL, "10.0.0.4");
	ck_assert_str_eq(fdp_last(&fd, "mac_"),
	    "mac_del 100 02:00:00:00:cc:01");
}
END_TEST

START_TEST(test_mac_sticky_wins_and_is_static)
{
	const char *m1 = "02:00:00:00:cc:02";

	attach_settled();
	remote_mac(m1, NULL, "10.0.0.2", 9, false);
	remote_mac(m1, NULL, "10.0.0.4", 0, true);
	ck_assert_str_eq(fdp_last(&fd, "mac_"),
	    "mac_set 100 02:00:00:00:cc:02 10.0.0.4 sticky");
}
END_TEST

/* MAC+IP: the FDB entry and the ARP entry; on withdrawal both go. */
START_TEST(test_macip_installs_neighbour)
{
	const char *m = "02:00:00:00:dd:01";

	attach_settled();
	remote_mac(m, "10.10.0.7", "10.0.0.2", -1, false);
	fdp_expect(&fd, "mac_set 100 02:00:00:00:dd:01 10.0.0.2");
	fdp_expect(&fd, "neigh_set 100 10.10.0.7 02:00:00:00:dd:01");

	fdp_clear(&fd);
	remote_mac_withdraw(m, "10.10.0.7", "10.0.0.2");
	ck_assert_str_eq(fdp_dump(&fd),
	    "\n  neigh_del 100 10.10.0.7 02:00:00:00:dd:01"
	    "\n  mac_del 100 02:00:00:00:dd:01");
}
END_TEST

/* The IPs of a VTEP that lost the MAC are not installed. */
START_TEST(test_macip_of_loser_not_installed)
{
	const char *m = "02:00:00:00:dd:02";

	attach_settled();
	remote_mac(m, NULL, "10.0.0.4", 5, false);
	fdp_clear(&fd);
	remote_mac(m, "10.10.0.8", "10.0.0.2", 0, false);
	ck_assert_str_eq(fdp_dump(&fd),
	    "\n  mac_set 100 02:00:00:00:dd:02 10.0.0.4");
}
END_TEST

/* A remote MAC we also have (our static 05): ours wins after the
 * sequence bump, so the FDB entry ends up not pointing away from here. */
START_TEST(test_local_mac_beats_remote)
{
	attach_settled();
	remote_mac("02:00:00:00:00:05", NULL, "10.0.0.2", -1, false);
	ck_assert_str_eq(sent_routes(), "+[2]:[0]:[48]:[02:00:00:00:00:05]:"
	    "[32]:[10.10.0.5] 10.0.0.11:100 seq 1");
	ck_assert_str_eq(fdp_last(&fd, "mac_"),
	    "mac_del 100 02:00:00:00:00:05");
}
END_TEST

START_TEST(test_type3_floods)
{
	struct evpn_route t3 = fp_imet("10.0.0.2:1", "10.0.0.2");

	attach_settled();
	remote(&t3, "10.0.0.2", "65000:100", -1, false);
	ck_assert_str_eq(fdp_dump(&fd), "\n  flood_add 100 10.0.0.2");
	fdp_clear(&fd);
	fp_withdraw(rr, &t3, 1);
	fp_run(&w);
	ck_assert_str_eq(fdp_dump(&fd), "\n  flood_del 100 10.0.0.2");
}
END_TEST

START_TEST(test_type5_routes_in_vrf)
{
	static const uint8_t rmac_ec[BGP_ECOMM_LEN] = { BGP_ECOMM_T_EVPN,
	    EVPN_ECOMM_ST_ROUTER_MAC, 0x02, 0, 0, 0, 0, 0x99 };
	struct evpn_route t5 = remote_t5();
	struct bgp_attrs a;

	attach_settled();
	fp_attrs_vtep(&a, "10.0.0.2", "65000:5000");
	bgp_ecomm_add(&a, rmac_ec);
	fp_announce(rr, &a, &t5, 1);
	bgp_attrs_clear(&a);
	fp_run(&w);
	ck_assert_str_eq(fdp_dump(&fd), "\n  route_set 5000 10.30.0.0/24 "
	    "10.0.0.2 02:00:00:00:00:99");
	fdp_clear(&fd);
	fp_withdraw(rr, &t5, 1);
	fp_run(&w);
	ck_assert_str_eq(fdp_dump(&fd), "\n  route_del 5000 10.30.0.0/24");
}
END_TEST

/* A route no VNI imports reaches no kernel. */
START_TEST(test_not_imported_not_installed)
{
	struct evpn_route r = fp_macip("10.0.0.2:1", "02:00:00:00:aa:03",
	    NULL, 100);

	attach_settled();
	remote(&r, "10.0.0.2", "65000:999", -1, false);
	ck_assert_uint_eq(fd.ncalls, 0);
}
END_TEST

/* A reload dropping a VNI removes its devices and sweeps. */
START_TEST(test_reload_removes_vni)
{
	static const char one_vni[] =
	    "vxlan vx100\n vni 100\n bridge br100\n local-tunnel-ip 10.0.0.11\n"
	    "!\n"
	    "router bgp 65000\n bgp router-id 10.0.0.11\n"
	    " neighbor 10.0.0.1 remote-as 65000\n"
	    " address-family l2vpn evpn\n  neighbor 10.0.0.1 activate\n"
	    "  advertise-all-vni\n exit-address-family\nexit\n";
	struct config *nc;
	char err[128];

	attach_settled();
	nc = fp_conf(one_vni);
	ck_assert_int_eq(evpn_reconfigure(w.evpn, nc, err, sizeof(err)), 0);
	conf_free(w.conf);
	w.conf = nc;
	fp_run(&w);
	ck_assert_str_eq(fd.calls[0], "vni_del 5000 vx5000");
	ck_assert_str_eq(fd.calls[1], VNI_ADD_100);
	fdp_expect(&fd, "sync_begin");
	ck_assert_str_eq(fd.calls[fd.ncalls - 1], "sync_end");
	ck_assert_uint_eq(fdp_count(&fd, "vni_add"), 1);
}
END_TEST

/* ---- local learning: kernel -> evpn/ ----------------------------------- */

#define P_AB01	"[2]:[0]:[48]:[02:00:00:00:ab:01]"

START_TEST(test_learned_mac_advertised_and_withdrawn)
{
	struct evpn_route r = fp_macip("10.0.0.11:100", "02:00:00:00:ab:01",
	    NULL, 100);
	struct macaddr m;

	attach_settled();
	ck_assert_int_eq(mac_parse("02:00:00:00:ab:01", &m), 0);
	evpn_dp_mac_learned(w.evpn, "br100", &m);
	fp_run(&w);
	ck_assert_str_eq(sent_routes(), "+" P_AB01 " 10.0.0.11:100");
	ck_assert_ptr_nonnull(fp_lookup(&w, &r));
	ck_assert_uint_eq(churns[EVPN_CHURN_LOCAL_LEARN], 1);
	/* Ours: never an FDB entry to a VTEP. */
	fdp_expect_none(&fd, "mac_set 100 02:00:00:00:ab:01 10.0.0.11");

	/* Learned again (an event repeated): nothing new. */
	evpn_dp_mac_learned(w.evpn, "br100", &m);
	fp_run(&w);
	ck_assert_str_eq(sent_routes(), "");

	evpn_dp_mac_gone(w.evpn, "br100", &m);
	fp_run(&w);
	ck_assert_str_eq(sent_routes(), "-" P_AB01 " 10.0.0.11:100");
	ck_assert_ptr_null(fp_lookup(&w, &r));
}
END_TEST

START_TEST(test_learned_neigh_advertised_and_withdrawn)
{
	struct macaddr m;
	struct ipaddr ip;

	attach_settled();
	ck_assert_int_eq(mac_parse("02:00:00:00:ab:01", &m), 0);
	ck_assert_int_eq(ipaddr_parse("10.10.0.9", &ip), 0);
	evpn_dp_mac_learned(w.evpn, "br100", &m);
	evpn_dp_neigh_learned(w.evpn, "br100", &ip, &m);
	fp_run(&w);
	ck_assert_str_eq(sent_routes(), "+" P_AB01 " 10.0.0.11:100; +" P_AB01
	    ":[32]:[10.10.0.9] 10.0.0.11:100");

	/* The neighbour goes, the MAC stays. */
	evpn_dp_neigh_gone(w.evpn, "br100", &ip);
	fp_run(&w);
	ck_assert_str_eq(sent_routes(), "-" P_AB01
	    ":[32]:[10.10.0.9] 10.0.0.11:100");

	/* The MAC goes with whatever IPs it still has. */
	evpn_dp_neigh_learned(w.evpn, "br100", &ip, &m);
	fp_run(&w);
	fp_skip(rr);
	evpn_dp_mac_gone(w.evpn, "br100", &m);
	fp_run(&w);
	ck_assert_str_eq(sent_routes(), "-" P_AB01
	    ":[32]:[10.10.0.9] 10.0.0.11:100; -" P_AB01 " 10.0.0.11:100");
}
END_TEST

/* A MAC at another VTEP appears here: it moved (RFC 7432 §15.1), we
 * advertise it above the remote sequence and take the FDB entry back. */
START_TEST(test_learned_mac_moved_here)
{
	struct macaddr m;

	attach_settled();
	remote_mac("02:00:00:00:ab:01", NULL, "10.0.0.2", 2, false);
	ck_assert_str_eq(fdp_last(&fd, "mac_"),
	    "mac_set 100 02:00:00:00:ab:01 10.0.0.2");
	fdp_clear(&fd);

	ck_assert_int_eq(mac_parse("02:00:00:00:ab:01", &m), 0);
	evpn_dp_mac_learned(w.evpn, "br100", &m);
	fp_run(&w);
	ck_assert_str_eq(sent_routes(), "+" P_AB01 " 10.0.0.11:100 seq 3");
	ck_assert_uint_eq(churns[EVPN_CHURN_MAC_MOVE], 1);
	ck_assert_uint_eq(churns[EVPN_CHURN_LOCAL_LEARN], 0);
	ck_assert_str_eq(fdp_last(&fd, "mac_"),
	    "mac_del 100 02:00:00:00:ab:01");
}
END_TEST

/* Only L2 VNIs' bridges learn; configured routes stay configured. */
START_TEST(test_learning_ignores_what_is_not_ours)
{
	struct macaddr m, m5, m6;
	struct ipaddr ip;

	attach_settled();
	ck_assert_int_eq(mac_parse("02:00:00:00:ab:01", &m), 0);
	ck_assert_int_eq(mac_parse("02:00:00:00:00:05", &m5), 0);
	ck_assert_int_eq(mac_parse("02:00:00:00:00:06", &m6), 0);
	ck_assert_int_eq(ipaddr_parse("10.10.0.5", &ip), 0);
	evpn_dp_mac_learned(w.evpn, "br999", &m);
	evpn_dp_mac_learned(w.evpn, "br5000", &m);
	evpn_dp_mac_learned(w.evpn, "br100", &m6);
	evpn_dp_neigh_learned(w.evpn, "br100", &ip, &m5);
	fp_run(&w);
	ck_assert_str_eq(sent_routes(), "");
	evpn_dp_mac_gone(w.evpn, "br100", &m6);
	evpn_dp_neigh_gone(w.evpn, "br100", &ip);
	fp_run(&w);
	ck_assert_str_eq(sent_routes(), "");
	ck_assert_uint_eq(churns[EVPN_CHURN_LOCAL_LEARN], 0);
}
END_TEST

static json_t *
vni_view(uint32_t vni)
{
	json_t *all = evpn_vni_json(w.evpn), *v;
	char key[16];

	snprintf(key, sizeof(key), "%u", vni);
	v = json_incref(json_object_get(json_object_get(all, "vnis"), key));
	json_decref(all);
	ck_assert_ptr_nonnull(v);
	return v;
}

static long long
vni_field(uint32_t vni, const char *name)
{
	json_t *v = vni_view(vni), *f = json_object_get(v, name);
	long long n;

	ck_assert_ptr_nonnull(f);
	n = json_is_boolean(f) ? json_is_true(f) : json_integer_value(f);
	json_decref(v);
	return n;
}

/*
 * A host spraying source MACs (issue 11): VNI 100 (mac-limit 3)
 * advertises three learned MACs and no more, and says so in the
 * counters and the VNI view; a neighbour of a MAC already counted
 * is no new MAC.  Back below 90% of the limit the bridge is read again,
 * and a reload that lifts the limit keeps the count of what was dropped.
 */
START_TEST(test_mac_limit)
{
	struct evpn_dp_counters c;
	struct macaddr m[5];
	struct ipaddr ip;
	struct config *nc;
	char text[32], err[128], *reload, *at;

	attach_settled();
	for (int i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "02:00:00:00:ab:%02x", i + 1);
		ck_assert_int_eq(mac_parse(text, &m[i]), 0);
		evpn_dp_mac_learned(w.evpn, "br100", &m[i]);
	}
	ck_assert_int_eq(ipaddr_parse("10.10.0.9", &ip), 0);
	evpn_dp_neigh_learned(w.evpn, "br100", &ip, &m[0]);
	evpn_dp_neigh_learned(w.evpn, "br100", &ip, &m[4]);
	fp_run(&w);
	ck_assert_str_eq(sent_routes(), "+" P_AB01 " 10.0.0.11:100; "
	    "+[2]:[0]:[48]:[02:00:00:00:ab:02] 10.0.0.11:100; "
	    "+[2]:[0]:[48]:[02:00:00:00:ab:03] 10.0.0.11:100; "
	    "+" P_AB01 ":[32]:[10.10.0.9] 10.0.0.11:100");
	evpn_get_dp_counters(w.evpn, &c);
	ck_assert_uint_eq(c.mac_limit_drops, 3);
	ck_assert_uint_eq(c.vnis_at_mac_limit, 1);
	ck_assert_int_eq(vni_field(100, "numLearnedMacs"), 3);
	ck_assert_int_eq(vni_field(100, "macLimit"), 3);
	ck_assert_int_eq(vni_field(100, "macLimitReached"), 1);
	ck_assert_int_eq(vni_field(100, "macLimitDrops"), 3);
	fdp_expect_none(&fd, "learn_again 100");

	/* 2 of 3 is below 90%: learning resumes, the bridge is read. */
	evpn_dp_mac_gone(w.evpn, "br100", &m[1]);
	fdp_expect(&fd, "learn_again 100");
	ck_assert_int_eq(vni_field(100, "macLimitReached"), 0);
	evpn_dp_mac_learned(w.evpn, "br100", &m[3]);
	fp_run(&w);
	ck_assert_str_eq(sent_routes(), "-[2]:[0]:[48]:[02:00:00:00:ab:02] "
	    "10.0.0.11:100; +[2]:[0]:[48]:[02:00:00:00:ab:04] 10.0.0.11:100");
	ck_assert_int_eq(vni_field(100, "numLearnedMacs"), 3);

	/* At the limit again; a reload to "mac-limit 0" (none) resumes. */
	evpn_dp_mac_learned(w.evpn, "br100", &m[4]);
	ck_assert_int_eq(vni_field(100, "macLimitReached"), 1);
	reload = xstrdup(conf);
	at = strstr(reload, "mac-limit 3");
	at[strlen("mac-limit ")] = '0';
	nc = fp_conf(reload);
	free(reload);
	fdp_clear(&fd);
	ck_assert_int_eq(evpn_reconfigure(w.evpn, nc, err, sizeof(err)), 0);
	conf_free(w.conf);
	w.conf = nc;
	fdp_expect(&fd, "learn_again 100");
	ck_assert_int_eq(vni_field(100, "numLearnedMacs"), 3);
	ck_assert_int_eq(vni_field(100, "macLimit"), 0);
	ck_assert_int_eq(vni_field(100, "macLimitDrops"), 4);
	evpn_dp_mac_learned(w.evpn, "br100", &m[4]);
	ck_assert_int_eq(vni_field(100, "numLearnedMacs"), 4);
}
END_TEST

/* A route whose next hop is vtep, from originator 10.0.0.99 (so a next
 * hop equal to our router id is not taken for a reflection loop). */
static void
remote_via(const struct evpn_route *r, const char *vtep, const char *rt)
{
	struct bgp_attrs a;

	fp_attrs_vtep(&a, vtep, rt);
	bgp_attrs_set_originator_id(&a, fp_ip4("10.0.0.99"));
	fp_announce(rr, &a, r, 1);
	bgp_attrs_clear(&a);
	fp_run(&w);
}

/*
 * Addresses no remote VTEP can have (issue 11): the unspecified
 * address, loopback, multicast, broadcast and our own tunnel address
 * never become FDB, flood or route entries, and are counted; a bad
 * claim with a higher sequence does not take a MAC from a good one.
 */
START_TEST(test_bad_vtep_not_installed)
{
	static const char *const bad[] = { "0.0.0.0", "127.0.0.1",
	    "224.0.0.5", "255.255.255.255", "10.0.0.11", "::1", "ff02::1" };
	struct evpn_dp_counters c;
	struct evpn_route r, t5 = remote_t5();
	char rd[RD_STRLEN];

	attach_settled();
	for (size_t i = 0; i < nitems(bad); i++) {
		snprintf(rd, sizeof(rd), "10.0.0.%zu:1", 50 + i);
		r = fp_macip(rd, "02:00:00:00:ee:01", NULL, 100);
		remote_via(&r, bad[i], "65000:100");
	}
	r = fp_imet("127.0.0.1:1", "127.0.0.1");
	remote_via(&r, "127.0.0.1", "65000:100");
	remote_via(&t5, "224.0.0.1", "65000:5000");
	/* Groups without a usable route: nothing set (deletes are fine). */
	ck_assert_msg(fdp_count(&fd, "mac_set") + fdp_count(&fd, "flood_add") +
	    fdp_count(&fd, "route_set") == 0, "calls:%s", fdp_dump(&fd));
	evpn_get_dp_counters(w.evpn, &c);
	ck_assert_uint_eq(c.bad_vtep, nitems(bad) + 2);

	/* A good VTEP's claim wins over a bad one with a higher sequence. */
	remote_mac("02:00:00:00:ee:02", NULL, "10.0.0.2", 1, false);
	r = fp_macip("10.0.0.60:1", "02:00:00:00:ee:02", NULL, 100);
	{
		struct bgp_attrs a;

		fp_attrs_vtep(&a, "127.0.0.2", "65000:100");
		fp_attrs_mobility(&a, 7, false);
		fp_announce(rr, &a, &r, 1);
		bgp_attrs_clear(&a);
		fp_run(&w);
	}
	ck_assert_str_eq(fdp_last(&fd, "mac_"),
	    "mac_set 100 02:00:00:00:ee:02 10.0.0.2");
	fdp_expect_none(&fd, "mac_del 100 02:00:00:00:ee:02");
}
END_TEST

/* A type-5 prefix with host bits set is refused, not masked: the route
 * for the masked prefix, from another VTEP, stays alone in the kernel. */
START_TEST(test_type5_host_bits_refused)
{
	struct evpn_dp_counters c;
	struct evpn_route bad, good = remote_t5();
	struct prefix p;
	struct rd d;

	attach_settled();
	ck_assert_int_eq(rd_parse("10.0.0.3:2", &d), 0);
	ck_assert_int_eq(prefix_parse("10.30.0.5/24", &p, true), 0);
	p.addr.u.b[3] = 5;
	ck_assert_int_eq(evpn_route_make_prefix(&bad, &d, &p, NULL, 5000), 0);
	remote(&good, "10.0.0.2", "65000:5000", -1, false);
	remote(&bad, "10.0.0.3", "65000:5000", -1, false);
	/* Nothing at all for the bad one, not even a delete. */
	ck_assert_str_eq(fdp_dump(&fd), "\n  route_set 5000 10.30.0.0/24 "
	    "10.0.0.2 00:00:00:00:00:00");
	evpn_get_dp_counters(w.evpn, &c);
	ck_assert_uint_eq(c.bad_prefix, 1);
	/* Its withdrawal touches nothing either. */
	fp_withdraw(rr, &bad, 1);
	fp_run(&w);
	ck_assert_uint_eq(fd.ncalls, 1);
}
END_TEST

/* ---- router MACs reserved in the IPAM ---------------------------------- */

/* VTEP vtep's route r naming router MAC rmac, imported by rt. */
static void
remote_rmac(const struct evpn_route *r, const char *vtep, const char *rt,
    const char *rmac)
{
	uint8_t ec[BGP_ECOMM_LEN] = { BGP_ECOMM_T_EVPN,
	    EVPN_ECOMM_ST_ROUTER_MAC };
	struct bgp_attrs a;
	struct macaddr m;

	ck_assert_int_eq(mac_parse(rmac, &m), 0);
	memcpy(ec + 2, m.b, 6);
	fp_attrs_vtep(&a, vtep, rt);
	bgp_ecomm_add(&a, ec);
	fp_announce(rr, &a, r, 1);
	bgp_attrs_clear(&a);
	fp_run(&w);
}

static bool
reserved(struct ipam *ipam, const char *mac)
{
	struct macaddr m;

	ck_assert_int_eq(mac_parse(mac, &m), 0);
	return ipam_mac_reserved(ipam, &m);
}

/*
 * The IPAM never hands out a router MAC: ours (derived from router id
 * 10.0.0.11, the MAC of both bridges) from the moment it is attached,
 * and those received routes name while one does, across a reload that
 * re-runs the import; a reload changing our router MAC moves the
 * reservation.  The data plane is not involved.
 */
START_TEST(test_router_macs_reserved_in_ipam)
{
	static const char *const rmac2 = "02:00:0a:00:00:02";
	struct evpn_route t5 = remote_t5();
	struct evpn_route t2 = fp_macip("10.0.0.2:1", "02:00:00:00:aa:01",
	    "10.10.0.9", 100);
	struct ipam *ipam = ipam_new();
	static char text[sizeof(conf) + 64];
	const char *cut;
	char err[128];
	struct config *nc;

	evpn_set_ipam(w.evpn, ipam);
	ck_assert(reserved(ipam, "02:00:0a:00:00:0b"));
	ck_assert_uint_eq(ipam_macs_reserved(ipam), 1);
	remote_rmac(&t5, "10.0.0.2", "65000:5000", rmac2);
	ck_assert(reserved(ipam, rmac2));
	remote_rmac(&t2, "10.0.0.2", "65000:100", rmac2);
	/* A reload re-imports what is there: nothing counted twice. */
	ck_assert_int_eq(evpn_reconfigure(w.evpn, w.conf, err, sizeof(err)),
	    0);
	fp_withdraw(rr, &t5, 1);
	fp_run(&w);
	ck_assert_msg(reserved(ipam, rmac2), "the type-2 route still names it");
	fp_withdraw(rr, &t2, 1);
	fp_run(&w);
	ck_assert(!reserved(ipam, rmac2));
	ck_assert_uint_eq(ipam_macs_reserved(ipam), 1);
	/* Detached, the IPAM holds nothing of ours; attached, all again. */
	remote_rmac(&t5, "10.0.0.2", "65000:5000", rmac2);
	evpn_set_ipam(w.evpn, NULL);
	ck_assert_uint_eq(ipam_macs_reserved(ipam), 0);
	evpn_set_ipam(w.evpn, ipam);
	ck_assert_uint_eq(ipam_macs_reserved(ipam), 2);
	/* A configured router-mac for the VRF: reserved, the derived one
	 * stays for the L2 VNI's bridge. */
	cut = strstr(conf, " table 1000\n") + strlen(" table 1000\n");
	snprintf(text, sizeof(text), "%.*s router-mac 02:aa:00:00:00:01\n%s",
	    (int)(cut - conf), conf, cut);
	nc = fp_conf(text);
	ck_assert_int_eq(evpn_reconfigure(w.evpn, nc, err, sizeof(err)), 0);
	conf_free(w.conf);
	w.conf = nc;
	ck_assert(reserved(ipam, "02:aa:00:00:00:01"));
	ck_assert(reserved(ipam, "02:00:0a:00:00:0b"));
	ck_assert_uint_eq(ipam_macs_reserved(ipam), 3);
	evpn_set_ipam(w.evpn, NULL);
	ck_assert_uint_eq(ipam_macs_reserved(ipam), 0);
	ipam_free(ipam);
}
END_TEST

static Suite *
evpn_dp_suite(void)
{
	Suite *s = suite_create("evpn_dp");
	TCase *tc = tcase_create("evpn_dp");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_attach_defers_sweep_until_settle);
	tcase_add_test(tc, test_settle_on_end_of_rib);
	tcase_add_test(tc, test_settle_waits_for_every_peer);
	tcase_add_test(tc, test_settle_without_peers);
	tcase_add_test(tc, test_resync_while_settling_does_not_sweep);
	tcase_add_test(tc, test_resync_after_settle_sweeps);
	tcase_add_test(tc, test_detached_pushes_nothing);
	tcase_add_test(tc, test_vni_not_ready_gets_nothing);
	tcase_add_test(tc, test_mac_follows_mobility_winner);
	tcase_add_test(tc, test_mac_sticky_wins_and_is_static);
	tcase_add_test(tc, test_macip_installs_neighbour);
	tcase_add_test(tc, test_macip_of_loser_not_installed);
	tcase_add_test(tc, test_local_mac_beats_remote);
	tcase_add_test(tc, test_type3_floods);
	tcase_add_test(tc, test_type5_routes_in_vrf);
	tcase_add_test(tc, test_not_imported_not_installed);
	tcase_add_test(tc, test_reload_removes_vni);
	tcase_add_test(tc, test_learned_mac_advertised_and_withdrawn);
	tcase_add_test(tc, test_learned_neigh_advertised_and_withdrawn);
	tcase_add_test(tc, test_learned_mac_moved_here);
	tcase_add_test(tc, test_learning_ignores_what_is_not_ours);
	tcase_add_test(tc, test_mac_limit);
	tcase_add_test(tc, test_bad_vtep_not_installed);
	tcase_add_test(tc, test_type5_host_bits_refused);
	tcase_add_test(tc, test_router_macs_reserved_in_ipam);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(evpn_dp_suite());
	int failed;

	log_init("test_evpn_dp", LOG_DEST_STDOUT, NULL,
	    getenv("TEST_VERBOSE") ? LOG_DEBUG : LOG_ERR);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
