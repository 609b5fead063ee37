/*
 * Executive synchronization for filter code (issue 3, item 6): fast mutexes
 * (over a Ke synchronization event) and executive resources (ERESOURCE, with
 * FltMgr's FltAcquireResource* wrappers over them). A resource's owners and
 * waiters are dispatcher state, guarded by the one dispatcher lock ke_sync.c
 * keeps, and its waiters queue the same wait blocks and park the same way
 * (nt_internal.h). Acquiring needs normal kernel APCs disabled, in any of
 * the ways KeAreApcsDisabled knows (ke_sync.c). Events, waits and spin
 * locks are ke_sync.c's and ke_wait.c's; push locks pushlock.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "nt_internal.h"

/* ---- fast mutexes ---- */

void ExInitializeFastMutex(PFAST_MUTEX FastMutex)
{
    FastMutex->Count = 1;
    FastMutex->Owner = NULL;
    FastMutex->Contention = 0;
    FastMutex->OldIrql = PASSIVE_LEVEL;
    KeInitializeEvent(&FastMutex->Event, SynchronizationEvent, FALSE);
}

static void fast_mutex_take(PFAST_MUTEX m)
{
    PVOID self = fltsim__current_sthread();
    if (__atomic_load_n(&m->Owner, __ATOMIC_RELAXED) == self)
        fltsim__ke_fatal("a fast mutex was acquired by the thread that already owns it (deadlock)");
    if (InterlockedDecrement(&m->Count) != 0) {
        __atomic_add_fetch(&m->Contention, 1, __ATOMIC_RELAXED);
        KeWaitForSingleObject(&m->Event, Executive, KernelMode, FALSE, NULL);
    }
    __atomic_store_n(&m->Owner, self, __ATOMIC_RELAXED);
}

static void fast_mutex_give(PFAST_MUTEX m, const char *api)
{
    if (__atomic_load_n(&m->Owner, __ATOMIC_RELAXED) != (PVOID)fltsim__current_sthread())
        fltsim__ke_report("KE", "-", "%s of a fast mutex this thread does not own", api);
    __atomic_store_n(&m->Owner, NULL, __ATOMIC_RELAXED);
    if (InterlockedIncrement(&m->Count) != 1)
        KeSetEvent(&m->Event, 0, FALSE);
}

void ExAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    KIRQL old;
    if (KeGetCurrentIrql() > APC_LEVEL)
        fltsim__ke_report("V28", "10", "ExAcquireFastMutex above APC_LEVEL");
    KeRaiseIrql(APC_LEVEL, &old);
    fast_mutex_take(FastMutex);
    FastMutex->OldIrql = old;
}

void ExReleaseFastMutex(PFAST_MUTEX FastMutex)
{
    KIRQL old = (KIRQL)FastMutex->OldIrql;
    fast_mutex_give(FastMutex, "ExReleaseFastMutex");
    KeLowerIrql(old);
}

BOOLEAN ExTryToAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    KIRQL old;
    KeRaiseIrql(APC_LEVEL, &old);
    if (InterlockedCompareExchange(&FastMutex->Count, 0, 1) != 1) {
        KeLowerIrql(old);
        return FALSE;
    }
    __atomic_store_n(&FastMutex->Owner, (PVOID)fltsim__current_sthread(), __ATOMIC_RELAXED);
    FastMutex->OldIrql = old;
    return TRUE;
}

void ExAcquireFastMutexUnsafe(PFAST_MUTEX FastMutex)
{
    fast_mutex_take(FastMutex);
}

void ExReleaseFastMutexUnsafe(PFAST_MUTEX FastMutex)
{
    fast_mutex_give(FastMutex, "ExReleaseFastMutexUnsafe");
}

/* ---- executive resources ---- */

#define RESOURCE_MARK 0x52455352u /* "RSER" */

struct shared_owner {
    PVOID thread;
    LONG count;
};

static struct shared_owner *shared_slot(PERESOURCE r, PVOID thread, bool create)
{
    struct shared_owner *owners = r->SharedOwners;
    struct shared_owner *free_slot = NULL;
    for (ULONG i = 0; i < r->SharedOwnersSize; i++) {
        if (owners[i].thread == thread)
            return &owners[i];
        if (owners[i].count == 0 && free_slot == NULL)
            free_slot = &owners[i];
    }
    if (!create)
        return NULL;
    if (free_slot != NULL) {
        free_slot->thread = thread;
        return free_slot;
    }
    ULONG size = r->SharedOwnersSize ? r->SharedOwnersSize * 2 : 4;
    owners = realloc(owners, size * sizeof(*owners));
    if (owners == NULL)
        abort();
    memset(owners + r->SharedOwnersSize, 0, (size - r->SharedOwnersSize) * sizeof(*owners));
    free_slot = &owners[r->SharedOwnersSize];
    free_slot->thread = thread;
    r->SharedOwners = owners;
    r->SharedOwnersSize = size;
    return free_slot;
}

NTSTATUS ExInitializeResourceLite(PERESOURCE Resource)
{
    memset(Resource, 0, sizeof(*Resource));
    InitializeListHead(&Resource->Waiters);
    Resource->Initialized = RESOURCE_MARK;
    return STATUS_SUCCESS;
}

NTSTATUS ExDeleteResourceLite(PERESOURCE Resource)
{
    fltsim__dispatcher_lock();
    bool busy = Resource->ExclusiveCount != 0 || Resource->SharedCount != 0 ||
                !IsListEmpty(&Resource->Waiters);
    free(Resource->SharedOwners);
    Resource->SharedOwners = NULL;
    Resource->SharedOwnersSize = 0;
    Resource->Initialized = 0;
    fltsim__dispatcher_unlock();
    if (busy)
        fltsim__ke_report("KE", "-",
                          "ExDeleteResourceLite of a resource that is held or waited for");
    return STATUS_SUCCESS;
}

static bool resource_checks(PERESOURCE r, const char *api)
{
    if (r->Initialized != RESOURCE_MARK) {
        fltsim__ke_report(
            "KE", "-", "%s on an ERESOURCE that ExInitializeResourceLite never initialized", api);
        return false;
    }
    if (KeGetCurrentIrql() > APC_LEVEL)
        fltsim__ke_report("V28", "10", "%s at IRQL %u; it may be called at APC_LEVEL or below", api,
                          (unsigned)KeGetCurrentIrql());
    else if (!fltsim__apcs_disabled())
        fltsim__ke_report("V28", "10",
                          "%s with normal kernel APCs enabled; call KeEnterCriticalRegion first",
                          api);
    return true;
}

/* dispatcher lock held. Whether thread may take r now: recursion always; an
 * exclusive request when nobody holds it and nobody waits; a shared request
 * while nobody owns it exclusively and no exclusive waiter queued first (no
 * starvation of writers). */
static bool can_take(PERESOURCE r, PVOID thread, bool exclusive)
{
    if (r->ExclusiveCount != 0)
        return r->ExclusiveOwner == thread;
    if (exclusive)
        return r->SharedCount == 0 && IsListEmpty(&r->Waiters);
    struct shared_owner *mine = shared_slot(r, thread, false);
    if (mine != NULL && mine->count != 0)
        return true;
    for (PLIST_ENTRY e = r->Waiters.Flink; e != &r->Waiters; e = e->Flink)
        if (CONTAINING_RECORD(e, struct fltsim_wait_block, link)->exclusive)
            return false;
    return true;
}

/* dispatcher lock held. */
static void take(PERESOURCE r, PVOID thread, bool exclusive)
{
    if (r->ExclusiveCount != 0 || exclusive) {
        r->ExclusiveOwner = thread;
        r->ExclusiveCount++;
        return;
    }
    shared_slot(r, thread, true)->count++;
    r->SharedCount++;
}

/* dispatcher lock held. Grants waiters in order while they can go. */
static void grant_waiters(PERESOURCE r)
{
    while (!IsListEmpty(&r->Waiters)) {
        struct fltsim_wait_block *wb =
            CONTAINING_RECORD(r->Waiters.Flink, struct fltsim_wait_block, link);
        PVOID thread = wb->thread;
        bool free_now = r->ExclusiveCount == 0 && (wb->exclusive ? r->SharedCount == 0 : true);
        if (!free_now)
            return;
        RemoveEntryList(&wb->link);
        take(r, thread, wb->exclusive);
        wb->satisfied = true;
        fltsim__unpark(wb->thread);
        if (wb->exclusive)
            return;
    }
}

static BOOLEAN acquire(PERESOURCE r, BOOLEAN wait, bool exclusive, const char *api)
{
    if (!resource_checks(r, api))
        return FALSE;
    PVOID self = fltsim__current_sthread();
    fltsim__dispatcher_lock();
    if (exclusive && r->ExclusiveCount == 0) {
        struct shared_owner *mine = shared_slot(r, self, false);
        if (mine != NULL && mine->count != 0) {
            fltsim__dispatcher_unlock();
            fltsim__ke_fatal("an ERESOURCE held shared was acquired exclusive by the same thread "
                             "(deadlock)");
        }
    }
    if (can_take(r, self, exclusive)) {
        take(r, self, exclusive);
        fltsim__dispatcher_unlock();
        return TRUE;
    }
    if (!wait) {
        fltsim__dispatcher_unlock();
        return FALSE;
    }
    fltsim__dispatcher_unlock();
    fltsim__check_blocking(api, "blocks on a resource another thread holds");
    fltsim__dispatcher_lock();
    if (can_take(r, self, exclusive)) {
        take(r, self, exclusive);
        fltsim__dispatcher_unlock();
        return TRUE;
    }
    struct fltsim_wait_block wb = {.thread = self, .exclusive = exclusive};
    InsertTailList(&r->Waiters, &wb.link);
    while (!wb.satisfied) {
        fltsim__dispatcher_unlock();
        fltsim__park(0);
        fltsim__dispatcher_lock();
    }
    fltsim__dispatcher_unlock();
    return TRUE;
}

BOOLEAN ExAcquireResourceExclusiveLite(PERESOURCE Resource, BOOLEAN Wait)
{
    return acquire(Resource, Wait, true, "ExAcquireResourceExclusiveLite");
}

BOOLEAN ExAcquireResourceSharedLite(PERESOURCE Resource, BOOLEAN Wait)
{
    return acquire(Resource, Wait, false, "ExAcquireResourceSharedLite");
}

void ExReleaseResourceLite(PERESOURCE Resource)
{
    PVOID self = fltsim__current_sthread();
    fltsim__dispatcher_lock();
    if (Resource->ExclusiveCount != 0 && Resource->ExclusiveOwner == self) {
        if (--Resource->ExclusiveCount == 0)
            Resource->ExclusiveOwner = NULL;
    } else {
        struct shared_owner *mine = shared_slot(Resource, self, false);
        if (mine == NULL || mine->count == 0) {
            fltsim__dispatcher_unlock();
            fltsim__ke_report("KE", "-",
                              "ExReleaseResourceLite of a resource this thread does not hold");
            return;
        }
        mine->count--;
        Resource->SharedCount--;
    }
    grant_waiters(Resource);
    fltsim__dispatcher_unlock();
}

BOOLEAN ExIsResourceAcquiredExclusiveLite(PERESOURCE Resource)
{
    fltsim__dispatcher_lock();
    BOOLEAN mine = Resource->ExclusiveCount != 0 &&
                   Resource->ExclusiveOwner == (PVOID)fltsim__current_sthread();
    fltsim__dispatcher_unlock();
    return mine;
}

ULONG ExIsResourceAcquiredSharedLite(PERESOURCE Resource)
{
    PVOID self = fltsim__current_sthread();
    fltsim__dispatcher_lock();
    ULONG count = 0;
    if (Resource->ExclusiveCount != 0 && Resource->ExclusiveOwner == self)
        count = (ULONG)Resource->ExclusiveCount;
    else {
        struct shared_owner *mine = shared_slot(Resource, self, false);
        count = mine != NULL ? (ULONG)mine->count : 0;
    }
    fltsim__dispatcher_unlock();
    return count;
}

/* ---- FltMgr's resource wrappers ---- */

/* They enter the critical region for their caller; the IRQL rule is checked
 * once, by the resource routine. */

VOID FltAcquireResourceExclusive(PERESOURCE Resource)
{
    fltsim__critical_region_enter();
    ExAcquireResourceExclusiveLite(Resource, TRUE);
}

VOID FltAcquireResourceShared(PERESOURCE Resource)
{
    fltsim__critical_region_enter();
    ExAcquireResourceSharedLite(Resource, TRUE);
}

VOID FltReleaseResource(PERESOURCE Resource)
{
    ExReleaseResourceLite(Resource);
    fltsim__critical_region_leave("FltReleaseResource");
}
