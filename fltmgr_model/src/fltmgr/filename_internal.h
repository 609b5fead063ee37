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

/* IRP_MJ_QUERY_INFORMATION of a FILE_NAME_INFORMATION-shaped class for fo,
 * sent below inst: *name (malloc'd, the caller frees it) gets *units units. */
NTSTATUS fltsim__name_query_fs(PFLT_INSTANCE inst, PFILE_OBJECT fo, FILE_INFORMATION_CLASS cls,
                               WCHAR **name, size_t *units);
/* The file system's name of the directory at dir (a path on the volume, "\\"
 * for the root), opened below inst for the time of the query. */
NTSTATUS fltsim__name_directory(PFLT_INSTANCE inst, const WCHAR *dir, size_t dir_units,
                                WCHAR **name, size_t *units);
/* The normalized form of path (on inst's volume): the file system's name of
 * its parent directory, then its last component as given (which need not
 * exist); with parent_only the parent's name alone. */
NTSTATUS fltsim__name_normalize_path(PFLT_INSTANCE inst, const WCHAR *path, size_t units,
                                     bool parent_only, WCHAR **out, size_t *out_units);

#endif /* FLTSIM_FLTMGR_FILENAME_INTERNAL_H */
