/*
 * libFuzzer target: the shadow inventory's saved state read back
 * (ipam/shadow_persist.c), input from the state database and so from
 * disk.  A fresh engine must refuse the blob (and stay cold) or adopt
 * it; an adopted state must then run (a tick, a request, a plan, the
 * views) and save again to a blob that a second engine adopts with the
 * same learned state: what is read back is what is written.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "ipam/shadow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_MS	86400000ULL

static void
save(const struct shadow *sh, struct wbuf *wb)
{
	wbuf_init(wb, SHADOW_STATE_MAX);
	if (shadow_state_save(sh, wb) == -1)
		abort();
}

/* Adopted state round-trips, and runs. */
static void
adopted(struct shadow *sh)
{
	struct shadow_group_view g[SHADOW_GROUPS_MAX];
	struct shadow_state st = { 1, 1, 100, 1000 };
	struct shadow_decision d;
	struct shadow_report r, r2;
	struct shadow *again;
	struct wbuf w1;
	char err[128];

	save(sh, &w1);
	again = shadow_new(NULL, 1000);
	if (shadow_state_restore(again, w1.data, w1.len, NOW_MS, 0, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "fuzz_shadow: own blob refused: %s\n", err);
		abort();
	}
	shadow_report(sh, &r);
	shadow_report(again, &r2);
	if (memcmp(&r.holt_level, &r2.holt_level, sizeof(double)) != 0 ||
	    memcmp(&r.churn_ratio, &r2.churn_ratio, sizeof(double)) != 0 ||
	    memcmp(&r.quantile, &r2.quantile, sizeof(double)) != 0 ||
	    memcmp(r.weights, r2.weights, sizeof(r.weights)) != 0)
		abort();
	shadow_on_alloc(sh, NOW_MS + 10);
	shadow_group_request(sh, NOW_MS + 10, "job=x");
	shadow_plan(sh, NOW_MS + 20, &st, &d);
	shadow_tick(sh, NOW_MS + 1000, &st, &d);
	shadow_groups_tick(sh, NOW_MS + 1000);
	shadow_report(sh, &r);
	(void)shadow_groups(sh, NOW_MS + 1000, g, SHADOW_GROUPS_MAX);
	shadow_free(again);
	wbuf_free(&w1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shadow *sh = shadow_new(NULL, 1000);
	char err[128];

	if (shadow_state_restore(sh, data, size, NOW_MS, 30000, err,
	    sizeof(err)) == 0)
		adopted(sh);
	shadow_free(sh);
	return 0;
}
