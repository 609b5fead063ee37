/*
 * Read and write through the simulated I/O manager: the parameter, offset and
 * alignment checks of NtReadFile and NtWriteFile, the choice between fast I/O
 * and the IRP (SPEC 1.3), the MDL that describes the buffer of paging and
 * non-cached requests, and overlapped requests, which complete later through
 * the caller's event and callback and can be cancelled while in flight
 * (fltsim_io_cancel, fltsim_io_cancel_thread). This is the path the io_read benchmark
 * measures; the handle lookup and dispatch it uses are iomgr.c's and
 * io_internal.h's.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"

/* ---- the MDL of a request ---- */

NTSTATUS fltsim__io_lock_buffer(void *buffer, ULONG length, LOCK_OPERATION operation,
                                KPROCESSOR_MODE mode, PMDL *out)
{
    *out = NULL;
    if (length == 0)
        return STATUS_SUCCESS; /* nothing to describe: no MDL, as on Windows */
    PMDL mdl = IoAllocateMdl(buffer, length, FALSE, FALSE, NULL);
    if (mdl == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    NTSTATUS status = STATUS_SUCCESS;
    __try {
        MmProbeAndLockPages(mdl, mode, operation);
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        status = GetExceptionCode();
    }
    if (!NT_SUCCESS(status)) {
        IoFreeMdl(mdl);
        return status;
    }
    *out = mdl;
    return STATUS_SUCCESS;
}

void fltsim__io_unlock_buffer(PMDL mdl)
{
    if (mdl == NULL)
        return;
    MmUnlockPages(mdl); /* and the system mapping a filter or the file system made */
    IoFreeMdl(mdl);
}

/* ---- read and write ---- */

/* Read and Write share their layout; fills whichever the request is. */
static void set_read_write(struct fltsim_request *req, bool write, ULONG length,
                           LARGE_INTEGER where, void *buffer)
{
    if (write) {
        req->parameters.Write.Length = length;
        req->parameters.Write.ByteOffset = where;
        req->parameters.Write.WriteBuffer = buffer;
    } else {
        req->parameters.Read.Length = length;
        req->parameters.Read.ByteOffset = where;
        req->parameters.Read.ReadBuffer = buffer;
    }
}

_Static_assert(offsetof(FLT_PARAMETERS, Read.MdlAddress) ==
                       offsetof(FLT_PARAMETERS, Write.MdlAddress) &&
                   offsetof(FLT_PARAMETERS, Read.ReadBuffer) ==
                       offsetof(FLT_PARAMETERS, Write.WriteBuffer) &&
                   offsetof(FLT_PARAMETERS, Read.Length) == offsetof(FLT_PARAMETERS, Write.Length),
               "Read and Write share their layout");

/* An overlapped request in flight: the request outlives the call. */
struct async_io {
    struct fltsim_request req; /* req.file_object: the io_file's, a reference held */
    PMDL mdl;                  /* the buffer's, released at completion; or NULL */
    struct fltsim_io_async *user;
    fltsim_system *sys; /* compared, never followed */
    LIST_ENTRY link;    /* async_ios, until it finishes (a cancel finds it there) */
    PETHREAD thread;    /* the issuing thread (its end cancels it) */
};

/* The overlapped requests in flight, of every system: a cancel looks for
 * them here. Process-wide rather than the I/O manager's, which a system's
 * shutdown frees before the device IRPs it cancels last complete. */
static uv_once_t async_once = UV_ONCE_INIT;
static uv_mutex_t async_lock; /* async_ios; taken for nothing else */
static LIST_ENTRY async_ios;

static void async_init(void)
{
    if (uv_mutex_init(&async_lock) != 0)
        abort();
    InitializeListHead(&async_ios);
}

static void async_link(struct async_io *a)
{
    uv_once(&async_once, async_init);
    uv_mutex_lock(&async_lock);
    InsertTailList(&async_ios, &a->link);
    uv_mutex_unlock(&async_lock);
}

static void async_unlink(struct async_io *a)
{
    uv_mutex_lock(&async_lock);
    RemoveEntryList(&a->link);
    uv_mutex_unlock(&async_lock);
}

/* The file the request was issued on (its FILE_OBJECT is the io_file's first
 * member); not a field of its own, which would take struct async_io past a
 * malloc size class. */
static struct io_file *async_file(const struct async_io *a)
{
    return (struct io_file *)a->req.file_object;
}

/* The I/O manager's completion for an overlapped request: the caller's
 * result, callback and event, at PASSIVE_LEVEL. */
static void async_finish(void *ctx)
{
    struct async_io *a = ctx;
    struct fltsim_io_async *user = a->user;
    PKEVENT event = user->event;
    async_unlink(a);
    user->iosb = a->req.io_status;
    fltsim__io_unlock_buffer(a->mdl);
    fltsim__file_unref(async_file(a));
    free(a);
    if (user->callback != NULL)
        user->callback(user, user->ctx);
    if (event != NULL)
        KeSetEvent(event, IO_NO_INCREMENT, FALSE);
}

/* complete_cb: called where the operation completed, possibly a DPC. */
static void async_completed(struct fltsim_request *req, void *ctx)
{
    struct async_io *a = ctx;
    (void)req;
    if (KeGetCurrentIrql() < DISPATCH_LEVEL) {
        async_finish(a);
        return;
    }
    fltsim_system *sys = fltsim__file_system(async_file(a));
    if (!NT_SUCCESS(fltsim_system_post_work(sys, async_finish, a))) {
        fprintf(stderr, "fltsim: out of memory completing an overlapped request; completed at "
                        "DISPATCH_LEVEL instead\n");
        async_finish(a);
    }
}

/* Sends an overlapped IRP: STATUS_PENDING or its final status. Takes the
 * file reference and the MDL. */
static NTSTATUS dispatch_async(struct io_file *file, PMDL mdl, const struct fltsim_request *proto,
                               ULONG flags, struct fltsim_io_async *user)
{
    struct async_io *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        fltsim__set_iosb(&user->iosb, STATUS_INSUFFICIENT_RESOURCES, 0);
        fltsim__io_unlock_buffer(mdl);
        fltsim__file_unref(file);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    a->req = *proto;
    a->req.file_object = &file->fo;
    a->req.requestor_mode = (flags & FLTSIM_IO_KERNEL_MODE) ? KernelMode : UserMode;
    a->req.complete_cb = async_completed;
    a->req.complete_ctx = a;
    a->mdl = mdl;
    a->user = user;
    a->sys = fltsim__file_system(file);
    a->thread = fltsim_thread_current();
    async_link(a);
    NTSTATUS status = fltsim__io_send(file, &a->req);
    if (status == STATUS_PENDING)
        return STATUS_PENDING; /* async_completed finishes it (a may be gone already) */
    async_unlink(a);
    /* Done already: the caller gets the status, and its event (set by the
     * caller of this function); no completion callback. */
    if (a->req.op_id == 0)
        fltsim__set_iosb(&user->iosb, status, 0);
    else
        user->iosb = a->req.io_status;
    fltsim__io_unlock_buffer(mdl);
    fltsim__file_unref(file);
    free(a);
    return status;
}

/* Sends a paging or non-cached request (req), giving it the MDL of its
 * buffer. Paging I/O comes with the MDL of the pages Mm locked. Non-cached
 * I/O gets the one a Windows file system makes when it locks the user buffer
 * for the transfer (NTFS and FAT take neither buffered nor direct I/O):
 * fltsim's I/O manager makes it up front, so pres see it too. A buffer that
 * cannot be locked fails before any IRP. Takes the file reference. */
static NTSTATUS dispatch_with_mdl(struct io_file *file, struct fltsim_request *req, bool write,
                                  ULONG flags, IO_STATUS_BLOCK *iosb, struct fltsim_io_async *async)
{
    bool paging = flags & FLTSIM_IO_PAGING;
    KPROCESSOR_MODE mode = paging || (flags & FLTSIM_IO_KERNEL_MODE) ? KernelMode : UserMode;
    PMDL mdl;
    NTSTATUS status =
        fltsim__io_lock_buffer(req->parameters.Read.ReadBuffer, req->parameters.Read.Length,
                               write ? IoReadAccess : IoWriteAccess, mode, &mdl);
    if (!NT_SUCCESS(status)) {
        fltsim__file_unref(file);
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    req->parameters.Read.MdlAddress = mdl; /* the same member as Write's */
    if (async != NULL && !(file->fo.Flags & FO_SYNCHRONOUS_IO))
        return dispatch_async(file, mdl, req, flags, async); /* takes the reference and MDL */
    status = fltsim__io_dispatch(file, req, flags, iosb);
    fltsim__io_unlock_buffer(mdl);
    fltsim__file_unref(file);
    return status;
}

static NTSTATUS read_write(fltsim_system *sys, HANDLE handle, bool write, void *buffer,
                           ULONG length, const LONGLONG *offset, ULONG flags, IO_STATUS_BLOCK *iosb,
                           struct fltsim_io_async *async)
{
    const ULONG known = FLTSIM_IO_NONCACHED | FLTSIM_IO_PAGING | FLTSIM_IO_SYNC_PAGING |
                        FLTSIM_IO_FAST | FLTSIM_IO_FAST_ONLY | FLTSIM_IO_KERNEL_MODE;
    /* Fast I/O is cached I/O: never paging or non-cached, never overlapped. */
    const ULONG not_fast = FLTSIM_IO_NONCACHED | FLTSIM_IO_PAGING | FLTSIM_IO_SYNC_PAGING;
    if ((flags & ~known) || ((flags & FLTSIM_IO_SYNC_PAGING) && !(flags & FLTSIM_IO_PAGING)) ||
        ((flags & FLTSIM_IO_FAST_ONLY) && ((flags & not_fast) || async != NULL)) ||
        (buffer == NULL && length != 0)) {
        fltsim__set_iosb(iosb, STATUS_INVALID_PARAMETER, 0);
        return STATUS_INVALID_PARAMETER;
    }
    bool paging = flags & FLTSIM_IO_PAGING;
    ACCESS_MASK needed =
        paging ? 0 : (write ? (FILE_WRITE_DATA | FILE_APPEND_DATA) : FILE_READ_DATA);
    struct io_file *file;
    NTSTATUS status = fltsim__io_begin(sys, handle, needed,
                                       paging ? flags | FLTSIM_IO_KERNEL_MODE : flags, &file);
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    PFILE_OBJECT fo = &file->fo;

    LARGE_INTEGER where;
    bool sync = fo->Flags & FO_SYNCHRONOUS_IO;
    LARGE_INTEGER given = {.QuadPart = offset != NULL ? *offset : 0};
    if (offset == NULL ||
        (given.HighPart == -1 && given.LowPart == FILE_USE_FILE_POINTER_POSITION)) {
        if (!sync) {
            /* An asynchronous file object needs an explicit offset. */
            fltsim__file_unref(file);
            fltsim__set_iosb(iosb, STATUS_INVALID_PARAMETER, 0);
            return STATUS_INVALID_PARAMETER;
        }
        where = fo->CurrentByteOffset;
    } else {
        where.QuadPart = *offset;
        if (where.QuadPart < 0 &&
            !(write && where.HighPart == -1 && where.LowPart == FILE_WRITE_TO_END_OF_FILE)) {
            fltsim__file_unref(file);
            fltsim__set_iosb(iosb, STATUS_INVALID_PARAMETER, 0);
            return STATUS_INVALID_PARAMETER;
        }
    }
    bool nocache =
        paging || (flags & FLTSIM_IO_NONCACHED) || (fo->Flags & FO_NO_INTERMEDIATE_BUFFERING);
    /* The I/O manager rejects unaligned I/O on no-buffering handles itself. */
    if ((fo->Flags & FO_NO_INTERMEDIATE_BUFFERING) && !paging &&
        ((where.QuadPart >= 0 && (where.QuadPart % SECTOR_SIZE) != 0) ||
         (length % SECTOR_SIZE) != 0)) {
        fltsim__file_unref(file);
        fltsim__set_iosb(iosb, STATUS_INVALID_PARAMETER, 0);
        return STATUS_INVALID_PARAMETER;
    }

    struct fltsim_request req;
    if (flags & FLTSIM_IO_FAST_ONLY) {
        /* The caller plays the I/O manager's choice: the fast path alone. */
        memset(&req, 0, sizeof(req));
        req.kind = FLTSIM_OP_FAST_IO;
        req.major = write ? IRP_MJ_WRITE : IRP_MJ_READ;
        set_read_write(&req, write, length, where, buffer);
        status = fltsim__io_dispatch(file, &req, flags, iosb);
        fltsim__file_unref(file);
        return status;
    }
    /* Fast I/O first for cached I/O on synchronous file objects (SPEC 1.3);
     * a device's file object has no cache map, so the I/O manager sends it
     * the IRP. */
    if ((flags & FLTSIM_IO_FAST) && !nocache && sync && file->device == NULL) {
        memset(&req, 0, sizeof(req));
        req.kind = FLTSIM_OP_FAST_IO;
        req.major = write ? IRP_MJ_WRITE : IRP_MJ_READ;
        set_read_write(&req, write, length, where, buffer);
        status = fltsim__io_dispatch(file, &req, flags, iosb);
        if (status != STATUS_FLT_DISALLOW_FAST_IO) {
            fltsim__file_unref(file);
            return status;
        }
        /* Refused by a filter or the file system: the I/O manager sends an IRP. */
    }

    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = write ? IRP_MJ_WRITE : IRP_MJ_READ;
    req.irp_flags = write ? IRP_WRITE_OPERATION : IRP_READ_OPERATION;
    if (nocache)
        req.irp_flags |= IRP_NOCACHE;
    if (paging)
        req.irp_flags |= IRP_PAGING_IO;
    if (flags & FLTSIM_IO_SYNC_PAGING)
        req.irp_flags |= IRP_SYNCHRONOUS_PAGING_IO;
    if (sync && !paging)
        req.irp_flags |= IRP_SYNCHRONOUS_API;
    if (fo->Flags & FO_WRITE_THROUGH)
        req.operation_flags |= write ? SL_WRITE_THROUGH : 0;
    set_read_write(&req, write, length, where, buffer);
    if (nocache) /* paging and non-cached requests carry an MDL */
        return dispatch_with_mdl(file, &req, write, flags, iosb, async);
    if (async != NULL && !sync)
        return dispatch_async(file, NULL, &req, flags, async); /* takes the file reference */
    status = fltsim__io_dispatch(file, &req, flags, iosb);
    fltsim__file_unref(file);
    return status;
}

/* The overlapped variants: synchronous file objects wait as usual. */
static NTSTATUS read_write_async(fltsim_system *sys, HANDLE handle, bool write, void *buffer,
                                 ULONG length, LONGLONG offset, ULONG flags,
                                 struct fltsim_io_async *async)
{
    if (async == NULL)
        return STATUS_INVALID_PARAMETER;
    memset(&async->iosb, 0, sizeof(async->iosb));
    NTSTATUS status =
        read_write(sys, handle, write, buffer, length, &offset, flags, &async->iosb, async);
    if (status != STATUS_PENDING && async->event != NULL)
        KeSetEvent(async->event, IO_NO_INCREMENT, FALSE);
    return status;
}

NTSTATUS fltsim_io_read(fltsim_system *sys, HANDLE handle, void *buffer, ULONG length,
                        const LONGLONG *offset, ULONG flags, IO_STATUS_BLOCK *iosb)
{
    return read_write(sys, handle, false, buffer, length, offset, flags, iosb, NULL);
}

NTSTATUS fltsim_io_read_async(fltsim_system *sys, HANDLE handle, void *buffer, ULONG length,
                              LONGLONG offset, ULONG flags, struct fltsim_io_async *async)
{
    return read_write_async(sys, handle, false, buffer, length, offset, flags, async);
}

NTSTATUS fltsim_io_write(fltsim_system *sys, HANDLE handle, const void *buffer, ULONG length,
                         const LONGLONG *offset, ULONG flags, IO_STATUS_BLOCK *iosb)
{
    /* The file system reads the buffer only; the cast follows the WDK's PVOID. */
    void *data;
    memcpy(&data, &buffer, sizeof(data));
    return read_write(sys, handle, true, data, length, offset, flags, iosb, NULL);
}

NTSTATUS fltsim_io_write_async(fltsim_system *sys, HANDLE handle, const void *buffer, ULONG length,
                               LONGLONG offset, ULONG flags, struct fltsim_io_async *async)
{
    void *data;
    memcpy(&data, &buffer, sizeof(data));
    return read_write_async(sys, handle, true, data, length, offset, flags, async);
}

/* ---- cancelling overlapped requests ---- */

/* Cancels the overlapped requests in flight that match (file NULL: any;
 * user NULL: any; thread NULL: any). STATUS_SUCCESS when one was still in
 * flight, else STATUS_NOT_FOUND. The ids are taken under the lock and
 * cancelled after it (a cancel routine may complete the request, whose
 * finish takes the lock); an id names one operation only, so a request
 * finished meanwhile is simply not found. */
static NTSTATUS cancel_matching(fltsim_system *sys, const struct io_file *file,
                                const struct fltsim_io_async *user, PETHREAD thread)
{
    ULONG count = 0, capacity = 0;
    struct pick {
        PFLT_VOLUME volume;
        ULONG64 op_id;
    } *picks = NULL;
    bool found = false;
    uv_once(&async_once, async_init);
    uv_mutex_lock(&async_lock);
    for (PLIST_ENTRY e = async_ios.Flink; e != &async_ios; e = e->Flink) {
        struct async_io *a = CONTAINING_RECORD(e, struct async_io, link);
        if (a->sys != sys || (file != NULL && a->req.file_object != &file->fo) ||
            (user != NULL && a->user != user) || (thread != NULL && a->thread != thread))
            continue;
        ULONG64 id = __atomic_load_n(&a->req.op_id, __ATOMIC_SEQ_CST);
        const struct io_file *f = async_file(a);
        if (id == 0 || f->volume == NULL) {
            /* Still on its way into the stack on another thread, or sent to
             * a driver's device object: found, not cancelled (fltsim cancels
             * what a volume's filters hold). */
            found = true;
            continue;
        }
        if (count == capacity) {
            ULONG grown = capacity != 0 ? capacity * 2 : 8;
            struct pick *more = realloc(picks, grown * sizeof(*picks));
            if (more == NULL)
                break; /* out of memory: cancels those it has */
            picks = more;
            capacity = grown;
        }
        picks[count].volume = f->volume;
        picks[count].op_id = id;
        count++;
    }
    uv_mutex_unlock(&async_lock);
    /* The volumes stay: a volume is dismounted only once no operation is in
     * flight on it, and these were a moment ago (a dismount waits for them). */
    for (ULONG k = 0; k < count; k++)
        if (fltsim_request_cancel(picks[k].volume, picks[k].op_id) == STATUS_SUCCESS)
            found = true;
    free(picks);
    return found ? STATUS_SUCCESS : STATUS_NOT_FOUND;
}

NTSTATUS fltsim_io_cancel(fltsim_system *sys, HANDLE handle, const struct fltsim_io_async *async)
{
    struct io_file *file;
    NTSTATUS status = fltsim__io_begin(sys, handle, 0, 0, &file);
    if (!NT_SUCCESS(status))
        return status;
    status = cancel_matching(sys, file, async, NULL);
    fltsim__file_unref(file);
    return status;
}

NTSTATUS fltsim_io_cancel_thread(fltsim_system *sys, PETHREAD thread)
{
    if (sys == NULL || thread == NULL)
        return STATUS_INVALID_PARAMETER;
    return cancel_matching(sys, NULL, NULL, thread);
}
