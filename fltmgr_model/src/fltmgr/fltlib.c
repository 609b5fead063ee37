/*
 * The management routines of fltlib (fltUser.h): the find routines of
 * filters, volumes, a volume's and a filter's instances, FilterGetDosName,
 * FilterAttach/FilterDetach (FltAttachVolume and FltDetachVolume run as the
 * filter's code) and FilterLoad/FilterUnload, answered from the system of the
 * calling simulated thread. A find handle owns a copy of the rows taken under
 * sys->lock at FindFirst (as fltmc.c does); Next formats one row in the class
 * asked for. Open find handles belong to their system (freed at its
 * destruction) and to the simulated process that opened them (closed when
 * it ends); a handle is a number looked up there, so a stale or foreign one
 * is refused, never dereferenced.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <fltUser.h>

#include "port_internal.h"
#include "user_side.h"
#include "win32/win32_internal.h"

#define NAME_MAX_CHARS 256

enum find_kind { FIND_FILTERS, FIND_VOLUMES, FIND_INSTANCES, FIND_FILTER_INSTANCES };

/* One row of a snapshot; names are counted, not terminated. */
struct find_row {
    WCHAR filter[NAME_MAX_CHARS], instance[NAME_MAX_CHARS];
    WCHAR altitude[FLTSIM_ALTITUDE_MAX], volume[NAME_MAX_CHARS];
    USHORT filter_len, instance_len, altitude_len, volume_len; /* characters */
    ULONG instances;
    FLT_FILESYSTEM_TYPE fs_type; /* the volume's */
};

struct find_handle {
    LIST_ENTRY link;              /* sys->fltlib->handles */
    ULONG value;                  /* the HANDLE the caller holds (a user handle value) */
    struct fltsim_process *owner; /* the simulated process that opened it, or NULL */
    enum find_kind kind;
    struct find_row *rows;
    size_t count, capacity, next;
};

/* A system's open find handles (sys->lock). */
struct fltsim_fltlib {
    LIST_ENTRY handles;
};

static USHORT copy_us(WCHAR *dst, size_t cap, const UNICODE_STRING *us)
{
    size_t n = us->Buffer == NULL ? 0 : us->Length / sizeof(WCHAR);
    if (n > cap)
        n = cap;
    if (n > 0)
        memcpy(dst, us->Buffer, n * sizeof(WCHAR));
    return (USHORT)n;
}

static USHORT copy_ascii(WCHAR *dst, size_t cap, const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0' && n < cap; n++)
        dst[n] = (WCHAR)(unsigned char)s[n];
    return (USHORT)n;
}

static struct find_row *rows_add(struct find_handle *h)
{
    if (h->count == h->capacity) {
        size_t cap = h->capacity == 0 ? 8 : h->capacity * 2;
        struct find_row *rows = realloc(h->rows, cap * sizeof(*rows));
        if (rows == NULL)
            return NULL;
        h->rows = rows;
        h->capacity = cap;
    }
    struct find_row *row = &h->rows[h->count++];
    memset(row, 0, sizeof(*row));
    return row;
}

static void filter_name(struct find_row *row, const struct _FLT_FILTER *f)
{
    if (f->driver != NULL)
        row->filter_len = copy_us(row->filter, NAME_MAX_CHARS, &f->driver->service_name);
    else
        row->filter_len = copy_ascii(row->filter, NAME_MAX_CHARS, f->name8);
}

static bool collect_filters_locked(fltsim_system *sys, struct find_handle *h)
{
    for (PLIST_ENTRY e = sys->filters.Flink; e != &sys->filters; e = e->Flink) {
        struct _FLT_FILTER *f = CONTAINING_RECORD(e, struct _FLT_FILTER, link);
        LONG state = __atomic_load_n(&f->state, __ATOMIC_ACQUIRE);
        if (state != FLTSIM_FILTER_REGISTERED && state != FLTSIM_FILTER_STARTED)
            continue;
        struct find_row *row = rows_add(h);
        if (row == NULL)
            return false;
        filter_name(row, f);
        /* The altitude fltmc shows: the default instance's, else the first one's. */
        const struct fltsim_driver *drv = f->driver;
        if (drv != NULL && drv->instance_count > 0) {
            LONG k = drv->default_instance >= 0 ? drv->default_instance : 0;
            row->altitude_len =
                copy_ascii(row->altitude, FLTSIM_ALTITUDE_MAX, drv->instances[k].altitude.text);
        }
        for (PLIST_ENTRY ie = f->instances.Flink; ie != &f->instances; ie = ie->Flink) {
            const struct _FLT_INSTANCE *i =
                CONTAINING_RECORD(ie, struct _FLT_INSTANCE, filter_link);
            if (__atomic_load_n(&i->state, __ATOMIC_ACQUIRE) == FLTSIM_INSTANCE_ATTACHED)
                row->instances++;
        }
    }
    return true;
}

static bool collect_volumes_locked(fltsim_system *sys, struct find_handle *h)
{
    for (PLIST_ENTRY e = sys->volumes.Flink; e != &sys->volumes; e = e->Flink) {
        struct _FLT_VOLUME *v = CONTAINING_RECORD(e, struct _FLT_VOLUME, link);
        if (v->dismounting)
            continue;
        struct find_row *row = rows_add(h);
        if (row == NULL)
            return false;
        row->volume_len = copy_us(row->volume, NAME_MAX_CHARS, &v->device_name);
        row->fs_type = v->fs_type;
    }
    return true;
}

static bool add_instance(struct _FLT_INSTANCE *i, struct find_handle *h)
{
    if (__atomic_load_n(&i->state, __ATOMIC_ACQUIRE) != FLTSIM_INSTANCE_ATTACHED)
        return true;
    struct find_row *row = rows_add(h);
    if (row == NULL)
        return false;
    filter_name(row, i->filter);
    row->instance_len = copy_us(row->instance, NAME_MAX_CHARS, &i->name);
    row->altitude_len = copy_ascii(row->altitude, FLTSIM_ALTITUDE_MAX, i->altitude.text);
    row->volume_len = copy_us(row->volume, NAME_MAX_CHARS, &i->volume->device_name);
    row->fs_type = i->volume->fs_type;
    return true;
}

/* A volume's instances, highest altitude first. */
static bool collect_instances_locked(struct _FLT_VOLUME *v, struct find_handle *h)
{
    for (PLIST_ENTRY e = v->instances.Flink; e != &v->instances; e = e->Flink)
        if (!add_instance(CONTAINING_RECORD(e, struct _FLT_INSTANCE, volume_link), h))
            return false;
    return true;
}

/* A filter's instances, in the order they were attached. */
static bool collect_filter_instances_locked(struct _FLT_FILTER *f, struct find_handle *h)
{
    for (PLIST_ENTRY e = f->instances.Flink; e != &f->instances; e = e->Flink)
        if (!add_instance(CONTAINING_RECORD(e, struct _FLT_INSTANCE, filter_link), h))
            return false;
    return true;
}

/* sys->lock held: the volume named by its device name or by "X:", or NULL. */
static struct _FLT_VOLUME *volume_by_name_locked(fltsim_system *sys, LPCWSTR name)
{
    size_t n = 0;
    while (name[n] != 0 && n < 32767)
        n++;
    bool dos = n == 2 && name[1] == L':';
    UNICODE_STRING want = {.Length = (USHORT)(n * sizeof(WCHAR)),
                           .MaximumLength = (USHORT)(n * sizeof(WCHAR)),
                           .Buffer = (PWCH)name};
    for (PLIST_ENTRY e = sys->volumes.Flink; e != &sys->volumes; e = e->Flink) {
        struct _FLT_VOLUME *v = CONTAINING_RECORD(e, struct _FLT_VOLUME, link);
        if (v->dismounting)
            continue;
        if (dos ? (v->drive_letter != 0 && (v->drive_letter | 0x20) == (WCHAR)(name[0] | 0x20))
                : RtlEqualUnicodeString(&want, &v->device_name, TRUE))
            return v;
    }
    return NULL;
}

/* Bytes one row takes in class cls of kind, or 0 for a class not supported. */
static ULONG row_size(enum find_kind kind, int cls, const struct find_row *r)
{
    switch (kind) {
    case FIND_FILTERS:
        if (cls == FilterFullInformation)
            return (ULONG)(offsetof(FILTER_FULL_INFORMATION, FilterNameBuffer) +
                           r->filter_len * sizeof(WCHAR));
        if (cls == FilterAggregateBasicInformation)
            return (ULONG)(sizeof(FILTER_AGGREGATE_BASIC_INFORMATION) +
                           (r->filter_len + r->altitude_len) * sizeof(WCHAR));
        if (cls == FilterAggregateStandardInformation)
            return (ULONG)(sizeof(FILTER_AGGREGATE_STANDARD_INFORMATION) +
                           (r->filter_len + r->altitude_len) * sizeof(WCHAR));
        return 0;
    case FIND_VOLUMES:
        if (cls == FilterVolumeBasicInformation)
            return (ULONG)(offsetof(FILTER_VOLUME_BASIC_INFORMATION, FilterVolumeName) +
                           r->volume_len * sizeof(WCHAR));
        if (cls == FilterVolumeStandardInformation)
            return (ULONG)(offsetof(FILTER_VOLUME_STANDARD_INFORMATION, FilterVolumeName) +
                           r->volume_len * sizeof(WCHAR));
        return 0;
    case FIND_INSTANCES:
    case FIND_FILTER_INSTANCES: {
        size_t names = (size_t)r->instance_len + r->altitude_len + r->volume_len + r->filter_len;
        if (cls == InstanceBasicInformation)
            return (ULONG)(sizeof(INSTANCE_BASIC_INFORMATION) + r->instance_len * sizeof(WCHAR));
        if (cls == InstancePartialInformation)
            return (ULONG)(sizeof(INSTANCE_PARTIAL_INFORMATION) +
                           ((size_t)r->instance_len + r->altitude_len) * sizeof(WCHAR));
        if (cls == InstanceFullInformation)
            return (ULONG)(sizeof(INSTANCE_FULL_INFORMATION) + names * sizeof(WCHAR));
        if (cls == InstanceAggregateStandardInformation)
            return (ULONG)(sizeof(INSTANCE_AGGREGATE_STANDARD_INFORMATION) + names * sizeof(WCHAR));
        return 0;
    }
    }
    return 0;
}

/* Appends a name at *at (an offset in buf), giving its offset and byte length. */
static void put_name(BYTE *buf, ULONG *at, const WCHAR *s, USHORT chars, USHORT *offset,
                     USHORT *length)
{
    *offset = (USHORT)*at;
    *length = (USHORT)(chars * sizeof(WCHAR));
    memcpy(buf + *at, s, *length);
    *at += *length;
}

static void row_write(enum find_kind kind, int cls, const struct find_row *r, BYTE *buf, ULONG size)
{
    memset(buf, 0, size);
    switch (kind) {
    case FIND_FILTERS: {
        if (cls == FilterAggregateBasicInformation) {
            FILTER_AGGREGATE_BASIC_INFORMATION *ai = (FILTER_AGGREGATE_BASIC_INFORMATION *)buf;
            ULONG at = sizeof(*ai);
            ai->Flags = FLTFL_AGGREGATE_INFO_IS_MINIFILTER;
            ai->Type.MiniFilter.NumberOfInstances = r->instances;
            put_name(buf, &at, r->filter, r->filter_len,
                     &ai->Type.MiniFilter.FilterNameBufferOffset,
                     &ai->Type.MiniFilter.FilterNameLength);
            put_name(buf, &at, r->altitude, r->altitude_len,
                     &ai->Type.MiniFilter.FilterAltitudeBufferOffset,
                     &ai->Type.MiniFilter.FilterAltitudeLength);
            break;
        }
        if (cls == FilterAggregateStandardInformation) {
            /* Frame 0, no MiniFilter flags defined. */
            FILTER_AGGREGATE_STANDARD_INFORMATION *si =
                (FILTER_AGGREGATE_STANDARD_INFORMATION *)buf;
            ULONG at = sizeof(*si);
            si->Flags = FLTFL_ASI_IS_MINIFILTER;
            si->Type.MiniFilter.NumberOfInstances = r->instances;
            put_name(buf, &at, r->filter, r->filter_len,
                     &si->Type.MiniFilter.FilterNameBufferOffset,
                     &si->Type.MiniFilter.FilterNameLength);
            put_name(buf, &at, r->altitude, r->altitude_len,
                     &si->Type.MiniFilter.FilterAltitudeBufferOffset,
                     &si->Type.MiniFilter.FilterAltitudeLength);
            break;
        }
        FILTER_FULL_INFORMATION *fi = (FILTER_FULL_INFORMATION *)buf;
        fi->NumberOfInstances = r->instances;
        fi->FilterNameLength = (USHORT)(r->filter_len * sizeof(WCHAR));
        memcpy(buf + offsetof(FILTER_FULL_INFORMATION, FilterNameBuffer), r->filter,
               fi->FilterNameLength);
        break;
    }
    case FIND_VOLUMES: {
        if (cls == FilterVolumeStandardInformation) {
            /* Frame 0; every volume is attached (no FLTFL_VSI_DETACHED_VOLUME). */
            FILTER_VOLUME_STANDARD_INFORMATION *si = (FILTER_VOLUME_STANDARD_INFORMATION *)buf;
            si->FileSystemType = r->fs_type;
            si->FilterVolumeNameLength = (USHORT)(r->volume_len * sizeof(WCHAR));
            memcpy(buf + offsetof(FILTER_VOLUME_STANDARD_INFORMATION, FilterVolumeName), r->volume,
                   si->FilterVolumeNameLength);
            break;
        }
        FILTER_VOLUME_BASIC_INFORMATION *vi = (FILTER_VOLUME_BASIC_INFORMATION *)buf;
        vi->FilterVolumeNameLength = (USHORT)(r->volume_len * sizeof(WCHAR));
        memcpy(buf + offsetof(FILTER_VOLUME_BASIC_INFORMATION, FilterVolumeName), r->volume,
               vi->FilterVolumeNameLength);
        break;
    }
    case FIND_INSTANCES:
    case FIND_FILTER_INSTANCES: {
        if (cls == InstanceBasicInformation || cls == InstancePartialInformation) {
            /* PARTIAL is BASIC with the altitude after it. */
            INSTANCE_PARTIAL_INFORMATION *pi = (INSTANCE_PARTIAL_INFORMATION *)buf;
            ULONG at = cls == InstanceBasicInformation ? sizeof(INSTANCE_BASIC_INFORMATION)
                                                       : sizeof(INSTANCE_PARTIAL_INFORMATION);
            put_name(buf, &at, r->instance, r->instance_len, &pi->InstanceNameBufferOffset,
                     &pi->InstanceNameLength);
            if (cls == InstancePartialInformation)
                put_name(buf, &at, r->altitude, r->altitude_len, &pi->AltitudeBufferOffset,
                         &pi->AltitudeLength);
            break;
        }
        if (cls == InstanceAggregateStandardInformation) {
            /* Frame 0, attached volumes, no SupportedFeatures set in fltsim. */
            INSTANCE_AGGREGATE_STANDARD_INFORMATION *ai =
                (INSTANCE_AGGREGATE_STANDARD_INFORMATION *)buf;
            ULONG at = sizeof(*ai);
            ai->Flags = FLTFL_IASI_IS_MINIFILTER;
            ai->Type.MiniFilter.VolumeFileSystemType = r->fs_type;
            put_name(buf, &at, r->instance, r->instance_len,
                     &ai->Type.MiniFilter.InstanceNameBufferOffset,
                     &ai->Type.MiniFilter.InstanceNameLength);
            put_name(buf, &at, r->altitude, r->altitude_len,
                     &ai->Type.MiniFilter.AltitudeBufferOffset,
                     &ai->Type.MiniFilter.AltitudeLength);
            put_name(buf, &at, r->volume, r->volume_len,
                     &ai->Type.MiniFilter.VolumeNameBufferOffset,
                     &ai->Type.MiniFilter.VolumeNameLength);
            put_name(buf, &at, r->filter, r->filter_len,
                     &ai->Type.MiniFilter.FilterNameBufferOffset,
                     &ai->Type.MiniFilter.FilterNameLength);
            break;
        }
        INSTANCE_FULL_INFORMATION *ii = (INSTANCE_FULL_INFORMATION *)buf;
        ULONG at = sizeof(*ii);
        put_name(buf, &at, r->instance, r->instance_len, &ii->InstanceNameBufferOffset,
                 &ii->InstanceNameLength);
        put_name(buf, &at, r->altitude, r->altitude_len, &ii->AltitudeBufferOffset,
                 &ii->AltitudeLength);
        put_name(buf, &at, r->volume, r->volume_len, &ii->VolumeNameBufferOffset,
                 &ii->VolumeNameLength);
        put_name(buf, &at, r->filter, r->filter_len, &ii->FilterNameBufferOffset,
                 &ii->FilterNameLength);
        break;
    }
    }
}

/* Formats the handle's next row; a row that does not fit stays the next one. */
static HRESULT find_next(struct find_handle *h, int cls, LPVOID buffer, DWORD size,
                         LPDWORD returned)
{
    if (returned == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    *returned = 0;
    static const struct find_row empty;
    if (row_size(h->kind, cls, &empty) == 0)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    if (h->next >= h->count)
        return HRESULT_FROM_WIN32(ERROR_NO_MORE_ITEMS);
    const struct find_row *r = &h->rows[h->next];
    ULONG need = row_size(h->kind, cls, r);
    *returned = need;
    if (buffer == NULL || size < need)
        return HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER);
    row_write(h->kind, cls, r, buffer, need);
    h->next++;
    return S_OK;
}

static void handle_free(struct find_handle *h)
{
    free(h->rows);
    free(h);
}

/* Takes the snapshot, answers its first row and, when that succeeds or the
 * buffer is too small, gives the caller the handle. */
static struct _FLT_FILTER *filter_by_name_locked(fltsim_system *sys, LPCWSTR name);

/* name: the volume (FIND_INSTANCES) or the filter (FIND_FILTER_INSTANCES). */
static HRESULT find_first(const char *api, enum find_kind kind, LPCWSTR name, int cls,
                          LPVOID buffer, DWORD size, LPDWORD returned, LPHANDLE out)
{
    if (out == NULL || returned == NULL ||
        ((kind == FIND_INSTANCES || kind == FIND_FILTER_INSTANCES) && name == NULL))
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    *out = INVALID_HANDLE_VALUE;
    *returned = 0;
    fltsim_system *sys = fltsim__w32_fltlib_system(api);
    if (sys == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    struct find_handle *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return HRESULT_FROM_WIN32(ERROR_NO_SYSTEM_RESOURCES);
    h->kind = kind;
    bool ok = true, found = true;
    uv_mutex_lock(&sys->lock);
    if (kind == FIND_FILTERS) {
        ok = collect_filters_locked(sys, h);
    } else if (kind == FIND_VOLUMES) {
        ok = collect_volumes_locked(sys, h);
    } else if (kind == FIND_INSTANCES) {
        struct _FLT_VOLUME *v = volume_by_name_locked(sys, name);
        found = v != NULL;
        ok = v == NULL || collect_instances_locked(v, h);
    } else {
        struct _FLT_FILTER *f = filter_by_name_locked(sys, name);
        found = f != NULL;
        ok = f == NULL || collect_filter_instances_locked(f, h);
    }
    uv_mutex_unlock(&sys->lock);
    if (!ok || !found) {
        handle_free(h);
        if (!ok)
            return HRESULT_FROM_WIN32(ERROR_NO_SYSTEM_RESOURCES);
        return kind == FIND_INSTANCES ? HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)
                                      : (HRESULT)0x801F0013L; /* ERROR_FLT_FILTER_NOT_FOUND */
    }
    HRESULT hr = find_next(h, cls, buffer, size, returned);
    if (FAILED(hr) && hr != HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER)) {
        handle_free(h);
        return hr;
    }
    struct w32_thread *self = fltsim__w32_self();
    h->owner = self != NULL ? self->proc : NULL;
    uv_mutex_lock(&sys->lock);
    if (sys->fltlib == NULL) {
        sys->fltlib = calloc(1, sizeof(*sys->fltlib));
        if (sys->fltlib != NULL)
            InitializeListHead(&sys->fltlib->handles);
    }
    if (sys->fltlib != NULL) {
        h->value = fltsim__w32_handle_value_locked(sys);
        InsertTailList(&sys->fltlib->handles, &h->link);
    }
    uv_mutex_unlock(&sys->lock);
    if (h->value == 0) {
        handle_free(h);
        *returned = 0;
        return HRESULT_FROM_WIN32(ERROR_NO_SYSTEM_RESOURCES);
    }
    *out = (HANDLE)(ULONG_PTR)h->value;
    return fltsim__w32_result(hr);
}

/* sys->lock held: the open handle of kind of the caller's process, or NULL. */
static struct find_handle *handle_lookup_locked(fltsim_system *sys, HANDLE handle,
                                                enum find_kind kind)
{
    if (sys->fltlib == NULL)
        return NULL;
    struct w32_thread *self = fltsim__w32_self();
    struct fltsim_process *proc = self != NULL ? self->proc : NULL;
    for (PLIST_ENTRY e = sys->fltlib->handles.Flink; e != &sys->fltlib->handles; e = e->Flink) {
        struct find_handle *h = CONTAINING_RECORD(e, struct find_handle, link);
        if ((ULONG_PTR)h->value == (ULONG_PTR)handle && h->kind == kind && h->owner == proc)
            return h;
    }
    return NULL;
}

static HRESULT find_next_by_handle(HANDLE handle, enum find_kind kind, int cls, LPVOID buffer,
                                   DWORD size, LPDWORD returned)
{
    fltsim_system *sys = fltsim__w32_fltlib_system("FilterFindNext");
    if (sys == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE);
    uv_mutex_lock(&sys->lock);
    struct find_handle *h = handle_lookup_locked(sys, handle, kind);
    HRESULT hr = h == NULL ? HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE)
                           : find_next(h, cls, buffer, size, returned);
    uv_mutex_unlock(&sys->lock);
    return fltsim__w32_result(hr);
}

static HRESULT find_close(HANDLE handle, enum find_kind kind)
{
    fltsim_system *sys = fltsim__w32_fltlib_system("FilterFindClose");
    if (sys == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE);
    uv_mutex_lock(&sys->lock);
    struct find_handle *h = handle_lookup_locked(sys, handle, kind);
    if (h != NULL)
        RemoveEntryList(&h->link);
    uv_mutex_unlock(&sys->lock);
    if (h == NULL)
        return fltsim__w32_result(HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE));
    handle_free(h);
    return fltsim__w32_result(S_OK);
}

/* Frees the handles of proc (NULL: every handle) of sys. */
static void close_handles(fltsim_system *sys, struct fltsim_process *proc)
{
    LIST_ENTRY doomed;
    InitializeListHead(&doomed);
    uv_mutex_lock(&sys->lock);
    for (PLIST_ENTRY e = sys->fltlib != NULL ? sys->fltlib->handles.Flink : NULL;
         e != NULL && e != &sys->fltlib->handles;) {
        struct find_handle *h = CONTAINING_RECORD(e, struct find_handle, link);
        e = e->Flink;
        if (proc == NULL || h->owner == proc) {
            RemoveEntryList(&h->link);
            InsertTailList(&doomed, &h->link);
        }
    }
    struct fltsim_fltlib *table = proc == NULL ? sys->fltlib : NULL;
    if (proc == NULL)
        sys->fltlib = NULL;
    uv_mutex_unlock(&sys->lock);
    while (!IsListEmpty(&doomed))
        handle_free(CONTAINING_RECORD(RemoveHeadList(&doomed), struct find_handle, link));
    free(table);
}

void fltsim__fltlib_close_process(fltsim_system *sys, struct fltsim_process *proc)
{
    close_handles(sys, proc);
}

void fltsim__fltlib_system_destroyed(fltsim_system *sys)
{
    close_handles(sys, NULL);
}

HRESULT FilterFindFirst(FILTER_INFORMATION_CLASS dwInformationClass, LPVOID lpBuffer,
                        DWORD dwBufferSize, LPDWORD lpBytesReturned, LPHANDLE lpFilterFind)
{
    return find_first("FilterFindFirst", FIND_FILTERS, NULL, (int)dwInformationClass, lpBuffer,
                      dwBufferSize, lpBytesReturned, lpFilterFind);
}

HRESULT FilterFindNext(HANDLE hFilterFind, FILTER_INFORMATION_CLASS dwInformationClass,
                       LPVOID lpBuffer, DWORD dwBufferSize, LPDWORD lpBytesReturned)
{
    return find_next_by_handle(hFilterFind, FIND_FILTERS, (int)dwInformationClass, lpBuffer,
                               dwBufferSize, lpBytesReturned);
}

HRESULT FilterFindClose(HANDLE hFilterFind)
{
    return find_close(hFilterFind, FIND_FILTERS);
}

HRESULT FilterVolumeFindFirst(FILTER_VOLUME_INFORMATION_CLASS dwInformationClass, LPVOID lpBuffer,
                              DWORD dwBufferSize, LPDWORD lpBytesReturned, PHANDLE lpVolumeFind)
{
    return find_first("FilterVolumeFindFirst", FIND_VOLUMES, NULL, (int)dwInformationClass,
                      lpBuffer, dwBufferSize, lpBytesReturned, lpVolumeFind);
}

HRESULT FilterVolumeFindNext(HANDLE hVolumeFind, FILTER_VOLUME_INFORMATION_CLASS dwInformationClass,
                             LPVOID lpBuffer, DWORD dwBufferSize, LPDWORD lpBytesReturned)
{
    return find_next_by_handle(hVolumeFind, FIND_VOLUMES, (int)dwInformationClass, lpBuffer,
                               dwBufferSize, lpBytesReturned);
}

HRESULT FilterVolumeFindClose(HANDLE hVolumeFind)
{
    return find_close(hVolumeFind, FIND_VOLUMES);
}

HRESULT FilterVolumeInstanceFindFirst(LPCWSTR lpVolumeName,
                                      INSTANCE_INFORMATION_CLASS dwInformationClass,
                                      LPVOID lpBuffer, DWORD dwBufferSize, LPDWORD lpBytesReturned,
                                      LPHANDLE lpVolumeInstanceFind)
{
    return find_first("FilterVolumeInstanceFindFirst", FIND_INSTANCES, lpVolumeName,
                      (int)dwInformationClass, lpBuffer, dwBufferSize, lpBytesReturned,
                      lpVolumeInstanceFind);
}

HRESULT FilterVolumeInstanceFindNext(HANDLE hVolumeInstanceFind,
                                     INSTANCE_INFORMATION_CLASS dwInformationClass, LPVOID lpBuffer,
                                     DWORD dwBufferSize, LPDWORD lpBytesReturned)
{
    return find_next_by_handle(hVolumeInstanceFind, FIND_INSTANCES, (int)dwInformationClass,
                               lpBuffer, dwBufferSize, lpBytesReturned);
}

HRESULT FilterVolumeInstanceFindClose(HANDLE hVolumeInstanceFind)
{
    return find_close(hVolumeInstanceFind, FIND_INSTANCES);
}

HRESULT FilterInstanceFindFirst(LPCWSTR lpFilterName, INSTANCE_INFORMATION_CLASS dwInformationClass,
                                LPVOID lpBuffer, DWORD dwBufferSize, LPDWORD lpBytesReturned,
                                LPHANDLE lpFilterInstanceFind)
{
    return find_first("FilterInstanceFindFirst", FIND_FILTER_INSTANCES, lpFilterName,
                      (int)dwInformationClass, lpBuffer, dwBufferSize, lpBytesReturned,
                      lpFilterInstanceFind);
}

HRESULT FilterInstanceFindNext(HANDLE hFilterInstanceFind,
                               INSTANCE_INFORMATION_CLASS dwInformationClass, LPVOID lpBuffer,
                               DWORD dwBufferSize, LPDWORD lpBytesReturned)
{
    return find_next_by_handle(hFilterInstanceFind, FIND_FILTER_INSTANCES, (int)dwInformationClass,
                               lpBuffer, dwBufferSize, lpBytesReturned);
}

HRESULT FilterInstanceFindClose(HANDLE hFilterInstanceFind)
{
    return find_close(hFilterInstanceFind, FIND_FILTER_INSTANCES);
}

HRESULT FilterGetDosName(LPCWSTR lpVolumeName, LPWSTR lpDosName, DWORD dwDosNameBufferSize)
{
    if (lpVolumeName == NULL || lpDosName == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    fltsim_system *sys = fltsim__w32_fltlib_system("FilterGetDosName");
    if (sys == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    uv_mutex_lock(&sys->lock);
    struct _FLT_VOLUME *v = volume_by_name_locked(sys, lpVolumeName);
    WCHAR letter = v != NULL ? v->drive_letter : 0;
    uv_mutex_unlock(&sys->lock);
    if (letter == 0) /* no such volume, or one without a drive letter */
        return HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND);
    if (dwDosNameBufferSize < 3)
        return HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER);
    lpDosName[0] = letter;
    lpDosName[1] = L':';
    lpDosName[2] = 0;
    return S_OK;
}

/* ---- FilterAttach / FilterDetach ---- */

struct attach_call {
    PFLT_FILTER filter;
    PFLT_VOLUME volume;
    PCUNICODE_STRING instance_name; /* NULL: the default instance (attach), the highest (detach) */
    bool detach;
    NTSTATUS status;
    WCHAR created[NAME_MAX_CHARS];
    USHORT created_len;
};

/* Runs as the filter's code (fltsim_driver_call): the references handed out
 * are charged to it and dropped here. */
static void attach_in_filter(void *ctx)
{
    struct attach_call *c = ctx;
    if (c->detach) {
        c->status = FltDetachVolume(c->filter, c->volume, c->instance_name);
        return;
    }
    PFLT_INSTANCE inst = NULL;
    c->status = FltAttachVolume(c->filter, c->volume, c->instance_name, &inst);
    if (NT_SUCCESS(c->status) && inst != NULL) {
        c->created_len = copy_us(c->created, NAME_MAX_CHARS, &inst->name);
        FltObjectDereference(inst);
    }
}

/* sys->lock held: the registered filter whose service name is name, or NULL. */
static struct _FLT_FILTER *filter_by_name_locked(fltsim_system *sys, LPCWSTR name)
{
    UNICODE_STRING want;
    RtlInitUnicodeString(&want, name);
    for (PLIST_ENTRY e = sys->filters.Flink; e != &sys->filters; e = e->Flink) {
        struct _FLT_FILTER *f = CONTAINING_RECORD(e, struct _FLT_FILTER, link);
        LONG state = __atomic_load_n(&f->state, __ATOMIC_ACQUIRE);
        if ((state == FLTSIM_FILTER_REGISTERED || state == FLTSIM_FILTER_STARTED) &&
            f->driver != NULL && fltsim__ustr_equal_ci(&f->driver->service_name, &want))
            return f;
    }
    return NULL;
}

#define HRESULT_FLT_FILTER_NOT_FOUND ((HRESULT)0x801F0013L) /* ERROR_FLT_FILTER_NOT_FOUND */
#define HRESULT_FLT_VOLUME_NOT_FOUND ((HRESULT)0x801F0014L) /* ERROR_FLT_VOLUME_NOT_FOUND */

static HRESULT attach_or_detach(const char *api, struct attach_call *c, LPCWSTR filter_name,
                                LPCWSTR volume_name)
{
    if (filter_name == NULL || volume_name == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    fltsim_system *sys = fltsim__w32_fltlib_system(api);
    if (sys == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    uv_mutex_lock(&sys->lock);
    struct _FLT_FILTER *f = filter_by_name_locked(sys, filter_name);
    struct _FLT_VOLUME *v = volume_by_name_locked(sys, volume_name);
    if (f != NULL)
        fltsim__filter_ref(f);
    if (v != NULL)
        fltsim__volume_ref(v);
    uv_mutex_unlock(&sys->lock);
    HRESULT hr = f == NULL   ? HRESULT_FLT_FILTER_NOT_FOUND
                 : v == NULL ? HRESULT_FLT_VOLUME_NOT_FOUND
                             : S_OK;
    bool f_run = false, v_run = false;
    if (SUCCEEDED(hr)) {
        f_run = NT_SUCCESS(fltsim__object_reference(f));
        v_run = f_run && NT_SUCCESS(fltsim__object_reference(v));
        hr = !f_run ? HRESULT_FLT_FILTER_NOT_FOUND : !v_run ? HRESULT_FLT_VOLUME_NOT_FOUND : S_OK;
    }
    if (SUCCEEDED(hr)) {
        c->filter = f;
        c->volume = v;
        NTSTATUS status = fltsim_driver_call(f->driver, attach_in_filter, c);
        if (!NT_SUCCESS(status))
            c->status = status;
        hr = NT_SUCCESS(c->status) ? S_OK : fltsim__hresult_of(c->status);
    }
    if (v_run)
        fltsim__object_dereference(v);
    if (f_run)
        fltsim__object_dereference(f);
    if (v != NULL)
        fltsim__volume_unref(v);
    if (f != NULL)
        fltsim__filter_unref(f);
    return hr;
}

HRESULT FilterAttach(LPCWSTR lpFilterName, LPCWSTR lpVolumeName, LPCWSTR lpInstanceName,
                     DWORD dwCreatedInstanceNameLength, LPWSTR lpCreatedInstanceName)
{
    UNICODE_STRING name;
    if (lpInstanceName != NULL)
        RtlInitUnicodeString(&name, lpInstanceName);
    struct attach_call c = {.instance_name = lpInstanceName != NULL ? &name : NULL};
    HRESULT hr = attach_or_detach("FilterAttach", &c, lpFilterName, lpVolumeName);
    if (FAILED(hr) || lpCreatedInstanceName == NULL)
        return hr;
    /* The instance is attached; its name is given when it fits (bytes, NUL included). */
    if (dwCreatedInstanceNameLength < (c.created_len + 1u) * sizeof(WCHAR))
        return HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER);
    memcpy(lpCreatedInstanceName, c.created, c.created_len * sizeof(WCHAR));
    lpCreatedInstanceName[c.created_len] = 0;
    return S_OK;
}

HRESULT FilterDetach(LPCWSTR lpFilterName, LPCWSTR lpVolumeName, LPCWSTR lpInstanceName)
{
    UNICODE_STRING name;
    if (lpInstanceName != NULL)
        RtlInitUnicodeString(&name, lpInstanceName);
    struct attach_call c = {.instance_name = lpInstanceName != NULL ? &name : NULL, .detach = true};
    return attach_or_detach("FilterDetach", &c, lpFilterName, lpVolumeName);
}

/* ---- FilterLoad / FilterUnload ---- */

/* The model keeps no catalog of driver images: a service it has not loaded
 * cannot be started by name. */
HRESULT FilterLoad(LPCWSTR lpFilterName)
{
    if (lpFilterName == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    fltsim_system *sys = fltsim__w32_fltlib_system("FilterLoad");
    if (sys == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    if (fltsim_driver_find(sys, lpFilterName) != NULL)
        return HRESULT_FROM_WIN32(ERROR_SERVICE_ALREADY_RUNNING);
    return HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND);
}

/* As `fltmc unload`: not mandatory, so the filter's unload callback may refuse. */
HRESULT FilterUnload(LPCWSTR lpFilterName)
{
    if (lpFilterName == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    fltsim_system *sys = fltsim__w32_fltlib_system("FilterUnload");
    if (sys == NULL)
        return HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER);
    fltsim_driver *drv = fltsim_driver_find(sys, lpFilterName);
    if (drv == NULL)
        return HRESULT_FLT_FILTER_NOT_FOUND;
    NTSTATUS status = fltsim_driver_unload(drv, 0);
    return NT_SUCCESS(status) ? S_OK : fltsim__hresult_of(status);
}
