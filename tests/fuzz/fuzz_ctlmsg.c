/* fuzz_ctlmsg.c - libFuzzer target: the control protocol's decoders.
 *
 * The input is a JSON object as a control client (or a damaged xmigd, or a
 * history record on disk) could send.  It is decoded as every request and
 * every reply, event and record, and:
 *   - a refusal is one terminated line of text;
 *   - what a decoder accepts encodes, and the encoding decodes to the same
 *     message (the same bytes for a request, the same JSON for the rest).
 * Any broken rule aborts, which libFuzzer reports as a crash.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlmsg.h"

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_ctlmsg: contract broken at %s:%d: %s\n", __FILE__, \
		    __LINE__, #cond); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_err(const char *err, size_t errlen)
{
	CHECK(memchr(err, '\0', errlen) != NULL);
	CHECK(strchr(err, '\n') == NULL);
	CHECK(err[0] != '\0');
}

static void
requests(const json_t *o)
{
	static struct ctl_request rq, back;
	char err[CTL_TEXT_MAX];
	int c;

	for (c = 0; c < CTL_NCMDS; c++) {
		json_t *e;

		if (ctl_request_decode(o, (enum ctl_cmd)c, &rq, err, sizeof(err)) != 0) {
			check_err(err, sizeof(err));
			continue;
		}
		CHECK((e = ctl_request_encode(&rq)) != NULL);
		CHECK(ctl_cmd_lookup(ctl_request_name(e)) == c);
		CHECK(ctl_request_decode(e, (enum ctl_cmd)c, &back, err, sizeof(err)) == 0);
		CHECK(memcmp(&rq, &back, sizeof(rq)) == 0);
		json_decref(e);
	}
}

/* One payload kind: decode, encode, decode again, encode again. */
struct kind {
	size_t size;
	int (*decode)(const json_t *o, void *p, char *err, size_t errlen);
	json_t *(*encode)(const void *p);
	void (*release)(void *p);
};

#define WRAP(name, T, dec, enc, rel)						\
static int name##_dec(const json_t *o, void *p, char *e, size_t n) { return dec(o, p, e, n); } \
static json_t *name##_enc(const void *p) { return enc((const T *)p); }	\
static void name##_rel(void *p) { rel((T *)p); }

static void
no_free(void *p)
{
	(void)p;
}

#define NOFREE(p) no_free(p)

WRAP(job, struct ctl_job, ctl_job_decode, ctl_job_encode, ctl_job_free)
WRAP(jobrep, struct ctl_job, ctl_job_reply_decode, ctl_job_reply, ctl_job_free)
WRAP(jobs, struct ctl_job_list, ctl_job_list_reply_decode, ctl_job_list_reply,
    ctl_job_list_free)
WRAP(doms, struct ctl_domain_list, ctl_domain_list_reply_decode, ctl_domain_list_reply,
    ctl_domain_list_free)
WRAP(status, struct ctl_status, ctl_status_reply_decode, ctl_status_reply, NOFREE)
WRAP(pin, struct ctl_pin_reply, ctl_pin_reply_decode, ctl_pin_reply, NOFREE)
WRAP(maint, struct ctl_maint_status, ctl_maint_status_reply_decode, ctl_maint_status_reply,
    ctl_maint_status_free)
WRAP(bal, struct ctl_balance, ctl_balance_reply_decode, ctl_balance_reply, ctl_balance_free)

static const struct kind kinds[] = {
	{ sizeof(struct ctl_job), job_dec, job_enc, job_rel },
	{ sizeof(struct ctl_job), jobrep_dec, jobrep_enc, jobrep_rel },
	{ sizeof(struct ctl_job_list), jobs_dec, jobs_enc, jobs_rel },
	{ sizeof(struct ctl_domain_list), doms_dec, doms_enc, doms_rel },
	{ sizeof(struct ctl_status), status_dec, status_enc, status_rel },
	{ sizeof(struct ctl_pin_reply), pin_dec, pin_enc, pin_rel },
	{ sizeof(struct ctl_maint_status), maint_dec, maint_enc, maint_rel },
	{ sizeof(struct ctl_balance), bal_dec, bal_enc, bal_rel },
};

static void
payloads(const json_t *o)
{
	char err[CTL_TEXT_MAX];
	size_t k;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		void *p = calloc(1, kinds[k].size), *q = calloc(1, kinds[k].size);
		json_t *e1, *e2;

		CHECK(p != NULL && q != NULL);
		if (kinds[k].decode(o, p, err, sizeof(err)) != 0) {
			check_err(err, sizeof(err));
		} else {
			CHECK((e1 = kinds[k].encode(p)) != NULL);
			CHECK(kinds[k].decode(e1, q, err, sizeof(err)) == 0);
			CHECK((e2 = kinds[k].encode(q)) != NULL);
			CHECK(json_equal(e1, e2));
			json_decref(e1);
			json_decref(e2);
			kinds[k].release(p);
			kinds[k].release(q);
		}
		free(p);
		free(q);
	}
}

static void
events(const json_t *o)
{
	static union {
		struct ctl_job j;
		struct ctl_evac e;
		struct ctl_balance b;
	} p, q;
	char err[CTL_TEXT_MAX];
	int k;

	for (k = CTL_EVENT_JOB; k <= CTL_EVENT_BALANCE; k++) {
		bool done, done2;
		json_t *e1, *e2;

		if (ctl_event_decode(o, (enum ctl_event_kind)k, &done, &p, err, sizeof(err)) != 0) {
			check_err(err, sizeof(err));
			continue;
		}
		CHECK((e1 = ctl_event_encode((enum ctl_event_kind)k, done, &p)) != NULL);
		CHECK(ctl_event_decode(e1, (enum ctl_event_kind)k, &done2, &q, err,
		    sizeof(err)) == 0);
		CHECK(done == done2);
		CHECK((e2 = ctl_event_encode((enum ctl_event_kind)k, done2, &q)) != NULL);
		CHECK(json_equal(e1, e2));
		json_decref(e1);
		json_decref(e2);
		if (k == CTL_EVENT_JOB) {
			ctl_job_free(&p.j);
			ctl_job_free(&q.j);
		} else if (k == CTL_EVENT_EVACUATION) {
			ctl_evac_free(&p.e);
			ctl_evac_free(&q.e);
		} else {
			ctl_balance_free(&p.b);
			ctl_balance_free(&q.b);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *o;

	/* NULs allowed in strings: the decoders must refuse them themselves. */
	o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	if (o == NULL)
		return 0;
	requests(o);
	payloads(o);
	events(o);
	json_decref(o);
	return 0;
}
