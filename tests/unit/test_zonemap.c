/* lib/zonemap against dnsbld's own answers: the records of each zone are loaded into
 * a small authoritative resolver written here (exact names, empty non-terminals, the
 * closest encloser's wildcard: RFC 4592), which stands in for a secondary; every name
 * asked of it must get dnsbld's rcode, A set and TXT set, except where README's "How a
 * zone becomes records" says DNS cannot (a wildcard's "$", partial names, the HINFO
 * placeholder). The data: the answer tests' fixed zones, then random IPv4 and IPv6
 * zones built to break mappings (prefixes of every length, nested, exclusions and
 * own values inside them, an exempt allowlist, a combined zone). */
#include "answerzones.h"

#include "zonemap.h"
#include "zonemap_impl.h"

#define MAX_RRS 200000

struct rr {
	char owner[300]; /* lower case, full name with the trailing dot */
	uint16_t type;
	char value[600]; /* A: dotted quad; TXT: the strings joined */
};

static struct rr *rrs;
static size_t nrrs;
static char (*names)[300]; /* every owner and each of its ancestors, sorted */
static size_t nnames;
static const char *apex_now;

static int rr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rr *)a)->owner, ((const struct rr *)b)->owner);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static void wire_to_text(const uint8_t *w, size_t len, char *out)
{
	size_t n = 0;
	for (size_t p = 0; p < len && w[p] != 0; p += (size_t)w[p] + 1) {
		for (unsigned i = 1; i <= w[p]; i++)
			out[n++] = (char)tolower(w[p + i]);
		out[n++] = '.';
	}
	out[n] = '\0';
}

static int collect_rr(void *arg, const struct zonemap_rr *r)
{
	(void)arg;
	assert_true(nrrs < MAX_RRS);
	struct rr *x = &rrs[nrrs++];
	char below[300];
	wire_to_text(r->owner, r->owner_len, below);
	snprintf(x->owner, sizeof(x->owner), "%s%s", below, apex_now);
	x->type = r->type;
	x->value[0] = '\0';
	if (r->type == DNS_T_A) {
		assert_int_equal(r->rdlen, 4);
		snprintf(x->value, sizeof(x->value), "%u.%u.%u.%u", r->rdata[0], r->rdata[1],
			 r->rdata[2], r->rdata[3]);
	} else if (r->type == DNS_T_TXT) {
		size_t n = 0;
		for (size_t p = 0; p < r->rdlen; p += (size_t)r->rdata[p] + 1) {
			assert_true(p + 1 + r->rdata[p] <= r->rdlen);
			memcpy(x->value + n, r->rdata + p + 1, r->rdata[p]);
			n += r->rdata[p];
		}
		x->value[n] = '\0';
	} else {
		assert_int_equal(r->type, ZONEMAP_T_HINFO);
	}
	return 0;
}

/* Runs the mapping of zone into rrs and names. */
static void map_zone(const char *zone)
{
	static char apex[300];
	snprintf(apex, sizeof(apex), "%s.", zone);
	apex_now = apex;
	nrrs = 0;
	const struct zone_config *zc = config_zone(&cfg, zone);
	assert_non_null(zc);
	struct store_reader *r;
	assert_int_equal(store_reader_new(S, &r), 0);
	assert_int_equal(store_reader_begin(r), 0);
	struct zonemap_stats st = { 0 };
	assert_int_equal(zonemap_run(r, &cfg, zc, (uint32_t)time(NULL), collect_rr, NULL, &st), 0);
	store_reader_end(r);
	store_reader_free(r);
	assert_int_equal(st.records, nrrs);
	qsort(rrs, nrrs, sizeof(*rrs), rr_cmp);

	nnames = 0;
	for (size_t i = 0; i < nrrs; i++) {
		const char *p = rrs[i].owner;
		for (;;) {
			assert_true(nnames < 4 * MAX_RRS);
			snprintf(names[nnames++], 300, "%s", p);
			if (strcmp(p, apex) == 0)
				break;
			p = strchr(p, '.') + 1;
		}
	}
	snprintf(names[nnames++], 300, "%s", apex);
	qsort(names, nnames, sizeof(*names), name_cmp);
}

static bool exists(const char *name)
{
	return bsearch(name, names, nnames, sizeof(*names), name_cmp) != NULL;
}

static bool has_records(const char *owner)
{
	struct rr key;
	snprintf(key.owner, sizeof(key.owner), "%s", owner);
	return bsearch(&key, rrs, nrrs, sizeof(*rrs), rr_cmp) != NULL;
}

/* What the secondary answers. */
struct answer {
	int rcode;
	bool wildcard, placeholder;
	unsigned n;
	char values[16][600]; /* sorted */
};

static void values_of(const char *owner, uint16_t type, struct answer *a)
{
	a->n = 0;
	for (size_t i = 0; i < nrrs; i++)
		if (strcmp(rrs[i].owner, owner) == 0) {
			if (rrs[i].type == ZONEMAP_T_HINFO)
				a->placeholder = true;
			if (rrs[i].type == type && a->n < 16)
				snprintf(a->values[a->n++], 600, "%s", rrs[i].value);
		}
	qsort(a->values, a->n, sizeof(a->values[0]), name_cmp);
}

static void resolve(const char *qname, uint16_t type, struct answer *a)
{
	memset(a, 0, sizeof(*a));
	if (has_records(qname)) {
		values_of(qname, type, a);
		return;
	}
	if (exists(qname))
		return; /* an empty non-terminal: NODATA */
	const char *ce = qname;
	while (!exists(ce))
		ce = strchr(ce, '.') + 1;
	char wild[302];
	snprintf(wild, sizeof(wild), "*.%s", ce);
	if (has_records(wild)) {
		a->wildcard = true;
		values_of(wild, type, a);
	} else if (!exists(wild)) {
		a->rcode = LDNS_RCODE_NXDOMAIN;
	}
}

static void dnsbld_answer(const char *qname, uint16_t type, struct answer *a)
{
	memset(a, 0, sizeof(*a));
	ldns_pkt *p = ask(qname, type);
	a->rcode = ldns_pkt_get_rcode(p);
	ldns_rr_list *an = ldns_pkt_answer(p);
	for (size_t i = 0; i < ldns_rr_list_rr_count(an) && a->n < 16; i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) != type)
			continue;
		char *v = a->values[a->n++];
		v[0] = '\0';
		if (type == DNS_T_A) {
			uint8_t *d = ldns_rdf_data(ldns_rr_rdf(rr, 0));
			snprintf(v, 600, "%u.%u.%u.%u", d[0], d[1], d[2], d[3]);
		} else {
			size_t n = 0;
			for (size_t k = 0; k < ldns_rr_rd_count(rr); k++) {
				ldns_rdf *s = ldns_rr_rdf(rr, k);
				uint8_t *d = ldns_rdf_data(s);
				memcpy(v + n, d + 1, d[0]);
				n += d[0];
			}
			v[n] = '\0';
		}
	}
	qsort(a->values, a->n, sizeof(a->values[0]), name_cmp);
	ldns_pkt_free(p);
}

static unsigned compared, documented, dev_partial, dev_placeholder, dev_dollar;

/* qname (lower case, with the apex, trailing dot) asked of both. partial: a name
 * shorter or longer than an address (README deviation 2 under a wildcard). */
static void compare(const char *qname, bool partial)
{
	for (int t = 0; t < 2; t++) {
		uint16_t type = t ? DNS_T_TXT : DNS_T_A;
		struct answer want, got;
		dnsbld_answer(qname, type, &want);
		resolve(qname, type, &got);
		compared++;
		/* deviation 2: partial and over-long names (no mail server asks them) may get
		 * a wildcard's records, or NXDOMAIN where dnsbld's empty non-terminal counts an
		 * entry that overlaps the prefix though exclusions leave nothing listed;
		 * and so may a literal "*" label, the wildcard's own name */
		if ((partial || strncmp(qname, "*.", 2) == 0 || strstr(qname, ".*.") != NULL) &&
		    (got.wildcard || strncmp(qname, "*.", 2) == 0 ||
		     (want.rcode == 0 && want.n == 0 && got.rcode == LDNS_RCODE_NXDOMAIN))) {
			documented++;
			dev_partial++;
			continue;
		}
		if (got.placeholder && want.rcode == LDNS_RCODE_NXDOMAIN && got.rcode == 0 &&
		    got.n == 0) {
			documented++; /* deviation 3: NODATA where dnsbld says NXDOMAIN */
			dev_placeholder++;
			continue;
		}
		bool same = want.rcode == got.rcode && want.n == got.n;
		for (unsigned i = 0; same && i < want.n; i++)
			same = strcmp(want.values[i], got.values[i]) == 0;
		if (!same && got.wildcard && type == DNS_T_TXT && want.rcode == got.rcode &&
		    want.n == got.n) {
			documented++; /* deviation 1: "$" in a wildcard's TXT is the entry */
			dev_dollar++;
			continue;
		}
		if (!same)
			fail_msg("%s %s: dnsbld rcode %d, %u values (%s), the records give rcode "
				 "%d, %u values (%s)%s",
				 qname, t ? "TXT" : "A", want.rcode, want.n,
				 want.n ? want.values[0] : "-", got.rcode, got.n,
				 got.n ? got.values[0] : "-", got.wildcard ? " by a wildcard" : "");
	}
}

/* --- IP names --- */

static void ip_qname(const uint8_t *addr, bool v6, unsigned labels, const char *zone,
		     char *out, size_t size)
{
	size_t n = 0;

	/* the most specific label first: label j (0-based from the left) is digit
	 * total-1-j; a partial name of `labels` labels starts at digit labels-1 */
	for (int j = (int)labels - 1; j >= 0; j--) {
		unsigned d = v6 ? (unsigned)((addr[j / 2] >> (j % 2 ? 0 : 4)) & 0xf) : addr[j];
		n += (size_t)snprintf(out + n, size - n, v6 ? "%x." : "%u.", d);
	}
	snprintf(out + n, size - n, "%s.", zone);
}

static void ask_addr(const uint8_t *addr, bool v6, const char *zone)
{
	char q[400];
	unsigned total = v6 ? 32 : 4;
	ip_qname(addr, v6, total, zone, q, sizeof(q));
	compare(q, false);
}

/* The addresses around prefix p: its first and last, the ones just outside, one
 * inside, and its partial names. */
static void ask_around(const struct entry_key *p, const char *zone)
{
	bool v6 = p->family == ADDR_FAMILY_V6;
	unsigned bytes = v6 ? 16 : 4, bits = v6 ? 128 : 32;
	uint8_t first[16], last[16], x[16];

	memcpy(first, p->addr, bytes);
	memcpy(last, p->addr, bytes);
	for (unsigned b = p->len; b < bits; b++)
		last[b / 8] |= (uint8_t)(0x80 >> (b % 8));
	ask_addr(first, v6, zone);
	ask_addr(last, v6, zone);
	memcpy(x, first, bytes);
	for (int i = (int)bytes - 1; i >= 0 && x[i]-- == 0; i--)
		;
	ask_addr(x, v6, zone);
	memcpy(x, last, bytes);
	for (int i = (int)bytes - 1; i >= 0 && ++x[i] == 0; i--)
		;
	ask_addr(x, v6, zone);
	memcpy(x, first, bytes);
	x[bytes - 1] ^= 0x5a;
	x[bytes / 2] ^= (uint8_t)(p->len < bits / 2 ? 0x11 : 0);
	ask_addr(x, v6, zone);
	char q[400];
	unsigned total = v6 ? 32 : 4;
	for (unsigned l = 1; l < total; l += v6 ? 7 : 1) {
		ip_qname(first, v6, l, zone, q, sizeof(q));
		compare(q, true);
	}
	snprintf(q, sizeof(q), "1.");
	ip_qname(first, v6, total, zone, q + 2, sizeof(q) - 2);
	compare(q, true); /* over-long */
}

/* Every entry of zone (and its members and exemption list) asked around, in zone ask. */
static int ask_entries_cb(const struct entry_key *k, const struct store_entry *e, void *arg)
{
	(void)e;
	ask_around(k, arg);
	return 0;
}

static void ask_zone_entries(const char *source, const char *ask_zone)
{
	struct store_reader *r;
	struct store_zone z;
	assert_int_equal(store_reader_new(S, &r), 0);
	assert_int_equal(store_reader_begin(r), 0);
	if (store_zone_get(r, source, &z) == 0)
		assert_int_equal(store_foreach(r, &z, ask_entries_cb, (void *)ask_zone), 0);
	store_reader_end(r);
	store_reader_free(r);
}

static void ask_test_points(const char *zone)
{
	static const uint8_t t1[4] = { 127, 0, 0, 1 }, t2[4] = { 127, 0, 0, 2 };
	uint8_t m[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 2 };
	ask_addr(t1, false, zone);
	ask_addr(t2, false, zone);
	ask_addr(m, true, zone);
	m[15] = 1;
	ask_addr(m, true, zone);
	m[15] = 9;
	ask_addr(m, true, zone);
}

static void check_ip_zone(const char *zone, const char *const *sources)
{
	map_zone(zone);
	for (; *sources != NULL; sources++)
		ask_zone_entries(*sources, zone);
	ask_test_points(zone);
}

/* --- name zones --- */

static int ask_names_cb(const struct entry_key *k, const struct store_entry *e, void *arg)
{
	(void)e;
	char text[300], q[400];
	size_t n = dname_format(k, 0, text, sizeof(text));
	assert_true(n > 0);
	const char *zone = arg;
	static const char *const pre[] = { "", "x.", "a.b.", "ok.", "*." };
	for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		snprintf(q, sizeof(q), "%s%s.%s.", pre[i], text, zone);
		for (char *c = q; *c; c++)
			*c = (char)tolower(*c);
		compare(q, false);
	}
	const char *dot = strchr(text, '.');
	if (dot != NULL) {
		snprintf(q, sizeof(q), "%s.%s.", dot + 1, zone);
		for (char *c = q; *c; c++)
			*c = (char)tolower(*c);
		compare(q, false);
	}
	return 0;
}

static void check_name_zone(const char *zone, const char *const *sources)
{
	map_zone(zone);
	for (; *sources != NULL; sources++) {
		struct store_reader *r;
		struct store_zone z;
		assert_int_equal(store_reader_new(S, &r), 0);
		assert_int_equal(store_reader_begin(r), 0);
		if (store_zone_get(r, *sources, &z) == 0)
			assert_int_equal(store_foreach(r, &z, ask_names_cb, (void *)zone), 0);
		store_reader_end(r);
		store_reader_free(r);
	}
	char q[300];
	snprintf(q, sizeof(q), "test.%s.", zone);
	compare(q, false);
	snprintf(q, sizeof(q), "invalid.%s.", zone);
	compare(q, false);
}

static void test_fixed_zones(void **state)
{
	(void)state;
	static const char *const ip6[] = { "ip6.example", NULL };
	static const char *const comb[] = { "c1.example", "c2.example", NULL };
	static const char *const blx[] = { "blx.example", "allow.example", NULL };
	static const char *const dbl[] = { "dbl.example", "dwl.example", NULL };
	static const char *const combn[] = { "dbl.example", "dbl2.example", "dwl.example", NULL };
	compared = documented = dev_partial = dev_placeholder = dev_dollar = 0;
	check_ip_zone("ip6.example", ip6);
	check_ip_zone("comb.example", comb);
	check_ip_zone("blx.example", blx);
	check_ip_zone("allow.example", blx + 1);
	check_name_zone("dbl.example", dbl);
	check_name_zone("combn.example", combn);
	print_message("fixed zones: %u answers compared, %u documented deviations (partial "
		      "names %u, placeholder %u, \"$\" %u)\n",
		      compared, documented, dev_partial, dev_placeholder, dev_dollar);
	assert_true(compared > 500);
}

/* --- random zones --- */

static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* Random prefixes crowded into a few regions, so that they nest: every length from
 * /8 (IPv4) or /32 (IPv6) down, a quarter exclusions, some with their own A/TXT. */
static void put_random(struct store_writer *w, const char *zone, bool v6, unsigned count,
		       unsigned excl_pct)
{
	struct store_zone *z;
	assert_int_equal(store_writer_zone(w, zone, &z), 0);
	for (unsigned i = 0; i < count; i++) {
		char key[80];
		uint8_t a[16] = { 0 };
		unsigned len;
		if (v6) {
			a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
			a[4] = (uint8_t)(rnd() % 3);
			a[5] = (uint8_t)(rnd() % 4 ? 0 : rnd());
			for (unsigned b = 6; b < 16; b++)
				a[b] = (uint8_t)(rnd() % 3 ? rnd() % 4 : rnd());
			unsigned lens[] = { 40, 44, 45, 48, 52, 56, 62, 64, 72, 96, 120, 127, 128 };
			len = lens[rnd() % (sizeof(lens) / sizeof(lens[0]))];
		} else {
			a[0] = rnd() % 2 ? 10 : 192;
			a[1] = (uint8_t)(rnd() % 3);
			a[2] = (uint8_t)(rnd() % 3 ? rnd() % 4 : rnd());
			a[3] = (uint8_t)rnd();
			len = 8 + rnd() % 25;
			if (rnd() % 3 == 0)
				len = 32;
		}
		struct entry_key k = { .family = v6 ? ADDR_FAMILY_V6 : ADDR_FAMILY_V4,
				       .len = (uint8_t)len };
		memcpy(k.addr, a, 16);
		for (unsigned b = len; b < (v6 ? 128u : 32u); b++)
			k.addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
		entry_key_format(&k, 0, key, sizeof(key));
		uint8_t flags = rnd() % 100 < excl_pct ? STORE_F_EXCLUDE : 0;
		struct ent e = { .key = key, .flags = flags };
		if (!flags && rnd() % 5 == 0) {
			e.flags = STORE_F_A;
			e.a = A4(127, 0, 0, 3 + rnd() % 4);
		}
		if (!flags && rnd() % 7 == 0) {
			e.flags |= STORE_F_TXT;
			e.txt = rnd() % 2 ? "own text" : "own $ text";
		}
		uint8_t buf[DNAME_KEY_MAX];
		struct entry_key pk;
		assert_int_equal(entry_key_parse(0, key, strlen(key), buf, &pk), 0);
		struct store_put put = { .flags = e.flags, .a = e.a, .seen = now0, .hits = 1,
					 .txt = e.txt, .txt_len = e.txt ? strlen(e.txt) : 0 };
		int outcome;
		assert_int_equal(store_merge(w, z, &pk, &put, &outcome), 0);
	}
}

static int random_setup(void **state)
{
	(void)state;
	FILE *f = fixture_config_begin("zonemap");
	if (f == NULL)
		return -1;
	static const struct {
		const char *name, *extra;
	} zones[] = {
		{ "r4.test", "type = ip\nexempt = rw.test\ntxt = r4 listed\n" },
		{ "rw.test", "type = ip\npolicy = allow\na = 127.0.15.3\ntxt = welcome\n" },
		{ "r4b.test", "type = ip\na = 127.0.0.4\ntxt = b says $\n" },
		{ "rc.test", "type = combined\nmembers = r4.test r4b.test\n" },
		{ "r6.test", "type = ip\ntxt = r6 listed\n" },
		/* two members exempted by one list: its serial counts twice in rc2's */
		{ "r4c.test", "type = ip\nexempt = rw.test\n" },
		{ "rc2.test", "type = combined\nmembers = r4.test r4c.test\n" },
	};
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		fprintf(f,
			"[zone %s]\n%s"
			"soa = ns1.%s. hostmaster.%s. 3600 600 86400 120\n"
			"ns = ns1.%s.\n",
			zones[i].name, zones[i].extra, zones[i].name, zones[i].name, zones[i].name);
	fclose(f);
	if (fixture_store_open() != 0)
		return -1;
	struct store_writer *w;
	if (store_writer_begin(S, &w) != 0)
		return -1;
	put_random(w, "r4.test", false, 400, 25);
	put_random(w, "r4.test", true, 100, 25);
	put_random(w, "rw.test", false, 60, 10);
	put_random(w, "r4b.test", false, 200, 20);
	put_random(w, "r6.test", true, 400, 25);
	put_random(w, "r4c.test", false, 150, 20);
	if (store_writer_commit(w) != 0)
		return -1;
	return fixture_answer_ready();
}

static void test_random_zones(void **state)
{
	(void)state;
	static const char *const r4[] = { "r4.test", "rw.test", NULL };
	static const char *const rc[] = { "r4.test", "r4b.test", "rw.test", NULL };
	static const char *const r6[] = { "r6.test", NULL };
	compared = documented = dev_partial = dev_placeholder = dev_dollar = 0;
	check_ip_zone("r4.test", r4);
	check_ip_zone("rc.test", rc);
	check_ip_zone("r6.test", r6);
	print_message("random zones: %u answers compared, %u documented deviations (partial "
		      "names %u, placeholder %u, \"$\" %u)\n",
		      compared, documented, dev_partial, dev_placeholder, dev_dollar);
	assert_true(compared > 10000);
}

/* "$" in the TXT of a wildcard is the entry as written (README deviation 1). */
static void test_dollar_in_wildcards(void **state)
{
	(void)state;
	map_zone("ip6.example");
	struct answer a;
	uint8_t in48[16], host[16];
	char q[400];
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:abcd::1", in48), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::5", host), 1);
	ip_qname(in48, true, 32, "ip6.example", q, sizeof(q));
	resolve(q, DNS_T_TXT, &a);
	assert_true(a.wildcard);
	assert_int_equal(a.n, 1);
	assert_string_equal(a.values[0], "v6 2001:db8:abcd::/48");
	ip_qname(host, true, 32, "ip6.example", q, sizeof(q));
	resolve(q, DNS_T_TXT, &a);
	assert_false(a.wildcard);
	assert_int_equal(a.n, 1);
	assert_string_equal(a.values[0], "v6 2001:db8::5");
}

/* --- older views (IXFR) --- */

struct recset {
	char (*line)[1000];
	size_t n;
};

static int line_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static int collect_line(void *arg, const struct zonemap_rr *r)
{
	struct recset *rs = arg;
	if (r == NULL) {
		snprintf(rs->line[rs->n++], 1000, "--");
		return 0;
	}
	size_t before = nrrs;
	collect_rr(NULL, r);
	struct rr *x = &rrs[before];
	snprintf(rs->line[rs->n++], 1000, "%s %u %s", x->owner, x->type, x->value);
	nrrs = before;
	return 0;
}

static void view_records(struct store_reader *r, const char *zone,
			 const struct zonemap_overlay *ov, struct recset *rs)
{
	static char apex[300];
	snprintf(apex, sizeof(apex), "%s.", zone);
	apex_now = apex;
	nrrs = 0;
	rs->n = 0;
	assert_int_equal(zonemap_run_view(r, &cfg, config_zone(&cfg, zone), ov, now0, collect_line,
					  rs, NULL), 0);
	qsort(rs->line, rs->n, sizeof(rs->line[0]), line_cmp);
}

static bool recset_equal(const struct recset *a, const struct recset *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->line[i], b->line[i]) != 0)
			return false;
	return true;
}

#define MAX_CHANGES 400

struct zone_changes {
	const char *zone;
	struct store_zone rec;
	struct entry_key keys[MAX_CHANGES];
	size_t n;
	struct zonemap_change ch[MAX_CHANGES];
};

static int pick_cb(const struct entry_key *k, const struct store_entry *e, void *arg)
{
	(void)e;
	struct zone_changes *zc = arg;
	if (zc->n < MAX_CHANGES / 2 && rnd() % 4 == 0)
		zc->keys[zc->n++] = *k;
	return 0;
}

/* Changes a quarter of some zones' entries (deleted, given another A, turned into
 * exclusions) and adds new ones in one commit; then the view with the changes undone
 * must give the records from before, and zonemap_diff applied to them the records
 * after. */
static void test_older_view_and_diff(void **state)
{
	(void)state;
	static struct zone_changes zch[4] = {
		{ .zone = "r4.test" }, { .zone = "rw.test" }, { .zone = "r4b.test" },
		{ .zone = "r6.test" },
	};
	static const char *const checked[] = { "r4.test", "rc.test", "r6.test" };
	static struct recset before[3], after[3], view[3], diff;
	for (int i = 0; i < 3; i++) {
		before[i].line = calloc(MAX_RRS / 4, 1000);
		after[i].line = calloc(MAX_RRS / 4, 1000);
		view[i].line = calloc(MAX_RRS / 4, 1000);
	}
	diff.line = calloc(MAX_RRS / 4, 1000);

	struct store_reader *old;
	assert_int_equal(store_reader_new(S, &old), 0);
	assert_int_equal(store_reader_begin(old), 0);
	for (int i = 0; i < 3; i++)
		view_records(old, checked[i], NULL, &before[i]);
	for (int z = 0; z < 4; z++) {
		assert_int_equal(store_zone_get(old, zch[z].zone, &zch[z].rec), 0);
		assert_int_equal(store_foreach(old, &zch[z].rec, pick_cb, &zch[z]), 0);
	}

	struct store_writer *w;
	assert_int_equal(store_writer_begin(S, &w), 0);
	for (int z = 0; z < 4; z++) {
		struct zone_changes *c = &zch[z];
		struct store_zone *wz;
		assert_int_equal(store_writer_zone(w, c->zone, &wz), 0);
		size_t picked = c->n;
		for (size_t i = 0; i < picked; i++) {
			unsigned what = rnd() % 3;
			if (what == 0) {
				assert_int_equal(store_delete(w, wz, &c->keys[i]), 0);
				continue;
			}
			struct store_put put = { .flags = what == 1 ? STORE_F_A : STORE_F_EXCLUDE,
						 .a = A4(127, 0, 0, 9), .seen = now0, .hits = 1,
						 .actor = STORE_ACTOR_OPERATOR };
			assert_int_equal(store_merge(w, wz, &c->keys[i], &put, NULL), 0);
		}
		/* and new entries: random prefixes in the same regions */
		for (unsigned i = 0; i < 30 && c->n < MAX_CHANGES; i++) {
			struct entry_key k = c->keys[rnd() % (picked ? picked : 1)];
			if (picked == 0)
				break;
			unsigned bits = k.family == ADDR_FAMILY_V6 ? 128 : 32;
			k.len = (uint8_t)(k.len + rnd() % (bits - k.len + 1));
			k.addr[rnd() % (bits / 8)] ^= (uint8_t)rnd();
			for (unsigned b = k.len; b < bits; b++)
				k.addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
			struct store_put put = { .flags = rnd() % 4 ? 0 : STORE_F_EXCLUDE,
						 .seen = now0, .hits = 1 };
			assert_int_equal(store_merge(w, wz, &k, &put, NULL), 0);
			c->keys[c->n++] = k;
		}
	}
	assert_int_equal(store_writer_commit(w), 0);

	/* the older view: each changed key's entry in the old snapshot */
	struct zonemap_overlay ov = { 0 };
	for (int z = 0; z < 4; z++) {
		struct zone_changes *c = &zch[z];
		for (size_t i = 0; i < c->n; i++) {
			c->ch[i].key = c->keys[i];
			c->ch[i].existed =
				store_entry_get(old, &c->rec, &c->keys[i], &c->ch[i].old) == 0;
		}
		size_t n = zonemap_changes_sort(c->ch, c->n);
		ov.src[ov.nsources++] = (struct zonemap_source_changes){ c->rec.id, n, c->ch };
	}

	struct store_reader *now;
	assert_int_equal(store_reader_new(S, &now), 0);
	assert_int_equal(store_reader_begin(now), 0);
	unsigned changed = 0;
	for (int i = 0; i < 3; i++) {
		view_records(now, checked[i], NULL, &after[i]);
		view_records(now, checked[i], &ov, &view[i]);
		assert_true(recset_equal(&view[i], &before[i]));
		changed += !recset_equal(&after[i], &before[i]);

		/* the diff, applied to the records from before, gives those after: with
		 * the first walks' records kept, and (r6) walking again */
		zm_diff_set_buffer_limit(i == 2 ? 0 : (size_t)64 << 20);
		diff.n = 0;
		nrrs = 0;
		struct zonemap_diff_stats st;
		assert_int_equal(zonemap_diff(now, &cfg, config_zone(&cfg, checked[i]), &ov, now0,
					      now0, 1000000, collect_line, &diff, &st), 0);
		/* only the records of frames the changes reach are read */
		assert_true(st.old_records <= before[i].n && st.new_records <= after[i].n);
		assert_true(st.old_records >= st.deleted && st.new_records >= st.added);
		assert_int_equal(st.deleted + st.added + 1, diff.n);
		size_t sep = st.deleted;
		assert_string_equal(diff.line[sep], "--");
		static struct recset applied;
		if (applied.line == NULL)
			applied.line = calloc(MAX_RRS / 4, 1000);
		applied.n = 0;
		for (size_t k = 0; k < before[i].n; k++) {
			bool deleted = false;
			for (size_t d = 0; d < sep && !deleted; d++)
				deleted = strcmp(before[i].line[k], diff.line[d]) == 0;
			if (!deleted)
				memcpy(applied.line[applied.n++], before[i].line[k], 1000);
		}
		for (size_t a = sep + 1; a < diff.n; a++)
			memcpy(applied.line[applied.n++], diff.line[a], 1000);
		qsort(applied.line, applied.n, sizeof(applied.line[0]), line_cmp);
		assert_true(recset_equal(&applied, &after[i]));
		print_message("%s: %zu records before, %zu after: %llu deleted, %llu added (%llu "
			      "and %llu records of the frames reached)\n",
			      checked[i], before[i].n, after[i].n, (unsigned long long)st.deleted,
			      (unsigned long long)st.added, (unsigned long long)st.old_records,
			      (unsigned long long)st.new_records);
		/* over the limit: nothing emitted, the caller sends the zone */
		diff.n = 0;
		assert_int_equal(zonemap_diff(now, &cfg, config_zone(&cfg, checked[i]), &ov, now0,
					      now0, st.old_records / 2, collect_line, &diff, NULL),
				 DNSBL_ERANGE);
		assert_int_equal(diff.n, 0);
	}
	assert_int_equal(changed, 3);
	zm_diff_set_buffer_limit((size_t)64 << 20);
	store_reader_end(now);
	store_reader_free(now);
	store_reader_end(old);
	store_reader_free(old);
	for (int i = 0; i < 3; i++) {
		free(before[i].line);
		free(after[i].line);
		free(view[i].line);
	}
	free(diff.line);
}

/* --- older views from the journal --- */

#define JV_ZONES 4
#define JV_STATES 12

static const char *const jv_checked[JV_ZONES] = { "r4.test", "rc.test", "rc2.test", "r6.test" };

struct digest {
	uint64_t sum, count;
};

static int digest_rr(void *arg, const struct zonemap_rr *r)
{
	struct digest *d = arg;
	size_t before = nrrs;
	collect_rr(NULL, r);
	struct rr *x = &rrs[before];
	uint64_t h = 1469598103934665603ull;
	char line[1000];
	snprintf(line, sizeof(line), "%s %u %s", x->owner, x->type, x->value);
	for (const char *c = line; *c; c++)
		h = (h ^ (uint8_t)*c) * 1099511628211ull;
	d->sum += h * 0x9e3779b97f4a7c15ull; /* a sum: the order of the walk does not matter */
	d->count++;
	nrrs = before;
	return 0;
}

static struct digest digest_of(struct store_reader *r, const char *zone,
			       const struct zonemap_overlay *ov, uint32_t when)
{
	static char apex[300];
	struct digest d = { 0, 0 };
	snprintf(apex, sizeof(apex), "%s.", zone);
	apex_now = apex;
	nrrs = 0;
	assert_int_equal(zonemap_run_view(r, &cfg, config_zone(&cfg, zone), ov, when, digest_rr,
					  &d, NULL), 0);
	return d;
}

struct diff_digest {
	struct digest del, add;
	bool sep;
};

static int diff_digest_rr(void *arg, const struct zonemap_rr *r)
{
	struct diff_digest *d = arg;
	if (r == NULL) {
		assert_false(d->sep);
		d->sep = true;
		return 0;
	}
	return digest_rr(d->sep ? &d->add : &d->del, r);
}

/* zonemap_diff of zone from view ov (at old_now) to the snapshot (at new_now) must
 * turn the digest of the records before into the digest of those after. */
static void check_diff(struct store_reader *r, const char *zone, const struct zonemap_overlay *ov,
		       uint32_t old_now, uint32_t new_now, struct digest before, struct digest after,
		       struct zonemap_diff_stats *st)
{
	struct diff_digest d = { { 0, 0 }, { 0, 0 }, false };
	static char apex[300];
	snprintf(apex, sizeof(apex), "%s.", zone);
	apex_now = apex;
	nrrs = 0;
	assert_int_equal(zonemap_diff(r, &cfg, config_zone(&cfg, zone), ov, old_now, new_now,
				      1000000, diff_digest_rr, &d, st), 0);
	assert_true(d.sep);
	assert_int_equal(before.count - d.del.count + d.add.count, after.count);
	assert_true(before.sum - d.del.sum + d.add.sum == after.sum);
}

struct jv_state {
	uint32_t serial[JV_ZONES];
	uint32_t when[JV_ZONES];
	struct digest d[JV_ZONES];
};

static void jv_record(struct jv_state *st)
{
	struct store_reader *r;
	assert_int_equal(store_reader_new(S, &r), 0);
	assert_int_equal(store_reader_begin(r), 0);
	for (int i = 0; i < JV_ZONES; i++) {
		const struct zone_config *zc = config_zone(&cfg, jv_checked[i]);
		st->serial[i] = zonemap_serial(r, &cfg, zc);
		st->when[i] = zonemap_commit_time(r, &cfg, zc);
		assert_true(st->when[i] >= now0 && st->when[i] <= (uint32_t)time(NULL));
		st->d[i] = digest_of(r, jv_checked[i], NULL, st->when[i]);
	}
	store_reader_end(r);
	store_reader_free(r);
}

static int jv_pick(const struct entry_key *k, const struct store_entry *e, void *arg)
{
	(void)e;
	struct zone_changes *zc = arg;
	if (zc->n < 40 && rnd() % 8 == 0)
		zc->keys[zc->n++] = *k;
	return 0;
}

/* One commit changing a few entries (deleted, given another A, turned into
 * exclusions, new ones) of each zone whose bit is set in mask. */
static void jv_commit(unsigned mask, unsigned extra_new)
{
	static const char *const sources[] = { "r4.test", "rw.test", "r4b.test", "r6.test",
					       "r4c.test" };
	static struct zone_changes c;
	struct store_reader *r;
	struct store_writer *w;
	assert_int_equal(store_reader_new(S, &r), 0);
	assert_int_equal(store_reader_begin(r), 0);
	assert_int_equal(store_writer_begin(S, &w), 0);
	for (unsigned z = 0; z < 5; z++) {
		if (!(mask & (1u << z)))
			continue;
		struct store_zone rec, *wz;
		memset(&c, 0, sizeof(c));
		assert_int_equal(store_zone_get(r, sources[z], &rec), 0);
		assert_int_equal(store_foreach(r, &rec, jv_pick, &c), 0);
		assert_true(c.n > 0);
		assert_int_equal(store_writer_zone(w, sources[z], &wz), 0);
		for (size_t i = 0; i < c.n; i++) {
			unsigned what = rnd() % 3;
			if (what == 0) {
				assert_int_equal(store_delete(w, wz, &c.keys[i]), 0);
				continue;
			}
			struct store_put put = { .flags = what == 1 ? STORE_F_A : STORE_F_EXCLUDE,
						 .a = A4(127, 0, 0, 5 + rnd() % 4), .seen = now0,
						 .hits = 1, .actor = STORE_ACTOR_OPERATOR };
			assert_int_equal(store_merge(w, wz, &c.keys[i], &put, NULL), 0);
		}
		for (unsigned i = 0; i < 5 + extra_new; i++) {
			struct entry_key k = c.keys[rnd() % c.n];
			unsigned bits = k.family == ADDR_FAMILY_V6 ? 128 : 32;
			k.len = (uint8_t)(k.len + rnd() % (bits - k.len + 1));
			k.addr[rnd() % (bits / 8)] ^= (uint8_t)rnd();
			for (unsigned b = k.len; b < bits; b++)
				k.addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
			struct store_put put = { .flags = rnd() % 4 ? 0 : STORE_F_EXCLUDE,
						 .seen = now0, .hits = 1 };
			assert_int_equal(store_merge(w, wz, &k, &put, NULL), 0);
		}
	}
	assert_int_equal(store_writer_commit(w), 0);
	store_reader_end(r);
	store_reader_free(r);
}

/* Checks that every recorded state reachable in the journal is rebuilt exactly by
 * zonemap_view_at (decided at the time it gives), and that the others are not. */
static uint64_t diff_read, full_read;

static unsigned jv_check(const struct jv_state *states, unsigned nstates, unsigned first_ok)
{
	struct store_reader *r;
	unsigned rebuilt = 0;
	assert_int_equal(store_reader_new(S, &r), 0);
	assert_int_equal(store_reader_begin(r), 0);
	for (unsigned s = 0; s < nstates; s++)
		for (int i = 0; i < JV_ZONES; i++) {
			const struct zone_config *zc = config_zone(&cfg, jv_checked[i]);
			const struct jv_state *st = &states[s];
			struct zonemap_view v;
			int rc = zonemap_view_at(r, &cfg, zc, st->serial[i], 1000000, &v);
			if (s < first_ok) {
				/* a later state with this serial (the zone unchanged) may exist */
				bool later = false;
				for (unsigned t = first_ok; t < nstates; t++)
					later |= states[t].serial[i] == st->serial[i];
				if (!later)
					assert_int_equal(rc, DNSBL_ENOTFOUND);
				zonemap_view_free(&v);
				continue;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(v.old_time, st->when[i]);
			struct digest d = digest_of(r, jv_checked[i], &v.ov, v.old_time);
			assert_int_equal(d.count, st->d[i].count);
			assert_true(d.sum == st->d[i].sum);
			/* and the difference from it to now, IXFR's records */
			const struct jv_state *last = &states[nstates - 1];
			struct zonemap_diff_stats ds;
			check_diff(r, jv_checked[i], &v.ov, v.old_time, last->when[i], st->d[i],
				   last->d[i], &ds);
			diff_read += ds.old_records + ds.new_records;
			full_read += st->d[i].count + last->d[i].count;
			zonemap_view_free(&v);
			rebuilt++;
		}
	/* serials the zones never had */
	for (int i = 0; i < JV_ZONES; i++) {
		const struct zone_config *zc = config_zone(&cfg, jv_checked[i]);
		struct zonemap_view v;
		uint32_t cur = states[nstates - 1].serial[i];
		assert_int_equal(zonemap_view_at(r, &cfg, zc, cur + 7, 1000000, &v), DNSBL_ENOTFOUND);
		assert_int_equal(zonemap_view_at(r, &cfg, zc, 0, 1000000, &v), DNSBL_ENOTFOUND);
	}
	/* rc2 counts rw twice: one rw commit moves it by two, the serial between is none */
	const struct zone_config *rc2 = config_zone(&cfg, "rc2.test");
	struct zonemap_view v;
	for (unsigned s = first_ok + 1; s < nstates; s++)
		if (states[s].serial[2] - states[s - 1].serial[2] == 2)
			assert_int_equal(zonemap_view_at(r, &cfg, rc2, states[s - 1].serial[2] + 1,
							 1000000, &v), DNSBL_ENOTFOUND);
	/* more changes than allowed */
	assert_int_equal(zonemap_view_at(r, &cfg, config_zone(&cfg, "rc.test"),
					 states[first_ok].serial[1], 3, &v), DNSBL_ERANGE);
	store_reader_end(r);
	store_reader_free(r);
	return rebuilt;
}

/* Commits of every kind of change to one source or several at once (the exemption
 * list too), recording each zone's serial and records; then each older state is
 * rebuilt from the journal. A commit over the journal size leaves an overflow record
 * that no view crosses, and pruning drops what is older. */
static void test_views_from_journal(void **state)
{
	(void)state;
	static struct jv_state st[JV_STATES];
	/* r4=1 rw=2 r4b=4 r6=8 r4c=16 */
	static const unsigned masks[] = { 1, 2, 4 | 8, 16, 2 | 16, 1 | 2 | 4 | 8 | 16, 8, 2 };
	unsigned n = 0;
	jv_record(&st[n++]);
	for (size_t m = 0; m < sizeof(masks) / sizeof(masks[0]); m++) {
		jv_commit(masks[m], 0);
		jv_record(&st[n++]);
	}
	unsigned rebuilt = jv_check(st, n, 0);
	print_message("journal: %u views of %u states rebuilt; their differences to now wrote "
		      "%llu records of the %llu in both views\n", rebuilt, n,
		      (unsigned long long)diff_read, (unsigned long long)full_read);
	assert_int_equal(rebuilt, n * JV_ZONES);

	/* a commit of r6 over the journal size: r6's older views are gone, the others
	 * stay; after it, views from the overflow on work */
	store_set_journal_size(S, 20);
	jv_commit(8, 40);
	jv_record(&st[n++]);
	store_set_journal_size(S, STORE_JOURNAL_DEFAULT);
	jv_commit(8, 0);
	jv_record(&st[n++]);
	struct store_reader *r;
	assert_int_equal(store_reader_new(S, &r), 0);
	assert_int_equal(store_reader_begin(r), 0);
	struct zonemap_view v;
	const struct zone_config *r6 = config_zone(&cfg, "r6.test");
	assert_int_equal(zonemap_view_at(r, &cfg, r6, st[n - 3].serial[3], 1000000, &v),
			 DNSBL_ENOTFOUND);
	assert_int_equal(zonemap_view_at(r, &cfg, r6, st[n - 2].serial[3], 1000000, &v), 0);
	struct digest d = digest_of(r, "r6.test", &v.ov, v.old_time);
	assert_int_equal(d.count, st[n - 2].d[3].count);
	assert_true(d.sum == st[n - 2].d[3].sum);
	zonemap_view_free(&v);
	/* r4's views are untouched by r6's overflow */
	assert_int_equal(zonemap_view_at(r, &cfg, config_zone(&cfg, "r4.test"), st[0].serial[0],
					 1000000, &v), 0);
	zonemap_view_free(&v);
	store_reader_end(r);
	store_reader_free(r);
}

/* Entries that expire between two transfers' times change their records without a
 * commit that names them: the difference must still carry them. */
static void test_diff_of_expiry(void **state)
{
	(void)state;
	struct store_writer *w;
	struct store_zone *z;
	static const char *const keys[] = { "10.1.2.0/24", "10.1.3.7", "192.4.0.0/14",
					    "2001:db8:1::/48", "10.1.2.128/25" };
	assert_int_equal(store_writer_begin(S, &w), 0);
	assert_int_equal(store_writer_zone(w, "r4.test", &z), 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		uint8_t buf[DNAME_KEY_MAX];
		struct entry_key k;
		assert_int_equal(entry_key_parse(0, keys[i], strlen(keys[i]), buf, &k), 0);
		struct store_put put = { .flags = STORE_F_A, .a = A4(127, 0, 0, 44), .seen = now0,
					 .hits = 1, .expires = now0 + 1000 + (uint32_t)i,
					 .expires_set = true, .actor = STORE_ACTOR_OPERATOR };
		assert_int_equal(store_merge(w, z, &k, &put, NULL), 0);
	}
	assert_int_equal(store_writer_commit(w), 0);
	struct store_reader *r;
	assert_int_equal(store_reader_new(S, &r), 0);
	assert_int_equal(store_reader_begin(r), 0);
	static const char *const zones[] = { "r4.test", "rc.test", "rc2.test" };
	struct zonemap_overlay none = { 0 };
	for (int i = 0; i < 3; i++) {
		struct digest before = digest_of(r, zones[i], NULL, now0 + 10);
		struct digest after = digest_of(r, zones[i], NULL, now0 + 2000);
		struct digest between = digest_of(r, zones[i], NULL, now0 + 1002);
		assert_true(before.sum != after.sum);
		struct zonemap_diff_stats ds;
		check_diff(r, zones[i], &none, now0 + 10, now0 + 2000, before, after, &ds);
		assert_true(ds.deleted > 0 && ds.old_records < before.count);
		check_diff(r, zones[i], NULL, now0 + 1002, now0 + 2000, between, after, &ds);
		check_diff(r, zones[i], NULL, now0 + 10, now0 + 1002, before, between, &ds);
		check_diff(r, zones[i], NULL, now0 + 10, now0 + 10, before, before, &ds);
		assert_int_equal(ds.deleted + ds.added, 0);
	}
	store_reader_end(r);
	store_reader_free(r);
}

static int count_rr(void *arg, const struct zonemap_rr *rr)
{
	(void)arg;
	(void)rr;
	return 0;
}

/* One small change in a zone of many frames: the difference must be exact and read
 * only the frames around the change (the walks skip a frame once it is known to
 * exist, which is all a frame the change cannot reach tells its parent). */
static void test_diff_of_one_change(void **state)
{
	(void)state;
	static const char *const sources[] = { "r4.test", "rw.test", "r4b.test", "r6.test" };
	static struct jv_state before, after;
	uint64_t entries = 0, skipped = 0, full = 0;
	for (unsigned round = 0; round < 48; round++) {
		unsigned src = round % 4;
		jv_record(&before);
		struct store_reader *r;
		struct store_writer *w;
		struct store_zone *wz;
		assert_int_equal(store_writer_begin(S, &w), 0);
		assert_int_equal(store_writer_zone(w, sources[src], &wz), 0);
		bool v6 = src == 3;
		unsigned bits = v6 ? 128 : 32;
		struct entry_key k = { .family = v6 ? ADDR_FAMILY_V6 : ADDR_FAMILY_V4 };
		if (v6) {
			k.addr[0] = 0x20, k.addr[1] = 0x01, k.addr[2] = 0x0d, k.addr[3] = 0xb8;
			k.addr[4] = (uint8_t)(rnd() % 3);
			for (unsigned b = 6; b < 16; b++)
				k.addr[b] = (uint8_t)(rnd() % 3 ? rnd() % 4 : rnd());
		} else {
			k.addr[0] = rnd() % 2 ? 10 : 192;
			k.addr[1] = (uint8_t)(rnd() % 3);
			k.addr[2] = (uint8_t)(rnd() % 3 ? rnd() % 4 : rnd());
			k.addr[3] = (uint8_t)rnd();
		}
		/* mostly one address; a prefix now and then, on a label boundary or not */
		k.len = (uint8_t)(rnd() % 4 ? bits : bits - 1 - rnd() % (bits / 2));
		for (unsigned b = k.len; b < bits; b++)
			k.addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
		unsigned what = rnd() % 3;
		if (what == 0) { /* delete one that is there */
			static struct zone_changes c;
			struct store_zone rec;
			memset(&c, 0, sizeof(c));
			assert_int_equal(store_reader_new(S, &r), 0);
			assert_int_equal(store_reader_begin(r), 0);
			assert_int_equal(store_zone_get(r, sources[src], &rec), 0);
			while (c.n == 0)
				assert_int_equal(store_foreach(r, &rec, jv_pick, &c), 0);
			store_reader_end(r);
			store_reader_free(r);
			k = c.keys[rnd() % c.n];
		}
		struct store_put put = { .flags = what == 2 ? STORE_F_EXCLUDE : STORE_F_A,
					 .a = A4(127, 0, 0, 5 + rnd() % 4), .seen = now0,
					 .hits = 1, .actor = STORE_ACTOR_OPERATOR };
		assert_int_equal(what == 0 ? store_delete(w, wz, &k)
					   : store_merge(w, wz, &k, &put, NULL), 0);
		assert_int_equal(store_writer_commit(w), 0);
		jv_record(&after);
		assert_int_equal(store_reader_new(S, &r), 0);
		assert_int_equal(store_reader_begin(r), 0);
		for (int i = 0; i < JV_ZONES; i++) {
			if (before.serial[i] == after.serial[i])
				continue;
			const struct zone_config *zc = config_zone(&cfg, jv_checked[i]);
			struct zonemap_view v;
			struct zonemap_diff_stats ds;
			struct zonemap_stats fs = { 0 };
			assert_int_equal(zonemap_view_at(r, &cfg, zc, before.serial[i], 1000000, &v), 0);
			check_diff(r, jv_checked[i], &v.ov, v.old_time, after.when[i], before.d[i],
				   after.d[i], &ds);
			zonemap_view_free(&v);
			assert_int_equal(zonemap_run(r, &cfg, zc, after.when[i], count_rr, NULL, &fs), 0);
			entries += ds.entries;
			skipped += ds.skipped;
			full += 2 * fs.entries;
		}
		store_reader_end(r);
		store_reader_free(r);
	}
	print_message("one change at a time: the differences read %llu entries of the %llu "
		      "in both views, skipping %llu frames\n", (unsigned long long)entries,
		      (unsigned long long)full, (unsigned long long)skipped);
	assert_true(skipped > 0);
	assert_true(entries * 2 < full);
}

/* Name zones have no older view (the name walk asks lib/listing, which reads the
 * snapshot): the caller sends the whole zone. */
static void test_no_older_view_for_names(void **state)
{
	(void)state;
	struct zonemap_overlay ov = { 0 };
	struct store_reader *r;
	assert_int_equal(store_reader_new(S, &r), 0);
	assert_int_equal(store_reader_begin(r), 0);
	assert_int_equal(zonemap_run_view(r, &cfg, config_zone(&cfg, "dbl.example"), &ov, now0,
					  collect_rr, NULL, NULL), DNSBL_EINVAL);
	assert_int_equal(zonemap_diff(r, &cfg, config_zone(&cfg, "dbl.example"), &ov, now0, now0,
				      1000, collect_rr, NULL, NULL), DNSBL_EINVAL);
	store_reader_end(r);
	store_reader_free(r);
}

int main(void)
{
	rrs = calloc(MAX_RRS, sizeof(*rrs));
	names = calloc(4 * MAX_RRS, sizeof(*names));
	assert_non_null(rrs);
	assert_non_null(names);
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_fixed_zones),
		cmocka_unit_test(test_dollar_in_wildcards),
		cmocka_unit_test(test_no_older_view_for_names),
	};
	const struct CMUnitTest random[] = {
		cmocka_unit_test(test_random_zones),
		cmocka_unit_test(test_older_view_and_diff),
		cmocka_unit_test(test_views_from_journal),
		cmocka_unit_test(test_diff_of_expiry),
		cmocka_unit_test(test_diff_of_one_change),
	};
	int failed = cmocka_run_group_tests_name("zonemap fixed", fixed, group_setup, group_teardown);
	failed += cmocka_run_group_tests_name("zonemap random", random, random_setup,
					      group_teardown);
	free(rrs);
	free(names);
	return failed;
}
