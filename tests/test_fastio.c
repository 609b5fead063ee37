/*
 * The fast-I/O and FS-filter paths (SPEC 1.3, 3.1-3.2, 4.2): fast reads,
 * writes and queries go through the filters flagged FAST_IO; a filter's
 * FLT_PREOP_DISALLOW_FASTIO or the file system declining makes the I/O
 * manager send an IRP; statuses illegal for these paths are reported.
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

struct fixture {
    struct test_world w;
    struct tf_filter a, b;
};

struct behaviour {
    UCHAR major;
    ULONG kind_flag; /* FLTFL_CALLBACK_DATA_*_OPERATION it applies to */
    FLT_PREOP_CALLBACK_STATUS status;
    NTSTATUS post_status;
    ULONG pre_flags;
    BOOLEAN synchronous;
    ULONG posts;
};

static FLT_PREOP_CALLBACK_STATUS hook_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                          PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    struct behaviour *b = tf->user;
    if (b == NULL || data->Iopb->MajorFunction != b->major || !(data->Flags & b->kind_flag))
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    b->pre_flags = data->Flags;
    b->synchronous = FltIsOperationSynchronous(data);
    return b->status;
}

static FLT_POSTOP_CALLBACK_STATUS hook_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID context,
                                            FLT_POST_OPERATION_FLAGS flags)
{
    (void)objects;
    (void)context;
    (void)flags;
    struct behaviour *b = tf->user;
    if (b != NULL && data->Iopb->MajorFunction == b->major && (data->Flags & b->kind_flag)) {
        b->post_status = data->IoStatus.Status;
        b->posts++;
    }
    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* Records the kind of each pre: "A:pre:READ/fast". */
static FLT_PREOP_CALLBACK_STATUS kind_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                          PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    rec_add("%s",
            FLT_IS_FASTIO_OPERATION(data) ? "fast" : (FLT_IS_IRP_OPERATION(data) ? "irp" : "fsf"));
    return hook_pre(tf, data, objects, context);
}

static int setup_with(void **state, ULONG memfs_flags)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create(&f->w, 0);
    if (memfs_flags != 0) {
        /* Replace C: by a volume whose memfs declines fast I/O. */
        assert_status(fltsim_volume_dismount(f->w.volume), STATUS_SUCCESS);
        struct fltsim_memfs_options o = {.flags = memfs_flags};
        assert_status(fltsim_memfs_create(&o, &f->w.fs), STATUS_SUCCESS);
        assert_status(fltsim_memfs_add_file(f->w.fs, L"\\a.txt", "hello world", 11),
                      STATUS_SUCCESS);
        struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume1",
                                          .drive_letter = L'C',
                                          .ops = &fltsim_memfs_ops,
                                          .fs = f->w.fs,
                                          .fs_type = FLT_FSTYPE_NTFS};
        assert_status(fltsim_volume_mount(f->w.sys, &vp, &f->w.volume), STATUS_SUCCESS);
    }
    tf_init(&f->a, "A", "300000");
    tf_init(&f->b, "B", "200000");
    f->a.pre = kind_pre;
    f->a.post = hook_post;
    f->b.pre = hook_pre;
    f->b.post = hook_post;
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, 0);
}

static int setup_no_fast_io(void **state)
{
    return setup_with(state, FLTSIM_MEMFS_NO_FAST_IO);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    world_destroy(&f->w);
    free(f);
    return 0;
}

static HANDLE load_and_open(struct fixture *f)
{
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->b), STATUS_SUCCESS);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ | GENERIC_WRITE);
    rec_trace_system(f->w.sys);
    rec_reset();
    return h;
}

/* SPEC 1.3, 6.2: a fast read goes through the filters as fast I/O. */
static void fastio_read_goes_through_filters_as_fast_io(void **state)
{
    struct fixture *f = *state;
    struct behaviour b = {.major = IRP_MJ_READ, .kind_flag = FLTFL_CALLBACK_DATA_FAST_IO_OPERATION};
    f->b.user = &b;
    HANDLE h = load_and_open(f);
    char buf[16] = {0};
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 5, &zero, FLTSIM_IO_FAST, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 5);
    assert_memory_equal(buf, "hello", 5);
    assert_recorded("A:pre:READ fast B:pre:READ FS:READ B:post:READ A:post:READ");
    assert_true(b.synchronous); /* non-IRP operations are synchronous (SPEC 6.7) */
    assert_int_equal(b.posts, 1);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 3.2: DISALLOW_FASTIO fails the fast I/O with STATUS_FLT_DISALLOW_FAST_IO,
 * skips lower filters, the file system and the filter's own post, runs the
 * upper posts, and the I/O manager reissues the request as an IRP. */
static void fastio_disallow_skips_lower_and_reissues_irp(void **state)
{
    struct fixture *f = *state;
    struct behaviour a = {.major = IRP_MJ_READ, .kind_flag = FLTFL_CALLBACK_DATA_FAST_IO_OPERATION};
    struct behaviour b = {.major = IRP_MJ_READ,
                          .kind_flag = FLTFL_CALLBACK_DATA_FAST_IO_OPERATION,
                          .status = FLT_PREOP_DISALLOW_FASTIO};
    f->a.user = &a;
    f->b.user = &b;
    HANDLE h = load_and_open(f);
    char buf[16] = {0};
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 5, &zero, FLTSIM_IO_FAST, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 5);
    assert_memory_equal(buf, "hello", 5);
    assert_recorded("A:pre:READ fast B:pre:READ A:post:READ "
                    "A:pre:READ irp B:pre:READ FS:READ B:post:READ A:post:READ");
    assert_status(a.post_status, STATUS_FLT_DISALLOW_FAST_IO);
    assert_int_equal(b.posts, 0);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 3.2 [SIM]: a file system that declines fast I/O shows up to the posts
 * as STATUS_FLT_DISALLOW_FAST_IO, and an IRP follows. */
static void fastio_declined_by_fs_reissues_irp(void **state)
{
    struct fixture *f = *state;
    struct behaviour b = {.major = IRP_MJ_READ, .kind_flag = FLTFL_CALLBACK_DATA_FAST_IO_OPERATION};
    f->b.user = &b;
    HANDLE h = load_and_open(f);
    char buf[16] = {0};
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 5, &zero, FLTSIM_IO_FAST, NULL), STATUS_SUCCESS);
    assert_recorded("A:pre:READ fast B:pre:READ FS:READ B:post:READ A:post:READ "
                    "A:pre:READ irp B:pre:READ FS:READ B:post:READ A:post:READ");
    assert_status(b.post_status, STATUS_FLT_DISALLOW_FAST_IO);
    assert_memory_equal(buf, "hello", 5);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 1.3: fast I/O is tried only for cached I/O on synchronous file objects. */
static void fastio_not_tried_for_noncached_io(void **state)
{
    struct fixture *f = *state;
    HANDLE h = load_and_open(f);
    char buf[512];
    LONGLONG zero = 0;
    assert_status(
        fltsim_io_read(f->w.sys, h, buf, 512, &zero, FLTSIM_IO_FAST | FLTSIM_IO_NONCACHED, NULL),
        STATUS_SUCCESS);
    assert_recorded("A:pre:READ irp B:pre:READ FS:READ B:post:READ A:post:READ");
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 1.3: fast writes. */
static void fastio_write_goes_through_filters(void **state)
{
    struct fixture *f = *state;
    HANDLE h = load_and_open(f);
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_write(f->w.sys, h, "HELLO", 5, &zero, FLTSIM_IO_FAST, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 5);
    assert_recorded("A:pre:WRITE fast B:pre:WRITE FS:WRITE B:post:WRITE A:post:WRITE");
    char data[16];
    size_t size;
    assert_status(fltsim_memfs_read_file(f->w.fs, L"\\a.txt", data, sizeof(data), &size),
                  STATUS_SUCCESS);
    assert_memory_equal(data, "HELLO world", 11);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 1.3: query information is fast I/O for basic, standard and
 * network-open information only. */
static void fastio_query_classes(void **state)
{
    struct fixture *f = *state;
    HANDLE h = load_and_open(f);
    FILE_NETWORK_OPEN_INFORMATION net;
    FILE_STANDARD_INFORMATION std;
    FILE_NAME_INFORMATION name[8];
    assert_status(fltsim_io_query_information(f->w.sys, h, &net, sizeof(net),
                                              FileNetworkOpenInformation, FLTSIM_IO_FAST, NULL),
                  STATUS_SUCCESS);
    assert_int_equal(net.EndOfFile.QuadPart, 11);
    assert_status(fltsim_io_query_information(f->w.sys, h, &std, sizeof(std),
                                              FileStandardInformation, FLTSIM_IO_FAST, NULL),
                  STATUS_SUCCESS);
    assert_int_equal(std.EndOfFile.QuadPart, 11);
    assert_status(fltsim_io_query_information(f->w.sys, h, name, sizeof(name), FileNameInformation,
                                              FLTSIM_IO_FAST, NULL),
                  STATUS_SUCCESS);
    assert_recorded("A:pre:QUERY_INFORMATION fast B:pre:QUERY_INFORMATION FS:QUERY_INFORMATION "
                    "B:post:QUERY_INFORMATION A:post:QUERY_INFORMATION "
                    "A:pre:QUERY_INFORMATION fast B:pre:QUERY_INFORMATION FS:QUERY_INFORMATION "
                    "B:post:QUERY_INFORMATION A:post:QUERY_INFORMATION "
                    "A:pre:QUERY_INFORMATION irp B:pre:QUERY_INFORMATION FS:QUERY_INFORMATION "
                    "B:post:QUERY_INFORMATION A:post:QUERY_INFORMATION");
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 3.1, V4: PENDING for fast I/O is reported and handled as NO_CALLBACK. */
static void fastio_pending_is_reported(void **state)
{
    struct fixture *f = *state;
    struct behaviour b = {.major = IRP_MJ_READ,
                          .kind_flag = FLTFL_CALLBACK_DATA_FAST_IO_OPERATION,
                          .status = FLT_PREOP_PENDING};
    f->b.user = &b;
    HANDLE h = load_and_open(f);
    char buf[16];
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 5, &zero, FLTSIM_IO_FAST, NULL), STATUS_SUCCESS);
    assert_recorded("A:pre:READ fast B:pre:READ FS:READ A:post:READ");
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V4"), 1);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 3.1, V7: SYNCHRONIZE for fast I/O is a warning and means WITH_CALLBACK. */
static void fastio_synchronize_is_with_callback(void **state)
{
    struct fixture *f = *state;
    struct behaviour b = {.major = IRP_MJ_READ,
                          .kind_flag = FLTFL_CALLBACK_DATA_FAST_IO_OPERATION,
                          .status = FLT_PREOP_SYNCHRONIZE};
    f->b.user = &b;
    HANDLE h = load_and_open(f);
    char buf[16];
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 5, &zero, FLTSIM_IO_FAST, NULL), STATUS_SUCCESS);
    assert_int_equal(b.posts, 1);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V7"), 1);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 1.3, 3.1: the FS-filter path; DISALLOW_FASTIO there is V5. */
static void fastio_fs_filter_path_flags_and_disallow(void **state)
{
    struct fixture *f = *state;
    struct behaviour b = {.major = IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION,
                          .kind_flag = FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION,
                          .status = FLT_PREOP_DISALLOW_FASTIO};
    f->b.user = &b;
    HANDLE h = load_and_open(f);
    assert_status(
        fltsim_io_acquire_for_section_sync(f->w.sys, h, SyncTypeCreateSection, PAGE_READONLY),
        STATUS_FILE_LOCKED_WITH_WRITERS);
    assert_int_equal(b.pre_flags & (FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION |
                                    FLTFL_CALLBACK_DATA_IRP_OPERATION |
                                    FLTFL_CALLBACK_DATA_FAST_IO_OPERATION),
                     FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V5"), 1);
    assert_recorded("A:pre:ACQUIRE_FOR_SECTION_SYNCHRONIZATION fsf "
                    "B:pre:ACQUIRE_FOR_SECTION_SYNCHRONIZATION "
                    "FS:ACQUIRE_FOR_SECTION_SYNCHRONIZATION "
                    "A:post:ACQUIRE_FOR_SECTION_SYNCHRONIZATION");
    assert_status(fltsim_io_release_for_section_sync(f->w.sys, h), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 3.2: COMPLETE on the FS-filter path skips the file system. */
static void fastio_fs_filter_complete_skips_fs(void **state)
{
    struct fixture *f = *state;
    struct behaviour b = {.major = IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION,
                          .kind_flag = FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION,
                          .status = FLT_PREOP_COMPLETE};
    f->b.user = &b;
    HANDLE h = load_and_open(f);
    assert_status(fltsim_io_acquire_for_section_sync(f->w.sys, h, SyncTypeOther, PAGE_READONLY),
                  STATUS_SUCCESS);
    assert_recorded("A:pre:ACQUIRE_FOR_SECTION_SYNCHRONIZATION fsf "
                    "B:pre:ACQUIRE_FOR_SECTION_SYNCHRONIZATION "
                    "A:post:ACQUIRE_FOR_SECTION_SYNCHRONIZATION");
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(fastio_read_goes_through_filters_as_fast_io, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(fastio_disallow_skips_lower_and_reissues_irp, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(fastio_declined_by_fs_reissues_irp, setup_no_fast_io,
                                        teardown),
        cmocka_unit_test_setup_teardown(fastio_not_tried_for_noncached_io, setup, teardown),
        cmocka_unit_test_setup_teardown(fastio_write_goes_through_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(fastio_query_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(fastio_pending_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(fastio_synchronize_is_with_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(fastio_fs_filter_path_flags_and_disallow, setup, teardown),
        cmocka_unit_test_setup_teardown(fastio_fs_filter_complete_skips_fs, setup, teardown),
    };
    return FLTSIM_RUN_SUITE("fastio", tests);
}
