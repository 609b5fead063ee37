/*
 * A system: one simulated machine with its FltMgr state (filters, volumes,
 * loaded drivers), its trace sink and its verifier reports. Systems are
 * independent, so a test process can create one per test case. This file owns
 * creation and the orderly shutdown in fltsim_system_destroy, the trace and
 * report plumbing every other model file uses.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

NTSTATUS fltsim_system_create(const struct fltsim_system_options *options, fltsim_system **out)
{
    const ULONG known = FLTSIM_SYSTEM_LENIENT_REGISTRATION | FLTSIM_SYSTEM_SETUP_ON_FIRST_IO;
    if (out == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "fltsim_system_create: out is NULL");
    *out = NULL;
    if (options != NULL && (options->flags & ~known) != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_system_create: unknown option flags 0x%x",
                            (unsigned)(options->flags & ~known));

    fltsim_system *sys = calloc(1, sizeof(*sys));
    if (sys == NULL)
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "fltsim_system_create: out of memory");
    if (uv_mutex_init(&sys->lock) != 0)
        goto fail_lock;
    if (uv_cond_init(&sys->cond) != 0)
        goto fail_cond;
    if (uv_mutex_init(&sys->trace_lock) != 0)
        goto fail_trace;
    sys->flags = options != NULL ? options->flags : 0;
    InitializeListHead(&sys->filters);
    InitializeListHead(&sys->volumes);
    InitializeListHead(&sys->drivers);
    sys->next_op_id = 1;
    sys->next_filter_serial = 1;
    *out = sys;
    return STATUS_SUCCESS;

fail_trace:
    uv_cond_destroy(&sys->cond);
fail_cond:
    uv_mutex_destroy(&sys->lock);
fail_lock:
    free(sys);
    return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "fltsim_system_create: no lock");
}

void fltsim_system_destroy(fltsim_system *sys)
{
    if (sys == NULL)
        return;
    sys->destroying = true;

    /* Handles first, while the filters can still see their cleanup and close. */
    if (sys->io_manager_shutdown != NULL)
        sys->io_manager_shutdown(sys->io_manager);
    sys->io_manager = NULL;
    sys->io_manager_shutdown = NULL;

    /* Drivers in reverse load order, each with a mandatory unload. */
    for (;;) {
        uv_mutex_lock(&sys->lock);
        struct fltsim_driver *drv =
            IsListEmpty(&sys->drivers)
                ? NULL
                : CONTAINING_RECORD(sys->drivers.Blink, struct fltsim_driver, link);
        uv_mutex_unlock(&sys->lock);
        if (drv == NULL)
            break;
        fltsim__driver_remove(drv);
    }

    for (;;) {
        uv_mutex_lock(&sys->lock);
        PFLT_VOLUME vol = IsListEmpty(&sys->volumes)
                              ? NULL
                              : CONTAINING_RECORD(sys->volumes.Flink, struct _FLT_VOLUME, link);
        uv_mutex_unlock(&sys->lock);
        if (vol == NULL)
            break;
        fltsim__volume_remove(vol);
    }

    free(sys->reports.items);
    uv_mutex_destroy(&sys->trace_lock);
    uv_cond_destroy(&sys->cond);
    uv_mutex_destroy(&sys->lock);
    free(sys);
}

NTSTATUS fltsim_system_set_io_manager(fltsim_system *sys, void *state,
                                      void (*shutdown_cb)(void *state))
{
    uv_mutex_lock(&sys->lock);
    if (sys->io_manager != NULL) {
        uv_mutex_unlock(&sys->lock);
        return STATUS_OBJECT_NAME_COLLISION;
    }
    sys->io_manager = state;
    sys->io_manager_shutdown = shutdown_cb;
    uv_mutex_unlock(&sys->lock);
    return STATUS_SUCCESS;
}

void *fltsim_system_io_manager(fltsim_system *sys)
{
    uv_mutex_lock(&sys->lock);
    void *state = sys->io_manager;
    uv_mutex_unlock(&sys->lock);
    return state;
}

void fltsim__broadcast(fltsim_system *sys)
{
    uv_mutex_lock(&sys->lock);
    uv_cond_broadcast(&sys->cond);
    uv_mutex_unlock(&sys->lock);
}

/* ---- traces ---- */

void fltsim_system_set_trace(fltsim_system *sys, fltsim_trace_cb cb, void *ctx)
{
    uv_mutex_lock(&sys->trace_lock);
    sys->trace_cb = cb;
    sys->trace_ctx = ctx;
    uv_mutex_unlock(&sys->trace_lock);
}

void fltsim__event_thread(struct fltsim_event *ev)
{
    ev->process_id = fltsim_thread_process_id();
    ev->thread_id = fltsim_thread_id();
    ev->irql = KeGetCurrentIrql();
}

void fltsim__trace(fltsim_system *sys, struct fltsim_event *ev)
{
    uv_mutex_lock(&sys->trace_lock);
    if (sys->trace_cb != NULL)
        sys->trace_cb(sys->trace_ctx, ev);
    uv_mutex_unlock(&sys->trace_lock);
}

/* ---- verifier reports ---- */

void fltsim__report(fltsim_system *sys, struct _FLT_FILTER *filter, struct _FLT_INSTANCE *instance,
                    const struct fltsim_op *op, const char *rule, const char *spec, const char *fmt,
                    ...)
{
    struct fltsim_report r;
    memset(&r, 0, sizeof(r));
    snprintf(r.rule, sizeof(r.rule), "%s", rule);
    snprintf(r.spec, sizeof(r.spec), "%s", spec);
    if (instance != NULL && filter == NULL)
        filter = instance->filter;
    if (filter != NULL)
        snprintf(r.filter, sizeof(r.filter), "%s", filter->name8);
    if (instance != NULL)
        snprintf(r.altitude, sizeof(r.altitude), "%s", instance->altitude.text);
    r.major = op != NULL ? op->iopb.MajorFunction : 0xff;
    r.op_kind = op != NULL ? (int)op->kind : -1;
    r.thread_id = fltsim_thread_id();
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r.message, sizeof(r.message), fmt, ap);
    va_end(ap);

    uv_mutex_lock(&sys->lock);
    struct fltsim_report_list *l = &sys->reports;
    if (l->count == l->capacity) {
        ULONG cap = l->capacity ? l->capacity * 2 : 16;
        struct fltsim_report *grown = realloc(l->items, cap * sizeof(*grown));
        if (grown != NULL) {
            l->items = grown;
            l->capacity = cap;
        }
    }
    bool stored = l->count < l->capacity;
    if (stored)
        l->items[l->count++] = r;
    uv_mutex_unlock(&sys->lock);
    if (!stored)
        fprintf(stderr, "fltsim: out of memory recording report %s: %s\n", r.rule, r.message);

    if (fltsim__tracing(sys)) {
        struct fltsim_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.type = FLTSIM_EV_REPORT;
        ev.op_id = op != NULL ? op->id : 0;
        ev.kind = op != NULL ? op->kind : FLTSIM_OP_IRP;
        ev.major = r.major;
        ev.filter = filter != NULL ? filter->name8 : NULL;
        ev.instance = instance != NULL ? instance->name8 : NULL;
        ev.altitude = instance != NULL ? instance->altitude.text : NULL;
        ev.detail = r.message;
        char rule_text[48];
        snprintf(rule_text, sizeof(rule_text), "%s (SPEC %s)", r.rule, r.spec);
        ev.rule = rule_text;
        fltsim__event_thread(&ev);
        fltsim__trace(sys, &ev);
    }
}

ULONG fltsim_system_report_count(fltsim_system *sys)
{
    uv_mutex_lock(&sys->lock);
    ULONG n = sys->reports.count;
    uv_mutex_unlock(&sys->lock);
    return n;
}

NTSTATUS fltsim_system_report_get(fltsim_system *sys, ULONG index, struct fltsim_report *out)
{
    NTSTATUS status = STATUS_INVALID_PARAMETER;
    uv_mutex_lock(&sys->lock);
    if (out != NULL && index < sys->reports.count) {
        *out = sys->reports.items[index];
        status = STATUS_SUCCESS;
    }
    uv_mutex_unlock(&sys->lock);
    return status;
}

ULONG fltsim_system_report_count_rule(fltsim_system *sys, const char *rule)
{
    ULONG n = 0;
    uv_mutex_lock(&sys->lock);
    for (ULONG i = 0; i < sys->reports.count; i++)
        if (strcmp(sys->reports.items[i].rule, rule) == 0)
            n++;
    uv_mutex_unlock(&sys->lock);
    return n;
}

void fltsim_system_reports_clear(fltsim_system *sys)
{
    uv_mutex_lock(&sys->lock);
    sys->reports.count = 0;
    uv_mutex_unlock(&sys->lock);
}
