/*
 * Contexts (SPEC 7.1, 7.2): registration checks, FltAllocateContext and the
 * reference counts, instance and stream contexts with their lifetimes (the
 * cleanup callback once, after the last reference, when the object goes),
 * KEEP/REPLACE and the old context handed back, and the verifier rules V19
 * (pre-create) and V21 (over-release, still referenced at unload, with the
 * file and line of the allocation). Each case runs under both executors.
 */
#include <stdlib.h>
#include <string.h>

#include "support/fltsim_test.h"

#define TAG_S 'xtcS'
#define TAG_I 'xtcI'

static LONG cleanups;
static PFLT_CONTEXT cleaned_last;

static void cleanup(PFLT_CONTEXT ctx, FLT_CONTEXT_TYPE type)
{
    (void)type;
    __atomic_add_fetch(&cleanups, 1, __ATOMIC_SEQ_CST);
    cleaned_last = ctx;
}

static const FLT_CONTEXT_REGISTRATION contexts[] = {
    {FLT_STREAM_CONTEXT, 0, cleanup, 32, TAG_S, NULL, NULL, NULL},
    {FLT_STREAM_CONTEXT, FLTFL_CONTEXT_REGISTRATION_NO_EXACT_SIZE_MATCH, cleanup, 128, TAG_S, NULL,
     NULL, NULL},
    {FLT_INSTANCE_CONTEXT, 0, cleanup, FLT_VARIABLE_SIZED_CONTEXTS, TAG_I, NULL, NULL, NULL},
    {FLT_STREAMHANDLE_CONTEXT, 0, cleanup, 16, TAG_S, NULL, NULL, NULL},
    {FLT_VOLUME_CONTEXT, 0, cleanup, 16, TAG_I, NULL, NULL, NULL},
    {FLT_CONTEXT_END}};

struct fixture {
    struct test_world w;
    struct tf_filter a;
    /* what the callbacks saw */
    NTSTATUS pre_create_get, set_status, keep_status;
    PFLT_CONTEXT set_ctx, keep_old;
    bool leak, over_release;
    int mode; /* MODE_* */
    /* the race: each post-create's outcome */
    LONG n;
    NTSTATUS st[2];
    PFLT_CONTEXT mine[2], old[2];
    bool contexts_ok; /* FltGetContexts saw what was set */
    NTSTATUS post_close_get;
};
enum { MODE_STREAM, MODE_RACE, MODE_HANDLE };
static struct fixture *current;

static FLT_PREOP_CALLBACK_STATUS pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                     PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf, (void)context;
    if (data->Iopb->MajorFunction == IRP_MJ_CREATE) {
        PFLT_CONTEXT c = (PFLT_CONTEXT)1;
        current->pre_create_get = FltGetStreamContext(objects->Instance, objects->FileObject, &c);
        assert_null(c);
    }
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                       PCFLT_RELATED_OBJECTS objects, PVOID context,
                                       FLT_POST_OPERATION_FLAGS flags)
{
    (void)context, (void)flags;
    struct fixture *f = current;
    if (data->Iopb->MajorFunction == IRP_MJ_CLOSE) {
        PFLT_CONTEXT c = NULL;
        f->post_close_get = FltGetStreamHandleContext(objects->Instance, objects->FileObject, &c);
        assert_null(c);
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    if (data->Iopb->MajorFunction != IRP_MJ_CREATE || !NT_SUCCESS(data->IoStatus.Status))
        return FLT_POSTOP_FINISHED_PROCESSING;
    PFLT_CONTEXT c = NULL, c2 = NULL;
    if (f->mode == MODE_RACE) {
        LONG i = __atomic_fetch_add(&f->n, 1, __ATOMIC_SEQ_CST);
        assert_true(i < 2);
        assert_status(FltAllocateContext(tf->filter, FLT_STREAM_CONTEXT, 32, PagedPool, &c),
                      STATUS_SUCCESS);
        f->mine[i] = c;
        f->st[i] = FltSetStreamContext(objects->Instance, objects->FileObject,
                                       FLT_SET_CONTEXT_KEEP_IF_EXISTS, c, &f->old[i]);
        FltReleaseContext(c);
        if (f->old[i] != NULL)
            FltReleaseContext(f->old[i]);
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    if (f->mode == MODE_HANDLE) {
        assert_status(FltAllocateContext(tf->filter, FLT_STREAMHANDLE_CONTEXT, 16, PagedPool, &c),
                      STATUS_SUCCESS);
        assert_status(FltSetStreamHandleContext(objects->Instance, objects->FileObject,
                                                FLT_SET_CONTEXT_REPLACE_IF_EXISTS, c, NULL),
                      STATUS_SUCCESS);
        FltReleaseContext(c);
        FLT_RELATED_CONTEXTS rc;
        FltGetContexts(objects, FLT_STREAMHANDLE_CONTEXT | FLT_STREAM_CONTEXT, &rc);
        f->contexts_ok = rc.StreamHandleContext == c && rc.StreamContext == NULL;
        FltReleaseContexts(&rc);
        return FLT_POSTOP_FINISHED_PROCESSING;
    }
    assert_status(FltAllocateContext(tf->filter, FLT_STREAM_CONTEXT, 32, PagedPool, &c),
                  STATUS_SUCCESS);
    f->set_status = FltSetStreamContext(objects->Instance, objects->FileObject,
                                        FLT_SET_CONTEXT_KEEP_IF_EXISTS, c, NULL);
    f->set_ctx = c;
    /* a second one with KEEP: refused, the first handed back referenced */
    assert_status(FltAllocateContext(tf->filter, FLT_STREAM_CONTEXT, 100, PagedPool, &c2),
                  STATUS_SUCCESS);
    f->keep_status = FltSetStreamContext(objects->Instance, objects->FileObject,
                                         FLT_SET_CONTEXT_KEEP_IF_EXISTS, c2, &f->keep_old);
    FltReleaseContext(c2); /* never set: freed now */
    if (f->keep_old != NULL)
        FltReleaseContext(f->keep_old);
    if (f->over_release) {
        FltReleaseContext(c);
        FltReleaseContext(c); /* only the set reference is left */
    } else if (!f->leak) {
        FltReleaseContext(c);
    }
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    f->a.contexts = contexts;
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.pre = pre;
    f->a.post = post;
    cleanups = 0;
    cleaned_last = NULL;
    current = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    world_destroy(&f->w);
    current = NULL;
    free(f);
    return 0;
}

static ULONG outstanding(ULONG tag)
{
    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(tag, &st);
    return (ULONG)st.outstanding;
}

/* Registration is validated (SPEC 7.1). */
static void registration_rejects_bad_arrays(void **state)
{
    struct fixture *f = *state;
    static const FLT_CONTEXT_REGISTRATION no_tag[] = {
        {FLT_STREAM_CONTEXT, 0, NULL, 16, 0, NULL, NULL, NULL}, {FLT_CONTEXT_END}};
    f->a.contexts = no_tag;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_FLT_INVALID_CONTEXT_REGISTRATION);
}

/* Allocation: the size rules, pool under the registered tag, one cleanup. */
static void allocate_sizes_and_pool(void **state)
{
    struct fixture *f = *state;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    PFLT_FILTER flt = f->a.filter;
    PFLT_CONTEXT c = NULL;
    ULONG before = outstanding(TAG_S);
    /* 20 bytes: not 32 exactly, but fits the 128-byte NO_EXACT entry */
    assert_status(FltAllocateContext(flt, FLT_STREAM_CONTEXT, 20, NonPagedPool, &c),
                  STATUS_SUCCESS);
    assert_int_equal(outstanding(TAG_S), before + 1);
    FltReferenceContext(c);
    FltReleaseContext(c);
    assert_int_equal(cleanups, 0);
    FltReleaseContext(c);
    assert_int_equal(cleanups, 1);
    assert_ptr_equal(cleaned_last, c);
    assert_int_equal(outstanding(TAG_S), before);
    assert_status(FltAllocateContext(flt, FLT_STREAM_CONTEXT, 129, NonPagedPool, &c),
                  STATUS_FLT_CONTEXT_ALLOCATION_NOT_FOUND);
    assert_status(FltAllocateContext(flt, FLT_FILE_CONTEXT, 8, NonPagedPool, &c),
                  STATUS_FLT_CONTEXT_ALLOCATION_NOT_FOUND);
    assert_status(FltAllocateContext(flt, FLT_STREAMHANDLE_CONTEXT, 0, NonPagedPool, &c),
                  STATUS_INVALID_PARAMETER);
    assert_status(FltAllocateContext(flt, FLT_STREAMHANDLE_CONTEXT, 70000, NonPagedPool, &c),
                  STATUS_INVALID_BUFFER_SIZE);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V20"), 2);
    fltsim_system_reports_clear(f->w.sys);
}

/* Instance contexts: KEEP, REPLACE with the old one handed back, get, and
 * deletion at detach after TeardownComplete. */
static void instance_context_set_get_replace(void **state)
{
    struct fixture *f = *state;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    PFLT_FILTER flt = f->a.filter;
    PFLT_INSTANCE inst = f->a.last_instance;
    PFLT_CONTEXT a = NULL, b = NULL, old = NULL, got = NULL;
    assert_status(FltGetInstanceContext(inst, &got), STATUS_NOT_FOUND);
    assert_null(got);
    assert_status(FltAllocateContext(flt, FLT_INSTANCE_CONTEXT, 40, PagedPool, &a), STATUS_SUCCESS);
    assert_status(FltAllocateContext(flt, FLT_INSTANCE_CONTEXT, 8, PagedPool, &b), STATUS_SUCCESS);
    assert_status(FltSetInstanceContext(inst, FLT_SET_CONTEXT_KEEP_IF_EXISTS, a, NULL),
                  STATUS_SUCCESS);
    assert_status(FltSetInstanceContext(inst, FLT_SET_CONTEXT_KEEP_IF_EXISTS, a, NULL),
                  STATUS_FLT_CONTEXT_ALREADY_LINKED);
    assert_status(FltSetInstanceContext(inst, FLT_SET_CONTEXT_KEEP_IF_EXISTS, b, &old),
                  STATUS_FLT_CONTEXT_ALREADY_DEFINED);
    assert_ptr_equal(old, a);
    FltReleaseContext(old);
    assert_status(FltSetInstanceContext(inst, FLT_SET_CONTEXT_REPLACE_IF_EXISTS, b, &old),
                  STATUS_SUCCESS);
    assert_ptr_equal(old, a);
    FltReleaseContext(a); /* the allocation reference */
    assert_int_equal(cleanups, 0);
    FltReleaseContext(old); /* the set reference, handed back */
    assert_int_equal(cleanups, 1);
    assert_status(FltGetInstanceContext(inst, &got), STATUS_SUCCESS);
    assert_ptr_equal(got, b);
    FltReleaseContext(got);
    FltReleaseContext(b);
    assert_int_equal(cleanups, 1); /* b is set: alive until detach */
    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    assert_int_equal(cleanups, 2);
    assert_ptr_equal(cleaned_last, b);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V21"), 0);
}

static LONG traced_set, traced_cleanup;

static void count_events(void *ctx, const struct fltsim_event *ev)
{
    (void)ctx;
    if (ev->type == FLTSIM_EV_CONTEXT_SET && strcmp(ev->detail, "stream") == 0)
        traced_set++;
    if (ev->type == FLTSIM_EV_CONTEXT_CLEANUP && strcmp(ev->detail, "stream") == 0)
        traced_cleanup++;
}

/* A stream context set in post-create lives until the last handle's close;
 * pre-create has no stream (V19); KEEP hands the first context back. */
static void stream_context_lives_until_close(void **state)
{
    struct fixture *f = *state;
    traced_set = traced_cleanup = 0;
    fltsim_system_set_trace(f->w.sys, count_events, NULL);
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_status(f->pre_create_get, STATUS_NOT_SUPPORTED);
    assert_int_equal(traced_set, 2); /* the one set, the one refused */
    assert_int_equal(traced_cleanup, 1);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V19"), 1);
    assert_status(f->set_status, STATUS_SUCCESS);
    assert_status(f->keep_status, STATUS_FLT_CONTEXT_ALREADY_DEFINED);
    assert_ptr_equal(f->keep_old, f->set_ctx);
    assert_int_equal(cleanups, 1); /* the refused one */
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(cleanups, 2);
    assert_int_equal(traced_cleanup, 2); /* the trace shows when it died */
    assert_ptr_equal(cleaned_last, f->set_ctx);
    fltsim_system_reports_clear(f->w.sys);
    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V21"), 0);
}

static void release_not_a_context(void *unused)
{
    (void)unused;
    int x = 0;
    FltReleaseContext(&x); /* not a context: reported, nothing read or freed */
}

/* Releasing the set reference is an over-release: reported, nothing freed. */
static void over_release_is_reported(void **state)
{
    struct fixture *f = *state;
    f->over_release = true;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V21"), 1);
    assert_int_equal(cleanups, 1);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(cleanups, 2);
    assert_status(fltsim_driver_call(f->a.driver, release_not_a_context, NULL), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V21"), 2);
}

/* A context still referenced at unload: V21 naming type, filter, file:line. */
static void leak_names_the_allocation_site(void **state)
{
    struct fixture *f = *state;
    f->leak = true;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(cleanups, 1); /* the set reference went at close; one left */
    fltsim_system_reports_clear(f->w.sys);
    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    bool found = false;
    for (ULONG i = 0;; i++) {
        struct fltsim_report r;
        if (!NT_SUCCESS(fltsim_system_report_get(f->w.sys, i, &r)))
            break;
        if (strcmp(r.rule, "V21") == 0 && strstr(r.message, "stream context") != NULL &&
            strstr(r.message, "test_context.c:") != NULL && strstr(r.message, "A") != NULL)
            found = true;
    }
    assert_true(found);
}

static void open_thread(void *p)
{
    struct fixture *f = p;
    HANDLE h = NULL;
    assert_status(fltsim_io_open(f->w.sys, L"C:\\a.txt", GENERIC_READ, &h), STATUS_SUCCESS);
    HANDLE *handles = f->a.user;
    for (int i = 0; i < 2; i++) {
        HANDLE none = NULL;
        if (__atomic_compare_exchange_n(&handles[i], &none, h, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            break;
    }
}

/* Two threads set the same stream's context at once: one wins, the other
 * gets STATUS_FLT_CONTEXT_ALREADY_DEFINED and the winner's context. */
static void race_one_stream_two_setters(void **state)
{
    struct fixture *f = *state;
    f->mode = MODE_RACE;
    HANDLE handles[2] = {NULL, NULL};
    f->a.user = handles;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    fltsim_thread *t[2];
    for (int i = 0; i < 2; i++)
        assert_status(fltsim_thread_spawn(f->w.sys, 1000, 4001 + (ULONG)i, open_thread, f, &t[i]),
                      STATUS_SUCCESS);
    for (int i = 0; i < 2; i++)
        fltsim_thread_join(t[i]);
    assert_int_equal(f->n, 2);
    int winner = f->st[0] == STATUS_SUCCESS ? 0 : 1;
    assert_status(f->st[winner], STATUS_SUCCESS);
    assert_status(f->st[1 - winner], STATUS_FLT_CONTEXT_ALREADY_DEFINED);
    assert_null(f->old[winner]);
    assert_ptr_equal(f->old[1 - winner], f->mine[winner]);
    assert_int_equal(cleanups, 1); /* the loser's */
    for (int i = 0; i < 2; i++)
        assert_status(fltsim_io_close(f->w.sys, handles[i]), STATUS_SUCCESS);
    assert_int_equal(cleanups, 2);
    assert_ptr_equal(cleaned_last, f->mine[winner]);
}

/* Stream-handle contexts live until their file object's close; FltGetContexts
 * returns each referenced. */
static void handle_context_per_file_object(void **state)
{
    struct fixture *f = *state;
    f->mode = MODE_HANDLE;
    f->a.ops[IRP_MJ_CLOSE].pre = true;
    f->a.ops[IRP_MJ_CLOSE].post = true;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    HANDLE h1 = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_true(f->contexts_ok);
    HANDLE h2 = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_int_equal(cleanups, 0);
    assert_status(fltsim_io_close(f->w.sys, h1), STATUS_SUCCESS);
    assert_int_equal(cleanups, 1);
    assert_status(fltsim_io_close(f->w.sys, h2), STATUS_SUCCESS);
    assert_int_equal(cleanups, 2);
    /* post-close: the handle's contexts are gone (V19 at each close, after
     * the one of each pre-create) */
    assert_status(f->post_close_get, STATUS_NOT_SUPPORTED);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V19"), 4);
}

/* Volume contexts: one per filter and volume, deleted at unload; a paged
 * one is reported (V20); a release at DISPATCH_LEVEL frees on a worker. */
static void volume_context_and_dispatch_release(void **state)
{
    struct fixture *f = *state;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    PFLT_FILTER flt = f->a.filter;
    PFLT_CONTEXT v = NULL, got = NULL, paged = NULL;
    assert_status(FltAllocateContext(flt, FLT_VOLUME_CONTEXT, 16, NonPagedPool, &v),
                  STATUS_SUCCESS);
    assert_status(FltSetVolumeContext(f->w.volume, FLT_SET_CONTEXT_KEEP_IF_EXISTS, v, NULL),
                  STATUS_SUCCESS);
    FltReleaseContext(v);
    assert_status(FltGetVolumeContext(flt, f->w.volume, &got), STATUS_SUCCESS);
    assert_ptr_equal(got, v);
    FltReleaseContext(got);
    assert_status(FltAllocateContext(flt, FLT_VOLUME_CONTEXT, 16, PagedPool, &paged),
                  STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V20"), 1);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    FltReleaseContext(paged); /* the last reference: a work item frees it */
    LONG at_dispatch = cleanups;
    NTSTATUS get_at_dispatch = FltGetVolumeContext(flt, f->w.volume, &got); /* V19 */
    FltReleaseContext(got);
    KeLowerIrql(old);
    assert_int_equal(at_dispatch, 0);
    assert_status(get_at_dispatch, STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V19"), 1);
    assert_status(fltsim_system_wait_idle(f->w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(cleanups, 1);
    assert_ptr_equal(cleaned_last, paged);
    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    assert_int_equal(cleanups, 2);
    assert_ptr_equal(cleaned_last, v);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V21"), 0);
}

static void misuse(void *p)
{
    struct fixture *f = p;
    PFLT_INSTANCE inst = f->a.last_instance;
    PFLT_CONTEXT s = NULL;
    assert_status(FltAllocateContext(f->a.filter, FLT_STREAM_CONTEXT, 32, PagedPool, &s),
                  STATUS_SUCCESS);
    /* a stream context is not an instance context */
    assert_status(FltSetInstanceContext(inst, FLT_SET_CONTEXT_KEEP_IF_EXISTS, s, NULL),
                  STATUS_INVALID_PARAMETER);
    FltReleaseContext(s);
    FltReferenceContext(s); /* after free */
    FltDeleteContext(s);    /* without a reference */
}

/* Deletion: FltDelete*Context with and without OldContext, FltDeleteContext
 * with a reference held; misuse reported (V21) without touching memory. */
static void delete_routines_and_misuse(void **state)
{
    struct fixture *f = *state;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    PFLT_FILTER flt = f->a.filter;
    PFLT_INSTANCE inst = f->a.last_instance;
    PFLT_CONTEXT a = NULL, old = NULL, got = NULL;
    assert_status(FltDeleteInstanceContext(inst, &old), STATUS_NOT_FOUND);
    assert_status(FltAllocateContext(flt, FLT_INSTANCE_CONTEXT, 8, PagedPool, &a), STATUS_SUCCESS);
    assert_status(FltSetInstanceContext(inst, FLT_SET_CONTEXT_KEEP_IF_EXISTS, a, NULL),
                  STATUS_SUCCESS);
    assert_status(FltDeleteInstanceContext(inst, &old), STATUS_SUCCESS);
    assert_ptr_equal(old, a);
    assert_status(FltGetInstanceContext(inst, &got), STATUS_NOT_FOUND);
    FltReleaseContext(old);
    assert_int_equal(cleanups, 0); /* the allocation reference is left */
    assert_status(FltSetInstanceContext(inst, FLT_SET_CONTEXT_KEEP_IF_EXISTS, a, NULL),
                  STATUS_SUCCESS);
    FltDeleteContext(a); /* the caller's reference stays valid */
    assert_status(FltGetInstanceContext(inst, &got), STATUS_NOT_FOUND);
    assert_int_equal(cleanups, 0);
    FltReleaseContext(a);
    assert_int_equal(cleanups, 1);
    assert_status(fltsim_driver_call(f->a.driver, misuse, f), STATUS_SUCCESS);
    assert_int_equal(cleanups, 2);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V21"), 3);
    /* set, its allocation reference released: deleting it holds nothing */
    assert_status(FltAllocateContext(flt, FLT_INSTANCE_CONTEXT, 8, PagedPool, &a), STATUS_SUCCESS);
    assert_status(FltSetInstanceContext(inst, FLT_SET_CONTEXT_KEEP_IF_EXISTS, a, NULL),
                  STATUS_SUCCESS);
    FltReleaseContext(a);
    FltDeleteContext(a);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V21"), 4);
    assert_int_equal(cleanups, 3); /* deleted all the same, as Windows would */
}

static NTSTATUS set_in_teardown;

static void set_during_teardown(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    PFLT_CONTEXT c = NULL;
    assert_status(FltAllocateContext(tf->filter, FLT_INSTANCE_CONTEXT, 8, PagedPool, &c),
                  STATUS_SUCCESS);
    set_in_teardown =
        FltSetInstanceContext(objects->Instance, FLT_SET_CONTEXT_KEEP_IF_EXISTS, c, NULL);
    FltReleaseContext(c);
}

/* A volume context goes when the volume dismounts; setting a context on an
 * instance being torn down fails with STATUS_FLT_DELETING_OBJECT. */
static void dismount_and_teardown(void **state)
{
    struct fixture *f = *state;
    f->a.teardown_start_hook = set_during_teardown;
    set_in_teardown = STATUS_SUCCESS;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    PFLT_CONTEXT v = NULL;
    assert_status(FltAllocateContext(f->a.filter, FLT_VOLUME_CONTEXT, 16, NonPagedPool, &v),
                  STATUS_SUCCESS);
    assert_status(FltSetVolumeContext(f->w.volume, FLT_SET_CONTEXT_KEEP_IF_EXISTS, v, NULL),
                  STATUS_SUCCESS);
    FltReleaseContext(v);
    assert_status(fltsim_volume_dismount(f->w.volume), STATUS_SUCCESS);
    assert_status(set_in_teardown, STATUS_FLT_DELETING_OBJECT);
    assert_int_equal(cleanups, 2); /* the refused instance context, the volume's */
    assert_ptr_equal(cleaned_last, v);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V21"), 0);
}

/* InstanceSetup sets an instance context, then declines the volume (as
 * MetadataManager does where it finds no metadata file): the instance never
 * attaches, and FltMgr deletes the context with it (its cleanup runs once);
 * nothing is left for the unload to report. */
static NTSTATUS declined_set;

static void set_then_decline(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    PFLT_CONTEXT c = NULL;
    assert_status(FltAllocateContext(tf->filter, FLT_INSTANCE_CONTEXT, 24, PagedPool, &c),
                  STATUS_SUCCESS);
    declined_set = FltSetInstanceContext(objects->Instance, FLT_SET_CONTEXT_KEEP_IF_EXISTS, c, NULL);
    FltReleaseContext(c);
    tf->setup_status = STATUS_FLT_DO_NOT_ATTACH;
}

static void declined_instance_deletes_its_context(void **state)
{
    struct fixture *f = *state;
    f->a.setup_hook = set_then_decline;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(declined_set, STATUS_SUCCESS);
    assert_int_equal(cleanups, 1);
    assert_int_equal(outstanding(TAG_I), 0);
    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    assert_int_equal(cleanups, 1);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

#define CASE(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        CASE(registration_rejects_bad_arrays),
        CASE(allocate_sizes_and_pool),
        CASE(instance_context_set_get_replace),
        CASE(stream_context_lives_until_close),
        CASE(over_release_is_reported),
        CASE(leak_names_the_allocation_site),
        CASE(race_one_stream_two_setters),
        CASE(handle_context_per_file_object),
        CASE(volume_context_and_dispatch_release),
        CASE(dismount_and_teardown),
        CASE(delete_routines_and_misuse),
        CASE(declined_instance_deletes_its_context),
    };
    return FLTSIM_RUN_SUITE("context", tests);
}
