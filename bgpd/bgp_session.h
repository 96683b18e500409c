/*
 * The libevent 2.1 transport of the BGP FSM: bgp_session_ops binds the
 * FSM's struct bgp_fsm_ops to non-blocking sockets, evbuffers and
 * evtimers on the instance's event base.
 *
 * How this works: each TCP connection has a private io record (fd,
 * read/write events, input/output evbuffers).  Reads are framed by the
 * 19-byte header (bgp_hdr_parse with the negotiated maximum length) and
 * handed to the FSM one whole message at a time; sends append to the
 * output buffer, flushed when the socket is writable.  Connects are
 * non-blocking (EINPROGRESS, then the write event and SO_ERROR).
 * Listeners accept only configured peer addresses.  TCP MD5 (RFC 2385)
 * keys go on the listeners (one per peer address) and on each
 * connecting socket before connect().  Nothing here blocks.
 */
#ifndef BGPD_BGP_SESSION_H
#define BGPD_BGP_SESSION_H

#include "bgpd/bgp_fsm.h"

extern const struct bgp_fsm_ops bgp_session_ops;

#endif
