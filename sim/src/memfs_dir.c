/*
 * memfs: IRP_MJ_DIRECTORY_CONTROL. Query directory walks "." and ".." (below
 * the root) and then the children in their sorted order, filtering with
 * FsRtlIsNameInExpression against the pattern kept on the per-open state. The
 * position is kept as the upcased name of the last child passed, so a scan
 * survives entries being added, deleted or renamed between queries, as with
 * NTFS's index. Change notification is not modeled yet.
 */
#include <stdlib.h>
#include <string.h>

#include "memfs_internal.h"
#include "sim_internal.h"

static const WCHAR dot_name[] = {L'.'};
static const WCHAR dotdot_name[] = {L'.', L'.'};

#define FILL_COMMON(e, n, name_bytes)                                                              \
    do {                                                                                           \
        (e).CreationTime.QuadPart = (n)->creation_time;                                            \
        (e).LastAccessTime.QuadPart = (n)->last_access_time;                                       \
        (e).LastWriteTime.QuadPart = (n)->last_write_time;                                         \
        (e).ChangeTime.QuadPart = (n)->change_time;                                                \
        if ((n)->kind == MEMFS_FILE) {                                                             \
            (e).EndOfFile.QuadPart = (LONGLONG)(n)->eof;                                           \
            (e).AllocationSize.QuadPart = (LONGLONG)(n)->allocation;                               \
        }                                                                                          \
        (e).FileAttributes = fltsim__memfs_report_attributes(n);                                   \
        (e).FileNameLength = (name_bytes);                                                         \
    } while (0)

/* Writes one entry's fixed part (NextEntryOffset 0, FileIndex 0, EaSize 0,
 * no short name) describing n under the name of name_bytes bytes. */
static void write_fixed(UCHAR *dst, FILE_INFORMATION_CLASS cls, const struct memfs_node *n,
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
        FILL_COMMON(e.dir, n, name_bytes);
        break;
    case FileFullDirectoryInformation:
        FILL_COMMON(e.full, n, name_bytes);
        break;
    case FileBothDirectoryInformation:
        FILL_COMMON(e.both, n, name_bytes);
        break;
    case FileIdBothDirectoryInformation:
        FILL_COMMON(e.id_both, n, name_bytes);
        e.id_both.FileId.QuadPart = (LONGLONG)n->file_id;
        break;
    case FileIdFullDirectoryInformation:
        FILL_COMMON(e.id_full, n, name_bytes);
        e.id_full.FileId.QuadPart = (LONGLONG)n->file_id;
        break;
    case FileNamesInformation:
    default:
        e.names.FileNameLength = name_bytes;
        break;
    }
    memcpy(dst, &e, fltsim__directory_entry_fixed_size(cls));
}

/* One candidate of the scan. */
struct candidate {
    const struct memfs_node *node; /* whose information the entry shows */
    const WCHAR *name;
    USHORT name_len; /* units */
    UCHAR phase;     /* the ccb->scan_phase that produced it */
};

/* The next candidate at or after the ccb's position, or false at the end. */
static bool next_candidate(const struct memfs_ccb *ccb, const struct memfs_node *dir,
                           struct candidate *c)
{
    switch (ccb->scan_phase) {
    case 0:
        c->node = dir;
        c->name = dot_name;
        c->name_len = 1;
        c->phase = 0;
        return true;
    case 1:
        c->node = dir->parent;
        c->name = dotdot_name;
        c->name_len = 2;
        c->phase = 1;
        return true;
    default:
        break;
    }
    ULONG pos = 0;
    if (ccb->resume_valid) {
        const struct memfs_node *found =
            fltsim__memfs_lookup(dir, ccb->resume, ccb->resume_len, &pos);
        if (found != NULL)
            pos++;
    }
    if (pos >= dir->child_count)
        return false;
    const struct memfs_node *child = dir->children[pos];
    c->node = child;
    c->name = child->name;
    c->name_len = child->name_len;
    c->phase = 2;
    return true;
}

/* Moves the ccb's position past c. */
static void consume(struct memfs_ccb *ccb, const struct candidate *c)
{
    if (c->phase < 2) {
        ccb->scan_phase = (UCHAR)(c->phase + 1);
        return;
    }
    memcpy(ccb->resume, c->node->upname, c->name_len * sizeof(WCHAR));
    ccb->resume_len = c->name_len;
    ccb->resume_valid = TRUE;
}

static bool matches(const struct memfs_ccb *ccb, const struct candidate *c)
{
    UNICODE_STRING expr, name;
    expr.Buffer = ccb->pattern;
    expr.Length = expr.MaximumLength = (USHORT)(ccb->pattern_len * sizeof(WCHAR));
    name.Buffer = (PWCH)c->name;
    name.Length = name.MaximumLength = (USHORT)(c->name_len * sizeof(WCHAR));
    return FsRtlIsNameInExpression(&expr, &name, TRUE, NULL) != FALSE;
}

/* Takes a new pattern (upcased copy; NULL or empty means "*"). On failure
 * the old pattern stays. */
static NTSTATUS take_pattern(struct memfs_ccb *ccb, const UNICODE_STRING *given)
{
    size_t units = 1;
    const WCHAR *src = NULL;
    if (given != NULL && given->Length >= sizeof(WCHAR) && given->Buffer != NULL) {
        units = given->Length / sizeof(WCHAR);
        src = given->Buffer;
    }
    WCHAR *p = malloc(units * sizeof(WCHAR));
    if (p == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (src == NULL)
        p[0] = L'*';
    else
        for (size_t i = 0; i < units; i++)
            p[i] = RtlUpcaseUnicodeChar(src[i]);
    free(ccb->pattern);
    ccb->pattern = p;
    ccb->pattern_len = (USHORT)units;
    return STATUS_SUCCESS;
}

static NTSTATUS query_directory(struct fltsim_memfs *fs, PFLT_CALLBACK_DATA data,
                                ULONG_PTR *information)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    struct memfs_ccb *ccb = fltsim__memfs_ccb_of(fs, iopb->TargetFileObject);
    FILE_INFORMATION_CLASS cls =
        iopb->Parameters.DirectoryControl.QueryDirectory.FileInformationClass;
    ULONG length = iopb->Parameters.DirectoryControl.QueryDirectory.Length;
    UCHAR *buf = iopb->Parameters.DirectoryControl.QueryDirectory.DirectoryBuffer;
    PUNICODE_STRING pattern = iopb->Parameters.DirectoryControl.QueryDirectory.FileName;
    bool restart = (iopb->OperationFlags & SL_RESTART_SCAN) != 0;
    bool single = (iopb->OperationFlags & SL_RETURN_SINGLE_ENTRY) != 0;
    NTSTATUS status;

    if (ccb == NULL || ccb->node->kind != MEMFS_DIRECTORY)
        return STATUS_INVALID_PARAMETER;
    if (ccb->cleaned_up)
        return STATUS_FILE_CLOSED;
    struct memfs_node *dir = ccb->node;
    ULONG fixed = fltsim__directory_entry_fixed_size(cls);
    if (fixed == 0)
        return STATUS_INVALID_INFO_CLASS;
    if (length < fixed)
        return STATUS_INFO_LENGTH_MISMATCH;
    if (buf == NULL)
        return STATUS_INVALID_USER_BUFFER;

    /* The pattern is fixed by the first query of the handle, and replaced
     * only by a restart that gives one (SL_INDEX_SPECIFIED is ignored). */
    if (!ccb->scan_active || (restart && pattern != NULL)) {
        status = take_pattern(ccb, pattern);
        if (!NT_SUCCESS(status))
            return status;
    }
    if (!ccb->scan_active || restart) {
        ccb->scan_active = TRUE;
        ccb->scan_first = TRUE;
        ccb->scan_phase = dir->parent != NULL ? 0 : 2; /* the root has no "." or ".." */
        ccb->resume_valid = FALSE;
    }

    ULONG used = 0; /* end of the last entry written */
    ULONG prev = 0; /* offset of the last entry written */
    bool any = false;
    struct candidate c;
    status = STATUS_SUCCESS;
    while (next_candidate(ccb, dir, &c)) {
        if (!matches(ccb, &c)) {
            consume(ccb, &c);
            continue;
        }
        ULONG name_bytes = (ULONG)c.name_len * sizeof(WCHAR);
        ULONG at = any ? (ULONG)ALIGN_UP_BY(used, 8) : 0;
        if (!any && fixed + name_bytes > length) {
            /* Not even the first entry fits: its fixed part and what fits of
             * the name, with the full FileNameLength; the entry is consumed. */
            ULONG copy = (length - fixed) & ~1u;
            write_fixed(buf, cls, c.node, name_bytes);
            memcpy(buf + fixed, c.name, copy);
            consume(ccb, &c);
            used = fixed + copy;
            status = STATUS_BUFFER_OVERFLOW;
            any = true;
            break;
        }
        if (at > length || fixed + name_bytes > length - at)
            break;
        write_fixed(buf + at, cls, c.node, name_bytes);
        memcpy(buf + at + fixed, c.name, name_bytes);
        if (any) {
            ULONG next = at - prev;
            memcpy(buf + prev, &next, sizeof(next)); /* NextEntryOffset is first in every class */
        }
        prev = at;
        used = at + fixed + name_bytes;
        any = true;
        consume(ccb, &c);
        if (single)
            break;
    }

    if (!any)
        status = ccb->scan_first ? STATUS_NO_SUCH_FILE : STATUS_NO_MORE_FILES;
    ccb->scan_first = FALSE;
    *information = any ? used : 0;
    return status;
}

NTSTATUS fltsim__memfs_directory_control_irp(struct fltsim_memfs *fs, PFLT_CALLBACK_DATA data,
                                             ULONG_PTR *information)
{
    *information = 0;
    switch (data->Iopb->MinorFunction) {
    case IRP_MN_QUERY_DIRECTORY:
        return query_directory(fs, data, information);
    case IRP_MN_NOTIFY_CHANGE_DIRECTORY:
        /* Change notification is not modeled yet: it needs requests that stay
         * pending until a change, which memfs cannot hold today. Refused
         * honestly rather than completed as if nothing changed. */
        return STATUS_NOT_IMPLEMENTED;
    default:
        return STATUS_INVALID_DEVICE_REQUEST;
    }
}
