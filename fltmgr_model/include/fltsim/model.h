/*
 * fltsim's own interface to the modeled Filter Manager: systems, driver
 * loading with a per-filter instance table (the registry stand-in), volumes
 * over a pluggable file system, the request entry point the simulated I/O
 * manager calls, traces, verifier reports and pool accounting. Tests and the
 * sim use these; minifilters never need them. All names carry the fltsim_
 * prefix (DESIGN decision 1).
 *
 * Threading: unless a function says otherwise, it may be called from any
 * thread, but not from inside a callback of the object it destroys.
 */
#ifndef FLTSIM_MODEL_H
#define FLTSIM_MODEL_H

#include <stdbool.h>
#include <stdio.h>

#include <fltKernel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------- */
/* Errors of the fltsim API itself                                           */
/* ------------------------------------------------------------------------- */

/* A description of the last fltsim API call on this thread that failed, naming
 * the argument and the problem ("fltsim_driver_load: instance 'A' has altitude
 * '12x', which is not a decimal number"), or "" when none has. The text stays
 * valid until the next failing call on this thread. */
const char *fltsim_last_error(void);

/* For code built on the model (the sim's I/O manager and file systems, or a
 * test's own file system behind struct fltsim_fs_ops): sets the text
 * fltsim_last_error() returns on this thread, formatted with printf rules
 * and cut at 511 bytes, and returns status, so that a failing call can end in
 * `return fltsim_last_error_set(STATUS_INVALID_PARAMETER, "...", ...)`.
 * An argument may be fltsim_last_error() itself. Cannot fail. */
NTSTATUS fltsim_last_error_set(NTSTATUS status, const char *fmt, ...)
    __attribute__((format(__printf__, 2, 3)));

/* ------------------------------------------------------------------------- */
/* Names                                                                     */
/* ------------------------------------------------------------------------- */

/* "IRP_MJ_CREATE", "IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION", or NULL. */
const char *fltsim_major_name(UCHAR major);
/* The name of a minor function code of major ("IRP_MN_QUERY_DIRECTORY" for
 * IRP_MJ_DIRECTORY_CONTROL/0x01, "IRP_MN_NORMAL" for IRP_MJ_READ/0), or NULL
 * when fltsim knows no name for it (fltsim/irp_mj_list.h lists them). */
const char *fltsim_minor_name(UCHAR major, UCHAR minor);
/* "FLT_PREOP_SUCCESS_WITH_CALLBACK" ... or NULL for a value outside the enum. */
const char *fltsim_preop_status_name(FLT_PREOP_CALLBACK_STATUS status);
const char *fltsim_postop_status_name(FLT_POSTOP_CALLBACK_STATUS status);

/* ------------------------------------------------------------------------- */
/* Systems                                                                   */
/* ------------------------------------------------------------------------- */

typedef struct fltsim_system fltsim_system;

/* SPEC 1.4 / 12.11: accept invalid operation registrations (POWER,
 * DEVICE_CHANGE, SHUTDOWN post, unknown codes, duplicates, Reserved1, wrong
 * Size) with a verifier report instead of failing with STATUS_INVALID_PARAMETER. */
#define FLTSIM_SYSTEM_LENIENT_REGISTRATION 0x00000001
/* SPEC 12.5: run the deferred instance setup of a newly mounted volume on its
 * first operation of any kind instead of its first create. */
#define FLTSIM_SYSTEM_SETUP_ON_FIRST_IO 0x00000002

/* Who runs work items, asynchronous completions and spawned threads
 * (DESIGN decision 5). */
enum fltsim_executor_kind {
    /* Real threads: work items on libuv's thread pool, completions (DPCs) on
     * an executor loop thread, spawned requestors as OS threads. */
    FLTSIM_EXECUTOR_CONCURRENT = 0,
    /* Everything on the thread that creates the system, one simulated thread
     * at a time (coroutines); the next ready one is chosen by a PRNG seeded
     * with `seed`, so a seed replays the same interleaving and trace. Time is
     * virtual. A deadlock (every simulated thread blocked) aborts with a
     * description instead of hanging. */
    FLTSIM_EXECUTOR_DETERMINISTIC = 1
};

/* The Windows a system simulates: what RtlGetVersion reports and what
 * RtlIsNtDdiVersionAvailable and RtlIsServicePackVersionInstalled compare
 * with. All zero means the default, Windows 11 version 24H2: 10.0.26100,
 * a workstation, no service pack (NTDDI_WIN11_GE). Otherwise major.minor must
 * be a Windows NT version (5.0, 5.1, 5.2, 6.0, 6.1, 6.2, 6.3 or 10.0; Windows
 * 11 and Server 2016 and later are 10.0 with their build), a 10.0 build at
 * least 10240 and without a service pack. On 10.0 the build decides which
 * NTDDI_WIN10_* / NTDDI_WIN11_* sub-versions are available (released builds:
 * 10240 TH1, 10586 TH2, 14393 RS1, 15063 RS2, 16299 RS3, 17134 RS4, 17763 RS5,
 * 18362 19H1, 19041 VB, 20348 FE, 22000 CO, 22621 NI, 26100 GE; a build in
 * between counts as the release before it). */
struct fltsim_windows_version {
    ULONG major;
    ULONG minor;
    ULONG build;
    USHORT service_pack_major; /* at most 255 */
    USHORT service_pack_minor;
    UCHAR product_type; /* VER_NT_WORKSTATION (also 0), VER_NT_DOMAIN_CONTROLLER, VER_NT_SERVER */
};

/* Checks a version for fltsim_system_options.windows (all zero is valid).
 * STATUS_INVALID_PARAMETER with fltsim_last_error() saying what is wrong. */
NTSTATUS fltsim_windows_version_check(const struct fltsim_windows_version *version);

struct fltsim_system_options {
    ULONG flags;                      /* FLTSIM_SYSTEM_* */
    enum fltsim_executor_kind executor;
    ULONG64 seed;                     /* deterministic executor only */
    struct fltsim_windows_version windows; /* all zero: Windows 11 24H2 */
    /* The simulated machine's time zone, as Windows keeps it: a bias in
     * minutes with UTC = local time + bias (UTC+02:00 is -120), from -840
     * to 720. 0, the default, is UTC. ExSystemTimeToLocalTime and
     * ExLocalTimeToSystemTime use it; there is no daylight saving time. */
    LONG time_zone_bias;
};

/* Creates an empty system: no volumes, no filters. options may be NULL.
 * STATUS_INVALID_PARAMETER (unknown flag, a version fltsim_windows_version_check
 * refuses, time zone bias out of range, out NULL), STATUS_INSUFFICIENT_RESOURCES. */
NTSTATUS fltsim_system_create(const struct fltsim_system_options *options, fltsim_system **out);

/* Shuts a system down the way Windows would: the I/O manager closes every
 * handle still open (cleanup and close go through the filters), each loaded
 * driver gets a mandatory unload, each volume is dismounted. Then frees it.
 * Must not be called from a callback. */
void fltsim_system_destroy(fltsim_system *sys);

/* The executor the system was created with. */
enum fltsim_executor_kind fltsim_system_executor(fltsim_system *sys);

/* The Windows version the system simulates, with the default filled in
 * (product_type is never 0). */
void fltsim_system_windows_version(fltsim_system *sys, struct fltsim_windows_version *out);

/* Waits until nothing is left to run: no work item or completion queued or
 * running, no spawned thread running, no operation in flight. Under the
 * deterministic executor this is where queued work runs when the caller has
 * nothing to wait for. STATUS_TIMEOUT after timeout_ms (0 = no limit). */
NTSTATUS fltsim_system_wait_idle(fltsim_system *sys, ULONG timeout_ms);

/* Runs fn(ctx) on a system worker thread at PASSIVE_LEVEL (the executor's
 * work queue), as the I/O manager's completion APCs and other system work
 * would. Counted by fltsim_system_wait_idle. STATUS_INVALID_PARAMETER,
 * STATUS_INSUFFICIENT_RESOURCES. */
NTSTATUS fltsim_system_post_work(fltsim_system *sys, void (*fn)(void *ctx), void *ctx);

/* A simulated requestor thread: an OS thread (concurrent executor) or a
 * coroutine (deterministic executor) that runs fn(ctx) as process_id /
 * thread_id and may issue I/O and wait like any thread. fltsim_thread_join
 * waits for it to return and frees it. */
typedef struct fltsim_thread fltsim_thread;
NTSTATUS fltsim_thread_spawn(fltsim_system *sys, ULONG process_id, ULONG thread_id,
                             void (*fn)(void *ctx), void *ctx, fltsim_thread **out);
void fltsim_thread_join(fltsim_thread *thread);

/* The I/O manager (sim) keeps its per-system state here. shutdown_cb runs first
 * in fltsim_system_destroy, while filters are still loaded. Returns
 * STATUS_OBJECT_NAME_COLLISION when a state is already attached. */
NTSTATUS fltsim_system_set_io_manager(fltsim_system *sys, void *state,
                                      void (*shutdown_cb)(void *state));
void *fltsim_system_io_manager(fltsim_system *sys);

/* What the I/O manager (sim) does for kernel code in the model: FltCreateFile
 * and the Zw file routines open through it, FltClose and ZwClose close its
 * handles, ObReferenceObjectByHandle, ObOpenObjectByPointer and
 * ObReference/DereferenceObject work on its file objects. One table for the process, registered by the I/O manager
 * (fltsim_set_io_services) before any system exists; until then those
 * routines fail with STATUS_NOT_SUPPORTED. */
struct fltsim_kernel_create {
    PCUNICODE_STRING name; /* ObjectAttributes->ObjectName */
    HANDLE root_directory; /* ObjectAttributes->RootDirectory */
    ULONG attributes;      /* OBJ_*: OBJ_KERNEL_HANDLE makes a kernel handle */
    ACCESS_MASK desired_access;
    ULONG file_attributes;
    ULONG share_access;
    ULONG disposition;
    ULONG create_options;
    LONGLONG allocation_size;
    ULONG io_flags; /* IO_FORCE_ACCESS_CHECK, IO_NO_PARAMETER_CHECKING,
                       IO_IGNORE_SHARE_ACCESS_CHECK, IO_OPEN_TARGET_DIRECTORY */
    /* Generated I/O (FltCreateFile with an instance): the volume the name
     * must be on, and the altitude only instances below see this create and
     * every later request on its file object from; NULL: the whole stack. */
    PFLT_VOLUME volume;
    PCWSTR below_altitude;
    ULONG callback_flags; /* FLTFL_CALLBACK_DATA_GENERATED_IO for FltCreateFile */
    const void *owner;    /* the filter that opened it (FltCreateFile), else NULL */
    PECP_LIST ecp_list;   /* FltCreateFileEx2's DriverContext->ExtraCreateParameter: the
                             caller's, sent with the create, never freed by the I/O manager */
};

struct fltsim_request;
struct fltsim_io_services {
    /* Opens for a kernel-mode caller of sys. *handle: a kernel handle (high
     * bit set, the System process's table) with OBJ_KERNEL_HANDLE, else one
     * of the calling process; *file_object (when file_object is not NULL) the
     * file object, referenced for the caller. */
    NTSTATUS(*create)
    (fltsim_system *sys, const struct fltsim_kernel_create *params, HANDLE *handle,
     PFILE_OBJECT *file_object, IO_STATUS_BLOCK *iosb);
    /* Closes a kernel handle, or one of the calling process (kernel mode):
     * STATUS_INVALID_HANDLE for anything else. */
    NTSTATUS (*close)(fltsim_system *sys, HANDLE handle);
    /* The file object behind a handle as above, referenced; *granted its
     * handle's access. STATUS_INVALID_HANDLE, or STATUS_ACCESS_DENIED when
     * mode is UserMode and the handle lacks desired_access. */
    NTSTATUS(*reference_handle)
    (fltsim_system *sys, HANDLE handle, ACCESS_MASK desired_access, KPROCESSOR_MODE mode,
     PFILE_OBJECT *file_object, ACCESS_MASK *granted);
    /* A new handle to a file object that still has one (ObOpenObjectByPointer):
     * with access (generic rights mapped), a kernel handle when
     * kernel_handle, else one of the calling process; the handle holds a
     * reference. STATUS_FILE_CLOSED when every handle to it is closed (its
     * cleanup was sent). */
    NTSTATUS(*open_handle)
    (fltsim_system *sys, PFILE_OBJECT file_object, ACCESS_MASK access, BOOLEAN kernel_handle,
     HANDLE *handle);
    /* Whether object is a file object of the I/O manager (opened by it). */
    BOOLEAN (*is_file_object)(PVOID object);
    /* One reference more or less on such a file object (the last one gone
     * sends IRP_MJ_CLOSE); the count after it. */
    LONG_PTR (*reference)(PFILE_OBJECT file_object);
    LONG_PTR (*dereference)(PFILE_OBJECT file_object);
    /* Whether the file object was opened with IO_IGNORE_SHARE_ACCESS_CHECK. */
    BOOLEAN (*ignores_sharing)(PFILE_OBJECT file_object);
    /* Sends req on a referenced file object where its requests go (its
     * volume's stack, below the altitude it was opened below, or its
     * device), kernel mode, and waits: the final status (req->io_status). */
    NTSTATUS (*file_request)(PFILE_OBJECT file_object, struct fltsim_request *req);
    /* Handles still open that were opened with this owner (the leak check
     * when a filter unregisters, V23). */
    ULONG (*open_handles_of)(fltsim_system *sys, const void *owner);
};
void fltsim_set_io_services(const struct fltsim_io_services *services);
const struct fltsim_io_services *fltsim_io_services(void);

/* ------------------------------------------------------------------------- */
/* Traces                                                                    */
/* ------------------------------------------------------------------------- */

enum fltsim_event_type {
    FLTSIM_EV_IO_START,          /* an operation enters the filter stack */
    FLTSIM_EV_IO_COMPLETE,       /* ... and leaves it; status, information */
    FLTSIM_EV_PRE,               /* a pre-operation callback is called */
    FLTSIM_EV_PRE_RETURN,        /* status = FLT_PREOP_* returned */
    FLTSIM_EV_POST,              /* a post-operation callback is called; flags = post flags */
    FLTSIM_EV_POST_RETURN,       /* status = FLT_POSTOP_* returned */
    FLTSIM_EV_FS,                /* the file system is called */
    FLTSIM_EV_FS_RETURN,         /* ... and answered; status, information */
    FLTSIM_EV_INSTANCE_SETUP,    /* flags = setup flags; status = result */
    FLTSIM_EV_QUERY_TEARDOWN,    /* status = result */
    FLTSIM_EV_TEARDOWN_START,    /* flags = reason */
    FLTSIM_EV_TEARDOWN_COMPLETE, /* flags = reason */
    FLTSIM_EV_FILTER_UNLOAD,     /* flags = unload flags; status = result */
    FLTSIM_EV_REPORT,            /* a verifier report; detail = message */
    FLTSIM_EV_PEND,              /* the callback just returned pended the operation;
                                    flags = 0 in pre (FLT_PREOP_PENDING), 1 in post
                                    (FLT_POSTOP_MORE_PROCESSING_REQUIRED) */
    FLTSIM_EV_RESUME,            /* FltCompletePendedPre/PostOperation continues it;
                                    flags as PEND; status = CallbackStatus (pre) or
                                    IoStatus.Status (post) */
    FLTSIM_EV_WORK_QUEUED,       /* a work item was queued (or refused: status);
                                    detail = "deferred I/O", "generic" or
                                    "completion when safe"; op_id = its operation */
    FLTSIM_EV_WORK_RUN,          /* ... and its routine starts on a worker thread */
    FLTSIM_EV_STATUS_CALLBACK,   /* the operation status callback a pre of this instance
                                    requested (FltRequestOperationStatusCallback) is
                                    called; status = what IoCallDriver returned (the
                                    file system's status, STATUS_PENDING for an IRP it
                                    holds or completes later); depth = the instance's */
    FLTSIM_EV_CONTEXT_SET,       /* FltSet*Context; detail = the type ("stream");
                                    status = the result; instance for all but volume */
    FLTSIM_EV_CONTEXT_CLEANUP,   /* a context's last reference went: its cleanup
                                    callback runs now; detail = the type */
    FLTSIM_EV_NAME_QUERY,        /* FltGetFileNameInformation(Unsafe) returned; detail =
                                    format and method ("normalized default"); status =
                                    the result; name = the Name returned; flags = 1 when
                                    it came from the name cache, 0 from the file system;
                                    op_id etc. = the operation it was asked in, if any */
    /* Communication ports (SPEC 8). Each names the server port (port), the
     * filter owning it (NULL once it unloaded) and the program's process
     * (process_id; thread_id is the calling thread's). */
    FLTSIM_EV_PORT_CONNECT,    /* FilterConnectCommunicationPort; status = accepted
                                  (STATUS_SUCCESS) or why refused; in_size = the
                                  connection context's size */
    FLTSIM_EV_PORT_DISCONNECT, /* a connection ended; flags = who ended it: 0 the
                                  program (CloseHandle), 1 the filter
                                  (FltCloseClientPort), 2 the filter's unload */
    FLTSIM_EV_PORT_MESSAGE,    /* FilterSendMessage to the filter's MessageNotify
                                  returned; in_size, out_size = the program's buffers;
                                  information = ReturnOutputBufferLength; status */
    FLTSIM_EV_PORT_SEND,       /* FltSendMessage returned; message_id (0: never
                                  queued); in_size = SenderBufferLength; out_size =
                                  the reply room; information = the reply's bytes
                                  copied; flags = 1 a reply was wanted | 2 a timeout
                                  was given; status (STATUS_TIMEOUT: none in time) */
    FLTSIM_EV_PORT_GET,        /* FilterGetMessage got a message: message_id, in_size
                                  = its bytes, out_size = the reply room it offers */
    FLTSIM_EV_PORT_REPLY,      /* FilterReplyMessage: message_id; in_size = the reply's
                                  bytes; status (STATUS_FLT_NO_WAITER_FOR_REPLY: no
                                  sender waits for it) */
    /* Processes and handles to processes and threads (issue 20); process_id
     * and thread_id are the calling thread's, object_process_id (and
     * object_thread_id) the process (thread) the event is about. */
    FLTSIM_EV_PROCESS_CREATE,   /* a process was created (after its notify routines);
                                   object_thread_id = its first thread; parent_process_id;
                                   detail = its image path; status = STATUS_SUCCESS or
                                   the status a routine denied it with */
    FLTSIM_EV_PROCESS_EXIT,     /* a process exited (after its notify routines);
                                   detail = its image path; status = its exit status */
    FLTSIM_EV_HANDLE_OPEN,      /* a handle to a process (object_thread_id 0) or a
                                   thread was made (after the object callbacks) in
                                   table_process_id's table (4: a kernel handle);
                                   desired_access, granted_access; status */
    FLTSIM_EV_HANDLE_DUPLICATE, /* the same for a duplicate (ZwDuplicateObject) into
                                   table_process_id's table */
    /* Object callbacks (SPEC 9), one event per callback called, on the
     * opening thread (process_id, thread_id). filter = the registering
     * driver; altitude = the registration's; ob_operation =
     * OB_OPERATION_HANDLE_CREATE or _DUPLICATE; object_type ("Process",
     * "Thread"); object_process_id = the process the object is or belongs
     * to; flags = 1 for a kernel handle. */
    FLTSIM_EV_OB_PRE, /* a pre returned: desired_access = the access it was
                         given, granted_access = what it left (bits it added
                         are not) */
    FLTSIM_EV_OB_POST /* a post is called: status = ReturnStatus,
                         desired_access = OriginalDesiredAccess,
                         granted_access = GrantedAccess */
};

enum fltsim_op_kind { FLTSIM_OP_IRP = 0, FLTSIM_OP_FAST_IO = 1, FLTSIM_OP_FS_FILTER = 2 };

/* One trace event. Strings are UTF-8 and valid only during the callback. */
struct fltsim_event {
    enum fltsim_event_type type;
    ULONG64 op_id; /* operation sequence number, 0 for non-I/O events */
    enum fltsim_op_kind kind;
    UCHAR major;
    UCHAR minor;
    ULONG depth;          /* position in the node list, 0 = top */
    const char *filter;   /* filter name, or NULL */
    const char *instance; /* instance name, or NULL */
    const char *altitude; /* instance altitude, or NULL */
    const char *volume;   /* volume device name, or NULL */
    LONG status;
    ULONG_PTR information;
    ULONG flags;
    ULONG process_id;
    ULONG thread_id;
    KIRQL irql;
    const char *detail; /* file name or message, or NULL */
    const char *rule;   /* REPORT events: "V2 (SPEC 3.2)"; otherwise NULL */
    const char *name;   /* NAME_QUERY events that succeeded: the name; otherwise NULL */
    const char *port;   /* PORT_* events: the server port's name; otherwise NULL */
    ULONG64 message_id; /* PORT_SEND, PORT_GET, PORT_REPLY: the MessageId */
    ULONG in_size;      /* PORT_* events: see the type */
    ULONG out_size;     /* PORT_* events: see the type */
    /* PROCESS_*, HANDLE_* and OB_* events (see the types); 0 otherwise */
    ULONG object_process_id, object_thread_id;
    ULONG parent_process_id;              /* PROCESS_CREATE */
    ULONG table_process_id;               /* HANDLE_* */
    ULONG desired_access, granted_access; /* HANDLE_*, OB_* */
    ULONG ob_operation;      /* OB_* events: OB_OPERATION_HANDLE_CREATE or _DUPLICATE */
    const char *object_type; /* OB_* events: "Process", "Thread"; otherwise NULL */
};

typedef void (*fltsim_trace_cb)(void *ctx, const struct fltsim_event *event);

/* Sends every event of the system to cb (NULL turns tracing off). cb may be
 * called from any thread that runs I/O, never concurrently for one system.
 * Set it before I/O starts. */
void fltsim_system_set_trace(fltsim_system *sys, fltsim_trace_cb cb, void *ctx);

/* ------------------------------------------------------------------------- */
/* Verifier reports (SPEC 10)                                                */
/* ------------------------------------------------------------------------- */

struct fltsim_report {
    char rule[8];       /* "V1" ... "V36", "ASSERT" (failed NT_ASSERT), "KE" (Ke object
                         * misuse), "SEH" (an exception no __try handled in a callback, or
                         * a filter continuing a noncontinuable one), "MM" (misuse of an MDL
                         * or of an operation's buffers), "IO" (misuse of an IRP or a
                         * device object: completing twice, STATUS_PENDING unmarked ...)
                         * or "SIM" (something fltsim does not model) */
    char spec[16];      /* SPEC section, e.g. "3.2" */
    char filter[128];   /* filter name, "" when unknown */
    char altitude[128]; /* instance altitude, "" when none */
    UCHAR major;        /* operation, 0xFF with op_kind -1 when none */
    int op_kind;        /* enum fltsim_op_kind, or -1 */
    ULONG thread_id;
    char message[320]; /* what happened and what the rule says */
    UCHAR minor;        /* the operation's minor function, 0 when none */
    ULONG process_id;   /* simulated process of the reporting thread */
    char instance[128]; /* instance name, "" when none */
    ULONG64 op_id;      /* the operation's id in the trace, 0 when none */
};

/* Number of reports recorded since the system was created or last cleared. */
ULONG fltsim_system_report_count(fltsim_system *sys);
/* Copies report index into out. STATUS_INVALID_PARAMETER when out of range. */
NTSTATUS fltsim_system_report_get(fltsim_system *sys, ULONG index, struct fltsim_report *out);
/* Number of reports whose rule equals rule ("V2"). */
ULONG fltsim_system_report_count_rule(fltsim_system *sys, const char *rule);
/* Forgets the recorded reports and the suppressed count. */
void fltsim_system_reports_clear(fltsim_system *sys);
/* "V7 (SPEC 3.2) in filter 'F' (instance 'F Instance', altitude 370000),
 * IRP_MJ_READ/IRP_MN_NORMAL IRP, thread 3 (process 4): <message>" into buf
 * (truncated to size, always terminated). Returns buf. */
char *fltsim_report_format(const struct fltsim_report *r, char *buf, size_t size);

/* Verifier modes (issue 5). In both, a report never stops the simulation:
 * fltsim goes on as Windows does where Windows goes on. STRICT (the default):
 * every report is a failure, fltsim_system_verifier_failed says so. REPORT:
 * reports are recorded and traced but are not failures. (The scenario runner's
 * own enum fltsim_verifier_mode maps onto this.) */
enum fltsim_verifier_policy {
    FLTSIM_VERIFIER_MODE_STRICT = 0,
    FLTSIM_VERIFIER_MODE_REPORT = 1
};
/* STATUS_INVALID_PARAMETER for a value outside the enum. */
NTSTATUS fltsim_system_set_verifier_mode(fltsim_system *sys, enum fltsim_verifier_policy mode);
enum fltsim_verifier_policy fltsim_system_verifier_mode(fltsim_system *sys);
/* true in strict mode when a report has been recorded (disabled rules do not
 * count); always false in report mode. */
bool fltsim_system_verifier_failed(fltsim_system *sys);

/* Disables one rule for known, accepted findings: its reports are neither
 * recorded nor traced, only counted (fltsim_system_report_suppressed_count).
 * rule is "V1" ... "V36", "ASSERT", "IO", "KE", "MM", "RTL", "SEH" or "SIM"
 * (case-sensitive);
 * STATUS_INVALID_PARAMETER (fltsim_last_error names the problem) for anything
 * else. Disabling a disabled rule, or enabling an enabled one, succeeds. */
NTSTATUS fltsim_system_verifier_disable(fltsim_system *sys, const char *rule);
NTSTATUS fltsim_system_verifier_enable(fltsim_system *sys, const char *rule);
bool fltsim_system_verifier_is_disabled(fltsim_system *sys, const char *rule);
/* Reports of disabled rules since creation or fltsim_system_reports_clear. */
ULONG fltsim_system_report_suppressed_count(fltsim_system *sys);
/* Whether rule names a verifier rule fltsim knows ("V1" ... "V36", "ASSERT",
 * "KE", "SEH", "SIM"). */
bool fltsim_verifier_rule_valid(const char *rule);

/* ------------------------------------------------------------------------- */
/* Drivers and filters (DESIGN decision 7)                                   */
/* ------------------------------------------------------------------------- */

/* Registry Instances\<name>\Flags bits. */
#define FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC 0x00000001 /* no automatic attachment */
#define FLTSIM_INSTANCE_SUPPRESS_MANUAL 0x00000002    /* no manual attachment */

/* One instance definition: Services\<service>\Instances\<name>. */
struct fltsim_instance_def {
    PCWSTR name;
    PCWSTR altitude; /* decimal string, SPEC 2.1 */
    ULONG flags;     /* FLTSIM_INSTANCE_* */
};

/* The registry stand-in for one filter: its service key and instance table.
 * Copied by fltsim_driver_load; the caller's memory is not kept. */
struct fltsim_filter_def {
    PCWSTR service_name;     /* the filter's name, e.g. L"PassThrough" */
    PCWSTR default_instance; /* Instances\DefaultInstance; NULL = none */
    const struct fltsim_instance_def *instances;
    ULONG instance_count;
};

typedef struct fltsim_driver fltsim_driver;

/* Loads a driver: builds its DRIVER_OBJECT (\FileSystem\<service>) and registry
 * path, and calls entry at PASSIVE_LEVEL on this thread. Returns entry's status;
 * when it fails the driver is unloaded without FilterUnloadCallback (SPEC 1.4)
 * and *out is NULL. STATUS_INVALID_PARAMETER for a bad definition (see
 * fltsim_last_error), STATUS_OBJECT_NAME_COLLISION for a service name already
 * loaded. */
NTSTATUS fltsim_driver_load(fltsim_system *sys, const struct fltsim_filter_def *def,
                            PDRIVER_INITIALIZE entry, fltsim_driver **out);

/* fltsim_driver_load's flags (fltsim_driver_load_ex). */
/* The image was linked without /INTEGRITYCHECK: its ObRegisterCallbacks fails
 * with STATUS_ACCESS_DENIED, as on Windows. Without the flag the image counts
 * as linked with it, as every driver that registers object callbacks is. */
#define FLTSIM_LOAD_NO_INTEGRITY_CHECK 0x00000001

/* fltsim_driver_load with load flags (FLTSIM_LOAD_*); STATUS_INVALID_PARAMETER
 * for an unknown flag. */
NTSTATUS fltsim_driver_load_ex(fltsim_system *sys, const struct fltsim_filter_def *def,
                               PDRIVER_INITIALIZE entry, ULONG flags, fltsim_driver **out);

#define FLTSIM_UNLOAD_MANDATORY 0x00000001 /* service stop, not fltmc unload */

/* Unloads a driver (SPEC 1.4, 2.7): FilterUnloadCallback with
 * FLTFL_FILTER_UNLOAD_MANDATORY when flags says so. A non-mandatory unload is
 * vetoed by a warning or error status, which is returned and the driver stays.
 * STATUS_INVALID_DEVICE_REQUEST ([SIM]) when the filter has no unload callback,
 * or the request is mandatory and the filter registered
 * FLTFL_REGISTRATION_DO_NOT_SUPPORT_SERVICE_STOP. On success drv is freed. */
NTSTATUS fltsim_driver_unload(fltsim_driver *drv, ULONG flags);

/* The filter the driver registered, or NULL. */
PFLT_FILTER fltsim_driver_filter(fltsim_driver *drv);
/* Runs fn(ctx) on the calling thread as the code of drv's filter, the way an
 * entry point of the driver itself would run (a hook a test or a scenario's
 * complete_pended step calls into the filter): pool blocks, object references
 * and verifier reports are charged to that filter. STATUS_INVALID_PARAMETER
 * for a bad driver or fn; when fn raises an exception it does not handle, the
 * exception is reported (SEH) and its code returned (STATUS_UNHANDLED_EXCEPTION
 * for a code that is not an error or warning). */
NTSTATUS fltsim_driver_call(fltsim_driver *drv, void (*fn)(void *ctx), void *ctx);
/* Finds a loaded driver by service name (case-insensitive), or NULL. */
fltsim_driver *fltsim_driver_find(fltsim_system *sys, PCWSTR service_name);

/* ------------------------------------------------------------------------- */
/* Registry (DESIGN decision 7)                                              */
/* ------------------------------------------------------------------------- */

/* A per-system fake registry answers ZwOpenKey / ZwQueryValueKey / ZwClose
 * from filter code. Keys are addressed by full path, e.g.
 * FLTSIM_REGISTRY_SERVICES L"\\AntiVirus\\Parameters"; the RegistryPath a
 * DriverEntry receives is FLTSIM_REGISTRY_SERVICES L"\\<service name>".
 * fltsim_driver_load creates that service key and writes its instance table
 * under it (Instances\DefaultInstance, Instances\<name>\Altitude and Flags).
 * Key and value names are case-insensitive. Every function here may be
 * called from any thread, also while filters read; each is atomic. */
#define FLTSIM_REGISTRY_SERVICES L"\\Registry\\Machine\\System\\CurrentControlSet\\Services"

/* Sets a value, creating the key and its missing parents. key_path must start
 * with "\Registry\" and have no empty component or one over 255 characters;
 * value_name NULL or L"" is the key's default value. The data are copied as
 * given (as on Windows, nothing checks them against type: REG_SZ data should
 * include the terminating NUL, and a REG_DWORD of 3 bytes is allowed, to test
 * filters that read carelessly); size at most 64 MiB, data may be NULL only
 * when size is 0. STATUS_INVALID_PARAMETER for bad arguments (see
 * fltsim_last_error), STATUS_INSUFFICIENT_RESOURCES; on failure the registry
 * is unchanged except for keys created on the way. */
NTSTATUS fltsim_registry_set_value(fltsim_system *sys, PCWSTR key_path, PCWSTR value_name,
                                   ULONG type, const void *data, ULONG size);
/* REG_DWORD of 4 bytes. */
NTSTATUS fltsim_registry_set_dword(fltsim_system *sys, PCWSTR key_path, PCWSTR value_name,
                                   ULONG value);
/* REG_SZ: value with its terminating NUL. value must not be NULL. */
NTSTATUS fltsim_registry_set_string(fltsim_system *sys, PCWSTR key_path, PCWSTR value_name,
                                    PCWSTR value);
/* Creates a key (and parents) with no values; success if it exists. */
NTSTATUS fltsim_registry_create_key(fltsim_system *sys, PCWSTR key_path);
/* Deletes one value: STATUS_OBJECT_NAME_NOT_FOUND when the key or the value
 * does not exist. */
NTSTATUS fltsim_registry_delete_value(fltsim_system *sys, PCWSTR key_path, PCWSTR value_name);
/* Deletes a key with its subkeys and values. Handles still open on them stay
 * valid and get STATUS_KEY_DELETED. STATUS_OBJECT_NAME_NOT_FOUND when missing,
 * STATUS_CANNOT_DELETE for \Registry itself. */
NTSTATUS fltsim_registry_delete_key(fltsim_system *sys, PCWSTR key_path);
/* Key handles of sys open now (ZwOpenKey without ZwClose yet). */
ULONG fltsim_registry_open_handles(fltsim_system *sys);

/* ------------------------------------------------------------------------- */
/* File systems and volumes                                                  */
/* ------------------------------------------------------------------------- */

/* The table a file system at the bottom of the stack implements (LKL and rump
 * style). The model calls it with the callback data as the filters left it:
 * Iopb->MajorFunction, MinorFunction, IrpFlags, OperationFlags, TargetFileObject
 * and Parameters describe the request. */
struct fltsim_fs_ops {
    const char *name; /* for traces, e.g. "memfs" */

    /* An IRP-based request. Fills data->IoStatus and returns its Status.
     * Required. */
    NTSTATUS (*irp_cb)(void *fs, PFLT_CALLBACK_DATA data);

    /* (An IRP may also be answered later: irp_cb returns STATUS_PENDING and the
     * file system calls fltsim_fs_complete once IoStatus is final.) */

    /* A fast-I/O request. Returns TRUE when it was handled (IoStatus filled),
     * FALSE when fast I/O is not possible and the I/O manager must send an IRP.
     * NULL means the file system has no fast I/O. */
    BOOLEAN (*fast_io_cb)(void *fs, PFLT_CALLBACK_DATA data);

    /* An FS-filter callback (acquire/release for section synchronization ...).
     * Fills IoStatus and returns its Status. NULL: always STATUS_SUCCESS. */
    NTSTATUS (*fs_filter_cb)(void *fs, PFLT_CALLBACK_DATA data);

    /* Called once when the volume is dismounted and freed, if not NULL. */
    void (*release_cb)(void *fs);
};

struct fltsim_volume_params {
    PCWSTR device_name; /* e.g. L"\\Device\\HarddiskVolume1"; required */
    WCHAR drive_letter; /* L'C', or 0 for none */
    const struct fltsim_fs_ops *ops;
    void *fs;                    /* passed to every op */
    FLT_FILESYSTEM_TYPE fs_type; /* reported to InstanceSetup, e.g. FLT_FSTYPE_NTFS */
    DEVICE_TYPE device_type;     /* 0 = FILE_DEVICE_DISK_FILE_SYSTEM */
    ULONG completion;            /* FLTSIM_COMPLETE_* */
    /* The disk under the file system (FltGetDiskDeviceObject,
     * FltGetVolumeProperties, FltIsVolumeWritable): its device object's
     * Characteristics (FILE_READ_ONLY_DEVICE, FILE_REMOVABLE_MEDIA ...), its
     * bytes per sector (0 = 512), FLTSIM_VOLUME_* flags. A network file
     * system (device_type FILE_DEVICE_NETWORK_FILE_SYSTEM) has no disk. */
    ULONG characteristics;
    USHORT sector_size;
    ULONG flags;
};

/* fltsim_volume_params.flags: the volume is a snapshot (FltIsVolumeSnapshot). */
#define FLTSIM_VOLUME_SNAPSHOT 0x00000001

/* How IRPs the file system answers complete (DESIGN decision 4). */
#define FLTSIM_COMPLETE_INLINE 0 /* posts run on the thread that sent the IRP */
#define FLTSIM_COMPLETE_ASYNC 1  /* posts run on the completion context at DISPATCH_LEVEL */

/* Completes an IRP the file system answered with STATUS_PENDING, after
 * filling data->IoStatus. Any thread; the posts then run on the completion
 * context at DISPATCH_LEVEL. */
void fltsim_fs_complete(PFLT_CALLBACK_DATA data);

/* Mounts a volume. Started filters are offered it (instance setup with
 * FLTFL_INSTANCE_SETUP_NEWLY_MOUNTED_VOLUME) on its first create, or first
 * operation with FLTSIM_SYSTEM_SETUP_ON_FIRST_IO (SPEC 12.5).
 * STATUS_OBJECT_NAME_COLLISION when the name or drive letter is taken;
 * STATUS_INVALID_PARAMETER for missing fields. */
NTSTATUS fltsim_volume_mount(fltsim_system *sys, const struct fltsim_volume_params *params,
                             PFLT_VOLUME *out);

/* Dismounts a volume: tears down its instances with
 * FLTFL_INSTANCE_TEARDOWN_VOLUME_DISMOUNT and releases the file system.
 * STATUS_DEVICE_BUSY (nothing changes) while file objects are open on it. */
NTSTATUS fltsim_volume_dismount(PFLT_VOLUME volume);

/* Finds a mounted volume by device name (L"\\Device\\HarddiskVolume1") or drive
 * (L"C:"), case-insensitive. No reference is taken. NULL when none. */
PFLT_VOLUME fltsim_volume_find(fltsim_system *sys, PCWSTR name);

fltsim_system *fltsim_volume_system(PFLT_VOLUME volume);
void *fltsim_volume_fs(PFLT_VOLUME volume);
/* The volume's device name, as a counted string owned by the volume. */
PCUNICODE_STRING fltsim_volume_device_name(PFLT_VOLUME volume);
WCHAR fltsim_volume_drive_letter(PFLT_VOLUME volume);

/* The I/O manager opens a file object on a volume (sets Vpb and DeviceObject)
 * and closes it when its last reference goes; the count of open file objects
 * keeps the volume from being dismounted. */
void fltsim_volume_file_object_opened(PFLT_VOLUME volume, PFILE_OBJECT file_object);
void fltsim_volume_file_object_closed(PFLT_VOLUME volume, PFILE_OBJECT file_object);
/* A file system says which file a stream's control block
 * (FileObject->FsContext) belongs to, as Windows file systems point each
 * stream's FCB header at per-file storage (FileContextSupportPointer) shared
 * by the streams of one file: file contexts set through any stream of the
 * file are one, kept on file_key (any address unique to the file while it
 * has a stream open). Called when the stream's first file object opens; the
 * declaration ends at fltsim_stream_teardown. A stream never declared is a
 * file of its own (its file_key is fs_context). */
void fltsim_stream_file(void *fs_context, void *file_key);
/* A file system frees a stream's control block (FileObject->FsContext), as
 * Windows file systems call FsRtlTeardownPerStreamContexts: the stream
 * contexts set on it are deleted (their cleanup runs at the last reference).
 * Called once the last file object on the stream is closed. */
void fltsim_stream_teardown(void *fs_context);
/* The last stream of a file is torn down, as Windows file systems call
 * FsRtlTeardownPerFileContexts: the file contexts set on file_key are
 * deleted. Called after the fltsim_stream_teardown of that stream. */
void fltsim_file_teardown(void *file_key);
/* The volume a file object was opened on, or NULL. */
PFLT_VOLUME fltsim_volume_of_file_object(PFILE_OBJECT file_object);

/* ------------------------------------------------------------------------- */
/* Requests: how the I/O manager hands an operation to the filter stack      */
/* ------------------------------------------------------------------------- */

struct fltsim_request {
    /* in */
    enum fltsim_op_kind kind;
    UCHAR major;
    UCHAR minor;
    UCHAR operation_flags; /* SL_* */
    ULONG irp_flags;       /* IRP_*; IRP-based requests only */
    ULONG callback_flags;  /* extra FLTFL_CALLBACK_DATA_* bits, e.g. SYSTEM_BUFFER */
    PFILE_OBJECT file_object;
    FLT_PARAMETERS parameters;
    KPROCESSOR_MODE requestor_mode;
    ULONG request_flags; /* FLTSIM_REQUEST_* */
    /* IRP_MJ_CREATE: its extra create parameters (fltsim_ecp_list_create),
     * or NULL; a filter may set one (FltSetEcpListIntoCallbackData). Once
     * the request completed the caller frees whatever list is here then
     * (fltsim_ecp_list_free), as the I/O manager frees the IRP's. */
    PECP_LIST ecp_list;
    /* Asynchronous requests: when complete_cb is set and the operation pends,
     * fltsim_request_dispatch returns STATUS_PENDING at once and complete_cb
     * runs when it completes (on whichever thread completes it); req must
     * stay valid until then. Without complete_cb the caller waits. */
    void (*complete_cb)(struct fltsim_request *req, void *ctx);
    void *complete_ctx;
    /* out */
    IO_STATUS_BLOCK io_status;
    ULONG64 op_id;
    bool fs_answered; /* the file system completed it (no pre-operation callback did) */
    /* With FLTSIM_REQUEST_TAG_DATA: the callback data's TagData when the
     * operation completed (a create's STATUS_REPARSE: the reparse data the
     * file system returned, or what a post-create put there), now the
     * caller's to free with ExFreePool; NULL when none. Without the flag the
     * model frees it with the operation. Volume requests only
     * (fltsim_request_dispatch); a device's leaves it NULL. */
    PFLT_TAG_DATA_BUFFER tag_data;
};

/* One extra create parameter a requestor attaches to a create: the ECP's
 * type and the bytes of its context (copied). */
struct fltsim_ecp {
    GUID type;
    const void *data;
    ULONG size;
};

/* Builds the ECP list of a create (fltsim_request.ecp_list) from count ECPs;
 * mode is the create's requestor mode (FltIsEcpFromUserMode answers TRUE for
 * UserMode). STATUS_INVALID_PARAMETER (last error set) for a GUID given twice
 * or data NULL with a size; STATUS_INSUFFICIENT_RESOURCES. Any thread. */
NTSTATUS fltsim_ecp_list_create(const struct fltsim_ecp *ecps, ULONG count, KPROCESSOR_MODE mode,
                                PECP_LIST *out);
/* Frees a list fltsim_ecp_list_create made and the ECPs still in it (their
 * cleanup callbacks run). NULL is ignored. */
void fltsim_ecp_list_free(PECP_LIST list);

/* The IRP completes asynchronously whatever the volume's completion mode. */
#define FLTSIM_REQUEST_ASYNC_FS 0x00000001
/* The caller takes the callback data's TagData (req->tag_data). */
#define FLTSIM_REQUEST_TAG_DATA 0x00000002

/* Runs one operation through the volume's filter stack and file system and
 * returns its final status (also in req->io_status), or STATUS_PENDING for
 * an asynchronous request that has not completed yet. For fast I/O the status
 * STATUS_FLT_DISALLOW_FAST_IO means "send an IRP instead": a filter returned
 * FLT_PREOP_DISALLOW_FASTIO or the file system declined (SPEC 3.2).
 * STATUS_VOLUME_DISMOUNTED once the volume is dismounting. Runs on the calling
 * thread, which is the requestor. */
NTSTATUS fltsim_request_dispatch(PFLT_VOLUME volume, struct fltsim_request *req);
/* The same for I/O a filter generated: only instances at altitudes below
 * `altitude` (as an instance has it, e.g. L"370030") see it; NULL: all.
 * STATUS_INVALID_PARAMETER for an altitude that does not parse. */
NTSTATUS fltsim_request_dispatch_below(PFLT_VOLUME volume, struct fltsim_request *req,
                                       PCWSTR altitude);

/* Cancels the IRP-based operation op_id (a request's op_id, read atomically
 * by a thread other than its issuer) while it is in flight on volume, as
 * IoCancelIrp does: its Cancel bit is set (FltIsIoCanceled) and the cancel
 * routine a filter set on it (FltSetCancelCompletion, or its cancel-safe
 * queue's) is called once, on the calling thread. STATUS_SUCCESS when the
 * operation was in flight (whether or not it had a routine to call; a second
 * cancel calls nothing), STATUS_NOT_FOUND when it is not (completed, never
 * dispatched), STATUS_INVALID_PARAMETER for op_id 0 or a fast I/O or
 * FS-filter operation (those cannot be cancelled). Any thread. */
NTSTATUS fltsim_request_cancel(PFLT_VOLUME volume, ULONG64 op_id);

/* ------------------------------------------------------------------------- */
/* Device objects drivers create (IoCreateDevice): the I/O manager's side    */
/* ------------------------------------------------------------------------- */

/* Each system has an object namespace: the directories \Device, \Driver,
 * \FileSystem, \FileSystem\Filters, \GLOBAL?? (and a few empty ones), the
 * mounted volumes' device names and drive letters (\GLOBAL??\C:), the driver
 * objects (\FileSystem\<service>), and the device objects and symbolic links
 * drivers create. \?? is \GLOBAL??, \DosDevices is \??, and
 * \GLOBAL??\GLOBALROOT leads back to the root (\\.\GLOBALROOT\... in Win32).
 * Names are case-insensitive. */

/* Parses an NtCreateFile name as the object manager does, following
 * symbolic links, to the first device object or volume on the way: *volume
 * or *device is set (the other NULL), and the rest of the name (from its
 * backslash; "" for the object itself) is copied into remainder, terminated
 * (remainder_size units at most). A device object comes back with the
 * reference of the file object about to be opened on it, which
 * fltsim_device_file_object_closed drops; a volume without one. Statuses:
 * STATUS_OBJECT_NAME_NOT_FOUND (the last component names nothing),
 * STATUS_OBJECT_PATH_NOT_FOUND (an earlier one), STATUS_OBJECT_PATH_SYNTAX_BAD
 * (not starting with '\'), STATUS_OBJECT_NAME_INVALID (an empty component, or
 * too long), STATUS_OBJECT_TYPE_MISMATCH (a directory or a driver object: not
 * a file), STATUS_NO_SUCH_DEVICE (a device still DO_DEVICE_INITIALIZING,
 * deleted, or whose driver is unloading), STATUS_ACCESS_DENIED (an exclusive
 * device already open), STATUS_INVALID_PARAMETER. Any thread. */
NTSTATUS fltsim_object_open(fltsim_system *sys, PCWSTR name, PFLT_VOLUME *volume,
                            PDEVICE_OBJECT *device, WCHAR *remainder, size_t remainder_size);
/* The same checks and reference for a relative open (RelatedFileObject on
 * device; an exclusive device lets it through). */
NTSTATUS fltsim_device_reference(PDEVICE_OBJECT device);
/* Drops a file object's reference; the last one of a deleted device frees
 * it (and the record of its driver, if that has unloaded). */
void fltsim_device_file_object_closed(PDEVICE_OBJECT device);

/* Sends a request to the driver that owns device, as the I/O manager does
 * for a device that is not a volume (no filter sees it):
 *   - an IRP: built from req (one stack location: Parameters as in req; the
 *     buffers where the IRP keeps them for the major function; a read or
 *     write per the device's DO_BUFFERED_IO / DO_DIRECT_IO / neither), sent
 *     to DriverObject->MajorFunction[major] on the calling thread. A routine
 *     that completes it (IoCompleteRequest) gives its IoStatus; one that
 *     returns STATUS_PENDING is waited for until IoCompleteRequest from any
 *     thread, or, with req->complete_cb, the call returns STATUS_PENDING and
 *     complete_cb runs where it completes.
 *   - fast I/O: the DriverObject->FastIoDispatch routine for the request
 *     (read, write, query basic / standard / network-open information, the
 *     lock routines, device control, query open), when the table is long
 *     enough to hold it and it is set; STATUS_FLT_DISALLOW_FAST_IO when there
 *     is none or it returns FALSE.
 *   - an FS-filter callback: STATUS_INVALID_DEVICE_REQUEST (a device's file
 *     object has no section or cache map to synchronize).
 * Returns the final status (also in req->io_status). Traced as io_start,
 * fs (the driver is called), fs_return, io_complete with the device name as
 * the volume. STATUS_INVALID_PARAMETER for a bad device or request. */
NTSTATUS fltsim_device_dispatch(PDEVICE_OBJECT device, struct fltsim_request *req);

/* The system of a device object, or NULL for anything else. */
fltsim_system *fltsim_device_system(PDEVICE_OBJECT device);
/* Its full name as the namespace has it (empty when unnamed), or NULL. */
PCUNICODE_STRING fltsim_device_name(PDEVICE_OBJECT device);
/* Device objects in the system now (deleted ones still open included). */
ULONG fltsim_device_count(fltsim_system *sys);

/* ------------------------------------------------------------------------- */
/* Requestor identity, IRQL and top-level IRP of the calling thread          */
/* ------------------------------------------------------------------------- */

/* Sets the simulated process and thread ids the calling thread issues I/O as
 * (what FltGetRequestorProcessId and PsGetCurrentProcessId report). Until set,
 * a thread is process 1000 with a thread id fltsim assigns. */
void fltsim_thread_set_identity(ULONG process_id, ULONG thread_id);
ULONG fltsim_thread_process_id(void);
ULONG fltsim_thread_id(void);
/* The PETHREAD object for the calling thread's identity (valid for the life of
 * the process). */
PETHREAD fltsim_thread_current(void);
/* Ids of a PETHREAD object returned by fltsim_thread_current. */
ULONG fltsim_thread_object_process_id(PETHREAD thread);
ULONG fltsim_thread_object_thread_id(PETHREAD thread);

/* ------------------------------------------------------------------------- */
/* Pool accounting                                                           */
/* ------------------------------------------------------------------------- */

struct fltsim_pool_stats {
    ULONG64 outstanding; /* allocations not yet freed */
    ULONG64 outstanding_bytes;
    ULONG64 total; /* allocations ever made */
};

/* Pool the simulated system itself owns (the I/O manager's file names, a
 * file system's reparse data): counted per tag, charged to no driver, freed
 * with ExFreePool (a filter may free it, as IoReplaceFileObjectName's callers
 * free a file name). Zeroed. NULL when out of memory. Any thread. */
PVOID fltsim_pool_allocate_system(SIZE_T size, ULONG tag);
/* Process-wide counts for one tag (all systems). */
void fltsim_pool_tag_stats(ULONG tag, struct fltsim_pool_stats *out);
/* Allocations not yet freed, all tags. */
ULONG64 fltsim_pool_outstanding(void);
/* Blocks that drv's code (DriverEntry, callbacks, work routines) allocated and
 * has not freed, for one tag or every tag (tag 0); total is left 0. Zeros for
 * a driver that is not loaded. Blocks are owned by the driver whose code runs
 * on the allocating thread; what it still owns at unload is reported (V23). */
void fltsim_driver_pool_stats(fltsim_driver *drv, ULONG tag, struct fltsim_pool_stats *out);

/* ------------------------------------------------------------------------- */
/* Fault injection                                                           */
/* ------------------------------------------------------------------------- */

/* Faults the real system can produce, injected on demand, per system. Every
 * place a fault can be injected is a "fault point"; the system numbers the
 * points it reaches in order (index 0, 1, ...), whether or not a fault is
 * injected there, and remembers each one's kind and its index among the points
 * of that kind. Under the deterministic executor a run with the same seed
 * reaches the same points in the same order, so an explorer can run once to
 * enumerate them and then rerun once per point with a fault whose kind and nth
 * address exactly that point (nth = kind_index + 1, tag 0). Under the
 * concurrent executor the order follows the threads' timing. */

enum fltsim_fault_kind {
    /* ExAllocatePoolWithTag / ExAllocatePoolZero / ExAllocatePool2 and what
     * allocates through them (FltAllocateDeferredIoWorkItem and
     * FltAllocateGenericWorkItem under tag 'FMwi', FltRequestOperationStatusCallback
     * under 'FMos', RtlUpcaseUnicodeString, ZwOpenKey) return NULL (or
     * STATUS_INSUFFICIENT_RESOURCES). Only
     * allocations made by filter code are points: from a callback, a work
     * routine or DriverEntry, not from the test program or fltsim itself. */
    FLTSIM_FAULT_ALLOC = 0,
    /* FltQueueDeferredIoWorkItem fails with status, which must be one of its
     * documented codes: STATUS_FLT_NOT_SAFE_TO_POST_OPERATION (the default
     * when status is 0) or STATUS_FLT_DELETING_OBJECT. Every call with a valid
     * item, callback data, routine and queue type is a point. */
    FLTSIM_FAULT_DEFERRED_QUEUE = 1,
    /* FltQueueGenericWorkItem fails with STATUS_FLT_DELETING_OBJECT, as while
     * the object or its filter is being torn down (status must be 0 or that). */
    FLTSIM_FAULT_GENERIC_QUEUE = 2,
    /* An operation that reaches a fault-injecting file system (fltsim/faultfs.h)
     * fails with status (STATUS_IO_DEVICE_ERROR when 0); detail = major. */
    FLTSIM_FAULT_FS = 3
};
#define FLTSIM_FAULT_KIND_COUNT 4

/* One fault rule. A point matches the rule when its kind equals kind and, for
 * FLTSIM_FAULT_ALLOC with tag != 0, its tag equals tag. Of the matching
 * points, the rule fails:
 *   - nth != 0: only the nth one (1-based, counted by this rule from when it
 *     was added);
 *   - nth == 0 and probability == 0: every one;
 *   - nth == 0 and 0 < probability <= 1: each one with that probability, drawn
 *     from a generator seeded with seed (the same seed and sequence of points
 *     give the same failures). */
struct fltsim_fault {
    enum fltsim_fault_kind kind;
    ULONG64 nth;
    ULONG tag;          /* FLTSIM_FAULT_ALLOC only; 0 = any tag */
    double probability; /* 0 = not probabilistic */
    ULONG64 seed;
    NTSTATUS status; /* the failure status for QUEUE and FS kinds; 0 = the default */
};

/* Adds a rule to the system (rules accumulate; the first rule that fails a
 * point wins, and every rule matching a point counts it). STATUS_INVALID_PARAMETER
 * (see fltsim_last_error) for an unknown kind, a tag on a kind other than
 * ALLOC, a probability outside [0, 1] or together with nth, or a status the
 * kind cannot return; STATUS_INSUFFICIENT_RESOURCES. Any thread. */
NTSTATUS fltsim_fault_add(fltsim_system *sys, const struct fltsim_fault *fault);
/* Removes every rule; the points reached stay counted. */
void fltsim_faults_clear(fltsim_system *sys);

/* One point reached. */
struct fltsim_fault_point {
    enum fltsim_fault_kind kind;
    ULONG64 kind_index; /* 0-based among the points of this kind */
    ULONG detail;       /* ALLOC: tag; FS: major function; otherwise 0 */
    BOOLEAN injected;   /* a rule failed it */
};

/* Number of fault points the system has reached since it was created. */
ULONG64 fltsim_fault_point_count(fltsim_system *sys);
/* Number of those where a fault was injected. */
ULONG64 fltsim_fault_injected_count(fltsim_system *sys);
/* Point index (0-based, in the order reached). STATUS_INVALID_PARAMETER when
 * index >= fltsim_fault_point_count. */
NTSTATUS fltsim_fault_point_get(fltsim_system *sys, ULONG64 index, struct fltsim_fault_point *out);
/* "alloc", "deferred_queue", "generic_queue", "fs", or NULL. */
const char *fltsim_fault_kind_name(enum fltsim_fault_kind kind);

/* For fault-injecting components outside the model (faultfs): records a point
 * of kind with detail reached on sys, and returns TRUE with *status set when a
 * rule fails it. Any thread. */
BOOLEAN fltsim_fault_point_reach(fltsim_system *sys, enum fltsim_fault_kind kind, ULONG detail,
                                 NTSTATUS *status);

/* ------------------------------------------------------------------------- */
/* Debug output                                                              */
/* ------------------------------------------------------------------------- */

/* Where DbgPrint/DbgPrintEx text goes (one call per formatted message).
 * NULL restores the default, standard error. Process-wide. */
typedef void (*fltsim_debug_sink_cb)(void *ctx, const char *text);
void fltsim_debug_set_sink(fltsim_debug_sink_cb cb, void *ctx);

/* ------------------------------------------------------------------------- */
/* UTF-16 at the edges (DESIGN decision 2)                                   */
/* ------------------------------------------------------------------------- */

/* Converts count UTF-16 units to UTF-8 in out (terminated when size > 0;
 * unpaired surrogates become U+FFFD). Returns the length written, without
 * terminator (0 and nothing written when size is 0); output that does not fit
 * is cut at a character boundary. */
size_t fltsim_utf16_to_utf8(const WCHAR *in, size_t count, char *out, size_t size);
/* Converts NUL-terminated UTF-8 to UTF-16 in out (terminated), at most size
 * units including the terminator. Returns the number of units written without
 * the terminator, or (size_t)-1 for NULL or invalid UTF-8 or no room, leaving
 * out empty ("") when size > 0. */
size_t fltsim_utf8_to_utf16(const char *in, WCHAR *out, size_t size);
/* Length of a NUL-terminated UTF-16 string, in units; 0 for NULL. */
size_t fltsim_wcslen(const WCHAR *s);

#ifdef __cplusplus
}
#endif

/* The fltmc view, in a header of its own (model.h includes it). */
#include "fltmc.h"

#endif /* FLTSIM_MODEL_H */
