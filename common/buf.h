/*
 * Bounds-checked byte buffers: the one reader every parser uses, and a
 * growable writer for encoders.
 *
 * Reading: a struct rbuf is a window (data, len) with a cursor.  Every
 * getter returns 0 on success and -1 when fewer bytes remain than asked
 * for; on failure the cursor does not move and the output is untouched.
 * A message is first cut into sub-windows with rbuf_slice() (e.g. the
 * withdrawn routes, the attributes and the NLRI of an UPDATE) and each
 * slice is parsed on its own, so no parser can read past its part.
 * All multi-byte integers are big-endian (network order) on the wire.
 *
 * Writing: a struct wbuf grows on demand up to a hard limit.  A failed
 * allocation or a write past the limit sets wb->error; later writes are
 * ignored, so an encoder can check once at the end.
 */
#ifndef COMMON_BUF_H
#define COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

struct rbuf {
	const uint8_t	*data;
	size_t		 len;
	size_t		 pos;
};

void	rbuf_init(struct rbuf *, const void *, size_t);
size_t	rbuf_left(const struct rbuf *);
const uint8_t *rbuf_ptr(const struct rbuf *);
int	rbuf_get_u8(struct rbuf *, uint8_t *);
int	rbuf_get_u16(struct rbuf *, uint16_t *);
int	rbuf_get_u24(struct rbuf *, uint32_t *);
int	rbuf_get_u32(struct rbuf *, uint32_t *);
int	rbuf_get_u64(struct rbuf *, uint64_t *);
int	rbuf_get_bytes(struct rbuf *, void *, size_t);
int	rbuf_peek_u8(const struct rbuf *, uint8_t *);
int	rbuf_skip(struct rbuf *, size_t);
/* Take the next n bytes as their own window; the parent skips them. */
int	rbuf_slice(struct rbuf *, size_t, struct rbuf *);

struct wbuf {
	uint8_t		*data;
	size_t		 len;
	size_t		 cap;
	size_t		 limit;
	int		 error;
};

/* limit 0 means no limit beyond memory. */
void	wbuf_init(struct wbuf *, size_t limit);
void	wbuf_free(struct wbuf *);
void	wbuf_reset(struct wbuf *);
void	wbuf_put_u8(struct wbuf *, uint8_t);
void	wbuf_put_u16(struct wbuf *, uint16_t);
void	wbuf_put_u24(struct wbuf *, uint32_t);
void	wbuf_put_u32(struct wbuf *, uint32_t);
void	wbuf_put_u64(struct wbuf *, uint64_t);
void	wbuf_put_bytes(struct wbuf *, const void *, size_t);
void	wbuf_put_zero(struct wbuf *, size_t);
/* Reserve n bytes to fill later (length fields); returns their offset. */
size_t	wbuf_reserve(struct wbuf *, size_t);
void	wbuf_set_u8(struct wbuf *, size_t off, uint8_t);
void	wbuf_set_u16(struct wbuf *, size_t off, uint16_t);
/* Truncate back to an earlier length (undo a partial encode). */
void	wbuf_truncate(struct wbuf *, size_t);

#endif
