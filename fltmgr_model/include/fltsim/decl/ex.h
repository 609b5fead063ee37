/*
 * Ex: the executive pool (counted per tag) and work queues.
 * Part of the WDK surface: include <wdm.h>, not this file.
 */
#ifndef FLTSIM_WDK_EX_H
#define FLTSIM_WDK_EX_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- pool (allocations are counted per tag; fltsim_pool.h reads the counts) ---- */

typedef enum _POOL_TYPE {
    NonPagedPool = 0,
    NonPagedPoolExecute = 0,
    PagedPool = 1,
    NonPagedPoolMustSucceed = 2,
    DontUseThisType = 3,
    NonPagedPoolCacheAligned = 4,
    PagedPoolCacheAligned = 5,
    NonPagedPoolCacheAlignedMustS = 6,
    MaxPoolType = 7,
    NonPagedPoolSession = 32,
    PagedPoolSession = 33,
    NonPagedPoolNx = 512,
    NonPagedPoolNxCacheAligned = 516,
    NonPagedPoolSessionNx = 544
} POOL_TYPE;

typedef ULONG64 POOL_FLAGS;
#define POOL_FLAG_REQUIRED_START 0x0000000000000001ULL
#define POOL_FLAG_USE_QUOTA 0x0000000000000001ULL
#define POOL_FLAG_UNINITIALIZED 0x0000000000000002ULL
#define POOL_FLAG_SESSION 0x0000000000000004ULL
#define POOL_FLAG_CACHE_ALIGNED 0x0000000000000008ULL
#define POOL_FLAG_RESERVED1 0x0000000000000010ULL
#define POOL_FLAG_RAISE_ON_FAILURE 0x0000000000000020ULL
#define POOL_FLAG_NON_PAGED 0x0000000000000040ULL
#define POOL_FLAG_NON_PAGED_EXECUTE 0x0000000000000080ULL
#define POOL_FLAG_PAGED 0x0000000000000100ULL
#define POOL_FLAG_REQUIRED_END 0x0000000080000000ULL
#define POOL_FLAG_OPTIONAL_START 0x0000000100000000ULL

/* ExAllocatePoolWithTag: uninitialized memory, or NULL. The tag is counted. */
PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag);
/* ExAllocatePool2: zeroed unless POOL_FLAG_UNINITIALIZED; NULL for a zero tag,
 * no pool type or an unknown required flag (as documented). With
 * POOL_FLAG_RAISE_ON_FAILURE a failure raises instead (SEH):
 * STATUS_INSUFFICIENT_RESOURCES, or STATUS_INVALID_PARAMETER for an invalid
 * request (Learn names no code). */
PVOID ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag);
/* ExAllocatePoolZero: ExAllocatePoolWithTag, zeroed. */
PVOID ExAllocatePoolZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag);
/* ExFreePoolWithTag: a tag that differs from the allocation's is reported. */
void ExFreePoolWithTag(PVOID P, ULONG Tag);
void ExFreePool(PVOID P);

/* The allocation routines are also macros that record the call site, so a
 * leak at unload names the file and line (V23). The functions above stay
 * callable by address (`ExAllocatePoolWithTag` not followed by a parenthesis,
 * or `(ExAllocatePoolWithTag)(...)`); such calls have no site. Define
 * FLTSIM_NO_POOL_SITES before including to get the plain functions only. */
PVOID fltsim_ExAllocatePoolWithTag_at(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag,
                                      const char *file, int line);
PVOID fltsim_ExAllocatePoolZero_at(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag,
                                   const char *file, int line);
PVOID fltsim_ExAllocatePool2_at(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag, const char *file,
                                int line);
#ifndef FLTSIM_NO_POOL_SITES
#define ExAllocatePoolWithTag(t, n, g)                                                             \
    fltsim_ExAllocatePoolWithTag_at((t), (n), (g), __FILE__, __LINE__)
#define ExAllocatePoolZero(t, n, g) fltsim_ExAllocatePoolZero_at((t), (n), (g), __FILE__, __LINE__)
#define ExAllocatePool2(f, n, g) fltsim_ExAllocatePool2_at((f), (n), (g), __FILE__, __LINE__)
#endif

/* The pool flag bits of POOL_TYPE, and the driver runtime's NX opt-in. */
#define POOL_COLD_ALLOCATION 256
#define POOL_NX_ALLOCATION 512
#define POOL_ZERO_ALLOCATION 1024
#define POOL_RAISE_IF_ALLOCATION_FAILURE 16
#define DrvRtPoolNxOptIn 0x00000001

/* ExInitializeDriverRuntime: DrvRtPoolNxOptIn makes the calling driver's
 * NonPagedPool requests and NPAGED lookaside lists non-executable
 * (NonPagedPoolNx), as a driver built with POOL_NX_OPTIN. */
VOID ExInitializeDriverRuntime(ULONG RuntimeFlags);

typedef enum _EX_POOL_PRIORITY {
    LowPoolPriority,
    LowPoolPrioritySpecialPoolOverrun = 8,
    LowPoolPrioritySpecialPoolUnderrun = 9,
    NormalPoolPriority = 16,
    NormalPoolPrioritySpecialPoolOverrun = 24,
    NormalPoolPrioritySpecialPoolUnderrun = 25,
    HighPoolPriority = 32,
    HighPoolPrioritySpecialPoolOverrun = 40,
    HighPoolPrioritySpecialPoolUnderrun = 41
} EX_POOL_PRIORITY;

typedef enum _POOL_EXTENDED_PARAMETER_TYPE {
    PoolExtendedParameterInvalidType = 0,
    PoolExtendedParameterPriority,
    PoolExtendedParameterSecurePool,
    PoolExtendedParameterNumaNode,
    PoolExtendedParameterMax
} POOL_EXTENDED_PARAMETER_TYPE,
    *PPOOL_EXTENDED_PARAMETER_TYPE;

typedef ULONG NODE_REQUIREMENT;
#define MM_ANY_NODE_OK 0x80000000
typedef struct _POOL_EXTENDED_PARAMS_SECURE_POOL POOL_EXTENDED_PARAMS_SECURE_POOL;

typedef struct _POOL_EXTENDED_PARAMETER {
    struct {
        ULONG64 Type : 8;
        ULONG64 Optional : 1;
        ULONG64 Reserved : 55;
    };
    union {
        ULONG64 Reserved2;
        PVOID Reserved3;
        EX_POOL_PRIORITY Priority;
        POOL_EXTENDED_PARAMS_SECURE_POOL *SecurePoolParams;
        NODE_REQUIREMENT PreferredNode;
    };
} POOL_EXTENDED_PARAMETER, *PPOOL_EXTENDED_PARAMETER;
typedef const POOL_EXTENDED_PARAMETER *PCPOOL_EXTENDED_PARAMETER;

/* ExAllocatePool3: ExAllocatePool2 with extended parameters (priority,
 * preferred node; one NUMA node, 0, is simulated; a required secure-pool
 * parameter fails, an optional one is ignored). */
PVOID ExAllocatePool3(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag,
                      PCPOOL_EXTENDED_PARAMETER ExtendedParameters, ULONG ExtendedParametersCount);
/* Every priority is served alike (pool never runs short; an injected fault
 * fails any). */
PVOID ExAllocatePoolWithTagPriority(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag,
                                    EX_POOL_PRIORITY Priority);
/* Quota is not charged; a failure raises STATUS_INSUFFICIENT_RESOURCES (SEH),
 * or returns NULL with POOL_QUOTA_FAIL_INSTEAD_OF_RAISE. */
PVOID ExAllocatePoolWithQuotaTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag);
#define POOL_QUOTA_FAIL_INSTEAD_OF_RAISE 8

PVOID fltsim_ExAllocatePool3_at(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag,
                                PCPOOL_EXTENDED_PARAMETER ExtendedParameters,
                                ULONG ExtendedParametersCount, const char *file, int line);
PVOID fltsim_ExAllocatePoolWithTagPriority_at(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag,
                                              EX_POOL_PRIORITY Priority, const char *file,
                                              int line);
PVOID fltsim_ExAllocatePoolWithQuotaTag_at(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag,
                                           const char *file, int line);
#ifndef FLTSIM_NO_POOL_SITES
#define ExAllocatePool3(f, n, g, p, c)                                                             \
    fltsim_ExAllocatePool3_at((f), (n), (g), (p), (c), __FILE__, __LINE__)
#define ExAllocatePoolWithTagPriority(t, n, g, p)                                                  \
    fltsim_ExAllocatePoolWithTagPriority_at((t), (n), (g), (p), __FILE__, __LINE__)
#define ExAllocatePoolWithQuotaTag(t, n, g)                                                        \
    fltsim_ExAllocatePoolWithQuotaTag_at((t), (n), (g), __FILE__, __LINE__)
#endif

/* ---- interlocked singly linked lists (16-byte aligned, as on x64) ---- */

typedef struct __attribute__((aligned(16))) _SLIST_ENTRY {
    struct _SLIST_ENTRY *Next;
} SLIST_ENTRY, *PSLIST_ENTRY;

typedef union __attribute__((aligned(16))) _SLIST_HEADER {
    struct {
        ULONGLONG Alignment;
        ULONGLONG Region;
    };
    struct {
        ULONGLONG Depth : 16;
        ULONGLONG Sequence : 48;
        ULONGLONG Reserved : 4;
        ULONGLONG NextEntry : 60;
    } HeaderX64;
} SLIST_HEADER, *PSLIST_HEADER;

VOID ExInitializeSListHead(PSLIST_HEADER SListHead);
PSLIST_ENTRY ExInterlockedPushEntrySList(PSLIST_HEADER ListHead, PSLIST_ENTRY ListEntry,
                                         PKSPIN_LOCK Lock);
PSLIST_ENTRY ExInterlockedPopEntrySList(PSLIST_HEADER ListHead, PKSPIN_LOCK Lock);
PSLIST_ENTRY ExInterlockedFlushSList(PSLIST_HEADER ListHead);
USHORT ExQueryDepthSList(PSLIST_HEADER SListHead);
#define InterlockedPushEntrySList(Head, Entry) ExInterlockedPushEntrySList((Head), (Entry), NULL)
#define InterlockedPopEntrySList(Head) ExInterlockedPopEntrySList((Head), NULL)
#define InterlockedFlushSList(Head) ExInterlockedFlushSList(Head)

/* ---- lookaside lists (allocations are counted per tag, like pool) ---- */

struct _LOOKASIDE_LIST_EX;
typedef PVOID ALLOCATE_FUNCTION(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag);
typedef ALLOCATE_FUNCTION *PALLOCATE_FUNCTION;
typedef VOID FREE_FUNCTION(PVOID Buffer);
typedef FREE_FUNCTION *PFREE_FUNCTION;
typedef PVOID ALLOCATE_FUNCTION_EX(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag,
                                   struct _LOOKASIDE_LIST_EX *Lookaside);
typedef ALLOCATE_FUNCTION_EX *PALLOCATE_FUNCTION_EX;
typedef VOID FREE_FUNCTION_EX(PVOID Buffer, struct _LOOKASIDE_LIST_EX *Lookaside);
typedef FREE_FUNCTION_EX *PFREE_FUNCTION_EX;

/* The WDK's common layout of every lookaside list. fltsim aligns the lists
 * to 16 bytes (their SLIST_HEADER), not to the 64-byte cache line of
 * DECLSPEC_CACHEALIGN: the offsets are the WDK's, the size is 96 instead of
 * 128, so a list inside a pool allocation is always suitably aligned. */
#define FLTSIM_GENERAL_LOOKASIDE_LAYOUT                                                            \
    union {                                                                                        \
        SLIST_HEADER ListHead;                                                                     \
        SINGLE_LIST_ENTRY SingleListHead;                                                          \
    };                                                                                             \
    USHORT Depth;                                                                                  \
    USHORT MaximumDepth;                                                                           \
    ULONG TotalAllocates;                                                                          \
    union {                                                                                        \
        ULONG AllocateMisses;                                                                      \
        ULONG AllocateHits;                                                                        \
    };                                                                                             \
    ULONG TotalFrees;                                                                              \
    union {                                                                                        \
        ULONG FreeMisses;                                                                          \
        ULONG FreeHits;                                                                            \
    };                                                                                             \
    POOL_TYPE Type;                                                                                \
    ULONG Tag;                                                                                     \
    ULONG Size;                                                                                    \
    union {                                                                                        \
        PALLOCATE_FUNCTION_EX AllocateEx;                                                          \
        PALLOCATE_FUNCTION Allocate;                                                               \
    };                                                                                             \
    union {                                                                                        \
        PFREE_FUNCTION_EX FreeEx;                                                                  \
        PFREE_FUNCTION Free;                                                                       \
    };                                                                                             \
    LIST_ENTRY ListEntry;                                                                          \
    ULONG LastTotalAllocates;                                                                      \
    union {                                                                                        \
        ULONG LastAllocateMisses;                                                                  \
        ULONG LastAllocateHits;                                                                    \
    };                                                                                             \
    ULONG Future[2];

typedef struct _GENERAL_LOOKASIDE {
    FLTSIM_GENERAL_LOOKASIDE_LAYOUT
} GENERAL_LOOKASIDE, *PGENERAL_LOOKASIDE;

typedef struct _GENERAL_LOOKASIDE_POOL {
    FLTSIM_GENERAL_LOOKASIDE_LAYOUT
} GENERAL_LOOKASIDE_POOL, *PGENERAL_LOOKASIDE_POOL;

typedef struct _LOOKASIDE_LIST_EX {
    GENERAL_LOOKASIDE_POOL L;
} LOOKASIDE_LIST_EX, *PLOOKASIDE_LIST_EX;

typedef struct _NPAGED_LOOKASIDE_LIST {
    GENERAL_LOOKASIDE L;
} NPAGED_LOOKASIDE_LIST, *PNPAGED_LOOKASIDE_LIST;

typedef struct _PAGED_LOOKASIDE_LIST {
    GENERAL_LOOKASIDE L;
} PAGED_LOOKASIDE_LIST, *PPAGED_LOOKASIDE_LIST;

#define LOOKASIDE_MINIMUM_BLOCK_SIZE (RTL_SIZEOF_THROUGH_FIELD(SLIST_ENTRY, Next))
#define EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL 0x00000001UL
#define EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE 0x00000002UL
#define EX_MAXIMUM_LOOKASIDE_DEPTH_BASE 256
#define EX_MAXIMUM_LOOKASIDE_DEPTH_LIMIT 1024

/* The depth is fltsim's (it starts at 4 and grows with misses up to
 * MaximumDepth, 256; the Depth parameter is reserved and ignored, as on
 * Windows). Freeing an entry to another list, after the delete or twice is
 * reported (V23); so are, at unload, a list never deleted and entries never
 * freed. */
VOID ExInitializeNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside, PALLOCATE_FUNCTION Allocate,
                                     PFREE_FUNCTION Free, ULONG Flags, SIZE_T Size, ULONG Tag,
                                     USHORT Depth);
VOID ExDeleteNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside);
PVOID ExAllocateFromNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside);
VOID ExFreeToNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside, PVOID Entry);
VOID ExInitializePagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside, PALLOCATE_FUNCTION Allocate,
                                    PFREE_FUNCTION Free, ULONG Flags, SIZE_T Size, ULONG Tag,
                                    USHORT Depth);
VOID ExDeletePagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside);
PVOID ExAllocateFromPagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside);
VOID ExFreeToPagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside, PVOID Entry);
NTSTATUS ExInitializeLookasideListEx(PLOOKASIDE_LIST_EX Lookaside, PALLOCATE_FUNCTION_EX Allocate,
                                     PFREE_FUNCTION_EX Free, POOL_TYPE PoolType, ULONG Flags,
                                     SIZE_T Size, ULONG Tag, USHORT Depth);
VOID ExDeleteLookasideListEx(PLOOKASIDE_LIST_EX Lookaside);
VOID ExFlushLookasideListEx(PLOOKASIDE_LIST_EX Lookaside);
PVOID ExAllocateFromLookasideListEx(PLOOKASIDE_LIST_EX Lookaside);
VOID ExFreeToLookasideListEx(PLOOKASIDE_LIST_EX Lookaside, PVOID Entry);

/* Call-site forms, as for pool: a leak at unload names where a list was
 * initialized and where its entries were allocated. */
VOID fltsim_ExInitializeNPagedLookasideList_at(PNPAGED_LOOKASIDE_LIST Lookaside,
                                               PALLOCATE_FUNCTION Allocate, PFREE_FUNCTION Free,
                                               ULONG Flags, SIZE_T Size, ULONG Tag, USHORT Depth,
                                               const char *file, int line);
VOID fltsim_ExInitializePagedLookasideList_at(PPAGED_LOOKASIDE_LIST Lookaside,
                                              PALLOCATE_FUNCTION Allocate, PFREE_FUNCTION Free,
                                              ULONG Flags, SIZE_T Size, ULONG Tag, USHORT Depth,
                                              const char *file, int line);
NTSTATUS fltsim_ExInitializeLookasideListEx_at(PLOOKASIDE_LIST_EX Lookaside,
                                               PALLOCATE_FUNCTION_EX Allocate,
                                               PFREE_FUNCTION_EX Free, POOL_TYPE PoolType,
                                               ULONG Flags, SIZE_T Size, ULONG Tag, USHORT Depth,
                                               const char *file, int line);
PVOID fltsim_ExAllocateFromNPagedLookasideList_at(PNPAGED_LOOKASIDE_LIST Lookaside,
                                                  const char *file, int line);
PVOID fltsim_ExAllocateFromPagedLookasideList_at(PPAGED_LOOKASIDE_LIST Lookaside, const char *file,
                                                 int line);
PVOID fltsim_ExAllocateFromLookasideListEx_at(PLOOKASIDE_LIST_EX Lookaside, const char *file,
                                              int line);
#ifndef FLTSIM_NO_POOL_SITES
#define ExInitializeNPagedLookasideList(l, a, f, fl, s, t, d)                                      \
    fltsim_ExInitializeNPagedLookasideList_at((l), (a), (f), (fl), (s), (t), (d), __FILE__,        \
                                              __LINE__)
#define ExInitializePagedLookasideList(l, a, f, fl, s, t, d)                                       \
    fltsim_ExInitializePagedLookasideList_at((l), (a), (f), (fl), (s), (t), (d), __FILE__, __LINE__)
#define ExInitializeLookasideListEx(l, a, f, p, fl, s, t, d)                                       \
    fltsim_ExInitializeLookasideListEx_at((l), (a), (f), (p), (fl), (s), (t), (d), __FILE__,       \
                                          __LINE__)
#define ExAllocateFromNPagedLookasideList(l)                                                       \
    fltsim_ExAllocateFromNPagedLookasideList_at((l), __FILE__, __LINE__)
#define ExAllocateFromPagedLookasideList(l)                                                        \
    fltsim_ExAllocateFromPagedLookasideList_at((l), __FILE__, __LINE__)
#define ExAllocateFromLookasideListEx(l)                                                           \
    fltsim_ExAllocateFromLookasideListEx_at((l), __FILE__, __LINE__)
#endif

/* ---- rundown protection ---- */

typedef struct _EX_RUNDOWN_REF {
    union {
        volatile ULONG_PTR Count;
        volatile PVOID Ptr;
    };
} EX_RUNDOWN_REF, *PEX_RUNDOWN_REF;

VOID ExInitializeRundownProtection(PEX_RUNDOWN_REF RunRef);
VOID ExReInitializeRundownProtection(PEX_RUNDOWN_REF RunRef);
/* ExAcquireRundownProtection: FALSE once ExWaitForRundownProtectionRelease
 * has started. */
BOOLEAN ExAcquireRundownProtection(PEX_RUNDOWN_REF RunRef);
BOOLEAN ExAcquireRundownProtectionEx(PEX_RUNDOWN_REF RunRef, ULONG Count);
VOID ExReleaseRundownProtection(PEX_RUNDOWN_REF RunRef);
VOID ExReleaseRundownProtectionEx(PEX_RUNDOWN_REF RunRef, ULONG Count);
/* ExWaitForRundownProtectionRelease: blocks new acquisitions and waits for
 * the outstanding ones to be released. */
VOID ExWaitForRundownProtectionRelease(PEX_RUNDOWN_REF RunRef);
VOID ExRundownCompleted(PEX_RUNDOWN_REF RunRef);

/* ---- time ---- */

/* Local time is system time (UTC) less the time zone bias of the simulated
 * machine (fltsim_system_options.time_zone_bias; UTC by default). */
VOID ExSystemTimeToLocalTime(PLARGE_INTEGER SystemTime, PLARGE_INTEGER LocalTime);
VOID ExLocalTimeToSystemTime(PLARGE_INTEGER LocalTime, PLARGE_INTEGER SystemTime);

/* ---- miscellany ---- */

KPROCESSOR_MODE ExGetPreviousMode(VOID);
typedef GUID UUID;
NTSTATUS ExUuidCreate(UUID *Uuid);

/* ---- work queues (SPEC 5.3) ---- */

typedef enum _WORK_QUEUE_TYPE {
    CriticalWorkQueue = 0,
    DelayedWorkQueue = 1,
    HyperCriticalWorkQueue = 2,
    NormalWorkQueue = 3,
    BackgroundWorkQueue = 4,
    RealTimeWorkQueue = 5,
    SuperCriticalWorkQueue = 6,
    MaximumWorkQueue = 7,
    CustomPriorityWorkQueue = 32
} WORK_QUEUE_TYPE;

typedef VOID WORKER_THREAD_ROUTINE(PVOID Parameter);
typedef WORKER_THREAD_ROUTINE *PWORKER_THREAD_ROUTINE;

typedef struct _WORK_QUEUE_ITEM {
    LIST_ENTRY List;
    PWORKER_THREAD_ROUTINE WorkerRoutine;
    volatile PVOID Parameter;
} WORK_QUEUE_ITEM, *PWORK_QUEUE_ITEM;

#define ExInitializeWorkItem(Item, Routine, Context)                                               \
    do {                                                                                           \
        (Item)->WorkerRoutine = (Routine);                                                         \
        (Item)->Parameter = (Context);                                                             \
        (Item)->List.Flink = NULL;                                                                 \
    } while (0)

VOID ExQueueWorkItem(PWORK_QUEUE_ITEM WorkItem, WORK_QUEUE_TYPE QueueType);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_EX_H */
