/*
 * Device objects and the object namespace they live in: IoCreateDevice and
 * IoDeleteDevice (deletion deferred while file objects hold the device),
 * IoCreateSymbolicLink and IoDeleteSymbolicLink, how an NtCreateFile name
 * is parsed to a device or a volume (fltsim_object_open), the reference each
 * file object holds, and what a driver's load and unload mean for its
 * devices (V23). One namespace per system: the fixed directories (\Device,
 * \Driver, \FileSystem, \FileSystem\Filters, \GLOBAL?? ...), the volumes and
 * driver objects the system already names, and what drivers create. The
 * IRPs sent to these devices are irp.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"

/* ---- the process-wide registry of device objects and IRPs ---- */

static uv_once_t registry_once = UV_ONCE_INIT;
static uv_mutex_t registry_mutex;
static LIST_ENTRY registry_devices; /* struct fltsim_device.registry_link */
static LIST_ENTRY registry_irps;    /* struct fltsim_irp.registry_link */

static void registry_init(void)
{
    if (uv_mutex_init(&registry_mutex) != 0) {
        fprintf(stderr, "fltsim: cannot create the I/O registry lock\n");
        abort();
    }
    InitializeListHead(&registry_devices);
    InitializeListHead(&registry_irps);
}

void fltsim__io_registry_lock(void)
{
    uv_once(&registry_once, registry_init);
    uv_mutex_lock(&registry_mutex);
}

void fltsim__io_registry_unlock(void)
{
    uv_mutex_unlock(&registry_mutex);
}

void fltsim__io_registry_add_irp(struct fltsim_irp *irp)
{
    fltsim__io_registry_lock();
    InsertTailList(&registry_irps, &irp->registry_link);
    fltsim__io_registry_unlock();
}

void fltsim__io_registry_remove_irp(struct fltsim_irp *irp)
{
    fltsim__io_registry_lock();
    RemoveEntryList(&irp->registry_link);
    fltsim__io_registry_unlock();
}

struct fltsim_irp *fltsim__io_registry_find_irp_locked(PIRP irp)
{
    for (PLIST_ENTRY e = registry_irps.Flink; e != &registry_irps; e = e->Flink) {
        struct fltsim_irp *r = CONTAINING_RECORD(e, struct fltsim_irp, registry_link);
        if (&r->irp == irp)
            return r;
    }
    return NULL;
}

PLIST_ENTRY fltsim__io_registry_irps(void)
{
    return &registry_irps;
}

struct fltsim_device *fltsim__device_lookup(PDEVICE_OBJECT device)
{
    if (device == NULL)
        return NULL;
    struct fltsim_device *found = NULL;
    fltsim__io_registry_lock();
    for (PLIST_ENTRY e = registry_devices.Flink; e != &registry_devices; e = e->Flink) {
        struct fltsim_device *d = CONTAINING_RECORD(e, struct fltsim_device, registry_link);
        if (&d->object == device) {
            found = d;
            break;
        }
    }
    fltsim__io_registry_unlock();
    return found;
}

/* ---- device objects ---- */

/* Whether drv is one of sys's loaded drivers; sys->lock held. */
static bool driver_loaded_locked(fltsim_system *sys, struct fltsim_driver *drv)
{
    for (PLIST_ENTRY e = sys->drivers.Flink; e != &sys->drivers; e = e->Flink)
        if (CONTAINING_RECORD(e, struct fltsim_driver, link) == drv)
            return true;
    return false;
}

/* The part of the record before the extension, rounded to keep the
 * extension aligned as pool would. */
#define DEVICE_RECORD_SIZE ((sizeof(struct fltsim_device) + 15) & ~(size_t)15)

NTSTATUS IoCreateDevice(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize,
                        PUNICODE_STRING DeviceName, DEVICE_TYPE DeviceType,
                        ULONG DeviceCharacteristics, BOOLEAN Exclusive,
                        PDEVICE_OBJECT *DeviceObject)
{
    struct fltsim_driver *drv = fltsim__driver_from_object(DriverObject);
    if (drv == NULL || DeviceObject == NULL) {
        fltsim__io_report(drv != NULL ? drv->sys : NULL, "IoCreateDevice called with %s",
                          drv == NULL ? "a DriverObject that is not a loaded driver's"
                                      : "DeviceObject NULL");
        return STATUS_INVALID_PARAMETER;
    }
    fltsim_system *sys = drv->sys;
    fltsim__check_irql(sys, PASSIVE_LEVEL, "IoCreateDevice");
    if (DeviceExtensionSize > 0x7fff0000u)
        return STATUS_INSUFFICIENT_RESOURCES;
    const WCHAR *name = NULL;
    size_t name_len = 0;
    if (DeviceName != NULL) {
        NTSTATUS s = fltsim__ns_counted_name(DeviceName, &name, &name_len);
        if (!NT_SUCCESS(s))
            return s;
    }

    struct fltsim_device *dev = calloc(1, DEVICE_RECORD_SIZE + DeviceExtensionSize);
    if (dev == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    KeInitializeEvent(&dev->object.DeviceLock, SynchronizationEvent, TRUE);
    WCHAR generated[32];
    uv_mutex_lock(&sys->lock);
    struct fltsim_namespace *ns = fltsim__ns_get_locked(sys);
    NTSTATUS status = ns == NULL ? STATUS_INSUFFICIENT_RESOURCES : STATUS_SUCCESS;
    if (NT_SUCCESS(status) && !driver_loaded_locked(sys, drv))
        status = STATUS_INVALID_PARAMETER; /* unloaded: its devices are on their way out */
    if (NT_SUCCESS(status) && name == NULL &&
        (DeviceCharacteristics & FILE_AUTOGENERATED_DEVICE_NAME)) {
        /* \Device\NNNNNNNN, as the I/O manager names PDOs. */
        char digits[16];
        snprintf(digits, sizeof(digits), "%08lx", (unsigned long)ns->next_generated++);
        memcpy(generated, L"\\Device\\", 8 * sizeof(WCHAR));
        for (int i = 0; i < 8; i++)
            generated[8 + i] = (WCHAR)digits[i];
        generated[16] = 0;
        name = generated;
        name_len = 16;
    }
    if (NT_SUCCESS(status) && name != NULL)
        status = fltsim__ns_new_name_locked(sys, name, name_len, &dev->name);
    if (!NT_SUCCESS(status)) {
        uv_mutex_unlock(&sys->lock);
        free(dev);
        return status;
    }
    dev->magic = FLTSIM_MAGIC_DEVICE;
    dev->sys = sys;
    dev->driver = drv;
    dev->in_namespace = name != NULL;
    if (name != NULL)
        fltsim__ustr_to_utf8(&dev->name, dev->name8, sizeof(dev->name8));
    else
        snprintf(dev->name8, sizeof(dev->name8), "(unnamed device of %s)", drv->name8);

    PDEVICE_OBJECT d = &dev->object;
    d->Type = FLTSIM_IO_TYPE_DEVICE;
    d->Size = (USHORT)(sizeof(DEVICE_OBJECT) + DeviceExtensionSize);
    d->DriverObject = DriverObject;
    d->DeviceType = DeviceType;
    d->Characteristics = DeviceCharacteristics & ~(ULONG)FILE_AUTOGENERATED_DEVICE_NAME;
    d->Flags = DO_DEVICE_INITIALIZING | (Exclusive ? DO_EXCLUSIVE : 0) |
               (name != NULL ? DO_DEVICE_HAS_NAME : 0);
    d->DeviceExtension = DeviceExtensionSize != 0 ? (char *)dev + DEVICE_RECORD_SIZE : NULL;
    d->StackSize = 1;
    d->AlignmentRequirement = 0; /* FILE_BYTE_ALIGNMENT */
    if (DeviceType == FILE_DEVICE_DISK || DeviceType == FILE_DEVICE_VIRTUAL_DISK)
        d->SectorSize = 512;
    else if (DeviceType == FILE_DEVICE_CD_ROM)
        d->SectorSize = 2048;
    if (DeviceType == FILE_DEVICE_DISK_FILE_SYSTEM ||
        DeviceType == FILE_DEVICE_CD_ROM_FILE_SYSTEM || DeviceType == FILE_DEVICE_FILE_SYSTEM ||
        DeviceType == FILE_DEVICE_NETWORK_FILE_SYSTEM || DeviceType == FILE_DEVICE_TAPE_FILE_SYSTEM)
        InitializeListHead(&d->Queue.ListEntry); /* a file system's work queue */
    /* The newest device heads its driver's list, as on Windows. */
    d->NextDevice = DriverObject->DeviceObject;
    DriverObject->DeviceObject = d;
    InsertTailList(&ns->devices, &dev->sys_link);
    fltsim__io_registry_lock();
    InsertTailList(&registry_devices, &dev->registry_link);
    fltsim__io_registry_unlock();
    uv_mutex_unlock(&sys->lock);
    *DeviceObject = d;
    return STATUS_SUCCESS;
}

/* sys->lock held: unlinks dev from its driver's list and the namespace, and
 * returns the driver when that was the last device of a driver that has
 * unloaded (the caller releases it once the lock is gone). The caller frees
 * dev after the lock. */
static struct fltsim_driver *device_unlink_locked(struct fltsim_device *dev)
{
    PDEVICE_OBJECT *p = &dev->driver->driver_object.DeviceObject;
    while (*p != NULL && *p != &dev->object)
        p = &(*p)->NextDevice;
    if (*p != NULL)
        *p = dev->object.NextDevice;
    RemoveEntryList(&dev->sys_link);
    fltsim__io_registry_lock();
    RemoveEntryList(&dev->registry_link);
    fltsim__io_registry_unlock();
    struct fltsim_driver *drv = dev->driver;
    if (drv->magic != FLTSIM_MAGIC_DRIVER && drv->driver_object.DeviceObject == NULL)
        return drv; /* unloaded, and this was its last device */
    return NULL;
}

static void device_free(struct fltsim_device *dev)
{
    fltsim__ustr_free(&dev->name);
    dev->magic = FLTSIM_MAGIC_DEAD;
    free(dev);
}

/* sys->lock held: whether a deleted device can go now. */
static bool device_unused_locked(const struct fltsim_device *dev)
{
    return dev->delete_pending && dev->object.ReferenceCount == 0 && dev->irps == 0;
}

/* sys->lock held: what IoDeleteDevice does; true when dev must be freed now
 * (it has been unlinked; *gone is the driver to release, or NULL). */
static bool device_delete_locked(struct fltsim_device *dev, struct fltsim_driver **gone)
{
    *gone = NULL;
    dev->in_namespace = false; /* ObMakeTemporaryObject: the name goes at once */
    dev->delete_pending = true;
    if (!device_unused_locked(dev))
        return false; /* the last file object or IRP frees it */
    *gone = device_unlink_locked(dev);
    return true;
}

/* Called with sys->lock held after a file object or an IRP let go of dev:
 * unlocks, and frees a deleted device nothing uses any more (releasing its
 * unloaded driver when it was the last). */
static void unlock_and_free_if_unused(struct fltsim_device *dev)
{
    struct fltsim_driver *gone = NULL;
    bool free_now = device_unused_locked(dev);
    if (free_now)
        gone = device_unlink_locked(dev);
    uv_mutex_unlock(&dev->sys->lock);
    if (free_now)
        device_free(dev);
    if (gone != NULL)
        fltsim__driver_release(gone);
}

VOID IoDeleteDevice(PDEVICE_OBJECT DeviceObject)
{
    struct fltsim_device *dev = fltsim__device_lookup(DeviceObject);
    if (dev == NULL) {
        fltsim__io_report(NULL, "IoDeleteDevice called with %s",
                          DeviceObject == NULL
                              ? "NULL"
                              : "a pointer that is not a device object (or one already "
                                "freed)");
        return;
    }
    fltsim_system *sys = dev->sys;
    fltsim__check_irql(sys, APC_LEVEL, "IoDeleteDevice");
    uv_mutex_lock(&sys->lock);
    if (dev->delete_pending) {
        uv_mutex_unlock(&sys->lock);
        fltsim__io_report(sys,
                          "IoDeleteDevice called twice for %s: a driver may delete a device object "
                          "only once",
                          dev->name8);
        return;
    }
    struct fltsim_driver *gone;
    bool free_now = device_delete_locked(dev, &gone);
    uv_mutex_unlock(&sys->lock);
    if (free_now)
        device_free(dev);
    if (gone != NULL)
        fltsim__driver_release(gone);
}

/* ---- opening a device by name: the I/O manager's side ---- */

/* sys->lock held: IopCheckDeviceAndDriver's checks, then the file object's
 * reference. */
static NTSTATUS device_reference_locked(struct fltsim_device *dev, bool relative)
{
    if ((dev->object.Flags & DO_DEVICE_INITIALIZING) || dev->delete_pending ||
        dev->driver->magic != FLTSIM_MAGIC_DRIVER || dev->driver->unloading)
        return STATUS_NO_SUCH_DEVICE;
    if ((dev->object.Flags & DO_EXCLUSIVE) && dev->object.ReferenceCount != 0 && !relative)
        return STATUS_ACCESS_DENIED;
    dev->object.ReferenceCount++;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim_object_open(fltsim_system *sys, PCWSTR name, PFLT_VOLUME *volume,
                            PDEVICE_OBJECT *device, WCHAR *remainder, size_t remainder_size)
{
    if (volume != NULL)
        *volume = NULL;
    if (device != NULL)
        *device = NULL;
    if (sys == NULL || name == NULL || volume == NULL || device == NULL || remainder == NULL ||
        remainder_size == 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_object_open: sys, name, volume, device and a remainder "
                            "buffer are required");
    remainder[0] = 0;
    size_t len = fltsim_wcslen(name);
    if (len > UNICODE_STRING_MAX_CHARS)
        return STATUS_OBJECT_NAME_INVALID;
    uv_mutex_lock(&sys->lock);
    struct fltsim_ns_walk w;
    NTSTATUS status = fltsim__ns_walk_locked(sys, name, len, &w);
    if (NT_SUCCESS(status) && w.kind == FLTSIM_NS_DIRECTORY)
        status = STATUS_OBJECT_TYPE_MISMATCH; /* a directory object is not a file */
    if (NT_SUCCESS(status) && w.len - w.end >= remainder_size)
        status = STATUS_OBJECT_NAME_INVALID;
    if (NT_SUCCESS(status) && w.kind == FLTSIM_NS_DEVICE)
        status = device_reference_locked(w.device, false);
    if (NT_SUCCESS(status)) {
        memcpy(remainder, w.path + w.end, (w.len - w.end) * sizeof(WCHAR));
        remainder[w.len - w.end] = 0;
        *volume = w.volume;
        *device = w.kind == FLTSIM_NS_DEVICE ? &w.device->object : NULL;
    }
    uv_mutex_unlock(&sys->lock);
    free(w.path);
    return status;
}

NTSTATUS fltsim_device_reference(PDEVICE_OBJECT device)
{
    struct fltsim_device *dev = fltsim__device_lookup(device);
    if (dev == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "fltsim_device_reference: not a device object");
    uv_mutex_lock(&dev->sys->lock);
    NTSTATUS status = device_reference_locked(dev, true);
    uv_mutex_unlock(&dev->sys->lock);
    return status;
}

void fltsim_device_file_object_closed(PDEVICE_OBJECT device)
{
    struct fltsim_device *dev = fltsim__device_lookup(device);
    if (dev == NULL)
        return;
    uv_mutex_lock(&dev->sys->lock);
    if (dev->object.ReferenceCount > 0)
        dev->object.ReferenceCount--;
    unlock_and_free_if_unused(dev);
}

void fltsim__device_irp_done(struct fltsim_device *dev)
{
    uv_mutex_lock(&dev->sys->lock);
    dev->irps--;
    unlock_and_free_if_unused(dev);
}

fltsim_system *fltsim_device_system(PDEVICE_OBJECT device)
{
    struct fltsim_device *dev = fltsim__device_lookup(device);
    return dev != NULL ? dev->sys : NULL;
}

PCUNICODE_STRING fltsim_device_name(PDEVICE_OBJECT device)
{
    struct fltsim_device *dev = fltsim__device_lookup(device);
    return dev != NULL ? &dev->name : NULL;
}

ULONG fltsim_device_count(fltsim_system *sys)
{
    if (sys == NULL)
        return 0;
    ULONG n = 0;
    uv_mutex_lock(&sys->lock);
    if (sys->objects != NULL)
        for (PLIST_ENTRY e = sys->objects->devices.Flink; e != &sys->objects->devices; e = e->Flink)
            n++;
    uv_mutex_unlock(&sys->lock);
    return n;
}

bool fltsim__device_driver_loaded(struct fltsim_device *dev)
{
    uv_mutex_lock(&dev->sys->lock);
    bool loaded = dev->driver->magic == FLTSIM_MAGIC_DRIVER;
    uv_mutex_unlock(&dev->sys->lock);
    return loaded;
}

/* ---- a driver's load and unload ---- */

void fltsim__devices_driver_loaded(struct fltsim_driver *drv)
{
    /* The I/O manager clears DO_DEVICE_INITIALIZING of the devices
     * DriverEntry created; later ones the driver clears itself. */
    uv_mutex_lock(&drv->sys->lock);
    for (PDEVICE_OBJECT d = drv->driver_object.DeviceObject; d != NULL; d = d->NextDevice)
        d->Flags &= ~(ULONG)DO_DEVICE_INITIALIZING;
    uv_mutex_unlock(&drv->sys->lock);
}

#define LEAK_NAMES 512

bool fltsim__devices_driver_unloaded(struct fltsim_driver *drv)
{
    fltsim_system *sys = drv->sys;
    char devices[LEAK_NAMES] = "", links[LEAK_NAMES] = "";
    int ndevices = 0, nlinks = 0;
    uv_mutex_lock(&sys->lock);
    /* Devices the driver never deleted: reported, and deleted for it (its
     * code is about to go); those still open stay until their last file
     * object goes, and so does the driver record they point to. */
    for (PDEVICE_OBJECT d = drv->driver_object.DeviceObject; d != NULL;) {
        struct fltsim_device *dev = CONTAINING_RECORD(d, struct fltsim_device, object);
        d = d->NextDevice;
        if (dev->delete_pending)
            continue;
        size_t used = strlen(devices);
        snprintf(devices + used, sizeof(devices) - used, "%s%s", ndevices ? ", " : "", dev->name8);
        ndevices++;
        struct fltsim_driver *ignored; /* drv is still loaded: never returned */
        if (device_delete_locked(dev, &ignored))
            device_free(dev);
    }
    bool keep = drv->driver_object.DeviceObject != NULL;
    if (keep)
        drv->magic = FLTSIM_MAGIC_DEAD; /* unloaded; the record stays for its devices */
    nlinks = fltsim__ns_links_disown_locked(sys, drv, links, sizeof(links));
    uv_mutex_unlock(&sys->lock);
    if (ndevices > 0)
        fltsim__report(sys, drv->filter_keep, NULL, NULL, "V23", "10",
                       "%s unloads with %d device object(s) it never deleted: %s (each "
                       "IoCreateDevice needs its IoDeleteDevice; fltsim deletes them)",
                       drv->name8, ndevices, devices);
    if (nlinks > 0)
        fltsim__report(sys, drv->filter_keep, NULL, NULL, "V23", "10",
                       "%s unloads with %d symbolic link(s) it never deleted: %s (each "
                       "IoCreateSymbolicLink needs its IoDeleteSymbolicLink; the link stays "
                       "and its name is taken)",
                       drv->name8, nlinks, links);
    return keep;
}

/* ---- system destruction ---- */

void fltsim__objects_system_destroyed(fltsim_system *sys)
{
    fltsim__irps_system_destroyed(sys);
    struct fltsim_namespace *ns = sys->objects;
    if (ns == NULL)
        return;
    /* What is left belongs to drivers that have unloaded (reported then). */
    for (;;) {
        uv_mutex_lock(&sys->lock);
        struct fltsim_device *dev =
            IsListEmpty(&ns->devices)
                ? NULL
                : CONTAINING_RECORD(ns->devices.Flink, struct fltsim_device, sys_link);
        struct fltsim_driver *gone = NULL;
        if (dev != NULL) {
            dev->delete_pending = true;
            dev->object.ReferenceCount = 0;
            dev->irps = 0;
            gone = device_unlink_locked(dev);
        }
        uv_mutex_unlock(&sys->lock);
        if (dev == NULL)
            break;
        device_free(dev);
        if (gone != NULL)
            fltsim__driver_release(gone);
    }
    fltsim__ns_destroy(sys);
}
