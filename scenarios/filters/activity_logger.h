/*
 * ActivityLogger's record layout and its read-out routines, the header a
 * real logging filter would share with its user-mode reader (here, the tests
 * and the fltsim CLI read the ring directly instead of through a port).
 */
#ifndef ACTIVITY_LOGGER_H
#define ACTIVITY_LOGGER_H

#include <fltKernel.h>

#define ACTIVITY_RING_SIZE 256 /* records kept; older ones are overwritten */
#define ACTIVITY_NAME_CHARS 64 /* name characters kept (the rest is cut) */

/* Kind of record. */
#define ACTIVITY_PRE 0
#define ACTIVITY_POST 1

typedef struct _ACTIVITY_RECORD {
    ULONG Sequence;        /* 0, 1, 2 ... in the order the records were appended */
    UCHAR Kind;            /* ACTIVITY_PRE or ACTIVITY_POST */
    UCHAR Major;           /* Iopb->MajorFunction */
    UCHAR Minor;           /* Iopb->MinorFunction */
    UCHAR OpKind;          /* 0 IRP, 1 fast I/O, 2 FS-filter callback */
    ULONG ProcessId;       /* FltGetRequestorProcessId */
    NTSTATUS Status;       /* post: Data->IoStatus.Status; pre: STATUS_PENDING */
    ULONG_PTR Information; /* post: Data->IoStatus.Information */
    ULONG PostFlags;       /* post: FLT_POST_OPERATION_FLAGS (DRAINING) */
    USHORT NameLength;     /* characters in Name; 0 when the name was not safe to read */
    WCHAR Name[ACTIVITY_NAME_CHARS];
} ACTIVITY_RECORD, *PACTIVITY_RECORD;

/* Records appended since the filter was loaded (the ring keeps the last
 * ACTIVITY_RING_SIZE of them). 0 when it is not loaded. */
ULONG ActivityLoggerTotal(VOID);
/* Records of one kind (ACTIVITY_PRE / ACTIVITY_POST) for one major since load. */
ULONG ActivityLoggerCount(UCHAR Major, UCHAR Kind);
/* Copies the record with sequence number Sequence into *Record. FALSE when it
 * was never appended, was overwritten, or the filter is not loaded. */
BOOLEAN ActivityLoggerRecord(ULONG Sequence, PACTIVITY_RECORD Record);

#endif /* ACTIVITY_LOGGER_H */
