/*
 * Scenario running: builds a fresh fltsim system from a loaded scenario
 * (registry, faults, volumes, filters), hands its steps out in order and
 * fills in the result. The caller's thread is the runner: it hands each step
 * to the simulated requestor thread the step names (one fltsim_thread per
 * scenario thread) through a KEVENT and waits on the step's own KEVENT until
 * it finishes, unless the step is nowait; waiting only on Ke events keeps
 * this correct under both executors (under the deterministic one a wait is
 * where the other coroutines run). The trace (the user's sinks and, for the
 * golden comparison, a normalized sink in memory) gets a note per step;
 * reports are collected from the trace so that those raised while the
 * system shuts down count too. What a step does on its thread is
 * scenario_run_step.c's; checking expectations (on the runner, when a step
 * is seen to finish, and at the end of the run) is scenario_run_check.c's.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <fltsim/faultfs.h>
#include <fltsim/hostfs.h>
#include <fltsim/io.h>
#include <fltsim/memfs.h>
#include <fltsim/trace.h>

#include "scenario_run_internal.h"
#include "common/filter_object.h"

/* How long the runner waits for the system to become idle at the end of the
 * run (after the scenario threads are gone) before it calls the run stuck. */
#define IDLE_TIMEOUT_MS 30000
/* How long the runner lets a nowait step get going before the next step:
 * under the deterministic executor virtual time only moves when no thread is
 * ready, so every other thread runs until it waits; under the concurrent one
 * it is a real 50 ms (a step that must have pended by then, for a later
 * complete_pended, could race on a loaded machine: real concurrency). */
#define SETTLE_100NS (-500000LL)
/* The runner's own identity (it loads filters and waits): the System process. */
#define RUNNER_PROCESS_ID 4
#define RUNNER_THREAD_ID 8

/* ------------------------------------------------------------------------- */
/* Where the run stands (fltsim_scenario_position)                           */
/* ------------------------------------------------------------------------- */

static struct run *volatile current_run; /* the last run started, while it runs */
static volatile size_t runner_step;      /* 1-based; 0 outside the steps */
static const char *volatile runner_phase;

static void set_position(struct run *run, const char *phase, size_t step)
{
    runner_phase = phase;
    runner_step = step;
    __atomic_store_n(&current_run, run, __ATOMIC_SEQ_CST);
}

/* Read by a crash handler or a watchdog while the run goes on (see
 * scenario.h): ThreadSanitizer would call the reads races, which they are. */
__attribute__((no_sanitize("thread"))) bool
fltsim_scenario_position(ULONG thread_id, struct fltsim_scenario_position *out)
{
    struct run *run = __atomic_load_n(&current_run, __ATOMIC_SEQ_CST);
    memset(out, 0, sizeof(*out));
    if (run == NULL)
        return false;
    const struct fltsim_scenario *sc = run->sc;
    out->path = sc->path;
    out->phase = runner_phase;
    size_t step = runner_step;
    for (size_t k = 0; thread_id != 0 && run->threads != NULL && k < sc->thread_count; k++) {
        const struct rthread *t = &run->threads[k];
        if (sc->threads[k].thread_id == thread_id && t->busy && t->current < sc->step_count)
            step = t->current + 1;
    }
    if (step != 0 && step <= sc->step_count) {
        const struct sc_step *s = &sc->steps[step - 1];
        out->step = step;
        out->line = s->line;
        out->label = s->label;
        out->id = s->id;
    }
    return true;
}

/* ------------------------------------------------------------------------- */
/* Log and trace                                                             */
/* ------------------------------------------------------------------------- */

void fltsim__run_log(struct run *run, const char *fmt, ...)
{
    /* One write of the whole line: a program's output, echoed by another
     * thread to another stream of the same terminal or pipe, must not land
     * inside it. */
    char small[2048], *line = small;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(small) - 1) {
        line = malloc((size_t)n + 2);
        if (line == NULL)
            line = small, n = (int)sizeof(small) - 2; /* the line cut short */
        else {
            va_start(ap, fmt);
            vsnprintf(line, (size_t)n + 1, fmt, ap);
            va_end(ap);
        }
    }
    line[n] = '\n';
    fwrite(line, 1, (size_t)n + 1, run->log);
    fflush(run->log);
    if (line != small)
        free(line);
}

static void trace_cb(void *ctx, const struct fltsim_event *event)
{
    struct run *run = ctx;
    uv_mutex_lock(&run->lock);
    if (event->type == FLTSIM_EV_REPORT) {
        if (run->report_count == run->report_capacity) {
            size_t cap = run->report_capacity ? run->report_capacity * 2 : 16;
            void *p = realloc(run->reports, cap * sizeof(*run->reports));
            if (p == NULL) {
                run->out_of_memory = true;
            } else {
                run->reports = p;
                run->report_capacity = cap;
            }
        }
        if (run->report_count < run->report_capacity) {
            const char *rule = event->rule ? event->rule : "?";
            size_t n = strcspn(rule, " ");
            if (n >= sizeof(run->reports[0]))
                n = sizeof(run->reports[0]) - 1;
            memcpy(run->reports[run->report_count], rule, n);
            run->reports[run->report_count][n] = '\0';
            run->report_count++;
        }
        if (run->verifier == FLTSIM_VERIFIER_REPORT)
            fltsim__run_log(run, "%s: verifier report %s: %s%s%s%s%s", run->sc->path,
                            event->rule ? event->rule : "?", event->filter ? event->filter : "",
                            event->altitude ? " (" : "", event->altitude ? event->altitude : "",
                            event->altitude ? "): " : (event->filter ? ": " : ""),
                            event->detail ? event->detail : "");
    }
    if (run->golden_sink != NULL)
        fltsim_trace_sink_event(run->golden_sink, event);
    if (run->user != NULL)
        fltsim_trace_tee_event(run->user, event);
    uv_mutex_unlock(&run->lock);
}

static void trace_note(struct run *run, const char *text)
{
    uv_mutex_lock(&run->lock);
    if (run->golden_sink != NULL)
        fltsim_trace_sink_note(run->golden_sink, text);
    if (run->user != NULL)
        fltsim_trace_tee_note(run->user, text);
    uv_mutex_unlock(&run->lock);
}

static const char *fltmc_view_name(enum fltsim_fltmc_view view)
{
    return view == FLTSIM_FLTMC_FILTERS     ? "filters"
           : view == FLTSIM_FLTMC_INSTANCES ? "instances"
                                            : "volumes";
}

static void fltmc_line(void *ctx, const char *line)
{
    FILE *out = ctx;
    fputs(line, out);
    fputc('\n', out);
}

/* An fltmc view to the run's output, announced by where (a step, or the end). */
static void print_fltmc(struct run *run, const char *where, enum fltsim_fltmc_view view)
{
    FILE *out = run->options->output;
    if (out == NULL)
        return;
    fprintf(out, "%s: fltmc %s\n", where, fltmc_view_name(view));
    NTSTATUS status = fltsim_fltmc(run->sys, view, fltmc_line, out);
    if (!NT_SUCCESS(status))
        fltsim__run_log(run, "%s: fltmc %s: %s", where, fltmc_view_name(view), fltsim_last_error());
    fflush(out);
}

static void step_note(struct run *run, size_t i)
{
    const struct fltsim_scenario *sc = run->sc;
    const struct sc_step *s = &sc->steps[i];
    char text[512], what[300] = "";
    if (s->kind == SC_STEP_IO && s->path != NULL) {
        fltsim_utf16_to_utf8(s->path, fltsim_wcslen(s->path), what, sizeof(what));
    } else if (s->kind == SC_STEP_IO && s->handle >= 0) {
        snprintf(what, sizeof(what), "%s", sc->handles[s->handle]);
    } else if (s->kind == SC_STEP_NOTE) {
        snprintf(what, sizeof(what), "%s", s->note);
    } else if (s->kind == SC_STEP_FLTMC) {
        snprintf(what, sizeof(what), "%s", fltmc_view_name(s->fltmc));
    } else if (SC_STEP_IS_PROGRAM(s->kind)) {
        snprintf(what, sizeof(what), "%s", sc->programs[s->program].name);
    } else if (s->kind == SC_STEP_PS) {
        fltsim__run_ps_what(run, s, what, sizeof(what));
    } else if (s->kind != SC_STEP_WAIT) {
        snprintf(what, sizeof(what), "%s", sc->filters[s->filter].name);
    }
    int n = snprintf(text, sizeof(text), "step %zu", i + 1);
    if (s->id != NULL)
        n += snprintf(text + n, sizeof(text) - (size_t)n, " %s", s->id);
    snprintf(text + n, sizeof(text) - (size_t)n, ": %s%s%s%s%s", s->label, what[0] ? " " : "", what,
             s->thread != 0 ? " on " : "", s->thread != 0 ? sc->threads[s->thread].name : "");
    trace_note(run, text);
}

static void step_fltmc(struct run *run, size_t i)
{
    const struct sc_step *s = &run->sc->steps[i];
    char where[600];
    snprintf(where, sizeof(where), "%s:%d: step %zu", run->sc->path, s->line, i + 1);
    step_note(run, i);
    print_fltmc(run, where, s->fltmc);
}

/* ------------------------------------------------------------------------- */
/* Setup                                                                     */
/* ------------------------------------------------------------------------- */

static NTSTATUS set_registry(struct run *run)
{
    for (size_t i = 0; i < run->sc->registry_count; i++) {
        const struct sc_registry_value *v = &run->sc->registry[i];
        NTSTATUS status = v->type == REG_DWORD
                              ? fltsim_registry_set_dword(run->sys, v->key, v->name, v->dword)
                              : fltsim_registry_set_string(run->sys, v->key, v->name, v->text);
        if (!NT_SUCCESS(status)) {
            char key[512], b[48];
            fltsim_utf16_to_utf8(v->key, fltsim_wcslen(v->key), key, sizeof(key));
            fltsim__run_log(run, "%s: registry value under %s cannot be set: %s (%s)",
                            run->sc->path, key, fltsim_ntstatus_format(status, b, sizeof(b)),
                            fltsim_last_error());
            return status;
        }
    }
    return STATUS_SUCCESS;
}

/* Every volume of a scenario is wrapped in faultfs, so that its operations
 * are fault points (an explorer counts them) and the volume's fs faults
 * apply. faultfs passes everything else through unchanged. */
static NTSTATUS mount_wrapped(struct run *run, const struct sc_volume *v,
                              struct fltsim_volume_params *params)
{
    struct fltsim_faultfs *ffs;
    NTSTATUS status = fltsim_faultfs_create(run->sys, params->ops, params->fs, &ffs);
    if (!NT_SUCCESS(status)) {
        params->ops->release_cb(params->fs);
        return status;
    }
    for (size_t i = 0; i < run->sc->fault_count && NT_SUCCESS(status); i++) {
        const struct sc_fault *f = &run->sc->faults[i];
        if (f->fs && f->drive == v->drive)
            status = fltsim_faultfs_add_rule(ffs, &f->rule);
    }
    if (NT_SUCCESS(status)) {
        params->ops = &fltsim_faultfs_ops;
        params->fs = ffs;
        PFLT_VOLUME volume;
        status = fltsim_volume_mount(run->sys, params, &volume);
    }
    if (!NT_SUCCESS(status))
        fltsim_faultfs_destroy(ffs); /* releases the inner file system */
    return status;
}

/* A file entry's junction or symbolic link, as FSCTL_SET_REPARSE_POINT sets
 * it: the substitute name is the target (\\??\\ form, or relative), the print
 * name the same without \\??\\. */
static NTSTATUS set_link(struct fltsim_memfs *mfs, const struct sc_file *f)
{
    bool junction = f->junction != NULL;
    PCWSTR target = junction ? f->junction : f->symlink;
    size_t t = fltsim_wcslen(target);
    bool relative = !junction && target[0] != L'\\';
    size_t skip = relative ? 0 : 4; /* the print name drops \\??\\ */
    size_t pn = t - skip;
    size_t fixed = junction
                       ? FIELD_OFFSET(REPARSE_DATA_BUFFER, MountPointReparseBuffer.PathBuffer)
                       : FIELD_OFFSET(REPARSE_DATA_BUFFER, SymbolicLinkReparseBuffer.PathBuffer);
    size_t names = (t + 1 + pn + 1) * sizeof(WCHAR);
    if (fixed + names > MAXIMUM_REPARSE_DATA_BUFFER_SIZE)
        return STATUS_IO_REPARSE_DATA_INVALID;
    UCHAR *buf = calloc(1, fixed + names);
    if (buf == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    PREPARSE_DATA_BUFFER r = (PREPARSE_DATA_BUFFER)buf;
    WCHAR *path;
    r->ReparseTag = junction ? IO_REPARSE_TAG_MOUNT_POINT : IO_REPARSE_TAG_SYMLINK;
    r->ReparseDataLength = (USHORT)(fixed + names - REPARSE_DATA_BUFFER_HEADER_SIZE);
    if (junction) {
        r->MountPointReparseBuffer.SubstituteNameLength = (USHORT)(t * sizeof(WCHAR));
        r->MountPointReparseBuffer.PrintNameOffset = (USHORT)((t + 1) * sizeof(WCHAR));
        r->MountPointReparseBuffer.PrintNameLength = (USHORT)(pn * sizeof(WCHAR));
        path = r->MountPointReparseBuffer.PathBuffer;
    } else {
        r->SymbolicLinkReparseBuffer.SubstituteNameLength = (USHORT)(t * sizeof(WCHAR));
        r->SymbolicLinkReparseBuffer.PrintNameOffset = (USHORT)((t + 1) * sizeof(WCHAR));
        r->SymbolicLinkReparseBuffer.PrintNameLength = (USHORT)(pn * sizeof(WCHAR));
        r->SymbolicLinkReparseBuffer.Flags = relative ? SYMLINK_FLAG_RELATIVE : 0;
        path = r->SymbolicLinkReparseBuffer.PathBuffer;
    }
    memcpy(path, target, t * sizeof(WCHAR));
    memcpy(path + t + 1, target + skip, pn * sizeof(WCHAR));
    NTSTATUS status = fltsim_memfs_set_reparse_point(mfs, f->path, buf, fixed + names);
    free(buf);
    return status;
}

static NTSTATUS mount_volume(struct run *run, const struct sc_volume *v)
{
    NTSTATUS status;
    char b[48];
    struct fltsim_volume_params params = {.device_name = v->device,
                                          .drive_letter = v->drive,
                                          .fs_type = FLT_FSTYPE_NTFS,
                                          .completion = v->completion};
    if (v->fs == SC_FS_HOSTFS) {
        struct fltsim_hostfs *hfs;
        struct fltsim_hostfs_options ho = {v->read_only ? FLTSIM_HOSTFS_READ_ONLY : 0};
        status = fltsim_hostfs_create(v->root, &ho, &hfs);
        if (!NT_SUCCESS(status)) {
            fltsim__run_log(run, "%s:%zu:%zu: volume %c: hostfs over %s cannot be created: %s (%s)",
                            run->sc->path, v->line, v->column, (char)v->drive, v->root,
                            fltsim_ntstatus_format(status, b, sizeof(b)), fltsim_last_error());
            return status;
        }
        params.ops = &fltsim_hostfs_ops;
        params.fs = hfs;
    } else {
        struct fltsim_memfs *mfs;
        struct fltsim_memfs_options mo = {.flags = v->fast_io ? 0 : FLTSIM_MEMFS_NO_FAST_IO,
                                          .capacity_bytes = v->capacity};
        status = fltsim_memfs_create(&mo, &mfs);
        if (!NT_SUCCESS(status)) {
            fltsim__run_log(run, "%s:%zu:%zu: volume %c: memfs cannot be created: %s",
                            run->sc->path, v->line, v->column, (char)v->drive,
                            fltsim_ntstatus_format(status, b, sizeof(b)));
            return status;
        }
        for (size_t i = 0; i < v->file_count && NT_SUCCESS(status); i++) {
            const struct sc_file *f = &v->files[i];
            status = f->directory ? fltsim_memfs_add_directory(mfs, f->path)
                                  : fltsim_memfs_add_file(mfs, f->path, f->data.data, f->data.size);
            if (NT_SUCCESS(status) && (f->junction != NULL || f->symlink != NULL))
                status = set_link(mfs, f);
            if (!NT_SUCCESS(status)) {
                char path[512];
                fltsim_utf16_to_utf8(f->path, fltsim_wcslen(f->path), path, sizeof(path));
                fltsim__run_log(run, "%s:%zu:%zu: volume %c: %s cannot be added: %s", run->sc->path,
                                f->line, f->column, (char)v->drive, path,
                                fltsim_ntstatus_format(status, b, sizeof(b)));
            }
        }
        if (!NT_SUCCESS(status)) {
            fltsim_memfs_destroy(mfs);
            return status;
        }
        params.ops = &fltsim_memfs_ops;
        params.fs = mfs;
    }
    status = mount_wrapped(run, v, &params);
    if (!NT_SUCCESS(status))
        fltsim__run_log(run, "%s:%zu:%zu: volume %c: cannot be mounted: %s (%s)", run->sc->path,
                        v->line, v->column, (char)v->drive,
                        fltsim_ntstatus_format(status, b, sizeof(b)), fltsim_last_error());
    return status;
}

/* The faults: entries that are system rules (all but fs). */
static NTSTATUS add_faults(struct run *run)
{
    for (size_t i = 0; i < run->sc->fault_count; i++) {
        const struct sc_fault *f = &run->sc->faults[i];
        if (f->fs)
            continue;
        NTSTATUS status = fltsim_fault_add(run->sys, &f->model);
        if (!NT_SUCCESS(status)) {
            char b[48];
            fltsim__run_log(run, "%s: fault %zu cannot be set: %s (%s)", run->sc->path, i + 1,
                            fltsim_ntstatus_format(status, b, sizeof(b)), fltsim_last_error());
            return status;
        }
    }
    for (size_t i = 0; i < run->options->extra_fault_count; i++) {
        NTSTATUS status = fltsim_fault_add(run->sys, &run->options->extra_faults[i]);
        if (!NT_SUCCESS(status)) {
            char b[48];
            fltsim__run_log(run, "%s: extra fault %zu cannot be set: %s (%s)", run->sc->path, i + 1,
                            fltsim_ntstatus_format(status, b, sizeof(b)), fltsim_last_error());
            return status;
        }
    }
    return STATUS_SUCCESS;
}

static NTSTATUS open_objects(struct run *run)
{
    for (size_t i = 0; i < run->sc->filter_count; i++) {
        const struct sc_filter *f = &run->sc->filters[i];
        if (f->object == NULL)
            continue;
        /* Checked when the scenario was loaded, but it may have changed
         * since: every object opens before any filter loads. */
        struct fltsim__filter_object fo;
        char why[8192];
        NTSTATUS status = fltsim__filter_object_open(f->object, f->object, &fo, why, sizeof(why));
        if (!NT_SUCCESS(status)) {
            fltsim__run_log(run, "%s: filter '%s': %s", run->sc->path, f->name, why);
            return status;
        }
        run->objects[i] = fo.handle;
    }
    return STATUS_SUCCESS;
}

/* The model's verifier mode and disabled rules: the scenario's, then the
 * options' (issue 5). A disabled rule's reports never reach trace_cb. */
static NTSTATUS set_verifier(struct run *run, const struct fltsim_scenario_run_options *options)
{
    enum fltsim_verifier_policy mode = run->verifier == FLTSIM_VERIFIER_REPORT
                                           ? FLTSIM_VERIFIER_MODE_REPORT
                                           : FLTSIM_VERIFIER_MODE_STRICT;
    NTSTATUS status = fltsim_system_set_verifier_mode(run->sys, mode);
    for (size_t i = 0; i < run->sc->verifier_disable_count && NT_SUCCESS(status); i++)
        status = fltsim_system_verifier_disable(run->sys, run->sc->verifier_disable[i]);
    for (size_t i = 0; i < options->verifier_disable_count && NT_SUCCESS(status); i++)
        status = fltsim_system_verifier_disable(run->sys, options->verifier_disable[i]);
    if (!NT_SUCCESS(status)) {
        fltsim__run_log(run, "%s: %s", run->sc->path, fltsim_last_error());
        run->result->error = true;
    }
    return status;
}

/* ------------------------------------------------------------------------- */
/* The run                                                                   */
/* ------------------------------------------------------------------------- */

static bool alloc_run(struct run *run)
{
    const struct fltsim_scenario *sc = run->sc;
    run->handles = calloc(sc->handle_count + 1, sizeof(*run->handles));
    run->drivers = calloc(sc->filter_count + 1, sizeof(*run->drivers));
    run->objects = calloc(sc->filter_count + 1, sizeof(*run->objects));
    run->threads = calloc(sc->thread_count, sizeof(*run->threads));
    run->steps = calloc(sc->step_count, sizeof(*run->steps));
    run->programs = calloc(sc->program_count + 1, sizeof(*run->programs));
    run->process_ids = calloc(sc->process_count + 1, sizeof(*run->process_ids));
    if (!run->handles || !run->drivers || !run->objects || !run->threads || !run->steps ||
        !run->programs || !run->process_ids)
        return false;
    for (size_t i = 0; i < sc->step_count; i++) {
        const struct sc_step *s = &sc->steps[i];
        KeInitializeEvent(&run->steps[i].done, NotificationEvent, FALSE);
        run->steps[i].run = run;
        size_t size = 0;
        if (s->kind == SC_STEP_IO && (s->op == SC_OP_READ || s->op == SC_OP_QUERY_INFORMATION ||
                                      s->op == SC_OP_QUERY_DIRECTORY || s->op == SC_OP_QUERY_OPEN ||
                                      s->op == SC_OP_QUERY_VOLUME_INFORMATION ||
                                      s->op == SC_OP_FS_CONTROL || s->op == SC_OP_DEVICE_CONTROL ||
                                      s->op == SC_OP_QUERY_EA || s->op == SC_OP_QUERY_SECURITY))
            size = s->length;
        run->steps[i].buffer = calloc(1, size ? size : 1);
        run->steps[i].buffer_size = size;
        if (run->steps[i].buffer == NULL)
            return false;
    }
    return true;
}

static void free_run(struct run *run)
{
    if (run->steps != NULL)
        for (size_t i = 0; i < run->sc->step_count; i++)
            free(run->steps[i].buffer);
    if (run->objects != NULL)
        for (size_t i = 0; i < run->sc->filter_count; i++)
            if (run->objects[i] != NULL)
                dlclose(run->objects[i]);
    fltsim__run_close_programs(run);
    free(run->programs);
    free(run->process_ids);
    free(run->handles);
    free(run->drivers);
    free(run->objects);
    free(run->threads);
    free(run->steps);
    free(run->reports);
    free(run->golden_text);
}

/* Lets the other threads run: under the deterministic executor until every
 * one of them waits, under the concurrent one for SETTLE_100NS. */
static void settle(void)
{
    LARGE_INTEGER interval = {.QuadPart = SETTLE_100NS};
    KeDelayExecutionThread(KernelMode, FALSE, &interval);
}

/* Hands step i to its thread, first letting the thread's previous step finish. */
static void hand_over(struct run *run, size_t i)
{
    const struct sc_step *s = &run->sc->steps[i];
    struct rthread *t = &run->threads[s->thread];
    if (t->busy) /* its previous step's call must return first */
        KeWaitForSingleObject(&t->ready, Executive, KernelMode, FALSE, NULL);
    t->busy = false;
    step_note(run, i);
    t->current = i;
    t->busy = true;
    run->steps[i].handed = true;
    KeSetEvent(&t->go, IO_NO_INCREMENT, FALSE);
    run->result->steps_run++;
    if (!s->nowait) {
        fltsim__run_finish_step(run, i);
    } else {
        settle();
    }
}

/* Tells the first count scenario threads to quit and waits for them. */
static void end_threads(struct run *run, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        __atomic_store_n(&run->threads[i].quit, true, __ATOMIC_RELEASE);
        KeSetEvent(&run->threads[i].go, IO_NO_INCREMENT, FALSE);
    }
    for (size_t i = 0; i < count; i++)
        fltsim_thread_join(run->threads[i].thread);
}

static void run_wait(struct run *run, size_t i)
{
    const struct sc_step *s = &run->sc->steps[i];
    step_note(run, i);
    run->result->steps_run++;
    if (s->wait_all) {
        /* The scenario threads count as running for fltsim_system_wait_idle,
         * so it cannot tell "idle" here; after the steps, queued work (a work
         * item freeing itself, a completion) gets the settle time. */
        fltsim__run_finish_all(run, i);
        settle();
    } else {
        for (size_t k = 0; k < s->wait_count; k++)
            fltsim__run_finish_step(run, s->wait_steps[k]);
    }
    run->steps[i].checked = true;
}

NTSTATUS fltsim_scenario_run(const struct fltsim_scenario *scenario,
                             const struct fltsim_scenario_run_options *options,
                             struct fltsim_scenario_result *result)
{
    static const struct fltsim_scenario_run_options no_options;
    struct fltsim_scenario_result local;
    struct run run;
    NTSTATUS status = STATUS_SUCCESS;
    bool lock_ready = false;
    size_t spawned = 0;
    char b[48];

    if (result == NULL)
        result = &local;
    memset(result, 0, sizeof(*result));
    if (scenario == NULL)
        return STATUS_INVALID_PARAMETER;
    if (options == NULL)
        options = &no_options;

    memset(&run, 0, sizeof(run));
    ULONG caller_process = fltsim_thread_process_id(), caller_thread = fltsim_thread_id();
    run.sc = scenario;
    run.result = result;
    run.log = options->log ? options->log : stderr;
    run.user = options->trace;
    run.options = options;
    run.verifier =
        options->verifier != FLTSIM_VERIFIER_DEFAULT ? options->verifier : scenario->verifier;
    struct fltsim_system_options sopts = {
        .executor = options->override_executor ? options->executor : scenario->executor,
        .seed = options->override_seed ? options->seed : scenario->seed,
        .windows = scenario->windows};
    bool golden = scenario->golden != NULL && !options->skip_golden &&
                  sopts.executor == FLTSIM_EXECUTOR_DETERMINISTIC;
    if (options->update_golden && scenario->golden == NULL) {
        fltsim__run_log(&run,
                        "%s: --update-golden, but the scenario names no golden trace; expected a "
                        "'golden:' key",
                        scenario->path);
        result->error = true;
        return STATUS_INVALID_PARAMETER;
    }
    if (options->update_golden && !golden) {
        fltsim__run_log(&run,
                        "%s: the golden trace is written only under the deterministic executor",
                        scenario->path);
        result->error = true;
        return STATUS_INVALID_PARAMETER;
    }
    if ((options->fltmc_at_end & ~7u) != 0) {
        fltsim__run_log(&run,
                        "%s: fltmc_at_end is 0x%x; expected bits 1u << FLTSIM_FLTMC_FILTERS, "
                        "_INSTANCES or _VOLUMES",
                        scenario->path, options->fltmc_at_end);
        result->error = true;
        return STATUS_INVALID_PARAMETER;
    }

    if (uv_mutex_init(&run.lock) != 0) {
        result->error = true;
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    lock_ready = true;
    if (!alloc_run(&run)) {
        status = STATUS_INSUFFICIENT_RESOURCES;
        goto out;
    }
    if (golden) {
        run.golden_stream = open_memstream(&run.golden_text, &run.golden_size);
        if (run.golden_stream == NULL) {
            status = STATUS_INSUFFICIENT_RESOURCES;
            goto out;
        }
        status = fltsim_trace_sink_create(FLTSIM_TRACE_NORMALIZED, run.golden_stream, 0,
                                          &run.golden_sink);
        if (!NT_SUCCESS(status))
            goto out;
    }

    status = fltsim_system_create(&sopts, &run.sys);
    if (!NT_SUCCESS(status)) {
        fltsim__run_log(&run, "%s: the system cannot be created: %s", scenario->path,
                        fltsim_ntstatus_format(status, b, sizeof(b)));
        goto out;
    }
    fltsim_system_set_trace(run.sys, trace_cb, &run);
    fltsim_thread_set_identity(RUNNER_PROCESS_ID, RUNNER_THREAD_ID);
    set_position(&run, "setting up", 0);

    status = set_verifier(&run, options);
    if (NT_SUCCESS(status))
        status = set_registry(&run);
    if (NT_SUCCESS(status))
        status = add_faults(&run);
    for (size_t i = 0; i < scenario->volume_count && NT_SUCCESS(status); i++)
        status = mount_volume(&run, &scenario->volumes[i]);
    if (NT_SUCCESS(status))
        status = open_objects(&run);
    if (NT_SUCCESS(status))
        status = fltsim__run_open_programs(&run);
    for (size_t i = 0; i < scenario->filter_count && NT_SUCCESS(status); i++) {
        if (!scenario->filters[i].load)
            continue;
        status = fltsim__run_load_filter(&run, i);
        if (!NT_SUCCESS(status))
            result->filter_not_loaded = true;
        if (!NT_SUCCESS(status))
            fltsim__run_log(&run, "%s: filter '%s' does not load: %s (%s)", scenario->path,
                            scenario->filters[i].name, fltsim_ntstatus_format(status, b, sizeof(b)),
                            fltsim_last_error());
    }
    for (size_t i = 0; i < scenario->thread_count && NT_SUCCESS(status); i++) {
        struct rthread *t = &run.threads[i];
        t->run = &run;
        KeInitializeEvent(&t->go, SynchronizationEvent, FALSE);
        KeInitializeEvent(&t->ready, SynchronizationEvent, FALSE);
        status =
            fltsim_thread_spawn(run.sys, scenario->threads[i].process_id,
                                scenario->threads[i].thread_id, fltsim__run_worker, t, &t->thread);
        if (NT_SUCCESS(status))
            spawned++;
    }
    if (!NT_SUCCESS(status))
        goto shutdown;

    for (size_t i = 0; i < scenario->step_count; i++) {
        const struct sc_step *s = &scenario->steps[i];
        set_position(&run, "running", i + 1);
        if (s->kind == SC_STEP_WAIT) {
            run_wait(&run, i);
        } else if (s->kind == SC_STEP_NOTE) {
            step_note(&run, i);
            run.steps[i].checked = true;
            result->steps_run++;
        } else if (s->kind == SC_STEP_FLTMC) {
            step_fltmc(&run, i);
            run.steps[i].checked = true;
            result->steps_run++;
        } else if (SC_STEP_IS_PROGRAM(s->kind)) {
            step_note(&run, i);
            fltsim__run_program_step(&run, i);
            run.steps[i].checked = true;
            result->steps_run++;
        } else {
            hand_over(&run, i);
        }
    }
    /* The scenario threads end once their calls have returned, cancelling
     * the overlapped I/O they still have in flight (fltsim__run_worker), as
     * Windows does at a thread's end; then the steps finish. */
    end_threads(&run, spawned);
    spawned = 0;
    fltsim__run_finish_all(&run, scenario->step_count);
    if (run.options->fltmc_at_end != 0) {
        char where[600];
        snprintf(where, sizeof(where), "%s: end of run", scenario->path);
        for (int v = FLTSIM_FLTMC_FILTERS; v <= FLTSIM_FLTMC_VOLUMES; v++)
            if (run.options->fltmc_at_end & (1u << v))
                print_fltmc(&run, where, (enum fltsim_fltmc_view)v);
    }

shutdown:
    set_position(&run, "checking and shutting down", 0);
    end_threads(&run, spawned);
    /* The programs end before the system is checked for idleness: a
     * service's pending FilterGetMessage is work the system waits on. */
    if (run.sys != NULL && NT_SUCCESS(status))
        fltsim__run_end_programs(&run);
    fltsim__run_free_programs(&run);
    if (run.sys != NULL && NT_SUCCESS(status)) {
        if (fltsim_system_wait_idle(run.sys, IDLE_TIMEOUT_MS) != STATUS_SUCCESS) {
            fltsim__run_log(&run, "%s: end of run: the system did not become idle", scenario->path);
            result->not_idle = true;
            result->expectations_failed++;
        }
        fltsim__run_check_end_files(&run);
        fltsim__run_check_handles(&run);
    }
    if (run.sys != NULL) {
        result->reports_suppressed = fltsim_system_report_suppressed_count(run.sys);
        /* The ledger before the system goes: points reached while it
         * unloads the filters are not recorded. */
        result->fault_points = fltsim_fault_point_count(run.sys);
        result->faults_injected = fltsim_fault_injected_count(run.sys);
        for (size_t i = 0; i < options->fault_points_cap && i < result->fault_points; i++)
            fltsim_fault_point_get(run.sys, i, &options->fault_points[i]);
        fltsim_system_destroy(run.sys);
        run.sys = NULL;
        fltsim__run_count_unexpected_reports(&run);
    }
    if (NT_SUCCESS(status)) {
        fltsim__run_check_reports(&run);
        if (run.golden_sink != NULL) {
            if (!NT_SUCCESS(fltsim_trace_sink_finish(run.golden_sink)) ||
                fflush(run.golden_stream) != 0 || run.out_of_memory) {
                status = STATUS_INSUFFICIENT_RESOURCES;
                goto out;
            }
            fltsim__run_check_golden(&run, options);
        }
    }

out:
    set_position(NULL, NULL, 0);
    fltsim_thread_set_identity(caller_process, caller_thread);
    if (run.golden_sink != NULL)
        fltsim_trace_sink_destroy(run.golden_sink);
    if (run.golden_stream != NULL)
        fclose(run.golden_stream);
    free_run(&run);
    if (lock_ready)
        uv_mutex_destroy(&run.lock);
    if (!NT_SUCCESS(status)) {
        result->error = true;
        return status;
    }
    if (result->error)
        return STATUS_UNSUCCESSFUL;
    return result->expectations_failed ? STATUS_UNSUCCESSFUL : STATUS_SUCCESS;
}
