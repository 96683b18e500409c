/*
 * libFuzzer target: UPDATE sequences applied to the RIB, not only
 * decoded.  A whole routing core (bgp + RIB + EVPN module, as
 * tests/unit/fake_peer.h builds it, with the l2vpn evpn family that
 * evpn_create() registers) gets one Established peer on the fake
 * transport; the input's UPDATEs are delivered to that peer in order,
 * then the session goes down.
 *
 * How this works: the first byte picks the peer (iBGP or eBGP, which
 * decode AS_PATH and LOCAL_PREF differently); the rest is a sequence of
 * UPDATE bodies, each behind a 2-byte big-endian length, wrapped in a
 * BGP header and handed to the FSM as the transport would.  Delivery
 * stops when the session resets (a NOTIFICATION for a malformed
 * message).  Invariants checked after the peer goes: the RIB holds no
 * entry and no path (there is no graceful restart, so nothing stays
 * stale), and freeing the core gives back every interned attribute set
 * (fp_world_free() asserts it); ASan reports leaks.
 *
 * fake_peer.c asserts with check's ck_assert(), which only works inside
 * a check test run: each input runs as the one test of a suite run
 * without fork(), and a failed assertion aborts, as a crash would.
 */
#include <check.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgpd/bgp_af.h"
#include "bgpd/bgp_msg.h"
#include "tests/unit/fake_peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RIB_IBGP	"10.0.0.1"
#define RIB_EBGP	"10.0.0.5"
#define RIB_MAX_UPDATES	16

static const char rib_conf[] =
    "router bgp 65000\n"
    " bgp router-id 10.0.0.11\n"
    " neighbor 10.0.0.1 remote-as 65000\n"
    " neighbor 10.0.0.5 remote-as 65100\n"
    " address-family l2vpn evpn\n"
    "  neighbor 10.0.0.1 activate\n"
    "  neighbor 10.0.0.5 activate\n"
    " exit-address-family\n"
    "exit\n";

static const struct fp_remote remote_ibgp = { 65000, "10.0.0.9", false, 0,
    false, false, false };
static const struct fp_remote remote_ebgp = { 65100, "10.0.0.5", false, 0,
    false, false, false };

static void
check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_rib: invariant broken: %s\n", what);
		abort();
	}
}

static bool
peer_up(struct bgp_peer *peer)
{
	return peer->state == BGP_ST_ESTABLISHED && peer->conn != NULL;
}

/* Wraps body in a BGP header (RFC 4271 §4.1) and delivers it; false when
 * the framing refuses it (an UPDATE shorter than 23 bytes), where the
 * transport would end the session before the FSM sees the message. */
static bool
deliver_update(struct bgp_peer *peer, const uint8_t *body, size_t len)
{
	uint8_t msg[BGP_MAX_MSG_LEN], type;
	size_t total = BGP_HDR_LEN + len;
	struct bgp_notify err;
	uint16_t mlen;

	memset(msg, 0xff, 16);
	msg[16] = (uint8_t)(total >> 8);
	msg[17] = (uint8_t)total;
	msg[18] = BGP_MSG_UPDATE;
	memcpy(msg + BGP_HDR_LEN, body, len);
	if (bgp_hdr_parse(msg, bgp_fsm_max_msg_len(peer->conn), &type, &mlen,
	    &err) == -1)
		return false;
	fp_deliver(fp_conn_of(peer), msg, total);
	return true;
}

static void
feed_updates(struct fp_world *w, struct bgp_peer *peer, const uint8_t *data,
    size_t size)
{
	size_t len, n;

	for (n = 0; n < RIB_MAX_UPDATES && size >= 2 && peer_up(peer); n++) {
		len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		if (len > BGP_MAX_MSG_LEN - BGP_HDR_LEN)
			len = BGP_MAX_MSG_LEN - BGP_HDR_LEN;
		if (!deliver_update(peer, data, len))
			break;
		fp_run(w);
		data += len;
		size -= len;
	}
}

static void
report_failures(SRunner *sr)
{
	TestResult **tr = srunner_failures(sr);
	int i, n = srunner_ntests_failed(sr);

	for (i = 0; i < n; i++)
		fprintf(stderr, "fuzz_rib: %s:%d: %s\n", tr_lfile(tr[i]),
		    tr_lno(tr[i]), tr_msg(tr[i]));
	free(tr);
}

/* The input of the check test below. */
static const uint8_t *input;
static size_t input_len;

static void
run_input(const uint8_t *data, size_t size)
{
	struct fp_world w;
	struct bgp_peer *peer;
	bool ebgp;

	ebgp = data[0] & 1;
	fp_world_start(&w, rib_conf);
	fp_establish(&w, ebgp ? RIB_EBGP : RIB_IBGP,
	    ebgp ? &remote_ebgp : &remote_ibgp);
	fp_run(&w);
	peer = fp_peer(&w, ebgp ? RIB_EBGP : RIB_IBGP);
	feed_updates(&w, peer, data + 1, size - 1);
	if (peer_up(peer))
		bgp_fsm_conn_event(peer->conn, BGP_EV_CONN_CLOSED, "fuzz");
	fp_run(&w);
	check(peer->state != BGP_ST_ESTABLISHED, "peer still up");
	check(bgp_rib_count(w.rib, BGP_AID_L2VPN_EVPN) == 0,
	    "RIB entries left after the peer went down");
	check(bgp_rib_path_count(w.rib) == 0,
	    "RIB paths left after the peer went down");
	fp_world_free(&w);
	fp_reset();
}

/*
 * check's runner replaces SIGALRM's handler with its fork mode's
 * timeout, which kills the process group (killpg(0, SIGKILL) without
 * fork: the fuzzer, and whatever script runs it).  libFuzzer's
 * -timeout raises SIGALRM.  So SIGALRM is held while check's handler
 * is in place, and the input runs under libFuzzer's handler, where a
 * hang is still reported.
 */
static struct sigaction fuzzer_alarm;
static sigset_t alarm_set;

static void
alarm_hold(bool hold)
{
	sigprocmask(hold ? SIG_BLOCK : SIG_UNBLOCK, &alarm_set, NULL);
}

START_TEST(rib_input)
{
	struct sigaction checks;

	sigaction(SIGALRM, &fuzzer_alarm, &checks);
	alarm_hold(false);
	run_input(input, input_len);
	alarm_hold(true);
	sigaction(SIGALRM, &checks, NULL);
}
END_TEST

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Suite *s;
	TCase *tc;
	SRunner *sr;
	int failed;

	if (size < 1)
		return 0;
	input = data;
	input_len = size;
	sigemptyset(&alarm_set);
	sigaddset(&alarm_set, SIGALRM);
	alarm_hold(true);
	sigaction(SIGALRM, NULL, &fuzzer_alarm);
	s = suite_create("fuzz_rib");
	tc = tcase_create("input");
	tcase_add_test(tc, rib_input);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_SILENT);
	alarm_hold(false);	/* check's handler is gone again */
	if ((failed = srunner_ntests_failed(sr)) > 0)
		report_failures(sr);
	srunner_free(sr);
	check(failed == 0, "a fake_peer assertion failed");
	return 0;
}
