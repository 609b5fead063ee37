/*
 * The buffers of operations (issue 15 item 4): the MDLs the I/O manager gives
 * paging, non-cached and direct-method requests (locked, released at
 * completion) and the file systems' use of them; FltDecodeParameters for each
 * major; FltLockUserBuffer (in a pre, in a post, for fast I/O and system
 * buffers, and what it refuses); and buffer swapping as Microsoft's
 * swapBuffers sample does it (a buffer with its own MDL, copied back through
 * the original MDL or through FltLockUserBuffer from a safe post), with
 * FltGetSwappedBufferMdlAddress / FltRetainSwappedBufferMdlAddress and the
 * MDL FltMgr frees when the swapping filter's post is over.
 */
#include "fltsim_test.h"

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

/* The number of reports of rule whose message contains text. */
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
/* A world with one test filter, B                                           */
/* ------------------------------------------------------------------------- */

struct bw {
    struct test_world w;
    struct tf_filter b;
    ULONG64 mdls_before, pool_before;
};

static void bw_load(struct bw *x, ULONG completion, tf_pre_fn pre, tf_post_fn post)
{
    tf_reset_all();
    rec_reset();
    x->mdls_before = mdls_outstanding();
    x->pool_before = fltsim_pool_outstanding();
    world_create_ex(&x->w, 0, completion);
    tf_init(&x->b, "B", "300000");
    x->b.pre = pre;
    x->b.post = post;
    assert_status(tf_load(x->w.sys, &x->b), STATUS_SUCCESS);
}

/* No MDL or pool block left, no leak at unload; reports were checked (and
 * cleared) by the case. */
static void bw_unload(struct bw *x)
{
    assert_status(fltsim_system_wait_idle(x->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(mdls_outstanding(), x->mdls_before);
    assert_status(fltsim_driver_unload(x->b.driver, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(x->w.sys), 0);
    world_destroy(&x->w);
    assert_int_equal(fltsim_pool_outstanding(), x->pool_before);
}

/* What B's last pre and post saw of the read or write MDL. */
struct seen {
    PMDL pre_mdl, post_mdl;
    USHORT pre_flags, post_flags;
    PVOID pre_buffer, pre_mdl_va;
    ULONG pre_count;
};
static struct seen seen;

static PMDL *rw_mdl(PFLT_CALLBACK_DATA data)
{
    return data->Iopb->MajorFunction == IRP_MJ_WRITE ? &data->Iopb->Parameters.Write.MdlAddress
                                                     : &data->Iopb->Parameters.Read.MdlAddress;
}

static FLT_PREOP_CALLBACK_STATUS see_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                         PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf, (void)objects, (void)context;
    UCHAR major = data->Iopb->MajorFunction;
    if (major != IRP_MJ_READ && major != IRP_MJ_WRITE)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    PMDL mdl = *rw_mdl(data);
    seen.pre_count++;
    seen.pre_mdl = mdl;
    seen.pre_flags = mdl != NULL ? mdl->MdlFlags : 0;
    seen.pre_mdl_va = mdl != NULL ? MmGetMdlVirtualAddress(mdl) : NULL;
    seen.pre_buffer = data->Iopb->Parameters.Read.ReadBuffer;
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS see_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                           PCFLT_RELATED_OBJECTS objects, PVOID context,
                                           FLT_POST_OPERATION_FLAGS flags)
{
    (void)tf, (void)objects, (void)context, (void)flags;
    PMDL mdl = *rw_mdl(data);
    seen.post_mdl = mdl;
    seen.post_flags = mdl != NULL ? mdl->MdlFlags : 0;
    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* ------------------------------------------------------------------------- */
/* The I/O manager's MDLs                                                    */
/* ------------------------------------------------------------------------- */

static void io_cached_requests_carry_no_mdl_paging_and_noncached_do(void **state)
{
    (void)state;
    struct bw x;
    bw_load(&x, FLTSIM_COMPLETE_INLINE, see_pre, see_post);
    HANDLE h = world_open(&x.w, L"C:\\a.txt", GENERIC_READ | GENERIC_WRITE);
    char *buf = aligned_alloc(SECTOR, SECTOR);
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;

    memset(&seen, 0, sizeof(seen));
    assert_status(fltsim_io_read(x.w.sys, h, buf, 64, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_null(seen.pre_mdl);
    assert_null(seen.post_mdl);

    /* Non-cached: locked for the file system to write, not mapped; the file
     * system moved the data through it (mapping it). */
    memset(&seen, 0, sizeof(seen));
    memset(buf, 0, SECTOR);
    ULONG64 before = mdls_outstanding();
    assert_status(fltsim_io_read(x.w.sys, h, buf, SECTOR, &zero, FLTSIM_IO_NONCACHED, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 11);
    assert_memory_equal(buf, "hello world", 11);
    assert_non_null(seen.pre_mdl);
    assert_int_equal(seen.pre_flags,
                     MDL_ALLOCATED_FIXED_SIZE | MDL_PAGES_LOCKED | MDL_WRITE_OPERATION);
    assert_ptr_equal(seen.pre_mdl_va, buf);
    assert_ptr_equal(seen.pre_buffer, buf);
    assert_ptr_equal(seen.post_mdl, seen.pre_mdl);
    assert_true(seen.post_flags & MDL_MAPPED_TO_SYSTEM_VA);
    assert_int_equal(mdls_outstanding(), before); /* released at completion */

    /* Paging I/O: Mm's locked pages. */
    memset(&seen, 0, sizeof(seen));
    assert_status(fltsim_io_read(x.w.sys, h, buf, SECTOR, &zero, FLTSIM_IO_PAGING, &iosb),
                  STATUS_SUCCESS);
    assert_non_null(seen.pre_mdl);
    assert_true(seen.pre_flags & MDL_PAGES_LOCKED);

    /* A non-cached write: locked for reading only; the data reach the file. */
    memset(&seen, 0, sizeof(seen));
    memset(buf, 'w', SECTOR);
    assert_status(fltsim_io_write(x.w.sys, h, buf, SECTOR, &zero, FLTSIM_IO_NONCACHED, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(seen.pre_flags, MDL_ALLOCATED_FIXED_SIZE | MDL_PAGES_LOCKED);
    char back[4] = {0};
    assert_status(fltsim_io_read(x.w.sys, h, back, 3, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_memory_equal(back, "www", 3);
    assert_int_equal(mdls_outstanding(), before);
    assert_status(fltsim_io_close(x.w.sys, h), STATUS_SUCCESS);
    free(buf);
    bw_unload(&x);
}

static void io_overlapped_noncached_read_keeps_its_mdl_until_completion(void **state)
{
    (void)state;
    struct bw x;
    bw_load(&x, FLTSIM_COMPLETE_ASYNC, see_pre, see_post);
    HANDLE h = open_overlapped(x.w.sys, L"C:\\a.txt", GENERIC_READ);
    char *buf = aligned_alloc(SECTOR, SECTOR);
    KEVENT done;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    struct fltsim_io_async a = {.event = &done};
    memset(&seen, 0, sizeof(seen));
    NTSTATUS status = fltsim_io_read_async(x.w.sys, h, buf, SECTOR, 0, FLTSIM_IO_NONCACHED, &a);
    assert_true(status == STATUS_PENDING || status == STATUS_SUCCESS);
    assert_status(KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    assert_status(a.iosb.Status, STATUS_SUCCESS);
    assert_memory_equal(buf, "hello world", 11);
    assert_non_null(seen.post_mdl); /* the post (at DISPATCH_LEVEL) still had it */
    assert_status(fltsim_system_wait_idle(x.w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(mdls_outstanding(), x.mdls_before);
    assert_status(fltsim_io_close(x.w.sys, h), STATUS_SUCCESS);
    free(buf);
    bw_unload(&x);
}

static void io_noncached_request_with_a_bad_buffer_fails_before_any_irp(void **state)
{
    (void)state;
    struct bw x;
    bw_load(&x, FLTSIM_COMPLETE_INLINE, see_pre, see_post);
    HANDLE h = world_open(&x.w, L"C:\\a.txt", GENERIC_READ);
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;
    memset(&seen, 0, sizeof(seen));
    assert_status(fltsim_io_read(x.w.sys, h, (void *)(uintptr_t)0x1000, SECTOR, &zero,
                                 FLTSIM_IO_NONCACHED, &iosb),
                  STATUS_ACCESS_VIOLATION);
    assert_status(iosb.Status, STATUS_ACCESS_VIOLATION);
    assert_int_equal(seen.pre_count, 0);
    assert_status(fltsim_io_close(x.w.sys, h), STATUS_SUCCESS);
    bw_unload(&x);
}

static struct {
    PMDL mdl;
    USHORT flags;
    PVOID va;
} control_seen;

static FLT_PREOP_CALLBACK_STATUS control_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                             PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf, (void)objects, (void)context;
    if (data->Iopb->MajorFunction != IRP_MJ_DEVICE_CONTROL)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    PMDL mdl = data->Iopb->Parameters.DeviceIoControl.Neither.OutputMdlAddress;
    control_seen.mdl = mdl;
    control_seen.flags = mdl != NULL ? mdl->MdlFlags : 0;
    control_seen.va = mdl != NULL ? MmGetMdlVirtualAddress(mdl) : NULL;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void io_direct_control_methods_lock_the_output_buffer(void **state)
{
    (void)state;
    struct bw x;
    bw_load(&x, FLTSIM_COMPLETE_INLINE, control_pre, NULL);
    HANDLE h = world_open(&x.w, L"C:\\a.txt", GENERIC_READ);
    char in[8] = "in", out[64];
    IO_STATUS_BLOCK iosb;
    const ULONG out_direct = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_OUT_DIRECT, 0);
    const ULONG in_direct = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_IN_DIRECT, 0);
    const ULONG neither = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x802, METHOD_NEITHER, 0);

    memset(&control_seen, 0, sizeof(control_seen));
    fltsim_io_device_control(x.w.sys, h, out_direct, in, sizeof(in), out, sizeof(out), 0, &iosb);
    assert_non_null(control_seen.mdl);
    assert_int_equal(control_seen.flags,
                     MDL_ALLOCATED_FIXED_SIZE | MDL_PAGES_LOCKED | MDL_WRITE_OPERATION);
    assert_ptr_equal(control_seen.va, out);

    memset(&control_seen, 0, sizeof(control_seen));
    fltsim_io_device_control(x.w.sys, h, in_direct, in, sizeof(in), out, sizeof(out), 0, &iosb);
    assert_int_equal(control_seen.flags, MDL_ALLOCATED_FIXED_SIZE | MDL_PAGES_LOCKED);

    memset(&control_seen, 0, sizeof(control_seen));
    fltsim_io_device_control(x.w.sys, h, out_direct, in, sizeof(in), NULL, 0, 0, &iosb);
    assert_null(control_seen.mdl); /* no output buffer, no MDL */
    fltsim_io_device_control(x.w.sys, h, neither, in, sizeof(in), out, sizeof(out), 0, &iosb);
    assert_null(control_seen.mdl);

    /* An output buffer that cannot be locked fails before the IRP. */
    assert_status(fltsim_io_device_control(x.w.sys, h, out_direct, in, sizeof(in),
                                           (void *)(uintptr_t)0x2000, 16, 0, &iosb),
                  STATUS_ACCESS_VIOLATION);
    assert_status(fltsim_io_close(x.w.sys, h), STATUS_SUCCESS);
    bw_unload(&x);
}

/* ------------------------------------------------------------------------- */
/* FltDecodeParameters                                                       */
/* ------------------------------------------------------------------------- */

#define NONE (-1L)
struct decoded_seen {
    bool hit;
    NTSTATUS status;
    long mdl, buffer, length; /* offsets in FLT_PARAMETERS, NONE for NULL */
    LOCK_OPERATION access;
};
/* By operation code; fast I/O at code + 256. */
static struct decoded_seen decoded[512];

static long offset_in(PFLT_CALLBACK_DATA data, const void *p)
{
    return p == NULL ? NONE : (long)((const char *)p - (const char *)&data->Iopb->Parameters);
}

static FLT_PREOP_CALLBACK_STATUS decode_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf, (void)objects, (void)context;
    PMDL *mdl = (PMDL *)1;
    PVOID *buffer = (PVOID *)1;
    PULONG length = (PULONG)1;
    LOCK_OPERATION access = (LOCK_OPERATION)77;
    NTSTATUS status = FltDecodeParameters(data, &mdl, &buffer, &length, &access);
    size_t k = data->Iopb->MajorFunction + (FLT_IS_FASTIO_OPERATION(data) ? 256 : 0);
    decoded[k] = (struct decoded_seen){
        true,  status, offset_in(data, mdl), offset_in(data, buffer), offset_in(data, length),
        access};
    /* The optional outputs may be NULL. */
    FltDecodeParameters(data, NULL, NULL, NULL, NULL);
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

#define OFF(member) ((long)offsetof(FLT_PARAMETERS, member))

static void expect_decoded(size_t k, NTSTATUS status, long mdl, long buffer, long length,
                           LOCK_OPERATION access)
{
    const struct decoded_seen *d = &decoded[k];
    assert_true(d->hit);
    assert_status(d->status, status);
    assert_int_equal(d->mdl, mdl);
    assert_int_equal(d->buffer, buffer);
    assert_int_equal(d->length, length);
    if (NT_SUCCESS(status))
        assert_int_equal(d->access, access);
    else
        assert_int_equal(d->access, 77); /* left alone */
}

static void decode_parameters_points_into_the_parameter_block(void **state)
{
    (void)state;
    struct bw x;
    bw_load(&x, FLTSIM_COMPLETE_INLINE, decode_pre, NULL);
    memset(decoded, 0, sizeof(decoded));
    fltsim_system *sys = x.w.sys;
    HANDLE h = world_open(&x.w, L"C:\\a.txt",
                          GENERIC_READ | GENERIC_WRITE | READ_CONTROL | WRITE_DAC | FILE_READ_EA);
    HANDLE dir = world_open(&x.w, L"C:\\dir", FILE_LIST_DIRECTORY);
    char buf[512];
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;
    fltsim_io_read(sys, h, buf, 8, &zero, 0, &iosb);
    fltsim_io_read(sys, h, buf, 8, &zero, FLTSIM_IO_FAST_ONLY, &iosb);
    fltsim_io_write(sys, h, "x", 1, &zero, 0, &iosb);
    fltsim_io_query_information(sys, h, buf, sizeof(buf), FileStandardInformation, 0, &iosb);
    FILE_BASIC_INFORMATION basic;
    memset(&basic, 0, sizeof(basic));
    fltsim_io_set_information(sys, h, &basic, sizeof(basic), FileBasicInformation, &iosb);
    fltsim_io_query_volume_information(sys, h, buf, sizeof(buf), FileFsSizeInformation, &iosb);
    fltsim_io_query_directory(sys, dir, buf, sizeof(buf), FileNamesInformation, NULL, 0, &iosb);
    fltsim_io_query_ea(sys, h, buf, sizeof(buf), TRUE, &iosb);
    fltsim_io_query_security(sys, h, OWNER_SECURITY_INFORMATION, buf, sizeof(buf), &iosb);
    fltsim_io_fs_control(sys, h, FSCTL_IS_VOLUME_MOUNTED, NULL, 0, NULL, 0, &iosb);
    fltsim_io_device_control(sys, h, CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_OUT_DIRECT, 0),
                             NULL, 0, buf, 8, FLTSIM_IO_FAST_ONLY, &iosb);
    fltsim_io_map_section(sys, h, PAGE_READONLY);
    assert_status(fltsim_io_close(sys, dir), STATUS_SUCCESS);
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
    /* A FILE_SYSTEM_CONTROL with METHOD_NEITHER and a device control with
     * METHOD_IN_DIRECT, opened again (the close above went through). */
    h = world_open(&x.w, L"C:\\a.txt", GENERIC_READ);
    fltsim_io_device_control(sys, h, CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_IN_DIRECT, 0),
                             NULL, 0, buf, 8, 0, &iosb);
    size_t ioctl_direct = IRP_MJ_DEVICE_CONTROL;
    struct decoded_seen in_direct = decoded[ioctl_direct];
    fltsim_io_fs_control(sys, h, CTL_CODE(FILE_DEVICE_FILE_SYSTEM, 0x900, METHOD_NEITHER, 0), NULL,
                         0, buf, 8, &iosb);
    struct decoded_seen fsctl_neither = decoded[IRP_MJ_FILE_SYSTEM_CONTROL];
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);

    expect_decoded(IRP_MJ_READ, STATUS_SUCCESS, OFF(Read.MdlAddress), OFF(Read.ReadBuffer),
                   OFF(Read.Length), IoWriteAccess);
    expect_decoded(256 + IRP_MJ_READ, STATUS_SUCCESS, OFF(Read.MdlAddress), OFF(Read.ReadBuffer),
                   OFF(Read.Length), IoWriteAccess);
    expect_decoded(IRP_MJ_WRITE, STATUS_SUCCESS, OFF(Write.MdlAddress), OFF(Write.WriteBuffer),
                   OFF(Write.Length), IoReadAccess);
    expect_decoded(IRP_MJ_QUERY_INFORMATION, STATUS_SUCCESS, NONE,
                   OFF(QueryFileInformation.InfoBuffer), OFF(QueryFileInformation.Length),
                   IoWriteAccess);
    expect_decoded(IRP_MJ_SET_INFORMATION, STATUS_SUCCESS, NONE, OFF(SetFileInformation.InfoBuffer),
                   OFF(SetFileInformation.Length), IoReadAccess);
    expect_decoded(IRP_MJ_QUERY_VOLUME_INFORMATION, STATUS_SUCCESS, NONE,
                   OFF(QueryVolumeInformation.VolumeBuffer), OFF(QueryVolumeInformation.Length),
                   IoWriteAccess);
    expect_decoded(IRP_MJ_DIRECTORY_CONTROL, STATUS_SUCCESS,
                   OFF(DirectoryControl.QueryDirectory.MdlAddress),
                   OFF(DirectoryControl.QueryDirectory.DirectoryBuffer),
                   OFF(DirectoryControl.QueryDirectory.Length), IoWriteAccess);
    expect_decoded(IRP_MJ_QUERY_EA, STATUS_SUCCESS, OFF(QueryEa.MdlAddress), OFF(QueryEa.EaBuffer),
                   OFF(QueryEa.Length), IoWriteAccess);
    expect_decoded(IRP_MJ_QUERY_SECURITY, STATUS_SUCCESS, OFF(QuerySecurity.MdlAddress),
                   OFF(QuerySecurity.SecurityBuffer), OFF(QuerySecurity.Length), IoWriteAccess);
    /* FSCTL_IS_VOLUME_MOUNTED is METHOD_BUFFERED: the system buffer, no MDL. */
    expect_decoded(256 + IRP_MJ_DEVICE_CONTROL, STATUS_SUCCESS, NONE,
                   OFF(DeviceIoControl.FastIo.OutputBuffer),
                   OFF(DeviceIoControl.FastIo.OutputBufferLength), IoWriteAccess);
    decoded[IRP_MJ_DEVICE_CONTROL] = in_direct;
    expect_decoded(IRP_MJ_DEVICE_CONTROL, STATUS_SUCCESS,
                   OFF(DeviceIoControl.Direct.OutputMdlAddress),
                   OFF(DeviceIoControl.Direct.OutputBuffer),
                   OFF(DeviceIoControl.Common.OutputBufferLength), IoReadAccess);
    decoded[IRP_MJ_FILE_SYSTEM_CONTROL] = fsctl_neither;
    expect_decoded(IRP_MJ_FILE_SYSTEM_CONTROL, STATUS_SUCCESS,
                   OFF(FileSystemControl.Neither.OutputMdlAddress),
                   OFF(FileSystemControl.Neither.OutputBuffer),
                   OFF(FileSystemControl.Common.OutputBufferLength), IoWriteAccess);
    /* No buffer parameters: create, cleanup, close, and FS-filter callbacks. */
    expect_decoded(IRP_MJ_CREATE, STATUS_INVALID_PARAMETER, NONE, NONE, NONE, 0);
    expect_decoded(IRP_MJ_CLEANUP, STATUS_INVALID_PARAMETER, NONE, NONE, NONE, 0);
    expect_decoded(IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION, STATUS_INVALID_PARAMETER, NONE, NONE,
                   NONE, 0);
    /* Not an operation's callback data: reported. */
    /* Room past the callback data: fltsim looks for its operation there. */
    union {
        FLT_CALLBACK_DATA data;
        char room[4096];
    } bogus;
    memset(&bogus, 0, sizeof(bogus));
    PMDL *m = (PMDL *)1;
    assert_status(FltDecodeParameters(&bogus.data, &m, NULL, NULL, NULL), STATUS_INVALID_PARAMETER);
    assert_null(m);
    bw_unload(&x);
}

static void decode_parameters_buffered_control_has_no_mdl(void **state)
{
    (void)state;
    struct bw x;
    bw_load(&x, FLTSIM_COMPLETE_INLINE, decode_pre, NULL);
    memset(decoded, 0, sizeof(decoded));
    HANDLE h = world_open(&x.w, L"C:\\a.txt", GENERIC_READ);
    IO_STATUS_BLOCK iosb;
    char out[16];
    fltsim_io_fs_control(x.w.sys, h, FSCTL_GET_REPARSE_POINT, NULL, 0, out, sizeof(out), &iosb);
    expect_decoded(IRP_MJ_FILE_SYSTEM_CONTROL, STATUS_SUCCESS, NONE,
                   OFF(FileSystemControl.Buffered.SystemBuffer),
                   OFF(FileSystemControl.Common.OutputBufferLength), IoWriteAccess);
    assert_status(fltsim_io_close(x.w.sys, h), STATUS_SUCCESS);
    bw_unload(&x);
}

/* ------------------------------------------------------------------------- */
/* FltLockUserBuffer                                                         */
/* ------------------------------------------------------------------------- */

static struct {
    NTSTATUS first, second, refused;
    PMDL mdl, again, lower_saw, swapped;
    USHORT flags;
    ULONG data_flags;
    PVOID va;
    bool in_post, raise_irql, bad_minor, free_it, complete_with_status;
} lk;

static FLT_PREOP_CALLBACK_STATUS lock_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                          PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf, (void)objects, (void)context;
    UCHAR major = data->Iopb->MajorFunction;
    if (major == IRP_MJ_QUERY_INFORMATION || major == IRP_MJ_DEVICE_CONTROL ||
        major == IRP_MJ_FILE_SYSTEM_CONTROL) {
        lk.refused = FltLockUserBuffer(data);
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    if (major != IRP_MJ_READ || lk.in_post)
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    if (lk.bad_minor) {
        UCHAR minor = data->Iopb->MinorFunction;
        data->Iopb->MinorFunction = IRP_MN_MDL;
        lk.refused = FltLockUserBuffer(data);
        data->Iopb->MinorFunction = minor;
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    KIRQL old = PASSIVE_LEVEL;
    if (lk.raise_irql)
        KeRaiseIrql(DISPATCH_LEVEL, &old);
    lk.first = FltLockUserBuffer(data);
    if (lk.raise_irql)
        KeLowerIrql(old);
    lk.data_flags = data->Flags;
    lk.mdl = data->Iopb->Parameters.Read.MdlAddress;
    if (!NT_SUCCESS(lk.first)) {
        data->IoStatus.Status = lk.first;
        data->IoStatus.Information = 0;
        return FLT_PREOP_COMPLETE;
    }
    lk.flags = (USHORT)lk.mdl->MdlFlags;
    lk.va = MmGetMdlVirtualAddress(lk.mdl);
    lk.second = FltLockUserBuffer(data);
    lk.again = data->Iopb->Parameters.Read.MdlAddress;
    if (lk.free_it)
        IoFreeMdl(lk.mdl); /* the system's: refused */
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS lock_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID context,
                                            FLT_POST_OPERATION_FLAGS flags)
{
    (void)tf, (void)objects, (void)context, (void)flags;
    if (data->Iopb->MajorFunction != IRP_MJ_READ)
        return FLT_POSTOP_FINISHED_PROCESSING;
    lk.swapped = FltGetSwappedBufferMdlAddress(data);
    if (!lk.in_post)
        return FLT_POSTOP_FINISHED_PROCESSING;
    ULONG before = data->Flags;
    lk.first = FltLockUserBuffer(data);
    lk.mdl = data->Iopb->Parameters.Read.MdlAddress;
    lk.data_flags = data->Flags & ~before; /* what the call added */
    if (NT_SUCCESS(lk.first)) {
        lk.flags = (USHORT)lk.mdl->MdlFlags;
        char *va = MmGetSystemAddressForMdlSafe(lk.mdl, NormalPagePriority);
        lk.va = va;
        if (va != NULL && data->IoStatus.Information > 0)
            va[0] = 'H'; /* the caller's buffer, through the mapping */
    }
    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* A second filter below B: what its pre received. */
static FLT_PREOP_CALLBACK_STATUS lower_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                           PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf, (void)objects, (void)context;
    if (data->Iopb->MajorFunction == IRP_MJ_READ)
        lk.lower_saw = data->Iopb->Parameters.Read.MdlAddress;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void lock_user_buffer_in_pre_passes_an_operation_mdl_down(void **state)
{
    (void)state;
    struct bw x;
    memset(&lk, 0, sizeof(lk));
    lk.free_it = true;
    bw_load(&x, FLTSIM_COMPLETE_INLINE, lock_pre, lock_post);
    struct tf_filter lower;
    tf_init(&lower, "L", "100000");
    lower.pre = lower_pre;
    assert_status(tf_load(x.w.sys, &lower), STATUS_SUCCESS);
    HANDLE h = world_open(&x.w, L"C:\\a.txt", GENERIC_READ);
    char buf[32] = {0};
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_read(x.w.sys, h, buf, sizeof(buf), &zero, 0, &iosb), STATUS_SUCCESS);
    assert_memory_equal(buf, "hello world", 11); /* moved through the MDL */
    assert_status(lk.first, STATUS_SUCCESS);
    assert_non_null(lk.mdl);
    assert_int_equal(lk.flags, MDL_ALLOCATED_FIXED_SIZE | MDL_PAGES_LOCKED | MDL_WRITE_OPERATION |
                                   MDL_INTERNAL);
    assert_ptr_equal(lk.va, buf);
    assert_true(lk.data_flags & FLTFL_CALLBACK_DATA_DIRTY);
    assert_status(lk.second, STATUS_SUCCESS);
    assert_ptr_equal(lk.again, lk.mdl);     /* locked already: the same MDL */
    assert_ptr_equal(lk.lower_saw, lk.mdl); /* passed down */
    assert_null(lk.swapped);                /* not a swapped buffer */
    assert_int_equal(fltsim_system_report_count_rule(x.w.sys, "V16"), 0);
    assert_int_equal(reports_with(x.w.sys, "MM", "the caller never does"), 1);
    assert_int_equal(fltsim_system_report_count(x.w.sys), 1);
    fltsim_system_reports_clear(x.w.sys);
    assert_status(fltsim_io_close(x.w.sys, h), STATUS_SUCCESS);
    assert_status(fltsim_driver_unload(lower.driver, 0), STATUS_SUCCESS);
    bw_unload(&x);
}

static void lock_user_buffer_in_post_locks_the_post_view(void **state)
{
    (void)state;
    struct bw x;
    memset(&lk, 0, sizeof(lk));
    lk.in_post = true;
    bw_load(&x, FLTSIM_COMPLETE_INLINE, lock_pre, lock_post);
    HANDLE h = world_open(&x.w, L"C:\\a.txt", GENERIC_READ);
    char buf[32] = {0};
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_read(x.w.sys, h, buf, sizeof(buf), &zero, 0, &iosb), STATUS_SUCCESS);
    assert_status(lk.first, STATUS_SUCCESS);
    assert_true(lk.flags & MDL_PAGES_LOCKED);
    assert_int_equal(lk.data_flags, 0); /* not dirty: nothing goes down any more */
    assert_ptr_equal(lk.va, buf);
    assert_memory_equal(buf, "Hello world", 11);
    assert_int_equal(fltsim_system_report_count(x.w.sys), 0);
    assert_status(fltsim_io_close(x.w.sys, h), STATUS_SUCCESS);
    bw_unload(&x);
}

static void lock_user_buffer_fast_io_and_irql(void **state)
{
    (void)state;
    struct bw x;
    memset(&lk, 0, sizeof(lk));
    lk.raise_irql = true;
    bw_load(&x, FLTSIM_COMPLETE_INLINE, lock_pre, lock_post);
    HANDLE h = world_open(&x.w, L"C:\\a.txt", GENERIC_READ);
    char buf[32] = {0};
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;
    /* Fast I/O has a buffer to lock too; at DISPATCH_LEVEL it is a V28. */
    assert_status(fltsim_io_read(x.w.sys, h, buf, sizeof(buf), &zero, FLTSIM_IO_FAST_ONLY, &iosb),
                  STATUS_SUCCESS);
    assert_status(lk.first, STATUS_SUCCESS);
    assert_true(lk.flags & MDL_PAGES_LOCKED);
    assert_memory_equal(buf, "hello world", 11);
    assert_int_equal(reports_with(x.w.sys, "V28", "FltLockUserBuffer"), 1);
    assert_int_equal(fltsim_system_report_count(x.w.sys), 1);
    fltsim_system_reports_clear(x.w.sys);
    assert_status(fltsim_io_close(x.w.sys, h), STATUS_SUCCESS);
    bw_unload(&x);
}

static void lock_user_buffer_refuses_operations_without_an_mdl_member(void **state)
{
    (void)state;
    struct bw x;
    memset(&lk, 0, sizeof(lk));
    bw_load(&x, FLTSIM_COMPLETE_INLINE, lock_pre, lock_post);
    fltsim_system *sys = x.w.sys;
    HANDLE h = world_open(&x.w, L"C:\\a.txt", GENERIC_READ);
    char buf[64];
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;
    lk.refused = STATUS_SUCCESS;
    fltsim_io_query_information(sys, h, buf, sizeof(buf), FileStandardInformation, 0, &iosb);
    assert_status(lk.refused, STATUS_INVALID_PARAMETER);
    lk.refused = STATUS_SUCCESS;
    fltsim_io_fs_control(sys, h, FSCTL_GET_REPARSE_POINT, NULL, 0, buf, sizeof(buf), &iosb);
    assert_status(lk.refused, STATUS_INVALID_PARAMETER); /* METHOD_BUFFERED */
    lk.refused = STATUS_SUCCESS;
    fltsim_io_device_control(sys, h, CTL_CODE(FILE_DEVICE_UNKNOWN, 0x802, METHOD_NEITHER, 0), NULL,
                             0, buf, 8, FLTSIM_IO_FAST_ONLY, &iosb);
    assert_status(lk.refused, STATUS_INVALID_PARAMETER); /* FastIoDeviceControl */
    lk.bad_minor = true;
    lk.refused = STATUS_SUCCESS;
    assert_status(fltsim_io_read(sys, h, buf, 8, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_status(lk.refused, STATUS_INVALID_PARAMETER); /* IRP_MN_MDL */
    union {
        FLT_CALLBACK_DATA data;
        char room[4096];
    } bogus;
    memset(&bogus, 0, sizeof(bogus));
    assert_status(FltLockUserBuffer(&bogus.data), STATUS_INVALID_PARAMETER);
    assert_int_equal(fltsim_system_report_count(sys), 0); /* the test thread: no system */
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
    bw_unload(&x);
}

static void lock_user_buffer_fails_for_a_buffer_it_cannot_lock(void **state)
{
    (void)state;
    struct bw x;
    memset(&lk, 0, sizeof(lk));
    bw_load(&x, FLTSIM_COMPLETE_INLINE, lock_pre, lock_post);
    HANDLE h = world_open(&x.w, L"C:\\a.txt", GENERIC_READ);
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;
    /* A cached read passes the caller's buffer as it is; B's pre cannot lock
     * it and completes the read with what FltLockUserBuffer said. */
    assert_status(fltsim_io_read(x.w.sys, h, (void *)(uintptr_t)0x4000, 16, &zero, 0, &iosb),
                  STATUS_ACCESS_VIOLATION);
    assert_status(lk.first, STATUS_ACCESS_VIOLATION);
    assert_null(lk.mdl);
    assert_status(fltsim_io_close(x.w.sys, h), STATUS_SUCCESS);
    bw_unload(&x);
}

static PFILE_OBJECT sb_file;
static FLT_PREOP_CALLBACK_STATUS system_buffer_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                                   PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf, (void)objects, (void)context;
    if (data->Iopb->MajorFunction != IRP_MJ_READ)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    lk.first = FltLockUserBuffer(data);
    lk.mdl = data->Iopb->Parameters.Read.MdlAddress;
    lk.flags = lk.mdl != NULL ? (USHORT)lk.mdl->MdlFlags : 0;
    lk.va = lk.mdl != NULL ? MmGetSystemAddressForMdlSafe(lk.mdl, NormalPagePriority) : NULL;
    data->IoStatus.Status = STATUS_SUCCESS;
    data->IoStatus.Information = 0;
    return FLT_PREOP_COMPLETE;
}

static FLT_PREOP_CALLBACK_STATUS file_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                          PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf, (void)data, (void)context;
    sb_file = objects->FileObject;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void lock_user_buffer_builds_an_mdl_for_a_system_buffer(void **state)
{
    (void)state;
    struct bw x;
    memset(&lk, 0, sizeof(lk));
    bw_load(&x, FLTSIM_COMPLETE_INLINE, file_pre, NULL);
    HANDLE h = world_open(&x.w, L"C:\\a.txt", GENERIC_READ);
    x.b.pre = system_buffer_pre;
    /* A read with a system buffer (the I/O manager's buffered I/O). */
    void *system_buffer = ExAllocatePoolZero(NonPagedPoolNx, 64, 'fuBS');
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = IRP_MJ_READ;
    req.irp_flags = IRP_READ_OPERATION | IRP_BUFFERED_IO;
    req.callback_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER;
    req.file_object = sb_file;
    req.requestor_mode = UserMode;
    req.parameters.Read.Length = 64;
    req.parameters.Read.ReadBuffer = system_buffer;
    assert_status(fltsim_request_dispatch(x.w.volume, &req), STATUS_SUCCESS);
    assert_status(lk.first, STATUS_SUCCESS);
    assert_int_equal(lk.flags,
                     MDL_ALLOCATED_FIXED_SIZE | MDL_SOURCE_IS_NONPAGED_POOL | MDL_INTERNAL);
    assert_ptr_equal(lk.va, system_buffer);
    ExFreePoolWithTag(system_buffer, 'fuBS');
    assert_status(fltsim_io_close(x.w.sys, h), STATUS_SUCCESS);
    bw_unload(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(io_cached_requests_carry_no_mdl_paging_and_noncached_do),
        cmocka_unit_test(io_overlapped_noncached_read_keeps_its_mdl_until_completion),
        cmocka_unit_test(io_noncached_request_with_a_bad_buffer_fails_before_any_irp),
        cmocka_unit_test(io_direct_control_methods_lock_the_output_buffer),
        cmocka_unit_test(decode_parameters_points_into_the_parameter_block),
        cmocka_unit_test(decode_parameters_buffered_control_has_no_mdl),
        cmocka_unit_test(lock_user_buffer_in_pre_passes_an_operation_mdl_down),
        cmocka_unit_test(lock_user_buffer_in_post_locks_the_post_view),
        cmocka_unit_test(lock_user_buffer_fast_io_and_irql),
        cmocka_unit_test(lock_user_buffer_refuses_operations_without_an_mdl_member),
        cmocka_unit_test(lock_user_buffer_fails_for_a_buffer_it_cannot_lock),
        cmocka_unit_test(lock_user_buffer_builds_an_mdl_for_a_system_buffer),
    };
    return FLTSIM_RUN_SUITE("buffers", tests);
}
