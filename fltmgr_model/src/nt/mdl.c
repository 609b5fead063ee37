/*
 * Mm: memory descriptor lists. IoAllocateMdl and IoFreeMdl (pool blocks of
 * tag 'Mdl ', so the MDLs a driver never frees are reported at its unload,
 * V23), IoBuildPartialMdl, MmSizeOfMdl, MmBuildMdlForNonPagedPool,
 * MmProbeAndLockPages and MmUnlockPages, and the mappings. The state lives in
 * the MDL's own flags, as on Windows, and each misuse Windows bugchecks on is
 * a report (rule MM) with the outcome it names. fltsim runs in one host
 * address space: locking checks that the range is mapped and leaves the pages
 * where they are, a mapping is the same bytes at the same address, and the
 * page frame numbers are the host's virtual page numbers. What FltMgr does
 * with an operation's MDLs is fltmgr/buffers.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model_internal.h"

/* "Mdl ", the pool tag of the MDLs Windows allocates. */
#define MDL_TAG 0x206c644du

/* IoAllocateMdl's limit since Windows 7: 4 GB - PAGE_SIZE. */
#define MDL_MAX_LENGTH 0xFFFFF000u

/* The flags that say where an MDL's pages stand. */
#define DESCRIBES_LOCKED (MDL_PAGES_LOCKED | MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL)

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A misuse of an MDL by the code running on this thread: a report of its
 * system, or a line on standard error outside any. */
static void report(const char *fmt, ...)
{
    struct fltsim_tls *t = fltsim__tls();
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (t->sys != NULL)
        fltsim__report(t->sys, t->filter, NULL, t->op, "MM", "-", "%s", message);
    else
        fprintf(stderr, "fltsim: MM: %s\n", message);
}

static void check_irql(KIRQL max_irql, const char *api)
{
    fltsim__check_irql(fltsim__tls()->sys, max_irql, api);
}

static SIZE_T span_pages(PVOID va, SIZE_T length)
{
    return ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, length);
}

/* ---- the host's view of an address range ---- */

/* Whether every page of [start, start + length) is mapped in the host
 * process (mincore fails with ENOMEM on a range with a hole). Pages mapped
 * without access (guard pages) pass: the host cannot tell without reading
 * its whole map, which costs too much per request. */
static bool host_mapped(ULONG_PTR start, SIZE_T length)
{
    long host_page = sysconf(_SC_PAGESIZE);
    ULONG_PTR page = host_page > 0 ? (ULONG_PTR)host_page : PAGE_SIZE;
    ULONG_PTR at = start & ~(page - 1), end = start + length;
#if defined(__APPLE__)
    char vec[64];
#else
    unsigned char vec[64];
#endif
    while (at < end) {
        ULONG_PTR chunk = end - at < 64 * page ? end - at : 64 * page;
        if (mincore((void *)at, (size_t)chunk, vec) != 0 && errno == ENOMEM)
            return false;
        at += chunk;
    }
    return true;
}

/* Whether a range the caller hands over could be accessed at all: it does
 * not wrap, avoids the first 64 KB (never mapped on Windows), stays below
 * MM_USER_PROBE_ADDRESS when probed for user mode, and is mapped. */
static bool range_valid(ULONG_PTR va, SIZE_T length, KPROCESSOR_MODE mode)
{
    if (length == 0)
        return true;
    ULONG_PTR end = va + length;
    if (end < va || va < (ULONG_PTR)MM_LOWEST_USER_ADDRESS)
        return false;
    if (mode == UserMode && end > MmUserProbeAddress)
        return false;
    return host_mapped(va, length);
}

/* Fills the page frame array: the host's virtual page numbers. An MDL that a
 * driver sized itself is written only as far as its Size says. */
static void fill_pfns(PMDL mdl)
{
    SIZE_T pages = span_pages(MmGetMdlVirtualAddress(mdl), mdl->ByteCount);
    SIZE_T need = sizeof(MDL) + pages * sizeof(PFN_NUMBER);
    if (need <= 0x7FFF && (SIZE_T)(USHORT)mdl->Size < need) {
        report("the MDL at %p has Size %d, too small for the %zu page(s) it describes "
               "(MmSizeOfMdl: %zu); its page frame array is filled as far as it goes",
               (void *)mdl, (int)mdl->Size, (size_t)pages, (size_t)need);
        pages = mdl->Size > (CSHORT)sizeof(MDL)
                    ? ((SIZE_T)(USHORT)mdl->Size - sizeof(MDL)) / sizeof(PFN_NUMBER)
                    : 0;
    }
    PPFN_NUMBER pfn = MmGetMdlPfnArray(mdl);
    PFN_NUMBER first = (ULONG_PTR)mdl->StartVa >> PAGE_SHIFT;
    for (SIZE_T i = 0; i < pages; i++)
        pfn[i] = first + i;
}

/* ---- mappings into "user space" ----
 *
 * A user-mode mapping is the same address too, so only a count per MDL
 * tells MmUnmapLockedPages and IoFreeMdl what is left to release. Rare:
 * the count of all of them spares IoFreeMdl the lock. */

struct user_mapping {
    struct user_mapping *next;
    PMDL mdl;
    PVOID base;
};

static uv_once_t user_once = UV_ONCE_INIT;
static uv_mutex_t user_lock;
static struct user_mapping *user_head; /* user_lock */
static LONG user_count;                /* atomic */

static void user_init(void)
{
    if (uv_mutex_init(&user_lock) != 0)
        abort();
}

static bool user_map_add(PMDL mdl, PVOID base)
{
    struct user_mapping *m = malloc(sizeof(*m));
    if (m == NULL)
        return false;
    m->mdl = mdl;
    m->base = base;
    uv_once(&user_once, user_init);
    uv_mutex_lock(&user_lock);
    m->next = user_head;
    user_head = m;
    __atomic_add_fetch(&user_count, 1, __ATOMIC_SEQ_CST);
    uv_mutex_unlock(&user_lock);
    return true;
}

/* Removes one mapping of mdl at base (any base when base is NULL); how
 * many were removed (all of them when all is set). */
static ULONG user_map_remove(PMDL mdl, PVOID base, bool all)
{
    if (__atomic_load_n(&user_count, __ATOMIC_SEQ_CST) == 0)
        return 0;
    ULONG removed = 0;
    uv_once(&user_once, user_init);
    uv_mutex_lock(&user_lock);
    for (struct user_mapping **p = &user_head; *p != NULL;) {
        struct user_mapping *m = *p;
        if (m->mdl != mdl || (base != NULL && m->base != base)) {
            p = &m->next;
            continue;
        }
        *p = m->next;
        free(m);
        removed++;
        __atomic_sub_fetch(&user_count, 1, __ATOMIC_SEQ_CST);
        if (!all)
            break;
    }
    uv_mutex_unlock(&user_lock);
    return removed;
}

/* ---- allocation ---- */

SIZE_T MmSizeOfMdl(PVOID Base, SIZE_T Length)
{
    return sizeof(MDL) + span_pages(Base, Length) * sizeof(PFN_NUMBER);
}

static PMDL mdl_allocate(PVOID va, ULONG length, bool internal, const char *file, int line)
{
    if (length > MDL_MAX_LENGTH)
        return NULL;
    SIZE_T size = MmSizeOfMdl(va, length);
    PMDL mdl = internal
                   ? fltsim__pool_allocate_internal(NonPagedPoolNx, size, MDL_TAG, false)
                   : fltsim_ExAllocatePoolWithTag_at(NonPagedPoolNx, size, MDL_TAG, file, line);
    if (mdl == NULL)
        return NULL;
    MmInitializeMdl(mdl, va, length);
    /* How IoFreeMdl knows the MDL is its own. */
    mdl->MdlFlags = MDL_ALLOCATED_FIXED_SIZE;
    mdl->Process = NULL;
    mdl->MappedSystemVa = NULL;
    return mdl;
}

PMDL fltsim__mdl_allocate_internal(PVOID va, ULONG length)
{
    return mdl_allocate(va, length, true, NULL, 0);
}

PMDL fltsim_IoAllocateMdl_at(PVOID VirtualAddress, ULONG Length, BOOLEAN SecondaryBuffer,
                             BOOLEAN ChargeQuota, PIRP Irp, const char *file, int line)
{
    check_irql(DISPATCH_LEVEL, "IoAllocateMdl");
    if (ChargeQuota)
        report("IoAllocateMdl with ChargeQuota TRUE: the parameter is reserved and drivers must "
               "pass FALSE; no quota is charged");
    if (SecondaryBuffer && Irp == NULL)
        report("IoAllocateMdl with SecondaryBuffer TRUE and no IRP: it must be FALSE when no IRP "
               "is given; ignored");
    /* The site of a call through the function itself is the routine's name,
     * which the leak report (V23) shows. */
    PMDL mdl = mdl_allocate(VirtualAddress, Length, false, file != NULL ? file : "IoAllocateMdl",
                            file != NULL ? line : 0);
    if (mdl == NULL || Irp == NULL)
        return mdl;
    if (!SecondaryBuffer) {
        Irp->MdlAddress = mdl;
    } else {
        PMDL *last = &Irp->MdlAddress;
        while (*last != NULL)
            last = &(*last)->Next;
        *last = mdl;
    }
    return mdl;
}

PMDL(IoAllocateMdl)
(PVOID VirtualAddress, ULONG Length, BOOLEAN SecondaryBuffer, BOOLEAN ChargeQuota, PIRP Irp)
{
    return fltsim_IoAllocateMdl_at(VirtualAddress, Length, SecondaryBuffer, ChargeQuota, Irp, NULL,
                                   0);
}

/* Drops the system mapping of mdl (its flags; the bytes stay). */
static void unmap_system(PMDL mdl)
{
    mdl->MdlFlags &= (CSHORT) ~(MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL_HAS_BEEN_MAPPED);
}

static void unlock(PMDL mdl)
{
    if (mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA)
        unmap_system(mdl);
    mdl->MdlFlags &= (CSHORT) ~(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION);
    mdl->Process = NULL;
}

/* Frees an MDL IoAllocateMdl made; its pool block goes too. */
static void mdl_free(PMDL mdl)
{
    mdl->MdlFlags = 0;
    ExFreePoolWithTag(mdl, MDL_TAG);
}

VOID IoFreeMdl(PMDL Mdl)
{
    check_irql(DISPATCH_LEVEL, "IoFreeMdl");
    if (Mdl == NULL) {
        report("IoFreeMdl(NULL) (on Windows: a bugcheck); ignored");
        return;
    }
    CSHORT flags = Mdl->MdlFlags;
    if (flags & MDL_INTERNAL) {
        report("IoFreeMdl(%p) of the MDL FltLockUserBuffer allocated for an operation: the I/O "
               "system frees it when the operation completes, the caller never does; ignored",
               (void *)Mdl);
        return;
    }
    if (!(flags & MDL_ALLOCATED_FIXED_SIZE)) {
        report("IoFreeMdl(%p): the MDL was not allocated by IoAllocateMdl (on Windows: bugcheck "
               "0xC2, BAD_POOL_CALLER); ignored",
               (void *)Mdl);
        return;
    }
    /* Unlocking releases a system mapping too: only a partial MDL is mapped
     * without being locked, and IoFreeMdl releases its mapping itself. */
    if (flags & MDL_PAGES_LOCKED) {
        report("IoFreeMdl(%p) of an MDL whose pages are still locked: MmUnlockPages must come "
               "first (on Windows the pages stay locked for good: Driver Verifier stops, and the "
               "process's end bugchecks 0x76, PROCESS_HAS_LOCKED_PAGES); fltsim unlocks them",
               (void *)Mdl);
        unlock(Mdl);
    }
    ULONG user = user_map_remove(Mdl, NULL, true);
    if (user != 0)
        report("IoFreeMdl(%p) of an MDL with %lu user-space mapping(s) left: MmUnmapLockedPages "
               "must come first (on Windows they stay mapped in the process); fltsim drops them",
               (void *)Mdl, (unsigned long)user);
    mdl_free(Mdl);
}

bool fltsim__mdl_release(PMDL mdl)
{
    if (!(mdl->MdlFlags & MDL_ALLOCATED_FIXED_SIZE))
        return false;
    if (mdl->MdlFlags & MDL_PAGES_LOCKED)
        unlock(mdl);
    user_map_remove(mdl, NULL, true);
    mdl_free(mdl);
    return true;
}

/* ---- describing pages ---- */

VOID IoBuildPartialMdl(PMDL SourceMdl, PMDL TargetMdl, PVOID VirtualAddress, ULONG Length)
{
    check_irql(DISPATCH_LEVEL, "IoBuildPartialMdl");
    if (SourceMdl == NULL || TargetMdl == NULL) {
        report("IoBuildPartialMdl with a NULL %s MDL; ignored",
               SourceMdl == NULL ? "source" : "target");
        return;
    }
    CSHORT src = SourceMdl->MdlFlags;
    if (!(src & DESCRIBES_LOCKED)) {
        report("IoBuildPartialMdl from an MDL whose pages are not locked: lock them "
               "(MmProbeAndLockPages) or build it (MmBuildMdlForNonPagedPool) first; the target "
               "is left unchanged");
        return;
    }
    ULONG_PTR sva = (ULONG_PTR)MmGetMdlVirtualAddress(SourceMdl);
    ULONG_PTR send = sva + SourceMdl->ByteCount;
    ULONG_PTR va = (ULONG_PTR)VirtualAddress;
    if (va < sva || va > send || (Length != 0 && (va + Length < va || va + Length > send))) {
        report("IoBuildPartialMdl for [%p, +%lu), which is not a subrange of the source MDL's "
               "buffer [%p, +%lu) (on Windows: a bugcheck); the target is left unchanged",
               VirtualAddress, (unsigned long)Length, (void *)sva,
               (unsigned long)SourceMdl->ByteCount);
        return;
    }
    if (Length == 0)
        Length = (ULONG)(send - va); /* the rest of the source's buffer */
    SIZE_T need = MmSizeOfMdl(VirtualAddress, Length);
    if (need <= 0x7FFF && (SIZE_T)(USHORT)TargetMdl->Size < need) {
        report("IoBuildPartialMdl: the target MDL (Size %d) is too small for %lu byte(s) at %p, "
               "which need %zu (on Windows: bugcheck 0x40, TARGET_MDL_TOO_SMALL); the target is "
               "left unchanged",
               (int)TargetMdl->Size, (unsigned long)Length, VirtualAddress, (size_t)need);
        return;
    }
    if (TargetMdl->MdlFlags & MDL_PARTIAL_HAS_BEEN_MAPPED)
        report("IoBuildPartialMdl reuses a partial MDL that is still mapped: MmPrepareMdlForReuse "
               "must come first (on Windows the mapping leaks); fltsim drops it");
    TargetMdl->MdlFlags =
        (CSHORT)((TargetMdl->MdlFlags & (MDL_ALLOCATED_FIXED_SIZE | MDL_ALLOCATED_MUST_SUCCEED)) |
                 (src & (MDL_SOURCE_IS_NONPAGED_POOL | MDL_IO_PAGE_READ | MDL_WRITE_OPERATION |
                         MDL_IO_SPACE)) |
                 MDL_PARTIAL);
    /* A mapped source lends its mapping; so does nonpaged pool, which is
     * always mapped. */
    if (src & MDL_MAPPED_TO_SYSTEM_VA)
        TargetMdl->MdlFlags |= MDL_PARENT_MAPPED_SYSTEM_VA;
    TargetMdl->MappedSystemVa = (src & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL))
                                    ? (PVOID)((PCHAR)SourceMdl->MappedSystemVa + (va - sva))
                                    : NULL;
    TargetMdl->Process = SourceMdl->Process;
    TargetMdl->StartVa = PAGE_ALIGN(VirtualAddress);
    TargetMdl->ByteOffset = BYTE_OFFSET(VirtualAddress);
    TargetMdl->ByteCount = Length;
    SIZE_T first = ((ULONG_PTR)TargetMdl->StartVa - (ULONG_PTR)SourceMdl->StartVa) >> PAGE_SHIFT;
    SIZE_T pages = span_pages(VirtualAddress, Length);
    memmove(MmGetMdlPfnArray(TargetMdl), MmGetMdlPfnArray(SourceMdl) + first,
            pages * sizeof(PFN_NUMBER));
}

VOID MmBuildMdlForNonPagedPool(PMDL MemoryDescriptorList)
{
    check_irql(DISPATCH_LEVEL, "MmBuildMdlForNonPagedPool");
    PMDL mdl = MemoryDescriptorList;
    if (mdl == NULL) {
        report("MmBuildMdlForNonPagedPool(NULL); ignored");
        return;
    }
    if (mdl->MdlFlags & (DESCRIBES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA)) {
        report("MmBuildMdlForNonPagedPool(%p) of an MDL that already describes %s pages (an "
               "assertion on Windows); left as it is",
               (void *)mdl,
               (mdl->MdlFlags & MDL_PARTIAL)                   ? "a partial MDL's"
               : (mdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL) ? "built"
                                                               : "locked");
        return;
    }
    PVOID va = MmGetMdlVirtualAddress(mdl);
    if (!range_valid((ULONG_PTR)va, mdl->ByteCount, KernelMode)) {
        report("MmBuildMdlForNonPagedPool(%p): [%p, +%lu) is not mapped memory (on Windows: a "
               "bugcheck); left unbuilt",
               (void *)mdl, va, (unsigned long)mdl->ByteCount);
        return;
    }
    fill_pfns(mdl);
    mdl->MappedSystemVa = va;
    mdl->Process = NULL;
    mdl->MdlFlags |= MDL_SOURCE_IS_NONPAGED_POOL;
}

/* ---- locking ---- */

NTSTATUS fltsim__mdl_lock(PMDL mdl, KPROCESSOR_MODE mode, LOCK_OPERATION operation)
{
    if (!range_valid((ULONG_PTR)MmGetMdlVirtualAddress(mdl), mdl->ByteCount, mode))
        return STATUS_ACCESS_VIOLATION;
    fill_pfns(mdl);
    /* User pages belong to the process that locked them (MDL->Process); a
     * kernel-mode lock is taken as of system memory. */
    mdl->Process = mode == UserMode ? IoGetCurrentProcess() : NULL;
    mdl->MdlFlags |= MDL_PAGES_LOCKED;
    if (operation != IoReadAccess)
        mdl->MdlFlags |= MDL_WRITE_OPERATION;
    return STATUS_SUCCESS;
}

VOID MmProbeAndLockPages(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode,
                         LOCK_OPERATION Operation)
{
    static const char api[] = "MmProbeAndLockPages";
    PMDL mdl = MemoryDescriptorList;
    /* User addresses are pageable: APC_LEVEL; nonpaged ones DISPATCH_LEVEL. */
    check_irql(AccessMode == UserMode ? APC_LEVEL : DISPATCH_LEVEL, api);
    if (mdl == NULL) {
        report("MmProbeAndLockPages(NULL) (on Windows: a bugcheck); ignored");
        return;
    }
    if (AccessMode != KernelMode && AccessMode != UserMode) {
        report("MmProbeAndLockPages with AccessMode %d, neither KernelMode nor UserMode; ignored",
               (int)AccessMode);
        return;
    }
    if (Operation != IoReadAccess && Operation != IoWriteAccess && Operation != IoModifyAccess) {
        report("MmProbeAndLockPages with Operation %d, not a LOCK_OPERATION; ignored",
               (int)Operation);
        return;
    }
    CSHORT flags = mdl->MdlFlags;
    if (flags & MDL_PAGES_LOCKED) {
        report("MmProbeAndLockPages(%p) of an MDL that is already locked: a second lock needs "
               "MmUnlockPages first (on Windows: a bugcheck); it stays locked once",
               (void *)mdl);
        return;
    }
    if (flags & (MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL)) {
        report("MmProbeAndLockPages(%p) of an MDL built by %s, whose pages are already locked "
               "(not allowed); left as it is",
               (void *)mdl,
               (flags & MDL_PARTIAL) ? "IoBuildPartialMdl" : "MmBuildMdlForNonPagedPool");
        return;
    }
    NTSTATUS status = fltsim__mdl_lock(mdl, AccessMode, Operation);
    if (!NT_SUCCESS(status))
        fltsim__raise_status(status, api, __builtin_return_address(0));
}

VOID MmUnlockPages(PMDL MemoryDescriptorList)
{
    check_irql(DISPATCH_LEVEL, "MmUnlockPages");
    PMDL mdl = MemoryDescriptorList;
    if (mdl == NULL) {
        report("MmUnlockPages(NULL) (on Windows: a bugcheck); ignored");
        return;
    }
    CSHORT flags = mdl->MdlFlags;
    if (!(flags & MDL_PAGES_LOCKED)) {
        if (flags & (MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL))
            report("MmUnlockPages(%p) of an MDL built by %s: its pages were never locked by "
                   "MmProbeAndLockPages and must not be unlocked; ignored",
                   (void *)mdl,
                   (flags & MDL_PARTIAL) ? "IoBuildPartialMdl" : "MmBuildMdlForNonPagedPool");
        else
            report("MmUnlockPages(%p) of an MDL that is not locked (unlocked twice, or never "
                   "locked; on Windows: bugcheck 0x4E, PFN_LIST_CORRUPT); ignored",
                   (void *)mdl);
        return;
    }
    /* A system mapping goes first (Microsoft Learn, MmUnlockPages). */
    unlock(mdl);
}

/* ---- mapping ---- */

PVOID MmMapLockedPagesSpecifyCache(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode,
                                   MEMORY_CACHING_TYPE CacheType, PVOID RequestedAddress,
                                   ULONG BugCheckOnFailure, ULONG Priority)
{
    static const char api[] = "MmMapLockedPagesSpecifyCache";
    PMDL mdl = MemoryDescriptorList;
    /* The pages keep their cache type; the address and the priority do not
     * matter when nothing is really mapped. */
    (void)CacheType;
    (void)RequestedAddress;
    (void)BugCheckOnFailure;
    (void)Priority;
    check_irql(AccessMode == UserMode ? APC_LEVEL : DISPATCH_LEVEL, api);
    if (mdl == NULL) {
        report("%s(NULL) (on Windows: a bugcheck); NULL returned", api);
        return NULL;
    }
    CSHORT flags = mdl->MdlFlags;
    if (!(flags & DESCRIBES_LOCKED)) {
        report("%s(%p) of an MDL whose pages are not locked: lock them (MmProbeAndLockPages) or "
               "build it (MmBuildMdlForNonPagedPool) first (on Windows: a bugcheck); the mapping "
               "is refused (NULL)",
               api, (void *)mdl);
        return NULL;
    }
    PVOID va = MmGetMdlVirtualAddress(mdl);
    if (AccessMode == UserMode) {
        if (!user_map_add(mdl, va))
            fltsim__raise_status(STATUS_INSUFFICIENT_RESOURCES, api, __builtin_return_address(0));
        return va;
    }
    if (flags & MDL_MAPPED_TO_SYSTEM_VA) {
        report("%s(%p) of an MDL already mapped to system space: a driver must not map it twice "
               "(MmGetSystemAddressForMdlSafe returns the mapping there is); the existing "
               "mapping is returned",
               api, (void *)mdl);
        return mdl->MappedSystemVa;
    }
    if (flags & MDL_SOURCE_IS_NONPAGED_POOL) {
        if (!(flags & MDL_PARTIAL))
            report("%s(%p) of an MDL built by MmBuildMdlForNonPagedPool, which is mapped "
                   "already and must not be mapped to system space again; its address is "
                   "returned",
                   api, (void *)mdl);
        return mdl->MappedSystemVa;
    }
    if (flags & MDL_PARENT_MAPPED_SYSTEM_VA)
        return mdl->MappedSystemVa; /* a partial MDL over its source's mapping */
    mdl->MappedSystemVa = va;
    mdl->MdlFlags |= MDL_MAPPED_TO_SYSTEM_VA;
    if (flags & MDL_PARTIAL)
        mdl->MdlFlags |= MDL_PARTIAL_HAS_BEEN_MAPPED;
    return va;
}

PVOID MmMapLockedPages(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode)
{
    return MmMapLockedPagesSpecifyCache(MemoryDescriptorList, AccessMode, MmCached, NULL, TRUE,
                                        HighPagePriority);
}

VOID MmUnmapLockedPages(PVOID BaseAddress, PMDL MemoryDescriptorList)
{
    static const char api[] = "MmUnmapLockedPages";
    PMDL mdl = MemoryDescriptorList;
    if (mdl == NULL) {
        report("%s(%p, NULL) (on Windows: a bugcheck); ignored", api, BaseAddress);
        return;
    }
    CSHORT flags = mdl->MdlFlags;
    /* Both kinds of mapping have the same address here: the system one is
     * taken first. */
    if ((flags & MDL_MAPPED_TO_SYSTEM_VA) && BaseAddress == mdl->MappedSystemVa) {
        check_irql(DISPATCH_LEVEL, api);
        unmap_system(mdl);
        return;
    }
    if (user_map_remove(mdl, BaseAddress, false) != 0) {
        check_irql(APC_LEVEL, api);
        return;
    }
    if ((flags & (MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARENT_MAPPED_SYSTEM_VA)) &&
        BaseAddress == mdl->MappedSystemVa)
        report("%s(%p, %p): the system mapping of an MDL %s is not the driver's to release; "
               "ignored",
               api, BaseAddress, (void *)mdl,
               (flags & MDL_PARENT_MAPPED_SYSTEM_VA)
                   ? "built by IoBuildPartialMdl from a mapped MDL belongs to its source"
                   : "built by MmBuildMdlForNonPagedPool");
    else
        report("%s(%p, %p): no mapping of this MDL starts there (never mapped, or unmapped "
               "already; on Windows: a bugcheck); ignored",
               api, BaseAddress, (void *)mdl);
}
