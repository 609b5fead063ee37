/*
 * The WDK build surface itself: the values, layouts and header-level
 * behaviour a minifilter's source relies on before any routine runs. Layouts
 * are the x64 WDK's (each was compared with the mingw-w64 headers for an
 * LLP64 target); the target-version macros, DEFINE_GUID under INITGUID, and
 * the WDK's inline helpers (IRP stack locations, MDLs, create contexts,
 * pointer arithmetic) are checked at run time, with two more translation
 * units (wdk_headers/) built for other Windows versions.
 */
#include <string.h>

#include "fltsim_test.h"
#include <dontuse.h>
#include <ntdddisk.h>
#include <ntintsafe.h>
#include <ntstrsafe.h>
#include <suppress.h>
#include <wdmsec.h>
#include <wsk.h>

#include "wdk_headers/wdk_headers_tu.h"

/* fltKernel.h has included initguid.h (as the WDK's does), so these define:
 * the first only here (the suite would not link otherwise), the second in
 * the other units too. */
DEFINE_GUID(FltsimTestGuidMainOnly, 0x0badf00d, 0x1111, 0x2222, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
            0x99, 0xaa);
DEFINE_GUID(FltsimTestGuidShared, 0xfedcba98, 0x7654, 0x3210, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54,
            0x32, 0x10);
/* Defined by wdk_headers/rs1.c, only declared by wdk_headers/win7.c. */
extern const GUID FltsimTestGuidDeclared;

/* ------------------------------------------------------------------------- */
/* Values and layouts                                                         */
/* ------------------------------------------------------------------------- */

#define OFF(t, f) offsetof(t, f)

/* The target version with nothing defined: the newest Windows. */
_Static_assert(NTDDI_VERSION == NTDDI_WIN11_GE && NTDDI_WIN11_GE == 0x0A000010, "NTDDI default");
_Static_assert(_WIN32_WINNT == 0x0A00 && WINVER == 0x0A00, "_WIN32_WINNT default");
_Static_assert(OSVER(NTDDI_WIN7) == 0x06010000 && SPVER(NTDDI_VISTASP2) == 2, "OSVER, SPVER");
_Static_assert(DBG == 0, "DBG is 0 when the build does not define it");
_Static_assert(FLT_MGR_WIN8 &&FLT_REGISTRATION_VERSION == 0x0203, "registration version");

/* Statuses (SPEC 11 neighbours). */
_Static_assert(STATUS_INVALID_PARAMETER_1 == (NTSTATUS)0xC00000EF, "INVALID_PARAMETER_1");
_Static_assert(STATUS_INVALID_PARAMETER_12 == (NTSTATUS)0xC00000FA, "INVALID_PARAMETER_12");
_Static_assert(STATUS_INTEGER_OVERFLOW == (NTSTATUS)0xC0000095, "INTEGER_OVERFLOW");
_Static_assert(STATUS_OPLOCK_BREAK_IN_PROGRESS == 0x00000108, "OPLOCK_BREAK_IN_PROGRESS");

/* I/O objects (x64). */
_Static_assert(sizeof(IRP) == 0xD0 && OFF(IRP, IoStatus) == 0x30, "IRP");
_Static_assert(OFF(IRP, Tail.Overlay.CurrentStackLocation) == 0xB8, "IRP current location");
_Static_assert(sizeof(IO_STACK_LOCATION) == 0x48 && OFF(IO_STACK_LOCATION, FileObject) == 0x30,
               "IO_STACK_LOCATION");
_Static_assert(OFF(IO_STACK_LOCATION, Parameters.Create.EaLength) == 0x20, "Create.EaLength");
_Static_assert(sizeof(DEVICE_OBJECT) == 0x148 && OFF(DEVICE_OBJECT, DeviceExtension) == 0x40,
               "DEVICE_OBJECT");
_Static_assert(sizeof(DRIVER_OBJECT) == 0x150 && OFF(DRIVER_OBJECT, MajorFunction) == 0x70,
               "DRIVER_OBJECT");
_Static_assert(sizeof(FILE_OBJECT) == 0xD8, "FILE_OBJECT");
_Static_assert(sizeof(FAST_IO_DISPATCH) == 0xE0, "FAST_IO_DISPATCH");
_Static_assert(sizeof(MDL) == 0x30, "MDL");
_Static_assert(sizeof(KDPC) == 0x40 && sizeof(KAPC) == 0x58 && sizeof(KTIMER) == 0x40, "Ke");
_Static_assert(sizeof(KMUTEX) == 0x38 && sizeof(KWAIT_BLOCK) == 0x30, "KMUTEX, KWAIT_BLOCK");
_Static_assert(sizeof(EX_RUNDOWN_REF) == 8 && OFF(GENERAL_LOOKASIDE, ListEntry) == 0x40, "Ex");
_Static_assert(sizeof(RTL_AVL_TABLE) == 0x68 && sizeof(TIME_FIELDS) == 16, "Rtl");
_Static_assert(sizeof(RTL_OSVERSIONINFOW) == 276 && sizeof(RTL_OSVERSIONINFOEXW) == 284,
               "RTL_OSVERSIONINFO(EX)W");

/* FltMgr structures. */
_Static_assert(sizeof(FLT_FILE_NAME_INFORMATION) == 120 &&
                   OFF(FLT_FILE_NAME_INFORMATION, ParentDir) == 104,
               "FLT_FILE_NAME_INFORMATION");
_Static_assert(sizeof(FLT_VOLUME_PROPERTIES) == 72 &&
                   OFF(FLT_VOLUME_PROPERTIES, FileSystemDriverName) == 24,
               "FLT_VOLUME_PROPERTIES");
_Static_assert(sizeof(FLT_RELATED_CONTEXTS_EX) == 56, "FLT_RELATED_CONTEXTS_EX");
_Static_assert(OFF(FLT_CALLBACK_DATA_QUEUE, CompleteCanceledIo) == 120, "FLT_CALLBACK_DATA_QUEUE");
_Static_assert(FLT_TAG_DATA_BUFFER_HEADER_SIZE == 8, "FLT_TAG_DATA_BUFFER_HEADER_SIZE");
_Static_assert(FLT_PORT_ALL_ACCESS == 0x001F0001, "FLT_PORT_ALL_ACCESS");
_Static_assert(FLT_FILE_NAME_NORMALIZED == 1 && FLT_FILE_NAME_QUERY_DEFAULT == 0x100 &&
                   FLT_FILE_NAME_REQUEST_FROM_CURRENT_PROVIDER == 0x01000000,
               "name options");
_Static_assert(FltGetFileNameFormat(FLT_FILE_NAME_OPENED | FLT_FILE_NAME_QUERY_DEFAULT) ==
                   FLT_FILE_NAME_OPENED,
               "FltGetFileNameFormat");
_Static_assert(FLT_MAX_TRANSACTION_NOTIFICATIONS == 0x4000000F, "transaction notifications");

/* Ob, file system and device controls. */
_Static_assert(sizeof(OB_CALLBACK_REGISTRATION) == 40 && sizeof(OB_PRE_OPERATION_INFORMATION) == 40,
               "object callbacks");
_Static_assert(sizeof(USN_RECORD) == 64 && OFF(USN_RECORD, FileName) == 60, "USN_RECORD");
_Static_assert(sizeof(FILE_ID_INFORMATION) == 24 && FILE_INVALID_FILE_ID == -1LL, "file ids");
_Static_assert(FSCTL_CSV_CONTROL == 0x000902D4 && FSCTL_OFFLOAD_WRITE == 0x00098268, "FSCTL codes");
_Static_assert(FSCTL_REQUEST_OPLOCK_LEVEL_1 == 0x00090000, "FSCTL_REQUEST_OPLOCK_LEVEL_1");
_Static_assert(IOCTL_DISK_GET_CLUSTER_INFO == 0x00070214, "IOCTL_DISK_GET_CLUSTER_INFO");
_Static_assert(IO_IGNORE_SHARE_ACCESS_CHECK == 0x0800 && IO_REPARSE == 0, "IoCreateFileEx flags");
_Static_assert(DPFLTR_FLTMGR_ID == 47 && DPFLTR_IHVDRIVER_ID == 77, "DPFLTR_TYPE");
_Static_assert(sizeof(SOCKADDR_STORAGE) == 128 && sizeof(SOCKADDR_IN6) == 28, "socket addresses");
_Static_assert(NTSTRSAFE_MAX_CCH == 2147483647 && NTSTRSAFE_UNICODE_STRING_MAX_CCH == 32767,
               "ntstrsafe limits");

/* DEFINE_ENUM_FLAG_OPERATORS compiles to nothing in C, where the operators
 * already exist. */
typedef enum { FLTSIM_TEST_FLAG_A = 1, FLTSIM_TEST_FLAG_B = 4 } FLTSIM_TEST_FLAGS;
DEFINE_ENUM_FLAG_OPERATORS(FLTSIM_TEST_FLAGS)

/* ------------------------------------------------------------------------- */
/* Target versions                                                            */
/* ------------------------------------------------------------------------- */

static void version_win32_winnt_alone_derives_ntddi(void **state)
{
    (void)state;
    struct wdk_headers_view v;
    wdk_headers_win7_view(&v);
    assert_int_equal(v.ntddi_version, NTDDI_WIN7);
    assert_int_equal(v.win32_winnt, 0x0601);
    assert_int_equal(v.winver, 0x0601);
    assert_int_equal(v.flt_mgr_win7, 1);
    assert_int_equal(v.flt_mgr_win8, 0);
    assert_int_equal(v.flt_registration_version, FLT_REGISTRATION_VERSION_0202);
    /* Before Windows 10 1607 the create context has no SiloContext. */
    assert_int_equal(v.driver_create_context_size, 4 * sizeof(PVOID));
}

static void version_ntddi_alone_derives_win32_winnt(void **state)
{
    (void)state;
    struct wdk_headers_view v;
    wdk_headers_rs1_view(&v);
    assert_int_equal(v.ntddi_version, NTDDI_WIN10_RS1);
    assert_int_equal(v.win32_winnt, 0x0A00);
    assert_int_equal(v.winver, 0x0A00);
    assert_int_equal(v.flt_mgr_win8, 1);
    assert_int_equal(v.flt_registration_version, FLT_REGISTRATION_VERSION_0203);
    assert_int_equal(v.driver_create_context_size, 5 * sizeof(PVOID));
}

static void version_default_is_newest(void **state)
{
    (void)state;
    assert_int_equal(NTDDI_VERSION, WDK_NTDDI_VERSION);
    assert_int_equal(OSVER(NTDDI_VERSION), NTDDI_WIN10);
    assert_int_equal(SPVER(NTDDI_WIN2KSP4), 4);
    assert_int_equal(SUBVER(NTDDI_WIN10_RS5), 6);
    assert_int_equal(sizeof(IO_DRIVER_CREATE_CONTEXT), 5 * sizeof(PVOID));
}

/* ------------------------------------------------------------------------- */
/* GUIDs                                                                      */
/* ------------------------------------------------------------------------- */

static void guid_declared_elsewhere_is_this_definition(void **state)
{
    (void)state;
    struct wdk_headers_view v;
    wdk_headers_win7_view(&v);
    /* win7.c wrote other bytes in a DEFINE_GUID without INITGUID: had that
     * been a (weak) definition, the linker would have kept it, as win7.c
     * comes before rs1.c. */
    assert_ptr_equal(v.declared_guid, &FltsimTestGuidDeclared);
    assert_int_equal(FltsimTestGuidDeclared.Data1, 0x01234567);
    assert_int_equal(FltsimTestGuidDeclared.Data4[7], 0xef);
}

static void guid_defined_in_two_units_is_one_object(void **state)
{
    (void)state;
    struct wdk_headers_view v7, v10;
    wdk_headers_win7_view(&v7);
    wdk_headers_rs1_view(&v10);
    assert_ptr_equal(v7.shared_guid, &FltsimTestGuidShared);
    assert_ptr_equal(v10.shared_guid, &FltsimTestGuidShared);
    /* fltKernel.h's own DEFINE_GUID, defined in every unit, is one object. */
    assert_ptr_equal(v7.ecp_guid, &GUID_ECP_FLT_CREATEFILE_TARGET);
    assert_ptr_equal(v10.ecp_guid, &GUID_ECP_FLT_CREATEFILE_TARGET);
}

static void guid_is_equal_compares_all_sixteen_bytes(void **state)
{
    (void)state;
    GUID g = FltsimTestGuidMainOnly;
    assert_true(IsEqualGUID(&g, &FltsimTestGuidMainOnly));
    g.Data4[7] ^= 1;
    assert_false(IsEqualGUID(&g, &FltsimTestGuidMainOnly));
    g = FltsimTestGuidMainOnly;
    g.Data1 ^= 0x80000000;
    assert_false(IsEqualGUID(&g, &FltsimTestGuidMainOnly));
    assert_false(IsEqualGUID(&GUID_ECP_SRV_OPEN, &GUID_ECP_NFS_OPEN));
    assert_int_equal(GUID_ECP_OPLOCK_KEY.Data1, 0x48850596);
    assert_int_equal(sizeof(GUID), 16);
}

/* ------------------------------------------------------------------------- */
/* Macros and inline helpers                                                  */
/* ------------------------------------------------------------------------- */

static void pointer_macros_compute_byte_offsets(void **state)
{
    (void)state;
    UCHAR buffer[64];
    assert_ptr_equal(Add2Ptr(buffer, 3), buffer + 3);
    assert_int_equal(PtrOffset(buffer, buffer + 40), 40);
    assert_int_equal(sizeof(PtrOffset(buffer, buffer + 40)), sizeof(ULONG));
    assert_int_equal(ROUND_TO_SIZE(13, 8), 16);
    assert_int_equal(ROUND_TO_SIZE(16, 8), 16);
    assert_true(IS_ALIGNED(buffer + 16 - ((ULONG_PTR)buffer & 15), 16));
    assert_false(IS_ALIGNED(1, 2));
    assert_int_equal(BYTES_TO_PAGES(PAGE_SIZE + 1), 2);
    assert_int_equal(ADDRESS_AND_SIZE_TO_SPAN_PAGES((PVOID)(ULONG_PTR)0xFFF, 2), 2);
}

static void enum_flags_combine_in_c(void **state)
{
    (void)state;
    FLTSIM_TEST_FLAGS f = FLTSIM_TEST_FLAG_A | FLTSIM_TEST_FLAG_B;
    assert_int_equal(f, 5);
    assert_true(FlagOn(f, FLTSIM_TEST_FLAG_B));
    ClearFlag(f, FLTSIM_TEST_FLAG_B);
    assert_int_equal(f, FLTSIM_TEST_FLAG_A);
}

static void interlocked_bits_set_and_clear(void **state)
{
    (void)state;
    ULONG flags = 0x0F;
    assert_int_equal(RtlInterlockedClearBits(&flags, 0x05), 0x0F);
    assert_int_equal(flags, 0x0A);
    RtlInterlockedSetBitsDiscardReturn(&flags, 0x100);
    assert_int_equal(flags, 0x10A);
}

static void irp_stack_helpers_move_and_copy_locations(void **state)
{
    (void)state;
    struct {
        IRP irp;
        IO_STACK_LOCATION stack[2];
    } packet;
    memset(&packet, 0, sizeof(packet));
    packet.irp.StackCount = 2;
    packet.irp.CurrentLocation = 2;
    packet.irp.Tail.Overlay.CurrentStackLocation = &packet.stack[1];

    PIO_STACK_LOCATION current = IoGetCurrentIrpStackLocation(&packet.irp);
    current->MajorFunction = IRP_MJ_READ;
    current->Parameters.Read.Length = 512;
    current->CompletionRoutine = (PIO_COMPLETION_ROUTINE)NULL;
    assert_ptr_equal(IoGetNextIrpStackLocation(&packet.irp), &packet.stack[0]);

    IoCopyCurrentIrpStackLocationToNext(&packet.irp);
    assert_int_equal(packet.stack[0].MajorFunction, IRP_MJ_READ);
    assert_int_equal(packet.stack[0].Parameters.Read.Length, 512);

    IoSetCompletionRoutine(&packet.irp, NULL, &packet, TRUE, FALSE, TRUE);
    assert_int_equal(packet.stack[0].Control, SL_INVOKE_ON_SUCCESS | SL_INVOKE_ON_CANCEL);
    assert_ptr_equal(packet.stack[0].Context, &packet);

    IoMarkIrpPending(&packet.irp);
    assert_true(FlagOn(current->Control, SL_PENDING_RETURNED));

    IoSetNextIrpStackLocation(&packet.irp);
    assert_int_equal(packet.irp.CurrentLocation, 1);
    assert_ptr_equal(IoGetCurrentIrpStackLocation(&packet.irp), &packet.stack[0]);
    IoSkipCurrentIrpStackLocation(&packet.irp);
    assert_ptr_equal(IoGetCurrentIrpStackLocation(&packet.irp), &packet.stack[1]);
}

static void mdl_macros_describe_the_buffer(void **state)
{
    (void)state;
    struct {
        MDL mdl;
        PFN_NUMBER pages[3];
    } m;
    PVOID va = (PVOID)(ULONG_PTR)0x12345678;
    MmInitializeMdl(&m.mdl, va, 3 * PAGE_SIZE - 0x700); /* 0x678 + 0x2900: three pages */
    assert_ptr_equal(m.mdl.StartVa, (PVOID)(ULONG_PTR)0x12345000);
    assert_int_equal(MmGetMdlByteOffset(&m.mdl), 0x678);
    assert_int_equal(MmGetMdlByteCount(&m.mdl), 3 * PAGE_SIZE - 0x700);
    assert_ptr_equal(MmGetMdlVirtualAddress(&m.mdl), va);
    assert_int_equal(m.mdl.Size, sizeof(MDL) + 3 * sizeof(PFN_NUMBER));
    assert_ptr_equal(MmGetMdlPfnArray(&m.mdl), m.pages);
}

static void driver_create_context_initializes_size_and_zeroes(void **state)
{
    (void)state;
    IO_DRIVER_CREATE_CONTEXT ctx;
    memset(&ctx, 0xA5, sizeof(ctx));
    IoInitializeDriverCreateContext(&ctx);
    assert_int_equal(ctx.Size, sizeof(IO_DRIVER_CREATE_CONTEXT));
    assert_null(ctx.ExtraCreateParameter);
    assert_null(ctx.DeviceObjectHint);
    assert_null(ctx.TxnParameters);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_win32_winnt_alone_derives_ntddi),
        cmocka_unit_test(version_ntddi_alone_derives_win32_winnt),
        cmocka_unit_test(version_default_is_newest),
        cmocka_unit_test(guid_declared_elsewhere_is_this_definition),
        cmocka_unit_test(guid_defined_in_two_units_is_one_object),
        cmocka_unit_test(guid_is_equal_compares_all_sixteen_bytes),
        cmocka_unit_test(pointer_macros_compute_byte_offsets),
        cmocka_unit_test(enum_flags_combine_in_c),
        cmocka_unit_test(interlocked_bits_set_and_clear),
        cmocka_unit_test(irp_stack_helpers_move_and_copy_locations),
        cmocka_unit_test(mdl_macros_describe_the_buffer),
        cmocka_unit_test(driver_create_context_initializes_size_and_zeroes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
