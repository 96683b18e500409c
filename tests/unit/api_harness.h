/*
 * The API tests' harness: the process state (d) of an in-process evpnd
 * with its API on a Unix socket in a temp dir, raw HTTP requests written
 * to that socket while the event loop turns, and an IPAM set-up with the
 * real SQLite store under the temp dir.  Shared by test_api.c,
 * test_api_pools.c and test_api_shadow.c.
 */
#ifndef TESTS_UNIT_API_HARNESS_H
#define TESTS_UNIT_API_HARNESS_H

#include <stdint.h>

#include <jansson.h>

#include "daemon/evpnd.h"

struct api;

extern struct evpnd d;
extern struct api *api;
extern char dir[64];
extern char sock_path[128];
extern char state_dir[128];

int		 connect_unix(const char *path);
/* One request (body may be NULL); the whole response, malloc'd. */
char		*request_body(const char *method, const char *path,
		    const char *body);
char		*request(const char *method, const char *path);
int		 status_of(const char *resp);
/* The body of a chunked answer, joined (malloc'd); NULL if not chunked. */
char		*dechunk(const char *resp);
/* The JSON body of an answer, chunked (a streamed view) or not. */
json_t		*body_json(const char *resp);
const char	*error_of(json_t *);
/* evpn, ipamd (state under dir) and the API on text's config. */
void		 ipam_setup_conf(const char *text);
void		 ipam_teardown(void);
/* Stop and start again on the same state, with text's config. */
void		 ipam_restart(const char *text);
/* POST an allocation to pool: the status, *j the body (caller frees). */
int		 allocate(const char *pool, const char *body, json_t **j);
/* The first column of sql's first row in the state database. */
int64_t		 db_count(const char *sql);
/* Type-2 routes of VNI 100 with this MAC and IP. */
int		 route_count(const char *mac, const char *ip);

#endif
