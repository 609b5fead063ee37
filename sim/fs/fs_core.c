/*
 * The file-system core memfs and hostfs share (fs_core.h): the opens and
 * their lookup from a file object, and the struct fltsim_fs_ops entry points
 * with their lock: IRP dispatch, fast I/O and the FS-filter callbacks. The
 * handlers of each request live in fs_create.c, fs_rw.c, fs_shared.c and
 * fs_dir.c; what differs between memory nodes and host files is behind each
 * file system's struct fltsim__fs_store_ops.
 */
#include <stdlib.h>

#include "fs_core.h"
#include "common/sim_internal.h"

/* ------------------------------------------------------------------------- */
/* Objects                                                                   */
/* ------------------------------------------------------------------------- */

NTSTATUS fltsim__fs_init(struct fltsim__fs *fs, const struct fltsim__fs_store_ops *ops,
                         ULONG open_magic)
{
    if (uv_mutex_init(&fs->lock) != 0)
        return STATUS_INSUFFICIENT_RESOURCES;
    fs->ops = ops;
    fs->open_magic = open_magic;
    InitializeListHead(&fs->opens);
    return STATUS_SUCCESS;
}

void fltsim__fs_fini(struct fltsim__fs *fs)
{
    while (!IsListEmpty(&fs->opens))
        fltsim__fs_open_free(fs, CONTAINING_RECORD(fs->opens.Flink, struct fltsim__fs_open, link));
    uv_mutex_destroy(&fs->lock);
}

ULONG fltsim__fs_open_count(struct fltsim__fs *fs)
{
    uv_mutex_lock(&fs->lock);
    ULONG n = fs->open_count;
    uv_mutex_unlock(&fs->lock);
    return n;
}

struct fltsim__fs_open *fltsim__fs_open_of(struct fltsim__fs *fs, PFILE_OBJECT fo)
{
    if (fo == NULL || fo->FsContext2 == NULL)
        return NULL;
    struct fltsim__fs_open *o = fo->FsContext2;
    if (o->magic != fs->open_magic || o->fs != fs || fo->FsContext != o->file)
        return NULL;
    return o;
}

struct fltsim__fs_open *fltsim__fs_open_new(struct fltsim__fs *fs)
{
    struct fltsim__fs_open *o = calloc(1, fs->ops->open_size);
    if (o != NULL) {
        o->magic = fs->open_magic;
        o->fs = fs;
    }
    return o;
}

void fltsim__fs_open_free(struct fltsim__fs *fs, struct fltsim__fs_open *o)
{
    RemoveEntryList(&o->link);
    fs->open_count--;
    fltsim__fs_pattern_free(&o->pattern);
    if (fs->ops->dir->open_fini_cb != NULL)
        fs->ops->dir->open_fini_cb(fs, o);
    o->magic = 0;
    free(o);
}

/* ------------------------------------------------------------------------- */
/* Entry points                                                              */
/* ------------------------------------------------------------------------- */

/* Lock control, file-system controls, EAs and security: the shared NTFS
 * rules (fs_shared.h) on an open file object. Locks are a file's only. */
static NTSTATUS other_irp(struct fltsim__fs *fs, PFLT_CALLBACK_DATA data, ULONG_PTR *information)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    struct fltsim__fs_open *o = fltsim__fs_open_of(fs, iopb->TargetFileObject);
    if (o == NULL)
        return STATUS_INVALID_PARAMETER;
    switch (iopb->MajorFunction) {
    case IRP_MJ_LOCK_CONTROL:
        if (o->file->kind != FLTSIM__FS_FILE)
            return STATUS_INVALID_DEVICE_REQUEST;
        if (o->cleaned_up)
            return STATUS_FILE_CLOSED;
        return fltsim__fs_lock_control(&o->file->locks, data);
    case IRP_MJ_FILE_SYSTEM_CONTROL:
        return fltsim__fs_fs_control(fs, o, data, information);
    case IRP_MJ_QUERY_EA:
        return fltsim__fs_query_ea(data, information);
    case IRP_MJ_SET_EA:
        /* No EAs are kept and FILE_SUPPORTS_EXTENDED_ATTRIBUTES is not
         * claimed: what a file system without EA support answers. */
        return STATUS_EAS_NOT_SUPPORTED;
    case IRP_MJ_QUERY_SECURITY:
        return fltsim__fs_query_security(data, information);
    default: /* IRP_MJ_SET_SECURITY */
        return fltsim__fs_set_security(data);
    }
}

/* IRP_MJ_FLUSH_BUFFERS. Without a flush op nothing is cached between the
 * file system and its storage, so success is the real answer, not a stub. */
static NTSTATUS flush(struct fltsim__fs *fs, PFILE_OBJECT fo)
{
    struct fltsim__fs_open *o = fltsim__fs_open_of(fs, fo);
    if (o == NULL)
        return STATUS_INVALID_PARAMETER;
    return fs->ops->io->flush_cb != NULL ? fs->ops->io->flush_cb(fs, o->file) : STATUS_SUCCESS;
}

void *fltsim__fs_transfer_buffer(PMDL mdl, void *buffer, ULONG length)
{
    if (mdl == NULL || length == 0)
        return buffer;
    return MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority | MdlMappingNoExecute);
}

NTSTATUS fltsim__fs_irp_cb(void *ctx, PFLT_CALLBACK_DATA data)
{
    struct fltsim__fs *fs = ctx;
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    PFILE_OBJECT fo = iopb->TargetFileObject;
    ULONG_PTR information = 0;
    NTSTATUS status;
    struct fltsim__fs_open *o;
    void *buffer;

    uv_mutex_lock(&fs->lock);
    switch (iopb->MajorFunction) {
    case IRP_MJ_CREATE:
        status = fs->ops->create->create_cb(fs, data, &information);
        break;
    case IRP_MJ_CLEANUP:
        status = fltsim__fs_cleanup(fs, data);
        break;
    case IRP_MJ_CLOSE:
        status = fltsim__fs_close(fs, data);
        break;
    case IRP_MJ_READ:
        o = fltsim__fs_open_of(fs, fo);
        if (o != NULL && !NT_SUCCESS(status = fltsim__fs_lock_check(fs, o, data)))
            break;
        buffer = fltsim__fs_transfer_buffer(iopb->Parameters.Read.MdlAddress,
                                            iopb->Parameters.Read.ReadBuffer,
                                            iopb->Parameters.Read.Length);
        status = o == NULL ? STATUS_INVALID_PARAMETER
                 : buffer == NULL && iopb->Parameters.Read.MdlAddress != NULL
                     ? STATUS_INSUFFICIENT_RESOURCES
                     : fltsim__fs_read(fs, fo, o, iopb->IrpFlags, iopb->Parameters.Read.ByteOffset,
                                       iopb->Parameters.Read.Length, buffer, &information);
        break;
    case IRP_MJ_WRITE:
        o = fltsim__fs_open_of(fs, fo);
        if (o != NULL && !NT_SUCCESS(status = fltsim__fs_lock_check(fs, o, data)))
            break;
        buffer = fltsim__fs_transfer_buffer(iopb->Parameters.Write.MdlAddress,
                                            iopb->Parameters.Write.WriteBuffer,
                                            iopb->Parameters.Write.Length);
        status =
            o == NULL ? STATUS_INVALID_PARAMETER
            : buffer == NULL && iopb->Parameters.Write.MdlAddress != NULL
                ? STATUS_INSUFFICIENT_RESOURCES
                : fltsim__fs_write(fs, fo, o, iopb->IrpFlags, iopb->Parameters.Write.ByteOffset,
                                   iopb->Parameters.Write.Length, buffer, &information);
        break;
    case IRP_MJ_QUERY_INFORMATION:
        o = fltsim__fs_open_of(fs, fo);
        status = o == NULL
                     ? STATUS_INVALID_PARAMETER
                     : fltsim__fs_query_info(
                           fs, fo, o, iopb->Parameters.QueryFileInformation.FileInformationClass,
                           iopb->Parameters.QueryFileInformation.InfoBuffer,
                           iopb->Parameters.QueryFileInformation.Length, &information);
        break;
    case IRP_MJ_SET_INFORMATION:
        status = fltsim__fs_set_info(fs, data);
        break;
    case IRP_MJ_QUERY_VOLUME_INFORMATION:
        status = fltsim__fs_query_volume(fs, data, &information);
        break;
    case IRP_MJ_DIRECTORY_CONTROL:
        status = fltsim__fs_directory_control(fs, data, &information);
        break;
    case IRP_MJ_FLUSH_BUFFERS:
        status = flush(fs, fo);
        break;
    case IRP_MJ_LOCK_CONTROL:
    case IRP_MJ_FILE_SYSTEM_CONTROL:
    case IRP_MJ_QUERY_EA:
    case IRP_MJ_SET_EA:
    case IRP_MJ_QUERY_SECURITY:
    case IRP_MJ_SET_SECURITY:
        status = other_irp(fs, data, &information);
        break;
    default:
        status = STATUS_INVALID_DEVICE_REQUEST;
        break;
    }
    uv_mutex_unlock(&fs->lock);

    data->IoStatus.Status = status;
    data->IoStatus.Information = information;
    return status;
}

/* Fast I/O is an optimisation: declining is always correct, so anything
 * unusual goes to the IRP path, where the full rules apply. */
BOOLEAN fltsim__fs_fast_io_cb(void *ctx, PFLT_CALLBACK_DATA data)
{
    struct fltsim__fs *fs = ctx;
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    PFILE_OBJECT fo = iopb->TargetFileObject;
    ULONG_PTR information = 0;
    NTSTATUS status = STATUS_SUCCESS;
    BOOLEAN handled = FALSE;

    if (fs->no_fast_io)
        return FALSE;
    if (fo == NULL || (fo->Flags & FO_NO_INTERMEDIATE_BUFFERING))
        return FALSE;

    uv_mutex_lock(&fs->lock);
    struct fltsim__fs_open *o = fltsim__fs_open_of(fs, fo);
    if (o == NULL || o->cleaned_up || o->file->kind == FLTSIM__FS_VOLUME)
        goto out;
    struct fltsim__fs_file *file = o->file;

    switch (iopb->MajorFunction) {
    case IRP_MJ_FAST_IO_CHECK_IF_POSSIBLE:
        handled = TRUE;
        break;
    case IRP_MJ_READ:
        /* A lock conflict takes the IRP path, which fails it (FsRtlCopyRead). */
        if (file->kind != FLTSIM__FS_FILE || !NT_SUCCESS(fltsim__fs_lock_check(fs, o, data)))
            break;
        /* Fast I/O carries no IRP flags: it is cached, never paging. */
        status = fltsim__fs_read(fs, fo, o, 0, iopb->Parameters.Read.ByteOffset,
                                 iopb->Parameters.Read.Length, iopb->Parameters.Read.ReadBuffer,
                                 &information);
        handled = TRUE;
        break;
    case IRP_MJ_WRITE: {
        ULONG64 eof;
        /* Extending a file takes the IRP path. */
        if (file->kind != FLTSIM__FS_FILE || fs->read_only ||
            !NT_SUCCESS(fs->ops->io->eof_cb(fs, file, &eof)) ||
            !fltsim__fs_fast_write_fits(data, eof) ||
            !NT_SUCCESS(fltsim__fs_lock_check(fs, o, data)))
            break;
        status = fltsim__fs_write(fs, fo, o, 0, iopb->Parameters.Write.ByteOffset,
                                  iopb->Parameters.Write.Length, iopb->Parameters.Write.WriteBuffer,
                                  &information);
        handled = TRUE;
        break;
    }
    case IRP_MJ_QUERY_INFORMATION: {
        FILE_INFORMATION_CLASS cls = iopb->Parameters.QueryFileInformation.FileInformationClass;
        if (!fltsim__fast_query_class(cls))
            break;
        status =
            fltsim__fs_query_info(fs, fo, o, cls, iopb->Parameters.QueryFileInformation.InfoBuffer,
                                  iopb->Parameters.QueryFileInformation.Length, &information);
        handled = TRUE;
        break;
    }
    case IRP_MJ_LOCK_CONTROL:
        /* FastIoLock and the FastIoUnlock* routines (FsRtlFastLock ...). */
        if (file->kind != FLTSIM__FS_FILE)
            break;
        status = fltsim__fs_lock_control(&file->locks, data);
        handled = TRUE;
        break;
    default: /* device control, IRP_MJ_NETWORK_QUERY_OPEN ...: declined, as NTFS */
        break;
    }
out:
    uv_mutex_unlock(&fs->lock);
    if (handled) {
        data->IoStatus.Status = status;
        data->IoStatus.Information = information;
    }
    return handled;
}

NTSTATUS fltsim__fs_filter_cb(void *ctx, PFLT_CALLBACK_DATA data)
{
    struct fltsim__fs *fs = ctx;
    NTSTATUS status;

    uv_mutex_lock(&fs->lock);
    /* No resources to hold: the counts only check that acquires and releases
     * pair up. Other requests are not blocked. */
    struct fltsim__fs_open *o = fltsim__fs_open_of(fs, data->Iopb->TargetFileObject);
    if (o == NULL || o->file->kind == FLTSIM__FS_VOLUME)
        status = STATUS_INVALID_PARAMETER;
    else
        status = fltsim__fs_filter_callback(data, &o->file->acquires, &o->file->share);
    uv_mutex_unlock(&fs->lock);

    data->IoStatus.Status = status;
    data->IoStatus.Information = 0;
    return status;
}
