/* API bearer tokens: the tokens file ("NAME ROLE SHA256-HEX" per line, "#" comments),
 * constant-time matching of a presented secret, and the token add/list/remove
 * commands' file edits (locked, written to a temporary file and renamed). Secrets
 * are never stored: only their SHA-256 (ldns_sha256). */
#ifndef DNSBL_API_TOKENS_H
#define DNSBL_API_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define TOKEN_HASH_BYTES 32
#define TOKEN_SECRET_BYTES 32 /* random bytes in a new secret (64 hex digits) */
#define TOKEN_SECRET_MAX 512  /* longest secret accepted in a request */

enum token_role { TOKEN_ROLE_NONE = 0, TOKEN_ROLE_READ = 1, TOKEN_ROLE_WRITE = 2,
		  TOKEN_ROLE_ADMIN = 3 };

struct token {
	char name[STORE_NAME_MAX + 1];
	int role; /* enum token_role */
	uint8_t hash[TOKEN_HASH_BYTES];
};

/* The tokens of one file. */
struct token_set {
	struct token *v; /* owned; tokens_free */
	size_t n, cap;
};

/* Returns the enum token_role named s ("read", "write", "admin"), or TOKEN_ROLE_NONE. */
int token_role_parse(const char *s);

/* Returns the static name of role r ("read", ...; "none" otherwise). */
const char *token_role_name(int r);

/* Reads the tokens file at path into *out (emptied first). Problems are written to
 * err as "file:line: reason" lines (truncated to errsize). Returns 0,
 * DNSBL_ENOTFOUND (no such file: *out is empty), DNSBL_EIO, DNSBL_EINVAL (a bad line:
 * nothing is kept) or DNSBL_ENOMEM. */
int tokens_load(const char *path, struct token_set *out, char *err, size_t errsize);

/* Frees a token set's memory (the set is then empty and reusable). */
void tokens_free(struct token_set *set);

/* Finds the token whose hash is SHA-256(secret[0..len)), comparing with every token in
 * constant time. Returns it (pointing into set) or NULL. */
const struct token *tokens_match(const struct token_set *set, const char *secret, size_t len);

/* Adds token name with role to the file at path (created with mode 0600 when
 * missing), writing a fresh random secret as hex with a NUL into secret (at least
 * 2 * TOKEN_SECRET_BYTES + 1 bytes). Problems go to err. Returns 0, DNSBL_EINVAL (bad
 * name or role, or a bad file), DNSBL_EEXIST (the name is taken) or DNSBL_EIO. */
int tokens_add(const char *path, const char *name, int role, char *secret, size_t size,
	       char *err, size_t errsize);

/* Removes token name from the file at path. Returns 0, DNSBL_ENOTFOUND, DNSBL_EINVAL
 * (a bad file) or DNSBL_EIO; problems go to err. */
int tokens_remove(const char *path, const char *name, char *err, size_t errsize);

#endif
