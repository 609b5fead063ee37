/*
 * The CSV capture reader (TRACES.md 1.3): ProcMon's CSV export, plain or
 * gzip-compressed, read in chunks with gzread and fed to libcsv in strict
 * streaming mode one line at a time, so each call stops after one record and
 * knows the line and byte offset the record starts at. Columns are mapped by
 * header name; the fields of a record become an event in capture_row.c.
 * Memory holds one chunk and one record, reused from record to record.
 */
#include <csv.h>
#include <stdlib.h>
#include <string.h>

#include "capture_internal.h"

#define CHUNK_SIZE (64 * 1024)
/* A record larger than this is an unterminated quote, not a real row. */
#define MAX_RECORD (64u * 1024 * 1024)
/* Nor is a field larger than this: ProcMon's longest values (a command line
 * or a path, 32,767 UTF-16 units) take under 128 KiB of UTF-8. */
#define MAX_FIELD (1u << 20)
/* libcsv grows its field buffer by its block size (128 bytes unless set),
 * which makes a long field quadratic: the block is set to the buffer's size
 * before each piece is parsed, so the buffer doubles instead. */
#define MIN_BLOCK (64u * 1024)

struct csv_state {
    struct csv_parser parser;
    unsigned char *chunk;
    size_t chunk_len, chunk_pos;
    uint64_t chunk_offset; /* uncompressed offset of chunk[0] */
    bool eof;              /* gzread reported the end */
    bool finished;         /* csv_fini has flushed the last record */
    uint64_t line;         /* line of chunk[chunk_pos], 1-based */

    /* the record being read: its fields' bytes, each NUL-terminated */
    char *data;
    size_t data_len, data_cap;
    size_t *field_start;
    size_t field_count, field_cap;
    bool in_record; /* bytes of a record consumed since the last record end */
    bool record_done;
    bool out_of_memory;
    uint64_t record_line, record_offset;

    int column[CAPTURE_COL_COUNT]; /* field index of each column, -1: absent */
    size_t header_fields;
    char *header;         /* the header's names, NUL-separated, for messages */
    size_t *header_start; /* where each name starts in header */
    uint64_t index; /* data rows returned */
    char *strings;
    size_t strings_size;
    struct fltsim_capture_event event;
};

static int no_space(unsigned char c)
{
    (void)c;
    return 0; /* keep spaces: "4 096" and leading blanks are data */
}

static void field_cb(void *field, size_t len, void *data)
{
    struct csv_state *st = data;
    if (st->out_of_memory)
        return;
    if (st->field_count == st->field_cap) {
        size_t cap = st->field_cap < 32 ? 32 : st->field_cap * 2;
        size_t *grown = realloc(st->field_start, cap * sizeof(*grown));
        if (grown == NULL) {
            st->out_of_memory = true;
            return;
        }
        st->field_start = grown;
        st->field_cap = cap;
    }
    if (st->data_cap - st->data_len < len + 1) {
        size_t cap = st->data_cap < 4096 ? 4096 : st->data_cap;
        while (cap - st->data_len < len + 1)
            cap *= 2;
        char *grown = realloc(st->data, cap);
        if (grown == NULL) {
            st->out_of_memory = true;
            return;
        }
        st->data = grown;
        st->data_cap = cap;
    }
    st->field_start[st->field_count++] = st->data_len;
    if (len > 0)
        memcpy(st->data + st->data_len, field, len);
    st->data_len += len;
    st->data[st->data_len++] = '\0';
}

static void record_cb(int terminator, void *data)
{
    struct csv_state *st = data;
    (void)terminator;
    st->record_done = true;
    st->in_record = false;
}

static const char *field_at(const struct csv_state *st, size_t i)
{
    return st->data + st->field_start[i];
}

/* Reports a field of row that grew past MAX_FIELD, named by its header
 * column when there is one. */
static int field_too_long(struct fltsim_capture *cap, struct csv_state *st, uint64_t row)
{
    size_t i = st->field_count;
    char name[96] = "";
    if (i < st->header_fields)
        snprintf(name, sizeof(name), " (\"%.80s\")", st->header + st->header_start[i]);
    return fltsim__capture_fail(cap,
                                "row %llu (line %llu): field %zu%s is longer than %u MiB (an "
                                "unterminated quote?)",
                                (unsigned long long)row, (unsigned long long)st->record_line, i + 1,
                                name, MAX_FIELD >> 20);
}

/* Reads the next record's fields. Returns 1, 0 at the end of the file, -1 on
 * a read or syntax error (reported with the row number `row`). */
static int read_record(struct fltsim_capture *cap, struct csv_state *st, uint64_t row)
{
    unsigned long long n = (unsigned long long)row;
    st->data_len = 0;
    st->field_count = 0;
    st->record_done = false;
    while (!st->record_done) {
        if (st->chunk_pos == st->chunk_len) {
            if (st->eof) {
                if (st->finished)
                    return 0;
                st->finished = true;
                if (csv_fini(&st->parser, field_cb, record_cb, st) != 0)
                    return fltsim__capture_fail(
                        cap, "row %llu (line %llu): the file ends inside a quoted field", n,
                        (unsigned long long)st->record_line);
                if (st->out_of_memory)
                    return fltsim__capture_fail(cap, "row %llu: out of memory", n);
                return st->record_done ? 1 : 0;
            }
            st->chunk_offset += st->chunk_len;
            int got = gzread(cap->gz, st->chunk, CHUNK_SIZE);
            if (got < 0) {
                int code;
                const char *msg = gzerror(cap->gz, &code);
                return fltsim__capture_fail(cap, "byte offset 0x%llx: %s",
                                            (unsigned long long)st->chunk_offset, msg);
            }
            st->chunk_len = (size_t)got;
            st->chunk_pos = 0;
            if (got == 0) {
                st->eof = true;
                continue;
            }
            if (st->chunk_offset == 0 && got >= 3 && st->chunk[0] == 0xEF && st->chunk[1] == 0xBB &&
                st->chunk[2] == 0xBF)
                st->chunk_pos = 3; /* the UTF-8 BOM */
            continue;
        }
        /* one line, or what the chunk holds of it, so that a record end is
         * seen where it happens: CR and LF both end a piece */
        const unsigned char *p = st->chunk + st->chunk_pos;
        size_t avail = st->chunk_len - st->chunk_pos;
        const unsigned char *lf = memchr(p, '\n', avail);
        size_t len = lf != NULL ? (size_t)(lf - p) + 1 : avail;
        const unsigned char *cr = memchr(p, '\r', len);
        if (cr != NULL)
            len = (size_t)(cr - p) + 1;
        if (!st->in_record && p[0] != '\r' && p[0] != '\n') {
            st->in_record = true;
            st->record_line = st->line;
            st->record_offset = st->chunk_offset + st->chunk_pos;
        }
        size_t buffer = csv_get_buffer_size(&st->parser);
        csv_set_blk_size(&st->parser, buffer < MIN_BLOCK ? MIN_BLOCK : buffer);
        if (csv_parse(&st->parser, p, len, field_cb, record_cb, st) != len) {
            int err = csv_error(&st->parser);
            if (err == CSV_EPARSE)
                return fltsim__capture_fail(cap,
                                            "row %llu (line %llu): malformed CSV: a quote inside "
                                            "an unquoted field or text after a closing quote",
                                            n, (unsigned long long)st->line);
            return fltsim__capture_fail(cap, "row %llu (line %llu): %s", n,
                                        (unsigned long long)st->line, csv_strerror(err));
        }
        if (p[len - 1] == '\n')
            st->line++;
        st->chunk_pos += len;
        if (st->out_of_memory)
            return fltsim__capture_fail(cap, "row %llu (line %llu): out of memory", n,
                                        (unsigned long long)st->record_line);
        if (st->parser.entry_pos > MAX_FIELD) /* the field being read, so far */
            return field_too_long(cap, st, row);
        if (st->data_len + csv_get_buffer_size(&st->parser) > MAX_RECORD)
            return fltsim__capture_fail(cap,
                                        "row %llu (line %llu): record longer than %u MiB "
                                        "(an unterminated quote?)",
                                        n, (unsigned long long)st->record_line, MAX_RECORD >> 20);
    }
    return 1;
}

static int csv_next(struct fltsim_capture *cap, const struct fltsim_capture_event **event)
{
    struct csv_state *st = cap->state;
    int r = read_record(cap, st, st->index + 1);
    if (r <= 0)
        return r;
    if (st->field_count != st->header_fields)
        return fltsim__capture_fail(cap, "row %llu (line %llu): expected %zu fields, found %zu",
                                    (unsigned long long)st->index + 1,
                                    (unsigned long long)st->record_line, st->header_fields,
                                    st->field_count);
    struct capture_row row = {
        .index = st->index, .line = st->record_line, .offset = st->record_offset};
    for (int c = 0; c < CAPTURE_COL_COUNT; c++)
        row.field[c] = st->column[c] >= 0 ? field_at(st, (size_t)st->column[c]) : NULL;
    if (fltsim__capture_row_event(cap, &row, &st->event, &st->strings, &st->strings_size) < 0)
        return -1;
    st->index++;
    *event = &st->event;
    return 1;
}

static void csv_close(struct fltsim_capture *cap)
{
    struct csv_state *st = cap->state;
    if (st == NULL)
        return;
    csv_free(&st->parser);
    free(st->chunk);
    free(st->data);
    free(st->field_start);
    free(st->header);
    free(st->header_start);
    free(st->strings);
    free(st);
    cap->state = NULL;
}

static const struct capture_backend csv_backend = {csv_next, csv_close};

bool fltsim__capture_csv_open(struct fltsim_capture *cap)
{
    struct csv_state *st = calloc(1, sizeof(*st));
    if (st == NULL || (st->chunk = malloc(CHUNK_SIZE)) == NULL ||
        csv_init(&st->parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        if (st != NULL)
            free(st->chunk);
        free(st);
        fltsim__capture_fail(cap, "out of memory");
        return false;
    }
    csv_set_space_func(&st->parser, no_space);
    st->line = 1;
    cap->state = st;
    cap->backend = &csv_backend;

    /* The header row: every column by name, the first of a repeated name. */
    int r = read_record(cap, st, 0);
    if (r == 0)
        fltsim__capture_fail(cap, "line 1: empty file: no header row");
    if (r <= 0)
        goto fail;
    for (int c = 0; c < CAPTURE_COL_COUNT; c++)
        st->column[c] = -1;
    for (size_t i = 0; i < st->field_count; i++)
        for (int c = 0; c < CAPTURE_COL_COUNT; c++)
            if (st->column[c] < 0 && strcmp(field_at(st, i), fltsim__capture_column_names[c]) == 0)
                st->column[c] = (int)i;
    static const enum capture_column required[] = {CAPTURE_COL_OPERATION, CAPTURE_COL_PATH,
                                                   CAPTURE_COL_RESULT, CAPTURE_COL_PROCESS,
                                                   CAPTURE_COL_PID};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (st->column[required[i]] < 0) {
            fltsim__capture_fail(cap, "line %llu: the header has no \"%s\" column",
                                 (unsigned long long)st->record_line,
                                 fltsim__capture_column_names[required[i]]);
            goto fail;
        }
    st->header = malloc(st->data_len);
    st->header_start = malloc(st->field_count * sizeof(*st->header_start));
    if (st->header == NULL || st->header_start == NULL) {
        fltsim__capture_fail(cap, "out of memory");
        goto fail;
    }
    memcpy(st->header, st->data, st->data_len);
    memcpy(st->header_start, st->field_start, st->field_count * sizeof(*st->header_start));
    st->header_fields = st->field_count;
    return true;
fail:
    csv_close(cap);
    return false;
}
