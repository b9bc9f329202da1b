/* Authentication of API requests with the tokens of tokens.c: the bearer token check,
 * the role check, and rereading the tokens file when it changes. The tokens of
 * struct api are only touched here, under its tokens_lock. */
#ifndef DNSBL_API_AUTH_H
#define DNSBL_API_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "handlers.h"

/* Sets up a's tokens: the lock, and the tokens file of a->cfg read. Returns 0,
 * DNSBL_EINVAL (a bad tokens file: reasons in err) or DNSBL_ENOMEM; nothing is left
 * to free on failure. A missing file is logged, not an error: no token is valid. */
int auth_init(struct api *a, char *err, size_t errsize);

/* Frees what auth_init allocated. */
void auth_free(struct api *a);

/* Checks the Authorization header (NULL when absent) for "Bearer SECRET" with the
 * secret of a token, rereading the tokens file first when it has changed. Returns
 * the token's enum token_role and copies its name into r->actor; without a valid
 * token sends 401 (with the WWW-Authenticate challenge) and returns TOKEN_ROLE_NONE. */
int auth_check(struct api *a, const char *header, struct api_response *r);

/* Whether role have includes role need; sends 403 when not. */
bool auth_role_allows(int have, int need, struct api_response *r);

/* The tokens as [{"name", "role"}] (never the hashes); NULL when out of memory. */
json_t *auth_token_list(struct api *a);

#endif
