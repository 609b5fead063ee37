/*
 * PRIVATE to fltmgr_model/src/nt: the contract between the code that makes
 * handles to processes and threads (ZwOpenProcess, ZwOpenThread,
 * ObOpenObjectByPointer, ZwDuplicateObject: nt/ps*.c) and the object
 * callbacks drivers register with ObRegisterCallbacks (nt/ob_callbacks.c,
 * SPEC 9). The handle code asks the callbacks before it makes a handle and
 * tells them after; the access the handle grants is what the pre callbacks
 * left of the access asked.
 */
#ifndef FLTSIM_NT_OB_INTERNAL_H
#define FLTSIM_NT_OB_INTERNAL_H

#include "model_internal.h"

struct fltsim_ob_handle_op {
    OB_OPERATION operation; /* OB_OPERATION_HANDLE_CREATE or OB_OPERATION_HANDLE_DUPLICATE */
    PVOID object;           /* the PEPROCESS or PETHREAD the handle is to */
    POBJECT_TYPE type;      /* *PsProcessType or *PsThreadType */
    bool kernel_handle;     /* a kernel handle (OBJ_KERNEL_HANDLE, or the System process's) */
    ACCESS_MASK desired;    /* in: the access asked; after fltsim__ob_pre: what to grant */
    PEPROCESS source_process, target_process; /* a duplicate's (NULL for a create) */
    void *state;                              /* fltsim__ob_pre's, for fltsim__ob_post */
};

/* Runs, on the opening thread at PASSIVE_LEVEL with no model lock held, the
 * pre-operation callbacks registered for op->type and op->operation (in the
 * order nt/ob_callbacks.c documents); op->desired becomes the access they
 * left. Cannot fail (a pre cannot refuse an open, only strip access). */
void fltsim__ob_pre(fltsim_system *sys, struct fltsim_ob_handle_op *op);
/* After the handle was made (status STATUS_SUCCESS, op->desired granted) or
 * not (a failure status: the posts see it as ReturnStatus, GrantedAccess 0,
 * SPEC 9): the post-operation callbacks of the registrations fltsim__ob_pre
 * chose, in the reverse order; releases op->state. Called exactly once after
 * each fltsim__ob_pre. */
void fltsim__ob_post(fltsim_system *sys, struct fltsim_ob_handle_op *op, NTSTATUS status);

#endif /* FLTSIM_NT_OB_INTERNAL_H */
