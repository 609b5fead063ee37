/*
 * I/O a filter sends with callback data of its own, and asynchronous
 * FltReadFile/FltWriteFile (SPEC 2.3, 6.7): FltAllocateCallbackData(Ex),
 * FltPerformSynchronousIo, FltPerformAsynchronousIo, FltReuseCallbackData,
 * FltFreeCallbackData; the I/O goes below the initiating instance only, the
 * completion routine runs once with the completed data (at once, or where a
 * pended operation completes, at IRQL <= DISPATCH_LEVEL); misuse is an "IO"
 * report, a leak at unload V23. Three test filters: U (300000), M (200000,
 * the one that initiates) and L (100000, which can pend reads).
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

struct l_state {
    bool pend_reads;         /* pend the next read in L's pre */
    bool misuse_app_data;    /* call the own-data routines on an application's read */
    bool complete_reads;     /* complete reads in the pre (STATUS_SUCCESS, 3 bytes) */
    bool cancelable;         /* a pended read gets a cancel routine */
    PFLT_CALLBACK_DATA held; /* the pended read */
    LONG reads, queries;
    ULONG last_flags;
};

/* What M does with reads and creates (FltReissueSynchronousIo cases). */
enum m_action {
    M_NONE,
    M_REISSUE_READ_AT_6,      /* SYNCHRONIZE; post: ByteOffset 6, dirty, reissue */
    M_REISSUE_UNSYNCHRONIZED, /* SUCCESS_WITH_CALLBACK; post: reissue */
    M_REISSUE_IN_PRE,         /* pre: reissue */
    M_REISSUE_OTHER_INSTANCE, /* SYNCHRONIZE; post: reissue naming L's instance */
    M_REISSUE_CREATE_OPEN_IF, /* post-create: a failed open reissued with FILE_OPEN_IF */
    M_CANCEL_THEN_REISSUE     /* post-create: FltCancelFileOpen, then reissue */
};

struct m_state {
    enum m_action action;
    PFLT_INSTANCE other;   /* L's instance */
    NTSTATUS first_status; /* IoStatus.Status the post saw before reissuing */
    LONG reissues;
};

struct fixture {
    struct test_world w;
    struct tf_filter u, m, l;
    struct l_state ls;
    struct m_state ms;
};

/* What a completion routine saw. */
struct completion {
    LONG calls;
    KIRQL irql;
    NTSTATUS status;
    ULONG_PTR information;
    UCHAR major;
    PFLT_CALLBACK_DATA data;
    PVOID context;
};

static VOID FLTAPI on_complete(PFLT_CALLBACK_DATA data, PFLT_CONTEXT context)
{
    struct completion *c = context;
    c->irql = KeGetCurrentIrql();
    c->status = data->IoStatus.Status;
    c->information = data->IoStatus.Information;
    c->major = data->Iopb->MajorFunction;
    c->data = data;
    c->context = context;
    __atomic_add_fetch(&c->calls, 1, __ATOMIC_SEQ_CST);
}

/* A completion routine that raises an exception it does not handle. */
static VOID FLTAPI raising_complete(PFLT_CALLBACK_DATA data, PFLT_CONTEXT context)
{
    on_complete(data, context);
    ExRaiseStatus(STATUS_INSUFFICIENT_RESOURCES);
}

/* L's cancel routine: the held read completes, cancelled. */
static VOID FLTAPI l_cancel(PFLT_CALLBACK_DATA data)
{
    data->IoStatus.Status = STATUS_CANCELLED;
    data->IoStatus.Information = 0;
    FltCompletePendedPreOperation(data, FLT_PREOP_COMPLETE, NULL);
}

static FLT_PREOP_CALLBACK_STATUS l_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                       PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    struct l_state *s = tf->user;
    if (s == NULL)
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    if (data->Iopb->MajorFunction == IRP_MJ_QUERY_INFORMATION)
        s->queries++;
    if (data->Iopb->MajorFunction != IRP_MJ_READ)
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    s->reads++;
    s->last_flags = data->Flags;
    if (s->misuse_app_data) {
        FltPerformSynchronousIo(data);
        FltFreeCallbackData(data);
    }
    if (s->complete_reads) {
        data->IoStatus.Status = STATUS_SUCCESS;
        data->IoStatus.Information = 3;
        return FLT_PREOP_COMPLETE;
    }
    if (s->pend_reads) {
        s->pend_reads = false;
        s->held = data;
        if (s->cancelable)
            assert_status(FltSetCancelCompletion(data, l_cancel), STATUS_SUCCESS);
        return FLT_PREOP_PENDING;
    }
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_PREOP_CALLBACK_STATUS m_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                       PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)context;
    struct m_state *s = tf->user;
    if (data->Iopb->MajorFunction != IRP_MJ_READ)
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    switch (s->action) {
    case M_REISSUE_READ_AT_6:
    case M_REISSUE_OTHER_INSTANCE:
        return FLT_PREOP_SYNCHRONIZE;
    case M_REISSUE_IN_PRE:
        FltReissueSynchronousIo(objects->Instance, data);
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    default:
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    }
}

static FLT_POSTOP_CALLBACK_STATUS m_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                         PCFLT_RELATED_OBJECTS objects, PVOID context,
                                         FLT_POST_OPERATION_FLAGS flags)
{
    (void)context;
    (void)flags;
    struct m_state *s = tf->user;
    UCHAR major = data->Iopb->MajorFunction;
    s->first_status = data->IoStatus.Status;
    if (major == IRP_MJ_READ) {
        switch (s->action) {
        case M_REISSUE_READ_AT_6:
            data->Iopb->Parameters.Read.ByteOffset.QuadPart = 6;
            FltSetCallbackDataDirty(data);
            FltReissueSynchronousIo(objects->Instance, data);
            s->reissues++;
            break;
        case M_REISSUE_UNSYNCHRONIZED:
            FltReissueSynchronousIo(objects->Instance, data);
            break;
        case M_REISSUE_OTHER_INSTANCE:
            FltReissueSynchronousIo(s->other, data);
            break;
        default:
            break;
        }
    } else if (major == IRP_MJ_CREATE) {
        if (s->action == M_REISSUE_CREATE_OPEN_IF &&
            data->IoStatus.Status == STATUS_OBJECT_NAME_NOT_FOUND) {
            ULONG options = data->Iopb->Parameters.Create.Options & 0x00FFFFFF;
            data->Iopb->Parameters.Create.Options = options | ((ULONG)FILE_OPEN_IF << 24);
            FltSetCallbackDataDirty(data);
            FltReissueSynchronousIo(objects->Instance, data);
            s->reissues++;
        } else if (s->action == M_CANCEL_THEN_REISSUE && NT_SUCCESS(data->IoStatus.Status)) {
            FltCancelFileOpen(objects->Instance, objects->FileObject);
            FltReissueSynchronousIo(objects->Instance, data);
        }
    }
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static void io_ops(struct tf_filter *tf)
{
    tf_only(tf, IRP_MJ_CREATE);
    tf->ops[IRP_MJ_READ].pre = tf->ops[IRP_MJ_READ].post = true;
    tf->ops[IRP_MJ_WRITE].pre = tf->ops[IRP_MJ_WRITE].post = true;
    tf->ops[IRP_MJ_QUERY_INFORMATION].pre = tf->ops[IRP_MJ_QUERY_INFORMATION].post = true;
}

static int setup_mode(void **state, ULONG completion)
{
    tf_reset_all();
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create_ex(&f->w, 0, completion);
    tf_init(&f->u, "U", "300000");
    tf_init(&f->m, "M", "200000");
    tf_init(&f->l, "L", "100000");
    io_ops(&f->u);
    io_ops(&f->m);
    io_ops(&f->l);
    f->l.pre = l_pre;
    f->l.user = &f->ls;
    f->m.pre = m_pre;
    f->m.post = m_post;
    f->m.user = &f->ms;
    assert_status(tf_load(f->w.sys, &f->u), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->m), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->l), STATUS_SUCCESS);
    *state = f;
    return 0;
}

static int setup_inline(void **state)
{
    return setup_mode(state, FLTSIM_COMPLETE_INLINE);
}

static int setup_async(void **state)
{
    return setup_mode(state, FLTSIM_COMPLETE_ASYNC);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    world_destroy(&f->w);
    free(f);
    return 0;
}

static PFILE_OBJECT open_a(struct fixture *f, HANDLE *h)
{
    assert_status(fltsim_io_open(f->w.sys, L"C:\\a.txt", GENERIC_READ | GENERIC_WRITE, h),
                  STATUS_SUCCESS);
    assert_non_null(f->m.last_instance);
    PFILE_OBJECT fo = fltsim_io_file_object(f->w.sys, *h);
    assert_non_null(fo);
    return fo;
}

/* Fails unless exactly one report exists, with rule and a message containing
 * text; clears the reports. */
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

/* An asynchronous FltReadFile that completes at once returns its final
 * status, and its routine has run once, with the completed data and the
 * context, before the return; only L and the file system saw the read. */
static void async_read_completed_at_once_calls_back_before_returning(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    PFILE_OBJECT fo = open_a(f, &h);
    rec_reset();
    char buf[16] = {0};
    ULONG bytes = 99;
    LARGE_INTEGER zero = {.QuadPart = 0};
    struct completion c = {0};
    assert_status(FltReadFile(f->m.last_instance, fo, &zero, 11, buf, 0, &bytes, on_complete, &c),
                  STATUS_SUCCESS);
    assert_int_equal(c.calls, 1);
    assert_status(c.status, STATUS_SUCCESS);
    assert_int_equal(c.information, 11);
    assert_int_equal(c.major, IRP_MJ_READ);
    assert_ptr_equal(c.context, &c);
    assert_int_equal(c.irql, PASSIVE_LEVEL);
    assert_memory_equal(buf, "hello world", 11);
    assert_recorded("L:pre:READ L:post:READ");
    assert_true(f->ls.last_flags & FLTFL_CALLBACK_DATA_GENERATED_IO);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* On a volume whose file system completes asynchronously the read returns
 * STATUS_PENDING; the routine runs once where it completes, at
 * DISPATCH_LEVEL. FltWriteFile the same, and the data reaches the file. */
static void async_read_and_write_pend_and_call_back_at_dispatch(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    PFILE_OBJECT fo = open_a(f, &h);
    char buf[16] = {0};
    LARGE_INTEGER zero = {.QuadPart = 0};
    struct completion c = {0};
    assert_status(FltReadFile(f->m.last_instance, fo, &zero, 5, buf, 0, NULL, on_complete, &c),
                  STATUS_PENDING);
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(__atomic_load_n(&c.calls, __ATOMIC_SEQ_CST), 1);
    assert_int_equal(c.irql, DISPATCH_LEVEL);
    assert_status(c.status, STATUS_SUCCESS);
    assert_int_equal(c.information, 5);
    assert_memory_equal(buf, "hello", 5);

    struct completion w = {0};
    char data[] = "HELLO";
    assert_status(FltWriteFileEx(f->m.last_instance, fo, &zero, 5, data, 0, NULL, on_complete, &w,
                                 NULL, NULL),
                  STATUS_PENDING);
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(__atomic_load_n(&w.calls, __ATOMIC_SEQ_CST), 1);
    assert_int_equal(w.major, IRP_MJ_WRITE);
    assert_int_equal(w.information, 5);
    char file[16] = {0};
    size_t got = 0;
    assert_status(fltsim_memfs_read_file(f->w.fs, L"\\a.txt", file, sizeof(file), &got),
                  STATUS_SUCCESS);
    assert_memory_equal(file, "HELLO world", 11);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* A read L pends completes later through FltCompletePendedPreOperation: the
 * routine runs then, not before. An asynchronous read at DISPATCH_LEVEL is
 * refused (V28), and a failed one still reports its status to the routine. */
static void async_read_pended_below_calls_back_on_completion(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    PFILE_OBJECT fo = open_a(f, &h);
    char buf[16] = {0};
    LARGE_INTEGER zero = {.QuadPart = 0}, past = {.QuadPart = 100};
    struct completion c = {0};
    f->ls.pend_reads = true;
    assert_status(FltReadFile(f->m.last_instance, fo, &zero, 5, buf, 0, NULL, on_complete, &c),
                  STATUS_PENDING);
    assert_int_equal(c.calls, 0);
    assert_non_null(f->ls.held);
    FltCompletePendedPreOperation(f->ls.held, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(__atomic_load_n(&c.calls, __ATOMIC_SEQ_CST), 1);
    assert_memory_equal(buf, "hello", 5);

    struct completion e = {0};
    assert_status(FltReadFile(f->m.last_instance, fo, &past, 5, buf, 0, NULL, on_complete, &e),
                  STATUS_END_OF_FILE);
    assert_int_equal(e.calls, 1);
    assert_status(e.status, STATUS_END_OF_FILE);

    struct completion d = {0};
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NTSTATUS status = FltReadFile(f->m.last_instance, fo, &zero, 5, buf, 0, NULL, on_complete, &d);
    KeLowerIrql(old);
    assert_status(status, STATUS_INVALID_DEVICE_STATE);
    assert_int_equal(d.calls, 0);
    assert_one_report(f, "V28", "FltReadFile");
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* FltAllocateCallbackData + FltPerformSynchronousIo: the Iopb the filter
 * filled goes below M only, as generated kernel-mode I/O; IoStatus holds
 * the result; FltReuseCallbackData resets it for a query; freed, nothing
 * is left (no V23 at unload). */
static void perform_synchronous_io_goes_below_and_reuses(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    PFILE_OBJECT fo = open_a(f, &h);
    PFLT_INSTANCE m = f->m.last_instance;
    PFLT_CALLBACK_DATA data = NULL;
    assert_status(FltAllocateCallbackData(m, fo, &data), STATUS_SUCCESS);
    assert_non_null(data);
    assert_ptr_equal(data->Iopb->TargetInstance, m);
    assert_ptr_equal(data->Iopb->TargetFileObject, fo);
    assert_true(FLT_IS_IRP_OPERATION(data));

    char buf[16] = {0};
    data->Iopb->MajorFunction = IRP_MJ_READ;
    data->Iopb->Parameters.Read.Length = 5;
    data->Iopb->Parameters.Read.ByteOffset.QuadPart = 6;
    data->Iopb->Parameters.Read.ReadBuffer = buf;
    rec_reset();
    FltPerformSynchronousIo(data);
    assert_status(data->IoStatus.Status, STATUS_SUCCESS);
    assert_int_equal(data->IoStatus.Information, 5);
    assert_memory_equal(buf, "world", 5);
    assert_recorded("L:pre:READ L:post:READ");
    assert_true(f->ls.last_flags & FLTFL_CALLBACK_DATA_GENERATED_IO);

    FltReuseCallbackData(data);
    assert_int_equal(data->Iopb->MajorFunction, 0);
    assert_ptr_equal(data->Iopb->TargetFileObject, fo);
    FILE_STANDARD_INFORMATION info;
    memset(&info, 0, sizeof(info));
    data->Iopb->MajorFunction = IRP_MJ_QUERY_INFORMATION;
    data->Iopb->Parameters.QueryFileInformation.Length = sizeof(info);
    data->Iopb->Parameters.QueryFileInformation.FileInformationClass = FileStandardInformation;
    data->Iopb->Parameters.QueryFileInformation.InfoBuffer = &info;
    rec_reset();
    FltPerformSynchronousIo(data);
    assert_status(data->IoStatus.Status, STATUS_SUCCESS);
    assert_int_equal(info.EndOfFile.QuadPart, 11);
    assert_recorded("L:pre:QUERY_INFORMATION L:post:QUERY_INFORMATION");
    FltFreeCallbackData(data);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_status(fltsim_driver_unload(f->m.driver, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* FltPerformAsynchronousIo: STATUS_PENDING while L holds the read; meanwhile
 * a free, a reuse and another perform are reported and refused; the routine
 * runs once with the completed data when L lets it go. One L's pre completes
 * returns STATUS_FLT_IO_COMPLETE. A create cannot be asynchronous (the
 * routine still runs). */
static void perform_asynchronous_io_and_misuse_in_flight(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    PFILE_OBJECT fo = open_a(f, &h);
    PFLT_CALLBACK_DATA data = NULL;
    assert_status(FltAllocateCallbackDataEx(f->m.last_instance, fo,
                                            FLT_ALLOCATE_CALLBACK_DATA_PREALLOCATE_ALL_MEMORY,
                                            &data),
                  STATUS_SUCCESS);
    char buf[16] = {0};
    data->Iopb->MajorFunction = IRP_MJ_READ;
    data->Iopb->Parameters.Read.Length = 5;
    data->Iopb->Parameters.Read.ReadBuffer = buf;
    struct completion c = {0};
    f->ls.pend_reads = true;
    assert_status(FltPerformAsynchronousIo(data, on_complete, &c), STATUS_PENDING);
    assert_int_equal(c.calls, 0);

    FltFreeCallbackData(data);
    assert_one_report(f, "IO", "in flight");
    FltReuseCallbackData(data);
    assert_one_report(f, "IO", "in flight");
    FltPerformSynchronousIo(data);
    assert_one_report(f, "IO", "in flight");
    assert_status(FltPerformAsynchronousIo(data, on_complete, &c), STATUS_INVALID_DEVICE_STATE);
    assert_one_report(f, "IO", "in flight");

    FltCompletePendedPreOperation(f->ls.held, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(__atomic_load_n(&c.calls, __ATOMIC_SEQ_CST), 1);
    assert_ptr_equal(c.data, data);
    assert_status(data->IoStatus.Status, STATUS_SUCCESS);
    assert_int_equal(data->IoStatus.Information, 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);

    /* Again without FltReuseCallbackData: reported, sent as it is. */
    struct completion again = {0};
    assert_status(FltPerformAsynchronousIo(data, on_complete, &again), STATUS_SUCCESS);
    assert_int_equal(again.calls, 1);
    assert_one_report(f, "IO", "FltReuseCallbackData");

    /* Completed by L's pre: STATUS_FLT_IO_COMPLETE, the routine has run. */
    FltReuseCallbackData(data);
    data->Iopb->MajorFunction = IRP_MJ_READ;
    data->Iopb->Parameters.Read.Length = 5;
    data->Iopb->Parameters.Read.ReadBuffer = buf;
    f->ls.complete_reads = true;
    struct completion done = {0};
    assert_status(FltPerformAsynchronousIo(data, on_complete, &done), STATUS_FLT_IO_COMPLETE);
    f->ls.complete_reads = false;
    assert_int_equal(done.calls, 1);
    assert_status(done.status, STATUS_SUCCESS);
    assert_int_equal(done.information, 3);

    FltReuseCallbackData(data);
    data->Iopb->MajorFunction = IRP_MJ_CREATE;
    struct completion cr = {0};
    assert_status(FltPerformAsynchronousIo(data, on_complete, &cr),
                  STATUS_FLT_INVALID_ASYNCHRONOUS_REQUEST);
    assert_int_equal(cr.calls, 1);
    assert_status(cr.status, STATUS_FLT_INVALID_ASYNCHRONOUS_REQUEST);
    FltFreeCallbackData(data);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* The routines refuse, with a report, callback data FltAllocateCallbackData
 * did not allocate (an application's read); bad arguments fail; callback
 * data never freed is reported at unload (V23). */
static void own_data_misuse_and_leak_are_reported(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    PFILE_OBJECT fo = open_a(f, &h);
    f->ls.misuse_app_data = true;
    char buf[8];
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 5, &zero, 0, NULL), STATUS_SUCCESS);
    f->ls.misuse_app_data = false;
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "IO"), 2);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 2);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(f->w.sys, 0, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "FltPerformSynchronousIo"));
    assert_non_null(strstr(r.message, "not one FltAllocateCallbackData allocated"));
    fltsim_system_reports_clear(f->w.sys);

    PFLT_CALLBACK_DATA data = NULL;
    assert_status(FltAllocateCallbackData(NULL, fo, &data), STATUS_INVALID_PARAMETER);
    assert_null(data);
    assert_status(FltAllocateCallbackDataEx(f->m.last_instance, fo, 0x10, &data),
                  STATUS_INVALID_PARAMETER);
    assert_status(FltAllocateCallbackData(f->m.last_instance, fo, NULL), STATUS_INVALID_PARAMETER);
    assert_status(FltAllocateCallbackData(f->m.last_instance, NULL, &data), STATUS_SUCCESS);
    /* No target file object: the perform fails without I/O. */
    data->Iopb->MajorFunction = IRP_MJ_READ;
    LONG reads = f->ls.reads;
    FltPerformSynchronousIo(data);
    assert_status(data->IoStatus.Status, STATUS_INVALID_PARAMETER);
    FltReuseCallbackData(data);
    data->Iopb->MajorFunction = IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION;
    data->Iopb->TargetFileObject = fo;
    FltPerformSynchronousIo(data);
    assert_status(data->IoStatus.Status, STATUS_INVALID_PARAMETER);
    assert_int_equal(f->ls.reads, reads);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);

    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_status(fltsim_driver_unload(f->m.driver, 0), STATUS_SUCCESS);
    assert_one_report(f, "V23", "FltFreeCallbackData");
    FltFreeCallbackData(data); /* after the report: the memory was kept */
}

/* SPEC 6.7: M synchronized an application's read; its post moves the
 * offset, marks the data dirty and reissues: L sees a second, reissued
 * read, U none, and the application gets the reissued result. A failed open
 * reissued with FILE_OPEN_IF creates the file. */
static void reissue_from_post_sends_again_below(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    open_a(f, &h);
    f->ms.action = M_REISSUE_READ_AT_6;
    rec_reset();
    char buf[8] = {0};
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb = {0};
    assert_status(fltsim_io_read(f->w.sys, h, buf, 5, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 5);
    assert_memory_equal(buf, "world", 5);
    assert_recorded("U:pre:READ M:pre:READ L:pre:READ L:post:READ M:post:READ L:pre:READ "
                    "L:post:READ U:post:READ");
    assert_true(FLTFL_CALLBACK_DATA_REISSUED_IO & f->ls.last_flags);
    assert_true(FLTFL_CALLBACK_DATA_GENERATED_IO & f->ls.last_flags);
    assert_int_equal(f->ms.reissues, 1);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);

    f->ms.action = M_REISSUE_CREATE_OPEN_IF;
    HANDLE n;
    assert_status(fltsim_io_open(f->w.sys, L"C:\\new.txt", GENERIC_READ, &n), STATUS_SUCCESS);
    assert_status(f->ms.first_status, STATUS_OBJECT_NAME_NOT_FOUND); /* before the reissue */
    assert_int_equal(f->ms.reissues, 2);
    assert_status(fltsim_io_close(f->w.sys, n), STATUS_SUCCESS);
    size_t size = 99;
    char none[1];
    assert_status(fltsim_memfs_read_file(f->w.fs, L"\\new.txt", none, sizeof(none), &size),
                  STATUS_SUCCESS);
    assert_int_equal(size, 0);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* V25: a reissue from a pre, of an operation not synchronized, naming
 * another instance, or of a cancelled create (STATUS_CANCELLED); nothing is
 * sent. Callback data of one's own is reissued from anywhere once performed. */
static void reissue_misuse_is_reported(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    PFILE_OBJECT fo = open_a(f, &h);
    f->ms.other = f->l.last_instance;
    char buf[8];
    LONGLONG zero = 0;
    static const struct {
        enum m_action action;
        const char *text;
    } cases[] = {{M_REISSUE_IN_PRE, "outside the post"},
                 {M_REISSUE_UNSYNCHRONIZED, "did not synchronize"},
                 {M_REISSUE_OTHER_INSTANCE, "not the instance"}};
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        f->ms.action = cases[k].action;
        LONG reads = f->ls.reads;
        assert_status(fltsim_io_read(f->w.sys, h, buf, 5, &zero, 0, NULL), STATUS_SUCCESS);
        assert_int_equal(f->ls.reads, reads + 1);
        assert_one_report(f, "V25", cases[k].text);
    }
    f->ms.action = M_NONE;

    f->ms.action = M_CANCEL_THEN_REISSUE;
    HANDLE c;
    assert_status(fltsim_io_open(f->w.sys, L"C:\\a.txt", GENERIC_READ, &c), STATUS_CANCELLED);
    assert_one_report(f, "V25", "cancelled");
    f->ms.action = M_NONE;

    PFLT_CALLBACK_DATA data = NULL;
    assert_status(FltAllocateCallbackData(f->m.last_instance, fo, &data), STATUS_SUCCESS);
    data->Iopb->MajorFunction = IRP_MJ_READ;
    data->Iopb->Parameters.Read.Length = 5;
    data->Iopb->Parameters.Read.ReadBuffer = buf;
    FltReissueSynchronousIo(f->m.last_instance, data);
    assert_one_report(f, "V25", "never performed");
    FltPerformSynchronousIo(data);
    assert_status(data->IoStatus.Status, STATUS_SUCCESS);
    LONG reads = f->ls.reads;
    data->Iopb->Parameters.Read.ByteOffset.QuadPart = 6;
    FltReissueSynchronousIo(f->m.last_instance, data);
    assert_int_equal(f->ls.reads, reads + 1);
    assert_status(data->IoStatus.Status, STATUS_SUCCESS);
    assert_memory_equal(buf, "world", 5);
    FltReissueSynchronousIo(f->l.last_instance, data);
    assert_one_report(f, "V25", "not the instance");
    FltFreeCallbackData(data);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* An exception the completion routine does not handle ends the routine
 * with a report (SEH) instead of the process; the read's data is freed. */
static void completion_routine_exception_is_reported(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    PFILE_OBJECT fo = open_a(f, &h);
    char buf[8];
    LARGE_INTEGER zero = {.QuadPart = 0};
    struct completion c = {0};
    assert_status(FltReadFile(f->m.last_instance, fo, &zero, 5, buf, 0, NULL, raising_complete, &c),
                  STATUS_SUCCESS);
    assert_int_equal(c.calls, 1);
    assert_one_report(f, "SEH", "completion routine");
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* FltCancelIo of one's own asynchronous I/O: with no cancel routine below,
 * the Cancel bit is set and FALSE returned; with one, it runs and the
 * completion routine sees STATUS_CANCELLED. Afterwards (completed): FALSE
 * with an IO report; NULL: FALSE. */
static void cancel_io_of_own_asynchronous_io(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    PFILE_OBJECT fo = open_a(f, &h);
    PFLT_CALLBACK_DATA data = NULL;
    assert_status(FltAllocateCallbackData(f->m.last_instance, fo, &data), STATUS_SUCCESS);
    char buf[16] = {0};
    data->Iopb->MajorFunction = IRP_MJ_READ;
    data->Iopb->Parameters.Read.Length = 5;
    data->Iopb->Parameters.Read.ReadBuffer = buf;

    struct completion c = {0};
    f->ls.pend_reads = true;
    assert_status(FltPerformAsynchronousIo(data, on_complete, &c), STATUS_PENDING);
    assert_false(FltCancelIo(data)); /* not cancelable: the bit only */
    assert_true(FltIsIoCanceled(f->ls.held));
    assert_int_equal(c.calls, 0);
    FltCompletePendedPreOperation(f->ls.held, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(__atomic_load_n(&c.calls, __ATOMIC_SEQ_CST), 1);
    assert_status(c.status, STATUS_SUCCESS);

    FltReuseCallbackData(data);
    data->Iopb->MajorFunction = IRP_MJ_READ;
    data->Iopb->Parameters.Read.Length = 5;
    data->Iopb->Parameters.Read.ReadBuffer = buf;
    struct completion cc = {0};
    f->ls.pend_reads = true;
    f->ls.cancelable = true;
    assert_status(FltPerformAsynchronousIo(data, on_complete, &cc), STATUS_PENDING);
    assert_true(FltCancelIo(data));
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(__atomic_load_n(&cc.calls, __ATOMIC_SEQ_CST), 1);
    assert_status(cc.status, STATUS_CANCELLED);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);

    assert_false(FltCancelIo(data)); /* completed */
    assert_one_report(f, "IO", "not the callback data of an operation in flight");
    assert_false(FltCancelIo(NULL)); /* no system to report to: stderr */
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    FltFreeCallbackData(data);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

int main(void)
{
#define INLINE(name) cmocka_unit_test_setup_teardown(name, setup_inline, teardown)
#define ASYNC(name) cmocka_unit_test_setup_teardown(name, setup_async, teardown)
    const struct CMUnitTest tests[] = {
        INLINE(async_read_completed_at_once_calls_back_before_returning),
        ASYNC(async_read_and_write_pend_and_call_back_at_dispatch),
        INLINE(async_read_pended_below_calls_back_on_completion),
        INLINE(perform_synchronous_io_goes_below_and_reuses),
        ASYNC(perform_synchronous_io_goes_below_and_reuses),
        INLINE(perform_asynchronous_io_and_misuse_in_flight),
        INLINE(own_data_misuse_and_leak_are_reported),
        INLINE(reissue_from_post_sends_again_below),
        ASYNC(reissue_from_post_sends_again_below),
        INLINE(reissue_misuse_is_reported),
        INLINE(completion_routine_exception_is_reported),
        INLINE(cancel_io_of_own_asynchronous_io),
        ASYNC(cancel_io_of_own_asynchronous_io),
    };
    return FLTSIM_RUN_SUITE("own_callback_data", tests);
}
