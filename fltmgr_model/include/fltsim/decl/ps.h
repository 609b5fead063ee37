/*
 * Ps: processes and threads (opaque; identities come from the requestor), and
 * the forward declarations of the objects the other pieces refer to (IRP,
 * MDL, ERESOURCE, transactions).
 * Part of the WDK surface: include <wdm.h>, not this file.
 */
#ifndef FLTSIM_WDK_PS_H
#define FLTSIM_WDK_PS_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- processes and threads (opaque; identities come from the requestor) ---- */

typedef struct _KTHREAD *PKTHREAD, *PETHREAD, *PRKTHREAD;
typedef struct _KPROCESS *PKPROCESS, *PEPROCESS, *PRKPROCESS;
typedef struct _KTRANSACTION *PKTRANSACTION;
typedef struct _IRP IRP, *PIRP;
typedef struct _MDL MDL, *PMDL;
typedef struct _ERESOURCE *PERESOURCE;

typedef struct _CLIENT_ID {
    HANDLE UniqueProcess;
    HANDLE UniqueThread;
} CLIENT_ID, *PCLIENT_ID;

/* The simulated process and thread ids of the current requestor thread. */
HANDLE PsGetCurrentProcessId(void);
HANDLE PsGetCurrentThreadId(void);
/* The current process (IoGetCurrentProcess, in irp.h's piece of wdm.h). */
#define PsGetCurrentProcess IoGetCurrentProcess

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_PS_H */
