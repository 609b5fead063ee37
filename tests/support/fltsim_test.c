/*
 * Test support shared by the suites (see fltsim_test.h): status assertions,
 * the recorder, the configurable test filter, the standard world and small
 * string and file helpers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>
#include <uv.h>
#include <zlib.h>

#include "fltsim_test.h"

void fltsim_test_assert_status(NTSTATUS actual, NTSTATUS expected, const char *expr,
                               const char *file, int line)
{
    if ((ULONG)actual == (ULONG)expected)
        return;
    char a[64], e[64];
    fltsim_ntstatus_format(actual, a, sizeof(a));
    fltsim_ntstatus_format(expected, e, sizeof(e));
    print_error("%s is %s, expected %s (%s)\n", expr, a, e, fltsim_last_error());
    _fail(file, line);
}

/* ---- executors ---- */

enum fltsim_executor_kind test_executor = FLTSIM_EXECUTOR_CONCURRENT;
ULONG64 test_seed = 0x5eed;

struct fltsim_system_options test_options(ULONG flags)
{
    struct fltsim_system_options o = {.flags = flags, .executor = test_executor, .seed = test_seed};
    return o;
}

static int use_concurrent(void **state)
{
    (void)state;
    test_executor = FLTSIM_EXECUTOR_CONCURRENT;
    return 0;
}

static int use_deterministic(void **state)
{
    (void)state;
    test_executor = FLTSIM_EXECUTOR_DETERMINISTIC;
    return 0;
}

int fltsim_run_suite(const char *name, const struct CMUnitTest *tests, size_t count)
{
    char label[128];
    snprintf(label, sizeof(label), "%s (concurrent executor)", name);
    int failed = _cmocka_run_group_tests(label, tests, count, use_concurrent, NULL);
    snprintf(label, sizeof(label), "%s (deterministic executor)", name);
    failed += _cmocka_run_group_tests(label, tests, count, use_deterministic, NULL);
    test_executor = FLTSIM_EXECUTOR_CONCURRENT;
    return failed;
}

/* ---- recorder ---- */

static uv_once_t rec_once = UV_ONCE_INIT;
static uv_mutex_t rec_lock;
static char rec_buf[65536];
static size_t rec_len;

static void rec_init(void)
{
    if (uv_mutex_init(&rec_lock) != 0)
        abort();
}

void rec_reset(void)
{
    uv_once(&rec_once, rec_init);
    uv_mutex_lock(&rec_lock);
    rec_len = 0;
    rec_buf[0] = '\0';
    uv_mutex_unlock(&rec_lock);
}

void rec_add(const char *fmt, ...)
{
    char word[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(word, sizeof(word), fmt, ap);
    va_end(ap);
    uv_once(&rec_once, rec_init);
    uv_mutex_lock(&rec_lock);
    size_t n = strlen(word);
    if (rec_len + n + 2 < sizeof(rec_buf)) {
        if (rec_len != 0)
            rec_buf[rec_len++] = ' ';
        memcpy(rec_buf + rec_len, word, n + 1);
        rec_len += n;
    }
    uv_mutex_unlock(&rec_lock);
}

const char *rec_text(void)
{
    uv_once(&rec_once, rec_init);
    return rec_buf;
}

void rec_assert(const char *expected, const char *file, int line)
{
    const char *got = rec_text();
    if (strcmp(got, expected) == 0)
        return;
    print_error("recorded:\n  %s\nexpected:\n  %s\n", got, expected);
    _fail(file, line);
}

static void rec_trace_cb(void *ctx, const struct fltsim_event *ev)
{
    (void)ctx;
    if (ev->type == FLTSIM_EV_FS)
        rec_add("FS:%s", tf_major(ev->major));
}

void rec_trace_system(fltsim_system *sys)
{
    fltsim_system_set_trace(sys, rec_trace_cb, NULL);
}

const char *tf_major(UCHAR major)
{
    const char *name = fltsim_major_name(major);
    if (name == NULL)
        return "?";
    return strncmp(name, "IRP_MJ_", 7) == 0 ? name + 7 : name;
}

/* ---- the test filter ---- */

#define TF_SLOTS 8
static struct tf_filter *tf_slots[TF_SLOTS];

void tf_reset_all(void)
{
    memset(tf_slots, 0, sizeof(tf_slots));
}

static struct tf_filter *tf_of(PFLT_FILTER filter)
{
    for (int i = 0; i < TF_SLOTS; i++)
        if (tf_slots[i] != NULL && tf_slots[i]->filter == filter)
            return tf_slots[i];
    print_error("a callback arrived for a filter that is not a loaded test filter\n");
    _fail(__FILE__, __LINE__);
    abort(); /* _fail longjmps; not reached */
}

static FLT_PREOP_CALLBACK_STATUS tf_pre(PFLT_CALLBACK_DATA data, PCFLT_RELATED_OBJECTS objects,
                                        PVOID *context)
{
    struct tf_filter *tf = tf_of(objects->Filter);
    rec_add("%s:pre:%s", tf->name, tf_major(data->Iopb->MajorFunction));
    *context = NULL;
    return tf->pre != NULL ? tf->pre(tf, data, objects, context) : FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS tf_post(PFLT_CALLBACK_DATA data, PCFLT_RELATED_OBJECTS objects,
                                          PVOID context, FLT_POST_OPERATION_FLAGS flags)
{
    struct tf_filter *tf = tf_of(objects->Filter);
    rec_add("%s:post:%s", tf->name, tf_major(data->Iopb->MajorFunction));
    return tf->post != NULL ? tf->post(tf, data, objects, context, flags)
                            : FLT_POSTOP_FINISHED_PROCESSING;
}

static NTSTATUS tf_setup(PCFLT_RELATED_OBJECTS objects, FLT_INSTANCE_SETUP_FLAGS flags,
                         DEVICE_TYPE device_type, FLT_FILESYSTEM_TYPE fs_type)
{
    (void)device_type;
    (void)fs_type;
    struct tf_filter *tf = tf_of(objects->Filter);
    rec_add("%s:setup", tf->name);
    tf->setup_calls++;
    tf->last_setup_flags = flags;
    tf->last_instance = objects->Instance;
    if (tf->setup_hook != NULL)
        tf->setup_hook(tf, objects);
    return tf->setup_status;
}

static NTSTATUS tf_query_teardown(PCFLT_RELATED_OBJECTS objects,
                                  FLT_INSTANCE_QUERY_TEARDOWN_FLAGS flags)
{
    (void)flags;
    struct tf_filter *tf = tf_of(objects->Filter);
    rec_add("%s:query_teardown", tf->name);
    tf->query_teardown_calls++;
    return tf->query_teardown_status;
}

static void tf_teardown_start(PCFLT_RELATED_OBJECTS objects, FLT_INSTANCE_TEARDOWN_FLAGS reason)
{
    struct tf_filter *tf = tf_of(objects->Filter);
    rec_add("%s:teardown_start", tf->name);
    tf->teardown_start_calls++;
    tf->last_teardown_reason = reason;
    if (tf->teardown_start_hook != NULL)
        tf->teardown_start_hook(tf, objects);
}

static void tf_teardown_complete(PCFLT_RELATED_OBJECTS objects, FLT_INSTANCE_TEARDOWN_FLAGS reason)
{
    struct tf_filter *tf = tf_of(objects->Filter);
    rec_add("%s:teardown_complete", tf->name);
    tf->teardown_complete_calls++;
    tf->last_teardown_reason = reason;
}

static NTSTATUS tf_unload_slot(int slot, FLT_FILTER_UNLOAD_FLAGS flags)
{
    struct tf_filter *tf = tf_slots[slot];
    rec_add("%s:unload", tf->name);
    tf->unload_calls++;
    tf->last_unload_flags = flags;
    bool veto = (ULONG)tf->unload_status >= 0x80000000u && !(flags & FLTFL_FILTER_UNLOAD_MANDATORY);
    if (!veto && !tf->unload_forgets_unregister)
        FltUnregisterFilter(tf->filter);
    return tf->unload_status;
}

static NTSTATUS tf_entry_slot(int slot, PDRIVER_OBJECT driver)
{
    struct tf_filter *tf = tf_slots[slot];
    NTSTATUS status = FltRegisterFilter(driver, &tf->registration, &tf->filter);
    if (!NT_SUCCESS(status))
        return status;
    if (!NT_SUCCESS(tf->entry_status)) {
        FltUnregisterFilter(tf->filter);
        return tf->entry_status;
    }
    status = FltStartFiltering(tf->filter);
    if (!NT_SUCCESS(status))
        FltUnregisterFilter(tf->filter);
    return status;
}

#define TF_SLOT_FUNCS(n)                                                                           \
    static NTSTATUS tf_unload_##n(FLT_FILTER_UNLOAD_FLAGS flags)                                   \
    {                                                                                              \
        return tf_unload_slot(n, flags);                                                           \
    }                                                                                              \
    static NTSTATUS tf_entry_##n(PDRIVER_OBJECT driver, PUNICODE_STRING path)                      \
    {                                                                                              \
        (void)path;                                                                                \
        return tf_entry_slot(n, driver);                                                           \
    }
TF_SLOT_FUNCS(0)
TF_SLOT_FUNCS(1)
TF_SLOT_FUNCS(2)
TF_SLOT_FUNCS(3)
TF_SLOT_FUNCS(4)
TF_SLOT_FUNCS(5)
TF_SLOT_FUNCS(6)
TF_SLOT_FUNCS(7)

static PFLT_FILTER_UNLOAD_CALLBACK const tf_unloads[TF_SLOTS] = {
    tf_unload_0, tf_unload_1, tf_unload_2, tf_unload_3,
    tf_unload_4, tf_unload_5, tf_unload_6, tf_unload_7};
static PDRIVER_INITIALIZE const tf_entries[TF_SLOTS] = {
    tf_entry_0, tf_entry_1, tf_entry_2, tf_entry_3, tf_entry_4, tf_entry_5, tf_entry_6, tf_entry_7};

static void to_wide(WCHAR *out, size_t size, const char *in)
{
    size_t i = 0;
    for (; in[i] != '\0' && i + 1 < size; i++)
        out[i] = (WCHAR)(unsigned char)in[i];
    out[i] = 0;
}

void tf_init(struct tf_filter *tf, const char *name, const char *altitude)
{
    memset(tf, 0, sizeof(*tf));
    snprintf(tf->name, sizeof(tf->name), "%s", name);
    to_wide(tf->wname, 16, name);
    char instance[32];
    snprintf(instance, sizeof(instance), "%s Instance", name);
    to_wide(tf->instance_name, 32, instance);
    to_wide(tf->altitude, 32, altitude);
    for (int major = 0; major < 256; major++) {
        if (fltsim_major_name((UCHAR)major) == NULL || major == IRP_MJ_POWER ||
            major == IRP_MJ_DEVICE_CHANGE)
            continue;
        tf->ops[major].pre = true;
        tf->ops[major].post = major != IRP_MJ_SHUTDOWN;
    }
}

void tf_only(struct tf_filter *tf, UCHAR major)
{
    memset(tf->ops, 0, sizeof(tf->ops));
    tf->ops[major].pre = true;
    tf->ops[major].post = true;
}

NTSTATUS tf_load(fltsim_system *sys, struct tf_filter *tf)
{
    int slot = -1;
    for (int i = 0; i < TF_SLOTS && slot < 0; i++)
        if (tf_slots[i] == NULL)
            slot = i;
    if (slot < 0) {
        print_error("more than %d test filters\n", TF_SLOTS);
        _fail(__FILE__, __LINE__);
    }

    size_t n = 0;
    for (int major = 0; major < 256; major++) {
        const struct tf_op *op = &tf->ops[major];
        if (!op->pre && !op->post)
            continue;
        assert_true(n + 1 < sizeof(tf->operations) / sizeof(tf->operations[0]));
        FLT_OPERATION_REGISTRATION r = {(UCHAR)major, op->flags, op->pre ? tf_pre : NULL,
                                        op->post ? tf_post : NULL, NULL};
        tf->operations[n++] = r;
    }
    tf->operations[n].MajorFunction = IRP_MJ_OPERATION_END;

    FLT_REGISTRATION *reg = &tf->registration;
    memset(reg, 0, sizeof(*reg));
    reg->Size = sizeof(*reg);
    reg->Version = FLT_REGISTRATION_VERSION;
    reg->Flags = tf->registration_flags;
    reg->OperationRegistration = tf->operations;
    reg->ContextRegistration = tf->contexts;
    reg->FilterUnloadCallback = tf->no_unload_callback ? NULL : tf_unloads[slot];
    reg->InstanceSetupCallback = tf->no_setup_callback ? NULL : tf_setup;
    reg->InstanceQueryTeardownCallback = tf->no_query_teardown_callback ? NULL : tf_query_teardown;
    reg->InstanceTeardownStartCallback = tf_teardown_start;
    reg->InstanceTeardownCompleteCallback = tf_teardown_complete;
    reg->GenerateFileNameCallback = tf->generate_file_name;
    reg->NormalizeNameComponentCallback = tf->normalize_name_component;
    reg->NormalizeNameComponentExCallback = tf->normalize_name_component_ex;
    reg->NormalizeContextCleanupCallback = tf->normalize_context_cleanup;

    struct fltsim_instance_def def_instance = {tf->instance_name, tf->altitude, tf->instance_flags};
    struct fltsim_filter_def def = {tf->wname, tf->instance_name, &def_instance, 1};
    tf_slots[slot] = tf;
    NTSTATUS status = fltsim_driver_load(sys, &def, tf_entries[slot], &tf->driver);
    if (!NT_SUCCESS(status))
        tf_slots[slot] = NULL;
    return status;
}

/* ---- world ---- */

void world_create(struct test_world *w, ULONG system_flags)
{
    world_create_ex(w, system_flags, FLTSIM_COMPLETE_INLINE);
}

void world_create_ex(struct test_world *w, ULONG system_flags, ULONG completion)
{
    memset(w, 0, sizeof(*w));
    tf_reset_all();
    rec_reset();
    struct fltsim_system_options opts = test_options(system_flags);
    assert_status(fltsim_system_create(&opts, &w->sys), STATUS_SUCCESS);
    assert_status(fltsim_memfs_create(NULL, &w->fs), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(w->fs, L"\\a.txt", "hello world", 11), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(w->fs, L"\\dir\\b.txt", "bravo", 5), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_directory(w->fs, L"\\empty"), STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume1",
                                      .drive_letter = L'C',
                                      .ops = &fltsim_memfs_ops,
                                      .fs = w->fs,
                                      .fs_type = FLT_FSTYPE_NTFS,
                                      .completion = completion};
    assert_status(fltsim_volume_mount(w->sys, &vp, &w->volume), STATUS_SUCCESS);
}

void world_destroy(struct test_world *w)
{
    fltsim_system_destroy(w->sys);
    tf_reset_all();
    memset(w, 0, sizeof(*w));
}

static void unload_thread(void *arg)
{
    struct unload_job *job = arg;
    job->status = fltsim_driver_unload(job->drv, job->flags);
    __atomic_store_n(&job->done, 1, __ATOMIC_SEQ_CST);
}

fltsim_thread *unload_in_background(fltsim_system *sys, struct unload_job *job)
{
    fltsim_thread *t = NULL;
    assert_status(fltsim_thread_spawn(sys, 1000, 4001, unload_thread, job, &t), STATUS_SUCCESS);
    return t;
}

HANDLE open_overlapped(fltsim_system *sys, PCWSTR path, ACCESS_MASK access)
{
    struct fltsim_create_params cp = {.path = path,
                                      .desired_access = access,
                                      .share_access = FILE_SHARE_READ | FILE_SHARE_WRITE,
                                      .disposition = FILE_OPEN};
    HANDLE h = NULL;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_create(sys, &cp, &h, &iosb), STATUS_SUCCESS);
    return h;
}

HANDLE world_open(struct test_world *w, PCWSTR path, ACCESS_MASK access)
{
    HANDLE h = NULL;
    assert_status(fltsim_io_open(w->sys, path, access, &h), STATUS_SUCCESS);
    return h;
}

/* ---- strings ---- */

UNICODE_STRING ustr(const WCHAR *s)
{
    UNICODE_STRING u;
    RtlInitUnicodeString(&u, s);
    return u;
}

WCHAR *wide_run(WCHAR c, size_t n)
{
    WCHAR *buf = malloc((n + 1) * sizeof(WCHAR));
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = c;
    buf[n] = UNICODE_NULL;
    return buf;
}

/* ---- files ---- */

const char *test_write_temp(char *path, const char *text)
{
    return test_write_temp_bytes(path, text, strlen(text));
}

const char *test_write_temp_bytes(char *path, const void *data, size_t size)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
    return path;
}

const char *test_gzip_temp(char *path, const char *from)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    FILE *in = fopen(from, "rb");
    assert_non_null(in);
    gzFile out = gzopen(path, "wb");
    assert_non_null(out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        assert_int_equal(gzwrite(out, buf, (unsigned)n), (int)n);
    fclose(in);
    assert_int_equal(gzclose(out), Z_OK);
    return path;
}
