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
 * case-insensitively (an exact match first, else the first entry that matches
 * ignoring case) and creates new names with the case given. Names the host
 * cannot hold are refused with STATUS_OBJECT_NAME_INVALID.
 *
 * Threading: every function may be called from any thread; requests on one
 * hostfs are serialized by a mutex held across each request.
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
 * directory; UTF-8). options may be NULL. STATUS_INVALID_PARAMETER (NULL
 * argument, unknown flag), STATUS_OBJECT_PATH_NOT_FOUND (root_dir does not
 * exist or is not a directory; fltsim_last_error says which),
 * STATUS_INSUFFICIENT_RESOURCES. */
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
