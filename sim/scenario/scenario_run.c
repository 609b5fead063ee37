/*
 * Scenario running: builds a fresh fltsim system from a loaded scenario
 * (registry, volumes, filters), runs its steps and checks every expectation.
 *
 * The caller's thread is the runner: it hands each step to the simulated
 * requestor thread the step names (one fltsim_thread per scenario thread)
 * through a KEVENT and waits on the step's own KEVENT until it finishes,
 * unless the step is nowait. Waiting only on Ke events keeps this correct
 * under both executors: under the deterministic one a wait is where the other
 * coroutines run. Expectations are checked on the runner when a step is
 * seen to finish; failures go to the log, one line each, naming the step.
 * The trace (the user's sinks and, for the golden comparison, a normalized
 * sink in memory) gets a note per step; reports are collected from the
 * trace so that those raised while the system shuts down count too.
 */
#include <dlfcn.h>
#include <errno.h>
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
/* Log and trace                                                             */
/* ------------------------------------------------------------------------- */

void fltsim__run_log(struct run *run, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(run->log, fmt, ap);
    va_end(ap);
    fputc('\n', run->log);
    fflush(run->log);
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

/* "step 3 'r1' (read)" for messages. */
static const char *step_name(const struct fltsim_scenario *sc, size_t i, char *buf, size_t size)
{
    const struct sc_step *s = &sc->steps[i];
    if (s->id != NULL)
        snprintf(buf, size, "step %zu '%s' (%s)", i + 1, s->id, s->label);
    else
        snprintf(buf, size, "step %zu (%s)", i + 1, s->label);
    return buf;
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

/* ------------------------------------------------------------------------- */
/* Performing a step (on its scenario thread)                                */
/* ------------------------------------------------------------------------- */

static HANDLE handle_get(struct run *run, int index)
{
    if (index < 0)
        return NULL;
    uv_mutex_lock(&run->lock);
    HANDLE h = run->handles[index];
    uv_mutex_unlock(&run->lock);
    return h;
}

static void handle_set(struct run *run, int index, HANDLE h)
{
    uv_mutex_lock(&run->lock);
    run->handles[index] = h;
    uv_mutex_unlock(&run->lock);
}

static fltsim_driver *driver_get(struct run *run, size_t filter)
{
    uv_mutex_lock(&run->lock);
    fltsim_driver *d = run->drivers[filter];
    uv_mutex_unlock(&run->lock);
    return d;
}

static void driver_set(struct run *run, size_t filter, fltsim_driver *d)
{
    uv_mutex_lock(&run->lock);
    run->drivers[filter] = d;
    uv_mutex_unlock(&run->lock);
}

NTSTATUS fltsim__run_load_filter(struct run *run, size_t index)
{
    const struct sc_filter *f = &run->sc->filters[index];
    struct fltsim_instance_def defs[64];
    if (f->instance_count > sizeof(defs) / sizeof(defs[0]))
        return STATUS_INVALID_PARAMETER;
    for (size_t i = 0; i < f->instance_count; i++)
        defs[i] = (struct fltsim_instance_def){f->instances[i].name, f->instances[i].altitude,
                                               f->instances[i].flags};
    struct fltsim_filter_def def = {f->wname, f->default_instance, defs, (ULONG)f->instance_count};
    PDRIVER_INITIALIZE entry;
    if (f->builtin != NULL) {
        entry = f->builtin->entry;
    } else {
        void *sym = dlsym(run->objects[index], "DriverEntry");
        memcpy(&entry, &sym, sizeof(entry)); /* object to function pointer, POSIX style */
    }
    fltsim_driver *drv = NULL;
    NTSTATUS status = fltsim_driver_load(run->sys, &def, entry, &drv);
    if (NT_SUCCESS(status))
        driver_set(run, index, drv);
    return status;
}

PFLT_VOLUME fltsim__run_find_volume(struct run *run, size_t index)
{
    WCHAR name[3] = {run->sc->volumes[index].drive, L':', 0};
    return fltsim_volume_find(run->sys, name);
}

/* fltsim_driver_call's function for a complete_pended hook (ctx: the hook). */
static void call_hook(void *ctx)
{
    void (*hook)(void);
    memcpy(&hook, ctx, sizeof(hook));
    hook();
}

static NTSTATUS perform_control(struct run *run, const struct sc_step *s)
{
    const struct sc_filter *f = &run->sc->filters[s->filter];
    fltsim_driver *drv = driver_get(run, s->filter);
    UNICODE_STRING instance, altitude;
    switch (s->kind) {
    case SC_STEP_LOAD:
        return fltsim__run_load_filter(run, s->filter);
    case SC_STEP_UNLOAD: {
        if (drv == NULL)
            return STATUS_FLT_FILTER_NOT_FOUND;
        NTSTATUS status = fltsim_driver_unload(drv, s->mandatory ? FLTSIM_UNLOAD_MANDATORY : 0);
        if (NT_SUCCESS(status))
            driver_set(run, s->filter, NULL);
        return status;
    }
    case SC_STEP_ATTACH:
    case SC_STEP_DETACH: {
        if (drv == NULL || fltsim_driver_filter(drv) == NULL)
            return STATUS_FLT_FILTER_NOT_FOUND;
        PFLT_VOLUME volume = fltsim__run_find_volume(run, s->volume);
        if (volume == NULL)
            return STATUS_FLT_VOLUME_NOT_FOUND;
        if (s->instance != NULL)
            RtlInitUnicodeString(&instance, s->instance);
        if (s->kind == SC_STEP_DETACH)
            return FltDetachVolume(fltsim_driver_filter(drv), volume, &instance);
        if (s->altitude != NULL) {
            RtlInitUnicodeString(&altitude, s->altitude);
            return FltAttachVolumeAtAltitude(fltsim_driver_filter(drv), volume, &altitude,
                                             s->instance ? &instance : NULL, NULL);
        }
        return FltAttachVolume(fltsim_driver_filter(drv), volume, s->instance ? &instance : NULL,
                               NULL);
    }
    case SC_STEP_COMPLETE_PENDED: {
        void (*hook)(void) = NULL;
        if (f->builtin != NULL) {
            hook = f->builtin->complete_pended;
        } else {
            void *sym = dlsym(run->objects[s->filter], "FltSimCompletePended");
            memcpy(&hook, &sym, sizeof(hook));
        }
        if (hook == NULL)
            return STATUS_NOT_FOUND;
        if (drv == NULL)
            return STATUS_FLT_FILTER_NOT_FOUND;
        /* As the filter's own code: what it takes and drops is its own. */
        return fltsim_driver_call(drv, call_hook, &hook);
    }
    default:
        return STATUS_SUCCESS;
    }
}

/* One of the two parties of a step is through; the second sets done. */
static void step_party(struct rstep *r)
{
    if (InterlockedIncrement(&r->parties) == 2)
        KeSetEvent(&r->done, IO_NO_INCREMENT, FALSE);
}

static void async_done(struct fltsim_io_async *async, void *ctx)
{
    struct rstep *r = ctx;
    r->status = async->iosb.Status;
    r->information = async->iosb.Information;
    step_party(r);
}

static void perform_io(struct run *run, const struct sc_step *s, struct rstep *r)
{
    fltsim_system *sys = run->sys;
    HANDLE h = handle_get(run, s->handle);
    r->no_handle = s->handle >= 0 && !s->binds && h == NULL;
    r->after_fault = fltsim_fault_injected_count(sys) != 0;
    IO_STATUS_BLOCK iosb = {0};
    NTSTATUS status = STATUS_SUCCESS;

    switch (s->op) {
    case SC_OP_CREATE: {
        struct fltsim_create_params params = s->create;
        params.path = s->path;
        HANDLE nh = NULL;
        /* As a file system's own thread would, inside another request. */
        if (s->flags & SC_FLAG_TOP_LEVEL_IRP)
            IoSetTopLevelIrp(FSRTL_CACHE_TOP_LEVEL_IRP);
        status = fltsim_io_create(sys, &params, &nh, &iosb);
        if (s->flags & SC_FLAG_TOP_LEVEL_IRP)
            IoSetTopLevelIrp(NULL);
        if (NT_SUCCESS(status) && s->binds)
            handle_set(run, s->handle, nh);
        else if (NT_SUCCESS(status))
            fltsim_io_close(sys, nh); /* [not reachable: a succeeding create binds] */
        break;
    }
    case SC_OP_OPEN: {
        /* fltsim_io_open's request, through fltsim_io_create so that the
         * step sees IoStatus.Information (FILE_OPENED). */
        struct fltsim_create_params params = {
            .path = s->path,
            .desired_access = s->create.desired_access | SYNCHRONIZE,
            .share_access = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
            .disposition = FILE_OPEN,
            .create_options = FILE_SYNCHRONOUS_IO_NONALERT};
        HANDLE nh = NULL;
        status = fltsim_io_create(sys, &params, &nh, &iosb);
        if (NT_SUCCESS(status) && s->binds)
            handle_set(run, s->handle, nh);
        else if (NT_SUCCESS(status))
            fltsim_io_close(sys, nh);
        break;
    }
    case SC_OP_READ:
    case SC_OP_WRITE: {
        bool write = s->op == SC_OP_WRITE;
        ULONG flags = s->flags & ~SC_FLAG_TOP_LEVEL_IRP;
        void *buffer = write ? (void *)s->data.data : r->buffer;
        if (s->flags & SC_FLAG_TOP_LEVEL_IRP)
            IoSetTopLevelIrp(FSRTL_CACHE_TOP_LEVEL_IRP);
        if (s->async) {
            /* The thread is free once the call returns; the step finishes
             * when the completion callback has run too (step_party). */
            r->async.callback = async_done;
            r->async.ctx = r;
            NTSTATUS returned =
                write
                    ? fltsim_io_write_async(sys, h, buffer, s->length, s->offset, flags, &r->async)
                    : fltsim_io_read_async(sys, h, buffer, s->length, s->offset, flags, &r->async);
            r->returned = returned;
            if (returned != STATUS_PENDING) {
                r->status = r->async.iosb.Status;
                r->information = r->async.iosb.Information;
                step_party(r); /* no callback comes */
            }
            if (s->flags & SC_FLAG_TOP_LEVEL_IRP)
                IoSetTopLevelIrp(NULL);
            return;
        } else {
            const LONGLONG *offset = s->has_offset ? &s->offset : NULL;
            status = write ? fltsim_io_write(sys, h, buffer, s->length, offset, flags, &iosb)
                           : fltsim_io_read(sys, h, buffer, s->length, offset, flags, &iosb);
            r->returned = status;
        }
        if (s->flags & SC_FLAG_TOP_LEVEL_IRP)
            IoSetTopLevelIrp(NULL);
        break;
    }
    case SC_OP_QUERY_INFORMATION:
        status = fltsim_io_query_information(sys, h, r->buffer, s->length, s->info_class, s->flags,
                                             &iosb);
        break;
    case SC_OP_SET_INFORMATION: {
        union {
            FILE_END_OF_FILE_INFORMATION eof;
            FILE_ALLOCATION_INFORMATION allocation;
            FILE_POSITION_INFORMATION position;
            FILE_DISPOSITION_INFORMATION disposition;
            FILE_BASIC_INFORMATION basic;
        } info;
        ULONG size;
        memset(&info, 0, sizeof(info));
        switch (s->info_class) {
        case FileEndOfFileInformation:
            info.eof.EndOfFile.QuadPart = (LONGLONG)s->value;
            size = sizeof(info.eof);
            break;
        case FileAllocationInformation:
            info.allocation.AllocationSize.QuadPart = (LONGLONG)s->value;
            size = sizeof(info.allocation);
            break;
        case FilePositionInformation:
            info.position.CurrentByteOffset.QuadPart = (LONGLONG)s->value;
            size = sizeof(info.position);
            break;
        case FileDispositionInformation:
            info.disposition.DeleteFile = (BOOLEAN)s->value;
            size = sizeof(info.disposition);
            break;
        default: /* FileBasicInformation: times 0 = unchanged */
            info.basic.FileAttributes = (ULONG)s->value;
            size = sizeof(info.basic);
            break;
        }
        status = fltsim_io_set_information(sys, h, &info, size, s->info_class, &iosb);
        break;
    }
    case SC_OP_RENAME:
        status = fltsim_io_rename(sys, h, s->text, s->replace, &iosb);
        break;
    case SC_OP_DELETE:
        status = fltsim_io_delete(sys, h, (BOOLEAN)s->value);
        iosb.Status = status;
        break;
    case SC_OP_QUERY_DIRECTORY: {
        UCHAR scan =
            (UCHAR)((s->restart ? SL_RESTART_SCAN : 0) | (s->single ? SL_RETURN_SINGLE_ENTRY : 0));
        status = fltsim_io_query_directory(sys, h, r->buffer, s->length, s->info_class, s->text,
                                           scan, &iosb);
        break;
    }
    case SC_OP_FLUSH:
        status = fltsim_io_flush(sys, h, &iosb);
        break;
    case SC_OP_ACQUIRE_FOR_SECTION_SYNC:
        status = fltsim_io_acquire_for_section_sync(sys, h, (FS_FILTER_SECTION_SYNC_TYPE)s->value,
                                                    s->protection);
        break;
    case SC_OP_RELEASE_FOR_SECTION_SYNC:
        status = fltsim_io_release_for_section_sync(sys, h);
        break;
    case SC_OP_MAP_SECTION:
        status = fltsim_io_map_section(sys, h, s->protection);
        break;
    case SC_OP_CLOSE:
        status = fltsim_io_close(sys, h);
        if (NT_SUCCESS(status))
            handle_set(run, s->handle, NULL);
        break;
    case SC_OP_QUERY_OPEN:
        status = fltsim_io_query_open(sys, s->path, s->info_class, r->buffer, s->length, &iosb);
        break;
    case SC_OP_QUERY_VOLUME_INFORMATION:
        status = fltsim_io_query_volume_information(sys, h, r->buffer, s->length,
                                                    (FS_INFORMATION_CLASS)s->info_class, &iosb);
        break;
    case SC_OP_LOCK:
        status = fltsim_io_lock(sys, h, s->offset, s->range_length, s->key, s->fail_immediately,
                                s->exclusive, s->flags, &iosb);
        break;
    case SC_OP_UNLOCK:
        status =
            fltsim_io_unlock(sys, h, s->minor, s->offset, s->range_length, s->key, s->flags, &iosb);
        break;
    case SC_OP_FS_CONTROL:
    case SC_OP_DEVICE_CONTROL: {
        /* The input is zeros of in_length bytes: the two controls memfs and
         * hostfs answer read none. */
        void *in = calloc(1, s->in_length ? s->in_length : 1);
        if (in == NULL) {
            status = STATUS_INSUFFICIENT_RESOURCES;
            break;
        }
        status = s->op == SC_OP_FS_CONTROL
                     ? fltsim_io_fs_control(sys, h, s->code, in, s->in_length, r->buffer, s->length,
                                            &iosb)
                     : fltsim_io_device_control(sys, h, s->code, in, s->in_length, r->buffer,
                                                s->length, s->flags, &iosb);
        free(in);
        break;
    }
    case SC_OP_QUERY_EA:
        status = fltsim_io_query_ea(sys, h, r->buffer, s->length, (BOOLEAN)s->restart, &iosb);
        break;
    case SC_OP_QUERY_SECURITY:
        status =
            fltsim_io_query_security(sys, h, s->security_information, r->buffer, s->length, &iosb);
        break;
    case SC_OP_SET_SECURITY: {
        /* A minimal valid self-relative descriptor: the owner and group SIDs
         * asked for (S-1-5-32-544, S-1-5-18), an empty DACL when asked for. */
        UCHAR sd[64];
        SECURITY_DESCRIPTOR_RELATIVE hdr;
        static const UCHAR owner[] = {1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0};
        static const UCHAR group[] = {1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0};
        ULONG size = sizeof(hdr);
        memset(sd, 0, sizeof(sd));
        memset(&hdr, 0, sizeof(hdr));
        hdr.Revision = SECURITY_DESCRIPTOR_REVISION;
        hdr.Control = SE_SELF_RELATIVE;
        if (s->security_information & OWNER_SECURITY_INFORMATION) {
            hdr.Owner = size;
            memcpy(sd + size, owner, sizeof(owner));
            size += sizeof(owner);
        }
        if (s->security_information & GROUP_SECURITY_INFORMATION) {
            hdr.Group = size;
            memcpy(sd + size, group, sizeof(group));
            size += sizeof(group);
        }
        if (s->security_information & DACL_SECURITY_INFORMATION) {
            ACL acl = {.AclRevision = 2, .AclSize = sizeof(ACL)};
            hdr.Control |= SE_DACL_PRESENT;
            hdr.Dacl = size;
            memcpy(sd + size, &acl, sizeof(acl));
            size += sizeof(acl);
        }
        memcpy(sd, &hdr, sizeof(hdr));
        status = fltsim_io_set_security(sys, h, s->security_information, sd, size, &iosb);
        break;
    }
    case SC_OP_ACQUIRE_FOR_MOD_WRITE:
        status = fltsim_io_acquire_for_mod_write(sys, h, s->offset);
        break;
    case SC_OP_RELEASE_FOR_MOD_WRITE:
        status = fltsim_io_release_for_mod_write(sys, h);
        break;
    case SC_OP_ACQUIRE_FOR_CC_FLUSH:
        status = fltsim_io_acquire_for_cc_flush(sys, h);
        break;
    case SC_OP_RELEASE_FOR_CC_FLUSH:
        status = fltsim_io_release_for_cc_flush(sys, h);
        break;
    }
    r->status = status;
    r->information = iosb.Information;
    step_party(r); /* no completion party */
}

static void perform(struct run *run, size_t i)
{
    const struct sc_step *s = &run->sc->steps[i];
    struct rstep *r = &run->steps[i];
    r->performed = true;
    if (s->kind == SC_STEP_IO) {
        perform_io(run, s, r);
    } else {
        r->status = perform_control(run, s);
        step_party(r);
    }
}

void fltsim__run_worker(void *ctx)
{
    struct rthread *t = ctx;
    for (;;) {
        KeWaitForSingleObject(&t->go, Executive, KernelMode, FALSE, NULL);
        if (t->quit)
            return;
        size_t i = t->current;
        perform(t->run, i);
        step_party(&t->run->steps[i]); /* the call returned */
        KeSetEvent(&t->ready, IO_NO_INCREMENT, FALSE);
    }
}

/* ------------------------------------------------------------------------- */
/* Expectations (on the runner)                                              */
/* ------------------------------------------------------------------------- */

static void expect_fail(struct run *run, size_t i, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void expect_fail(struct run *run, size_t i, const char *what, const char *fmt, ...)
{
    char name[128], detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    fltsim__run_log(run, "%s:%d: %s: %s: %s", run->sc->path, run->sc->steps[i].line,
                    step_name(run->sc, i, name, sizeof(name)), what, detail);
    run->result->expectations_failed++;
}

static void format_bytes(const unsigned char *data, size_t size, char *out, size_t out_size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < size && used + 8 < out_size; i++) {
        unsigned char c = data[i];
        if (c == '"' || c == '\\')
            used += (size_t)snprintf(out + used, out_size - used, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            out[used++] = (char)c, out[used] = '\0';
        else
            used += (size_t)snprintf(out + used, out_size - used, "\\x%02x", c);
    }
    if (used + 8 >= out_size)
        snprintf(out + used, out_size - used, "...");
}

static void check_bytes(struct run *run, size_t i, const char *what, const struct sc_bytes *want,
                        const unsigned char *got, size_t got_size)
{
    run->result->expectations_checked++;
    if (got_size == want->size && (got_size == 0 || memcmp(got, want->data, got_size) == 0))
        return;
    char a[256], b[256];
    format_bytes(want->data, want->size, a, sizeof(a));
    format_bytes(got, got_size, b, sizeof(b));
    expect_fail(run, i, what, "expected \"%s\" (%zu bytes), actual \"%s\" (%zu bytes)", a,
                want->size, b, got_size);
}

/* Whether status is one an extra fault of the run injects (its status, or
 * its kind's default, or for a file-system fault the refusal of a fast-I/O
 * request), or STATUS_INSUFFICIENT_RESOURCES (a failed allocation
 * propagated). */
static bool injected_status(const struct run *run, NTSTATUS status)
{
    if (status == STATUS_INSUFFICIENT_RESOURCES)
        return true;
    for (size_t k = 0; k < run->options->extra_fault_count; k++) {
        const struct fltsim_fault *f = &run->options->extra_faults[k];
        NTSTATUS s = f->status;
        if (s == 0)
            s = f->kind == FLTSIM_FAULT_DEFERRED_QUEUE  ? STATUS_FLT_NOT_SAFE_TO_POST_OPERATION
                : f->kind == FLTSIM_FAULT_GENERIC_QUEUE ? STATUS_FLT_DELETING_OBJECT
                : f->kind == FLTSIM_FAULT_FS            ? STATUS_IO_DEVICE_ERROR
                                                        : STATUS_INSUFFICIENT_RESOURCES;
        if (status == s)
            return true;
        /* A file-system fault on a fast-I/O request declines it (faultfs.h):
         * a fast_only step then sees the refusal. */
        if (f->kind == FLTSIM_FAULT_FS && status == STATUS_FLT_DISALLOW_FAST_IO)
            return true;
    }
    return false;
}

/* A status that differs from the expectation: counted for fault exploration
 * when it is a failure no injected fault explains (scenario.h). */
static void judge_status(struct run *run, size_t i, NTSTATUS want, NTSTATUS got)
{
    if (NT_SUCCESS(got) || injected_status(run, got) || run->steps[i].no_handle ||
        run->steps[i].after_fault)
        return;
    if (run->result->statuses_unexplained++ == 0) {
        char a[48], b[48];
        snprintf(run->result->first_unexplained, sizeof(run->result->first_unexplained),
                 "step %zu (line %d): expected %s, actual %s", i + 1, run->sc->steps[i].line,
                 fltsim_ntstatus_format(want, a, sizeof(a)),
                 fltsim_ntstatus_format(got, b, sizeof(b)));
    }
}

static void check_status(struct run *run, size_t i, const char *what, NTSTATUS want, NTSTATUS got)
{
    run->result->expectations_checked++;
    if (want == got)
        return;
    judge_status(run, i, want, got);
    char a[48], b[48];
    expect_fail(run, i, what, "expected %s, actual %s", fltsim_ntstatus_format(want, a, sizeof(a)),
                fltsim_ntstatus_format(got, b, sizeof(b)));
}

/* The names in a directory-enumeration buffer, each through cb. */
static void check_names(struct run *run, size_t i, const struct sc_step *s, const struct rstep *r)
{
    size_t len_at, name_at;
    switch (s->info_class) {
    case FileFullDirectoryInformation:
        len_at = offsetof(FILE_FULL_DIR_INFORMATION, FileNameLength);
        name_at = offsetof(FILE_FULL_DIR_INFORMATION, FileName);
        break;
    case FileBothDirectoryInformation:
        len_at = offsetof(FILE_BOTH_DIR_INFORMATION, FileNameLength);
        name_at = offsetof(FILE_BOTH_DIR_INFORMATION, FileName);
        break;
    case FileNamesInformation:
        len_at = offsetof(FILE_NAMES_INFORMATION, FileNameLength);
        name_at = offsetof(FILE_NAMES_INFORMATION, FileName);
        break;
    case FileIdBothDirectoryInformation:
        len_at = offsetof(FILE_ID_BOTH_DIR_INFORMATION, FileNameLength);
        name_at = offsetof(FILE_ID_BOTH_DIR_INFORMATION, FileName);
        break;
    case FileIdFullDirectoryInformation:
        len_at = offsetof(FILE_ID_FULL_DIR_INFORMATION, FileNameLength);
        name_at = offsetof(FILE_ID_FULL_DIR_INFORMATION, FileName);
        break;
    default:
        len_at = offsetof(FILE_DIRECTORY_INFORMATION, FileNameLength);
        name_at = offsetof(FILE_DIRECTORY_INFORMATION, FileName);
        break;
    }
    char got[2048] = "", want[2048] = "";
    size_t used = 0, count = 0;
    bool malformed = false;
    if (NT_SUCCESS(r->status)) {
        size_t at = 0, end = r->information <= s->length ? r->information : s->length;
        while (at + name_at <= end) {
            ULONG next, name_len;
            memcpy(&next, r->buffer + at, sizeof(next));
            memcpy(&name_len, r->buffer + at + len_at, sizeof(name_len));
            if (at + name_at + name_len > end) {
                malformed = true;
                break;
            }
            WCHAR wname[260];
            size_t units = name_len / sizeof(WCHAR);
            if (units > 259)
                units = 259;
            memcpy(wname, r->buffer + at + name_at, units * sizeof(WCHAR));
            char name[800];
            fltsim_utf16_to_utf8(wname, units, name, sizeof(name));
            if (used < sizeof(got))
                used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s", count ? ", " : "",
                                         name);
            count++;
            if (next == 0)
                break;
            at += next;
        }
    }
    used = 0;
    for (size_t k = 0; k < s->expect.name_count && used < sizeof(want); k++)
        used += (size_t)snprintf(want + used, sizeof(want) - used, "%s%s", k ? ", " : "",
                                 s->expect.names[k]);
    run->result->expectations_checked++;
    if (malformed || strcmp(got, want) != 0)
        expect_fail(run, i, "names", "expected [%s], actual [%s]%s", want, got,
                    malformed ? " (malformed buffer)" : "");
}

static void check_step(struct run *run, size_t i)
{
    const struct sc_step *s = &run->sc->steps[i];
    struct rstep *r = &run->steps[i];
    const struct sc_step_expect *e = &s->expect;
    r->checked = true;
    if (s->kind == SC_STEP_WAIT || s->kind == SC_STEP_NOTE)
        return;
    if (!e->any) {
        run->result->expectations_checked++;
        if (!NT_SUCCESS(r->status)) {
            char b[48];
            judge_status(run, i, STATUS_SUCCESS, r->status);
            expect_fail(run, i, "status", "expected success, actual %s",
                        fltsim_ntstatus_format(r->status, b, sizeof(b)));
        }
        return;
    }
    if (e->has_status)
        check_status(run, i, "status", e->status, r->status);
    if (e->has_returned)
        check_status(run, i, "returned", e->returned, r->returned);
    if (e->has_information) {
        run->result->expectations_checked++;
        if ((ULONG64)r->information != e->information)
            expect_fail(run, i, "information", "expected %llu, actual %llu",
                        (unsigned long long)e->information, (unsigned long long)r->information);
    }
    if (e->data.set) {
        size_t got = r->information <= s->length ? r->information : s->length;
        check_bytes(run, i, "data", &e->data, r->buffer, NT_SUCCESS(r->status) ? got : 0);
    }
    if (e->has_names)
        check_names(run, i, s, r);
}

/* Waits for a handed step to finish and checks it (once). */
void fltsim__run_finish_step(struct run *run, size_t i)
{
    struct rstep *r = &run->steps[i];
    if (!r->handed || r->checked)
        return;
    KeWaitForSingleObject(&r->done, Executive, KernelMode, FALSE, NULL);
    check_step(run, i);
}

void fltsim__run_finish_all(struct run *run, size_t upto)
{
    for (size_t i = 0; i < upto; i++)
        fltsim__run_finish_step(run, i);
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
            fltsim__run_log(run, "%s: volume %c: hostfs over %s cannot be created: %s (%s)",
                            run->sc->path, (char)v->drive, v->root,
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
        if (!NT_SUCCESS(status))
            return status;
        for (size_t i = 0; i < v->file_count && NT_SUCCESS(status); i++) {
            const struct sc_file *f = &v->files[i];
            status = f->directory ? fltsim_memfs_add_directory(mfs, f->path)
                                  : fltsim_memfs_add_file(mfs, f->path, f->data.data, f->data.size);
            if (!NT_SUCCESS(status)) {
                char path[512];
                fltsim_utf16_to_utf8(f->path, fltsim_wcslen(f->path), path, sizeof(path));
                fltsim__run_log(run, "%s: volume %c: %s cannot be added: %s", run->sc->path,
                                (char)v->drive, path, fltsim_ntstatus_format(status, b, sizeof(b)));
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
        fltsim__run_log(run, "%s: volume %c: cannot be mounted: %s (%s)", run->sc->path,
                        (char)v->drive, fltsim_ntstatus_format(status, b, sizeof(b)),
                        fltsim_last_error());
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
        run->objects[i] = dlopen(f->object, RTLD_NOW | RTLD_LOCAL);
        if (run->objects[i] == NULL || dlsym(run->objects[i], "DriverEntry") == NULL) {
            fltsim__run_log(run, "%s: filter '%s': shared object %s cannot be loaded: %s",
                            run->sc->path, f->name, f->object,
                            run->objects[i] == NULL ? dlerror() : "no DriverEntry");
            return STATUS_OBJECT_NAME_NOT_FOUND;
        }
    }
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* End of run                                                                */
/* ------------------------------------------------------------------------- */

void fltsim__run_end_fail(struct run *run, int line, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    if (line > 0)
        fltsim__run_log(run, "%s:%d: end of run: %s", run->sc->path, line, detail);
    else
        fltsim__run_log(run, "%s: end of run: %s", run->sc->path, detail);
    run->result->expectations_failed++;
}

/* Reads a file of a hostfs volume from the host (the expectation is about
 * what the file system left, read without going through filters). */
static bool read_host_file(const char *root, PCWSTR path, unsigned char **data, size_t *size,
                           bool *exists)
{
    char rel[1024], full[2048];
    fltsim_utf16_to_utf8(path, fltsim_wcslen(path), rel, sizeof(rel));
    for (char *p = rel; *p != '\0'; p++)
        if (*p == '\\')
            *p = '/';
    snprintf(full, sizeof(full), "%s%s", root, rel);
    FILE *f = fopen(full, "rb");
    *exists = f != NULL;
    *data = NULL;
    *size = 0;
    if (f == NULL)
        return errno == ENOENT || errno == ENOTDIR;
    size_t cap = 4096;
    *data = malloc(cap);
    bool ok = *data != NULL;
    while (ok) {
        if (*size == cap) {
            unsigned char *p = realloc(*data, cap * 2);
            if (p == NULL) {
                ok = false;
                break;
            }
            *data = p;
            cap *= 2;
        }
        size_t n = fread(*data + *size, 1, cap - *size, f);
        *size += n;
        if (n == 0)
            break;
    }
    fclose(f);
    return ok;
}

void fltsim__run_check_end_files(struct run *run)
{
    const struct sc_end_expect *e = &run->sc->expect;
    for (size_t i = 0; i < e->file_count; i++) {
        const struct sc_end_file *ef = &e->files[i];
        const struct sc_volume *v = &run->sc->volumes[ef->volume];
        unsigned char *data = NULL;
        size_t size = 0;
        bool exists = false;
        run->result->expectations_checked++;
        if (v->fs == SC_FS_HOSTFS) {
            if (!read_host_file(v->root, ef->path, &data, &size, &exists)) {
                fltsim__run_end_fail(run, ef->line, "%s cannot be read from the host", ef->display);
                free(data);
                continue;
            }
        } else {
            PFLT_VOLUME volume = fltsim__run_find_volume(run, ef->volume);
            /* Scenario volumes are memfs behind faultfs (mount_wrapped). */
            struct fltsim_memfs *fs =
                volume ? fltsim_faultfs_inner(fltsim_volume_fs(volume)) : NULL;
            struct fltsim_memfs_stat st;
            if (fs != NULL && NT_SUCCESS(fltsim_memfs_stat(fs, ef->path, &st)) && st.exists &&
                !st.delete_pending) {
                exists = true;
                size = (size_t)st.size;
                data = malloc(size ? size : 1);
                size_t got = 0;
                if (data == NULL || (!st.directory && !NT_SUCCESS(fltsim_memfs_read_file(
                                                          fs, ef->path, data, size, &got)))) {
                    fltsim__run_end_fail(run, ef->line, "%s cannot be read from memfs",
                                         ef->display);
                    free(data);
                    continue;
                }
                size = got;
            }
        }
        if (ef->exists != exists) {
            fltsim__run_end_fail(run, ef->line, "%s: expected it to %s, but it %s", ef->display,
                                 ef->exists ? "exist" : "be absent",
                                 exists ? "exists" : "does not exist");
        } else if (ef->data.set &&
                   (size != ef->data.size || (size && memcmp(data, ef->data.data, size) != 0))) {
            char a[256], b[256];
            format_bytes(ef->data.data, ef->data.size, a, sizeof(a));
            format_bytes(data, size, b, sizeof(b));
            fltsim__run_end_fail(run, ef->line,
                                 "%s: expected \"%s\" (%zu bytes), actual \"%s\" (%zu bytes)",
                                 ef->display, a, ef->data.size, b, size);
        }
        free(data);
    }
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

/* For fault exploration: the reports beyond the expected ones, counted
 * whether or not the run could be carried out. */
void fltsim__run_count_unexpected_reports(struct run *run)
{
    const struct sc_end_expect *e = &run->sc->expect;
    /* Unexpected: the reports left once each expected one has matched one. */
    bool matched_expected[64] = {false};
    for (size_t i = 0; i < run->report_count; i++) {
        bool matched = false;
        for (size_t k = 0; !matched && k < e->report_count && k < 64; k++) {
            if (!matched_expected[k] && strcmp(run->reports[i], e->reports[k]) == 0)
                matched_expected[k] = matched = true;
        }
        if (!matched && run->result->reports_unexpected++ == 0)
            snprintf(run->result->first_unexpected_report,
                     sizeof(run->result->first_unexpected_report), "%s", run->reports[i]);
    }
}

void fltsim__run_check_reports(struct run *run)
{
    const struct sc_end_expect *e = &run->sc->expect;
    run->result->reports = (ULONG)run->report_count;
    bool compare = e->has_reports || run->verifier == FLTSIM_VERIFIER_STRICT;
    if (!compare)
        return;
    run->result->expectations_checked++;
    bool same = run->report_count == e->report_count;
    for (size_t i = 0; same && i < e->report_count; i++)
        same = strcmp(run->reports[i], e->reports[i]) == 0;
    if (same)
        return;
    char want[512] = "", got[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < e->report_count && used < sizeof(want); i++)
        used += (size_t)snprintf(want + used, sizeof(want) - used, "%s%s", i ? ", " : "",
                                 e->reports[i]);
    used = 0;
    for (size_t i = 0; i < run->report_count && used < sizeof(got); i++)
        used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s", i ? ", " : "",
                                 run->reports[i]);
    fltsim__run_end_fail(run, 0, "verifier reports: expected [%s], actual [%s]", want, got);
}

/* Compares the normalized trace with the golden file, or rewrites it. */
void fltsim__run_check_golden(struct run *run, const struct fltsim_scenario_run_options *options)
{
    const char *path = run->sc->golden;
    if (options->update_golden) {
        FILE *f = fopen(path, "wb");
        if (f == NULL || fwrite(run->golden_text, 1, run->golden_size, f) != run->golden_size) {
            fltsim__run_log(run, "%s: golden trace %s cannot be written: %s", run->sc->path, path,
                            strerror(errno));
            run->result->error = true;
        }
        if (f != NULL && fclose(f) != 0)
            run->result->error = true;
        run->result->golden_checked = !run->result->error;
        return;
    }
    run->result->golden_checked = true;
    run->result->expectations_checked++;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fltsim__run_log(run,
                        "%s: golden trace %s cannot be read (%s); expected it to exist (write it "
                        "with --update-golden)",
                        run->sc->path, path, strerror(errno));
        run->result->golden_mismatch = true;
        run->result->expectations_failed++;
        return;
    }
    const char *actual = run->golden_text, *actual_end = actual + run->golden_size;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    size_t lineno = 0;
    bool differ = false;
    while (!differ) {
        n = getline(&line, &cap, f);
        lineno++;
        const char *nl =
            actual < actual_end ? memchr(actual, '\n', (size_t)(actual_end - actual)) : NULL;
        size_t alen =
            actual < actual_end ? (nl ? (size_t)(nl - actual) : (size_t)(actual_end - actual)) : 0;
        if (n < 0 && actual >= actual_end)
            break;
        size_t glen = n > 0 ? (size_t)n : 0;
        if (glen > 0 && line[glen - 1] == '\n')
            glen--;
        if (n < 0) {
            fltsim__run_log(run,
                            "%s:%zu: golden trace ends here; actual trace goes on with \"%.*s\"",
                            path, lineno, (int)alen, actual);
            differ = true;
        } else if (actual >= actual_end) {
            fltsim__run_log(run, "%s:%zu: golden trace has \"%.*s\"; actual trace ends before it",
                            path, lineno, (int)glen, line);
            differ = true;
        } else if (glen != alen || memcmp(line, actual, alen) != 0) {
            fltsim__run_log(run,
                            "%s:%zu: golden trace differs:\n  expected: %.*s\n  actual:   %.*s",
                            path, lineno, (int)glen, line, (int)alen, actual);
            differ = true;
        }
        actual = nl ? nl + 1 : actual_end;
    }
    free(line);
    fclose(f);
    if (differ) {
        run->result->golden_mismatch = true;
        run->result->expectations_failed++;
    }
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
    if (!run->handles || !run->drivers || !run->objects || !run->threads || !run->steps)
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
        .seed = options->override_seed ? options->seed : scenario->seed};
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

    status = set_verifier(&run, options);
    if (NT_SUCCESS(status))
        status = set_registry(&run);
    if (NT_SUCCESS(status))
        status = add_faults(&run);
    for (size_t i = 0; i < scenario->volume_count && NT_SUCCESS(status); i++)
        status = mount_volume(&run, &scenario->volumes[i]);
    if (NT_SUCCESS(status))
        status = open_objects(&run);
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
        if (s->kind == SC_STEP_WAIT) {
            run_wait(&run, i);
        } else if (s->kind == SC_STEP_NOTE) {
            step_note(&run, i);
            run.steps[i].checked = true;
            result->steps_run++;
        } else {
            hand_over(&run, i);
        }
    }
    fltsim__run_finish_all(&run, scenario->step_count);

shutdown:
    for (size_t i = 0; i < spawned; i++) {
        run.threads[i].quit = true;
        KeSetEvent(&run.threads[i].go, IO_NO_INCREMENT, FALSE);
    }
    for (size_t i = 0; i < spawned; i++)
        fltsim_thread_join(run.threads[i].thread);
    if (run.sys != NULL && NT_SUCCESS(status)) {
        if (fltsim_system_wait_idle(run.sys, IDLE_TIMEOUT_MS) != STATUS_SUCCESS) {
            fltsim__run_log(&run, "%s: end of run: the system did not become idle", scenario->path);
            result->not_idle = true;
            result->expectations_failed++;
        }
        fltsim__run_check_end_files(&run);
        if (scenario->expect.has_handles) {
            ULONG open = fltsim_io_handle_count(run.sys);
            result->expectations_checked++;
            if (open != scenario->expect.handles)
                fltsim__run_end_fail(&run, 0, "handles: expected %lu open, actual %lu",
                                     (unsigned long)scenario->expect.handles, (unsigned long)open);
        }
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
