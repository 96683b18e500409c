/*
 * evpnd-cni: a CNI plugin (spec 1.0.0, and 0.3.0 to 1.1.0) that takes
 * container addresses from evpnd's IPAM over its API.  cli/ uses
 * common/ and nothing else of ours; it talks to evpnd only through
 * apiclient.h.
 *
 * How this works: the runtime runs the plugin with CNI_COMMAND and the
 * other CNI_* variables in the environment and the network config on
 * stdin (cni_env_parse, cni_conf_parse).  One binary serves two places
 * in a network's plugin list:
 *
 *  - as the IPAM plugin ("ipam": {"type": "evpnd-cni", "pool": ...}):
 *    ADD allocates in the pool for the resource CONTAINERID/IFNAME
 *    (the spec keys an attachment by the two; a pod's namespace and
 *    name from CNI_ARGS go into its labels only), gives the bridge
 *    plugin the addresses with their prefix length, the pool's gateway
 *    and a default route through it, and puts the allocation's MAC on the
 *    container's interface (the bridge plugin has created it by then
 *    and configures the addresses only after IPAM returns), so the
 *    container owns exactly the MAC and IP evpnd advertises.  DEL
 *    releases (nothing allocated is success), CHECK verifies the
 *    allocation and the interface;
 *  - chained after the main plugin (no "ipam" key): the main plugin's
 *    result still names the MAC the interface was created with, so ADD
 *    writes the interface's real MAC into it (the runtime caches that
 *    result and hands it to every plugin's CHECK), CHECK compares.
 *
 * Errors are the spec's JSON {"cniVersion", "code", "msg", "details"} on
 * stdout and exit status 1: the spec's codes where one fits (11 "try
 * again later" while evpnd is not running), CNI_ERR_* of ours (100+)
 * for what only evpnd knows (unknown pool, pool exhausted).
 */
#ifndef CLI_CNI_H
#define CLI_CNI_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/addr.h"

#define CNI_DEFAULT_SOCKET	EVPND_DEFAULT_SOCKET	/* from configure */
/* Longer than evpnd keeps a parked fabric allocation (ipamd's
 * FABRICD_WAIT_S, 10 s), so its answer or its reason reaches us. */
#define CNI_DEFAULT_TIMEOUT_S	15
#define CNI_MAX_STDIN		(1024 * 1024)
#define CNI_RESOURCE_MAX	255	/* evpnd's IPAM_RESOURCE_MAX */
#define CNI_IFNAME_MAX		15	/* IFNAMSIZ - 1 */
/* The allocation labels of a Kubernetes pod (evpnd's label keys). */
#define CNI_LABEL_K8S_NAMESPACE	"k8s-namespace"
#define CNI_LABEL_K8S_POD	"k8s-pod"
#define CNI_LABEL_VALUE_MAX	253	/* evpnd's IPAM_LABEL_VALUE_MAX */

/* The spec's error codes (CNI spec 1.1, "Error"). */
#define CNI_ERR_VERSION		1	/* incompatible CNI version */
#define CNI_ERR_FIELD		2	/* unsupported field in the config */
#define CNI_ERR_CONTAINER	3	/* container unknown */
#define CNI_ERR_ENV		4	/* invalid necessary environment */
#define CNI_ERR_IO		5	/* I/O failure */
#define CNI_ERR_DECODE		6	/* failed to decode content */
#define CNI_ERR_CONFIG		7	/* invalid network config */
#define CNI_ERR_TRY_AGAIN	11	/* try again later */
#define CNI_ERR_UNAVAILABLE	50	/* STATUS: cannot serve ADD */
/* Ours (the spec leaves 100 and above to plugins). */
#define CNI_ERR_NO_POOL		100	/* evpnd has no such pool */
#define CNI_ERR_EXHAUSTED	101	/* the pool has no free address */
#define CNI_ERR_CONFLICT	102	/* resource held elsewhere, MAC in use */
#define CNI_ERR_NOT_ALLOCATED	103	/* CHECK: no allocation */
#define CNI_ERR_INTERFACE	104	/* the interface lacks our MAC or IP */
#define CNI_ERR_API		105	/* an answer evpnd should not give */

enum cni_command {
	CNI_ADD,
	CNI_DEL,
	CNI_CHECK,
	CNI_VERSION,
	CNI_GC,
	CNI_STATUS,
};

struct cni_error {
	int		 code;
	char		 msg[128];
	char		 details[512];
};

/* CNI_* environment, pointers into environ. */
struct cni_env {
	enum cni_command cmd;
	const char	*container_id;
	const char	*netns;		/* NULL when not given */
	const char	*ifname;
	/* from CNI_ARGS */
	char		 k8s_namespace[CNI_RESOURCE_MAX + 1];
	char		 k8s_pod[CNI_RESOURCE_MAX + 1];
	char		 mac[MAC_STRLEN];	/* MAC=, "" if none */
};

/* The network config; strings point into root. */
struct cni_conf {
	json_t		*root;		/* the whole stdin object, owned */
	const char	*version;	/* cniVersion */
	const char	*name;
	bool		 chained;	/* no "ipam" object: chained mode */
	/* the "ipam" object (IPAM mode) */
	const char	*socket;
	const char	*pool;
	const char	*family;	/* ipv4, ipv6, dual; NULL: evpnd's */
	int		 timeout_s;
	const json_t	*routes;	/* "routes" instead of the default */
	const json_t	*dns;
	/* the runtime's MAC: runtimeConfig.mac, args.cni.mac or CNI_ARGS
	 * MAC= (in that order, as the bridge plugin takes it); "" if none */
	char		 mac[MAC_STRLEN];
	const json_t	*prev_result;	/* NULL if none */
};

/* cni_conf.c: environment, config, results */
int		 cni_env_parse(struct cni_env *, struct cni_error *);
int		 cni_conf_parse(struct cni_conf *, const char *text,
		    size_t len, const struct cni_env *, struct cni_error *);
void		 cni_conf_free(struct cni_conf *);
bool		 cni_version_supported(const char *);
/* The spec version whose result format v uses, compared: v < 1.0.0. */
bool		 cni_version_pre1(const char *);
/* The resource name evpnd allocates for, CONTAINERID/IFNAME; -1 with a
 * CNI_ERR_ENV error. */
int		 cni_resource(const struct cni_env *, char *out, size_t len,
		    struct cni_error *);
/* The allocation's labels: {"k8s-namespace", "k8s-pod"} as CNI_ARGS
 * gives them, each only if given; NULL when none.  -1 with a CNI_ERR_ENV
 * error for a value that is no Kubernetes name. */
int		 cni_labels(const struct cni_env *, json_t **out,
		    struct cni_error *);
/* The IPAM result for an allocation (evpnd's JSON) in pool (the pool's
 * JSON); NULL with err when the two do not fit together. */
json_t		*cni_result(const struct cni_conf *, const json_t *alloc,
		    const json_t *pool, struct cni_error *);
/* The prefix of pool (its "prefixes") holding ip: its length, or -1. */
int		 cni_prefix_len(const json_t *pool, const struct ipaddr *);
json_t		*cni_error_json(const char *version, const struct cni_error *);
json_t		*cni_version_json(const char *version);
void		 cni_error_set(struct cni_error *, int code, const char *msg,
		    const char *details_fmt, ...)
		    __attribute__((format(printf, 4, 5)));

/* cni_netns.c: the container's interface, inside its network namespace */
struct cni_link {
	bool		 exists;
	struct macaddr	 mac;
};
/* What ifname looks like in netns; -1 with err if netns cannot be
 * entered. */
int		 cni_link_get(const char *netns, const char *ifname,
		    struct cni_link *, char *err, size_t errlen);
/* Give ifname the MAC (while it runs; down and up again for a driver
 * that refuses that).  *old gets the MAC it had. */
int		 cni_link_set_mac(const char *netns, const char *ifname,
		    const struct macaddr *, struct macaddr *old, char *err,
		    size_t errlen);
/* Has ifname the address ip/plen?  1 yes, 0 no, -1 with err. */
int		 cni_link_has_addr(const char *netns, const char *ifname,
		    const struct ipaddr *, int plen, char *err, size_t errlen);

#endif
