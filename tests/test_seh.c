/*
 * Structured exception handling (excpt.h, nt/seh.c; issue 15 item 3): the
 * __try statements with their Windows meaning (filters that see the code,
 * __finally on every way out, __leave from nested loops, nested, sequential
 * and looping blocks, rethrow through several frames and functions), the
 * documented differences (order of __finally and outer filters, continuing a
 * noncontinuable exception, break/continue/return that leave a __try), the
 * raising routines and ProbeForRead/ProbeForWrite; and an exception no __try
 * handles in each kind of filter callback: reported (SEH), that call ended,
 * the operation failed with the code, and the system still consistent.
 */
#include "fltsim_test.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------- */
/* A log of what ran, in order                                               */
/* ------------------------------------------------------------------------- */

static char seh_log[512];

static void note(const char *what)
{
    size_t used = strlen(seh_log);
    snprintf(seh_log + used, sizeof(seh_log) - used, "%s%s", used ? " " : "", what);
}

static int note_filter(const char *what, int disposition)
{
    note(what);
    return disposition;
}

static void log_reset(void)
{
    seh_log[0] = '\0';
}

/* ------------------------------------------------------------------------- */
/* The statements                                                            */
/* ------------------------------------------------------------------------- */

static void raise_deep(NTSTATUS code, int depth);
/* Through a pointer, so that each level is a real call. */
static void (*volatile raise_deeper)(NTSTATUS, int) = raise_deep;

__attribute__((noinline)) static void raise_deep(NTSTATUS code, int depth)
{
    if (depth > 0)
        raise_deeper(code, depth - 1);
    ExRaiseStatus(code);
}

static void seh_filter_sees_code_and_record(void **state)
{
    (void)state;
    NTSTATUS in_filter = 0, in_handler = 0;
    ULONG flags = 0, params = 99;
    PVOID context = (PVOID)1, nested = (PVOID)1;
    bool after = false;
    __try {
        ExRaiseStatus(STATUS_INSUFFICIENT_RESOURCES);
        after = true;
    } __except (in_filter = GetExceptionCode(),
                flags = GetExceptionInformation()->ExceptionRecord->ExceptionFlags,
                params = GetExceptionInformation()->ExceptionRecord->NumberParameters,
                context = GetExceptionInformation()->ContextRecord,
                nested = GetExceptionInformation()->ExceptionRecord->ExceptionRecord,
                EXCEPTION_EXECUTE_HANDLER) {
        in_handler = GetExceptionCode();
    }
    assert_false(after);
    assert_status(in_filter, STATUS_INSUFFICIENT_RESOURCES);
    assert_status(in_handler, STATUS_INSUFFICIENT_RESOURCES);
    assert_int_equal(flags, EXCEPTION_NONCONTINUABLE);
    assert_int_equal(params, 0);
    assert_null(context);
    assert_null(nested);
}

static void seh_raise_in_callee_is_handled_by_caller(void **state)
{
    (void)state;
    NTSTATUS code = STATUS_SUCCESS;
    __try {
        raise_deep(STATUS_INVALID_PARAMETER, 3);
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        code = GetExceptionCode();
    }
    assert_status(code, STATUS_INVALID_PARAMETER);
    __try {
        ExRaiseAccessViolation();
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        code = GetExceptionCode();
    }
    assert_status(code, STATUS_ACCESS_VIOLATION);
    __try {
        ExRaiseDatatypeMisalignment();
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        code = GetExceptionCode();
    }
    assert_status(code, STATUS_DATATYPE_MISALIGNMENT);
}

static int finally_case(int how)
{
    int abnormal = -1;
    __try {
        note("body");
        for (int i = 0; i < 3; i++) {
            int j = 0;
            while (j < 2) {
                if (how == 1 && i == 1 && j == 1)
                    __leave; /* from two loops deep */
                if (how == 2 && i == 2)
                    ExRaiseStatus(STATUS_UNSUCCESSFUL);
                j++;
            }
        }
        note("end");
    } __finally {
        abnormal = AbnormalTermination();
        note("finally");
    }
    return abnormal;
}

static void seh_finally_runs_on_normal_exit_leave_and_exception(void **state)
{
    (void)state;
    log_reset();
    assert_int_equal(finally_case(0), 0);
    assert_string_equal(seh_log, "body end finally");
    log_reset();
    assert_int_equal(finally_case(1), 0);
    assert_string_equal(seh_log, "body finally");
    log_reset();
    volatile int abnormal = -1;
    NTSTATUS code = STATUS_SUCCESS;
    __try {
        abnormal = finally_case(2);
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        code = GetExceptionCode();
    }
    assert_status(code, STATUS_UNSUCCESSFUL);
    assert_int_equal(abnormal, -1); /* finally_case never returned */
    assert_string_equal(seh_log, "body finally");
}

/* Windows evaluates the outer filter first, then runs the inner __finally
 * during the unwind ("outer-filter inner-finally handler"); fltsim unwinds as
 * it searches (excpt.h). */
static void seh_inner_finally_runs_before_outer_filter(void **state)
{
    (void)state;
    log_reset();
    __try {
        __try {
            raise_deep(STATUS_UNSUCCESSFUL, 1);
        } __finally {
            note(AbnormalTermination() ? "inner-finally(abnormal)" : "inner-finally");
        }
    } __except (note_filter("outer-filter", EXCEPTION_EXECUTE_HANDLER)) {
        note("handler");
    }
    assert_string_equal(seh_log, "inner-finally(abnormal) outer-filter handler");
}

__attribute__((noinline)) static void middle_frame(void)
{
    __try {
        __try {
            raise_deep(STATUS_NO_MEMORY, 2);
        } __except (note_filter("f1", EXCEPTION_CONTINUE_SEARCH)) {
            note("h1");
        }
    } __finally {
        note("fin2");
    }
    note("after-middle");
}

static void seh_continue_search_goes_through_several_frames(void **state)
{
    (void)state;
    log_reset();
    NTSTATUS code = STATUS_SUCCESS;
    __try {
        __try {
            middle_frame();
        } __except (note_filter("f3", GetExceptionCode() == STATUS_NO_MEMORY
                                          ? EXCEPTION_CONTINUE_SEARCH
                                          : EXCEPTION_EXECUTE_HANDLER)) {
            note("h3");
        }
    } __except (note_filter("f4", EXCEPTION_EXECUTE_HANDLER)) {
        code = GetExceptionCode();
        note("h4");
    }
    assert_status(code, STATUS_NO_MEMORY);
    assert_string_equal(seh_log, "f1 fin2 f3 f4 h4");
}

static void seh_handler_that_raises_goes_outward(void **state)
{
    (void)state;
    NTSTATUS inner = 0, inner_after = 0, outer = 0;
    __try {
        __try {
            ExRaiseStatus(STATUS_UNSUCCESSFUL);
        } __except (EXCEPTION_EXECUTE_HANDLER) {
            inner = GetExceptionCode();
            __try {
                ExRaiseStatus(STATUS_NO_MEMORY); /* caught right here */
            } __except (EXCEPTION_EXECUTE_HANDLER) {
            }
            inner_after = GetExceptionCode(); /* still the handler's own */
            ExRaiseStatus(STATUS_ACCESS_DENIED);
        }
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        outer = GetExceptionCode();
    }
    assert_status(inner, STATUS_UNSUCCESSFUL);
    assert_status(inner_after, STATUS_UNSUCCESSFUL);
    assert_status(outer, STATUS_ACCESS_DENIED);
}

static void seh_blocks_in_loops_and_in_sequence(void **state)
{
    (void)state;
    int handled = 0, finished = 0;
    for (int i = 0; i < 1000; i++) {
        __try {
            if (i % 2)
                ExRaiseStatus(STATUS_UNSUCCESSFUL);
        } __except (EXCEPTION_EXECUTE_HANDLER) {
            handled++;
        }
        __try {
            __try {
                if (i % 3 == 0)
                    ExRaiseStatus(STATUS_NO_MEMORY);
            } __finally {
                finished++;
            }
        } __except (EXCEPTION_EXECUTE_HANDLER) {
            handled++;
        }
    }
    assert_int_equal(handled, 500 + 334);
    assert_int_equal(finished, 1000);
}

__attribute__((noinline)) static int return_from_try(int how)
{
    int i = 0;
    __try {
        if (how == 0)
            return 7;
        for (;;) {
            if (++i == 3)
                goto out;
        }
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        return -1;
    }
out:
    return i;
}

static void seh_return_and_goto_out_of_try_leave_no_frame(void **state)
{
    (void)state;
    assert_int_equal(return_from_try(0), 7);
    assert_int_equal(return_from_try(1), 3);
    /* A stale frame would receive this raise and jump into a dead function. */
    NTSTATUS code = STATUS_SUCCESS;
    __try {
        raise_deep(STATUS_UNSUCCESSFUL, 2);
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        code = GetExceptionCode();
    }
    assert_status(code, STATUS_UNSUCCESSFUL);
}

/* The excpt.h spellings of C sources built with the WDK (its warning.h). */
// clang-format off
static void seh_lowercase_spellings(void **state)
{
    (void)state;
    int steps = 0;
    try {
        steps++;
        leave;
        steps += 100;
    } finally {
        steps += 10;
    }
    NTSTATUS code = 0;
    try {
        ExRaiseStatus(STATUS_UNSUCCESSFUL);
    } except (EXCEPTION_EXECUTE_HANDLER) {
        code = exception_code();
    }
    assert_int_equal(steps, 11);
    assert_status(code, STATUS_UNSUCCESSFUL);
}
// clang-format on

/* A local the __try block changes, read in the handler after an exception:
 * gcc keeps it; with clang it must be volatile (excpt.h). */
__attribute__((noinline)) static int local_changed_in_try(void)
{
#ifdef __clang__
    volatile int x = 0;
#else
    int x = 0;
#endif
    __try {
        x = 1;
        raise_deep(STATUS_UNSUCCESSFUL, 1);
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        x += 10;
    }
    return x;
}

static void seh_locals_changed_in_try_survive(void **state)
{
    (void)state;
    assert_int_equal(local_changed_in_try(), 11);
}

/* ------------------------------------------------------------------------- */
/* Probes                                                                    */
/* ------------------------------------------------------------------------- */

static NTSTATUS probe(bool write, ULONG_PTR address, SIZE_T length, ULONG alignment)
{
    NTSTATUS code = STATUS_SUCCESS;
    __try {
        if (write)
            ProbeForWrite((PVOID)address, length, alignment);
        else
            ProbeForRead((const void *)address, length, alignment);
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        code = GetExceptionCode();
    }
    return code;
}

static void seh_probes_raise_for_bad_user_buffers(void **state)
{
    (void)state;
    ULONG64 aligned[4];
    ULONG_PTR good = (ULONG_PTR)aligned;
    ULONG_PTR top = MM_USER_PROBE_ADDRESS;
    assert_true(good + sizeof(aligned) <= top); /* host memory is user memory */
    assert_true((ULONG_PTR)MM_HIGHEST_USER_ADDRESS == top - 1);
    for (int w = 0; w < 2; w++) {
        assert_status(probe(w, good, sizeof(aligned), 8), STATUS_SUCCESS);
        assert_status(probe(w, good + 1, 4, 4), STATUS_DATATYPE_MISALIGNMENT);
        assert_status(probe(w, good + 2, 4, 2), STATUS_SUCCESS);
        assert_status(probe(w, top - 16, 16, 1), STATUS_SUCCESS); /* ends at the limit */
        assert_status(probe(w, top - 16, 17, 1), STATUS_ACCESS_VIOLATION);
        assert_status(probe(w, top, 1, 1), STATUS_ACCESS_VIOLATION);
        assert_status(probe(w, (ULONG_PTR)-16, 32, 1), STATUS_ACCESS_VIOLATION); /* wraps */
        assert_status(probe(w, (ULONG_PTR)-16, 0, 4), STATUS_SUCCESS); /* length 0: no check */
        assert_status(probe(w, good + 1, 0, 8), STATUS_SUCCESS);
        /* Misalignment is checked first, as on Windows. */
        assert_status(probe(w, top + 1, 4, 4), STATUS_DATATYPE_MISALIGNMENT);
    }
    /* NULL is in the user range: ProbeForRead passes it (the access would
     * fault); ProbeForWrite writes each page on Windows, which faults in the
     * first 64 KB. */
    assert_status(probe(false, 0, 4, 1), STATUS_SUCCESS);
    assert_status(probe(true, 0, 4, 1), STATUS_ACCESS_VIOLATION);
    assert_status(probe(true, (ULONG_PTR)MM_LOWEST_USER_ADDRESS - 1, 4, 1),
                  STATUS_ACCESS_VIOLATION);
}

/* ------------------------------------------------------------------------- */
/* A minifilter that raises where it is told to                              */
/* ------------------------------------------------------------------------- */

enum raise_at {
    AT_NOWHERE,
    AT_ENTRY,
    AT_UNLOAD,
    AT_SETUP,
    AT_QUERY_TEARDOWN,
    AT_TEARDOWN_START,
    AT_TEARDOWN_COMPLETE,
    AT_PRE,
    AT_PRE_HANDLED,
    AT_PRE_AT_APC,
    AT_POST,
    AT_DEFERRED,
    AT_GENERIC
};

static struct {
    enum raise_at at;
    UCHAR major;
    NTSTATUS code;
    PFLT_FILTER filter;
    LONG pre_calls, post_calls, teardown_completes, generic_runs;
} sf;

static void raise_if(enum raise_at at, UCHAR major)
{
    if (sf.at == at && (major == 0xff || major == sf.major))
        ExRaiseStatus(sf.code);
}

static VOID SehDeferred(PFLT_DEFERRED_IO_WORKITEM item, PFLT_CALLBACK_DATA data, PVOID context)
{
    (void)data;
    (void)context;
    FltFreeDeferredIoWorkItem(item);
    ExRaiseStatus(sf.code); /* before it completes the pended read */
}

static VOID SehGeneric(PFLT_GENERIC_WORKITEM item, PVOID object, PVOID context)
{
    (void)object;
    (void)context;
    FltFreeGenericWorkItem(item);
    __atomic_add_fetch(&sf.generic_runs, 1, __ATOMIC_SEQ_CST);
    ExRaiseStatus(sf.code);
}

static FLT_PREOP_CALLBACK_STATUS SehPre(PFLT_CALLBACK_DATA data, PCFLT_RELATED_OBJECTS objects,
                                        PVOID *context)
{
    (void)objects;
    *context = NULL;
    UCHAR major = data->Iopb->MajorFunction;
    __atomic_add_fetch(&sf.pre_calls, 1, __ATOMIC_SEQ_CST);
    raise_if(AT_PRE, major);
    if (sf.at == AT_PRE_AT_APC && major == sf.major) {
        KIRQL old;
        KeRaiseIrql(APC_LEVEL, &old);
        ExRaiseStatus(sf.code); /* the IRQL is left raised */
    }
    if (sf.at == AT_PRE_HANDLED && major == sf.major) {
        __try {
            ProbeForRead((const void *)(MM_USER_PROBE_ADDRESS - 2), 4, 1);
        } __except (EXCEPTION_EXECUTE_HANDLER) {
            data->IoStatus.Status = GetExceptionCode();
            data->IoStatus.Information = 0;
            return FLT_PREOP_COMPLETE;
        }
    }
    if (sf.at == AT_DEFERRED && major == sf.major) {
        PFLT_DEFERRED_IO_WORKITEM item = FltAllocateDeferredIoWorkItem();
        if (item != NULL &&
            NT_SUCCESS(FltQueueDeferredIoWorkItem(item, data, SehDeferred, DelayedWorkQueue, NULL)))
            return FLT_PREOP_PENDING;
        if (item != NULL)
            FltFreeDeferredIoWorkItem(item);
    }
    if (sf.at == AT_GENERIC && major == sf.major) {
        PFLT_GENERIC_WORKITEM item = FltAllocateGenericWorkItem();
        if (item != NULL && !NT_SUCCESS(FltQueueGenericWorkItem(item, sf.filter, SehGeneric,
                                                                DelayedWorkQueue, NULL)))
            FltFreeGenericWorkItem(item);
    }
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS SehPost(PFLT_CALLBACK_DATA data, PCFLT_RELATED_OBJECTS objects,
                                          PVOID context, FLT_POST_OPERATION_FLAGS flags)
{
    (void)objects;
    (void)context;
    (void)flags;
    __atomic_add_fetch(&sf.post_calls, 1, __ATOMIC_SEQ_CST);
    raise_if(AT_POST, data->Iopb->MajorFunction);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static NTSTATUS SehSetup(PCFLT_RELATED_OBJECTS objects, FLT_INSTANCE_SETUP_FLAGS flags,
                         DEVICE_TYPE device_type, FLT_FILESYSTEM_TYPE fs_type)
{
    (void)objects;
    (void)flags;
    (void)device_type;
    (void)fs_type;
    raise_if(AT_SETUP, 0xff);
    return STATUS_SUCCESS;
}

static NTSTATUS SehQueryTeardown(PCFLT_RELATED_OBJECTS objects,
                                 FLT_INSTANCE_QUERY_TEARDOWN_FLAGS flags)
{
    (void)objects;
    (void)flags;
    raise_if(AT_QUERY_TEARDOWN, 0xff);
    return STATUS_SUCCESS;
}

static VOID SehTeardownStart(PCFLT_RELATED_OBJECTS objects, FLT_INSTANCE_TEARDOWN_FLAGS reason)
{
    (void)objects;
    (void)reason;
    raise_if(AT_TEARDOWN_START, 0xff);
}

static VOID SehTeardownComplete(PCFLT_RELATED_OBJECTS objects, FLT_INSTANCE_TEARDOWN_FLAGS reason)
{
    (void)objects;
    (void)reason;
    __atomic_add_fetch(&sf.teardown_completes, 1, __ATOMIC_SEQ_CST);
    raise_if(AT_TEARDOWN_COMPLETE, 0xff);
}

static NTSTATUS SehUnload(FLT_FILTER_UNLOAD_FLAGS flags)
{
    (void)flags;
    raise_if(AT_UNLOAD, 0xff);
    FltUnregisterFilter(sf.filter);
    return STATUS_SUCCESS;
}

static const FLT_OPERATION_REGISTRATION seh_ops[] = {{IRP_MJ_CREATE, 0, SehPre, SehPost},
                                                     {IRP_MJ_READ, 0, SehPre, SehPost},
                                                     {IRP_MJ_CLEANUP, 0, SehPre, SehPost},
                                                     {IRP_MJ_CLOSE, 0, SehPre, SehPost},
                                                     {IRP_MJ_OPERATION_END}};

static const FLT_REGISTRATION seh_registration = {sizeof(FLT_REGISTRATION),
                                                  FLT_REGISTRATION_VERSION,
                                                  0,
                                                  NULL,
                                                  seh_ops,
                                                  SehUnload,
                                                  SehSetup,
                                                  SehQueryTeardown,
                                                  SehTeardownStart,
                                                  SehTeardownComplete,
                                                  NULL,
                                                  NULL,
                                                  NULL,
                                                  NULL,
                                                  NULL,
                                                  NULL};

static NTSTATUS SehDriverEntry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path)
{
    (void)registry_path;
    raise_if(AT_ENTRY, 0xff);
    NTSTATUS status = FltRegisterFilter(driver, &seh_registration, &sf.filter);
    if (!NT_SUCCESS(status))
        return status;
    status = FltStartFiltering(sf.filter);
    if (!NT_SUCCESS(status))
        FltUnregisterFilter(sf.filter);
    return status;
}

static const struct fltsim_instance_def seh_instances[] = {{L"SehFilter Instance", L"370000", 0}};
static const struct fltsim_filter_def seh_def = {L"SehFilter", L"SehFilter Instance", seh_instances,
                                                 1};

static void sf_arm(enum raise_at at, UCHAR major, NTSTATUS code)
{
    sf.at = at;
    sf.major = major;
    sf.code = code;
}

struct seh_world {
    struct test_world w;
    fltsim_driver *drv;
    ULONG64 pool_before;
};

static void seh_world_load(struct seh_world *s)
{
    memset(&sf, 0, sizeof(sf));
    s->pool_before = fltsim_pool_outstanding();
    world_create(&s->w, 0);
    assert_status(fltsim_driver_load(s->w.sys, &seh_def, SehDriverEntry, &s->drv), STATUS_SUCCESS);
}

/* Unloads the filter and destroys the world: both must work after any of the
 * exceptions, and nothing may stay allocated. */
static void seh_world_unload(struct seh_world *s)
{
    sf_arm(AT_NOWHERE, 0, 0);
    assert_status(fltsim_system_wait_idle(s->w.sys, 10000), STATUS_SUCCESS);
    assert_status(fltsim_driver_unload(s->drv, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(s->w.sys, "V23"), 0);
    world_destroy(&s->w);
    assert_int_equal(fltsim_pool_outstanding(), s->pool_before);
}

/* The one SEH report: it names the routine that raised, the code and the
 * callback. */
static void assert_seh_report(fltsim_system *sys, const char *callback, const char *code_name)
{
    assert_int_equal(fltsim_system_report_count_rule(sys, "SEH"), 1);
    ULONG n = fltsim_system_report_count(sys);
    for (ULONG i = 0; i < n; i++) {
        struct fltsim_report r;
        assert_status(fltsim_system_report_get(sys, i, &r), STATUS_SUCCESS);
        if (strcmp(r.rule, "SEH") != 0)
            continue;
        assert_non_null(strstr(r.message, "raised by ExRaiseStatus"));
        assert_non_null(strstr(r.message, callback));
        assert_non_null(strstr(r.message, code_name));
        if (r.filter[0] != '\0')
            assert_string_equal(r.filter, "SehFilter");
        else /* DriverEntry raised before its filter was registered */
            assert_non_null(strstr(r.message, "SehFilter"));
        return;
    }
    fail();
}

/* ------------------------------------------------------------------------- */
/* Exceptions in callbacks                                                   */
/* ------------------------------------------------------------------------- */

static void callback_pre_raise_fails_operation_with_code(void **state)
{
    (void)state;
    struct seh_world s;
    seh_world_load(&s);
    HANDLE h = world_open(&s.w, L"C:\\a.txt", GENERIC_READ);
    sf_arm(AT_PRE, IRP_MJ_READ, STATUS_INSUFFICIENT_RESOURCES);
    char buf[16];
    LONGLONG offset = 0;
    IO_STATUS_BLOCK iosb;
    LONG posts = sf.post_calls;
    assert_status(fltsim_io_read(s.w.sys, h, buf, 5, &offset, 0, &iosb),
                  STATUS_INSUFFICIENT_RESOURCES);
    assert_int_equal(iosb.Information, 0);
    assert_int_equal(sf.post_calls, posts); /* completed in the pre: no post for it */
    assert_seh_report(s.w.sys, "its pre-operation callback for IRP_MJ_READ",
                      "STATUS_INSUFFICIENT_RESOURCES");
    /* The engine goes on: the next read is fine. */
    sf_arm(AT_NOWHERE, 0, 0);
    assert_status(fltsim_io_read(s.w.sys, h, buf, 5, &offset, 0, &iosb), STATUS_SUCCESS);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    assert_status(fltsim_io_close(s.w.sys, h), STATUS_SUCCESS);
    seh_world_unload(&s);
}

static void callback_pre_raise_at_apc_restores_irql(void **state)
{
    (void)state;
    struct seh_world s;
    seh_world_load(&s);
    HANDLE h = world_open(&s.w, L"C:\\a.txt", GENERIC_READ);
    sf_arm(AT_PRE_AT_APC, IRP_MJ_READ, STATUS_NO_MEMORY);
    char buf[16];
    LONGLONG offset = 0;
    assert_status(fltsim_io_read(s.w.sys, h, buf, 5, &offset, 0, NULL), STATUS_NO_MEMORY);
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    assert_int_equal(fltsim_system_report_count_rule(s.w.sys, "V28"), 0);
    assert_status(fltsim_io_close(s.w.sys, h), STATUS_SUCCESS);
    seh_world_unload(&s);
}

static void callback_pre_handles_its_own_probe(void **state)
{
    (void)state;
    struct seh_world s;
    seh_world_load(&s);
    HANDLE h = world_open(&s.w, L"C:\\a.txt", GENERIC_READ);
    sf_arm(AT_PRE_HANDLED, IRP_MJ_READ, 0);
    char buf[16];
    LONGLONG offset = 0;
    assert_status(fltsim_io_read(s.w.sys, h, buf, 5, &offset, 0, NULL), STATUS_ACCESS_VIOLATION);
    assert_int_equal(fltsim_system_report_count(s.w.sys), 0);
    assert_status(fltsim_io_close(s.w.sys, h), STATUS_SUCCESS);
    seh_world_unload(&s);
}

static void callback_post_raise_fails_read_with_code(void **state)
{
    (void)state;
    struct seh_world s;
    seh_world_load(&s);
    HANDLE h = world_open(&s.w, L"C:\\a.txt", GENERIC_READ);
    sf_arm(AT_POST, IRP_MJ_READ, STATUS_UNSUCCESSFUL);
    char buf[16];
    LONGLONG offset = 0;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_read(s.w.sys, h, buf, 5, &offset, 0, &iosb), STATUS_UNSUCCESSFUL);
    assert_int_equal(iosb.Information, 0);
    assert_seh_report(s.w.sys, "its post-operation callback for IRP_MJ_READ",
                      "STATUS_UNSUCCESSFUL");
    assert_status(fltsim_io_close(s.w.sys, h), STATUS_SUCCESS);
    seh_world_unload(&s);
}

static void callback_post_create_raise_cancels_the_open(void **state)
{
    (void)state;
    struct seh_world s;
    seh_world_load(&s);
    sf_arm(AT_POST, IRP_MJ_CREATE, STATUS_UNSUCCESSFUL);
    HANDLE h;
    assert_status(fltsim_io_open(s.w.sys, L"C:\\a.txt", GENERIC_READ | GENERIC_WRITE, &h),
                  STATUS_UNSUCCESSFUL);
    assert_seh_report(s.w.sys, "its post-operation callback for IRP_MJ_CREATE",
                      "STATUS_UNSUCCESSFUL");
    assert_int_equal(fltsim_system_report_count_rule(s.w.sys, "V24"), 0);
    /* The file system closed the open: an exclusive open now succeeds. */
    sf_arm(AT_NOWHERE, 0, 0);
    struct fltsim_create_params p = {.path = L"C:\\a.txt",
                                     .desired_access = GENERIC_READ | GENERIC_WRITE,
                                     .share_access = 0,
                                     .disposition = FILE_OPEN,
                                     .create_options = FILE_SYNCHRONOUS_IO_NONALERT};
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_create(s.w.sys, &p, &h, &iosb), STATUS_SUCCESS);
    assert_status(fltsim_io_close(s.w.sys, h), STATUS_SUCCESS);
    seh_world_unload(&s);
}

static void callback_close_raise_cannot_fail_close(void **state)
{
    (void)state;
    struct seh_world s;
    seh_world_load(&s);
    HANDLE h = world_open(&s.w, L"C:\\a.txt", GENERIC_READ);
    sf_arm(AT_PRE, IRP_MJ_CLEANUP, STATUS_UNSUCCESSFUL);
    assert_status(fltsim_io_close(s.w.sys, h), STATUS_SUCCESS);
    assert_seh_report(s.w.sys, "its pre-operation callback for IRP_MJ_CLEANUP", "cannot fail");
    assert_int_equal(fltsim_system_report_count_rule(s.w.sys, "V9"), 0);
    /* The cleanup reached the file system: share access was released. */
    sf_arm(AT_NOWHERE, 0, 0);
    struct fltsim_create_params p = {.path = L"C:\\a.txt",
                                     .desired_access = GENERIC_READ | GENERIC_WRITE,
                                     .share_access = 0,
                                     .disposition = FILE_OPEN,
                                     .create_options = FILE_SYNCHRONOUS_IO_NONALERT};
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_create(s.w.sys, &p, &h, &iosb), STATUS_SUCCESS);
    sf_arm(AT_POST, IRP_MJ_CLOSE, STATUS_UNSUCCESSFUL);
    assert_status(fltsim_io_close(s.w.sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(s.w.sys, "SEH"), 2);
    seh_world_unload(&s);
}

static void callback_deferred_work_raise_completes_pended_read(void **state)
{
    (void)state;
    struct seh_world s;
    seh_world_load(&s);
    HANDLE h = world_open(&s.w, L"C:\\a.txt", GENERIC_READ);
    sf_arm(AT_DEFERRED, IRP_MJ_READ, STATUS_NO_MEMORY);
    char buf[16];
    LONGLONG offset = 0;
    assert_status(fltsim_io_read(s.w.sys, h, buf, 5, &offset, 0, NULL), STATUS_NO_MEMORY);
    assert_status(fltsim_system_wait_idle(s.w.sys, 10000), STATUS_SUCCESS);
    assert_seh_report(s.w.sys, "its deferred I/O work routine", "STATUS_NO_MEMORY");
    assert_status(fltsim_io_close(s.w.sys, h), STATUS_SUCCESS);
    seh_world_unload(&s);
}

static void callback_generic_work_raise_ends_routine(void **state)
{
    (void)state;
    struct seh_world s;
    seh_world_load(&s);
    HANDLE h = world_open(&s.w, L"C:\\a.txt", GENERIC_READ);
    sf_arm(AT_GENERIC, IRP_MJ_READ, STATUS_UNSUCCESSFUL);
    char buf[16];
    LONGLONG offset = 0;
    assert_status(fltsim_io_read(s.w.sys, h, buf, 5, &offset, 0, NULL), STATUS_SUCCESS);
    assert_status(fltsim_system_wait_idle(s.w.sys, 10000), STATUS_SUCCESS);
    assert_int_equal(sf.generic_runs, 1);
    assert_seh_report(s.w.sys, "its generic work routine", "STATUS_UNSUCCESSFUL");
    assert_status(fltsim_io_close(s.w.sys, h), STATUS_SUCCESS);
    seh_world_unload(&s);
}

static void callback_setup_raise_refuses_attach(void **state)
{
    (void)state;
    memset(&sf, 0, sizeof(sf));
    ULONG64 pool_before = fltsim_pool_outstanding();
    struct test_world w;
    world_create(&w, 0);
    fltsim_driver *drv;
    sf_arm(AT_SETUP, 0, STATUS_UNSUCCESSFUL);
    assert_status(fltsim_driver_load(w.sys, &seh_def, SehDriverEntry, &drv), STATUS_SUCCESS);
    assert_seh_report(w.sys, "its InstanceSetupCallback", "STATUS_UNSUCCESSFUL");
    /* No instance: the filter sees no I/O. */
    sf_arm(AT_NOWHERE, 0, 0);
    HANDLE h = world_open(&w, L"C:\\a.txt", GENERIC_READ);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    assert_int_equal(sf.pre_calls, 0);
    assert_status(fltsim_driver_unload(drv, 0), STATUS_SUCCESS);
    world_destroy(&w);
    assert_int_equal(fltsim_pool_outstanding(), pool_before);
}

static void callback_teardown_and_query_raise_keep_teardown_working(void **state)
{
    (void)state;
    struct seh_world s;
    seh_world_load(&s);
    sf_arm(AT_QUERY_TEARDOWN, 0, STATUS_UNSUCCESSFUL);
    UNICODE_STRING name = ustr(L"SehFilter Instance");
    assert_status(FltDetachVolume(sf.filter, s.w.volume, &name), STATUS_UNSUCCESSFUL);
    assert_seh_report(s.w.sys, "its InstanceQueryTeardownCallback", "STATUS_UNSUCCESSFUL");
    fltsim_system_reports_clear(s.w.sys);
    sf_arm(AT_TEARDOWN_START, 0, STATUS_NO_MEMORY);
    assert_status(FltDetachVolume(sf.filter, s.w.volume, &name), STATUS_SUCCESS);
    assert_seh_report(s.w.sys, "its InstanceTeardownStartCallback", "STATUS_NO_MEMORY");
    assert_int_equal(sf.teardown_completes, 1);
    fltsim_system_reports_clear(s.w.sys);
    sf_arm(AT_TEARDOWN_COMPLETE, 0, STATUS_NO_MEMORY);
    assert_status(FltAttachVolume(sf.filter, s.w.volume, &name, NULL), STATUS_SUCCESS);
    assert_status(FltDetachVolume(sf.filter, s.w.volume, &name), STATUS_SUCCESS);
    assert_seh_report(s.w.sys, "its InstanceTeardownCompleteCallback", "STATUS_NO_MEMORY");
    assert_int_equal(sf.teardown_completes, 2);
    seh_world_unload(&s);
}

static void callback_entry_and_unload_raise(void **state)
{
    (void)state;
    memset(&sf, 0, sizeof(sf));
    ULONG64 pool_before = fltsim_pool_outstanding();
    struct test_world w;
    world_create(&w, 0);
    fltsim_driver *drv;
    sf_arm(AT_ENTRY, 0, STATUS_NO_MEMORY);
    assert_status(fltsim_driver_load(w.sys, &seh_def, SehDriverEntry, &drv), STATUS_NO_MEMORY);
    assert_seh_report(w.sys, "DriverEntry", "STATUS_NO_MEMORY");
    fltsim_system_reports_clear(w.sys);

    sf_arm(AT_NOWHERE, 0, 0);
    assert_status(fltsim_driver_load(w.sys, &seh_def, SehDriverEntry, &drv), STATUS_SUCCESS);
    sf_arm(AT_UNLOAD, 0, STATUS_UNSUCCESSFUL);
    assert_status(fltsim_driver_unload(drv, 0), STATUS_UNSUCCESSFUL); /* refused */
    assert_seh_report(w.sys, "its FilterUnloadCallback", "STATUS_UNSUCCESSFUL");
    /* A mandatory unload goes on even though the callback raises again. */
    assert_status(fltsim_driver_unload(drv, FLTSIM_UNLOAD_MANDATORY), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "SEH"), 2);
    world_destroy(&w);
    assert_int_equal(fltsim_pool_outstanding(), pool_before);
}

/* ------------------------------------------------------------------------- */
/* The reported differences, in a filter's context                           */
/* ------------------------------------------------------------------------- */

static void skip_finally_by_return(void *ctx)
{
    int *finally_ran = ctx;
    __try {
        return;
    } __finally {
        *finally_ran = 1;
    }
}

static void break_in_try(void *ctx)
{
    int *count = ctx;
    for (int i = 0; i < 3; i++) {
        __try {
            if (i == 1)
                break;
        } __finally {
            if (AbnormalTermination())
                *count += 100;
        }
        (*count)++;
    }
}

static void continue_execution(void *ctx)
{
    NTSTATUS *seen = ctx;
    int round = 0;
    __try {
        ExRaiseStatus(STATUS_ACCESS_DENIED);
    } __except (seen[round] = GetExceptionCode(),
                seen[2 + round] =
                    GetExceptionInformation()->ExceptionRecord->ExceptionRecord != NULL
                        ? GetExceptionInformation()->ExceptionRecord->ExceptionRecord->ExceptionCode
                        : 0,
                round++ == 0 ? EXCEPTION_CONTINUE_EXECUTION : EXCEPTION_EXECUTE_HANDLER) {
        seen[4] = GetExceptionCode();
    }
}

static void continue_execution_always(void *ctx)
{
    __try {
        ExRaiseStatus(STATUS_ACCESS_DENIED);
    } __except (EXCEPTION_CONTINUE_EXECUTION) {
    }
    *(int *)ctx = 1; /* not reached */
}

static void uncaught_in_driver_call(void *ctx)
{
    (void)ctx;
    raise_deep(STATUS_NO_MEMORY, 1);
}

static void differences_are_reported(void **state)
{
    (void)state;
    struct seh_world s;
    seh_world_load(&s);
    fltsim_system *sys = s.w.sys;

    int finally_ran = 0;
    assert_status(fltsim_driver_call(s.drv, skip_finally_by_return, &finally_ran), STATUS_SUCCESS);
    assert_int_equal(finally_ran, 0);
    assert_int_equal(fltsim_system_report_count_rule(sys, "SIM"), 1);

    int count = 0;
    assert_status(fltsim_driver_call(s.drv, break_in_try, &count), STATUS_SUCCESS);
    /* i = 0 counts; i = 1 breaks out of the __try only (its __finally runs,
     * abnormal) and goes on after it; i = 2 counts. On Windows: 1 + 100. */
    assert_int_equal(count, 1 + 100 + 1 + 1);
    assert_int_equal(fltsim_system_report_count_rule(sys, "SIM"), 2);

    NTSTATUS seen[5] = {0};
    assert_status(fltsim_driver_call(s.drv, continue_execution, seen), STATUS_SUCCESS);
    assert_status(seen[0], STATUS_ACCESS_DENIED);
    assert_status(seen[1], STATUS_NONCONTINUABLE_EXCEPTION);
    assert_status(seen[2], 0);
    assert_status(seen[3], STATUS_ACCESS_DENIED); /* the record it points at */
    assert_status(seen[4], STATUS_NONCONTINUABLE_EXCEPTION);
    assert_int_equal(fltsim_system_report_count_rule(sys, "SEH"), 1);

    int reached = 0;
    assert_status(fltsim_driver_call(s.drv, continue_execution_always, &reached),
                  STATUS_NONCONTINUABLE_EXCEPTION);
    assert_int_equal(reached, 0);
    /* the first CONTINUE_EXECUTION, the second, and the uncaught exception */
    assert_int_equal(fltsim_system_report_count_rule(sys, "SEH"), 4);

    assert_status(fltsim_driver_call(s.drv, uncaught_in_driver_call, NULL), STATUS_NO_MEMORY);
    assert_int_equal(fltsim_system_report_count_rule(sys, "SEH"), 5);
    seh_world_unload(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seh_filter_sees_code_and_record),
        cmocka_unit_test(seh_raise_in_callee_is_handled_by_caller),
        cmocka_unit_test(seh_finally_runs_on_normal_exit_leave_and_exception),
        cmocka_unit_test(seh_inner_finally_runs_before_outer_filter),
        cmocka_unit_test(seh_continue_search_goes_through_several_frames),
        cmocka_unit_test(seh_handler_that_raises_goes_outward),
        cmocka_unit_test(seh_blocks_in_loops_and_in_sequence),
        cmocka_unit_test(seh_return_and_goto_out_of_try_leave_no_frame),
        cmocka_unit_test(seh_lowercase_spellings),
        cmocka_unit_test(seh_locals_changed_in_try_survive),
        cmocka_unit_test(seh_probes_raise_for_bad_user_buffers),
        cmocka_unit_test(callback_pre_raise_fails_operation_with_code),
        cmocka_unit_test(callback_pre_raise_at_apc_restores_irql),
        cmocka_unit_test(callback_pre_handles_its_own_probe),
        cmocka_unit_test(callback_post_raise_fails_read_with_code),
        cmocka_unit_test(callback_post_create_raise_cancels_the_open),
        cmocka_unit_test(callback_close_raise_cannot_fail_close),
        cmocka_unit_test(callback_deferred_work_raise_completes_pended_read),
        cmocka_unit_test(callback_generic_work_raise_ends_routine),
        cmocka_unit_test(callback_setup_raise_refuses_attach),
        cmocka_unit_test(callback_teardown_and_query_raise_keep_teardown_working),
        cmocka_unit_test(callback_entry_and_unload_raise),
        cmocka_unit_test(differences_are_reported),
    };
    return FLTSIM_RUN_SUITE("seh", tests);
}
