/*
 * Small helpers: allocation that aborts on exhaustion (memory is an
 * internal invariant, not peer input), monotonic time, string copy,
 * base64 syntax.
 */
#ifndef COMMON_UTIL_H
#define COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t mono_msec(void);
/* Milliseconds since the Unix epoch on CLOCK_REALTIME. */
uint64_t wall_msec(void);
/* Copy with truncation; always NUL-terminates; returns strlen(src). */
size_t	strlcpy_s(char *dst, const char *src, size_t size);
/* Base64 (RFC 4648 §4): groups of 4, '=' only as padding at the end;
 * 1 to max characters. */
bool	base64_valid(const char *, size_t max);
/* Free what held a secret (a password, a key) after zeroing it, so it
 * does not linger in freed memory or a core.  NULL is fine. */
void	freezero(void *, size_t);
void	free_secret(char *);		/* a NUL-terminated one */

#endif
