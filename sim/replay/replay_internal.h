/*
 * PRIVATE to sim/replay: shared between the parts of the replay (replay.c
 * runs it and issues the calls; replay_scan.c is pass 1, replay_rows.c keeps
 * its rows, replay_request.c maps a row to a call, replay_world.c builds the
 * system and loads the filters, replay_report.c counts, replay_observer.c
 * watches) and the scenario writer of fltsim import (replay_import.c). The
 * rest of the sim and the tests use fltsim/replay.h.
 */
#ifndef FLTSIM_REPLAY_INTERNAL_H
#define FLTSIM_REPLAY_INTERNAL_H

#include <string.h>

#include <fltsim/replay.h>

#include "common/filter_object.h"

struct rbuf {
    unsigned char *data; /* zero-filled beyond what a call wrote */
    size_t cap;
};
bool fltsim__replay_buf_reserve(struct rbuf *b, size_t size);

/* An open-addressing map from strings to indexes (replay.c). get: the value
 * for key, or SIZE_MAX. put: copies the key; false when out of memory. free:
 * frees the keys and leaves the map empty. All zero is empty. */
struct smap {
    char **keys;
    size_t *values;
    size_t cap, count;
};
size_t fltsim__replay_smap_get(const struct smap *m, const char *key);
bool fltsim__replay_smap_put(struct smap *m, const char *key, size_t value);
void fltsim__replay_smap_free(struct smap *m);

/* A drive-letter path: "C:" or "C:\...". */
static inline bool fltsim__replay_drive_path(const char *path)
{
    char c = path[0];
    return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) && path[1] == ':' &&
           (path[2] == '\0' || path[2] == '\\');
}

static inline char fltsim__replay_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* The comparison key of a path: ASCII upper case (NTFS compares names
 * case-insensitively), no trailing backslash but the root's ("C:\"). */
static inline void fltsim__replay_path_key(const char *path, char *out, size_t size)
{
    size_t n = 0;
    for (; path[n] != '\0' && n + 1 < size; n++)
        out[n] = fltsim__replay_upper(path[n]);
    while (n > 3 && out[n - 1] == '\\')
        n--;
    out[n] = '\0';
}

static inline bool fltsim__replay_has_wildcard(const char *s)
{
    return strpbrk(s, "*?<>\"") != NULL;
}

static inline bool fltsim__replay_is_status(const struct fltsim_capture_event *ev, NTSTATUS s)
{
    return ev->has_result && ev->result == s;
}

/* The namespace the first pass infers (replay_scan.c). */
struct ns_entry;
struct ns {
    struct smap index; /* path key -> entry */
    struct ns_entry *entries;
    size_t count, cap;
};

/* The rows the first pass keeps for the second (replay_rows.c), in
 * recorded order: each row to replay as a compact record, and the rows
 * skipped as runs of one reason. All zero is empty. */
struct rrows {
    unsigned char *data; /* the records */
    size_t size, cap;
    size_t last_run;        /* 1 + the offset of the last record when it is a run, else 0 */
    unsigned char *strings; /* interned paths, operation names, file names */
    size_t strings_size, strings_cap;
    uint32_t *slots; /* hash table: 1 + the offset of a string, 0: free */
    size_t slot_cap, slot_count;
    uint64_t kept, runs;
    bool sealed; /* no more rows: the hash table is gone */
};

/* A kept row as the second pass reads it: the event as the reader gave it
 * but for what the replay does not use (process_name is "", detail and
 * result_text are NULL, the times are absent), and what the first pass
 * learned from the Detail of a directory query. */
struct rrow {
    struct fltsim_capture_event ev;
    bool lists_one;       /* QueryDirectory: the Detail lists exactly one name */
    bool lists_dot_first; /* QueryDirectory: the Detail starts "0: ., " */
};

/* Appends a row to replay (its strings are copied). False when out of
 * memory: the store is unchanged but still to be freed. */
bool fltsim__replay_rows_keep(struct rrows *rs, const struct fltsim_capture_event *ev,
                              bool lists_one, bool lists_dot_first);
/* Appends a row not replayed, for reason (a string that outlives the store;
 * compared by address); file_system: it counts as a file-system row. False
 * when out of memory, the store unchanged. */
bool fltsim__replay_rows_skip(struct rrows *rs, const char *reason, bool file_system);
/* The record at *pos, which it advances (start at 0): 1 and *row (its
 * strings valid while the store is), 2 and a run of *count rows skipped for
 * *reason, 0 at the end. */
int fltsim__replay_rows_next(const struct rrows *rs, size_t *pos, struct rrow *row,
                             const char **reason, bool *file_system, uint32_t *count);
/* Ends appending (keep and skip must not be called after): frees the
 * interning table and gives back the unused room. Cannot fail. */
void fltsim__replay_rows_seal(struct rrows *rs);
/* Bytes the store holds (records, strings, the hash table). */
size_t fltsim__replay_rows_bytes(const struct rrows *rs);
void fltsim__replay_rows_free(struct rrows *rs);

struct rvolume {
    char drive;
    const char *host_root; /* NULL: memfs */
    bool read_only;
    struct fltsim_memfs *memfs;
    WCHAR device[40];
};

/* A handle the replay holds: opened by a CreateFile row, or implied. */
struct rhandle {
    HANDLE h;
    uint32_t pid;
    uint32_t id;       /* "h<id>" in an imported scenario */
    bool implied;      /* opened for rows on a file the capture never opened */
    bool asynchronous; /* no FILE_SYNCHRONOUS_IO_* option */
    ACCESS_MASK access;
    uint32_t dir_queries;
    bool exhausted; /* a directory query answered NO MORE FILES or NO SUCH FILE */
    bool exact;     /* the enumeration looked up one name (a filter without wildcards) */
    uint32_t tid; /* the thread that opened it */
};

/* The handles of one (process, path). */
struct hlist {
    struct rhandle **items;
    size_t count, cap;
};

enum rcall_kind {
    RC_CREATE,
    RC_READ,
    RC_WRITE,
    RC_QUERY_INFO,
    RC_SET_INFO,
    RC_RENAME,
    RC_DELETE,
    RC_QUERY_DIR,
    RC_FLUSH,
    RC_ACQUIRE_SECTION,
    RC_RELEASE_SECTION,
    RC_CLOSE,
    RC_QUERY_OPEN,
    RC_QUERY_VOLUME,
    RC_LOCK,
    RC_UNLOCK,
    RC_FS_CONTROL,
    RC_DEVICE_CONTROL,
    RC_QUERY_EA,
    RC_QUERY_SECURITY,
    RC_ACQUIRE_MOD_WRITE,
    RC_RELEASE_MOD_WRITE,
    RC_ACQUIRE_CC_FLUSH,
    RC_RELEASE_CC_FLUSH,
};

/* One call of the I/O API, as issued and as an imported step writes it. */
struct rcall {
    enum rcall_kind kind;
    uint32_t pid, tid;
    struct rhandle *handle; /* the target; for RC_CREATE the handle it opens */
    const char *path;       /* RC_CREATE: "C:\..." */
    bool implied;           /* an implied open (not a recorded row) */
    ACCESS_MASK access;
    ULONG share, disposition, options, attributes;
    LONGLONG allocation;
    ULONG io_flags; /* FLTSIM_IO_* */
    LONGLONG offset;
    ULONG length;
    ULONG info_class;
    const char *pattern;
    bool restart, single;
    LONGLONG value; /* end of file, allocation size, position */
    bool delete_file;
    const char *new_name;
    bool replace;
    ULONG sync_type, protection;
    ULONG code;     /* FSCTL / IOCTL */
    UCHAR minor;    /* unlock */
    bool exclusive, fail_immediately;
    ULONG security_information;
    NTSTATUS status; /* what the requestor got */
    NTSTATUS seen;   /* what a filter at 385200 saw in its post (= status when none did) */
    const struct fltsim_capture_event *event; /* the row, NULL for implied calls */
};

struct replay {
    const struct fltsim_replay_options *options;
    struct fltsim_replay_report *report;
    struct fltsim_capture *cap;
    const char *capture_path;
    fltsim_system *sys;
    struct rvolume volumes[26];
    size_t volume_count;
    struct fltsim__filter_object *objects; /* per filter of the options (shared objects) */
    size_t object_count;
    struct ns ns;
    struct rrows rows;   /* what pass 1 kept for pass 2 */
    uint64_t rows_total; /* events pass 1 read */
    struct smap skip_index, op_index, div_index, handle_index;
    size_t skip_cap, op_cap, div_cap;
    struct hlist *hlists; /* by handle_index */
    size_t hlist_count, hlist_cap;
    uint64_t max_file_size;
    uint64_t rows_this_pass;
    struct rbuf zeros; /* zero-filled: the data of writes */
    struct rbuf io;    /* read and query buffers */
    FILE *import;
    uint32_t next_handle_id;
    struct import_state *imp; /* replay_import.c */
    char error[8192];         /* a refused object lists every routine it lacks */
};

/* Pass 1 (replay_scan.c): reads the capture, the only pass that does, and
 * infers the namespace (rp->ns), records the drives the capture uses and
 * keeps the rows for pass 2 (rp->rows, sealed). The capture is closed on
 * return. STATUS_OBJECT_NAME_NOT_FOUND when it cannot be opened (rp->error
 * says why), STATUS_INVALID_PARAMETER after fltsim__replay_fail. */
NTSTATUS fltsim__replay_scan(struct replay *rp);
/* Creates the existing paths of the namespace on the memfs volumes (a hostfs
 * volume is the host directory as it is), and writes them when importing.
 * STATUS_INSUFFICIENT_RESOURCES after fltsim__replay_fail; a path memfs
 * refuses is a note, not a failure. */
NTSTATUS fltsim__replay_ns_populate(struct replay *rp);
void fltsim__replay_ns_free(struct ns *ns);
/* For QueryDirectory the recorded path is the directory plus the search
 * filter: the directory's path is written to dir. */
void fltsim__replay_directory_of_query(const struct fltsim_capture_event *ev, char *dir,
                                       size_t size);

/* The world (replay_world.c). fltsim__replay_volume: the volume of drive, or
 * NULL. use_drive records that the capture uses drive (memfs unless the
 * options map it to hostfs); false when all 26 are taken. volumes_complete,
 * after pass 1: adds the drives the options name, C: when there is none,
 * and names each volume's device. world_create: the system and its mounted
 * volumes; filters_load: the options' filters, in order. Both return the
 * status after fltsim__replay_fail (but for a memfs that cannot be created). */
struct rvolume *fltsim__replay_volume(struct replay *rp, char drive);
bool fltsim__replay_use_drive(struct replay *rp, char drive);
void fltsim__replay_volumes_complete(struct replay *rp);
NTSTATUS fltsim__replay_world_create(struct replay *rp);
NTSTATUS fltsim__replay_filters_load(struct replay *rp);
/* Opens every shared object the options name, before the capture is read
 * and before any filter loads: a refused object (fltsim__filter_object_open
 * lists all it lacks) ends the replay with nothing loaded. Returns that
 * status after fltsim__replay_fail (STATUS_UNSUCCESSFUL for a missing file
 * or altitude: not a capture problem). */
NTSTATUS fltsim__replay_objects_open(struct replay *rp);

/* The run (replay.c). fail keeps the first error in rp->error, which ends
 * the replay. progress draws pass 1's or pass 2's bar when the options ask
 * for one. */
void fltsim__replay_fail(struct replay *rp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void fltsim__replay_progress(struct replay *rp, int pass, bool done);

/* Pass 2's calls and handles (replay.c). perform issues c as its thread
 * (writing it as a step when importing) and returns the status the row is
 * judged by: what the observer at 385200 saw, else what the requestor got.
 * handle_for: the handle a row on (pid, path) runs on, the most recent one
 * the capture opened, else an implied open (kernel mode, sharing
 * everything) that stays until a CloseFile row or the end; NULL with
 * *status set when the implied open fails. close_handle closes h (a
 * CloseFile row ev, or an implied close when ev is NULL), forgets and frees
 * it, and returns the status the call is judged by. handle_add makes h the
 * most recent handle of (h->pid, path); false when out of memory (h is not
 * added). */
NTSTATUS fltsim__replay_perform(struct replay *rp, struct rcall *c);
struct rhandle *fltsim__replay_handle_for(struct replay *rp, const struct fltsim_capture_event *ev,
                                          const char *path, NTSTATUS *status);
NTSTATUS fltsim__replay_close_handle(struct replay *rp, struct rhandle *h,
                                     const struct fltsim_capture_event *ev, uint32_t tid,
                                     const char *path);
bool fltsim__replay_handle_add(struct replay *rp, struct rhandle *h, const char *path);

/* A kept row as one call (replay_request.c), its result recorded; a row it
 * cannot map is skipped with the reason. */
void fltsim__replay_row(struct replay *rp, const struct rrow *row);

/* The report (replay_report.c). skip counts one row not replayed for reason
 * (skip_rows count of them); note lists a namespace remark with the skip
 * reasons, not as a row; record_result counts a replayed row by operation
 * and, when simulated is not its Result, by divergence. Out of memory is
 * fltsim__replay_fail. report_sort orders the lists for printing (largest
 * counts first). */
void fltsim__replay_skip(struct replay *rp, const char *reason);
void fltsim__replay_skip_rows(struct replay *rp, const char *reason, uint64_t count);
void fltsim__replay_note(struct replay *rp, const char *reason);
void fltsim__replay_record_result(struct replay *rp, const struct fltsim_capture_event *ev,
                                  NTSTATUS simulated);
void fltsim__replay_report_sort(struct fltsim_replay_report *report);

/* The observer at ProcMon's altitude (replay_observer.c): load it, watch a
 * major before a row's call, then take the status its post saw (false when
 * no operation of that major passed 385200, e.g. a filter above completed it). */
NTSTATUS fltsim__replay_observer_load(fltsim_system *sys);
void fltsim__replay_observe(UCHAR major);
bool fltsim__replay_observed(NTSTATUS *status);

/* The scenario writer (replay_import.c). */
void fltsim__replay_import_begin(struct replay *rp);
void fltsim__replay_import_file(struct replay *rp, const char *path, bool directory,
                                uint64_t size);
void fltsim__replay_import_filter(struct replay *rp, const struct fltsim_replay_filter *filter,
                                  const char *name, const char *altitude);
void fltsim__replay_import_call(struct replay *rp, const struct rcall *call);
void fltsim__replay_import_end(struct replay *rp);

#endif /* FLTSIM_REPLAY_INTERNAL_H */
