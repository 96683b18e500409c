/*
 * Dumps read on the event loop, a few datagrams per turn.
 *
 * A dump on the blocking sync socket reads the whole table before the
 * caller goes on: with a hundred thousand FDB entries that stops the
 * loop (and BGP keepalives) for as long as the kernel takes to send
 * them.  Here the request goes out on a socket of its own and its
 * answers are read when the socket is readable, NL_DUMP_SLICE
 * datagrams per loop turn; the kernel produces the next part of a dump
 * only as the reader drains the socket, so nothing piles up.  Each
 * entry goes to the caller's callback, then done() once with the
 * outcome.  One dump at a time.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "common/log.h"
#include "common/util.h"
#include "netlink/nl_int.h"

#define NL_DUMP_RECV_BUF	(64 * 1024)

static void
nl_dump_finish(struct nl_ctx *nl, int error)
{
	struct nl_dump_cbs	 cbs = nl->adump.cbs;

	nl->adump.running = false;
	if (nl->ev_dump_read != NULL)
		event_del(nl->ev_dump_read);
	if (cbs.done != NULL)
		cbs.done(cbs.arg, error);
}

static void
nl_dump_one(void *arg, const struct nlmsghdr *h)
{
	struct nl_ctx		*nl = arg;
	struct nl_adump		*d = &nl->adump;
	struct nl_fdb		 f;
	struct nl_neigh		 n;
	struct nl_route		 r;

	if (!d->running || h->nlmsg_seq != d->seq)
		return;
	if (h->nlmsg_type == NLMSG_DONE) {
		d->ended = true;
		return;
	}
	if (h->nlmsg_type == NLMSG_ERROR) {
		d->result = nl_ack_error(h) < 0 ? nl_ack_error(h) : -EPROTO;
		d->ended = true;
		return;
	}
	switch (d->kind) {
	case NL_DUMP_FDB:
		if (d->cbs.fdb != NULL && nl_parse_fdb(h, &f) == 0)
			d->cbs.fdb(d->cbs.arg, &f);
		break;
	case NL_DUMP_NEIGH:
		if (d->cbs.neigh != NULL && nl_parse_neigh(h, &n) == 0)
			d->cbs.neigh(d->cbs.arg, &n);
		break;
	case NL_DUMP_ROUTE:
		if (d->cbs.route != NULL && nl_parse_route(h, &r) == 0)
			d->cbs.route(d->cbs.arg, &r);
		break;
	}
}

/* Read up to max datagrams; 1 when the dump ended (done() was called),
 * 0 when more is to come. */
static int
nl_dump_read(struct nl_ctx *nl, int max)
{
	uint8_t	*buf = xmalloc(NL_DUMP_RECV_BUF);
	ssize_t	 r;
	int	 error = 0;

	for (int i = 0; i < max && !nl->adump.ended; i++) {
		r = recv(nl_socket_get_fd(nl->dump_sk), buf, NL_DUMP_RECV_BUF,
		    MSG_DONTWAIT);
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		if (r <= 0) {
			/* ENOBUFS: the dump lost answers; say so. */
			error = r == -1 ? -errno : -EPIPE;
			break;
		}
		nl_walk(buf, (size_t)r, nl_dump_one, nl);
	}
	free(buf);
	if (error != 0) {
		nl->adump.ended = true;
		nl->adump.result = error;
	}
	if (!nl->adump.ended)
		return 0;
	nl_dump_finish(nl, nl->adump.result);
	return 1;
}

static void
nl_dump_read_cb(evutil_socket_t fd, short what, void *arg)
{
	nl_dump_read(arg, NL_DUMP_SLICE);
}

static struct nl_msg *
nl_dump_msg(enum nl_dump_kind kind)
{
	struct ndmsg	 ndm = { .ndm_family = kind == NL_DUMP_FDB ?
	    AF_BRIDGE : AF_UNSPEC };
	struct rtmsg	 rtm = { .rtm_family = AF_UNSPEC };
	struct nl_msg	*msg;
	int		 rc;

	if ((msg = nlmsg_alloc_simple(kind == NL_DUMP_ROUTE ? RTM_GETROUTE :
	    RTM_GETNEIGH, NLM_F_DUMP | NLM_F_REQUEST)) == NULL)
		fatalx("netlink: out of memory");
	rc = kind == NL_DUMP_ROUTE ?
	    nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) :
	    nlmsg_append(msg, &ndm, sizeof(ndm), NLMSG_ALIGNTO);
	if (rc < 0)
		fatalx("netlink: cannot build a dump request");
	return msg;
}

int
nl_dump_start(struct nl_ctx *nl, enum nl_dump_kind kind,
    const struct nl_dump_cbs *cbs)
{
	struct nl_msg	*msg;
	struct nlmsghdr	*h;
	struct pollfd	 pfd = { nl_socket_get_fd(nl->dump_sk), POLLIN, 0 };
	ssize_t		 w;

	if (nl->adump.running) {
		errno = EBUSY;
		return -1;
	}
	msg = nl_dump_msg(kind);
	h = nlmsg_hdr(msg);
	h->nlmsg_seq = ++nl->dump_seq;
	h->nlmsg_pid = nl_socket_get_local_port(nl->dump_sk);
	w = send(pfd.fd, h, h->nlmsg_len, 0);
	nlmsg_free(msg);
	if (w == -1)
		return -1;
	nl->ctr.dumps++;
	nl->adump = (struct nl_adump){ .running = true, .kind = kind,
	    .seq = nl->dump_seq, .cbs = *cbs };
	if (nl->ev_dump_read != NULL)
		return event_add(nl->ev_dump_read, NULL);
	/* No loop (tools, tests): read it all now. */
	while (poll(&pfd, 1, 5000) > 0)
		if (nl_dump_read(nl, 64) == 1)
			return 0;
	nl->adump.ended = true;
	nl->adump.result = -ETIMEDOUT;
	nl_dump_finish(nl, -ETIMEDOUT);
	return 0;
}

bool
nl_dump_running(const struct nl_ctx *nl)
{
	return nl->adump.running;
}

int
nl_dump_setup(struct nl_ctx *nl)
{
	if (nl->base == NULL)
		return 0;
	nl->ev_dump_read = event_new(nl->base, nl_socket_get_fd(nl->dump_sk),
	    EV_READ | EV_PERSIST, nl_dump_read_cb, nl);
	return nl->ev_dump_read != NULL ? 0 : -1;
}
