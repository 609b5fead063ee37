/*
 * Handles to processes and threads (issue 20 item 4, the requestor side):
 * fltsim_ps_open (user and kernel handles), ZwOpenProcess, ZwOpenThread,
 * ObOpenObjectByPointer, ZwDuplicateObject (into another process's table,
 * DUPLICATE_SAME_ACCESS, DUPLICATE_CLOSE_SOURCE), ZwTerminateProcess,
 * ZwClose, ZwQueryInformationProcess on a handle, and
 * ObReferenceObjectByHandle with the type and, for UserMode, the granted
 * access checked. Bad input gets Windows' statuses.
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim/program.h"
#include "fltsim_test.h"

static void load_filter(struct test_world *w, struct tf_filter *a)
{
    world_create(w, 0);
    tf_reset_all();
    tf_init(a, "A", "300000");
    assert_status(tf_load(w->sys, a), STATUS_SUCCESS);
}

static ULONG create(struct test_world *w, const char *image)
{
    ULONG pid = 0;
    struct fltsim_ps_params params = {.image = image};
    assert_status(fltsim_ps_create(w->sys, &params, &pid), STATUS_SUCCESS);
    return pid;
}

struct by_handle {
    HANDLE h;
    ULONG pid;
    NTSTATUS user_ok, user_denied, wrong_type, kernel_ok, close, close_again;
    PEPROCESS object;
    ACCESS_MASK granted;
};

static void reference_user_handle(void *ctx)
{
    struct by_handle *b = ctx;
    PVOID obj = NULL;
    OBJECT_HANDLE_INFORMATION info;
    b->user_ok =
        ObReferenceObjectByHandle(b->h, PROCESS_TERMINATE, *PsProcessType, UserMode, &obj, &info);
    if (NT_SUCCESS(b->user_ok)) {
        b->object = obj;
        b->granted = info.GrantedAccess;
        b->pid = (ULONG)(ULONG_PTR)PsGetProcessId(obj);
        ObDereferenceObject(obj);
    }
    b->user_denied =
        ObReferenceObjectByHandle(b->h, PROCESS_VM_WRITE, *PsProcessType, UserMode, &obj, NULL);
    b->wrong_type =
        ObReferenceObjectByHandle(b->h, PROCESS_TERMINATE, *PsThreadType, KernelMode, &obj, NULL);
    b->kernel_ok =
        ObReferenceObjectByHandle(b->h, PROCESS_VM_WRITE, *PsProcessType, KernelMode, &obj, NULL);
    if (NT_SUCCESS(b->kernel_ok))
        ObDereferenceObject(obj);
    b->close = ZwClose(b->h);
}

/* A user handle grants what was asked (no object callbacks registered);
 * ObReferenceObjectByHandle checks it for UserMode, not for KernelMode, and
 * checks the type. */
static void user_handle_keeps_its_access(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter a;
    load_filter(&w, &a);
    ULONG pid = create(&w, "notepad.exe");
    struct by_handle b = {0};
    ACCESS_MASK granted = 0;
    assert_status(
        fltsim_ps_open(w.sys, pid, 0, PROCESS_TERMINATE | PROCESS_VM_READ, false, &b.h, &granted),
        STATUS_SUCCESS);
    assert_int_equal(granted, PROCESS_TERMINATE | PROCESS_VM_READ);
    assert_status(fltsim_driver_call(a.driver, reference_user_handle, &b), STATUS_SUCCESS);
    assert_status(b.user_ok, STATUS_SUCCESS);
    assert_int_equal(b.pid, pid);
    assert_int_equal(b.granted, PROCESS_TERMINATE | PROCESS_VM_READ);
    assert_status(b.user_denied, STATUS_ACCESS_DENIED);
    assert_status(b.wrong_type, STATUS_OBJECT_TYPE_MISMATCH);
    assert_status(b.kernel_ok, STATUS_SUCCESS);
    assert_status(b.close, STATUS_SUCCESS);
    assert_status(fltsim_ps_close(w.sys, b.h), STATUS_INVALID_HANDLE);
    assert_status(fltsim_ps_exit(w.sys, pid, STATUS_SUCCESS), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

struct kernel_side {
    ULONG pid, tid, other;
    NTSTATUS open, open_thread, by_pointer, query, dup, dup_closed_source, terminate,
        terminate_again, exit_status;
    PROCESS_BASIC_INFORMATION basic;
    HANDLE dup_handle;
    ACCESS_MASK dup_granted;
};

static void kernel_work(void *ctx)
{
    struct kernel_side *k = ctx;
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, NULL, OBJ_KERNEL_HANDLE, NULL, NULL);
    CLIENT_ID cid = {(HANDLE)(ULONG_PTR)k->pid, NULL};
    HANDLE process = NULL, thread = NULL, other = NULL, by_pointer = NULL;
    k->open = ZwOpenProcess(&process, PROCESS_ALL_ACCESS, &oa, &cid);
    cid.UniqueThread = (HANDLE)(ULONG_PTR)k->tid;
    k->open_thread = ZwOpenThread(&thread, THREAD_QUERY_INFORMATION, &oa, &cid);
    k->query = ZwQueryInformationProcess(process, ProcessBasicInformation, &k->basic,
                                         sizeof(k->basic), NULL);
    PEPROCESS target;
    PsLookupProcessByProcessId((HANDLE)(ULONG_PTR)k->other, &target);
    k->by_pointer = ObOpenObjectByPointer(target, OBJ_KERNEL_HANDLE, NULL, PROCESS_DUP_HANDLE,
                                          *PsProcessType, KernelMode, &other);
    ObDereferenceObject(target);
    /* A duplicate of the thread handle into the other process's table; the
     * source is closed. */
    k->dup = ZwDuplicateObject(NtCurrentProcess(), thread, other, &k->dup_handle, 0, 0,
                               DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE);
    k->dup_closed_source = ZwClose(thread) == STATUS_INVALID_HANDLE ? STATUS_SUCCESS : 1;
    k->terminate = ZwTerminateProcess(process, (NTSTATUS)0x2a);
    k->terminate_again = ZwTerminateProcess(process, 0);
    PVOID p;
    if (NT_SUCCESS(ObReferenceObjectByHandle(process, 0, *PsProcessType, KernelMode, &p, NULL))) {
        k->exit_status = PsGetProcessExitStatus(p);
        ObDereferenceObject(p);
    }
    ZwClose(process);
    ZwClose(other);
    (void)by_pointer;
}

/* A driver opens kernel handles (ZwOpenProcess, ZwOpenThread,
 * ObOpenObjectByPointer), queries by handle, duplicates a handle into
 * another process (the duplicate is in that table, not the caller's) and
 * terminates the process. */
static void kernel_handles_duplicate_and_terminate(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter a;
    load_filter(&w, &a);
    struct kernel_side k = {0};
    k.pid = create(&w, "victim.exe");
    k.tid = k.pid + 4; /* the main thread: the next id */
    k.other = create(&w, "other.exe");
    assert_status(fltsim_driver_call(a.driver, kernel_work, &k), STATUS_SUCCESS);
    assert_status(k.open, STATUS_SUCCESS);
    assert_status(k.open_thread, STATUS_SUCCESS);
    assert_status(k.query, STATUS_SUCCESS);
    assert_int_equal(k.basic.UniqueProcessId, k.pid);
    assert_status(k.basic.ExitStatus, STATUS_PENDING);
    assert_status(k.by_pointer, STATUS_SUCCESS);
    assert_status(k.dup, STATUS_SUCCESS);
    assert_non_null(k.dup_handle);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V23"), 1); /* the ZwClose probe */
    fltsim_system_reports_clear(w.sys);
    assert_status(k.dup_closed_source, STATUS_SUCCESS);
    assert_status(k.terminate, STATUS_SUCCESS);
    assert_status(k.terminate_again, STATUS_PROCESS_IS_TERMINATING);
    assert_status(k.exit_status, (NTSTATUS)0x2a);
    /* The duplicate is the other process's: not the test's to close. */
    assert_status(fltsim_ps_close(w.sys, k.dup_handle), STATUS_INVALID_HANDLE);
    assert_status(fltsim_ps_exit(w.sys, k.other, STATUS_SUCCESS), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

struct bad {
    ULONG implicit_pid;
    NTSTATUS unknown, no_attributes, named, bad_dup, bad_options, terminate_implicit, query_bad;
};

static void bad_calls(void *ctx)
{
    struct bad *b = ctx;
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, NULL, OBJ_KERNEL_HANDLE, NULL, NULL);
    CLIENT_ID cid = {(HANDLE)(ULONG_PTR)999996, NULL};
    HANDLE h = NULL;
    b->unknown = ZwOpenProcess(&h, PROCESS_ALL_ACCESS, &oa, &cid);
    b->no_attributes = ZwOpenProcess(&h, PROCESS_ALL_ACCESS, NULL, &cid);
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\x");
    OBJECT_ATTRIBUTES named;
    InitializeObjectAttributes(&named, &name, OBJ_KERNEL_HANDLE, NULL, NULL);
    b->named = ZwOpenProcess(&h, PROCESS_ALL_ACCESS, &named, &cid);
    HANDLE out;
    b->bad_dup = ZwDuplicateObject(NtCurrentProcess(), (HANDLE)(ULONG_PTR)0x44, NtCurrentProcess(),
                                   &out, 0, 0, DUPLICATE_SAME_ACCESS);
    b->bad_options = ZwDuplicateObject(NtCurrentProcess(), (HANDLE)(ULONG_PTR)0x44,
                                       NtCurrentProcess(), &out, 0, 0, 0x80);
    b->terminate_implicit = ZwTerminateProcess(NtCurrentProcess(), 0);
    ULONG len;
    PROCESS_BASIC_INFORMATION basic;
    b->query_bad = ZwQueryInformationProcess((HANDLE)(ULONG_PTR)0x1234, ProcessBasicInformation,
                                             &basic, sizeof(basic), &len);
}

/* Windows' statuses for an unknown id, missing or named ObjectAttributes,
 * a handle that is none, unknown options, and a process fltsim does not
 * end (the caller's own, made by the first use of its id). */
static void bad_input_gets_windows_statuses(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter a;
    load_filter(&w, &a);
    struct bad b;
    assert_status(fltsim_driver_call(a.driver, bad_calls, &b), STATUS_SUCCESS);
    assert_status(b.unknown, STATUS_INVALID_CID);
    assert_status(b.no_attributes, STATUS_INVALID_PARAMETER);
    assert_status(b.named, STATUS_INVALID_PARAMETER_MIX);
    assert_status(b.bad_dup, STATUS_INVALID_HANDLE);
    assert_status(b.bad_options, STATUS_INVALID_PARAMETER);
    assert_status(b.terminate_implicit, STATUS_NOT_SUPPORTED);
    assert_status(b.query_bad, STATUS_INVALID_HANDLE);
    HANDLE h;
    ACCESS_MASK granted;
    assert_status(fltsim_ps_open(w.sys, 999996, 0, PROCESS_ALL_ACCESS, false, &h, &granted),
                  STATUS_INVALID_CID);
    assert_status(fltsim_ps_open(w.sys, 4, 0, PROCESS_ALL_ACCESS, false, NULL, &granted),
                  STATUS_INVALID_PARAMETER);
    world_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(user_handle_keeps_its_access),
        cmocka_unit_test(kernel_handles_duplicate_and_terminate),
        cmocka_unit_test(bad_input_gets_windows_statuses),
    };
    return FLTSIM_RUN_SUITE("ps_handles", tests);
}
