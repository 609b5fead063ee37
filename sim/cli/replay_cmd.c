/*
 * fltsim replay CAPTURE and fltsim import CAPTURE -o SCENARIO: Process
 * Monitor captures through the loaded filters (<fltsim/replay.h>).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* NAME (a catalog filter) or PATH.so, then optionally @ALTITUDE. */
bool cli_parse_filter(struct cli_options *options, char *spec)
{
    if (options->filter_count == CLI_MAX_FILTERS) {
        fprintf(stderr, "fltsim: --filter: at most %d filters\n", CLI_MAX_FILTERS);
        return false;
    }
    struct fltsim_replay_filter *f = &options->filters[options->filter_count];
    memset(f, 0, sizeof(*f));
    char *at = strrchr(spec, '@');
    if (at != NULL) {
        *at = '\0';
        f->altitude = at + 1;
        if (f->altitude[0] == '\0') {
            fprintf(stderr, "fltsim: --filter %s@: the altitude after @ is empty\n", spec);
            return false;
        }
        /* SPEC 2.1, as a scenario's altitude: a typo here is a bad command
         * line (exit 2), found before anything is read or loaded. */
        size_t digits = strspn(f->altitude, "0123456789."), dots = 0;
        for (const char *p = f->altitude; *p != '\0'; p++)
            dots += *p == '.';
        if (f->altitude[digits] != '\0' || dots > 1 || digits == dots || digits > 127) {
            fprintf(stderr,
                    "fltsim: --filter %s@%s: the altitude is not a decimal number (SPEC 2.1); "
                    "expected digits with at most one dot, at most 127 characters\n",
                    spec, f->altitude);
            return false;
        }
    }
    if (spec[0] == '\0') {
        fprintf(stderr, "fltsim: --filter needs NAME or PATH.so[@ALTITUDE]\n");
        return false;
    }
    if (strchr(spec, '/') != NULL || strstr(spec, ".so") != NULL)
        f->object = spec;
    else
        f->builtin = spec;
    options->filter_count++;
    return true;
}

/* X=memfs, X=hostfs:DIR or X=hostfs-ro:DIR. */
bool cli_parse_volume(struct cli_options *options, char *spec)
{
    char d = spec[0];
    if (!((d >= 'A' && d <= 'Z') || (d >= 'a' && d <= 'z')) || spec[1] != '=') {
        fprintf(stderr,
                "fltsim: --volume takes DRIVE=memfs or DRIVE=hostfs:DIR (or hostfs-ro:DIR), "
                "not '%s'\n",
                spec);
        return false;
    }
    struct fltsim_replay_volume v = {.drive = (char)(d >= 'a' ? d - 'a' + 'A' : d)};
    const char *what = spec + 2;
    if (strcmp(what, "memfs") == 0) {
        v.host_root = NULL;
    } else if (strncmp(what, "hostfs:", 7) == 0 && what[7] != '\0') {
        v.host_root = what + 7;
    } else if (strncmp(what, "hostfs-ro:", 10) == 0 && what[10] != '\0') {
        v.host_root = what + 10;
        v.read_only = true;
    } else {
        fprintf(stderr,
                "fltsim: --volume %s: expected memfs, hostfs:DIR or hostfs-ro:DIR after '='\n",
                spec);
        return false;
    }
    for (size_t i = 0; i < options->volume_count; i++)
        if (options->volumes[i].drive == v.drive) {
            fprintf(stderr, "fltsim: --volume: drive %c given twice\n", v.drive);
            return false;
        }
    options->volumes[options->volume_count++] = v;
    return true;
}

static int exit_of(NTSTATUS status)
{
    /* Capture problems (cannot open, malformed) are invalid input; anything
     * else (a filter that does not load, a volume) means the run could not be
     * carried out. */
    return status == STATUS_INVALID_PARAMETER || status == STATUS_OBJECT_NAME_NOT_FOUND
               ? CLI_EXIT_INVALID
               : CLI_EXIT_ERROR;
}

static void fill(struct fltsim_replay_options *ro, const struct cli_options *options)
{
    ro->volumes = options->volumes;
    ro->volume_count = options->volume_count;
    ro->filters = options->filters;
    ro->filter_count = options->filter_count;
    ro->executor = options->executor_set ? options->executor : FLTSIM_EXECUTOR_DETERMINISTIC;
    ro->seed = options->seed_set ? options->seed : 1;
    ro->format = options->format;
    ro->max_examples = options->examples;
    ro->progress = !options->no_progress && isatty(STDERR_FILENO) ? stderr : NULL;
}

/* An output of replay or import must be none of its inputs: the capture and
 * the filters' shared objects. */
static bool distinct_from_inputs(const char *command, const struct cli_options *options,
                                 const char *output, const char *what, const char *capture)
{
    if (!cli_output_distinct(command, output, what, capture, "the capture"))
        return false;
    for (size_t i = 0; i < options->filter_count; i++)
        if (!cli_output_distinct(command, output, what, options->filters[i].object,
                                 "the filter object"))
            return false;
    return true;
}

int cli_replay(const struct cli_options *options, const char *capture)
{
    if (!distinct_from_inputs("replay", options, options->trace_out,
                              "the trace output (--trace-out)", capture))
        return CLI_EXIT_USAGE;
    struct cli_trace trace = {0};
    /* No trace unless --trace asks for one. */
    if (options->trace_set && !cli_trace_open(options, FLTSIM_TRACE_TEXT, &trace))
        return CLI_EXIT_ERROR;
    struct fltsim_trace_sink *sink = trace.sink;
    FILE *stream = trace.stream;
    struct fltsim_trace_tee tee = {{sink}};
    struct fltsim_replay_options ro = {0};
    fill(&ro, options);
    ro.trace = sink != NULL ? &tee : NULL;
    struct fltsim_replay_report report;
    char error[1024] = "";
    cli_guard_install("replay", options, STDERR_FILENO);
    cli_guard_begin(capture);
    NTSTATUS status = fltsim_replay_run(capture, &ro, &report, error, sizeof(error));
    cli_guard_end();
    cli_guard_stop();
    bool trace_ok = cli_trace_close(&trace, true);
    int rc = CLI_EXIT_OK;
    if (!NT_SUCCESS(status)) {
        fprintf(stderr, "fltsim replay: %s\n", error);
        rc = exit_of(status);
    } else {
        /* The report goes where the trace does not. */
        FILE *out = sink != NULL && stream == stdout ? stderr : stdout;
        fltsim_replay_report_print(&report, capture, out);
        double fidelity = report.replayed == 0 ? 0.0
                                               : 100.0 * (double)report.matched /
                                                     (double)report.replayed;
        if (report.reports > 0) {
            fprintf(stderr, "fltsim replay: %u verifier report(s): a filter broke a rule\n",
                    (unsigned)report.reports);
            rc = CLI_EXIT_FAILED;
        }
        if (options->min_fidelity >= 0 && fidelity < options->min_fidelity) {
            fprintf(stderr, "fltsim replay: fidelity %.1f%% is below --min-fidelity %.1f%%\n",
                    fidelity, options->min_fidelity);
            rc = CLI_EXIT_FAILED;
        }
    }
    fltsim_replay_report_free(&report);
    if (rc < CLI_EXIT_ERROR && !trace_ok)
        rc = CLI_EXIT_ERROR;
    return rc;
}

int cli_import(const struct cli_options *options, const char *capture)
{
    if (options->output == NULL) {
        fprintf(stderr, "fltsim import: needs -o SCENARIO.yaml\nTry 'fltsim import --help'.\n");
        return CLI_EXIT_USAGE;
    }
    if (!distinct_from_inputs("import", options, options->output, "the output (-o)", capture))
        return CLI_EXIT_USAGE;
    struct fltsim__output out;
    int err = fltsim__output_open(&out, options->output);
    if (err != 0) {
        fprintf(stderr, "fltsim import: cannot write %s: %s\n", options->output, strerror(err));
        return CLI_EXIT_ERROR;
    }
    struct fltsim_replay_options ro = {0};
    fill(&ro, options);
    ro.import = out.stream;
    const char *slash = strrchr(capture, '/');
    ro.import_name = slash != NULL ? slash + 1 : capture;
    struct fltsim_replay_report report;
    char error[1024] = "";
    NTSTATUS status = fltsim_replay_run(capture, &ro, &report, error, sizeof(error));
    int rc = CLI_EXIT_OK;
    if (!NT_SUCCESS(status)) {
        /* Nothing is renamed into place: an existing file stays as it was. */
        fltsim__output_abort(&out);
        fprintf(stderr, "fltsim import: %s (%s is not written)\n", error, options->output);
        rc = exit_of(status);
    } else if ((err = fltsim__output_commit(&out)) != 0) {
        fprintf(stderr, "fltsim import: cannot write %s: %s; it is left as it was\n",
                options->output, strerror(err));
        rc = CLI_EXIT_ERROR;
    } else {
        printf("%s: %llu steps from %llu replayed rows of %s (%llu rows read, %llu skipped)\n",
               options->output,
               (unsigned long long)(report.replayed + report.implied_opens),
               (unsigned long long)report.replayed, capture, (unsigned long long)report.rows,
               (unsigned long long)report.skipped);
    }
    fltsim_replay_report_free(&report);
    return rc;
}
