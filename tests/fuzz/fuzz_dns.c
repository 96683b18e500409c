/*
 * libFuzzer target for the DNS client's answer checker (dns/dns.h):
 * whatever comes back on the update's socket goes through libldns's
 * parser and dns_update_answer().  Besides memory safety it checks what
 * the checker promises: one of its answers, and a reason whenever it is
 * not "done" or "not ours" (the ID did not match).  The request it
 * answers is built once with a fixed ID (0x4d2) and key, as the seeds
 * were.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct dns_zone_conf zc = {
	.zone = "train.example.net", .tsig_alg = "hmac-sha256",
	.tsig_name = "evpnd-key",
	.tsig_secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==", .ttl = 60,
};

static struct dns_update *
request(void)
{
	static struct dns_update *u;
	struct dns_update_spec s = { .zone = "train.example.net",
	    .owner = "w.train.example.net", .add = true, .ttl = 60 };
	char why[DNS_REASON_MAX];
	uint8_t *wire;
	size_t len;

	if (u != NULL)
		return u;
	s.v4.af = AF_INET;
	s.v4.u.b[0] = 10;
	s.v4.u.b[3] = 5;
	if (dns_update_build(&s, &zc, 0x4d2, &u, &wire, &len, why,
	    sizeof(why)) == -1)
		abort();
	free(wire);
	return u;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char why[DNS_REASON_MAX];
	enum dns_answer rv;

	why[0] = '\0';
	rv = dns_update_answer(request(), &zc, data, len, why, sizeof(why));
	switch (rv) {
	case DNS_ANSWER_OTHER:
	case DNS_ANSWER_DONE:
		break;
	case DNS_ANSWER_REFUSED:
	case DNS_ANSWER_KEY_REJECTED:
	case DNS_ANSWER_UNVERIFIED:
		if (why[0] == '\0')
			abort();	/* a refusal must say why */
		break;
	default:
		abort();
	}
	return 0;
}
