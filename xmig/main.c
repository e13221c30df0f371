/* main.c - xmig: global options, command dispatch, help texts and the
 * option parser every command uses.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "conf.h"
#include "xend_import.h"
#include "xmig.h"

#define EXIT_CODES \
	"exit status:\n" \
	"  0  success (migrate: the domain runs on the destination)\n" \
	"  1  the operation failed: the migration failed or was cancelled (the\n" \
	"     domain still runs on this host), or xmigd refused the request\n" \
	"  2  usage error\n" \
	"  3  cannot reach xmigd (or lost contact with it)\n" \
	"  4  migration outcome unknown: the domain is left paused on this host\n" \
	"     as DOM--migratedaway (see 'xmig help migrate')\n"

static const char usage_main[] =
	"usage: xmig [-S SOCKET] COMMAND [ARGS...]\n"
	"\n"
	"Live migration of Xen domains through the local xmigd.\n"
	"\n"
	"commands:\n"
	"  migrate [-ls] [-r MBIT] DOM HOST  move domain DOM to HOST\n"
	"  list                              domains on this host\n"
	"  jobs                              running and recent migrations\n"
	"  job JOB                           one migration in detail (alias: progress)\n"
	"  watch JOB                         follow a running migration\n"
	"  cancel JOB                        abort a migration; the domain stays here\n"
	"  status                            the local xmigd\n"
	"  history                           finished migrations, from xmigd's records\n"
	"  pin [--manual-too] DOM            keep DOM here (no automatic migration)\n"
	"  unpin DOM                         undo pin\n"
	"  maintenance enter|exit|status     evacuate this host for maintenance\n"
	"  balance [--policy P] [--dry-run]  spread or pack the cluster's domains\n"
	"  config import-xend [FILE]         xmigd.conf from xend-config.sxp\n"
	"  help [COMMAND]                    this text, or a command's\n"
	"\n"
	"global options (before COMMAND):\n"
	"  -S, --socket PATH   xmigd's control socket (default: $XMIG_SOCKET,\n"
	"                      else " CONF_DEFAULT_CONTROL_SOCKET ")\n"
	"  -h, --help          this text\n"
	"  -V, --version       print xmig's version\n"
	"\n"
	"'xmig help COMMAND' or 'xmig COMMAND --help' describes a command.\n"
	"\n"
	EXIT_CODES;

static const char usage_migrate[] =
	"usage: xmig migrate [OPTIONS] DOM HOST\n"
	"\n"
	"Migrate domain DOM (name or id) to HOST, a host name or address whose\n"
	"xmigd runs a relocation server: HOST, HOST:PORT, IPv6 or [IPv6]:PORT.\n"
	"Options may come before or after DOM and HOST.\n"
	"\n"
	"  -l, --live          live migration: copy memory while DOM runs and\n"
	"                      pause it only for the last round (default: offline,\n"
	"                      DOM is paused for the whole copy)\n"
	"  -s, --ssl           mutual TLS to HOST's TLS relocation port, with\n"
	"                      xmigd's ssl-key-file, ssl-cert-file and ssl-ca-file\n"
	"                      (HOST's certificate must name HOST as given here)\n"
	"  -p, --port PORT     the destination's relocation port, 1-65535\n"
	"                      (default 8002, 8003 with --ssl; overrides HOST:PORT)\n"
	"  -r, --resource MBIT at most MBIT Mbit/s on the wire, 1-10000000, or 0\n"
	"                      for no cap (default: xmigd's migration-bandwidth-mbit)\n"
	"      --downtime MS   target downtime of a live migration in ms, 1-600000\n"
	"                      (default: xmigd's migration-downtime-ms)\n"
	"      --max-rounds N  at most N live copy rounds, 1-100000\n"
	"                      (default: xmigd's migration-max-rounds)\n"
	"      --max-factor F  stop copying live after sending F times DOM's RAM,\n"
	"                      1-100 (default: xmigd's migration-max-factor)\n"
	"      --auto-converge throttle DOM while its pre-copy makes no progress\n"
	"                      (the throttle is always removed again)\n"
	"      --no-auto-converge  never throttle DOM, whatever xmigd's\n"
	"                      migration-auto-converge says\n"
	"      --compress ALGO compress page data: zstd, lz4, none, or auto (only\n"
	"                      when the link is slower than the compressor)\n"
	"      --json          print one JSON object with the result and figures\n"
	"                      instead of the progress line and summary\n"
	"      --force         migrate DOM even if 'xmig pin --manual-too' pinned it\n"
	"  -h, --help          this text\n"
	"\n"
	"On a terminal one progress line is redrawn in place; at the end a summary\n"
	"line goes to stdout, or an error line to stderr.  Ctrl-C cancels the\n"
	"migration (DOM stays here) and waits for the end; a second Ctrl-C leaves\n"
	"at once while xmigd finishes cancelling.\n"
	"\n"
	"exit status:\n"
	"  0  DOM runs on HOST\n"
	"  1  the migration failed or was cancelled and DOM still runs here, or\n"
	"     xmigd refused it (no such domain, ...)\n"
	"  2  usage error\n"
	"  3  cannot reach xmigd (or lost contact with it: see 'xmig jobs')\n"
	"  4  outcome unknown: DOM is left paused here as DOM--migratedaway; check\n"
	"     'xmig list' on HOST, then destroy or unpause the copy here\n";

static const char usage_list[] =
	"usage: xmig list [--json]\n"
	"\n"
	"The domains on this host: ID NAME MEM(MiB) VCPUS STATE TYPE PINNED (auto:\n"
	"no automatic migration, all: manual ones need --force too, -: not pinned).\n"
	"\n"
	"  --json      the domains as a JSON array\n"
	"  -h, --help  this text\n"
	"\n"
	EXIT_CODES;

static const char usage_jobs[] =
	"usage: xmig jobs [--json]\n"
	"\n"
	"Running and recent migrations, outgoing (DIR out) and incoming (in).\n"
	"\n"
	"  --json      the jobs as a JSON array\n"
	"  -h, --help  this text\n"
	"\n"
	EXIT_CODES;

static const char usage_job[] =
	"usage: xmig job [--json] JOB\n"
	"       xmig progress [--json] JOB\n"
	"\n"
	"One migration job in detail: state, round, bytes, rates, timings.\n"
	"\n"
	"  --json      the job as a JSON object\n"
	"  -h, --help  this text\n"
	"\n"
	EXIT_CODES;

static const char usage_watch[] =
	"usage: xmig watch [--json] JOB\n"
	"\n"
	"Follow a migration job to its end, as 'xmig migrate' does: a progress\n"
	"line on a terminal, then the summary.  Ctrl-C stops watching; the\n"
	"migration goes on (stop it with 'xmig cancel JOB').\n"
	"\n"
	"  --json      print the result as one JSON object at the end\n"
	"  -h, --help  this text\n"
	"\n"
	"exit status: as 'xmig migrate' for the job's result (0 success,\n"
	"1 failed or cancelled, 2 usage error, 3 cannot reach xmigd, 4 outcome\n"
	"unknown).\n";

static const char usage_cancel[] =
	"usage: xmig cancel JOB\n"
	"\n"
	"Abort a running migration.  The domain keeps running on the source host\n"
	"and the destination keeps nothing.  A job past its commit point cannot\n"
	"be cancelled any more and ends normally.\n"
	"\n"
	"  -h, --help  this text\n"
	"\n"
	EXIT_CODES;

static const char usage_status[] =
	"usage: xmig status [--json]\n"
	"\n"
	"The local xmigd: host name, backend, version, relocation port, pid.\n"
	"\n"
	"  --json      as a JSON object\n"
	"  -h, --help  this text\n"
	"\n"
	EXIT_CODES;

static const char usage_history[] =
	"usage: xmig history [--json]\n"
	"\n"
	"The last 50 finished migrations, outgoing and incoming, from the records\n"
	"xmigd writes to STATE_DIR/jobs/ when a job ends (they survive restarts of\n"
	"xmigd; job ids do not, hence the STARTED column).\n"
	"\n"
	"  --json      the records as a JSON array, oldest first\n"
	"  -h, --help  this text\n"
	"\n"
	EXIT_CODES;

static const char usage_config[] =
	"usage: xmig config import-xend [-o OUT [-f]] [FILE]\n"
	"\n"
	"Write the xmigd.conf equivalent to the relocation settings of xend's\n"
	"configuration FILE (default " XEND_DEFAULT_CONFIG "; '-' reads stdin):\n"
	"xend-relocation-server, -port, -address, -hosts-allow and the SSL ones.\n"
	"Settings are read as xend read them (xend-relocation-server defaults to\n"
	"no).  Hosts-allow regexes keep what they allowed under xend: xend matched\n"
	"them from the start only, xmigd matches whole names, so an entry not\n"
	"ending in '$' gets '.*'.  Each thing without an equivalent is one warning\n"
	"line on stderr.  The result is checked as 'xmigd --check-config' would.\n"
	"Needs no running xmigd.\n"
	"\n"
	"  -o, --output OUT    write to OUT (atomically) instead of stdout\n"
	"  -f, --force         replace OUT if it exists\n"
	"  -h, --help          this text\n"
	"\n"
	"exit status: 0 written (maybe with warnings), 1 FILE cannot be read or\n"
	"converted (nothing written), 2 usage error.\n";

static const char usage_pin[] =
	"usage: xmig pin [--manual-too] DOM\n"
	"\n"
	"Pin domain DOM to this host: no automatic migration (maintenance\n"
	"evacuation, balance).  Kept in xmigd's state directory by name and uuid.\n"
	"A pinned domain blocks 'xmig maintenance enter' (unless --shutdown-pinned).\n"
	"\n"
	"  --manual-too  refuse 'xmig migrate DOM' too, unless it is given --force\n"
	"  -h, --help    this text\n"
	"\n"
	EXIT_CODES;

static const char usage_unpin[] =
	"usage: xmig unpin DOM\n"
	"\n"
	"Undo 'xmig pin DOM'.\n"
	"\n"
	"  -h, --help  this text\n"
	"\n"
	EXIT_CODES;

static const char usage_maintenance[] =
	"usage: xmig maintenance enter [--to HOST,...] [--parallel N] [--live|--offline]\n"
	"                              [--reason TEXT] [--shutdown-pinned] [--json]\n"
	"       xmig maintenance exit\n"
	"       xmig maintenance status [--json]\n"
	"\n"
	"enter: put this host into maintenance.  It becomes preparing-for-maintenance\n"
	"(incoming migrations are refused), asks each peer in cluster-peers for its\n"
	"free memory and state, and migrates every domain away, largest first, each\n"
	"to the peer with the most free memory left after taking it, chosen when\n"
	"its migration starts; at most one incoming migration per peer at a time.\n"
	"When all are gone the host is in maintenance.  Pinned domains ('xmig pin')\n"
	"block it before anything moves.  A domain that cannot be placed or whose\n"
	"migration fails stays; the others go on, the host stays\n"
	"preparing-for-maintenance and each domain left is named with the reason.\n"
	"exit: back to active.  status: the state and the last evacuation.\n"
	"The host state survives restarts of xmigd.\n"
	"\n"
	"  --to HOST,...       only these peers (names as in cluster-peers)\n"
	"  --parallel N        at most N migrations at once, 1-64 (default 2)\n"
	"  -l, --live          live migrations (the default)\n"
	"      --offline       offline migrations\n"
	"      --reason TEXT   shown by 'xmig status' and 'maintenance status'\n"
	"      --shutdown-pinned  shut pinned domains down cleanly (after the others\n"
	"                         left) instead of refusing\n"
	"      --json          status or the final report as JSON\n"
	"  -h, --help          this text\n"
	"\n"
	"exit status: 0 the host is in maintenance (enter) or the request was done,\n"
	"1 domains were left or xmigd refused, 2 usage error, 3 cannot reach xmigd.\n";

static const char usage_balance[] =
	"usage: xmig balance [--policy even|power-saving] [--dry-run] [--max-moves N]\n"
	"                    [--json]\n"
	"\n"
	"Plan where the cluster's domains should run, from this host's facts and\n"
	"those of each peer in cluster-peers (memory, vCPUs, domains, pins), and\n"
	"run the moves whose source is this host: live, at most 2 at once, at most\n"
	"one incoming per peer, each checked again on fresh facts when it starts.\n"
	"Moves from other hosts are not run from here: they are listed as left to\n"
	"their host ('xmig balance' there, or its balance-interval, runs them).\n"
	"A move of ours that needs another host's moves first is held.  Pinned\n"
	"domains ('xmig pin') never move.\n"
	"\n"
	"even: hosts above balance-high-percent (memory or vCPU load) move domains\n"
	"to the peers with the most room under it, with as few moves as it takes.\n"
	"power-saving: hosts below balance-low-percent are emptied, all or nothing,\n"
	"their domains packed onto the busiest hosts that stay under\n"
	"balance-high-percent; an emptied host can then enter maintenance.\n"
	"\n"
	"      --policy P      even (the default) or power-saving\n"
	"      --dry-run       print the plan (domain, from, to, why) and move nothing\n"
	"      --max-moves N   plan at most N moves, 1-100000 (default: no limit)\n"
	"      --json          the plan, or the final report, as JSON\n"
	"  -h, --help          this text\n"
	"\n"
	"exit status: 0 every move run from this host succeeded (or --dry-run),\n"
	"1 a move failed or could not start (its domain stays here) or xmigd\n"
	"refused, 2 usage error, 3 cannot reach xmigd.\n";

static const char usage_help[] =
	"usage: xmig help [COMMAND]\n"
	"\n"
	"xmig's commands, or the options of one.\n";

static int cmd_help(const struct cli *cli, int argc, char **argv);

static const struct command {
	const char *name;
	int (*run)(const struct cli *cli, int argc, char **argv);
	const char *usage;
} commands[] = {
	{ "migrate", cmd_migrate, usage_migrate },
	{ "list", cmd_list, usage_list },
	{ "jobs", cmd_jobs, usage_jobs },
	{ "job", cmd_job, usage_job },
	{ "progress", cmd_job, usage_job },
	{ "watch", cmd_watch, usage_watch },
	{ "cancel", cmd_cancel, usage_cancel },
	{ "status", cmd_status, usage_status },
	{ "history", cmd_history, usage_history },
	{ "pin", cmd_pin, usage_pin },
	{ "unpin", cmd_unpin, usage_unpin },
	{ "maintenance", cmd_maintenance, usage_maintenance },
	{ "balance", cmd_balance, usage_balance },
	{ "config", cmd_config, usage_config },
	{ "help", cmd_help, usage_help },
};

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void
print_usage(FILE *out, const char *cmd)
{
	const struct command *c = cmd ? find_command(cmd) : NULL;

	fputs(c ? c->usage : usage_main, out);
}

int
usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("xmig: ", stderr);
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "; see 'xmig help %s'\n", cmd);
	else
		fputs("; see 'xmig help'\n", stderr);
	return EXIT_USAGE;
}

void
argp_init(struct argp *p, const char *cmd, int argc, char **argv)
{
	memset(p, 0, sizeof(*p));
	p->cmd = cmd;
	p->argc = argc;
	p->argv = argv;
}

/* The value of an option that takes one: the rest of the "-pVALUE" group,
 * or the next argument. */
static int
argp_value(struct argp *p, const char *shown, const struct opt *o, const char **val)
{
	if (p->cluster && *p->cluster) {
		*val = p->cluster;
		p->cluster = NULL;
		return o->id;
	}
	p->cluster = NULL;
	if (p->i >= p->argc) {
		usage_error(p->cmd, "option '%s' needs a value", shown);
		return ARGP_ERROR;
	}
	*val = p->argv[p->i++];
	return o->id;
}

int
argp_next(struct argp *p, const struct opt *opts, const char **val)
{
	const struct opt *o;
	const char *a;

	*val = NULL;
	if (p->cluster && *p->cluster) {
		char c = *p->cluster++;
		char shown[3] = { '-', c, '\0' };

		if (c == 'h')
			return ARGP_HELP;
		for (o = opts; o->long_name || o->short_name; o++)
			if (o->short_name == c)
				return o->has_arg ? argp_value(p, shown, o, val) : o->id;
		usage_error(p->cmd, "unknown option '-%c'", c);
		return ARGP_ERROR;
	}
	p->cluster = NULL;
	if (p->i >= p->argc)
		return ARGP_END;
	a = p->argv[p->i++];
	/* "-" and negative numbers are arguments, so that "xmig job -1" is
	 * a bad job number rather than an unknown option. */
	if (p->only_pos || a[0] != '-' || a[1] == '\0' || (a[1] >= '0' && a[1] <= '9')) {
		*val = a;
		return ARGP_POS;
	}
	if (strcmp(a, "--") == 0) {
		p->only_pos = true;
		return argp_next(p, opts, val);
	}
	if (a[1] != '-') {
		p->cluster = a + 1;
		return argp_next(p, opts, val);
	}
	/* "--name" or "--name=value" */
	{
		const char *eq = strchr(a + 2, '=');
		size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);

		if (eq == NULL && strcmp(a, "--help") == 0)
			return ARGP_HELP;
		for (o = opts; o->long_name || o->short_name; o++) {
			if (o->long_name == NULL || strlen(o->long_name) != n ||
			    strncmp(o->long_name, a + 2, n) != 0)
				continue;
			if (eq && !o->has_arg) {
				usage_error(p->cmd, "option '--%s' takes no value", o->long_name);
				return ARGP_ERROR;
			}
			if (eq) {
				*val = eq + 1;
				return o->id;
			}
			return o->has_arg ? argp_value(p, a, o, val) : o->id;
		}
		usage_error(p->cmd, "unknown option '%.*s'", (int)(n + 2), a);
		return ARGP_ERROR;
	}
}

static int
cmd_help(const struct cli *cli, int argc, char **argv)
{
	static const struct opt opts[] = { { 0, NULL, false, 0 } };
	const char *topic = NULL, *v;
	struct argp p;
	int c;

	argp_init(&p, "help", argc, argv);
	while ((c = argp_next(&p, opts, &v)) != ARGP_END) {
		if (c == ARGP_ERROR)
			return EXIT_USAGE;
		if (c == ARGP_HELP) {
			fputs(usage_help, stdout);
			return EXIT_OK;
		}
		if (topic)
			return usage_error("help", "unexpected argument '%s'", v);
		topic = v;
	}
	if (topic && find_command(topic) == NULL)
		return usage_error(NULL, "unknown command '%s'", topic);
	print_usage(stdout, topic);
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	struct cli cli = { .socket = getenv("XMIG_SOCKET") };
	const struct command *c;
	int i;

	if (cli.socket == NULL || cli.socket[0] == '\0')
		cli.socket = CONF_DEFAULT_CONTROL_SOCKET;
	/* Global options end at the first non-option: the command. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage_main, stdout);
			return EXIT_OK;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("xmig %s\n", XMIG_CLI_VERSION);
			return EXIT_OK;
		}
		if (strcmp(a, "-S") == 0 || strcmp(a, "--socket") == 0) {
			if (++i >= argc)
				return usage_error(NULL, "option '%s' needs a value", a);
			cli.socket = argv[i];
		} else if (strncmp(a, "--socket=", 9) == 0) {
			cli.socket = a + 9;
		} else if (strncmp(a, "-S", 2) == 0) {
			cli.socket = a + 2;
		} else if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else {
			return usage_error(NULL, "unknown option '%s'", a);
		}
		if (cli.socket[0] == '\0')
			return usage_error(NULL, "empty socket path");
	}
	if (strlen(cli.socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return usage_error(NULL, "socket path '%s' is too long", cli.socket);
	if (i >= argc) {
		fputs("xmig: no command given; see 'xmig help'\n", stderr);
		return EXIT_USAGE;
	}
	if ((c = find_command(argv[i])) == NULL)
		return usage_error(NULL, "unknown command '%s'", argv[i]);
	/* Commands see their own arguments only. */
	return c->run(&cli, argc - i - 1, argv + i + 1);
}
