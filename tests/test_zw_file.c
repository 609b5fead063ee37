/*
 * The Zw file routines (issue 18 item 3): they start at the top of the stack,
 * so a filter calling ZwCreateFile from its own pre-create sees its own create
 * again, as on Windows; kernel handles with OBJ_KERNEL_HANDLE, handles of the
 * current process without; ZwReadFile, ZwWriteFile, the information, volume,
 * directory, flush, FSCTL and IOCTL routines on them; ZwClose twice. The filters
 * U, M and L and M's actions are filter_create_fx.h's.
 */
#include "filter_create_fx.h"

/* ---- the Zw routines: through the top ---- */

struct zw_results {
    NTSTATUS create, read, pos, setpos, read2, query, write, volume, flush, fsctl, close, close2;
    NTSTATUS user_create, dir_open, dir;
    ULONG dir_name_length;
    LONG own_creates; /* M's creates of b.txt when ZwCreateFile returned */
    ULONG_PTR read_bytes;
    LONGLONG position, size;
    char got[8], got2[8];
    HANDLE user_handle;
};
static struct zw_results zr;

static void act_zw(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    (void)objects;
    memset(&zr, 0, sizeof(zr));
    IO_STATUS_BLOCK iosb;
    HANDLE h;
    zr.create = ZwCreateFile(&h, GENERIC_READ | GENERIC_WRITE | SYNCHRONIZE, b_oa(), &iosb, NULL, 0,
                             FILE_SHARE_READ, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0);
    zr.own_creates = f->sm.creates;
    if (!NT_SUCCESS(zr.create))
        return;
    f->handle = h;
    zr.read = ZwReadFile(h, NULL, NULL, NULL, &iosb, zr.got, 5, NULL, NULL);
    zr.read_bytes = iosb.Information;
    FILE_POSITION_INFORMATION pos;
    zr.pos = ZwQueryInformationFile(h, &iosb, &pos, sizeof(pos), FilePositionInformation);
    zr.position = pos.CurrentByteOffset.QuadPart;
    pos.CurrentByteOffset.QuadPart = 1;
    zr.setpos = ZwSetInformationFile(h, &iosb, &pos, sizeof(pos), FilePositionInformation);
    zr.read2 = ZwReadFile(h, NULL, NULL, NULL, &iosb, zr.got2, 4, NULL, NULL);
    char bang = '!';
    LARGE_INTEGER end = {.QuadPart = 5};
    zr.write = ZwWriteFile(h, NULL, NULL, NULL, &iosb, &bang, 1, &end, NULL);
    FILE_STANDARD_INFORMATION std;
    zr.query = ZwQueryInformationFile(h, &iosb, &std, sizeof(std), FileStandardInformation);
    zr.size = std.EndOfFile.QuadPart;
    FILE_FS_SIZE_INFORMATION size;
    zr.volume = ZwQueryVolumeInformationFile(h, &iosb, &size, sizeof(size), FileFsSizeInformation);
    zr.flush = ZwFlushBuffersFile(h, &iosb);
    zr.fsctl =
        ZwFsControlFile(h, NULL, NULL, NULL, &iosb, FSCTL_IS_VOLUME_MOUNTED, NULL, 0, NULL, 0);
    zr.close = ZwClose(h);
    zr.close2 = ZwClose(h);

    /* The directory, listed through the top. */
    UNICODE_STRING dir = RTL_CONSTANT_STRING(L"\\??\\C:\\dir");
    OBJECT_ATTRIBUTES doa;
    InitializeObjectAttributes(&doa, &dir, OBJ_KERNEL_HANDLE, NULL, NULL);
    HANDLE dh;
    zr.dir_open = ZwOpenFile(&dh, FILE_LIST_DIRECTORY | SYNCHRONIZE, &doa, &iosb,
                             FILE_SHARE_READ | FILE_SHARE_WRITE,
                             FILE_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT);
    if (NT_SUCCESS(zr.dir_open)) {
        ULONG buf[64];
        UNICODE_STRING pattern = RTL_CONSTANT_STRING(L"b.txt");
        zr.dir = ZwQueryDirectoryFile(dh, NULL, NULL, NULL, &iosb, buf, sizeof(buf),
                                      FileNamesInformation, TRUE, &pattern, TRUE);
        const FILE_NAMES_INFORMATION *names = (const FILE_NAMES_INFORMATION *)buf;
        zr.dir_name_length = NT_SUCCESS(zr.dir) ? names->FileNameLength : 0;
        (void)ZwClose(dh);
    }

    /* Without OBJ_KERNEL_HANDLE: a handle of the current process. */
    OBJECT_ATTRIBUTES oa = *b_oa();
    oa.Attributes &= ~(ULONG)OBJ_KERNEL_HANDLE;
    zr.user_create = ZwOpenFile(&zr.user_handle, GENERIC_READ | SYNCHRONIZE, &oa, &iosb,
                                FILE_SHARE_READ, FILE_SYNCHRONOUS_IO_NONALERT);
}

/* ZwCreateFile from M's own pre-create comes back to M (and U): the I/O
 * starts at the top of the stack, as on Windows. The Zw file routines work
 * on the handle; ZwClose sends cleanup and close through the whole stack;
 * ZwClose twice is reported. */
static void zw_routines_go_through_the_top(void **state)
{
    struct fixture *f = *state;
    run_as_m(f, act_zw);
    assert_status(zr.create, STATUS_SUCCESS);
    assert_int_equal(zr.own_creates, 1); /* the recursion */
    assert_int_equal(f->su.creates, 2);  /* and the open without OBJ_KERNEL_HANDLE */
    assert_false(f->sl.create_flags & FLTFL_CALLBACK_DATA_GENERATED_IO);
    assert_true((ULONG64)(ULONG_PTR)f->handle >> 63);
    assert_status(zr.read, STATUS_SUCCESS);
    assert_int_equal(zr.read_bytes, 5);
    assert_string_equal(zr.got, "bravo");
    assert_status(zr.pos, STATUS_SUCCESS);
    assert_int_equal(zr.position, 5);
    assert_status(zr.setpos, STATUS_SUCCESS);
    assert_status(zr.read2, STATUS_SUCCESS);
    assert_string_equal(zr.got2, "ravo");
    assert_status(zr.write, STATUS_SUCCESS);
    assert_status(zr.query, STATUS_SUCCESS);
    assert_int_equal(zr.size, 6);
    assert_status(zr.volume, STATUS_SUCCESS);
    assert_status(zr.flush, STATUS_SUCCESS);
    assert_status(zr.fsctl, STATUS_SUCCESS);
    assert_int_equal(f->su.reads, 2);
    assert_int_equal(f->sm.reads, 2);
    assert_status(zr.close, STATUS_SUCCESS);
    assert_status(zr.close2, STATUS_INVALID_HANDLE);
    assert_one_report(f, "V23", "ZwClose");
    assert_int_equal(f->su.cleanups, 1);
    assert_int_equal(f->sm.closes, 1);
    assert_int_equal(f->sl.closes, 1);
    assert_status(zr.dir_open, STATUS_SUCCESS);
    assert_status(zr.dir, STATUS_SUCCESS);
    assert_int_equal(zr.dir_name_length, 5 * sizeof(WCHAR));

    /* The process's own handle: an application of that process may use it. */
    assert_status(zr.user_create, STATUS_SUCCESS);
    assert_false((ULONG64)(ULONG_PTR)zr.user_handle >> 63);
    char buf[8] = {0};
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(f->w.sys, zr.user_handle, buf, 6, &zero, 0, NULL), STATUS_SUCCESS);
    assert_string_equal(buf, "bravo!");
    assert_status(fltsim_io_close(f->w.sys, zr.user_handle), STATUS_SUCCESS);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
}

static NTSTATUS zw_open_status, zw_rename_status, zw_rename_close;

static void act_zw_rename(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    (void)f;
    (void)objects;
    IO_STATUS_BLOCK iosb;
    HANDLE h;
    zw_open_status = ZwCreateFile(&h, DELETE | SYNCHRONIZE, b_oa(), &iosb, NULL, 0, FILE_SHARE_READ,
                                  FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0);
    if (!NT_SUCCESS(zw_open_status))
        return;
    static const WCHAR target[] = L"\\??\\C:\\z.txt";
    union {
        FILE_RENAME_INFORMATION info;
        char bytes[sizeof(FILE_RENAME_INFORMATION) + sizeof(target)];
    } u;
    memset(&u, 0, sizeof(u));
    u.info.FileNameLength = sizeof(target) - sizeof(WCHAR);
    memcpy(u.info.FileName, target, u.info.FileNameLength);
    zw_rename_status = ZwSetInformationFile(h, &iosb, &u.info, sizeof(u), FileRenameInformation);
    zw_rename_close = ZwClose(h);
}

/* ZwSetInformationFile renames to another directory: the I/O manager opens
 * the target directory first (from the top: all three filters see it). */
static void zw_rename_moves_the_file(void **state)
{
    struct fixture *f = *state;
    run_as_m(f, act_zw_rename);
    assert_status(zw_open_status, STATUS_SUCCESS);
    assert_status(zw_rename_status, STATUS_SUCCESS);
    assert_status(zw_rename_close, STATUS_SUCCESS);
    assert_int_equal(f->su.sets, 1);
    assert_int_equal(f->sl.sets, 1);
    HANDLE h;
    assert_status(fltsim_io_open(f->w.sys, L"C:\\z.txt", GENERIC_READ, &h), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
}

/* ---- ZwDeviceIoControlFile ---- */

#define IOCTL_PING CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_FILL CTL_CODE(FILE_DEVICE_UNKNOWN, 0x802, METHOD_OUT_DIRECT, FILE_ANY_ACCESS)
#define IOCTL_OTHER CTL_CODE(FILE_DEVICE_UNKNOWN, 0x803, METHOD_BUFFERED, FILE_ANY_ACCESS)

static struct {
    NTSTATUS open, ping, fill, other, fs_direct, bad_handle, null_buffer;
    ULONG_PTR ping_info, fill_info;
    char ping_out[8], fill_out[8];
    LONG n_ioctls;
    char n_input[8];
} zd;

/* N, above U: completes IOCTL_PING (the input, reversed, into the system
 * buffer) and IOCTL_FILL (into the output MDL); lets the others down. */
static FLT_PREOP_CALLBACK_STATUS n_ioctl_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                             PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)objects;
    (void)context;
    PFLT_IO_PARAMETER_BLOCK iopb = data->Iopb;
    if (iopb->MajorFunction != IRP_MJ_DEVICE_CONTROL)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    zd.n_ioctls++;
    ULONG code = iopb->Parameters.DeviceIoControl.Common.IoControlCode;
    if (code == IOCTL_PING) {
        char *buf = iopb->Parameters.DeviceIoControl.Buffered.SystemBuffer;
        ULONG in = iopb->Parameters.DeviceIoControl.Buffered.InputBufferLength;
        memcpy(zd.n_input, buf, in < sizeof(zd.n_input) ? in : sizeof(zd.n_input));
        memcpy(buf, "pong", 4);
        data->IoStatus.Status = STATUS_SUCCESS;
        data->IoStatus.Information = 4;
        return FLT_PREOP_COMPLETE;
    }
    if (code == IOCTL_FILL) {
        PMDL mdl = iopb->Parameters.DeviceIoControl.Direct.OutputMdlAddress;
        char *out = mdl != NULL ? MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority) : NULL;
        if (out != NULL)
            memcpy(out, "fill", 4);
        data->IoStatus.Status = out != NULL ? STATUS_SUCCESS : STATUS_INVALID_USER_BUFFER;
        data->IoStatus.Information = out != NULL ? 4 : 0;
        return FLT_PREOP_COMPLETE;
    }
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void act_zw_ioctl(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    (void)objects;
    IO_STATUS_BLOCK iosb;
    HANDLE h;
    zd.open = ZwCreateFile(&h, GENERIC_READ | SYNCHRONIZE, b_oa(), &iosb, NULL, 0, FILE_SHARE_READ,
                           FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0);
    if (!NT_SUCCESS(zd.open))
        return;
    f->handle = h;
    char ping[] = "ping";
    zd.ping = ZwDeviceIoControlFile(h, NULL, NULL, NULL, &iosb, IOCTL_PING, ping, 4, zd.ping_out,
                                    sizeof(zd.ping_out));
    zd.ping_info = iosb.Information;
    zd.fill = ZwDeviceIoControlFile(h, NULL, NULL, NULL, &iosb, IOCTL_FILL, NULL, 0, zd.fill_out,
                                    sizeof(zd.fill_out));
    zd.fill_info = iosb.Information;
    zd.other = ZwDeviceIoControlFile(h, NULL, NULL, NULL, &iosb, IOCTL_OTHER, NULL, 0, NULL, 0);
    char small[8];
    zd.fs_direct = ZwFsControlFile(
        h, NULL, NULL, NULL, &iosb,
        CTL_CODE(FILE_DEVICE_FILE_SYSTEM, 0x3ff, METHOD_OUT_DIRECT, FILE_ANY_ACCESS), NULL, 0,
        small, sizeof(small));
    zd.null_buffer =
        ZwDeviceIoControlFile(h, NULL, NULL, NULL, &iosb, IOCTL_PING, NULL, 4, NULL, 0);
    (void)ZwClose(h);
    zd.bad_handle = ZwDeviceIoControlFile(h, NULL, NULL, NULL, &iosb, IOCTL_PING, NULL, 0, NULL, 0);
}

/* ZwDeviceIoControlFile starts at the top of the stack (N, above M, sees it
 * and completes it): the buffered output comes back through the system
 * buffer, the direct output through its MDL; an IOCTL nobody handles gets
 * the file system's STATUS_INVALID_DEVICE_REQUEST; a direct-method FSCTL
 * reaches the file system too; a closed handle is STATUS_INVALID_HANDLE. */
static void zw_device_io_control_goes_through_the_top(void **state)
{
    struct fixture *f = *state;
    memset(&zd, 0, sizeof(zd));
    tf_init(&f->n, "N", "350000");
    tf_only(&f->n, IRP_MJ_DEVICE_CONTROL);
    f->n.ops[IRP_MJ_DEVICE_CONTROL].post = false;
    f->n.pre = n_ioctl_pre;
    assert_status(tf_load(f->w.sys, &f->n), STATUS_SUCCESS);
    run_as_m(f, act_zw_ioctl);
    assert_status(zd.open, STATUS_SUCCESS);
    assert_status(zd.ping, STATUS_SUCCESS);
    assert_int_equal(zd.ping_info, 4);
    assert_memory_equal(zd.n_input, "ping", 4);
    assert_memory_equal(zd.ping_out, "pong", 4);
    assert_status(zd.fill, STATUS_SUCCESS);
    assert_int_equal(zd.fill_info, 4);
    assert_memory_equal(zd.fill_out, "fill", 4);
    assert_status(zd.other, STATUS_INVALID_DEVICE_REQUEST);
    assert_status(zd.fs_direct, STATUS_INVALID_DEVICE_REQUEST);
    assert_status(zd.null_buffer, STATUS_INVALID_PARAMETER);
    assert_status(zd.bad_handle, STATUS_INVALID_HANDLE);
    assert_int_equal(zd.n_ioctls, 3);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"ZwDeviceIoControlFile");
    assert_non_null(MmGetSystemRoutineAddress(&name));
}

int main(void)
{
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        CASE(zw_routines_go_through_the_top),
        CASE(zw_rename_moves_the_file),
        CASE(zw_device_io_control_goes_through_the_top),
    };
    return FLTSIM_RUN_SUITE("zw_file", tests);
}
