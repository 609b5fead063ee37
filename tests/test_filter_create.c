/*
 * Files a filter opens itself (SPEC 2.3, issue 18): FltCreateFile(Ex, Ex2)
 * below the calling instance or at the top of the stack, the kernel handle
 * and file object they give, FltClose, ObReferenceObjectByHandle and
 * ObDereferenceObject on them, the IO_* create flags, the Flt* file routines
 * on such a file object, leaks at unload, and bad input. The filters U, M and
 * L and M's actions are filter_create_fx.h's; the Zw routines are
 * test_zw_file.c's.
 */
#include <stddef.h>

#include "filter_create_fx.h"

/* ---- below the instance ---- */

static NTSTATUS zw_read_status;
static char zw_read_got[8];

static void act_open_read_close(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    f->status = open_b(f, objects->Instance, FILE_SHARE_READ, 0, &f->fo);
    if (!NT_SUCCESS(f->status))
        return;
    LARGE_INTEGER zero = {.QuadPart = 0};
    f->status2 = FltReadFile(objects->Instance, f->fo, &zero, sizeof(f->got) - 1, f->got, 0,
                             &f->bytes, NULL, NULL);
    /* ZwReadFile on the handle: the file object stays tied to the instance
     * it was opened below, so this read too goes only below it. */
    IO_STATUS_BLOCK iosb;
    char again[8] = {0};
    LARGE_INTEGER one = {.QuadPart = 1};
    zw_read_status = ZwReadFile(f->handle, NULL, NULL, NULL, &iosb, again, 4, &one, NULL);
    memcpy(zw_read_got, again, sizeof(again));
}

/* The create goes only to L (and the file system): M's own callbacks and U
 * do not see it; it is generated I/O in kernel mode; the handle is a kernel
 * handle; FltReadFile on the file object reads the file; FltClose and the
 * last ObDereferenceObject send cleanup and close to L only. */
static void create_below_self_reaches_only_lower_filters(void **state)
{
    struct fixture *f = *state;
    run_as_m(f, act_open_read_close);
    assert_status(f->status, STATUS_SUCCESS);
    assert_status(f->iosb.Status, STATUS_SUCCESS);
    assert_int_equal(f->iosb.Information, FILE_OPENED);
    assert_true((ULONG64)(ULONG_PTR)f->handle >> 63); /* a kernel handle */
    assert_non_null(f->fo);
    assert_int_equal(f->sl.creates, 1);
    assert_int_equal(f->sm.creates, 0);
    assert_int_equal(f->su.creates, 0);
    assert_true(f->sl.create_flags & FLTFL_CALLBACK_DATA_GENERATED_IO);
    assert_int_equal(f->sl.create_mode, KernelMode);
    assert_status(f->status2, STATUS_SUCCESS);
    assert_int_equal(f->bytes, 5);
    assert_string_equal(f->got, "bravo");
    assert_status(zw_read_status, STATUS_SUCCESS);
    assert_string_equal(zw_read_got, "ravo");
    assert_int_equal(f->sl.reads, 2);
    assert_int_equal(f->sm.reads + f->su.reads, 0);

    /* The handle is usable from any process's thread, but not by an
     * application (user mode). */
    char buf[8];
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(f->w.sys, f->handle, buf, 5, &zero, 0, NULL),
                  STATUS_INVALID_HANDLE);
    assert_status(fltsim_io_close(f->w.sys, f->handle), STATUS_INVALID_HANDLE);

    ObDereferenceObject(f->fo); /* FltCreateFileEx's reference */
    assert_int_equal(f->sl.closes, 0);
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 1);
    run_as_m(f, act_close);
    assert_status(f->status, STATUS_SUCCESS);
    assert_int_equal(f->sl.cleanups, 1);
    assert_int_equal(f->sl.closes, 1);
    assert_int_equal(f->sm.cleanups + f->sm.closes + f->su.cleanups + f->su.closes, 0);
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 0);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* ---- the whole stack ---- */

static void act_open_top(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    (void)objects;
    f->status = open_b(f, NULL, FILE_SHARE_READ, 0, NULL);
}

/* With no instance the create starts at the top: U, M itself and L see it
 * (not as FltMgr's generated I/O: the I/O manager sends it), and so do the
 * cleanup and close FltClose sends. */
static void create_without_instance_reaches_whole_stack(void **state)
{
    struct fixture *f = *state;
    run_as_m(f, act_open_top);
    assert_status(f->status, STATUS_SUCCESS);
    assert_int_equal(f->su.creates, 1);
    assert_int_equal(f->sm.creates, 1);
    assert_int_equal(f->sl.creates, 1);
    assert_false(f->sl.create_flags & FLTFL_CALLBACK_DATA_GENERATED_IO);
    assert_int_equal(f->sl.create_mode, KernelMode);
    run_as_m(f, act_close);
    assert_status(f->status, STATUS_SUCCESS);
    assert_int_equal(f->su.cleanups, 1);
    assert_int_equal(f->sm.closes, 1);
    assert_int_equal(f->sl.closes, 1);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
}

/* ---- references ---- */

static void act_open_reference_close(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    f->status = FltCreateFile(f->m.filter, objects->Instance, &f->handle,
                              GENERIC_READ | SYNCHRONIZE, b_oa(), &f->iosb, NULL, 0,
                              FILE_SHARE_READ, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0, 0);
    if (!NT_SUCCESS(f->status))
        return;
    PVOID object = NULL;
    f->status2 = ObReferenceObjectByHandle(f->handle, FILE_READ_DATA, *IoFileObjectType, KernelMode,
                                           &object, NULL);
    f->fo = object;
    (void)FltClose(f->handle);
}

/* ObReferenceObjectByHandle keeps the file object past FltClose: cleanup
 * goes below at once, close only with the last ObDereferenceObject. */
static void reference_keeps_file_object_past_close(void **state)
{
    struct fixture *f = *state;
    run_as_m(f, act_open_reference_close);
    assert_status(f->status, STATUS_SUCCESS);
    assert_status(f->status2, STATUS_SUCCESS);
    assert_non_null(f->fo);
    assert_true(names_b(f->fo));
    assert_int_equal(f->sl.cleanups, 1);
    assert_int_equal(f->sl.closes, 0);
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 0);
    ObReferenceObject(f->fo);
    ObDereferenceObject(f->fo);
    assert_int_equal(f->sl.closes, 0);
    ObDereferenceObject(f->fo);
    assert_int_equal(f->sl.closes, 1);
    assert_int_equal(f->sm.closes + f->su.closes, 0);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
}

/* ---- bad input ---- */

static void act_bad_input(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    f->status = FltCreateFile(f->m.filter, objects->Instance, &f->handle, GENERIC_READ, NULL,
                              &f->iosb, NULL, 0, 0, FILE_OPEN, 0, NULL, 0, 0);
    f->status2 = FltCreateFile(f->m.filter, f->u.last_instance, &f->handle, GENERIC_READ, b_oa(),
                               &f->iosb, NULL, 0, 0, FILE_OPEN, 0, NULL, 0, 0);
}

/* A NULL ObjectAttributes and another filter's instance are refused. */
static void create_bad_input_is_refused(void **state)
{
    struct fixture *f = *state;
    run_as_m(f, act_bad_input);
    assert_status(f->status, STATUS_INVALID_PARAMETER);
    assert_status(f->status2, STATUS_INVALID_PARAMETER);
    assert_int_equal(f->sl.creates, 0);
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 0);
}

/* FltClose twice: STATUS_INVALID_HANDLE and a verifier report. */
static void close_twice_is_reported(void **state)
{
    struct fixture *f = *state;
    run_as_m(f, act_open_top);
    assert_status(f->status, STATUS_SUCCESS);
    run_as_m(f, act_close_twice);
    assert_status(f->status, STATUS_SUCCESS);
    assert_status(f->status2, STATUS_INVALID_HANDLE);
    assert_one_report(f, "V23", "FltClose");
    assert_int_equal(f->sl.closes, 1);
}

static HANDLE app_handle;

static void act_other_process(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    (void)objects;
    ULONG pid = fltsim_thread_process_id(), tid = fltsim_thread_id();
    fltsim_thread_set_identity(pid + 1000, tid + 1000);
    PVOID object = NULL;
    f->status =
        ObReferenceObjectByHandle(app_handle, 0, *IoFileObjectType, KernelMode, &object, NULL);
    f->status2 = FltClose(app_handle);
    fltsim_thread_set_identity(pid, tid);
}

/* A handle of another process is no handle here: neither referenced nor
 * closed; the application's handle stays open. */
static void handle_of_another_process_is_invalid(void **state)
{
    struct fixture *f = *state;
    app_handle = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    run_as_m(f, act_other_process);
    assert_status(f->status, STATUS_INVALID_HANDLE);
    assert_status(f->status2, STATUS_INVALID_HANDLE);
    assert_one_report(f, "V23", "FltClose");
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 1);
    assert_status(fltsim_io_close(f->w.sys, app_handle), STATUS_SUCCESS);
}

/* ---- IO_* flags and the driver create context ---- */

static void act_share(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    f->status = open_b(f, objects->Instance, 0, 0, NULL);
    f->status2 = open_b(f, objects->Instance, 0, IO_IGNORE_SHARE_ACCESS_CHECK, NULL);
}

/* The application holds \dir\b.txt without sharing: a filter's open
 * fails with a sharing violation, unless IO_IGNORE_SHARE_ACCESS_CHECK. */
static void ignore_share_access_opens_a_file_held_exclusively(void **state)
{
    struct fixture *f = *state;
    struct fltsim_create_params p;
    memset(&p, 0, sizeof(p));
    p.path = L"C:\\dir\\b.txt";
    p.desired_access = GENERIC_READ | SYNCHRONIZE;
    p.disposition = FILE_OPEN;
    p.create_options = FILE_SYNCHRONOUS_IO_NONALERT;
    HANDLE app;
    assert_status(fltsim_io_create(f->w.sys, &p, &app, NULL), STATUS_SUCCESS);
    run_as_m(f, act_share);
    assert_status(f->status, STATUS_SHARING_VIOLATION);
    assert_status(f->status2, STATUS_SUCCESS);
    run_as_m(f, act_close);
    assert_status(f->status, STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, app), STATUS_SUCCESS);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
}

static void act_flags(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    f->status = open_b(f, objects->Instance, FILE_SHARE_READ, IO_FORCE_ACCESS_CHECK, NULL);
    if (NT_SUCCESS(f->status))
        (void)FltClose(f->handle);
    /* Synchronous I/O without SYNCHRONIZE: the I/O manager's check, skipped
     * with IO_NO_PARAMETER_CHECKING. */
    f->status2 = FltCreateFile(f->m.filter, objects->Instance, &f->handle, FILE_READ_DATA, b_oa(),
                               &f->iosb, NULL, 0, FILE_SHARE_READ, FILE_OPEN,
                               FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0, 0);
    NTSTATUS unchecked =
        FltCreateFile(f->m.filter, objects->Instance, &f->handle, FILE_READ_DATA, b_oa(), &f->iosb,
                      NULL, 0, FILE_SHARE_READ, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0,
                      IO_NO_PARAMETER_CHECKING);
    if (NT_SUCCESS(unchecked))
        (void)FltClose(f->handle);
    f->bytes = (ULONG)unchecked;
}

/* IO_FORCE_ACCESS_CHECK reaches the file system as SL_FORCE_ACCESS_CHECK
 * (memfs keeps no ACLs: the open succeeds as without it);
 * IO_NO_PARAMETER_CHECKING skips the I/O manager's parameter checks. */
static void force_access_and_no_parameter_checking(void **state)
{
    struct fixture *f = *state;
    run_as_m(f, act_flags);
    assert_status(f->status, STATUS_SUCCESS);
    assert_status(f->status2, STATUS_INVALID_PARAMETER);
    assert_status((NTSTATUS)f->bytes, STATUS_SUCCESS);
    assert_int_equal(f->sl.creates, 2);
    assert_false(f->sl.create_op_flags & SL_FORCE_ACCESS_CHECK); /* the last one */
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
}

static UCHAR first_op_flags;

static void act_force(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    f->status = open_b(f, objects->Instance, FILE_SHARE_READ, IO_FORCE_ACCESS_CHECK, NULL);
    first_op_flags = f->sl.create_op_flags;
    if (NT_SUCCESS(f->status))
        (void)FltClose(f->handle);
}

static void force_access_check_sets_sl_flag(void **state)
{
    struct fixture *f = *state;
    run_as_m(f, act_force);
    assert_status(f->status, STATUS_SUCCESS);
    assert_true(first_op_flags & SL_FORCE_ACCESS_CHECK);
}

static UCHAR target_op_flags;

static void act_target_directory(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    f->status = FltCreateFileEx(f->m.filter, objects->Instance, &f->handle, &f->fo,
                                FILE_LIST_DIRECTORY | SYNCHRONIZE, b_oa(), &f->iosb, NULL, 0,
                                FILE_SHARE_READ | FILE_SHARE_WRITE, FILE_OPEN,
                                FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0, IO_OPEN_TARGET_DIRECTORY);
    target_op_flags = f->sl.create_op_flags;
    if (!NT_SUCCESS(f->status))
        return;
    f->bytes = f->fo->FileName.Length / sizeof(WCHAR);
    ObDereferenceObject(f->fo);
    (void)FltClose(f->handle);
}

/* IO_OPEN_TARGET_DIRECTORY opens the directory that holds b.txt
 * (SL_OPEN_TARGET_DIRECTORY): FILE_EXISTS, and the file object's name is
 * the last component. */
static void open_target_directory_opens_the_parent(void **state)
{
    struct fixture *f = *state;
    run_as_m(f, act_target_directory);
    assert_status(f->status, STATUS_SUCCESS);
    assert_true(target_op_flags & SL_OPEN_TARGET_DIRECTORY);
    assert_int_equal(f->iosb.Information, FILE_EXISTS);
    assert_int_equal(f->bytes, 5); /* "b.txt" */
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
}

static void act_context(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    IO_DRIVER_CREATE_CONTEXT c;
    IoInitializeDriverCreateContext(&c);
    f->status =
        FltCreateFileEx2(f->m.filter, objects->Instance, &f->handle, &f->fo,
                         GENERIC_READ | SYNCHRONIZE, b_oa(), &f->iosb, NULL, 0, FILE_SHARE_READ,
                         FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0, 0, &c);
    if (NT_SUCCESS(f->status)) {
        ObDereferenceObject(f->fo);
        (void)FltClose(f->handle);
    }
    TXN_PARAMETER_BLOCK txn;
    memset(&txn, 0, sizeof(txn));
    c.TxnParameters = &txn;
    f->status2 =
        FltCreateFileEx2(f->m.filter, objects->Instance, &f->handle, &f->fo,
                         GENERIC_READ | SYNCHRONIZE, b_oa(), &f->iosb, NULL, 0, FILE_SHARE_READ,
                         FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0, 0, &c);
}

/* FltCreateFileEx2 takes an initialized IO_DRIVER_CREATE_CONTEXT; one with
 * a transaction is refused (not modeled) with a simulator report. */
static void create_ex2_takes_a_driver_context(void **state)
{
    struct fixture *f = *state;
    run_as_m(f, act_context);
    assert_status(f->status, STATUS_SUCCESS);
    assert_status(f->status2, STATUS_NOT_SUPPORTED);
    assert_one_report(f, "SIM", "TxnParameters");
    assert_int_equal(f->sl.creates, 1);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
}

/* ---- an ECP list sent with FltCreateFileEx2 ---- */

static const GUID ecp_guid = {
    0x5e2a1c07, 0x1d3b, 0x4c8e, {0x9a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77}};

struct ecp_seen {
    LONG found;           /* creates of b.txt in which L found the ECP */
    ULONG size;           /* its size */
    BOOLEAN from_user;    /* FltIsEcpFromUserMode */
    LONG lists_elsewhere; /* U's and M's creates of b.txt that carried a list */
};
static struct ecp_seen ecp_seen;

/* L acknowledges the ECP; U and M must never see this create. */
static FLT_PREOP_CALLBACK_STATUS ecp_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                         PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    PFILE_OBJECT fo = data->Iopb->TargetFileObject;
    if (data->Iopb->MajorFunction == IRP_MJ_CREATE && fo != NULL && names_b(fo)) {
        PECP_LIST list = NULL;
        assert_status(FltGetEcpListFromCallbackData(tf->filter, data, &list), STATUS_SUCCESS);
        if (tf == &the_fixture->l && list != NULL) {
            PVOID ecp = NULL;
            ULONG size = 0;
            if (NT_SUCCESS(FltFindExtraCreateParameter(tf->filter, list, &ecp_guid, &ecp, &size))) {
                ecp_seen.found++;
                ecp_seen.size = size;
                ecp_seen.from_user = FltIsEcpFromUserMode(tf->filter, ecp);
                FltAcknowledgeEcp(tf->filter, ecp);
            }
        } else if (list != NULL) {
            ecp_seen.lists_elsewhere++;
        }
    }
    return pre(tf, data, objects, context);
}

static PVOID ecp_context;

static void act_ecp(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    PECP_LIST list = NULL;
    assert_status(FltAllocateExtraCreateParameterList(f->m.filter, 0, &list), STATUS_SUCCESS);
    assert_status(
        FltAllocateExtraCreateParameter(f->m.filter, &ecp_guid, 12, 0, NULL, 'tEcP', &ecp_context),
        STATUS_SUCCESS);
    assert_status(FltInsertExtraCreateParameter(f->m.filter, list, ecp_context), STATUS_SUCCESS);
    IO_DRIVER_CREATE_CONTEXT c;
    IoInitializeDriverCreateContext(&c);
    c.ExtraCreateParameter = list;
    f->status =
        FltCreateFileEx2(f->m.filter, objects->Instance, &f->handle, &f->fo,
                         GENERIC_READ | SYNCHRONIZE, b_oa(), &f->iosb, NULL, 0, FILE_SHARE_READ,
                         FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0, 0, &c);
    /* The list is still the caller's: acknowledged by L, freed here. */
    f->status2 =
        FltIsEcpAcknowledged(f->m.filter, ecp_context) ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
    FltFreeExtraCreateParameterList(f->m.filter, list);
    if (NT_SUCCESS(f->status)) {
        ObDereferenceObject(f->fo);
        (void)FltClose(f->handle);
    }
}

/* FltCreateFileEx2's DriverContext->ExtraCreateParameter travels with the
 * create to the instances below the caller (kernel mode, not from user
 * mode); what they acknowledge, the caller sees; the list stays the
 * caller's to free (ASan would see a double free). */
static void create_ex2_sends_its_ecp_list_below(void **state)
{
    struct fixture *f = *state;
    memset(&ecp_seen, 0, sizeof(ecp_seen));
    f->u.pre = f->m.pre = f->l.pre = ecp_pre;
    run_as_m(f, act_ecp);
    assert_status(f->status, STATUS_SUCCESS);
    assert_int_equal(ecp_seen.found, 1);
    assert_int_equal(ecp_seen.size, 12);
    assert_false(ecp_seen.from_user);
    assert_int_equal(ecp_seen.lists_elsewhere, 0);
    assert_status(f->status2, STATUS_SUCCESS); /* acknowledged */
    assert_int_equal(f->su.creates, 0);
    assert_int_equal(f->sl.creates, 1);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* ---- the Flt file routines on such a file object ---- */

struct info_results {
    NTSTATUS query, set, query2, volume, flush, fsctl, ioctl, dir, dir_open;
    LONGLONG size_before, size_after;
    ULONG returned, volume_returned, dir_returned;
    WCHAR dir_name[16];
};
static struct info_results ir;

static void act_info(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    PFLT_INSTANCE inst = objects->Instance;
    memset(&ir, 0, sizeof(ir));
    f->status = FltCreateFileEx(
        f->m.filter, inst, &f->handle, &f->fo, GENERIC_READ | GENERIC_WRITE | SYNCHRONIZE, b_oa(),
        &f->iosb, NULL, 0, FILE_SHARE_READ, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0, 0);
    if (!NT_SUCCESS(f->status))
        return;
    FILE_STANDARD_INFORMATION std;
    ir.query = FltQueryInformationFile(inst, f->fo, &std, sizeof(std), FileStandardInformation,
                                       &ir.returned);
    ir.size_before = std.EndOfFile.QuadPart;
    FILE_END_OF_FILE_INFORMATION eof = {.EndOfFile.QuadPart = 3};
    ir.set = FltSetInformationFile(inst, f->fo, &eof, sizeof(eof), FileEndOfFileInformation);
    ir.query2 =
        FltQueryInformationFile(inst, f->fo, &std, sizeof(std), FileStandardInformation, NULL);
    ir.size_after = std.EndOfFile.QuadPart;
    FILE_FS_SIZE_INFORMATION size;
    ir.volume = FltQueryVolumeInformationFile(inst, f->fo, &size, sizeof(size),
                                              FileFsSizeInformation, &ir.volume_returned);
    ir.flush = FltFlushBuffers(inst, f->fo);
    ir.fsctl = FltFsControlFile(inst, f->fo, FSCTL_IS_VOLUME_MOUNTED, NULL, 0, NULL, 0, NULL);
    char out[8];
    ir.ioctl = FltDeviceIoControlFile(
        inst, f->fo, CTL_CODE(FILE_DEVICE_DISK, 1, METHOD_BUFFERED, FILE_ANY_ACCESS), NULL, 0, out,
        sizeof(out), NULL);
    ObDereferenceObject(f->fo);
    (void)FltClose(f->handle);

    /* The directory \dir, listed below the instance. */
    UNICODE_STRING dir = RTL_CONSTANT_STRING(L"\\??\\C:\\dir");
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &dir, OBJ_KERNEL_HANDLE, NULL, NULL);
    PFILE_OBJECT dfo;
    ir.dir_open =
        FltCreateFileEx(f->m.filter, inst, &f->handle, &dfo, FILE_LIST_DIRECTORY | SYNCHRONIZE, &oa,
                        &f->iosb, NULL, 0, FILE_SHARE_READ | FILE_SHARE_WRITE, FILE_OPEN,
                        FILE_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0, 0);
    if (!NT_SUCCESS(ir.dir_open))
        return;
    ULONG buf[64];
    UNICODE_STRING pattern = RTL_CONSTANT_STRING(L"b.txt");
    ir.dir = FltQueryDirectoryFile(inst, dfo, buf, sizeof(buf), FileNamesInformation, TRUE,
                                   &pattern, TRUE, &ir.dir_returned);
    const FILE_NAMES_INFORMATION *names = (const FILE_NAMES_INFORMATION *)buf;
    if (NT_SUCCESS(ir.dir) && names->FileNameLength < sizeof(ir.dir_name))
        memcpy(ir.dir_name, names->FileName, names->FileNameLength);
    ObDereferenceObject(dfo);
    (void)FltClose(f->handle);
}

/* FltQueryInformationFile, FltSetInformationFile,
 * FltQueryVolumeInformationFile, FltFlushBuffers, FltFsControlFile,
 * FltDeviceIoControlFile and FltQueryDirectoryFile go below the instance
 * (L sees them, M and U do not) and do what the file system does. */
static void flt_file_routines_go_below(void **state)
{
    struct fixture *f = *state;
    run_as_m(f, act_info);
    assert_status(f->status, STATUS_SUCCESS);
    assert_status(ir.query, STATUS_SUCCESS);
    assert_int_equal(ir.returned, sizeof(FILE_STANDARD_INFORMATION));
    assert_int_equal(ir.size_before, 5);
    assert_status(ir.set, STATUS_SUCCESS);
    assert_status(ir.query2, STATUS_SUCCESS);
    assert_int_equal(ir.size_after, 3);
    assert_status(ir.volume, STATUS_SUCCESS);
    assert_int_equal(ir.volume_returned, sizeof(FILE_FS_SIZE_INFORMATION));
    assert_status(ir.flush, STATUS_SUCCESS);
    assert_status(ir.fsctl, STATUS_SUCCESS);
    assert_status(ir.ioctl, STATUS_INVALID_DEVICE_REQUEST);
    assert_int_equal(f->sl.queries, 2);
    assert_int_equal(f->sl.sets, 1);
    assert_int_equal(f->sm.queries + f->sm.sets + f->su.queries + f->su.sets, 0);
    assert_status(ir.dir_open, STATUS_SUCCESS);
    assert_status(ir.dir, STATUS_SUCCESS);
    assert_true(ir.dir_returned > 0);
    assert_memory_equal(ir.dir_name, L"b.txt", 5 * sizeof(WCHAR));
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 0);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
}

static NTSTATUS rename_status, collide_status;

static NTSTATUS rename_to(PFLT_INSTANCE inst, PFILE_OBJECT fo, PCWSTR name)
{
    union {
        FILE_RENAME_INFORMATION info;
        char bytes[sizeof(FILE_RENAME_INFORMATION) + 64 * sizeof(WCHAR)];
    } u;
    memset(&u, 0, sizeof(u));
    size_t n = fltsim_wcslen(name);
    u.info.FileNameLength = (ULONG)(n * sizeof(WCHAR));
    memcpy(u.info.FileName, name, n * sizeof(WCHAR));
    return FltSetInformationFile(
        inst, fo, &u.info, (ULONG)(offsetof(FILE_RENAME_INFORMATION, FileName) + n * sizeof(WCHAR)),
        FileRenameInformation);
}

static void act_rename(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    f->status = FltCreateFileEx(f->m.filter, objects->Instance, &f->handle, &f->fo,
                                DELETE | SYNCHRONIZE, b_oa(), &f->iosb, NULL, 0, FILE_SHARE_READ,
                                FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0, 0);
    if (!NT_SUCCESS(f->status))
        return;
    rename_status = rename_to(objects->Instance, f->fo, L"\\??\\C:\\dir\\c.txt");
    collide_status = rename_to(objects->Instance, f->fo, L"\\??\\C:\\a.txt");
    ObDereferenceObject(f->fo);
    (void)FltClose(f->handle);
}

/* FltSetInformationFile renames to a fully qualified name: FltMgr opens the
 * target directory below the instance first (ParentOfTarget); an existing
 * target without ReplaceIfExists is refused. */
static void rename_opens_the_target_directory_below(void **state)
{
    struct fixture *f = *state;
    run_as_m(f, act_rename);
    assert_status(f->status, STATUS_SUCCESS);
    assert_status(rename_status, STATUS_SUCCESS);
    assert_status(collide_status, STATUS_OBJECT_NAME_COLLISION);
    assert_int_equal(f->sl.sets, 1);
    assert_int_equal(f->sm.sets + f->su.sets, 0);
    HANDLE h;
    assert_status(fltsim_io_open(f->w.sys, L"C:\\dir\\c.txt", GENERIC_READ, &h), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_status(fltsim_io_open(f->w.sys, L"C:\\dir\\b.txt", GENERIC_READ, &h),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 0);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
}

static HANDLE d_handle;

static void act_wrong_volume(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    PFILE_OBJECT dfo = fltsim_io_file_object(f->w.sys, d_handle);
    FILE_STANDARD_INFORMATION std;
    f->status = FltQueryInformationFile(objects->Instance, dfo, &std, sizeof(std),
                                        FileStandardInformation, NULL);
    UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\??\\D:\\d.txt");
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_KERNEL_HANDLE, NULL, NULL);
    f->status2 = FltCreateFile(f->m.filter, objects->Instance, &f->handle, GENERIC_READ, &oa,
                               &f->iosb, NULL, 0, 0, FILE_OPEN, 0, NULL, 0, 0);
}

/* A file object of another volume: STATUS_INVALID_PARAMETER; a create of
 * a name on another volume below an instance of C::
 * STATUS_INVALID_DEVICE_OBJECT_PARAMETER. */
static void another_volume_is_refused(void **state)
{
    struct fixture *f = *state;
    struct fltsim_memfs *fs;
    assert_status(fltsim_memfs_create(NULL, &fs), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(fs, L"\\d.txt", "delta", 5), STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume2",
                                      .drive_letter = L'D',
                                      .ops = &fltsim_memfs_ops,
                                      .fs = fs,
                                      .fs_type = FLT_FSTYPE_NTFS};
    PFLT_VOLUME d;
    assert_status(fltsim_volume_mount(f->w.sys, &vp, &d), STATUS_SUCCESS);
    d_handle = world_open(&f->w, L"D:\\d.txt", GENERIC_READ);
    run_as_m(f, act_wrong_volume);
    assert_status(f->status, STATUS_INVALID_PARAMETER);
    assert_status(f->status2, STATUS_INVALID_DEVICE_OBJECT_PARAMETER);
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 1);
    assert_status(fltsim_io_close(f->w.sys, d_handle), STATUS_SUCCESS);
}

/* ---- before any application, and leaks ---- */

static NTSTATUS setup_open_status, setup_close_status;

static void n_setup_hook(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    (void)tf;
    HANDLE h = NULL;
    IO_STATUS_BLOCK iosb;
    setup_open_status = FltCreateFile(
        objects->Filter, objects->Instance, &h, GENERIC_READ | SYNCHRONIZE, b_oa(), &iosb, NULL, 0,
        FILE_SHARE_READ, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0, 0);
    setup_close_status = NT_SUCCESS(setup_open_status) ? FltClose(h) : STATUS_UNSUCCESSFUL;
}

/* A filter opens its own file from InstanceSetupCallback (as MetadataManager
 * does), before any application did any I/O: below it, M and L see the
 * create, cleanup and close; U, above, does not. */
static void open_from_instance_setup_before_any_io(void **state)
{
    struct fixture *f = *state;
    tf_init(&f->n, "N", "250000");
    tf_only(&f->n, IRP_MJ_CREATE);
    f->n.setup_hook = n_setup_hook;
    setup_open_status = setup_close_status = STATUS_PENDING;
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 0);
    assert_status(tf_load(f->w.sys, &f->n), STATUS_SUCCESS);
    assert_status(setup_open_status, STATUS_SUCCESS);
    assert_status(setup_close_status, STATUS_SUCCESS);
    assert_int_equal(f->sm.creates, 1);
    assert_int_equal(f->sl.creates, 1);
    assert_int_equal(f->sl.cleanups, 1);
    assert_int_equal(f->sm.closes, 1);
    assert_int_equal(f->su.creates + f->su.closes, 0);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
}

static void act_open_and_forget(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    f->status = open_b(f, objects->Instance, FILE_SHARE_READ, 0, NULL);
}

/* A file opened with FltCreateFile and not closed when the filter unloads
 * is reported (V23); the handle stays open (closed at shutdown). */
static void handle_left_open_at_unload_is_reported(void **state)
{
    struct fixture *f = *state;
    run_as_m(f, act_open_and_forget);
    assert_status(f->status, STATUS_SUCCESS);
    assert_status(fltsim_driver_unload(f->m.driver, 0), STATUS_SUCCESS);
    assert_one_report(f, "V23", "FltCreateFile");
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 1);
}

/* ---- FltCreateSystemVolumeInformationFolder ---- */

static void act_svi(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    f->status = FltCreateSystemVolumeInformationFolder(objects->Instance);
    f->status2 = FltCreateSystemVolumeInformationFolder(objects->Instance); /* it exists */
}

/* The folder is created in the volume's root, a hidden system directory,
 * once; the second call finds it; nothing is left open. */
static void system_volume_information_folder_is_created(void **state)
{
    struct fixture *f = *state;
    static const WCHAR svi[] = L"C:\\System Volume Information";
    HANDLE h = NULL;
    assert_status(fltsim_io_open(f->w.sys, svi, FILE_READ_ATTRIBUTES, &h),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    run_as_m(f, act_svi);
    assert_status(f->status, STATUS_SUCCESS);
    assert_status(f->status2, STATUS_SUCCESS);
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 0);
    assert_status(fltsim_io_open(f->w.sys, svi, FILE_READ_ATTRIBUTES, &h), STATUS_SUCCESS);
    FILE_BASIC_INFORMATION info;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_query_information(f->w.sys, h, &info, sizeof(info),
                                              FileBasicInformation, 0, &iosb),
                  STATUS_SUCCESS);
    ULONG want = FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM;
    assert_int_equal(info.FileAttributes & want, want);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 0);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_status(FltCreateSystemVolumeInformationFolder(NULL), STATUS_INVALID_PARAMETER);
}

/* ---- ObOpenObjectByPointer ---- */

static struct {
    NTSTATUS open, read, tx_open, tx_ref, other, closed;
    HANDLE second;
    LONG cleanups_after_first_close;
    char got[8];
} by_pointer;

static void act_open_by_pointer(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    f->status = open_b(f, objects->Instance, FILE_SHARE_READ, 0, &f->fo);
    if (!NT_SUCCESS(f->status))
        return;
    by_pointer.open = ObOpenObjectByPointer(f->fo, OBJ_KERNEL_HANDLE, NULL, FILE_READ_DATA,
                                            *IoFileObjectType, KernelMode, &by_pointer.second);
    /* The new handle names the same file object: still only below M. */
    IO_STATUS_BLOCK iosb;
    LARGE_INTEGER zero = {.QuadPart = 0};
    by_pointer.read =
        ZwReadFile(by_pointer.second, NULL, NULL, NULL, &iosb, by_pointer.got, 5, &zero, NULL);
    /* A transaction is what no object is. */
    HANDLE none = NULL;
    by_pointer.tx_open = ObOpenObjectByPointer(f->fo, OBJ_KERNEL_HANDLE, NULL, GENERIC_READ,
                                               *TmTransactionObjectType, KernelMode, &none);
    PVOID object = NULL;
    by_pointer.tx_ref = ObReferenceObjectByHandle(by_pointer.second, 0, *TmTransactionObjectType,
                                                  KernelMode, &object, NULL);
    FILE_OBJECT not_a_file;
    memset(&not_a_file, 0, sizeof(not_a_file));
    by_pointer.other = ObOpenObjectByPointer(&not_a_file, OBJ_KERNEL_HANDLE, NULL, 0, NULL,
                                             KernelMode, &none);
    (void)FltClose(f->handle);
    by_pointer.cleanups_after_first_close = f->sl.cleanups;
    (void)ZwClose(by_pointer.second);
    /* Every handle is closed (cleanup sent); FltCreateFileEx's reference
     * still holds the file object, but no new handle can be made. */
    by_pointer.closed = ObOpenObjectByPointer(f->fo, OBJ_KERNEL_HANDLE, NULL, FILE_READ_DATA,
                                              *IoFileObjectType, KernelMode, &none);
    ObDereferenceObject(f->fo);
}

/* ObOpenObjectByPointer makes a second kernel handle to a filter's file
 * object: it reads, it keeps the cleanup back until it is closed too; a
 * transaction type mismatches; other objects are not modeled (SIM). */
static void open_object_by_pointer_adds_a_handle(void **state)
{
    struct fixture *f = *state;
    run_as_m(f, act_open_by_pointer);
    assert_status(f->status, STATUS_SUCCESS);
    assert_status(by_pointer.open, STATUS_SUCCESS);
    assert_true((ULONG64)(ULONG_PTR)by_pointer.second >> 63);
    assert_true(by_pointer.second != f->handle);
    assert_status(by_pointer.read, STATUS_SUCCESS);
    assert_memory_equal(by_pointer.got, "bravo", 5);
    assert_int_equal(f->sl.reads, 1);
    assert_int_equal(f->sm.reads + f->su.reads, 0);
    assert_status(by_pointer.tx_open, STATUS_OBJECT_TYPE_MISMATCH);
    assert_status(by_pointer.tx_ref, STATUS_OBJECT_TYPE_MISMATCH);
    assert_status(by_pointer.other, STATUS_NOT_SUPPORTED);
    assert_int_equal(by_pointer.cleanups_after_first_close, 0);
    assert_status(by_pointer.closed, STATUS_FILE_CLOSED);
    assert_int_equal(f->sl.cleanups, 1);
    assert_int_equal(f->sl.closes, 1);
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 0);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
    assert_one_report(f, "SIM", "not a file object");

    HANDLE h = NULL;
    assert_status(ObOpenObjectByPointer(NULL, 0, NULL, 0, NULL, KernelMode, &h),
                  STATUS_INVALID_PARAMETER);
    assert_status(ObOpenObjectByPointer(&h, 0, NULL, 0, NULL, UserMode, &h),
                  STATUS_OBJECT_TYPE_MISMATCH);
}

/* ---- the routines are there ---- */

/* A filter that looks the routines up (FltGetRoutineAddress,
 * MmGetSystemRoutineAddress) finds them, at the addresses it would call. */
static void routines_are_found_by_name(void **state)
{
    (void)state;
    static const char *const flt[] = {"FltCreateFile",           "FltCreateFileEx",
                                      "FltCreateFileEx2",        "FltClose",
                                      "FltQueryInformationFile", "FltSetInformationFile",
                                      "FltQueryDirectoryFile",   "FltQueryVolumeInformationFile",
                                      "FltFsControlFile",        "FltDeviceIoControlFile",
                                      "FltFlushBuffers",         "FltCreateSystemVolumeInformationFolder"};
    for (size_t i = 0; i < sizeof(flt) / sizeof(flt[0]); i++)
        if (FltGetRoutineAddress(flt[i]) == NULL)
            fail_msg("FltGetRoutineAddress(\"%s\") is NULL", flt[i]);
    static const WCHAR *const nt[] = {L"ZwCreateFile",
                                      L"ZwOpenFile",
                                      L"ZwReadFile",
                                      L"ZwWriteFile",
                                      L"ZwQueryInformationFile",
                                      L"ZwSetInformationFile",
                                      L"ZwQueryDirectoryFile",
                                      L"ZwFsControlFile",
                                      L"ZwQueryVolumeInformationFile",
                                      L"ZwFlushBuffersFile",
                                      L"ObReferenceObjectByHandle",
                                      L"ObfReferenceObject",
                                      L"ObfDereferenceObject",
                                      L"IoFileObjectType",
                                      L"ObOpenObjectByPointer",
                                      L"TmTransactionObjectType"};
    for (size_t i = 0; i < sizeof(nt) / sizeof(nt[0]); i++) {
        UNICODE_STRING name;
        RtlInitUnicodeString(&name, nt[i]);
        if (MmGetSystemRoutineAddress(&name) == NULL)
            fail_msg("MmGetSystemRoutineAddress of entry %zu (Zw/Ob/Io) is NULL", i);
    }
}

int main(void)
{
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        /* First: no I/O manager exists in the process yet. */
        CASE(open_from_instance_setup_before_any_io),
        CASE(create_below_self_reaches_only_lower_filters),
        CASE(create_without_instance_reaches_whole_stack),
        CASE(reference_keeps_file_object_past_close),
        CASE(create_bad_input_is_refused),
        CASE(close_twice_is_reported),
        CASE(handle_of_another_process_is_invalid),
        CASE(ignore_share_access_opens_a_file_held_exclusively),
        CASE(force_access_and_no_parameter_checking),
        CASE(force_access_check_sets_sl_flag),
        CASE(open_target_directory_opens_the_parent),
        CASE(create_ex2_takes_a_driver_context),
        CASE(create_ex2_sends_its_ecp_list_below),
        CASE(flt_file_routines_go_below),
        CASE(another_volume_is_refused),
        CASE(rename_opens_the_target_directory_below),
        CASE(routines_are_found_by_name),
        CASE(handle_left_open_at_unload_is_reported),
        CASE(system_volume_information_folder_is_created),
        CASE(open_object_by_pointer_adds_a_handle),
    };
    return FLTSIM_RUN_SUITE("filter_create", tests);
}
