/*
 * /v1/ipam/pools...: pools and reservations made at run time, for admin
 * clients (the route table in api.c asks the admin role: the Unix
 * socket, or a TLS client whose "api client" line says so).
 *
 *   POST   /v1/ipam/pools			DEF -> 201 POOL
 *   PATCH  /v1/ipam/pools/NAME		fields of DEF -> 200 POOL
 *   DELETE /v1/ipam/pools/NAME		204
 *   POST   /v1/ipam/pools/NAME/reservations	{"ip", "name"} -> 201
 *   DELETE /v1/ipam/pools/NAME/reservations/IP	204
 *
 * DEF: {"name", "tenant"?, "vni"?, "prefixes": [P...], "gateways"?:
 * [ADDR...], "excludes"?: ["LO" or "LO-HI"...], "reservations"?:
 * [{"ip", "name"}...], "quarantine"?, "macPrefix"?, "dns"?: {"zone",
 * "server", "tsig": {"algorithm", "name", "secret"}, "reverse"?,
 * "ttl"?, "nameTemplate"?}, "shadow"?: SHADOW}.  PATCH replaces the
 * fields it names (null removes one; inside "dns" and "shadow" too, so a
 * new server keeps the key and a new minWarm the other settings); the
 * result must be a whole definition again.
 *
 * SHADOW, the pool's shadow inventory (the config's "shadow" block, each
 * setting optional with the block's default; the names of GET
 * /v1/ipam/shadow): {"mode": "active"|"observe", "model": "holt"|
 * "kalman"|"churn"|"ensemble", "horizonS", "confidence", "minWarm",
 * "maxWarm", "maxPoolFraction", "wastageWeight", "delayWeight",
 * "leadTimeMs", "adapt": BOOL, "jitter", "groupBy": [KEY...] ([] for
 * none)}.  {} turns it on with the defaults.
 *
 * How this works: a definition travels as JSON and is turned into the
 * lines of an "ipam pool" block, which conf/ parses exactly as it
 * parses the config file: one grammar, one set of checks, one canonical
 * text (which the store keeps).  Every value must be one word of
 * printable ASCII, so no value can add a line or a word of its own.
 * The parser's ranges are the only ones: a JSON number is written as a
 * word and conf/ checks it as it checks the file's; a line written for
 * a shadow setting remembers its field, so the parser's refusal of it
 * names the field ("shadow.minWarm: invalid min-warm ...").
 * Replies come once the store has committed the change (ipamd); errors
 * are 400 a bad definition (the parser's message), 403 not an admin
 * client (api.c), 404 no such pool or reservation, 409 the name is taken, the
 * pool is defined in the config file (named with its line), its
 * prefixes or VNI clash with another pool, live allocations are in the
 * way (counted), a reservation exists or its address is allocated, or
 * a change of the pool is still committing; 503 the store failed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "common/addr.h"
#include "common/util.h"
#include "conf/conf.h"
#include "api/api.h"
#include "ipam/ipam.h"
#include "ipamd/ipamd.h"

#define WORD_MAX	512	/* longer than any value the grammar takes */

/* A request waiting for its commit. */
struct pool_pending {
	struct evhttp_request	*req;
	struct evpnd		*d;
	struct api_conns	*conns;
	int			 code;		/* on success */
	char			 pool[IPAM_NAME_MAX + 1];
	json_t			*reply;		/* when not the pool */
};

/* ---- definition: JSON out ---- */

static void
set_string(json_t *o, const char *key, const char *v)
{
	if (v != NULL)
		json_object_set_new(o, key, json_string(v));
}

static json_t *
dns_json(const struct conf_ipam_dns *dns, bool secret)
{
	char a[IPADDR_STRLEN];
	json_t *o = json_object(), *t = json_object();

	json_object_set_new(o, "zone", json_string(dns->zone));
	json_object_set_new(o, "server", json_string(ipaddr_fmt(&dns->server,
	    a, sizeof(a))));
	json_object_set_new(t, "algorithm", json_string(dns->tsig_alg));
	json_object_set_new(t, "name", json_string(dns->tsig_name));
	if (secret)
		json_object_set_new(t, "secret",
		    json_string(dns->tsig_secret));
	json_object_set_new(o, "tsig", t);
	json_object_set_new(o, "reverse", json_boolean(dns->reverse));
	json_object_set_new(o, "ttl", json_integer(dns->ttl));
	set_string(o, "nameTemplate", dns->name_template);
	return o;
}

static json_t *
ranges_json(const struct conf_ipam_range_list *list)
{
	const struct conf_ipam_range *r;
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN], both[2 * IPADDR_STRLEN];
	json_t *l = json_array();

	TAILQ_FOREACH(r, list, entry) {
		ipaddr_fmt(&r->lo, a, sizeof(a));
		ipaddr_fmt(&r->hi, b, sizeof(b));
		snprintf(both, sizeof(both), "%s-%s", a, b);
		json_array_append_new(l, json_string(ipaddr_cmp(&r->lo,
		    &r->hi) == 0 ? a : both));
	}
	return l;
}

static json_t *
micro_json(uint64_t v)
{
	return json_real((double)v / CONF_MICRO);
}

/* The settings of a shadow block, every one (defaults included). */
static json_t *
shadow_json(const struct conf_ipam_shadow *sh)
{
	json_t *o = json_object(), *g = json_array();

	json_object_set_new(o, "mode", json_string(sh->mode ==
	    CONF_SHADOW_OBSERVE ? "observe" : "active"));
	json_object_set_new(o, "model",
	    json_string(conf_shadow_model_names[sh->model]));
	json_object_set_new(o, "horizonS", json_integer(sh->horizon));
	json_object_set_new(o, "confidence", micro_json(sh->confidence));
	json_object_set_new(o, "minWarm", json_integer(sh->min_warm));
	json_object_set_new(o, "maxWarm", json_integer(sh->max_warm));
	json_object_set_new(o, "maxPoolFraction",
	    micro_json(sh->max_pool_fraction));
	json_object_set_new(o, "wastageWeight", micro_json(sh->cost_wastage));
	json_object_set_new(o, "delayWeight", micro_json(sh->cost_delay));
	json_object_set_new(o, "leadTimeMs", json_integer(sh->lead_time));
	json_object_set_new(o, "adapt", json_boolean(sh->adapt));
	json_object_set_new(o, "jitter", micro_json(sh->jitter));
	for (uint8_t i = 0; i < sh->ngroup_by; i++)
		json_array_append_new(g, json_string(sh->group_by[i]));
	json_object_set_new(o, "groupBy", g);
	return o;
}

/* secret: the TSIG secret too (only for merging a PATCH, never sent). */
static json_t *
definition_json(const struct conf_ipam_pool *cp, bool secret)
{
	const struct conf_prefix *pfx;
	const struct conf_ipam_reserve *res;
	char a[PREFIX_STRLEN], mac[3 * CONF_IPAM_MAC_PREFIX_MAX];
	json_t *o = json_object(), *l = json_array(), *g = json_array();
	json_t *rl = json_array();

	json_object_set_new(o, "name", json_string(cp->name));
	set_string(o, "tenant", cp->tenant);
	if (cp->vni != 0)
		json_object_set_new(o, "vni", json_integer(cp->vni));
	TAILQ_FOREACH(pfx, &cp->prefixes, entry)
		json_array_append_new(l, json_string(prefix_fmt(&pfx->prefix,
		    a, sizeof(a))));
	json_object_set_new(o, "prefixes", l);
	if (ipaddr_is_set(&cp->gateway4))
		json_array_append_new(g, json_string(ipaddr_fmt(&cp->gateway4,
		    a, sizeof(a))));
	if (ipaddr_is_set(&cp->gateway6))
		json_array_append_new(g, json_string(ipaddr_fmt(&cp->gateway6,
		    a, sizeof(a))));
	json_object_set_new(o, "gateways", g);
	json_object_set_new(o, "excludes", ranges_json(&cp->excludes));
	TAILQ_FOREACH(res, &cp->reserves, entry)
		json_array_append_new(rl, json_pack("{s:s, s:s}", "ip",
		    ipaddr_fmt(&res->ip, a, sizeof(a)), "name", res->name));
	json_object_set_new(o, "reservations", rl);
	json_object_set_new(o, "quarantine", json_integer(cp->quarantine));
	if (cp->mac_prefix_len > 0) {
		size_t off = 0;

		for (int i = 0; i < cp->mac_prefix_len; i++)
			off += (size_t)snprintf(mac + off, sizeof(mac) - off,
			    "%s%02x", i ? ":" : "", cp->mac_prefix[i]);
		json_object_set_new(o, "macPrefix", json_string(mac));
	}
	if (cp->dns.zone != NULL)
		json_object_set_new(o, "dns", dns_json(&cp->dns, secret));
	if (cp->has_shadow)
		json_object_set_new(o, "shadow", shadow_json(&cp->shadow));
	return o;
}

json_t *
api_ipam_definition_json(const struct conf_ipam_pool *cp)
{
	return definition_json(cp, false);
}

/* ---- definition: JSON in ---- */

#define DEF_FIELDS_MAX	16	/* lines that remember their field */

/* Text being built, the fields some of its lines were written for, and
 * the first error met (a 400's message). */
struct def_text {
	FILE		*f;
	char		*text;
	size_t		 len;
	struct {
		unsigned	 line;
		const char	*name;
	}		 fields[DEF_FIELDS_MAX];
	size_t		 nfields;
	char		 err[256];
};

static bool
def_failed(const struct def_text *dt)
{
	return dt->err[0] != '\0';
}

static void
def_error(struct def_text *dt, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
def_error(struct def_text *dt, const char *fmt, ...)
{
	va_list ap;

	if (def_failed(dt))
		return;
	va_start(ap, fmt);
	vsnprintf(dt->err, sizeof(dt->err), fmt, ap);
	va_end(ap);
}

/* The next line written is field's (its number counted from 1). */
static void
def_field(struct def_text *dt, const char *field)
{
	unsigned line = 1;

	if (dt->nfields == DEF_FIELDS_MAX || fflush(dt->f) != 0)
		return;
	for (size_t i = 0; i < dt->len; i++)
		line += dt->text[i] == '\n';
	dt->fields[dt->nfields].line = line;
	dt->fields[dt->nfields++].name = field;
}

/* The field line was written for; NULL for one of no field. */
static const char *
def_field_of(const struct def_text *dt, unsigned line)
{
	for (size_t i = 0; i < dt->nfields; i++)
		if (dt->fields[i].line == line)
			return dt->fields[i].name;
	return NULL;
}

/* One word: printable ASCII without spaces, so it stays one word. */
static const char *
word(struct def_text *dt, const json_t *v, const char *what)
{
	const char *s = json_string_value(v);
	size_t len;

	if (s == NULL || (len = strlen(s)) == 0 || len > WORD_MAX) {
		def_error(dt, "'%s' must be a non-empty string", what);
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f) {
			def_error(dt, "'%s' must be printable ASCII without "
			    "spaces", what);
			return NULL;
		}
	}
	return s;
}

/* " KEYWORD WORD" per element of an array of strings; with range
 * "LO-HI" is written " KEYWORD LO HI" (exclude). */
static void
def_words(struct def_text *dt, const json_t *l, const char *key,
    const char *keyword, bool range)
{
	const char *w, *dash;
	const json_t *v;
	size_t i;

	if (l == NULL || json_is_null(l))
		return;
	if (!json_is_array(l)) {
		def_error(dt, "'%s' must be an array of strings", key);
		return;
	}
	json_array_foreach(l, i, v) {
		if ((w = word(dt, v, key)) == NULL)
			continue;
		if (!range || (dash = strchr(w, '-')) == NULL)
			fprintf(dt->f, " %s %s\n", keyword, w);
		else
			fprintf(dt->f, " %s %.*s %s\n", keyword,
			    (int)(dash - w), w, dash + 1);
	}
}

static void
def_reservations(struct def_text *dt, const json_t *l)
{
	const json_t *v;
	const char *ip, *name;
	size_t i;

	if (l == NULL || json_is_null(l))
		return;
	if (!json_is_array(l)) {
		def_error(dt, "'reservations' must be an array of {\"ip\", "
		    "\"name\"}");
		return;
	}
	json_array_foreach(l, i, v) {
		if (!json_is_object(v) || json_object_size(v) != 2) {
			def_error(dt, "a reservation is {\"ip\", \"name\"}");
			return;
		}
		ip = word(dt, json_object_get(v, "ip"), "ip");
		name = word(dt, json_object_get(v, "name"), "name");
		if (ip != NULL && name != NULL)
			fprintf(dt->f, " reserve %s for %s\n", ip, name);
	}
}

/* A non-negative integer as " KEYWORD N" (the parser checks its range). */
static void
def_uint(struct def_text *dt, const json_t *v, const char *key,
    const char *keyword)
{
	if (v == NULL || json_is_null(v))
		return;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		def_error(dt, "'%s' must be a non-negative integer", key);
		return;
	}
	fprintf(dt->f, " %s %lld\n", keyword,
	    (long long)json_integer_value(v));
}

static void
def_string(struct def_text *dt, const json_t *v, const char *key,
    const char *keyword)
{
	const char *w;

	if (v != NULL && !json_is_null(v) && (w = word(dt, v, key)) != NULL)
		fprintf(dt->f, " %s %s\n", keyword, w);
}

static bool
only_keys(struct def_text *dt, const json_t *o, const char *what,
    const char *const *keys, size_t n)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v) {
		size_t i;

		for (i = 0; i < n && strcmp(k, keys[i]) != 0; i++)
			;
		if (i == n) {
			def_error(dt, "unknown field '%.64s'%s%s", k,
			    what[0] ? " in " : "", what);
			return false;
		}
	}
	return true;
}

static void
def_dns(struct def_text *dt, const json_t *o)
{
	static const char *const keys[] = { "zone", "server", "tsig",
	    "reverse", "ttl", "nameTemplate" };
	static const char *const tkeys[] = { "algorithm", "name", "secret" };
	const json_t *t, *rev, *ttl;
	const char *zone, *server, *alg, *name, *secret;

	if (o == NULL || json_is_null(o))
		return;
	if (!json_is_object(o) || !only_keys(dt, o, "'dns'", keys,
	    nitems(keys))) {
		def_error(dt, "'dns' must be an object");
		return;
	}
	t = json_object_get(o, "tsig");
	if (!json_is_object(t) || !only_keys(dt, t, "'dns.tsig'", tkeys,
	    nitems(tkeys))) {
		def_error(dt, "'dns.tsig' must be {\"algorithm\", \"name\", "
		    "\"secret\"}");
		return;
	}
	zone = word(dt, json_object_get(o, "zone"), "dns.zone");
	server = word(dt, json_object_get(o, "server"), "dns.server");
	alg = word(dt, json_object_get(t, "algorithm"), "dns.tsig.algorithm");
	name = word(dt, json_object_get(t, "name"), "dns.tsig.name");
	secret = word(dt, json_object_get(t, "secret"), "dns.tsig.secret");
	rev = json_object_get(o, "reverse");
	ttl = json_object_get(o, "ttl");
	if (rev != NULL && !json_is_boolean(rev))
		def_error(dt, "'dns.reverse' must be true or false");
	if (ttl != NULL && !json_is_integer(ttl))
		def_error(dt, "'dns.ttl' must be an integer");
	if (def_failed(dt))
		return;
	fprintf(dt->f, " dns zone %s server %s tsig %s %s %s", zone, server,
	    alg, name, secret);
	if (json_is_true(rev))
		fprintf(dt->f, " reverse");
	if (ttl != NULL)
		fprintf(dt->f, " ttl %lld", (long long)json_integer_value(ttl));
	fprintf(dt->f, "\n");
	def_string(dt, json_object_get(o, "nameTemplate"), "dns.nameTemplate",
	    "dns name-template");
}

/* ---- shadow: JSON in ---- */

/* A shadow setting that takes one number or word: its JSON name, the
 * field named in errors, the block's keyword and what it takes. */
enum shadow_value {
	SHADOW_UINT,		/* non-negative integer */
	SHADOW_DECIMAL,		/* number, up to six decimals */
	SHADOW_WORD,		/* string */
	SHADOW_ONOFF,		/* true or false */
};

static const struct shadow_setting {
	const char		*key;
	const char		*field;
	const char		*keyword;
	enum shadow_value	 value;
} shadow_settings[] = {
	{ "mode", "shadow.mode", "mode", SHADOW_WORD },
	{ "model", "shadow.model", "model", SHADOW_WORD },
	{ "horizonS", "shadow.horizonS", "horizon", SHADOW_UINT },
	{ "confidence", "shadow.confidence", "confidence", SHADOW_DECIMAL },
	{ "minWarm", "shadow.minWarm", "min-warm", SHADOW_UINT },
	{ "maxWarm", "shadow.maxWarm", "max-warm", SHADOW_UINT },
	{ "maxPoolFraction", "shadow.maxPoolFraction", "max-pool-fraction",
	    SHADOW_DECIMAL },
	{ "leadTimeMs", "shadow.leadTimeMs", "lead-time", SHADOW_UINT },
	{ "adapt", "shadow.adapt", "adapt", SHADOW_ONOFF },
	{ "jitter", "shadow.jitter", "jitter", SHADOW_DECIMAL },
};

/* A JSON number as the word the parser reads: six decimals at most
 * (its fixed point), so its range check is the one that applies. */
static const char *
decimal_word(struct def_text *dt, const json_t *v, const char *field,
    char *buf, size_t len)
{
	if (!json_is_number(v)) {
		def_error(dt, "'%s' must be a number", field);
		return NULL;
	}
	snprintf(buf, len, "%.6f", json_number_value(v));
	return buf;
}

static void
def_shadow_setting(struct def_text *dt, const struct shadow_setting *st,
    const json_t *v)
{
	char buf[512];
	const char *w = NULL;

	if (v == NULL || json_is_null(v))
		return;
	def_field(dt, st->field);
	switch (st->value) {
	case SHADOW_UINT:
		def_uint(dt, v, st->field, st->keyword);
		return;
	case SHADOW_DECIMAL:
		w = decimal_word(dt, v, st->field, buf, sizeof(buf));
		break;
	case SHADOW_WORD:
		w = word(dt, v, st->field);
		break;
	case SHADOW_ONOFF:
		if (!json_is_boolean(v))
			def_error(dt, "'%s' must be true or false", st->field);
		else
			w = json_is_true(v) ? "on" : "off";
		break;
	}
	if (w != NULL)
		fprintf(dt->f, "  %s %s\n", st->keyword, w);
}

/* "cost wastage W delay D": one line for two fields, the other at its
 * default when only one is given. */
static void
def_shadow_cost(struct def_text *dt, const json_t *o)
{
	const json_t *wv = json_object_get(o, "wastageWeight");
	const json_t *dv = json_object_get(o, "delayWeight");
	char wb[512], db[512], dflt[32];
	const char *w, *d;

	if ((wv == NULL || json_is_null(wv)) && (dv == NULL ||
	    json_is_null(dv)))
		return;
	def_field(dt, wv != NULL && !json_is_null(wv) ?
	    "shadow.wastageWeight" : "shadow.delayWeight");
	w = wv == NULL || json_is_null(wv) ? conf_fmt_micro(
	    CONF_SHADOW_DEFAULT_WASTAGE, dflt, sizeof(dflt)) :
	    decimal_word(dt, wv, "shadow.wastageWeight", wb, sizeof(wb));
	d = dv == NULL || json_is_null(dv) ? conf_fmt_micro(
	    CONF_SHADOW_DEFAULT_DELAY, dflt, sizeof(dflt)) :
	    decimal_word(dt, dv, "shadow.delayWeight", db, sizeof(db));
	if (w != NULL && d != NULL)
		fprintf(dt->f, "  cost wastage %s delay %s\n", w, d);
}

/* "groupBy": [KEY...], [] for none. */
static void
def_shadow_group_by(struct def_text *dt, const json_t *l)
{
	const json_t *v;
	const char *w;
	size_t i;

	if (l == NULL || json_is_null(l))
		return;
	if (!json_is_array(l)) {
		def_error(dt, "'shadow.groupBy' must be an array of strings");
		return;
	}
	def_field(dt, "shadow.groupBy");
	fprintf(dt->f, "  group-by%s", json_array_size(l) == 0 ? " none" :
	    "");
	json_array_foreach(l, i, v)
		if ((w = word(dt, v, "shadow.groupBy")) != NULL)
			fprintf(dt->f, " %s", w);
	fprintf(dt->f, "\n");
}

static void
def_shadow(struct def_text *dt, const json_t *o)
{
	static const char *const keys[] = { "mode", "model", "horizonS",
	    "confidence", "minWarm", "maxWarm", "maxPoolFraction",
	    "wastageWeight", "delayWeight", "leadTimeMs", "adapt", "jitter",
	    "groupBy" };

	if (o == NULL || json_is_null(o))
		return;
	if (!json_is_object(o)) {
		def_error(dt, "'shadow' must be an object");
		return;
	}
	if (!only_keys(dt, o, "'shadow'", keys, nitems(keys)))
		return;
	def_field(dt, "shadow");
	fprintf(dt->f, " shadow\n");
	for (size_t i = 0; i < nitems(shadow_settings); i++)
		def_shadow_setting(dt, &shadow_settings[i],
		    json_object_get(o, shadow_settings[i].key));
	def_shadow_cost(dt, o);
	def_shadow_group_by(dt, json_object_get(o, "groupBy"));
	fprintf(dt->f, " exit-shadow\n");
}

/* ---- definition: parsing ---- */

/*
 * The definition's block as text in dt (a secret inside: the caller
 * wipes it); false with a message in dt->err.
 */
static bool
definition_text(const json_t *o, struct def_text *dt)
{
	static const char *const keys[] = { "name", "tenant", "vni",
	    "prefixes", "gateways", "excludes", "reservations", "quarantine",
	    "macPrefix", "dns", "shadow" };
	const char *name;

	memset(dt, 0, sizeof(*dt));
	if ((dt->f = open_memstream(&dt->text, &dt->len)) == NULL)
		fatalx("%s: open_memstream failed", __func__);
	only_keys(dt, o, "", keys, nitems(keys));
	if ((name = word(dt, json_object_get(o, "name"), "name")) != NULL)
		fprintf(dt->f, "ipam pool %s\n", name);
	def_string(dt, json_object_get(o, "tenant"), "tenant", "tenant");
	def_uint(dt, json_object_get(o, "vni"), "vni", "vni");
	def_words(dt, json_object_get(o, "prefixes"), "prefixes", "prefix",
	    false);
	def_words(dt, json_object_get(o, "gateways"), "gateways", "gateway",
	    false);
	def_words(dt, json_object_get(o, "excludes"), "excludes", "exclude",
	    true);
	def_reservations(dt, json_object_get(o, "reservations"));
	def_uint(dt, json_object_get(o, "quarantine"), "quarantine",
	    "quarantine");
	def_string(dt, json_object_get(o, "macPrefix"), "macPrefix",
	    "mac-prefix");
	def_dns(dt, json_object_get(o, "dns"));
	def_shadow(dt, json_object_get(o, "shadow"));
	fprintf(dt->f, "!\n");
	if (fclose(dt->f) != 0)
		fatalx("%s: writing to memory failed", __func__);
	return !def_failed(dt);
}

/* The parser's message "definition:LINE: MSG" as MSG, after the field
 * the line was written for when it has one. */
static void
parse_error(const struct def_text *dt, const char *perr, char *err,
    size_t errlen)
{
	const char *msg = strstr(perr, ": "), *field = NULL;
	unsigned line;

	if (msg == NULL) {
		snprintf(err, errlen, "%s", perr);
		return;
	}
	if (sscanf(perr, "definition:%u:", &line) == 1)
		field = def_field_of(dt, line);
	snprintf(err, errlen, "%s%s%s", field != NULL ? field : "",
	    field != NULL ? ": " : "", msg + 2);
}

/*
 * Parse the definition (reference stolen) as conf/ parses the config
 * file; NULL after a 400 with the parser's message, without the
 * "definition:LINE: " it puts in front.
 */
static struct config *
definition_parse(struct api_req *r, json_t *o)
{
	char err[512], perr[512];
	struct config *def = NULL;
	struct def_text dt;

	if (definition_text(o, &dt)) {
		def = conf_parse_string(dt.text, "definition", perr,
		    sizeof(perr));
		if (def == NULL)
			parse_error(&dt, perr, err, sizeof(err));
	} else
		snprintf(err, sizeof(err), "%s", dt.err);
	explicit_bzero(dt.text, dt.len);
	free(dt.text);
	json_decref(o);
	if (def == NULL)
		api_reply_error(r, 400, "%s", err);
	return def;
}

/* ---- replies ---- */

static struct pool_pending *
pending_new(struct api_req *r, int code, const char *pool)
{
	struct pool_pending *pd = xcalloc(1, sizeof(*pd));

	pd->req = r->req;
	pd->d = r->d;
	pd->conns = r->conns;
	pd->code = code;
	strlcpy_s(pd->pool, pool, sizeof(pd->pool));
	return pd;
}

static void
pending_free(struct pool_pending *pd)
{
	json_decref(pd->reply);
	free(pd);
}

/* The commit is done: the pool as it is now, pd->reply, or nothing. */
static void
pool_done(int status, void *arg)
{
	struct pool_pending *pd = arg;
	struct api_req r = { .req = pd->req, .d = pd->d, .path = "",
	    .raw = "", .arg = pd->pool, .arg2 = "", .conns = pd->conns };
	const struct ipam_pool *p;

	if (status != 0)
		api_reply_error(&r, 503, "the change of pool %s could not be "
		    "committed (the IPAM store failed; nothing changed)",
		    pd->pool);
	else if (pd->code == 204)
		api_reply_empty(&r, 204);
	else if (pd->reply != NULL) {
		api_reply_json(&r, pd->code, pd->reply);
		pd->reply = NULL;
	} else if ((p = ipam_pool_find(ipamd_ipam(pd->d->ipamd), pd->pool)) !=
	    NULL)
		api_reply_json(&r, pd->code, api_ipam_pool_full_json(&r, p));
	else
		api_reply_error(&r, 500, "pool %s is committed but not in the "
		    "allocator (see the log)", pd->pool);
	pending_free(pd);
}

/* ipamd's refusal as a status code; EPERM names the config's line. */
static void
pool_error(struct api_req *r, int err, const char *pool, const char *msg)
{
	const struct conf_ipam_pool *cp;
	bool runtime;

	switch (err) {
	case EPERM:
		cp = ipamd_pool_definition(r->d->ipamd, pool, &runtime);
		api_reply_error(r, 409, "ipam pool %.64s is defined in %s "
		    "line %u and is read-only over the API", pool,
		    r->d->conf_path != NULL ? r->d->conf_path : "the config",
		    cp != NULL ? cp->line : 0);
		break;
	case ENOENT:
		api_reply_error(r, 404, "%s", msg);
		break;
	case EINVAL:
		api_reply_error(r, 400, "%s", msg);
		break;
	case EEXIST:
	case EADDRINUSE:
	case EBUSY:
	case EAGAIN:
		api_reply_error(r, 409, "%s", msg);
		break;
	default:
		api_reply_error(r, 503, "%s", msg);
		break;
	}
}

/* ---- handlers ---- */

/* One change for ipamd: what it is and what it needs. */
enum pool_call_kind {
	POOL_CREATE,
	POOL_UPDATE,
	POOL_DELETE,
	POOL_RESERVE,
	POOL_UNRESERVE,
};

struct pool_call {
	enum pool_call_kind	 kind;
	const char		*pool;
	struct config		*def;		/* create, update: ipamd's
						 * once taken */
	struct ipaddr		 ip;		/* (un)reserve */
	const char		*name;		/* reserve */
	int			 code;		/* the reply's on success */
	json_t			*reply;		/* NULL: the pool, or none */
};

/* Hand the change to ipamd; the reply goes out once it is committed. */
static void
pool_call_run(struct api_req *r, struct pool_call *pc)
{
	struct pool_pending *pd = pending_new(r, pc->code, pc->pool);
	const char *actor = r->who;
	char err[512];
	struct ipamd *im = r->d->ipamd;
	int rv = -1;

	pd->reply = pc->reply;
	switch (pc->kind) {
	case POOL_CREATE:
		rv = ipamd_pool_create(im, pc->def, actor, pool_done, pd, err,
		    sizeof(err));
		break;
	case POOL_UPDATE:
		rv = ipamd_pool_update(im, pc->def, actor, pool_done, pd, err,
		    sizeof(err));
		break;
	case POOL_DELETE:
		rv = ipamd_pool_delete(im, pc->pool, actor, pool_done, pd, err,
		    sizeof(err));
		break;
	case POOL_RESERVE:
		rv = ipamd_pool_reserve(im, pc->pool, &pc->ip, pc->name, actor,
		    pool_done, pd, err, sizeof(err));
		break;
	case POOL_UNRESERVE:
		rv = ipamd_pool_unreserve(im, pc->pool, &pc->ip, actor,
		    pool_done, pd, err, sizeof(err));
		break;
	}
	if (rv == 0)
		return;
	pool_error(r, errno, pc->pool, err);
	conf_free(pc->def);
	pending_free(pd);
}

void
api_ipam_pool_create(struct api_req *r)
{
	struct pool_call pc = { .kind = POOL_CREATE, .code = 201 };
	json_t *o;

	if (!api_ipam_ready(r) || (o = api_ipam_body(r)) == NULL ||
	    (pc.def = definition_parse(r, o)) == NULL)
		return;
	pc.pool = TAILQ_FIRST(&pc.def->ipam_pools)->name;
	pool_call_run(r, &pc);
}

/* The objects a PATCH merges one level deep. */
static const char *const merged_objects[] = { "dns", "shadow" };

/* The object key of cur with patch's fields put over it: a null field
 * removes one (its default again). */
static void
merge_object(json_t *cur, const json_t *patch, const char *key)
{
	json_t *in = json_object_get(cur, key), *v;
	const json_t *pv = json_object_get(patch, key);
	const char *k;

	if (!json_is_object(pv) || !json_is_object(in))
		return;
	json_object_foreach((json_t *)pv, k, v) {
		if (json_is_null(v))
			json_object_del(in, k);
		else
			json_object_set(in, k, v);
	}
}

/* The current definition with the request's fields put over it ("dns"
 * and "shadow" one level deep); NULL after an error reply. */
static json_t *
definition_merge(struct api_req *r, json_t *patch)
{
	const struct conf_ipam_pool *cp;
	json_t *cur, *v;
	const char *k;
	bool runtime, merged;

	cp = ipamd_pool_definition(r->d->ipamd, r->arg, &runtime);
	if (cp == NULL) {
		api_reply_error(r, 404, "no such pool %.64s", r->arg);
		return NULL;
	}
	if (!runtime) {
		pool_error(r, EPERM, r->arg, "");
		return NULL;
	}
	cur = definition_json(cp, true);
	json_object_foreach(patch, k, v) {
		merged = false;
		for (size_t i = 0; i < nitems(merged_objects); i++)
			if (strcmp(k, merged_objects[i]) == 0 &&
			    json_is_object(v) &&
			    json_is_object(json_object_get(cur, k))) {
				merge_object(cur, patch, k);
				merged = true;
			}
		if (!merged)
			json_object_set(cur, k, v);
	}
	/* A null removes a field. */
	json_object_foreach(patch, k, v)
		if (json_is_null(v))
			json_object_del(cur, k);
	return cur;
}

void
api_ipam_pool_update(struct api_req *r)
{
	struct pool_call pc = { .kind = POOL_UPDATE, .pool = r->arg,
	    .code = 200 };
	json_t *patch, *o;
	const char *name;

	if (!api_ipam_ready(r) || (patch = api_ipam_body(r)) == NULL)
		return;
	name = json_string_value(json_object_get(patch, "name"));
	if (json_object_get(patch, "name") != NULL &&
	    (name == NULL || strcmp(name, r->arg) != 0)) {
		api_reply_error(r, 400, "a pool cannot be renamed");
		json_decref(patch);
		return;
	}
	o = definition_merge(r, patch);
	json_decref(patch);
	if (o == NULL || (pc.def = definition_parse(r, o)) == NULL)
		return;
	pool_call_run(r, &pc);
}

void
api_ipam_pool_delete(struct api_req *r)
{
	struct pool_call pc = { .kind = POOL_DELETE, .pool = r->arg,
	    .code = 204 };

	if (api_ipam_ready(r))
		pool_call_run(r, &pc);
}

void
api_ipam_reserve(struct api_req *r)
{
	struct pool_call pc = { .kind = POOL_RESERVE, .pool = r->arg,
	    .code = 201 };
	char buf[IPADDR_STRLEN];
	const char *ip;
	json_t *o;

	if (!api_ipam_ready(r) || (o = api_ipam_body(r)) == NULL)
		return;
	ip = json_string_value(json_object_get(o, "ip"));
	pc.name = json_string_value(json_object_get(o, "name"));
	if (json_object_size(o) != 2 || ip == NULL || pc.name == NULL ||
	    ipaddr_parse(ip, &pc.ip) == -1) {
		api_reply_error(r, 400, "a reservation is {\"ip\": ADDRESS, "
		    "\"name\": NAME}");
		json_decref(o);
		return;
	}
	pc.reply = json_pack("{s:s, s:s, s:s}", "pool", r->arg, "ip",
	    ipaddr_fmt(&pc.ip, buf, sizeof(buf)), "name", pc.name);
	pool_call_run(r, &pc);
	json_decref(o);
}

void
api_ipam_unreserve(struct api_req *r)
{
	struct pool_call pc = { .kind = POOL_UNRESERVE, .pool = r->arg,
	    .code = 204 };

	if (!api_ipam_ready(r))
		return;
	if (ipaddr_parse(r->arg2, &pc.ip) == -1) {
		api_reply_error(r, 400, "'%.64s' is not an IP address",
		    r->arg2);
		return;
	}
	pool_call_run(r, &pc);
}
