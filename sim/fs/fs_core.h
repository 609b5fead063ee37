/*
 * PRIVATE to sim/fs: the objects memfs and hostfs share, and the table through
 * which the shared IRP, fast-I/O and FS-filter handlers reach each one's
 * storage. A file system embeds struct fltsim__fs as the first member of its
 * own, struct fltsim__fs_file first in each file control block
 * (FileObject->FsContext) and struct fltsim__fs_open first in each per-open
 * state (FileObject->FsContext2). The handlers (fs_core.c, fs_create.c,
 * fs_rw.c, fs_shared.c, fs_dir.c) then apply the NTFS rules of fs_shared.h
 * and call the file system's struct fltsim__fs_store_ops only where memory
 * nodes and host files differ, as LKL's host_ops or rump's rumpuser do.
 *
 * Locking: fs->lock guards everything in one file system. The entry points
 * (fltsim__fs_irp_cb, fltsim__fs_fast_io_cb, fltsim__fs_filter_cb) take it;
 * every other function here, and every store op, is called with it held.
 */
#ifndef FLTSIM_FS_CORE_H
#define FLTSIM_FS_CORE_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "fs_shared.h"

enum fltsim__fs_kind {
    FLTSIM__FS_FILE,
    FLTSIM__FS_DIRECTORY,
    FLTSIM__FS_VOLUME /* the target of volume opens (empty name, no related file object) */
};

/* What the streams of one file share (memfs): the key of the file's contexts
 * (fltsim_stream_file), counting the streams with a file object open. */
struct fltsim__fs_perfile {
    ULONG refs;         /* control blocks pointing here */
    ULONG open_streams; /* of them, those with opens */
    BOOLEAN deleted;    /* the file itself is gone, not only one of its streams */
};

/* What the shared rules keep of a file, a directory or the volume: the first
 * member of the file system's control block, so its address is
 * FileObject->FsContext. */
struct fltsim__fs_file {
    ULONG magic; /* the file system's own, 0 once freed */
    enum fltsim__fs_kind kind;
    BOOLEAN root;           /* the root directory: never deleted or renamed */
    BOOLEAN delete_pending; /* FileObject->DeletePending mirrors it */
    BOOLEAN unlinked;       /* gone from the namespace while file objects still reference it */
    BOOLEAN named_stream;   /* a named data stream of a file (file.txt:name), never renamed */
    ULONG handles;          /* opens whose cleanup has not come */
    ULONG opens;            /* opens not yet closed */
    struct fltsim__fs_share share;           /* IoCheckShareAccess's counters */
    struct fltsim__fs_acquires acquires;     /* FS-filter acquires not yet released */
    struct fltsim__fs_locks locks;           /* byte-range locks (files) */
    SECTION_OBJECT_POINTERS section_objects; /* FileObject->SectionObjectPointer; all NULL */
    /* the file this stream is of, shared with its other streams; NULL: the
     * stream is the file (its own file-context key) */
    struct fltsim__fs_perfile *perfile;
};

/* The state of one successful create: the first member of the file system's
 * per-open state (ops->open_size bytes), so its address is
 * FileObject->FsContext2. */
struct fltsim__fs_open {
    ULONG magic; /* fs->open_magic while open, 0 once freed */
    struct fltsim__fs *fs;
    struct fltsim__fs_file *file;
    LIST_ENTRY link;     /* fs->opens */
    ACCESS_MASK granted; /* the access this open was granted (FileAccessInformation) */
    /* what IoSetShareAccess recorded, for IoRemoveShareAccess at cleanup */
    struct fltsim__fs_share_rec share;
    BOOLEAN delete_on_close;
    BOOLEAN cleaned_up;
    /* directory enumeration */
    BOOLEAN scan_active; /* a pattern has been taken */
    BOOLEAN scan_first;  /* the next query is the first of its scan */
    UCHAR scan_phase;    /* 0: "." next, 1: ".." next, 2: the directory's entries */
    struct fltsim__fs_pattern pattern;
};

/* One file system: the first member of struct fltsim_memfs / fltsim_hostfs,
 * so the fs pointer of struct fltsim_fs_ops is its address. */
struct fltsim__fs {
    uv_mutex_t lock;
    const struct fltsim__fs_store_ops *ops;
    ULONG open_magic; /* marks this kind of file system's opens */
    bool read_only;   /* every change is STATUS_MEDIA_WRITE_PROTECTED */
    bool no_fast_io;  /* fast I/O is always declined */
    struct fltsim__fs_file *volume;
    LIST_ENTRY opens; /* every open not yet closed */
    ULONG open_count;
};

/* What a file system's storage does for the shared handlers, in four tables
 * each of its files implements. Every op is called with fs->lock held; file
 * is one of this file system's, never the volume unless said. Statuses are
 * the storage's own (hostfs: the host's errors through fltsim__hostfs_status);
 * nothing changes on failure unless said. Ops marked optional may be NULL. */

/* Create, cleanup and close (fs_create.c). walk is the file system's own
 * state of one create. */
struct fltsim__fs_create_ops {
    /* IRP_MJ_CREATE: fltsim__fs_create with a walk state of its own, which it
     * frees after. */
    NTSTATUS (*create_cb)(struct fltsim__fs *fs, PFLT_CALLBACK_DATA data, ULONG_PTR *information);
    /* Starts the walk at the directory base, or at the root when base is
     * NULL. */
    NTSTATUS (*walk_start_cb)(struct fltsim__fs *fs, void *walk, struct fltsim__fs_file *base);
    /* Walks name[0..last_start) (checked components, each ending in a
     * backslash) from there, STATUS_OBJECT_PATH_NOT_FOUND when one is not a
     * directory, and looks up the last component name[last_start..len):
     * *exists. STATUS_REPARSE when a component before the last is a reparse
     * point: the walk's directory is then that one (walk_file_cb with last
     * false gives it) and *stop the index of the backslash after it. */
    NTSTATUS (*walk_cb)
    (struct fltsim__fs *fs, void *walk, const WCHAR *name, size_t len, size_t last_start,
     bool *exists, size_t *stop);
    /* The control block of the walk's directory (last false) or of the
     * existing last component (last true). *fresh: made for this create, so
     * unused_cb frees it when no open takes it. */
    NTSTATUS (*walk_file_cb)
    (struct fltsim__fs *fs, void *walk, bool last, struct fltsim__fs_file **file, bool *fresh);
    /* The walk's directory's control block if one is live, else NULL. Cannot
     * fail. */
    struct fltsim__fs_file *(*walk_dir_live_cb)(struct fltsim__fs *fs, void *walk);
    /* Optional: the checks of a new file or directory that need the storage,
     * before anything is allocated (memfs: its size, room in the directory). */
    NTSTATUS (*create_check_cb)
    (struct fltsim__fs *fs, void *walk, const struct fltsim__fs_create *a);
    /* Creates the last component (last, last_len units) as a directory
     * (a->dir_file) or a file with a's attributes and allocation: *file, not
     * yet opened. */
    NTSTATUS (*new_file_cb)
    (struct fltsim__fs *fs, void *walk, const struct fltsim__fs_create *a, const WCHAR *last,
     size_t last_len, struct fltsim__fs_file **file);
    /* Optional (NULL: no named streams; a name with a stream part is then
     * STATUS_OBJECT_NAME_INVALID, as on a file system without them): the
     * named data stream name[0..len) (checked, no type) of base, a file or
     * directory (not the volume). *stream NULL when it does not exist and
     * not create; with create a missing one is made, empty (*stream, not
     * yet opened). The stream's control block is its own (kind
     * FLTSIM__FS_FILE, named_stream set): share access, locks and delete
     * are per stream. */
    NTSTATUS(*stream_cb)
    (struct fltsim__fs *fs, struct fltsim__fs_file *base, const WCHAR *name, size_t len,
     bool create, struct fltsim__fs_file **stream);
    /* Replaces an existing file's data for FILE_SUPERSEDE, FILE_OVERWRITE or
     * FILE_OVERWRITE_IF: empty, with a's attributes. */
    NTSTATUS (*overwrite_cb)
    (struct fltsim__fs *fs, struct fltsim__fs_file *file, const struct fltsim__fs_create *a);
    /* The last handle of a delete-pending file or directory (not the root) is
     * gone: takes it out of the namespace (setting unlinked) if it can. Cannot
     * fail. */
    void (*remove_cb)(struct fltsim__fs *fs, struct fltsim__fs_file *file);
    /* The last open of file (the volume too) has closed, or a control block
     * the walk made was not opened after all: frees it unless the namespace
     * still holds it. */
    void (*unused_cb)(struct fltsim__fs *fs, struct fltsim__fs_file *file);
};

/* Read, write and flush (fs_rw.c, fs_core.c). */
struct fltsim__fs_io_ops {
    /* A file's end of file. */
    NTSTATUS (*eof_cb)(struct fltsim__fs *fs, struct fltsim__fs_file *file, ULONG64 *eof);
    /* Reads count bytes (count > 0, all below the end of file) at off:
     * *done bytes. */
    NTSTATUS (*read_cb)
    (struct fltsim__fs *fs, struct fltsim__fs_file *file, void *buffer, ULONG64 count, ULONG64 off,
     ULONG64 *done);
    /* Optional: a file about to be written can take it. */
    NTSTATUS (*writable_cb)(struct fltsim__fs *fs, struct fltsim__fs_file *file);
    /* Writes count bytes (count > 0) at off to a file whose data ended at
     * eof: paging I/O within eof, changing nothing else; otherwise moving the
     * end of file and what a write changes (times, archive bit), all or
     * nothing. *done bytes. */
    NTSTATUS (*write_cb)
    (struct fltsim__fs *fs, struct fltsim__fs_file *file, const void *buffer, ULONG64 count,
     ULONG64 off, ULONG64 eof, bool paging, ULONG64 *done);
    /* Optional: IRP_MJ_FLUSH_BUFFERS on any open file, the volume included
     * (NULL: nothing is cached, success). */
    NTSTATUS (*flush_cb)(struct fltsim__fs *fs, struct fltsim__fs_file *file);
};

/* Query and set information, volume information (fs_shared.c). */
struct fltsim__fs_info_ops {
    /* What a query reports about file (fs_shared.h). */
    NTSTATUS(*facts_cb)
    (struct fltsim__fs *fs, struct fltsim__fs_file *file, struct fltsim__fs_facts *f);
    /* The full path of a linked file from the volume root ("\\" for the
     * root), malloc'ed, *units long; NULL when out of memory. */
    WCHAR *(*path_cb)(struct fltsim__fs *fs, struct fltsim__fs_file *file, size_t *units);
    /* FileBasicInformation: the times given and the attributes the storage
     * keeps (fltsim__fs_basic_check passed). */
    NTSTATUS (*set_basic_cb)
    (struct fltsim__fs *fs, struct fltsim__fs_file *file, const FILE_BASIC_INFORMATION *b);
    /* FileEndOfFileInformation: a file's new end of file, not its current one. */
    NTSTATUS (*set_eof_cb)
    (struct fltsim__fs *fs, PFILE_OBJECT fo, struct fltsim__fs_file *file, ULONG64 eof);
    /* FileAllocationInformation: a file's new allocation size. */
    NTSTATUS (*set_allocation_cb)
    (struct fltsim__fs *fs, PFILE_OBJECT fo, struct fltsim__fs_file *file, ULONG64 size);
    /* FileRenameInformation: moves file (not the root) to name[0..len) (not
     * checked) in the directory dir, or in its own directory when dir is NULL,
     * replacing what is there when replace. */
    NTSTATUS (*rename_cb)
    (struct fltsim__fs *fs, struct fltsim__fs_file *file, struct fltsim__fs_file *dir,
     const WCHAR *name, size_t len, BOOLEAN replace);
    /* Optional (NULL: STATUS_INVALID_PARAMETER): FileStreamInformation of
     * file or of the file whose named stream it is (length at least the
     * record's fixed part, buffer not NULL): the default stream "::$DATA" of
     * a file and each named stream ":name:$DATA", packed 8-byte aligned;
     * STATUS_BUFFER_OVERFLOW when not all fit. *information bytes used. */
    NTSTATUS(*streams_cb)
    (struct fltsim__fs *fs, struct fltsim__fs_file *file, void *buffer, ULONG length,
     ULONG_PTR *information);
    /* What a volume query reports. */
    NTSTATUS (*volume_facts_cb)(struct fltsim__fs *fs, struct fltsim__fs_volume_facts *v);
    /* Optional, both or neither (NULL: the file system keeps no reparse
     * points). reparse_get_cb: file's reparse point as set (the
     * REPARSE_DATA_BUFFER or REPARSE_GUID_DATA_BUFFER bytes), *data NULL and
     * *len 0 when it has none; a named stream answers for its file. Cannot
     * fail. reparse_set_cb: replaces it with a copy of data[0..len) (checked
     * by fs_reparse.c), or deletes it when len is 0, setting or clearing
     * FILE_ATTRIBUTE_REPARSE_POINT and the change time.
     * STATUS_INSUFFICIENT_RESOURCES (nothing changed). */
    void (*reparse_get_cb)(struct fltsim__fs *fs, struct fltsim__fs_file *file, const UCHAR **data,
                           USHORT *len);
    NTSTATUS(*reparse_set_cb)
    (struct fltsim__fs *fs, struct fltsim__fs_file *file, const void *data, USHORT len);
};

/* Directories and their scans (fs_dir.c; o an open of a directory). */
struct fltsim__fs_dir_ops {
    /* Whether a directory has no entries (*empty). */
    NTSTATUS (*dir_empty_cb)(struct fltsim__fs *fs, struct fltsim__fs_file *file, bool *empty);
    /* Optional: frees the scan state of an open that closes. */
    void (*open_fini_cb)(struct fltsim__fs *fs, struct fltsim__fs_open *o);
    /* Optional: before each query, what the scan needs of the storage. */
    NTSTATUS (*scan_begin_cb)(struct fltsim__fs *fs, struct fltsim__fs_open *o);
    /* The handle's scan starts over: scan_phase and the resume point. */
    void (*scan_restart_cb)(struct fltsim__fs *fs, struct fltsim__fs_open *o);
    /* Optional: after each query that scan_begin_cb began. */
    void (*scan_end_cb)(struct fltsim__fs *fs, struct fltsim__fs_open *o);
    /* The scan itself; ctx is the open (struct fltsim__fs_open *). */
    struct fltsim__fs_scan_ops scan;
};

struct fltsim__fs_store_ops {
    size_t open_size; /* bytes of the per-open state, which begins with struct fltsim__fs_open */
    /* A create relative to a directory that is gone (unlinked) finds no path
     * (STATUS_OBJECT_PATH_NOT_FOUND, hostfs: its host path is gone) rather
     * than an empty directory (memfs). */
    bool unlinked_base_not_found;
    const struct fltsim__fs_create_ops *create;
    const struct fltsim__fs_io_ops *io;
    const struct fltsim__fs_info_ops *info;
    const struct fltsim__fs_dir_ops *dir;
};

/* ---- fs_core.c: objects and entry points ---- */

/* Sets up fs (zeroed by the caller) for ops, with open_magic marking its
 * opens. STATUS_INSUFFICIENT_RESOURCES when the lock cannot be made. */
NTSTATUS fltsim__fs_init(struct fltsim__fs *fs, const struct fltsim__fs_store_ops *ops,
                         ULONG open_magic);
/* Frees every open not yet closed (their file objects untouched) and the
 * lock; the file system then frees its files. */
void fltsim__fs_fini(struct fltsim__fs *fs);
/* fltsim_memfs_open_count / fltsim_hostfs_open_count; takes the lock. */
ULONG fltsim__fs_open_count(struct fltsim__fs *fs);

/* The open of a file object fs opened, or NULL when the file object is NULL,
 * was not opened by fs, or has been closed. */
struct fltsim__fs_open *fltsim__fs_open_of(struct fltsim__fs *fs, PFILE_OBJECT fo);
/* A new open (ops->open_size bytes, zeroed, marked) not yet on any list, or
 * NULL. Freed with free() while the create has not committed it. */
struct fltsim__fs_open *fltsim__fs_open_new(struct fltsim__fs *fs);
/* Frees a committed open (off fs->opens) without touching its file object. */
void fltsim__fs_open_free(struct fltsim__fs *fs, struct fltsim__fs_open *o);

/* The struct fltsim_fs_ops entry points; ctx is the file system (its
 * struct fltsim__fs). */
NTSTATUS fltsim__fs_irp_cb(void *ctx, PFLT_CALLBACK_DATA data);
BOOLEAN fltsim__fs_fast_io_cb(void *ctx, PFLT_CALLBACK_DATA data);
NTSTATUS fltsim__fs_filter_cb(void *ctx, PFLT_CALLBACK_DATA data);

/* ---- fs_create.c: create, cleanup, close ---- */

/* IRP_MJ_CREATE: the NTFS create rules over the file system's walk (walk:
 * its zeroed state for this create, freed by the caller after).
 * *information = IoStatus.Information. */
NTSTATUS fltsim__fs_create(struct fltsim__fs *fs, PFLT_CALLBACK_DATA data, void *walk,
                           ULONG_PTR *information);
NTSTATUS fltsim__fs_cleanup(struct fltsim__fs *fs, PFLT_CALLBACK_DATA data);
NTSTATUS fltsim__fs_close(struct fltsim__fs *fs, PFLT_CALLBACK_DATA data);

/* ---- fs_rw.c: read and write, shared by the IRP and fast-I/O paths ---- */

NTSTATUS fltsim__fs_read(struct fltsim__fs *fs, PFILE_OBJECT fo, struct fltsim__fs_open *o,
                         ULONG irp_flags, LARGE_INTEGER offset, ULONG length, void *buffer,
                         ULONG_PTR *information);
NTSTATUS fltsim__fs_write(struct fltsim__fs *fs, PFILE_OBJECT fo, struct fltsim__fs_open *o,
                          ULONG irp_flags, LARGE_INTEGER offset, ULONG length, const void *buffer,
                          ULONG_PTR *information);
/* The byte-range lock check of a read or write on o (fltsim__fs_lock_check_rw):
 * the end of file is asked only when the file has locks, and a file whose end
 * cannot be read passes (the read or write reports it). */
NTSTATUS fltsim__fs_lock_check(struct fltsim__fs *fs, struct fltsim__fs_open *o,
                               PFLT_CALLBACK_DATA data);

/* ---- fs_shared.c: query and set information ---- */

NTSTATUS fltsim__fs_query_info(struct fltsim__fs *fs, PFILE_OBJECT fo, struct fltsim__fs_open *o,
                               FILE_INFORMATION_CLASS cls, void *buffer, ULONG length,
                               ULONG_PTR *information);
NTSTATUS fltsim__fs_set_info(struct fltsim__fs *fs, PFLT_CALLBACK_DATA data);
NTSTATUS fltsim__fs_query_volume(struct fltsim__fs *fs, PFLT_CALLBACK_DATA data,
                                 ULONG_PTR *information);

/* ---- fs_dir.c: directory control ---- */

NTSTATUS fltsim__fs_directory_control(struct fltsim__fs *fs, PFLT_CALLBACK_DATA data,
                                      ULONG_PTR *information);

/* ---- fs_control.c, fs_reparse.c: controls and reparse points ---- */

/* IRP_MJ_FILE_SYSTEM_CONTROL with IRP_MN_USER_FS_REQUEST or IRP_MN_KERNEL_CALL
 * on an open of fs: FSCTL_SET_REPARSE_POINT, FSCTL_GET_REPARSE_POINT and
 * FSCTL_DELETE_REPARSE_POINT as NTFS answers them (fs_reparse.c; on a file
 * system that keeps no reparse points GET is STATUS_NOT_A_REPARSE_POINT and
 * SET/DELETE STATUS_INVALID_DEVICE_REQUEST), FSCTL_IS_VOLUME_MOUNTED
 * STATUS_SUCCESS; every other code (and every other minor) is
 * STATUS_INVALID_DEVICE_REQUEST, as for a control a file system does not
 * implement. *information = bytes returned (0 unless said). */
NTSTATUS fltsim__fs_fs_control(struct fltsim__fs *fs, struct fltsim__fs_open *o,
                               PFLT_CALLBACK_DATA data, ULONG_PTR *information);

/* A create met file, a reparse point (fltsim__fs_create: an intermediate
 * directory, or the last component without FILE_OPEN_REPARSE_POINT): the
 * reparse data as FltMgr hands it to the filters' post-create, a
 * FLT_TAG_DATA_BUFFER in system pool (the stored buffer with
 * UnparsedNameLength = unparsed bytes of the name after the component), in
 * data->TagData; *information = the tag; STATUS_REPARSE.
 * STATUS_INSUFFICIENT_RESOURCES. */
NTSTATUS fltsim__fs_reparse_create(struct fltsim__fs *fs, struct fltsim__fs_file *file,
                                   PFLT_CALLBACK_DATA data, size_t unparsed_units,
                                   ULONG_PTR *information);
/* The tag of file's reparse point, 0 when it has none (or the file system
 * keeps none). Cannot fail. */
ULONG fltsim__fs_reparse_tag(struct fltsim__fs *fs, struct fltsim__fs_file *file);
/* FSCTL_SET_REPARSE_POINT's checks of the buffer in[0..n) against file and
 * the store (not the handle's access or the volume's writability), then the
 * store: the statuses of fltsim__fs_fs_control's SET. */
NTSTATUS fltsim__fs_reparse_set(struct fltsim__fs *fs, struct fltsim__fs_file *file,
                                const UCHAR *in, ULONG n);
/* The three reparse FSCTLs of fltsim__fs_fs_control (o NULL: not an open of
 * fs, STATUS_INVALID_PARAMETER). */
NTSTATUS fltsim__fs_reparse_control(struct fltsim__fs *fs, struct fltsim__fs_open *o,
                                    PFLT_CALLBACK_DATA data, ULONG_PTR *information);

#endif /* FLTSIM_FS_CORE_H */
