/*
 * The operations added for capture replay (fltsim/io.h): query open, volume
 * information, byte-range locks, file-system and device controls, EAs,
 * security, the mod-write and cc-flush callbacks, FLTSIM_IO_FAST_ONLY, and the
 * NTFS answers to section synchronization. Every case runs on memfs and on
 * hostfs (the rules live once in fs_shared.c), under both executors. A
 * recording filter A keeps what each pre-operation callback saw.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fltsim_test.h"

#include <fltsim/hostfs.h>

/* What A's pre saw of the last operation of one code. */
struct seen {
    ULONG count;
    UCHAR minor, operation_flags;
    ULONG flags; /* FLT_CALLBACK_DATA Flags */
    FLT_PARAMETERS p;
    LONGLONG lock_length;  /* *LockControl.Length, -1 when NULL */
    LONGLONG ending;       /* *AcquireForModifiedPageWriter.EndingOffset */
    bool has_resource_out; /* AcquireForModifiedPageWriter.ResourceToRelease != NULL */
    char name[64];         /* TargetFileObject->FileName */
    NTSTATUS post_status;  /* IoStatus.Status in A's post */
    /* IRP_MJ_NETWORK_QUERY_OPEN: its create IRP's stack location */
    UCHAR query_open_major;
    bool query_open_same_file;
    ULONG query_open_options;
    ACCESS_MASK query_open_access;
    NTSTATUS query_open_name_status; /* FltGetFileNameInformation there */
    char query_open_name[64];
};

struct fixture {
    bool hostfs;
    fltsim_system *sys;
    struct test_world w; /* memfs */
    char dir[256];       /* hostfs root */
    struct tf_filter a;
    struct seen seen[256];
    bool complete_query_open; /* A completes IRP_MJ_NETWORK_QUERY_OPEN in pre */
    bool probe_object_id;     /* A asks FSCTL_GET_OBJECT_ID in post-cleanup */
    NTSTATUS object_id_status; /* ... and gets this */
};

static void remember(struct fixture *f, PFLT_CALLBACK_DATA data)
{
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    struct seen *s = &f->seen[iopb->MajorFunction];
    s->count++;
    s->minor = iopb->MinorFunction;
    s->operation_flags = iopb->OperationFlags;
    s->flags = data->Flags;
    s->p = iopb->Parameters;
    if (iopb->MajorFunction == IRP_MJ_LOCK_CONTROL)
        s->lock_length = iopb->Parameters.LockControl.Length != NULL
                             ? iopb->Parameters.LockControl.Length->QuadPart
                             : -1;
    if (iopb->MajorFunction == IRP_MJ_ACQUIRE_FOR_MOD_WRITE) {
        s->ending = iopb->Parameters.AcquireForModifiedPageWriter.EndingOffset->QuadPart;
        s->has_resource_out =
            iopb->Parameters.AcquireForModifiedPageWriter.ResourceToRelease != NULL;
    }
    if (iopb->MajorFunction == IRP_MJ_NETWORK_QUERY_OPEN &&
        iopb->Parameters.NetworkQueryOpen.Irp != NULL) {
        /* What simrep reads (IoGetCurrentIrpStackLocation) during the call. */
        PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(iopb->Parameters.NetworkQueryOpen.Irp);
        s->query_open_major = sp->MajorFunction;
        s->query_open_same_file = sp->FileObject == iopb->TargetFileObject;
        s->query_open_options = sp->Parameters.Create.Options;
        s->query_open_access = sp->Parameters.Create.SecurityContext->DesiredAccess;
        /* Its name, as in pre-create (what simrep compares with its mapping). */
        PFLT_FILE_NAME_INFORMATION info = NULL;
        s->query_open_name_status = FltGetFileNameInformation(
            data, FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_DEFAULT, &info);
        s->query_open_name[0] = '\0';
        if (NT_SUCCESS(s->query_open_name_status)) {
            fltsim_utf16_to_utf8(info->Name.Buffer, info->Name.Length / sizeof(WCHAR),
                                 s->query_open_name, sizeof(s->query_open_name));
            FltReleaseFileNameInformation(info);
        }
    }
    s->name[0] = '\0';
    PFILE_OBJECT fo = iopb->TargetFileObject;
    if (fo != NULL && fo->FileName.Buffer != NULL)
        fltsim_utf16_to_utf8(fo->FileName.Buffer, fo->FileName.Length / sizeof(WCHAR), s->name,
                             sizeof(s->name));
}

static FLT_PREOP_CALLBACK_STATUS pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                     PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    struct fixture *f = tf->user;
    (void)objects;
    (void)context;
    remember(f, data);
    if (data->Iopb->MajorFunction == IRP_MJ_NETWORK_QUERY_OPEN && f->complete_query_open) {
        PFILE_NETWORK_OPEN_INFORMATION info =
            data->Iopb->Parameters.NetworkQueryOpen.NetworkInformation;
        memset(info, 0, sizeof(*info));
        info->CreationTime.QuadPart = 11;
        info->LastWriteTime.QuadPart = 33;
        info->EndOfFile.QuadPart = 5;
        info->FileAttributes = FILE_ATTRIBUTE_ARCHIVE;
        data->IoStatus.Status = STATUS_SUCCESS;
        data->IoStatus.Information = sizeof(*info);
        return FLT_PREOP_COMPLETE;
    }
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                       PCFLT_RELATED_OBJECTS objects, PVOID context,
                                       FLT_POST_OPERATION_FLAGS flags)
{
    struct fixture *f = tf->user;
    (void)context;
    (void)flags;
    f->seen[data->Iopb->MajorFunction].post_status = data->IoStatus.Status;
    if (data->Iopb->MajorFunction == IRP_MJ_CLEANUP && f->probe_object_id) {
        /* The delete sample's test: was the file deleted, or one stream? */
        FILE_OBJECTID_BUFFER id;
        f->object_id_status = FltFsControlFile(objects->Instance, data->Iopb->TargetFileObject,
                                               FSCTL_GET_OBJECT_ID, NULL, 0, &id, sizeof(id), NULL);
    }
    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* ---- fixtures: the same world on memfs and on hostfs ---- */

static void host_write(const char *dir, const char *rel, const char *data)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(data, fp);
    fclose(fp);
}

static int setup_common(void **state, bool hostfs)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->hostfs = hostfs;
    tf_reset_all();
    rec_reset();
    if (!hostfs) {
        world_create(&f->w, 0);
        f->sys = f->w.sys;
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(f->dir, sizeof(f->dir), "%s/fltsim-ioops-XXXXXX",
                 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
        assert_non_null(mkdtemp(f->dir));
        host_write(f->dir, "a.txt", "hello world");
        char sub[300];
        snprintf(sub, sizeof(sub), "%s/empty", f->dir);
        assert_int_equal(mkdir(sub, 0700), 0);
        struct fltsim_system_options o = test_options(0);
        assert_status(fltsim_system_create(&o, &f->sys), STATUS_SUCCESS);
        struct fltsim_hostfs *fs;
        assert_status(fltsim_hostfs_create(f->dir, NULL, &fs), STATUS_SUCCESS);
        struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume1",
                                          .drive_letter = L'C',
                                          .ops = &fltsim_hostfs_ops,
                                          .fs = fs,
                                          .fs_type = FLT_FSTYPE_NTFS};
        PFLT_VOLUME volume;
        assert_status(fltsim_volume_mount(f->sys, &vp, &volume), STATUS_SUCCESS);
    }
    tf_init(&f->a, "A", "300000");
    f->a.pre = pre;
    f->a.post = post;
    f->a.user = f;
    assert_status(tf_load(f->sys, &f->a), STATUS_SUCCESS);
    *state = f;
    return 0;
}

static int setup_memfs(void **state)
{
    return setup_common(state, false);
}

static int setup_hostfs(void **state)
{
    return setup_common(state, true);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (!f->hostfs) {
        world_destroy(&f->w);
    } else {
        fltsim_system_destroy(f->sys);
        char path[512];
        snprintf(path, sizeof(path), "%s/a.txt", f->dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/empty", f->dir);
        rmdir(path);
        rmdir(f->dir);
    }
    tf_reset_all();
    free(f);
    return 0;
}

static HANDLE open_as(struct fixture *f, PCWSTR path, ACCESS_MASK access)
{
    HANDLE h = NULL;
    assert_status(fltsim_io_open(f->sys, path, access, &h), STATUS_SUCCESS);
    return h;
}

/* ---- byte-range locks ---- */

/* FsRtl's rules: shared locks overlap shared ones, exclusive ones nothing;
 * a shared lock keeps even its owner from writing; reads conflict only with
 * another owner's exclusive lock; unlock needs the exact range. */
static void ioops_lock_conflicts_follow_fsrtl(void **state)
{
    struct fixture *f = *state;
    IO_STATUS_BLOCK iosb;
    char buf[4];
    HANDLE r = open_as(f, L"C:\\a.txt", GENERIC_READ);
    HANDLE w = open_as(f, L"C:\\a.txt", GENERIC_READ | GENERIC_WRITE);

    /* A shared lock by fast I/O: FastIoLock with its parameters. */
    assert_status(fltsim_io_lock(f->sys, r, 2, 4, 7, TRUE, FALSE, FLTSIM_IO_FAST_ONLY, &iosb),
                  STATUS_SUCCESS);
    struct seen *s = &f->seen[IRP_MJ_LOCK_CONTROL];
    assert_true(s->flags & FLTFL_CALLBACK_DATA_FAST_IO_OPERATION);
    assert_int_equal(s->minor, IRP_MN_LOCK);
    assert_int_equal(s->lock_length, 4);
    assert_int_equal(s->p.LockControl.ByteOffset.QuadPart, 2);
    assert_int_equal(s->p.LockControl.Key, 7);
    assert_true(s->p.LockControl.FailImmediately);
    assert_false(s->p.LockControl.ExclusiveLock);

    /* Another shared lock overlapping: granted. An exclusive one: refused,
     * by IRP with the SL_ flags; waiting is not modeled (refused too). */
    assert_status(fltsim_io_lock(f->sys, w, 0, 3, 0, TRUE, FALSE, 0, &iosb), STATUS_SUCCESS);
    assert_status(fltsim_io_lock(f->sys, w, 5, 1, 0, TRUE, TRUE, 0, &iosb),
                  STATUS_LOCK_NOT_GRANTED);
    assert_true(s->flags & FLTFL_CALLBACK_DATA_IRP_OPERATION);
    assert_int_equal(s->operation_flags, SL_FAIL_IMMEDIATELY | SL_EXCLUSIVE_LOCK);
    assert_status(fltsim_io_lock(f->sys, w, 5, 1, 0, FALSE, TRUE, 0, &iosb),
                  STATUS_LOCK_NOT_GRANTED);
    assert_int_equal(s->operation_flags, SL_EXCLUSIVE_LOCK);
    /* Zero-length locks overlap nothing; an exclusive lock elsewhere is fine. */
    assert_status(fltsim_io_lock(f->sys, w, 3, 0, 0, TRUE, TRUE, 0, &iosb), STATUS_SUCCESS);
    assert_status(fltsim_io_lock(f->sys, w, 8, 2, 0, TRUE, TRUE, 0, &iosb), STATUS_SUCCESS);

    /* Reads and writes against the locks (non-paging I/O only). */
    LONGLONG at = 3;
    assert_status(fltsim_io_write(f->sys, w, "X", 1, &at, 0, &iosb), STATUS_FILE_LOCK_CONFLICT);
    assert_status(fltsim_io_read(f->sys, w, buf, 1, &at, 0, &iosb), STATUS_SUCCESS);
    at = 8;
    assert_status(fltsim_io_read(f->sys, r, buf, 1, &at, 0, &iosb), STATUS_FILE_LOCK_CONFLICT);
    assert_status(fltsim_io_read(f->sys, r, buf, 1, &at, FLTSIM_IO_FAST_ONLY, &iosb),
                  STATUS_FLT_DISALLOW_FAST_IO);
    assert_status(fltsim_io_read(f->sys, w, buf, 1, &at, 0, &iosb), STATUS_SUCCESS);
    assert_status(fltsim_io_read(f->sys, r, buf, 1, &at, FLTSIM_IO_PAGING, &iosb), STATUS_SUCCESS);

    /* Unlock: the exact range of this owner, else STATUS_RANGE_NOT_LOCKED. */
    assert_status(fltsim_io_unlock(f->sys, r, IRP_MN_UNLOCK_SINGLE, 2, 3, 7, 0, &iosb),
                  STATUS_RANGE_NOT_LOCKED);
    assert_status(fltsim_io_unlock(f->sys, r, IRP_MN_UNLOCK_SINGLE, 2, 4, 0, 0, &iosb),
                  STATUS_RANGE_NOT_LOCKED);
    assert_status(fltsim_io_unlock(f->sys, w, IRP_MN_UNLOCK_SINGLE, 2, 4, 7, 0, &iosb),
                  STATUS_RANGE_NOT_LOCKED);
    assert_status(fltsim_io_unlock(f->sys, r, IRP_MN_UNLOCK_SINGLE, 2, 4, 7, FLTSIM_IO_FAST, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(s->minor, IRP_MN_UNLOCK_SINGLE);
    assert_true(s->flags & FLTFL_CALLBACK_DATA_FAST_IO_OPERATION);
    assert_status(fltsim_io_unlock(f->sys, w, IRP_MN_UNLOCK_SINGLE, 0, 3, 0, 0, &iosb),
                  STATUS_SUCCESS);
    at = 3;
    assert_status(fltsim_io_write(f->sys, w, "X", 1, &at, 0, &iosb), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->sys, r), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->sys, w), STATUS_SUCCESS);
}

/* Unlock all, by key, and the release of a file object's locks at cleanup. */
static void ioops_unlock_all_by_key_and_cleanup_release_locks(void **state)
{
    struct fixture *f = *state;
    IO_STATUS_BLOCK iosb;
    HANDLE a = open_as(f, L"C:\\a.txt", GENERIC_READ);
    HANDLE b = open_as(f, L"C:\\a.txt", GENERIC_READ);
    assert_status(fltsim_io_lock(f->sys, a, 0, 1, 1, TRUE, TRUE, 0, &iosb), STATUS_SUCCESS);
    assert_status(fltsim_io_lock(f->sys, a, 1, 1, 2, TRUE, TRUE, 0, &iosb), STATUS_SUCCESS);
    assert_status(fltsim_io_lock(f->sys, a, 2, 1, 2, TRUE, TRUE, 0, &iosb), STATUS_SUCCESS);

    assert_status(fltsim_io_unlock(f->sys, a, IRP_MN_UNLOCK_ALL_BY_KEY, 0, 0, 1, 0, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(f->seen[IRP_MJ_LOCK_CONTROL].lock_length, -1);
    assert_status(fltsim_io_lock(f->sys, b, 0, 1, 0, TRUE, TRUE, 0, &iosb), STATUS_SUCCESS);
    assert_status(fltsim_io_lock(f->sys, b, 1, 1, 0, TRUE, TRUE, 0, &iosb),
                  STATUS_LOCK_NOT_GRANTED);
    /* Unlock all of b's: a's key-2 locks stay. */
    assert_status(
        fltsim_io_unlock(f->sys, b, IRP_MN_UNLOCK_ALL, 0, 0, 0, FLTSIM_IO_FAST_ONLY, &iosb),
        STATUS_SUCCESS);
    assert_int_equal(f->seen[IRP_MJ_LOCK_CONTROL].minor, IRP_MN_UNLOCK_ALL);
    assert_status(fltsim_io_lock(f->sys, b, 0, 2, 0, TRUE, TRUE, 0, &iosb),
                  STATUS_LOCK_NOT_GRANTED);
    /* Closing a's handle (cleanup) drops its locks. */
    assert_status(fltsim_io_close(f->sys, a), STATUS_SUCCESS);
    assert_status(fltsim_io_lock(f->sys, b, 0, 3, 0, TRUE, TRUE, 0, &iosb), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->sys, b), STATUS_SUCCESS);
}

/* What the I/O manager checks before the request, and what the file system
 * refuses: a directory has no locks. */
static void ioops_lock_checks_parameters_and_access(void **state)
{
    struct fixture *f = *state;
    IO_STATUS_BLOCK iosb;
    HANDLE h = open_as(f, L"C:\\a.txt", GENERIC_READ);
    HANDLE attr = open_as(f, L"C:\\a.txt", FILE_READ_ATTRIBUTES);
    HANDLE d = open_as(f, L"C:\\empty", GENERIC_READ);
    f->seen[IRP_MJ_LOCK_CONTROL].count = 0;
    assert_status(fltsim_io_lock(f->sys, h, -1, 1, 0, TRUE, TRUE, 0, &iosb),
                  STATUS_INVALID_PARAMETER);
    assert_status(fltsim_io_lock(f->sys, h, 0, -1, 0, TRUE, TRUE, 0, &iosb),
                  STATUS_INVALID_PARAMETER);
    assert_status(fltsim_io_lock(f->sys, h, 0, 1, 0, TRUE, TRUE, FLTSIM_IO_PAGING, &iosb),
                  STATUS_INVALID_PARAMETER);
    assert_status(fltsim_io_unlock(f->sys, h, IRP_MN_LOCK, 0, 1, 0, 0, &iosb),
                  STATUS_INVALID_PARAMETER);
    assert_status(fltsim_io_lock(f->sys, attr, 0, 1, 0, TRUE, TRUE, 0, &iosb),
                  STATUS_ACCESS_DENIED);
    assert_status(fltsim_io_lock(f->sys, NULL, 0, 1, 0, TRUE, TRUE, 0, &iosb),
                  STATUS_INVALID_HANDLE);
    assert_int_equal(f->seen[IRP_MJ_LOCK_CONTROL].count, 0);
    assert_status(fltsim_io_lock(f->sys, attr, 0, 1, 0, TRUE, TRUE, FLTSIM_IO_KERNEL_MODE, &iosb),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_lock(f->sys, d, 0, 1, 0, TRUE, TRUE, 0, &iosb),
                  STATUS_INVALID_DEVICE_REQUEST);
    assert_status(fltsim_io_lock(f->sys, d, 0, 1, 0, TRUE, TRUE, FLTSIM_IO_FAST_ONLY, &iosb),
                  STATUS_FLT_DISALLOW_FAST_IO);
    assert_status(fltsim_io_close(f->sys, h), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->sys, attr), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->sys, d), STATUS_SUCCESS);
}

/* ---- FS-filter callbacks ---- */

/* SPEC 3.1: NTFS answers a create-section acquire with whether writers exist. */
static void ioops_section_sync_reports_readers_or_writers(void **state)
{
    struct fixture *f = *state;
    HANDLE r = open_as(f, L"C:\\a.txt", GENERIC_READ);
    assert_status(
        fltsim_io_acquire_for_section_sync(f->sys, r, SyncTypeCreateSection, PAGE_EXECUTE_READ),
        STATUS_FILE_LOCKED_WITH_ONLY_READERS);
    assert_status(f->seen[IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION].post_status,
                  STATUS_FILE_LOCKED_WITH_ONLY_READERS);
    assert_status(fltsim_io_release_for_section_sync(f->sys, r), STATUS_SUCCESS);
    assert_status(fltsim_io_acquire_for_section_sync(f->sys, r, SyncTypeOther, 0), STATUS_SUCCESS);
    assert_status(fltsim_io_release_for_section_sync(f->sys, r), STATUS_SUCCESS);

    HANDLE app = open_as(f, L"C:\\a.txt", FILE_APPEND_DATA);
    assert_status(fltsim_io_map_section(f->sys, r, PAGE_READONLY), STATUS_FILE_LOCKED_WITH_WRITERS);
    assert_status(fltsim_io_close(f->sys, app), STATUS_SUCCESS);
    assert_status(fltsim_io_map_section(f->sys, r, PAGE_READONLY),
                  STATUS_FILE_LOCKED_WITH_ONLY_READERS);
    assert_status(fltsim_io_release_for_section_sync(f->sys, r), STATUS_INVALID_DEVICE_STATE);
    assert_status(fltsim_io_close(f->sys, r), STATUS_SUCCESS);
}

/* The modified page writer's and the cache manager's callbacks pair up. */
static void ioops_mod_write_and_cc_flush_pair_up(void **state)
{
    struct fixture *f = *state;
    HANDLE h = open_as(f, L"C:\\a.txt", GENERIC_READ | GENERIC_WRITE);
    assert_status(fltsim_io_acquire_for_mod_write(f->sys, h, 8192), STATUS_SUCCESS);
    struct seen *s = &f->seen[IRP_MJ_ACQUIRE_FOR_MOD_WRITE];
    assert_true(s->flags & FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION);
    assert_int_equal(s->ending, 8192);
    assert_true(s->has_resource_out);
    assert_status(fltsim_io_release_for_mod_write(f->sys, h), STATUS_SUCCESS);
    assert_int_equal(f->seen[IRP_MJ_RELEASE_FOR_MOD_WRITE].count, 1);
    assert_status(fltsim_io_release_for_mod_write(f->sys, h), STATUS_INVALID_DEVICE_STATE);

    assert_status(fltsim_io_acquire_for_cc_flush(f->sys, h), STATUS_SUCCESS);
    assert_status(fltsim_io_acquire_for_cc_flush(f->sys, h), STATUS_SUCCESS);
    assert_status(fltsim_io_release_for_cc_flush(f->sys, h), STATUS_SUCCESS);
    assert_status(fltsim_io_release_for_cc_flush(f->sys, h), STATUS_SUCCESS);
    assert_status(fltsim_io_release_for_cc_flush(f->sys, h), STATUS_INVALID_DEVICE_STATE);
    assert_int_equal(f->seen[IRP_MJ_ACQUIRE_FOR_CC_FLUSH].count, 2);
    assert_status(fltsim_io_acquire_for_cc_flush(f->sys, NULL), STATUS_INVALID_HANDLE);
    assert_status(fltsim_io_close(f->sys, h), STATUS_SUCCESS);
}

/* ---- query open ---- */

static void ioops_query_open_is_fast_io_the_file_system_refuses(void **state)
{
    struct fixture *f = *state;
    IO_STATUS_BLOCK iosb = {{STATUS_PENDING}, 99};
    FILE_NETWORK_OPEN_INFORMATION net;
    FILE_BASIC_INFORMATION basic;
    assert_status(fltsim_io_query_open(f->sys, L"C:\\a.txt", FileNetworkOpenInformation, &net,
                                       sizeof(net), &iosb),
                  STATUS_FLT_DISALLOW_FAST_IO);
    assert_status(iosb.Status, STATUS_FLT_DISALLOW_FAST_IO);
    struct seen *s = &f->seen[IRP_MJ_NETWORK_QUERY_OPEN];
    assert_int_equal(s->count, 1);
    assert_true(s->flags & FLTFL_CALLBACK_DATA_FAST_IO_OPERATION);
    assert_string_equal(s->name, "\\a.txt");
    assert_non_null(s->p.NetworkQueryOpen.NetworkInformation);
    /* The create IRP it stands for, its stack location on the same file
     * object (simrep checks its flags and options). */
    assert_non_null(s->p.NetworkQueryOpen.Irp);
    assert_int_equal(s->query_open_major, IRP_MJ_CREATE);
    assert_true(s->query_open_same_file);
    assert_int_equal(s->query_open_options >> 24, FILE_OPEN);
    assert_true(s->query_open_access & FILE_READ_ATTRIBUTES);
    assert_status(s->query_open_name_status, STATUS_SUCCESS);
    assert_string_equal(s->query_open_name, "\\Device\\HarddiskVolume1\\a.txt");
    /* No create, cleanup or close: the stack-based file object is not opened. */
    assert_int_equal(f->seen[IRP_MJ_CREATE].count, 0);
    assert_int_equal(f->seen[IRP_MJ_CLOSE].count, 0);

    assert_status(fltsim_io_query_open(f->sys, L"C:\\a.txt", FileStandardInformation, &net,
                                       sizeof(net), &iosb),
                  STATUS_INVALID_PARAMETER);
    assert_status(fltsim_io_query_open(f->sys, L"C:\\a.txt", FileNetworkOpenInformation, &net,
                                       sizeof(net) - 1, &iosb),
                  STATUS_INFO_LENGTH_MISMATCH);
    assert_status(fltsim_io_query_open(f->sys, L"Q:\\a.txt", FileBasicInformation, &basic,
                                       sizeof(basic), &iosb),
                  STATUS_OBJECT_PATH_NOT_FOUND);
    assert_int_equal(s->count, 1);

    /* A filter may answer it; a basic query is converted from its record. */
    f->complete_query_open = true;
    assert_status(fltsim_io_query_open(f->sys, L"C:\\a.txt", FileBasicInformation, &basic,
                                       sizeof(basic), &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(iosb.Information, sizeof(basic));
    assert_int_equal(basic.CreationTime.QuadPart, 11);
    assert_int_equal(basic.LastWriteTime.QuadPart, 33);
    assert_int_equal(basic.FileAttributes, FILE_ATTRIBUTE_ARCHIVE);
    assert_status(fltsim_io_query_open(f->sys, L"C:\\a.txt", FileNetworkOpenInformation, &net,
                                       sizeof(net), &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(net.EndOfFile.QuadPart, 5);
    assert_int_equal(fltsim_io_handle_count(f->sys), 0);
}

/* ---- controls ---- */

static void ioops_fs_controls_answer_as_a_file_system_without_reparse_points(void **state)
{
    struct fixture *f = *state;
    IO_STATUS_BLOCK iosb;
    UCHAR out[64];
    HANDLE h = open_as(f, L"C:\\a.txt", GENERIC_READ);
    assert_status(
        fltsim_io_fs_control(f->sys, h, FSCTL_GET_REPARSE_POINT, NULL, 0, out, sizeof(out), &iosb),
        STATUS_NOT_A_REPARSE_POINT);
    struct seen *s = &f->seen[IRP_MJ_FILE_SYSTEM_CONTROL];
    assert_int_equal(s->minor, IRP_MN_USER_FS_REQUEST);
    assert_int_equal(s->p.FileSystemControl.Buffered.FsControlCode, FSCTL_GET_REPARSE_POINT);
    assert_int_equal(s->p.FileSystemControl.Buffered.OutputBufferLength, sizeof(out));
    assert_true(s->flags & FLTFL_CALLBACK_DATA_SYSTEM_BUFFER);
    assert_non_null(s->p.FileSystemControl.Buffered.SystemBuffer);
    assert_ptr_not_equal(s->p.FileSystemControl.Buffered.SystemBuffer, out);
    assert_status(fltsim_io_fs_control(f->sys, h, FSCTL_IS_VOLUME_MOUNTED, NULL, 0, NULL, 0, &iosb),
                  STATUS_SUCCESS);
    assert_status(
        fltsim_io_fs_control(f->sys, h, FSCTL_REQUEST_OPLOCK_LEVEL_1, NULL, 0, NULL, 0, &iosb),
        STATUS_INVALID_DEVICE_REQUEST);
    /* A code that names write access needs it on the handle. */
    ULONG write_code = CTL_CODE(FILE_DEVICE_FILE_SYSTEM, 200, METHOD_NEITHER, FILE_WRITE_ACCESS);
    ULONG before = s->count;
    assert_status(fltsim_io_fs_control(f->sys, h, write_code, NULL, 0, out, 4, &iosb),
                  STATUS_ACCESS_DENIED);
    assert_int_equal(s->count, before);
    HANDLE w = open_as(f, L"C:\\a.txt", GENERIC_WRITE);
    assert_status(fltsim_io_fs_control(f->sys, w, write_code, NULL, 0, out, 4, &iosb),
                  STATUS_INVALID_DEVICE_REQUEST);
    assert_ptr_equal(s->p.FileSystemControl.Neither.OutputBuffer, out);
    assert_status(fltsim_io_fs_control(f->sys, w, FSCTL_IS_VOLUME_MOUNTED, NULL, 4, NULL, 0, &iosb),
                  STATUS_INVALID_PARAMETER);
    assert_status(fltsim_io_close(f->sys, w), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->sys, h), STATUS_SUCCESS);
}

/* FSCTL_GET_OBJECT_ID: no file keeps an object ID (STATUS_OBJECTID_NOT_FOUND,
 * NTFS's answer then); in the post-cleanup that deleted a file, its file
 * object gets STATUS_FILE_DELETED; a deleted named stream of a file that
 * remains gets the file's answer (memfs). */
static void ioops_object_id_tells_a_deleted_file_from_a_deleted_stream(void **state)
{
    struct fixture *f = *state;
    IO_STATUS_BLOCK iosb;
    FILE_OBJECTID_BUFFER id;
    struct fltsim_create_params p = {.path = L"C:\\a.txt",
                                     .desired_access = GENERIC_READ | DELETE,
                                     .share_access = FILE_SHARE_READ | FILE_SHARE_DELETE,
                                     .disposition = FILE_OPEN,
                                     .create_options =
                                         FILE_DELETE_ON_CLOSE | FILE_SYNCHRONOUS_IO_NONALERT};
    HANDLE h = NULL;
    assert_status(fltsim_io_create(f->sys, &p, &h, NULL), STATUS_SUCCESS);
    assert_status(
        fltsim_io_fs_control(f->sys, h, FSCTL_GET_OBJECT_ID, NULL, 0, &id, sizeof(id), &iosb),
        STATUS_OBJECTID_NOT_FOUND);
    f->probe_object_id = true;
    f->object_id_status = STATUS_PENDING;
    assert_status(fltsim_io_close(f->sys, h), STATUS_SUCCESS);
    assert_status(f->object_id_status, STATUS_FILE_DELETED);
    if (f->hostfs)
        return; /* hostfs keeps no named streams */

    /* dir\b.txt:s, made, then deleted on close: b.txt stays. */
    struct fltsim_create_params w = {.path = L"C:\\dir\\b.txt:s",
                                     .desired_access = GENERIC_WRITE | DELETE,
                                     .share_access = FILE_SHARE_READ,
                                     .disposition = FILE_CREATE,
                                     .create_options =
                                         FILE_DELETE_ON_CLOSE | FILE_SYNCHRONOUS_IO_NONALERT};
    assert_status(fltsim_io_create(f->sys, &w, &h, NULL), STATUS_SUCCESS);
    f->object_id_status = STATUS_PENDING;
    assert_status(fltsim_io_close(f->sys, h), STATUS_SUCCESS);
    assert_status(f->object_id_status, STATUS_OBJECTID_NOT_FOUND);
    h = open_as(f, L"C:\\dir\\b.txt", GENERIC_READ);
    assert_status(fltsim_io_close(f->sys, h), STATUS_SUCCESS);
}

static void ioops_device_control_fast_path_is_refused_then_irp_fails(void **state)
{
    struct fixture *f = *state;
    IO_STATUS_BLOCK iosb;
    UCHAR out[32];
    const ULONG code = 0x004D0008; /* IOCTL_MOUNTDEV_QUERY_DEVICE_NAME */
    HANDLE h = open_as(f, L"C:\\a.txt", GENERIC_READ);
    struct seen *s = &f->seen[IRP_MJ_DEVICE_CONTROL];
    assert_status(fltsim_io_device_control(f->sys, h, code, NULL, 0, out, sizeof(out),
                                           FLTSIM_IO_FAST_ONLY, &iosb),
                  STATUS_FLT_DISALLOW_FAST_IO);
    assert_int_equal(s->count, 1);
    assert_true(s->flags & FLTFL_CALLBACK_DATA_FAST_IO_OPERATION);
    assert_ptr_equal(s->p.DeviceIoControl.FastIo.OutputBuffer, out);
    assert_int_equal(s->p.DeviceIoControl.FastIo.IoControlCode, code);
    /* FLTSIM_IO_FAST: the refusal is followed by the IRP. */
    assert_status(
        fltsim_io_device_control(f->sys, h, code, NULL, 0, out, sizeof(out), FLTSIM_IO_FAST, &iosb),
        STATUS_INVALID_DEVICE_REQUEST);
    assert_int_equal(s->count, 3);
    assert_true(s->flags & FLTFL_CALLBACK_DATA_IRP_OPERATION);
    assert_status(fltsim_io_device_control(f->sys, h, code, NULL, 0, out, sizeof(out), 0, &iosb),
                  STATUS_INVALID_DEVICE_REQUEST);
    assert_int_equal(s->count, 4);
    assert_status(fltsim_io_device_control(f->sys, h, code, NULL, 0, out, sizeof(out),
                                           FLTSIM_IO_PAGING, &iosb),
                  STATUS_INVALID_PARAMETER);
    assert_status(fltsim_io_close(f->sys, h), STATUS_SUCCESS);
}

/* ---- EAs, security, volume information ---- */

static void ioops_query_ea_finds_none(void **state)
{
    struct fixture *f = *state;
    IO_STATUS_BLOCK iosb;
    UCHAR buf[128];
    HANDLE h = open_as(f, L"C:\\a.txt", GENERIC_READ);
    assert_status(fltsim_io_query_ea(f->sys, h, buf, sizeof(buf), TRUE, &iosb),
                  STATUS_NO_EAS_ON_FILE);
    assert_int_equal(f->seen[IRP_MJ_QUERY_EA].operation_flags, SL_RESTART_SCAN);
    assert_int_equal(f->seen[IRP_MJ_QUERY_EA].p.QueryEa.Length, sizeof(buf));
    HANDLE attr = open_as(f, L"C:\\a.txt", FILE_READ_ATTRIBUTES);
    assert_status(fltsim_io_query_ea(f->sys, attr, buf, sizeof(buf), FALSE, &iosb),
                  STATUS_ACCESS_DENIED);
    assert_status(fltsim_io_close(f->sys, attr), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->sys, h), STATUS_SUCCESS);
}

static void ioops_query_security_reports_the_size_needed(void **state)
{
    struct fixture *f = *state;
    IO_STATUS_BLOCK iosb;
    UCHAR buf[128];
    const ULONG what =
        OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;
    HANDLE h = open_as(f, L"C:\\a.txt", GENERIC_READ);
    assert_status(fltsim_io_query_security(f->sys, h, what, buf, 16, &iosb),
                  STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(iosb.Information, 48);
    assert_status(f->seen[IRP_MJ_QUERY_SECURITY].post_status, STATUS_BUFFER_OVERFLOW);
    assert_int_equal(f->seen[IRP_MJ_QUERY_SECURITY].p.QuerySecurity.SecurityInformation, what);
    memset(buf, 0xAA, sizeof(buf));
    assert_status(fltsim_io_query_security(f->sys, h, what, buf, sizeof(buf), &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 48);
    SECURITY_DESCRIPTOR_RELATIVE sd;
    memcpy(&sd, buf, sizeof(sd));
    assert_int_equal(sd.Revision, SECURITY_DESCRIPTOR_REVISION);
    assert_int_equal(sd.Control, SE_SELF_RELATIVE);
    assert_int_equal(sd.Owner, 20);
    assert_int_equal(sd.Group, 36);
    assert_int_equal(sd.Dacl, 0);
    static const UCHAR admins[] = {1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0};
    assert_memory_equal(buf + 20, admins, sizeof(admins));
    /* Owner only: a smaller descriptor. */
    assert_status(
        fltsim_io_query_security(f->sys, h, OWNER_SECURITY_INFORMATION, buf, sizeof(buf), &iosb),
        STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 36);
    /* The SACL needs ACCESS_SYSTEM_SECURITY; the rest READ_CONTROL. */
    assert_status(
        fltsim_io_query_security(f->sys, h, SACL_SECURITY_INFORMATION, buf, sizeof(buf), &iosb),
        STATUS_ACCESS_DENIED);
    HANDLE attr = open_as(f, L"C:\\a.txt", FILE_READ_ATTRIBUTES);
    assert_status(fltsim_io_query_security(f->sys, attr, what, buf, sizeof(buf), &iosb),
                  STATUS_ACCESS_DENIED);
    assert_status(fltsim_io_close(f->sys, attr), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->sys, h), STATUS_SUCCESS);
}

static void ioops_set_security_validates_the_descriptor(void **state)
{
    struct fixture *f = *state;
    IO_STATUS_BLOCK iosb;
    UCHAR sd_buf[64];
    memset(sd_buf, 0, sizeof(sd_buf));
    SECURITY_DESCRIPTOR_RELATIVE sd = {.Revision = SECURITY_DESCRIPTOR_REVISION,
                                       .Control = SE_SELF_RELATIVE | SE_DACL_PRESENT,
                                       .Dacl = 20};
    ACL acl = {.AclRevision = 2, .AclSize = sizeof(ACL)};
    memcpy(sd_buf, &sd, sizeof(sd));
    memcpy(sd_buf + 20, &acl, sizeof(acl));
    HANDLE h = open_as(f, L"C:\\a.txt", WRITE_DAC);
    assert_status(fltsim_io_set_security(f->sys, h, DACL_SECURITY_INFORMATION, sd_buf, 28, &iosb),
                  STATUS_SUCCESS);
    struct seen *s = &f->seen[IRP_MJ_SET_SECURITY];
    assert_int_equal(s->p.SetSecurity.SecurityInformation, DACL_SECURITY_INFORMATION);
    assert_ptr_not_equal(s->p.SetSecurity.SecurityDescriptor, sd_buf); /* captured */
    ULONG before = s->count;
    /* The ACL does not fit in the length given; a bad revision; no owner right. */
    assert_status(fltsim_io_set_security(f->sys, h, DACL_SECURITY_INFORMATION, sd_buf, 27, &iosb),
                  STATUS_INVALID_SECURITY_DESCR);
    sd_buf[0] = 2;
    assert_status(fltsim_io_set_security(f->sys, h, DACL_SECURITY_INFORMATION, sd_buf, 28, &iosb),
                  STATUS_INVALID_SECURITY_DESCR);
    sd_buf[0] = 1;
    assert_status(fltsim_io_set_security(f->sys, h, OWNER_SECURITY_INFORMATION, sd_buf, 28, &iosb),
                  STATUS_ACCESS_DENIED);
    assert_int_equal(s->count, before);
    assert_status(fltsim_io_close(f->sys, h), STATUS_SUCCESS);
}

static void ioops_query_volume_information_checks_class_and_length(void **state)
{
    struct fixture *f = *state;
    IO_STATUS_BLOCK iosb;
    FILE_FS_DEVICE_INFORMATION dev;
    UCHAR buf[256];
    HANDLE h = open_as(f, L"C:\\a.txt", GENERIC_READ);
    assert_status(fltsim_io_query_volume_information(f->sys, h, &dev, sizeof(dev),
                                                     FileFsDeviceInformation, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(iosb.Information, sizeof(dev));
    assert_int_equal(dev.DeviceType, FILE_DEVICE_DISK);
    struct seen *s = &f->seen[IRP_MJ_QUERY_VOLUME_INFORMATION];
    assert_true(s->flags & FLTFL_CALLBACK_DATA_SYSTEM_BUFFER);
    assert_int_equal(s->p.QueryVolumeInformation.FsInformationClass, FileFsDeviceInformation);
    assert_status(fltsim_io_query_volume_information(f->sys, h, buf, sizeof(buf),
                                                     FileFsAttributeInformation, &iosb),
                  STATUS_SUCCESS);
    ULONG before = s->count;
    assert_status(fltsim_io_query_volume_information(f->sys, h, &dev, sizeof(dev) - 1,
                                                     FileFsDeviceInformation, &iosb),
                  STATUS_INFO_LENGTH_MISMATCH);
    assert_status(fltsim_io_query_volume_information(f->sys, h, buf, sizeof(buf),
                                                     FileFsMaximumInformation, &iosb),
                  STATUS_INVALID_INFO_CLASS);
    assert_int_equal(s->count, before);
    assert_status(fltsim_io_close(f->sys, h), STATUS_SUCCESS);
}

/* ---- FLTSIM_IO_FAST_ONLY on reads, writes and queries ---- */

static void ioops_fast_only_never_sends_the_irp(void **state)
{
    struct fixture *f = *state;
    IO_STATUS_BLOCK iosb;
    char buf[8];
    LONGLONG at = 0;
    HANDLE h = open_as(f, L"C:\\a.txt", GENERIC_READ | GENERIC_WRITE);
    assert_status(fltsim_io_read(f->sys, h, buf, 5, &at, FLTSIM_IO_FAST_ONLY, &iosb),
                  STATUS_SUCCESS);
    assert_memory_equal(buf, "hello", 5);
    assert_true(f->seen[IRP_MJ_READ].flags & FLTFL_CALLBACK_DATA_FAST_IO_OPERATION);
    /* An extending write is refused by the fast path and not retried. */
    at = 11;
    ULONG writes = f->seen[IRP_MJ_WRITE].count;
    assert_status(fltsim_io_write(f->sys, h, "!", 1, &at, FLTSIM_IO_FAST_ONLY, &iosb),
                  STATUS_FLT_DISALLOW_FAST_IO);
    assert_int_equal(f->seen[IRP_MJ_WRITE].count, writes + 1);
    FILE_STANDARD_INFORMATION std;
    assert_status(fltsim_io_query_information(f->sys, h, &std, sizeof(std), FileStandardInformation,
                                              FLTSIM_IO_FAST_ONLY, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(std.EndOfFile.QuadPart, 11);
    assert_true(f->seen[IRP_MJ_QUERY_INFORMATION].flags & FLTFL_CALLBACK_DATA_FAST_IO_OPERATION);
    /* No fast routine for the class, or fast I/O that is not cached. */
    UCHAR name[256];
    assert_status(fltsim_io_query_information(f->sys, h, name, sizeof(name), FileNameInformation,
                                              FLTSIM_IO_FAST_ONLY, &iosb),
                  STATUS_INVALID_PARAMETER);
    at = 0;
    assert_status(
        fltsim_io_read(f->sys, h, buf, 5, &at, FLTSIM_IO_FAST_ONLY | FLTSIM_IO_NONCACHED, &iosb),
        STATUS_INVALID_PARAMETER);
    assert_status(fltsim_io_close(f->sys, h), STATUS_SUCCESS);
}

/* The trace sinks name the codes through these. */
static void ioops_new_codes_have_names(void **state)
{
    (void)state;
    assert_string_equal(fltsim_major_name(IRP_MJ_NETWORK_QUERY_OPEN), "IRP_MJ_NETWORK_QUERY_OPEN");
    assert_string_equal(fltsim_major_name(IRP_MJ_ACQUIRE_FOR_MOD_WRITE),
                        "IRP_MJ_ACQUIRE_FOR_MOD_WRITE");
    assert_string_equal(fltsim_minor_name(IRP_MJ_LOCK_CONTROL, IRP_MN_UNLOCK_ALL_BY_KEY),
                        "IRP_MN_UNLOCK_ALL_BY_KEY");
    assert_string_equal(fltsim_minor_name(IRP_MJ_FILE_SYSTEM_CONTROL, IRP_MN_USER_FS_REQUEST),
                        "IRP_MN_USER_FS_REQUEST");
    assert_string_equal(fltsim_ntstatus_name(STATUS_RANGE_NOT_LOCKED), "STATUS_RANGE_NOT_LOCKED");
    assert_string_equal(fltsim_ntstatus_name(STATUS_NOT_A_REPARSE_POINT),
                        "STATUS_NOT_A_REPARSE_POINT");
    assert_string_equal(fltsim_ntstatus_name(STATUS_NO_EAS_ON_FILE), "STATUS_NO_EAS_ON_FILE");
}

#define BOTH(test)                                                                                 \
    cmocka_unit_test_setup_teardown(test, setup_memfs, teardown),                                  \
        cmocka_unit_test_setup_teardown(test, setup_hostfs, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(ioops_lock_conflicts_follow_fsrtl),
        BOTH(ioops_unlock_all_by_key_and_cleanup_release_locks),
        BOTH(ioops_lock_checks_parameters_and_access),
        BOTH(ioops_section_sync_reports_readers_or_writers),
        BOTH(ioops_mod_write_and_cc_flush_pair_up),
        BOTH(ioops_query_open_is_fast_io_the_file_system_refuses),
        BOTH(ioops_fs_controls_answer_as_a_file_system_without_reparse_points),
        BOTH(ioops_object_id_tells_a_deleted_file_from_a_deleted_stream),
        BOTH(ioops_device_control_fast_path_is_refused_then_irp_fails),
        BOTH(ioops_query_ea_finds_none),
        BOTH(ioops_query_security_reports_the_size_needed),
        BOTH(ioops_set_security_validates_the_descriptor),
        BOTH(ioops_query_volume_information_checks_class_and_length),
        BOTH(ioops_fast_only_never_sends_the_irp),
        cmocka_unit_test(ioops_new_codes_have_names),
    };
    return FLTSIM_RUN_SUITE("ioops", tests);
}
