/*
 * evpnctl's EVPN commands: show bgp l2vpn evpn, show evpn vni,
 * show evpn mac vni N, show evpn convergence.  Text output is modelled
 * on FRR's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/evpnctl.h"

static const char *
jstr_or(const json_t *o, const char *key, const char *dflt)
{
	const char *s = jstr(o, key, NULL);

	return s && *s ? s : dflt;
}

/* Args follow the syntax: "route-type <T>" and/or "vni <VNI>". */
static int
routes_query(const struct ctl_cmd *cmd, char **args, int nargs, char *q,
    size_t qlen)
{
	int i = 0;
	const char *type = NULL, *vni = NULL;

	if (strstr(cmd->syntax, "route-type") && i < nargs)
		type = args[i++];
	if (strstr(cmd->syntax, " vni ") && i < nargs)
		vni = args[i++];
	if (type && strcmp(type, "2") && strcmp(type, "3") &&
	    strcmp(type, "5")) {
		fprintf(stderr, "evpnctl: route-type must be 2, 3 or 5\n");
		return -1;
	}
	if (vni && strspn(vni, "0123456789") != strlen(vni)) {
		fprintf(stderr, "evpnctl: bad VNI %s\n", vni);
		return -1;
	}
	snprintf(q, qlen, "/v1/evpn/routes%s%s%s%s%s", type || vni ? "?" : "",
	    type ? "type=" : "", type ? type : "", type && vni ? "&" : "",
	    vni ? "vni=" : "");
	if (vni)
		strncat(q, vni, qlen - strlen(q) - 1);
	return 0;
}

static void
print_route(const json_t *r)
{
	const json_t *rts = json_object_get(r, "routeTargets");
	size_t i;
	json_t *rt;

	printf("%s%s %-10s %s\n", jbool(r, "best") ? "*>" : "* ",
	    jbool(r, "stale") ? "S" : " ", jstr(r, "rd", "?"),
	    jstr(r, "prefix", "?"));
	printf("        nexthop %s, VNI %lld, peer %s", jstr_or(r, "nexthop",
	    "-"), jint(r, "vni"), jstr(r, "peer", "?"));
	if (jint(r, "mobilitySeq") || jbool(r, "sticky"))
		printf(", MM:%lld%s", jint(r, "mobilitySeq"),
		    jbool(r, "sticky") ? " sticky" : "");
	if (json_is_string(json_object_get(r, "routerMac")))
		printf(", Rmac:%s", jstr(r, "routerMac", ""));
	printf("\n        RT:");
	json_array_foreach(rts, i, rt)
		printf(" %s", json_string_value(rt));
	printf("%s\n", json_is_string(json_object_get(r, "encap")) ?
	    " ET:8" : "");
}

static void
print_evpn_routes(const json_t *o)
{
	json_t *r;
	size_t i;

	printf("Status codes: * valid, > best, S stale\n");
	json_array_foreach(json_object_get(o, "routes"), i, r)
		print_route(r);
	printf("\nDisplayed %lld paths\n", jint(o, "total"));
}

int
run_evpn_routes(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	char path[128];

	if (routes_query(cmd, args, nargs, path, sizeof(path)) == -1)
		return 2;
	return api_show(ctl, path, print_evpn_routes);
}

static void
print_list(const char *title, const json_t *l)
{
	size_t i;
	json_t *v;

	printf("  %s:", title);
	json_array_foreach(l, i, v)
		printf(" %s", json_string_value(v));
	printf("\n");
}

static void
print_mac_counts(const json_t *v)
{
	printf("  MACs: %lld local, %lld remote\n", jint(v, "numLocalMacs"),
	    jint(v, "numRemoteMacs"));
	printf("  Learned MACs: %lld, limit ", jint(v, "numLearnedMacs"));
	if (jint(v, "macLimit") == 0)
		printf("none");
	else
		printf("%lld%s", jint(v, "macLimit"),
		    jbool(v, "macLimitReached") ? " (REACHED)" : "");
	printf(", not advertised: %lld\n", jint(v, "macLimitDrops"));
}

static void
print_evpn_vni(const json_t *o)
{
	const char *key;
	json_t *v;

	printf("Advertise All VNI flag: %s\nNumber of VNIs: %lld\n\n",
	    jbool(o, "advertiseAllVni") ? "Enabled" : "Disabled",
	    jint(o, "numVnis"));
	json_object_foreach(json_object_get(o, "vnis"), key, v) {
		printf("VNI: %s (%s)\n  VxLAN interface: %s, bridge %s, local "
		    "VTEP %s\n  RD: %s\n", key, jstr(v, "type", "?"),
		    jstr(v, "vxlanIf", "?"), jstr_or(v, "bridge", "-"),
		    jstr(v, "localVtep", "?"), jstr(v, "rd", "?"));
		print_list("Import RTs", json_object_get(v, "importRts"));
		print_list("Export RTs", json_object_get(v, "exportRts"));
		if (json_object_get(v, "vrf"))
			printf("  VRF: %s, table %lld, router MAC %s, remote "
			    "prefixes %lld\n", jstr(v, "vrf", ""),
			    jint(v, "table"), jstr(v, "routerMac", ""),
			    jint(v, "numRemotePrefixes"));
		else
			print_mac_counts(v);
		print_list("Remote VTEPs", json_object_get(v, "remoteVteps"));
		printf("\n");
	}
}

int
run_evpn_vni(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	return api_show(ctl, "/v1/evpn/vnis", print_evpn_vni);
}

static void
print_evpn_mac(const json_t *o)
{
	const char *mac;
	json_t *m, *ip;
	size_t i;

	printf("Number of MACs (local and remote) known for this VNI: %lld\n",
	    jint(o, "numMacs"));
	printf("%-17s %-6s %-15s %-5s %-6s %s\n", "MAC", "Type", "Remote VTEP",
	    "Seq", "Sticky", "IPs");
	json_object_foreach(json_object_get(o, "macs"), mac, m) {
		printf("%-17s %-6s %-15s %-5lld %-6s", mac, jstr(m, "type", "?"),
		    jstr_or(m, "remoteVtep", "-"), jint(m, "seq"),
		    jbool(m, "sticky") ? "yes" : "no");
		json_array_foreach(json_object_get(m, "ips"), i, ip)
			printf(" %s", json_string_value(ip));
		printf("\n");
	}
}

int
run_evpn_mac(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	char path[64];

	if (nargs < 1 || strspn(args[0], "0123456789") != strlen(args[0])) {
		fprintf(stderr, "evpnctl: bad VNI\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/v1/evpn/vnis/%.12s/macs", args[0]);
	return api_show(ctl, path, print_evpn_mac);
}

static void
print_device(const char *what, const json_t *d)
{
	printf("  %-6s %-12s %-8s ifindex %-4lld %s\n", what,
	    jstr(d, "name", "?"), jstr(d, "state", "?"), jint(d, "ifindex"),
	    jbool(d, "up") ? "up" : "DOWN");
}

static void
print_dataplane(const json_t *o)
{
	const json_t *req, *vnis;
	const char *kind;
	json_t *v, *n;
	size_t i;

	printf("VRF mode: %s\nInstalled entries:", jstr(o, "vrf_mode", "?"));
	json_object_foreach(json_object_get(o, "installed"), kind, n)
		printf(" %s %lld", kind, (long long)json_integer_value(n));
	printf("\nBlocked (the kernel holds another's entry there):");
	json_object_foreach(json_object_get(o, "blocked"), kind, n)
		printf(" %s %lld", kind, (long long)json_integer_value(n));
	printf(", %lld times in all", jint(o, "refused"));
	req = json_object_get(o, "requests");
	printf("\nRequests: %lld sent, %lld acked, %lld failed, %lld pending\n"
	    "Overruns: %lld, resyncs: %lld\n", jint(req, "sent"),
	    jint(req, "acked"), jint(req, "failed"), jint(req, "pending"),
	    jint(o, "overruns"), jint(o, "resyncs"));
	vnis = json_object_get(o, "vnis");
	json_array_foreach(vnis, i, v) {
		printf("VNI %lld (%s)\n", jint(v, "vni"), jbool(v, "l3") ?
		    "L3" : "L2");
		print_device("vxlan", json_object_get(v, "vxlan"));
		print_device("bridge", json_object_get(v, "bridge"));
	}
}

int
run_dataplane(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	return api_show(ctl, "/v1/dataplane", print_dataplane);
}

static void
print_convergence_vteps(const json_t *l)
{
	size_t i;
	json_t *v;

	if (json_array_size(l) == 0)
		return;
	printf("\n%-15s %9s %6s %6s %9s %s\n", "VTEP", "Samples", "Skew",
	    "Stale", "Last ms", "Clock");
	json_array_foreach(l, i, v)
		printf("%-15s %9lld %6lld %6lld %9lld %s\n", jstr(v, "vtep", "?"),
		    jint(v, "samples"), jint(v, "skew"), jint(v, "stale"),
		    jint(v, "lastLatencyMs"), jbool(v, "clockSuspect") ?
		    "SUSPECT" : "ok");
}

static void
print_convergence_recent(const json_t *l)
{
	char when[32];
	long long ms;
	time_t t;
	size_t i;
	json_t *r;

	if (json_array_size(l) == 0)
		return;
	printf("\n%-23s %-15s %-8s %10s %s\n", "Time", "VTEP", "VNI",
	    "Latency", "Result");
	json_array_foreach(l, i, r) {
		ms = jint(r, "timeMs");
		t = (time_t)(ms / 1000);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
		    localtime(&t));
		printf("%s.%03lld %-15s %-8lld %7lld ms %s\n", when, ms % 1000,
		    jstr(r, "vtep", "?"), jint(r, "vni"), jint(r, "latencyMs"),
		    jstr(r, "result", "?"));
	}
}

static void
print_evpn_convergence(const json_t *o)
{
	const json_t *s, *rc, *w;

	s = json_object_get(o, "sampling");
	rc = json_object_get(o, "received");
	w = json_object_get(o, "window");
	if (jint(s, "every") > 0)
		printf("Sampling: 1 in %lld new type-2 routes per VNI and every "
		    "pre-allocation's (extended community %s); %lld stamped\n",
		    jint(s, "every"), jstr(s, "ecommunity", "?"),
		    jint(s, "stamped"));
	else
		printf("Sampling: off (no convergence-sample); %lld stamped\n",
		    jint(s, "stamped"));
	printf("Measured at: %s; clock skew tolerated %lld ms; over %lld ms "
	    "excluded\n", jstr(o, "measuredAt", "?"), jint(o, "skewToleranceMs"),
	    jint(o, "maxLatencyMs"));
	printf("Received: %lld samples, %lld stale, %lld skew\n",
	    jint(rc, "samples"), jint(rc, "stale"), jint(rc, "skew"));
	printf("Last %lld s: %lld samples, p50 %lld ms, p90 %lld ms, p99 %lld "
	    "ms, max %lld ms\n", jint(o, "windowS"), jint(w, "count"),
	    jint(w, "p50Ms"), jint(w, "p90Ms"), jint(w, "p99Ms"),
	    jint(w, "maxMs"));
	print_convergence_vteps(json_object_get(o, "vteps"));
	print_convergence_recent(json_object_get(o, "recent"));
}

int
run_evpn_convergence(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	return api_show(ctl, "/v1/evpn/convergence", print_evpn_convergence);
}
