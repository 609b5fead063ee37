/*
 * PRIVATE to the scenario suites (test_scenario.c, test_scenario_errors.c,
 * test_filter_objects.c): scenario files written into a temporary directory of the suite's own
 * ("@HOLD@" standing for the hold_reads fixture, FLTSIM_TEST_HOLD_READS_SO),
 * loaded and run under the suite's executor with the run's log kept, and
 * assertions on the outcome. Define _GNU_SOURCE before including it. Static
 * inline, because each suite executable has its own directory and its short
 * names (run_text, outcome) mean other things in other suites.
 */
#ifndef FLTSIM_SCENARIO_FX_H
#define FLTSIM_SCENARIO_FX_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fltsim/scenario.h>

#include "fltsim_test.h"

/* The suite's temporary directory, made by the first write_scenario. */
static char tmpdir[256];

/* Writes text (with "@HOLD@" replaced by the fixture filter's path) into a
 * scenario file named name in the suite's temporary directory; returns its
 * path (static buffer). */
static inline const char *write_scenario(const char *name, const char *text)
{
    static char path[512];
    if (tmpdir[0] == '\0') {
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/fltsim-scenario-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
    }
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (const char *p = text; *p != '\0';) {
        if (strncmp(p, "@HOLD@", 6) == 0) {
            fputs(FLTSIM_TEST_HOLD_READS_SO, f);
            p += 6;
        } else {
            fputc(*p++, f);
        }
    }
    fclose(f);
    return path;
}

struct outcome {
    NTSTATUS status;
    struct fltsim_scenario_result result;
    char log[8192];
};

/* Loads text (asserting it loads) and runs it under the suite's executor. */
static inline void run_text_with(const char *name, const char *text,
                                 const struct fltsim_scenario_run_options *base,
                                 struct outcome *out)
{
    char error[512];
    struct fltsim_scenario *sc;
    const char *path = write_scenario(name, text);
    NTSTATUS st = fltsim_scenario_load(path, &sc, error, sizeof(error));
    if (!NT_SUCCESS(st))
        fail_msg("%s does not load: %s", name, error);

    char *logbuf = NULL;
    size_t logsize = 0;
    FILE *log = open_memstream(&logbuf, &logsize);
    assert_non_null(log);
    struct fltsim_scenario_run_options options = {0};
    if (base != NULL)
        options = *base;
    options.override_executor = true;
    options.executor = test_executor;
    if (test_executor == FLTSIM_EXECUTOR_CONCURRENT)
        options.skip_golden = true;
    options.log = log;
    out->status = fltsim_scenario_run(sc, &options, &out->result);
    fclose(log);
    snprintf(out->log, sizeof(out->log), "%s", logbuf ? logbuf : "");
    free(logbuf);
    fltsim_scenario_free(sc);
}

/* The same, for runs that may not be carried out: only the status is kept. */
static inline void run_text_with_status(const char *name, const char *text, struct outcome *out)
{
    run_text_with(name, text, NULL, out);
}

static inline void run_text(const char *name, const char *text, struct outcome *out)
{
    run_text_with(name, text, NULL, out);
}

/* Asserts the run succeeded, printing its log otherwise. */
static inline void assert_run_ok(const struct outcome *o)
{
    if (o->status != STATUS_SUCCESS || o->result.expectations_failed != 0)
        fail_msg("run failed (0x%08x, %lu failed):\n%s", (unsigned)o->status,
                 (unsigned long)o->result.expectations_failed, o->log);
}

static inline void assert_log_has(const struct outcome *o, const char *text)
{
    if (strstr(o->log, text) == NULL)
        fail_msg("log lacks \"%s\":\n%s", text, o->log);
}

/* Removes the temporary directory, if a case made it; returns 1 when that
 * fails (a failure for main to count), else 0. */
static inline int remove_tmpdir(void)
{
    if (tmpdir[0] != '\0') {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            return 1;
    }
    return 0;
}

#endif /* FLTSIM_SCENARIO_FX_H */
