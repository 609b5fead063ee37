/*
 * The directory-query rules memfs and hostfs share (fs_shared.h): a
 * handle's upcased pattern and FsRtlIsNameInExpression matching, the decoding
 * and checks of IRP_MN_QUERY_DIRECTORY, the packing of the entries a file
 * system's scan yields (struct fltsim__fs_scan_ops), and the
 * IRP_MJ_DIRECTORY_CONTROL handler (fs_core.h). The order of the entries and
 * where a scan resumes are each file system's own (struct fltsim__fs_dir_ops).
 */
#include <stdlib.h>
#include <string.h>

#include "fs_core.h"
#include "common/sim_internal.h"

/* ------------------------------------------------------------------------- */
/* Directory queries                                                         */
/* ------------------------------------------------------------------------- */

NTSTATUS fltsim__fs_pattern_take(struct fltsim__fs_pattern *p, const UNICODE_STRING *given)
{
    size_t units = 1;
    const WCHAR *src = NULL;
    if (given != NULL && given->Length >= sizeof(WCHAR) && given->Buffer != NULL) {
        units = given->Length / sizeof(WCHAR);
        src = given->Buffer;
    }
    WCHAR *e = malloc(units * sizeof(WCHAR));
    if (e == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (src == NULL)
        e[0] = L'*';
    else
        for (size_t i = 0; i < units; i++)
            e[i] = RtlUpcaseUnicodeChar(src[i]);
    free(p->expr);
    p->expr = e;
    p->len = (USHORT)units;
    return STATUS_SUCCESS;
}

bool fltsim__fs_pattern_match(const struct fltsim__fs_pattern *p, const WCHAR *name, size_t len)
{
    UNICODE_STRING expr, n;
    expr.Buffer = p->expr;
    expr.Length = expr.MaximumLength = (USHORT)(p->len * sizeof(WCHAR));
    n.Buffer = (PWCH)name;
    n.Length = n.MaximumLength = (USHORT)(len * sizeof(WCHAR));
    return FsRtlIsNameInExpression(&expr, &n, TRUE, NULL) != FALSE;
}

void fltsim__fs_pattern_free(struct fltsim__fs_pattern *p)
{
    free(p->expr);
    p->expr = NULL;
    p->len = 0;
}

#define FILL_COMMON(e, f, name_bytes)                                                              \
    do {                                                                                           \
        (e).CreationTime.QuadPart = (f)->creation_time;                                            \
        (e).LastAccessTime.QuadPart = (f)->last_access_time;                                       \
        (e).LastWriteTime.QuadPart = (f)->last_write_time;                                         \
        (e).ChangeTime.QuadPart = (f)->change_time;                                                \
        (e).EndOfFile.QuadPart = (LONGLONG)(f)->eof;                                               \
        (e).AllocationSize.QuadPart = (LONGLONG)(f)->allocation;                                   \
        (e).FileAttributes = (f)->attributes;                                                      \
        (e).FileNameLength = (name_bytes);                                                         \
    } while (0)

/* Writes one entry's fixed part (NextEntryOffset 0, FileIndex 0, EaSize the
 * reparse tag)
 * describing f, its short name included, under a name of name_bytes bytes. */
static void write_fixed(UCHAR *dst, FILE_INFORMATION_CLASS cls, const struct fltsim__fs_facts *f,
                        ULONG name_bytes)
{
    union {
        FILE_DIRECTORY_INFORMATION dir;
        FILE_FULL_DIR_INFORMATION full;
        FILE_BOTH_DIR_INFORMATION both;
        FILE_NAMES_INFORMATION names;
        FILE_ID_BOTH_DIR_INFORMATION id_both;
        FILE_ID_FULL_DIR_INFORMATION id_full;
    } e;
    memset(&e, 0, sizeof(e));
    switch (cls) {
    case FileDirectoryInformation:
        FILL_COMMON(e.dir, f, name_bytes);
        break;
    case FileFullDirectoryInformation:
        FILL_COMMON(e.full, f, name_bytes);
        e.full.EaSize = f->reparse_tag; /* NTFS: a reparse point's tag (no EAs kept) */
        break;
    case FileBothDirectoryInformation:
        FILL_COMMON(e.both, f, name_bytes);
        e.both.EaSize = f->reparse_tag; /* NTFS: a reparse point's tag (no EAs kept) */
        e.both.ShortNameLength = (CCHAR)(f->short_len * sizeof(WCHAR));
        memcpy(e.both.ShortName, f->short_name, f->short_len * sizeof(WCHAR));
        break;
    case FileIdBothDirectoryInformation:
        FILL_COMMON(e.id_both, f, name_bytes);
        e.id_both.EaSize = f->reparse_tag; /* NTFS: a reparse point's tag (no EAs kept) */
        e.id_both.ShortNameLength = (CCHAR)(f->short_len * sizeof(WCHAR));
        memcpy(e.id_both.ShortName, f->short_name, f->short_len * sizeof(WCHAR));
        e.id_both.FileId.QuadPart = (LONGLONG)f->file_id;
        break;
    case FileIdFullDirectoryInformation:
        FILL_COMMON(e.id_full, f, name_bytes);
        e.id_full.EaSize = f->reparse_tag; /* NTFS: a reparse point's tag (no EAs kept) */
        e.id_full.FileId.QuadPart = (LONGLONG)f->file_id;
        break;
    case FileNamesInformation:
    default:
        e.names.FileNameLength = name_bytes;
        break;
    }
    memcpy(dst, &e, fltsim__directory_entry_fixed_size(cls));
}

NTSTATUS fltsim__fs_scan_fill(FILE_INFORMATION_CLASS cls, UCHAR *buf, ULONG length, bool single,
                              const struct fltsim__fs_pattern *pattern,
                              const struct fltsim__fs_scan_ops *ops, void *ctx, bool *any,
                              ULONG *used)
{
    ULONG fixed = fltsim__directory_entry_fixed_size(cls);
    ULONG end = 0;  /* end of the last entry written */
    ULONG prev = 0; /* offset of the last entry written */
    bool wrote = false;
    NTSTATUS status = STATUS_SUCCESS;
    const WCHAR *name;
    USHORT name_len;
    struct fltsim__fs_facts f;

    while (ops->next_cb(ctx, &name, &name_len)) {
        bool match = fltsim__fs_pattern_match(pattern, name, name_len);
        if ((!match && !ops->short_names) || !ops->facts_cb(ctx, &f) ||
            (!match &&
             (f.short_len == 0 || !fltsim__fs_pattern_match(pattern, f.short_name, f.short_len)))) {
            ops->consume_cb(ctx);
            continue;
        }
        ULONG name_bytes = (ULONG)name_len * sizeof(WCHAR);
        ULONG at = wrote ? (ULONG)ALIGN_UP_BY(end, 8) : 0;
        if (!wrote && fixed + name_bytes > length) {
            /* Not even the first entry fits: its fixed part and what fits of
             * the name, with the full FileNameLength; the entry is consumed. */
            ULONG copy = (length - fixed) & ~1u;
            write_fixed(buf, cls, &f, name_bytes);
            memcpy(buf + fixed, name, copy);
            ops->consume_cb(ctx);
            end = fixed + copy;
            status = STATUS_BUFFER_OVERFLOW;
            wrote = true;
            break;
        }
        if (at > length || fixed + name_bytes > length - at)
            break;
        write_fixed(buf + at, cls, &f, name_bytes);
        memcpy(buf + at + fixed, name, name_bytes);
        if (wrote) {
            ULONG next = at - prev;
            memcpy(buf + prev, &next, sizeof(next)); /* NextEntryOffset is first in every class */
        }
        prev = at;
        end = at + fixed + name_bytes;
        wrote = true;
        ops->consume_cb(ctx);
        if (single)
            break;
    }
    *any = wrote;
    *used = wrote ? end : 0;
    return status;
}

NTSTATUS fltsim__fs_dir_query_decode(PFLT_CALLBACK_DATA data, struct fltsim__fs_dir_query *q)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    q->cls = iopb->Parameters.DirectoryControl.QueryDirectory.FileInformationClass;
    q->length = iopb->Parameters.DirectoryControl.QueryDirectory.Length;
    q->buf =
        fltsim__fs_transfer_buffer(iopb->Parameters.DirectoryControl.QueryDirectory.MdlAddress,
                                   iopb->Parameters.DirectoryControl.QueryDirectory.DirectoryBuffer,
                                   iopb->Parameters.DirectoryControl.QueryDirectory.Length);
    q->pattern = iopb->Parameters.DirectoryControl.QueryDirectory.FileName;
    q->restart = (iopb->OperationFlags & SL_RESTART_SCAN) != 0;
    q->single = (iopb->OperationFlags & SL_RETURN_SINGLE_ENTRY) != 0;

    ULONG fixed = fltsim__directory_entry_fixed_size(q->cls);
    if (fixed == 0)
        return STATUS_INVALID_INFO_CLASS;
    if (q->length < fixed)
        return STATUS_INFO_LENGTH_MISMATCH;
    if (q->buf == NULL)
        return iopb->Parameters.DirectoryControl.QueryDirectory.MdlAddress != NULL
                   ? STATUS_INSUFFICIENT_RESOURCES /* the MDL could not be mapped */
                   : STATUS_INVALID_USER_BUFFER;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_dir_query_begin(const struct fltsim__fs_dir_query *q,
                                    struct fltsim__fs_pattern *pattern, BOOLEAN *active,
                                    BOOLEAN *first, bool *starts)
{
    *starts = false;
    if (!*active || (q->restart && q->pattern != NULL)) {
        NTSTATUS status = fltsim__fs_pattern_take(pattern, q->pattern);
        if (!NT_SUCCESS(status))
            return status;
    }
    if (!*active || q->restart) {
        *active = TRUE;
        *first = TRUE;
        *starts = true;
    }
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__fs_dir_query_fill(const struct fltsim__fs_dir_query *q,
                                   const struct fltsim__fs_pattern *pattern,
                                   const struct fltsim__fs_scan_ops *ops, void *ctx, BOOLEAN *first,
                                   ULONG_PTR *information)
{
    ULONG used = 0;
    bool any = false;
    NTSTATUS status =
        fltsim__fs_scan_fill(q->cls, q->buf, q->length, q->single, pattern, ops, ctx, &any, &used);
    if (!any)
        status = *first ? STATUS_NO_SUCH_FILE : STATUS_NO_MORE_FILES;
    *first = FALSE;
    *information = any ? used : 0;
    return status;
}

/* ------------------------------------------------------------------------- */
/* The directory control handler                                             */
/* ------------------------------------------------------------------------- */

static NTSTATUS query_directory(struct fltsim__fs *fs, PFLT_CALLBACK_DATA data,
                                ULONG_PTR *information)
{
    struct fltsim__fs_open *o = fltsim__fs_open_of(fs, data->Iopb->TargetFileObject);
    struct fltsim__fs_dir_query q;
    bool starts;
    NTSTATUS status;

    if (o == NULL || o->file->kind != FLTSIM__FS_DIRECTORY)
        return STATUS_INVALID_PARAMETER;
    if (o->cleaned_up)
        return STATUS_FILE_CLOSED;
    status = fltsim__fs_dir_query_decode(data, &q);
    if (!NT_SUCCESS(status))
        return status;
    if (fs->ops->dir->scan_begin_cb != NULL) {
        status = fs->ops->dir->scan_begin_cb(fs, o);
        if (!NT_SUCCESS(status))
            return status;
    }

    status = fltsim__fs_dir_query_begin(&q, &o->pattern, &o->scan_active, &o->scan_first, &starts);
    if (NT_SUCCESS(status)) {
        if (starts)
            fs->ops->dir->scan_restart_cb(fs, o);
        status = fltsim__fs_dir_query_fill(&q, &o->pattern, &fs->ops->dir->scan, o, &o->scan_first,
                                           information);
    }
    if (fs->ops->dir->scan_end_cb != NULL)
        fs->ops->dir->scan_end_cb(fs, o);
    return status;
}

NTSTATUS fltsim__fs_directory_control(struct fltsim__fs *fs, PFLT_CALLBACK_DATA data,
                                      ULONG_PTR *information)
{
    *information = 0;
    switch (data->Iopb->MinorFunction) {
    case IRP_MN_QUERY_DIRECTORY:
        return query_directory(fs, data, information);
    case IRP_MN_NOTIFY_CHANGE_DIRECTORY:
        /* Change notification is not modeled yet: it needs requests that stay
         * pending until a change, which neither file system can hold today.
         * Refused honestly rather than completed as if nothing changed. */
        return STATUS_NOT_IMPLEMENTED;
    default:
        return STATUS_INVALID_DEVICE_REQUEST;
    }
}
