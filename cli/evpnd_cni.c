/*
 * evpnd-cni: the CNI plugin's commands.  See cni.h for how it works;
 * cni_conf.c parses its input and builds its output, cni_netns.c looks
 * into the container, apiclient.h talks to evpnd.
 *
 * evpnd's API as used here:
 *   GET    /v1/ipam/pools/NAME			prefixes, gateways, free
 *   POST   /v1/ipam/pools/NAME/allocations	{"resource", "family", "mac",
 *						 "labels"}
 *						201 new, 200 existing
 *   DELETE /v1/ipam/allocations/RESOURCE?pool=P	204, 404 if none
 *   GET    /v1/ipam/allocations?pool=NAME	CHECK's lookup
 * RESOURCE is percent-encoded: "cid/eth0" is one path segment.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"
#include "common/util.h"
#include "cli/apiclient.h"
#include "cli/cni.h"

struct cni_run {
	struct cni_env	 env;
	struct cni_conf	 conf;
	struct apiclient api;
	char		 resource[CNI_RESOURCE_MAX + 1];
	struct cni_error err;
};

/* ---- evpnd's API ---- */

/* A request that got an answer (any status); -1 with r->err set. */
static int
api_request(struct cni_run *r, const char *method, const char *path,
    const char *body, struct apiclient_reply *rep)
{
	char msg[512];

	if (apiclient_request(&r->api, method, path, body, rep, msg,
	    sizeof(msg)) == 0)
		return 0;
	if (apiclient_not_running(errno))
		cni_error_set(&r->err, CNI_ERR_TRY_AGAIN, "try again later: "
		    "evpnd is not running", "%s", msg);
	else if (errno == ETIMEDOUT)
		cni_error_set(&r->err, CNI_ERR_TRY_AGAIN, "try again later: "
		    "evpnd did not answer in time", "%s", msg);
	else if (errno == EBADMSG)
		cni_error_set(&r->err, CNI_ERR_API, "unexpected answer from "
		    "evpnd", "%s", msg);
	else
		cni_error_set(&r->err, CNI_ERR_IO, "I/O failure talking to "
		    "evpnd", "%s", msg);
	return -1;
}

/* An answer other than the one we wanted, as a CNI error. */
static void
api_status_error(struct cni_run *r, const struct apiclient_reply *rep)
{
	const char *m = apiclient_reply_error(rep);
	char status[64];

	snprintf(status, sizeof(status), "HTTP status %d", rep->status);
	if (m == NULL)
		m = status;
	switch (rep->status) {
	case 404:
		cni_error_set(&r->err, CNI_ERR_NO_POOL, "unknown pool",
		    "evpnd: %s", m);
		break;
	case 409:
		/* api_ipam.c: "pool NAME is exhausted"; every other 409 is
		 * a resource or MAC held elsewhere. */
		if (strstr(m, " is exhausted") != NULL)
			cni_error_set(&r->err, CNI_ERR_EXHAUSTED,
			    "pool exhausted", "evpnd: %s", m);
		else
			cni_error_set(&r->err, CNI_ERR_CONFLICT,
			    "allocation conflict", "evpnd: %s", m);
		break;
	case 400:
		cni_error_set(&r->err, CNI_ERR_CONFIG, "invalid network config",
		    "evpnd refused the request: %s", m);
		break;
	case 500:
	case 503:
		cni_error_set(&r->err, CNI_ERR_TRY_AGAIN, "try again later: "
		    "evpnd cannot serve IPAM now", "evpnd: %s", m);
		break;
	default:
		cni_error_set(&r->err, CNI_ERR_API, "unexpected answer from "
		    "evpnd", "evpnd: %s", m);
		break;
	}
}

/*
 * method path (body may be NULL): 0 when the answer's status is one of
 * ok (0-terminated), with its JSON (may be NULL) in *out and the status
 * in *status (may be NULL); -1 with r->err.
 */
static int
api_expect(struct cni_run *r, const char *method, const char *path,
    const char *body, const int *ok, json_t **out, int *status)
{
	struct apiclient_reply rep;
	int rc = -1;

	*out = NULL;
	if (api_request(r, method, path, body, &rep) == -1)
		return -1;
	for (const int *s = ok; *s != 0; s++)
		if (rep.status == *s)
			rc = 0;
	if (rc == 0) {
		*out = rep.json;
		rep.json = NULL;
		if (status != NULL)
			*status = rep.status;
	} else
		api_status_error(r, &rep);
	apiclient_reply_clear(&rep);
	return rc;
}

/* GET fmt (its %s the escaped arg) expecting 200 and a JSON object. */
static json_t *
api_get_object(struct cni_run *r, const char *fmt, const char *arg)
{
	static const int ok[] = { 200, 0 };
	char *path = apiclient_path(fmt, arg);
	json_t *o;

	if (api_expect(r, "GET", path, NULL, ok, &o, NULL) == 0 &&
	    !json_is_object(o)) {
		json_decref(o);
		o = NULL;
		cni_error_set(&r->err, CNI_ERR_API, "unexpected answer from "
		    "evpnd", "GET %s: no JSON object", path);
	}
	free(path);
	return o;
}

static json_t *
pool_get(struct cni_run *r)
{
	return api_get_object(r, "/v1/ipam/pools/%s", r->conf.pool);
}

/* POST the allocation; *fresh tells a new one (201) from a repeat. */
static json_t *
allocate(struct cni_run *r, bool *fresh)
{
	static const int ok[] = { 200, 201, 0 };
	json_t *req, *labels, *alloc = NULL;
	char *path, *body;
	int status = 0;

	if (cni_labels(&r->env, &labels, &r->err) == -1)
		return NULL;
	req = json_pack("{s:s}", "resource", r->resource);
	if (labels != NULL)
		json_object_set_new(req, "labels", labels);
	if (r->conf.family != NULL)
		json_object_set_new(req, "family", json_string(r->conf.family));
	if (r->conf.mac[0] != '\0')
		json_object_set_new(req, "mac", json_string(r->conf.mac));
	if ((body = json_dumps(req, JSON_COMPACT)) == NULL)
		fatalx("evpnd-cni: out of memory");
	json_decref(req);
	path = apiclient_path("/v1/ipam/pools/%s/allocations", r->conf.pool);
	if (api_expect(r, "POST", path, body, ok, &alloc, &status) == 0 &&
	    !json_is_object(alloc)) {
		json_decref(alloc);
		alloc = NULL;
		cni_error_set(&r->err, CNI_ERR_API, "unexpected answer from "
		    "evpnd", "POST %s: no JSON object", path);
	}
	*fresh = status == 201;
	free(path);
	free(body);
	return alloc;
}

/* DELETE the resource's allocation; none is success too. */
static int
release(struct cni_run *r)
{
	static const int ok[] = { 204, 200, 404, 0 };
	char *res = apiclient_escape(r->resource);
	char *pool = apiclient_escape(r->conf.pool), *path;
	json_t *o;
	int rc;

	/* Resource names are per tenant: say which pool's it is. */
	if (asprintf(&path, "/v1/ipam/allocations/%s?pool=%s", res, pool) ==
	    -1)
		fatalx("evpnd-cni: out of memory");
	free(res);
	free(pool);

	rc = api_expect(r, "DELETE", path, NULL, ok, &o, NULL);
	json_decref(o);
	free(path);
	return rc;
}

/* The resource's allocation in the pool, or NULL (r->err says why). */
static json_t *
allocation_find(struct cni_run *r)
{
	json_t *all, *a, *found = NULL;
	size_t i;

	if ((all = api_get_object(r, "/v1/ipam/allocations?pool=%s",
	    r->conf.pool)) == NULL)
		return NULL;
	json_array_foreach(json_object_get(all, "allocations"), i, a)
		if (json_is_string(json_object_get(a, "resource")) &&
		    strcmp(json_string_value(json_object_get(a, "resource")),
		    r->resource) == 0)
			found = json_incref(a);
	json_decref(all);
	if (found == NULL)
		cni_error_set(&r->err, CNI_ERR_NOT_ALLOCATED, "no allocation",
		    "evpnd holds nothing for %s in pool %s", r->resource,
		    r->conf.pool);
	return found;
}

/* ---- the container's interface ---- */

static int
alloc_mac(struct cni_run *r, const json_t *alloc, struct macaddr *mac)
{
	const char *m = json_string_value(json_object_get(alloc, "mac"));

	if (m != NULL && mac_parse(m, mac) == 0)
		return 0;
	cni_error_set(&r->err, CNI_ERR_API, "unexpected answer from evpnd",
	    "the allocation has no MAC");
	return -1;
}

/*
 * Give the container's interface the allocation's MAC if it exists yet
 * (the bridge and macvlan plugins create it before calling IPAM; ptp
 * after, and then the chained evpnd-cni does it).
 */
static int
link_mac_ensure(struct cni_run *r, const json_t *alloc)
{
	struct macaddr mac, old;
	struct cni_link link;
	char msg[256];

	if (alloc_mac(r, alloc, &mac) == -1)
		return -1;
	if (cni_link_get(r->env.netns, r->env.ifname, &link, msg,
	    sizeof(msg)) == -1 ||
	    (link.exists && mac_cmp(&link.mac, &mac) != 0 &&
	    cni_link_set_mac(r->env.netns, r->env.ifname, &mac, &old, msg,
	    sizeof(msg)) == -1)) {
		cni_error_set(&r->err, CNI_ERR_INTERFACE, "cannot give the "
		    "container's interface evpnd's MAC", "%s", msg);
		return -1;
	}
	return 0;
}

/* The container's interface, which must exist; -1 with r->err. */
static int
link_read(struct cni_run *r, struct cni_link *link)
{
	char msg[256];

	if (cni_link_get(r->env.netns, r->env.ifname, link, msg,
	    sizeof(msg)) == -1) {
		cni_error_set(&r->err, CNI_ERR_INTERFACE, "cannot read the "
		    "container's interface", "%s", msg);
		return -1;
	}
	if (!link->exists) {
		cni_error_set(&r->err, CNI_ERR_INTERFACE, "interface missing",
		    "%s is not in %s", r->env.ifname, r->env.netns);
		return -1;
	}
	return 0;
}

/* CHECK: the interface has the allocation's MAC and every address. */
static int
link_check(struct cni_run *r, const json_t *alloc, const json_t *pool)
{
	static const char *const keys[] = { "ip", "ipv6" };
	struct macaddr mac;
	struct cni_link link;
	struct ipaddr ip;
	char msg[256], have[MAC_STRLEN];
	int plen, has;

	if (alloc_mac(r, alloc, &mac) == -1 || link_read(r, &link) == -1)
		return -1;
	if (mac_cmp(&link.mac, &mac) != 0) {
		cni_error_set(&r->err, CNI_ERR_INTERFACE, "wrong MAC",
		    "%s has %s, evpnd allocated %s", r->env.ifname,
		    mac_fmt(&link.mac, have, sizeof(have)),
		    json_string_value(json_object_get(alloc, "mac")));
		return -1;
	}
	for (size_t i = 0; i < nitems(keys); i++) {
		const char *a = json_string_value(json_object_get(alloc,
		    keys[i]));

		if (a == NULL)
			continue;
		if (ipaddr_parse(a, &ip) == -1 ||
		    (plen = cni_prefix_len(pool, &ip)) < 0) {
			cni_error_set(&r->err, CNI_ERR_API, "unexpected answer "
			    "from evpnd", "%s is in no prefix of the pool", a);
			return -1;
		}
		has = cni_link_has_addr(r->env.netns, r->env.ifname, &ip, plen,
		    msg, sizeof(msg));
		if (has == -1)
			cni_error_set(&r->err, CNI_ERR_INTERFACE, "cannot read "
			    "the container's addresses", "%s", msg);
		else if (has == 0)
			cni_error_set(&r->err, CNI_ERR_INTERFACE, "address "
			    "missing", "%s lacks %s/%d", r->env.ifname, a,
			    plen);
		if (has != 1)
			return -1;
	}
	return 0;
}

/* CHECK: the addresses the runtime recorded are evpnd's allocation. */
static int
prev_result_check(struct cni_run *r, const json_t *alloc)
{
	const json_t *ips = json_object_get(r->conf.prev_result, "ips"), *v;
	const char *a4 = json_string_value(json_object_get(alloc, "ip"));
	const char *a6 = json_string_value(json_object_get(alloc, "ipv6"));
	struct ipaddr ip4, ip6, ip;
	char addr[PREFIX_STRLEN];
	size_t i;

	if (a4 == NULL || ipaddr_parse(a4, &ip4) == -1)
		memset(&ip4, 0, sizeof(ip4));
	if (a6 == NULL || ipaddr_parse(a6, &ip6) == -1)
		memset(&ip6, 0, sizeof(ip6));
	json_array_foreach(ips, i, v) {
		const char *s = json_string_value(json_object_get(v,
		    "address"));

		/* "ADDR/LEN": the address part is what evpnd allocated */
		snprintf(addr, sizeof(addr), "%s", s != NULL ? s : "");
		addr[strcspn(addr, "/")] = '\0';
		if (ipaddr_parse(addr, &ip) == 0 &&
		    ((ip4.af != 0 && ipaddr_cmp(&ip, &ip4) == 0) ||
		    (ip6.af != 0 && ipaddr_cmp(&ip, &ip6) == 0)))
			continue;
		cni_error_set(&r->err, CNI_ERR_NOT_ALLOCATED, "address not "
		    "allocated", "prevResult has %s; evpnd holds %s%s%s for %s",
		    s ? s : "an address without 'address'", a4 ? a4 : "",
		    a4 && a6 ? " and " : "", a6 ? a6 : "", r->resource);
		return -1;
	}
	return 0;
}

/* ---- IPAM mode ---- */

static json_t *
ipam_add(struct cni_run *r)
{
	json_t *pool, *alloc = NULL, *result = NULL;
	bool fresh = false;

	if ((pool = pool_get(r)) == NULL)
		return NULL;
	if ((alloc = allocate(r, &fresh)) != NULL &&
	    ((result = cni_result(&r->conf, alloc, pool, &r->err)) == NULL ||
	    link_mac_ensure(r, alloc) == -1)) {
		json_decref(result);
		result = NULL;
		/* Leave nothing of ours behind; a repeat keeps what the
		 * first ADD made. */
		if (fresh) {
			struct cni_error keep = r->err;

			release(r);
			r->err = keep;
		}
	}
	json_decref(alloc);
	json_decref(pool);
	return result;
}

static int
ipam_check(struct cni_run *r)
{
	json_t *pool, *alloc = NULL;
	int rc = -1;

	if ((pool = pool_get(r)) != NULL &&
	    (alloc = allocation_find(r)) != NULL &&
	    prev_result_check(r, alloc) == 0 &&
	    link_check(r, alloc, pool) == 0)
		rc = 0;
	json_decref(alloc);
	json_decref(pool);
	return rc;
}

/* STATUS (1.1.0): evpnd answers, knows the pool and has room in it. */
static int
ipam_status(struct cni_run *r)
{
	const char *fam = r->conf.family != NULL ? r->conf.family : "ipv4";
	json_t *pool;
	bool room;
	int rc = 0;

	if ((pool = pool_get(r)) == NULL) {
		r->err.code = CNI_ERR_UNAVAILABLE;
		return -1;
	}
	room = (strcmp(fam, "ipv6") == 0 || json_number_value(json_object_get(
	    json_object_get(pool, "ipv4"), "free")) >= 1) &&
	    (strcmp(fam, "ipv4") == 0 || json_number_value(json_object_get(
	    json_object_get(pool, "ipv6"), "free")) >= 1);
	if (!room) {
		cni_error_set(&r->err, CNI_ERR_UNAVAILABLE, "pool exhausted",
		    "pool %s has no free %s address", r->conf.pool, fam);
		rc = -1;
	}
	json_decref(pool);
	return rc;
}

/* ---- chained mode ---- */

/* The prevResult's entry of the container's interface, or NULL. */
static json_t *
prev_container_iface(struct cni_run *r)
{
	json_t *ifs = json_object_get(r->conf.prev_result, "interfaces"), *i;
	size_t n;

	json_array_foreach(ifs, n, i) {
		const char *name = json_string_value(json_object_get(i,
		    "name"));
		const char *sb = json_string_value(json_object_get(i,
		    "sandbox"));

		if (name != NULL && sb != NULL &&
		    strcmp(name, r->env.ifname) == 0 &&
		    strcmp(sb, r->env.netns) == 0)
			return i;
	}
	return NULL;
}

static int
prev_result_needed(struct cni_run *r)
{
	if (r->conf.prev_result != NULL)
		return 0;
	cni_error_set(&r->err, CNI_ERR_CONFIG, "invalid network config",
	    "evpnd-cni without 'ipam' runs chained and needs prevResult: "
	    "list it after the main plugin");
	return -1;
}

/* ADD: the main plugin's result with the interface's real MAC. */
static json_t *
chained_add(struct cni_run *r)
{
	struct cni_link link;
	json_t *result, *iface;
	char msg[256], mac[MAC_STRLEN];

	if (prev_result_needed(r) == -1)
		return NULL;
	result = json_deep_copy(r->conf.prev_result);
	json_object_set_new(result, "cniVersion", json_string(
	    r->conf.version));
	r->conf.prev_result = result;	/* the copy, still owned here */
	if ((iface = prev_container_iface(r)) == NULL)
		return result;
	if (cni_link_get(r->env.netns, r->env.ifname, &link, msg,
	    sizeof(msg)) == -1) {
		cni_error_set(&r->err, CNI_ERR_INTERFACE, "cannot read the "
		    "container's interface", "%s", msg);
		json_decref(result);
		return NULL;
	}
	if (link.exists)
		json_object_set_new(iface, "mac", json_string(mac_fmt(
		    &link.mac, mac, sizeof(mac))));
	return result;
}

static int
chained_check(struct cni_run *r)
{
	struct cni_link link;
	const char *want;
	json_t *iface;
	char mac[MAC_STRLEN];

	if (prev_result_needed(r) == -1)
		return -1;
	if ((iface = prev_container_iface(r)) == NULL ||
	    (want = json_string_value(json_object_get(iface, "mac"))) == NULL)
		return 0;
	if (link_read(r, &link) == -1)
		return -1;
	mac_fmt(&link.mac, mac, sizeof(mac));
	if (strcasecmp(mac, want) != 0) {
		cni_error_set(&r->err, CNI_ERR_INTERFACE, "wrong MAC",
		    "%s has %s, the result says %s", r->env.ifname, mac, want);
		return -1;
	}
	return 0;
}

/* ---- main ---- */

/* stdin whole, NUL-terminated; NULL (r->err set) if unreadable. */
static char *
stdin_read(struct cni_run *r, size_t *lenp)
{
	size_t len = 0, cap = 4096;
	char *buf = xmalloc(cap);
	ssize_t n;

	for (;;) {
		if (len + 1 == cap) {
			if (cap >= CNI_MAX_STDIN) {
				cni_error_set(&r->err, CNI_ERR_DECODE, "failed "
				    "to decode the network config", "more "
				    "than %d bytes on stdin", CNI_MAX_STDIN);
				free(buf);
				return NULL;
			}
			buf = xrealloc(buf, cap *= 2);
		}
		n = read(STDIN_FILENO, buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cni_error_set(&r->err, CNI_ERR_IO, "I/O failure",
			    "reading stdin: %s", strerror(errno));
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

static int
print_json_out(json_t *o)
{
	int rc = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(o);
	putchar('\n');
	return rc == 0 && fflush(stdout) == 0 ? 0 : -1;
}

/* The cniVersion of stdin if it has a usable one (errors, VERSION). */
static const char *
stdin_version(const char *text, size_t len, char *buf, size_t buflen)
{
	json_t *o = json_loadb(text, len, 0, NULL);
	const char *v = json_string_value(json_object_get(o, "cniVersion"));

	if (cni_version_supported(v))
		snprintf(buf, buflen, "%s", v);
	else
		buf[0] = '\0';
	json_decref(o);
	return buf[0] != '\0' ? buf : NULL;
}

static int
run_command(struct cni_run *r)
{
	json_t *result = NULL;
	bool chained = r->conf.chained;

	r->api.socket = r->conf.socket;
	r->api.timeout_ms = r->conf.timeout_s * 1000;
	if (r->env.cmd == CNI_ADD || r->env.cmd == CNI_DEL ||
	    r->env.cmd == CNI_CHECK)
		if (cni_resource(&r->env, r->resource, sizeof(r->resource),
		    &r->err) == -1)
			return -1;
	switch (r->env.cmd) {
	case CNI_ADD:
		result = chained ? chained_add(r) : ipam_add(r);
		if (result == NULL)
			return -1;
		return print_json_out(result) == 0 ? 0 : -1;
	case CNI_DEL:
		return chained ? 0 : release(r);
	case CNI_CHECK:
		return chained ? chained_check(r) : ipam_check(r);
	case CNI_STATUS:
		return chained ? 0 : ipam_status(r);
	case CNI_GC:
		/* Nothing ties an allocation to this network yet (no
		 * labels), so nothing can be collected safely. */
		return 0;
	case CNI_VERSION:
		break;
	}
	return 0;
}

int
main(void)
{
	struct cni_run r;
	char vbuf[16], *text;
	const char *version = NULL;
	size_t len = 0;
	int env_rc, rc = -1;

	memset(&r, 0, sizeof(r));
	env_rc = cni_env_parse(&r.env, &r.err);
	if ((text = stdin_read(&r, &len)) != NULL)
		version = stdin_version(text, len, vbuf, sizeof(vbuf));
	if (env_rc == 0 && text != NULL && r.env.cmd == CNI_VERSION) {
		free(text);
		return print_json_out(cni_version_json(version)) == 0 ? 0 : 1;
	}
	if (env_rc == 0 && text != NULL &&
	    cni_conf_parse(&r.conf, text, len, &r.env, &r.err) == 0)
		rc = run_command(&r);
	free(text);
	cni_conf_free(&r.conf);
	if (rc == 0)
		return 0;
	print_json_out(cni_error_json(version, &r.err));
	return 1;
}
