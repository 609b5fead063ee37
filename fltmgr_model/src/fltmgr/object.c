/*
 * Filter, volume and instance objects: their memory references, the rundown
 * references filters hold on them (FltObjectReference and every Get/Enumerate
 * routine), and the lookups between them (SPEC 2.4-2.6, R-OBJREF). A rundown
 * reference on a filter keeps FltUnregisterFilter waiting; on an instance or a
 * volume it only keeps the object's memory (SPEC 2.6 step 5).
 */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

bool fltsim__is_filter(const void *p)
{
    return p != NULL && ((const struct fltsim_object *)p)->magic == FLTSIM_MAGIC_FILTER;
}

bool fltsim__is_volume(const void *p)
{
    return p != NULL && ((const struct fltsim_object *)p)->magic == FLTSIM_MAGIC_VOLUME;
}

bool fltsim__is_instance(const void *p)
{
    return p != NULL && ((const struct fltsim_object *)p)->magic == FLTSIM_MAGIC_INSTANCE;
}

/* ---- memory references ---- */

void fltsim__filter_ref(struct _FLT_FILTER *f)
{
    __atomic_add_fetch(&f->obj.refs, 1, __ATOMIC_SEQ_CST);
}

void fltsim__filter_unref(struct _FLT_FILTER *f)
{
    if (__atomic_sub_fetch(&f->obj.refs, 1, __ATOMIC_SEQ_CST) != 0)
        return;
    f->obj.magic = FLTSIM_MAGIC_DEAD;
    free(f->contexts);
    free(f);
}

void fltsim__volume_ref(struct _FLT_VOLUME *v)
{
    __atomic_add_fetch(&v->obj.refs, 1, __ATOMIC_SEQ_CST);
}

void fltsim__volume_unref(struct _FLT_VOLUME *v)
{
    if (__atomic_sub_fetch(&v->obj.refs, 1, __ATOMIC_SEQ_CST) != 0)
        return;
    v->obj.magic = FLTSIM_MAGIC_DEAD;
    fltsim__ustr_free(&v->device_name);
    free(v->offered);
    free(v);
}

void fltsim__instance_ref(struct _FLT_INSTANCE *i)
{
    __atomic_add_fetch(&i->obj.refs, 1, __ATOMIC_SEQ_CST);
}

void fltsim__instance_unref(struct _FLT_INSTANCE *i)
{
    if (__atomic_sub_fetch(&i->obj.refs, 1, __ATOMIC_SEQ_CST) != 0)
        return;
    fltsim__names_forget_instance(i);
    i->obj.magic = FLTSIM_MAGIC_DEAD;
    struct _FLT_FILTER *filter = i->filter;
    struct _FLT_VOLUME *volume = i->volume;
    fltsim__ustr_free(&i->name);
    free(i);
    fltsim__volume_unref(volume);
    fltsim__filter_unref(filter);
}

/* ---- rundown references (what filters hold) ---- */

static fltsim_system *object_system(const void *object)
{
    if (fltsim__is_filter(object))
        return ((const struct _FLT_FILTER *)object)->sys;
    if (fltsim__is_volume(object))
        return ((const struct _FLT_VOLUME *)object)->sys;
    if (fltsim__is_instance(object))
        return ((const struct _FLT_INSTANCE *)object)->volume->sys;
    return NULL;
}

/* sys->lock held. Whether a new rundown reference may be taken. */
static bool object_alive_locked(const void *object)
{
    if (fltsim__is_filter(object)) {
        LONG state = ((const struct _FLT_FILTER *)object)->state;
        return state == FLTSIM_FILTER_REGISTERED || state == FLTSIM_FILTER_STARTED;
    }
    if (fltsim__is_volume(object))
        return !((const struct _FLT_VOLUME *)object)->dismounting;
    LONG state = ((const struct _FLT_INSTANCE *)object)->state;
    return state == FLTSIM_INSTANCE_INITING || state == FLTSIM_INSTANCE_ATTACHED;
}

NTSTATUS fltsim__object_reference(void *object)
{
    fltsim_system *sys = object_system(object);
    if (sys == NULL)
        return STATUS_INVALID_PARAMETER;
    uv_mutex_lock(&sys->lock);
    if (!object_alive_locked(object)) {
        uv_mutex_unlock(&sys->lock);
        return STATUS_FLT_DELETING_OBJECT;
    }
    struct fltsim_object *o = object;
    __atomic_add_fetch(&o->rundown, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&o->refs, 1, __ATOMIC_SEQ_CST);
    uv_mutex_unlock(&sys->lock);
    return STATUS_SUCCESS;
}

/* SPEC 10 (V28): the IRQL ceiling of an object routine, checked against the
 * system whose filter code runs on this thread. */
static void irql_ceiling(KIRQL max_irql, const char *api)
{
    fltsim__check_irql(fltsim__tls()->sys, max_irql, api);
}

/* The driver whose code runs on this thread, or NULL. */
static struct fltsim_driver *current_driver(void)
{
    struct fltsim_tls *t = fltsim__tls();
    if (t->sys == NULL)
        return NULL;
    return t->filter != NULL ? t->filter->driver : t->loading;
}

void fltsim__object_refs_handed(LONG n)
{
    struct fltsim_driver *drv = current_driver();
    if (drv != NULL && n > 0)
        __atomic_add_fetch(&drv->object_refs, n, __ATOMIC_SEQ_CST);
}

NTSTATUS FltObjectReference(PVOID FltObject)
{
    irql_ceiling(DISPATCH_LEVEL, "FltObjectReference");
    NTSTATUS status = fltsim__object_reference(FltObject);
    if (NT_SUCCESS(status))
        fltsim__object_refs_handed(1);
    if (status == STATUS_INVALID_PARAMETER) {
        struct fltsim_tls *t = fltsim__tls();
        if (t->sys != NULL)
            fltsim__report(t->sys, t->filter, NULL, t->op, "V23", "2.6",
                           "FltObjectReference(%p): not a filter, volume or instance object",
                           FltObject);
    }
    return status;
}

void FltObjectDereference(PVOID FltObject)
{
    irql_ceiling(DISPATCH_LEVEL, "FltObjectDereference");
    struct fltsim_driver *drv = object_system(FltObject) != NULL ? current_driver() : NULL;
    if (drv != NULL) {
        /* A reference another driver's code took may be dropped here: the
         * count stays at zero rather than going negative. */
        LONG held = __atomic_load_n(&drv->object_refs, __ATOMIC_SEQ_CST);
        while (held > 0 && !__atomic_compare_exchange_n(&drv->object_refs, &held, held - 1, false,
                                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        }
    }
    fltsim__object_dereference(FltObject);
}

void fltsim__object_dereference(void *FltObject)
{
    fltsim_system *sys = object_system(FltObject);
    if (sys == NULL) {
        struct fltsim_tls *t = fltsim__tls();
        if (t->sys != NULL)
            fltsim__report(t->sys, t->filter, NULL, t->op, "V23", "2.6",
                           "FltObjectDereference(%p): not a filter, volume or instance object",
                           FltObject);
        else
            fprintf(stderr, "fltsim: FltObjectDereference(%p) of an unknown object\n", FltObject);
        return;
    }
    struct fltsim_object *o = FltObject;
    LONG left = __atomic_sub_fetch(&o->rundown, 1, __ATOMIC_SEQ_CST);
    if (left < 0) {
        __atomic_add_fetch(&o->rundown, 1, __ATOMIC_SEQ_CST);
        struct fltsim_tls *t = fltsim__tls();
        fltsim__report(sys, t->filter, NULL, t->op, "V23", "2.6",
                       "FltObjectDereference(%p) without a matching reference; ignored", FltObject);
        return;
    }
    if (left == 0)
        fltsim__broadcast(sys); /* FltUnregisterFilter may be waiting */
    if (fltsim__is_filter(FltObject))
        fltsim__filter_unref(FltObject);
    else if (fltsim__is_volume(FltObject))
        fltsim__volume_unref(FltObject);
    else
        fltsim__instance_unref(FltObject);
}

/* ---- lookups ---- */

static NTSTATUS hand_out(void *object, void **out)
{
    NTSTATUS status = fltsim__object_reference(object);
    *out = NT_SUCCESS(status) ? object : NULL;
    if (NT_SUCCESS(status))
        fltsim__object_refs_handed(1);
    return status;
}

NTSTATUS FltGetVolumeFromInstance(PFLT_INSTANCE Instance, PFLT_VOLUME *RetVolume)
{
    irql_ceiling(APC_LEVEL, "FltGetVolumeFromInstance");
    if (!fltsim__is_instance(Instance) || RetVolume == NULL)
        return STATUS_INVALID_PARAMETER;
    return hand_out(Instance->volume, (void **)RetVolume);
}

NTSTATUS FltGetFilterFromInstance(PFLT_INSTANCE Instance, PFLT_FILTER *RetFilter)
{
    irql_ceiling(APC_LEVEL, "FltGetFilterFromInstance");
    if (!fltsim__is_instance(Instance) || RetFilter == NULL)
        return STATUS_INVALID_PARAMETER;
    return hand_out(Instance->filter, (void **)RetFilter);
}

/* Strips the forms a volume name can take: "\??\C:", "C:", "C:\", a device
 * name with or without a trailing backslash. */
static PFLT_VOLUME volume_by_name_locked(fltsim_system *sys, PCUNICODE_STRING name)
{
    UNICODE_STRING n = *name;
    size_t count = n.Length / sizeof(WCHAR);
    if (count >= 4 && n.Buffer[0] == L'\\' && n.Buffer[1] == L'?' && n.Buffer[2] == L'?' &&
        n.Buffer[3] == L'\\') {
        n.Buffer += 4;
        count -= 4;
    }
    if (count > 1 && n.Buffer[count - 1] == L'\\')
        count--;
    n.Length = n.MaximumLength = (USHORT)(count * sizeof(WCHAR));

    bool drive = count == 2 && n.Buffer[1] == L':';
    for (PLIST_ENTRY e = sys->volumes.Flink; e != &sys->volumes; e = e->Flink) {
        PFLT_VOLUME v = CONTAINING_RECORD(e, struct _FLT_VOLUME, link);
        if (v->dismounting)
            continue;
        if (drive) {
            if (v->drive_letter != 0 &&
                RtlUpcaseUnicodeChar(v->drive_letter) == RtlUpcaseUnicodeChar(n.Buffer[0]))
                return v;
        } else if (fltsim__ustr_equal_ci(&v->device_name, &n)) {
            return v;
        }
    }
    return NULL;
}

PFLT_VOLUME fltsim_volume_find(fltsim_system *sys, PCWSTR name)
{
    if (sys == NULL || name == NULL)
        return NULL;
    UNICODE_STRING n;
    RtlInitUnicodeString(&n, name);
    uv_mutex_lock(&sys->lock);
    PFLT_VOLUME v = volume_by_name_locked(sys, &n);
    uv_mutex_unlock(&sys->lock);
    return v;
}

NTSTATUS FltGetVolumeFromName(PFLT_FILTER Filter, PCUNICODE_STRING VolumeName,
                              PFLT_VOLUME *RetVolume)
{
    irql_ceiling(PASSIVE_LEVEL, "FltGetVolumeFromName");
    if (!fltsim__is_filter(Filter) || VolumeName == NULL || VolumeName->Buffer == NULL ||
        RetVolume == NULL)
        return STATUS_INVALID_PARAMETER;
    *RetVolume = NULL;
    fltsim_system *sys = Filter->sys;
    uv_mutex_lock(&sys->lock);
    PFLT_VOLUME v = volume_by_name_locked(sys, VolumeName);
    uv_mutex_unlock(&sys->lock);
    if (v == NULL)
        return STATUS_FLT_VOLUME_NOT_FOUND;
    return hand_out(v, (void **)RetVolume);
}

NTSTATUS FltGetVolumeFromFileObject(PFLT_FILTER Filter, PFILE_OBJECT FileObject,
                                    PFLT_VOLUME *RetVolume)
{
    irql_ceiling(APC_LEVEL, "FltGetVolumeFromFileObject");
    if (!fltsim__is_filter(Filter) || FileObject == NULL || RetVolume == NULL)
        return STATUS_INVALID_PARAMETER;
    *RetVolume = NULL;
    PFLT_VOLUME v = fltsim_volume_of_file_object(FileObject);
    if (v == NULL)
        return STATUS_INVALID_PARAMETER;
    return hand_out(v, (void **)RetVolume);
}

NTSTATUS FltGetVolumeInstanceFromName(PFLT_FILTER Filter, PFLT_VOLUME Volume,
                                      PCUNICODE_STRING InstanceName, PFLT_INSTANCE *RetInstance)
{
    irql_ceiling(APC_LEVEL, "FltGetVolumeInstanceFromName");
    if ((Filter != NULL && !fltsim__is_filter(Filter)) ||
        (Volume != NULL && !fltsim__is_volume(Volume)) || RetInstance == NULL ||
        (Filter == NULL && Volume == NULL))
        return STATUS_INVALID_PARAMETER;
    *RetInstance = NULL;
    fltsim_system *sys = Filter != NULL ? Filter->sys : Volume->sys;
    PFLT_INSTANCE found = NULL;
    uv_mutex_lock(&sys->lock);
    for (PLIST_ENTRY ve = sys->volumes.Flink; ve != &sys->volumes && found == NULL;
         ve = ve->Flink) {
        PFLT_VOLUME v = CONTAINING_RECORD(ve, struct _FLT_VOLUME, link);
        if (Volume != NULL && v != Volume)
            continue;
        for (PLIST_ENTRY e = v->instances.Flink; e != &v->instances; e = e->Flink) {
            PFLT_INSTANCE i = CONTAINING_RECORD(e, struct _FLT_INSTANCE, volume_link);
            if (i->state != FLTSIM_INSTANCE_ATTACHED || (Filter != NULL && i->filter != Filter))
                continue;
            if (InstanceName != NULL && !fltsim__ustr_equal_ci(&i->name, InstanceName))
                continue;
            found = i;
            break;
        }
    }
    uv_mutex_unlock(&sys->lock);
    if (found == NULL)
        return STATUS_FLT_INSTANCE_NOT_FOUND;
    return hand_out(found, (void **)RetInstance);
}

NTSTATUS FltGetFilterFromName(PCUNICODE_STRING FilterName, PFLT_FILTER *RetFilter)
{
    irql_ceiling(APC_LEVEL, "FltGetFilterFromName");
    if (FilterName == NULL || RetFilter == NULL)
        return STATUS_INVALID_PARAMETER;
    *RetFilter = NULL;
    /* Filters are named within their system; the system is the one whose
     * code runs on this thread (a filter calling from a callback). */
    fltsim_system *sys = fltsim__tls()->sys;
    if (sys == NULL)
        return STATUS_FLT_FILTER_NOT_FOUND;
    PFLT_FILTER found = NULL;
    uv_mutex_lock(&sys->lock);
    for (PLIST_ENTRY e = sys->filters.Flink; e != &sys->filters; e = e->Flink) {
        PFLT_FILTER f = CONTAINING_RECORD(e, struct _FLT_FILTER, link);
        if (fltsim__ustr_equal_ci(&f->driver->service_name, FilterName)) {
            found = f;
            break;
        }
    }
    uv_mutex_unlock(&sys->lock);
    if (found == NULL)
        return STATUS_FLT_FILTER_NOT_FOUND;
    return hand_out(found, (void **)RetFilter);
}

/* sys->lock held. The attached neighbour of from (or the end of the list when
 * from is NULL) in the given direction. */
static PFLT_INSTANCE attached_neighbour_locked(PFLT_VOLUME v, PFLT_INSTANCE from, bool upward)
{
    PLIST_ENTRY e = from == NULL ? (upward ? v->instances.Blink : v->instances.Flink)
                                 : (upward ? from->volume_link.Blink : from->volume_link.Flink);
    for (; e != &v->instances; e = upward ? e->Blink : e->Flink) {
        PFLT_INSTANCE i = CONTAINING_RECORD(e, struct _FLT_INSTANCE, volume_link);
        if (i->state == FLTSIM_INSTANCE_ATTACHED)
            return i;
    }
    return NULL;
}

static NTSTATUS neighbour(PFLT_VOLUME v, PFLT_INSTANCE from, bool upward, PFLT_INSTANCE *out)
{
    if (out == NULL)
        return STATUS_INVALID_PARAMETER;
    *out = NULL;
    uv_mutex_lock(&v->sys->lock);
    PFLT_INSTANCE i = attached_neighbour_locked(v, from, upward);
    uv_mutex_unlock(&v->sys->lock);
    if (i == NULL)
        return STATUS_NO_MORE_ENTRIES;
    return hand_out(i, (void **)out);
}

/* The volume's list runs from the highest altitude (Flink side) to the lowest. */
NTSTATUS FltGetTopInstance(PFLT_VOLUME Volume, PFLT_INSTANCE *Instance)
{
    irql_ceiling(APC_LEVEL, "FltGetTopInstance");
    if (!fltsim__is_volume(Volume))
        return STATUS_INVALID_PARAMETER;
    return neighbour(Volume, NULL, false, Instance);
}

NTSTATUS FltGetBottomInstance(PFLT_VOLUME Volume, PFLT_INSTANCE *Instance)
{
    irql_ceiling(APC_LEVEL, "FltGetBottomInstance");
    if (!fltsim__is_volume(Volume))
        return STATUS_INVALID_PARAMETER;
    return neighbour(Volume, NULL, true, Instance);
}

NTSTATUS FltGetUpperInstance(PFLT_INSTANCE CurrentInstance, PFLT_INSTANCE *UpperInstance)
{
    irql_ceiling(APC_LEVEL, "FltGetUpperInstance");
    if (!fltsim__is_instance(CurrentInstance))
        return STATUS_INVALID_PARAMETER;
    return neighbour(CurrentInstance->volume, CurrentInstance, true, UpperInstance);
}

NTSTATUS FltGetLowerInstance(PFLT_INSTANCE CurrentInstance, PFLT_INSTANCE *LowerInstance)
{
    irql_ceiling(APC_LEVEL, "FltGetLowerInstance");
    if (!fltsim__is_instance(CurrentInstance))
        return STATUS_INVALID_PARAMETER;
    return neighbour(CurrentInstance->volume, CurrentInstance, false, LowerInstance);
}

/* Hands out up to size referenced objects from items; STATUS_BUFFER_TOO_SMALL
 * (nothing handed out) when they do not all fit. sys->lock held. */
static NTSTATUS hand_out_list_locked(void **items, ULONG count, void **list, ULONG size,
                                     PULONG returned)
{
    *returned = count;
    if (count > size || (count != 0 && list == NULL))
        return STATUS_BUFFER_TOO_SMALL;
    for (ULONG k = 0; k < count; k++) {
        struct fltsim_object *o = items[k];
        __atomic_add_fetch(&o->rundown, 1, __ATOMIC_SEQ_CST);
        __atomic_add_fetch(&o->refs, 1, __ATOMIC_SEQ_CST);
        list[k] = items[k];
    }
    fltsim__object_refs_handed((LONG)count);
    return STATUS_SUCCESS;
}

/* Collects objects into a growing array; false when out of memory. */
struct collect {
    void **items;
    ULONG count, capacity;
};

static bool collect_add(struct collect *c, void *item)
{
    if (c->count == c->capacity) {
        ULONG cap = c->capacity ? c->capacity * 2 : 16;
        void **grown = realloc(c->items, cap * sizeof(*grown));
        if (grown == NULL)
            return false;
        c->items = grown;
        c->capacity = cap;
    }
    c->items[c->count++] = item;
    return true;
}

NTSTATUS FltEnumerateFilters(PFLT_FILTER *FilterList, ULONG FilterListSize,
                             PULONG NumberFiltersReturned)
{
    irql_ceiling(APC_LEVEL, "FltEnumerateFilters");
    if (NumberFiltersReturned == NULL)
        return STATUS_INVALID_PARAMETER;
    fltsim_system *sys = fltsim__tls()->sys;
    *NumberFiltersReturned = 0;
    if (sys == NULL)
        return STATUS_SUCCESS;
    struct collect c = {0};
    NTSTATUS status = STATUS_SUCCESS;
    uv_mutex_lock(&sys->lock);
    for (PLIST_ENTRY e = sys->filters.Flink; e != &sys->filters; e = e->Flink) {
        PFLT_FILTER f = CONTAINING_RECORD(e, struct _FLT_FILTER, link);
        if (f->state != FLTSIM_FILTER_REGISTERED && f->state != FLTSIM_FILTER_STARTED)
            continue;
        if (!collect_add(&c, f)) {
            status = STATUS_INSUFFICIENT_RESOURCES;
            break;
        }
    }
    if (NT_SUCCESS(status))
        status = hand_out_list_locked(c.items, c.count, (void **)FilterList, FilterListSize,
                                      NumberFiltersReturned);
    uv_mutex_unlock(&sys->lock);
    free(c.items);
    return status;
}

NTSTATUS FltEnumerateVolumes(PFLT_FILTER Filter, PFLT_VOLUME *VolumeList, ULONG VolumeListSize,
                             PULONG NumberVolumesReturned)
{
    irql_ceiling(APC_LEVEL, "FltEnumerateVolumes");
    if (!fltsim__is_filter(Filter) || NumberVolumesReturned == NULL)
        return STATUS_INVALID_PARAMETER;
    fltsim_system *sys = Filter->sys;
    struct collect c = {0};
    NTSTATUS status = STATUS_SUCCESS;
    uv_mutex_lock(&sys->lock);
    for (PLIST_ENTRY e = sys->volumes.Flink; e != &sys->volumes; e = e->Flink) {
        PFLT_VOLUME v = CONTAINING_RECORD(e, struct _FLT_VOLUME, link);
        if (v->dismounting)
            continue;
        if (!collect_add(&c, v)) {
            status = STATUS_INSUFFICIENT_RESOURCES;
            break;
        }
    }
    if (NT_SUCCESS(status))
        status = hand_out_list_locked(c.items, c.count, (void **)VolumeList, VolumeListSize,
                                      NumberVolumesReturned);
    uv_mutex_unlock(&sys->lock);
    free(c.items);
    return status;
}

NTSTATUS FltEnumerateInstances(PFLT_VOLUME Volume, PFLT_FILTER Filter, PFLT_INSTANCE *InstanceList,
                               ULONG InstanceListSize, PULONG NumberInstancesReturned)
{
    irql_ceiling(APC_LEVEL, "FltEnumerateInstances");
    if ((Volume != NULL && !fltsim__is_volume(Volume)) ||
        (Filter != NULL && !fltsim__is_filter(Filter)) || (Volume == NULL && Filter == NULL) ||
        NumberInstancesReturned == NULL)
        return STATUS_INVALID_PARAMETER;
    fltsim_system *sys = Volume != NULL ? Volume->sys : Filter->sys;
    struct collect c = {0};
    NTSTATUS status = STATUS_SUCCESS;
    uv_mutex_lock(&sys->lock);
    for (PLIST_ENTRY ve = sys->volumes.Flink; ve != &sys->volumes && NT_SUCCESS(status);
         ve = ve->Flink) {
        PFLT_VOLUME v = CONTAINING_RECORD(ve, struct _FLT_VOLUME, link);
        if (Volume != NULL && v != Volume)
            continue;
        for (PLIST_ENTRY e = v->instances.Flink; e != &v->instances; e = e->Flink) {
            PFLT_INSTANCE i = CONTAINING_RECORD(e, struct _FLT_INSTANCE, volume_link);
            if (i->state != FLTSIM_INSTANCE_ATTACHED || (Filter != NULL && i->filter != Filter))
                continue;
            if (!collect_add(&c, i)) {
                status = STATUS_INSUFFICIENT_RESOURCES;
                break;
            }
        }
    }
    if (NT_SUCCESS(status))
        status = hand_out_list_locked(c.items, c.count, (void **)InstanceList, InstanceListSize,
                                      NumberInstancesReturned);
    uv_mutex_unlock(&sys->lock);
    free(c.items);
    return status;
}

LONG FltCompareInstanceAltitudes(PFLT_INSTANCE Instance1, PFLT_INSTANCE Instance2)
{
    irql_ceiling(DISPATCH_LEVEL, "FltCompareInstanceAltitudes");
    if (!fltsim__is_instance(Instance1) || !fltsim__is_instance(Instance2))
        return 0;
    /* Zero for the same instance and for instances on different volumes (SPEC 2.1). */
    if (Instance1 == Instance2 || Instance1->volume != Instance2->volume)
        return 0;
    return fltsim__altitude_compare(&Instance1->altitude, &Instance2->altitude);
}

NTSTATUS FltGetVolumeName(PFLT_VOLUME Volume, PUNICODE_STRING VolumeName, PULONG BufferSizeNeeded)
{
    irql_ceiling(APC_LEVEL, "FltGetVolumeName");
    if (!fltsim__is_volume(Volume))
        return STATUS_INVALID_PARAMETER;
    USHORT needed = Volume->device_name.Length;
    if (BufferSizeNeeded != NULL)
        *BufferSizeNeeded = needed;
    if (VolumeName == NULL || VolumeName->MaximumLength < needed)
        return STATUS_BUFFER_TOO_SMALL;
    memcpy(VolumeName->Buffer, Volume->device_name.Buffer, needed);
    VolumeName->Length = needed;
    return STATUS_SUCCESS;
}

NTSTATUS FltGetFileSystemType(PVOID FltObject, PFLT_FILESYSTEM_TYPE FileSystemType)
{
    irql_ceiling(APC_LEVEL, "FltGetFileSystemType");
    if (FileSystemType == NULL)
        return STATUS_INVALID_PARAMETER;
    if (fltsim__is_volume(FltObject)) {
        *FileSystemType = ((PFLT_VOLUME)FltObject)->fs_type;
        return STATUS_SUCCESS;
    }
    if (fltsim__is_instance(FltObject)) {
        *FileSystemType = ((PFLT_INSTANCE)FltObject)->volume->fs_type;
        return STATUS_SUCCESS;
    }
    return STATUS_INVALID_PARAMETER;
}
