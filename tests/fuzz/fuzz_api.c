/*
 * libFuzzer target for the API's JSON request bodies (api/api_body.c):
 * the body of POST /v1/ipam/pools/NAME/allocations and of .../intent,
 * decoded by the code the handlers run.  Besides memory safety it
 * checks what the handlers rely on: an accepted allocation names a
 * resource a client may use, a family and a unicast MAC, asked
 * addresses of the families asked, labels in canonical text; an accepted
 * intent is within its bounds; a refusal is a 400 with a message that
 * is printable ASCII (it goes into a JSON string and a log line).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "api/api_body.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_refusal(int code, const char *msg)
{
	if (code != 400 || msg[0] == '\0')
		abort();
	for (const char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			abort();
}

static void
check_allocation(const uint8_t *data, size_t len)
{
	struct api_alloc_body b;
	struct ipam_request req;
	char msg[256];
	int code;

	code = api_body_allocation((const char *)data, len, &b, msg,
	    sizeof(msg));
	if (code != 0) {
		check_refusal(code, msg);
		return;
	}
	api_body_request(&b, &req);
	if (!api_resource_ok(req.resource) || (req.family !=
	    IPAM_FAMILY_IPV4 && req.family != IPAM_FAMILY_IPV6 &&
	    req.family != IPAM_FAMILY_DUAL) || req.preallocated)
		abort();
	if (req.mac != NULL && (mac_is_zero(req.mac) ||
	    (req.mac->b[0] & 0x01) != 0))
		abort();
	if ((req.ip.af != 0 && req.ip.af != AF_INET) ||
	    (req.ipv6.af != 0 && req.ipv6.af != AF_INET6))
		abort();
	if (req.labels != NULL && !ipam_labels_canonical(req.labels))
		abort();
}

static void
check_intent(const uint8_t *data, size_t len)
{
	uint32_t count = 7, horizon = 300;
	char msg[256];
	int code;

	code = api_body_intent((const char *)data, len, &count, &horizon, msg,
	    sizeof(msg));
	if (code != 0) {
		check_refusal(code, msg);
		return;
	}
	if (count > API_INTENT_MAX_COUNT || horizon > API_INTENT_MAX_HORIZON)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	check_allocation(data, len);
	check_intent(data, len);
	return 0;
}
