/*
 * The PML writer of the test support (pml_writer.h): a capture built in
 * memory in the layout capture_pml.c reads (TRACES.md 1.8), little-endian
 * throughout, and the sample capture the reader, replay and fuzzer suites
 * share. Fields the reader does not use (computer name aside) are zero.
 */
#include "pml_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define HEADER_SIZE 0x3A8u
#define EVENT_HEADER 0x34u
#define PROCESS_ENTRY 0x80u

struct pml_process {
    uint32_t index, pid, name;
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

struct pml_writer {
    bool is64;
    struct pml_blob events;
    uint32_t *offsets; /* of each event in the file */
    size_t count, offsets_cap;
    struct pml_process procs[64];
    size_t nprocs;
    char *strings[64];
    size_t nstrings;
    struct pml_host hosts[16];
    size_t nhosts;
    struct pml_port ports[16];
    size_t nports;
};

static void *must(void *p)
{
    if (p == NULL) {
        fputs("pml_writer: out of memory\n", stderr);
        exit(99);
    }
    return p;
}

/* ---- blobs ------------------------------------------------------------- */

void pml_blob_bytes(struct pml_blob *b, const void *data, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap < 256 ? 256 : b->cap;
        while (cap - b->len < n)
            cap *= 2;
        b->p = must(realloc(b->p, cap));
        b->cap = cap;
    }
    if (data != NULL)
        memcpy(b->p + b->len, data, n);
    else
        memset(b->p + b->len, 0, n);
    b->len += n;
}

void pml_blob_u8(struct pml_blob *b, uint8_t v)
{
    pml_blob_bytes(b, &v, 1);
}

void pml_blob_u16(struct pml_blob *b, uint16_t v)
{
    unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    pml_blob_bytes(b, x, 2);
}

void pml_blob_u32(struct pml_blob *b, uint32_t v)
{
    pml_blob_u16(b, (uint16_t)v);
    pml_blob_u16(b, (uint16_t)(v >> 16));
}

void pml_blob_u64(struct pml_blob *b, uint64_t v)
{
    pml_blob_u32(b, (uint32_t)v);
    pml_blob_u32(b, (uint32_t)(v >> 32));
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> 8 * i);
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* The next code point of UTF-8 text (well-formed: the writer's own input). */
static uint32_t next_utf8(const unsigned char **s)
{
    const unsigned char *p = *s;
    uint32_t c = *p++;
    int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    if (more > 0)
        c &= 0x3Fu >> more;
    while (more-- > 0)
        c = c << 6 | (*p++ & 0x3Fu);
    *s = p;
    return c;
}

/* UTF-16LE units of utf8 appended to b (no terminator); returns the count. */
static size_t blob_utf16(struct pml_blob *b, const char *utf8)
{
    size_t units = 0;
    for (const unsigned char *s = (const unsigned char *)utf8; *s != '\0';) {
        uint32_t c = next_utf8(&s);
        if (c >= 0x10000) {
            c -= 0x10000;
            if (b != NULL)
                pml_blob_u16(b, (uint16_t)(0xD800 + (c >> 10)));
            c = 0xDC00 + (c & 0x3FF);
            units++;
        }
        if (b != NULL)
            pml_blob_u16(b, (uint16_t)c);
        units++;
    }
    return units;
}

uint16_t pml_string_info(const char *utf8, bool ascii)
{
    size_t n = ascii ? strlen(utf8) : blob_utf16(NULL, utf8);
    return (uint16_t)((ascii ? 0x8000u : 0) | (n & 0x7FFF));
}

void pml_blob_chars(struct pml_blob *b, const char *utf8, bool ascii)
{
    if (ascii)
        pml_blob_bytes(b, utf8, strlen(utf8));
    else
        blob_utf16(b, utf8);
}

/* ---- the writer -------------------------------------------------------- */

struct pml_writer *pml_writer_new(bool is64)
{
    struct pml_writer *w = must(calloc(1, sizeof(*w)));
    w->is64 = is64;
    return w;
}

void pml_writer_free(struct pml_writer *w)
{
    if (w == NULL)
        return;
    free(w->events.p);
    free(w->offsets);
    for (size_t i = 0; i < w->nstrings; i++)
        free(w->strings[i]);
    for (size_t i = 0; i < w->nhosts; i++)
        free(w->hosts[i].name);
    for (size_t i = 0; i < w->nports; i++)
        free(w->ports[i].name);
    free(w);
}

unsigned pml_writer_ptr(const struct pml_writer *w)
{
    return w->is64 ? 8 : 4;
}

static uint32_t string_index(struct pml_writer *w, const char *s)
{
    for (size_t i = 0; i < w->nstrings; i++)
        if (strcmp(w->strings[i], s) == 0)
            return (uint32_t)i;
    if (w->nstrings == 64)
        must(NULL);
    w->strings[w->nstrings] = must(strdup(s));
    return (uint32_t)w->nstrings++;
}

void pml_writer_process(struct pml_writer *w, uint32_t index, uint32_t pid, const char *name)
{
    if (w->nprocs == 64)
        must(NULL);
    w->procs[w->nprocs++] = (struct pml_process){index, pid, string_index(w, name)};
}

void pml_writer_host(struct pml_writer *w, const unsigned char ip[16], const char *name)
{
    if (w->nhosts == 16)
        must(NULL);
    memcpy(w->hosts[w->nhosts].ip, ip, 16);
    w->hosts[w->nhosts++].name = must(strdup(name));
}

void pml_writer_port(struct pml_writer *w, uint16_t port, bool tcp, const char *name)
{
    if (w->nports == 16)
        must(NULL);
    w->ports[w->nports++] = (struct pml_port){port, tcp, must(strdup(name))};
}

void pml_writer_event(struct pml_writer *w, const struct pml_record *r)
{
    if (w->count == w->offsets_cap) {
        w->offsets_cap = w->offsets_cap ? 2 * w->offsets_cap : 64;
        w->offsets = must(realloc(w->offsets, w->offsets_cap * sizeof(*w->offsets)));
    }
    w->offsets[w->count++] = (uint32_t)(HEADER_SIZE + w->events.len);
    unsigned ptr = pml_writer_ptr(w);
    size_t body = EVENT_HEADER + (size_t)r->stack_depth * ptr + r->detail_size;
    struct pml_blob *b = &w->events;
    pml_blob_u32(b, r->process);
    pml_blob_u32(b, r->tid);
    pml_blob_u32(b, r->event_class);
    pml_blob_u16(b, r->operation);
    pml_blob_bytes(b, NULL, 6);
    pml_blob_u64(b, r->duration);
    pml_blob_u64(b, r->time);
    pml_blob_u32(b, r->result);
    pml_blob_u16(b, r->stack_depth);
    pml_blob_u16(b, 0);
    pml_blob_u32(b, (uint32_t)r->detail_size);
    pml_blob_u32(b, r->extra != NULL ? (uint32_t)body : 0);
    for (uint16_t i = 0; i < r->stack_depth; i++) { /* return addresses in ntdll, say */
        uint64_t frame = 0x7FF800001000ull + 0x10u * i;
        if (ptr == 8)
            pml_blob_u64(b, frame);
        else
            pml_blob_u32(b, (uint32_t)frame);
    }
    pml_blob_bytes(b, r->detail, r->detail_size);
    if (r->extra != NULL) {
        pml_blob_u16(b, (uint16_t)r->extra_size);
        pml_blob_bytes(b, r->extra, r->extra_size);
    }
}

void pml_param32(const struct pml_writer *w, struct pml_fs *fs, unsigned slot, unsigned extra,
                 uint32_t v)
{
    put32(fs->params + slot * pml_writer_ptr(w) + extra, v);
}

void pml_param64(const struct pml_writer *w, struct pml_fs *fs, unsigned slot, uint64_t v)
{
    put64(fs->params + slot * pml_writer_ptr(w), v);
}

void pml_fs_detail(const struct pml_writer *w, const struct pml_fs *fs, struct pml_blob *b)
{
    unsigned ptr = pml_writer_ptr(w);
    pml_blob_u8(b, fs->sub);
    pml_blob_bytes(b, NULL, 3);
    /* the fixed block: 12 bytes (the flags word at +4), then FLT_PARAMETERS */
    unsigned char block[60] = {0};
    put32(block + 4, fs->flags);
    memcpy(block + 12, fs->params, 5 * ptr + 8);
    pml_blob_bytes(b, block, 5 * ptr + 0x14);
    pml_blob_u16(b, pml_string_info(fs->path, fs->ascii));
    pml_blob_u16(b, 0);
    pml_blob_chars(b, fs->path, fs->ascii);
}

/* A table string: u32 byte size, UTF-16LE with its terminating NUL. */
static void table_string(struct pml_blob *b, const char *s)
{
    pml_blob_u32(b, (uint32_t)(2 * (blob_utf16(NULL, s) + 1)));
    blob_utf16(b, s);
    pml_blob_u16(b, 0);
}

unsigned char *pml_writer_finish(struct pml_writer *w, size_t *size)
{
    struct pml_blob f = {0};
    pml_blob_bytes(&f, NULL, HEADER_SIZE);
    pml_blob_bytes(&f, w->events.p, w->events.len);

    uint64_t at_offsets = f.len; /* the event-offset array: u32 offset, flags byte */
    for (size_t i = 0; i < w->count; i++) {
        pml_blob_u32(&f, w->offsets[i]);
        pml_blob_u8(&f, 0);
    }

    /* the process table: count, indexes, entry offsets (from the table), entries */
    uint64_t at_procs = f.len;
    pml_blob_u32(&f, (uint32_t)w->nprocs);
    for (size_t i = 0; i < w->nprocs; i++)
        pml_blob_u32(&f, w->procs[i].index);
    size_t entries = 4 + 8 * w->nprocs;
    for (size_t i = 0; i < w->nprocs; i++)
        pml_blob_u32(&f, (uint32_t)(entries + i * PROCESS_ENTRY));
    for (size_t i = 0; i < w->nprocs; i++) {
        unsigned char e[PROCESS_ENTRY] = {0};
        put32(e, w->procs[i].index);
        put32(e + 4, w->procs[i].pid);
        put32(e + 0x34, w->is64); /* a 64-bit process */
        put32(e + 0x40, w->procs[i].name);
        put32(e + 0x44, w->procs[i].name); /* image path: the name will do */
        pml_blob_bytes(&f, e, sizeof(e));
    }

    /* the string table: count, offsets (from the table), strings */
    uint64_t at_strings = f.len;
    pml_blob_u32(&f, (uint32_t)w->nstrings);
    size_t offs = f.len;
    pml_blob_bytes(&f, NULL, 4 * w->nstrings);
    for (size_t i = 0; i < w->nstrings; i++) {
        put32(f.p + offs + 4 * i, (uint32_t)(f.len - at_strings));
        table_string(&f, w->strings[i]);
    }

    uint64_t at_icons = f.len; /* no icons */
    pml_blob_u32(&f, 0);

    uint64_t at_hosts = f.len; /* hosts (IP, name), then ports (port, TCP?, name) */
    pml_blob_u32(&f, (uint32_t)w->nhosts);
    for (size_t i = 0; i < w->nhosts; i++) {
        pml_blob_bytes(&f, w->hosts[i].ip, 16);
        table_string(&f, w->hosts[i].name);
    }
    pml_blob_u32(&f, (uint32_t)w->nports);
    for (size_t i = 0; i < w->nports; i++) {
        pml_blob_u16(&f, w->ports[i].number);
        pml_blob_u16(&f, w->ports[i].tcp);
        table_string(&f, w->ports[i].name);
    }

    unsigned char *h = f.p;
    memcpy(h, "PML_", 4);
    put32(h + 4, 9);
    put32(h + 8, w->is64);
    const char *computer = "FLTSIM-TEST";
    for (size_t i = 0; computer[i] != '\0'; i++)
        h[0xC + 2 * i] = (unsigned char)computer[i];
    const char *root = "C:\\Windows";
    for (size_t i = 0; root[i] != '\0'; i++)
        h[0x2C + 2 * i] = (unsigned char)root[i];
    put32(h + 0x234, (uint32_t)w->count);
    put64(h + 0x240, HEADER_SIZE);
    put64(h + 0x248, at_offsets);
    put64(h + 0x250, at_procs);
    put64(h + 0x258, at_strings);
    put64(h + 0x260, at_icons);
    put32(h + 0x270, 284); /* OSVERSIONINFOEXW: size, 10.0.19041 */
    put32(h + 0x274, 10);
    put32(h + 0x278, 0);
    put32(h + 0x27C, 19041);
    put32(h + 0x38C, 2); /* CPUs */
    put64(h + 0x390, 4ull << 30);
    put64(h + 0x3A0, at_hosts);
    *size = f.len;
    return f.p;
}

bool pml_save(const char *path, const void *data, size_t size, bool gz)
{
    if (gz) {
        gzFile g = gzopen(path, "wb9");
        if (g == NULL)
            return false;
        bool ok = gzwrite(g, data, (unsigned)size) == (int)size;
        return gzclose(g) == Z_OK && ok;
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return false;
    bool ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}
