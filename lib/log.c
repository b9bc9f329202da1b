#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

static const char *log_ident = "dnsbl";
static int log_syslog;

void log_init(const char *ident, int use_syslog)
{
	log_ident = ident;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const name[] = { "error", "warning", "info", "debug" };
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_syslog) {
		syslog(prio[level], "%s", line);
		return;
	}
	/* One fprintf per message so lines from threads do not interleave. */
	fprintf(stderr, "%s: %s: %s\n", log_ident, name[level], line);
}
