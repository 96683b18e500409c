/*
 * shadowsim: replay a demand trace against a pre-allocation policy and
 * print hit rate, waste, waits and cost (the shadow inventory issue,
 * §6).  The shadow policy runs the daemon's own ipam/shadow engine on a
 * virtual clock; see tools/sim.h for the exact semantics.
 *
 *   shadowsim --trace FILE
 *       --policy shadow|ondemand|static:K|watermark:B:L|oracle
 *       [--miss-delay-ms D] [--service-rate R] [--config FILE] [--seed N]
 *       [--json] [--no-traffic]
 *       [--series FILE [--series-vni VNI]] [--requests FILE]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/sim.h"

struct cli {
	const char	*trace;
	const char	*config;
	const char	*series;
	const char	*requests;
	bool		 json;
	struct sim_options opts;
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: shadowsim --trace FILE --policy POLICY [options]\n"
	    "  POLICY: shadow | ondemand | static:K | watermark:BATCH:LOW |"
	    " oracle\n"
	    "  --miss-delay-ms D   base route convergence time (default %d)\n"
	    "  --service-rate R    fabric routes/s: N new routes converge"
	    " in D + N/R\n"
	    "                      (default 0: no queue)\n"
	    "  --config FILE       pools and shadow settings from an evpnd"
	    " config\n"
	    "  --seed N            seed of the engine's jitter (default 1)\n"
	    "  --json              one JSON object instead of a table\n"
	    "  --no-traffic        ignore the trace's traffic and neigh_miss"
	    " events\n"
	    "  --series FILE       per-tick CSV of one pool (t_s, actual,"
	    " forecast, target, held)\n"
	    "  --series-vni VNI    the pool of --series (default: the"
	    " first)\n"
	    "  --requests FILE     per-request CSV (t_ms, vni, resource,"
	    " wait_ms,\n"
	    "                      held_ms: how long the pre-allocation it"
	    " took was held,\n"
	    "                      -1 for none)\n", SIM_DEFAULT_MISS_DELAY_MS);
}

static int
parse_number(const char *s, uint64_t max, uint64_t *out)
{
	char			*end;
	unsigned long long	 v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Routes per second: a plain decimal, 0 (no queue) to 1e9. */
static int
parse_rate(const char *s, double *out)
{
	char	*end;
	double	 v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(v >= 0 && v <= 1e9))
		return -1;
	*out = v;
	return 0;
}

static int
parse_args(int argc, char **argv, struct cli *c)
{
	static const struct option longopts[] = {
		{ "trace", required_argument, NULL, 't' },
		{ "policy", required_argument, NULL, 'p' },
		{ "miss-delay-ms", required_argument, NULL, 'd' },
		{ "service-rate", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "no-traffic", no_argument, NULL, 'T' },
		{ "series", required_argument, NULL, 'S' },
		{ "series-vni", required_argument, NULL, 'V' },
		{ "requests", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool	 have_policy = false;
	uint64_t v;
	int	 ch;

	while ((ch = getopt_long(argc, argv, "t:p:d:r:c:s:jTS:V:R:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 't':
			c->trace = optarg;
			break;
		case 'p':
			if (sim_policy_parse(optarg, &c->opts.policy) == -1) {
				fprintf(stderr, "shadowsim: bad policy "
				    "\"%s\"\n", optarg);
				return -1;
			}
			have_policy = true;
			break;
		case 'd':
			if (parse_number(optarg, 3600000, &v) == -1)
				goto bad;
			c->opts.miss_delay_ms = (uint32_t)v;
			break;
		case 'r':
			if (parse_rate(optarg, &c->opts.service_rate) == -1)
				goto bad;
			break;
		case 'c':
			c->config = optarg;
			break;
		case 's':
			if (parse_number(optarg, UINT64_MAX, &v) == -1)
				goto bad;
			c->opts.seed = v;
			break;
		case 'j':
			c->json = true;
			break;
		case 'T':
			c->opts.no_traffic = true;
			break;
		case 'S':
			c->series = optarg;
			break;
		case 'V':
			if (parse_number(optarg, 0xffffff, &v) == -1)
				goto bad;
			c->opts.series_vni = (uint32_t)v;
			break;
		case 'R':
			c->requests = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || c->trace == NULL || !have_policy) {
		usage(stderr);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "shadowsim: bad value \"%s\"\n", optarg);
	return -1;
}

static int
emit(const struct cli *c, const struct sim_result *res)
{
	char	*json;

	if (!c->json) {
		sim_result_print_text(stdout, res);
		return 0;
	}
	if ((json = sim_result_json(res)) == NULL) {
		fprintf(stderr, "shadowsim: cannot encode JSON\n");
		return -1;
	}
	fputs(json, stdout);
	free(json);
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli		 c;
	struct sim_trace	 trace;
	struct sim_result	 res;
	struct sim_pool_conf	*pools = NULL;
	char			 err[512];
	int			 rc = EXIT_FAILURE;

	memset(&c, 0, sizeof(c));
	c.opts.miss_delay_ms = SIM_DEFAULT_MISS_DELAY_MS;
	c.opts.seed = 1;
	if (parse_args(argc, argv, &c) == -1)
		return EXIT_FAILURE;
	if (c.config != NULL) {
		if (sim_pools_from_config(c.config, &pools, &c.opts.npools,
		    err, sizeof(err)) == -1) {
			fprintf(stderr, "shadowsim: %s\n", err);
			return EXIT_FAILURE;
		}
		c.opts.pools = pools;
	}
	if (sim_trace_read_file(&trace, c.trace, err, sizeof(err)) == -1) {
		fprintf(stderr, "shadowsim: %s\n", err);
		free(pools);
		return EXIT_FAILURE;
	}
	if (c.series != NULL && (c.opts.series = fopen(c.series, "w")) ==
	    NULL) {
		fprintf(stderr, "shadowsim: %s: %s\n", c.series,
		    strerror(errno));
		goto out;
	}
	if (c.requests != NULL && (c.opts.requests = fopen(c.requests,
	    "w")) == NULL) {
		fprintf(stderr, "shadowsim: %s: %s\n", c.requests,
		    strerror(errno));
		goto out;
	}
	if (sim_run(&trace, &c.opts, &res, err, sizeof(err)) == -1) {
		fprintf(stderr, "shadowsim: %s\n", err);
		goto out;
	}
	if (emit(&c, &res) == 0)
		rc = EXIT_SUCCESS;
	sim_result_free(&res);
out:
	if (c.opts.series != NULL && fclose(c.opts.series) != 0) {
		fprintf(stderr, "shadowsim: %s: write error\n", c.series);
		rc = EXIT_FAILURE;
	}
	if (c.opts.requests != NULL && fclose(c.opts.requests) != 0) {
		fprintf(stderr, "shadowsim: %s: write error\n", c.requests);
		rc = EXIT_FAILURE;
	}
	sim_trace_free(&trace);
	free(pools);
	return rc;
}
