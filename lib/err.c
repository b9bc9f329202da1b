#include "err.h"

const char *dnsbl_strerror(int err)
{
	switch (err) {
	case DNSBL_OK: return "success";
	case DNSBL_ENOMEM: return "out of memory";
	case DNSBL_EINVAL: return "invalid value";
	case DNSBL_ESYNTAX: return "syntax error";
	case DNSBL_ERANGE: return "value out of range";
	case DNSBL_ENOSPC: return "buffer too small";
	case DNSBL_ENOTFOUND: return "not found";
	case DNSBL_EEXIST: return "already exists";
	case DNSBL_EIO: return "input/output error";
	case DNSBL_ESTORE: return "store (LMDB) error";
	case DNSBL_EVERSION: return "unsupported store schema version";
	case DNSBL_EFULL: return "store map is full";
	case DNSBL_EHOSTBITS: return "address has bits set beyond the prefix length";
	default: return "unknown error";
	}
}
