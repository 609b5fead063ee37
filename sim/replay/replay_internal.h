/*
 * PRIVATE to sim/replay: shared between the replay (replay.c) and the
 * scenario writer of fltsim import (replay_import.c). The rest of the sim and
 * the tests use fltsim/replay.h.
 */
#ifndef FLTSIM_REPLAY_INTERNAL_H
#define FLTSIM_REPLAY_INTERNAL_H

#include <fltsim/replay.h>

struct rbuf {
    unsigned char *data; /* zero-filled beyond what a call wrote */
    size_t cap;
};
bool fltsim__replay_buf_reserve(struct rbuf *b, size_t size);

/* An open-addressing map from strings to indexes. */
struct smap {
    char **keys;
    size_t *values;
    size_t cap, count;
};

/* The namespace the first pass infers (replay.c). */
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
    void *objects[64];
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
    char error[1024];
};

void fltsim__replay_fail(struct replay *rp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void fltsim__replay_skip(struct replay *rp, const char *reason);
struct rvolume *fltsim__replay_volume(struct replay *rp, char drive);

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
