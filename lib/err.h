/* One error convention for the whole project: functions return int, 0 on success
 * and a negative DNSBL_E* code on failure; dnsbl_strerror() names the code. */
#ifndef DNSBL_ERR_H
#define DNSBL_ERR_H

enum dnsbl_err {
	DNSBL_OK = 0,
	DNSBL_ENOMEM = -1,    /* out of memory */
	DNSBL_EINVAL = -2,    /* invalid argument or value */
	DNSBL_ESYNTAX = -3,   /* text does not parse */
	DNSBL_ERANGE = -4,    /* number or length out of range */
	DNSBL_ENOSPC = -5,    /* caller's buffer too small */
	DNSBL_ENOTFOUND = -6, /* no such entry, zone or file */
	DNSBL_EEXIST = -7,    /* already exists */
	DNSBL_EIO = -8,       /* system call failed (errno says more, logged) */
	DNSBL_ESTORE = -9,    /* LMDB failed (logged with mdb_strerror) */
	DNSBL_EVERSION = -10, /* store schema version not supported */
	DNSBL_EFULL = -11,    /* store map is full */
	DNSBL_EHOSTBITS = -12, /* CIDR address has bits set past the prefix length */
};

/* Returns a static, human-readable description of err (any int is accepted). */
const char *dnsbl_strerror(int err);

#endif
