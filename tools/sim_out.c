/*
 * shadowsim's figures and output: waits kept per request (the p99 needs
 * them all), the JSON object of §6 and a short text table.
 *
 * The JSON is built with jansson with keys in a fixed order and pools in
 * configuration order, so the same run prints the same bytes.  The p99
 * is the nearest-rank percentile: the smallest wait that at least 99 %
 * of the requests did not exceed.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tools/sim.h"

#define SIM_JSON_FLAGS	(JSON_INDENT(2) | JSON_PRESERVE_ORDER | \
			 JSON_REAL_PRECISION(12))

void
sim_stats_add_wait(struct sim_stats *s, uint32_t wait_ms)
{
	if (s->nwaits == s->capwaits) {
		s->capwaits = s->capwaits == 0 ? 1024 : s->capwaits * 2;
		s->waits = xrealloc(s->waits, s->capwaits * sizeof(*s->waits));
	}
	s->waits[s->nwaits++] = wait_ms;
	s->wait_ms += wait_ms;
}

void
sim_stats_free(struct sim_stats *s)
{
	free(s->waits);
	s->waits = NULL;
	s->nwaits = s->capwaits = 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double
p99_of(const uint32_t *waits, size_t n)
{
	uint32_t	*sorted;
	double		 v;

	if (n == 0)
		return 0;
	sorted = xcalloc(n, sizeof(*sorted));
	memcpy(sorted, waits, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u32);
	v = sorted[(99 * n + 99) / 100 - 1];	/* rank ceil(0.99 n) */
	free(sorted);
	return v;
}

void
sim_stats_figures(const struct sim_stats *s, double wastage, double delay,
    struct sim_figures *f)
{
	memset(f, 0, sizeof(*f));
	f->requests = s->requests;
	f->hits = s->hits;
	f->hit_rate = s->requests > 0 ? (double)s->hits / s->requests : 0;
	f->waste_address_seconds = (double)s->waste_addr_ms / 1000.0;
	f->wait_seconds = (double)s->wait_ms / 1000.0;
	f->mean_wait_ms = s->requests > 0 ?
	    (double)s->wait_ms / s->requests : 0;
	f->p99_wait_ms = p99_of(s->waits, s->nwaits);
	f->cost = wastage * f->waste_address_seconds +
	    delay * f->wait_seconds;
}

void
sim_result_totals(const struct sim_result *res, struct sim_figures *f)
{
	struct sim_stats all;

	memset(&all, 0, sizeof(all));
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < res->npools; i++) {
		const struct sim_pool_result	*pr = &res->pools[i];
		const struct sim_stats		*s = &pr->stats;
		struct sim_figures		 pf;

		sim_stats_figures(s, pr->wastage_weight, pr->delay_weight,
		    &pf);
		f->cost += pf.cost;
		all.requests += s->requests;
		all.hits += s->hits;
		all.waste_addr_ms += s->waste_addr_ms;
		for (size_t j = 0; j < s->nwaits; j++)
			sim_stats_add_wait(&all, s->waits[j]);
	}
	{
		double cost = f->cost;

		sim_stats_figures(&all, 0, 0, f);
		f->cost = cost;
	}
	sim_stats_free(&all);
}

static void
figures_json(json_t *o, const struct sim_figures *f)
{
	json_object_set_new(o, "requests", json_integer((json_int_t)
	    f->requests));
	json_object_set_new(o, "hits", json_integer((json_int_t)f->hits));
	json_object_set_new(o, "hit_rate", json_real(f->hit_rate));
	json_object_set_new(o, "waste_address_seconds",
	    json_real(f->waste_address_seconds));
	json_object_set_new(o, "wait_seconds", json_real(f->wait_seconds));
	json_object_set_new(o, "mean_wait_ms", json_real(f->mean_wait_ms));
	json_object_set_new(o, "p99_wait_ms", json_real(f->p99_wait_ms));
	json_object_set_new(o, "cost", json_real(f->cost));
}

static json_t *
anomalies_json(const struct sim_result *res, uint32_t vni)
{
	json_t *a = json_array();

	for (size_t i = 0; i < res->nanomalies; i++) {
		const struct sim_anomaly *an = &res->anomalies[i];
		json_t *o;

		if (vni != 0 && an->vni != vni)
			continue;
		o = json_object();
		json_object_set_new(o, "time_s",
		    json_real((double)an->t_ms / 1000.0));
		json_object_set_new(o, "vni", json_integer(an->vni));
		json_object_set_new(o, "score", json_real(an->score));
		json_object_set_new(o, "kind", json_string(an->kind));
		json_object_set_new(o, "message", json_string(an->message));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
pool_json(const struct sim_result *res, const struct sim_pool_result *pr)
{
	json_t			*o = json_object();
	struct sim_figures	 f;

	sim_stats_figures(&pr->stats, pr->wastage_weight, pr->delay_weight,
	    &f);
	json_object_set_new(o, "name", json_string(pr->name));
	figures_json(o, &f);
	json_object_set_new(o, "preallocations", json_integer((json_int_t)
	    pr->stats.prealloc_made));
	json_object_set_new(o, "preallocations_released", json_integer(
	    (json_int_t)pr->stats.prealloc_released));
	json_object_set_new(o, "skipped_events", json_integer((json_int_t)
	    pr->stats.skipped));
	json_object_set_new(o, "weights", json_pack("{s:f, s:f}",
	    "wastage", pr->wastage_weight, "delay", pr->delay_weight));
	json_object_set_new(o, "anomalies", anomalies_json(res, pr->vni));
	return o;
}

char *
sim_result_json(const struct sim_result *res)
{
	json_t			*o = json_object(), *pools = json_object();
	struct sim_figures	 f;
	char			*s, *out;
	size_t			 len;

	sim_result_totals(res, &f);
	json_object_set_new(o, "policy", json_string(res->policy));
	figures_json(o, &f);
	json_object_set_new(o, "anomalies", anomalies_json(res, 0));
	json_object_set_new(o, "miss_delay_ms", json_integer(
	    res->miss_delay_ms));
	json_object_set_new(o, "service_rate", json_real(res->service_rate));
	json_object_set_new(o, "duration_s", json_real((double)res->end_ms /
	    1000.0));
	json_object_set_new(o, "skipped_events", json_integer((json_int_t)
	    res->skipped));
	for (size_t i = 0; i < res->npools; i++) {
		char key[16];

		snprintf(key, sizeof(key), "%" PRIu32, res->pools[i].vni);
		json_object_set_new(pools, key, pool_json(res,
		    &res->pools[i]));
	}
	json_object_set_new(o, "pools", pools);
	s = json_dumps(o, SIM_JSON_FLAGS);
	json_decref(o);
	if (s == NULL)
		return NULL;
	len = strlen(s);
	out = xmalloc(len + 2);
	memcpy(out, s, len);
	out[len] = '\n';
	out[len + 1] = '\0';
	free(s);
	return out;
}

static void
text_row(FILE *out, const char *name, const char *vni,
    const struct sim_figures *f)
{
	fprintf(out, "%-16s %8s %9" PRIu64 " %9" PRIu64 " %7.2f%% %14.1f "
	    "%10.1f %9.1f %8.0f %14.1f\n", name, vni, f->requests, f->hits,
	    100.0 * f->hit_rate, f->waste_address_seconds, f->wait_seconds,
	    f->mean_wait_ms, f->p99_wait_ms, f->cost);
}

void
sim_result_print_text(FILE *out, const struct sim_result *res)
{
	struct sim_figures f;

	fprintf(out, "policy %s, miss delay %" PRIu32 " ms", res->policy,
	    res->miss_delay_ms);
	if (res->service_rate > 0)
		fprintf(out, " + N/%g routes/s", res->service_rate);
	fprintf(out, ", %.0f s simulated\n", (double)res->end_ms / 1000.0);
	fprintf(out, "%-16s %8s %9s %9s %8s %14s %10s %9s %8s %14s\n",
	    "pool", "vni", "requests", "hits", "hit", "waste(addr*s)",
	    "wait(s)", "mean(ms)", "p99(ms)", "cost");
	for (size_t i = 0; i < res->npools; i++) {
		const struct sim_pool_result *pr = &res->pools[i];
		char vni[16];

		sim_stats_figures(&pr->stats, pr->wastage_weight,
		    pr->delay_weight, &f);
		snprintf(vni, sizeof(vni), "%" PRIu32, pr->vni);
		text_row(out, pr->name, vni, &f);
	}
	sim_result_totals(res, &f);
	text_row(out, "total", "", &f);
	fprintf(out, "anomalies: %zu\n", res->nanomalies);
	for (size_t i = 0; i < res->nanomalies && i < 10; i++)
		fprintf(out, "  t=%.3f s vni %" PRIu32 " %s: %s\n",
		    (double)res->anomalies[i].t_ms / 1000.0,
		    res->anomalies[i].vni, res->anomalies[i].kind,
		    res->anomalies[i].message);
	if (res->skipped > 0)
		fprintf(out, "skipped events (no pool): %" PRIu64 "\n",
		    res->skipped);
}
