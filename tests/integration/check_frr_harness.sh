#!/usr/bin/env bash
#
# Self-test of lib.sh without evpnd: two FRR instances in namespaces
# peer over l2vpn evpn with TCP MD5.  Proves the harness (namespaces,
# FRR start/stop, vtysh queries, MD5 counters, cleanup) on a machine
# before blaming evpnd for a failure in test_bgp_frr.sh.  Not run by
# scripts/test.sh (it tests FRR, not evpnd).

. "$(dirname "$0")/lib.sh"
require_root_tools

frr_conf()
{
	# $1 router-id, $2 neighbor, $3 password
	cat <<EOF
hostname $1
router bgp 65000
 bgp router-id $1
 no bgp default ipv4-unicast
 neighbor $2 remote-as 65000
 neighbor $2 password $3
 neighbor $2 timers 3 9
 neighbor $2 timers connect 2
 address-family l2vpn evpn
  neighbor $2 activate
 exit-address-family
exit
EOF
}

ns_create a
ns_create b
link_add a eth0 10.0.0.1/24 b eth0 10.0.0.11/24

frr_start a a "$(frr_conf 10.0.0.1 10.0.0.11 s3cret)"
frr_start b b "$(frr_conf 10.0.0.11 10.0.0.1 wrong)"

md5_failures()
{
	[ "$(ns_tcpext_counter a TCPMD5Failure)" -gt 0 ] ||
	    [ "$(ns_tcpext_counter b TCPMD5Failure)" -gt 0 ]
}
check "wrong MD5 password: kernel drops signed segments" wait_for 20 md5_failures
a_not_established()
{
	! frr_peer_established a 10.0.0.11
}
check "wrong MD5 password: no session" a_not_established

frr_configure b b 'router bgp 65000' 'neighbor 10.0.0.1 password s3cret' >/dev/null
check "right MD5 password: Established on a" wait_for 30 frr_peer_established a 10.0.0.11
check "right MD5 password: Established on b" wait_for 10 frr_peer_established b 10.0.0.1

# Changing the key of an Established session resets it (test_bgp_frr.sh
# relies on this).
base=$(($(ns_tcpext_counter a TCPMD5Failure) + $(ns_tcpext_counter b TCPMD5Failure)))
more_md5_failures()
{
	[ $(($(ns_tcpext_counter a TCPMD5Failure) + $(ns_tcpext_counter b TCPMD5Failure))) -gt "$base" ]
}
frr_configure a a 'router bgp 65000' 'neighbor 10.0.0.11 password other' >/dev/null
check "key changed: session reset" wait_for 10 a_not_established
check "key changed: kernel drops segments" wait_for 20 more_md5_failures
frr_configure a a 'router bgp 65000' 'neighbor 10.0.0.11 password s3cret' >/dev/null
check "key restored: Established" wait_for 30 frr_peer_established a 10.0.0.11

kill -STOP "$(frr_bgpd_pid b)"
t0=$(now_ms)
check "hold timer expires on a after SIGSTOP of b" \
    wait_for 15 a_not_established
log_info "session dropped after $(($(now_ms) - t0)) ms"
kill -CONT "$(frr_bgpd_pid b)"
frr_bgpd_stop b
frr_set_conf b "$(frr_conf 10.0.0.11 10.0.0.1 s3cret)"
frr_bgpd_start b
check "restarted bgpd re-establishes" wait_for 30 frr_peer_established a 10.0.0.11

summary
