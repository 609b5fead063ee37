/*
 * Requests to a driver's own device object (issue 15, the cdo sample): the
 * IRP its dispatch routine gets (the stack location's parameters, the
 * buffers per DO_BUFFERED_IO / DO_DIRECT_IO / neither and per control
 * method, the requestor's thread and mode), IoCompleteRequest with the
 * status and information the caller sees, STATUS_PENDING completed later
 * from another thread for a waiting and for an overlapped requestor (both
 * executors), fast I/O through the driver's FAST_IO_DISPATCH (used, refused,
 * missing, too short a table), the traces, and each misuse the verifier
 * reports (IO): completing twice or after the hand-back, STATUS_PENDING
 * without IoMarkIrpPending and the reverse, returning without completing,
 * completing with STATUS_PENDING or a cancel routine set, an exception in a
 * dispatch routine, IRPs never completed at shutdown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_fx.h"

/* ---- the trace ---- */

#define EVENTS_MAX 64

static struct {
    int count;
    struct {
        enum fltsim_event_type type;
        enum fltsim_op_kind kind;
        UCHAR major;
        LONG status;
        ULONG_PTR information;
        ULONG thread_id;
        char volume[64], detail[96];
    } ev[EVENTS_MAX];
    LONG fs_returned; /* an FLTSIM_EV_FS_RETURN was seen */
} traced;

static void trace_cb(void *ctx, const struct fltsim_event *ev)
{
    (void)ctx;
    if (traced.count == EVENTS_MAX || ev->type > FLTSIM_EV_FS_RETURN)
        return;
    if (ev->type != FLTSIM_EV_IO_START && ev->type != FLTSIM_EV_IO_COMPLETE &&
        ev->type != FLTSIM_EV_FS && ev->type != FLTSIM_EV_FS_RETURN)
        return;
    if (ev->type == FLTSIM_EV_FS_RETURN)
        __atomic_store_n(&traced.fs_returned, 1, __ATOMIC_RELEASE);
    int i = traced.count++;
    traced.ev[i].type = ev->type;
    traced.ev[i].kind = ev->kind;
    traced.ev[i].major = ev->major;
    traced.ev[i].status = ev->status;
    traced.ev[i].information = ev->information;
    traced.ev[i].thread_id = ev->thread_id;
    snprintf(traced.ev[i].volume, sizeof(traced.ev[i].volume), "%s",
             ev->volume != NULL ? ev->volume : "");
    snprintf(traced.ev[i].detail, sizeof(traced.ev[i].detail), "%s",
             ev->detail != NULL ? ev->detail : "");
}

/* ---- fixture ---- */

struct fx {
    struct test_world w;
    fltsim_driver *drv;
    HANDLE h;
};

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    world_create(&x->w, 0);
    dd_reset();
    memset(&traced, 0, sizeof(traced));
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    world_destroy(&x->w);
    free(x);
    return 0;
}

/* Loads the driver as configured and opens its device for synchronous I/O. */
static void load_and_open(struct fx *x)
{
    assert_status(dd_load(x->w.sys, &x->drv), STATUS_SUCCESS);
    assert_status(dd_open(x->w.sys, DD_NAME, GENERIC_READ | GENERIC_WRITE, &x->h), STATUS_SUCCESS);
}

static void close_and_unload(struct fx *x)
{
    assert_status(fltsim_io_close(x->w.sys, x->h), STATUS_SUCCESS);
    assert_status(fltsim_driver_unload(x->drv, 0), STATUS_SUCCESS);
}

/* ---- what the dispatch routine gets ---- */

static void irp_create_carries_the_open_parameters(void **state)
{
    struct fx *x = *state;
    assert_status(dd_load(x->w.sys, &x->drv), STATUS_SUCCESS);
    struct fltsim_create_params p;
    memset(&p, 0, sizeof(p));
    p.path = DD_NAME L"\\q";
    p.desired_access = GENERIC_READ | SYNCHRONIZE;
    p.share_access = FILE_SHARE_READ;
    p.disposition = FILE_OPEN_IF;
    p.create_options = FILE_SYNCHRONOUS_IO_NONALERT;
    p.allocation_size = 4096;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_create(x->w.sys, &p, &x->h, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, FILE_OPENED);
    const struct dd_seen *s = &dd.seen[IRP_MJ_CREATE];
    assert_true(s->layout_ok);
    assert_int_equal(s->sp.MajorFunction, IRP_MJ_CREATE);
    assert_int_equal(s->sp.Parameters.Create.Options,
                     (FILE_OPEN_IF << 24) | FILE_SYNCHRONOUS_IO_NONALERT);
    assert_int_equal(s->sp.Parameters.Create.ShareAccess, FILE_SHARE_READ);
    assert_non_null(s->sp.Parameters.Create.SecurityContext);
    assert_true(s->sp.Parameters.Create.SecurityContext->DesiredAccess & FILE_READ_DATA);
    assert_int_equal(s->allocation_size.QuadPart, 4096);
    assert_true(s->irp_flags & IRP_CREATE_OPERATION);
    assert_int_equal(s->mode, UserMode);
    assert_ptr_equal(s->thread, fltsim_thread_current());
    assert_int_equal(s->irql, PASSIVE_LEVEL);
    assert_int_equal(s->process_id, fltsim_thread_process_id());
    PFILE_OBJECT fo = fltsim_io_file_object(x->w.sys, x->h);
    assert_ptr_equal(s->sp.FileObject, fo);
    assert_ptr_equal(s->original_file, fo);
    assert_ptr_equal(s->sp.DeviceObject, dd.device);
    assert_true(dd_wequal(s->file_name, L"\\q"));
    close_and_unload(x);
    /* Cleanup and close come on the same file object. */
    assert_ptr_equal(dd.seen[IRP_MJ_CLEANUP].sp.FileObject, fo);
    assert_ptr_equal(dd.seen[IRP_MJ_CLOSE].sp.FileObject, fo);
    assert_true(dd.seen[IRP_MJ_CLOSE].irp_flags & IRP_CLOSE_OPERATION);
    assert_int_equal(fltsim_system_report_count(x->w.sys), 0);
}

/* A read and a write through a device of each buffering kind. */
static void read_write_with(struct fx *x, ULONG do_flags)
{
    dd.do_flags = do_flags;
    memcpy(dd.reply, "abcdef", 6);
    dd.reply_length = 6;
    load_and_open(x);
    char buf[8];
    memset(buf, 'x', sizeof(buf));
    IO_STATUS_BLOCK iosb;
    LONGLONG offset = 512;
    assert_status(fltsim_io_read(x->w.sys, x->h, buf, 4, &offset, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 4);
    assert_memory_equal(buf, "abcdxxxx", 8); /* no further than the length */
    const struct dd_seen *r = &dd.seen[IRP_MJ_READ];
    assert_true(r->layout_ok);
    assert_int_equal(r->sp.Parameters.Read.Length, 4);
    assert_int_equal(r->sp.Parameters.Read.ByteOffset.QuadPart, 512);
    assert_ptr_equal(r->user_buffer, buf);
    if (do_flags & DO_BUFFERED_IO) {
        assert_non_null(r->system_buffer);
        assert_ptr_not_equal(r->system_buffer, buf);
        assert_true(r->irp_flags & IRP_BUFFERED_IO);
        assert_true(r->irp_flags & IRP_INPUT_OPERATION);
        assert_null(r->mdl);
    } else if (do_flags & DO_DIRECT_IO) {
        assert_null(r->system_buffer);
        assert_non_null(r->mdl);
        assert_ptr_equal(r->mdl_va, buf);
        assert_int_equal(r->mdl_bytes, 4);
    } else {
        assert_null(r->system_buffer);
        assert_null(r->mdl);
    }
    /* A reply shorter than the buffer: only what Information says comes back. */
    dd.reply_length = 3;
    memset(buf, 'x', sizeof(buf));
    assert_status(fltsim_io_read(x->w.sys, x->h, buf, 8, &offset, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 3);
    assert_memory_equal(buf, "abcxxxxx", 8);
    assert_status(fltsim_io_write(x->w.sys, x->h, "written", 7, &offset, 0, &iosb), STATUS_SUCCESS);
    const struct dd_seen *wr = &dd.seen[IRP_MJ_WRITE];
    assert_int_equal(wr->sp.Parameters.Write.Length, 7);
    assert_int_equal(wr->data_length, 7);
    assert_memory_equal(wr->data, "written", 7);
    assert_int_equal((wr->system_buffer != NULL), (do_flags & DO_BUFFERED_IO) != 0);
    assert_int_equal((wr->mdl != NULL), (do_flags & DO_DIRECT_IO) != 0);
    /* A failed read copies nothing back. */
    dd.status = STATUS_IO_DEVICE_ERROR;
    dd.reply_length = 6;
    memset(buf, 'x', sizeof(buf));
    assert_status(fltsim_io_read(x->w.sys, x->h, buf, 8, &offset, 0, &iosb),
                  STATUS_IO_DEVICE_ERROR);
    if (do_flags & DO_BUFFERED_IO)
        assert_memory_equal(buf, "xxxxxxxx", 8);
    dd.status = STATUS_SUCCESS;
    close_and_unload(x);
    assert_int_equal(fltsim_system_report_count(x->w.sys), 0);
}

static void irp_read_write_neither_io_uses_the_callers_buffer(void **state)
{
    read_write_with(*state, 0);
}

static void irp_read_write_buffered_io_copies_through_a_system_buffer(void **state)
{
    read_write_with(*state, DO_BUFFERED_IO);
}

static void irp_read_write_direct_io_gets_an_mdl(void **state)
{
    read_write_with(*state, DO_DIRECT_IO);
}

static void irp_controls_carry_their_method_buffers(void **state)
{
    struct fx *x = *state;
    memcpy(dd.reply, "OUT!", 4);
    dd.reply_length = 4;
    load_and_open(x);
    IO_STATUS_BLOCK iosb;
    char out[8];
    static const ULONG methods[] = {METHOD_BUFFERED, METHOD_NEITHER, METHOD_OUT_DIRECT};
    for (size_t i = 0; i < 3; i++) {
        ULONG code = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, methods[i], FILE_ANY_ACCESS);
        memset(out, 'x', sizeof(out));
        assert_status(fltsim_io_device_control(x->w.sys, x->h, code, "in", 2, out, 6, 0, &iosb),
                      STATUS_SUCCESS);
        assert_int_equal(iosb.Information, 4);
        assert_memory_equal(out, "OUT!xx", 6);
        const struct dd_seen *s = &dd.seen[IRP_MJ_DEVICE_CONTROL];
        assert_int_equal(s->sp.Parameters.DeviceIoControl.IoControlCode, code);
        assert_int_equal(s->sp.Parameters.DeviceIoControl.InputBufferLength, 2);
        assert_int_equal(s->sp.Parameters.DeviceIoControl.OutputBufferLength, 6);
        assert_int_equal(s->data_length, 2);
        assert_memory_equal(s->data, "in", 2);
        switch (methods[i]) {
        case METHOD_BUFFERED:
            assert_non_null(s->system_buffer);
            assert_null(s->mdl);
            break;
        case METHOD_NEITHER:
            assert_null(s->system_buffer);
            assert_non_null(s->sp.Parameters.DeviceIoControl.Type3InputBuffer);
            assert_ptr_equal(s->user_buffer, out);
            break;
        default:
            assert_non_null(s->system_buffer); /* the input's copy */
            assert_non_null(s->mdl);
            assert_ptr_equal(s->mdl_va, out);
            assert_int_equal(s->mdl_bytes, 6);
            break;
        }
    }
    /* NtFsControlFile: IRP_MJ_FILE_SYSTEM_CONTROL / IRP_MN_USER_FS_REQUEST. */
    ULONG code = CTL_CODE(FILE_DEVICE_FILE_SYSTEM, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS);
    assert_status(fltsim_io_fs_control(x->w.sys, x->h, code, "fs", 2, out, 4, &iosb),
                  STATUS_SUCCESS);
    const struct dd_seen *f = &dd.seen[IRP_MJ_FILE_SYSTEM_CONTROL];
    assert_int_equal(f->sp.MinorFunction, IRP_MN_USER_FS_REQUEST);
    assert_int_equal(f->sp.Parameters.FileSystemControl.FsControlCode, code);
    assert_memory_equal(f->data, "fs", 2);
    close_and_unload(x);
}

static void irp_query_and_set_information_use_the_system_buffer(void **state)
{
    struct fx *x = *state;
    dd.information = sizeof(FILE_STANDARD_INFORMATION);
    load_and_open(x);
    FILE_STANDARD_INFORMATION info;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_query_information(x->w.sys, x->h, &info, sizeof(info),
                                              FileStandardInformation, 0, &iosb),
                  STATUS_SUCCESS);
    const struct dd_seen *q = &dd.seen[IRP_MJ_QUERY_INFORMATION];
    assert_int_equal(q->sp.Parameters.QueryFile.FileInformationClass, FileStandardInformation);
    assert_int_equal(q->sp.Parameters.QueryFile.Length, sizeof(info));
    assert_non_null(q->system_buffer);
    FILE_END_OF_FILE_INFORMATION eof = {{.QuadPart = 10}};
    assert_status(fltsim_io_set_information(x->w.sys, x->h, &eof, sizeof(eof),
                                            FileEndOfFileInformation, &iosb),
                  STATUS_SUCCESS);
    const struct dd_seen *st = &dd.seen[IRP_MJ_SET_INFORMATION];
    assert_int_equal(st->sp.Parameters.SetFile.FileInformationClass, FileEndOfFileInformation);
    assert_non_null(st->system_buffer);
    /* An FS-filter callback has nothing to synchronize on a device. */
    assert_status(
        fltsim_io_acquire_for_section_sync(x->w.sys, x->h, SyncTypeCreateSection, PAGE_READONLY),
        STATUS_INVALID_DEVICE_REQUEST);
    close_and_unload(x);
}

static void irp_to_an_unset_major_function_is_an_invalid_request(void **state)
{
    struct fx *x = *state;
    dd.no_dispatch = true; /* only the I/O manager's IopInvalidDeviceRequest */
    assert_status(dd_load(x->w.sys, &x->drv), STATUS_SUCCESS);
    for (int i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        assert_non_null(dd.driver_object->MajorFunction[i]);
    HANDLE h;
    assert_status(dd_open(x->w.sys, DD_NAME, GENERIC_READ, &h), STATUS_INVALID_DEVICE_REQUEST);
    /* A slot the driver set NULL: reported, and failed the same way. */
    dd.driver_object->MajorFunction[IRP_MJ_CREATE] = NULL;
    assert_status(dd_open(x->w.sys, DD_NAME, GENERIC_READ, &h), STATUS_INVALID_DEVICE_REQUEST);
    assert_int_equal(dd_reports(x->w.sys, "IO", "MajorFunction[IRP_MJ_CREATE] of TestCdo is NULL"),
                     1);
    assert_status(fltsim_driver_unload(x->drv, 0), STATUS_SUCCESS);
}

/* ---- pending and completion ---- */

static void pended_read_waits_for_its_completion_on_another_thread(void **state)
{
    struct fx *x = *state;
    dd.do_flags = DO_BUFFERED_IO;
    memcpy(dd.reply, "late", 4);
    dd.mode[IRP_MJ_READ] = DD_PEND;
    dd.complete_status = STATUS_SUCCESS;
    dd.complete_information = 3;
    load_and_open(x);
    fltsim_system_set_trace(x->w.sys, trace_cb, NULL);
    /* Completed once the dispatch routine has returned STATUS_PENDING (a
     * completion that comes before is the requestor's to finish: see
     * completed_before_its_dispatch_returns_pending). */
    dd.complete_gate = &traced.fs_returned;
    fltsim_thread *t = dd_completer_start();
    char buf[8];
    memset(buf, 'x', sizeof(buf));
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    /* The completer fills nothing: the system buffer's zeros come back. */
    assert_status(fltsim_io_read(x->w.sys, x->h, buf, 8, &zero, 0, &iosb), STATUS_SUCCESS);
    fltsim_thread_join(t);
    assert_int_equal(iosb.Information, 3);
    assert_memory_equal(buf, "\0\0\0xxxxx", 8);
    fltsim_system_set_trace(x->w.sys, NULL, NULL);
    /* io_start, fs, fs_return PENDING on the requestor; io_complete where it completed. */
    assert_int_equal(traced.count, 4);
    assert_int_equal(traced.ev[2].type, FLTSIM_EV_FS_RETURN);
    assert_status(traced.ev[2].status, STATUS_PENDING);
    assert_int_equal(traced.ev[3].type, FLTSIM_EV_IO_COMPLETE);
    assert_status(traced.ev[3].status, STATUS_SUCCESS);
    assert_int_equal(traced.ev[3].information, 3);
    assert_int_equal(traced.ev[3].thread_id, 4242);
    assert_int_not_equal(traced.ev[0].thread_id, 4242);
    assert_string_equal(traced.ev[0].volume, "\\FileSystem\\Filters\\TestCdo");
    assert_string_equal(traced.ev[0].detail, "\\FileSystem\\Filters\\TestCdo");
    close_and_unload(x);
    assert_int_equal(fltsim_system_report_count(x->w.sys), 0);
}

/* The overlapped caller's completion. */
static struct {
    LONG calls;
    IO_STATUS_BLOCK iosb;
    char data[8];
    char *buffer;
} async_seen;

static void async_done(struct fltsim_io_async *async, void *ctx)
{
    (void)ctx;
    async_seen.iosb = async->iosb;
    memcpy(async_seen.data, async_seen.buffer, sizeof(async_seen.data));
    __atomic_add_fetch(&async_seen.calls, 1, __ATOMIC_SEQ_CST);
}

static void pended_overlapped_read_completes_through_its_callback(void **state)
{
    struct fx *x = *state;
    dd.do_flags = DO_BUFFERED_IO;
    dd.mode[IRP_MJ_READ] = DD_PEND;
    dd.complete_status = STATUS_END_OF_FILE;
    assert_status(dd_load(x->w.sys, &x->drv), STATUS_SUCCESS);
    x->h = open_overlapped(x->w.sys, DD_NAME, GENERIC_READ);
    memset(&async_seen, 0, sizeof(async_seen));
    char buf[8];
    memset(buf, 'x', sizeof(buf));
    async_seen.buffer = buf;
    KEVENT done;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    struct fltsim_io_async async = {&done, async_done, NULL, {{0}, 0}};
    assert_status(fltsim_io_read_async(x->w.sys, x->h, buf, 8, 0, 0, &async), STATUS_PENDING);
    assert_int_equal(async_seen.calls, 0);
    fltsim_thread *t = dd_completer_start();
    fltsim_thread_join(t);
    assert_status(fltsim_system_wait_idle(x->w.sys, 10000), STATUS_SUCCESS);
    assert_status(KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    assert_int_equal(async_seen.calls, 1);
    assert_status(async_seen.iosb.Status, STATUS_END_OF_FILE);
    assert_memory_equal(async_seen.data, "xxxxxxxx", 8); /* an error copies nothing */
    close_and_unload(x);
    assert_int_equal(fltsim_system_report_count(x->w.sys), 0);
}

static void completed_before_its_dispatch_returns_pending(void **state)
{
    struct fx *x = *state;
    dd.mode[IRP_MJ_WRITE] = DD_PEND_COMPLETED;
    dd.complete_status = STATUS_SUCCESS;
    dd.complete_information = 5;
    load_and_open(x);
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    assert_status(fltsim_io_write(x->w.sys, x->h, "12345", 5, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 5);
    assert_status(fltsim_io_close(x->w.sys, x->h), STATUS_SUCCESS);
    /* Overlapped: the caller hears STATUS_PENDING, then the completion. */
    x->h = open_overlapped(x->w.sys, DD_NAME, GENERIC_WRITE);
    memset(&async_seen, 0, sizeof(async_seen));
    char buf[8] = "abcde";
    async_seen.buffer = buf;
    struct fltsim_io_async async = {NULL, async_done, NULL, {{0}, 0}};
    assert_status(fltsim_io_write_async(x->w.sys, x->h, buf, 5, 0, 0, &async), STATUS_PENDING);
    assert_status(fltsim_system_wait_idle(x->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(async_seen.calls, 1);
    assert_status(async_seen.iosb.Status, STATUS_SUCCESS);
    assert_int_equal(async_seen.iosb.Information, 5);
    close_and_unload(x);
    assert_int_equal(fltsim_system_report_count(x->w.sys), 0);
}

/* ---- the verifier ---- */

static void complete_twice_is_reported(void **state)
{
    struct fx *x = *state;
    dd.mode[IRP_MJ_FLUSH_BUFFERS] = DD_COMPLETE_TWICE;
    load_and_open(x);
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_flush(x->w.sys, x->h, &iosb), STATUS_SUCCESS);
    assert_int_equal(dd_reports(x->w.sys, "IO",
                                "IofCompleteRequest called twice for the "
                                "IRP_MJ_FLUSH_BUFFERS IRP"),
                     1);
    /* After the hand-back the IRP is gone: completing it is not knowable. */
    PIRP stale = dd.last_irp;
    IoCompleteRequest(stale, IO_NO_INCREMENT);
    IoCompleteRequest(NULL, IO_NO_INCREMENT);
    /* From the test thread, no driver's code: the last error says it. */
    assert_non_null(strstr(fltsim_last_error(), "IofCompleteRequest called with NULL"));
    assert_int_equal(fltsim_system_report_count(x->w.sys), 1);
    /* IO is a rule id like the others: disabled, it is only counted. */
    assert_true(fltsim_verifier_rule_valid("IO"));
    assert_status(fltsim_system_verifier_disable(x->w.sys, "IO"), STATUS_SUCCESS);
    assert_status(fltsim_io_flush(x->w.sys, x->h, &iosb), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(x->w.sys), 1);
    assert_int_equal(fltsim_system_report_suppressed_count(x->w.sys), 1);
    close_and_unload(x);
}

static void pending_without_mark_is_reported_and_still_waited_for(void **state)
{
    struct fx *x = *state;
    dd.mode[IRP_MJ_READ] = DD_PEND_UNMARKED;
    dd.complete_status = STATUS_SUCCESS;
    load_and_open(x);
    fltsim_thread *t = dd_completer_start();
    char buf[4];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(x->w.sys, x->h, buf, 4, &zero, 0, &iosb), STATUS_SUCCESS);
    fltsim_thread_join(t);
    assert_int_equal(dd_reports(x->w.sys, "IO", "without calling IoMarkIrpPending"), 1);
    /* The reverse: marked pending, completed, and returned a success. */
    dd.mode[IRP_MJ_READ] = DD_MARK_AND_COMPLETE;
    assert_status(fltsim_io_read(x->w.sys, x->h, buf, 4, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(dd_reports(x->w.sys, "IO",
                                "called IoMarkIrpPending for a IRP_MJ_READ IRP "
                                "and returned STATUS_SUCCESS"),
                     1);
    close_and_unload(x);
    assert_int_equal(fltsim_system_report_count(x->w.sys), 2);
}

static void return_without_completing_is_reported_and_the_irp_stays_out(void **state)
{
    struct fx *x = *state;
    dd.mode[IRP_MJ_WRITE] = DD_NO_COMPLETE;
    dd.status = STATUS_SUCCESS;
    load_and_open(x);
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    assert_status(fltsim_io_write(x->w.sys, x->h, "ab", 2, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 0);
    assert_int_equal(dd_reports(x->w.sys, "IO",
                                "returned STATUS_SUCCESS for a IRP_MJ_WRITE IRP "
                                "without completing it"),
                     1);
    /* Completed later: taken back quietly (ASan: nothing leaks). */
    PIRP lost = dd.pended;
    lost->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(lost, IO_NO_INCREMENT);
    /* One never completed is freed with the system. */
    assert_status(fltsim_io_write(x->w.sys, x->h, "cd", 2, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(x->w.sys), 2);
    close_and_unload(x);
}

static void complete_with_pending_status_or_cancel_routine_is_reported(void **state)
{
    struct fx *x = *state;
    dd.mode[IRP_MJ_FLUSH_BUFFERS] = DD_COMPLETE_PENDING;
    dd.mode[IRP_MJ_QUERY_INFORMATION] = DD_CANCEL_ROUTINE_SET;
    load_and_open(x);
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_flush(x->w.sys, x->h, &iosb), STATUS_UNSUCCESSFUL);
    assert_int_equal(dd_reports(x->w.sys, "IO", "completed with IoStatus.Status STATUS_PENDING"),
                     1);
    FILE_STANDARD_INFORMATION info;
    assert_status(fltsim_io_query_information(x->w.sys, x->h, &info, sizeof(info),
                                              FileStandardInformation, 0, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(dd_reports(x->w.sys, "IO", "with its cancel routine still set"), 1);
    close_and_unload(x);
}

static void exception_in_a_dispatch_routine_fails_the_request(void **state)
{
    struct fx *x = *state;
    dd.mode[IRP_MJ_READ] = DD_RAISE;
    load_and_open(x);
    char buf[4];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(x->w.sys, x->h, buf, 4, &zero, 0, &iosb),
                  STATUS_DATATYPE_MISALIGNMENT);
    assert_int_equal(dd_reports(x->w.sys, "SEH", "the dispatch routine of TestCdo"), 1);
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    close_and_unload(x);
    assert_int_equal(fltsim_system_report_count(x->w.sys), 1);
}

static void pool_a_dispatch_routine_leaks_is_the_drivers(void **state)
{
    struct fx *x = *state;
    dd.mode[IRP_MJ_FLUSH_BUFFERS] = DD_LEAK_POOL;
    load_and_open(x);
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_flush(x->w.sys, x->h, &iosb), STATUS_SUCCESS);
    struct fltsim_pool_stats stats;
    fltsim_driver_pool_stats(x->drv, DD_POOL_TAG, &stats);
    assert_int_equal(stats.outstanding, 1);
    close_and_unload(x);
    assert_int_equal(dd_reports(x->w.sys, "V23", "TestCdo"), 1);
}

static void irp_never_completed_is_cancelled_at_shutdown(void **state)
{
    struct fx *x = *state;
    dd.mode[IRP_MJ_READ] = DD_PEND;
    assert_status(dd_load(x->w.sys, &x->drv), STATUS_SUCCESS);
    x->h = open_overlapped(x->w.sys, DD_NAME, GENERIC_READ);
    memset(&async_seen, 0, sizeof(async_seen));
    char buf[8];
    async_seen.buffer = buf;
    struct fltsim_io_async async = {NULL, async_done, NULL, {{0}, 0}};
    assert_status(fltsim_io_read_async(x->w.sys, x->h, buf, 8, 0, 0, &async), STATUS_PENDING);
    fltsim_system *sys = x->w.sys;
    fltsim_system_set_verifier_mode(sys, FLTSIM_VERIFIER_MODE_REPORT);
    world_destroy(&x->w); /* reported as it goes: the callback sees the cancellation */
    assert_int_equal(async_seen.calls, 1);
    assert_status(async_seen.iosb.Status, STATUS_CANCELLED);
    assert_int_equal(dd.calls[IRP_MJ_CLOSE], 1); /* the file object went after it */
    world_create(&x->w, 0);                      /* for teardown */
}

/* ---- fast I/O ---- */

static struct {
    LONG calls;
    BOOLEAN answer;
    NTSTATUS status;
    ULONG code;
    PFILE_OBJECT file;
    PDEVICE_OBJECT device;
    PIRP irp;
    UCHAR irp_major;
    WCHAR name[16];
} fast;

static BOOLEAN fx_device_control(PFILE_OBJECT FileObject, BOOLEAN Wait, PVOID InputBuffer,
                                 ULONG InputBufferLength, PVOID OutputBuffer,
                                 ULONG OutputBufferLength, ULONG IoControlCode,
                                 PIO_STATUS_BLOCK IoStatus, PDEVICE_OBJECT DeviceObject)
{
    (void)Wait;
    (void)InputBuffer;
    (void)InputBufferLength;
    fast.calls++;
    fast.code = IoControlCode;
    fast.file = FileObject;
    fast.device = DeviceObject;
    if (!fast.answer)
        return FALSE;
    if (OutputBufferLength >= 2)
        memcpy(OutputBuffer, "ok", 2);
    IoStatus->Status = fast.status;
    IoStatus->Information = 2;
    return TRUE;
}

static BOOLEAN fx_read(PFILE_OBJECT FileObject, PLARGE_INTEGER FileOffset, ULONG Length,
                       BOOLEAN Wait, ULONG LockKey, PVOID Buffer, PIO_STATUS_BLOCK IoStatus,
                       PDEVICE_OBJECT DeviceObject)
{
    (void)FileOffset;
    (void)Wait;
    (void)LockKey;
    (void)Buffer;
    (void)Length;
    fast.calls++;
    fast.file = FileObject;
    fast.device = DeviceObject;
    IoStatus->Status = STATUS_INVALID_DEVICE_REQUEST; /* as the cdo sample answers */
    IoStatus->Information = 0;
    return TRUE;
}

static BOOLEAN fx_query_basic(PFILE_OBJECT FileObject, BOOLEAN Wait,
                              struct _FILE_BASIC_INFORMATION *Buffer, PIO_STATUS_BLOCK IoStatus,
                              PDEVICE_OBJECT DeviceObject)
{
    (void)Wait;
    (void)DeviceObject;
    fast.calls++;
    fast.file = FileObject;
    Buffer->FileAttributes = FILE_ATTRIBUTE_DEVICE;
    IoStatus->Status = STATUS_SUCCESS;
    IoStatus->Information = sizeof(*Buffer);
    return TRUE;
}

static BOOLEAN fx_lock(PFILE_OBJECT FileObject, PLARGE_INTEGER FileOffset, PLARGE_INTEGER Length,
                       PEPROCESS ProcessId, ULONG Key, BOOLEAN FailImmediately,
                       BOOLEAN ExclusiveLock, PIO_STATUS_BLOCK IoStatus,
                       PDEVICE_OBJECT DeviceObject)
{
    (void)FileObject;
    (void)FileOffset;
    (void)Length;
    (void)Key;
    (void)FailImmediately;
    (void)ExclusiveLock;
    (void)DeviceObject;
    fast.calls++;
    IoStatus->Status =
        ProcessId == PsGetCurrentProcess() ? STATUS_LOCK_NOT_GRANTED : STATUS_UNSUCCESSFUL;
    IoStatus->Information = 0;
    return TRUE;
}

static BOOLEAN fx_query_open(PIRP Irp, struct _FILE_NETWORK_OPEN_INFORMATION *Info,
                             PDEVICE_OBJECT DeviceObject)
{
    (void)Info;
    fast.calls++;
    fast.irp = Irp;
    fast.device = DeviceObject;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    fast.irp_major = sp->MajorFunction;
    size_t n = sp->FileObject->FileName.Length / sizeof(WCHAR);
    memcpy(fast.name, sp->FileObject->FileName.Buffer, (n < 15 ? n : 15) * sizeof(WCHAR));
    Irp->IoStatus.Status = STATUS_INVALID_DEVICE_REQUEST;
    Irp->IoStatus.Information = 0;
    return TRUE;
}

static void fast_device_control_answers_without_an_irp(void **state)
{
    struct fx *x = *state;
    memset(&fast, 0, sizeof(fast));
    fast.answer = TRUE;
    fast.status = STATUS_SUCCESS;
    dd.fast.SizeOfFastIoDispatch = sizeof(FAST_IO_DISPATCH);
    dd.fast.FastIoDeviceControl = fx_device_control;
    load_and_open(x);
    ULONG code = CTL_CODE(FILE_DEVICE_UNKNOWN, 0x802, METHOD_BUFFERED, FILE_ANY_ACCESS);
    char out[4] = {0};
    IO_STATUS_BLOCK iosb;
    assert_status(
        fltsim_io_device_control(x->w.sys, x->h, code, NULL, 0, out, 4, FLTSIM_IO_FAST, &iosb),
        STATUS_SUCCESS);
    assert_int_equal(fast.calls, 1);
    assert_int_equal(fast.code, code);
    assert_ptr_equal(fast.file, fltsim_io_file_object(x->w.sys, x->h));
    assert_ptr_equal(fast.device, dd.device);
    assert_int_equal(iosb.Information, 2);
    assert_memory_equal(out, "ok", 2);
    assert_int_equal(dd.calls[IRP_MJ_DEVICE_CONTROL], 0);
    /* Refused (FALSE): the I/O manager sends the IRP ... */
    fast.answer = FALSE;
    assert_status(
        fltsim_io_device_control(x->w.sys, x->h, code, NULL, 0, out, 4, FLTSIM_IO_FAST, &iosb),
        STATUS_SUCCESS);
    assert_int_equal(fast.calls, 2);
    assert_int_equal(dd.calls[IRP_MJ_DEVICE_CONTROL], 1);
    /* ... unless the caller asked for the fast path alone. */
    assert_status(
        fltsim_io_device_control(x->w.sys, x->h, code, NULL, 0, out, 4, FLTSIM_IO_FAST_ONLY, &iosb),
        STATUS_FLT_DISALLOW_FAST_IO);
    assert_int_equal(dd.calls[IRP_MJ_DEVICE_CONTROL], 1);
    /* A table too short to hold the routine is as good as none. */
    dd.fast.SizeOfFastIoDispatch = offsetof(FAST_IO_DISPATCH, FastIoDeviceControl);
    fast.answer = TRUE;
    assert_status(
        fltsim_io_device_control(x->w.sys, x->h, code, NULL, 0, out, 4, FLTSIM_IO_FAST, &iosb),
        STATUS_SUCCESS);
    assert_int_equal(fast.calls, 3);
    assert_int_equal(dd.calls[IRP_MJ_DEVICE_CONTROL], 2);
    close_and_unload(x);
}

static void fast_io_read_query_lock_and_query_open_reach_the_table(void **state)
{
    struct fx *x = *state;
    memset(&fast, 0, sizeof(fast));
    dd.fast.SizeOfFastIoDispatch = sizeof(FAST_IO_DISPATCH);
    dd.fast.FastIoRead = fx_read;
    dd.fast.FastIoQueryBasicInfo = fx_query_basic;
    dd.fast.FastIoLock = fx_lock;
    dd.fast.FastIoQueryOpen = fx_query_open;
    load_and_open(x);
    char buf[4];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    /* A device's file object has no cache map: FLTSIM_IO_FAST goes to the IRP. */
    assert_status(fltsim_io_read(x->w.sys, x->h, buf, 4, &zero, FLTSIM_IO_FAST, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(fast.calls, 0);
    assert_int_equal(dd.calls[IRP_MJ_READ], 1);
    assert_status(fltsim_io_read(x->w.sys, x->h, buf, 4, &zero, FLTSIM_IO_FAST_ONLY, &iosb),
                  STATUS_INVALID_DEVICE_REQUEST);
    assert_int_equal(fast.calls, 1);
    FILE_BASIC_INFORMATION basic;
    assert_status(fltsim_io_query_information(x->w.sys, x->h, &basic, sizeof(basic),
                                              FileBasicInformation, FLTSIM_IO_FAST, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(fast.calls, 2);
    assert_int_equal(basic.FileAttributes, FILE_ATTRIBUTE_DEVICE);
    assert_int_equal(dd.calls[IRP_MJ_QUERY_INFORMATION], 0);
    assert_status(fltsim_io_lock(x->w.sys, x->h, 0, 1, 0, TRUE, TRUE, FLTSIM_IO_FAST_ONLY, &iosb),
                  STATUS_LOCK_NOT_GRANTED);
    assert_int_equal(fast.calls, 3);
    /* NtQueryAttributesFile on a name below the device: FastIoQueryOpen
     * with the create IRP of the open it stands for. */
    FILE_NETWORK_OPEN_INFORMATION info;
    assert_status(fltsim_io_query_open(x->w.sys, DD_NAME L"\\x", FileNetworkOpenInformation, &info,
                                       sizeof(info), &iosb),
                  STATUS_INVALID_DEVICE_REQUEST);
    assert_int_equal(fast.calls, 4);
    assert_int_equal(fast.irp_major, IRP_MJ_CREATE);
    assert_ptr_equal(fast.device, dd.device);
    assert_true(dd_wequal(fast.name, L"\\x"));
    assert_int_equal(dd.calls[IRP_MJ_CREATE], 1); /* no open followed */
    assert_int_equal(dd.device->ReferenceCount, 1);
    close_and_unload(x);
    assert_int_equal(fltsim_system_report_count(x->w.sys), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(irp_create_carries_the_open_parameters, setup, teardown),
        cmocka_unit_test_setup_teardown(irp_read_write_neither_io_uses_the_callers_buffer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(irp_read_write_buffered_io_copies_through_a_system_buffer,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(irp_read_write_direct_io_gets_an_mdl, setup, teardown),
        cmocka_unit_test_setup_teardown(irp_controls_carry_their_method_buffers, setup, teardown),
        cmocka_unit_test_setup_teardown(irp_query_and_set_information_use_the_system_buffer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(irp_to_an_unset_major_function_is_an_invalid_request, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(pended_read_waits_for_its_completion_on_another_thread,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(pended_overlapped_read_completes_through_its_callback,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(completed_before_its_dispatch_returns_pending, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(complete_twice_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(pending_without_mark_is_reported_and_still_waited_for,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(return_without_completing_is_reported_and_the_irp_stays_out,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(complete_with_pending_status_or_cancel_routine_is_reported,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(exception_in_a_dispatch_routine_fails_the_request, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(pool_a_dispatch_routine_leaks_is_the_drivers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(irp_never_completed_is_cancelled_at_shutdown, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(fast_device_control_answers_without_an_irp, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(fast_io_read_query_lock_and_query_open_reach_the_table,
                                        setup, teardown),
    };
    return FLTSIM_RUN_SUITE("device_io", tests);
}
