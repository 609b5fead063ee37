/*
 * The PML capture reader (issue 6; ../shared/TRACES.md 1.8): Process Monitor's
 * native log. Opening reads the header, the process table (name and PID per
 * process index), the process names from the string table and the host and
 * port tables (network paths); events are then streamed forward through
 * cap->gz while a second handle on the same file walks the event-offset
 * array in step, so memory stays bounded by the tables and the largest event
 * record, never by the number of events. File-system events are decoded from
 * the detail blob: the sub-operation, the copy of FLT_PARAMETERS, the path and
 * the operation-specific fields that follow it, and the extra-detail output
 * (OpenResult, transferred length).
 */
#include <arpa/inet.h>
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
#define PML_OFFSET_ENTRY 5u /* u32 offset + a flags byte */
#define PML_OFFSETS_BUFFERED 4096u

/* Reports an error (see fltsim__capture_fail) and is false. */
#define FAILED(...) (fltsim__capture_fail(__VA_ARGS__), false)

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

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

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
    *value = le32(b);
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
            values[i + k] = le32(b + 4 * k);
        i += n;
    }
    *out = values;
    return true;
}

/* ---- text -------------------------------------------------------------- */

static bool text_reserve(struct pml_text *t, size_t more)
{
    if (t->cap - t->len > more)
        return true;
    size_t cap = t->cap == 0 ? 4096 : t->cap;
    while (cap - t->len <= more)
        cap *= 2;
    char *p = realloc(t->p, cap);
    if (p == NULL)
        return false;
    t->p = p;
    t->cap = cap;
    return true;
}

static bool text_add(struct pml_text *t, const char *s, size_t n)
{
    if (!text_reserve(t, n))
        return false;
    memcpy(t->p + t->len, s, n);
    t->len += n;
    return true;
}

static void put_utf8(struct pml_text *t, uint32_t c)
{
    char *p = t->p + t->len;
    if (c < 0x80) {
        p[0] = (char)c;
        t->len += 1;
    } else if (c < 0x800) {
        p[0] = (char)(0xC0 | c >> 6);
        p[1] = (char)(0x80 | (c & 0x3F));
        t->len += 2;
    } else if (c < 0x10000) {
        p[0] = (char)(0xE0 | c >> 12);
        p[1] = (char)(0x80 | (c >> 6 & 0x3F));
        p[2] = (char)(0x80 | (c & 0x3F));
        t->len += 3;
    } else {
        p[0] = (char)(0xF0 | c >> 18);
        p[1] = (char)(0x80 | (c >> 12 & 0x3F));
        p[2] = (char)(0x80 | (c >> 6 & 0x3F));
        p[3] = (char)(0x80 | (c & 0x3F));
        t->len += 4;
    }
}

/* Appends a string as the PML stores it: chars UTF-16LE code units, or (ascii)
 * chars bytes, which ProcMon writes as Latin-1. Unpaired surrogates become
 * U+FFFD. False only when out of memory. */
static bool text_add_pml(struct pml_text *t, const unsigned char *s, size_t chars, bool ascii)
{
    if (!text_reserve(t, chars * 3 + 1))
        return false;
    for (size_t i = 0; i < chars; i++) {
        uint32_t c;
        if (ascii) {
            c = s[i];
        } else {
            c = le16(s + 2 * i);
            if (c >= 0xD800 && c < 0xDC00 && i + 1 < chars) {
                uint32_t lo = le16(s + 2 * i + 2);
                if (lo >= 0xDC00 && lo < 0xE000) {
                    c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                    i++;
                } else {
                    c = 0xFFFD;
                }
            } else if (c >= 0xD800 && c < 0xE000) {
                c = 0xFFFD;
            }
        }
        put_utf8(t, c);
    }
    return true;
}

/* A NUL-terminated UTF-8 copy of a UTF-16LE string of size bytes (a trailing
 * NUL, if stored, ends it), or NULL when out of memory. */
static char *utf16_dup(const unsigned char *s, size_t size)
{
    struct pml_text t = {0};
    size_t chars = size / 2;
    for (size_t i = 0; i < chars; i++)
        if (le16(s + 2 * i) == 0) {
            chars = i;
            break;
        }
    if (!text_add_pml(&t, s, chars, false) || !text_reserve(&t, 1)) {
        free(t.p);
        return NULL;
    }
    t.p[t.len] = '\0';
    return t.p;
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
        *out = utf16_dup(raw, size);
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
            st->procs[i].index = le32(e);
            st->procs[i].pid = le32(e + 4);
            st->procs[i].name_string = le32(e + 0x40);
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
        p->number = le16(b);
        p->tcp = le16(b + 2) != 0;
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
    *offset = le32(st->obuf + st->oused);
    st->oused += PML_OFFSET_ENTRY;
    return true;
}

/* ---- decoding an event -------------------------------------------------- */

/* A bounded view of the detail blob. The first read past its end marks it
 * bad and names the field; later reads return zeros. */
struct cursor {
    const unsigned char *p;
    size_t len;
    size_t at;
    const char *bad; /* the field that did not fit, or NULL */
};

static const unsigned char *take(struct cursor *c, size_t n, const char *what)
{
    if (c->bad != NULL)
        return NULL;
    if (c->len - c->at < n) {
        c->bad = what;
        return NULL;
    }
    const unsigned char *p = c->p + c->at;
    c->at += n;
    return p;
}

static uint8_t take8(struct cursor *c, const char *what)
{
    const unsigned char *p = take(c, 1, what);
    return p == NULL ? 0 : p[0];
}

static uint16_t take16(struct cursor *c, const char *what)
{
    const unsigned char *p = take(c, 2, what);
    return p == NULL ? 0 : le16(p);
}

static uint32_t take32(struct cursor *c, const char *what)
{
    const unsigned char *p = take(c, 4, what);
    return p == NULL ? 0 : le32(p);
}

/* A detail string whose info word (top bit ASCII, low 15 bits the character
 * count) came earlier: appended to the text. False only when out of memory. */
static bool take_string(struct cursor *c, uint16_t info, struct pml_text *t, const char *what)
{
    bool ascii = (info & 0x8000) != 0;
    size_t chars = info & 0x7FFF;
    const unsigned char *s = take(c, ascii ? chars : 2 * chars, what);
    if (s == NULL)
        return true;
    return text_add_pml(t, s, chars, ascii);
}

static const char *const process_ops[] = {
    "Process Defined", "Process Create", "Process Exit",  "Thread Create",      "Thread Exit",
    "Load Image",      "Thread Profile", "Process Start", "Process Statistics", "System Statistics",
};

static const char *const registry_ops[] = {
    "RegOpenKey",        "RegCreateKey",        "RegCloseKey",    "RegQueryKey",
    "RegSetValue",       "RegQueryValue",       "RegEnumValue",   "RegEnumKey",
    "RegSetInfoKey",     "RegDeleteKey",        "RegDeleteValue", "RegFlushKey",
    "RegLoadKey",        "RegUnloadKey",        "RegRenameKey",   "RegQueryMultipleValueKey",
    "RegSetKeySecurity", "RegQueryKeySecurity",
};

static const char *const profiling_ops[] = {
    "Thread Profiling",
    "Process Profiling",
    "Debug Output Profiling",
};

static const char *const network_ops[] = {
    "Unknown", "Other",      "Send",      "Receive",    "Accept",
    "Connect", "Disconnect", "Reconnect", "Retransmit", "TCPCopy",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Where the event's strings go: offsets into st->text, turned into pointers
 * when the event is complete. */
struct event_text {
    size_t operation; /* SIZE_MAX: a constant (ev->operation already set) */
    size_t path;
    size_t file_name; /* SIZE_MAX: none */
};

static bool text_end(struct pml_text *t)
{
    if (!text_reserve(t, 1))
        return false;
    t->p[t->len++] = '\0';
    return true;
}

static bool decode_registry(struct cursor *c, uint16_t op, struct pml_text *t)
{
    uint16_t info = take16(c, "registry path length");
    switch (op) {
    case 12: /* RegLoadKey, RegRenameKey: the second name's info word */
    case 14:
        take(c, 2, "registry detail");
        break;
    case 0: /* RegOpenKey, RegCreateKey: 2 unknown bytes, the desired access */
    case 1:
        take(c, 6, "registry detail");
        break;
    case 3: /* RegQueryKey, RegQueryValue: 2 unknown bytes, length, class */
    case 5:
        take(c, 10, "registry detail");
        break;
    case 4: /* RegSetValue, RegEnumValue, RegEnumKey, RegSetInfoKey */
    case 6:
    case 7:
    case 8:
        take(c, 14, "registry detail");
        break;
    default:
        break;
    }
    return take_string(c, info, t, "registry path");
}

static bool decode_process(struct cursor *c, uint16_t op, unsigned ptr, struct pml_text *t)
{
    if (op == 0 || op == 1) { /* Process Defined / Create: the new image's path */
        take(c, 8 + 0x24, "process detail");
        uint8_t skip1 = take8(c, "process detail");
        uint8_t skip2 = take8(c, "process detail");
        uint16_t info = take16(c, "process path length");
        take(c, 4 + (size_t)skip1 + skip2, "process detail");
        return take_string(c, info, t, "process path");
    }
    if (op == 5) { /* Load Image: base, size, the image's path */
        take(c, ptr + 4, "image detail");
        uint16_t info = take16(c, "image path length");
        take(c, 2, "image detail");
        return take_string(c, info, t, "image path");
    }
    return true;
}

static bool add_endpoint(const struct pml_state *st, struct pml_text *t, const unsigned char *ip,
                         bool v4, uint16_t port, bool tcp)
{
    const char *host = NULL;
    for (size_t i = 0; i < st->nhosts; i++)
        if (memcmp(st->hosts[i].ip, ip, 16) == 0 && st->hosts[i].name[0] != '\0') {
            host = st->hosts[i].name;
            break;
        }
    char buf[INET6_ADDRSTRLEN + 8];
    if (host == NULL) {
        if (inet_ntop(v4 ? AF_INET : AF_INET6, ip, buf, sizeof(buf)) == NULL)
            snprintf(buf, sizeof(buf), "?");
        host = buf;
    }
    if (!text_add(t, host, strlen(host)) || !text_add(t, ":", 1))
        return false;
    for (size_t i = 0; i < st->nports; i++)
        if (st->ports[i].number == port && st->ports[i].tcp == tcp)
            return text_add(t, st->ports[i].name, strlen(st->ports[i].name));
    snprintf(buf, sizeof(buf), "%u", port);
    return text_add(t, buf, strlen(buf));
}

static bool decode_network(struct cursor *c, const struct pml_state *st, uint16_t op,
                           struct pml_text *t, struct event_text *et)
{
    uint16_t flags = take16(c, "network flags");
    take(c, 6, "network detail"); /* 2 unknown bytes, the length */
    const unsigned char *src = take(c, 16, "network source address");
    const unsigned char *dst = take(c, 16, "network destination address");
    uint16_t sport = take16(c, "network source port");
    uint16_t dport = take16(c, "network destination port");
    if (c->bad != NULL)
        return true;
    bool tcp = (flags & 4) != 0;
    et->operation = t->len;
    const char *name = op < COUNT(network_ops) ? network_ops[op] : "<Unknown>";
    if (!text_add(t, tcp ? "TCP " : "UDP ", 4) || !text_add(t, name, strlen(name)) || !text_end(t))
        return false;
    et->path = t->len;
    return add_endpoint(st, t, src, (flags & 1) != 0, sport, tcp) && text_add(t, " -> ", 4) &&
           add_endpoint(st, t, dst, (flags & 2) != 0, dport, tcp);
}

/* The copy of FLT_PARAMETERS in a file-system detail: at 12 bytes into the
 * fixed block, with the WDK's POINTER_ALIGNMENT (pointer-sized slots). */
struct fltparams {
    const unsigned char *u; /* the union */
    unsigned ptr;
};

static uint32_t fp32(const struct fltparams *f, unsigned slot, unsigned extra)
{
    return le32(f->u + slot * f->ptr + extra);
}

static uint64_t fp64(const struct fltparams *f, unsigned slot)
{
    return le64(f->u + slot * f->ptr);
}

static bool decode_fs(struct cursor *c, struct pml_state *st, uint16_t op,
                      const unsigned char *extra, size_t extra_size, struct event_text *et)
{
    struct fltsim_capture_event *ev = &st->ev;
    struct fltsim_capture_params *pr = &ev->params;
    struct pml_text *t = &st->text;
    unsigned ptr = st->ptr;
    uint8_t sub = take8(c, "sub-operation");
    take(c, 3, "sub-operation");
    const unsigned char *block = take(c, 5 * ptr + 0x14, "parameter block");
    uint16_t info = take16(c, "path length");
    take(c, 2, "path length");
    et->path = t->len;
    if (!take_string(c, info, t, "path"))
        return false;
    if (c->bad != NULL)
        return true;
    ev->sub = sub;
    ev->op = fltsim_capture_op_by_code(op, sub);
    ev->operation = ev->op != NULL ? ev->op->name : "<Unknown>";
    struct fltparams f = {block + 12, ptr};
    uint32_t flags_word = le32(block + 4);
    switch (op) {
    case 20: { /* CreateFile: SecurityContext, Options, FileAttributes + ShareAccess,
                * EaLength, EaBuffer, AllocationSize */
        uint32_t options = fp32(&f, 1, 0);
        pr->disposition = options >> 24;
        pr->create_options = options & 0xFFFFFF;
        pr->file_attributes = le16(f.u + 2 * ptr);
        pr->share_access = le16(f.u + 2 * ptr + 2);
        pr->present |=
            FLTSIM_CP_DISPOSITION | FLTSIM_CP_OPTIONS | FLTSIM_CP_ATTRIBUTES | FLTSIM_CP_SHARE;
        /* ProcMon shows the allocation size only for dispositions that may
         * create the file. */
        if (pr->disposition == 0 || pr->disposition == 2 || pr->disposition == 3 ||
            pr->disposition == 5) {
            pr->allocation_size = (LONGLONG)fp64(&f, 5);
            pr->present |= FLTSIM_CP_ALLOCATION;
        }
        pr->desired_access = take32(c, "desired access");
        uint8_t sid = take8(c, "impersonation SID length");
        take(c, 3 + (size_t)sid, "impersonation SID");
        if (c->bad == NULL)
            pr->present |= FLTSIM_CP_ACCESS;
        if (extra != NULL && extra_size >= 4) {
            pr->open_result = le32(extra);
            pr->present |= FLTSIM_CP_OPEN_RESULT;
        }
        break;
    }
    case 23: /* ReadFile, WriteFile: Length, Key, ByteOffset */
    case 24:
        pr->length = fp32(&f, 0, 0);
        pr->offset = (LONGLONG)fp64(&f, 2);
        pr->io_flags = flags_word & 0xE000FF;
        pr->present |= FLTSIM_CP_OFFSET | FLTSIM_CP_LENGTH | FLTSIM_CP_IO_FLAGS;
        if (extra != NULL && extra_size >= 4)
            pr->length = le32(extra); /* what was transferred */
        break;
    case 25: /* query/set information, volume information: the class is the sub-operation */
    case 26:
    case 30:
    case 31:
        pr->info_class = sub;
        pr->present |= FLTSIM_CP_INFO_CLASS;
        if (op == 26 && sub == 13) { /* SetDisposition: FILE_DISPOSITION_INFORMATION */
            pr->delete_file = take8(c, "delete flag") != 0;
            if (c->bad == NULL)
                pr->present |= FLTSIM_CP_DELETE;
        } else if (op == 26 && (sub == 19 || sub == 20)) { /* SetAllocation, SetEndOfFile */
            const unsigned char *v = take(c, 8, "end of file");
            if (v != NULL) {
                pr->end_of_file = (LONGLONG)le64(v);
                pr->present |= FLTSIM_CP_END_OF_FILE;
            }
        }
        break;
    case 17: { /* FASTIO_ACQUIRE_FOR_MOD_WRITE: the value EndingOffset points to */
        const unsigned char *v = take(c, 8, "ending offset");
        if (v != NULL) {
            pr->ending_offset = (LONGLONG)le64(v);
            pr->present |= FLTSIM_CP_ENDING_OFFSET;
        }
        break;
    }
    case 32:            /* directory control */
        if (sub == 1) { /* QueryDirectory: Length, FileName, FileInformationClass; the
                         * filter follows the path */
            pr->info_class = fp32(&f, 2, 0);
            pr->present |= FLTSIM_CP_INFO_CLASS;
            uint16_t finfo = take16(c, "directory filter length");
            if (!text_end(t)) /* ends the path */
                return false;
            size_t filter = t->len;
            if (!take_string(c, finfo, t, "directory filter") || !text_end(t))
                return false;
            size_t flen = t->len - 1 - filter;
            if (c->bad == NULL && flen > 0) {
                /* ProcMon shows the filter appended to the directory's path */
                size_t plen = filter - 1 - et->path;
                if (!text_reserve(t, plen + flen + 2))
                    return false;
                size_t path = t->len;
                memcpy(t->p + t->len, t->p + et->path, plen);
                t->len += plen;
                if (plen == 0 || t->p[t->len - 1] != '\\')
                    t->p[t->len++] = '\\';
                memcpy(t->p + t->len, t->p + filter, flen);
                t->len += flen;
                et->path = path;
                et->file_name = filter;
                pr->present |= FLTSIM_CP_FILE_NAME;
            }
        } else if (sub == 2) { /* NotifyChangeDirectory: Length, CompletionFilter */
            pr->notify_filter = fp32(&f, 1, 0);
            pr->present |= FLTSIM_CP_NOTIFY_FILTER;
        }
        break;
    case 33: /* FileSystemControl, DeviceIoControl, InternalDeviceIoControl:
              * OutputBufferLength, InputBufferLength, the control code */
    case 34:
    case 35:
        pr->control_code = fp32(&f, 2, 0);
        pr->present |= FLTSIM_CP_CONTROL;
        break;
    case 19: /* CreateFileMapping: SyncType, PageProtection */
        pr->sync_type = le32(f.u);
        pr->page_protection = le32(f.u + 4);
        pr->present |= FLTSIM_CP_SYNC_TYPE;
        break;
    case 37: /* lock control: Length (a pointer), Key, ByteOffset, ProcessId,
              * FailImmediately, ExclusiveLock */
        pr->offset = (LONGLONG)fp64(&f, 2);
        pr->present |= FLTSIM_CP_OFFSET;
        if (sub == 1 || sub == 2) { /* the value Length points to follows the path */
            const unsigned char *v = take(c, 8, "lock length");
            if (v != NULL) {
                uint64_t length = le64(v);
                pr->length = length > UINT32_MAX ? UINT32_MAX : (ULONG)length;
                pr->present |= FLTSIM_CP_LENGTH;
            }
        }
        if (sub == 1) {
            pr->fail_immediately = f.u[3 * ptr + 8] != 0;
            pr->exclusive = f.u[3 * ptr + 9] != 0;
            pr->present |= FLTSIM_CP_LOCK;
        }
        break;
    case 40: /* QuerySecurityFile, SetSecurityFile: SecurityInformation */
    case 41:
        pr->security_information = le32(f.u);
        pr->present |= FLTSIM_CP_SECURITY_INFO;
        break;
    default:
        break;
    }
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
    uint32_t proc_index = le32(h);
    uint32_t tid = le32(h + 4);
    uint32_t cls = le32(h + 8);
    uint16_t op = le16(h + 0xC);
    uint64_t duration = le64(h + 0x14);
    uint32_t result = le32(h + 0x24);
    uint16_t depth = le16(h + 0x28);
    uint32_t detail_size = le32(h + 0x2C);
    uint32_t extra_at = le32(h + 0x30);
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
        extra_size = le16(st->rec + extra_at);
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

    struct cursor c = {st->rec + detail_at, detail_size, 0, NULL};
    const unsigned char *extra = extra_at != 0 ? st->rec + extra_at + 2 : NULL;
    struct event_text et = {SIZE_MAX, SIZE_MAX, SIZE_MAX};
    struct pml_text *t = &st->text;
    t->len = 0;
    bool ok = true;
    switch (cls) {
    case FLTSIM_CAPTURE_CLASS_PROCESS:
        ev->operation = op < COUNT(process_ops) ? process_ops[op] : "<Unknown>";
        et.path = 0;
        ok = decode_process(&c, op, st->ptr, t);
        break;
    case FLTSIM_CAPTURE_CLASS_REGISTRY:
        ev->operation = op < COUNT(registry_ops) ? registry_ops[op] : "<Unknown>";
        et.path = 0;
        ok = decode_registry(&c, op, t);
        break;
    case FLTSIM_CAPTURE_CLASS_FILE_SYSTEM:
        ok = decode_fs(&c, st, op, extra, extra_size, &et);
        break;
    case FLTSIM_CAPTURE_CLASS_PROFILING:
        ev->operation = op < COUNT(profiling_ops) ? profiling_ops[op] : "<Unknown>";
        et.path = 0;
        break;
    default:
        ok = decode_network(&c, st, op, t, &et);
        break;
    }
    if (ok)
        ok = text_end(t);
    if (!ok)
        return fltsim__capture_fail(cap, "byte offset 0x%llx: out of memory",
                                    (unsigned long long)off);
    if (c.bad != NULL)
        return fltsim__capture_fail(cap,
                                    "byte offset 0x%llx: event %llu's %s runs past its detail "
                                    "(%u bytes)",
                                    (unsigned long long)(off + detail_at), (unsigned long long)i,
                                    c.bad, detail_size);
    if (et.operation != SIZE_MAX)
        ev->operation = t->p + et.operation;
    ev->path = et.path != SIZE_MAX ? t->p + et.path : "";
    if (et.file_name != SIZE_MAX)
        ev->params.file_name = t->p + et.file_name;
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
    uint32_t version = le32(h + 4);
    if (version != 9)
        return FAILED(cap, "byte offset 0x4: PML version %u (only 9 is known)", version);
    uint32_t is64 = le32(h + 8);
    if (is64 > 1)
        return FAILED(cap, "byte offset 0x8: the 64-bit flag is %u (0 or 1 expected)", is64);
    st->ptr = is64 ? 8 : 4;
    st->count = le32(h + 0x234);
    cap->event_count = st->count;
    static const unsigned at[5] = {0x248, 0x250, 0x258, 0x260, 0x3A0};
    static const char *const names[5] = {"event-offset array", "process table", "string table",
                                         "icon table", "host and port tables"};
    bool plain = gzdirect(cap->gz) != 0;
    for (size_t i = 0; i < 5; i++) {
        st->tables[i] = le64(h + at[i]);
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
