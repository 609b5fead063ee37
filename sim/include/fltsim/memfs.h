/*
 * memfs: an in-memory, NTFS-like file system for the bottom of the simulated
 * stack. It implements struct fltsim_fs_ops (fltsim/model.h): the model hands
 * it IRP, fast-I/O and FS-filter requests as FLT_CALLBACK_DATA, and memfs owns
 * FileObject->FsContext (the file) and FsContext2 (the per-open state) of the
 * file objects the I/O manager creates. The helpers below build and inspect a
 * namespace directly, bypassing the filter stack, for tests and scenarios.
 *
 * Semantics follow NTFS where the simulator can model them: case-insensitive,
 * case-preserving names; share access as IoCheckShareAccess; delete pending and
 * delete on close; rename with replace; directory enumeration with wildcards.
 * Timestamps come from a deterministic clock (see struct fltsim_memfs_options).
 * Not modeled: alternate data streams, hard links, reparse points, EAs,
 * security descriptors (every access is granted), short names, byte-range
 * locks, oplocks, change notification.
 *
 * Threading: every function may be called from any thread. One mutex per memfs
 * is held across each request and each helper call, so requests on one memfs
 * are serialized; nothing is ever called back with it held.
 */
#ifndef FLTSIM_MEMFS_H
#define FLTSIM_MEMFS_H

#include <fltsim/model.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fltsim_memfs;

/* The fast-I/O entry always declines (returns FALSE), so the I/O manager
 * sends an IRP for every operation. */
#define FLTSIM_MEMFS_NO_FAST_IO 0x00000001

/* 2024-01-01T00:00:00Z as a FILETIME (100 ns units since 1601-01-01). */
#define FLTSIM_MEMFS_DEFAULT_START_TIME 133485408000000000LL
/* Every timestamp memfs takes is the previous one plus this (10 ms). */
#define FLTSIM_MEMFS_CLOCK_STEP 100000LL
/* Sector size: non-cached, non-paging I/O must be aligned to it. */
#define FLTSIM_MEMFS_SECTOR_SIZE 512
/* Allocation unit: allocation sizes are rounded up to it. */
#define FLTSIM_MEMFS_CLUSTER_SIZE 4096
/* File id of the root directory; files and directories created later get
 * 6, 7, ... in creation order (ids are never reused). */
#define FLTSIM_MEMFS_ROOT_FILE_ID 5
/* Largest end of file memfs stores. A write or extension beyond it fails with
 * STATUS_DISK_FULL, as a real volume of this size would. */
#define FLTSIM_MEMFS_MAX_FILE_SIZE (1ULL << 32)

struct fltsim_memfs_options {
    ULONG flags; /* FLTSIM_MEMFS_* */
    /* The first timestamp memfs takes (the root directory's times), as a
     * FILETIME; 0 = FLTSIM_MEMFS_DEFAULT_START_TIME. Each later timestamp is
     * the previous one plus FLTSIM_MEMFS_CLOCK_STEP, whatever the real time,
     * so runs are reproducible. */
    LONGLONG start_time;
    /* Limit on the sum of the end-of-file sizes of all files (directories take
     * no space); 0 = unlimited. A write, extension or add_file that would go
     * beyond it fails with STATUS_DISK_FULL and changes nothing. */
    ULONG64 capacity_bytes;
};

/* Creates an empty memfs holding only the root directory. options may be NULL
 * (all defaults).
 * Any thread. On success *out owns the file system; free it with
 * fltsim_memfs_destroy, or hand it to a volume (fltsim_memfs_ops.release_cb
 * frees it at dismount).
 * STATUS_INVALID_PARAMETER: out is NULL, an unknown flag, or a negative
 * start_time. STATUS_INSUFFICIENT_RESOURCES: out of memory.
 * On failure *out is NULL (when out is not NULL). */
NTSTATUS fltsim_memfs_create(const struct fltsim_memfs_options *options, struct fltsim_memfs **out);

/* Frees fs and everything in it: files, directories, and the per-open state of
 * file objects that were never closed (their FsContext/FsContext2 are left
 * dangling; the file objects themselves belong to the I/O manager and are not
 * touched). NULL is ignored. Must not be called while a request on fs is
 * running. Cannot fail. */
void fltsim_memfs_destroy(struct fltsim_memfs *fs);

/* The ops table a volume mounts memfs with: name "memfs", irp_cb, fast_io_cb,
 * fs_filter_cb, and release_cb = fltsim_memfs_destroy (the volume owns the
 * memfs it was mounted over and frees it at dismount). The fs argument of
 * every op is the struct fltsim_memfs *. */
extern const struct fltsim_fs_ops fltsim_memfs_ops;

/* ---- setup and inspection, bypassing the filter stack ---- */

/* Paths for the helpers below are NUL-terminated, start with a backslash and
 * name components from the root: L"\\dir\\sub\\a.txt"; L"\\" is the root.
 * Components follow the create rules: not empty, not "." or "..", at most 255
 * units, no character below 0x20 and none of < > : " / | ? *. Names compare
 * case-insensitively. Any thread; each call is atomic with respect to
 * requests. On failure nothing is created or changed. */

/* Creates a directory and any missing intermediate directories (like
 * mkdir -p). Succeeds when the directory already exists (including L"\\");
 * a trailing backslash is allowed. New directories get all four times from
 * one tick of the clock and attributes FILE_ATTRIBUTE_DIRECTORY.
 * STATUS_INVALID_PARAMETER (fs or path NULL), STATUS_OBJECT_NAME_INVALID (bad
 * path), STATUS_OBJECT_NAME_COLLISION (the path or an intermediate component
 * is a file), STATUS_DELETE_PENDING (a directory to create into is delete
 * pending), STATUS_INSUFFICIENT_RESOURCES. */
NTSTATUS fltsim_memfs_add_directory(struct fltsim_memfs *fs, PCWSTR path);

/* Creates a file holding a copy of size bytes of data (data may be NULL when
 * size is 0), creating missing intermediate directories. The file gets
 * FILE_ATTRIBUTE_ARCHIVE, an allocation size of size rounded up to the cluster
 * size, and all four times from one tick of the clock.
 * STATUS_INVALID_PARAMETER (fs or path NULL, or data NULL with size > 0),
 * STATUS_OBJECT_NAME_INVALID (bad path, or the root), STATUS_OBJECT_NAME_COLLISION
 * (the path exists, or an intermediate component is a file),
 * STATUS_DELETE_PENDING (the parent is delete pending), STATUS_DISK_FULL
 * (capacity or FLTSIM_MEMFS_MAX_FILE_SIZE), STATUS_INSUFFICIENT_RESOURCES. */
NTSTATUS fltsim_memfs_add_file(struct fltsim_memfs *fs, PCWSTR path, const void *data, size_t size);
/* As fltsim_memfs_add_file with size zero bytes as the data, without a
 * buffer of them: the memory is not touched until the file is written, so a
 * large file is cheap (the replay's inferred namespace). Same statuses. */
NTSTATUS fltsim_memfs_add_zero_file(struct fltsim_memfs *fs, PCWSTR path, size_t size);

/* Copies the whole content of a file into buf (size bytes of room) and sets
 * *out_size to the file's size. buf may be NULL when size is 0 (to learn the
 * size). A delete-pending file can still be read.
 * STATUS_INVALID_PARAMETER (fs, path or out_size NULL, or buf NULL with
 * size > 0), STATUS_OBJECT_NAME_INVALID, STATUS_OBJECT_NAME_NOT_FOUND,
 * STATUS_OBJECT_PATH_NOT_FOUND, STATUS_FILE_IS_A_DIRECTORY,
 * STATUS_BUFFER_TOO_SMALL (nothing copied; *out_size = the size needed). */
NTSTATUS fltsim_memfs_read_file(struct fltsim_memfs *fs, PCWSTR path, void *buf, size_t size,
                                size_t *out_size);

struct fltsim_memfs_stat {
    BOOLEAN exists;
    BOOLEAN directory;
    BOOLEAN delete_pending;
    ULONG attributes; /* as stored: 0 for a file without attributes, never NORMAL */
    ULONG64 size;     /* end of file; 0 for directories */
    ULONG64 file_id;
    ULONG handles; /* file objects opened on it whose cleanup has not come yet */
    ULONG opens;   /* file objects opened on it not yet closed */
};

/* Makes the file or directory at path a reparse point, as
 * FSCTL_SET_REPARSE_POINT with buffer[0..length) (a REPARSE_DATA_BUFFER, or
 * a REPARSE_GUID_DATA_BUFFER for a tag not Microsoft's) would: the same
 * checks and statuses (STATUS_IO_REPARSE_DATA_INVALID,
 * STATUS_IO_REPARSE_TAG_INVALID, STATUS_NOT_A_DIRECTORY for a junction on a
 * file, STATUS_DIRECTORY_NOT_EMPTY, STATUS_IO_REPARSE_TAG_MISMATCH...), and
 * the path statuses of fltsim_memfs_stat. Nothing changes on failure. */
NTSTATUS fltsim_memfs_set_reparse_point(struct fltsim_memfs *fs, PCWSTR path, const void *buffer,
                                        size_t length);

/* Describes the file or directory at path. *st is always filled: all zero
 * with exists FALSE when the path does not name anything.
 * STATUS_INVALID_PARAMETER (fs, path or st NULL), STATUS_OBJECT_NAME_INVALID,
 * STATUS_OBJECT_NAME_NOT_FOUND (the last component is missing),
 * STATUS_OBJECT_PATH_NOT_FOUND (an intermediate component is missing or is a
 * file). */
NTSTATUS fltsim_memfs_stat(struct fltsim_memfs *fs, PCWSTR path, struct fltsim_memfs_stat *st);

/* Number of per-open states (file objects successfully created, volume opens
 * included) not yet closed: 0 once every file object has been closed, which
 * tests use as a leak check. Cannot fail. */
ULONG fltsim_memfs_open_count(struct fltsim_memfs *fs);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_MEMFS_H */
