/*
 * Systematic fault exploration (fltsim/explore.h) and the run options it
 * builds on (extra fault rules, the fault point ledger): the correct
 * AntiVirus example survives every fault its scenario reaches, its teaching
 * bug (tests/CMakeLists.txt builds scenarios/filters/antivirus.c with
 * ANTIVIRUS_TEACHING_BUG) is found at the deferred-queue points, as a leak
 * (V23) or a hang. Exploration always uses the deterministic executor; the
 * run-option cases run under both.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fltsim/explore.h>

#include "fltsim_test.h"

#define CORRECT FLTSIM_TEST_SCENARIOS_DIR "/antivirus.yaml"
#define BUG_LEAK FLTSIM_TEST_EXPLORE_DIR "/antivirus_bug1.yaml"
#define BUG_HANG FLTSIM_TEST_EXPLORE_DIR "/antivirus_bug2.yaml"
#define SPIN FLTSIM_TEST_EXPLORE_DIR "/spin.yaml"

static struct fltsim_scenario *load(const char *path)
{
    struct fltsim_scenario *sc = NULL;
    char error[512];
    NTSTATUS status = fltsim_scenario_load(path, &sc, error, sizeof(error));
    if (!NT_SUCCESS(status))
        fprintf(stderr, "%s\n", error);
    assert_status(status, STATUS_SUCCESS);
    return sc;
}

static void quiet_debug(void *ctx, const char *text)
{
    (void)ctx;
    (void)text;
}

/* Runs path under the current executor with the given extra faults. */
static NTSTATUS run_with(const char *path, const struct fltsim_fault *faults, size_t count,
                         struct fltsim_fault_point *points, size_t cap,
                         struct fltsim_scenario_result *result)
{
    struct fltsim_scenario *sc = load(path);
    FILE *log = fopen("/dev/null", "w");
    assert_non_null(log);
    struct fltsim_scenario_run_options o = {
        .override_executor = true,
        .executor = test_executor,
        .skip_golden = true,
        .log = log,
        .extra_faults = faults,
        .extra_fault_count = count,
        .fault_points = points,
        .fault_points_cap = cap,
    };
    fltsim_debug_set_sink(quiet_debug, NULL);
    NTSTATUS status = fltsim_scenario_run(sc, &o, result);
    fltsim_debug_set_sink(NULL, NULL);
    fclose(log);
    fltsim_scenario_free(sc);
    return status;
}

/* ---- run options (both executors) ---- */

/* The ledger: the buggy AntiVirus passes without faults; its run reaches
 * deferred-queue points (one per scanned open), recorded in the buffer. */
static void run_records_fault_points(void **state)
{
    (void)state;
    struct fltsim_fault_point points[64];
    struct fltsim_scenario_result r;
    assert_status(run_with(BUG_LEAK, NULL, 0, points, 64, &r), STATUS_SUCCESS);
    assert_true(r.fault_points > 0 && r.fault_points <= 64);
    assert_int_equal(r.faults_injected, 0);
    assert_int_equal(r.reports_unexpected, 0);
    ULONG64 queues = 0;
    for (ULONG64 i = 0; i < r.fault_points; i++) {
        if (points[i].kind == FLTSIM_FAULT_DEFERRED_QUEUE) {
            assert_int_equal(points[i].kind_index, queues);
            queues++;
        }
        assert_false(points[i].injected);
    }
    assert_int_equal(queues, 2); /* clean.txt and eicar.com; the top-level one scans inline */
}

/* An extra rule failing the first FltQueueDeferredIoWorkItem: the buggy
 * filter leaks the item (V23, not expected by the scenario); the correct one
 * falls back to scanning inline and every expectation holds. */
static void extra_fault_makes_the_bug_leak(void **state)
{
    (void)state;
    struct fltsim_fault f = {.kind = FLTSIM_FAULT_DEFERRED_QUEUE, .nth = 1};
    struct fltsim_scenario_result r;
    /* The leaked item stays allocated after the system is gone (the model
     * reports it but cannot know it is safe to free), which LeakSanitizer
     * would flag at exit: the buggy run happens in a child that _exits,
     * under the deterministic executor. */
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Deterministic in the child whatever the suite's executor: a child
         * of a multi-threaded process must not start threads (TSan refuses). */
        test_executor = FLTSIM_EXECUTOR_DETERMINISTIC;
        NTSTATUS st = run_with(BUG_LEAK, &f, 1, NULL, 0, &r);
        _exit(st == STATUS_UNSUCCESSFUL && r.faults_injected == 1 && r.reports_unexpected == 1 &&
                      strcmp(r.first_unexpected_report, "V23") == 0 && r.statuses_unexplained == 0
                  ? 0
                  : 1);
    }
    int wstatus = 0;
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    assert_true(WIFEXITED(wstatus));
    assert_int_equal(WEXITSTATUS(wstatus), 0);

    assert_status(run_with(CORRECT, &f, 1, NULL, 0, &r), STATUS_SUCCESS);
    assert_int_equal(r.faults_injected, 1);
    assert_int_equal(r.reports_unexpected, 0);
}

/* An extra fs fault on the first create: the open fails with the injected
 * status (explained); the close of its handle that never was is not judged. */
static void injected_status_is_explained(void **state)
{
    (void)state;
    struct fltsim_fault f = {.kind = FLTSIM_FAULT_FS, .nth = 1};
    struct fltsim_scenario_result r;
    assert_status(run_with(CORRECT, &f, 1, NULL, 0, &r), STATUS_UNSUCCESSFUL);
    assert_int_equal(r.faults_injected, 1);
    assert_true(r.expectations_failed > 0);
    assert_int_equal(r.statuses_unexplained, 0);
    assert_int_equal(r.reports_unexpected, 0);
}

static const char missing_text[] = "scenario: opens a file that is not there\n"
                                   "volumes: [{drive: C}]\n"
                                   "steps:\n"
                                   "  - op: open\n"
                                   "    handle: h\n"
                                   "    path: C:\\missing.txt\n";

/* A failure no fault explains is counted, with the step and both statuses;
 * the same failure is explained when a rule of the run injects that status. */
static void unexplained_status_is_counted(void **state)
{
    (void)state;
    char path[] = "/tmp/fltsim-explore-XXXXXX";
    test_write_temp(path, missing_text);
    struct fltsim_scenario_result r;
    assert_status(run_with(path, NULL, 0, NULL, 0, &r), STATUS_UNSUCCESSFUL);
    assert_int_equal(r.statuses_unexplained, 1);
    assert_string_equal(r.first_unexplained, "step 1 (line 4): expected STATUS_SUCCESS, actual "
                                             "STATUS_OBJECT_NAME_NOT_FOUND");
    struct fltsim_fault f = {
        .kind = FLTSIM_FAULT_FS, .nth = 1000, .status = STATUS_OBJECT_NAME_NOT_FOUND};
    assert_status(run_with(path, &f, 1, NULL, 0, &r), STATUS_UNSUCCESSFUL);
    unlink(path);
    assert_int_equal(r.statuses_unexplained, 0);
}

/* An invalid extra rule makes the run an error naming it. */
static void invalid_extra_fault_is_an_error(void **state)
{
    (void)state;
    struct fltsim_fault f = {.kind = FLTSIM_FAULT_FS, .nth = 1, .tag = 'gaT1'};
    struct fltsim_scenario_result r;
    NTSTATUS status = run_with(CORRECT, &f, 1, NULL, 0, &r);
    assert_false(NT_SUCCESS(status));
    assert_true(r.error);
}

/* ---- exploration (deterministic executor, child processes) ---- */

struct collected {
    size_t runs;
    struct fltsim_explore_run run[64];
};

static void collect(void *ctx, const struct fltsim_explore_run *run)
{
    struct collected *c = ctx;
    if (c->runs < 64)
        c->run[c->runs] = *run;
    c->runs++;
}

static NTSTATUS explore_within(const char *path, ULONG timeout_ms, struct collected *c,
                               struct fltsim_explore_summary *summary)
{
    struct fltsim_scenario *sc = load(path);
    struct fltsim_explore_options o = {.timeout_ms = timeout_ms, .scenario_arg = "S.yaml"};
    memset(c, 0, sizeof(*c));
    NTSTATUS status = fltsim_explore(sc, &o, collect, c, summary);
    fltsim_scenario_free(sc);
    return status;
}

static NTSTATUS explore(const char *path, struct collected *c,
                        struct fltsim_explore_summary *summary)
{
    return explore_within(path, 20000, c, summary);
}

/* The correct AntiVirus: every point explored, no finding. */
static void explore_correct_antivirus_finds_nothing(void **state)
{
    (void)state;
    struct collected c;
    struct fltsim_explore_summary s;
    assert_status(explore(CORRECT, &c, &s), STATUS_SUCCESS);
    assert_true(s.points >= 10);
    assert_int_equal(s.runs, s.points);
    assert_int_equal(c.runs, s.points);
    assert_int_equal(s.findings, 0);
    for (size_t i = 0; i < c.runs && i < 64; i++) {
        assert_int_equal(c.run[i].index, i);
        assert_int_equal(c.run[i].outcome, FLTSIM_EXPLORE_PASSED);
        assert_int_equal(c.run[i].fault.kind, c.run[i].point.kind);
        assert_int_equal(c.run[i].fault.nth, c.run[i].point.kind_index + 1);
        assert_true(c.run[i].injected);
    }
}

/* The leaking variant: exactly the deferred-queue points are findings, each
 * a V23 report, with the command that reproduces it. */
static void explore_finds_the_leak(void **state)
{
    (void)state;
    struct collected c;
    struct fltsim_explore_summary s;
    assert_status(explore(BUG_LEAK, &c, &s), STATUS_SUCCESS);
    assert_int_equal(s.findings, 2);
    size_t found = 0;
    for (size_t i = 0; i < c.runs && i < 64; i++) {
        const struct fltsim_explore_run *r = &c.run[i];
        if (r->point.kind != FLTSIM_FAULT_DEFERRED_QUEUE) {
            assert_int_equal(r->outcome, FLTSIM_EXPLORE_PASSED);
            continue;
        }
        found++;
        assert_int_equal(r->outcome, FLTSIM_EXPLORE_REPORT);
        assert_non_null(strstr(r->detail, "V23"));
        char want[128];
        snprintf(want, sizeof(want),
                 "fltsim run --executor deterministic --inject-fault deferred_queue:%llu S.yaml",
                 (unsigned long long)r->fault.nth);
        assert_string_equal(r->reproduce, want);
    }
    assert_int_equal(found, 2);
}

/* The variant that also returns MORE_PROCESSING_REQUIRED: the create is
 * never completed; the deterministic executor finds the deadlock in the
 * child, which the explorer reports as a hang with its description. */
static void explore_finds_the_hang(void **state)
{
    (void)state;
    struct collected c;
    struct fltsim_explore_summary s;
    assert_status(explore(BUG_HANG, &c, &s), STATUS_SUCCESS);
    assert_int_equal(s.findings, 2);
    for (size_t i = 0; i < c.runs && i < 64; i++) {
        const struct fltsim_explore_run *r = &c.run[i];
        if (r->point.kind != FLTSIM_FAULT_DEFERRED_QUEUE) {
            assert_int_equal(r->outcome, FLTSIM_EXPLORE_PASSED);
            continue;
        }
        assert_int_equal(r->outcome, FLTSIM_EXPLORE_HANG);
        assert_non_null(strstr(r->detail, "deadlock"));
    }
}

/* A filter that spins forever when its DriverEntry allocation fails: the
 * child is killed at the timeout and the run is a hang; the exploration goes
 * on (the later points, if any, are still run). */
static void explore_kills_a_spinning_run(void **state)
{
    (void)state;
    struct collected c;
    struct fltsim_explore_summary s;
    assert_status(explore_within(SPIN, 300, &c, &s), STATUS_SUCCESS);
    assert_true(s.points >= 2); /* the DriverEntry allocation, the create and close */
    assert_int_equal(c.run[0].point.kind, FLTSIM_FAULT_ALLOC);
    assert_int_equal(c.run[0].point.detail, 'nipS');
    assert_int_equal(c.run[0].outcome, FLTSIM_EXPLORE_HANG);
    assert_non_null(strstr(c.run[0].detail, "timeout"));
    assert_false(c.run[0].injected); /* no result came back */
    assert_int_equal(s.findings, 1);
    assert_int_equal(s.runs, s.points);
}

/* A scenario that fails without faults is not explored. */
static void explore_refuses_a_failing_baseline(void **state)
{
    (void)state;
    char path[] = "/tmp/fltsim-explore-XXXXXX";
    test_write_temp(path, missing_text);
    struct collected c;
    struct fltsim_explore_summary s;
    NTSTATUS status = explore(path, &c, &s);
    unlink(path);
    assert_status(status, STATUS_UNSUCCESSFUL);
    assert_int_equal(s.baseline, FLTSIM_EXPLORE_STATUS);
    assert_non_null(strstr(s.baseline_detail, "STATUS_OBJECT_NAME_NOT_FOUND"));
    assert_int_equal(c.runs, 0);
}

static void explore_rejects_null(void **state)
{
    (void)state;
    struct fltsim_explore_summary s;
    assert_status(fltsim_explore(NULL, NULL, NULL, NULL, &s), STATUS_INVALID_PARAMETER);
    assert_string_equal(fltsim_explore_outcome_name(FLTSIM_EXPLORE_HANG), "hang");
    assert_string_equal(fltsim_explore_outcome_name(FLTSIM_EXPLORE_REPORT), "verifier report");
}

int main(void)
{
    const struct CMUnitTest both[] = {
        cmocka_unit_test(run_records_fault_points),
        cmocka_unit_test(extra_fault_makes_the_bug_leak),
        cmocka_unit_test(injected_status_is_explained),
        cmocka_unit_test(unexplained_status_is_counted),
        cmocka_unit_test(invalid_extra_fault_is_an_error),
    };
    const struct CMUnitTest deterministic[] = {
        cmocka_unit_test(explore_correct_antivirus_finds_nothing),
        cmocka_unit_test(explore_finds_the_leak),
        cmocka_unit_test(explore_finds_the_hang),
        cmocka_unit_test(explore_kills_a_spinning_run),
        cmocka_unit_test(explore_refuses_a_failing_baseline),
        cmocka_unit_test(explore_rejects_null),
    };
    int failed = FLTSIM_RUN_SUITE("explore", both);
    failed += cmocka_run_group_tests_name("explore (child processes)", deterministic, NULL, NULL);
    return failed;
}
