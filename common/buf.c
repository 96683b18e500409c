#include "common/buf.h"
#include "common/byteorder.h"

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

/* The next n bytes, stepped over; NULL (and no move) if fewer remain. */
static const uint8_t *
rbuf_take(struct rbuf *rb, size_t n)
{
	const uint8_t *p;

	if (rbuf_left(rb) < n)
		return NULL;
	p = rb->data + rb->pos;
	rb->pos += n;
	return p;
}

int
rbuf_get_u16(struct rbuf *rb, uint16_t *v)
{
	const uint8_t *p = rbuf_take(rb, 2);

	if (p == NULL)
		return -1;
	*v = be16_load(p);
	return 0;
}

int
rbuf_get_u24(struct rbuf *rb, uint32_t *v)
{
	const uint8_t *p = rbuf_take(rb, 3);

	if (p == NULL)
		return -1;
	*v = be24_load(p);
	return 0;
}

int
rbuf_get_u32(struct rbuf *rb, uint32_t *v)
{
	const uint8_t *p = rbuf_take(rb, 4);

	if (p == NULL)
		return -1;
	*v = be32_load(p);
	return 0;
}

int
rbuf_get_u64(struct rbuf *rb, uint64_t *v)
{
	const uint8_t *p = rbuf_take(rb, 8);

	if (p == NULL)
		return -1;
	*v = be64_load(p);
	return 0;
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

/* Append n bytes for the caller to fill; NULL once wb->error is set. */
static uint8_t *
wbuf_extend(struct wbuf *wb, size_t n)
{
	if (wbuf_grow(wb, n) == -1)
		return NULL;
	wb->len += n;
	return wb->data + wb->len - n;
}

void
wbuf_put_u8(struct wbuf *wb, uint8_t v)
{
	wbuf_put_bytes(wb, &v, 1);
}

void
wbuf_put_u16(struct wbuf *wb, uint16_t v)
{
	uint8_t *p = wbuf_extend(wb, 2);

	if (p != NULL)
		be16_store(p, v);
}

void
wbuf_put_u24(struct wbuf *wb, uint32_t v)
{
	uint8_t *p = wbuf_extend(wb, 3);

	if (p != NULL)
		be24_store(p, v);
}

void
wbuf_put_u32(struct wbuf *wb, uint32_t v)
{
	uint8_t *p = wbuf_extend(wb, 4);

	if (p != NULL)
		be32_store(p, v);
}

void
wbuf_put_u64(struct wbuf *wb, uint64_t v)
{
	uint8_t *p = wbuf_extend(wb, 8);

	if (p != NULL)
		be64_store(p, v);
}

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
	be16_store(wb->data + off, v);
}

void
wbuf_truncate(struct wbuf *wb, size_t len)
{
	if (len < wb->len)
		wb->len = len;
}
