/*
 * Files a minifilter opens itself (SPEC 2.3): FltCreateFile, FltCreateFileEx,
 * FltCreateFileEx2, FltClose and FltCreateSystemVolumeInformationFolder, and
 * the table of I/O manager services
 * (fltsim_set_io_services) through which the model reaches handles and file
 * objects it does not own. The checks FltMgr makes before the open (the
 * filter and instance, the driver create context, the IRQL) are here; the
 * open itself, the kernel handle and the file object are the I/O manager's
 * (sim/io), which sends the create, and every later request on the file
 * object, only to the instances below the caller's.
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

/* ---- the I/O manager's services ---- */

static const struct fltsim_io_services *io_services;

void fltsim_set_io_services(const struct fltsim_io_services *services)
{
    __atomic_store_n(&io_services, services, __ATOMIC_RELEASE);
}

const struct fltsim_io_services *fltsim_io_services(void)
{
    return __atomic_load_n(&io_services, __ATOMIC_ACQUIRE);
}

/* ---- FltCreateFile* ---- */

/* A create that starts below inst (when not NULL): its volume, altitude (in
 * altitude, which must outlive p) and FltMgr's generated-I/O mark; with no
 * instance the I/O manager sends it to the top like any kernel open. */
static void below_instance(struct fltsim_kernel_create *p, PFLT_INSTANCE inst,
                           WCHAR altitude[FLTSIM_ALTITUDE_MAX])
{
    if (inst == NULL)
        return;
    const char *text = inst->altitude.text;
    size_t n = strlen(text);
    for (size_t i = 0; i <= n; i++)
        altitude[i] = (WCHAR)(unsigned char)text[i];
    p->volume = inst->volume;
    p->below_altitude = altitude;
    p->callback_flags = FLTFL_CALLBACK_DATA_GENERATED_IO;
}

#define KNOWN_CREATE_FLAGS                                                                         \
    (IO_FORCE_ACCESS_CHECK | IO_NO_PARAMETER_CHECKING | IO_IGNORE_SHARE_ACCESS_CHECK |             \
     IO_OPEN_TARGET_DIRECTORY | IO_STOP_ON_SYMLINK)

struct create_args {
    PFLT_FILTER filter;
    PFLT_INSTANCE instance;
    PHANDLE handle;
    PFILE_OBJECT *file_object;
    ACCESS_MASK access;
    POBJECT_ATTRIBUTES attributes;
    PIO_STATUS_BLOCK iosb;
    PLARGE_INTEGER allocation;
    ULONG file_attributes, share_access, disposition, options;
    PVOID ea;
    ULONG ea_length;
    ULONG flags;
    PIO_DRIVER_CREATE_CONTEXT context;
};

/* The system a call belongs to: the instance's, else the filter's. */
static fltsim_system *create_system(const struct create_args *a)
{
    if (a->instance != NULL)
        return a->instance->volume->sys;
    return a->filter->sys;
}

static NTSTATUS check_driver_context(const char *api, fltsim_system *sys, PFLT_INSTANCE inst,
                                     const IO_DRIVER_CREATE_CONTEXT *c)
{
    if (c == NULL)
        return STATUS_SUCCESS;
    if ((size_t)c->Size < offsetof(IO_DRIVER_CREATE_CONTEXT, TxnParameters) + sizeof(PVOID))
        return fltsim__fail(
            STATUS_INVALID_PARAMETER,
            "%s: DriverContext->Size %d is too small (IoInitializeDriverCreateContext "
            "sets it)",
            api, (int)c->Size);
    if (c->TxnParameters != NULL) {
        fltsim__report(sys, NULL, inst, NULL, "SIM", "2.3",
                       "%s with DriverContext->TxnParameters: transactions are not modeled in "
                       "fltsim; returned STATUS_NOT_SUPPORTED",
                       api);
        return fltsim__fail(STATUS_NOT_SUPPORTED, "%s: transactions are not modeled", api);
    }
    if (c->DeviceObjectHint != NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: DriverContext->DeviceObjectHint must be NULL (the Instance names "
                            "where the create starts)",
                            api);
    return STATUS_SUCCESS;
}

static NTSTATUS create_common(const char *api, const struct create_args *a)
{
    if (a->handle != NULL)
        *a->handle = NULL;
    if (a->file_object != NULL)
        *a->file_object = NULL;
    if (!fltsim__is_filter(a->filter))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Filter is not a filter", api);
    if (a->instance != NULL &&
        (!fltsim__is_instance(a->instance) || a->instance->filter != a->filter))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Instance is not an instance of Filter",
                            api);
    fltsim_system *sys = create_system(a);
    if (fltsim__tls()->irql > PASSIVE_LEVEL) {
        fltsim__check_irql(sys, PASSIVE_LEVEL, api);
        return fltsim__fail(STATUS_INVALID_DEVICE_STATE, "%s: called above PASSIVE_LEVEL", api);
    }
    if (a->handle == NULL || a->iosb == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: FileHandle and IoStatusBlock are required", api);
    if (a->attributes == NULL || a->attributes->ObjectName == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: ObjectAttributes and its ObjectName are required", api);
    if (a->flags & ~(ULONG)KNOWN_CREATE_FLAGS)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: Flags 0x%x has bits fltsim does not know", api,
                            (unsigned)a->flags);
    if (a->ea != NULL || a->ea_length != 0) {
        fltsim__report(sys, NULL, a->instance, NULL, "SIM", "2.3",
                       "%s with an EaBuffer: extended attributes are not modeled (memfs and "
                       "hostfs store none); returned STATUS_EAS_NOT_SUPPORTED",
                       api);
        return fltsim__fail(STATUS_EAS_NOT_SUPPORTED, "%s: EAs are not modeled", api);
    }
    NTSTATUS status = check_driver_context(api, sys, a->instance, a->context);
    if (!NT_SUCCESS(status))
        return status;
    const struct fltsim_io_services *io = fltsim_io_services();
    if (io == NULL)
        return fltsim__fail(STATUS_NOT_SUPPORTED, "%s: no I/O manager is linked into this program",
                            api);

    struct fltsim_kernel_create p;
    memset(&p, 0, sizeof(p));
    p.name = a->attributes->ObjectName;
    p.root_directory = a->attributes->RootDirectory;
    /* FltMgr's handles are kernel handles whatever the caller asked. */
    p.attributes = a->attributes->Attributes | OBJ_KERNEL_HANDLE;
    p.desired_access = a->access;
    p.file_attributes = a->file_attributes;
    p.share_access = a->share_access;
    p.disposition = a->disposition;
    p.create_options = a->options;
    p.allocation_size = a->allocation != NULL ? a->allocation->QuadPart : 0;
    p.io_flags = a->flags;
    p.owner = a->filter;
    /* The ECP list travels with the create to the instances below
     * (FltGetEcpListFromCallbackData); it stays the caller's. */
    p.ecp_list = a->context != NULL ? a->context->ExtraCreateParameter : NULL;
    WCHAR altitude[FLTSIM_ALTITUDE_MAX];
    below_instance(&p, a->instance, altitude);
    status = io->create(sys, &p, a->handle, a->file_object, a->iosb);
    if (!NT_SUCCESS(status)) {
        if (a->iosb->Status != status) {
            a->iosb->Status = status;
            a->iosb->Information = 0;
        }
        char name8[256];
        fltsim_utf16_to_utf8(p.name->Buffer, p.name->Length / sizeof(WCHAR), name8, sizeof(name8));
        char st[64];
        return fltsim__fail(status, "%s('%s'): %s", api, name8,
                            fltsim_ntstatus_format(status, st, sizeof(st)));
    }
    return status;
}

NTSTATUS FltCreateFile(PFLT_FILTER Filter, PFLT_INSTANCE Instance, PHANDLE FileHandle,
                       ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                       PIO_STATUS_BLOCK IoStatusBlock, PLARGE_INTEGER AllocationSize,
                       ULONG FileAttributes, ULONG ShareAccess, ULONG CreateDisposition,
                       ULONG CreateOptions, PVOID EaBuffer, ULONG EaLength, ULONG Flags)
{
    struct create_args a = {Filter,        Instance,          FileHandle,
                            NULL,          DesiredAccess,     ObjectAttributes,
                            IoStatusBlock, AllocationSize,    FileAttributes,
                            ShareAccess,   CreateDisposition, CreateOptions,
                            EaBuffer,      EaLength,          Flags,
                            NULL};
    return create_common("FltCreateFile", &a);
}

NTSTATUS FltCreateFileEx(PFLT_FILTER Filter, PFLT_INSTANCE Instance, PHANDLE FileHandle,
                         PFILE_OBJECT *FileObject, ACCESS_MASK DesiredAccess,
                         POBJECT_ATTRIBUTES ObjectAttributes, PIO_STATUS_BLOCK IoStatusBlock,
                         PLARGE_INTEGER AllocationSize, ULONG FileAttributes, ULONG ShareAccess,
                         ULONG CreateDisposition, ULONG CreateOptions, PVOID EaBuffer,
                         ULONG EaLength, ULONG Flags)
{
    struct create_args a = {Filter,        Instance,          FileHandle,
                            FileObject,    DesiredAccess,     ObjectAttributes,
                            IoStatusBlock, AllocationSize,    FileAttributes,
                            ShareAccess,   CreateDisposition, CreateOptions,
                            EaBuffer,      EaLength,          Flags,
                            NULL};
    return create_common("FltCreateFileEx", &a);
}

NTSTATUS FltCreateFileEx2(PFLT_FILTER Filter, PFLT_INSTANCE Instance, PHANDLE FileHandle,
                          PFILE_OBJECT *FileObject, ACCESS_MASK DesiredAccess,
                          POBJECT_ATTRIBUTES ObjectAttributes, PIO_STATUS_BLOCK IoStatusBlock,
                          PLARGE_INTEGER AllocationSize, ULONG FileAttributes, ULONG ShareAccess,
                          ULONG CreateDisposition, ULONG CreateOptions, PVOID EaBuffer,
                          ULONG EaLength, ULONG Flags, PIO_DRIVER_CREATE_CONTEXT DriverContext)
{
    struct create_args a = {Filter,        Instance,          FileHandle,
                            FileObject,    DesiredAccess,     ObjectAttributes,
                            IoStatusBlock, AllocationSize,    FileAttributes,
                            ShareAccess,   CreateDisposition, CreateOptions,
                            EaBuffer,      EaLength,          Flags,
                            DriverContext};
    return create_common("FltCreateFileEx2", &a);
}

/* ---- FltClose ---- */

NTSTATUS FltClose(HANDLE FileHandle)
{
    static const char api[] = "FltClose";
    struct fltsim_tls *t = fltsim__tls();
    fltsim__check_irql(t->sys, PASSIVE_LEVEL, api);
    const struct fltsim_io_services *io = fltsim_io_services();
    NTSTATUS status = STATUS_INVALID_HANDLE;
    if (io != NULL && t->sys != NULL)
        status = io->close(t->sys, FileHandle);
    if (NT_SUCCESS(status))
        return status;
    /* On Windows closing a handle that is not open is bugcheck 0x93 under
     * the verifier. */
    if (t->sys != NULL)
        fltsim__report(t->sys, t->filter, NULL, t->op, "V23", "10",
                       "%s(%p): not an open handle of this process or the kernel (closed "
                       "twice?)",
                       api, FileHandle);
    return fltsim__fail(STATUS_INVALID_HANDLE, "%s(%p): not an open handle", api, FileHandle);
}

/* ---- FltCreateSystemVolumeInformationFolder ---- */

/* As FltMgr does it: an open-if of the folder in the volume's root, below
 * the instance (its own filter and those above do not see it), created
 * hidden and system when missing, then closed. memfs and hostfs keep no
 * ACLs, so there is no SYSTEM ACE to add or fix. */
NTSTATUS FltCreateSystemVolumeInformationFolder(PFLT_INSTANCE Instance)
{
    static const char api[] = "FltCreateSystemVolumeInformationFolder";
    static const WCHAR folder[] = L"\\System Volume Information";
    if (!fltsim__is_instance(Instance))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Instance is not an instance", api);
    PCUNICODE_STRING device = &Instance->volume->device_name;
    size_t chars = device->Length / sizeof(WCHAR) + (sizeof(folder) / sizeof(WCHAR) - 1);
    if (chars * sizeof(WCHAR) > 0xfffe)
        return fltsim__fail(STATUS_NAME_TOO_LONG, "%s: the volume's name is too long", api);
    WCHAR *buffer = malloc(chars * sizeof(WCHAR));
    if (buffer == NULL)
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", api);
    memcpy(buffer, device->Buffer, device->Length);
    memcpy(buffer + device->Length / sizeof(WCHAR), folder, sizeof(folder) - sizeof(WCHAR));
    UNICODE_STRING name = {(USHORT)(chars * sizeof(WCHAR)), (USHORT)(chars * sizeof(WCHAR)),
                           buffer};
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    HANDLE handle;
    IO_STATUS_BLOCK iosb;
    struct create_args a = {Instance->filter,
                            Instance,
                            &handle,
                            NULL,
                            FILE_LIST_DIRECTORY | SYNCHRONIZE,
                            &oa,
                            &iosb,
                            NULL,
                            FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM,
                            FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                            FILE_OPEN_IF,
                            FILE_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT,
                            NULL,
                            0,
                            0,
                            NULL};
    NTSTATUS status = create_common(api, &a);
    free(buffer);
    if (!NT_SUCCESS(status))
        return status;
    const struct fltsim_io_services *io = fltsim_io_services();
    (void)io->close(Instance->volume->sys, handle);
    return STATUS_SUCCESS;
}

/* ---- the target directory of a rename or link ---- */

NTSTATUS fltsim__open_rename_target(fltsim_system *sys, PFLT_INSTANCE below, PFILE_OBJECT file,
                                    const FILE_RENAME_INFORMATION *info, ULONG length,
                                    HANDLE *handle, PFILE_OBJECT *dir)
{
    *handle = NULL;
    *dir = NULL;
    size_t fixed = offsetof(FILE_RENAME_INFORMATION, FileName);
    if (length < fixed || info->FileNameLength > length - fixed || (info->FileNameLength & 1) ||
        info->FileNameLength > 0xfffe)
        return STATUS_INVALID_PARAMETER;
    ULONG chars = info->FileNameLength / sizeof(WCHAR);
    if (info->RootDirectory == NULL && (chars == 0 || info->FileName[0] != L'\\'))
        return STATUS_SUCCESS; /* a name in the same directory: nothing to open */
    const struct fltsim_io_services *io = fltsim_io_services();
    if (io == NULL)
        return STATUS_NOT_SUPPORTED;
    UNICODE_STRING name;
    name.Length = name.MaximumLength = (USHORT)info->FileNameLength;
    name.Buffer = (PWCH)info->FileName;
    struct fltsim_kernel_create p;
    memset(&p, 0, sizeof(p));
    p.name = &name;
    p.root_directory = info->RootDirectory;
    p.attributes = OBJ_KERNEL_HANDLE;
    p.desired_access = FILE_WRITE_DATA | SYNCHRONIZE;
    p.share_access = FILE_SHARE_READ | FILE_SHARE_WRITE;
    p.disposition = FILE_OPEN;
    p.create_options = FILE_SYNCHRONOUS_IO_NONALERT;
    p.io_flags = IO_OPEN_TARGET_DIRECTORY;
    WCHAR altitude[FLTSIM_ALTITUDE_MAX];
    below_instance(&p, below, altitude);
    IO_STATUS_BLOCK iosb;
    memset(&iosb, 0, sizeof(iosb));
    NTSTATUS status = io->create(sys, &p, handle, dir, &iosb);
    if (status == STATUS_INVALID_DEVICE_OBJECT_PARAMETER)
        return STATUS_NOT_SAME_DEVICE; /* another volume than the instance's */
    if (!NT_SUCCESS(status))
        return status;
    if (fltsim_volume_of_file_object(*dir) != fltsim_volume_of_file_object(file))
        status = STATUS_NOT_SAME_DEVICE;
    else if (iosb.Information == FILE_EXISTS && !info->ReplaceIfExists)
        status = STATUS_OBJECT_NAME_COLLISION; /* refused before the file system sees it */
    if (!NT_SUCCESS(status))
        fltsim__close_rename_target(sys, *handle, *dir);
    return status;
}

void fltsim__close_rename_target(fltsim_system *sys, HANDLE handle, PFILE_OBJECT dir)
{
    const struct fltsim_io_services *io = fltsim_io_services();
    if (io == NULL || dir == NULL)
        return;
    io->dereference(dir);
    (void)io->close(sys, handle);
}
