/*
 * A minifilter calling a routine no header declares: with
 * fltsim_add_minifilter's -Werror=implicit-function-declaration its build
 * must fail, naming the routine (tests/minifilter_build/run.cmake).
 */
#include <fltKernel.h>

DRIVER_INITIALIZE DriverEntry;

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    return FltRoutineNoHeaderDeclares(DriverObject);
}
