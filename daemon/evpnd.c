/*
 * evpnd: the process.  Parses the config, sets up logging, the state
 * directory and the control API, starts the BGP instance on one libevent
 * base and runs the loop in the foreground (systemd style, no fork).
 *
 * How this works: everything the process owns hangs off one struct
 * evpnd (daemon/evpnd.h), passed explicitly.  Signals arrive as libevent
 * events, so handlers run in the loop like any other callback:
 *   SIGHUP   re-parse the same file; a bad file is logged and the running
 *            config stays; a good one is checked by every part first
 *            (ipam, the API listener, evpn, telemetry's new sockets),
 *            then goes to bgp_reconfigure(), evpn, ipam and telemetry,
 *            and replaces the stored config.
 *   SIGTERM  (or SIGINT) bgp_shutdown() sends Cease to every peer, then a
 *            short timer lets those NOTIFICATIONs flush before the loop
 *            ends; everything is freed and the socket file removed.
 * Under a service manager (systemd Type=notify, common/notify.h) evpnd
 * says READY=1 once the API socket listens and the config is applied,
 * RELOADING=1 and READY=1 around a SIGHUP reload, STOPPING=1 on SIGTERM.
 * Several instances coexist on one machine (one per network namespace)
 * when each has its own -S socket and -D state directory.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "api/api.h"
#include "bgpd/bgp_rib.h"
#include "bgpd/bgpd.h"
#include "common/latency.h"
#include "common/log.h"
#include "common/notify.h"
#include "common/util.h"
#include "conf/conf.h"
#include "daemon/evpnd.h"
#include "daemon/harden.h"
#include "dataplane/dataplane.h"
#include "evpn/evpn.h"
#include "evpn/evpn_dp.h"
#include "ipam/fabric.h"
#include "ipamd/fabric_conv.h"
#include "ipamd/fabric_etcd.h"
#include "ipamd/ipamd.h"
#include "ipamd/shadowd.h"
#include "ipamd/trafficd.h"

/* EVPND_DEFAULT_CONFIG, _SOCKET and _STATEDIR come from configure
 * (--sysconfdir, --runstatedir, --localstatedir), see Makefile.am. */
#if !defined(EVPND_DEFAULT_CONFIG) || !defined(EVPND_DEFAULT_SOCKET) || \
    !defined(EVPND_DEFAULT_STATEDIR)
#error "build through the Makefile: it defines the default paths"
#endif
#define EVPND_SHUTDOWN_FLUSH_MS	200
/* Fabric IPAM pools hand out nothing until every configured session is
 * up and sent End-of-RIB, or this long after start. */
#define EVPND_FABRIC_READY_SEC	30
#define EVPND_FABRIC_POLL_MS	200

struct evpnd_proc {
	struct evpnd	 d;
	struct api	*api;
	struct event	*ev_hup;
	struct event	*ev_term;
	struct event	*ev_int;
	struct event	*ev_flush;
	struct event	*ev_fabric_ready;
	uint64_t	 started_ms;
	struct fabric_etcd *fabric_ds;	/* the fabric pools' datastore */
	struct fabric_conv *fabric_conv;	/* convergence through it */
	bool		 stopping;
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: evpnd [-nhV] [-f config] [-S socket] [-D statedir]\n"
	    "  -f config    configuration file (default %s)\n"
	    "  -S socket    control API socket (default %s)\n"
	    "  -D statedir  state directory (default %s)\n"
	    "  -n           check the configuration, print it and exit\n"
	    "  -h           this help\n"
	    "  -V           print the version and exit\n",
	    EVPND_DEFAULT_CONFIG, EVPND_DEFAULT_SOCKET,
	    EVPND_DEFAULT_STATEDIR);
	exit(status);
}

/* evpnd -n: parse, print the canonical text, exit. */
static int
check_config(const char *path)
{
	char err[512];
	struct config *conf;

	if ((conf = conf_parse_file(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	conf_print(stdout, conf);
	conf_free(conf);
	return fflush(stdout) == 0 ? 0 : 1;
}

static void
apply_logging(const struct config *conf)
{
	log_init("evpnd", conf->log_dest, conf->log_file, conf->log_level);
}

/*
 * The shadow inventory's lead time as this VTEP measures it: evpn's
 * receive-side convergence of the other VTEPs' routes (shadowd.h).  A
 * fabric pool's datastore estimate goes to
 * shadowd_set_fabric_convergence() and overrides it.
 */
static void
local_convergence(void *arg, struct shadowd_convergence *c)
{
	struct lat_summary s;

	evpn_conv_summary(arg, &s);
	c->count = s.count;
	c->p50_ms = s.p50_ms;
	c->p90_ms = s.p90_ms;
	c->p99_ms = s.p99_ms;
}

/* mkdir -p for the state directory; the last component gets 0750. */
static int
make_state_dir(const char *dir)
{
	char *path = xstrdup(dir), *p;
	struct stat st;
	int rc = 0;

	for (p = path + 1; rc == 0 && *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	free(path);
	if (rc == 0 && mkdir(dir, 0750) == -1 && errno != EEXIST)
		rc = -1;
	if (rc == 0 && stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		rc = -1;
	}
	return rc;
}

/* The TCP/TLS listener is bound once at start; its files reload. */
static int
api_listen_check(const struct config *running, const struct config *next,
    char *err, size_t errlen)
{
	return api_reload_check(running, next, err, errlen);
}

/*
 * Telemetry's part of a reload: the sockets the next config needs are
 * opened first (a collector that cannot bind refuses the reload): a
 * plan for the running telemetry, or a new one when the block is new.
 * Either is swapped in once every other part has accepted the config.
 * Telemetry maps onto IPAM pools: without IPAM it does not run.
 */
struct traffic_reload {
	struct trafficd_plan	*plan;
	struct trafficd		*fresh;
};

static int
traffic_prepare(struct evpnd *d, const struct config *next,
    struct traffic_reload *tr, char *err, size_t errlen)
{
	memset(tr, 0, sizeof(*tr));
	if (d->ipamd == NULL || !next->telemetry.enabled)
		return 0;
	if (d->traffic == NULL)
		tr->fresh = trafficd_create(d->base, d->ipamd, next, err,
		    errlen);
	else
		tr->plan = trafficd_prepare(d->traffic, next, err, errlen);
	return tr->fresh == NULL && tr->plan == NULL ? -1 : 0;
}

static void
traffic_abort(struct traffic_reload *tr)
{
	trafficd_abort(tr->plan);
	trafficd_free(tr->fresh);
}

static void
traffic_commit(struct evpnd *d, struct traffic_reload *tr,
    const struct config *next)
{
	if (tr->plan != NULL)
		trafficd_commit(d->traffic, tr->plan, next);
	else if (tr->fresh != NULL)
		d->traffic = tr->fresh;
	else if (!next->telemetry.enabled) {
		trafficd_free(d->traffic);
		d->traffic = NULL;
	}
}

static void
reload_config(struct evpnd *d)
{
	char err[512];
	struct config *conf;
	struct traffic_reload tr;

	log_notice("reloading configuration from %s", d->conf_path);
	if ((conf = conf_parse_file(d->conf_path, err, sizeof(err))) == NULL) {
		log_err("reload failed: %s; keeping running configuration",
		    err);
		d->reloads_failed++;
		return;
	}
	if (ipamd_reload_check(d->ipamd, d->conf, conf, err, sizeof(err)) ==
	    -1 || api_listen_check(d->conf, conf, err, sizeof(err)) == -1 ||
	    evpn_config_check(conf, err, sizeof(err)) == -1 ||
	    traffic_prepare(d, conf, &tr, err, sizeof(err)) == -1) {
		log_err("reload failed: %s: %s; keeping running configuration",
		    d->conf_path, err);
		conf_free(conf);
		d->reloads_failed++;
		return;
	}
	if (bgp_reconfigure(d->bgp, conf, err, sizeof(err)) == -1) {
		log_err("reload failed: %s: %s; keeping running configuration",
		    d->conf_path, err);
		traffic_abort(&tr);
		conf_free(conf);
		d->reloads_failed++;
		return;
	}
	if (evpn_reconfigure(d->evpn, conf, err, sizeof(err)) == -1)
		fatalx("evpn reconfigure failed after its check: %s", err);
	if (d->ipamd != NULL)
		ipamd_reload_apply(d->ipamd, d->conf, conf);
	traffic_commit(d, &tr, conf);
	conf_free(d->conf);
	d->conf = conf;
	apply_logging(conf);
	d->reloads_ok++;
	log_notice("configuration reloaded");
}

/* Tell the service manager, if one asked (NOTIFY_SOCKET). */
static void
notify_manager(const char *state)
{
	if (service_notify(state) == -1)
		log_warn("cannot notify the service manager (%s): %s", state,
		    strerror(errno));
}

/* sd_notify(3): RELOADING=1 carries CLOCK_MONOTONIC in microseconds. */
static void
reload_and_notify(struct evpnd *d)
{
	struct timespec ts;
	char msg[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
	notify_manager(msg);
	reload_config(d);
	notify_manager("READY=1");
}

static void
flush_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct evpnd_proc *p = arg;

	event_base_loopbreak(p->d.base);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct evpnd_proc *p = arg;
	struct timeval flush = { 0, EVPND_SHUTDOWN_FLUSH_MS * 1000 };

	if (sig == SIGHUP) {
		if (!p->stopping)
			reload_and_notify(&p->d);
		return;
	}
	if (p->stopping) {		/* second signal: do not wait */
		event_base_loopbreak(p->d.base);
		return;
	}
	log_notice("received %s, shutting down", strsignal((int)sig));
	p->stopping = true;
	notify_manager("STOPPING=1");
	/* Before the sessions go: their withdrawals must not empty the
	 * kernel (the next evpnd adopts the entries). */
	if (p->d.evpn != NULL)
		evpn_set_dataplane(p->d.evpn, NULL);
	bgp_shutdown(p->d.bgp);
	p->ev_flush = evtimer_new(p->d.base, flush_done_cb, p);
	if (p->ev_flush == NULL)
		event_base_loopbreak(p->d.base);
	else
		evtimer_add(p->ev_flush, &flush);
}

/* Fabric pools */

/* Every configured session is up and sent its initial EVPN table
 * (End-of-RIB, RFC 4724 §2). */
static bool
bgp_tables_in(struct evpnd *d)
{
	return bgp_family_converged(d->bgp, evpn_bgp_aid());
}

static void
fabric_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	struct evpnd_proc *p = arg;
	bool timeout = mono_msec() - p->started_ms >=
	    EVPND_FABRIC_READY_SEC * 1000ULL;

	if (p->stopping || (!timeout && !bgp_tables_in(&p->d)))
		return;
	if (timeout)
		log_notice("ipam: fabric pools in use after %ds without every "
		    "session's End-of-RIB", EVPND_FABRIC_READY_SEC);
	else
		log_info("ipam: BGP tables in; fabric pools in use");
	ipamd_fabric_ready(p->d.ipamd);
	event_del(p->ev_fabric_ready);
}

static bool
has_fabric_pool(const struct config *conf)
{
	const struct conf_ipam_pool *cp;

	TAILQ_FOREACH(cp, &conf->ipam_pools, entry)
		if (cp->scope == CONF_IPAM_SCOPE_FABRIC)
			return true;
	return false;
}

/* This VTEP in the datastore: the router-id and the first tunnel
 * address (pools name their own VNI's, see fabricd.c). */
static void
fabric_owner(const struct evpnd *d, struct ipam_fabric_owner *me)
{
	const struct conf_vxlan *vx;
	struct ipaddr rid;
	uint32_t id = bgp_router_id(d->bgp);

	memset(me, 0, sizeof(me[0]));
	memset(&rid, 0, sizeof(rid));
	rid.af = AF_INET;
	for (int i = 0; i < 4; i++)
		rid.u.b[i] = (uint8_t)(id >> (24 - 8 * i));
	ipaddr_fmt(&rid, me->router_id, sizeof(me->router_id));
	me->vtep = rid;
	TAILQ_FOREACH(vx, &d->conf->vxlans, entry)
		if (ipaddr_is_set(&vx->local_ip)) {
			me->vtep = vx->local_ip;
			break;
		}
}

static int
fabric_start(struct evpnd_proc *p, char *err, size_t errlen)
{
	struct timeval poll = { 0, EVPND_FABRIC_POLL_MS * 1000 };
	struct ipam_fabric_owner me;

	/* A refused IPAM (its data cannot be trusted) has no pools to
	 * share. */
	if (p->d.ipamd == NULL || !p->d.conf->ipam_datastore.enabled ||
	    !has_fabric_pool(p->d.conf))
		return 0;
	if ((p->fabric_ds = fabric_etcd_create(p->d.base,
	    &p->d.conf->ipam_datastore, conf_datastore_prefix(p->d.conf), err,
	    errlen)) == NULL)
		return -1;
	fabric_owner(&p->d, &me);
	ipamd_fabric_attach(p->d.ipamd, p->d.base, p->d.conf, &fabric_etcd_ops,
	    p->fabric_ds, &me);
	if (p->d.ipamd != NULL)
		p->fabric_conv = fabric_conv_create(p->d.base,
		    fabric_etcd_client(p->fabric_ds),
		    conf_datastore_prefix(p->d.conf), &me,
		    ipamd_shadowd(p->d.ipamd), local_convergence, p->d.evpn);
	p->started_ms = mono_msec();
	if ((p->ev_fabric_ready = event_new(p->d.base, -1, EV_PERSIST,
	    fabric_ready_cb, p)) != NULL)
		event_add(p->ev_fabric_ready, &poll);
	return 0;
}

static int
add_signal_events(struct evpnd_proc *p)
{
	p->ev_hup = evsignal_new(p->d.base, SIGHUP, signal_cb, p);
	p->ev_term = evsignal_new(p->d.base, SIGTERM, signal_cb, p);
	p->ev_int = evsignal_new(p->d.base, SIGINT, signal_cb, p);
	if (p->ev_hup == NULL || p->ev_term == NULL || p->ev_int == NULL)
		return -1;
	if (evsignal_add(p->ev_hup, NULL) == -1 ||
	    evsignal_add(p->ev_term, NULL) == -1 ||
	    evsignal_add(p->ev_int, NULL) == -1)
		return -1;
	return 0;
}

/* Turn the stopped loop for a moment so queued replies are written. */
static void
pump_replies(struct event_base *base)
{
	uint64_t until = mono_msec() + EVPND_SHUTDOWN_FLUSH_MS;

	while (mono_msec() < until) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(2000);
	}
}

/* Tear down in reverse order of start; safe on a partial start. */
static void
evpnd_cleanup(struct evpnd_proc *p)
{
	struct event **evs[] = { &p->ev_hup, &p->ev_term, &p->ev_int,
	    &p->ev_flush, &p->ev_fabric_ready };

	/* Let queued IPAM commits finish and their replies go out while
	 * the HTTP server still holds the requests: the loop has stopped,
	 * so turn it a little longer for the answers to be written. */
	ipamd_drain(p->d.ipamd);
	if (p->d.base != NULL && p->api != NULL)
		pump_replies(p->d.base);
	api_free(p->api);
	p->api = NULL;
	trafficd_free(p->d.traffic);
	p->d.traffic = NULL;
	/* Detach the data plane first: the withdrawals of peers going down
	 * must not empty the kernel, or a restart would black-hole traffic
	 * (the entries stay and the next evpnd adopts them). */
	if (p->d.evpn != NULL)
		evpn_set_dataplane(p->d.evpn, NULL);
	dataplane_free(p->d.dp);
	p->d.dp = NULL;
	/* bgp_free() tells the RIB its peers went down: free it first. */
	if (p->d.bgp != NULL)
		bgp_free(p->d.bgp);
	p->d.bgp = NULL;
	evpn_free(p->d.evpn);
	p->d.evpn = NULL;
	bgp_rib_free(p->d.rib);
	p->d.rib = NULL;
	/* The datastore's answers still under way run now, while the fabric
	 * manager (stopped by ipamd_drain) can still ignore them. */
	fabric_conv_free(p->fabric_conv);
	p->fabric_conv = NULL;
	fabric_etcd_free(p->fabric_ds);
	p->fabric_ds = NULL;
	/* After evpn: withdrawals while peers go down look up the pools. */
	ipamd_free(p->d.ipamd);
	p->d.ipamd = NULL;
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		if (*evs[i] != NULL)
			event_free(*evs[i]);
		*evs[i] = NULL;
	}
	if (p->d.base != NULL)
		event_base_free(p->d.base);
	p->d.base = NULL;
	if (p->d.conf != NULL)
		conf_free(p->d.conf);
	p->d.conf = NULL;
	libevent_global_shutdown();
}

static int
evpnd_start(struct evpnd_proc *p)
{
	char err[512];

	if (make_state_dir(p->d.state_dir) == -1) {
		log_err("state directory %s: %s", p->d.state_dir,
		    strerror(errno));
		return -1;
	}
	if ((p->d.base = event_base_new()) == NULL) {
		log_err("cannot create the event base");
		return -1;
	}
	if ((p->api = api_create(&p->d, p->d.sock_path, err,
	    sizeof(err))) == NULL) {
		log_err("control socket: %s", err);
		return -1;
	}
	if (evpn_config_check(p->d.conf, err, sizeof(err)) == -1) {
		log_err("%s: %s", p->d.conf_path, err);
		return -1;
	}
	if ((p->d.bgp = bgp_create(p->d.base, p->d.conf, err,
	    sizeof(err))) == NULL) {
		log_err("bgp: %s", err);
		return -1;
	}
	p->d.rib = bgp_rib_create(p->d.bgp);
	if ((p->d.evpn = evpn_create(p->d.bgp, p->d.rib, p->d.conf, err,
	    sizeof(err))) == NULL) {
		log_err("evpn: %s", err);
		return -1;
	}
	if ((p->d.dp = dataplane_create(p->d.base, p->d.evpn, err,
	    sizeof(err))) == NULL) {
		log_err("dataplane: %s", err);
		return -1;
	}
	/* Kernel entries of the last run stay until every peer has sent
	 * End-of-RIB (or rib-stale-time): see evpn_set_dataplane(). */
	evpn_set_dataplane(p->d.evpn, dataplane_ops(p->d.dp));
	if ((p->d.ipamd = ipamd_create(p->d.base, p->d.evpn, p->d.conf,
	    p->d.state_dir, err, sizeof(err))) == NULL) {
		int refused = errno == EBADMSG;

		log_err("ipam: %s", err);
		if (!refused)
			return -1;
		/* Its data cannot be trusted: refuse the IPAM, not the
		 * fabric; the API says why (GET /v1/ipam/audit). */
		log_err("ipam: refused; evpnd runs without IPAM");
	}
	if (p->d.ipamd != NULL)
		shadowd_set_local_convergence(ipamd_shadowd(p->d.ipamd),
		    local_convergence, p->d.evpn);
	if (p->d.conf->telemetry.enabled && p->d.ipamd == NULL)
		log_err("telemetry: no IPAM, no pools to map traffic onto");
	else if (p->d.conf->telemetry.enabled &&
	    (p->d.traffic = trafficd_create(p->d.base, p->d.ipamd, p->d.conf,
	    err, sizeof(err))) == NULL) {
		log_err("telemetry: %s", err);
		return -1;
	}
	if (fabric_start(p, err, sizeof(err)) == -1) {
		log_err("ipam datastore: %s", err);
		return -1;
	}
	if (p->d.conf->api_listen.enabled && api_listen_tls(p->api,
	    &p->d.conf->api_listen, err, sizeof(err)) == -1) {
		log_err("%s", err);
		return -1;
	}
	if (add_signal_events(p) == -1) {
		log_err("cannot set up signal handling");
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct evpnd_proc p = { .d = {
		.conf_path = EVPND_DEFAULT_CONFIG,
		.sock_path = EVPND_DEFAULT_SOCKET,
		.state_dir = EVPND_DEFAULT_STATEDIR,
	} };
	char err[512];
	bool check_only = false;
	int ch, rc;

	while ((ch = getopt(argc, argv, "f:S:D:nhV")) != -1) {
		switch (ch) {
		case 'f': p.d.conf_path = optarg; break;
		case 'S': p.d.sock_path = optarg; break;
		case 'D': p.d.state_dir = optarg; break;
		case 'n': check_only = true; break;
		case 'h': usage(0);
		case 'V': printf("evpnd %s\n", PACKAGE_VERSION); return 0;
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (check_only)
		return check_config(p.d.conf_path);

	if ((p.d.conf = conf_parse_file(p.d.conf_path, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	apply_logging(p.d.conf);
	/* A client that hangs up must cost us an EPIPE, not the process. */
	signal(SIGPIPE, SIG_IGN);
	log_notice("evpnd %s starting, config %s", PACKAGE_VERSION,
	    p.d.conf_path);
	/* Before anything is opened, and before the first thread. */
	if (harden_process(err, sizeof(err)) == -1) {
		log_err("%s", err);
		return 1;
	}

	rc = evpnd_start(&p) == 0 ? 0 : 1;
	if (rc == 0) {
		/* The socket listens and the config is applied. */
		notify_manager("READY=1");
		event_base_dispatch(p.d.base);
		log_notice("evpnd stopped");
	}
	evpnd_cleanup(&p);
	log_close();
	return rc;
}
