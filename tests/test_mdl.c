/*
 * Memory descriptor lists (nt/mdl.c; issue 15 item 4): IoAllocateMdl with its
 * IRP chaining, IoFreeMdl, MmSizeOfMdl and the MmGetMdl* macros,
 * MmBuildMdlForNonPagedPool, MmProbeAndLockPages (and the exceptions it
 * raises for buffers it cannot lock), MmUnlockPages, the mappings and
 * MmGetSystemAddressForMdlSafe, partial MDLs; each misuse Windows bugchecks on
 * reported (MM) with the outcome it names; IRQL ceilings (V28); leaked MDLs
 * reported at unload (V23). The calls run as a loaded driver's code
 * (fltsim_driver_call), so that reports and pool are charged to it.
 */
#include "fltsim_test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MDL_TAG 0x206c644du /* "Mdl " */

/* ------------------------------------------------------------------------- */
/* A driver to run the calls as                                              */
/* ------------------------------------------------------------------------- */

struct mdl_world {
    struct test_world w;
    struct tf_filter tf;
    ULONG64 mdls_before;
};

static ULONG64 mdls_outstanding(void)
{
    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(MDL_TAG, &st);
    return st.outstanding;
}

static void mw_load(struct mdl_world *m)
{
    tf_reset_all();
    m->mdls_before = mdls_outstanding();
    world_create(&m->w, 0);
    tf_init(&m->tf, "M", "370000");
    assert_status(tf_load(m->w.sys, &m->tf), STATUS_SUCCESS);
}

/* Unloads the driver: no MDL left behind (V23) and none outstanding. */
static void mw_unload(struct mdl_world *m)
{
    assert_status(fltsim_system_wait_idle(m->w.sys, 10000), STATUS_SUCCESS);
    assert_status(fltsim_driver_unload(m->tf.driver, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(m->w.sys, "V23"), 0);
    world_destroy(&m->w);
    assert_int_equal(mdls_outstanding(), m->mdls_before);
}

static void run(struct mdl_world *m, void (*fn)(void *), void *ctx)
{
    assert_status(fltsim_driver_call(m->tf.driver, fn, ctx), STATUS_SUCCESS);
}

/* The number of MM reports whose message contains text. */
static ULONG mm_reports(fltsim_system *sys, const char *text)
{
    ULONG n = 0, count = fltsim_system_report_count(sys);
    for (ULONG i = 0; i < count; i++) {
        struct fltsim_report r;
        if (fltsim_system_report_get(sys, i, &r) == STATUS_SUCCESS && strcmp(r.rule, "MM") == 0 &&
            strstr(r.message, text) != NULL)
            n++;
    }
    return n;
}

/* A page-aligned buffer of n pages (freed with free). */
static unsigned char *pages(size_t n)
{
    void *p = NULL;
    assert_int_equal(posix_memalign(&p, PAGE_SIZE, n * PAGE_SIZE), 0);
    memset(p, 0, n * PAGE_SIZE);
    return p;
}

/* ------------------------------------------------------------------------- */
/* Layout and allocation                                                     */
/* ------------------------------------------------------------------------- */

static void mdl_layout_matches_the_wdk(void **state)
{
    (void)state;
    /* x64: Next, Size, MdlFlags, Process, MappedSystemVa, StartVa,
     * ByteCount, ByteOffset (what the mingw-w64 WDK headers lay out). */
    assert_int_equal(offsetof(MDL, Next), 0);
    assert_int_equal(offsetof(MDL, Size), 8);
    assert_int_equal(offsetof(MDL, MdlFlags), 10);
    assert_int_equal(offsetof(MDL, Process), 16);
    assert_int_equal(offsetof(MDL, MappedSystemVa), 24);
    assert_int_equal(offsetof(MDL, StartVa), 32);
    assert_int_equal(offsetof(MDL, ByteCount), 40);
    assert_int_equal(offsetof(MDL, ByteOffset), 44);
    assert_int_equal(sizeof(MDL), 48);
    assert_int_equal(MDL_MAPPED_TO_SYSTEM_VA, 0x1);
    assert_int_equal(MDL_PAGES_LOCKED, 0x2);
    assert_int_equal(MDL_SOURCE_IS_NONPAGED_POOL, 0x4);
    assert_int_equal(MDL_PARTIAL, 0x10);
    assert_int_equal(MDL_PARTIAL_HAS_BEEN_MAPPED, 0x20);
    assert_int_equal(MDL_PARENT_MAPPED_SYSTEM_VA, 0x100);
}

static void mdl_size_counts_the_pages_spanned(void **state)
{
    (void)state;
    char *base = (char *)(uintptr_t)0x100000;
    assert_int_equal(MmSizeOfMdl(base, 0), sizeof(MDL));
    assert_int_equal(MmSizeOfMdl(base, 1), sizeof(MDL) + sizeof(PFN_NUMBER));
    assert_int_equal(MmSizeOfMdl(base, PAGE_SIZE), sizeof(MDL) + sizeof(PFN_NUMBER));
    assert_int_equal(MmSizeOfMdl(base + PAGE_SIZE - 1, 2), sizeof(MDL) + 2 * sizeof(PFN_NUMBER));
    assert_int_equal(MmSizeOfMdl(base + 100, 3 * PAGE_SIZE), sizeof(MDL) + 4 * sizeof(PFN_NUMBER));
}

struct alloc_case {
    unsigned char *buf;
};

static void allocate_and_inspect(void *ctx)
{
    struct alloc_case *c = ctx;
    ULONG64 before = mdls_outstanding();
    PMDL mdl = IoAllocateMdl(c->buf + 100, 2 * PAGE_SIZE, FALSE, FALSE, NULL);
    assert_non_null(mdl);
    assert_int_equal(mdls_outstanding(), before + 1);
    assert_null(mdl->Next);
    assert_int_equal(mdl->Size, MmSizeOfMdl(c->buf + 100, 2 * PAGE_SIZE));
    assert_int_equal(mdl->MdlFlags, MDL_ALLOCATED_FIXED_SIZE);
    assert_ptr_equal(mdl->StartVa, c->buf);
    assert_int_equal(MmGetMdlByteOffset(mdl), 100);
    assert_int_equal(MmGetMdlByteCount(mdl), 2 * PAGE_SIZE);
    assert_ptr_equal(MmGetMdlVirtualAddress(mdl), c->buf + 100);
    assert_ptr_equal(MmGetMdlBaseVa(mdl), c->buf);
    IoFreeMdl(mdl);
    assert_int_equal(mdls_outstanding(), before);
    /* Longer than 4 GB - PAGE_SIZE: none. */
    assert_null(IoAllocateMdl(c->buf, 0xFFFFF001u, FALSE, FALSE, NULL));
}

static void mdl_allocate_describes_the_buffer_and_is_counted(void **state)
{
    (void)state;
    struct mdl_world m;
    mw_load(&m);
    struct alloc_case c = {pages(3)};
    run(&m, allocate_and_inspect, &c);
    assert_int_equal(fltsim_system_report_count(m.w.sys), 0);
    free(c.buf);
    mw_unload(&m);
}

static void chain_to_irp(void *ctx)
{
    unsigned char *buf = ctx;
    IRP irp;
    memset(&irp, 0, sizeof(irp));
    /* SecondaryBuffer FALSE sets Irp->MdlAddress; TRUE goes at the end. */
    PMDL a = IoAllocateMdl(buf, 10, FALSE, FALSE, &irp);
    assert_ptr_equal(irp.MdlAddress, a);
    PMDL b = IoAllocateMdl(buf + 10, 10, TRUE, FALSE, &irp);
    PMDL c = IoAllocateMdl(buf + 20, 10, TRUE, FALSE, &irp);
    assert_ptr_equal(irp.MdlAddress, a);
    assert_ptr_equal(a->Next, b);
    assert_ptr_equal(b->Next, c);
    assert_null(c->Next);
    PMDL d = IoAllocateMdl(buf + 30, 10, FALSE, FALSE, &irp);
    assert_ptr_equal(irp.MdlAddress, d);
    /* IoFreeMdl frees one MDL, not its chain. */
    for (PMDL next, m = a; m != NULL; m = next) {
        next = m->Next;
        IoFreeMdl(m);
    }
    IoFreeMdl(d);
    /* A secondary buffer needs an IRP; ChargeQuota must be FALSE. */
    PMDL e = IoAllocateMdl(buf, 10, TRUE, TRUE, NULL);
    assert_non_null(e);
    IoFreeMdl(e);
}

static void mdl_allocate_with_an_irp_sets_or_chains_its_mdl(void **state)
{
    (void)state;
    struct mdl_world m;
    mw_load(&m);
    unsigned char *buf = pages(1);
    run(&m, chain_to_irp, buf);
    assert_int_equal(mm_reports(m.w.sys, "SecondaryBuffer TRUE and no IRP"), 1);
    assert_int_equal(mm_reports(m.w.sys, "ChargeQuota TRUE"), 1);
    assert_int_equal(fltsim_system_report_count(m.w.sys), 2);
    free(buf);
    mw_unload(&m);
}

/* ------------------------------------------------------------------------- */
/* Locking and mapping                                                       */
/* ------------------------------------------------------------------------- */

static void lock_map_unlock(void *ctx)
{
    unsigned char *buf = ctx;
    PMDL mdl = IoAllocateMdl(buf + 8, PAGE_SIZE + 16, FALSE, FALSE, NULL);
    MmProbeAndLockPages(mdl, UserMode, IoWriteAccess); /* a raise would fail run() */
    assert_int_equal(mdl->MdlFlags,
                     MDL_ALLOCATED_FIXED_SIZE | MDL_PAGES_LOCKED | MDL_WRITE_OPERATION);
    /* User pages: the locking process is recorded. */
    assert_non_null(mdl->Process);
    assert_ptr_equal(mdl->Process, IoGetCurrentProcess());
    /* The page frames are the host's virtual page numbers. */
    PPFN_NUMBER pfn = MmGetMdlPfnArray(mdl);
    assert_int_equal(pfn[0], (uintptr_t)buf >> PAGE_SHIFT);
    assert_int_equal(pfn[1], ((uintptr_t)buf >> PAGE_SHIFT) + 1);
    /* Mapping gives the same bytes, once. */
    unsigned char *va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority | MdlMappingNoExecute);
    assert_ptr_equal(va, buf + 8);
    assert_true(mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
    assert_ptr_equal(mdl->MappedSystemVa, buf + 8);
    assert_ptr_equal(MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority), va);
    va[0] = 'x';
    assert_int_equal(buf[8], 'x');
    /* MmUnlockPages releases the mapping too. */
    MmUnlockPages(mdl);
    assert_int_equal(mdl->MdlFlags, MDL_ALLOCATED_FIXED_SIZE);
    /* Read access leaves MDL_WRITE_OPERATION off; MmMapLockedPages and
     * MmUnmapLockedPages pair up. */
    MmProbeAndLockPages(mdl, KernelMode, IoReadAccess);
    assert_int_equal(mdl->MdlFlags, MDL_ALLOCATED_FIXED_SIZE | MDL_PAGES_LOCKED);
    assert_null(mdl->Process);
    assert_ptr_equal(MmMapLockedPages(mdl, KernelMode), buf + 8);
    MmUnmapLockedPages(buf + 8, mdl);
    assert_false(mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
    /* A user-space mapping is the same address as well. */
    assert_ptr_equal(
        MmMapLockedPagesSpecifyCache(mdl, UserMode, MmCached, NULL, FALSE, NormalPagePriority),
        buf + 8);
    assert_false(mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
    MmUnmapLockedPages(buf + 8, mdl);
    MmUnlockPages(mdl);
    IoFreeMdl(mdl);
    /* An empty MDL locks (nothing to probe). */
    PMDL empty = IoAllocateMdl(buf, 0, FALSE, FALSE, NULL);
    MmProbeAndLockPages(empty, UserMode, IoReadAccess);
    assert_true(empty->MdlFlags & MDL_PAGES_LOCKED);
    MmUnlockPages(empty);
    IoFreeMdl(empty);
}

static void mdl_lock_map_and_unlock_keep_the_flags(void **state)
{
    (void)state;
    struct mdl_world m;
    mw_load(&m);
    unsigned char *buf = pages(3);
    run(&m, lock_map_unlock, buf);
    assert_int_equal(fltsim_system_report_count(m.w.sys), 0);
    free(buf);
    mw_unload(&m);
}

struct probe_case {
    PVOID va;
    ULONG length;
    KPROCESSOR_MODE mode;
    LOCK_OPERATION op;
    NTSTATUS raised;
    CSHORT flags_after;
};

static void probe(void *ctx)
{
    struct probe_case *c = ctx;
    PMDL mdl = IoAllocateMdl(c->va, c->length, FALSE, FALSE, NULL);
    c->raised = STATUS_SUCCESS;
    __try {
        MmProbeAndLockPages(mdl, c->mode, c->op);
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        c->raised = GetExceptionCode();
    }
    c->flags_after = mdl->MdlFlags;
    if (mdl->MdlFlags & MDL_PAGES_LOCKED)
        MmUnlockPages(mdl);
    IoFreeMdl(mdl);
}

static NTSTATUS probe_status(struct mdl_world *m, PVOID va, ULONG length, KPROCESSOR_MODE mode,
                             LOCK_OPERATION op)
{
    struct probe_case c = {va, length, mode, op, 0, 0};
    run(m, probe, &c);
    if (c.raised != STATUS_SUCCESS) /* an MDL it could not lock is left unlocked */
        assert_int_equal(c.flags_after, MDL_ALLOCATED_FIXED_SIZE);
    return c.raised;
}

static void mdl_probe_raises_for_buffers_it_cannot_lock(void **state)
{
    (void)state;
    struct mdl_world m;
    mw_load(&m);
    long host_page = sysconf(_SC_PAGESIZE);
    /* Two host pages, the second unmapped: a hole the range runs into. */
    unsigned char *map = mmap(NULL, 2 * (size_t)host_page, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(munmap(map + host_page, (size_t)host_page), 0);
    unsigned char *good = pages(1);
    char *top = (char *)MM_USER_PROBE_ADDRESS;

    assert_status(probe_status(&m, good, PAGE_SIZE, UserMode, IoModifyAccess), STATUS_SUCCESS);
    assert_status(probe_status(&m, map, (ULONG)host_page, UserMode, IoWriteAccess), STATUS_SUCCESS);
    assert_status(probe_status(&m, map + host_page - 8, 16, KernelMode, IoReadAccess),
                  STATUS_ACCESS_VIOLATION);
    assert_status(probe_status(&m, map + host_page, 1, UserMode, IoReadAccess),
                  STATUS_ACCESS_VIOLATION);
    /* The first 64 KB are never mapped on Windows. */
    assert_status(probe_status(&m, NULL, 16, KernelMode, IoReadAccess), STATUS_ACCESS_VIOLATION);
    assert_status(probe_status(&m, (PVOID)(uintptr_t)0x1000, 16, UserMode, IoWriteAccess),
                  STATUS_ACCESS_VIOLATION);
    /* A user-mode probe stops at MM_USER_PROBE_ADDRESS. */
    assert_status(probe_status(&m, top - 8, 16, UserMode, IoReadAccess), STATUS_ACCESS_VIOLATION);
    assert_status(probe_status(&m, top, 16, UserMode, IoReadAccess), STATUS_ACCESS_VIOLATION);
    /* A range that wraps. */
    assert_status(
        probe_status(&m, (PVOID)(uintptr_t)(UINTPTR_MAX - 7), 16, KernelMode, IoReadAccess),
        STATUS_ACCESS_VIOLATION);
    assert_int_equal(fltsim_system_report_count(m.w.sys), 0);
    munmap(map, (size_t)host_page);
    free(good);
    mw_unload(&m);
}

static void raise_uncaught(void *ctx)
{
    PMDL mdl = IoAllocateMdl((PVOID)(uintptr_t)0x2000, 8, FALSE, FALSE, NULL);
    *(PMDL *)ctx = mdl;
    MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
}

static void mdl_probe_without_try_is_an_uncaught_exception(void **state)
{
    (void)state;
    struct mdl_world m;
    mw_load(&m);
    PMDL mdl = NULL;
    assert_status(fltsim_driver_call(m.tf.driver, raise_uncaught, &mdl), STATUS_ACCESS_VIOLATION);
    assert_int_equal(fltsim_system_report_count_rule(m.w.sys, "SEH"), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(m.w.sys, 0, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "raised by MmProbeAndLockPages"));
    /* The MDL the call left behind is the driver's to free. */
    struct fltsim_pool_stats st;
    fltsim_driver_pool_stats(m.tf.driver, MDL_TAG, &st);
    assert_int_equal(st.outstanding, 1);
    IoFreeMdl(mdl);
    fltsim_system_reports_clear(m.w.sys);
    mw_unload(&m);
}

/* ------------------------------------------------------------------------- */
/* The state machine: each misuse reported, with its outcome                 */
/* ------------------------------------------------------------------------- */

struct misuse_case {
    unsigned char *buf;
    ULONG64 mdls_in_between;
};

static void misuse_locking(void *ctx)
{
    struct misuse_case *c = ctx;
    PMDL mdl = IoAllocateMdl(c->buf, 64, FALSE, FALSE, NULL);
    /* Unlocking what is not locked: ignored. */
    MmUnlockPages(mdl);
    assert_int_equal(mdl->MdlFlags, MDL_ALLOCATED_FIXED_SIZE);
    /* Mapping what is not locked: refused. */
    assert_null(MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority));
    assert_false(mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
    /* Locking twice: it stays locked once, and one unlock unlocks it. */
    MmProbeAndLockPages(mdl, KernelMode, IoReadAccess);
    MmProbeAndLockPages(mdl, KernelMode, IoReadAccess);
    assert_true(mdl->MdlFlags & MDL_PAGES_LOCKED);
    /* A second system mapping: the first is returned. */
    PVOID va =
        MmMapLockedPagesSpecifyCache(mdl, KernelMode, MmCached, NULL, FALSE, NormalPagePriority);
    assert_ptr_equal(
        MmMapLockedPagesSpecifyCache(mdl, KernelMode, MmCached, NULL, FALSE, NormalPagePriority),
        va);
    MmUnmapLockedPages(va, mdl);
    /* Unmapping what is not mapped there: ignored. */
    MmUnmapLockedPages(va, mdl);
    MmUnmapLockedPages(c->buf + 1, mdl);
    MmUnlockPages(mdl);
    MmUnlockPages(mdl);
    /* Freeing a locked MDL: it is unlocked and freed. */
    MmProbeAndLockPages(mdl, KernelMode, IoWriteAccess);
    MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
    c->mdls_in_between = mdls_outstanding();
    IoFreeMdl(mdl);
    /* Freeing one with a user-space mapping left. */
    mdl = IoAllocateMdl(c->buf, 64, FALSE, FALSE, NULL);
    MmProbeAndLockPages(mdl, KernelMode, IoWriteAccess);
    MmMapLockedPagesSpecifyCache(mdl, UserMode, MmCached, NULL, FALSE, NormalPagePriority);
    MmUnlockPages(mdl);
    IoFreeMdl(mdl);
    /* Bad arguments. */
    MmProbeAndLockPages(NULL, KernelMode, IoReadAccess);
    mdl = IoAllocateMdl(c->buf, 64, FALSE, FALSE, NULL);
    MmProbeAndLockPages(mdl, (KPROCESSOR_MODE)7, IoReadAccess);
    MmProbeAndLockPages(mdl, KernelMode, (LOCK_OPERATION)9);
    assert_int_equal(mdl->MdlFlags, MDL_ALLOCATED_FIXED_SIZE);
    IoFreeMdl(mdl);
}

static void mdl_misuse_of_locks_and_mappings_is_reported(void **state)
{
    (void)state;
    struct mdl_world m;
    mw_load(&m);
    struct misuse_case c = {pages(1), 0};
    ULONG64 before = mdls_outstanding();
    run(&m, misuse_locking, &c);
    fltsim_system *sys = m.w.sys;
    assert_int_equal(mm_reports(sys, "that is not locked"), 2);
    assert_int_equal(mm_reports(sys, "whose pages are not locked"), 1);
    assert_int_equal(mm_reports(sys, "already locked"), 1);
    assert_int_equal(mm_reports(sys, "already mapped to system space"), 1);
    assert_int_equal(mm_reports(sys, "no mapping of this MDL starts there"), 2);
    assert_int_equal(mm_reports(sys, "still locked"), 1);
    assert_int_equal(mm_reports(sys, "user-space mapping(s) left"), 1);
    assert_int_equal(mm_reports(sys, "MmProbeAndLockPages(NULL)"), 1);
    assert_int_equal(mm_reports(sys, "neither KernelMode nor UserMode"), 1);
    assert_int_equal(mm_reports(sys, "not a LOCK_OPERATION"), 1);
    assert_int_equal(fltsim_system_report_count(sys), 12);
    assert_int_equal(c.mdls_in_between, before + 1);
    assert_int_equal(mdls_outstanding(), before); /* the locked one was freed all the same */
    free(c.buf);
    fltsim_system_reports_clear(sys);
    mw_unload(&m);
}

static void free_foreign(void *ctx)
{
    unsigned char *buf = ctx;
    /* An MDL the driver built in its own storage (MmInitializeMdl). */
    union {
        MDL mdl;
        unsigned char room[sizeof(MDL) + 2 * sizeof(PFN_NUMBER)];
    } own;
    MmInitializeMdl(&own.mdl, buf, 64);
    assert_int_equal(own.mdl.Size, MmSizeOfMdl(buf, 64));
    MmProbeAndLockPages(&own.mdl, KernelMode, IoReadAccess);
    IoFreeMdl(&own.mdl); /* not IoAllocateMdl's: refused */
    assert_true(own.mdl.MdlFlags & MDL_PAGES_LOCKED);
    MmUnlockPages(&own.mdl);
    IoFreeMdl(NULL);
}

static void mdl_free_of_an_mdl_not_from_ioallocatemdl_is_reported(void **state)
{
    (void)state;
    struct mdl_world m;
    mw_load(&m);
    unsigned char *buf = pages(1);
    run(&m, free_foreign, buf);
    assert_int_equal(mm_reports(m.w.sys, "BAD_POOL_CALLER"), 1);
    assert_int_equal(mm_reports(m.w.sys, "IoFreeMdl(NULL)"), 1);
    assert_int_equal(fltsim_system_report_count(m.w.sys), 2);
    free(buf);
    fltsim_system_reports_clear(m.w.sys);
    mw_unload(&m);
}

/* ------------------------------------------------------------------------- */
/* Nonpaged pool and partial MDLs                                            */
/* ------------------------------------------------------------------------- */

static void nonpaged(void *ctx)
{
    (void)ctx;
    unsigned char *pool = ExAllocatePoolZero(NonPagedPoolNx, 300, 'tseT');
    PMDL mdl = IoAllocateMdl(pool, 300, FALSE, FALSE, NULL);
    MmBuildMdlForNonPagedPool(mdl);
    assert_int_equal(mdl->MdlFlags, MDL_ALLOCATED_FIXED_SIZE | MDL_SOURCE_IS_NONPAGED_POOL);
    assert_ptr_equal(mdl->MappedSystemVa, pool);
    assert_int_equal(MmGetMdlPfnArray(mdl)[0], (uintptr_t)pool >> PAGE_SHIFT);
    /* MmGetSystemAddressForMdlSafe answers from the MDL: no mapping made. */
    assert_ptr_equal(MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority), pool);
    assert_false(mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
    /* What is not allowed on such an MDL: each reported, nothing changed. */
    MmProbeAndLockPages(mdl, KernelMode, IoReadAccess);
    MmUnlockPages(mdl);
    assert_ptr_equal(MmMapLockedPages(mdl, KernelMode), pool);
    MmUnmapLockedPages(pool, mdl);
    MmBuildMdlForNonPagedPool(mdl);
    assert_int_equal(mdl->MdlFlags, MDL_ALLOCATED_FIXED_SIZE | MDL_SOURCE_IS_NONPAGED_POOL);
    IoFreeMdl(mdl);
    /* Over memory that is not there: left unbuilt. */
    mdl = IoAllocateMdl((PVOID)(uintptr_t)0x3000, 16, FALSE, FALSE, NULL);
    MmBuildMdlForNonPagedPool(mdl);
    assert_int_equal(mdl->MdlFlags, MDL_ALLOCATED_FIXED_SIZE);
    IoFreeMdl(mdl);
    ExFreePoolWithTag(pool, 'tseT');
}

static void mdl_nonpaged_pool_is_mapped_already_and_never_locked(void **state)
{
    (void)state;
    struct mdl_world m;
    mw_load(&m);
    run(&m, nonpaged, NULL);
    fltsim_system *sys = m.w.sys;
    assert_int_equal(mm_reports(sys, "whose pages are already locked (not allowed)"), 1);
    assert_int_equal(mm_reports(sys, "must not be unlocked"), 1);
    assert_int_equal(mm_reports(sys, "must not be mapped to system space again"), 1);
    assert_int_equal(mm_reports(sys, "is not the driver's to release"), 1);
    assert_int_equal(mm_reports(sys, "already describes built pages"), 1);
    assert_int_equal(mm_reports(sys, "is not mapped memory"), 1);
    assert_int_equal(fltsim_system_report_count(sys), 6);
    fltsim_system_reports_clear(sys);
    mw_unload(&m);
}

static void partial(void *ctx)
{
    unsigned char *buf = ctx;
    PMDL src = IoAllocateMdl(buf, 3 * PAGE_SIZE, FALSE, FALSE, NULL);
    PMDL part = IoAllocateMdl(buf, 3 * PAGE_SIZE, FALSE, FALSE, NULL);
    /* The source must be locked first: the target stays as it was. */
    IoBuildPartialMdl(src, part, buf + PAGE_SIZE, 100);
    assert_int_equal(part->MdlFlags, MDL_ALLOCATED_FIXED_SIZE);
    MmProbeAndLockPages(src, KernelMode, IoWriteAccess);

    IoBuildPartialMdl(src, part, buf + PAGE_SIZE + 10, 100);
    assert_int_equal(part->MdlFlags, MDL_ALLOCATED_FIXED_SIZE | MDL_PARTIAL | MDL_WRITE_OPERATION);
    assert_ptr_equal(MmGetMdlVirtualAddress(part), buf + PAGE_SIZE + 10);
    assert_int_equal(MmGetMdlByteCount(part), 100);
    assert_int_equal(MmGetMdlPfnArray(part)[0], MmGetMdlPfnArray(src)[1]);
    /* Partial MDLs are locked already: MmProbeAndLockPages refuses them. */
    MmProbeAndLockPages(part, KernelMode, IoReadAccess);
    /* Mapped on its own (the source is not), and unmapped for reuse. */
    assert_ptr_equal(MmGetSystemAddressForMdlSafe(part, NormalPagePriority), buf + PAGE_SIZE + 10);
    assert_true(part->MdlFlags & MDL_PARTIAL_HAS_BEEN_MAPPED);
    MmPrepareMdlForReuse(part);
    assert_false(part->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL_HAS_BEEN_MAPPED));

    /* Length 0: the rest of the source. Over a mapped source it uses the
     * source's mapping. */
    PVOID src_va = MmGetSystemAddressForMdlSafe(src, NormalPagePriority);
    IoBuildPartialMdl(src, part, buf + 2 * PAGE_SIZE, 0);
    assert_int_equal(MmGetMdlByteCount(part), PAGE_SIZE);
    assert_true(part->MdlFlags & MDL_PARENT_MAPPED_SYSTEM_VA);
    assert_ptr_equal(MmGetSystemAddressForMdlSafe(part, NormalPagePriority),
                     (char *)src_va + 2 * PAGE_SIZE);
    assert_false(part->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
    MmUnmapLockedPages((char *)src_va + 2 * PAGE_SIZE, part); /* the source's: refused */

    /* Not a subrange, and a target too small: left unchanged. */
    IoBuildPartialMdl(src, part, buf + 3 * PAGE_SIZE - 10, 20);
    IoBuildPartialMdl(src, part, buf - 1, 10);
    assert_int_equal(MmGetMdlByteCount(part), PAGE_SIZE);
    PMDL small = IoAllocateMdl(buf, 10, FALSE, FALSE, NULL);
    IoBuildPartialMdl(src, small, buf, 2 * PAGE_SIZE);
    assert_int_equal(small->MdlFlags, MDL_ALLOCATED_FIXED_SIZE);
    IoFreeMdl(small);

    /* Reused while mapped: the mapping is dropped, and reported. */
    MmUnmapLockedPages(src_va, src);
    IoBuildPartialMdl(src, part, buf, 10);
    MmGetSystemAddressForMdlSafe(part, NormalPagePriority);
    IoBuildPartialMdl(src, part, buf + 20, 10);
    /* IoFreeMdl releases a partial MDL's own mapping quietly. */
    MmGetSystemAddressForMdlSafe(part, NormalPagePriority);
    IoFreeMdl(part);
    MmUnlockPages(src);
    IoFreeMdl(src);
}

static void mdl_partial_describes_a_subrange_of_a_locked_mdl(void **state)
{
    (void)state;
    struct mdl_world m;
    mw_load(&m);
    unsigned char *buf = pages(3);
    run(&m, partial, buf);
    fltsim_system *sys = m.w.sys;
    assert_int_equal(mm_reports(sys, "from an MDL whose pages are not locked"), 1);
    assert_int_equal(mm_reports(sys, "built by IoBuildPartialMdl, whose pages"), 1);
    assert_int_equal(mm_reports(sys, "not a subrange"), 2);
    assert_int_equal(mm_reports(sys, "TARGET_MDL_TOO_SMALL"), 1);
    assert_int_equal(mm_reports(sys, "MmPrepareMdlForReuse"), 1);
    assert_int_equal(mm_reports(sys, "belongs to its source"), 1);
    assert_int_equal(fltsim_system_report_count(sys), 7);
    free(buf);
    fltsim_system_reports_clear(sys);
    mw_unload(&m);
}

/* ------------------------------------------------------------------------- */
/* IRQL and leaks                                                            */
/* ------------------------------------------------------------------------- */

static void at_dispatch(void *ctx)
{
    unsigned char *buf = ctx;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    PMDL mdl = IoAllocateMdl(buf, 64, FALSE, FALSE, NULL);
    MmProbeAndLockPages(mdl, KernelMode, IoReadAccess); /* nonpaged: DISPATCH_LEVEL */
    MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
    MmUnlockPages(mdl);
    MmProbeAndLockPages(mdl, UserMode, IoReadAccess); /* pageable: APC_LEVEL */
    MmMapLockedPagesSpecifyCache(mdl, UserMode, MmCached, NULL, FALSE, NormalPagePriority);
    MmUnmapLockedPages(buf, mdl);
    MmUnlockPages(mdl);
    IoFreeMdl(mdl);
    KeLowerIrql(old);
}

static void mdl_routines_check_their_irql(void **state)
{
    (void)state;
    struct mdl_world m;
    mw_load(&m);
    unsigned char *buf = pages(1);
    run(&m, at_dispatch, buf);
    /* The user-mode lock, map and unmap: each may run at APC_LEVEL at most. */
    assert_int_equal(fltsim_system_report_count_rule(m.w.sys, "V28"), 3);
    assert_int_equal(fltsim_system_report_count(m.w.sys), 3);
    free(buf);
    fltsim_system_reports_clear(m.w.sys);
    mw_unload(&m);
}

static void leak_one(void *ctx)
{
    *(PMDL *)ctx = IoAllocateMdl(ctx, 8, FALSE, FALSE, NULL);
}

static void mdl_leaked_by_a_driver_is_reported_at_unload(void **state)
{
    (void)state;
    struct mdl_world m;
    mw_load(&m);
    PMDL leaked = NULL;
    run(&m, leak_one, &leaked);
    assert_status(fltsim_driver_unload(m.tf.driver, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(m.w.sys, "V23"), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(m.w.sys, 0, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "tag 'Mdl '"));
    assert_non_null(strstr(r.message, "test_mdl.c:"));
    world_destroy(&m.w); /* the system takes its pool with it */
    assert_int_equal(mdls_outstanding(), m.mdls_before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mdl_layout_matches_the_wdk),
        cmocka_unit_test(mdl_size_counts_the_pages_spanned),
        cmocka_unit_test(mdl_allocate_describes_the_buffer_and_is_counted),
        cmocka_unit_test(mdl_allocate_with_an_irp_sets_or_chains_its_mdl),
        cmocka_unit_test(mdl_lock_map_and_unlock_keep_the_flags),
        cmocka_unit_test(mdl_probe_raises_for_buffers_it_cannot_lock),
        cmocka_unit_test(mdl_probe_without_try_is_an_uncaught_exception),
        cmocka_unit_test(mdl_misuse_of_locks_and_mappings_is_reported),
        cmocka_unit_test(mdl_free_of_an_mdl_not_from_ioallocatemdl_is_reported),
        cmocka_unit_test(mdl_nonpaged_pool_is_mapped_already_and_never_locked),
        cmocka_unit_test(mdl_partial_describes_a_subrange_of_a_locked_mdl),
        cmocka_unit_test(mdl_routines_check_their_irql),
        cmocka_unit_test(mdl_leaked_by_a_driver_is_reported_at_unload),
    };
    return FLTSIM_RUN_SUITE("mdl", tests);
}
