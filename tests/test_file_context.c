/*
 * File contexts are per file, not per stream (issue 17, item 2): on memfs a
 * file context set through file.txt is found through file.txt:ads and the
 * other way round, lives until the file's last stream closes (its cleanup
 * runs once, then), while stream contexts stay one per stream. hostfs has
 * one stream per file (test_context.c covers the stream being the file).
 * Each case runs under both executors.
 */
#include <stdlib.h>

#include "support/fltsim_test.h"

#define TAG_F 'xtcF'
#define ALL_SHARE (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

static LONG file_cleanups, stream_cleanups;

static void cleanup(PFLT_CONTEXT ctx, FLT_CONTEXT_TYPE type)
{
    (void)ctx;
    __atomic_add_fetch(type == FLT_FILE_CONTEXT ? &file_cleanups : &stream_cleanups, 1,
                       __ATOMIC_SEQ_CST);
}

static const FLT_CONTEXT_REGISTRATION contexts[] = {
    {FLT_FILE_CONTEXT, 0, cleanup, 16, TAG_F, NULL, NULL, NULL},
    {FLT_STREAM_CONTEXT, 0, cleanup, 16, TAG_F, NULL, NULL, NULL},
    {FLT_CONTEXT_END}};

struct fixture {
    struct test_world w;
    struct tf_filter a;
    PFLT_INSTANCE instance;
    PFILE_OBJECT last_fo; /* the file object of the last create */
};
static struct fixture *current;

static FLT_POSTOP_CALLBACK_STATUS post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                       PCFLT_RELATED_OBJECTS objects, PVOID context,
                                       FLT_POST_OPERATION_FLAGS flags)
{
    (void)tf, (void)context, (void)flags;
    if (data->Iopb->MajorFunction == IRP_MJ_CREATE && NT_SUCCESS(data->IoStatus.Status)) {
        current->instance = objects->Instance;
        current->last_fo = objects->FileObject;
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
    f->a.post = post;
    file_cleanups = stream_cleanups = 0;
    current = f;
    *state = f;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
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

/* Opens path (FILE_OPEN_IF), returning its handle and file object. */
static HANDLE open_fo(struct fixture *f, PCWSTR path, PFILE_OBJECT *fo)
{
    struct fltsim_create_params p = {.path = path,
                                     .desired_access = GENERIC_READ | SYNCHRONIZE,
                                     .share_access = ALL_SHARE,
                                     .disposition = FILE_OPEN_IF,
                                     .create_options = FILE_SYNCHRONOUS_IO_NONALERT};
    IO_STATUS_BLOCK iosb;
    HANDLE h = NULL;
    f->last_fo = NULL;
    assert_status(fltsim_io_create(f->w.sys, &p, &h, &iosb), STATUS_SUCCESS);
    assert_non_null(f->last_fo);
    *fo = f->last_fo;
    return h;
}

static PFLT_CONTEXT set_new(struct fixture *f, FLT_CONTEXT_TYPE type, PFILE_OBJECT fo)
{
    PFLT_CONTEXT c = NULL;
    assert_status(FltAllocateContext(f->a.filter, type, 16, PagedPool, &c), STATUS_SUCCESS);
    NTSTATUS st =
        type == FLT_FILE_CONTEXT
            ? FltSetFileContext(f->instance, fo, FLT_SET_CONTEXT_KEEP_IF_EXISTS, c, NULL)
            : FltSetStreamContext(f->instance, fo, FLT_SET_CONTEXT_KEEP_IF_EXISTS, c, NULL);
    assert_status(st, STATUS_SUCCESS);
    FltReleaseContext(c);
    return c;
}

static void expect_file_context(struct fixture *f, PFILE_OBJECT fo, PFLT_CONTEXT want)
{
    PFLT_CONTEXT got = NULL;
    assert_status(FltGetFileContext(f->instance, fo, &got), STATUS_SUCCESS);
    assert_ptr_equal(got, want);
    FltReleaseContext(got);
}

/* Set through the default stream, found through a named one; the named
 * stream's close leaves it; the file's last close cleans it up, once. */
static void default_stream_context_seen_by_named_stream(void **state)
{
    struct fixture *f = *state;
    PFILE_OBJECT def, ads;
    HANDLE hd = open_fo(f, L"C:\\a.txt", &def);
    PFLT_CONTEXT fc = set_new(f, FLT_FILE_CONTEXT, def);
    HANDLE ha = open_fo(f, L"C:\\a.txt:ads", &ads);
    expect_file_context(f, ads, fc);
    /* stream contexts stay one per stream */
    PFLT_CONTEXT sd = set_new(f, FLT_STREAM_CONTEXT, def);
    PFLT_CONTEXT sa = set_new(f, FLT_STREAM_CONTEXT, ads);
    assert_ptr_not_equal(sd, sa);
    PFLT_CONTEXT got = NULL;
    assert_status(FltGetStreamContext(f->instance, ads, &got), STATUS_SUCCESS);
    assert_ptr_equal(got, sa);
    FltReleaseContext(got);
    assert_status(fltsim_io_close(f->w.sys, hd), STATUS_SUCCESS);
    assert_int_equal(stream_cleanups, 1); /* the default stream's */
    assert_int_equal(file_cleanups, 0);   /* the file still has a stream open */
    expect_file_context(f, ads, fc);
    assert_status(fltsim_io_close(f->w.sys, ha), STATUS_SUCCESS);
    assert_int_equal(stream_cleanups, 2);
    assert_int_equal(file_cleanups, 1);
    /* a new open of the file starts without one */
    HANDLE h = open_fo(f, L"C:\\a.txt", &def);
    got = (PFLT_CONTEXT)1;
    assert_status(FltGetFileContext(f->instance, def, &got), STATUS_NOT_FOUND);
    assert_null(got);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(file_cleanups, 1);
}

/* Set through a named stream, found through the default stream and through
 * another named stream; the named stream's close leaves it. */
static void named_stream_context_seen_by_default_stream(void **state)
{
    struct fixture *f = *state;
    PFILE_OBJECT ads, def, other;
    HANDLE ha = open_fo(f, L"C:\\a.txt:ads", &ads);
    PFLT_CONTEXT fc = set_new(f, FLT_FILE_CONTEXT, ads);
    HANDLE hd = open_fo(f, L"C:\\a.txt", &def);
    expect_file_context(f, def, fc);
    HANDLE ho = open_fo(f, L"C:\\a.txt:other", &other);
    expect_file_context(f, other, fc);
    /* another file has its own */
    PFILE_OBJECT b;
    HANDLE hb = open_fo(f, L"C:\\dir\\b.txt", &b);
    PFLT_CONTEXT got = (PFLT_CONTEXT)1;
    assert_status(FltGetFileContext(f->instance, b, &got), STATUS_NOT_FOUND);
    assert_status(fltsim_io_close(f->w.sys, hb), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, ha), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, ho), STATUS_SUCCESS);
    assert_int_equal(file_cleanups, 0);
    expect_file_context(f, def, fc);
    /* deleting it through the default stream deletes the file's */
    PFLT_CONTEXT old = NULL;
    assert_status(FltDeleteFileContext(f->instance, def, &old), STATUS_SUCCESS);
    assert_ptr_equal(old, fc);
    FltReleaseContext(old);
    assert_int_equal(file_cleanups, 1);
    assert_status(fltsim_io_close(f->w.sys, hd), STATUS_SUCCESS);
    assert_int_equal(file_cleanups, 1);
}

#define CASE(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        CASE(default_stream_context_seen_by_named_stream),
        CASE(named_stream_context_seen_by_default_stream),
    };
    return FLTSIM_RUN_SUITE("file_context", tests);
}
