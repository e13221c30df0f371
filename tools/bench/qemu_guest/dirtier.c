/*
 * dirtier - /init of the QEMU guest of tools/bench/qemu_busy.sh: the same
 * workload as a sim domain's vCPU (sim/simdom.c), inside a real
 * Linux guest, so that QEMU's pre-copy can be measured on it.
 *
 *   init [--wws MIB] [--rate PAGES_PER_S] [--fill zero|random]
 *        [--pattern random|seq] [--reserve MIB] [--flush-tlb 0|1]
 *
 * (the kernel passes the words after "--" on its command line as argv).
 * It allocates the writable working set (wws), touches every page of it,
 * with --fill random also fills the free memory but --reserve MiB once
 * with pseudo-random data (never touched again), then writes one word into
 * a page of the wws at RATE pages/s: a token bucket refilled every 1 ms
 * tick against CLOCK_MONOTONIC, at most 10 ticks' worth of backlog, so a
 * guest that cannot keep up writes as fast as it can instead of bursting
 * later (the sim allows 2 ticks; under TCG a sleep often overshoots a tick
 * and the check below takes milliseconds, which 2 ticks would lose).  The page is uniformly random in the wws, as in
 * the sim (--pattern seq: successive pages, wrapping).
 *
 * --flush-tlb 1 makes the kernel flush the whole TLB once a tick (mprotect
 * of a 64-page region: more than the 33 pages Linux invalidates one by one,
 * so it reloads CR3, and TCG then empties its soft TLB).  That works around
 * QEMU before 9.0 (commit 03bfc2188f, "physmem: Fix migration dirty bitmap
 * coherency with TCG memory access"): the migration's dirty-bitmap sync did
 * not reset TCG's TLB, so a page whose TLB entry was already writable is
 * written without being marked dirty again until that entry goes, and the
 * destination gets a stale copy.  With the flush, an entry lives at most a
 * tick after a sync.
 *
 * Every value written is also kept in a shadow array (8 bytes a page), and
 * once a second all of the wws is compared with it: a write that a
 * migration lost (in the page or in the shadow) shows as a mismatch, then
 * the shadow is set to the page so that each loss counts once.
 *
 * The console (ttyS0) gets one line when ready and one line a second:
 *   XMIG-DIRTIER READY wws_pages=N fill_bytes=N fill_ms=N rate=N
 *   XMIG-DIRTIER sec=N pages=N ns=N total=N lost=N check_us=N
 * pages = pages written in the last ns nanoseconds (about a second);
 * lost = mismatches found so far (by the checks before this line);
 * check_us = how long the last check took.
 * On an error it prints "XMIG-DIRTIER ERROR ..." and powers the guest off.
 * As PID 1 it never returns.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096ull
#define TICK_NS 1000000ull		/* 1 ms, the sim's tick */
#define BACKLOG_TICKS 10ull
#define TOKEN 1000000000ull		/* one page: rate (pages/s) x time (ns) */
#define FLUSH_PAGES 64			/* > tlb_single_page_flush_ceiling (33) */

static void
say(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(1, buf, (size_t)n) < 0) {
		/* nowhere to report it */
	}
}

static void __attribute__((noreturn))
die(const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	say("XMIG-DIRTIER ERROR %s", buf);
	/* PID 1 must not exit (the kernel would panic): power off, so that
	 * qemu_busy.sh sees QEMU exit instead of waiting for its timeout. */
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static uint64_t
number(const char *opt, const char *v, uint64_t max)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n > max)
		die("%s: '%s' is not a number up to %llu", opt, v, (unsigned long long)max);
	return n;
}

static void *
alloc(uint64_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("cannot allocate %llu MiB: %s", (unsigned long long)(bytes >> 20),
		    strerror(errno));
	/* 4 KiB pages, as QEMU tracks them: TCG flushes its whole soft TLB
	 * whenever a part of a guest huge page is flushed. */
	madvise(p, bytes, MADV_NOHUGEPAGE);
	return p;
}

static void
fill_random(uint64_t *p, uint64_t bytes, uint64_t *seed)
{
	uint64_t i, n = bytes / sizeof(*p);

	for (i = 0; i < n; i++)
		p[i] = xorshift(seed);
}

int
main(int argc, char **argv)
{
	uint64_t wws_mib = 64, rate = 20000, reserve_mib = 64, npages, fill_bytes = 0;
	uint64_t seed = 0x9E3779B97F4A7C15ull, t0, i, page = 0, ctr = 0;
	int fill_rand = 0, seq = 0, flush = 0, a;
	struct sysinfo si;
	volatile uint64_t *wws, *shadow;
	volatile char *flushr = NULL;

	/* stdout is /dev/console when the kernel found one in the initramfs
	 * (its built-in part has it); otherwise make one. */
	if (fcntl(1, F_GETFD) < 0) {
		mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
		a = open("/dev/console", O_RDWR);
		if (a >= 0) {
			dup2(a, 0);
			dup2(a, 1);
			dup2(a, 2);
		}
	}
	for (a = 1; a < argc; a++) {
		const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (v == NULL)
			die("%s needs a value", o);
		a++;
		if (strcmp(o, "--wws") == 0)
			wws_mib = number(o, v, 1 << 20);
		else if (strcmp(o, "--rate") == 0)
			rate = number(o, v, 100000000);
		else if (strcmp(o, "--reserve") == 0)
			reserve_mib = number(o, v, 1 << 20);
		else if (strcmp(o, "--fill") == 0 && (strcmp(v, "zero") == 0 || strcmp(v, "random") == 0))
			fill_rand = strcmp(v, "random") == 0;
		else if (strcmp(o, "--flush-tlb") == 0)
			flush = (int)number(o, v, 1);
		else if (strcmp(o, "--pattern") == 0 && (strcmp(v, "random") == 0 || strcmp(v, "seq") == 0))
			seq = strcmp(v, "seq") == 0;
		else
			die("unknown argument '%s %s'", o, v);
	}
	if (wws_mib == 0)
		die("--wws must be at least 1 MiB");
	npages = (wws_mib << 20) / PAGE;
	if (sysinfo(&si) != 0)
		die("sysinfo: %s", strerror(errno));

	t0 = now_ns();
	wws = alloc(wws_mib << 20);
	shadow = alloc(npages * sizeof(*shadow));
	if (fill_rand) {
		uint64_t freeb = (uint64_t)si.freeram * si.mem_unit;
		uint64_t keep = (wws_mib + reserve_mib) << 20;

		fill_random((uint64_t *)wws, wws_mib << 20, &seed);
		if (freeb > keep) {
			fill_bytes = (freeb - keep) & ~(PAGE - 1);
			fill_random(alloc(fill_bytes), fill_bytes, &seed);
		}
	} else {
		for (i = 0; i < npages; i++)
			wws[i * (PAGE / 8)] = i + 1;
	}
	for (i = 0; i < npages; i++)
		shadow[i] = wws[i * (PAGE / 8)];
	if (flush) {
		flushr = alloc(FLUSH_PAGES * PAGE);
		for (i = 0; i < FLUSH_PAGES; i++)	/* populated: mprotect only flushes present PTEs */
			flushr[i * PAGE] = 1;
	}
	say("XMIG-DIRTIER READY wws_pages=%llu fill_bytes=%llu fill_ms=%llu rate=%llu",
	    (unsigned long long)npages, (unsigned long long)fill_bytes,
	    (unsigned long long)((now_ns() - t0) / 1000000), (unsigned long long)rate);

	{
		uint64_t tokens = 0, last = now_ns(), rep_at = last, rep_total = 0, total = 0;
		uint64_t cap = rate * BACKLOG_TICKS * TICK_NS, sec = 0, lost = 0, scan_us = 0;
		struct timespec ts;

		if (cap < TOKEN)
			cap = TOKEN;
		for (;;) {
			uint64_t t = now_ns(), next;

			tokens += (t - last > BACKLOG_TICKS * TICK_NS ? BACKLOG_TICKS * TICK_NS : t - last) * rate;
			last = t;
			if (tokens > cap)
				tokens = cap;
			while (tokens >= TOKEN) {
				if (seq)
					page = page + 1 == npages ? 0 : page + 1;
				else
					page = (uint64_t)(((unsigned __int128)xorshift(&seed) * npages) >> 64);
				wws[page * (PAGE / 8)] = ++ctr;
				shadow[page] = ctr;
				tokens -= TOKEN;
				total++;
			}
			if (t - rep_at >= 1000000000ull) {
				say("XMIG-DIRTIER sec=%llu pages=%llu ns=%llu total=%llu lost=%llu check_us=%llu",
				    (unsigned long long)++sec, (unsigned long long)(total - rep_total),
				    (unsigned long long)(t - rep_at), (unsigned long long)total,
				    (unsigned long long)lost, (unsigned long long)scan_us);
				rep_at = t;
				rep_total = total;
				for (i = 0; i < npages; i++) {
					uint64_t v = wws[i * (PAGE / 8)];

					if (v != shadow[i]) {
						lost++;
						shadow[i] = v;
					}
				}
				scan_us = (now_ns() - t) / 1000;
			}
			if (flushr != NULL) {
				/* removing write access must flush; giving it back need not */
				if (mprotect((void *)flushr, FLUSH_PAGES * PAGE, PROT_READ) != 0 ||
				    mprotect((void *)flushr, FLUSH_PAGES * PAGE, PROT_READ | PROT_WRITE) != 0)
					die("mprotect: %s", strerror(errno));
			}
			next = t + TICK_NS;
			ts.tv_sec = (time_t)(next / 1000000000ull);
			ts.tv_nsec = (long)(next % 1000000000ull);
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				;
		}
	}
}
