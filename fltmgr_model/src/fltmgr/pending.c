/*
 * Completing pended operations (SPEC 3.3, 5.1): FltCompletePendedPreOperation
 * and FltCompletePendedPostOperation, the completer's side of the pend
 * handshake with a callback that may not have returned yet (SPEC 3.2), and
 * the checks on their callers (V13, V14). The operation then goes on, on the
 * completing thread, through the same steps a callback's return takes
 * (pre.c, post.c).
 */
#include <stdio.h>

#include "dispatch_internal.h"

/* Reports a wrong call about op (which may be NULL). */
static void bad_call(struct fltsim_op *op, const char *rule, const char *spec, const char *fmt,
                     const char *api, const void *data)
{
    struct fltsim_tls *t = fltsim__tls();
    fltsim_system *sys = op != NULL ? op->sys : t->sys;
    char message[256];
    snprintf(message, sizeof(message), fmt, api, data);
    if (sys != NULL)
        fltsim__report(sys, t->filter, NULL, op, rule, spec, "%s", message);
    else
        fprintf(stderr, "fltsim: %s: %s\n", rule, message);
}

/* The operation behind data when it is a real one (not a draining copy). */
static struct fltsim_op *pended_op(PFLT_CALLBACK_DATA data, const char *api, const char *rule,
                                   const char *spec)
{
    struct fltsim_op *op = fltsim__op_from_data(data);
    if (op == NULL) {
        bad_call(NULL, rule, spec, "%s(%p): not the callback data of an operation in flight", api,
                 data);
        return NULL;
    }
    if (op->drain_copy) {
        bad_call(op, rule, spec,
                 "%s(%p): the copy of the callback data a draining post gets cannot be pended "
                 "or completed (SPEC 4.4)",
                 api, data);
        return NULL;
    }
    return op;
}

enum claim { CLAIM_EARLY, CLAIM_TAKEN, CLAIM_NONE };

/* The completer's side of a pend handshake (SPEC 3.2): EARLY when the
 * callback is still running (it goes on by itself once it returns), TAKEN
 * when it had returned (the caller now advances the operation), NONE when
 * nothing is pended. Exactly one completer gets EARLY or TAKEN. */
static enum claim claim_pend(LONG *pend)
{
    LONG expected = FLTSIM_PEND_RUNNING;
    if (__atomic_compare_exchange_n(pend, &expected, FLTSIM_PEND_EARLY, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
        return CLAIM_EARLY;
    if (expected == FLTSIM_PEND_PENDED &&
        __atomic_compare_exchange_n(pend, &expected, FLTSIM_PEND_NONE, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
        return CLAIM_TAKEN;
    return CLAIM_NONE;
}

/* Advances a resumed operation on the completing thread (outside any
 * filter's context), then serves the posts it owes this thread. Drops the
 * caller's reference. */
static void continue_here(struct fltsim_op *op)
{
    struct fltsim_callout save;
    fltsim__enter(&save, op->sys, NULL, NULL);
    fltsim__advance(op);
    fltsim__wait_for(op, false);
    fltsim__leave(&save);
    fltsim__op_unref(op);
}

VOID FltCompletePendedPreOperation(PFLT_CALLBACK_DATA CallbackData,
                                   FLT_PREOP_CALLBACK_STATUS CallbackStatus, PVOID Context)
{
    static const char api[] = "FltCompletePendedPreOperation";
    struct fltsim_op *op = pended_op(CallbackData, api, "V13", "3.3");
    if (op == NULL)
        return;
    fltsim_system *sys = op->sys;
    fltsim__check_irql(sys, CallbackStatus == FLT_PREOP_COMPLETE ? DISPATCH_LEVEL : APC_LEVEL, api);
    if (CallbackStatus != FLT_PREOP_COMPLETE && CallbackStatus != FLT_PREOP_SUCCESS_NO_CALLBACK &&
        CallbackStatus != FLT_PREOP_SUCCESS_WITH_CALLBACK) {
        fltsim__report(sys, fltsim__tls()->filter, NULL, op, "V13", "3.3",
                       "%s with %s; only FLT_PREOP_COMPLETE, FLT_PREOP_SUCCESS_NO_CALLBACK and "
                       "FLT_PREOP_SUCCESS_WITH_CALLBACK are allowed; handled as "
                       "FLT_PREOP_SUCCESS_NO_CALLBACK",
                       api, fltsim__pre_name(CallbackStatus));
        CallbackStatus = FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    if (Context != NULL && CallbackStatus != FLT_PREOP_SUCCESS_WITH_CALLBACK) {
        fltsim__report(sys, fltsim__tls()->filter, NULL, op, "V13", "3.3",
                       "%s with a Context for %s; the context is only for "
                       "FLT_PREOP_SUCCESS_WITH_CALLBACK (ignored)",
                       api, fltsim__pre_name(CallbackStatus));
        Context = NULL;
    }

    /* Its cancel routine is not called from now on (SPEC 7.4). */
    fltsim__cancel_completing(op, api);
    /* Read by run_pre (pre.c) when the completion beats the pre's return. */
    op->resume_status = CallbackStatus;
    op->resume_context = Context;
    enum claim claim = claim_pend(&op->pre_pend);
    if (claim == CLAIM_EARLY)
        return; /* the pre has not returned yet: run_pre continues */
    if (claim == CLAIM_TAKEN) {
        /* Continue the dispatch on this thread as if the pre had returned
         * CallbackStatus (SPEC 3.3). */
        fltsim__op_ref(op);
        ULONG i = op->pre_pend_node;
        if (fltsim__tracing(sys))
            fltsim__trace_op(op, FLTSIM_EV_RESUME, i, &op->nodes[i], (LONG)CallbackStatus, 0);
        /* The work routine may have changed the parameters: the same rule
         * as at a pre's return (SPEC 6.3). */
        fltsim__take_parameter_changes(op, &op->nodes[i], op->thread, op->mode,
                                       CallbackStatus == FLT_PREOP_COMPLETE);
        if (CallbackStatus == FLT_PREOP_COMPLETE)
            fltsim__check_complete(op, &op->nodes[i]);
        fltsim__apply_pre(op, i, CallbackStatus, Context);
        continue_here(op);
        return;
    }
    fltsim__report(sys, fltsim__tls()->filter, NULL, op, "V13", "3.3",
                   "%s for an operation that is not pended in a pre-operation callback (or "
                   "completed twice); ignored",
                   api);
}

VOID FltCompletePendedPostOperation(PFLT_CALLBACK_DATA CallbackData)
{
    static const char api[] = "FltCompletePendedPostOperation";
    struct fltsim_op *op = pended_op(CallbackData, api, "V14", "5.1");
    if (op == NULL)
        return;
    fltsim_system *sys = op->sys;
    fltsim__check_irql(sys, DISPATCH_LEVEL, api);
    fltsim__cancel_completing(op, api);

    enum claim claim = claim_pend(&op->post_pend);
    if (claim == CLAIM_EARLY)
        return; /* the post has not returned yet: run_post (post.c) continues */
    if (claim == CLAIM_TAKEN) {
        /* Completion resumes with the next filter up, on this thread,
         * whatever IoStatus the filter left (SPEC 4.1, 5.1). */
        fltsim__op_ref(op);
        ULONG j = op->post_pend_node;
        if (fltsim__tracing(sys))
            fltsim__trace_op(op, FLTSIM_EV_RESUME, j, &op->nodes[j], op->data.IoStatus.Status, 1);
        fltsim__check_post_status(op, &op->nodes[j], op->post_before);
        op->data.Flags &= ~FLTFL_CALLBACK_DATA_DIRTY;
        fltsim__node_done(op, &op->nodes[j]);
        op->cursor = j;
        continue_here(op);
        return;
    }
    fltsim__report(sys, fltsim__tls()->filter, NULL, op, "V14", "5.1",
                   "%s for an operation that is not pended in a post-operation callback (or "
                   "completed twice); ignored",
                   api);
}
