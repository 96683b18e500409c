/*
 * The JSON bodies the API takes, decoded without evhttp, so the fuzz
 * target (tests/fuzz/fuzz_api.c) runs the very code the handlers run.
 *
 * How this works: each parser takes the raw body (any bytes, not
 * NUL-terminated), refuses it over API_IPAM_MAX_BODY, decodes it with
 * jansson (duplicate keys refused) and checks every field; it returns
 * 0, or the HTTP status to answer (400) with the message in msg, which
 * quotes request bytes only in printable ASCII.  Dependencies: common/
 * and ipam/'s public types and label checks (ipam/labels.c) only.
 */
#ifndef API_API_BODY_H
#define API_API_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/addr.h"
#include "ipam/ipam.h"

#define API_IPAM_MAX_BODY	4096	/* an allocation request, as JSON */
#define API_INTENT_MAX_COUNT	1000000
#define API_INTENT_MAX_HORIZON	86400	/* seconds */

/*
 * POST /v1/ipam/pools/NAME/allocations: {"resource", "family", "mac",
 * "ip", "ipv6", "labels": {K: V}}.  "ip" may be of either family and
 * "ipv6" only IPv6; without "family" the family follows the addresses
 * asked (both: dual).
 */
struct api_alloc_body {
	char		 resource[IPAM_RESOURCE_MAX + 1];
	enum ipam_family family;	/* default ipv4 */
	bool		 has_mac;
	struct macaddr	 mac;
	struct ipaddr	 ip, ipv6;	/* asked; af 0 when not */
	char		 labels[IPAM_LABELS_TEXT_MAX + 1];	/* canonical,
							 * "" for none */
};

int	 api_body_allocation(const char *body, size_t len,
	    struct api_alloc_body *, char *msg, size_t msglen);
/* The ipam request it asks for (resource, mac and labels point into
 * b). */
void	 api_body_request(const struct api_alloc_body *b,
	    struct ipam_request *);

/* POST /v1/ipam/pools/NAME/intent: {"count": N, "horizon": S}; horizon
 * keeps its value when absent. */
/* Any body: a JSON object (the caller decrefs it), or NULL with a 400's
 * message in msg. */
json_t	*api_body_object(const char *body, size_t len, char *msg,
	    size_t msglen);

int	 api_body_intent(const char *body, size_t len, uint32_t *count,
	    uint32_t *horizon, char *msg, size_t msglen);

/* Resource ids a client may name: printable ASCII, no space, not the
 * shadow inventory's own (SHADOWD_PREFIX). */
bool	 api_resource_ok(const char *);

#endif
