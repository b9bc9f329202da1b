#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "log.h"
#include "response.h"

int auth_init(struct api *a, char *err, size_t errsize)
{
	if (pthread_mutex_init(&a->tokens_lock, NULL) != 0)
		return DNSBL_ENOMEM;
	int rc = tokens_load(a->cfg->api_tokens, &a->tokens, err, errsize);
	if (rc == DNSBL_ENOTFOUND) {
		log_warn("tokens file %s does not exist: every request but /healthz gets 401 "
			 "until `dnsbl-api token add` creates it",
			 a->cfg->api_tokens);
		return 0;
	}
	if (rc < 0) {
		auth_free(a);
		return rc == DNSBL_ENOMEM ? rc : DNSBL_EINVAL;
	}
	stat(a->cfg->api_tokens, &a->tokens_st);
	return 0;
}

void auth_free(struct api *a)
{
	tokens_free(&a->tokens);
	pthread_mutex_destroy(&a->tokens_lock);
}

/* Rereads the tokens file when it changed since the last read (caller holds the
 * lock). A file that has become bad is logged and the tokens read before stay. */
static void tokens_refresh(struct api *a)
{
	struct stat st;
	char err[2048];

	if (stat(a->cfg->api_tokens, &st) < 0) {
		if (errno == ENOENT && a->tokens.n > 0) {
			log_warn("tokens file %s removed: no token is valid now", a->cfg->api_tokens);
			a->tokens.n = 0;
			memset(&a->tokens_st, 0, sizeof(a->tokens_st));
		}
		return;
	}
	if (st.st_ino == a->tokens_st.st_ino && st.st_dev == a->tokens_st.st_dev &&
	    st.st_size == a->tokens_st.st_size &&
	    st.st_mtim.tv_sec == a->tokens_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == a->tokens_st.st_mtim.tv_nsec)
		return;
	struct token_set fresh = { 0 };
	int rc = tokens_load(a->cfg->api_tokens, &fresh, err, sizeof(err));
	if (rc < 0 && rc != DNSBL_ENOTFOUND) {
		log_err("tokens file changed but is not usable; keeping the tokens read before:\n%s",
			err);
		tokens_free(&fresh);
		a->tokens_st = st; /* do not reread it for every request */
		return;
	}
	tokens_free(&a->tokens);
	a->tokens = fresh;
	a->tokens_st = st;
	log_info("tokens file reread: %zu tokens", fresh.n);
}

/* The role of the token whose secret the header carries (TOKEN_ROLE_NONE: none), its
 * name copied into name. */
static int bearer_role(struct api *a, const char *header, char *name, size_t size)
{
	static const char scheme[] = "Bearer ";
	int role = TOKEN_ROLE_NONE;

	name[0] = '\0';
	if (header == NULL || strncasecmp(header, scheme, sizeof(scheme) - 1) != 0)
		return TOKEN_ROLE_NONE;
	const char *secret = header + sizeof(scheme) - 1;
	while (*secret == ' ')
		secret++;
	size_t len = strlen(secret);
	while (len > 0 && secret[len - 1] == ' ')
		len--;
	if (len == 0 || len > TOKEN_SECRET_MAX)
		return TOKEN_ROLE_NONE;
	pthread_mutex_lock(&a->tokens_lock);
	tokens_refresh(a);
	const struct token *t = tokens_match(&a->tokens, secret, len);
	if (t != NULL) {
		role = t->role;
		snprintf(name, size, "%s", t->name);
	}
	pthread_mutex_unlock(&a->tokens_lock);
	return role;
}

int auth_check(struct api *a, const char *header, struct api_response *r)
{
	int role = bearer_role(a, header, r->actor, sizeof(r->actor));
	if (role != TOKEN_ROLE_NONE)
		return role;
	r->www_authenticate = true;
	response_error(r, 401, header ? "invalid token"
				      : "missing bearer token (Authorization: Bearer SECRET)");
	return TOKEN_ROLE_NONE;
}

bool auth_role_allows(int have, int need, struct api_response *r)
{
	if (have >= need)
		return true;
	response_error(r, 403, "this needs a token with role %s; yours is %s",
		       token_role_name(need), token_role_name(have));
	return false;
}

json_t *auth_token_list(struct api *a)
{
	json_t *list = json_array();
	pthread_mutex_lock(&a->tokens_lock);
	for (size_t i = 0; i < a->tokens.n; i++)
		json_array_append_new(list, json_pack("{s:s s:s}", "name", a->tokens.v[i].name,
						      "role", token_role_name(a->tokens.v[i].role)));
	pthread_mutex_unlock(&a->tokens_lock);
	return list;
}
