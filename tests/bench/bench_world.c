/*
 * The benchmarks' world (bench_world.h): the null file system, the drivers
 * loaded from one registration, and their pass-through callbacks.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "bench_world.h"

/* Its one stream's control block: a file object's FsContext, as a file
 * system's FCB, so stream contexts have something to hang off. */
static char nullfs_fcb;

const FLT_CONTEXT_REGISTRATION *bench_world_contexts;

NTSTATUS bench_nullfs_irp(void *fs, PFLT_CALLBACK_DATA data)
{
    (void)fs;
    ULONG_PTR information = 0;
    switch (data->Iopb->MajorFunction) {
    case IRP_MJ_CREATE:
        information = FILE_OPENED;
        data->Iopb->TargetFileObject->FsContext = &nullfs_fcb;
        break;
    case IRP_MJ_CLOSE:
        data->Iopb->TargetFileObject->FsContext = NULL;
        break;
    case IRP_MJ_READ:
        information = data->Iopb->Parameters.Read.Length;
        break;
    case IRP_MJ_WRITE:
        information = data->Iopb->Parameters.Write.Length;
        break;
    default:
        break;
    }
    data->IoStatus.Status = STATUS_SUCCESS;
    data->IoStatus.Information = information;
    return STATUS_SUCCESS;
}

static const struct fltsim_fs_ops nullfs_ops = {.name = "nullfs", .irp_cb = bench_nullfs_irp};

FLT_PREOP_CALLBACK_STATUS bench_passthrough_pre(PFLT_CALLBACK_DATA data,
                                                PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    *context = data;
    /* A decision from the data, as a real pass-through makes one. */
    return data->Iopb->MajorFunction == IRP_MJ_READ ? FLT_PREOP_SUCCESS_WITH_CALLBACK
                                                    : FLT_PREOP_SUCCESS_NO_CALLBACK;
}

FLT_POSTOP_CALLBACK_STATUS bench_passthrough_post(PFLT_CALLBACK_DATA data,
                                                  PCFLT_RELATED_OBJECTS objects, PVOID context,
                                                  FLT_POST_OPERATION_FLAGS flags)
{
    (void)data;
    (void)objects;
    (void)context;
    (void)flags;
    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* DriverEntry finds its slot here: drivers load one at a time, on this
 * thread, and one world exists at a time. */
static struct bench_world *loading_world;
static const FLT_OPERATION_REGISTRATION *loading_ops;
static FLT_REGISTRATION registrations[BENCH_MAX_FILTERS];
static PFLT_FILTER unload_filters[BENCH_MAX_FILTERS];

/* FilterUnloadCallback has no filter argument: one per slot. */
#define BENCH_UNLOAD(i)                                                                            \
    static NTSTATUS bench_unload_##i(FLT_FILTER_UNLOAD_FLAGS flags)                                \
    {                                                                                              \
        (void)flags;                                                                               \
        FltUnregisterFilter(unload_filters[i]);                                                    \
        return STATUS_SUCCESS;                                                                     \
    }
BENCH_UNLOAD(0)
BENCH_UNLOAD(1)
BENCH_UNLOAD(2)
BENCH_UNLOAD(3)
BENCH_UNLOAD(4)
BENCH_UNLOAD(5)
BENCH_UNLOAD(6)
BENCH_UNLOAD(7)
static PFLT_FILTER_UNLOAD_CALLBACK const unloads[BENCH_MAX_FILTERS] = {
    bench_unload_0, bench_unload_1, bench_unload_2, bench_unload_3,
    bench_unload_4, bench_unload_5, bench_unload_6, bench_unload_7};

static NTSTATUS bench_driver_entry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path)
{
    (void)registry_path;
    struct bench_world *w = loading_world;
    int slot = w->filter_count;
    FLT_REGISTRATION *registration = &registrations[slot];
    memset(registration, 0, sizeof(*registration));
    registration->Size = sizeof(*registration);
    registration->Version = FLT_REGISTRATION_VERSION;
    registration->OperationRegistration = loading_ops;
    registration->ContextRegistration = bench_world_contexts;
    registration->FilterUnloadCallback = unloads[slot];
    PFLT_FILTER filter;
    NTSTATUS status = FltRegisterFilter(driver, registration, &filter);
    if (!NT_SUCCESS(status))
        return status;
    status = FltStartFiltering(filter);
    if (!NT_SUCCESS(status)) {
        FltUnregisterFilter(filter);
        return status;
    }
    unload_filters[slot] = filter;
    w->filters[w->filter_count++] = filter;
    return STATUS_SUCCESS;
}

bool bench_world_create(struct bench_world *w, enum fltsim_executor_kind executor,
                        const FLT_OPERATION_REGISTRATION *ops, int filter_count)
{
    memset(w, 0, sizeof(*w));
    struct fltsim_system_options options = {.executor = executor, .seed = 1};
    NTSTATUS status = fltsim_system_create(&options, &w->sys);
    if (!NT_SUCCESS(status)) {
        fprintf(stderr, "bench: fltsim_system_create: 0x%08x %s\n", (unsigned)status,
                fltsim_last_error());
        return false;
    }
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\BenchVolume",
                                      .drive_letter = L'B',
                                      .ops = &nullfs_ops,
                                      .fs_type = FLT_FSTYPE_NTFS};
    status = fltsim_volume_mount(w->sys, &vp, &w->volume);
    if (!NT_SUCCESS(status)) {
        fprintf(stderr, "bench: fltsim_volume_mount: 0x%08x %s\n", (unsigned)status,
                fltsim_last_error());
        goto fail;
    }
    loading_world = w;
    loading_ops = ops;
    for (int i = 0; i < filter_count; i++) {
        char text[32];
        WCHAR name[32], altitude[16];
        snprintf(text, sizeof(text), "BenchFilter%d", i);
        fltsim_utf8_to_utf16(text, name, 32);
        snprintf(text, sizeof(text), "%d", 370000 - i * 1000);
        fltsim_utf8_to_utf16(text, altitude, 16);
        WCHAR instance_name[48];
        snprintf(text, sizeof(text), "BenchFilter%d Instance", i);
        fltsim_utf8_to_utf16(text, instance_name, 48);
        /* Instance names are unique on a volume (a collision fails the attach). */
        struct fltsim_instance_def instance = {instance_name, altitude, 0};
        struct fltsim_filter_def def = {name, instance_name, &instance, 1};
        fltsim_driver *driver;
        status = fltsim_driver_load(w->sys, &def, bench_driver_entry, &driver);
        if (!NT_SUCCESS(status)) {
            fprintf(stderr, "bench: loading filter %d: 0x%08x %s\n", i, (unsigned)status,
                    fltsim_last_error());
            goto fail;
        }
    }
    return true;
fail:
    fltsim_system_destroy(w->sys);
    memset(w, 0, sizeof(*w));
    return false;
}

HANDLE bench_world_open(struct bench_world *w, bool overlapped)
{
    struct fltsim_create_params cp = {
        .path = L"B:\\file",
        .desired_access = FILE_GENERIC_READ | FILE_GENERIC_WRITE,
        .share_access = FILE_SHARE_READ | FILE_SHARE_WRITE,
        .disposition = FILE_OPEN,
        .create_options = overlapped ? 0 : FILE_SYNCHRONOUS_IO_NONALERT};
    HANDLE handle = NULL;
    IO_STATUS_BLOCK iosb;
    NTSTATUS status = fltsim_io_create(w->sys, &cp, &handle, &iosb);
    if (!NT_SUCCESS(status)) {
        fprintf(stderr, "bench: opening B:\\file: 0x%08x %s\n", (unsigned)status,
                fltsim_last_error());
        return NULL;
    }
    return handle;
}

void bench_read_request(struct fltsim_request *req, PFILE_OBJECT fo, void *buffer, ULONG length)
{
    memset(req, 0, sizeof(*req));
    req->kind = FLTSIM_OP_IRP;
    req->major = IRP_MJ_READ;
    req->irp_flags = IRP_READ_OPERATION | IRP_SYNCHRONOUS_API;
    req->file_object = fo;
    req->requestor_mode = UserMode;
    req->parameters.Read.Length = length;
    req->parameters.Read.ReadBuffer = buffer;
}

double bench_read_ns(struct bench_world *w, PFILE_OBJECT fo, uint64_t n, const char *what)
{
    char buffer[64];
    struct fltsim_request req;
    bench_read_request(&req, fo, buffer, sizeof(buffer));
    uint64_t start = bench_now_ns();
    for (uint64_t k = 0; k < n; k++) {
        NTSTATUS status = fltsim_request_dispatch(w->volume, &req);
        if (status != STATUS_SUCCESS) {
            fprintf(stderr, "bench %s: read %llu: 0x%08x\n", what, (unsigned long long)k,
                    (unsigned)status);
            return -1;
        }
    }
    return (double)(bench_now_ns() - start) / (double)n;
}

bool bench_world_destroy(struct bench_world *w, HANDLE handle)
{
    if (handle != NULL)
        fltsim_io_close(w->sys, handle);
    bool clean = !fltsim_system_verifier_failed(w->sys);
    if (!clean)
        fprintf(stderr, "bench: the verifier reported a broken rule (a bench bug)\n");
    fltsim_system_destroy(w->sys);
    memset(w, 0, sizeof(*w));
    return clean;
}
