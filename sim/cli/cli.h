/*
 * The fltsim program's pieces: option parsing shared by the subcommands
 * (main.c) and the built-in demo (demo.c).
 */
#ifndef FLTSIM_CLI_H
#define FLTSIM_CLI_H

#include <stdio.h>

#include <fltsim/replay.h>
#include <fltsim/scenario.h>
#include <fltsim/trace.h>

#include "common/output.h"

/* Exit statuses (README "The fltsim program"). */
#define CLI_EXIT_OK 0      /* everything held */
#define CLI_EXIT_FAILED 1  /* an expectation failed, a verifier report in strict mode */
#define CLI_EXIT_USAGE 2   /* bad command line */
#define CLI_EXIT_INVALID 3 /* a scenario file is invalid or cannot be read */
#define CLI_EXIT_ERROR 4   /* the run could not be carried out (out of memory, a write error) */
#define CLI_EXIT_CRASH 5   /* filter code crashed (run, replay: guard.c) */

/* The watchdog's defaults (guard.c): a scenario file that runs longer, a
 * callback that does not return for longer, is reported and fails. */
#define CLI_DEFAULT_RUN_TIMEOUT_MS 60000
#define CLI_DEFAULT_CALLBACK_TIMEOUT_MS 30000

/* How many rules --verifier-disable can name (V1-V36, ASSERT, IO, KE, MM, RTL, SEH, SIM).
 */
#define CLI_MAX_DISABLED_RULES 33
/* How many --filter options `fltsim replay` takes. */
#define CLI_MAX_FILTERS 16
/* How many --inject-fault options `fltsim run` takes. */
#define CLI_MAX_INJECTED_FAULTS 16

struct cli_options {
    bool executor_set;
    enum fltsim_executor_kind executor;
    bool seed_set;
    ULONG64 seed;
    bool trace_set; /* --trace given */
    bool trace_off; /* --trace none */
    enum fltsim_trace_format trace_format;
    const char *trace_out; /* --trace-out FILE, NULL = standard output */
    bool show_threads;     /* --threads */
    enum fltsim_verifier_mode verifier;
    /* --verifier-disable V7[,V8]: rule ids, valid, pointing into argv */
    const char *verifier_disable[CLI_MAX_DISABLED_RULES];
    size_t verifier_disable_count;
    bool update_golden;
    bool quiet;
    bool dbgprint; /* --dbgprint: the filters' DbgPrint output to standard error */
    unsigned fltmc; /* run --fltmc VIEWS: 1u << enum fltsim_fltmc_view each */
    /* run --inject-fault KIND:NTH: extra fault rules for every file */
    struct fltsim_fault inject[CLI_MAX_INJECTED_FAULTS];
    size_t inject_count;
    ULONG timeout_ms; /* explore --timeout-ms, 0 = the default */
    /* replay and import */
    struct fltsim_replay_filter filters[CLI_MAX_FILTERS]; /* --filter */
    size_t filter_count;
    struct fltsim_replay_volume volumes[26]; /* --volume */
    size_t volume_count;
    enum fltsim_capture_format format; /* --format */
    const char *output;                /* import -o */
    bool no_progress;                  /* --no-progress */
    size_t examples;                   /* --examples N */
    double min_fidelity;               /* replay --min-fidelity PCT, < 0: none */
    bool verbose;     /* explore -v: the runs that passed too */
    /* run, replay: --timeout, --callback-timeout (0 = none) */
    bool timeout_ms_set;
    ULONG64 run_timeout_ms;
    bool callback_timeout_set;
    ULONG64 callback_timeout_ms;
};

/* The trace of a command: a sink writing to standard output or to an output
 * file (--trace-out) that is renamed into place when the command ends. */
struct cli_trace {
    struct fltsim_trace_sink *sink; /* NULL: no trace (--trace none) */
    FILE *stream;                   /* where the sink writes */
    struct fltsim__output out;
};

/* What the program writes (cli_output.c). init: SIGPIPE and SIGXFSZ become
 * write errors (EPIPE, EFBIG) instead of killing the program. */
void cli_output_init(void);
/* Refuses output when it is the same file as input (device and inode: a
 * link to the input counts): prints "fltsim COMMAND: OUTPUT_WHAT 'output'
 * is the same file as INPUT_WHAT 'input' ..." and returns false. NULL output
 * or input: true. */
bool cli_output_distinct(const char *command, const char *output, const char *output_what,
                         const char *input, const char *input_what);
/* Opens the trace destination the options name and creates a sink of the
 * options' format (or default_format when --trace was not given) writing to it.
 * trace->sink stays NULL for --trace none. Returns false after printing why. */
bool cli_trace_open(const struct cli_options *options, enum fltsim_trace_format default_format,
                    struct cli_trace *trace);
/* Finishes and frees the sink; with keep, renames the trace file into place
 * (without, removes it: the target stays as it was). Returns false after
 * printing why when writing the trace failed (the target then stays as it
 * was too). A trace on standard output is checked by cli_output_finish. */
bool cli_trace_close(struct cli_trace *trace, bool keep);
/* At the end of the program: flushes standard output and checks it; on a
 * write error prints it and returns CLI_EXIT_ERROR (or status if higher),
 * else status. */
int cli_output_finish(int status);

/* fltsim replay / fltsim import (replay_cmd.c); return an exit status. */
int cli_replay(const struct cli_options *options, const char *capture);
int cli_import(const struct cli_options *options, const char *capture);
/* Parses --filter SPEC / --volume SPEC into options; false after printing why. */
bool cli_parse_filter(struct cli_options *options, char *spec);
bool cli_parse_volume(struct cli_options *options, char *spec);

/* guard.c: crash and hang reports around `run` and `replay`. install (once)
 * sets up the fatal-signal handler, the deadlock hook and the watchdog
 * (command "run" or "replay"; FAIL lines go to verdict_fd); begin and end
 * bracket one scenario file or capture (the --timeout clock); stop ends the
 * watchdog. */
void cli_guard_install(const char *command, const struct cli_options *options, int verdict_fd);
void cli_guard_begin(const char *file);
void cli_guard_end(void);
void cli_guard_stop(void);

/* Runs the built-in demo; returns an exit status. */
int cli_demo(const struct cli_options *options);

#endif /* FLTSIM_CLI_H */
