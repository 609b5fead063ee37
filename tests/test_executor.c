/*
 * The two executors (DESIGN decision 5). Under both: spawned requestors with
 * their identities, posted system work (many at once; some blocked while
 * others run), waiting for idleness with operations that nothing completes.
 * Deterministic only: the same seed replays the same interleaving and trace
 * (and other seeds find others), virtual time, and a deadlock ends the
 * process with a description instead of hanging.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fltsim/trace.h>

#include "fltsim_test.h"

/* ---- a small workload: requestors, a pending filter, async completion ---- */

static VOID resume_pre(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data, PVOID context)
{
    (void)context;
    FltCompletePendedPreOperation(data, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    FltFreeDeferredIoWorkItem(item);
}

static VOID resume_post(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data, PVOID context)
{
    (void)context;
    FltCompletePendedPostOperation(data);
    FltFreeDeferredIoWorkItem(item);
}

/* Pends every read in pre and every write in post. */
static FLT_PREOP_CALLBACK_STATUS pend_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                          PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)objects;
    (void)context;
    if (data->Iopb->MajorFunction != IRP_MJ_READ)
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    PFLT_DEFERRED_IO_WORKITEM item = FltAllocateDeferredIoWorkItem();
    if (FltQueueDeferredIoWorkItem(item, data, resume_pre, DelayedWorkQueue, NULL) !=
        STATUS_SUCCESS) {
        FltFreeDeferredIoWorkItem(item);
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    }
    return FLT_PREOP_PENDING;
}

static FLT_POSTOP_CALLBACK_STATUS pend_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID context,
                                            FLT_POST_OPERATION_FLAGS flags)
{
    (void)tf;
    (void)objects;
    (void)context;
    if (data->Iopb->MajorFunction != IRP_MJ_WRITE || (flags & FLTFL_POST_OPERATION_DRAINING))
        return FLT_POSTOP_FINISHED_PROCESSING;
    PFLT_DEFERRED_IO_WORKITEM item = FltAllocateDeferredIoWorkItem();
    if (FltQueueDeferredIoWorkItem(item, data, resume_post, CriticalWorkQueue, NULL) !=
        STATUS_SUCCESS) {
        FltFreeDeferredIoWorkItem(item);
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
}

struct requestor {
    fltsim_system *sys;
    int index;
    NTSTATUS failure;
};

static void requestor_main(void *arg)
{
    struct requestor *r = arg;
    static const PCWSTR names[] = {L"C:\\r0.txt", L"C:\\r1.txt", L"C:\\r2.txt"};
    struct fltsim_create_params cp = {.path = names[r->index],
                                      .desired_access = GENERIC_READ | GENERIC_WRITE,
                                      .disposition = FILE_OPEN_IF,
                                      .create_options = FILE_SYNCHRONOUS_IO_NONALERT};
    HANDLE h;
    IO_STATUS_BLOCK iosb;
    NTSTATUS status = fltsim_io_create(r->sys, &cp, &h, &iosb);
    if (!NT_SUCCESS(status)) {
        r->failure = status;
        return;
    }
    for (int i = 0; i < 4; i++) {
        char buf[8];
        LONGLONG off = i;
        status = fltsim_io_write(r->sys, h, "abcdefgh", 4, &off, 0, &iosb);
        if (NT_SUCCESS(status))
            status = fltsim_io_read(r->sys, h, buf, 4, &off, 0, &iosb);
        if (!NT_SUCCESS(status))
            r->failure = status;
    }
    fltsim_io_close(r->sys, h);
}

/* Runs the workload on a fresh deterministic system seeded with seed and
 * returns its text trace (thread ids and IRQLs included); free() it. */
static char *run_workload(ULONG64 seed)
{
    struct fltsim_system_options opts = {.executor = FLTSIM_EXECUTOR_DETERMINISTIC, .seed = seed};
    fltsim_system *sys;
    assert_status(fltsim_system_create(&opts, &sys), STATUS_SUCCESS);
    struct fltsim_memfs *fs;
    assert_status(fltsim_memfs_create(NULL, &fs), STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume1",
                                      .drive_letter = L'C',
                                      .ops = &fltsim_memfs_ops,
                                      .fs = fs,
                                      .fs_type = FLT_FSTYPE_NTFS,
                                      .completion = FLTSIM_COMPLETE_ASYNC};
    PFLT_VOLUME volume;
    assert_status(fltsim_volume_mount(sys, &vp, &volume), STATUS_SUCCESS);
    tf_reset_all();
    struct tf_filter a;
    tf_init(&a, "A", "300000");
    a.pre = pend_pre;
    a.post = pend_post;
    assert_status(tf_load(sys, &a), STATUS_SUCCESS);

    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    struct fltsim_trace_sink *sink;
    assert_status(
        fltsim_trace_sink_create(FLTSIM_TRACE_TEXT, out, FLTSIM_TRACE_SHOW_THREADS, &sink),
        STATUS_SUCCESS);
    fltsim_system_set_trace(sys, fltsim_trace_sink_event, sink);

    struct requestor r[3];
    fltsim_thread *t[3];
    for (int i = 0; i < 3; i++) {
        r[i] = (struct requestor){sys, i, STATUS_SUCCESS};
        assert_status(fltsim_thread_spawn(sys, 2000 + (ULONG)i, 5000 + (ULONG)i, requestor_main,
                                          &r[i], &t[i]),
                      STATUS_SUCCESS);
    }
    for (int i = 0; i < 3; i++) {
        fltsim_thread_join(t[i]);
        assert_status(r[i].failure, STATUS_SUCCESS);
    }
    assert_status(fltsim_system_wait_idle(sys, 0), STATUS_SUCCESS);
    fltsim_system_set_trace(sys, NULL, NULL);
    fltsim_system_destroy(sys);
    tf_reset_all();
    assert_status(fltsim_trace_sink_finish(sink), STATUS_SUCCESS);
    fltsim_trace_sink_destroy(sink);
    fclose(out);
    return text;
}

/* DESIGN decision 5: a seed replays the same interleaving and trace. */
static void executor_same_seed_same_trace(void **state)
{
    (void)state;
    char *first = run_workload(42);
    char *again = run_workload(42);
    assert_true(strlen(first) > 1000);
    assert_string_equal(first, again);
    /* Other seeds interleave the requestors differently. */
    int different = 0;
    for (ULONG64 seed = 1; seed <= 4; seed++) {
        char *other = run_workload(seed);
        different += strcmp(first, other) != 0;
        free(other);
    }
    assert_true(different >= 1);
    free(first);
    free(again);
}

/* Virtual time: a long delay costs nothing, the clock moves. */
static void executor_deterministic_time_is_virtual(void **state)
{
    (void)state;
    struct fltsim_system_options opts = {.executor = FLTSIM_EXECUTOR_DETERMINISTIC, .seed = 7};
    fltsim_system *sys;
    assert_status(fltsim_system_create(&opts, &sys), STATUS_SUCCESS);
    LARGE_INTEGER before, after;
    KeQuerySystemTime(&before);
    LARGE_INTEGER hour = {.QuadPart = -36000000000LL};
    assert_status(KeDelayExecutionThread(KernelMode, FALSE, &hour), STATUS_SUCCESS);
    KeQuerySystemTime(&after);
    assert_true(after.QuadPart - before.QuadPart >= 36000000000LL);
    fltsim_system_destroy(sys);
}

/* A deadlock (every simulated thread blocked, nothing queued or timed) ends
 * the process with a description: here a filter pends a read forever and the
 * requestor waits for it. Runs in a child process. */
static FLT_PREOP_CALLBACK_STATUS pend_forever(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                              PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)objects;
    (void)context;
    return data->Iopb->MajorFunction == IRP_MJ_READ ? FLT_PREOP_PENDING
                                                    : FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void deadlock_child(void)
{
    struct fltsim_system_options opts = {.executor = FLTSIM_EXECUTOR_DETERMINISTIC, .seed = 3};
    fltsim_system *sys;
    if (!NT_SUCCESS(fltsim_system_create(&opts, &sys)))
        _exit(2);
    struct fltsim_memfs *fs;
    fltsim_memfs_create(NULL, &fs);
    fltsim_memfs_add_file(fs, L"\\a.txt", "hello", 5);
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume1",
                                      .drive_letter = L'C',
                                      .ops = &fltsim_memfs_ops,
                                      .fs = fs,
                                      .fs_type = FLT_FSTYPE_NTFS};
    PFLT_VOLUME volume;
    fltsim_volume_mount(sys, &vp, &volume);
    tf_reset_all();
    static struct tf_filter a;
    tf_init(&a, "A", "300000");
    a.pre = pend_forever;
    tf_load(sys, &a);
    HANDLE h;
    if (!NT_SUCCESS(fltsim_io_open(sys, L"C:\\a.txt", GENERIC_READ, &h)))
        _exit(3);
    char buf[4];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    fltsim_io_read(sys, h, buf, 4, &zero, 0, &iosb); /* never returns */
    _exit(4);
}

static void executor_deterministic_deadlock_is_reported(void **state)
{
    (void)state;
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        deadlock_child();
    }
    close(pipefd[1]);
    char text[4096];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof(text) - 1 && (n = read(pipefd[0], text + len, sizeof(text) - 1 - len)) > 0)
        len += (size_t)n;
    text[len] = '\0';
    close(pipefd[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    if (strstr(text, "deadlock") == NULL || strstr(text, "main thread") == NULL)
        fail_msg("the deadlock report says:\n%s", text);
}

/* ---- under both executors ---- */

struct identity {
    ULONG process, thread;
    KIRQL irql;
    HANDLE process_handle;
};

static void identity_thread(void *arg)
{
    struct identity *id = arg;
    id->process = fltsim_thread_process_id();
    id->thread = fltsim_thread_id();
    id->irql = KeGetCurrentIrql();
    id->process_handle = PsGetCurrentProcessId();
}

/* Spawned requestors carry the identity they were given. */
static void executor_spawned_thread_identity(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct identity id = {0};
    fltsim_thread *t;
    assert_status(fltsim_thread_spawn(w.sys, 1234, 5678, identity_thread, &id, &t), STATUS_SUCCESS);
    fltsim_thread_join(t);
    assert_int_equal(id.process, 1234);
    assert_int_equal(id.thread, 5678);
    assert_int_equal(id.irql, PASSIVE_LEVEL);
    assert_ptr_equal(id.process_handle, (HANDLE)(ULONG_PTR)1234);
    world_destroy(&w);
}

static void posted(void *ctx)
{
    struct identity *id = ctx;
    identity_thread(id);
}

/* fltsim_system_post_work runs on a system worker at PASSIVE_LEVEL, and
 * waiting for idleness waits for it. */
static void executor_posted_work_runs_on_a_system_worker(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct identity id = {0};
    assert_status(fltsim_system_post_work(w.sys, posted, &id), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(id.process, 4);
    assert_int_equal(id.irql, PASSIVE_LEVEL);
    assert_status(fltsim_system_post_work(w.sys, NULL, NULL), STATUS_INVALID_PARAMETER);
    world_destroy(&w);
}

/* Many work items queued at once each run exactly once, and waiting for
 * idleness covers them all. */
static void count_run(void *ctx)
{
    __atomic_add_fetch((LONG *)ctx, 1, __ATOMIC_SEQ_CST);
}

static void executor_many_work_items_each_run_once(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    LONG runs = 0;
    for (int i = 0; i < 5000; i++)
        assert_status(fltsim_system_post_work(w.sys, count_run, &runs), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(w.sys, 30000), STATUS_SUCCESS);
    assert_int_equal(__atomic_load_n(&runs, __ATOMIC_SEQ_CST), 5000);
    world_destroy(&w);
}

/* A work item does not wait behind others that block while the pool has
 * threads: three wait for an event that only the fourth, queued last, sets. */
struct blockers {
    KEVENT go;
    LONG released;
};

static void wait_for_go(void *ctx)
{
    struct blockers *b = ctx;
    KeWaitForSingleObject(&b->go, Executive, KernelMode, FALSE, NULL);
    __atomic_add_fetch(&b->released, 1, __ATOMIC_SEQ_CST);
}

static void set_go(void *ctx)
{
    struct blockers *b = ctx;
    KeSetEvent(&b->go, IO_NO_INCREMENT, FALSE);
}

static void executor_work_item_does_not_wait_behind_blocked_ones(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct blockers b = {0};
    KeInitializeEvent(&b.go, NotificationEvent, FALSE);
    for (int i = 0; i < 3; i++)
        assert_status(fltsim_system_post_work(w.sys, wait_for_go, &b), STATUS_SUCCESS);
    assert_status(fltsim_system_post_work(w.sys, set_go, &b), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(w.sys, 30000), STATUS_SUCCESS);
    assert_int_equal(__atomic_load_n(&b.released, __ATOMIC_SEQ_CST), 3);
    world_destroy(&w);
}

/* Waiting for idleness with an operation nothing will complete times out
 * (at once under the deterministic executor, which can tell); once the test
 * completes it, the system is idle. */
static PFLT_CALLBACK_DATA held;

static FLT_PREOP_CALLBACK_STATUS hold_read(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                           PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)objects;
    (void)context;
    if (data->Iopb->MajorFunction != IRP_MJ_READ)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    held = data;
    return FLT_PREOP_PENDING;
}

static void executor_wait_idle_times_out_on_a_stuck_operation(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct tf_filter a;
    tf_init(&a, "A", "300000");
    a.pre = hold_read;
    assert_status(tf_load(w.sys, &a), STATUS_SUCCESS);
    HANDLE h = open_overlapped(w.sys, L"C:\\a.txt", GENERIC_READ);
    held = NULL;
    char buf[4];
    struct fltsim_io_async io = {0};
    assert_status(fltsim_io_read_async(w.sys, h, buf, 4, 0, 0, &io), STATUS_PENDING);
    assert_status(fltsim_system_wait_idle(w.sys, 100), STATUS_TIMEOUT);
    FltCompletePendedPreOperation(held, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    assert_status(fltsim_system_wait_idle(w.sys, 10000), STATUS_SUCCESS);
    assert_status(io.iosb.Status, STATUS_SUCCESS);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    world_destroy(&w);
}

/* I/O that a completion callback issues keeps the system busy: waiting for
 * idleness counts it as in flight once the first request is complete. */
static struct {
    fltsim_system *sys;
    HANDLE handle;
    char buf[4];
    struct fltsim_io_async io;
    NTSTATUS status;
} chained;

static void issue_chained_read(struct fltsim_io_async *io, void *ctx)
{
    (void)io;
    (void)ctx;
    chained.status =
        fltsim_io_read_async(chained.sys, chained.handle, chained.buf, 4, 0, 0, &chained.io);
}

static void executor_wait_idle_counts_io_a_completion_issues(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct tf_filter a;
    tf_init(&a, "A", "300000");
    a.pre = hold_read;
    assert_status(tf_load(w.sys, &a), STATUS_SUCCESS);
    HANDLE h = open_overlapped(w.sys, L"C:\\a.txt", GENERIC_READ);
    memset(&chained, 0, sizeof(chained));
    chained.sys = w.sys;
    chained.handle = h;
    held = NULL;
    char buf[4];
    struct fltsim_io_async first = {.callback = issue_chained_read};
    assert_status(fltsim_io_read_async(w.sys, h, buf, 4, 0, 0, &first), STATUS_PENDING);
    PFLT_CALLBACK_DATA first_data = held;
    assert_non_null(first_data);
    held = NULL;
    FltCompletePendedPreOperation(first_data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    /* The first is complete; the read its callback issued is held. */
    assert_status(fltsim_system_wait_idle(w.sys, 100), STATUS_TIMEOUT);
    assert_status(first.iosb.Status, STATUS_SUCCESS);
    assert_status(chained.status, STATUS_PENDING);
    assert_non_null(held);
    FltCompletePendedPreOperation(held, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    assert_status(fltsim_system_wait_idle(w.sys, 10000), STATUS_SUCCESS);
    assert_status(chained.io.iosb.Status, STATUS_SUCCESS);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    world_destroy(&w);
}

/* SPEC 2.6 step 4: a teardown waits for an operation the instance pended,
 * however long; after 10 s it says why on stderr (once) and goes on waiting.
 * Virtual time: the completer completes the read 30 s later. */
struct late_completer {
    PFLT_CALLBACK_DATA *held;
};

static void complete_late(void *ctx)
{
    struct late_completer *c = ctx;
    LARGE_INTEGER half_minute = {.QuadPart = -300000000LL};
    KeDelayExecutionThread(KernelMode, FALSE, &half_minute);
    FltCompletePendedPreOperation(*c->held, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
}

static void executor_deterministic_stuck_teardown_says_why(void **state)
{
    (void)state;
    enum fltsim_executor_kind saved = test_executor;
    test_executor = FLTSIM_EXECUTOR_DETERMINISTIC;
    struct test_world w;
    world_create(&w, 0);
    test_executor = saved;
    struct tf_filter a;
    tf_init(&a, "A", "300000");
    a.pre = hold_read;
    assert_status(tf_load(w.sys, &a), STATUS_SUCCESS);
    HANDLE h = open_overlapped(w.sys, L"C:\\a.txt", GENERIC_READ);
    held = NULL;
    char buf[4];
    struct fltsim_io_async io = {0};
    assert_status(fltsim_io_read_async(w.sys, h, buf, 4, 0, 0, &io), STATUS_PENDING);
    struct late_completer c = {&held};
    fltsim_thread *t;
    assert_status(fltsim_thread_spawn(w.sys, 4, 77, complete_late, &c, &t), STATUS_SUCCESS);

    /* stderr goes to a file while the teardown waits. */
    char path[] = "/tmp/fltsim-teardown-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved_err = dup(2);
    dup2(fd, 2);
    NTSTATUS detached = FltDetachVolume(a.filter, w.volume, NULL);
    fflush(stderr);
    dup2(saved_err, 2);
    close(saved_err);
    char text[2048] = "";
    ssize_t got = pread(fd, text, sizeof(text) - 1, 0);
    close(fd);
    unlink(path);
    text[got > 0 ? got : 0] = '\0';
    fprintf(stderr, "%s", text);

    assert_status(detached, STATUS_SUCCESS);
    assert_non_null(strstr(text, "teardown of instance \"A Instance\" (filter A) on volume "
                                 "\\Device\\HarddiskVolume1 has waited 10 s for operations "
                                 "still in flight"));
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V26"), 1);
    fltsim_thread_join(t);
    assert_status(fltsim_system_wait_idle(w.sys, 0), STATUS_SUCCESS);
    assert_status(io.iosb.Status, STATUS_SUCCESS);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    world_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest both[] = {
        cmocka_unit_test(executor_spawned_thread_identity),
        cmocka_unit_test(executor_posted_work_runs_on_a_system_worker),
        cmocka_unit_test(executor_many_work_items_each_run_once),
        cmocka_unit_test(executor_work_item_does_not_wait_behind_blocked_ones),
        cmocka_unit_test(executor_wait_idle_times_out_on_a_stuck_operation),
        cmocka_unit_test(executor_wait_idle_counts_io_a_completion_issues),
    };
    const struct CMUnitTest deterministic[] = {
        cmocka_unit_test(executor_same_seed_same_trace),
        cmocka_unit_test(executor_deterministic_time_is_virtual),
        cmocka_unit_test(executor_deterministic_deadlock_is_reported),
        cmocka_unit_test(executor_deterministic_stuck_teardown_says_why),
    };
    int failed = FLTSIM_RUN_SUITE("executor", both);
    failed +=
        cmocka_run_group_tests_name("executor (deterministic only)", deterministic, NULL, NULL);
    return failed;
}
