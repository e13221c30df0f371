/* xerr.h - xmig error codes.
 *
 * Functions return 0 on success or a negative XMIG_ERR_* code.  The list is
 * kept short and grouped; detail goes into the message that accompanies it.
 * XMIG_ERR_SYSTEM means "look at errno", which the callee preserves.
 */
#ifndef XMIG_XERR_H
#define XMIG_XERR_H

enum {
	XMIG_OK = 0,
	/* system */
	XMIG_ERR_SYSTEM = -1,	/* errno holds the cause */
	XMIG_ERR_NOMEM = -2,
	XMIG_ERR_TIMEOUT = -3,
	XMIG_ERR_EOF = -4,	/* peer closed the connection */
	XMIG_ERR_INTERRUPTED = -5, /* cancelled by the operator or shutdown */
	/* format */
	XMIG_ERR_INVALID = -10,	/* bad argument or value */
	XMIG_ERR_TRUNCATED = -11, /* not enough bytes */
	XMIG_ERR_TOO_LONG = -12, /* a length or count over its limit */
	XMIG_ERR_TRAILING = -13, /* bytes left after a message */
	/* protocol */
	XMIG_ERR_BAD_MAGIC = -20,
	XMIG_ERR_VERSION = -21,
	XMIG_ERR_BAD_TYPE = -22,
	XMIG_ERR_UNEXPECTED = -23, /* a frame not allowed in this state */
	XMIG_ERR_PEER_ABORT = -24, /* the peer sent ABORT or REFUSE */
	XMIG_ERR_TLS = -25,	/* TLS handshake, certificate or record failure */
	/* policy */
	XMIG_ERR_DENIED = -30,	/* allow-list or policy refusal */
	XMIG_ERR_EXISTS = -31,
	XMIG_ERR_NOT_FOUND = -32,
	XMIG_ERR_BUSY = -33,
	XMIG_ERR_NO_SPACE = -34, /* not enough memory on the destination */
	XMIG_ERR_INCOMPATIBLE = -35,
	XMIG_ERR_STATE = -36,	/* the domain is not in a state that allows this */
	/* backend */
	XMIG_ERR_BACKEND = -40,
	XMIG_ERR_UNSUPPORTED = -41,
};

/* Human-readable text for an XMIG_ERR_* code; never NULL. */
const char *xmig_strerror(int r);

#endif
