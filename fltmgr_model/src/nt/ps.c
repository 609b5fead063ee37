/*
 * Processes and threads as filters query them (Ps, and the Io and Ke routines
 * that answer the same): the current process and thread, the ids and process
 * of a thread object, whether it is a system thread, the session, and the
 * requestor of an IRP. The objects behind PEPROCESS and PETHREAD, and the
 * per-thread identity, are exec/thread.c's (struct _KPROCESS, struct _KTHREAD
 * in model_internal.h): a thread of the System process (pid 4; the
 * executor's work-item and completion threads) is a system thread, any other
 * (a requestor) is not. Their references, images and exit status, and the
 * lookups by id, are ps_objects.c's.
 */
#include "model_internal.h"
#include "nt_internal.h"
#include "ps_internal.h"

/* A thread object fltsim made, or NULL after a KE report naming api. */
static PETHREAD valid_thread(PETHREAD thread, const char *api)
{
    if (thread == NULL) {
        fltsim__ke_report("KE", "-",
                          "%s(NULL): Thread must be a thread object (Windows faults on NULL)", api);
        return NULL;
    }
    if (thread->magic != FLTSIM_MAGIC_THREAD) {
        fltsim__ke_report("KE", "-", "%s(%p): not a thread object", api, (void *)thread);
        return NULL;
    }
    return thread;
}

PEPROCESS fltsim__ps_valid_process(PEPROCESS process, const char *api)
{
    if (process == NULL) {
        fltsim__ke_report(
            "KE", "-", "%s(NULL): Process must be a process object (Windows faults on NULL)", api);
        return NULL;
    }
    if (process->magic != FLTSIM_MAGIC_PROCESS) {
        fltsim__ke_report("KE", "-", "%s(%p): not a process object", api, (void *)process);
        return NULL;
    }
    return process;
}

/* ---- the calling thread ---- */

HANDLE PsGetCurrentProcessId(void)
{
    return (HANDLE)(ULONG_PTR)fltsim_thread_process_id();
}

HANDLE PsGetCurrentThreadId(void)
{
    return (HANDLE)(ULONG_PTR)fltsim_thread_id();
}

PKTHREAD KeGetCurrentThread(void)
{
    return fltsim_thread_current();
}

PETHREAD PsGetCurrentThread(void)
{
    return fltsim_thread_current();
}

/* PsGetCurrentProcess is this routine (a macro of the WDK's wdm.h). */
PEPROCESS IoGetCurrentProcess(void)
{
    PETHREAD thread = fltsim_thread_current();
    return thread != NULL ? thread->process : NULL;
}

ULONG PsGetCurrentProcessSessionId(void)
{
    PEPROCESS process = IoGetCurrentProcess();
    return process != NULL ? process->session_id : 0;
}

/* ---- thread and process objects ---- */

HANDLE PsGetProcessId(PEPROCESS Process)
{
    if (fltsim__ps_valid_process(Process, "PsGetProcessId") == NULL)
        return NULL;
    return (HANDLE)(ULONG_PTR)Process->process_id;
}

HANDLE PsGetThreadId(PETHREAD Thread)
{
    if (valid_thread(Thread, "PsGetThreadId") == NULL)
        return NULL;
    return (HANDLE)(ULONG_PTR)Thread->thread_id;
}

HANDLE PsGetThreadProcessId(PETHREAD Thread)
{
    if (valid_thread(Thread, "PsGetThreadProcessId") == NULL)
        return NULL;
    return (HANDLE)(ULONG_PTR)Thread->process->process_id;
}

PEPROCESS PsGetThreadProcess(PETHREAD Thread)
{
    if (valid_thread(Thread, "PsGetThreadProcess") == NULL)
        return NULL;
    return Thread->process;
}

/* fltsim does not model attaching a thread to another process
 * (KeStackAttachProcess): the process a thread runs in is always its own. */
PEPROCESS IoThreadToProcess(PETHREAD Thread)
{
    if (valid_thread(Thread, "IoThreadToProcess") == NULL)
        return NULL;
    return Thread->process;
}

BOOLEAN PsIsSystemThread(PETHREAD Thread)
{
    if (valid_thread(Thread, "PsIsSystemThread") == NULL)
        return FALSE;
    return Thread->process->process_id == FLTSIM_SYSTEM_PROCESS_ID ? TRUE : FALSE;
}

BOOLEAN IoIsSystemThread(PETHREAD Thread)
{
    if (valid_thread(Thread, "IoIsSystemThread") == NULL)
        return FALSE;
    return Thread->process->process_id == FLTSIM_SYSTEM_PROCESS_ID ? TRUE : FALSE;
}

/* ---- the requestor of an IRP ---- */

/* The thread of an IRP (Tail.Overlay.Thread), or NULL when it has none.
 * fltsim's own requests are not IRPs: these routines serve IRPs a filter or
 * test builds. */
static PETHREAD irp_thread(PIRP Irp, const char *api)
{
    if (Irp == NULL) {
        fltsim__ke_report("KE", "-", "%s(NULL): Irp must be an IRP (Windows faults on NULL)", api);
        return NULL;
    }
    PETHREAD thread = Irp->Tail.Overlay.Thread;
    if (thread == NULL)
        return NULL;
    return valid_thread(thread, api);
}

PEPROCESS IoGetRequestorProcess(PIRP Irp)
{
    PETHREAD thread = irp_thread(Irp, "IoGetRequestorProcess");
    return thread != NULL ? thread->process : NULL;
}

ULONG IoGetRequestorProcessId(PIRP Irp)
{
    PETHREAD thread = irp_thread(Irp, "IoGetRequestorProcessId");
    return thread != NULL ? thread->process->process_id : 0;
}
