/*
 * ExeGuard's protocol, shared by the filter (exeguard.c) and its service
 * (scenarios/programs/exeguard_service.c), as scanner's scanuk.h is: the port
 * name, the message the filter sends for each open of a .exe and the reply it
 * waits for. Only types both fltKernel.h and windows.h define.
 */
#ifndef EXEGUARD_H
#define EXEGUARD_H

#define EXEGUARD_PORT_NAME L"\\ExeGuardPort"

/* The longest name sent, in characters; a longer one is cut (the service
 * sees its start). */
#define EXEGUARD_MAX_NAME 260

typedef struct _EXEGUARD_NOTIFICATION {
    ULONG ProcessId;               /* who opens it */
    ULONG NameLength;              /* bytes of Name used */
    WCHAR Name[EXEGUARD_MAX_NAME]; /* the normalized name, not terminated */
} EXEGUARD_NOTIFICATION, *PEXEGUARD_NOTIFICATION;

typedef struct _EXEGUARD_REPLY {
    ULONG Allow; /* nonzero: let the open through */
} EXEGUARD_REPLY, *PEXEGUARD_REPLY;

#endif /* EXEGUARD_H */
