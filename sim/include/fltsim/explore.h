/*
 * Systematic fault exploration (issue 5): run a scenario once under the
 * deterministic executor to enumerate the fault points it reaches, then once
 * per point with exactly that fault injected, each run in a child process so
 * that a crash or a hang in a filter is an outcome, not the end of the
 * exploration. Every run that ends badly is a finding, with the command that
 * reproduces it.
 *
 * What counts as a finding (a faulted run is expected to change statuses, so
 * the scenario's own expectations are not the yardstick):
 *   - REPORT: a verifier report the scenario does not list under `reports:`
 *     (leaks at unload, V23/V26, included);
 *   - STATUS: a step whose status differs from the expectation and is a
 *     failure the injected fault does not explain (scenario.h,
 *     statuses_unexplained); a success where a failure was expected is not
 *     judged (failing open after a fault is a filter's policy), nor are data,
 *     IoStatus.Information or end-of-run file contents;
 *   - HANG: the child did not finish within the timeout (it is killed), the
 *     deterministic executor found every thread blocked (a deadlock: it
 *     aborts, and its description is in the detail), or the system did not
 *     become idle at the end;
 *   - CRASH: the child ended on a signal (other than the deadlock abort) or
 *     exited without delivering its result;
 *   - ERROR: the run could not be carried out (the runner's setup failed).
 *     A filter whose DriverEntry fails on the fault is not one: refusing to
 *     load is right, and the run passes unless it left a report (a leak).
 * Steps that start after the fault was injected, or use a handle whose
 * opening step failed, are not judged: they see the fault's consequences
 * (a file not written, a handle not opened), not a filter's mishandling.
 * The golden trace is never compared in the faulted runs.
 */
#ifndef FLTSIM_EXPLORE_H
#define FLTSIM_EXPLORE_H

#include <fltsim/scenario.h>

#ifdef __cplusplus
extern "C" {
#endif

enum fltsim_explore_outcome {
    FLTSIM_EXPLORE_PASSED = 0,
    FLTSIM_EXPLORE_REPORT = 1,
    FLTSIM_EXPLORE_STATUS = 2,
    FLTSIM_EXPLORE_HANG = 3,
    FLTSIM_EXPLORE_CRASH = 4,
    FLTSIM_EXPLORE_ERROR = 5
};

/* "passed", "verifier report", "unexpected status", "hang", "crash", "error". */
const char *fltsim_explore_outcome_name(enum fltsim_explore_outcome outcome);

struct fltsim_explore_options {
    /* Seed of the deterministic executor (override_seed false: the
     * scenario's). Every run uses the deterministic executor. */
    bool override_seed;
    ULONG64 seed;
    /* Wall-clock limit per run in milliseconds (0: 10000). */
    ULONG timeout_ms;
    /* Rules disabled in every run (as fltsim_scenario_run_options). */
    const char *const *verifier_disable;
    size_t verifier_disable_count;
    /* How the reproduce command names the program and the scenario
     * (NULL: "fltsim" and the scenario's path). */
    const char *program;
    const char *scenario_arg;
};

/* One run with one fault injected. */
struct fltsim_explore_run {
    ULONG64 index;                   /* the point, 0-based in the order reached */
    struct fltsim_fault_point point; /* its kind, kind_index and detail */
    struct fltsim_fault fault;       /* the rule injected: {kind, nth = kind_index + 1} */
    enum fltsim_explore_outcome outcome;
    bool injected;    /* the rule failed a point in the faulted run */
    char detail[512]; /* what went wrong (empty when passed) */
    char reproduce[1024];
};

/* Called once per faulted run, in point order, on the calling thread. */
typedef void (*fltsim_explore_cb)(void *ctx, const struct fltsim_explore_run *run);

struct fltsim_explore_summary {
    ULONG64 points;   /* fault points the baseline run reached */
    ULONG64 runs;     /* faulted runs carried out */
    ULONG64 findings; /* of those, not passed */
    /* The baseline (no extra fault) did not pass: its outcome and detail;
     * nothing was explored. */
    enum fltsim_explore_outcome baseline;
    char baseline_detail[512];
};

/* Explores scenario (see above). Runs and waits for one child process at a
 * time (fork; the caller should have no other threads running fltsim work).
 * Returns STATUS_SUCCESS when the exploration was carried out (findings or
 * not: summary->findings tells), STATUS_UNSUCCESSFUL when the baseline run did
 * not pass (summary->baseline says how), STATUS_INSUFFICIENT_RESOURCES when a
 * process, pipe or buffer could not be made, STATUS_INVALID_PARAMETER for NULL
 * scenario or summary. */
NTSTATUS fltsim_explore(const struct fltsim_scenario *scenario,
                        const struct fltsim_explore_options *options, fltsim_explore_cb cb,
                        void *ctx, struct fltsim_explore_summary *summary);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_EXPLORE_H */
