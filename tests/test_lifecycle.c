/*
 * A registered filter's life (SPEC 1.4, 2.4, 2.6, 2.7, 12.5-12.7): when
 * FltStartFiltering and the deferred mount setup offer it volumes, and the
 * unload request from FilterUnloadCallback through FltUnregisterFilter's
 * teardown and its wait for rundown references, up to system destroy. Most
 * cases use the configurable test filter; FltStartFiltering's go through
 * "Raw" (raw_filter.h). What FltRegisterFilter accepts is test_registration.c.
 */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "fltsim_test.h"
#include "raw_filter.h"

/* ------------------------------------------------------------------------- */
/* A log of instance events, fed by the system's trace                       */
/* ------------------------------------------------------------------------- */

/* Words such as "start:A:HarddiskVolume1:0x2" (event, filter, volume, flags).
 * Written from whatever thread runs the event, read by the test thread. */
static uv_once_t life_once = UV_ONCE_INIT;
static uv_mutex_t life_lock;
static char life_buf[16384];
static size_t life_len;
static int life_completes; /* TeardownComplete events, atomic */

static void life_init(void)
{
    if (uv_mutex_init(&life_lock) != 0)
        abort();
}

static void life_reset(void)
{
    uv_once(&life_once, life_init);
    uv_mutex_lock(&life_lock);
    life_len = 0;
    life_buf[0] = '\0';
    uv_mutex_unlock(&life_lock);
    __atomic_store_n(&life_completes, 0, __ATOMIC_SEQ_CST);
}

static const char *short_volume(const char *volume)
{
    if (volume == NULL)
        return "-";
    const char *slash = strrchr(volume, '\\');
    return slash != NULL ? slash + 1 : volume;
}

static void life_trace(void *ctx, const struct fltsim_event *ev)
{
    (void)ctx;
    const char *what;
    switch (ev->type) {
    case FLTSIM_EV_INSTANCE_SETUP:
        what = "setup";
        break;
    case FLTSIM_EV_QUERY_TEARDOWN:
        what = "query";
        break;
    case FLTSIM_EV_TEARDOWN_START:
        what = "start";
        break;
    case FLTSIM_EV_TEARDOWN_COMPLETE:
        what = "complete";
        break;
    default:
        return;
    }
    char word[256];
    snprintf(word, sizeof(word), "%s:%s:%s:0x%x", what, ev->filter != NULL ? ev->filter : "-",
             short_volume(ev->volume), (unsigned)ev->flags);
    uv_mutex_lock(&life_lock);
    size_t n = strlen(word);
    if (life_len + n + 2 < sizeof(life_buf)) {
        if (life_len != 0)
            life_buf[life_len++] = ' ';
        memcpy(life_buf + life_len, word, n + 1);
        life_len += n;
    }
    uv_mutex_unlock(&life_lock);
    if (ev->type == FLTSIM_EV_TEARDOWN_COMPLETE)
        __atomic_add_fetch(&life_completes, 1, __ATOMIC_SEQ_CST);
}

static void life_watch(fltsim_system *sys)
{
    life_reset();
    fltsim_system_set_trace(sys, life_trace, NULL);
}

/* Occurrences of word (a whole word or a prefix of words) in the log. */
static int life_count(const char *word)
{
    int n = 0;
    uv_mutex_lock(&life_lock);
    for (const char *p = strstr(life_buf, word); p != NULL; p = strstr(p + 1, word))
        n++;
    uv_mutex_unlock(&life_lock);
    return n;
}

/* Fails unless first and second are both logged, first before second. */
static void life_assert_before(const char *first, const char *second, const char *file, int line)
{
    uv_mutex_lock(&life_lock);
    const char *a = strstr(life_buf, first), *b = strstr(life_buf, second);
    bool ok = a != NULL && b != NULL && a < b;
    if (!ok)
        print_error("expected '%s' before '%s' in:\n  %s\n", first, second, life_buf);
    uv_mutex_unlock(&life_lock);
    if (!ok)
        _fail(file, line);
}
#define assert_life_before(first, second) life_assert_before((first), (second), __FILE__, __LINE__)

/* ------------------------------------------------------------------------- */
/* Fixture and helpers                                                       */
/* ------------------------------------------------------------------------- */

/* seen is written by filter hooks, which can run again while world_destroy
 * unloads the filters, after the test returned: it must not be on its stack. */
struct fx {
    struct test_world w;
    struct tf_filter a, b;
    NTSTATUS seen;
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    raw_reset();
    life_reset();
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    if (f->w.sys != NULL)
        world_destroy(&f->w);
    free(f);
    return 0;
}

/* Opens and closes C:\a.txt (or path), so that filters see a create. */
static void touch(struct fx *f, PCWSTR path)
{
    HANDLE h = world_open(&f->w, path, GENERIC_READ);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* Mounts a second memfs volume, D: = \Device\HarddiskVolume2, holding \d.txt. */
static PFLT_VOLUME mount_d(fltsim_system *sys)
{
    struct fltsim_memfs *fs = NULL;
    assert_status(fltsim_memfs_create(NULL, &fs), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(fs, L"\\d.txt", "delta", 5), STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume2",
                                      .drive_letter = L'D',
                                      .ops = &fltsim_memfs_ops,
                                      .fs = fs,
                                      .fs_type = FLT_FSTYPE_FAT};
    PFLT_VOLUME v = NULL;
    assert_status(fltsim_volume_mount(sys, &vp, &v), STATUS_SUCCESS);
    return v;
}

/* A file system that answers every IRP with STATUS_SUCCESS. */
static NTSTATUS tiny_irp(void *fs, PFLT_CALLBACK_DATA data)
{
    (void)fs;
    rec_add("TINY:%s", tf_major(data->Iopb->MajorFunction));
    data->IoStatus.Status = STATUS_SUCCESS;
    data->IoStatus.Information = 0;
    return STATUS_SUCCESS;
}

static const struct fltsim_fs_ops tiny_ops = {"tiny", tiny_irp, NULL, NULL, NULL};

static PFLT_VOLUME mount_tiny(fltsim_system *sys)
{
    struct fltsim_volume_params vp = {
        .device_name = L"\\Device\\Tiny", .ops = &tiny_ops, .fs_type = FLT_FSTYPE_UNKNOWN};
    PFLT_VOLUME v = NULL;
    assert_status(fltsim_volume_mount(sys, &vp, &v), STATUS_SUCCESS);
    return v;
}

static NTSTATUS send_flush(PFLT_VOLUME volume)
{
    struct fltsim_request req;
    memset(&req, 0, sizeof(req));
    req.kind = FLTSIM_OP_IRP;
    req.major = IRP_MJ_FLUSH_BUFFERS;
    req.file_object = NULL;
    req.requestor_mode = KernelMode;
    return fltsim_request_dispatch(volume, &req);
}

/* ========================================================================= */
/* FltStartFiltering (SPEC 1.4, 2.4, 12.5)                                   */
/* ========================================================================= */

/* SPEC 1.4: a second FltStartFiltering returns STATUS_INVALID_PARAMETER and
 * does not offer the volumes again. */
static void start_filtering_twice_is_invalid_parameter(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    FLT_REGISTRATION reg = raw_registration();
    raw.reg = &reg;
    raw.start = true;
    raw.start_twice = true;
    fltsim_driver *drv = NULL;
    assert_status(fltsim_driver_load(f->w.sys, &raw_def, raw_entry, &drv), STATUS_SUCCESS);
    assert_status(raw.start_status, STATUS_SUCCESS);
    assert_status(raw.start2_status, STATUS_INVALID_PARAMETER);
    assert_recorded("raw:setup:0x1 entry:started");
}

/* SPEC 1.4 [SIM], 2.4: InstanceSetup for volumes already mounted runs inside
 * FltStartFiltering, with AUTOMATIC_ATTACHMENT and without NEWLY_MOUNTED; the
 * next create on them offers nothing again. */
static void start_filtering_sets_up_mounted_volumes_before_returning(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    mount_d(f->w.sys);
    FLT_REGISTRATION reg = raw_registration();
    raw.reg = &reg;
    raw.start = true;
    fltsim_driver *drv = NULL;
    assert_status(fltsim_driver_load(f->w.sys, &raw_def, raw_entry, &drv), STATUS_SUCCESS);
    assert_recorded("raw:setup:0x1 raw:setup:0x1 entry:started");

    rec_reset();
    touch(f, L"C:\\a.txt");
    touch(f, L"D:\\d.txt");
    assert_recorded("");
}

/* SPEC 2.4, 12.5: a volume mounted after the filter started is set up only at
 * its first create, with AUTOMATIC_ATTACHMENT | NEWLY_MOUNTED_VOLUME, before
 * the create reaches the filter; the mount alone calls nothing. */
static void mount_after_start_sets_up_at_first_create(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_int_equal(f->a.setup_calls, 1);
    assert_int_equal(f->a.last_setup_flags, FLTFL_INSTANCE_SETUP_AUTOMATIC_ATTACHMENT);

    rec_reset();
    mount_d(f->w.sys);
    assert_int_equal(f->a.setup_calls, 1);
    touch(f, L"C:\\a.txt");
    assert_int_equal(f->a.setup_calls, 1);
    assert_recorded("A:pre:CREATE A:post:CREATE");

    rec_reset();
    touch(f, L"D:\\d.txt");
    assert_recorded("A:setup A:pre:CREATE A:post:CREATE");
    assert_int_equal(f->a.setup_calls, 2);
    assert_int_equal(f->a.last_setup_flags, FLTFL_INSTANCE_SETUP_AUTOMATIC_ATTACHMENT |
                                                FLTFL_INSTANCE_SETUP_NEWLY_MOUNTED_VOLUME);

    rec_reset();
    touch(f, L"D:\\d.txt");
    assert_recorded("A:pre:CREATE A:post:CREATE");
    assert_int_equal(f->a.setup_calls, 2);
}

/* SPEC 12.5: with FLTSIM_SYSTEM_SETUP_ON_FIRST_IO a non-create operation (a
 * flush without a file object) triggers the deferred setup. */
static void mount_setup_on_first_io_triggers_on_flush(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, FLTSIM_SYSTEM_SETUP_ON_FIRST_IO);
    tf_init(&f->a, "A", "300000");
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_int_equal(f->a.setup_calls, 1);

    PFLT_VOLUME tiny = mount_tiny(f->w.sys);
    assert_int_equal(f->a.setup_calls, 1);
    rec_reset();
    assert_status(send_flush(tiny), STATUS_SUCCESS);
    assert_recorded("A:setup A:pre:FLUSH_BUFFERS TINY:FLUSH_BUFFERS A:post:FLUSH_BUFFERS");
    assert_int_equal(f->a.setup_calls, 2);
    assert_int_equal(f->a.last_setup_flags, FLTFL_INSTANCE_SETUP_AUTOMATIC_ATTACHMENT |
                                                FLTFL_INSTANCE_SETUP_NEWLY_MOUNTED_VOLUME);
}

/* SPEC 12.5: without the switch, the same flush does not trigger setup (only
 * a create does), so the filter does not see it. */
static void mount_setup_default_ignores_flush(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_int_equal(f->a.setup_calls, 1);

    PFLT_VOLUME tiny = mount_tiny(f->w.sys);
    rec_reset();
    assert_status(send_flush(tiny), STATUS_SUCCESS);
    assert_status(send_flush(tiny), STATUS_SUCCESS);
    assert_recorded("TINY:FLUSH_BUFFERS TINY:FLUSH_BUFFERS");
    assert_int_equal(f->a.setup_calls, 1);
}

/* ========================================================================= */
/* Unload (SPEC 1.4, 2.6, 2.7, 12.6, 12.7)                                   */
/* ========================================================================= */

/* SPEC 1.4: a non-mandatory unload calls FilterUnloadCallback with Flags 0
 * and the driver goes. */
static void unload_non_mandatory_calls_callback_with_zero(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    f->a.last_unload_flags = 0xdead;

    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    f->a.filter = NULL; /* gone: a callback for it now fails the test */
    assert_int_equal(f->a.unload_calls, 1);
    assert_int_equal(f->a.last_unload_flags, 0);
    assert_null(fltsim_driver_find(f->w.sys, L"A"));
    rec_reset();
    touch(f, L"C:\\a.txt");
    assert_recorded("");
}

/* SPEC 1.4, 11: only a warning or error vetoes; an informational status
 * (STATUS_OBJECT_NAME_EXISTS, 0x40000000) from FilterUnloadCallback lets the
 * unload proceed. */
static void unload_informational_status_is_not_a_veto(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.unload_status = STATUS_OBJECT_NAME_EXISTS;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    NTSTATUS status = fltsim_driver_unload(f->a.driver, 0);
    f->a.filter = NULL;
    assert_true(NT_SUCCESS(status));
    assert_int_equal(f->a.unload_calls, 1);
    assert_int_equal(f->a.teardown_complete_calls, 1);
    assert_null(fltsim_driver_find(f->w.sys, L"A"));
}

/* SPEC 1.4: a warning or error from a non-mandatory unload vetoes it; the
 * status is returned, nothing is torn down, the filter keeps seeing I/O. */
static void unload_veto_is_returned_and_filter_stays(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.unload_status = STATUS_FLT_DO_NOT_DETACH;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);

    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_FLT_DO_NOT_DETACH);
    assert_int_equal(f->a.unload_calls, 1);
    assert_int_equal(f->a.teardown_start_calls, 0);
    assert_ptr_equal(fltsim_driver_find(f->w.sys, L"A"), f->a.driver);
    assert_ptr_equal(fltsim_driver_filter(f->a.driver), f->a.filter);
    rec_reset();
    touch(f, L"C:\\a.txt");
    assert_recorded("A:pre:CREATE A:post:CREATE");

    /* A warning vetoes as well (SPEC 11: warning or error). */
    f->a.unload_status = STATUS_BUFFER_OVERFLOW;
    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_BUFFER_OVERFLOW);
    assert_ptr_equal(fltsim_driver_find(f->w.sys, L"A"), f->a.driver);
}

/* SPEC 1.4, 12.7: a mandatory unload passes FLTFL_FILTER_UNLOAD_MANDATORY and
 * ignores a veto. */
static void unload_mandatory_passes_flag_and_ignores_veto(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.unload_status = STATUS_FLT_DO_NOT_DETACH;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);

    assert_status(fltsim_driver_unload(f->a.driver, FLTSIM_UNLOAD_MANDATORY), STATUS_SUCCESS);
    f->a.filter = NULL;
    assert_int_equal(f->a.unload_calls, 1);
    assert_int_equal(f->a.last_unload_flags, FLTFL_FILTER_UNLOAD_MANDATORY);
    assert_int_equal(f->a.teardown_complete_calls, 1);
    assert_null(fltsim_driver_find(f->w.sys, L"A"));
    rec_reset();
    touch(f, L"C:\\a.txt");
    assert_recorded("");
}

/* SPEC 1.1, 2.7 [SIM]: without FilterUnloadCallback the filter can never be
 * unloaded: both kinds fail with STATUS_INVALID_DEVICE_REQUEST. */
static void unload_without_callback_is_invalid_device_request(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.no_unload_callback = true;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);

    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_INVALID_DEVICE_REQUEST);
    assert_status(fltsim_driver_unload(f->a.driver, FLTSIM_UNLOAD_MANDATORY),
                  STATUS_INVALID_DEVICE_REQUEST);
    assert_int_equal(f->a.teardown_start_calls, 0);
    assert_ptr_equal(fltsim_driver_find(f->w.sys, L"A"), f->a.driver);
    rec_reset();
    touch(f, L"C:\\a.txt");
    assert_recorded("A:pre:CREATE A:post:CREATE");
}

/* SPEC 1.4: with FLTFL_REGISTRATION_DO_NOT_SUPPORT_SERVICE_STOP a mandatory
 * unload fails without calling the callback; a non-mandatory one proceeds. */
static void unload_do_not_support_service_stop_refuses_mandatory_only(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.registration_flags = FLTFL_REGISTRATION_DO_NOT_SUPPORT_SERVICE_STOP;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);

    assert_status(fltsim_driver_unload(f->a.driver, FLTSIM_UNLOAD_MANDATORY),
                  STATUS_INVALID_DEVICE_REQUEST);
    assert_int_equal(f->a.unload_calls, 0);
    assert_int_equal(f->a.teardown_start_calls, 0);
    rec_reset();
    touch(f, L"C:\\a.txt");
    assert_recorded("A:pre:CREATE A:post:CREATE");

    f->a.last_unload_flags = 0xdead;
    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    f->a.filter = NULL;
    assert_int_equal(f->a.unload_calls, 1);
    assert_int_equal(f->a.last_unload_flags, 0);
    assert_null(fltsim_driver_find(f->w.sys, L"A"));
}

/* SPEC 2.6, 2.7, 12.6: unloading tears every instance down, TeardownStart
 * before TeardownComplete for each, with FILTER_UNLOAD for a non-mandatory
 * and MANDATORY_FILTER_UNLOAD for a mandatory unload. */
static void unload_tears_down_every_instance_with_unload_reason(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    mount_d(f->w.sys);
    tf_init(&f->a, "A", "300000");
    tf_init(&f->b, "B", "200000");
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->b), STATUS_SUCCESS);
    assert_int_equal(f->a.setup_calls, 2);
    assert_int_equal(f->b.setup_calls, 2);
    life_watch(f->w.sys);

    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    f->a.filter = NULL;
    assert_int_equal(life_count("start:A:"), 2);
    assert_int_equal(life_count("complete:A:"), 2);
    assert_life_before("start:A:HarddiskVolume1:0x2", "complete:A:HarddiskVolume1:0x2");
    assert_life_before("start:A:HarddiskVolume2:0x2", "complete:A:HarddiskVolume2:0x2");
    assert_int_equal(life_count(":B:"), 0);

    life_reset();
    assert_status(fltsim_driver_unload(f->b.driver, FLTSIM_UNLOAD_MANDATORY), STATUS_SUCCESS);
    f->b.filter = NULL;
    assert_int_equal(life_count("start:B:"), 2);
    assert_int_equal(life_count("complete:B:"), 2);
    assert_life_before("start:B:HarddiskVolume1:0x4", "complete:B:HarddiskVolume1:0x4");
    assert_life_before("start:B:HarddiskVolume2:0x4", "complete:B:HarddiskVolume2:0x4");
    assert_int_equal(f->b.query_teardown_calls, 0);
    assert_int_equal(f->a.query_teardown_calls, 0);
}

/* SPEC 2.7, 10 (V23): an unload callback that returns without calling
 * FltUnregisterFilter is reported, and the filter is unregistered anyway. */
static void unload_without_unregister_is_reported_and_filter_goes(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.unload_forgets_unregister = true;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V23"), 0);

    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    f->a.filter = NULL;
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V23"), 1);
    assert_int_equal(f->a.teardown_complete_calls, 1);
    assert_null(fltsim_driver_find(f->w.sys, L"A"));
    rec_reset();
    touch(f, L"C:\\a.txt");
    assert_recorded("");
}

/* SPEC 1.4: when DriverEntry fails the driver is not loaded and
 * FilterUnloadCallback is not called. */
static void driver_entry_failure_unloads_without_callback(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    f->a.entry_status = STATUS_ACCESS_DENIED;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_ACCESS_DENIED);
    assert_null(f->a.driver);
    assert_int_equal(f->a.unload_calls, 0);
    assert_null(fltsim_driver_find(f->w.sys, L"A"));
    assert_recorded("");
}

static void unregister_other_hook(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    (void)objects;
    struct tf_filter *other = tf->user;
    FltUnregisterFilter(other->filter);
}

/* SPEC 1.4 (a driver may only unregister itself), 10 (V27): filter A's code
 * calling FltUnregisterFilter on B's filter is reported as V27. [Assumed, as
 * for FltRegisterFilter with a foreign driver object: the call is then
 * refused and B stays registered and attached.]
 * MODEL BUG (reported): FltUnregisterFilter in registration.c checks only that
 * Filter is a filter object, not that the calling filter owns it, so B is
 * unregistered and nothing is reported. */
static void unregister_other_drivers_filter_is_reported_v27(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    tf_init(&f->b, "B", "200000");
    tf_only(&f->b, IRP_MJ_CREATE);
    f->a.user = &f->b;
    f->a.teardown_start_hook = unregister_other_hook;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->b), STATUS_SUCCESS);

    UNICODE_STRING name = RTL_CONSTANT_STRING(L"A Instance");
    assert_status(FltDetachVolume(f->a.filter, f->w.volume, &name), STATUS_SUCCESS);
    ULONG v27 = fltsim_system_report_count_rule(f->w.sys, "V27");
    PFLT_FILTER b_now = fltsim_driver_filter(f->b.driver);
    ULONG b_teardowns = f->b.teardown_start_calls;
    if (b_now == NULL)
        f->b.filter = NULL; /* B is gone: its callbacks must not arrive any more */
    assert_int_equal(v27, 1);
    assert_ptr_equal(b_now, f->b.filter);
    assert_int_equal(b_teardowns, 0);
    rec_reset();
    touch(f, L"C:\\a.txt");
    assert_recorded("B:pre:CREATE B:post:CREATE");
}

/* SPEC 1.4 (FltUnregisterFilter step 4): unregistration blocks until a
 * rundown reference taken with FltObjectReference is released. The unload
 * runs on another thread; once its instance is torn down it must still be
 * waiting 200 ms later, and finish after FltObjectDereference. */
static void unregister_waits_for_filter_reference(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    life_watch(f->w.sys);

    PFLT_FILTER filter = f->a.filter;
    assert_status(FltObjectReference(filter), STATUS_SUCCESS);
    struct unload_job job = {.drv = f->a.driver, .status = STATUS_PENDING};
    fltsim_thread *thread = unload_in_background(f->w.sys, &job);

    /* The unload runs until it blocks on the reference: the deterministic
     * executor runs it inside this wait, the concurrent one in parallel. */
    assert_status(fltsim_system_wait_idle(f->w.sys, 300), STATUS_TIMEOUT);
    bool torn_down = __atomic_load_n(&life_completes, __ATOMIC_SEQ_CST) >= 1;
    int done_while_referenced = __atomic_load_n(&job.done, __ATOMIC_SEQ_CST);

    FltObjectDereference(filter);
    fltsim_thread_join(thread);
    f->a.filter = NULL;

    assert_true(torn_down);
    assert_int_equal(done_while_referenced, 0);
    assert_int_equal(job.done, 1);
    assert_status(job.status, STATUS_SUCCESS);
    assert_null(fltsim_driver_find(f->w.sys, L"A"));
}

static void reference_filter_hook(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects)
{
    (void)objects;
    NTSTATUS status = FltObjectReference(tf->filter);
    if (NT_SUCCESS(status))
        FltObjectDereference(tf->filter); /* else unregistration would wait forever */
    *(NTSTATUS *)tf->user = status;
}

/* SPEC 1.4, 2.6 (R-OBJREF): while the filter unregisters, FltObjectReference
 * on it fails with STATUS_FLT_DELETING_OBJECT. */
static void reference_unregistering_filter_is_deleting_object(void **state)
{
    struct fx *f = *state;
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    f->seen = STATUS_PENDING;
    f->a.user = &f->seen;
    f->a.teardown_start_hook = reference_filter_hook;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(FltObjectReference(f->a.filter), STATUS_SUCCESS);
    FltObjectDereference(f->a.filter);

    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    f->a.filter = NULL;
    assert_int_equal(f->a.teardown_start_calls, 1);
    assert_status(f->seen, STATUS_FLT_DELETING_OBJECT);
}

/* SPEC 1.4, 2.7 (model.h fltsim_system_destroy): destroying a system closes
 * open handles through the filters, then unloads each filter (mandatory), and
 * leaves no pool behind. */
static void system_destroy_unloads_filters_mandatory(void **state)
{
    struct fx *f = *state;
    ULONG64 pool_before = fltsim_pool_outstanding();
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_init(&f->b, "B", "200000");
    f->a.unload_status = STATUS_FLT_DO_NOT_DETACH; /* ignored: mandatory */
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->b), STATUS_SUCCESS);
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    (void)h;
    assert_int_equal(fltsim_io_handle_count(f->w.sys), 1);

    rec_reset();
    world_destroy(&f->w);
    assert_int_equal(f->a.unload_calls, 1);
    assert_int_equal(f->b.unload_calls, 1);
    assert_int_equal(f->a.last_unload_flags, FLTFL_FILTER_UNLOAD_MANDATORY);
    assert_int_equal(f->b.last_unload_flags, FLTFL_FILTER_UNLOAD_MANDATORY);
    assert_int_equal(f->a.teardown_complete_calls, 1);
    assert_int_equal(f->b.teardown_complete_calls, 1);
    assert_int_equal(f->a.last_teardown_reason, FLTFL_INSTANCE_TEARDOWN_MANDATORY_FILTER_UNLOAD);
    assert_int_equal(f->b.last_teardown_reason, FLTFL_INSTANCE_TEARDOWN_MANDATORY_FILTER_UNLOAD);

    const char *text = rec_text();
    const char *cleanup = strstr(text, "A:pre:CLEANUP");
    const char *close = strstr(text, "A:pre:CLOSE");
    const char *unload = strstr(text, "A:unload");
    assert_non_null(cleanup);
    assert_non_null(close);
    assert_non_null(unload);
    assert_true(cleanup < close && close < unload);
    assert_true(fltsim_pool_outstanding() == pool_before);
}

#define FX(test) cmocka_unit_test_setup_teardown(test, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX(start_filtering_twice_is_invalid_parameter),
        FX(start_filtering_sets_up_mounted_volumes_before_returning),
        FX(mount_after_start_sets_up_at_first_create),
        FX(mount_setup_on_first_io_triggers_on_flush),
        FX(mount_setup_default_ignores_flush),
        FX(unload_non_mandatory_calls_callback_with_zero),
        FX(unload_informational_status_is_not_a_veto),
        FX(unload_veto_is_returned_and_filter_stays),
        FX(unload_mandatory_passes_flag_and_ignores_veto),
        FX(unload_without_callback_is_invalid_device_request),
        FX(unload_do_not_support_service_stop_refuses_mandatory_only),
        FX(unload_tears_down_every_instance_with_unload_reason),
        FX(unload_without_unregister_is_reported_and_filter_goes),
        FX(driver_entry_failure_unloads_without_callback),
        FX(unregister_waits_for_filter_reference),
        FX(unregister_other_drivers_filter_is_reported_v27),
        FX(reference_unregistering_filter_is_deleting_object),
        FX(system_destroy_unloads_filters_mandatory),
    };
    return FLTSIM_RUN_SUITE("lifecycle", tests);
}
