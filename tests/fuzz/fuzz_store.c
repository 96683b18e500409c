/*
 * libFuzzer target: the IPAM store opening a corrupt database image.
 * The input is written as STATE/ipam.db next to a valid ipam.key (32
 * bytes, 0600) and ipam_store_open() is called with one pool
 * configured: it must refuse cleanly (NULL with err filled) or open,
 * and then close, whatever SQLite, the schema check or the audit chain
 * check make of the file.  No ipam.anchor is kept between inputs (a
 * missing anchor is accepted, as after an upgrade).
 *
 * Each input opens a SQLite database and starts the writer thread: a
 * few hundred executions a minute, hence a tiny seed corpus.  With
 * FUZZ_STORE_KEEP set, the state directory is left in place (how the
 * seed, a database an empty input makes, was produced).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/addr.h"
#include "ipam/ipam.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char state_dir[256];

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_store: %s: %s\n", what, strerror(errno));
	abort();
}

static void
write_file(const char *name, const void *data, size_t len, mode_t mode)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", state_dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) == -1 ||
	    (len > 0 && write(fd, data, len) != (ssize_t)len) ||
	    close(fd) == -1)
		fail(path);
}

/* What a previous input left: the database, its journals, the anchor. */
static void
clear_state(void)
{
	static const char *const files[] = { "ipam.db", "ipam.db-wal",
	    "ipam.db-shm", "ipam.db-journal", "ipam.anchor" };
	char path[512];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", state_dir, files[i]);
		(void)unlink(path);
	}
}

static void
remove_state(void)
{
	char path[512];

	if (getenv("FUZZ_STORE_KEEP") != NULL) {
		fprintf(stderr, "fuzz_store: state kept in %s\n", state_dir);
		return;
	}
	clear_state();
	snprintf(path, sizeof(path), "%s/ipam.key", state_dir);
	(void)unlink(path);
	(void)rmdir(state_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t key[32];
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(state_dir, sizeof(state_dir), "%s/fuzz_store.XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(state_dir) == NULL)
		fail("mkdtemp");
	memset(key, 0x5a, sizeof(key));
	write_file("ipam.key", key, sizeof(key), 0600);
	atexit(remove_state);
	return 0;
}

static struct ipam *
ipam_with_pool(void)
{
	struct ipam *ipam = ipam_new();
	struct ipam_pool_spec spec;
	struct prefix pfx;
	char err[256];

	memset(&spec, 0, sizeof(spec));
	if (prefix_parse("10.10.0.0/24", &pfx, false) == -1)
		fail("prefix");
	spec.name = "pool-a";
	spec.tenant = "tenant-a";
	spec.vni = 100;
	spec.prefixes = &pfx;
	spec.nprefixes = 1;
	if (ipam_pool_add(ipam, &spec, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz_store: pool: %s\n", err);
		abort();
	}
	return ipam;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event_base *base;
	struct ipam_store *store;
	struct ipam *ipam;
	char err[512];

	clear_state();
	write_file("ipam.db", data, size, 0600);
	if ((base = event_base_new()) == NULL)
		fail("event_base_new");
	ipam = ipam_with_pool();
	err[0] = '\0';
	if ((store = ipam_store_open(state_dir, base, ipam, err,
	    sizeof(err))) == NULL) {
		if (err[0] == '\0') {
			fprintf(stderr, "fuzz_store: refused without a "
			    "reason\n");
			abort();
		}
	} else
		ipam_store_close(store);
	ipam_free(ipam);
	event_base_free(base);
	return 0;
}
