/*
 * PRIVATE to sim/fs/memfs*.c. The objects behind struct fltsim_memfs: file
 * nodes (FileObject->FsContext), per-open states (FileObject->FsContext2), and
 * the helpers the memfs files share. Nothing else includes this; the rest of
 * the sim and the tests use fltsim/memfs.h.
 *
 * Locking: fs->lock guards everything in a memfs. Every function declared
 * here expects it held by the caller (the entry points in memfs.c take it).
 */
#ifndef FLTSIM_MEMFS_INTERNAL_H
#define FLTSIM_MEMFS_INTERNAL_H

#include <stdbool.h>

#include <uv.h>

#include "fltsim/memfs.h"
#include "fs_shared.h"

#define MEMFS_NODE_MAGIC 0x45444f4eu       /* "NODE" */
#define MEMFS_CCB_MAGIC 0x4e45504fu        /* "OPEN" */
#define MEMFS_NAME_MAX FLTSIM__FS_NAME_MAX /* units in one component */

enum memfs_kind {
    MEMFS_FILE,
    MEMFS_DIRECTORY,
    MEMFS_VOLUME /* the target of volume opens (empty name, no related file object) */
};

/* A file, directory, or the volume. Linked nodes hang off their parent's
 * sorted child array; a node that is deleted while file objects still
 * reference it is unlinked (parent NULL, unlinked TRUE) and freed at its last
 * close. Every node is also on fs->nodes so destroy finds it. */
struct memfs_node {
    ULONG magic;
    enum memfs_kind kind;
    struct memfs_node *parent; /* NULL for the root, the volume and unlinked nodes */
    LIST_ENTRY all_link;       /* fs->nodes */
    WCHAR *name;               /* case preserved; NULL for root and volume */
    WCHAR *upname;             /* RtlUpcaseUnicodeChar of each unit: the sort key */
    USHORT name_len;           /* units */
    ULONG attributes;          /* stored without FILE_ATTRIBUTE_NORMAL */
    LONGLONG creation_time, last_access_time, last_write_time, change_time;
    ULONG64 file_id;
    /* file data: eof bytes valid in data[0..eof); data_capacity bytes allocated */
    UCHAR *data;
    ULONG64 eof, allocation, data_capacity;
    /* directory entries, sorted by upname (ordinal on 16-bit units) */
    struct memfs_node **children;
    ULONG child_count, child_capacity;
    ULONG handles; /* opens whose cleanup has not come */
    ULONG opens;   /* opens not yet closed */
    BOOLEAN delete_pending;
    BOOLEAN unlinked;
    struct fltsim__fs_share share;           /* IoCheckShareAccess's counters */
    struct fltsim__fs_acquires acquires;     /* FS-filter acquires not yet released */
    struct fltsim__fs_locks locks;           /* byte-range locks (files) */
    SECTION_OBJECT_POINTERS section_objects; /* FileObject->SectionObjectPointer; all NULL */
};

/* The state of one successful create (FileObject->FsContext2). */
struct memfs_ccb {
    ULONG magic;
    struct fltsim_memfs *fs;
    struct memfs_node *node;
    LIST_ENTRY link;     /* fs->opens */
    ACCESS_MASK granted; /* the access this open was granted (FileAccessInformation) */
    /* what IoSetShareAccess recorded, for IoRemoveShareAccess at cleanup */
    struct fltsim__fs_share_rec share;
    BOOLEAN delete_on_close;
    BOOLEAN cleaned_up;
    /* directory enumeration */
    BOOLEAN scan_active; /* a pattern has been taken */
    BOOLEAN scan_first;  /* the next query is the first of its scan */
    UCHAR scan_phase;    /* 0: "." next, 1: ".." next, 2: children */
    struct fltsim__fs_pattern pattern;
    BOOLEAN resume_valid; /* resume holds the upcased name of the last child passed */
    USHORT resume_len;
    WCHAR resume[MEMFS_NAME_MAX];
};

struct fltsim_memfs {
    uv_mutex_t lock;
    ULONG flags;
    LONGLONG clock;     /* the next timestamp */
    ULONG64 capacity;   /* 0 = unlimited */
    ULONG64 data_bytes; /* sum of eof over linked files */
    ULONG64 next_file_id;
    struct memfs_node *root;
    struct memfs_node *volume;
    LIST_ENTRY nodes; /* every allocated node */
    LIST_ENTRY opens; /* every per-open state not yet closed */
    ULONG open_count;
};

/* ---- memfs.c: clock, nodes, names ---- */

/* The next timestamp of the deterministic clock. */
LONGLONG fltsim__memfs_now(struct fltsim_memfs *fs);

/* The per-open state of a file object memfs opened, or NULL when the file
 * object is NULL, was not opened by this memfs, or has been closed. */
struct memfs_ccb *fltsim__memfs_ccb_of(struct fltsim_memfs *fs, PFILE_OBJECT fo);

/* Finds name (any case) among dir's children. Returns the child or NULL; *pos
 * (when not NULL) gets its index or the index a new child would take. */
struct memfs_node *fltsim__memfs_lookup(const struct memfs_node *dir, const WCHAR *name, size_t len,
                                        ULONG *pos);

/* Allocates an unlinked node of kind with a copy of name (not NULL for files
 * and directories), a new file id, all four times = now, and puts it on
 * fs->nodes. NULL when out of memory (nothing changed but the clock). */
struct memfs_node *fltsim__memfs_node_new(struct fltsim_memfs *fs, enum memfs_kind kind,
                                          const WCHAR *name, size_t len, LONGLONG now);

/* Frees a node that is on no directory (fs->nodes link included). */
void fltsim__memfs_node_free(struct fltsim_memfs *fs, struct memfs_node *n);

/* Makes room for one more child of dir. STATUS_INSUFFICIENT_RESOURCES. */
NTSTATUS fltsim__memfs_reserve_child(struct memfs_node *dir);

/* Inserts child (parent NULL, room reserved) into dir's sorted children. */
void fltsim__memfs_link(struct memfs_node *dir, struct memfs_node *child);

/* Removes child from its parent's array (parent stays set by the caller's
 * choice: this only edits the array). */
void fltsim__memfs_detach(struct memfs_node *child);

/* Deletes a linked node: detaches it, marks it unlinked, returns its data to
 * the capacity, and frees it when no open references it. */
void fltsim__memfs_unlink(struct fltsim_memfs *fs, struct memfs_node *n);

/* Replaces n's name with a copy of name[0..len). STATUS_INSUFFICIENT_RESOURCES
 * (name unchanged). Does not re-sort the parent. */
NTSTATUS fltsim__memfs_set_name(struct memfs_node *n, const WCHAR *name, size_t len);

/* Sets a file's end of file, zero-filling what grows and keeping the
 * allocation at least the end rounded to a cluster. STATUS_DISK_FULL beyond
 * the capacity or FLTSIM_MEMFS_MAX_FILE_SIZE, STATUS_INSUFFICIENT_RESOURCES;
 * nothing changes on failure. Shrinking cannot fail. */
NTSTATUS fltsim__memfs_set_eof(struct fltsim_memfs *fs, struct memfs_node *n, ULONG64 eof);

/* Length in units of the full path of a linked node ("\\" for the root). */
size_t fltsim__memfs_path_len(const struct memfs_node *n);
/* Writes the full path (path_len units, no terminator) into out. */
void fltsim__memfs_path_fill(const struct memfs_node *n, WCHAR *out, size_t len);

/* Attributes as reported to callers: FILE_ATTRIBUTE_NORMAL when none. */
ULONG fltsim__memfs_report_attributes(const struct memfs_node *n);

/* What a query reports about n (fs_shared.h). */
void fltsim__memfs_facts(const struct memfs_node *n, struct fltsim__fs_facts *f);

/* ---- memfs_create.c ---- */

NTSTATUS fltsim__memfs_create_irp(struct fltsim_memfs *fs, PFLT_CALLBACK_DATA data,
                                  ULONG_PTR *information);
NTSTATUS fltsim__memfs_cleanup_irp(struct fltsim_memfs *fs, PFLT_CALLBACK_DATA data);
NTSTATUS fltsim__memfs_close_irp(struct fltsim_memfs *fs, PFLT_CALLBACK_DATA data);
/* Frees a per-open state without touching its file object (destroy). */
void fltsim__memfs_ccb_free(struct fltsim_memfs *fs, struct memfs_ccb *ccb);

/* ---- memfs_io.c: read, write (shared by the IRP and fast-I/O paths) ---- */

NTSTATUS fltsim__memfs_read(struct fltsim_memfs *fs, PFILE_OBJECT fo, struct memfs_ccb *ccb,
                            ULONG irp_flags, LARGE_INTEGER offset, ULONG length, void *buffer,
                            ULONG_PTR *information);
NTSTATUS fltsim__memfs_write(struct fltsim_memfs *fs, PFILE_OBJECT fo, struct memfs_ccb *ccb,
                             ULONG irp_flags, LARGE_INTEGER offset, ULONG length,
                             const void *buffer, ULONG_PTR *information);

/* ---- memfs_info.c ---- */

NTSTATUS fltsim__memfs_query_info(struct fltsim_memfs *fs, PFILE_OBJECT fo, struct memfs_ccb *ccb,
                                  FILE_INFORMATION_CLASS cls, void *buffer, ULONG length,
                                  ULONG_PTR *information);
NTSTATUS fltsim__memfs_set_info_irp(struct fltsim_memfs *fs, PFLT_CALLBACK_DATA data);
NTSTATUS fltsim__memfs_query_volume_irp(struct fltsim_memfs *fs, PFLT_CALLBACK_DATA data,
                                        ULONG_PTR *information);

/* ---- memfs_dir.c ---- */

NTSTATUS fltsim__memfs_directory_control_irp(struct fltsim_memfs *fs, PFLT_CALLBACK_DATA data,
                                             ULONG_PTR *information);

#endif /* FLTSIM_MEMFS_INTERNAL_H */
