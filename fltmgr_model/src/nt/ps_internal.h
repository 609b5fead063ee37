/*
 * PRIVATE to fltmgr_model/src/nt (and the one hook of win32/process.c where
 * a program's process is created and ends): what the Ps files share about processes as
 * objects of a system (nt/ps_objects.c) and the notifications drivers
 * register for their creation and exit (nt/ps_notify.c). The object a
 * PEPROCESS points at is exec/thread.c's (struct _KPROCESS); its `ps` block
 * is this header's, made by the first Ps routine that needs it.
 */
#ifndef FLTSIM_NT_PS_INTERNAL_H
#define FLTSIM_NT_PS_INTERNAL_H

#include "model_internal.h"

#define FLTSIM_PS_IMAGE_MAX 260 /* characters of an image path, MAX_PATH */

/* A process's own state (one malloc block: exec/thread.c frees it). */
struct fltsim_ps_process {
    fltsim_system *sys;   /* whose notifications its creation and exit fired; NULL: implicit */
    bool implicit;        /* made by the first use of its id: runs until the OS process ends */
    bool program;         /* a user program's (win32/): not traced (see ps_objects.c) */
    ULONG parent_id;      /* 0 when none (System, an implicit process) */
    ULONG main_thread_id; /* 0 for an implicit process */
    LONGLONG create_time; /* 100 ns since 1601, as KeQuerySystemTime */
    NTSTATUS exit_status; /* STATUS_PENDING while it runs */
    LONG refs;            /* ObReferenceObject's count; a running process holds one */
    char short_name[16];  /* PsGetProcessImageFileName: the last 15 bytes of the file name */
    UNICODE_STRING image; /* \Device\HarddiskVolume1\...; Buffer is image_buffer */
    WCHAR image_buffer[FLTSIM_PS_IMAGE_MAX];
};

/* The image path of a process fltsim made by the first use of its id. */
#define FLTSIM_PS_DEFAULT_IMAGE                                                                    \
    L"\\Device\\HarddiskVolume1\\Windows\\System32\\fltsim_requestor.exe"

/* A process object the Ps routines may read, or NULL after a KE report
 * naming api (ps.c). */
PEPROCESS fltsim__ps_valid_process(PEPROCESS process, const char *api);

/* process's state, made on first use (an implicit process: the default image;
 * the System process "System"), or NULL when out of memory. ps_objects.c's
 * lock held while the caller reads or writes it. */
void fltsim__ps_lock(void);
void fltsim__ps_unlock(void);
struct fltsim_ps_process *fltsim__ps_of_locked(PEPROCESS process);

/* When object is a process or thread object: adds delta to its references
 * (a thread's are its process's), stores the count in *count and returns
 * true; the last reference of an exited process frees its id. */
bool fltsim__ps_reference(PVOID object, LONG delta, LONG_PTR *count);

/* win32/process.c: a program's process pid with main thread tid and image
 * name (a file name or an NT path) is created: the notifications run; a
 * failure status is a denial (the process has exited then). And its end,
 * with its exit code (nothing when a denial ended it). */
NTSTATUS fltsim__ps_program_created(fltsim_system *sys, ULONG process_id, ULONG thread_id,
                                    const char *name);
void fltsim__ps_program_exited(fltsim_system *sys, ULONG process_id, ULONG exit_code);

/* ---- handles (ps_handles.c) ---- */

/* ZwClose: closes a process or thread handle of the caller's process or the
 * kernel's; false when handle is none. */
bool fltsim__ps_handle_close(HANDLE handle);
/* The object behind a process or thread handle (NtCurrentProcess() and
 * NtCurrentThread() too) the caller sees in mode, referenced, and the access
 * it grants; STATUS_INVALID_HANDLE when none. */
NTSTATUS fltsim__ps_handle_object(HANDLE handle, KPROCESSOR_MODE mode, PVOID *object,
                                  ACCESS_MASK *granted);
/* Whether object is a process or thread object; ObOpenObjectByPointer on
 * one (object callbacks asked). */
bool fltsim__ps_is_object(PVOID object);
NTSTATUS fltsim__ps_open_by_pointer(PVOID Object, ULONG HandleAttributes, ACCESS_MASK DesiredAccess,
                                    POBJECT_TYPE ObjectType, KPROCESSOR_MODE AccessMode,
                                    PHANDLE Handle);
/* A process exited: the handles in its table are closed. */
void fltsim__ps_handles_process_exited(PEPROCESS process);

/* ---- notifications (ps_notify.c) ---- */

/* Calls, on this thread with no lock held, the image-load, process-create and
 * thread-create routines sys's drivers registered, for a new process (info:
 * its creation; ImageFileName and CommandLine set). Returns the
 * CreationStatus a ...Ex routine set (the first failure stops the calls), or
 * STATUS_SUCCESS. */
NTSTATUS fltsim__ps_notify_create(fltsim_system *sys, PEPROCESS process, ULONG thread_id,
                                  PPS_CREATE_NOTIFY_INFO info);
/* The same for its exit: thread-exit, then process-exit routines. */
void fltsim__ps_notify_exit(fltsim_system *sys, PEPROCESS process, ULONG thread_id);
/* The thread-create (create) or thread-exit routines for one more thread of
 * a live process (a program's CreateThread), on this thread, no lock held. */
void fltsim__ps_notify_thread(fltsim_system *sys, ULONG process_id, ULONG thread_id, bool create);

#endif /* FLTSIM_NT_PS_INTERNAL_H */
