/* fuzz_conf.c - libFuzzer target: the xmigd.conf parser.
 *
 * The input is a configuration file.  conf_parse_buffer parses it over the
 * defaults, then:
 *   - on error, the configuration is left exactly as it was, and the
 *     message is a terminated "fuzz.conf:..." line;
 *   - on success, conf_check accepts it (every value the parser took must
 *     pass the cross-field checks), and conf_dump's output parses back to
 *     exactly the same configuration and dumps to the same text.
 * Any broken rule aborts, which libFuzzer reports as a crash.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_conf: contract broken at %s:%d: %s\n", __FILE__, \
		    __LINE__, #cond); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
dump(const struct conf *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	CHECK(f != NULL);
	conf_dump(c, f);
	CHECK(fclose(f) == 0);
	return buf;
}

#define SAME_STR(a, b, f) (strncmp((a)->f, (b)->f, sizeof((a)->f)) == 0)

static void
check_same(const struct conf *a, const struct conf *b)
{
	CHECK(a->relocation_server == b->relocation_server);
	CHECK(a->relocation_port == b->relocation_port);
	CHECK(SAME_STR(a, b, relocation_address));
	CHECK(SAME_STR(a, b, relocation_hosts_allow));
	CHECK(SAME_STR(a, b, control_socket));
	CHECK(SAME_STR(a, b, state_dir));
	CHECK(a->backend == b->backend);
	CHECK(SAME_STR(a, b, sim_root));
	CHECK(a->sim_memory == b->sim_memory);
	CHECK(SAME_STR(a, b, host_name));
	CHECK(a->log_level == b->log_level);
	CHECK(a->downtime_ms == b->downtime_ms);
	CHECK(a->max_rounds == b->max_rounds);
	/* conf_dump writes the shortest decimal that reads back exactly. */
	CHECK(a->max_factor == b->max_factor);
	CHECK(a->max_incoming == b->max_incoming);
	CHECK(a->max_connections == b->max_connections);
	CHECK(a->lookup_timeout_ms == b->lookup_timeout_ms);
	CHECK(SAME_STR(a, b, control_socket_group));
	CHECK(a->cluster_ssl == b->cluster_ssl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf c, before, again;
	char err[1024], err2[1024];
	char *buf, *text, *text2;
	size_t len, len2;
	int r;

	/* An exact-size heap copy: ASan sees a read past the end. */
	buf = malloc(size ? size : 1);
	CHECK(buf != NULL);
	if (size > 0)
		memcpy(buf, data, size);
	conf_init(&c);
	before = c;
	memset(err, 0x55, sizeof(err));
	r = conf_parse_buffer(&c, "fuzz.conf", buf, size, err, sizeof(err));
	free(buf);
	if (r != 0) {
		CHECK(r < 0);
		CHECK(memcmp(&c, &before, sizeof(c)) == 0);
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		CHECK(strncmp(err, "fuzz.conf:", 10) == 0 && err[10] != '\0');
		return 0;
	}
	/* What parses passes conf_check, except the TLS files: those are
	 * checked together and on disk (key, cert and CA all readable, and
	 * present when relocation-ssl-server or cluster-ssl wants them), which
	 * no parse of a single line can promise.  Then the failure must still
	 * be one line. */
	r = conf_check(&c, err, sizeof(err));
	if (r != 0 && !(conf_tls_configured(&c) || c.relocation_ssl_server || c.cluster_ssl))
		fprintf(stderr, "fuzz_conf: parsed, but conf_check says: %s\n", err);
	CHECK(r == 0 || conf_tls_configured(&c) || c.relocation_ssl_server || c.cluster_ssl);
	if (r != 0)
		CHECK(r < 0 && err[0] != '\0' && strchr(err, '\n') == NULL);

	text = dump(&c, &len);
	conf_init(&again);
	r = conf_parse_buffer(&again, "dump", text, len, err2, sizeof(err2));
	if (r != 0)
		fprintf(stderr, "fuzz_conf: conf_dump output does not parse: %s\n%s", err2, text);
	CHECK(r == 0);
	check_same(&c, &again);
	text2 = dump(&again, &len2);
	CHECK(len == len2 && memcmp(text, text2, len) == 0);
	free(text);
	free(text2);
	return 0;
}
