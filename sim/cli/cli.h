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

/* Exit statuses (README "The fltsim program"). */
#define CLI_EXIT_OK 0      /* everything held */
#define CLI_EXIT_FAILED 1  /* an expectation failed, a verifier report in strict mode */
#define CLI_EXIT_USAGE 2   /* bad command line */
#define CLI_EXIT_INVALID 3 /* a scenario file is invalid or cannot be read */
#define CLI_EXIT_ERROR 4   /* the run could not be carried out (e.g. out of memory) */
#define CLI_EXIT_CRASH 5   /* filter code crashed (run, replay: guard.c) */

/* The watchdog's defaults (guard.c): a scenario file that runs longer, a
 * callback that does not return for longer, is reported and fails. */
#define CLI_DEFAULT_RUN_TIMEOUT_MS 60000
#define CLI_DEFAULT_CALLBACK_TIMEOUT_MS 30000

/* How many rules --verifier-disable can name (V1-V30, ASSERT, IO, KE, MM, RTL, SEH, SIM). */
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

/* Opens the trace destination the options name and creates a sink of the
 * options' format (or default_format when --trace was not given) writing to it.
 * *sink stays NULL for --trace none. Returns false after printing why. */
bool cli_trace_open(const struct cli_options *options, enum fltsim_trace_format default_format,
                    struct fltsim_trace_sink **sink, FILE **stream);
/* Finishes and frees the sink and closes the stream if it is a file. Returns
 * false when writing the trace failed. */
bool cli_trace_close(struct fltsim_trace_sink *sink, FILE *stream);

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
