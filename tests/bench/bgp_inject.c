/*
 * bgp_inject: a BGP speaker that streams N EVPN type-2 routes, for the
 * ingest benchmark (tests/bench/bench_evpn_ingest.sh).
 *
 * How this works
 *
 * One TCP session (--connect, from --source if given, or --listen for
 * one incoming connection), driven by a plain poll() loop on a blocking
 * socket (a test tool, not the daemon).  It sends an OPEN offering l2vpn evpn
 * (RFC 7432 §7 / RFC 4760) and 4-octet ASNs (RFC 6793), optionally
 * extended messages (RFC 8654), waits for the peer's OPEN and KEEPALIVE
 * (RFC 4271 §8: OpenConfirm -> Established), then generates N distinct
 * MAC (or MAC+IP) advertisement routes and packs them into UPDATEs:
 * every route shares one attribute set, so an UPDATE is the attributes
 * once plus as many NLRI as fit in --batch-max bytes (or the negotiated
 * maximum message size, whichever is smaller).  End-of-RIB (RFC 4724
 * §2) follows.  All encoding goes through the project's own codecs
 * (bgp_msg.h, bgp_attr.h, evpn_nlri.h), so the benchmark also exercises
 * them on the sending side.
 *
 * Between writes it reads whatever the peer sent (KEEPALIVEs, its own
 * UPDATEs), and it sends a KEEPALIVE whenever it has been silent for a
 * third of the negotiated hold time, so the session survives --stay.
 *
 * Progress goes to stdout as JSON lines with wall-clock timestamps
 * (seconds since the epoch, microsecond resolution), which the bench
 * script compares with its own clock:
 *	{"event":"established","t":...}
 *	{"event":"sent","routes":N,"updates":U,"bytes":B,"t":...}
 *	{"event":"withdrawn","routes":N,"t":...}	(with --withdraw)
 *	{"event":"closed","reason":"...","t":...}
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bgpd/bgp_attr.h"
#include "bgpd/bgp_msg.h"
#include "bgpd/bgp_peer.h"
#include "common/addr.h"
#include "common/buf.h"
#include "common/util.h"
#include "evpn/evpn_int.h"
#include "evpn/evpn_nlri.h"

/* Flush the output buffer to the socket past this many bytes. */
#define INJECT_WRITE_CHUNK	(256 * 1024)
#define INJECT_HANDSHAKE_SEC	60

struct inject_opts {
	bool		 listen;
	struct ipaddr	 addr;
	uint16_t	 port;
	struct ipaddr	 source;		/* af 0: let the kernel pick */
	uint32_t	 local_as;
	uint32_t	 peer_as;
	uint32_t	 router_id;		/* host order */
	uint64_t	 count;
	uint32_t	 vni;
	struct rd	 rd;
	struct ipaddr	 nexthop;
	struct rt	 rt;
	struct macaddr	 mac_base;
	struct ipaddr	 ip_base;		/* af 0: MAC-only routes */
	size_t		 batch_max;
	uint16_t	 hold;
	bool		 ext_msg;
	bool		 withdraw;
	long		 stay;			/* seconds; -1 = until killed */
};

struct inject_session {
	int		 fd;
	uint8_t		*in;			/* received, not yet parsed */
	size_t		 in_len;
	size_t		 in_cap;
	struct wbuf	 out;			/* encoded, not yet written */
	size_t		 max_msg_len;		/* negotiated */
	uint16_t	 keepalive;		/* seconds; 0 = none */
	bool		 as4;			/* negotiated */
	uint64_t	 last_send_ms;
	uint64_t	 updates_rcvd;
	bool		 closed;
	char		 close_reason[128];
};

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double
wall_time(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
event_print(const char *event, const char *extra)
{
	printf("{\"event\":\"%s\"%s%s,\"t\":%.6f}\n", event,
	    extra[0] ? "," : "", extra, wall_time());
	fflush(stdout);
}

static void __attribute__((noreturn))
die(const char *msg)
{
	fprintf(stderr, "bgp_inject: %s\n", msg);
	exit(1);
}

/* ---- Options ---------------------------------------------------------- */

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: bgp_inject --connect ADDR[:PORT] | --listen ADDR[:PORT]\n"
	    "         --as N --router-id A.B.C.D --peer-as N --count N\n"
	    "         [--source ADDR]\n"
	    "         [--vni 100] [--rd 10.0.0.99:1] [--nexthop 10.0.0.99]\n"
	    "         [--rt 65000:100] [--mac-base 02:10:00:00:00:00]\n"
	    "         [--with-ip 10.100.0.0] [--batch-max 4096] [--hold 180]\n"
	    "         [--ext-msg] [--withdraw] [--stay SECONDS]\n");
	exit(status);
}

/* "A.B.C.D", "A.B.C.D:PORT", "X::Y" or "[X::Y]:PORT". */
static int
parse_endpoint(const char *s, struct ipaddr *addr, uint16_t *port)
{
	char host[IPADDR_STRLEN + 2];
	const char *colon = strrchr(s, ':');
	uint64_t v;

	*port = 179;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || (size_t)(end - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return -1;
	} else if (colon != NULL && strchr(s, ':') == colon) {
		if ((size_t)(colon - s) >= sizeof(host))
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	} else {
		if (strlcpy_s(host, s, sizeof(host)) >= sizeof(host))
			return -1;
		colon = NULL;
	}
	if (colon != NULL) {
		if (parse_uint(colon + 1, 1, 65535, &v) == -1)
			return -1;
		*port = (uint16_t)v;
	}
	return ipaddr_parse(host, addr);
}

static uint64_t
opt_uint(const char *name, const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (parse_uint(s, min, max, &v) == -1) {
		fprintf(stderr, "bgp_inject: bad --%s: %s\n", name, s);
		exit(1);
	}
	return v;
}

static void
opt_check(int rc, const char *name, const char *s)
{
	if (rc == -1) {
		fprintf(stderr, "bgp_inject: bad --%s: %s\n", name, s);
		exit(1);
	}
}

static const struct option long_opts[] = {
	{ "connect", required_argument, NULL, 'c' },
	{ "listen", required_argument, NULL, 'l' },
	{ "source", required_argument, NULL, 'S' },
	{ "as", required_argument, NULL, 'a' },
	{ "router-id", required_argument, NULL, 'i' },
	{ "peer-as", required_argument, NULL, 'p' },
	{ "count", required_argument, NULL, 'n' },
	{ "vni", required_argument, NULL, 'v' },
	{ "rd", required_argument, NULL, 'd' },
	{ "nexthop", required_argument, NULL, 'h' },
	{ "rt", required_argument, NULL, 't' },
	{ "mac-base", required_argument, NULL, 'm' },
	{ "with-ip", required_argument, NULL, 'I' },
	{ "batch-max", required_argument, NULL, 'b' },
	{ "hold", required_argument, NULL, 'H' },
	{ "ext-msg", no_argument, NULL, 'x' },
	{ "withdraw", no_argument, NULL, 'w' },
	{ "stay", required_argument, NULL, 's' },
	{ "help", no_argument, NULL, '?' },
	{ NULL, 0, NULL, 0 },
};

static void
opts_defaults(struct inject_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->vni = 100;
	o->batch_max = BGP_MAX_MSG_LEN;
	o->hold = 180;
	o->stay = -1;
	if (rd_parse("10.0.0.99:1", &o->rd) == -1 ||
	    ipaddr_parse("10.0.0.99", &o->nexthop) == -1 ||
	    rt_parse("65000:100", &o->rt) == -1 ||
	    mac_parse("02:10:00:00:00:00", &o->mac_base) == -1)
		die("internal: bad default");
}

static void
opts_parse(int argc, char **argv, struct inject_opts *o)
{
	bool have_addr = false;
	struct ipaddr rid;
	int ch;

	opts_defaults(o);
	while ((ch = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
		case 'l':
			o->listen = ch == 'l';
			opt_check(parse_endpoint(optarg, &o->addr, &o->port),
			    ch == 'l' ? "listen" : "connect", optarg);
			have_addr = true;
			break;
		case 'S': opt_check(ipaddr_parse(optarg, &o->source),
		    "source", optarg); break;
		case 'a': o->local_as = (uint32_t)opt_uint("as", optarg, 1,
		    UINT32_MAX); break;
		case 'p': o->peer_as = (uint32_t)opt_uint("peer-as", optarg, 1,
		    UINT32_MAX); break;
		case 'i':
			opt_check(ipaddr_parse(optarg, &rid), "router-id",
			    optarg);
			if (rid.af != AF_INET)
				opt_check(-1, "router-id", optarg);
			o->router_id = ipaddr_v4_host(&rid);
			break;
		case 'n': o->count = opt_uint("count", optarg, 1,
		    (uint64_t)1 << 40); break;
		case 'v': o->vni = (uint32_t)opt_uint("vni", optarg, 1,
		    EVPN_LABEL_MAX); break;
		case 'd': opt_check(rd_parse(optarg, &o->rd), "rd", optarg);
			break;
		case 'h': opt_check(ipaddr_parse(optarg, &o->nexthop),
		    "nexthop", optarg); break;
		case 't': opt_check(rt_parse(optarg, &o->rt), "rt", optarg);
			break;
		case 'm': opt_check(mac_parse(optarg, &o->mac_base),
		    "mac-base", optarg); break;
		case 'I': opt_check(ipaddr_parse(optarg, &o->ip_base),
		    "with-ip", optarg); break;
		case 'b': o->batch_max = (size_t)opt_uint("batch-max", optarg,
		    128, BGP_MAX_EXT_MSG_LEN); break;
		case 'H': o->hold = (uint16_t)opt_uint("hold", optarg, 0,
		    65535); break;
		case 'x': o->ext_msg = true; break;
		case 'w': o->withdraw = true; break;
		case 's': o->stay = (long)opt_uint("stay", optarg, 0,
		    86400 * 365); break;
		default: usage(ch == '?' && optopt == 0 ? 0 : 1);
		}
	}
	if (optind != argc || !have_addr || o->local_as == 0 ||
	    o->peer_as == 0 || o->router_id == 0 || o->count == 0)
		usage(1);
	if (o->hold != 0 && o->hold < 3)
		die("--hold must be 0 or at least 3 (RFC 4271 §4.2)");
}

/* ---- Socket I/O ------------------------------------------------------- */

static int
socket_open(const struct inject_opts *o)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, one = 1;

	sslen = (socklen_t)ipaddr_to_sockaddr(&o->addr, o->port, &ss);
	fd = socket(o->addr.af, SOCK_STREAM, 0);
	if (fd == -1)
		die(strerror(errno));
	if (!o->listen) {
		if (o->source.af != 0) {
			struct sockaddr_storage src;
			socklen_t srclen = (socklen_t)ipaddr_to_sockaddr(
			    &o->source, 0, &src);

			if (bind(fd, (struct sockaddr *)&src, srclen) == -1)
				die(strerror(errno));
		}
		if (connect(fd, (struct sockaddr *)&ss, sslen) == -1)
			die(strerror(errno));
		return fd;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1 || listen(fd, 1) == -1)
		die(strerror(errno));
	int cfd = accept(fd, NULL, NULL);
	if (cfd == -1)
		die(strerror(errno));
	close(fd);
	return cfd;
}

static void
session_write_all(struct inject_session *s)
{
	size_t off = 0;

	if (s->out.error)
		die("internal: message encoding failed");
	while (off < s->out.len && !s->closed) {
		ssize_t n = write(s->fd, s->out.data + off, s->out.len - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			s->closed = true;
			snprintf(s->close_reason, sizeof(s->close_reason),
			    "write: %s", n == 0 ? "closed" : strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	wbuf_reset(&s->out);
	s->last_send_ms = mono_msec();
}

/* Wait up to timeout_ms for input and read what is there; -1 on EOF. */
static int
session_fill(struct inject_session *s, int timeout_ms)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return 0;
	if (s->in_cap - s->in_len < BGP_MAX_EXT_MSG_LEN) {
		s->in_cap = s->in_len + 2 * BGP_MAX_EXT_MSG_LEN;
		s->in = xrealloc(s->in, s->in_cap);
	}
	n = read(s->fd, s->in + s->in_len, s->in_cap - s->in_len);
	if (n == -1 && errno == EINTR)
		return 0;
	if (n <= 0) {
		s->closed = true;
		snprintf(s->close_reason, sizeof(s->close_reason), "read: %s",
		    n == 0 ? "peer closed the connection" : strerror(errno));
		return -1;
	}
	s->in_len += (size_t)n;
	return 0;
}

/*
 * Take the next complete message out of the input buffer into msg (whole
 * message, header included).  Returns 1 with *type, 0 when incomplete,
 * -1 on a framing error (session closed).
 */
static int
session_next_msg(struct inject_session *s, uint8_t *type, uint8_t *msg,
    uint16_t *len)
{
	struct bgp_notify err;

	if (s->in_len < BGP_HDR_LEN)
		return 0;
	if (bgp_hdr_parse(s->in, s->max_msg_len, type, len, &err) == -1) {
		s->closed = true;
		snprintf(s->close_reason, sizeof(s->close_reason),
		    "bad message header from peer (%u/%u)", err.code,
		    err.subcode);
		return -1;
	}
	if (s->in_len < *len)
		return 0;
	memcpy(msg, s->in, *len);
	memmove(s->in, s->in + *len, s->in_len - *len);
	s->in_len -= *len;
	return 1;
}

static void
session_send_keepalive(struct inject_session *s)
{
	bgp_keepalive_encode(&s->out);
	session_write_all(s);
}

/* Send a KEEPALIVE when silent for a third of the hold time. */
static void
session_keepalive_due(struct inject_session *s)
{
	if (s->keepalive != 0 &&
	    mono_msec() - s->last_send_ms >= (uint64_t)s->keepalive * 1000)
		session_send_keepalive(s);
}

/* Act on one message received in Established. */
static void
session_handle(struct inject_session *s, uint8_t type, const uint8_t *msg,
    uint16_t len)
{
	struct bgp_notify n;
	char name[96];

	switch (type) {
	case BGP_MSG_UPDATE:
		s->updates_rcvd++;
		break;
	case BGP_MSG_NOTIFICATION:
		memset(&n, 0, sizeof(n));
		bgp_notify_decode(msg + BGP_HDR_LEN, len - BGP_HDR_LEN, &n);
		s->closed = true;
		snprintf(s->close_reason, sizeof(s->close_reason),
		    "NOTIFICATION %s", bgp_notify_name(n.code, n.subcode, name,
		    sizeof(name)));
		break;
	default:	/* KEEPALIVE, ROUTE-REFRESH: nothing to do */
		break;
	}
}

/* Read and handle whatever arrived, waiting at most timeout_ms. */
static void
session_poll(struct inject_session *s, int timeout_ms)
{
	uint8_t msg[BGP_MAX_EXT_MSG_LEN];
	uint16_t len;
	uint8_t type;

	if (session_fill(s, timeout_ms) == -1)
		return;
	while (!s->closed && session_next_msg(s, &type, msg, &len) == 1)
		session_handle(s, type, msg, len);
	session_keepalive_due(s);
}

/* ---- Handshake -------------------------------------------------------- */

static void
open_build(const struct inject_opts *o, struct bgp_open *open)
{
	memset(open, 0, sizeof(*open));
	open->version = BGP_VERSION;
	open->holdtime = o->hold;
	open->bgp_id = o->router_id;
	bgp_open_set_as(open, o->local_as);
	open->caps.mp[BGP_AID_L2VPN_EVPN] = true;
	open->caps.route_refresh = true;
	open->caps.ext_msg = o->ext_msg;
}

/* Wait for a message of one type in OpenSent/OpenConfirm. */
static void
handshake_expect(struct inject_session *s, uint8_t want, uint8_t *msg,
    uint16_t *len)
{
	uint64_t deadline = mono_msec() + INJECT_HANDSHAKE_SEC * 1000;
	struct bgp_notify n;
	uint8_t type;
	char name[96], why[160];

	for (;;) {
		int rc = session_next_msg(s, &type, msg, len);

		if (rc == 1 && type == BGP_MSG_NOTIFICATION) {
			memset(&n, 0, sizeof(n));
			bgp_notify_decode(msg + BGP_HDR_LEN,
			    *len - BGP_HDR_LEN, &n);
			snprintf(why, sizeof(why), "peer refused the session: "
			    "%s", bgp_notify_name(n.code, n.subcode, name,
			    sizeof(name)));
			die(why);
		}
		if (rc == 1 && type == want)
			return;
		if (rc == 1)
			die("unexpected message during the handshake");
		if (rc == -1 || s->closed || stop_requested)
			die(s->close_reason[0] ? s->close_reason :
			    "handshake interrupted");
		if (mono_msec() > deadline)
			die("handshake timed out");
		session_fill(s, 1000);
	}
}

static void
handshake(struct inject_session *s, const struct inject_opts *o)
{
	uint8_t msg[BGP_MAX_MSG_LEN];
	struct bgp_open local, remote;
	struct bgp_open_policy pol;
	struct bgp_negotiated neg;
	struct bgp_notify err;
	uint16_t len;
	char extra[96];

	open_build(o, &local);
	bgp_open_encode(&s->out, &local);
	session_write_all(s);
	handshake_expect(s, BGP_MSG_OPEN, msg, &len);
	memset(&pol, 0, sizeof(pol));
	pol.local_as = o->local_as;
	pol.local_bgp_id = o->router_id;
	pol.remote_as = o->peer_as;
	pol.families[BGP_AID_L2VPN_EVPN] = true;
	if (bgp_open_decode(msg + BGP_HDR_LEN, len - BGP_HDR_LEN, &remote,
	    &err) == -1 || bgp_open_validate(&remote, &pol, &err) == -1) {
		bgp_notify_encode(&s->out, &err);
		session_write_all(s);
		die("peer's OPEN refused");
	}
	bgp_negotiate(&local, &remote, 0, &neg);
	if (!neg.families[BGP_AID_L2VPN_EVPN])
		die("peer did not offer l2vpn evpn");
	s->max_msg_len = neg.max_msg_len;
	s->keepalive = neg.keepalive;
	s->as4 = neg.as4;
	session_send_keepalive(s);
	handshake_expect(s, BGP_MSG_KEEPALIVE, msg, &len);
	snprintf(extra, sizeof(extra), "\"holdtime\":%u,\"max_msg_len\":%zu",
	    neg.holdtime, s->max_msg_len);
	event_print("established", extra);
}

/* ---- Routes and UPDATEs ------------------------------------------------ */

/* The one attribute set every route shares. */
static void
attrs_build(const struct inject_opts *o, struct bgp_attrs *a)
{
	uint8_t ecs[2 * BGP_ECOMM_LEN];
	uint8_t nh[16];
	size_t nhlen = ipaddr_len(&o->nexthop);

	bgp_attrs_init(a);
	bgp_attrs_set_origin(a, BGP_ORIGIN_IGP);
	if (o->local_as == o->peer_as) {
		bgp_attrs_set_aspath_seq(a, NULL, 0);
		bgp_attrs_set_local_pref(a, 100);
	} else {
		bgp_attrs_set_aspath_seq(a, &o->local_as, 1);
	}
	memcpy(nh, o->nexthop.u.b, nhlen);
	bgp_attrs_set_mp_nexthop(a, nh, (uint8_t)nhlen);
	memcpy(ecs, o->rt.b, BGP_ECOMM_LEN);
	bgp_ecomm_make_encap(ecs + BGP_ECOMM_LEN, BGP_TUNNEL_VXLAN);
	bgp_attrs_set_ecomms(a, ecs, 2);
}

/* Route i: MAC base + i, and IP base + i when --with-ip. */
static void
route_build(const struct inject_opts *o, uint64_t i, struct evpn_route *r)
{
	struct macaddr mac = o->mac_base;
	struct ipaddr ip = o->ip_base;
	uint64_t carry = i;

	for (int b = 5; b >= 0 && carry; b--) {
		carry += mac.b[b];
		mac.b[b] = (uint8_t)carry;
		carry >>= 8;
	}
	carry = i;
	for (int b = (int)ipaddr_len(&ip) - 1; b >= 0 && carry; b--) {
		carry += ip.u.b[b];
		ip.u.b[b] = (uint8_t)carry;
		carry >>= 8;
	}
	if (evpn_route_make_macip(r, &o->rd, &mac,
	    ip.af ? &ip : NULL, o->vni, 0) == -1)
		die("internal: cannot build a type-2 route");
}

/* The bytes an UPDATE spends on everything but the NLRI. */
static size_t
update_overhead(const struct inject_session *s, const struct bgp_attrs *a,
    bool withdraw)
{
	struct bgp_attr_enc_ctx ctx = { .as4 = s->as4 };
	struct wbuf tmp;
	size_t alen = 0;

	/* header, withdrawn length, attributes length, MP attribute
	 * header (extended length), AFI, SAFI; for MP_REACH the next hop
	 * length, next hop and reserved byte, then the other attributes */
	size_t fixed = BGP_HDR_LEN + 2 + 2 + 4 + 3;

	if (!withdraw) {
		wbuf_init(&tmp, 0);
		bgp_attrs_encode(&tmp, a, &ctx);
		alen = tmp.len;
		wbuf_free(&tmp);
		fixed += 1 + a->mp_nexthop_len + 1;
	}
	return fixed + alen;
}

/* Append one UPDATE carrying the NLRI in nlri to the output. */
static void
update_append(struct inject_session *s, const struct bgp_attrs *a,
    const struct wbuf *nlri, bool withdraw)
{
	struct bgp_attr_enc_ctx ctx = { .as4 = s->as4 };
	struct bgp_mp mp;
	size_t start, alen;

	memset(&mp, 0, sizeof(mp));
	bgp_aid_to_afi_safi(BGP_AID_L2VPN_EVPN, &mp.afi, &mp.safi);
	rbuf_init(&mp.nlri, nlri->data, nlri->len);
	start = bgp_hdr_begin(&s->out, BGP_MSG_UPDATE);
	wbuf_put_u16(&s->out, 0);		/* no classic withdrawals */
	alen = wbuf_reserve(&s->out, 2);
	if (withdraw) {
		bgp_mp_unreach_encode(&s->out, mp.afi, mp.safi, nlri->data,
		    nlri->len);
	} else {
		mp.present = true;
		ctx.mp_reach = &mp;
		bgp_attrs_encode(&s->out, a, &ctx);
	}
	wbuf_set_u16(&s->out, alen, (uint16_t)(s->out.len - alen - 2));
	bgp_hdr_finish(&s->out, start);
}

struct stream_stats {
	uint64_t	 updates;
	uint64_t	 bytes;
};

/* Stream all N routes (announced, or withdrawn), packed. */
static void
stream_routes(struct inject_session *s, const struct inject_opts *o,
    const struct bgp_attrs *a, bool withdraw, struct stream_stats *st)
{
	size_t max = o->batch_max < s->max_msg_len ? o->batch_max :
	    s->max_msg_len;
	size_t overhead = update_overhead(s, a, withdraw);
	size_t room = max > overhead ? max - overhead : 0;
	struct evpn_route r;
	struct wbuf nlri;

	if (room < EVPN_NLRI_MAX_LEN)
		die("--batch-max leaves no room for an NLRI");
	wbuf_init(&nlri, 0);
	for (uint64_t i = 0; i < o->count && !s->closed && !stop_requested;
	    i++) {
		route_build(o, i, &r);
		if (nlri.len + evpn_nlri_len(&r) > room) {
			update_append(s, a, &nlri, withdraw);
			st->updates++;
			wbuf_reset(&nlri);
		}
		evpn_nlri_encode(&nlri, &r);
		if (s->out.len >= INJECT_WRITE_CHUNK) {
			st->bytes += s->out.len;
			session_write_all(s);
			session_poll(s, 0);
		}
	}
	if (nlri.len > 0) {
		update_append(s, a, &nlri, withdraw);
		st->updates++;
	}
	wbuf_free(&nlri);
}

static void
send_eor(struct inject_session *s, struct stream_stats *st)
{
	bgp_eor_encode(&s->out, BGP_AID_L2VPN_EVPN);
	st->updates++;
	st->bytes += s->out.len;
	session_write_all(s);
}

static void
stream_and_report(struct inject_session *s, const struct inject_opts *o,
    const struct bgp_attrs *a, bool withdraw)
{
	struct stream_stats st = { 0, 0 };
	char extra[160];

	stream_routes(s, o, a, withdraw, &st);
	if (!withdraw)
		send_eor(s, &st);
	else {
		st.bytes += s->out.len;
		session_write_all(s);
	}
	if (s->closed || stop_requested)
		return;
	snprintf(extra, sizeof(extra), "\"routes\":%" PRIu64 ",\"updates\":%"
	    PRIu64 ",\"bytes\":%" PRIu64, o->count, st.updates, st.bytes);
	event_print(withdraw ? "withdrawn" : "sent", extra);
}

/* Stay in Established, answering keepalives, for --stay seconds. */
static void
stay_connected(struct inject_session *s, long seconds)
{
	uint64_t end = seconds < 0 ? UINT64_MAX :
	    mono_msec() + (uint64_t)seconds * 1000;

	while (!s->closed && !stop_requested && mono_msec() < end)
		session_poll(s, 200);
}

static void
session_close(struct inject_session *s)
{
	struct bgp_notify n;
	char extra[200];

	if (!s->closed) {
		bgp_notify_set(&n, BGP_ERR_CEASE, BGP_CEASE_ADMIN_SHUTDOWN,
		    NULL, 0);
		bgp_notify_encode(&s->out, &n);
		session_write_all(s);
		snprintf(s->close_reason, sizeof(s->close_reason),
		    "%s", stop_requested ? "signal" : "done");
	}
	snprintf(extra, sizeof(extra), "\"reason\":\"%s\",\"updates_rcvd\":%"
	    PRIu64, s->close_reason, s->updates_rcvd);
	event_print("closed", extra);
	close(s->fd);
}

int
main(int argc, char **argv)
{
	struct inject_opts o;
	struct inject_session s;
	struct bgp_attrs attrs;
	struct sigaction sa;
	bool failed;

	opts_parse(argc, argv, &o);
	bgp_af_register(&evpn_af);	/* the family it speaks */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll() returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&s, 0, sizeof(s));
	wbuf_init(&s.out, 0);
	s.max_msg_len = BGP_MAX_MSG_LEN;
	s.fd = socket_open(&o);
	handshake(&s, &o);
	attrs_build(&o, &attrs);
	stream_and_report(&s, &o, &attrs, false);
	if (o.withdraw && !s.closed && !stop_requested)
		stream_and_report(&s, &o, &attrs, true);
	stay_connected(&s, o.stay);
	failed = s.closed;		/* by the peer, not by us */
	session_close(&s);
	bgp_attrs_clear(&attrs);
	wbuf_free(&s.out);
	free(s.in);
	return failed ? 1 : 0;
}
