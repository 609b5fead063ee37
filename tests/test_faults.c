/*
 * Fault injection (model.h "Fault injection", fltsim/faultfs.h): allocation
 * faults seen by filter code only (nth, tag, seeded probability), the
 * documented failures of FltQueueDeferredIoWorkItem and
 * FltQueueGenericWorkItem, the ledger of fault points an explorer enumerates
 * and addresses again, and faultfs failing, pending and delaying the
 * operations of a wrapped memfs. The AntiVirus example shows the fallbacks a
 * correct filter takes when a fault hits it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <example_filters.h>
#include <fltsim/faultfs.h>
#include <fltsim/scenario.h>

#include "fltsim_test.h"

#define FLTMGR_WORK_ITEM_TAG 'iwMF'
#define AV_TAG 'vitA'
#define T_TAG 'tsTF'

/* ---- a world whose C: is memfs behind faultfs ---- */

struct fworld {
    fltsim_system *sys;
    struct fltsim_memfs *memfs;
    struct fltsim_faultfs *ffs;
    PFLT_VOLUME volume;
};

static void fworld_create(struct fworld *w)
{
    memset(w, 0, sizeof(*w));
    tf_reset_all();
    rec_reset();
    struct fltsim_system_options opts = test_options(0);
    assert_status(fltsim_system_create(&opts, &w->sys), STATUS_SUCCESS);
    assert_status(fltsim_memfs_create(NULL, &w->memfs), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(w->memfs, L"\\a.txt", "hello world", 11), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(w->memfs, L"\\dir\\b.dat", "bravo", 5), STATUS_SUCCESS);
    assert_status(fltsim_faultfs_create(w->sys, &fltsim_memfs_ops, w->memfs, &w->ffs),
                  STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume1",
                                      .drive_letter = L'C',
                                      .ops = &fltsim_faultfs_ops,
                                      .fs = w->ffs,
                                      .fs_type = FLT_FSTYPE_NTFS};
    assert_status(fltsim_volume_mount(w->sys, &vp, &w->volume), STATUS_SUCCESS);
}

static void fworld_destroy(struct fworld *w)
{
    assert_status(fltsim_system_wait_idle(w->sys, 10000), STATUS_SUCCESS);
    fltsim_system_destroy(w->sys); /* releases faultfs and memfs */
    tf_reset_all();
    memset(w, 0, sizeof(*w));
}

static void add_rule(struct fworld *w, ULONG64 nth, const char *path, int major, NTSTATUS status,
                     bool async, ULONG delay_ms)
{
    struct fltsim_faultfs_rule r = {.nth = nth,
                                    .path = path,
                                    .major = major,
                                    .status = status,
                                    .async = async ? TRUE : FALSE,
                                    .delay_ms = delay_ms};
    assert_status(fltsim_faultfs_add_rule(w->ffs, &r), STATUS_SUCCESS);
}

/* ---- a filter that allocates in its pre ---- */

struct alloc_log {
    int count; /* allocations per pre */
    ULONG tag;
    char bits[512]; /* '1' allocated, '0' NULL, in order */
    size_t n;
};

static FLT_PREOP_CALLBACK_STATUS alloc_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                           PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)data;
    (void)objects;
    (void)context;
    struct alloc_log *log = tf->user;
    for (int i = 0; i < log->count; i++) {
        PVOID p = ExAllocatePoolWithTag(NonPagedPoolNx, 16, log->tag);
        if (log->n + 1 < sizeof(log->bits))
            log->bits[log->n++] = p != NULL ? '1' : '0';
        if (p != NULL)
            ExFreePoolWithTag(p, log->tag);
    }
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void load_allocator(struct test_world *w, struct tf_filter *tf, struct alloc_log *log)
{
    tf_init(tf, "A", "300000");
    tf_only(tf, IRP_MJ_CREATE);
    tf->pre = alloc_pre;
    tf->user = log;
    assert_status(tf_load(w->sys, tf), STATUS_SUCCESS);
}

static void open_close(fltsim_system *sys, PCWSTR path, NTSTATUS expected)
{
    HANDLE h = NULL;
    assert_status(fltsim_io_open(sys, path, GENERIC_READ, &h), expected);
    if (NT_SUCCESS(expected))
        assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
}

/* ---- rule validation ---- */

static void fault_add_bad_rules_are_refused(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct fltsim_fault f = {.kind = (enum fltsim_fault_kind)9};
    assert_status(fltsim_fault_add(w.sys, &f), STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(fltsim_last_error(), "unknown fault kind"));
    f = (struct fltsim_fault){.kind = FLTSIM_FAULT_DEFERRED_QUEUE, .tag = T_TAG};
    assert_status(fltsim_fault_add(w.sys, &f), STATUS_INVALID_PARAMETER);
    f = (struct fltsim_fault){.kind = FLTSIM_FAULT_ALLOC, .probability = 1.5};
    assert_status(fltsim_fault_add(w.sys, &f), STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(fltsim_last_error(), "outside [0, 1]"));
    f = (struct fltsim_fault){.kind = FLTSIM_FAULT_ALLOC, .nth = 2, .probability = 0.5};
    assert_status(fltsim_fault_add(w.sys, &f), STATUS_INVALID_PARAMETER);
    f = (struct fltsim_fault){.kind = FLTSIM_FAULT_DEFERRED_QUEUE, .status = STATUS_ACCESS_DENIED};
    assert_status(fltsim_fault_add(w.sys, &f), STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(fltsim_last_error(), "STATUS_FLT_NOT_SAFE_TO_POST_OPERATION"));
    f = (struct fltsim_fault){.kind = FLTSIM_FAULT_GENERIC_QUEUE,
                              .status = STATUS_FLT_NOT_SAFE_TO_POST_OPERATION};
    assert_status(fltsim_fault_add(w.sys, &f), STATUS_INVALID_PARAMETER);
    f = (struct fltsim_fault){.kind = FLTSIM_FAULT_FS, .status = STATUS_SUCCESS + 1};
    assert_status(fltsim_fault_add(w.sys, &f), STATUS_INVALID_PARAMETER);
    f = (struct fltsim_fault){.kind = FLTSIM_FAULT_ALLOC, .status = STATUS_NO_MEMORY};
    assert_status(fltsim_fault_add(w.sys, &f), STATUS_INVALID_PARAMETER);
    /* Nothing was added: a create is not failed. */
    open_close(w.sys, L"C:\\a.txt", STATUS_SUCCESS);
    assert_int_equal(fltsim_fault_injected_count(w.sys), 0);
    world_destroy(&w);
}

/* ---- allocation faults ---- */

/* The nth allocation by filter code fails, and only it; the test program's
 * own allocations are not fault points. */
static void alloc_nth_fails_only_that_filter_allocation(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct tf_filter tf;
    struct alloc_log log = {.count = 2, .tag = T_TAG};
    load_allocator(&w, &tf, &log);
    struct fltsim_fault f = {.kind = FLTSIM_FAULT_ALLOC, .nth = 3};
    assert_status(fltsim_fault_add(w.sys, &f), STATUS_SUCCESS);
    ULONG64 before = fltsim_fault_point_count(w.sys);
    PVOID mine = ExAllocatePoolWithTag(PagedPool, 8, T_TAG); /* not filter code */
    assert_non_null(mine);
    ExFreePoolWithTag(mine, T_TAG);
    assert_int_equal(fltsim_fault_point_count(w.sys), before);
    open_close(w.sys, L"C:\\a.txt", STATUS_SUCCESS);
    open_close(w.sys, L"C:\\a.txt", STATUS_SUCCESS);
    open_close(w.sys, L"C:\\a.txt", STATUS_SUCCESS);
    log.bits[log.n] = '\0';
    assert_string_equal(log.bits, "110111");
    assert_int_equal(fltsim_fault_injected_count(w.sys), 1);
    assert_int_equal(fltsim_fault_point_count(w.sys), 6);
    struct fltsim_fault_point p;
    assert_status(fltsim_fault_point_get(w.sys, 2, &p), STATUS_SUCCESS);
    assert_int_equal(p.kind, FLTSIM_FAULT_ALLOC);
    assert_int_equal(p.kind_index, 2);
    assert_int_equal(p.detail, T_TAG);
    assert_true(p.injected);
    assert_status(fltsim_fault_point_get(w.sys, 6, &p), STATUS_INVALID_PARAMETER);
    world_destroy(&w);
}

/* Every allocation with the tag fails, others do not; clearing the rules
 * stops the faults. */
static void alloc_tag_fails_every_matching_allocation(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct tf_filter tf;
    struct alloc_log log = {.count = 2, .tag = T_TAG};
    load_allocator(&w, &tf, &log);
    struct fltsim_fault f = {.kind = FLTSIM_FAULT_ALLOC, .tag = 'rhtO'};
    assert_status(fltsim_fault_add(w.sys, &f), STATUS_SUCCESS);
    open_close(w.sys, L"C:\\a.txt", STATUS_SUCCESS);
    f.tag = T_TAG;
    assert_status(fltsim_fault_add(w.sys, &f), STATUS_SUCCESS);
    open_close(w.sys, L"C:\\a.txt", STATUS_SUCCESS);
    fltsim_faults_clear(w.sys);
    open_close(w.sys, L"C:\\a.txt", STATUS_SUCCESS);
    log.bits[log.n] = '\0';
    assert_string_equal(log.bits, "110011");
    world_destroy(&w);
}

static void run_probability(ULONG64 seed, double p, char *out, size_t size)
{
    struct test_world w;
    world_create(&w, 0);
    struct tf_filter tf;
    struct alloc_log log = {.count = 100, .tag = T_TAG};
    load_allocator(&w, &tf, &log);
    struct fltsim_fault f = {.kind = FLTSIM_FAULT_ALLOC, .probability = p, .seed = seed};
    assert_status(fltsim_fault_add(w.sys, &f), STATUS_SUCCESS);
    open_close(w.sys, L"C:\\a.txt", STATUS_SUCCESS);
    log.bits[log.n] = '\0';
    assert_true(log.n < size); /* the caller's buffer holds every decision */
    memcpy(out, log.bits, log.n + 1);
    world_destroy(&w);
}

/* A seeded probability: the same seed fails the same allocations, another
 * seed others, and about the given share fail. */
static void alloc_probability_is_reproducible_by_seed(void **state)
{
    (void)state;
    char a[128], b[128], c[128];
    run_probability(42, 0.5, a, sizeof(a));
    run_probability(42, 0.5, b, sizeof(b));
    run_probability(43, 0.5, c, sizeof(c));
    assert_int_equal(strlen(a), 100);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    int failed = 0;
    for (size_t i = 0; i < 100; i++)
        failed += a[i] == '0';
    assert_in_range(failed, 25, 75);
    run_probability(7, 1.0, a, sizeof(a));
    assert_null(strchr(a, '1'));
}

/* ---- the AntiVirus example under faults ---- */

struct av {
    struct test_world w;
    fltsim_driver *drv;
    LONG queued_ok;
    NTSTATUS last_queue_status;
};

static void av_trace(void *ctx, const struct fltsim_event *ev)
{
    struct av *a = ctx;
    if (ev->type == FLTSIM_EV_WORK_QUEUED && ev->filter != NULL &&
        strcmp(ev->filter, "AntiVirus") == 0) {
        if (ev->status == STATUS_SUCCESS)
            __atomic_add_fetch(&a->queued_ok, 1, __ATOMIC_SEQ_CST);
        a->last_queue_status = ev->status;
    }
}

static void av_create(struct av *a)
{
    memset(a, 0, sizeof(*a));
    world_create(&a->w, 0);
    char data[64];
    memset(data, 'A', sizeof(data));
    memcpy(data + 10, "X5O!P%@AP", 9);
    assert_status(fltsim_memfs_add_file(a->w.fs, L"\\eicar.com", data, sizeof(data)),
                  STATUS_SUCCESS);
    AntiVirusSetSignature(NULL, 0);
    static const struct fltsim_instance_def instances[] = {{L"AntiVirus Instance", L"320000", 0}};
    static const struct fltsim_filter_def def = {L"AntiVirus", L"AntiVirus Instance", instances, 1};
    assert_status(fltsim_driver_load(a->w.sys, &def, AntiVirusDriverEntry, &a->drv),
                  STATUS_SUCCESS);
    fltsim_system_set_trace(a->w.sys, av_trace, a);
}

static void av_destroy(struct av *a)
{
    assert_status(fltsim_system_wait_idle(a->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(a->w.sys), 0);
    assert_status(fltsim_driver_unload(a->drv, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(a->w.sys), 0); /* no leak at unload */
    world_destroy(&a->w);
    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(FLTMGR_WORK_ITEM_TAG, &st);
    assert_int_equal(st.outstanding, 0);
    fltsim_pool_tag_stats(AV_TAG, &st);
    assert_int_equal(st.outstanding, 0);
}

/* FltQueueDeferredIoWorkItem failing with each documented code: the post
 * frees the item and scans in place; the infected file is still refused. */
static void deferred_queue_fault_each_code_falls_back_to_inline_scan(void **state)
{
    (void)state;
    static const NTSTATUS codes[] = {STATUS_FLT_NOT_SAFE_TO_POST_OPERATION,
                                     STATUS_FLT_DELETING_OBJECT};
    for (size_t i = 0; i < 2; i++) {
        struct av a;
        av_create(&a);
        struct fltsim_fault f = {.kind = FLTSIM_FAULT_DEFERRED_QUEUE, .status = codes[i]};
        assert_status(fltsim_fault_add(a.w.sys, &f), STATUS_SUCCESS);
        open_close(a.w.sys, L"C:\\a.txt", STATUS_SUCCESS);
        assert_status(a.last_queue_status, codes[i]);
        open_close(a.w.sys, L"C:\\eicar.com", STATUS_VIRUS_INFECTED);
        assert_int_equal(a.queued_ok, 0);
        assert_int_equal(AntiVirusScannedInline(), 2);
        assert_int_equal(AntiVirusDetected(), 1);
        assert_int_equal(fltsim_fault_injected_count(a.w.sys), 2);
        av_destroy(&a);
    }
}

/* Only the nth queue call fails (the default code): the second open scans
 * inline, the first and third in a work item. */
static void deferred_queue_fault_nth_fails_only_that_call(void **state)
{
    (void)state;
    struct av a;
    av_create(&a);
    struct fltsim_fault f = {.kind = FLTSIM_FAULT_DEFERRED_QUEUE, .nth = 2};
    assert_status(fltsim_fault_add(a.w.sys, &f), STATUS_SUCCESS);
    for (int i = 0; i < 3; i++)
        open_close(a.w.sys, L"C:\\a.txt", STATUS_SUCCESS);
    assert_int_equal(a.queued_ok, 2);
    assert_int_equal(AntiVirusScannedInline(), 1);
    assert_int_equal(AntiVirusScanned(), 3);
    av_destroy(&a);
}

/* The work item's allocation fails ('FMwi'): the post scans in place. The
 * scan buffer's ('Ativ') fails: the open is let through unscanned. */
static void alloc_fault_in_antivirus_takes_its_fallbacks(void **state)
{
    (void)state;
    struct av a;
    av_create(&a);
    struct fltsim_fault f = {.kind = FLTSIM_FAULT_ALLOC, .tag = FLTMGR_WORK_ITEM_TAG};
    assert_status(fltsim_fault_add(a.w.sys, &f), STATUS_SUCCESS);
    open_close(a.w.sys, L"C:\\eicar.com", STATUS_VIRUS_INFECTED);
    assert_int_equal(a.queued_ok, 0);
    assert_int_equal(AntiVirusScannedInline(), 1);
    fltsim_faults_clear(a.w.sys);
    f.tag = AV_TAG;
    assert_status(fltsim_fault_add(a.w.sys, &f), STATUS_SUCCESS);
    open_close(a.w.sys, L"C:\\eicar.com", STATUS_SUCCESS);
    assert_int_equal(AntiVirusUnscanned(), 1);
    assert_int_equal(AntiVirusDetected(), 1);
    av_destroy(&a);
}

/* ---- generic work items ---- */

struct generic_log {
    NTSTATUS status[4];
    int calls;
    LONG ran;
};

static VOID generic_routine(PFLT_GENERIC_WORKITEM item, PVOID object, PVOID context)
{
    (void)object;
    struct generic_log *log = context;
    __atomic_add_fetch(&log->ran, 1, __ATOMIC_SEQ_CST);
    FltFreeGenericWorkItem(item);
}

static FLT_PREOP_CALLBACK_STATUS generic_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                             PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)data;
    (void)context;
    struct generic_log *log = tf->user;
    PFLT_GENERIC_WORKITEM item = FltAllocateGenericWorkItem();
    if (item == NULL)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    NTSTATUS st =
        FltQueueGenericWorkItem(item, objects->Instance, generic_routine, DelayedWorkQueue, log);
    if (log->calls < 4)
        log->status[log->calls++] = st;
    if (!NT_SUCCESS(st))
        FltFreeGenericWorkItem(item);
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

/* FltQueueGenericWorkItem fails with STATUS_FLT_DELETING_OBJECT on the nth
 * call only; the routine runs for the others. */
static void generic_queue_fault_fails_with_deleting_object(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct tf_filter tf;
    struct generic_log log;
    memset(&log, 0, sizeof(log));
    tf_init(&tf, "G", "300000");
    tf_only(&tf, IRP_MJ_CREATE);
    tf.pre = generic_pre;
    tf.user = &log;
    assert_status(tf_load(w.sys, &tf), STATUS_SUCCESS);
    struct fltsim_fault f = {.kind = FLTSIM_FAULT_GENERIC_QUEUE, .nth = 2};
    assert_status(fltsim_fault_add(w.sys, &f), STATUS_SUCCESS);
    for (int i = 0; i < 3; i++)
        open_close(w.sys, L"C:\\a.txt", STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(log.calls, 3);
    assert_status(log.status[0], STATUS_SUCCESS);
    assert_status(log.status[1], STATUS_FLT_DELETING_OBJECT);
    assert_status(log.status[2], STATUS_SUCCESS);
    assert_int_equal(log.ran, 2);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(FLTMGR_WORK_ITEM_TAG, &st);
    assert_int_equal(st.outstanding, 0);
}

/* ---- the ledger of points, for an explorer ---- */

struct point_run {
    ULONG64 count;
    struct fltsim_fault_point points[64];
    NTSTATUS result; /* the infected open's status */
    LONG unscanned, inline_scans;
};

/* The AntiVirus scenario: two opens through faultfs. fault NULL: no fault. */
static void explore_run(const struct fltsim_fault *fault, struct point_run *out)
{
    struct fworld w;
    fworld_create(&w);
    char data[64];
    memset(data, 'A', sizeof(data));
    memcpy(data + 10, "X5O!P%@AP", 9);
    assert_status(fltsim_memfs_add_file(w.memfs, L"\\eicar.com", data, sizeof(data)),
                  STATUS_SUCCESS);
    AntiVirusSetSignature(NULL, 0);
    static const struct fltsim_instance_def instances[] = {{L"AntiVirus Instance", L"320000", 0}};
    static const struct fltsim_filter_def def = {L"AntiVirus", L"AntiVirus Instance", instances, 1};
    fltsim_driver *drv = NULL;
    assert_status(fltsim_driver_load(w.sys, &def, AntiVirusDriverEntry, &drv), STATUS_SUCCESS);
    if (fault != NULL)
        assert_status(fltsim_fault_add(w.sys, fault), STATUS_SUCCESS);
    HANDLE h = NULL;
    out->result = fltsim_io_open(w.sys, L"C:\\eicar.com", GENERIC_READ, &h);
    if (NT_SUCCESS(out->result))
        assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(w.sys, 10000), STATUS_SUCCESS);
    out->count = fltsim_fault_point_count(w.sys);
    for (ULONG64 i = 0; i < out->count && i < 64; i++)
        assert_status(fltsim_fault_point_get(w.sys, i, &out->points[i]), STATUS_SUCCESS);
    out->unscanned = AntiVirusUnscanned();
    out->inline_scans = AntiVirusScannedInline();
    assert_status(fltsim_driver_unload(drv, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    fworld_destroy(&w);
}

/* A run enumerates its points with kinds and per-kind indices; a second run
 * reaches the same ones; a rule built from point i's kind and kind index
 * fails exactly point i of the rerun. */
static void points_are_enumerated_and_addressable(void **state)
{
    (void)state;
    struct point_run base, again;
    explore_run(NULL, &base);
    explore_run(NULL, &again);
    assert_status(base.result, STATUS_VIRUS_INFECTED);
    assert_true(base.count >= 5 && base.count <= 64);
    assert_int_equal(again.count, base.count);
    int seen[FLTSIM_FAULT_KIND_COUNT] = {0};
    for (ULONG64 i = 0; i < base.count; i++) {
        const struct fltsim_fault_point *p = &base.points[i];
        assert_int_equal(p->kind, again.points[i].kind);
        assert_int_equal(p->detail, again.points[i].detail);
        assert_int_equal(p->kind_index, (ULONG64)seen[p->kind]);
        assert_false(p->injected);
        seen[p->kind]++;
    }
    /* An open: create and close reach the FS; the scan allocates its item
     * ('FMwi') and buffer, queues once, reads. */
    assert_int_equal(seen[FLTSIM_FAULT_DEFERRED_QUEUE], 1);
    assert_int_equal(seen[FLTSIM_FAULT_GENERIC_QUEUE], 0);
    assert_true(seen[FLTSIM_FAULT_ALLOC] >= 2);
    assert_true(seen[FLTSIM_FAULT_FS] >= 3);
    assert_int_equal(base.points[0].kind, FLTSIM_FAULT_FS);
    assert_int_equal(base.points[0].detail, IRP_MJ_CREATE);

    for (ULONG64 i = 0; i < base.count; i++) {
        struct fltsim_fault f = {.kind = base.points[i].kind, .nth = base.points[i].kind_index + 1};
        struct point_run run;
        explore_run(&f, &run);
        ULONG64 injected_at = (ULONG64)-1;
        for (ULONG64 j = 0; j < run.count && j < 64; j++)
            if (run.points[j].injected) {
                assert_int_equal(injected_at, (ULONG64)-1);
                injected_at = j;
            }
        assert_int_equal(injected_at, i);
        /* The correct filter never lets the infected file open... unless
         * its scan could not read it at all (an FS or buffer fault), which
         * it counts as unscanned. */
        if (run.result == STATUS_SUCCESS)
            assert_true(run.unscanned == 1);
    }
}

/* ---- faultfs ---- */

static void faultfs_nth_operation_fails_with_the_status(void **state)
{
    (void)state;
    struct fworld w;
    fworld_create(&w);
    add_rule(&w, 3, NULL, -1, STATUS_IO_DEVICE_ERROR, false, 0);
    HANDLE h = NULL;
    assert_status(fltsim_io_open(w.sys, L"C:\\a.txt", GENERIC_READ, &h), STATUS_SUCCESS); /* 1 */
    char buf[16] = {0};
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_read(w.sys, h, buf, 5, &zero, 0, &iosb), STATUS_SUCCESS); /* 2 */
    assert_status(fltsim_io_read(w.sys, h, buf, 5, &zero, 0, &iosb), STATUS_IO_DEVICE_ERROR);
    assert_int_equal(iosb.Information, 0);
    assert_status(fltsim_io_read(w.sys, h, buf, 11, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_memory_equal(buf, "hello world", 11);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_faultfs_failed_count(w.ffs), 1);
    assert_true(fltsim_faultfs_op_count(w.ffs) >= 5); /* + cleanup, close */
    assert_int_equal(fltsim_memfs_open_count(w.memfs), 0);
    fworld_destroy(&w);
}

/* A path pattern and a major: creates of *.txt fail; other names and other
 * majors pass; close is never failed. */
static void faultfs_path_and_major_select_operations(void **state)
{
    (void)state;
    struct fworld w;
    fworld_create(&w);
    add_rule(&w, 0, "*.TXT", IRP_MJ_CREATE, STATUS_ACCESS_DENIED, false, 0);
    add_rule(&w, 0, "\\dir\\*", IRP_MJ_CLOSE, STATUS_IO_DEVICE_ERROR, false, 0);
    open_close(w.sys, L"C:\\a.txt", STATUS_ACCESS_DENIED);
    open_close(w.sys, L"C:\\A.TXT", STATUS_ACCESS_DENIED);
    open_close(w.sys, L"C:\\dir\\b.dat", STATUS_SUCCESS);
    assert_int_equal(fltsim_faultfs_failed_count(w.ffs), 2);
    assert_int_equal(fltsim_memfs_open_count(w.memfs), 0);
    fworld_destroy(&w);
}

struct irql_log {
    KIRQL post_irql;
    NTSTATUS post_status;
};

static FLT_POSTOP_CALLBACK_STATUS irql_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID context,
                                            FLT_POST_OPERATION_FLAGS flags)
{
    (void)objects;
    (void)context;
    (void)flags;
    struct irql_log *log = tf->user;
    log->post_irql = KeGetCurrentIrql();
    log->post_status = data->IoStatus.Status;
    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* An asynchronous completion: the read returns its data, and the post runs
 * in the completion context (DISPATCH_LEVEL); a failing async rule fails
 * the same way. */
static void faultfs_async_completes_from_a_worker(void **state)
{
    (void)state;
    struct fworld w;
    fworld_create(&w);
    struct tf_filter tf;
    struct irql_log log = {0, 0};
    tf_init(&tf, "P", "300000");
    tf_only(&tf, IRP_MJ_READ);
    tf.post = irql_post;
    tf.user = &log;
    assert_status(tf_load(w.sys, &tf), STATUS_SUCCESS);
    add_rule(&w, 1, NULL, IRP_MJ_READ, STATUS_SUCCESS, true, 0);
    add_rule(&w, 2, NULL, IRP_MJ_READ, STATUS_DISK_FULL, true, 0);
    HANDLE h = NULL;
    assert_status(fltsim_io_open(w.sys, L"C:\\a.txt", GENERIC_READ, &h), STATUS_SUCCESS);
    char buf[16] = {0};
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(w.sys, h, buf, 11, &zero, 0, NULL), STATUS_SUCCESS);
    assert_memory_equal(buf, "hello world", 11);
    assert_int_equal(log.post_irql, DISPATCH_LEVEL);
    assert_status(log.post_status, STATUS_SUCCESS);
    /* Each rule counts every READ; the first rule that applies decides. */
    assert_status(fltsim_io_read(w.sys, h, buf, 11, &zero, 0, NULL), STATUS_DISK_FULL);
    assert_int_equal(log.post_irql, DISPATCH_LEVEL);
    assert_status(log.post_status, STATUS_DISK_FULL);
    assert_status(fltsim_io_read(w.sys, h, buf, 11, &zero, 0, NULL), STATUS_SUCCESS);
    assert_int_equal(log.post_irql, PASSIVE_LEVEL); /* synchronous again */
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    fworld_destroy(&w);
}

/* A delay holds the completion back by at least its length: virtual time
 * under the deterministic executor, real time under the concurrent one; also
 * with an asynchronous completion. */
static void faultfs_delay_holds_completion(void **state)
{
    (void)state;
    struct fworld w;
    fworld_create(&w);
    add_rule(&w, 1, NULL, IRP_MJ_READ, STATUS_SUCCESS, false, 30);
    add_rule(&w, 2, NULL, IRP_MJ_READ, STATUS_SUCCESS, true, 30);
    HANDLE h = NULL;
    assert_status(fltsim_io_open(w.sys, L"C:\\a.txt", GENERIC_READ, &h), STATUS_SUCCESS);
    char buf[16] = {0};
    LONGLONG zero = 0;
    for (int i = 0; i < 2; i++) {
        LARGE_INTEGER t0, t1;
        KeQuerySystemTimePrecise(&t0);
        assert_status(fltsim_io_read(w.sys, h, buf, 11, &zero, 0, NULL), STATUS_SUCCESS);
        KeQuerySystemTimePrecise(&t1);
        assert_true(t1.QuadPart - t0.QuadPart >= 30 * 10000 - 10000); /* clock granularity */
    }
    assert_memory_equal(buf, "hello world", 11);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    fworld_destroy(&w);
}

/* A failed fast read is declined: the I/O manager sends the IRP, which
 * succeeds. */
static void faultfs_fast_io_fault_declines_to_an_irp(void **state)
{
    (void)state;
    struct fworld w;
    fworld_create(&w);
    add_rule(&w, 1, NULL, IRP_MJ_READ, STATUS_IO_DEVICE_ERROR, false, 0);
    rec_trace_system(w.sys);
    HANDLE h = NULL;
    assert_status(fltsim_io_open(w.sys, L"C:\\a.txt", GENERIC_READ, &h), STATUS_SUCCESS);
    char buf[16] = {0};
    LONGLONG zero = 0;
    rec_reset();
    assert_status(fltsim_io_read(w.sys, h, buf, 11, &zero, FLTSIM_IO_FAST, NULL), STATUS_SUCCESS);
    assert_memory_equal(buf, "hello world", 11);
    assert_int_equal(fltsim_faultfs_failed_count(w.ffs), 1);
    assert_recorded("FS:READ FS:READ");
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    fworld_destroy(&w);
}

/* A system FS rule reaches faultfs's operations (a fault point each). */
static void faultfs_system_fs_rule_fails_the_nth_point(void **state)
{
    (void)state;
    struct fworld w;
    fworld_create(&w);
    struct fltsim_fault f = {.kind = FLTSIM_FAULT_FS, .nth = 1, .status = STATUS_DISK_FULL};
    assert_status(fltsim_fault_add(w.sys, &f), STATUS_SUCCESS);
    open_close(w.sys, L"C:\\a.txt", STATUS_DISK_FULL);
    open_close(w.sys, L"C:\\a.txt", STATUS_SUCCESS);
    struct fltsim_fault_point p;
    assert_status(fltsim_fault_point_get(w.sys, 0, &p), STATUS_SUCCESS);
    assert_int_equal(p.kind, FLTSIM_FAULT_FS);
    assert_true(p.injected);
    fworld_destroy(&w);
}

static void faultfs_bad_rules_are_refused(void **state)
{
    (void)state;
    struct fworld w;
    fworld_create(&w);
    struct fltsim_faultfs_rule r = {.major = 0x40, .status = STATUS_IO_DEVICE_ERROR};
    assert_status(fltsim_faultfs_add_rule(w.ffs, &r), STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(fltsim_last_error(), "major 64"));
    r = (struct fltsim_faultfs_rule){.major = -1};
    assert_status(fltsim_faultfs_add_rule(w.ffs, &r), STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(fltsim_last_error(), "does nothing"));
    r = (struct fltsim_faultfs_rule){.major = -1, .status = STATUS_PENDING};
    assert_status(fltsim_faultfs_add_rule(w.ffs, &r), STATUS_INVALID_PARAMETER);
    r = (struct fltsim_faultfs_rule){.major = -1, .path = "\xff", .status = STATUS_DISK_FULL};
    assert_status(fltsim_faultfs_add_rule(w.ffs, &r), STATUS_INVALID_PARAMETER);
    struct fltsim_faultfs *other = NULL;
    assert_status(fltsim_faultfs_create(NULL, &fltsim_memfs_ops, NULL, &other),
                  STATUS_INVALID_PARAMETER);
    assert_null(other);
    open_close(w.sys, L"C:\\a.txt", STATUS_SUCCESS);
    fworld_destroy(&w);
}

/* ---- scenario files ---- */

/* Runs scenario text under the current executor; returns the run's status. */
static NTSTATUS run_scenario_text(const char *text, struct fltsim_scenario_result *result)
{
    char path[] = "/tmp/fltsim-faults-XXXXXX";
    test_write_temp(path, text);
    struct fltsim_scenario *sc = NULL;
    char error[512];
    NTSTATUS status = fltsim_scenario_load(path, &sc, error, sizeof(error));
    unlink(path);
    if (!NT_SUCCESS(status))
        fprintf(stderr, "%s\n", error);
    assert_status(status, STATUS_SUCCESS);
    struct fltsim_scenario_run_options o = {
        .override_executor = true, .executor = test_executor, .skip_golden = true};
    memset(result, 0, sizeof(*result));
    status = fltsim_scenario_run(sc, &o, result);
    fltsim_scenario_free(sc);
    return status;
}

/* A faults: section: the AntiVirus scan buffer's allocation ('Ativ') fails,
 * so the infected file opens unscanned; the second create of the volume
 * fails in the file system; the generic-queue and probability entries load
 * and run. The expectations hold only when the faults apply. */
static void scenario_faults_section_is_applied(void **state)
{
    (void)state;
    struct fltsim_scenario_result r;
    NTSTATUS status = run_scenario_text("scenario: faults from a scenario file\n"
                                        "volumes:\n"
                                        "  - drive: C\n"
                                        "    files:\n"
                                        "      - path: \\eicar.com\n"
                                        "        data: \"X5O!P%@AP\"\n"
                                        "      - path: \\b.txt\n"
                                        "        data: \"bravo\"\n"
                                        "filters:\n"
                                        "  - name: AntiVirus\n"
                                        "    builtin: antivirus\n"
                                        "    altitude: 320000\n"
                                        "faults:\n"
                                        "  - kind: alloc\n"
                                        "    tag: Ativ\n"
                                        "  - kind: generic_queue\n"
                                        "  - kind: alloc\n"
                                        "    tag: none\n"
                                        "    probability: 0.5\n"
                                        "    seed: 9\n"
                                        "  - kind: fs\n"
                                        "    volume: C\n"
                                        "    major: IRP_MJ_CREATE\n"
                                        "    nth: 2\n"
                                        "    status: STATUS_DISK_FULL\n"
                                        "steps:\n"
                                        "  - op: open\n"
                                        "    handle: bad\n"
                                        "    path: C:\\eicar.com\n"
                                        "    expect: {status: STATUS_SUCCESS}\n"
                                        "  - op: open\n"
                                        "    path: C:\\b.txt\n"
                                        "    expect: {status: STATUS_DISK_FULL}\n"
                                        "  - op: open\n"
                                        "    handle: b\n"
                                        "    path: C:\\b.txt\n"
                                        "  - op: close\n"
                                        "    handle: b\n"
                                        "  - op: close\n"
                                        "    handle: bad\n"
                                        "expect:\n"
                                        "  handles: 0\n",
                                        &r);
    assert_status(status, STATUS_SUCCESS);
    assert_int_equal(r.expectations_failed, 0);
    assert_int_equal(r.reports, 0);
    assert_false(r.error);
    assert_int_equal(AntiVirusUnscanned(), 2); /* eicar.com and b.txt */
    assert_int_equal(AntiVirusDetected(), 0);
}

/* The same scenario without its faults: the expectations fail, so the case
 * above would notice faults that were not applied. */
static void scenario_without_faults_fails_the_faulted_expectations(void **state)
{
    (void)state;
    struct fltsim_scenario_result r;
    FILE *devnull = fopen("/dev/null", "w");
    assert_non_null(devnull);
    char path[] = "/tmp/fltsim-faults-XXXXXX";
    test_write_temp(path, "scenario: no faults\n"
                          "volumes:\n"
                          "  - drive: C\n"
                          "    files:\n"
                          "      - path: \\b.txt\n"
                          "        data: \"bravo\"\n"
                          "steps:\n"
                          "  - op: open\n"
                          "    path: C:\\b.txt\n"
                          "    handle: b\n"
                          "  - op: open\n"
                          "    path: C:\\b.txt\n"
                          "    expect: {status: STATUS_DISK_FULL}\n");
    struct fltsim_scenario *sc = NULL;
    char error[512];
    assert_status(fltsim_scenario_load(path, &sc, error, sizeof(error)), STATUS_SUCCESS);
    unlink(path);
    struct fltsim_scenario_run_options o = {
        .override_executor = true, .executor = test_executor, .skip_golden = true, .log = devnull};
    memset(&r, 0, sizeof(r));
    assert_status(fltsim_scenario_run(sc, &o, &r), STATUS_UNSUCCESSFUL);
    assert_int_equal(r.expectations_failed, 1);
    fltsim_scenario_free(sc);
    fclose(devnull);
}

/* scenarios/faults.yaml, the documented example, passes its expectations. */
static void scenario_faults_example_passes(void **state)
{
    (void)state;
    struct fltsim_scenario *sc = NULL;
    char error[512];
    assert_status(
        fltsim_scenario_load(FLTSIM_TEST_SCENARIOS_DIR "/faults.yaml", &sc, error, sizeof(error)),
        STATUS_SUCCESS);
    struct fltsim_scenario_run_options o = {
        .override_executor = true, .executor = test_executor, .skip_golden = true};
    struct fltsim_scenario_result r;
    memset(&r, 0, sizeof(r));
    assert_status(fltsim_scenario_run(sc, &o, &r), STATUS_SUCCESS);
    assert_true(r.expectations_checked >= 10);
    assert_int_equal(r.expectations_failed, 0);
    assert_int_equal(AntiVirusScannedInline(), 1);
    assert_int_equal(AntiVirusUnscanned(), 1);
    fltsim_scenario_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fault_add_bad_rules_are_refused),
        cmocka_unit_test(alloc_nth_fails_only_that_filter_allocation),
        cmocka_unit_test(alloc_tag_fails_every_matching_allocation),
        cmocka_unit_test(alloc_probability_is_reproducible_by_seed),
        cmocka_unit_test(deferred_queue_fault_each_code_falls_back_to_inline_scan),
        cmocka_unit_test(deferred_queue_fault_nth_fails_only_that_call),
        cmocka_unit_test(alloc_fault_in_antivirus_takes_its_fallbacks),
        cmocka_unit_test(generic_queue_fault_fails_with_deleting_object),
        cmocka_unit_test(points_are_enumerated_and_addressable),
        cmocka_unit_test(faultfs_nth_operation_fails_with_the_status),
        cmocka_unit_test(faultfs_path_and_major_select_operations),
        cmocka_unit_test(faultfs_async_completes_from_a_worker),
        cmocka_unit_test(faultfs_delay_holds_completion),
        cmocka_unit_test(faultfs_fast_io_fault_declines_to_an_irp),
        cmocka_unit_test(faultfs_system_fs_rule_fails_the_nth_point),
        cmocka_unit_test(faultfs_bad_rules_are_refused),
        cmocka_unit_test(scenario_faults_section_is_applied),
        cmocka_unit_test(scenario_without_faults_fails_the_faulted_expectations),
        cmocka_unit_test(scenario_faults_example_passes),
    };
    return FLTSIM_RUN_SUITE("faults", tests);
}
