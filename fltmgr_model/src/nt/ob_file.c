/*
 * Ob on file objects: IoFileObjectType, ObReferenceObjectByHandle(WithTag) on
 * file handles, ObOpenObjectByPointer on file objects, TmTransactionObjectType
 * (a type no object has), ObfReferenceObject / ObfDereferenceObject (what the WDK's
 * ObReferenceObject and ObDereferenceObject macros call) and
 * IoIsFileObjectIgnoringSharing. File objects and handles are the I/O
 * manager's (sim/io), reached through its service table
 * (fltsim_io_services); a volume's device objects live as long as the volume
 * (references on them are not counted); process and thread objects count
 * theirs in ps_objects.c; other kinds of object have no references in fltsim.
 */
#include "device_internal.h"
#include "model_internal.h"
#include "nt_internal.h"
#include "ps_internal.h"

struct _OBJECT_TYPE {
    const char *name;
};

static struct _OBJECT_TYPE file_type = {"File"};
static POBJECT_TYPE file_type_pointer = &file_type;
POBJECT_TYPE *IoFileObjectType = &file_type_pointer;

/* Transactions are not modeled (fltmgr/transaction.c): a type no object has,
 * so a call that names it as the type expected gets
 * STATUS_OBJECT_TYPE_MISMATCH, as Windows answers for an object of another
 * type. */
static struct _OBJECT_TYPE transaction_type = {"TmTx"};
static POBJECT_TYPE transaction_type_pointer = &transaction_type;
POBJECT_TYPE *TmTransactionObjectType = &transaction_type_pointer;

/* The services when object is a file object of the I/O manager, else NULL. */
static const struct fltsim_io_services *file_services(PVOID object)
{
    const struct fltsim_io_services *io = fltsim_io_services();
    if (io == NULL || object == NULL || !io->is_file_object(object))
        return NULL;
    return io;
}

/* ObReferenceObjectByHandle on a process or thread handle (ps_handles.c):
 * the type checked, and for UserMode the access the handle grants. */
static NTSTATUS ps_reference_by_handle(HANDLE Handle, ACCESS_MASK DesiredAccess,
                                       POBJECT_TYPE ObjectType, KPROCESSOR_MODE AccessMode,
                                       PVOID *Object, POBJECT_HANDLE_INFORMATION HandleInformation)
{
    static const char api[] = "ObReferenceObjectByHandle";
    PVOID object;
    ACCESS_MASK granted;
    NTSTATUS status = fltsim__ps_handle_object(Handle, AccessMode, &object, &granted);
    if (!NT_SUCCESS(status))
        return ObjectType != NULL
                   ? fltsim__fail(status, "%s(%p): no process or thread handle", api, Handle)
                   : status;
    bool thread = *(const ULONG *)object == FLTSIM_MAGIC_THREAD;
    if (ObjectType != NULL && ObjectType != (thread ? *PsThreadType : *PsProcessType)) {
        ObfDereferenceObject(object);
        return fltsim__fail(STATUS_OBJECT_TYPE_MISMATCH, "%s(%p): a %s handle", api, Handle,
                            thread ? "thread" : "process");
    }
    if (AccessMode == UserMode && (granted & DesiredAccess) != DesiredAccess) {
        ObfDereferenceObject(object);
        return fltsim__fail(STATUS_ACCESS_DENIED, "%s(%p): the handle grants 0x%x, not all of 0x%x",
                            api, Handle, (unsigned)granted, (unsigned)DesiredAccess);
    }
    *Object = object;
    if (HandleInformation != NULL) {
        HandleInformation->HandleAttributes = 0;
        HandleInformation->GrantedAccess = granted;
    }
    return STATUS_SUCCESS;
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
    if (AccessMode != KernelMode && AccessMode != UserMode)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: AccessMode %d", api, (int)AccessMode);
    if (ObjectType == NULL || ObjectType == *PsProcessType || ObjectType == *PsThreadType) {
        NTSTATUS status = ps_reference_by_handle(Handle, DesiredAccess, ObjectType, AccessMode,
                                                 Object, HandleInformation);
        if (status != STATUS_INVALID_HANDLE || ObjectType != NULL)
            return status; /* a process or thread handle, or none and one was asked */
    }
    if (ObjectType != NULL && ObjectType != *IoFileObjectType)
        return fltsim__fail(STATUS_OBJECT_TYPE_MISMATCH,
                            "%s: only file, process and thread handles are modeled", api);
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

NTSTATUS ObOpenObjectByPointer(PVOID Object, ULONG HandleAttributes,
                               PACCESS_STATE PassedAccessState, ACCESS_MASK DesiredAccess,
                               POBJECT_TYPE ObjectType, KPROCESSOR_MODE AccessMode, PHANDLE Handle)
{
    static const char api[] = "ObOpenObjectByPointer";
    struct fltsim_tls *t = fltsim__tls();
    fltsim__check_irql(t->sys, PASSIVE_LEVEL, api);
    if (Handle == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Handle is NULL", api);
    *Handle = NULL;
    if (Object == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Object is NULL", api);
    if (AccessMode != KernelMode && AccessMode != UserMode)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: AccessMode %d", api, (int)AccessMode);
    if (file_services(Object) == NULL && fltsim__ps_is_object(Object))
        return fltsim__ps_open_by_pointer(Object, HandleAttributes, DesiredAccess, ObjectType,
                                          AccessMode, Handle);
    bool checked = AccessMode == UserMode || (HandleAttributes & OBJ_FORCE_ACCESS_CHECK);
    if (ObjectType == NULL && checked)
        return fltsim__fail(STATUS_OBJECT_TYPE_MISMATCH,
                            "%s: ObjectType is required unless AccessMode is KernelMode", api);
    const struct fltsim_io_services *io = file_services(Object);
    if (io == NULL) {
        if (ObjectType == *TmTransactionObjectType)
            return fltsim__fail(STATUS_OBJECT_TYPE_MISMATCH,
                                "%s(%p): no object is a transaction (transactions are not "
                                "modeled)",
                                api, Object);
        if (t->sys != NULL)
            fltsim__report(t->sys, t->filter, NULL, t->op, "SIM", "-",
                           "%s(%p): not a file object of the I/O manager; handles to other "
                           "objects are not modeled; returned STATUS_NOT_SUPPORTED",
                           api, Object);
        return fltsim__fail(STATUS_NOT_SUPPORTED, "%s(%p): only file objects are modeled", api,
                            Object);
    }
    if (ObjectType != NULL && ObjectType != *IoFileObjectType)
        return fltsim__fail(STATUS_OBJECT_TYPE_MISMATCH, "%s(%p): a file object, not a %s", api,
                            Object, ObjectType->name);
    if (HandleAttributes & OBJ_EXCLUSIVE)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: OBJ_EXCLUSIVE is invalid for file objects", api);
    if (t->sys == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s(%p): no I/O manager serves the code on this thread", api, Object);
    /* With an access state the access is what it holds, granted and still
     * wanted (DesiredAccess is not used). The access check itself always
     * grants: memfs and hostfs keep no security descriptors. */
    ACCESS_MASK access = DesiredAccess;
    if (PassedAccessState != NULL)
        access = PassedAccessState->PreviouslyGrantedAccess |
                 PassedAccessState->RemainingDesiredAccess;
    /* A handle of the calling process unless OBJ_KERNEL_HANDLE; from user
     * mode the handle is never a kernel handle. */
    BOOLEAN kernel = (HandleAttributes & OBJ_KERNEL_HANDLE) && AccessMode == KernelMode;
    NTSTATUS status = io->open_handle(t->sys, Object, access, kernel, Handle);
    if (!NT_SUCCESS(status))
        return fltsim__fail(status, "%s(%p): 0x%08x", api, Object, (unsigned)status);
    return STATUS_SUCCESS;
}

/* Whether object is one of a volume's device objects (FltGetDeviceObject,
 * FltGetDiskDeviceObject): they live as long as the volume, so a reference
 * on them is not counted. The Type is read first: any object has one. */
static bool is_volume_device(PVOID object)
{
    PDEVICE_OBJECT device = object;
    return object != NULL && device->Type == 3 /* IO_TYPE_DEVICE */ &&
           fltsim__volume_of_device(device) != NULL;
}

LONG_PTR ObfReferenceObject(PVOID Object)
{
    if (is_volume_device(Object))
        return 1;
    LONG_PTR section = fltsim__section_object_ref(Object, 1);
    if (section >= 0)
        return section;
    LONG_PTR device = fltsim__device_ob_ref(Object, 1);
    if (device >= 0)
        return device;
    const struct fltsim_io_services *io = file_services(Object);
    LONG_PTR count;
    if (io == NULL && Object != NULL && fltsim__ps_reference(Object, 1, &count))
        return count;
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
    if (is_volume_device(Object))
        return 1;
    LONG_PTR section = fltsim__section_object_ref(Object, -1);
    if (section >= 0)
        return section;
    LONG_PTR device = fltsim__device_ob_ref(Object, -1);
    if (device >= 0)
        return device;
    const struct fltsim_io_services *io = file_services(Object);
    LONG_PTR count;
    if (io == NULL && Object != NULL && fltsim__ps_reference(Object, -1, &count))
        return count;
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
