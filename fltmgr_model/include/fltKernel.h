/*
 * fltKernel.h for fltsim: the Filter Manager interface a minifilter is written
 * against, with the WDK's names, field orders and values (SPEC sections 1-6).
 * Filter, volume and instance handles are opaque. Like the WDK's header it
 * declares the whole interface; a routine fltsim does not implement yet has
 * no definition, so a filter that calls it fails to link or load with the
 * routine named (DESIGN decision 1). README "What is modeled" lists the
 * routines fltsim implements.
 */
#ifndef FLTSIM_FLTKERNEL_H
#define FLTSIM_FLTKERNEL_H

/* Which FltMgr the filter is built for, from NTDDI_VERSION (sdkddkver.h). */
#include "sdkddkver.h"
#define FLT_MGR_BASELINE                                                                           \
    (((OSVER(NTDDI_VERSION) == NTDDI_WIN2K) && (SPVER(NTDDI_VERSION) >= SPVER(NTDDI_WIN2KSP4))) || \
     ((OSVER(NTDDI_VERSION) == NTDDI_WINXP) && (SPVER(NTDDI_VERSION) >= SPVER(NTDDI_WINXPSP2))) || \
     ((OSVER(NTDDI_VERSION) == NTDDI_WS03) && (SPVER(NTDDI_VERSION) >= SPVER(NTDDI_WS03SP1))) ||   \
     (NTDDI_VERSION >= NTDDI_VISTA))
#define FLT_MGR_AFTER_XPSP2                                                                        \
    (((OSVER(NTDDI_VERSION) == NTDDI_WIN2K) && (SPVER(NTDDI_VERSION) >= SPVER(NTDDI_WIN2KSP4))) || \
     ((OSVER(NTDDI_VERSION) == NTDDI_WINXP) && (SPVER(NTDDI_VERSION) > SPVER(NTDDI_WINXPSP2))) ||  \
     ((OSVER(NTDDI_VERSION) == NTDDI_WS03) && (SPVER(NTDDI_VERSION) >= SPVER(NTDDI_WS03SP1))) ||   \
     (NTDDI_VERSION >= NTDDI_VISTA))
#define FLT_MGR_LONGHORN (NTDDI_VERSION >= NTDDI_VISTA)
#define FLT_MGR_WIN7 (NTDDI_VERSION >= NTDDI_WIN7)
#define FLT_MGR_WIN8 (NTDDI_VERSION >= NTDDI_WIN8)
#define FLT_MGR_WINBLUE (NTDDI_VERSION >= NTDDI_WINBLUE)
#define FLT_MGR_WINTHRESHOLD (NTDDI_VERSION >= NTDDI_WINTHRESHOLD)

#include "ntifs.h"
/* As in the WDK, DEFINE_GUID defines its GUID after fltKernel.h. */
#include "initguid.h"

/* Pointer arithmetic on byte offsets, and rounding to a power of two. */
#define Add2Ptr(P, I) ((PVOID)((PUCHAR)(P) + (I)))
#define PtrOffset(B, O) ((ULONG)((ULONG_PTR)(O) - (ULONG_PTR)(B)))
#define ROUND_TO_SIZE(_length, _alignment)                                                         \
    ((((ULONG_PTR)(_length)) + ((_alignment)-1)) & ~(ULONG_PTR)((_alignment)-1))
#define IS_ALIGNED(_pointer, _alignment) ((((ULONG_PTR)(_pointer)) & ((_alignment)-1)) == 0)

/* The FltMgr types, one piece per part of the interface (fltsim/decl/). */
#include "fltsim/decl/flt_registration.h"
#include "fltsim/decl/flt_parameters.h"
#include "fltsim/decl/flt_callback.h"
#include "fltsim/decl/flt_context.h"
#include "fltsim/decl/flt_name.h"
#include "fltsim/decl/flt_io.h"
#include "fltsim/decl/flt_cbdq.h"
#include "fltsim/decl/flt_port.h"
#include "fltsim/decl/flt_section.h"
#include "fltsim/decl/flt_ecp.h"
#include "fltsim/decl/flt_support.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Assertions are always checked in fltsim (see NT_ASSERT in wdm.h). */
#define FLT_ASSERT(e) NT_ASSERT(e)
#define FLT_ASSERTMSG(m, e) NT_ASSERTMSG(m, e)

/* ---- registration and lifetime (SPEC 1.4) ---- */

/* FltRegisterFilter: validates Registration (SPEC 1.1-1.4) and returns the
 * filter. Statuses: STATUS_INVALID_PARAMETER (bad size, version major byte,
 * operation array, name-provider routines; see README for strict and lenient
 * modes), STATUS_FLT_INVALID_CONTEXT_REGISTRATION, STATUS_OBJECT_NAME_NOT_FOUND
 * (no default instance in the filter's instance table),
 * STATUS_INSUFFICIENT_RESOURCES. */
NTSTATUS FltRegisterFilter(PDRIVER_OBJECT Driver, const FLT_REGISTRATION *Registration,
                           PFLT_FILTER *RetFilter);
/* FltStartFiltering: STATUS_INVALID_PARAMETER when already started. Instance
 * setup for mounted volumes runs inside the call. */
NTSTATUS FltStartFiltering(PFLT_FILTER Filter);
/* FltUnregisterFilter: tears down every instance, then waits until no
 * reference on the filter remains (SPEC 1.4). */
void FltUnregisterFilter(PFLT_FILTER Filter);

/* ---- instances and volumes (SPEC 2) ---- */

#define INSTANCE_NAME_MAX_CHARS 255

NTSTATUS FltAttachVolume(PFLT_FILTER Filter, PFLT_VOLUME Volume, PCUNICODE_STRING InstanceName,
                         PFLT_INSTANCE *RetInstance);
NTSTATUS FltAttachVolumeAtAltitude(PFLT_FILTER Filter, PFLT_VOLUME Volume,
                                   PCUNICODE_STRING Altitude, PCUNICODE_STRING InstanceName,
                                   PFLT_INSTANCE *RetInstance);
NTSTATUS FltDetachVolume(PFLT_FILTER Filter, PFLT_VOLUME Volume, PCUNICODE_STRING InstanceName);
LONG FltCompareInstanceAltitudes(PFLT_INSTANCE Instance1, PFLT_INSTANCE Instance2);

NTSTATUS FltObjectReference(PVOID FltObject);
void FltObjectDereference(PVOID FltObject);

NTSTATUS FltGetVolumeFromInstance(PFLT_INSTANCE Instance, PFLT_VOLUME *RetVolume);
NTSTATUS FltGetFilterFromInstance(PFLT_INSTANCE Instance, PFLT_FILTER *RetFilter);
NTSTATUS FltGetVolumeFromName(PFLT_FILTER Filter, PCUNICODE_STRING VolumeName,
                              PFLT_VOLUME *RetVolume);
NTSTATUS FltGetVolumeFromFileObject(PFLT_FILTER Filter, PFILE_OBJECT FileObject,
                                    PFLT_VOLUME *RetVolume);
NTSTATUS FltGetVolumeInstanceFromName(PFLT_FILTER Filter, PFLT_VOLUME Volume,
                                      PCUNICODE_STRING InstanceName, PFLT_INSTANCE *RetInstance);
NTSTATUS FltGetFilterFromName(PCUNICODE_STRING FilterName, PFLT_FILTER *RetFilter);
NTSTATUS FltGetTopInstance(PFLT_VOLUME Volume, PFLT_INSTANCE *Instance);
NTSTATUS FltGetBottomInstance(PFLT_VOLUME Volume, PFLT_INSTANCE *Instance);
NTSTATUS FltGetUpperInstance(PFLT_INSTANCE CurrentInstance, PFLT_INSTANCE *UpperInstance);
NTSTATUS FltGetLowerInstance(PFLT_INSTANCE CurrentInstance, PFLT_INSTANCE *LowerInstance);
NTSTATUS FltEnumerateFilters(PFLT_FILTER *FilterList, ULONG FilterListSize,
                             PULONG NumberFiltersReturned);
NTSTATUS FltEnumerateVolumes(PFLT_FILTER Filter, PFLT_VOLUME *VolumeList, ULONG VolumeListSize,
                             PULONG NumberVolumesReturned);
NTSTATUS FltEnumerateInstances(PFLT_VOLUME Volume, PFLT_FILTER Filter, PFLT_INSTANCE *InstanceList,
                               ULONG InstanceListSize, PULONG NumberInstancesReturned);
NTSTATUS FltGetVolumeName(PFLT_VOLUME Volume, PUNICODE_STRING VolumeName, PULONG BufferSizeNeeded);
NTSTATUS FltGetFileSystemType(PVOID FltObject, PFLT_FILESYSTEM_TYPE FileSystemType);

/* ---- callback data routines (SPEC 6) ---- */

void FltSetCallbackDataDirty(PFLT_CALLBACK_DATA Data);
void FltClearCallbackDataDirty(PFLT_CALLBACK_DATA Data);
BOOLEAN FltIsCallbackDataDirty(PFLT_CALLBACK_DATA Data);
#define FLT_SET_CALLBACK_DATA_DIRTY(Data) FltSetCallbackDataDirty(Data)
#define FLT_CLEAR_CALLBACK_DATA_DIRTY(Data) FltClearCallbackDataDirty(Data)
#define FLT_IS_CALLBACK_DATA_DIRTY(Data) FltIsCallbackDataDirty(Data)
BOOLEAN FltIsOperationSynchronous(PFLT_CALLBACK_DATA CallbackData);
ULONG FltGetRequestorProcessId(PFLT_CALLBACK_DATA CallbackData);
HANDLE FltGetRequestorProcessIdEx(PFLT_CALLBACK_DATA CallbackData);

/* ---- pending (SPEC 3.3, 4.3, 5.1) ---- */

VOID FltCompletePendedPreOperation(PFLT_CALLBACK_DATA CallbackData,
                                   FLT_PREOP_CALLBACK_STATUS CallbackStatus, PVOID Context);
VOID FltCompletePendedPostOperation(PFLT_CALLBACK_DATA CallbackData);
BOOLEAN FltDoCompletionProcessingWhenSafe(PFLT_CALLBACK_DATA Data,
                                          PCFLT_RELATED_OBJECTS FltObjects,
                                          PVOID CompletionContext, FLT_POST_OPERATION_FLAGS Flags,
                                          PFLT_POST_OPERATION_CALLBACK SafePostCallback,
                                          PFLT_POSTOP_CALLBACK_STATUS RetPostOperationStatus);

/* ---- resources: KeEnterCriticalRegion plus ExAcquireResource*Lite ---- */

VOID FltAcquireResourceExclusive(PERESOURCE Resource);
VOID FltAcquireResourceShared(PERESOURCE Resource);
VOID FltReleaseResource(PERESOURCE Resource);

/* ---- work items (SPEC 5.1, 5.2) ---- */

typedef struct _FLT_DEFERRED_IO_WORKITEM *PFLT_DEFERRED_IO_WORKITEM;
typedef struct _FLT_GENERIC_WORKITEM *PFLT_GENERIC_WORKITEM;

typedef VOID(FLTAPI FLT_DEFERRED_IO_WORKITEM_ROUTINE)(PFLT_DEFERRED_IO_WORKITEM FltWorkItem,
                                                     PFLT_CALLBACK_DATA CallbackData,
                                                     PVOID Context);
typedef FLT_DEFERRED_IO_WORKITEM_ROUTINE *PFLT_DEFERRED_IO_WORKITEM_ROUTINE;
typedef VOID(FLTAPI FLT_GENERIC_WORKITEM_ROUTINE)(PFLT_GENERIC_WORKITEM FltWorkItem,
                                                 PVOID FltObject, PVOID Context);
typedef FLT_GENERIC_WORKITEM_ROUTINE *PFLT_GENERIC_WORKITEM_ROUTINE;

PFLT_DEFERRED_IO_WORKITEM FltAllocateDeferredIoWorkItem(VOID);
VOID FltFreeDeferredIoWorkItem(PFLT_DEFERRED_IO_WORKITEM FltWorkItem);
NTSTATUS FltQueueDeferredIoWorkItem(PFLT_DEFERRED_IO_WORKITEM FltWorkItem,
                                    PFLT_CALLBACK_DATA Data,
                                    PFLT_DEFERRED_IO_WORKITEM_ROUTINE WorkerRoutine,
                                    WORK_QUEUE_TYPE QueueType, PVOID Context);
PFLT_GENERIC_WORKITEM FltAllocateGenericWorkItem(VOID);
VOID FltFreeGenericWorkItem(PFLT_GENERIC_WORKITEM FltWorkItem);
NTSTATUS FltQueueGenericWorkItem(PFLT_GENERIC_WORKITEM FltWorkItem, PVOID FltObject,
                                 PFLT_GENERIC_WORKITEM_ROUTINE WorkerRoutine,
                                 WORK_QUEUE_TYPE QueueType, PVOID Context);

/* ---- I/O a filter initiates (SPEC 2.3, 4.5) ---- */

typedef VOID(FLTAPI *PFLT_COMPLETED_ASYNC_IO_CALLBACK)(PFLT_CALLBACK_DATA CallbackData,
                                                       PFLT_CONTEXT Context);

typedef ULONG FLT_IO_OPERATION_FLAGS;
#define FLTFL_IO_OPERATION_NON_CACHED 0x00000001
#define FLTFL_IO_OPERATION_PAGING 0x00000002
#define FLTFL_IO_OPERATION_DO_NOT_UPDATE_BYTE_OFFSET 0x00000004
#define FLTFL_IO_OPERATION_SYNCHRONOUS_PAGING 0x00000008

/* FltReadFile / FltWriteFile: a read or write that only the instances below
 * InitiatingInstance and the file system see, marked
 * FLTFL_CALLBACK_DATA_GENERATED_IO, RequestorMode KernelMode. PASSIVE_LEVEL
 * (a V28 report and STATUS_INVALID_DEVICE_STATE above it). ByteOffset NULL
 * means the current byte offset of a synchronous file object
 * (STATUS_INVALID_PARAMETER for another). Returns the file system's (or a
 * lower filter's) final status; *BytesRead (*BytesWritten) gets the byte count.
 * fltsim differs: only synchronous calls are modeled; a CallbackRoutine gets
 * a report and STATUS_NOT_IMPLEMENTED. */
NTSTATUS FltReadFile(PFLT_INSTANCE InitiatingInstance, PFILE_OBJECT FileObject,
                     PLARGE_INTEGER ByteOffset, ULONG Length, PVOID Buffer,
                     FLT_IO_OPERATION_FLAGS Flags, PULONG BytesRead,
                     PFLT_COMPLETED_ASYNC_IO_CALLBACK CallbackRoutine, PVOID CallbackContext);
NTSTATUS FltWriteFile(PFLT_INSTANCE InitiatingInstance, PFILE_OBJECT FileObject,
                      PLARGE_INTEGER ByteOffset, ULONG Length, PVOID Buffer,
                      FLT_IO_OPERATION_FLAGS Flags, PULONG BytesWritten,
                      PFLT_COMPLETED_ASYNC_IO_CALLBACK CallbackRoutine, PVOID CallbackContext);

/* FltCancelFileOpen: from a post-create (running, or pended in it) of a
 * create the file system opened, before a handle exists: sets
 * FO_FILE_OPEN_CANCELLED and sends IRP_MJ_CLOSE to the instances below
 * Instance and the file system. The filter then fails the create in IoStatus.
 * Misuse is a V24 report and nothing happens (Windows: bugcheck 0xF5/0x6A
 * after a handle exists). */
VOID FltCancelFileOpen(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_FLTKERNEL_H */
