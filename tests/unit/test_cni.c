/*
 * evpnd-cni's input and output (cli/cni_conf.c): the CNI_* environment
 * and CNI_ARGS, the network config in IPAM and chained mode, the
 * runtime's MAC, the resource name and labels, and the result, error
 * and version objects compared with what CNI spec 1.0.0 (and 0.4.0)
 * prescribe.
 * Each test sets its environment; check forks one process per test.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cni.h"
#include "ipamd/fabricd.h"	/* FABRICD_WAIT_S, what evpnd waits */

static void
env_set(const char *cmd, const char *cid, const char *netns,
    const char *ifname, const char *args)
{
	const char *names[] = { "CNI_COMMAND", "CNI_CONTAINERID",
	    "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS" };
	const char *vals[] = { cmd, cid, netns, ifname, args };

	for (size_t i = 0; i < 5; i++)
		if (vals[i] != NULL)
			setenv(names[i], vals[i], 1);
		else
			unsetenv(names[i]);
}

static void
env_add(struct cni_env *env, const char *args)
{
	struct cni_error err;

	env_set("ADD", "c0ffee", "/var/run/netns/c1", "eth0", args);
	ck_assert_msg(cni_env_parse(env, &err) == 0, "%s: %s", err.msg,
	    err.details);
}

/* An env error: its code and a word of its message. */
static void
env_bad(int code, const char *msg_word)
{
	struct cni_env env;
	struct cni_error err;

	ck_assert_int_eq(cni_env_parse(&env, &err), -1);
	ck_assert_int_eq(err.code, code);
	ck_assert_msg(strstr(err.msg, msg_word) != NULL, "msg '%s'", err.msg);
}

START_TEST(test_env_commands)
{
	static const struct { const char *s; enum cni_command c; } t[] = {
		{ "ADD", CNI_ADD }, { "DEL", CNI_DEL }, { "CHECK", CNI_CHECK },
		{ "VERSION", CNI_VERSION }, { "GC", CNI_GC },
		{ "STATUS", CNI_STATUS },
	};
	struct cni_env env;
	struct cni_error err;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		env_set(t[i].s, "c1", "/run/netns/x", "eth0", NULL);
		ck_assert_int_eq(cni_env_parse(&env, &err), 0);
		ck_assert_int_eq(env.cmd, t[i].c);
	}
	/* VERSION needs nothing else */
	env_set("VERSION", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(cni_env_parse(&env, &err), 0);
	env_set("add", "c1", "/run/netns/x", "eth0", NULL);
	env_bad(CNI_ERR_ENV, "CNI_COMMAND");
	env_set(NULL, "c1", "/run/netns/x", "eth0", NULL);
	env_bad(CNI_ERR_ENV, "CNI_COMMAND");
}
END_TEST

START_TEST(test_env_attachment)
{
	struct cni_env env;
	struct cni_error err;

	env_set("ADD", "-c1", "/run/netns/x", "eth0", NULL);
	env_bad(CNI_ERR_ENV, "CNI_CONTAINERID");
	env_set("ADD", "c1/x", "/run/netns/x", "eth0", NULL);
	env_bad(CNI_ERR_ENV, "CNI_CONTAINERID");
	env_set("DEL", NULL, NULL, "eth0", NULL);
	env_bad(CNI_ERR_ENV, "CNI_CONTAINERID");
	env_set("ADD", "c1", "/run/netns/x", "eth0/1", NULL);
	env_bad(CNI_ERR_ENV, "CNI_IFNAME");
	env_set("ADD", "c1", "/run/netns/x", "a234567890123456", NULL);
	env_bad(CNI_ERR_ENV, "CNI_IFNAME");
	env_set("ADD", "c1", "/run/netns/x", "..", NULL);
	env_bad(CNI_ERR_ENV, "CNI_IFNAME");
	env_set("ADD", "c1", NULL, "eth0", NULL);
	env_bad(CNI_ERR_ENV, "CNI_NETNS");
	env_set("CHECK", "c1", "", "eth0", NULL);
	env_bad(CNI_ERR_ENV, "CNI_NETNS");
	/* DEL may come without a namespace (it may be gone) */
	env_set("DEL", "Ab9_.-x", NULL, "a23456789012345", NULL);
	ck_assert_int_eq(cni_env_parse(&env, &err), 0);
	ck_assert_ptr_null(env.netns);
	ck_assert_str_eq(env.ifname, "a23456789012345");
}
END_TEST

START_TEST(test_env_args)
{
	struct cni_env env;
	struct cni_error err;
	char big[400];

	env_add(&env, "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;"
	    "K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=c0ffee;"
	    "MAC=02:00:0a:00:00:09");
	ck_assert_str_eq(env.k8s_namespace, "ns1");
	ck_assert_str_eq(env.k8s_pod, "web-0");
	ck_assert_str_eq(env.mac, "02:00:0a:00:00:09");
	env_add(&env, "");
	ck_assert_str_eq(env.k8s_pod, "");
	env_add(&env, ";;K8S_POD_NAME=;");
	ck_assert_str_eq(env.k8s_pod, "");
	env_set("ADD", "c1", "/run/netns/x", "eth0", "K8S_POD_NAME");
	env_bad(CNI_ERR_ENV, "CNI_ARGS");
	env_set("ADD", "c1", "/run/netns/x", "eth0", "=x");
	env_bad(CNI_ERR_ENV, "CNI_ARGS");
	memset(big, 'a', sizeof(big));
	memcpy(big, "K8S_POD_NAME=", 13);
	big[sizeof(big) - 1] = '\0';
	env_set("ADD", "c1", "/run/netns/x", "eth0", big);
	ck_assert_int_eq(cni_env_parse(&env, &err), -1);
	ck_assert_int_eq(err.code, CNI_ERR_ENV);
}
END_TEST

START_TEST(test_resource)
{
	struct cni_env env;
	struct cni_error err;
	char res[CNI_RESOURCE_MAX + 1], old[CNI_RESOURCE_MAX + 1];

	env_add(&env, NULL);
	ck_assert_int_eq(cni_resource(&env, res, sizeof(res), &err), 0);
	ck_assert_str_eq(res, "c0ffee/eth0");
	/* a pod's names do not name the resource: the container id does */
	env_add(&env, "K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web-0");
	ck_assert_int_eq(cni_resource(&env, res, sizeof(res), &err), 0);
	ck_assert_str_eq(res, "c0ffee/eth0");
	/* two sandboxes of one pod (a recreated sandbox): two resources,
	 * so the old one's DEL cannot release the new one's address */
	ck_assert_int_eq(cni_resource(&env, old, sizeof(old), &err), 0);
	env_set("ADD", "beef01", "/var/run/netns/c2", "eth0",
	    "K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web-0");
	ck_assert_int_eq(cni_env_parse(&env, &err), 0);
	ck_assert_int_eq(cni_resource(&env, res, sizeof(res), &err), 0);
	ck_assert_str_eq(res, "beef01/eth0");
	ck_assert_str_ne(res, old);
}
END_TEST

/* The labels of env_add(args) as compact JSON, "" for none. */
static void
labels_are(const char *args, const char *want)
{
	struct cni_env env;
	struct cni_error err;
	json_t *labels;
	char *text;

	env_add(&env, args);
	ck_assert_msg(cni_labels(&env, &labels, &err) == 0, "%s: %s: %s",
	    args, err.msg, err.details);
	text = labels != NULL ? json_dumps(labels, JSON_COMPACT |
	    JSON_SORT_KEYS) : strdup("");
	ck_assert_str_eq(text, want);
	free(text);
	json_decref(labels);
}

START_TEST(test_labels)
{
	struct cni_env env;
	struct cni_error err;
	json_t *labels;
	char big[300];

	labels_are(NULL, "");
	labels_are("IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web-0",
	    "{\"k8s-namespace\":\"ns1\",\"k8s-pod\":\"web-0\"}");
	labels_are("K8S_POD_NAME=web-0.a", "{\"k8s-pod\":\"web-0.a\"}");
	labels_are("K8S_POD_NAMESPACE=;K8S_POD_NAME=", "");
	/* what evpnd would refuse as a label value is no pod name */
	env_add(&env, "K8S_POD_NAMESPACE=n s;K8S_POD_NAME=web-0");
	ck_assert_int_eq(cni_labels(&env, &labels, &err), -1);
	ck_assert_int_eq(err.code, CNI_ERR_ENV);
	ck_assert_ptr_null(labels);
	env_add(&env, "K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=a/b");
	ck_assert_int_eq(cni_labels(&env, &labels, &err), -1);
	ck_assert_msg(strstr(err.details, "K8S_POD_NAME") != NULL, "%s",
	    err.details);
	/* 254 bytes: longer than a label value */
	memcpy(big, "K8S_POD_NAME=", 13);
	memset(big + 13, 'a', 254);
	big[13 + 254] = '\0';
	env_add(&env, big);
	ck_assert_int_eq(cni_labels(&env, &labels, &err), -1);
	big[13 + 253] = '\0';
	env_add(&env, big);
	ck_assert_int_eq(cni_labels(&env, &labels, &err), 0);
	json_decref(labels);
}
END_TEST

/* ---- config ---- */

static int
conf_parse(struct cni_conf *c, const struct cni_env *env, const char *text,
    struct cni_error *err)
{
	return cni_conf_parse(c, text, strlen(text), env, err);
}

#define IPAM_CONF(ipam) "{\"cniVersion\": \"1.0.0\", \"name\": \"tenant-a\", " \
	"\"type\": \"bridge\", \"bridge\": \"br100\", \"ipam\": " ipam "}"

static void
conf_bad(const char *text, int code, const char *details_word)
{
	struct cni_env env;
	struct cni_conf c;
	struct cni_error err;

	env_add(&env, NULL);
	ck_assert_int_eq(conf_parse(&c, &env, text, &err), -1);
	ck_assert_msg(err.code == code, "code %d (want %d) for %s: %s",
	    err.code, code, text, err.details);
	ck_assert_msg(strstr(err.details, details_word) != NULL,
	    "details '%s' lack '%s'", err.details, details_word);
	cni_conf_free(&c);
}

START_TEST(test_conf_ipam)
{
	struct cni_env env;
	struct cni_conf c;
	struct cni_error err;

	env_add(&env, NULL);
	ck_assert_int_eq(conf_parse(&c, &env, IPAM_CONF("{\"type\": "
	    "\"evpnd-cni\", \"socket\": \"/run/x.sock\", \"pool\": \"train\", "
	    "\"family\": \"dual\", \"timeout\": 3}"), &err), 0);
	ck_assert(!c.chained);
	ck_assert_str_eq(c.version, "1.0.0");
	ck_assert_str_eq(c.name, "tenant-a");
	ck_assert_str_eq(c.socket, "/run/x.sock");
	ck_assert_str_eq(c.pool, "train");
	ck_assert_str_eq(c.family, "dual");
	ck_assert_int_eq(c.timeout_s, 3);
	ck_assert_str_eq(c.mac, "");
	ck_assert_ptr_null(c.routes);
	cni_conf_free(&c);
	/* defaults */
	ck_assert_int_eq(conf_parse(&c, &env, IPAM_CONF("{\"type\": "
	    "\"evpnd-cni\", \"pool\": \"p\"}"), &err), 0);
	ck_assert_str_eq(c.socket, CNI_DEFAULT_SOCKET);
	ck_assert_ptr_null(c.family);
	ck_assert_int_eq(c.timeout_s, CNI_DEFAULT_TIMEOUT_S);
	/* longer than evpnd parks a fabric allocation, so that its answer
	 * (or its reason) comes before we give up */
	ck_assert_int_ge(c.timeout_s, FABRICD_WAIT_S + 5);
	cni_conf_free(&c);
}
END_TEST

START_TEST(test_conf_errors)
{
	conf_bad("{\"cniVersion\": \"1.0.0\", ", CNI_ERR_DECODE, "");
	conf_bad("[1]", CNI_ERR_DECODE, "object");
	conf_bad("{\"cniVersion\": \"2.0.0\", \"name\": \"n\"}",
	    CNI_ERR_VERSION, "2.0.0");
	conf_bad("{\"name\": \"n\"}", CNI_ERR_VERSION, "none");
	conf_bad("{\"cniVersion\": \"1.0.0\", \"name\": \"n\", \"name\": "
	    "\"m\"}", CNI_ERR_DECODE, "duplicate");
	conf_bad("{\"cniVersion\": \"1.0.0\"}", CNI_ERR_CONFIG, "name");
	conf_bad(IPAM_CONF("{\"type\": \"evpnd-cni\"}"), CNI_ERR_CONFIG,
	    "pool");
	conf_bad(IPAM_CONF("{\"pool\": \"p\", \"pol\": \"q\"}"),
	    CNI_ERR_FIELD, "pol");
	conf_bad(IPAM_CONF("{\"pool\": 7}"), CNI_ERR_CONFIG, "pool");
	conf_bad(IPAM_CONF("{\"pool\": \"p\", \"family\": \"ipv5\"}"),
	    CNI_ERR_CONFIG, "family");
	conf_bad(IPAM_CONF("{\"pool\": \"p\", \"timeout\": 0}"),
	    CNI_ERR_CONFIG, "timeout");
	conf_bad(IPAM_CONF("{\"pool\": \"p\", \"routes\": [{\"dst\": "
	    "\"10.0.0.1/8\"}]}"), CNI_ERR_CONFIG, "routes");
	conf_bad(IPAM_CONF("{\"pool\": \"p\", \"routes\": [{\"dst\": "
	    "\"10.0.0.0/8\", \"gw\": \"2001:db8::1\"}]}"), CNI_ERR_CONFIG,
	    "routes");
	conf_bad(IPAM_CONF("{\"pool\": \"p\", \"dns\": []}"),
	    CNI_ERR_CONFIG, "dns");
	conf_bad(IPAM_CONF("7"), CNI_ERR_CONFIG, "ipam");
	conf_bad("{\"cniVersion\": \"1.0.0\", \"name\": \"n\", "
	    "\"prevResult\": []}", CNI_ERR_CONFIG, "prevResult");
}
END_TEST

START_TEST(test_conf_versions)
{
	struct cni_env env;
	struct cni_conf c;
	struct cni_error err;

	env_add(&env, NULL);
	ck_assert_int_eq(conf_parse(&c, &env, "{\"cniVersion\": \"0.3.1\", "
	    "\"name\": \"n\", \"ipam\": {\"pool\": \"p\"}}", &err), 0);
	cni_conf_free(&c);
	/* CHECK came with 0.4.0, GC and STATUS with 1.1.0 */
	env_set("CHECK", "c1", "/run/netns/x", "eth0", NULL);
	ck_assert_int_eq(cni_env_parse(&env, &err), 0);
	ck_assert_int_eq(conf_parse(&c, &env, "{\"cniVersion\": \"0.3.1\", "
	    "\"name\": \"n\"}", &err), -1);
	ck_assert_int_eq(err.code, CNI_ERR_VERSION);
	cni_conf_free(&c);
	ck_assert_int_eq(conf_parse(&c, &env, "{\"cniVersion\": \"0.4.0\", "
	    "\"name\": \"n\"}", &err), 0);
	cni_conf_free(&c);
	env_set("STATUS", NULL, NULL, NULL, NULL);
	ck_assert_int_eq(cni_env_parse(&env, &err), 0);
	ck_assert_int_eq(conf_parse(&c, &env, "{\"cniVersion\": \"1.0.0\", "
	    "\"name\": \"n\"}", &err), -1);
	ck_assert_int_eq(err.code, CNI_ERR_VERSION);
	cni_conf_free(&c);
	ck_assert_int_eq(conf_parse(&c, &env, "{\"cniVersion\": \"1.1.0\", "
	    "\"name\": \"n\"}", &err), 0);
	cni_conf_free(&c);
	ck_assert(cni_version_pre1("0.4.0"));
	ck_assert(!cni_version_pre1("1.0.0"));
}
END_TEST

START_TEST(test_conf_chained)
{
	struct cni_env env;
	struct cni_conf c;
	struct cni_error err;

	env_add(&env, NULL);
	ck_assert_int_eq(conf_parse(&c, &env, "{\"cniVersion\": \"1.0.0\", "
	    "\"name\": \"n\", \"type\": \"evpnd-cni\", \"prevResult\": "
	    "{\"cniVersion\": \"1.0.0\", \"interfaces\": []}}", &err), 0);
	ck_assert(c.chained);
	ck_assert_ptr_nonnull(c.prev_result);
	ck_assert_ptr_null(c.pool);
	cni_conf_free(&c);
}
END_TEST

/* runtimeConfig.mac, then args.cni.mac, then CNI_ARGS MAC=, as the
 * bridge plugin takes them; normalised to lower case. */
START_TEST(test_conf_mac)
{
	struct cni_env env;
	struct cni_conf c;
	struct cni_error err;

	env_add(&env, "MAC=02:00:00:00:00:03");
	ck_assert_int_eq(conf_parse(&c, &env, "{\"cniVersion\": \"1.0.0\", "
	    "\"name\": \"n\", \"ipam\": {\"pool\": \"p\"}, \"runtimeConfig\": "
	    "{\"mac\": \"02:00:00:00:00:0A\"}, \"args\": {\"cni\": {\"mac\": "
	    "\"02:00:00:00:00:02\"}}}", &err), 0);
	ck_assert_str_eq(c.mac, "02:00:00:00:00:0a");
	cni_conf_free(&c);
	ck_assert_int_eq(conf_parse(&c, &env, "{\"cniVersion\": \"1.0.0\", "
	    "\"name\": \"n\", \"ipam\": {\"pool\": \"p\"}, \"args\": {\"cni\": "
	    "{\"mac\": \"02:00:00:00:00:02\"}}}", &err), 0);
	ck_assert_str_eq(c.mac, "02:00:00:00:00:02");
	cni_conf_free(&c);
	ck_assert_int_eq(conf_parse(&c, &env, "{\"cniVersion\": \"1.0.0\", "
	    "\"name\": \"n\", \"ipam\": {\"pool\": \"p\"}}", &err), 0);
	ck_assert_str_eq(c.mac, "02:00:00:00:00:03");
	cni_conf_free(&c);
	env_add(&env, "MAC=01:00:5e:00:00:01");
	ck_assert_int_eq(conf_parse(&c, &env, "{\"cniVersion\": \"1.0.0\", "
	    "\"name\": \"n\", \"ipam\": {\"pool\": \"p\"}}", &err), -1);
	ck_assert_int_eq(err.code, CNI_ERR_CONFIG);
	cni_conf_free(&c);
}
END_TEST

/* ---- results ---- */

static const char pool_json[] =
	"{\"name\": \"train\", \"prefixes\": [\"10.10.0.0/16\", "
	"\"10.10.7.0/24\", \"2001:db8:100::/64\", \"192.0.2.0/24\"], "
	"\"ipv4\": {\"free\": 10, \"gateway\": \"10.10.0.1\"}, "
	"\"ipv6\": {\"free\": 10}}";

static json_t *
result_of(const char *version, const char *ipam, const char *alloc,
    struct cni_error *err)
{
	char text[1024];
	struct cni_env env;
	struct cni_conf c;
	json_t *a = json_loads(alloc, 0, NULL);
	json_t *p = json_loads(pool_json, 0, NULL), *res;

	env_add(&env, NULL);
	snprintf(text, sizeof(text), "{\"cniVersion\": \"%s\", \"name\": "
	    "\"n\", \"ipam\": %s}", version, ipam);
	ck_assert_int_eq(conf_parse(&c, &env, text, err), 0);
	res = cni_result(&c, a, p, err);
	cni_conf_free(&c);
	json_decref(a);
	json_decref(p);
	return res;
}

static void
assert_json_eq(json_t *got, const char *want_text)
{
	json_t *want = json_loads(want_text, 0, NULL);
	char *g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);

	ck_assert_ptr_nonnull(want);
	ck_assert_msg(json_equal(got, want), "got %s", g);
	free(g);
	json_decref(want);
	json_decref(got);
}

START_TEST(test_result_dual)
{
	struct cni_error err;
	json_t *r;

	/* the longest prefix holding the address gives its length; a
	 * family without a gateway gets no gateway and no route */
	r = result_of("1.0.0", "{\"pool\": \"train\"}", "{\"resource\": "
	    "\"c/eth0\", \"ip\": \"10.10.7.9\", \"ipv6\": \"2001:db8:100::5\", "
	    "\"mac\": \"02:00:0a:00:00:01\"}", &err);
	assert_json_eq(r, "{\"cniVersion\": \"1.0.0\", \"ips\": ["
	    "{\"address\": \"10.10.7.9/24\", \"gateway\": \"10.10.0.1\"}, "
	    "{\"address\": \"2001:db8:100::5/64\"}], "
	    "\"routes\": [{\"dst\": \"0.0.0.0/0\", \"gw\": \"10.10.0.1\"}], "
	    "\"dns\": {}}");
	r = result_of("1.0.0", "{\"pool\": \"train\"}", "{\"ip\": "
	    "\"10.10.200.1\", \"mac\": \"02:00:0a:00:00:01\"}", &err);
	assert_json_eq(r, "{\"cniVersion\": \"1.0.0\", \"ips\": ["
	    "{\"address\": \"10.10.200.1/16\", \"gateway\": \"10.10.0.1\"}], "
	    "\"routes\": [{\"dst\": \"0.0.0.0/0\", \"gw\": \"10.10.0.1\"}], "
	    "\"dns\": {}}");
}
END_TEST

START_TEST(test_result_pre1_and_overrides)
{
	struct cni_error err;
	json_t *r;

	/* 0.4.0 IP configs carry "version"; configured routes and dns
	 * replace the default route and the empty dns */
	r = result_of("0.4.0", "{\"pool\": \"train\", \"routes\": [{\"dst\": "
	    "\"198.51.100.0/24\", \"gw\": \"10.10.0.254\"}], \"dns\": "
	    "{\"nameservers\": [\"10.10.0.53\"]}}", "{\"ip\": \"10.10.0.2\", "
	    "\"ipv6\": \"2001:db8:100::2\", \"mac\": \"02:00:0a:00:00:01\"}",
	    &err);
	assert_json_eq(r, "{\"cniVersion\": \"0.4.0\", \"ips\": ["
	    "{\"address\": \"10.10.0.2/16\", \"gateway\": \"10.10.0.1\", "
	    "\"version\": \"4\"}, {\"address\": \"2001:db8:100::2/64\", "
	    "\"version\": \"6\"}], \"routes\": [{\"dst\": \"198.51.100.0/24\", "
	    "\"gw\": \"10.10.0.254\"}], \"dns\": {\"nameservers\": "
	    "[\"10.10.0.53\"]}}");
}
END_TEST

START_TEST(test_result_errors)
{
	struct cni_error err;

	ck_assert_ptr_null(result_of("1.0.0", "{\"pool\": \"train\"}",
	    "{\"ip\": \"10.99.0.1\"}", &err));
	ck_assert_int_eq(err.code, CNI_ERR_API);
	ck_assert_ptr_nonnull(strstr(err.details, "10.99.0.1"));
	ck_assert_ptr_null(result_of("1.0.0", "{\"pool\": \"train\"}",
	    "{\"mac\": \"02:00:0a:00:00:01\"}", &err));
	ck_assert_int_eq(err.code, CNI_ERR_API);
	ck_assert_ptr_null(result_of("1.0.0", "{\"pool\": \"train\"}",
	    "{\"ip\": \"not-an-ip\"}", &err));
}
END_TEST

START_TEST(test_error_and_version_json)
{
	struct cni_error err;

	cni_error_set(&err, CNI_ERR_TRY_AGAIN, "try again later",
	    "evpnd at %s: %s\x01", "/run/x.sock", "refused");
	assert_json_eq(cni_error_json("0.4.0", &err), "{\"cniVersion\": "
	    "\"0.4.0\", \"code\": 11, \"msg\": \"try again later\", "
	    "\"details\": \"evpnd at /run/x.sock: refused?\"}");
	cni_error_set(&err, CNI_ERR_NO_POOL, "unknown pool", "%s", "");
	assert_json_eq(cni_error_json(NULL, &err), "{\"cniVersion\": "
	    "\"1.0.0\", \"code\": 100, \"msg\": \"unknown pool\"}");
	assert_json_eq(cni_version_json("0.4.0"), "{\"cniVersion\": "
	    "\"0.4.0\", \"supportedVersions\": [\"0.3.0\", \"0.3.1\", "
	    "\"0.4.0\", \"1.0.0\", \"1.1.0\"]}");
	assert_json_eq(cni_version_json("9.9.9"), "{\"cniVersion\": "
	    "\"1.0.0\", \"supportedVersions\": [\"0.3.0\", \"0.3.1\", "
	    "\"0.4.0\", \"1.0.0\", \"1.1.0\"]}");
}
END_TEST

static Suite *
cni_suite(void)
{
	Suite *s = suite_create("cni");
	TCase *tc = tcase_create("env");

	tcase_add_test(tc, test_env_commands);
	tcase_add_test(tc, test_env_attachment);
	tcase_add_test(tc, test_env_args);
	tcase_add_test(tc, test_resource);
	tcase_add_test(tc, test_labels);
	suite_add_tcase(s, tc);
	tc = tcase_create("conf");
	tcase_add_test(tc, test_conf_ipam);
	tcase_add_test(tc, test_conf_errors);
	tcase_add_test(tc, test_conf_versions);
	tcase_add_test(tc, test_conf_chained);
	tcase_add_test(tc, test_conf_mac);
	suite_add_tcase(s, tc);
	tc = tcase_create("result");
	tcase_add_test(tc, test_result_dual);
	tcase_add_test(tc, test_result_pre1_and_overrides);
	tcase_add_test(tc, test_result_errors);
	tcase_add_test(tc, test_error_and_version_json);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(cni_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
