/*
 * Process and handle events in the traces (issue 20): a process created
 * (and one denied), a handle opened (a user and a kernel one), a handle
 * duplicated into another process, processes exiting, each in the text,
 * JSON Lines, normalized and Mermaid formats at once (a tee of the four
 * sinks), under both executors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fltsim/trace.h>

#include "fltsim/program.h"
#include "fltsim_test.h"
#include "trace_capture.h"

static NTSTATUS deny;

static void deny_routine(PEPROCESS Process, HANDLE ProcessId, PPS_CREATE_NOTIFY_INFO CreateInfo)
{
    (void)Process;
    (void)ProcessId;
    if (CreateInfo != NULL && deny != STATUS_SUCCESS)
        CreateInfo->CreationStatus = deny;
}

static void set_routine(void *ctx)
{
    *(NTSTATUS *)ctx = PsSetCreateProcessNotifyRoutineEx(deny_routine, FALSE);
}

static void remove_routine(void *ctx)
{
    *(NTSTATUS *)ctx = PsSetCreateProcessNotifyRoutineEx(deny_routine, TRUE);
}

struct dup_job {
    HANDLE source, target_process, out;
    NTSTATUS status;
};

static void duplicate(void *ctx)
{
    struct dup_job *j = ctx;
    j->status = ZwDuplicateObject(NtCurrentProcess(), j->source, j->target_process, &j->out, 0, 0,
                                  DUPLICATE_SAME_ACCESS);
}

static void processes_and_handles_in_every_format(void **state)
{
    (void)state;
    struct test_world w;
    struct capture c[4];
    struct fltsim_trace_tee tee;
    memset(&tee, 0, sizeof(tee));
    tf_reset_all();
    world_create(&w, 0);
    for (int i = 0; i < 4; i++) {
        capture_open(&c[i], (enum fltsim_trace_format)i, 0);
        tee.sinks[i] = c[i].sink;
    }
    fltsim_system_set_trace(w.sys, fltsim_trace_tee_event, &tee);
    struct tf_filter a;
    tf_init(&a, "A", "300000");
    assert_status(tf_load(w.sys, &a), STATUS_SUCCESS);
    NTSTATUS st;
    assert_status(fltsim_driver_call(a.driver, set_routine, &st), STATUS_SUCCESS);
    assert_status(st, STATUS_SUCCESS);

    ULONG pid = 0, other = 0, denied = 0;
    struct fltsim_ps_params params = {.image = "notepad.exe", .process_id = 9100};
    assert_status(fltsim_ps_create(w.sys, &params, &pid), STATUS_SUCCESS);
    params.image = "other.exe";
    params.process_id = 9200;
    assert_status(fltsim_ps_create(w.sys, &params, &other), STATUS_SUCCESS);
    deny = STATUS_ACCESS_DENIED;
    params.image = "bad.exe";
    params.process_id = 9300;
    assert_status(fltsim_ps_create(w.sys, &params, &denied), STATUS_ACCESS_DENIED);
    deny = STATUS_SUCCESS;
    HANDLE user, kernel_other;
    ACCESS_MASK granted;
    assert_status(fltsim_ps_open(w.sys, pid, 0, PROCESS_TERMINATE, false, &user, &granted),
                  STATUS_SUCCESS);
    assert_status(
        fltsim_ps_open(w.sys, other, 0, PROCESS_DUP_HANDLE, true, &kernel_other, &granted),
        STATUS_SUCCESS);
    struct dup_job j = {.source = user, .target_process = kernel_other};
    assert_status(fltsim_driver_call(a.driver, duplicate, &j), STATUS_SUCCESS);
    assert_status(j.status, STATUS_SUCCESS);
    assert_status(fltsim_ps_close(w.sys, user), STATUS_SUCCESS);
    assert_status(fltsim_ps_close(w.sys, kernel_other), STATUS_SUCCESS);
    assert_status(fltsim_ps_exit(w.sys, pid, (NTSTATUS)0x2a), STATUS_SUCCESS);
    assert_status(fltsim_ps_exit(w.sys, other, STATUS_SUCCESS), STATUS_SUCCESS);
    assert_status(fltsim_driver_call(a.driver, remove_routine, &st), STATUS_SUCCESS);
    world_destroy(&w);

    const char *text = capture_text(&c[FLTSIM_TRACE_TEXT]);
    EXPECT_LINE(text, "[process] process ", " creates process 9100 (parent ",
                "\\Device\\HarddiskVolume1\\Windows\\notepad.exe: STATUS_SUCCESS");
    EXPECT_LINE(text, "creates process 9300", "bad.exe: STATUS_ACCESS_DENIED");
    EXPECT_LINE(text, "[process] process 9300 ", "bad.exe exits: STATUS_ACCESS_DENIED");
    EXPECT_LINE(text, "[handle] process ", " opens process 9100 into process ",
                "(desired 0x1, granted 0x1): STATUS_SUCCESS");
    EXPECT_LINE(text, " opens process 9200 as a kernel handle (desired 0x40, granted 0x40)");
    EXPECT_LINE(text, "duplicates a handle to process 9100 into process 9200 (desired 0x1, "
                      "granted 0x1): STATUS_SUCCESS");
    EXPECT_LINE(text, "[process] process 9100 ", "notepad.exe exits: 0x0000002A");

    const char *jsonl = capture_text(&c[FLTSIM_TRACE_JSONL]);
    EXPECT_LINE(jsonl, "{\"type\":\"process_create\"", "\"status_name\":\"STATUS_SUCCESS\"",
                "\"object_process_id\":9100", "\"parent_process_id\":");
    EXPECT_LINE(jsonl, "{\"type\":\"process_exit\"", "\"object_process_id\":9100");
    EXPECT_LINE(jsonl, "{\"type\":\"handle_open\"", "\"object_process_id\":9200",
                "\"table_process_id\":4,\"desired_access\":64,\"granted_access\":64}");
    EXPECT_LINE(jsonl, "{\"type\":\"handle_duplicate\"", "\"table_process_id\":9200");

    const char *norm = capture_text(&c[FLTSIM_TRACE_NORMALIZED]);
    EXPECT_LINE(norm, "process_create status=STATUS_SUCCESS ", "object=9100/", " parent=");
    EXPECT_LINE(norm, "process_exit status=", "object=9300/");
    EXPECT_LINE(norm, "handle_open status=STATUS_SUCCESS ",
                "object=9100/0 table=", "desired=0x1 granted=0x1");
    EXPECT_LINE(norm, "handle_duplicate ", "table=9200 desired=0x1 granted=0x1");

    const char *mermaid = capture_text(&c[FLTSIM_TRACE_MERMAID]);
    EXPECT_LINE(mermaid, "Note right of ", "creates process 9100");
    EXPECT_LINE(mermaid, "Note right of ", "process 9100 exits");
    EXPECT_LINE(mermaid, "Note right of ",
                "opens process 9200 (kernel handle), granted 0x40 of 0x40");
    EXPECT_LINE(mermaid, "Note right of ",
                "duplicates a handle to process 9100 for another process");
    for (int i = 0; i < 4; i++)
        capture_close(&c[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(processes_and_handles_in_every_format),
    };
    return FLTSIM_RUN_SUITE("trace_ps", tests);
}
