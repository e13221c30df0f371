/* config.c - "xmig config": configuration helpers that need no daemon.
 *
 *   xmig config import-xend [FILE] [-o OUT] [-f]
 *
 * reads xend's xend-config.sxp (lib/xend_import.c does the work) and writes
 * the equivalent xmigd.conf to stdout or, atomically, to OUT.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sexp.h"
#include "xend_import.h"
#include "xerr.h"
#include "xmig.h"

enum { OPT_OUTPUT = 1, OPT_FORCE };

/* Read all of path ("-": stdin), at most SEXP_MAX_INPUT bytes. */
static int
config_read(const char *path, char **buf, size_t *len)
{
	size_t cap = SEXP_MAX_INPUT + 1, n = 0;
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *b;

	if (fd < 0) {
		fprintf(stderr, "xmig: config import-xend: cannot open %s: %s\n", path,
		    strerror(errno));
		return EXIT_FAILED;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "xmig: config import-xend: %s is a directory; give the xend "
		    "configuration file\n", path);
		close(fd);
		return EXIT_FAILED;
	}
	if ((b = malloc(cap)) == NULL) {
		fprintf(stderr, "xmig: config import-xend: out of memory\n");
		if (fd != STDIN_FILENO)
			close(fd);
		return EXIT_FAILED;
	}
	while (n < cap) {
		ssize_t r = read(fd, b + n, cap - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "xmig: config import-xend: cannot read %s: %s\n", path,
			    strerror(errno));
			free(b);
			if (fd != STDIN_FILENO)
				close(fd);
			return EXIT_FAILED;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (n > SEXP_MAX_INPUT) {
		fprintf(stderr, "xmig: config import-xend: %s is larger than %d bytes; is it "
		    "really xend-config.sxp?\n", path, SEXP_MAX_INPUT);
		free(b);
		return EXIT_FAILED;
	}
	*buf = b;
	*len = n;
	return EXIT_OK;
}

/* Write text to out through a temporary file in the same directory, so that
 * a reader never sees half a configuration. */
static int
config_write(const char *out, const char *text, size_t len, bool force)
{
	char *tmp = NULL;
	int fd = -1, saved;
	FILE *f = NULL;

	if (!force && access(out, F_OK) == 0) {
		fprintf(stderr, "xmig: config import-xend: %s exists; use --force to replace "
		    "it\n", out);
		return EXIT_FAILED;
	}
	if (asprintf(&tmp, "%s.XXXXXX", out) < 0) {
		fprintf(stderr, "xmig: config import-xend: out of memory\n");
		return EXIT_FAILED;
	}
	if ((fd = mkstemp(tmp)) < 0)
		goto fail;
	if (fchmod(fd, 0644) != 0 || (f = fdopen(fd, "w")) == NULL)
		goto fail;
	fd = -1;
	if (fwrite(text, 1, len, f) != len || fflush(f) != 0 || fsync(fileno(f)) != 0)
		goto fail;
	if (fclose(f) != 0) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	if (rename(tmp, out) != 0)
		goto fail;
	free(tmp);
	return EXIT_OK;
fail:
	saved = errno;
	fprintf(stderr, "xmig: config import-xend: cannot write %s: %s\n", out, strerror(saved));
	if (f != NULL)
		fclose(f);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return EXIT_FAILED;
}

static int
config_import_xend(int argc, char **argv)
{
	static const struct opt opts[] = {
		{ 'o', "output", true, OPT_OUTPUT },
		{ 'f', "force", false, OPT_FORCE },
		{ 0, NULL, false, 0 },
	};
	const char *in = NULL, *out = NULL, *v;
	char *buf = NULL, *text = NULL, err[1024];
	size_t len = 0, tlen = 0;
	bool force = false;
	struct argp p;
	FILE *mem;
	int c, rc;

	argp_init(&p, "config", argc, argv);
	while ((c = argp_next(&p, opts, &v)) != ARGP_END) {
		switch (c) {
		case ARGP_ERROR:
			return EXIT_USAGE;
		case ARGP_HELP:
			print_usage(stdout, "config");
			return EXIT_OK;
		case OPT_OUTPUT:
			if (v[0] == '\0')
				return usage_error("config", "empty output file name");
			out = v;
			break;
		case OPT_FORCE:
			force = true;
			break;
		default:
			if (in != NULL)
				return usage_error("config", "unexpected argument '%s'", v);
			if (v[0] == '\0')
				return usage_error("config", "empty file name");
			in = v;
		}
	}
	if (in == NULL)
		in = XEND_DEFAULT_CONFIG;
	if ((rc = config_read(in, &buf, &len)) != EXIT_OK)
		return rc;
	if ((mem = open_memstream(&text, &tlen)) == NULL) {
		fprintf(stderr, "xmig: config import-xend: out of memory\n");
		free(buf);
		return EXIT_FAILED;
	}
	rc = xend_import(strcmp(in, "-") == 0 ? "(stdin)" : in, buf, len, mem, stderr, "xmig",
	    NULL, err, sizeof(err));
	fclose(mem);
	free(buf);
	if (rc != 0) {
		fprintf(stderr, "xmig: config import-xend: %s\n", err);
		free(text);
		return EXIT_FAILED;
	}
	if (out != NULL) {
		rc = config_write(out, text, tlen, force);
	} else {
		rc = fwrite(text, 1, tlen, stdout) == tlen && fflush(stdout) == 0 ? EXIT_OK :
		    EXIT_FAILED;
		if (rc != EXIT_OK)
			fprintf(stderr, "xmig: config import-xend: cannot write to stdout: %s\n",
			    strerror(errno));
	}
	free(text);
	return rc;
}

int
cmd_config(const struct cli *cli, int argc, char **argv)
{
	(void)cli;
	if (argc < 1)
		return usage_error("config", "missing subcommand (import-xend)");
	if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
		print_usage(stdout, "config");
		return EXIT_OK;
	}
	if (strcmp(argv[0], "import-xend") == 0)
		return config_import_xend(argc - 1, argv + 1);
	return usage_error("config", "unknown subcommand '%s' (known: import-xend)", argv[0]);
}
