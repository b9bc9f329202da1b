#include "tokens.h"

#include <errno.h>
#include <fcntl.h>
#include <ldns/sha2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include "err.h"
#include "grow.h"

#define LINE_MAX_BYTES 1024

int token_role_parse(const char *s)
{
	if (strcmp(s, "read") == 0)
		return TOKEN_ROLE_READ;
	if (strcmp(s, "write") == 0)
		return TOKEN_ROLE_WRITE;
	if (strcmp(s, "admin") == 0)
		return TOKEN_ROLE_ADMIN;
	return TOKEN_ROLE_NONE;
}

const char *token_role_name(int r)
{
	switch (r) {
	case TOKEN_ROLE_READ: return "read";
	case TOKEN_ROLE_WRITE: return "write";
	case TOKEN_ROLE_ADMIN: return "admin";
	default: return "none";
	}
}

static void errf(char *err, size_t errsize, const char *fmt, ...)
{
	size_t used = strnlen(err, errsize);
	va_list ap;

	if (errsize == 0 || used + 1 >= errsize)
		return;
	va_start(ap, fmt);
	vsnprintf(err + used, errsize - used, fmt, ap);
	va_end(ap);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void hash_secret(const char *secret, size_t len, uint8_t *out)
{
	ldns_sha256((const unsigned char *)secret, (unsigned)len, out);
}

static void hex_write(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Splits line into at most max blank-separated words (in place). Returns the count,
 * or max + 1 when there are more. */
static size_t split_words(char *line, char **words, size_t max)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return n;
		if (n == max)
			return max + 1;
		words[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
}

/* Parses one line (NUL-terminated, no newline). Returns 1 with *t filled, 0 for a
 * blank or comment line, or -1 with the reason in *why. */
static int parse_line(char *line, struct token *t, const char **why)
{
	char *w[3];
	size_t n;

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '\0' || *line == '#')
		return 0;
	for (char *p = line; *p; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			*why = "control character";
			return -1;
		}
	}
	if ((n = split_words(line, w, 3)) != 3) {
		*why = "expected \"NAME ROLE SHA256-HEX\"";
		return -1;
	}
	if (!store_name_valid(w[0], strlen(w[0]))) {
		*why = "bad token name (1 to 64 of A-Z a-z 0-9 . _ - + @)";
		return -1;
	}
	if ((t->role = token_role_parse(w[1])) == TOKEN_ROLE_NONE) {
		*why = "role must be read, write or admin";
		return -1;
	}
	if (strlen(w[2]) != 2 * TOKEN_HASH_BYTES) {
		*why = "the hash must be 64 lower-case hex digits (SHA-256)";
		return -1;
	}
	for (size_t i = 0; i < TOKEN_HASH_BYTES; i++) {
		int hi = hexval(w[2][2 * i]), lo = hexval(w[2][2 * i + 1]);
		if (hi < 0 || lo < 0) {
			*why = "the hash must be 64 lower-case hex digits (SHA-256)";
			return -1;
		}
		t->hash[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(t->name, w[0], strlen(w[0]) + 1);
	return 1;
}

static int set_push(struct token_set *set, const struct token *t)
{
	struct token *v = grow_array(set->v, &set->cap, set->n + 1, sizeof(*v), 8);
	if (v == NULL)
		return DNSBL_ENOMEM;
	set->v = v;
	set->v[set->n++] = *t;
	return 0;
}

void tokens_free(struct token_set *set)
{
	free(set->v);
	set->v = NULL;
	set->n = set->cap = 0;
}

/* Reads the open file f into *out. */
static int load_file(FILE *f, const char *path, struct token_set *out, char *err,
		     size_t errsize)
{
	char line[LINE_MAX_BYTES + 2];
	unsigned lineno = 0;
	int rc = 0;

	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);
		struct token t;
		const char *why = NULL;
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(f)) {
			errf(err, errsize, "%s:%u: line longer than %d bytes\n", path, lineno,
			     LINE_MAX_BYTES);
			rc = DNSBL_EINVAL;
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (memchr(line, '\0', len) != NULL) {
			errf(err, errsize, "%s:%u: NUL byte\n", path, lineno);
			rc = DNSBL_EINVAL;
			continue;
		}
		int p = parse_line(line, &t, &why);
		if (p < 0) {
			errf(err, errsize, "%s:%u: %s\n", path, lineno, why);
			rc = DNSBL_EINVAL;
			continue;
		}
		if (p == 0)
			continue;
		bool twice = false;
		for (size_t i = 0; i < out->n; i++)
			twice = twice || strcmp(out->v[i].name, t.name) == 0;
		if (twice) {
			errf(err, errsize, "%s:%u: token %s defined twice\n", path, lineno, t.name);
			rc = DNSBL_EINVAL;
		} else if (set_push(out, &t) < 0) {
			return DNSBL_ENOMEM;
		}
	}
	if (ferror(f)) {
		errf(err, errsize, "%s: read error: %s\n", path, strerror(errno));
		return DNSBL_EIO;
	}
	return rc;
}

int tokens_load(const char *path, struct token_set *out, char *err, size_t errsize)
{
	FILE *f = fopen(path, "r");
	int rc;

	out->n = 0;
	if (errsize > 0)
		err[0] = '\0';
	if (f == NULL) {
		if (errno == ENOENT)
			return DNSBL_ENOTFOUND;
		errf(err, errsize, "%s: %s\n", path, strerror(errno));
		return DNSBL_EIO;
	}
	rc = load_file(f, path, out, err, errsize);
	fclose(f);
	if (rc < 0)
		out->n = 0;
	return rc;
}

const struct token *tokens_match(const struct token_set *set, const char *secret, size_t len)
{
	uint8_t h[TOKEN_HASH_BYTES];
	const struct token *found = NULL;

	hash_secret(secret, len, h);
	/* every token is compared in full, so the time says nothing about which matched */
	for (size_t i = 0; i < set->n; i++) {
		uint8_t diff = 0;
		for (size_t j = 0; j < TOKEN_HASH_BYTES; j++)
			diff |= (uint8_t)(set->v[i].hash[j] ^ h[j]);
		volatile uint8_t d = diff;
		if (d == 0)
			found = &set->v[i];
	}
	return found;
}

/* Locks path's ".lock" sibling for an edit. Returns the lock descriptor or -1. */
static int edit_lock(const char *path, char *err, size_t errsize)
{
	char lock[4200];
	int fd;

	if ((size_t)snprintf(lock, sizeof(lock), "%s.lock", path) >= sizeof(lock)) {
		errf(err, errsize, "%s: path too long\n", path);
		return -1;
	}
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 || flock(fd, LOCK_EX) < 0) {
		errf(err, errsize, "%s: %s\n", lock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Writes set to path through a temporary file and a rename (mode 0600). */
static int write_set(const char *path, const struct token_set *set, char *err, size_t errsize)
{
	char tmp[4200], hex[2 * TOKEN_HASH_BYTES + 1];
	FILE *f;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		errf(err, errsize, "%s: path too long\n", path);
		return DNSBL_EIO;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    (f = fdopen(fd, "w")) == NULL) {
		errf(err, errsize, "%s: %s\n", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return DNSBL_EIO;
	}
	fprintf(f, "# dnsbl-api tokens: NAME ROLE SHA256-HEX of the secret "
		   "(edit with dnsbl-api token add|remove)\n");
	for (size_t i = 0; i < set->n; i++) {
		hex_write(set->v[i].hash, TOKEN_HASH_BYTES, hex);
		fprintf(f, "%s %s %s\n", set->v[i].name, token_role_name(set->v[i].role), hex);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f)) {
		errf(err, errsize, "%s: %s\n", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return DNSBL_EIO;
	}
	fclose(f);
	if (rename(tmp, path) < 0) {
		errf(err, errsize, "%s: %s\n", path, strerror(errno));
		unlink(tmp);
		return DNSBL_EIO;
	}
	return 0;
}

/* Loads path for an edit: a missing file is an empty set. */
static int load_for_edit(const char *path, struct token_set *set, char *err, size_t errsize)
{
	int rc = tokens_load(path, set, err, errsize);
	return rc == DNSBL_ENOTFOUND ? 0 : rc;
}

int tokens_add(const char *path, const char *name, int role, char *secret, size_t size,
	       char *err, size_t errsize)
{
	struct token_set set = { 0 };
	struct token t;
	uint8_t raw[TOKEN_SECRET_BYTES];
	int lock, rc;

	if (errsize > 0)
		err[0] = '\0';
	if (!store_name_valid(name, strlen(name))) {
		errf(err, errsize, "bad token name \"%s\": 1 to 64 of A-Z a-z 0-9 . _ - + @\n", name);
		return DNSBL_EINVAL;
	}
	if (role < TOKEN_ROLE_READ || role > TOKEN_ROLE_ADMIN) {
		errf(err, errsize, "role must be read, write or admin\n");
		return DNSBL_EINVAL;
	}
	if (size < 2 * TOKEN_SECRET_BYTES + 1)
		return DNSBL_ENOSPC;
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		errf(err, errsize, "getrandom: %s\n", strerror(errno));
		return DNSBL_EIO;
	}
	if ((lock = edit_lock(path, err, errsize)) < 0)
		return DNSBL_EIO;
	rc = load_for_edit(path, &set, err, errsize);
	for (size_t i = 0; rc == 0 && i < set.n; i++) {
		if (strcmp(set.v[i].name, name) == 0) {
			errf(err, errsize, "token %s exists already; remove it first\n", name);
			rc = DNSBL_EEXIST;
		}
	}
	if (rc == 0) {
		hex_write(raw, sizeof(raw), secret);
		memset(&t, 0, sizeof(t));
		memcpy(t.name, name, strlen(name) + 1);
		t.role = role;
		hash_secret(secret, 2 * TOKEN_SECRET_BYTES, t.hash);
		rc = set_push(&set, &t);
	}
	if (rc == 0)
		rc = write_set(path, &set, err, errsize);
	if (rc < 0)
		memset(secret, 0, size);
	tokens_free(&set);
	close(lock);
	return rc;
}

int tokens_remove(const char *path, const char *name, char *err, size_t errsize)
{
	struct token_set set = { 0 };
	int lock, rc = DNSBL_ENOTFOUND;

	if (errsize > 0)
		err[0] = '\0';
	if ((lock = edit_lock(path, err, errsize)) < 0)
		return DNSBL_EIO;
	int lrc = load_for_edit(path, &set, err, errsize);
	if (lrc < 0)
		rc = lrc;
	for (size_t i = 0; lrc == 0 && i < set.n; i++) {
		if (strcmp(set.v[i].name, name) == 0) {
			memmove(&set.v[i], &set.v[i + 1], (set.n - i - 1) * sizeof(set.v[0]));
			set.n--;
			rc = write_set(path, &set, err, errsize);
			break;
		}
	}
	tokens_free(&set);
	close(lock);
	return rc;
}
