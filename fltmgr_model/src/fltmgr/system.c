/*
 * A system: one simulated machine with its FltMgr state (filters, volumes,
 * loaded drivers), its trace sink and its verifier reports. Systems are
 * independent, so a test process can create one per test case. This file owns
 * creation and the orderly shutdown in fltsim_system_destroy, the trace and
 * report plumbing every other model file uses.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/executor.h"
#include "exec/watch_hooks.h"
#include "section_internal.h"
#include "user_side.h"

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
    if (options != NULL && options->executor != FLTSIM_EXECUTOR_CONCURRENT &&
        options->executor != FLTSIM_EXECUTOR_DETERMINISTIC)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "fltsim_system_create: unknown executor %d",
                            (int)options->executor);
    struct fltsim_windows_version windows;
    if (!NT_SUCCESS(
            fltsim__windows_version_resolve(options != NULL ? &options->windows : NULL, &windows)))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "fltsim_system_create: %s",
                            fltsim_last_error());
    if (options != NULL && (options->time_zone_bias < -840 || options->time_zone_bias > 720))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_system_create: time zone bias %ld minutes is out of range "
                            "(-840 ... 720)",
                            (long)options->time_zone_bias);

    fltsim_system *sys = calloc(1, sizeof(*sys));
    if (sys == NULL)
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "fltsim_system_create: out of memory");
    if (uv_mutex_init(&sys->lock) != 0)
        goto fail_lock;
    if (uv_mutex_init(&sys->trace_lock) != 0)
        goto fail_trace;
    sys->flags = options != NULL ? options->flags : 0;
    sys->windows = windows;
    sys->time_zone_bias = options != NULL ? options->time_zone_bias : 0;
    InitializeListHead(&sys->waiters);
    InitializeListHead(&sys->filters);
    InitializeListHead(&sys->volumes);
    InitializeListHead(&sys->drivers);
    sys->next_op_id = 1;
    sys->next_filter_serial = 1;
    NTSTATUS status =
        options != NULL && options->executor == FLTSIM_EXECUTOR_DETERMINISTIC
            ? fltsim__executor_deterministic_create(sys, options->seed, &sys->executor)
            : fltsim__executor_concurrent_create(sys, &sys->executor);
    if (!NT_SUCCESS(status)) {
        uv_mutex_destroy(&sys->trace_lock);
        uv_mutex_destroy(&sys->lock);
        free(sys);
        return fltsim__fail(status, "fltsim_system_create: the executor could not start%s%s",
                            fltsim_last_error()[0] ? ": " : "", fltsim_last_error());
    }
    fltsim__watch_system_created(sys);
    *out = sys;
    return STATUS_SUCCESS;

fail_trace:
    uv_mutex_destroy(&sys->lock);
fail_lock:
    free(sys);
    return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "fltsim_system_create: no lock");
}

void fltsim_system_destroy(fltsim_system *sys)
{
    if (sys == NULL)
        return;
    /* Programs still running end first, as at a shutdown. */
    fltsim__w32_shutdown(sys);
    sys->destroying = true;

    /* Handles first, while the filters can still see their cleanup and close. */
    if (sys->io_manager_shutdown != NULL)
        sys->io_manager_shutdown(sys->io_manager);
    __atomic_store_n(&sys->io_manager, NULL, __ATOMIC_RELEASE);
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
    fltsim__watch_system_destroyed(sys); /* nothing pended is left to list */

    /* Whatever work is still queued runs before the executor goes. */
    sys->executor->ops->destroy(sys->executor);
    sys->executor = NULL;

    fltsim__ports_system_destroyed(sys);
    fltsim__fltlib_system_destroyed(sys);
    fltsim__sections_system_destroyed(sys);
    /* IRPs drivers never completed, devices still held, links left. */
    fltsim__objects_system_destroyed(sys);

    /* Work items and pool of filter code never freed (reported at unload). */
    fltsim__contexts_system_destroyed(sys);
    fltsim__workitems_system_destroyed(sys);
    fltsim__names_system_destroyed(sys);
    fltsim__pool_system_destroyed(sys);

    /* Key handles the drivers left open (reported at their unload). */
    fltsim__registry_destroy(sys);

    free(sys->reports.items);
    fltsim__faults_destroy(sys);
    uv_mutex_destroy(&sys->trace_lock);
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
    sys->io_manager_shutdown = shutdown_cb;
    __atomic_store_n(&sys->io_manager, state, __ATOMIC_RELEASE);
    uv_mutex_unlock(&sys->lock);
    return STATUS_SUCCESS;
}

void *fltsim_system_io_manager(fltsim_system *sys)
{
    /* Every I/O call asks: no sys->lock (set once, under it, with release). */
    return __atomic_load_n(&sys->io_manager, __ATOMIC_ACQUIRE);
}

enum fltsim_executor_kind fltsim_system_executor(fltsim_system *sys)
{
    return sys->executor->kind;
}

void fltsim__task_finished(struct fltsim_executor *ex)
{
    if (__atomic_load_n(&ex->outstanding, __ATOMIC_SEQ_CST) == 0)
        fltsim__broadcast(ex->sys);
}

NTSTATUS fltsim_system_wait_idle(fltsim_system *sys, ULONG timeout_ms)
{
    ULONG64 deadline = timeout_ms ? fltsim__now_ns() + (ULONG64)timeout_ms * 1000000ULL : 0;
    for (;;) {
        ULONG64 now = fltsim__now_ns();
        if (deadline != 0 && now >= deadline)
            break;
        bool idle = sys->executor->ops->wait_idle(sys->executor, deadline ? deadline - now : 0);
        if (!idle) {
            if (fltsim__is_deterministic())
                return fltsim__fail(STATUS_TIMEOUT,
                                    "fltsim_system_wait_idle: simulated threads are blocked "
                                    "and nothing can wake them");
            continue; /* the deadline decides */
        }
        /* A completion broadcasts only when someone waits for idleness:
         * announce the wait, then count (each side's write is sequentially
         * consistent or under a shard lock the other then takes, so one of
         * the two sees the other). */
        uv_mutex_lock(&sys->lock);
        __atomic_add_fetch(&sys->idle_waiters, 1, __ATOMIC_SEQ_CST);
        ULONG64 departed = __atomic_load_n(&sys->idle_departures, __ATOMIC_SEQ_CST);
        LONG busy = fltsim__ops_in_flight_locked(sys);
        if (busy != 0 && !fltsim__is_deterministic()) {
            /* Operations in flight complete on other threads; wait for news:
             * each of the `busy` departures still to come happens after the
             * count and is counted in idle_departures (this waiter was
             * announced), so the system cannot become idle before they all
             * did. The completer checks idle_wake_at after counting, this
             * checks the count after setting it: one of the two sees the
             * other. Another waiter may set it later, to a count that
             * idleness needs as well. */
            ULONG64 wake_at = departed + (ULONG64)busy;
            __atomic_store_n(&sys->idle_wake_at, wake_at, __ATOMIC_SEQ_CST);
            if (__atomic_load_n(&sys->idle_departures, __ATOMIC_SEQ_CST) < wake_at)
                fltsim__sys_wait_locked(sys, fltsim__now_ns() + 10000000ULL);
        }
        __atomic_sub_fetch(&sys->idle_waiters, 1, __ATOMIC_SEQ_CST);
        uv_mutex_unlock(&sys->lock);
        if (busy == 0)
            return STATUS_SUCCESS;
        if (fltsim__is_deterministic())
            return fltsim__fail(STATUS_TIMEOUT,
                                "fltsim_system_wait_idle: %d operations are in flight and "
                                "nothing can complete them",
                                (int)busy);
    }
    return fltsim__fail(STATUS_TIMEOUT, "fltsim_system_wait_idle: still busy after %u ms",
                        (unsigned)timeout_ms);
}

struct posted_work {
    struct fltsim_task task;
    void (*fn)(void *ctx);
    void *ctx;
};

static void posted_run(struct fltsim_task *task)
{
    struct posted_work *w = (struct posted_work *)task;
    void (*fn)(void *) = w->fn;
    void *ctx = w->ctx;
    free(w);
    fn(ctx);
}

NTSTATUS fltsim_system_post_work(fltsim_system *sys, void (*fn)(void *ctx), void *ctx)
{
    if (sys == NULL || fn == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_system_post_work: sys and fn are required");
    struct posted_work *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES,
                            "fltsim_system_post_work: out of memory");
    w->task.run = posted_run;
    w->task.kind = FLTSIM_TASK_WORK;
    w->fn = fn;
    w->ctx = ctx;
    fltsim__submit(sys->executor, &w->task);
    return STATUS_SUCCESS;
}

struct fltsim_thread {
    struct fltsim_executor *executor;
    void *handle;
    fltsim_system *sys;
    void (*fn)(void *ctx);
    void *ctx;
};

/* A spawned thread belongs to its system: the user-mode routines it calls
 * (fltUser.h) act there. */
static void spawned_run(void *arg)
{
    struct fltsim_thread *t = arg;
    fltsim__tls()->user_sys = t->sys;
    t->fn(t->ctx);
    fltsim__tls()->user_sys = NULL;
}

NTSTATUS fltsim_thread_spawn(fltsim_system *sys, ULONG process_id, ULONG thread_id,
                             void (*fn)(void *ctx), void *ctx, fltsim_thread **out)
{
    if (sys == NULL || fn == NULL || out == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_thread_spawn: sys, fn and out are required");
    *out = NULL;
    struct fltsim_thread *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    t->executor = sys->executor;
    t->sys = sys;
    t->fn = fn;
    t->ctx = ctx;
    NTSTATUS status =
        sys->executor->ops->spawn(sys->executor, process_id, thread_id, spawned_run, t, &t->handle);
    if (!NT_SUCCESS(status)) {
        free(t);
        return fltsim__fail(status, "fltsim_thread_spawn: no thread");
    }
    *out = t;
    return STATUS_SUCCESS;
}

void fltsim_thread_join(fltsim_thread *thread)
{
    if (thread == NULL)
        return;
    thread->executor->ops->join(thread->executor, thread->handle);
    free(thread);
}

/* How long a real thread spins before it parks in fltsim__sys_wait_locked:
 * about a sleep and wakeup's cost (as post.c's WAIT_SPIN_NS). */
#define SYS_WAIT_SPIN_NS 20000ull

struct sys_waiter {
    LIST_ENTRY link;
    struct fltsim_sthread *thread;
    bool (*ready)(void *ctx); /* NULL: every broadcast wakes it */
    void *ctx;
};

void fltsim__sys_wait_until_locked(fltsim_system *sys, ULONG64 deadline_ns,
                                   bool (*ready)(void *ctx), void *ctx)
{
    struct sys_waiter w = {.thread = fltsim__current_sthread(), .ready = ready, .ctx = ctx};
    InsertTailList(&sys->waiters, &w.link);
    uv_mutex_unlock(&sys->lock);
    /* What a real thread waits for here (a reply, a message, a completion
     * packet) is often another thread's next few microseconds: spin on its
     * own permit a little before sleeping; the park then takes the permit
     * at once. (A coroutine does not spin.) */
    fltsim__spin_until(&w.thread->permit, NULL, SYS_WAIT_SPIN_NS);
    fltsim__park(deadline_ns);
    uv_mutex_lock(&sys->lock);
    RemoveEntryList(&w.link);
}

void fltsim__sys_wait_locked(fltsim_system *sys, ULONG64 deadline_ns)
{
    fltsim__sys_wait_until_locked(sys, deadline_ns, NULL, NULL);
}

void fltsim__broadcast_locked(fltsim_system *sys)
{
    /* A waiter that said what it waits for is woken only when that holds:
     * a thread in Sleep or waiting for its worker is not woken (nor made to
     * spin) by every message and completion of the system. */
    for (PLIST_ENTRY e = sys->waiters.Flink; e != &sys->waiters; e = e->Flink) {
        struct sys_waiter *w = CONTAINING_RECORD(e, struct sys_waiter, link);
        if (w->ready == NULL || w->ready(w->ctx))
            fltsim__unpark(w->thread);
    }
}

void fltsim__broadcast(fltsim_system *sys)
{
    uv_mutex_lock(&sys->lock);
    fltsim__broadcast_locked(sys);
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

/* Rule ids fltsim reports under (SPEC 10 and the README). */
bool fltsim_verifier_rule_valid(const char *rule)
{
    if (rule == NULL)
        return false;
    if (strcmp(rule, "ASSERT") == 0 || strcmp(rule, "KE") == 0 || strcmp(rule, "SIM") == 0 ||
        strcmp(rule, "SEH") == 0 || strcmp(rule, "RTL") == 0)
        return true;
    if (strcmp(rule, "MM") == 0) /* misuse of MDLs and buffers (nt/mdl.c, buffers.c) */
        return true;
    if (strcmp(rule, "IO") == 0) /* misuse of IRPs and device objects (nt/irp.c, device.c) */
        return true;
    if (rule[0] != 'V' || rule[1] < '1' || rule[1] > '9')
        return false;
    if (rule[2] == '\0')
        return true;
    if (rule[2] < '0' || rule[2] > '9' || rule[3] != '\0')
        return false;
    int n = (rule[1] - '0') * 10 + (rule[2] - '0');
    return n <= 36; /* V31 process notifications (nt/ps_notify.c), V32-V36 object callbacks */
}

/* sys->lock held. */
static bool rule_disabled_locked(const fltsim_system *sys, const char *rule)
{
    for (ULONG i = 0; i < sys->disabled_count; i++)
        if (strcmp(sys->disabled_rules[i], rule) == 0)
            return true;
    return false;
}

void fltsim__report(fltsim_system *sys, struct _FLT_FILTER *filter, struct _FLT_INSTANCE *instance,
                    const struct fltsim_op *op, const char *rule, const char *spec, const char *fmt,
                    ...)
{
    /* A disabled rule is a known, accepted finding: count it, nothing else. */
    uv_mutex_lock(&sys->lock);
    bool disabled = rule_disabled_locked(sys, rule);
    if (disabled)
        sys->suppressed++;
    uv_mutex_unlock(&sys->lock);
    if (disabled)
        return;

    struct fltsim_report r;
    memset(&r, 0, sizeof(r));
    snprintf(r.rule, sizeof(r.rule), "%s", rule);
    snprintf(r.spec, sizeof(r.spec), "%s", spec);
    if (instance != NULL && filter == NULL)
        filter = instance->filter;
    if (filter != NULL)
        snprintf(r.filter, sizeof(r.filter), "%s", filter->name8);
    if (instance != NULL) {
        snprintf(r.altitude, sizeof(r.altitude), "%s", instance->altitude.text);
        snprintf(r.instance, sizeof(r.instance), "%s", instance->name8);
    }
    r.major = op != NULL ? op->iopb.MajorFunction : 0xff;
    r.minor = op != NULL ? op->iopb.MinorFunction : 0;
    r.op_kind = op != NULL ? (int)op->kind : -1;
    r.op_id = op != NULL ? op->id : 0;
    r.thread_id = fltsim_thread_id();
    r.process_id = fltsim_thread_process_id();
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
        ev.minor = r.minor;
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
    sys->suppressed = 0;
    uv_mutex_unlock(&sys->lock);
}

char *fltsim_report_format(const struct fltsim_report *r, char *buf, size_t size)
{
    if (buf == NULL || size == 0)
        return buf;
    char where[448] = "";
    if (r->filter[0] != '\0' && r->instance[0] != '\0')
        snprintf(where, sizeof(where), " in filter '%s' (instance '%s', altitude %s)", r->filter,
                 r->instance, r->altitude);
    else if (r->filter[0] != '\0')
        snprintf(where, sizeof(where), " in filter '%s'", r->filter);
    char what[192] = "";
    if (r->op_kind >= 0) {
        static const char *const kinds[] = {"IRP", "fast I/O", "FS filter"};
        const char *major = fltsim_major_name(r->major);
        const char *minor = fltsim_minor_name(r->major, r->minor);
        char mj[8], mn[8];
        snprintf(mj, sizeof(mj), "0x%02x", r->major);
        snprintf(mn, sizeof(mn), "0x%02x", r->minor);
        snprintf(what, sizeof(what), ", %s/%s %s", major != NULL ? major : mj,
                 minor != NULL ? minor : mn, r->op_kind <= 2 ? kinds[r->op_kind] : "?");
    }
    snprintf(buf, size, "%s (SPEC %s)%s%s, thread %lu (process %lu): %s", r->rule, r->spec, where,
             what, (unsigned long)r->thread_id, (unsigned long)r->process_id, r->message);
    return buf;
}

NTSTATUS fltsim_system_set_verifier_mode(fltsim_system *sys, enum fltsim_verifier_policy mode)
{
    if (mode != FLTSIM_VERIFIER_MODE_STRICT && mode != FLTSIM_VERIFIER_MODE_REPORT)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_system_set_verifier_mode: mode %d is neither "
                            "FLTSIM_VERIFIER_MODE_STRICT nor FLTSIM_VERIFIER_MODE_REPORT",
                            (int)mode);
    uv_mutex_lock(&sys->lock);
    sys->verifier_mode = (int)mode;
    uv_mutex_unlock(&sys->lock);
    return STATUS_SUCCESS;
}

enum fltsim_verifier_policy fltsim_system_verifier_mode(fltsim_system *sys)
{
    uv_mutex_lock(&sys->lock);
    enum fltsim_verifier_policy mode = (enum fltsim_verifier_policy)sys->verifier_mode;
    uv_mutex_unlock(&sys->lock);
    return mode;
}

bool fltsim_system_verifier_failed(fltsim_system *sys)
{
    uv_mutex_lock(&sys->lock);
    bool failed = sys->verifier_mode == FLTSIM_VERIFIER_MODE_STRICT && sys->reports.count != 0;
    uv_mutex_unlock(&sys->lock);
    return failed;
}

static NTSTATUS check_rule(const char *api, const char *rule)
{
    if (fltsim_verifier_rule_valid(rule))
        return STATUS_SUCCESS;
    return fltsim__fail(STATUS_INVALID_PARAMETER,
                        "%s: '%s' is not a verifier rule (V1 ... V36, ASSERT, KE or SIM)", api,
                        rule != NULL ? rule : "(null)");
}

NTSTATUS fltsim_system_verifier_disable(fltsim_system *sys, const char *rule)
{
    NTSTATUS status = check_rule("fltsim_system_verifier_disable", rule);
    if (!NT_SUCCESS(status))
        return status;
    uv_mutex_lock(&sys->lock);
    if (!rule_disabled_locked(sys, rule) && sys->disabled_count < FLTSIM_MAX_DISABLED_RULES)
        snprintf(sys->disabled_rules[sys->disabled_count++], sizeof(sys->disabled_rules[0]),
                 "%s", rule);
    uv_mutex_unlock(&sys->lock);
    return STATUS_SUCCESS;
}

NTSTATUS fltsim_system_verifier_enable(fltsim_system *sys, const char *rule)
{
    NTSTATUS status = check_rule("fltsim_system_verifier_enable", rule);
    if (!NT_SUCCESS(status))
        return status;
    uv_mutex_lock(&sys->lock);
    for (ULONG i = 0; i < sys->disabled_count; i++)
        if (strcmp(sys->disabled_rules[i], rule) == 0) {
            memmove(sys->disabled_rules[i], sys->disabled_rules[i + 1],
                    (sys->disabled_count - i - 1) * sizeof(sys->disabled_rules[0]));
            sys->disabled_count--;
            break;
        }
    uv_mutex_unlock(&sys->lock);
    return STATUS_SUCCESS;
}

bool fltsim_system_verifier_is_disabled(fltsim_system *sys, const char *rule)
{
    if (rule == NULL)
        return false;
    uv_mutex_lock(&sys->lock);
    bool disabled = rule_disabled_locked(sys, rule);
    uv_mutex_unlock(&sys->lock);
    return disabled;
}

ULONG fltsim_system_report_suppressed_count(fltsim_system *sys)
{
    uv_mutex_lock(&sys->lock);
    ULONG n = sys->suppressed;
    uv_mutex_unlock(&sys->lock);
    return n;
}
