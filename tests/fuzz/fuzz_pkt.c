/*
 * libFuzzer target for the sampled-frame decoder (telemetry/pkt.c).
 * The input is one Ethernet frame; the decoder must not read past it
 * and must report the frame's length and a known kind.
 */
#include <stdint.h>
#include <stdlib.h>

#include "telemetry/telemetry.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct pkt_sample	 s;

	if (pkt_decode(data, len, &s) == 0) {
		CHECK(s.length == len);
		CHECK(s.kind >= PKT_OTHER && s.kind <= PKT_IPV6);
		CHECK(s.vlan < 4096);
	}
	return 0;
}
