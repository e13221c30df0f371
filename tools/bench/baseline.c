/*
 * xmig-baseline - what this machine can move, measured the same way every
 * time, so that `make bench` can report xmig's figures as ratios to it.
 *
 *   memcpy     copy between two large, pre-touched buffers (bytes/s)
 *   tcp        two plain processes on 127.0.0.1: one writes with large
 *              write()s from a small hot buffer, the other read()s into a
 *              small hot buffer -- the physical limit of the loopback path
 *   tcp_mem    the same, but both sides stream through large pre-touched
 *              regions (as xmig does: pages out of guest memory on one
 *              side, straight into guest memory on the other)
 *   tls        as tcp, through OpenSSL (TLS 1.3, AES-GCM), when --tls-cert
 *              and --tls-key are given
 *   shm_touch  with --shm DIR: first write to a fresh file mapping in DIR
 *              (tmpfs), the cost of the page faults a receiver pays when it
 *              reads into new guest memory
 *   tcp_shm    with --shm DIR: tcp, with the reader reading into a fresh
 *              file mapping in DIR
 *   shm_write  with --shm DIR: pwrite() of a hot 256 KiB buffer over a
 *              fresh sparse file in DIR: what populating new guest memory
 *              as pages arrive costs, without the network
 *   tcp_pwrite with --shm DIR: tcp, with the reader reading 256 KiB at a
 *              time into a hot buffer and pwrite()ing it into a fresh
 *              sparse file in DIR, as xmigd's receiver on the sim does: the
 *              limit of a destination whose memory comes as the stream does
 *
 * Each test runs several times; best and median are reported.  Output is
 * one JSON object on stdout.  Exit status 0 on success, 1 on a failed
 * measurement, 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define MiB (1024ull * 1024ull)
#define GiB (1024ull * MiB)
#define MAX_RUNS 64

struct opts {
	uint64_t memcpy_bytes;
	unsigned memcpy_runs;
	uint64_t tcp_bytes;
	unsigned tcp_runs;
	size_t io_size;
	uint64_t region_bytes;	/* tcp_mem: size of each side's region; 0: skip */
	const char *cert, *key, *ciphers;
	uint64_t tls_bytes;
	const char *shm_dir;	/* shm_touch and tcp_shm; NULL: skip */
};

static const char *prog = "xmig-baseline";

static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Anonymous memory, every page touched (and so not zero-page backed), so that
 * no first-touch fault lands inside a timed section. */
static uint8_t *
big_alloc(uint64_t n)
{
	uint8_t *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t i, x = 0x9e3779b97f4a7c15ull;

	if (p == MAP_FAILED)
		die("cannot map %llu MiB: %s", (unsigned long long)(n / MiB), strerror(errno));
	for (i = 0; i + 8 <= n; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, 8);
	}
	return p;
}

/* A new (unlinked) sparse file of n bytes in dir. */
static int
shm_file(const char *dir, uint64_t n)
{
	char path[4096];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/xmig-baseline.XXXXXX", dir) >= sizeof(path))
		die("--shm: directory name too long");
	if ((fd = mkstemp(path)) < 0)
		die("cannot create a file in %s: %s", dir, strerror(errno));
	unlink(path);
	if (ftruncate(fd, (off_t)n) != 0)
		die("cannot size %s to %llu MiB: %s", path, (unsigned long long)(n / MiB),
		    strerror(errno));
	return fd;
}

/* A fresh, never touched shared mapping of a new (unlinked) file in dir. */
static uint8_t *
shm_alloc(const char *dir, uint64_t n)
{
	int fd = shm_file(dir, n);
	uint8_t *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("cannot map a file in %s: %s", dir, strerror(errno));
	close(fd);
	return p;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Best and median of n rates (sorts v). */
static void
summarize(double *v, unsigned n, double *best, double *median)
{
	qsort(v, n, sizeof(*v), cmp_double);
	*best = v[n - 1];
	*median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void
print_rates(const char *name, const char *extra, uint64_t bytes, unsigned runs,
    double *v, bool last)
{
	double best, median;
	unsigned i;

	printf("  \"%s\": {%s\"bytes_per_run\": %llu, \"runs\": %u, \"Bps\": [", name, extra,
	    (unsigned long long)bytes, runs);
	for (i = 0; i < runs; i++)
		printf("%s%.0f", i ? ", " : "", v[i]);
	summarize(v, runs, &best, &median);
	printf("], \"best_Bps\": %.0f, \"median_Bps\": %.0f}%s\n", best, median, last ? "" : ",");
}

/* ---- memcpy ---- */

static void
bench_memcpy(const struct opts *o, double *rate)
{
	uint8_t *a = big_alloc(o->memcpy_bytes), *b = big_alloc(o->memcpy_bytes);
	volatile uint8_t sink;
	unsigned r;

	for (r = 0; r < o->memcpy_runs; r++) {
		double t0 = now_s(), dt;

		if (r % 2)
			memcpy(a, b, o->memcpy_bytes);
		else
			memcpy(b, a, o->memcpy_bytes);
		dt = now_s() - t0;
		rate[r] = (double)o->memcpy_bytes / dt;
	}
	sink = a[o->memcpy_bytes - 1] ^ b[0];
	(void)sink;
	munmap(a, o->memcpy_bytes);
	munmap(b, o->memcpy_bytes);
}

/* ---- first touch of tmpfs-backed shared memory ---- */

static void
bench_shm_touch(const struct opts *o, double *rate)
{
	unsigned r;

	for (r = 0; r < o->tcp_runs; r++) {
		uint8_t *p = shm_alloc(o->shm_dir, o->tcp_bytes);
		double t0 = now_s();

		memset(p, 0x5a, o->tcp_bytes);
		rate[r] = (double)o->tcp_bytes / (now_s() - t0);
		munmap(p, o->tcp_bytes);
	}
}

#define PWRITE_CHUNK (256u * 1024u)	/* the sim receiver's: 64 pages */

static void
pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("pwrite: %s", w < 0 ? strerror(errno) : "wrote nothing");
		p += w;
		off += (uint64_t)w;
		n -= (size_t)w;
	}
}

/* pwrite() over a fresh sparse file, from a hot buffer: each page of the
 * file is allocated by the write that first reaches it. */
static void
bench_shm_write(const struct opts *o, double *rate)
{
	static uint8_t buf[PWRITE_CHUNK] __attribute__((aligned(4096)));
	unsigned r;

	memset(buf, 0x5a, sizeof(buf));
	for (r = 0; r < o->tcp_runs; r++) {
		int fd = shm_file(o->shm_dir, o->tcp_bytes);
		uint64_t off;
		double t0 = now_s();

		for (off = 0; off + PWRITE_CHUNK <= o->tcp_bytes; off += PWRITE_CHUNK)
			pwrite_all(fd, buf, PWRITE_CHUNK, off);
		rate[r] = (double)off / (now_s() - t0);
		close(fd);
	}
}

/* ---- TCP and TLS over loopback ---- */

static int
listen_loopback(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket: %s", strerror(errno));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		die("listen on 127.0.0.1: %s", strerror(errno));
	*port = ntohs(sa.sin_port);
	return fd;
}

static int
connect_loopback(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));	/* as xmig does */
	return fd;
}

/* A buffer to stream from or into: `region` bytes cycled through in io_size
 * steps, or one io_size buffer when region is 0. */
struct stream_buf {
	uint8_t *p;
	uint64_t len, off;
	size_t io;
};

static void
sbuf_init(struct stream_buf *s, uint64_t region, size_t io)
{
	s->len = region > io ? region - region % io : io;
	s->p = big_alloc(s->len);
	s->off = 0;
	s->io = io;
}

static uint8_t *
sbuf_next(struct stream_buf *s)
{
	uint8_t *p;

	if (s->off + s->io > s->len)
		s->off = 0;
	p = s->p + s->off;
	s->off += s->io;
	return p;
}

static SSL_CTX *
tls_ctx(const struct opts *o, bool server)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (ctx == NULL)
		die("SSL_CTX_new failed");
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (SSL_CTX_set_ciphersuites(ctx, o->ciphers) != 1)
		die("--tls-ciphers '%s': not a TLS 1.3 cipher suite list", o->ciphers);
	if (server) {
		if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1)
			die("cannot load certificate %s", o->cert);
		if (SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1)
			die("cannot load key %s (or it does not match %s)", o->key, o->cert);
		/* no session tickets: the writer never reads them (see writer()) */
		SSL_CTX_set_num_tickets(ctx, 0);
	}
	/* The client does not verify: this measures the cipher, not the PKI. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

/* The child: connect and write `bytes`, then close.  Never returns. */
static void __attribute__((noreturn))
writer(const struct opts *o, uint16_t port, uint64_t bytes, bool tls, uint64_t region)
{
	struct stream_buf sb;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	uint64_t left = bytes;
	int fd;

	sbuf_init(&sb, region, o->io_size);
	if ((fd = connect_loopback(port)) < 0) {
		fprintf(stderr, "%s: writer: connect to 127.0.0.1:%u: %s\n", prog, port,
		    strerror(errno));
		_exit(1);
	}
	if (tls) {
		ctx = tls_ctx(o, false);
		ssl = SSL_new(ctx);
		if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1) {
			fprintf(stderr, "%s: writer: TLS handshake failed\n", prog);
			ERR_print_errors_fp(stderr);
			_exit(1);
		}
	}
	while (left > 0) {
		size_t k = left < o->io_size ? (size_t)left : o->io_size;
		uint8_t *p = sbuf_next(&sb);

		if (tls) {
			size_t w = 0;

			if (SSL_write_ex(ssl, p, k, &w) != 1) {
				fprintf(stderr, "%s: writer: SSL_write failed\n", prog);
				ERR_print_errors_fp(stderr);
				_exit(1);
			}
			left -= w;
		} else {
			ssize_t w = write(fd, p, k);

			if (w < 0) {
				if (errno == EINTR)
					continue;
				fprintf(stderr, "%s: writer: write: %s\n", prog, strerror(errno));
				_exit(1);
			}
			left -= (uint64_t)w;
		}
	}
	if (tls)
		SSL_shutdown(ssl);
	/* Lingering close: a close() with unread bytes pending (TLS 1.3 session
	 * tickets) would send a RST that can discard data the reader has not
	 * read yet.  Half-close, and drain until the reader closes. */
	shutdown(fd, SHUT_WR);
	for (;;) {
		uint8_t tmp[4096];
		ssize_t n = read(fd, tmp, sizeof(tmp));

		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	if (tls) {
		SSL_free(ssl);
		SSL_CTX_free(ctx);
	}
	close(fd);
	_exit(0);
}

/* One run: fork a writer, read everything, return bytes/s from accept to EOF. */
static double
stream_run(const struct opts *o, uint64_t bytes, bool tls, uint64_t region,
    struct stream_buf *rb, SSL_CTX *sctx, int out_fd)
{
	uint16_t port;
	int lfd = listen_loopback(&port), fd, st;
	uint64_t got = 0;
	SSL *ssl = NULL;
	double t0, dt;
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(lfd);
		writer(o, port, bytes, tls, region);
	}
	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (fd < 0)
		die("accept: %s", strerror(errno));
	close(lfd);
	if (tls) {
		ssl = SSL_new(sctx);
		if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
			ERR_print_errors_fp(stderr);
			die("reader: TLS handshake failed");
		}
	}
	t0 = now_s();
	for (;;) {
		uint8_t *p = sbuf_next(rb);

		if (tls) {
			size_t n = 0, off = 0;

			/* fill the whole io_size slot, record by record */
			while (off < rb->io && SSL_read_ex(ssl, p + off, rb->io - off, &n) == 1)
				off += n;
			got += off;
			if (off < rb->io)
				break;
		} else {
			ssize_t n = read(fd, p, rb->io);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				die("reader: read: %s", strerror(errno));
			if (n == 0)
				break;
			if (out_fd >= 0)	/* (rb->p is one hot buffer here) */
				pwrite_all(out_fd, p, (size_t)n, got);
			got += (uint64_t)n;
		}
	}
	dt = now_s() - t0;
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	close(fd);
	if (waitpid(pid, &st, 0) < 0)
		die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("the writer process failed (status %d)", st);
	if (got != bytes)
		die("read %llu bytes, expected %llu", (unsigned long long)got,
		    (unsigned long long)bytes);
	return (double)bytes / dt;
}

static void
bench_stream(const struct opts *o, uint64_t bytes, bool tls, uint64_t region, double *rate)
{
	struct stream_buf rb;
	SSL_CTX *sctx = tls ? tls_ctx(o, true) : NULL;
	unsigned r;

	sbuf_init(&rb, region, o->io_size);
	for (r = 0; r < o->tcp_runs; r++)
		rate[r] = stream_run(o, bytes, tls, region, &rb, sctx, -1);
	munmap(rb.p, rb.len);
	SSL_CTX_free(sctx);
}

/* tcp, reading into a fresh shared file mapping of `bytes` per run; the
 * writer streams from a small hot buffer. */
static void
bench_stream_shm(const struct opts *o, double *rate)
{
	unsigned r;

	for (r = 0; r < o->tcp_runs; r++) {
		struct stream_buf rb = { .len = o->tcp_bytes - o->tcp_bytes % o->io_size,
			.io = o->io_size };

		if (rb.len == 0)
			die("--tcp must be at least --io for tcp_shm");
		rb.p = shm_alloc(o->shm_dir, rb.len);
		rate[r] = stream_run(o, rb.len, false, 0, &rb, NULL, -1);
		munmap(rb.p, rb.len);
	}
}

/* tcp, the reader storing what it reads with pwrite() into a fresh sparse
 * file, PWRITE_CHUNK at a time from one hot buffer. */
static void
bench_stream_pwrite(const struct opts *o, double *rate)
{
	struct stream_buf rb;
	unsigned r;

	sbuf_init(&rb, 0, PWRITE_CHUNK);
	for (r = 0; r < o->tcp_runs; r++) {
		int fd = shm_file(o->shm_dir, o->tcp_bytes);

		rate[r] = stream_run(o, o->tcp_bytes, false, 0, &rb, NULL, fd);
		close(fd);
	}
	munmap(rb.p, rb.len);
}

/* ---- options ---- */

static uint64_t
parse_size(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;
	uint64_t m = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		goto bad;
	switch (*end) {
	case 'k': case 'K': m = 1024; end++; break;
	case 'm': case 'M': m = MiB; end++; break;
	case 'g': case 'G': m = GiB; end++; break;
	case '\0': break;
	default: goto bad;
	}
	if (*end != '\0' || v == 0 || v > (64ull * GiB) / m)
		goto bad;
	return v * m;
bad:
	fprintf(stderr, "%s: %s '%s': expected a size 1..64G (K, M, G suffixes)\n", prog, opt,
	    s);
	exit(2);
}

static unsigned
parse_runs(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 1 || v > MAX_RUNS) {
		fprintf(stderr, "%s: --runs '%s': expected 1..%d\n", prog, s, MAX_RUNS);
		exit(2);
	}
	return (unsigned)v;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: %s [OPTIONS]\n"
	    "\n"
	    "Measure memcpy bandwidth and loopback TCP (and TLS) throughput; print JSON.\n"
	    "\n"
	    "  --memcpy SIZE      buffer size of the memcpy test (default 256M)\n"
	    "  --tcp SIZE         bytes per TCP run (default 2G)\n"
	    "  --region SIZE      tcp_mem: stream through SIZE regions on each side\n"
	    "                     (default 256M; 0 is not allowed, use --no-region)\n"
	    "  --no-region        skip the tcp_mem test\n"
	    "  --io SIZE          bytes per write()/read() (default 1M)\n"
	    "  --runs N           runs of each test (default 3; memcpy runs 2N+1)\n"
	    "  --tls-cert FILE    PEM certificate (chain) for the TLS test\n"
	    "  --tls-key FILE     its PEM private key; with --tls-cert, runs the TLS test\n"
	    "  --tls-bytes SIZE   bytes per TLS run (default: as --tcp)\n"
	    "  --tls-ciphers LIST TLS 1.3 suites (default TLS_AES_256_GCM_SHA384)\n"
	    "  --shm DIR          also measure first touch of, and TCP into, fresh\n"
	    "                     file mappings in DIR (tmpfs), and pwrite() into\n"
	    "                     fresh files there, --tcp bytes each\n"
	    "  -h, --help         this text\n", prog);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "memcpy", required_argument, NULL, 'm' },
		{ "tcp", required_argument, NULL, 't' },
		{ "region", required_argument, NULL, 'R' },
		{ "no-region", no_argument, NULL, 'N' },
		{ "io", required_argument, NULL, 'i' },
		{ "runs", required_argument, NULL, 'n' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "tls-bytes", required_argument, NULL, 'b' },
		{ "tls-ciphers", required_argument, NULL, 'C' },
		{ "shm", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o = {
		.memcpy_bytes = 256 * MiB, .tcp_bytes = 2 * GiB, .tcp_runs = 3,
		.io_size = 1 * MiB, .region_bytes = 256 * MiB,
		.ciphers = "TLS_AES_256_GCM_SHA384",
	};
	double mc[2 * MAX_RUNS + 1], tcp[MAX_RUNS], tm[MAX_RUNS], tls[MAX_RUNS];
	double st[MAX_RUNS], ts[MAX_RUNS], sw[MAX_RUNS], tp[MAX_RUNS];
	char extra[256];
	bool do_tls;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'm': o.memcpy_bytes = parse_size("--memcpy", optarg); break;
		case 't': o.tcp_bytes = parse_size("--tcp", optarg); break;
		case 'R': o.region_bytes = parse_size("--region", optarg); break;
		case 'N': o.region_bytes = 0; break;
		case 'i': o.io_size = (size_t)parse_size("--io", optarg); break;
		case 'n': o.tcp_runs = parse_runs(optarg); break;
		case 'c': o.cert = optarg; break;
		case 'k': o.key = optarg; break;
		case 'b': o.tls_bytes = parse_size("--tls-bytes", optarg); break;
		case 'C': o.ciphers = optarg; break;
		case 's': o.shm_dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		usage(stderr);
		return 2;
	}
	if ((o.cert == NULL) != (o.key == NULL)) {
		fprintf(stderr, "%s: --tls-cert and --tls-key go together\n", prog);
		return 2;
	}
	if (o.io_size > 256 * MiB) {
		fprintf(stderr, "%s: --io: at most 256M\n", prog);
		return 2;
	}
	do_tls = o.cert != NULL;
	if (o.tls_bytes == 0)
		o.tls_bytes = o.tcp_bytes;
	o.memcpy_runs = 2 * o.tcp_runs + 1;
	signal(SIGPIPE, SIG_IGN);

	bench_memcpy(&o, mc);
	bench_stream(&o, o.tcp_bytes, false, 0, tcp);
	if (o.region_bytes)
		bench_stream(&o, o.tcp_bytes, false, o.region_bytes, tm);
	if (do_tls)
		bench_stream(&o, o.tls_bytes, true, 0, tls);
	if (o.shm_dir) {
		bench_shm_touch(&o, st);
		bench_stream_shm(&o, ts);
		bench_shm_write(&o, sw);
		bench_stream_pwrite(&o, tp);
	}

	printf("{\n");
	print_rates("memcpy", "", o.memcpy_bytes, o.memcpy_runs, mc, false);
	snprintf(extra, sizeof(extra), "\"io_bytes\": %zu, ", o.io_size);
	print_rates("tcp", extra, o.tcp_bytes, o.tcp_runs, tcp, !o.region_bytes && !do_tls);
	if (o.region_bytes) {
		snprintf(extra, sizeof(extra), "\"io_bytes\": %zu, \"region_bytes\": %llu, ",
		    o.io_size, (unsigned long long)o.region_bytes);
		print_rates("tcp_mem", extra, o.tcp_bytes, o.tcp_runs, tm, !do_tls && !o.shm_dir);
	}
	if (do_tls) {
		snprintf(extra, sizeof(extra), "\"io_bytes\": %zu, \"ciphers\": \"%s\", ",
		    o.io_size, o.ciphers);
		print_rates("tls", extra, o.tls_bytes, o.tcp_runs, tls, !o.shm_dir);
	}
	if (o.shm_dir) {
		print_rates("shm_touch", "", o.tcp_bytes, o.tcp_runs, st, false);
		snprintf(extra, sizeof(extra), "\"io_bytes\": %zu, ", o.io_size);
		print_rates("tcp_shm", extra, o.tcp_bytes - o.tcp_bytes % o.io_size, o.tcp_runs,
		    ts, false);
		print_rates("shm_write", "", o.tcp_bytes - o.tcp_bytes % PWRITE_CHUNK, o.tcp_runs,
		    sw, false);
		snprintf(extra, sizeof(extra), "\"io_bytes\": %u, ", PWRITE_CHUNK);
		print_rates("tcp_pwrite", extra, o.tcp_bytes, o.tcp_runs, tp, true);
	}
	printf("}\n");
	return 0;
}
