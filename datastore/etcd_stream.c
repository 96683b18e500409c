/*
 * The framer for a watch stream (etcd_codec.h).  The gateway writes one
 * JSON object per message, but HTTP chunks and TCP reads cut the bytes
 * anywhere, so whole objects are found by counting braces and brackets
 * outside strings.  Only the framing is checked here; what is inside an
 * object is jansson's and the decoder's business.
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"
#include "datastore/etcd_codec.h"

void
ds_stream_init(struct ds_stream *s, size_t limit)
{
	memset(s, 0, sizeof(*s));
	s->limit = limit;
}

void
ds_stream_free(struct ds_stream *s)
{
	free(s->buf);
	ds_stream_init(s, s->limit);
}

/* Forget buffered bytes and state, keep the memory. */
void
ds_stream_reset(struct ds_stream *s)
{
	s->len = 0;
	s->scan = 0;
	s->start = 0;
	s->depth = 0;
	s->in_string = false;
	s->escape = false;
	s->failed = false;
}

int
ds_stream_feed(struct ds_stream *s, const void *data, size_t len)
{
	if (s->failed)
		return -1;
	if (len == 0)
		return 0;
	if (len > s->limit || s->len > s->limit - len) {
		s->failed = true;
		return -1;
	}
	if (s->len + len > s->cap) {
		s->cap = s->cap ? s->cap : 4096;
		while (s->cap < s->len + len)
			s->cap *= 2;
		s->buf = xrealloc(s->buf, s->cap);
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

/* Drop the bytes before the current object (those already handed out
 * and the whitespace between objects). */
static void
compact(struct ds_stream *s)
{
	size_t drop = s->depth > 0 ? s->start : s->scan;

	if (drop == 0)
		return;
	memmove(s->buf, s->buf + drop, s->len - drop);
	s->len -= drop;
	s->scan -= drop;
	s->start -= drop;
}

static bool
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One byte inside an object: 1 when it closed the object, 0 to go on,
 * -1 when a bracket closed it (not an object after all). */
static int
scan_byte(struct ds_stream *s, uint8_t c)
{
	if (s->in_string) {
		if (s->escape)
			s->escape = false;
		else if (c == '\\')
			s->escape = true;
		else if (c == '"')
			s->in_string = false;
		return 0;
	}
	switch (c) {
	case '"':
		s->in_string = true;
		break;
	case '{':
	case '[':
		s->depth++;
		break;
	case '}':
	case ']':
		if (--s->depth == 0)
			return c == '}' ? 1 : -1;
		break;
	}
	return 0;
}

int
ds_stream_next(struct ds_stream *s, const uint8_t **obj, size_t *len)
{
	struct rbuf rb;
	uint8_t c;

	if (s->failed)
		return -1;
	compact(s);
	rbuf_init(&rb, s->buf, s->len);
	if (rbuf_skip(&rb, s->scan) == -1)
		return -1;
	while (rbuf_get_u8(&rb, &c) == 0) {
		s->scan++;
		if (s->depth == 0) {
			if (is_space(c))
				continue;
			if (c != '{') {
				s->failed = true;
				return -1;
			}
			s->start = s->scan - 1;
			s->depth = 1;
			continue;
		}
		switch (scan_byte(s, c)) {
		case 1:
			*obj = s->buf + s->start;
			*len = s->scan - s->start;
			return 1;
		case -1:
			s->failed = true;
			return -1;
		}
	}
	return 0;
}
