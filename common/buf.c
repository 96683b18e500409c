#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

void
rbuf_init(struct rbuf *rb, const void *data, size_t len)
{
	rb->data = data;
	rb->len = data ? len : 0;
	rb->pos = 0;
}

size_t
rbuf_left(const struct rbuf *rb)
{
	return rb->len - rb->pos;
}

const uint8_t *
rbuf_ptr(const struct rbuf *rb)
{
	return rb->data + rb->pos;
}

int
rbuf_get_bytes(struct rbuf *rb, void *out, size_t n)
{
	if (rbuf_left(rb) < n)
		return -1;
	if (n > 0)
		memcpy(out, rb->data + rb->pos, n);
	rb->pos += n;
	return 0;
}

int
rbuf_get_u8(struct rbuf *rb, uint8_t *v)
{
	return rbuf_get_bytes(rb, v, 1);
}

static uint64_t
be_read(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static int
rbuf_get_be(struct rbuf *rb, size_t n, uint64_t *v)
{
	if (rbuf_left(rb) < n)
		return -1;
	*v = be_read(rb->data + rb->pos, n);
	rb->pos += n;
	return 0;
}

int
rbuf_get_u16(struct rbuf *rb, uint16_t *v)
{
	uint64_t x;

	if (rbuf_get_be(rb, 2, &x) == -1)
		return -1;
	*v = (uint16_t)x;
	return 0;
}

int
rbuf_get_u24(struct rbuf *rb, uint32_t *v)
{
	uint64_t x;

	if (rbuf_get_be(rb, 3, &x) == -1)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

int
rbuf_get_u32(struct rbuf *rb, uint32_t *v)
{
	uint64_t x;

	if (rbuf_get_be(rb, 4, &x) == -1)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

int
rbuf_get_u64(struct rbuf *rb, uint64_t *v)
{
	return rbuf_get_be(rb, 8, v);
}

int
rbuf_peek_u8(const struct rbuf *rb, uint8_t *v)
{
	if (rbuf_left(rb) < 1)
		return -1;
	*v = rb->data[rb->pos];
	return 0;
}

int
rbuf_skip(struct rbuf *rb, size_t n)
{
	if (rbuf_left(rb) < n)
		return -1;
	rb->pos += n;
	return 0;
}

int
rbuf_slice(struct rbuf *rb, size_t n, struct rbuf *sub)
{
	if (rbuf_left(rb) < n)
		return -1;
	sub->data = rb->data + rb->pos;
	sub->len = n;
	sub->pos = 0;
	rb->pos += n;
	return 0;
}

void
wbuf_init(struct wbuf *wb, size_t limit)
{
	memset(wb, 0, sizeof(*wb));
	wb->limit = limit;
}

void
wbuf_free(struct wbuf *wb)
{
	free(wb->data);
	memset(wb, 0, sizeof(*wb));
}

void
wbuf_reset(struct wbuf *wb)
{
	wb->len = 0;
	wb->error = 0;
}

static int
wbuf_grow(struct wbuf *wb, size_t n)
{
	size_t need, cap;
	uint8_t *p;

	if (wb->error)
		return -1;
	need = wb->len + n;
	if (need < wb->len || (wb->limit && need > wb->limit)) {
		wb->error = 1;
		return -1;
	}
	if (need <= wb->cap)
		return 0;
	cap = wb->cap ? wb->cap : 256;
	while (cap < need)
		cap *= 2;
	if ((p = realloc(wb->data, cap)) == NULL) {
		wb->error = 1;
		return -1;
	}
	wb->data = p;
	wb->cap = cap;
	return 0;
}

void
wbuf_put_bytes(struct wbuf *wb, const void *src, size_t n)
{
	if (n == 0 || wbuf_grow(wb, n) == -1)
		return;
	memcpy(wb->data + wb->len, src, n);
	wb->len += n;
}

void
wbuf_put_zero(struct wbuf *wb, size_t n)
{
	if (n == 0 || wbuf_grow(wb, n) == -1)
		return;
	memset(wb->data + wb->len, 0, n);
	wb->len += n;
}

static void
wbuf_put_be(struct wbuf *wb, uint64_t v, size_t n)
{
	uint8_t b[8];

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	wbuf_put_bytes(wb, b, n);
}

void wbuf_put_u8(struct wbuf *wb, uint8_t v) { wbuf_put_be(wb, v, 1); }
void wbuf_put_u16(struct wbuf *wb, uint16_t v) { wbuf_put_be(wb, v, 2); }
void wbuf_put_u24(struct wbuf *wb, uint32_t v) { wbuf_put_be(wb, v, 3); }
void wbuf_put_u32(struct wbuf *wb, uint32_t v) { wbuf_put_be(wb, v, 4); }
void wbuf_put_u64(struct wbuf *wb, uint64_t v) { wbuf_put_be(wb, v, 8); }

size_t
wbuf_reserve(struct wbuf *wb, size_t n)
{
	size_t off = wb->len;

	wbuf_put_zero(wb, n);
	return off;
}

void
wbuf_set_u8(struct wbuf *wb, size_t off, uint8_t v)
{
	if (wb->error || off + 1 > wb->len)
		return;
	wb->data[off] = v;
}

void
wbuf_set_u16(struct wbuf *wb, size_t off, uint16_t v)
{
	if (wb->error || off + 2 > wb->len)
		return;
	wb->data[off] = (uint8_t)(v >> 8);
	wb->data[off + 1] = (uint8_t)v;
}

void
wbuf_truncate(struct wbuf *wb, size_t len)
{
	if (len < wb->len)
		wb->len = len;
}
