/*
 * Kernel mutexes (KMUTEX) and semaphores (KSEMAPHORE), the dispatcher objects
 * beside events (issue 15 item 4). A mutex is owned by a thread, recursively;
 * owning one disables normal kernel APCs; only its owner may release it. A
 * semaphore counts up to its limit. Acquiring either is a wait (ke_wait.c,
 * which performs the acquisition under the dispatcher lock); releasing
 * raises the object's state and wakes its waiters through
 * fltsim__dispatcher_signal_locked. Where Windows raises an exception or
 * bug checks, fltsim reports (KE) and leaves the object as it was.
 */
#include <string.h>

#include "nt_internal.h"

/* ---- mutexes ---- */

void KeInitializeMutex(PRKMUTEX Mutex, ULONG Level)
{
    (void)Level; /* reserved; drivers pass 0 */
    memset(Mutex, 0, sizeof(*Mutex));
    Mutex->Header.Type = FLTSIM_MUTANT_OBJECT;
    Mutex->Header.Size = FLTSIM_MUTANT_SIZE;
    Mutex->Header.SignalState = 1; /* signaled: nobody owns it */
    InitializeListHead(&Mutex->Header.WaitListHead);
    Mutex->OwnerThread = NULL;
    Mutex->MutantListEntry.Flink = NULL; /* fltsim's owner tag (ke_wait.c) */
    Mutex->ApcDisable = 1;               /* a kernel mutex disables normal kernel APCs */
}

/* dispatcher lock held. */
static bool mutex_initialized(PRKMUTEX m)
{
    return m->Header.Type == FLTSIM_MUTANT_OBJECT && m->Header.Size == FLTSIM_MUTANT_SIZE &&
           m->Header.WaitListHead.Flink != NULL;
}

LONG KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait)
{
    (void)Wait; /* fltsim does not hold the dispatcher across to the wait that follows */
    struct fltsim_sthread *self = fltsim__current_sthread();
    if (KeGetCurrentIrql() > DISPATCH_LEVEL)
        fltsim__ke_report("V28", "10",
                          "KeReleaseMutex at IRQL %u; it may be called at "
                          "DISPATCH_LEVEL or below",
                          (unsigned)KeGetCurrentIrql());
    fltsim__dispatcher_lock();
    if (!mutex_initialized(Mutex)) {
        fltsim__dispatcher_unlock();
        fltsim__ke_report("KE", "-",
                          "KeReleaseMutex on a KMUTEX that KeInitializeMutex never "
                          "initialized");
        return 0;
    }
    LONG previous = Mutex->Header.SignalState;
    if (Mutex->MutantListEntry.Flink != (PLIST_ENTRY)(void *)self) {
        bool owned = Mutex->MutantListEntry.Flink != NULL;
        fltsim__dispatcher_unlock();
        fltsim__ke_report("KE", "-",
                          "KeReleaseMutex of a mutex %s; only its owner may release it (Windows "
                          "raises STATUS_MUTANT_NOT_OWNED: bug check 0x11, "
                          "THREAD_NOT_MUTEX_OWNER); the release is ignored",
                          owned ? "another thread owns" : "nobody owns");
        return previous;
    }
    bool last = ++Mutex->Header.SignalState == 1;
    if (last) {
        Mutex->OwnerThread = NULL;
        Mutex->MutantListEntry.Flink = NULL;
        /* The next owner is chosen among the waiters now. */
        fltsim__dispatcher_signal_locked(&Mutex->Header);
    }
    fltsim__dispatcher_unlock();
    if (last)
        self->mutexes_owned--;
    return previous;
}

LONG KeReadStateMutex(PRKMUTEX Mutex)
{
    fltsim__dispatcher_lock();
    bool ok = mutex_initialized(Mutex);
    LONG state = Mutex->Header.SignalState;
    fltsim__dispatcher_unlock();
    if (!ok)
        fltsim__ke_report("KE", "-",
                          "KeReadStateMutex on a KMUTEX that KeInitializeMutex never "
                          "initialized");
    return state;
}

/* ---- semaphores ---- */

void KeInitializeSemaphore(PRKSEMAPHORE Semaphore, LONG Count, LONG Limit)
{
    memset(Semaphore, 0, sizeof(*Semaphore));
    Semaphore->Header.Type = FLTSIM_SEMAPHORE_OBJECT;
    Semaphore->Header.Size = FLTSIM_SEMAPHORE_SIZE;
    InitializeListHead(&Semaphore->Header.WaitListHead);
    if (Count < 0 || Limit <= 0 || Count > Limit)
        fltsim__ke_report("KE", "-",
                          "KeInitializeSemaphore with Count %ld and Limit %ld; the count must be "
                          "0 or more, the limit positive and not below the count",
                          (long)Count, (long)Limit);
    Semaphore->Header.SignalState = Count < 0 ? 0 : Count;
    Semaphore->Limit = Limit;
}

static bool semaphore_initialized(PRKSEMAPHORE s)
{
    return s->Header.Type == FLTSIM_SEMAPHORE_OBJECT && s->Header.Size == FLTSIM_SEMAPHORE_SIZE &&
           s->Header.WaitListHead.Flink != NULL;
}

LONG KeReleaseSemaphore(PRKSEMAPHORE Semaphore, KPRIORITY Increment, LONG Adjustment, BOOLEAN Wait)
{
    (void)Increment;
    KIRQL irql = KeGetCurrentIrql();
    if (irql > DISPATCH_LEVEL || (Wait && irql > PASSIVE_LEVEL))
        fltsim__ke_report("V28", "10",
                          "KeReleaseSemaphore at IRQL %u; it may be called at %s or below", irql,
                          Wait ? "PASSIVE_LEVEL (Wait TRUE)" : "DISPATCH_LEVEL");
    fltsim__dispatcher_lock();
    if (!semaphore_initialized(Semaphore)) {
        fltsim__dispatcher_unlock();
        fltsim__ke_report("KE", "-",
                          "KeReleaseSemaphore on a KSEMAPHORE that "
                          "KeInitializeSemaphore never initialized");
        return 0;
    }
    LONG previous = Semaphore->Header.SignalState;
    LONG limit = Semaphore->Limit;
    if (Adjustment <= 0 || (LONG64)previous + Adjustment > (LONG64)limit) {
        fltsim__dispatcher_unlock();
        if (Adjustment <= 0)
            fltsim__ke_report("KE", "-",
                              "KeReleaseSemaphore with Adjustment %ld; it must be positive",
                              (long)Adjustment);
        else
            fltsim__ke_report("KE", "-",
                              "KeReleaseSemaphore by %ld would raise the count from %ld past the "
                              "limit %ld; Windows raises STATUS_SEMAPHORE_LIMIT_EXCEEDED and "
                              "leaves the count, as fltsim does",
                              (long)Adjustment, (long)previous, (long)limit);
        return previous;
    }
    Semaphore->Header.SignalState = previous + Adjustment;
    fltsim__dispatcher_signal_locked(&Semaphore->Header);
    fltsim__dispatcher_unlock();
    return previous;
}

LONG KeReadStateSemaphore(PRKSEMAPHORE Semaphore)
{
    fltsim__dispatcher_lock();
    bool ok = semaphore_initialized(Semaphore);
    LONG state = Semaphore->Header.SignalState;
    fltsim__dispatcher_unlock();
    if (!ok)
        fltsim__ke_report("KE", "-",
                          "KeReadStateSemaphore on a KSEMAPHORE that "
                          "KeInitializeSemaphore never initialized");
    return state;
}
