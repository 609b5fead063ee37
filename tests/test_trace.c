/*
 * Trace sinks (fltsim/trace.h, DESIGN decision 9): hand-built events through
 * each format into a memory stream, compared byte for byte (escaping
 * included); the tee, notes, finish and bad arguments. What the sinks write
 * for a real workload under both executors is test_trace_workload.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fltsim/trace.h>

#include "fltsim_test.h"
#include "trace_capture.h"

/* ---- hand-built events ---- */

#define VOL "\\Device\\HarddiskVolume1"

static struct fltsim_event op_event(enum fltsim_event_type type, ULONG64 op, ULONG depth,
                                    const char *filter, const char *altitude, LONG status,
                                    ULONG thread, KIRQL irql)
{
    struct fltsim_event ev = {.type = type,
                              .op_id = op,
                              .kind = FLTSIM_OP_IRP,
                              .major = IRP_MJ_DIRECTORY_CONTROL,
                              .minor = IRP_MN_QUERY_DIRECTORY,
                              .depth = depth,
                              .filter = filter,
                              .instance = filter != NULL ? "Inst" : NULL,
                              .altitude = altitude,
                              .volume = VOL,
                              .status = status,
                              .process_id = 1000,
                              .thread_id = thread,
                              .irql = irql,
                              .detail = "\\dir"};
    return ev;
}

/* One directory query through filter A (300000): pre, file system (answering
 * on the completion thread at DISPATCH), post, completion. */
static void feed_query(struct fltsim_trace_sink *sink, ULONG64 op)
{
    struct fltsim_event evs[] = {
        op_event(FLTSIM_EV_IO_START, op, 0, NULL, NULL, 0, 1000, PASSIVE_LEVEL),
        op_event(FLTSIM_EV_PRE, op, 0, "A", "300000", 0, 1000, PASSIVE_LEVEL),
        op_event(FLTSIM_EV_PRE_RETURN, op, 0, "A", "300000", FLT_PREOP_SUCCESS_WITH_CALLBACK, 1000,
                 PASSIVE_LEVEL),
        op_event(FLTSIM_EV_FS, op, 1, NULL, NULL, 0, 1000, PASSIVE_LEVEL),
        op_event(FLTSIM_EV_FS_RETURN, op, 1, NULL, NULL, STATUS_SUCCESS, 100, DISPATCH_LEVEL),
        op_event(FLTSIM_EV_POST, op, 0, "A", "300000", 0, 100, DISPATCH_LEVEL),
        op_event(FLTSIM_EV_POST_RETURN, op, 0, "A", "300000", FLT_POSTOP_FINISHED_PROCESSING, 100,
                 DISPATCH_LEVEL),
        op_event(FLTSIM_EV_IO_COMPLETE, op, 0, NULL, NULL, STATUS_SUCCESS, 1000, PASSIVE_LEVEL),
    };
    evs[4].information = 24;
    evs[7].information = 24;
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        fltsim_trace_sink_event(sink, &evs[i]);
}

static const char query_text[] =
    "#7 IRP IRP_MJ_DIRECTORY_CONTROL/IRP_MN_QUERY_DIRECTORY \\dir  [T1000 PASSIVE]\n"
    "  -> A (300000) pre\n"
    "  <- FLT_PREOP_SUCCESS_WITH_CALLBACK\n"
    "    -> file system\n"
    "    <- file system: STATUS_SUCCESS, information 24  [T100 DISPATCH]\n"
    "  -> A (300000) post\n"
    "  <- FLT_POSTOP_FINISHED_PROCESSING\n"
    "  = STATUS_SUCCESS, information 24  [T1000 PASSIVE]\n";

static void text_operation_shows_tree_minor_and_thread_changes(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, FLTSIM_TRACE_TEXT, 0);
    fltsim_trace_sink_note(c.sink, "step 1:\nquery");
    feed_query(c.sink, 7);
    const char *text = capture_text(&c);
    char expected[1024];
    snprintf(expected, sizeof(expected), "\n== step 1:\n   query\n%s", query_text);
    assert_string_equal(text, expected);
    capture_close(&c);
}

static void text_show_threads_marks_every_line(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, FLTSIM_TRACE_TEXT, FLTSIM_TRACE_SHOW_THREADS);
    feed_query(c.sink, 7);
    assert_string_equal(
        capture_text(&c),
        "#7 IRP IRP_MJ_DIRECTORY_CONTROL/IRP_MN_QUERY_DIRECTORY \\dir  [T1000 PASSIVE]\n"
        "  -> A (300000) pre  [T1000 PASSIVE]\n"
        "  <- FLT_PREOP_SUCCESS_WITH_CALLBACK  [T1000 PASSIVE]\n"
        "    -> file system  [T1000 PASSIVE]\n"
        "    <- file system: STATUS_SUCCESS, information 24  [T100 DISPATCH]\n"
        "  -> A (300000) post  [T100 DISPATCH]\n"
        "  <- FLT_POSTOP_FINISHED_PROCESSING  [T100 DISPATCH]\n"
        "  = STATUS_SUCCESS, information 24  [T1000 PASSIVE]\n");
    capture_close(&c);
}

static void text_interleaved_operations_are_numbered(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, FLTSIM_TRACE_TEXT, 0);
    struct fltsim_event a = op_event(FLTSIM_EV_IO_START, 1, 0, NULL, NULL, 0, 1, PASSIVE_LEVEL);
    a.major = IRP_MJ_READ;
    a.minor = IRP_MN_NORMAL;
    a.detail = "\\a";
    struct fltsim_event b = a;
    b.op_id = 2;
    b.major = IRP_MJ_WRITE;
    b.minor = IRP_MN_MDL;
    b.detail = "\\b";
    b.thread_id = 2;
    fltsim_trace_sink_event(c.sink, &a);
    a.type = FLTSIM_EV_PRE;
    a.filter = "A";
    a.altitude = "300000";
    fltsim_trace_sink_event(c.sink, &a);
    fltsim_trace_sink_event(c.sink, &b);
    b.type = FLTSIM_EV_PRE;
    b.filter = "A";
    b.altitude = "300000";
    fltsim_trace_sink_event(c.sink, &b);
    a.type = FLTSIM_EV_PRE_RETURN;
    a.status = FLT_PREOP_SUCCESS_WITH_CALLBACK;
    fltsim_trace_sink_event(c.sink, &a);
    assert_string_equal(capture_text(&c),
                        "#1 IRP IRP_MJ_READ \\a  [T1 PASSIVE]\n"
                        "  -> A (300000) pre\n"
                        "#2 IRP IRP_MJ_WRITE/IRP_MN_MDL \\b  [T2 PASSIVE]\n"
                        "  -> A (300000) pre\n"
                        "  #1 <- FLT_PREOP_SUCCESS_WITH_CALLBACK  [T1 PASSIVE]\n");
    capture_close(&c);
}

/* An operation that starts on the thread of a pre or post still running
 * (a filter's own I/O, e.g. a ZwCreateFile from its pre-create) names the
 * innermost one on its first line; once that callback returned, or on
 * another thread, it does not. */
static void text_operation_issued_inside_a_callback_names_it(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, FLTSIM_TRACE_TEXT, 0);
    struct fltsim_event start = op_event(FLTSIM_EV_IO_START, 1, 0, NULL, NULL, 0, 1, PASSIVE_LEVEL);
    start.major = IRP_MJ_CREATE;
    start.minor = 0;
    start.detail = "\\a";
    struct fltsim_event pre = start;
    pre.type = FLTSIM_EV_PRE;
    pre.filter = "A";
    pre.altitude = "300000";
    struct fltsim_event ret = pre;
    ret.type = FLTSIM_EV_PRE_RETURN;
    ret.status = FLT_PREOP_SUCCESS_WITH_CALLBACK;
    fltsim_trace_sink_event(c.sink, &start);
    fltsim_trace_sink_event(c.sink, &pre); /* A's pre of #1 */
    start.op_id = pre.op_id = ret.op_id = 2;
    fltsim_trace_sink_event(c.sink, &start); /* A opens again: #2 */
    fltsim_trace_sink_event(c.sink, &pre);   /* and sees it */
    fltsim_trace_sink_event(c.sink, &ret);
    start.op_id = 3;
    start.thread_id = 2;
    fltsim_trace_sink_event(c.sink, &start); /* another thread */
    start.op_id = 4;
    start.thread_id = 1;
    fltsim_trace_sink_event(c.sink, &start); /* again inside #1's pre */
    ret.op_id = 1;
    fltsim_trace_sink_event(c.sink, &ret);
    start.op_id = 5;
    fltsim_trace_sink_event(c.sink, &start); /* after it returned */
    assert_string_equal(capture_text(&c),
                        "#1 IRP IRP_MJ_CREATE \\a  [T1 PASSIVE]\n"
                        "  -> A (300000) pre\n"
                        "#2 IRP IRP_MJ_CREATE \\a, issued by A in #1's pre  [T1 PASSIVE]\n"
                        "  -> A (300000) pre\n"
                        "  <- FLT_PREOP_SUCCESS_WITH_CALLBACK\n"
                        "#3 IRP IRP_MJ_CREATE \\a  [T2 PASSIVE]\n"
                        "#4 IRP IRP_MJ_CREATE \\a, issued by A in #1's pre  [T1 PASSIVE]\n"
                        "  #1 <- FLT_PREOP_SUCCESS_WITH_CALLBACK\n"
                        "#5 IRP IRP_MJ_CREATE \\a  [T1 PASSIVE]\n");
    capture_close(&c);
}

/* The events that are not callbacks, once each (and odd values). */
static void feed_others(struct fltsim_trace_sink *sink)
{
    struct fltsim_event ev;
    ev = (struct fltsim_event){.type = FLTSIM_EV_INSTANCE_SETUP,
                               .filter = "A",
                               .instance = "Inst",
                               .altitude = "300000",
                               .volume = VOL,
                               .flags = FLTFL_INSTANCE_SETUP_AUTOMATIC_ATTACHMENT |
                                        FLTFL_INSTANCE_SETUP_NEWLY_MOUNTED_VOLUME,
                               .status = STATUS_FLT_DO_NOT_ATTACH,
                               .process_id = 1000,
                               .thread_id = 1000,
                               .detail = "tab\there"};
    fltsim_trace_sink_event(sink, &ev);
    ev.type = FLTSIM_EV_QUERY_TEARDOWN;
    ev.status = STATUS_SUCCESS;
    ev.flags = 0;
    ev.detail = NULL;
    fltsim_trace_sink_event(sink, &ev);
    ev.type = FLTSIM_EV_TEARDOWN_START;
    ev.flags = FLTFL_INSTANCE_TEARDOWN_VOLUME_DISMOUNT;
    fltsim_trace_sink_event(sink, &ev);
    ev.type = FLTSIM_EV_TEARDOWN_COMPLETE;
    fltsim_trace_sink_event(sink, &ev);
    ev = (struct fltsim_event){.type = FLTSIM_EV_PEND,
                               .op_id = 9,
                               .kind = FLTSIM_OP_FAST_IO,
                               .major = IRP_MJ_READ,
                               .depth = 1,
                               .filter = "A",
                               .instance = "Inst",
                               .altitude = "300000",
                               .volume = VOL,
                               .flags = 1,
                               .process_id = 1000,
                               .thread_id = 1000};
    fltsim_trace_sink_event(sink, &ev);
    ev.type = FLTSIM_EV_RESUME;
    ev.status = STATUS_QUOTA_EXCEEDED;
    ev.thread_id = 102;
    fltsim_trace_sink_event(sink, &ev);
    ev.flags = 0;
    ev.status = 99;      /* not a FLT_PREOP_CALLBACK_STATUS */
    ev.irql = APC_LEVEL; /* the same thread, another IRQL */
    fltsim_trace_sink_event(sink, &ev);
    ev = (struct fltsim_event){.type = FLTSIM_EV_WORK_QUEUED,
                               .op_id = 9,
                               .filter = "A",
                               .status = STATUS_FLT_DELETING_OBJECT,
                               .process_id = 1000,
                               .thread_id = 102,
                               .detail = "deferred I/O"};
    fltsim_trace_sink_event(sink, &ev);
    ev.type = FLTSIM_EV_WORK_RUN;
    ev.op_id = 0;
    ev.status = 0;
    ev.detail = "generic";
    fltsim_trace_sink_event(sink, &ev);
    ev = (struct fltsim_event){.type = FLTSIM_EV_REPORT,
                               .filter = "A",
                               .major = 0xff,
                               .process_id = 1000,
                               .thread_id = 102,
                               .rule = "V2 (SPEC 3.2)",
                               .detail = "FltFoo(0x7f12345678ab): bad; status 0xC0000001"};
    fltsim_trace_sink_event(sink, &ev);
    ev = (struct fltsim_event){.type = FLTSIM_EV_FILTER_UNLOAD,
                               .filter = "A",
                               .flags = FLTFL_FILTER_UNLOAD_MANDATORY,
                               .status = 0x12345678,
                               .process_id = 1000,
                               .thread_id = 1000};
    fltsim_trace_sink_event(sink, &ev);
}

static void text_instance_work_pend_report_lines(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, FLTSIM_TRACE_TEXT, 0);
    feed_others(c.sink);
    assert_string_equal(
        capture_text(&c),
        "[setup] A instance 'Inst' at 300000 on \\Device\\HarddiskVolume1 (automatic|newly "
        "mounted): STATUS_FLT_DO_NOT_ATTACH - tab\\x09here  [T1000 PASSIVE]\n"
        "[query teardown] A instance 'Inst': STATUS_SUCCESS\n"
        "[teardown start] A instance 'Inst' on \\Device\\HarddiskVolume1 (volume dismount)\n"
        "[teardown complete] A instance 'Inst' on \\Device\\HarddiskVolume1 (volume dismount)\n"
        "    .. #9 pended in post by A\n"
        "    .. #9 resumed after A's post (STATUS_QUOTA_EXCEEDED)  [T102 PASSIVE]\n"
        "    .. #9 resumed after A's pre as (invalid status 99)  [T102 APC]\n"
        "[work] A queues a deferred I/O work item for #9: STATUS_FLT_DELETING_OBJECT  [T102 "
        "PASSIVE]\n"
        "[work] A generic work item runs\n"
        "!! verifier V2 (SPEC 3.2): A: FltFoo(0x7f12345678ab): bad; status 0xC0000001\n"
        "[unload] A (mandatory): 0x12345678  [T1000 PASSIVE]\n");
    capture_close(&c);
}

static void jsonl_writes_every_field_with_names(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, FLTSIM_TRACE_JSONL, 0);
    struct fltsim_event ev =
        op_event(FLTSIM_EV_FS_RETURN, 7, 1, "A", "300000", STATUS_ACCESS_DENIED, 100, 2);
    ev.information = 3;
    ev.flags = 5;
    ev.detail = "q\"b\\s\nc\x01\x7f \xc3\xa9 \xff!";
    ev.rule = "";
    fltsim_trace_sink_event(c.sink, &ev);
    struct fltsim_event setup = {.type = FLTSIM_EV_INSTANCE_SETUP, .major = 3, .irql = 9};
    fltsim_trace_sink_event(c.sink, &setup);
    fltsim_trace_sink_note(c.sink, "step \"2\"\t\xe2\x86\x92");
    assert_string_equal(
        capture_text(&c),
        "{\"type\":\"fs_return\",\"type_value\":7,\"op_id\":7,\"kind\":\"irp\",\"kind_value\":0,"
        "\"major\":12,\"major_name\":\"IRP_MJ_DIRECTORY_CONTROL\",\"minor\":1,"
        "\"minor_name\":\"IRP_MN_QUERY_DIRECTORY\",\"depth\":1,\"filter\":\"A\","
        "\"instance\":\"Inst\",\"altitude\":\"300000\","
        "\"volume\":\"\\\\Device\\\\HarddiskVolume1\",\"status\":3221225506,"
        "\"status_name\":\"STATUS_ACCESS_DENIED\",\"information\":3,\"flags\":5,"
        "\"process_id\":1000,\"thread_id\":100,\"irql\":2,\"irql_name\":\"DISPATCH_LEVEL\","
        "\"detail\":\"q\\\"b\\\\s\\nc\\u0001\\u007f \xc3\xa9 \\ufffd!\",\"rule\":\"\"}\n"
        "{\"type\":\"instance_setup\",\"type_value\":8,\"op_id\":0,\"kind\":null,\"kind_value\":0,"
        "\"major\":3,\"major_name\":null,\"minor\":0,\"minor_name\":null,\"depth\":0,"
        "\"filter\":null,\"instance\":null,\"altitude\":null,\"volume\":null,\"status\":0,"
        "\"status_name\":\"STATUS_SUCCESS\",\"information\":0,\"flags\":0,\"process_id\":0,"
        "\"thread_id\":0,\"irql\":9,\"irql_name\":null,\"detail\":null,\"rule\":null}\n"
        "{\"type\":\"note\",\"text\":\"step \\\"2\\\"\\t\xe2\x86\x92\"}\n");
    capture_close(&c);
}

static void normalized_renumbers_ops_and_threads_and_masks_pointers(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, FLTSIM_TRACE_NORMALIZED, 0);
    fltsim_trace_sink_note(c.sink, "two\nlines");
    feed_query(c.sink, 57);
    feed_others(c.sink);
    feed_query(c.sink, 3);
    const char *text = capture_text(&c);
    static const char *const expected[] = {
        "# two\\nlines",
        "io_start op=1 kind=irp major=IRP_MJ_DIRECTORY_CONTROL minor=IRP_MN_QUERY_DIRECTORY "
        "volume=\"\\\\Device\\\\HarddiskVolume1\" process=1000 thread=T1 irql=PASSIVE_LEVEL "
        "detail=\"\\\\dir\"",
        "pre op=1 kind=irp major=IRP_MJ_DIRECTORY_CONTROL minor=IRP_MN_QUERY_DIRECTORY depth=0 "
        "filter=\"A\" instance=\"Inst\" altitude=\"300000\" "
        "volume=\"\\\\Device\\\\HarddiskVolume1\" process=1000 thread=T1 irql=PASSIVE_LEVEL "
        "detail=\"\\\\dir\"",
        "pre_return op=1 kind=irp major=IRP_MJ_DIRECTORY_CONTROL minor=IRP_MN_QUERY_DIRECTORY "
        "depth=0 filter=\"A\" instance=\"Inst\" altitude=\"300000\" "
        "volume=\"\\\\Device\\\\HarddiskVolume1\" status=FLT_PREOP_SUCCESS_WITH_CALLBACK "
        "process=1000 thread=T1 irql=PASSIVE_LEVEL detail=\"\\\\dir\"",
        "fs op=1 kind=irp major=IRP_MJ_DIRECTORY_CONTROL minor=IRP_MN_QUERY_DIRECTORY depth=1 "
        "volume=\"\\\\Device\\\\HarddiskVolume1\" process=1000 thread=T1 irql=PASSIVE_LEVEL "
        "detail=\"\\\\dir\"",
        "fs_return op=1 kind=irp major=IRP_MJ_DIRECTORY_CONTROL minor=IRP_MN_QUERY_DIRECTORY "
        "depth=1 volume=\"\\\\Device\\\\HarddiskVolume1\" status=STATUS_SUCCESS information=24 "
        "process=1000 thread=T2 irql=DISPATCH_LEVEL detail=\"\\\\dir\"",
        "post op=1 kind=irp major=IRP_MJ_DIRECTORY_CONTROL minor=IRP_MN_QUERY_DIRECTORY depth=0 "
        "filter=\"A\" instance=\"Inst\" altitude=\"300000\" "
        "volume=\"\\\\Device\\\\HarddiskVolume1\" flags=0x0 process=1000 thread=T2 "
        "irql=DISPATCH_LEVEL detail=\"\\\\dir\"",
        NULL, /* post_return, io_complete: skipped */
        NULL,
        "instance_setup filter=\"A\" instance=\"Inst\" altitude=\"300000\" "
        "volume=\"\\\\Device\\\\HarddiskVolume1\" status=STATUS_FLT_DO_NOT_ATTACH flags=0x5 "
        "process=1000 thread=T1 irql=PASSIVE_LEVEL detail=\"tab\\there\"",
        NULL,
        "teardown_start filter=\"A\" instance=\"Inst\" altitude=\"300000\" "
        "volume=\"\\\\Device\\\\HarddiskVolume1\" flags=0x8 process=1000 thread=T1 "
        "irql=PASSIVE_LEVEL",
        NULL,
        "pend op=2 kind=fast_io major=IRP_MJ_READ minor=IRP_MN_NORMAL depth=1 filter=\"A\" "
        "instance=\"Inst\" altitude=\"300000\" volume=\"\\\\Device\\\\HarddiskVolume1\" "
        "flags=0x1 process=1000 thread=T1 irql=PASSIVE_LEVEL",
        "resume op=2 kind=fast_io major=IRP_MJ_READ minor=IRP_MN_NORMAL depth=1 filter=\"A\" "
        "instance=\"Inst\" altitude=\"300000\" volume=\"\\\\Device\\\\HarddiskVolume1\" "
        "status=STATUS_QUOTA_EXCEEDED flags=0x1 process=1000 thread=T3 irql=PASSIVE_LEVEL",
        "resume op=2 kind=fast_io major=IRP_MJ_READ minor=IRP_MN_NORMAL depth=1 filter=\"A\" "
        "instance=\"Inst\" altitude=\"300000\" volume=\"\\\\Device\\\\HarddiskVolume1\" "
        "status=0x00000063 flags=0x0 process=1000 thread=T3 irql=APC_LEVEL",
        "work_queued op=2 filter=\"A\" status=STATUS_FLT_DELETING_OBJECT process=1000 thread=T3 "
        "irql=PASSIVE_LEVEL detail=\"deferred I/O\"",
        "work_run filter=\"A\" process=1000 thread=T3 irql=PASSIVE_LEVEL detail=\"generic\"",
        "report filter=\"A\" process=1000 thread=T3 irql=PASSIVE_LEVEL "
        "detail=\"FltFoo(0x?): bad; status 0xC0000001\" rule=\"V2 (SPEC 3.2)\"",
        "filter_unload filter=\"A\" status=0x12345678 flags=0x1 process=1000 thread=T1 "
        "irql=PASSIVE_LEVEL",
        "io_start op=3 kind=irp major=IRP_MJ_DIRECTORY_CONTROL minor=IRP_MN_QUERY_DIRECTORY "
        "volume=\"\\\\Device\\\\HarddiskVolume1\" process=1000 thread=T1 irql=PASSIVE_LEVEL "
        "detail=\"\\\\dir\"",
    };
    const char *line = text;
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        if (expected[i] != NULL) {
            char got[1024];
            size_t n = (size_t)(end - line);
            assert_true(n < sizeof(got));
            memcpy(got, line, n);
            got[n] = '\0';
            assert_string_equal(got, expected[i]);
        }
        line = end + 1;
    }
    capture_close(&c);
}

static void mermaid_declares_lifelines_by_altitude_and_escapes_labels(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, FLTSIM_TRACE_MERMAID, 0);
    fltsim_trace_sink_note(c.sink, "step 1: open a;b #2\nthen <read>");
    struct fltsim_event ev = op_event(FLTSIM_EV_IO_START, 4, 0, NULL, NULL, 0, 1, 0);
    ev.major = IRP_MJ_CREATE;
    ev.minor = 0;
    ev.detail = "\\a;b#c:d.txt";
    fltsim_trace_sink_event(c.sink, &ev);
    /* Stack: Low (85000) under High (370030.5) under nothing else; Mid
     * (370030) only sets up. */
    ev.type = FLTSIM_EV_INSTANCE_SETUP;
    ev.op_id = 0;
    ev.filter = "Mid";
    ev.instance = "M";
    ev.altitude = "370030";
    ev.status = STATUS_SUCCESS;
    fltsim_trace_sink_event(c.sink, &ev);
    struct fltsim_event low = op_event(FLTSIM_EV_PRE, 4, 1, "Low", "85000", 0, 1, 0);
    struct fltsim_event high = op_event(FLTSIM_EV_PRE, 4, 0, "High", "370030.5", 0, 1, 0);
    low.major = high.major = IRP_MJ_CREATE;
    low.minor = high.minor = 0;
    fltsim_trace_sink_event(c.sink, &high);
    high.type = FLTSIM_EV_PRE_RETURN;
    high.status = FLT_PREOP_SUCCESS_WITH_CALLBACK;
    fltsim_trace_sink_event(c.sink, &high);
    fltsim_trace_sink_event(c.sink, &low);
    low.type = FLTSIM_EV_PRE_RETURN;
    low.status = FLT_PREOP_PENDING;
    fltsim_trace_sink_event(c.sink, &low);
    low.type = FLTSIM_EV_PEND;
    low.flags = 0;
    fltsim_trace_sink_event(c.sink, &low);
    struct fltsim_event work = {
        .type = FLTSIM_EV_WORK_QUEUED, .op_id = 4, .filter = "Low", .detail = "deferred I/O"};
    fltsim_trace_sink_event(c.sink, &work);
    work.type = FLTSIM_EV_WORK_RUN;
    fltsim_trace_sink_event(c.sink, &work);
    low.type = FLTSIM_EV_RESUME;
    low.status = FLT_PREOP_SUCCESS_WITH_CALLBACK;
    fltsim_trace_sink_event(c.sink, &low);
    low.type = FLTSIM_EV_FS;
    low.depth = 2;
    fltsim_trace_sink_event(c.sink, &low);
    low.type = FLTSIM_EV_FS_RETURN;
    low.status = STATUS_SUCCESS;
    low.information = 1;
    fltsim_trace_sink_event(c.sink, &low);
    low.type = FLTSIM_EV_POST;
    low.depth = 1;
    fltsim_trace_sink_event(c.sink, &low);
    low.type = FLTSIM_EV_POST_RETURN;
    low.status = FLT_POSTOP_FINISHED_PROCESSING;
    fltsim_trace_sink_event(c.sink, &low);
    high.type = FLTSIM_EV_POST;
    fltsim_trace_sink_event(c.sink, &high);
    high.type = FLTSIM_EV_POST_RETURN;
    high.status = FLT_POSTOP_FINISHED_PROCESSING;
    fltsim_trace_sink_event(c.sink, &high);
    struct fltsim_event report = {.type = FLTSIM_EV_REPORT,
                                  .filter = "Other",
                                  .rule = "V9 (SPEC 4.1)",
                                  .detail = "x: \"y\" & z%"};
    fltsim_trace_sink_event(c.sink, &report);
    ev = op_event(FLTSIM_EV_IO_COMPLETE, 4, 0, NULL, NULL, STATUS_SUCCESS, 1, 0);
    ev.major = IRP_MJ_CREATE;
    ev.minor = 0;
    ev.information = 1;
    fltsim_trace_sink_event(c.sink, &ev);
    assert_string_equal(capture_text(&c),
                        "```mermaid\n"
                        "%%{init: {\"sequence\": {\"wrap\": true}}}%%\n"
                        "sequenceDiagram\n"
                        "    participant IO as I/O manager\n"
                        "    participant F1 as High/Inst<br/>370030.5\n"
                        "    participant F2 as Mid/M<br/>370030\n"
                        "    participant F3 as Low/Inst<br/>85000\n"
                        "    participant F4 as Other\n"
                        "    participant V1 as \\Device\\HarddiskVolume1<br/>file system\n"
                        "    participant W as worker threads\n"
                        "    Note over IO,W: step 1#58; open a#59;b #35;2<br/>then #lt;read#gt;\n"
                        "    Note right of IO: #35;4 IRP IRP_MJ_CREATE \\a#59;b#35;c#58;d.txt\n"
                        "    Note over F2: setup on \\Device\\HarddiskVolume1 → STATUS_SUCCESS\n"
                        "    IO->>F1: pre → SUCCESS_WITH_CALLBACK\n"
                        "    F1->>F3: pre → PENDING\n"
                        "    Note over F3: #35;4 pended in pre\n"
                        "    F3-)W: queue deferred I/O for #35;4\n"
                        "    W->>F3: deferred I/O work routine for #35;4\n"
                        "    Note over F3: #35;4 resumed as SUCCESS_WITH_CALLBACK\n"
                        "    F3->>V1: IRP_MJ_CREATE\n"
                        "    V1-->>F3: STATUS_SUCCESS, information 1\n"
                        "    Note over F3: post → FINISHED_PROCESSING\n"
                        "    F3-->>F1: post → FINISHED_PROCESSING\n"
                        "    Note over F4: verifier V9 (SPEC 4.1) x#58; #34;y#34; #38; z#37;\n"
                        "    F1-->>IO: #35;4 STATUS_SUCCESS, information 1\n"
                        "```\n");
    capture_close(&c);
}

static void mermaid_names_the_operation_where_operations_interleave(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, FLTSIM_TRACE_MERMAID, 0);
    struct fltsim_event one = op_event(FLTSIM_EV_IO_START, 1, 0, NULL, NULL, 0, 1, 0);
    struct fltsim_event two = op_event(FLTSIM_EV_IO_START, 2, 0, NULL, NULL, 0, 2, 0);
    fltsim_trace_sink_event(c.sink, &one);
    fltsim_trace_sink_event(c.sink, &two);
    one = op_event(FLTSIM_EV_PRE, 1, 0, "A", "300000", 0, 1, 0);
    two = op_event(FLTSIM_EV_PRE, 2, 0, "A", "300000", 0, 2, 0);
    fltsim_trace_sink_event(c.sink, &one);
    fltsim_trace_sink_event(c.sink, &two);
    two.type = one.type = FLTSIM_EV_FS;
    two.depth = one.depth = 1;
    fltsim_trace_sink_event(c.sink, &two);
    fltsim_trace_sink_event(c.sink, &one);
    fltsim_trace_sink_event(c.sink, &one);
    assert_string_equal(capture_text(&c),
                        "```mermaid\n"
                        "%%{init: {\"sequence\": {\"wrap\": true}}}%%\n"
                        "sequenceDiagram\n"
                        "    participant IO as I/O manager\n"
                        "    participant F1 as A/Inst<br/>300000\n"
                        "    participant V1 as \\Device\\HarddiskVolume1<br/>file system\n"
                        "    Note right of IO: #35;1 IRP IRP_MJ_DIRECTORY_CONTROL/"
                        "IRP_MN_QUERY_DIRECTORY \\dir\n"
                        "    Note right of IO: #35;2 IRP IRP_MJ_DIRECTORY_CONTROL/"
                        "IRP_MN_QUERY_DIRECTORY \\dir\n"
                        "    IO->>F1: #35;1 pre\n"
                        "    IO->>F1: #35;2 pre\n"
                        "    F1->>V1: IRP_MJ_DIRECTORY_CONTROL/IRP_MN_QUERY_DIRECTORY\n"
                        "    F1->>V1: #35;1 IRP_MJ_DIRECTORY_CONTROL/IRP_MN_QUERY_DIRECTORY\n"
                        "    V1->>V1: IRP_MJ_DIRECTORY_CONTROL/IRP_MN_QUERY_DIRECTORY\n"
                        "```\n");
    capture_close(&c);
}

static void mermaid_without_events_is_a_valid_empty_diagram(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, FLTSIM_TRACE_MERMAID, 0);
    fltsim_trace_sink_note(c.sink, "nothing happened");
    assert_string_equal(capture_text(&c), "```mermaid\n"
                                          "%%{init: {\"sequence\": {\"wrap\": true}}}%%\n"
                                          "sequenceDiagram\n"
                                          "    participant IO as I/O manager\n"
                                          "    Note over IO: nothing happened\n"
                                          "```\n");
    capture_close(&c);
}

/* ---- the operation status callback ---- */

/* An oplock FSCTL through A (300000) and B (200000), both asking for the
 * status (FltRequestOperationStatusCallback): the file system holds the IRP,
 * so IoCallDriver returned STATUS_PENDING, and each routine is called on the
 * requestor before the completion comes on the completion thread. */
static void feed_status_callbacks(struct fltsim_trace_sink *sink)
{
    struct fltsim_event evs[] = {
        op_event(FLTSIM_EV_IO_START, 5, 0, NULL, NULL, 0, 1000, PASSIVE_LEVEL),
        op_event(FLTSIM_EV_PRE, 5, 0, "A", "300000", 0, 1000, PASSIVE_LEVEL),
        op_event(FLTSIM_EV_PRE_RETURN, 5, 0, "A", "300000", FLT_PREOP_SUCCESS_WITH_CALLBACK, 1000,
                 PASSIVE_LEVEL),
        op_event(FLTSIM_EV_PRE, 5, 1, "B", "200000", 0, 1000, PASSIVE_LEVEL),
        op_event(FLTSIM_EV_PRE_RETURN, 5, 1, "B", "200000", FLT_PREOP_SUCCESS_WITH_CALLBACK, 1000,
                 PASSIVE_LEVEL),
        op_event(FLTSIM_EV_FS, 5, 2, NULL, NULL, 0, 1000, PASSIVE_LEVEL),
        op_event(FLTSIM_EV_STATUS_CALLBACK, 5, 0, "A", "300000", STATUS_PENDING, 1000,
                 PASSIVE_LEVEL),
        op_event(FLTSIM_EV_STATUS_CALLBACK, 5, 1, "B", "200000", STATUS_PENDING, 1000,
                 PASSIVE_LEVEL),
        op_event(FLTSIM_EV_FS_RETURN, 5, 2, NULL, NULL, STATUS_SUCCESS, 100, DISPATCH_LEVEL),
        op_event(FLTSIM_EV_POST, 5, 1, "B", "200000", 0, 100, DISPATCH_LEVEL),
        op_event(FLTSIM_EV_POST_RETURN, 5, 1, "B", "200000", FLT_POSTOP_FINISHED_PROCESSING, 100,
                 DISPATCH_LEVEL),
        op_event(FLTSIM_EV_POST, 5, 0, "A", "300000", 0, 100, DISPATCH_LEVEL),
        op_event(FLTSIM_EV_POST_RETURN, 5, 0, "A", "300000", FLT_POSTOP_FINISHED_PROCESSING, 100,
                 DISPATCH_LEVEL),
        op_event(FLTSIM_EV_IO_COMPLETE, 5, 0, NULL, NULL, STATUS_SUCCESS, 1000, PASSIVE_LEVEL),
    };
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
        evs[i].major = IRP_MJ_FILE_SYSTEM_CONTROL;
        evs[i].minor = IRP_MN_USER_FS_REQUEST;
        evs[i].detail = "\\f";
        if (evs[i].type == FLTSIM_EV_FS_RETURN || evs[i].type == FLTSIM_EV_IO_COMPLETE)
            evs[i].information = 2;
    }
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        fltsim_trace_sink_event(sink, &evs[i]);
}

/* The n-th line (0-based) of text, copied into out. */
static void nth_line(const char *text, int n, char *out, size_t size)
{
    for (int i = 0; i < n; i++) {
        text = strchr(text, '\n');
        assert_non_null(text);
        text++;
    }
    const char *end = strchr(text, '\n');
    assert_non_null(end);
    size_t len = (size_t)(end - text);
    assert_true(len < size);
    memcpy(out, text, len);
    out[len] = '\0';
}

/* Text: a call line at the requesting instance's depth, with the status. */
static void text_status_callback_is_a_call_at_the_instance_depth(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, FLTSIM_TRACE_TEXT, 0);
    feed_status_callbacks(c.sink);
    /* Another operation between: the line names its own. */
    struct fltsim_event other = op_event(FLTSIM_EV_IO_START, 6, 0, NULL, NULL, 0, 1001, 0);
    fltsim_trace_sink_event(c.sink, &other);
    struct fltsim_event late = op_event(FLTSIM_EV_STATUS_CALLBACK, 5, 1, "B", "200000",
                                        STATUS_OPLOCK_NOT_GRANTED, 1000, 0);
    fltsim_trace_sink_event(c.sink, &late);
    assert_string_equal(
        capture_text(&c),
        "#5 IRP IRP_MJ_FILE_SYSTEM_CONTROL/IRP_MN_USER_FS_REQUEST \\f  [T1000 PASSIVE]\n"
        "  -> A (300000) pre\n"
        "  <- FLT_PREOP_SUCCESS_WITH_CALLBACK\n"
        "    -> B (200000) pre\n"
        "    <- FLT_PREOP_SUCCESS_WITH_CALLBACK\n"
        "      -> file system\n"
        "  -> A (300000) status callback: IoCallDriver returned STATUS_PENDING\n"
        "    -> B (200000) status callback: IoCallDriver returned STATUS_PENDING\n"
        "      <- file system: STATUS_SUCCESS, information 2  [T100 DISPATCH]\n"
        "    -> B (200000) post\n"
        "    <- FLT_POSTOP_FINISHED_PROCESSING\n"
        "  -> A (300000) post\n"
        "  <- FLT_POSTOP_FINISHED_PROCESSING\n"
        "  = STATUS_SUCCESS, information 2  [T1000 PASSIVE]\n"
        "#6 IRP IRP_MJ_DIRECTORY_CONTROL/IRP_MN_QUERY_DIRECTORY \\dir  [T1001 PASSIVE]\n"
        "    #5 -> B (200000) status callback: IoCallDriver returned "
        "STATUS_OPLOCK_NOT_GRANTED  [T1000 PASSIVE]\n");
    capture_close(&c);
}

/* JSON Lines: its type name and value, the operation's names, the NTSTATUS
 * by name. */
static void jsonl_status_callback_names_type_operation_and_status(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, FLTSIM_TRACE_JSONL, 0);
    feed_status_callbacks(c.sink);
    char line[1024];
    nth_line(capture_text(&c), 7, line, sizeof(line));
    assert_string_equal(
        line,
        "{\"type\":\"status_callback\",\"type_value\":18,\"op_id\":5,\"kind\":\"irp\","
        "\"kind_value\":0,\"major\":13,\"major_name\":\"IRP_MJ_FILE_SYSTEM_CONTROL\",\"minor\":0,"
        "\"minor_name\":\"IRP_MN_USER_FS_REQUEST\",\"depth\":1,\"filter\":\"B\","
        "\"instance\":\"Inst\",\"altitude\":\"200000\","
        "\"volume\":\"\\\\Device\\\\HarddiskVolume1\",\"status\":259,"
        "\"status_name\":\"STATUS_PENDING\",\"information\":0,\"flags\":0,\"process_id\":1000,"
        "\"thread_id\":1000,\"irql\":0,\"irql_name\":\"PASSIVE_LEVEL\",\"detail\":\"\\\\f\","
        "\"rule\":null}");
    capture_close(&c);
}

/* Normalized: the operation, depth, instance and status, no information or
 * flags; an unnamed status in hex. */
static void normalized_status_callback_carries_operation_instance_and_status(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, FLTSIM_TRACE_NORMALIZED, 0);
    feed_status_callbacks(c.sink);
    struct fltsim_event odd =
        op_event(FLTSIM_EV_STATUS_CALLBACK, 5, 0, "A", "300000", 0x12345678, 1000, APC_LEVEL);
    odd.major = IRP_MJ_FILE_SYSTEM_CONTROL;
    odd.minor = IRP_MN_USER_FS_REQUEST;
    odd.detail = "\\f";
    fltsim_trace_sink_event(c.sink, &odd);
    const char *text = capture_text(&c);
    char line[1024];
    nth_line(text, 6, line, sizeof(line));
    assert_string_equal(line, "status_callback op=1 kind=irp major=IRP_MJ_FILE_SYSTEM_CONTROL "
                              "minor=IRP_MN_USER_FS_REQUEST depth=0 filter=\"A\" instance=\"Inst\" "
                              "altitude=\"300000\" volume=\"\\\\Device\\\\HarddiskVolume1\" "
                              "status=STATUS_PENDING process=1000 thread=T1 irql=PASSIVE_LEVEL "
                              "detail=\"\\\\f\"");
    nth_line(text, 7, line, sizeof(line));
    assert_string_equal(line, "status_callback op=1 kind=irp major=IRP_MJ_FILE_SYSTEM_CONTROL "
                              "minor=IRP_MN_USER_FS_REQUEST depth=1 filter=\"B\" instance=\"Inst\" "
                              "altitude=\"200000\" volume=\"\\\\Device\\\\HarddiskVolume1\" "
                              "status=STATUS_PENDING process=1000 thread=T1 irql=PASSIVE_LEVEL "
                              "detail=\"\\\\f\"");
    nth_line(text, 14, line, sizeof(line));
    assert_string_equal(line, "status_callback op=1 kind=irp major=IRP_MJ_FILE_SYSTEM_CONTROL "
                              "minor=IRP_MN_USER_FS_REQUEST depth=0 filter=\"A\" instance=\"Inst\" "
                              "altitude=\"300000\" volume=\"\\\\Device\\\\HarddiskVolume1\" "
                              "status=0x12345678 process=1000 thread=T1 irql=APC_LEVEL "
                              "detail=\"\\\\f\"");
    capture_close(&c);
}

/* Mermaid: a note on the requesting instance's lifeline; the operation stays
 * at the file system, whose answer still goes to the instance that called
 * it. */
static void mermaid_status_callback_is_a_note_on_the_instance(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, FLTSIM_TRACE_MERMAID, 0);
    feed_status_callbacks(c.sink);
    assert_string_equal(capture_text(&c),
                        "```mermaid\n"
                        "%%{init: {\"sequence\": {\"wrap\": true}}}%%\n"
                        "sequenceDiagram\n"
                        "    participant IO as I/O manager\n"
                        "    participant F1 as A/Inst<br/>300000\n"
                        "    participant F2 as B/Inst<br/>200000\n"
                        "    participant V1 as \\Device\\HarddiskVolume1<br/>file system\n"
                        "    Note right of IO: #35;5 IRP IRP_MJ_FILE_SYSTEM_CONTROL/"
                        "IRP_MN_USER_FS_REQUEST \\f\n"
                        "    IO->>F1: pre → SUCCESS_WITH_CALLBACK\n"
                        "    F1->>F2: pre → SUCCESS_WITH_CALLBACK\n"
                        "    F2->>V1: IRP_MJ_FILE_SYSTEM_CONTROL/IRP_MN_USER_FS_REQUEST\n"
                        "    Note over F1: #35;5 status callback, IoCallDriver returned "
                        "STATUS_PENDING\n"
                        "    Note over F2: #35;5 status callback, IoCallDriver returned "
                        "STATUS_PENDING\n"
                        "    V1-->>F2: STATUS_SUCCESS, information 2\n"
                        "    Note over F2: post → FINISHED_PROCESSING\n"
                        "    F2-->>F1: post → FINISHED_PROCESSING\n"
                        "    F1-->>IO: #35;5 STATUS_SUCCESS, information 2\n"
                        "```\n");
    capture_close(&c);
}

/* Name queries (issue 17 item 8): one answered from the cache inside
 * operation 3, one refused outside any operation, in every sink. */
static void name_queries_appear_in_every_format(void **state)
{
    (void)state;
    struct fltsim_event hit =
        op_event(FLTSIM_EV_NAME_QUERY, 3, 0, "A", "300000", STATUS_SUCCESS, 1000, PASSIVE_LEVEL);
    hit.major = IRP_MJ_CREATE;
    hit.minor = 0;
    hit.detail = "normalized default";
    hit.name = VOL "\\x.txt";
    hit.flags = 1;
    struct fltsim_event miss = hit;
    miss.op_id = 0;
    miss.status = STATUS_FLT_NAME_CACHE_MISS;
    miss.detail = "opened cache_only";
    miss.name = NULL;
    miss.flags = 0;
    static const struct {
        enum fltsim_trace_format format;
        const char *want[2];
    } cases[] = {
        {FLTSIM_TRACE_TEXT,
         {"[name] A asks for the normalized default name in #3: STATUS_SUCCESS "
          "\\Device\\HarddiskVolume1\\x.txt (cache)",
          "[name] A asks for the opened cache_only name: STATUS_FLT_NAME_CACHE_MISS\n"}},
        {FLTSIM_TRACE_JSONL,
         {"{\"type\":\"name_query\",\"type_value\":21,\"op_id\":3,",
          "\"detail\":\"opened cache_only\",\"rule\":null,\"name\":null}"}},
        {FLTSIM_TRACE_MERMAID,
         {"Note over F1: #35;3 normalized default name → STATUS_SUCCESS "
          "\\Device\\HarddiskVolume1\\x.txt (cache)",
          "Note over F1: opened cache_only name → STATUS_FLT_NAME_CACHE_MISS\n"}},
        {FLTSIM_TRACE_NORMALIZED,
         {"name_query op=1 kind=irp major=IRP_MJ_CREATE minor=0x00 filter=\"A\"",
          "flags=0x1 process=1000 thread=T1 irql=PASSIVE_LEVEL detail=\"normalized default\" "
          "name=\"\\\\Device\\\\HarddiskVolume1\\\\x.txt\"\n"}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct capture c;
        capture_open(&c, cases[i].format, 0);
        fltsim_trace_sink_event(c.sink, &hit);
        fltsim_trace_sink_event(c.sink, &miss);
        const char *text = capture_text(&c);
        for (int k = 0; k < 2; k++) {
            if (strstr(text, cases[i].want[k]) == NULL)
                fail_msg("format %zu lacks \"%s\" in:\n%s", i, cases[i].want[k], text);
        }
        capture_close(&c);
    }
}

/* ---- the sink object ---- */

static void sink_create_rejects_bad_arguments(void **state)
{
    (void)state;
    struct fltsim_trace_sink *sink = (struct fltsim_trace_sink *)&sink;
    assert_status(fltsim_trace_sink_create(FLTSIM_TRACE_TEXT, NULL, 0, &sink),
                  STATUS_INVALID_PARAMETER);
    assert_null(sink);
    assert_status(fltsim_trace_sink_create((enum fltsim_trace_format)4, stderr, 0, &sink),
                  STATUS_INVALID_PARAMETER);
    assert_status(fltsim_trace_sink_create(FLTSIM_TRACE_TEXT, stderr, 0x2, &sink),
                  STATUS_INVALID_PARAMETER);
    assert_null(sink);
    assert_status(fltsim_trace_sink_create(FLTSIM_TRACE_TEXT, stderr, 0, NULL),
                  STATUS_INVALID_PARAMETER);
    assert_status(fltsim_trace_sink_finish(NULL), STATUS_INVALID_PARAMETER);
    fltsim_trace_sink_destroy(NULL);
    fltsim_trace_sink_event(NULL, NULL);
    fltsim_trace_sink_note(NULL, "x");
}

static void format_names_parse_back(void **state)
{
    (void)state;
    static const char *const names[] = {"text", "jsonl", "mermaid", "normalized"};
    for (int i = 0; i < 4; i++) {
        enum fltsim_trace_format f = (enum fltsim_trace_format) - 1;
        assert_string_equal(fltsim_trace_format_name((enum fltsim_trace_format)i), names[i]);
        assert_true(fltsim_trace_format_parse(names[i], &f));
        assert_int_equal(f, i);
    }
    enum fltsim_trace_format f = FLTSIM_TRACE_MERMAID;
    assert_false(fltsim_trace_format_parse("JSONL", &f));
    assert_false(fltsim_trace_format_parse("", &f));
    assert_false(fltsim_trace_format_parse(NULL, &f));
    assert_int_equal(f, FLTSIM_TRACE_MERMAID);
    assert_null(fltsim_trace_format_name((enum fltsim_trace_format)4));
}

static void minor_names_cover_the_minors_fltsim_uses(void **state)
{
    (void)state;
    assert_string_equal(fltsim_minor_name(IRP_MJ_DIRECTORY_CONTROL, IRP_MN_QUERY_DIRECTORY),
                        "IRP_MN_QUERY_DIRECTORY");
    assert_string_equal(fltsim_minor_name(IRP_MJ_DIRECTORY_CONTROL, IRP_MN_NOTIFY_CHANGE_DIRECTORY),
                        "IRP_MN_NOTIFY_CHANGE_DIRECTORY");
    assert_string_equal(fltsim_minor_name(IRP_MJ_FILE_SYSTEM_CONTROL, IRP_MN_USER_FS_REQUEST),
                        "IRP_MN_USER_FS_REQUEST");
    assert_string_equal(fltsim_minor_name(IRP_MJ_FILE_SYSTEM_CONTROL, IRP_MN_KERNEL_CALL),
                        "IRP_MN_KERNEL_CALL");
    assert_string_equal(fltsim_minor_name(IRP_MJ_LOCK_CONTROL, IRP_MN_UNLOCK_ALL_BY_KEY),
                        "IRP_MN_UNLOCK_ALL_BY_KEY");
    assert_string_equal(fltsim_minor_name(IRP_MJ_WRITE, IRP_MN_COMPLETE_MDL_DPC),
                        "IRP_MN_COMPLETE_MDL_DPC");
    assert_string_equal(fltsim_minor_name(IRP_MJ_READ, IRP_MN_NORMAL), "IRP_MN_NORMAL");
    assert_null(fltsim_minor_name(IRP_MJ_CREATE, 0));
    assert_null(fltsim_minor_name(IRP_MJ_DIRECTORY_CONTROL, 0x09));
    assert_null(fltsim_minor_name(IRP_MJ_READ, 0x10));
}

static void finish_stops_events_and_returns_the_same_status(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, FLTSIM_TRACE_NORMALIZED, 0);
    fltsim_trace_sink_note(c.sink, "before");
    const char *text = capture_text(&c);
    assert_string_equal(text, "# before\n");
    feed_query(c.sink, 1);
    fltsim_trace_sink_note(c.sink, "after");
    assert_status(fltsim_trace_sink_finish(c.sink), STATUS_SUCCESS);
    fflush(c.out);
    assert_string_equal(c.text, "# before\n");
    capture_close(&c);
}

static void finish_reports_a_stream_that_cannot_be_written(void **state)
{
    (void)state;
    FILE *ro = fopen("/dev/null", "r");
    assert_non_null(ro);
    for (int f = 0; f < 4; f++) {
        struct fltsim_trace_sink *sink;
        clearerr(ro);
        assert_status(fltsim_trace_sink_create((enum fltsim_trace_format)f, ro, 0, &sink),
                      STATUS_SUCCESS);
        feed_query(sink, 1);
        assert_status(fltsim_trace_sink_finish(sink), STATUS_UNSUCCESSFUL);
        assert_status(fltsim_trace_sink_finish(sink), STATUS_UNSUCCESSFUL);
        fltsim_trace_sink_destroy(sink);
    }
    fclose(ro);
}

static void tee_sends_events_and_notes_to_every_sink(void **state)
{
    (void)state;
    struct capture text, norm;
    capture_open(&text, FLTSIM_TRACE_TEXT, 0);
    capture_open(&norm, FLTSIM_TRACE_NORMALIZED, 0);
    struct fltsim_trace_tee tee = {{NULL, text.sink, NULL, norm.sink}};
    fltsim_trace_tee_note(&tee, "go");
    struct fltsim_event ev = op_event(FLTSIM_EV_IO_START, 7, 0, NULL, NULL, 0, 1000, 0);
    fltsim_trace_tee_event(&tee, &ev);
    assert_status(fltsim_trace_tee_finish(&tee), STATUS_SUCCESS);
    fflush(text.out);
    fflush(norm.out);
    assert_string_equal(
        text.text,
        "\n== go\n#7 IRP IRP_MJ_DIRECTORY_CONTROL/IRP_MN_QUERY_DIRECTORY \\dir  [T1000 PASSIVE]\n");
    assert_string_equal(norm.text,
                        "# go\nio_start op=1 kind=irp major=IRP_MJ_DIRECTORY_CONTROL "
                        "minor=IRP_MN_QUERY_DIRECTORY volume=\"\\\\Device\\\\HarddiskVolume1\" "
                        "process=1000 thread=T1 irql=PASSIVE_LEVEL detail=\"\\\\dir\"\n");
    assert_status(fltsim_trace_tee_finish(NULL), STATUS_INVALID_PARAMETER);
    fltsim_trace_tee_event(NULL, &ev);
    fltsim_trace_tee_note(NULL, "x");
    capture_close(&text);
    capture_close(&norm);
}

int main(void)
{
    const struct CMUnitTest units[] = {
        cmocka_unit_test(text_operation_shows_tree_minor_and_thread_changes),
        cmocka_unit_test(text_show_threads_marks_every_line),
        cmocka_unit_test(text_interleaved_operations_are_numbered),
        cmocka_unit_test(text_operation_issued_inside_a_callback_names_it),
        cmocka_unit_test(text_instance_work_pend_report_lines),
        cmocka_unit_test(jsonl_writes_every_field_with_names),
        cmocka_unit_test(normalized_renumbers_ops_and_threads_and_masks_pointers),
        cmocka_unit_test(mermaid_declares_lifelines_by_altitude_and_escapes_labels),
        cmocka_unit_test(mermaid_names_the_operation_where_operations_interleave),
        cmocka_unit_test(mermaid_without_events_is_a_valid_empty_diagram),
        cmocka_unit_test(text_status_callback_is_a_call_at_the_instance_depth),
        cmocka_unit_test(jsonl_status_callback_names_type_operation_and_status),
        cmocka_unit_test(normalized_status_callback_carries_operation_instance_and_status),
        cmocka_unit_test(mermaid_status_callback_is_a_note_on_the_instance),
        cmocka_unit_test(name_queries_appear_in_every_format),
        cmocka_unit_test(sink_create_rejects_bad_arguments),
        cmocka_unit_test(format_names_parse_back),
        cmocka_unit_test(minor_names_cover_the_minors_fltsim_uses),
        cmocka_unit_test(finish_stops_events_and_returns_the_same_status),
        cmocka_unit_test(finish_reports_a_stream_that_cannot_be_written),
        cmocka_unit_test(tee_sends_events_and_notes_to_every_sink),
    };
    return cmocka_run_group_tests_name("trace", units, NULL, NULL);
}
