#!/usr/bin/env bash
#
# evpnd against FRR 8.4: the BGP session foundation.
#
#   rr  (FRR, AS 65000, 10.0.0.1)  ---- 10.0.0.0/24 ----  l1 (evpnd, 10.0.0.11)
#   rr2 (FRR, AS 65000, 10.0.1.2)  ---- 10.0.1.0/24 ----  l1 (10.0.1.11)
#
# rr reflects l2vpn evpn to l1; rr2 only joins when a SIGHUP adds it.
# Cases: TCP MD5 (RFC 2385) session up and really signed; hold timer
# expiry with "timers 3 9" (RFC 4271 6.5); reconnect after an FRR
# restart; SIGHUP adding a neighbor leaves the first session alone;
# SIGHUP with a broken config keeps the running one; clean SIGTERM.
# Polls instead of sleeping; about a minute on an idle machine.

. "$(dirname "$0")/lib.sh"
require_root_tools

RR=10.0.0.1
RR2=10.0.1.2
L1=10.0.0.11
L1_B=10.0.1.11

# $1 neighbor address, $2 MD5 password, $3 router-id
frr_conf()
{
	cat <<EOF
hostname rr-$3
router bgp 65000
 bgp router-id $3
 no bgp default ipv4-unicast
 neighbor $1 remote-as 65000
 neighbor $1 password $2
 neighbor $1 timers connect 2
 address-family l2vpn evpn
  neighbor $1 activate
  neighbor $1 route-reflector-client
 exit-address-family
exit
EOF
}

l1_neighbor()
{
	cat <<EOF
 neighbor $1 remote-as 65000
 neighbor $1 description $2
 neighbor $1 password s3cret
 neighbor $1 timers 3 9
 neighbor $1 timers connect 2
EOF
}

# $@: neighbors as ADDR:DESCRIPTION
l1_conf()
{
	local n
	printf 'hostname l1\nlog stdout debugging\nrouter bgp 65000\n'
	printf ' bgp router-id %s\n' "$L1"
	for n in "$@"; do
		l1_neighbor "${n%%:*}" "${n#*:}"
	done
	printf ' address-family l2vpn evpn\n'
	for n in "$@"; do
		printf '  neighbor %s activate\n' "${n%%:*}"
	done
	printf ' exit-address-family\nexit\n'
}

ns_create rr
ns_create rr2
ns_create l1
link_add rr eth-l1 "$RR/24" l1 eth-rr "$L1/24"
link_add rr2 eth-l1 "$RR2/24" l1 eth-rr2 "$L1_B/24"

frr_start rr rr "$(frr_conf "$L1" s3cret "$RR")"
frr_start rr2 rr2 "$(frr_conf "$L1_B" s3cret 10.0.0.2)"
evpnd_start l1 l1 "$(l1_conf "$RR:rr")"

both_up()
{
	evpnd_peer_established l1 "$RR" && frr_peer_established rr "$L1"
}

both_down()
{
	evpnd_peer_not_established l1 "$RR" && ! frr_peer_established rr "$L1"
}

# ---- 1. Established with TCP MD5 on both sides
check "MD5 session: evpnd sees $RR Established" \
    wait_for 30 evpnd_peer_established l1 "$RR"
check "MD5 session: FRR sees $L1 Established" \
    wait_for 10 frr_peer_established rr "$L1"
both_up || bail_out "no session between evpnd and FRR"

# ---- 2. MD5 really on: a wrong key on FRR's side keeps it down.  The
# kernel's TCPMD5Failure counter proves segments arrived and were
# rejected for their signature, so no fixed sleep is needed.
md5_failures()
{
	echo $(($(ns_tcpext_counter rr TCPMD5Failure) + \
	    $(ns_tcpext_counter l1 TCPMD5Failure)))
}
md5_base=$(md5_failures)
frr_configure rr rr 'router bgp 65000' "neighbor $L1 password wrong" >/dev/null
md5_rejected()
{
	[ "$(md5_failures)" -gt "$md5_base" ]
}
wait_for 15 both_down
check "wrong MD5 key: segments rejected by the kernel" wait_for 20 md5_rejected
check "wrong MD5 key: session stays down" both_down
frr_configure rr rr 'router bgp 65000' "neighbor $L1 password s3cret" >/dev/null
check "MD5 key fixed: session back up" wait_for 30 both_up

# ---- 3. timers 3 9: FRR's bgpd frozen, evpnd's hold timer fires.
frr_hold_ms()
{
	frr_vtysh_raw rr "show bgp neighbors $L1 json" |
	    jq -er --arg p "$L1" '.[$p].bgpTimerHoldTimeMsecs'
}
check "hold time 9 s negotiated (FRR side)" test "$(frr_hold_ms)" = 9000
hold_reason_ok()
{
	evpnd_neighbor_field l1 "$RR" '.lastResetDueTo' |
	    grep -qi 'hold timer expired'
}
kill -STOP "$(frr_bgpd_pid rr)"
t0=$(now_ms)
check "bgpd stopped: evpnd leaves Established within 12 s" \
    wait_for 12 evpnd_peer_not_established l1 "$RR"
log_info "session dropped after $(($(now_ms) - t0)) ms"
check "last reset: Hold Timer Expired" hold_reason_ok

# ---- 4. SIGCONT, restart FRR's bgpd: evpnd reconnects.
kill -CONT "$(frr_bgpd_pid rr)"
frr_bgpd_stop rr
frr_set_conf rr "$(frr_conf "$L1" s3cret "$RR")"
frr_bgpd_start rr
check "FRR restarted: session re-established" wait_for 40 both_up

# ---- 5. SIGHUP adding rr2: new session up, the first one untouched.
wait_for 10 both_up
frr_est0=$(frr_peer_field rr "$L1" connectionsEstablished)
frr_drop0=$(frr_peer_field rr "$L1" connectionsDropped)
frr_up0=$(frr_peer_field rr "$L1" peerUptimeMsec)
evpnd_est0=$(evpnd_neighbor_field l1 "$RR" '.connectionsEstablished')
series="evpnd_bgp_state_changes_total{peer=\"$RR\"}"
evpnd_sc0=$(evpnd_metric l1 "$series")
evpnd_reload l1 "$(l1_conf "$RR:rr" "$RR2:rr2")"
check "SIGHUP add: evpnd sees $RR2 Established" \
    wait_for 30 evpnd_peer_established l1 "$RR2"
check "SIGHUP add: FRR rr2 sees $L1_B Established" \
    wait_for 10 frr_peer_established rr2 "$L1_B"
first_session_untouched()
{
	local est drop up eest sc
	est=$(frr_peer_field rr "$L1" connectionsEstablished)
	drop=$(frr_peer_field rr "$L1" connectionsDropped)
	up=$(frr_peer_field rr "$L1" peerUptimeMsec)
	eest=$(evpnd_neighbor_field l1 "$RR" '.connectionsEstablished')
	sc=$(evpnd_metric l1 "$series")
	log_info "FRR est $frr_est0->$est drop $frr_drop0->$drop" \
	    "uptime $frr_up0->$up; evpnd est $evpnd_est0->$eest" \
	    "state changes $evpnd_sc0->$sc"
	both_up && [ "$est" = "$frr_est0" ] && [ "$drop" = "$frr_drop0" ] &&
	    [ "$up" -ge "$frr_up0" ] && [ "$eest" = "$evpnd_est0" ] &&
	    [ -n "$sc" ] && [ "$sc" = "$evpnd_sc0" ]
}
check "SIGHUP add: first session stayed up, no state changes" \
    first_session_untouched

# ---- 6. SIGHUP with a broken config: keep running on the old one.
reload_errors()
{
	evpnd_metric l1 'evpnd_config_reloads_total{result="error"}'
}
reload_failed_seen()
{
	grep -qi 'reload failed' "$(evpnd_log_path l1)" ||
	    [ "$(reload_errors)" -gt 0 ] 2>/dev/null
}
running_config_kept()
{
	evpnctl_in l1 show running-config | grep -q "neighbor $RR2 remote-as"
}
frr_est1=$(frr_peer_field rr "$L1" connectionsEstablished)
evpnd_reload l1 "$(printf 'router bgp 65000\n neighbor 10.0.0.1 bogus-knob\n')"
check "broken config: reload rejected" wait_for 10 reload_failed_seen
check "broken config: evpnd still running" pid_alive "$(evpnd_pid l1)"
check "broken config: running config kept" running_config_kept
sessions_kept()
{
	both_up && evpnd_peer_established l1 "$RR2" &&
	    [ "$(frr_peer_field rr "$L1" connectionsEstablished)" = "$frr_est1" ]
}
check "broken config: sessions still up" sessions_kept

# ---- 7. SIGTERM: exit 0, no sanitizer report, FRR told at once (a
# NOTIFICATION or a close, not its hold timer).
sanitizer_clean()
{
	! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	    "$(evpnd_log_path l1)"
}
evpnd_stop l1
stop_rc=$?
check "SIGTERM: evpnd exits 0 (exit $stop_rc)" test "$stop_rc" -eq 0
check "SIGTERM: no sanitizer reports" sanitizer_clean
rr_down()
{
	! frr_peer_established rr "$L1"
}
check "SIGTERM: FRR sees the session end within 5 s" wait_for 5 rr_down

summary
