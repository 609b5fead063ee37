/*
 * The object namespace of a system, as NtCreateFile and the Io routines that
 * name objects see it: the directories every system has (\Device,
 * \Driver, \FileSystem, \FileSystem\Filters, \GLOBAL?? ...), the names it
 * already has (mounted volumes and their drive letters, driver objects), the
 * device objects drivers create (device.c) and the symbolic links they make
 * (IoCreateSymbolicLink, IoDeleteSymbolicLink); how a name is parsed through
 * directories and links to the object that takes the rest of it, and how a
 * new object's name is made canonical and checked for collisions.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"

#define MAX_REPARSE 32 /* symbolic links followed in one name */

/* ---- the namespace of a system ---- */

struct symlink {
    LIST_ENTRY link; /* ns->links */
    UNICODE_STRING name;
    UNICODE_STRING target;
    struct fltsim_driver *creator; /* whose code made it, while that driver is loaded */
};

/* The directories every system has (the root is the empty prefix). */
static const WCHAR *const directories[] = {
    L"\\Device",      L"\\Driver",   L"\\FileSystem",    L"\\FileSystem\\Filters",
    L"\\GLOBAL??",    L"\\Callback", L"\\KernelObjects", L"\\BaseNamedObjects",
    L"\\ObjectTypes", L"\\Sessions", L"\\RPC Control"};

/* The symbolic links every system has: \?? is the DosDevices directory of
 * the system's session, which is \GLOBAL??; \GLOBAL??\GLOBALROOT leads back
 * to the root, the way Win32 applications name NT paths (\\.\GLOBALROOT\...). */
static const struct {
    const WCHAR *name, *target;
} builtin_links[] = {
    {L"\\??", L"\\GLOBAL??"}, {L"\\DosDevices", L"\\??"}, {L"\\GLOBAL??\\GLOBALROOT", L""}};

static bool equal_ci(const WCHAR *a, size_t alen, const WCHAR *b, size_t blen)
{
    UNICODE_STRING x = {(USHORT)(alen * sizeof(WCHAR)), (USHORT)(alen * sizeof(WCHAR)), (PWCH)a};
    UNICODE_STRING y = {(USHORT)(blen * sizeof(WCHAR)), (USHORT)(blen * sizeof(WCHAR)), (PWCH)b};
    return alen == blen && alen <= 32767 && RtlEqualUnicodeString(&x, &y, TRUE);
}

static bool equal_ustr(PCUNICODE_STRING s, const WCHAR *b, size_t blen)
{
    return equal_ci(s->Buffer, s->Length / sizeof(WCHAR), b, blen);
}

/* sys->lock held: the namespace, made on first use; NULL when out of memory. */
struct fltsim_namespace *fltsim__ns_get_locked(fltsim_system *sys)
{
    if (sys->objects == NULL) {
        struct fltsim_namespace *ns = calloc(1, sizeof(*ns));
        if (ns == NULL)
            return NULL;
        InitializeListHead(&ns->devices);
        InitializeListHead(&ns->links);
        sys->objects = ns;
    }
    return sys->objects;
}

struct found {
    enum fltsim_ns_entity kind;
    struct fltsim_device *device;
    PFLT_VOLUME volume;
    const WCHAR *target; /* FLTSIM_NS_LINK: not terminated */
    size_t target_len;
};

/* sys->lock held: what the full name s[0..n) is. */
static struct found classify_locked(fltsim_system *sys, const WCHAR *s, size_t n)
{
    struct found f = {FLTSIM_NS_NONE, NULL, NULL, NULL, 0};
    if (n == 0) {
        f.kind = FLTSIM_NS_DIRECTORY; /* the root */
        return f;
    }
    for (size_t i = 0; i < sizeof(directories) / sizeof(directories[0]); i++)
        if (equal_ci(s, n, directories[i], fltsim_wcslen(directories[i]))) {
            f.kind = FLTSIM_NS_DIRECTORY;
            return f;
        }
    for (size_t i = 0; i < sizeof(builtin_links) / sizeof(builtin_links[0]); i++)
        if (equal_ci(s, n, builtin_links[i].name, fltsim_wcslen(builtin_links[i].name))) {
            f.kind = FLTSIM_NS_LINK;
            f.target = builtin_links[i].target;
            f.target_len = fltsim_wcslen(builtin_links[i].target);
            return f;
        }
    struct fltsim_namespace *ns = sys->objects;
    if (ns != NULL) {
        for (PLIST_ENTRY e = ns->devices.Flink; e != &ns->devices; e = e->Flink) {
            struct fltsim_device *d = CONTAINING_RECORD(e, struct fltsim_device, sys_link);
            if (d->in_namespace && equal_ustr(&d->name, s, n)) {
                f.kind = FLTSIM_NS_DEVICE;
                f.device = d;
                return f;
            }
        }
        for (PLIST_ENTRY e = ns->links.Flink; e != &ns->links; e = e->Flink) {
            struct symlink *l = CONTAINING_RECORD(e, struct symlink, link);
            if (equal_ustr(&l->name, s, n)) {
                f.kind = FLTSIM_NS_LINK;
                f.target = l->target.Buffer;
                f.target_len = l->target.Length / sizeof(WCHAR);
                return f;
            }
        }
    }
    static const WCHAR global[] = L"\\GLOBAL??\\";
    const size_t glen = sizeof(global) / sizeof(WCHAR) - 1;
    bool drive = n == glen + 2 && equal_ci(s, glen, global, glen) && s[glen + 1] == L':';
    for (PLIST_ENTRY e = sys->volumes.Flink; e != &sys->volumes; e = e->Flink) {
        PFLT_VOLUME v = CONTAINING_RECORD(e, struct _FLT_VOLUME, link);
        if (equal_ustr(&v->device_name, s, n) ||
            (drive && v->drive_letter != 0 &&
             RtlUpcaseUnicodeChar(v->drive_letter) == RtlUpcaseUnicodeChar(s[glen]))) {
            f.kind = FLTSIM_NS_VOLUME;
            f.volume = v;
            return f;
        }
    }
    for (PLIST_ENTRY e = sys->drivers.Flink; e != &sys->drivers; e = e->Flink) {
        struct fltsim_driver *drv = CONTAINING_RECORD(e, struct fltsim_driver, link);
        if (equal_ustr(&drv->driver_object.DriverName, s, n)) {
            f.kind = FLTSIM_NS_DRIVER;
            return f;
        }
    }
    return f;
}

static NTSTATUS validate_name(const WCHAR *name, size_t len)
{
    if (len == 0 || name[0] != L'\\')
        return STATUS_OBJECT_PATH_SYNTAX_BAD;
    return STATUS_SUCCESS;
}

/* sys->lock held. Parses name[0..len) as the object manager does, following
 * symbolic links, up to the first device object or volume (whose parse
 * routine gets the rest) or to the end. On success w->path is the caller's
 * to free. */
NTSTATUS fltsim__ns_walk_locked(fltsim_system *sys, const WCHAR *name, size_t len,
                                struct fltsim_ns_walk *w)
{
    memset(w, 0, sizeof(*w));
    NTSTATUS status = validate_name(name, len);
    if (!NT_SUCCESS(status))
        return status;
    WCHAR *cur = malloc((len + 1) * sizeof(WCHAR));
    if (cur == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(cur, name, len * sizeof(WCHAR));
    size_t n = len;
    int reparses = 0;
    size_t pos = 1; /* start of the next component */
    if (n == 1) {
        w->kind = FLTSIM_NS_DIRECTORY; /* "\" */
        w->path = cur;
        w->len = w->end = n;
        return STATUS_SUCCESS;
    }
    for (;;) {
        size_t end = pos;
        while (end < n && cur[end] != L'\\')
            end++;
        if (end == pos) {
            free(cur);
            return STATUS_OBJECT_NAME_INVALID; /* an empty component */
        }
        struct found f = classify_locked(sys, cur, end);
        switch (f.kind) {
        case FLTSIM_NS_DIRECTORY:
            if (end == n) {
                w->kind = FLTSIM_NS_DIRECTORY;
                w->path = cur;
                w->len = w->end = n;
                return STATUS_SUCCESS;
            }
            pos = end + 1;
            continue;
        case FLTSIM_NS_DEVICE:
        case FLTSIM_NS_VOLUME:
            w->kind = f.kind;
            w->device = f.device;
            w->volume = f.volume;
            w->path = cur;
            w->len = n;
            w->end = end;
            return STATUS_SUCCESS;
        case FLTSIM_NS_LINK: {
            if (++reparses > MAX_REPARSE || (f.target_len != 0 && f.target[0] != L'\\')) {
                free(cur);
                return STATUS_OBJECT_NAME_NOT_FOUND;
            }
            size_t tail = n - end;
            if (f.target_len + tail > UNICODE_STRING_MAX_CHARS) {
                free(cur);
                return STATUS_OBJECT_NAME_INVALID;
            }
            WCHAR *next = malloc((f.target_len + tail + 2) * sizeof(WCHAR));
            if (next == NULL) {
                free(cur);
                return STATUS_INSUFFICIENT_RESOURCES;
            }
            memcpy(next, f.target, f.target_len * sizeof(WCHAR));
            memcpy(next + f.target_len, cur + end, tail * sizeof(WCHAR));
            size_t m = f.target_len + tail;
            free(cur);
            cur = next;
            if (m == 0) /* GLOBALROOT itself: the root */
                cur[m++] = L'\\';
            n = m;
            if (n == 1) {
                w->kind = FLTSIM_NS_DIRECTORY;
                w->path = cur;
                w->len = w->end = n;
                return STATUS_SUCCESS;
            }
            pos = 1;
            continue;
        }
        case FLTSIM_NS_DRIVER:
            free(cur);
            return STATUS_OBJECT_TYPE_MISMATCH; /* not a file, and no parse routine */
        case FLTSIM_NS_NONE:
        default:
            free(cur);
            return end == n ? STATUS_OBJECT_NAME_NOT_FOUND : STATUS_OBJECT_PATH_NOT_FOUND;
        }
    }
}

/* sys->lock held. The canonical full name of an object called name[0..len)
 * in the namespace: its parent parsed to a directory (links followed: \??\X
 * is \GLOBAL??\X), then its last component. *out is malloc'd (terminated). */
static NTSTATUS canonical_name_locked(fltsim_system *sys, const WCHAR *name, size_t len,
                                      UNICODE_STRING *out)
{
    memset(out, 0, sizeof(*out));
    NTSTATUS status = validate_name(name, len);
    if (!NT_SUCCESS(status))
        return status;
    size_t cut = len;
    while (cut > 0 && name[cut - 1] != L'\\')
        cut--;
    /* name[0..cut-1) is the parent ("" for the root), name[cut..len) the leaf */
    if (cut == len || len > UNICODE_STRING_MAX_CHARS)
        return STATUS_OBJECT_NAME_INVALID;
    struct fltsim_ns_walk w;
    memset(&w, 0, sizeof(w));
    size_t plen = 0;
    if (cut > 1) {
        status = fltsim__ns_walk_locked(sys, name, cut - 1, &w);
        if (status == STATUS_OBJECT_NAME_NOT_FOUND)
            status = STATUS_OBJECT_PATH_NOT_FOUND; /* the parent is missing */
        if (NT_SUCCESS(status) && w.kind != FLTSIM_NS_DIRECTORY)
            status = STATUS_OBJECT_PATH_NOT_FOUND; /* inside a device or volume */
        if (!NT_SUCCESS(status)) {
            free(w.path);
            return status;
        }
        plen = w.len == 1 ? 0 : w.len; /* the root is the empty prefix */
    }
    size_t leaf = len - cut, total = plen + 1 + leaf;
    WCHAR *buf = total <= UNICODE_STRING_MAX_CHARS ? malloc((total + 1) * sizeof(WCHAR)) : NULL;
    if (buf == NULL) {
        free(w.path);
        return total > UNICODE_STRING_MAX_CHARS ? STATUS_OBJECT_NAME_INVALID
                                                : STATUS_INSUFFICIENT_RESOURCES;
    }
    if (plen != 0)
        memcpy(buf, w.path, plen * sizeof(WCHAR));
    buf[plen] = L'\\';
    memcpy(buf + plen + 1, name + cut, leaf * sizeof(WCHAR));
    buf[total] = 0;
    free(w.path);
    out->Buffer = buf;
    out->Length = (USHORT)(total * sizeof(WCHAR));
    out->MaximumLength = (USHORT)((total + 1) * sizeof(WCHAR));
    return STATUS_SUCCESS;
}

/* sys->lock held: canonical_name_locked for an object about to be created:
 * STATUS_OBJECT_NAME_COLLISION when anything has that name already. */
NTSTATUS fltsim__ns_new_name_locked(fltsim_system *sys, const WCHAR *name, size_t len,
                                    UNICODE_STRING *out)
{
    NTSTATUS status = canonical_name_locked(sys, name, len, out);
    if (!NT_SUCCESS(status))
        return status;
    if (classify_locked(sys, out->Buffer, out->Length / sizeof(WCHAR)).kind != FLTSIM_NS_NONE) {
        free(out->Buffer);
        memset(out, 0, sizeof(*out));
        return STATUS_OBJECT_NAME_COLLISION;
    }
    return STATUS_SUCCESS;
}

/* A counted string a driver passed: its units, or STATUS_OBJECT_NAME_INVALID
 * for a malformed one. */
NTSTATUS fltsim__ns_counted_name(PCUNICODE_STRING s, const WCHAR **buf, size_t *len)
{
    if (s->Length == 0 || (s->Length & 1) != 0 || s->Length > s->MaximumLength || s->Buffer == NULL)
        return STATUS_OBJECT_NAME_INVALID;
    *buf = s->Buffer;
    *len = s->Length / sizeof(WCHAR);
    return STATUS_SUCCESS;
}

void fltsim__io_report(fltsim_system *sys, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct fltsim_tls *t = fltsim__tls();
    if (sys == NULL)
        sys = t->sys;
    if (sys == NULL) {
        fltsim__fail(STATUS_INVALID_PARAMETER, "%s", msg);
        return;
    }
    bool ours = t->sys == sys;
    fltsim__report(sys, ours ? t->filter : NULL, NULL, ours ? t->op : NULL, "IO", "-", "%s", msg);
}

bool fltsim__object_name_taken_locked(fltsim_system *sys, PCUNICODE_STRING name, WCHAR drive_letter)
{
    if (sys->objects == NULL)
        return false;
    struct found f = classify_locked(sys, name->Buffer, name->Length / sizeof(WCHAR));
    if (f.kind == FLTSIM_NS_DEVICE || f.kind == FLTSIM_NS_LINK)
        return true;
    if (drive_letter == 0)
        return false;
    WCHAR drive[] = L"\\GLOBAL??\\X:";
    drive[10] = drive_letter;
    f = classify_locked(sys, drive, 12);
    return f.kind == FLTSIM_NS_LINK;
}

/* ---- symbolic links ---- */

NTSTATUS IoCreateSymbolicLink(PUNICODE_STRING SymbolicLinkName, PUNICODE_STRING DeviceName)
{
    struct fltsim_tls *t = fltsim__tls();
    fltsim_system *sys = t->sys;
    if (sys == NULL || SymbolicLinkName == NULL || DeviceName == NULL) {
        fltsim__io_report(sys, "IoCreateSymbolicLink called %s",
                          sys == NULL ? "outside any driver's code" : "with a NULL name");
        return STATUS_INVALID_PARAMETER;
    }
    fltsim__check_irql(sys, PASSIVE_LEVEL, "IoCreateSymbolicLink");
    const WCHAR *name, *target;
    size_t name_len, target_len;
    NTSTATUS status = fltsim__ns_counted_name(SymbolicLinkName, &name, &name_len);
    if (NT_SUCCESS(status))
        status = fltsim__ns_counted_name(DeviceName, &target, &target_len);
    if (!NT_SUCCESS(status))
        return status;
    struct symlink *l = calloc(1, sizeof(*l));
    if (l == NULL || !fltsim__ustr_dup(&l->target, target, target_len)) {
        free(l);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    uv_mutex_lock(&sys->lock);
    struct fltsim_namespace *ns = fltsim__ns_get_locked(sys);
    status = ns == NULL ? STATUS_INSUFFICIENT_RESOURCES
                        : fltsim__ns_new_name_locked(sys, name, name_len, &l->name);
    if (NT_SUCCESS(status)) {
        l->creator = t->filter != NULL ? t->filter->driver : t->loading;
        InsertTailList(&ns->links, &l->link);
    }
    uv_mutex_unlock(&sys->lock);
    if (!NT_SUCCESS(status)) {
        fltsim__ustr_free(&l->target);
        free(l);
    }
    return status;
}

static void symlink_free(struct symlink *l)
{
    free(l->name.Buffer); /* new_name_locked's malloc */
    fltsim__ustr_free(&l->target);
    free(l);
}

NTSTATUS IoDeleteSymbolicLink(PUNICODE_STRING SymbolicLinkName)
{
    fltsim_system *sys = fltsim__tls()->sys;
    if (sys == NULL || SymbolicLinkName == NULL) {
        fltsim__io_report(sys, "IoDeleteSymbolicLink called %s",
                          sys == NULL ? "outside any driver's code" : "with a NULL name");
        return STATUS_INVALID_PARAMETER;
    }
    fltsim__check_irql(sys, PASSIVE_LEVEL, "IoDeleteSymbolicLink");
    const WCHAR *name;
    size_t len;
    NTSTATUS status = fltsim__ns_counted_name(SymbolicLinkName, &name, &len);
    if (!NT_SUCCESS(status))
        return status;
    struct symlink *found = NULL;
    UNICODE_STRING canonical;
    uv_mutex_lock(&sys->lock);
    status = canonical_name_locked(sys, name, len, &canonical);
    if (NT_SUCCESS(status) && sys->objects != NULL)
        for (PLIST_ENTRY e = sys->objects->links.Flink; e != &sys->objects->links; e = e->Flink) {
            struct symlink *l = CONTAINING_RECORD(e, struct symlink, link);
            if (equal_ustr(&l->name, canonical.Buffer, canonical.Length / sizeof(WCHAR))) {
                found = l;
                RemoveEntryList(&l->link);
                break;
            }
        }
    if (NT_SUCCESS(status) && found == NULL)
        /* Another kind of object by that name is not a link. */
        status = classify_locked(sys, canonical.Buffer, canonical.Length / sizeof(WCHAR)).kind ==
                         FLTSIM_NS_NONE
                     ? STATUS_OBJECT_NAME_NOT_FOUND
                     : STATUS_OBJECT_TYPE_MISMATCH;
    uv_mutex_unlock(&sys->lock);
    free(canonical.Buffer);
    if (found != NULL)
        symlink_free(found);
    return status;
}

/* ---- what a driver leaves, and the end of the namespace ---- */

int fltsim__ns_links_disown_locked(fltsim_system *sys, struct fltsim_driver *drv, char *names,
                                   size_t size)
{
    int n = 0;
    if (sys->objects == NULL)
        return 0;
    for (PLIST_ENTRY e = sys->objects->links.Flink; e != &sys->objects->links; e = e->Flink) {
        struct symlink *l = CONTAINING_RECORD(e, struct symlink, link);
        if (l->creator != drv)
            continue;
        char name8[FLTSIM_NAME8_MAX];
        fltsim__ustr_to_utf8(&l->name, name8, sizeof(name8));
        size_t used = strlen(names);
        snprintf(names + used, size - used, "%s%s", n ? ", " : "", name8);
        n++;
        l->creator = NULL; /* the link stays, as on Windows */
    }
    return n;
}

void fltsim__ns_destroy(fltsim_system *sys)
{
    struct fltsim_namespace *ns = sys->objects;
    if (ns == NULL)
        return;
    while (!IsListEmpty(&ns->links)) {
        struct symlink *l = CONTAINING_RECORD(ns->links.Flink, struct symlink, link);
        RemoveEntryList(&l->link);
        symlink_free(l);
    }
    sys->objects = NULL;
    free(ns);
}
