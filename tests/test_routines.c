/*
 * Routines about routines and statuses (issue 15 item 4): dynamic lookup
 * (MmGetSystemRoutineAddress, FltGetRoutineAddress) over the table generated
 * from what the model defines: a routine fltsim implements is found at the
 * address a filter's own call reaches, also from a filter built as a shared
 * object; a declared routine fltsim lacks, a name no one has, and a routine
 * of another module give NULL. FltGetIrpName's names; FsRtlIsNtstatusExpected
 * and FsRtlNormalizeNtstatus on NT's four unexpected exception codes.
 */
#include <dlfcn.h>
#include <string.h>

#include "fltsim_test.h"

/* A routine's address as a PVOID (POSIX: it converts). */
static PVOID addr(void (*routine)(void))
{
    PVOID p;
    memcpy(&p, &routine, sizeof(p));
    return p;
}
#define ADDR(routine) addr((void (*)(void))(routine))

static PVOID kernel_lookup(PCWSTR name)
{
    UNICODE_STRING u;
    RtlInitUnicodeString(&u, name);
    return MmGetSystemRoutineAddress(&u);
}

/* ---- dynamic lookup ---- */

/* Routines fltsim implements: found, at the address a direct call reaches
 * (through a header's macro where the WDK names one: PsGetCurrentProcess is
 * IoGetCurrentProcess, wcslen fltsim's 16-bit one). */
static void implemented_routines_are_found_at_their_address(void **state)
{
    (void)state;
    assert_ptr_equal(kernel_lookup(L"IoOpenDriverRegistryKey"), ADDR(IoOpenDriverRegistryKey));
    assert_ptr_equal(kernel_lookup(L"MmGetSystemRoutineAddress"), ADDR(MmGetSystemRoutineAddress));
    assert_ptr_equal(kernel_lookup(L"RtlGetVersion"), ADDR(RtlGetVersion));
    assert_ptr_equal(kernel_lookup(L"ZwOpenKey"), ADDR(ZwOpenKey));
    assert_ptr_equal(kernel_lookup(L"FsRtlIsNtstatusExpected"), ADDR(FsRtlIsNtstatusExpected));
    assert_ptr_equal(kernel_lookup(L"PsGetCurrentProcess"), ADDR(PsGetCurrentProcess));
    assert_ptr_equal(kernel_lookup(L"PsGetCurrentProcess"), ADDR(IoGetCurrentProcess));
    assert_ptr_equal(kernel_lookup(L"wcslen"), ADDR(wcslen));
    assert_ptr_equal(kernel_lookup(L"_wcsicmp"), ADDR(_wcsicmp));
    assert_ptr_equal(FltGetRoutineAddress("FltRegisterFilter"), ADDR(FltRegisterFilter));
    assert_ptr_equal(FltGetRoutineAddress("FltGetRoutineAddress"), ADDR(FltGetRoutineAddress));
    assert_ptr_equal(FltGetRoutineAddress("FltRequestOperationStatusCallback"),
                     ADDR(FltRequestOperationStatusCallback));
    /* Called through the address found, it is the routine. */
    typedef BOOLEAN (*expected_fn)(NTSTATUS);
    expected_fn fn;
    PVOID p = kernel_lookup(L"FsRtlIsNtstatusExpected");
    memcpy(&fn, &p, sizeof(fn));
    assert_false(fn(STATUS_ACCESS_VIOLATION));
    assert_true(fn(STATUS_ACCESS_DENIED));
}

/* Routines the WDK declares and fltsim does not implement give NULL, as on a
 * Windows too old to have them; so do names no one has, names in another
 * case, and the routines the WDK implements in its headers (ntstrsafe.h,
 * ntintsafe.h), which no export table lists. */
static void other_names_give_null(void **state)
{
    (void)state;
    assert_null(kernel_lookup(L"ZwCommitTransaction"));
    assert_null(FltGetRoutineAddress("FltQueryQuotaInformationFile"));
    assert_null(FltGetRoutineAddress("FltSetQuotaInformationFile"));
    assert_null(kernel_lookup(L"NtNotARoutineAnywhere"));
    assert_null(kernel_lookup(L"ioopendriverregistrykey"));
    assert_null(kernel_lookup(L""));
    assert_null(kernel_lookup(L"RtlStringCchCopyW"));
    assert_null(kernel_lookup(L"RtlULongAdd"));
    assert_null(kernel_lookup(L"BCryptGenRandom"));
    /* fltsim's own names are no exports. */
    assert_null(kernel_lookup(L"fltsim_crt_wcslen"));
    assert_null(kernel_lookup(L"fltsim_system_create"));
    assert_null(FltGetRoutineAddress("fltsim_system_create"));
    WCHAR accented[] = {L'R', L't', L'l', 0xE9, 0};
    assert_null(kernel_lookup(accented));
}

/* Each table is its module's: the kernel's has no Flt routine, FltMgr's
 * only Flt routines. */
static void each_lookup_searches_its_module(void **state)
{
    (void)state;
    assert_null(kernel_lookup(L"FltRegisterFilter"));
    assert_null(kernel_lookup(L"FltGetRoutineAddress"));
    assert_null(FltGetRoutineAddress("IoOpenDriverRegistryKey"));
    assert_null(FltGetRoutineAddress("MmGetSystemRoutineAddress"));
    assert_non_null(FltGetRoutineAddress("FltGetIrpName"));
    assert_non_null(kernel_lookup(L"FsRtlNormalizeNtstatus"));
}

/* A filter built as a shared object gets the address its own calls reach
 * (the program exports the model to it). */
static void shared_object_filter_gets_its_call_addresses(void **state)
{
    (void)state;
    void *h = dlopen(FLTSIM_TEST_VERSION_PROBE_SO, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        fail_msg("dlopen: %s", dlerror());
    ULONG (*check)(void);
    void *sym = dlsym(h, "FltSimLookupCheck");
    assert_non_null(sym);
    memcpy(&check, &sym, sizeof(check));
    assert_int_equal(check(), 0x3F);
    dlclose(h);
}

/* Misuse: a malformed UNICODE_STRING is a KE report and NULL; so is a NULL
 * name for FltGetRoutineAddress; MmGetSystemRoutineAddress above
 * PASSIVE_LEVEL is V28. */
static void bad_lookups_are_reported(void *ctx)
{
    ULONG *nulls = ctx;
    UNICODE_STRING odd = {3, 8, (PWCH)L"Zw"};
    UNICODE_STRING no_buffer = {4, 4, NULL};
    *nulls = 0;
    *nulls += MmGetSystemRoutineAddress(NULL) == NULL;
    *nulls += MmGetSystemRoutineAddress(&odd) == NULL;
    *nulls += MmGetSystemRoutineAddress(&no_buffer) == NULL;
    *nulls += FltGetRoutineAddress(NULL) == NULL;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, L"ZwClose");
    *nulls += MmGetSystemRoutineAddress(&name) != NULL;      /* still answers */
    *nulls += FltGetRoutineAddress("FltGetIrpName") != NULL; /* allowed at DISPATCH_LEVEL */
    KeLowerIrql(old);
}

static void malformed_lookups_are_reported(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct tf_filter a;
    tf_init(&a, "A", "300000");
    assert_status(tf_load(w.sys, &a), STATUS_SUCCESS);
    ULONG answers = 0;
    assert_status(fltsim_driver_call(a.driver, bad_lookups_are_reported, &answers), STATUS_SUCCESS);
    assert_int_equal(answers, 6);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "KE"), 4);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "V28"), 1);
    world_destroy(&w);
}

/* ---- FltGetIrpName ---- */

static void irp_names_include_fltmgr_codes(void **state)
{
    (void)state;
    assert_string_equal(FltGetIrpName(IRP_MJ_CREATE), "IRP_MJ_CREATE");
    assert_string_equal(FltGetIrpName(IRP_MJ_FILE_SYSTEM_CONTROL), "IRP_MJ_FILE_SYSTEM_CONTROL");
    assert_string_equal(FltGetIrpName(IRP_MJ_PNP), "IRP_MJ_PNP");
    assert_string_equal(FltGetIrpName(IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION),
                        "IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION");
    assert_string_equal(FltGetIrpName(IRP_MJ_QUERY_OPEN), "IRP_MJ_QUERY_OPEN");
    assert_string_equal(FltGetIrpName(IRP_MJ_VOLUME_DISMOUNT), "IRP_MJ_VOLUME_DISMOUNT");
    assert_string_equal(FltGetIrpName(IRP_MJ_PNP + 1), "<invalid IRP code>");
    assert_string_equal(FltGetIrpName(0x80), "<invalid IRP code>");
    assert_string_equal(FltGetIrpName(IRP_MJ_VOLUME_DISMOUNT - 1), "<invalid IRP code>");
}

/* ---- FsRtl exception statuses ---- */

static void unexpected_statuses_are_the_processor_faults(void **state)
{
    (void)state;
    static const NTSTATUS unexpected[] = {STATUS_DATATYPE_MISALIGNMENT, STATUS_ACCESS_VIOLATION,
                                          STATUS_ILLEGAL_INSTRUCTION,
                                          STATUS_INSTRUCTION_MISALIGNMENT};
    for (size_t i = 0; i < sizeof(unexpected) / sizeof(unexpected[0]); i++) {
        assert_false(FsRtlIsNtstatusExpected(unexpected[i]));
        assert_status(FsRtlNormalizeNtstatus(unexpected[i], STATUS_UNSUCCESSFUL),
                      STATUS_UNSUCCESSFUL);
    }
    static const NTSTATUS expected[] = {STATUS_SUCCESS,
                                        STATUS_ACCESS_DENIED,
                                        STATUS_INSUFFICIENT_RESOURCES,
                                        STATUS_END_OF_FILE,
                                        STATUS_BUFFER_OVERFLOW,
                                        STATUS_INTEGER_OVERFLOW,
                                        (NTSTATUS)0x80000003 /* STATUS_BREAKPOINT */,
                                        (NTSTATUS)0xC0000094 /* integer divide by zero */};
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        assert_true(FsRtlIsNtstatusExpected(expected[i]));
        assert_status(FsRtlNormalizeNtstatus(expected[i], STATUS_UNSUCCESSFUL), expected[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(implemented_routines_are_found_at_their_address),
        cmocka_unit_test(other_names_give_null),
        cmocka_unit_test(each_lookup_searches_its_module),
        cmocka_unit_test(shared_object_filter_gets_its_call_addresses),
        cmocka_unit_test(malformed_lookups_are_reported),
        cmocka_unit_test(irp_names_include_fltmgr_codes),
        cmocka_unit_test(unexpected_statuses_are_the_processor_faults),
    };
    return FLTSIM_RUN_SUITE("routines", tests);
}
