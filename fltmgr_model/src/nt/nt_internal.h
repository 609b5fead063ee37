/*
 * PRIVATE to fltmgr_model/src/nt: what the Ke dispatcher objects and the Ex
 * synchronization beside them share: the one dispatcher lock, the wait block
 * a blocked thread queues on an object, the wait engine (ke_wait.c) that
 * events (ke_sync.c), mutexes and semaphores (ke_mutex.c) and rundown
 * protection (rundown.c) signal through, the clocks (ke_time.c), and how all
 * of them report misuse; and what pool.c, lookaside.c and slist.c offer each
 * other.
 */
#ifndef FLTSIM_NT_INTERNAL_H
#define FLTSIM_NT_INTERNAL_H

#include "exec/executor.h"

/* All dispatcher state (the signal states and wait lists of events,
 * mutexes and semaphores; the owners and waiters of resources and push
 * locks) is guarded by this one lock, as in NT. */
void fltsim__dispatcher_lock(void);
void fltsim__dispatcher_unlock(void);

/* DISPATCHER_HEADER.Type of the objects fltsim models: the kernel's object
 * type codes (KOBJECTS; events use EVENT_TYPE's values 0 and 1). */
#define FLTSIM_MUTANT_OBJECT 2
#define FLTSIM_SEMAPHORE_OBJECT 5
/* DISPATCHER_HEADER.Size of each kind, in LONGs, as the kernel sets it;
 * with a non-NULL wait list it tells an initialized object from memory no
 * KeInitializeXxx has seen. */
#define FLTSIM_EVENT_SIZE ((UCHAR)(sizeof(KEVENT) / sizeof(LONG)))
#define FLTSIM_MUTANT_SIZE ((UCHAR)(sizeof(KMUTANT) / sizeof(LONG)))
#define FLTSIM_SEMAPHORE_SIZE ((UCHAR)(sizeof(KSEMAPHORE) / sizeof(LONG)))

struct fltsim_wait;

/* What a waiting thread queues on an object; whoever satisfies it unlinks
 * it, marks it satisfied and unparks the thread under the dispatcher lock,
 * so a waiter never returns while its waker still touches its wait block.
 * Resources and push locks use thread, satisfied and exclusive; a wait on
 * dispatcher objects (KeWaitFor*) links one block per object to its
 * struct fltsim_wait. */
struct fltsim_wait_block {
    LIST_ENTRY link;
    struct fltsim_sthread *thread;
    bool satisfied;
    bool exclusive; /* resources, push locks */
    /* dispatcher waits */
    struct fltsim_wait *wait;
    DISPATCHER_HEADER *object;
    ULONG index;     /* in the caller's object array */
    bool linked;     /* on object's wait list */
    bool took_mutex; /* this wait made its thread the mutex's owner */
};

/* dispatcher lock held. After an object's state rose (an event set, a
 * mutex or semaphore released): satisfies, in arrival order, every queued
 * wait the object's new state lets through, performing each wait's side
 * effects (a synchronization event resets, a semaphore count falls, a
 * mutex gets its new owner) and unparking its thread. */
void fltsim__dispatcher_signal_locked(DISPATCHER_HEADER *object);

/* dispatcher lock held. Reports (once) and repairs an event that was never
 * initialized: zeroed memory becomes a notification event, not signaled. */
void fltsim__event_check_locked(PRKEVENT event, const char *api);

/* KeEnterCriticalRegion and KeLeaveCriticalRegion without their IRQL
 * checks, for routines that enter one on their caller's behalf (and check
 * the IRQL themselves, once). Leaving one never entered is reported, naming
 * api. */
void fltsim__critical_region_enter(void);
void fltsim__critical_region_leave(const char *api);

/* Whether the calling thread has normal kernel APCs disabled: a critical or
 * guarded region, a KMUTEX held, or IRQL APC_LEVEL and above (what
 * KeAreApcsDisabled answers; ExAcquireResource* needs it). */
bool fltsim__apcs_disabled(void);

/* The precise system time (100 ns units since 1601): virtual under the
 * deterministic executor, the host's clock otherwise (ke_time.c). */
LONGLONG fltsim__system_time_precise(void);

/* Reports a broken rule of a Ke or Ex routine: to the system whose filter
 * code runs on this thread, or to standard error when none does. */
void fltsim__ke_report(const char *rule, const char *spec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* ZwClose of a file handle (zw_file.c): true when Handle was one and is
 * closed now. */
bool fltsim__zw_file_close(HANDLE Handle);
/* Something that cannot go on: say what and stop the process. */
void fltsim__ke_fatal(const char *message);

/* ---- Rtl generic tables (rtl_table.c, rtl_avl.c) and bitmaps ---- */

/* Reports (rule RTL) a misuse of an Rtl routine. */
void fltsim__rtl_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* r when it is one of the three RTL_GENERIC_COMPARE_RESULTS; otherwise a
 * report naming who, and GenericGreaterThan. */
RTL_GENERIC_COMPARE_RESULTS fltsim__rtl_check_compare(RTL_GENERIC_COMPARE_RESULTS r,
                                                      const char *who);

/* ---- SLISTs (slist.c) ---- */

/* What ExInterlockedPush/Pop/FlushSList do. api names the routine in the
 * reports of misuse (a NULL or misaligned header or entry, an entry pushed
 * twice); NULL is for callers holding a lock of their own: nothing is
 * reported then (a NULL or misaligned entry is still refused). Any thread. */
PSLIST_ENTRY fltsim__slist_push(PSLIST_HEADER head, PSLIST_ENTRY entry, const char *api);
PSLIST_ENTRY fltsim__slist_pop(PSLIST_HEADER head, const char *api);
PSLIST_ENTRY fltsim__slist_flush(PSLIST_HEADER head, const char *api);
/* ExQueryDepthSList without its checks. */
USHORT fltsim__slist_depth(PSLIST_HEADER head);

/* ---- pool (pool.c), for lookaside.c ---- */

/* Whether the driver whose code runs on this thread called
 * ExInitializeDriverRuntime(DrvRtPoolNxOptIn). */
bool fltsim__pool_nx_opted_in(void);

/* ---- lookaside lists (lookaside.c), for pool.c ---- */

/* A pool block of size bytes is being freed (no pool lock held): a held
 * lookaside entry stops being one, and a list inside it that was never
 * deleted is reported and deleted. */
void fltsim__lookaside_pool_freed(PVOID block, SIZE_T size);
/* Reports (V23) drv's lists never deleted and their entries never freed,
 * marks their pool blocks reported, and forgets the lists. */
void fltsim__lookaside_driver_unloaded(struct fltsim_driver *drv);
/* The same for the lists of sys's filter code outside any driver. */
void fltsim__lookaside_system_destroyed(fltsim_system *sys);

#endif /* FLTSIM_NT_INTERNAL_H */
