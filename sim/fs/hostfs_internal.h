/*
 * PRIVATE to sim/fs/hostfs*.c. The objects behind struct fltsim_hostfs: one
 * file control block per host file or directory that file objects opened
 * through this hostfs reference (FileObject->FsContext), the per-open states
 * (FileObject->FsContext2), and the host helpers and store ops (fs_core.h)
 * the hostfs files share. Nothing else includes this; the rest of the sim and
 * the tests use fltsim/hostfs.h.
 *
 * Locking: fs->core.lock guards everything in a hostfs. Every function
 * declared here expects it held by the caller (the entry points of fs_core.c
 * take it). Host calls are synchronous uv_fs_* calls (loop NULL, no callback)
 * made with the lock held.
 */
#ifndef FLTSIM_HOSTFS_INTERNAL_H
#define FLTSIM_HOSTFS_INTERNAL_H

#include <stdbool.h>

#include <uv.h>

#include "fltsim/hostfs.h"
#include "fs_core.h"

#define HOSTFS_FCB_MAGIC 0x42434648u /* "HFCB" */
#define HOSTFS_CCB_MAGIC 0x42434348u /* "HCCB" */
/* UTF-8 bytes of the longest component the host is asked about; longer
 * names are STATUS_OBJECT_NAME_INVALID (POSIX NAME_MAX). */
#define HOSTFS_HOST_NAME_MAX 255

/* The state hostfs keeps for one host file or directory while file objects
 * opened through this hostfs reference it: share access, delete pending, the
 * handle and open counts (in file), and for a file one host descriptor that
 * serves every open (so the data stays readable between an unlink at the last
 * cleanup and the last close). Found again by the host's (device, inode), so
 * opens under different spellings share it. Freed at its last close. */
struct hostfs_fcb {
    struct fltsim__fs_file file; /* first: FileObject->FsContext */
    LIST_ENTRY link;             /* fs->fcbs */
    char *rel;                   /* host path below the root, '/'-separated; "" for the root */
    ULONG64 dev, ino;
    uv_file fd; /* files: the descriptor (-1 when none could be opened) */
    bool fd_writable;
};

/* The state of one successful create (FileObject->FsContext2): the shared
 * part, and where its directory scan stands. */
struct hostfs_ccb {
    struct fltsim__fs_open open; /* first: FileObject->FsContext2 */
    char *resume; /* host name of the last entry passed (byte order), NULL for none */
    /* the query under way: the directory's entry names in NT order, the one
     * at the position, and its UTF-16 name */
    char **names;
    size_t count, pos;
    WCHAR wname[FLTSIM__FS_NAME_MAX + 1];
};

struct fltsim_hostfs {
    struct fltsim__fs core; /* first: the fs of fltsim_hostfs_ops */
    char *root; /* absolute, resolved host path of the root directory */
    LIST_ENTRY fcbs;
};

static inline struct hostfs_fcb *hostfs_fcb_of(const struct fltsim__fs_file *f)
{
    return CONTAINING_RECORD(f, struct hostfs_fcb, file);
}

static inline struct fltsim_hostfs *hostfs_of(struct fltsim__fs *core)
{
    return CONTAINING_RECORD(core, struct fltsim_hostfs, core);
}

/* ---- hostfs.c: host helpers, names, control blocks ---- */

/* The NTSTATUS for a libuv error (UV_E*). last: the error concerns the last
 * component of a path (ENOENT is then STATUS_OBJECT_NAME_NOT_FOUND, else
 * STATUS_OBJECT_PATH_NOT_FOUND). */
NTSTATUS fltsim__hostfs_status(int uv_err, bool last);

/* root + "/" + rel (+ "/" + name when name is not NULL), malloc'ed; NULL when
 * out of memory. */
char *fltsim__hostfs_abs(const struct fltsim_hostfs *fs, const char *rel, const char *name);
/* rel + "/" + name (or name when rel is ""), malloc'ed; NULL when out of memory. */
char *fltsim__hostfs_join(const char *rel, const char *name);

/* lstat of a host path: 0 or a UV_E* error. */
int fltsim__hostfs_lstat(const char *abs, uv_stat_t *st);
/* fstat of a descriptor: 0 or a UV_E* error. */
int fltsim__hostfs_fstat(uv_file fd, uv_stat_t *st);

/* What a query reports about a host file from its stat. */
void fltsim__hostfs_facts(const uv_stat_t *st, struct fltsim__fs_facts *f);
/* FILETIME of a host time. */
LONGLONG fltsim__hostfs_filetime(uv_timespec_t t);
/* TRUE for a regular file or directory (the only kinds hostfs shows). */
bool fltsim__hostfs_kind_shown(const uv_stat_t *st);

/* Converts one NT name component to UTF-8 for the host (NUL-terminated, at
 * most HOSTFS_HOST_NAME_MAX bytes). STATUS_OBJECT_NAME_INVALID for an unpaired
 * surrogate or a name too long for the host. */
NTSTATUS fltsim__hostfs_name_to_host(const WCHAR *name, size_t len,
                                     char out[HOSTFS_HOST_NAME_MAX + 1]);
/* Converts a host entry name to UTF-16 when it is a name NT can hold (valid
 * UTF-8 and a valid component). Returns the units, or 0 when it cannot be
 * shown. out has room for FLTSIM__FS_NAME_MAX + 1 units. */
size_t fltsim__hostfs_name_from_host(const char *name, WCHAR *out);

/* Finds the host entry named name (an NT component, any case) in the host
 * directory dir_rel: an exact match first, else the first entry in byte
 * order equal ignoring case (RtlUpcaseUnicodeChar on each unit). On success
 * *exists says whether it was found; *out_rel is the entry's path below the
 * root (the host's spelling when found, the name as given when not),
 * malloc'ed; *st its lstat when found. STATUS_ACCESS_DENIED when the entry is
 * a symbolic link or any other kind than a file or directory; host errors
 * through fltsim__hostfs_status. */
NTSTATUS fltsim__hostfs_lookup(struct fltsim_hostfs *fs, const char *dir_rel, const WCHAR *name,
                               size_t len, bool *exists, char **out_rel, uv_stat_t *st);

/* Whether the host directory rel has any entry. STATUS_SUCCESS with *empty. */
NTSTATUS fltsim__hostfs_dir_empty(struct fltsim_hostfs *fs, const char *rel, bool *empty);

/* The control block of the live (not unlinked) host object (dev, ino), or NULL. */
struct hostfs_fcb *fltsim__hostfs_fcb_find(struct fltsim_hostfs *fs, ULONG64 dev, ULONG64 ino);
/* A new control block for rel with stat st (kind from it), holding a copy of
 * rel and, for a file, a descriptor (read-write, else read-only). NULL with
 * *status on failure. */
struct hostfs_fcb *fltsim__hostfs_fcb_new(struct fltsim_hostfs *fs, const char *rel,
                                          const uv_stat_t *st, NTSTATUS *status);
/* Frees a control block (its descriptor closed). */
void fltsim__hostfs_fcb_free(struct fltsim_hostfs *fs, struct hostfs_fcb *fcb);
/* Current stat of a control block's object (fstat for files, lstat by path
 * for directories): 0 or a UV_E* error. */
int fltsim__hostfs_fcb_stat(struct fltsim_hostfs *fs, const struct hostfs_fcb *fcb, uv_stat_t *st);
/* A descriptor of a file's control block that can write: reopens read-write
 * when the one held is read-only. STATUS_ACCESS_DENIED when the host refuses. */
NTSTATUS fltsim__hostfs_fcb_writable(struct fltsim_hostfs *fs, struct hostfs_fcb *fcb);

/* The NT path of a control block ("\\" for the root), malloc'ed; *units its
 * length. NULL when out of memory. */
WCHAR *fltsim__hostfs_nt_path(const struct hostfs_fcb *fcb, size_t *units);

/* ---- hostfs's store ops (fs_core.h), one table per file ---- */

extern const struct fltsim__fs_create_ops fltsim__hostfs_create_ops; /* hostfs_create.c */
extern const struct fltsim__fs_io_ops fltsim__hostfs_io_ops;         /* hostfs_io.c */
extern const struct fltsim__fs_info_ops fltsim__hostfs_info_ops;     /* hostfs_info.c */
extern const struct fltsim__fs_dir_ops fltsim__hostfs_dir_ops;       /* hostfs_dir.c */

/* A file's end of file from the host (fstat; the io ops' eof_cb). */
NTSTATUS fltsim__hostfs_eof(struct fltsim__fs *core, struct fltsim__fs_file *file, ULONG64 *eof);

/* ---- hostfs_dir.c: host directories ---- */

/* Reads a host directory's entry names, sorted as NTFS lists a directory
 * (upcased names, then byte order), without "." and "..". *names (each and
 * the array malloc'ed; free with fltsim__hostfs_names_free) and *count. */
NTSTATUS fltsim__hostfs_list(struct fltsim_hostfs *fs, const char *rel, char ***names,
                             size_t *count);
void fltsim__hostfs_names_free(char **names, size_t count);

#endif /* FLTSIM_HOSTFS_INTERNAL_H */
