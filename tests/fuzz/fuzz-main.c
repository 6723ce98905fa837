/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replays fuzz inputs without libFuzzer, so that any compiler can run the
 * corpora as ordinary tests.
 *
 *     fuzz-<target>-replay FILE|DIRECTORY...
 *
 * Each file, and each regular file in each directory (sorted by name), is
 * read whole into a buffer of exactly its size and passed once to
 * LLVMFuzzerTestOneInput(); an "ok NAME" line follows each. The exit status
 * is 1 when an argument is missing or unreadable or a directory holds no
 * file, so that a lost corpus fails instead of passing vacuously; a failed
 * invariant aborts.
 */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Reads path whole; *ret is exactly *ret_size octets (one when the file is empty). */
static int read_whole(const char *path, uint8_t **ret, size_t *ret_size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL, *exact;
	size_t size = 0, cap = 0;

	if (!f)
		return -errno;
	for (;;) {
		if (size == cap) {
			uint8_t *bigger = realloc(buf, cap = cap ? 2 * cap : 4096);

			if (!bigger) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = bigger;
		}
		size += fread(buf + size, 1, cap - size, f);
		if (size < cap)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	/* an exact copy lets AddressSanitizer catch a read past the end */
	exact = malloc(size > 0 ? size : 1);
	if (!exact) {
		free(buf);
		return -ENOMEM;
	}
	memcpy(exact, buf, size);
	free(buf);
	*ret = exact;
	*ret_size = size;
	return 0;
}

static int run_file(const char *path)
{
	uint8_t *data = NULL;
	size_t size = 0;
	int r = read_whole(path, &data, &size);

	if (r < 0) {
		fprintf(stderr, "fuzz-main: cannot read %s: %s\n", path, strerror(-r));
		return r;
	}
	fprintf(stderr, "fuzz-main: replaying %s (%zu octets)\n", path, size);
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	printf("ok %s\n", path);
	fflush(stdout);
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file in dir, sorted by name; -ENOENT when there is none. */
static int run_directory(const char *dir)
{
	char **names = NULL, path[4096];
	size_t n = 0, n_files = 0;
	struct dirent *de;
	struct stat st;
	int ret = 0;
	DIR *d = opendir(dir);

	if (!d) {
		int e = errno;

		fprintf(stderr, "fuzz-main: cannot open %s: %s\n", dir, strerror(e));
		return -e;
	}
	while ((de = readdir(d))) {
		char **more;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		more = realloc(names, (n + 1) * sizeof(*names));
		if (!more || !(more[n] = strdup(de->d_name))) {
			fprintf(stderr, "fuzz-main: out of memory\n");
			names = more ? more : names;
			ret = -ENOMEM;
			break;
		}
		names = more;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), compare_names);

	/* a file that cannot be read fails the run, but the others still run */
	for (size_t i = 0; i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path)) {
			fprintf(stderr, "fuzz-main: path too long: %s/%s\n", dir, names[i]);
			ret = -ENAMETOOLONG;
		} else if (stat(path, &st) < 0) {
			fprintf(stderr, "fuzz-main: cannot stat %s: %s\n", path, strerror(errno));
			ret = -EIO;
		} else if (S_ISREG(st.st_mode)) {
			n_files++;
			if (run_file(path) < 0)
				ret = -EIO;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (n_files == 0) {
		fprintf(stderr, "fuzz-main: no input files in %s\n", dir);
		ret = -ENOENT;
	}
	return ret;
}

int main(int argc, char **argv)
{
	int failed = 0;
	struct stat st;

	if (argc < 2) {
		fprintf(stderr, "Usage: %s FILE|DIRECTORY...\n", argv[0]);
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "fuzz-main: cannot stat %s: %s\n", argv[i],
				strerror(errno));
			failed = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (run_directory(argv[i]) < 0)
				failed = 1;
		} else if (run_file(argv[i]) < 0) {
			failed = 1;
		}
	}
	return failed;
}
