/*
 * I/O a filter initiates (SPEC 2.3, 4.5, 6.2): FltReadFile and FltWriteFile
 * start below the initiating instance, carry GENERATED_IO and KernelMode,
 * honor ByteOffset and the FLTFL_IO_OPERATION_* flags; FltCancelFileOpen in
 * a post-create closes the file below the caller, fails the create above it
 * and leaves no handle (V24 for misuse). Three test filters: U (300000),
 * M (200000, the one that initiates) and L (100000).
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

enum action {
    ACT_NONE,
    ACT_READ,              /* FltReadFile of the whole file into got[] */
    ACT_CANCEL,            /* FltCancelFileOpen, IoStatus = ACCESS_DENIED */
    ACT_CANCEL_KEEP,       /* FltCancelFileOpen, IoStatus left as it is */
    ACT_CANCEL_TWICE,      /* two FltCancelFileOpen, then ACCESS_DENIED */
    ACT_CANCEL_HANDLE,     /* as if a handle existed (FO_HANDLE_CREATED) */
    ACT_CANCEL_AT_DISPATCH, /* FltCancelFileOpen at DISPATCH_LEVEL */
    ACT_CANCEL_REFERENCED   /* ObReferenceObject on the file object, then as ACT_CANCEL */
};

struct m_plan {
    enum action post_create;
    PFILE_OBJECT kept; /* ACT_CANCEL_REFERENCED: the referenced file object */
    bool cancel_in_pre_create;
    bool cancel_in_post_read;
    /* results, written on the issuing thread */
    NTSTATUS read_status;
    ULONG bytes;
    char got[32];
};

struct l_seen {
    ULONG read_flags, write_flags; /* Data->Flags of the last read / write */
    ULONG read_irp_flags;
    KPROCESSOR_MODE read_mode;
    LONG reads, writes, closes;
};

struct u_seen {
    NTSTATUS create_status; /* what U's post-create saw */
};

struct fixture {
    struct test_world w;
    struct tf_filter u, m, l;
    struct m_plan plan;
    struct l_seen ls;
    struct u_seen us;
};

static FLT_POSTOP_CALLBACK_STATUS u_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                         PCFLT_RELATED_OBJECTS objects, PVOID context,
                                         FLT_POST_OPERATION_FLAGS flags)
{
    (void)objects;
    (void)context;
    (void)flags;
    struct u_seen *s = tf->user;
    if (s != NULL && data->Iopb->MajorFunction == IRP_MJ_CREATE)
        s->create_status = data->IoStatus.Status;
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static FLT_PREOP_CALLBACK_STATUS l_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                       PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    struct l_seen *s = tf->user;
    if (s == NULL)
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    switch (data->Iopb->MajorFunction) {
    case IRP_MJ_READ:
        s->reads++;
        s->read_flags = data->Flags;
        s->read_irp_flags = data->Iopb->IrpFlags;
        s->read_mode = data->RequestorMode;
        break;
    case IRP_MJ_WRITE:
        s->writes++;
        s->write_flags = data->Flags;
        break;
    case IRP_MJ_CLOSE:
        s->closes++;
        break;
    default:
        break;
    }
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_PREOP_CALLBACK_STATUS m_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                       PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)context;
    struct m_plan *p = tf->user;
    if (p != NULL && p->cancel_in_pre_create && data->Iopb->MajorFunction == IRP_MJ_CREATE)
        FltCancelFileOpen(objects->Instance, objects->FileObject);
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS m_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                         PCFLT_RELATED_OBJECTS objects, PVOID context,
                                         FLT_POST_OPERATION_FLAGS flags)
{
    (void)context;
    (void)flags;
    struct m_plan *p = tf->user;
    if (p == NULL)
        return FLT_POSTOP_FINISHED_PROCESSING;
    PFILE_OBJECT fo = objects->FileObject;
    if (data->Iopb->MajorFunction == IRP_MJ_READ && p->cancel_in_post_read)
        FltCancelFileOpen(objects->Instance, fo);
    if (data->Iopb->MajorFunction != IRP_MJ_CREATE)
        return FLT_POSTOP_FINISHED_PROCESSING;
    switch (p->post_create) {
    case ACT_NONE:
        break;
    case ACT_READ: {
        LARGE_INTEGER zero = {.QuadPart = 0};
        p->read_status = FltReadFile(objects->Instance, fo, &zero, sizeof(p->got) - 1, p->got, 0,
                                     &p->bytes, NULL, NULL);
        break;
    }
    case ACT_CANCEL_REFERENCED:
        ObReferenceObject(fo);
        p->kept = fo;
        /* fall through */
    case ACT_CANCEL:
    case ACT_CANCEL_TWICE:
        FltCancelFileOpen(objects->Instance, fo);
        if (p->post_create == ACT_CANCEL_TWICE)
            FltCancelFileOpen(objects->Instance, fo);
        data->IoStatus.Status = STATUS_ACCESS_DENIED;
        data->IoStatus.Information = 0;
        break;
    case ACT_CANCEL_KEEP:
        FltCancelFileOpen(objects->Instance, fo);
        break;
    case ACT_CANCEL_HANDLE:
        fo->Flags |= FO_HANDLE_CREATED;
        FltCancelFileOpen(objects->Instance, fo);
        fo->Flags &= ~(ULONG)FO_HANDLE_CREATED;
        break;
    case ACT_CANCEL_AT_DISPATCH: {
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        FltCancelFileOpen(objects->Instance, fo);
        KeLowerIrql(old);
        break;
    }
    }
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static void only_io_ops(struct tf_filter *tf)
{
    tf_only(tf, IRP_MJ_CREATE);
    tf->ops[IRP_MJ_READ].pre = tf->ops[IRP_MJ_READ].post = true;
    tf->ops[IRP_MJ_WRITE].pre = tf->ops[IRP_MJ_WRITE].post = true;
    tf->ops[IRP_MJ_CLOSE].pre = tf->ops[IRP_MJ_CLOSE].post = true;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create(&f->w, 0);
    tf_init(&f->u, "U", "300000");
    tf_init(&f->m, "M", "200000");
    tf_init(&f->l, "L", "100000");
    only_io_ops(&f->u);
    only_io_ops(&f->m);
    only_io_ops(&f->l);
    f->u.post = u_post;
    f->m.pre = m_pre;
    f->m.post = m_post;
    f->l.pre = l_pre;
    f->u.user = &f->us;
    f->m.user = &f->plan;
    f->l.user = &f->ls;
    assert_status(tf_load(f->w.sys, &f->u), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->m), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->l), STATUS_SUCCESS);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    world_destroy(&f->w);
    free(f);
    return 0;
}

/* Opens path for synchronous reading and writing; returns the status. */
static NTSTATUS open_file(struct fixture *f, PCWSTR path, HANDLE *h)
{
    *h = NULL;
    return fltsim_io_open(f->w.sys, path, GENERIC_READ | GENERIC_WRITE, h);
}

/* The file object of a fresh synchronous handle to a.txt (M's instance is
 * set up by then). */
static PFILE_OBJECT open_a(struct fixture *f, HANDLE *h)
{
    assert_status(open_file(f, L"C:\\a.txt", h), STATUS_SUCCESS);
    assert_non_null(f->m.last_instance);
    PFILE_OBJECT fo = fltsim_io_file_object(f->w.sys, *h);
    assert_non_null(fo);
    return fo;
}

static void set_position(struct fixture *f, HANDLE h, LONGLONG where)
{
    FILE_POSITION_INFORMATION pos = {.CurrentByteOffset = {.QuadPart = where}};
    assert_status(
        fltsim_io_set_information(f->w.sys, h, &pos, sizeof(pos), FilePositionInformation, NULL),
        STATUS_SUCCESS);
}

/* SPEC 2.3, 6.2: a read M issues in its post-create is seen by L and the
 * file system only, marked as generated I/O from kernel mode. */
static void fltio_read_in_post_create_sees_only_lower_filters(void **state)
{
    struct fixture *f = *state;
    f->plan.post_create = ACT_READ;
    rec_reset();
    rec_trace_system(f->w.sys);
    HANDLE h;
    assert_status(open_file(f, L"C:\\a.txt", &h), STATUS_SUCCESS);
    assert_recorded("U:pre:CREATE M:pre:CREATE L:pre:CREATE FS:CREATE L:post:CREATE "
                    "M:post:CREATE L:pre:READ FS:READ L:post:READ U:post:CREATE");
    assert_status(f->plan.read_status, STATUS_SUCCESS);
    assert_int_equal(f->plan.bytes, 11);
    assert_string_equal(f->plan.got, "hello world");
    assert_true(f->ls.read_flags & FLTFL_CALLBACK_DATA_GENERATED_IO);
    assert_true(f->ls.read_flags & FLTFL_CALLBACK_DATA_IRP_OPERATION);
    assert_int_equal(f->ls.read_mode, KernelMode);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* An application's own read is not generated I/O and every filter sees it. */
static void fltio_application_read_is_not_generated(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    open_a(f, &h);
    rec_reset();
    char buf[8];
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 5, &zero, 0, NULL), STATUS_SUCCESS);
    assert_recorded("U:pre:READ M:pre:READ L:pre:READ L:post:READ M:post:READ U:post:READ");
    assert_false(f->ls.read_flags & FLTFL_CALLBACK_DATA_GENERATED_IO);
    assert_int_equal(f->ls.read_mode, UserMode);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* ByteOffset NULL reads at the current byte offset of a synchronous file
 * object and moves it, unless DO_NOT_UPDATE_BYTE_OFFSET. */
static void fltio_read_honors_byte_offset_and_do_not_update(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    PFILE_OBJECT fo = open_a(f, &h);
    PFLT_INSTANCE m = f->m.last_instance;
    char buf[16];
    ULONG bytes = 99;

    set_position(f, h, 6);
    memset(buf, 0, sizeof(buf));
    assert_status(FltReadFile(m, fo, NULL, 5, buf, 0, &bytes, NULL, NULL), STATUS_SUCCESS);
    assert_int_equal(bytes, 5);
    assert_string_equal(buf, "world");
    assert_int_equal(fo->CurrentByteOffset.QuadPart, 11);

    set_position(f, h, 0);
    memset(buf, 0, sizeof(buf));
    assert_status(FltReadFile(m, fo, NULL, 5, buf, FLTFL_IO_OPERATION_DO_NOT_UPDATE_BYTE_OFFSET,
                              &bytes, NULL, NULL),
                  STATUS_SUCCESS);
    assert_string_equal(buf, "hello");
    assert_int_equal(fo->CurrentByteOffset.QuadPart, 0);

    LARGE_INTEGER six = {.QuadPart = 6};
    memset(buf, 0, sizeof(buf));
    assert_status(FltReadFile(m, fo, &six, 3, buf, 0, &bytes, NULL, NULL), STATUS_SUCCESS);
    assert_string_equal(buf, "wor");
    assert_int_equal(fo->CurrentByteOffset.QuadPart, 9);

    LARGE_INTEGER past = {.QuadPart = 100};
    assert_status(FltReadFile(m, fo, &past, 3, buf, 0, &bytes, NULL, NULL), STATUS_END_OF_FILE);
    assert_int_equal(bytes, 0);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* NON_CACHED and PAGING reach the lower filters and the file system as IRP
 * flags (a non-cached read must be sector-aligned in memfs). */
static void fltio_read_flags_become_irp_flags(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    PFILE_OBJECT fo = open_a(f, &h);
    PFLT_INSTANCE m = f->m.last_instance;
    char sector[512];
    ULONG bytes = 0;
    LARGE_INTEGER zero = {.QuadPart = 0}, six = {.QuadPart = 6};

    assert_status(
        FltReadFile(m, fo, &zero, 512, sector, FLTFL_IO_OPERATION_NON_CACHED, &bytes, NULL, NULL),
        STATUS_SUCCESS);
    assert_int_equal(bytes, 11);
    assert_true(f->ls.read_irp_flags & IRP_NOCACHE);
    assert_false(f->ls.read_irp_flags & IRP_PAGING_IO);
    assert_true(f->ls.read_irp_flags & IRP_SYNCHRONOUS_API);
    assert_status(
        FltReadFile(m, fo, &six, 5, sector, FLTFL_IO_OPERATION_NON_CACHED, &bytes, NULL, NULL),
        STATUS_INVALID_PARAMETER);

    set_position(f, h, 0);
    assert_status(FltReadFile(m, fo, &six, 5, sector,
                              FLTFL_IO_OPERATION_PAGING | FLTFL_IO_OPERATION_SYNCHRONOUS_PAGING,
                              &bytes, NULL, NULL),
                  STATUS_SUCCESS);
    assert_int_equal(bytes, 5);
    assert_memory_equal(sector, "world", 5);
    assert_true(f->ls.read_irp_flags & IRP_PAGING_IO);
    assert_true(f->ls.read_irp_flags & IRP_SYNCHRONOUS_PAGING_IO);
    assert_int_equal(fo->CurrentByteOffset.QuadPart, 0); /* paging I/O never moves it */
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* FltWriteFile: below M, generated, and the data reaches the file. */
static void fltio_write_goes_below_and_writes(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    PFILE_OBJECT fo = open_a(f, &h);
    rec_reset();
    LARGE_INTEGER zero = {.QuadPart = 0};
    char data[] = "HELLO";
    ULONG bytes = 0;
    assert_status(FltWriteFile(f->m.last_instance, fo, &zero, 5, data, 0, &bytes, NULL, NULL),
                  STATUS_SUCCESS);
    assert_int_equal(bytes, 5);
    assert_recorded("L:pre:WRITE L:post:WRITE");
    assert_true(f->ls.write_flags & FLTFL_CALLBACK_DATA_GENERATED_IO);
    char buf[16] = {0};
    size_t got = 0;
    assert_status(fltsim_memfs_read_file(f->w.fs, L"\\a.txt", buf, sizeof(buf), &got),
                  STATUS_SUCCESS);
    assert_int_equal(got, 11);
    assert_memory_equal(buf, "HELLO world", 11);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* Bad arguments fail without I/O; a call above PASSIVE_LEVEL is reported
 * (asynchronous reads: test_own_callback_data). */
static void fltio_read_misuse_statuses(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    PFILE_OBJECT fo = open_a(f, &h);
    PFLT_INSTANCE m = f->m.last_instance;
    char buf[8];
    ULONG bytes = 77;
    LARGE_INTEGER zero = {.QuadPart = 0}, negative = {.QuadPart = -5};
    LONG reads = f->ls.reads;

    assert_status(FltReadFile(NULL, fo, &zero, 5, buf, 0, &bytes, NULL, NULL),
                  STATUS_INVALID_PARAMETER);
    assert_int_equal(bytes, 0);
    assert_status(FltReadFile(m, NULL, &zero, 5, buf, 0, NULL, NULL, NULL),
                  STATUS_INVALID_PARAMETER);
    assert_status(FltReadFile(m, fo, &zero, 5, NULL, 0, NULL, NULL, NULL),
                  STATUS_INVALID_PARAMETER);
    assert_status(FltReadFile(m, fo, &zero, 5, buf, 0x100, NULL, NULL, NULL),
                  STATUS_INVALID_PARAMETER);
    assert_status(
        FltReadFile(m, fo, &zero, 5, buf, FLTFL_IO_OPERATION_SYNCHRONOUS_PAGING, NULL, NULL, NULL),
        STATUS_INVALID_PARAMETER);
    assert_status(FltReadFile(m, fo, &negative, 5, buf, 0, NULL, NULL, NULL),
                  STATUS_INVALID_PARAMETER);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_int_equal(f->ls.reads, reads);

    /* An asynchronous file object has no current byte offset to use. */
    HANDLE ah = open_overlapped(f->w.sys, L"C:\\a.txt", GENERIC_READ);
    PFILE_OBJECT afo = fltsim_io_file_object(f->w.sys, ah);
    assert_status(FltReadFile(m, afo, NULL, 5, buf, 0, NULL, NULL, NULL), STATUS_INVALID_PARAMETER);
    assert_status(FltReadFile(m, afo, &zero, 5, buf, 0, &bytes, NULL, NULL), STATUS_SUCCESS);
    assert_int_equal(bytes, 5);
    assert_status(fltsim_io_close(f->w.sys, ah), STATUS_SUCCESS);

    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NTSTATUS status = FltReadFile(m, fo, &zero, 5, buf, 0, NULL, NULL, NULL);
    KeLowerIrql(old);
    assert_status(status, STATUS_INVALID_DEVICE_STATE);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V28"), 1);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 4.5: M cancels the open: L sees open then close, U a failed create,
 * the file system's open is released and no handle exists. */
static void fltio_cancel_file_open_closes_below_and_fails_above(void **state)
{
    struct fixture *f = *state;
    f->plan.post_create = ACT_CANCEL;
    rec_reset();
    rec_trace_system(f->w.sys);
    HANDLE h;
    assert_status(open_file(f, L"C:\\a.txt", &h), STATUS_ACCESS_DENIED);
    assert_null(h);
    assert_recorded("U:pre:CREATE M:pre:CREATE L:pre:CREATE FS:CREATE L:post:CREATE "
                    "M:post:CREATE L:pre:CLOSE FS:CLOSE L:post:CLOSE U:post:CREATE");
    assert_status(f->us.create_status, STATUS_ACCESS_DENIED);
    assert_int_equal(f->ls.closes, 1);
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 0);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    /* The file is still there and opens normally. */
    f->plan.post_create = ACT_NONE;
    assert_status(open_file(f, L"C:\\a.txt", &h), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
}

/* A filter that referenced the file object of an open it cancelled (as
 * avscan's scan context does) may use it and drop its reference after the
 * create has failed: the object goes with its last reference, not with the
 * create (AddressSanitizer sees a use after free otherwise). */
static void fltio_cancelled_open_keeps_a_referenced_file_object(void **state)
{
    struct fixture *f = *state;
    f->plan.post_create = ACT_CANCEL_REFERENCED;
    HANDLE h;
    assert_status(open_file(f, L"C:\\a.txt", &h), STATUS_ACCESS_DENIED);
    assert_non_null(f->plan.kept);
    assert_int_equal(f->plan.kept->Type, 5); /* still a file object */
    assert_false(f->plan.kept->Flags & FO_FILE_OPEN);
    ObDereferenceObject(f->plan.kept);
    f->plan.kept = NULL;
    assert_int_equal(f->ls.closes, 1); /* one close below, at the cancel */
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* A cancelled open left with a success status is reported and fails. */
static void fltio_cancel_left_successful_is_reported_and_fails(void **state)
{
    struct fixture *f = *state;
    f->plan.post_create = ACT_CANCEL_KEEP;
    HANDLE h;
    assert_status(open_file(f, L"C:\\a.txt", &h), STATUS_CANCELLED);
    assert_null(h);
    assert_status(f->us.create_status, STATUS_CANCELLED);
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 0);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V24"), 1);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 1);
}

/* Fails the test unless exactly one report exists, with rule and a message
 * containing text. */
static void assert_one_report(struct fixture *f, const char *rule, const char *text)
{
    assert_int_equal(fltsim_system_report_count(f->w.sys), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(f->w.sys, 0, &r), STATUS_SUCCESS);
    assert_string_equal(r.rule, rule);
    if (strstr(r.message, text) == NULL)
        fail_msg("report '%s' does not mention '%s'", r.message, text);
    fltsim_system_reports_clear(f->w.sys);
}

/* V24: outside post-create (in pre-create, in a post-read, from a thread
 * with no operation), after a handle exists, twice, for a create the file
 * system failed, and (V28) above PASSIVE_LEVEL. Nothing is cancelled. */
static void fltio_cancel_misuse_is_reported(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    f->plan.cancel_in_pre_create = true;
    assert_status(open_file(f, L"C:\\a.txt", &h), STATUS_SUCCESS);
    assert_one_report(f, "V24", "outside");
    f->plan.cancel_in_pre_create = false;

    /* From the test thread, with the handle open. */
    PFILE_OBJECT fo = fltsim_io_file_object(f->w.sys, h);
    FltCancelFileOpen(f->m.last_instance, fo);
    assert_one_report(f, "V24", "outside");
    assert_false(fo->Flags & FO_FILE_OPEN_CANCELLED);

    f->plan.cancel_in_post_read = true;
    char buf[8];
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 5, &zero, 0, NULL), STATUS_SUCCESS);
    assert_one_report(f, "V24", "outside");
    f->plan.cancel_in_post_read = false;
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);

    f->plan.post_create = ACT_CANCEL_HANDLE;
    assert_status(open_file(f, L"C:\\a.txt", &h), STATUS_SUCCESS);
    assert_one_report(f, "V24", "handle");
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);

    f->plan.post_create = ACT_CANCEL_AT_DISPATCH;
    assert_status(open_file(f, L"C:\\a.txt", &h), STATUS_SUCCESS);
    assert_one_report(f, "V28", "FltCancelFileOpen");
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);

    LONG closes = f->ls.closes;
    f->plan.post_create = ACT_CANCEL_TWICE;
    assert_status(open_file(f, L"C:\\a.txt", &h), STATUS_ACCESS_DENIED);
    assert_one_report(f, "V24", "twice");
    assert_int_equal(f->ls.closes, closes + 1); /* one close only */

    f->plan.post_create = ACT_CANCEL;
    assert_status(open_file(f, L"C:\\missing.txt", &h), STATUS_ACCESS_DENIED);
    assert_one_report(f, "V24", "did not open");
    assert_int_equal(f->ls.closes, closes + 1);

    FltCancelFileOpen(NULL, NULL); /* no system on this thread: a message only */
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 0);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
}

int main(void)
{
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        CASE(fltio_read_in_post_create_sees_only_lower_filters),
        CASE(fltio_application_read_is_not_generated),
        CASE(fltio_read_honors_byte_offset_and_do_not_update),
        CASE(fltio_read_flags_become_irp_flags),
        CASE(fltio_write_goes_below_and_writes),
        CASE(fltio_read_misuse_statuses),
        CASE(fltio_cancel_file_open_closes_below_and_fails_above),
        CASE(fltio_cancelled_open_keeps_a_referenced_file_object),
        CASE(fltio_cancel_left_successful_is_reported_and_fails),
        CASE(fltio_cancel_misuse_is_reported),
    };
    return FLTSIM_RUN_SUITE("fltio", tests);
}
