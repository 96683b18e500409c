/*
 * etcd_probe: drives the datastore/ etcd client for the integration
 * test (tests/integration/test_etcd.sh).  It reads one command per line
 * on stdin, runs it on the event loop and prints one reply line:
 * "ok ..." or "err MESSAGE", both ending in " ms=N" (how long the
 * command took).  Watches write what they see to a file instead, so
 * their lines never mix with replies.
 *
 * usage: etcd_probe -e URL [-e URL ...] [-t REQUEST_MS] [-a ATTEMPT_MS]
 *            [-c CERT -k KEY] [-C CA]
 *
 * commands:
 *   put KEY VALUE [LEASE]      create KEY VALUE [LEASE]
 *   get KEY                    prefix PREFIX
 *   del KEY                    delprefix PREFIX
 *   cas KEY MODREV VALUE       delif KEY MODREV
 *   race KEY N                 N clients create KEY at once, each
 *                              starting at another endpoint
 *   grant TTL   keepalive ID   revoke ID
 *   watch PREFIX REV FILE      unwatch
 *   endpoint   stats   sleep MS   quit
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"
#include "datastore/etcd.h"

#define PROBE_WORDS	8
#define PROBE_RACERS	16

struct probe {
	struct event_base	*base;
	struct ds_etcd_config	 cfg;
	struct ds_etcd		*ds;
	struct event		*stdin_ev;
	struct event		*sleep_ev;
	char			 line[4096];
	size_t			 linelen;
	bool			 busy;
	bool			 eof;
	uint64_t		 started;
	struct ds_watch		*watches[8];
	FILE			*watch_out[8];
	size_t			 nwatches;
	/* race */
	struct ds_etcd		*racers[PROBE_RACERS];
	unsigned		 race_n;
	unsigned		 race_done;
	unsigned		 race_won;
	unsigned		 race_err;
	bool			 race_agree;
	char			 race_winner[256];
	char			 race_seen[256];
};

static void	probe_next(struct probe *);

static void
reply(struct probe *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
reply(struct probe *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" ms=%" PRIu64 "\n", mono_msec() - p->started);
	fflush(stdout);
	p->busy = false;
	probe_next(p);
}

static void
reply_error(struct probe *p, const struct ds_result *r)
{
	reply(p, "err %s", r->error);
}

/* ---- callbacks of single requests -------------------------------- */

static void
done_rev(const struct ds_result *r, void *arg)
{
	struct probe *p = arg;

	if (!r->ok)
		reply_error(p, r);
	else
		reply(p, "ok rev=%" PRId64 " endpoint=%s", r->revision,
		    r->endpoint);
}

static void
done_kvs(const struct ds_result *r, void *arg)
{
	struct probe *p = arg;
	char out[3500];
	size_t i, off = 0;

	if (!r->ok) {
		reply_error(p, r);
		return;
	}
	out[0] = '\0';
	for (i = 0; i < r->nkvs && off < sizeof(out) - 1; i++)
		off += (size_t)snprintf(out + off, sizeof(out) - off,
		    " %s=%s mod=%" PRId64 " lease=%" PRId64, r->kvs[i].key,
		    r->kvs[i].value, r->kvs[i].mod_revision, r->kvs[i].lease);
	reply(p, "ok n=%zu%s", r->nkvs, out);
}

static void
done_deleted(const struct ds_result *r, void *arg)
{
	struct probe *p = arg;

	if (!r->ok)
		reply_error(p, r);
	else
		reply(p, "ok deleted=%" PRId64, r->deleted);
}

static void
done_txn(const struct ds_result *r, void *arg)
{
	struct probe *p = arg;

	if (!r->ok)
		reply_error(p, r);
	else if (r->succeeded)
		reply(p, "ok won rev=%" PRId64, r->revision);
	else if (r->nkvs > 0)
		reply(p, "ok lost value=%s mod=%" PRId64, r->kvs[0].value,
		    r->kvs[0].mod_revision);
	else
		reply(p, "ok lost absent");
}

static void
done_lease(const struct ds_result *r, void *arg)
{
	struct probe *p = arg;

	if (!r->ok)
		reply_error(p, r);
	else
		reply(p, "ok id=%" PRId64 " ttl=%" PRId64, r->lease_id,
		    r->lease_ttl);
}

/* ---- race --------------------------------------------------------- */

static void
race_done(const struct ds_result *r, void *arg)
{
	struct probe *p = arg;

	if (!r->ok)
		p->race_err++;
	else if (r->succeeded)
		p->race_won++;
	else if (r->nkvs == 1) {
		/* every loser must see the same winner */
		if (p->race_seen[0] == '\0')
			strlcpy_s(p->race_seen, r->kvs[0].value,
			    sizeof(p->race_seen));
		else if (strcmp(p->race_seen, r->kvs[0].value) != 0)
			p->race_agree = false;
	} else
		p->race_agree = false;
	if (++p->race_done < p->race_n)
		return;
	for (unsigned i = 0; i < p->race_n; i++) {
		ds_etcd_free(p->racers[i]);
		p->racers[i] = NULL;
	}
	reply(p, "ok winners=%u errors=%u agree=%s losers_saw=%s",
	    p->race_won, p->race_err, p->race_agree ? "yes" : "no",
	    p->race_seen[0] ? p->race_seen : "-");
}

static int
race_start(struct probe *p, const char *key, unsigned n)
{
	struct ds_etcd_config cfg;
	char err[256], value[32];
	size_t i, e;

	if (n < 2 || n > PROBE_RACERS)
		return -1;
	p->race_n = n;
	p->race_done = p->race_won = p->race_err = 0;
	p->race_agree = true;
	p->race_seen[0] = '\0';
	for (i = 0; i < n; i++) {
		/* racer i starts at endpoint i */
		cfg = p->cfg;
		for (e = 0; e < p->cfg.nendpoints; e++)
			cfg.endpoints[e] = p->cfg.endpoints[(e + i) %
			    p->cfg.nendpoints];
		p->racers[i] = ds_etcd_create(p->base, &cfg, err, sizeof(err));
		if (p->racers[i] == NULL)
			fatalx("race: %s", err);
	}
	for (i = 0; i < n; i++) {
		snprintf(value, sizeof(value), "racer-%zu", i);
		if (ds_etcd_create_if_absent(p->racers[i], key, value,
		    strlen(value), 0, race_done, p) == -1)
			fatalx("race: %s", strerror(errno));
	}
	return 0;
}

/* ---- watches ------------------------------------------------------ */

static void
watch_cb(const struct ds_watch_update *u, void *arg)
{
	FILE *f = arg;
	size_t i;

	switch (u->status) {
	case DS_WATCH_EVENTS:
		for (i = 0; i < u->nevents; i++)
			fprintf(f, "%s %s %s %" PRId64 "\n",
			    u->events[i].type == DS_EVENT_PUT ? "PUT" :
			    "DELETE", u->events[i].kv.key,
			    u->events[i].type == DS_EVENT_PUT ?
			    u->events[i].kv.value : "-",
			    u->events[i].kv.mod_revision);
		break;
	case DS_WATCH_CONNECTED:
		fprintf(f, "CONNECTED %" PRId64 " %s\n", u->revision,
		    u->endpoint);
		break;
	case DS_WATCH_LOST:
		fprintf(f, "LOST %s\n", u->error);
		break;
	case DS_WATCH_COMPACTED:
		fprintf(f, "COMPACTED %s\n", u->error);
		break;
	}
	fflush(f);
}

static void
watch_start(struct probe *p, const char *prefix, const char *rev,
    const char *file)
{
	FILE *f;

	if (p->nwatches == nitems(p->watches) ||
	    (f = fopen(file, "a")) == NULL) {
		reply(p, "err cannot watch into %s", file);
		return;
	}
	p->watches[p->nwatches] = ds_etcd_watch(p->ds, prefix,
	    strtoll(rev, NULL, 10), watch_cb, f);
	if (p->watches[p->nwatches] == NULL) {
		fclose(f);
		reply(p, "err %s", strerror(errno));
		return;
	}
	p->watch_out[p->nwatches++] = f;
	reply(p, "ok watching");
}

static void
watch_stop_all(struct probe *p)
{
	size_t i;

	for (i = 0; i < p->nwatches; i++) {
		ds_watch_cancel(p->watches[i]);
		fclose(p->watch_out[i]);
	}
	p->nwatches = 0;
}

/* ---- commands ----------------------------------------------------- */

static void
sleep_cb(evutil_socket_t fd, short what, void *arg)
{
	reply(arg, "ok");
}

static void
stats(struct probe *p)
{
	struct ds_etcd_stats st;

	ds_etcd_get_stats(p->ds, &st);
	reply(p, "ok requests=%" PRIu64 " errors=%" PRIu64 " failovers=%"
	    PRIu64 " attempts_failed=%" PRIu64 " watch_reconnects=%" PRIu64
	    " revision=%" PRId64 " current=%s last_error=%s", st.requests,
	    st.errors, st.failovers, st.attempts_failed, st.watch_reconnects,
	    st.revision, ds_etcd_endpoint(p->ds, st.current),
	    st.last_error[0] ? "yes" : "none");
}

static int64_t
num(const char *s)
{
	return s != NULL ? strtoll(s, NULL, 10) : 0;
}

#define NEED(n)	do { if (argc < (n)) goto usage; } while (0)

/* Start one command; its reply comes from a callback (or at once). */
static void
run(struct probe *p, int argc, char **argv)
{
	const char *c = argv[0];
	int rc = 0;

	if (strcmp(c, "put") == 0) {
		NEED(3);
		rc = ds_etcd_put(p->ds, argv[1], argv[2], strlen(argv[2]),
		    num(argv[3]), done_rev, p);
	} else if (strcmp(c, "create") == 0) {
		NEED(3);
		rc = ds_etcd_create_if_absent(p->ds, argv[1], argv[2],
		    strlen(argv[2]), num(argv[3]), done_txn, p);
	} else if (strcmp(c, "get") == 0) {
		NEED(2);
		rc = ds_etcd_get(p->ds, argv[1], done_kvs, p);
	} else if (strcmp(c, "prefix") == 0) {
		rc = ds_etcd_get_prefix(p->ds, argc > 1 ? argv[1] : "",
		    done_kvs, p);
	} else if (strcmp(c, "del") == 0) {
		NEED(2);
		rc = ds_etcd_delete(p->ds, argv[1], done_deleted, p);
	} else if (strcmp(c, "delprefix") == 0) {
		NEED(2);
		rc = ds_etcd_delete_prefix(p->ds, argv[1], done_deleted, p);
	} else if (strcmp(c, "cas") == 0) {
		NEED(4);
		rc = ds_etcd_cas(p->ds, argv[1], num(argv[2]), argv[3],
		    strlen(argv[3]), 0, done_txn, p);
	} else if (strcmp(c, "delif") == 0) {
		NEED(3);
		rc = ds_etcd_delete_if(p->ds, argv[1], num(argv[2]), done_txn,
		    p);
	} else if (strcmp(c, "race") == 0) {
		NEED(3);
		rc = race_start(p, argv[1], (unsigned)num(argv[2]));
	} else if (strcmp(c, "grant") == 0) {
		NEED(2);
		rc = ds_etcd_lease_grant(p->ds, num(argv[1]), done_lease, p);
	} else if (strcmp(c, "keepalive") == 0) {
		NEED(2);
		rc = ds_etcd_lease_keepalive(p->ds, num(argv[1]), done_lease,
		    p);
	} else if (strcmp(c, "revoke") == 0) {
		NEED(2);
		rc = ds_etcd_lease_revoke(p->ds, num(argv[1]), done_rev, p);
	} else if (strcmp(c, "watch") == 0) {
		NEED(4);
		watch_start(p, argv[1], argv[2], argv[3]);
	} else if (strcmp(c, "unwatch") == 0) {
		watch_stop_all(p);
		reply(p, "ok");
	} else if (strcmp(c, "endpoint") == 0) {
		struct ds_etcd_stats st;

		ds_etcd_get_stats(p->ds, &st);
		reply(p, "ok %s", ds_etcd_endpoint(p->ds, st.current));
	} else if (strcmp(c, "stats") == 0) {
		stats(p);
	} else if (strcmp(c, "sleep") == 0) {
		NEED(2);
		struct timeval tv = { num(argv[1]) / 1000,
		    (num(argv[1]) % 1000) * 1000 };
		evtimer_add(p->sleep_ev, &tv);
	} else if (strcmp(c, "quit") == 0) {
		p->eof = true;
		p->busy = false;
		event_base_loopbreak(p->base);
	} else
		goto usage;
	if (rc == -1)
		reply(p, "err refused: %s", strerror(errno));
	return;
usage:
	reply(p, "err usage: %s", c);
}

/* Take the next complete line, if any, and run it. */
static void
probe_next(struct probe *p)
{
	char *nl, *argv[PROBE_WORDS + 1], *w, *save = NULL, cmd[4096];
	int argc = 0;
	size_t n;

	if (p->busy || (nl = memchr(p->line, '\n', p->linelen)) == NULL) {
		if (!p->busy && p->eof)
			event_base_loopbreak(p->base);
		return;
	}
	n = (size_t)(nl - p->line);
	memcpy(cmd, p->line, n);
	cmd[n] = '\0';
	memmove(p->line, nl + 1, p->linelen - n - 1);
	p->linelen -= n + 1;
	memset(argv, 0, sizeof(argv));
	for (w = strtok_r(cmd, " \t", &save); w != NULL && argc < PROBE_WORDS;
	    w = strtok_r(NULL, " \t", &save))
		argv[argc++] = w;
	if (argc == 0) {
		probe_next(p);
		return;
	}
	p->busy = true;
	p->started = mono_msec();
	run(p, argc, argv);
}

static void
stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	ssize_t n;

	n = read(fd, p->line + p->linelen, sizeof(p->line) - 1 - p->linelen);
	if (n <= 0) {
		p->eof = true;
		event_del(p->stdin_ev);
		if (p->linelen > 0 && p->line[p->linelen - 1] != '\n')
			p->line[p->linelen++] = '\n';
	} else
		p->linelen += (size_t)n;
	probe_next(p);
}

static void
usage(void)
{
	fprintf(stderr, "usage: etcd_probe -e URL [-e URL ...] "
	    "[-t REQUEST_MS] [-a ATTEMPT_MS] [-c CERT -k KEY] [-C CA]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct probe p;
	char err[256];
	int ch;

	memset(&p, 0, sizeof(p));
	while ((ch = getopt(argc, argv, "e:t:a:c:k:C:")) != -1) {
		switch (ch) {
		case 'e':
			if (p.cfg.nendpoints == DS_ENDPOINTS_MAX)
				usage();
			p.cfg.endpoints[p.cfg.nendpoints++] = optarg;
			break;
		case 't':
			p.cfg.request_timeout_ms = (unsigned)atoi(optarg);
			break;
		case 'a':
			p.cfg.attempt_timeout_ms = (unsigned)atoi(optarg);
			break;
		case 'c':
			p.cfg.tls_cert = optarg;
			break;
		case 'k':
			p.cfg.tls_key = optarg;
			break;
		case 'C':
			p.cfg.tls_ca = optarg;
			break;
		default:
			usage();
		}
	}
	p.base = event_base_new();
	p.ds = ds_etcd_create(p.base, &p.cfg, err, sizeof(err));
	if (p.ds == NULL) {
		fprintf(stderr, "etcd_probe: %s\n", err);
		return 1;
	}
	p.stdin_ev = event_new(p.base, STDIN_FILENO, EV_READ | EV_PERSIST,
	    stdin_cb, &p);
	p.sleep_ev = evtimer_new(p.base, sleep_cb, &p);
	event_add(p.stdin_ev, NULL);
	event_base_dispatch(p.base);
	watch_stop_all(&p);
	ds_etcd_free(p.ds);
	event_free(p.stdin_ev);
	event_free(p.sleep_ev);
	event_base_free(p.base);
	return 0;
}
