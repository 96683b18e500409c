/*
 * The notify protocol of common/notify.h: one datagram to
 * $NOTIFY_SOCKET per message.
 */
#include "common/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* $NOTIFY_SOCKET as an address; "@name" is abstract (leading NUL). */
static int
notify_addr(const char *name, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = strlen(name);

	if ((name[0] != '/' && name[0] != '@') || n < 2 ||
	    n > sizeof(sun->sun_path) - 1) {
		errno = EINVAL;
		return -1;
	}
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, name, n);
	if (name[0] == '@')
		sun->sun_path[0] = '\0';
	/* An abstract name is exactly its bytes, no terminating NUL. */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	return 0;
}

int
service_notify(const char *state)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	ssize_t sent;
	int fd, saved;

	if (name == NULL || name[0] == '\0')
		return 0;
	if (notify_addr(name, &sun, &len) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	saved = errno;
	close(fd);
	if (sent == (ssize_t)strlen(state))
		return 0;
	errno = sent == -1 ? saved : EMSGSIZE;
	return -1;
}
