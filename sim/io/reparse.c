/*
 * What the I/O manager does with a create that returned STATUS_REPARSE: the
 * name to open next. A filter's IO_REPARSE (the file object renamed with
 * IoReplaceFileObjectName, as simrep does) names it whole; a junction
 * (IO_REPARSE_TAG_MOUNT_POINT) or a symbolic link (IO_REPARSE_TAG_SYMLINK)
 * gives a substitute name for the part of the path parsed so far. create.c
 * issues the create again and counts the reparses.
 */
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"

void fltsim__reparse_free(struct fltsim__reparse *r)
{
    if (r->tag_data != NULL)
        ExFreePool(r->tag_data);
    free(r->name);
    memset(r, 0, sizeof(*r));
}

/* A growing wide string. */
struct wbuf {
    WCHAR *s;
    size_t len, cap;
    bool failed;
};

static void put(struct wbuf *b, const WCHAR *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        WCHAR *grown = realloc(b->s, cap * sizeof(WCHAR));
        if (grown == NULL) {
            b->failed = true;
            return;
        }
        b->s = grown;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n * sizeof(WCHAR));
    b->len += n;
    b->s[b->len] = 0;
}

/* Joins base and rest with one backslash between them. */
static void join(struct wbuf *b, const WCHAR *base, size_t n, const WCHAR *rest, size_t m)
{
    put(b, base, n);
    if (n != 0 && m != 0 && base[n - 1] == L'\\' && rest[0] == L'\\') {
        rest++;
        m--;
    }
    put(b, rest, m);
}

/* Resolves "." and ".." in path[0..*len) (a volume path beginning with a
 * backslash) in place. FALSE when ".." climbs above the root. */
static bool resolve_dots(WCHAR *path, size_t *len)
{
    size_t in = 0, out = 0, n = *len;
    while (in < n) {
        /* path[in] is a backslash: one component follows */
        size_t start = in + 1, end = start;
        while (end < n && path[end] != L'\\')
            end++;
        size_t c = end - start;
        if (c == 0 || (c == 1 && path[start] == L'.')) {
            /* empty or ".": dropped (a trailing backslash stays) */
            if (c == 0 && end == n)
                path[out++] = L'\\';
        } else if (c == 2 && path[start] == L'.' && path[start + 1] == L'.') {
            if (out == 0)
                return false;
            while (out > 0 && path[out - 1] != L'\\')
                out--;
            out--; /* the backslash before the dropped component */
        } else {
            memmove(path + out, path + in, (end - in) * sizeof(WCHAR));
            out += end - in;
        }
        in = end;
    }
    if (out == 0)
        path[out++] = L'\\';
    *len = out;
    return true;
}

/* The substitute name of a junction or symbolic link in t (checked to lie in
 * the data): *sub, *sub_len units, *relative. */
static NTSTATUS substitute(const FLT_TAG_DATA_BUFFER *t, const WCHAR **sub, size_t *sub_len,
                           bool *relative)
{
    size_t fixed, offset, length;
    const UCHAR *path;
    *relative = false;
    if (t->FileTag == IO_REPARSE_TAG_MOUNT_POINT) {
        fixed = FIELD_OFFSET(FLT_TAG_DATA_BUFFER, MountPointReparseBuffer.PathBuffer);
        offset = t->MountPointReparseBuffer.SubstituteNameOffset;
        length = t->MountPointReparseBuffer.SubstituteNameLength;
        path = (const UCHAR *)t->MountPointReparseBuffer.PathBuffer;
    } else {
        fixed = FIELD_OFFSET(FLT_TAG_DATA_BUFFER, SymbolicLinkReparseBuffer.PathBuffer);
        offset = t->SymbolicLinkReparseBuffer.SubstituteNameOffset;
        length = t->SymbolicLinkReparseBuffer.SubstituteNameLength;
        path = (const UCHAR *)t->SymbolicLinkReparseBuffer.PathBuffer;
        if (fixed <= FLT_TAG_DATA_BUFFER_HEADER_SIZE + (size_t)t->TagDataLength)
            *relative = (t->SymbolicLinkReparseBuffer.Flags & SYMLINK_FLAG_RELATIVE) != 0;
    }
    size_t end = FLT_TAG_DATA_BUFFER_HEADER_SIZE + (size_t)t->TagDataLength;
    if (fixed > end || (offset & 1) || (length & 1) || length == 0 || fixed + offset + length > end)
        return STATUS_IO_REPARSE_DATA_INVALID;
    *sub = (const WCHAR *)(const void *)(path + offset);
    *sub_len = length / sizeof(WCHAR);
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__reparse_next(const struct fltsim__reparse *r, WCHAR **next)
{
    struct wbuf b = {NULL, 0, 0, false};
    *next = NULL;
    if (r->information == IO_REPARSE && r->tag_data == NULL) {
        /* A driver renamed the file object: its whole new name. */
        put(&b, r->name, r->name_len);
        if (b.failed || b.s == NULL) {
            free(b.s);
            return b.failed ? STATUS_INSUFFICIENT_RESOURCES : STATUS_OBJECT_NAME_INVALID;
        }
        *next = b.s;
        return STATUS_SUCCESS;
    }
    const FLT_TAG_DATA_BUFFER *t = r->tag_data;
    if (t == NULL || t->FileTag != r->information ||
        (t->FileTag != IO_REPARSE_TAG_MOUNT_POINT && t->FileTag != IO_REPARSE_TAG_SYMLINK))
        return STATUS_IO_REPARSE_TAG_NOT_HANDLED; /* no filter took it */
    const WCHAR *sub;
    size_t sub_len;
    bool relative;
    NTSTATUS status = substitute(t, &sub, &sub_len, &relative);
    if (!NT_SUCCESS(status))
        return status;
    size_t unparsed = t->UnparsedNameLength / sizeof(WCHAR);
    if (unparsed > r->name_len)
        return STATUS_IO_REPARSE_DATA_INVALID;
    const WCHAR *rest = r->name + r->name_len - unparsed;
    if (!relative) {
        join(&b, sub, sub_len, rest, unparsed);
    } else {
        /* Relative to the link's directory: what was parsed, less the link. */
        size_t parsed = r->name_len - unparsed;
        while (parsed > 0 && r->name[parsed - 1] != L'\\')
            parsed--;
        if (r->volume == NULL || parsed == 0 || r->name[0] != L'\\')
            return STATUS_IO_REPARSE_TAG_NOT_HANDLED;
        struct wbuf path = {NULL, 0, 0, false};
        put(&path, r->name, parsed);
        put(&path, sub, sub_len);
        put(&path, rest, unparsed);
        if (path.failed) {
            free(path.s);
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        if (!resolve_dots(path.s, &path.len)) {
            free(path.s);
            return STATUS_OBJECT_PATH_NOT_FOUND;
        }
        PCUNICODE_STRING device = fltsim_volume_device_name(r->volume);
        put(&b, device->Buffer, device->Length / sizeof(WCHAR));
        put(&b, path.s, path.len);
        free(path.s);
    }
    if (b.failed) {
        free(b.s);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    *next = b.s;
    return STATUS_SUCCESS;
}
