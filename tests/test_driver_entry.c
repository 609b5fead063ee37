/*
 * A DriverEntry that returns success having done nothing (issue 16 item 6):
 * Windows loads such a driver, and so does fltsim, without a verifier report
 * (it breaks no rule), but it says so on stderr, once, as a note: a
 * minifilter that forgot FltRegisterFilter would otherwise filter nothing
 * silently. A driver that registers a filter, or that creates a device
 * object of its own, gets no note.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fltsim_test.h"

static NTSTATUS do_nothing_entry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path)
{
    (void)driver;
    (void)registry_path;
    return STATUS_SUCCESS;
}

static PDEVICE_OBJECT device;

static NTSTATUS device_only_entry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path)
{
    (void)registry_path;
    return IoCreateDevice(driver, 0, NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
}

/* Loads entry as service name with stderr captured into text. */
static NTSTATUS load_capturing_stderr(fltsim_system *sys, PCWSTR name, PDRIVER_INITIALIZE entry,
                                      fltsim_driver **drv, char *text, size_t size)
{
    static const struct fltsim_instance_def instance = {L"Instance", L"300000", 0};
    struct fltsim_filter_def def = {name, L"Instance", &instance, 1};
    char path[] = "/tmp/fltsim-driver-entry-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved_err = dup(2);
    dup2(fd, 2);
    NTSTATUS status = fltsim_driver_load(sys, &def, entry, drv);
    fflush(stderr);
    dup2(saved_err, 2);
    close(saved_err);
    ssize_t got = pread(fd, text, size - 1, 0);
    close(fd);
    unlink(path);
    text[got > 0 ? got : 0] = '\0';
    fprintf(stderr, "%s", text);
    return status;
}

static void driver_entry_doing_nothing_gets_a_note(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    fltsim_driver *drv = NULL;
    char text[1024];
    assert_status(load_capturing_stderr(w.sys, L"Idle", do_nothing_entry, &drv, text, sizeof(text)),
                  STATUS_SUCCESS);
    assert_non_null(drv);
    assert_non_null(strstr(text, "fltsim: note: DriverEntry of Idle returned success without "
                                 "registering a filter (FltRegisterFilter)"));
    assert_null(fltsim_driver_filter(drv));
    assert_int_equal(fltsim_system_report_count(w.sys), 0); /* a note, not a report */
    world_destroy(&w);
}

static void driver_entry_registering_a_filter_gets_no_note(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct tf_filter a;
    tf_init(&a, "A", "300000");
    char path[] = "/tmp/fltsim-driver-entry-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved_err = dup(2);
    dup2(fd, 2);
    NTSTATUS status = tf_load(w.sys, &a);
    fflush(stderr);
    dup2(saved_err, 2);
    close(saved_err);
    char text[1024];
    ssize_t got = pread(fd, text, sizeof(text) - 1, 0);
    close(fd);
    unlink(path);
    text[got > 0 ? got : 0] = '\0';
    assert_status(status, STATUS_SUCCESS);
    assert_null(strstr(text, "note:"));
    world_destroy(&w);
}

static void driver_entry_creating_a_device_gets_no_note(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    fltsim_driver *drv = NULL;
    char text[1024];
    assert_status(
        load_capturing_stderr(w.sys, L"DevOnly", device_only_entry, &drv, text, sizeof(text)),
        STATUS_SUCCESS);
    assert_null(strstr(text, "note:"));
    IoDeleteDevice(device);
    world_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(driver_entry_doing_nothing_gets_a_note),
        cmocka_unit_test(driver_entry_registering_a_filter_gets_no_note),
        cmocka_unit_test(driver_entry_creating_a_device_gets_no_note),
    };
    return FLTSIM_RUN_SUITE("driver_entry", tests);
}
