/*
 * PRIVATE to the scenario runner (scenario_run*.c): the state of one run and
 * the functions its parts share. scenario_run.c builds the system and hands
 * the steps out in order; scenario_run_step.c performs a step on its scenario
 * thread; scenario_run_check.c checks expectations on the runner, after each
 * step and at the end of the run.
 */
#ifndef FLTSIM_SCENARIO_RUN_INTERNAL_H
#define FLTSIM_SCENARIO_RUN_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

#include <uv.h>

#include <fltsim/io.h>
#include <fltsim/trace.h>

#include "scenario_internal.h"
#include "common/program_object.h"

struct run;

/* A user program of the scenario (run->programs[i] for sc->programs[i]). */
struct rprogram {
    struct run *run;
    size_t index;
    struct fltsim__program_object object; /* an object: program; zeroed for a builtin */
    fltsim_process *process;              /* once started; freed before the system */
    bool line_start;                      /* its output is at a line's start (under run->lock) */
};

/* A scenario thread: a simulated requestor thread running fltsim__run_worker. */
struct rthread {
    struct run *run;
    fltsim_thread *thread;
    KEVENT go;      /* runner -> thread: run step `current` (or quit) */
    KEVENT ready;   /* thread -> runner: the call of `current` returned */
    size_t current; /* the step it runs; valid once go is set */
    bool busy;      /* runner side: ready has not been consumed yet */
    bool quit; /* written by the runner while the thread may be in a step: atomic */
};

/* What became of a step (run->steps[i] for sc->steps[i]). */
struct rstep {
    struct run *run;
    KEVENT done; /* set when both parties (the call, the completion) are through */
    LONG parties;
    struct fltsim_io_async async; /* overlapped reads and writes */
    bool handed;                  /* given to its thread */
    bool checked;                 /* finished and its expectations checked */
    bool performed;
    bool no_handle;   /* it uses a handle no earlier step opened (that step failed) */
    bool after_fault; /* a fault had been injected when it started */
    NTSTATUS status;
    NTSTATUS returned;
    ULONG_PTR information;
    unsigned char *buffer;
    size_t buffer_size;
};

/* One run of a scenario (fltsim_scenario_run). */
struct run {
    const struct fltsim_scenario *sc;
    fltsim_system *sys;
    FILE *log;
    enum fltsim_verifier_mode verifier;
    const struct fltsim_scenario_run_options *options;
    struct fltsim_scenario_result *result;
    uv_mutex_t lock; /* handles, drivers, the trace sinks, reports */
    HANDLE *handles;
    fltsim_driver **drivers;
    void **objects; /* dlopen handles, per filter */
    struct rthread *threads;
    struct rstep *steps;
    struct rprogram *programs;
    ULONG *process_ids; /* per scenario process, once created (under lock) */
    struct fltsim_trace_tee *user;
    struct fltsim_trace_sink *golden_sink;
    FILE *golden_stream;
    char *golden_text;
    size_t golden_size;
    char (*reports)[16];
    size_t report_count, report_capacity;
    bool out_of_memory;
};

/* scenario_run.c: one line (a newline added) to the run's log, flushed. */
void fltsim__run_log(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* scenario_run_step.c: the body of a scenario thread (ctx: its struct
 * rthread), which performs the steps it is handed until told to quit. */
void fltsim__run_worker(void *ctx);
/* Loads filter index of the scenario (DriverEntry, registration) on the
 * calling thread; its driver is the run's on success. */
NTSTATUS fltsim__run_load_filter(struct run *run, size_t index);
/* The mounted volume of scenario volume index, or NULL. */
PFLT_VOLUME fltsim__run_find_volume(struct run *run, size_t index);

/* scenario_run_program.c, on the runner: opens the programs' objects (every
 * one before any filter loads; a refusal is logged); performs program step i;
 * at the end terminates the programs still running (a line to the run's
 * output says so) and checks the end expect's programs:; frees the processes
 * (before the system is destroyed) and closes the objects (after). */
NTSTATUS fltsim__run_open_programs(struct run *run);
void fltsim__run_program_step(struct run *run, size_t i);
void fltsim__run_end_programs(struct run *run);
void fltsim__run_free_programs(struct run *run);
void fltsim__run_close_programs(struct run *run);

/* scenario_run_ps.c: performs process step s on its scenario thread (the
 * status in r, the granted access in r->information); what a note of the
 * step names. */
void fltsim__run_ps_step(struct run *run, const struct sc_step *s, struct rstep *r);
void fltsim__run_ps_what(const struct run *run, const struct sc_step *s, char *what, size_t size);

/* scenario_run_check.c, on the runner. fltsim__run_finish_step waits for a
 * handed step to finish and checks its expectations (once);
 * fltsim__run_finish_all does so for the steps before upto. */
void fltsim__run_finish_step(struct run *run, size_t i);
void fltsim__run_finish_all(struct run *run, size_t upto);
/* The end of run's expectations, each failure logged and counted: what the
 * files hold, the handles left open, the verifier reports (and, for fault
 * exploration, those no expectation accounts for), the golden trace. */
void fltsim__run_check_end_files(struct run *run);
void fltsim__run_check_handles(struct run *run);
void fltsim__run_count_unexpected_reports(struct run *run);
void fltsim__run_check_reports(struct run *run);
void fltsim__run_check_golden(struct run *run, const struct fltsim_scenario_run_options *options);

#endif /* FLTSIM_SCENARIO_RUN_INTERNAL_H */
