/*
 * Ob on file objects: IoFileObjectType, ObReferenceObjectByHandle(WithTag) on
 * file handles, ObfReferenceObject / ObfDereferenceObject (what the WDK's
 * ObReferenceObject and ObDereferenceObject macros call) and
 * IoIsFileObjectIgnoringSharing. File objects and handles are the I/O
 * manager's (sim/io), reached through its service table
 * (fltsim_io_services). A volume's device objects (FltGetDeviceObject's,
 * FltGetDiskDeviceObject's) live as long as the volume: a reference on them
 * is accepted and not counted. Other kinds of object have no references in
 * fltsim.
 */
#include "model_internal.h"
#include "device_internal.h"
#include "nt_internal.h"

struct _OBJECT_TYPE {
    const char *name;
};

static struct _OBJECT_TYPE file_type = {"File"};
static POBJECT_TYPE file_type_pointer = &file_type;
POBJECT_TYPE *IoFileObjectType = &file_type_pointer;

/* The services when object is a file object of the I/O manager, else NULL. */
static const struct fltsim_io_services *file_services(PVOID object)
{
    const struct fltsim_io_services *io = fltsim_io_services();
    if (io == NULL || object == NULL || !io->is_file_object(object))
        return NULL;
    return io;
}

/* A volume's file-system or disk device object (volume_query.c). */
static bool is_volume_device(PVOID object)
{
    return object != NULL && ((PDEVICE_OBJECT)object)->Type == FLTSIM_IO_TYPE_DEVICE &&
           fltsim__volume_of_device(object) != NULL;
}

NTSTATUS ObReferenceObjectByHandle(HANDLE Handle, ACCESS_MASK DesiredAccess,
                                   POBJECT_TYPE ObjectType, KPROCESSOR_MODE AccessMode,
                                   PVOID *Object, POBJECT_HANDLE_INFORMATION HandleInformation)
{
    static const char api[] = "ObReferenceObjectByHandle";
    struct fltsim_tls *t = fltsim__tls();
    fltsim__check_irql(t->sys, PASSIVE_LEVEL, api);
    if (Object == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Object is NULL", api);
    *Object = NULL;
    if (ObjectType != NULL && ObjectType != *IoFileObjectType)
        return fltsim__fail(STATUS_OBJECT_TYPE_MISMATCH,
                            "%s: only file handles (IoFileObjectType) are modeled", api);
    if (AccessMode != KernelMode && AccessMode != UserMode)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: AccessMode %d", api, (int)AccessMode);
    const struct fltsim_io_services *io = fltsim_io_services();
    if (io == NULL || t->sys == NULL)
        return fltsim__fail(STATUS_INVALID_HANDLE,
                            "%s(%p): no I/O manager serves the code on this thread", api, Handle);
    PFILE_OBJECT fo;
    ACCESS_MASK granted = 0;
    NTSTATUS status =
        io->reference_handle(t->sys, Handle, DesiredAccess, AccessMode, &fo, &granted);
    if (!NT_SUCCESS(status))
        return fltsim__fail(status, "%s(%p): 0x%08x", api, Handle, (unsigned)status);
    *Object = fo;
    if (HandleInformation != NULL) {
        HandleInformation->HandleAttributes = 0;
        HandleInformation->GrantedAccess = granted;
    }
    return STATUS_SUCCESS;
}

NTSTATUS ObReferenceObjectByHandleWithTag(HANDLE Handle, ACCESS_MASK DesiredAccess,
                                          POBJECT_TYPE ObjectType, KPROCESSOR_MODE AccessMode,
                                          ULONG Tag, PVOID *Object,
                                          POBJECT_HANDLE_INFORMATION HandleInformation)
{
    (void)Tag; /* tags only label references for debugging */
    return ObReferenceObjectByHandle(Handle, DesiredAccess, ObjectType, AccessMode, Object,
                                     HandleInformation);
}

LONG_PTR ObfReferenceObject(PVOID Object)
{
    const struct fltsim_io_services *io = file_services(Object);
    if (io == NULL && is_volume_device(Object))
        return 1; /* it lives as long as its volume */
    if (io == NULL) {
        fltsim__ke_report("SIM", "-",
                          "ObfReferenceObject(%p): not a file object of the I/O manager "
                          "(references on other objects are not modeled); nothing done",
                          Object);
        return 0;
    }
    return io->reference(Object);
}

LONG_PTR ObfDereferenceObject(PVOID Object)
{
    const struct fltsim_io_services *io = file_services(Object);
    if (io == NULL && is_volume_device(Object))
        return 1; /* it lives as long as its volume */
    if (io == NULL) {
        fltsim__ke_report("SIM", "-",
                          "ObfDereferenceObject(%p): not a file object of the I/O manager "
                          "(references on other objects are not modeled); nothing done",
                          Object);
        return 0;
    }
    return io->dereference(Object);
}

LONG_PTR ObfReferenceObjectWithTag(PVOID Object, ULONG Tag)
{
    (void)Tag;
    return ObfReferenceObject(Object);
}

LONG_PTR ObfDereferenceObjectWithTag(PVOID Object, ULONG Tag)
{
    (void)Tag;
    return ObfDereferenceObject(Object);
}

BOOLEAN IoIsFileObjectIgnoringSharing(PFILE_OBJECT FileObject)
{
    const struct fltsim_io_services *io = file_services(FileObject);
    return io != NULL && io->ignores_sharing(FileObject);
}
