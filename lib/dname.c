#include "dname.h"

#include <string.h>

#include "err.h"

/* The lower-case form of an entry name's byte, or 0 when names cannot hold it. */
static uint8_t name_byte(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return (uint8_t)(c | 0x20);
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
		return c;
	return 0;
}

int dname_parse(const char *s, size_t len, uint8_t *buf, struct entry_key *out)
{
	uint8_t kind = DNAME_EXACT;
	size_t end, pos = 0, label_end;

	memset(out, 0, sizeof(*out));
	if (len >= 2 && s[0] == '*' && s[1] == '.') {
		kind = DNAME_SUBS;
		s += 2;
		len -= 2;
	} else if (len >= 1 && s[0] == '.') {
		kind = DNAME_TREE;
		s++;
		len--;
	}
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > DNAME_KEY_MAX - 1)
		return DNSBL_ESYNTAX;
	/* labels are written from the last one in the text to the first */
	label_end = len;
	for (size_t i = len + 1; i-- > 0;) {
		if (i > 0 && s[i - 1] != '.')
			continue;
		size_t llen = label_end - i;
		if (llen == 0 || llen > 63)
			return DNSBL_ESYNTAX;
		buf[pos++] = (uint8_t)llen;
		for (size_t j = i; j < label_end; j++) {
			uint8_t c = name_byte((uint8_t)s[j]);
			if (c == 0)
				return DNSBL_ESYNTAX;
			buf[pos++] = c;
		}
		if (i == 0)
			break;
		label_end = i - 1;
	}
	end = pos;
	out->family = ADDR_FAMILY_NAME;
	out->kind = kind;
	out->name = buf;
	out->name_len = (uint8_t)end;
	return 0;
}

int dname_from_wire(const uint8_t *qname, const uint8_t *label_off, unsigned k, uint8_t *buf,
		    struct entry_key *out)
{
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	if (k == 0)
		return DNSBL_ESYNTAX;
	for (unsigned i = k; i-- > 0;) {
		const uint8_t *lab = qname + label_off[i];
		if (lab[0] == 0 || lab[0] > 63 || pos + 1 + lab[0] > DNAME_KEY_MAX)
			return DNSBL_ESYNTAX;
		buf[pos++] = lab[0];
		for (unsigned j = 1; j <= lab[0]; j++) {
			uint8_t c = name_byte(lab[j]);
			if (c == 0)
				return DNSBL_ESYNTAX;
			buf[pos++] = c;
		}
	}
	out->family = ADDR_FAMILY_NAME;
	out->kind = DNAME_EXACT;
	out->name = buf;
	out->name_len = (uint8_t)pos;
	return 0;
}

size_t dname_format(const struct entry_key *k, int with_kind, char *buf, size_t size)
{
	const uint8_t *starts[DNAME_LABELS_MAX + 1];
	unsigned n = 0;
	size_t pos = 0;

	if (size == 0)
		return 0;
	for (size_t i = 0; i < k->name_len && n <= DNAME_LABELS_MAX; i += 1u + k->name[i])
		starts[n++] = k->name + i;
	if (with_kind && k->kind == DNAME_SUBS && size > 2) {
		memcpy(buf, "*.", 2);
		pos = 2;
	} else if (with_kind && k->kind == DNAME_TREE && size > 1) {
		buf[pos++] = '.';
	}
	while (n-- > 0) {
		const uint8_t *lab = starts[n];
		size_t llen = lab[0];
		if (lab + 1 + llen > k->name + k->name_len)
			llen = (size_t)(k->name + k->name_len - lab - 1); /* damaged: cut */
		if (pos + llen + (n > 0) + 1 > size) /* the label, its dot, the NUL */
			break;
		memcpy(buf + pos, lab + 1, llen);
		pos += llen;
		if (n > 0)
			buf[pos++] = '.';
	}
	buf[pos] = '\0';
	return pos;
}

int entry_key_parse(int names, const char *s, size_t len, uint8_t *buf, struct entry_key *out)
{
	if (names)
		return dname_parse(s, len, buf, out);
	memset(out, 0, sizeof(*out));
	return prefix_parse(s, len, out);
}

size_t entry_key_format(const struct entry_key *k, int bare_host, char *buf, size_t size)
{
	if (k->family == ADDR_FAMILY_NAME)
		return dname_format(k, 1, buf, size);
	return prefix_format(k, bare_host, buf, size);
}

unsigned dname_labels(const uint8_t *name, size_t len)
{
	unsigned n = 0;

	for (size_t i = 0; i < len; i += 1u + name[i])
		n++;
	return n;
}

size_t dname_ancestor_len(const uint8_t *name, size_t len, unsigned n)
{
	size_t i = 0;

	while (n-- > 0 && i < len)
		i += 1u + name[i];
	return i < len ? i : len;
}
