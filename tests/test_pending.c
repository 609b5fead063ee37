/*
 * Pending (SPEC 3.2-3.3, 4.1, 5.1): a pre that returns FLT_PREOP_PENDING and
 * a post that returns FLT_POSTOP_MORE_PROCESSING_REQUIRED, completed from a
 * deferred I/O work item, from inside the callback, or from another thread
 * before the callback returned; and the verifier's view of the completion
 * routines (V13, V14). Three test filters A (300000), B (200000) and C
 * (100000) over memfs; B is the one that pends unless a case says otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

enum pre_mode {
    PRE_PASS,            /* SUCCESS_WITH_CALLBACK */
    PRE_PEND_WORK,       /* queue a deferred item, return PENDING; the item completes */
    PRE_PEND_INSIDE,     /* complete first, then return PENDING */
    PRE_PEND_EARLY,      /* queue, wait until the item completed, return PENDING */
    PRE_PEND_HOLD,       /* return PENDING; the test completes it */
    PRE_COMPLETE_NO_PEND /* call FltCompletePendedPreOperation, return NO_CALLBACK */
};

enum post_mode {
    POST_PASS,            /* FINISHED_PROCESSING */
    POST_MPR_WORK,        /* queue a deferred item, return MORE_PROCESSING_REQUIRED */
    POST_MPR_INSIDE,      /* FltCompletePendedPostOperation first, then MPR */
    POST_MPR_EARLY,       /* queue, wait until the item completed, return MPR */
    POST_MPR_HOLD,        /* return MPR; the test completes it */
    POST_COMPLETE_NO_PEND /* call FltCompletePendedPostOperation, return FINISHED */
};

struct plan {
    UCHAR major;
    enum pre_mode pre;
    enum post_mode post;
    FLT_PREOP_CALLBACK_STATUS resume_as; /* what the completion says */
    PVOID resume_context;
    NTSTATUS resume_status; /* IoStatus for COMPLETE, or set by the post's worker */
    PVOID pre_context;      /* handed out by a PASS pre */
    bool complete_twice;    /* *_INSIDE: complete a second time */
    ULONG pre_sets_length;  /* PRE_PEND_WORK: the pre changes Read.Length (0: no) */
    ULONG work_sets_length; /* pre_work: change Read.Length first (0: no) */
    bool work_sets_dirty;   /* ... and call FltSetCallbackDataDirty */
    PFILE_OBJECT work_sets_target; /* pre_work: make this the TargetFileObject (dirty) */
    /* observed */
    PFLT_CALLBACK_DATA held;
    ULONG pre_thread, work_thread, post_thread, work_process;
    ULONG pre_length; /* Read.Length the pre saw */
    KIRQL work_irql;
    PVOID post_context;
    NTSTATUS post_saw;
    NTSTATUS queue_status;
    LONG posts;
    KEVENT completed; /* PRE/POST_*_EARLY: the item has completed */
};

struct fixture {
    struct test_world w;
    struct tf_filter a, b, c;
    struct plan pa, pb, pc;
    HANDLE h; /* C:\\a.txt, read and write */
    char buf[8];
    IO_STATUS_BLOCK iosb;
};

static VOID pre_work(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data, PVOID context)
{
    struct plan *p = context;
    p->work_thread = fltsim_thread_id();
    p->work_process = fltsim_thread_process_id();
    p->work_irql = KeGetCurrentIrql();
    rec_add("work");
    if (p->work_sets_length != 0)
        data->Iopb->Parameters.Read.Length = p->work_sets_length;
    if (p->work_sets_dirty)
        FltSetCallbackDataDirty(data);
    if (p->work_sets_target != NULL) {
        data->Iopb->TargetFileObject = p->work_sets_target;
        FltSetCallbackDataDirty(data);
    }
    if (p->resume_as == FLT_PREOP_COMPLETE) {
        data->IoStatus.Status = p->resume_status;
        data->IoStatus.Information = 0;
    }
    FltCompletePendedPreOperation(data, p->resume_as, p->resume_context);
    FltFreeDeferredIoWorkItem(item);
    KeSetEvent(&p->completed, IO_NO_INCREMENT, FALSE);
}

static VOID post_work(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data, PVOID context)
{
    struct plan *p = context;
    p->work_thread = fltsim_thread_id();
    p->work_process = fltsim_thread_process_id();
    p->work_irql = KeGetCurrentIrql();
    rec_add("work");
    if (p->resume_status != 0)
        data->IoStatus.Status = p->resume_status;
    FltCompletePendedPostOperation(data);
    FltFreeDeferredIoWorkItem(item);
    KeSetEvent(&p->completed, IO_NO_INCREMENT, FALSE);
}

static NTSTATUS queue(struct plan *p, PFLT_CALLBACK_DATA data,
                      PFLT_DEFERRED_IO_WORKITEM_ROUTINE routine)
{
    PFLT_DEFERRED_IO_WORKITEM item = FltAllocateDeferredIoWorkItem();
    assert_non_null(item);
    p->queue_status = FltQueueDeferredIoWorkItem(item, data, routine, DelayedWorkQueue, p);
    if (!NT_SUCCESS(p->queue_status))
        FltFreeDeferredIoWorkItem(item);
    return p->queue_status;
}

static FLT_PREOP_CALLBACK_STATUS hook_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                          PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    struct plan *p = tf->user;
    if (p == NULL || data->Iopb->MajorFunction != p->major)
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    p->pre_thread = fltsim_thread_id();
    if (data->Iopb->MajorFunction == IRP_MJ_READ)
        p->pre_length = data->Iopb->Parameters.Read.Length;
    switch (p->pre) {
    case PRE_PASS:
        *context = p->pre_context;
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    case PRE_PEND_WORK:
        if (p->pre_sets_length != 0)
            data->Iopb->Parameters.Read.Length = p->pre_sets_length;
        if (!NT_SUCCESS(queue(p, data, pre_work)))
            return FLT_PREOP_SUCCESS_NO_CALLBACK;
        return FLT_PREOP_PENDING;
    case PRE_PEND_INSIDE:
        if (p->resume_as == FLT_PREOP_COMPLETE)
            data->IoStatus.Status = p->resume_status;
        FltCompletePendedPreOperation(data, p->resume_as, p->resume_context);
        if (p->complete_twice)
            FltCompletePendedPreOperation(data, p->resume_as, p->resume_context);
        return FLT_PREOP_PENDING;
    case PRE_PEND_EARLY:
        if (!NT_SUCCESS(queue(p, data, pre_work)))
            return FLT_PREOP_SUCCESS_NO_CALLBACK;
        KeWaitForSingleObject(&p->completed, Executive, KernelMode, FALSE, NULL);
        return FLT_PREOP_PENDING;
    case PRE_PEND_HOLD:
        p->held = data;
        return FLT_PREOP_PENDING;
    case PRE_COMPLETE_NO_PEND:
        FltCompletePendedPreOperation(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS hook_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID context,
                                            FLT_POST_OPERATION_FLAGS flags)
{
    (void)objects;
    (void)flags;
    struct plan *p = tf->user;
    if (p == NULL || data->Iopb->MajorFunction != p->major)
        return FLT_POSTOP_FINISHED_PROCESSING;
    p->post_thread = fltsim_thread_id();
    p->post_context = context;
    p->post_saw = data->IoStatus.Status;
    p->posts++;
    switch (p->post) {
    case POST_PASS:
        return FLT_POSTOP_FINISHED_PROCESSING;
    case POST_MPR_WORK:
        if (!NT_SUCCESS(queue(p, data, post_work)))
            return FLT_POSTOP_FINISHED_PROCESSING;
        return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
    case POST_MPR_INSIDE:
        FltCompletePendedPostOperation(data);
        if (p->complete_twice)
            FltCompletePendedPostOperation(data);
        return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
    case POST_MPR_EARLY:
        if (!NT_SUCCESS(queue(p, data, post_work)))
            return FLT_POSTOP_FINISHED_PROCESSING;
        KeWaitForSingleObject(&p->completed, Executive, KernelMode, FALSE, NULL);
        return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
    case POST_MPR_HOLD:
        p->held = data;
        return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
    case POST_COMPLETE_NO_PEND:
        FltCompletePendedPostOperation(data);
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static void plan_init(struct plan *p, UCHAR major)
{
    memset(p, 0, sizeof(*p));
    p->major = major;
    p->resume_as = FLT_PREOP_SUCCESS_WITH_CALLBACK;
    KeInitializeEvent(&p->completed, NotificationEvent, FALSE);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_init(&f->b, "B", "200000");
    tf_init(&f->c, "C", "100000");
    struct tf_filter *all[] = {&f->a, &f->b, &f->c};
    struct plan *plans[] = {&f->pa, &f->pb, &f->pc};
    for (int i = 0; i < 3; i++) {
        all[i]->pre = hook_pre;
        all[i]->post = hook_post;
        plan_init(plans[i], IRP_MJ_READ);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->h != NULL)
        assert_status(fltsim_io_close(f->w.sys, f->h), STATUS_SUCCESS);
    world_destroy(&f->w);
    free(f);
    return 0;
}

/* Loads A, B and C, attaches them with a warm-up create (which opens f->h),
 * then arms the plans and records the file system too. */
static void load_all(struct fixture *f)
{
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->b), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->c), STATUS_SUCCESS);
    f->h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ | GENERIC_WRITE);
    f->a.user = &f->pa;
    f->b.user = &f->pb;
    f->c.user = &f->pc;
    rec_trace_system(f->w.sys);
    rec_reset();
}

/* Reads 5 bytes at offset 0 through f->h into f->buf and f->iosb. */
static NTSTATUS read5(struct fixture *f)
{
    LONGLONG zero = 0;
    return fltsim_io_read(f->w.sys, f->h, f->buf, 5, &zero, 0, &f->iosb);
}

#define READ_CHAIN_FROM_B "B:pre:READ work C:pre:READ FS:READ C:post:READ B:post:READ A:post:READ"

/* SPEC 3.3: the work routine's FltCompletePendedPreOperation(WITH_CALLBACK)
 * continues the dispatch on its own thread (a system worker at
 * PASSIVE_LEVEL): lower filters, file system, and the pending filter's post
 * with the context it gave the completion. */
static void pending_pre_resumed_with_callback_from_work_item(void **state)
{
    struct fixture *f = *state;
    f->pb.pre = PRE_PEND_WORK;
    f->pb.resume_context = (PVOID)0x5151;
    load_all(f);
    assert_status(read5(f), STATUS_SUCCESS);
    assert_int_equal(f->iosb.Information, 5);
    assert_memory_equal(f->buf, "hello", 5);
    assert_recorded("A:pre:READ " READ_CHAIN_FROM_B);
    assert_status(f->pb.queue_status, STATUS_SUCCESS);
    assert_ptr_equal(f->pb.post_context, (PVOID)0x5151);
    /* The work routine ran at PASSIVE_LEVEL in the System process, on
     * another thread than the requestor; the lower pre ran there too. */
    assert_int_equal(f->pb.work_irql, PASSIVE_LEVEL);
    assert_int_equal(f->pb.work_process, 4);
    assert_int_not_equal(f->pb.work_thread, f->pb.pre_thread);
    assert_int_equal(f->pc.pre_thread, f->pb.work_thread);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* SPEC 3.3: resuming as FLT_PREOP_COMPLETE ends the operation with the
 * filter's IoStatus: no lower filter, no file system, no post for the
 * pending filter; the posts above it run. */
static void pending_pre_resumed_as_complete(void **state)
{
    struct fixture *f = *state;
    f->pb.pre = PRE_PEND_WORK;
    f->pb.resume_as = FLT_PREOP_COMPLETE;
    f->pb.resume_status = STATUS_ACCESS_DENIED;
    load_all(f);
    assert_status(read5(f), STATUS_ACCESS_DENIED);
    assert_recorded("A:pre:READ B:pre:READ work A:post:READ");
    assert_status(f->pa.post_saw, STATUS_ACCESS_DENIED);
    assert_int_equal(f->pb.posts, 0);
}

/* SPEC 3.3: resuming as SUCCESS_NO_CALLBACK goes on down, without the pending
 * filter's post. */
static void pending_pre_resumed_no_callback(void **state)
{
    struct fixture *f = *state;
    f->pb.pre = PRE_PEND_WORK;
    f->pb.resume_as = FLT_PREOP_SUCCESS_NO_CALLBACK;
    load_all(f);
    assert_status(read5(f), STATUS_SUCCESS);
    assert_recorded("A:pre:READ B:pre:READ work C:pre:READ FS:READ C:post:READ A:post:READ");
    assert_int_equal(f->pb.posts, 0);
}

/* SPEC 3.2: the completion may come from inside the pre, before it returns
 * FLT_PREOP_PENDING; processing continues on the requestor's thread. */
static void pending_pre_completed_inside_the_pre(void **state)
{
    struct fixture *f = *state;
    f->pb.pre = PRE_PEND_INSIDE;
    f->pb.resume_context = (PVOID)0x77;
    load_all(f);
    assert_status(read5(f), STATUS_SUCCESS);
    assert_recorded("A:pre:READ B:pre:READ C:pre:READ FS:READ C:post:READ B:post:READ A:post:READ");
    assert_ptr_equal(f->pb.post_context, (PVOID)0x77);
    assert_int_equal(f->pc.pre_thread, f->pb.pre_thread);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* SPEC 3.2: the completion may come from another thread before the pre has
 * returned; the operation continues once the pre returns, exactly once. */
static void pending_pre_completed_by_another_thread_before_return(void **state)
{
    struct fixture *f = *state;
    f->pb.pre = PRE_PEND_EARLY;
    load_all(f);
    assert_status(read5(f), STATUS_SUCCESS);
    assert_recorded("A:pre:READ B:pre:READ work C:pre:READ FS:READ C:post:READ B:post:READ "
                    "A:post:READ");
    assert_int_equal(f->pb.posts, 1);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* SPEC 3.3: the test itself (any thread) may complete a held operation. */
static void pending_pre_held_until_the_test_completes_it(void **state)
{
    struct fixture *f = *state;
    f->pb.pre = PRE_PEND_HOLD;
    f->pb.major = IRP_MJ_WRITE;
    load_all(f);
    /* An overlapped write returns STATUS_PENDING while B holds it. */
    HANDLE ah = open_overlapped(f->w.sys, L"C:\\a.txt", GENERIC_WRITE);
    rec_reset();
    KEVENT done;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    struct fltsim_io_async io = {.event = &done};
    assert_status(fltsim_io_write_async(f->w.sys, ah, "HELLO", 5, 0, 0, &io), STATUS_PENDING);
    assert_non_null(f->pb.held);
    assert_recorded("A:pre:WRITE B:pre:WRITE");
    assert_int_equal(KeReadStateEvent(&done), 0);
    FltCompletePendedPreOperation(f->pb.held, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    assert_status(KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    assert_status(io.iosb.Status, STATUS_SUCCESS);
    assert_int_equal(io.iosb.Information, 5);
    assert_recorded("A:pre:WRITE B:pre:WRITE C:pre:WRITE FS:WRITE C:post:WRITE B:post:WRITE "
                    "A:post:WRITE");
    assert_status(read5(f), STATUS_SUCCESS);
    assert_memory_equal(f->buf, "HELLO", 5);
    assert_status(fltsim_io_close(f->w.sys, ah), STATUS_SUCCESS);
}

/* SPEC 3.3, V13: only COMPLETE, NO_CALLBACK and WITH_CALLBACK may resume. */
static void pending_pre_resume_with_forbidden_status_is_reported(void **state)
{
    struct fixture *f = *state;
    f->pb.pre = PRE_PEND_WORK;
    f->pb.resume_as = FLT_PREOP_SYNCHRONIZE;
    load_all(f);
    assert_status(read5(f), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V13"), 1);
    /* handled as NO_CALLBACK */
    assert_int_equal(f->pb.posts, 0);
}

/* SPEC 3.3, V13: a Context belongs only to SUCCESS_WITH_CALLBACK. */
static void pending_pre_context_with_complete_is_reported(void **state)
{
    struct fixture *f = *state;
    f->pb.pre = PRE_PEND_WORK;
    f->pb.resume_as = FLT_PREOP_COMPLETE;
    f->pb.resume_status = STATUS_SUCCESS;
    f->pb.resume_context = (PVOID)0x1;
    load_all(f);
    assert_status(read5(f), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V13"), 1);
}

/* SPEC 3.3, V13: completing twice, or completing what was not pended. */
static void pending_pre_completed_twice_is_reported(void **state)
{
    struct fixture *f = *state;
    f->pb.pre = PRE_PEND_INSIDE;
    f->pb.complete_twice = true;
    load_all(f);
    assert_status(read5(f), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V13"), 1);
    assert_int_equal(f->pb.posts, 1);
    assert_recorded("A:pre:READ B:pre:READ C:pre:READ FS:READ C:post:READ B:post:READ A:post:READ");
}

static void pending_pre_completion_of_an_unpended_operation_is_reported(void **state)
{
    struct fixture *f = *state;
    f->pb.pre = PRE_COMPLETE_NO_PEND;
    load_all(f);
    assert_status(read5(f), STATUS_SUCCESS);
    /* Called inside a pre that then did not pend: reported, ignored. */
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V13"), 1);
    assert_recorded("A:pre:READ B:pre:READ C:pre:READ FS:READ C:post:READ A:post:READ");
}

/* SPEC 3.3, V2: resuming WITH_CALLBACK needs a registered post. */
static void pending_pre_resume_with_callback_without_post_is_reported(void **state)
{
    struct fixture *f = *state;
    f->pb.pre = PRE_PEND_WORK;
    f->b.ops[IRP_MJ_READ].post = false;
    load_all(f);
    assert_status(read5(f), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V2"), 1);
    assert_recorded("A:pre:READ B:pre:READ work C:pre:READ FS:READ C:post:READ A:post:READ");
}

/* SPEC 6.3: a parameter change the work routine makes before resuming
 * reaches the filters below only with FltSetCallbackDataDirty; without it
 * the change is undone and reported (V16). */
static void pending_pre_work_routine_parameter_change_needs_dirty(void **state)
{
    struct fixture *f = *state;
    f->pb.pre = PRE_PEND_WORK;
    f->pb.work_sets_length = 3;
    load_all(f);
    assert_status(read5(f), STATUS_SUCCESS);
    assert_int_equal(f->pc.pre_length, 5);
    assert_int_equal(f->iosb.Information, 5);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V16"), 1);

    f->pb.work_sets_dirty = true;
    assert_status(read5(f), STATUS_SUCCESS);
    assert_int_equal(f->pc.pre_length, 3);
    assert_int_equal(f->iosb.Information, 3);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V16"), 1);
}

/* SPEC 3.3, 6.3: the callback data of an operation pended in a pre are the
 * filter's until it completes it; FltMgr takes the parameters as they are
 * then. A change the pre made before pending, made dirty by the work routine,
 * reaches the filters below and is not reported. */
static void pending_pre_parameters_are_taken_at_completion(void **state)
{
    struct fixture *f = *state;
    f->pb.pre = PRE_PEND_WORK;
    f->pb.pre_sets_length = 3;
    f->pb.work_sets_dirty = true;
    load_all(f);
    assert_status(read5(f), STATUS_SUCCESS);
    assert_int_equal(f->pc.pre_length, 3);
    assert_int_equal(f->iosb.Information, 3);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);

    /* Not dirty at completion: ignored and reported once (V16). */
    f->pb.work_sets_dirty = false;
    assert_status(read5(f), STATUS_SUCCESS);
    assert_int_equal(f->pc.pre_length, 5);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V16"), 1);
}

/* SPEC 3.2: two filters pend the same operation one after the other. */
static void pending_pre_in_two_filters(void **state)
{
    struct fixture *f = *state;
    f->pa.pre = PRE_PEND_WORK;
    f->pc.pre = PRE_PEND_WORK;
    load_all(f);
    assert_status(read5(f), STATUS_SUCCESS);
    assert_recorded("A:pre:READ work B:pre:READ C:pre:READ work FS:READ C:post:READ B:post:READ "
                    "A:post:READ");
}

/* SPEC 4.1, 5.1: MORE_PROCESSING_REQUIRED halts completion until the work
 * routine's FltCompletePendedPostOperation, which resumes it with the next
 * filter up on the routine's thread, keeping the failure status it set. */
static void pending_post_resumed_from_work_item_keeps_its_status(void **state)
{
    struct fixture *f = *state;
    f->pb.post = POST_MPR_WORK;
    f->pb.resume_status = STATUS_ACCESS_DENIED;
    load_all(f);
    assert_status(read5(f), STATUS_ACCESS_DENIED);
    assert_recorded("A:pre:READ B:pre:READ C:pre:READ FS:READ C:post:READ B:post:READ work "
                    "A:post:READ");
    assert_status(f->pa.post_saw, STATUS_ACCESS_DENIED);
    assert_int_equal(f->pa.post_thread, f->pb.work_thread);
    assert_int_equal(f->pb.work_irql, PASSIVE_LEVEL);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* SPEC 5.1: completing from inside the post, before it returns. */
static void pending_post_completed_inside_the_post(void **state)
{
    struct fixture *f = *state;
    f->pb.post = POST_MPR_INSIDE;
    load_all(f);
    assert_status(read5(f), STATUS_SUCCESS);
    assert_recorded("A:pre:READ B:pre:READ C:pre:READ FS:READ C:post:READ B:post:READ A:post:READ");
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* SPEC 5.1: completed by the work item before the post returned. */
static void pending_post_completed_before_the_post_returns(void **state)
{
    struct fixture *f = *state;
    f->pb.post = POST_MPR_EARLY;
    load_all(f);
    assert_status(read5(f), STATUS_SUCCESS);
    assert_recorded("A:pre:READ B:pre:READ C:pre:READ FS:READ C:post:READ B:post:READ work "
                    "A:post:READ");
    assert_int_equal(f->pa.posts, 1);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* SPEC 5.1, V14: completing twice, or an operation that is not pended. */
static void pending_post_completed_twice_is_reported(void **state)
{
    struct fixture *f = *state;
    f->pb.post = POST_MPR_INSIDE;
    f->pb.complete_twice = true;
    load_all(f);
    assert_status(read5(f), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V14"), 1);
    assert_int_equal(f->pa.posts, 1);
}

static void pending_post_completion_without_pend_is_reported(void **state)
{
    struct fixture *f = *state;
    f->pb.post = POST_COMPLETE_NO_PEND;
    load_all(f);
    assert_status(read5(f), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V14"), 1);
    assert_recorded("A:pre:READ B:pre:READ C:pre:READ FS:READ C:post:READ B:post:READ A:post:READ");
}

/* SPEC 4.1: a held post is resumed by the test; the overlapped request's
 * callback runs once, at PASSIVE_LEVEL. */
struct async_seen {
    LONG calls;
    KIRQL irql;
    NTSTATUS status;
};

static void async_callback(struct fltsim_io_async *io, void *ctx)
{
    struct async_seen *seen = ctx;
    seen->calls++;
    seen->irql = KeGetCurrentIrql();
    seen->status = io->iosb.Status;
}

static void pending_post_held_overlapped_read_completes_through_callback(void **state)
{
    struct fixture *f = *state;
    f->pb.post = POST_MPR_HOLD;
    load_all(f);
    HANDLE ah = open_overlapped(f->w.sys, L"C:\\a.txt", GENERIC_READ);
    rec_reset();
    KEVENT done;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    struct async_seen seen = {0};
    char buf[8] = {0};
    struct fltsim_io_async io = {.event = &done, .callback = async_callback, .ctx = &seen};
    assert_status(fltsim_io_read_async(f->w.sys, ah, buf, 5, 6, 0, &io), STATUS_PENDING);
    assert_recorded("A:pre:READ B:pre:READ C:pre:READ FS:READ C:post:READ B:post:READ");
    assert_int_equal(seen.calls, 0);
    assert_non_null(f->pb.held);
    FltCompletePendedPostOperation(f->pb.held);
    assert_status(KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.irql, PASSIVE_LEVEL);
    assert_status(seen.status, STATUS_SUCCESS);
    assert_int_equal(io.iosb.Information, 5);
    assert_memory_equal(buf, "world", 5);
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(seen.calls, 1);
    assert_status(fltsim_io_close(f->w.sys, ah), STATUS_SUCCESS);
}

/* An overlapped read that nobody pends completes at once: final status, the
 * event signaled, no callback. */
static void pending_overlapped_read_not_pended_returns_final_status(void **state)
{
    struct fixture *f = *state;
    load_all(f);
    HANDLE ah = open_overlapped(f->w.sys, L"C:\\a.txt", GENERIC_READ);
    KEVENT done;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    struct async_seen seen = {0};
    char buf[8] = {0};
    struct fltsim_io_async io = {.event = &done, .callback = async_callback, .ctx = &seen};
    assert_status(fltsim_io_read_async(f->w.sys, ah, buf, 5, 0, 0, &io), STATUS_SUCCESS);
    assert_int_equal(KeReadStateEvent(&done), 1);
    assert_int_equal(seen.calls, 0);
    assert_int_equal(io.iosb.Information, 5);
    assert_status(fltsim_io_close(f->w.sys, ah), STATUS_SUCCESS);
}

/* SPEC 3.1, 4.1: posts and pres pend in the same operation. */
static void pending_pre_and_post_in_one_operation(void **state)
{
    struct fixture *f = *state;
    f->pa.pre = PRE_PEND_WORK;
    f->pc.post = POST_MPR_WORK;
    load_all(f);
    assert_status(read5(f), STATUS_SUCCESS);
    assert_recorded("A:pre:READ work B:pre:READ C:pre:READ FS:READ C:post:READ work B:post:READ "
                    "A:post:READ");
}

/* The trace shows the pend and the resume. */
static void trace_to_buffer(void *ctx, const struct fltsim_event *ev)
{
    char *buf = ctx;
    const char *name = NULL;
    switch (ev->type) {
    case FLTSIM_EV_PEND:
        name = ev->flags ? "pend-post" : "pend-pre";
        break;
    case FLTSIM_EV_RESUME:
        name = ev->flags ? "resume-post" : "resume-pre";
        break;
    case FLTSIM_EV_WORK_QUEUED:
        name = "queued";
        break;
    case FLTSIM_EV_WORK_RUN:
        name = "run";
        break;
    default:
        return;
    }
    size_t len = strlen(buf);
    snprintf(buf + len, 512 - len, "%s%s:%s", len ? " " : "", name, ev->filter ? ev->filter : "-");
}

static void pending_trace_shows_pend_queue_run_resume(void **state)
{
    struct fixture *f = *state;
    f->pb.pre = PRE_PEND_WORK;
    f->pc.post = POST_MPR_WORK;
    load_all(f);
    char events[512] = "";
    fltsim_system_set_trace(f->w.sys, trace_to_buffer, events);
    assert_status(read5(f), STATUS_SUCCESS);
    fltsim_system_set_trace(f->w.sys, NULL, NULL);
    /* The worker may start before the pend is traced, but each filter's
     * pend precedes its resume, and its queue precedes the run. */
    const char *order[][2] = {{"queued:B", "run:B"},
                              {"pend-pre:B", "resume-pre:B"},
                              {"resume-pre:B", "queued:C"},
                              {"queued:C", "run:C"},
                              {"pend-post:C", "resume-post:C"}};
    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
        const char *first = strstr(events, order[k][0]);
        const char *second = strstr(events, order[k][1]);
        if (first == NULL || second == NULL || first > second)
            fail_msg("trace \"%s\": expected %s before %s", events, order[k][0], order[k][1]);
    }
}

/* SPEC 3.2-3.3, V8: a pended pre completed with FLT_PREOP_COMPLETE needs a
 * final status, as a COMPLETE returned directly does; both resume routes. */
static void pending_pre_resumed_complete_with_status_pending_is_reported(void **state)
{
    struct fixture *f = *state;
    f->pb.pre = PRE_PEND_WORK;
    f->pb.resume_as = FLT_PREOP_COMPLETE;
    f->pb.resume_status = STATUS_PENDING;
    load_all(f);
    read5(f);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V8"), 1);
}

static void pending_pre_completed_inside_as_complete_with_status_pending_is_reported(void **state)
{
    struct fixture *f = *state;
    f->pb.pre = PRE_PEND_INSIDE;
    f->pb.resume_as = FLT_PREOP_COMPLETE;
    f->pb.resume_status = STATUS_PENDING;
    load_all(f);
    read5(f);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V8"), 1);
}

/* The correct twin: a final status, no report. */
static void pending_pre_completed_inside_as_complete_with_final_status_is_clean(void **state)
{
    struct fixture *f = *state;
    f->pb.pre = PRE_PEND_INSIDE;
    f->pb.resume_as = FLT_PREOP_COMPLETE;
    f->pb.resume_status = STATUS_ACCESS_DENIED;
    load_all(f);
    assert_status(read5(f), STATUS_ACCESS_DENIED);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* SPEC 3.2, V9: a pended cleanup completed with a failure; the twin
 * completes it with STATUS_SUCCESS and is not reported. */
static void pending_cleanup_resumed_as_failure_is_reported(void **state)
{
    struct fixture *f = *state;
    f->pb.major = IRP_MJ_CLEANUP;
    f->pb.pre = PRE_PEND_WORK;
    f->pb.resume_as = FLT_PREOP_COMPLETE;
    f->pb.resume_status = STATUS_ACCESS_DENIED;
    load_all(f);
    assert_status(fltsim_io_close(f->w.sys, f->h), STATUS_SUCCESS);
    f->h = NULL;
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V9"), 1);
}

static void pending_cleanup_resumed_as_success_is_clean(void **state)
{
    struct fixture *f = *state;
    f->pb.major = IRP_MJ_CLEANUP;
    f->pb.pre = PRE_PEND_WORK;
    f->pb.resume_as = FLT_PREOP_COMPLETE;
    f->pb.resume_status = STATUS_SUCCESS;
    load_all(f);
    assert_status(fltsim_io_close(f->w.sys, f->h), STATUS_SUCCESS);
    f->h = NULL;
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* SPEC 3.2, V18: the work routine retargets the operation to another file
 * object (dirty) and then completes it. The twin retargets and lets it go
 * down (SUCCESS_WITH_CALLBACK): no report. */
static void pending_pre_retarget_then_complete_is_reported(void **state)
{
    struct fixture *f = *state;
    HANDLE other = world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ);
    f->pb.pre = PRE_PEND_WORK;
    f->pb.resume_as = FLT_PREOP_COMPLETE;
    f->pb.resume_status = STATUS_SUCCESS;
    f->pb.work_sets_target = fltsim_io_file_object(f->w.sys, other);
    assert_non_null(f->pb.work_sets_target);
    load_all(f);
    read5(f);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V18"), 1);
    assert_status(fltsim_io_close(f->w.sys, other), STATUS_SUCCESS);
}

static void pending_pre_retarget_then_pass_down_is_clean(void **state)
{
    struct fixture *f = *state;
    HANDLE other = world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ);
    f->pb.pre = PRE_PEND_WORK;
    f->pb.resume_as = FLT_PREOP_SUCCESS_WITH_CALLBACK;
    f->pb.work_sets_target = fltsim_io_file_object(f->w.sys, other);
    load_all(f);
    read5(f);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, other), STATUS_SUCCESS);
}

int main(void)
{
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        CASE(pending_pre_resumed_with_callback_from_work_item),
        CASE(pending_pre_parameters_are_taken_at_completion),
        CASE(pending_pre_resumed_as_complete),
        CASE(pending_pre_resumed_no_callback),
        CASE(pending_pre_completed_inside_the_pre),
        CASE(pending_pre_completed_by_another_thread_before_return),
        CASE(pending_pre_held_until_the_test_completes_it),
        CASE(pending_pre_resume_with_forbidden_status_is_reported),
        CASE(pending_pre_context_with_complete_is_reported),
        CASE(pending_pre_completed_twice_is_reported),
        CASE(pending_pre_completion_of_an_unpended_operation_is_reported),
        CASE(pending_pre_resume_with_callback_without_post_is_reported),
        CASE(pending_pre_work_routine_parameter_change_needs_dirty),
        CASE(pending_pre_in_two_filters),
        CASE(pending_post_resumed_from_work_item_keeps_its_status),
        CASE(pending_post_completed_inside_the_post),
        CASE(pending_post_completed_before_the_post_returns),
        CASE(pending_post_completed_twice_is_reported),
        CASE(pending_post_completion_without_pend_is_reported),
        CASE(pending_post_held_overlapped_read_completes_through_callback),
        CASE(pending_overlapped_read_not_pended_returns_final_status),
        CASE(pending_pre_and_post_in_one_operation),
        CASE(pending_trace_shows_pend_queue_run_resume),
        CASE(pending_pre_resumed_complete_with_status_pending_is_reported),
        CASE(pending_pre_completed_inside_as_complete_with_status_pending_is_reported),
        CASE(pending_pre_completed_inside_as_complete_with_final_status_is_clean),
        CASE(pending_cleanup_resumed_as_failure_is_reported),
        CASE(pending_cleanup_resumed_as_success_is_clean),
        CASE(pending_pre_retarget_then_complete_is_reported),
        CASE(pending_pre_retarget_then_pass_down_is_clean),
    };
    return FLTSIM_RUN_SUITE("pending", tests);
}
