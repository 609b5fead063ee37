/*
 * The simulated I/O manager behind the test I/O API (fltsim/io.h): handle
 * tables per simulated process, file objects and their references, the checks
 * the Nt* services make before an IRP exists (parameters, granted access,
 * alignment), generic-rights mapping, and the choice between fast I/O, IRP and
 * FS-filter paths. It reaches the filter stack only through
 * fltsim_request_dispatch; its state hangs off the system through
 * fltsim_system_set_io_manager.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "common/sim_internal.h"
#include "io_internal.h"

#define HANDLE_TABLE_MAX (1u << 20)

/* A short critical section on one stripe (no call out, no wait inside). */
static void stripe_lock(struct iomgr *io, ULONG index)
{
    LONG *l = &io->stripes[index % HANDLE_STRIPES].lock;
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE) != 0)
        for (ULONG k = 0; __atomic_load_n(l, __ATOMIC_RELAXED) != 0; k++)
            if (k >= 64)
                sched_yield();
}

static void stripe_unlock(struct iomgr *io, ULONG index)
{
    __atomic_store_n(&io->stripes[index % HANDLE_STRIPES].lock, 0, __ATOMIC_RELEASE);
}

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
    if (!NT_SUCCESS(fltsim_system_set_io_manager(sys, io, iomgr_shutdown))) {
        /* Another thread attached one first. */
        uv_mutex_destroy(&io->lock);
        free(io);
        io = fltsim_system_io_manager(sys);
    }
    return io;
}

/* ---- handles ---- */

static HANDLE handle_value(ULONG index, ULONG generation)
{
    return (HANDLE)(ULONG_PTR)(((ULONG64)generation << 32) | ((ULONG64)(index + 1) << 2));
}

/* The table index a handle value names (maybe out of range), or false for a
 * value no handle ever has. */
static bool handle_index(HANDLE h, ULONG *index)
{
    ULONG64 v = (ULONG64)(ULONG_PTR)h;
    if ((v & 3) != 0 || (v & 0xffffffffu) == 0)
        return false;
    *index = (ULONG)((v & 0xffffffffu) >> 2) - 1;
    return true;
}

/* The stripe lock of index held. The entry of a handle owned by process_id
 * (the caller's, looked up before the lock), or NULL. */
static struct handle_entry *handle_entry_locked(struct iomgr *io, HANDLE h, ULONG index,
                                                ULONG process_id)
{
    ULONG64 v = (ULONG64)(ULONG_PTR)h;
    ULONG generation = (ULONG)(v >> 32);
    if (index >= __atomic_load_n(&io->count, __ATOMIC_ACQUIRE))
        return NULL;
    struct handle_entry *e = &io->handles[index];
    if (e->file == NULL || e->generation != generation || e->process_id != process_id)
        return NULL;
    return e;
}

NTSTATUS fltsim__handle_insert(struct iomgr *io, struct io_file *file, ACCESS_MASK granted,
                               HANDLE *out)
{
    uv_mutex_lock(&io->lock);
    ULONG index = io->count;
    for (ULONG i = 0; i < io->count; i++)
        if (io->handles[i].file == NULL) {
            index = i;
            break;
        }
    if (index == io->count) {
        if (io->count == io->capacity) {
            ULONG cap = io->capacity ? io->capacity * 2 : 64;
            /* realloc may move the table: no lookup may read it meanwhile. */
            for (ULONG k = 0; k < HANDLE_STRIPES; k++)
                stripe_lock(io, k);
            struct handle_entry *grown =
                cap <= HANDLE_TABLE_MAX ? realloc(io->handles, cap * sizeof(*grown)) : NULL;
            if (grown != NULL) {
                memset(grown + io->capacity, 0, (cap - io->capacity) * sizeof(*grown));
                io->handles = grown;
                io->capacity = cap;
            }
            for (ULONG k = 0; k < HANDLE_STRIPES; k++)
                stripe_unlock(io, k);
            if (grown == NULL) {
                uv_mutex_unlock(&io->lock);
                return STATUS_INSUFFICIENT_RESOURCES;
            }
        }
        /* The entry is free (zero) until it is filled below. */
        __atomic_store_n(&io->count, io->count + 1, __ATOMIC_RELEASE);
    }
    ULONG process_id = fltsim_thread_process_id();
    stripe_lock(io, index);
    struct handle_entry *e = &io->handles[index];
    e->file = file;
    e->granted = granted;
    e->process_id = process_id;
    e->generation++;
    *out = handle_value(index, e->generation);
    stripe_unlock(io, index);
    io->open++;
    uv_mutex_unlock(&io->lock);
    return STATUS_SUCCESS;
}

struct io_file *fltsim__file_from_handle(struct iomgr *io, HANDLE h, ACCESS_MASK *granted)
{
    ULONG index;
    if (!handle_index(h, &index))
        return NULL;
    ULONG process_id = fltsim_thread_process_id();
    stripe_lock(io, index);
    struct handle_entry *e = handle_entry_locked(io, h, index, process_id);
    struct io_file *file = NULL;
    if (e != NULL) {
        file = e->file;
        /* Before the stripe lock goes: a close clears the entry under it
         * before it drops the handle's reference. */
        __atomic_add_fetch(&file->refs, 1, __ATOMIC_SEQ_CST);
        if (granted != NULL)
            *granted = e->granted;
    }
    stripe_unlock(io, index);
    return file;
}

/* ---- requests ---- */

void fltsim__file_free(struct io_file *file)
{
    fltsim_volume_file_object_closed(file->volume, &file->fo);
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

/* ---- names ---- */

static bool is_sep(WCHAR c)
{
    return c == L'\\';
}

/* Resolves a path to a volume and the name relative to its root. A bare
 * volume name yields an empty remainder (a volume open). */
static NTSTATUS resolve_path(fltsim_system *sys, PCWSTR path, PFLT_VOLUME *volume,
                             PCWSTR *remainder)
{
    size_t len = fltsim_wcslen(path);
    const WCHAR *p = path;
    if (len >= 4 && p[0] == L'\\' && p[1] == L'?' && p[2] == L'?' && p[3] == L'\\') {
        p += 4;
        len -= 4;
    }
    if (len >= 2 && p[1] == L':' &&
        ((p[0] >= L'A' && p[0] <= L'Z') || (p[0] >= L'a' && p[0] <= L'z'))) {
        WCHAR drive[3] = {p[0], L':', 0};
        *volume = fltsim_volume_find(sys, drive);
        if (*volume == NULL)
            return STATUS_OBJECT_PATH_NOT_FOUND;
        *remainder = p + 2;
        return (len > 2 && !is_sep(p[2])) ? STATUS_OBJECT_PATH_SYNTAX_BAD : STATUS_SUCCESS;
    }
    if (len == 0 || !is_sep(p[0]))
        return STATUS_OBJECT_PATH_SYNTAX_BAD;
    /* \Device\Name\rest: the device name is the first two components. */
    size_t seps = 0, cut = len;
    for (size_t i = 0; i < len; i++) {
        if (is_sep(p[i]) && ++seps == 3) {
            cut = i;
            break;
        }
    }
    WCHAR device[256];
    if (cut >= sizeof(device) / sizeof(device[0]))
        return STATUS_OBJECT_PATH_NOT_FOUND;
    memcpy(device, p, cut * sizeof(WCHAR));
    device[cut] = 0;
    *volume = fltsim_volume_find(sys, device);
    if (*volume == NULL)
        return STATUS_OBJECT_PATH_NOT_FOUND;
    *remainder = p + cut;
    return STATUS_SUCCESS;
}

/* The I/O manager maps generic rights before the file system sees them. */
static ACCESS_MASK map_generic(ACCESS_MASK a)
{
    ACCESS_MASK m = a & ~(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL);
    if (a & GENERIC_READ)
        m |= FILE_GENERIC_READ;
    if (a & GENERIC_WRITE)
        m |= FILE_GENERIC_WRITE;
    if (a & GENERIC_EXECUTE)
        m |= FILE_GENERIC_EXECUTE;
    if (a & GENERIC_ALL)
        m |= FILE_ALL_ACCESS;
    if (a & MAXIMUM_ALLOWED)
        m = (m & ~(ACCESS_MASK)MAXIMUM_ALLOWED) | FILE_ALL_ACCESS; /* memfs has no ACLs */
    return m;
}

/* ---- create ---- */

static NTSTATUS check_create(const struct fltsim_create_params *p, ACCESS_MASK mapped)
{
    ULONG o = p->create_options;
    if (p->disposition > FILE_MAXIMUM_DISPOSITION || (o & ~(ULONG)FILE_VALID_OPTION_FLAGS) ||
        (p->share_access & ~(ULONG)FILE_SHARE_VALID_FLAGS) ||
        (p->file_attributes & ~(ULONG)FILE_ATTRIBUTE_VALID_FLAGS))
        return STATUS_INVALID_PARAMETER;
    bool alert = o & FILE_SYNCHRONOUS_IO_ALERT, nonalert = o & FILE_SYNCHRONOUS_IO_NONALERT;
    if ((alert && nonalert) || ((alert || nonalert) && !(mapped & SYNCHRONIZE)))
        return STATUS_INVALID_PARAMETER;
    if ((o & FILE_DIRECTORY_FILE) && (o & FILE_NON_DIRECTORY_FILE))
        return STATUS_INVALID_PARAMETER;
    if ((o & FILE_DIRECTORY_FILE) && p->disposition != FILE_CREATE && p->disposition != FILE_OPEN &&
        p->disposition != FILE_OPEN_IF)
        return STATUS_INVALID_PARAMETER;
    if ((o & FILE_DELETE_ON_CLOSE) && !(mapped & DELETE))
        return STATUS_INVALID_PARAMETER;
    if ((o & FILE_NO_INTERMEDIATE_BUFFERING) && (mapped & FILE_APPEND_DATA))
        return STATUS_INVALID_PARAMETER;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__create_file(fltsim_system *sys, const struct fltsim_create_params *p,
                             struct io_file **out, IO_STATUS_BLOCK *iosb)
{
    *out = NULL;
    struct iomgr *io = fltsim__iomgr_get(sys);
    if (io == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (p == NULL || p->path == NULL)
        return STATUS_INVALID_PARAMETER;
    ACCESS_MASK mapped = map_generic(p->desired_access);
    NTSTATUS status = check_create(p, mapped);
    if (!NT_SUCCESS(status))
        return status;

    PFLT_VOLUME volume = NULL;
    PCWSTR name = NULL;
    struct io_file *related = NULL;
    if (p->root_directory != NULL) {
        related = fltsim__file_from_handle(io, p->root_directory, NULL);
        if (related == NULL)
            return STATUS_INVALID_HANDLE;
        if (p->path[0] == L'\\') {
            fltsim__file_unref(related);
            return STATUS_OBJECT_PATH_SYNTAX_BAD;
        }
        volume = related->volume;
        name = p->path;
    } else {
        status = resolve_path(sys, p->path, &volume, &name);
        if (!NT_SUCCESS(status))
            return status;
    }

    size_t nlen = fltsim_wcslen(name);
    if (nlen > UNICODE_STRING_MAX_CHARS) {
        if (related != NULL)
            fltsim__file_unref(related);
        return STATUS_OBJECT_NAME_INVALID;
    }
    struct io_file *file = calloc(1, sizeof(*file) + (nlen + 1) * sizeof(WCHAR));
    if (file == NULL) {
        if (related != NULL)
            fltsim__file_unref(related);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    file->refs = 1;
    file->volume = volume;
    memcpy(file->name, name, nlen * sizeof(WCHAR));
    PFILE_OBJECT fo = &file->fo;
    fo->Type = 5; /* IO_TYPE_FILE */
    fo->Size = (CSHORT)sizeof(*fo);
    fo->FileName.Buffer = file->name;
    fo->FileName.Length = (USHORT)(nlen * sizeof(WCHAR));
    fo->FileName.MaximumLength = (USHORT)((nlen + 1) * sizeof(WCHAR));
    fo->RelatedFileObject = related != NULL ? &related->fo : NULL;
    ULONG o = p->create_options;
    if (o & (FILE_SYNCHRONOUS_IO_ALERT | FILE_SYNCHRONOUS_IO_NONALERT))
        fo->Flags |= FO_SYNCHRONOUS_IO;
    if (o & FILE_SYNCHRONOUS_IO_ALERT)
        fo->Flags |= FO_ALERTABLE_IO;
    if (o & FILE_NO_INTERMEDIATE_BUFFERING)
        fo->Flags |= FO_NO_INTERMEDIATE_BUFFERING;
    if (o & FILE_WRITE_THROUGH)
        fo->Flags |= FO_WRITE_THROUGH;
    if (o & FILE_SEQUENTIAL_ONLY)
        fo->Flags |= FO_SEQUENTIAL_ONLY;
    if (o & FILE_RANDOM_ACCESS)
        fo->Flags |= FO_RANDOM_ACCESS;
    if (related == NULL && nlen == 0)
        fo->Flags |= FO_VOLUME_OPEN;
    fltsim_volume_file_object_opened(volume, fo);

    file->access_state.OriginalDesiredAccess = p->desired_access;
    file->access_state.RemainingDesiredAccess = mapped;
    file->security.AccessState = &file->access_state;
    file->security.DesiredAccess = mapped;
    file->security.FullCreateOptions = o;

    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = IRP_MJ_CREATE;
    req.operation_flags = p->operation_flags;
    req.irp_flags = IRP_CREATE_OPERATION | IRP_SYNCHRONOUS_API | IRP_DEFER_IO_COMPLETION;
    req.parameters.Create.SecurityContext = &file->security;
    req.parameters.Create.Options = (p->disposition << 24) | (o & FILE_VALID_OPTION_FLAGS);
    req.parameters.Create.FileAttributes = (USHORT)p->file_attributes;
    req.parameters.Create.ShareAccess = (USHORT)p->share_access;
    req.parameters.Create.AllocationSize.QuadPart = p->allocation_size;
    status = fltsim__io_dispatch(file, &req, p->flags, iosb);
    if ((fo->Flags & FO_FILE_OPEN_CANCELLED) && NT_SUCCESS(status)) {
        /* The model fails a cancelled open (SPEC 4.5); never make a handle
         * for one even so. */
        status = STATUS_CANCELLED;
        fltsim__set_iosb(iosb, status, 0);
    }

    if (!NT_SUCCESS(status) || status == STATUS_REPARSE) {
        /* No IRP_MJ_CLOSE: the file system did not open it, or a filter
         * cancelled the open (FltCancelFileOpen already sent the close below
         * it), or, when a filter failed a successful create without
         * FltCancelFileOpen, the open leaks in the file system as on Windows
         * (the verifier reports it). */
        if (related != NULL)
            fltsim__file_unref(related);
        fltsim__file_free(file);
        return status;
    }
    fo->Flags |= FO_FILE_OPEN;
    if (related != NULL) {
        /* RelatedFileObject stays valid only during the create. */
        fo->RelatedFileObject = NULL;
        fltsim__file_unref(related);
    }
    *out = file;
    return status;
}

NTSTATUS fltsim_io_create(fltsim_system *sys, const struct fltsim_create_params *params,
                          HANDLE *handle, IO_STATUS_BLOCK *iosb)
{
    if (sys == NULL || handle == NULL)
        return STATUS_INVALID_PARAMETER;
    *handle = NULL;
    struct io_file *file;
    NTSTATUS status = fltsim__create_file(sys, params, &file, iosb);
    if (file == NULL) {
        if (iosb != NULL && iosb->Status != status)
            fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    ACCESS_MASK granted = map_generic(params->desired_access);
    NTSTATUS hs = fltsim__handle_insert(fltsim__iomgr_get(sys), file, granted, handle);
    if (!NT_SUCCESS(hs)) {
        /* The open succeeded but no handle can be made: clean up and close. */
        file->handles = 1;
        fltsim__file_handle_closed(file);
        fltsim__set_iosb(iosb, hs, 0);
        return hs;
    }
    file->handles = 1;
    file->fo.Flags |= FO_HANDLE_CREATED;
    return status;
}

NTSTATUS fltsim_io_open(fltsim_system *sys, PCWSTR path, ACCESS_MASK access, HANDLE *handle)
{
    struct fltsim_create_params p;
    memset(&p, 0, sizeof(p));
    p.path = path;
    p.desired_access = access | SYNCHRONIZE;
    p.share_access = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
    p.disposition = FILE_OPEN;
    p.create_options = FILE_SYNCHRONOUS_IO_NONALERT;
    return fltsim_io_create(sys, &p, handle, NULL);
}

NTSTATUS fltsim_io_close(fltsim_system *sys, HANDLE handle)
{
    struct iomgr *io = sys != NULL ? fltsim_system_io_manager(sys) : NULL;
    if (io == NULL)
        return STATUS_INVALID_HANDLE;
    ULONG index;
    if (!handle_index(handle, &index))
        return STATUS_INVALID_HANDLE;
    ULONG process_id = fltsim_thread_process_id();
    uv_mutex_lock(&io->lock);
    stripe_lock(io, index);
    struct handle_entry *e = handle_entry_locked(io, handle, index, process_id);
    struct io_file *file = e != NULL ? e->file : NULL;
    if (e != NULL)
        e->file = NULL;
    stripe_unlock(io, index);
    if (e != NULL)
        io->open--;
    uv_mutex_unlock(&io->lock);
    if (file == NULL)
        return STATUS_INVALID_HANDLE;
    fltsim__file_handle_closed(file);
    return STATUS_SUCCESS;
}

ULONG fltsim_io_handle_count(fltsim_system *sys)
{
    struct iomgr *io = sys != NULL ? fltsim_system_io_manager(sys) : NULL;
    if (io == NULL)
        return 0;
    uv_mutex_lock(&io->lock);
    ULONG n = io->open;
    uv_mutex_unlock(&io->lock);
    return n;
}

PFILE_OBJECT fltsim_io_file_object(fltsim_system *sys, HANDLE handle)
{
    struct iomgr *io = sys != NULL ? fltsim_system_io_manager(sys) : NULL;
    if (io == NULL)
        return NULL;
    ULONG index;
    if (!handle_index(handle, &index))
        return NULL;
    ULONG process_id = fltsim_thread_process_id();
    stripe_lock(io, index);
    struct handle_entry *e = handle_entry_locked(io, handle, index, process_id);
    PFILE_OBJECT fo = e != NULL ? &e->file->fo : NULL;
    stripe_unlock(io, index);
    return fo;
}

void fltsim__handle_close_all(struct iomgr *io)
{
    /* Every handle still open is closed, so filters see cleanup and close. */
    for (ULONG i = 0; i < io->count; i++) {
        uv_mutex_lock(&io->lock);
        stripe_lock(io, i);
        struct io_file *file = io->handles[i].file;
        io->handles[i].file = NULL;
        stripe_unlock(io, i);
        if (file != NULL)
            io->open--;
        uv_mutex_unlock(&io->lock);
        if (file != NULL)
            fltsim__file_handle_closed(file);
    }
    free(io->handles);
}

static void iomgr_shutdown(void *state)
{
    struct iomgr *io = state;
    fltsim__handle_close_all(io);
    uv_mutex_destroy(&io->lock);
    free(io);
}

/* ---- read and write ---- */

NTSTATUS fltsim__io_begin_granted(fltsim_system *sys, HANDLE handle, ACCESS_MASK needed,
                                  ULONG flags, struct io_file **out, ACCESS_MASK *granted_out)
{
    *out = NULL;
    struct iomgr *io = sys != NULL ? fltsim_system_io_manager(sys) : NULL;
    if (io == NULL)
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

/* An overlapped request in flight: the request outlives the call. */
struct async_io {
    struct fltsim_request req;
    struct io_file *file; /* reference held */
    struct fltsim_io_async *user;
};

/* The I/O manager's completion for an overlapped request: the caller's
 * result, callback and event, at PASSIVE_LEVEL. */
static void async_finish(void *ctx)
{
    struct async_io *a = ctx;
    struct fltsim_io_async *user = a->user;
    PKEVENT event = user->event;
    user->iosb = a->req.io_status;
    fltsim__file_unref(a->file);
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
    fltsim_system *sys = fltsim_volume_system(a->file->volume);
    if (!NT_SUCCESS(fltsim_system_post_work(sys, async_finish, a))) {
        fprintf(stderr, "fltsim: out of memory completing an overlapped request; completed at "
                        "DISPATCH_LEVEL instead\n");
        async_finish(a);
    }
}

/* Sends an overlapped IRP: STATUS_PENDING or its final status. */
static NTSTATUS dispatch_async(struct io_file *file, const struct fltsim_request *proto,
                               ULONG flags, struct fltsim_io_async *user)
{
    struct async_io *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        fltsim__set_iosb(&user->iosb, STATUS_INSUFFICIENT_RESOURCES, 0);
        fltsim__file_unref(file);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    a->req = *proto;
    a->req.file_object = &file->fo;
    a->req.requestor_mode = (flags & FLTSIM_IO_KERNEL_MODE) ? KernelMode : UserMode;
    a->req.complete_cb = async_completed;
    a->req.complete_ctx = a;
    a->file = file;
    a->user = user;
    NTSTATUS status = fltsim_request_dispatch(file->volume, &a->req);
    if (status == STATUS_PENDING)
        return STATUS_PENDING; /* async_completed finishes it (a may be gone already) */
    /* Done already: the caller gets the status, and its event (set by the
     * caller of this function); no completion callback. */
    if (a->req.op_id == 0)
        fltsim__set_iosb(&user->iosb, status, 0);
    else
        user->iosb = a->req.io_status;
    fltsim__file_unref(file);
    free(a);
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
    /* Fast I/O first for cached I/O on synchronous file objects (SPEC 1.3). */
    if ((flags & FLTSIM_IO_FAST) && !nocache && sync) {
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
    if (async != NULL && !sync)
        return dispatch_async(file, &req, flags, async); /* takes the file reference */
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

/* ---- information ---- */

/* Fixed sizes the I/O manager checks before an IRP exists (0: no check):
 * the whole record, name included, of every class the simulator knows. */
static ULONG info_min_length(FILE_INFORMATION_CLASS c)
{
    return fltsim__file_info_size(c);
}

/* Access each information class needs (NtQuery/SetInformationFile). */
static ACCESS_MASK info_access(FILE_INFORMATION_CLASS c, bool set)
{
    if (!set) {
        switch (c) {
        case FileBasicInformation:
        case FileAllInformation:
        case FileNetworkOpenInformation:
        case FileAttributeTagInformation:
            return FILE_READ_ATTRIBUTES;
        default:
            return 0;
        }
    }
    switch (c) {
    case FileBasicInformation:
        return FILE_WRITE_ATTRIBUTES;
    case FileRenameInformation:
    case FileDispositionInformation:
    case FileDispositionInformationEx:
        return DELETE;
    case FileEndOfFileInformation:
    case FileAllocationInformation:
        return FILE_WRITE_DATA;
    default:
        return 0;
    }
}

static bool valid_info_class(FILE_INFORMATION_CLASS c)
{
    return c >= FileDirectoryInformation && c < FileMaximumInformation;
}

/* Classes the I/O manager answers itself for synchronous file objects. */
static bool query_by_io_manager(struct io_file *file, FILE_INFORMATION_CLASS c, ACCESS_MASK granted,
                                void *buffer, IO_STATUS_BLOCK *iosb, NTSTATUS *status)
{
    PFILE_OBJECT fo = &file->fo;
    switch (c) {
    case FileAccessInformation: {
        FILE_ACCESS_INFORMATION v = {granted};
        memcpy(buffer, &v, sizeof(v));
        fltsim__set_iosb(iosb, STATUS_SUCCESS, sizeof(v));
        break;
    }
    case FileModeInformation: {
        FILE_MODE_INFORMATION v = {0};
        if (fo->Flags & FO_SYNCHRONOUS_IO)
            v.Mode |= (fo->Flags & FO_ALERTABLE_IO) ? FILE_SYNCHRONOUS_IO_ALERT
                                                    : FILE_SYNCHRONOUS_IO_NONALERT;
        if (fo->Flags & FO_NO_INTERMEDIATE_BUFFERING)
            v.Mode |= FILE_NO_INTERMEDIATE_BUFFERING;
        if (fo->Flags & FO_WRITE_THROUGH)
            v.Mode |= FILE_WRITE_THROUGH;
        if (fo->Flags & FO_SEQUENTIAL_ONLY)
            v.Mode |= FILE_SEQUENTIAL_ONLY;
        memcpy(buffer, &v, sizeof(v));
        fltsim__set_iosb(iosb, STATUS_SUCCESS, sizeof(v));
        break;
    }
    case FileAlignmentInformation: {
        FILE_ALIGNMENT_INFORMATION v = {0}; /* FILE_BYTE_ALIGNMENT */
        memcpy(buffer, &v, sizeof(v));
        fltsim__set_iosb(iosb, STATUS_SUCCESS, sizeof(v));
        break;
    }
    case FilePositionInformation:
        if (!(fo->Flags & FO_SYNCHRONOUS_IO))
            return false;
        FILE_POSITION_INFORMATION v = {fo->CurrentByteOffset};
        memcpy(buffer, &v, sizeof(v));
        fltsim__set_iosb(iosb, STATUS_SUCCESS, sizeof(v));
        break;
    default:
        return false;
    }
    *status = STATUS_SUCCESS;
    return true;
}

NTSTATUS fltsim_io_query_information(fltsim_system *sys, HANDLE handle, void *buffer, ULONG length,
                                     FILE_INFORMATION_CLASS info_class, ULONG flags,
                                     IO_STATUS_BLOCK *iosb)
{
    NTSTATUS status;
    if (!valid_info_class(info_class)) {
        status = STATUS_INVALID_INFO_CLASS;
    } else if (length < info_min_length(info_class) || (buffer == NULL && length != 0)) {
        status = STATUS_INFO_LENGTH_MISMATCH;
    } else if ((flags & ~(ULONG)(FLTSIM_IO_FAST | FLTSIM_IO_FAST_ONLY | FLTSIM_IO_KERNEL_MODE)) !=
                   0 ||
               ((flags & FLTSIM_IO_FAST_ONLY) && !fltsim__fast_query_class(info_class))) {
        /* Fast I/O has routines for the basic, standard and network-open classes only. */
        status = STATUS_INVALID_PARAMETER;
    } else {
        struct io_file *file;
        ACCESS_MASK granted = 0;
        status = fltsim__io_begin_granted(sys, handle, info_access(info_class, false), flags, &file,
                                          &granted);
        if (NT_SUCCESS(status)) {
            if (!(flags & FLTSIM_IO_FAST_ONLY) &&
                query_by_io_manager(file, info_class, granted, buffer, iosb, &status)) {
                fltsim__file_unref(file);
                return status;
            }
            struct fltsim_request req;
            bool fast_class = info_class == FileBasicInformation ||
                              info_class == FileStandardInformation ||
                              info_class == FileNetworkOpenInformation;
            if ((flags & FLTSIM_IO_FAST_ONLY) ||
                ((flags & FLTSIM_IO_FAST) && fast_class && (file->fo.Flags & FO_SYNCHRONOUS_IO))) {
                memset(&req, 0, sizeof(req));
                req.kind = FLTSIM_OP_FAST_IO;
                req.major = IRP_MJ_QUERY_INFORMATION;
                req.parameters.QueryFileInformation.Length = length;
                req.parameters.QueryFileInformation.FileInformationClass = info_class;
                req.parameters.QueryFileInformation.InfoBuffer = buffer;
                status = fltsim__io_dispatch(file, &req, flags, iosb);
                if (status != STATUS_FLT_DISALLOW_FAST_IO || (flags & FLTSIM_IO_FAST_ONLY)) {
                    fltsim__file_unref(file);
                    return status;
                }
            }
            /* Buffered I/O: the file system works on a system buffer that is
             * copied back to the caller (FLTFL_CALLBACK_DATA_SYSTEM_BUFFER). */
            void *system_buffer = malloc(length ? length : 1);
            if (system_buffer == NULL) {
                fltsim__file_unref(file);
                fltsim__set_iosb(iosb, STATUS_INSUFFICIENT_RESOURCES, 0);
                return STATUS_INSUFFICIENT_RESOURCES;
            }
            memset(system_buffer, 0, length);
            memset(&req, 0, sizeof(req));
            req.kind = FLTSIM_OP_IRP;
            req.major = IRP_MJ_QUERY_INFORMATION;
            req.irp_flags = IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | IRP_INPUT_OPERATION |
                            IRP_DEFER_IO_COMPLETION;
            if (file->fo.Flags & FO_SYNCHRONOUS_IO)
                req.irp_flags |= IRP_SYNCHRONOUS_API;
            req.callback_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER;
            req.parameters.QueryFileInformation.Length = length;
            req.parameters.QueryFileInformation.FileInformationClass = info_class;
            req.parameters.QueryFileInformation.InfoBuffer = system_buffer;
            status = fltsim__io_dispatch(file, &req, flags, iosb);
            ULONG_PTR copied = req.io_status.Information;
            if (!NT_ERROR(status) && length != 0)
                memcpy(buffer, system_buffer, copied < length ? copied : length);
            free(system_buffer);
            fltsim__file_unref(file);
            return status;
        }
    }
    fltsim__set_iosb(iosb, status, 0);
    return status;
}

/* FileRenameInformation to a fully qualified name: the I/O manager opens the
 * target's directory (SL_OPEN_TARGET_DIRECTORY) and hands it to the file system
 * as ParentOfTarget. Returns the opened directory through *target. */
static NTSTATUS open_rename_target(fltsim_system *sys, struct io_file *file,
                                   const FILE_RENAME_INFORMATION *info, ULONG length,
                                   struct io_file **target)
{
    *target = NULL;
    ULONG chars = info->FileNameLength / sizeof(WCHAR);
    if (info->FileNameLength > length - offsetof(FILE_RENAME_INFORMATION, FileName) || chars == 0)
        return STATUS_INVALID_PARAMETER;
    bool qualified = info->FileName[0] == L'\\' || (chars >= 2 && info->FileName[1] == L':') ||
                     info->RootDirectory != NULL;
    if (!qualified) {
        for (ULONG i = 0; i < chars; i++)
            if (info->FileName[i] == L'\\')
                return STATUS_INVALID_PARAMETER;
        return STATUS_SUCCESS; /* a simple rename in the same directory */
    }
    WCHAR *path = malloc((chars + 1) * sizeof(WCHAR));
    if (path == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(path, info->FileName, chars * sizeof(WCHAR));
    path[chars] = 0;

    struct fltsim_create_params p;
    memset(&p, 0, sizeof(p));
    p.path = path;
    p.root_directory = info->RootDirectory;
    p.desired_access = FILE_WRITE_DATA | SYNCHRONIZE;
    p.share_access = FILE_SHARE_READ | FILE_SHARE_WRITE;
    p.disposition = FILE_OPEN;
    p.create_options = FILE_SYNCHRONOUS_IO_NONALERT;
    p.operation_flags = SL_OPEN_TARGET_DIRECTORY;
    p.flags = FLTSIM_IO_KERNEL_MODE;
    IO_STATUS_BLOCK iosb;
    memset(&iosb, 0, sizeof(iosb));
    struct io_file *dir;
    NTSTATUS status = fltsim__create_file(sys, &p, &dir, &iosb);
    free(path);
    if (dir == NULL)
        return status;
    if (dir->volume != file->volume) {
        dir->handles = 1;
        fltsim__file_handle_closed(dir);
        return STATUS_NOT_SAME_DEVICE;
    }
    if (iosb.Information == FILE_EXISTS && !info->ReplaceIfExists) {
        /* The I/O manager refuses before the file system sees the rename. */
        dir->handles = 1;
        fltsim__file_handle_closed(dir);
        return STATUS_OBJECT_NAME_COLLISION;
    }
    dir->handles = 1;
    *target = dir;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim_io_set_information(fltsim_system *sys, HANDLE handle, const void *buffer,
                                   ULONG length, FILE_INFORMATION_CLASS info_class,
                                   IO_STATUS_BLOCK *iosb)
{
    NTSTATUS status;
    if (!valid_info_class(info_class)) {
        fltsim__set_iosb(iosb, STATUS_INVALID_INFO_CLASS, 0);
        return STATUS_INVALID_INFO_CLASS;
    }
    if (length < info_min_length(info_class) || buffer == NULL) {
        fltsim__set_iosb(iosb, STATUS_INFO_LENGTH_MISMATCH, 0);
        return STATUS_INFO_LENGTH_MISMATCH;
    }
    struct io_file *file;
    status = fltsim__io_begin(sys, handle, info_access(info_class, true), 0, &file);
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    if (info_class == FilePositionInformation && (file->fo.Flags & FO_SYNCHRONOUS_IO)) {
        FILE_POSITION_INFORMATION pos;
        memcpy(&pos, buffer, sizeof(pos));
        if (pos.CurrentByteOffset.QuadPart < 0 ||
            ((file->fo.Flags & FO_NO_INTERMEDIATE_BUFFERING) &&
             (pos.CurrentByteOffset.QuadPart % SECTOR_SIZE) != 0)) {
            status = STATUS_INVALID_PARAMETER;
        } else {
            file->fo.CurrentByteOffset = pos.CurrentByteOffset;
            status = STATUS_SUCCESS;
        }
        fltsim__file_unref(file);
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }

    void *system_buffer = malloc(length);
    if (system_buffer == NULL) {
        fltsim__file_unref(file);
        fltsim__set_iosb(iosb, STATUS_INSUFFICIENT_RESOURCES, 0);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    memcpy(system_buffer, buffer, length);

    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = IRP_MJ_SET_INFORMATION;
    req.irp_flags = IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | IRP_DEFER_IO_COMPLETION;
    if (file->fo.Flags & FO_SYNCHRONOUS_IO)
        req.irp_flags |= IRP_SYNCHRONOUS_API;
    req.callback_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER;
    req.parameters.SetFileInformation.Length = length;
    req.parameters.SetFileInformation.FileInformationClass = info_class;
    req.parameters.SetFileInformation.InfoBuffer = system_buffer;

    struct io_file *target = NULL;
    if (info_class == FileRenameInformation) {
        const FILE_RENAME_INFORMATION *info = system_buffer;
        status = open_rename_target(sys, file, info, length, &target);
        if (!NT_SUCCESS(status)) {
            free(system_buffer);
            fltsim__file_unref(file);
            fltsim__set_iosb(iosb, status, 0);
            return status;
        }
        req.parameters.SetFileInformation.ReplaceIfExists = info->ReplaceIfExists;
        req.parameters.SetFileInformation.ParentOfTarget = target != NULL ? &target->fo : NULL;
    }
    status = fltsim__io_dispatch(file, &req, 0, iosb);
    if (target != NULL)
        fltsim__file_handle_closed(target);
    free(system_buffer);
    fltsim__file_unref(file);
    return status;
}

NTSTATUS fltsim_io_rename(fltsim_system *sys, HANDLE handle, PCWSTR new_name,
                          BOOLEAN replace_if_exists, IO_STATUS_BLOCK *iosb)
{
    if (new_name == NULL) {
        fltsim__set_iosb(iosb, STATUS_INVALID_PARAMETER, 0);
        return STATUS_INVALID_PARAMETER;
    }
    size_t chars = fltsim_wcslen(new_name);
    ULONG length = (ULONG)(offsetof(FILE_RENAME_INFORMATION, FileName) + chars * sizeof(WCHAR));
    if (length < sizeof(FILE_RENAME_INFORMATION))
        length = sizeof(FILE_RENAME_INFORMATION);
    FILE_RENAME_INFORMATION *info = calloc(1, length);
    if (info == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    info->ReplaceIfExists = replace_if_exists;
    info->FileNameLength = (ULONG)(chars * sizeof(WCHAR));
    memcpy(info->FileName, new_name, chars * sizeof(WCHAR));
    NTSTATUS status =
        fltsim_io_set_information(sys, handle, info, length, FileRenameInformation, iosb);
    free(info);
    return status;
}

NTSTATUS fltsim_io_delete(fltsim_system *sys, HANDLE handle, BOOLEAN delete_file)
{
    FILE_DISPOSITION_INFORMATION info = {delete_file};
    return fltsim_io_set_information(sys, handle, &info, sizeof(info), FileDispositionInformation,
                                     NULL);
}

/* ---- directories, flush, sections ---- */

NTSTATUS fltsim_io_query_directory(fltsim_system *sys, HANDLE handle, void *buffer, ULONG length,
                                   FILE_INFORMATION_CLASS info_class, PCWSTR pattern,
                                   UCHAR scan_flags, IO_STATUS_BLOCK *iosb)
{
    NTSTATUS status;
    ULONG min = fltsim__directory_entry_fixed_size(info_class);
    if (!valid_info_class(info_class) || min == 0)
        status = STATUS_INVALID_INFO_CLASS;
    else if (length < min || buffer == NULL)
        status = STATUS_INFO_LENGTH_MISMATCH;
    else if (scan_flags & ~(SL_RESTART_SCAN | SL_RETURN_SINGLE_ENTRY))
        status = STATUS_INVALID_PARAMETER;
    else
        status = STATUS_SUCCESS;
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    struct io_file *file;
    status = fltsim__io_begin(sys, handle, FILE_LIST_DIRECTORY, 0, &file);
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    UNICODE_STRING name;
    if (pattern != NULL)
        RtlInitUnicodeString(&name, pattern);

    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = IRP_MJ_DIRECTORY_CONTROL;
    req.minor = IRP_MN_QUERY_DIRECTORY;
    req.operation_flags = scan_flags;
    if (file->fo.Flags & FO_SYNCHRONOUS_IO)
        req.irp_flags |= IRP_SYNCHRONOUS_API;
    req.parameters.DirectoryControl.QueryDirectory.Length = length;
    req.parameters.DirectoryControl.QueryDirectory.FileName = pattern != NULL ? &name : NULL;
    req.parameters.DirectoryControl.QueryDirectory.FileInformationClass = info_class;
    req.parameters.DirectoryControl.QueryDirectory.DirectoryBuffer = buffer;
    status = fltsim__io_dispatch(file, &req, 0, iosb);
    fltsim__file_unref(file);
    return status;
}

NTSTATUS fltsim_io_flush(fltsim_system *sys, HANDLE handle, IO_STATUS_BLOCK *iosb)
{
    struct io_file *file;
    NTSTATUS status = fltsim__io_begin(sys, handle, FILE_WRITE_DATA | FILE_APPEND_DATA, 0, &file);
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = IRP_MJ_FLUSH_BUFFERS;
    if (file->fo.Flags & FO_SYNCHRONOUS_IO)
        req.irp_flags |= IRP_SYNCHRONOUS_API;
    status = fltsim__io_dispatch(file, &req, 0, iosb);
    fltsim__file_unref(file);
    return status;
}

static NTSTATUS section_sync(fltsim_system *sys, HANDLE handle, UCHAR major,
                             FS_FILTER_SECTION_SYNC_TYPE sync_type, ULONG page_protection)
{
    struct io_file *file;
    NTSTATUS status = fltsim__io_begin(sys, handle, 0, 0, &file);
    if (!NT_SUCCESS(status))
        return status;
    FS_FILTER_SECTION_SYNC_OUTPUT output;
    memset(&output, 0, sizeof(output));
    output.StructureSize = sizeof(output);
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_FS_FILTER;
    req.major = major;
    if (major == IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION) {
        req.parameters.AcquireForSectionSynchronization.SyncType = sync_type;
        req.parameters.AcquireForSectionSynchronization.PageProtection = page_protection;
        req.parameters.AcquireForSectionSynchronization.OutputInformation = &output;
    }
    status = fltsim__io_dispatch(file, &req, FLTSIM_IO_KERNEL_MODE, NULL);
    fltsim__file_unref(file);
    return status;
}

NTSTATUS fltsim_io_acquire_for_section_sync(fltsim_system *sys, HANDLE handle,
                                            FS_FILTER_SECTION_SYNC_TYPE sync_type,
                                            ULONG page_protection)
{
    return section_sync(sys, handle, IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION, sync_type,
                        page_protection);
}

NTSTATUS fltsim_io_release_for_section_sync(fltsim_system *sys, HANDLE handle)
{
    return section_sync(sys, handle, IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION, SyncTypeOther, 0);
}

NTSTATUS fltsim_io_map_section(fltsim_system *sys, HANDLE handle, ULONG page_protection)
{
    NTSTATUS status =
        fltsim_io_acquire_for_section_sync(sys, handle, SyncTypeCreateSection, page_protection);
    if (!NT_SUCCESS(status))
        return status;
    NTSTATUS release = fltsim_io_release_for_section_sync(sys, handle);
    return NT_SUCCESS(release) ? status : release;
}

/* ---- the modified page writer and the cache manager's flush ---- */

static NTSTATUS fs_filter_callback(fltsim_system *sys, HANDLE handle, UCHAR major,
                                   const FLT_PARAMETERS *parameters)
{
    struct io_file *file;
    NTSTATUS status = fltsim__io_begin(sys, handle, 0, 0, &file);
    if (!NT_SUCCESS(status))
        return status;
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_FS_FILTER;
    req.major = major;
    if (parameters != NULL)
        req.parameters = *parameters;
    status = fltsim__io_dispatch(file, &req, FLTSIM_IO_KERNEL_MODE, NULL);
    fltsim__file_unref(file);
    return status;
}

NTSTATUS fltsim_io_acquire_for_mod_write(fltsim_system *sys, HANDLE handle, LONGLONG ending_offset)
{
    LARGE_INTEGER ending = {.QuadPart = ending_offset};
    PERESOURCE resource = NULL;
    FLT_PARAMETERS p;
    memset(&p, 0, sizeof(p));
    p.AcquireForModifiedPageWriter.EndingOffset = &ending;
    p.AcquireForModifiedPageWriter.ResourceToRelease = &resource;
    return fs_filter_callback(sys, handle, IRP_MJ_ACQUIRE_FOR_MOD_WRITE, &p);
}

NTSTATUS fltsim_io_release_for_mod_write(fltsim_system *sys, HANDLE handle)
{
    FLT_PARAMETERS p;
    memset(&p, 0, sizeof(p));
    p.ReleaseForModifiedPageWriter.ResourceToRelease = NULL; /* not kept from the acquire */
    return fs_filter_callback(sys, handle, IRP_MJ_RELEASE_FOR_MOD_WRITE, &p);
}

NTSTATUS fltsim_io_acquire_for_cc_flush(fltsim_system *sys, HANDLE handle)
{
    return fs_filter_callback(sys, handle, IRP_MJ_ACQUIRE_FOR_CC_FLUSH, NULL);
}

NTSTATUS fltsim_io_release_for_cc_flush(fltsim_system *sys, HANDLE handle)
{
    return fs_filter_callback(sys, handle, IRP_MJ_RELEASE_FOR_CC_FLUSH, NULL);
}

/* ---- query open ---- */

NTSTATUS fltsim_io_query_open(fltsim_system *sys, PCWSTR path, FILE_INFORMATION_CLASS info_class,
                              void *buffer, ULONG length, IO_STATUS_BLOCK *iosb)
{
    NTSTATUS status = STATUS_SUCCESS;
    PFLT_VOLUME volume = NULL;
    PCWSTR name = NULL;
    ULONG need = info_class == FileBasicInformation ? (ULONG)sizeof(FILE_BASIC_INFORMATION)
                                                    : (ULONG)sizeof(FILE_NETWORK_OPEN_INFORMATION);
    if (sys == NULL || path == NULL ||
        (info_class != FileBasicInformation && info_class != FileNetworkOpenInformation))
        status = STATUS_INVALID_PARAMETER;
    else if (buffer == NULL || length < need)
        status = STATUS_INFO_LENGTH_MISMATCH;
    else
        status = resolve_path(sys, path, &volume, &name);
    if (NT_SUCCESS(status) && fltsim_wcslen(name) > UNICODE_STRING_MAX_CHARS)
        status = STATUS_OBJECT_NAME_INVALID;
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }

    /* The I/O manager's stack-based file object: never opened, so no
     * cleanup or close follows, and nobody may keep a reference to it. */
    FILE_OBJECT fo;
    memset(&fo, 0, sizeof(fo));
    fo.Type = 5; /* IO_TYPE_FILE */
    fo.Size = (CSHORT)sizeof(fo);
    RtlInitUnicodeString(&fo.FileName, name);
    fltsim_volume_file_object_opened(volume, &fo);

    FILE_NETWORK_OPEN_INFORMATION info;
    memset(&info, 0, sizeof(info));
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_FAST_IO;
    req.major = IRP_MJ_NETWORK_QUERY_OPEN;
    req.file_object = &fo;
    req.requestor_mode = UserMode;
    req.parameters.NetworkQueryOpen.Irp = NULL;
    req.parameters.NetworkQueryOpen.NetworkInformation = &info;
    status = fltsim_request_dispatch(volume, &req);
    if (req.op_id != 0)
        status = req.io_status.Status;
    fltsim_volume_file_object_closed(volume, &fo);
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    if (info_class == FileBasicInformation) {
        FILE_BASIC_INFORMATION basic;
        memset(&basic, 0, sizeof(basic));
        basic.CreationTime = info.CreationTime;
        basic.LastAccessTime = info.LastAccessTime;
        basic.LastWriteTime = info.LastWriteTime;
        basic.ChangeTime = info.ChangeTime;
        basic.FileAttributes = info.FileAttributes;
        memcpy(buffer, &basic, sizeof(basic));
    } else {
        memcpy(buffer, &info, sizeof(info));
    }
    fltsim__set_iosb(iosb, status, need);
    return status;
}

/* ---- volume information ---- */

/* The fixed records the I/O manager checks (0: no check). */
static ULONG fs_info_min_length(FS_INFORMATION_CLASS c)
{
    switch (c) {
    case FileFsVolumeInformation:
        return offsetof(FILE_FS_VOLUME_INFORMATION, VolumeLabel);
    case FileFsSizeInformation:
        return sizeof(FILE_FS_SIZE_INFORMATION);
    case FileFsDeviceInformation:
        return sizeof(FILE_FS_DEVICE_INFORMATION);
    case FileFsAttributeInformation:
        return offsetof(FILE_FS_ATTRIBUTE_INFORMATION, FileSystemName);
    case FileFsFullSizeInformation:
        return sizeof(FILE_FS_FULL_SIZE_INFORMATION);
    default:
        return 0;
    }
}

NTSTATUS fltsim_io_query_volume_information(fltsim_system *sys, HANDLE handle, void *buffer,
                                            ULONG length, FS_INFORMATION_CLASS info_class,
                                            IO_STATUS_BLOCK *iosb)
{
    NTSTATUS status;
    if (info_class < FileFsVolumeInformation || info_class >= FileFsMaximumInformation)
        status = STATUS_INVALID_INFO_CLASS;
    else if (length < fs_info_min_length(info_class) || (buffer == NULL && length != 0))
        status = STATUS_INFO_LENGTH_MISMATCH;
    else
        status = STATUS_SUCCESS;
    struct io_file *file = NULL;
    if (NT_SUCCESS(status))
        status = fltsim__io_begin(sys, handle, 0, 0, &file);
    void *system_buffer = NULL;
    if (NT_SUCCESS(status) && (system_buffer = calloc(1, length ? length : 1)) == NULL)
        status = STATUS_INSUFFICIENT_RESOURCES;
    if (!NT_SUCCESS(status)) {
        if (file != NULL)
            fltsim__file_unref(file);
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = IRP_MJ_QUERY_VOLUME_INFORMATION;
    req.irp_flags = IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | IRP_INPUT_OPERATION;
    if (file->fo.Flags & FO_SYNCHRONOUS_IO)
        req.irp_flags |= IRP_SYNCHRONOUS_API;
    req.callback_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER;
    req.parameters.QueryVolumeInformation.Length = length;
    req.parameters.QueryVolumeInformation.FsInformationClass = info_class;
    req.parameters.QueryVolumeInformation.VolumeBuffer = system_buffer;
    status = fltsim__io_dispatch(file, &req, 0, iosb);
    ULONG_PTR copied = req.io_status.Information;
    if (!NT_ERROR(status) && length != 0)
        memcpy(buffer, system_buffer, copied < length ? copied : length);
    free(system_buffer);
    fltsim__file_unref(file);
    return status;
}

/* ---- byte-range locks ---- */

static NTSTATUS lock_control(fltsim_system *sys, HANDLE handle, UCHAR minor, LONGLONG offset,
                             LONGLONG length, ULONG key, BOOLEAN fail_immediately,
                             BOOLEAN exclusive, ULONG flags, IO_STATUS_BLOCK *iosb)
{
    bool single = minor == IRP_MN_LOCK || minor == IRP_MN_UNLOCK_SINGLE;
    if ((flags & ~(ULONG)(FLTSIM_IO_FAST | FLTSIM_IO_FAST_ONLY | FLTSIM_IO_KERNEL_MODE)) != 0 ||
        (single && (offset < 0 || length < 0))) {
        fltsim__set_iosb(iosb, STATUS_INVALID_PARAMETER, 0);
        return STATUS_INVALID_PARAMETER;
    }
    struct io_file *file;
    NTSTATUS status = fltsim__io_begin(sys, handle, FILE_READ_DATA | FILE_WRITE_DATA, flags, &file);
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    LARGE_INTEGER len = {.QuadPart = length};
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.major = IRP_MJ_LOCK_CONTROL;
    req.minor = minor;
    req.parameters.LockControl.Length = single ? &len : NULL;
    req.parameters.LockControl.Key = key;
    req.parameters.LockControl.ByteOffset.QuadPart = single ? offset : 0;
    req.parameters.LockControl.ProcessId = NULL; /* no EPROCESS objects (io.h) */
    if (flags & (FLTSIM_IO_FAST | FLTSIM_IO_FAST_ONLY)) {
        /* FastIoLock / FastIoUnlockSingle / FastIoUnlockAll(ByKey). */
        req.kind = FLTSIM_OP_FAST_IO;
        if (minor == IRP_MN_LOCK) {
            req.parameters.LockControl.FailImmediately = fail_immediately;
            req.parameters.LockControl.ExclusiveLock = exclusive;
        }
        status = fltsim__io_dispatch(file, &req, flags, iosb);
        if (status != STATUS_FLT_DISALLOW_FAST_IO || (flags & FLTSIM_IO_FAST_ONLY)) {
            fltsim__file_unref(file);
            return status;
        }
        memset(&req.parameters, 0, sizeof(req.parameters));
        req.parameters.LockControl.Length = single ? &len : NULL;
        req.parameters.LockControl.Key = key;
        req.parameters.LockControl.ByteOffset.QuadPart = single ? offset : 0;
        req.op_id = 0;
        memset(&req.io_status, 0, sizeof(req.io_status));
    }
    req.kind = FLTSIM_OP_IRP;
    if (minor == IRP_MN_LOCK)
        req.operation_flags = (UCHAR)((fail_immediately ? SL_FAIL_IMMEDIATELY : 0) |
                                      (exclusive ? SL_EXCLUSIVE_LOCK : 0));
    if (file->fo.Flags & FO_SYNCHRONOUS_IO)
        req.irp_flags |= IRP_SYNCHRONOUS_API;
    status = fltsim__io_dispatch(file, &req, flags, iosb);
    fltsim__file_unref(file);
    return status;
}

NTSTATUS fltsim_io_lock(fltsim_system *sys, HANDLE handle, LONGLONG offset, LONGLONG length,
                        ULONG key, BOOLEAN fail_immediately, BOOLEAN exclusive, ULONG flags,
                        IO_STATUS_BLOCK *iosb)
{
    return lock_control(sys, handle, IRP_MN_LOCK, offset, length, key, fail_immediately, exclusive,
                        flags, iosb);
}

NTSTATUS fltsim_io_unlock(fltsim_system *sys, HANDLE handle, UCHAR minor, LONGLONG offset,
                          LONGLONG length, ULONG key, ULONG flags, IO_STATUS_BLOCK *iosb)
{
    if (minor != IRP_MN_UNLOCK_SINGLE && minor != IRP_MN_UNLOCK_ALL &&
        minor != IRP_MN_UNLOCK_ALL_BY_KEY) {
        fltsim__set_iosb(iosb, STATUS_INVALID_PARAMETER, 0);
        return STATUS_INVALID_PARAMETER;
    }
    return lock_control(sys, handle, minor, offset, length, key, FALSE, FALSE, flags, iosb);
}

/* ---- file-system and device controls ---- */

/* The access a control code names in its access bits. */
static ACCESS_MASK control_access(ULONG code)
{
    ACCESS_MASK a = 0;
    if ((code >> 14) & FILE_READ_ACCESS)
        a |= FILE_READ_DATA;
    if ((code >> 14) & FILE_WRITE_ACCESS)
        a |= FILE_WRITE_DATA;
    return a;
}

static NTSTATUS control(fltsim_system *sys, HANDLE handle, UCHAR major, ULONG code, const void *in,
                        ULONG in_length, void *out, ULONG out_length, ULONG flags,
                        IO_STATUS_BLOCK *iosb)
{
    if ((flags & ~(ULONG)(FLTSIM_IO_FAST | FLTSIM_IO_FAST_ONLY | FLTSIM_IO_KERNEL_MODE)) != 0 ||
        (in == NULL && in_length != 0) || (out == NULL && out_length != 0)) {
        fltsim__set_iosb(iosb, STATUS_INVALID_PARAMETER, 0);
        return STATUS_INVALID_PARAMETER;
    }
    struct io_file *file = NULL;
    ACCESS_MASK needed = control_access(code), granted = 0;
    NTSTATUS status = fltsim__io_begin_granted(sys, handle, 0, flags, &file, &granted);
    /* Every right the code names is needed (IopXxxControlFile). */
    if (NT_SUCCESS(status) && !(flags & FLTSIM_IO_KERNEL_MODE) && (granted & needed) != needed) {
        fltsim__file_unref(file);
        status = STATUS_ACCESS_DENIED;
    }
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    /* The parameters cannot be const in the WDK's layout. */
    void *input;
    memcpy(&input, &in, sizeof(input));
    struct fltsim_request req;
    bool dev = major == IRP_MJ_DEVICE_CONTROL;
    if (dev && (flags & (FLTSIM_IO_FAST | FLTSIM_IO_FAST_ONLY))) {
        /* FastIoDeviceControl: the caller's buffers as they are. */
        memset(&req, 0, sizeof(req));
        req.kind = FLTSIM_OP_FAST_IO;
        req.major = major;
        req.parameters.DeviceIoControl.FastIo.OutputBufferLength = out_length;
        req.parameters.DeviceIoControl.FastIo.InputBufferLength = in_length;
        req.parameters.DeviceIoControl.FastIo.IoControlCode = code;
        req.parameters.DeviceIoControl.FastIo.InputBuffer = input;
        req.parameters.DeviceIoControl.FastIo.OutputBuffer = out;
        status = fltsim__io_dispatch(file, &req, flags, iosb);
        if (status != STATUS_FLT_DISALLOW_FAST_IO || (flags & FLTSIM_IO_FAST_ONLY)) {
            fltsim__file_unref(file);
            return status;
        }
    }
    ULONG method = METHOD_FROM_CTL_CODE(code);
    ULONG sys_length = method == METHOD_BUFFERED ? (in_length > out_length ? in_length : out_length)
                                                 : (method == METHOD_NEITHER ? 0 : in_length);
    void *system_buffer = NULL;
    if (sys_length != 0 && (system_buffer = calloc(1, sys_length)) == NULL) {
        fltsim__file_unref(file);
        fltsim__set_iosb(iosb, STATUS_INSUFFICIENT_RESOURCES, 0);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    if (system_buffer != NULL && in_length != 0)
        memcpy(system_buffer, in, in_length);

    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = major;
    req.minor = dev ? 0 : IRP_MN_USER_FS_REQUEST;
    if (file->fo.Flags & FO_SYNCHRONOUS_IO)
        req.irp_flags |= IRP_SYNCHRONOUS_API;
    /* FileSystemControl and DeviceIoControl share one layout: the three
     * lengths, then the Neither view's pointers, which the Buffered and
     * Direct views overlay (dispatch.c checks it). */
    _Static_assert(offsetof(FLT_PARAMETERS, FileSystemControl.Neither.OutputBuffer) ==
                       offsetof(FLT_PARAMETERS, DeviceIoControl.Neither.OutputBuffer),
                   "control layouts");
    req.parameters.DeviceIoControl.Neither.OutputBufferLength = out_length;
    req.parameters.DeviceIoControl.Neither.InputBufferLength = in_length;
    req.parameters.DeviceIoControl.Neither.IoControlCode = code;
    switch (method) {
    case METHOD_BUFFERED:
        req.irp_flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
        if (out_length != 0)
            req.irp_flags |= IRP_INPUT_OPERATION;
        req.callback_flags = FLTFL_CALLBACK_DATA_SYSTEM_BUFFER;
        req.parameters.DeviceIoControl.Buffered.SystemBuffer = system_buffer;
        break;
    case METHOD_NEITHER:
        req.parameters.DeviceIoControl.Neither.InputBuffer = input;
        req.parameters.DeviceIoControl.Neither.OutputBuffer = out;
        break;
    default: /* direct: no MDLs in fltsim, the output buffer as is */
        req.parameters.DeviceIoControl.Direct.InputSystemBuffer = system_buffer;
        req.parameters.DeviceIoControl.Direct.OutputBuffer = out;
        break;
    }
    status = fltsim__io_dispatch(file, &req, flags, iosb);
    ULONG_PTR copied = req.io_status.Information;
    if (method == METHOD_BUFFERED && !NT_ERROR(status) && out_length != 0 && system_buffer != NULL)
        memcpy(out, system_buffer, copied < out_length ? copied : out_length);
    free(system_buffer);
    fltsim__file_unref(file);
    return status;
}

NTSTATUS fltsim_io_fs_control(fltsim_system *sys, HANDLE handle, ULONG code, const void *in,
                              ULONG in_length, void *out, ULONG out_length, IO_STATUS_BLOCK *iosb)
{
    return control(sys, handle, IRP_MJ_FILE_SYSTEM_CONTROL, code, in, in_length, out, out_length, 0,
                   iosb);
}

NTSTATUS fltsim_io_device_control(fltsim_system *sys, HANDLE handle, ULONG code, const void *in,
                                  ULONG in_length, void *out, ULONG out_length, ULONG flags,
                                  IO_STATUS_BLOCK *iosb)
{
    return control(sys, handle, IRP_MJ_DEVICE_CONTROL, code, in, in_length, out, out_length, flags,
                   iosb);
}

/* ---- extended attributes and security ---- */

NTSTATUS fltsim_io_query_ea(fltsim_system *sys, HANDLE handle, void *buffer, ULONG length,
                            BOOLEAN restart_scan, IO_STATUS_BLOCK *iosb)
{
    struct io_file *file;
    NTSTATUS status = buffer == NULL && length != 0
                          ? STATUS_INVALID_PARAMETER
                          : fltsim__io_begin(sys, handle, FILE_READ_EA, 0, &file);
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = IRP_MJ_QUERY_EA;
    req.operation_flags = restart_scan ? SL_RESTART_SCAN : 0;
    if (file->fo.Flags & FO_SYNCHRONOUS_IO)
        req.irp_flags |= IRP_SYNCHRONOUS_API;
    req.parameters.QueryEa.Length = length;
    req.parameters.QueryEa.EaBuffer = buffer;
    status = fltsim__io_dispatch(file, &req, 0, iosb);
    fltsim__file_unref(file);
    return status;
}

/* The rights a query (SeQuerySecurityAccessMask) or a set
 * (SeSetSecurityAccessMask) of these parts needs. */
static ACCESS_MASK security_access(SECURITY_INFORMATION what, bool set)
{
    const SECURITY_INFORMATION owner_parts =
        OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | LABEL_SECURITY_INFORMATION;
    const SECURITY_INFORMATION dac_parts =
        DACL_SECURITY_INFORMATION | ATTRIBUTE_SECURITY_INFORMATION;
    ACCESS_MASK a = 0;
    if (what & SACL_SECURITY_INFORMATION)
        a |= ACCESS_SYSTEM_SECURITY;
    if (!set) {
        if (what & (owner_parts | dac_parts | SCOPE_SECURITY_INFORMATION))
            a |= READ_CONTROL;
        return a;
    }
    if (what & owner_parts)
        a |= WRITE_OWNER;
    if (what & dac_parts)
        a |= WRITE_DAC;
    if (what & SCOPE_SECURITY_INFORMATION)
        a |= ACCESS_SYSTEM_SECURITY;
    return a;
}

/* Every right in needed is granted to the handle (unless kernel mode). */
static NTSTATUS begin_all(fltsim_system *sys, HANDLE handle, ACCESS_MASK needed,
                          struct io_file **out)
{
    ACCESS_MASK granted = 0;
    NTSTATUS status = fltsim__io_begin_granted(sys, handle, 0, 0, out, &granted);
    if (NT_SUCCESS(status) && (granted & needed) != needed) {
        fltsim__file_unref(*out);
        *out = NULL;
        status = STATUS_ACCESS_DENIED;
    }
    return status;
}

NTSTATUS fltsim_io_query_security(fltsim_system *sys, HANDLE handle, ULONG security_information,
                                  void *buffer, ULONG length, IO_STATUS_BLOCK *iosb)
{
    struct io_file *file = NULL;
    NTSTATUS status =
        buffer == NULL && length != 0
            ? STATUS_INVALID_PARAMETER
            : begin_all(sys, handle, security_access(security_information, false), &file);
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = IRP_MJ_QUERY_SECURITY;
    if (file->fo.Flags & FO_SYNCHRONOUS_IO)
        req.irp_flags |= IRP_SYNCHRONOUS_API;
    req.parameters.QuerySecurity.SecurityInformation = security_information;
    req.parameters.QuerySecurity.Length = length;
    req.parameters.QuerySecurity.SecurityBuffer = buffer;
    status = fltsim__io_dispatch(file, &req, 0, iosb);
    fltsim__file_unref(file);
    if (status == STATUS_BUFFER_OVERFLOW) {
        /* NtQuerySecurityObject reports the length needed this way. */
        status = STATUS_BUFFER_TOO_SMALL;
        fltsim__set_iosb(iosb, status, req.io_status.Information);
    }
    return status;
}

NTSTATUS fltsim_io_set_security(fltsim_system *sys, HANDLE handle, ULONG security_information,
                                const void *descriptor, ULONG length, IO_STATUS_BLOCK *iosb)
{
    struct io_file *file = NULL;
    NTSTATUS status =
        !fltsim__security_descriptor_valid(descriptor, length)
            ? STATUS_INVALID_SECURITY_DESCR
            : begin_all(sys, handle, security_access(security_information, true), &file);
    void *captured = NULL;
    if (NT_SUCCESS(status) && (captured = malloc(length)) == NULL) {
        fltsim__file_unref(file);
        status = STATUS_INSUFFICIENT_RESOURCES;
    }
    if (!NT_SUCCESS(status)) {
        fltsim__set_iosb(iosb, status, 0);
        return status;
    }
    memcpy(captured, descriptor, length);
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = IRP_MJ_SET_SECURITY;
    if (file->fo.Flags & FO_SYNCHRONOUS_IO)
        req.irp_flags |= IRP_SYNCHRONOUS_API;
    req.parameters.SetSecurity.SecurityInformation = security_information;
    req.parameters.SetSecurity.SecurityDescriptor = captured;
    status = fltsim__io_dispatch(file, &req, 0, iosb);
    free(captured);
    fltsim__file_unref(file);
    return status;
}
