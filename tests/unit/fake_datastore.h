/*
 * An in-memory datastore behind ipam/fabric.h's struct ipam_fabric_ops,
 * for the unit tests: the process boundary (etcd) is what is faked, the
 * fabric manager under test is the real one.
 *
 * How this works: one struct fake_ds holds the keys of every pool
 * (definitions, blocks, loans) with etcd-like revisions: one counter,
 * bumped by every write, each key remembering the revision that last
 * wrote it.  A request is queued when it is made and carried out when
 * it is delivered, from the event loop in call order, as one member
 * serialises writes: two VTEPs that read the same revision and both
 * write on it race for real, the first delivered wins.  hold stops the
 * automatic delivery so a test can step request by request.  down
 * answers every request with an error and changes nothing;
 * apply_then_fail carries out the next write but answers it with an
 * error (the answer lost on the way back).  A listing carries the
 * revision it read at, a delete (release, loan end) the revision after
 * it, as etcd's response header does; read_ahead carries out a queued
 * request now but answers it after every other queued one (a reply that
 * took a slower connection).
 */
#ifndef TESTS_FAKE_DATASTORE_H
#define TESTS_FAKE_DATASTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipam/fabric.h"

struct event_base;
struct fake_ds;

extern const struct ipam_fabric_ops fake_ds_ops;

struct fake_ds	*fake_ds_new(struct event_base *);
/* Answers still queued are dropped without a callback. */
void		 fake_ds_free(struct fake_ds *);
/* Deliver every queued answer (and those their callbacks queue). */
void		 fake_ds_run(struct fake_ds *);
size_t		 fake_ds_queued(const struct fake_ds *);

void		 fake_ds_set_down(struct fake_ds *, bool);
void		 fake_ds_hold(struct fake_ds *, bool);
/* Carry out and answer one request; false when none is queued. */
bool		 fake_ds_step(struct fake_ds *);
/* Requests of one operation made so far ("loan_take", ...). */
uint64_t	 fake_ds_issued(const struct fake_ds *, const char *op);
void		 fake_ds_apply_then_fail(struct fake_ds *);
/* Carry out the oldest queued request of op now and move its answer to
 * the back of the queue; false when none is queued. */
bool		 fake_ds_read_ahead(struct fake_ds *, const char *op);

/* Inspection */
size_t		 fake_ds_blocks(const struct fake_ds *, const char *pool,
		    struct ipam_fabric_block *, size_t max);
size_t		 fake_ds_loans(const struct fake_ds *, const char *pool,
		    struct ipam_fabric_loan *, size_t max);
uint64_t	 fake_ds_requests(const struct fake_ds *);

#endif
