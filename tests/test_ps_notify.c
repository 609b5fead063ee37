/*
 * Process, thread and image-load notifications (issue 20 item 2):
 * registration and removal with Windows' statuses, the calls and their order
 * when fltsim_ps_create makes a process and fltsim_ps_exit ends it, an Ex
 * routine denying a creation through CreationStatus, and a driver that
 * unloads with routines registered (V31: reported, and they are removed).
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim/program.h"
#include "fltsim_test.h"

#include "fltsim/decl/winbase.h" /* a program's CreateThread */

/* What the routines saw, in order. */
static char seen[1024];
static ULONG seen_parent, seen_image_len, seen_creator;
static NTSTATUS deny_with;
static char seen_image_short[16];

static void note(const char *what)
{
    strncat(seen, what, sizeof(seen) - strlen(seen) - 1);
    strncat(seen, " ", sizeof(seen) - strlen(seen) - 1);
}

static void legacy_routine(HANDLE ParentId, HANDLE ProcessId, BOOLEAN Create)
{
    (void)ProcessId;
    seen_parent = (ULONG)(ULONG_PTR)ParentId;
    note(Create ? "proc+" : "proc-");
}

static void ex_routine(PEPROCESS Process, HANDLE ProcessId, PPS_CREATE_NOTIFY_INFO CreateInfo)
{
    if (PsGetProcessId(Process) != ProcessId)
        note("wrong-process");
    if (CreateInfo == NULL) {
        note("ex-");
        return;
    }
    note("ex+");
    seen_image_len = CreateInfo->ImageFileName->Length;
    seen_creator = (ULONG)(ULONG_PTR)CreateInfo->CreatingThreadId.UniqueProcess;
    strncpy(seen_image_short, PsGetProcessImageFileName(Process), sizeof(seen_image_short) - 1);
    if (PsGetProcessExitStatus(Process) != STATUS_PENDING)
        note("not-running");
    if (deny_with != STATUS_SUCCESS)
        CreateInfo->CreationStatus = deny_with;
}

static void thread_routine(HANDLE ProcessId, HANDLE ThreadId, BOOLEAN Create)
{
    (void)ProcessId;
    (void)ThreadId;
    note(Create ? "thread+" : "thread-");
}

static void image_routine(PUNICODE_STRING FullImageName, HANDLE ProcessId, PIMAGE_INFO ImageInfo)
{
    (void)ProcessId;
    if (FullImageName == NULL || ImageInfo == NULL || ImageInfo->ImageBase == NULL)
        note("bad-image");
    note("image");
}

struct regs {
    bool remove;
    NTSTATUS process, ex, thread, image;
};

static void register_all(void *ctx)
{
    struct regs *r = ctx;
    if (!r->remove) {
        r->image = PsSetLoadImageNotifyRoutine(image_routine);
        r->thread = PsSetCreateThreadNotifyRoutine(thread_routine);
        r->ex = PsSetCreateProcessNotifyRoutineEx(ex_routine, FALSE);
        r->process = PsSetCreateProcessNotifyRoutine(legacy_routine, FALSE);
        return;
    }
    r->image = PsRemoveLoadImageNotifyRoutine(image_routine);
    r->thread = PsRemoveCreateThreadNotifyRoutine(thread_routine);
    r->ex = PsSetCreateProcessNotifyRoutineEx(ex_routine, TRUE);
    r->process = PsSetCreateProcessNotifyRoutine(legacy_routine, TRUE);
}

static void load_filter(struct test_world *w, struct tf_filter *a)
{
    world_create(w, 0);
    tf_reset_all();
    tf_init(a, "A", "300000");
    assert_status(tf_load(w->sys, a), STATUS_SUCCESS);
    seen[0] = '\0';
    deny_with = STATUS_SUCCESS;
    seen_parent = seen_image_len = seen_creator = 0;
    memset(seen_image_short, 0, sizeof(seen_image_short));
}

/* Creation: image, Ex, legacy, thread routines; exit: thread, Ex (NULL
 * CreateInfo), legacy. After removal nothing is called. */
static void routines_see_creation_and_exit(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter a;
    load_filter(&w, &a);
    struct regs r = {0};
    assert_status(fltsim_driver_call(a.driver, register_all, &r), STATUS_SUCCESS);
    assert_status(r.image, STATUS_SUCCESS);
    assert_status(r.thread, STATUS_SUCCESS);
    assert_status(r.ex, STATUS_SUCCESS);
    assert_status(r.process, STATUS_SUCCESS);
    ULONG parent = 0, pid = 0;
    struct fltsim_ps_params pp = {.image = "services.exe"};
    assert_status(fltsim_ps_create(w.sys, &pp, &parent), STATUS_SUCCESS);
    seen[0] = '\0';
    struct fltsim_ps_params params = {.image = "notepad.exe", .parent_id = parent};
    assert_status(fltsim_ps_create(w.sys, &params, &pid), STATUS_SUCCESS);
    assert_string_equal(seen, "image ex+ proc+ thread+ ");
    assert_int_equal(seen_parent, parent);
    assert_int_equal(seen_image_len,
                     sizeof(L"\\Device\\HarddiskVolume1\\Windows\\notepad.exe") - sizeof(WCHAR));
    assert_int_equal(seen_creator, fltsim_thread_process_id());
    assert_string_equal(seen_image_short, "notepad.exe");
    seen[0] = '\0';
    assert_status(fltsim_ps_exit(w.sys, pid, STATUS_SUCCESS), STATUS_SUCCESS);
    assert_string_equal(seen, "thread- ex- proc- ");
    r.remove = true;
    assert_status(fltsim_driver_call(a.driver, register_all, &r), STATUS_SUCCESS);
    assert_status(r.image, STATUS_SUCCESS);
    assert_status(r.thread, STATUS_SUCCESS);
    assert_status(r.ex, STATUS_SUCCESS);
    assert_status(r.process, STATUS_SUCCESS);
    seen[0] = '\0';
    assert_status(fltsim_ps_exit(w.sys, parent, STATUS_SUCCESS), STATUS_SUCCESS);
    assert_string_equal(seen, "");
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

static void lookup_denied(void *ctx)
{
    ULONG *pid = ctx;
    PEPROCESS p;
    if (NT_SUCCESS(PsLookupProcessByProcessId((HANDLE)(ULONG_PTR)*pid, &p))) {
        ObDereferenceObject(p);
        *pid = 0;
    }
}

/* An Ex routine that sets CreationStatus denies the process: the creation
 * fails with that status, the routines after it are not called, the exit is
 * notified, and the process is gone. */
static void ex_routine_denies_a_creation(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter a;
    load_filter(&w, &a);
    struct regs r = {0};
    assert_status(fltsim_driver_call(a.driver, register_all, &r), STATUS_SUCCESS);
    deny_with = STATUS_ACCESS_DENIED;
    ULONG pid = 77;
    struct fltsim_ps_params params = {.image = "malware.exe", .process_id = 9000};
    assert_status(fltsim_ps_create(w.sys, &params, &pid), STATUS_ACCESS_DENIED);
    assert_int_equal(pid, 0);
    assert_string_equal(seen, "image ex+ thread- ex- proc- ");
    ULONG id = 9000;
    assert_status(fltsim_driver_call(a.driver, lookup_denied, &id), STATUS_SUCCESS);
    assert_int_equal(id, 9000); /* not found */
    r.remove = true;
    assert_status(fltsim_driver_call(a.driver, register_all, &r), STATUS_SUCCESS);
    world_destroy(&w);
}

struct statuses {
    NTSTATUS twice, remove_unknown, remove_thread_unknown, ex2, ex2_bad, image_ex_bad,
        thread_ex_bad, null_routine, ex2_remove;
};

static void registration_statuses(void *ctx)
{
    struct statuses *s = ctx;
    PsSetCreateProcessNotifyRoutine(legacy_routine, FALSE);
    s->twice = PsSetCreateProcessNotifyRoutine(legacy_routine, FALSE);
    PsSetCreateProcessNotifyRoutine(legacy_routine, TRUE);
    s->remove_unknown = PsSetCreateProcessNotifyRoutine(legacy_routine, TRUE);
    s->remove_thread_unknown = PsRemoveCreateThreadNotifyRoutine(thread_routine);
    PVOID ex = NULL;
    PCREATE_PROCESS_NOTIFY_ROUTINE_EX fn = ex_routine;
    memcpy(&ex, &fn, sizeof(ex));
    s->ex2 = PsSetCreateProcessNotifyRoutineEx2(PsCreateProcessNotifySubsystems, ex, FALSE);
    s->ex2_bad = PsSetCreateProcessNotifyRoutineEx2((PSCREATEPROCESSNOTIFYTYPE)7, ex, FALSE);
    s->ex2_remove = PsSetCreateProcessNotifyRoutineEx2(PsCreateProcessNotifySubsystems, ex, TRUE);
    s->image_ex_bad = PsSetLoadImageNotifyRoutineEx(image_routine, 0x10);
    s->thread_ex_bad = PsSetCreateThreadNotifyRoutineEx((PSCREATETHREADNOTIFYTYPE)9, ex);
    s->null_routine = PsSetLoadImageNotifyRoutine(NULL);
}

/* Windows' statuses: a routine registered twice, a removal of one not
 * registered, unknown types and flags, no routine; and a call from no
 * driver's code. */
static void registration_statuses_are_windows_ones(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter a;
    load_filter(&w, &a);
    struct statuses s;
    assert_status(fltsim_driver_call(a.driver, registration_statuses, &s), STATUS_SUCCESS);
    assert_status(s.twice, STATUS_INVALID_PARAMETER);
    assert_status(s.remove_unknown, STATUS_PROCEDURE_NOT_FOUND);
    assert_status(s.remove_thread_unknown, STATUS_PROCEDURE_NOT_FOUND);
    assert_status(s.ex2, STATUS_SUCCESS);
    assert_status(s.ex2_bad, STATUS_INVALID_PARAMETER);
    assert_status(s.ex2_remove, STATUS_SUCCESS);
    assert_status(s.image_ex_bad, STATUS_INVALID_PARAMETER);
    assert_status(s.thread_ex_bad, STATUS_INVALID_PARAMETER);
    assert_status(s.null_routine, STATUS_INVALID_PARAMETER);
    /* The test's own thread runs no driver's code. */
    assert_status(PsSetCreateThreadNotifyRoutine(thread_routine), STATUS_ACCESS_DENIED);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

/* A driver that unloads with its routines registered: V31 names it, and the
 * routines are gone (a later process calls none). */
static void unload_with_routines_registered_is_v31(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter a;
    load_filter(&w, &a);
    struct regs r = {0};
    assert_status(fltsim_driver_call(a.driver, register_all, &r), STATUS_SUCCESS);
    assert_status(fltsim_driver_unload(a.driver, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V31"), 1);
    struct fltsim_report rep;
    assert_status(fltsim_system_report_get(w.sys, 0, &rep), STATUS_SUCCESS);
    assert_non_null(strstr(rep.message, "PsSetCreateProcessNotifyRoutineEx"));
    seen[0] = '\0';
    ULONG pid = 0;
    struct fltsim_ps_params params = {.image = "notepad.exe"};
    assert_status(fltsim_ps_create(w.sys, &params, &pid), STATUS_SUCCESS);
    assert_status(fltsim_ps_exit(w.sys, pid, STATUS_SUCCESS), STATUS_SUCCESS);
    assert_string_equal(seen, "");
    world_destroy(&w);
}

static int ran_main;

static int small_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    ran_main++;
    return 7;
}

/* A user program's start is a process creation and its end an exit; a
 * denial makes the start fail with the status, and main never runs. */
static void programs_are_processes(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter a;
    load_filter(&w, &a);
    struct regs r = {0};
    assert_status(fltsim_driver_call(a.driver, register_all, &r), STATUS_SUCCESS);
    ran_main = 0;
    struct fltsim_process_params params = {.name = "tool.exe", .main = small_main};
    fltsim_process *proc = NULL;
    assert_status(fltsim_process_start(w.sys, &params, &proc), STATUS_SUCCESS);
    assert_status(fltsim_process_wait(proc, FLTSIM_PROCESS_EXIT, NULL, 10000), STATUS_SUCCESS);
    assert_int_equal(ran_main, 1);
    assert_string_equal(seen, "image ex+ proc+ thread+ thread- ex- proc- ");
    assert_string_equal(seen_image_short, "tool.exe");
    assert_int_equal(seen_image_len,
                     sizeof(L"\\Device\\HarddiskVolume1\\Windows\\tool.exe") - sizeof(WCHAR));
    fltsim_process_free(proc);
    seen[0] = '\0';
    deny_with = STATUS_ACCESS_DENIED;
    proc = NULL;
    assert_status(fltsim_process_start(w.sys, &params, &proc), STATUS_ACCESS_DENIED);
    assert_null(proc);
    assert_int_equal(ran_main, 1);
    assert_string_equal(seen, "image ex+ thread- ex- proc- ");
    r.remove = true;
    assert_status(fltsim_driver_call(a.driver, register_all, &r), STATUS_SUCCESS);
    world_destroy(&w);
}

static DWORD WINAPI worker_thread(LPVOID arg)
{
    (void)arg;
    return 0;
}

static int threads_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    HANDLE t = CreateThread(NULL, 0, worker_thread, NULL, 0, NULL);
    if (t == NULL)
        return 1;
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
    return 0;
}

/* A program's CreateThread is a thread creation, and that thread's end an
 * exit, each notified once (the first thread's with its process's). */
static void program_threads_are_notified(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter a;
    load_filter(&w, &a);
    struct regs r = {0};
    assert_status(fltsim_driver_call(a.driver, register_all, &r), STATUS_SUCCESS);
    struct fltsim_process_params params = {.name = "threads.exe", .main = threads_main};
    fltsim_process *proc = NULL;
    assert_status(fltsim_process_start(w.sys, &params, &proc), STATUS_SUCCESS);
    assert_status(fltsim_process_wait(proc, FLTSIM_PROCESS_EXIT, NULL, 10000), STATUS_SUCCESS);
    ULONG code = 1;
    assert_true(fltsim_process_exited(proc, &code));
    assert_int_equal(code, 0);
    assert_string_equal(seen, "image ex+ proc+ thread+ thread+ thread- thread- ex- proc- ");
    fltsim_process_free(proc);
    r.remove = true;
    assert_status(fltsim_driver_call(a.driver, register_all, &r), STATUS_SUCCESS);
    world_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routines_see_creation_and_exit),
        cmocka_unit_test(ex_routine_denies_a_creation),
        cmocka_unit_test(registration_statuses_are_windows_ones),
        cmocka_unit_test(unload_with_routines_registered_is_v31),
        cmocka_unit_test(programs_are_processes),
        cmocka_unit_test(program_threads_are_notified),
    };
    return FLTSIM_RUN_SUITE("ps_notify", tests);
}
