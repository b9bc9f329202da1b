/* Private to dnsbld: NOTIFY out (RFC 1996). One thread of its own, started only when
 * some zone has `notify` targets, reads every zone's serial (lib/zonemap's, what the
 * SOA answers) from a fresh store snapshot every NOTIFY_POLL_MS; when one changes it
 * sends a NOTIFY to each of the zone's targets over UDP and resends with back-off
 * (1, 2, 4, 8 s) until the target answers or NOTIFY_TRIES sends went unanswered.
 * At start-up every zone is announced once, so secondaries that missed changes
 * while dnsbld was down ask for them. Nothing here touches the query path. */
#ifndef DNSBLD_NOTIFY_H
#define DNSBLD_NOTIFY_H

#include <stdbool.h>

#include "config.h"
#include "store.h"
#include "zone.h"

#define NOTIFY_POLL_MS 100 /* how often serials are read */
#define NOTIFY_TRIES 5     /* sends per target and serial */

struct notifier;

/* Whether some zone of cfg has NOTIFY targets (else no notifier is needed). */
bool notifier_needed(const struct config *cfg);

/* Opens the sockets and starts the NOTIFY thread for the zones of zones that have
 * targets, reading serials from store (cfg, zones and store must outlive it). The
 * thread stops when stop_fd becomes readable or hangs up. *out is owned by the
 * caller (notifier_stop). Returns 0, DNSBL_ENOMEM or DNSBL_EIO (logged). */
int notifier_start(struct notifier **out, const struct config *cfg,
		   const struct zone_table *zones, struct store *store, int stop_fd);

/* Waits for the thread (after stop_fd was closed or written), closes and frees
 * everything. NULL is ignored. */
void notifier_stop(struct notifier *n);

#endif
