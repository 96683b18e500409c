/*
 * Readiness and status for a service manager (systemd's sd_notify(3)
 * protocol) without libsystemd.
 *
 * How this works: the manager puts the address of an AF_UNIX datagram
 * socket in $NOTIFY_SOCKET, a path or, when it starts with '@', a name
 * in the abstract namespace.  A message is one datagram of
 * newline-separated VAR=value lines: "READY=1" once the service serves,
 * "RELOADING=1" while it re-reads its configuration (then "READY=1"
 * again), "STOPPING=1" when it begins to shut down.  Without the
 * variable nobody listens and nothing is sent.
 */
#ifndef COMMON_NOTIFY_H
#define COMMON_NOTIFY_H

/* Sends state; 0 when sent or when no manager asked, -1 + errno. */
int	service_notify(const char *state);

#endif
