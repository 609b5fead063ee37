/*
 * Stress of the example filters under detach and unload mid-flight (issue
 * 16 item 5): six requestor threads open C:\a.txt and read it, over and over,
 * through PendReads (pends every read in pre), AntiVirus (pends every create
 * in post and scans it with FltReadFile) and ReadQuota (pends every read in
 * post: the volume completes at DISPATCH_LEVEL), while a chaos thread
 * detaches and reattaches their instances and unloads and reloads them.
 * Checked: every read completes with the file's bytes (no operation lost),
 * no verifier report (V26 above all: each example's InstanceTeardownStart
 * completes what it holds), no hang (every wait is bounded; a timeout
 * aborts with what was left), and nothing leaked (the examples' and
 * FltMgr's pool tags back to zero).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <example_filters.h>

#include "fltsim_test.h"

#define REQUESTORS 6
#define ITERATIONS 60       /* per requestor: an open, two reads, a close */
#define MIN_CHAOS 25        /* chaos actions at least, more while reads go on */
#define WAIT_LIMIT_MS 60000 /* bounded: a hang is a failure, not a stuck CI job */

#define PENDREADS_TAG 'dRnP'
#define READQUOTA_TAG 'atQR'
#define ANTIVIRUS_TAG 'vitA'
#define FLTMGR_WORK_ITEM_TAG 'iwMF'

enum { PEND_READS, ANTIVIRUS, READ_QUOTA, EXAMPLES };
static const char *const example_names[EXAMPLES] = {"pendreads", "antivirus", "readquota"};

struct stress {
    struct test_world w;
    fltsim_driver *drivers[EXAMPLES]; /* the chaos thread's, once it runs */
    LONG reads, good_reads, opens;    /* atomic */
    LONG requestors_left;             /* atomic */
    LONG chaos_actions;
    char failure[256]; /* the first thing that went wrong on another thread */
    LONG failed;       /* atomic */
    KEVENT requestors_done, chaos_done;
};

static void fail_later(struct stress *s, const char *what, NTSTATUS status)
{
    if (__atomic_exchange_n(&s->failed, 1, __ATOMIC_SEQ_CST) == 0)
        snprintf(s->failure, sizeof(s->failure), "%s: 0x%08X", what, (unsigned)status);
}

static NTSTATUS load_example(struct stress *s, int which)
{
    /* Instance names are unique on a volume. */
    static const PCWSTR instance_names[EXAMPLES] = {L"PendReads Instance", L"AntiVirus Instance",
                                                    L"ReadQuota Instance"};
    const struct fltsim_builtin_filter *ex = fltsim_example_filter_find(example_names[which]);
    struct fltsim_instance_def instance = {instance_names[which], ex->altitude, 0};
    struct fltsim_filter_def def = {ex->service_name, instance_names[which], &instance, 1};
    return fltsim_driver_load(s->w.sys, &def, ex->entry, &s->drivers[which]);
}

static void requestor(void *arg)
{
    struct stress *s = arg;
    for (int i = 0; i < ITERATIONS; i++) {
        HANDLE h = NULL;
        NTSTATUS st = fltsim_io_open(s->w.sys, L"C:\\a.txt", GENERIC_READ, &h);
        if (!NT_SUCCESS(st)) {
            fail_later(s, "open", st);
            continue;
        }
        __atomic_add_fetch(&s->opens, 1, __ATOMIC_SEQ_CST);
        for (LONGLONG offset = 0; offset <= 6; offset += 6) {
            char buf[5] = {0};
            IO_STATUS_BLOCK iosb = {0};
            __atomic_add_fetch(&s->reads, 1, __ATOMIC_SEQ_CST);
            st = fltsim_io_read(s->w.sys, h, buf, 5, &offset, 0, &iosb);
            const char *expected = offset == 0 ? "hello" : "world";
            if (st == STATUS_SUCCESS && iosb.Information == 5 && memcmp(buf, expected, 5) == 0)
                __atomic_add_fetch(&s->good_reads, 1, __ATOMIC_SEQ_CST);
            else
                fail_later(s, "read", st);
        }
        st = fltsim_io_close(s->w.sys, h);
        if (!NT_SUCCESS(st))
            fail_later(s, "close", st);
    }
    if (__atomic_sub_fetch(&s->requestors_left, 1, __ATOMIC_SEQ_CST) == 0)
        KeSetEvent(&s->requestors_done, IO_NO_INCREMENT, FALSE);
}

/* 0: a yield, which lets the deterministic executor run the chaos thread
 * between any two waits of the requestors (a timed wait would only end once
 * everything else is idle, as virtual time moves only then). */
static void pause_ms(LONGLONG ms)
{
    LARGE_INTEGER delay = {.QuadPart = -ms * 10000};
    KeDelayExecutionThread(KernelMode, FALSE, &delay);
}

/* Detaches the example's instance from C: and attaches it again. */
static void detach_reattach(struct stress *s, int which)
{
    PFLT_FILTER filter = fltsim_driver_filter(s->drivers[which]);
    NTSTATUS st = FltDetachVolume(filter, s->w.volume, NULL);
    if (!NT_SUCCESS(st))
        fail_later(s, example_names[which], st);
    pause_ms(0);
    PFLT_INSTANCE inst = NULL;
    st = FltAttachVolume(filter, s->w.volume, NULL, &inst);
    if (!NT_SUCCESS(st))
        fail_later(s, example_names[which], st);
    else
        FltObjectDereference(inst);
}

static void unload_reload(struct stress *s, int which)
{
    NTSTATUS st = fltsim_driver_unload(s->drivers[which], 0);
    s->drivers[which] = NULL;
    if (!NT_SUCCESS(st))
        fail_later(s, example_names[which], st);
    pause_ms(0);
    st = load_example(s, which);
    if (!NT_SUCCESS(st))
        fail_later(s, example_names[which], st);
}

static void chaos(void *arg)
{
    struct stress *s = arg;
    for (LONG i = 0; i < MIN_CHAOS || __atomic_load_n(&s->requestors_left, __ATOMIC_SEQ_CST) > 0;
         i++) {
        int which = (int)(i % EXAMPLES);
        if ((i / EXAMPLES) % 2 == 0)
            detach_reattach(s, which);
        else
            unload_reload(s, which);
        s->chaos_actions = i + 1;
        pause_ms(0);
        if (__atomic_load_n(&s->failed, __ATOMIC_SEQ_CST))
            break;
    }
    KeSetEvent(&s->chaos_done, IO_NO_INCREMENT, FALSE);
}

/* Waits for event at most WAIT_LIMIT_MS; a hang aborts with the counts. */
static void bounded_wait(struct stress *s, KEVENT *event, const char *what)
{
    LARGE_INTEGER limit = {.QuadPart = -(LONGLONG)WAIT_LIMIT_MS * 10000};
    NTSTATUS st = KeWaitForSingleObject(event, Executive, KernelMode, FALSE, &limit);
    if (st == STATUS_SUCCESS)
        return;
    fprintf(stderr,
            "stress_examples: %s not done after %d s: reads %d (good %d), requestors left %d, "
            "chaos actions %d\n",
            what, WAIT_LIMIT_MS / 1000, (int)s->reads, (int)s->good_reads, (int)s->requestors_left,
            (int)s->chaos_actions);
    abort();
}

static ULONG64 outstanding(ULONG tag)
{
    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(tag, &st);
    return st.outstanding;
}

static void stress_examples_detach_and_unload_mid_flight(void **state)
{
    (void)state;
    struct stress *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    world_create_ex(&s->w, 0, FLTSIM_COMPLETE_ASYNC);
    for (int k = 0; k < EXAMPLES; k++)
        assert_status(load_example(s, k), STATUS_SUCCESS);
    KeInitializeEvent(&s->requestors_done, NotificationEvent, FALSE);
    KeInitializeEvent(&s->chaos_done, NotificationEvent, FALSE);
    s->requestors_left = REQUESTORS;

    fltsim_thread *threads[REQUESTORS + 1];
    for (int t = 0; t < REQUESTORS; t++)
        assert_status(fltsim_thread_spawn(s->w.sys, 1000 + (ULONG)t, 5000 + (ULONG)t, requestor, s,
                                          &threads[t]),
                      STATUS_SUCCESS);
    assert_status(fltsim_thread_spawn(s->w.sys, 4, 6000, chaos, s, &threads[REQUESTORS]),
                  STATUS_SUCCESS);
    bounded_wait(s, &s->requestors_done, "requestors");
    bounded_wait(s, &s->chaos_done, "chaos thread");
    for (int t = 0; t <= REQUESTORS; t++)
        fltsim_thread_join(threads[t]);
    if (s->failed)
        fail_msg("%s", s->failure);

    /* No operation lost: every read came back with the file's bytes. */
    assert_int_equal(s->opens, REQUESTORS * ITERATIONS);
    assert_int_equal(s->reads, REQUESTORS * ITERATIONS * 2);
    assert_int_equal(s->good_reads, s->reads);
    assert_true(s->chaos_actions >= MIN_CHAOS);
    assert_status(fltsim_system_wait_idle(s->w.sys, WAIT_LIMIT_MS), STATUS_SUCCESS);
    for (int k = 0; k < EXAMPLES; k++)
        assert_status(fltsim_driver_unload(s->drivers[k], 0), STATUS_SUCCESS);
    ULONG n = fltsim_system_report_count(s->w.sys);
    for (ULONG i = 0; i < n; i++) {
        struct fltsim_report r;
        if (fltsim_system_report_get(s->w.sys, i, &r) == STATUS_SUCCESS)
            print_error("report %s (SPEC %s) in %s: %s\n", r.rule, r.spec, r.filter, r.message);
    }
    assert_int_equal(n, 0);
    world_destroy(&s->w);
    /* Nothing leaked: the examples' pool and FltMgr's work items. */
    assert_int_equal(outstanding(PENDREADS_TAG), 0);
    assert_int_equal(outstanding(READQUOTA_TAG), 0);
    assert_int_equal(outstanding(ANTIVIRUS_TAG), 0);
    assert_int_equal(outstanding(FLTMGR_WORK_ITEM_TAG), 0);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stress_examples_detach_and_unload_mid_flight),
    };
    return FLTSIM_RUN_SUITE("stress_examples", tests);
}
