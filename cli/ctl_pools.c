/*
 * evpnctl's commands for pools made at run time: ipam pool add|set|del,
 * ipam reserve|unreserve, show ipam pool NAME.
 *
 * How this works: a pool's settings are given as words in the config's
 * order of thought ("prefix 10.0.0.0/24 gateway 10.0.0.1 vni 100"),
 * turned into the API's definition object (api_ipam_pools.c), and sent
 * with POST (add) or PATCH (set: only what is named changes; a list
 * named replaces the whole list; "no-KEY" removes a setting).  The
 * shadow block's statements keep their config names ("min-warm 2",
 * "lead-time 500", "wastage 1 delay 100"; its mode and model as
 * "shadow-mode" and "shadow-model"), "shadow" alone turns it on with
 * its defaults and "no-shadow" turns it off.  The
 * daemon checks everything; these only shape the request and print the
 * answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "cli/apiclient.h"
#include "cli/evpnctl.h"

/* What a setting's value is in JSON. */
enum setting_kind {
	SETTING_TEXT,
	SETTING_INTEGER,
	SETTING_DECIMAL,
	SETTING_ONOFF,		/* on|off: true or false */
};

/* A word that takes one value, and where it goes. */
struct setting {
	const char	*word;
	const char	*key;		/* in the definition, or in "in" */
	const char	*in;		/* NULL, "dns" or "shadow" */
	bool		 list;		/* repeatable: an array */
	enum setting_kind kind;
};

static const struct setting settings[] = {
	{ "tenant", "tenant", NULL, false, SETTING_TEXT },
	{ "vni", "vni", NULL, false, SETTING_INTEGER },
	{ "prefix", "prefixes", NULL, true, SETTING_TEXT },
	{ "gateway", "gateways", NULL, true, SETTING_TEXT },
	{ "exclude", "excludes", NULL, true, SETTING_TEXT },
	{ "quarantine", "quarantine", NULL, false, SETTING_INTEGER },
	{ "mac-prefix", "macPrefix", NULL, false, SETTING_TEXT },
	{ "dns-zone", "zone", "dns", false, SETTING_TEXT },
	{ "dns-server", "server", "dns", false, SETTING_TEXT },
	{ "ttl", "ttl", "dns", false, SETTING_INTEGER },
	{ "name-template", "nameTemplate", "dns", false, SETTING_TEXT },
	/* the shadow block's statements, its mode and model prefixed */
	{ "shadow-mode", "mode", "shadow", false, SETTING_TEXT },
	{ "shadow-model", "model", "shadow", false, SETTING_TEXT },
	{ "horizon", "horizonS", "shadow", false, SETTING_INTEGER },
	{ "confidence", "confidence", "shadow", false, SETTING_DECIMAL },
	{ "min-warm", "minWarm", "shadow", false, SETTING_INTEGER },
	{ "max-warm", "maxWarm", "shadow", false, SETTING_INTEGER },
	{ "max-pool-fraction", "maxPoolFraction", "shadow", false,
	    SETTING_DECIMAL },
	{ "wastage", "wastageWeight", "shadow", false, SETTING_DECIMAL },
	{ "delay", "delayWeight", "shadow", false, SETTING_DECIMAL },
	{ "lead-time", "leadTimeMs", "shadow", false, SETTING_INTEGER },
	{ "adapt", "adapt", "shadow", false, SETTING_ONOFF },
	{ "jitter", "jitter", "shadow", false, SETTING_DECIMAL },
	{ "group-by", "groupBy", "shadow", true, SETTING_TEXT },
};

/* "no-KEY": the setting removed (null in a PATCH). */
static const struct {
	const char	*word;
	const char	*key;
	const char	*in;
} removals[] = {
	{ "no-tenant", "tenant", NULL },
	{ "no-vni", "vni", NULL },
	{ "no-gateway", "gateways", NULL },
	{ "no-exclude", "excludes", NULL },
	{ "no-reservations", "reservations", NULL },
	{ "no-dns", "dns", NULL },
	{ "no-name-template", "nameTemplate", "dns" },
	{ "no-shadow", "shadow", NULL },
};

/* The object def's settings of "in" go to (def itself for NULL). */
static json_t *
object_of(json_t *def, const char *in)
{
	json_t *o;

	if (in == NULL)
		return def;
	if (!json_is_object(o = json_object_get(def, in))) {
		o = json_object();
		json_object_set_new(def, in, o);
	}
	return o;
}

static json_t *
setting_json(const struct setting *st, const char *v)
{
	char *end;
	long long n;
	double x;

	switch (st->kind) {
	case SETTING_INTEGER:
		n = strtoll(v, &end, 10);
		return *end == '\0' && end != v ? json_integer(n) : NULL;
	case SETTING_DECIMAL:
		x = strtod(v, &end);
		return *end == '\0' && end != v ? json_real(x) : NULL;
	case SETTING_ONOFF:
		if (strcmp(v, "on") == 0 || strcmp(v, "off") == 0)
			return json_boolean(v[1] == 'n');
		return NULL;
	case SETTING_TEXT:
	default:
		return json_string(v);
	}
}

static int
setting_value(json_t *def, const struct setting *st, const char *v)
{
	json_t *o = object_of(def, st->in), *val, *l;

	if ((val = setting_json(st, v)) == NULL) {
		fprintf(stderr, "evpnctl: %s takes %s\n", st->word,
		    st->kind == SETTING_ONOFF ? "on or off" : "a number");
		return -1;
	}
	if (!st->list)
		return json_object_set_new(o, st->key, val);
	if (!json_is_array(l = json_object_get(o, st->key))) {
		l = json_array();
		json_object_set_new(o, st->key, l);
	}
	return json_array_append_new(l, val);
}

/* "tsig ALG NAME SECRET", "reserve IP NAME", "reverse", "no-reverse",
 * "shadow" (on, with the defaults); the number of words taken, 0 when w
 * is not one of them, -1 bad. */
static int
setting_special(json_t *def, char **w, int n)
{
	json_t *r, *l;

	if (strcmp(w[0], "tsig") == 0) {
		if (n < 4)
			return -1;
		json_object_set_new(object_of(def, "dns"), "tsig", json_pack("{s:s, s:s, "
		    "s:s}", "algorithm", w[1], "name", w[2], "secret", w[3]));
		return 4;
	}
	if (strcmp(w[0], "reserve") == 0) {
		if (n < 3)
			return -1;
		if (!json_is_array(l = json_object_get(def, "reservations"))) {
			l = json_array();
			json_object_set_new(def, "reservations", l);
		}
		r = json_pack("{s:s, s:s}", "ip", w[1], "name", w[2]);
		json_array_append_new(l, r);
		return 3;
	}
	if (strcmp(w[0], "reverse") == 0 || strcmp(w[0], "no-reverse") == 0) {
		json_object_set_new(object_of(def, "dns"), "reverse",
		    json_boolean(w[0][0] == 'r'));
		return 1;
	}
	if (strcmp(w[0], "shadow") == 0) {
		object_of(def, "shadow");
		return 1;
	}
	return 0;
}

static int
setting_removal(json_t *def, const char *w)
{
	for (size_t i = 0; i < nitems(removals); i++) {
		if (strcmp(w, removals[i].word) != 0)
			continue;
		json_object_set_new(object_of(def, removals[i].in),
		    removals[i].key, json_null());
		return 1;
	}
	return 0;
}

/* The words after the pool's name as a definition (or patch). */
static json_t *
settings_json(char **w, int n)
{
	json_t *def = json_object();
	int i = 0, k;

	while (i < n) {
		if ((k = setting_special(def, w + i, n - i)) == 0)
			k = setting_removal(def, w[i]);
		for (size_t s = 0; k == 0 && s < nitems(settings); s++) {
			if (strcmp(w[i], settings[s].word) != 0)
				continue;
			k = i + 1 < n && setting_value(def, &settings[s],
			    w[i + 1]) == 0 ? 2 : -1;
		}
		if (k <= 0) {
			fprintf(stderr, "evpnctl: bad or incomplete setting "
			    "'%s' (tenant T, vni N, prefix P, gateway A, "
			    "exclude A[-B], reserve A NAME, quarantine S, "
			    "mac-prefix M, dns-zone Z, dns-server A, tsig ALG "
			    "NAME SECRET, reverse, ttl N, name-template T, "
			    "shadow, shadow-mode M, shadow-model M, horizon S, "
			    "confidence F, min-warm N, max-warm N, "
			    "max-pool-fraction F, wastage W, delay D, "
			    "lead-time MS, adapt on|off, jitter F, group-by K, "
			    "no-...)\n", w[i]);
			json_decref(def);
			return NULL;
		}
		i += k;
	}
	return def;
}

/* Send def (reference stolen) with method to path; print the pool. */
static int
pool_send(struct ctl *ctl, const char *method, const char *path,
    json_t *def)
{
	char *body = json_dumps(def, JSON_COMPACT);
	json_t *o;

	json_decref(def);
	if (body == NULL) {
		fprintf(stderr, "evpnctl: cannot encode the request\n");
		return 2;
	}
	o = api_call(ctl, method, path, body, NULL);
	explicit_bzero(body, strlen(body));	/* it may hold a secret */
	free(body);
	return api_print(ctl, o, ctl_print_pool_detail);
}

int
run_ipam_pool_add(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	json_t *def = settings_json(args + 1, nargs - 1);

	if (def == NULL)
		return 2;
	json_object_set_new(def, "name", json_string(args[0]));
	return pool_send(ctl, "POST", "/v1/ipam/pools", def);
}

int
run_ipam_pool_set(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	json_t *def = settings_json(args + 1, nargs - 1);
	char *path;
	int rc;

	if (def == NULL)
		return 2;
	path = apiclient_path("/v1/ipam/pools/%s", args[0]);
	rc = pool_send(ctl, "PATCH", path, def);
	free(path);
	return rc;
}

/* DELETE path; "MESSAGE" printed when it worked. */
static int
delete_call(struct ctl *ctl, char *path, const char *what,
    const char *name)
{
	json_t *o = api_call(ctl, "DELETE", path, NULL, NULL);

	free(path);
	if (o == NULL)
		return 1;
	json_decref(o);
	if (!ctl->json)
		printf("%s %s\n", what, name);
	return 0;
}

int
run_ipam_pool_del(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	return delete_call(ctl, apiclient_path("/v1/ipam/pools/%s", args[0]),
	    "deleted pool", args[0]);
}

static void
print_reservation(const json_t *o)
{
	printf("reserved %s for %s in pool %s\n", jstr(o, "ip", "?"),
	    jstr(o, "name", "?"), jstr(o, "pool", "?"));
}

int
run_ipam_reserve(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	json_t *req = json_pack("{s:s, s:s}", "ip", args[1], "name", args[2]);
	char *path, *body;
	json_t *o;

	if (req == NULL || (body = json_dumps(req, JSON_COMPACT)) == NULL) {
		fprintf(stderr, "evpnctl: cannot encode the request\n");
		json_decref(req);
		return 2;
	}
	json_decref(req);
	path = apiclient_path("/v1/ipam/pools/%s/reservations", args[0]);
	o = api_call(ctl, "POST", path, body, NULL);
	free(path);
	free(body);
	return api_print(ctl, o, print_reservation);
}

int
run_ipam_unreserve(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	char *pool = apiclient_escape(args[0]), *ip = apiclient_escape(args[1]);
	char *path;

	/* Two segments, each escaped (an IPv6 address's ':' too). */
	if (asprintf(&path, "/v1/ipam/pools/%s/reservations/%s", pool, ip) ==
	    -1)
		fatalx("evpnctl: out of memory");
	free(pool);
	free(ip);
	return delete_call(ctl, path, "unreserved", args[1]);
}

int
run_ipam_pool_show(struct ctl *ctl, const struct ctl_cmd *cmd, char **args,
    int nargs)
{
	char *path = apiclient_path("/v1/ipam/pools/%s", args[0]);
	json_t *o = api_get(ctl, path);

	free(path);
	return api_print(ctl, o, ctl_print_pool_detail);
}
