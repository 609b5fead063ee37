/*
 * Leak accounting at unload (SPEC 10 V23, 2.6 V26): pool blocks a filter's
 * code allocated and never freed (reported per tag and call site, grouped, at
 * driver unload and at system destruction), object references it never
 * dropped, work items it never freed, and operations it left pended at
 * teardown. Each leaking filter has a correct twin that produces no report.
 * One test filter A over memfs; each behaviour is triggered from A's pre-read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

#define LEAK_TAG 'kaeL' /* shows as 'Leak' */
#define LEAK_BLOCKS 1000

enum action {
    ACT_POOL,          /* allocate LEAK_BLOCKS blocks at one site */
    ACT_POOL_POINTER,  /* allocate one block through the function's address */
    ACT_POOL2,         /* ExAllocatePool2 and ExAllocatePoolZero, one block each */
    ACT_OBJECT_REF,    /* FltObjectReference(instance) + FltGetVolumeFromInstance */
    ACT_GENERIC_ITEM,  /* FltAllocateGenericWorkItem */
    ACT_DEFERRED_ITEM, /* FltAllocateDeferredIoWorkItem */
    ACT_PEND,          /* pend the read in pre */
    ACT_RTL_STRING     /* RtlUpcaseUnicodeString allocating the destination */
};

struct fixture {
    struct test_world w;
    struct tf_filter a;
    enum action action;
    bool correct; /* the twin: release what was taken, before unload */
    /* what the pre took */
    PVOID blocks[LEAK_BLOCKS];
    ULONG block_count;
    int site_line;
    PFLT_VOLUME volume_ref;
    PFLT_INSTANCE instance_ref;
    PFLT_GENERIC_WORKITEM generic;
    PFLT_DEFERRED_IO_WORKITEM deferred;
    PFLT_CALLBACK_DATA pended;
    bool complete_in_teardown;
    UNICODE_STRING upcased;
    /* reports seen by the trace (they outlive the system) */
    char reports[8][400];
    ULONG report_count;
};

static struct fixture *current;

static void take(struct fixture *f, PFLT_CALLBACK_DATA data, PCFLT_RELATED_OBJECTS objects)
{
    (void)data;
    switch (f->action) {
    case ACT_POOL:
        for (ULONG i = 0; i < LEAK_BLOCKS; i++) {
            f->site_line = __LINE__ + 1;
            f->blocks[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 32, LEAK_TAG);
            assert_non_null(f->blocks[i]);
        }
        f->block_count = LEAK_BLOCKS;
        break;
    case ACT_POOL_POINTER: {
        PVOID (*allocate)(POOL_TYPE, SIZE_T, ULONG) = ExAllocatePoolWithTag;
        f->blocks[0] = allocate(PagedPool, 10, LEAK_TAG);
        assert_non_null(f->blocks[0]);
        f->block_count = 1;
        break;
    }
    case ACT_POOL2:
        f->site_line = __LINE__ + 1;
        f->blocks[0] = ExAllocatePool2(POOL_FLAG_PAGED, 16, LEAK_TAG);
        f->blocks[1] = ExAllocatePoolZero(PagedPool, 8, 'owT2');
        assert_non_null(f->blocks[0]);
        assert_non_null(f->blocks[1]);
        f->block_count = 2;
        break;
    case ACT_OBJECT_REF:
        assert_status(FltObjectReference(objects->Instance), STATUS_SUCCESS);
        f->instance_ref = objects->Instance;
        assert_status(FltGetVolumeFromInstance(objects->Instance, &f->volume_ref), STATUS_SUCCESS);
        break;
    case ACT_GENERIC_ITEM:
        f->generic = FltAllocateGenericWorkItem();
        assert_non_null(f->generic);
        break;
    case ACT_DEFERRED_ITEM:
        f->deferred = FltAllocateDeferredIoWorkItem();
        assert_non_null(f->deferred);
        break;
    case ACT_RTL_STRING: {
        UNICODE_STRING name = RTL_CONSTANT_STRING(L"leak");
        assert_status(RtlUpcaseUnicodeString(&f->upcased, &name, TRUE), STATUS_SUCCESS);
        break;
    }
    case ACT_PEND:
        break;
    }
}

/* The twin gives back what take took, still from the filter's own code. */
static void give_back(struct fixture *f)
{
    for (ULONG i = 0; i < f->block_count; i++)
        ExFreePool(f->blocks[i]);
    f->block_count = 0;
    if (f->instance_ref != NULL)
        FltObjectDereference(f->instance_ref);
    if (f->volume_ref != NULL)
        FltObjectDereference(f->volume_ref);
    f->instance_ref = NULL;
    f->volume_ref = NULL;
    if (f->generic != NULL)
        FltFreeGenericWorkItem(f->generic);
    if (f->deferred != NULL)
        FltFreeDeferredIoWorkItem(f->deferred);
    f->generic = NULL;
    f->deferred = NULL;
    RtlFreeUnicodeString(&f->upcased);
}

static FLT_PREOP_CALLBACK_STATUS pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                     PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    struct fixture *f = current;
    (void)tf;
    *context = NULL;
    if (data->Iopb->MajorFunction != IRP_MJ_READ)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    if (f->action == ACT_PEND) {
        f->pended = data;
        return FLT_PREOP_PENDING;
    }
    take(f, data, objects);
    /* The twin releases it in its next callback (the cleanup), as filter code. */
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static FLT_PREOP_CALLBACK_STATUS pre_with_cleanup(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                                  PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    struct fixture *f = current;
    if (data->Iopb->MajorFunction == IRP_MJ_CLEANUP && f->correct) {
        give_back(f);
        *context = NULL;
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    return pre(tf, data, objects, context);
}

static void teardown_start(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    struct fixture *f = current;
    (void)tf;
    (void)objects;
    if (f->complete_in_teardown && f->pended != NULL) {
        PFLT_CALLBACK_DATA data = f->pended;
        f->pended = NULL;
        FltCompletePendedPreOperation(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    }
}

static void record_reports(void *ctx, const struct fltsim_event *ev)
{
    struct fixture *f = ctx;
    if (ev->type != FLTSIM_EV_REPORT || f->report_count >= 8)
        return;
    snprintf(f->reports[f->report_count++], sizeof(f->reports[0]), "%s %s: %s",
             ev->filter != NULL ? ev->filter : "-", ev->rule, ev->detail);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    tf_reset_all();
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "370000");
    f->a.pre = pre_with_cleanup;
    f->a.teardown_start_hook = teardown_start;
    current = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    /* What the leaking filter left behind goes now (tracking stopped at
     * unload): references and items while their system exists. */
    if (f->instance_ref != NULL)
        FltObjectDereference(f->instance_ref);
    if (f->volume_ref != NULL)
        FltObjectDereference(f->volume_ref);
    if (f->generic != NULL)
        FltFreeGenericWorkItem(f->generic);
    if (f->deferred != NULL)
        FltFreeDeferredIoWorkItem(f->deferred);
    /* (Pool blocks the filter leaked would go with the system; these are
     * given back first, as a debugger would, so the counts stay exact.) */
    RtlFreeUnicodeString(&f->upcased);
    for (ULONG i = 0; i < f->block_count; i++)
        ExFreePool(f->blocks[i]);
    world_destroy(&f->w);
    current = NULL;
    free(f);
    return 0;
}

/* Loads A, opens a.txt, reads it (A's pre takes), closes it (the twin gives back). */
static void load_read_close(struct fixture *f)
{
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buffer[16];
    IO_STATUS_BLOCK iosb;
    LONGLONG offset = 0;
    assert_status(fltsim_io_read(f->w.sys, h, buffer, sizeof(buffer), &offset, 0, &iosb),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

static void unload_a(struct fixture *f)
{
    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    f->a.filter = NULL;
    f->a.driver = NULL;
}

/* The only report of the system, which must have rule and contain each of the needles. */
static void assert_one_report(fltsim_system *sys, const char *rule, const char *const *needles)
{
    assert_int_equal(fltsim_system_report_count(sys), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(sys, 0, &r), STATUS_SUCCESS);
    assert_string_equal(r.rule, rule);
    assert_string_equal(r.filter, "A");
    for (; *needles != NULL; needles++)
        if (strstr(r.message, *needles) == NULL)
            fail_msg("report \"%s\" lacks \"%s\"", r.message, *needles);
}

/* ---- pool ---- */

/* V23: 1000 blocks leaked at one site are one report at unload naming the
 * driver, the count, the tag, the bytes and file:line; the per-driver stats
 * saw them before. */
static void pool_leak_reported_at_unload_by_tag_and_site(void **state)
{
    struct fixture *f = *state;
    f->action = ACT_POOL;
    load_read_close(f);
    struct fltsim_pool_stats st;
    fltsim_driver_pool_stats(f->a.driver, LEAK_TAG, &st);
    assert_int_equal(st.outstanding, LEAK_BLOCKS);
    assert_int_equal(st.outstanding_bytes, LEAK_BLOCKS * 32);
    fltsim_driver_pool_stats(f->a.driver, 0, &st);
    assert_int_equal(st.outstanding, LEAK_BLOCKS);
    fltsim_driver_pool_stats(f->a.driver, 'enoN', &st);
    assert_int_equal(st.outstanding, 0);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);

    unload_a(f);
    char site[64];
    snprintf(site, sizeof(site), "test_leaks.c:%d", f->site_line);
    const char *needles[] = {"A unloads", "1000 pool block(s)", "'Leak'", "32000 bytes", site,
                             NULL};
    assert_one_report(f->w.sys, "V23", needles);
}

static void pool_freed_no_report(void **state)
{
    struct fixture *f = *state;
    f->action = ACT_POOL;
    f->correct = true;
    load_read_close(f);
    struct fltsim_pool_stats st;
    fltsim_driver_pool_stats(f->a.driver, 0, &st);
    assert_int_equal(st.outstanding, 0);
    unload_a(f);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* ExAllocatePool2 and ExAllocatePoolZero record their sites too; two tags are two lines. */
static void pool2_and_zero_leaks_are_one_report_per_tag(void **state)
{
    struct fixture *f = *state;
    f->action = ACT_POOL2;
    load_read_close(f);
    unload_a(f);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V23"), 2);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 2);
    char site[64];
    snprintf(site, sizeof(site), "test_leaks.c:%d", f->site_line);
    bool saw_leak = false, saw_two = false;
    for (ULONG i = 0; i < 2; i++) {
        struct fltsim_report r;
        assert_status(fltsim_system_report_get(f->w.sys, i, &r), STATUS_SUCCESS);
        if (strstr(r.message, "'Leak' (16 bytes)") != NULL && strstr(r.message, site) != NULL)
            saw_leak = true;
        if (strstr(r.message, "'2Two' (8 bytes)") != NULL)
            saw_two = true;
    }
    assert_true(saw_leak);
    assert_true(saw_two);
}

/* The function form still exists (a filter may take its address); such a
 * block is reported with an unknown site. */
static void pool_leak_through_pointer_has_unknown_site(void **state)
{
    struct fixture *f = *state;
    f->action = ACT_POOL_POINTER;
    load_read_close(f);
    unload_a(f);
    const char *needles[] = {"1 pool block(s)", "'Leak' (10 bytes)", "unknown site", NULL};
    assert_one_report(f->w.sys, "V23", needles);
}

/* A driver still loaded when the system is destroyed is unloaded then, and
 * its leaks are reported (seen through the trace: the system is gone after). */
static void pool_leak_reported_at_system_destroy(void **state)
{
    struct fixture *f = *state;
    f->action = ACT_POOL;
    load_read_close(f);
    fltsim_system_set_trace(f->w.sys, record_reports, f);
    world_destroy(&f->w);
    f->a.filter = NULL;
    f->a.driver = NULL;
    assert_int_equal(f->report_count, 1);
    assert_non_null(strstr(f->reports[0], "A V23"));
    assert_non_null(strstr(f->reports[0], "1000 pool block(s) of tag 'Leak'"));
    /* ... and the leaked blocks went with the system. */
    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(LEAK_TAG, &st);
    assert_int_equal(st.outstanding, 0);
    f->block_count = 0;
    world_create(&f->w, 0); /* for teardown */
}

/* Memory allocated outside any filter's code (here, the test itself) is not
 * charged to a driver and not reported. */
static void pool_outside_filter_code_not_charged(void **state)
{
    struct fixture *f = *state;
    f->action = ACT_POOL;
    f->correct = true;
    load_read_close(f);
    PVOID mine = ExAllocatePoolWithTag(PagedPool, 4, LEAK_TAG);
    assert_non_null(mine);
    struct fltsim_pool_stats st;
    fltsim_driver_pool_stats(f->a.driver, LEAK_TAG, &st);
    assert_int_equal(st.outstanding, 0);
    unload_a(f);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    ExFreePoolWithTag(mine, LEAK_TAG);
}

/* A routine that allocates for the filter is named as the site. */
static void rtl_string_leak_names_the_routine(void **state)
{
    struct fixture *f = *state;
    f->action = ACT_RTL_STRING;
    load_read_close(f);
    unload_a(f);
    const char *needles[] = {"1 pool block(s) of tag 'RtlS' (8 bytes)",
                             "allocated at RtlUpcaseUnicodeString never freed", NULL};
    assert_one_report(f->w.sys, "V23", needles);
}

static void rtl_string_freed_no_report(void **state)
{
    struct fixture *f = *state;
    f->action = ACT_RTL_STRING;
    f->correct = true;
    load_read_close(f);
    unload_a(f);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* ---- object references ---- */

static void object_references_leak_reported_at_unload(void **state)
{
    struct fixture *f = *state;
    f->action = ACT_OBJECT_REF;
    load_read_close(f);
    unload_a(f);
    const char *needles[] = {"A unloads with 2 object reference(s)", "FltObjectDereference", NULL};
    assert_one_report(f->w.sys, "V23", needles);
}

static void object_references_dropped_no_report(void **state)
{
    struct fixture *f = *state;
    f->action = ACT_OBJECT_REF;
    f->correct = true;
    load_read_close(f);
    unload_a(f);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* ---- work items ---- */

/* The item is reported once, as a work item: its pool block (FltMgr's tag)
 * is not charged to the filter a second time. */
static void generic_item_leak_reported_once(void **state)
{
    struct fixture *f = *state;
    f->action = ACT_GENERIC_ITEM;
    load_read_close(f);
    unload_a(f);
    const char *needles[] = {"1 work item(s)", NULL};
    assert_one_report(f->w.sys, "V23", needles);
}

static void deferred_item_leak_reported_once(void **state)
{
    struct fixture *f = *state;
    f->action = ACT_DEFERRED_ITEM;
    load_read_close(f);
    unload_a(f);
    const char *needles[] = {"1 work item(s)", NULL};
    assert_one_report(f->w.sys, "V23", needles);
}

static void work_items_freed_no_report(void **state)
{
    struct fixture *f = *state;
    f->correct = true;
    f->action = ACT_GENERIC_ITEM;
    load_read_close(f);
    f->action = ACT_DEFERRED_ITEM;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buffer[4];
    IO_STATUS_BLOCK iosb;
    LONGLONG offset = 0;
    assert_status(fltsim_io_read(f->w.sys, h, buffer, sizeof(buffer), &offset, 0, &iosb),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    unload_a(f);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* ---- pended operations ---- */

struct pended_read {
    HANDLE handle;
    KEVENT done;
    struct fltsim_io_async io;
    char buffer[16];
};

static void start_read(struct fixture *f, struct pended_read *r)
{
    r->handle = open_overlapped(f->w.sys, L"C:\\a.txt", GENERIC_READ);
    KeInitializeEvent(&r->done, NotificationEvent, FALSE);
    memset(&r->io, 0, sizeof(r->io));
    r->io.event = &r->done;
    assert_status(fltsim_io_read_async(f->w.sys, r->handle, r->buffer, 5, 0, 0, &r->io),
                  STATUS_PENDING);
    assert_non_null(f->pended);
}

static void finish_read(struct fixture *f, struct pended_read *r)
{
    assert_status(KeWaitForSingleObject(&r->done, Executive, KernelMode, FALSE, NULL),
                  STATUS_SUCCESS);
    assert_status(r->io.iosb.Status, STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, r->handle), STATUS_SUCCESS);
}

/* V26: a read left pended when InstanceTeardownStart returns is reported,
 * naming the filter and instance; the unload waits until it is completed. */
static void pended_operation_left_at_teardown_reported(void **state)
{
    struct fixture *f = *state;
    f->action = ACT_PEND;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    struct pended_read r;
    start_read(f, &r);
    struct unload_job job = {f->a.driver, 0, STATUS_PENDING, 0};
    fltsim_thread *t = unload_in_background(f->w.sys, &job);
    assert_status(fltsim_system_wait_idle(f->w.sys, 200), STATUS_TIMEOUT);
    assert_int_equal(__atomic_load_n(&job.done, __ATOMIC_SEQ_CST), 0);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 1);
    struct fltsim_report rep;
    assert_status(fltsim_system_report_get(f->w.sys, 0, &rep), STATUS_SUCCESS);
    assert_string_equal(rep.rule, "V26");
    assert_string_equal(rep.filter, "A");
    assert_string_equal(rep.altitude, "370000");
    assert_non_null(strstr(rep.message, "1 operation(s) still pended"));

    PFLT_CALLBACK_DATA data = f->pended;
    f->pended = NULL;
    FltCompletePendedPreOperation(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    fltsim_thread_join(t);
    assert_status(job.status, STATUS_SUCCESS);
    f->a.filter = NULL;
    f->a.driver = NULL;
    finish_read(f, &r);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 1);
}

static void pended_operation_completed_in_teardown_no_report(void **state)
{
    struct fixture *f = *state;
    f->action = ACT_PEND;
    f->complete_in_teardown = true;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    struct pended_read r;
    start_read(f, &r);
    unload_a(f);
    finish_read(f, &r);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

int main(void)
{
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        CASE(pool_leak_reported_at_unload_by_tag_and_site),
        CASE(pool_freed_no_report),
        CASE(pool2_and_zero_leaks_are_one_report_per_tag),
        CASE(pool_leak_through_pointer_has_unknown_site),
        CASE(pool_leak_reported_at_system_destroy),
        CASE(pool_outside_filter_code_not_charged),
        CASE(rtl_string_leak_names_the_routine),
        CASE(rtl_string_freed_no_report),
        CASE(object_references_leak_reported_at_unload),
        CASE(object_references_dropped_no_report),
        CASE(generic_item_leak_reported_once),
        CASE(deferred_item_leak_reported_once),
        CASE(work_items_freed_no_report),
        CASE(pended_operation_left_at_teardown_reported),
        CASE(pended_operation_completed_in_teardown_no_report),
    };
#undef CASE
    return FLTSIM_RUN_SUITE("leaks", tests);
}
