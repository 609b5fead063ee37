/*
 * Instances (SPEC 2.4-2.6): attaching a filter to a volume at an altitude with
 * InstanceSetupCallback, manual detach with InstanceQueryTeardownCallback, and
 * teardown (TeardownStart, wait for the operations in flight, TeardownComplete).
 * Each attach or detach rebuilds the volume's node lists (DESIGN decision 10)
 * so dispatch never walks the instance list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/executor.h"
#include "section_internal.h"

/* ---- node lists ---- */

#define STACK_BIAS (1L << 30)

static void stack_free(struct fltsim_stack *stack)
{
    for (ULONG i = 0; i < stack->total; i++)
        fltsim__instance_unref(stack->nodes[i]);
    free(stack);
}

/* The stack is looked up and counted as an operation is listed in flight,
 * and dropped as it is unlisted, each time under the in-flight shard lock
 * that the operation takes anyway (one critical section each way). */
struct fltsim_stack *fltsim__stack_get_locked(struct _FLT_VOLUME *volume, ULONG s)
{
    struct fltsim_stack *stack = __atomic_load_n(&volume->stack, __ATOMIC_ACQUIRE);
    if (stack != NULL)
        stack->refs[s].n++;
    return stack;
}

bool fltsim__stack_put_locked(struct fltsim_stack *stack, ULONG s)
{
    if (stack == NULL)
        return false;
    if (__atomic_load_n(&stack->retired, __ATOMIC_RELAXED))
        return true;
    stack->refs[s].n--;
    return false;
}

/* No reads of the stack after the subtract that may have been the last. */
void fltsim__stack_put_retired(struct fltsim_stack *stack)
{
    if (__atomic_sub_fetch(&stack->central, 1, __ATOMIC_ACQ_REL) == 0)
        stack_free(stack);
}

void fltsim__volume_set_stack_locked(struct _FLT_VOLUME *volume, struct fltsim_stack *stack)
{
    struct fltsim_stack *old = volume->stack;
    for (ULONG s = 0; s < FLTSIM_SLOT_COUNT; s++)
        __atomic_store_n(&volume->node_room[s], stack != NULL ? stack->count[s] : 0,
                         __ATOMIC_RELAXED);
    __atomic_store_n(&volume->stack, stack, __ATOMIC_RELEASE);
    if (old == NULL)
        return;
    /* Retire under every shard lock in turn (the grace period): a thread
     * that loaded the old pointer has counted its reference when its shard
     * lock is released, and every later subtract sees `retired`. */
    __atomic_store_n(&old->central, STACK_BIAS, __ATOMIC_RELAXED);
    LONG in_shards = 0;
    for (ULONG s = 0; s < FLTSIM_SHARDS; s++) {
        fltsim__spin_lock(&volume->inflight[s].lock);
        __atomic_store_n(&old->retired, 1, __ATOMIC_RELAXED);
        fltsim__spin_unlock(&volume->inflight[s].lock);
    }
    /* Every shard is final now (its updates happen under its lock with
     * retired clear). */
    for (ULONG s = 0; s < FLTSIM_SHARDS; s++) {
        fltsim__spin_lock(&volume->inflight[s].lock);
        in_shards += old->refs[s].n;
        fltsim__spin_unlock(&volume->inflight[s].lock);
    }
    if (__atomic_add_fetch(&old->central, in_shards - STACK_BIAS, __ATOMIC_ACQ_REL) == 0)
        stack_free(old);
}

/* sys->lock held. Builds the per-slot lists of attached instances, highest
 * altitude first. Returns false (lists unchanged) when out of memory. */
static bool rebuild_stack_locked(struct _FLT_VOLUME *volume)
{
    ULONG count[FLTSIM_SLOT_COUNT] = {0}, total = 0;
    for (PLIST_ENTRY e = volume->instances.Flink; e != &volume->instances; e = e->Flink) {
        PFLT_INSTANCE i = CONTAINING_RECORD(e, struct _FLT_INSTANCE, volume_link);
        if (i->state != FLTSIM_INSTANCE_ATTACHED)
            continue;
        for (int s = 0; s < FLTSIM_SLOT_COUNT; s++)
            if (i->filter->ops[s].registered) {
                count[s]++;
                total++;
            }
    }
    struct fltsim_stack *stack = NULL;
    if (total != 0) {
        stack = calloc(1, sizeof(*stack) + total * sizeof(stack->nodes[0]));
        if (stack == NULL)
            return false;
        stack->total = total;
        ULONG next = 0;
        for (int s = 0; s < FLTSIM_SLOT_COUNT; s++) {
            stack->first[s] = next;
            for (PLIST_ENTRY e = volume->instances.Flink; e != &volume->instances; e = e->Flink) {
                PFLT_INSTANCE i = CONTAINING_RECORD(e, struct _FLT_INSTANCE, volume_link);
                if (i->state != FLTSIM_INSTANCE_ATTACHED || !i->filter->ops[s].registered)
                    continue;
                fltsim__instance_ref(i);
                stack->nodes[next++] = i;
            }
            stack->count[s] = next - stack->first[s];
        }
    }
    /* Operations still using the old lists keep it alive; instances it holds
     * are freed only when those operations finish. */
    fltsim__volume_set_stack_locked(volume, stack);
    return true;
}

void fltsim__volume_rebuild_stack_locked(struct _FLT_VOLUME *volume)
{
    /* Out of memory leaves the old lists, which is safe: dispatch skips any
     * instance that is no longer attached. */
    (void)rebuild_stack_locked(volume);
}

/* ---- trace helpers ---- */

static void trace_instance(enum fltsim_event_type type, PFLT_INSTANCE inst, ULONG flags,
                           NTSTATUS status, const char *detail)
{
    fltsim_system *sys = inst->volume->sys;
    if (!fltsim__tracing(sys))
        return;
    struct fltsim_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.filter = inst->filter->name8;
    ev.instance = inst->name8;
    ev.altitude = inst->altitude.text;
    ev.volume = inst->volume->name8;
    ev.flags = flags;
    ev.status = status;
    ev.detail = detail;
    fltsim__event_thread(&ev);
    fltsim__trace(sys, &ev);
}

/* ---- attach ---- */

/* ---- calls into the filter's instance callbacks, each in a callout frame ---- */

struct instance_call {
    PCFLT_RELATED_OBJECTS objects;
    PFLT_INSTANCE_SETUP_CALLBACK setup;
    FLT_INSTANCE_SETUP_FLAGS setup_flags;
    DEVICE_TYPE device_type;
    FLT_FILESYSTEM_TYPE fs_type;
    PFLT_INSTANCE_QUERY_TEARDOWN_CALLBACK query;
    PFLT_INSTANCE_TEARDOWN_CALLBACK teardown;
    ULONG flags; /* query-teardown and teardown flags */
    NTSTATUS status;
};

static void setup_thunk(void *ctx)
{
    struct instance_call *c = ctx;
    c->status = c->setup(c->objects, c->setup_flags, c->device_type, c->fs_type);
}

static void query_thunk(void *ctx)
{
    struct instance_call *c = ctx;
    c->status = c->query(c->objects, c->flags);
}

static void teardown_thunk(void *ctx)
{
    struct instance_call *c = ctx;
    c->teardown(c->objects, c->flags);
}

/* Calls a teardown callback; an exception it does not handle is reported and
 * ends it (teardown goes on). */
static void call_teardown(fltsim_system *sys, struct _FLT_INSTANCE *inst,
                          PCFLT_RELATED_OBJECTS objects, PFLT_INSTANCE_TEARDOWN_CALLBACK cb,
                          FLT_INSTANCE_TEARDOWN_FLAGS reason, const char *what)
{
    struct fltsim_callout save;
    fltsim__enter(&save, sys, inst->filter, NULL);
    /* Named for a crash report or the watchdog ("its X": X). */
    fltsim__tls()->callout_what = strncmp(what, "its ", 4) == 0 ? what + 4 : what;
    struct instance_call call = {.objects = objects, .teardown = cb, .flags = reason};
    struct fltsim_seh_frame seh;
    if (!fltsim__seh_call(&seh, teardown_thunk, &call))
        fltsim__seh_uncaught(&seh, sys, NULL, inst, NULL, what,
                             "fltsim ends the callback and teardown goes on");
    fltsim__leave(&save);
}

NTSTATUS fltsim__instance_attach(struct _FLT_FILTER *filter, struct _FLT_VOLUME *volume,
                                 PCUNICODE_STRING name, const struct fltsim_altitude *altitude,
                                 FLT_INSTANCE_SETUP_FLAGS setup_flags, NTSTATUS collision_status,
                                 struct _FLT_INSTANCE **out)
{
    fltsim_system *sys = filter->sys;
    if (out != NULL)
        *out = NULL;
    if (volume->sys != sys)
        return STATUS_INVALID_PARAMETER;

    PFLT_INSTANCE inst = calloc(1, sizeof(*inst));
    if (inst == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (!fltsim__ustr_dup(&inst->name, name->Buffer, name->Length / sizeof(WCHAR))) {
        free(inst);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    fltsim__ustr_to_utf8(&inst->name, inst->name8, sizeof(inst->name8));
    inst->altitude = *altitude;
    inst->obj.magic = FLTSIM_MAGIC_INSTANCE;
    fltsim__data_scan_forget(inst);
    inst->obj.refs = 1; /* attached lifetime; dropped by teardown */

    NTSTATUS status = STATUS_SUCCESS;
    const char *why = NULL;
    uv_mutex_lock(&sys->lock);
    if (filter->state == FLTSIM_FILTER_REGISTERED) {
        status = STATUS_FLT_FILTER_NOT_READY;
        why = "FltStartFiltering has not been called";
    } else if (filter->state != FLTSIM_FILTER_STARTED || volume->dismounting) {
        status = STATUS_FLT_DELETING_OBJECT;
        why = "the filter or the volume is being torn down";
    } else {
        PLIST_ENTRY insert_before = &volume->instances;
        for (PLIST_ENTRY e = volume->instances.Flink; e != &volume->instances; e = e->Flink) {
            PFLT_INSTANCE i = CONTAINING_RECORD(e, struct _FLT_INSTANCE, volume_link);
            if (fltsim__ustr_equal_ci(&i->name, &inst->name)) {
                status = STATUS_FLT_INSTANCE_NAME_COLLISION;
                why = "an instance with this name is on the volume";
                break;
            }
            int c = fltsim__altitude_compare(&i->altitude, altitude);
            if (c == 0) {
                status = collision_status;
                why = "another instance is at this altitude on the volume";
                break;
            }
            if (c < 0 && insert_before == &volume->instances)
                insert_before = e;
        }
        if (NT_SUCCESS(status)) {
            inst->filter = filter;
            inst->volume = volume;
            fltsim__filter_ref(filter);
            fltsim__volume_ref(volume);
            InsertTailList(insert_before, &inst->volume_link); /* before the first lower one */
            InsertTailList(&filter->instances, &inst->filter_link);
            inst->state = FLTSIM_INSTANCE_INITING;
        }
    }
    uv_mutex_unlock(&sys->lock);

    if (!NT_SUCCESS(status)) {
        if (fltsim__tracing(sys)) {
            struct fltsim_event ev;
            memset(&ev, 0, sizeof(ev));
            ev.type = FLTSIM_EV_INSTANCE_SETUP;
            ev.filter = filter->name8;
            ev.instance = inst->name8;
            ev.altitude = altitude->text;
            ev.volume = volume->name8;
            ev.flags = setup_flags;
            ev.status = status;
            ev.detail = why;
            fltsim__event_thread(&ev);
            fltsim__trace(sys, &ev);
        }
        fltsim__ustr_free(&inst->name);
        free(inst);
        return status;
    }

    /* InstanceSetupCallback runs at PASSIVE_LEVEL with no lock held (SPEC 2.4). */
    PFLT_INSTANCE_SETUP_CALLBACK setup = filter->reg.InstanceSetupCallback;
    if (setup != NULL) {
        FLT_RELATED_OBJECTS objects;
        fltsim__fill_objects(&objects, filter, volume, inst, NULL);
        struct fltsim_callout save;
        fltsim__enter(&save, sys, filter, NULL);
        fltsim__tls()->setup_instance = inst;
        struct instance_call call = {.objects = &objects,
                                     .setup = setup,
                                     .setup_flags = setup_flags,
                                     .device_type = volume->device_type,
                                     .fs_type = volume->fs_type};
        struct fltsim_seh_frame seh;
        if (fltsim__seh_call(&seh, setup_thunk, &call))
            status = call.status;
        else
            status = fltsim__seh_uncaught(&seh, sys, NULL, inst, NULL, "its InstanceSetupCallback",
                                          "fltsim ends the callback and the instance does not "
                                          "attach (setup fails with that status)");
        fltsim__leave(&save);
    }
    trace_instance(FLTSIM_EV_INSTANCE_SETUP, inst, setup_flags, status,
                   setup != NULL ? NULL : "no InstanceSetupCallback: attach accepted");

    uv_mutex_lock(&sys->lock);
    bool attached = false;
    if (!fltsim__is_veto(status)) {
        inst->state = FLTSIM_INSTANCE_ATTACHED;
        attached = rebuild_stack_locked(volume);
        if (!attached) {
            inst->state = FLTSIM_INSTANCE_INITING;
            status = STATUS_INSUFFICIENT_RESOURCES;
        }
    }
    if (!attached) {
        /* A warning or error status means no attachment (SPEC 2.4). */
        RemoveEntryList(&inst->volume_link);
        RemoveEntryList(&inst->filter_link);
        inst->state = FLTSIM_INSTANCE_TORN_DOWN;
    }
    fltsim__broadcast_locked(sys);
    uv_mutex_unlock(&sys->lock);

    if (!attached) {
        /* What its setup set on it (an instance context) goes with it. */
        fltsim__contexts_instance_gone(inst);
        fltsim__instance_unref(inst);
        return status;
    }
    if (out != NULL) {
        /* The caller gets a rundown reference (SPEC 2.4, FltAttachVolume). */
        if (NT_SUCCESS(fltsim__object_reference(inst))) {
            fltsim__object_refs_handed(1);
            *out = inst;
        }
    }
    return STATUS_SUCCESS;
}

void fltsim__offer_volume(struct _FLT_FILTER *filter, struct _FLT_VOLUME *volume,
                          FLT_INSTANCE_SETUP_FLAGS setup_flags)
{
    struct fltsim_driver *drv = filter->driver;
    if (drv->default_instance < 0)
        return;
    const struct fltsim_instance_entry *entry = &drv->instances[drv->default_instance];
    if (entry->flags & FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC)
        return;

    /* Each filter is offered each volume automatically once: at
     * FltStartFiltering for volumes that exist, or at the volume's deferred
     * mount setup. */
    fltsim_system *sys = filter->sys;
    uv_mutex_lock(&sys->lock);
    for (ULONG k = 0; k < volume->offered_count; k++) {
        if (volume->offered[k] == filter->serial) {
            uv_mutex_unlock(&sys->lock);
            return;
        }
    }
    if (volume->offered_count == volume->offered_capacity) {
        ULONG cap = volume->offered_capacity ? volume->offered_capacity * 2 : 8;
        ULONG64 *grown = realloc(volume->offered, cap * sizeof(*grown));
        if (grown == NULL) {
            uv_mutex_unlock(&sys->lock);
            return;
        }
        volume->offered = grown;
        volume->offered_capacity = cap;
    }
    volume->offered[volume->offered_count++] = filter->serial;
    uv_mutex_unlock(&sys->lock);

    fltsim__instance_attach(filter, volume, &entry->name, &entry->altitude, setup_flags,
                            STATUS_OBJECT_NAME_COLLISION, NULL);
}

/* V30: the InstanceSetupCallback running on this thread (setup_instance,
 * set above) must not block; the Ke and Ex routines that block ask here. */
void fltsim__check_blocking(const char *api, const char *what)
{
    fltsim__ob_check_blocking(api, what); /* V36: inside an object callback */
    struct fltsim_tls *t = fltsim__tls();
    if (t->setup_instance == NULL || t->sys == NULL)
        return;
    fltsim__report(t->sys, t->filter, t->setup_instance, NULL, "V30", "2.4",
                   "%s %s inside InstanceSetupCallback; setup must not block (waits, port "
                   "sends, IPC): it holds up the volume's first I/O",
                   api, what);
}

/* ---- teardown ---- */

/* How long a teardown waits for operations in flight before it says so. */
#define TEARDOWN_WARN_NS 10000000000ull

NTSTATUS fltsim__instance_teardown(struct _FLT_INSTANCE *inst, FLT_INSTANCE_TEARDOWN_FLAGS reason)
{
    struct _FLT_VOLUME *volume = inst->volume;
    struct _FLT_FILTER *filter = inst->filter;
    fltsim_system *sys = volume->sys;

    /* 1. New operations stop reaching the instance (SPEC 2.6). */
    uv_mutex_lock(&sys->lock);
    if (inst->state != FLTSIM_INSTANCE_ATTACHED) {
        uv_mutex_unlock(&sys->lock);
        return STATUS_FLT_DELETING_OBJECT;
    }
    __atomic_store_n(&inst->state, FLTSIM_INSTANCE_TEARING_DOWN, __ATOMIC_SEQ_CST);
    fltsim__volume_rebuild_stack_locked(volume);
    uv_mutex_unlock(&sys->lock);

    FLT_RELATED_OBJECTS objects;
    fltsim__fill_objects(&objects, filter, volume, inst, NULL);

    /* 2. InstanceTeardownStartCallback. */
    trace_instance(FLTSIM_EV_TEARDOWN_START, inst, reason, STATUS_SUCCESS, NULL);
    if (filter->reg.InstanceTeardownStartCallback != NULL)
        call_teardown(sys, inst, &objects, filter->reg.InstanceTeardownStartCallback, reason,
                      "its InstanceTeardownStartCallback");

    /* 3. Posts the instance still owes are called now, with
     * FLTFL_POST_OPERATION_DRAINING, except for operations whose buffer it
     * swapped: those are cancelled (a filter holding one below gets its
     * cancel routine called) and waited for in step 4. Operations it still keeps pended
     * are reported (V26): teardown cannot finish until they complete. */
    fltsim__drain_instance(inst);

    /* 4. Wait for the operations in the instance: those whose pre it ran
     * and that are not done with it (its pre or post running or pended, a
     * post it is owed and that was not drained). Operations that have not
     * reached it are not waited for: they skip it when they do (pre.c). On
     * Windows an operation that never completes hangs the unload; a
     * teardown that has waited long says what it waits for, once. */
    ULONG64 warn_at = fltsim__now_ns() + TEARDOWN_WARN_NS;
    bool warned = false;
    uv_mutex_lock(&sys->lock);
    while (fltsim__instance_has_ops(inst)) {
        if (!warned && fltsim__now_ns() >= warn_at) {
            warned = true;
            char waits[2048];
            fltsim__describe_instance_ops(inst, waits, sizeof(waits));
            uv_mutex_unlock(&sys->lock);
            fprintf(stderr,
                    "fltsim: teardown of instance \"%s\" (filter %s) on volume %s has waited "
                    "%llu s for operations still in flight through it (SPEC 2.6 step 4: on "
                    "Windows the unload hangs until they are done with the instance); it waits "
                    "for:%s\n",
                    inst->name8, filter->name8, volume->name8,
                    (unsigned long long)(TEARDOWN_WARN_NS / 1000000000ull), waits);
            uv_mutex_lock(&sys->lock);
            continue;
        }
        fltsim__sys_wait_locked(sys, warned ? 0 : warn_at);
    }
    uv_mutex_unlock(&sys->lock);

    /* 5. InstanceTeardownCompleteCallback; rundown references held by the
     * filter do not delay it (SPEC 2.6). */
    trace_instance(FLTSIM_EV_TEARDOWN_COMPLETE, inst, reason, STATUS_SUCCESS, NULL);
    if (filter->reg.InstanceTeardownCompleteCallback != NULL)
        call_teardown(sys, inst, &objects, filter->reg.InstanceTeardownCompleteCallback, reason,
                      "its InstanceTeardownCompleteCallback");
    /* Its contexts go after TeardownComplete (SPEC 7.2: at detach). */
    fltsim__contexts_instance_gone(inst);

    uv_mutex_lock(&sys->lock);
    RemoveEntryList(&inst->volume_link);
    RemoveEntryList(&inst->filter_link);
    __atomic_store_n(&inst->state, FLTSIM_INSTANCE_TORN_DOWN, __ATOMIC_SEQ_CST);
    fltsim__broadcast_locked(sys);
    uv_mutex_unlock(&sys->lock);

    /* 6. The memory goes when the last reference does. */
    fltsim__instance_unref(inst);
    return STATUS_SUCCESS;
}

void fltsim__teardown_all_locked(fltsim_system *sys, PLIST_ENTRY head, bool volume_list,
                                 FLT_INSTANCE_TEARDOWN_FLAGS reason)
{
    for (;;) {
        PFLT_INSTANCE victim = NULL;
        bool busy = false;
        for (PLIST_ENTRY e = head->Flink; e != head; e = e->Flink) {
            PFLT_INSTANCE i = volume_list ? CONTAINING_RECORD(e, struct _FLT_INSTANCE, volume_link)
                                          : CONTAINING_RECORD(e, struct _FLT_INSTANCE, filter_link);
            if (i->state == FLTSIM_INSTANCE_ATTACHED) {
                victim = i;
                break;
            }
            busy = true; /* being set up or torn down by another thread */
        }
        if (victim != NULL) {
            fltsim__instance_ref(victim);
            uv_mutex_unlock(&sys->lock);
            fltsim__instance_teardown(victim, reason);
            fltsim__instance_unref(victim);
            uv_mutex_lock(&sys->lock);
            continue;
        }
        if (!busy)
            return;
        fltsim__sys_wait_locked(sys, 0);
    }
}

/* ---- FltAttachVolume / FltAttachVolumeAtAltitude / FltDetachVolume ---- */

static NTSTATUS attach_checks(PFLT_FILTER Filter, PFLT_VOLUME Volume, const char *api)
{
    if (!fltsim__is_filter(Filter) || !fltsim__is_volume(Volume))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Filter and Volume are required", api);
    if (Filter->sys != Volume->sys)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: the filter and the volume belong to different systems", api);
    fltsim__check_irql(Filter->sys, PASSIVE_LEVEL, api);
    if (Filter->state == FLTSIM_FILTER_REGISTERED)
        return STATUS_FLT_FILTER_NOT_READY;
    return STATUS_SUCCESS;
}

NTSTATUS FltAttachVolume(PFLT_FILTER Filter, PFLT_VOLUME Volume, PCUNICODE_STRING InstanceName,
                         PFLT_INSTANCE *RetInstance)
{
    if (RetInstance != NULL)
        *RetInstance = NULL;
    NTSTATUS status = attach_checks(Filter, Volume, "FltAttachVolume");
    if (!NT_SUCCESS(status))
        return status;

    /* The instance's attributes come from the registry: the named instance,
     * or DefaultInstance when InstanceName is NULL (SPEC 2.4). */
    struct fltsim_driver *drv = Filter->driver;
    const struct fltsim_instance_entry *entry = NULL;
    if (InstanceName == NULL) {
        if (drv->default_instance >= 0)
            entry = &drv->instances[drv->default_instance];
    } else {
        for (ULONG k = 0; k < drv->instance_count && entry == NULL; k++)
            if (fltsim__ustr_equal_ci(&drv->instances[k].name, InstanceName))
                entry = &drv->instances[k];
    }
    if (entry == NULL)
        return fltsim__fail(STATUS_OBJECT_NAME_NOT_FOUND,
                            "FltAttachVolume(%s): no such instance in the filter's instance "
                            "table ([SIM] the registry key is missing)",
                            Filter->name8);
    if (entry->flags & FLTSIM_INSTANCE_SUPPRESS_MANUAL)
        return fltsim__fail(STATUS_FLT_DO_NOT_ATTACH,
                            "FltAttachVolume(%s): the instance definition suppresses manual "
                            "attachment (Flags 0x2)",
                            Filter->name8);
    return fltsim__instance_attach(Filter, Volume, &entry->name, &entry->altitude,
                                   FLTFL_INSTANCE_SETUP_MANUAL_ATTACHMENT,
                                   STATUS_OBJECT_NAME_COLLISION, RetInstance);
}

NTSTATUS FltAttachVolumeAtAltitude(PFLT_FILTER Filter, PFLT_VOLUME Volume,
                                   PCUNICODE_STRING Altitude, PCUNICODE_STRING InstanceName,
                                   PFLT_INSTANCE *RetInstance)
{
    if (RetInstance != NULL)
        *RetInstance = NULL;
    NTSTATUS status = attach_checks(Filter, Volume, "FltAttachVolumeAtAltitude");
    if (!NT_SUCCESS(status))
        return status;
    struct fltsim_altitude altitude;
    if (Altitude == NULL || Altitude->Buffer == NULL ||
        !fltsim__altitude_parse(Altitude->Buffer, Altitude->Length / sizeof(WCHAR), &altitude))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "FltAttachVolumeAtAltitude(%s): the altitude is not a decimal "
                            "number with at most one point (SPEC 2.1)",
                            Filter->name8);

    UNICODE_STRING name;
    WCHAR generated[INSTANCE_NAME_MAX_CHARS + 1];
    if (InstanceName != NULL && InstanceName->Length != 0) {
        name = *InstanceName;
    } else {
        /* [SIM] The generated name is "<filter name> <altitude>", cut to
         * INSTANCE_NAME_MAX_CHARS (the format Windows uses is not documented). */
        PCUNICODE_STRING fname = &Filter->driver->service_name;
        size_t n = 0, flen = fname->Length / sizeof(WCHAR);
        for (size_t k = 0; k < flen && n < INSTANCE_NAME_MAX_CHARS; k++)
            generated[n++] = fname->Buffer[k];
        if (n < INSTANCE_NAME_MAX_CHARS)
            generated[n++] = L' ';
        for (const char *p = altitude.text; *p != '\0' && n < INSTANCE_NAME_MAX_CHARS; p++)
            generated[n++] = (WCHAR)*p;
        generated[n] = 0;
        name.Buffer = generated;
        name.Length = name.MaximumLength = (USHORT)(n * sizeof(WCHAR));
    }
    return fltsim__instance_attach(Filter, Volume, &name, &altitude,
                                   FLTFL_INSTANCE_SETUP_MANUAL_ATTACHMENT,
                                   STATUS_FLT_INSTANCE_ALTITUDE_COLLISION, RetInstance);
}

NTSTATUS FltDetachVolume(PFLT_FILTER Filter, PFLT_VOLUME Volume, PCUNICODE_STRING InstanceName)
{
    if (!fltsim__is_filter(Filter) || !fltsim__is_volume(Volume))
        return STATUS_INVALID_PARAMETER;
    fltsim_system *sys = Filter->sys;
    fltsim__check_irql(sys, APC_LEVEL, "FltDetachVolume");

    /* The named instance, or the highest one of this filter when no name is given. */
    PFLT_INSTANCE inst = NULL;
    NTSTATUS status = STATUS_FLT_INSTANCE_NOT_FOUND;
    uv_mutex_lock(&sys->lock);
    for (PLIST_ENTRY e = Volume->instances.Flink; e != &Volume->instances; e = e->Flink) {
        PFLT_INSTANCE i = CONTAINING_RECORD(e, struct _FLT_INSTANCE, volume_link);
        if (i->filter != Filter || i->state == FLTSIM_INSTANCE_INITING)
            continue;
        if (InstanceName != NULL && !fltsim__ustr_equal_ci(&i->name, InstanceName))
            continue;
        if (i->state != FLTSIM_INSTANCE_ATTACHED) {
            status = STATUS_FLT_DELETING_OBJECT;
            continue;
        }
        inst = i;
        fltsim__instance_ref(inst);
        break;
    }
    uv_mutex_unlock(&sys->lock);
    if (inst == NULL)
        return status;

    /* Without InstanceQueryTeardownCallback, manual detach is impossible
     * (SPEC 2.5); [SIM] the caller gets STATUS_FLT_DO_NOT_DETACH. */
    PFLT_INSTANCE_QUERY_TEARDOWN_CALLBACK query = Filter->reg.InstanceQueryTeardownCallback;
    if (query == NULL) {
        trace_instance(FLTSIM_EV_QUERY_TEARDOWN, inst, 0, STATUS_FLT_DO_NOT_DETACH,
                       "no InstanceQueryTeardownCallback: manual detach refused");
        fltsim__instance_unref(inst);
        return STATUS_FLT_DO_NOT_DETACH;
    }
    FLT_RELATED_OBJECTS objects;
    fltsim__fill_objects(&objects, Filter, Volume, inst, NULL);
    struct fltsim_callout save;
    fltsim__enter(&save, sys, Filter, NULL);
    fltsim__tls()->callout_what = "InstanceQueryTeardownCallback";
    struct instance_call call = {.objects = &objects, .query = query, .flags = 0};
    struct fltsim_seh_frame seh;
    if (fltsim__seh_call(&seh, query_thunk, &call))
        status = call.status;
    else
        status =
            fltsim__seh_uncaught(&seh, sys, NULL, inst, NULL, "its InstanceQueryTeardownCallback",
                                 "fltsim ends the callback and the detach is refused with "
                                 "that status");
    fltsim__leave(&save);
    trace_instance(FLTSIM_EV_QUERY_TEARDOWN, inst, 0, status, NULL);
    if (fltsim__is_veto(status)) {
        fltsim__instance_unref(inst);
        return status;
    }
    status = fltsim__instance_teardown(inst, FLTFL_INSTANCE_TEARDOWN_MANUAL);
    fltsim__instance_unref(inst);
    return status;
}
