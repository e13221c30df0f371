/* tls.h - mutual TLS for the relocation transport (OpenSSL 3).
 *
 * Only lib/tls.c calls OpenSSL; the transport (xfer) drives a tls_conn
 * over its non-blocking socket and does every wait itself, under its own
 * deadlines, so one poll loop serves plaintext and TLS alike.
 *
 * Both ends present a certificate and verify the peer's chain against one
 * CA file; the client also checks that the server's certificate names the
 * host it dialled; either end may pin the peer's leaf certificate by its
 * SHA-256 fingerprint.  TLS 1.3 (1.2 at the lowest, if configured), AEAD
 * ciphers only, AES-GCM first.
 */
#ifndef XMIG_TLS_H
#define XMIG_TLS_H

#include <stdbool.h>
#include <stddef.h>

struct tls_ctx;		/* one per role, built at start-up, shared by threads */
struct tls_conn;	/* one per connection */

struct tls_cfg {
	const char *key_file, *cert_file, *ca_file;	/* PEM, absolute paths */
	const char *fingerprints;	/* space-separated SHA-256 pins, "" = none */
	int min_version;		/* 12 (TLS 1.2) or 13 (TLS 1.3) */
};

/* Returned (positive) by the step functions when the socket must become
 * readable or writable before the same call is repeated. */
enum { TLS_WANT_READ = 1, TLS_WANT_WRITE = 2 };

/* Build a server or client context.  On error returns a negative
 * XMIG_ERR_* and one line naming the key and file at fault. */
int tls_ctx_new(struct tls_ctx **out, bool server, const struct tls_cfg *cfg, char *err,
    size_t errlen);
void tls_ctx_free(struct tls_ctx *t);
/* Whether the context's own certificate verifies against its CA file
 * (chain and dates); if not, why says so.  A host that fails this will be
 * refused by every peer, so xmigd warns at start-up. */
bool tls_ctx_self_check(struct tls_ctx *t, char *why, size_t whylen);

/* A connection on the connected socket fd (not owned: the caller closes
 * it).  host: the name or address a client dialled, which the server's
 * certificate must carry; NULL on the server. */
struct tls_conn *tls_conn_new(struct tls_ctx *t, int fd, const char *host, char *why,
    size_t whylen);
/* Sends close_notify if it can without waiting, then frees. */
void tls_conn_free(struct tls_conn *tc);

/* Each step returns 0 when done, TLS_WANT_READ/TLS_WANT_WRITE, or a
 * negative XMIG_ERR_* (XMIG_ERR_TLS, XMIG_ERR_EOF, XMIG_ERR_SYSTEM) with a
 * one-line reason in why.  The handshake also checks the pins. */
int tls_conn_handshake(struct tls_conn *tc, char *why, size_t whylen);
/* Read up to len bytes; *done is what came (only with 0). */
int tls_conn_read(struct tls_conn *tc, void *buf, size_t len, size_t *done, char *why,
    size_t whylen);
/* Without waiting: is application data ready to be read (decrypted and
 * buffered, or a record of it on the socket)?  A record that carries none
 * (a key update) is consumed and answers false; so does a socket with
 * nothing.  A closed or failed connection answers true, so that the read
 * that follows reports it. */
bool tls_conn_readable(struct tls_conn *tc);
/* Encrypt all of buf (*done = len with 0).  The records are sent many at a
 * time from a buffer of our own, so some may still wait for
 * tls_conn_flush.  After TLS_WANT_* repeat with the same arguments. */
int tls_conn_write(struct tls_conn *tc, const void *buf, size_t len, size_t *done, char *why,
    size_t whylen);
/* Send what is still waiting: 0 when all is out, or TLS_WANT_WRITE. */
int tls_conn_flush(struct tls_conn *tc, char *why, size_t whylen);
/* The SHA-256 of the peer's certificate, 64 hex digits (outlen >= 65). */
int tls_conn_peer_fingerprint(struct tls_conn *tc, char *out, size_t outlen);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384, peer CN=host-a" for the log. */
void tls_conn_describe(struct tls_conn *tc, char *buf, size_t buflen);

#endif
