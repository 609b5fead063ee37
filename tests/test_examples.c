/*
 * The example minifilters of scenarios/filters/ that never pend an operation
 * (PassThrough, ActivityLogger, BufferRewriter) and the catalog they are
 * loaded from, the one the CLI and scenario files use: each driven
 * through the test I/O API over memfs, with recording test filters above and
 * below it to observe what it passes on (examples_fx.h). Every behaviour a
 * filter's teaching comment claims is asserted here, and each case ends with
 * no verifier report and no pool left under the filter's tag after unload.
 * PendReads, which pends reads to a worker, is test_examples_pendreads.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <example_filters.h>

#include "examples_fx.h"
#include "fltsim_test.h"

#define LOGGER_TAG 'gLcA'
#define REWRITER_TAG 'wRuB'
#define WRITE_COUNTER_TAG 'tnCW'
#define SCANNER_TAG 'nacS'
#define MISTAKES_TAG 'tsiM'

/* ---- the catalog ---- */

static void catalog_lists_every_example(void **state)
{
    (void)state;
    static const char *const names[] = {"passthrough", "accessblocker", "readquota", "pendreads",
                                        "rewriter",    "logger",        "antivirus", "writecounter",
                                        "mistakes",    "scanner"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const struct fltsim_builtin_filter *ex = fltsim_example_filter_find(names[i]);
        assert_non_null(ex);
        assert_non_null(ex->entry);
        assert_non_null(ex->summary);
        assert_null(strchr(ex->summary, '\n'));
    }
    assert_ptr_equal(fltsim_example_filter_find("PENDREADS")->complete_pended,
                     PendReadsCompletePended);
    assert_null(fltsim_example_filter_find("rewriter")->complete_pended);
    assert_null(fltsim_example_filter_find("nosuchfilter"));
}

/* ---- PassThrough ---- */

struct debug_capture {
    char text[65536];
    size_t len;
};

static void debug_cb(void *ctx, const char *text)
{
    struct debug_capture *d = ctx;
    size_t n = strlen(text);
    if (d->len + n + 1 < sizeof(d->text)) {
        memcpy(d->text + d->len, text, n + 1);
        d->len += n;
    }
}

/* The kind an operation code arrives as when it is not an IRP major. */
static enum fltsim_op_kind kind_of(UCHAR major)
{
    switch (major) {
    case IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION:
    case IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION:
    case IRP_MJ_ACQUIRE_FOR_MOD_WRITE:
    case IRP_MJ_RELEASE_FOR_MOD_WRITE:
    case IRP_MJ_ACQUIRE_FOR_CC_FLUSH:
    case IRP_MJ_RELEASE_FOR_CC_FLUSH:
    case IRP_MJ_QUERY_OPEN:
        return FLTSIM_OP_FS_FILTER;
    default:
        return major <= IRP_MJ_MAXIMUM_FUNCTION ? FLTSIM_OP_IRP : FLTSIM_OP_FAST_IO;
    }
}

/* SPEC 1.3: every code a minifilter may register reaches PassThrough's pre,
 * and its post except for SHUTDOWN (which may have no post). The codes that
 * open or close the file object are covered by the next case. Its DbgPrint
 * output names every code. */
static void passthrough_registers_every_registrable_code(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(FLTSIM_COMPLETE_INLINE, "PassThrough");
    static struct debug_capture dbg;
    memset(&dbg, 0, sizeof(dbg));
    fltsim_debug_set_sink(debug_cb, &dbg);
    f->example = load_builtin(f->w.sys, "passthrough");
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ | GENERIC_WRITE);
    PFILE_OBJECT fo = fltsim_io_file_object(f->w.sys, h);
    assert_non_null(fo);

    int issued = 0;
    for (int major = 0; major < 256; major++) {
        if (fltsim_major_name((UCHAR)major) == NULL || major == IRP_MJ_POWER ||
            major == IRP_MJ_DEVICE_CHANGE || major == IRP_MJ_CREATE || major == IRP_MJ_CLEANUP ||
            major == IRP_MJ_CLOSE || major == IRP_MJ_CREATE_NAMED_PIPE ||
            major == IRP_MJ_CREATE_MAILSLOT)
            continue;
        struct fltsim_request req;
        memset(&req, 0, sizeof(req));
        req.kind = kind_of((UCHAR)major);
        req.major = (UCHAR)major;
        req.file_object = fo;
        req.requestor_mode = KernelMode;
        (void)fltsim_request_dispatch(f->w.volume, &req);
        issued++;
        assert_int_equal(get(&f->tally.pre[major]), 1);
        assert_int_equal(get(&f->tally.post[major]), major == IRP_MJ_SHUTDOWN ? 0 : 1);
    }
    assert_int_equal(issued, 26 - 5 + 7 + 8);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    fltsim_debug_set_sink(NULL, NULL);
    assert_non_null(strstr(dbg.text, "PassThrough: pre  QUERY_OPEN"));
    assert_non_null(strstr(dbg.text, "PassThrough: pre  SYSTEM_CONTROL"));
    assert_non_null(strstr(dbg.text, "PassThrough: post VOLUME_DISMOUNT"));
    assert_null(strstr(dbg.text, "unknown operation"));
    finish(f, 0);
}

/* Through the I/O API: for each major the application caused, PassThrough's
 * pre and post ran once per operation, and everything reached the file
 * system unchanged. */
static void passthrough_gets_pre_and_post_for_each_operation_issued(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(FLTSIM_COMPLETE_INLINE, "PassThrough");
    static struct debug_capture dbg;
    memset(&dbg, 0, sizeof(dbg));
    fltsim_debug_set_sink(debug_cb, &dbg);
    f->example = load_builtin(f->w.sys, "passthrough");
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ | GENERIC_WRITE);
    char buf[16];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    assert_status(fltsim_io_write(f->w.sys, h, "J", 1, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_status(read_at(f->w.sys, h, buf, 11, 0, 0, &iosb), STATUS_SUCCESS);
    assert_memory_equal(buf, "Jello world", 11);
    assert_status(read_at(f->w.sys, h, buf, 5, 0, FLTSIM_IO_FAST, &iosb), STATUS_SUCCESS);
    FILE_STANDARD_INFORMATION std;
    assert_status(fltsim_io_query_information(f->w.sys, h, &std, sizeof(std),
                                              FileStandardInformation, 0, &iosb),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_flush(f->w.sys, h, &iosb), STATUS_SUCCESS);
    assert_status(fltsim_io_map_section(f->w.sys, h, PAGE_READONLY),
                  STATUS_FILE_LOCKED_WITH_WRITERS); /* NTFS: a writer is open */
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    HANDLE d = world_open(&f->w, L"C:\\dir", FILE_LIST_DIRECTORY);
    char dirbuf[512];
    assert_status(fltsim_io_query_directory(f->w.sys, d, dirbuf, sizeof(dirbuf),
                                            FileNamesInformation, NULL, 0, &iosb),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, d), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);

    static const UCHAR issued[] = {IRP_MJ_CREATE,
                                   IRP_MJ_WRITE,
                                   IRP_MJ_READ,
                                   IRP_MJ_QUERY_INFORMATION,
                                   IRP_MJ_FLUSH_BUFFERS,
                                   IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION,
                                   IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION,
                                   IRP_MJ_DIRECTORY_CONTROL,
                                   IRP_MJ_CLEANUP,
                                   IRP_MJ_CLOSE};
    for (size_t i = 0; i < sizeof(issued); i++) {
        UCHAR m = issued[i];
        assert_true(get(&f->tally.start[m]) > 0);
        assert_int_equal(get(&f->tally.pre[m]), get(&f->tally.start[m]));
        assert_int_equal(get(&f->tally.post[m]), get(&f->tally.start[m]));
    }
    assert_int_equal(get(&f->tally.pre[IRP_MJ_READ]), 2); /* one IRP, one fast */
    fltsim_debug_set_sink(NULL, NULL);
    assert_non_null(strstr(dbg.text, "PassThrough: pre  READ (fast I/O) \\a.txt\n"));
    assert_non_null(strstr(dbg.text, "PassThrough: post DIRECTORY_CONTROL status 0x00000000\n"));
    finish(f, 0);
}

/* ---- ActivityLogger ---- */

static void assert_record(ULONG seq, UCHAR kind, UCHAR major, ULONG pid, NTSTATUS status,
                          PCWSTR name)
{
    ACTIVITY_RECORD r;
    assert_true(ActivityLoggerRecord(seq, &r));
    assert_int_equal(r.Sequence, seq);
    assert_int_equal(r.Kind, kind);
    if (r.Major != major)
        print_error("record %lu is %s, expected %s\n", (unsigned long)seq, tf_major(r.Major),
                    tf_major(major));
    assert_int_equal(r.Major, major);
    assert_int_equal(r.ProcessId, pid);
    assert_status(r.Status, status);
    size_t len = name != NULL ? fltsim_wcslen(name) : 0;
    assert_int_equal(r.NameLength, len);
    if (len != 0)
        assert_memory_equal(r.Name, name, len * sizeof(WCHAR));
}

/* Every operation, pre then post, in the order they happened, with the
 * requestor's process, the final status in the post and the name only
 * around the create. */
static void logger_records_every_operation_in_order(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(FLTSIM_COMPLETE_INLINE, "ActivityLogger");
    ULONG old_pid = fltsim_thread_process_id(), old_tid = fltsim_thread_id();
    fltsim_thread_set_identity(4242, 77);
    ULONG64 before = tag_total(LOGGER_TAG);
    f->example = load_builtin(f->w.sys, "logger");
    assert_int_equal(tag_outstanding(LOGGER_TAG), 1); /* the ring */
    assert_int_equal(tag_total(LOGGER_TAG), before + 1);
    assert_int_equal(ActivityLoggerTotal(), 0);

    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ | GENERIC_WRITE);
    char buf[16];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    assert_status(fltsim_io_write(f->w.sys, h, "xy", 2, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_status(read_at(f->w.sys, h, buf, 11, 0, 0, &iosb), STATUS_SUCCESS);
    assert_memory_equal(buf, "xyllo world", 11); /* it changed nothing */
    assert_status(read_at(f->w.sys, h, buf, 4, 100, 0, &iosb), STATUS_END_OF_FILE);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    HANDLE missing;
    assert_status(fltsim_io_open(f->w.sys, L"C:\\nope.txt", GENERIC_READ, &missing),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    fltsim_thread_set_identity(old_pid, old_tid);

    assert_record(0, ACTIVITY_PRE, IRP_MJ_CREATE, 4242, STATUS_PENDING, L"\\a.txt");
    assert_record(1, ACTIVITY_POST, IRP_MJ_CREATE, 4242, STATUS_SUCCESS, L"\\a.txt");
    assert_record(2, ACTIVITY_PRE, IRP_MJ_WRITE, 4242, STATUS_PENDING, NULL);
    assert_record(3, ACTIVITY_POST, IRP_MJ_WRITE, 4242, STATUS_SUCCESS, NULL);
    assert_record(4, ACTIVITY_PRE, IRP_MJ_READ, 4242, STATUS_PENDING, NULL);
    assert_record(5, ACTIVITY_POST, IRP_MJ_READ, 4242, STATUS_SUCCESS, NULL);
    assert_record(6, ACTIVITY_PRE, IRP_MJ_READ, 4242, STATUS_PENDING, NULL);
    assert_record(7, ACTIVITY_POST, IRP_MJ_READ, 4242, STATUS_END_OF_FILE, NULL);
    assert_record(8, ACTIVITY_PRE, IRP_MJ_CLEANUP, 4242, STATUS_PENDING, NULL);
    assert_record(9, ACTIVITY_POST, IRP_MJ_CLEANUP, 4242, STATUS_SUCCESS, NULL);
    assert_record(10, ACTIVITY_PRE, IRP_MJ_CLOSE, 4242, STATUS_PENDING, NULL);
    assert_record(11, ACTIVITY_POST, IRP_MJ_CLOSE, 4242, STATUS_SUCCESS, NULL);
    assert_record(12, ACTIVITY_PRE, IRP_MJ_CREATE, 4242, STATUS_PENDING, L"\\nope.txt");
    assert_record(13, ACTIVITY_POST, IRP_MJ_CREATE, 4242, STATUS_OBJECT_NAME_NOT_FOUND,
                  L"\\nope.txt");
    assert_int_equal(ActivityLoggerTotal(), 14);
    ACTIVITY_RECORD r;
    assert_false(ActivityLoggerRecord(14, &r));
    assert_true(ActivityLoggerRecord(3, &r));
    assert_int_equal(r.Information, 2);
    assert_int_equal(ActivityLoggerCount(IRP_MJ_READ, ACTIVITY_PRE), 2);
    assert_int_equal(ActivityLoggerCount(IRP_MJ_READ, ACTIVITY_POST), 2);
    assert_int_equal(ActivityLoggerCount(IRP_MJ_CREATE, ACTIVITY_POST), 2);
    assert_int_equal(ActivityLoggerCount(IRP_MJ_FLUSH_BUFFERS, ACTIVITY_PRE), 0);
    /* The trace agrees: one pre and one post per record pair. */
    assert_int_equal(get(&f->tally.pre[IRP_MJ_READ]), 2);
    assert_int_equal(get(&f->tally.post[IRP_MJ_CLOSE]), 1);

    assert_status(fltsim_driver_unload(f->example, 0), STATUS_SUCCESS);
    f->example = NULL;
    assert_int_equal(tag_outstanding(LOGGER_TAG), 0); /* the ring went with it */
    assert_int_equal(ActivityLoggerTotal(), 0);
    assert_false(ActivityLoggerRecord(0, &r));
    finish(f, LOGGER_TAG);
}

/* The ring keeps the newest ACTIVITY_RING_SIZE records; counts keep going. */
static void logger_ring_keeps_the_newest_records(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(FLTSIM_COMPLETE_INLINE, "ActivityLogger");
    f->example = load_builtin(f->w.sys, "logger");
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[4];
    for (int i = 0; i < 200; i++)
        assert_status(read_at(f->w.sys, h, buf, 1, i % 11, 0, NULL), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    ULONG total = ActivityLoggerTotal();
    assert_int_equal(total, 2 + 400 + 4);
    assert_int_equal(ActivityLoggerCount(IRP_MJ_READ, ACTIVITY_POST), 200);
    ACTIVITY_RECORD r;
    assert_false(ActivityLoggerRecord(total - ACTIVITY_RING_SIZE - 1, &r));
    assert_true(ActivityLoggerRecord(total - ACTIVITY_RING_SIZE, &r));
    assert_int_equal(r.Sequence, total - ACTIVITY_RING_SIZE);
    assert_true(ActivityLoggerRecord(total - 1, &r));
    assert_int_equal(r.Major, IRP_MJ_CLOSE);
    assert_int_equal(r.Kind, ACTIVITY_POST);
    finish(f, LOGGER_TAG);
}

/* Holds every read of the lower test filter in its pre (PENDING). */
static FLT_PREOP_CALLBACK_STATUS hold_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                          PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    __atomic_store_n((PFLT_CALLBACK_DATA *)tf->user, data, __ATOMIC_SEQ_CST);
    return FLT_PREOP_PENDING;
}

/* SPEC 4.2, 4.4: on a volume that completes asynchronously the posts run at
 * DISPATCH_LEVEL, where the logger's spin lock is fine (no report); a post
 * drained while the logger is detached is recorded with the DRAINING flag. */
static void logger_posts_at_dispatch_and_draining(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(FLTSIM_COMPLETE_ASYNC, "ActivityLogger");
    f->example = load_builtin(f->w.sys, "logger");
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[16];
    IO_STATUS_BLOCK iosb;
    assert_status(read_at(f->w.sys, h, buf, 11, 0, 0, &iosb), STATUS_SUCCESS);
    assert_memory_equal(buf, "hello world", 11);
    assert_int_equal(ActivityLoggerCount(IRP_MJ_READ, ACTIVITY_POST), 1);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);

    /* A read held below the logger while it detaches. */
    PFLT_CALLBACK_DATA held = NULL;
    tf_init(&f->lower, "L", "100000");
    tf_only(&f->lower, IRP_MJ_READ);
    f->lower.pre = hold_pre;
    f->lower.user = &held;
    assert_status(tf_load(f->w.sys, &f->lower), STATUS_SUCCESS);
    HANDLE ah = open_overlapped(f->w.sys, L"C:\\a.txt", GENERIC_READ);
    KEVENT done;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    struct fltsim_io_async io = {.event = &done};
    assert_status(fltsim_io_read_async(f->w.sys, ah, buf, 11, 0, 0, &io), STATUS_PENDING);
    assert_non_null(held);
    ULONG seq = ActivityLoggerTotal(); /* the next record is the drained post */
    assert_status(FltDetachVolume(fltsim_driver_filter(f->example), f->w.volume, NULL),
                  STATUS_SUCCESS);
    ACTIVITY_RECORD r;
    assert_true(ActivityLoggerRecord(seq, &r));
    assert_int_equal(r.Kind, ACTIVITY_POST);
    assert_int_equal(r.Major, IRP_MJ_READ);
    assert_int_equal(r.PostFlags, FLTFL_POST_OPERATION_DRAINING);
    FltCompletePendedPreOperation(held, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    assert_status(KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    assert_status(io.iosb.Status, STATUS_SUCCESS);
    assert_int_equal(ActivityLoggerTotal(), seq + 1); /* detached: nothing more */
    assert_status(fltsim_io_close(f->w.sys, ah), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    finish(f, LOGGER_TAG);
}

/* ---- BufferRewriter ---- */

struct write_view {
    const void *buffer; /* WriteBuffer the filter saw */
    char data[64];
    ULONG length;
    bool fast;
    const void *post_buffer; /* WriteBuffer in its post */
};

static FLT_PREOP_CALLBACK_STATUS view_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                          PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    struct write_view *v = tf->user;
    if (FLT_IS_FASTIO_OPERATION(data)) {
        v->fast = true;
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    }
    v->buffer = data->Iopb->Parameters.Write.WriteBuffer;
    v->length = data->Iopb->Parameters.Write.Length;
    if (v->length <= sizeof(v->data))
        memcpy(v->data, v->buffer, v->length);
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS view_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID context,
                                            FLT_POST_OPERATION_FLAGS flags)
{
    (void)objects;
    (void)context;
    (void)flags;
    struct write_view *v = tf->user;
    if (!FLT_IS_FASTIO_OPERATION(data))
        v->post_buffer = data->Iopb->Parameters.Write.WriteBuffer;
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static void file_is(struct fixture *f, PCWSTR path, const char *expected)
{
    char data[64];
    size_t size = 0;
    assert_status(fltsim_memfs_read_file(f->w.fs, path, data, sizeof(data), &size), STATUS_SUCCESS);
    assert_int_equal(size, strlen(expected));
    assert_memory_equal(data, expected, size);
}

static struct fixture *rewriter_world(ULONG completion, struct write_view *up,
                                      struct write_view *low)
{
    struct fixture *f = fixture_new(completion, "BufferRewriter");
    f->tag_total_before = tag_total(REWRITER_TAG);
    f->example = load_builtin(f->w.sys, "rewriter");
    load_neighbours(f, IRP_MJ_WRITE);
    f->upper.pre = f->lower.pre = view_pre;
    f->upper.post = f->lower.post = view_post;
    f->upper.user = up;
    f->lower.user = low;
    return f;
}

/* SPEC 6.3: the file system and the filter below see the swapped, upper-cased
 * buffer (FltSetCallbackDataDirty); the filter above sees the caller's buffer
 * in its pre and its post; the caller's data are untouched; the buffer is
 * freed in the post. */
static void rewriter_file_system_receives_rewritten_bytes(void **state)
{
    (void)state;
    struct write_view up = {0}, low = {0};
    struct fixture *f = rewriter_world(FLTSIM_COMPLETE_INLINE, &up, &low);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_WRITE);
    char mine[] = "hello, World 42";
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    assert_status(fltsim_io_write(f->w.sys, h, mine, 15, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 15);
    file_is(f, L"\\a.txt", "HELLO, WORLD 42");
    assert_string_equal(mine, "hello, World 42");

    assert_int_equal(low.length, 15);
    assert_memory_equal(low.data, "HELLO, WORLD 42", 15);
    assert_memory_equal(up.data, "hello, World 42", 15);
    assert_ptr_not_equal(low.buffer, up.buffer);
    assert_ptr_equal(up.post_buffer, up.buffer); /* filters above never see the swap */
    assert_ptr_equal(low.post_buffer, low.buffer);
    assert_int_equal(tag_total(REWRITER_TAG), f->tag_total_before + 1);
    assert_int_equal(tag_outstanding(REWRITER_TAG), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    finish(f, REWRITER_TAG);
}

/* SPEC 3.2: a fast-I/O write is refused (DISALLOW_FASTIO); the I/O manager
 * sends it again as an IRP, which is rewritten. */
static void rewriter_fast_io_write_comes_back_as_irp(void **state)
{
    (void)state;
    struct write_view up = {0}, low = {0};
    struct fixture *f = rewriter_world(FLTSIM_COMPLETE_INLINE, &up, &low);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_WRITE);
    rec_reset();
    LONGLONG zero = 0;
    assert_status(fltsim_io_write(f->w.sys, h, "abc", 3, &zero, FLTSIM_IO_FAST, NULL),
                  STATUS_SUCCESS);
    assert_recorded("U:pre:WRITE U:post:WRITE U:pre:WRITE L:pre:WRITE L:post:WRITE U:post:WRITE");
    assert_true(up.fast);
    assert_false(low.fast); /* nothing below saw the fast write */
    file_is(f, L"\\a.txt", "ABClo world");
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    finish(f, REWRITER_TAG);
}

/* Paging writes go through as they are, and allocate nothing. */
static void rewriter_skips_paging_io(void **state)
{
    (void)state;
    struct write_view up = {0}, low = {0};
    struct fixture *f = rewriter_world(FLTSIM_COMPLETE_INLINE, &up, &low);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_WRITE);
    LONGLONG zero = 0;
    assert_status(fltsim_io_write(f->w.sys, h, "abc", 3, &zero,
                                  FLTSIM_IO_PAGING | FLTSIM_IO_SYNC_PAGING, NULL),
                  STATUS_SUCCESS);
    file_is(f, L"\\a.txt", "abclo world");
    assert_ptr_equal(low.buffer, up.buffer);
    assert_int_equal(tag_total(REWRITER_TAG), f->tag_total_before);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    finish(f, REWRITER_TAG);
}

/* SPEC 4.2: with asynchronous completion the post-write runs at
 * DISPATCH_LEVEL and frees the nonpaged buffer there. */
static void rewriter_frees_at_dispatch_level(void **state)
{
    (void)state;
    struct write_view up = {0}, low = {0};
    struct fixture *f = rewriter_world(FLTSIM_COMPLETE_ASYNC, &up, &low);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_WRITE);
    for (int i = 0; i < 8; i++) {
        LONGLONG at = i;
        assert_status(fltsim_io_write(f->w.sys, h, "z", 1, &at, 0, NULL), STATUS_SUCCESS);
    }
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    file_is(f, L"\\a.txt", "ZZZZZZZZrld");
    assert_int_equal(tag_total(REWRITER_TAG), f->tag_total_before + 8);
    assert_int_equal(tag_outstanding(REWRITER_TAG), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    finish(f, REWRITER_TAG);
}

/* SPEC 2.6 step 3: the rewriter swapped the write's buffer, so its detach
 * does not drain the post (which would free the buffer the filter below and
 * the file system still use) but waits for the write to complete; the file
 * system then writes the rewritten bytes and the post frees the buffer, once,
 * without FLTFL_POST_OPERATION_DRAINING. (FltMgr cancels the write; the
 * filter below set no cancel routine, so it completes it itself.) */
static void rewriter_detach_waits_for_swapped_write(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(FLTSIM_COMPLETE_INLINE, "BufferRewriter");
    f->example = load_builtin(f->w.sys, "rewriter");
    PFLT_CALLBACK_DATA held = NULL;
    tf_init(&f->lower, "L", "100000");
    tf_only(&f->lower, IRP_MJ_WRITE);
    f->lower.pre = hold_pre;
    f->lower.user = &held;
    assert_status(tf_load(f->w.sys, &f->lower), STATUS_SUCCESS);
    HANDLE ah = open_overlapped(f->w.sys, L"C:\\a.txt", GENERIC_WRITE);
    KEVENT done;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    struct fltsim_io_async io = {.event = &done};
    assert_status(fltsim_io_write_async(f->w.sys, ah, "abc", 3, 0, 0, &io), STATUS_PENDING);
    assert_non_null(held);
    assert_int_equal(tag_outstanding(REWRITER_TAG), 1);

    struct unload_job job = {f->example, 0, STATUS_PENDING, 0};
    fltsim_thread *t = unload_in_background(f->w.sys, &job);
    f->example = NULL;
    /* The unload runs until it blocks on the write (the deterministic
     * executor runs it inside this wait). Observed now, asserted after. */
    NTSTATUS idle = fltsim_system_wait_idle(f->w.sys, 300);
    LONG done_while_held = __atomic_load_n(&job.done, __ATOMIC_SEQ_CST);
    ULONG64 outstanding_while_held = tag_outstanding(REWRITER_TAG);
    LONG posts_while_held = get(&f->tally.post[IRP_MJ_WRITE]);

    FltCompletePendedPreOperation(held, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    assert_status(KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    fltsim_thread_join(t);
    assert_status(idle, STATUS_TIMEOUT);
    assert_int_equal(done_while_held, 0);
    assert_int_equal(outstanding_while_held, 1); /* not freed under the file system */
    assert_int_equal(posts_while_held, 0);
    assert_status(job.status, STATUS_SUCCESS);
    assert_status(io.iosb.Status, STATUS_SUCCESS);
    assert_int_equal(io.iosb.Information, 3);
    file_is(f, L"\\a.txt", "ABClo world");
    assert_int_equal(get(&f->tally.post[IRP_MJ_WRITE]), 1);
    assert_int_equal(get(&f->tally.draining_posts), 0);
    assert_int_equal(tag_outstanding(REWRITER_TAG), 0);
    assert_status(fltsim_io_close(f->w.sys, ah), STATUS_SUCCESS);
    finish(f, REWRITER_TAG);
}

/* ---- WriteCounter ---- */

/* SPEC 7.1, 7.2: one stream context for the stream, shared by its handles;
 * a write counts once, by IRP or by fast I/O the file system declined (it
 * comes back as an IRP); FltMgr calls the cleanup callback at the stream's
 * last close, not before, and it prints the normalized name and the count,
 * then frees the name (nothing left under the tag). */
static void writecounter_counts_per_stream_and_reports_at_last_close(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(FLTSIM_COMPLETE_INLINE, "WriteCounter");
    static struct debug_capture dbg;
    memset(&dbg, 0, sizeof(dbg));
    fltsim_debug_set_sink(debug_cb, &dbg);
    f->example = load_builtin(f->w.sys, "writecounter");
    HANDLE a = world_open(&f->w, L"C:\\a.txt", GENERIC_WRITE);
    HANDLE b = world_open(&f->w, L"C:\\a.txt", GENERIC_WRITE);
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_write(f->w.sys, a, "x", 1, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_status(fltsim_io_write(f->w.sys, b, "y", 1, &zero, FLTSIM_IO_FAST, &iosb),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, a), STATUS_SUCCESS);
    assert_null(strstr(dbg.text, "WriteCounter:"));          /* b keeps the stream */
    assert_int_equal(tag_outstanding(WRITE_COUNTER_TAG), 2); /* context, name */
    assert_status(fltsim_io_close(f->w.sys, b), STATUS_SUCCESS);
    fltsim_debug_set_sink(NULL, NULL);
    assert_string_equal(dbg.text, "WriteCounter: \\Device\\HarddiskVolume1\\a.txt: 2 writes\n");
    assert_int_equal(tag_outstanding(WRITE_COUNTER_TAG), 0);
    finish(f, WRITE_COUNTER_TAG);
}

/* ---- Scanner ---- */

/* How many times word occurs in the recorder's text. */
static int recorded_count(const char *word)
{
    int n = 0;
    for (const char *p = rec_text(); (p = strstr(p, word)) != NULL; p += strlen(word))
        n++;
    return n;
}

/* Opens path for access sharing nothing (CreateFile with share 0). */
static NTSTATUS open_exclusive(fltsim_system *sys, PCWSTR path, ACCESS_MASK access, HANDLE *h)
{
    struct fltsim_create_params p = {.path = path,
                                     .desired_access = access,
                                     .share_access = 0,
                                     .disposition = FILE_OPEN,
                                     .create_options = FILE_SYNCHRONOUS_IO_NONALERT};
    IO_STATUS_BLOCK iosb;
    return fltsim_io_create(sys, &p, h, &iosb);
}

/* SPEC 2.3, 4.5: Scanner's own create, read, cleanup and close go to the
 * instances below it only: L (below) sees each user open twice and one read,
 * U (above) only the user's open. The signature comes from
 * Parameters\Signature; one that straddles the scanner's 4 KiB chunks is
 * found. The scan reads even when the user's open shares nothing or has no
 * read access (its own handle, IO_IGNORE_SHARE_ACCESS_CHECK); an infected file
 * is refused with STATUS_VIRUS_INFECTED and left closed. */
static void scanner_reads_below_itself_and_refuses_infected(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(FLTSIM_COMPLETE_INLINE, "Scanner");
    static char evil[8192];
    memset(evil, 'x', sizeof(evil));
    memcpy(evil + 4094, "EVIL", 4); /* across the first chunk's end */
    assert_status(fltsim_memfs_add_file(f->w.fs, L"\\evil.bin", evil, sizeof(evil)),
                  STATUS_SUCCESS);
    assert_status(fltsim_registry_set_string(f->w.sys,
                                             FLTSIM_REGISTRY_SERVICES L"\\Scanner\\Parameters",
                                             L"Signature", L"EVIL"),
                  STATUS_SUCCESS);
    f->example = load_builtin(f->w.sys, "scanner");
    tf_init(&f->upper, "U", "390000");
    tf_init(&f->lower, "L", "100000");
    static const UCHAR ops[] = {IRP_MJ_CREATE, IRP_MJ_READ, IRP_MJ_CLEANUP, IRP_MJ_CLOSE};
    memset(f->upper.ops, 0, sizeof(f->upper.ops));
    memset(f->lower.ops, 0, sizeof(f->lower.ops));
    for (size_t i = 0; i < sizeof(ops); i++) {
        f->upper.ops[ops[i]] = (struct tf_op){true, true, 0};
        f->lower.ops[ops[i]] = (struct tf_op){true, true, 0};
    }
    assert_status(tf_load(f->w.sys, &f->upper), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->lower), STATUS_SUCCESS);
    rec_reset();

    HANDLE h = NULL;
    assert_status(open_exclusive(f->w.sys, L"C:\\a.txt", GENERIC_READ, &h), STATUS_SUCCESS);
    assert_int_equal(recorded_count("U:pre:CREATE"), 1);
    assert_int_equal(recorded_count("L:pre:CREATE"), 2);
    assert_int_equal(recorded_count("L:pre:READ"), 1);
    assert_int_equal(recorded_count("L:pre:CLEANUP"), 1);
    assert_int_equal(recorded_count("L:pre:CLOSE"), 1);
    assert_int_equal(recorded_count("U:pre:READ") + recorded_count("U:pre:CLEANUP") +
                         recorded_count("U:pre:CLOSE"),
                     0);
    assert_int_equal(ScannerScanned(), 1);
    assert_int_equal(ScannerDetected(), 0);
    char buf[16];
    IO_STATUS_BLOCK iosb;
    assert_status(read_at(f->w.sys, h, buf, 11, 0, 0, &iosb), STATUS_SUCCESS);
    assert_memory_equal(buf, "hello world", 11);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);

    rec_reset();
    HANDLE bad = NULL;
    assert_status(open_exclusive(f->w.sys, L"C:\\evil.bin", GENERIC_READ, &bad),
                  STATUS_VIRUS_INFECTED);
    assert_int_equal(recorded_count("U:pre:CREATE"), 1);
    assert_int_equal(recorded_count("L:pre:CREATE"), 2);
    assert_int_equal(recorded_count("L:pre:READ"), 2); /* the match spans both chunks */
    assert_int_equal(recorded_count("U:pre:READ"), 0);
    assert_status(open_exclusive(f->w.sys, L"C:\\evil.bin", FILE_WRITE_DATA | SYNCHRONIZE, &bad),
                  STATUS_VIRUS_INFECTED);
    assert_int_equal(ScannerScanned(), 3);
    assert_int_equal(ScannerDetected(), 2);
    assert_int_equal(ScannerUnscanned(), 0);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
    finish(f, SCANNER_TAG);
}

/* Parameters\Signature must be 1 to 64 ASCII characters: anything else fails
 * DriverEntry with STATUS_INVALID_PARAMETER, and the filter is not loaded. */
static void scanner_refuses_a_bad_signature(void **state)
{
    (void)state;
    const PCWSTR too_long = L"0123456789012345678901234567890123456789"
                            L"01234567890123456789012345"; /* 66 */
    const PCWSTR bad[] = {L"", L"caf\u00e9", too_long};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct fixture *f = fixture_new(FLTSIM_COMPLETE_INLINE, "Scanner");
        assert_status(fltsim_registry_set_string(f->w.sys,
                                                 FLTSIM_REGISTRY_SERVICES L"\\Scanner\\Parameters",
                                                 L"Signature", bad[i]),
                      STATUS_SUCCESS);
        const struct fltsim_builtin_filter *ex = fltsim_example_filter_find("scanner");
        struct fltsim_instance_def instance = {L"Example Instance", ex->altitude, 0};
        struct fltsim_filter_def def = {ex->service_name, L"Example Instance", &instance, 1};
        fltsim_driver *drv = NULL;
        assert_status(fltsim_driver_load(f->w.sys, &def, ex->entry, &drv),
                      STATUS_INVALID_PARAMETER);
        finish(f, SCANNER_TAG);
    }
}

/* ---- Mistakes: zw-recursion ---- */

/* A ZwCreateFile from Mistakes' pre-create starts at the top of the stack:
 * U above sees two creates for the user's one, and Mistakes' own pre-create
 * runs again for its own create. Its guard lets it recurse exactly once (on
 * Windows: until the stack overflows). Both opens are closed again. */
static void mistakes_zw_recursion_sees_its_own_create(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(FLTSIM_COMPLETE_INLINE, "Mistakes");
    assert_status(fltsim_registry_set_string(f->w.sys,
                                             FLTSIM_REGISTRY_SERVICES L"\\Mistakes\\Parameters",
                                             L"Mistake", L"zw-recursion"),
                  STATUS_SUCCESS);
    f->example = load_builtin(f->w.sys, "mistakes");
    load_neighbours(f, IRP_MJ_CREATE);
    rec_reset();
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_int_equal(get(&f->tally.start[IRP_MJ_CREATE]), 2);
    assert_int_equal(get(&f->tally.pre[IRP_MJ_CREATE]), 2);
    assert_int_equal(get(&f->tally.fs[IRP_MJ_CREATE]), 2);
    assert_int_equal(recorded_count("U:pre:CREATE"), 2);
    assert_int_equal(recorded_count("L:pre:CREATE"), 2);
    assert_int_equal(get(&f->tally.fs[IRP_MJ_CLOSE]), 1); /* the nested open's */
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
    finish(f, MISTAKES_TAG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(catalog_lists_every_example),
        cmocka_unit_test(passthrough_registers_every_registrable_code),
        cmocka_unit_test(passthrough_gets_pre_and_post_for_each_operation_issued),
        cmocka_unit_test(logger_records_every_operation_in_order),
        cmocka_unit_test(logger_ring_keeps_the_newest_records),
        cmocka_unit_test(logger_posts_at_dispatch_and_draining),
        cmocka_unit_test(rewriter_file_system_receives_rewritten_bytes),
        cmocka_unit_test(rewriter_fast_io_write_comes_back_as_irp),
        cmocka_unit_test(rewriter_skips_paging_io),
        cmocka_unit_test(rewriter_frees_at_dispatch_level),
        cmocka_unit_test(rewriter_detach_waits_for_swapped_write),
        cmocka_unit_test(writecounter_counts_per_stream_and_reports_at_last_close),
        cmocka_unit_test(scanner_reads_below_itself_and_refuses_infected),
        cmocka_unit_test(scanner_refuses_a_bad_signature),
        cmocka_unit_test(mistakes_zw_recursion_sees_its_own_create),
    };
    return FLTSIM_RUN_SUITE("examples", tests);
}
