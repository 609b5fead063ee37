/*
 * The rest of the Flt file routines a filter issues below its instance
 * (SPEC 2.3, issue 18 item 2): FltQueryDirectoryFileEx, FltFlushBuffers2,
 * FltQueryVolumeInformation, FltTagFile / FltUntagFile, FltQueryEaFile /
 * FltSetEaFile and FltQuerySecurityObject / FltSetSecurityObject. Each goes
 * only to the instances below the caller (L sees it, M and U do not), the
 * answer is the file system's, and bad input gets the documented status. The
 * filters U, M and L are filter_create_fx.h's, registered here for the
 * operations these routines send too.
 */
#include <stddef.h>

#include "filter_create_fx.h"

/* What each filter saw while an action ran, by major function; the minor
 * function of the last one L saw. */
struct io_seen {
    LONG u[IRP_MJ_MAXIMUM_FUNCTION + 1], m[IRP_MJ_MAXIMUM_FUNCTION + 1],
        l[IRP_MJ_MAXIMUM_FUNCTION + 1];
    UCHAR l_minor[IRP_MJ_MAXIMUM_FUNCTION + 1];
};
static struct io_seen seen;
static bool recording;

static FLT_PREOP_CALLBACK_STATUS io_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                        PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    struct fixture *f = the_fixture;
    UCHAR major = data->Iopb->MajorFunction;
    if (recording && major <= IRP_MJ_MAXIMUM_FUNCTION) {
        LONG *counts = tf == &f->u ? seen.u : tf == &f->m ? seen.m : seen.l;
        counts[major]++;
        if (tf == &f->l)
            seen.l_minor[major] = data->Iopb->MinorFunction;
    }
    return pre(tf, data, objects, context);
}

static void more_ops(struct tf_filter *tf)
{
    all_ops(tf);
    static const UCHAR more[] = {IRP_MJ_FLUSH_BUFFERS,
                                 IRP_MJ_QUERY_VOLUME_INFORMATION,
                                 IRP_MJ_FILE_SYSTEM_CONTROL,
                                 IRP_MJ_QUERY_EA,
                                 IRP_MJ_SET_EA,
                                 IRP_MJ_QUERY_SECURITY,
                                 IRP_MJ_SET_SECURITY,
                                 IRP_MJ_DIRECTORY_CONTROL};
    for (size_t i = 0; i < sizeof(more); i++)
        tf->ops[more[i]].pre = tf->ops[more[i]].post = true;
    tf->pre = io_pre;
}

static int io_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    the_fixture = f;
    memset(&seen, 0, sizeof(seen));
    recording = false;
    world_create(&f->w, 0);
    tf_init(&f->u, "U", "300000");
    tf_init(&f->m, "M", "200000");
    tf_init(&f->l, "L", "100000");
    more_ops(&f->u);
    more_ops(&f->m);
    more_ops(&f->l);
    f->u.user = &f->su;
    f->m.user = &f->sm;
    f->l.user = &f->sl;
    assert_status(tf_load(f->w.sys, &f->u), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->m), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->l), STATUS_SUCCESS);
    *state = f;
    return 0;
}

/* Only L saw major, n times; M and U never. */
static void only_below(UCHAR major, LONG n)
{
    assert_int_equal(seen.l[major], n);
    assert_int_equal(seen.m[major], 0);
    assert_int_equal(seen.u[major], 0);
}

/* \dir\b.txt opened below M for reading and writing. */
static NTSTATUS open_b_rw(struct fixture *f, PFLT_INSTANCE inst)
{
    return FltCreateFileEx(f->m.filter, inst, &f->handle, &f->fo,
                           GENERIC_READ | GENERIC_WRITE | READ_CONTROL | WRITE_OWNER | SYNCHRONIZE,
                           b_oa(), &f->iosb, NULL, 0, FILE_SHARE_READ, FILE_OPEN,
                           FILE_SYNCHRONOUS_IO_NONALERT | FILE_NON_DIRECTORY_FILE, NULL, 0, 0);
}

static void close_b(struct fixture *f)
{
    ObDereferenceObject(f->fo);
    (void)FltClose(f->handle);
}

static void assert_all_closed(struct fixture *f)
{
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 0);
    assert_int_equal(fltsim_memfs_open_count(f->w.fs), 0);
}

/* ---- FltQueryDirectoryFileEx ---- */

static struct {
    NTSTATUS open, first, bad_flags;
    ULONG returned;
    WCHAR name[16];
} dr;

static void act_dir_ex(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    PFLT_INSTANCE inst = objects->Instance;
    UNICODE_STRING dir = RTL_CONSTANT_STRING(L"\\??\\C:\\dir");
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &dir, OBJ_KERNEL_HANDLE, NULL, NULL);
    dr.open =
        FltCreateFileEx(f->m.filter, inst, &f->handle, &f->fo, FILE_LIST_DIRECTORY | SYNCHRONIZE,
                        &oa, &f->iosb, NULL, 0, FILE_SHARE_READ | FILE_SHARE_WRITE, FILE_OPEN,
                        FILE_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0, 0);
    if (!NT_SUCCESS(dr.open))
        return;
    recording = true;
    ULONG buf[64];
    UNICODE_STRING pattern = RTL_CONSTANT_STRING(L"b.txt");
    dr.first =
        FltQueryDirectoryFileEx(inst, f->fo, buf, sizeof(buf), FileNamesInformation,
                                SL_RETURN_SINGLE_ENTRY | SL_RESTART_SCAN, &pattern, &dr.returned);
    const FILE_NAMES_INFORMATION *names = (const FILE_NAMES_INFORMATION *)buf;
    if (NT_SUCCESS(dr.first) && names->FileNameLength < sizeof(dr.name))
        memcpy(dr.name, names->FileName, names->FileNameLength);
    dr.bad_flags = FltQueryDirectoryFileEx(inst, f->fo, buf, sizeof(buf), FileNamesInformation,
                                           0x80000000u, NULL, NULL);
    recording = false;
    close_b(f);
}

/* FltQueryDirectoryFileEx lists below the instance with the IRP's flags;
 * an unknown flag is STATUS_INVALID_PARAMETER before anything is sent. */
static void query_directory_ex_goes_below(void **state)
{
    struct fixture *f = *state;
    memset(&dr, 0, sizeof(dr));
    run_as_m(f, act_dir_ex);
    assert_status(dr.open, STATUS_SUCCESS);
    assert_status(dr.first, STATUS_SUCCESS);
    assert_true(dr.returned > 0);
    assert_memory_equal(dr.name, L"b.txt", 5 * sizeof(WCHAR));
    assert_status(dr.bad_flags, STATUS_INVALID_PARAMETER);
    only_below(IRP_MJ_DIRECTORY_CONTROL, 1);
    assert_int_equal(seen.l_minor[IRP_MJ_DIRECTORY_CONTROL], IRP_MN_QUERY_DIRECTORY);
    assert_all_closed(f);
}

/* ---- FltFlushBuffers2 ---- */

static struct {
    NTSTATUS open, plain, data_only, purge, bad_type, no_file;
    UCHAR minor_after_plain, minor_after_data_only;
} fl;

static void act_flush2(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    PFLT_INSTANCE inst = objects->Instance;
    fl.open = open_b_rw(f, inst);
    if (!NT_SUCCESS(fl.open))
        return;
    recording = true;
    fl.plain = FltFlushBuffers2(inst, f->fo, 0, NULL);
    fl.minor_after_plain = seen.l_minor[IRP_MJ_FLUSH_BUFFERS];
    fl.data_only = FltFlushBuffers2(inst, f->fo, FLT_FLUSH_TYPE_FILE_DATA_ONLY, NULL);
    fl.minor_after_data_only = seen.l_minor[IRP_MJ_FLUSH_BUFFERS];
    fl.purge = FltFlushBuffers2(inst, f->fo, FLT_FLUSH_TYPE_FLUSH_AND_PURGE, NULL);
    fl.bad_type =
        FltFlushBuffers2(inst, f->fo, FLT_FLUSH_TYPE_FILE_DATA_ONLY | FLT_FLUSH_TYPE_NO_SYNC, NULL);
    fl.no_file = FltFlushBuffers2(inst, NULL, 0, NULL);
    recording = false;
    close_b(f);
}

/* FltFlushBuffers2 sends IRP_MJ_FLUSH_BUFFERS below the instance, the
 * FlushType as its minor function; more than one type, or no file object, is
 * STATUS_INVALID_PARAMETER. */
static void flush_buffers2_goes_below_with_its_minor(void **state)
{
    struct fixture *f = *state;
    memset(&fl, 0, sizeof(fl));
    run_as_m(f, act_flush2);
    assert_status(fl.open, STATUS_SUCCESS);
    assert_status(fl.plain, STATUS_SUCCESS);
    assert_int_equal(fl.minor_after_plain, 0);
    assert_status(fl.data_only, STATUS_SUCCESS);
    assert_int_equal(fl.minor_after_data_only, IRP_MN_FLUSH_DATA_ONLY);
    assert_status(fl.purge, STATUS_SUCCESS);
    assert_int_equal(seen.l_minor[IRP_MJ_FLUSH_BUFFERS], IRP_MN_FLUSH_AND_PURGE);
    assert_status(fl.bad_type, STATUS_INVALID_PARAMETER);
    assert_status(fl.no_file, STATUS_INVALID_PARAMETER);
    only_below(IRP_MJ_FLUSH_BUFFERS, 3);
    assert_all_closed(f);
}

/* ---- FltQueryVolumeInformation ---- */

static struct {
    NTSTATUS attr, size, size_file, no_instance, no_buffer, short_buffer;
    IO_STATUS_BLOCK iosb, bad_iosb;
    ULONG attributes;
    LONGLONG units, units_file;
    LONG creates_below, creates_here;
} vq;

static void act_volume(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    PFLT_INSTANCE inst = objects->Instance;
    recording = true;
    union {
        FILE_FS_ATTRIBUTE_INFORMATION info;
        char bytes[sizeof(FILE_FS_ATTRIBUTE_INFORMATION) + 32 * sizeof(WCHAR)];
    } attr;
    vq.attr =
        FltQueryVolumeInformation(inst, &vq.iosb, &attr, sizeof(attr), FileFsAttributeInformation);
    vq.attributes = attr.info.FileSystemAttributes;
    vq.creates_below = seen.l[IRP_MJ_CREATE];
    vq.creates_here = seen.m[IRP_MJ_CREATE] + seen.u[IRP_MJ_CREATE];
    FILE_FS_SIZE_INFORMATION size;
    IO_STATUS_BLOCK iosb;
    vq.size = FltQueryVolumeInformation(inst, &iosb, &size, sizeof(size), FileFsSizeInformation);
    vq.units = size.TotalAllocationUnits.QuadPart;
    vq.no_instance =
        FltQueryVolumeInformation(NULL, &vq.bad_iosb, &size, sizeof(size), FileFsSizeInformation);
    vq.no_buffer =
        FltQueryVolumeInformation(inst, &iosb, NULL, sizeof(size), FileFsSizeInformation);
    vq.short_buffer = FltQueryVolumeInformation(inst, &iosb, &size, 4, FileFsSizeInformation);
    recording = false;
    /* The same answer as through a file object of the volume. */
    if (NT_SUCCESS(open_b_rw(f, inst))) {
        vq.size_file = FltQueryVolumeInformationFile(inst, f->fo, &size, sizeof(size),
                                                     FileFsSizeInformation, NULL);
        vq.units_file = size.TotalAllocationUnits.QuadPart;
        close_b(f);
    }
}

/* FltQueryVolumeInformation asks the file system below the instance through
 * a volume open of its own (L sees the open and the query, M and U
 * nothing), fills the Iosb, and leaves no handle open; no instance, no
 * buffer or a buffer too short give the documented statuses. */
static void query_volume_information_by_instance(void **state)
{
    struct fixture *f = *state;
    memset(&vq, 0, sizeof(vq));
    run_as_m(f, act_volume);
    assert_status(vq.attr, STATUS_SUCCESS);
    assert_status(vq.iosb.Status, STATUS_SUCCESS);
    assert_true(vq.iosb.Information > offsetof(FILE_FS_ATTRIBUTE_INFORMATION, FileSystemName));
    assert_true(vq.attributes & 0x00000080u); /* FILE_SUPPORTS_REPARSE_POINTS */
    assert_int_equal(vq.creates_below, 1);
    assert_int_equal(vq.creates_here, 0);
    assert_status(vq.size, STATUS_SUCCESS);
    assert_status(vq.size_file, STATUS_SUCCESS);
    assert_true(vq.units > 0);
    assert_true(vq.units == vq.units_file);
    assert_status(vq.no_instance, STATUS_INVALID_PARAMETER);
    assert_status(vq.bad_iosb.Status, STATUS_INVALID_PARAMETER);
    assert_status(vq.no_buffer, STATUS_INVALID_PARAMETER);
    assert_status(vq.short_buffer, STATUS_INFO_LENGTH_MISMATCH);
    only_below(IRP_MJ_QUERY_VOLUME_INFORMATION, 3);
    assert_all_closed(f);
}

static NTSTATUS setup_query_status;
static ULONG setup_attributes;
static ULONG_PTR setup_information;

static void n_setup_query(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    (void)tf;
    union {
        FILE_FS_ATTRIBUTE_INFORMATION info;
        char bytes[sizeof(FILE_FS_ATTRIBUTE_INFORMATION) + 32 * sizeof(WCHAR)];
    } attr;
    IO_STATUS_BLOCK iosb;
    setup_query_status = FltQueryVolumeInformation(objects->Instance, &iosb, &attr, sizeof(attr),
                                                   FileFsAttributeInformation);
    setup_attributes = attr.info.FileSystemAttributes;
    setup_information = iosb.Information;
}

/* From InstanceSetupCallback, where filters decide whether to attach by the
 * file system's attributes: the query works before any application I/O, and
 * the filters below the new instance see it. */
static void query_volume_information_from_instance_setup(void **state)
{
    struct fixture *f = *state;
    tf_init(&f->n, "N", "250000");
    tf_only(&f->n, IRP_MJ_CREATE);
    f->n.setup_hook = n_setup_query;
    setup_query_status = STATUS_PENDING;
    recording = true;
    assert_status(tf_load(f->w.sys, &f->n), STATUS_SUCCESS);
    recording = false;
    assert_status(setup_query_status, STATUS_SUCCESS);
    assert_true(setup_attributes & 0x00000080u);
    assert_true(setup_information > 0);
    assert_int_equal(seen.m[IRP_MJ_QUERY_VOLUME_INFORMATION], 1);
    assert_int_equal(seen.l[IRP_MJ_QUERY_VOLUME_INFORMATION], 1);
    assert_int_equal(seen.u[IRP_MJ_QUERY_VOLUME_INFORMATION], 0);
    assert_all_closed(f);
}

/* ---- FltTagFile / FltUntagFile ---- */

#define VENDOR_TAG 0x00001234u
static char hello[] = "hello", x_data[] = "x";
static const GUID vendor_guid = {0x8d5a3b21, 0x1c2d, 0x4e5f, {1, 2, 3, 4, 5, 6, 7, 8}};
static const GUID other_guid = {0x8d5a3b22, 0x1c2d, 0x4e5f, {1, 2, 3, 4, 5, 6, 7, 8}};

static struct {
    NTSTATUS open, tag, get, retag_other_guid, untag_wrong_tag, untag_wrong_guid, untag, get_after,
        no_guid, no_data, read_only;
    ULONG got_tag;
    USHORT got_length;
    GUID got_guid;
    char got_data[8];
} tg;

static void act_tag(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    PFLT_INSTANCE inst = objects->Instance;
    tg.open = open_b_rw(f, inst);
    if (!NT_SUCCESS(tg.open))
        return;
    recording = true;
    GUID guid = vendor_guid, other = other_guid;
    tg.tag = FltTagFile(inst, f->fo, VENDOR_TAG, &guid, hello, 5);
    union {
        REPARSE_GUID_DATA_BUFFER rp;
        char bytes[256];
    } out;
    memset(&out, 0, sizeof(out));
    tg.get =
        FltFsControlFile(inst, f->fo, FSCTL_GET_REPARSE_POINT, NULL, 0, &out, sizeof(out), NULL);
    tg.got_tag = out.rp.ReparseTag;
    tg.got_length = out.rp.ReparseDataLength;
    tg.got_guid = out.rp.ReparseGuid;
    memcpy(tg.got_data, out.rp.GenericReparseBuffer.DataBuffer, 5);
    tg.retag_other_guid = FltTagFile(inst, f->fo, VENDOR_TAG, &other, x_data, 1);
    tg.untag_wrong_tag = FltUntagFile(inst, f->fo, VENDOR_TAG + 1, &guid);
    tg.untag_wrong_guid = FltUntagFile(inst, f->fo, VENDOR_TAG, &other);
    tg.untag = FltUntagFile(inst, f->fo, VENDOR_TAG, &guid);
    tg.get_after =
        FltFsControlFile(inst, f->fo, FSCTL_GET_REPARSE_POINT, NULL, 0, &out, sizeof(out), NULL);
    recording = false;
    tg.no_guid = FltTagFile(inst, f->fo, VENDOR_TAG, NULL, hello, 5);
    tg.no_data = FltTagFile(inst, f->fo, VENDOR_TAG, &guid, NULL, 5);
    close_b(f);
    /* Without FILE_WRITE_DATA the file system refuses. */
    if (NT_SUCCESS(open_b(f, inst, FILE_SHARE_READ, 0, &f->fo))) {
        tg.read_only = FltTagFile(inst, f->fo, VENDOR_TAG, &guid, hello, 5);
        close_b(f);
    }
}

/* FltTagFile sets a vendor reparse point (tag, GUID, data) through
 * FSCTL_SET_REPARSE_POINT below the instance, and FltUntagFile removes it;
 * the file system's checks answer a wrong tag (STATUS_IO_REPARSE_TAG_MISMATCH)
 * or GUID (STATUS_REPARSE_ATTRIBUTE_CONFLICT); a vendor tag without a GUID is
 * STATUS_INVALID_PARAMETER; a file object without FILE_WRITE_DATA is refused
 * by the file system (STATUS_ACCESS_DENIED). */
static void tag_and_untag_go_below(void **state)
{
    struct fixture *f = *state;
    memset(&tg, 0, sizeof(tg));
    run_as_m(f, act_tag);
    assert_status(tg.open, STATUS_SUCCESS);
    assert_status(tg.tag, STATUS_SUCCESS);
    assert_status(tg.get, STATUS_SUCCESS);
    assert_int_equal(tg.got_tag, VENDOR_TAG);
    assert_int_equal(tg.got_length, 5);
    assert_memory_equal(&tg.got_guid, &vendor_guid, sizeof(GUID));
    assert_memory_equal(tg.got_data, "hello", 5);
    assert_status(tg.retag_other_guid, STATUS_REPARSE_ATTRIBUTE_CONFLICT);
    assert_status(tg.untag_wrong_tag, STATUS_IO_REPARSE_TAG_MISMATCH);
    assert_status(tg.untag_wrong_guid, STATUS_REPARSE_ATTRIBUTE_CONFLICT);
    assert_status(tg.untag, STATUS_SUCCESS);
    assert_status(tg.get_after, STATUS_NOT_A_REPARSE_POINT);
    assert_status(tg.no_guid, STATUS_INVALID_PARAMETER);
    assert_status(tg.no_data, STATUS_INVALID_PARAMETER);
    assert_status(tg.read_only, STATUS_ACCESS_DENIED);
    only_below(IRP_MJ_FILE_SYSTEM_CONTROL, 7);
    assert_all_closed(f);
    /* The file opens normally again: no reparse point is left. */
    HANDLE h;
    assert_status(fltsim_io_open(f->w.sys, L"C:\\dir\\b.txt", GENERIC_READ, &h), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* ---- FltQueryEaFile / FltSetEaFile ---- */

static struct {
    NTSTATUS open, query, set, query_no_buffer, set_no_buffer, set_completed_by_l;
    ULONG returned;
} ea;
static bool l_completes_set_ea;

static FLT_PREOP_CALLBACK_STATUS ea_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                        PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    FLT_PREOP_CALLBACK_STATUS r = io_pre(tf, data, objects, context);
    if (tf == &the_fixture->l && l_completes_set_ea && data->Iopb->MajorFunction == IRP_MJ_SET_EA) {
        data->IoStatus.Status = STATUS_SUCCESS;
        data->IoStatus.Information = 0;
        return FLT_PREOP_COMPLETE;
    }
    return r;
}

static void act_ea(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    PFLT_INSTANCE inst = objects->Instance;
    ea.open = open_b_rw(f, inst);
    if (!NT_SUCCESS(ea.open))
        return;
    recording = true;
    ULONG buf[32];
    ULONG index = 1;
    ea.query =
        FltQueryEaFile(inst, f->fo, buf, sizeof(buf), FALSE, NULL, 0, &index, TRUE, &ea.returned);
    union {
        FILE_FULL_EA_INFORMATION info;
        char bytes[64];
    } in;
    memset(&in, 0, sizeof(in));
    in.info.EaNameLength = 3;
    in.info.EaValueLength = 2;
    memcpy(in.info.EaName, "KEY\0va", 6);
    ULONG in_length = (ULONG)(offsetof(FILE_FULL_EA_INFORMATION, EaName) + 3 + 1 + 2);
    ea.set = FltSetEaFile(inst, f->fo, &in, in_length);
    l_completes_set_ea = true;
    ea.set_completed_by_l = FltSetEaFile(inst, f->fo, &in, in_length);
    l_completes_set_ea = false;
    recording = false;
    ea.query_no_buffer = FltQueryEaFile(inst, f->fo, NULL, 0, FALSE, NULL, 0, NULL, TRUE, NULL);
    ea.set_no_buffer = FltSetEaFile(inst, f->fo, NULL, 0);
    close_b(f);
}

/* FltQueryEaFile and FltSetEaFile send IRP_MJ_QUERY_EA and IRP_MJ_SET_EA
 * below the instance and return what comes back: memfs keeps no EAs
 * (STATUS_NO_EAS_ON_FILE for the query, STATUS_EAS_NOT_SUPPORTED for the set,
 * the file system's answers), and what a filter below completes with is what
 * the caller gets. */
static void ea_routines_return_what_the_file_system_says(void **state)
{
    struct fixture *f = *state;
    memset(&ea, 0, sizeof(ea));
    f->l.pre = ea_pre;
    run_as_m(f, act_ea);
    assert_status(ea.open, STATUS_SUCCESS);
    assert_status(ea.query, STATUS_NO_EAS_ON_FILE);
    assert_int_equal(ea.returned, 0);
    assert_int_equal(seen.l_minor[IRP_MJ_QUERY_EA], 0);
    assert_status(ea.set, STATUS_EAS_NOT_SUPPORTED);
    assert_status(ea.set_completed_by_l, STATUS_SUCCESS);
    assert_status(ea.query_no_buffer, STATUS_INVALID_PARAMETER);
    assert_status(ea.set_no_buffer, STATUS_INVALID_PARAMETER);
    only_below(IRP_MJ_QUERY_EA, 1);
    only_below(IRP_MJ_SET_EA, 2);
    assert_all_closed(f);
}

/* ---- FltQuerySecurityObject / FltSetSecurityObject ---- */

static struct {
    NTSTATUS open, size, query, set, set_bad, set_null, query_null;
    ULONG needed, needed2;
    SECURITY_DESCRIPTOR_RELATIVE sd;
} se;

static void act_security(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    PFLT_INSTANCE inst = objects->Instance;
    se.open = open_b_rw(f, inst);
    if (!NT_SUCCESS(se.open))
        return;
    recording = true;
    const SECURITY_INFORMATION what = OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION;
    se.size = FltQuerySecurityObject(inst, f->fo, what, NULL, 0, &se.needed);
    ULONG buf[32];
    se.query = FltQuerySecurityObject(inst, f->fo, what, buf, sizeof(buf), &se.needed2);
    memcpy(&se.sd, buf, sizeof(se.sd));
    se.set = FltSetSecurityObject(inst, f->fo, OWNER_SECURITY_INFORMATION, buf);
    SECURITY_DESCRIPTOR_RELATIVE bad;
    memset(&bad, 0, sizeof(bad)); /* revision 0 */
    se.set_bad = FltSetSecurityObject(inst, f->fo, OWNER_SECURITY_INFORMATION, &bad);
    recording = false;
    se.set_null = FltSetSecurityObject(inst, f->fo, OWNER_SECURITY_INFORMATION, NULL);
    se.query_null = FltQuerySecurityObject(inst, f->fo, what, NULL, 64, NULL);
    close_b(f);
}

/* FltQuerySecurityObject asks the file system below the instance (too
 * short a buffer: STATUS_BUFFER_TOO_SMALL and the size needed, as the I/O
 * manager turns the file system's STATUS_BUFFER_OVERFLOW); the descriptor is
 * self-relative with an owner and a group; FltSetSecurityObject sends it
 * back, and the file system refuses a malformed one. */
static void security_routines_go_through_the_file_system(void **state)
{
    struct fixture *f = *state;
    memset(&se, 0, sizeof(se));
    run_as_m(f, act_security);
    assert_status(se.open, STATUS_SUCCESS);
    assert_status(se.size, STATUS_BUFFER_TOO_SMALL);
    assert_true(se.needed > sizeof(SECURITY_DESCRIPTOR_RELATIVE));
    assert_status(se.query, STATUS_SUCCESS);
    assert_int_equal(se.needed2, se.needed);
    assert_int_equal(se.sd.Revision, SECURITY_DESCRIPTOR_REVISION);
    assert_true(se.sd.Control & SE_SELF_RELATIVE);
    assert_true(se.sd.Owner != 0 && se.sd.Group != 0);
    assert_status(se.set, STATUS_SUCCESS);
    assert_status(se.set_bad, STATUS_INVALID_SECURITY_DESCR);
    assert_status(se.set_null, STATUS_INVALID_PARAMETER);
    assert_status(se.query_null, STATUS_INVALID_PARAMETER);
    only_below(IRP_MJ_QUERY_SECURITY, 2);
    only_below(IRP_MJ_SET_SECURITY, 2);
    assert_all_closed(f);
}

/* ---- another volume, no instance ---- */

static HANDLE d_handle;
static NTSTATUS wrong[8];

static void act_wrong_volume(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    (void)f;
    PFLT_INSTANCE inst = objects->Instance;
    PFILE_OBJECT dfo = fltsim_io_file_object(the_fixture->w.sys, d_handle);
    GUID guid = vendor_guid;
    ULONG buf[16];
    recording = true;
    wrong[0] = FltFlushBuffers2(inst, dfo, 0, NULL);
    wrong[1] = FltTagFile(inst, dfo, VENDOR_TAG, &guid, x_data, 1);
    wrong[2] = FltUntagFile(inst, dfo, VENDOR_TAG, &guid);
    wrong[3] = FltQueryEaFile(inst, dfo, buf, sizeof(buf), FALSE, NULL, 0, NULL, TRUE, NULL);
    wrong[4] = FltSetEaFile(inst, dfo, buf, sizeof(buf));
    wrong[5] =
        FltQuerySecurityObject(inst, dfo, OWNER_SECURITY_INFORMATION, buf, sizeof(buf), NULL);
    wrong[6] = FltSetSecurityObject(inst, dfo, OWNER_SECURITY_INFORMATION, buf);
    wrong[7] = FltFlushBuffers2(NULL, dfo, 0, NULL);
    recording = false;
}

/* A file object of another volume than the instance's, or no instance:
 * STATUS_INVALID_PARAMETER from every routine, and nothing is sent. */
static void another_volume_is_refused_by_every_routine(void **state)
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
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++)
        wrong[i] = STATUS_PENDING;
    run_as_m(f, act_wrong_volume);
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++)
        if (wrong[i] != STATUS_INVALID_PARAMETER)
            fail_msg("call %zu returned 0x%08x", i, (unsigned)wrong[i]);
    for (int mj = 0; mj <= IRP_MJ_MAXIMUM_FUNCTION; mj++)
        assert_int_equal(seen.l[mj] + seen.m[mj] + seen.u[mj], 0);
    assert_status(fltsim_io_close(f->w.sys, d_handle), STATUS_SUCCESS);
}

/* ---- the routines are there ---- */

static void routines_are_found_by_name(void **state)
{
    (void)state;
    static const char *const flt[] = {"FltQueryDirectoryFileEx",
                                      "FltFlushBuffers2",
                                      "FltQueryVolumeInformation",
                                      "FltTagFile",
                                      "FltUntagFile",
                                      "FltQueryEaFile",
                                      "FltSetEaFile",
                                      "FltQuerySecurityObject",
                                      "FltSetSecurityObject"};
    for (size_t i = 0; i < sizeof(flt) / sizeof(flt[0]); i++)
        if (FltGetRoutineAddress(flt[i]) == NULL)
            fail_msg("FltGetRoutineAddress(\"%s\") is NULL", flt[i]);
}

int main(void)
{
#define CASE(name) cmocka_unit_test_setup_teardown(name, io_setup, teardown)
    const struct CMUnitTest tests[] = {
        CASE(query_directory_ex_goes_below),
        CASE(flush_buffers2_goes_below_with_its_minor),
        CASE(query_volume_information_by_instance),
        CASE(query_volume_information_from_instance_setup),
        CASE(tag_and_untag_go_below),
        CASE(ea_routines_return_what_the_file_system_says),
        CASE(security_routines_go_through_the_file_system),
        CASE(another_volume_is_refused_by_every_routine),
        CASE(routines_are_found_by_name),
    };
    return FLTSIM_RUN_SUITE("filter_io_more", tests);
}
