/* engine/hello.c - hello, reasons and names for both ends. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine_int.h"
#include "fault.h"
#include "hv/hv.h"
#include "log.h"
#include "util.h"
#include "xerr.h"

int
engine_connect(struct xmigd *d, struct xconn *c, const char *host, uint16_t port, bool ssl,
    int timeout_ms, char *why, size_t whylen)
{
	char tw[320];
	int r;

	if ((r = xconn_connect(c, host, port, timeout_ms, why, whylen)) != 0 || !ssl)
		return r;
	if (d->tls_client == NULL) {
		snprintf(why, whylen, "TLS is not set up on this host (ssl-key-file, "
		    "ssl-cert-file and ssl-ca-file in xmigd.conf)");
		xconn_close(c);
		return XMIG_ERR_TLS;
	}
	/* The handshake has the hello's deadline: a silent server is dropped. */
	c->deadline_us = now_us() + ENGINE_HELLO_TIMEOUT_MS * 1000ull;
	r = xconn_tls_connect(c, d->tls_client, host, tw, sizeof(tw));
	c->deadline_us = 0;
	if (r != 0) {
		snprintf(why, whylen, "TLS handshake with %s failed: %s", c->peer, tw);
		xconn_close(c);
		return r;
	}
	xconn_tls_describe(c, tw, sizeof(tw));
	log_verbose("TLS to %s: %s", c->peer, tw);
	return 0;
}

int
engine_build_hello(struct xmigd *d, struct msg_hello *h)
{
	struct hv_host_info hi;
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = d->hv->ops->host_info(d->hv, &hi)) != 0)
		return r;
	h->proto_min = PROTO_VERSION;
	h->proto_max = PROTO_VERSION;
	strlcpy_x(h->arch, hi.arch, sizeof(h->arch));
	strlcpy_x(h->hv, hi.hv, sizeof(h->hv));
	strlcpy_x(h->hv_version, hi.hv_version, sizeof(h->hv_version));
	h->page_size = hi.page_size;
	h->mem_total = hi.mem_total;
	h->mem_free = hi.mem_free;
	/* DEVICE_MODEL for a backend that sends and hosts an HVM guest's
	 * device model (hv.device_model); DEVICES_READY for one that says when
	 * its devices are up and lets the sender read between its writes
	 * (hv_ops.devices_ready). */
	h->features = HELLO_F_DONE_UNPAUSE;
	if (d->hv->device_model && !fault_at("hello-without-device-model"))
		h->features |= HELLO_F_DEVICE_MODEL;
	if (d->hv->ops->devices_ready && !fault_at("hello-without-devices-ready"))
		h->features |= HELLO_F_DEVICES_READY;
	strlcpy_x(h->host, d->host_name, sizeof(h->host));
	return 0;
}

int
engine_check_hello(const struct msg_hello *ours, const struct msg_hello *peer, char *why,
    size_t whylen)
{
	if (peer->proto_max < ours->proto_min || peer->proto_min > ours->proto_max) {
		snprintf(why, whylen, "protocol versions do not overlap (peer %u..%u, "
		    "here %u..%u)", peer->proto_min, peer->proto_max, ours->proto_min,
		    ours->proto_max);
		return REASON_VERSION;
	}
	if (strcmp(peer->hv, ours->hv) != 0) {
		snprintf(why, whylen, "%s runs hypervisor '%s', this host runs '%s'",
		    peer->host, peer->hv, ours->hv);
		return REASON_INCOMPATIBLE;
	}
	if (strcmp(peer->arch, ours->arch) != 0) {
		snprintf(why, whylen, "%s is %s, this host is %s", peer->host, peer->arch,
		    ours->arch);
		return REASON_INCOMPATIBLE;
	}
	if (peer->page_size != ours->page_size || peer->page_size != PROTO_PAGE_SIZE) {
		snprintf(why, whylen, "page size differs (%u on %s, %u here)", peer->page_size,
		    peer->host, ours->page_size);
		return REASON_INCOMPATIBLE;
	}
	return 0;
}

int
engine_send_hello(struct xconn *c, const struct msg_hello *h)
{
	uint8_t buf[1024];
	int n;

	if ((n = msg_hello_encode(h, buf, sizeof(buf))) < 0)
		return n;
	return xconn_send_frame(c, MSG_HELLO, buf, (uint32_t)n);
}

int
engine_recv_hello(struct xconn *c, struct msg_hello *h, char *why, size_t whylen)
{
	uint8_t buf[2048];
	struct frame_hdr fh;
	int r;

	if ((r = xconn_recv_frame(c, &fh, buf, sizeof(buf))) != 0) {
		snprintf(why, whylen, "no hello from %s: %s", c->peer, xconn_strerror(c, r));
		return r;
	}
	if (fh.type == MSG_ABORT || fh.type == MSG_REFUSE) {
		struct msg_reason m;

		if (msg_reason_decode(buf, fh.len, &m) == 0)
			snprintf(why, whylen, "%s refused: %s", c->peer, m.text);
		else
			snprintf(why, whylen, "%s refused the connection", c->peer);
		return XMIG_ERR_PEER_ABORT;
	}
	if (fh.type != MSG_HELLO) {
		snprintf(why, whylen, "%s sent %s instead of HELLO", c->peer,
		    proto_type_str(fh.type));
		return XMIG_ERR_UNEXPECTED;
	}
	if ((r = msg_hello_decode(buf, fh.len, h)) != 0) {
		snprintf(why, whylen, "malformed HELLO from %s: %s", c->peer, xmig_strerror(r));
		return r;
	}
	return 0;
}

void
engine_send_reason(struct xconn *c, uint8_t type, uint16_t code, const char *text)
{
	struct msg_reason m;
	uint8_t buf[PROTO_REASON_MAX + 8];
	int n, saved_timeout = c->timeout_ms;

	if (c->fd < 0)
		return;
	memset(&m, 0, sizeof(m));
	m.code = code;
	strlcpy_x(m.text, text, sizeof(m.text));
	if ((n = msg_reason_encode(&m, buf, sizeof(buf))) < 0)
		return;
	/* A local failure left the link usable: clear it for this one frame. */
	if (c->err != XMIG_ERR_EOF)
		c->err = 0;
	c->timeout_ms = 1000;
	xconn_send_frame(c, type, buf, (uint32_t)n);
	c->timeout_ms = saved_timeout;
}

void
engine_decorate(char *dst, size_t size, const char *name, const char *suffix)
{
	size_t sl = strlen(suffix), nl = strlen(name);

	if (nl + sl + 1 > size)
		nl = size - sl - 1;
	snprintf(dst, size, "%.*s%s", (int)nl, name, suffix);
}
