#include "zone.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "wire.h"

static unsigned count_labels(const uint8_t *wire)
{
	unsigned n = 0;
	for (size_t p = 0; wire[p] != 0; p += 1u + wire[p])
		n++;
	return n;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int zone_table_init(struct zone_table *t, const struct config *cfg)
{
	t->count = cfg->zone_count;
	t->zones = calloc(cfg->zone_count ? cfg->zone_count : 1, sizeof(*t->zones));
	if (t->zones == NULL)
		return DNSBL_ENOMEM;
	for (unsigned i = 0; i < cfg->zone_count; i++) {
		const struct zone_config *zc = &cfg->zones[i];
		struct zone *z = &t->zones[i];
		z->cfg = zc;
		memcpy(z->apex, zc->apex.wire, zc->apex.len);
		z->apex_len = zc->apex.len;
		z->apex_labels = (uint8_t)count_labels(zc->apex.wire);
		z->ttl = zc->ttl;
		z->neg_ttl = zc->ttl < zc->soa_minimum ? zc->ttl : zc->soa_minimum;
		z->a = zc->a;
		z->txt = zc->txt;
		z->txt_len = strlen(zc->txt);
		memcpy(z->soa_names, zc->soa_mname.wire, zc->soa_mname.len);
		memcpy(z->soa_names + zc->soa_mname.len, zc->soa_rname.wire, zc->soa_rname.len);
		z->soa_names_len = (size_t)zc->soa_mname.len + zc->soa_rname.len;
		put32(z->soa_times, zc->soa_refresh);
		put32(z->soa_times + 4, zc->soa_retry);
		put32(z->soa_times + 8, zc->soa_expire);
		put32(z->soa_times + 12, zc->soa_minimum);
		z->ns_count = zc->ns_count;
		z->ns = zc->ns;
		z->key = config_zone_key(cfg, zc);
		z->exempt = -1;
		for (unsigned j = 0; zc->exempt[0] != '\0' && j < cfg->zone_count; j++)
			if (strcmp(cfg->zones[j].name, zc->exempt) == 0)
				z->exempt = (int)j;
		/* config_load checked that every member exists and what type it is */
		z->member_type = zc->type;
		for (unsigned m = 0; m < zc->member_count; m++) {
			for (unsigned j = 0; j < cfg->zone_count; j++) {
				if (strcmp(cfg->zones[j].name, zc->members[m]) == 0) {
					z->members[z->member_count++] = j;
					z->member_type = cfg->zones[j].type;
				}
			}
		}
	}
	return 0;
}

void zone_table_free(struct zone_table *t)
{
	free(t->zones);
	t->zones = NULL;
	t->count = 0;
}

int zone_table_find(const struct zone_table *t, const uint8_t *qname, const uint8_t *label_off,
		    unsigned nlabels)
{
	int best = -1;
	unsigned best_labels = 0;

	for (unsigned i = 0; i < t->count; i++) {
		const struct zone *z = &t->zones[i];
		if (z->apex_labels > nlabels || (best >= 0 && z->apex_labels <= best_labels))
			continue;
		/* the apex, root label included, must end the query name exactly */
		const uint8_t *suffix = qname + label_off[nlabels - z->apex_labels];
		if (dns_name_equal(suffix, z->apex, z->apex_len)) {
			best = (int)i;
			best_labels = z->apex_labels;
		}
	}
	return best;
}
