/*
 * The wait engine: KeWaitForSingleObject, KeWaitForMultipleObjects (WaitAny
 * and WaitAll over events, mutexes and semaphores) and KeDelayExecutionThread
 * (issue 3 item 6, issue 15 item 4). A waiting thread links one wait block
 * per object onto the objects' wait lists and parks through the executor;
 * whoever raises an object's state (fltsim__dispatcher_signal_locked, under
 * the dispatcher lock) satisfies the waits it can, with their side effects,
 * and unparks their threads. The objects themselves are ke_sync.c's (events)
 * and ke_mutex.c's (mutexes, semaphores).
 */
#include <string.h>

#include "nt_internal.h"

/* One thread's wait on Count dispatcher objects. */
struct fltsim_wait {
    struct fltsim_sthread *thread;
    PKTHREAD kthread; /* what a mutex it acquires records as OwnerThread */
    WAIT_TYPE type;
    ULONG count;
    struct fltsim_wait_block *blocks;
    LONG satisfied; /* the index that satisfied a WaitAny (0: WaitAll); -1 while waiting */
};

enum object_kind { KIND_EVENT, KIND_MUTANT, KIND_SEMAPHORE, KIND_OTHER };

/* dispatcher lock held. What an object is; memory no KeInitializeXxx has
 * seen (zeroes included) is reported and repaired as a notification event,
 * as the event routines do, unless it claims another type. */
static enum object_kind kind_locked(DISPATCHER_HEADER *h, const char *api)
{
    switch (h->Type) {
    case FLTSIM_MUTANT_OBJECT:
        if (h->Size == FLTSIM_MUTANT_SIZE && h->WaitListHead.Flink != NULL)
            return KIND_MUTANT;
        return KIND_OTHER;
    case FLTSIM_SEMAPHORE_OBJECT:
        if (h->Size == FLTSIM_SEMAPHORE_SIZE && h->WaitListHead.Flink != NULL)
            return KIND_SEMAPHORE;
        return KIND_OTHER;
    case NotificationEvent:
    case SynchronizationEvent:
        fltsim__event_check_locked(CONTAINING_RECORD(h, KEVENT, Header), api);
        return KIND_EVENT;
    default:
        return KIND_OTHER;
    }
}

/* dispatcher lock held. Whether the object lets w through now. */
static bool signaled_for(DISPATCHER_HEADER *h, const struct fltsim_wait *w)
{
    if (h->Type == FLTSIM_MUTANT_OBJECT)
        return h->SignalState > 0 || CONTAINING_RECORD(h, KMUTANT, Header)->MutantListEntry.Flink ==
                                         (PLIST_ENTRY)(void *)w->thread;
    return h->SignalState > 0;
}

/* dispatcher lock held. The side effect of satisfying a wait on the object:
 * a synchronization event resets, a semaphore's count falls by one, a mutex
 * becomes (or stays, one level deeper) the waiter's. */
static void consume(struct fltsim_wait_block *wb)
{
    DISPATCHER_HEADER *h = wb->object;
    switch (h->Type) {
    case SynchronizationEvent:
        h->SignalState = 0;
        break;
    case FLTSIM_SEMAPHORE_OBJECT:
        h->SignalState--;
        break;
    case FLTSIM_MUTANT_OBJECT: {
        PKMUTANT m = CONTAINING_RECORD(h, KMUTANT, Header);
        if (h->SignalState == 1) {
            /* The owner is recorded twice: OwnerThread as the WDK keeps it,
             * and the simulated thread in MutantListEntry.Flink (the
             * kernel's link in its owner's mutex list, which fltsim does
             * not keep), which stays right across identity changes. */
            m->OwnerThread = wb->wait->kthread;
            m->MutantListEntry.Flink = (PLIST_ENTRY)(void *)wb->wait->thread;
            wb->took_mutex = true;
        }
        h->SignalState--;
        break;
    }
    default:
        break;
    }
}

/* dispatcher lock held. Unlinks every block of w still queued. */
static void unlink_all(struct fltsim_wait *w)
{
    for (ULONG i = 0; i < w->count; i++) {
        if (w->blocks[i].linked) {
            RemoveEntryList(&w->blocks[i].link);
            w->blocks[i].linked = false;
        }
    }
}

/* dispatcher lock held. Satisfies w now if it can: WaitAny by its first
 * signaled object (from index `first` on, wrapping), WaitAll when every object
 * is signaled at once. */
static bool try_satisfy(struct fltsim_wait *w, ULONG first)
{
    if (w->type == WaitAny) {
        for (ULONG k = 0; k < w->count; k++) {
            ULONG i = (first + k) % w->count;
            if (signaled_for(w->blocks[i].object, w)) {
                consume(&w->blocks[i]);
                w->satisfied = (LONG)i;
                return true;
            }
        }
        return false;
    }
    for (ULONG i = 0; i < w->count; i++)
        if (!signaled_for(w->blocks[i].object, w))
            return false;
    for (ULONG i = 0; i < w->count; i++)
        consume(&w->blocks[i]);
    w->satisfied = 0;
    return true;
}

void fltsim__dispatcher_signal_locked(DISPATCHER_HEADER *object)
{
    /* Each satisfied wait leaves every list it was on (this one included,
     * possibly more than once), so the scan starts over after each. */
    bool again = true;
    while (again && object->SignalState > 0) {
        again = false;
        PLIST_ENTRY head = &object->WaitListHead;
        for (PLIST_ENTRY e = head->Flink; e != head; e = e->Flink) {
            struct fltsim_wait_block *wb = CONTAINING_RECORD(e, struct fltsim_wait_block, link);
            struct fltsim_wait *w = wb->wait;
            if (!try_satisfy(w, wb->index))
                continue;
            unlink_all(w);
            for (ULONG i = 0; i < w->count; i++)
                w->blocks[i].satisfied = true;
            fltsim__unpark(w->thread);
            again = true;
            break;
        }
    }
}

/* ---- timeouts ---- */

/* The park deadline for an NT timeout; *poll is set for a zero timeout or an
 * absolute time already past. NULL waits forever (deadline 0). */
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
    LONGLONG sys_now = fltsim__system_time_precise();
    if (t <= sys_now) {
        *poll = true;
        return 0;
    }
    return now + (ULONG64)(t - sys_now) * 100;
}

/* The IRQL rule for waits (SPEC 10, V28): above APC_LEVEL only a zero
 * timeout, and nothing above DISPATCH_LEVEL. */
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

/* ---- waits ---- */

static NTSTATUS wait_objects(ULONG count, PVOID objects[], WAIT_TYPE type, KPROCESSOR_MODE mode,
                             PLARGE_INTEGER timeout, const char *api,
                             struct fltsim_wait_block *blocks)
{
    bool poll;
    ULONG64 deadline = deadline_of(timeout, &poll);
    if (!wait_allowed(api, poll))
        poll = true;
    if (!poll)
        fltsim__check_blocking(api, "waits");

    struct fltsim_sthread *self = fltsim__current_sthread();
    struct fltsim_wait w = {
        .thread = self, .type = type, .count = count, .blocks = blocks, .satisfied = -1};
    w.kthread = KeGetCurrentThread();
    memset(blocks, 0, count * sizeof(*blocks));

    /* A wait is a scheduling point even when it is satisfied at once: the
     * deterministic executor may switch here, as a preemptive one could. */
    if (KeGetCurrentIrql() < DISPATCH_LEVEL)
        fltsim__yield();

    bool has_mutex = false;
    fltsim__dispatcher_lock();
    for (ULONG i = 0; i < count; i++) {
        DISPATCHER_HEADER *h = objects[i];
        enum object_kind kind = kind_locked(h, api);
        if (kind == KIND_OTHER) {
            UCHAR type_code = h->Type;
            fltsim__dispatcher_unlock();
            fltsim__ke_report("SIM", "-",
                              "%s: object %lu (type %u) is not an initialized event, mutex or "
                              "semaphore, the dispatcher objects fltsim models",
                              api, (unsigned long)i, (unsigned)type_code);
            return STATUS_INVALID_PARAMETER;
        }
        has_mutex |= kind == KIND_MUTANT;
        blocks[i].wait = &w;
        blocks[i].thread = self;
        blocks[i].object = h;
        blocks[i].index = i;
    }
    if (has_mutex && mode != KernelMode) {
        /* Reports are made outside the dispatcher lock; nothing of the wait
         * is queued yet. */
        fltsim__dispatcher_unlock();
        fltsim__ke_report("KE", "-",
                          "%s on a mutex with WaitMode UserMode; a wait that includes a mutex "
                          "must be a KernelMode wait",
                          api);
        fltsim__dispatcher_lock();
    }

    NTSTATUS status;
    if (try_satisfy(&w, 0)) {
        status = STATUS_SUCCESS;
    } else if (poll) {
        status = STATUS_TIMEOUT;
    } else {
        for (ULONG i = 0; i < count; i++) {
            InsertTailList(&blocks[i].object->WaitListHead, &blocks[i].link);
            blocks[i].linked = true;
        }
        for (;;) {
            fltsim__dispatcher_unlock();
            bool unparked = fltsim__park(deadline);
            fltsim__dispatcher_lock();
            if (w.satisfied >= 0) {
                status = STATUS_SUCCESS;
                break;
            }
            if (!unparked && deadline != 0 && fltsim__now_ns() >= deadline) {
                unlink_all(&w);
                status = STATUS_TIMEOUT;
                break;
            }
        }
    }
    fltsim__dispatcher_unlock();
    if (status != STATUS_SUCCESS)
        return status;
    /* Owning a mutex disables normal kernel APCs until its last release
     * (ke_mutex.c undoes it); the owner counts it, not its waker. */
    for (ULONG i = 0; i < count; i++)
        if (blocks[i].took_mutex)
            self->mutexes_owned++;
    return type == WaitAny ? (NTSTATUS)(STATUS_WAIT_0 + w.satisfied) : STATUS_SUCCESS;
}

NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                               BOOLEAN Alertable, PLARGE_INTEGER Timeout)
{
    (void)WaitReason;
    (void)Alertable;
    if (Object == NULL) {
        fltsim__ke_report("KE", "-", "KeWaitForSingleObject on NULL");
        return STATUS_INVALID_PARAMETER;
    }
    struct fltsim_wait_block block;
    return wait_objects(1, &Object, WaitAny, WaitMode, Timeout, "KeWaitForSingleObject", &block);
}

NTSTATUS KeWaitForMultipleObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType,
                                  KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                                  BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                                  PKWAIT_BLOCK WaitBlockArray)
{
    (void)WaitReason;
    (void)Alertable;
    if (Count > MAXIMUM_WAIT_OBJECTS || (WaitBlockArray == NULL && Count > THREAD_WAIT_OBJECTS)) {
        fltsim__ke_report("KE", "-",
                          "KeWaitForMultipleObjects with Count %lu%s: at most %u objects with a "
                          "WaitBlockArray, %u without (Windows: bug check 0xC, "
                          "MAXIMUM_WAIT_OBJECTS_EXCEEDED)",
                          (unsigned long)Count,
                          WaitBlockArray == NULL ? " and no WaitBlockArray" : "",
                          (unsigned)MAXIMUM_WAIT_OBJECTS, (unsigned)THREAD_WAIT_OBJECTS);
        return STATUS_INVALID_PARAMETER;
    }
    if (Count == 0 || Object == NULL) {
        fltsim__ke_report("KE", "-", "KeWaitForMultipleObjects with %s",
                          Count == 0 ? "Count 0" : "a NULL Object array");
        return STATUS_INVALID_PARAMETER;
    }
    if (WaitType != WaitAll && WaitType != WaitAny) {
        fltsim__ke_report("KE", "-",
                          "KeWaitForMultipleObjects with WaitType %d; it must be WaitAll or "
                          "WaitAny",
                          (int)WaitType);
        return STATUS_INVALID_PARAMETER;
    }
    for (ULONG i = 0; i < Count; i++) {
        if (Object[i] == NULL) {
            fltsim__ke_report("KE", "-", "KeWaitForMultipleObjects: Object[%lu] is NULL",
                              (unsigned long)i);
            return STATUS_INVALID_PARAMETER;
        }
    }
    /* The caller's wait blocks are the kernel's record of the wait: every
     * one of the Count is written, so an array shorter than the WDK asks
     * for is caught (AddressSanitizer) where Windows would corrupt memory.
     * fltsim keeps its own records beside them. */
    if (WaitBlockArray != NULL) {
        PKTHREAD thread = KeGetCurrentThread();
        for (ULONG i = 0; i < Count; i++) {
            memset(&WaitBlockArray[i], 0, sizeof(WaitBlockArray[i]));
            WaitBlockArray[i].WaitType = (UCHAR)WaitType;
            WaitBlockArray[i].WaitKey = (USHORT)i;
            WaitBlockArray[i].Thread = thread;
            WaitBlockArray[i].Object = Object[i];
        }
    }
    struct fltsim_wait_block blocks[MAXIMUM_WAIT_OBJECTS];
    return wait_objects(Count, Object, WaitType, WaitMode, Timeout, "KeWaitForMultipleObjects",
                        blocks);
}

NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                                PLARGE_INTEGER Interval)
{
    (void)WaitMode;
    (void)Alertable;
    if (Interval == NULL) {
        fltsim__ke_report("KE", "-", "KeDelayExecutionThread with a NULL interval");
        return STATUS_INVALID_PARAMETER;
    }
    bool poll;
    ULONG64 deadline = deadline_of(Interval, &poll);
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
