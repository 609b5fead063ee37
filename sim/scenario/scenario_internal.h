/*
 * PRIVATE to sim/scenario (and sim/explore, which runs a loaded scenario
 * many times): the validated form of a scenario file, shared by the
 * loader (scenario_load*.c, which fills it from the YAML node tree) and the
 * runner (scenario_run*.c, which carries it out). Everything here lives in the
 * scenario's arena and is freed with it. Positions are 1-based lines and
 * columns of the scenario file.
 */
#ifndef FLTSIM_SCENARIO_INTERNAL_H
#define FLTSIM_SCENARIO_INTERNAL_H

#include <stddef.h>

#include <fltsim/catalog.h>
#include <fltsim/faultfs.h>
#include <fltsim/io.h>
#include <fltsim/scenario.h>

struct sc_bytes {
    bool set;
    unsigned char *data;
    size_t size;
};

struct sc_registry_value {
    PCWSTR key;  /* full path: \Registry\Machine\... */
    PCWSTR name; /* value name */
    ULONG type;  /* REG_DWORD or REG_SZ */
    ULONG dword;
    PCWSTR text; /* REG_SZ */
};

/* The largest golden trace read (scenario_load.c refuses a larger one,
 * scenario_run_check.c stops reading there): a real one takes a few KiB. */
#define SC_GOLDEN_MAX_BYTES (64u << 20)

struct sc_file {
    PCWSTR path; /* from the volume root, e.g. \docs\a.txt */
    bool directory;
    struct sc_bytes data;
    /* a reparse point on it, or NULL: a junction's target (\??\C:\...), a
     * symbolic link's (\??\C:\... absolute, or relative to its directory) */
    PCWSTR junction, symlink;
    size_t line, column; /* of the file entry, for run's messages */
};

enum sc_fs { SC_FS_MEMFS = 0, SC_FS_HOSTFS = 1 };

struct sc_volume {
    WCHAR drive; /* L'C' */
    PCWSTR device;
    enum sc_fs fs;
    const char *root; /* hostfs: resolved host directory */
    bool read_only;
    ULONG completion; /* FLTSIM_COMPLETE_* */
    bool fast_io;
    ULONG64 capacity;
    struct sc_file *files;
    size_t file_count;
    size_t line, column; /* of the volume entry, for run's messages */
};

/* One entry of the top-level `faults:` list. */
struct sc_fault {
    struct fltsim_fault model; /* kinds alloc, deferred_queue, generic_queue */
    bool fs;                   /* kind fs: a faultfs rule on volume `drive` */
    WCHAR drive;
    struct fltsim_faultfs_rule rule; /* rule.path in the arena */
};

struct sc_instance {
    PCWSTR name;
    PCWSTR altitude;
    ULONG flags; /* FLTSIM_INSTANCE_SUPPRESS_* */
};

struct sc_filter {
    const char *name; /* UTF-8, for messages */
    PCWSTR wname;
    const struct fltsim_builtin_filter *builtin; /* or */
    const char *object;                          /* resolved path of the shared object */
    struct sc_instance *instances;
    size_t instance_count;
    PCWSTR default_instance;
    bool load;            /* before the first step */
    bool integrity_check; /* linked with /INTEGRITYCHECK (FLTSIM_LOAD_NO_INTEGRITY_CHECK) */
};

/* One entry of the top-level `programs:` list: a user program the steps
 * start as a simulated process (fltsim/program.h). */
struct sc_program {
    const char *name;                             /* as steps name it */
    const struct fltsim_builtin_program *builtin; /* or */
    const char *object;                           /* resolved path of the shared object */
    const char *image;                            /* argv[0]: "exeguard_service.exe" */
    ULONG process_id;                             /* 0: the next free one */
    const char **args;                            /* UTF-8 */
    size_t arg_count;
    int line, column;
};

struct sc_thread {
    const char *name;
    ULONG process_id;
    ULONG thread_id;
};

enum sc_step_kind {
    SC_STEP_IO,
    SC_STEP_WAIT,
    SC_STEP_LOAD,
    SC_STEP_UNLOAD,
    SC_STEP_ATTACH,
    SC_STEP_DETACH,
    SC_STEP_COMPLETE_PENDED,
    SC_STEP_NOTE,
    SC_STEP_FLTMC, /* the runner prints an fltmc view */
    SC_STEP_PS,    /* a process step (ps_op), on its scenario thread */
    /* A user program's steps, all on the runner (scenario_run_program.c). */
    SC_STEP_START,
    SC_STEP_INPUT,
    SC_STEP_WAIT_PROGRAM,
    SC_STEP_STOP,
    SC_STEP_KILL
};

#define SC_STEP_IS_PROGRAM(kind) ((kind) >= SC_STEP_START)

/* What a program printed and how it ended (a wait_program step's expect:,
 * the end expect's programs:). */
struct sc_program_expect {
    bool has_exit_code;
    ULONG exit_code;
    const char **outputs; /* substrings of its console output */
    size_t output_count;
};

/* The process steps (scenario_load_ps.c, scenario_run_ps.c). */
enum sc_ps_op { SC_PS_CREATE, SC_PS_OPEN, SC_PS_DUPLICATE, SC_PS_TERMINATE };

/* A process a step names: one a create_process step made (its id known
 * once it ran), a program's (once started), or a number. */
struct sc_ps_ref {
    int created; /* index into scenario processes, -1 = none */
    int program; /* index into scenario programs, -1 = none */
    ULONG id;    /* when both are -1 */
};

enum sc_op {
    SC_OP_CREATE,
    SC_OP_OPEN,
    SC_OP_READ,
    SC_OP_WRITE,
    SC_OP_QUERY_INFORMATION,
    SC_OP_SET_INFORMATION,
    SC_OP_RENAME,
    SC_OP_DELETE,
    SC_OP_QUERY_DIRECTORY,
    SC_OP_FLUSH,
    SC_OP_ACQUIRE_FOR_SECTION_SYNC,
    SC_OP_RELEASE_FOR_SECTION_SYNC,
    SC_OP_MAP_SECTION,
    SC_OP_CLOSE,
    SC_OP_QUERY_OPEN,
    SC_OP_QUERY_VOLUME_INFORMATION,
    SC_OP_LOCK,
    SC_OP_UNLOCK,
    SC_OP_FS_CONTROL,
    SC_OP_DEVICE_CONTROL,
    SC_OP_QUERY_EA,
    SC_OP_QUERY_SECURITY,
    SC_OP_SET_SECURITY,
    SC_OP_ACQUIRE_FOR_MOD_WRITE,
    SC_OP_RELEASE_FOR_MOD_WRITE,
    SC_OP_ACQUIRE_FOR_CC_FLUSH,
    SC_OP_RELEASE_FOR_CC_FLUSH,
    SC_OP_CANCEL
};

/* Read/write flags beyond FLTSIM_IO_*: IoSetTopLevelIrp around the call. */
#define SC_FLAG_TOP_LEVEL_IRP 0x80000000u

struct sc_step_expect {
    bool any; /* an expect mapping was given */
    bool has_status;
    NTSTATUS status;
    bool has_returned;
    NTSTATUS returned;
    bool has_information;
    ULONG64 information;
    struct sc_bytes data;
    const char **names;
    size_t name_count;
    bool has_names;
    bool has_granted; /* process steps: the access the handle grants */
    ULONG granted;
};

struct sc_step {
    enum sc_step_kind kind;
    enum sc_op op;
    const char *label; /* "read", "wait", "load" ... */
    const char *id;    /* NULL when none */
    int line, column;
    size_t thread; /* index into scenario threads */
    bool nowait;
    struct sc_step_expect expect;

    /* I/O */
    int handle;                         /* index into handle names, -1 = none */
    bool binds;                         /* create/open: binds handle on success */
    PCWSTR path;                        /* create, open */
    PCWSTR text;                        /* rename new_name, query_directory pattern */
    struct fltsim_create_params create; /* path and root_directory filled at run time */
    int root;                           /* create: RootDirectory's handle index, -1 = none */
    bool has_offset;
    LONGLONG offset;
    ULONG length;
    ULONG flags; /* FLTSIM_IO_* | SC_FLAG_TOP_LEVEL_IRP */
    bool async;
    struct sc_bytes data;
    FILE_INFORMATION_CLASS info_class;
    ULONG64 value; /* set_information's field, delete's flag, sync type */
    ULONG protection;
    bool replace, restart, single;
    /* lock, unlock, controls, security */
    LONGLONG range_length;      /* lock, unlock */
    ULONG key;                  /* lock, unlock */
    bool fail_immediately;      /* lock */
    bool exclusive;             /* lock */
    UCHAR minor;                /* unlock: IRP_MN_UNLOCK_* */
    ULONG code;                 /* fs_control, device_control */
    ULONG in_length;            /* fs_control, device_control (output: length) */
    ULONG security_information; /* query_security, set_security */
    int request;                /* cancel: the async step it cancels (index), -1 = all */

    /* control steps */
    size_t filter; /* load, unload, attach, detach, complete_pended */
    size_t volume; /* attach, detach */
    PCWSTR instance;
    PCWSTR altitude;
    bool mandatory;
    const char *note;
    enum fltsim_fltmc_view fltmc; /* fltmc */
    bool wait_all;
    size_t *wait_steps;
    size_t wait_count;

    /* program steps */
    size_t program;    /* index into scenario programs */
    const char **args; /* start: args: (NULL: the program's) */
    size_t arg_count;
    const char *program_text; /* start's input:, input's text:, wait_program's text: */
    ULONG until;              /* wait_program: enum fltsim_process_until */
    ULONG timeout_ms;         /* wait_program */
    ULONG exit_code;          /* kill */
    struct sc_program_expect program_expect; /* wait_program */

    /* process steps */
    enum sc_ps_op ps_op;
    int ps_process;          /* create: the scenario process it makes */
    struct sc_ps_ref target; /* open, terminate: the process; duplicate: into */
    struct sc_ps_ref parent; /* create; created and program -1, id 0: the default */
    const char *image;       /* create */
    ULONG ps_id;             /* create: process_id (0: the next free); open: thread id; duplicate: a
                                thread's handle when not 0 */
    ULONG access;            /* open, duplicate */
    bool kernel;             /* open: OBJ_KERNEL_HANDLE */
    bool same_access;        /* duplicate: DUPLICATE_SAME_ACCESS */
    bool ps_handle;          /* close: the handle is a process or thread handle */
};

struct sc_end_file {
    int line, column;
    const char *display; /* as written */
    size_t volume;
    PCWSTR path; /* from the volume root */
    bool exists; /* false: expect it absent */
    struct sc_bytes data;
};

struct sc_end_expect {
    struct sc_end_file *files;
    size_t file_count;
    bool has_reports;
    const char **reports;
    size_t report_count;
    bool has_handles;
    ULONG handles;
    struct sc_program_expect *programs; /* [program_count], for expect: programs: */
    int *program_lines;                 /* the line of each one's entry, 0: none */
};

struct sc_arena_block;

struct fltsim_scenario {
    struct sc_arena_block *arena;
    const char *path; /* as given to fltsim_scenario_load */
    const char *title;
    const char *description;
    enum fltsim_executor_kind executor;
    ULONG64 seed;
    struct fltsim_windows_version windows; /* `windows:`, checked; all zero: the default */
    enum fltsim_verifier_mode verifier;
    const char **verifier_disable; /* rule ids (`verifier_disable:`), valid */
    size_t verifier_disable_count;
    const char *golden; /* resolved path, or NULL */
    struct sc_registry_value *registry;
    size_t registry_count;
    struct sc_volume *volumes;
    size_t volume_count;
    struct sc_filter *filters;
    size_t filter_count;
    struct sc_program *programs;
    size_t program_count;
    struct sc_thread *threads; /* [0] is main */
    size_t thread_count;
    const char **processes; /* names create_process steps give */
    size_t process_count;
    const char **handles; /* handle names */
    size_t handle_count;
    struct sc_step *steps;
    size_t step_count;
    struct sc_end_expect expect;
    struct sc_fault *faults;
    size_t fault_count;
};

/* Arena allocation, zeroed; NULL when out of memory. */
void *fltsim__scenario_alloc(struct fltsim_scenario *sc, size_t size);

#endif /* FLTSIM_SCENARIO_INTERNAL_H */
