/*
 * PRIVATE to sim/io: what the parts of the simulated I/O manager share: the
 * I/O manager object with its handle table, the file objects it keeps, and
 * the helpers every operation uses (handle lookup, dispatch, the references a
 * request holds). The small ones every read and write runs (dispatch, the
 * status block, dropping a reference) are static inline here, as they were
 * when all of this was one file. Nothing outside sim/io includes it.
 */
#ifndef FLTSIM_IO_INTERNAL_H
#define FLTSIM_IO_INTERNAL_H

#include <stdbool.h>
#include <string.h>

#include <uv.h>

#include "fltsim/io.h"

#define SECTOR_SIZE 512u

/* A file object and what the I/O manager keeps with it. */
struct io_file {
    FILE_OBJECT fo; /* first: the FS and filters see &fo */
    LONG refs;      /* handles' reference + in-flight requests */
    LONG handles;
    PFLT_VOLUME volume;    /* the volume it was opened on, or NULL ... */
    PDEVICE_OBJECT device; /* ... the driver's device object (referenced) */
    ACCESS_STATE access_state;
    IO_SECURITY_CONTEXT security;
    /* A filter's open (FltCreateFile with an instance): the altitude every
     * request on the file object starts below (malloc), else NULL. */
    WCHAR *below;
    bool ignore_sharing; /* opened with IO_IGNORE_SHARE_ACCESS_CHECK */
    const void *owner;   /* the filter that opened it (FltCreateFile), else NULL */
    /* fo.FileName.Buffer is pool the system owns (fltsim_pool_allocate_system),
     * as a driver may replace it (IoReplaceFileObjectName); freed with the
     * file object. */
};

/* fo.FileObjectExtension of every file object the I/O manager opens: how a
 * pointer is known to be one (kernel_io.c). */
extern const char fltsim__io_file_marker;

struct handle_entry {
    struct io_file *file; /* NULL when free */
    ACCESS_MASK granted;
    ULONG process_id; /* FLTSIM_IO_SYSTEM_PROCESS for a kernel handle */
    ULONG generation;
    bool kernel; /* a kernel handle: any thread's kernel code may use it */
};

/* The System process, whose table holds kernel handles (PID 4 on Windows). */
#define FLTSIM_IO_SYSTEM_PROCESS 4u

/* Handle lookups, one per request, take only the spinlock of the entry's
 * stripe (index % HANDLE_STRIPES), so requestors on different handles share
 * no lock. Changing an entry takes `lock` and the entry's stripe lock;
 * growing the table takes `lock` and every stripe lock. */
#define HANDLE_STRIPES 16
struct handle_stripe {
    LONG lock;
    char pad[60]; /* one cache line each */
};

/* The I/O manager of one system (iomgr.c); only handle.c touches the table. */
struct iomgr {
    fltsim_system *sys;
    uv_mutex_t lock;
    struct handle_stripe stripes[HANDLE_STRIPES];
    struct handle_entry *handles; /* see above */
    ULONG count;                  /* lock to change; atomic */
    ULONG capacity;               /* lock */
    ULONG open;                   /* lock */
};

/* ---- the I/O manager, requests and file objects (iomgr.c) ---- */

/* The system's I/O manager, created on first use; NULL when out of memory. */
struct iomgr *fltsim__iomgr_get(fltsim_system *sys);

/* Tells the volume the file object is gone and frees it (no IRP). */
void fltsim__file_free(struct io_file *file);
/* The last reference went: sends IRP_MJ_CLOSE (when the file system opened
 * the file) and frees the file object. */
void fltsim__file_destroy(struct io_file *file);
/* Closes the handle count of a file: the last handle sends IRP_MJ_CLEANUP.
 * Drops the handles' reference. */
void fltsim__file_handle_closed(struct io_file *file);

/* Drops a reference; the last one sends IRP_MJ_CLOSE (when the file system
 * opened the file) and frees the file object. */
static inline void fltsim__file_unref(struct io_file *file)
{
    if (__atomic_sub_fetch(&file->refs, 1, __ATOMIC_SEQ_CST) != 0)
        return;
    fltsim__file_destroy(file);
}

static inline void fltsim__set_iosb(IO_STATUS_BLOCK *iosb, NTSTATUS status, ULONG_PTR information)
{
    if (iosb != NULL) {
        iosb->Status = status;
        iosb->Information = information;
    }
}

/* Zeroes req and makes it an IRP of major on file with irp_flags, marked
 * IRP_SYNCHRONOUS_API when the file object was opened for synchronous I/O
 * (FO_SYNCHRONOUS_IO), as every system service that builds an IRP does.
 * Cannot fail. */
static inline void fltsim__irp_request(struct fltsim_request *req, const struct io_file *file,
                                       UCHAR major, ULONG irp_flags)
{
    memset(req, 0, sizeof(*req));
    req->kind = FLTSIM_OP_IRP;
    req->major = major;
    req->irp_flags = irp_flags;
    if (file->fo.Flags & FO_SYNCHRONOUS_IO)
        req->irp_flags |= IRP_SYNCHRONOUS_API;
}

/* Sends req to where file was opened: a volume's filter stack and file
 * system, or the driver of a device object (no filter sees that). */
static inline NTSTATUS fltsim__io_send(struct io_file *file, struct fltsim_request *req)
{
    if (__builtin_expect(file->device != NULL, 0))
        return fltsim_device_dispatch(file->device, req);
    if (__builtin_expect(file->below != NULL, 0))
        return fltsim_request_dispatch_below(file->volume, req, file->below);
    return fltsim_request_dispatch(file->volume, req);
}

/* The system a file object belongs to. */
static inline fltsim_system *fltsim__file_system(const struct io_file *file)
{
    return file->device != NULL ? fltsim_device_system(file->device)
                                : fltsim_volume_system(file->volume);
}

/* Sends req for file and waits: its final status, also in *iosb. */
static inline NTSTATUS fltsim__io_dispatch(struct io_file *file, struct fltsim_request *req,
                                           ULONG flags, IO_STATUS_BLOCK *iosb)
{
    req->file_object = &file->fo;
    req->requestor_mode = (flags & FLTSIM_IO_KERNEL_MODE) ? KernelMode : UserMode;
    NTSTATUS status = fltsim__io_send(file, req);
    if (req->op_id == 0) { /* refused before it reached the stack */
        req->io_status.Status = status;
        req->io_status.Information = 0;
    }
    fltsim__set_iosb(iosb, req->io_status.Status, req->io_status.Information);
    return req->io_status.Status;
}

/* Handle lookup plus the access check for user-mode requestors: on success
 * *out holds a reference for the request, and *granted_out (when not NULL)
 * the handle's granted access. STATUS_INVALID_HANDLE or
 * STATUS_ACCESS_DENIED leave *out NULL. */
NTSTATUS fltsim__io_begin_granted(fltsim_system *sys, HANDLE handle, ACCESS_MASK needed,
                                  ULONG flags, struct io_file **out, ACCESS_MASK *granted_out);

static inline NTSTATUS fltsim__io_begin(fltsim_system *sys, HANDLE handle, ACCESS_MASK needed,
                                        ULONG flags, struct io_file **out)
{
    return fltsim__io_begin_granted(sys, handle, needed, flags, out, NULL);
}

/* ---- MDLs (read_write.c) ---- */

/* An MDL describing [buffer, buffer + length), its pages locked for
 * operation in mode (IoAllocateMdl, MmProbeAndLockPages), as the I/O manager
 * and Mm give requests; *out NULL for a length of 0. The exception a buffer
 * that cannot be locked raises comes back as the status (*out NULL). */
NTSTATUS fltsim__io_lock_buffer(void *buffer, ULONG length, LOCK_OPERATION operation,
                                KPROCESSOR_MODE mode, PMDL *out);
/* Unlocks (and unmaps) an MDL fltsim__io_lock_buffer made and frees it, when
 * its request has completed. NULL is ignored. */
void fltsim__io_unlock_buffer(PMDL mdl);

/* ---- the handle table (handle.c) ---- */

/* A new handle for file with granted access: of the calling process, or a
 * kernel handle (its value has the high bit set, as on Windows);
 * STATUS_INSUFFICIENT_RESOURCES when the table cannot grow. */
NTSTATUS fltsim__handle_insert(struct iomgr *io, struct io_file *file, ACCESS_MASK granted,
                               bool kernel, HANDLE *out);
/* Whether a handle value is a kernel handle's. */
static inline bool fltsim__is_kernel_handle(HANDLE h)
{
    return ((ULONG64)(ULONG_PTR)h >> 63) != 0;
}
/* Takes a reference on the file behind a handle for one request (NULL: no
 * such handle): one of the calling process, or a kernel handle; *granted
 * gets its access when not NULL. Callers in user mode refuse kernel handles
 * first. */
struct io_file *fltsim__file_from_handle(struct iomgr *io, HANDLE h, ACCESS_MASK *granted);
/* Handles open now on files opened with owner (not NULL). */
ULONG fltsim__handle_count_owned(struct iomgr *io, const void *owner);
/* Closes such a handle: STATUS_INVALID_HANDLE when there is none. */
NTSTATUS fltsim__handle_close(struct iomgr *io, HANDLE handle);
/* At shutdown: closes every handle still open, so filters see cleanup and
 * close, and frees the table. */
void fltsim__handle_close_all(struct iomgr *io);

/* ---- the services to kernel code (kernel_io.c) ---- */

/* The table the model reaches handles and file objects through. */
const struct fltsim_io_services *fltsim__kernel_io_services(void);

/* ---- opens (create.c) ---- */

/* Sends IRP_MJ_CREATE for a new file object; on success *out holds one
 * reference (for the caller) and no handle. On failure *out is NULL. A
 * STATUS_REPARSE is followed (reparse.c): the create is issued again at the
 * name it leads to, up to FLTSIM__MAX_REPARSES times. */
NTSTATUS fltsim__create_file(fltsim_system *sys, const struct fltsim_create_params *p,
                             struct io_file **out, IO_STATUS_BLOCK *iosb);
/* The same with what a kernel caller adds (NULL: none): its IO_* flags, the
 * volume and altitude a filter's open starts below, its callback flags. A
 * name on another volume than k->volume: STATUS_INVALID_DEVICE_OBJECT_PARAMETER. */
NTSTATUS fltsim__create_file_ex(fltsim_system *sys, const struct fltsim_create_params *p,
                                const struct fltsim_kernel_create *k, struct io_file **out,
                                IO_STATUS_BLOCK *iosb);
/* GENERIC_* rights mapped to the file rights they stand for; MAXIMUM_ALLOWED
 * is FILE_ALL_ACCESS (memfs and hostfs keep no ACLs). */
ACCESS_MASK fltsim__io_map_generic(ACCESS_MASK access);
/* Opens and makes a handle (kernel_handle: in the System process's table);
 * *referenced (when not NULL) gets the file with one more reference for the
 * caller. */
NTSTATUS fltsim__create_handle(fltsim_system *sys, const struct fltsim_create_params *params,
                               const struct fltsim_kernel_create *k, bool kernel_handle,
                               HANDLE *handle, struct io_file **referenced, IO_STATUS_BLOCK *iosb);

/* ---- reparse (reparse.c) ---- */

/* Reparse points followed in one open, as Windows allows ("a maximum of 63
 * reparse points ... in a particular path"); one more is
 * STATUS_REPARSE_POINT_NOT_RESOLVED. */
#define FLTSIM__MAX_REPARSES 63

/* What one create that returned STATUS_REPARSE leaves for the next. */
struct fltsim__reparse {
    ULONG_PTR information;         /* IO_REPARSE, or the reparse tag */
    PFLT_TAG_DATA_BUFFER tag_data; /* the reparse data (ExFreePool), or NULL */
    WCHAR *name;                   /* malloc: the file object's name at completion, */
    size_t name_len;               /* from the volume root when it was opened relative */
    PFLT_VOLUME volume;            /* the volume it was sent to (NULL: a device) */
};

/* The name the I/O manager opens next (malloc, terminated, in *next): with
 * IO_REPARSE the file object's new name (IoReplaceFileObjectName); for
 * IO_REPARSE_TAG_MOUNT_POINT and an absolute IO_REPARSE_TAG_SYMLINK the
 * substitute name and the unparsed rest; for a relative symbolic link
 * (SYMLINK_FLAG_RELATIVE) the substitute name in the link's directory, "."
 * and ".." resolved. STATUS_IO_REPARSE_TAG_NOT_HANDLED for any other tag (or
 * no data), STATUS_IO_REPARSE_DATA_INVALID for data whose names lie outside
 * it, STATUS_OBJECT_PATH_NOT_FOUND for ".." above the root,
 * STATUS_INSUFFICIENT_RESOURCES. */
NTSTATUS fltsim__reparse_next(const struct fltsim__reparse *r, WCHAR **next);
/* Frees what r holds. */
void fltsim__reparse_free(struct fltsim__reparse *r);

#endif
