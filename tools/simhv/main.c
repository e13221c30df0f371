/* simhv - the simulated hypervisor's command line.
 *
 *   simhv [-r ROOT] COMMAND [ARGS]      (ROOT also from $SIMHV_ROOT)
 *
 * Exit status: 0 success, 1 the operation failed, 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "simdom.h"
#include "simjournal.h"
#include "util.h"
#include "xerr.h"

#define EXIT_USAGE 2
#define SIMHV_STATE_TIMEOUT_MS 5000

static const char simhv_usage[] =
	"usage: simhv [-r ROOT] COMMAND [ARGS]\n"
	"\n"
	"  create NAME --memory SIZE [--vcpus N] [--dirty-rate PAGES_PER_S]\n"
	"         [--wws SIZE] [--fill zero|random] [--paused]\n"
	"  list [--json]\n"
	"  info NAME [--json]\n"
	"  pause NAME | unpause NAME | destroy NAME\n"
	"  shutdown NAME\n"
	"  rename OLD NEW\n"
	"  throttle NAME PCT\n"
	"  verify NAME [--no-running]\n"
	"  journal-check [ROOT|FILE]...   (no -r needed)\n"
	"\n"
	"NAME may also be a domain id.  ROOT is the host's directory (normally on\n"
	"tmpfs); it may also be given as $SIMHV_ROOT.  Sizes take K, M, G, T.\n";

struct simhv_cmd {
	const char *name;
	int (*fn)(const char *root, int argc, char **argv);
	const char *args;
};

static int
simhv_usage_error(const char *cmd, const char *args, const char *fmt, const char *what)
{
	fprintf(stderr, "simhv %s: ", cmd);
	fprintf(stderr, fmt, what);
	fprintf(stderr, " (usage: simhv %s %s)\n", cmd, args);
	return EXIT_USAGE;
}

/* One line for a failed operation on a domain. */
static int
simhv_fail(const char *cmd, const char *name, const char *root, int r)
{
	switch (r) {
	case XMIG_ERR_NOT_FOUND:
		fprintf(stderr, "simhv %s: no domain '%s' under %s\n", cmd, name, root);
		break;
	case XMIG_ERR_EXISTS:
		fprintf(stderr, "simhv %s: a domain named '%s' already exists under %s\n", cmd,
		    name, root);
		break;
	default:
		fprintf(stderr, "simhv %s %s: %s\n", cmd, name, xmig_strerror(r));
		break;
	}
	return 1;
}

static int
simhv_open(const char *cmd, const char *root, const char *name, struct simdom **d)
{
	int r = simdom_open(root, name, d);

	if (r == XMIG_ERR_NOT_FOUND && access(root, F_OK) != 0) {
		fprintf(stderr, "simhv %s: root %s: %s\n", cmd, root, strerror(errno));
		return 1;
	}
	return r == 0 ? 0 : simhv_fail(cmd, name, root, r);
}

/* Parse options with getopt_long; positional arguments land in pos[]. */
static int
simhv_getopt(int argc, char **argv, const struct option *opts, int npos, const char **pos,
    const char *args, int (*onopt)(int c, const char *arg, void *ctx), void *ctx)
{
	int c, n = 0, r;

	optind = 0;	/* GNU: full reset between commands */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "-", opts, NULL)) != -1) {
		if (c == 1) {
			if (n == npos)
				return simhv_usage_error(argv[0], args, "unexpected argument '%s'",
				    optarg);
			pos[n++] = optarg;
		} else if (c == '?') {
			return simhv_usage_error(argv[0], args, "unknown or incomplete option '%s'",
			    argv[optind - 1]);
		} else if (onopt == NULL) {
			return EXIT_USAGE;
		} else if ((r = onopt(c, optarg, ctx)) != 0) {
			return r;
		}
	}
	if (n < npos)
		return simhv_usage_error(argv[0], args, "%s", "missing argument");
	return 0;
}

static const struct option simhv_no_opts[] = { { NULL, 0, NULL, 0 } };

/* ---- create ---- */

struct simhv_create {
	struct simdom_params p;
	bool paused;
	const char *memory, *wws;
};

#define SIMHV_CREATE_ARGS "NAME --memory SIZE [--vcpus N] [--dirty-rate PAGES_PER_S] " \
	"[--wws SIZE] [--fill zero|random] [--paused]"

static int
simhv_create_opt(int c, const char *arg, void *ctx)
{
	struct simhv_create *cr = ctx;
	uint64_t v;

	switch (c) {
	case 'm':
		cr->memory = arg;
		return 0;
	case 'w':
		cr->wws = arg;
		return 0;
	case 'c':
		if (parse_u64(arg, 1, SIM_MAX_VCPUS, &v) != 0) {
			fprintf(stderr, "simhv create: --vcpus '%s': must be 1..%u\n", arg,
			    SIM_MAX_VCPUS);
			return EXIT_USAGE;
		}
		cr->p.vcpus = (uint32_t)v;
		return 0;
	case 'd':
		if (parse_u64(arg, 0, 100000000, &v) != 0) {
			fprintf(stderr, "simhv create: --dirty-rate '%s': must be 0..100000000 "
			    "pages per second\n", arg);
			return EXIT_USAGE;
		}
		cr->p.dirty_rate = v;
		return 0;
	case 'f':
		if (strcmp(arg, "zero") == 0) {
			cr->p.fill = SIM_FILL_ZERO;
		} else if (strcmp(arg, "random") == 0) {
			cr->p.fill = SIM_FILL_RANDOM;
		} else {
			fprintf(stderr, "simhv create: --fill '%s': must be zero or random\n", arg);
			return EXIT_USAGE;
		}
		return 0;
	case 'p':
		cr->paused = true;
		return 0;
	}
	return EXIT_USAGE;
}

static int
simhv_self_path(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int
simhv_create(const char *root, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "memory", required_argument, NULL, 'm' },
		{ "vcpus", required_argument, NULL, 'c' },
		{ "dirty-rate", required_argument, NULL, 'd' },
		{ "wws", required_argument, NULL, 'w' },
		{ "fill", required_argument, NULL, 'f' },
		{ "paused", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct simhv_create cr;
	const char *name = NULL;
	char self[PATH_MAX];
	struct simdom *d;
	int r;

	memset(&cr, 0, sizeof(cr));
	cr.p.vcpus = 1;
	cr.p.fill = SIM_FILL_ZERO;
	if ((r = simhv_getopt(argc, argv, opts, 1, &name, SIMHV_CREATE_ARGS, simhv_create_opt,
	    &cr)) != 0)
		return r;
	if (!simdom_name_valid(name)) {
		fprintf(stderr, "simhv create: invalid name '%s': use 1 to %d of A-Z a-z 0-9 . _ - "
		    "and not only digits\n", name, SIM_NAME_MAX - 1);
		return EXIT_USAGE;
	}
	if (cr.memory == NULL)
		return simhv_usage_error("create", SIMHV_CREATE_ARGS, "%s", "--memory is required");
	if (parse_size(cr.memory, &cr.p.memory) != 0 || cr.p.memory < (1u << 20) ||
	    cr.p.memory % SIM_PAGE_SIZE != 0 || cr.p.memory > (1ull << 40)) {
		fprintf(stderr, "simhv create: --memory '%s': must be a size from 1M to 1T and a "
		    "multiple of %u\n", cr.memory, SIM_PAGE_SIZE);
		return EXIT_USAGE;
	}
	if (cr.wws != NULL && (parse_size(cr.wws, &cr.p.wws) != 0 || cr.p.wws > cr.p.memory)) {
		fprintf(stderr, "simhv create: --wws '%s': must be a size no larger than --memory\n",
		    cr.wws);
		return EXIT_USAGE;
	}
	strlcpy_x(cr.p.name, name, sizeof(cr.p.name));
	if (simhv_self_path(self, sizeof(self)) != 0) {
		fprintf(stderr, "simhv create: cannot find my own program: %s\n", strerror(errno));
		return 1;
	}
	if ((r = simdom_create(root, &cr.p, &d)) != 0) {
		if (r == XMIG_ERR_SYSTEM || r == XMIG_ERR_NO_SPACE)
			fprintf(stderr, "simhv create %s: under %s: %s\n", name, root,
			    r == XMIG_ERR_NO_SPACE ? "not enough space for its memory" :
			    strerror(errno));
		else
			simhv_fail("create", name, root, r);
		return 1;
	}
	if ((r = simdom_start(d, self, cr.paused)) != 0) {
		fprintf(stderr, "simhv create %s: the domain did not start: %s\n", name,
		    xmig_strerror(r));
		simdom_destroy(d);
		simdom_close(d);
		return 1;
	}
	printf("created %s id %u\n", name, d->domid);
	simdom_close(d);
	return 0;
}

/* ---- list / info ---- */

/* For commands whose only options are flags: set the bool. */
static int
simhv_flag_opt(int c, const char *arg, void *ctx)
{
	*(bool *)ctx = true;
	return 0;
}

static json_t *
simhv_info_json(const struct simdom_info *si)
{
	char uuid[37];

	uuid_format(si->uuid, uuid);
	return json_pack("{s:I, s:s, s:s, s:I, s:I, s:s, s:s, s:I, s:I, s:i, s:I}",
	    "id", (json_int_t)si->domid, "name", si->name, "uuid", uuid,
	    "memory_bytes", (json_int_t)si->memory, "vcpus", (json_int_t)si->vcpus,
	    "state", sim_state_name(si->state), "type", "sim",
	    "dirty_rate", (json_int_t)si->dirty_rate, "wws_bytes", (json_int_t)si->wws,
	    "pid", si->pid, "writes", (json_int_t)si->writes);
}

static int
simhv_print_json(json_t *j)
{
	char *s;

	if (j == NULL || (s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL) {
		json_decref(j);
		fprintf(stderr, "simhv: out of memory formatting JSON\n");
		return 1;
	}
	puts(s);
	free(s);
	json_decref(j);
	return 0;
}

static void
simhv_mib(char *buf, size_t len, uint64_t bytes)
{
	if (bytes % (1u << 20) == 0)
		snprintf(buf, len, "%llu", (unsigned long long)(bytes >> 20));
	else
		snprintf(buf, len, "%.2f", (double)bytes / (1 << 20));
}

static int
simhv_list(const char *root, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct simdom_info *v = NULL;
	bool json = false;
	size_t n = 0, i;
	int r;

	if ((r = simhv_getopt(argc, argv, opts, 0, NULL, "[--json]", simhv_flag_opt, &json)) != 0)
		return r;
	if ((r = simdom_list(root, &v, &n)) != 0) {
		if (r == XMIG_ERR_NOT_FOUND)
			fprintf(stderr, "simhv list: root %s does not exist\n", root);
		else
			fprintf(stderr, "simhv list: %s: %s\n", root, xmig_strerror(r));
		return 1;
	}
	if (json) {
		json_t *a = json_array();

		for (i = 0; a != NULL && i < n; i++)
			if (json_array_append_new(a, simhv_info_json(&v[i])) != 0) {
				json_decref(a);
				a = NULL;
			}
		free(v);
		return simhv_print_json(a);
	}
	printf("%-5s %-20s %9s %5s %-9s %10s %9s\n", "ID", "NAME", "MEM(MiB)", "VCPUS", "STATE",
	    "DIRTY-RATE", "WWS(MiB)");
	for (i = 0; i < n; i++) {
		char mem[32], wws[32];

		simhv_mib(mem, sizeof(mem), v[i].memory);
		if (v[i].wws == 0)
			strlcpy_x(wws, "all", sizeof(wws));
		else
			simhv_mib(wws, sizeof(wws), v[i].wws);
		printf("%-5u %-20s %9s %5u %-9s %10llu %9s\n", v[i].domid, v[i].name, mem, v[i].vcpus,
		    sim_state_name(v[i].state), (unsigned long long)v[i].dirty_rate, wws);
	}
	free(v);
	return 0;
}

static int
simhv_info(const char *root, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const fills[] = { "zero", "random", "none (restored)" };
	struct simdom_params p;
	struct simdom_info si;
	struct simdom *d;
	const char *name = NULL;
	bool json = false;
	char uuid[37];
	int r;

	if ((r = simhv_getopt(argc, argv, opts, 1, &name, "NAME [--json]", simhv_flag_opt,
	    &json)) != 0)
		return r;
	if ((r = simhv_open("info", root, name, &d)) != 0)
		return r;
	simdom_info(d, &si);
	simdom_get_params(d, &p);
	simdom_close(d);
	if (json) {
		json_t *j = simhv_info_json(&si);

		if (j != NULL && (json_object_set_new(j, "ticks", json_integer((json_int_t)si.ticks)) ||
		    json_object_set_new(j, "logdirty", json_boolean(si.logdirty)) ||
		    json_object_set_new(j, "fill", json_string(fills[p.fill % 3])))) {
			json_decref(j);
			j = NULL;
		}
		return simhv_print_json(j);
	}
	uuid_format(si.uuid, uuid);
	printf("id:         %u\n", si.domid);
	printf("name:       %s\n", si.name);
	printf("uuid:       %s\n", uuid);
	printf("state:      %s\n", sim_state_name(si.state));
	printf("pid:        %d\n", si.pid);
	printf("memory:     %llu MiB (%llu pages)\n", (unsigned long long)(si.memory >> 20),
	    (unsigned long long)(si.memory / SIM_PAGE_SIZE));
	printf("vcpus:      %u\n", si.vcpus);
	printf("dirty-rate: %llu pages/s\n", (unsigned long long)si.dirty_rate);
	if (si.wws)
		printf("wws:        %llu KiB\n", (unsigned long long)(si.wws >> 10));
	else
		printf("wws:        all memory\n");
	printf("fill:       %s\n", fills[p.fill % 3]);
	printf("logdirty:   %s\n", si.logdirty ? "on" : "off");
	printf("writes:     %llu\n", (unsigned long long)si.writes);
	printf("ticks:      %llu\n", (unsigned long long)si.ticks);
	return 0;
}

/* ---- state changes ---- */

static int
simhv_state_op(const char *root, int argc, char **argv)
{
	const char *cmd = argv[0], *name = NULL;
	struct simdom_info si;
	struct simdom *d;
	int r;

	if ((r = simhv_getopt(argc, argv, simhv_no_opts, 1, &name, "NAME", NULL, NULL)) != 0)
		return r;
	if ((r = simhv_open(cmd, root, name, &d)) != 0)
		return r;
	if (strcmp(cmd, "pause") == 0)
		r = simdom_pause(d, SIMHV_STATE_TIMEOUT_MS);
	else if (strcmp(cmd, "unpause") == 0)
		r = simdom_unpause(d, SIMHV_STATE_TIMEOUT_MS);
	else if (strcmp(cmd, "shutdown") == 0)
		r = simdom_shutdown(d);
	else
		r = simdom_destroy(d);
	if (r == XMIG_ERR_STATE) {
		simdom_info(d, &si);
		fprintf(stderr, "simhv %s %s: the domain is %s\n", cmd, name,
		    sim_state_name(si.state));
		r = 1;
	} else if (r != 0) {
		r = simhv_fail(cmd, name, root, r);
	}
	simdom_close(d);
	return r;
}

static int
simhv_rename(const char *root, int argc, char **argv)
{
	const char *names[2] = { NULL, NULL };
	struct simdom *d;
	int r;

	if ((r = simhv_getopt(argc, argv, simhv_no_opts, 2, names, "OLD NEW", NULL, NULL)) != 0)
		return r;
	if (!simdom_name_valid(names[1])) {
		fprintf(stderr, "simhv rename: invalid name '%s': use 1 to %d of A-Z a-z 0-9 . _ - "
		    "and not only digits\n", names[1], SIM_NAME_MAX - 1);
		return EXIT_USAGE;
	}
	if ((r = simhv_open("rename", root, names[0], &d)) != 0)
		return r;
	r = simdom_rename(d, names[1]);
	simdom_close(d);
	return r == 0 ? 0 : simhv_fail("rename", names[1], root, r);
}

static int
simhv_throttle(const char *root, int argc, char **argv)
{
	const char *args[2] = { NULL, NULL };
	struct simdom *d;
	uint64_t pct;
	int r;

	if ((r = simhv_getopt(argc, argv, simhv_no_opts, 2, args, "NAME PCT", NULL, NULL)) != 0)
		return r;
	if (parse_u64(args[1], 0, 99, &pct) != 0) {
		fprintf(stderr, "simhv throttle: percent '%s': must be 0..99\n", args[1]);
		return EXIT_USAGE;
	}
	if ((r = simhv_open("throttle", root, args[0], &d)) != 0)
		return r;
	r = simdom_throttle(d, (unsigned)pct);
	simdom_close(d);
	return r == 0 ? 0 : simhv_fail("throttle", args[0], root, r);
}

static int
simhv_verify(const char *root, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-running", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	struct simdom_info si;
	bool no_running = false;
	struct simdom *d;
	char err[512];
	int r;

	if ((r = simhv_getopt(argc, argv, opts, 1, &name, "NAME [--no-running]", simhv_flag_opt,
	    &no_running)) != 0)
		return r;
	if ((r = simhv_open("verify", root, name, &d)) != 0)
		return r;
	r = simdom_verify(d, !no_running, err, sizeof(err));
	simdom_info(d, &si);
	simdom_close(d);
	if (r != 0) {
		printf("%s: FAILED: %s\n", si.name, err[0] ? err : xmig_strerror(r));
		return 1;
	}
	printf("%s: OK (%llu pages, %llu writes, %s)\n", si.name,
	    (unsigned long long)(si.memory / SIM_PAGE_SIZE), (unsigned long long)si.writes,
	    sim_state_name(si.state));
	return 0;
}

/* The domain process itself, started by simdom_start(). */
static int
simhv_run(const char *root, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "paused", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *id = NULL;
	bool paused = false;
	int r;

	if ((r = simhv_getopt(argc, argv, opts, 1, &id, "ID [--paused]", simhv_flag_opt,
	    &paused)) != 0)
		return r;
	return simdom_run(root, id, paused);
}

/* journal-check [ROOT|FILE]...: the journals of one or more roots (a
 * directory stands for its journal, none for -r's), merged; exit 0 when
 * no two copies of a guest ran at once, 1 when some did, 2 when a journal
 * cannot be read.  A root without a journal never had a domain. */
static int
simhv_journal_check(const char *root, int argc, char **argv)
{
	char **paths;
	const char **use;
	size_t n = 0;
	int i, r;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			return simhv_usage_error("journal-check", "[ROOT|FILE]...",
			    "unknown option '%s'", argv[i]);
		}
	}
	if (argc == 1 && (root == NULL || root[0] == '\0'))
		return simhv_usage_error("journal-check", "[ROOT|FILE]...", "%s",
		    "no journal: name roots or files, or use -r ROOT");
	paths = calloc((size_t)argc, sizeof(*paths));
	use = calloc((size_t)argc, sizeof(*use));
	if (paths == NULL || use == NULL) {
		free(paths);
		free(use);
		fprintf(stderr, "simhv journal-check: out of memory\n");
		return 2;
	}
	for (i = argc == 1 ? 0 : 1; i < argc; i++) {
		const char *a = argc == 1 ? root : argv[i];
		struct stat st;

		if (stat(a, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (asprintf(&paths[i], "%s/%s", a, SIMJOURNAL_FILE) < 0) {
				paths[i] = NULL;
				continue;
			}
			if (access(paths[i], F_OK) != 0 && errno == ENOENT)
				continue;	/* never had a domain */
			use[n++] = paths[i];
		} else {
			use[n++] = a;
		}
	}
	r = simjournal_check(use, n, stdout);
	for (i = 0; i < argc; i++)
		free(paths[i]);
	free(paths);
	free(use);
	return r;
}

static const struct simhv_cmd simhv_cmds[] = {
	{ "create", simhv_create, SIMHV_CREATE_ARGS },
	{ "list", simhv_list, "[--json]" },
	{ "info", simhv_info, "NAME [--json]" },
	{ "pause", simhv_state_op, "NAME" },
	{ "unpause", simhv_state_op, "NAME" },
	{ "destroy", simhv_state_op, "NAME" },
	{ "shutdown", simhv_state_op, "NAME" },
	{ "rename", simhv_rename, "OLD NEW" },
	{ "throttle", simhv_throttle, "NAME PCT" },
	{ "verify", simhv_verify, "NAME [--no-running]" },
	{ "run", simhv_run, "ID [--paused]" },
	{ "journal-check", simhv_journal_check, "[ROOT|FILE]..." },
};

int
main(int argc, char **argv)
{
	const char *root = getenv("SIMHV_ROOT");
	size_t c;
	int i = 1;

	log_init("simhv", false, LOG_LVL_INFO);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-r") == 0 || strcmp(argv[i], "--root") == 0) {
			if (++i == argc) {
				fprintf(stderr, "simhv: %s needs a directory\n", argv[i - 1]);
				return EXIT_USAGE;
			}
			root = argv[i];
		} else if (strncmp(argv[i], "--root=", 7) == 0) {
			root = argv[i] + 7;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(simhv_usage, stdout);
			return 0;
		} else {
			fprintf(stderr, "simhv: unknown option '%s' (try simhv --help)\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (i == argc) {
		fprintf(stderr, "simhv: no command given (try simhv --help)\n");
		return EXIT_USAGE;
	}
	for (c = 0; c < sizeof(simhv_cmds) / sizeof(simhv_cmds[0]); c++)
		if (strcmp(argv[i], simhv_cmds[c].name) == 0)
			break;
	if (c == sizeof(simhv_cmds) / sizeof(simhv_cmds[0])) {
		fprintf(stderr, "simhv: unknown command '%s' (try simhv --help)\n", argv[i]);
		return EXIT_USAGE;
	}
	if ((root == NULL || root[0] == '\0') && strcmp(argv[i], "journal-check") != 0) {
		fprintf(stderr, "simhv %s: no root directory: use -r ROOT or set SIMHV_ROOT\n",
		    argv[i]);
		return EXIT_USAGE;
	}
	return simhv_cmds[c].fn(root, argc - i, argv + i);
}
