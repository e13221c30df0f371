/* xerr.c - text for xmig error codes. */
#include <errno.h>
#include <string.h>

#include "xerr.h"

const char *
xmig_strerror(int r)
{
	switch (r) {
	case XMIG_OK: return "success";
	case XMIG_ERR_SYSTEM: return errno ? strerror(errno) : "system error";
	case XMIG_ERR_NOMEM: return "out of memory";
	case XMIG_ERR_TIMEOUT: return "timed out";
	case XMIG_ERR_EOF: return "connection closed by peer";
	case XMIG_ERR_INTERRUPTED: return "cancelled";
	case XMIG_ERR_INVALID: return "invalid argument";
	case XMIG_ERR_TRUNCATED: return "truncated message";
	case XMIG_ERR_TOO_LONG: return "length or count over limit";
	case XMIG_ERR_TRAILING: return "unexpected bytes after message";
	case XMIG_ERR_BAD_MAGIC: return "bad frame magic (not an xmig peer?)";
	case XMIG_ERR_VERSION: return "unsupported protocol version";
	case XMIG_ERR_BAD_TYPE: return "unknown frame type";
	case XMIG_ERR_UNEXPECTED: return "frame not allowed in this state";
	case XMIG_ERR_PEER_ABORT: return "aborted by peer";
	case XMIG_ERR_TLS: return "TLS failure";
	case XMIG_ERR_DENIED: return "permission denied";
	case XMIG_ERR_EXISTS: return "already exists";
	case XMIG_ERR_NOT_FOUND: return "not found";
	case XMIG_ERR_BUSY: return "busy";
	case XMIG_ERR_NO_SPACE: return "not enough memory";
	case XMIG_ERR_INCOMPATIBLE: return "incompatible host";
	case XMIG_ERR_STATE: return "wrong domain state";
	case XMIG_ERR_BACKEND: return "hypervisor backend error";
	case XMIG_ERR_UNSUPPORTED: return "not supported";
	}
	return "unknown error";
}
