/*
 * PLACEHOLDER, to be replaced by the merge of the object-callbacks branch
 * (ObRegisterCallbacks, issue 20 item 3): the two functions of the contract
 * in ob_internal.h with no callbacks registered, which on Windows changes
 * nothing: the access asked is the access granted, and no post runs. It lets
 * the handle code of ps_handles.c call the contract before that code lands.
 */
#include "ob_internal.h"

void fltsim__ob_pre(fltsim_system *sys, struct fltsim_ob_handle_op *op)
{
    (void)sys;
    op->state = NULL; /* op->desired stays: no pre strips anything */
}

void fltsim__ob_post(fltsim_system *sys, struct fltsim_ob_handle_op *op, NTSTATUS status)
{
    (void)sys;
    (void)status;
    op->state = NULL;
}
