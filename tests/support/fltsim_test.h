/*
 * Shared helpers for fltsim's CMocka suites: NTSTATUS assertions that print
 * status names, a configurable recording minifilter ("test filter") that any
 * number of suites load at different altitudes, a recorder of the callback
 * order, a standard system with a memfs volume C:, and small string and file
 * helpers.
 * CMocka needs <stdarg.h>, <stddef.h>, <stdint.h> and <setjmp.h> before it.
 */
#ifndef FLTSIM_TEST_H
#define FLTSIM_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fltKernel.h>
#include <fltsim/io.h>
#include <fltsim/memfs.h>
#include <fltsim/model.h>

/* Fails the test, printing both statuses by name, when actual != expected.
 * Compares as 32-bit values (STYLE.md "Tests"). */
void fltsim_test_assert_status(NTSTATUS actual, NTSTATUS expected, const char *expr,
                               const char *file, int line);
#define assert_status(actual, expected)                                                            \
    fltsim_test_assert_status((NTSTATUS)(actual), (NTSTATUS)(expected), #actual, __FILE__, __LINE__)

/* ---- executors ---- */

/* The executor behavioural cases run under. fltsim_run_suite runs a suite's
 * cases once with each executor (DESIGN decision 5); world_create and
 * test_options follow this setting. */
extern enum fltsim_executor_kind test_executor;
extern ULONG64 test_seed;
/* System options for flags under the current executor. */
struct fltsim_system_options test_options(ULONG flags);
/* Runs the cases under the concurrent, then the deterministic executor.
 * Returns the number of failures. */
int fltsim_run_suite(const char *name, const struct CMUnitTest *tests, size_t count);
#define FLTSIM_RUN_SUITE(name, tests)                                                              \
    fltsim_run_suite((name), (tests), sizeof(tests) / sizeof((tests)[0]))

/* ---- the recorder ---- */

/* Events are short words joined by spaces: "A:pre:CREATE", "A:post:CREATE",
 * "FS:CREATE" (file system, when the recorder traces the system),
 * "A:setup", "A:query_teardown", "A:teardown_start", "A:teardown_complete",
 * "A:unload". Thread-safe. */
void rec_reset(void);
void rec_add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Everything recorded since the last reset. */
const char *rec_text(void);
/* Records the file system's part of every operation of sys ("FS:READ"). */
void rec_trace_system(fltsim_system *sys);
/* Fails the test when the recorded text is not expected. */
void rec_assert(const char *expected, const char *file, int line);
#define assert_recorded(expected) rec_assert((expected), __FILE__, __LINE__)

/* ---- the test filter ---- */

struct tf_filter;
typedef FLT_PREOP_CALLBACK_STATUS (*tf_pre_fn)(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                               PCFLT_RELATED_OBJECTS objects, PVOID *context);
typedef FLT_POSTOP_CALLBACK_STATUS (*tf_post_fn)(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                                 PCFLT_RELATED_OBJECTS objects, PVOID context,
                                                 FLT_POST_OPERATION_FLAGS flags);

struct tf_op {
    bool pre;    /* register a pre for this code */
    bool post;   /* register a post */
    ULONG flags; /* FLTFL_OPERATION_REGISTRATION_* */
};

/* A minifilter whose registration and behaviour a test sets before loading it.
 * tf_init fills the defaults: pre and post registered for every operation code
 * that may be registered, each pre returning SUCCESS_WITH_CALLBACK and each
 * post FINISHED_PROCESSING, every instance callback present and succeeding. */
struct tf_filter {
    char name[16]; /* also the recorder's prefix */
    WCHAR wname[16];
    WCHAR instance_name[32];
    WCHAR altitude[32];
    ULONG instance_flags;     /* FLTSIM_INSTANCE_* */
    ULONG registration_flags; /* FLT_REGISTRATION.Flags */
    struct tf_op ops[256];    /* indexed by operation code */
    bool no_unload_callback;
    bool no_query_teardown_callback;
    bool no_setup_callback;
    bool unload_forgets_unregister;
    tf_pre_fn pre;   /* NULL: SUCCESS_WITH_CALLBACK */
    tf_post_fn post; /* NULL: FINISHED_PROCESSING */
    NTSTATUS setup_status;
    NTSTATUS query_teardown_status;
    NTSTATUS unload_status;
    NTSTATUS entry_status; /* DriverEntry fails with this after registering+unregistering */
    void *user;
    void (*teardown_start_hook)(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects);
    /* called by InstanceSetupCallback before it returns setup_status */
    void (*setup_hook)(struct tf_filter *tf, PCFLT_RELATED_OBJECTS objects);
    const FLT_CONTEXT_REGISTRATION *contexts; /* FLT_REGISTRATION.ContextRegistration */
    /* the name-provider routines of FLT_REGISTRATION (NULL: none) */
    PFLT_GENERATE_FILE_NAME generate_file_name;
    PFLT_NORMALIZE_NAME_COMPONENT normalize_name_component;
    PFLT_NORMALIZE_NAME_COMPONENT_EX normalize_name_component_ex;
    PFLT_NORMALIZE_CONTEXT_CLEANUP normalize_context_cleanup;

    /* filled while it runs */
    PFLT_FILTER filter;
    fltsim_driver *driver;
    ULONG setup_calls, last_setup_flags;
    ULONG query_teardown_calls;
    ULONG teardown_start_calls, teardown_complete_calls, last_teardown_reason;
    ULONG unload_calls, last_unload_flags;
    PFLT_INSTANCE last_instance;
    FLT_REGISTRATION registration;
    FLT_OPERATION_REGISTRATION operations[64];
};

void tf_init(struct tf_filter *tf, const char *name, const char *altitude);
/* Registers only the given code (pre and post), clearing the others. */
void tf_only(struct tf_filter *tf, UCHAR major);
/* Loads the filter as a driver in sys (its registration built from the
 * configuration). Returns fltsim_driver_load's status. */
NTSTATUS tf_load(fltsim_system *sys, struct tf_filter *tf);
/* Forgets every loaded test filter (call at the start of each test). */
void tf_reset_all(void);
/* The short name of an operation code: "CREATE", "ACQUIRE_FOR_SECTION_SYNCHRONIZATION". */
const char *tf_major(UCHAR major);

/* ---- threads ---- */

/* fltsim_driver_unload(drv, flags) on a spawned requestor thread (process
 * 1000, thread 4001): status is its result, done turns 1 (atomic) when it
 * returned. Join the thread returned. */
struct unload_job {
    fltsim_driver *drv;
    ULONG flags;
    NTSTATUS status;
    LONG done;
};
fltsim_thread *unload_in_background(fltsim_system *sys, struct unload_job *job);

/* ---- a standard world ---- */

struct test_world {
    fltsim_system *sys;
    struct fltsim_memfs *fs;
    PFLT_VOLUME volume; /* C: = \Device\HarddiskVolume1 */
};

/* A system (flags as fltsim_system_options) with memfs mounted as C:, holding
 * \a.txt ("hello world"), \dir\b.txt ("bravo") and the directory \empty. */
void world_create(struct test_world *w, ULONG system_flags);
/* The same with the volume's completion mode (FLTSIM_COMPLETE_*). */
void world_create_ex(struct test_world *w, ULONG system_flags, ULONG completion);
void world_destroy(struct test_world *w);

/* Opens path with access for synchronous I/O, asserting success. */
HANDLE world_open(struct test_world *w, PCWSTR path, ACCESS_MASK access);
/* Opens an existing file of sys for overlapped (asynchronous) I/O, sharing
 * read and write, asserting success. */
HANDLE open_overlapped(fltsim_system *sys, PCWSTR path, ACCESS_MASK access);

/* ---- strings ---- */

/* s as a counted string over the same buffer (RtlInitUnicodeString). */
UNICODE_STRING ustr(const WCHAR *s);
/* Fills n units of a malloc'd buffer with c and terminates it (n + 1 units);
 * the caller frees it. */
WCHAR *wide_run(WCHAR c, size_t n);

/* ---- files ---- */

/* Writes text into a new file made from the mkstemp template path (its last
 * six characters XXXXXX, replaced in place); returns path. */
const char *test_write_temp(char *path, const char *text);
/* The same with size bytes of data (binary content: captures). */
const char *test_write_temp_bytes(char *path, const void *data, size_t size);
/* Writes a gzip-compressed copy of the file from into a new file made from
 * the mkstemp template path; returns path. */
const char *test_gzip_temp(char *path, const char *from);

#endif /* FLTSIM_TEST_H */
