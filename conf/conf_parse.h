/*
 * Internal to conf/: the parser state shared by the parsing engine
 * (conf_parse.c: lines, words, dispatch, whole-file checks) and the
 * command handlers (conf_cmd.c: one function per statement, and the
 * per-node command tables).  Not part of the conf/ contract.
 */
#ifndef CONF_CONF_PARSE_H
#define CONF_CONF_PARSE_H

#include "conf/conf.h"

#define CONF_MAX_LINE	4096
#define CONF_MAX_WORDS	32
#define CONF_MAX_FILE	(16 * 1024 * 1024)
#define VNI_MAX		0xffffff	/* 24 bits, RFC 7348 §5 */
/* Caps that keep every printed line far below CONF_MAX_LINE. */
#define CONF_MAX_HOSTNAME 64
#define CONF_MAX_DESCRIPTION 80
#define CONF_MAX_PATH	1024

enum node {
	NODE_TOP,
	NODE_BGP,
	NODE_AF_IPV4,
	NODE_AF_IPV6,
	NODE_AF_EVPN,
	NODE_EVPN_VNI,
	NODE_VXLAN,
	NODE_VRF,
	NODE_IPAM_POOL,
	NODE_IPAM_SHADOW,
	NODE_IPAM_DATASTORE,
	NODE_TELEMETRY,
	NODE_COUNT
};

enum check_kind {
	CHECK_VXLAN_HAS_VNI,
	CHECK_VRF_VNI_HAS_VXLAN,
	CHECK_BGP_VRF_DECLARED,
	CHECK_EVPN_VNI_NOT_L3,
	CHECK_VXLAN_SVI_VRF,		/* obj: vxlan */
	CHECK_IPAM_POOL_HAS_PREFIX,	/* obj: pool */
	CHECK_IPAM_INSIDE,		/* obj: pool, obj2: struct ipaddr */
	CHECK_IPAM_OVERLAP,		/* obj: pool, obj2: conf_prefix */
	CHECK_IPAM_SHADOW,		/* obj: pool */
	CHECK_IPAM_DNS,			/* obj: pool */
	CHECK_IPAM_FABRIC,		/* obj: pool */
	CHECK_IPAM_DATASTORE,		/* obj: the datastore */
	CHECK_NB_SEND_HOLD,		/* obj: neighbor */
	CHECK_TELEMETRY,		/* obj: the telemetry block */
};

/* A statement whose validity depends on the rest of the file. */
struct pending_check {
	enum check_kind	 kind;
	unsigned	 line;
	const void	*obj;
	const void	*obj2;
	char		 text[64];	/* the statement, for messages */
};

struct parser {
	const char	*name;
	char		*err;
	size_t		 errlen;
	unsigned	 lineno;
	char		 line[CONF_MAX_LINE + 1];	/* trimmed, for messages */
	char		 words_buf[CONF_MAX_LINE + 1];
	char		*word[CONF_MAX_WORDS];
	size_t		 word_off[CONF_MAX_WORDS];	/* offset in line */
	int		 nwords;
	int		 argi;		/* first word after the keywords */

	struct config	*conf;
	enum node	 node;
	struct conf_bgp	*bgp;
	struct conf_evpn_vni *vni;
	struct conf_vxlan *vxlan;
	struct conf_vrf	*vrf;
	struct conf_ipam_pool *pool;

	struct pending_check *checks;
	size_t		 nchecks;
	size_t		 capchecks;
};

struct command {
	const char	*keywords;
	int		(*run)(struct parser *);
};

struct node_def {
	const char	*where;		/* "a 'vxlan' block", for messages */
	enum node	 parent;
	const struct command *cmds;
	size_t		 ncmds;
};

/* The node table, indexed by enum node (conf_cmd.c). */
extern const struct node_def cp_nodes[NODE_COUNT];

/* Errors: write "NAME:LINE: message" and return -1. */
int	 cp_err(struct parser *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Arguments: the words after the command's keywords. */
int	 cp_nargs(const struct parser *);
const char *cp_arg(const struct parser *, int);
int	 cp_want_args(struct parser *, int min, int max);
int	 cp_arg_uint(struct parser *, int, const char *what, uint64_t min,
	    uint64_t max, uint64_t *);
int	 cp_arg_asn(struct parser *, int, uint32_t *);
int	 cp_arg_vni(struct parser *, int, uint32_t *);
int	 cp_arg_ipv4(struct parser *, int, struct ipaddr *);
int	 cp_arg_ip(struct parser *, int, struct ipaddr *);
int	 cp_arg_ifname(struct parser *, int, char **);
int	 cp_arg_unicast_mac(struct parser *, int, struct macaddr *);
/* Record a statement to check once the whole file is read. */
void	 cp_check_add(struct parser *, enum check_kind, const void *);
void	 cp_check_add2(struct parser *, enum check_kind, const void *,
	    const void *);
/* Whole-file checks of the ipam blocks (conf_ipam.c). */
int	 cp_ipam_check(struct parser *, const struct pending_check *);
/* Sized here so the node table can count them; a missing or extra
 * entry is a compile error (too many) or fails every test (too few). */
#define CP_IPAM_POOL_NCMDS	17
#define CP_IPAM_SHADOW_NCMDS	14
#define CP_IPAM_DATASTORE_NCMDS	4
extern const struct command cp_ipam_pool_cmds[CP_IPAM_POOL_NCMDS];
extern const struct command cp_ipam_shadow_cmds[CP_IPAM_SHADOW_NCMDS];
extern const struct command cp_ipam_datastore_cmds[CP_IPAM_DATASTORE_NCMDS];
int	 cp_cmd_ipam_pool(struct parser *);
/* The DNS statements of an ipam pool (conf_dns.c). */
int	 cp_cmd_pool_dns_zone(struct parser *);
int	 cp_cmd_pool_dns_template(struct parser *);
int	 cp_dns_check(struct parser *, const struct conf_ipam_pool *);
void	 conf_print_ipam_dns(FILE *, const struct conf_ipam_dns *,
	    bool redact);
/* The API statements (conf_api.c). */
int	 cp_cmd_api_listen(struct parser *);
int	 cp_cmd_api_client(struct parser *);
void	 conf_api_listen_clear(struct conf_api_listen *);
void	 conf_api_clients_clear(struct conf_api_client_list *);
void	 conf_print_api(FILE *, const struct config *);
/* Fabric pools and the datastore (conf_fabric.c). */
int	 cp_cmd_ipam_datastore(struct parser *);
int	 cp_cmd_pool_scope(struct parser *);
int	 cp_cmd_pool_block_size(struct parser *);
int	 cp_cmd_pool_borrow(struct parser *);
int	 cp_cmd_pool_no_borrow(struct parser *);
int	 cp_cmd_pool_block_idle_release(struct parser *);
void	 cp_pool_fabric_defaults(struct conf_ipam_pool *);
int	 cp_fabric_check(struct parser *, const struct pending_check *);
/* The telemetry block (conf_telemetry.c). */
#define CP_TELEMETRY_NCMDS	6
extern const struct command cp_telemetry_cmds[CP_TELEMETRY_NCMDS];
int	 cp_cmd_telemetry(struct parser *);
int	 cp_telemetry_check(struct parser *, const struct conf_telemetry *);
void	 conf_print_telemetry(FILE *, const struct conf_telemetry *);
/* Move to a node, forgetting the objects of the blocks left. */
void	 cp_enter_node(struct parser *, enum node);
/* "exit" and "exit-BLOCK": back to the parent node. */
int	 cp_cmd_exit(struct parser *);

#endif
