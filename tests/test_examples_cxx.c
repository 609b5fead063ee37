/*
 * OpenCounter (scenarios/filters/open_counter.cpp), the example filter written
 * in C++, loaded from the catalog like the C examples and driven through the
 * test I/O API under both executors (examples_fx.h): it counts each process's
 * successful opens, refuses those past Parameters\MaxOpens in its pre-create
 * (so filters below never see them and those above see the failure), gives
 * back the open it reserved when the create fails, lets opens through
 * uncounted when its pool operator new finds no memory, keeps the limit when
 * threads of one process race for the last open, and at unload prints its
 * table and frees every entry its operator new allocated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <example_filters.h>

#include "examples_fx.h"
#include "fltsim_test.h"

#define OPEN_COUNTER_TAG 'tCpO'
#define OPEN_COUNTER_PARAMETERS FLTSIM_REGISTRY_SERVICES L"\\OpenCounter\\Parameters"

/* ---- helpers ---- */

/* Opens path for read as process pid (thread 5000 + pid), returning the
 * status; *h is the handle when it succeeded. */
static NTSTATUS open_as(struct fixture *f, ULONG pid, PCWSTR path, HANDLE *h)
{
    fltsim_thread_set_identity(pid, 5000 + pid);
    NTSTATUS status = fltsim_io_open(f->w.sys, path, GENERIC_READ, h);
    fltsim_thread_set_identity(1000, 1001);
    return status;
}

static void close_as(struct fixture *f, ULONG pid, HANDLE h)
{
    fltsim_thread_set_identity(pid, 5000 + pid);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    fltsim_thread_set_identity(1000, 1001);
}

static struct fixture *counter_world(ULONG max_opens)
{
    struct fixture *f = fixture_new(FLTSIM_COMPLETE_INLINE, "OpenCounter");
    if (max_opens != 0)
        assert_status(
            fltsim_registry_set_dword(f->w.sys, OPEN_COUNTER_PARAMETERS, L"MaxOpens", max_opens),
            STATUS_SUCCESS);
    f->tag_total_before = tag_total(OPEN_COUNTER_TAG);
    f->example = load_builtin(f->w.sys, "opencounter");
    return f;
}

/* The upper test filter's post: the status each create ended with. */
static NTSTATUS upper_last_status;
static LONG upper_refusals;

static FLT_POSTOP_CALLBACK_STATUS upper_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                             PCFLT_RELATED_OBJECTS objects, PVOID context,
                                             FLT_POST_OPERATION_FLAGS flags)
{
    (void)tf;
    (void)objects;
    (void)context;
    (void)flags;
    __atomic_store_n(&upper_last_status, data->IoStatus.Status, __ATOMIC_SEQ_CST);
    if (data->IoStatus.Status == STATUS_TOO_MANY_OPENED_FILES)
        add(&upper_refusals);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* ---- the catalog ---- */

static void opencounter_is_in_the_catalog(void **state)
{
    (void)state;
    const struct fltsim_builtin_filter *ex = fltsim_example_filter_find("OpenCounter");
    assert_non_null(ex);
    assert_ptr_equal(ex->entry, OpenCounterDriverEntry);
    assert_int_equal(wcscmp(ex->service_name, L"OpenCounter"), 0);
    assert_int_equal(wcscmp(ex->altitude, L"315100"), 0);
    assert_non_null(strstr(ex->summary, "C++"));
    assert_null(ex->complete_pended);
}

/* ---- counting ---- */

/* Successful opens count for the process that made them; failed opens and
 * closes do not change the counts; no limit, nothing refused. */
static void opencounter_counts_successful_opens_per_process(void **state)
{
    (void)state;
    struct fixture *f = counter_world(0);
    load_neighbours(f, IRP_MJ_CREATE);
    HANDLE a1, a2, b, missing;
    assert_status(open_as(f, 2000, L"C:\\a.txt", &a1), STATUS_SUCCESS);
    assert_status(open_as(f, 2000, L"C:\\a.txt", &a2), STATUS_SUCCESS);
    assert_status(open_as(f, 3000, L"C:\\dir\\b.txt", &b), STATUS_SUCCESS);
    assert_status(open_as(f, 3000, L"C:\\nothing.txt", &missing), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(OpenCounterOpens(2000), 2);
    assert_int_equal(OpenCounterOpens(3000), 1);
    assert_int_equal(OpenCounterOpens(4242), 0);
    assert_int_equal(OpenCounterRefused(2000) + OpenCounterRefused(3000), 0);
    /* Every create went down, with a pre and a post of OpenCounter. */
    assert_int_equal(get(&f->tally.pre[IRP_MJ_CREATE]), 4);
    assert_int_equal(get(&f->tally.post[IRP_MJ_CREATE]), 4);
    assert_int_equal(get(&f->tally.fs[IRP_MJ_CREATE]), 4);
    close_as(f, 2000, a1);
    close_as(f, 2000, a2);
    close_as(f, 3000, b);
    assert_int_equal(OpenCounterOpens(2000), 2);
    assert_int_equal(OpenCounterUncounted(), 0);
    finish(f, OPEN_COUNTER_TAG);
}

/* Past MaxOpens the pre-create completes the create: the filter below and
 * the file system never see it, the filter above sees the failure; another
 * process has its own count. */
static void opencounter_refuses_opens_past_max_opens(void **state)
{
    (void)state;
    struct fixture *f = counter_world(2);
    tf_init(&f->upper, "U", "390000");
    tf_init(&f->lower, "L", "100000");
    tf_only(&f->upper, IRP_MJ_CREATE);
    tf_only(&f->lower, IRP_MJ_CREATE);
    f->upper.post = upper_post;
    upper_refusals = 0;
    assert_status(tf_load(f->w.sys, &f->upper), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->lower), STATUS_SUCCESS);

    HANDLE h[4];
    assert_status(open_as(f, 2000, L"C:\\a.txt", &h[0]), STATUS_SUCCESS);
    assert_status(open_as(f, 2000, L"C:\\dir\\b.txt", &h[1]), STATUS_SUCCESS);
    assert_int_equal(get(&f->tally.fs[IRP_MJ_CREATE]), 2);
    HANDLE refused;
    assert_status(open_as(f, 2000, L"C:\\a.txt", &refused), STATUS_TOO_MANY_OPENED_FILES);
    assert_int_equal(get(&f->tally.fs[IRP_MJ_CREATE]), 2); /* it never went down */
    assert_int_equal(get(&f->tally.pre[IRP_MJ_CREATE]), 3);
    assert_int_equal(get(&f->tally.post[IRP_MJ_CREATE]), 2); /* no post for a completed pre */
    assert_status(__atomic_load_n(&upper_last_status, __ATOMIC_SEQ_CST),
                  STATUS_TOO_MANY_OPENED_FILES);
    assert_int_equal(get(&upper_refusals), 1);
    assert_int_equal(OpenCounterOpens(2000), 2);
    assert_int_equal(OpenCounterRefused(2000), 1);

    assert_status(open_as(f, 3000, L"C:\\a.txt", &h[2]), STATUS_SUCCESS);
    assert_status(open_as(f, 3000, L"C:\\a.txt", &h[3]), STATUS_SUCCESS);
    assert_int_equal(OpenCounterOpens(3000), 2);
    assert_int_equal(OpenCounterRefused(3000), 0);
    for (int i = 0; i < 4; i++)
        close_as(f, i < 2 ? 2000 : 3000, h[i]);
    finish(f, OPEN_COUNTER_TAG);
}

/* A create that fails in the file system gives back the open its pre
 * reserved, so it does not use up the process's allowance. */
static void opencounter_gives_back_an_open_that_failed(void **state)
{
    (void)state;
    struct fixture *f = counter_world(1);
    HANDLE h;
    assert_status(open_as(f, 2000, L"C:\\nothing.txt", &h), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(OpenCounterOpens(2000), 0);
    assert_status(open_as(f, 2000, L"C:\\a.txt", &h), STATUS_SUCCESS);
    assert_int_equal(OpenCounterOpens(2000), 1);
    HANDLE refused;
    assert_status(open_as(f, 2000, L"C:\\a.txt", &refused), STATUS_TOO_MANY_OPENED_FILES);
    close_as(f, 2000, h);
    finish(f, OPEN_COUNTER_TAG);
}

/* Its operator new gives nullptr when pool has no memory (noexcept: no
 * exception, no constructor run on NULL): the open goes through uncounted. */
static void opencounter_without_memory_lets_opens_through_uncounted(void **state)
{
    (void)state;
    struct fixture *f = counter_world(1);
    struct fltsim_fault no_memory = {.kind = FLTSIM_FAULT_ALLOC, .tag = OPEN_COUNTER_TAG};
    assert_status(fltsim_fault_add(f->w.sys, &no_memory), STATUS_SUCCESS);
    HANDLE h[2];
    assert_status(open_as(f, 2000, L"C:\\a.txt", &h[0]), STATUS_SUCCESS);
    assert_status(open_as(f, 2000, L"C:\\a.txt", &h[1]), STATUS_SUCCESS);
    assert_int_equal(OpenCounterUncounted(), 2);
    assert_int_equal(OpenCounterOpens(2000), 0);
    assert_int_equal(fltsim_fault_injected_count(f->w.sys), 2);
    assert_int_equal(get(&f->tally.post[IRP_MJ_CREATE]), 0); /* no entry, no post wanted */
    fltsim_faults_clear(f->w.sys);
    close_as(f, 2000, h[0]);
    close_as(f, 2000, h[1]);
    assert_int_equal(tag_total(OPEN_COUNTER_TAG), f->tag_total_before);
    finish(f, OPEN_COUNTER_TAG);
}

/* ---- threads ---- */

#define RACERS 8
#define RACE_LIMIT 3

struct race {
    fltsim_system *sys;
    LONG opened, refused, other;
};

static void racer(void *ctx)
{
    struct race *r = ctx;
    HANDLE h;
    NTSTATUS status = fltsim_io_open(r->sys, L"C:\\a.txt", GENERIC_READ, &h);
    if (status == STATUS_SUCCESS) {
        add(&r->opened);
        if (fltsim_io_close(r->sys, h) != STATUS_SUCCESS)
            add(&r->other);
    } else if (status == STATUS_TOO_MANY_OPENED_FILES) {
        add(&r->refused);
    } else {
        add(&r->other);
    }
}

/* Threads of one process race for the last opens: the check and the
 * reservation are one step under the ERESOURCE, so exactly MaxOpens get
 * through, whatever the interleaving. */
static void opencounter_racing_opens_never_pass_the_limit(void **state)
{
    (void)state;
    struct fixture *f = counter_world(RACE_LIMIT);
    struct race r = {.sys = f->w.sys};
    fltsim_thread *threads[RACERS];
    for (ULONG i = 0; i < RACERS; i++)
        assert_status(fltsim_thread_spawn(f->w.sys, 2000, 6000 + i, racer, &r, &threads[i]),
                      STATUS_SUCCESS);
    for (ULONG i = 0; i < RACERS; i++)
        fltsim_thread_join(threads[i]);
    assert_int_equal(get(&r.other), 0);
    assert_int_equal(get(&r.opened), RACE_LIMIT);
    assert_int_equal(get(&r.refused), RACERS - RACE_LIMIT);
    assert_int_equal(OpenCounterOpens(2000), RACE_LIMIT);
    assert_int_equal(OpenCounterRefused(2000), RACERS - RACE_LIMIT);
    finish(f, OPEN_COUNTER_TAG);
}

/* ---- unload ---- */

struct debug_capture {
    char text[4096];
    size_t len;
};

static void debug_cb(void *ctx, const char *text)
{
    struct debug_capture *d = ctx;
    size_t n = strlen(text);
    if (d->len + n + 1 < sizeof(d->text)) {
        memcpy(d->text + d->len, text, n + 1);
        d->len += n;
    }
}

/* The table is printed at unload, one line per process, and every entry
 * (one pool allocation per process, under the filter's tag) is freed. */
static void opencounter_unload_prints_the_table_and_frees_every_entry(void **state)
{
    (void)state;
    static struct debug_capture dbg;
    memset(&dbg, 0, sizeof(dbg));
    struct fixture *f = counter_world(1);
    HANDLE h[3], refused;
    assert_status(open_as(f, 2000, L"C:\\a.txt", &h[0]), STATUS_SUCCESS);
    assert_status(open_as(f, 2000, L"C:\\a.txt", &refused), STATUS_TOO_MANY_OPENED_FILES);
    assert_status(open_as(f, 3000, L"C:\\a.txt", &h[1]), STATUS_SUCCESS);
    assert_status(open_as(f, 4000, L"C:\\a.txt", &h[2]), STATUS_SUCCESS);
    assert_int_equal(tag_outstanding(OPEN_COUNTER_TAG), 3);
    close_as(f, 2000, h[0]);
    close_as(f, 3000, h[1]);
    close_as(f, 4000, h[2]);

    fltsim_debug_set_sink(debug_cb, &dbg);
    assert_status(fltsim_driver_unload(f->example, 0), STATUS_SUCCESS);
    fltsim_debug_set_sink(NULL, NULL);
    f->example = NULL;
    assert_string_equal(dbg.text, "OpenCounter: process 2000 opened 1 files, 1 refused\n"
                                  "OpenCounter: process 3000 opened 1 files, 0 refused\n"
                                  "OpenCounter: process 4000 opened 1 files, 0 refused\n");
    assert_int_equal(tag_total(OPEN_COUNTER_TAG) - f->tag_total_before, 3);
    assert_int_equal(OpenCounterOpens(2000), 0); /* nothing after unload */
    finish(f, OPEN_COUNTER_TAG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(opencounter_is_in_the_catalog),
        cmocka_unit_test(opencounter_counts_successful_opens_per_process),
        cmocka_unit_test(opencounter_refuses_opens_past_max_opens),
        cmocka_unit_test(opencounter_gives_back_an_open_that_failed),
        cmocka_unit_test(opencounter_without_memory_lets_opens_through_uncounted),
        cmocka_unit_test(opencounter_racing_opens_never_pass_the_limit),
        cmocka_unit_test(opencounter_unload_prints_the_table_and_frees_every_entry),
    };
    return FLTSIM_RUN_SUITE("examples_cxx", tests);
}
