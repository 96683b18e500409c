/*
 * Replays a fuzz target's corpus without libFuzzer, so every input kept
 * in tests/fuzz/corpus/ (a seed, or a crash found once) stays a
 * regression test of "make check" in a plain build.
 *
 * How this works: this main() is linked with one fuzz_*.c file and
 * calls its LLVMFuzzerTestOneInput() once per file, each input in a
 * buffer of exactly its size (so a sanitizer build sees an overread as
 * libFuzzer would).  The arguments are files or directories; without
 * any it reads $top_srcdir/tests/fuzz/corpus/FUZZ_CORPUS, the target's
 * corpus compiled in.  A crash or an abort() of the target's own checks
 * fails the test, and the file being replayed is named on stderr first.
 * A corpus that is missing or empty is a failure too: a test that
 * replays nothing proves nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
/* Optional, as with libFuzzer: a target that needs set-up defines it. */
int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

#define REPLAY_MAX_INPUT	(1024 * 1024)

/* Reads the whole file into a buffer of its exact size. */
static uint8_t *
read_input(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *data;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fstat(fileno(f), &st) == -1 || st.st_size > REPLAY_MAX_INPUT) {
		fclose(f);
		errno = EFBIG;
		return NULL;
	}
	*len = (size_t)st.st_size;
	/* malloc(0) may return NULL: keep one byte, pass the real size. */
	if ((data = malloc(*len ? *len : 1)) != NULL &&
	    fread(data, 1, *len, f) != *len) {
		free(data);
		data = NULL;
		errno = EIO;
	}
	fclose(f);
	return data;
}

static int
replay_file(const char *path)
{
	uint8_t *data;
	size_t len;

	if ((data = read_input(path, &len)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order; returns the count or -1. */
static int
replay_dir(const char *dir)
{
	char **names = NULL, path[4096];
	struct dirent *de;
	struct stat st;
	size_t n = 0, i;
	DIR *d;
	int count = 0;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((names = realloc(names, (n + 1) * sizeof(*names))) == NULL ||
		    (names[n] = strdup(de->d_name)) == NULL) {
			fprintf(stderr, "replay: out of memory\n");
			exit(1);
		}
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(path) == -1)
				count = -1;
			else if (count >= 0)
				count++;
		}
		free(names[i]);
	}
	free(names);
	return count;
}

static int
replay_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return replay_dir(path);
	return replay_file(path) == -1 ? -1 : 1;
}

int
main(int argc, char *argv[])
{
	char corpus[4096];
	char *deflt[] = { corpus };
	char **paths = argv + 1;
	const char *top;
	int i, n, npaths = argc - 1, total = 0;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	if (npaths == 0) {
		top = getenv("top_srcdir");
		snprintf(corpus, sizeof(corpus), "%s/tests/fuzz/corpus/%s",
		    top != NULL ? top : ".", FUZZ_CORPUS);
		paths = deflt;
		npaths = 1;
	}
	for (i = 0; i < npaths; i++) {
		if ((n = replay_path(paths[i])) == -1)
			return 1;
		total += n;
	}
	if (total == 0) {
		fprintf(stderr, "replay: no inputs\n");
		return 1;
	}
	printf("replayed %d inputs\n", total);
	return 0;
}
