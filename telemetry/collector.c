/*
 * The sockets of telemetry: a UDP collector for flow export and a
 * packet socket sampling a bridge, both on the event loop, both
 * non-blocking (one datagram or frame per read, a bounded number per
 * wakeup so a flood cannot starve the loop).  The collector drops a
 * datagram whose source is in none of its allowed prefixes before the
 * decoder sees it (no template from a stranger is learned), and counts
 * it.
 */
#include "telemetry/telemetry.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"

#define TELEMETRY_READS_PER_WAKEUP	64
#define FLOW_DATAGRAM_MAX		65535
#define PKT_SNAPLEN			128	/* headers are enough */

struct flow_collector {
	struct flow_decoder	*fd;
	struct prefix		*allow;		/* NULL: any source */
	size_t			 nallow;
	uint64_t		 refused;
	struct event		*ev;
	int			 sock;
	uint16_t		 port;
	flow_record_cb		*cb;
	void			*arg;
	uint8_t			 buf[FLOW_DATAGRAM_MAX];
};

struct pkt_sampler {
	struct event		*ev;
	int			 sock;
	char			 ifname[IF_NAMESIZE];
	pkt_sample_cb		*cb;
	void			*arg;
	uint64_t		 count;
};

/* ---- flow collector ---------------------------------------------------- */

static bool
exporter_allowed(const struct flow_collector *c, const struct ipaddr *a)
{
	if (c->allow == NULL)
		return true;
	for (size_t i = 0; i < c->nallow; i++)
		if (prefix_contains(&c->allow[i], a))
			return true;
	return false;
}

static void
flow_collector_read(evutil_socket_t sock, short what, void *arg)
{
	struct flow_collector	*c = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	struct ipaddr		 exporter;
	ssize_t			 n;
	char			 err[128];

	for (int i = 0; i < TELEMETRY_READS_PER_WAKEUP; i++) {
		sl = sizeof(ss);
		n = recvfrom(sock, c->buf, sizeof(c->buf), 0,
		    (struct sockaddr *)&ss, &sl);
		if (n < 0)
			return;		/* EAGAIN: drained */
		if (ipaddr_from_sockaddr(&ss, &exporter, NULL) == -1 ||
		    !exporter_allowed(c, &exporter)) {
			c->refused++;
			continue;
		}
		if (flow_decode(c->fd, &exporter, c->buf, (size_t)n, c->cb,
		    c->arg, err, sizeof(err)) == -1)
			log_debug("telemetry: flow export: %s", err);
	}
}

static int
udp_bind(const struct ipaddr *addr, uint16_t port, uint16_t *bound,
    char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	struct ipaddr		 local;
	socklen_t		 sl;
	int			 sock, one = 1;

	sl = (socklen_t)ipaddr_to_sockaddr(addr, port, &ss);
	sock = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	/* A reload opens the new socket before it closes the old one, so
	 * moving between an address and the wildcard on one port must
	 * share it; SO_REUSEPORT only with sockets of our own user. */
	if (sock == -1 || setsockopt(sock, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof(one)) == -1 ||
	    bind(sock, (struct sockaddr *)&ss, sl) == -1 ||
	    getsockname(sock, (struct sockaddr *)&ss, &sl) == -1 ||
	    ipaddr_from_sockaddr(&ss, &local, bound) == -1) {
		snprintf(err, errlen, "flow collector on port %u: %s", port,
		    strerror(errno));
		if (sock != -1)
			close(sock);
		return -1;
	}
	return sock;
}

struct flow_collector *
flow_collector_new(struct event_base *base, const struct ipaddr *addr,
    uint16_t port, flow_record_cb *cb, void *arg, char *err, size_t errlen)
{
	struct flow_collector	*c = xcalloc(1, sizeof(*c));

	c->cb = cb;
	c->arg = arg;
	if ((c->sock = udp_bind(addr, port, &c->port, err, errlen)) == -1) {
		free(c);
		return NULL;
	}
	c->fd = flow_decoder_new();
	c->ev = event_new(base, c->sock, EV_READ | EV_PERSIST,
	    flow_collector_read, c);
	if (c->ev == NULL || event_add(c->ev, NULL) == -1) {
		snprintf(err, errlen, "flow collector: cannot add its event");
		flow_collector_free(c);
		return NULL;
	}
	return c;
}

void
flow_collector_free(struct flow_collector *c)
{
	if (c == NULL)
		return;
	if (c->ev != NULL)
		event_free(c->ev);
	close(c->sock);
	flow_decoder_free(c->fd);
	free(c->allow);
	free(c);
}

void
flow_collector_allow(struct flow_collector *c, const struct prefix *allow,
    size_t n)
{
	free(c->allow);
	c->allow = NULL;
	c->nallow = n;
	if (n == 0)
		return;
	c->allow = xcalloc(n, sizeof(*c->allow));
	memcpy(c->allow, allow, n * sizeof(*c->allow));
}

void
flow_collector_stats(const struct flow_collector *c, struct flow_stats *st)
{
	flow_decoder_stats(c->fd, st);
	st->refused = c->refused;
}

uint16_t
flow_collector_port(const struct flow_collector *c)
{
	return c->port;
}

/* ---- packet sampler ---------------------------------------------------- */

/*
 * Classic BPF: accept ARP and IPv6 neighbour solicitations (no
 * extension headers) always, anything else when a kernel random number
 * mod rate is 0 (SKF_AD_RANDOM), so only the sample crosses to us.
 */
static void
sampler_filter(struct sock_filter *f, uint32_t rate, size_t *n)
{
	const uint32_t	 eth = 14, nexthdr = eth + 6, icmp6 = eth + 40;
	size_t		 i = 0;

	f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12);
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    ETH_P_ARP, 8, 0);				/* -> accept */
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    ETH_P_IPV6, 0, 4);				/* -> random */
	f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS,
	    nexthdr);
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58,
	    0, 2);					/* -> random */
	f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, icmp6);
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 135,
	    3, 0);					/* -> accept */
	/* random: */
	f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    (uint32_t)(SKF_AD_OFF + SKF_AD_RANDOM));
	f[i++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MOD | BPF_K,
	    rate == 0 ? 1 : rate);
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0,
	    rate == 0 ? 1 : 0, 1);			/* 0: accept */
	/* accept: */
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, PKT_SNAPLEN);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	*n = i;
}

static void
pkt_sampler_read(evutil_socket_t sock, short what, void *arg)
{
	struct pkt_sampler	*s = arg;
	struct pkt_sample	 sample;
	uint8_t			 frame[PKT_SNAPLEN];
	ssize_t			 n;

	for (int i = 0; i < TELEMETRY_READS_PER_WAKEUP; i++) {
		if ((n = recv(sock, frame, sizeof(frame), 0)) < 0)
			return;
		s->count++;
		if (pkt_decode(frame, (size_t)n, &sample) == 0)
			s->cb(s->arg, s->ifname, &sample);
	}
}

static int
sampler_socket(const char *ifname, uint32_t rate, char *err, size_t errlen)
{
	struct sock_filter	 f[16];
	struct sock_fprog	 prog = { 0, f };
	struct sockaddr_ll	 sll = { 0 };
	size_t			 n;
	int			 sock;

	sampler_filter(f, rate, &n);
	prog.len = (unsigned short)n;
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	if ((sll.sll_ifindex = (int)if_nametoindex(ifname)) == 0) {
		snprintf(err, errlen, "sampler: no interface %s", ifname);
		return -1;
	}
	/* The filter goes on before bind, so no unfiltered frame queues. */
	sock = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sock == -1 || setsockopt(sock, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog)) == -1 ||
	    bind(sock, (struct sockaddr *)&sll, sizeof(sll)) == -1) {
		snprintf(err, errlen, "sampler on %s: %s", ifname,
		    strerror(errno));
		if (sock != -1)
			close(sock);
		return -1;
	}
	return sock;
}

struct pkt_sampler *
pkt_sampler_new(struct event_base *base, const char *ifname, uint32_t rate,
    pkt_sample_cb *cb, void *arg, char *err, size_t errlen)
{
	struct pkt_sampler	*s = xcalloc(1, sizeof(*s));

	strlcpy_s(s->ifname, ifname, sizeof(s->ifname));
	s->cb = cb;
	s->arg = arg;
	if ((s->sock = sampler_socket(ifname, rate, err, errlen)) == -1) {
		free(s);
		return NULL;
	}
	s->ev = event_new(base, s->sock, EV_READ | EV_PERSIST,
	    pkt_sampler_read, s);
	if (s->ev == NULL || event_add(s->ev, NULL) == -1) {
		snprintf(err, errlen, "sampler: cannot add its event");
		pkt_sampler_free(s);
		return NULL;
	}
	return s;
}

void
pkt_sampler_free(struct pkt_sampler *s)
{
	if (s == NULL)
		return;
	if (s->ev != NULL)
		event_free(s->ev);
	close(s->sock);
	free(s);
}

uint64_t
pkt_sampler_count(const struct pkt_sampler *s)
{
	return s->count;
}
