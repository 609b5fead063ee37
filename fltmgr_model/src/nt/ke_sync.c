/*
 * Kernel synchronization for filter code: events and waits, time, spin locks,
 * fast mutexes and executive resources (issue 3, item 6). All dispatcher
 * state is guarded by one dispatcher lock, as in NT; a waiting thread queues a
 * wait block on the object and parks, and whoever satisfies it unparks it
 * under that lock, so a waiter never returns while its waker still touches
 * its wait block. Parking goes through the executor, so the same code blocks
 * an OS thread or lets the deterministic executor run another coroutine.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/executor.h"

/* 100 ns units between 1601-01-01 and 1970-01-01. */
#define EPOCH_1601_TO_1970 116444736000000000ULL
/* Virtual time of the deterministic executor starts at 2024-01-01. */
#define VIRTUAL_EPOCH 133485408000000000ULL

#define EVENT_SIZE_MARK ((UCHAR)(sizeof(KEVENT) / sizeof(LONG)))

static uv_once_t dispatcher_once = UV_ONCE_INIT;
static uv_mutex_t dispatcher_lock;

static void dispatcher_init(void)
{
    if (uv_mutex_init(&dispatcher_lock) != 0)
        abort();
}

static void dlock(void)
{
    uv_once(&dispatcher_once, dispatcher_init);
    uv_mutex_lock(&dispatcher_lock);
}

static void dunlock(void)
{
    uv_mutex_unlock(&dispatcher_lock);
}

struct wait_block {
    LIST_ENTRY link;
    struct fltsim_sthread *thread;
    bool satisfied;
    bool exclusive; /* resources */
};

static void ke_report(const char *rule, const char *spec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ke_report(const char *rule, const char *spec, const char *fmt, ...)
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

/* Something that cannot go on: say what and stop the process. */
static void ke_fatal(const char *message)
{
    ke_report("KE", "-", "%s", message);
    fprintf(stderr, "fltsim: fatal: %s\n", message);
    abort();
}

/* ---- time ---- */

void KeQuerySystemTime(PLARGE_INTEGER CurrentTime)
{
    if (fltsim__is_deterministic()) {
        CurrentTime->QuadPart = (LONGLONG)(VIRTUAL_EPOCH + fltsim__now_ns() / 100);
        return;
    }
    uv_timeval64_t tv;
    if (uv_gettimeofday(&tv) != 0) {
        CurrentTime->QuadPart = (LONGLONG)EPOCH_1601_TO_1970;
        return;
    }
    CurrentTime->QuadPart = (LONGLONG)(EPOCH_1601_TO_1970 + (ULONG64)tv.tv_sec * 10000000ULL +
                                       (ULONG64)tv.tv_usec * 10);
}

/* The park deadline for an NT timeout; *poll is set for a zero timeout. */
static ULONG64 deadline_of(const LARGE_INTEGER *timeout, bool *poll)
{
    *poll = false;
    if (timeout == NULL)
        return 0;
    LONGLONG t = timeout->QuadPart;
    if (t == 0) {
        *poll = true;
        return 0;
    }
    ULONG64 now = fltsim__now_ns();
    if (t < 0)
        return now + (ULONG64)(-t) * 100;
    LARGE_INTEGER sys_now;
    KeQuerySystemTime(&sys_now);
    if (t <= sys_now.QuadPart) {
        *poll = true;
        return 0;
    }
    return now + (ULONG64)(t - sys_now.QuadPart) * 100;
}

/* ---- events ---- */

void KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State)
{
    memset(Event, 0, sizeof(*Event));
    Event->Header.Type = (UCHAR)Type;
    Event->Header.Size = EVENT_SIZE_MARK;
    Event->Header.SignalState = State ? 1 : 0;
    InitializeListHead(&Event->Header.WaitListHead);
}

/* dispatcher lock held. Reports and repairs an event that was never
 * initialized (zeroed memory: a notification event, not signaled). */
static void check_event_locked(PRKEVENT Event, const char *api)
{
    if (Event->Header.Size == EVENT_SIZE_MARK && Event->Header.WaitListHead.Flink != NULL)
        return;
    dunlock();
    ke_report("KE", "-", "%s on a KEVENT that KeInitializeEvent never initialized", api);
    dlock();
    if (Event->Header.Size != EVENT_SIZE_MARK || Event->Header.WaitListHead.Flink == NULL) {
        Event->Header.Size = EVENT_SIZE_MARK;
        InitializeListHead(&Event->Header.WaitListHead);
    }
}

LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    (void)Increment;
    (void)Wait;
    if (KeGetCurrentIrql() > DISPATCH_LEVEL)
        ke_report("V28", "10", "KeSetEvent above DISPATCH_LEVEL");
    dlock();
    check_event_locked(Event, "KeSetEvent");
    LONG previous = Event->Header.SignalState;
    Event->Header.SignalState = 1;
    PLIST_ENTRY head = &Event->Header.WaitListHead;
    while (!IsListEmpty(head) && Event->Header.SignalState != 0) {
        struct wait_block *wb = CONTAINING_RECORD(RemoveHeadList(head), struct wait_block, link);
        wb->satisfied = true;
        /* A synchronization event wakes one waiter and resets itself. */
        if (Event->Header.Type == SynchronizationEvent)
            Event->Header.SignalState = 0;
        fltsim__unpark(wb->thread);
    }
    dunlock();
    return previous;
}

void KeClearEvent(PRKEVENT Event)
{
    dlock();
    check_event_locked(Event, "KeClearEvent");
    Event->Header.SignalState = 0;
    dunlock();
}

LONG KeResetEvent(PRKEVENT Event)
{
    dlock();
    check_event_locked(Event, "KeResetEvent");
    LONG previous = Event->Header.SignalState;
    Event->Header.SignalState = 0;
    dunlock();
    return previous;
}

LONG KeReadStateEvent(PRKEVENT Event)
{
    dlock();
    check_event_locked(Event, "KeReadStateEvent");
    LONG state = Event->Header.SignalState;
    dunlock();
    return state;
}

/* The IRQL rule for waits (SPEC 10, V28): above APC_LEVEL only a zero timeout. */
static bool wait_allowed(const char *api, bool poll)
{
    KIRQL irql = KeGetCurrentIrql();
    if (irql <= APC_LEVEL || (poll && irql <= DISPATCH_LEVEL))
        return true;
    ke_report("V28", "10",
              "%s with a non-zero timeout at IRQL %u; waits above APC_LEVEL must not block "
              "(fltsim polls instead)",
              api, (unsigned)irql);
    return false;
}

NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                               BOOLEAN Alertable, PLARGE_INTEGER Timeout)
{
    (void)WaitReason;
    (void)WaitMode;
    (void)Alertable;
    PRKEVENT event = Object;
    if (Object == NULL) {
        ke_report("KE", "-", "KeWaitForSingleObject on NULL");
        return STATUS_INVALID_PARAMETER;
    }
    if (event->Header.Type != NotificationEvent && event->Header.Type != SynchronizationEvent) {
        ke_report("SIM", "-",
                  "KeWaitForSingleObject: only KEVENT objects are modeled (object type %u)",
                  (unsigned)event->Header.Type);
        return STATUS_INVALID_PARAMETER;
    }
    bool poll;
    ULONG64 deadline = deadline_of(Timeout, &poll);
    if (!wait_allowed("KeWaitForSingleObject", poll))
        poll = true;
    if (!poll)
        fltsim__check_blocking("KeWaitForSingleObject", "waits");
    /* A wait is a scheduling point even when the object is signaled: the
     * deterministic executor may switch here, as a preemptive one could. */
    if (KeGetCurrentIrql() < DISPATCH_LEVEL)
        fltsim__yield();

    struct fltsim_sthread *self = fltsim__current_sthread();
    struct wait_block wb = {.thread = self};
    dlock();
    check_event_locked(event, "KeWaitForSingleObject");
    if (event->Header.SignalState != 0) {
        if (event->Header.Type == SynchronizationEvent)
            event->Header.SignalState = 0;
        dunlock();
        return STATUS_SUCCESS;
    }
    if (poll) {
        dunlock();
        return STATUS_TIMEOUT;
    }
    InsertTailList(&event->Header.WaitListHead, &wb.link);
    for (;;) {
        dunlock();
        bool unparked = fltsim__park(deadline);
        dlock();
        if (wb.satisfied) {
            dunlock();
            return STATUS_SUCCESS;
        }
        if (!unparked && deadline != 0 && fltsim__now_ns() >= deadline) {
            RemoveEntryList(&wb.link);
            dunlock();
            return STATUS_TIMEOUT;
        }
    }
}

NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                                PLARGE_INTEGER Interval)
{
    (void)WaitMode;
    (void)Alertable;
    bool poll;
    ULONG64 deadline = deadline_of(Interval, &poll);
    if (Interval == NULL) {
        ke_report("KE", "-", "KeDelayExecutionThread with a NULL interval");
        return STATUS_INVALID_PARAMETER;
    }
    if (!poll)
        fltsim__check_blocking("KeDelayExecutionThread", "waits");
    if (!wait_allowed("KeDelayExecutionThread", poll) || poll) {
        fltsim__yield();
        return STATUS_SUCCESS;
    }
    while (fltsim__now_ns() < deadline)
        fltsim__park(deadline);
    return STATUS_SUCCESS;
}

PKTHREAD KeGetCurrentThread(void)
{
    return fltsim_thread_current();
}

PETHREAD PsGetCurrentThread(void)
{
    return fltsim_thread_current();
}

void KeEnterCriticalRegion(void)
{
    fltsim__current_sthread()->critical_region++;
}

void KeLeaveCriticalRegion(void)
{
    struct fltsim_sthread *t = fltsim__current_sthread();
    if (t->critical_region <= 0) {
        ke_report("KE", "-", "KeLeaveCriticalRegion without KeEnterCriticalRegion");
        return;
    }
    t->critical_region--;
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
            ke_fatal("a spin lock was acquired by the thread that already holds it (deadlock)");
        if (fltsim__is_deterministic())
            ke_fatal("a spin lock is held by a simulated thread that is not running (it "
                     "blocked while holding it): deadlock");
        uv_sleep(0);
    }
}

static void spin_release(PKSPIN_LOCK lock, const char *api)
{
    ULONG_PTR self = (ULONG_PTR)fltsim__current_sthread();
    ULONG_PTR held = __atomic_load_n(lock, __ATOMIC_RELAXED);
    if (held != self)
        ke_report("KE", "-", "%s of a spin lock this thread does not hold", api);
    __atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock)
{
    KIRQL old;
    if (KeGetCurrentIrql() > DISPATCH_LEVEL)
        ke_report("V28", "10", "KeAcquireSpinLock above DISPATCH_LEVEL");
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
        ke_report("V28", "10", "KeAcquireSpinLockAtDpcLevel below DISPATCH_LEVEL");
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
        ke_fatal("a fast mutex was acquired by the thread that already owns it (deadlock)");
    if (InterlockedDecrement(&m->Count) != 0) {
        __atomic_add_fetch(&m->Contention, 1, __ATOMIC_RELAXED);
        KeWaitForSingleObject(&m->Event, Executive, KernelMode, FALSE, NULL);
    }
    __atomic_store_n(&m->Owner, self, __ATOMIC_RELAXED);
}

static void fast_mutex_give(PFAST_MUTEX m, const char *api)
{
    if (__atomic_load_n(&m->Owner, __ATOMIC_RELAXED) != (PVOID)fltsim__current_sthread())
        ke_report("KE", "-", "%s of a fast mutex this thread does not own", api);
    __atomic_store_n(&m->Owner, NULL, __ATOMIC_RELAXED);
    if (InterlockedIncrement(&m->Count) != 1)
        KeSetEvent(&m->Event, 0, FALSE);
}

void ExAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    KIRQL old;
    if (KeGetCurrentIrql() > APC_LEVEL)
        ke_report("V28", "10", "ExAcquireFastMutex above APC_LEVEL");
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
    dlock();
    bool busy = Resource->ExclusiveCount != 0 || Resource->SharedCount != 0 ||
                !IsListEmpty(&Resource->Waiters);
    free(Resource->SharedOwners);
    Resource->SharedOwners = NULL;
    Resource->SharedOwnersSize = 0;
    Resource->Initialized = 0;
    dunlock();
    if (busy)
        ke_report("KE", "-", "ExDeleteResourceLite of a resource that is held or waited for");
    return STATUS_SUCCESS;
}

static bool resource_checks(PERESOURCE r, const char *api)
{
    if (r->Initialized != RESOURCE_MARK) {
        ke_report("KE", "-", "%s on an ERESOURCE that ExInitializeResourceLite never initialized",
                  api);
        return false;
    }
    if (KeGetCurrentIrql() > APC_LEVEL)
        ke_report("V28", "10", "%s at IRQL %u; it may be called at APC_LEVEL or below", api,
                  (unsigned)KeGetCurrentIrql());
    else if (KeGetCurrentIrql() < APC_LEVEL && fltsim__current_sthread()->critical_region == 0)
        ke_report("V28", "10",
                  "%s with normal kernel APCs enabled; call KeEnterCriticalRegion first", api);
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
        if (CONTAINING_RECORD(e, struct wait_block, link)->exclusive)
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
        struct wait_block *wb = CONTAINING_RECORD(r->Waiters.Flink, struct wait_block, link);
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
    dlock();
    if (exclusive && r->ExclusiveCount == 0) {
        struct shared_owner *mine = shared_slot(r, self, false);
        if (mine != NULL && mine->count != 0) {
            dunlock();
            ke_fatal("an ERESOURCE held shared was acquired exclusive by the same thread "
                     "(deadlock)");
        }
    }
    if (can_take(r, self, exclusive)) {
        take(r, self, exclusive);
        dunlock();
        return TRUE;
    }
    if (!wait) {
        dunlock();
        return FALSE;
    }
    dunlock();
    fltsim__check_blocking(api, "blocks on a resource another thread holds");
    dlock();
    if (can_take(r, self, exclusive)) {
        take(r, self, exclusive);
        dunlock();
        return TRUE;
    }
    struct wait_block wb = {.thread = self, .exclusive = exclusive};
    InsertTailList(&r->Waiters, &wb.link);
    while (!wb.satisfied) {
        dunlock();
        fltsim__park(0);
        dlock();
    }
    dunlock();
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
    dlock();
    if (Resource->ExclusiveCount != 0 && Resource->ExclusiveOwner == self) {
        if (--Resource->ExclusiveCount == 0)
            Resource->ExclusiveOwner = NULL;
    } else {
        struct shared_owner *mine = shared_slot(Resource, self, false);
        if (mine == NULL || mine->count == 0) {
            dunlock();
            ke_report("KE", "-", "ExReleaseResourceLite of a resource this thread does not hold");
            return;
        }
        mine->count--;
        Resource->SharedCount--;
    }
    grant_waiters(Resource);
    dunlock();
}

BOOLEAN ExIsResourceAcquiredExclusiveLite(PERESOURCE Resource)
{
    dlock();
    BOOLEAN mine = Resource->ExclusiveCount != 0 &&
                   Resource->ExclusiveOwner == (PVOID)fltsim__current_sthread();
    dunlock();
    return mine;
}

ULONG ExIsResourceAcquiredSharedLite(PERESOURCE Resource)
{
    PVOID self = fltsim__current_sthread();
    dlock();
    ULONG count = 0;
    if (Resource->ExclusiveCount != 0 && Resource->ExclusiveOwner == self)
        count = (ULONG)Resource->ExclusiveCount;
    else {
        struct shared_owner *mine = shared_slot(Resource, self, false);
        count = mine != NULL ? (ULONG)mine->count : 0;
    }
    dunlock();
    return count;
}

/* ---- FltMgr's resource wrappers ---- */

VOID FltAcquireResourceExclusive(PERESOURCE Resource)
{
    KeEnterCriticalRegion();
    ExAcquireResourceExclusiveLite(Resource, TRUE);
}

VOID FltAcquireResourceShared(PERESOURCE Resource)
{
    KeEnterCriticalRegion();
    ExAcquireResourceSharedLite(Resource, TRUE);
}

VOID FltReleaseResource(PERESOURCE Resource)
{
    ExReleaseResourceLite(Resource);
    KeLeaveCriticalRegion();
}
