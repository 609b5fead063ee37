/*
 * "Raw", a minifilter for the registrations the configurable test filter
 * cannot express, shared by the registration and lifecycle suites. Each case
 * sets raw.reg (handed to FltRegisterFilter as is, malformed or NULL) and
 * what DriverEntry does besides, loads raw_def with raw_entry, and reads
 * back what FltRegisterFilter and FltStartFiltering returned.
 */
#ifndef FLTSIM_RAW_FILTER_H
#define FLTSIM_RAW_FILTER_H

#include "fltsim_test.h"

#define RAW_TAG 0x74736152u /* 'Rast' */

struct raw_filter {
    /* what DriverEntry does */
    const FLT_REGISTRATION *reg; /* handed to FltRegisterFilter as is (may be NULL) */
    bool null_ret_filter;        /* pass RetFilter = NULL */
    int foreign_driver;          /* 1: a zeroed DRIVER_OBJECT, 2: a copy of the real one */
    bool register_twice;
    bool start;
    bool start_twice;
    /* what happened */
    NTSTATUS register_status, register2_status, start_status, start2_status;
    PFLT_FILTER filter, filter2;
};

/* Raw's plan and results; raw_reset clears it. */
extern struct raw_filter raw;
/* "Raw Instance" at 200000, and Raw's definition for fltsim_driver_load. */
extern const struct fltsim_instance_def raw_instance;
extern const struct fltsim_filter_def raw_def;

/* Callbacks a case's registration may name. The pre answers
 * SUCCESS_NO_CALLBACK and the post FINISHED_PROCESSING; the name provider
 * callbacks answer STATUS_NOT_SUPPORTED; the context callbacks allocate and
 * free pool under RAW_TAG. */
FLT_PREOP_CALLBACK_STATUS raw_pre(PFLT_CALLBACK_DATA data, PCFLT_RELATED_OBJECTS objects,
                                  PVOID *context);
FLT_POSTOP_CALLBACK_STATUS raw_post(PFLT_CALLBACK_DATA data, PCFLT_RELATED_OBJECTS objects,
                                    PVOID context, FLT_POST_OPERATION_FLAGS flags);
NTSTATUS raw_generate(PFLT_INSTANCE instance, PFILE_OBJECT file_object, PFLT_CALLBACK_DATA data,
                      FLT_FILE_NAME_OPTIONS options, PBOOLEAN cache, PFLT_NAME_CONTROL name);
NTSTATUS raw_normalize(PFLT_INSTANCE instance, PCUNICODE_STRING parent, USHORT volume_name_length,
                       PCUNICODE_STRING component, PFILE_NAMES_INFORMATION expand,
                       ULONG expand_length, FLT_NORMALIZE_NAME_FLAGS flags, PVOID *context);
NTSTATUS raw_normalize_ex(PFLT_INSTANCE instance, PFILE_OBJECT file_object, PCUNICODE_STRING parent,
                          USHORT volume_name_length, PCUNICODE_STRING component,
                          PFILE_NAMES_INFORMATION expand, ULONG expand_length,
                          FLT_NORMALIZE_NAME_FLAGS flags, PVOID *context);
void raw_cleanup(PVOID *context);
PVOID raw_ctx_alloc(POOL_TYPE pool_type, SIZE_T size, FLT_CONTEXT_TYPE type);
void raw_ctx_free(PVOID pool, FLT_CONTEXT_TYPE type);
void raw_ctx_cleanup(PFLT_CONTEXT context, FLT_CONTEXT_TYPE type);

/* Raw's DriverEntry: FltRegisterFilter with raw.reg (and a forged driver
 * object or a NULL RetFilter when raw says so), a second registration and
 * FltStartFiltering (once or twice, recording "entry:started" after the
 * first) when raw asks for them; the statuses go to raw. Returns the
 * registration's failure, else STATUS_SUCCESS. Raw's InstanceSetup records
 * "raw:setup:0x<flags>" and succeeds; its unload callback unregisters. */
NTSTATUS raw_entry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path);
/* A registration every check accepts: Raw's unload and setup callbacks, no
 * operations, no contexts. */
FLT_REGISTRATION raw_registration(void);
/* Forgets the plan and the results. */
void raw_reset(void);

#endif /* FLTSIM_RAW_FILTER_H */
