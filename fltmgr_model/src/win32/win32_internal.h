/*
 * PRIVATE to fltmgr_model/src/win32 (and fltmgr/port_user.c and fltlib.c,
 * whose port and find handles a process holds): the objects behind the Win32
 * handles of simulated processes (fltsim/program.h). Everything here is
 * guarded by sys->lock, except a process's console text (out_lock) and heap
 * (heap_lock), which are taken without it; waits go through
 * fltsim__w32_wait_locked so that a process's idleness can be told and a
 * process that ends takes its threads out of their waits.
 */
#ifndef FLTSIM_WIN32_INTERNAL_H
#define FLTSIM_WIN32_INTERNAL_H

#include <setjmp.h>

#include <windows.h>

#include "fltsim/program.h"
#include "model_internal.h"

#undef malloc
#undef calloc
#undef realloc
#undef free
#undef strdup
#undef printf
#undef vprintf
#undef wprintf
#undef fprintf
#undef vfprintf
#undef fwprintf
#undef puts
#undef fputs
#undef putchar
#undef getchar
#undef fgets

/* The first process id given, and the first thread id (multiples of 4). */
#define FLTSIM_W32_FIRST_PID 2000
#define FLTSIM_W32_FIRST_TID 6000

struct fltsim_w32 {
    LIST_ENTRY processes; /* struct fltsim_process.link */
    ULONG next_pid, next_tid;
    ULONG next_handle; /* user handle values, ports' too: multiples of 4 */
    LONG idle_waiters; /* threads in fltsim_process_wait for IDLE */
    LIST_ENTRY names;  /* struct w32_name: the named events and semaphores (named.c) */
};

enum w32_kind { W32_EVENT = 1, W32_SEMAPHORE, W32_THREAD, W32_PROCESS, W32_IOCP, W32_SECTION };

struct w32_name;
struct w32_object {
    enum w32_kind kind;
    LONG refs; /* handles and internal references; freed at zero (threads and
                  processes: by fltsim_process_free) */
    struct w32_name *name; /* its name in the namespace (named.c), or NULL */
};

struct w32_event {
    struct w32_object h;
    bool manual, signaled;
};

struct w32_semaphore {
    struct w32_object h;
    LONG count, max;
};

struct w32_packet {
    LIST_ENTRY link;
    NTSTATUS status;
    ULONG_PTR bytes, key;
    LPOVERLAPPED ov;
};

struct w32_iocp {
    struct w32_object h;
    LIST_ENTRY packets; /* struct w32_packet */
    bool closed;        /* its handle is closed: waiters leave */
};

struct w32_thread {
    struct w32_object h; /* signaled once exited */
    struct fltsim_process *proc;
    LIST_ENTRY link; /* proc->threads */
    ULONG tid;
    fltsim_thread *os; /* joined by fltsim_process_free */
    LPTHREAD_START_ROUTINE start;
    void *arg;
    bool is_main, suspended, exited;
    bool exit_set; /* exit_code is the thread's own (returned, ExitThread) */
    DWORD exit_code;
    DWORD last_error;
    jmp_buf unwind; /* where an ending thread leaves for */
    /* While in a wait (fltsim__w32_wait_locked): the routine, the condition
     * and the deadline (0: none). */
    const char *waiting_in;
    bool (*ready)(void *ctx);
    void *ready_ctx;
    ULONG64 deadline;
};

struct w32_handle {
    ULONG value;
    struct w32_object *obj;
};

#define W32_MAX_CTRL_HANDLERS 16

struct w32_block {
    void *p; /* NULL: a free slot; W32_TOMBSTONE: one that was used */
    size_t size;
};

struct fltsim_process {
    struct w32_object h; /* signaled once exited */
    fltsim_system *sys;
    LIST_ENTRY link; /* w32->processes */
    char name[64];
    ULONG pid;
    fltsim_main_fn main;
    fltsim_wmain_fn wmain;
    int argc;
    char **argv;
    WCHAR **wargv;
    LIST_ENTRY threads; /* struct w32_thread.link, in creation order */
    LONG live;          /* threads started and not finished */
    bool ending;        /* ExitProcess, TerminateProcess, main returned: threads leave */
    bool exited;        /* every thread finished, handles closed, heap freed */
    DWORD exit_code;
    struct w32_handle *handles; /* in creation order */
    size_t handle_count, handle_cap;
    PHANDLER_ROUTINE ctrl_handlers[W32_MAX_CTRL_HANDLERS];
    int ctrl_handler_count;
    /* console input (sys->lock) */
    char *in;
    size_t in_len, in_pos, in_cap;
    bool in_ended;
    /* console output (out_lock) */
    uv_mutex_t out_lock;
    char *out;
    size_t out_len, out_cap;
    void (*output)(void *ctx, const fltsim_process *process, const char *text, size_t length);
    void *output_ctx;
    /* heap: the blocks it holds and their sizes, an open-addressing set
     * (heap_lock) */
    uv_mutex_t heap_lock;
    LIST_ENTRY heap_link; /* every process's heap (console.c) */
    struct w32_block *blocks;
    size_t block_count, block_tombs, block_cap;
};

/* sys->lock held: the state, made on first use (NULL when out of memory). */
struct fltsim_w32 *fltsim__w32_locked(fltsim_system *sys);
/* sys->lock held: a fresh user handle value (ports use it too). */
ULONG fltsim__w32_handle_value_locked(fltsim_system *sys);

/* The program thread running now, or NULL (another simulated thread). */
static inline struct w32_thread *fltsim__w32_self(void)
{
    return fltsim__tls()->w32;
}
/* The system a user-mode call acts on, or NULL. */
fltsim_system *fltsim__w32_system(void);

/* The system a fltlib routine (api) acts on: the calling thread's, or NULL
 * with a failure naming api; a thread of an ending process leaves first. */
fltsim_system *fltsim__w32_fltlib_system(const char *api);

/* Leaves the calling program thread's code when its process is ending
 * (longjmp to its start; never returns then). Called with no lock held, at
 * the end of the Win32 and fltlib routines. */
void fltsim__w32_checkpoint(void);

/* A fltlib routine's result, once its process may have ended under it
 * (the thread leaves then instead). */
static inline LONG fltsim__w32_result(LONG hr)
{
    fltsim__w32_checkpoint();
    return hr;
}

enum w32_wait_result { W32_READY, W32_TIMEOUT, W32_ENDING };
/* sys->lock held: waits until ready(ctx) (checked at once, and after every
 * wakeup, under the lock) or deadline_ns (fltsim__now_ns; 0: none). On a
 * program thread, W32_ENDING when its process is ending (checked before
 * ready: the thread leaves even when what it waits for has come; the caller
 * unlocks, returns a failure and calls fltsim__w32_checkpoint). api names
 * the wait in fltsim_process_describe. */
enum w32_wait_result fltsim__w32_wait_locked(fltsim_system *sys, const char *api,
                                             bool (*ready)(void *ctx), void *ctx,
                                             ULONG64 deadline_ns);
/* The deadline of a Win32 timeout in milliseconds (INFINITE: 0). */
ULONG64 fltsim__w32_deadline(DWORD ms);

/* sys->lock held: the object behind handle h of the calling program
 * thread's process, of kind kind (0: any), or NULL. */
struct w32_object *fltsim__w32_object_locked(HANDLE h, enum w32_kind kind);
/* Closes handle h of the calling program thread's process if it is one of
 * an object of kind (kernel code closing a handle of the process it runs
 * in: ZwClose); false when it is none. No lock held. */
bool fltsim__w32_close_kind(HANDLE h, enum w32_kind kind);
/* sys->lock held: adds obj (one reference taken over) to proc's handles;
 * NULL when out of memory (the reference is dropped then). */
HANDLE fltsim__w32_handle_new_locked(struct fltsim_process *proc, struct w32_object *obj);
/* sys->lock held: drops a reference; frees events, semaphores, ports at zero. */
void fltsim__w32_unref_locked(fltsim_system *sys, struct w32_object *obj);
void fltsim__w32_ref_locked(struct w32_object *obj);

/* sys->lock held: an overlapped request completes: ov gets status and bytes,
 * event (may be NULL) is set, and iocp (may be NULL) gets a packet with key.
 * Wakes waiters. */
void fltsim__w32_complete_locked(fltsim_system *sys, struct w32_iocp *iocp, ULONG_PTR key,
                                 LPOVERLAPPED ov, struct w32_event *event, NTSTATUS status,
                                 ULONG_PTR bytes);
/* sys->lock held: the object is signaled (no waiter consumed it). */
void fltsim__w32_event_set_locked(fltsim_system *sys, struct w32_event *ev, bool signaled);

/* ---- named events and semaphores (named.c) ---- */

/* CreateEvent/CreateSemaphore with a name: obj (made by the caller, one
 * reference; NULL when out of memory) gets the name when none has it, and a
 * handle (last error ERROR_SUCCESS); when an object of its kind has it
 * already, obj is dropped and the handle is to that one (ERROR_ALREADY_EXISTS);
 * an object of another kind: NULL, ERROR_INVALID_HANDLE. No lock held. */
HANDLE fltsim__w32_create_named(struct w32_object *obj, LPCWSTR name);
/* OpenEvent/OpenSemaphore: a new handle to the object of kind named name. */
HANDLE fltsim__w32_open_named(enum w32_kind kind, LPCWSTR name);
/* The wide copy of an ANSI name (UTF-8), malloc'd; NULL with the last error
 * set when it cannot be converted. */
LPWSTR fltsim__w32_wide_name(LPCSTR name);
/* sys->lock held: obj goes; its name leaves the namespace. */
void fltsim__w32_name_drop_locked(struct w32_object *obj);

/* The Win32 error of a status (RtlNtStatusToDosError's, for the ones used). */
DWORD fltsim__w32_error_of(NTSTATUS status);
/* Sets the calling thread's last error; returns value. */
DWORD fltsim__w32_set_error(DWORD error);

/* ---- the port side (fltmgr/port_user.c) ---- */

/* sys->lock held: whether h is a port handle of the calling thread's
 * process, and if so associates it with iocp and key (a reference taken). */
bool fltsim__port_associate_locked(fltsim_system *sys, HANDLE h, struct w32_iocp *iocp,
                                   ULONG_PTR key);
/* Closes a port handle of the calling thread (or, when proc is not NULL, every
 * port handle proc holds); false when h is no port handle. */
bool fltsim__port_close_handle(fltsim_system *sys, HANDLE h);
void fltsim__port_close_process(fltsim_system *sys, struct fltsim_process *proc);
/* Cancels the overlapped gets thread t issued (all: on every handle; else
 * only on handles with no completion port, whose I/O is the thread's), while
 * its frames, where an OVERLAPPED may live, still exist: at ExitThread and
 * before an ending process's thread leaves. */
void fltsim__port_thread_gets_end(fltsim_system *sys, struct w32_thread *t, bool all);
/* Frees the fltlib find handles proc opened (fltmgr/fltlib.c). */
void fltsim__fltlib_close_process(fltsim_system *sys, struct fltsim_process *proc);
/* sys->lock held: cancels the pending overlapped gets on port handle h (all,
 * or the one of ov; issuer not 0: only those thread issuer made):
 * ERROR_OPERATION_ABORTED. -1: h is no port handle; else how many were
 * cancelled. */
int fltsim__port_cancel_locked(fltsim_system *sys, HANDLE h, LPOVERLAPPED ov, ULONG issuer);

/* ---- sections a process holds handles to (mapping.c) ---- */

struct fltsim_section;
/* A handle of the calling program thread's process to section s (the
 * handle's reference on s taken over; dropped when this fails: NULL);
 * readable: the handle may map views (SECTION_MAP_READ). No lock held. */
HANDLE fltsim__w32_section_handle(struct fltsim_section *s, bool readable);
/* The section behind a section handle of the calling program thread's
 * process, referenced, and whether it may map views; NULL when none. */
struct fltsim_section *fltsim__w32_section_of(HANDLE h, bool *readable);
/* sys->lock held: frees a section handle's object (its last reference). */
void fltsim__w32_section_free_locked(struct w32_object *obj);

/* ---- the console and the heap (console.c) ---- */

/* Appends text to proc's console (or, from another thread, stdout). */
void fltsim__w32_console_write(struct fltsim_process *proc, const char *text, size_t length);
/* Frees every block proc's heap still holds. */
void fltsim__w32_heap_release(struct fltsim_process *proc);
/* proc's heap is known to every thread's free (start), or no more (free). */
void fltsim__w32_heap_register(struct fltsim_process *proc);
void fltsim__w32_heap_unregister(struct fltsim_process *proc);

#endif /* FLTSIM_WIN32_INTERNAL_H */
