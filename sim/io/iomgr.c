/*
 * The simulated I/O manager behind the test I/O API (fltsim/io.h), its core:
 * the I/O manager object, which hangs off the system through
 * fltsim_system_set_io_manager, the start every request on a handle shares
 * (lookup and granted-access check), and the lifetime of file objects (the
 * cleanup and close their last handle and reference send). Dispatching a request
 * is inline in io_internal.h; the handle table is handle.c's, and the
 * operations live in create.c, read_write.c, information.c and control.c. It
 * reaches the filter stack only through fltsim_request_dispatch, and a
 * driver's own device objects through fltsim_device_dispatch.
 */
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"

static void iomgr_shutdown(void *state);

struct iomgr *fltsim__iomgr_get(fltsim_system *sys)
{
    struct iomgr *io = fltsim_system_io_manager(sys);
    if (io != NULL)
        return io;
    io = calloc(1, sizeof(*io));
    if (io == NULL)
        return NULL;
    if (uv_mutex_init(&io->lock) != 0) {
        free(io);
        return NULL;
    }
    io->sys = sys;
    /* Registered at program start already; naming it here also links it. */
    fltsim_set_io_services(fltsim__kernel_io_services());
    if (!NT_SUCCESS(fltsim_system_set_io_manager(sys, io, iomgr_shutdown))) {
        /* Another thread attached one first. */
        uv_mutex_destroy(&io->lock);
        free(io);
        io = fltsim_system_io_manager(sys);
    }
    return io;
}

static void iomgr_shutdown(void *state)
{
    struct iomgr *io = state;
    fltsim__handle_close_all(io);
    uv_mutex_destroy(&io->lock);
    free(io);
}

/* ---- requests ---- */

NTSTATUS fltsim__io_begin_granted(fltsim_system *sys, HANDLE handle, ACCESS_MASK needed,
                                  ULONG flags, struct io_file **out, ACCESS_MASK *granted_out)
{
    *out = NULL;
    struct iomgr *io = sys != NULL ? fltsim_system_io_manager(sys) : NULL;
    if (io == NULL)
        return STATUS_INVALID_HANDLE;
    /* A user-mode requestor cannot use a kernel handle. */
    if (!(flags & FLTSIM_IO_KERNEL_MODE) && fltsim__is_kernel_handle(handle))
        return STATUS_INVALID_HANDLE;
    ACCESS_MASK granted = 0;
    struct io_file *file = fltsim__file_from_handle(io, handle, &granted);
    if (file == NULL)
        return STATUS_INVALID_HANDLE;
    /* Kernel-mode callers skip the granted-access check, as with
     * ObReferenceObjectByHandle(KernelMode). */
    if (needed != 0 && !(flags & FLTSIM_IO_KERNEL_MODE) && (granted & needed) == 0) {
        fltsim__file_unref(file);
        return STATUS_ACCESS_DENIED;
    }
    *out = file;
    if (granted_out != NULL)
        *granted_out = granted;
    return STATUS_SUCCESS;
}

/* ---- file objects ---- */

void fltsim__file_free(struct io_file *file)
{
    if (file->device != NULL)
        fltsim_device_file_object_closed(file->device);
    else
        fltsim_volume_file_object_closed(file->volume, &file->fo);
    free(file->below);
    if (file->fo.FileName.Buffer != NULL)
        ExFreePool(file->fo.FileName.Buffer);
    free(file);
}

void fltsim__file_destroy(struct io_file *file)
{
    if (file->fo.Flags & FO_FILE_OPEN) {
        struct fltsim_request req;
        memset(&req, 0, sizeof(req));
        req.kind = FLTSIM_OP_IRP;
        req.major = IRP_MJ_CLOSE;
        req.irp_flags = IRP_CLOSE_OPERATION | IRP_SYNCHRONOUS_API;
        fltsim__io_dispatch(file, &req, FLTSIM_IO_KERNEL_MODE, NULL);
    }
    fltsim__file_free(file);
}

void fltsim__file_handle_closed(struct io_file *file)
{
    if (__atomic_sub_fetch(&file->handles, 1, __ATOMIC_SEQ_CST) == 0) {
        struct fltsim_request req;
        memset(&req, 0, sizeof(req));
        req.kind = FLTSIM_OP_IRP;
        req.major = IRP_MJ_CLEANUP;
        req.irp_flags = IRP_CLOSE_OPERATION | IRP_SYNCHRONOUS_API;
        fltsim__io_dispatch(file, &req, FLTSIM_IO_KERNEL_MODE, NULL);
    }
    fltsim__file_unref(file);
}
