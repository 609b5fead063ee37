/*
 * "Raw", the minifilter with a hand-written DriverEntry (see raw_filter.h):
 * its registration, instance table and callbacks. Which FLT_REGISTRATION it
 * registers and what DriverEntry does besides are up to each case; the
 * configurable test filter of fltsim_test.c covers everything else.
 */
#include <string.h>

#include "raw_filter.h"

struct raw_filter raw;

const struct fltsim_instance_def raw_instance = {L"Raw Instance", L"200000", 0};
const struct fltsim_filter_def raw_def = {L"Raw", L"Raw Instance", &raw_instance, 1};

FLT_PREOP_CALLBACK_STATUS raw_pre(PFLT_CALLBACK_DATA data, PCFLT_RELATED_OBJECTS objects,
                                  PVOID *context)
{
    (void)data;
    (void)objects;
    *context = NULL;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

FLT_POSTOP_CALLBACK_STATUS raw_post(PFLT_CALLBACK_DATA data, PCFLT_RELATED_OBJECTS objects,
                                    PVOID context, FLT_POST_OPERATION_FLAGS flags)
{
    (void)data;
    (void)objects;
    (void)context;
    (void)flags;
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static NTSTATUS raw_setup(PCFLT_RELATED_OBJECTS objects, FLT_INSTANCE_SETUP_FLAGS flags,
                          DEVICE_TYPE device_type, FLT_FILESYSTEM_TYPE fs_type)
{
    (void)objects;
    (void)device_type;
    (void)fs_type;
    rec_add("raw:setup:0x%x", (unsigned)flags);
    return STATUS_SUCCESS;
}

static NTSTATUS raw_unload(FLT_FILTER_UNLOAD_FLAGS flags)
{
    (void)flags;
    FltUnregisterFilter(raw.filter);
    return STATUS_SUCCESS;
}

NTSTATUS raw_generate(PFLT_INSTANCE instance, PFILE_OBJECT file_object, PFLT_CALLBACK_DATA data,
                      FLT_FILE_NAME_OPTIONS options, PBOOLEAN cache, PFLT_NAME_CONTROL name)
{
    (void)instance;
    (void)file_object;
    (void)data;
    (void)options;
    (void)cache;
    (void)name;
    return STATUS_NOT_SUPPORTED;
}

NTSTATUS raw_normalize(PFLT_INSTANCE instance, PCUNICODE_STRING parent, USHORT volume_name_length,
                       PCUNICODE_STRING component, PFILE_NAMES_INFORMATION expand,
                       ULONG expand_length, FLT_NORMALIZE_NAME_FLAGS flags, PVOID *context)
{
    (void)instance;
    (void)parent;
    (void)volume_name_length;
    (void)component;
    (void)expand;
    (void)expand_length;
    (void)flags;
    (void)context;
    return STATUS_NOT_SUPPORTED;
}

NTSTATUS raw_normalize_ex(PFLT_INSTANCE instance, PFILE_OBJECT file_object, PCUNICODE_STRING parent,
                          USHORT volume_name_length, PCUNICODE_STRING component,
                          PFILE_NAMES_INFORMATION expand, ULONG expand_length,
                          FLT_NORMALIZE_NAME_FLAGS flags, PVOID *context)
{
    (void)file_object;
    return raw_normalize(instance, parent, volume_name_length, component, expand, expand_length,
                         flags, context);
}

void raw_cleanup(PVOID *context)
{
    (void)context;
}

PVOID raw_ctx_alloc(POOL_TYPE pool_type, SIZE_T size, FLT_CONTEXT_TYPE type)
{
    (void)type;
    return ExAllocatePoolWithTag(pool_type, size, RAW_TAG);
}

void raw_ctx_free(PVOID pool, FLT_CONTEXT_TYPE type)
{
    (void)type;
    ExFreePoolWithTag(pool, RAW_TAG);
}

void raw_ctx_cleanup(PFLT_CONTEXT context, FLT_CONTEXT_TYPE type)
{
    (void)context;
    (void)type;
}

NTSTATUS raw_entry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path)
{
    (void)registry_path;
    DRIVER_OBJECT forged;
    static DRIVER_OBJECT zeroed;
    PDRIVER_OBJECT use = driver;
    if (raw.foreign_driver == 1) {
        use = &zeroed;
    } else if (raw.foreign_driver == 2) {
        memcpy(&forged, driver, sizeof(forged));
        use = &forged;
    }
    raw.register_status = FltRegisterFilter(use, raw.reg, raw.null_ret_filter ? NULL : &raw.filter);
    if (!NT_SUCCESS(raw.register_status))
        return raw.register_status;
    if (raw.register_twice)
        raw.register2_status = FltRegisterFilter(driver, raw.reg, &raw.filter2);
    if (raw.start) {
        raw.start_status = FltStartFiltering(raw.filter);
        rec_add("entry:started");
        if (raw.start_twice)
            raw.start2_status = FltStartFiltering(raw.filter);
    }
    return STATUS_SUCCESS;
}

FLT_REGISTRATION raw_registration(void)
{
    FLT_REGISTRATION reg;
    memset(&reg, 0, sizeof(reg));
    reg.Size = sizeof(reg);
    reg.Version = FLT_REGISTRATION_VERSION;
    reg.FilterUnloadCallback = raw_unload;
    reg.InstanceSetupCallback = raw_setup;
    return reg;
}

void raw_reset(void)
{
    memset(&raw, 0, sizeof(raw));
}
