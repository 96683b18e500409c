/*
 * libevent transport for the BGP FSM; see bgp_session.h.
 *
 * Lifetime: the FSM owns struct bgp_conn and frees it right after
 * calling close(); the io record hangs off conn->io.  Because the FSM
 * may close a connection from inside that connection's own read or
 * write callback, an io that is inside a callback ("busy") is only
 * marked dead by close() and freed when the callback unwinds.
 *
 * Closing lingers: close() detaches the io from the connection and
 * keeps it on the instance's closing list while what is queued (the
 * NOTIFICATION last) is written; then the write side is shut down and
 * whatever the peer still sends is read and thrown away until it
 * closes too, for at most BGP_CLOSE_LINGER_MSEC.  Closing a socket
 * with unread input makes the kernel reset the connection and drop
 * what it had not sent yet, so a NOTIFICATION to a peer that had sent
 * more than we read, or that read slowly, was lost.
 */
#include "bgpd/bgp_session.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "bgpd/bgp_peer.h"
#include "common/log.h"
#include "common/util.h"

#define LISTEN_BACKLOG		64
#define READ_CHUNK		65536
/* A closed connection delivers what is queued and waits for the peer's
 * close this long at most. */
#define BGP_CLOSE_LINGER_MSEC	3000
#define LINGER_READS		64	/* reads per callback while lingering */
#define TTL_EBGP_SINGLEHOP	1
#define TTL_IBGP		255

struct bgp_io {
	struct bgp_conn	*conn;		/* NULL once closed */
	struct bgp	*bgp;
	int		 fd;
	struct event	*rev;
	struct event	*wev;
	struct evbuffer	*in;
	struct evbuffer	*out;
	bool		 connecting;
	int		 busy;
	bool		 dead;
	uint64_t	 stalled_since;	/* out has not moved since; 0: empty */
	/* Closed, delivering the rest (on bgp->closing). */
	bool		 lingering;
	bool		 wr_shut;
	struct event	*linger_ev;
	TAILQ_ENTRY(bgp_io) closing_entry;
};

struct bgp_listener {
	TAILQ_ENTRY(bgp_listener) entry;
	struct bgp	*bgp;
	int		 fd;
	int		 af;
	struct event	*ev;
};

static void	io_read_cb(evutil_socket_t, short, void *);
static void	io_write_cb(evutil_socket_t, short, void *);
static void	io_linger_timeout_cb(evutil_socket_t, short, void *);

/* ---- socket options ------------------------------------------------ */

static int
sock_set_md5(int fd, const struct ipaddr *addr, const char *password)
{
	struct tcp_md5sig md5;
	size_t keylen = password ? strlen(password) : 0;
	int rv, saved;

	if (keylen > TCP_MD5SIG_MAXKEYLEN) {
		errno = EINVAL;
		return -1;
	}
	memset(&md5, 0, sizeof(md5));
	ipaddr_to_sockaddr(addr, 0, &md5.tcpm_addr);
	md5.tcpm_keylen = keylen;
	if (keylen)
		memcpy(md5.tcpm_key, password, keylen);
	rv = setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &md5, sizeof(md5));
	saved = errno;
	explicit_bzero(&md5, sizeof(md5));	/* no copy of the key left */
	errno = saved;
	return rv;
}

/* eBGP single-hop: TTL 1 unless ebgp-multihop; iBGP: 255. */
static void
sock_set_ttl(const struct bgp_peer *peer, int fd)
{
	int ttl = TTL_IBGP;

	if (!peer->ibgp)
		ttl = peer->conf.ebgp_multihop ? peer->conf.ebgp_multihop :
		    TTL_EBGP_SINGLEHOP;
	if (peer->conf.addr.af == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl,
		    sizeof(ttl)) == -1)
			bgp_peer_log(peer, LOG_WARNING,
			    "cannot set hop limit: %s", strerror(errno));
	} else if (setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) == -1)
		bgp_peer_log(peer, LOG_WARNING, "cannot set TTL: %s",
		    strerror(errno));
}

static void
conn_fill_addrs(struct bgp_conn *conn, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct ipaddr remote;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		(void)ipaddr_from_sockaddr(&ss, &conn->local_addr,
		    &conn->local_port);
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		(void)ipaddr_from_sockaddr(&ss, &remote, &conn->remote_port);
}

/* ---- io records ---------------------------------------------------- */

static struct bgp_io *
io_new(struct bgp_conn *conn, int fd)
{
	struct event_base *base = conn->peer->bgp->base;
	struct bgp_io *io = xcalloc(1, sizeof(*io));

	io->conn = conn;
	io->bgp = conn->peer->bgp;
	io->fd = fd;
	io->in = evbuffer_new();
	io->out = evbuffer_new();
	io->rev = event_new(base, fd, EV_READ | EV_PERSIST, io_read_cb, io);
	io->wev = event_new(base, fd, EV_WRITE, io_write_cb, io);
	if (!io->in || !io->out || !io->rev || !io->wev)
		fatalx("libevent: out of memory");
	conn->io = io;
	return io;
}

static void
io_free(struct bgp_io *io)
{
	if (io->lingering) {
		TAILQ_REMOVE(&io->bgp->closing, io, closing_entry);
		event_free(io->linger_ev);
	}
	event_free(io->rev);
	event_free(io->wev);
	evbuffer_free(io->in);
	evbuffer_free(io->out);
	close(io->fd);
	free(io);
}

/* Leave a callback; free the io if the FSM closed it meanwhile.
 * Returns true when the io is gone. */
static bool
io_unbusy(struct bgp_io *io)
{
	if (--io->busy == 0 && io->dead) {
		io_free(io);
		return true;
	}
	return io->dead;
}

/*
 * Write what the socket takes now.  send() with MSG_NOSIGNAL rather than
 * evbuffer_write(): a peer that already closed must give EPIPE, not
 * SIGPIPE.  Returns -1 on a real error.
 */
static int
io_flush(struct bgp_io *io)
{
	struct evbuffer_iovec v;
	ssize_t n;

	while (evbuffer_get_length(io->out) > 0) {
		if (evbuffer_peek(io->out, -1, NULL, &v, 1) < 1)
			break;
		n = send(io->fd, v.iov_base, v.iov_len, MSG_NOSIGNAL);
		if (n == -1)
			return errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR ? 0 : -1;
		evbuffer_drain(io->out, n);
		/* Progress restarts the send hold time (RFC 9687 §4.3). */
		io->stalled_since = mono_msec();
	}
	if (evbuffer_get_length(io->out) == 0)
		io->stalled_since = 0;
	return 0;
}

/* ---- ops ----------------------------------------------------------- */

static uint64_t
session_now(struct bgp *bgp)
{
	return mono_msec();
}

static uint32_t
session_random(struct bgp *bgp)
{
	return (uint32_t)random();
}

static int
session_connect(struct bgp_conn *conn)
{
	struct bgp_peer *peer = conn->peer;
	struct sockaddr_storage ss, src;
	socklen_t sslen, srclen;
	int fd, saved;

	sslen = ipaddr_to_sockaddr(&peer->conf.addr, peer->conf.port, &ss);
	fd = socket(peer->conf.addr.af, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	sock_set_ttl(peer, fd);
	if (peer->conf.password &&
	    sock_set_md5(fd, &peer->conf.addr, peer->conf.password) == -1) {
		bgp_peer_log(peer, LOG_ERR, "cannot set TCP MD5 key: %s "
		    "(kernel without TCP_MD5SIG?)", strerror(errno));
		goto fail;
	}
	if (ipaddr_is_set(&peer->conf.update_source)) {
		srclen = ipaddr_to_sockaddr(&peer->conf.update_source, 0, &src);
		if (bind(fd, (struct sockaddr *)&src, srclen) == -1)
			goto fail;
	}
	if (connect(fd, (struct sockaddr *)&ss, sslen) == -1 &&
	    errno != EINPROGRESS)
		goto fail;
	/* Done or in progress: the write event tells which (SO_ERROR). */
	io_new(conn, fd)->connecting = true;
	event_add(((struct bgp_io *)conn->io)->wev, NULL);
	return 0;
fail:
	saved = errno;
	snprintf(peer->last_reset, sizeof(peer->last_reset), "%s",
	    strerror(saved));
	bgp_peer_log(peer, LOG_INFO, "connect: %s", strerror(saved));
	if (fd != -1)
		close(fd);
	return -1;
}

static int
session_send(struct bgp_conn *conn, const uint8_t *data, size_t len)
{
	struct bgp_io *io = conn->io;

	if (io == NULL || io->dead)
		return -1;
	if (evbuffer_get_length(io->out) == 0)
		io->stalled_since = mono_msec();
	if (evbuffer_add(io->out, data, len) == -1)
		return -1;
	if (!io->connecting)
		event_add(io->wev, NULL);
	return 0;
}

static size_t
session_pending(const struct bgp_conn *conn)
{
	const struct bgp_io *io = conn->io;

	return io == NULL ? 0 : evbuffer_get_length(io->out);
}

static uint64_t
session_send_stalled(const struct bgp_conn *conn)
{
	const struct bgp_io *io = conn->io;

	return io == NULL ? 0 : io->stalled_since;
}

/* Free a closed io now, or when the callback it is in unwinds. */
static void
io_release(struct bgp_io *io)
{
	event_del(io->rev);
	event_del(io->wev);
	if (io->busy)
		io->dead = true;
	else
		io_free(io);
}

/*
 * Write what is queued; once all of it is out, shut the write side, so
 * the peer reads the NOTIFICATION and then end of file.  false when
 * the connection failed.
 */
static bool
io_linger_write(struct bgp_io *io)
{
	if (io_flush(io) == -1)
		return false;
	if (evbuffer_get_length(io->out) > 0) {
		event_add(io->wev, NULL);
		return true;
	}
	if (!io->wr_shut && shutdown(io->fd, SHUT_WR) == -1)
		return false;
	io->wr_shut = true;
	return true;
}

/* Read and throw away what the peer still sends; its end of file (or an
 * error) ends the linger. */
static void
io_linger_read(struct bgp_io *io)
{
	char buf[16384];
	ssize_t n;

	for (int i = 0; i < LINGER_READS; i++) {
		if ((n = read(io->fd, buf, sizeof(buf))) > 0)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		io_release(io);
		return;
	}
}

static void
io_linger_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	io_release(arg);
}

static void
io_linger_start(struct bgp_io *io)
{
	struct timeval tv = { BGP_CLOSE_LINGER_MSEC / 1000,
	    (BGP_CLOSE_LINGER_MSEC % 1000) * 1000 };

	io->lingering = true;
	TAILQ_INSERT_TAIL(&io->bgp->closing, io, closing_entry);
	io->linger_ev = evtimer_new(io->bgp->base, io_linger_timeout_cb, io);
	if (io->linger_ev == NULL)
		fatalx("libevent: out of memory");
	evtimer_add(io->linger_ev, &tv);
	event_add(io->rev, NULL);
	if (!io_linger_write(io))
		io_release(io);
}

static void
session_close(struct bgp_conn *conn)
{
	struct bgp_io *io = conn->io;

	if (io == NULL)
		return;
	conn->io = NULL;
	io->conn = NULL;
	if (io->connecting)
		io_release(io);
	else
		io_linger_start(io);
}

/* The instance goes: connections still lingering close now. */
static void
session_release(struct bgp *bgp)
{
	struct bgp_io *io;

	while ((io = TAILQ_FIRST(&bgp->closing)) != NULL)
		io_free(io);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bgp_peer_timer *t = arg;

	bgp_fsm(t->peer, bgp_timer_event(t->which));
}

static void
session_timer_set(struct bgp_peer *peer, enum bgp_timer which,
    uint64_t msec)
{
	struct bgp_peer_timer *t = &peer->timers[which];
	struct timeval tv;

	if (t->ev == NULL &&
	    (t->ev = evtimer_new(peer->bgp->base, timer_cb, t)) == NULL)
		fatalx("libevent: out of memory");
	tv.tv_sec = msec / 1000;
	tv.tv_usec = (msec % 1000) * 1000;
	evtimer_add((struct event *)t->ev, &tv);
}

static void
session_timer_stop(struct bgp_peer *peer, enum bgp_timer which)
{
	struct bgp_peer_timer *t = &peer->timers[which];

	if (t->ev)
		evtimer_del((struct event *)t->ev);
}

static void
session_peer_release(struct bgp_peer *peer)
{
	int i;

	for (i = 0; i < BGP_TIMER_MAX; i++)
		if (peer->timers[i].ev) {
			event_free(peer->timers[i].ev);
			peer->timers[i].ev = NULL;
		}
}

/* ---- reading and writing ------------------------------------------- */

/* Hand over one whole message if the buffer holds one; false when
 * there is nothing (more) to do. */
static bool
io_frame_one(struct bgp_io *io)
{
	struct bgp_notify err;
	size_t avail = evbuffer_get_length(io->in);
	const uint8_t *msg;
	uint16_t len;
	uint8_t type;

	if (avail < BGP_HDR_LEN)
		return false;
	msg = evbuffer_pullup(io->in, BGP_HDR_LEN);
	if (bgp_hdr_parse(msg, bgp_fsm_max_msg_len(io->conn), &type, &len,
	    &err) == -1) {
		bgp_fsm_conn_error(io->conn, &err);
		return false;
	}
	if (avail < len)
		return false;
	msg = evbuffer_pullup(io->in, len);
	bgp_fsm_message(io->conn, type, msg + BGP_HDR_LEN, len - BGP_HDR_LEN);
	evbuffer_drain(io->in, len);
	return true;
}

static void
io_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bgp_io *io = arg;
	int n;

	if (io->lingering) {
		io_linger_read(io);
		return;
	}
	n = evbuffer_read(io->in, fd, READ_CHUNK);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	io->busy++;
	if (n <= 0)
		bgp_fsm_conn_event(io->conn, BGP_EV_CONN_CLOSED,
		    n == 0 ? "Peer closed the session" : strerror(errno));
	else
		while (io->conn != NULL && io_frame_one(io))
			;
	(void)io_unbusy(io);
}

static void
io_connected(struct bgp_io *io)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr) {
		bgp_peer_log(io->conn->peer, LOG_INFO, "connect: %s",
		    strerror(soerr));
		bgp_fsm_conn_event(io->conn, BGP_EV_CONN_OPEN_FAIL,
		    strerror(soerr));
		return;
	}
	io->connecting = false;
	conn_fill_addrs(io->conn, io->fd);
	event_add(io->rev, NULL);
	bgp_fsm_conn_event(io->conn, BGP_EV_CONN_OPEN, NULL);
}

static void
io_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bgp_io *io = arg;

	if (io->lingering) {
		if (!io_linger_write(io))
			io_release(io);
		return;
	}
	io->busy++;
	if (io->connecting)
		io_connected(io);
	else if (io_flush(io) == -1)
		bgp_fsm_conn_event(io->conn, BGP_EV_CONN_CLOSED,
		    strerror(errno));
	if (io_unbusy(io))
		return;
	if (evbuffer_get_length(io->out) > 0)
		event_add(io->wev, NULL);
}

/* ---- listeners ----------------------------------------------------- */

static void
accept_one(struct bgp_listener *l, int fd, const struct sockaddr_storage *ss)
{
	char buf[IPADDR_STRLEN];
	struct ipaddr addr;
	struct bgp_peer *peer;
	struct bgp_conn *conn;
	uint16_t port;

	if (ipaddr_from_sockaddr(ss, &addr, &port) == -1 ||
	    (peer = bgp_peer_find(l->bgp, &addr)) == NULL) {
		log_info("connection from unconfigured address %s refused",
		    addr.af ? ipaddr_fmt(&addr, buf, sizeof(buf)) : "?");
		close(fd);
		return;
	}
	sock_set_ttl(peer, fd);
	conn = bgp_conn_new(peer, false);
	io_new(conn, fd);
	conn_fill_addrs(conn, fd);
	event_add(((struct bgp_io *)conn->io)->rev, NULL);
	bgp_fsm_accept(peer, conn);
}

static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct bgp_listener *l = arg;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	for (;;) {
		len = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		accept_one(l, fd, &ss);
	}
}

static void
listener_md5_all(struct bgp_listener *l)
{
	struct bgp_peer *peer;
	char buf[IPADDR_STRLEN];

	TAILQ_FOREACH(peer, &l->bgp->peers, entry)
		if (peer->conf.password && peer->conf.addr.af == l->af &&
		    sock_set_md5(l->fd, &peer->conf.addr,
		    peer->conf.password) == -1)
			log_err("cannot set TCP MD5 key for %s on the "
			    "listener: %s", ipaddr_fmt(&peer->conf.addr, buf,
			    sizeof(buf)), strerror(errno));
}

static int
listener_open(struct bgp *bgp, const struct ipaddr *addr, int af,
    char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct bgp_listener *l;
	struct ipaddr any;
	socklen_t sslen;
	int fd, on = 1;

	if (addr == NULL) {
		memset(&any, 0, sizeof(any));
		any.af = af;
		addr = &any;
	}
	sslen = ipaddr_to_sockaddr(addr, bgp->listen_port, &ss);
	if ((fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	/* "any" uses two sockets: keep the IPv6 one to IPv6. */
	if (af == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
	    sizeof(on)) == -1)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1)
		goto fail;
	l = xcalloc(1, sizeof(*l));
	l->bgp = bgp;
	l->fd = fd;
	l->af = af;
	if ((l->ev = event_new(bgp->base, fd, EV_READ | EV_PERSIST,
	    accept_cb, l)) == NULL)
		fatalx("libevent: out of memory");
	event_add(l->ev, NULL);
	TAILQ_INSERT_TAIL(&bgp->listeners, l, entry);
	listener_md5_all(l);
	return 0;
fail:
	if (err && errlen) {
		char buf[IPADDR_STRLEN];

		snprintf(err, errlen, "cannot listen on [%s]:%u: %s",
		    ipaddr_fmt(addr, buf, sizeof(buf)), bgp->listen_port,
		    strerror(errno));
	}
	if (fd != -1)
		close(fd);
	return -1;
}

static void
session_unlisten(struct bgp *bgp)
{
	struct bgp_listener *l;

	while ((l = TAILQ_FIRST(&bgp->listeners)) != NULL) {
		TAILQ_REMOVE(&bgp->listeners, l, entry);
		event_free(l->ev);
		close(l->fd);
		free(l);
	}
}

static int
session_listen(struct bgp *bgp, char *err, size_t errlen)
{
	session_unlisten(bgp);
	if (bgp->listen_port == 0)
		return 0;
	if (ipaddr_is_set(&bgp->listen_addr))
		return listener_open(bgp, &bgp->listen_addr,
		    bgp->listen_addr.af, err, errlen);
	if (listener_open(bgp, NULL, AF_INET, err, errlen) == -1)
		return -1;
	/* A host without IPv6 still serves IPv4. */
	if (listener_open(bgp, NULL, AF_INET6, NULL, 0) == -1 &&
	    errno != EAFNOSUPPORT) {
		if (err && errlen)
			snprintf(err, errlen, "cannot listen on [::]:%u: %s",
			    bgp->listen_port, strerror(errno));
		session_unlisten(bgp);
		return -1;
	}
	return 0;
}

static void
session_md5_set(struct bgp *bgp, const struct ipaddr *addr,
    const char *password)
{
	struct bgp_listener *l;
	char buf[IPADDR_STRLEN];

	TAILQ_FOREACH(l, &bgp->listeners, entry)
		if (l->af == addr->af &&
		    sock_set_md5(l->fd, addr, password) == -1 &&
		    (password || errno != ENOENT))
			log_err("cannot %s TCP MD5 key for %s: %s",
			    password ? "set" : "remove",
			    ipaddr_fmt(addr, buf, sizeof(buf)),
			    strerror(errno));
}

const struct bgp_fsm_ops bgp_session_ops = {
	.now = session_now,
	.random = session_random,
	.connect = session_connect,
	.send = session_send,
	.close = session_close,
	.timer_set = session_timer_set,
	.timer_stop = session_timer_stop,
	.peer_release = session_peer_release,
	.listen = session_listen,
	.unlisten = session_unlisten,
	.md5_set = session_md5_set,
	.pending = session_pending,
	.send_stalled = session_send_stalled,
	.release = session_release,
};
