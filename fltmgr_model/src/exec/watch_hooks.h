/*
 * PRIVATE to fltmgr_model/src: what fltmgr/watch.c (crash and hang reports,
 * fltsim/watch.h) needs from the threads, executors and systems that it
 * watches, and gives them: exec/ registers threads and switches, system.c
 * registers systems, the deterministic executor asks for the deadlock hook.
 */
#ifndef FLTSIM_WATCH_HOOKS_H
#define FLTSIM_WATCH_HOOKS_H

#include "model_internal.h"

/* Names the callout tls is in (info->in_filter false when none). Reads only
 * tls and what it points at: async-signal-safe. */
void fltsim__callout_describe(const struct fltsim_tls *tls, struct fltsim_callout_info *info);
/* thread.c: an OS thread's first use of the model; it registers the thread
 * when watching is on. &current is the thread's fltsim__current. */
void fltsim__watch_thread_start(struct fltsim_sthread *const *current);
/* A simulated thread took over its OS thread (fltsim__set_current_sthread). */
void fltsim__watch_switched(void);
/* Before memory holding a simulated thread is freed: a watchdog reading it
 * is done. */
void fltsim__watch_barrier(void);
/* system.c: a system made or going (the ones fltsim_watch_pended walks). */
void fltsim__watch_system_created(fltsim_system *sys);
void fltsim__watch_system_destroyed(fltsim_system *sys);
/* exec: the deadlock hook, or NULL (fltsim_set_deadlock_hook). */
fltsim_deadlock_hook fltsim__deadlock_hook(void **ctx);

#endif /* FLTSIM_WATCH_HOOKS_H */
