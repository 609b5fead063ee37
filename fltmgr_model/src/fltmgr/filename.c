/*
 * File names as FltMgr builds them (SPEC 7.3): the opened, normalized and
 * short formats of FltGetFileNameInformation(Unsafe), asked of the file
 * system below the caller's instance, or in pre-create built from the file
 * object (the parent directory opened below the instance for a normalized
 * name); the option checks and the refusals where a query is unsafe (V29);
 * FltParseFileName(Information). The blocks and the cache are
 * filename_cache.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filename_internal.h"

#define KNOWN_FLAGS                                                                                \
    (FLT_FILE_NAME_REQUEST_FROM_CURRENT_PROVIDER | FLT_FILE_NAME_DO_NOT_CACHE |                    \
     FLT_FILE_NAME_ALLOW_QUERY_ON_REPARSE)

/* ------------------------------------------------------------------------- */
/* Asking the file system                                                    */
/* ------------------------------------------------------------------------- */

/* IRP_MJ_QUERY_INFORMATION of a FILE_NAME_INFORMATION-shaped class for fo,
 * sent below inst. *name (malloc'd by the caller's free) gets the name. */
NTSTATUS fltsim__name_query_fs(PFLT_INSTANCE inst, PFILE_OBJECT fo, FILE_INFORMATION_CLASS cls,
                               WCHAR **name, size_t *units)
{
    *name = NULL;
    *units = 0;
    ULONG size = 512;
    for (;;) {
        FILE_NAME_INFORMATION *info = malloc(size);
        if (info == NULL)
            return STATUS_INSUFFICIENT_RESOURCES;
        struct fltsim_request req;
        memset(&req, 0, sizeof(req));
        req.kind = FLTSIM_OP_IRP;
        req.major = IRP_MJ_QUERY_INFORMATION;
        req.irp_flags = IRP_SYNCHRONOUS_API;
        req.callback_flags = FLTFL_CALLBACK_DATA_GENERATED_IO;
        req.file_object = fo;
        req.requestor_mode = KernelMode;
        req.parameters.QueryFileInformation.Length = size;
        req.parameters.QueryFileInformation.FileInformationClass = cls;
        req.parameters.QueryFileInformation.InfoBuffer = info;
        NTSTATUS status = fltsim__request_dispatch_below(inst->volume, &req, inst);
        if (req.op_id != 0)
            status = req.io_status.Status;
        if (status == STATUS_BUFFER_OVERFLOW && size < 0x20000) {
            free(info);
            size *= 4;
            continue;
        }
        if (!NT_SUCCESS(status)) {
            free(info);
            return status;
        }
        /* Only what the file system says it wrote is read. */
        ULONG_PTR wrote = req.op_id != 0 ? req.io_status.Information : 0;
        const ULONG fixed = (ULONG)offsetof(FILE_NAME_INFORMATION, FileName);
        ULONG bytes = wrote >= fixed && wrote <= size ? info->FileNameLength : MAXULONG;
        if (bytes > wrote - fixed || bytes % sizeof(WCHAR)) {
            free(info);
            return STATUS_FILE_INVALID;
        }
        *units = bytes / sizeof(WCHAR);
        memmove(info, info->FileName, bytes);
        *name = (WCHAR *)info;
        return STATUS_SUCCESS;
    }
}

/* One IRP with no buffer for fo, sent below inst (cleanup, close). */
static void send_simple(PFLT_INSTANCE inst, PFILE_OBJECT fo, UCHAR major, ULONG irp_flags)
{
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = major;
    req.irp_flags = irp_flags | IRP_SYNCHRONOUS_API;
    req.callback_flags = FLTFL_CALLBACK_DATA_GENERATED_IO;
    req.file_object = fo;
    req.requestor_mode = KernelMode;
    (void)fltsim__request_dispatch_below(inst->volume, &req, inst);
}

/* The name the file system gives the directory at dir (a path on the volume,
 * "\" for the root), opened below inst for the time of the query, as FltMgr
 * opens a parent to normalize a name in pre-create. */
NTSTATUS fltsim__name_directory(PFLT_INSTANCE inst, const WCHAR *dir, size_t dir_units,
                                WCHAR **name, size_t *units)
{
    *name = NULL;
    *units = 0;
    WCHAR *path = malloc((dir_units + 1) * sizeof(WCHAR));
    if (path == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(path, dir, dir_units * sizeof(WCHAR));
    path[dir_units] = 0;
    FILE_OBJECT fo;
    memset(&fo, 0, sizeof(fo));
    fo.Type = 5; /* IO_TYPE_FILE */
    fo.Size = (CSHORT)sizeof(fo);
    fo.FileName.Buffer = path;
    fo.FileName.Length = (USHORT)(dir_units * sizeof(WCHAR));
    fo.FileName.MaximumLength = (USHORT)((dir_units + 1) * sizeof(WCHAR));
    fo.Flags = FO_SYNCHRONOUS_IO;
    fltsim_volume_file_object_opened(inst->volume, &fo);

    ACCESS_STATE access;
    IO_SECURITY_CONTEXT security;
    memset(&access, 0, sizeof(access));
    memset(&security, 0, sizeof(security));
    access.OriginalDesiredAccess = FILE_READ_ATTRIBUTES | SYNCHRONIZE;
    access.RemainingDesiredAccess = access.OriginalDesiredAccess;
    security.AccessState = &access;
    security.DesiredAccess = access.OriginalDesiredAccess;
    security.FullCreateOptions = FILE_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT;

    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = IRP_MJ_CREATE;
    req.irp_flags = IRP_CREATE_OPERATION | IRP_SYNCHRONOUS_API;
    req.callback_flags = FLTFL_CALLBACK_DATA_GENERATED_IO;
    req.file_object = &fo;
    req.requestor_mode = KernelMode;
    req.parameters.Create.SecurityContext = &security;
    req.parameters.Create.Options =
        ((ULONG)FILE_OPEN << 24) | FILE_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT;
    req.parameters.Create.ShareAccess = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
    NTSTATUS status = fltsim__request_dispatch_below(inst->volume, &req, inst);
    if (req.op_id != 0)
        status = req.io_status.Status;
    if (NT_SUCCESS(status) && status != STATUS_REPARSE) {
        fo.Flags |= FO_FILE_OPEN;
        status = fltsim__name_query_fs(inst, &fo, FileNameInformation, name, units);
        send_simple(inst, &fo, IRP_MJ_CLEANUP, 0);
        send_simple(inst, &fo, IRP_MJ_CLOSE, IRP_CLOSE_OPERATION);
    } else if (status == STATUS_OBJECT_NAME_NOT_FOUND) {
        status = STATUS_OBJECT_PATH_NOT_FOUND; /* a directory on the way is missing */
    }
    fltsim_volume_file_object_closed(inst->volume, &fo);
    free(path);
    return status;
}

/* A normalized name in pre-create: the file system's name of the parent
 * directory, then the last component as the create names it (it need not
 * exist yet); with SL_OPEN_TARGET_DIRECTORY the parent's name alone. */
NTSTATUS fltsim__name_normalize_path(PFLT_INSTANCE inst, const WCHAR *path, size_t units,
                                     bool target_dir, WCHAR **out, size_t *out_units)
{
    size_t n = units;
    while (n > 1 && path[n - 1] == L'\\')
        n--;
    size_t last = n;
    while (last > 0 && path[last - 1] != L'\\')
        last--;
    if (last == 0 || n <= 1) /* the root itself, or a name without a separator */
        return fltsim__name_directory(inst, path, n == 0 ? 1 : n, out, out_units);
    size_t parent_units = last > 1 ? last - 1 : 1;
    WCHAR *parent;
    size_t got;
    NTSTATUS status = fltsim__name_directory(inst, path, parent_units, &parent, &got);
    if (!NT_SUCCESS(status) || target_dir) {
        *out = NT_SUCCESS(status) ? parent : NULL;
        *out_units = NT_SUCCESS(status) ? got : 0;
        return status;
    }
    bool root = got == 1 && parent[0] == L'\\';
    WCHAR *full = malloc((got + 1 + (n - last)) * sizeof(WCHAR));
    if (full == NULL) {
        free(parent);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    memcpy(full, parent, got * sizeof(WCHAR));
    size_t at = got;
    if (!root)
        full[at++] = L'\\';
    memcpy(full + at, path + last, (n - last) * sizeof(WCHAR));
    free(parent);
    *out = full;
    *out_units = at + (n - last);
    return STATUS_SUCCESS;
}

/* The file system does not know the class (it answers as for a class it does
 * not implement). */
static bool class_unknown(NTSTATUS status)
{
    return status == STATUS_INVALID_PARAMETER || status == STATUS_INVALID_INFO_CLASS ||
           status == STATUS_NOT_IMPLEMENTED || status == STATUS_INVALID_DEVICE_REQUEST;
}

/* ------------------------------------------------------------------------- */
/* FltGetFileNameInformation(Unsafe)                                         */
/* ------------------------------------------------------------------------- */

/* Where a name is asked for. */
struct query {
    const char *api;
    PFLT_INSTANCE inst;
    PFILE_OBJECT fo;
    struct fltsim_op *op; /* NULL for the Unsafe routine */
    bool in_post;
    FLT_FILE_NAME_OPTIONS options;
    const char *via; /* the name provider that answered, or NULL */
};

/* Why asking the file system now is unsafe (SPEC 7.3), or NULL. */
static const char *unsafe_reason(const struct query *q)
{
    if (IoGetTopLevelIrp() != NULL)
        return "the thread's top-level IRP is set";
    if (KeAreAllApcsDisabled())
        return "all APCs are disabled";
    if (q->fo != NULL && (q->fo->Flags & FO_CLEANUP_COMPLETE))
        return "after the file object's cleanup (FO_CLEANUP_COMPLETE)";
    if (q->op == NULL)
        return NULL;
    PFLT_IO_PARAMETER_BLOCK iopb = q->op->data.Iopb;
    if ((q->op->data.Flags & FLTFL_CALLBACK_DATA_IRP_OPERATION) && (iopb->IrpFlags & IRP_PAGING_IO))
        return "in paging I/O";
    switch (iopb->MajorFunction) {
    case IRP_MJ_CLOSE:
        return "in IRP_MJ_CLOSE";
    case IRP_MJ_CLEANUP:
        return q->in_post ? "in post-cleanup" : NULL;
    case IRP_MJ_ACQUIRE_FOR_CC_FLUSH:
    case IRP_MJ_RELEASE_FOR_CC_FLUSH:
    case IRP_MJ_ACQUIRE_FOR_MOD_WRITE:
    case IRP_MJ_RELEASE_FOR_MOD_WRITE:
    case IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION:
        return "in an FS-filter callback the file system holds locks for";
    case IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION:
        return q->in_post ? "in post-ACQUIRE_FOR_SECTION_SYNCHRONIZATION" : NULL;
    case IRP_MJ_CREATE:
        if (!q->in_post && FltGetFileNameFormat(q->options) == FLT_FILE_NAME_SHORT)
            return "a short name in pre-create";
        return NULL;
    case IRP_MJ_NETWORK_QUERY_OPEN:
        if (FltGetFileNameFormat(q->options) == FLT_FILE_NAME_SHORT)
            return "a short name in a network query open (its file object is not open)";
        return NULL;
    default:
        return NULL;
    }
}

/* The part of the create's path after the volume, as the file object names
 * it in pre-create: the related file object's name, a separator, FileName. */
static WCHAR *pre_create_path(PFILE_OBJECT fo, size_t *units)
{
    const UNICODE_STRING *rel =
        fo->RelatedFileObject != NULL ? &fo->RelatedFileObject->FileName : NULL;
    size_t r = rel != NULL ? rel->Length / sizeof(WCHAR) : 0;
    size_t n = fo->FileName.Length / sizeof(WCHAR);
    bool sep = r > 0 && n > 0 && rel->Buffer[r - 1] != L'\\' && fo->FileName.Buffer[0] != L'\\';
    WCHAR *p = malloc((r + n + 2) * sizeof(WCHAR));
    if (p == NULL)
        return NULL;
    size_t at = 0;
    if (r > 0)
        memcpy(p, rel->Buffer, r * sizeof(WCHAR));
    at = r;
    if (sep)
        p[at++] = L'\\';
    if (n > 0)
        memcpy(p + at, fo->FileName.Buffer, n * sizeof(WCHAR));
    at += n;
    if (at == 0)
        p[at++] = L'\\'; /* the volume's root */
    *units = at;
    return p;
}

/* SL_OPEN_TARGET_DIRECTORY: the parent of path (its root stays "\"). */
static void to_parent(const WCHAR *path, size_t *units)
{
    size_t n = *units;
    while (n > 1 && path[n - 1] == L'\\')
        n--;
    while (n > 0 && path[n - 1] != L'\\')
        n--;
    if (n > 1)
        n--; /* drop the separator, not the root */
    *units = n == 0 ? 1 : n;
}

/* The name from the name provider below the caller (name_provider.c), cached
 * when cache allows and the provider lets it. */
static NTSTATUS ask_provider(struct query *q, PFLT_INSTANCE provider, bool cache, const char *file,
                             int line, PFLT_FILE_NAME_INFORMATION *out)
{
    FLT_FILE_NAME_OPTIONS format = FltGetFileNameFormat(q->options);
    PFLT_VOLUME volume = q->inst->volume;
    bool case_sensitive = (q->fo->Flags & FO_OPENED_CASE_SENSITIVE) != 0;
    if (q->op != NULL && q->op->data.Iopb->MajorFunction == IRP_MJ_CREATE &&
        (q->op->data.Iopb->OperationFlags & SL_CASE_SENSITIVE))
        case_sensitive = true;
    struct fltsim__name_request rq = {
        q->api, q->fo, q->op != NULL ? &q->op->data : NULL, q->options, case_sensitive, false};
    q->via = provider->filter->name8;
    WCHAR *name = NULL;
    size_t units = 0;
    bool provider_cache = false;
    NTSTATUS status = fltsim__name_provider_ask(provider, &rq, &name, &units, &provider_cache);
    fltsim__name_provider_done(provider);
    if (!NT_SUCCESS(status))
        return fltsim__fail(status, "%s: the name provider %s failed the query (0x%08x)", q->api,
                            q->via, (unsigned)status);
    /* The provider wrote the volume's device name first (checked), except
     * for a short name. */
    size_t d = format == FLT_FILE_NAME_SHORT ? 0 : volume->device_name.Length / sizeof(WCHAR);
    status = fltsim__name_make(volume->sys, format, d > 0 ? &volume->device_name : NULL, name + d,
                               units - d, file, line, out);
    free(name);
    if (NT_SUCCESS(status) && cache && provider_cache)
        fltsim__name_cache_insert(q->inst, q->fo, *out);
    return status;
}

static NTSTATUS ask_name(struct query *q, const char *file, int line,
                         PFLT_FILE_NAME_INFORMATION *out, bool *from_cache)
{
    if (out == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: FileNameInformation is NULL", q->api);
    *out = NULL;
    FLT_FILE_NAME_OPTIONS format = FltGetFileNameFormat(q->options);
    FLT_FILE_NAME_OPTIONS method = FltGetFileNameQueryMethod(q->options);
    ULONG stray = q->options &
                  ~(FLT_VALID_FILE_NAME_FORMATS | FLT_VALID_FILE_NAME_QUERY_METHODS | KNOWN_FLAGS);
    if (format < FLT_FILE_NAME_NORMALIZED || format > FLT_FILE_NAME_SHORT ||
        method < FLT_FILE_NAME_QUERY_DEFAULT ||
        method > FLT_FILE_NAME_QUERY_ALWAYS_ALLOW_CACHE_LOOKUP || (method & 0xff) != 0 ||
        stray != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: NameOptions 0x%08x must hold exactly one format "
                            "(FLT_FILE_NAME_NORMALIZED, _OPENED, _SHORT) and one query method "
                            "(FLT_FILE_NAME_QUERY_DEFAULT, _CACHE_ONLY, _FILESYSTEM_ONLY, "
                            "_ALWAYS_ALLOW_CACHE_LOOKUP), and no unknown flag",
                            q->api, (unsigned)q->options);
    PFLT_VOLUME volume = q->inst->volume;
    fltsim_system *sys = volume->sys;
    /* A name provider's own queries from its GenerateFileName are its
     * instance's: they go to what is below it. */
    PFLT_INSTANCE generating = fltsim__name_provider_generating(q->fo);
    if (generating != NULL && (q->options & FLT_FILE_NAME_REQUEST_FROM_CURRENT_PROVIDER)) {
        /* On Windows the provider is asked again, and again, until the
         * kernel stack overflows (a bugcheck). fltsim stops at the first
         * repetition and fails the query as FltMgr fails a name request it
         * cannot serve. */
        fltsim__report(sys, generating->filter, generating, q->op, "V29", "7.3",
                       "name provider %s: %s with FLT_FILE_NAME_REQUEST_FROM_CURRENT_PROVIDER "
                       "from its own GenerateFileNameCallback for the same file object asks "
                       "itself again (infinite recursion on Windows); returned "
                       "STATUS_FLT_INVALID_NAME_REQUEST",
                       generating->filter->name8, q->api);
        return fltsim__fail(STATUS_FLT_INVALID_NAME_REQUEST,
                            "%s: a name provider asks itself for the name it is generating",
                            q->api);
    }
    if (generating != NULL)
        q->inst = generating;
    if (fltsim__tls()->irql > APC_LEVEL) {
        fltsim__report(sys, NULL, q->inst, q->op, "V29", "7.3",
                       "%s at IRQL %u (above APC_LEVEL): a name query is unsafe there; returned "
                       "STATUS_FLT_INVALID_NAME_REQUEST",
                       q->api, (unsigned)fltsim__tls()->irql);
        return fltsim__fail(STATUS_FLT_INVALID_NAME_REQUEST, "%s: above APC_LEVEL", q->api);
    }
    UCHAR major = q->op != NULL ? q->op->data.Iopb->MajorFunction : 0;
    /* A network query open's stack-based file object is never opened: its
     * name is the one it is asked for, as in pre-create (simrep checks it
     * against its mapping), in its pre and its post alike. */
    bool pre_create = q->op != NULL && ((major == IRP_MJ_CREATE && !q->in_post) ||
                                        major == IRP_MJ_NETWORK_QUERY_OPEN);
    const char *why = unsafe_reason(q);
    if (why != NULL && method != FLT_FILE_NAME_QUERY_CACHE_ONLY &&
        method != FLT_FILE_NAME_QUERY_ALWAYS_ALLOW_CACHE_LOOKUP) {
        fltsim__report(sys, NULL, q->inst, q->op, "V29", "7.3",
                       "%s %s: the file system cannot be asked for the name there; returned "
                       "STATUS_FLT_INVALID_NAME_REQUEST",
                       q->api, why);
        return fltsim__fail(STATUS_FLT_INVALID_NAME_REQUEST, "%s: %s", q->api, why);
    }
    /* A provider asking itself (REQUEST_FROM_CURRENT_PROVIDER) goes around
     * its cache, which holds the names from below it. */
    bool own_names = (q->options & FLT_FILE_NAME_REQUEST_FROM_CURRENT_PROVIDER) &&
                     q->inst->filter->reg.GenerateFileNameCallback != NULL;
    /* A file object in pre-create is not open yet: nothing of it is cached. */
    if (method != FLT_FILE_NAME_QUERY_FILESYSTEM_ONLY && !pre_create && !own_names) {
        *out = fltsim__name_cache_lookup(q->inst, q->fo, format, file, line);
        if (*out != NULL) {
            *from_cache = true;
            return STATUS_SUCCESS;
        }
    }
    if (method == FLT_FILE_NAME_QUERY_CACHE_ONLY)
        return fltsim__fail(STATUS_FLT_NAME_CACHE_MISS, "%s: the name is not in the cache", q->api);
    if (why != NULL)
        return fltsim__fail(STATUS_FLT_NAME_CACHE_MISS,
                            "%s: not cached, and the file system cannot be asked (%s)", q->api,
                            why);
    if (q->op != NULL && q->op->data.Iopb->MajorFunction == IRP_MJ_CREATE && q->in_post) {
        NTSTATUS created = q->op->data.IoStatus.Status;
        if (!NT_SUCCESS(created) || created == STATUS_REPARSE)
            return fltsim__fail(STATUS_FLT_INVALID_NAME_REQUEST,
                                "%s: in the post-create of a create that failed (0x%08x): no "
                                "file was opened",
                                q->api, (unsigned)created);
    }
    bool cache = !pre_create && method != FLT_FILE_NAME_QUERY_FILESYSTEM_ONLY &&
                 !(q->options & FLT_FILE_NAME_DO_NOT_CACHE) && !own_names;
    PFLT_INSTANCE provider = fltsim__name_provider_below(
        q->inst, (q->options & FLT_FILE_NAME_REQUEST_FROM_CURRENT_PROVIDER) != 0);
    if (provider != NULL)
        return ask_provider(q, provider, cache, file, line, out);

    WCHAR *path = NULL;
    size_t units = 0;
    NTSTATUS status;
    if (pre_create) {
        path = pre_create_path(q->fo, &units);
        if (path == NULL)
            return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", q->api);
        bool target_dir = (q->op->data.Iopb->OperationFlags & SL_OPEN_TARGET_DIRECTORY) != 0;
        if (format == FLT_FILE_NAME_NORMALIZED) {
            WCHAR *normalized;
            status =
                fltsim__name_normalize_path(q->inst, path, units, target_dir, &normalized, &units);
            free(path);
            if (!NT_SUCCESS(status))
                return fltsim__fail(status,
                                    "%s: in pre-create, the file system could not open the "
                                    "parent directory (0x%08x)",
                                    q->api, (unsigned)status);
            path = normalized;
        } else if (target_dir) {
            to_parent(path, &units);
        }
    } else if (format == FLT_FILE_NAME_SHORT) {
        status = fltsim__name_query_fs(q->inst, q->fo, FileAlternateNameInformation, &path, &units);
        if (class_unknown(status))
            status = STATUS_OBJECT_NAME_NOT_FOUND; /* no short name to give */
        if (!NT_SUCCESS(status))
            return fltsim__fail(status, "%s: the file system has no short name (0x%08x)", q->api,
                                (unsigned)status);
        status = fltsim__name_make(sys, format, NULL, path, units, file, line, out);
        free(path);
        if (NT_SUCCESS(status) && cache)
            fltsim__name_cache_insert(q->inst, q->fo, *out);
        return status;
    } else {
        status = STATUS_INVALID_PARAMETER;
        if (format == FLT_FILE_NAME_NORMALIZED)
            status =
                fltsim__name_query_fs(q->inst, q->fo, FileNormalizedNameInformation, &path, &units);
        /* The file systems name files by their long names: their
         * FileNameInformation is the normalized name when they do not
         * answer FileNormalizedNameInformation. */
        if (class_unknown(status))
            status = fltsim__name_query_fs(q->inst, q->fo, FileNameInformation, &path, &units);
        if (!NT_SUCCESS(status))
            return fltsim__fail(status, "%s: the file system's name query failed (0x%08x)", q->api,
                                (unsigned)status);
    }
    status = fltsim__name_make(sys, format, &volume->device_name, path, units, file, line, out);
    free(path);
    if (NT_SUCCESS(status) && cache)
        fltsim__name_cache_insert(q->inst, q->fo, *out);
    return status;
}

static const char *format_name(FLT_FILE_NAME_OPTIONS format)
{
    switch (format) {
    case FLT_FILE_NAME_NORMALIZED:
        return "normalized";
    case FLT_FILE_NAME_OPENED:
        return "opened";
    case FLT_FILE_NAME_SHORT:
        return "short";
    default:
        return "unknown-format";
    }
}

static const char *method_name(FLT_FILE_NAME_OPTIONS method)
{
    switch (method) {
    case FLT_FILE_NAME_QUERY_DEFAULT:
        return "default";
    case FLT_FILE_NAME_QUERY_CACHE_ONLY:
        return "cache_only";
    case FLT_FILE_NAME_QUERY_FILESYSTEM_ONLY:
        return "filesystem_only";
    case FLT_FILE_NAME_QUERY_ALWAYS_ALLOW_CACHE_LOOKUP:
        return "always_allow_cache_lookup";
    default:
        return "unknown-method";
    }
}

/* A name_query event for the trace (issue 17: a learner sees the names asked
 * for, what came back and from where). */
static void trace_query(const struct query *q, NTSTATUS status, PFLT_FILE_NAME_INFORMATION info,
                        bool from_cache)
{
    fltsim_system *sys = q->inst->volume->sys;
    if (!fltsim__tracing(sys))
        return;
    struct fltsim_event ev;
    char detail[160];
    char name[512];
    memset(&ev, 0, sizeof(ev));
    ev.type = FLTSIM_EV_NAME_QUERY;
    if (q->op != NULL) {
        ev.op_id = q->op->id;
        ev.kind = q->op->kind;
        ev.major = q->op->data.Iopb->MajorFunction;
        ev.minor = q->op->data.Iopb->MinorFunction;
    }
    ev.filter = q->inst->filter->name8;
    ev.instance = q->inst->name8;
    ev.altitude = q->inst->altitude.text;
    ev.volume = q->inst->volume->name8;
    ev.status = status;
    snprintf(detail, sizeof(detail), "%s %s%s%s", format_name(FltGetFileNameFormat(q->options)),
             method_name(FltGetFileNameQueryMethod(q->options)), q->via != NULL ? " via " : "",
             q->via != NULL ? q->via : "");
    ev.detail = detail;
    if (NT_SUCCESS(status) && info != NULL) {
        fltsim__ustr_to_utf8(&info->Name, name, sizeof(name));
        ev.name = name;
        ev.flags = from_cache ? 1 : 0;
    }
    fltsim__event_thread(&ev);
    fltsim__trace(sys, &ev);
}

static NTSTATUS get_name(struct query *q, const char *file, int line,
                         PFLT_FILE_NAME_INFORMATION *out)
{
    bool from_cache = false;
    NTSTATUS status = ask_name(q, file, line, out, &from_cache);
    if (out != NULL)
        trace_query(q, status, *out, from_cache);
    return status;
}

NTSTATUS fltsim_FltGetFileNameInformation_at(PFLT_CALLBACK_DATA CallbackData,
                                             FLT_FILE_NAME_OPTIONS NameOptions,
                                             PFLT_FILE_NAME_INFORMATION *Out, const char *file,
                                             int line)
{
    static const char api[] = "FltGetFileNameInformation";
    struct fltsim_op *op = CallbackData != NULL ? fltsim__op_from_data(CallbackData) : NULL;
    if (op == NULL) {
        if (Out != NULL)
            *Out = NULL;
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: CallbackData is not the callback data of an operation", api);
    }
    PFLT_IO_PARAMETER_BLOCK iopb = CallbackData->Iopb;
    struct fltsim_tls *t = fltsim__tls();
    struct query q = {api, iopb->TargetInstance,      iopb->TargetFileObject,
                      op,  t->op == op && t->in_post, NameOptions,
                      NULL};
    if (!fltsim__is_instance(q.inst) || q.fo == NULL) {
        if (Out != NULL)
            *Out = NULL;
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: the operation has no target instance or file object", api);
    }
    return get_name(&q, file, line, Out);
}

NTSTATUS fltsim_FltGetFileNameInformationUnsafe_at(PFILE_OBJECT FileObject, PFLT_INSTANCE Instance,
                                                   FLT_FILE_NAME_OPTIONS NameOptions,
                                                   PFLT_FILE_NAME_INFORMATION *Out,
                                                   const char *file, int line)
{
    static const char api[] = "FltGetFileNameInformationUnsafe";
    if (!fltsim__is_instance(Instance) || FileObject == NULL ||
        fltsim_volume_of_file_object(FileObject) != Instance->volume) {
        if (Out != NULL)
            *Out = NULL;
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: Instance must be an instance and FileObject a file object on "
                            "its volume",
                            api);
    }
    struct query q = {api, Instance, FileObject, NULL, false, NameOptions, NULL};
    return get_name(&q, file, line, Out);
}

NTSTATUS(FltGetFileNameInformation)
(PFLT_CALLBACK_DATA CallbackData, FLT_FILE_NAME_OPTIONS NameOptions,
 PFLT_FILE_NAME_INFORMATION *Out)
{
    return fltsim_FltGetFileNameInformation_at(CallbackData, NameOptions, Out, NULL, 0);
}

NTSTATUS(FltGetFileNameInformationUnsafe)
(PFILE_OBJECT FileObject, PFLT_INSTANCE Instance, FLT_FILE_NAME_OPTIONS NameOptions,
 PFLT_FILE_NAME_INFORMATION *Out)
{
    return fltsim_FltGetFileNameInformationUnsafe_at(FileObject, Instance, NameOptions, Out, NULL,
                                                     0);
}

/* ------------------------------------------------------------------------- */
/* Parsing                                                                   */
/* ------------------------------------------------------------------------- */

static UNICODE_STRING sub(const WCHAR *base, size_t from, size_t to)
{
    UNICODE_STRING s;
    s.Buffer = (PWCH)base + from;
    s.Length = (USHORT)((to - from) * sizeof(WCHAR));
    s.MaximumLength = s.Length;
    return s;
}

/* FinalComponent "name.ext:stream" -> Extension "ext", Stream ":stream". */
static void split_final(const UNICODE_STRING *final, UNICODE_STRING *ext, UNICODE_STRING *stream)
{
    size_t n = final->Length / sizeof(WCHAR);
    const WCHAR *w = final->Buffer;
    size_t colon = n;
    for (size_t i = 0; i < n; i++) {
        if (w[i] == L':') {
            colon = i;
            break;
        }
    }
    if (stream != NULL)
        *stream = colon < n ? sub(w, colon, n) : sub(w, n, n);
    if (ext != NULL) {
        *ext = sub(w, colon, colon);
        for (size_t i = colon; i-- > 0;) {
            if (w[i] == L'.') {
                *ext = sub(w, i + 1, colon);
                break;
            }
        }
    }
}

NTSTATUS FltParseFileName(PCUNICODE_STRING FileName, PUNICODE_STRING Extension,
                          PUNICODE_STRING Stream, PUNICODE_STRING FinalComponent)
{
    if (FileName == NULL || (FileName->Length > 0 && FileName->Buffer == NULL))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "FltParseFileName: FileName is NULL");
    size_t n = FileName->Length / sizeof(WCHAR);
    size_t start = n;
    while (start > 0 && FileName->Buffer[start - 1] != L'\\')
        start--;
    UNICODE_STRING final = sub(FileName->Buffer, start, n);
    if (FinalComponent != NULL)
        *FinalComponent = final;
    split_final(&final, Extension, Stream);
    return STATUS_SUCCESS;
}

NTSTATUS FltParseFileNameInformation(PFLT_FILE_NAME_INFORMATION Info)
{
    static const char api[] = "FltParseFileNameInformation";
    PFLT_FILE_NAME_INFORMATION i = Info;
    if (i == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: FileNameInformation is NULL", api);
    const WCHAR *w = i->Name.Buffer;
    size_t n = i->Name.Length / sizeof(WCHAR);
    if (i->Format == FLT_FILE_NAME_SHORT) {
        /* Only the final component: no volume, share or parent. */
        i->Volume = i->Share = i->ParentDir = sub(w, 0, 0);
        i->FinalComponent = sub(w, 0, n);
    } else {
        size_t vol = i->Volume.Length / sizeof(WCHAR);
        if (i->Volume.Buffer != w || vol > n)
            return fltsim__fail(STATUS_OBJECT_NAME_INVALID, "%s: Volume is not a prefix of Name",
                                api);
        /* A network redirector's name goes on with \server\share. */
        size_t share_end = vol;
        static const WCHAR redir[] = L"\\Device\\LanmanRedirector";
        static const WCHAR mup[] = L"\\Device\\Mup";
        UNICODE_STRING v = sub(w, 0, vol), r1, r2;
        RtlInitUnicodeString(&r1, redir);
        RtlInitUnicodeString(&r2, mup);
        if (fltsim__ustr_equal_ci(&v, &r1) || fltsim__ustr_equal_ci(&v, &r2)) {
            int seps = 0;
            while (share_end < n) {
                if (w[share_end] == L'\\' && ++seps == 3)
                    break;
                share_end++;
            }
        }
        i->Share = sub(w, vol, share_end);
        size_t last = n;
        while (last > share_end && w[last - 1] != L'\\')
            last--;
        /* ParentDir keeps its trailing separator (Learn's example). */
        i->ParentDir = sub(w, share_end, last);
        i->FinalComponent = sub(w, last, n);
    }
    split_final(&i->FinalComponent, &i->Extension, &i->Stream);
    i->NamesParsed |= FLTFL_FILE_NAME_PARSED_FINAL_COMPONENT | FLTFL_FILE_NAME_PARSED_EXTENSION |
                      FLTFL_FILE_NAME_PARSED_STREAM | FLTFL_FILE_NAME_PARSED_PARENT_DIR;
    return STATUS_SUCCESS;
}
