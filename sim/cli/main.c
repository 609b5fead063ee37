/*
 * The fltsim program: `fltsim` (the built-in demo), `fltsim run FILE...`,
 * `fltsim check FILE...`, `fltsim filters`, and `--help` for each. Exit
 * statuses are in cli.h and the README.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <example_filters.h>
#include <fltsim/explore.h>
#include <fltsim/version.h>

#include "cli.h"

struct command {
    const char *name;
    const char *synopsis;
    const char *help; /* the options and what the command does */
    bool takes_files;
    int (*run)(const struct cli_options *options, int nfiles, char **files);
};

static const char run_options_help[] =
    "  --executor KIND     deterministic (default: what the scenario says) or concurrent\n"
    "  --concurrent        same as --executor concurrent\n"
    "  --seed N            seed of the deterministic executor\n"
    "  --trace FORMAT      text, jsonl, mermaid, normalized or none\n"
    "  --trace-out FILE    write the trace to FILE instead of standard output\n"
    "  --threads           text trace: show the thread and IRQL of each callback\n"
    "  --verifier MODE     strict (a verifier report fails the run) or report\n"
    "  --verifier-disable RULES\n"
    "                      comma-separated rule ids (V7,V28, ASSERT, IO, KE, MM, RTL, SEH,\n"
    "                      SIM) whose reports are accepted findings: neither recorded nor\n"
    "                      traced, only counted\n";

static const char guard_options_help[] =
    "  --timeout SECONDS   fail (exit 1) a scenario file (run; default 60) or a replay\n"
    "                      (default none) that has not finished by then, naming what is\n"
    "                      stuck: callbacks running, operations pended; 0 = no limit\n"
    "  --callback-timeout SECONDS\n"
    "                      fail (exit 1) when one filter callback has not returned for\n"
    "                      SECONDS (default 30; 0 = no limit), naming it\n";

static int cmd_demo(const struct cli_options *options, int nfiles, char **files);
static int cmd_run(const struct cli_options *options, int nfiles, char **files);
static int cmd_check(const struct cli_options *options, int nfiles, char **files);
static int cmd_filters(const struct cli_options *options, int nfiles, char **files);
static int cmd_explore(const struct cli_options *options, int nfiles, char **files);
static int cmd_replay(const struct cli_options *options, int nfiles, char **files);
static int cmd_import(const struct cli_options *options, int nfiles, char **files);

static const char capture_options_help[] =
    "  --filter NAME[@ALTITUDE] | --filter PATH.so@ALTITUDE\n"
    "                      load a catalog filter (fltsim filters) or a shared object\n"
    "                      exporting DriverEntry; repeatable, loaded in order\n"
    "  --volume X=memfs | X=hostfs:DIR | X=hostfs-ro:DIR\n"
    "                      what drive X: is (default: memfs holding the namespace the\n"
    "                      capture implies; a hostfs volume is the directory as it is)\n"
    "  --format FORMAT     csv, xml or pml (default: from the content); .gz is read as is\n"
    "  --executor KIND     deterministic (default) or concurrent; --concurrent\n"
    "  --seed N            seed of the deterministic executor\n"
    "  --examples N        examples kept per divergence group (default 3)\n"
    "  --no-progress       no progress bar (it is drawn only when stderr is a terminal)\n";

static const struct command commands[] = {
    {"demo", "fltsim [demo] [OPTIONS]",
     "Runs the built-in demo: example minifilters (PassThrough 370030, AccessBlocker 85000,\n"
     "ReadQuota 260000) over memfs volumes, printing every callback in the order FltMgr\n"
     "calls it; one read is pended in a post and finished by a deferred I/O work item.\n"
     "The trace defaults to text.\n",
     false, cmd_demo},
    {"run",
     "fltsim run [OPTIONS] [--update-golden] [--dbgprint] [--inject-fault KIND:NTH] "
     "[--fltmc VIEWS] [-q] FILE...",
     "Runs each scenario file and checks its expectations and, under the deterministic\n"
     "executor, its golden trace. Prints one PASS or FAIL line per file (-q: failures\n"
     "only). Exit status 0 only when every expectation of every file holds.\n"
     "  --update-golden     rewrite each scenario's golden trace instead of comparing\n"
     "  --dbgprint          the filters' DbgPrint output to standard error (a text trace\n"
     "                      shows it between its lines; otherwise it is dropped)\n"
     "  -q, --quiet         print only failures\n"
     "  --fltmc VIEWS       after the steps of each file, print what `fltmc filters`,\n"
     "                      `fltmc instances` and `fltmc volumes` would show: VIEWS is\n"
     "                      comma-separated filters, instances, volumes, or all (a\n"
     "                      scenario's `fltmc:` steps print at their point in any case)\n"
     "  --inject-fault KIND:NTH\n"
     "                      fail the NTH (1-based) fault point of KIND (alloc, deferred_queue,\n"
     "                      generic_queue, fs) with the kind's default status, on top of the\n"
     "                      scenario's faults; repeatable (what `fltsim explore` prints)\n"
     "The trace (none unless --trace is given) covers every file, one after another.\n",
     true, cmd_run},
    {"check", "fltsim check FILE...",
     "Validates each scenario file without running it: YAML syntax, keys, names, handles,\n"
     "altitudes, filters (shared objects are opened to find DriverEntry). Prints\n"
     "FILE:LINE:COLUMN: problem for the first error of each invalid file.\n",
     true, cmd_check},
    {"explore", "fltsim explore [--seed N] [--timeout-ms N] [--verifier-disable RULES] FILE",
     "Systematic fault exploration: runs the scenario once under the deterministic executor\n"
     "to enumerate the fault points it reaches (allocations by filters, deferred and generic\n"
     "work-item queuing, file-system operations), then once per point with exactly that fault\n"
     "injected, each run in a child process. A run is a finding when it ends in a verifier\n"
     "report the scenario does not expect (leaks at unload included), a step failing with a\n"
     "status the fault does not explain, a crash, or a hang (timeout or deadlock). Prints\n"
     "the point count, one line per finding with the command that reproduces it, and a\n"
     "summary. Exit status 1 when there is any finding, 0 when none, 3 for an invalid file,\n"
     "4 when the scenario does not pass without faults or a run cannot be made.\n"
     "  --seed N            seed of the deterministic executor\n"
     "  --timeout-ms N      wall-clock limit of each run (default 10000)\n"
     "  --verifier-disable RULES\n"
     "                      rules whose reports are accepted in every run\n"
     "  -v, --verbose       also print the runs that passed\n",
     true, cmd_explore},
    {"replay", "fltsim replay [OPTIONS] CAPTURE",
     "Replays a Process Monitor capture (CSV or XML export, or PML log; gzip-compressed or\n"
     "not) through the filters: builds the namespace the capture implies, issues every\n"
     "file-system row in recorded order as the recorded process and thread, following\n"
     "handles from CreateFile to CloseFile, and compares each status with the recorded\n"
     "Result. Prints rows read, replayed and skipped by reason, counts per operation, and\n"
     "the divergences grouped by operation and status pair with their first rows.\n"
     "Exit status 0; 1 when a filter broke a verifier rule or the fidelity is below\n"
     "--min-fidelity; 2 for a bad command line (a --filter altitude that is not a number\n"
     "included); 3 for a capture that cannot be read; 4 when a filter does not load or an\n"
     "output cannot be written.\n"
     "  --min-fidelity PCT  fail (exit 1) when fewer than PCT% of replayed rows match\n"
     "  --trace FORMAT      text, jsonl, mermaid, normalized or none (default none)\n"
     "  --trace-out FILE    write the trace to FILE (the report then stays on stdout)\n"
     "  --threads           text trace: show the thread and IRQL of each callback\n",
     true, cmd_replay},
    {"import", "fltsim import [OPTIONS] CAPTURE -o SCENARIO.yaml",
     "Writes a scenario file that `fltsim run` replays identically: the inferred namespace,\n"
     "the filters, one thread per recorded thread, and one step per replayed row with the\n"
     "status the replay saw (a comment gives the recorded Result).\n"
     "  -o, --output FILE   the scenario to write (required)\n",
     true, cmd_import},
    {"filters", "fltsim filters",
     "Lists the built-in example filters a scenario can load with `builtin: NAME`.\n", false,
     cmd_filters},
};

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static bool command_has_run_options(const struct command *cmd)
{
    return cmd->run == cmd_demo || cmd->run == cmd_run;
}

static bool command_reads_captures(const struct command *cmd)
{
    return cmd->run == cmd_replay || cmd->run == cmd_import;
}

static void usage_command(FILE *out, const struct command *cmd)
{
    fprintf(out, "usage: %s\n\n%s", cmd->synopsis, cmd->help);
    if (command_has_run_options(cmd))
        fputs(run_options_help, out);
    if (command_reads_captures(cmd))
        fputs(capture_options_help, out);
    if (cmd->run == cmd_run || cmd->run == cmd_replay)
        fputs(guard_options_help, out);
    fputs("  -h, --help          show this help\n", out);
}

static void usage(FILE *out)
{
    fputs("usage: fltsim [COMMAND] [OPTIONS] [FILE...]\n"
          "       fltsim --version\n"
          "\n"
          "fltsim " FLTSIM_VERSION_STRING
          ": a user-mode simulator of the Windows Filter Manager callback model.\n"
          "\n"
          "commands:\n"
          "  demo      run the built-in demo (the default)\n"
          "  run       run scenario files and check their expectations\n"
          "  check     validate scenario files without running them\n"
          "  explore   inject each fault a scenario can reach, one run per fault\n"
          "  replay    replay a Process Monitor capture through filters\n"
          "  import    turn a Process Monitor capture into a scenario file\n"
          "  filters   list the built-in example filters and user programs\n"
          "  help CMD  show the help of a command (also: fltsim CMD --help)\n"
          "\n"
          "exit status: 0 success, 1 an expectation or the verifier failed (or a watchdog\n"
          "or deadlock report), 2 usage error (an output file that is one of the inputs\n"
          "included), 3 invalid scenario file, 4 the run could not be carried out (a filter\n"
          "object that will not load, a volume that will not mount, an output or standard\n"
          "output that cannot be written), 5 filter code crashed\n"
          "\n"
          "Output files (--trace-out, -o, golden traces) are written to a temporary file\n"
          "beside them and renamed into place when complete: a failed write leaves them as\n"
          "they were.\n",
          out);
}

static int usage_error(const struct command *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "fltsim%s%s: ", cmd ? " " : "", cmd ? cmd->name : "");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'fltsim %s%s--help'.\n", cmd ? cmd->name : "", cmd ? " " : "");
    return CLI_EXIT_USAGE;
}

/* The exit status of a scenario file that does not load: invalid (3), or a
 * shared object it names that exists but is refused (4: the run cannot be
 * carried out, the file is not at fault). */
static int load_exit(NTSTATUS status)
{
    return status == STATUS_DRIVER_ENTRYPOINT_NOT_FOUND || status == STATUS_PROCEDURE_NOT_FOUND ||
                   status == STATUS_INVALID_IMAGE_FORMAT || status == STATUS_ACCESS_DENIED
               ? CLI_EXIT_ERROR
               : CLI_EXIT_INVALID;
}

static int cmd_demo(const struct cli_options *options, int nfiles, char **files)
{
    (void)nfiles;
    (void)files;
    return cli_demo(options);
}

static int cmd_filters(const struct cli_options *options, int nfiles, char **files)
{
    (void)options;
    (void)nfiles;
    (void)files;
    printf("%-14s %-16s %-9s %s\n", "NAME", "SERVICE", "ALTITUDE", "WHAT IT SHOWS");
    for (size_t i = 0; i < fltsim_example_filter_count; i++) {
        const struct fltsim_builtin_filter *f = &fltsim_example_filters[i];
        char service[64], altitude[32];
        fltsim_utf16_to_utf8(f->service_name, fltsim_wcslen(f->service_name), service,
                             sizeof(service));
        fltsim_utf16_to_utf8(f->altitude, fltsim_wcslen(f->altitude), altitude, sizeof(altitude));
        printf("%-14s %-16s %-9s %s\n", f->name, service, altitude, f->summary);
    }
    /* Their user-mode halves, for a scenario's `programs: - builtin:`. */
    printf("\n%-17s %-21s %s\n", "PROGRAM", "IMAGE", "WHAT IT DOES");
    for (size_t i = 0; i < fltsim_example_program_count; i++) {
        const struct fltsim_builtin_program *p = &fltsim_example_programs[i];
        printf("%-17s %-21s %s\n", p->name, p->image, p->summary);
    }
    return CLI_EXIT_OK;
}

static int cmd_check(const struct cli_options *options, int nfiles, char **files)
{
    int status = CLI_EXIT_OK;
    for (int i = 0; i < nfiles; i++) {
        char error[8192]; /* a refused object lists every routine it lacks */
        struct fltsim_scenario *scenario = NULL;
        NTSTATUS st = fltsim_scenario_load(files[i], &scenario, error, sizeof(error));
        if (!NT_SUCCESS(st)) {
            fprintf(stderr, "%s\n", error);
            if (load_exit(st) > status)
                status = load_exit(st);
            continue;
        }
        if (!options->quiet)
            printf("OK    %s: %s\n", files[i], fltsim_scenario_title(scenario));
        fltsim_scenario_free(scenario);
    }
    return status;
}

/* DbgPrint output: between the lines of a text trace, to standard error with
 * --dbgprint, else nowhere (a passing run stays quiet). */
static void debug_to_stream(void *ctx, const char *text)
{
    FILE *out = ctx;
    size_t n = strlen(text);
    fprintf(out, "      | %s%s", text, n == 0 || text[n - 1] != '\n' ? "\n" : "");
}

static void debug_drop(void *ctx, const char *text)
{
    (void)ctx;
    (void)text;
}

static int cmd_run(const struct cli_options *options, int nfiles, char **files)
{
    /* No output may overwrite an input: the scenarios here, their golden
     * traces once each is loaded. */
    for (int i = 0; i < nfiles; i++)
        if (!cli_output_distinct("run", options->trace_out, "the trace output (--trace-out)",
                                 files[i], "the scenario"))
            return CLI_EXIT_USAGE;
    struct cli_trace trace = {0};
    if (options->trace_set && !options->trace_off &&
        !cli_trace_open(options, FLTSIM_TRACE_TEXT, &trace))
        return CLI_EXIT_ERROR;
    struct fltsim_trace_sink *sink = trace.sink;
    FILE *stream = trace.stream;
    struct fltsim_trace_tee tee = {{sink}};
    if (sink != NULL && options->trace_format == FLTSIM_TRACE_TEXT)
        fltsim_debug_set_sink(debug_to_stream, stream);
    else if (options->dbgprint)
        fltsim_debug_set_sink(debug_to_stream, stderr);
    else
        fltsim_debug_set_sink(debug_drop, NULL);

    /* The verdicts go to standard error when the trace has standard output. */
    FILE *verdicts = stream == stdout ? stderr : stdout;
    /* Standard output is a wrapping stream (no fileno): the descriptor by name. */
    cli_guard_install("run", options, verdicts == stdout ? STDOUT_FILENO : STDERR_FILENO);
    int status = CLI_EXIT_OK;
    for (int i = 0; i < nfiles; i++) {
        char error[8192]; /* a refused object lists every routine it lacks */
        struct fltsim_scenario *scenario = NULL;
        NTSTATUS st = fltsim_scenario_load(files[i], &scenario, error, sizeof(error));
        if (!NT_SUCCESS(st)) {
            fprintf(stderr, "%s\n", error);
            if (load_exit(st) > status)
                status = load_exit(st);
            continue;
        }
        char golden_of[600];
        snprintf(golden_of, sizeof(golden_of), "the golden trace of %s", files[i]);
        if (!cli_output_distinct("run", options->trace_out, "the trace output (--trace-out)",
                                 fltsim_scenario_golden(scenario), golden_of)) {
            fltsim_scenario_free(scenario);
            status = CLI_EXIT_USAGE;
            break;
        }
        if (sink != NULL) {
            char note[512];
            snprintf(note, sizeof(note), "scenario %s: %s", files[i],
                     fltsim_scenario_title(scenario));
            fltsim_trace_sink_note(sink, note);
        }
        struct fltsim_scenario_run_options run = {
            .override_executor = options->executor_set,
            .executor = options->executor,
            .override_seed = options->seed_set,
            .seed = options->seed,
            .verifier = options->verifier,
            .verifier_disable = options->verifier_disable,
            .verifier_disable_count = options->verifier_disable_count,
            .trace = sink != NULL ? &tee : NULL,
            .log = stderr,
            .output = verdicts,
            .fltmc_at_end = options->fltmc,
            .update_golden = options->update_golden,
            .extra_faults = options->inject,
            .extra_fault_count = options->inject_count,
        };
        struct fltsim_scenario_result result;
        memset(&result, 0, sizeof(result));
        cli_guard_begin(files[i]);
        st = fltsim_scenario_run(scenario, &run, &result);
        cli_guard_end();
        const char *verdict = NT_SUCCESS(st) ? "PASS" : result.error ? "ERROR" : "FAIL";
        char suppressed[48] = "";
        if (result.reports_suppressed != 0)
            snprintf(suppressed, sizeof(suppressed), " (%lu of disabled rules)",
                     (unsigned long)result.reports_suppressed);
        if (!NT_SUCCESS(st) || !options->quiet) {
            fprintf(verdicts,
                    "%-5s %s: %lu steps, %lu expectations (%lu failed), %lu verifier reports%s%s\n",
                    verdict, files[i], (unsigned long)result.steps_run,
                    (unsigned long)result.expectations_checked,
                    (unsigned long)result.expectations_failed, (unsigned long)result.reports,
                    suppressed,
                    result.golden_mismatch                            ? ", golden trace differs"
                    : result.golden_checked && options->update_golden ? ", golden trace written"
                    : result.golden_checked                           ? ", golden trace matches"
                                                                      : "");
            fflush(verdicts);
        }
        if (!NT_SUCCESS(st)) {
            int s = result.error ? CLI_EXIT_ERROR : CLI_EXIT_FAILED;
            if (s > status)
                status = s;
        }
        fltsim_scenario_free(scenario);
    }
    fltsim_debug_set_sink(NULL, NULL);
    cli_guard_stop();
    if (!cli_trace_close(&trace, status != CLI_EXIT_USAGE) && status < CLI_EXIT_ERROR)
        status = CLI_EXIT_ERROR;
    return status;
}

/* filters,instances,volumes (any of them, in any order) or all into a mask
 * of 1u << enum fltsim_fltmc_view. */
static bool parse_fltmc_views(const char *text, unsigned *mask)
{
    *mask = 0;
    if (strcmp(text, "all") == 0) {
        *mask = 7u;
        return true;
    }
    char view[16];
    for (const char *p = text;; p++) {
        size_t n = strcspn(p, ",");
        enum fltsim_fltmc_view v;
        if (n == 0 || n >= sizeof(view))
            return false;
        memcpy(view, p, n);
        view[n] = '\0';
        if (!fltsim_fltmc_view_parse(view, &v))
            return false;
        *mask |= 1u << v;
        p += n;
        if (*p == '\0')
            return true;
    }
}

/* KIND:NTH into a fault rule with the kind's default status. */
static bool parse_fault(const char *text, struct fltsim_fault *fault)
{
    const char *colon = strchr(text, ':');
    if (colon == NULL)
        return false;
    memset(fault, 0, sizeof(*fault));
    bool known = false;
    for (int k = 0; k < FLTSIM_FAULT_KIND_COUNT && !known; k++) {
        const char *name = fltsim_fault_kind_name((enum fltsim_fault_kind)k);
        if (strlen(name) == (size_t)(colon - text) && strncmp(text, name, strlen(name)) == 0) {
            fault->kind = (enum fltsim_fault_kind)k;
            known = true;
        }
    }
    const char *nth = colon + 1;
    char *end;
    errno = 0;
    fault->nth = strtoull(nth, &end, 10);
    return known && nth[0] >= '1' && nth[0] <= '9' && *end == '\0' && errno == 0;
}

static void explore_line(void *ctx, const struct fltsim_explore_run *run)
{
    const struct cli_options *options = ctx;
    if (run->outcome == FLTSIM_EXPLORE_PASSED && !options->verbose)
        return;
    char detail[32] = "";
    if (run->point.kind == FLTSIM_FAULT_ALLOC) {
        ULONG tag = run->point.detail;
        char t[5];
        for (int b = 0; b < 4; b++) {
            char c = (char)((tag >> (8 * b)) & 0xff);
            t[b] = c >= 0x20 && c < 0x7f ? c : '.';
        }
        t[4] = '\0';
        snprintf(detail, sizeof(detail), " tag '%s'", t);
    } else if (run->point.kind == FLTSIM_FAULT_FS) {
        snprintf(detail, sizeof(detail), " major %lu", (unsigned long)run->point.detail);
    }
    printf("%-8s point %llu: %s #%llu%s: %s%s%s\n    reproduce: %s\n",
           run->outcome == FLTSIM_EXPLORE_PASSED ? "ok" : "FINDING",
           (unsigned long long)run->index, fltsim_fault_kind_name(run->point.kind),
           (unsigned long long)run->fault.nth, detail, fltsim_explore_outcome_name(run->outcome),
           run->detail[0] ? ": " : "", run->detail, run->reproduce);
    fflush(stdout);
}

static int cmd_explore(const struct cli_options *options, int nfiles, char **files)
{
    if (nfiles != 1) {
        fprintf(stderr, "fltsim explore: takes exactly one scenario FILE\nTry 'fltsim explore "
                        "--help'.\n");
        return CLI_EXIT_USAGE;
    }
    char error[8192];
    struct fltsim_scenario *scenario = NULL;
    NTSTATUS st = fltsim_scenario_load(files[0], &scenario, error, sizeof(error));
    if (!NT_SUCCESS(st)) {
        fprintf(stderr, "%s\n", error);
        return load_exit(st);
    }
    struct fltsim_explore_options eo = {
        .override_seed = options->seed_set,
        .seed = options->seed,
        .timeout_ms = options->timeout_ms,
        .verifier_disable = options->verifier_disable,
        .verifier_disable_count = options->verifier_disable_count,
        .program = "fltsim",
        .scenario_arg = files[0],
    };
    struct fltsim_explore_summary summary;
    printf("exploring %s: %s\n", files[0], fltsim_scenario_title(scenario));
    fflush(stdout);
    st = fltsim_explore(scenario, &eo, explore_line, (void *)options, &summary);
    fltsim_scenario_free(scenario);
    if (st == STATUS_UNSUCCESSFUL) {
        fprintf(stderr, "fltsim explore: %s does not pass without faults (%s: %s); fix it first\n",
                files[0], fltsim_explore_outcome_name(summary.baseline),
                summary.baseline_detail);
        return CLI_EXIT_ERROR;
    }
    if (!NT_SUCCESS(st)) {
        fprintf(stderr, "fltsim explore: cannot run the scenario in a child process\n");
        return CLI_EXIT_ERROR;
    }
    printf("%llu fault points, %llu runs, %llu findings\n", (unsigned long long)summary.points,
           (unsigned long long)summary.runs, (unsigned long long)summary.findings);
    return summary.findings != 0 ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}

static int one_capture(const struct command *cmd, int nfiles)
{
    if (nfiles != 1) {
        fprintf(stderr, "fltsim %s: takes exactly one CAPTURE\nTry 'fltsim %s --help'.\n",
                cmd->name, cmd->name);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static int cmd_replay(const struct cli_options *options, int nfiles, char **files)
{
    int rc = one_capture(find_command("replay"), nfiles);
    return rc != 0 ? rc : cli_replay(options, files[0]);
}

static int cmd_import(const struct cli_options *options, int nfiles, char **files)
{
    int rc = one_capture(find_command("import"), nfiles);
    return rc != 0 ? rc : cli_import(options, files[0]);
}

/* Parses the option at argv[*i] into options. Returns 0, or an exit status
 * after printing the problem. Sets *help for -h/--help. */
static int parse_option(const struct command *cmd, int argc, char **argv, int *i,
                        struct cli_options *options, bool *help)
{
    const char *arg = argv[*i];
    const char *value = NULL;
    bool capture = command_reads_captures(cmd);
    bool run_opts = command_has_run_options(cmd) || capture;
    bool trace_opts = command_has_run_options(cmd) || cmd->run == cmd_replay;
#define NEED_VALUE()                                                                               \
    do {                                                                                           \
        if (*i + 1 >= argc)                                                                        \
            return usage_error(cmd, "option '%s' needs a value", arg);                             \
        value = argv[++*i];                                                                        \
    } while (0)

    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
        *help = true;
    } else if (cmd->run == cmd_run && (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0)) {
        options->quiet = true;
    } else if (cmd->run == cmd_check && (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0)) {
        options->quiet = true;
    } else if (cmd->run == cmd_run && strcmp(arg, "--fltmc") == 0) {
        NEED_VALUE();
        if (!parse_fltmc_views(value, &options->fltmc))
            return usage_error(cmd,
                               "--fltmc takes filters, instances or volumes (comma-separated) "
                               "or all, not '%s'",
                               value);
    } else if (cmd->run == cmd_run && strcmp(arg, "--update-golden") == 0) {
        options->update_golden = true;
    } else if (run_opts && strcmp(arg, "--concurrent") == 0) {
        options->executor_set = true;
        options->executor = FLTSIM_EXECUTOR_CONCURRENT;
    } else if (run_opts && strcmp(arg, "--executor") == 0) {
        NEED_VALUE();
        options->executor_set = true;
        if (strcmp(value, "deterministic") == 0)
            options->executor = FLTSIM_EXECUTOR_DETERMINISTIC;
        else if (strcmp(value, "concurrent") == 0)
            options->executor = FLTSIM_EXECUTOR_CONCURRENT;
        else
            return usage_error(cmd, "--executor takes deterministic or concurrent, not '%s'",
                               value);
    } else if (cmd->run == cmd_run && strcmp(arg, "--inject-fault") == 0) {
        NEED_VALUE();
        if (options->inject_count == CLI_MAX_INJECTED_FAULTS)
            return usage_error(cmd, "--inject-fault: too many faults (from '%s')", value);
        if (!parse_fault(value, &options->inject[options->inject_count]))
            return usage_error(cmd,
                               "--inject-fault takes KIND:NTH (KIND alloc, deferred_queue, "
                               "generic_queue or fs; NTH 1 or more), not '%s'",
                               value);
        options->inject_count++;
    } else if (cmd->run == cmd_explore &&
               (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0)) {
        options->verbose = true;
    } else if (cmd->run == cmd_explore && strcmp(arg, "--timeout-ms") == 0) {
        NEED_VALUE();
        char *end;
        errno = 0;
        unsigned long long ms = strtoull(value, &end, 10);
        if (value[0] < '1' || value[0] > '9' || *end != '\0' || errno != 0 || ms > 86400000ull)
            return usage_error(cmd, "--timeout-ms needs a number of milliseconds (1 to 86400000), "
                                    "not '%s'",
                               value);
        options->timeout_ms = (ULONG)ms;
    } else if ((cmd->run == cmd_run || cmd->run == cmd_replay) &&
               (strcmp(arg, "--timeout") == 0 || strcmp(arg, "--callback-timeout") == 0)) {
        NEED_VALUE();
        char *end;
        errno = 0;
        double seconds = strtod(value, &end);
        if (value[0] == '\0' || *end != '\0' || errno != 0 || !(seconds >= 0 && seconds <= 86400))
            return usage_error(cmd,
                               "--timeout and --callback-timeout need a number of seconds "
                               "(0 to 86400, 0 = no limit), not '%s'",
                               value);
        ULONG64 ms = (ULONG64)(seconds * 1000 + 0.5);
        if (seconds > 0 && ms == 0)
            ms = 1;
        if (strcmp(arg, "--timeout") == 0) {
            options->timeout_ms_set = true;
            options->run_timeout_ms = ms;
        } else {
            options->callback_timeout_set = true;
            options->callback_timeout_ms = ms;
        }
    } else if ((run_opts || cmd->run == cmd_explore) && strcmp(arg, "--seed") == 0) {
        NEED_VALUE();
        char *end;
        errno = 0;
        options->seed = strtoull(value, &end, 0);
        if (value[0] == '\0' || value[0] == '-' || *end != '\0' || errno != 0)
            return usage_error(cmd, "--seed needs an unsigned number, not '%s'", value);
        options->seed_set = true;
    } else if (trace_opts && strcmp(arg, "--trace") == 0) {
        NEED_VALUE();
        options->trace_set = true;
        options->trace_off = strcmp(value, "none") == 0;
        if (!options->trace_off && !fltsim_trace_format_parse(value, &options->trace_format))
            return usage_error(
                cmd, "--trace takes text, jsonl, mermaid, normalized or none, not '%s'", value);
    } else if (trace_opts && strcmp(arg, "--trace-out") == 0) {
        NEED_VALUE();
        options->trace_out = value;
    } else if (cmd->run == cmd_run && strcmp(arg, "--dbgprint") == 0) {
        options->dbgprint = true;
    } else if (trace_opts && strcmp(arg, "--threads") == 0) {
        options->show_threads = true;
    } else if (capture && strcmp(arg, "--filter") == 0) {
        NEED_VALUE();
        if (!cli_parse_filter(options, argv[*i]))
            return CLI_EXIT_USAGE;
    } else if (capture && strcmp(arg, "--volume") == 0) {
        NEED_VALUE();
        if (!cli_parse_volume(options, argv[*i]))
            return CLI_EXIT_USAGE;
    } else if (capture && strcmp(arg, "--format") == 0) {
        NEED_VALUE();
        if (strcmp(value, "csv") == 0)
            options->format = FLTSIM_CAPTURE_CSV;
        else if (strcmp(value, "xml") == 0)
            options->format = FLTSIM_CAPTURE_XML;
        else if (strcmp(value, "pml") == 0)
            options->format = FLTSIM_CAPTURE_PML;
        else
            return usage_error(cmd, "--format takes csv, xml or pml, not '%s'", value);
    } else if (capture && strcmp(arg, "--no-progress") == 0) {
        options->no_progress = true;
    } else if (capture && strcmp(arg, "--examples") == 0) {
        NEED_VALUE();
        char *end;
        errno = 0;
        unsigned long n = strtoul(value, &end, 10);
        if (value[0] < '1' || value[0] > '9' || *end != '\0' || errno != 0 || n > 1000)
            return usage_error(cmd, "--examples needs a number from 1 to 1000, not '%s'", value);
        options->examples = n;
    } else if (cmd->run == cmd_replay && strcmp(arg, "--min-fidelity") == 0) {
        NEED_VALUE();
        char *end;
        errno = 0;
        double pct = strtod(value, &end);
        if (value[0] == '\0' || *end != '\0' || errno != 0 || !(pct >= 0 && pct <= 100))
            return usage_error(cmd, "--min-fidelity needs a percentage from 0 to 100, not '%s'",
                               value);
        options->min_fidelity = pct;
    } else if (cmd->run == cmd_import && (strcmp(arg, "-o") == 0 || strcmp(arg, "--output") == 0)) {
        NEED_VALUE();
        options->output = value;
    } else if (command_has_run_options(cmd) && strcmp(arg, "--verifier") == 0) {
        NEED_VALUE();
        if (strcmp(value, "strict") == 0)
            options->verifier = FLTSIM_VERIFIER_STRICT;
        else if (strcmp(value, "report") == 0)
            options->verifier = FLTSIM_VERIFIER_REPORT;
        else
            return usage_error(cmd, "--verifier takes strict or report, not '%s'", value);
    } else if ((command_has_run_options(cmd) || cmd->run == cmd_explore) &&
               strcmp(arg, "--verifier-disable") == 0) {
        NEED_VALUE();
        /* Split in place: argv's strings are ours to modify. */
        for (char *rule = argv[*i]; rule != NULL;) {
            char *comma = strchr(rule, ',');
            if (comma != NULL)
                *comma = '\0';
            if (!fltsim_verifier_rule_valid(rule))
                return usage_error(cmd,
                                   "--verifier-disable: '%s' is not a verifier rule (V1 ... V36, "
                                   "ASSERT, IO, KE, MM, RTL, SEH or SIM)",
                                   rule);
            if (options->verifier_disable_count == CLI_MAX_DISABLED_RULES)
                return usage_error(cmd, "--verifier-disable: too many rules (from '%s')", rule);
            options->verifier_disable[options->verifier_disable_count++] = rule;
            rule = comma != NULL ? comma + 1 : NULL;
        }
    } else {
        return usage_error(cmd, "unknown option '%s'", arg);
    }
#undef NEED_VALUE
    return 0;
}

static int run_program(int argc, char **argv)
{
    int first = 1;
    const struct command *cmd = find_command("demo");
    if (argc > 1 && argv[1][0] != '-') {
        if (strcmp(argv[1], "help") == 0) {
            if (argc == 2) {
                usage(stdout);
                return CLI_EXIT_OK;
            }
            if (strcmp(argv[2], "help") == 0 && argc == 3) {
                /* help on help: the general usage, which lists the commands */
                usage(stdout);
                return CLI_EXIT_OK;
            }
            const struct command *which = find_command(argv[2]);
            if (which == NULL || argc > 3)
                return usage_error(NULL, "help: no command '%s'", argv[2]);
            usage_command(stdout, which);
            return CLI_EXIT_OK;
        }
        cmd = find_command(argv[1]);
        if (cmd == NULL)
            return usage_error(NULL, "unknown command '%s'", argv[1]);
        first = 2;
    } else if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("fltsim %s\n", FLTSIM_VERSION_STRING);
        return CLI_EXIT_OK;
    } else if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        fputs("\nfltsim with no command runs the demo; its options:\n", stdout);
        fputs(run_options_help, stdout);
        return CLI_EXIT_OK;
    }

    struct cli_options options = {.executor = FLTSIM_EXECUTOR_DETERMINISTIC, .min_fidelity = -1};
    char **files = calloc((size_t)argc, sizeof(*files));
    if (files == NULL) {
        fputs("fltsim: out of memory\n", stderr);
        return CLI_EXIT_ERROR;
    }
    int nfiles = 0;
    bool help = false, options_done = false;
    int status = 0;
    for (int i = first; i < argc && status == 0; i++) {
        if (!options_done && strcmp(argv[i], "--") == 0)
            options_done = true;
        else if (!options_done && argv[i][0] == '-' && argv[i][1] != '\0')
            status = parse_option(cmd, argc, argv, &i, &options, &help);
        else if (cmd->takes_files)
            files[nfiles++] = argv[i];
        else
            status = usage_error(cmd, "unexpected argument '%s'", argv[i]);
    }
    if (status == 0 && help) {
        usage_command(stdout, cmd);
    } else if (status == 0 && cmd->takes_files && nfiles == 0) {
        status = usage_error(cmd, "%s",
                             command_reads_captures(cmd) ? "needs a CAPTURE file"
                                                         : "needs at least one scenario FILE");
    } else if (status == 0) {
        status = cmd->run(&options, nfiles, files);
    }
    free(files);
    return status;
}

int main(int argc, char **argv)
{
    fltsim_examples_register(); /* the builtin: filters and programs */
    cli_output_init();
    return cli_output_finish(run_program(argc, argv));
}
