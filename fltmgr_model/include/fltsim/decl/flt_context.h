/*
 * FltMgr: contexts, the filter-defined data FltMgr attaches to volumes,
 * instances, files, streams, stream handles, transactions and sections,
 * reference-counted and freed through the filter's cleanup callback.
 * Part of the WDK surface: include <fltKernel.h>, not this file.
 */
#ifndef FLTSIM_WDK_FLT_CONTEXT_H
#define FLTSIM_WDK_FLT_CONTEXT_H

#ifdef __cplusplus
extern "C" {
#endif

/* Several contexts at once (FltGetContexts, FltReleaseContexts). */
typedef struct _FLT_RELATED_CONTEXTS {
    PFLT_CONTEXT VolumeContext;
    PFLT_CONTEXT InstanceContext;
    PFLT_CONTEXT FileContext;
    PFLT_CONTEXT StreamContext;
    PFLT_CONTEXT StreamHandleContext;
    PFLT_CONTEXT TransactionContext;
} FLT_RELATED_CONTEXTS, *PFLT_RELATED_CONTEXTS;

typedef struct _FLT_RELATED_CONTEXTS_EX {
    PFLT_CONTEXT VolumeContext;
    PFLT_CONTEXT InstanceContext;
    PFLT_CONTEXT FileContext;
    PFLT_CONTEXT StreamContext;
    PFLT_CONTEXT StreamHandleContext;
    PFLT_CONTEXT TransactionContext;
    PFLT_CONTEXT SectionContext;
} FLT_RELATED_CONTEXTS_EX, *PFLT_RELATED_CONTEXTS_EX;

typedef enum _FLT_SET_CONTEXT_OPERATION {
    FLT_SET_CONTEXT_REPLACE_IF_EXISTS,
    FLT_SET_CONTEXT_KEEP_IF_EXISTS
} FLT_SET_CONTEXT_OPERATION,
    *PFLT_SET_CONTEXT_OPERATION;

BOOLEAN FltSupportsFileContexts(PFILE_OBJECT FileObject);
BOOLEAN FltSupportsFileContextsEx(PFILE_OBJECT FileObject, PFLT_INSTANCE Instance);
BOOLEAN FltSupportsStreamContexts(PFILE_OBJECT FileObject);
BOOLEAN FltSupportsStreamHandleContexts(PFILE_OBJECT FileObject);

/* FltAllocateContext: a context of a type and size the filter registered,
 * with one reference; its memory is not zeroed (as on Windows). */
NTSTATUS FltAllocateContext(PFLT_FILTER Filter, FLT_CONTEXT_TYPE ContextType, SIZE_T ContextSize,
                            POOL_TYPE PoolType, PFLT_CONTEXT *ReturnedContext);
/* The macro form records the call site, so a context still referenced at
 * unload names the file and line that allocated it (V21); the function
 * stays callable by address. FLTSIM_NO_POOL_SITES turns it off. */
NTSTATUS fltsim_FltAllocateContext_at(PFLT_FILTER Filter, FLT_CONTEXT_TYPE ContextType,
                                      SIZE_T ContextSize, POOL_TYPE PoolType,
                                      PFLT_CONTEXT *ReturnedContext, const char *file, int line);
#ifndef FLTSIM_NO_POOL_SITES
#define FltAllocateContext(f, t, s, p, c)                                                          \
    fltsim_FltAllocateContext_at((f), (t), (s), (p), (c), __FILE__, __LINE__)
#endif
VOID FltGetContexts(PCFLT_RELATED_OBJECTS FltObjects, FLT_CONTEXT_TYPE DesiredContexts,
                    PFLT_RELATED_CONTEXTS Contexts);
VOID FltReleaseContexts(PFLT_RELATED_CONTEXTS Contexts);
NTSTATUS FltGetContextsEx(PCFLT_RELATED_OBJECTS FltObjects, FLT_CONTEXT_TYPE DesiredContexts,
                          SIZE_T ContextsSize, PFLT_RELATED_CONTEXTS_EX Contexts);
VOID FltReleaseContextsEx(SIZE_T ContextsSize, PFLT_RELATED_CONTEXTS_EX Contexts);

/* Setting: STATUS_FLT_CONTEXT_ALREADY_DEFINED with KEEP_IF_EXISTS when one
 * is set (the existing one is returned in OldContext, referenced). */
NTSTATUS FltSetVolumeContext(PFLT_VOLUME Volume, FLT_SET_CONTEXT_OPERATION Operation,
                             PFLT_CONTEXT NewContext, PFLT_CONTEXT *OldContext);
NTSTATUS FltSetInstanceContext(PFLT_INSTANCE Instance, FLT_SET_CONTEXT_OPERATION Operation,
                               PFLT_CONTEXT NewContext, PFLT_CONTEXT *OldContext);
NTSTATUS FltSetFileContext(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                           FLT_SET_CONTEXT_OPERATION Operation, PFLT_CONTEXT NewContext,
                           PFLT_CONTEXT *OldContext);
NTSTATUS FltSetStreamContext(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                             FLT_SET_CONTEXT_OPERATION Operation, PFLT_CONTEXT NewContext,
                             PFLT_CONTEXT *OldContext);
NTSTATUS FltSetStreamHandleContext(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                   FLT_SET_CONTEXT_OPERATION Operation, PFLT_CONTEXT NewContext,
                                   PFLT_CONTEXT *OldContext);
NTSTATUS FltSetTransactionContext(PFLT_INSTANCE Instance, PKTRANSACTION Transaction,
                                  FLT_SET_CONTEXT_OPERATION Operation, PFLT_CONTEXT NewContext,
                                  PFLT_CONTEXT *OldContext);

VOID FltDeleteContext(PFLT_CONTEXT Context);
NTSTATUS FltDeleteVolumeContext(PFLT_FILTER Filter, PFLT_VOLUME Volume, PFLT_CONTEXT *OldContext);
NTSTATUS FltDeleteInstanceContext(PFLT_INSTANCE Instance, PFLT_CONTEXT *OldContext);
NTSTATUS FltDeleteFileContext(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                              PFLT_CONTEXT *OldContext);
NTSTATUS FltDeleteStreamContext(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                PFLT_CONTEXT *OldContext);
NTSTATUS FltDeleteStreamHandleContext(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                      PFLT_CONTEXT *OldContext);
NTSTATUS FltDeleteTransactionContext(PFLT_INSTANCE Instance, PKTRANSACTION Transaction,
                                     PFLT_CONTEXT *OldContext);

/* Getting: STATUS_NOT_FOUND when none is set; the context is referenced and
 * the caller releases it with FltReleaseContext. */
NTSTATUS FltGetVolumeContext(PFLT_FILTER Filter, PFLT_VOLUME Volume, PFLT_CONTEXT *Context);
NTSTATUS FltGetInstanceContext(PFLT_INSTANCE Instance, PFLT_CONTEXT *Context);
NTSTATUS FltGetFileContext(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject, PFLT_CONTEXT *Context);
NTSTATUS FltGetStreamContext(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                             PFLT_CONTEXT *Context);
NTSTATUS FltGetStreamHandleContext(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                   PFLT_CONTEXT *Context);
NTSTATUS FltGetTransactionContext(PFLT_INSTANCE Instance, PKTRANSACTION Transaction,
                                  PFLT_CONTEXT *Context);
NTSTATUS FltGetSectionContext(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                              PFLT_CONTEXT *Context);

VOID FltReferenceContext(PFLT_CONTEXT Context);
VOID FltReleaseContext(PFLT_CONTEXT Context);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_FLT_CONTEXT_H */
