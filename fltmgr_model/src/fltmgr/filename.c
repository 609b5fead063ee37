/*
 * File names as FltMgr builds and hands them out (SPEC 7.3): the opened,
 * normalized and short formats of FltGetFileNameInformation(Unsafe), asked of
 * the file system below the caller's instance, or built from the file object
 * in pre-create; FltParseFileNameInformation; the reference-counted, shared
 * FLT_FILE_NAME_INFORMATION blocks (paged pool, tag 'FMfn'), with who holds
 * each reference, so that an over-release and a leak at unload are reported
 * (V22); and the refusals where a query is unsafe (V29).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

#define NAME_TAG 'nfMF'        /* shows as 'FMfn' */
#define NAME_MAGIC 0x454d414eu /* "NAME" */
#define MAX_NAME_BYTES 0xfff0u /* what a UNICODE_STRING can hold, even */
#define KNOWN_FLAGS                                                                                \
    (FLT_FILE_NAME_REQUEST_FROM_CURRENT_PROVIDER | FLT_FILE_NAME_DO_NOT_CACHE |                    \
     FLT_FILE_NAME_ALLOW_QUERY_ON_REPARSE)

/* One reference a driver holds, and where it got it. */
struct holder {
    struct fltsim_driver *driver;
    const char *file;
    int line;
};

/* A name block: the structure filters see comes first. */
struct name_block {
    FLT_FILE_NAME_INFORMATION info;
    ULONG magic;
    fltsim_system *sys;
    LIST_ENTRY link;        /* live list; names_lock */
    struct holder *holders; /* names_lock */
    ULONG count, capacity;  /* holders; count is the reference count */
    WCHAR text[];
};

static uv_once_t names_once = UV_ONCE_INIT;
static uv_mutex_t names_lock;
static LIST_ENTRY live; /* every block not freed; names_lock */

/* The blocks freed last, and their systems: an over-release from a thread
 * that runs no filter code is still reported to the right system. */
#define FREED_RING 64
static struct {
    const void *block;
    fltsim_system *sys;
} freed[FREED_RING]; /* names_lock */
static ULONG freed_next;

static void names_init(void)
{
    if (uv_mutex_init(&names_lock) != 0)
        abort();
    InitializeListHead(&live);
}

static struct fltsim_driver *current_driver(void)
{
    struct fltsim_tls *t = fltsim__tls();
    return t->filter != NULL ? t->filter->driver : t->loading;
}

/* names_lock held: unlists b and frees it. */
static void free_block_locked(struct name_block *b)
{
    RemoveEntryList(&b->link);
    freed[freed_next % FREED_RING].block = b;
    freed[freed_next % FREED_RING].sys = b->sys;
    freed_next++;
    free(b->holders);
    b->magic = 0;
    ExFreePoolWithTag(b, NAME_TAG);
}

/* names_lock held: the system a block freed lately belonged to, or NULL. */
static fltsim_system *freed_sys_locked(const void *p)
{
    for (ULONG i = 0; i < FREED_RING; i++)
        if (freed[i].block == p)
            return freed[i].sys;
    return NULL;
}

/* names_lock held: the live block at p, or NULL. */
static struct name_block *find_live_locked(const void *p)
{
    for (PLIST_ENTRY e = live.Flink; e != &live; e = e->Flink) {
        struct name_block *b = CONTAINING_RECORD(e, struct name_block, link);
        if ((const void *)b == p)
            return b;
    }
    return NULL;
}

/* names_lock held: one more reference for the calling driver. */
static bool hold_locked(struct name_block *b, const char *file, int line)
{
    if (b->count == b->capacity) {
        ULONG cap = b->capacity == 0 ? 4 : b->capacity * 2;
        struct holder *grown = realloc(b->holders, cap * sizeof(*grown));
        if (grown == NULL)
            return false;
        b->holders = grown;
        b->capacity = cap;
    }
    b->holders[b->count++] = (struct holder){current_driver(), file, line};
    return true;
}

/* A block holding volume + path (either may be empty), referenced once for
 * the caller. */
static NTSTATUS make_block(fltsim_system *sys, FLT_FILE_NAME_OPTIONS format,
                           PCUNICODE_STRING volume, const WCHAR *path, size_t path_units,
                           const char *file, int line, PFLT_FILE_NAME_INFORMATION *out)
{
    size_t vol_units = volume != NULL ? volume->Length / sizeof(WCHAR) : 0;
    size_t units = vol_units + path_units;
    if (units * sizeof(WCHAR) > MAX_NAME_BYTES)
        return fltsim__fail(STATUS_OBJECT_NAME_INVALID, "FltGetFileNameInformation: the name is "
                                                        "longer than a UNICODE_STRING holds");
    struct name_block *b = fltsim__pool_allocate_internal(
        PagedPool, sizeof(*b) + (units + 1) * sizeof(WCHAR), NAME_TAG, true);
    if (b == NULL)
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES,
                            "FltGetFileNameInformation: out of memory");
    b->magic = NAME_MAGIC;
    b->sys = sys;
    if (vol_units > 0)
        memcpy(b->text, volume->Buffer, vol_units * sizeof(WCHAR));
    if (path_units > 0)
        memcpy(b->text + vol_units, path, path_units * sizeof(WCHAR));
    b->info.Size = (USHORT)sizeof(b->info);
    b->info.Format = format;
    b->info.Name.Buffer = b->text;
    b->info.Name.Length = (USHORT)(units * sizeof(WCHAR));
    b->info.Name.MaximumLength = (USHORT)((units + 1) * sizeof(WCHAR));
    b->info.Volume.Buffer = b->text;
    b->info.Volume.Length = (USHORT)(vol_units * sizeof(WCHAR));
    b->info.Volume.MaximumLength = b->info.Volume.Length;
    uv_once(&names_once, names_init);
    uv_mutex_lock(&names_lock);
    bool held = hold_locked(b, file, line);
    if (held)
        InsertTailList(&live, &b->link);
    uv_mutex_unlock(&names_lock);
    if (!held) {
        ExFreePoolWithTag(b, NAME_TAG);
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES,
                            "FltGetFileNameInformation: out of memory");
    }
    *out = &b->info;
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Asking the file system                                                    */
/* ------------------------------------------------------------------------- */

/* IRP_MJ_QUERY_INFORMATION of a FILE_NAME_INFORMATION-shaped class for fo,
 * sent below inst. *name (malloc'd by the caller's free) gets the name. */
static NTSTATUS query_name(PFLT_INSTANCE inst, PFILE_OBJECT fo, FILE_INFORMATION_CLASS cls,
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
        ULONG bytes = info->FileNameLength;
        if (bytes > size - offsetof(FILE_NAME_INFORMATION, FileName) || bytes % sizeof(WCHAR)) {
            free(info);
            return STATUS_FILE_INVALID;
        }
        *units = bytes / sizeof(WCHAR);
        memmove(info, info->FileName, bytes);
        *name = (WCHAR *)info;
        return STATUS_SUCCESS;
    }
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

static NTSTATUS get_name(const struct query *q, const char *file, int line,
                         PFLT_FILE_NAME_INFORMATION *out)
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
    if (fltsim__tls()->irql > APC_LEVEL) {
        fltsim__report(sys, NULL, q->inst, q->op, "V29", "7.3",
                       "%s at IRQL %u (above APC_LEVEL): a name query is unsafe there; returned "
                       "STATUS_FLT_INVALID_NAME_REQUEST",
                       q->api, (unsigned)fltsim__tls()->irql);
        return fltsim__fail(STATUS_FLT_INVALID_NAME_REQUEST, "%s: above APC_LEVEL", q->api);
    }
    /* No name is cached in this build: every name comes from the file
     * system (or, in pre-create, from the file object). */
    if (method == FLT_FILE_NAME_QUERY_CACHE_ONLY)
        return fltsim__fail(STATUS_FLT_NAME_CACHE_MISS, "%s: the name is not in the cache", q->api);
    const char *why = unsafe_reason(q);
    if (why != NULL) {
        if (method == FLT_FILE_NAME_QUERY_ALWAYS_ALLOW_CACHE_LOOKUP)
            return fltsim__fail(STATUS_FLT_NAME_CACHE_MISS,
                                "%s: not cached, and the file system cannot be asked (%s)", q->api,
                                why);
        fltsim__report(sys, NULL, q->inst, q->op, "V29", "7.3",
                       "%s %s: the file system cannot be asked for the name there; returned "
                       "STATUS_FLT_INVALID_NAME_REQUEST",
                       q->api, why);
        return fltsim__fail(STATUS_FLT_INVALID_NAME_REQUEST, "%s: %s", q->api, why);
    }

    bool pre_create = q->op != NULL && q->op->data.Iopb->MajorFunction == IRP_MJ_CREATE;
    if (pre_create && q->in_post) {
        NTSTATUS created = q->op->data.IoStatus.Status;
        if (!NT_SUCCESS(created) || created == STATUS_REPARSE)
            return fltsim__fail(STATUS_FLT_INVALID_NAME_REQUEST,
                                "%s: in the post-create of a create that failed (0x%08x): no "
                                "file was opened",
                                q->api, (unsigned)created);
        pre_create = false;
    }

    WCHAR *path = NULL;
    size_t units = 0;
    NTSTATUS status;
    if (pre_create) {
        if (format == FLT_FILE_NAME_NORMALIZED)
            return fltsim__fail(STATUS_NOT_IMPLEMENTED,
                                "%s: a normalized name in pre-create is not modeled in this "
                                "build of fltsim",
                                q->api);
        path = pre_create_path(q->fo, &units);
        if (path == NULL)
            return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", q->api);
        if (q->op->data.Iopb->OperationFlags & SL_OPEN_TARGET_DIRECTORY)
            to_parent(path, &units);
    } else if (format == FLT_FILE_NAME_SHORT) {
        status = query_name(q->inst, q->fo, FileAlternateNameInformation, &path, &units);
        if (class_unknown(status))
            status = STATUS_OBJECT_NAME_NOT_FOUND; /* no short name to give */
        if (!NT_SUCCESS(status))
            return fltsim__fail(status, "%s: the file system has no short name (0x%08x)", q->api,
                                (unsigned)status);
        status = make_block(sys, format, NULL, path, units, file, line, out);
        free(path);
        return status;
    } else {
        status = STATUS_INVALID_PARAMETER;
        if (format == FLT_FILE_NAME_NORMALIZED)
            status = query_name(q->inst, q->fo, FileNormalizedNameInformation, &path, &units);
        /* The file systems name files by their long names: their
         * FileNameInformation is the normalized name when they do not
         * answer FileNormalizedNameInformation. */
        if (class_unknown(status))
            status = query_name(q->inst, q->fo, FileNameInformation, &path, &units);
        if (!NT_SUCCESS(status))
            return fltsim__fail(status, "%s: the file system's name query failed (0x%08x)", q->api,
                                (unsigned)status);
    }
    status = make_block(sys, format, &volume->device_name, path, units, file, line, out);
    free(path);
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
                      op,  t->op == op && t->in_post, NameOptions};
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
    struct query q = {api, Instance, FileObject, NULL, false, NameOptions};
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
/* References                                                                */
/* ------------------------------------------------------------------------- */

/* Who calls, for reports. */
static fltsim_system *caller_sys(void)
{
    return fltsim__tls()->sys;
}

static void misuse(fltsim_system *sys, const char *fmt, const char *api, const void *p)
{
    if (sys == NULL)
        sys = caller_sys();
    if (sys != NULL)
        fltsim__report(sys, fltsim__tls()->filter, NULL, fltsim__tls()->op, "V22", "7.3", fmt, api,
                       p);
    else {
        fprintf(stderr, "fltsim: V22: ");
        fprintf(stderr, fmt, api, p);
        fputc('\n', stderr);
    }
}

void fltsim_FltReferenceFileNameInformation_at(PFLT_FILE_NAME_INFORMATION Info, const char *file,
                                               int line)
{
    uv_once(&names_once, names_init);
    uv_mutex_lock(&names_lock);
    struct name_block *b = find_live_locked(Info);
    bool held = b != NULL && hold_locked(b, file, line);
    fltsim_system *was = b == NULL ? freed_sys_locked(Info) : NULL;
    uv_mutex_unlock(&names_lock);
    if (b == NULL)
        misuse(was,
               "%s(%p): not name information FltMgr handed out, or already released for good "
               "(on Windows: a crash or bugcheck 0xF5); ignored",
               "FltReferenceFileNameInformation", Info);
    else if (!held)
        fltsim__report(b->sys, fltsim__tls()->filter, NULL, NULL, "SIM", "7.3",
                       "FltReferenceFileNameInformation: out of memory recording the "
                       "reference; not taken");
}

VOID(FltReferenceFileNameInformation)(PFLT_FILE_NAME_INFORMATION Info)
{
    fltsim_FltReferenceFileNameInformation_at(Info, NULL, 0);
}

VOID FltReleaseFileNameInformation(PFLT_FILE_NAME_INFORMATION Info)
{
    static const char api[] = "FltReleaseFileNameInformation";
    if (fltsim__tls()->irql > APC_LEVEL && caller_sys() != NULL)
        fltsim__check_irql(caller_sys(), APC_LEVEL, api);
    uv_once(&names_once, names_init);
    uv_mutex_lock(&names_lock);
    struct name_block *b = find_live_locked(Info);
    if (b == NULL) {
        fltsim_system *was = freed_sys_locked(Info);
        uv_mutex_unlock(&names_lock);
        misuse(was,
               "%s(%p): released more often than referenced, or never handed out by FltMgr (on "
               "Windows: bugcheck 0xF5, parameter 0x68); ignored",
               api, Info);
        return;
    }
    /* The calling driver's most recent reference goes; another's if it
     * holds none (it was handed one). */
    struct fltsim_driver *drv = current_driver();
    ULONG at = b->count - 1;
    for (ULONG i = b->count; i-- > 0;) {
        if (b->holders[i].driver == drv) {
            at = i;
            break;
        }
    }
    b->holders[at] = b->holders[--b->count];
    if (b->count == 0)
        free_block_locked(b);
    uv_mutex_unlock(&names_lock);
}

/* Reports (V22) the references drv's code still holds, one report per site,
 * and drops them, so that the blocks can go. */
void fltsim__names_driver_unloaded(struct fltsim_driver *drv)
{
    uv_once(&names_once, names_init);
    for (;;) {
        char site[160] = "";
        ULONG n = 0;
        uv_mutex_lock(&names_lock);
        const struct holder *first = NULL;
        for (PLIST_ENTRY e = live.Flink; e != &live && first == NULL; e = e->Flink) {
            struct name_block *b = CONTAINING_RECORD(e, struct name_block, link);
            for (ULONG i = 0; i < b->count; i++) {
                if (b->holders[i].driver == drv) {
                    first = &b->holders[i];
                    break;
                }
            }
        }
        if (first == NULL) {
            uv_mutex_unlock(&names_lock);
            return;
        }
        const char *ffile = first->file;
        int fline = first->line;
        if (ffile == NULL)
            snprintf(site, sizeof(site), "an unknown site (a call through a pointer)");
        else {
            const char *slash = strrchr(ffile, '/');
            snprintf(site, sizeof(site), "%s:%d", slash != NULL ? slash + 1 : ffile, fline);
        }
        /* Drop every reference of drv from that site. */
        PLIST_ENTRY e = live.Flink;
        while (e != &live) {
            struct name_block *b = CONTAINING_RECORD(e, struct name_block, link);
            e = e->Flink;
            for (ULONG i = 0; i < b->count;) {
                const struct holder *h = &b->holders[i];
                if (h->driver == drv && h->file == ffile && h->line == fline) {
                    b->holders[i] = b->holders[--b->count];
                    n++;
                } else {
                    i++;
                }
            }
            if (b->count == 0)
                free_block_locked(b);
        }
        uv_mutex_unlock(&names_lock);
        fltsim__report(drv->sys, drv->filter_keep, NULL, NULL, "V22", "10",
                       "%s unloads holding %u reference(s) to FLT_FILE_NAME_INFORMATION obtained "
                       "at %s and never released (FltReleaseFileNameInformation)",
                       drv->name8, (unsigned)n, site);
    }
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

void fltsim__names_system_destroyed(fltsim_system *sys)
{
    uv_once(&names_once, names_init);
    uv_mutex_lock(&names_lock);
    PLIST_ENTRY e = live.Flink;
    while (e != &live) {
        struct name_block *b = CONTAINING_RECORD(e, struct name_block, link);
        e = e->Flink;
        if (b->sys == sys)
            free_block_locked(b);
    }
    for (ULONG i = 0; i < FREED_RING; i++)
        if (freed[i].sys == sys) {
            freed[i].block = NULL;
            freed[i].sys = NULL;
        }
    uv_mutex_unlock(&names_lock);
}
