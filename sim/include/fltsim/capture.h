/*
 * Process Monitor captures (issue 6; ../shared/TRACES.md): streaming readers
 * for ProcMon's CSV and XML exports and its native PML log, each optionally
 * gzip-compressed, yielding one event at a time in recorded order. A
 * file-system event carries the operation it represents (ProcMon's name, the
 * IRP major and minor or information class, the path it took: IRP, fast I/O
 * or FS filter), the recorded Result as an NTSTATUS, and the parameters
 * decoded from the Detail column (CSV, XML) or the parameter block (PML).
 *
 * Memory does not grow with the capture: an event and its strings are valid
 * until the next call to fltsim_capture_next.
 */
#ifndef FLTSIM_CAPTURE_H
#define FLTSIM_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <fltsim/model.h>

#ifdef __cplusplus
extern "C" {
#endif

enum fltsim_capture_format {
    FLTSIM_CAPTURE_AUTO = 0, /* from the content: "PML_" magic, "<?xml", else CSV */
    FLTSIM_CAPTURE_CSV = 1,
    FLTSIM_CAPTURE_XML = 2,
    FLTSIM_CAPTURE_PML = 3
};

/* ProcMon's Event Class (the PML numbering). */
enum fltsim_capture_class {
    FLTSIM_CAPTURE_CLASS_UNKNOWN = 0,
    FLTSIM_CAPTURE_CLASS_PROCESS = 1,
    FLTSIM_CAPTURE_CLASS_REGISTRY = 2,
    FLTSIM_CAPTURE_CLASS_FILE_SYSTEM = 3,
    FLTSIM_CAPTURE_CLASS_PROFILING = 4,
    FLTSIM_CAPTURE_CLASS_NETWORK = 5
};

/* The path an operation takes through FltMgr (FLT_CALLBACK_DATA flags). */
enum fltsim_capture_path {
    FLTSIM_CAPTURE_IRP = 0,
    FLTSIM_CAPTURE_FAST_IO = 1,   /* a fast-I/O-only pseudo-major (QueryOpen, MDL, ...) */
    FLTSIM_CAPTURE_FS_FILTER = 2, /* an FsFilter callback (CreateFileMapping, ...) */
    FLTSIM_CAPTURE_IRP_OR_FAST_IO = 3 /* read, write, query info, lock, device control: either */
};

/* One entry of the operation table (TRACES.md 1.6): a ProcMon file-system
 * operation name and the callback it represents. */
struct fltsim_capture_op {
    const char *name; /* as ProcMon displays it: "CreateFile", "QueryBasicInformationFile" */
    int pml_op;       /* 0..47: 20 + the signed MajorFunction */
    UCHAR major;      /* IRP_MJ_*; pseudo-majors as their UCHAR value (0xFF = -1) */
    int sub;          /* the PML sub-operation: IRP_MN_* for directory control and lock
                       * control, the FILE_/FS_INFORMATION_CLASS for query/set
                       * information and volume information; -1: none */
    enum fltsim_capture_path path;
};

/* The entry for a name (exact, case-sensitive: ProcMon's spelling), or NULL.
 * "<Unknown>" is not in the table. */
const struct fltsim_capture_op *fltsim_capture_op_by_name(const char *name);
/* The entry for a PML operation and sub-operation, or NULL when ProcMon has
 * no name for it (it displays "<Unknown>"). For operations without
 * sub-operations the sub argument is ignored. */
const struct fltsim_capture_op *fltsim_capture_op_by_code(int pml_op, int sub);

/* Which fields of fltsim_capture_params hold a value. */
#define FLTSIM_CP_ACCESS 0x00000001u       /* desired_access */
#define FLTSIM_CP_DISPOSITION 0x00000002u  /* disposition */
#define FLTSIM_CP_OPTIONS 0x00000004u      /* create_options (without the disposition byte) */
#define FLTSIM_CP_ATTRIBUTES 0x00000008u   /* file_attributes */
#define FLTSIM_CP_SHARE 0x00000010u        /* share_access */
#define FLTSIM_CP_ALLOCATION 0x00000020u   /* allocation_size (create) */
#define FLTSIM_CP_OPEN_RESULT 0x00000040u  /* open_result: FILE_OPENED, FILE_CREATED, ... */
#define FLTSIM_CP_OFFSET 0x00000080u       /* offset (read, write, lock) */
#define FLTSIM_CP_LENGTH 0x00000100u       /* length (read, write, lock, query buffers) */
#define FLTSIM_CP_IO_FLAGS 0x00000200u     /* io_flags: IRP_NOCACHE, IRP_PAGING_IO, ... */
#define FLTSIM_CP_INFO_CLASS 0x00000400u   /* info_class (query dir; set/query info class) */
#define FLTSIM_CP_CONTROL 0x00000800u      /* control_code (FSCTL / IOCTL) */
#define FLTSIM_CP_SYNC_TYPE 0x00001000u    /* sync_type, page_protection (CreateFileMapping) */
#define FLTSIM_CP_DELETE 0x00002000u       /* delete_file (SetDisposition) */
#define FLTSIM_CP_FILE_NAME 0x00004000u    /* file_name: the QueryDirectory filter, the
                                            * rename/link target */
#define FLTSIM_CP_REPLACE 0x00008000u      /* replace_if_exists (rename, link) */
#define FLTSIM_CP_END_OF_FILE 0x00010000u  /* end_of_file (SetEndOfFile, SetAllocation,
                                            * QueryStandard's EndOfFile) */
#define FLTSIM_CP_LOCK 0x00020000u         /* exclusive, fail_immediately (LockFile) */
#define FLTSIM_CP_NOTIFY_FILTER 0x00040000u /* notify_filter (NotifyChangeDirectory) */
#define FLTSIM_CP_SECURITY_INFO 0x00080000u /* security_information (Query/SetSecurity) */
#define FLTSIM_CP_FILE_ATTRS_OUT 0x00100000u /* queried_attributes: FileAttributes reported
                                              * by a query (Basic, AttributeTag, ...) */
#define FLTSIM_CP_DISPOSITION_FLAGS 0x00200000u /* disposition_flags (SetDispositionEx) */
#define FLTSIM_CP_ENDING_OFFSET 0x00400000u /* ending_offset (FASTIO_ACQUIRE_FOR_MOD_WRITE) */

/* io_flags bit for ProcMon's "Write Through" I/O flag (its own flags word;
 * the other I/O Flags names are the IRP_* flag values). */
#define FLTSIM_CAPTURE_IO_WRITE_THROUGH 0x00400000u

/* The operation's parameters as far as the capture records them. */
struct fltsim_capture_params {
    uint32_t present; /* FLTSIM_CP_* */
    ACCESS_MASK desired_access;
    ULONG disposition;
    ULONG create_options;
    ULONG file_attributes;
    ULONG share_access;
    LONGLONG allocation_size;
    ULONG open_result;
    LONGLONG offset;
    ULONG length;
    ULONG io_flags;
    ULONG info_class;
    ULONG control_code;
    ULONG sync_type;
    ULONG page_protection;
    bool delete_file;
    bool replace_if_exists;
    bool exclusive;
    bool fail_immediately;
    ULONG notify_filter;
    ULONG security_information;
    ULONG queried_attributes;
    ULONG disposition_flags;
    LONGLONG end_of_file;
    LONGLONG ending_offset;
    const char *file_name; /* UTF-8 */
};

struct fltsim_capture_event {
    uint64_t index;  /* 0-based position in the capture (every event class) */
    uint64_t line;   /* CSV/XML: the line the record starts on (1-based); PML: 0 */
    uint64_t offset; /* byte offset of the record in the uncompressed file */
    enum fltsim_capture_class event_class;
    const char *operation;    /* ProcMon's Operation text, UTF-8 ("<Unknown>" possible) */
    const char *path;         /* UTF-8, as displayed: "C:\\dir\\f.txt", "\\\\server\\share" */
    const char *process_name; /* UTF-8, "" when not recorded */
    uint32_t pid;
    uint32_t tid;    /* 0 when the capture has no TID column */
    bool has_result; /* false: empty Result (still pending when the capture stopped) */
    NTSTATUS result;
    const char *result_text; /* the Result as recorded ("SUCCESS", "0xC000046F"; PML:
                              * the display name fltsim_capture_status_name gives) */
    const char *detail;      /* CSV/XML: the Detail text; PML: "" */
    bool has_duration;
    uint64_t duration_100ns;
    /* CSV/XML: the Time of Day column, local time in 100 ns units since
     * midnight (the exports carry no date with it); false when absent. */
    bool has_time_of_day;
    uint64_t time_of_day_100ns;
    /* File-system events: the operation table entry (NULL when the name or
     * code is not one, e.g. "<Unknown>"), and the sub-operation actually
     * recorded (PML; CSV: op->sub). */
    const struct fltsim_capture_op *op;
    int sub;
    struct fltsim_capture_params params;
};

struct fltsim_capture;

/* Opens a capture (plain or gzip-compressed; format AUTO guesses from the
 * content). On failure returns NULL and writes "PATH: problem" to error. */
struct fltsim_capture *fltsim_capture_open(const char *path, enum fltsim_capture_format format,
                                           char *error, size_t error_size);
/* The next event: 1 and *event set (valid until the next call), 0 at the end,
 * -1 on malformed input (fltsim_capture_error says where: "PATH: row N (line
 * L): problem" or "PATH: byte offset 0x...: problem"; reading stops). */
int fltsim_capture_next(struct fltsim_capture *cap, const struct fltsim_capture_event **event);
const char *fltsim_capture_error(const struct fltsim_capture *cap);
enum fltsim_capture_format fltsim_capture_format_of(const struct fltsim_capture *cap);
/* Bytes of the (compressed, if it is) file consumed so far, and its size:
 * for a progress bar. */
uint64_t fltsim_capture_position(const struct fltsim_capture *cap);
uint64_t fltsim_capture_size(const struct fltsim_capture *cap);
/* Events in the capture when the format says so up front (PML header), else 0. */
uint64_t fltsim_capture_event_count(const struct fltsim_capture *cap);
void fltsim_capture_close(struct fltsim_capture *cap);

/* ProcMon's Result text <-> NTSTATUS (TRACES.md 1.4). parse accepts the
 * display names, "0x%X" hex for codes without one, and "" (STATUS_PENDING).
 * Returns false for text that is neither. */
bool fltsim_capture_status_parse(const char *text, NTSTATUS *status);
/* The display name ProcMon uses, or "0x%X" written to buf (at least 11 bytes). */
const char *fltsim_capture_status_name(NTSTATUS status, char *buf, size_t size);

/* Decodes a CSV/XML Detail string for an operation into params (the fields it
 * names; unknown keys are ignored). params->file_name, when set, points into
 * strings (strings_size bytes, the caller's). Returns false with a message
 * naming the key when a known key's value does not parse. */
bool fltsim_capture_detail_parse(const struct fltsim_capture_op *op, const char *detail,
                                 struct fltsim_capture_params *params, char *strings,
                                 size_t strings_size, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_CAPTURE_H */
