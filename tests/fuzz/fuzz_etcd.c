/*
 * libFuzzer target for the etcd gateway decoders and the watch stream
 * framer (datastore/etcd_codec.h).  The first byte picks the operation
 * and the HTTP status; the rest is the body.  Besides memory safety it
 * checks what the decoder promises: a success has NUL-terminated keys
 * and values of the stated lengths, a failure an error message and no
 * key-values.  The same bytes also go through the framer in two pieces
 * and every object it cuts through the watch decoder.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "datastore/etcd_codec.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_kv(const struct ds_kv *kv)
{
	if (kv->key == NULL || kv->value == NULL ||
	    kv->key[kv->key_len] != '\0' || kv->value[kv->value_len] != '\0')
		abort();
}

static void
fuzz_response(uint8_t sel, const uint8_t *data, size_t len)
{
	static const int status[] = { 200, 200, 200, 400, 404, 503 };
	struct ds_result r;
	size_t i;
	int rc;

	rc = ds_decode_response((enum ds_op)(sel % 7), status[(sel / 7) % 6],
	    data, len, 0, &r);
	if (rc == 0) {
		if (!r.ok)
			abort();
		for (i = 0; i < r.nkvs; i++)
			check_kv(&r.kvs[i]);
	} else if (r.ok || r.error[0] == '\0' || r.kvs != NULL)
		abort();
	ds_result_free(&r);
}

static void
fuzz_stream(uint8_t sel, const uint8_t *data, size_t len)
{
	struct ds_stream s;
	struct ds_watch_msg m;
	const uint8_t *obj;
	size_t cut = len ? sel % (len + 1) : 0, olen, i;
	int rc = 0;

	ds_stream_init(&s, 2048);
	if (ds_stream_feed(&s, data, cut) == 0) {
		while ((rc = ds_stream_next(&s, &obj, &olen)) == 1)
			;
	}
	if (rc == 0 && ds_stream_feed(&s, data + cut, len - cut) == 0) {
		while (ds_stream_next(&s, &obj, &olen) == 1) {
			if (obj[0] != '{' || obj[olen - 1] != '}')
				abort();
			if (ds_decode_watch(obj, olen, &m) == 0) {
				for (i = 0; i < m.nevents; i++)
					check_kv(&m.events[i].kv);
				ds_watch_msg_free(&m);
			} else if (m.error[0] == '\0' || m.events != NULL)
				abort();
		}
	}
	ds_stream_free(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ds_watch_msg m;

	if (len < 1)
		return 0;
	fuzz_response(data[0], data + 1, len - 1);
	if (ds_decode_watch(data + 1, len - 1, &m) == 0)
		ds_watch_msg_free(&m);
	fuzz_stream(data[0], data + 1, len - 1);
	return 0;
}
