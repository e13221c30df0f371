/* xmig.h - the xmig command line: shared pieces of main.c, cmd.c, output.c.
 *
 * main.c parses global options, dispatches and owns the help texts and the
 * option parser; cmd.c talks to xmigd; output.c turns replies into tables,
 * progress lines and summaries.
 */
#ifndef XMIG_CLI_H
#define XMIG_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ctlmsg.h"

#define XMIG_CLI_VERSION "0.1.0"

/* Exit codes, documented in the usage text. */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,	/* failed, cancelled or refused by xmigd */
	EXIT_USAGE = 2,
	EXIT_NO_DAEMON = 3,	/* cannot reach xmigd, or lost contact with it */
	EXIT_AMBIGUOUS = 4,	/* outcome unknown: the domain is left paused here */
};

struct cli {
	const char *socket;	/* xmigd's control socket */
};

/* ---- main.c: option parsing and help ---- */

struct opt {
	char short_name;	/* 0 = long only */
	const char *long_name;
	bool has_arg;
	int id;
};

/* Walks a command's arguments; options and positionals may be mixed
 * (xm style), "--" ends the options. */
struct argp {
	const char *cmd;	/* for messages */
	int argc;
	char **argv;
	int i;
	const char *cluster;	/* rest of a "-abc" group */
	bool only_pos;
};

enum { ARGP_END = -1, ARGP_ERROR = -2, ARGP_POS = -3, ARGP_HELP = -4 };

void argp_init(struct argp *p, const char *cmd, int argc, char **argv);
/* Next option id, ARGP_POS (positional in *val), ARGP_HELP (-h/--help),
 * ARGP_END, or ARGP_ERROR after printing the usage error. */
int argp_next(struct argp *p, const struct opt *opts, const char **val);

/* Print "xmig: CMD: message; see 'xmig help CMD'" and return EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A command's help text on out. */
void print_usage(FILE *out, const char *cmd);

/* ---- cmd.c: the commands ---- */

int cmd_migrate(const struct cli *cli, int argc, char **argv);
int cmd_list(const struct cli *cli, int argc, char **argv);
int cmd_jobs(const struct cli *cli, int argc, char **argv);
int cmd_job(const struct cli *cli, int argc, char **argv);
int cmd_watch(const struct cli *cli, int argc, char **argv);
int cmd_cancel(const struct cli *cli, int argc, char **argv);
int cmd_status(const struct cli *cli, int argc, char **argv);
int cmd_history(const struct cli *cli, int argc, char **argv);
int cmd_pin(const struct cli *cli, int argc, char **argv);
int cmd_unpin(const struct cli *cli, int argc, char **argv);
int cmd_maintenance(const struct cli *cli, int argc, char **argv);
int cmd_balance(const struct cli *cli, int argc, char **argv);
/* config.c: "config import-xend", needs no daemon */
int cmd_config(const struct cli *cli, int argc, char **argv);

/* ---- output.c: formatting ---- */

/* A figure of a reply as a count: unset or negative reads as 0. */
uint64_t u64(int64_t v);
/* s with control characters replaced by '?', so that text from xmigd is
 * always one line; cut to fit n. */
const char *clean(char *buf, size_t n, const char *s);
/* "1.08 GiB", "812.0 MiB", "64 KiB", "100 B". */
const char *fmt_bytes(char *buf, size_t n, uint64_t bytes);
/* Print JSON to stdout, indented, with a final newline. */
void print_json(const json_t *v);

void print_domains(const struct ctl_domain_list *l);
void print_jobs(const struct ctl_job_list *l);
void print_history(const struct ctl_job_list *l);
void print_job(const struct ctl_job *j);
void print_status(const struct ctl_status *st, const char *socket);
/* `xmig maintenance status`: the host state and the last evacuation. */
void print_maint(const struct ctl_maint_status *st);
/* `xmig balance`: the header line of a run; the plan as a table (--dry-run);
 * what this host does not run (other hosts' moves, held moves, hosts the
 * policy could not fix) and the hosts emptied. */
void print_balance_head(const struct ctl_balance *b);
void print_balance_plan(const struct ctl_balance *b);
void print_balance_notes(const struct ctl_balance *b);

/* The progress line of a running job, redrawn in place on stderr. */
void progress_show(const struct ctl_job *j, const char *peer);
void progress_clear(void);
/* The end of a job: summary to stdout or error line to stderr; with json
 * the result object on stdout instead of the summary.  Returns the exit
 * code for the job's result. */
int print_result(const struct ctl_job *j, const char *peer, bool json);

#endif
