/*
 * PRIVATE to fltmgr_model/src/fltmgr/section.c and win32/mapping.c (and the
 * few places that end what sections outlive: system.c, instance.c,
 * win32/process.c, and context.c that tells a section context): the section
 * objects FltCreateSectionForDataScan makes and the views mapped of them, per
 * process. A section holds the file's data as the file system held it when
 * the section was made; a view is memory of the one address space, tracked
 * by (system, process id) and freed at unmap or when its process ends.
 * Guarded by section.c's own leaf lock.
 */
#ifndef FLTSIM_SECTION_INTERNAL_H
#define FLTSIM_SECTION_INTERNAL_H

#include "model_internal.h"

struct fltsim_section;

/* One reference more or less on a section (handles, views and the pointers
 * FltCreateSectionForDataScan hands out each hold one); freed at zero. */
void fltsim__section_ref(struct fltsim_section *s);
void fltsim__section_unref(struct fltsim_section *s);

/* Maps a view of s for process pid of sys: offset (a multiple of 64 KiB),
 * *size (0: to the end; out: the view's size rounded up to pages), protect
 * PAGE_READONLY (the view's pages are read-only) or PAGE_READWRITE (a
 * section made writable; a private copy: writes do not reach the file).
 * *base gets the view. STATUS_INVALID_VIEW_SIZE, STATUS_MAPPED_ALIGNMENT,
 * STATUS_SECTION_PROTECTION, STATUS_INVALID_PAGE_PROTECTION,
 * STATUS_NO_MEMORY. */
NTSTATUS fltsim__section_map(struct fltsim_section *s, fltsim_system *sys, ULONG pid,
                             ULONG64 offset, SIZE_T *size, ULONG protect, PVOID *base);
/* Unmaps the view of pid at base (its first byte); STATUS_NOT_MAPPED_VIEW. */
NTSTATUS fltsim__section_unmap(fltsim_system *sys, ULONG pid, const void *base);
/* The view of pid holding address: true with its base, size and protection. */
bool fltsim__section_view_at(fltsim_system *sys, ULONG pid, const void *address, PVOID *base,
                             SIZE_T *size, ULONG *protect);

/* Process pid of sys ended: its views are unmapped. */
void fltsim__sections_process_end(fltsim_system *sys, ULONG pid);
/* An instance record was made at inst: no data-scan registration of an
 * earlier instance at that address stays (instance.c). */
void fltsim__data_scan_forget(const void *inst);
/* sys is being destroyed: sections, views and kernel handles left are freed
 * (sections a filter never closed are reported, V23). */
void fltsim__sections_system_destroyed(fltsim_system *sys);

/* context.c: whether ctx is a live section context of filter. */
bool fltsim__context_is_section(PFLT_CONTEXT ctx, const struct _FLT_FILTER *filter);

#endif /* FLTSIM_SECTION_INTERNAL_H */
