/* Line input for dnsbl-loader: a file or stdin, plain or gzip-compressed (zlib
 * recognises gzip by its magic bytes and reads anything else as it is), read in large
 * blocks and split into lines without copying. */
#ifndef DNSBL_INPUT_H
#define DNSBL_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INPUT_LINE_MAX 8192

struct input;

/* Opens path ("-" for stdin). *out is owned by the caller (input_close). Returns 0,
 * DNSBL_EIO (errno says why) or DNSBL_ENOMEM. */
int input_open(const char *path, struct input **out);

/* Closes the input (not stdin's descriptor). */
void input_close(struct input *in);

/* Gives the next line without its newline (and CR) in *line and *len, valid until the
 * next call. A line longer than INPUT_LINE_MAX is skipped to its end and reported
 * with *too_long set (and *len 0). Returns 1 for a line, 0 at the end, DNSBL_EIO on
 * a read or decompression error. */
int input_next(struct input *in, const char **line, size_t *len, bool *too_long);

/* Bytes of the (possibly compressed) input consumed so far, and the input's size
 * (0 when unknown: a pipe). */
void input_position(const struct input *in, uint64_t *done, uint64_t *size);

/* A message for the last DNSBL_EIO (static or owned by in). */
const char *input_error(const struct input *in);

#endif
