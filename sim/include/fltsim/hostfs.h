/*
 * hostfs: a file system for the bottom of the simulated stack over a real host
 * directory, through libuv's file-system API (uv_fs_*), so that a scenario or
 * a replay can run against real files. It implements struct fltsim_fs_ops
 * (fltsim/model.h) with the same NTFS semantics and status mapping as memfs
 * (fltsim/memfs.h) wherever the host allows: dispositions, share access among
 * the file objects it opened, delete pending and delete on close, rename with
 * replace, directory enumeration with wildcards.
 *
 * Names: NTFS is case-insensitive and case-preserving. Where the host file
 * system is case-sensitive, hostfs looks each path component up
 * case-insensitively (an exact match first, else the first entry in byte
 * order equal ignoring case, folding each UTF-16 unit with
 * RtlUpcaseUnicodeChar) and creates new names with the case given. Opens
 * under different spellings of one host file share one state (keyed by the
 * host's device and inode). Names the host cannot hold (an unpaired
 * surrogate, more than 255 UTF-8 bytes) are STATUS_OBJECT_NAME_INVALID.
 *
 * Confinement: paths never leave the root. "." and ".." are not names (as
 * in memfs), and symbolic links are reparse points hostfs does not model:
 * creating or opening through one, anywhere in the path, is
 * STATUS_ACCESS_DENIED, files are opened with O_NOFOLLOW, and directory
 * queries do not list links, special files, or host names that are not
 * valid UTF-8 or not valid NT names.
 *
 * State: share access, delete pending and delete on close live in hostfs's
 * state for the host files it opened (other processes' opens of the host
 * files are not seen). A delete-pending file or directory is removed from
 * the host at its last cleanup, as NTFS does; the data stays readable by
 * paging I/O until the last close. A host that refuses the removal then
 * keeps the file.
 *
 * Information from the host's stat: times (creation = birth time where the
 * host has one, else change time), FILE_ATTRIBUTE_DIRECTORY, ARCHIVE on
 * every file, READONLY when the owner's write bit is clear; the file id is
 * the inode; the allocation is the end of file rounded to 4096. Setting basic
 * information sets the last access and last write times (libuv passes them
 * as double seconds: sub-microsecond precision may be lost) and the
 * read-only bit; the creation and change times and other attributes are
 * left alone (the host cannot hold them). An allocation size at create, or
 * one above the end of file, is not reserved.
 *
 * Host errors map to NTSTATUS: ENOENT -> OBJECT_NAME_NOT_FOUND (last
 * component) or OBJECT_PATH_NOT_FOUND, ENOTDIR -> OBJECT_PATH_NOT_FOUND,
 * EEXIST -> OBJECT_NAME_COLLISION, EACCES/EPERM/ELOOP -> ACCESS_DENIED,
 * ENOSPC/EFBIG -> DISK_FULL, ENOTEMPTY -> DIRECTORY_NOT_EMPTY, EROFS ->
 * MEDIA_WRITE_PROTECTED, ENAMETOOLONG -> OBJECT_NAME_INVALID, EISDIR ->
 * FILE_IS_A_DIRECTORY, EBUSY -> SHARING_VIOLATION, ENOMEM ->
 * INSUFFICIENT_RESOURCES, EMFILE/ENFILE -> TOO_MANY_OPENED_FILES, EXDEV ->
 * NOT_SAME_DEVICE, EINVAL -> INVALID_PARAMETER, EIO -> IO_DEVICE_ERROR,
 * anything else -> UNSUCCESSFUL.
 *
 * Not modeled (as memfs): alternate data streams, hard links, EAs, security
 * descriptors, short names, byte-range locks, oplocks, change notification.
 * Changes other processes make to the directory are seen at the next
 * request, but hostfs does not guard against races with them.
 *
 * Threading: every function may be called from any thread; requests on one
 * hostfs are serialized by a mutex held across each request (host calls are
 * synchronous uv_fs_* calls made with it held).
 */
#ifndef FLTSIM_HOSTFS_H
#define FLTSIM_HOSTFS_H

#include <fltsim/model.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fltsim_hostfs;

/* Refuse every modification (create of a new file, write, set information,
 * delete, rename) with STATUS_MEDIA_WRITE_PROTECTED. */
#define FLTSIM_HOSTFS_READ_ONLY 0x00000001

struct fltsim_hostfs_options {
    ULONG flags; /* FLTSIM_HOSTFS_* */
};

/* Creates a hostfs whose root directory is root_dir (an existing host
 * directory; UTF-8; resolved once with realpath, so a link to the root is
 * fine). options may be NULL. Any thread. On success *out owns it; free it
 * with fltsim_hostfs_destroy or hand it to a volume (release_cb frees it at
 * dismount). The host directory is never removed.
 * STATUS_INVALID_PARAMETER (NULL argument, unknown flag),
 * STATUS_OBJECT_PATH_NOT_FOUND (root_dir does not exist or is not a
 * directory), STATUS_INSUFFICIENT_RESOURCES; fltsim_last_error names the
 * argument and the problem. On failure *out is NULL (when out is not NULL). */
NTSTATUS fltsim_hostfs_create(const char *root_dir, const struct fltsim_hostfs_options *options,
                              struct fltsim_hostfs **out);

/* Frees fs and the per-open state of file objects never closed. NULL ignored. */
void fltsim_hostfs_destroy(struct fltsim_hostfs *fs);

/* The ops table: name "hostfs", release_cb = fltsim_hostfs_destroy. */
extern const struct fltsim_fs_ops fltsim_hostfs_ops;

/* Per-open states not yet closed (0 when every file object was closed). */
ULONG fltsim_hostfs_open_count(struct fltsim_hostfs *fs);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_HOSTFS_H */
