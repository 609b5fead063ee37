/*
 * Volumes: mounting a file system under a device name and drive letter,
 * the deferred instance setup of a newly mounted volume (SPEC 2.4, 12.5),
 * dismounting with FLTFL_INSTANCE_TEARDOWN_VOLUME_DISMOUNT, and the link
 * between file objects and the volume they were opened on.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

#define IO_TYPE_DEVICE 3
#define IO_TYPE_VPB 10

static bool valid_letter(WCHAR c)
{
    return (c >= L'A' && c <= L'Z') || (c >= L'a' && c <= L'z');
}

NTSTATUS fltsim_volume_mount(fltsim_system *sys, const struct fltsim_volume_params *params,
                             PFLT_VOLUME *out)
{
    if (out != NULL)
        *out = NULL;
    if (sys == NULL || params == NULL || out == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_volume_mount: sys, params and out are required");
    size_t nlen = params->device_name != NULL ? fltsim_wcslen(params->device_name) : 0;
    if (nlen == 0 || params->device_name[0] != L'\\' || nlen > 255)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_volume_mount: device_name must be an NT device name such "
                            "as \\Device\\HarddiskVolume1");
    if (params->ops == NULL || params->ops->irp_cb == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_volume_mount: the file system must provide ops->irp_cb");
    if (params->completion != FLTSIM_COMPLETE_INLINE && params->completion != FLTSIM_COMPLETE_ASYNC)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_volume_mount: completion must be FLTSIM_COMPLETE_INLINE or "
                            "FLTSIM_COMPLETE_ASYNC");
    if (params->drive_letter != 0 && !valid_letter(params->drive_letter))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_volume_mount: drive_letter must be A-Z or 0");
    if (sys->destroying)
        return fltsim__fail(STATUS_FLT_DELETING_OBJECT,
                            "fltsim_volume_mount: the system is being destroyed");

    PFLT_VOLUME v = calloc(1, sizeof(*v));
    if (v == NULL || !fltsim__ustr_dup(&v->device_name, params->device_name, nlen)) {
        free(v);
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "fltsim_volume_mount: out of memory");
    }
    fltsim__inflight_init(v);
    v->obj.magic = FLTSIM_MAGIC_VOLUME;
    v->obj.refs = 1; /* mounted lifetime */
    v->sys = sys;
    InitializeListHead(&v->instances);
    v->completion = params->completion;
    v->drive_letter = params->drive_letter ? RtlUpcaseUnicodeChar(params->drive_letter) : 0;
    v->ops = params->ops;
    v->fs = params->fs;
    v->fs_type = params->fs_type;
    v->device_type = params->device_type ? params->device_type : FILE_DEVICE_DISK_FILE_SYSTEM;
    fltsim__ustr_to_utf8(&v->device_name, v->name8, sizeof(v->name8));

    v->device.Type = IO_TYPE_DEVICE;
    v->device.Size = (USHORT)sizeof(v->device);
    v->device.DeviceType = v->device_type;
    v->device.Vpb = &v->vpb;
    v->device.StackSize = 1;
    v->vpb.Type = IO_TYPE_VPB;
    v->vpb.Size = (CSHORT)sizeof(v->vpb);
    v->vpb.DeviceObject = &v->device;
    v->vpb.RealDevice = &v->device;
    v->device.Characteristics = params->characteristics;
    v->snapshot = (params->flags & FLTSIM_VOLUME_SNAPSHOT) != 0;
    v->has_disk = v->device_type != FILE_DEVICE_NETWORK_FILE_SYSTEM;
    if (v->has_disk) {
        /* The storage stack's device: a disk (or CD-ROM), its sectors. */
        v->disk.Type = IO_TYPE_DEVICE;
        v->disk.Size = (USHORT)sizeof(v->disk);
        v->disk.DeviceType = v->device_type == FILE_DEVICE_CD_ROM_FILE_SYSTEM ? FILE_DEVICE_CD_ROM
                                                                              : FILE_DEVICE_DISK;
        v->disk.Characteristics = params->characteristics;
        v->disk.SectorSize = params->sector_size != 0 ? params->sector_size : 512;
        v->disk.StackSize = 1;
        v->disk.Vpb = &v->vpb;
        v->disk.Flags = DO_DIRECT_IO;
        v->vpb.RealDevice = &v->disk;
    }

    uv_mutex_lock(&sys->lock);
    /* A driver's device object or symbolic link may hold the names too. */
    bool taken = fltsim__object_name_taken_locked(sys, &v->device_name, v->drive_letter);
    for (PLIST_ENTRY e = sys->volumes.Flink; e != &sys->volumes || taken; e = e->Flink) {
        PFLT_VOLUME o = taken ? NULL : CONTAINING_RECORD(e, struct _FLT_VOLUME, link);
        if (taken || fltsim__ustr_equal_ci(&o->device_name, &v->device_name) ||
            (v->drive_letter != 0 && o->drive_letter == v->drive_letter)) {
            uv_mutex_unlock(&sys->lock);
            char name[FLTSIM_NAME8_MAX];
            snprintf(name, sizeof(name), "%s", v->name8);
            fltsim__ustr_free(&v->device_name);
            free(v);
            return fltsim__fail(STATUS_OBJECT_NAME_COLLISION,
                                "fltsim_volume_mount: %s or its drive letter is already mounted",
                                name);
        }
    }
    v->vpb.SerialNumber = 0x1000u + (ULONG)sys->next_filter_serial * 7919u;
    InsertTailList(&sys->volumes, &v->link);
    uv_mutex_unlock(&sys->lock);
    *out = v;
    return STATUS_SUCCESS;
}

void fltsim__volume_mount_setup(struct _FLT_VOLUME *volume, UCHAR major)
{
    if (__atomic_load_n(&volume->mount_setup, __ATOMIC_ACQUIRE) == 2)
        return;
    fltsim_system *sys = volume->sys;
    if (major != IRP_MJ_CREATE && !(sys->flags & FLTSIM_SYSTEM_SETUP_ON_FIRST_IO))
        return;

    uv_mutex_lock(&sys->lock);
    if (volume->mount_setup == 1) {
        /* The thread running the setup may issue I/O to the volume from an
         * InstanceSetup callback; it must not wait for itself. */
        uv_thread_t self = uv_thread_self();
        if (!uv_thread_equal(&self, &volume->mount_setup_thread)) {
            while (volume->mount_setup != 2)
                fltsim__sys_wait_locked(sys, 0);
        }
        uv_mutex_unlock(&sys->lock);
        return;
    }
    if (volume->mount_setup == 2) {
        uv_mutex_unlock(&sys->lock);
        return;
    }
    volume->mount_setup = 1;
    volume->mount_setup_thread = uv_thread_self();
    ULONG n = 0;
    for (PLIST_ENTRY e = sys->filters.Flink; e != &sys->filters; e = e->Flink)
        n++;
    PFLT_FILTER *filters = n ? calloc(n, sizeof(*filters)) : NULL;
    ULONG taken = 0;
    if (filters != NULL) {
        for (PLIST_ENTRY e = sys->filters.Flink; e != &sys->filters; e = e->Flink) {
            PFLT_FILTER f = CONTAINING_RECORD(e, struct _FLT_FILTER, link);
            if (f->state != FLTSIM_FILTER_STARTED)
                continue;
            fltsim__filter_ref(f);
            filters[taken++] = f;
        }
    }
    uv_mutex_unlock(&sys->lock);

    for (ULONG i = 0; i < taken; i++) {
        fltsim__offer_volume(filters[i], volume,
                             FLTFL_INSTANCE_SETUP_AUTOMATIC_ATTACHMENT |
                                 FLTFL_INSTANCE_SETUP_NEWLY_MOUNTED_VOLUME);
        fltsim__filter_unref(filters[i]);
    }
    free(filters);

    uv_mutex_lock(&sys->lock);
    __atomic_store_n(&volume->mount_setup, 2, __ATOMIC_RELEASE);
    fltsim__broadcast_locked(sys);
    uv_mutex_unlock(&sys->lock);
}

/* Tears down every instance of the volume and unlinks it from the system. */
static void volume_dismount(PFLT_VOLUME v)
{
    fltsim_system *sys = v->sys;
    uv_mutex_lock(&sys->lock);
    /* A mount setup running on another thread may still attach; it sees the
     * volume dismounting and fails, but wait for it to finish. */
    do {
        fltsim__teardown_all_locked(sys, &v->instances, true,
                                    FLTFL_INSTANCE_TEARDOWN_VOLUME_DISMOUNT);
        while (v->mount_setup == 1)
            fltsim__sys_wait_locked(sys, 0);
    } while (!IsListEmpty(&v->instances));
    /* Operations already past the filters (no instance holds them) may
     * still be in the file system: they finish before it goes. */
    for (;;) {
        if (fltsim__inflight_empty(v))
            break;
        fltsim__sys_wait_locked(sys, 0);
    }
    RemoveEntryList(&v->link);
    fltsim__volume_set_stack_locked(v, NULL);
    uv_mutex_unlock(&sys->lock);
    fltsim__contexts_volume_gone(v); /* volume contexts live until dismount */

    if (v->ops->release_cb != NULL)
        v->ops->release_cb(v->fs);
    v->fs = NULL;
    fltsim__volume_unref(v); /* the mounted-lifetime reference */
}

NTSTATUS fltsim_volume_dismount(PFLT_VOLUME volume)
{
    if (!fltsim__is_volume(volume))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "fltsim_volume_dismount: not a volume");
    fltsim_system *sys = volume->sys;
    uv_mutex_lock(&sys->lock);
    if (volume->dismounting) {
        uv_mutex_unlock(&sys->lock);
        return fltsim__fail(STATUS_FLT_DELETING_OBJECT,
                            "fltsim_volume_dismount: %s is already dismounting", volume->name8);
    }
    LONG open = __atomic_load_n(&volume->open_files, __ATOMIC_SEQ_CST);
    if (open > 0) {
        uv_mutex_unlock(&sys->lock);
        return fltsim__fail(STATUS_DEVICE_BUSY,
                            "fltsim_volume_dismount: %s has %d open file objects", volume->name8,
                            (int)open);
    }
    volume->dismounting = 1;
    uv_mutex_unlock(&sys->lock);
    volume_dismount(volume);
    return STATUS_SUCCESS;
}

void fltsim__volume_remove(struct _FLT_VOLUME *volume)
{
    uv_mutex_lock(&volume->sys->lock);
    volume->dismounting = 1;
    LONG open = volume->open_files;
    uv_mutex_unlock(&volume->sys->lock);
    if (open > 0)
        fprintf(stderr, "fltsim: volume %s removed with %d file objects still open\n",
                volume->name8, (int)open);
    volume_dismount(volume);
}

fltsim_system *fltsim_volume_system(PFLT_VOLUME volume)
{
    return fltsim__is_volume(volume) ? volume->sys : NULL;
}

void *fltsim_volume_fs(PFLT_VOLUME volume)
{
    return fltsim__is_volume(volume) ? volume->fs : NULL;
}

PCUNICODE_STRING fltsim_volume_device_name(PFLT_VOLUME volume)
{
    return fltsim__is_volume(volume) ? &volume->device_name : NULL;
}

WCHAR fltsim_volume_drive_letter(PFLT_VOLUME volume)
{
    return fltsim__is_volume(volume) ? volume->drive_letter : 0;
}

void fltsim_volume_file_object_opened(PFLT_VOLUME volume, PFILE_OBJECT file_object)
{
    file_object->Vpb = &volume->vpb;
    file_object->DeviceObject = &volume->device;
    __atomic_add_fetch(&volume->open_files, 1, __ATOMIC_SEQ_CST);
    fltsim__volume_ref(volume);
}

void fltsim_volume_file_object_closed(PFLT_VOLUME volume, PFILE_OBJECT file_object)
{
    fltsim__contexts_file_object_closed(file_object); /* its close is complete */
    fltsim__names_forget_file(file_object);
    __atomic_sub_fetch(&volume->open_files, 1, __ATOMIC_SEQ_CST);
    fltsim__volume_unref(volume);
}

PFLT_VOLUME fltsim_volume_of_file_object(PFILE_OBJECT file_object)
{
    if (file_object == NULL || file_object->Vpb == NULL)
        return NULL;
    PFLT_VOLUME v = CONTAINING_RECORD(file_object->Vpb, struct _FLT_VOLUME, vpb);
    return fltsim__is_volume(v) ? v : NULL;
}
