/*
 * PRIVATE to sim/fs/memfs*.c. The objects behind struct fltsim_memfs: file
 * nodes (FileObject->FsContext), per-open states (FileObject->FsContext2), and
 * the helpers and store ops (fs_core.h) the memfs files share. Nothing else
 * includes this; the rest of the sim and the tests use fltsim/memfs.h.
 *
 * Locking: fs->core.lock guards everything in a memfs. Every function declared
 * here expects it held by the caller (the entry points of fs_core.c and the
 * setup helpers in memfs.c take it).
 */
#ifndef FLTSIM_MEMFS_INTERNAL_H
#define FLTSIM_MEMFS_INTERNAL_H

#include <stdbool.h>

#include <uv.h>

#include "fltsim/memfs.h"
#include "fs_core.h"

#define MEMFS_NODE_MAGIC 0x45444f4eu       /* "NODE" */
#define MEMFS_CCB_MAGIC 0x4e45504fu        /* "OPEN" */
#define MEMFS_NAME_MAX FLTSIM__FS_NAME_MAX /* units in one component */

/* A file, directory, or the volume. Linked nodes hang off their parent's
 * sorted child array; a node that is deleted while file objects still
 * reference it is unlinked (parent NULL, file.unlinked TRUE) and freed at its
 * last close. Every node is also on fs->nodes so destroy finds it. */
struct memfs_node {
    struct fltsim__fs_file file; /* first: FileObject->FsContext */
    struct memfs_node *parent;   /* NULL for the root, the volume and unlinked nodes */
    LIST_ENTRY all_link;         /* fs->nodes */
    WCHAR *name;                 /* case preserved; NULL for root and volume */
    WCHAR *upname;               /* RtlUpcaseUnicodeChar of each unit: the sort key */
    USHORT name_len;             /* units */
    /* the generated 8.3 name (uppercase) while linked; short_len 0 when the
     * long name is already 8.3 */
    USHORT short_len;
    WCHAR short_name[FLTSIM__FS_SHORT_MAX];
    ULONG attributes;            /* stored without FILE_ATTRIBUTE_NORMAL */
    /* the reparse point as set (REPARSE_DATA_BUFFER or REPARSE_GUID_DATA_BUFFER
     * bytes; attributes has FILE_ATTRIBUTE_REPARSE_POINT), NULL when none;
     * a named stream's is its file's */
    UCHAR *reparse;
    USHORT reparse_len;
    LONGLONG creation_time, last_access_time, last_write_time, change_time;
    ULONG64 file_id;
    /* file data: eof bytes valid in data[0..eof); data_capacity bytes allocated */
    UCHAR *data;
    ULONG64 eof, allocation, data_capacity;
    /* named data streams: a file's (or directory's) own, each a node of
     * kind file with stream_base set and no parent; name is the stream's
     * name. Times and attributes are the base's. A stream whose base is
     * deleted is unlinked with it (stream_base NULL). */
    struct memfs_node *stream_base;
    struct memfs_node **streams;
    ULONG stream_count, stream_capacity;
    /* directory entries, sorted by upname (ordinal on 16-bit units) */
    struct memfs_node **children;
    ULONG child_count, child_capacity;
};

/* The state of one successful create (FileObject->FsContext2): the shared
 * part, and where its directory scan stands. */
struct memfs_ccb {
    struct fltsim__fs_open open; /* first: FileObject->FsContext2 */
    BOOLEAN resume_valid; /* resume holds the upcased name of the last child passed */
    USHORT resume_len;
    WCHAR resume[MEMFS_NAME_MAX];
    /* the candidate of the query under way: the node whose information the
     * entry shows, its name, and the open.scan_phase that produced it */
    struct memfs_node *cand_node;
    const WCHAR *cand_name;
    USHORT cand_len;
    UCHAR cand_phase;
};

struct fltsim_memfs {
    struct fltsim__fs core; /* first: the fs of fltsim_memfs_ops */
    LONGLONG clock;     /* the next timestamp */
    ULONG64 capacity;   /* 0 = unlimited */
    ULONG64 data_bytes; /* sum of eof over linked files */
    ULONG64 next_file_id;
    struct memfs_node *root; /* the volume's node is core.volume */
    LIST_ENTRY nodes; /* every allocated node */
};

static inline struct memfs_node *memfs_node_of(const struct fltsim__fs_file *f)
{
    return CONTAINING_RECORD(f, struct memfs_node, file);
}

/* The node whose times and attributes n reports: its base for a named
 * stream still attached, else n. */
static inline struct memfs_node *memfs_main(struct memfs_node *n)
{
    return n->stream_base != NULL ? n->stream_base : n;
}

static inline struct fltsim_memfs *memfs_of(struct fltsim__fs *core)
{
    return CONTAINING_RECORD(core, struct fltsim_memfs, core);
}

/* ---- memfs.c: clock, nodes, names ---- */

/* The next timestamp of the deterministic clock. */
LONGLONG fltsim__memfs_now(struct fltsim_memfs *fs);

/* Finds name (any case) among dir's children. Returns the child or NULL; *pos
 * (when not NULL) gets its index or the index a new child would take. */
struct memfs_node *fltsim__memfs_lookup(const struct memfs_node *dir, const WCHAR *name, size_t len,
                                        ULONG *pos);

/* TRUE when name[0..len) upcased is up[0..len). */
bool fltsim__memfs_name_equal(const WCHAR *up, const WCHAR *name, size_t len);

/* Finds the child whose generated short name is name (any case), or NULL. */
struct memfs_node *fltsim__memfs_lookup_short(const struct memfs_node *dir, const WCHAR *name,
                                              size_t len);

/* What a path component names in dir as NTFS resolves it: the child with that
 * long name, else the one with that short name, else NULL. */
struct memfs_node *fltsim__memfs_find(const struct memfs_node *dir, const WCHAR *name, size_t len);

/* Allocates an unlinked node of kind with a copy of name (not NULL for files
 * and directories), a new file id, all four times = now, and puts it on
 * fs->nodes. NULL when out of memory (nothing changed but the clock). */
struct memfs_node *fltsim__memfs_node_new(struct fltsim_memfs *fs, enum fltsim__fs_kind kind,
                                          const WCHAR *name, size_t len, LONGLONG now);

/* Frees a node that is on no directory (fs->nodes link included). */
void fltsim__memfs_node_free(struct fltsim_memfs *fs, struct memfs_node *n);

/* Makes room for one more child of dir. STATUS_INSUFFICIENT_RESOURCES. */
NTSTATUS fltsim__memfs_reserve_child(struct memfs_node *dir);

/* Inserts child (parent NULL, room reserved) into dir's sorted children and
 * gives it a short name no other name in dir holds (none when its name is
 * already 8.3). */
void fltsim__memfs_link(struct memfs_node *dir, struct memfs_node *child);

/* Removes child from its parent's array (parent stays set by the caller's
 * choice: this only edits the array). */
void fltsim__memfs_detach(struct memfs_node *child);

/* Drops a control block's reference to its file's shared record (freed with
 * the last). */
void fltsim__memfs_perfile_put(struct fltsim__fs_perfile *pf);

/* Deletes a linked node: detaches it, marks it unlinked, returns its data to
 * the capacity, and frees it when no open references it. */
void fltsim__memfs_unlink(struct fltsim_memfs *fs, struct memfs_node *n);

/* Takes every named stream off n (being deleted): each is unlinked, its data
 * returned to the capacity, and freed when no open references it. */
void fltsim__memfs_drop_streams(struct fltsim_memfs *fs, struct memfs_node *n);

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

/* ---- memfs's store ops (fs_core.h), one table per file ---- */

extern const struct fltsim__fs_create_ops fltsim__memfs_create_ops; /* memfs_create.c */
extern const struct fltsim__fs_io_ops fltsim__memfs_io_ops;         /* memfs_io.c */
extern const struct fltsim__fs_info_ops fltsim__memfs_info_ops;     /* memfs_info.c */
extern const struct fltsim__fs_dir_ops fltsim__memfs_dir_ops;       /* memfs_dir.c */

/* What a query reports about a node (memfs_info.c; the info ops' facts_cb).
 * Cannot fail. */
NTSTATUS fltsim__memfs_facts(struct fltsim__fs *core, struct fltsim__fs_file *file,
                             struct fltsim__fs_facts *f);

#endif /* FLTSIM_MEMFS_INTERNAL_H */
