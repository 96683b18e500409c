/*
 * The process state of evpnd: what daemon/evpnd.c creates and wires
 * together, and what the API handlers (api/) read.
 *
 * Dependencies: daemon/ is the only folder that wires implementations
 * into interfaces: it plugs dataplane/ (and through it netlink/) into
 * evpn/'s data-plane operations, ipamd/ into evpn/ and ipam/, and
 * serves api/.  Nothing includes daemon/ except api/ (for this struct)
 * and the tests.
 */
#ifndef DAEMON_EVPND_H
#define DAEMON_EVPND_H

#include <stdint.h>

struct event_base;
struct bgp;
struct bgp_rib;
struct config;
struct evpn;
struct dataplane;
struct ipamd;
struct trafficd;

/* Process state shared by the main loop and the API handlers. */
struct evpnd {
	struct event_base	*base;
	struct bgp		*bgp;
	struct bgp_rib		*rib;
	struct evpn		*evpn;
	struct dataplane	*dp;		/* the kernel; may be NULL */
	struct ipamd		*ipamd;		/* may be NULL */
	struct trafficd		*traffic;	/* telemetry; may be NULL */
	struct config		*conf;		/* the running config */
	const char		*conf_path;
	const char		*sock_path;
	const char		*state_dir;
	uint64_t		 reloads_ok;
	uint64_t		 reloads_failed;
};

#endif
