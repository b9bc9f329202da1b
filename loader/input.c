#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "err.h"

#define INPUT_BLOCK (1u << 20)

struct input {
	gzFile gz;
	bool is_stdin;
	uint64_t size;
	char *buf;      /* INPUT_BLOCK + INPUT_LINE_MAX + 1 bytes */
	size_t start;   /* next unread byte */
	size_t end;     /* end of valid data */
	bool eof;
	char errbuf[160];
};

int input_open(const char *path, struct input **out)
{
	struct input *in = calloc(1, sizeof(*in));
	struct stat st;
	int fd;

	if (in == NULL)
		return DNSBL_ENOMEM;
	in->buf = malloc(INPUT_BLOCK + INPUT_LINE_MAX + 1);
	if (in->buf == NULL) {
		free(in);
		return DNSBL_ENOMEM;
	}
	in->is_stdin = strcmp(path, "-") == 0;
	fd = in->is_stdin ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		in->size = (uint64_t)st.st_size;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		errno = EISDIR;
		goto fail;
	}
	in->gz = gzdopen(fd, "rb");
	if (in->gz == NULL) {
		close(fd);
		errno = ENOMEM;
		goto fail;
	}
	gzbuffer(in->gz, 256 * 1024);
	*out = in;
	return 0;
fail:
	free(in->buf);
	free(in);
	return DNSBL_EIO;
}

void input_close(struct input *in)
{
	if (in == NULL)
		return;
	if (in->gz != NULL)
		gzclose(in->gz);
	free(in->buf);
	free(in);
}

/* Moves the unread tail to the front and reads more after it. Returns bytes read,
 * 0 at the end, or -1. */
static int fill(struct input *in)
{
	size_t tail = in->end - in->start;
	int n;

	if (in->eof)
		return 0;
	memmove(in->buf, in->buf + in->start, tail);
	in->start = 0;
	in->end = tail;
	n = gzread(in->gz, in->buf + in->end, INPUT_BLOCK);
	if (n < 0) {
		int zerr;
		const char *m = gzerror(in->gz, &zerr);
		snprintf(in->errbuf, sizeof(in->errbuf), "%s",
			 zerr == Z_ERRNO ? strerror(errno) : m);
		return -1;
	}
	if (n == 0) {
		int zerr;
		const char *m = gzerror(in->gz, &zerr);
		if (zerr != Z_OK && zerr != Z_STREAM_END) {
			/* a truncated or corrupt gzip stream: never import half a file */
			snprintf(in->errbuf, sizeof(in->errbuf), "%s", m);
			return -1;
		}
		in->eof = true;
	}
	in->end += (size_t)n;
	return n;
}

int input_next(struct input *in, const char **line, size_t *len, bool *too_long)
{
	bool skipping = false;

	*too_long = false;
	for (;;) {
		char *s = in->buf + in->start;
		size_t avail = in->end - in->start;
		char *nl = avail ? memchr(s, '\n', avail) : NULL;
		if (nl != NULL) {
			size_t n = (size_t)(nl - s);
			in->start += n + 1;
			if (skipping || n > INPUT_LINE_MAX) {
				*too_long = true;
				*len = 0;
				*line = s;
				return 1;
			}
			if (n > 0 && s[n - 1] == '\r')
				n--;
			*line = s;
			*len = n;
			return 1;
		}
		if (avail > INPUT_LINE_MAX) {
			/* no newline in reach: drop what we have and find the line's end */
			skipping = true;
			in->start = in->end;
		}
		int r = fill(in);
		if (r < 0)
			return DNSBL_EIO;
		if (r == 0) {
			avail = in->end - in->start;
			if (avail == 0 && !skipping)
				return 0;
			/* the last line has no newline */
			s = in->buf + in->start;
			in->start = in->end;
			if (skipping || avail > INPUT_LINE_MAX) {
				*too_long = true;
				*len = 0;
				*line = s;
				return 1;
			}
			if (avail > 0 && s[avail - 1] == '\r')
				avail--;
			*line = s;
			*len = avail;
			return 1;
		}
	}
}

void input_position(const struct input *in, uint64_t *done, uint64_t *size)
{
	z_off_t off = gzoffset(in->gz);
	*done = off > 0 ? (uint64_t)off : 0;
	*size = in->size;
}

const char *input_error(const struct input *in)
{
	return in->errbuf[0] ? in->errbuf : "read error";
}
