/*
 * Sections for data scans: FltRegisterForDataScan (per instance),
 * FltCreateSectionForDataScan (a section over the file's data as the file
 * system holds it when the section is made, read below the instance; a
 * kernel handle, or one of the calling program's process, and a referenced
 * object pointer), FltCloseSectionForDataScan, and the views of sections,
 * ZwMapViewOfSection / ZwUnmapViewOfSection: memory of the one address space
 * holding a copy of the data, read-only when asked (mprotect), tracked per
 * (system, process id) and freed at unmap or at the process's end. Kernel
 * section handles live in this file's own table. The section is a snapshot:
 * a write to the file after it was made does not show in it, and fltsim does
 * not call the SectionNotificationCallback (conflicting I/O is not modeled).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "section_internal.h"
#include "win32/win32_internal.h"

#define SECTION_MAGIC 0x54434553u /* "SECT" */
#define PAGE_BYTES 4096u
#define GRANULARITY (64u * 1024u)
#define SECTION_MAX_BYTES ((ULONG64)1 << 30)
/* Kernel handles have the sign bit set, as the registry's; sections' start
 * here so that they never meet a key handle's value. */
#define KERNEL_HANDLE_BASE (~(ULONG_PTR)0x7fffffff + 0x40000000u)

struct fltsim_section {
    ULONG magic;
    LONG refs; /* sec_lock */
    fltsim_system *sys;
    struct _FLT_FILTER *filter; /* NULL once FltCloseSectionForDataScan ran */
    PFLT_CONTEXT context;       /* the section context it is bound to (referenced), or NULL */
    HANDLE kernel_handle;       /* its kernel handle while open, or NULL */
    bool writable;
    LIST_ENTRY link; /* sections */
    unsigned char *data;
    size_t size;
};

struct view {
    LIST_ENTRY link; /* views */
    fltsim_system *sys;
    ULONG pid;
    unsigned char *base;
    size_t size; /* mapped bytes (pages) */
    ULONG protect;
    struct fltsim_section *s;
};

struct registration {
    LIST_ENTRY link;
    fltsim_system *sys;
    const void *inst;
};

static uv_once_t sec_once = UV_ONCE_INIT;
static uv_mutex_t sec_lock;
static LIST_ENTRY sections, views, registrations;
static ULONG_PTR next_handle;

static void sec_init(void)
{
    if (uv_mutex_init(&sec_lock) != 0)
        abort();
    InitializeListHead(&sections);
    InitializeListHead(&views);
    InitializeListHead(&registrations);
}

static void lock(void)
{
    uv_once(&sec_once, sec_init);
    uv_mutex_lock(&sec_lock);
}

static void unlock(void)
{
    uv_mutex_unlock(&sec_lock);
}

/* sec_lock held: s is a live section. */
static bool live_locked(const void *s)
{
    for (PLIST_ENTRY e = sections.Flink; e != &sections; e = e->Flink)
        if (CONTAINING_RECORD(e, struct fltsim_section, link) == s)
            return true;
    return false;
}

/* sec_lock held: drops a reference; returns the section to free (unlinked)
 * when it was the last. */
static struct fltsim_section *unref_locked(struct fltsim_section *s)
{
    if (--s->refs > 0)
        return NULL;
    RemoveEntryList(&s->link);
    return s;
}

static void section_free(struct fltsim_section *s)
{
    if (s == NULL)
        return;
    free(s->data);
    s->magic = 0;
    free(s);
}

void fltsim__section_ref(struct fltsim_section *s)
{
    lock();
    s->refs++;
    unlock();
}

void fltsim__section_unref(struct fltsim_section *s)
{
    lock();
    struct fltsim_section *gone = unref_locked(s);
    unlock();
    section_free(gone);
}

/* ---- registration ---- */

void fltsim__data_scan_forget(const void *inst)
{
    lock();
    for (PLIST_ENTRY e = registrations.Flink; e != &registrations;) {
        struct registration *r = CONTAINING_RECORD(e, struct registration, link);
        e = e->Flink;
        if (r->inst == inst) {
            RemoveEntryList(&r->link);
            free(r);
        }
    }
    unlock();
}

static bool registered(const void *inst)
{
    bool found = false;
    lock();
    for (PLIST_ENTRY e = registrations.Flink; e != &registrations && !found; e = e->Flink)
        found = CONTAINING_RECORD(e, struct registration, link)->inst == inst;
    unlock();
    return found;
}

/* Whether inst is an instance attached now (its memory is valid then). */
static bool instance_valid(PFLT_INSTANCE inst)
{
    return inst != NULL && inst->obj.magic == FLTSIM_MAGIC_INSTANCE;
}

NTSTATUS FltRegisterForDataScan(PFLT_INSTANCE Instance)
{
    static const char api[] = "FltRegisterForDataScan";
    struct fltsim_tls *t = fltsim__tls();
    fltsim__check_irql(t->sys, APC_LEVEL, api);
    if (!instance_valid(Instance))
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: Instance %p is not an instance", api,
                            (void *)Instance);
    /* Data scans need the section synchronization of a local file system:
     * not on network redirectors, named pipes or mailslots. */
    DEVICE_TYPE type = Instance->volume->device_type;
    if (!Instance->volume->has_disk || type != FILE_DEVICE_DISK_FILE_SYSTEM)
        return fltsim__fail(STATUS_NOT_SUPPORTED,
                            "%s: volume %s is not a local disk file system; data scans are "
                            "not supported on it",
                            api, Instance->volume->name8);
    if (registered(Instance))
        return STATUS_SUCCESS;
    struct registration *r = malloc(sizeof(*r));
    if (r == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    r->sys = Instance->filter->sys;
    r->inst = Instance;
    lock();
    InsertTailList(&registrations, &r->link);
    unlock();
    return STATUS_SUCCESS;
}

/* ---- creating and closing ---- */

/* The file's data, read below Instance: its size in *size, malloc'd. */
static NTSTATUS read_file(PFLT_INSTANCE inst, PFILE_OBJECT fo, unsigned char **data, size_t *size)
{
    FILE_STANDARD_INFORMATION std;
    NTSTATUS status =
        FltQueryInformationFile(inst, fo, &std, sizeof(std), FileStandardInformation, NULL);
    if (!NT_SUCCESS(status))
        return status;
    if (std.Directory)
        return fltsim__fail(STATUS_INVALID_FILE_FOR_SECTION,
                            "FltCreateSectionForDataScan: the file object is a directory's");
    if (std.EndOfFile.QuadPart <= 0)
        return fltsim__fail(STATUS_MAPPED_FILE_SIZE_ZERO,
                            "FltCreateSectionForDataScan: the file is empty");
    if ((ULONG64)std.EndOfFile.QuadPart > SECTION_MAX_BYTES)
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES,
                            "FltCreateSectionForDataScan: the file (%lld bytes) is larger than "
                            "fltsim maps (1 GiB)",
                            (long long)std.EndOfFile.QuadPart);
    size_t want = (size_t)std.EndOfFile.QuadPart;
    unsigned char *buf = malloc(want);
    if (buf == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    LARGE_INTEGER offset = {.QuadPart = 0};
    ULONG got = 0;
    status = FltReadFile(inst, fo, &offset, (ULONG)want, buf,
                         FLTFL_IO_OPERATION_DO_NOT_UPDATE_BYTE_OFFSET, &got, NULL, NULL);
    if (!NT_SUCCESS(status) && status != STATUS_END_OF_FILE) {
        free(buf);
        return status;
    }
    *data = buf;
    *size = got;
    return STATUS_SUCCESS;
}

/* A kernel handle for s (one reference taken over), in the table. */
static HANDLE kernel_handle_locked(struct fltsim_section *s)
{
    next_handle += 4;
    s->kernel_handle = (HANDLE)(KERNEL_HANDLE_BASE + next_handle);
    return s->kernel_handle;
}

NTSTATUS FltCreateSectionForDataScan(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                     PFLT_CONTEXT SectionContext, ACCESS_MASK DesiredAccess,
                                     POBJECT_ATTRIBUTES ObjectAttributes,
                                     PLARGE_INTEGER MaximumSize, ULONG SectionPageProtection,
                                     ULONG AllocationAttributes, ULONG Flags, PHANDLE SectionHandle,
                                     PVOID *SectionObject, PLARGE_INTEGER SectionFileSize)
{
    static const char api[] = "FltCreateSectionForDataScan";
    (void)MaximumSize; /* reserved */
    struct fltsim_tls *t = fltsim__tls();
    fltsim__check_irql(t->sys, PASSIVE_LEVEL, api);
    if (SectionHandle != NULL)
        *SectionHandle = NULL;
    if (SectionObject != NULL)
        *SectionObject = NULL;
    if (!instance_valid(Instance))
        return fltsim__fail(STATUS_INVALID_PARAMETER_1, "%s: Instance %p is not an instance", api,
                            (void *)Instance);
    if (FileObject == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER_2, "%s: FileObject is NULL", api);
    if (!fltsim__context_is_section(SectionContext, Instance->filter))
        return fltsim__fail(STATUS_INVALID_PARAMETER_3,
                            "%s: SectionContext %p is not a section context of filter %s "
                            "(FltAllocateContext with FLT_SECTION_CONTEXT)",
                            api, SectionContext, Instance->filter->name8);
    if (SectionPageProtection != PAGE_READONLY && SectionPageProtection != PAGE_READWRITE)
        return fltsim__fail(STATUS_INVALID_PAGE_PROTECTION,
                            "%s: SectionPageProtection 0x%x: PAGE_READONLY or PAGE_READWRITE", api,
                            (unsigned)SectionPageProtection);
    if (AllocationAttributes == 0 || (AllocationAttributes & SEC_IMAGE))
        return fltsim__fail(STATUS_INVALID_PARAMETER_8,
                            "%s: AllocationAttributes 0x%x (SEC_COMMIT expected)", api,
                            (unsigned)AllocationAttributes);
    if (Flags != 0)
        return fltsim__fail(STATUS_INVALID_PARAMETER_9, "%s: Flags 0x%x must be 0", api,
                            (unsigned)Flags);
    if (SectionHandle == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER_10, "%s: SectionHandle is NULL", api);
    if (!registered(Instance))
        return fltsim__fail(STATUS_NOT_SUPPORTED,
                            "%s: instance %s did not call FltRegisterForDataScan", api,
                            Instance->name8);
    lock();
    bool bound = false;
    for (PLIST_ENTRY e = sections.Flink; e != &sections && !bound; e = e->Flink)
        bound = CONTAINING_RECORD(e, struct fltsim_section, link)->context == SectionContext;
    unlock();
    if (bound)
        return fltsim__fail(STATUS_INVALID_PARAMETER_3,
                            "%s: SectionContext %p has a section already "
                            "(FltCloseSectionForDataScan closes it)",
                            api, SectionContext);

    struct fltsim_section *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    NTSTATUS status = read_file(Instance, FileObject, &s->data, &s->size);
    if (!NT_SUCCESS(status)) {
        free(s);
        return status;
    }
    s->magic = SECTION_MAGIC;
    s->sys = Instance->filter->sys;
    s->filter = Instance->filter;
    s->writable = SectionPageProtection == PAGE_READWRITE && (DesiredAccess & SECTION_MAP_WRITE);
    FltReferenceContext(SectionContext);
    s->context = SectionContext;
    s->refs = 1; /* the binding to the context, until FltCloseSectionForDataScan */

    /* A kernel handle with OBJ_KERNEL_HANDLE, or from code that runs on no
     * program's thread (no process table of its own in fltsim); else a
     * handle of the calling program's process. */
    bool kernel =
        (ObjectAttributes != NULL && (ObjectAttributes->Attributes & OBJ_KERNEL_HANDLE)) ||
        fltsim__w32_self() == NULL;
    HANDLE h = NULL;
    lock();
    InsertTailList(&sections, &s->link);
    s->refs++; /* the handle's */
    if (kernel)
        h = kernel_handle_locked(s);
    if (SectionObject != NULL)
        s->refs++;
    unlock();
    if (!kernel) {
        h = fltsim__w32_section_handle(s, (DesiredAccess & SECTION_MAP_READ) != 0);
        if (h == NULL) {
            if (SectionObject != NULL)
                fltsim__section_unref(s);
            s->context = NULL;
            fltsim__section_unref(s);
            FltReleaseContext(SectionContext);
            return STATUS_INSUFFICIENT_RESOURCES;
        }
    }
    *SectionHandle = h;
    if (SectionObject != NULL)
        *SectionObject = s;
    if (SectionFileSize != NULL)
        SectionFileSize->QuadPart = (LONGLONG)s->size;
    return STATUS_SUCCESS;
}

NTSTATUS FltCloseSectionForDataScan(PFLT_CONTEXT SectionContext)
{
    static const char api[] = "FltCloseSectionForDataScan";
    struct fltsim_tls *t = fltsim__tls();
    fltsim__check_irql(t->sys, PASSIVE_LEVEL, api);
    struct fltsim_section *s = NULL, *gone = NULL, *gone_handle = NULL;
    lock();
    for (PLIST_ENTRY e = sections.Flink; e != &sections && s == NULL; e = e->Flink) {
        struct fltsim_section *c = CONTAINING_RECORD(e, struct fltsim_section, link);
        if (c->context == SectionContext && SectionContext != NULL)
            s = c;
    }
    if (s != NULL) {
        s->context = NULL;
        s->filter = NULL;
        if (s->kernel_handle != NULL) {
            s->kernel_handle = NULL;
            gone_handle = unref_locked(s);
        }
        if (gone_handle == NULL)
            gone = unref_locked(s);
    }
    unlock();
    if (s == NULL)
        return fltsim__fail(STATUS_NOT_FOUND, "%s: SectionContext %p has no section", api,
                            SectionContext);
    section_free(gone_handle != NULL ? gone_handle : gone);
    FltReleaseContext(SectionContext);
    return STATUS_SUCCESS;
}

/* ---- what nt/ asks of sections: ZwClose, Ob references ---- */

bool fltsim__section_close_handle(HANDLE h)
{
    struct fltsim_section *found = NULL, *gone = NULL;
    lock();
    for (PLIST_ENTRY e = sections.Flink; e != &sections && found == NULL; e = e->Flink) {
        struct fltsim_section *c = CONTAINING_RECORD(e, struct fltsim_section, link);
        if (h != NULL && c->kernel_handle == h)
            found = c;
    }
    if (found != NULL) {
        found->kernel_handle = NULL;
        gone = unref_locked(found);
    }
    unlock();
    section_free(gone);
    /* Else a handle of the process the caller runs in (the program's). */
    return found != NULL || fltsim__w32_close_kind(h, W32_SECTION);
}

LONG_PTR fltsim__section_object_ref(PVOID object, int delta)
{
    struct fltsim_section *s = object, *gone = NULL;
    LONG_PTR after = -1;
    lock();
    if (object != NULL && live_locked(object)) {
        if (delta > 0) {
            s->refs++;
            after = s->refs;
        } else {
            after = s->refs - 1;
            gone = unref_locked(s);
        }
    }
    unlock();
    section_free(gone);
    return after;
}

/* ---- views ---- */

static size_t round_pages(size_t n)
{
    return (n + PAGE_BYTES - 1) / PAGE_BYTES * PAGE_BYTES;
}

NTSTATUS fltsim__section_map(struct fltsim_section *s, fltsim_system *sys, ULONG pid,
                             ULONG64 offset, SIZE_T *size, ULONG protect, PVOID *base)
{
    if (protect != PAGE_READONLY && protect != PAGE_READWRITE)
        return STATUS_INVALID_PAGE_PROTECTION;
    if (protect == PAGE_READWRITE && !s->writable)
        return STATUS_SECTION_PROTECTION;
    if (offset % GRANULARITY != 0)
        return STATUS_MAPPED_ALIGNMENT;
    if (offset >= s->size)
        return STATUS_INVALID_VIEW_SIZE;
    size_t length = *size == 0 ? s->size - (size_t)offset : *size;
    if (length > round_pages(s->size) - offset)
        return STATUS_INVALID_VIEW_SIZE;
    size_t mapped = round_pages(length);
    struct view *v = malloc(sizeof(*v));
    if (v == NULL)
        return STATUS_NO_MEMORY;
    void *p = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        free(v);
        return STATUS_NO_MEMORY;
    }
    size_t copy = s->size - (size_t)offset < length ? s->size - (size_t)offset : length;
    memcpy(p, s->data + offset, copy);
    if (protect == PAGE_READONLY && mprotect(p, mapped, PROT_READ) != 0) {
        munmap(p, mapped);
        free(v);
        return STATUS_NO_MEMORY;
    }
    *v = (struct view){
        .sys = sys, .pid = pid, .base = p, .size = mapped, .protect = protect, .s = s};
    lock();
    s->refs++;
    InsertTailList(&views, &v->link);
    unlock();
    *size = mapped;
    *base = p;
    return STATUS_SUCCESS;
}

/* Frees a view taken out of the list; drops its section reference. */
static void view_free(struct view *v)
{
    munmap(v->base, v->size);
    fltsim__section_unref(v->s);
    free(v);
}

NTSTATUS fltsim__section_unmap(fltsim_system *sys, ULONG pid, const void *base)
{
    struct view *found = NULL;
    lock();
    for (PLIST_ENTRY e = views.Flink; e != &views && found == NULL; e = e->Flink) {
        struct view *v = CONTAINING_RECORD(e, struct view, link);
        if (v->sys == sys && v->pid == pid && (const void *)v->base == base)
            found = v;
    }
    if (found != NULL)
        RemoveEntryList(&found->link);
    unlock();
    if (found == NULL)
        return STATUS_NOT_MAPPED_VIEW;
    view_free(found);
    return STATUS_SUCCESS;
}

bool fltsim__section_view_at(fltsim_system *sys, ULONG pid, const void *address, PVOID *base,
                             SIZE_T *size, ULONG *protect)
{
    bool found = false;
    const unsigned char *a = address;
    lock();
    for (PLIST_ENTRY e = views.Flink; e != &views && !found; e = e->Flink) {
        struct view *v = CONTAINING_RECORD(e, struct view, link);
        if (v->sys == sys && v->pid == pid && a >= v->base && a < v->base + v->size) {
            found = true;
            *base = v->base;
            *size = v->size;
            *protect = v->protect;
        }
    }
    unlock();
    return found;
}

/* Unmaps the views of sys (pid: of that process; all when all). */
static void views_end(fltsim_system *sys, ULONG pid, bool all)
{
    for (;;) {
        struct view *found = NULL;
        lock();
        for (PLIST_ENTRY e = views.Flink; e != &views && found == NULL; e = e->Flink) {
            struct view *v = CONTAINING_RECORD(e, struct view, link);
            if (v->sys == sys && (all || v->pid == pid))
                found = v;
        }
        if (found != NULL)
            RemoveEntryList(&found->link);
        unlock();
        if (found == NULL)
            return;
        view_free(found);
    }
}

void fltsim__sections_process_end(fltsim_system *sys, ULONG pid)
{
    views_end(sys, pid, false);
}

void fltsim__sections_system_destroyed(fltsim_system *sys)
{
    views_end(sys, 0, true);
    LIST_ENTRY gone;
    InitializeListHead(&gone);
    ULONG unclosed = 0;
    lock();
    for (PLIST_ENTRY e = registrations.Flink; e != &registrations;) {
        struct registration *r = CONTAINING_RECORD(e, struct registration, link);
        e = e->Flink;
        if (r->sys == sys) {
            RemoveEntryList(&r->link);
            free(r);
        }
    }
    for (PLIST_ENTRY e = sections.Flink; e != &sections;) {
        struct fltsim_section *s = CONTAINING_RECORD(e, struct fltsim_section, link);
        e = e->Flink;
        if (s->sys != sys)
            continue;
        if (s->context != NULL)
            unclosed++;
        RemoveEntryList(&s->link);
        InsertTailList(&gone, &s->link);
    }
    unlock();
    if (unclosed > 0)
        fltsim__report(sys, NULL, NULL, NULL, "V23", "10",
                       "%lu data-scan section(s) never closed with FltCloseSectionForDataScan",
                       (unsigned long)unclosed);
    while (!IsListEmpty(&gone))
        section_free(CONTAINING_RECORD(RemoveHeadList(&gone), struct fltsim_section, link));
}

/* ---- ZwMapViewOfSection, ZwUnmapViewOfSection ---- */

/* The process a ProcessHandle names: its id, or a failure status. */
static NTSTATUS process_of(HANDLE h, ULONG *pid)
{
    if (h == NtCurrentProcess()) {
        *pid = (ULONG)(ULONG_PTR)PsGetCurrentProcessId();
        return STATUS_SUCCESS;
    }
    PVOID object = NULL;
    NTSTATUS status = ObReferenceObjectByHandle(h, 0, NULL, KernelMode, &object, NULL);
    if (!NT_SUCCESS(status))
        return status;
    PEPROCESS p = object;
    bool is_process = p->magic == FLTSIM_MAGIC_PROCESS;
    if (is_process)
        *pid = p->process_id;
    ObDereferenceObject(object);
    if (!is_process)
        return STATUS_OBJECT_TYPE_MISMATCH;
    return STATUS_SUCCESS;
}

/* The section behind a handle of the caller (kernel, else its program's
 * process), referenced; NULL when none. */
static struct fltsim_section *section_of_handle(HANDLE h, bool *readable)
{
    struct fltsim_section *found = NULL;
    lock();
    for (PLIST_ENTRY e = sections.Flink; e != &sections && found == NULL; e = e->Flink) {
        struct fltsim_section *c = CONTAINING_RECORD(e, struct fltsim_section, link);
        if (h != NULL && c->kernel_handle == h)
            found = c;
    }
    if (found != NULL)
        found->refs++;
    unlock();
    if (found != NULL) {
        *readable = true;
        return found;
    }
    return fltsim__w32_section_of(h, readable);
}

NTSTATUS ZwMapViewOfSection(HANDLE SectionHandle, HANDLE ProcessHandle, PVOID *BaseAddress,
                            ULONG_PTR ZeroBits, SIZE_T CommitSize, PLARGE_INTEGER SectionOffset,
                            PSIZE_T ViewSize, SECTION_INHERIT InheritDisposition,
                            ULONG AllocationType, ULONG Win32Protect)
{
    static const char api[] = "ZwMapViewOfSection";
    (void)ZeroBits;
    (void)CommitSize;
    (void)AllocationType;
    struct fltsim_tls *t = fltsim__tls();
    fltsim__check_irql(t->sys, PASSIVE_LEVEL, api);
    if (BaseAddress == NULL || ViewSize == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER, "%s: BaseAddress or ViewSize is NULL", api);
    if (*BaseAddress != NULL)
        return fltsim__fail(STATUS_CONFLICTING_ADDRESSES,
                            "%s: *BaseAddress %p: fltsim chooses where views go (pass NULL)", api,
                            *BaseAddress);
    if (InheritDisposition != ViewShare && InheritDisposition != ViewUnmap)
        return fltsim__fail(STATUS_INVALID_PARAMETER_8, "%s: InheritDisposition %d", api,
                            (int)InheritDisposition);
    ULONG pid = 0;
    NTSTATUS status = process_of(ProcessHandle, &pid);
    if (!NT_SUCCESS(status))
        return fltsim__fail(status, "%s: ProcessHandle %p names no process", api, ProcessHandle);
    bool readable = false;
    struct fltsim_section *s = section_of_handle(SectionHandle, &readable);
    if (s == NULL)
        return fltsim__fail(STATUS_INVALID_HANDLE, "%s: SectionHandle %p is no section handle", api,
                            SectionHandle);
    if (!readable) {
        fltsim__section_unref(s);
        return fltsim__fail(STATUS_ACCESS_DENIED, "%s: the handle lacks SECTION_MAP_READ", api);
    }
    ULONG64 offset = SectionOffset != NULL ? (ULONG64)SectionOffset->QuadPart : 0;
    SIZE_T size = *ViewSize;
    PVOID base = NULL;
    status = fltsim__section_map(s, s->sys, pid, offset, &size, Win32Protect, &base);
    fltsim__section_unref(s);
    if (!NT_SUCCESS(status))
        return fltsim__fail(status, "%s: 0x%08x", api, (unsigned)status);
    *BaseAddress = base;
    *ViewSize = size;
    return STATUS_SUCCESS;
}

NTSTATUS ZwUnmapViewOfSection(HANDLE ProcessHandle, PVOID BaseAddress)
{
    static const char api[] = "ZwUnmapViewOfSection";
    struct fltsim_tls *t = fltsim__tls();
    fltsim__check_irql(t->sys, PASSIVE_LEVEL, api);
    ULONG pid = 0;
    NTSTATUS status = process_of(ProcessHandle, &pid);
    if (!NT_SUCCESS(status))
        return fltsim__fail(status, "%s: ProcessHandle %p names no process", api, ProcessHandle);
    fltsim_system *sys = t->sys;
    PVOID base = NULL;
    SIZE_T size = 0;
    ULONG protect = 0;
    /* The view's system: the caller's, or (code with none on its thread)
     * whichever system holds a view at that address for the process. */
    lock();
    for (PLIST_ENTRY e = views.Flink; e != &views && sys == NULL; e = e->Flink) {
        struct view *v = CONTAINING_RECORD(e, struct view, link);
        if (v->pid == pid && (PVOID)v->base == BaseAddress)
            sys = v->sys;
    }
    unlock();
    if (sys == NULL || !fltsim__section_view_at(sys, pid, BaseAddress, &base, &size, &protect) ||
        base != BaseAddress)
        return fltsim__fail(STATUS_NOT_MAPPED_VIEW, "%s: %p is not the base of a view", api,
                            BaseAddress);
    return fltsim__section_unmap(sys, pid, BaseAddress);
}
