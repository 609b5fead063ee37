/*
 * The test I/O API as the I/O manager: handles, access checks and parameter
 * checks made before an IRP exists, classes answered without an IRP, renames
 * through the target directory, cleanup then close, and shutdown with handles
 * still open. One recording filter A shows what reaches the stack.
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

struct fixture {
    struct test_world w;
    struct tf_filter a;
    UCHAR create_flags;      /* OperationFlags of the last create */
    ULONG post_create_flags; /* file-object flags the last post-create saw */
    bool see_renames;        /* A looks at renames (its name queries reach FS) */
    char rename_to[64];      /* FILE_RENAME_INFORMATION.FileName of the last rename */
    NTSTATUS dest_status;    /* FltGetDestinationFileNameInformation on it */
    char dest_name[64];      /* and the name it gave */
};

static struct fixture *current;

/* An ASCII name, for assert_string_equal. */
static void narrow(char *dst, size_t room, const WCHAR *src, size_t units)
{
    if (units >= room)
        units = room - 1;
    for (size_t i = 0; i < units; i++)
        dst[i] = (char)src[i];
    dst[units] = 0;
}

/* What a filter sees of a rename: the target as given, and where
 * FltGetDestinationFileNameInformation says it is. */
static void see_rename(PFLT_CALLBACK_DATA data, PCFLT_RELATED_OBJECTS objects)
{
    const FILE_RENAME_INFORMATION *ri = data->Iopb->Parameters.SetFileInformation.InfoBuffer;
    narrow(current->rename_to, 64, ri->FileName, ri->FileNameLength / sizeof(WCHAR));
    PFLT_FILE_NAME_INFORMATION info = NULL;
    current->dest_status = FltGetDestinationFileNameInformation(
        objects->Instance, objects->FileObject, ri->RootDirectory, (PWSTR)ri->FileName,
        ri->FileNameLength, FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_DEFAULT, &info);
    current->dest_name[0] = 0;
    if (info != NULL) {
        narrow(current->dest_name, 64, info->Name.Buffer, info->Name.Length / sizeof(WCHAR));
        FltReleaseFileNameInformation(info);
    }
}

static FLT_PREOP_CALLBACK_STATUS pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                     PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)context;
    if (data->Iopb->MajorFunction == IRP_MJ_CREATE)
        current->create_flags = data->Iopb->OperationFlags;
    if (current->see_renames && data->Iopb->MajorFunction == IRP_MJ_SET_INFORMATION &&
        data->Iopb->Parameters.SetFileInformation.FileInformationClass == FileRenameInformation)
        see_rename(data, objects);
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                       PCFLT_RELATED_OBJECTS objects, PVOID context,
                                       FLT_POST_OPERATION_FLAGS flags)
{
    (void)tf;
    (void)context;
    (void)flags;
    if (data->Iopb->MajorFunction == IRP_MJ_CREATE && objects->FileObject != NULL)
        current->post_create_flags = objects->FileObject->Flags;
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    f->a.pre = pre;
    f->a.post = post;
    current = f;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    rec_trace_system(f->w.sys);
    rec_reset();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    world_destroy(&f->w);
    free(f);
    current = NULL;
    return 0;
}

/* A closed handle, a handle never issued, and closing twice. */
static void io_closed_handle_is_invalid(void **state)
{
    struct fixture *f = *state;
    fltsim_system *sys = f->w.sys;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
    rec_reset();
    char buf[8];
    LONGLONG zero = 0;
    IO_STATUS_BLOCK iosb = {{STATUS_SUCCESS}, 99};
    assert_status(fltsim_io_read(sys, h, buf, 4, &zero, 0, &iosb), STATUS_INVALID_HANDLE);
    assert_status(iosb.Status, STATUS_INVALID_HANDLE);
    assert_status(fltsim_io_close(sys, h), STATUS_INVALID_HANDLE);
    assert_status(fltsim_io_close(sys, (HANDLE)(ULONG_PTR)0x12345), STATUS_INVALID_HANDLE);
    assert_status(fltsim_io_flush(sys, NULL, NULL), STATUS_INVALID_HANDLE);
    assert_recorded(""); /* nothing reached the stack */
    assert_int_equal(fltsim_io_handle_count(sys), 0);
}

/* Handles are checked against their granted access for user-mode requestors. */
static void io_access_is_checked_before_the_irp(void **state)
{
    struct fixture *f = *state;
    fltsim_system *sys = f->w.sys;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", FILE_WRITE_DATA);
    char buf[8];
    LONGLONG zero = 0;
    rec_reset();
    assert_status(fltsim_io_read(sys, h, buf, 4, &zero, 0, NULL), STATUS_ACCESS_DENIED);
    FILE_BASIC_INFORMATION basic;
    assert_status(
        fltsim_io_query_information(sys, h, &basic, sizeof(basic), FileBasicInformation, 0, NULL),
        STATUS_ACCESS_DENIED);
    assert_status(fltsim_io_delete(sys, h, TRUE), STATUS_ACCESS_DENIED);
    assert_recorded("");
    /* Kernel-mode requestors skip the check. */
    assert_status(fltsim_io_read(sys, h, buf, 4, &zero, FLTSIM_IO_KERNEL_MODE, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
}

/* NtCreateFile's own parameter checks: nothing reaches the filters. */
static void io_create_parameter_checks(void **state)
{
    struct fixture *f = *state;
    fltsim_system *sys = f->w.sys;
    HANDLE h = NULL;
    struct fltsim_create_params p = {.path = L"C:\\a.txt",
                                     .desired_access = GENERIC_READ,
                                     .disposition = FILE_OPEN,
                                     .create_options = FILE_DELETE_ON_CLOSE};
    rec_reset();
    assert_status(fltsim_io_create(sys, &p, &h, NULL), STATUS_INVALID_PARAMETER);
    /* GENERIC_READ maps to FILE_GENERIC_READ, which includes SYNCHRONIZE;
     * FILE_READ_DATA alone does not. */
    p.desired_access = FILE_READ_DATA;
    p.create_options = FILE_SYNCHRONOUS_IO_NONALERT;
    assert_status(fltsim_io_create(sys, &p, &h, NULL), STATUS_INVALID_PARAMETER);
    p.desired_access = GENERIC_READ;
    p.create_options = FILE_DIRECTORY_FILE;
    p.disposition = FILE_OVERWRITE_IF;
    assert_status(fltsim_io_create(sys, &p, &h, NULL), STATUS_INVALID_PARAMETER);
    p.create_options = 0;
    p.disposition = 7;
    assert_status(fltsim_io_create(sys, &p, &h, NULL), STATUS_INVALID_PARAMETER);
    assert_recorded("");
    assert_null(h);

    p.disposition = FILE_OPEN;
    p.path = L"Q:\\a.txt";
    assert_status(fltsim_io_create(sys, &p, &h, NULL), STATUS_OBJECT_PATH_NOT_FOUND);
    p.path = L"relative.txt";
    assert_status(fltsim_io_create(sys, &p, &h, NULL), STATUS_OBJECT_PATH_SYNTAX_BAD);
    p.path = L"\\Device\\Nowhere\\a.txt";
    assert_status(fltsim_io_create(sys, &p, &h, NULL), STATUS_OBJECT_PATH_NOT_FOUND);
    assert_recorded("");
}

/* The forms of a path, and a name relative to a directory handle. */
static void io_create_path_forms(void **state)
{
    struct fixture *f = *state;
    fltsim_system *sys = f->w.sys;
    HANDLE h;
    h = world_open(&f->w, L"\\??\\C:\\a.txt", GENERIC_READ);
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
    h = world_open(&f->w, L"\\Device\\HarddiskVolume1\\dir\\b.txt", GENERIC_READ);
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);

    HANDLE dir = world_open(&f->w, L"C:\\dir", FILE_LIST_DIRECTORY);
    struct fltsim_create_params p = {.path = L"b.txt",
                                     .root_directory = dir,
                                     .desired_access = GENERIC_READ | SYNCHRONIZE,
                                     .share_access = FILE_SHARE_READ,
                                     .disposition = FILE_OPEN,
                                     .create_options = FILE_SYNCHRONOUS_IO_NONALERT};
    assert_status(fltsim_io_create(sys, &p, &h, NULL), STATUS_SUCCESS);
    char buf[8] = {0};
    assert_status(fltsim_io_read(sys, h, buf, 5, NULL, 0, NULL), STATUS_SUCCESS);
    assert_memory_equal(buf, "bravo", 5);
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
    assert_status(fltsim_io_close(sys, dir), STATUS_SUCCESS);

    /* C: alone opens the volume: FO_VOLUME_OPEN. */
    h = world_open(&f->w, L"C:", FILE_READ_ATTRIBUTES);
    PFILE_OBJECT fo = fltsim_io_file_object(sys, h);
    assert_non_null(fo);
    assert_true(fo->Flags & FO_VOLUME_OPEN);
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
}

/* Closing the last handle sends cleanup, then close; FO_HANDLE_CREATED is set
 * after post-create, when the handle exists (SPEC 4.5). */
static void io_close_sends_cleanup_then_close(void **state)
{
    struct fixture *f = *state;
    fltsim_system *sys = f->w.sys;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_false(f->post_create_flags & FO_HANDLE_CREATED);
    assert_true(fltsim_io_file_object(sys, h)->Flags & FO_HANDLE_CREATED);
    rec_reset();
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
    assert_recorded("A:pre:CLEANUP FS:CLEANUP A:post:CLEANUP A:pre:CLOSE FS:CLOSE A:post:CLOSE");
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
}

/* The file pointer of a synchronous file object moves with reads; the I/O
 * manager answers FilePositionInformation and FileAccessInformation itself. */
static void io_file_pointer_and_io_manager_classes(void **state)
{
    struct fixture *f = *state;
    fltsim_system *sys = f->w.sys;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[8] = {0};
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_read(sys, h, buf, 6, NULL, 0, &iosb), STATUS_SUCCESS);
    assert_status(fltsim_io_read(sys, h, buf, 5, NULL, 0, &iosb), STATUS_SUCCESS);
    assert_memory_equal(buf, "world", 5);
    rec_reset();
    FILE_POSITION_INFORMATION pos;
    assert_status(
        fltsim_io_query_information(sys, h, &pos, sizeof(pos), FilePositionInformation, 0, &iosb),
        STATUS_SUCCESS);
    assert_int_equal(pos.CurrentByteOffset.QuadPart, 11);
    FILE_ACCESS_INFORMATION access;
    assert_status(fltsim_io_query_information(sys, h, &access, sizeof(access),
                                              FileAccessInformation, 0, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(access.AccessFlags, FILE_GENERIC_READ);
    pos.CurrentByteOffset.QuadPart = 0;
    assert_status(
        fltsim_io_set_information(sys, h, &pos, sizeof(pos), FilePositionInformation, &iosb),
        STATUS_SUCCESS);
    assert_recorded(""); /* no IRP for these */
    assert_status(fltsim_io_read(sys, h, buf, 5, NULL, 0, &iosb), STATUS_SUCCESS);
    assert_memory_equal(buf, "hello", 5);
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
}

/* Information classes: unknown ones, and buffers shorter than the structure. */
static void io_information_class_checks(void **state)
{
    struct fixture *f = *state;
    fltsim_system *sys = f->w.sys;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[64];
    rec_reset();
    assert_status(
        fltsim_io_query_information(sys, h, buf, sizeof(buf), (FILE_INFORMATION_CLASS)0, 0, NULL),
        STATUS_INVALID_INFO_CLASS);
    assert_status(
        fltsim_io_query_information(sys, h, buf, sizeof(buf), FileMaximumInformation, 0, NULL),
        STATUS_INVALID_INFO_CLASS);
    assert_status(fltsim_io_query_information(sys, h, buf, 8, FileBasicInformation, 0, NULL),
                  STATUS_INFO_LENGTH_MISMATCH);
    assert_recorded("");
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
}

/* A rename to a fully qualified name opens the target directory through the
 * stack with SL_OPEN_TARGET_DIRECTORY, then sends the rename. */
static void io_rename_opens_target_directory(void **state)
{
    struct fixture *f = *state;
    fltsim_system *sys = f->w.sys;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", DELETE);
    rec_reset();
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_rename(sys, h, L"C:\\dir\\moved.txt", FALSE, &iosb), STATUS_SUCCESS);
    assert_recorded("A:pre:CREATE FS:CREATE A:post:CREATE "
                    "A:pre:SET_INFORMATION FS:SET_INFORMATION A:post:SET_INFORMATION "
                    "A:pre:CLEANUP FS:CLEANUP A:post:CLEANUP A:pre:CLOSE FS:CLOSE A:post:CLOSE");
    assert_int_equal(f->create_flags, SL_OPEN_TARGET_DIRECTORY);
    struct fltsim_memfs_stat st;
    assert_status(fltsim_memfs_stat(f->w.fs, L"\\dir\\moved.txt", &st), STATUS_SUCCESS);
    assert_true(st.exists);
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
}

/* A drive-letter target reaches the filters as the NT path \??\C:\..., as
 * MoveFileEx sends it, which FltGetDestinationFileNameInformation resolves
 * (issue 17: NameChanger's pre-rename asks it); an NT path goes as it is. */
static void io_rename_target_is_an_nt_path(void **state)
{
    struct fixture *f = *state;
    fltsim_system *sys = f->w.sys;
    f->see_renames = true;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", DELETE);
    assert_status(fltsim_io_rename(sys, h, L"C:\\dir\\moved.txt", FALSE, NULL), STATUS_SUCCESS);
    assert_string_equal(f->rename_to, "\\??\\C:\\dir\\moved.txt");
    assert_status(f->dest_status, STATUS_SUCCESS);
    assert_string_equal(f->dest_name, "\\Device\\HarddiskVolume1\\dir\\moved.txt");
    struct fltsim_memfs_stat st;
    assert_status(fltsim_memfs_stat(f->w.fs, L"\\dir\\moved.txt", &st), STATUS_SUCCESS);
    assert_true(st.exists);
    assert_status(fltsim_io_rename(sys, h, L"\\??\\C:\\a.txt", FALSE, NULL), STATUS_SUCCESS);
    assert_string_equal(f->rename_to, "\\??\\C:\\a.txt");
    assert_status(f->dest_status, STATUS_SUCCESS);
    assert_string_equal(f->dest_name, "\\Device\\HarddiskVolume1\\a.txt");
    assert_status(fltsim_memfs_stat(f->w.fs, L"\\a.txt", &st), STATUS_SUCCESS);
    assert_true(st.exists);
    /* A bare name stays bare. */
    assert_status(fltsim_io_rename(sys, h, L"b.txt", FALSE, NULL), STATUS_SUCCESS);
    assert_string_equal(f->rename_to, "b.txt");
    assert_string_equal(f->dest_name, "\\Device\\HarddiskVolume1\\b.txt");
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(sys), 0);
}

/* The I/O manager refuses a rename onto an existing name without
 * ReplaceIfExists before the file system sees it. */
static void io_rename_collision_is_refused_by_io_manager(void **state)
{
    struct fixture *f = *state;
    fltsim_system *sys = f->w.sys;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", DELETE);
    rec_reset();
    assert_status(fltsim_io_rename(sys, h, L"C:\\dir\\b.txt", FALSE, NULL),
                  STATUS_OBJECT_NAME_COLLISION);
    assert_recorded("A:pre:CREATE FS:CREATE A:post:CREATE "
                    "A:pre:CLEANUP FS:CLEANUP A:post:CLEANUP A:pre:CLOSE FS:CLOSE A:post:CLOSE");
    assert_status(fltsim_io_rename(sys, h, L"C:\\dir\\b.txt", TRUE, NULL), STATUS_SUCCESS);
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
}

/* A simple name renames in place without opening anything. */
static void io_rename_simple_name(void **state)
{
    struct fixture *f = *state;
    fltsim_system *sys = f->w.sys;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", DELETE);
    rec_reset();
    assert_status(fltsim_io_rename(sys, h, L"c.txt", FALSE, NULL), STATUS_SUCCESS);
    assert_recorded("A:pre:SET_INFORMATION FS:SET_INFORMATION A:post:SET_INFORMATION");
    struct fltsim_memfs_stat st;
    assert_status(fltsim_memfs_stat(f->w.fs, L"\\c.txt", &st), STATUS_SUCCESS);
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
}

/* Delete disposition through the stack; the file goes at the last cleanup. */
static void io_delete_removes_file_at_last_cleanup(void **state)
{
    struct fixture *f = *state;
    fltsim_system *sys = f->w.sys;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", DELETE);
    assert_status(fltsim_io_delete(sys, h, TRUE), STATUS_SUCCESS);
    HANDLE again = NULL;
    assert_status(fltsim_io_open(sys, L"C:\\a.txt", GENERIC_READ, &again), STATUS_DELETE_PENDING);
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
    assert_status(fltsim_io_open(sys, L"C:\\a.txt", GENERIC_READ, &again),
                  STATUS_OBJECT_NAME_NOT_FOUND);
}

/* fltsim_system_destroy closes what a test left open, through the filters. */
static void io_shutdown_closes_leaked_handles(void **state)
{
    struct fixture *f = *state;
    (void)world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    (void)world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ);
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 2);
    rec_reset();
    fltsim_system_destroy(f->w.sys);
    f->w.sys = NULL;
    /* Cleanup and close of both files reached A before it was unloaded. */
    assert_non_null(strstr(rec_text(), "A:post:CLEANUP A:pre:CLOSE"));
    assert_non_null(strstr(rec_text(), "A:unload"));
    char *first = strstr(rec_text(), "CLOSE");
    char *unload = strstr(rec_text(), "A:unload");
    assert_true(first < unload);
    assert_int_equal(fltsim_pool_outstanding(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(io_closed_handle_is_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(io_access_is_checked_before_the_irp, setup, teardown),
        cmocka_unit_test_setup_teardown(io_create_parameter_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(io_create_path_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(io_close_sends_cleanup_then_close, setup, teardown),
        cmocka_unit_test_setup_teardown(io_file_pointer_and_io_manager_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(io_information_class_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(io_rename_opens_target_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(io_rename_target_is_an_nt_path, setup, teardown),
        cmocka_unit_test_setup_teardown(io_rename_collision_is_refused_by_io_manager, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(io_rename_simple_name, setup, teardown),
        cmocka_unit_test_setup_teardown(io_delete_removes_file_at_last_cleanup, setup, teardown),
        cmocka_unit_test_setup_teardown(io_shutdown_closes_leaked_handles, setup, teardown),
    };
    return FLTSIM_RUN_SUITE("io", tests);
}
