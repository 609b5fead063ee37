/*
 * Decoding a PML event's detail blob (../shared/TRACES.md 1.8), for the PML
 * reader (capture_pml.c frames the records and fills the event's header
 * fields): the operation names of each event class, the paths of process,
 * image, registry and network events, and for file-system events the
 * sub-operation, the copy of FLT_PARAMETERS, the path and the
 * operation-specific fields that follow it, and the extra-detail output
 * (OpenResult, transferred length). Strings are converted to UTF-8 here.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_internal.h"

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
            c = fltsim__capture_le16(s + 2 * i);
            if (c >= 0xD800 && c < 0xDC00 && i + 1 < chars) {
                uint32_t lo = fltsim__capture_le16(s + 2 * i + 2);
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
char *fltsim__capture_pml_utf16_dup(const unsigned char *s, size_t size)
{
    struct pml_text t = {0};
    size_t chars = size / 2;
    for (size_t i = 0; i < chars; i++)
        if (fltsim__capture_le16(s + 2 * i) == 0) {
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
    return p == NULL ? 0 : fltsim__capture_le16(p);
}

static uint32_t take32(struct cursor *c, const char *what)
{
    const unsigned char *p = take(c, 4, what);
    return p == NULL ? 0 : fltsim__capture_le32(p);
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
    return fltsim__capture_le32(f->u + slot * f->ptr + extra);
}

static uint64_t fp64(const struct fltparams *f, unsigned slot)
{
    return fltsim__capture_le64(f->u + slot * f->ptr);
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
    uint32_t flags_word = fltsim__capture_le32(block + 4);
    switch (op) {
    case 20: { /* CreateFile: SecurityContext, Options, FileAttributes + ShareAccess,
                * EaLength, EaBuffer, AllocationSize */
        uint32_t options = fp32(&f, 1, 0);
        pr->disposition = options >> 24;
        pr->create_options = options & 0xFFFFFF;
        pr->file_attributes = fltsim__capture_le16(f.u + 2 * ptr);
        pr->share_access = fltsim__capture_le16(f.u + 2 * ptr + 2);
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
            pr->open_result = fltsim__capture_le32(extra);
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
            pr->length = fltsim__capture_le32(extra); /* what was transferred */
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
                pr->end_of_file = (LONGLONG)fltsim__capture_le64(v);
                pr->present |= FLTSIM_CP_END_OF_FILE;
            }
        }
        break;
    case 17: { /* FASTIO_ACQUIRE_FOR_MOD_WRITE: the value EndingOffset points to */
        const unsigned char *v = take(c, 8, "ending offset");
        if (v != NULL) {
            pr->ending_offset = (LONGLONG)fltsim__capture_le64(v);
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
        pr->sync_type = fltsim__capture_le32(f.u);
        pr->page_protection = fltsim__capture_le32(f.u + 4);
        pr->present |= FLTSIM_CP_SYNC_TYPE;
        break;
    case 37: /* lock control: Length (a pointer), Key, ByteOffset, ProcessId,
              * FailImmediately, ExclusiveLock */
        pr->offset = (LONGLONG)fp64(&f, 2);
        pr->present |= FLTSIM_CP_OFFSET;
        if (sub == 1 || sub == 2) { /* the value Length points to follows the path */
            const unsigned char *v = take(c, 8, "lock length");
            if (v != NULL) {
                uint64_t length = fltsim__capture_le64(v);
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
        pr->security_information = fltsim__capture_le32(f.u);
        pr->present |= FLTSIM_CP_SECURITY_INFO;
        break;
    default:
        break;
    }
    return true;
}

bool fltsim__capture_pml_decode(struct pml_state *st, uint32_t cls, uint16_t op,
                                const unsigned char *detail, size_t detail_size,
                                const unsigned char *extra, size_t extra_size, const char **bad)
{
    struct fltsim_capture_event *ev = &st->ev;
    struct cursor c = {detail, detail_size, 0, NULL};
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
    *bad = c.bad;
    if (!ok || c.bad != NULL)
        return ok;
    if (et.operation != SIZE_MAX)
        ev->operation = t->p + et.operation;
    ev->path = et.path != SIZE_MAX ? t->p + et.path : "";
    if (et.file_name != SIZE_MAX)
        ev->params.file_name = t->p + et.file_name;
    return true;
}
