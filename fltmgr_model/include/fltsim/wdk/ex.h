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
 * no pool type or an unknown required flag (as documented). Raising on
 * failure is not modeled: POOL_FLAG_RAISE_ON_FAILURE returns NULL and reports. */
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

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_EX_H */
