/*
 * FltRegisterFilter, FltStartFiltering and FltUnregisterFilter (SPEC 1.1-1.4,
 * 2.7): validation of FLT_REGISTRATION and its operation and context arrays,
 * the filter object, automatic attachment when filtering starts, and the
 * unregistration that tears every instance down and waits for the filter's
 * rundown references. Strict mode rejects invalid operation registrations with
 * STATUS_INVALID_PARAMETER; lenient mode (FLTSIM_SYSTEM_LENIENT_REGISTRATION)
 * accepts them with a verifier report (SPEC 12.11).
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"
#include "user_side.h"

struct reg_check {
    fltsim_system *sys;
    struct fltsim_driver *drv;
    bool lenient;
};

/* An invalid registration detail: in strict mode the registration fails, in
 * lenient mode it is reported and registration goes on. Returns true when
 * registration must fail. */
static bool invalid(struct reg_check *c, const char *fmt, const char *detail, unsigned value)
{
    char message[256];
    snprintf(message, sizeof(message), fmt, detail, value);
    if (!c->lenient) {
        fltsim__fail(STATUS_INVALID_PARAMETER, "FltRegisterFilter(%s): %s", c->drv->name8, message);
        fltsim__report(c->sys, NULL, NULL, NULL, "V12", "1.4",
                       "FltRegisterFilter(%s) fails with STATUS_INVALID_PARAMETER: %s",
                       c->drv->name8, message);
        return true;
    }
    fltsim__report(c->sys, NULL, NULL, NULL, "V12", "1.4",
                   "FltRegisterFilter(%s) accepted (lenient mode): %s", c->drv->name8, message);
    return false;
}

static const char *major_text(UCHAR major)
{
    const char *name = fltsim_major_name(major);
    return name != NULL ? name : "an unknown code";
}

/* Validates and copies the operation array into filter->ops (SPEC 1.2, 1.3). */
static NTSTATUS take_operations(struct reg_check *c, const FLT_OPERATION_REGISTRATION *ops,
                                struct fltsim_callbacks *slots)
{
    if (ops == NULL)
        return STATUS_SUCCESS;
    ULONG count = 0;
    while (count < FLTSIM_MAX_OPERATION_ENTRIES && ops[count].MajorFunction != IRP_MJ_OPERATION_END)
        count++;
    if (count == FLTSIM_MAX_OPERATION_ENTRIES) {
        fltsim__fail(STATUS_INVALID_PARAMETER,
                     "FltRegisterFilter(%s): no IRP_MJ_OPERATION_END within %d entries of "
                     "OperationRegistration",
                     c->drv->name8, FLTSIM_MAX_OPERATION_ENTRIES);
        fltsim__report(c->sys, NULL, NULL, NULL, "V12", "1.2",
                       "FltRegisterFilter(%s): OperationRegistration has no IRP_MJ_OPERATION_END "
                       "terminator within %d entries",
                       c->drv->name8, FLTSIM_MAX_OPERATION_ENTRIES);
        return STATUS_INVALID_PARAMETER;
    }

    for (ULONG i = 0; i < count; i++) {
        const FLT_OPERATION_REGISTRATION *e = &ops[i];
        UCHAR major = e->MajorFunction;
        int slot = fltsim__slot_of(major);
        if (slot < 0) {
            if (invalid(c, "operation code %s0x%02x is not one FltMgr defines", "", major))
                return STATUS_INVALID_PARAMETER;
            continue;
        }
        if (major == IRP_MJ_POWER || major == IRP_MJ_DEVICE_CHANGE) {
            if (invalid(c, "%s (entry %u) cannot be registered: file systems never see it",
                        major_text(major), i))
                return STATUS_INVALID_PARAMETER;
            continue;
        }
        if (e->Reserved1 != NULL) {
            if (invalid(c, "Reserved1 of the %s entry (%u) must be NULL", major_text(major), i))
                return STATUS_INVALID_PARAMETER;
            continue;
        }
        if (slots[slot].registered) {
            if (invalid(c, "%s is registered twice (entry %u); one entry per operation",
                        major_text(major), i))
                return STATUS_INVALID_PARAMETER;
            continue;
        }
        PFLT_POST_OPERATION_CALLBACK post = e->PostOperation;
        if (major == IRP_MJ_SHUTDOWN && post != NULL) {
            if (invalid(c, "%s (entry %u) may have a pre but not a post callback",
                        major_text(major), i))
                return STATUS_INVALID_PARAMETER;
            post = NULL; /* as ReactOS does: the post is dropped */
        }
        slots[slot].pre = e->PreOperation;
        slots[slot].post = post;
        slots[slot].flags = e->Flags;
        slots[slot].registered = e->PreOperation != NULL || post != NULL;
    }
    return STATUS_SUCCESS;
}

static bool single_context_type(FLT_CONTEXT_TYPE t)
{
    switch (t) {
    case FLT_VOLUME_CONTEXT:
    case FLT_INSTANCE_CONTEXT:
    case FLT_FILE_CONTEXT:
    case FLT_STREAM_CONTEXT:
    case FLT_STREAMHANDLE_CONTEXT:
    case FLT_TRANSACTION_CONTEXT:
    case FLT_SECTION_CONTEXT:
        return true;
    default:
        return false;
    }
}

static NTSTATUS context_invalid(struct reg_check *c, ULONG index, const char *why)
{
    fltsim__fail(STATUS_FLT_INVALID_CONTEXT_REGISTRATION,
                 "FltRegisterFilter(%s): ContextRegistration entry %u: %s", c->drv->name8,
                 (unsigned)index, why);
    fltsim__report(c->sys, NULL, NULL, NULL, "V20", "7.1",
                   "FltRegisterFilter(%s) fails with STATUS_FLT_INVALID_CONTEXT_REGISTRATION: "
                   "entry %u: %s",
                   c->drv->name8, (unsigned)index, why);
    return STATUS_FLT_INVALID_CONTEXT_REGISTRATION;
}

/* Validates and copies the context array (SPEC 7.1). The contexts themselves
 * are not modeled yet; the registration is checked so errors show early. */
static NTSTATUS take_contexts(struct reg_check *c, const FLT_CONTEXT_REGISTRATION *ctx,
                              FLT_CONTEXT_REGISTRATION **out)
{
    *out = NULL;
    if (ctx == NULL)
        return STATUS_SUCCESS;
    ULONG count = 0;
    while (count < FLTSIM_MAX_CONTEXT_ENTRIES && ctx[count].ContextType != FLT_CONTEXT_END)
        count++;
    if (count == FLTSIM_MAX_CONTEXT_ENTRIES)
        return context_invalid(c, count, "no FLT_CONTEXT_END terminator within the bound");

    for (ULONG i = 0; i < count; i++) {
        const FLT_CONTEXT_REGISTRATION *e = &ctx[i];
        if (!single_context_type(e->ContextType))
            return context_invalid(c, i, "ContextType is not one FLT_*_CONTEXT value");
        if (e->Reserved1 != NULL)
            return context_invalid(c, i, "Reserved1 must be NULL");
        if ((e->ContextAllocateCallback == NULL) != (e->ContextFreeCallback == NULL))
            return context_invalid(c, i,
                                   "ContextAllocateCallback and ContextFreeCallback go together");
        if (e->ContextAllocateCallback == NULL && e->PoolTag == 0)
            return context_invalid(c, i, "PoolTag is required without an allocate callback");
        if (e->Size != FLT_VARIABLE_SIZED_CONTEXTS && e->Size > MAXUSHORT)
            return context_invalid(c, i, "Size exceeds MAXUSHORT");

        ULONG fixed = 0, variable = 0, with_alloc = 0, same_type = 0;
        for (ULONG k = 0; k <= i; k++) {
            const FLT_CONTEXT_REGISTRATION *o = &ctx[k];
            if (o->ContextType != e->ContextType)
                continue;
            /* Exact duplicates are ignored after the first (SPEC 7.1). */
            bool duplicate = false;
            for (ULONG m = 0; m < k; m++)
                if (memcmp(&ctx[m], o, sizeof(*o)) == 0)
                    duplicate = true;
            if (duplicate)
                continue;
            same_type++;
            if (o->ContextAllocateCallback != NULL)
                with_alloc++;
            else if (o->Size == FLT_VARIABLE_SIZED_CONTEXTS)
                variable++;
            else
                fixed++;
        }
        if (with_alloc != 0 && same_type > 1)
            return context_invalid(c, i,
                                   "an entry with an allocate callback must be the only entry "
                                   "for its context type");
        if (fixed > 3 || variable > 1)
            return context_invalid(c, i,
                                   "at most three fixed-size and one variable-size entry per "
                                   "context type");
    }
    FLT_CONTEXT_REGISTRATION *copy = calloc(count + 1, sizeof(*copy));
    if (copy == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(copy, ctx, count * sizeof(*copy));
    copy[count].ContextType = FLT_CONTEXT_END;
    *out = copy;
    return STATUS_SUCCESS;
}

NTSTATUS FltRegisterFilter(PDRIVER_OBJECT Driver, const FLT_REGISTRATION *Registration,
                           PFLT_FILTER *RetFilter)
{
    if (RetFilter != NULL)
        *RetFilter = NULL;
    struct fltsim_driver *drv = fltsim__driver_from_object(Driver);
    if (drv == NULL) {
        struct fltsim_tls *t = fltsim__tls();
        if (t->sys != NULL)
            fltsim__report(t->sys, NULL, NULL, NULL, "V27", "1.4",
                           "FltRegisterFilter with a DRIVER_OBJECT that fltsim did not load; a "
                           "driver registers only itself");
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "FltRegisterFilter: Driver is not a driver object fltsim loaded");
    }
    fltsim_system *sys = drv->sys;
    fltsim__check_irql(sys, APC_LEVEL, "FltRegisterFilter");
    if (Registration == NULL || RetFilter == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "FltRegisterFilter(%s): Registration and RetFilter are required",
                            drv->name8);
    if (drv->filter_keep != NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "FltRegisterFilter(%s): this driver already registered a filter; "
                            "fltsim models one filter per driver",
                            drv->name8);

    struct reg_check check = {sys, drv, (sys->flags & FLTSIM_SYSTEM_LENIENT_REGISTRATION) != 0};

    /* Version: FltMgr checks the major byte only (SPEC 1.1). */
    if ((Registration->Version & 0xff00) != (FLT_REGISTRATION_VERSION & 0xff00)) {
        fltsim__report(sys, NULL, NULL, NULL, "V12", "1.1",
                       "FltRegisterFilter(%s): Version 0x%04x has major byte 0x%02x; FltMgr "
                       "accepts major 0x02 only",
                       drv->name8, Registration->Version, Registration->Version >> 8);
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "FltRegisterFilter(%s): Version 0x%04x is not "
                            "FLT_REGISTRATION_VERSION (major byte must be 0x02)",
                            drv->name8, Registration->Version);
    }

    FLT_REGISTRATION reg;
    memset(&reg, 0, sizeof(reg));
    size_t size = Registration->Size;
    if (size != sizeof(FLT_REGISTRATION)) {
        if (invalid(&check, "Size is %s%u, not sizeof(FLT_REGISTRATION)", "", (unsigned)size))
            return STATUS_INVALID_PARAMETER;
        if (size < offsetof(FLT_REGISTRATION, ContextRegistration))
            size = offsetof(FLT_REGISTRATION, ContextRegistration);
    }
    memcpy(&reg, Registration, size < sizeof(reg) ? size : sizeof(reg));

    /* Name-provider consistency (SPEC 1.1, ReactOS): normalize needs generate,
     * cleanup needs normalize, and a provider needs a normalize routine. */
    bool normalize =
        reg.NormalizeNameComponentCallback != NULL || reg.NormalizeNameComponentExCallback != NULL;
    const char *provider_error = NULL;
    if (normalize && reg.GenerateFileNameCallback == NULL)
        provider_error = "a NormalizeNameComponent callback needs a GenerateFileName callback";
    else if (reg.NormalizeContextCleanupCallback != NULL && !normalize)
        provider_error = "a NormalizeContextCleanup callback needs a NormalizeNameComponent "
                         "callback";
    else if (reg.GenerateFileNameCallback != NULL && !normalize)
        provider_error = "a name provider must supply NormalizeNameComponent(Ex)";
    if (provider_error != NULL) {
        fltsim__report(sys, NULL, NULL, NULL, "V12", "1.1", "FltRegisterFilter(%s): %s", drv->name8,
                       provider_error);
        return fltsim__fail(STATUS_INVALID_PARAMETER, "FltRegisterFilter(%s): %s", drv->name8,
                            provider_error);
    }

    PFLT_FILTER filter = calloc(1, sizeof(*filter));
    if (filter == NULL)
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "FltRegisterFilter: out of memory");
    NTSTATUS status = take_operations(&check, reg.OperationRegistration, filter->ops);
    if (NT_SUCCESS(status))
        status = take_contexts(&check, reg.ContextRegistration, &filter->contexts);
    if (!NT_SUCCESS(status)) {
        free(filter);
        return status;
    }

    /* The default instance comes from the registry (SPEC 1.4). */
    if (drv->default_instance < 0) {
        free(filter->contexts);
        free(filter);
        return fltsim__fail(STATUS_OBJECT_NAME_NOT_FOUND,
                            "FltRegisterFilter(%s): the instance table has no DefaultInstance "
                            "(or it names no defined instance)",
                            drv->name8);
    }

    filter->obj.magic = FLTSIM_MAGIC_FILTER;
    filter->obj.refs = 2; /* registration, and the driver's keep reference */
    filter->sys = sys;
    filter->driver = drv;
    filter->reg = reg;
    filter->reg.OperationRegistration = NULL; /* the caller's arrays are not kept */
    filter->reg.ContextRegistration = filter->contexts;
    filter->state = FLTSIM_FILTER_REGISTERED;
    filter->unload_reason = FLTFL_INSTANCE_TEARDOWN_FILTER_UNLOAD;
    InitializeListHead(&filter->instances);
    memcpy(filter->name8, drv->name8, sizeof(filter->name8));

    uv_mutex_lock(&sys->lock);
    filter->serial = sys->next_filter_serial++;
    InsertTailList(&sys->filters, &filter->link);
    uv_mutex_unlock(&sys->lock);

    drv->filter = filter;
    drv->filter_keep = filter;
    *RetFilter = filter;
    return STATUS_SUCCESS;
}

NTSTATUS FltStartFiltering(PFLT_FILTER Filter)
{
    if (!fltsim__is_filter(Filter))
        return STATUS_INVALID_PARAMETER;
    fltsim_system *sys = Filter->sys;
    fltsim__check_irql(sys, APC_LEVEL, "FltStartFiltering");

    uv_mutex_lock(&sys->lock);
    if (Filter->state != FLTSIM_FILTER_REGISTERED) {
        LONG state = Filter->state;
        uv_mutex_unlock(&sys->lock);
        if (state == FLTSIM_FILTER_STARTED)
            return fltsim__fail(STATUS_INVALID_PARAMETER,
                                "FltStartFiltering(%s): filtering was already started",
                                Filter->name8);
        return STATUS_FLT_DELETING_OBJECT;
    }
    __atomic_store_n(&Filter->state, FLTSIM_FILTER_STARTED, __ATOMIC_SEQ_CST);
    ULONG n = 0;
    for (PLIST_ENTRY e = sys->volumes.Flink; e != &sys->volumes; e = e->Flink)
        n++;
    PFLT_VOLUME *volumes = n ? calloc(n, sizeof(*volumes)) : NULL;
    ULONG taken = 0;
    if (volumes != NULL) {
        for (PLIST_ENTRY e = sys->volumes.Flink; e != &sys->volumes; e = e->Flink) {
            PFLT_VOLUME v = CONTAINING_RECORD(e, struct _FLT_VOLUME, link);
            if (v->dismounting)
                continue;
            fltsim__volume_ref(v);
            volumes[taken++] = v;
        }
    }
    uv_mutex_unlock(&sys->lock);
    if (n != 0 && volumes == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;

    /* Instance setup for existing volumes happens inside the call (SPEC 1.4). */
    for (ULONG i = 0; i < taken; i++) {
        fltsim__offer_volume(Filter, volumes[i], FLTFL_INSTANCE_SETUP_AUTOMATIC_ATTACHMENT);
        fltsim__volume_unref(volumes[i]);
    }
    free(volumes);
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__filter_unregister(struct _FLT_FILTER *filter)
{
    fltsim_system *sys = filter->sys;
    /* Its connections end first: a send pending in a callback must not
     * hold up the teardown below (SPEC 8). */
    fltsim__ports_filter_gone(filter);
    uv_mutex_lock(&sys->lock);
    if (filter->state == FLTSIM_FILTER_UNREGISTERING ||
        filter->state == FLTSIM_FILTER_UNREGISTERED) {
        uv_mutex_unlock(&sys->lock);
        return STATUS_FLT_DELETING_OBJECT; /* a second call just returns (SPEC 1.4, ReactOS) */
    }
    __atomic_store_n(&filter->state, FLTSIM_FILTER_UNREGISTERING, __ATOMIC_SEQ_CST);

    fltsim__teardown_all_locked(sys, &filter->instances, false, filter->unload_reason);

    /* Block until every rundown reference on the filter is gone (SPEC 1.4). */
    while (__atomic_load_n(&filter->obj.rundown, __ATOMIC_SEQ_CST) > 0)
        fltsim__sys_wait_locked(sys, 0);

    RemoveEntryList(&filter->link);
    __atomic_store_n(&filter->state, FLTSIM_FILTER_UNREGISTERED, __ATOMIC_SEQ_CST);
    uv_mutex_unlock(&sys->lock);

    fltsim__contexts_filter_gone(filter);

    LONG items = __atomic_load_n(&filter->work_items, __ATOMIC_SEQ_CST);
    if (items > 0)
        fltsim__report(sys, filter, NULL, NULL, "V23", "5.1",
                       "%d work item(s) allocated by the filter were never freed "
                       "(FltFreeDeferredIoWorkItem / FltFreeGenericWorkItem)",
                       (int)items);
    LONG datas = __atomic_load_n(&filter->callback_data, __ATOMIC_SEQ_CST);
    if (datas > 0)
        fltsim__report(sys, filter, NULL, NULL, "V23", "6.7",
                       "%d callback data allocated by the filter (FltAllocateCallbackData) "
                       "were never freed (FltFreeCallbackData)",
                       (int)datas);
    const struct fltsim_io_services *io = fltsim_io_services();
    ULONG files = io != NULL ? io->open_handles_of(sys, filter) : 0;
    if (files > 0)
        fltsim__report(sys, filter, NULL, NULL, "V23", "10",
                       "%lu handle(s) the filter opened with FltCreateFile were never closed "
                       "(FltClose); they stay open",
                       (unsigned long)files);

    if (filter->driver->filter == filter)
        filter->driver->filter = NULL;
    fltsim__filter_unref(filter); /* the registration reference */
    return STATUS_SUCCESS;
}

void FltUnregisterFilter(PFLT_FILTER Filter)
{
    if (!fltsim__is_filter(Filter)) {
        struct fltsim_tls *t = fltsim__tls();
        if (t->sys != NULL)
            fltsim__report(t->sys, NULL, NULL, t->op, "V27", "1.4",
                           "FltUnregisterFilter(%p): not a registered filter", (void *)Filter);
        return;
    }
    fltsim__check_irql(Filter->sys, APC_LEVEL, "FltUnregisterFilter");
    /* A driver may only unregister itself (SPEC 1.4): from inside another
     * filter's code the call is reported and refused, as FltRegisterFilter
     * refuses another driver's object. */
    struct fltsim_tls *t = fltsim__tls();
    if (t->filter != NULL && t->filter != Filter) {
        fltsim__report(Filter->sys, t->filter, NULL, t->op, "V27", "1.4",
                       "FltUnregisterFilter called by %s with the filter of %s; a driver may "
                       "only unregister itself (the call is ignored)",
                       t->filter->name8, Filter->name8);
        return;
    }
    fltsim__filter_unregister(Filter);
}
