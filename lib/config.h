/* The configuration file shared by dnsbld, dnsbl-loader and dnsbl-api (INI, inih).
 *
 *   [server]  db, listen, threads, tcp_idle_timeout, tcp_max_connections, history_keep,
 *             journal_size, allow_transfer, notify, transfer_record_limit
 *   [api]     listen, tokens
 *   [zone NAME]  type, policy, exempt, ttl, a, txt, soa, ns,
 *                expire_after, list_threshold, list_window, relist_after,
 *                allow_transfer, notify, transfer_key, transfer_record_limit
 *   [key NAME]   algorithm, secret (TSIG keys for transfer_key)
 *
 * Every problem is reported as "file:line: what is wrong" (line 0 for whole-file
 * problems such as a missing zone), and all problems in a file are reported. */
#ifndef DNSBL_CONFIG_H
#define DNSBL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "txt.h"

#define CONFIG_MAX_LISTEN 16
#define CONFIG_MAX_NS 8
#define CONFIG_TXT_MAX TXT_TEMPLATE_MAX
#define DNAME_WIRE_MAX 255

#define CONFIG_MAX_MEMBERS 8
#define CONFIG_MAX_ACL 32
#define CONFIG_MAX_NOTIFY 8
#define CONFIG_KEY_SECRET_MAX 128
#define CONFIG_RECORD_LIMIT_DEFAULT 100000000ull
#define CONFIG_JOURNAL_SIZE_DEFAULT 100000 /* STORE_JOURNAL_DEFAULT */

/* ip: IPv4 and IPv6 addresses; name: domains; combined: the union of member zones */
enum zone_type { ZONE_TYPE_IP, ZONE_TYPE_NAME, ZONE_TYPE_COMBINED };
enum zone_policy { ZONE_POLICY_BLOCK, ZONE_POLICY_ALLOW };

/* A domain name in uncompressed, lower-cased wire form. */
struct dname {
	uint8_t len; /* including the root label */
	uint8_t wire[DNAME_WIRE_MAX];
};

struct listen_addr {
	struct sockaddr_storage ss;
	socklen_t sslen;
	char text[64]; /* as written in the config */
};

/* Zone transfer settings: the server's defaults, or a zone's (each list the zone
 * sets replaces the server's; after config_load every zone holds what applies). */
struct xfr_config {
	unsigned acl_count;                    /* 0: nobody may transfer */
	struct entry_key acl[CONFIG_MAX_ACL];  /* IP prefixes allowed to AXFR/IXFR */
	unsigned notify_count;
	struct listen_addr notify[CONFIG_MAX_NOTIFY]; /* NOTIFY targets */
	uint64_t record_limit;                 /* a larger zone is not transferred */
	bool acl_set, notify_set, limit_set;   /* given here (not inherited) */
};

/* TSIG algorithms (RFC 8945 6). */
enum key_algorithm {
	KEY_HMAC_MD5, KEY_HMAC_SHA1, KEY_HMAC_SHA224, KEY_HMAC_SHA256, KEY_HMAC_SHA384,
	KEY_HMAC_SHA512,
};

/* A [key NAME] section: a TSIG key. */
struct key_config {
	char name[256];    /* lower case, no trailing dot */
	struct dname wire; /* the key name as it goes on the wire */
	enum key_algorithm algorithm;
	bool algorithm_set;
	uint8_t secret[CONFIG_KEY_SECRET_MAX];
	size_t secret_len; /* 0: missing */
	int line;
};

struct zone_config {
	char name[256];   /* lower case, no trailing dot ("bl.example") */
	struct dname apex;
	enum zone_type type;
	enum zone_policy policy;
	char exempt[256]; /* allowlist zone name, "" for none */
	unsigned member_count;                  /* combined zones */
	char members[CONFIG_MAX_MEMBERS][256];  /* member zone names, as configured */
	uint32_t ttl;
	uint32_t a;       /* default A, host order */
	char txt[CONFIG_TXT_MAX + 1]; /* default TXT template, "" for none */
	struct dname soa_mname, soa_rname;
	uint32_t soa_refresh, soa_retry, soa_expire, soa_minimum;
	unsigned ns_count;
	struct dname ns[CONFIG_MAX_NS];
	/* listing lifecycle (seconds; see struct store_lifecycle) */
	uint32_t expire_after;    /* 0 = never */
	uint32_t list_threshold;  /* 1..STORE_THRESHOLD_MAX, default 1 */
	uint32_t list_window;     /* default 1d */
	uint32_t relist_after;    /* default 0 */
	struct xfr_config xfr;
	char transfer_key[256];   /* key name, "" for none */
	int transfer_key_index;   /* into config.keys, -1 for none */
	int transfer_key_line;
	int line;         /* where the section starts */
};

struct config {
	char path[4096];
	char db[4096];
	unsigned listen_count;
	struct listen_addr listen[CONFIG_MAX_LISTEN];
	unsigned threads;           /* 0 = one per CPU */
	unsigned tcp_idle_timeout;  /* seconds */
	unsigned tcp_max_connections;
	uint32_t history_keep;      /* seconds of history expire keeps; 0 = forever */
	uint64_t journal_size;      /* changes the IXFR journal keeps per zone; 0 = none */
	unsigned api_listen_count;
	struct listen_addr api_listen[CONFIG_MAX_LISTEN];
	char api_tokens[4096];
	struct xfr_config xfr;      /* defaults for every zone */
	unsigned key_count;
	struct key_config *keys;    /* owned by the config */
	unsigned zone_count;
	struct zone_config *zones;  /* owned by the config */
};

/* Reads and checks the config file at path into *cfg. Problems are written to err
 * (one per line, "file:line: reason", NUL-terminated, truncated to errsize).
 * Returns 0, DNSBL_ENOTFOUND (file cannot be opened), DNSBL_EINVAL (problems found)
 * or DNSBL_ENOMEM. On failure *cfg holds nothing to free. */
int config_load(const char *path, struct config *cfg, char *err, size_t errsize);

/* Frees what config_load allocated. */
void config_free(struct config *cfg);

/* Returns the static name of a TSIG algorithm ("hmac-sha256", ...) as it goes on the
 * wire (RFC 8945 6). */
const char *config_key_algorithm_name(enum key_algorithm a);

/* Returns zone z's TSIG key, or NULL when transfers need none. Points into cfg. */
const struct key_config *config_zone_key(const struct config *cfg, const struct zone_config *z);

/* Returns the static name of a zone type: "ip", "name" or "combined". */
const char *config_zone_type_name(enum zone_type t);

/* Returns the zone called name (any case, trailing dot allowed) or NULL. The result
 * points into cfg. */
const struct zone_config *config_zone(const struct config *cfg, const char *name);

/* Parses "host:port", "[v6]:port" into *out. Returns 0 or DNSBL_ESYNTAX. */
int config_parse_listen(const char *s, struct listen_addr *out);

/* Converts a presentation-format domain name (trailing dot optional) to lower-case
 * wire form. Returns 0 or DNSBL_ESYNTAX. */
int dname_from_text(const char *s, struct dname *out);

/* Writes the wire name as text without trailing dot ("" for the root) into buf.
 * Returns the length, or DNSBL_ENOSPC. */
int dname_to_text(const uint8_t *wire, size_t len, char *buf, size_t size);

#endif
