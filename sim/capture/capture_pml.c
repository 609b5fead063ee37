/*
 * The PML capture reader (issue 6; ../shared/TRACES.md 1.8): Process Monitor's
 * native log. Opening reads the header, the process table (name and PID per
 * process index), the process names from the string table and the host and
 * port tables (network paths); events are then streamed forward through
 * cap->gz while a second handle on the same file walks the event-offset
 * array in step, so memory stays bounded by the tables and the largest event
 * record, never by the number of events. Each record is framed and checked
 * here (header fields, stack, detail and extra-detail sizes); decoding its
 * detail blob is capture_pml_decode.c's.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_internal.h"

#define PML_HEADER_SIZE 0x3A8u
#define PML_EVENT_HEADER 0x34u
/* No real record comes near this (paths are at most 64 KiB, extra detail
 * 64 KiB): a larger one is garbage, refused before it is allocated. */
#define PML_MAX_RECORD (16u << 20)
#define PML_MAX_STRING (1u << 20)
#define PML_STATUS_PENDING 0x103u

/* Reports an error (see fltsim__capture_fail) and is false. */
#define FAILED(...) (fltsim__capture_fail(__VA_ARGS__), false)

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- reading the file ------------------------------------------------- */

/* Reads n bytes at off from cap->gz (seeking when it is not already there:
 * forward is a skip; backward, on a .gz, a re-decompression from the start).
 * False after reporting a short read as "the file ends inside WHAT". */
static bool read_at(struct fltsim_capture *cap, struct pml_state *st, uint64_t off, void *buf,
                    size_t n, const char *what)
{
    if (off != st->pos) {
        if (off > (uint64_t)LONG_MAX || gzseek(cap->gz, (z_off_t)off, SEEK_SET) < 0) {
            fltsim__capture_fail(cap, "byte offset 0x%llx: the file ends before the %s",
                                 (unsigned long long)off, what);
            return false;
        }
        st->pos = off;
    }
    size_t done = 0;
    while (done < n) {
        size_t want = n - done > (1u << 30) ? (1u << 30) : n - done;
        int got = gzread(cap->gz, (unsigned char *)buf + done, (unsigned)want);
        if (got < 0) {
            int errnum = 0;
            const char *msg = gzerror(cap->gz, &errnum);
            fltsim__capture_fail(cap, "byte offset 0x%llx: reading the %s: %s",
                                 (unsigned long long)(off + done), what,
                                 errnum == Z_ERRNO ? strerror(errno) : msg);
            return false;
        }
        if (got == 0)
            break;
        done += (size_t)got;
        st->pos += (uint64_t)got;
    }
    if (done < n) {
        fltsim__capture_fail(cap,
                             "byte offset 0x%llx: the file ends inside the %s (%zu of %zu bytes)",
                             (unsigned long long)off, what, done, n);
        return false;
    }
    return true;
}

static bool read_u32_at(struct fltsim_capture *cap, struct pml_state *st, uint64_t off,
                        uint32_t *value, const char *what)
{
    unsigned char b[4];
    if (!read_at(cap, st, off, b, sizeof(b), what))
        return false;
    *value = fltsim__capture_le32(b);
    return true;
}

/* Reads count u32 values at off into a new array (*out, the caller frees). The
 * array grows with the bytes actually read, so a garbage count in a short
 * file fails at the end of the file instead of allocating for it. */
static bool read_u32_array(struct fltsim_capture *cap, struct pml_state *st, uint64_t off,
                           uint32_t count, uint32_t **out, const char *what)
{
    enum { CHUNK = 16384 };
    uint32_t *values = NULL;
    unsigned char b[4 * CHUNK];
    for (uint32_t i = 0; i < count;) {
        uint32_t n = count - i > CHUNK ? CHUNK : count - i;
        uint32_t *grown = realloc(values, ((size_t)i + n) * sizeof(*values));
        if (grown == NULL) {
            free(values);
            fltsim__capture_fail(cap, "byte offset 0x%llx: out of memory reading the %s",
                                 (unsigned long long)off, what);
            return false;
        }
        values = grown;
        if (!read_at(cap, st, off + 4ull * i, b, 4u * n, what)) {
            free(values);
            return false;
        }
        for (uint32_t k = 0; k < n; k++)
            values[i + k] = fltsim__capture_le32(b + 4 * k);
        i += n;
    }
    *out = values;
    return true;
}

/* ---- the tables -------------------------------------------------------- */

static int by_index(const void *a, const void *b)
{
    const struct pml_process *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Reads a table string (u32 byte size + UTF-16LE) at off into a new UTF-8
 * string (*out). */
static bool read_table_string(struct fltsim_capture *cap, struct pml_state *st, uint64_t off,
                              char **out, const char *what)
{
    uint32_t size;
    if (!read_u32_at(cap, st, off, &size, what))
        return false;
    if (size > PML_MAX_STRING) {
        fltsim__capture_fail(cap,
                             "byte offset 0x%llx: the %s is %u bytes long (at most %u expected)",
                             (unsigned long long)off, what, size, PML_MAX_STRING);
        return false;
    }
    unsigned char *raw = malloc(size == 0 ? 1 : size);
    if (raw == NULL) {
        fltsim__capture_fail(cap, "byte offset 0x%llx: out of memory reading the %s",
                             (unsigned long long)off, what);
        return false;
    }
    bool ok = read_at(cap, st, off + 4, raw, size, what);
    if (ok) {
        *out = fltsim__capture_pml_utf16_dup(raw, size);
        if (*out == NULL) {
            fltsim__capture_fail(cap, "byte offset 0x%llx: out of memory reading the %s",
                                 (unsigned long long)off, what);
            ok = false;
        }
    }
    free(raw);
    return ok;
}

/* The process table: a count, the process indexes, the entries' offsets
 * (relative to the table), then the entries: index, PID, ..., and at 0x40
 * the name as a string-table index. The names are resolved afterwards. */
static bool read_processes(struct fltsim_capture *cap, struct pml_state *st)
{
    uint64_t at = st->tables[1];
    uint32_t n;
    if (!read_u32_at(cap, st, at, &n, "process table"))
        return false;
    uint32_t *offs = NULL;
    if (!read_u32_array(cap, st, at + 4 + 4ull * n, n, &offs, "process table"))
        return false;
    st->procs = calloc(n == 0 ? 1 : n, sizeof(*st->procs));
    if (st->procs == NULL) {
        free(offs);
        return FAILED(cap, "byte offset 0x%llx: out of memory reading the process table",
                      (unsigned long long)at);
    }
    bool ok = true;
    for (uint32_t i = 0; i < n && ok; i++) {
        unsigned char e[0x44];
        uint64_t entry = at + offs[i];
        ok = read_at(cap, st, entry, e, sizeof(e), "process table entry");
        if (ok) {
            st->procs[i].index = fltsim__capture_le32(e);
            st->procs[i].pid = fltsim__capture_le32(e + 4);
            st->procs[i].name_string = fltsim__capture_le32(e + 0x40);
            st->procs[i].entry_at = entry;
            st->nprocs = i + 1;
        }
    }
    free(offs);
    return ok;
}

static int by_name_offset(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b; /* [string offset << 32 | process slot] */
    return *x < *y ? -1 : *x > *y;
}

/* The string table: a count, the strings' offsets (relative to the table),
 * the strings. Only the process names are kept, read in file order. */
static bool read_process_names(struct fltsim_capture *cap, struct pml_state *st)
{
    uint64_t at = st->tables[2];
    uint32_t n;
    if (!read_u32_at(cap, st, at, &n, "string table"))
        return false;
    uint32_t *offs = NULL;
    if (!read_u32_array(cap, st, at + 4, n, &offs, "string table"))
        return false;
    uint64_t *order = malloc((st->nprocs == 0 ? 1 : st->nprocs) * sizeof(*order));
    bool ok = order != NULL;
    if (!ok)
        fltsim__capture_fail(cap, "byte offset 0x%llx: out of memory reading the string table",
                             (unsigned long long)at);
    for (size_t i = 0; ok && i < st->nprocs; i++) {
        const struct pml_process *p = &st->procs[i];
        if (p->name_string >= n) {
            fltsim__capture_fail(cap,
                                 "byte offset 0x%llx: process %u names string %u, but the string "
                                 "table holds %u strings",
                                 (unsigned long long)(p->entry_at + 0x40), p->index, p->name_string,
                                 n);
            ok = false;
        } else {
            order[i] = (uint64_t)offs[p->name_string] << 32 | i;
        }
    }
    if (ok)
        qsort(order, st->nprocs, sizeof(*order), by_name_offset);
    for (size_t i = 0; ok && i < st->nprocs; i++) {
        struct pml_process *p = &st->procs[order[i] & 0xFFFFFFFFu];
        /* Processes share names: a string read already is copied, not read
         * again (a backward seek re-decompresses a .gz from its start). */
        if (i > 0 && order[i] >> 32 == order[i - 1] >> 32) {
            p->name = strdup(st->procs[order[i - 1] & 0xFFFFFFFFu].name);
            if (p->name == NULL)
                ok = FAILED(cap, "byte offset 0x%llx: out of memory reading the string table",
                            (unsigned long long)at);
            continue;
        }
        ok = read_table_string(cap, st, at + (order[i] >> 32), &p->name, "process name string");
    }
    free(order);
    free(offs);
    if (ok)
        qsort(st->procs, st->nprocs, sizeof(*st->procs), by_index);
    return ok;
}

/* The host table (IP, name) and the port table (port, TCP?, name) that
 * network paths are made of. */
static bool read_hosts_and_ports(struct fltsim_capture *cap, struct pml_state *st)
{
    uint64_t at = st->tables[4];
    uint32_t n;
    if (!read_u32_at(cap, st, at, &n, "host table"))
        return false;
    at += 4;
    for (uint32_t i = 0; i < n; i++) {
        unsigned char ip[16];
        if (!read_at(cap, st, at, ip, sizeof(ip), "host table"))
            return false;
        if ((st->nhosts & (st->nhosts - 1)) == 0) { /* grow at powers of two */
            struct pml_host *grown =
                realloc(st->hosts, (st->nhosts == 0 ? 1 : 2 * st->nhosts) * sizeof(*grown));
            if (grown == NULL)
                return FAILED(cap, "byte offset 0x%llx: out of memory", (unsigned long long)at);
            st->hosts = grown;
        }
        struct pml_host *h = &st->hosts[st->nhosts];
        memcpy(h->ip, ip, sizeof(ip));
        h->name = NULL;
        if (!read_table_string(cap, st, at + 16, &h->name, "host name"))
            return false;
        st->nhosts++;
        at = st->pos;
    }
    if (!read_u32_at(cap, st, at, &n, "port table"))
        return false;
    at += 4;
    for (uint32_t i = 0; i < n; i++) {
        unsigned char b[4];
        if (!read_at(cap, st, at, b, sizeof(b), "port table"))
            return false;
        if ((st->nports & (st->nports - 1)) == 0) {
            struct pml_port *grown =
                realloc(st->ports, (st->nports == 0 ? 1 : 2 * st->nports) * sizeof(*grown));
            if (grown == NULL)
                return FAILED(cap, "byte offset 0x%llx: out of memory", (unsigned long long)at);
            st->ports = grown;
        }
        struct pml_port *p = &st->ports[st->nports];
        p->number = fltsim__capture_le16(b);
        p->tcp = fltsim__capture_le16(b + 2) != 0;
        p->name = NULL;
        if (!read_table_string(cap, st, at + 4, &p->name, "port name"))
            return false;
        st->nports++;
        at = st->pos;
    }
    return true;
}

/* ---- the event-offset array --------------------------------------------- */

/* The offset of event st->index + ahead... read in order: each call returns
 * the next entry of the array. */
static bool next_offset(struct fltsim_capture *cap, struct pml_state *st, uint64_t entry,
                        uint64_t *offset)
{
    if (st->oused == st->ohave) {
        uint64_t left = (uint64_t)st->count - st->oread;
        size_t want = left > PML_OFFSETS_BUFFERED ? PML_OFFSETS_BUFFERED : (size_t)left;
        int got = gzread(st->offsets_gz, st->obuf, (unsigned)(want * PML_OFFSET_ENTRY));
        if (got < (int)(want * PML_OFFSET_ENTRY) || want == 0) {
            fltsim__capture_fail(cap,
                                 "byte offset 0x%llx: the file ends inside the event-offset "
                                 "array (entry %llu of %u)",
                                 (unsigned long long)(st->tables[0] + entry * PML_OFFSET_ENTRY),
                                 (unsigned long long)entry, st->count);
            return false;
        }
        st->ohave = (size_t)got;
        st->oused = 0;
        st->oread += want;
    }
    *offset = fltsim__capture_le32(st->obuf + st->oused);
    st->oused += PML_OFFSET_ENTRY;
    return true;
}

static struct pml_process *find_process(struct pml_state *st, uint32_t index)
{
    size_t lo = 0, hi = st->nprocs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st->procs[mid].index == index)
            return &st->procs[mid];
        if (st->procs[mid].index < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The smallest table offset past off: where the events region ends. */
static uint64_t region_end(const struct pml_state *st, uint64_t off)
{
    uint64_t end = UINT64_MAX;
    for (size_t i = 0; i < COUNT(st->tables); i++)
        if (st->tables[i] > off && st->tables[i] < end)
            end = st->tables[i];
    return end;
}

static int pml_next(struct fltsim_capture *cap, const struct fltsim_capture_event **event)
{
    struct pml_state *st = cap->state;
    if (st->index >= st->count)
        return 0;
    uint64_t i = st->index;
    uint64_t off = st->offset;
    uint64_t limit;
    if (i + 1 < st->count) {
        if (!next_offset(cap, st, i + 1, &limit))
            return -1;
        st->offset = limit;
    } else {
        limit = region_end(st, off);
    }
    /* Only event 0 can start inside what was read already: every record is
     * kept within the next event's offset. */
    if (off < st->pos || off < PML_HEADER_SIZE)
        return fltsim__capture_fail(
            cap, "byte offset 0x%llx: event %llu is at 0x%llx, inside the header",
            (unsigned long long)(st->tables[0] + i * PML_OFFSET_ENTRY), (unsigned long long)i,
            (unsigned long long)off);
    if (limit <= off)
        return fltsim__capture_fail(
            cap, "byte offset 0x%llx: event %llu is at 0x%llx, not after event %llu (at 0x%llx)",
            (unsigned long long)(st->tables[0] + (i + 1) * PML_OFFSET_ENTRY),
            (unsigned long long)(i + 1), (unsigned long long)limit, (unsigned long long)i,
            (unsigned long long)off);
    if (limit - off < PML_EVENT_HEADER)
        return fltsim__capture_fail(
            cap,
            "byte offset 0x%llx: event %llu at 0x%llx has %llu bytes before the next "
            "event (a record needs %u)",
            (unsigned long long)(st->tables[0] + (i + 1) * PML_OFFSET_ENTRY), (unsigned long long)i,
            (unsigned long long)off, (unsigned long long)(limit - off), PML_EVENT_HEADER);
    uint64_t room = limit - off;
    if (st->rec_cap < PML_EVENT_HEADER) {
        st->rec = malloc(4096);
        if (st->rec == NULL)
            return fltsim__capture_fail(cap, "byte offset 0x%llx: out of memory",
                                        (unsigned long long)off);
        st->rec_cap = 4096;
    }
    if (!read_at(cap, st, off, st->rec, PML_EVENT_HEADER, "event record"))
        return -1;
    const unsigned char *h = st->rec;
    uint32_t proc_index = fltsim__capture_le32(h);
    uint32_t tid = fltsim__capture_le32(h + 4);
    uint32_t cls = fltsim__capture_le32(h + 8);
    uint16_t op = fltsim__capture_le16(h + 0xC);
    uint64_t duration = fltsim__capture_le64(h + 0x14);
    uint32_t result = fltsim__capture_le32(h + 0x24);
    uint16_t depth = fltsim__capture_le16(h + 0x28);
    uint32_t detail_size = fltsim__capture_le32(h + 0x2C);
    uint32_t extra_at = fltsim__capture_le32(h + 0x30);
    if (cls < FLTSIM_CAPTURE_CLASS_PROCESS || cls > FLTSIM_CAPTURE_CLASS_NETWORK)
        return fltsim__capture_fail(cap,
                                    "byte offset 0x%llx: event %llu has event class %u "
                                    "(1 to 5 expected)",
                                    (unsigned long long)(off + 8), (unsigned long long)i, cls);
    uint64_t detail_at = PML_EVENT_HEADER + (uint64_t)depth * st->ptr;
    uint64_t body = detail_at + detail_size;
    if (body > room)
        return fltsim__capture_fail(cap,
                                    "byte offset 0x%llx: event %llu's stack (%u frames) and "
                                    "detail (%u bytes) run past its record (%llu bytes)",
                                    (unsigned long long)(off + 0x28), (unsigned long long)i, depth,
                                    detail_size, (unsigned long long)room);
    uint64_t total = body;
    if (extra_at != 0 && (extra_at < body || (uint64_t)extra_at + 2 > room))
        return fltsim__capture_fail(cap,
                                    "byte offset 0x%llx: event %llu's extra detail offset 0x%x "
                                    "lies outside its record (0x%llx to 0x%llx)",
                                    (unsigned long long)(off + 0x30), (unsigned long long)i,
                                    extra_at, (unsigned long long)body, (unsigned long long)room);
    if (extra_at != 0)
        total = (uint64_t)extra_at + 2;
    if (total > PML_MAX_RECORD)
        return fltsim__capture_fail(cap,
                                    "byte offset 0x%llx: event %llu's record of %llu bytes is "
                                    "larger than %u bytes",
                                    (unsigned long long)off, (unsigned long long)i,
                                    (unsigned long long)total, PML_MAX_RECORD);
    size_t extra_size = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (total > st->rec_cap) {
            size_t cap2 = st->rec_cap;
            while (cap2 < total)
                cap2 *= 2;
            unsigned char *grown = realloc(st->rec, cap2);
            if (grown == NULL)
                return fltsim__capture_fail(cap, "byte offset 0x%llx: out of memory",
                                            (unsigned long long)off);
            st->rec = grown;
            st->rec_cap = cap2;
        }
        uint64_t have = st->pos - off;
        if (total > have &&
            !read_at(cap, st, st->pos, st->rec + have, (size_t)(total - have), "event record"))
            return -1;
        if (pass == 1 || extra_at == 0)
            break;
        extra_size = fltsim__capture_le16(st->rec + extra_at);
        if ((uint64_t)extra_at + 2 + extra_size > room)
            return fltsim__capture_fail(cap,
                                        "byte offset 0x%llx: event %llu's extra detail (%zu "
                                        "bytes) runs past its record (%llu bytes)",
                                        (unsigned long long)(off + extra_at), (unsigned long long)i,
                                        extra_size, (unsigned long long)room);
        total += extra_size;
        if (total > PML_MAX_RECORD)
            return fltsim__capture_fail(cap,
                                        "byte offset 0x%llx: event %llu's record of %llu bytes "
                                        "is larger than %u bytes",
                                        (unsigned long long)off, (unsigned long long)i,
                                        (unsigned long long)total, PML_MAX_RECORD);
    }

    struct pml_process *proc = find_process(st, proc_index);
    if (proc == NULL)
        return fltsim__capture_fail(cap,
                                    "byte offset 0x%llx: event %llu names process index %u, "
                                    "which is not in the process table",
                                    (unsigned long long)off, (unsigned long long)i, proc_index);

    struct fltsim_capture_event *ev = &st->ev;
    memset(ev, 0, sizeof(*ev));
    ev->index = i;
    ev->offset = off;
    ev->event_class = (enum fltsim_capture_class)cls;
    ev->process_name = proc->name;
    ev->pid = proc->pid;
    ev->tid = tid;
    ev->has_result = result != PML_STATUS_PENDING;
    ev->result = (NTSTATUS)result;
    ev->result_text = ev->has_result ? fltsim_capture_status_name(ev->result, st->result_buf,
                                                                  sizeof(st->result_buf))
                                     : "";
    ev->detail = "";
    ev->has_duration = ev->has_result;
    ev->duration_100ns = ev->has_duration ? duration : 0;
    ev->sub = -1;

    const unsigned char *extra = extra_at != 0 ? st->rec + extra_at + 2 : NULL;
    const char *bad;
    if (!fltsim__capture_pml_decode(st, cls, op, st->rec + detail_at, detail_size, extra,
                                    extra_size, &bad))
        return fltsim__capture_fail(cap, "byte offset 0x%llx: out of memory",
                                    (unsigned long long)off);
    if (bad != NULL)
        return fltsim__capture_fail(cap,
                                    "byte offset 0x%llx: event %llu's %s runs past its detail "
                                    "(%u bytes)",
                                    (unsigned long long)(off + detail_at), (unsigned long long)i,
                                    bad, detail_size);
    st->index = i + 1;
    *event = ev;
    return 1;
}

static void pml_close(struct fltsim_capture *cap)
{
    struct pml_state *st = cap->state;
    if (st == NULL)
        return;
    if (st->offsets_gz != NULL)
        gzclose(st->offsets_gz);
    for (size_t i = 0; i < st->nprocs; i++)
        free(st->procs[i].name);
    for (size_t i = 0; i < st->nhosts; i++)
        free(st->hosts[i].name);
    for (size_t i = 0; i < st->nports; i++)
        free(st->ports[i].name);
    free(st->procs);
    free(st->hosts);
    free(st->ports);
    free(st->rec);
    free(st->text.p);
    free(st);
    cap->state = NULL;
}

static const struct capture_backend pml_backend = {pml_next, pml_close};

static bool read_header(struct fltsim_capture *cap, struct pml_state *st)
{
    unsigned char h[PML_HEADER_SIZE];
    if (!read_at(cap, st, 0, h, sizeof(h), "PML header"))
        return false;
    if (memcmp(h, "PML_", 4) != 0)
        return FAILED(cap, "byte offset 0x0: not a PML file (no \"PML_\" magic)");
    uint32_t version = fltsim__capture_le32(h + 4);
    if (version != 9)
        return FAILED(cap, "byte offset 0x4: PML version %u (only 9 is known)", version);
    uint32_t is64 = fltsim__capture_le32(h + 8);
    if (is64 > 1)
        return FAILED(cap, "byte offset 0x8: the 64-bit flag is %u (0 or 1 expected)", is64);
    st->ptr = is64 ? 8 : 4;
    st->count = fltsim__capture_le32(h + 0x234);
    cap->event_count = st->count;
    static const unsigned at[5] = {0x248, 0x250, 0x258, 0x260, 0x3A0};
    static const char *const names[5] = {"event-offset array", "process table", "string table",
                                         "icon table", "host and port tables"};
    bool plain = gzdirect(cap->gz) != 0;
    for (size_t i = 0; i < 5; i++) {
        st->tables[i] = fltsim__capture_le64(h + at[i]);
        if (st->tables[i] == 0)
            return FAILED(cap,
                          "byte offset 0x%x: the %s offset is 0 (the capture was "
                          "not closed cleanly)",
                          at[i], names[i]);
        if (st->tables[i] < PML_HEADER_SIZE || (plain && st->tables[i] >= cap->size))
            return FAILED(cap,
                          "byte offset 0x%x: the %s offset 0x%llx lies outside the "
                          "file (0x%x to 0x%llx)",
                          at[i], names[i], (unsigned long long)st->tables[i], PML_HEADER_SIZE,
                          (unsigned long long)cap->size);
    }
    if (plain && st->tables[0] + (uint64_t)st->count * PML_OFFSET_ENTRY > cap->size)
        return FAILED(cap,
                      "byte offset 0x234: %u events do not fit in an event-offset "
                      "array at 0x%llx (the file has 0x%llx bytes)",
                      st->count, (unsigned long long)st->tables[0], (unsigned long long)cap->size);
    return true;
}

bool fltsim__capture_pml_open(struct fltsim_capture *cap)
{
    struct pml_state *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        fltsim__capture_fail(cap, "out of memory");
        return false;
    }
    cap->state = st;
    cap->backend = &pml_backend;
    bool ok = read_header(cap, st) && read_processes(cap, st) && read_process_names(cap, st) &&
              read_hosts_and_ports(cap, st);
    if (ok && st->count > 0) {
        st->offsets_gz = gzopen(cap->path, "rb");
        if (st->offsets_gz == NULL) {
            fltsim__capture_fail(cap, "cannot open the file a second time: %s", strerror(errno));
            ok = false;
        } else {
            gzbuffer(st->offsets_gz, 64 * 1024);
            if (gzseek(st->offsets_gz, (z_off_t)st->tables[0], SEEK_SET) < 0) {
                fltsim__capture_fail(cap,
                                     "byte offset 0x%llx: the file ends before the "
                                     "event-offset array",
                                     (unsigned long long)st->tables[0]);
                ok = false;
            }
        }
        ok = ok && next_offset(cap, st, 0, &st->offset);
    }
    if (ok && gzrewind(cap->gz) == 0) {
        st->pos = 0;
    } else if (ok) {
        fltsim__capture_fail(cap, "cannot rewind the file");
        ok = false;
    }
    if (!ok) {
        pml_close(cap);
        cap->backend = NULL;
    }
    return ok;
}
