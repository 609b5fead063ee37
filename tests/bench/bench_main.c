/*
 * fltsim-bench: runs the benchmark sections of issue 7 and prints one
 * script-readable line per figure (bench.h). Usage in usage() below.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "bench.h"

#ifndef FLTSIM_BENCH_TRACES
#define FLTSIM_BENCH_TRACES "../shared/traces/procmon-parser"
#endif

uint64_t bench_now_ns(void)
{
    return uv_hrtime();
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

uint64_t bench_count(const struct bench_opts *opts, uint64_t count, uint64_t minimum)
{
    double scaled = (double)count * opts->scale;
    return scaled < (double)minimum ? minimum : (uint64_t)scaled;
}

void bench_report(const struct bench_opts *opts, const char *name, const char *unit,
                  double value, const char *baseline, double baseline_value,
                  enum bench_goal goal, double target)
{
    double ratio = baseline != NULL ? (baseline_value > 0 ? value / baseline_value : 0)
                                    : (target > 0 ? value / target : 0);
    printf("bench name=%s unit=%s value=%.6g", name, unit, value);
    if (baseline != NULL)
        printf(" baseline=%s baseline_value=%.6g ratio=%.3f", baseline, baseline_value, ratio);
    if (goal != BENCH_NONE) {
        bool met = goal == BENCH_LE ? (baseline ? ratio : value) <= target
                                    : (baseline ? ratio : value) >= target;
        printf(" target=%s%g%s met=%s", goal == BENCH_LE ? "<=" : ">=", target,
               baseline != NULL ? "x" : unit, met ? "yes" : "no");
    }
    printf(" runs=%d\n", opts->runs);
    fflush(stdout);
}

static const struct {
    const char *name;
    int (*run)(const struct bench_opts *opts);
    const char *what;
} sections[] = {
    {"dispatch", bench_dispatch, "operations through 0/1/3/8 pass-through filters vs a bare chain"},
    {"names", bench_names, "a cached normalized FltGetFileNameInformation vs 1 filter's dispatch"},
    {"pend", bench_pend, "pend round trip and 100,000 pended operations vs raw uv_queue_work"},
    {"replay", bench_replay, "Process Monitor replay vs the capture reader alone"},
    {"context", bench_context, "FltGetStreamContext on a hit vs one dispatch through one filter"},
    {"fltio", bench_fltio, "a filter's FltReadFile of 4 KiB below its instance vs an app's read"},
    {"port", bench_port, "FltSendMessage -> FilterGetMessage -> FilterReplyMessage vs pend trip"},
    {"scaling", bench_scaling, "1 vs 2 requestor threads; deterministic vs concurrent executor"},
};
#define SECTION_COUNT (sizeof(sections) / sizeof(sections[0]))

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fltsim-bench [--runs N] [--scale X] [--smoke] [--traces DIR] [--verbose]\n"
            "                    [SECTION...]\n"
            "Runs every section, or those named. Each figure is the median of N runs (5)\n"
            "and prints as one line: bench name=... unit=... value=... baseline=...\n"
            "baseline_value=... ratio=... target=... met=yes|no runs=N\n"
            "--scale multiplies operation counts (1.0); --smoke is --runs 1 --scale 0.001.\n"
            "--traces: where the Process Monitor captures are (%s).\n"
            "sections:\n",
            FLTSIM_BENCH_TRACES);
    for (size_t i = 0; i < SECTION_COUNT; i++)
        fprintf(out, "  %-9s %s\n", sections[i].name, sections[i].what);
}

static bool parse_number(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v > 0))
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    struct bench_opts opts = {.runs = 5, .scale = 1.0, .traces_dir = FLTSIM_BENCH_TRACES};
    bool wanted[SECTION_COUNT] = {false};
    bool any = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        double v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--runs") == 0 && i + 1 < argc) {
            if (!parse_number(argv[++i], &v) || v != (int)v || v > 1000) {
                fprintf(stderr, "fltsim-bench: --runs %s: expected a whole number 1..1000\n",
                        argv[i]);
                return 2;
            }
            opts.runs = (int)v;
        } else if (strcmp(a, "--scale") == 0 && i + 1 < argc) {
            if (!parse_number(argv[++i], &v) || v > 1000) {
                fprintf(stderr, "fltsim-bench: --scale %s: expected a number above 0, up to 1000\n",
                        argv[i]);
                return 2;
            }
            opts.scale = v;
        } else if (strcmp(a, "--smoke") == 0) {
            opts.runs = 1;
            opts.scale = 0.001;
        } else if (strcmp(a, "--traces") == 0 && i + 1 < argc) {
            opts.traces_dir = argv[++i];
        } else if (strcmp(a, "--verbose") == 0) {
            opts.verbose = true;
        } else {
            size_t s = 0;
            while (s < SECTION_COUNT && strcmp(sections[s].name, a) != 0)
                s++;
            if (s == SECTION_COUNT) {
                fprintf(stderr, "fltsim-bench: %s: not an option or a section\n", a);
                usage(stderr);
                return 2;
            }
            wanted[s] = true;
            any = true;
        }
    }
    int failed = 0;
    for (size_t s = 0; s < SECTION_COUNT; s++)
        if (!any || wanted[s])
            failed |= sections[s].run(&opts);
    return failed;
}
