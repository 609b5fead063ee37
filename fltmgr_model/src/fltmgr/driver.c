/*
 * The driver loader (DESIGN decision 7): a minifilter is a DriverEntry that
 * fltsim calls with a DRIVER_OBJECT and registry path; the filter's instance
 * table is written under that service key of the fake registry (registry.c).
 * This file owns loading, the unload request that goes through
 * FilterUnloadCallback (SPEC 1.4, 2.7), and the removal of drivers when a
 * system is destroyed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

#define IO_TYPE_DRIVER 4
#define REGISTRY_SERVICES L"\\Registry\\Machine\\System\\CurrentControlSet\\Services\\"
#define DRIVER_DIRECTORY L"\\FileSystem\\"

/* dst = prefix + name, freshly allocated. */
static bool ustr_concat(UNICODE_STRING *dst, const WCHAR *prefix, PCUNICODE_STRING name)
{
    size_t plen = fltsim_wcslen(prefix), nlen = name->Length / sizeof(WCHAR);
    WCHAR *tmp = malloc((plen + nlen + 1) * sizeof(WCHAR));
    if (tmp == NULL)
        return false;
    memcpy(tmp, prefix, plen * sizeof(WCHAR));
    memcpy(tmp + plen, name->Buffer, nlen * sizeof(WCHAR));
    bool ok = fltsim__ustr_dup(dst, tmp, plen + nlen);
    free(tmp);
    return ok;
}

/* Frees a driver record that is in no list. */
static void driver_release(struct fltsim_driver *drv)
{
    for (ULONG i = 0; i < drv->instance_count; i++)
        fltsim__ustr_free(&drv->instances[i].name);
    free(drv->instances);
    fltsim__ustr_free(&drv->service_name);
    fltsim__ustr_free(&drv->registry_path);
    fltsim__ustr_free(&drv->driver_object.DriverName);
    drv->magic = FLTSIM_MAGIC_DEAD;
    free(drv);
}

static void driver_free(struct fltsim_driver *drv)
{
    fltsim_system *sys = drv->sys;
    ULONG handles = fltsim__registry_disown(drv);
    if (handles > 0)
        fltsim__report(sys, drv->filter_keep, NULL, NULL, "V23", "10",
                       "%s unloads with %u registry key handle(s) still open (ZwOpenKey "
                       "without ZwClose)",
                       drv->name8, (unsigned)handles);
    LONG refs = __atomic_load_n(&drv->object_refs, __ATOMIC_SEQ_CST);
    if (refs > 0)
        fltsim__report(sys, drv->filter_keep, NULL, NULL, "V23", "10",
                       "%s unloads with %d object reference(s) never dropped: each "
                       "FltObjectReference, FltGet*/FltEnumerate* object and FltAttachVolume "
                       "instance needs its FltObjectDereference",
                       drv->name8, (int)refs);
    fltsim__ob_driver_unloaded(drv); /* V35 for object callbacks left registered */
    fltsim__names_driver_unloaded(drv);
    fltsim__ps_driver_unloaded(drv); /* V31 for its notify routines */
    fltsim__pool_driver_unloaded(drv);
    bool kept = fltsim__devices_driver_unloaded(drv); /* V23 for its devices */
    uv_mutex_lock(&sys->lock);
    RemoveEntryList(&drv->link);
    uv_mutex_unlock(&sys->lock);
    if (drv->filter_keep != NULL)
        fltsim__filter_unref(drv->filter_keep);
    drv->filter_keep = NULL;
    if (!kept)
        driver_release(drv);
}

void fltsim__driver_release(struct fltsim_driver *drv)
{
    driver_release(drv);
}

struct fltsim_driver *fltsim__driver_from_object(PDRIVER_OBJECT driver_object)
{
    if (driver_object == NULL)
        return NULL;
    struct fltsim_driver *drv = driver_object->DriverSection;
    if (drv == NULL || drv->magic != FLTSIM_MAGIC_DRIVER || &drv->driver_object != driver_object)
        return NULL;
    return drv;
}

/* Copies and checks the caller's instance table. */
static NTSTATUS copy_definition(struct fltsim_driver *drv, const struct fltsim_filter_def *def)
{
    size_t nlen = def->service_name != NULL ? fltsim_wcslen(def->service_name) : 0;
    if (nlen == 0 || nlen > 255)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_driver_load: the service name must have 1 to 255 characters");
    for (size_t i = 0; i < nlen; i++)
        if (def->service_name[i] == L'\\')
            return fltsim__fail(STATUS_INVALID_PARAMETER,
                                "fltsim_driver_load: the service name must not contain '\\'");
    if (!fltsim__ustr_dup(&drv->service_name, def->service_name, nlen))
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "fltsim_driver_load: out of memory");
    fltsim__ustr_to_utf8(&drv->service_name, drv->name8, sizeof(drv->name8));

    if (def->instance_count != 0 && def->instances == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_driver_load: %s: instance_count is %u but instances is NULL",
                            drv->name8, (unsigned)def->instance_count);
    if (def->instance_count > 1024)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_driver_load: %s: more than 1024 instance definitions",
                            drv->name8);
    drv->default_instance = -1;
    if (def->instance_count == 0)
        return STATUS_SUCCESS;
    drv->instances = calloc(def->instance_count, sizeof(*drv->instances));
    if (drv->instances == NULL)
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "fltsim_driver_load: out of memory");
    for (ULONG i = 0; i < def->instance_count; i++) {
        const struct fltsim_instance_def *d = &def->instances[i];
        struct fltsim_instance_entry *e = &drv->instances[i];
        size_t len = d->name != NULL ? fltsim_wcslen(d->name) : 0;
        if (len == 0 || len > INSTANCE_NAME_MAX_CHARS)
            return fltsim__fail(STATUS_INVALID_PARAMETER,
                                "fltsim_driver_load: %s: instance %u needs a name of 1 to %d "
                                "characters",
                                drv->name8, (unsigned)i, INSTANCE_NAME_MAX_CHARS);
        if (!fltsim__ustr_dup(&e->name, d->name, len))
            return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "fltsim_driver_load: out of memory");
        drv->instance_count = i + 1;
        char name8[FLTSIM_NAME8_MAX];
        fltsim__ustr_to_utf8(&e->name, name8, sizeof(name8));
        size_t alen = d->altitude != NULL ? fltsim_wcslen(d->altitude) : 0;
        if (!fltsim__altitude_parse(d->altitude, alen, &e->altitude)) {
            char alt8[FLTSIM_ALTITUDE_MAX * 3];
            if (d->altitude != NULL)
                fltsim_utf16_to_utf8(d->altitude, alen, alt8, sizeof(alt8));
            else
                strcpy(alt8, "(null)");
            return fltsim__fail(STATUS_INVALID_PARAMETER,
                                "fltsim_driver_load: %s: instance '%s' has altitude '%s', which "
                                "is not a decimal number with at most one point (SPEC 2.1)",
                                drv->name8, name8, alt8);
        }
        if ((d->flags &
             ~(ULONG)(FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC | FLTSIM_INSTANCE_SUPPRESS_MANUAL)) != 0)
            return fltsim__fail(STATUS_INVALID_PARAMETER,
                                "fltsim_driver_load: %s: instance '%s' has unknown flags 0x%x",
                                drv->name8, name8, (unsigned)d->flags);
        e->flags = d->flags;
        for (ULONG k = 0; k < i; k++)
            if (fltsim__ustr_equal_ci(&drv->instances[k].name, &e->name))
                return fltsim__fail(STATUS_INVALID_PARAMETER,
                                    "fltsim_driver_load: %s: instance '%s' is defined twice",
                                    drv->name8, name8);
    }
    if (def->default_instance != NULL) {
        UNICODE_STRING wanted;
        RtlInitUnicodeString(&wanted, def->default_instance);
        for (ULONG k = 0; k < drv->instance_count; k++)
            if (fltsim__ustr_equal_ci(&drv->instances[k].name, &wanted))
                drv->default_instance = (LONG)k;
    }
    /* A DefaultInstance that names no instance is a broken registry, which
     * FltRegisterFilter reports as STATUS_OBJECT_NAME_NOT_FOUND (SPEC 1.4). */
    return STATUS_SUCCESS;
}

/* DriverEntry and FilterUnloadCallback, each called in a callout frame. */
struct entry_call {
    PDRIVER_INITIALIZE entry;
    PDRIVER_OBJECT driver_object;
    PUNICODE_STRING registry_path;
    NTSTATUS status;
};

static void entry_thunk(void *ctx)
{
    struct entry_call *c = ctx;
    c->status = c->entry(c->driver_object, c->registry_path);
}

struct unload_call {
    PFLT_FILTER_UNLOAD_CALLBACK unload;
    FLT_FILTER_UNLOAD_FLAGS flags;
    NTSTATUS status;
};

static void unload_thunk(void *ctx)
{
    struct unload_call *c = ctx;
    c->status = c->unload(c->flags);
}

NTSTATUS fltsim_driver_load(fltsim_system *sys, const struct fltsim_filter_def *def,
                            PDRIVER_INITIALIZE entry, fltsim_driver **out)
{
    return fltsim_driver_load_ex(sys, def, entry, 0, out);
}

NTSTATUS fltsim_driver_load_ex(fltsim_system *sys, const struct fltsim_filter_def *def,
                               PDRIVER_INITIALIZE entry, ULONG flags, fltsim_driver **out)
{
    if (out != NULL)
        *out = NULL;
    if (sys == NULL || def == NULL || entry == NULL || out == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_driver_load: sys, def, entry and out are required");
    if ((flags & ~(ULONG)FLTSIM_LOAD_NO_INTEGRITY_CHECK) != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "fltsim_driver_load: unknown flags 0x%x",
                            (unsigned)flags);
    if (sys->destroying)
        return fltsim__fail(STATUS_FLT_DELETING_OBJECT,
                            "fltsim_driver_load: the system is being destroyed");

    struct fltsim_driver *drv = calloc(1, sizeof(*drv));
    if (drv == NULL)
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "fltsim_driver_load: out of memory");
    drv->magic = FLTSIM_MAGIC_DRIVER;
    drv->sys = sys;
    drv->ob_unsigned = (flags & FLTSIM_LOAD_NO_INTEGRITY_CHECK) != 0;
    InitializeListHead(&drv->link);

    NTSTATUS status = copy_definition(drv, def);
    if (!NT_SUCCESS(status))
        goto fail_free;
    if (!ustr_concat(&drv->registry_path, REGISTRY_SERVICES, &drv->service_name) ||
        !ustr_concat(&drv->driver_object.DriverName, DRIVER_DIRECTORY, &drv->service_name)) {
        status = fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "fltsim_driver_load: out of memory");
        goto fail_free;
    }

    PDRIVER_OBJECT d = &drv->driver_object;
    d->Type = IO_TYPE_DRIVER;
    d->Size = (CSHORT)sizeof(*d);
    d->DriverSection = drv;
    d->DriverExtension = &drv->extension;
    d->DriverInit = entry;
    drv->extension.DriverObject = d;
    drv->extension.ServiceKeyName = drv->service_name;
    for (int i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        d->MajorFunction[i] = fltsim__invalid_device_request;

    uv_mutex_lock(&sys->lock);
    for (PLIST_ENTRY e = sys->drivers.Flink; e != &sys->drivers; e = e->Flink) {
        struct fltsim_driver *other = CONTAINING_RECORD(e, struct fltsim_driver, link);
        if (fltsim__ustr_equal_ci(&other->service_name, &drv->service_name)) {
            uv_mutex_unlock(&sys->lock);
            status =
                fltsim__fail(STATUS_OBJECT_NAME_COLLISION,
                             "fltsim_driver_load: a driver named %s is already loaded", drv->name8);
            goto fail_free;
        }
    }
    InsertTailList(&sys->drivers, &drv->link);
    uv_mutex_unlock(&sys->lock);

    /* After the collision check, so a refused load leaves the loaded
     * driver's instance table alone. */
    status = fltsim__registry_add_service(drv);
    if (!NT_SUCCESS(status)) {
        driver_free(drv);
        return status;
    }

    /* DriverEntry runs at PASSIVE_LEVEL on the loading thread. */
    struct fltsim_callout save;
    fltsim__enter(&save, sys, NULL, NULL);
    drv->in_driver_entry = true;
    struct fltsim_driver *outer = fltsim__tls()->loading;
    fltsim__tls()->loading = drv; /* key handles opened now are the driver's */
    struct entry_call call = {entry, d, &drv->registry_path, STATUS_SUCCESS};
    struct fltsim_seh_frame seh;
    if (fltsim__seh_call(&seh, entry_thunk, &call)) {
        status = call.status;
    } else {
        char what[FLTSIM_NAME8_MAX + 32];
        snprintf(what, sizeof(what), "DriverEntry of %s", drv->name8);
        status = fltsim__seh_uncaught(&seh, sys, drv->filter, NULL, NULL, what,
                                      "fltsim ends it and the load fails with that status");
    }
    fltsim__tls()->loading = outer;
    drv->in_driver_entry = false;
    fltsim__leave(&save);

    if (!NT_SUCCESS(status)) {
        /* The driver is unloaded without FilterUnloadCallback (SPEC 1.4). A
         * filter it left registered is a bug on Windows (the system keeps a
         * filter whose code is gone); report it and clean up. */
        if (drv->filter != NULL) {
            fltsim__report(sys, drv->filter, NULL, NULL, "V23", "1.4",
                           "DriverEntry of %s failed but left its filter registered; it must "
                           "call FltUnregisterFilter before returning an error",
                           drv->name8);
            fltsim__filter_unregister(drv->filter);
        }
        char st[64];
        fltsim__fail(status, "fltsim_driver_load: DriverEntry of %s returned %s", drv->name8,
                     fltsim_ntstatus_format(status, st, sizeof(st)));
        driver_free(drv);
        return status;
    }
    fltsim__devices_driver_loaded(drv);
    /* Windows loads a driver whose DriverEntry succeeds having done
     * nothing, and so does fltsim; but a minifilter that forgot
     * FltRegisterFilter (or whose registration is behind a branch never
     * taken) would then filter nothing, silently. A note, not a report: it
     * breaks no rule. A driver with a device object of its own does
     * something. */
    if (drv->filter == NULL && drv->driver_object.DeviceObject == NULL)
        fprintf(stderr,
                "fltsim: note: DriverEntry of %s returned success without registering a filter "
                "(FltRegisterFilter) or creating a device object; the driver is loaded and "
                "does nothing\n",
                drv->name8);
    *out = drv;
    return status;

fail_free:
    driver_release(drv);
    return status;
}

static void trace_unload(struct fltsim_driver *drv, ULONG flags, NTSTATUS status)
{
    fltsim_system *sys = drv->sys;
    if (!fltsim__tracing(sys))
        return;
    struct fltsim_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = FLTSIM_EV_FILTER_UNLOAD;
    ev.filter = drv->name8;
    ev.flags = flags;
    ev.status = status;
    fltsim__event_thread(&ev);
    fltsim__trace(sys, &ev);
}

/* The unload request proper; force makes it succeed for filters that cannot
 * be unloaded (system destruction). */
static NTSTATUS driver_unload(struct fltsim_driver *drv, ULONG flags, bool force)
{
    fltsim_system *sys = drv->sys;
    PFLT_FILTER filter = drv->filter;
    bool mandatory = (flags & FLTSIM_UNLOAD_MANDATORY) != 0;

    if (filter != NULL) {
        PFLT_FILTER_UNLOAD_CALLBACK cb = filter->reg.FilterUnloadCallback;
        NTSTATUS refusal = STATUS_SUCCESS;
        if (cb == NULL)
            refusal = fltsim__fail(STATUS_INVALID_DEVICE_REQUEST,
                                   "fltsim_driver_unload: %s registered no FilterUnloadCallback, "
                                   "so it can never be unloaded (SPEC 1.1)",
                                   drv->name8);
        else if (mandatory && (filter->reg.Flags & FLTFL_REGISTRATION_DO_NOT_SUPPORT_SERVICE_STOP))
            refusal = fltsim__fail(STATUS_INVALID_DEVICE_REQUEST,
                                   "fltsim_driver_unload: %s registered "
                                   "FLTFL_REGISTRATION_DO_NOT_SUPPORT_SERVICE_STOP, so a "
                                   "mandatory (service stop) unload fails (SPEC 1.4)",
                                   drv->name8);
        if (refusal != STATUS_SUCCESS && !force) {
            trace_unload(drv, flags, refusal);
            return refusal;
        }

        filter->unload_reason = mandatory ? FLTFL_INSTANCE_TEARDOWN_MANDATORY_FILTER_UNLOAD
                                          : FLTFL_INSTANCE_TEARDOWN_FILTER_UNLOAD;
        if (refusal == STATUS_SUCCESS) {
            drv->unloading = true;
            drv->unload_flags = flags;
            struct fltsim_callout save;
            fltsim__enter(&save, sys, filter, NULL);
            fltsim__tls()->callout_what = "FilterUnloadCallback";
            struct unload_call call = {cb, mandatory ? FLTFL_FILTER_UNLOAD_MANDATORY : 0,
                                       STATUS_SUCCESS};
            struct fltsim_seh_frame seh;
            NTSTATUS status;
            if (fltsim__seh_call(&seh, unload_thunk, &call))
                status = call.status;
            else
                status = fltsim__seh_uncaught(
                    &seh, sys, filter, NULL, NULL, "its FilterUnloadCallback",
                    mandatory ? "fltsim ends the callback and the mandatory unload goes on"
                              : "fltsim ends the callback and the unload is refused with that "
                                "status");
            fltsim__leave(&save);
            drv->unloading = false;
            trace_unload(drv, flags, status);

            if (!mandatory && fltsim__is_veto(status)) {
                if (drv->filter == NULL)
                    fltsim__report(sys, filter, NULL, NULL, "V23", "1.4",
                                   "FilterUnloadCallback of %s called FltUnregisterFilter and "
                                   "then vetoed the unload; the driver stays loaded without "
                                   "its filter",
                                   drv->name8);
                char st[64];
                fltsim__fail(status, "fltsim_driver_unload: %s vetoed the unload with %s",
                             drv->name8, fltsim_ntstatus_format(status, st, sizeof(st)));
                return status;
            }
            if (drv->filter != NULL)
                fltsim__report(sys, filter, NULL, NULL, "V23", "2.7",
                               "FilterUnloadCallback of %s returned without calling "
                               "FltUnregisterFilter; fltsim unregisters the filter",
                               drv->name8);
        }
        if (drv->filter != NULL)
            fltsim__filter_unregister(drv->filter);
    }
    driver_free(drv);
    return STATUS_SUCCESS;
}

NTSTATUS fltsim_driver_unload(fltsim_driver *drv, ULONG flags)
{
    if (drv == NULL || drv->magic != FLTSIM_MAGIC_DRIVER)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "fltsim_driver_unload: not a loaded driver");
    if ((flags & ~(ULONG)FLTSIM_UNLOAD_MANDATORY) != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "fltsim_driver_unload: unknown flags 0x%x",
                            (unsigned)flags);
    if (drv->unloading || drv->in_driver_entry)
        return fltsim__fail(STATUS_FLT_DELETING_OBJECT,
                            "fltsim_driver_unload: %s is loading or unloading already", drv->name8);
    return driver_unload(drv, flags, false);
}

void fltsim__driver_remove(struct fltsim_driver *drv)
{
    driver_unload(drv, FLTSIM_UNLOAD_MANDATORY, true);
}

PFLT_FILTER fltsim_driver_filter(fltsim_driver *drv)
{
    return drv != NULL && drv->magic == FLTSIM_MAGIC_DRIVER ? drv->filter : NULL;
}

NTSTATUS fltsim_driver_call(fltsim_driver *drv, void (*fn)(void *ctx), void *ctx)
{
    if (drv == NULL || drv->magic != FLTSIM_MAGIC_DRIVER || fn == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_driver_call: a loaded driver and a function are required");
    struct fltsim_callout save;
    fltsim__enter(&save, drv->sys, drv->filter, NULL);
    fltsim__tls()->callout_what = "code run by fltsim_driver_call";
    struct fltsim_seh_frame seh;
    NTSTATUS status = STATUS_SUCCESS;
    if (!fltsim__seh_call(&seh, fn, ctx))
        status = fltsim__seh_uncaught(&seh, drv->sys, drv->filter, NULL, NULL,
                                      "code run by fltsim_driver_call",
                                      "fltsim ends it and fltsim_driver_call returns that status");
    fltsim__leave(&save);
    return status;
}

fltsim_driver *fltsim_driver_find(fltsim_system *sys, PCWSTR service_name)
{
    if (sys == NULL || service_name == NULL)
        return NULL;
    UNICODE_STRING wanted;
    RtlInitUnicodeString(&wanted, service_name);
    struct fltsim_driver *found = NULL;
    uv_mutex_lock(&sys->lock);
    for (PLIST_ENTRY e = sys->drivers.Flink; e != &sys->drivers; e = e->Flink) {
        struct fltsim_driver *drv = CONTAINING_RECORD(e, struct fltsim_driver, link);
        if (fltsim__ustr_equal_ci(&drv->service_name, &wanted)) {
            found = drv;
            break;
        }
    }
    uv_mutex_unlock(&sys->lock);
    return found;
}
