/*
 * evpnctl: the command-line client of evpnd's control API.
 *
 * How this works: the words on the command line are matched against a
 * table of command patterns ("show bgp neighbors [ADDR]"); keywords may
 * be abbreviated to any unambiguous prefix, as on a router ("sh bgp
 * sum").  The matching row names the API path to GET and a printer that
 * turns the JSON answer into FRR-like text; with --json the answer is
 * printed as JSON instead.  Adding a command is adding a row and, for
 * the text form, a printer.
 *
 * The transport is apiclient.h: one HTTP/1.1 request per command (GET,
 * POST with a JSON body, PATCH, DELETE) over the Unix socket.  Options
 * (--json, --family, --mac, --ip, --label) may appear anywhere among
 * the words; a pattern's last <ARGS...> takes every word left (a
 * pool's settings).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/util.h"
#include "cli/apiclient.h"
#include "cli/evpnctl.h"

/* From configure (--runstatedir), see Makefile.am. */
#ifndef EVPND_DEFAULT_SOCKET
#error "build through the Makefile: it defines EVPND_DEFAULT_SOCKET"
#endif
#define EVPNCTL_DEFAULT_SOCKET	EVPND_DEFAULT_SOCKET

static ctl_run run_bgp_summary, run_bgp_neighbors, run_running_config,
    run_bgp_clear;

static const struct ctl_cmd ctl_cmds[] = {
	{ "show bgp summary", "BGP peers at a glance", run_bgp_summary },
	{ "show bgp neighbors [ADDR]", "BGP neighbor details",
	    run_bgp_neighbors },
	{ "show running-config [secrets]", "the configuration evpnd runs "
	    "with (passwords only with 'secrets')", run_running_config },
	{ "clear bgp <ADDR>", "reset a BGP session (releases maximum-prefix)",
	    run_bgp_clear },
	{ "show bgp l2vpn evpn", "EVPN routes", run_evpn_routes },
	{ "show bgp l2vpn evpn route-type <2|3|5>", "EVPN routes of one type",
	    run_evpn_routes },
	{ "show bgp l2vpn evpn vni <VNI>", "EVPN routes of one VNI",
	    run_evpn_routes },
	{ "show bgp l2vpn evpn route-type <2|3|5> vni <VNI>",
	    "EVPN routes of one type and VNI", run_evpn_routes },
	{ "show evpn vni", "VNIs, their RD/RTs, MAC counts and VTEPs",
	    run_evpn_vni },
	{ "show evpn mac vni <VNI>", "the MAC table of an L2 VNI",
	    run_evpn_mac },
	{ "show evpn convergence", "measured route convergence: latency "
	    "quantiles, clock skew, recent samples", run_evpn_convergence },
	{ "show dataplane", "kernel entries, netlink requests, devices",
	    run_dataplane },
	{ "show ipam pools", "IPAM pools: size, used, free", run_ipam_pools },
	{ "show ipam allocations [POOL]", "IPAM allocations (--label K[=V]...)",
	    run_ipam_allocations },
	{ "show ipam pool <POOL>", "one pool in full: definition, counts, "
	    "reservations", run_ipam_pool_show },
	{ "ipam pool add <POOL> <SETTINGS...>", "make a pool (prefix P, "
	    "gateway A, vni N, ...; see evpnctl(8))", run_ipam_pool_add },
	{ "ipam pool set <POOL> <SETTINGS...>", "change what the settings "
	    "name (no-KEY removes)", run_ipam_pool_set },
	{ "ipam pool del <POOL>", "delete a pool without allocations",
	    run_ipam_pool_del },
	{ "ipam reserve <POOL> <IP> <NAME>", "reserve an address of a pool",
	    run_ipam_reserve },
	{ "ipam unreserve <POOL> <IP>", "remove a reservation",
	    run_ipam_unreserve },
	{ "show ipam conflicts", "allocated addresses another VTEP claims",
	    run_ipam_conflicts },
	{ "show ipam shadow", "shadow inventory: forecasts, pre-allocations, "
	    "policy", run_ipam_shadow },
	{ "show ipam alerts", "shadow inventory anomaly alerts",
	    run_ipam_alerts },
	{ "ipam allocate <POOL> <RESOURCE>",
	    "allocate (--family ipv4|ipv6|dual, --mac MAC, --ip ADDR, "
	    "--label K=V...)", run_ipam_allocate },
	{ "ipam release <RESOURCE> [POOL]", "release an allocation (POOL: "
	    "when several tenants use the name)",
	    run_ipam_release },
	{ "ipam intent <POOL> <COUNT> [HORIZON]",
	    "announce COUNT requests within HORIZON seconds", run_ipam_intent },
	{ "ipam audit verify", "check the audit trail's HMAC chain",
	    run_ipam_audit_verify },
	{ "show ipam blocks [POOL]", "fabric pools' blocks: owner VTEP, used, "
	    "free, claimed at", run_ipam_blocks },
	{ "show ipam datastore", "the fabric datastore: endpoints, revision, "
	    "errors, claims and borrows", run_ipam_datastore },
	{ "ipam blocks reclaim <VTEP>", "delete the blocks of a VTEP gone for "
	    "good", run_ipam_reclaim },
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: evpnctl [-S socket] COMMAND... [--json] "
	    "[--family F] [--mac MAC] [--ip ADDR] [--label K=V]...\n"
	    "commands:\n");
	for (size_t i = 0; i < nitems(ctl_cmds); i++)
		fprintf(out, "  %-30s %s\n", ctl_cmds[i].syntax,
		    ctl_cmds[i].help);
}

/* ---- the API ---- */

/*
 * Send a request and decode the JSON body of a 2xx answer (a 204 gives
 * an empty object).  Anything else prints the API's {"error": ...}
 * message and gives NULL; *status (may be NULL) gets the HTTP status,
 * 0 when there was no answer at all.
 */
json_t *
api_call(const struct ctl *ctl, const char *method, const char *path,
    const char *body, int *status)
{
	struct apiclient c = { .socket = ctl->sock };
	struct apiclient_reply r;
	const char *msg;
	char err[512];
	json_t *obj;

	if (status != NULL)
		*status = 0;
	if (apiclient_request(&c, method, path, body, &r, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "evpnctl: %s\n", err);
		return NULL;
	}
	if (status != NULL)
		*status = r.status;
	if (r.status < 200 || r.status > 299) {
		if ((msg = apiclient_reply_error(&r)) != NULL)
			fprintf(stderr, "evpnctl: %s\n", msg);
		else
			fprintf(stderr, "evpnctl: request failed with HTTP "
			    "status %d\n", r.status);
		apiclient_reply_clear(&r);
		return NULL;
	}
	obj = r.json != NULL ? r.json : json_object();
	r.json = NULL;
	return obj;
}

/* GET path: the JSON of a 2xx answer, else NULL after the message. */
json_t *
api_get(const struct ctl *ctl, const char *path)
{
	return api_call(ctl, "GET", path, NULL, NULL);
}

int
print_json(const json_t *obj)
{
	if (json_dumpf(obj, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ==
	    -1)
		return 1;
	putchar('\n');
	return 0;
}

int
api_print(const struct ctl *ctl, json_t *o, ctl_print *print)
{
	if (o == NULL)
		return 1;
	if (ctl->json)
		print_json(o);
	else
		print(o);
	json_decref(o);
	return 0;
}

int
api_show(const struct ctl *ctl, const char *path, ctl_print *print)
{
	return api_print(ctl, api_get(ctl, path), print);
}

/* ---- text printers ---- */

long long
jint(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

const char *
jstr(const json_t *o, const char *key, const char *dflt)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : dflt;
}

bool
jbool(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/* FRR's Up/Down column: hh:mm:ss, then XdYYhZZm, then XXwYdZZh. */
static const char *
fmt_uptime(long long msec, char *buf, size_t len)
{
	long long s = msec / 1000;
	long long d = s / 86400, h = (s / 3600) % 24, m = (s / 60) % 60;

	if (d == 0)
		snprintf(buf, len, "%02lld:%02lld:%02lld", s / 3600, m, s % 60);
	else if (d < 7)
		snprintf(buf, len, "%lldd%02lldh%02lldm", d, h, m);
	else
		snprintf(buf, len, "%02lldw%lldd%02lldh", d / 7, d % 7, h);
	return buf;
}

static void
print_summary_row(const char *addr, const json_t *p)
{
	const char *state = jstr(p, "state", "?");
	char updown[32], st[32];

	if (strcmp(state, "Established") == 0)
		snprintf(st, sizeof(st), "%lld", jint(p, "pfxRcd"));
	else if (jbool(p, "adminShutdown"))
		snprintf(st, sizeof(st), "Idle (Admin)");
	else if (strcmp(jstr(p, "peerState", ""), "PfxCt") == 0)
		snprintf(st, sizeof(st), "Idle (PfxCt)");
	else
		snprintf(st, sizeof(st), "%s", state);
	if (strcmp(state, "Established") != 0 &&
	    jint(p, "connectionsEstablished") == 0)
		snprintf(updown, sizeof(updown), "never");
	else
		fmt_uptime(jint(p, "uptimeMsec"), updown, sizeof(updown));
	printf("%-15s %1d %10lld %9lld %9lld %8s %12s %8lld %s\n", addr, 4,
	    jint(p, "remoteAs"), jint(p, "msgRcvd"), jint(p, "msgSent"),
	    updown, st, jint(p, "pfxSnt"), jstr(p, "description", "N/A"));
}

static void
print_summary(const json_t *sum)
{
	const json_t *peers = json_object_get(sum, "peers");
	const char *addr;
	const json_t *p;

	printf("BGP router identifier %s, local AS number %lld\n",
	    jstr(sum, "routerId", "0.0.0.0"), jint(sum, "as"));
	if (json_object_size(peers) == 0) {
		printf("%% No BGP neighbors found\n");
		return;
	}
	printf("Peers %lld, established %lld\n\n", jint(sum, "totalPeers"),
	    jint(sum, "establishedPeers"));
	printf("%-15s %1s %10s %9s %9s %8s %12s %8s %s\n", "Neighbor", "V",
	    "AS", "MsgRcvd", "MsgSent", "Up/Down", "State/PfxRcd", "PfxSnt",
	    "Desc");
	json_object_foreach((json_t *)peers, addr, p)
		print_summary_row(addr, p);
	printf("\nTotal number of neighbors %zu\n", json_object_size(peers));
}

static int
run_bgp_summary(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	return api_show(ctl, "/v1/bgp/summary", print_summary);
}

static void
print_notification(const char *what, const json_t *n)
{
	if (n == NULL)
		return;
	printf("  Last notification %s: %s (%lld/%lld)\n", what,
	    jstr(n, "text", "?"), jint(n, "code"), jint(n, "subcode"));
}

static void
print_capabilities(const json_t *caps)
{
	const json_t *fams = json_object_get(caps, "families"), *f;
	size_t i;

	printf("  Neighbor capabilities (negotiated):\n");
	printf("    4 Byte AS: %s\n", jbool(caps, "AS4") ? "yes" : "no");
	printf("    Route refresh: %s\n",
	    jbool(caps, "routeRefresh") ? "yes" : "no");
	printf("    Extended message: %s\n",
	    jbool(caps, "extendedMessage") ? "yes" : "no");
	printf("    Graceful restart: %s\n",
	    jbool(caps, "gracefulRestart") ? "yes" : "no");
	json_array_foreach(fams, i, f)
		printf("    Address Family %s: yes\n", json_string_value(f));
}

static void
print_message_stats(const json_t *ms)
{
	static const struct { const char *label, *sent, *rcvd; } rows[] = {
		{ "Opens", "opensSent", "opensRecv" },
		{ "Notifications", "notificationsSent", "notificationsRecv" },
		{ "Updates", "updatesSent", "updatesRecv" },
		{ "Keepalives", "keepalivesSent", "keepalivesRecv" },
		{ "Route Refresh", "routeRefreshSent", "routeRefreshRecv" },
		{ "Total", "totalSent", "totalRecv" },
	};

	printf("  Message statistics:\n");
	printf("    %-20s %10s %10s\n", "", "Sent", "Rcvd");
	for (size_t i = 0; i < nitems(rows); i++)
		printf("    %-20s %10lld %10lld\n", rows[i].label,
		    jint(ms, rows[i].sent), jint(ms, rows[i].rcvd));
}

static void
print_neighbor(const char *addr, const json_t *n)
{
	char up[32];

	printf("BGP neighbor is %s, remote AS %lld, local AS %lld, %s link\n",
	    addr, jint(n, "remoteAs"), jint(n, "localAs"),
	    jstr(n, "linkType", "?"));
	if (json_object_get(n, "description"))
		printf(" Description: %s\n", jstr(n, "description", ""));
	printf("  BGP version 4, remote router ID %s\n",
	    jstr(n, "remoteRouterId", "0.0.0.0"));
	printf("  BGP state = %s%s", jstr(n, "bgpState", "?"),
	    jbool(n, "adminShutdown") ? " (administratively shut down)" : "");
	if (strcmp(jstr(n, "bgpState", ""), "Established") == 0)
		printf(", up for %s", fmt_uptime(jint(n, "bgpTimerUpMsec"),
		    up, sizeof(up)));
	printf("\n");
	printf("  Hold time is %lld, keepalive interval is %lld seconds\n",
	    jint(n, "holdTimeMsecs") / 1000,
	    jint(n, "keepaliveIntervalMsecs") / 1000);
	if (json_object_get(n, "configuredHoldTimeMsecs"))
		printf("  Configured hold time is %lld, keepalive interval "
		    "is %lld seconds\n",
		    jint(n, "configuredHoldTimeMsecs") / 1000,
		    jint(n, "configuredKeepaliveIntervalMsecs") / 1000);
	if (jbool(n, "passive"))
		printf("  Passive: only accepts connections\n");
	if (jbool(n, "md5"))
		printf("  TCP MD5 authentication is enabled\n");
	print_capabilities(json_object_get(n, "neighborCapabilities"));
	print_message_stats(json_object_get(n, "messageStats"));
	printf("  Prefixes received %lld, sent %lld\n",
	    jint(n, "prefixesReceived"), jint(n, "prefixesSent"));
	printf("  Connections established %lld; dropped %lld\n",
	    jint(n, "connectionsEstablished"), jint(n, "connectionsDropped"));
	print_notification("sent", json_object_get(n, "lastNotificationSent"));
	print_notification("received",
	    json_object_get(n, "lastNotificationReceived"));
	if (json_object_get(n, "lastResetDueTo"))
		printf("  Last reset due to: %s\n",
		    jstr(n, "lastResetDueTo", ""));
	if (jbool(n, "prefixesConfigExceedMax"))
		printf("  Peer had exceeded the max. no. of prefixes "
		    "configured; %s\n", jbool(n, "reducePrefixNumFrom") ?
		    "it restarts by itself" : "clear bgp to restore peering");
	if (json_object_get(n, "hostLocal"))
		printf("Local host: %s, Local port: %lld\n",
		    jstr(n, "hostLocal", ""), jint(n, "portLocal"));
	printf("Foreign host: %s, Foreign port: %lld\n\n",
	    jstr(n, "hostForeign", addr), jint(n, "portForeign"));
}

static int
run_bgp_neighbors(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	char path[256];
	const char *addr;
	json_t *all, *n;

	if (nargs > 0 && strspn(args[0], "0123456789abcdefABCDEF.:") !=
	    strlen(args[0])) {
		fprintf(stderr, "evpnctl: bad neighbor address %s\n", args[0]);
		return 1;
	}
	snprintf(path, sizeof(path), "/v1/bgp/neighbors%s%.64s",
	    nargs > 0 ? "/" : "", nargs > 0 ? args[0] : "");
	if ((all = api_get(ctl, path)) == NULL)
		return 1;
	if (ctl->json)
		print_json(all);
	else if (json_object_size(all) == 0)
		printf("%% No BGP neighbors found\n");
	else
		json_object_foreach(all, addr, n)
			print_neighbor(addr, n);
	json_decref(all);
	return 0;
}

static int
run_bgp_clear(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	char path[256];
	json_t *o;

	if (strspn(args[0], "0123456789abcdefABCDEF.:") != strlen(args[0])) {
		fprintf(stderr, "evpnctl: bad neighbor address %s\n", args[0]);
		return 1;
	}
	snprintf(path, sizeof(path), "/v1/bgp/neighbors/%.64s/clear", args[0]);
	if ((o = api_call(ctl, "POST", path, NULL, NULL)) == NULL)
		return 1;
	json_decref(o);
	if (!ctl->json)
		printf("cleared %s\n", args[0]);
	return 0;
}

static void
print_running_config(const json_t *o)
{
	fputs(jstr(o, "config", ""), stdout);
}

static int
run_running_config(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	if (nargs > 0 && strcmp(args[0], "secrets") != 0) {
		fprintf(stderr, "evpnctl: show running-config [secrets]\n");
		return 2;
	}
	return api_show(ctl, nargs > 0 ? "/v1/config?secrets=1" :
	    "/v1/config", print_running_config);
}

/* ---- command matching ---- */

/*
 * Match words against one pattern.  Keywords match any non-empty prefix;
 * <ARG> takes a word; [ARG] takes one if present.  Returns the number of
 * arguments captured into args, or -1 when the words do not fit.
 */
static int
cmd_match(const struct ctl_cmd *cmd, char **words, int nwords, char **args)
{
	char syntax[256], *save = NULL, *tok;
	int w = 0, nargs = 0;

	snprintf(syntax, sizeof(syntax), "%s", cmd->syntax);
	for (tok = strtok_r(syntax, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if (tok[0] == '<' && strstr(tok, "...>") != NULL) {
			if (w == nwords)
				return -1;
			while (w < nwords)
				args[nargs++] = words[w++];
			continue;
		}
		if (tok[0] == '[' || tok[0] == '<') {
			if (w == nwords && tok[0] == '[')
				continue;
			if (w == nwords)
				return -1;
			args[nargs++] = words[w++];
			continue;
		}
		if (w == nwords || words[w][0] == '\0' ||
		    strncmp(tok, words[w], strlen(words[w])) != 0)
			return -1;
		w++;
	}
	return w == nwords ? nargs : -1;
}

static int
dispatch(struct ctl *ctl, char **words, int nwords)
{
	char *args[CTL_MAX_WORDS], *found_args[CTL_MAX_WORDS];
	const struct ctl_cmd *found = NULL;
	int nargs, found_nargs = 0, matches = 0;

	for (size_t i = 0; i < nitems(ctl_cmds); i++) {
		if ((nargs = cmd_match(&ctl_cmds[i], words, nwords, args)) < 0)
			continue;
		matches++;
		found = &ctl_cmds[i];
		found_nargs = nargs;
		memcpy(found_args, args, sizeof(args[0]) * (size_t)nargs);
	}
	if (matches != 1) {
		fprintf(stderr, "evpnctl: %s command\n", matches ?
		    "ambiguous" : "unknown");
		usage(stderr);
		return 2;
	}
	return found->run(ctl, found, found_args, found_nargs);
}

int
main(int argc, char *argv[])
{
	struct ctl ctl = { .sock = EVPNCTL_DEFAULT_SOCKET, .json = false,
	    .family = NULL, .mac = NULL };
	char *words[CTL_MAX_WORDS];
	int nwords = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 ||
		    strcmp(argv[i], "json") == 0)
			ctl.json = true;
		else if (strcmp(argv[i], "-S") == 0 && i + 1 < argc)
			ctl.sock = argv[++i];
		else if (strcmp(argv[i], "--family") == 0 && i + 1 < argc)
			ctl.family = argv[++i];
		else if (strcmp(argv[i], "--mac") == 0 && i + 1 < argc)
			ctl.mac = argv[++i];
		else if (strcmp(argv[i], "--ip") == 0 && i + 1 < argc)
			ctl.ip = argv[++i];
		else if (strcmp(argv[i], "--label") == 0 && i + 1 < argc &&
		    ctl.nlabels < CTL_MAX_LABELS)
			ctl.labels[ctl.nlabels++] = argv[++i];
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' || nwords == CTL_MAX_WORDS) {
			usage(stderr);
			return 2;
		} else
			words[nwords++] = argv[i];
	}
	if (nwords == 0) {
		usage(stderr);
		return 2;
	}
	return dispatch(&ctl, words, nwords);
}
