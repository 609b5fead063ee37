/*
 * Scenario running, user programs (scenario_run_internal.h): opening the
 * programs' shared objects, the program steps (start, input, wait_program,
 * stop, kill), carried out on the runner, the console output of each program
 * copied to the run's output a line at a time with a "[NAME] " prefix, and
 * at the end of the run the programs still running terminated (a line says
 * so) and the end expect's programs: checked, before the system goes. The
 * processes themselves are the model's (fltsim/program.h).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_run_internal.h"

/* The longest console output a check reads (a wait_program's expect:, the
 * end expect): more than any scenario's program prints. */
#define OUTPUT_CHECK_MAX (256u * 1024u)
/* How long a terminated program may take to end. */
#define KILL_TIMEOUT_MS 10000u

/* One log line naming step i, counted as a failed expectation. */
static void step_fail(struct run *run, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void step_fail(struct run *run, size_t i, const char *fmt, ...)
{
    const struct sc_step *s = &run->sc->steps[i];
    char detail[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    fltsim__run_log(run, "%s:%d: step %zu (%s %s): %s", run->sc->path, s->line, i + 1, s->label,
                    run->sc->programs[s->program].name, detail);
    run->result->expectations_failed++;
}

NTSTATUS fltsim__run_open_programs(struct run *run)
{
    for (size_t i = 0; i < run->sc->program_count; i++) {
        const struct sc_program *p = &run->sc->programs[i];
        struct rprogram *rp = &run->programs[i];
        rp->run = run;
        rp->index = i;
        rp->line_start = true;
        if (p->object == NULL)
            continue;
        /* Checked at load; it may have changed since. */
        char why[8192];
        NTSTATUS status =
            fltsim__program_object_open(p->object, p->object, &rp->object, why, sizeof(why));
        if (!NT_SUCCESS(status)) {
            fltsim__run_log(run, "%s: program '%s': %s", run->sc->path, p->name, why);
            return status;
        }
    }
    return STATUS_SUCCESS;
}

/* The process's console output to the run's output, each line after
 * "[NAME] ". On the printing thread, with no lock of the model held. */
static void output_cb(void *ctx, const fltsim_process *process, const char *text, size_t length)
{
    (void)process;
    struct rprogram *rp = ctx;
    struct run *run = rp->run;
    FILE *out = run->options->output;
    if (out == NULL)
        return;
    const char *name = run->sc->programs[rp->index].name;
    uv_mutex_lock(&run->lock);
    while (length > 0) {
        const char *nl = memchr(text, '\n', length);
        size_t n = nl != NULL ? (size_t)(nl - text) + 1 : length;
        if (rp->line_start && n <= INT_MAX) { /* one call: one write on an unbuffered stream */
            fprintf(out, "[%s] %.*s", name, (int)n, text);
        } else {
            if (rp->line_start)
                fprintf(out, "[%s] ", name);
            fwrite(text, 1, n, out);
        }
        rp->line_start = nl != NULL;
        text += n;
        length -= n;
    }
    fflush(out);
    uv_mutex_unlock(&run->lock);
}

/* The process's output so far (malloc'd, terminated), or NULL. */
static char *output_of(fltsim_process *process)
{
    size_t n = fltsim_process_output(process, NULL, 0);
    if (n >= OUTPUT_CHECK_MAX)
        n = OUTPUT_CHECK_MAX - 1;
    char *text = malloc(n + 1);
    if (text != NULL)
        fltsim_process_output(process, text, n + 1);
    return text;
}

/* Checks e against the process; each failure goes to fail(ctx, detail). */
static void check_expect(struct run *run, fltsim_process *process,
                         const struct sc_program_expect *e,
                         void (*fail)(struct run *run, size_t at, const char *detail), size_t at)
{
    char detail[1024];
    if (e->has_exit_code) {
        run->result->expectations_checked++;
        ULONG code = 0;
        if (!fltsim_process_exited(process, &code)) {
            fail(run, at, "exit code: it still runs");
        } else if (code != e->exit_code) {
            snprintf(detail, sizeof(detail), "exit code %lu (0x%08lx); expected %lu",
                     (unsigned long)code, (unsigned long)code, (unsigned long)e->exit_code);
            fail(run, at, detail);
        }
    }
    if (e->output_count == 0)
        return;
    char *text = output_of(process);
    if (text == NULL) {
        run->out_of_memory = true;
        return;
    }
    run->result->expectations_checked += (ULONG)e->output_count;
    for (size_t k = 0; k < e->output_count; k++)
        if (strstr(text, e->outputs[k]) == NULL) {
            snprintf(detail, sizeof(detail), "output has no \"%s\"", e->outputs[k]);
            fail(run, at, detail);
        }
    free(text);
}

static void step_expect_fail(struct run *run, size_t i, const char *detail)
{
    step_fail(run, i, "%s", detail);
}

static void end_expect_fail(struct run *run, size_t index, const char *detail)
{
    fltsim__run_log(run, "%s:%d: end of run: program '%s': %s", run->sc->path,
                    run->sc->expect.program_lines[index], run->sc->programs[index].name, detail);
    run->result->expectations_failed++;
}

/* fltsim_process_describe's lines joined into one ("; "). */
static void one_line(char *text)
{
    for (char *c = text; *c != '\0'; c++)
        if (*c == '\n')
            *c = c[1] != '\0' ? ';' : '\0';
}

static void start(struct run *run, size_t i)
{
    const struct sc_step *s = &run->sc->steps[i];
    const struct sc_program *p = &run->sc->programs[s->program];
    struct rprogram *rp = &run->programs[s->program];
    struct fltsim_process_params params = {
        .name = p->image,
        .process_id = p->process_id,
        .main = p->builtin != NULL ? p->builtin->main : rp->object.main,
        .wmain = p->builtin != NULL ? NULL : rp->object.wmain,
        .argc = (int)(s->args != NULL ? s->arg_count : p->arg_count),
        .argv = s->args != NULL ? s->args : p->args,
        .output = output_cb,
        .output_ctx = rp,
    };
    char b[48];
    NTSTATUS status = fltsim_process_start(run->sys, &params, &rp->process);
    if (!NT_SUCCESS(status)) {
        rp->process = NULL;
        step_fail(run, i, "cannot be started: %s (%s)",
                  fltsim_ntstatus_format(status, b, sizeof(b)), fltsim_last_error());
        return;
    }
    if (s->program_text != NULL) {
        status = fltsim_process_input(rp->process, s->program_text, strlen(s->program_text));
        if (!NT_SUCCESS(status))
            step_fail(run, i, "its input cannot be typed: %s",
                      fltsim_ntstatus_format(status, b, sizeof(b)));
    }
}

static const char *until_name(ULONG until)
{
    return until == FLTSIM_PROCESS_EXIT   ? "its exit"
           : until == FLTSIM_PROCESS_IDLE ? "it to be idle"
                                          : "its output";
}

static void wait_program(struct run *run, size_t i, fltsim_process *process)
{
    const struct sc_step *s = &run->sc->steps[i];
    char b[48];
    run->result->expectations_checked++; /* that it gets there in time */
    NTSTATUS status = fltsim_process_wait(process, (enum fltsim_process_until)s->until,
                                          s->program_text, s->timeout_ms);
    if (status == STATUS_TIMEOUT) {
        char threads[1536];
        fltsim_process_describe(process, threads, sizeof(threads));
        one_line(threads);
        step_fail(run, i, "timed out after %lu ms waiting for %s%s%s%s; %s",
                  (unsigned long)s->timeout_ms, until_name(s->until),
                  s->until == FLTSIM_PROCESS_OUTPUT ? " \"" : "",
                  s->until == FLTSIM_PROCESS_OUTPUT ? s->program_text : "",
                  s->until == FLTSIM_PROCESS_OUTPUT ? "\"" : "", threads);
        return;
    }
    if (!NT_SUCCESS(status)) {
        ULONG code = 0;
        fltsim_process_exited(process, &code);
        if (s->until == FLTSIM_PROCESS_OUTPUT)
            step_fail(run, i, "it exited (code %lu) without printing \"%s\": %s",
                      (unsigned long)code, s->program_text,
                      fltsim_ntstatus_format(status, b, sizeof(b)));
        else
            step_fail(run, i, "it exited (code %lu) before it was idle: %s", (unsigned long)code,
                      fltsim_ntstatus_format(status, b, sizeof(b)));
        return;
    }
    check_expect(run, process, &s->program_expect, step_expect_fail, i);
}

/* fltsim_process_terminate asks the process to end; its threads leave at
 * their next Win32 call, so the exit is waited for (one running its own
 * code forever is a timeout, named). */
static NTSTATUS wait_exit(struct run *run, size_t i, fltsim_process *process)
{
    NTSTATUS status = fltsim_process_wait(process, FLTSIM_PROCESS_EXIT, NULL, KILL_TIMEOUT_MS);
    if (status == STATUS_TIMEOUT) {
        char threads[1536];
        fltsim_process_describe(process, threads, sizeof(threads));
        one_line(threads);
        if (i != (size_t)-1)
            step_fail(run, i, "it did not end within %u ms of TerminateProcess; %s",
                      KILL_TIMEOUT_MS, threads);
        else
            fltsim__run_log(run,
                            "%s: end of run: program '%s' did not end within %u ms of "
                            "TerminateProcess; %s",
                            run->sc->path, fltsim_process_name(process), KILL_TIMEOUT_MS, threads);
    }
    return status;
}

void fltsim__run_program_step(struct run *run, size_t i)
{
    const struct sc_step *s = &run->sc->steps[i];
    struct rprogram *rp = &run->programs[s->program];
    char b[48];
    NTSTATUS status;
    if (s->kind == SC_STEP_START) {
        start(run, i);
        return;
    }
    if (rp->process == NULL) {
        step_fail(run, i, "the program did not start");
        return;
    }
    switch (s->kind) {
    case SC_STEP_INPUT:
        status = fltsim_process_input(rp->process, s->program_text, strlen(s->program_text));
        if (!NT_SUCCESS(status))
            step_fail(run, i, "cannot type at its console: %s",
                      fltsim_ntstatus_format(status, b, sizeof(b)));
        break;
    case SC_STEP_WAIT_PROGRAM:
        wait_program(run, i, rp->process);
        break;
    case SC_STEP_STOP:
        status = fltsim_process_ctrl_c(rp->process);
        if (!NT_SUCCESS(status))
            step_fail(run, i, "Ctrl+C: %s", fltsim_ntstatus_format(status, b, sizeof(b)));
        break;
    case SC_STEP_KILL:
        status = fltsim_process_terminate(rp->process, s->exit_code);
        if (!NT_SUCCESS(status))
            step_fail(run, i, "TerminateProcess: %s", fltsim_ntstatus_format(status, b, sizeof(b)));
        else
            wait_exit(run, i, rp->process);
        break;
    default:
        break;
    }
}

void fltsim__run_end_programs(struct run *run)
{
    const struct fltsim_scenario *sc = run->sc;
    for (size_t i = 0; i < sc->program_count; i++) {
        struct rprogram *rp = &run->programs[i];
        if (rp->process == NULL || fltsim_process_exited(rp->process, NULL))
            continue;
        if (run->options->output != NULL) {
            uv_mutex_lock(&run->lock);
            fprintf(run->options->output,
                    "%s%s: end of run: program '%s' still runs; terminated (exit code 1)\n",
                    rp->line_start ? "" : "\n", sc->path, sc->programs[i].name);
            rp->line_start = true;
            fflush(run->options->output);
            uv_mutex_unlock(&run->lock);
        }
        if (NT_SUCCESS(fltsim_process_terminate(rp->process, 1)) &&
            wait_exit(run, (size_t)-1, rp->process) == STATUS_TIMEOUT)
            run->result->expectations_failed++;
    }
    if (sc->expect.programs == NULL)
        return;
    for (size_t i = 0; i < sc->program_count; i++) {
        if (sc->expect.program_lines[i] == 0)
            continue;
        if (run->programs[i].process == NULL) {
            end_expect_fail(run, i, "it did not start");
            continue;
        }
        check_expect(run, run->programs[i].process, &sc->expect.programs[i], end_expect_fail, i);
    }
}

void fltsim__run_free_programs(struct run *run)
{
    if (run->programs == NULL)
        return;
    for (size_t i = 0; i < run->sc->program_count; i++)
        if (run->programs[i].process != NULL) {
            fltsim_process_free(run->programs[i].process);
            run->programs[i].process = NULL;
        }
}

void fltsim__run_close_programs(struct run *run)
{
    if (run->programs == NULL)
        return;
    for (size_t i = 0; i < run->sc->program_count; i++)
        fltsim__program_object_close(&run->programs[i].object);
}
