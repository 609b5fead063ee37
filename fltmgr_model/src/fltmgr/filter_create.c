/*
 * Files a minifilter opens itself (SPEC 2.3): FltCreateFile, FltCreateFileEx,
 * FltCreateFileEx2 and FltClose, and the table of I/O manager services
 * (fltsim_set_io_services) through which the model reaches handles and file
 * objects it does not own. The checks FltMgr makes before the open (the
 * filter and instance, the driver create context, the IRQL) are here; the
 * open itself, the kernel handle and the file object are the I/O manager's
 * (sim/io), which sends the create, and every later request on the file
 * object, only to the instances below the caller's.
 */
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
    if (c->ExtraCreateParameter != NULL) {
        /* Where ECP lists plug in: they travel with the create request to the
         * instances below (FltGetEcpListFromCallbackData), once fltsim models
         * them (issue 18 item 7). */
        fltsim__report(sys, NULL, inst, NULL, "SIM", "2.3",
                       "%s with DriverContext->ExtraCreateParameter: extra create parameters are "
                       "not modeled in this build of fltsim; returned STATUS_NOT_SUPPORTED",
                       api);
        return fltsim__fail(STATUS_NOT_SUPPORTED, "%s: ECP lists are not modeled", api);
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
    WCHAR altitude[FLTSIM_ALTITUDE_MAX];
    if (a->instance != NULL) {
        const char *text = a->instance->altitude.text;
        size_t n = strlen(text);
        for (size_t i = 0; i <= n; i++)
            altitude[i] = (WCHAR)(unsigned char)text[i];
        p.volume = a->instance->volume;
        p.below_altitude = altitude;
        /* FltMgr's own request; with no instance the I/O manager sends it
         * to the top like any kernel open. */
        p.callback_flags = FLTFL_CALLBACK_DATA_GENERATED_IO;
    }
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
