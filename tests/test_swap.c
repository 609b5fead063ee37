/*
 * Swapping buffers with MDLs (SPEC 6.3; issue 15 item 4), the way
 * Microsoft's swapBuffers sample does it (../shared/wdk-samples/miniFilter/
 * swapBuffers): a pre passes down a pool buffer described by its own MDL
 * (IoAllocateMdl, MmBuildMdlForNonPagedPool); the post copies the data back
 * through the original MDL, or, when there is none, from a safe post
 * (FltDoCompletionProcessingWhenSafe) after FltLockUserBuffer. FltMgr frees
 * the swapped-in MDL when that post is over, unless the filter retains it
 * (FltRetainSwappedBufferMdlAddress), and before the filter's teardown can
 * finish; FltGetSwappedBufferMdlAddress shows it. The file systems move data
 * through the MDL they are given, so swapping the MDL alone works. The
 * "encryption" is upper-casing.
 */
#include "fltsim_test.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MDL_TAG 0x206c644du  /* "Mdl " */
#define SWAP_TAG 0x70617753u /* "Swap" */
#define SECTOR 512

static ULONG64 mdls_outstanding(void)
{
    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(MDL_TAG, &st);
    return st.outstanding;
}

static ULONG reports_with(fltsim_system *sys, const char *rule, const char *text)
{
    ULONG n = 0, count = fltsim_system_report_count(sys);
    for (ULONG i = 0; i < count; i++) {
        struct fltsim_report r;
        if (fltsim_system_report_get(sys, i, &r) == STATUS_SUCCESS && strcmp(r.rule, rule) == 0 &&
            strstr(r.message, text) != NULL)
            n++;
    }
    return n;
}

/* ------------------------------------------------------------------------- */
/* The swapping filter, S                                                    */
/* ------------------------------------------------------------------------- */

/* What S does (set by the case) and what it saw (read after the I/O). */
static struct {
    bool mdl_only;      /* swap MdlAddress and leave the buffer pointer */
    bool retain;        /* FltRetainSwappedBufferMdlAddress in the post */
    bool free_retained; /* ... and IoFreeMdl it there */
    bool foreign;       /* an MDL in the filter's own storage (MmInitializeMdl) */
    bool get_in_pre;    /* FltGetSwappedBufferMdlAddress in the pre */
    PMDL made, got, got_in_pre;
    PVOID own; /* a foreign MDL's storage, left for the case to free */
    bool orig_mdl, when_safe, orig_untouched;
    NTSTATUS lock_status;
} sw;

struct swap_ctx {
    unsigned char *buf;
    PMDL mdl;
    PVOID own; /* storage of a foreign MDL */
};

static void upper(unsigned char *to, const unsigned char *from, size_t n)
{
    for (size_t i = 0; i < n; i++)
        to[i] = (unsigned char)toupper(from[i]);
}

static void swap_ctx_free(struct swap_ctx *c)
{
    ExFreePoolWithTag(c->buf, SWAP_TAG);
    /* A foreign MDL must outlive the post (FltMgr looks at it then): the
     * case frees its storage after the I/O. */
    if (c->own != NULL)
        sw.own = c->own;
    ExFreePoolWithTag(c, SWAP_TAG);
}

/* A new buffer of length bytes with an MDL for IRPs; NULL when out of pool. */
static struct swap_ctx *swap_ctx_new(PFLT_CALLBACK_DATA data, ULONG length)
{
    struct swap_ctx *c = ExAllocatePoolZero(NonPagedPoolNx, sizeof(*c), SWAP_TAG);
    if (c == NULL)
        return NULL;
    c->buf = ExAllocatePoolZero(NonPagedPoolNx, length, SWAP_TAG);
    if (c->buf == NULL) {
        ExFreePoolWithTag(c, SWAP_TAG);
        return NULL;
    }
    if (FLT_IS_IRP_OPERATION(data)) {
        if (sw.foreign) {
            c->own = ExAllocatePoolZero(NonPagedPoolNx, MmSizeOfMdl(c->buf, length), SWAP_TAG);
            c->mdl = c->own;
            MmInitializeMdl(c->mdl, c->buf, length);
        } else {
            c->mdl = IoAllocateMdl(c->buf, length, FALSE, FALSE, NULL);
        }
        MmBuildMdlForNonPagedPool(c->mdl);
    }
    sw.made = c->mdl;
    return c;
}

static FLT_PREOP_CALLBACK_STATUS swap_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                          PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf, (void)objects;
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    if (sw.get_in_pre)
        sw.got_in_pre = FltGetSwappedBufferMdlAddress(data);
    if (iopb->MajorFunction == IRP_MJ_READ) {
        if (iopb->Parameters.Read.Length == 0)
            return FLT_PREOP_SUCCESS_NO_CALLBACK;
        struct swap_ctx *c = swap_ctx_new(data, iopb->Parameters.Read.Length);
        if (c == NULL)
            return FLT_PREOP_SUCCESS_NO_CALLBACK;
        if (!sw.mdl_only)
            iopb->Parameters.Read.ReadBuffer = c->buf;
        iopb->Parameters.Read.MdlAddress = c->mdl;
        FltSetCallbackDataDirty(data);
        *context = c;
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    }
    if (iopb->MajorFunction == IRP_MJ_WRITE) {
        ULONG length = iopb->Parameters.Write.Length;
        if (length == 0)
            return FLT_PREOP_SUCCESS_NO_CALLBACK;
        PMDL orig_mdl = iopb->Parameters.Write.MdlAddress;
        const unsigned char *orig = orig_mdl != NULL
                                        ? MmGetSystemAddressForMdlSafe(orig_mdl, NormalPagePriority)
                                        : iopb->Parameters.Write.WriteBuffer;
        struct swap_ctx *c = swap_ctx_new(data, length);
        if (c == NULL || orig == NULL)
            return FLT_PREOP_SUCCESS_NO_CALLBACK;
        upper(c->buf, orig, length);
        iopb->Parameters.Write.WriteBuffer = c->buf;
        iopb->Parameters.Write.MdlAddress = c->mdl;
        FltSetCallbackDataDirty(data);
        *context = c;
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    }
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

/* The read's data go back upper-cased: to orig, or, through the MDL
 * FltLockUserBuffer makes, from a safe post. */
static FLT_POSTOP_CALLBACK_STATUS swap_post_when_safe(PFLT_CALLBACK_DATA data,
                                                      PCFLT_RELATED_OBJECTS objects, PVOID context,
                                                      FLT_POST_OPERATION_FLAGS flags)
{
    (void)objects, (void)flags;
    struct swap_ctx *c = context;
    sw.when_safe = true;
    sw.lock_status = FltLockUserBuffer(data);
    unsigned char *orig =
        NT_SUCCESS(sw.lock_status)
            ? MmGetSystemAddressForMdlSafe(data->Iopb->Parameters.Read.MdlAddress,
                                           NormalPagePriority | MdlMappingNoExecute)
            : NULL;
    if (orig != NULL) {
        upper(orig, c->buf, data->IoStatus.Information);
    } else {
        data->IoStatus.Status =
            NT_SUCCESS(sw.lock_status) ? STATUS_INSUFFICIENT_RESOURCES : sw.lock_status;
        data->IoStatus.Information = 0;
    }
    swap_ctx_free(c);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static FLT_POSTOP_CALLBACK_STATUS swap_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID context,
                                            FLT_POST_OPERATION_FLAGS flags)
{
    (void)tf;
    struct swap_ctx *c = context;
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    sw.got = FltGetSwappedBufferMdlAddress(data);
    if (sw.retain) {
        FltRetainSwappedBufferMdlAddress(data);
        if (sw.free_retained)
            IoFreeMdl(c->mdl);
    }
    if (iopb->MajorFunction == IRP_MJ_READ && NT_SUCCESS(data->IoStatus.Status) &&
        data->IoStatus.Information != 0) {
        /* The parameters are the original ones again (SPEC 6.3). */
        unsigned char *orig = NULL;
        if (iopb->Parameters.Read.MdlAddress != NULL) {
            sw.orig_mdl = true;
            orig = MmGetSystemAddressForMdlSafe(iopb->Parameters.Read.MdlAddress,
                                                NormalPagePriority | MdlMappingNoExecute);
        } else if (FLT_IS_SYSTEM_BUFFER(data) || FLT_IS_FASTIO_OPERATION(data)) {
            orig = iopb->Parameters.Read.ReadBuffer;
        } else {
            FLT_POSTOP_CALLBACK_STATUS st;
            if (FltDoCompletionProcessingWhenSafe(data, objects, c, flags, swap_post_when_safe,
                                                  &st))
                return st; /* the safe post frees c */
            data->IoStatus.Status = STATUS_UNSUCCESSFUL;
            data->IoStatus.Information = 0;
        }
        if (orig != NULL) {
            sw.orig_untouched = orig[0] == 0;
            upper(orig, c->buf, data->IoStatus.Information);
        }
    }
    swap_ctx_free(c); /* the MDL is FltMgr's to free */
    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* ------------------------------------------------------------------------- */
/* The world                                                                 */
/* ------------------------------------------------------------------------- */

struct sw_world {
    struct test_world w;
    struct tf_filter s;
    ULONG64 mdls_before, pool_before;
};

static void sw_load(struct sw_world *x, ULONG completion)
{
    tf_reset_all();
    memset(&sw, 0, sizeof(sw));
    x->mdls_before = mdls_outstanding();
    x->pool_before = fltsim_pool_outstanding();
    world_create_ex(&x->w, 0, completion);
    tf_init(&x->s, "S", "300000");
    tf_only(&x->s, IRP_MJ_READ);
    x->s.ops[IRP_MJ_WRITE].pre = x->s.ops[IRP_MJ_WRITE].post = true;
    x->s.pre = swap_pre;
    x->s.post = swap_post;
    assert_status(tf_load(x->w.sys, &x->s), STATUS_SUCCESS);
}

/* Unloads S: nothing leaked, nothing left allocated, no report unless the
 * case expects reports (it checks and clears them first). */
static void sw_unload(struct sw_world *x)
{
    assert_status(fltsim_system_wait_idle(x->w.sys, 10000), STATUS_SUCCESS);
    assert_status(fltsim_driver_unload(x->s.driver, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(x->w.sys), 0);
    world_destroy(&x->w);
    assert_int_equal(mdls_outstanding(), x->mdls_before);
    assert_int_equal(fltsim_pool_outstanding(), x->pool_before);
}

static void read_a(struct sw_world *x, ULONG flags, char *out, ULONG length)
{
    HANDLE h = world_open(&x->w, L"C:\\a.txt", GENERIC_READ);
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;
    memset(out, 0, length);
    assert_status(fltsim_io_read(x->w.sys, h, out, length, &zero, flags, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 11);
    assert_status(fltsim_io_close(x->w.sys, h), STATUS_SUCCESS);
}

/* ------------------------------------------------------------------------- */
/* Cases                                                                     */
/* ------------------------------------------------------------------------- */

static void swap_noncached_read_copies_back_through_the_original_mdl(void **state)
{
    (void)state;
    struct sw_world x;
    sw_load(&x, FLTSIM_COMPLETE_INLINE);
    char *buf = aligned_alloc(SECTOR, SECTOR);
    read_a(&x, FLTSIM_IO_NONCACHED, buf, SECTOR);
    assert_memory_equal(buf, "HELLO WORLD", 11);
    assert_true(sw.orig_mdl);
    assert_false(sw.when_safe);
    assert_non_null(sw.made);
    assert_ptr_equal(sw.got, sw.made); /* and FltMgr freed it after the post */
    assert_int_equal(mdls_outstanding(), x.mdls_before);
    free(buf);
    sw_unload(&x);
}

static void swap_cached_read_copies_back_from_a_safe_post(void **state)
{
    (void)state;
    struct sw_world x;
    sw_load(&x, FLTSIM_COMPLETE_ASYNC); /* posts at DISPATCH_LEVEL */
    char buf[64];
    read_a(&x, 0, buf, sizeof(buf));
    assert_memory_equal(buf, "HELLO WORLD", 11);
    assert_false(sw.orig_mdl);
    assert_true(sw.when_safe);
    assert_status(sw.lock_status, STATUS_SUCCESS);
    assert_ptr_equal(sw.got, sw.made);
    sw_unload(&x);
}

static void swap_writes_reach_the_file_transformed(void **state)
{
    (void)state;
    struct sw_world x;
    sw_load(&x, FLTSIM_COMPLETE_INLINE);
    HANDLE h = world_open(&x.w, L"C:\\a.txt", GENERIC_READ | GENERIC_WRITE);
    char *buf = aligned_alloc(SECTOR, SECTOR);
    memset(buf, 0, SECTOR);
    memcpy(buf, "quiet words", 11);
    LONGLONG zero = 0, far = 2 * SECTOR;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_write(x.w.sys, h, buf, SECTOR, &zero, FLTSIM_IO_NONCACHED, &iosb),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_write(x.w.sys, h, "cached", 6, &far, 0, &iosb), STATUS_SUCCESS);
    assert_status(fltsim_io_close(x.w.sys, h), STATUS_SUCCESS);
    char data[2 * SECTOR + 6];
    size_t got = 0;
    assert_status(fltsim_memfs_read_file(x.w.fs, L"\\a.txt", data, sizeof(data), &got),
                  STATUS_SUCCESS);
    assert_int_equal(got, sizeof(data));
    assert_memory_equal(data, "QUIET WORDS", 11);
    assert_memory_equal(data + 2 * SECTOR, "CACHED", 6);
    free(buf);
    sw_unload(&x);
}

static void swap_of_the_mdl_alone_moves_paging_data_through_it(void **state)
{
    (void)state;
    struct sw_world x;
    sw_load(&x, FLTSIM_COMPLETE_INLINE);
    sw.mdl_only = true;
    char *buf = aligned_alloc(SECTOR, SECTOR);
    read_a(&x, FLTSIM_IO_PAGING, buf, SECTOR);
    /* The file system wrote into S's buffer, not the caller's. */
    assert_true(sw.orig_untouched);
    assert_memory_equal(buf, "HELLO WORLD", 11);
    assert_ptr_equal(sw.got, sw.made);
    free(buf);
    sw_unload(&x);
}

static void swap_retained_mdl_is_left_to_the_filter(void **state)
{
    (void)state;
    struct sw_world x;
    sw_load(&x, FLTSIM_COMPLETE_INLINE);
    sw.retain = sw.free_retained = true;
    char *buf = aligned_alloc(SECTOR, SECTOR);
    read_a(&x, FLTSIM_IO_NONCACHED, buf, SECTOR); /* freed once, by S */
    assert_memory_equal(buf, "HELLO WORLD", 11);
    assert_int_equal(mdls_outstanding(), x.mdls_before);
    /* Retained and never freed: S's leak, reported at its unload. */
    sw.free_retained = false;
    read_a(&x, FLTSIM_IO_NONCACHED, buf, SECTOR);
    assert_int_equal(mdls_outstanding(), x.mdls_before + 1);
    assert_status(fltsim_driver_unload(x.s.driver, 0), STATUS_SUCCESS);
    assert_int_equal(reports_with(x.w.sys, "V23", "tag 'Mdl '"), 1);
    assert_int_equal(fltsim_system_report_count(x.w.sys), 1);
    world_destroy(&x.w);
    assert_int_equal(mdls_outstanding(), x.mdls_before);
    free(buf);
}

static void swap_of_an_mdl_not_from_ioallocatemdl_is_reported(void **state)
{
    (void)state;
    struct sw_world x;
    sw_load(&x, FLTSIM_COMPLETE_INLINE);
    sw.foreign = true;
    char *buf = aligned_alloc(SECTOR, SECTOR);
    read_a(&x, FLTSIM_IO_NONCACHED, buf, SECTOR);
    assert_memory_equal(buf, "HELLO WORLD", 11);
    assert_non_null(sw.own);
    ExFreePoolWithTag(sw.own, SWAP_TAG); /* S's own, as S's code would */
    assert_int_equal(reports_with(x.w.sys, "MM", "was not allocated by IoAllocateMdl"), 1);
    assert_int_equal(fltsim_system_report_count(x.w.sys), 1);
    fltsim_system_reports_clear(x.w.sys);
    free(buf);
    sw_unload(&x);
}

static void swap_get_outside_a_post_is_reported(void **state)
{
    (void)state;
    struct sw_world x;
    sw_load(&x, FLTSIM_COMPLETE_INLINE);
    sw.get_in_pre = true;
    sw.got_in_pre = (PMDL)1;
    char buf[64];
    read_a(&x, 0, buf, sizeof(buf));
    assert_null(sw.got_in_pre);
    assert_int_equal(reports_with(x.w.sys, "MM", "outside the post-operation callback"), 1);
    assert_int_equal(fltsim_system_report_count(x.w.sys), 1);
    fltsim_system_reports_clear(x.w.sys);
    sw_unload(&x);
}

/* U, above S: holds every read in its post until the case completes it. */
static PFLT_CALLBACK_DATA held;
static FLT_POSTOP_CALLBACK_STATUS hold_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID context,
                                            FLT_POST_OPERATION_FLAGS flags)
{
    (void)tf, (void)objects, (void)context;
    if (data->Iopb->MajorFunction != IRP_MJ_READ || (flags & FLTFL_POST_OPERATION_DRAINING))
        return FLT_POSTOP_FINISHED_PROCESSING;
    __atomic_store_n(&held, data, __ATOMIC_SEQ_CST);
    return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
}

static void swap_mdl_is_freed_before_the_swapper_can_unload(void **state)
{
    (void)state;
    struct sw_world x;
    sw_load(&x, FLTSIM_COMPLETE_INLINE);
    struct tf_filter u;
    tf_init(&u, "U", "400000");
    tf_only(&u, IRP_MJ_READ);
    u.post = hold_post;
    held = NULL;
    assert_status(tf_load(x.w.sys, &u), STATUS_SUCCESS);
    HANDLE h = open_overlapped(x.w.sys, L"C:\\a.txt", GENERIC_READ);
    char *buf = aligned_alloc(SECTOR, SECTOR);
    memset(buf, 0, SECTOR);
    KEVENT done;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    struct fltsim_io_async a = {.event = &done};
    assert_status(fltsim_io_read_async(x.w.sys, h, buf, SECTOR, 0, FLTSIM_IO_NONCACHED, &a),
                  STATUS_PENDING);
    assert_non_null(__atomic_load_n(&held, __ATOMIC_SEQ_CST));
    /* S's post is over: its MDL is gone although the read is not complete,
     * and S unloads without a leak. */
    assert_int_equal(mdls_outstanding(), x.mdls_before + 1); /* the I/O manager's */
    assert_status(fltsim_driver_unload(x.s.driver, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(x.w.sys), 0);
    FltCompletePendedPostOperation(held);
    assert_status(KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    assert_status(a.iosb.Status, STATUS_SUCCESS);
    assert_memory_equal(buf, "HELLO WORLD", 11);
    assert_status(fltsim_io_close(x.w.sys, h), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(x.w.sys, 10000), STATUS_SUCCESS);
    assert_status(fltsim_driver_unload(u.driver, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(x.w.sys), 0);
    world_destroy(&x.w);
    assert_int_equal(mdls_outstanding(), x.mdls_before);
    assert_int_equal(fltsim_pool_outstanding(), x.pool_before);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(swap_noncached_read_copies_back_through_the_original_mdl),
        cmocka_unit_test(swap_cached_read_copies_back_from_a_safe_post),
        cmocka_unit_test(swap_writes_reach_the_file_transformed),
        cmocka_unit_test(swap_of_the_mdl_alone_moves_paging_data_through_it),
        cmocka_unit_test(swap_retained_mdl_is_left_to_the_filter),
        cmocka_unit_test(swap_of_an_mdl_not_from_ioallocatemdl_is_reported),
        cmocka_unit_test(swap_get_outside_a_post_is_reported),
        cmocka_unit_test(swap_mdl_is_freed_before_the_swapper_can_unload),
    };
    return FLTSIM_RUN_SUITE("swap", tests);
}
