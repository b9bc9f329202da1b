/* The store's on-disk encodings: keys, entries, zone records, tombstones, history
 * records, summary keys. Every byte layout the store writes is here, or in the inline
 * encoders at the top of store_impl.h (the key encoding and the entry decoding,
 * which the read path uses on every query); nothing else in lib/store/ builds or
 * reads a key or value by hand.
 *
 * entries key    zone id u16 BE | family u8 (4 or 6) | prefix length u8
 *                | address (4 or 16 bytes, network order, host bits zero)
 *                a name: zone id u16 BE | 'N' | key form (lib/dname.h, labels from
 *                the top down) | 0 | kind u8 (enum dname_kind), so that a name's
 *                subdomains follow it in key order
 * entries value  flags u8 | reason length u8 | source id u16 | A u32
 *                | first seen u32 | last seen u32 | hits u32 | expires u32
 *                | with STORE_F_PENDING: count u8 + count recent hit times u32
 *                | reason bytes | TXT template bytes (the rest)
 *                (host byte order, VALUE_FIXED = 24 bytes + extras; times are
 *                unix seconds, expires 0 = never)
 * tombs key      an entries key
 * tombs value    delisted at u32 | actor source id u16 | reason (the rest)
 * history key    sequence number u64 BE (so the database is in time order)
 * history value  time u32 | zone id u16 | event u8 | actor kind u8
 *                | actor source id u16 | family u8 | prefix length u8 (a name:
 *                its kind) | A u32 | address (4 or 16 bytes) | reason (the rest);
 *                a name has for the address its key form's length u8 and bytes
 * histkey key    an entries key | sequence number u64 BE; empty value
 * meta "zone:"N  struct zone_record (host order, 48 bytes): id u16, pad u16,
 *                serial u32, created u32, pad u32, then union store_zone_lens as
 *                four u64 words
 * summary key    zone id u16 BE | chunk u16 BE; value: SUMMARY_CHUNK_WORDS u16
 *                words, host order (lib/summary.h)
 * journal key    zone id u16 BE | LMDB txn id u64 BE (JOURNAL_KEY_BYTES), so that a
 *                cursor walks one zone's records in commit order
 * journal value  serial after u32 | commit time u32 | flags u8 (JOURNAL_F_OVERFLOW)
 *                | count u32 (JOURNAL_FIXED = 13 bytes, host order), then count
 *                changes, each: key length u16 | an entries key (with its zone id)
 *                | value length u16 (0: the key did not exist) | the entries value
 *                from before the commit; an overflow record has count 0 and nothing
 *                after the header (built in lib/store/journal.c, which writes and
 *                reads only these bytes)
 * journal key    zone id u16 BE alone (sorts before the zone's records): the sum of
 *                the counts of the zone's records, u64 host order */
#include "store_impl.h"

#include <string.h>

#include "dname.h"
#include "err.h"





bool store_key_name_valid(const uint8_t *name, size_t len)
{
	size_t i = 0;

	if (len == 0 || len > DNAME_KEY_MAX)
		return false;
	while (i < len) {
		if (name[i] == 0 || name[i] > 63 || i + 1 + name[i] > len)
			return false;
		i += 1u + name[i];
	}
	return true;
}

bool store_key_decode(const uint8_t *kb, size_t n, struct entry_key *out)
{
	memset(out, 0, sizeof(*out));
	if (n < 4)
		return false;
	out->family = kb[2];
	if (kb[2] == ADDR_FAMILY_NAME) {
		if (n < 6 || kb[n - 2] != 0 || kb[n - 1] < DNAME_EXACT || kb[n - 1] > DNAME_TREE ||
		    !store_key_name_valid(kb + 3, n - 5))
			return false;
		out->kind = kb[n - 1];
		out->name = kb + 3;
		out->name_len = (uint8_t)(n - 5);
		return true;
	}
	if ((kb[2] != ADDR_FAMILY_V4 && kb[2] != ADDR_FAMILY_V6) ||
	    n != 4 + store_addr_bytes(kb[2]) || kb[3] > store_family_bits(kb[2]))
		return false;
	out->len = kb[3];
	memcpy(out->addr, kb + 4, store_addr_bytes(kb[2]));
	return true;
}


uint64_t store_name_level_bit(unsigned labels)
{
	return 1ull << (labels < 63 ? labels : 63);
}

void store_lens_add(union store_zone_lens *l, const struct entry_key *p)
{
	if (p->family == ADDR_FAMILY_NAME) {
		uint64_t bit = store_name_level_bit(dname_labels(p->name, p->name_len));
		if (p->kind != DNAME_SUBS)
			l->self_labels |= bit;
		if (p->kind != DNAME_EXACT)
			l->subs_labels |= bit;
	} else if (p->family == ADDR_FAMILY_V4) {
		l->ip4 |= 1ull << p->len;
	} else {
		l->ip6[p->len / 64] |= 1ull << (p->len % 64);
	}
}

void store_summary_key(uint8_t kb[4], uint16_t zid, uint32_t chunk)
{
	kb[0] = (uint8_t)(zid >> 8);
	kb[1] = (uint8_t)zid;
	kb[2] = (uint8_t)(chunk >> 8);
	kb[3] = (uint8_t)chunk;
}



size_t store_entry_encode(uint8_t *p, const struct store_entry *e)
{
	size_t n = VALUE_FIXED;

	p[0] = e->flags;
	p[1] = (uint8_t)e->reason_len;
	memcpy(p + 2, &e->source_id, 2);
	memcpy(p + 4, &e->a, 4);
	memcpy(p + 8, &e->first_seen, 4);
	memcpy(p + 12, &e->last_seen, 4);
	memcpy(p + 16, &e->hits, 4);
	memcpy(p + 20, &e->expires, 4);
	if (e->flags & STORE_F_PENDING) {
		p[n++] = e->nrecent;
		memcpy(p + n, e->recent, 4 * (size_t)e->nrecent);
		n += 4 * (size_t)e->nrecent;
	}
	if (e->reason_len > 0)
		memcpy(p + n, e->reason, e->reason_len);
	n += e->reason_len;
	if ((e->flags & STORE_F_TXT) && e->txt_len > 0) {
		memcpy(p + n, e->txt, e->txt_len);
		n += e->txt_len;
	}
	return n;
}



bool store_key_valid(const struct entry_key *p)
{
	if (p->family == ADDR_FAMILY_NAME)
		return p->kind >= DNAME_EXACT && p->kind <= DNAME_TREE &&
		       store_key_name_valid(p->name, p->name_len);
	if (p->family != ADDR_FAMILY_V4 && p->family != ADDR_FAMILY_V6)
		return false;
	return p->len <= store_family_bits(p->family);
}

void store_seq_encode(uint8_t *p, uint64_t seq)
{
	for (int i = SEQ_BYTES - 1; i >= 0; i--) {
		p[i] = (uint8_t)seq;
		seq >>= 8;
	}
}

uint64_t store_seq_decode(const uint8_t *p)
{
	uint64_t seq = 0;
	for (int i = 0; i < SEQ_BYTES; i++)
		seq = seq << 8 | p[i];
	return seq;
}

int store_tomb_decode(const MDB_val *v, struct store_tomb *t)
{
	const uint8_t *p = v->mv_data;

	if (v->mv_size < TOMB_FIXED)
		return DNSBL_ESTORE;
	memcpy(&t->time, p, 4);
	memcpy(&t->actor_id, p + 4, 2);
	t->reason = (const char *)p + TOMB_FIXED;
	t->reason_len = v->mv_size - TOMB_FIXED;
	return 0;
}

int store_history_decode(const MDB_val *k, const MDB_val *v, struct store_event_rec *ev)
{
	const uint8_t *p = v->mv_data;
	size_t nbytes;

	if (k->mv_size != SEQ_BYTES || v->mv_size < HIST_FIXED)
		return DNSBL_ESTORE;
	memset(ev, 0, sizeof(*ev));
	ev->seq = store_seq_decode(k->mv_data);
	memcpy(&ev->time, p, 4);
	memcpy(&ev->zone_id, p + 4, 2);
	ev->event = p[6];
	ev->actor = p[7];
	memcpy(&ev->actor_id, p + 8, 2);
	ev->prefix.family = p[10];
	memcpy(&ev->a, p + 12, 4);
	if (ev->prefix.family == ADDR_FAMILY_NAME) {
		ev->prefix.kind = p[11];
		if (v->mv_size < HIST_FIXED + 1 || v->mv_size < HIST_FIXED + 1 + (size_t)p[HIST_FIXED])
			return DNSBL_ESTORE;
		ev->prefix.name_len = p[HIST_FIXED];
		ev->prefix.name = p + HIST_FIXED + 1;
		if (!store_key_valid(&ev->prefix))
			return DNSBL_ESTORE;
		nbytes = 1 + (size_t)ev->prefix.name_len;
	} else {
		if (ev->prefix.family != ADDR_FAMILY_V4 && ev->prefix.family != ADDR_FAMILY_V6)
			return DNSBL_ESTORE;
		ev->prefix.len = p[11];
		nbytes = store_addr_bytes(ev->prefix.family);
		if (v->mv_size < HIST_FIXED + nbytes ||
		    ev->prefix.len > store_family_bits(ev->prefix.family))
			return DNSBL_ESTORE;
		memcpy(ev->prefix.addr, p + HIST_FIXED, nbytes);
	}
	ev->reason = (const char *)p + HIST_FIXED + nbytes;
	ev->reason_len = v->mv_size - HIST_FIXED - nbytes;
	return 0;
}

size_t store_history_encode(uint8_t *hv, uint32_t time, uint16_t zid, uint8_t event,
			    uint8_t actor, uint16_t actor_id, const struct entry_key *p, uint32_t a,
			    const char *reason, size_t reason_len)
{
	size_t n = HIST_FIXED;

	memcpy(hv, &time, 4);
	memcpy(hv + 4, &zid, 2);
	hv[6] = event;
	hv[7] = actor;
	memcpy(hv + 8, &actor_id, 2);
	hv[10] = p->family;
	hv[11] = p->family == ADDR_FAMILY_NAME ? p->kind : p->len;
	memcpy(hv + 12, &a, 4);
	if (p->family == ADDR_FAMILY_NAME) {
		hv[n++] = p->name_len;
		memcpy(hv + n, p->name, p->name_len);
		n += p->name_len;
	} else {
		memcpy(hv + n, p->addr, store_addr_bytes(p->family));
		n += store_addr_bytes(p->family);
	}
	if (reason_len > 0)
		memcpy(hv + n, reason, reason_len);
	return n + reason_len;
}

size_t store_tomb_encode(uint8_t *tv, uint32_t time, uint16_t actor_id, const char *reason,
			 size_t reason_len)
{
	memcpy(tv, &time, 4);
	memcpy(tv + 4, &actor_id, 2);
	if (reason_len > 0)
		memcpy(tv + TOMB_FIXED, reason, reason_len);
	return TOMB_FIXED + reason_len;
}

void store_zone_encode(const struct store_zone *z, struct zone_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->id = z->id;
	rec->serial = z->serial;
	rec->created = z->created;
	memcpy(rec->lens, &z->lens, sizeof(rec->lens));
}

int store_zone_decode(const MDB_val *v, struct store_zone *out)
{
	struct zone_record rec;

	if (v->mv_size != sizeof(rec))
		return DNSBL_ESTORE;
	memcpy(&rec, v->mv_data, sizeof(rec));
	out->id = rec.id;
	out->serial = rec.serial;
	out->created = rec.created;
	memcpy(&out->lens, rec.lens, sizeof(out->lens));
	return 0;
}
