/*
 * The I/O manager's services to kernel code in the model (struct
 * fltsim_io_services, fltsim/model.h): opens for FltCreateFile and the Zw
 * routines (kernel handles in the System process's table, file objects a
 * filter opened below its instance), closing handles, handles to referenced
 * file objects for ObReferenceObjectByHandle, new handles to file objects
 * for ObOpenObjectByPointer, references on file objects, and
 * requests on a file object. The table is registered with the model when the
 * program starts, so a filter may open files before any application did.
 */
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"

const char fltsim__io_file_marker = 'F';

/* The io_file of a file object this I/O manager opened (FILE_OBJECT first). */
static struct io_file *file_of(PFILE_OBJECT fo)
{
    return (struct io_file *)fo;
}

static NTSTATUS kernel_create(fltsim_system *sys, const struct fltsim_kernel_create *k,
                              HANDLE *handle, PFILE_OBJECT *file_object, IO_STATUS_BLOCK *iosb)
{
    *handle = NULL;
    if (file_object != NULL)
        *file_object = NULL;
    PCUNICODE_STRING name = k->name;
    if (name == NULL || (name->Length & 1) != 0 || (name->Length != 0 && name->Buffer == NULL) ||
        name->Length > name->MaximumLength)
        return STATUS_OBJECT_NAME_INVALID;
    /* The counted name as the NUL-terminated path the I/O manager parses. */
    size_t n = name->Length / sizeof(WCHAR);
    WCHAR *path = malloc((n + 1) * sizeof(WCHAR));
    if (path == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(path, name->Buffer, n * sizeof(WCHAR));
    path[n] = 0;

    struct fltsim_create_params p;
    memset(&p, 0, sizeof(p));
    p.path = path;
    p.root_directory = k->root_directory;
    p.desired_access = k->desired_access;
    p.file_attributes = k->file_attributes;
    p.share_access = k->share_access;
    p.disposition = k->disposition;
    p.create_options = k->create_options;
    p.allocation_size = k->allocation_size;
    p.flags = FLTSIM_IO_KERNEL_MODE;
    struct io_file *file = NULL;
    NTSTATUS status = fltsim__create_handle(sys, &p, k, (k->attributes & OBJ_KERNEL_HANDLE) != 0,
                                            handle, file_object != NULL ? &file : NULL, iosb);
    free(path);
    if (NT_SUCCESS(status) && file_object != NULL)
        *file_object = &file->fo;
    return status;
}

static NTSTATUS kernel_close(fltsim_system *sys, HANDLE handle)
{
    struct iomgr *io = fltsim_system_io_manager(sys);
    if (io == NULL)
        return STATUS_INVALID_HANDLE;
    return fltsim__handle_close(io, handle);
}

static NTSTATUS reference_handle(fltsim_system *sys, HANDLE handle, ACCESS_MASK desired,
                                 KPROCESSOR_MODE mode, PFILE_OBJECT *out, ACCESS_MASK *granted)
{
    *out = NULL;
    struct io_file *file;
    NTSTATUS status = fltsim__io_begin_granted(
        sys, handle, desired, mode == KernelMode ? FLTSIM_IO_KERNEL_MODE : 0, &file, granted);
    if (!NT_SUCCESS(status))
        return status;
    *out = &file->fo;
    return STATUS_SUCCESS;
}

static NTSTATUS open_handle(fltsim_system *sys, PFILE_OBJECT fo, ACCESS_MASK access,
                            BOOLEAN kernel_handle, HANDLE *handle)
{
    *handle = NULL;
    struct iomgr *io = fltsim_system_io_manager(sys);
    if (io == NULL)
        return STATUS_INVALID_PARAMETER;
    struct io_file *file = file_of(fo);
    /* One handle more, unless the last one is gone already (its cleanup may
     * be on its way to the file system): a new handle then would have no
     * cleanup of its own. */
    LONG n = __atomic_load_n(&file->handles, __ATOMIC_SEQ_CST);
    do {
        if (n <= 0)
            return STATUS_FILE_CLOSED;
    } while (!__atomic_compare_exchange_n(&file->handles, &n, n + 1, false, __ATOMIC_SEQ_CST,
                                          __ATOMIC_SEQ_CST));
    __atomic_add_fetch(&file->refs, 1, __ATOMIC_SEQ_CST); /* the new handle's */
    NTSTATUS status =
        fltsim__handle_insert(io, file, fltsim__io_map_generic(access), kernel_handle, handle);
    if (!NT_SUCCESS(status))
        fltsim__file_handle_closed(file); /* not the last handle: only the reference goes */
    return status;
}

static BOOLEAN is_file_object(PVOID object)
{
    const FILE_OBJECT *fo = object;
    /* Type and Size first: any object is at least that long. */
    return fo->Type == 5 && fo->Size == (CSHORT)sizeof(FILE_OBJECT) &&
           fo->FileObjectExtension == &fltsim__io_file_marker;
}

static LONG_PTR reference(PFILE_OBJECT fo)
{
    return __atomic_add_fetch(&file_of(fo)->refs, 1, __ATOMIC_SEQ_CST);
}

static LONG_PTR dereference(PFILE_OBJECT fo)
{
    struct io_file *file = file_of(fo);
    LONG left = __atomic_sub_fetch(&file->refs, 1, __ATOMIC_SEQ_CST);
    if (left == 0)
        fltsim__file_destroy(file);
    return left;
}

static BOOLEAN ignores_sharing(PFILE_OBJECT fo)
{
    return file_of(fo)->ignore_sharing;
}

static NTSTATUS file_request(PFILE_OBJECT fo, struct fltsim_request *req)
{
    return fltsim__io_dispatch(file_of(fo), req, FLTSIM_IO_KERNEL_MODE, NULL);
}

static ULONG open_handles_of(fltsim_system *sys, const void *owner)
{
    struct iomgr *io = fltsim_system_io_manager(sys);
    return io != NULL && owner != NULL ? fltsim__handle_count_owned(io, owner) : 0;
}

static const struct fltsim_io_services services = {
    .create = kernel_create,
    .close = kernel_close,
    .reference_handle = reference_handle,
    .open_handle = open_handle,
    .is_file_object = is_file_object,
    .reference = reference,
    .dereference = dereference,
    .ignores_sharing = ignores_sharing,
    .file_request = file_request,
    .open_handles_of = open_handles_of,
};

/* Registered at program start: this file is linked with every program that
 * has the I/O manager (iomgr.c names it, below). */
__attribute__((constructor)) static void register_services(void)
{
    fltsim_set_io_services(&services);
}

const struct fltsim_io_services *fltsim__kernel_io_services(void)
{
    return &services;
}
