/*
 * Latency distributions: a Prometheus-style histogram (fixed buckets,
 * count, sum) of everything recorded, and a ring of the most recent
 * samples from which quantiles over a time window are computed exactly
 * (nearest rank), so a change in the fabric shows in the quantiles as
 * soon as the window has turned over, not after the whole history.
 *
 * Values are whole milliseconds, times are whatever clock the caller
 * uses (milliseconds); the ring keeps LAT_RECENT samples.  The struct is
 * plain memory: zeroed it is empty, and it owns nothing.
 */
#ifndef COMMON_LATENCY_H
#define COMMON_LATENCY_H

#include <stddef.h>
#include <stdint.h>

#define LAT_NBUCKETS	16	/* the last one is +Inf */
#define LAT_RECENT	1024

struct lat_sample {
	uint64_t	 at_ms;
	uint32_t	 value_ms;
};

struct lat_hist {
	uint64_t	 bucket[LAT_NBUCKETS];	/* not cumulative */
	uint64_t	 count;
	uint64_t	 sum_ms;
	struct lat_sample recent[LAT_RECENT];
	uint32_t	 head;			/* next slot of the ring */
	uint32_t	 nrecent;
};

/* Quantiles of a window; all 0 when count is 0. */
struct lat_summary {
	uint64_t	 count;
	uint32_t	 p50_ms;
	uint32_t	 p90_ms;
	uint32_t	 p99_ms;
	uint32_t	 max_ms;
};

void	 lat_hist_add(struct lat_hist *, uint32_t value_ms, uint64_t at_ms);
/* Upper bound of bucket i in ms ("le"); UINT32_MAX for the last. */
uint32_t lat_bucket_le_ms(size_t i);
/* Quantiles of the recent samples taken at or after since_ms. */
void	 lat_hist_summary(const struct lat_hist *, uint64_t since_ms,
	    struct lat_summary *);
/* The permille-th quantile (1..1000) of n sorted values by nearest
 * rank: the smallest value with at least that share at or below it;
 * 0 when n is 0. */
uint32_t lat_quantile(const uint32_t *sorted, size_t n, uint32_t permille);

#endif
