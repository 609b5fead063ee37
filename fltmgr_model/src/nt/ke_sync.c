/*
 * Kernel synchronization for filter code: events and waits, time, critical
 * regions and spin locks (issue 3, item 6). All dispatcher state is guarded
 * by one dispatcher lock, as in NT; a waiting thread queues a wait block on
 * the object and parks, and whoever satisfies it unparks it under that lock,
 * so a waiter never returns while its waker still touches its wait block.
 * Parking goes through the executor, so the same code blocks an OS thread or
 * lets the deterministic executor run another coroutine. The lock, the wait
 * block and the reports are shared with ex_sync.c (fast mutexes, resources)
 * through nt_internal.h; IRQL is ke_irql.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "nt_internal.h"

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
    fltsim__dispatcher_unlock();
    fltsim__ke_report("KE", "-", "%s on a KEVENT that KeInitializeEvent never initialized", api);
    fltsim__dispatcher_lock();
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
        fltsim__ke_report("V28", "10", "KeSetEvent above DISPATCH_LEVEL");
    fltsim__dispatcher_lock();
    check_event_locked(Event, "KeSetEvent");
    LONG previous = Event->Header.SignalState;
    Event->Header.SignalState = 1;
    PLIST_ENTRY head = &Event->Header.WaitListHead;
    while (!IsListEmpty(head) && Event->Header.SignalState != 0) {
        struct fltsim_wait_block *wb =
            CONTAINING_RECORD(RemoveHeadList(head), struct fltsim_wait_block, link);
        wb->satisfied = true;
        /* A synchronization event wakes one waiter and resets itself. */
        if (Event->Header.Type == SynchronizationEvent)
            Event->Header.SignalState = 0;
        fltsim__unpark(wb->thread);
    }
    fltsim__dispatcher_unlock();
    return previous;
}

void KeClearEvent(PRKEVENT Event)
{
    fltsim__dispatcher_lock();
    check_event_locked(Event, "KeClearEvent");
    Event->Header.SignalState = 0;
    fltsim__dispatcher_unlock();
}

LONG KeResetEvent(PRKEVENT Event)
{
    fltsim__dispatcher_lock();
    check_event_locked(Event, "KeResetEvent");
    LONG previous = Event->Header.SignalState;
    Event->Header.SignalState = 0;
    fltsim__dispatcher_unlock();
    return previous;
}

LONG KeReadStateEvent(PRKEVENT Event)
{
    fltsim__dispatcher_lock();
    check_event_locked(Event, "KeReadStateEvent");
    LONG state = Event->Header.SignalState;
    fltsim__dispatcher_unlock();
    return state;
}

/* The IRQL rule for waits (SPEC 10, V28): above APC_LEVEL only a zero timeout. */
static bool wait_allowed(const char *api, bool poll)
{
    KIRQL irql = KeGetCurrentIrql();
    if (irql <= APC_LEVEL || (poll && irql <= DISPATCH_LEVEL))
        return true;
    fltsim__ke_report("V28", "10",
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
        fltsim__ke_report("KE", "-", "KeWaitForSingleObject on NULL");
        return STATUS_INVALID_PARAMETER;
    }
    if (event->Header.Type != NotificationEvent && event->Header.Type != SynchronizationEvent) {
        fltsim__ke_report("SIM", "-",
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
    struct fltsim_wait_block wb = {.thread = self};
    fltsim__dispatcher_lock();
    check_event_locked(event, "KeWaitForSingleObject");
    if (event->Header.SignalState != 0) {
        if (event->Header.Type == SynchronizationEvent)
            event->Header.SignalState = 0;
        fltsim__dispatcher_unlock();
        return STATUS_SUCCESS;
    }
    if (poll) {
        fltsim__dispatcher_unlock();
        return STATUS_TIMEOUT;
    }
    InsertTailList(&event->Header.WaitListHead, &wb.link);
    for (;;) {
        fltsim__dispatcher_unlock();
        bool unparked = fltsim__park(deadline);
        fltsim__dispatcher_lock();
        if (wb.satisfied) {
            fltsim__dispatcher_unlock();
            return STATUS_SUCCESS;
        }
        if (!unparked && deadline != 0 && fltsim__now_ns() >= deadline) {
            RemoveEntryList(&wb.link);
            fltsim__dispatcher_unlock();
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
        fltsim__ke_report("KE", "-", "KeDelayExecutionThread with a NULL interval");
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

/* ---- critical regions ---- */

void KeEnterCriticalRegion(void)
{
    fltsim__current_sthread()->critical_region++;
}

void KeLeaveCriticalRegion(void)
{
    struct fltsim_sthread *t = fltsim__current_sthread();
    if (t->critical_region <= 0) {
        fltsim__ke_report("KE", "-", "KeLeaveCriticalRegion without KeEnterCriticalRegion");
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
