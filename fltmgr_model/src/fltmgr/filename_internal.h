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

/* ---- name providers (name_provider.c) ---- */

/* A name request as FltMgr hands it to a name provider. */
struct fltsim__name_request {
    const char *api;
    PFILE_OBJECT fo;
    PFLT_CALLBACK_DATA data; /* NULL for the Unsafe routine */
    FLT_FILE_NAME_OPTIONS options;
    bool case_sensitive;
    bool destination; /* FltGetDestinationFileNameInformation's components */
};
/* The provider whose GenerateFileName for fo runs on this thread (the
 * innermost), or NULL: its own name queries are its instance's. */
PFLT_INSTANCE fltsim__name_provider_generating(PFILE_OBJECT fo);
/* The highest name-provider instance below caller on its volume (caller
 * itself too with include_self), with a rundown reference that
 * fltsim__name_provider_done drops; NULL when none (the file system
 * answers). */
PFLT_INSTANCE fltsim__name_provider_below(PFLT_INSTANCE caller, bool include_self);
void fltsim__name_provider_done(PFLT_INSTANCE provider);
/* Asks provider for rq's name: *name (malloc'd, the full name with the volume,
 * or the short name alone) of *units units; *cache is whether the provider
 * lets it be cached. A provider whose answer cannot be used is reported
 * (V29). */
NTSTATUS fltsim__name_provider_ask(PFLT_INSTANCE provider, const struct fltsim__name_request *rq,
                                   WCHAR **name, size_t *units, bool *cache);
/* The name of a rename or link target through provider: target (units) is a
 * bare name (in the directory of rq's file, as the provider names it) or a
 * path on the volume; *name (malloc'd) is the full name with the volume. */
NTSTATUS fltsim__name_provider_destination(PFLT_INSTANCE provider,
                                           const struct fltsim__name_request *rq,
                                           const WCHAR *target, size_t units, bool bare,
                                           WCHAR **name, size_t *out_units);

#endif /* FLTSIM_FLTMGR_FILENAME_INTERNAL_H */
