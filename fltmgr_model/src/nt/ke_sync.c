/*
 * Kernel synchronization for filter code: the dispatcher lock and the
 * reports every Ke and Ex routine shares, events, critical and guarded
 * regions with the APC queries over them, and spin locks (issue 3 item 6,
 * issue 15 item 4). All dispatcher state is guarded by the one dispatcher
 * lock, as in NT. Waits are ke_wait.c's (an event set here wakes its waiters
 * through it), mutexes and semaphores ke_mutex.c's, clocks ke_time.c's,
 * fast mutexes and resources ex_sync.c's, push locks pushlock.c's; IRQL is
 * ke_irql.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "nt_internal.h"

static uv_once_t dispatcher_once = UV_ONCE_INIT;
static uv_mutex_t dispatcher_lock;

static void dispatcher_init(void)
{
    if (uv_mutex_init(&dispatcher_lock) != 0)
        abort();
}

void fltsim__dispatcher_lock(void)
{
    uv_once(&dispatcher_once, dispatcher_init);
    uv_mutex_lock(&dispatcher_lock);
}

void fltsim__dispatcher_unlock(void)
{
    uv_mutex_unlock(&dispatcher_lock);
}

void fltsim__ke_report(const char *rule, const char *spec, const char *fmt, ...)
{
    struct fltsim_tls *t = fltsim__tls();
    char message[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (t->sys != NULL)
        fltsim__report(t->sys, t->filter, NULL, t->op, rule, spec, "%s", message);
    else
        fprintf(stderr, "fltsim: %s\n", message);
}

void fltsim__ke_fatal(const char *message)
{
    fltsim__ke_report("KE", "-", "%s", message);
    fprintf(stderr, "fltsim: fatal: %s\n", message);
    abort();
}

/* ---- events ---- */

void KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State)
{
    memset(Event, 0, sizeof(*Event));
    Event->Header.Type = (UCHAR)Type;
    Event->Header.Size = FLTSIM_EVENT_SIZE;
    Event->Header.SignalState = State ? 1 : 0;
    InitializeListHead(&Event->Header.WaitListHead);
}

static bool event_initialized(PRKEVENT Event)
{
    return (Event->Header.Type == NotificationEvent ||
            Event->Header.Type == SynchronizationEvent) &&
           Event->Header.Size == FLTSIM_EVENT_SIZE && Event->Header.WaitListHead.Flink != NULL;
}

void fltsim__event_check_locked(PRKEVENT Event, const char *api)
{
    if (event_initialized(Event))
        return;
    fltsim__dispatcher_unlock();
    fltsim__ke_report("KE", "-", "%s on a KEVENT that KeInitializeEvent never initialized", api);
    fltsim__dispatcher_lock();
    if (!event_initialized(Event)) {
        if (Event->Header.Type != SynchronizationEvent)
            Event->Header.Type = NotificationEvent;
        Event->Header.Size = FLTSIM_EVENT_SIZE;
        InitializeListHead(&Event->Header.WaitListHead);
    }
}

LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    (void)Increment;
    (void)Wait;
    if (KeGetCurrentIrql() > DISPATCH_LEVEL)
        fltsim__ke_report("V28", "10", "KeSetEvent above DISPATCH_LEVEL");
    fltsim__dispatcher_lock();
    fltsim__event_check_locked(Event, "KeSetEvent");
    LONG previous = Event->Header.SignalState;
    Event->Header.SignalState = 1;
    /* A notification event releases every waiter and stays set; a
     * synchronization event releases one and resets. */
    fltsim__dispatcher_signal_locked(&Event->Header);
    fltsim__dispatcher_unlock();
    return previous;
}

void KeClearEvent(PRKEVENT Event)
{
    fltsim__dispatcher_lock();
    fltsim__event_check_locked(Event, "KeClearEvent");
    Event->Header.SignalState = 0;
    fltsim__dispatcher_unlock();
}

LONG KeResetEvent(PRKEVENT Event)
{
    fltsim__dispatcher_lock();
    fltsim__event_check_locked(Event, "KeResetEvent");
    LONG previous = Event->Header.SignalState;
    Event->Header.SignalState = 0;
    fltsim__dispatcher_unlock();
    return previous;
}

LONG KeReadStateEvent(PRKEVENT Event)
{
    fltsim__dispatcher_lock();
    fltsim__event_check_locked(Event, "KeReadStateEvent");
    LONG state = Event->Header.SignalState;
    fltsim__dispatcher_unlock();
    return state;
}

/* ---- critical and guarded regions, APC state ---- */

/* Both regions nest and are per thread; leaving one never entered is a
 * report (Windows corrupts the
 * thread's APC-disable count). fltsim keeps three counts where Windows keeps
 * two (a KMUTEX held counts apart from KeEnterCriticalRegion) so that
 * leaving a critical region a mutex's ownership disabled APCs for is caught
 * too. */

static void region_irql_check(const char *api)
{
    if (KeGetCurrentIrql() > APC_LEVEL)
        fltsim__ke_report("V28", "10", "%s at IRQL %u; it may be called at APC_LEVEL or below", api,
                          (unsigned)KeGetCurrentIrql());
}

void fltsim__critical_region_enter(void)
{
    fltsim__current_sthread()->critical_region++;
}

void fltsim__critical_region_leave(const char *api)
{
    struct fltsim_sthread *t = fltsim__current_sthread();
    if (t->critical_region <= 0) {
        fltsim__ke_report("KE", "-",
                          "%s leaves a critical region the thread is not in (more "
                          "KeLeaveCriticalRegion than KeEnterCriticalRegion)",
                          api);
        return;
    }
    t->critical_region--;
}

/* Learn puts both at APC_LEVEL or below; fltsim does not check it for
 * critical regions (only for guarded ones), so that a resource acquired at
 * DISPATCH_LEVEL inside one is reported once, by the resource routine. */
void KeEnterCriticalRegion(void)
{
    fltsim__critical_region_enter();
}

void KeLeaveCriticalRegion(void)
{
    fltsim__critical_region_leave("KeLeaveCriticalRegion");
}

void KeEnterGuardedRegion(void)
{
    region_irql_check("KeEnterGuardedRegion");
    fltsim__current_sthread()->guarded_region++;
}

void KeLeaveGuardedRegion(void)
{
    struct fltsim_sthread *t = fltsim__current_sthread();
    region_irql_check("KeLeaveGuardedRegion");
    if (t->guarded_region <= 0) {
        fltsim__ke_report("KE", "-", "KeLeaveGuardedRegion without KeEnterGuardedRegion");
        return;
    }
    t->guarded_region--;
}

bool fltsim__apcs_disabled(void)
{
    struct fltsim_sthread *t = fltsim__current_sthread();
    return t->critical_region > 0 || t->guarded_region > 0 || t->mutexes_owned > 0 ||
           t->tls.irql >= APC_LEVEL;
}

BOOLEAN KeAreApcsDisabled(void)
{
    return fltsim__apcs_disabled() ? TRUE : FALSE;
}

BOOLEAN KeAreAllApcsDisabled(void)
{
    struct fltsim_sthread *t = fltsim__current_sthread();
    return t->guarded_region > 0 || t->tls.irql >= APC_LEVEL ? TRUE : FALSE;
}

/* ---- spin locks ---- */

void KeInitializeSpinLock(PKSPIN_LOCK SpinLock)
{
    __atomic_store_n(SpinLock, 0, __ATOMIC_RELEASE);
}

static void spin_acquire(PKSPIN_LOCK lock)
{
    ULONG_PTR self = (ULONG_PTR)fltsim__current_sthread();
    for (;;) {
        ULONG_PTR expected = 0;
        if (__atomic_compare_exchange_n(lock, &expected, self, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return;
        if (expected == self)
            fltsim__ke_fatal(
                "a spin lock was acquired by the thread that already holds it (deadlock)");
        if (fltsim__is_deterministic())
            fltsim__ke_fatal("a spin lock is held by a simulated thread that is not running (it "
                             "blocked while holding it): deadlock");
        uv_sleep(0);
    }
}

static void spin_release(PKSPIN_LOCK lock, const char *api)
{
    ULONG_PTR self = (ULONG_PTR)fltsim__current_sthread();
    ULONG_PTR held = __atomic_load_n(lock, __ATOMIC_RELAXED);
    if (held != self)
        fltsim__ke_report("KE", "-", "%s of a spin lock this thread does not hold", api);
    __atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock)
{
    KIRQL old;
    if (KeGetCurrentIrql() > DISPATCH_LEVEL)
        fltsim__ke_report("V28", "10", "KeAcquireSpinLock above DISPATCH_LEVEL");
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    spin_acquire(SpinLock);
    return old;
}

void KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql)
{
    spin_release(SpinLock, "KeReleaseSpinLock");
    KeLowerIrql(NewIrql);
}

void KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    if (KeGetCurrentIrql() < DISPATCH_LEVEL)
        fltsim__ke_report("V28", "10", "KeAcquireSpinLockAtDpcLevel below DISPATCH_LEVEL");
    spin_acquire(SpinLock);
}

void KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock)
{
    spin_release(SpinLock, "KeReleaseSpinLockFromDpcLevel");
}

void KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle)
{
    LockHandle->LockQueue.Next = NULL;
    LockHandle->LockQueue.Lock = SpinLock;
    LockHandle->OldIrql = KeAcquireSpinLockRaiseToDpc(SpinLock);
}

void KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle)
{
    KeReleaseSpinLock(LockHandle->LockQueue.Lock, LockHandle->OldIrql);
}
