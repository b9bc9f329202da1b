#include "query_name.h"

#include <stdbool.h>
#include <string.h>

#include "addr.h"
#include "dname.h"

/* Reads k labels as reversed IPv4 octets into *addr (host order, left-aligned). */
static bool labels_v4(const uint8_t *qname, const struct dns_query *q, unsigned k,
		      uint32_t *addr)
{
	*addr = 0;
	for (unsigned j = 0; j < k; j++) {
		const uint8_t *lab = qname + q->label_off[k - 1 - j]; /* first label = last octet */
		int o = addr4_octet_parse((const char *)lab + 1, lab[0]);
		if (o < 0)
			return false;
		*addr |= (uint32_t)o << (24 - 8 * j);
	}
	return true;
}

/* Reads k labels as reversed IPv6 nibbles into addr[16] (zero-filled). */
static bool labels_v6(const uint8_t *qname, const struct dns_query *q, unsigned k,
		      uint8_t *addr)
{
	memset(addr, 0, 16);
	for (unsigned j = 0; j < k; j++) {
		const uint8_t *lab = qname + q->label_off[k - 1 - j];
		if (lab[0] != 1)
			return false;
		uint8_t c = lab[1], v;
		if (c >= '0' && c <= '9')
			v = (uint8_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v = (uint8_t)((c | 0x20) - 'a' + 10);
		else
			return false;
		addr[j / 2] |= (uint8_t)(j % 2 ? v : v << 4);
	}
	return true;
}

void query_name_ip_key(const uint8_t *qname, const struct dns_query *q, unsigned k,
		       struct listing_key *key)
{
	uint32_t a4;

	key->count = 0;
	if (k <= 4 && labels_v4(qname, q, k, &a4))
		prefix4_make(&key->keys[key->count++], a4, 8 * k);
	if (k <= 32) {
		struct entry_key *p6 = &key->keys[key->count];
		memset(p6, 0, sizeof(*p6));
		if (labels_v6(qname, q, k, p6->addr)) {
			p6->family = ADDR_FAMILY_V6;
			p6->len = (uint8_t)(4 * k);
			key->count++;
		}
	}
}

void query_name_domain_key(const uint8_t *qname, const struct dns_query *q, unsigned k,
			   uint8_t *buf, struct listing_key *key)
{
	key->count = dname_from_wire(qname, q->label_off, k, buf, &key->keys[0]) == 0 ? 1 : 0;
}
