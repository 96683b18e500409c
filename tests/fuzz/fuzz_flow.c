/*
 * libFuzzer target for the IPFIX / NetFlow v9 decoder (telemetry/).
 *
 * How this works: the input is one datagram as an exporter would send
 * it.  It is decoded twice with the same decoder, so templates the
 * first pass learned are used on the second (data sets of the same
 * message that came before their template); every record delivered
 * must carry the message's version, addresses must be of a known
 * family, and a sampling rate taken from options data must be within
 * FLOW_MAX_SAMPLING.  Any broken promise is an abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "telemetry/telemetry.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

static void
record_cb(void *arg, const struct flow_record *r)
{
	CHECK(r->version == 9 || r->version == 10);
	CHECK(r->src.af == 0 || r->src.af == AF_INET || r->src.af == AF_INET6);
	CHECK(r->dst.af == 0 || r->dst.af == AF_INET || r->dst.af == AF_INET6);
	CHECK(r->sampling <= FLOW_MAX_SAMPLING);
	(*(size_t *)arg)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct flow_decoder	*fd = flow_decoder_new();
	struct flow_stats	 st;
	struct ipaddr		 exporter = { .af = AF_INET };
	size_t			 n = 0;
	char			 err[128];

	for (int pass = 0; pass < 2; pass++)
		(void)flow_decode(fd, &exporter, data, len, record_cb, &n, err,
		    sizeof(err));
	flow_decoder_stats(fd, &st);
	CHECK(st.records == n);
	CHECK(st.messages + st.malformed == 2);
	CHECK(st.sampling_rates <= st.options_records);
	flow_decoder_free(fd);
	return 0;
}
