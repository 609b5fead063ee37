/*
 * FltMgr: cancelling pended callback data, and the cancel-safe callback-data
 * queues (FLT_CALLBACK_DATA_QUEUE) a filter pends operations in: FltMgr keeps
 * the queue cancel-safe, the filter supplies the list and the lock.
 * Part of the WDK surface: include <fltKernel.h>, not this file.
 */
#ifndef FLTSIM_WDK_FLT_CBDQ_H
#define FLTSIM_WDK_FLT_CBDQ_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- cancellation ---- */

typedef VOID(FLTAPI *PFLT_COMPLETE_CANCELED_CALLBACK)(PFLT_CALLBACK_DATA CallbackData);

BOOLEAN FltCancelIo(PFLT_CALLBACK_DATA CallbackData);
NTSTATUS FltSetCancelCompletion(PFLT_CALLBACK_DATA CallbackData,
                                PFLT_COMPLETE_CANCELED_CALLBACK CanceledCallback);
NTSTATUS FltClearCancelCompletion(PFLT_CALLBACK_DATA CallbackData);
BOOLEAN FltIsIoCanceled(PFLT_CALLBACK_DATA CallbackData);

/* ---- cancel-safe callback-data queues ---- */

typedef IO_CSQ_IRP_CONTEXT FLT_CALLBACK_DATA_QUEUE_IO_CONTEXT, *PFLT_CALLBACK_DATA_QUEUE_IO_CONTEXT;
typedef struct _FLT_CALLBACK_DATA_QUEUE FLT_CALLBACK_DATA_QUEUE, *PFLT_CALLBACK_DATA_QUEUE;

typedef NTSTATUS(FLTAPI *PFLT_CALLBACK_DATA_QUEUE_INSERT_IO)(PFLT_CALLBACK_DATA_QUEUE Cbdq,
                                                             PFLT_CALLBACK_DATA Cbd,
                                                             PVOID InsertContext);
typedef VOID(FLTAPI *PFLT_CALLBACK_DATA_QUEUE_REMOVE_IO)(PFLT_CALLBACK_DATA_QUEUE Cbdq,
                                                         PFLT_CALLBACK_DATA Cbd);
typedef PFLT_CALLBACK_DATA(FLTAPI *PFLT_CALLBACK_DATA_QUEUE_PEEK_NEXT_IO)(
    PFLT_CALLBACK_DATA_QUEUE Cbdq, PFLT_CALLBACK_DATA Cbd, PVOID PeekContext);
typedef VOID(FLTAPI *PFLT_CALLBACK_DATA_QUEUE_ACQUIRE)(PFLT_CALLBACK_DATA_QUEUE Cbdq, PKIRQL Irql);
typedef VOID(FLTAPI *PFLT_CALLBACK_DATA_QUEUE_RELEASE)(PFLT_CALLBACK_DATA_QUEUE Cbdq, KIRQL Irql);
typedef VOID(FLTAPI *PFLT_CALLBACK_DATA_QUEUE_COMPLETE_CANCELED_IO)(PFLT_CALLBACK_DATA_QUEUE Cbdq,
                                                                    PFLT_CALLBACK_DATA Cbd);

/* The queue's flags are private to FltMgr: the WDK declares them as an
 * enumeration it never completes, which C does not allow, so fltsim gives
 * them an integer of the same size. */
typedef ULONG FLT_CALLBACK_DATA_QUEUE_FLAGS;

/* Allocated by the filter, opaque to it. */
struct _FLT_CALLBACK_DATA_QUEUE {
    IO_CSQ Csq;
    FLT_CALLBACK_DATA_QUEUE_FLAGS Flags;
    PFLT_INSTANCE Instance;
    PFLT_CALLBACK_DATA_QUEUE_INSERT_IO InsertIo;
    PFLT_CALLBACK_DATA_QUEUE_REMOVE_IO RemoveIo;
    PFLT_CALLBACK_DATA_QUEUE_PEEK_NEXT_IO PeekNextIo;
    PFLT_CALLBACK_DATA_QUEUE_ACQUIRE Acquire;
    PFLT_CALLBACK_DATA_QUEUE_RELEASE Release;
    PFLT_CALLBACK_DATA_QUEUE_COMPLETE_CANCELED_IO CompleteCanceledIo;
};

NTSTATUS FltCbdqInitialize(PFLT_INSTANCE Instance, PFLT_CALLBACK_DATA_QUEUE Cbdq,
                           PFLT_CALLBACK_DATA_QUEUE_INSERT_IO CbdqInsertIo,
                           PFLT_CALLBACK_DATA_QUEUE_REMOVE_IO CbdqRemoveIo,
                           PFLT_CALLBACK_DATA_QUEUE_PEEK_NEXT_IO CbdqPeekNextIo,
                           PFLT_CALLBACK_DATA_QUEUE_ACQUIRE CbdqAcquire,
                           PFLT_CALLBACK_DATA_QUEUE_RELEASE CbdqRelease,
                           PFLT_CALLBACK_DATA_QUEUE_COMPLETE_CANCELED_IO CbdqCompleteCanceledIo);
VOID FltCbdqEnable(PFLT_CALLBACK_DATA_QUEUE Cbdq);
VOID FltCbdqDisable(PFLT_CALLBACK_DATA_QUEUE Cbdq);
/* STATUS_FLT_CBDQ_DISABLED once FltCbdqDisable was called. */
NTSTATUS FltCbdqInsertIo(PFLT_CALLBACK_DATA_QUEUE Cbdq, PFLT_CALLBACK_DATA Cbd,
                         PFLT_CALLBACK_DATA_QUEUE_IO_CONTEXT Context, PVOID InsertContext);
PFLT_CALLBACK_DATA FltCbdqRemoveIo(PFLT_CALLBACK_DATA_QUEUE Cbdq,
                                   PFLT_CALLBACK_DATA_QUEUE_IO_CONTEXT Context);
PFLT_CALLBACK_DATA FltCbdqRemoveNextIo(PFLT_CALLBACK_DATA_QUEUE Cbdq, PVOID PeekContext);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_FLT_CBDQ_H */
