/*
 * Byte order: loads and stores of 16-, 24-, 32- and 64-bit integers at
 * any byte address.  Network order (big-endian, RFC 1700's "most
 * significant octet first") is what every protocol field is; SipHash's
 * words are little-endian.
 *
 * These work byte by byte, so the pointer needs no alignment and the
 * host's own order does not matter; compilers turn them into one load
 * or store and a byte swap.  Reading peer input still goes through
 * common/buf.h's bounds-checked reader, which uses these underneath:
 * these helpers check no bounds.
 */
#ifndef COMMON_BYTEORDER_H
#define COMMON_BYTEORDER_H

#include <stdint.h>

static inline uint16_t
be16_load(const void *p)
{
	const uint8_t *b = p;

	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t
be24_load(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
}

static inline uint32_t
be32_load(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

static inline uint64_t
be64_load(const void *p)
{
	const uint8_t *b = p;

	return (uint64_t)be32_load(b) << 32 | be32_load(b + 4);
}

static inline void
be16_store(void *p, uint16_t v)
{
	uint8_t *b = p;

	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* The low 24 bits of v (MPLS labels, RFC 3032 §2.1). */
static inline void
be24_store(void *p, uint32_t v)
{
	uint8_t *b = p;

	b[0] = (uint8_t)(v >> 16);
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)v;
}

static inline void
be32_store(void *p, uint32_t v)
{
	uint8_t *b = p;

	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static inline void
be64_store(void *p, uint64_t v)
{
	uint8_t *b = p;

	be32_store(b, (uint32_t)(v >> 32));
	be32_store(b + 4, (uint32_t)v);
}

static inline uint64_t
le64_load(const void *p)
{
	const uint8_t *b = p;

	return (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 |
	    (uint64_t)b[3] << 24 | (uint64_t)b[4] << 32 |
	    (uint64_t)b[5] << 40 | (uint64_t)b[6] << 48 |
	    (uint64_t)b[7] << 56;
}

#endif
