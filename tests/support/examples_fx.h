/*
 * PRIVATE to the example-filter suites (test_examples.c,
 * test_examples_pendreads.c, test_examples_cxx.c): a world per case with one example loaded from
 * the catalog, a tally of what the trace shows for it and for the whole
 * stack, recording test filters above and below it, and the end every case
 * shares: no verifier report and no pool left under the filter's tag or the
 * Filter Manager's work-item tag. Static inline, because the short names
 * (add, get, finish) mean other things in other suites.
 */
#ifndef FLTSIM_EXAMPLES_FX_H
#define FLTSIM_EXAMPLES_FX_H

#include <stdlib.h>
#include <string.h>

#include <example_filters.h>

#include "fltsim_test.h"

#define FLTMGR_WORK_ITEM_TAG 'iwMF'

/* ---- what the trace shows ---- */

/* Counts per operation code, for one filter's callbacks and for the whole
 * stack. Trace callbacks come from several threads (never at once): atomics
 * keep the concurrent executor's reads exact. */
struct tally {
    const char *filter;
    LONG start[256]; /* operations entering the stack */
    LONG fs[256];    /* the file system called */
    LONG pre[256], post[256];
    LONG draining_posts; /* posts with FLTFL_POST_OPERATION_DRAINING */
    LONG pend, resume, queued;
    LONG queued_any; /* also items queued outside any callback (no filter named) */
};

static inline void add(LONG *counter)
{
    __atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
}

static inline LONG get(const LONG *counter)
{
    return __atomic_load_n(counter, __ATOMIC_SEQ_CST);
}

static inline void tally_cb(void *ctx, const struct fltsim_event *ev)
{
    struct tally *t = ctx;
    bool ours = ev->filter != NULL && strcmp(ev->filter, t->filter) == 0;
    switch (ev->type) {
    case FLTSIM_EV_IO_START:
        add(&t->start[ev->major]);
        break;
    case FLTSIM_EV_FS:
        add(&t->fs[ev->major]);
        break;
    case FLTSIM_EV_PRE:
        if (ours)
            add(&t->pre[ev->major]);
        break;
    case FLTSIM_EV_POST:
        if (ours)
            add(&t->post[ev->major]);
        if (ours && (ev->flags & FLTFL_POST_OPERATION_DRAINING))
            add(&t->draining_posts);
        break;
    case FLTSIM_EV_PEND:
        if (ours && ev->flags == 0)
            add(&t->pend);
        break;
    case FLTSIM_EV_RESUME:
        if (ours && ev->flags == 0)
            add(&t->resume);
        break;
    case FLTSIM_EV_WORK_QUEUED:
        if (ours && ev->status == STATUS_SUCCESS)
            add(&t->queued);
        if (ev->status == STATUS_SUCCESS)
            add(&t->queued_any);
        break;
    default:
        break;
    }
}

/* ---- fixture ---- */

struct fixture {
    struct test_world w;
    struct tally tally;
    fltsim_driver *example;
    struct tf_filter upper, lower;
    ULONG64 tag_total_before;
};

static inline fltsim_driver *load_builtin(fltsim_system *sys, const char *name)
{
    const struct fltsim_builtin_filter *ex = fltsim_example_filter_find(name);
    assert_non_null(ex);
    struct fltsim_instance_def instance = {L"Example Instance", ex->altitude, 0};
    struct fltsim_filter_def def = {ex->service_name, L"Example Instance", &instance, 1};
    fltsim_driver *drv = NULL;
    assert_status(fltsim_driver_load(sys, &def, ex->entry, &drv), STATUS_SUCCESS);
    return drv;
}

static inline ULONG64 tag_outstanding(ULONG tag)
{
    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(tag, &st);
    return st.outstanding;
}

static inline ULONG64 tag_total(ULONG tag)
{
    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(tag, &st);
    return st.total;
}

static inline struct fixture *fixture_new(ULONG completion, const char *traced_filter)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create_ex(&f->w, 0, completion);
    f->tally.filter = traced_filter;
    fltsim_system_set_trace(f->w.sys, tally_cb, &f->tally);
    return f;
}

/* U above every example (390000 is above all their altitudes) and L below
 * (100000), both registered for op only. */
static inline void load_neighbours(struct fixture *f, UCHAR op)
{
    tf_init(&f->upper, "U", "390000");
    tf_init(&f->lower, "L", "100000");
    tf_only(&f->upper, op);
    tf_only(&f->lower, op);
    assert_status(tf_load(f->w.sys, &f->upper), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->lower), STATUS_SUCCESS);
}

/* Fails, printing them, when sys has verifier reports. */
static inline void assert_no_reports(fltsim_system *sys)
{
    ULONG n = fltsim_system_report_count(sys);
    for (ULONG i = 0; i < n; i++) {
        struct fltsim_report r;
        if (fltsim_system_report_get(sys, i, &r) == STATUS_SUCCESS)
            print_error("report %s (SPEC %s) %s: %s\n", r.rule, r.spec,
                        r.op_kind >= 0 ? tf_major(r.major) : "-", r.message);
    }
    assert_int_equal(n, 0);
}

/* Unloads the example (if loaded), checks it left nothing, frees the world. */
static inline void finish(struct fixture *f, ULONG tag)
{
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    if (f->example != NULL)
        assert_status(fltsim_driver_unload(f->example, 0), STATUS_SUCCESS);
    assert_no_reports(f->w.sys);
    if (tag != 0)
        assert_int_equal(tag_outstanding(tag), 0);
    world_destroy(&f->w);
    assert_int_equal(tag_outstanding(FLTMGR_WORK_ITEM_TAG), 0);
    free(f);
}

static inline NTSTATUS read_at(fltsim_system *sys, HANDLE h, char *buf, ULONG len, LONGLONG offset,
                               ULONG flags, IO_STATUS_BLOCK *iosb)
{
    return fltsim_io_read(sys, h, buf, len, &offset, flags, iosb);
}

#endif /* FLTSIM_EXAMPLES_FX_H */
