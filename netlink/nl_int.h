/*
 * netlink/ internals shared by its files: the context, the request
 * queue and the message parsers.  Nothing outside netlink/ includes it.
 */
#ifndef NETLINK_NL_INT_H
#define NETLINK_NL_INT_H

#include <linux/netlink.h>

#include <event2/event.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

#include "common/buf.h"
#include "netlink/nl.h"

#define NL_DESC_LEN	112

/* A queued request's description, and whether "No such file or
 * directory" (or "No such process", a route's) means it is already done
 * (a delete of what is gone). */
struct nl_qdesc {
	char		 desc[NL_DESC_LEN];
	bool		 absent_ok;
};

struct nl_inflight {
	uint32_t	 seq;
	struct nl_qdesc	 q;
};

/* The dump being read on the loop (nl_dump.c). */
struct nl_adump {
	bool			 running;
	bool			 ended;		/* DONE or an error read */
	int			 result;	/* 0 or -errno */
	enum nl_dump_kind	 kind;
	uint32_t		 seq;
	struct nl_dump_cbs	 cbs;
};

struct nl_ctx {
	struct event_base	*base;
	struct nl_callbacks	 cb;

	struct nl_sock		*req_sk;	/* non-blocking, batched */
	struct nl_sock		*evt_sk;	/* RTNLGRP_LINK, RTNLGRP_NEIGH */
	struct nl_sock		*sync_sk;	/* blocking: devices, dumps */
	struct nl_sock		*dump_sk;	/* dumps read on the loop */
	struct event		*ev_dump_read;
	uint32_t		 dump_seq;
	struct nl_adump		 adump;
	struct event		*ev_req_read;
	struct event		*ev_req_write;
	struct event		*ev_flush;	/* next loop turn */
	struct event		*ev_evt_read;
	uint32_t		 req_seq;
	uint32_t		 sync_seq;

	/* Queued requests: raw messages back to back, a description each. */
	struct wbuf		 queue;
	size_t			 queue_head;	/* bytes already sent */
	struct nl_qdesc		*qdesc;
	size_t			 qdesc_cap, qdesc_head, qdesc_tail;

	/* Sent, awaiting their ack, oldest first (a ring). */
	struct nl_inflight	 inflight[NL_MAX_INFLIGHT];
	size_t			 if_head, if_count;

	struct nl_counters	 ctr;
	bool			 vrf_supported;
	bool			 route_events;
};

/* nl.c */
/* Each complete netlink message of one datagram to fn. */
void	nl_walk(const uint8_t *, size_t,
	    void (*fn)(void *, const struct nlmsghdr *), void *arg);
/* The error of an NLMSG_ERROR message (0 = ack), 1 if malformed. */
int	nl_ack_error(const struct nlmsghdr *);
/* Queue msg (consumed) with a description for the log. */
void	nl_enqueue(struct nl_ctx *, struct nl_msg *, const char *desc);
/* The same for a delete: ENOENT counts as success (already gone). */
void	nl_enqueue_delete(struct nl_ctx *, struct nl_msg *, const char *desc);
/* Send msg (consumed) on the sync socket and wait for its ack; a dump
 * when fn is set (each answer is given to fn).  0, or -1 with err. */
typedef void	 nl_msg_fn(void *arg, const struct nlmsghdr *);
int	nl_sync(struct nl_ctx *, struct nl_msg *, nl_msg_fn *fn, void *arg,
	    char *err, size_t errlen);
/* A dump of type with header hdr on the sync socket; a failure is
 * logged naming what.  0 or -1. */
int	nl_sync_dump(struct nl_ctx *, int type, const void *hdr,
	    size_t hdrlen, nl_msg_fn *fn, void *arg, const char *what);

/* Parsers: 0 when hdr holds that kind of object, -1 otherwise. */
int	nl_parse_fdb(const struct nlmsghdr *, struct nl_fdb *);
int	nl_parse_neigh(const struct nlmsghdr *, struct nl_neigh *);
int	nl_parse_link(const struct nlmsghdr *, struct nl_link *);
int	nl_parse_route(const struct nlmsghdr *, struct nl_route *);

/* nl_link.c */
bool	nl_probe_vrf(struct nl_ctx *);

/* nl_dump.c: the loop's read event of the dump socket. */
int	nl_dump_setup(struct nl_ctx *);

#endif
