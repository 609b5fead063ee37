/*
 * What the files of filter-issued I/O share: callback_data_own.c (callback
 * data a filter allocates, and the sending an asynchronous FltReadFile
 * uses), generated_io.c, reissue.c, and ecp.c (the ECP list and ECP blocks).
 * A create's ECP list travels as a PECP_LIST in struct fltsim_request; only
 * these files look inside it.
 */
#ifndef FLTSIM_FLTMGR_FILTER_IO_INTERNAL_H
#define FLTSIM_FLTMGR_FILTER_IO_INTERNAL_H

#include "model_internal.h"

/* ---- callback data a filter allocates (callback_data_own.c) ---- */

enum fltsim_own_state {
    FLTSIM_OWN_IDLE,      /* allocated or reused: the filter fills the Iopb */
    FLTSIM_OWN_IN_FLIGHT, /* performed, not complete */
    FLTSIM_OWN_DONE       /* complete: IoStatus holds the result */
};

/* What FltAllocateCallbackData hands out, and what an asynchronous
 * FltReadFile/FltWriteFile uses inside. The callback data comes first (the
 * filter's pointer) and the magic sits where an operation's does, so that
 * neither is taken for the other (fltsim__op_from_data). */
struct fltsim_own_cbd {
    FLT_CALLBACK_DATA data;
    ULONG magic; /* FLTSIM_MAGIC_OWN_CBD */
    LONG state;  /* enum fltsim_own_state, atomic */
    FLT_IO_PARAMETER_BLOCK iopb;
    struct _FLT_INSTANCE *instance; /* the initiating instance; memory ref held */
    PFILE_OBJECT file_object;       /* as allocated */
    bool internal;    /* an asynchronous FltReadFile/FltWriteFile's: freed after its callback */
    bool keep_offset; /* FLTFL_IO_OPERATION_DO_NOT_UPDATE_BYTE_OFFSET: put saved_offset back */
    LARGE_INTEGER saved_offset;
    PFLT_COMPLETED_ASYNC_IO_CALLBACK callback;
    PVOID callback_context;
    struct fltsim_request req; /* what is sent; its op_id names the operation in flight */
};

/* A callback data for I/O below inst on fo (may be NULL), state IDLE, its
 * Iopb's TargetInstance and TargetFileObject set; internal ones are not
 * counted against the filter. NULL when out of memory (last error set). */
struct fltsim_own_cbd *fltsim__own_cbd_alloc(struct _FLT_INSTANCE *inst, PFILE_OBJECT fo,
                                             bool internal);
/* Sends own->req (prepared by the caller) below own->instance. Synchronous:
 * returns the final status, in IoStatus too. Asynchronous: own->callback runs
 * once with the completed data, on this thread before the return when the
 * operation completed at once (the final status is returned), else where it
 * completes at IRQL <= DISPATCH_LEVEL (STATUS_PENDING is returned and own must
 * not be touched after). */
NTSTATUS fltsim__own_cbd_send(struct fltsim_own_cbd *own, bool async);
/* FltPerformAsynchronousIo's: the same, but an operation a pre-operation
 * callback below completed at once returns STATUS_FLT_IO_COMPLETE. */
NTSTATUS fltsim__own_cbd_send_perform(struct fltsim_own_cbd *own);

/* ---- the Flt file routines (filter_io.c, filter_io2.c) ---- */

/* Checks the instance, the IRQL and that fo is on the instance's volume,
 * fills in what every request below shares (kernel mode, synchronous,
 * generated I/O), sends req to the instances below inst and waits. The final
 * status; *information (when not NULL) gets IoStatus.Information. */
NTSTATUS fltsim__flt_send_below(const char *api, PFLT_INSTANCE inst, PFILE_OBJECT fo,
                                struct fltsim_request *req, ULONG_PTR *information);
/* An FSCTL (major IRP_MJ_FILE_SYSTEM_CONTROL) or IOCTL sent below inst, the
 * buffers as the code's method says; *LengthReturned (when not NULL) the
 * bytes returned. */
NTSTATUS fltsim__flt_control(const char *api, UCHAR major, PFLT_INSTANCE Instance,
                             PFILE_OBJECT FileObject, ULONG code, PVOID in, ULONG in_length,
                             PVOID out, ULONG out_length, PULONG LengthReturned);

/* ---- extra create parameters (ecp.c) ---- */

/* What a PECP_LIST points at: the ECPs in insertion order. A create carries
 * one in struct fltsim_request's ecp_list (FltCreateFileEx2 puts its
 * IO_DRIVER_CREATE_CONTEXT's ExtraCreateParameter there). */
struct _ECP_LIST {
    ULONG magic; /* FLTSIM_MAGIC_ECP_LIST */
    ULONG flags;
    LIST_ENTRY ecps; /* struct fltsim_ecp_header.link */
};

/* The block behind an ECP context: this header, then the context. */
struct fltsim_ecp_header {
    ULONG magic;        /* FLTSIM_MAGIC_ECP */
    ULONG flags;        /* ecp.c's ECP_* bits; ACKNOWLEDGED atomic */
    fltsim_system *sys; /* of the filter that allocated it (reports), or NULL */
    GUID type;
    ULONG size; /* of the context */
    LIST_ENTRY link;
    struct _ECP_LIST *list; /* the list it is in, or NULL */
    PFSRTL_EXTRA_CREATE_PARAMETER_CLEANUP_CALLBACK cleanup;
    PVOID lookaside; /* the lookaside list it came from, or NULL */
    _Alignas(16) unsigned char context[];
};

/* Frees a list and every ECP in it, each cleanup callback first. */
void fltsim__ecp_list_free(PECP_LIST list);

#endif /* FLTSIM_FLTMGR_FILTER_IO_INTERNAL_H */
