/*
 * The "telemetry" block: where evpnd takes traffic from (a flow
 * collector, packet samplers on bridges) and over what window it turns
 * it into a rate.  See conf.h for the statements.
 *
 * How this works: one handler per statement, like conf_fabric.c.  The
 * block is one per file; inside it there is at most one flow-collector
 * and at most one sampler per bridge.  A block with neither is refused
 * once the file is read (a later line may still add one).  The printer
 * writes only what differs from the defaults.
 */
#include "conf/conf_parse.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void
conf_telemetry_clear(struct conf_telemetry *t)
{
	struct conf_telemetry_sampler *s;

	while ((s = TAILQ_FIRST(&t->samplers)) != NULL) {
		TAILQ_REMOVE(&t->samplers, s, entry);
		free(s->bridge);
		free(s);
	}
	memset(t, 0, sizeof(*t));
	TAILQ_INIT(&t->samplers);
	t->rate_window = CONF_TELEMETRY_DEFAULT_WINDOW;
}

const struct conf_telemetry_sampler *
conf_telemetry_sampler_find(const struct conf_telemetry *t,
    const char *bridge)
{
	const struct conf_telemetry_sampler *s;

	TAILQ_FOREACH(s, &t->samplers, entry)
		if (strcmp(s->bridge, bridge) == 0)
			return s;
	return NULL;
}

int
cp_cmd_telemetry(struct parser *p)
{
	struct conf_telemetry *t = &p->conf->telemetry;

	if (cp_want_args(p, 0, 0) == -1)
		return -1;
	if (t->enabled)
		return cp_err(p, "duplicate '%s': there is one telemetry block",
		    p->line);
	t->enabled = true;
	cp_check_add(p, CHECK_TELEMETRY, t);
	p->node = NODE_TELEMETRY;
	return 0;
}

/* flow-collector port PORT [address ADDR] [sampling N], options once
 * each, in any order. */
static int
cmd_flow_collector(struct parser *p)
{
	struct conf_telemetry *t = &p->conf->telemetry;
	struct ipaddr addr;
	uint64_t port = 0, sampling = 1, v;
	bool has_port = false, has_addr = false, has_sampling = false;
	const char *key;

	memset(&addr, 0, sizeof(addr));
	if (t->has_collector)
		return cp_err(p, "duplicate '%s': there is one flow-collector",
		    p->line);
	if (cp_nargs(p) == 0 || cp_nargs(p) % 2 != 0)
		return cp_err(p, "'%s': expected 'flow-collector port PORT "
		    "[address ADDR] [sampling N]'", p->line);
	for (int i = 0; i < cp_nargs(p); i += 2) {
		key = cp_arg(p, i);
		if (strcmp(key, "port") == 0 && !has_port) {
			if (cp_arg_uint(p, i + 1, "port", 1, UINT16_MAX,
			    &port) == -1)
				return -1;
			has_port = true;
		} else if (strcmp(key, "address") == 0 && !has_addr) {
			if (cp_arg_ip(p, i + 1, &addr) == -1)
				return -1;
			has_addr = true;
		} else if (strcmp(key, "sampling") == 0 && !has_sampling) {
			if (cp_arg_uint(p, i + 1, "sampling", 1,
			    CONF_TELEMETRY_MAX_RATE, &v) == -1)
				return -1;
			sampling = v;
			has_sampling = true;
		} else
			return cp_err(p, "'%s': expected 'flow-collector port "
			    "PORT [address ADDR] [sampling N]', each once",
			    p->line);
	}
	if (!has_port)
		return cp_err(p, "'%s': the flow-collector needs a port",
		    p->line);
	t->has_collector = true;
	t->collector_addr = addr;
	t->collector_port = (uint16_t)port;
	t->collector_sampling = (uint32_t)sampling;
	return 0;
}

/* flow-exporter PREFIX: a source the collector takes datagrams from;
 * the same prefix twice is one. */
static int
cmd_flow_exporter(struct parser *p)
{
	struct conf_telemetry *t = &p->conf->telemetry;
	struct prefix pfx;

	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	if (prefix_parse(cp_arg(p, 0), &pfx, false) == -1)
		return cp_err(p, "invalid prefix '%s' in '%s' (an address "
		    "with its length, host bits zero)", cp_arg(p, 0), p->line);
	for (uint8_t i = 0; i < t->nexporters; i++)
		if (prefix_cmp(&t->exporters[i], &pfx) == 0)
			return 0;
	if (t->nexporters == CONF_TELEMETRY_MAX_EXPORTERS)
		return cp_err(p, "more than %d flow-exporter prefixes at '%s'",
		    CONF_TELEMETRY_MAX_EXPORTERS, p->line);
	t->exporters[t->nexporters++] = pfx;
	return 0;
}

/* sample bridge NAME rate N */
static int
cmd_sample(struct parser *p)
{
	struct conf_telemetry *t = &p->conf->telemetry;
	struct conf_telemetry_sampler *s;
	char *bridge = NULL;
	uint64_t rate;
	size_t n = 0;

	if (cp_want_args(p, 4, 4) == -1)
		return -1;
	if (strcmp(cp_arg(p, 0), "bridge") != 0 ||
	    strcmp(cp_arg(p, 2), "rate") != 0)
		return cp_err(p, "'%s': expected 'sample bridge NAME rate N'",
		    p->line);
	if (cp_arg_uint(p, 3, "rate", 0, CONF_TELEMETRY_MAX_RATE,
	    &rate) == -1 || cp_arg_ifname(p, 1, &bridge) == -1)
		return -1;
	if (conf_telemetry_sampler_find(t, bridge) != NULL) {
		free(bridge);
		return cp_err(p, "duplicate sampler for bridge %s in '%s'",
		    cp_arg(p, 1), p->line);
	}
	TAILQ_FOREACH(s, &t->samplers, entry)
		n++;
	if (n == CONF_TELEMETRY_MAX_SAMPLERS) {
		free(bridge);
		return cp_err(p, "more than %d samplers at '%s'",
		    CONF_TELEMETRY_MAX_SAMPLERS, p->line);
	}
	s = xcalloc(1, sizeof(*s));
	s->bridge = bridge;
	s->rate = (uint32_t)rate;
	TAILQ_INSERT_TAIL(&t->samplers, s, entry);
	return 0;
}

static int
cmd_rate_window(struct parser *p)
{
	uint64_t v;

	if (cp_want_args(p, 1, 1) == -1 || cp_arg_uint(p, 0, "rate-window", 1,
	    CONF_TELEMETRY_MAX_WINDOW, &v) == -1)
		return -1;
	p->conf->telemetry.rate_window = (uint32_t)v;
	return 0;
}

const struct command cp_telemetry_cmds[CP_TELEMETRY_NCMDS] = {
	{ "flow-collector", cmd_flow_collector },
	{ "flow-exporter", cmd_flow_exporter },
	{ "sample", cmd_sample },
	{ "rate-window", cmd_rate_window },
	{ "exit-telemetry", cp_cmd_exit },
	{ "exit", cp_cmd_exit },
};

int
cp_telemetry_check(struct parser *p, const struct conf_telemetry *t)
{
	if (!t->has_collector && TAILQ_EMPTY(&t->samplers))
		return cp_err(p, "telemetry: neither a 'flow-collector' nor a "
		    "'sample bridge' statement");
	if (t->nexporters > 0 && !t->has_collector)
		return cp_err(p, "telemetry: 'flow-exporter' without a "
		    "'flow-collector'");
	return 0;
}

void
conf_print_telemetry(FILE *f, const struct conf_telemetry *t)
{
	const struct conf_telemetry_sampler *s;
	char a[PREFIX_STRLEN];

	if (!t->enabled)
		return;
	fprintf(f, "telemetry\n");
	if (t->has_collector) {
		fprintf(f, " flow-collector port %u", t->collector_port);
		if (ipaddr_is_set(&t->collector_addr))
			fprintf(f, " address %s", ipaddr_fmt(&t->collector_addr,
			    a, sizeof(a)));
		if (t->collector_sampling != 1)
			fprintf(f, " sampling %u", t->collector_sampling);
		fprintf(f, "\n");
	}
	for (uint8_t i = 0; i < t->nexporters; i++)
		fprintf(f, " flow-exporter %s\n", prefix_fmt(&t->exporters[i],
		    a, sizeof(a)));
	TAILQ_FOREACH(s, &t->samplers, entry)
		fprintf(f, " sample bridge %s rate %u\n", s->bridge, s->rate);
	if (t->rate_window != CONF_TELEMETRY_DEFAULT_WINDOW)
		fprintf(f, " rate-window %u\n", t->rate_window);
	fprintf(f, "!\n");
}
