/*
 * Synchronous dispatch (SPEC 2.3, 3.1-3.2, 3.5, 4.1, 4.5, 6): three test
 * filters A (300000), B (200000) and C (100000) over memfs, with the recorder
 * showing which callbacks ran and whether the file system saw the operation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

struct fixture {
    struct test_world w;
    struct tf_filter a, b, c;
};

/* What a test filter's hooks should do, through tf->user. */
struct behaviour {
    UCHAR major;                      /* operation the behaviour applies to */
    FLT_PREOP_CALLBACK_STATUS status; /* returned by the pre */
    NTSTATUS complete_status;         /* IoStatus for FLT_PREOP_COMPLETE */
    PVOID context;                    /* completion context the pre hands out */
    /* observed */
    PVOID post_context;
    NTSTATUS post_status;
    ULONG_PTR post_information;
    ULONG pre_flags, post_flags;
    ULONG pre_length, post_length;
    LONGLONG pre_offset;
    BOOLEAN dirty_seen;
    BOOLEAN synchronous;
    ULONG requestor;
    HANDLE current_process;
    FLT_RELATED_OBJECTS objects;
    PFLT_INSTANCE target_instance;
    PFILE_OBJECT target_file;
    /* actions */
    bool change_read; /* pre: Length 5 at offset 6 */
    bool set_dirty;
    NTSTATUS post_sets; /* post overwrites IoStatus.Status when non-zero */
};

static FLT_PREOP_CALLBACK_STATUS hook_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                          PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    struct behaviour *b = tf->user;
    if (b == NULL || data->Iopb->MajorFunction != b->major)
        return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    b->pre_flags = data->Flags;
    b->dirty_seen = FltIsCallbackDataDirty(data);
    b->synchronous = FltIsOperationSynchronous(data);
    b->requestor = FltGetRequestorProcessId(data);
    b->current_process = PsGetCurrentProcessId();
    memcpy(&b->objects, objects, sizeof(b->objects));
    b->target_instance = data->Iopb->TargetInstance;
    b->target_file = data->Iopb->TargetFileObject;
    if (b->major == IRP_MJ_READ) {
        b->pre_length = data->Iopb->Parameters.Read.Length;
        b->pre_offset = data->Iopb->Parameters.Read.ByteOffset.QuadPart;
    }
    if (b->change_read) {
        data->Iopb->Parameters.Read.Length = 5;
        data->Iopb->Parameters.Read.ByteOffset.QuadPart = 6;
        if (b->set_dirty)
            FltSetCallbackDataDirty(data);
    }
    if (b->status == FLT_PREOP_COMPLETE) {
        data->IoStatus.Status = b->complete_status;
        data->IoStatus.Information = 0;
    }
    *context = b->context;
    return b->status;
}

static FLT_POSTOP_CALLBACK_STATUS hook_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID context,
                                            FLT_POST_OPERATION_FLAGS flags)
{
    (void)objects;
    (void)flags;
    struct behaviour *b = tf->user;
    if (b == NULL || data->Iopb->MajorFunction != b->major)
        return FLT_POSTOP_FINISHED_PROCESSING;
    b->post_context = context;
    b->post_status = data->IoStatus.Status;
    b->post_information = data->IoStatus.Information;
    b->post_flags = data->Flags;
    if (b->major == IRP_MJ_READ)
        b->post_length = data->Iopb->Parameters.Read.Length;
    if (b->post_sets != 0)
        data->IoStatus.Status = b->post_sets;
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_init(&f->b, "B", "200000");
    tf_init(&f->c, "C", "100000");
    struct tf_filter *all[] = {&f->a, &f->b, &f->c};
    for (int i = 0; i < 3; i++) {
        all[i]->pre = hook_pre;
        all[i]->post = hook_post;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    world_destroy(&f->w);
    free(f);
    return 0;
}

/* Loads the three filters, lets the first create attach them, and starts
 * recording the file system too. */
static void load_all(struct fixture *f)
{
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->b), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->c), STATUS_SUCCESS);
    /* The warm-up create runs with the behaviours disarmed. */
    void *users[3] = {f->a.user, f->b.user, f->c.user};
    f->a.user = f->b.user = f->c.user = NULL;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    f->a.user = users[0];
    f->b.user = users[1];
    f->c.user = users[2];
    assert_int_equal(f->a.setup_calls + f->b.setup_calls + f->c.setup_calls, 3);
    rec_trace_system(f->w.sys);
    rec_reset();
}

static const char *chain(const char *m)
{
    static char buf[512];
    snprintf(buf, sizeof(buf), "A:pre:%s B:pre:%s C:pre:%s FS:%s C:post:%s B:post:%s A:post:%s", m,
             m, m, m, m, m, m);
    return buf;
}

/* SPEC 2.3: pres by decreasing altitude, then the file system, then posts by
 * increasing altitude. */
static void dispatch_create_pres_top_down_posts_bottom_up(void **state)
{
    struct fixture *f = *state;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_recorded(chain("CREATE"));
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 2.3, for every major the test I/O API issues. */
static void dispatch_every_major_follows_altitude_order(void **state)
{
    struct fixture *f = *state;
    load_all(f);
    fltsim_system *sys = f->w.sys;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ | GENERIC_WRITE | DELETE);
    char buf[64];
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;

    rec_reset();
    assert_status(fltsim_io_read(sys, h, buf, 5, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_recorded(chain("READ"));

    rec_reset();
    assert_status(fltsim_io_write(sys, h, "HELLO", 5, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_recorded(chain("WRITE"));

    rec_reset();
    FILE_STANDARD_INFORMATION std;
    assert_status(
        fltsim_io_query_information(sys, h, &std, sizeof(std), FileStandardInformation, 0, &iosb),
        STATUS_SUCCESS);
    assert_recorded(chain("QUERY_INFORMATION"));

    rec_reset();
    FILE_END_OF_FILE_INFORMATION eof = {{.QuadPart = 8}};
    assert_status(
        fltsim_io_set_information(sys, h, &eof, sizeof(eof), FileEndOfFileInformation, &iosb),
        STATUS_SUCCESS);
    assert_recorded(chain("SET_INFORMATION"));

    rec_reset();
    assert_status(fltsim_io_flush(sys, h, &iosb), STATUS_SUCCESS);
    assert_recorded(chain("FLUSH_BUFFERS"));

    rec_reset();
    assert_status(fltsim_io_map_section(sys, h, PAGE_READONLY), STATUS_FILE_LOCKED_WITH_WRITERS);
    char expected[1024];
    snprintf(expected, sizeof(expected), "%s ", chain("ACQUIRE_FOR_SECTION_SYNCHRONIZATION"));
    strcat(expected, chain("RELEASE_FOR_SECTION_SYNCHRONIZATION"));
    assert_recorded(expected);

    rec_reset();
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
    snprintf(expected, sizeof(expected), "%s ", chain("CLEANUP"));
    strcat(expected, chain("CLOSE"));
    assert_recorded(expected);

    h = world_open(&f->w, L"C:\\dir", FILE_LIST_DIRECTORY);
    rec_reset();
    char dirbuf[1024];
    assert_status(fltsim_io_query_directory(sys, h, dirbuf, sizeof(dirbuf), FileNamesInformation,
                                            NULL, 0, &iosb),
                  STATUS_SUCCESS);
    assert_recorded(chain("DIRECTORY_CONTROL"));
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(sys), 0);
}

/* SPEC 3.2: SUCCESS_NO_CALLBACK passes the operation down without a post. */
static void dispatch_no_callback_skips_own_post(void **state)
{
    struct fixture *f = *state;
    struct behaviour b = {.major = IRP_MJ_CREATE, .status = FLT_PREOP_SUCCESS_NO_CALLBACK};
    f->b.user = &b;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_recorded("A:pre:CREATE B:pre:CREATE C:pre:CREATE FS:CREATE C:post:CREATE "
                    "A:post:CREATE");
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 3.2: COMPLETE skips lower filters, the file system and the filter's own
 * post; the posts above run and see the status. */
static void dispatch_complete_skips_lower_and_runs_upper_posts(void **state)
{
    struct fixture *f = *state;
    struct behaviour b = {.major = IRP_MJ_CREATE,
                          .status = FLT_PREOP_COMPLETE,
                          .complete_status = STATUS_ACCESS_DENIED};
    struct behaviour a = {.major = IRP_MJ_CREATE, .status = FLT_PREOP_SUCCESS_WITH_CALLBACK};
    f->b.user = &b;
    f->a.user = &a;
    load_all(f);
    HANDLE h = NULL;
    assert_status(fltsim_io_open(f->w.sys, L"C:\\a.txt", GENERIC_READ, &h), STATUS_ACCESS_DENIED);
    assert_null(h);
    assert_recorded("A:pre:CREATE B:pre:CREATE A:post:CREATE");
    assert_status(a.post_status, STATUS_ACCESS_DENIED);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* SPEC 3.1: the completion context of SUCCESS_WITH_CALLBACK reaches the post. */
static void dispatch_completion_context_reaches_post(void **state)
{
    struct fixture *f = *state;
    int marker;
    struct behaviour b = {
        .major = IRP_MJ_READ, .status = FLT_PREOP_SUCCESS_WITH_CALLBACK, .context = &marker};
    f->b.user = &b;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[16];
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 4, &zero, 0, NULL), STATUS_SUCCESS);
    assert_ptr_equal(b.post_context, &marker);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 3.2: SYNCHRONIZE calls the post, with the pre's completion context. */
static void dispatch_synchronize_calls_post_with_context(void **state)
{
    struct fixture *f = *state;
    int marker;
    struct behaviour b = {
        .major = IRP_MJ_READ, .status = FLT_PREOP_SYNCHRONIZE, .context = &marker};
    f->b.user = &b;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[16];
    LONGLONG zero = 0;
    rec_reset();
    assert_status(fltsim_io_read(f->w.sys, h, buf, 4, &zero, 0, NULL), STATUS_SUCCESS);
    assert_recorded(chain("READ"));
    assert_ptr_equal(b.post_context, &marker);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 2.3 / 12.12: a filter that registered only a post still gets it. */
static void dispatch_post_only_registration_gets_post(void **state)
{
    struct fixture *f = *state;
    f->b.ops[IRP_MJ_READ].pre = false;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[16];
    LONGLONG zero = 0;
    rec_reset();
    assert_status(fltsim_io_read(f->w.sys, h, buf, 4, &zero, 0, NULL), STATUS_SUCCESS);
    assert_recorded("A:pre:READ C:pre:READ FS:READ C:post:READ B:post:READ A:post:READ");
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 3.2, V2: SUCCESS_WITH_CALLBACK without a registered post. */
static void dispatch_with_callback_without_post_is_reported(void **state)
{
    struct fixture *f = *state;
    f->b.ops[IRP_MJ_READ].post = false;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[16];
    LONGLONG zero = 0;
    rec_reset();
    assert_status(fltsim_io_read(f->w.sys, h, buf, 4, &zero, 0, NULL), STATUS_SUCCESS);
    assert_recorded("A:pre:READ B:pre:READ C:pre:READ FS:READ C:post:READ A:post:READ");
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V2"), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(f->w.sys, 0, &r), STATUS_SUCCESS);
    assert_string_equal(r.filter, "B");
    assert_string_equal(r.altitude, "200000");
    assert_int_equal(r.major, IRP_MJ_READ);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 3.1, V3: a completion context with SUCCESS_NO_CALLBACK is reported and
 * the operation goes on without the post. */
static void dispatch_context_with_no_callback_is_reported(void **state)
{
    struct fixture *f = *state;
    int marker;
    struct behaviour b = {
        .major = IRP_MJ_READ, .status = FLT_PREOP_SUCCESS_NO_CALLBACK, .context = &marker};
    f->b.user = &b;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[16];
    LONGLONG zero = 0;
    rec_reset();
    assert_status(fltsim_io_read(f->w.sys, h, buf, 4, &zero, 0, NULL), STATUS_SUCCESS);
    assert_recorded("A:pre:READ B:pre:READ C:pre:READ FS:READ C:post:READ A:post:READ");
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V3"), 1);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 3.2 / 12.13, V1: an unknown pre status is reported and handled as
 * SUCCESS_NO_CALLBACK. */
static void dispatch_unknown_pre_status_is_reported_as_no_callback(void **state)
{
    struct fixture *f = *state;
    struct behaviour b = {.major = IRP_MJ_READ, .status = (FLT_PREOP_CALLBACK_STATUS)42};
    f->b.user = &b;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[16];
    LONGLONG zero = 0;
    rec_reset();
    assert_status(fltsim_io_read(f->w.sys, h, buf, 4, &zero, 0, NULL), STATUS_SUCCESS);
    assert_recorded("A:pre:READ B:pre:READ C:pre:READ FS:READ C:post:READ A:post:READ");
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V1"), 1);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 3.1, V5: DISALLOW_FASTIO for an IRP is reported and ignored. */
static void dispatch_disallow_fastio_on_irp_is_reported(void **state)
{
    struct fixture *f = *state;
    struct behaviour b = {.major = IRP_MJ_READ, .status = FLT_PREOP_DISALLOW_FASTIO};
    f->b.user = &b;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[16];
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;
    rec_reset();
    assert_status(fltsim_io_read(f->w.sys, h, buf, 4, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 4);
    assert_recorded("A:pre:READ B:pre:READ C:pre:READ FS:READ C:post:READ A:post:READ");
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V5"), 1);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 3.3 is issue 3; here: errors from the file system flow up unchanged,
 * with their Information (FILE_DOES_NOT_EXIST). */
static void dispatch_fs_error_flows_up_unchanged(void **state)
{
    struct fixture *f = *state;
    struct behaviour a = {.major = IRP_MJ_CREATE}, c = {.major = IRP_MJ_CREATE};
    f->a.user = &a;
    f->c.user = &c;
    load_all(f);
    HANDLE h = NULL;
    IO_STATUS_BLOCK iosb;
    struct fltsim_create_params p = {.path = L"C:\\missing.txt",
                                     .desired_access = GENERIC_READ | SYNCHRONIZE,
                                     .disposition = FILE_OPEN,
                                     .create_options = FILE_SYNCHRONOUS_IO_NONALERT};
    assert_status(fltsim_io_create(f->w.sys, &p, &h, &iosb), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(iosb.Information, FILE_DOES_NOT_EXIST);
    assert_status(c.post_status, STATUS_OBJECT_NAME_NOT_FOUND);
    assert_status(a.post_status, STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(a.post_information, FILE_DOES_NOT_EXIST);
    assert_recorded(chain("CREATE"));
}

/* SPEC 4.5: a post may turn success into failure. */
static void dispatch_post_turns_success_into_failure(void **state)
{
    struct fixture *f = *state;
    struct behaviour a = {.major = IRP_MJ_READ, .post_sets = STATUS_ACCESS_DENIED};
    f->a.user = &a;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[16];
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 4, &zero, 0, NULL), STATUS_ACCESS_DENIED);
    assert_status(a.post_status, STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 4.5, V24: failing a successful create in post without FltCancelFileOpen. */
static void dispatch_post_failing_create_is_reported(void **state)
{
    struct fixture *f = *state;
    struct behaviour b = {.major = IRP_MJ_CREATE, .post_sets = STATUS_ACCESS_DENIED};
    f->b.user = &b;
    load_all(f);
    HANDLE h = NULL;
    assert_status(fltsim_io_open(f->w.sys, L"C:\\a.txt", GENERIC_READ, &h), STATUS_ACCESS_DENIED);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V24"), 1);
    /* The open leaks in the file system, as on Windows. */
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 1);
}

/* SPEC 6.3: dirty changes reach lower filters and the file system; each
 * filter's post sees the parameters its own pre saw. */
static void dispatch_dirty_change_reaches_lower_filters_and_fs(void **state)
{
    struct fixture *f = *state;
    struct behaviour a = {.major = IRP_MJ_READ};
    struct behaviour b = {.major = IRP_MJ_READ, .change_read = true, .set_dirty = true};
    struct behaviour c = {.major = IRP_MJ_READ};
    f->a.user = &a;
    f->b.user = &b;
    f->c.user = &c;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[16] = {0};
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 11, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 5);
    assert_memory_equal(buf, "world", 5);
    assert_int_equal(c.pre_length, 5);
    assert_int_equal(c.pre_offset, 6);
    assert_false(c.dirty_seen); /* FltMgr clears the flag once it took the change */
    assert_int_equal(c.post_length, 5);
    assert_int_equal(b.post_length, 11);
    assert_int_equal(a.post_length, 11);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 6.1, V16: a change without FltSetCallbackDataDirty is ignored. */
static void dispatch_change_without_dirty_is_ignored_and_reported(void **state)
{
    struct fixture *f = *state;
    struct behaviour b = {.major = IRP_MJ_READ, .change_read = true};
    struct behaviour c = {.major = IRP_MJ_READ};
    f->b.user = &b;
    f->c.user = &c;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[16] = {0};
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 11, &zero, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 11);
    assert_memory_equal(buf, "hello world", 11);
    assert_int_equal(c.pre_length, 11);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V16"), 1);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 6.2: the kind flag, POST_OPERATION only during posts, SYSTEM_BUFFER for
 * buffered operations. */
static void dispatch_callback_data_flags_match_the_operation(void **state)
{
    struct fixture *f = *state;
    struct behaviour b = {.major = IRP_MJ_READ};
    f->b.user = &b;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[16];
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 4, &zero, 0, NULL), STATUS_SUCCESS);
    const ULONG kinds = FLTFL_CALLBACK_DATA_IRP_OPERATION | FLTFL_CALLBACK_DATA_FAST_IO_OPERATION |
                        FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION;
    assert_int_equal(b.pre_flags & kinds, FLTFL_CALLBACK_DATA_IRP_OPERATION);
    assert_int_equal(b.pre_flags & FLTFL_CALLBACK_DATA_POST_OPERATION, 0);
    assert_int_equal(b.post_flags & FLTFL_CALLBACK_DATA_POST_OPERATION,
                     FLTFL_CALLBACK_DATA_POST_OPERATION);
    assert_int_equal(b.pre_flags & FLTFL_CALLBACK_DATA_SYSTEM_BUFFER, 0);

    b.major = IRP_MJ_QUERY_INFORMATION;
    FILE_STANDARD_INFORMATION std;
    assert_status(fltsim_io_query_information(f->w.sys, h, &std, sizeof(std),
                                              FileStandardInformation, 0, NULL),
                  STATUS_SUCCESS);
    assert_int_equal(b.pre_flags & FLTFL_CALLBACK_DATA_SYSTEM_BUFFER,
                     FLTFL_CALLBACK_DATA_SYSTEM_BUFFER);

    b.major = IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION;
    assert_status(fltsim_io_map_section(f->w.sys, h, PAGE_READONLY),
                  STATUS_FILE_LOCKED_WITH_ONLY_READERS); /* NTFS: no writer is open */
    assert_int_equal(b.pre_flags & kinds, FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 3.5 step 3, 6.5: FltObjects and TargetInstance name the node. */
static void dispatch_related_objects_name_the_node(void **state)
{
    struct fixture *f = *state;
    struct behaviour b = {.major = IRP_MJ_READ};
    f->b.user = &b;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[16];
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 4, &zero, 0, NULL), STATUS_SUCCESS);
    assert_int_equal(b.objects.Size, sizeof(FLT_RELATED_OBJECTS));
    assert_ptr_equal(b.objects.Filter, f->b.filter);
    assert_ptr_equal(b.objects.Volume, f->w.volume);
    assert_ptr_equal(b.objects.Instance, f->b.last_instance);
    assert_ptr_equal(b.target_instance, f->b.last_instance);
    assert_ptr_equal(b.objects.FileObject, fltsim_io_file_object(f->w.sys, h));
    assert_ptr_equal(b.target_file, b.objects.FileObject);
    assert_null(b.objects.Transaction);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 6.7: FltIsOperationSynchronous is the I/O manager's view. */
static void dispatch_is_operation_synchronous_follows_the_request(void **state)
{
    struct fixture *f = *state;
    struct behaviour b = {.major = IRP_MJ_READ};
    f->b.user = &b;
    load_all(f);
    fltsim_system *sys = f->w.sys;
    char buf[512];
    LONGLONG zero = 0;

    HANDLE sync = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_status(fltsim_io_read(sys, sync, buf, 4, &zero, 0, NULL), STATUS_SUCCESS);
    assert_true(b.synchronous);
    assert_status(fltsim_io_read(sys, sync, buf, 512, &zero, FLTSIM_IO_PAGING, NULL),
                  STATUS_SUCCESS);
    assert_false(b.synchronous); /* asynchronous paging I/O */
    assert_status(
        fltsim_io_read(sys, sync, buf, 512, &zero, FLTSIM_IO_PAGING | FLTSIM_IO_SYNC_PAGING, NULL),
        STATUS_SUCCESS);
    assert_true(b.synchronous);
    assert_status(fltsim_io_close(sys, sync), STATUS_SUCCESS);

    HANDLE async = NULL;
    struct fltsim_create_params p = {.path = L"C:\\a.txt",
                                     .desired_access = GENERIC_READ,
                                     .share_access = FILE_SHARE_READ,
                                     .disposition = FILE_OPEN};
    assert_status(fltsim_io_create(sys, &p, &async, NULL), STATUS_SUCCESS);
    assert_status(fltsim_io_read(sys, async, buf, 4, &zero, 0, NULL), STATUS_SUCCESS);
    assert_false(b.synchronous);
    /* An asynchronous file object has no file pointer to read at. */
    assert_status(fltsim_io_read(sys, async, buf, 4, NULL, 0, NULL), STATUS_INVALID_PARAMETER);
    assert_status(fltsim_io_close(sys, async), STATUS_SUCCESS);
}

/* SPEC 6.7: the requestor is the issuing thread's simulated process. */
static void dispatch_requestor_process_is_the_issuer(void **state)
{
    struct fixture *f = *state;
    struct behaviour b = {.major = IRP_MJ_READ};
    f->b.user = &b;
    load_all(f);
    ULONG pid = fltsim_thread_process_id(), tid = fltsim_thread_id();
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[16];
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 4, &zero, 0, NULL), STATUS_SUCCESS);
    assert_int_equal(b.requestor, pid);
    assert_ptr_equal(b.current_process, (HANDLE)(ULONG_PTR)pid);

    /* Handles belong to their process: another one cannot use this handle. */
    fltsim_thread_set_identity(4242, 77);
    assert_status(fltsim_io_read(f->w.sys, h, buf, 4, &zero, 0, NULL), STATUS_INVALID_HANDLE);
    HANDLE other = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_status(fltsim_io_read(f->w.sys, other, buf, 4, &zero, 0, NULL), STATUS_SUCCESS);
    assert_int_equal(b.requestor, 4242);
    assert_status(fltsim_io_close(f->w.sys, other), STATUS_SUCCESS);
    fltsim_thread_set_identity(pid, tid);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 1.2: each skip flag against the requests it skips. */
static void dispatch_skip_paging_io_skips_only_paging(void **state)
{
    struct fixture *f = *state;
    f->b.ops[IRP_MJ_READ].flags = FLTFL_OPERATION_REGISTRATION_SKIP_PAGING_IO;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[512];
    LONGLONG zero = 0;
    rec_reset();
    assert_status(fltsim_io_read(f->w.sys, h, buf, 512, &zero, FLTSIM_IO_PAGING, NULL),
                  STATUS_SUCCESS);
    assert_recorded("A:pre:READ C:pre:READ FS:READ C:post:READ A:post:READ");
    rec_reset();
    assert_status(fltsim_io_read(f->w.sys, h, buf, 4, &zero, 0, NULL), STATUS_SUCCESS);
    assert_recorded(chain("READ"));
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

static void dispatch_skip_cached_io_skips_cached_reads(void **state)
{
    struct fixture *f = *state;
    f->b.ops[IRP_MJ_READ].flags = FLTFL_OPERATION_REGISTRATION_SKIP_CACHED_IO;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[512];
    LONGLONG zero = 0;
    rec_reset();
    assert_status(fltsim_io_read(f->w.sys, h, buf, 4, &zero, 0, NULL), STATUS_SUCCESS);
    assert_recorded("A:pre:READ C:pre:READ FS:READ C:post:READ A:post:READ");
    rec_reset();
    assert_status(fltsim_io_read(f->w.sys, h, buf, 512, &zero, FLTSIM_IO_NONCACHED, NULL),
                  STATUS_SUCCESS);
    assert_recorded(chain("READ"));
    rec_reset();
    assert_status(fltsim_io_read(f->w.sys, h, buf, 512, &zero, FLTSIM_IO_PAGING, NULL),
                  STATUS_SUCCESS);
    assert_recorded(chain("READ"));
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

static void dispatch_skip_non_cached_non_paging_skips_user_noncached(void **state)
{
    struct fixture *f = *state;
    f->b.ops[IRP_MJ_READ].flags = FLTFL_OPERATION_REGISTRATION_SKIP_NON_CACHED_NON_PAGING_IO;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[512];
    LONGLONG zero = 0;
    rec_reset();
    assert_status(fltsim_io_read(f->w.sys, h, buf, 512, &zero, FLTSIM_IO_NONCACHED, NULL),
                  STATUS_SUCCESS);
    assert_recorded("A:pre:READ C:pre:READ FS:READ C:post:READ A:post:READ");
    rec_reset();
    assert_status(fltsim_io_read(f->w.sys, h, buf, 512, &zero, FLTSIM_IO_PAGING, NULL),
                  STATUS_SUCCESS);
    assert_recorded(chain("READ"));
    rec_reset();
    assert_status(fltsim_io_read(f->w.sys, h, buf, 4, &zero, 0, NULL), STATUS_SUCCESS);
    assert_recorded(chain("READ"));
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

static void dispatch_skip_non_dasd_sees_only_volume_opens(void **state)
{
    struct fixture *f = *state;
    f->b.ops[IRP_MJ_CREATE].flags = FLTFL_OPERATION_REGISTRATION_SKIP_NON_DASD_IO;
    load_all(f);
    rec_reset();
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_recorded("A:pre:CREATE C:pre:CREATE FS:CREATE C:post:CREATE A:post:CREATE");
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    rec_reset();
    HANDLE vol = world_open(&f->w, L"C:", FILE_READ_ATTRIBUTES);
    assert_recorded(chain("CREATE"));
    assert_status(fltsim_io_close(f->w.sys, vol), STATUS_SUCCESS);
}

/* SPEC 3.2, V9: cleanup and close cannot fail. */
static void dispatch_failing_cleanup_is_reported(void **state)
{
    struct fixture *f = *state;
    struct behaviour b = {.major = IRP_MJ_CLEANUP,
                          .status = FLT_PREOP_COMPLETE,
                          .complete_status = STATUS_ACCESS_DENIED};
    f->b.user = &b;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V9"), 1);
}

/* SPEC 3.2, V8: COMPLETE needs a final status. */
static void dispatch_complete_with_pending_is_reported(void **state)
{
    struct fixture *f = *state;
    struct behaviour b = {
        .major = IRP_MJ_READ, .status = FLT_PREOP_COMPLETE, .complete_status = STATUS_PENDING};
    f->b.user = &b;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[16];
    LONGLONG zero = 0;
    fltsim_io_read(f->w.sys, h, buf, 4, &zero, 0, NULL);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V8"), 1);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 3.5 step 1: only filters that registered the major are nodes. */
static void dispatch_unregistered_major_skips_filter(void **state)
{
    struct fixture *f = *state;
    f->b.ops[IRP_MJ_READ].pre = false;
    f->b.ops[IRP_MJ_READ].post = false;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[16];
    LONGLONG zero = 0;
    rec_reset();
    assert_status(fltsim_io_read(f->w.sys, h, buf, 4, &zero, 0, NULL), STATUS_SUCCESS);
    assert_recorded("A:pre:READ C:pre:READ FS:READ C:post:READ A:post:READ");
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* SPEC 2.3, 3.5: for every operation code FltMgr defines (IRP majors, fast-I/O
 * and FS-filter codes), the pres run top-down, the file system is called, and
 * the posts run bottom-up. Sent through fltsim_request_dispatch directly, with
 * zeroed parameters, on an open file; create, cleanup and close are left to
 * the cases above because they change the file object's state. */
static FLT_PREOP_CALLBACK_STATUS shutdown_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                              PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)objects;
    (void)context;
    /* IRP_MJ_SHUTDOWN cannot have a post, so its pre must not ask for one. */
    return data->Iopb->MajorFunction == IRP_MJ_SHUTDOWN ? FLT_PREOP_SUCCESS_NO_CALLBACK
                                                        : FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static void dispatch_every_operation_code_follows_altitude_order(void **state)
{
    struct fixture *f = *state;
    f->a.pre = f->b.pre = f->c.pre = shutdown_pre;
    load_all(f);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    PFILE_OBJECT fo = fltsim_io_file_object(f->w.sys, h);
    int codes = 0;
    for (int major = 0; major < 256; major++) {
        const char *name = fltsim_major_name((UCHAR)major);
        if (name == NULL || major == IRP_MJ_CREATE || major == IRP_MJ_CLEANUP ||
            major == IRP_MJ_CLOSE)
            continue;
        struct fltsim_request req;
        memset(&req, 0, sizeof(req));
        req.major = (UCHAR)major;
        req.file_object = fo;
        req.kind = FLTSIM_OP_IRP;
        if (major > IRP_MJ_MAXIMUM_FUNCTION) {
            /* FltMgr's codes: FS-filter callbacks from -1 to -7, fast I/O below. */
            req.kind = major >= IRP_MJ_QUERY_OPEN ? FLTSIM_OP_FS_FILTER : FLTSIM_OP_FAST_IO;
        }
        rec_reset();
        fltsim_request_dispatch(f->w.volume, &req);
        char expected[512];
        const char *m = tf_major((UCHAR)major);
        if (major == IRP_MJ_POWER || major == IRP_MJ_DEVICE_CHANGE)
            snprintf(expected, sizeof(expected), "FS:%s", m); /* no filter may register them */
        else if (major == IRP_MJ_SHUTDOWN)
            snprintf(expected, sizeof(expected), "A:pre:%s B:pre:%s C:pre:%s FS:%s", m, m, m, m);
        else
            snprintf(expected, sizeof(expected), "%s", chain(m));
        if (strcmp(rec_text(), expected) != 0) {
            print_error("%s:\n  recorded %s\n  expected %s\n", name, rec_text(), expected);
            fail();
        }
        codes++;
    }
    assert_int_equal(codes, 50 - 7 - 3); /* 28 + 15 named codes, less create/cleanup/close */
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(dispatch_create_pres_top_down_posts_bottom_up, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(dispatch_every_major_follows_altitude_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(dispatch_every_operation_code_follows_altitude_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(dispatch_no_callback_skips_own_post, setup, teardown),
        cmocka_unit_test_setup_teardown(dispatch_complete_skips_lower_and_runs_upper_posts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(dispatch_completion_context_reaches_post, setup, teardown),
        cmocka_unit_test_setup_teardown(dispatch_synchronize_calls_post_with_context, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(dispatch_post_only_registration_gets_post, setup, teardown),
        cmocka_unit_test_setup_teardown(dispatch_with_callback_without_post_is_reported, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(dispatch_context_with_no_callback_is_reported, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(dispatch_unknown_pre_status_is_reported_as_no_callback,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(dispatch_disallow_fastio_on_irp_is_reported, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(dispatch_fs_error_flows_up_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(dispatch_post_turns_success_into_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(dispatch_post_failing_create_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(dispatch_dirty_change_reaches_lower_filters_and_fs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(dispatch_change_without_dirty_is_ignored_and_reported,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(dispatch_callback_data_flags_match_the_operation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(dispatch_related_objects_name_the_node, setup, teardown),
        cmocka_unit_test_setup_teardown(dispatch_is_operation_synchronous_follows_the_request,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(dispatch_requestor_process_is_the_issuer, setup, teardown),
        cmocka_unit_test_setup_teardown(dispatch_skip_paging_io_skips_only_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(dispatch_skip_cached_io_skips_cached_reads, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(dispatch_skip_non_cached_non_paging_skips_user_noncached,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(dispatch_skip_non_dasd_sees_only_volume_opens, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(dispatch_failing_cleanup_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(dispatch_complete_with_pending_is_reported, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(dispatch_unregistered_major_skips_filter, setup, teardown),
    };
    return FLTSIM_RUN_SUITE("dispatch", tests);
}
