/*
 * The world a replay runs in (replay_internal.h): the drives the capture uses
 * as volumes (memfs, or hostfs where the options map a drive to a host
 * directory), the system they are mounted in, and the filters the options
 * name, loaded from the catalog or from shared objects. What the memfs
 * volumes hold is replay_scan.c's; the calls are replay.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fltsim/catalog.h>
#include <fltsim/hostfs.h>
#include <fltsim/memfs.h>

#include "replay_internal.h"
#include "common/sim_internal.h"

struct rvolume *fltsim__replay_volume(struct replay *rp, char drive)
{
    drive = fltsim__replay_upper(drive);
    for (size_t i = 0; i < rp->volume_count; i++)
        if (rp->volumes[i].drive == drive)
            return &rp->volumes[i];
    return NULL;
}

/* Records that the capture uses drive (memfs unless mapped to hostfs). */
bool fltsim__replay_use_drive(struct replay *rp, char drive)
{
    drive = fltsim__replay_upper(drive);
    if (fltsim__replay_volume(rp, drive) != NULL)
        return true;
    if (rp->volume_count == sizeof(rp->volumes) / sizeof(rp->volumes[0]))
        return false;
    struct rvolume *v = &rp->volumes[rp->volume_count++];
    memset(v, 0, sizeof(*v));
    v->drive = drive;
    for (size_t i = 0; i < rp->options->volume_count; i++)
        if (fltsim__replay_upper(rp->options->volumes[i].drive) == drive) {
            v->host_root = rp->options->volumes[i].host_root;
            v->read_only = rp->options->volumes[i].read_only;
        }
    return true;
}

static void trace_cb(void *ctx, const struct fltsim_event *event)
{
    struct replay *rp = ctx;
    if (rp->options->trace != NULL)
        fltsim_trace_tee_event(rp->options->trace, event);
}

NTSTATUS fltsim__replay_world_create(struct replay *rp)
{
    char b[48];
    struct fltsim_system_options so = {.executor = rp->options->executor,
                                       .seed = rp->options->seed != 0 ? rp->options->seed : 1};
    NTSTATUS status = fltsim_system_create(&so, &rp->sys);
    if (!NT_SUCCESS(status)) {
        fltsim__replay_fail(rp, "the system cannot be created: %s",
                            fltsim_ntstatus_format(status, b, sizeof(b)));
        return status;
    }
    if (rp->options->trace != NULL)
        fltsim_system_set_trace(rp->sys, trace_cb, rp);
    for (size_t i = 0; i < rp->volume_count; i++) {
        struct rvolume *v = &rp->volumes[i];
        struct fltsim_volume_params params = {.drive_letter = (WCHAR)v->drive,
                                              .fs_type = FLT_FSTYPE_NTFS};
        params.device_name = v->device;
        if (v->host_root != NULL) {
            struct fltsim_hostfs *hfs;
            struct fltsim_hostfs_options ho = {v->read_only ? FLTSIM_HOSTFS_READ_ONLY : 0};
            status = fltsim_hostfs_create(v->host_root, &ho, &hfs);
            if (!NT_SUCCESS(status)) {
                fltsim__replay_fail(rp, "volume %c: hostfs over %s cannot be created: %s (%s)",
                                    v->drive, v->host_root,
                                    fltsim_ntstatus_format(status, b, sizeof(b)),
                                    fltsim_last_error());
                return status;
            }
            params.ops = &fltsim_hostfs_ops;
            params.fs = hfs;
        } else {
            struct fltsim_memfs_options mo = {0};
            status = fltsim_memfs_create(&mo, &v->memfs);
            if (!NT_SUCCESS(status))
                return status;
            params.ops = &fltsim_memfs_ops;
            params.fs = v->memfs;
        }
        PFLT_VOLUME volume;
        status = fltsim_volume_mount(rp->sys, &params, &volume);
        if (!NT_SUCCESS(status)) {
            params.ops->release_cb(params.fs);
            v->memfs = NULL;
            fltsim__replay_fail(rp, "volume %c: cannot be mounted: %s", v->drive,
                                fltsim_ntstatus_format(status, b, sizeof(b)));
            return status;
        }
    }
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__replay_objects_open(struct replay *rp)
{
    size_t count = rp->options->filter_count;
    rp->objects = calloc(count + 1, sizeof(*rp->objects));
    if (rp->objects == NULL) {
        fltsim__replay_fail(rp, "out of memory");
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    rp->object_count = count;
    for (size_t i = 0; i < count; i++) {
        const struct fltsim_replay_filter *f = &rp->options->filters[i];
        if (f->builtin != NULL)
            continue;
        if (f->object == NULL) {
            fltsim__replay_fail(rp, "filter %zu names neither a catalog filter nor an object",
                                i + 1);
            return STATUS_UNSUCCESSFUL;
        }
        if (f->altitude == NULL) {
            fltsim__replay_fail(rp, "filter %s: a shared object needs an altitude (%s@ALTITUDE)",
                                f->object, f->object);
            return STATUS_UNSUCCESSFUL; /* not a capture problem */
        }
        char why[sizeof(rp->error)];
        NTSTATUS status =
            fltsim__filter_object_open(f->object, f->object, &rp->objects[i], why, sizeof(why));
        if (!NT_SUCCESS(status)) {
            fltsim__replay_fail(rp, "%s", why);
            return status == STATUS_OBJECT_NAME_NOT_FOUND ? STATUS_UNSUCCESSFUL : status;
        }
    }
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__replay_filters_load(struct replay *rp)
{
    char b[48];
    for (size_t i = 0; i < rp->options->filter_count; i++) {
        const struct fltsim_replay_filter *f = &rp->options->filters[i];
        const char *name = f->name, *altitude = f->altitude;
        PDRIVER_INITIALIZE entry = NULL;
        char base[256];
        if (f->builtin != NULL) {
            const struct fltsim_builtin_filter *ex = fltsim_catalog_filter_find(f->builtin);
            if (ex == NULL) {
                fltsim__replay_fail(rp, "filter '%s' is not in the catalog (fltsim filters lists it)",
                                    f->builtin);
                return STATUS_UNSUCCESSFUL; /* not a capture problem */
            }
            entry = ex->entry;
            if (name == NULL) {
                fltsim_utf16_to_utf8(ex->service_name, fltsim_wcslen(ex->service_name), base,
                                     sizeof(base));
                name = base;
            }
            if (altitude == NULL) {
                static char alt[64];
                fltsim_utf16_to_utf8(ex->altitude, fltsim_wcslen(ex->altitude), alt, sizeof(alt));
                altitude = alt;
            }
        } else {
            entry = rp->objects[i].entry; /* fltsim__replay_objects_open's */
            if (name == NULL) {
                const char *slash = strrchr(f->object, '/');
                snprintf(base, sizeof(base), "%s", slash != NULL ? slash + 1 : f->object);
                char *dot = strchr(base, '.');
                if (dot != NULL)
                    *dot = '\0';
                name = base;
            }
        }
        WCHAR wname[256], winst[300], walt[64];
        fltsim_utf8_to_utf16(name, wname, 256);
        char inst[300];
        snprintf(inst, sizeof(inst), "%s Instance", name);
        fltsim_utf8_to_utf16(inst, winst, 300);
        fltsim_utf8_to_utf16(altitude, walt, 64);
        struct fltsim_instance_def idef = {winst, walt, 0};
        struct fltsim_filter_def def = {wname, winst, &idef, 1};
        fltsim_driver *drv;
        NTSTATUS status = fltsim_driver_load(rp->sys, &def, entry, &drv);
        if (!NT_SUCCESS(status)) {
            fltsim__replay_fail(rp, "filter '%s' did not load: %s (%s)", name,
                                fltsim_ntstatus_format(status, b, sizeof(b)), fltsim_last_error());
            /* Not a capture problem, whatever DriverEntry returned: those two
             * statuses say the capture is at fault (fltsim replay's exit 3). */
            return status == STATUS_INVALID_PARAMETER || status == STATUS_OBJECT_NAME_NOT_FOUND
                       ? STATUS_UNSUCCESSFUL
                       : status;
        }
        if (rp->import != NULL)
            fltsim__replay_import_filter(rp, f, name, altitude);
    }
    return STATUS_SUCCESS;
}

static void device_name(WCHAR *out, size_t index)
{
    char name[48]; /* the longest index fits */
    snprintf(name, sizeof(name), "\\Device\\HarddiskVolume%zu", index);
    fltsim_utf8_to_utf16(name, out, 40);
}

void fltsim__replay_volumes_complete(struct replay *rp)
{
    for (size_t i = 0; i < rp->options->volume_count; i++)
        fltsim__replay_use_drive(rp, rp->options->volumes[i].drive);
    if (rp->volume_count == 0)
        fltsim__replay_use_drive(rp, 'C');
    for (size_t i = 0; i < rp->volume_count; i++)
        device_name(rp->volumes[i].device, i + 1);
}
