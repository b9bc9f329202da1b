#include "export_zone.h"

#include <string.h>

#include "err.h"
#include "wire.h"

struct zone_out {
	FILE *f;
	uint32_t ttl;
};

/* Writes wire labels (no root) as relative presentation text ("@" for none). */
static void owner_put(FILE *f, const uint8_t *w, size_t len)
{
	if (len == 0) {
		fputc('@', f);
		return;
	}
	for (size_t i = 0; i < len; i += (size_t)w[i] + 1) {
		if (i > 0)
			fputc('.', f);
		fwrite(w + i + 1, 1, w[i], f); /* digits, letters, '-', '_', '*': no escapes */
	}
}

/* Writes one character-string in quotes, escaping what RFC 1035 5.1 requires. */
static void string_put(FILE *f, const uint8_t *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			fprintf(f, "\\%c", s[i]);
		else if (s[i] < 0x20 || s[i] > 0x7e)
			fprintf(f, "\\%03u", s[i]);
		else
			fputc(s[i], f);
	}
	fputc('"', f);
}

static int rr_put(void *arg, const struct zonemap_rr *rr)
{
	struct zone_out *o = arg;

	owner_put(o->f, rr->owner, rr->owner_len);
	fprintf(o->f, " %u IN ", o->ttl);
	if (rr->type == DNS_T_A) {
		fprintf(o->f, "A %u.%u.%u.%u\n", rr->rdata[0], rr->rdata[1], rr->rdata[2],
			rr->rdata[3]);
	} else {
		fputs(rr->type == DNS_T_TXT ? "TXT" : "HINFO", o->f);
		for (size_t i = 0; i < rr->rdlen; i += (size_t)rr->rdata[i] + 1) {
			fputc(' ', o->f);
			string_put(o->f, rr->rdata + i + 1, rr->rdata[i]);
		}
		fputc('\n', o->f);
	}
	return ferror(o->f) ? DNSBL_EIO : 0;
}

/* Writes a config name (wire form) absolute. */
static void dname_put(FILE *f, const struct dname *d)
{
	char text[DNAME_WIRE_MAX * 4 + 2];

	if (dname_to_text(d->wire, d->len, text, sizeof(text)) < 0)
		text[0] = '\0';
	fprintf(f, "%s.", text);
}

int export_zone_write(FILE *f, struct store_reader *r, const struct config *cfg,
		      const struct zone_config *zc, uint32_t now, struct zonemap_stats *st)
{
	struct zone_out o = { f, zc->ttl };

	fprintf(f, "; %s exported by dnsbl-loader: the records dnsbld transfers\n", zc->name);
	fprintf(f, "$ORIGIN %s.\n@ %u IN SOA ", zc->name, zc->ttl);
	dname_put(f, &zc->soa_mname);
	fputc(' ', f);
	dname_put(f, &zc->soa_rname);
	fprintf(f, " %u %u %u %u %u\n", zonemap_serial(r, cfg, zc), zc->soa_refresh,
		zc->soa_retry, zc->soa_expire, zc->soa_minimum);
	for (unsigned i = 0; i < zc->ns_count; i++) {
		fprintf(f, "@ %u IN NS ", zc->ttl);
		dname_put(f, &zc->ns[i]);
		fputc('\n', f);
	}
	st->records += 1 + zc->ns_count;
	int rc = zonemap_run(r, cfg, zc, now, rr_put, &o, st);
	if (rc == 0 && ferror(f))
		rc = DNSBL_EIO;
	return rc;
}

static int rr_count(void *arg, const struct zonemap_rr *rr)
{
	(void)arg;
	(void)rr;
	return 0;
}

int export_zone_count(struct store_reader *r, const struct config *cfg,
		      const struct zone_config *zc, uint32_t now, uint64_t *records)
{
	struct zonemap_stats st = { 0 };
	int rc = zonemap_run(r, cfg, zc, now, rr_count, NULL, &st);

	*records = st.records + 1 + zc->ns_count;
	return rc;
}
