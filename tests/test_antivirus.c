/*
 * The AntiVirus example filter (scenarios/filters/antivirus.c) end to end:
 * post-create pends the create and a deferred work item scans the file with
 * FltReadFile (SPEC 5.1, 2.3); an infected file is refused with
 * FltCancelFileOpen and STATUS_VIRUS_INFECTED (SPEC 4.5); with a top-level
 * IRP the post scans inline (SPEC 6.6, 4.2); a draining post only counts
 * (SPEC 4.4). Test filters U (400000) above and L (100000) below record what
 * they see; no case may produce a verifier report.
 */
#include <stdlib.h>
#include <string.h>

#include <example_filters.h>

#include "fltsim_test.h"

#define FLTMGR_WORK_ITEM_TAG 'iwMF'
#define AV_TAG 'vitA'

struct below {
    bool hold; /* L pends creates in its pre */
    PFLT_CALLBACK_DATA held;
};

struct fixture {
    struct test_world w;
    fltsim_driver *av;
    struct tf_filter upper, lower;
    struct below lb;
    NTSTATUS upper_create_status;
    LONG queued; /* deferred work items AntiVirus queued */
};

static void trace_cb(void *ctx, const struct fltsim_event *ev)
{
    struct fixture *f = ctx;
    if (ev->type == FLTSIM_EV_FS)
        rec_add("FS:%s", tf_major(ev->major));
    if (ev->type == FLTSIM_EV_WORK_QUEUED && ev->status == STATUS_SUCCESS && ev->filter != NULL &&
        strcmp(ev->filter, "AntiVirus") == 0)
        __atomic_add_fetch(&f->queued, 1, __ATOMIC_SEQ_CST);
}

static FLT_PREOP_CALLBACK_STATUS lower_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                           PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    struct below *b = tf->user;
    if (b != NULL && b->hold && data->Iopb->MajorFunction == IRP_MJ_CREATE) {
        b->hold = false;
        __atomic_store_n(&b->held, data, __ATOMIC_SEQ_CST);
        return FLT_PREOP_PENDING;
    }
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS upper_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                             PCFLT_RELATED_OBJECTS objects, PVOID context,
                                             FLT_POST_OPERATION_FLAGS flags)
{
    (void)objects;
    (void)context;
    (void)flags;
    struct fixture *f = tf->user;
    if (f != NULL && data->Iopb->MajorFunction == IRP_MJ_CREATE)
        f->upper_create_status = data->IoStatus.Status;
    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* 1000 bytes with the marker across the first sector boundary (506..514). */
static void add_infected(struct fixture *f)
{
    char data[1000];
    memset(data, 'A', sizeof(data));
    memcpy(data + 506, "X5O!P%@AP", 9);
    assert_status(fltsim_memfs_add_file(f->w.fs, L"\\eicar.com", data, sizeof(data)),
                  STATUS_SUCCESS);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create(&f->w, 0);
    add_infected(f);
    AntiVirusSetSignature(NULL, 0);
    static const struct fltsim_instance_def instances[] = {{L"AntiVirus Instance", L"320000", 0}};
    static const struct fltsim_filter_def def = {L"AntiVirus", L"AntiVirus Instance", instances, 1};
    assert_status(fltsim_driver_load(f->w.sys, &def, AntiVirusDriverEntry, &f->av), STATUS_SUCCESS);
    tf_init(&f->upper, "U", "400000");
    tf_init(&f->lower, "L", "100000");
    tf_only(&f->upper, IRP_MJ_CREATE);
    f->upper.ops[IRP_MJ_READ].pre = f->upper.ops[IRP_MJ_READ].post = true;
    tf_only(&f->lower, IRP_MJ_CREATE);
    f->lower.ops[IRP_MJ_READ].pre = f->lower.ops[IRP_MJ_READ].post = true;
    f->lower.ops[IRP_MJ_CLOSE].pre = f->lower.ops[IRP_MJ_CLOSE].post = true;
    f->upper.post = upper_post;
    f->lower.pre = lower_pre;
    f->upper.user = f;
    f->lower.user = &f->lb;
    assert_status(tf_load(f->w.sys, &f->upper), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->lower), STATUS_SUCCESS);
    fltsim_system_set_trace(f->w.sys, trace_cb, f);
    rec_reset();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    if (f->av != NULL)
        assert_status(fltsim_driver_unload(f->av, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0); /* no V23 leak at unload */
    world_destroy(&f->w);
    AntiVirusSetSignature(NULL, 0);
    free(f);
    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(FLTMGR_WORK_ITEM_TAG, &st);
    assert_int_equal(st.outstanding, 0);
    fltsim_pool_tag_stats(AV_TAG, &st);
    assert_int_equal(st.outstanding, 0);
    return 0;
}

static NTSTATUS open_file(struct fixture *f, PCWSTR path, HANDLE *h)
{
    *h = NULL;
    return fltsim_io_open(f->w.sys, path, GENERIC_READ, h);
}

/* A clean file opens after a scan in a work item; the scan's read is seen
 * below AntiVirus only. */
static void av_clean_file_opens_after_a_deferred_scan(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    assert_status(open_file(f, L"C:\\a.txt", &h), STATUS_SUCCESS);
    assert_recorded("U:pre:CREATE L:pre:CREATE FS:CREATE L:post:CREATE L:pre:READ FS:READ "
                    "L:post:READ U:post:CREATE");
    assert_int_equal(AntiVirusScanned(), 1);
    assert_int_equal(AntiVirusScannedInline(), 0);
    assert_int_equal(AntiVirusDetected(), 0);
    assert_int_equal(f->queued, 1);
    assert_status(f->upper_create_status, STATUS_SUCCESS);
    char buf[16] = {0};
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 11, &zero, 0, NULL), STATUS_SUCCESS);
    assert_string_equal(buf, "hello world");
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
}

/* SPEC 4.5: the infected open is cancelled: L sees open, the two reads of
 * the scan (the marker straddles them) and the close; U sees the failure;
 * no handle and no open state remain. */
static void av_infected_file_is_refused_without_a_handle(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    assert_status(open_file(f, L"C:\\eicar.com", &h), STATUS_VIRUS_INFECTED);
    assert_null(h);
    assert_recorded("U:pre:CREATE L:pre:CREATE FS:CREATE L:post:CREATE L:pre:READ FS:READ "
                    "L:post:READ L:pre:READ FS:READ L:post:READ L:pre:CLOSE FS:CLOSE "
                    "L:post:CLOSE U:post:CREATE");
    assert_status(f->upper_create_status, STATUS_VIRUS_INFECTED);
    assert_int_equal(AntiVirusScanned(), 1);
    assert_int_equal(AntiVirusDetected(), 1);
    assert_int_equal(f->queued, 1);
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 0);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
    /* The file is untouched (FltCancelFileOpen undoes nothing). */
    struct fltsim_memfs_stat st;
    assert_status(fltsim_memfs_stat(f->w.fs, L"\\eicar.com", &st), STATUS_SUCCESS);
}

/* The signature is configurable. */
static void av_custom_signature_is_detected(void **state)
{
    struct fixture *f = *state;
    AntiVirusSetSignature("bravo", 5);
    HANDLE h;
    assert_status(open_file(f, L"C:\\dir\\b.txt", &h), STATUS_VIRUS_INFECTED);
    assert_status(open_file(f, L"C:\\eicar.com", &h), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(AntiVirusDetected(), 1);
    assert_int_equal(AntiVirusScanned(), 2);
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 0);
}

/* Directories and volume opens are not scanned. */
static void av_directories_and_volume_opens_are_not_scanned(void **state)
{
    struct fixture *f = *state;
    struct fltsim_create_params cp = {.path = L"C:\\empty",
                                      .desired_access = FILE_LIST_DIRECTORY | SYNCHRONIZE,
                                      .share_access = FILE_SHARE_READ | FILE_SHARE_WRITE,
                                      .disposition = FILE_OPEN,
                                      .create_options =
                                          FILE_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT};
    HANDLE h;
    assert_status(fltsim_io_create(f->w.sys, &cp, &h, NULL), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    /* Without FILE_DIRECTORY_FILE the scan finds it cannot be read. */
    assert_status(open_file(f, L"C:\\empty", &h), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_status(open_file(f, L"C:", &h), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(AntiVirusScanned(), 0);
    assert_int_equal(AntiVirusUnscanned(), 0);
}

/* SPEC 6.6: with a top-level IRP no work item can be queued; the post scans
 * in place, at PASSIVE_LEVEL on the creating thread, and still refuses. */
static void av_top_level_irp_scans_inline(void **state)
{
    struct fixture *f = *state;
    HANDLE h;
    IoSetTopLevelIrp(FSRTL_CACHE_TOP_LEVEL_IRP);
    NTSTATUS infected = open_file(f, L"C:\\eicar.com", &h);
    NTSTATUS clean = open_file(f, L"C:\\a.txt", &h);
    IoSetTopLevelIrp(NULL);
    assert_status(infected, STATUS_VIRUS_INFECTED);
    assert_status(clean, STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(f->queued, 0);
    assert_int_equal(AntiVirusScannedInline(), 2);
    assert_int_equal(AntiVirusScanned(), 2);
    assert_int_equal(AntiVirusDetected(), 1);
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 0);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
}

struct open_job {
    struct fixture *f;
    PCWSTR path;
    HANDLE handle;
    NTSTATUS status;
};

static void open_thread(void *arg)
{
    struct open_job *job = arg;
    job->status = open_file(job->f, job->path, &job->handle);
}

/* SPEC 4.4: AntiVirus is detached while L holds a create below it: its post
 * is drained and only counts; the create then completes unscanned. */
static void av_draining_post_lets_the_open_through(void **state)
{
    struct fixture *f = *state;
    f->lb.hold = true;
    struct open_job job = {f, L"C:\\eicar.com", NULL, STATUS_PENDING};
    fltsim_thread *t;
    assert_status(fltsim_thread_spawn(f->w.sys, 1000, 4002, open_thread, &job, &t), STATUS_SUCCESS);
    for (int i = 0; i < 1000 && __atomic_load_n(&f->lb.held, __ATOMIC_SEQ_CST) == NULL; i++) {
        LARGE_INTEGER ms = {.QuadPart = -10000};
        KeDelayExecutionThread(KernelMode, FALSE, &ms);
    }
    assert_non_null(f->lb.held);
    assert_status(FltDetachVolume(fltsim_driver_filter(f->av), f->w.volume, NULL), STATUS_SUCCESS);
    assert_int_equal(AntiVirusUnscanned(), 1);
    FltCompletePendedPreOperation(f->lb.held, FLT_PREOP_SUCCESS_WITH_CALLBACK, NULL);
    fltsim_thread_join(t);
    assert_status(job.status, STATUS_SUCCESS);
    assert_int_equal(AntiVirusScanned(), 0);
    assert_int_equal(f->queued, 0);
    assert_status(fltsim_io_close(f->w.sys, job.handle), STATUS_SUCCESS);
}

int main(void)
{
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        CASE(av_clean_file_opens_after_a_deferred_scan),
        CASE(av_infected_file_is_refused_without_a_handle),
        CASE(av_custom_signature_is_detected),
        CASE(av_directories_and_volume_opens_are_not_scanned),
        CASE(av_top_level_irp_scans_inline),
        CASE(av_draining_post_lets_the_open_through),
    };
    return FLTSIM_RUN_SUITE("antivirus", tests);
}
