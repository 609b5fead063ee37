/*
 * Processes as objects (issue 20 item 1): fltsim_ps_create and fltsim_ps_exit,
 * PsLookupProcessByProcessId / PsLookupThreadByThreadId with
 * ObDereferenceObject, the image name (PsGetProcessImageFileName,
 * SeLocateProcessImageName, ZwQueryInformationProcess), the parent, the exit
 * status (STATUS_PENDING while it runs), and an exited process that stays
 * while a driver holds a reference. Driver code runs through
 * fltsim_driver_call, so pool and reports are charged to the test filter.
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim/program.h"
#include "fltsim_test.h"

#define FLTSIM_TEST_DEFAULT_IMAGE                                                                  \
    L"\\Device\\HarddiskVolume1\\Windows\\System32\\fltsim_requestor.exe"

/* Whether two terminated UTF-16 strings are equal. */
static bool wcscmp_w(const WCHAR *a, const WCHAR *b)
{
    size_t n = fltsim_wcslen(a);
    return n == fltsim_wcslen(b) && memcmp(a, b, n * sizeof(WCHAR)) == 0;
}

struct probe {
    ULONG pid, tid, parent;
    NTSTATUS lookup, thread_lookup, exit_status, locate, query_basic, query_image, query_small;
    PEPROCESS process;
    PETHREAD thread;
    char short_name[16];
    WCHAR image[128];
    PROCESS_BASIC_INFORMATION basic;
    ULONG image_length;
    HANDLE thread_pid, parent_of;
};

static void probe_process(void *ctx)
{
    struct probe *p = ctx;
    p->lookup = PsLookupProcessByProcessId((HANDLE)(ULONG_PTR)p->pid, &p->process);
    if (!NT_SUCCESS(p->lookup))
        return;
    p->exit_status = PsGetProcessExitStatus(p->process);
    PCHAR name = PsGetProcessImageFileName(p->process);
    strncpy(p->short_name, name != NULL ? name : "", sizeof(p->short_name) - 1);
    p->parent_of = PsGetProcessInheritedFromUniqueProcessId(p->process);
    PUNICODE_STRING image = NULL;
    p->locate = SeLocateProcessImageName(p->process, &image);
    if (NT_SUCCESS(p->locate)) {
        memcpy(p->image, image->Buffer, image->Length);
        p->image[image->Length / sizeof(WCHAR)] = 0;
        ExFreePool(image);
    }
    if (p->tid != 0) {
        p->thread_lookup = PsLookupThreadByThreadId((HANDLE)(ULONG_PTR)p->tid, &p->thread);
        if (NT_SUCCESS(p->thread_lookup)) {
            p->thread_pid = PsGetThreadProcessId(p->thread);
            ObDereferenceObject(p->thread);
        }
    }
    ObDereferenceObject(p->process);
}

static void load_filter(struct test_world *w, struct tf_filter *a)
{
    world_create(w, 0);
    tf_reset_all();
    tf_init(a, "A", "300000");
    assert_status(tf_load(w->sys, a), STATUS_SUCCESS);
}

/* A created process has its image, its parent and a running status; its
 * short name is the first 15 bytes of the file name. */
static void created_process_is_an_object(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter a;
    load_filter(&w, &a);
    ULONG parent = 0, pid = 0;
    struct fltsim_ps_params pp = {.image = "explorer.exe"};
    assert_status(fltsim_ps_create(w.sys, &pp, &parent), STATUS_SUCCESS);
    struct fltsim_ps_params params = {.image = "\\Device\\HarddiskVolume1\\Windows\\"
                                               "averyverylongname.exe",
                                      .parent_id = parent};
    assert_status(fltsim_ps_create(w.sys, &params, &pid), STATUS_SUCCESS);
    assert_int_equal(pid % 4, 0);
    assert_int_not_equal(pid, parent);
    struct probe p = {.pid = pid};
    assert_status(fltsim_driver_call(a.driver, probe_process, &p), STATUS_SUCCESS);
    assert_status(p.lookup, STATUS_SUCCESS);
    assert_status(p.exit_status, STATUS_PENDING);
    assert_string_equal(p.short_name, "averyverylongna");
    assert_status(p.locate, STATUS_SUCCESS);
    assert_true(wcscmp_w(p.image, L"\\Device\\HarddiskVolume1\\Windows\\averyverylongname.exe"));
    assert_int_equal((ULONG_PTR)p.parent_of, parent);
    struct probe q = {.pid = parent};
    assert_status(fltsim_driver_call(a.driver, probe_process, &q), STATUS_SUCCESS);
    assert_true(wcscmp_w(q.image, L"\\Device\\HarddiskVolume1\\Windows\\explorer.exe"));
    assert_string_equal(q.short_name, "explorer.exe");
    assert_status(fltsim_ps_exit(w.sys, pid, STATUS_SUCCESS), STATUS_SUCCESS);
    assert_status(fltsim_ps_exit(w.sys, parent, 3), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

struct held {
    ULONG pid;
    PEPROCESS process;
    NTSTATUS status;
};

static void take_reference(void *ctx)
{
    struct held *h = ctx;
    h->status = PsLookupProcessByProcessId((HANDLE)(ULONG_PTR)h->pid, &h->process);
}

static void read_exit_and_drop(void *ctx)
{
    struct held *h = ctx;
    h->status = PsGetProcessExitStatus(h->process);
    ObDereferenceObject(h->process);
}

/* An exited process stays while referenced: the lookup still finds it (with
 * its exit status), its threads are gone; with the last reference the id is
 * free. */
static void exited_process_stays_while_referenced(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter a;
    load_filter(&w, &a);
    ULONG pid = 0;
    struct fltsim_ps_params params = {.image = "notepad.exe"};
    assert_status(fltsim_ps_create(w.sys, &params, &pid), STATUS_SUCCESS);
    struct held h = {.pid = pid};
    assert_status(fltsim_driver_call(a.driver, take_reference, &h), STATUS_SUCCESS);
    assert_status(h.status, STATUS_SUCCESS);
    assert_status(fltsim_ps_exit(w.sys, pid, (NTSTATUS)0xC0000005), STATUS_SUCCESS);
    assert_status(fltsim_ps_exit(w.sys, pid, STATUS_SUCCESS), STATUS_PROCESS_IS_TERMINATING);
    struct probe p = {.pid = pid, .tid = pid + 4};
    assert_status(fltsim_driver_call(a.driver, probe_process, &p), STATUS_SUCCESS);
    assert_status(p.lookup, STATUS_SUCCESS);
    assert_ptr_equal(p.process, h.process);
    assert_status(p.exit_status, (NTSTATUS)0xC0000005);
    assert_status(fltsim_driver_call(a.driver, read_exit_and_drop, &h), STATUS_SUCCESS);
    assert_status(h.status, (NTSTATUS)0xC0000005);
    struct probe gone = {.pid = pid};
    assert_status(fltsim_driver_call(a.driver, probe_process, &gone), STATUS_SUCCESS);
    assert_status(gone.lookup, STATUS_INVALID_PARAMETER);
    /* The id names a new process now. */
    ULONG again = 0;
    params.process_id = pid;
    assert_status(fltsim_ps_create(w.sys, &params, &again), STATUS_SUCCESS);
    assert_int_equal(again, pid);
    struct probe fresh = {.pid = pid};
    assert_status(fltsim_driver_call(a.driver, probe_process, &fresh), STATUS_SUCCESS);
    assert_status(fresh.exit_status, STATUS_PENDING);
    assert_ptr_not_equal(fresh.process, h.process);
    assert_status(fltsim_ps_exit(w.sys, pid, STATUS_SUCCESS), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

/* A process's main thread is found by id while it runs; an unknown id is
 * STATUS_INVALID_PARAMETER, for processes and threads. */
static void threads_and_unknown_ids(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter a;
    load_filter(&w, &a);
    ULONG pid = 0;
    struct fltsim_ps_params params = {.image = "calc.exe"};
    assert_status(fltsim_ps_create(w.sys, &params, &pid), STATUS_SUCCESS);
    struct probe p = {.pid = pid, .tid = pid + 4};
    assert_status(fltsim_driver_call(a.driver, probe_process, &p), STATUS_SUCCESS);
    assert_status(p.thread_lookup, STATUS_SUCCESS);
    assert_int_equal((ULONG_PTR)p.thread_pid, pid);
    struct probe none = {.pid = 999996, .tid = 999992};
    assert_status(fltsim_driver_call(a.driver, probe_process, &none), STATUS_SUCCESS);
    assert_status(none.lookup, STATUS_INVALID_PARAMETER);
    assert_status(fltsim_ps_exit(w.sys, pid, STATUS_SUCCESS), STATUS_SUCCESS);
    struct probe after = {.pid = 4, .tid = pid + 4};
    assert_status(fltsim_driver_call(a.driver, probe_process, &after), STATUS_SUCCESS);
    assert_status(after.lookup, STATUS_SUCCESS); /* the System process */
    assert_string_equal(after.short_name, "System");
    assert_status(after.thread_lookup, STATUS_INVALID_PARAMETER); /* its process exited */
    assert_int_equal(fltsim_system_report_count(w.sys), 0);
    world_destroy(&w);
}

static void query_current(void *ctx)
{
    struct probe *p = ctx;
    ULONG len = 0;
    p->query_basic = ZwQueryInformationProcess(NtCurrentProcess(), ProcessBasicInformation,
                                               &p->basic, sizeof(p->basic), &len);
    union {
        UNICODE_STRING s;
        WCHAR room[200];
    } image;
    p->query_small = ZwQueryInformationProcess(NtCurrentProcess(), ProcessImageFileName, &image,
                                               sizeof(UNICODE_STRING), &p->image_length);
    p->query_image = ZwQueryInformationProcess(NtCurrentProcess(), ProcessImageFileName, &image,
                                               sizeof(image), &len);
    if (NT_SUCCESS(p->query_image)) {
        memcpy(p->image, image.s.Buffer, image.s.Length);
        p->image[image.s.Length / sizeof(WCHAR)] = 0;
    }
    p->pid = (ULONG)(ULONG_PTR)PsGetCurrentProcessId();
}

/* ZwQueryInformationProcess on the current process: basic information (id,
 * running, parent) and the image path, STATUS_INFO_LENGTH_MISMATCH with the
 * length needed when the buffer is short. A requestor thread runs in a
 * process made by the first use of its id, with the default image. */
static void query_information_of_the_current_process(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter a;
    load_filter(&w, &a);
    struct probe p = {0};
    assert_status(fltsim_driver_call(a.driver, query_current, &p), STATUS_SUCCESS);
    assert_status(p.query_basic, STATUS_SUCCESS);
    assert_int_equal(p.basic.UniqueProcessId, p.pid);
    assert_status(p.basic.ExitStatus, STATUS_PENDING);
    assert_status(p.query_small, STATUS_INFO_LENGTH_MISMATCH);
    assert_int_equal(p.image_length, sizeof(UNICODE_STRING) +
                                         sizeof(L"\\Device\\HarddiskVolume1\\Windows\\System32\\"
                                                L"fltsim_requestor.exe") -
                                         sizeof(WCHAR));
    assert_status(p.query_image, STATUS_SUCCESS);
    assert_true(wcscmp_w(p.image, FLTSIM_TEST_DEFAULT_IMAGE));
    world_destroy(&w);
}

/* Bad input: no image, an id not a multiple of 4 or taken, no live parent,
 * exiting what is no created process: the status and no process. */
static void bad_input(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    ULONG pid = 1;
    struct fltsim_ps_params params = {.image = ""};
    assert_status(fltsim_ps_create(w.sys, &params, &pid), STATUS_INVALID_PARAMETER);
    assert_int_equal(pid, 0);
    assert_non_null(strstr(fltsim_last_error(), "image"));
    params.image = "a.exe";
    params.process_id = 4;
    assert_status(fltsim_ps_create(w.sys, &params, &pid), STATUS_INVALID_PARAMETER);
    params.process_id = 9001;
    assert_status(fltsim_ps_create(w.sys, &params, &pid), STATUS_INVALID_PARAMETER);
    params.process_id = 0;
    params.parent_id = 999996;
    assert_status(fltsim_ps_create(w.sys, &params, &pid), STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(fltsim_last_error(), "parent"));
    params.parent_id = 0;
    assert_status(fltsim_ps_create(w.sys, &params, &pid), STATUS_SUCCESS);
    params.process_id = pid;
    ULONG other;
    assert_status(fltsim_ps_create(w.sys, &params, &other), STATUS_OBJECT_NAME_COLLISION);
    assert_status(fltsim_ps_exit(w.sys, pid, STATUS_PENDING), STATUS_INVALID_PARAMETER);
    assert_status(fltsim_ps_exit(w.sys, 999996, STATUS_SUCCESS), STATUS_INVALID_PARAMETER);
    assert_status(fltsim_ps_exit(w.sys, pid, STATUS_SUCCESS), STATUS_SUCCESS);
    assert_status(fltsim_ps_create(NULL, &params, &pid), STATUS_INVALID_PARAMETER);
    world_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(created_process_is_an_object),
        cmocka_unit_test(exited_process_stays_while_referenced),
        cmocka_unit_test(threads_and_unknown_ids),
        cmocka_unit_test(query_information_of_the_current_process),
        cmocka_unit_test(bad_input),
    };
    return FLTSIM_RUN_SUITE("ps_objects", tests);
}
