/* A query name below a zone apex read as the key lib/listing decides: reversed IPv4
 * octets or IPv6 nibbles for an IP zone, a domain name for a name zone. Reads only
 * the labels dns_query_parse checked; never allocates. */
#ifndef DNSBLD_QUERY_NAME_H
#define DNSBLD_QUERY_NAME_H

#include <stdint.h>

#include "listing.h"
#include "wire.h"

/* Fills *key with the readings of the k labels below an IP zone's apex (qname the
 * query's wire name, q as parsed): reversed IPv4 octets (1-4 labels; an address at 4),
 * then nibble-reversed IPv6 (1-32 labels; an address at 32). key->count is 0 when the
 * labels read neither way. */
void query_name_ip_key(const uint8_t *qname, const struct dns_query *q, unsigned k,
		       struct listing_key *key);

/* Fills *key with the name (DNAME_EXACT) of the k labels below a name zone's apex, its
 * key form in buf (DNAME_KEY_MAX bytes, the caller's; the key points into it).
 * key->count is 0 when a label has a byte no entry can hold. */
void query_name_domain_key(const uint8_t *qname, const struct dns_query *q, unsigned k,
			   uint8_t *buf, struct listing_key *key);

#endif
