/*
 * PRIVATE to sim/capture: shared between the capture readers (capture.c
 * dispatches; capture_csv.c, capture_xml.c and capture_pml.c are the
 * backends) and their parts. The rest of the sim and the tests use
 * fltsim/capture.h.
 */
#ifndef FLTSIM_CAPTURE_INTERNAL_H
#define FLTSIM_CAPTURE_INTERNAL_H

#include <zlib.h>

#include <fltsim/capture.h>

struct capture_backend {
    /* Reads the next event into the backend's own storage. Returns 1, 0 at
     * the end, -1 after fltsim__capture_fail. */
    int (*next)(struct fltsim_capture *cap, const struct fltsim_capture_event **event);
    /* Frees cap->state (cap->gz is closed by capture.c). */
    void (*close)(struct fltsim_capture *cap);
};

struct fltsim_capture {
    const struct capture_backend *backend;
    enum fltsim_capture_format format;
    char *path;
    gzFile gz;            /* the file, positioned at its start; gzread also reads plain files */
    uint64_t size;        /* bytes on disk */
    uint64_t event_count; /* when the format says up front, else 0 */
    bool failed;          /* an error was reported: next keeps returning -1 */
    char error[640];
    void *state; /* the backend's */
};

/* Each backend's open: reads what it needs from cap->gz, sets cap->backend
 * and cap->state; on failure calls fltsim__capture_fail and returns false
 * (having freed what it allocated). */
bool fltsim__capture_csv_open(struct fltsim_capture *cap);
bool fltsim__capture_xml_open(struct fltsim_capture *cap);
bool fltsim__capture_pml_open(struct fltsim_capture *cap);

/* Writes "PATH: " + the formatted message to cap->error, sets cap->failed,
 * returns -1. The message should start with the place: "row 12 (line 14): ",
 * "byte offset 0x1a2b: ". */
int fltsim__capture_fail(struct fltsim_capture *cap, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The columns the CSV and XML readers map (by header name or element name). */
enum capture_column {
    CAPTURE_COL_TIME,    /* Time of Day */
    CAPTURE_COL_PROCESS, /* Process Name */
    CAPTURE_COL_PID,     /* PID */
    CAPTURE_COL_OPERATION,
    CAPTURE_COL_PATH,
    CAPTURE_COL_RESULT,
    CAPTURE_COL_DETAIL,
    CAPTURE_COL_TID,
    CAPTURE_COL_CLASS, /* Event Class */
    CAPTURE_COL_DURATION,
    CAPTURE_COL_COUNT
};

/* Display names of the columns, indexed by enum capture_column. */
extern const char *const fltsim__capture_column_names[CAPTURE_COL_COUNT];

/* One CSV row or XML <event>, as text: field[c] is NUL-terminated, or NULL
 * when the column or element is absent. */
struct capture_row {
    const char *field[CAPTURE_COL_COUNT];
    uint64_t index;  /* 0-based data row */
    uint64_t line;   /* where the record starts, 1-based */
    uint64_t offset; /* byte offset of the record in the uncompressed stream */
};

/* Turns a row into *event: numbers, Result, class, operation and Detail
 * (for file-system events). Strings point into the row's fields and into
 * *strings (grown as needed; the caller frees it). Returns 1, or -1 after
 * fltsim__capture_fail with "row N (line L): problem". */
int fltsim__capture_row_event(struct fltsim_capture *cap, const struct capture_row *row,
                              struct fltsim_capture_event *event, char **strings,
                              size_t *strings_size);

/* Locale-tolerant number and time parsers (capture_number.c; TRACES.md 1.3),
 * on text of n bytes. Hex: "0x" and 1 to 16 hex digits. Integers: decimal
 * digits with ',' '.' '\'' ' ' U+00A0 U+202F between digit groups, an
 * optional '-', or 0x hex. Seconds: "0.0000161" / "0,0000161" (either
 * decimal separator) into 100 ns units. Time of day: "6:55:07.0236729 AM",
 * "16:53:03,6001516" into 100 ns units since midnight. All return false for
 * text that is not one. */
bool fltsim__capture_parse_hex(const char *s, size_t n, uint64_t *value);
bool fltsim__capture_parse_int(const char *s, size_t n, int64_t *value);
bool fltsim__capture_parse_seconds(const char *s, size_t n, uint64_t *value_100ns);
bool fltsim__capture_parse_time_of_day(const char *s, size_t n, uint64_t *value_100ns);

static inline bool fltsim__capture_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ---- the PML reader's parts --------------------------------------------- */

/* capture_pml.c reads the file (header, tables, event records);
 * capture_pml_decode.c decodes an event's detail blob. */

#define PML_OFFSET_ENTRY 5u /* u32 offset + a flags byte */
#define PML_OFFSETS_BUFFERED 4096u

struct pml_process {
    uint32_t index;
    uint32_t pid;
    uint32_t name_string;
    uint64_t entry_at; /* the process entry, for error messages */
    char *name;        /* UTF-8 */
};

struct pml_host {
    unsigned char ip[16];
    char *name;
};

struct pml_port {
    uint16_t number;
    bool tcp;
    char *name;
};

/* The event's strings, built in one growing buffer; pointers are taken once
 * the event is complete (the buffer may move while it grows). */
struct pml_text {
    char *p;
    size_t len;
    size_t cap;
};

/* The reader's state (cap->state). */
struct pml_state {
    gzFile offsets_gz;  /* the event-offset array, read in step with the events */
    unsigned ptr;       /* sizeof(void *) on the capturing system: 4 or 8 */
    uint32_t count;     /* events, from the header */
    uint64_t tables[5]; /* event-offset array, processes, strings, icons, hosts */
    uint64_t pos;       /* the offset of the next byte gzread(cap->gz) returns */
    uint64_t index;     /* the next event */
    uint64_t offset;    /* the next event's offset (valid while index < count) */
    unsigned char obuf[PML_OFFSET_ENTRY * PML_OFFSETS_BUFFERED];
    size_t ohave;   /* bytes in obuf */
    size_t oused;   /* bytes of obuf consumed */
    uint64_t oread; /* entries read from offsets_gz into obuf so far */

    struct pml_process *procs; /* sorted by index */
    size_t nprocs;
    struct pml_host *hosts;
    size_t nhosts;
    struct pml_port *ports;
    size_t nports;

    unsigned char *rec; /* the current event record */
    size_t rec_cap;
    struct pml_text text;
    char result_buf[16];
    struct fltsim_capture_event ev;
};

/* Little-endian fields of the file. */
static inline uint16_t fltsim__capture_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t fltsim__capture_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t fltsim__capture_le64(const unsigned char *p)
{
    return (uint64_t)fltsim__capture_le32(p) | (uint64_t)fltsim__capture_le32(p + 4) << 32;
}

/* Decodes the detail blob of the event whose header fields st->ev holds
 * (capture_pml_decode.c): its operation, its path and, for a file-system
 * event, the sub-operation and the parameters (extra: the extra-detail
 * output, NULL when none). The strings go to st->text. False only when out
 * of memory; *bad names the field that ran past the detail (the event is
 * then incomplete), else is NULL. */
bool fltsim__capture_pml_decode(struct pml_state *st, uint32_t cls, uint16_t op,
                                const unsigned char *detail, size_t detail_size,
                                const unsigned char *extra, size_t extra_size, const char **bad);
/* A NUL-terminated UTF-8 copy of a UTF-16LE string of size bytes (a trailing
 * NUL, if stored, ends it), or NULL when out of memory. */
char *fltsim__capture_pml_utf16_dup(const unsigned char *s, size_t size);

#endif /* FLTSIM_CAPTURE_INTERNAL_H */
