/* testpeer - a scripted relocation peer for the integration tests.
 *
 * It speaks the relocation protocol the way a hostile but allowed peer
 * could: each argument after the address is one step, run in order, and
 * every frame it reads is printed as one line ("recv TYPE ..."), so that a
 * test can drive a daemon through sequences xmig never sends and check
 * what it answered.
 *
 *   testpeer [-b SRCADDR] HOST PORT STEP...
 *   testpeer -l ADDR PORT STEP...     (accept one connection: a fake receiver)
 *
 * Steps:
 *   hello                      send a HELLO like a sim host's, read the peer's
 *   sendhello [host=HEX]       only send one (a receiver answers a HELLO),
 *                              under a host name of any bytes
 *   send TYPE                  an empty frame of TYPE (PREPARE_OK, GO, ...)
 *   built                      BUILT (domid 1)
 *   until TYPE [MS]            read frames (not shown) until one of TYPE comes
 *   prepare NAME TOKEN PAGES [UUID]   PREPARE of a sim domain (hex token/uuid)
 *   query TOKEN                QUERY
 *   zeropages FIRST COUNT      a PAGES frame of zero pages
 *   end | go                   STREAM_END, GO
 *   abort HEXTEXT              ABORT(OTHER) whose reason is the given bytes
 *   refuse CODE HEXTEXT        REFUSE(CODE) likewise
 *   optional                   an empty frame of an unknown type, OPTIONAL
 *   trickle MS                 the next step's bytes one at a time, MS apart
 *   sleep MS
 *   expect TYPE [MS]           read frames until one comes; fail unless TYPE
 *   eof MS                     fail unless the peer closes within MS
 *
 * Exit: 0 when every step passed, 1 when an expectation failed, 2 on a
 * usage error, 3 when the connection failed or closed early.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "util.h"
#include "xbuf.h"

static int fd = -1;
static bool quiet;		/* do not show frames read */
static unsigned trickle_ms;	/* for the next send only */

static void
die(int code, const char *fmt, const char *arg)
{
	fprintf(stderr, "testpeer: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(code);
}

static uint64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
send_bytes(const uint8_t *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		size_t n = trickle_ms ? 1 : len - off;
		ssize_t w = send(fd, p + off, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			printf("send failed after %zu of %zu bytes: %s\n", off, len, strerror(errno));
			exit(3);
		}
		off += (size_t)w;
		if (trickle_ms && off < len)
			usleep(trickle_ms * 1000);
	}
}

static void
send_frame(uint8_t type, uint16_t flags, const uint8_t *pl, size_t len)
{
	uint8_t *f = malloc(FRAME_HDR_LEN + len);

	if (f == NULL)
		die(3, "%s", "out of memory");
	frame_hdr_encode(f, type, flags, (uint32_t)len);
	if (len > 0)
		memcpy(f + FRAME_HDR_LEN, pl, len);
	send_bytes(f, FRAME_HDR_LEN + len);
	trickle_ms = 0;
	free(f);
}

static int
hex_bytes(const char *hex, uint8_t *out, size_t max)
{
	size_t n = strlen(hex), i;

	if (n % 2 != 0 || n / 2 > max)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return (int)(n / 2);
}

/* A HELLO like a sim host's, under the host name given (any bytes). */
static void
send_hello(const char *host)
{
	struct msg_hello h = { .proto_min = PROTO_VERSION, .proto_max = PROTO_VERSION,
		.arch = "x86_64", .hv = "sim", .hv_version = "1", .page_size = PROTO_PAGE_SIZE,
		.mem_total = 1ull << 32, .mem_free = 1ull << 31 };
	uint8_t buf[1024];
	int n;

	snprintf(h.host, sizeof(h.host), "%s", host);
	if ((n = msg_hello_encode(&h, buf, sizeof(buf))) < 0)
		die(3, "%s", "cannot encode HELLO");
	send_frame(MSG_HELLO, 0, buf, (size_t)n);
}

/* REFUSE or ABORT with a reason of the given bytes, built by hand: the
 * encoder would not send text that is not UTF-8. */
static void
send_reason(uint8_t type, uint16_t code, const char *hex)
{
	uint8_t buf[4 + PROTO_REASON_MAX];
	int tl;

	if ((tl = hex_bytes(hex, buf + 4, PROTO_REASON_MAX - 1)) < 0)
		die(2, "bad hex text %s", hex);
	be16_put(buf, code);
	be16_put(buf + 2, (uint16_t)tl);
	send_frame(type, 0, buf, 4 + (size_t)tl);
}

/* Read exactly len bytes within the deadline: 0, 1 on timeout, 3 on EOF. */
static int
read_exact(uint8_t *p, size_t len, uint64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		uint64_t now = ms_now();
		ssize_t n;

		if (now >= deadline)
			return 1;
		if (poll(&pf, 1, (int)(deadline - now)) <= 0)
			continue;
		n = recv(fd, p + off, len - off, 0);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return 3;
		if (n > 0)
			off += (size_t)n;
	}
	return 0;
}

/* One frame, printed; its type, or -1 on timeout, -3 on EOF. */
static int
recv_frame(uint64_t deadline)
{
	uint8_t hdr[FRAME_HDR_LEN], *pl = NULL;
	struct frame_hdr h;
	int r;

	if ((r = read_exact(hdr, sizeof(hdr), deadline)) != 0)
		return -r;
	if (frame_hdr_decode(hdr, &h) != 0) {
		printf("recv bad header\n");
		return -3;
	}
	if (h.len > 0 && ((pl = malloc(h.len)) == NULL ||
	    (r = read_exact(pl, h.len, deadline)) != 0)) {
		free(pl);
		return -3;
	}
	if (quiet) {
		free(pl);
		return h.type;
	}
	printf("recv %s len %u", proto_type_str(h.type), h.len);
	if (h.type == MSG_REFUSE || h.type == MSG_ABORT) {
		struct msg_reason m;

		if (msg_reason_decode(pl, h.len, &m) == 0)
			printf(" code %u: %s", m.code, m.text);
	} else if (h.type == MSG_QUERY_REPLY) {
		struct msg_query_reply q;

		if (msg_query_reply_decode(pl, h.len, &q) == 0)
			printf(" outcome %u name '%s'", q.outcome, q.name);
	}
	printf("\n");
	fflush(stdout);
	free(pl);
	return h.type;
}


static int
type_of(const char *name)
{
	int t;

	for (t = 1; t <= MSG_TYPE_MAX; t++)
		if (strcmp(proto_type_str((uint8_t)t), name) == 0)
			return t;
	return -1;
}

static void
listen_on(const char *addr, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res;
	int lfd, one = 1;

	if (getaddrinfo(addr, port, &hints, &res) != 0)
		die(2, "cannot resolve %s", addr);
	if ((lfd = socket(res->ai_family, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(lfd, res->ai_addr, res->ai_addrlen) != 0 || listen(lfd, 1) != 0)
		die(3, "cannot listen: %s", strerror(errno));
	freeaddrinfo(res);
	printf("listening\n");
	if ((fd = accept(lfd, NULL, NULL)) < 0)
		die(3, "accept: %s", strerror(errno));
	close(lfd);
}

static void
connect_to(const char *host, const char *port, const char *src)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;

	if (getaddrinfo(host, port, &hints, &res) != 0)
		die(2, "cannot resolve %s", host);
	if ((fd = socket(res->ai_family, SOCK_STREAM, 0)) < 0)
		die(3, "socket: %s", strerror(errno));
	if (src != NULL) {
		struct sockaddr_in sa = { .sin_family = AF_INET };

		if (inet_pton(AF_INET, src, &sa.sin_addr) != 1 ||
		    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			die(2, "cannot bind to %s", src);
	}
	if (connect(fd, res->ai_addr, res->ai_addrlen) != 0)
		die(3, "connect: %s", strerror(errno));
	freeaddrinfo(res);
}

#define NEED(k) do { if (i + (k) >= argc) die(2, "%s: missing argument", argv[i]); } while (0)

int
main(int argc, char **argv)
{
	uint8_t buf[PROTO_REASON_MAX + 64];
	const char *src = NULL;
	int i = 1, n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	bool listening = false;

	if (argc > 2 && strcmp(argv[1], "-b") == 0) {
		src = argv[2];
		i = 3;
	} else if (argc > 1 && strcmp(argv[1], "-l") == 0) {
		listening = true;
		i = 2;
	}
	if (argc - i < 2)
		die(2, "%s", "usage: testpeer [-b SRCADDR | -l] HOST PORT STEP...");
	if (listening)
		listen_on(argv[i], argv[i + 1]);
	else
		connect_to(argv[i], argv[i + 1], src);
	for (i += 2; i < argc; i++) {
		const char *s = argv[i];

		if (strcmp(s, "hello") == 0) {
			send_hello("testpeer");
			if (recv_frame(ms_now() + 10000) != MSG_HELLO)
				return 3;
		} else if (strcmp(s, "sendhello") == 0) {
			char host[PROTO_HOST_MAX] = "testpeer";

			if (i + 1 < argc && strncmp(argv[i + 1], "host=", 5) == 0) {
				int hl = hex_bytes(argv[++i] + 5, (uint8_t *)host, sizeof(host) - 1);

				if (hl <= 0)
					die(2, "bad hex host %s", argv[i]);
				host[hl] = '\0';
			}
			send_hello(host);
		} else if (strcmp(s, "send") == 0) {
			int t;

			NEED(1);
			if ((t = type_of(argv[++i])) < 0)
				die(2, "unknown frame type %s", argv[i]);
			send_frame((uint8_t)t, 0, NULL, 0);
		} else if (strcmp(s, "built") == 0) {
			be32_put(buf, 1);
			send_frame(MSG_BUILT, 0, buf, 4);
		} else if (strcmp(s, "until") == 0) {
			uint64_t deadline;
			int want, got;

			NEED(1);
			if ((want = type_of(argv[++i])) < 0)
				die(2, "unknown frame type %s", argv[i]);
			deadline = ms_now() + 60000;
			if (i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9')
				deadline = ms_now() + strtoull(argv[++i], NULL, 0);
			quiet = true;
			while ((got = recv_frame(deadline)) > 0 && got != want)
				;
			quiet = false;
			if (got != want) {
				printf("no %s came\n", proto_type_str((uint8_t)want));
				return got == -3 ? 3 : 1;
			}
			printf("recv %s\n", proto_type_str((uint8_t)want));
		} else if (strcmp(s, "prepare") == 0) {
			struct msg_prepare p = { .vcpus = 1, .dom_type = DOMTYPE_SIM, .live = 1 };
			uint8_t *out = malloc(PROTO_CFG_MAX + 4096), cfg[8 + 8 + 1];

			NEED(3);
			strlcpy_x(p.name, argv[i + 1], sizeof(p.name));
			if (hex_bytes(argv[i + 2], p.token, 16) != 16)
				die(2, "bad token %s", argv[i + 2]);
			p.nr_pages = p.max_pages = strtoull(argv[i + 3], NULL, 0);
			i += 3;
			if (i + 1 < argc && strlen(argv[i + 1]) == 32 &&
			    hex_bytes(argv[i + 1], p.uuid, 16) == 16)
				i++;
			else	/* a uuid of its own: the token's bytes reversed */
				for (n = 0; n < 16; n++)
					p.uuid[n] = p.token[15 - n];
			/* the sim's configuration: no dirtying, zero fill */
			memset(cfg, 0, sizeof(cfg));
			p.cfg = cfg;
			p.cfg_len = sizeof(cfg);
			if (out == NULL || (n = msg_prepare_encode(&p, out, PROTO_CFG_MAX + 4096)) < 0)
				die(2, "%s", "cannot encode PREPARE");
			send_frame(MSG_PREPARE, 0, out, (size_t)n);
			free(out);
		} else if (strcmp(s, "query") == 0) {
			struct msg_query q;

			NEED(1);
			if (hex_bytes(argv[++i], q.token, 16) != 16)
				die(2, "bad token %s", argv[i]);
			n = msg_query_encode(&q, buf, sizeof(buf));
			send_frame(MSG_QUERY, 0, buf, (size_t)n);
		} else if (strcmp(s, "zeropages") == 0) {
			uint64_t first, count, k;
			uint8_t *f;

			NEED(2);
			first = strtoull(argv[i + 1], NULL, 0);
			count = strtoull(argv[i + 2], NULL, 0);
			i += 2;
			if (count == 0 || count > PROTO_PAGES_MAX)
				die(2, "%s", "zeropages: 1 to 512 pages");
			if ((f = malloc(PAGES_HEAD_LEN + 8 * count)) == NULL)
				die(3, "%s", "out of memory");
			be32_put(f, 0);			/* round */
			be32_put(f + 4, (uint32_t)count);
			for (k = 0; k < count; k++)
				be64_put(f + PAGES_HEAD_LEN + 8 * k,
				    ((uint64_t)PAGE_ZERO << 60) | (first + k));
			send_frame(MSG_PAGES, 0, f, PAGES_HEAD_LEN + 8 * count);
			free(f);
		} else if (strcmp(s, "end") == 0) {
			send_frame(MSG_STREAM_END, 0, NULL, 0);
		} else if (strcmp(s, "go") == 0) {
			send_frame(MSG_GO, 0, NULL, 0);
		} else if (strcmp(s, "abort") == 0) {
			NEED(1);
			send_reason(MSG_ABORT, REASON_OTHER, argv[++i]);
		} else if (strcmp(s, "refuse") == 0) {
			NEED(2);
			send_reason(MSG_REFUSE, (uint16_t)atoi(argv[i + 1]), argv[i + 2]);
			i += 2;
		} else if (strcmp(s, "optional") == 0) {
			send_frame(200, FRAME_F_OPTIONAL, NULL, 0);
		} else if (strcmp(s, "trickle") == 0) {
			NEED(1);
			trickle_ms = (unsigned)atoi(argv[++i]);
		} else if (strcmp(s, "sleep") == 0) {
			NEED(1);
			usleep((useconds_t)atoi(argv[++i]) * 1000);
		} else if (strcmp(s, "expect") == 0) {
			int want, got;
			uint64_t ms = 15000;

			NEED(1);
			if ((want = type_of(argv[++i])) < 0)
				die(2, "unknown frame type %s", argv[i]);
			if (i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9')
				ms = strtoull(argv[++i], NULL, 0);
			if ((got = recv_frame(ms_now() + ms)) != want) {
				printf("expected %s, got %s\n", proto_type_str((uint8_t)want),
				    got == -1 ? "nothing (timeout)" : got == -3 ? "EOF" :
				    proto_type_str((uint8_t)got));
				return 1;
			}
		} else if (strcmp(s, "eof") == 0) {
			uint64_t t0 = ms_now(), ms;
			int got;

			NEED(1);
			ms = strtoull(argv[++i], NULL, 0);
			while ((got = recv_frame(t0 + ms)) > 0)
				;
			if (got != -3) {
				printf("still open after %llu ms\n", (unsigned long long)ms);
				return 1;
			}
			printf("closed after %llu ms\n", (unsigned long long)(ms_now() - t0));
		} else {
			die(2, "unknown step %s", s);
		}
	}
	close(fd);
	return 0;
}
