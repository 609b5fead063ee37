/*
 * What filename.c (building names) and filename_cache.c (the blocks and the
 * name cache) share.
 */
#ifndef FLTSIM_FLTMGR_FILENAME_INTERNAL_H
#define FLTSIM_FLTMGR_FILENAME_INTERNAL_H

#include "model_internal.h"

/* A block holding volume + path (either may be empty; Volume is the volume
 * part), referenced once for the caller, who got it at file:line. */
NTSTATUS fltsim__name_make(fltsim_system *sys, FLT_FILE_NAME_OPTIONS format,
                           PCUNICODE_STRING volume, const WCHAR *path, size_t path_units,
                           const char *file, int line, PFLT_FILE_NAME_INFORMATION *out);
/* The cached name of (inst, fo, format), referenced for the caller, or NULL. */
PFLT_FILE_NAME_INFORMATION fltsim__name_cache_lookup(PFLT_INSTANCE inst, PFILE_OBJECT fo,
                                                     FLT_FILE_NAME_OPTIONS format, const char *file,
                                                     int line);
/* Caches info (a block fltsim__name_make made) for (inst, fo). */
void fltsim__name_cache_insert(PFLT_INSTANCE inst, PFILE_OBJECT fo,
                               PFLT_FILE_NAME_INFORMATION info);

#endif /* FLTSIM_FLTMGR_FILENAME_INTERNAL_H */
