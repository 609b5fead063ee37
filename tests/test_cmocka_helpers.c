/*
 * <fltsim/cmocka.h> (issue 21 item 6): the helpers pass when they should
 * (under both executors), and when they fail they print what they promise.
 * The failing cases run in a child (this program again, with --fail CASE,
 * spawned), whose output and exit status the parent checks: the exact
 * NTSTATUS message, hex for unknown values, every verifier report.
 */
#include <fltsim/cmocka.h>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fltsim_test.h"

extern char **environ;

/* ---- two small filters ---- */

/* Denies writes to *.LOG files, as README's LogGuard. */
static PFLT_FILTER deny_filter;
static UNICODE_STRING log_expression = RTL_CONSTANT_STRING(L"*.LOG");

static FLT_PREOP_CALLBACK_STATUS deny_pre_write(PFLT_CALLBACK_DATA data,
                                                PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)context;
    if (FsRtlIsNameInExpression(&log_expression, &objects->FileObject->FileName, TRUE, NULL)) {
        data->IoStatus.Status = STATUS_ACCESS_DENIED;
        data->IoStatus.Information = 0;
        return FLT_PREOP_COMPLETE;
    }
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

/* Breaks V1: its pre-write returns a status outside 0-6. */
static FLT_PREOP_CALLBACK_STATUS bad_pre_write(PFLT_CALLBACK_DATA data,
                                               PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)data;
    (void)objects;
    (void)context;
    return (FLT_PREOP_CALLBACK_STATUS)42;
}

static PFLT_FILTER *unload_target;

static NTSTATUS filter_unload(FLT_FILTER_UNLOAD_FLAGS flags)
{
    (void)flags;
    FltUnregisterFilter(*unload_target);
    return STATUS_SUCCESS;
}

static NTSTATUS start(PDRIVER_OBJECT driver, PFLT_PRE_OPERATION_CALLBACK pre, PFLT_FILTER *out)
{
    static FLT_OPERATION_REGISTRATION ops[2];
    static FLT_REGISTRATION registration;
    FLT_OPERATION_REGISTRATION write = {IRP_MJ_WRITE, 0, NULL, NULL};
    FLT_OPERATION_REGISTRATION end = {IRP_MJ_OPERATION_END};
    write.PreOperation = pre;
    ops[0] = write;
    ops[1] = end;
    registration = (FLT_REGISTRATION){.Size = sizeof(FLT_REGISTRATION),
                                      .Version = FLT_REGISTRATION_VERSION,
                                      .OperationRegistration = ops,
                                      .FilterUnloadCallback = filter_unload};
    unload_target = out;
    NTSTATUS status = FltRegisterFilter(driver, &registration, out);
    if (NT_SUCCESS(status)) {
        status = FltStartFiltering(*out);
        if (!NT_SUCCESS(status))
            FltUnregisterFilter(*out);
    }
    return status;
}

static NTSTATUS DenyEntry(PDRIVER_OBJECT driver, PUNICODE_STRING path)
{
    (void)path;
    return start(driver, deny_pre_write, &deny_filter);
}

static PFLT_FILTER bad_filter;

static NTSTATUS BadEntry(PDRIVER_OBJECT driver, PUNICODE_STRING path)
{
    (void)path;
    return start(driver, bad_pre_write, &bad_filter);
}

/* ---- the helpers pass ---- */

static void ntstatus_assertions_pass(void **state)
{
    (void)state;
    assert_ntstatus_equal(STATUS_SUCCESS, STATUS_SUCCESS);
    assert_ntstatus_equal(STATUS_ACCESS_DENIED, 0xC0000022);
    assert_ntstatus_equal((ULONG)0xC0000022, STATUS_ACCESS_DENIED); /* 32-bit compare */
    assert_ntstatus_equal(0x1234ABCD, 0x1234ABCD);
    assert_nt_success(STATUS_SUCCESS);
    assert_nt_success(STATUS_PENDING); /* 0x103: success */
    assert_nt_success(STATUS_REPARSE); /* 0x104: success */
    char buf[96];
    assert_string_equal(fltsim_cmocka_status_text(STATUS_ACCESS_DENIED, true, buf, sizeof(buf)),
                        "STATUS_ACCESS_DENIED (0xC0000022)");
    assert_string_equal(fltsim_cmocka_status_text(STATUS_ACCESS_DENIED, false, buf, sizeof(buf)),
                        "STATUS_ACCESS_DENIED");
    assert_string_equal(fltsim_cmocka_status_text((NTSTATUS)0xE0001234, true, buf, sizeof(buf)),
                        "0xE0001234");
}

/* The fixture from CMocka's setup (the system options as the pre-state),
 * files added in one line, a filter loaded in one line, acting through it. */
static void world_fixture_works(void **state)
{
    struct fltsim_test_world *w = *state;
    assert_non_null(w->sys);
    assert_non_null(w->volume);
    fltsim_world_add_file(w, L"\\app.log", "log");
    fltsim_world_add_file(w, L"\\docs\\notes.txt", "hello");
    fltsim_world_add_directory(w, L"\\empty");
    fltsim_driver *driver = fltsim_world_load(w, L"Deny", L"370100", DenyEntry);

    HANDLE log, notes;
    assert_nt_success(fltsim_io_open(w->sys, L"C:\\app.log", GENERIC_WRITE, &log));
    assert_ntstatus_equal(fltsim_io_write(w->sys, log, "x", 1, NULL, 0, NULL),
                          STATUS_ACCESS_DENIED);
    assert_nt_success(
        fltsim_io_open(w->sys, L"C:\\docs\\notes.txt", GENERIC_READ | GENERIC_WRITE, &notes));
    char buf[16] = "";
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    assert_nt_success(fltsim_io_read(w->sys, notes, buf, sizeof(buf), &zero, 0, &iosb));
    assert_int_equal(iosb.Information, 5);
    assert_memory_equal(buf, "hello", 5);
    assert_nt_success(fltsim_io_write(w->sys, notes, "x", 1, NULL, 0, NULL));
    struct fltsim_memfs_stat st;
    assert_nt_success(fltsim_memfs_stat(w->fs, L"\\empty", &st));
    assert_nt_success(fltsim_io_close(w->sys, log));
    assert_nt_success(fltsim_io_close(w->sys, notes));
    assert_no_reports(w->sys);
    /* The volume is C: on \Device\HarddiskVolume1, over the world's memfs. */
    assert_int_equal(fltsim_volume_drive_letter(w->volume), L'C');
    assert_ptr_equal(fltsim_volume_fs(w->volume), w->fs);
    assert_ptr_equal(fltsim_volume_find(w->sys, L"\\Device\\HarddiskVolume1"), w->volume);
    assert_nt_success(fltsim_driver_unload(driver, 0));
}

/* The world made and destroyed by hand, at another drive letter, a filter
 * left loaded for fltsim_world_destroy to unload. */
static void world_by_hand(void **state)
{
    (void)state;
    struct fltsim_system_options options = test_options(0);
    struct fltsim_test_world w;
    fltsim_world_with_memfs_ex(&w, &options, L'D');
    fltsim_world_add_file(&w, L"\\a.log", "");
    (void)fltsim_world_load(&w, L"Deny", L"370100", DenyEntry);
    HANDLE h;
    assert_nt_success(fltsim_io_open(w.sys, L"D:\\a.log", GENERIC_WRITE, &h));
    assert_ntstatus_equal(fltsim_io_write(w.sys, h, "x", 1, NULL, 0, NULL), STATUS_ACCESS_DENIED);
    assert_ntstatus_equal(fltsim_io_open(w.sys, L"C:\\a.log", GENERIC_READ, &h),
                          STATUS_OBJECT_PATH_NOT_FOUND);
    assert_no_reports(w.sys);
    fltsim_world_destroy(&w);
    assert_null(w.sys);
}

/* ---- the helpers fail, saying so (in a child) ---- */

static struct fltsim_system_options child_options;

static void fail_ntstatus(void **state)
{
    struct fltsim_test_world *w = *state;
    fltsim_world_add_file(w, L"\\app.log", "");
    fltsim_world_load(w, L"Deny", L"370100", DenyEntry);
    HANDLE log;
    assert_nt_success(fltsim_io_open(w->sys, L"C:\\app.log", GENERIC_WRITE, &log));
    assert_ntstatus_equal(fltsim_io_write(w->sys, log, "x", 1, NULL, 0, NULL), STATUS_SUCCESS);
}

static void fail_unknown(void **state)
{
    (void)state;
    assert_ntstatus_equal(0xE0001234, 0xE0005678);
}

static void fail_success(void **state)
{
    struct fltsim_test_world *w = *state;
    HANDLE h;
    assert_nt_success(fltsim_io_open(w->sys, L"C:\\missing.txt", GENERIC_READ, &h));
}

static void fail_reports(void **state)
{
    struct fltsim_test_world *w = *state;
    fltsim_world_add_file(w, L"\\a.txt", "");
    fltsim_world_load(w, L"Bad", L"370200", BadEntry);
    HANDLE h;
    assert_nt_success(fltsim_io_open(w->sys, L"C:\\a.txt", GENERIC_WRITE, &h));
    (void)fltsim_io_write(w->sys, h, "x", 1, NULL, 0, NULL);
    (void)fltsim_io_write(w->sys, h, "y", 1, NULL, 0, NULL);
    assert_no_reports(w->sys);
}

static int run_child(const char *which)
{
    static const struct {
        const char *name;
        CMUnitTestFunction fn;
    } cases[] = {{"ntstatus", fail_ntstatus},
                 {"unknown", fail_unknown},
                 {"success", fail_success},
                 {"reports", fail_reports}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (strcmp(cases[i].name, which) != 0)
            continue;
        const struct CMUnitTest tests[] = {{cases[i].name, cases[i].fn, fltsim_cmocka_setup_memfs,
                                            fltsim_cmocka_teardown, &child_options}};
        return cmocka_run_group_tests_name("failing", tests, NULL, NULL);
    }
    fprintf(stderr, "test_cmocka_helpers: no failing case '%s'\n", which);
    return 100;
}

/* Runs this program with --fail which (and the current executor) and
 * returns its output; *exit_status is its exit status. The caller frees. */
static char *spawn_child(const char *which, int *exit_status)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    posix_spawn_file_actions_t actions;
    assert_int_equal(posix_spawn_file_actions_init(&actions), 0);
    assert_int_equal(posix_spawn_file_actions_adddup2(&actions, fds[1], 1), 0);
    assert_int_equal(posix_spawn_file_actions_adddup2(&actions, fds[1], 2), 0);
    assert_int_equal(posix_spawn_file_actions_addclose(&actions, fds[0]), 0);
    char name[] = "test_cmocka_helpers", fail[] = "--fail", concurrent[] = "concurrent",
         deterministic[] = "deterministic";
    char *argv[] = {name, fail, (char *)which,
                    test_executor == FLTSIM_EXECUTOR_CONCURRENT ? concurrent : deterministic, NULL};
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, "/proc/self/exe", &actions, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    size_t size = 0, cap = 4096;
    char *out = malloc(cap);
    assert_non_null(out);
    for (;;) {
        if (cap - size < 1024) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        ssize_t n = read(fds[0], out + size, cap - size - 1);
        if (n <= 0)
            break;
        size += (size_t)n;
    }
    out[size] = '\0';
    close(fds[0]);
    int wstatus;
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    assert_true(WIFEXITED(wstatus));
    *exit_status = WEXITSTATUS(wstatus);
    return out;
}

/* The child failed (exit status 1: one failed test) and printed each line. */
static void expect_child(const char *which, const char *const *lines, size_t count)
{
    int exit_status;
    char *out = spawn_child(which, &exit_status);
    bool ok = exit_status == 1 && strstr(out, "[  FAILED  ] 1 test(s)") != NULL;
    for (size_t i = 0; i < count; i++)
        ok = ok && strstr(out, lines[i]) != NULL;
    if (!ok)
        print_error("--fail %s: exit status %d, output:\n%s\n", which, exit_status, out);
    free(out);
    assert_true(ok);
}

static void ntstatus_failure_names_both(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "fltsim_io_write(w->sys, log, \"x\", 1, NULL, 0, NULL): expected STATUS_SUCCESS, got "
        "STATUS_ACCESS_DENIED (0xC0000022)\n"};
    expect_child("ntstatus", lines, 1);
}

static void unknown_status_failure_prints_hex(void **state)
{
    (void)state;
    static const char *const lines[] = {"0xE0001234: expected 0xE0005678, got 0xE0001234\n"};
    expect_child("unknown", lines, 1);
}

static void success_failure_names_the_status(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "fltsim_io_open(w->sys, L\"C:\\\\missing.txt\", GENERIC_READ, &h): expected success, got "
        "STATUS_OBJECT_NAME_NOT_FOUND (0xC0000034)\n"};
    expect_child("success", lines, 1);
}

static void reports_failure_prints_every_report(void **state)
{
    (void)state;
    static const char *const lines[] = {"w->sys: 2 verifier reports:\n  V1 (SPEC ",
                                        "in filter 'Bad' (instance 'Bad Instance', altitude "
                                        "370200), IRP_MJ_WRITE"};
    expect_child("reports", lines, 2);
    /* Both reports are printed: the second one follows the first. */
    int exit_status;
    char *out = spawn_child("reports", &exit_status);
    char *first = strstr(out, "\n  V1 (SPEC ");
    assert_non_null(first);
    assert_non_null(strstr(first + 1, "\n  V1 (SPEC "));
    free(out);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--fail") == 0) {
        test_executor = strcmp(argv[3], "concurrent") == 0 ? FLTSIM_EXECUTOR_CONCURRENT
                                                           : FLTSIM_EXECUTOR_DETERMINISTIC;
        child_options = test_options(0);
        return run_child(argv[2]);
    }
    static struct fltsim_system_options options;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ntstatus_assertions_pass),
        cmocka_unit_test_prestate_setup_teardown(world_fixture_works, fltsim_cmocka_setup_memfs,
                                                 fltsim_cmocka_teardown, &options),
        cmocka_unit_test(world_by_hand),
        cmocka_unit_test(ntstatus_failure_names_both),
        cmocka_unit_test(unknown_status_failure_prints_hex),
        cmocka_unit_test(success_failure_names_the_status),
        cmocka_unit_test(reports_failure_prints_every_report),
    };
    /* The pre-state follows the executor of each pass. */
    options = test_options(0);
    int failed = _cmocka_run_group_tests("cmocka_helpers (concurrent executor)", tests,
                                         sizeof(tests) / sizeof(tests[0]), NULL, NULL);
    test_executor = FLTSIM_EXECUTOR_DETERMINISTIC;
    options = test_options(0);
    failed += _cmocka_run_group_tests("cmocka_helpers (deterministic executor)", tests,
                                      sizeof(tests) / sizeof(tests[0]), NULL, NULL);
    return failed;
}
