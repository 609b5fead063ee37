/*
 * FltMgr contexts, the routines built on the per-type ones of context.c:
 * FltSupports*Contexts (what memfs and hostfs support) and FltGetContexts /
 * FltReleaseContexts with their Ex forms, which get and release several
 * contexts of one set of related objects at once.
 */
#include <string.h>

#include "dispatch_internal.h"

/* memfs and hostfs keep one stream per file: the file is the stream, so file
 * contexts hang off the same FsContext as stream contexts, and are
 * supported natively (FltSupportsFileContexts TRUE). */
static BOOLEAN open_on_fltsim_volume(PFILE_OBJECT fo)
{
    return fo != NULL && fo->FsContext != NULL && fltsim_volume_of_file_object(fo) != NULL;
}

BOOLEAN FltSupportsFileContexts(PFILE_OBJECT FileObject)
{
    return open_on_fltsim_volume(FileObject);
}

BOOLEAN FltSupportsFileContextsEx(PFILE_OBJECT FileObject, PFLT_INSTANCE Instance)
{
    return fltsim__is_instance(Instance) && open_on_fltsim_volume(FileObject);
}

BOOLEAN FltSupportsStreamContexts(PFILE_OBJECT FileObject)
{
    return open_on_fltsim_volume(FileObject);
}

BOOLEAN FltSupportsStreamHandleContexts(PFILE_OBJECT FileObject)
{
    return open_on_fltsim_volume(FileObject);
}

/* ---- several at once ---- */

VOID FltGetContexts(PCFLT_RELATED_OBJECTS FltObjects, FLT_CONTEXT_TYPE DesiredContexts,
                    PFLT_RELATED_CONTEXTS Contexts)
{
    memset(Contexts, 0, sizeof(*Contexts));
    PFLT_INSTANCE inst = FltObjects->Instance;
    PFILE_OBJECT fo = FltObjects->FileObject;
    if (DesiredContexts & FLT_VOLUME_CONTEXT)
        (void)FltGetVolumeContext(FltObjects->Filter, FltObjects->Volume, &Contexts->VolumeContext);
    if (DesiredContexts & FLT_INSTANCE_CONTEXT)
        (void)FltGetInstanceContext(inst, &Contexts->InstanceContext);
    if ((DesiredContexts & FLT_FILE_CONTEXT) && fo != NULL)
        (void)FltGetFileContext(inst, fo, &Contexts->FileContext);
    if ((DesiredContexts & FLT_STREAM_CONTEXT) && fo != NULL)
        (void)FltGetStreamContext(inst, fo, &Contexts->StreamContext);
    if ((DesiredContexts & FLT_STREAMHANDLE_CONTEXT) && fo != NULL)
        (void)FltGetStreamHandleContext(inst, fo, &Contexts->StreamHandleContext);
}

VOID FltReleaseContexts(PFLT_RELATED_CONTEXTS Contexts)
{
    PFLT_CONTEXT *all[] = {&Contexts->VolumeContext,       &Contexts->InstanceContext,
                           &Contexts->FileContext,         &Contexts->StreamContext,
                           &Contexts->StreamHandleContext, &Contexts->TransactionContext};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (*all[i] != NULL)
            FltReleaseContext(*all[i]);
        *all[i] = NULL;
    }
}

/* The Ex forms add the section context: fltsim has no sections (nor
 * transactions), so both stay NULL. */
NTSTATUS FltGetContextsEx(PCFLT_RELATED_OBJECTS FltObjects, FLT_CONTEXT_TYPE DesiredContexts,
                          SIZE_T ContextsSize, PFLT_RELATED_CONTEXTS_EX Contexts)
{
    if (Contexts == NULL || ContextsSize < sizeof(FLT_RELATED_CONTEXTS_EX))
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "FltGetContextsEx: ContextsSize %zu is "
                            "below sizeof(FLT_RELATED_CONTEXTS_EX)",
                            (size_t)ContextsSize);
    FLT_RELATED_CONTEXTS rc;
    FltGetContexts(FltObjects, DesiredContexts, &rc);
    memset(Contexts, 0, sizeof(*Contexts));
    Contexts->VolumeContext = rc.VolumeContext;
    Contexts->InstanceContext = rc.InstanceContext;
    Contexts->FileContext = rc.FileContext;
    Contexts->StreamContext = rc.StreamContext;
    Contexts->StreamHandleContext = rc.StreamHandleContext;
    return STATUS_SUCCESS;
}

VOID FltReleaseContextsEx(SIZE_T ContextsSize, PFLT_RELATED_CONTEXTS_EX Contexts)
{
    if (Contexts == NULL || ContextsSize < sizeof(FLT_RELATED_CONTEXTS_EX))
        return;
    PFLT_CONTEXT *all[] = {&Contexts->VolumeContext,       &Contexts->InstanceContext,
                           &Contexts->FileContext,         &Contexts->StreamContext,
                           &Contexts->StreamHandleContext, &Contexts->TransactionContext,
                           &Contexts->SectionContext};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (*all[i] != NULL)
            FltReleaseContext(*all[i]);
        *all[i] = NULL;
    }
}
