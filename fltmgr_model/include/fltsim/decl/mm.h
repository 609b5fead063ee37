/*
 * Mm: memory descriptor lists (MDL) and their macros, page arithmetic, mapping
 * priorities, section access rights and page protections, views of sections,
 * and dynamic routine lookup (MmGetSystemRoutineAddress).
 * Part of the WDK surface: include <wdm.h>, not this file.
 */
#ifndef FLTSIM_WDK_MM_H
#define FLTSIM_WDK_MM_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- pages (4 KiB, as on x64) ---- */

#define PAGE_SIZE 0x1000
#define PAGE_SHIFT 12L
typedef ULONG_PTR PFN_NUMBER, *PPFN_NUMBER;

#define BYTE_OFFSET(Va) ((ULONG)((LONG_PTR)(Va) & (PAGE_SIZE - 1)))
#define PAGE_ALIGN(Va) ((PVOID)((ULONG_PTR)(Va) & ~(PAGE_SIZE - 1)))
#define ROUND_TO_PAGES(Size) (((ULONG_PTR)(Size) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define BYTES_TO_PAGES(Size) (((Size) >> PAGE_SHIFT) + (((Size) & (PAGE_SIZE - 1)) != 0))
#define ADDRESS_AND_SIZE_TO_SPAN_PAGES(Va, Size)                                                   \
    ((BYTE_OFFSET(Va) + ((SIZE_T)(Size)) + (PAGE_SIZE - 1)) >> PAGE_SHIFT)

/* ---- memory descriptor lists ---- */

typedef struct _MDL {
    struct _MDL *Next;
    CSHORT Size;
    CSHORT MdlFlags;
    PEPROCESS Process;
    PVOID MappedSystemVa;
    PVOID StartVa;
    ULONG ByteCount;
    ULONG ByteOffset;
} MDL, *PMDL;

#define MDL_MAPPED_TO_SYSTEM_VA 0x0001
#define MDL_PAGES_LOCKED 0x0002
#define MDL_SOURCE_IS_NONPAGED_POOL 0x0004
#define MDL_ALLOCATED_FIXED_SIZE 0x0008
#define MDL_PARTIAL 0x0010
#define MDL_PARTIAL_HAS_BEEN_MAPPED 0x0020
#define MDL_IO_PAGE_READ 0x0040
#define MDL_WRITE_OPERATION 0x0080
#define MDL_LOCKED_PAGE_TABLES 0x0100
#define MDL_PARENT_MAPPED_SYSTEM_VA MDL_LOCKED_PAGE_TABLES
#define MDL_FREE_EXTRA_PTES 0x0200
#define MDL_DESCRIBES_AWE 0x0400
#define MDL_IO_SPACE 0x0800
#define MDL_NETWORK_HEADER 0x1000
#define MDL_MAPPING_CAN_FAIL 0x2000
#define MDL_PAGE_CONTENTS_INVARIANT 0x4000
#define MDL_ALLOCATED_MUST_SUCCEED MDL_PAGE_CONTENTS_INVARIANT
#define MDL_INTERNAL 0x8000
#define MDL_MAPPING_FLAGS                                                                          \
    (MDL_MAPPED_TO_SYSTEM_VA | MDL_PAGES_LOCKED | MDL_SOURCE_IS_NONPAGED_POOL |                    \
     MDL_PARTIAL_HAS_BEEN_MAPPED | MDL_PARENT_MAPPED_SYSTEM_VA | MDL_IO_SPACE)

typedef enum _LOCK_OPERATION { IoReadAccess, IoWriteAccess, IoModifyAccess } LOCK_OPERATION;

typedef enum _MEMORY_CACHING_TYPE {
    MmNonCached = 0,
    MmCached = 1,
    MmWriteCombined = 2,
    MmHardwareCoherentCached,
    MmNonCachedUnordered,
    MmUSWCCached,
    MmMaximumCacheType,
    MmNotMapped = -1
} MEMORY_CACHING_TYPE;

/* The priority of a mapping; the Mdl* flags may be or-ed into it. */
typedef enum _MM_PAGE_PRIORITY {
    LowPagePriority,
    NormalPagePriority = 16,
    HighPagePriority = 32
} MM_PAGE_PRIORITY;
#define MdlMappingNoWrite 0x80000000
#define MdlMappingNoExecute 0x40000000
#define MdlMappingWithGuardPtes 0x20000000

/* The page frame array follows the MDL header. */
#define MmGetMdlPfnArray(Mdl) ((PPFN_NUMBER)((Mdl) + 1))
#define MmGetMdlVirtualAddress(Mdl) ((PVOID)((PCHAR)((Mdl)->StartVa) + (Mdl)->ByteOffset))
#define MmGetMdlByteCount(Mdl) ((Mdl)->ByteCount)
#define MmGetMdlByteOffset(Mdl) ((Mdl)->ByteOffset)
#define MmGetMdlBaseVa(Mdl) ((Mdl)->StartVa)

/* MmInitializeMdl: formats a caller-allocated MDL (MmSizeOfMdl bytes). */
#define MmInitializeMdl(MemoryDescriptorList, BaseVa, Length)                                      \
    do {                                                                                           \
        (MemoryDescriptorList)->Next = (PMDL)NULL;                                                 \
        (MemoryDescriptorList)->Size =                                                             \
            (CSHORT)(sizeof(MDL) +                                                                 \
                     (sizeof(PFN_NUMBER) * ADDRESS_AND_SIZE_TO_SPAN_PAGES((BaseVa), (Length))));   \
        (MemoryDescriptorList)->MdlFlags = 0;                                                      \
        (MemoryDescriptorList)->StartVa = (PVOID)PAGE_ALIGN((BaseVa));                             \
        (MemoryDescriptorList)->ByteOffset = BYTE_OFFSET((BaseVa));                                \
        (MemoryDescriptorList)->ByteCount = (ULONG)(Length);                                       \
    } while (0)

/* MmGetSystemAddressForMdlSafe: the system address of the MDL's buffer,
 * mapping it (MmMapLockedPagesSpecifyCache) when it is not mapped yet; NULL
 * when the mapping fails. */
#define MmGetSystemAddressForMdlSafe(MDL, PRIORITY)                                                \
    (((MDL)->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL))                   \
         ? ((MDL)->MappedSystemVa)                                                                 \
         : (MmMapLockedPagesSpecifyCache((MDL), KernelMode, MmCached, NULL, FALSE, (PRIORITY))))

#define MmPrepareMdlForReuse(MDL)                                                                  \
    do {                                                                                           \
        if (((MDL)->MdlFlags & MDL_PARTIAL_HAS_BEEN_MAPPED) != 0) {                                \
            MmUnmapLockedPages((MDL)->MappedSystemVa, (MDL));                                      \
        } else if (((MDL)->MdlFlags & MDL_PARTIAL) == 0) {                                         \
            NT_ASSERT(((MDL)->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA) == 0);                           \
        }                                                                                          \
    } while (0)

/* The MDL routines keep the state in MdlFlags, as Windows does; a misuse
 * Windows bugchecks on (locking twice, unlocking what is not locked, freeing
 * a locked or mapped MDL, mapping pages that are not locked ...) is a
 * verifier report (rule MM) with the outcome it names. fltsim's memory is one
 * host address space: locking checks that the range could be accessed
 * (below MM_USER_PROBE_ADDRESS for UserMode, not in the first 64 KB, mapped
 * in the host) and raises STATUS_ACCESS_VIOLATION otherwise; a mapping, to
 * system or user space, is the buffer's own address; the page frame numbers
 * are the host's virtual page numbers. */

/* IoAllocateMdl: from pool of tag 'Mdl ', owned by the calling driver, so an
 * MDL it never frees is reported at its unload (V23). NULL beyond 4 GB -
 * PAGE_SIZE. With an IRP, Irp->MdlAddress is set (SecondaryBuffer FALSE) or
 * the MDL goes at the end of its chain (TRUE). */
PMDL IoAllocateMdl(PVOID VirtualAddress, ULONG Length, BOOLEAN SecondaryBuffer, BOOLEAN ChargeQuota,
                   PIRP Irp);
/* The same, recording the call site for the leak report (see ex.h). */
PMDL fltsim_IoAllocateMdl_at(PVOID VirtualAddress, ULONG Length, BOOLEAN SecondaryBuffer,
                             BOOLEAN ChargeQuota, PIRP Irp, const char *file, int line);
#ifndef FLTSIM_NO_POOL_SITES
#define IoAllocateMdl(v, l, s, q, i)                                                               \
    fltsim_IoAllocateMdl_at((v), (l), (s), (q), (i), __FILE__, __LINE__)
#endif
VOID IoFreeMdl(PMDL Mdl);
VOID IoBuildPartialMdl(PMDL SourceMdl, PMDL TargetMdl, PVOID VirtualAddress, ULONG Length);
/* Any mapped memory is accepted: fltsim cannot tell nonpaged pool from the
 * rest. */
VOID MmBuildMdlForNonPagedPool(PMDL MemoryDescriptorList);
VOID MmProbeAndLockPages(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode,
                         LOCK_OPERATION Operation);
VOID MmUnlockPages(PMDL MemoryDescriptorList);
/* RequestedAddress, CacheType and Priority (MdlMappingNoWrite included)
 * change nothing: the mapping is the buffer itself and never fails. */
PVOID MmMapLockedPagesSpecifyCache(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode,
                                   MEMORY_CACHING_TYPE CacheType, PVOID RequestedAddress,
                                   ULONG BugCheckOnFailure, ULONG Priority);
PVOID MmMapLockedPages(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode);
VOID MmUnmapLockedPages(PVOID BaseAddress, PMDL MemoryDescriptorList);
SIZE_T MmSizeOfMdl(PVOID Base, SIZE_T Length);
BOOLEAN MmIsAddressValid(PVOID VirtualAddress);

/* ---- dynamic lookup ---- */

/* MmGetSystemRoutineAddress: the address of the named kernel routine, or NULL
 * when the running system has none. */
PVOID MmGetSystemRoutineAddress(PUNICODE_STRING SystemRoutineName);

/* ---- page protections, sections and views ---- */

#define PAGE_NOACCESS 0x01
#define PAGE_READONLY 0x02
#define PAGE_READWRITE 0x04
#define PAGE_WRITECOPY 0x08
#define PAGE_EXECUTE 0x10
#define PAGE_EXECUTE_READ 0x20
#define PAGE_EXECUTE_READWRITE 0x40
#define PAGE_EXECUTE_WRITECOPY 0x80
#define PAGE_GUARD 0x100
#define PAGE_NOCACHE 0x200
#define PAGE_WRITECOMBINE 0x400

#define MEM_COMMIT 0x00001000
#define MEM_RESERVE 0x00002000
#define MEM_DECOMMIT 0x00004000
#define MEM_RELEASE 0x00008000
#define MEM_FREE 0x00010000
#define MEM_PRIVATE 0x00020000
#define MEM_MAPPED 0x00040000
#define MEM_RESET 0x00080000
#define MEM_TOP_DOWN 0x00100000
#define MEM_LARGE_PAGES 0x20000000

#define SEC_FILE 0x00800000
#define SEC_IMAGE 0x01000000
#define SEC_PROTECTED_IMAGE 0x02000000
#define SEC_RESERVE 0x04000000
#define SEC_COMMIT 0x08000000
#define SEC_NOCACHE 0x10000000
#define SEC_LARGE_PAGES 0x80000000

#define SECTION_QUERY 0x0001
#define SECTION_MAP_WRITE 0x0002
#define SECTION_MAP_READ 0x0004
#define SECTION_MAP_EXECUTE 0x0008
#define SECTION_EXTEND_SIZE 0x0010
#define SECTION_MAP_EXECUTE_EXPLICIT 0x0020
#define SECTION_ALL_ACCESS                                                                         \
    (STANDARD_RIGHTS_REQUIRED | SECTION_QUERY | SECTION_MAP_WRITE | SECTION_MAP_READ |             \
     SECTION_MAP_EXECUTE | SECTION_EXTEND_SIZE)

typedef enum _SECTION_INHERIT { ViewShare = 1, ViewUnmap = 2 } SECTION_INHERIT;

/* The current process and thread as pseudo-handles. */
#define NtCurrentProcess() ((HANDLE)(LONG_PTR)-1)
#define ZwCurrentProcess() NtCurrentProcess()
#define NtCurrentThread() ((HANDLE)(LONG_PTR)-2)
#define ZwCurrentThread() NtCurrentThread()

NTSTATUS ZwCreateSection(PHANDLE SectionHandle, ACCESS_MASK DesiredAccess,
                         POBJECT_ATTRIBUTES ObjectAttributes, PLARGE_INTEGER MaximumSize,
                         ULONG SectionPageProtection, ULONG AllocationAttributes,
                         HANDLE FileHandle);
NTSTATUS ZwMapViewOfSection(HANDLE SectionHandle, HANDLE ProcessHandle, PVOID *BaseAddress,
                            ULONG_PTR ZeroBits, SIZE_T CommitSize, PLARGE_INTEGER SectionOffset,
                            PSIZE_T ViewSize, SECTION_INHERIT InheritDisposition,
                            ULONG AllocationType, ULONG Win32Protect);
NTSTATUS ZwUnmapViewOfSection(HANDLE ProcessHandle, PVOID BaseAddress);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_MM_H */
