/*
 * The FLT_FILE_NAME_INFORMATION blocks FltMgr hands out (SPEC 7.3) and the
 * name cache: each block is paged pool of tag 'FMfn', shared and
 * reference-counted, recording which driver holds each reference and where
 * it got it, so that an over-release (V22) is reported without touching freed
 * memory and a reference still held at unload is reported with its file and
 * line. The cache is per instance, keyed by file object and format; renames,
 * links, deletes, closes and instance ends empty what they change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filename_internal.h"

#define NAME_TAG 'nfMF'        /* shows as 'FMfn' */
#define NAME_MAGIC 0x454d414eu /* "NAME" */
#define MAX_NAME_BYTES 0xfff0u /* what a UNICODE_STRING can hold, even */

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
    bool cached;            /* the name cache holds it too; names_lock */
    WCHAR text[];
};

/* ---- the name cache ----
 * Per instance, keyed by file object and format: a rename, a link or a
 * delete on the volume empties the volume's part (a directory's rename
 * renames what is under it), a file object's close its entries, an
 * instance's end its own. */
#define CACHE_BUCKETS 256
struct cache_entry {
    LIST_ENTRY link; /* bucket; names_lock */
    PFLT_INSTANCE inst;
    PFLT_VOLUME volume;
    PFILE_OBJECT fo;
    FLT_FILE_NAME_OPTIONS format;
    struct name_block *b;
};
static LIST_ENTRY buckets[CACHE_BUCKETS]; /* names_lock */

static ULONG bucket_of(const void *fo)
{
    uintptr_t k = (uintptr_t)fo;
    return (ULONG)((k >> 4) ^ (k >> 12)) % CACHE_BUCKETS;
}

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
    for (ULONG i = 0; i < CACHE_BUCKETS; i++)
        InitializeListHead(&buckets[i]);
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

/* names_lock held: drops a cache entry and the cache's reference. */
static void drop_entry_locked(struct cache_entry *c)
{
    RemoveEntryList(&c->link);
    c->b->cached = false;
    if (c->b->count == 0)
        free_block_locked(c->b);
    free(c);
}

/* Drops the entries matching: of inst (or any), of volume (or any), of fo
 * (or any). */
static void purge(PFLT_INSTANCE inst, PFLT_VOLUME volume, PFILE_OBJECT fo)
{
    uv_once(&names_once, names_init);
    uv_mutex_lock(&names_lock);
    ULONG from = fo != NULL ? bucket_of(fo) : 0, to = fo != NULL ? from + 1 : CACHE_BUCKETS;
    for (ULONG i = from; i < to; i++) {
        PLIST_ENTRY e = buckets[i].Flink;
        while (e != &buckets[i]) {
            struct cache_entry *c = CONTAINING_RECORD(e, struct cache_entry, link);
            e = e->Flink;
            if ((inst == NULL || c->inst == inst) && (volume == NULL || c->volume == volume) &&
                (fo == NULL || c->fo == fo))
                drop_entry_locked(c);
        }
    }
    uv_mutex_unlock(&names_lock);
}

void fltsim__names_forget_file(PFILE_OBJECT fo)
{
    purge(NULL, NULL, fo);
}

void fltsim__names_forget_instance(PFLT_INSTANCE inst)
{
    purge(inst, NULL, NULL);
}

void fltsim__names_fs_changed(PFLT_CALLBACK_DATA data, PFLT_VOLUME volume)
{
    switch (data->Iopb->Parameters.SetFileInformation.FileInformationClass) {
    case FileRenameInformation:
    case FileRenameInformationEx:
    case FileLinkInformation:
    case FileLinkInformationEx:
    case FileDispositionInformation:
    case FileDispositionInformationEx:
        purge(NULL, volume, NULL);
        break;
    default:
        break;
    }
}

NTSTATUS FltPurgeFileNameInformationCache(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject)
{
    if (!fltsim__is_instance(Instance))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "FltPurgeFileNameInformationCache: Instance is not an instance");
    purge(Instance, NULL, FileObject);
    return STATUS_SUCCESS;
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
NTSTATUS fltsim__name_make(fltsim_system *sys, FLT_FILE_NAME_OPTIONS format,
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

/* The cached name of (inst, fo, format), referenced for the caller, or
 * NULL. */
PFLT_FILE_NAME_INFORMATION fltsim__name_cache_lookup(PFLT_INSTANCE inst, PFILE_OBJECT fo,
                                                     FLT_FILE_NAME_OPTIONS format, const char *file,
                                                     int line)
{
    PFLT_FILE_NAME_INFORMATION found = NULL;
    uv_once(&names_once, names_init);
    uv_mutex_lock(&names_lock);
    LIST_ENTRY *head = &buckets[bucket_of(fo)];
    for (PLIST_ENTRY e = head->Flink; e != head; e = e->Flink) {
        struct cache_entry *c = CONTAINING_RECORD(e, struct cache_entry, link);
        if (c->fo == fo && c->inst == inst && c->format == format) {
            if (hold_locked(c->b, file, line))
                found = &c->b->info;
            break;
        }
    }
    uv_mutex_unlock(&names_lock);
    return found;
}

/* Caches info (a fresh block) for (inst, fo): replaces an entry another
 * thread made meanwhile. Out of memory: simply not cached. */
void fltsim__name_cache_insert(PFLT_INSTANCE inst, PFILE_OBJECT fo, PFLT_FILE_NAME_INFORMATION info)
{
    struct cache_entry *c = malloc(sizeof(*c));
    if (c == NULL)
        return;
    struct name_block *b = CONTAINING_RECORD(info, struct name_block, info);
    *c = (struct cache_entry){
        .inst = inst, .volume = inst->volume, .fo = fo, .format = info->Format, .b = b};
    uv_once(&names_once, names_init);
    uv_mutex_lock(&names_lock);
    LIST_ENTRY *head = &buckets[bucket_of(fo)];
    for (PLIST_ENTRY e = head->Flink; e != head; e = e->Flink) {
        struct cache_entry *old = CONTAINING_RECORD(e, struct cache_entry, link);
        if (old->fo == fo && old->inst == inst && old->format == info->Format) {
            drop_entry_locked(old);
            break;
        }
    }
    b->cached = true;
    InsertTailList(head, &c->link);
    uv_mutex_unlock(&names_lock);
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
    if (b != NULL && b->count == 0) {
        /* Only the cache holds it. */
        uv_mutex_unlock(&names_lock);
        misuse(b->sys,
               "%s(%p): released more often than referenced (on Windows: bugcheck 0xF5, "
               "parameter 0x68); ignored",
               api, Info);
        return;
    }
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
    if (b->count == 0 && !b->cached)
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
            if (b->count == 0 && !b->cached)
                free_block_locked(b);
        }
        uv_mutex_unlock(&names_lock);
        fltsim__report(drv->sys, drv->filter_keep, NULL, NULL, "V22", "10",
                       "%s unloads holding %u reference(s) to FLT_FILE_NAME_INFORMATION obtained "
                       "at %s and never released (FltReleaseFileNameInformation)",
                       drv->name8, (unsigned)n, site);
    }
}

void fltsim__names_system_destroyed(fltsim_system *sys)
{
    uv_once(&names_once, names_init);
    uv_mutex_lock(&names_lock);
    for (ULONG i = 0; i < CACHE_BUCKETS; i++) {
        PLIST_ENTRY e = buckets[i].Flink;
        while (e != &buckets[i]) {
            struct cache_entry *c = CONTAINING_RECORD(e, struct cache_entry, link);
            e = e->Flink;
            if (c->b->sys == sys) {
                RemoveEntryList(&c->link);
                c->b->cached = false;
                free(c);
            }
        }
    }
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
