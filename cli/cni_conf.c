/*
 * evpnd-cni's input and output: the CNI_* environment, the network
 * config on stdin, the resource name and labels, the IPAM result and
 * the error and version objects (CNI spec 1.0.0, "Execution Protocol"
 * and "Result Types"; 1.1.0 for GC and STATUS).  No I/O here:
 * evpnd_cni.c reads and prints, so the unit test drives these with
 * plain strings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "cli/cni.h"

/* Oldest first; the result format changed at 1.0.0. */
static const char *const cni_versions[] = {
	"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0",
};

static const struct {
	const char		*name;
	enum cni_command	 cmd;
} cni_commands[] = {
	{ "ADD", CNI_ADD },
	{ "DEL", CNI_DEL },
	{ "CHECK", CNI_CHECK },
	{ "VERSION", CNI_VERSION },
	{ "GC", CNI_GC },
	{ "STATUS", CNI_STATUS },
};

void
cni_error_set(struct cni_error *e, int code, const char *msg,
    const char *details_fmt, ...)
{
	va_list ap;

	e->code = code;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	va_start(ap, details_fmt);
	vsnprintf(e->details, sizeof(e->details), details_fmt, ap);
	va_end(ap);
	/* Details echo the environment and evpnd's messages: keep them
	 * printable ASCII, so they always make a JSON string. */
	for (char *p = e->details; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
}

static int
version_index(const char *v)
{
	for (size_t i = 0; v != NULL && i < nitems(cni_versions); i++)
		if (strcmp(v, cni_versions[i]) == 0)
			return (int)i;
	return -1;
}

bool
cni_version_supported(const char *v)
{
	return version_index(v) >= 0;
}

bool
cni_version_pre1(const char *v)
{
	return version_index(v) >= 0 && version_index(v) < 3;
}

/* ---- environment ---- */

/* s is ASCII letters, digits and characters of extra only. */
static bool
alnum_or(const char *s, const char *extra)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr(extra, *s) != NULL))
			return false;
	return true;
}

/* Container ids as the spec allows them: [A-Za-z0-9][A-Za-z0-9_.-]*. */
static bool
container_id_ok(const char *s)
{
	return s != NULL && s[0] != '\0' && strchr("_.-", s[0]) == NULL &&
	    alnum_or(s, "_.-");
}

/* Linux interface names: 1 to 15 bytes, no '/', ':' or space, not "."
 * or "..". */
static bool
ifname_ok(const char *s)
{
	if (s == NULL || s[0] == '\0' || strlen(s) > CNI_IFNAME_MAX ||
	    strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s != '\0'; s++)
		if (*s == '/' || *s == ':' || (unsigned char)*s <= 0x20 ||
		    (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* One KEY=VALUE of CNI_ARGS; keys we do not know are ignored. */
static int
cni_arg(struct cni_env *env, const char *pair, size_t len,
    struct cni_error *err)
{
	const char *eq = memchr(pair, '=', len);
	size_t klen, vlen;
	char *dst = NULL;
	size_t dstlen = 0;

	if (eq == NULL || eq == pair) {
		cni_error_set(err, CNI_ERR_ENV, "invalid CNI_ARGS",
		    "'%.*s' is not KEY=VALUE", (int)len, pair);
		return -1;
	}
	klen = (size_t)(eq - pair);
	vlen = len - klen - 1;
	if (klen == 17 && strncmp(pair, "K8S_POD_NAMESPACE", klen) == 0) {
		dst = env->k8s_namespace;
		dstlen = sizeof(env->k8s_namespace);
	} else if (klen == 12 && strncmp(pair, "K8S_POD_NAME", klen) == 0) {
		dst = env->k8s_pod;
		dstlen = sizeof(env->k8s_pod);
	} else if (klen == 3 && strncmp(pair, "MAC", klen) == 0) {
		dst = env->mac;
		dstlen = sizeof(env->mac);
	}
	if (dst == NULL)
		return 0;
	if (vlen >= dstlen) {
		cni_error_set(err, CNI_ERR_ENV, "invalid CNI_ARGS",
		    "the value of %.*s is too long", (int)klen, pair);
		return -1;
	}
	memcpy(dst, eq + 1, vlen);
	dst[vlen] = '\0';
	return 0;
}

static int
cni_args_parse(struct cni_env *env, const char *args, struct cni_error *err)
{
	const char *p = args, *end;

	while (p != NULL && *p != '\0') {
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		if (end > p && cni_arg(env, p, (size_t)(end - p), err) == -1)
			return -1;
		p = *end == ';' ? end + 1 : end;
	}
	return 0;
}

static int
cni_command_parse(const char *s, enum cni_command *cmd)
{
	for (size_t i = 0; s != NULL && i < nitems(cni_commands); i++)
		if (strcmp(s, cni_commands[i].name) == 0) {
			*cmd = cni_commands[i].cmd;
			return 0;
		}
	return -1;
}

/* The variables an attachment command needs (spec: "Parameters"). */
static int
cni_env_attachment(struct cni_env *env, struct cni_error *err)
{
	if (!container_id_ok(env->container_id)) {
		cni_error_set(err, CNI_ERR_ENV, "invalid CNI_CONTAINERID",
		    "'%.64s' is not [A-Za-z0-9][A-Za-z0-9_.-]*",
		    env->container_id ? env->container_id : "");
		return -1;
	}
	if (!ifname_ok(env->ifname)) {
		cni_error_set(err, CNI_ERR_ENV, "invalid CNI_IFNAME",
		    "'%.64s' is not an interface name",
		    env->ifname ? env->ifname : "");
		return -1;
	}
	if (env->netns == NULL && env->cmd != CNI_DEL) {
		cni_error_set(err, CNI_ERR_ENV, "missing CNI_NETNS",
		    "%s needs the container's network namespace",
		    env->cmd == CNI_ADD ? "ADD" : "CHECK");
		return -1;
	}
	return 0;
}

int
cni_env_parse(struct cni_env *env, struct cni_error *err)
{
	const char *cmd = getenv("CNI_COMMAND");

	memset(env, 0, sizeof(*env));
	if (cni_command_parse(cmd, &env->cmd) == -1) {
		cni_error_set(err, CNI_ERR_ENV, "invalid CNI_COMMAND",
		    "'%.32s' is none of ADD, DEL, CHECK, VERSION, GC, STATUS",
		    cmd ? cmd : "");
		return -1;
	}
	env->container_id = getenv("CNI_CONTAINERID");
	env->netns = getenv("CNI_NETNS");
	if (env->netns != NULL && env->netns[0] == '\0')
		env->netns = NULL;
	env->ifname = getenv("CNI_IFNAME");
	if (env->cmd == CNI_VERSION || env->cmd == CNI_GC ||
	    env->cmd == CNI_STATUS)
		return 0;
	if (cni_env_attachment(env, err) == -1)
		return -1;
	return cni_args_parse(env, getenv("CNI_ARGS"), err);
}

/* ---- the network config ---- */

static const char *
jstring(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A member that must be a string if present; -1 after the error. */
static int
opt_string(const json_t *o, const char *key, const char **out,
    struct cni_error *err)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v)) {
		cni_error_set(err, CNI_ERR_CONFIG, "invalid network config",
		    "'%s' must be a string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/* routes: [{"dst": PREFIX, "gw"?: ADDR}...] */
static int
routes_check(const json_t *routes, struct cni_error *err)
{
	const json_t *r;
	struct prefix p;
	struct ipaddr gw;
	size_t i;

	if (!json_is_array(routes))
		goto bad;
	json_array_foreach(routes, i, r) {
		const char *dst = jstring(r, "dst"), *g = jstring(r, "gw");

		if (!json_is_object(r) || dst == NULL ||
		    prefix_parse(dst, &p, false) == -1 ||
		    (json_object_get(r, "gw") != NULL && (g == NULL ||
		    ipaddr_parse(g, &gw) == -1 || gw.af != p.addr.af)))
			goto bad;
	}
	return 0;
bad:
	cni_error_set(err, CNI_ERR_CONFIG, "invalid network config",
	    "ipam 'routes' must be [{\"dst\": PREFIX, \"gw\": ADDRESS}...]");
	return -1;
}

static int
ipam_timeout(struct cni_conf *c, const json_t *ipam, struct cni_error *err)
{
	const json_t *t = json_object_get(ipam, "timeout");

	c->timeout_s = CNI_DEFAULT_TIMEOUT_S;
	if (t == NULL)
		return 0;
	if (!json_is_integer(t) || json_integer_value(t) < 1 ||
	    json_integer_value(t) > 600) {
		cni_error_set(err, CNI_ERR_CONFIG, "invalid network config",
		    "ipam 'timeout' must be 1 to 600 seconds");
		return -1;
	}
	c->timeout_s = (int)json_integer_value(t);
	return 0;
}

static int
ipam_fields_check(const json_t *ipam, struct cni_error *err)
{
	static const char *const known[] = { "type", "socket", "pool",
	    "family", "timeout", "routes", "dns" };
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)ipam, k, v) {
		size_t i;

		for (i = 0; i < nitems(known); i++)
			if (strcmp(k, known[i]) == 0)
				break;
		if (i == nitems(known)) {
			cni_error_set(err, CNI_ERR_FIELD, "unsupported field "
			    "in network configuration", "ipam has no field "
			    "'%.64s' (known: type, socket, pool, family, "
			    "timeout, routes, dns)", k);
			return -1;
		}
	}
	return 0;
}

static int
ipam_parse(struct cni_conf *c, const json_t *ipam, struct cni_error *err)
{
	if (ipam_fields_check(ipam, err) == -1 ||
	    opt_string(ipam, "socket", &c->socket, err) == -1 ||
	    opt_string(ipam, "pool", &c->pool, err) == -1 ||
	    opt_string(ipam, "family", &c->family, err) == -1 ||
	    ipam_timeout(c, ipam, err) == -1)
		return -1;
	if (c->socket == NULL)
		c->socket = CNI_DEFAULT_SOCKET;
	if (c->pool == NULL || c->pool[0] == '\0') {
		cni_error_set(err, CNI_ERR_CONFIG, "invalid network config",
		    "ipam needs 'pool', the evpnd pool to allocate in");
		return -1;
	}
	if (c->family != NULL && strcmp(c->family, "ipv4") != 0 &&
	    strcmp(c->family, "ipv6") != 0 && strcmp(c->family, "dual") != 0) {
		cni_error_set(err, CNI_ERR_CONFIG, "invalid network config",
		    "ipam 'family' must be ipv4, ipv6 or dual");
		return -1;
	}
	c->routes = json_object_get(ipam, "routes");
	if (c->routes != NULL && routes_check(c->routes, err) == -1)
		return -1;
	c->dns = json_object_get(ipam, "dns");
	if (c->dns != NULL && !json_is_object(c->dns)) {
		cni_error_set(err, CNI_ERR_CONFIG, "invalid network config",
		    "ipam 'dns' must be an object");
		return -1;
	}
	return 0;
}

/* The runtime's MAC, in the bridge plugin's order of precedence. */
static int
runtime_mac(struct cni_conf *c, const struct cni_env *env,
    struct cni_error *err)
{
	const char *m = jstring(json_object_get(c->root, "runtimeConfig"),
	    "mac");
	struct macaddr mac;

	if (m == NULL)
		m = jstring(json_object_get(json_object_get(c->root, "args"),
		    "cni"), "mac");
	if (m == NULL && env != NULL && env->mac[0] != '\0')
		m = env->mac;
	if (m == NULL)
		return 0;
	if (mac_parse(m, &mac) == -1 || mac_is_zero(&mac) ||
	    (mac.b[0] & 0x01) != 0) {
		cni_error_set(err, CNI_ERR_CONFIG, "invalid network config",
		    "the runtime's MAC '%.32s' is not a unicast MAC", m);
		return -1;
	}
	mac_fmt(&mac, c->mac, sizeof(c->mac));
	return 0;
}

static int
conf_version(struct cni_conf *c, const struct cni_env *env,
    struct cni_error *err)
{
	static const int needs[] = {
		[CNI_ADD] = 0, [CNI_DEL] = 0, [CNI_CHECK] = 2,
		[CNI_VERSION] = 0, [CNI_GC] = 4, [CNI_STATUS] = 4,
	};

	c->version = jstring(c->root, "cniVersion");
	if (!cni_version_supported(c->version)) {
		cni_error_set(err, CNI_ERR_VERSION, "incompatible CNI version",
		    "config version %.16s; evpnd-cni supports 0.3.0, 0.3.1, "
		    "0.4.0, 1.0.0 and 1.1.0", c->version ? c->version : "none");
		c->version = NULL;
		return -1;
	}
	if (version_index(c->version) < needs[env->cmd]) {
		cni_error_set(err, CNI_ERR_VERSION, "incompatible CNI version",
		    "config version %s has no %s", c->version,
		    cni_commands[env->cmd].name);
		return -1;
	}
	return 0;
}

int
cni_conf_parse(struct cni_conf *c, const char *text, size_t len,
    const struct cni_env *env, struct cni_error *err)
{
	json_error_t jerr;
	const json_t *ipam;

	memset(c, 0, sizeof(*c));
	c->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(c->root)) {
		cni_error_set(err, CNI_ERR_DECODE, "failed to decode the "
		    "network config", "%s", c->root ? "not a JSON object" :
		    jerr.text);
		return -1;
	}
	if (conf_version(c, env, err) == -1)
		return -1;
	if ((c->name = jstring(c->root, "name")) == NULL) {
		cni_error_set(err, CNI_ERR_CONFIG, "invalid network config",
		    "the network config has no 'name'");
		return -1;
	}
	c->prev_result = json_object_get(c->root, "prevResult");
	if (c->prev_result != NULL && !json_is_object(c->prev_result)) {
		cni_error_set(err, CNI_ERR_CONFIG, "invalid network config",
		    "'prevResult' must be an object");
		return -1;
	}
	ipam = json_object_get(c->root, "ipam");
	c->chained = ipam == NULL;
	if (ipam != NULL && !json_is_object(ipam)) {
		cni_error_set(err, CNI_ERR_CONFIG, "invalid network config",
		    "'ipam' must be an object");
		return -1;
	}
	if (ipam != NULL && ipam_parse(c, ipam, err) == -1)
		return -1;
	return runtime_mac(c, env, err);
}

void
cni_conf_free(struct cni_conf *c)
{
	json_decref(c->root);
	memset(c, 0, sizeof(*c));
}

/* ---- the resource and its labels ---- */

/*
 * CONTAINERID/IFNAME, never the pod's name: the spec keys an attachment
 * by the two (CNI spec 1.0.0, "Parameters"), and a pod whose sandbox is
 * recreated (a node reboot) gets a new container id while the runtime
 * may still DEL the old sandbox after ADDing the new one; a name shared
 * by both would let that DEL release the live sandbox's address.
 * Both parts are checked by cni_env_parse (no '/' in either).
 */
int
cni_resource(const struct cni_env *env, char *out, size_t len,
    struct cni_error *err)
{
	int n = snprintf(out, len, "%s/%s", env->container_id, env->ifname);

	if (n < 0 || (size_t)n >= len || n > CNI_RESOURCE_MAX) {
		cni_error_set(err, CNI_ERR_ENV, "invalid resource name",
		    "CNI_CONTAINERID/CNI_IFNAME would be longer than %d bytes",
		    CNI_RESOURCE_MAX);
		return -1;
	}
	return 0;
}

/* A Kubernetes object name (a DNS subdomain: letters, digits, '-' and
 * '.'), which evpnd takes as a label value. */
static bool
k8s_name_ok(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= CNI_LABEL_VALUE_MAX && alnum_or(s, "-.");
}

static int
label_add(json_t *labels, const char *key, const char *arg,
    const char *value, struct cni_error *err)
{
	if (value[0] == '\0')
		return 0;
	if (!k8s_name_ok(value)) {
		cni_error_set(err, CNI_ERR_ENV, "invalid CNI_ARGS", "%s '%.64s' "
		    "is not a Kubernetes name (1 to %d letters, digits, '-' "
		    "and '.')", arg, value, CNI_LABEL_VALUE_MAX);
		return -1;
	}
	json_object_set_new(labels, key, json_string(value));
	return 0;
}

int
cni_labels(const struct cni_env *env, json_t **out, struct cni_error *err)
{
	json_t *labels = json_object();

	*out = NULL;
	if (label_add(labels, CNI_LABEL_K8S_NAMESPACE, "K8S_POD_NAMESPACE",
	    env->k8s_namespace, err) == -1 ||
	    label_add(labels, CNI_LABEL_K8S_POD, "K8S_POD_NAME", env->k8s_pod,
	    err) == -1) {
		json_decref(labels);
		return -1;
	}
	if (json_object_size(labels) == 0)
		json_decref(labels);
	else
		*out = labels;
	return 0;
}

/* ---- results ---- */

int
cni_prefix_len(const json_t *pool, const struct ipaddr *ip)
{
	const json_t *v;
	struct prefix p, q;
	int best = -1;
	size_t i;

	json_array_foreach(json_object_get(pool, "prefixes"), i, v) {
		if (!json_is_string(v) ||
		    prefix_parse(json_string_value(v), &p, false) == -1 ||
		    p.addr.af != ip->af)
			continue;
		q.addr = *ip;
		q.len = p.len;
		prefix_mask(&q);
		if (prefix_cmp(&p, &q) == 0 && (int)p.len > best)
			best = p.len;
	}
	return best;
}

/* One "ips" entry for the allocation's address of one family. */
static json_t *
result_ip(const struct cni_conf *c, const char *addr, const json_t *pool,
    const char *gw, struct cni_error *err)
{
	struct ipaddr ip;
	char cidr[PREFIX_STRLEN];
	int plen;
	json_t *o;

	if (ipaddr_parse(addr, &ip) == -1 ||
	    (plen = cni_prefix_len(pool, &ip)) < 0) {
		cni_error_set(err, CNI_ERR_API, "unexpected answer from evpnd",
		    "address %.64s is in no prefix of pool %.64s", addr,
		    jstring(pool, "name") ? jstring(pool, "name") : "?");
		return NULL;
	}
	snprintf(cidr, sizeof(cidr), "%s/%d", addr, plen);
	o = json_pack("{s:s}", "address", cidr);
	if (gw != NULL)
		json_object_set_new(o, "gateway", json_string(gw));
	if (cni_version_pre1(c->version))
		json_object_set_new(o, "version", json_string(ip.af ==
		    AF_INET ? "4" : "6"));
	return o;
}

json_t *
cni_result(const struct cni_conf *c, const json_t *alloc, const json_t *pool,
    struct cni_error *err)
{
	static const struct { const char *alloc_key, *pool_key, *dflt; }
	    fams[] = {
		{ "ip", "ipv4", "0.0.0.0/0" },
		{ "ipv6", "ipv6", "::/0" },
	};
	json_t *res, *ips = json_array(), *routes = json_array(), *ip;

	for (size_t i = 0; i < nitems(fams); i++) {
		const char *addr = jstring(alloc, fams[i].alloc_key);
		const char *gw = jstring(json_object_get(pool,
		    fams[i].pool_key), "gateway");

		if (addr == NULL)
			continue;
		if ((ip = result_ip(c, addr, pool, gw, err)) == NULL) {
			json_decref(ips);
			json_decref(routes);
			return NULL;
		}
		json_array_append_new(ips, ip);
		if (gw != NULL && c->routes == NULL)
			json_array_append_new(routes, json_pack("{s:s, s:s}",
			    "dst", fams[i].dflt, "gw", gw));
	}
	if (json_array_size(ips) == 0) {
		json_decref(ips);
		json_decref(routes);
		cni_error_set(err, CNI_ERR_API, "unexpected answer from evpnd",
		    "the allocation has no address");
		return NULL;
	}
	if (c->routes != NULL) {
		json_decref(routes);
		routes = json_deep_copy(c->routes);
	}
	res = json_pack("{s:s, s:o, s:o, s:o}", "cniVersion", c->version,
	    "ips", ips, "routes", routes, "dns", c->dns != NULL ?
	    json_deep_copy(c->dns) : json_object());
	return res;
}

json_t *
cni_error_json(const char *version, const struct cni_error *e)
{
	json_t *o = json_pack("{s:s, s:i, s:s}", "cniVersion",
	    version != NULL ? version : "1.0.0", "code", e->code, "msg",
	    e->msg);

	if (e->details[0] != '\0')
		json_object_set_new(o, "details", json_string(e->details));
	return o;
}

json_t *
cni_version_json(const char *version)
{
	json_t *l = json_array();

	for (size_t i = 0; i < nitems(cni_versions); i++)
		json_array_append_new(l, json_string(cni_versions[i]));
	return json_pack("{s:s, s:o}", "cniVersion",
	    cni_version_supported(version) ? version : "1.0.0",
	    "supportedVersions", l);
}
