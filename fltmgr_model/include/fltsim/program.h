/*
 * User-mode programs as simulated processes: a filter's service (scanUser,
 * a logger) runs inside the simulation with a process id of its own, on
 * simulated threads, so that the ports it connects, the I/O it issues and
 * the processes a filter sees (FltGetRequestorProcessId, PsGetCurrentProcessId
 * in ConnectNotify) are its own. Its Win32 calls (windows.h, fltUser.h) act
 * on it; its console output is kept and can be read and waited for.
 *
 * A process ends when its main returns (ExitProcess of main's result), when
 * it calls ExitProcess, when its last thread exits, when it is terminated
 * (fltsim_process_terminate, TerminateProcess) or after a Ctrl+C nobody
 * handles. Ending, its threads leave at their next Win32 or fltlib call (a
 * thread in a wait leaves at once; one running its own code never called is
 * waited for), then its handles are closed (its port handles last; their
 * close is the filter's DisconnectNotify) and the memory its
 * heap still holds is freed.
 */
#ifndef FLTSIM_PROGRAM_H
#define FLTSIM_PROGRAM_H

#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fltsim_process fltsim_process;

typedef int (*fltsim_main_fn)(int argc, char **argv);
typedef int (*fltsim_wmain_fn)(int argc, WCHAR **argv);

struct fltsim_process_params {
    const char *name;   /* the image name, for reports and argv[0] ("scanuser.exe") */
    ULONG process_id;   /* 0: the next free one from 2000 (multiples of 4) */
    fltsim_main_fn main; /* exactly one of main and wmain */
    fltsim_wmain_fn wmain;
    int argc;                /* the arguments after argv[0], UTF-8 */
    const char *const *argv; /* copied */
    /* Each piece of console output as it is printed (besides the copy kept
     * for fltsim_process_output); may be NULL. Called with no lock held, on
     * the printing thread. */
    void (*output)(void *ctx, const fltsim_process *process, const char *text, size_t length);
    void *output_ctx;
};

/* Starts a process whose main thread runs main/wmain. STATUS_INVALID_PARAMETER
 * (no name, neither or both of main and wmain, an argument for wmain that is
 * not UTF-8), STATUS_OBJECT_NAME_COLLISION (the process id is taken, by a
 * process not yet freed or the System process), STATUS_INSUFFICIENT_RESOURCES. */
NTSTATUS fltsim_process_start(fltsim_system *sys, const struct fltsim_process_params *params,
                              fltsim_process **out);

/* A bare process: an object of the system with its image and parent and one
 * thread, and no code (what a filter sees of a process: notifications,
 * PsLookupProcessByProcessId, its image name). Creating one calls the
 * image-load, process-create and thread-create notify routines of sys's
 * drivers; a routine that sets CreationStatus to a failure denies it: the
 * process exits at once with that status (its exit is notified) and
 * fltsim_ps_create returns the status. */
struct fltsim_ps_params {
    /* UTF-8: an NT path ("\\Device\\HarddiskVolume1\\Windows\\notepad.exe"), or a
     * file name, taken as in the folder \Device\HarddiskVolume1\Windows */
    const char *image;
    ULONG process_id;         /* 0: the next free one from 8000 (multiples of 4) */
    ULONG parent_id;          /* 0: the calling thread's process */
    const char *command_line; /* UTF-8; NULL: the image path */
};
/* STATUS_INVALID_PARAMETER (no image, no live parent, an id not a multiple
 * of 4), STATUS_OBJECT_NAME_COLLISION (the id names a process not yet
 * deleted), or the denial's status. *process_id: the new process's id. */
NTSTATUS fltsim_ps_create(fltsim_system *sys, const struct fltsim_ps_params *params,
                          ULONG *process_id);
/* Ends a process fltsim_ps_create made: its exit status becomes exit_status
 * (not STATUS_PENDING), the thread-exit and process-exit routines run, and
 * the process object goes with its last reference. STATUS_INVALID_PARAMETER
 * for no such process, STATUS_PROCESS_IS_TERMINATING when it has exited. */
NTSTATUS fltsim_ps_exit(fltsim_system *sys, ULONG process_id, NTSTATUS exit_status);

/* Opens process process_id (thread_id 0) or its thread thread_id with the
 * access desired, as the calling thread's process (user mode: a handle of
 * its table) or, kernel, as a kernel handle; the object callbacks may strip
 * access: *granted is what the handle grants. STATUS_INVALID_CID for no such
 * process or thread. Close with fltsim_ps_close (or a driver's ZwClose). */
NTSTATUS fltsim_ps_open(fltsim_system *sys, ULONG process_id, ULONG thread_id, ACCESS_MASK desired,
                        bool kernel, HANDLE *handle, ACCESS_MASK *granted);
NTSTATUS fltsim_ps_close(fltsim_system *sys, HANDLE handle);
/* Duplicates handle (a process or thread handle of the calling thread's
 * process) into process target_process_id's table (the System process's:
 * a kernel handle) with desired access, or the source's when same_access;
 * the object callbacks see a duplicate. STATUS_INVALID_HANDLE when handle
 * is none of those, STATUS_INVALID_CID for no such target. */
NTSTATUS fltsim_ps_duplicate(fltsim_system *sys, HANDLE handle, ULONG target_process_id,
                             ACCESS_MASK desired, bool same_access, HANDLE *out,
                             ACCESS_MASK *granted);

enum fltsim_process_until {
    FLTSIM_PROCESS_EXIT,   /* it ended */
    FLTSIM_PROCESS_IDLE,   /* every thread of it waits, with no timeout, for
                              what it has not got (a message, an event, a
                              completion packet, a thread) */
    FLTSIM_PROCESS_OUTPUT, /* its console output holds text */
};

/* Waits, from a simulated thread (a scenario's or one fltsim_thread_spawn
 * started) or from the thread that made the system, until what until names
 * or timeout_ms (0: none). STATUS_SUCCESS; STATUS_TIMEOUT;
 * STATUS_PROCESS_IS_TERMINATING when it ended before IDLE or OUTPUT. */
NTSTATUS fltsim_process_wait(fltsim_process *process, enum fltsim_process_until until,
                             const char *text, ULONG timeout_ms);

/* TerminateProcess: the process ends with exit_code (STATUS_SUCCESS), or
 * STATUS_PROCESS_IS_TERMINATING when it was ending already. Returns at once:
 * a thread running its own code leaves at its next call, so wait for
 * FLTSIM_PROCESS_EXIT to know it has ended. */
NTSTATUS fltsim_process_terminate(fltsim_process *process, ULONG exit_code);

/* A Ctrl+C at its console: its SetConsoleCtrlHandler handlers run, last
 * added first, on a new thread of it until one returns TRUE; when none does
 * (or none is set) it ends with STATUS_CONTROL_C_EXIT (0xC000013A). Returns
 * without waiting; STATUS_PROCESS_IS_TERMINATING when it is ending. */
NTSTATUS fltsim_process_ctrl_c(fltsim_process *process);

/* Its console input: text (UTF-8, length bytes) is typed at its console
 * (getchar and fgets on stdin read it; with nothing left they wait, as at
 * a keyboard); after fltsim_process_input_end they read end of file.
 * STATUS_PROCESS_IS_TERMINATING once it ends; STATUS_INSUFFICIENT_RESOURCES. */
NTSTATUS fltsim_process_input(fltsim_process *process, const char *text, size_t length);
void fltsim_process_input_end(fltsim_process *process);

/* Whether it ended, and its exit code then. */
bool fltsim_process_exited(fltsim_process *process, ULONG *exit_code);
ULONG fltsim_process_id(const fltsim_process *process);
const char *fltsim_process_name(const fltsim_process *process);

/* Copies its console output so far (UTF-8) into buf, cut to size - 1 bytes
 * and terminated; returns the whole length. */
size_t fltsim_process_output(fltsim_process *process, char *buf, size_t size);

/* Writes what each live thread of it is doing, in creation order and
 * joined by "; " ("thread 6000: in GetQueuedCompletionStatus; thread 6004:
 * running its own code") into buf, for a timeout's message, cut to size - 1
 * bytes and terminated (buf may be NULL when size is 0); returns the whole
 * length. An ended process has none (""). */
size_t fltsim_process_describe(fltsim_process *process, char *buf, size_t size);

/* Frees it: terminates it first (exit code 1) when it still runs, and
 * waits for it to end. fltsim_system_destroy does this, first, for every
 * process not freed yet (a shutdown): none may be used after it. */
void fltsim_process_free(fltsim_process *process);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_PROGRAM_H */
