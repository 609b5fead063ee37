/*
 * fltsim_add_minifilter(... CXX): a C++ minifilter built in a project of its
 * own, with the flags a kernel C++ filter gets, checked by the compiler, and
 * with -Wall -Wextra -Werror of the project's own over the WDK headers.
 * fltsim loads and runs it (run.cmake).
 */
#include <fltKernel.h>

static_assert(__cplusplus == 201703L, "-std=gnu++17");
#if defined(__STRICT_ANSI__)
#error "-std=c++17 instead of gnu++17"
#endif
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#error "exceptions are on; expected -fno-exceptions"
#endif
#if defined(__cpp_rtti) || defined(__GXX_RTTI)
#error "RTTI is on; expected -fno-rtti"
#endif
#if defined(__cpp_threadsafe_static_init)
#error "static locals are guarded by the C++ runtime; expected -fno-threadsafe-statics"
#endif
static_assert(sizeof(wchar_t) == 2 && sizeof(L"ab") == 6, "-fshort-wchar");

extern "C" DRIVER_INITIALIZE DriverEntry;

namespace
{

PFLT_FILTER Filter;

NTSTATUS Unload(FLT_FILTER_UNLOAD_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Flags);
    FltUnregisterFilter(Filter);
    return STATUS_SUCCESS;
}

const FLT_OPERATION_REGISTRATION Callbacks[] = {{IRP_MJ_OPERATION_END}};
const FLT_REGISTRATION Registration = {
    sizeof(FLT_REGISTRATION), FLT_REGISTRATION_VERSION, 0, nullptr, Callbacks, Unload};

} // namespace

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    static const UNICODE_STRING Name = RTL_CONSTANT_STRING(L"CxxFlags");
    DbgPrint("%wZ: loaded\n", &Name);
    NTSTATUS Status = FltRegisterFilter(DriverObject, &Registration, &Filter);
    if (!NT_SUCCESS(Status))
        return Status;
    Status = FltStartFiltering(Filter);
    if (!NT_SUCCESS(Status))
        FltUnregisterFilter(Filter);
    return Status;
}
