/* The environment: opening (and creating) the store, the schema check and its
 * upgrade, closing, the data file's size and prefaulting its pages. */
#include "store_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "err.h"
#include "log.h"

int map_mdb_error(int rc, const char *what)
{
	if (rc == 0)
		return 0;
	if (rc == MDB_NOTFOUND)
		return DNSBL_ENOTFOUND;
	if (rc == MDB_MAP_FULL) {
		log_err("store: %s: map full (%s)", what, mdb_strerror(rc));
		return DNSBL_EFULL;
	}
	log_err("store: %s: %s", what, mdb_strerror(rc));
	return DNSBL_ESTORE;
}

static int mkdir_p(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] == '/' || buf[i] == '\0') {
			char c = buf[i];
			buf[i] = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -1;
			buf[i] = c;
		}
	}
	return 0;
}

static int env_open(struct store *s, const char *path, bool rdonly)
{
	int rc;
	unsigned flags = MDB_NOTLS | MDB_NORDAHEAD | (rdonly ? MDB_RDONLY : 0);

	if ((rc = mdb_env_create(&s->env)) != 0)
		return map_mdb_error(rc, "mdb_env_create");
	mdb_env_set_maxdbs(s->env, 12);
	mdb_env_set_maxreaders(s->env, STORE_MAX_READERS);
	mdb_env_set_mapsize(s->env, STORE_MAP_SIZE);
	if ((rc = mdb_env_open(s->env, path, flags, 0644)) != 0) {
		log_err("store: cannot open %s: %s", path, mdb_strerror(rc));
		mdb_env_close(s->env);
		s->env = NULL;
		return rc == ENOENT ? DNSBL_ENOTFOUND : DNSBL_ESTORE;
	}
	s->rdonly = rdonly;
	if (!rdonly) {
		/* free reader slots left by processes that died without closing */
		int dead = 0;
		mdb_reader_check(s->env, &dead);
	}
	return 0;
}

/* Opens (and with create, makes) the named databases and checks the schema. */
static int schema_open(struct store *s, bool create)
{
	MDB_txn *txn;
	MDB_val k = { 6, "schema" }, v;
	uint32_t version = STORE_SCHEMA_VERSION;
	unsigned dbflags = create ? MDB_CREATE : 0;
	int rc;

	rc = mdb_txn_begin(s->env, NULL, create ? 0 : MDB_RDONLY, &txn);
	if (rc != 0)
		return map_mdb_error(rc, "begin");
	if ((rc = mdb_dbi_open(txn, "meta", dbflags, &s->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "entries", dbflags, &s->entries)) != 0 ||
	    (rc = mdb_dbi_open(txn, "tombs", dbflags, &s->tombs)) != 0 ||
	    (rc = mdb_dbi_open(txn, "history", dbflags, &s->history)) != 0 ||
	    (rc = mdb_dbi_open(txn, "histkey", dbflags, &s->histkey)) != 0) {
		mdb_txn_abort(txn);
		if (rc == MDB_NOTFOUND) {
			if (!s->probing)
				log_err("store: not initialised (run dnsbl-loader or dnsbld once with write access)");
			return DNSBL_ENOTFOUND;
		}
		return map_mdb_error(rc, "open databases");
	}
	rc = mdb_dbi_open(txn, "summary", dbflags, &s->summary);
	if (rc == MDB_NOTFOUND && !create)
		rc = 0; /* a schema 2 store, read-only: lookups go without the summary */
	else if (rc == 0)
		s->has_summary = true;
	if (rc == 0)
		rc = mdb_dbi_open(txn, "journal", dbflags, &s->journal);
	if (rc == MDB_NOTFOUND && !create)
		rc = 0; /* schema 2 or 3, read-only: no journal to find */
	else if (rc == 0)
		s->has_journal = true;
	if (rc == 0)
		rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND && create) {
		v.mv_size = sizeof(version);
		v.mv_data = &version;
		rc = mdb_put(txn, s->meta, &k, &v, 0);
	} else if (rc == 0) {
		if (v.mv_size == sizeof(version))
			memcpy(&version, v.mv_data, sizeof(version));
		if (v.mv_size == sizeof(version) && version >= 1 && version <= 3 && create) {
			/* 2 added databases (created above) and a flag; 3 the summary; 4 the
			 * journal, which starts empty (one left by a downgrade is stale) */
			unsigned old = version;
			version = STORE_SCHEMA_VERSION;
			v.mv_size = sizeof(version);
			v.mv_data = &version;
			rc = old < 3 ? store_summary_build_all(s, txn) : 0;
			if (rc < 0) {
				mdb_txn_abort(txn);
				return rc;
			}
			rc = mdb_drop(txn, s->journal, 0);
			if (rc == 0)
				rc = mdb_put(txn, s->meta, &k, &v, 0);
			if (rc == 0)
				log_info("store: upgraded schema %u to %u", old, STORE_SCHEMA_VERSION);
		} else if (v.mv_size == sizeof(version) && (version == 2 || version == 3) &&
			   !create) {
			/* older writers keep neither (2) or not the journal (3) */
			s->has_summary = version >= 3;
			s->has_journal = false;
		} else if (v.mv_size != sizeof(version) || version != STORE_SCHEMA_VERSION) {
			mdb_txn_abort(txn);
			if (s->probing)
				return DNSBL_EVERSION;
			if (v.mv_size != sizeof(version))
				log_err("store: schema record of %zu bytes, this build reads version %u",
					v.mv_size, STORE_SCHEMA_VERSION);
			else
				log_err("store: schema version %u, this build reads %u", version,
					STORE_SCHEMA_VERSION);
			return DNSBL_EVERSION;
		} else if (!s->has_summary || !s->has_journal) {
			mdb_txn_abort(txn);
			log_err("store: schema %u without its databases", version);
			return DNSBL_ESTORE;
		}
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return map_mdb_error(rc, "schema");
	}
	return map_mdb_error(mdb_txn_commit(txn), "commit schema");
}

int store_open(struct store **out, const char *path, unsigned flags)
{
	struct store *s;
	char datafile[4200];
	struct stat st;
	int rc;

	*out = NULL;
	snprintf(datafile, sizeof(datafile), "%s/data.mdb", path);
	if (stat(datafile, &st) < 0) {
		if (!(flags & STORE_CREATE)) {
			log_err("store: no store at %s", path);
			return DNSBL_ENOTFOUND;
		}
		if (mkdir_p(path) < 0) {
			log_err("store: cannot create directory %s: %s", path, strerror(errno));
			return DNSBL_EIO;
		}
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return DNSBL_ENOMEM;
	s->journal_size = STORE_JOURNAL_DEFAULT;
	if ((flags & STORE_CREATE) && (flags & STORE_RDONLY) && stat(datafile, &st) == 0) {
		/* a current store needs no write transaction: a reader starting while an
		 * import holds the writer lock must not wait for it */
		if (env_open(s, path, true) == 0) {
			s->probing = true;
			rc = schema_open(s, false);
			s->probing = false;
			if (rc == 0 && s->has_summary) {
				*out = s;
				return 0;
			}
			mdb_env_close(s->env);
			s->env = NULL;
			s->has_summary = s->has_journal = false;
		}
	}
	if (flags & STORE_CREATE) {
		/* make sure the schema exists, with a writable environment */
		if ((rc = env_open(s, path, false)) < 0 || (rc = schema_open(s, true)) < 0)
			goto fail;
		if (!(flags & STORE_RDONLY)) {
			*out = s;
			return 0;
		}
		mdb_env_close(s->env);
		s->env = NULL;
	}
	if ((rc = env_open(s, path, flags & STORE_RDONLY)) < 0 ||
	    (rc = schema_open(s, false)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	if (s->env != NULL)
		mdb_env_close(s->env);
	free(s);
	return rc;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	mdb_env_close(s->env);
	free(s);
}

uint64_t store_file_size(struct store *s)
{
	MDB_envinfo info;
	MDB_stat st;

	if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0)
		return 0;
	return (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
}

/* Where the data file is mapped: LMDB tells only for MDB_FIXEDMAP, so it is looked
 * up in /proc/self/maps by the file's inode. NULL when not found. */
static uint8_t *map_base(struct store *s)
{
	const char *path;
	char datafile[4200], line[4400];
	struct stat st;
	uint8_t *base = NULL;

	if (mdb_env_get_path(s->env, &path) != 0)
		return NULL;
	snprintf(datafile, sizeof(datafile), "%s/data.mdb", path);
	if (stat(datafile, &st) < 0)
		return NULL;
	FILE *f = fopen("/proc/self/maps", "re");
	if (f == NULL)
		return NULL;
	while (base == NULL && fgets(line, sizeof(line), f) != NULL) {
		unsigned long long start, off, ino;
		char dev[32];
		if (sscanf(line, "%llx-%*x %*s %llx %31s %llu", &start, &off, dev, &ino) == 4 &&
		    ino == (unsigned long long)st.st_ino && off == 0)
			base = (uint8_t *)(uintptr_t)start;
	}
	fclose(f);
	return base;
}

int store_prefault(struct store *s, uint64_t *offset)
{
	MDB_envinfo info;
	MDB_stat st;
	const uint64_t step = 32u << 20;

	if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0)
		return DNSBL_ESTORE;
	uint64_t used = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	if (*offset >= used)
		return 0;
	uint64_t len = used - *offset < step ? used - *offset : step;
	if (s->map == NULL && (s->map = map_base(s)) == NULL)
		return 0;
	uint8_t *base = s->map;
#ifdef MADV_POPULATE_READ
	if (madvise(base + *offset, len, MADV_POPULATE_READ) < 0)
		return 0; /* an older kernel, or the file shrank: nothing more to do */
#else
	return 0;
#endif
	*offset += len;
	return *offset < used;
}
