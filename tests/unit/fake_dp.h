/*
 * A recording data plane for the unit tests: struct evpn_dataplane
 * (evpn/evpn_dp.h) whose operations only write down what evpn/ asked,
 * one line of text per call, so a test wires it with
 * evpn_set_dataplane() and asserts on what evpn/ would have told the
 * kernel.  The kernel is the process boundary; this fake stands in for
 * it and for nothing of evpn/.
 *
 * The lines, with the VNI of the evpn_dp_vni first:
 *   vni_add 100 vx100 br100 10.0.0.11       (L3: "... l3 table 1000")
 *   vni_del 100 vx100
 *   mac_set 100 02:00:00:00:00:05 10.0.0.2  (" sticky" when sticky)
 *   mac_del 100 02:00:00:00:00:05
 *   flood_add 100 10.0.0.2  /  flood_del 100 10.0.0.2
 *   neigh_set 100 10.10.0.5 02:00:00:00:00:05
 *   neigh_del 100 10.10.0.5 02:00:00:00:00:05
 *   route_set 5000 10.30.0.0/24 10.0.0.2 02:00:00:00:00:99
 *   route_del 5000 10.30.0.0/24
 *   sync_begin  /  sync_end
 *   learn_again 100
 */
#ifndef TESTS_UNIT_FAKE_DP_H
#define TESTS_UNIT_FAKE_DP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evpn/evpn_dp.h"

#define FDP_LINE_MAX	128

struct fake_dp {
	struct evpn_dataplane ops;	/* ops.ctx is this fake */
	char		(*calls)[FDP_LINE_MAX];
	size_t		 ncalls;
	size_t		 cap;
	uint32_t	 fail_vni;	/* vni_add of this VNI fails; 0: none */
};

/* Ready to pass as &fd->ops to evpn_set_dataplane(). */
void		 fdp_init(struct fake_dp *);
void		 fdp_free(struct fake_dp *);
/* Forget the calls so far. */
void		 fdp_clear(struct fake_dp *);

/* Index of the first call at or after from equal to line, or -1. */
long		 fdp_find(const struct fake_dp *, size_t from, const char *line);
/* The last call whose line starts with prefix, or NULL. */
const char	*fdp_last(const struct fake_dp *, const char *prefix);
/* Calls whose line starts with prefix ("" counts all). */
size_t		 fdp_count(const struct fake_dp *, const char *prefix);
/* Every call, one per line, for failure messages (static buffer). */
const char	*fdp_dump(const struct fake_dp *);

/* Fail the test, listing the calls, unless line was called (and return
 * its index) / was not called. */
size_t		 fdp_expect(const struct fake_dp *, const char *line);
void		 fdp_expect_none(const struct fake_dp *, const char *line);

#endif
