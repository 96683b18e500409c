/*
 * Latency distributions; see latency.h.
 */
#include "common/latency.h"

#include <stdlib.h>
#include <string.h>

/* 1 ms to a minute, roughly 1-2.5-5 per decade: route convergence
 * spans a loaded reflector's seconds down to a quiet fabric's ms. */
static const uint32_t bucket_le_ms[LAT_NBUCKETS - 1] = {
	1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
	60000,
};

uint32_t
lat_bucket_le_ms(size_t i)
{
	return i < LAT_NBUCKETS - 1 ? bucket_le_ms[i] : UINT32_MAX;
}

void
lat_hist_add(struct lat_hist *h, uint32_t value_ms, uint64_t at_ms)
{
	size_t i = 0;

	while (i < LAT_NBUCKETS - 1 && value_ms > bucket_le_ms[i])
		i++;
	h->bucket[i]++;
	h->count++;
	h->sum_ms += value_ms;
	h->recent[h->head].at_ms = at_ms;
	h->recent[h->head].value_ms = value_ms;
	h->head = (h->head + 1) % LAT_RECENT;
	if (h->nrecent < LAT_RECENT)
		h->nrecent++;
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint32_t
lat_quantile(const uint32_t *sorted, size_t n, uint32_t permille)
{
	size_t rank;

	if (n == 0)
		return 0;
	rank = (permille * n + 999) / 1000;
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

void
lat_hist_summary(const struct lat_hist *h, uint64_t since_ms,
    struct lat_summary *s)
{
	uint32_t v[LAT_RECENT];
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	for (uint32_t i = 0; i < h->nrecent; i++) {
		const struct lat_sample *r = &h->recent[i];

		if (r->at_ms >= since_ms)
			v[n++] = r->value_ms;
	}
	if (n == 0)
		return;
	qsort(v, n, sizeof(v[0]), u32_cmp);
	s->count = n;
	s->p50_ms = lat_quantile(v, n, 500);
	s->p90_ms = lat_quantile(v, n, 900);
	s->p99_ms = lat_quantile(v, n, 990);
	s->max_ms = v[n - 1];
}
