/*
 * The netlink context: sockets, the batched request queue, ack
 * matching, the event socket and the synchronous exchange used for
 * devices and dumps.  See nl.h for the design.
 *
 * Framing of everything the kernel sends (a datagram holding several
 * netlink messages) goes through struct rbuf; attributes inside one
 * message are parsed with libnl's nlmsg_parse(), which checks every
 * attribute's length against the message.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>

#include "common/log.h"
#include "common/util.h"
#include "netlink/nl_int.h"

#define NL_RECV_BUF	(64 * 1024)
#define NL_SYNC_TIMEOUT_MS 5000

static void	nl_send_batch(struct nl_ctx *);

/*
 * Walk the netlink messages of one datagram.  fn gets each complete
 * message; a truncated or malformed one ends the walk.
 */
void
nl_walk(const uint8_t *data, size_t len,
    void (*fn)(void *, const struct nlmsghdr *), void *arg)
{
	struct rbuf	 rb;
	struct nlmsghdr	 hdr;
	const uint8_t	*start;
	size_t		 pad;

	rbuf_init(&rb, data, len);
	while (rbuf_left(&rb) >= sizeof(hdr)) {
		start = rbuf_ptr(&rb);
		if (rbuf_get_bytes(&rb, &hdr, sizeof(hdr)) == -1 ||
		    hdr.nlmsg_len < sizeof(hdr) ||
		    rbuf_skip(&rb, hdr.nlmsg_len - sizeof(hdr)) == -1)
			return;
		fn(arg, (const struct nlmsghdr *)(const void *)start);
		pad = NLMSG_ALIGN(hdr.nlmsg_len) - hdr.nlmsg_len;
		if (rbuf_left(&rb) < pad)
			return;
		rbuf_skip(&rb, pad);
	}
}

/* The error code of an NLMSG_ERROR message (0 = ack), 1 if malformed. */
int
nl_ack_error(const struct nlmsghdr *h)
{
	struct rbuf	 rb;
	int32_t		 error;

	rbuf_init(&rb, NLMSG_DATA(h), h->nlmsg_len - NLMSG_HDRLEN);
	if (h->nlmsg_len < NLMSG_HDRLEN ||
	    rbuf_get_bytes(&rb, &error, sizeof(error)) == -1)
		return 1;
	return error;
}

/* ---- request queue ------------------------------------------------ */

static void
nl_qdesc_push(struct nl_ctx *nl, const char *desc, bool absent_ok)
{
	if (nl->qdesc_tail == nl->qdesc_cap) {
		if (nl->qdesc_head > 0) {
			memmove(nl->qdesc, nl->qdesc + nl->qdesc_head,
			    (nl->qdesc_tail - nl->qdesc_head) *
			    sizeof(*nl->qdesc));
			nl->qdesc_tail -= nl->qdesc_head;
			nl->qdesc_head = 0;
		}
		if (nl->qdesc_tail == nl->qdesc_cap) {
			nl->qdesc_cap = nl->qdesc_cap ? nl->qdesc_cap * 2 : 256;
			nl->qdesc = xrealloc(nl->qdesc,
			    nl->qdesc_cap * sizeof(*nl->qdesc));
		}
	}
	strlcpy_s(nl->qdesc[nl->qdesc_tail].desc, desc, NL_DESC_LEN);
	nl->qdesc[nl->qdesc_tail++].absent_ok = absent_ok;
}

static void
nl_enqueue_req(struct nl_ctx *nl, struct nl_msg *msg, const char *desc,
    bool absent_ok)
{
	struct nlmsghdr	*h = nlmsg_hdr(msg);

	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	wbuf_put_bytes(&nl->queue, h, h->nlmsg_len);
	wbuf_put_zero(&nl->queue, NLMSG_ALIGN(h->nlmsg_len) - h->nlmsg_len);
	if (nl->queue.error)
		fatalx("netlink: request queue out of memory");
	nlmsg_free(msg);
	nl_qdesc_push(nl, desc, absent_ok);
	nl->ctr.pending++;
	if (nl->ev_flush != NULL)
		event_active(nl->ev_flush, EV_TIMEOUT, 1);
	/* A full batch goes now, so a long burst does not pile up. */
	if (nl->queue.len - nl->queue_head >= 4 * NL_BATCH_BYTES)
		nl_send_batch(nl);
}

void
nl_enqueue(struct nl_ctx *nl, struct nl_msg *msg, const char *desc)
{
	nl_enqueue_req(nl, msg, desc, false);
}

void
nl_enqueue_delete(struct nl_ctx *nl, struct nl_msg *msg, const char *desc)
{
	nl_enqueue_req(nl, msg, desc, true);
}

/* Drop the sent prefix of the queue once it is empty or large. */
static void
nl_queue_compact(struct nl_ctx *nl)
{
	size_t	 left = nl->queue.len - nl->queue_head;

	if (left == 0) {
		wbuf_reset(&nl->queue);
		nl->queue_head = 0;
		nl->qdesc_head = nl->qdesc_tail = 0;
	} else if (nl->queue_head > 4 * NL_BATCH_BYTES) {
		memmove(nl->queue.data, nl->queue.data + nl->queue_head, left);
		wbuf_truncate(&nl->queue, left);
		nl->queue_head = 0;
	}
}

/*
 * Write one sendmsg() worth of queued requests, numbering them as they
 * go and remembering their descriptions until the ack comes.
 */
static int
nl_send_one_batch(struct nl_ctx *nl)
{
	size_t		 off = nl->queue_head, n = 0, slot;
	struct nlmsghdr	*h;
	ssize_t		 w;

	while (off < nl->queue.len && nl->if_count + n < NL_MAX_INFLIGHT) {
		h = (struct nlmsghdr *)(void *)(nl->queue.data + off);
		if (off + NLMSG_ALIGN(h->nlmsg_len) - nl->queue_head >
		    NL_BATCH_BYTES && n > 0)
			break;
		h->nlmsg_seq = ++nl->req_seq;
		h->nlmsg_pid = nl_socket_get_local_port(nl->req_sk);
		off += NLMSG_ALIGN(h->nlmsg_len);
		n++;
	}
	if (n == 0)
		return 0;
	w = send(nl_socket_get_fd(nl->req_sk), nl->queue.data + nl->queue_head,
	    off - nl->queue_head, 0);
	if (w == -1) {
		/* Not sent: the numbers given above are simply reused. */
		nl->req_seq -= (uint32_t)n;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
			log_warn("netlink: send: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		slot = (nl->if_head + nl->if_count) % NL_MAX_INFLIGHT;
		nl->inflight[slot].seq = nl->req_seq - (uint32_t)(n - 1 - i);
		nl->inflight[slot].q = nl->qdesc[nl->qdesc_head++];
		nl->if_count++;
	}
	nl->ctr.sent += n;
	nl->queue_head = off;
	nl_queue_compact(nl);
	return 1;
}

static void
nl_send_batch(struct nl_ctx *nl)
{
	int	 rc;

	while ((rc = nl_send_one_batch(nl)) == 1)
		;
	/* The socket is full: write again once it drains. */
	if (rc == -1 && nl->ev_req_write != NULL)
		event_add(nl->ev_req_write, NULL);
}

void
nl_flush(struct nl_ctx *nl)
{
	nl_send_batch(nl);
}

/* ---- acks --------------------------------------------------------- */

static void
nl_ack_one(void *arg, const struct nlmsghdr *h)
{
	struct nl_ctx		*nl = arg;
	struct nl_inflight	*f;
	int			 error;

	if (h->nlmsg_type != NLMSG_ERROR)
		return;
	error = nl_ack_error(h);
	/* Acks come in order; one that skips requests means those were
	 * lost (the kernel answers every NLM_F_ACK request, so this is a
	 * broken invariant only in theory: count them as failed). */
	while (nl->if_count > 0) {
		f = &nl->inflight[nl->if_head];
		nl->if_head = (nl->if_head + 1) % NL_MAX_INFLIGHT;
		nl->if_count--;
		nl->ctr.pending--;
		if (f->seq == h->nlmsg_seq) {
			if (error == 0 || (f->q.absent_ok &&
			    (error == -ENOENT || error == -ESRCH))) {
				nl->ctr.acked++;
			} else {
				nl->ctr.failed++;
				log_warn("%s: %s", f->q.desc, error < 0 ?
				    strerror(-error) : "malformed ack");
			}
			return;
		}
		nl->ctr.failed++;
		log_warn("%s: no answer from the kernel", f->q.desc);
	}
}

static void
nl_read_acks(struct nl_ctx *nl)
{
	uint8_t	 buf[NL_RECV_BUF];
	ssize_t	 r;

	for (;;) {
		r = recv(nl_socket_get_fd(nl->req_sk), buf, sizeof(buf),
		    MSG_DONTWAIT);
		if (r <= 0) {
			if (r == -1 && errno != EAGAIN && errno != EINTR)
				log_warn("netlink: recv acks: %s",
				    strerror(errno));
			return;
		}
		nl_walk(buf, (size_t)r, nl_ack_one, nl);
	}
}

static void
nl_req_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct nl_ctx	*nl = arg;

	nl_read_acks(nl);
	/* Room in the in-flight window: send what waited for it. */
	if (nl->queue.len > nl->queue_head)
		nl_send_batch(nl);
}

static void
nl_req_write_cb(evutil_socket_t fd, short what, void *arg)
{
	nl_send_batch(arg);
}

static void
nl_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	nl_send_batch(arg);
}

int
nl_wait_idle(struct nl_ctx *nl, int timeout_ms)
{
	uint64_t	 deadline = mono_msec() + (uint64_t)timeout_ms;
	struct pollfd	 pfd;
	uint64_t	 now;

	while (nl->ctr.pending > 0) {
		nl_send_batch(nl);
		now = mono_msec();
		if (now >= deadline)
			return -1;
		pfd.fd = nl_socket_get_fd(nl->req_sk);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(deadline - now)) > 0)
			nl_read_acks(nl);
	}
	return 0;
}

/* ---- events ------------------------------------------------------- */

static void
nl_event_one(void *arg, const struct nlmsghdr *h)
{
	struct nl_ctx	*nl = arg;
	struct nl_fdb	 fdb;
	struct nl_neigh	 neigh;
	struct nl_link	 link;
	struct nl_route	 route;
	bool		 added;

	switch (h->nlmsg_type) {
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		added = h->nlmsg_type == RTM_NEWNEIGH;
		if (nl_parse_fdb(h, &fdb) == 0) {
			if (nl->cb.fdb != NULL)
				nl->cb.fdb(nl->cb.arg, added, &fdb);
		} else if (nl_parse_neigh(h, &neigh) == 0) {
			if (nl->cb.neigh != NULL)
				nl->cb.neigh(nl->cb.arg, added, &neigh);
		}
		break;
	case RTM_NEWLINK:
	case RTM_DELLINK:
		if (nl_parse_link(h, &link) == 0 && nl->cb.link != NULL)
			nl->cb.link(nl->cb.arg, h->nlmsg_type == RTM_NEWLINK,
			    &link);
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		if (nl_parse_route(h, &route) == 0 && nl->cb.route != NULL)
			nl->cb.route(nl->cb.arg, h->nlmsg_type == RTM_NEWROUTE,
			    &route);
		break;
	}
}

static void
nl_read_events(struct nl_ctx *nl)
{
	uint8_t	*buf = xmalloc(NL_RECV_BUF);
	bool	 overrun = false;
	ssize_t	 r;

	for (;;) {
		r = recv(nl_socket_get_fd(nl->evt_sk), buf, NL_RECV_BUF,
		    MSG_DONTWAIT);
		if (r == -1 && errno == ENOBUFS) {
			overrun = true;
			continue;
		}
		if (r <= 0)
			break;
		nl_walk(buf, (size_t)r, nl_event_one, nl);
	}
	free(buf);
	/* Told once the socket is drained, so the resync's dump sees the
	 * state after everything we did read. */
	if (overrun) {
		nl->ctr.overruns++;
		log_warn("netlink: event socket overrun, resynchronising");
		if (nl->cb.overrun != NULL)
			nl->cb.overrun(nl->cb.arg);
	}
}

static void
nl_evt_read_cb(evutil_socket_t fd, short what, void *arg)
{
	nl_read_events(arg);
}

void
nl_events_poll(struct nl_ctx *nl, int timeout_ms)
{
	struct pollfd	 pfd = { nl_socket_get_fd(nl->evt_sk), POLLIN, 0 };

	if (poll(&pfd, 1, timeout_ms) > 0)
		nl_read_events(nl);
}

int
nl_events_routes(struct nl_ctx *nl)
{
	if (nl->route_events)
		return 0;
	if (nl_socket_add_memberships(nl->evt_sk, RTNLGRP_IPV4_ROUTE,
	    RTNLGRP_IPV6_ROUTE, 0) < 0)
		return -1;
	nl->route_events = true;
	return 0;
}

int
nl_events_set_rcvbuf(struct nl_ctx *nl, int bytes)
{
	return setsockopt(nl_socket_get_fd(nl->evt_sk), SOL_SOCKET,
	    SO_RCVBUFFORCE, &bytes, sizeof(bytes));
}

/* ---- synchronous exchange ------------------------------------------ */

struct nl_sync_state {
	uint32_t	 seq;
	nl_msg_fn	*fn;
	void		*arg;
	bool		 done;
	int		 error;
};

static void
nl_sync_one(void *arg, const struct nlmsghdr *h)
{
	struct nl_sync_state	*st = arg;

	if (h->nlmsg_seq != st->seq || st->done)
		return;
	if (h->nlmsg_type == NLMSG_DONE) {
		st->done = true;
	} else if (h->nlmsg_type == NLMSG_ERROR) {
		st->error = nl_ack_error(h);
		st->done = true;
	} else if (st->fn != NULL) {
		st->fn(st->arg, h);
	}
}

int
nl_sync(struct nl_ctx *nl, struct nl_msg *msg, nl_msg_fn *fn, void *arg,
    char *err, size_t errlen)
{
	struct nl_sync_state	 st = { .fn = fn, .arg = arg };
	struct nlmsghdr		*h = nlmsg_hdr(msg);
	int			 fd = nl_socket_get_fd(nl->sync_sk);
	uint8_t			*buf;
	struct pollfd		 pfd = { fd, POLLIN, 0 };
	ssize_t			 r;

	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = st.seq = ++nl->sync_seq;
	nl->ctr.sync++;
	h->nlmsg_pid = nl_socket_get_local_port(nl->sync_sk);
	r = send(fd, h, h->nlmsg_len, 0);
	nlmsg_free(msg);
	if (r == -1) {
		snprintf(err, errlen, "netlink send: %s", strerror(errno));
		return -1;
	}
	buf = xmalloc(NL_RECV_BUF * 4);
	while (!st.done) {
		if (poll(&pfd, 1, NL_SYNC_TIMEOUT_MS) <= 0) {
			st.error = -ETIMEDOUT;
			break;
		}
		r = recv(fd, buf, NL_RECV_BUF * 4, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			st.error = r == -1 ? -errno : -EPIPE;
			break;
		}
		nl_walk(buf, (size_t)r, nl_sync_one, &st);
	}
	free(buf);
	if (st.error != 0) {
		snprintf(err, errlen, "%s", st.error < 0 ?
		    strerror(-st.error) : "malformed answer");
		return -1;
	}
	return 0;
}

int
nl_sync_dump(struct nl_ctx *nl, int type, const void *hdr, size_t hdrlen,
    nl_msg_fn *fn, void *arg, const char *what)
{
	struct nl_msg	*msg;
	char		 err[128];

	if ((msg = nlmsg_alloc_simple(type, NLM_F_DUMP)) == NULL ||
	    nlmsg_append(msg, (void *)hdr, hdrlen, NLMSG_ALIGNTO) < 0)
		fatalx("netlink: cannot build a dump request");
	if (nl_sync(nl, msg, fn, arg, err, sizeof(err)) == -1) {
		log_warn("netlink: %s dump: %s", what, err);
		return -1;
	}
	return 0;
}

/* ---- context ------------------------------------------------------- */

static struct nl_sock *
nl_open(bool nonblock, int rcvbuf, char *err, size_t errlen)
{
	struct nl_sock	*sk;
	int		 one = 1;

	if ((sk = nl_socket_alloc()) == NULL ||
	    nl_connect(sk, NETLINK_ROUTE) < 0) {
		snprintf(err, errlen, "cannot open a netlink socket");
		if (sk != NULL)
			nl_socket_free(sk);
		return NULL;
	}
	if (nonblock)
		nl_socket_set_nonblocking(sk);
	/* Acks without the request echoed back: they stay 36 bytes. */
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one,
	    sizeof(one));
	if (rcvbuf > 0 && setsockopt(nl_socket_get_fd(sk), SOL_SOCKET,
	    SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) == -1)
		setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVBUF,
		    &rcvbuf, sizeof(rcvbuf));
	return sk;
}

static int
nl_setup_events(struct nl_ctx *nl, char *err, size_t errlen)
{
	if (nl_socket_add_memberships(nl->evt_sk, RTNLGRP_LINK,
	    RTNLGRP_NEIGH, 0) < 0) {
		snprintf(err, errlen, "cannot join RTNLGRP_LINK/NEIGH");
		return -1;
	}
	if (nl->base == NULL)
		return 0;
	nl->ev_req_read = event_new(nl->base, nl_socket_get_fd(nl->req_sk),
	    EV_READ | EV_PERSIST, nl_req_read_cb, nl);
	nl->ev_req_write = event_new(nl->base, nl_socket_get_fd(nl->req_sk),
	    EV_WRITE, nl_req_write_cb, nl);
	nl->ev_flush = event_new(nl->base, -1, 0, nl_flush_cb, nl);
	nl->ev_evt_read = event_new(nl->base, nl_socket_get_fd(nl->evt_sk),
	    EV_READ | EV_PERSIST, nl_evt_read_cb, nl);
	if (nl->ev_req_read == NULL || nl->ev_req_write == NULL ||
	    nl->ev_flush == NULL || nl->ev_evt_read == NULL ||
	    nl_dump_setup(nl) == -1 ||
	    event_add(nl->ev_req_read, NULL) == -1 ||
	    event_add(nl->ev_evt_read, NULL) == -1) {
		snprintf(err, errlen, "cannot register netlink events");
		return -1;
	}
	return 0;
}

struct nl_ctx *
nl_create(struct event_base *base, const struct nl_callbacks *cb, char *err,
    size_t errlen)
{
	struct nl_ctx	*nl = xcalloc(1, sizeof(*nl));

	nl->base = base;
	if (cb != NULL)
		nl->cb = *cb;
	wbuf_init(&nl->queue, 0);
	if ((nl->req_sk = nl_open(true, 4 * 1024 * 1024, err,
	    errlen)) == NULL ||
	    (nl->evt_sk = nl_open(true, NL_EVENT_RCVBUF, err,
	    errlen)) == NULL ||
	    (nl->sync_sk = nl_open(false, 4 * 1024 * 1024, err,
	    errlen)) == NULL ||
	    (nl->dump_sk = nl_open(true, 1024 * 1024, err, errlen)) == NULL ||
	    nl_setup_events(nl, err, errlen) == -1) {
		nl_free(nl);
		return NULL;
	}
	/* Only the send side: a plain SO_RCVBUF here would shrink the
	 * forced receive buffer nl_open() gave to the acks (to rmem_max). */
	{
		int sndbuf = 1024 * 1024;

		if (setsockopt(nl_socket_get_fd(nl->req_sk), SOL_SOCKET,
		    SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) == -1)
			(void)setsockopt(nl_socket_get_fd(nl->req_sk),
			    SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	}
	nl->vrf_supported = nl_probe_vrf(nl);
	log_info("netlink: %s", nl->vrf_supported ?
	    "VRF devices supported" :
	    "no VRF devices in this kernel, using tables and ip rules");
	return nl;
}

void
nl_free(struct nl_ctx *nl)
{
	struct event	*evs[5];

	if (nl == NULL)
		return;
	evs[0] = nl->ev_req_read;
	evs[1] = nl->ev_req_write;
	evs[2] = nl->ev_flush;
	evs[3] = nl->ev_evt_read;
	evs[4] = nl->ev_dump_read;
	for (size_t i = 0; i < nitems(evs); i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
	if (nl->req_sk != NULL)
		nl_socket_free(nl->req_sk);
	if (nl->evt_sk != NULL)
		nl_socket_free(nl->evt_sk);
	if (nl->sync_sk != NULL)
		nl_socket_free(nl->sync_sk);
	if (nl->dump_sk != NULL)
		nl_socket_free(nl->dump_sk);
	wbuf_free(&nl->queue);
	free(nl->qdesc);
	free(nl);
}

void
nl_get_counters(const struct nl_ctx *nl, struct nl_counters *c)
{
	*c = nl->ctr;
}

void
nl_count_resync(struct nl_ctx *nl)
{
	nl->ctr.resyncs++;
}
