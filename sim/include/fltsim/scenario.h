/*
 * Scenario files (DESIGN decision 8): YAML documents that name volumes and
 * their files, filters with altitudes and instance tables, a fake registry,
 * requestor threads, the steps to run and what to expect. The schema is in
 * scenarios/README.md. Loading validates everything (an unknown key is an
 * error); running builds a fresh fltsim system, runs the steps and checks
 * every expectation, including the golden trace.
 */
#ifndef FLTSIM_SCENARIO_H
#define FLTSIM_SCENARIO_H

#include <stdio.h>

#include <fltsim/trace.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fltsim_scenario;

/* Reads and validates the scenario file at path. On failure returns
 * STATUS_INVALID_PARAMETER (or STATUS_OBJECT_NAME_NOT_FOUND when the file
 * cannot be opened, STATUS_INSUFFICIENT_RESOURCES) and writes into error
 * (error_size bytes, always terminated; NULL or 0 for none) one line
 * "FILE:LINE:COLUMN: what is wrong; what was expected", *out being NULL.
 * FILE is path as given. Shared objects named by the scenario are checked
 * before any of their code runs: every routine an object needs must be
 * provided by this program or a library the object names (libc's
 * wide-character routines never count), and it must export DriverEntry
 * (and FltSimCompletePended where a complete_pended step needs it); then it
 * is opened once (dlopen RTLD_NOW | RTLD_LOCAL) and closed. A shared object
 * that exists but is refused is not the file's fault: the status says why
 * (STATUS_DRIVER_ENTRYPOINT_NOT_FOUND: routines it needs are missing, each
 * named on a line of its own after the first, "  NAME (LIBRARY VERSION)";
 * STATUS_PROCEDURE_NOT_FOUND: no DriverEntry; STATUS_INVALID_IMAGE_FORMAT:
 * no shared object for this machine; STATUS_ACCESS_DENIED: unreadable).
 * Any thread; the scenario is immutable afterwards, so
 * several threads may run it, each run building its own system.
 * fltsim_scenario_free frees it (NULL is ignored). */
NTSTATUS fltsim_scenario_load(const char *path, struct fltsim_scenario **out, char *error,
                              size_t error_size);
void fltsim_scenario_free(struct fltsim_scenario *scenario);

/* The scenario's title (its `scenario:` key). */
const char *fltsim_scenario_title(const struct fltsim_scenario *scenario);
/* The path of the scenario's golden trace (its `golden:` key, resolved against
 * the scenario's directory), or NULL when it names none. */
const char *fltsim_scenario_golden(const struct fltsim_scenario *scenario);

enum fltsim_verifier_mode {
    FLTSIM_VERIFIER_DEFAULT = 0, /* what the scenario says (strict unless set) */
    FLTSIM_VERIFIER_STRICT = 1,  /* a verifier report fails the run */
    FLTSIM_VERIFIER_REPORT = 2   /* reports are printed, the run does not fail */
};

struct fltsim_scenario_run_options {
    /* Override the scenario's executor and seed. */
    bool override_executor;
    enum fltsim_executor_kind executor;
    bool override_seed;
    ULONG64 seed;
    enum fltsim_verifier_mode verifier;
    /* Rules disabled for this run on top of the scenario's `verifier_disable`
     * (fltsim_system_verifier_disable); an invalid id makes the run an error. */
    const char *const *verifier_disable;
    size_t verifier_disable_count;
    /* Where the user's trace goes (NULL: none). The runner adds a note per
     * step and serializes the events and notes it forwards; it neither
     * finishes nor frees the sinks. */
    struct fltsim_trace_tee *trace;
    /* Failed expectations and errors, one line each naming the step (and the
     * scenario file line); NULL = stderr. */
    FILE *log;
    /* Where the fltmc views go: each `fltmc:` step's, and those of
     * fltmc_at_end; NULL = nowhere (fltsim explore's runs; the step's note
     * is still in the trace). Each view is announced by a line "FILE:LINE:
     * step N: fltmc VIEW" (or "FILE: end of run: fltmc VIEW"). */
    FILE *output;
    /* Views (1u << enum fltsim_fltmc_view, <fltsim/model.h>) printed once
     * the steps are done, before the end-of-run checks and the shutdown;
     * 0 = none; another bit makes the run an error. */
    unsigned fltmc_at_end;
    /* Rewrite the golden trace instead of comparing it. */
    bool update_golden;
    /* Skip the golden-trace comparison (e.g. under the concurrent executor,
     * whose interleavings vary). */
    bool skip_golden;
    /* Fault rules added to the system after the scenario's own `faults:`
     * (fltsim_fault_add; fs rules act on every volume through faultfs). An
     * invalid rule makes the run an error. */
    const struct fltsim_fault *extra_faults;
    size_t extra_fault_count;
    /* Where the fault points the run reached are copied before the system
     * goes (the first fault_points_cap of them; the number reached is in the
     * result). NULL: not recorded. */
    struct fltsim_fault_point *fault_points;
    size_t fault_points_cap;
};

struct fltsim_scenario_result {
    ULONG steps_run;
    ULONG expectations_checked;
    ULONG expectations_failed;
    ULONG reports;         /* verifier reports, those raised at shutdown included */
    ULONG reports_suppressed; /* reports of disabled rules (until shutdown) */
    bool golden_checked;   /* compared, or written (update_golden) */
    bool golden_mismatch;  /* the first difference is in the log */
    bool error;            /* the run could not be carried out (log says why) */
    /* For fault exploration (fltsim/explore.h). */
    ULONG64 fault_points;     /* fault points reached */
    ULONG64 faults_injected;  /* of those, failed by a rule */
    ULONG reports_unexpected; /* reports not among the scenario's expected `reports:` */
    char first_unexpected_report[16]; /* the rule id of the first of them, or "" */
    /* Step statuses (`status:`/`returned:`, or success when a step names
     * none) that differ from the expectation AND are failures other than
     * STATUS_INSUFFICIENT_RESOURCES and the statuses the extra faults inject
     * (their status, or their kind's default). A success where a failure was
     * expected is not counted (a filter may fail open after a fault), nor is
     * a step that started after a fault had been injected (it sees the
     * fault's consequences: a file not written, a handle not opened) or one
     * on a handle that no earlier step opened. Only the steps running when
     * the fault strikes are judged. */
    ULONG statuses_unexplained;
    char first_unexplained[160]; /* "step N (line L): expected X, actual Y", or "" */
    bool not_idle;               /* the system did not become idle at the end */
    bool filter_not_loaded;      /* error: a filter failed to load (its DriverEntry failed) */
};

/* Runs the scenario on a fresh system (options may be NULL: what the file
 * says). The calling thread is the runner: it must not be inside a fltsim
 * callback, and under the deterministic executor it is the system's own
 * thread for the run; it runs as the System process (4, thread 8) meanwhile
 * and gets its identity back. Returns STATUS_SUCCESS when the run was carried
 * out and every expectation held (golden trace included, and in strict mode
 * no verifier report beyond the expected ones); STATUS_UNSUCCESSFUL when an
 * expectation failed (or the golden trace could not be written); another
 * error status when the run could not be carried out (registry, volume,
 * filter or thread setup failed: the log says which; STATUS_INVALID_PARAMETER
 * for update_golden without a golden file or under the concurrent executor).
 * *result (optional) tells the details. A filter that never completes what
 * it pended makes the run wait forever under the concurrent executor (the
 * deterministic one reports the deadlock through the hook of
 * fltsim_set_deadlock_hook, <fltsim/watch.h>, or aborts), as a real
 * requestor would: a watchdog (the fltsim program's --timeout) bounds it. */
NTSTATUS fltsim_scenario_run(const struct fltsim_scenario *scenario,
                             const struct fltsim_scenario_run_options *options,
                             struct fltsim_scenario_result *result);

/* Where a scenario run stands, for a crash or hang report. */
struct fltsim_scenario_position {
    const char *path;  /* the scenario file, as loaded */
    const char *phase; /* "setting up", "running", "checking and shutting down" */
    size_t step;       /* 1-based; 0 outside the steps */
    int line;          /* the step's line in the file */
    const char *label; /* "read", "open", "wait" ... */
    const char *id;    /* the step's id, or NULL */
};

/* The position of the scenario run in progress (the last one started in
 * this process), into *out; false when none runs. With thread_id the
 * simulated thread id of a scenario thread, the step that thread performs
 * now, if any; otherwise the step the runner is at. Async-signal-safe (reads
 * plain fields, no lock): for a crash handler or a watchdog, which may see a
 * step that has just changed. */
bool fltsim_scenario_position(ULONG thread_id, struct fltsim_scenario_position *out);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_SCENARIO_H */
