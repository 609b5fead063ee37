/*
 * Sections for data scans (issue 19 item 6, avscan's pattern): an instance
 * registers for data scans in its setup; its post-create makes a section of
 * the file just opened (a kernel handle and an object pointer), maps a
 * read-only view in its own process, reads the data, unmaps and closes; a
 * user program gets a section handle of its own process from the filter's
 * MessageNotify and maps it with MapViewOfFile, VirtualQuery,
 * UnmapViewOfFileEx, CloseHandle. The bad inputs each fail with Windows'
 * status; under both executors.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fltsim_test.h"

#include <fltUser.h>
#include <fltsim/io.h>
#include <fltsim/program.h>
/* Last: the program's console and heap redirections (windows.h). */
#include <windows.h>

static const FLT_CONTEXT_REGISTRATION contexts[] = {
    {FLT_SECTION_CONTEXT, 0, NULL, 16, 'tceS', NULL, NULL, NULL},
    {FLT_STREAM_CONTEXT, 0, NULL, 16, 'mrtS', NULL, NULL, NULL},
    {FLT_CONTEXT_END}};

struct fixture {
    struct test_world w;
    struct tf_filter a;
    struct tf_filter b; /* test_unregistered_instance's: loaded until the world goes */
    NTSTATUS registered;
    void (*action)(PCFLT_RELATED_OBJECTS objects); /* run by the next post-create */
    PFILE_OBJECT fo;                               /* the file the program's scans are of */
    PFLT_INSTANCE instance;
    PFLT_PORT server, client;
    PFLT_CONTEXT user_ctx; /* the section context of the program's scan */
    HANDLE aborted;        /* the handle "abort" made and closed */
};

static struct fixture *fx;

static void setup_hook(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    (void)tf;
    fx->registered = FltRegisterForDataScan(objects->Instance);
}

static FLT_POSTOP_CALLBACK_STATUS post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                       PCFLT_RELATED_OBJECTS objects, PVOID context,
                                       FLT_POST_OPERATION_FLAGS flags)
{
    (void)tf;
    (void)context;
    (void)flags;
    if (data->Iopb->MajorFunction == IRP_MJ_CREATE && NT_SUCCESS(data->IoStatus.Status) &&
        fx->action != NULL) {
        void (*act)(PCFLT_RELATED_OBJECTS) = fx->action;
        fx->action = NULL;
        act(objects);
    }
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static NTSTATUS FLTAPI on_connect(PFLT_PORT client, PVOID server_cookie, PVOID context, ULONG size,
                                  PVOID *cookie)
{
    (void)server_cookie;
    (void)context;
    (void)size;
    fx->client = client;
    *cookie = fx;
    return STATUS_SUCCESS;
}

static VOID FLTAPI on_disconnect(PVOID cookie)
{
    (void)cookie;
    FltCloseClientPort(fx->a.filter, &fx->client);
}

/* "map": a section of fx->fo whose handle (the program's) is the reply;
 * "close": FltCloseSectionForDataScan. */
static NTSTATUS FLTAPI on_message(PVOID cookie, PVOID in, ULONG in_len, PVOID out, ULONG out_len,
                                  PULONG returned)
{
    (void)cookie;
    (void)in_len;
    if (strcmp(in, "close") == 0) {
        NTSTATUS status = FltCloseSectionForDataScan(fx->user_ctx);
        FltReleaseContext(fx->user_ctx);
        fx->user_ctx = NULL;
        return status;
    }
    if (out_len < sizeof(HANDLE))
        return STATUS_BUFFER_TOO_SMALL;
    bool abort = strcmp(in, "abort") == 0;
    NTSTATUS status =
        FltAllocateContext(fx->a.filter, FLT_SECTION_CONTEXT, 16, PagedPool, &fx->user_ctx);
    if (!NT_SUCCESS(status))
        return status;
    HANDLE h = NULL;
    status = FltCreateSectionForDataScan(fx->instance, fx->fo, fx->user_ctx, SECTION_MAP_READ, NULL,
                                         NULL, PAGE_READONLY, SEC_COMMIT, 0, &h, NULL, NULL);
    if (!NT_SUCCESS(status))
        return status;
    if (abort) {
        /* avscan's abort: the kernel closes the program's handle (in the
         * program's process, where this runs), then the section. */
        NTSTATUS closed = ZwClose(h);
        status = FltCloseSectionForDataScan(fx->user_ctx);
        FltReleaseContext(fx->user_ctx);
        fx->user_ctx = NULL;
        memcpy(out, &closed, sizeof(closed));
        *returned = sizeof(closed);
        fx->aborted = h;
        return status;
    }
    memcpy(out, &h, sizeof(h));
    *returned = sizeof(h);
    return STATUS_SUCCESS;
}

static void keep_file(PCFLT_RELATED_OBJECTS objects)
{
    fx->fo = objects->FileObject;
    fx->instance = objects->Instance;
    ObReferenceObject(fx->fo);
}

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    fx = &f;
    tf_reset_all();
    world_create(&f.w, 0);
    tf_init(&f.a, "A", "300000");
    f.a.contexts = contexts;
    f.a.setup_hook = setup_hook;
    f.a.post = post;
    f.registered = STATUS_PENDING;
    assert_status(tf_load(f.w.sys, &f.a), STATUS_SUCCESS);
    assert_status(f.registered, STATUS_SUCCESS);
    UNICODE_STRING name = ustr(L"\\ScanPort");
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_KERNEL_HANDLE, NULL, NULL);
    assert_status(FltCreateCommunicationPort(f.a.filter, &f.server, &oa, NULL, on_connect,
                                             on_disconnect, on_message, 1),
                  STATUS_SUCCESS);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (fx->fo != NULL)
        ObDereferenceObject(fx->fo);
    if (fx->server != NULL)
        FltCloseCommunicationPort(fx->server);
    if (fx->w.sys != NULL)
        world_destroy(&fx->w);
    return 0;
}

/* Opens path, running act in the filter's post-create. */
static void open_with(PCWSTR path, void (*act)(PCFLT_RELATED_OBJECTS objects))
{
    fx->action = act;
    HANDLE h = NULL;
    assert_status(fltsim_io_open(fx->w.sys, path, GENERIC_READ, &h), STATUS_SUCCESS);
    assert_null(fx->action); /* it ran */
    assert_status(fltsim_io_close(fx->w.sys, h), STATUS_SUCCESS);
}

/* The permissions ("r--p") of the host mapping holding p, from
 * /proc/self/maps; false when none holds it. */
static bool host_perms(const void *p, char perms[5])
{
    static char maps[1 << 20];
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0)
        return false;
    size_t n = 0;
    ssize_t got;
    while (n < sizeof(maps) - 1 && (got = read(fd, maps + n, sizeof(maps) - 1 - n)) > 0)
        n += (size_t)got;
    close(fd);
    maps[n] = 0;
    for (char *line = maps; line != NULL && *line != 0;) {
        char *end = NULL;
        unsigned long lo = strtoul(line, &end, 16);
        unsigned long hi = strtoul(end + 1, &end, 16);
        if ((unsigned long)p >= lo && (unsigned long)p < hi) {
            memcpy(perms, end + 1, 4);
            perms[4] = 0;
            return true;
        }
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return false;
}

/* ---- the kernel scan (AvScanInKernel's pattern) ---- */

static struct kernel_scan {
    NTSTATUS create, map, unmap, unmap_again, close, close_again, zwclose;
    LARGE_INTEGER file_size;
    SIZE_T view_size;
    char data[16];
    char perms[5]; /* the view's pages, as the host maps them */
} ks;

static void act_kernel_scan(PCFLT_RELATED_OBJECTS objects)
{
    PFLT_CONTEXT ctx = NULL;
    assert_status(FltAllocateContext(objects->Filter, FLT_SECTION_CONTEXT, 16, PagedPool, &ctx),
                  STATUS_SUCCESS);
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, NULL, OBJ_KERNEL_HANDLE, NULL, NULL);
    HANDLE h = NULL;
    PVOID object = NULL;
    ks.create = FltCreateSectionForDataScan(objects->Instance, objects->FileObject, ctx,
                                            SECTION_MAP_READ, &oa, NULL, PAGE_READONLY, SEC_COMMIT,
                                            0, &h, &object, &ks.file_size);
    if (!NT_SUCCESS(ks.create)) {
        FltReleaseContext(ctx);
        return;
    }
    PVOID base = NULL;
    ks.map = ZwMapViewOfSection(h, ZwCurrentProcess(), &base, 0, 0, NULL, &ks.view_size, ViewUnmap,
                                0, PAGE_READONLY);
    if (NT_SUCCESS(ks.map)) {
        memcpy(ks.data, base, 11);
        if (!host_perms(base, ks.perms))
            strcpy(ks.perms, "none");
        ks.unmap = ZwUnmapViewOfSection(ZwCurrentProcess(), base);
        ks.unmap_again = ZwUnmapViewOfSection(ZwCurrentProcess(), base);
    }
    ObDereferenceObject(object); /* AvCloseSectionForDataScan's order */
    ks.close = FltCloseSectionForDataScan(ctx);
    ks.close_again = FltCloseSectionForDataScan(ctx);
    FltReleaseContext(ctx);
}

static void test_kernel_scan(void **state)
{
    (void)state;
    memset(&ks, 0, sizeof(ks));
    open_with(L"C:\\a.txt", act_kernel_scan);
    assert_status(ks.create, STATUS_SUCCESS);
    assert_int_equal(ks.file_size.QuadPart, 11);
    assert_status(ks.map, STATUS_SUCCESS);
    assert_int_equal(ks.view_size, 4096); /* whole pages */
    assert_memory_equal(ks.data, "hello world", 11);
    assert_string_equal(ks.perms, "r--p"); /* PAGE_READONLY: a write faults */
    assert_status(ks.unmap, STATUS_SUCCESS);
    assert_status(ks.unmap_again, STATUS_NOT_MAPPED_VIEW);
    assert_status(ks.close, STATUS_SUCCESS);
    assert_status(ks.close_again, STATUS_NOT_FOUND);
    assert_int_equal(fltsim_system_report_count(fx->w.sys), 0);
}

/* A section never closed: the system's end frees it (reported, V23). */
static void act_leave_open(PCFLT_RELATED_OBJECTS objects)
{
    PFLT_CONTEXT ctx = NULL;
    assert_status(FltAllocateContext(objects->Filter, FLT_SECTION_CONTEXT, 16, PagedPool, &ctx),
                  STATUS_SUCCESS);
    HANDLE h = NULL;
    PVOID base = NULL;
    SIZE_T size = 0;
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, NULL, OBJ_KERNEL_HANDLE, NULL, NULL);
    ks.create =
        FltCreateSectionForDataScan(objects->Instance, objects->FileObject, ctx, SECTION_MAP_READ,
                                    &oa, NULL, PAGE_READONLY, SEC_COMMIT, 0, &h, NULL, NULL);
    ks.map = ZwMapViewOfSection(h, ZwCurrentProcess(), &base, 0, 0, NULL, &size, ViewUnmap, 0,
                                PAGE_READONLY);
    FltReleaseContext(ctx);
}

static LONG v23_seen;

static void count_v23(void *ctx, const struct fltsim_event *ev)
{
    (void)ctx;
    if (ev->type == FLTSIM_EV_REPORT && ev->rule != NULL && strncmp(ev->rule, "V23", 3) == 0 &&
        strstr(ev->detail, "data-scan section") != NULL)
        __atomic_add_fetch(&v23_seen, 1, __ATOMIC_SEQ_CST);
}

static void test_left_open_at_the_end(void **state)
{
    (void)state;
    memset(&ks, 0, sizeof(ks));
    open_with(L"C:\\a.txt", act_leave_open);
    assert_status(ks.create, STATUS_SUCCESS);
    assert_status(ks.map, STATUS_SUCCESS);
    v23_seen = 0;
    fltsim_system_set_trace(fx->w.sys, count_v23, NULL);
    FltCloseCommunicationPort(fx->server);
    fx->server = NULL;
    world_destroy(&fx->w);
    fx->w.sys = NULL;
    assert_int_equal(v23_seen, 1);
}

/* ---- bad input ---- */

static struct bad {
    NTSTATUS wrong_type, flags, protection, attributes, no_handle, twice, conflicting, writable,
        aligned, bad_handle, directory, zwclose, zwclose_again;
} bad;

static NTSTATUS make(PCFLT_RELATED_OBJECTS objects, PFLT_CONTEXT ctx, ULONG protect, ULONG attrs,
                     ULONG flags, HANDLE *h)
{
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, NULL, OBJ_KERNEL_HANDLE, NULL, NULL);
    return FltCreateSectionForDataScan(objects->Instance, objects->FileObject, ctx,
                                       SECTION_MAP_READ, &oa, NULL, protect, attrs, flags, h, NULL,
                                       NULL);
}

static void act_bad(PCFLT_RELATED_OBJECTS objects)
{
    PFLT_CONTEXT stream = NULL, ctx = NULL;
    assert_status(FltAllocateContext(objects->Filter, FLT_STREAM_CONTEXT, 16, PagedPool, &stream),
                  STATUS_SUCCESS);
    assert_status(FltAllocateContext(objects->Filter, FLT_SECTION_CONTEXT, 16, PagedPool, &ctx),
                  STATUS_SUCCESS);
    HANDLE h = NULL;
    bad.wrong_type = make(objects, stream, PAGE_READONLY, SEC_COMMIT, 0, &h);
    bad.flags = make(objects, ctx, PAGE_READONLY, SEC_COMMIT, 1, &h);
    bad.protection = make(objects, ctx, PAGE_EXECUTE, SEC_COMMIT, 0, &h);
    bad.attributes = make(objects, ctx, PAGE_READONLY, 0, 0, &h);
    bad.no_handle = make(objects, ctx, PAGE_READONLY, SEC_COMMIT, 0, NULL);
    assert_status(make(objects, ctx, PAGE_READONLY, SEC_COMMIT, 0, &h), STATUS_SUCCESS);
    HANDLE h2 = NULL;
    bad.twice = make(objects, ctx, PAGE_READONLY, SEC_COMMIT, 0, &h2);
    PVOID base = (PVOID)0x10000;
    SIZE_T size = 0;
    bad.conflicting = ZwMapViewOfSection(h, ZwCurrentProcess(), &base, 0, 0, NULL, &size, ViewUnmap,
                                         0, PAGE_READONLY);
    base = NULL;
    bad.writable = ZwMapViewOfSection(h, ZwCurrentProcess(), &base, 0, 0, NULL, &size, ViewUnmap, 0,
                                      PAGE_READWRITE);
    LARGE_INTEGER offset = {.QuadPart = 4096};
    bad.aligned = ZwMapViewOfSection(h, ZwCurrentProcess(), &base, 0, 0, &offset, &size, ViewUnmap,
                                     0, PAGE_READONLY);
    bad.bad_handle = ZwMapViewOfSection((HANDLE)(ULONG_PTR)0x1234, ZwCurrentProcess(), &base, 0, 0,
                                        NULL, &size, ViewUnmap, 0, PAGE_READONLY);
    /* The kernel handle closes with ZwClose too; the section stays bound to
     * its context until FltCloseSectionForDataScan. */
    bad.zwclose = ZwClose(h);
    assert_status(FltCloseSectionForDataScan(ctx), STATUS_SUCCESS);
    FltReleaseContext(ctx);
    FltReleaseContext(stream);
}

static void act_directory(PCFLT_RELATED_OBJECTS objects)
{
    PFLT_CONTEXT ctx = NULL;
    assert_status(FltAllocateContext(objects->Filter, FLT_SECTION_CONTEXT, 16, PagedPool, &ctx),
                  STATUS_SUCCESS);
    HANDLE h = NULL;
    bad.directory = make(objects, ctx, PAGE_READONLY, SEC_COMMIT, 0, &h);
    FltReleaseContext(ctx);
}

static void test_bad_input(void **state)
{
    (void)state;
    memset(&bad, 0, sizeof(bad));
    open_with(L"C:\\a.txt", act_bad);
    assert_status(bad.wrong_type, STATUS_INVALID_PARAMETER_3);
    assert_status(bad.flags, STATUS_INVALID_PARAMETER_9);
    assert_status(bad.protection, STATUS_INVALID_PAGE_PROTECTION);
    assert_status(bad.attributes, STATUS_INVALID_PARAMETER_8);
    assert_status(bad.no_handle, STATUS_INVALID_PARAMETER_10);
    assert_status(bad.twice, STATUS_INVALID_PARAMETER_3);
    assert_status(bad.conflicting, STATUS_CONFLICTING_ADDRESSES);
    assert_status(bad.writable, STATUS_SECTION_PROTECTION);
    assert_status(bad.aligned, STATUS_MAPPED_ALIGNMENT);
    assert_status(bad.bad_handle, STATUS_INVALID_HANDLE);
    assert_status(bad.zwclose, STATUS_SUCCESS);
    open_with(L"C:\\empty", act_directory);
    assert_status(bad.directory, STATUS_INVALID_FILE_FOR_SECTION);
}

/* An instance that did not register is refused (FltRegisterForDataScan
 * first, as its page says). */
static NTSTATUS unregistered;

static void act_unregistered(PCFLT_RELATED_OBJECTS objects)
{
    PFLT_CONTEXT ctx = NULL;
    assert_status(FltAllocateContext(objects->Filter, FLT_SECTION_CONTEXT, 16, PagedPool, &ctx),
                  STATUS_SUCCESS);
    HANDLE h = NULL;
    unregistered = make(objects, ctx, PAGE_READONLY, SEC_COMMIT, 0, &h);
    FltReleaseContext(ctx);
}

static void test_unregistered_instance(void **state)
{
    (void)state;
    struct tf_filter *b = &fx->b;
    tf_init(b, "B", "200000");
    b->contexts = contexts;
    b->post = post;
    assert_status(tf_load(fx->w.sys, b), STATUS_SUCCESS);
    unregistered = STATUS_PENDING;
    /* A's post runs first and takes no action; B's (the second) does. */
    fx->action = NULL;
    HANDLE h = NULL;
    struct tf_filter *a = &fx->a;
    a->post = NULL;
    fx->action = act_unregistered;
    assert_status(fltsim_io_open(fx->w.sys, L"C:\\a.txt", GENERIC_READ, &h), STATUS_SUCCESS);
    assert_status(fltsim_io_close(fx->w.sys, h), STATUS_SUCCESS);
    a->post = post;
    assert_status(unregistered, STATUS_NOT_SUPPORTED);
}

/* ---- the user program's scan (userscan.c's pattern) ---- */

static PVOID leftover; /* a view the program leaves mapped when it ends */

static int scan_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    HANDLE port = NULL;
    if (FAILED(FilterConnectCommunicationPort(L"\\ScanPort", 0, NULL, 0, NULL, &port)))
        return 2;
    HANDLE section = NULL;
    DWORD n = 0;
    HRESULT hr = FilterSendMessage(port, (char[]){"map"}, 4, &section, sizeof(section), &n);
    if (FAILED(hr) || n != sizeof(section)) {
        printf("map: 0x%08lx, %lu bytes\n", (unsigned long)hr, (unsigned long)n);
        return 3;
    }
    PUCHAR view = MapViewOfFile(section, FILE_MAP_READ, 0, 0, 0);
    if (view == NULL)
        return 4;
    MEMORY_BASIC_INFORMATION mbi;
    if (VirtualQuery(view + 5, &mbi, sizeof(mbi)) != sizeof(mbi))
        return 5;
    if (mbi.AllocationBase != view || mbi.BaseAddress != view || mbi.RegionSize != 4096 ||
        mbi.Type != MEM_MAPPED || mbi.Protect != PAGE_READONLY || mbi.State != MEM_COMMIT)
        return 6;
    if (memcmp(view, "hello world", 11) != 0 || view[11] != 0)
        return 7;
    if (MapViewOfFile(section, FILE_MAP_WRITE, 0, 0, 0) != NULL ||
        GetLastError() != ERROR_ACCESS_DENIED)
        return 8;
    if (!UnmapViewOfFileEx(view, MEM_UNMAP_WITH_TRANSIENT_BOOST))
        return 9;
    if (UnmapViewOfFileEx(view, 0) || GetLastError() != 487 /* ERROR_INVALID_ADDRESS */)
        return 10;
    if (VirtualQuery(view, &mbi, sizeof(mbi)) != 0)
        return 11;
    /* A view left mapped goes with the process. */
    leftover = MapViewOfFile(section, FILE_MAP_READ, 0, 0, 0);
    if (leftover == NULL)
        return 12;
    if (!CloseHandle(section))
        return 13;
    if (MapViewOfFile(section, FILE_MAP_READ, 0, 0, 0) != NULL ||
        GetLastError() != ERROR_INVALID_HANDLE)
        return 14;
    char reply[4];
    if (FAILED(FilterSendMessage(port, (char[]){"close"}, 6, reply, sizeof(reply), &n)))
        return 15;
    NTSTATUS closed = STATUS_PENDING;
    if (FAILED(FilterSendMessage(port, (char[]){"abort"}, 6, &closed, sizeof(HANDLE), &n)) ||
        closed != STATUS_SUCCESS)
        return 16;
    if (CloseHandle(fx->aborted) || GetLastError() != ERROR_INVALID_HANDLE)
        return 17; /* ZwClose closed it */
    CloseHandle(port);
    return 0;
}

static void test_user_scan(void **state)
{
    (void)state;
    /* The handle stays open while the program scans (the create avscan
     * scans in waits for the scan): a cleaned-up file object is not read. */
    fx->action = keep_file;
    HANDLE file = NULL;
    assert_status(fltsim_io_open(fx->w.sys, L"C:\\a.txt", GENERIC_READ, &file), STATUS_SUCCESS);
    struct fltsim_process_params p = {.name = "avscan.exe", .main = scan_main};
    fltsim_process *proc = NULL;
    assert_status(fltsim_process_start(fx->w.sys, &p, &proc), STATUS_SUCCESS);
    assert_status(fltsim_process_wait(proc, FLTSIM_PROCESS_EXIT, NULL, 10000), STATUS_SUCCESS);
    ULONG code = 99;
    assert_true(fltsim_process_exited(proc, &code));
    if (code != 0) {
        char out[512];
        fltsim_process_output(proc, out, sizeof(out));
        print_message("%s", out);
    }
    assert_int_equal(code, 0);
    fltsim_process_free(proc);
    /* Its end unmapped the view it left (no read-only mapping is there). */
    char perms[5];
    assert_true(!host_perms(leftover, perms) || strcmp(perms, "r--p") != 0);
    assert_status(fltsim_io_close(fx->w.sys, file), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(fx->w.sys), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kernel_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_left_open_at_the_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unregistered_instance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_scan, setup, teardown),
    };
    return FLTSIM_RUN_SUITE("section", tests);
}
