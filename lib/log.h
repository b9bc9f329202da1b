/* Logging: to stderr (foreground, tools) or syslog (daemon). Not for the per-query
 * path: workers count errors and the counters are logged off the hot path. */
#ifndef DNSBL_LOG_H
#define DNSBL_LOG_H

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Sets the program name and destination; use_syslog != 0 sends messages to syslog. */
void log_init(const char *ident, int use_syslog);

/* Logs one printf-style message at level. Thread-safe (one write per message). */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)

#endif
