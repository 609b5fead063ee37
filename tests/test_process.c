/*
 * Process and thread objects and the queries over them (issue 15 item 4):
 * PsGetCurrentProcess/IoGetCurrentProcess, PsGetProcessId, PsGetThreadId,
 * PsGetThreadProcessId, PsGetThreadProcess, IoThreadToProcess,
 * PsIsSystemThread/IoIsSystemThread, PsGetCurrentProcessSessionId,
 * FltGetRequestorProcess(Id)(Ex) and IoGetRequestorProcess(Id). A requestor's
 * objects are its simulated process and thread; work items and completions
 * run on system threads of the System process (pid 4, session 0). Objects are
 * one per process id and per (process, thread), and stay valid after their
 * threads end. Bad objects are KE reports, never a crash.
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

#define REQUESTOR_PID 2222
#define REQUESTOR_TID 3333

/* What a callback saw of the requestor and of its own thread. */
struct ids {
    bool seen;
    PEPROCESS requestor_process, io_thread_process, thread_process, current_process, io_current;
    PETHREAD thread, current_thread;
    HANDLE pid_of_thread_process, thread_tid, thread_pid, current_pid, current_tid, requestor_ex;
    ULONG requestor_pid, session;
    BOOLEAN thread_is_system, current_is_system, io_current_is_system;
};

static struct ids pre_ids, post_ids;

static void record(struct ids *s, PFLT_CALLBACK_DATA data)
{
    s->requestor_process = FltGetRequestorProcess(data);
    s->io_thread_process = IoThreadToProcess(data->Thread);
    s->thread_process = PsGetThreadProcess(data->Thread);
    s->current_process = PsGetCurrentProcess();
    s->io_current = IoGetCurrentProcess();
    s->thread = data->Thread;
    s->current_thread = PsGetCurrentThread();
    s->pid_of_thread_process = PsGetProcessId(IoThreadToProcess(data->Thread));
    s->thread_tid = PsGetThreadId(data->Thread);
    s->thread_pid = PsGetThreadProcessId(data->Thread);
    s->current_pid = PsGetCurrentProcessId();
    s->current_tid = PsGetCurrentThreadId();
    s->requestor_pid = FltGetRequestorProcessId(data);
    s->requestor_ex = FltGetRequestorProcessIdEx(data);
    s->session = PsGetCurrentProcessSessionId();
    s->thread_is_system = PsIsSystemThread(data->Thread);
    s->current_is_system = PsIsSystemThread(PsGetCurrentThread());
    s->io_current_is_system = IoIsSystemThread(PsGetCurrentThread());
    s->seen = true;
}

static FLT_PREOP_CALLBACK_STATUS ids_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                         PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)objects;
    (void)context;
    if (data->Iopb->MajorFunction != IRP_MJ_READ)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    record(&pre_ids, data);
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS ids_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                           PCFLT_RELATED_OBJECTS objects, PVOID context,
                                           FLT_POST_OPERATION_FLAGS flags)
{
    (void)tf;
    (void)objects;
    (void)context;
    (void)flags;
    if (data->Iopb->MajorFunction == IRP_MJ_READ)
        record(&post_ids, data);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

struct read_job {
    struct test_world *w;
    NTSTATUS status;
};

/* Handles belong to the process that opened them: the requestor opens its
 * own. No assertion here (not the test's thread): the status tells. */
static void read_thread(void *arg)
{
    struct read_job *job = arg;
    HANDLE h = NULL;
    job->status = fltsim_io_open(job->w->sys, L"C:\\a.txt", GENERIC_READ, &h);
    if (!NT_SUCCESS(job->status))
        return;
    char buf[8];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    job->status = fltsim_io_read(job->w->sys, h, buf, 5, &zero, 0, &iosb);
    NTSTATUS closed = fltsim_io_close(job->w->sys, h);
    if (NT_SUCCESS(job->status))
        job->status = closed;
}

/* A read issued by the requestor REQUESTOR_PID/REQUESTOR_TID through a filter
 * that records what its pre and post see; completion as given. */
static void read_as_requestor(struct test_world *w, ULONG completion)
{
    world_create_ex(w, 0, completion);
    tf_reset_all();
    static struct tf_filter a;
    tf_init(&a, "A", "300000");
    a.pre = ids_pre;
    a.post = ids_post;
    assert_status(tf_load(w->sys, &a), STATUS_SUCCESS);
    memset(&pre_ids, 0, sizeof(pre_ids));
    memset(&post_ids, 0, sizeof(post_ids));
    struct read_job job = {.w = w, .status = STATUS_UNSUCCESSFUL};
    fltsim_thread *t;
    assert_status(fltsim_thread_spawn(w->sys, REQUESTOR_PID, REQUESTOR_TID, read_thread, &job, &t),
                  STATUS_SUCCESS);
    fltsim_thread_join(t);
    assert_status(job.status, STATUS_SUCCESS);
    assert_true(pre_ids.seen);
    assert_true(post_ids.seen);
}

/* The requestor's objects from Data->Thread agree with FltGetRequestorProcess
 * and the ids, and (the pre running on the requestor) with the current
 * process and thread: PsGetProcessId(IoThreadToProcess(Data->Thread)) ==
 * FltGetRequestorProcessId(Data). A requestor is no system thread and runs
 * in session 1. */
static void requestor_objects_agree_with_the_requestor_ids(void **state)
{
    (void)state;
    struct test_world w;
    read_as_requestor(&w, FLTSIM_COMPLETE_INLINE);
    const struct ids *s = &pre_ids;
    assert_non_null(s->requestor_process);
    assert_ptr_equal(s->io_thread_process, s->requestor_process);
    assert_ptr_equal(s->thread_process, s->requestor_process);
    assert_ptr_equal(s->current_process, s->requestor_process);
    assert_ptr_equal(s->io_current, s->requestor_process);
    assert_ptr_equal(s->current_thread, s->thread);
    assert_int_equal((ULONG_PTR)s->pid_of_thread_process, REQUESTOR_PID);
    assert_int_equal(s->requestor_pid, REQUESTOR_PID);
    assert_int_equal((ULONG_PTR)s->requestor_ex, REQUESTOR_PID);
    assert_int_equal((ULONG_PTR)s->thread_pid, REQUESTOR_PID);
    assert_int_equal((ULONG_PTR)s->current_pid, REQUESTOR_PID);
    assert_int_equal((ULONG_PTR)s->thread_tid, REQUESTOR_TID);
    assert_int_equal((ULONG_PTR)s->current_tid, REQUESTOR_TID);
    assert_false(s->thread_is_system);
    assert_false(s->current_is_system);
    assert_false(s->io_current_is_system);
    assert_int_equal(s->session, 1);
    /* The inline post runs on the requestor too. */
    assert_ptr_equal(post_ids.current_process, s->requestor_process);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

/* A post on the completion context runs on a system thread (pid 4, session
 * 0), while Data->Thread still names the requestor. */
static void completion_thread_is_a_system_thread(void **state)
{
    (void)state;
    struct test_world w;
    read_as_requestor(&w, FLTSIM_COMPLETE_ASYNC);
    const struct ids *s = &post_ids;
    assert_ptr_equal(s->requestor_process, pre_ids.requestor_process);
    assert_ptr_equal(s->io_thread_process, pre_ids.requestor_process);
    assert_int_equal(s->requestor_pid, REQUESTOR_PID);
    assert_false(s->thread_is_system);
    assert_true(s->current_is_system);
    assert_true(s->io_current_is_system);
    assert_int_equal((ULONG_PTR)s->current_pid, 4);
    assert_int_equal(s->session, 0);
    assert_ptr_not_equal(s->current_process, s->requestor_process);
    assert_int_equal((ULONG_PTR)PsGetProcessId(s->current_process), 4);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

/* Work items run on system threads of the System process: the executor's
 * (fltsim_system_post_work) and a filter's generic work item alike, all
 * sharing the one System process object. */
struct worker_seen {
    PEPROCESS process;
    HANDLE pid;
    ULONG session;
    BOOLEAN ps_system, io_system;
    PEPROCESS io_process;
};

static struct worker_seen executor_seen, generic_seen;

static void look_as_worker(struct worker_seen *s)
{
    s->process = PsGetCurrentProcess();
    s->io_process = IoGetCurrentProcess();
    s->pid = PsGetProcessId(PsGetCurrentProcess());
    s->session = PsGetCurrentProcessSessionId();
    s->ps_system = PsIsSystemThread(PsGetCurrentThread());
    s->io_system = IoIsSystemThread(PsGetCurrentThread());
}

static void executor_work(void *ctx)
{
    (void)ctx;
    look_as_worker(&executor_seen);
}

static VOID generic_work(PFLT_GENERIC_WORKITEM item, PVOID object, PVOID context)
{
    (void)object;
    (void)context;
    look_as_worker(&generic_seen);
    FltFreeGenericWorkItem(item);
}

static void work_items_run_on_system_threads(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    tf_reset_all();
    struct tf_filter a;
    tf_init(&a, "A", "300000");
    assert_status(tf_load(w.sys, &a), STATUS_SUCCESS);
    memset(&executor_seen, 0, sizeof(executor_seen));
    memset(&generic_seen, 0, sizeof(generic_seen));
    assert_status(fltsim_system_post_work(w.sys, executor_work, NULL), STATUS_SUCCESS);
    PFLT_GENERIC_WORKITEM item = FltAllocateGenericWorkItem();
    assert_non_null(item);
    assert_status(FltQueueGenericWorkItem(item, a.filter, generic_work, DelayedWorkQueue, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(w.sys, 0), STATUS_SUCCESS);
    const struct worker_seen *all[] = {&executor_seen, &generic_seen};
    for (int i = 0; i < 2; i++) {
        assert_true(all[i]->ps_system);
        assert_true(all[i]->io_system);
        assert_int_equal((ULONG_PTR)all[i]->pid, 4);
        assert_int_equal(all[i]->session, 0);
        assert_ptr_equal(all[i]->io_process, all[i]->process);
    }
    assert_ptr_equal(executor_seen.process, generic_seen.process);
    /* The test's own thread is a requestor, not a system thread. */
    assert_false(PsIsSystemThread(PsGetCurrentThread()));
    assert_ptr_not_equal(PsGetCurrentProcess(), executor_seen.process);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

/* One process object per process id, one thread object per (process,
 * thread); both stay valid after the threads end. */
struct objects_seen {
    PEPROCESS process;
    PETHREAD thread;
};

static void look_at_objects(void *arg)
{
    struct objects_seen *s = arg;
    s->process = PsGetCurrentProcess();
    s->thread = PsGetCurrentThread();
}

static void objects_are_per_id_and_outlive_their_threads(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    static const ULONG ids[3][2] = {{5000, 1}, {5000, 2}, {6000, 1}};
    struct objects_seen seen[3];
    for (int i = 0; i < 3; i++) {
        fltsim_thread *t;
        assert_status(
            fltsim_thread_spawn(w.sys, ids[i][0], ids[i][1], look_at_objects, &seen[i], &t),
            STATUS_SUCCESS);
        fltsim_thread_join(t);
    }
    assert_ptr_equal(seen[0].process, seen[1].process);
    assert_ptr_not_equal(seen[0].process, seen[2].process);
    assert_ptr_not_equal(seen[0].thread, seen[1].thread);
    assert_ptr_not_equal(seen[0].thread, seen[2].thread);
    assert_int_equal((ULONG_PTR)PsGetProcessId(seen[1].process), 5000);
    assert_int_equal((ULONG_PTR)PsGetProcessId(seen[2].process), 6000);
    assert_int_equal((ULONG_PTR)PsGetThreadId(seen[1].thread), 2);
    assert_int_equal((ULONG_PTR)PsGetThreadProcessId(seen[2].thread), 6000);
    assert_ptr_equal(PsGetThreadProcess(seen[1].thread), seen[0].process);
    assert_ptr_equal(IoThreadToProcess(seen[2].thread), seen[2].process);
    /* The same identity again gets the same objects. */
    struct objects_seen again;
    fltsim_thread *t;
    assert_status(fltsim_thread_spawn(w.sys, 5000, 2, look_at_objects, &again, &t), STATUS_SUCCESS);
    fltsim_thread_join(t);
    assert_ptr_equal(again.process, seen[1].process);
    assert_ptr_equal(again.thread, seen[1].thread);
    world_destroy(&w);
}

/* IoGetRequestorProcess(Id): the process of Irp->Tail.Overlay.Thread, or
 * NULL and 0 for an IRP with no thread. */
static void irp_requestor_is_the_irp_thread_process(void **state)
{
    (void)state;
    IRP irp;
    memset(&irp, 0, sizeof(irp));
    irp.Tail.Overlay.Thread = PsGetCurrentThread();
    assert_ptr_equal(IoGetRequestorProcess(&irp), PsGetCurrentProcess());
    assert_int_equal(IoGetRequestorProcessId(&irp), (ULONG)(ULONG_PTR)PsGetCurrentProcessId());
    irp.Tail.Overlay.Thread = NULL;
    assert_null(IoGetRequestorProcess(&irp));
    assert_int_equal(IoGetRequestorProcessId(&irp), 0);
}

/* Misuse from filter code: NULL or an object of the wrong kind is a KE
 * report and a neutral answer; bad callback data a V16 report. */
static void bad_object(void *ctx)
{
    ULONG *answers = ctx;
    PEPROCESS process = PsGetCurrentProcess();
    IRP irp;
    memset(&irp, 0, sizeof(irp));
    irp.Tail.Overlay.Thread = (PETHREAD)(void *)process; /* not a thread */
    /* Not callback data fltsim handed out (with room: fltsim looks past the
     * structure for its own tag). */
    static union {
        FLT_CALLBACK_DATA data;
        char room[4096];
    } fake;
    memset(&fake, 0, sizeof(fake));
    *answers = 0;
    *answers += PsGetProcessId(NULL) == NULL;
    *answers += PsGetProcessId((PEPROCESS)(void *)PsGetCurrentThread()) == NULL;
    *answers += PsGetThreadId(NULL) == NULL;
    *answers += PsGetThreadId((PETHREAD)(void *)process) == NULL;
    *answers += PsGetThreadProcessId(NULL) == NULL;
    *answers += PsGetThreadProcess(NULL) == NULL;
    *answers += IoThreadToProcess(NULL) == NULL;
    *answers += !PsIsSystemThread(NULL);
    *answers += !IoIsSystemThread(NULL);
    *answers += IoGetRequestorProcess(NULL) == NULL;
    *answers += IoGetRequestorProcessId(&irp) == 0;
    *answers += FltGetRequestorProcess(&fake.data) == NULL;
}

static void bad_objects_are_reported(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    tf_reset_all();
    struct tf_filter a;
    tf_init(&a, "A", "300000");
    assert_status(tf_load(w.sys, &a), STATUS_SUCCESS);
    ULONG answers = 0;
    assert_status(fltsim_driver_call(a.driver, bad_object, &answers), STATUS_SUCCESS);
    assert_int_equal(answers, 12);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "KE"), 11);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V16"), 1);
    world_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(requestor_objects_agree_with_the_requestor_ids),
        cmocka_unit_test(completion_thread_is_a_system_thread),
        cmocka_unit_test(work_items_run_on_system_threads),
        cmocka_unit_test(objects_are_per_id_and_outlive_their_threads),
        cmocka_unit_test(irp_requestor_is_the_irp_thread_process),
        cmocka_unit_test(bad_objects_are_reported),
    };
    return FLTSIM_RUN_SUITE("process", tests);
}
