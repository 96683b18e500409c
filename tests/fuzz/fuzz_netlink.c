/*
 * libFuzzer target: rtnetlink messages as the kernel would send them on
 * the event socket or in a dump, through the parsers netlink/ shares
 * between both (nl_parse_fdb, nl_parse_neigh, nl_parse_link,
 * nl_parse_route).
 *
 * How this works: the input is one or more netlink messages back to
 * back.  They are walked with NLMSG_OK/NLMSG_NEXT as the socket reader
 * does, so nlmsg_len never claims more than the input holds; each
 * message is copied into a buffer of exactly nlmsg_len bytes (4-byte
 * aligned, as the kernel's are) so that a parser reading past the
 * message is caught by the sanitizer, and is then handed to every
 * parser, whatever its type: each must refuse what is not its own.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>

#include "netlink/nl_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
parse_one(const struct nlmsghdr *h)
{
	struct nl_fdb	 fdb;
	struct nl_neigh	 neigh;
	struct nl_link	 link;
	struct nl_route	 route;

	(void)nl_parse_fdb(h, &fdb);
	(void)nl_parse_neigh(h, &neigh);
	(void)nl_parse_link(h, &link);
	(void)nl_parse_route(h, &route);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nlmsghdr	*all, *h, *copy;
	int		 left;

	if (size > 1 << 16)
		return 0;
	/* malloc() aligns for any type: the walk reads aligned headers. */
	if ((all = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(all, data, size);
	left = (int)size;
	for (h = all; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
		if ((copy = malloc(h->nlmsg_len)) == NULL)
			break;
		memcpy(copy, h, h->nlmsg_len);
		parse_one(copy);
		free(copy);
	}
	free(all);
	return 0;
}
