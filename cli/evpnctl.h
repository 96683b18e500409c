/*
 * evpnctl internals shared by its command files: the client state, the
 * command table row, the API calls (over apiclient.h) and JSON helpers.
 */
#ifndef CLI_EVPNCTL_H
#define CLI_EVPNCTL_H

#include <stdbool.h>

#include <jansson.h>

#define CTL_MAX_WORDS		64
#define CTL_MAX_LABELS		16

struct ctl {
	const char	*sock;
	bool		 json;
	const char	*family;	/* --family, NULL if not given */
	const char	*mac;		/* --mac */
	const char	*ip;		/* --ip */
	const char	*labels[CTL_MAX_LABELS];	/* --label K=V */
	int		 nlabels;
};

struct ctl_cmd;
typedef int	 ctl_run(struct ctl *, const struct ctl_cmd *, char **args,
		    int nargs);

struct ctl_cmd {
	const char	*syntax;	/* keywords, [OPTIONAL], <ARG> and
					 * <ARGS...> (the words left) */
	const char	*help;
	ctl_run		*run;
};

/* GET path; the parsed JSON of a 200 answer, else NULL after printing
 * the error to stderr. */
json_t		*api_get(const struct ctl *, const char *path);
/* Any method, optional JSON body; the JSON of a 2xx answer ({} for a
 * 204), else NULL after printing the error; *status gets the code. */
json_t		*api_call(const struct ctl *, const char *method,
		    const char *path, const char *body, int *status);
int		 print_json(const json_t *);
/* Print an answer o (reference stolen): as it came with --json, else
 * with print.  The exit code: 0, or 1 when there was none (o NULL). */
typedef void	 ctl_print(const json_t *);
int		 api_print(const struct ctl *, json_t *o, ctl_print *);
/* A show command: api_print of GET path. */
int		 api_show(const struct ctl *, const char *path, ctl_print *);
long long	 jint(const json_t *, const char *key);
const char	*jstr(const json_t *, const char *key, const char *dflt);
bool		 jbool(const json_t *, const char *key);

/* ctl_evpn.c */
ctl_run		 run_evpn_routes, run_evpn_vni, run_evpn_mac, run_dataplane,
		 run_evpn_convergence;

/* ctl_ipam.c */
ctl_run		 run_ipam_pools, run_ipam_allocations, run_ipam_conflicts,
		 run_ipam_allocate, run_ipam_release, run_ipam_audit_verify,
		 run_ipam_shadow, run_ipam_alerts, run_ipam_intent;

/* One pool's JSON in full (ctl_ipam.c). */
void		 ctl_print_pool_detail(const json_t *);

/* ctl_pools.c */
ctl_run		 run_ipam_pool_add, run_ipam_pool_set, run_ipam_pool_del,
		 run_ipam_pool_show, run_ipam_reserve, run_ipam_unreserve;

/* ctl_fabric.c */
ctl_run		 run_ipam_blocks, run_ipam_datastore, run_ipam_reclaim;

#endif
