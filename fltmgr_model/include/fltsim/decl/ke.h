/*
 * Ke: IRQL, interlocked operations and the dispatcher objects (events,
 * spin locks, fast mutexes, executive resources) filters wait on.
 * Part of the WDK surface: include <wdm.h>, not this file.
 */
#ifndef FLTSIM_WDK_KE_H
#define FLTSIM_WDK_KE_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- IRQL (per simulated thread; see README "Threads and IRQL") ---- */

#define PASSIVE_LEVEL 0
#define LOW_LEVEL 0
#define APC_LEVEL 1
#define DISPATCH_LEVEL 2
#define CMCI_LEVEL 5
#define CLOCK_LEVEL 13
#define IPI_LEVEL 14
#define POWER_LEVEL 14
#define PROFILE_LEVEL 15
#define HIGH_LEVEL 15

/* KeGetCurrentIrql: the calling thread's simulated IRQL. */
KIRQL KeGetCurrentIrql(void);
/* KeRaiseIrql: raising to a lower level is reported (verifier V28) and ignored. */
void KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql);
/* KeLowerIrql: lowering to a higher level is reported (V28) and ignored. */
void KeLowerIrql(KIRQL NewIrql);
KIRQL KeRaiseIrqlToDpcLevel(void);

/* PAGED_CODE() reports (V28) when the caller runs above APC_LEVEL. */
void fltsim_paged_code(const char *function);
#define PAGED_CODE() fltsim_paged_code(__func__)
#define PAGED_CODE_LOCKED() ((void)0)

/* Assertions are always checked (as in a checked build): a failure is reported
 * to the verifier with the expression and place, and execution continues. */
void fltsim_assert_failed(const char *expression, const char *file, int line);
#define NT_ASSERT(e) ((e) ? (void)0 : fltsim_assert_failed(#e, __FILE__, __LINE__))
#define NT_ASSERTMSG(m, e) ((e) ? (void)0 : fltsim_assert_failed(m, __FILE__, __LINE__))
#define NT_VERIFY(e) NT_ASSERT(e)
#define ASSERT(e) NT_ASSERT(e)
#define ASSERTMSG(m, e) NT_ASSERTMSG(m, e)

typedef enum _MODE { KernelMode, UserMode, MaximumMode } MODE;

/* ---- interlocked operations (sequentially consistent, like the WDK's) ---- */

static inline LONG InterlockedIncrement(LONG volatile *Addend)
{
    return __atomic_add_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedDecrement(LONG volatile *Addend)
{
    return __atomic_sub_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedExchange(LONG volatile *Target, LONG Value)
{
    return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedExchangeAdd(LONG volatile *Addend, LONG Value)
{
    return __atomic_fetch_add(Addend, Value, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedAdd(LONG volatile *Addend, LONG Value)
{
    return __atomic_add_fetch(Addend, Value, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedCompareExchange(LONG volatile *Destination, LONG Exchange,
                                              LONG Comperand)
{
    __atomic_compare_exchange_n(Destination, &Comperand, Exchange, 0, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
    return Comperand;
}
static inline LONG InterlockedOr(LONG volatile *Destination, LONG Value)
{
    return __atomic_fetch_or(Destination, Value, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedAnd(LONG volatile *Destination, LONG Value)
{
    return __atomic_fetch_and(Destination, Value, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedXor(LONG volatile *Destination, LONG Value)
{
    return __atomic_fetch_xor(Destination, Value, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedIncrement64(LONG64 volatile *Addend)
{
    return __atomic_add_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedDecrement64(LONG64 volatile *Addend)
{
    return __atomic_sub_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedExchange64(LONG64 volatile *Target, LONG64 Value)
{
    return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedExchangeAdd64(LONG64 volatile *Addend, LONG64 Value)
{
    return __atomic_fetch_add(Addend, Value, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedAdd64(LONG64 volatile *Addend, LONG64 Value)
{
    return __atomic_add_fetch(Addend, Value, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedCompareExchange64(LONG64 volatile *Destination, LONG64 Exchange,
                                                  LONG64 Comperand)
{
    __atomic_compare_exchange_n(Destination, &Comperand, Exchange, 0, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
    return Comperand;
}
static inline PVOID InterlockedExchangePointer(PVOID volatile *Target, PVOID Value)
{
    return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}
static inline PVOID InterlockedCompareExchangePointer(PVOID volatile *Destination, PVOID Exchange,
                                                      PVOID Comperand)
{
    __atomic_compare_exchange_n(Destination, &Comperand, Exchange, 0, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
    return Comperand;
}
#define KeMemoryBarrier() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define MemoryBarrier() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define ReadAcquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define WriteRelease(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ReadNoFence(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define WriteNoFence(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* ---- dispatcher objects (the waits themselves come with the executors) ---- */

typedef enum _EVENT_TYPE { NotificationEvent, SynchronizationEvent } EVENT_TYPE;

typedef ULONG_PTR KSPIN_LOCK, *PKSPIN_LOCK;

typedef struct _DISPATCHER_HEADER {
    UCHAR Type;
    UCHAR Signalling;
    UCHAR Size;
    UCHAR Reserved1;
    LONG SignalState;
    LIST_ENTRY WaitListHead;
} DISPATCHER_HEADER;

typedef struct _KEVENT {
    DISPATCHER_HEADER Header;
} KEVENT, *PKEVENT, *PRKEVENT;

/* Mutexes (KMUTEX is the kernel's mutant): recursive, owned by a thread. */
typedef struct _KMUTANT {
    DISPATCHER_HEADER Header;
    LIST_ENTRY MutantListEntry;
    struct _KTHREAD *OwnerThread;
    union {
        UCHAR MutantFlags;
        struct {
            UCHAR Abandoned : 1;
            UCHAR Spare1 : 7;
        };
    };
    UCHAR ApcDisable;
} KMUTANT, *PKMUTANT, *PRKMUTANT, KMUTEX, *PKMUTEX, *PRKMUTEX;

typedef struct _KSEMAPHORE {
    DISPATCHER_HEADER Header;
    LONG Limit;
} KSEMAPHORE, *PKSEMAPHORE, *PRKSEMAPHORE;

/* ---- DPCs, timers, APCs and device queues (layouts as on x64) ---- */

typedef ULONG_PTR KAFFINITY, *PKAFFINITY;
struct _KDPC;
typedef VOID KDEFERRED_ROUTINE(struct _KDPC *Dpc, PVOID DeferredContext, PVOID SystemArgument1,
                               PVOID SystemArgument2);
typedef KDEFERRED_ROUTINE *PKDEFERRED_ROUTINE;

typedef struct _KDPC {
    union {
        ULONG TargetInfoAsUlong;
        struct {
            UCHAR Type;
            UCHAR Importance;
            volatile USHORT Number;
        };
    };
    SINGLE_LIST_ENTRY DpcListEntry;
    KAFFINITY ProcessorHistory;
    PKDEFERRED_ROUTINE DeferredRoutine;
    PVOID DeferredContext;
    PVOID SystemArgument1;
    PVOID SystemArgument2;
    volatile PVOID DpcData;
} KDPC, *PKDPC, *PRKDPC;

typedef struct _KTIMER {
    DISPATCHER_HEADER Header;
    ULARGE_INTEGER DueTime;
    LIST_ENTRY TimerListEntry;
    struct _KDPC *Dpc;
    ULONG Processor;
    ULONG Period;
} KTIMER, *PKTIMER, *PRKTIMER;

typedef enum _TIMER_TYPE { NotificationTimer, SynchronizationTimer } TIMER_TYPE;

typedef struct _KAPC {
    UCHAR Type;
    UCHAR SpareByte0;
    UCHAR Size;
    UCHAR SpareByte1;
    ULONG SpareLong0;
    struct _KTHREAD *Thread;
    LIST_ENTRY ApcListEntry;
    PVOID Reserved[3];
    PVOID NormalContext;
    PVOID SystemArgument1;
    PVOID SystemArgument2;
    CCHAR ApcStateIndex;
    KPROCESSOR_MODE ApcMode;
    BOOLEAN Inserted;
} KAPC, *PKAPC, *PRKAPC;

typedef struct _KDEVICE_QUEUE_ENTRY {
    LIST_ENTRY DeviceListEntry;
    ULONG SortKey;
    BOOLEAN Inserted;
} KDEVICE_QUEUE_ENTRY, *PKDEVICE_QUEUE_ENTRY, *PRKDEVICE_QUEUE_ENTRY;

typedef struct _KDEVICE_QUEUE {
    CSHORT Type;
    CSHORT Size;
    LIST_ENTRY DeviceListHead;
    KSPIN_LOCK Lock;
    union {
        BOOLEAN Busy;
        struct {
            LONG64 Reserved : 8;
            LONG64 Hint : 56;
        };
    };
} KDEVICE_QUEUE, *PKDEVICE_QUEUE, *PRKDEVICE_QUEUE;

typedef enum _KWAIT_REASON {
    Executive,
    FreePage,
    PageIn,
    PoolAllocation,
    DelayExecution,
    Suspended,
    UserRequest
} KWAIT_REASON;

/* Waits block the calling simulated thread; under the deterministic executor
 * other simulated threads run meanwhile (and a wait nothing can satisfy is a
 * deadlock it describes). Timeouts follow the NT convention: NULL waits
 * forever, 0 polls, negative is relative and positive absolute (100 ns
 * units). A wait with a timeout other than 0 above APC_LEVEL is reported
 * (V28) and polls instead of blocking. Alertable waits and APCs are not
 * modeled (Alertable is ignored; STATUS_ALERTED and STATUS_USER_APC are never
 * returned). */
void KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State);
LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait);
void KeClearEvent(PRKEVENT Event);
LONG KeResetEvent(PRKEVENT Event);
LONG KeReadStateEvent(PRKEVENT Event);
#define IO_NO_INCREMENT 0
/* Object must be a KEVENT, KMUTEX or KSEMAPHORE (the dispatcher objects
 * fltsim models; another is reported and gets STATUS_INVALID_PARAMETER). */
NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                               BOOLEAN Alertable, PLARGE_INTEGER Timeout);
NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                                PLARGE_INTEGER Interval);

typedef enum _WAIT_TYPE { WaitAll, WaitAny, WaitNotification, WaitDequeue, WaitDpc } WAIT_TYPE;

#define THREAD_WAIT_OBJECTS 3
#define MAXIMUM_WAIT_OBJECTS 64

typedef struct _KWAIT_BLOCK {
    LIST_ENTRY WaitListEntry;
    UCHAR WaitType;
    volatile UCHAR BlockState;
    USHORT WaitKey;
    LONG SpareLong;
    union {
        struct _KTHREAD *Thread;
        struct _KQUEUE *NotificationQueue;
        struct _KDPC *Dpc;
    };
    PVOID Object;
    PVOID SparePtr;
} KWAIT_BLOCK, *PKWAIT_BLOCK, *PRKWAIT_BLOCK;

/* KeWaitForMultipleObjects: Count objects (at most MAXIMUM_WAIT_OBJECTS; more
 * than THREAD_WAIT_OBJECTS need a WaitBlockArray of Count blocks: where
 * Windows bug checks (0xC), fltsim reports and returns
 * STATUS_INVALID_PARAMETER); WaitAny returns STATUS_WAIT_0 + the index of the
 * object that satisfied the wait, WaitAll STATUS_SUCCESS once every object is
 * signaled at the same time. */
NTSTATUS KeWaitForMultipleObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType,
                                  KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                                  BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                                  PKWAIT_BLOCK WaitBlockArray);

/* A mutex is acquired by waiting on it (recursively by its owner) and
 * disables normal kernel APCs while owned; only its owner may release it
 * (Windows bug checks otherwise; fltsim reports and ignores the release).
 * Releasing a semaphore past its limit is reported and leaves the count (as
 * Windows, which raises STATUS_SEMAPHORE_LIMIT_EXCEEDED). */
void KeInitializeMutex(PRKMUTEX Mutex, ULONG Level);
#define KeWaitForMutexObject KeWaitForSingleObject
LONG KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait);
LONG KeReadStateMutex(PRKMUTEX Mutex);
void KeInitializeSemaphore(PRKSEMAPHORE Semaphore, LONG Count, LONG Limit);
LONG KeReleaseSemaphore(PRKSEMAPHORE Semaphore, KPRIORITY Increment, LONG Adjustment, BOOLEAN Wait);
LONG KeReadStateSemaphore(PRKSEMAPHORE Semaphore);

void KeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext);
BOOLEAN KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2);
BOOLEAN KeRemoveQueueDpc(PRKDPC Dpc);
void KeFlushQueuedDpcs(void);
void KeInitializeTimer(PKTIMER Timer);
void KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type);
BOOLEAN KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc);
BOOLEAN KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc);
BOOLEAN KeCancelTimer(PKTIMER Timer);
BOOLEAN KeReadStateTimer(PKTIMER Timer);
/* System time, 100 ns units since 1601 (UTC): real time, or virtual under the
 * deterministic executor (from 2024-01-01 at the system's creation). It
 * moves once per clock tick (KeQueryTimeIncrement), as on Windows;
 * KeQuerySystemTimePrecise has the full resolution. */
void KeQuerySystemTime(PLARGE_INTEGER CurrentTime);
PKTHREAD KeGetCurrentThread(void);
PETHREAD PsGetCurrentThread(void);
void KeEnterCriticalRegion(void);
void KeLeaveCriticalRegion(void);
/* Critical and guarded regions nest, per thread, at APC_LEVEL or below;
 * leaving one never entered is reported. */
/* TRUE inside a critical or guarded region, while owning a KMUTEX, or at
 * APC_LEVEL and above. */
BOOLEAN KeAreApcsDisabled(void);
/* TRUE inside a guarded region or at APC_LEVEL and above. */
BOOLEAN KeAreAllApcsDisabled(void);
void KeEnterGuardedRegion(void);
void KeLeaveGuardedRegion(void);

/* ---- time and counters ---- */

/* Every clock follows the executor: virtual time under the deterministic
 * executor (a seed replays the same readings; "boot" is the system's
 * creation), the host's clocks under the concurrent one. */
/* KeQuerySystemTimePrecise: the system time at the finest resolution. */
void KeQuerySystemTimePrecise(PLARGE_INTEGER CurrentTime);
/* KeQueryTickCount: clock ticks since boot; KeQueryTimeIncrement gives the
 * 100 ns units per tick (156250: 15.625 ms). */
void KeQueryTickCount(PLARGE_INTEGER CurrentCount);
ULONG KeQueryTimeIncrement(void);
/* KeQueryPerformanceCounter: the counter, and its frequency in counts per
 * second (10 MHz) when PerformanceFrequency is not NULL. */
LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency);
/* Interrupt time: 100 ns units since boot, as of the last clock tick; the
 * precise form to the 100 ns, with the performance counter reading it came
 * from. */
ULONGLONG KeQueryInterruptTime(void);
ULONGLONG KeQueryInterruptTimePrecise(PULONG64 QpcTimeStamp);
/* A busy wait: real under the concurrent executor; under the deterministic
 * one virtual time moves on and no other simulated thread runs meanwhile. */
void KeStallExecutionProcessor(ULONG MicroSeconds);

/* Spin locks raise to DISPATCH_LEVEL. Acquiring one the thread already holds
 * deadlocks on Windows; fltsim reports it and aborts. */
KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock);
#define KeAcquireSpinLock(SpinLock, OldIrql) (*(OldIrql) = KeAcquireSpinLockRaiseToDpc(SpinLock))
void KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql);
void KeInitializeSpinLock(PKSPIN_LOCK SpinLock);
void KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock);
void KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock);

typedef struct _KSPIN_LOCK_QUEUE {
    struct _KSPIN_LOCK_QUEUE *volatile Next;
    PKSPIN_LOCK volatile Lock;
} KSPIN_LOCK_QUEUE, *PKSPIN_LOCK_QUEUE;

typedef struct _KLOCK_QUEUE_HANDLE {
    KSPIN_LOCK_QUEUE LockQueue;
    KIRQL OldIrql;
} KLOCK_QUEUE_HANDLE, *PKLOCK_QUEUE_HANDLE;

void KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle);
void KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle);

/* Fast mutexes raise to APC_LEVEL; the field layout is the WDK's. */
typedef struct _FAST_MUTEX {
    LONG Count;
    PVOID Owner;
    ULONG Contention;
    KEVENT Event;
    ULONG OldIrql;
} FAST_MUTEX, *PFAST_MUTEX;

void ExInitializeFastMutex(PFAST_MUTEX FastMutex);
void ExAcquireFastMutex(PFAST_MUTEX FastMutex);
void ExReleaseFastMutex(PFAST_MUTEX FastMutex);
BOOLEAN ExTryToAcquireFastMutex(PFAST_MUTEX FastMutex);
void ExAcquireFastMutexUnsafe(PFAST_MUTEX FastMutex);
void ExReleaseFastMutexUnsafe(PFAST_MUTEX FastMutex);

/* Executive resources (shared/exclusive, recursive). The fields are private
 * to fltsim; filters only pass the structure's address. Acquiring needs normal
 * kernel APCs disabled (KeEnterCriticalRegion) or APC_LEVEL. */
typedef struct _ERESOURCE {
    LIST_ENTRY Waiters;
    PVOID ExclusiveOwner;
    LONG ExclusiveCount;
    LONG SharedCount;
    PVOID SharedOwners;
    ULONG SharedOwnersSize;
    ULONG Initialized;
} ERESOURCE;

NTSTATUS ExInitializeResourceLite(PERESOURCE Resource);
NTSTATUS ExDeleteResourceLite(PERESOURCE Resource);
BOOLEAN ExAcquireResourceExclusiveLite(PERESOURCE Resource, BOOLEAN Wait);
BOOLEAN ExAcquireResourceSharedLite(PERESOURCE Resource, BOOLEAN Wait);
void ExReleaseResourceLite(PERESOURCE Resource);
BOOLEAN ExIsResourceAcquiredExclusiveLite(PERESOURCE Resource);
ULONG ExIsResourceAcquiredSharedLite(PERESOURCE Resource);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_KE_H */
