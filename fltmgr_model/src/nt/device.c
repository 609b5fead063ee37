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

#define MAX_REPARSE 32 /* symbolic links followed in one name */

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

/* ---- the namespace of a system ---- */

struct symlink {
    LIST_ENTRY link; /* ns->links */
    UNICODE_STRING name;
    UNICODE_STRING target;
    struct fltsim_driver *creator; /* whose code made it, while that driver is loaded */
};

struct fltsim_namespace {
    LIST_ENTRY devices; /* every device object of the system, named or not */
    LIST_ENTRY links;   /* symbolic links drivers created */
    ULONG next_generated;
};

/* The directories every system has (the root is the empty prefix). */
static const WCHAR *const directories[] = {
    L"\\Device",      L"\\Driver",   L"\\FileSystem",    L"\\FileSystem\\Filters",
    L"\\GLOBAL??",    L"\\Callback", L"\\KernelObjects", L"\\BaseNamedObjects",
    L"\\ObjectTypes", L"\\Sessions", L"\\RPC Control"};

/* The symbolic links every system has: \?? is the DosDevices directory of
 * the system's session, which is \GLOBAL??; \GLOBAL??\GLOBALROOT leads back
 * to the root, the way Win32 applications name NT paths (\\.\GLOBALROOT\...). */
static const struct {
    const WCHAR *name, *target;
} builtin_links[] = {
    {L"\\??", L"\\GLOBAL??"}, {L"\\DosDevices", L"\\??"}, {L"\\GLOBAL??\\GLOBALROOT", L""}};

static bool equal_ci(const WCHAR *a, size_t alen, const WCHAR *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (RtlUpcaseUnicodeChar(a[i]) != RtlUpcaseUnicodeChar(b[i]))
            return false;
    return true;
}

static bool equal_ustr(PCUNICODE_STRING s, const WCHAR *b, size_t blen)
{
    return equal_ci(s->Buffer, s->Length / sizeof(WCHAR), b, blen);
}

/* sys->lock held: the namespace, made on first use; NULL when out of memory. */
static struct fltsim_namespace *ns_get_locked(fltsim_system *sys)
{
    if (sys->objects == NULL) {
        struct fltsim_namespace *ns = calloc(1, sizeof(*ns));
        if (ns == NULL)
            return NULL;
        InitializeListHead(&ns->devices);
        InitializeListHead(&ns->links);
        sys->objects = ns;
    }
    return sys->objects;
}

enum entity { ENT_NONE, ENT_DIRECTORY, ENT_DEVICE, ENT_VOLUME, ENT_LINK, ENT_DRIVER };

struct found {
    enum entity kind;
    struct fltsim_device *device;
    PFLT_VOLUME volume;
    const WCHAR *target; /* ENT_LINK: not terminated */
    size_t target_len;
};

/* sys->lock held: what the full name s[0..n) is. */
static struct found classify_locked(fltsim_system *sys, const WCHAR *s, size_t n)
{
    struct found f = {ENT_NONE, NULL, NULL, NULL, 0};
    if (n == 0) {
        f.kind = ENT_DIRECTORY; /* the root */
        return f;
    }
    for (size_t i = 0; i < sizeof(directories) / sizeof(directories[0]); i++)
        if (equal_ci(s, n, directories[i], fltsim_wcslen(directories[i]))) {
            f.kind = ENT_DIRECTORY;
            return f;
        }
    for (size_t i = 0; i < sizeof(builtin_links) / sizeof(builtin_links[0]); i++)
        if (equal_ci(s, n, builtin_links[i].name, fltsim_wcslen(builtin_links[i].name))) {
            f.kind = ENT_LINK;
            f.target = builtin_links[i].target;
            f.target_len = fltsim_wcslen(builtin_links[i].target);
            return f;
        }
    struct fltsim_namespace *ns = sys->objects;
    if (ns != NULL) {
        for (PLIST_ENTRY e = ns->devices.Flink; e != &ns->devices; e = e->Flink) {
            struct fltsim_device *d = CONTAINING_RECORD(e, struct fltsim_device, sys_link);
            if (d->in_namespace && equal_ustr(&d->name, s, n)) {
                f.kind = ENT_DEVICE;
                f.device = d;
                return f;
            }
        }
        for (PLIST_ENTRY e = ns->links.Flink; e != &ns->links; e = e->Flink) {
            struct symlink *l = CONTAINING_RECORD(e, struct symlink, link);
            if (equal_ustr(&l->name, s, n)) {
                f.kind = ENT_LINK;
                f.target = l->target.Buffer;
                f.target_len = l->target.Length / sizeof(WCHAR);
                return f;
            }
        }
    }
    static const WCHAR global[] = L"\\GLOBAL??\\";
    const size_t glen = sizeof(global) / sizeof(WCHAR) - 1;
    bool drive = n == glen + 2 && equal_ci(s, glen, global, glen) && s[glen + 1] == L':';
    for (PLIST_ENTRY e = sys->volumes.Flink; e != &sys->volumes; e = e->Flink) {
        PFLT_VOLUME v = CONTAINING_RECORD(e, struct _FLT_VOLUME, link);
        if (equal_ustr(&v->device_name, s, n) ||
            (drive && v->drive_letter != 0 &&
             RtlUpcaseUnicodeChar(v->drive_letter) == RtlUpcaseUnicodeChar(s[glen]))) {
            f.kind = ENT_VOLUME;
            f.volume = v;
            return f;
        }
    }
    for (PLIST_ENTRY e = sys->drivers.Flink; e != &sys->drivers; e = e->Flink) {
        struct fltsim_driver *drv = CONTAINING_RECORD(e, struct fltsim_driver, link);
        if (equal_ustr(&drv->driver_object.DriverName, s, n)) {
            f.kind = ENT_DRIVER;
            return f;
        }
    }
    return f;
}

/* Where a name leads. */
struct walk {
    enum entity kind; /* DIRECTORY, DEVICE or VOLUME when it succeeds */
    struct fltsim_device *device;
    PFLT_VOLUME volume;
    WCHAR *path; /* the name as finally parsed (links replaced); malloc */
    size_t len;
    size_t end; /* path[0..end) names the entity; path[end..len) is the rest */
};

static NTSTATUS validate_name(const WCHAR *name, size_t len)
{
    if (len == 0 || name[0] != L'\\')
        return STATUS_OBJECT_PATH_SYNTAX_BAD;
    return STATUS_SUCCESS;
}

/* sys->lock held. Parses name[0..len) as the object manager does, following
 * symbolic links, up to the first device object or volume (whose parse
 * routine gets the rest) or to the end. On success w->path is the caller's
 * to free. */
static NTSTATUS walk_locked(fltsim_system *sys, const WCHAR *name, size_t len, struct walk *w)
{
    memset(w, 0, sizeof(*w));
    NTSTATUS status = validate_name(name, len);
    if (!NT_SUCCESS(status))
        return status;
    WCHAR *cur = malloc((len + 1) * sizeof(WCHAR));
    if (cur == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(cur, name, len * sizeof(WCHAR));
    size_t n = len;
    int reparses = 0;
    size_t pos = 1; /* start of the next component */
    if (n == 1) {
        w->kind = ENT_DIRECTORY; /* "\" */
        w->path = cur;
        w->len = w->end = n;
        return STATUS_SUCCESS;
    }
    for (;;) {
        size_t end = pos;
        while (end < n && cur[end] != L'\\')
            end++;
        if (end == pos) {
            free(cur);
            return STATUS_OBJECT_NAME_INVALID; /* an empty component */
        }
        struct found f = classify_locked(sys, cur, end);
        switch (f.kind) {
        case ENT_DIRECTORY:
            if (end == n) {
                w->kind = ENT_DIRECTORY;
                w->path = cur;
                w->len = w->end = n;
                return STATUS_SUCCESS;
            }
            pos = end + 1;
            continue;
        case ENT_DEVICE:
        case ENT_VOLUME:
            w->kind = f.kind;
            w->device = f.device;
            w->volume = f.volume;
            w->path = cur;
            w->len = n;
            w->end = end;
            return STATUS_SUCCESS;
        case ENT_LINK: {
            if (++reparses > MAX_REPARSE || (f.target_len != 0 && f.target[0] != L'\\')) {
                free(cur);
                return STATUS_OBJECT_NAME_NOT_FOUND;
            }
            size_t tail = n - end;
            if (f.target_len + tail > UNICODE_STRING_MAX_CHARS) {
                free(cur);
                return STATUS_OBJECT_NAME_INVALID;
            }
            WCHAR *next = malloc((f.target_len + tail + 2) * sizeof(WCHAR));
            if (next == NULL) {
                free(cur);
                return STATUS_INSUFFICIENT_RESOURCES;
            }
            memcpy(next, f.target, f.target_len * sizeof(WCHAR));
            memcpy(next + f.target_len, cur + end, tail * sizeof(WCHAR));
            size_t m = f.target_len + tail;
            free(cur);
            cur = next;
            if (m == 0) /* GLOBALROOT itself: the root */
                cur[m++] = L'\\';
            n = m;
            if (n == 1) {
                w->kind = ENT_DIRECTORY;
                w->path = cur;
                w->len = w->end = n;
                return STATUS_SUCCESS;
            }
            pos = 1;
            continue;
        }
        case ENT_DRIVER:
            free(cur);
            return STATUS_OBJECT_TYPE_MISMATCH; /* not a file, and no parse routine */
        case ENT_NONE:
        default:
            free(cur);
            return end == n ? STATUS_OBJECT_NAME_NOT_FOUND : STATUS_OBJECT_PATH_NOT_FOUND;
        }
    }
}

/* sys->lock held. The canonical full name of an object called name[0..len)
 * in the namespace: its parent parsed to a directory (links followed: \??\X
 * is \GLOBAL??\X), then its last component. *out is malloc'd (terminated). */
static NTSTATUS canonical_name_locked(fltsim_system *sys, const WCHAR *name, size_t len,
                                      UNICODE_STRING *out)
{
    memset(out, 0, sizeof(*out));
    NTSTATUS status = validate_name(name, len);
    if (!NT_SUCCESS(status))
        return status;
    size_t cut = len;
    while (cut > 0 && name[cut - 1] != L'\\')
        cut--;
    /* name[0..cut-1) is the parent ("" for the root), name[cut..len) the leaf */
    if (cut == len || len > UNICODE_STRING_MAX_CHARS)
        return STATUS_OBJECT_NAME_INVALID;
    struct walk w;
    memset(&w, 0, sizeof(w));
    size_t plen = 0;
    if (cut > 1) {
        status = walk_locked(sys, name, cut - 1, &w);
        if (status == STATUS_OBJECT_NAME_NOT_FOUND)
            status = STATUS_OBJECT_PATH_NOT_FOUND; /* the parent is missing */
        if (NT_SUCCESS(status) && w.kind != ENT_DIRECTORY)
            status = STATUS_OBJECT_PATH_NOT_FOUND; /* inside a device or volume */
        if (!NT_SUCCESS(status)) {
            free(w.path);
            return status;
        }
        plen = w.len == 1 ? 0 : w.len; /* the root is the empty prefix */
    }
    size_t leaf = len - cut, total = plen + 1 + leaf;
    WCHAR *buf = total <= UNICODE_STRING_MAX_CHARS ? malloc((total + 1) * sizeof(WCHAR)) : NULL;
    if (buf == NULL) {
        free(w.path);
        return total > UNICODE_STRING_MAX_CHARS ? STATUS_OBJECT_NAME_INVALID
                                                : STATUS_INSUFFICIENT_RESOURCES;
    }
    if (plen != 0)
        memcpy(buf, w.path, plen * sizeof(WCHAR));
    buf[plen] = L'\\';
    memcpy(buf + plen + 1, name + cut, leaf * sizeof(WCHAR));
    buf[total] = 0;
    free(w.path);
    out->Buffer = buf;
    out->Length = (USHORT)(total * sizeof(WCHAR));
    out->MaximumLength = (USHORT)((total + 1) * sizeof(WCHAR));
    return STATUS_SUCCESS;
}

/* sys->lock held: canonical_name_locked for an object about to be created:
 * STATUS_OBJECT_NAME_COLLISION when anything has that name already. */
static NTSTATUS new_name_locked(fltsim_system *sys, const WCHAR *name, size_t len,
                                UNICODE_STRING *out)
{
    NTSTATUS status = canonical_name_locked(sys, name, len, out);
    if (!NT_SUCCESS(status))
        return status;
    if (classify_locked(sys, out->Buffer, out->Length / sizeof(WCHAR)).kind != ENT_NONE) {
        free(out->Buffer);
        memset(out, 0, sizeof(*out));
        return STATUS_OBJECT_NAME_COLLISION;
    }
    return STATUS_SUCCESS;
}

/* A counted string a driver passed: its units, or STATUS_OBJECT_NAME_INVALID
 * for a malformed one. */
static NTSTATUS ustr_units(PCUNICODE_STRING s, const WCHAR **buf, size_t *len)
{
    if (s->Length == 0 || (s->Length & 1) != 0 || s->Length > s->MaximumLength || s->Buffer == NULL)
        return STATUS_OBJECT_NAME_INVALID;
    *buf = s->Buffer;
    *len = s->Length / sizeof(WCHAR);
    return STATUS_SUCCESS;
}

/* Reports (IO) a misuse of a device object or symbolic link, charged to the
 * code running on this thread; without a system to report into (a call
 * from no driver's code with a bad pointer) it sets the last error. */
static void report_io(fltsim_system *sys, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void report_io(fltsim_system *sys, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct fltsim_tls *t = fltsim__tls();
    if (sys == NULL)
        sys = t->sys;
    if (sys == NULL) {
        fltsim__fail(STATUS_INVALID_PARAMETER, "%s", msg);
        return;
    }
    bool ours = t->sys == sys;
    fltsim__report(sys, ours ? t->filter : NULL, NULL, ours ? t->op : NULL, "IO", "-", "%s", msg);
}

bool fltsim__object_name_taken_locked(fltsim_system *sys, PCUNICODE_STRING name, WCHAR drive_letter)
{
    if (sys->objects == NULL)
        return false;
    struct found f = classify_locked(sys, name->Buffer, name->Length / sizeof(WCHAR));
    if (f.kind == ENT_DEVICE || f.kind == ENT_LINK)
        return true;
    if (drive_letter == 0)
        return false;
    WCHAR drive[] = L"\\GLOBAL??\\X:";
    drive[10] = drive_letter;
    f = classify_locked(sys, drive, 12);
    return f.kind == ENT_LINK;
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
        report_io(drv != NULL ? drv->sys : NULL, "IoCreateDevice called with %s",
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
        NTSTATUS s = ustr_units(DeviceName, &name, &name_len);
        if (!NT_SUCCESS(s))
            return s;
    }

    struct fltsim_device *dev = calloc(1, DEVICE_RECORD_SIZE + DeviceExtensionSize);
    if (dev == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    KeInitializeEvent(&dev->object.DeviceLock, SynchronizationEvent, TRUE);
    WCHAR generated[32];
    uv_mutex_lock(&sys->lock);
    struct fltsim_namespace *ns = ns_get_locked(sys);
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
        status = new_name_locked(sys, name, name_len, &dev->name);
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

VOID IoDeleteDevice(PDEVICE_OBJECT DeviceObject)
{
    struct fltsim_device *dev = fltsim__device_lookup(DeviceObject);
    if (dev == NULL) {
        report_io(NULL, "IoDeleteDevice called with %s",
                  DeviceObject == NULL ? "NULL"
                                       : "a pointer that is not a device object (or one already "
                                         "freed)");
        return;
    }
    fltsim_system *sys = dev->sys;
    fltsim__check_irql(sys, APC_LEVEL, "IoDeleteDevice");
    uv_mutex_lock(&sys->lock);
    if (dev->delete_pending) {
        uv_mutex_unlock(&sys->lock);
        report_io(sys,
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
    struct walk w;
    NTSTATUS status = walk_locked(sys, name, len, &w);
    if (NT_SUCCESS(status) && w.kind == ENT_DIRECTORY)
        status = STATUS_OBJECT_TYPE_MISMATCH; /* a directory object is not a file */
    if (NT_SUCCESS(status) && w.len - w.end >= remainder_size)
        status = STATUS_OBJECT_NAME_INVALID;
    if (NT_SUCCESS(status) && w.kind == ENT_DEVICE)
        status = device_reference_locked(w.device, false);
    if (NT_SUCCESS(status)) {
        memcpy(remainder, w.path + w.end, (w.len - w.end) * sizeof(WCHAR));
        remainder[w.len - w.end] = 0;
        *volume = w.volume;
        *device = w.kind == ENT_DEVICE ? &w.device->object : NULL;
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
    fltsim_system *sys = dev->sys;
    struct fltsim_driver *gone = NULL;
    uv_mutex_lock(&sys->lock);
    if (dev->object.ReferenceCount > 0)
        dev->object.ReferenceCount--;
    bool free_now = device_unused_locked(dev);
    if (free_now)
        gone = device_unlink_locked(dev);
    uv_mutex_unlock(&sys->lock);
    if (free_now)
        device_free(dev);
    if (gone != NULL)
        fltsim__driver_release(gone);
}

void fltsim__device_irp_done(struct fltsim_device *dev)
{
    fltsim_system *sys = dev->sys;
    struct fltsim_driver *gone = NULL;
    uv_mutex_lock(&sys->lock);
    dev->irps--;
    bool free_now = device_unused_locked(dev);
    if (free_now)
        gone = device_unlink_locked(dev);
    uv_mutex_unlock(&sys->lock);
    if (free_now)
        device_free(dev);
    if (gone != NULL)
        fltsim__driver_release(gone);
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

/* ---- symbolic links ---- */

NTSTATUS IoCreateSymbolicLink(PUNICODE_STRING SymbolicLinkName, PUNICODE_STRING DeviceName)
{
    struct fltsim_tls *t = fltsim__tls();
    fltsim_system *sys = t->sys;
    if (sys == NULL || SymbolicLinkName == NULL || DeviceName == NULL) {
        report_io(sys, "IoCreateSymbolicLink called %s",
                  sys == NULL ? "outside any driver's code" : "with a NULL name");
        return STATUS_INVALID_PARAMETER;
    }
    fltsim__check_irql(sys, PASSIVE_LEVEL, "IoCreateSymbolicLink");
    const WCHAR *name, *target;
    size_t name_len, target_len;
    NTSTATUS status = ustr_units(SymbolicLinkName, &name, &name_len);
    if (NT_SUCCESS(status))
        status = ustr_units(DeviceName, &target, &target_len);
    if (!NT_SUCCESS(status))
        return status;
    struct symlink *l = calloc(1, sizeof(*l));
    if (l == NULL || !fltsim__ustr_dup(&l->target, target, target_len)) {
        free(l);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    uv_mutex_lock(&sys->lock);
    struct fltsim_namespace *ns = ns_get_locked(sys);
    status =
        ns == NULL ? STATUS_INSUFFICIENT_RESOURCES : new_name_locked(sys, name, name_len, &l->name);
    if (NT_SUCCESS(status)) {
        l->creator = t->filter != NULL ? t->filter->driver : t->loading;
        InsertTailList(&ns->links, &l->link);
    }
    uv_mutex_unlock(&sys->lock);
    if (!NT_SUCCESS(status)) {
        fltsim__ustr_free(&l->target);
        free(l);
    }
    return status;
}

static void symlink_free(struct symlink *l)
{
    free(l->name.Buffer); /* new_name_locked's malloc */
    fltsim__ustr_free(&l->target);
    free(l);
}

NTSTATUS IoDeleteSymbolicLink(PUNICODE_STRING SymbolicLinkName)
{
    fltsim_system *sys = fltsim__tls()->sys;
    if (sys == NULL || SymbolicLinkName == NULL) {
        report_io(sys, "IoDeleteSymbolicLink called %s",
                  sys == NULL ? "outside any driver's code" : "with a NULL name");
        return STATUS_INVALID_PARAMETER;
    }
    fltsim__check_irql(sys, PASSIVE_LEVEL, "IoDeleteSymbolicLink");
    const WCHAR *name;
    size_t len;
    NTSTATUS status = ustr_units(SymbolicLinkName, &name, &len);
    if (!NT_SUCCESS(status))
        return status;
    struct symlink *found = NULL;
    UNICODE_STRING canonical;
    uv_mutex_lock(&sys->lock);
    status = canonical_name_locked(sys, name, len, &canonical);
    if (NT_SUCCESS(status) && sys->objects != NULL)
        for (PLIST_ENTRY e = sys->objects->links.Flink; e != &sys->objects->links; e = e->Flink) {
            struct symlink *l = CONTAINING_RECORD(e, struct symlink, link);
            if (equal_ustr(&l->name, canonical.Buffer, canonical.Length / sizeof(WCHAR))) {
                found = l;
                RemoveEntryList(&l->link);
                break;
            }
        }
    if (NT_SUCCESS(status) && found == NULL)
        /* Another kind of object by that name is not a link. */
        status = classify_locked(sys, canonical.Buffer, canonical.Length / sizeof(WCHAR)).kind ==
                         ENT_NONE
                     ? STATUS_OBJECT_NAME_NOT_FOUND
                     : STATUS_OBJECT_TYPE_MISMATCH;
    uv_mutex_unlock(&sys->lock);
    free(canonical.Buffer);
    if (found != NULL)
        symlink_free(found);
    return status;
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
    if (sys->objects != NULL)
        for (PLIST_ENTRY e = sys->objects->links.Flink; e != &sys->objects->links; e = e->Flink) {
            struct symlink *l = CONTAINING_RECORD(e, struct symlink, link);
            if (l->creator != drv)
                continue;
            char name8[FLTSIM_NAME8_MAX];
            fltsim__ustr_to_utf8(&l->name, name8, sizeof(name8));
            size_t used = strlen(links);
            snprintf(links + used, sizeof(links) - used, "%s%s", nlinks ? ", " : "", name8);
            nlinks++;
            l->creator = NULL; /* the link stays, as on Windows */
        }
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
    while (!IsListEmpty(&ns->links)) {
        struct symlink *l = CONTAINING_RECORD(ns->links.Flink, struct symlink, link);
        RemoveEntryList(&l->link);
        symlink_free(l);
    }
    sys->objects = NULL;
    free(ns);
}
