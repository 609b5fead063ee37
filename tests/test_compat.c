/*
 * The compat surface: this file is written the way a minifilter is (L"..."
 * literals, RTL_CONSTANT_STRING, SAL annotations, PAGED_CODE, SEH keywords,
 * #pragma alloc_text) and checks that fltKernel.h gives the WDK's widths and
 * values (SPEC 1.1-1.3, 2.4, 2.6, 3.1, 4.1, 6.2-6.4, 11), and that the small
 * kernel services behave as on Windows: interlocked operations, list helpers,
 * pool (counted per tag), IRQL, the per-thread top-level IRP and requestor
 * identity.
 */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "fltsim_test.h"

/* ------------------------------------------------------------------------- */
/* Minifilter-style code: it must compile unchanged                          */
/* ------------------------------------------------------------------------- */

/* Pool tags are spelled as hex: a WDK-style multi-character constant such as
 * 'ApmC' draws gcc's and clang's -Wmultichar warning (see the report). */
#define TAG_COUNTED 0x436d7041u /* 'CmpA' */
#define TAG_OTHER 0x436d7042u   /* 'CmpB' */
#define TAG_ZEROED 0x436d705au  /* 'CmpZ' */
#define TAG_NULL 0x436d704eu    /* 'CmpN' */

DECLARE_GLOBAL_CONST_UNICODE_STRING(CompatGlobalName, L"\\Device\\Compat");
static const UNICODE_STRING CompatExtension = RTL_CONSTANT_STRING(L".dat");

_IRQL_requires_max_(APC_LEVEL) static NTSTATUS
    CompatMeasure(_In_ PCUNICODE_STRING Name, _Out_ PULONG Characters);

_IRQL_requires_max_(APC_LEVEL) static FLT_PREOP_CALLBACK_STATUS
    CompatPreCreate(_Inout_ PFLT_CALLBACK_DATA Data, _In_ PCFLT_RELATED_OBJECTS FltObjects,
                    _Flt_CompletionContext_Outptr_ PVOID *CompletionContext);

#pragma alloc_text(PAGE, CompatMeasure)
#pragma alloc_text(PAGE, CompatPreCreate)

_Use_decl_annotations_ static NTSTATUS CompatMeasure(PCUNICODE_STRING Name, PULONG Characters)
{
    PAGED_CODE();
    if (!ARGUMENT_PRESENT(Name))
        return STATUS_INVALID_PARAMETER;
    *Characters = Name->Length / sizeof(WCHAR);
    return STATUS_SUCCESS;
}

_Use_decl_annotations_ static FLT_PREOP_CALLBACK_STATUS
CompatPreCreate(PFLT_CALLBACK_DATA Data, PCFLT_RELATED_OBJECTS FltObjects, PVOID *CompletionContext)
{
    UNREFERENCED_PARAMETER(FltObjects);
    PAGED_CODE();
    *CompletionContext = NULL;
    if (FlagOn(Data->Iopb->Parameters.Create.Options, FILE_DIRECTORY_FILE))
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    Data->IoStatus.Status = STATUS_ACCESS_DENIED;
    Data->IoStatus.Information = 0;
    return FLT_PREOP_COMPLETE;
}

static void minifilter_style_code_compiles_and_runs(void **state)
{
    (void)state;
    DECLARE_CONST_UNICODE_STRING(local, L"abc");
    DECLARE_UNICODE_STRING_SIZE(path, 32);
    ULONG characters = 0;

    assert_status(CompatMeasure(&local, &characters), STATUS_SUCCESS);
    assert_int_equal(characters, 3);
    assert_status(CompatMeasure(NULL, &characters), STATUS_INVALID_PARAMETER);

    assert_int_equal(CompatGlobalName.Length, 28);
    assert_int_equal(CompatGlobalName.MaximumLength, 30);
    assert_int_equal(CompatExtension.Length, 8);
    assert_int_equal(CompatExtension.MaximumLength, 10);
    assert_memory_equal(CompatExtension.Buffer, L".dat", 10);

    assert_int_equal(path.Length, 0);
    assert_int_equal(path.MaximumLength, 64);
    assert_status(RtlAppendUnicodeStringToString(&path, &CompatGlobalName), STATUS_SUCCESS);
    assert_status(RtlAppendUnicodeToString(&path, L"\\file"), STATUS_SUCCESS);
    assert_status(RtlAppendUnicodeStringToString(&path, &CompatExtension), STATUS_SUCCESS);
    UNICODE_STRING expected = RTL_CONSTANT_STRING(L"\\Device\\Compat\\file.dat");
    assert_true(RtlEqualUnicodeString(&path, &expected, FALSE));
    assert_true(RtlSuffixUnicodeString(&CompatExtension, &path, TRUE));

    FLT_IO_PARAMETER_BLOCK iopb;
    memset(&iopb, 0, sizeof(iopb));
    iopb.MajorFunction = IRP_MJ_CREATE;
    iopb.Parameters.Create.Options = FILE_NON_DIRECTORY_FILE | ((ULONG)FILE_OPEN << 24);
    FLT_CALLBACK_DATA data = {.Flags = FLTFL_CALLBACK_DATA_IRP_OPERATION, .Iopb = &iopb};
    PVOID context = (PVOID)&data;
    assert_int_equal(CompatPreCreate(&data, NULL, &context), FLT_PREOP_COMPLETE);
    assert_null(context);
    assert_status(data.IoStatus.Status, STATUS_ACCESS_DENIED);
    assert_true(FLT_IS_IRP_OPERATION(&data));
    assert_false(FLT_IS_FASTIO_OPERATION(&data));

    iopb.Parameters.Create.Options = FILE_DIRECTORY_FILE;
    assert_int_equal(CompatPreCreate(&data, NULL, &context), FLT_PREOP_SUCCESS_NO_CALLBACK);
}

static void seh_finally_runs_and_leave_skips_rest(void **state)
{
    (void)state;
    int before = 0, after_leave = 0, finally_ran = 0;
    __try {
        before = 1;
        if (before)
            __leave;
        after_leave = 1;
    } __finally {
        finally_ran = 1;
    }
    assert_int_equal(before, 1);
    assert_int_equal(after_leave, 0);
    assert_int_equal(finally_ran, 1);
}

/* ------------------------------------------------------------------------- */
/* Widths (DESIGN decision 3)                                                */
/* ------------------------------------------------------------------------- */

static void types_have_llp64_widths(void **state)
{
    (void)state;
    assert_int_equal(sizeof(CHAR), 1);
    assert_int_equal(sizeof(UCHAR), 1);
    assert_int_equal(sizeof(BOOLEAN), 1);
    assert_int_equal(sizeof(SHORT), 2);
    assert_int_equal(sizeof(USHORT), 2);
    assert_int_equal(sizeof(WCHAR), 2);
    assert_int_equal(sizeof(L"a"[0]), 2);
    assert_int_equal(sizeof(LONG), 4);
    assert_int_equal(sizeof(ULONG), 4);
    assert_int_equal(sizeof(NTSTATUS), 4);
    assert_int_equal(sizeof(LONGLONG), 8);
    assert_int_equal(sizeof(ULONGLONG), 8);
    assert_int_equal(sizeof(LARGE_INTEGER), 8);
    assert_int_equal(sizeof(ULONG_PTR), sizeof(void *));
    assert_int_equal(sizeof(LONG_PTR), sizeof(void *));
    assert_int_equal(sizeof(SIZE_T), sizeof(void *));
    assert_int_equal(sizeof(HANDLE), sizeof(void *));
    assert_int_equal(sizeof(KIRQL), 1);
    /* Signedness matters to comparisons minifilters write. */
    assert_true((LONG)-1 < 0);
    assert_true((ULONG)-1 > 0);
    assert_true((NTSTATUS)0xC0000001 < 0);
}

static void large_integer_parts_alias_quad_part(void **state)
{
    (void)state;
    LARGE_INTEGER li;
    li.QuadPart = 0x0000000100000002LL;
    assert_int_equal(li.LowPart, 2);
    assert_int_equal(li.HighPart, 1);
    assert_int_equal(li.u.LowPart, 2);
    li.QuadPart = -1;
    assert_int_equal(li.HighPart, -1);
    assert_true(li.LowPart == 0xFFFFFFFFu);
}

/* ------------------------------------------------------------------------- */
/* NTSTATUS (SPEC 11)                                                        */
/* ------------------------------------------------------------------------- */

struct status_row {
    NTSTATUS value;
    ULONG expected;
    const char *name;
};

#define ROW(name, value)                                                                           \
    {                                                                                              \
        name, value, #name                                                                         \
    }

static const struct status_row spec11_statuses[] = {
    ROW(STATUS_FLT_IO_COMPLETE, 0x001C0001),
    ROW(STATUS_FLT_BUFFER_TOO_SMALL, 0x801C0001),
    ROW(STATUS_FLT_NO_HANDLER_DEFINED, 0xC01C0001),
    ROW(STATUS_FLT_CONTEXT_ALREADY_DEFINED, 0xC01C0002),
    ROW(STATUS_FLT_INVALID_ASYNCHRONOUS_REQUEST, 0xC01C0003),
    ROW(STATUS_FLT_DISALLOW_FAST_IO, 0xC01C0004),
    ROW(STATUS_FLT_INVALID_NAME_REQUEST, 0xC01C0005),
    ROW(STATUS_FLT_NOT_SAFE_TO_POST_OPERATION, 0xC01C0006),
    ROW(STATUS_FLT_NOT_INITIALIZED, 0xC01C0007),
    ROW(STATUS_FLT_FILTER_NOT_READY, 0xC01C0008),
    ROW(STATUS_FLT_POST_OPERATION_CLEANUP, 0xC01C0009),
    ROW(STATUS_FLT_INTERNAL_ERROR, 0xC01C000A),
    ROW(STATUS_FLT_DELETING_OBJECT, 0xC01C000B),
    ROW(STATUS_FLT_MUST_BE_NONPAGED_POOL, 0xC01C000C),
    ROW(STATUS_FLT_DUPLICATE_ENTRY, 0xC01C000D),
    ROW(STATUS_FLT_CBDQ_DISABLED, 0xC01C000E),
    ROW(STATUS_FLT_DO_NOT_ATTACH, 0xC01C000F),
    ROW(STATUS_FLT_DO_NOT_DETACH, 0xC01C0010),
    ROW(STATUS_FLT_INSTANCE_ALTITUDE_COLLISION, 0xC01C0011),
    ROW(STATUS_FLT_INSTANCE_NAME_COLLISION, 0xC01C0012),
    ROW(STATUS_FLT_FILTER_NOT_FOUND, 0xC01C0013),
    ROW(STATUS_FLT_VOLUME_NOT_FOUND, 0xC01C0014),
    ROW(STATUS_FLT_INSTANCE_NOT_FOUND, 0xC01C0015),
    ROW(STATUS_FLT_CONTEXT_ALLOCATION_NOT_FOUND, 0xC01C0016),
    ROW(STATUS_FLT_INVALID_CONTEXT_REGISTRATION, 0xC01C0017),
    ROW(STATUS_FLT_NAME_CACHE_MISS, 0xC01C0018),
    ROW(STATUS_FLT_NO_DEVICE_OBJECT, 0xC01C0019),
    ROW(STATUS_FLT_VOLUME_ALREADY_MOUNTED, 0xC01C001A),
    ROW(STATUS_FLT_ALREADY_ENLISTED, 0xC01C001B),
    ROW(STATUS_FLT_CONTEXT_ALREADY_LINKED, 0xC01C001C),
    ROW(STATUS_FLT_NO_WAITER_FOR_REPLY, 0xC01C0020),
    ROW(STATUS_FLT_REGISTRATION_BUSY, 0xC01C0023),
    ROW(STATUS_SUCCESS, 0x00000000),
    ROW(STATUS_TIMEOUT, 0x00000102),
    ROW(STATUS_PENDING, 0x00000103),
    ROW(STATUS_REPARSE, 0x00000104),
    ROW(STATUS_FSFILTER_OP_COMPLETED_SUCCESSFULLY, 0x00000126),
    ROW(STATUS_FILE_LOCKED_WITH_ONLY_READERS, 0x0000012A),
    ROW(STATUS_FILE_LOCKED_WITH_WRITERS, 0x0000012B),
    ROW(STATUS_BUFFER_OVERFLOW, 0x80000005),
    ROW(STATUS_UNSUCCESSFUL, 0xC0000001),
    ROW(STATUS_NOT_IMPLEMENTED, 0xC0000002),
    ROW(STATUS_INVALID_PARAMETER, 0xC000000D),
    ROW(STATUS_INVALID_DEVICE_REQUEST, 0xC0000010),
    ROW(STATUS_MORE_PROCESSING_REQUIRED, 0xC0000016),
    ROW(STATUS_NO_MEMORY, 0xC0000017),
    ROW(STATUS_ACCESS_DENIED, 0xC0000022),
    ROW(STATUS_BUFFER_TOO_SMALL, 0xC0000023),
    ROW(STATUS_OBJECT_NAME_NOT_FOUND, 0xC0000034),
    ROW(STATUS_OBJECT_NAME_COLLISION, 0xC0000035),
    ROW(STATUS_PORT_DISCONNECTED, 0xC0000037),
    ROW(STATUS_SHARING_VIOLATION, 0xC0000043),
    ROW(STATUS_THREAD_IS_TERMINATING, 0xC000004B),
    ROW(STATUS_INSUFFICIENT_RESOURCES, 0xC000009A),
    ROW(STATUS_NOT_SUPPORTED, 0xC00000BB),
    ROW(STATUS_NOT_SAME_DEVICE, 0xC00000D4),
    ROW(STATUS_CANCELLED, 0xC0000120),
    ROW(STATUS_INVALID_BUFFER_SIZE, 0xC0000206),
    ROW(STATUS_NOT_FOUND, 0xC0000225),
    ROW(STATUS_VIRUS_INFECTED, 0xC0000906),
};

static void ntstatus_spec11_values_are_exact(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAYSIZE(spec11_statuses); i++) {
        const struct status_row *r = &spec11_statuses[i];
        if ((ULONG)r->value != r->expected)
            fail_msg("%s is 0x%08X, SPEC 11 says 0x%08X", r->name, (unsigned)(ULONG)r->value,
                     (unsigned)r->expected);
        const char *name = fltsim_ntstatus_name(r->value);
        assert_non_null(name);
        assert_string_equal(name, r->name);
    }
    /* The alias shares STATUS_FLT_DISALLOW_FAST_IO's value and name. */
    assert_true((ULONG)STATUS_FLT_DISALLOW_FSFILTER_IO == 0xC01C0004u);
    assert_string_equal(fltsim_ntstatus_name(STATUS_FLT_DISALLOW_FSFILTER_IO),
                        "STATUS_FLT_DISALLOW_FAST_IO");
}

static void ntstatus_format_unknown_prints_hex(void **state)
{
    (void)state;
    char buf[64];
    assert_null(fltsim_ntstatus_name((NTSTATUS)0xC0001234));
    assert_string_equal(fltsim_ntstatus_format((NTSTATUS)0xC0001234, buf, sizeof(buf)),
                        "0xC0001234");
    assert_string_equal(fltsim_ntstatus_format(STATUS_ACCESS_DENIED, buf, sizeof(buf)),
                        "STATUS_ACCESS_DENIED");
    assert_string_equal(fltsim_ntstatus_format((NTSTATUS)0x00000007, buf, sizeof(buf)),
                        "0x00000007");
    assert_ptr_equal(fltsim_ntstatus_format(STATUS_SUCCESS, buf, sizeof(buf)), buf);
}

static void ntstatus_severity_macros_follow_top_bits(void **state)
{
    (void)state;
    /* success (0), informational (1), warning (2), error (3) */
    assert_true(NT_SUCCESS(STATUS_SUCCESS));
    assert_true(NT_SUCCESS(STATUS_PENDING));
    assert_true(NT_SUCCESS(STATUS_FLT_IO_COMPLETE));
    assert_true(NT_SUCCESS(STATUS_OBJECT_NAME_EXISTS));
    assert_false(NT_SUCCESS(STATUS_BUFFER_OVERFLOW));
    assert_false(NT_SUCCESS(STATUS_FLT_BUFFER_TOO_SMALL));
    assert_false(NT_SUCCESS(STATUS_ACCESS_DENIED));

    assert_true(NT_INFORMATION(STATUS_OBJECT_NAME_EXISTS));
    assert_false(NT_INFORMATION(STATUS_SUCCESS));
    assert_false(NT_INFORMATION(STATUS_BUFFER_OVERFLOW));

    assert_true(NT_WARNING(STATUS_BUFFER_OVERFLOW));
    assert_true(NT_WARNING(STATUS_NO_MORE_FILES));
    assert_false(NT_WARNING(STATUS_ACCESS_DENIED));
    assert_false(NT_WARNING(STATUS_SUCCESS));

    assert_true(NT_ERROR(STATUS_ACCESS_DENIED));
    assert_true(NT_ERROR(STATUS_FLT_DO_NOT_ATTACH));
    assert_false(NT_ERROR(STATUS_BUFFER_OVERFLOW));
    assert_false(NT_ERROR(STATUS_OBJECT_NAME_EXISTS));
}

/* ------------------------------------------------------------------------- */
/* Operation codes and callback statuses (SPEC 1.3, 3.1, 4.1)                */
/* ------------------------------------------------------------------------- */

static void irp_major_codes_match_spec_table(void **state)
{
    (void)state;
    static const UCHAR majors[] = {
        IRP_MJ_CREATE,
        IRP_MJ_CREATE_NAMED_PIPE,
        IRP_MJ_CLOSE,
        IRP_MJ_READ,
        IRP_MJ_WRITE,
        IRP_MJ_QUERY_INFORMATION,
        IRP_MJ_SET_INFORMATION,
        IRP_MJ_QUERY_EA,
        IRP_MJ_SET_EA,
        IRP_MJ_FLUSH_BUFFERS,
        IRP_MJ_QUERY_VOLUME_INFORMATION,
        IRP_MJ_SET_VOLUME_INFORMATION,
        IRP_MJ_DIRECTORY_CONTROL,
        IRP_MJ_FILE_SYSTEM_CONTROL,
        IRP_MJ_DEVICE_CONTROL,
        IRP_MJ_INTERNAL_DEVICE_CONTROL,
        IRP_MJ_SHUTDOWN,
        IRP_MJ_LOCK_CONTROL,
        IRP_MJ_CLEANUP,
        IRP_MJ_CREATE_MAILSLOT,
        IRP_MJ_QUERY_SECURITY,
        IRP_MJ_SET_SECURITY,
        IRP_MJ_POWER,
        IRP_MJ_SYSTEM_CONTROL,
        IRP_MJ_DEVICE_CHANGE,
        IRP_MJ_QUERY_QUOTA,
        IRP_MJ_SET_QUOTA,
        IRP_MJ_PNP,
    };
    /* The table lists them in value order from 0x00 to 0x1b. */
    assert_int_equal(ARRAYSIZE(majors), 28);
    for (size_t i = 0; i < ARRAYSIZE(majors); i++)
        assert_int_equal(majors[i], i);
    assert_int_equal(IRP_MJ_MAXIMUM_FUNCTION, 0x1b);
    assert_int_equal(IRP_MJ_SCSI, IRP_MJ_INTERNAL_DEVICE_CONTROL);
}

static void fltmgr_operation_codes_are_negative_bytes(void **state)
{
    (void)state;
    assert_int_equal(IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION, (UCHAR)-1);
    assert_int_equal(IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION, (UCHAR)-2);
    assert_int_equal(IRP_MJ_ACQUIRE_FOR_MOD_WRITE, (UCHAR)-3);
    assert_int_equal(IRP_MJ_RELEASE_FOR_MOD_WRITE, (UCHAR)-4);
    assert_int_equal(IRP_MJ_ACQUIRE_FOR_CC_FLUSH, (UCHAR)-5);
    assert_int_equal(IRP_MJ_RELEASE_FOR_CC_FLUSH, (UCHAR)-6);
    assert_int_equal(IRP_MJ_QUERY_OPEN, (UCHAR)-7);
    assert_int_equal(IRP_MJ_FAST_IO_CHECK_IF_POSSIBLE, (UCHAR)-13);
    assert_int_equal(IRP_MJ_NETWORK_QUERY_OPEN, (UCHAR)-14);
    assert_int_equal(IRP_MJ_MDL_READ, (UCHAR)-15);
    assert_int_equal(IRP_MJ_MDL_READ_COMPLETE, (UCHAR)-16);
    assert_int_equal(IRP_MJ_PREPARE_MDL_WRITE, (UCHAR)-17);
    assert_int_equal(IRP_MJ_MDL_WRITE_COMPLETE, (UCHAR)-18);
    assert_int_equal(IRP_MJ_VOLUME_MOUNT, (UCHAR)-19);
    assert_int_equal(IRP_MJ_VOLUME_DISMOUNT, (UCHAR)-20);
    assert_int_equal(IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION, 0xFF);
    assert_int_equal(IRP_MJ_VOLUME_DISMOUNT, 0xEC);
    assert_int_equal(IRP_MJ_OPERATION_END, 0x80);
    assert_int_equal(FLT_INTERNAL_OPERATION_COUNT, 22);
}

static void callback_status_values_follow_enum_order(void **state)
{
    (void)state;
    assert_int_equal(FLT_PREOP_SUCCESS_WITH_CALLBACK, 0);
    assert_int_equal(FLT_PREOP_SUCCESS_NO_CALLBACK, 1);
    assert_int_equal(FLT_PREOP_PENDING, 2);
    assert_int_equal(FLT_PREOP_DISALLOW_FASTIO, 3);
    assert_int_equal(FLT_PREOP_COMPLETE, 4);
    assert_int_equal(FLT_PREOP_SYNCHRONIZE, 5);
    assert_int_equal(FLT_PREOP_DISALLOW_FSFILTER_IO, 6);
    assert_int_equal(FLT_POSTOP_FINISHED_PROCESSING, 0);
    assert_int_equal(FLT_POSTOP_MORE_PROCESSING_REQUIRED, 1);
    assert_int_equal(FLT_POSTOP_DISALLOW_FSFILTER_IO, 2);
}

/* ------------------------------------------------------------------------- */
/* Flags (SPEC 1.1, 1.2, 2.4, 2.6, 4.1, 6.2, 6.3)                            */
/* ------------------------------------------------------------------------- */

static void registration_flags_match_spec(void **state)
{
    (void)state;
    assert_int_equal(FLT_REGISTRATION_VERSION, 0x0203);
    assert_int_equal(FLTFL_REGISTRATION_DO_NOT_SUPPORT_SERVICE_STOP, 0x1);
    assert_int_equal(FLTFL_REGISTRATION_SUPPORT_NPFS_MSFS, 0x2);
    assert_int_equal(FLTFL_REGISTRATION_SUPPORT_DAX_VOLUME, 0x4);
    assert_int_equal(FLTFL_OPERATION_REGISTRATION_SKIP_PAGING_IO, 0x1);
    assert_int_equal(FLTFL_OPERATION_REGISTRATION_SKIP_CACHED_IO, 0x2);
    assert_int_equal(FLTFL_OPERATION_REGISTRATION_SKIP_NON_DASD_IO, 0x4);
    assert_int_equal(FLTFL_OPERATION_REGISTRATION_SKIP_NON_CACHED_NON_PAGING_IO, 0x8);
    assert_int_equal(FLT_CONTEXT_END, 0xFFFF);
}

static void instance_flags_match_spec(void **state)
{
    (void)state;
    assert_int_equal(FLTFL_INSTANCE_SETUP_AUTOMATIC_ATTACHMENT, 0x01);
    assert_int_equal(FLTFL_INSTANCE_SETUP_MANUAL_ATTACHMENT, 0x02);
    assert_int_equal(FLTFL_INSTANCE_SETUP_NEWLY_MOUNTED_VOLUME, 0x04);
    assert_int_equal(FLTFL_INSTANCE_SETUP_DETACHED_VOLUME, 0x08);
    assert_int_equal(FLTFL_INSTANCE_SETUP_DEV_VOLUME, 0x10);
    assert_int_equal(FLTFL_INSTANCE_SETUP_TRUSTED_VOLUME, 0x20);
    assert_int_equal(FLTFL_INSTANCE_TEARDOWN_MANUAL, 0x01);
    assert_int_equal(FLTFL_INSTANCE_TEARDOWN_FILTER_UNLOAD, 0x02);
    assert_int_equal(FLTFL_INSTANCE_TEARDOWN_MANDATORY_FILTER_UNLOAD, 0x04);
    assert_int_equal(FLTFL_INSTANCE_TEARDOWN_VOLUME_DISMOUNT, 0x08);
    assert_int_equal(FLTFL_INSTANCE_TEARDOWN_INTERNAL_ERROR, 0x10);
    assert_int_equal(FLTFL_POST_OPERATION_DRAINING, 0x1);
    assert_int_equal(FLTFL_FILTER_UNLOAD_MANDATORY, 0x1);
    assert_int_equal(FILE_DEVICE_CD_ROM_FILE_SYSTEM, 0x03);
    assert_int_equal(FILE_DEVICE_DISK_FILE_SYSTEM, 0x08);
    assert_int_equal(FILE_DEVICE_NETWORK_FILE_SYSTEM, 0x14);
    assert_int_equal(FLT_FSTYPE_NTFS, 2);
    assert_int_equal(FLT_FSTYPE_REFS, 28);
    assert_int_equal(FLT_FSTYPE_CIMFS, 30);
}

static void callback_data_flags_match_spec(void **state)
{
    (void)state;
    assert_true(FLTFL_CALLBACK_DATA_REISSUE_MASK == 0x0000FFFFu);
    assert_true(FLTFL_CALLBACK_DATA_IRP_OPERATION == 0x00000001u);
    assert_true(FLTFL_CALLBACK_DATA_FAST_IO_OPERATION == 0x00000002u);
    assert_true(FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION == 0x00000004u);
    assert_true(FLTFL_CALLBACK_DATA_SYSTEM_BUFFER == 0x00000008u);
    assert_true(FLTFL_CALLBACK_DATA_GENERATED_IO == 0x00010000u);
    assert_true(FLTFL_CALLBACK_DATA_REISSUED_IO == 0x00020000u);
    assert_true(FLTFL_CALLBACK_DATA_DRAINING_IO == 0x00040000u);
    assert_true(FLTFL_CALLBACK_DATA_POST_OPERATION == 0x00080000u);
    assert_true(FLTFL_CALLBACK_DATA_NEW_SYSTEM_BUFFER == 0x00100000u);
    assert_true(FLTFL_CALLBACK_DATA_DIRTY == 0x80000000u);

    /* The test macros return the masked flag, nonzero when set. */
    FLT_CALLBACK_DATA data = {.Flags = FLTFL_CALLBACK_DATA_FAST_IO_OPERATION |
                                       FLTFL_CALLBACK_DATA_SYSTEM_BUFFER};
    assert_int_equal(FLT_IS_FASTIO_OPERATION(&data), FLTFL_CALLBACK_DATA_FAST_IO_OPERATION);
    assert_int_equal(FLT_IS_SYSTEM_BUFFER(&data), FLTFL_CALLBACK_DATA_SYSTEM_BUFFER);
    assert_int_equal(FLT_IS_IRP_OPERATION(&data), 0);
    assert_int_equal(FLT_IS_FS_FILTER_OPERATION(&data), 0);
    assert_int_equal(FLT_IS_REISSUED_IO(&data), 0);
}

static void irp_and_stack_flags_match_spec(void **state)
{
    (void)state;
    assert_int_equal(IRP_NOCACHE, 0x00000001);
    assert_int_equal(IRP_PAGING_IO, 0x00000002);
    assert_int_equal(IRP_MOUNT_COMPLETION, 0x00000002);
    assert_int_equal(IRP_SYNCHRONOUS_API, 0x00000004);
    assert_int_equal(IRP_ASSOCIATED_IRP, 0x00000008);
    assert_int_equal(IRP_BUFFERED_IO, 0x00000010);
    assert_int_equal(IRP_DEALLOCATE_BUFFER, 0x00000020);
    assert_int_equal(IRP_INPUT_OPERATION, 0x00000040);
    assert_int_equal(IRP_SYNCHRONOUS_PAGING_IO, 0x00000040);
    assert_int_equal(IRP_CREATE_OPERATION, 0x00000080);
    assert_int_equal(IRP_READ_OPERATION, 0x00000100);
    assert_int_equal(IRP_WRITE_OPERATION, 0x00000200);
    assert_int_equal(IRP_CLOSE_OPERATION, 0x00000400);
    assert_int_equal(IRP_DEFER_IO_COMPLETION, 0x00000800);
    assert_int_equal(IRP_OB_QUERY_NAME, 0x00001000);
    assert_int_equal(IRP_HOLD_DEVICE_QUEUE, 0x00002000);
    assert_int_equal(IRP_UM_DRIVER_INITIATED_IO, 0x00400000);

    assert_int_equal(SL_FORCE_ACCESS_CHECK, 0x01);
    assert_int_equal(SL_OPEN_PAGING_FILE, 0x02);
    assert_int_equal(SL_OPEN_TARGET_DIRECTORY, 0x04);
    assert_int_equal(SL_STOP_ON_SYMLINK, 0x08);
    assert_int_equal(SL_CASE_SENSITIVE, 0x80);
    assert_int_equal(SL_KEY_SPECIFIED, 0x01);
    assert_int_equal(SL_OVERRIDE_VERIFY_VOLUME, 0x02);
    assert_int_equal(SL_WRITE_THROUGH, 0x04);
    assert_int_equal(SL_FT_SEQUENTIAL_WRITE, 0x08);
    assert_int_equal(SL_FORCE_DIRECT_WRITE, 0x10);
    assert_int_equal(SL_FAIL_IMMEDIATELY, 0x01);
    assert_int_equal(SL_EXCLUSIVE_LOCK, 0x02);
    assert_int_equal(SL_RESTART_SCAN, 0x01);
    assert_int_equal(SL_RETURN_SINGLE_ENTRY, 0x02);
    assert_int_equal(SL_INDEX_SPECIFIED, 0x04);
    assert_int_equal(SL_WATCH_TREE, 0x01);
    assert_int_equal(FO_VOLUME_OPEN, 0x00400000);
}

static void directory_buffer_shares_one_offset(void **state)
{
    (void)state;
    assert_int_equal(offsetof(FLT_PARAMETERS, DirectoryControl.QueryDirectory.DirectoryBuffer),
                     offsetof(FLT_PARAMETERS, DirectoryControl.NotifyDirectory.DirectoryBuffer));
    assert_int_equal(offsetof(FLT_PARAMETERS, DirectoryControl.QueryDirectory.MdlAddress),
                     offsetof(FLT_PARAMETERS, DirectoryControl.NotifyDirectory.MdlAddress));
    /* SPEC 6.3: the parameter block's field order. */
    assert_true(offsetof(FLT_IO_PARAMETER_BLOCK, IrpFlags) <
                offsetof(FLT_IO_PARAMETER_BLOCK, MajorFunction));
    assert_true(offsetof(FLT_IO_PARAMETER_BLOCK, TargetInstance) <
                offsetof(FLT_IO_PARAMETER_BLOCK, Parameters));
}

/* ------------------------------------------------------------------------- */
/* Interlocked operations and lists                                          */
/* ------------------------------------------------------------------------- */

static void interlocked_operations_return_wdk_values(void **state)
{
    (void)state;
    LONG volatile v = 5;
    assert_int_equal(InterlockedIncrement(&v), 6);
    assert_int_equal(InterlockedDecrement(&v), 5);
    assert_int_equal(InterlockedExchange(&v, 9), 5);             /* old value */
    assert_int_equal(InterlockedExchangeAdd(&v, 3), 9);          /* old value */
    assert_int_equal(InterlockedAdd(&v, 3), 15);                 /* new value */
    assert_int_equal(InterlockedCompareExchange(&v, 1, 99), 15); /* no match: unchanged */
    assert_int_equal(v, 15);
    assert_int_equal(InterlockedCompareExchange(&v, 1, 15), 15); /* match: swapped */
    assert_int_equal(v, 1);
    assert_int_equal(InterlockedOr(&v, 6), 1);
    assert_int_equal(v, 7);
    assert_int_equal(InterlockedAnd(&v, 3), 7);
    assert_int_equal(v, 3);
    assert_int_equal(InterlockedXor(&v, 1), 3);
    assert_int_equal(v, 2);
    v = MAXLONG;
    assert_int_equal(InterlockedIncrement(&v), MINLONG); /* wraps like the WDK's */

    LONG64 volatile w = 0x100000000LL;
    assert_true(InterlockedIncrement64(&w) == 0x100000001LL);
    assert_true(InterlockedDecrement64(&w) == 0x100000000LL);
    assert_true(InterlockedExchangeAdd64(&w, 1) == 0x100000000LL);
    assert_true(InterlockedAdd64(&w, 1) == 0x100000002LL);
    assert_true(InterlockedExchange64(&w, 7) == 0x100000002LL);
    assert_true(InterlockedCompareExchange64(&w, 8, 7) == 7);
    assert_true(w == 8);

    int a = 0, b = 0;
    PVOID volatile p = &a;
    assert_ptr_equal(InterlockedExchangePointer(&p, &b), &a);
    assert_ptr_equal(InterlockedCompareExchangePointer(&p, NULL, &a), &b); /* no match */
    assert_ptr_equal(p, &b);
    assert_ptr_equal(InterlockedCompareExchangePointer(&p, NULL, &b), &b);
    assert_null(p);
}

struct item {
    int value;
    LIST_ENTRY link;
};

static void list_helpers_keep_order(void **state)
{
    (void)state;
    LIST_ENTRY head;
    struct item items[3] = {{1, {0}}, {2, {0}}, {3, {0}}};
    InitializeListHead(&head);
    assert_true(IsListEmpty(&head));

    InsertTailList(&head, &items[1].link); /* 2 */
    InsertTailList(&head, &items[2].link); /* 2 3 */
    InsertHeadList(&head, &items[0].link); /* 1 2 3 */
    assert_false(IsListEmpty(&head));

    int seen[3], n = 0;
    for (PLIST_ENTRY e = head.Flink; e != &head; e = e->Flink)
        seen[n++] = CONTAINING_RECORD(e, struct item, link)->value;
    assert_int_equal(n, 3);
    assert_int_equal(seen[0], 1);
    assert_int_equal(seen[1], 2);
    assert_int_equal(seen[2], 3);
    assert_ptr_equal(head.Blink, &items[2].link);

    assert_false(RemoveEntryList(&items[1].link)); /* 1 3: not empty */
    assert_ptr_equal(RemoveHeadList(&head), &items[0].link);
    assert_ptr_equal(RemoveTailList(&head), &items[2].link);
    assert_true(IsListEmpty(&head));
    InsertTailList(&head, &items[0].link);
    assert_true(RemoveEntryList(&items[0].link)); /* TRUE: the list became empty */

    SINGLE_LIST_ENTRY top = {NULL}, s1, s2;
    PushEntryList(&top, &s1);
    PushEntryList(&top, &s2);
    assert_ptr_equal(PopEntryList(&top), &s2);
    assert_ptr_equal(PopEntryList(&top), &s1);
    assert_null(PopEntryList(&top));
}

/* ------------------------------------------------------------------------- */
/* Pool                                                                       */
/* ------------------------------------------------------------------------- */

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0)
            return false;
    }
    return true;
}

static void pool_allocations_are_counted_per_tag(void **state)
{
    (void)state;
    const ULONG tag = TAG_COUNTED;
    struct fltsim_pool_stats s;
    fltsim_pool_tag_stats(tag, &s);
    const ULONG64 total0 = s.total;
    assert_true(s.outstanding == 0);

    PVOID a = ExAllocatePoolWithTag(NonPagedPoolNx, 40, tag);
    PVOID b = ExAllocatePoolWithTag(PagedPool, 24, tag);
    assert_non_null(a);
    assert_non_null(b);
    fltsim_pool_tag_stats(tag, &s);
    assert_true(s.outstanding == 2);
    assert_true(s.outstanding_bytes == 64);
    assert_true(s.total == total0 + 2);

    ExFreePoolWithTag(a, tag);
    ExFreePool(b);
    fltsim_pool_tag_stats(tag, &s);
    assert_true(s.outstanding == 0);
    assert_true(s.outstanding_bytes == 0);
    assert_true(s.total == total0 + 2);

    /* Another tag is not affected. */
    fltsim_pool_tag_stats(TAG_OTHER, &s);
    assert_true(s.total == 0);
}

static void pool_zero_allocations_are_zeroed(void **state)
{
    (void)state;
    const ULONG tag = TAG_ZEROED;
    unsigned char *z = ExAllocatePoolZero(NonPagedPoolNx, 256, tag);
    unsigned char *p2 = ExAllocatePool2(POOL_FLAG_NON_PAGED, 256, tag);
    unsigned char *u = ExAllocatePool2(POOL_FLAG_PAGED | POOL_FLAG_UNINITIALIZED, 256, tag);
    assert_non_null(z);
    assert_non_null(p2);
    assert_non_null(u);
    assert_true(all_zero(z, 256));
    assert_true(all_zero(p2, 256));
    struct fltsim_pool_stats s;
    fltsim_pool_tag_stats(tag, &s);
    assert_true(s.outstanding == 3);
    ExFreePoolWithTag(z, tag);
    ExFreePoolWithTag(p2, tag);
    ExFreePoolWithTag(u, tag);
    fltsim_pool_tag_stats(tag, &s);
    assert_true(s.outstanding == 0);
}

static void pool2_invalid_requests_return_null(void **state)
{
    (void)state;
    const ULONG tag = TAG_NULL;
    ULONG64 outstanding = fltsim_pool_outstanding();
    assert_null(ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 0));       /* tag 0 */
    assert_null(ExAllocatePool2(0, 16, tag));                       /* no pool type */
    assert_null(ExAllocatePool2(POOL_FLAG_UNINITIALIZED, 16, tag)); /* still no type */
    assert_null(ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_PAGED, 16, tag));
    assert_null(ExAllocatePool2(POOL_FLAG_NON_PAGED | 0x200, 16, tag)); /* unknown required */
    assert_true(fltsim_pool_outstanding() == outstanding);

    /* An unknown optional flag (bit 32 and up) is ignored. */
    PVOID p = ExAllocatePool2(POOL_FLAG_NON_PAGED | (POOL_FLAG_OPTIONAL_START << 8), 16, tag);
    assert_non_null(p);
    assert_true(fltsim_pool_outstanding() == outstanding + 1);
    ExFreePoolWithTag(p, tag);
    assert_true(fltsim_pool_outstanding() == outstanding);
}

/* ------------------------------------------------------------------------- */
/* IRQL, top-level IRP, identity (DESIGN decision 4)                         */
/* ------------------------------------------------------------------------- */

static void irql_raise_and_lower_round_trip(void **state)
{
    (void)state;
    KIRQL old = HIGH_LEVEL;
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    KeRaiseIrql(APC_LEVEL, &old);
    assert_int_equal(old, PASSIVE_LEVEL);
    assert_int_equal(KeGetCurrentIrql(), APC_LEVEL);
    KIRQL old2 = KeRaiseIrqlToDpcLevel();
    assert_int_equal(old2, APC_LEVEL);
    assert_int_equal(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(old2);
    assert_int_equal(KeGetCurrentIrql(), APC_LEVEL);
    KeLowerIrql(old);
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

static void irql_raise_to_lower_level_is_ignored(void **state)
{
    (void)state;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KIRQL ignored;
    KeRaiseIrql(APC_LEVEL, &ignored); /* reported on standard error, no change */
    assert_int_equal(ignored, DISPATCH_LEVEL);
    assert_int_equal(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(HIGH_LEVEL); /* lowering upwards: likewise ignored */
    assert_int_equal(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(old);
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

struct thread_probe {
    PIRP seen_at_start;
    PIRP seen_after_set;
    ULONG process_id;
    HANDLE ps_process_id;
    KIRQL irql;
};

static void probe_thread(void *arg)
{
    struct thread_probe *probe = arg;
    probe->seen_at_start = IoGetTopLevelIrp();
    IoSetTopLevelIrp(FSRTL_CACHE_TOP_LEVEL_IRP);
    probe->seen_after_set = IoGetTopLevelIrp();
    probe->process_id = fltsim_thread_process_id();
    probe->ps_process_id = PsGetCurrentProcessId();
    probe->irql = KeGetCurrentIrql();
}

static void top_level_irp_is_per_thread(void **state)
{
    (void)state;
    struct thread_probe probe;
    memset(&probe, 0, sizeof(probe));
    assert_null(IoGetTopLevelIrp());
    IoSetTopLevelIrp(FSRTL_FSP_TOP_LEVEL_IRP);

    uv_thread_t thread;
    assert_int_equal(uv_thread_create(&thread, probe_thread, &probe), 0);
    assert_int_equal(uv_thread_join(&thread), 0);

    assert_null(probe.seen_at_start);
    assert_ptr_equal(probe.seen_after_set, FSRTL_CACHE_TOP_LEVEL_IRP);
    assert_ptr_equal(IoGetTopLevelIrp(), FSRTL_FSP_TOP_LEVEL_IRP);
    IoSetTopLevelIrp(NULL);
    assert_null(IoGetTopLevelIrp());
}

static void thread_identity_sets_process_id(void **state)
{
    (void)state;
    fltsim_thread_set_identity(4242, 77);
    assert_ptr_equal(PsGetCurrentProcessId(), (HANDLE)(ULONG_PTR)4242);
    assert_ptr_equal(PsGetCurrentThreadId(), (HANDLE)(ULONG_PTR)77);
    assert_int_equal(fltsim_thread_process_id(), 4242);
    assert_int_equal(fltsim_thread_id(), 77);
    PETHREAD t = fltsim_thread_current();
    assert_non_null(t);
    assert_int_equal(fltsim_thread_object_process_id(t), 4242);
    assert_int_equal(fltsim_thread_object_thread_id(t), 77);

    /* Another thread keeps the default identity, process 1000, at PASSIVE_LEVEL. */
    struct thread_probe probe;
    memset(&probe, 0, sizeof(probe));
    uv_thread_t thread;
    assert_int_equal(uv_thread_create(&thread, probe_thread, &probe), 0);
    assert_int_equal(uv_thread_join(&thread), 0);
    assert_int_equal(probe.process_id, 1000);
    assert_ptr_equal(probe.ps_process_id, (HANDLE)(ULONG_PTR)1000);
    assert_int_equal(probe.irql, PASSIVE_LEVEL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(minifilter_style_code_compiles_and_runs),
        cmocka_unit_test(seh_finally_runs_and_leave_skips_rest),
        cmocka_unit_test(types_have_llp64_widths),
        cmocka_unit_test(large_integer_parts_alias_quad_part),
        cmocka_unit_test(ntstatus_spec11_values_are_exact),
        cmocka_unit_test(ntstatus_format_unknown_prints_hex),
        cmocka_unit_test(ntstatus_severity_macros_follow_top_bits),
        cmocka_unit_test(irp_major_codes_match_spec_table),
        cmocka_unit_test(fltmgr_operation_codes_are_negative_bytes),
        cmocka_unit_test(callback_status_values_follow_enum_order),
        cmocka_unit_test(registration_flags_match_spec),
        cmocka_unit_test(instance_flags_match_spec),
        cmocka_unit_test(callback_data_flags_match_spec),
        cmocka_unit_test(irp_and_stack_flags_match_spec),
        cmocka_unit_test(directory_buffer_shares_one_offset),
        cmocka_unit_test(interlocked_operations_return_wdk_values),
        cmocka_unit_test(list_helpers_keep_order),
        cmocka_unit_test(pool_allocations_are_counted_per_tag),
        cmocka_unit_test(pool_zero_allocations_are_zeroed),
        cmocka_unit_test(pool2_invalid_requests_return_null),
        cmocka_unit_test(irql_raise_and_lower_round_trip),
        cmocka_unit_test(irql_raise_to_lower_level_is_ignored),
        cmocka_unit_test(top_level_irp_is_per_thread),
        cmocka_unit_test(thread_identity_sets_process_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
