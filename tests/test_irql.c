/*
 * Threads and IRQL (DESIGN decision 4, SPEC 3.4, 4.2, 6.6): per-thread IRQL
 * and top-level IRP; where and at which IRQL posts run when the file system
 * completes asynchronously (DISPATCH_LEVEL on the completion context) and the
 * exceptions (SYNCHRONIZE, create, fast I/O: the pre's thread at
 * PASSIVE_LEVEL); a file system that answers STATUS_PENDING and completes
 * later; and the Ke synchronization routines filters use with work items,
 * across threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

/* ---- per-thread state ---- */

struct probe {
    KIRQL irql;
    PIRP top_level;
    ULONG thread;
};

static void probe_thread(void *arg)
{
    struct probe *p = arg;
    p->irql = KeGetCurrentIrql();
    p->top_level = IoGetTopLevelIrp();
    p->thread = fltsim_thread_id();
}

/* DESIGN decision 4: IRQL and TopLevelIrp belong to the thread. */
static void irql_and_top_level_irp_are_per_thread(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    assert_int_equal(old, PASSIVE_LEVEL);
    assert_int_equal(KeGetCurrentIrql(), DISPATCH_LEVEL);
    IoSetTopLevelIrp(FSRTL_CACHE_TOP_LEVEL_IRP);
    assert_ptr_equal(IoGetTopLevelIrp(), FSRTL_CACHE_TOP_LEVEL_IRP);

    struct probe p = {0xff, (PIRP)1, 0};
    fltsim_thread *t;
    assert_status(fltsim_thread_spawn(w.sys, 1000, 4001, probe_thread, &p, &t), STATUS_SUCCESS);
    /* Joining waits; waiting above APC_LEVEL would be a V28 violation. */
    KeLowerIrql(old);
    fltsim_thread_join(t);
    assert_int_equal(p.irql, PASSIVE_LEVEL);
    assert_null(p.top_level);
    assert_int_equal(p.thread, 4001);
    assert_ptr_equal(IoGetTopLevelIrp(), FSRTL_CACHE_TOP_LEVEL_IRP);
    IoSetTopLevelIrp(NULL);
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

/* IoGetStackLimits gives the calling thread's own stack: its frames lie
 * inside, pool and another thread's frames do not (avscan's "stack file
 * objects are never scanned" test relies on it). */
struct stack_probe {
    ULONG_PTR low, high, frame, remaining;
    PVOID pool;
    ULONG_PTR other_frame; /* a frame of the thread that spawned the probe */
    bool local_inside, pool_inside, other_inside;
};

static void stack_probe_thread(void *arg)
{
    struct stack_probe *p = arg;
    FILE_OBJECT on_stack; /* what avscan looks for */
    IoGetStackLimits(&p->low, &p->high);
    p->frame = (ULONG_PTR)__builtin_frame_address(0);
    p->remaining = IoGetRemainingStackSize();
    p->local_inside = (ULONG_PTR)&on_stack >= p->low && (ULONG_PTR)&on_stack < p->high;
    p->pool_inside = (ULONG_PTR)p->pool >= p->low && (ULONG_PTR)p->pool < p->high;
    p->other_inside = p->other_frame >= p->low && p->other_frame < p->high;
}

static void stack_limits_are_the_threads_own(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct stack_probe mine = {.pool = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, 'kctS')};
    assert_non_null(mine.pool);
    stack_probe_thread(&mine);
    struct stack_probe theirs = {.pool = mine.pool, .other_frame = mine.frame};
    fltsim_thread *t;
    assert_status(fltsim_thread_spawn(w.sys, 1000, 4001, stack_probe_thread, &theirs, &t),
                  STATUS_SUCCESS);
    fltsim_thread_join(t);
    for (int i = 0; i < 2; i++) {
        const struct stack_probe *p = i == 0 ? &mine : &theirs;
        assert_true(p->low < p->high);
        assert_true(p->frame >= p->low && p->frame < p->high);
        assert_true(p->remaining > 0 && p->remaining < p->high - p->low);
        assert_true(p->local_inside);
        assert_false(p->pool_inside);
    }
    assert_false(theirs.other_inside);
    assert_true(theirs.low != mine.low);
    ExFreePoolWithTag(mine.pool, 'kctS');
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

/* A world with one test filter A whose pre-create is pre; returns a handle
 * opened through it. */
static HANDLE open_through_create_filter(struct test_world *w, struct tf_filter *a, tf_pre_fn pre)
{
    world_create(w, 0);
    tf_init(a, "A", "300000");
    tf_only(a, IRP_MJ_CREATE);
    a->pre = pre;
    assert_status(tf_load(w->sys, a), STATUS_SUCCESS);
    return world_open(w, L"C:\\a.txt", GENERIC_READ);
}

/* Raising must go up, lowering down (V28 when called from filter code;
 * ignored either way). */
static KIRQL bad_raise_seen;

static FLT_PREOP_CALLBACK_STATUS bad_irql_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                              PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)data;
    (void)objects;
    (void)context;
    KIRQL old;
    KeRaiseIrql(APC_LEVEL, &old);
    KeRaiseIrql(PASSIVE_LEVEL, &old); /* down: wrong */
    bad_raise_seen = KeGetCurrentIrql();
    KeLowerIrql(DISPATCH_LEVEL); /* up: wrong */
    KeLowerIrql(PASSIVE_LEVEL);
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void irql_wrong_direction_is_reported(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter a;
    HANDLE h = open_through_create_filter(&w, &a, bad_irql_pre);
    assert_int_equal(bad_raise_seen, APC_LEVEL);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V28"), 2);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    world_destroy(&w);
}

/* ---- where posts run ---- */

struct where {
    KIRQL pre_irql, post_irql;
    ULONG pre_thread, post_thread, post_process;
    bool synchronize;
    UCHAR major;
};

static struct where wa, wb;

static FLT_PREOP_CALLBACK_STATUS where_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                           PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    struct where *w = tf->user;
    if (data->Iopb->MajorFunction != w->major)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    w->pre_irql = KeGetCurrentIrql();
    w->pre_thread = fltsim_thread_id();
    return w->synchronize ? FLT_PREOP_SYNCHRONIZE : FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS where_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                             PCFLT_RELATED_OBJECTS objects, PVOID context,
                                             FLT_POST_OPERATION_FLAGS flags)
{
    (void)data;
    (void)objects;
    (void)context;
    (void)flags;
    struct where *w = tf->user;
    w->post_irql = KeGetCurrentIrql();
    w->post_thread = fltsim_thread_id();
    w->post_process = fltsim_thread_process_id();
    return FLT_POSTOP_FINISHED_PROCESSING;
}

struct fixture {
    struct test_world w;
    struct tf_filter a, b;
};

static int setup_async(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create_ex(&f->w, 0, FLTSIM_COMPLETE_ASYNC);
    tf_init(&f->a, "A", "300000");
    tf_init(&f->b, "B", "200000");
    memset(&wa, 0, sizeof(wa));
    memset(&wb, 0, sizeof(wb));
    f->a.pre = f->b.pre = where_pre;
    f->a.post = f->b.post = where_post;
    f->a.user = &wa;
    f->b.user = &wb;
    wa.major = wb.major = IRP_MJ_CREATE;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->b), STATUS_SUCCESS);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    world_destroy(&f->w);
    free(f);
    return 0;
}

static NTSTATUS read5(struct fixture *f, HANDLE h, ULONG flags)
{
    char buf[8];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    return fltsim_io_read(f->w.sys, h, buf, 5, &zero, flags, &iosb);
}

/* SPEC 4.2 [SIM]: with an asynchronously completing file system, posts run
 * on the completion context (a system thread) at DISPATCH_LEVEL; the pres
 * ran on the requestor at PASSIVE_LEVEL. */
static void posts_run_at_dispatch_on_the_completion_thread(void **state)
{
    struct fixture *f = *state;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    wa.major = wb.major = IRP_MJ_READ;
    assert_status(read5(f, h, 0), STATUS_SUCCESS);
    assert_int_equal(wa.pre_irql, PASSIVE_LEVEL);
    assert_int_equal(wa.pre_thread, fltsim_thread_id());
    assert_int_equal(wa.post_irql, DISPATCH_LEVEL);
    assert_int_equal(wb.post_irql, DISPATCH_LEVEL);
    assert_int_not_equal(wa.post_thread, fltsim_thread_id());
    assert_int_equal(wa.post_process, 4);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 4.2: SYNCHRONIZE brings the post back to the pre's thread at
 * PASSIVE_LEVEL; the filter below that did not synchronize still gets its
 * post at DISPATCH_LEVEL on the completion thread, first. */
static void synchronized_post_returns_to_the_pre_thread(void **state)
{
    struct fixture *f = *state;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    wa.major = wb.major = IRP_MJ_READ;
    wa.synchronize = true;
    rec_reset();
    assert_status(read5(f, h, 0), STATUS_SUCCESS);
    assert_int_equal(wa.post_irql, PASSIVE_LEVEL);
    assert_int_equal(wa.post_thread, wa.pre_thread);
    assert_int_equal(wb.post_irql, DISPATCH_LEVEL);
    assert_int_not_equal(wb.post_thread, wa.pre_thread);
    assert_recorded("A:pre:READ B:pre:READ B:post:READ A:post:READ");
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 4.2: post-create runs at PASSIVE_LEVEL on the thread that issued the
 * create, even when the file system completes asynchronously. */
static void post_create_runs_on_the_issuer_at_passive(void **state)
{
    struct fixture *f = *state;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_int_equal(wa.post_irql, PASSIVE_LEVEL);
    assert_int_equal(wb.post_irql, PASSIVE_LEVEL);
    assert_int_equal(wa.post_thread, fltsim_thread_id());
    assert_int_equal(wb.post_thread, fltsim_thread_id());
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 4.2: fast I/O posts run on the pre's thread at PASSIVE_LEVEL. */
static void fast_io_posts_run_on_the_pre_thread(void **state)
{
    struct fixture *f = *state;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    wa.major = wb.major = IRP_MJ_READ;
    assert_status(read5(f, h, FLTSIM_IO_FAST), STATUS_SUCCESS);
    assert_int_equal(wa.post_irql, PASSIVE_LEVEL);
    assert_int_equal(wa.post_thread, wa.pre_thread);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 4.2: posts at DISPATCH_LEVEL cannot call PASSIVE-only routines; the
 * IRQL checks (V28) catch it. */
static FLT_POSTOP_CALLBACK_STATUS post_calls_passive_routine(struct tf_filter *tf,
                                                             PFLT_CALLBACK_DATA data,
                                                             PCFLT_RELATED_OBJECTS objects,
                                                             PVOID context,
                                                             FLT_POST_OPERATION_FLAGS flags)
{
    (void)tf;
    (void)context;
    (void)flags;
    (void)objects;
    if (data->Iopb->MajorFunction == IRP_MJ_READ) {
        /* Waiting (even on a signaled event) needs <= APC_LEVEL. */
        KEVENT ev;
        KeInitializeEvent(&ev, NotificationEvent, TRUE);
        KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, NULL);
    }
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static void passive_routine_in_a_dispatch_post_is_reported(void **state)
{
    struct fixture *f = *state;
    f->a.post = post_calls_passive_routine;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    wa.major = IRP_MJ_READ;
    assert_status(read5(f, h, 0), STATUS_SUCCESS);
    assert_true(fltsim_system_report_count_rule(f->w.sys, "V28") >= 1);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* ---- a file system that answers STATUS_PENDING ---- */

static PFLT_CALLBACK_DATA pending_irp;
static struct fltsim_memfs *pending_fs_memfs;

static NTSTATUS pending_irp_cb(void *fs, PFLT_CALLBACK_DATA data)
{
    if (data->Iopb->MajorFunction == IRP_MJ_READ) {
        __atomic_store_n(&pending_irp, data, __ATOMIC_SEQ_CST);
        return STATUS_PENDING;
    }
    return fltsim_memfs_ops.irp_cb(fs, data);
}

static const struct fltsim_fs_ops pending_fs_ops = {
    .name = "pending-memfs",
    .irp_cb = pending_irp_cb,
    .release_cb = NULL,
};

/* fltsim_fs_complete (DESIGN decision 4): the file system answers the read
 * later from another thread; the posts then run at DISPATCH_LEVEL and the
 * overlapped request completes through its event. */
static void file_system_completes_later(void **state)
{
    (void)state;
    struct fltsim_system_options opts = test_options(0);
    fltsim_system *sys;
    assert_status(fltsim_system_create(&opts, &sys), STATUS_SUCCESS);
    assert_status(fltsim_memfs_create(NULL, &pending_fs_memfs), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(pending_fs_memfs, L"\\a.txt", "hello world", 11),
                  STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume1",
                                      .drive_letter = L'C',
                                      .ops = &pending_fs_ops,
                                      .fs = pending_fs_memfs,
                                      .fs_type = FLT_FSTYPE_NTFS};
    PFLT_VOLUME volume;
    assert_status(fltsim_volume_mount(sys, &vp, &volume), STATUS_SUCCESS);
    tf_reset_all();
    struct tf_filter a;
    tf_init(&a, "A", "300000");
    memset(&wa, 0, sizeof(wa));
    wa.major = IRP_MJ_READ;
    a.pre = where_pre;
    a.post = where_post;
    a.user = &wa;
    assert_status(tf_load(sys, &a), STATUS_SUCCESS);

    HANDLE h = open_overlapped(sys, L"C:\\a.txt", GENERIC_READ);
    pending_irp = NULL;
    KEVENT done;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    char buf[8] = {0};
    struct fltsim_io_async io = {.event = &done};
    assert_status(fltsim_io_read_async(sys, h, buf, 5, 0, 0, &io), STATUS_PENDING);
    PFLT_CALLBACK_DATA data = __atomic_load_n(&pending_irp, __ATOMIC_SEQ_CST);
    assert_non_null(data);
    assert_int_equal(wa.post_thread, 0); /* no post yet */
    /* The file system does the work now and completes the IRP. */
    data->IoStatus.Status = fltsim_memfs_ops.irp_cb(pending_fs_memfs, data);
    fltsim_fs_complete(data);
    assert_status(KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    assert_status(io.iosb.Status, STATUS_SUCCESS);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(wa.post_irql, DISPATCH_LEVEL);
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
    fltsim_system_destroy(sys);
    fltsim_memfs_destroy(pending_fs_memfs);
    tf_reset_all();
}

/* ---- Ke synchronization across threads ---- */

struct counter_job {
    KSPIN_LOCK lock;
    FAST_MUTEX mutex;
    ULONG64 value;
    KIRQL irql_inside;
    int rounds;
    bool use_mutex;
    bool use_cancel_lock; /* IoAcquireCancelSpinLock instead of lock */
};

static void count_thread(void *arg)
{
    struct counter_job *job = arg;
    for (int i = 0; i < job->rounds; i++) {
        if (job->use_mutex) {
            ExAcquireFastMutex(&job->mutex);
            job->irql_inside = KeGetCurrentIrql();
            ULONG64 v = job->value;
            if ((i & 63) == 0) {
                /* Block while holding it (allowed at APC_LEVEL): another
                 * thread must wait for it. */
                LARGE_INTEGER tick = {.QuadPart = -1};
                KeDelayExecutionThread(KernelMode, FALSE, &tick);
            }
            job->value = v + 1;
            ExReleaseFastMutex(&job->mutex);
        } else if (job->use_cancel_lock) {
            KIRQL old;
            IoAcquireCancelSpinLock(&old);
            job->irql_inside = KeGetCurrentIrql();
            job->value++;
            IoReleaseCancelSpinLock(old);
        } else {
            KIRQL old;
            KeAcquireSpinLock(&job->lock, &old);
            job->irql_inside = KeGetCurrentIrql();
            job->value++;
            KeReleaseSpinLock(&job->lock, old);
        }
    }
}

/* Spin locks (the I/O manager's cancel spin lock too) raise to
 * DISPATCH_LEVEL and exclude each other across threads; fast mutexes raise
 * to APC_LEVEL and block a second owner. */
static void ke_spin_lock_and_fast_mutex_exclude(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    for (int mode = 0; mode < 3; mode++) {
        struct counter_job job;
        memset(&job, 0, sizeof(job));
        KeInitializeSpinLock(&job.lock);
        ExInitializeFastMutex(&job.mutex);
        job.rounds = 2000;
        job.use_mutex = mode == 1;
        job.use_cancel_lock = mode == 2;
        fltsim_thread *t[3];
        for (int i = 0; i < 3; i++)
            assert_status(
                fltsim_thread_spawn(w.sys, 1000, 4001 + (ULONG)i, count_thread, &job, &t[i]),
                STATUS_SUCCESS);
        for (int i = 0; i < 3; i++)
            fltsim_thread_join(t[i]);
        assert_int_equal(job.value, 6000);
        assert_int_equal(job.irql_inside, job.use_mutex ? APC_LEVEL : DISPATCH_LEVEL);
    }
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

struct event_job {
    KEVENT *event;
    NTSTATUS status;
    LONG woke;
};

static void event_waiter(void *arg)
{
    struct event_job *job = arg;
    job->status = KeWaitForSingleObject(job->event, Executive, KernelMode, FALSE, NULL);
    __atomic_add_fetch(&job->woke, 1, __ATOMIC_SEQ_CST);
}

/* KeSetEvent wakes every waiter of a notification event, one of a
 * synchronization event (which then resets); state and timeouts. */
static void ke_events_wake_waiters_across_threads(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    KEVENT ev;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    struct event_job jobs[3];
    fltsim_thread *t[3];
    for (int i = 0; i < 3; i++) {
        jobs[i] = (struct event_job){&ev, STATUS_PENDING, 0};
        assert_status(
            fltsim_thread_spawn(w.sys, 1000, 4001 + (ULONG)i, event_waiter, &jobs[i], &t[i]),
            STATUS_SUCCESS);
    }
    assert_int_equal(KeSetEvent(&ev, IO_NO_INCREMENT, FALSE), 0);
    for (int i = 0; i < 3; i++) {
        fltsim_thread_join(t[i]);
        assert_status(jobs[i].status, STATUS_SUCCESS);
    }
    assert_int_equal(KeReadStateEvent(&ev), 1);
    assert_int_equal(KeResetEvent(&ev), 1);
    assert_int_equal(KeReadStateEvent(&ev), 0);

    /* A synchronization event releases one waiter per KeSetEvent. */
    KEVENT sync;
    KeInitializeEvent(&sync, SynchronizationEvent, FALSE);
    struct event_job sj = {&sync, STATUS_PENDING, 0};
    for (int i = 0; i < 2; i++)
        assert_status(fltsim_thread_spawn(w.sys, 1000, 4010 + (ULONG)i, event_waiter, &sj, &t[i]),
                      STATUS_SUCCESS);
    KeSetEvent(&sync, IO_NO_INCREMENT, FALSE);
    assert_status(fltsim_system_wait_idle(w.sys, 200), STATUS_TIMEOUT);
    assert_int_equal(__atomic_load_n(&sj.woke, __ATOMIC_SEQ_CST), 1);
    assert_int_equal(KeReadStateEvent(&sync), 0); /* consumed */
    KeSetEvent(&sync, IO_NO_INCREMENT, FALSE);
    fltsim_thread_join(t[0]);
    fltsim_thread_join(t[1]);
    assert_int_equal(sj.woke, 2);

    /* Timeouts: relative 20 ms, and a zero timeout that only polls. */
    LARGE_INTEGER timeout = {.QuadPart = -200000};
    assert_status(KeWaitForSingleObject(&sync, Executive, KernelMode, FALSE, &timeout),
                  STATUS_TIMEOUT);
    LARGE_INTEGER zero = {.QuadPart = 0};
    assert_status(KeWaitForSingleObject(&sync, Executive, KernelMode, FALSE, &zero),
                  STATUS_TIMEOUT);
    KeSetEvent(&sync, IO_NO_INCREMENT, FALSE);
    assert_status(KeWaitForSingleObject(&sync, Executive, KernelMode, FALSE, &zero),
                  STATUS_SUCCESS);
    world_destroy(&w);
}

/* A wait with a timeout above APC_LEVEL breaks the IRQL rule (V28). */
static FLT_PREOP_CALLBACK_STATUS wait_at_dispatch_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                                      PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)data;
    (void)objects;
    (void)context;
    KEVENT ev;
    KeInitializeEvent(&ev, NotificationEvent, TRUE);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    LARGE_INTEGER zero = {.QuadPart = 0};
    KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, &zero); /* allowed: a poll */
    KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, NULL);  /* not allowed */
    KeLowerIrql(old);
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void ke_wait_above_apc_is_reported(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter a;
    HANDLE h = open_through_create_filter(&w, &a, wait_at_dispatch_pre);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V28"), 1);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    world_destroy(&w);
}

struct resource_job {
    ERESOURCE *resource;
    KEVENT *inside;
    KEVENT *release;
    LONG holders;
    LONG max_holders;
    bool exclusive;
};

static void resource_thread(void *arg)
{
    struct resource_job *job = arg;
    if (job->exclusive)
        FltAcquireResourceExclusive(job->resource);
    else
        FltAcquireResourceShared(job->resource);
    LONG now = __atomic_add_fetch(&job->holders, 1, __ATOMIC_SEQ_CST);
    LONG max = __atomic_load_n(&job->max_holders, __ATOMIC_SEQ_CST);
    while (now > max && !__atomic_compare_exchange_n(&job->max_holders, &max, now, false,
                                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
    KeSetEvent(job->inside, IO_NO_INCREMENT, FALSE);
    KeWaitForSingleObject(job->release, Executive, KernelMode, FALSE, NULL);
    __atomic_sub_fetch(&job->holders, 1, __ATOMIC_SEQ_CST);
    FltReleaseResource(job->resource);
}

/* ERESOURCE through FltAcquireResourceShared/Exclusive: two shared owners
 * at once; an exclusive acquire waits for them. */
static void ke_resource_shared_then_exclusive(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    ERESOURCE resource;
    assert_status(ExInitializeResourceLite(&resource), STATUS_SUCCESS);
    KEVENT inside, release;
    KeInitializeEvent(&inside, NotificationEvent, FALSE);
    KeInitializeEvent(&release, NotificationEvent, FALSE);
    struct resource_job shared = {&resource, &inside, &release, 0, 0, false};
    fltsim_thread *t[2];
    for (int i = 0; i < 2; i++)
        assert_status(
            fltsim_thread_spawn(w.sys, 1000, 4001 + (ULONG)i, resource_thread, &shared, &t[i]),
            STATUS_SUCCESS);
    /* Both readers get in while neither leaves. */
    while (__atomic_load_n(&shared.holders, __ATOMIC_SEQ_CST) < 2) {
        KeWaitForSingleObject(&inside, Executive, KernelMode, FALSE, NULL);
        KeDelayExecutionThread(KernelMode, FALSE, &(LARGE_INTEGER){.QuadPart = -10000});
    }
    /* A writer cannot. */
    KeEnterCriticalRegion();
    assert_false(ExAcquireResourceExclusiveLite(&resource, FALSE));
    KeLeaveCriticalRegion();
    KeSetEvent(&release, IO_NO_INCREMENT, FALSE);
    fltsim_thread_join(t[0]);
    fltsim_thread_join(t[1]);
    assert_int_equal(shared.max_holders, 2);
    KeEnterCriticalRegion();
    assert_true(ExAcquireResourceExclusiveLite(&resource, FALSE));
    assert_true(ExIsResourceAcquiredExclusiveLite(&resource));
    ExReleaseResourceLite(&resource);
    KeLeaveCriticalRegion();
    assert_status(ExDeleteResourceLite(&resource), STATUS_SUCCESS);
    world_destroy(&w);
}

int main(void)
{
#define CASE(name) cmocka_unit_test(name)
#define ASYNC_CASE(name) cmocka_unit_test_setup_teardown(name, setup_async, teardown)
    const struct CMUnitTest tests[] = {
        CASE(irql_and_top_level_irp_are_per_thread),
        CASE(irql_wrong_direction_is_reported),
        CASE(stack_limits_are_the_threads_own),
        ASYNC_CASE(posts_run_at_dispatch_on_the_completion_thread),
        ASYNC_CASE(synchronized_post_returns_to_the_pre_thread),
        ASYNC_CASE(post_create_runs_on_the_issuer_at_passive),
        ASYNC_CASE(fast_io_posts_run_on_the_pre_thread),
        ASYNC_CASE(passive_routine_in_a_dispatch_post_is_reported),
        CASE(file_system_completes_later),
        CASE(ke_spin_lock_and_fast_mutex_exclude),
        CASE(ke_events_wake_waiters_across_threads),
        CASE(ke_wait_above_apc_is_reported),
        CASE(ke_resource_shared_then_exclusive),
    };
    return FLTSIM_RUN_SUITE("irql", tests);
}
