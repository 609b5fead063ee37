/*
 * PRIVATE to fltmgr_model/src/nt: what the Ke dispatcher objects (ke_sync.c)
 * and the Ex synchronization beside them (ex_sync.c) share: the one
 * dispatcher lock, the wait block a blocked thread queues on an object, and
 * how both report misuse. ke_sync.c defines them.
 */
#ifndef FLTSIM_NT_INTERNAL_H
#define FLTSIM_NT_INTERNAL_H

#include "exec/executor.h"

/* All dispatcher state (events' signal states and waiters, resources'
 * owners and waiters) is guarded by this one lock, as in NT. */
void fltsim__dispatcher_lock(void);
void fltsim__dispatcher_unlock(void);

/* What a waiting thread queues on an object; whoever satisfies it sets
 * satisfied and unparks the thread under the dispatcher lock, so a waiter
 * never returns while its waker still touches its wait block. */
struct fltsim_wait_block {
    LIST_ENTRY link;
    struct fltsim_sthread *thread;
    bool satisfied;
    bool exclusive; /* resources */
};

/* Reports a broken rule of a Ke or Ex routine: to the system whose filter
 * code runs on this thread, or to standard error when none does. */
void fltsim__ke_report(const char *rule, const char *spec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Something that cannot go on: say what and stop the process. */
void fltsim__ke_fatal(const char *message);

#endif /* FLTSIM_NT_INTERNAL_H */
