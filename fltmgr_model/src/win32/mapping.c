/*
 * Sections in a simulated process: the handles a process holds to the
 * sections a filter made for it (FltCreateSectionForDataScan in its
 * message-notify callback), and the views it maps of them: MapViewOfFile,
 * UnmapViewOfFile(Ex), VirtualQuery (which knows the views only). The views
 * themselves are fltmgr/section.c's, per process id, freed at unmap or when
 * the process ends.
 */
#include <stdlib.h>

#include "fltmgr/section_internal.h"
#include "win32_internal.h"

struct w32_section {
    struct w32_object h;
    struct fltsim_section *s; /* one reference */
    bool readable;
};

HANDLE fltsim__w32_section_handle(struct fltsim_section *s, bool readable)
{
    struct w32_thread *self = fltsim__w32_self();
    struct w32_section *o = self != NULL ? calloc(1, sizeof(*o)) : NULL;
    if (o == NULL) {
        fltsim__section_unref(s);
        return NULL;
    }
    o->h.kind = W32_SECTION;
    o->h.refs = 1;
    o->s = s;
    o->readable = readable;
    fltsim_system *sys = self->proc->sys;
    uv_mutex_lock(&sys->lock);
    HANDLE h = fltsim__w32_handle_new_locked(self->proc, &o->h);
    uv_mutex_unlock(&sys->lock);
    return h;
}

void fltsim__w32_section_free_locked(struct w32_object *obj)
{
    struct w32_section *o = (struct w32_section *)obj;
    fltsim__section_unref(o->s);
    free(o);
}

struct fltsim_section *fltsim__w32_section_of(HANDLE h, bool *readable)
{
    fltsim_system *sys = fltsim__w32_system();
    if (sys == NULL || fltsim__w32_self() == NULL)
        return NULL;
    uv_mutex_lock(&sys->lock);
    struct w32_section *o = (struct w32_section *)fltsim__w32_object_locked(h, W32_SECTION);
    struct fltsim_section *s = NULL;
    if (o != NULL) {
        s = o->s;
        *readable = o->readable;
        fltsim__section_ref(s);
    }
    uv_mutex_unlock(&sys->lock);
    return s;
}

static DWORD error_of_map(NTSTATUS status)
{
    switch (status) {
    case STATUS_MAPPED_ALIGNMENT:
        return 1132L; /* ERROR_MAPPED_ALIGNMENT */
    case STATUS_NO_MEMORY:
        return ERROR_NOT_ENOUGH_MEMORY;
    default:
        return ERROR_ACCESS_DENIED; /* beyond the section, or a protection it refuses */
    }
}

LPVOID MapViewOfFile(HANDLE hFileMappingObject, DWORD dwDesiredAccess, DWORD dwFileOffsetHigh,
                     DWORD dwFileOffsetLow, SIZE_T dwNumberOfBytesToMap)
{
    struct w32_thread *self = fltsim__w32_self();
    bool readable = false;
    struct fltsim_section *s =
        self != NULL ? fltsim__w32_section_of(hFileMappingObject, &readable) : NULL;
    LPVOID base = NULL;
    if (s == NULL) {
        fltsim__w32_set_error(ERROR_INVALID_HANDLE);
    } else if (dwDesiredAccess == 0 || (dwDesiredAccess & FILE_MAP_COPY) ||
               (dwDesiredAccess & ~(DWORD)(FILE_MAP_READ | FILE_MAP_WRITE)) != 0) {
        fltsim__w32_set_error(ERROR_INVALID_PARAMETER); /* copy-on-write is not modeled */
    } else if (!readable) {
        fltsim__w32_set_error(ERROR_ACCESS_DENIED);
    } else {
        ULONG protect = (dwDesiredAccess & FILE_MAP_WRITE) ? PAGE_READWRITE : PAGE_READONLY;
        ULONG64 offset = ((ULONG64)dwFileOffsetHigh << 32) | dwFileOffsetLow;
        SIZE_T size = dwNumberOfBytesToMap;
        NTSTATUS status =
            fltsim__section_map(s, self->proc->sys, self->proc->pid, offset, &size, protect, &base);
        if (!NT_SUCCESS(status)) {
            base = NULL;
            fltsim__w32_set_error(error_of_map(status));
        }
    }
    if (s != NULL)
        fltsim__section_unref(s);
    fltsim__w32_checkpoint();
    return base;
}

BOOL UnmapViewOfFileEx(PVOID BaseAddress, ULONG UnmapFlags)
{
    struct w32_thread *self = fltsim__w32_self();
    BOOL ok = FALSE;
    if (self == NULL)
        fltsim__w32_set_error(ERROR_INVALID_HANDLE);
    else if ((UnmapFlags & ~(ULONG)MEM_UNMAP_WITH_TRANSIENT_BOOST) != 0)
        fltsim__w32_set_error(ERROR_INVALID_PARAMETER); /* placeholders are not modeled */
    else if (!NT_SUCCESS(fltsim__section_unmap(self->proc->sys, self->proc->pid, BaseAddress)))
        fltsim__w32_set_error(487L); /* ERROR_INVALID_ADDRESS */
    else
        ok = TRUE;
    fltsim__w32_checkpoint();
    return ok;
}

BOOL UnmapViewOfFile(LPCVOID lpBaseAddress)
{
    return UnmapViewOfFileEx((PVOID)lpBaseAddress, 0);
}

SIZE_T VirtualQuery(LPCVOID lpAddress, PMEMORY_BASIC_INFORMATION lpBuffer, SIZE_T dwLength)
{
    struct w32_thread *self = fltsim__w32_self();
    PVOID base = NULL;
    SIZE_T size = 0, done = 0;
    ULONG protect = 0;
    if (self == NULL) {
        fltsim__w32_set_error(ERROR_INVALID_HANDLE);
    } else if (lpBuffer == NULL || dwLength < sizeof(*lpBuffer)) {
        fltsim__w32_set_error(24L); /* ERROR_BAD_LENGTH */
    } else if (!fltsim__section_view_at(self->proc->sys, self->proc->pid, lpAddress, &base, &size,
                                        &protect)) {
        /* fltsim knows the views it mapped, not the rest of the memory. */
        fltsim__w32_set_error(ERROR_INVALID_PARAMETER);
    } else {
        ULONG_PTR page = (ULONG_PTR)lpAddress & ~(ULONG_PTR)4095;
        *lpBuffer = (MEMORY_BASIC_INFORMATION){
            .BaseAddress = (PVOID)page,
            .AllocationBase = base,
            .AllocationProtect = protect,
            .RegionSize = (ULONG_PTR)base + size - page,
            .State = MEM_COMMIT,
            .Protect = protect,
            .Type = MEM_MAPPED,
        };
        done = sizeof(*lpBuffer);
    }
    fltsim__w32_checkpoint();
    return done;
}
