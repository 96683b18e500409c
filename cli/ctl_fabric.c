/*
 * evpnctl's fabric pool commands: show ipam blocks [POOL], show ipam
 * datastore, ipam blocks reclaim VTEP.  Thin like the others: they print
 * what /v1/ipam/blocks and /v1/ipam/datastore answer (--json: as is).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/evpnctl.h"

static const char *
owner_vtep(const json_t *b)
{
	return jstr(json_object_get(b, "owner"), "vtep", "?");
}

static void
print_block(const json_t *b)
{
	char when[32], used[16], freebuf[16];
	time_t t = (time_t)jint(b, "claimedAt");

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&t));
	if (json_object_get(b, "used") != NULL) {
		snprintf(used, sizeof(used), "%lld", jint(b, "used"));
		snprintf(freebuf, sizeof(freebuf), "%lld", jint(b, "free"));
	} else {
		snprintf(used, sizeof(used), "-");
		snprintf(freebuf, sizeof(freebuf), "-");
	}
	printf("%-12s %-24s %-9s %-16s %6s %6s %s%s\n", jstr(b, "pool", "?"),
	    jstr(b, "block", "?"), jstr(b, "kind", "?"), owner_vtep(b), used,
	    freebuf, when, jbool(b, "mine") ? "  (this VTEP)" : "");
}

static void
print_ipam_blocks(const json_t *o)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(o, "pools"), i, v)
		printf("Pool %s: %s, %lld blocks, %lld borrowed, %lld lent%s%s\n",
		    jstr(v, "pool", "?"), jstr(v, "state", "?"),
		    jint(v, "blocks"), jint(v, "borrowed"), jint(v, "lent"),
		    jstr(v, "error", "")[0] ? ": " : "", jstr(v, "error", ""));
	printf("%-12s %-24s %-9s %-16s %6s %6s %s\n", "Pool", "Block", "Kind",
	    "Owner VTEP", "Used", "Free", "Claimed at");
	json_array_foreach(json_object_get(o, "blocks"), i, v)
		print_block(v);
	printf("Total: %lld\n", jint(o, "total"));
}

int
run_ipam_blocks(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	char path[512];

	if (nargs > 0)
		snprintf(path, sizeof(path), "/v1/ipam/blocks?pool=%s",
		    args[0]);
	else
		snprintf(path, sizeof(path), "/v1/ipam/blocks");
	if (strpbrk(nargs > 0 ? args[0] : "", "&?# %/") != NULL) {
		fprintf(stderr, "evpnctl: bad pool name\n");
		return 2;
	}
	return api_show(ctl, path, print_ipam_blocks);
}

static void
print_ipam_datastore(const json_t *o)
{
	const json_t *c, *v;
	size_t i;

	printf("Datastore %s, keys under %s; fabric pools %s\n",
	    jstr(o, "kind", "?"), jstr(o, "keyPrefix", "?"),
	    jbool(o, "ready") ? "in use" : "waiting for BGP");
	json_array_foreach(json_object_get(o, "endpoints"), i, v)
		printf("  endpoint %s%s\n", jstr(v, "url", "?"),
		    jbool(v, "current") ? (json_is_string(json_object_get(o,
		    "answering")) ? "  (answering)" : "  (current, no answer)")
		    : "");
	printf("  cluster revision %lld; %lld requests, %lld errors, %lld "
	    "failovers\n", jint(o, "revision"), jint(o, "requests"),
	    jint(o, "errors"), jint(o, "failovers"));
	if (jstr(o, "lastError", "")[0] != '\0')
		printf("  last error: %s\n", jstr(o, "lastError", ""));
	c = json_object_get(o, "counts");
	printf("  claims %lld (lost %lld, failed %lld), releases %lld, "
	    "borrows %lld (held now %lld), returns %lld, offers %lld, taken "
	    "back %lld\n", jint(c, "claims"), jint(c, "claimsLost"),
	    jint(c, "claimErrors"), jint(c, "releases"), jint(c, "borrows"),
	    jint(c, "borrowedNow"), jint(c, "returns"), jint(c, "offers"),
	    jint(c, "revokes"));
	json_array_foreach(json_object_get(o, "pools"), i, v)
		printf("  pool %s: %s%s%s\n", jstr(v, "pool", "?"),
		    jstr(v, "state", "?"), jstr(v, "error", "")[0] ? ": " : "",
		    jstr(v, "error", ""));
}

int
run_ipam_datastore(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	return api_show(ctl, "/v1/ipam/datastore", print_ipam_datastore);
}

static void
print_reclaim(const json_t *o)
{
	printf("reclaimed from %s: %lld blocks, %lld loans\n",
	    jstr(o, "vtep", "?"), jint(o, "blocks"), jint(o, "loans"));
}

int
run_ipam_reclaim(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	json_t *req = json_pack("{s:s}", "vtep", args[0]), *o;
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;

	json_decref(req);
	if (body == NULL) {
		fprintf(stderr, "evpnctl: bad VTEP address\n");
		return 2;
	}
	o = api_call(ctl, "POST", "/v1/ipam/blocks/reclaim", body, NULL);
	free(body);
	return api_print(ctl, o, print_reclaim);
}
