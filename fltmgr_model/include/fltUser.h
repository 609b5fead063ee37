/*
 * fltUser.h for fltsim: the Filter Manager's user-mode library (fltlib) as a
 * user program sees it: the communication ports (SPEC 8: connect, send, get,
 * reply; CloseHandle on the port is winbase.h's) and the management routines.
 * Calls act on the system of the calling simulated thread (a thread of a
 * simulated process, fltsim/program.h, or one fltsim_thread_spawn started).
 * FilterGetMessage with an OVERLAPPED always returns
 * HRESULT_FROM_WIN32(ERROR_IO_PENDING) and completes through the OVERLAPPED's
 * event and the I/O completion port the handle is associated with.
 */
#ifndef FLTSIM_FLTUSER_H
#define FLTSIM_FLTUSER_H

#include "fltsim/decl/flt_fstype.h"
#include "fltsim/decl/winbase.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FLT_PORT_FLAG_SYNC_HANDLE 0x00000001
#define INSTANCE_NAME_MAX_CHARS 255 /* fltUserStructures.h's, as fltKernel.h's */

typedef struct _FILTER_MESSAGE_HEADER {
    ULONG ReplyLength; /* the reply the filter expects, FILTER_REPLY_HEADER included; 0: none */
    ULONGLONG MessageId;
} FILTER_MESSAGE_HEADER, *PFILTER_MESSAGE_HEADER;

typedef struct _FILTER_REPLY_HEADER {
    NTSTATUS Status;
    ULONGLONG MessageId;
} FILTER_REPLY_HEADER, *PFILTER_REPLY_HEADER;

HRESULT FilterConnectCommunicationPort(LPCWSTR lpPortName, DWORD dwOptions, LPCVOID lpContext,
                                       WORD wSizeOfContext,
                                       LPSECURITY_ATTRIBUTES lpSecurityAttributes, HANDLE *hPort);
HRESULT FilterSendMessage(HANDLE hPort, LPVOID lpInBuffer, DWORD dwInBufferSize, LPVOID lpOutBuffer,
                          DWORD dwOutBufferSize, LPDWORD lpBytesReturned);
HRESULT FilterGetMessage(HANDLE hPort, PFILTER_MESSAGE_HEADER lpMessageBuffer,
                         DWORD dwMessageBufferSize, LPOVERLAPPED lpOverlapped);
HRESULT FilterReplyMessage(HANDLE hPort, PFILTER_REPLY_HEADER lpReplyBuffer,
                           DWORD dwReplyBufferSize);
/* ---- the management routines (fltlib.c; fltUserStructures.h's layouts) ---- */

typedef enum _FILTER_INFORMATION_CLASS {
    FilterFullInformation,
    FilterAggregateBasicInformation,
    FilterAggregateStandardInformation
} FILTER_INFORMATION_CLASS,
    *PFILTER_INFORMATION_CLASS;

typedef struct _FILTER_FULL_INFORMATION {
    ULONG NextEntryOffset;
    ULONG FrameID;
    ULONG NumberOfInstances;
    USHORT FilterNameLength; /* bytes */
    WCHAR FilterNameBuffer[1];
} FILTER_FULL_INFORMATION, *PFILTER_FULL_INFORMATION;

#define FLTFL_AGGREGATE_INFO_IS_MINIFILTER 0x00000001
#define FLTFL_AGGREGATE_INFO_IS_LEGACYFILTER 0x00000002

/* The names follow the structure; offsets are from its start, lengths in bytes. */
typedef struct _FILTER_AGGREGATE_BASIC_INFORMATION {
    ULONG NextEntryOffset;
    ULONG Flags; /* FLTFL_AGGREGATE_INFO_IS_*; always a minifilter here */
    union {
        struct {
            ULONG FrameID;
            ULONG NumberOfInstances;
            USHORT FilterNameLength;
            USHORT FilterNameBufferOffset;
            USHORT FilterAltitudeLength;
            USHORT FilterAltitudeBufferOffset;
        } MiniFilter;
        struct {
            USHORT FilterNameLength;
            USHORT FilterNameBufferOffset;
        } LegacyFilter;
    } Type;
} FILTER_AGGREGATE_BASIC_INFORMATION, *PFILTER_AGGREGATE_BASIC_INFORMATION;

#define FLTFL_ASI_IS_MINIFILTER 0x00000001
#define FLTFL_ASI_IS_LEGACYFILTER 0x00000002

/* The names follow the structure; offsets are from its start, lengths in bytes. */
typedef struct _FILTER_AGGREGATE_STANDARD_INFORMATION {
    ULONG NextEntryOffset;
    ULONG Flags; /* FLTFL_ASI_IS_*; always a minifilter here */
    union {
        struct {
            ULONG Flags; /* none defined */
            ULONG FrameID;
            ULONG NumberOfInstances;
            USHORT FilterNameLength;
            USHORT FilterNameBufferOffset;
            USHORT FilterAltitudeLength;
            USHORT FilterAltitudeBufferOffset;
        } MiniFilter;
        struct {
            ULONG Flags;
            USHORT FilterNameLength;
            USHORT FilterNameBufferOffset;
            USHORT FilterAltitudeLength;
            USHORT FilterAltitudeBufferOffset;
        } LegacyFilter;
    } Type;
} FILTER_AGGREGATE_STANDARD_INFORMATION, *PFILTER_AGGREGATE_STANDARD_INFORMATION;

typedef enum _FILTER_VOLUME_INFORMATION_CLASS {
    FilterVolumeBasicInformation,
    FilterVolumeStandardInformation
} FILTER_VOLUME_INFORMATION_CLASS,
    *PFILTER_VOLUME_INFORMATION_CLASS;

typedef struct _FILTER_VOLUME_BASIC_INFORMATION {
    USHORT FilterVolumeNameLength; /* bytes */
    WCHAR FilterVolumeName[1];
} FILTER_VOLUME_BASIC_INFORMATION, *PFILTER_VOLUME_BASIC_INFORMATION;

#define FLTFL_VSI_DETACHED_VOLUME 0x00000001

typedef struct _FILTER_VOLUME_STANDARD_INFORMATION {
    ULONG NextEntryOffset;
    ULONG Flags; /* FLTFL_VSI_DETACHED_VOLUME: never here */
    ULONG FrameID;
    FLT_FILESYSTEM_TYPE FileSystemType;
    USHORT FilterVolumeNameLength; /* bytes */
    WCHAR FilterVolumeName[1];
} FILTER_VOLUME_STANDARD_INFORMATION, *PFILTER_VOLUME_STANDARD_INFORMATION;

typedef enum _INSTANCE_INFORMATION_CLASS {
    InstanceBasicInformation,
    InstancePartialInformation,
    InstanceFullInformation,
    InstanceAggregateStandardInformation
} INSTANCE_INFORMATION_CLASS,
    *PINSTANCE_INFORMATION_CLASS;

/* The names follow the structure; offsets are from its start, lengths in bytes. */
typedef struct _INSTANCE_BASIC_INFORMATION {
    ULONG NextEntryOffset;
    USHORT InstanceNameLength;
    USHORT InstanceNameBufferOffset;
} INSTANCE_BASIC_INFORMATION, *PINSTANCE_BASIC_INFORMATION;

typedef struct _INSTANCE_PARTIAL_INFORMATION {
    ULONG NextEntryOffset;
    USHORT InstanceNameLength;
    USHORT InstanceNameBufferOffset;
    USHORT AltitudeLength;
    USHORT AltitudeBufferOffset;
} INSTANCE_PARTIAL_INFORMATION, *PINSTANCE_PARTIAL_INFORMATION;

typedef struct _INSTANCE_FULL_INFORMATION {
    ULONG NextEntryOffset;
    USHORT InstanceNameLength;
    USHORT InstanceNameBufferOffset;
    USHORT AltitudeLength;
    USHORT AltitudeBufferOffset;
    USHORT VolumeNameLength;
    USHORT VolumeNameBufferOffset;
    USHORT FilterNameLength;
    USHORT FilterNameBufferOffset;
} INSTANCE_FULL_INFORMATION, *PINSTANCE_FULL_INFORMATION;

#define FLTFL_IASI_IS_MINIFILTER 0x00000001
#define FLTFL_IASI_IS_LEGACYFILTER 0x00000002
#define FLTFL_IASIM_DETACHED_VOLUME 0x00000001
#define FLTFL_IASIL_DETACHED_VOLUME 0x00000001

/* The names follow the structure; offsets are from its start, lengths in bytes. */
typedef struct _INSTANCE_AGGREGATE_STANDARD_INFORMATION {
    ULONG NextEntryOffset;
    ULONG Flags; /* FLTFL_IASI_IS_*; always a minifilter here */
    union {
        struct {
            ULONG Flags; /* FLTFL_IASIM_DETACHED_VOLUME: never here */
            ULONG FrameID;
            FLT_FILESYSTEM_TYPE VolumeFileSystemType;
            USHORT InstanceNameLength;
            USHORT InstanceNameBufferOffset;
            USHORT AltitudeLength;
            USHORT AltitudeBufferOffset;
            USHORT VolumeNameLength;
            USHORT VolumeNameBufferOffset;
            USHORT FilterNameLength;
            USHORT FilterNameBufferOffset;
            ULONG SupportedFeatures;
        } MiniFilter;
        struct {
            ULONG Flags;
            USHORT AltitudeLength;
            USHORT AltitudeBufferOffset;
            USHORT VolumeNameLength;
            USHORT VolumeNameBufferOffset;
            USHORT FilterNameLength;
            USHORT FilterNameBufferOffset;
            ULONG SupportedFeatures;
        } LegacyFilter;
    } Type;
} INSTANCE_AGGREGATE_STANDARD_INFORMATION, *PINSTANCE_AGGREGATE_STANDARD_INFORMATION;

/* The find routines enumerate a copy of the lists taken at FindFirst, one
 * entry a call (NextEntryOffset 0, FrameID 0), in any class of the SDK. At
 * the end: HRESULT_FROM_WIN32(ERROR_NO_MORE_ITEMS); a buffer too small:
 * HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER) with *lpBytesReturned the size
 * needed (the entry is not consumed); another class:
 * HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER). A find handle is the opening
 * process's (another's, or one closed, is ERROR_INVALID_HANDLE); it is closed
 * when that process ends, and freed with its system. */
HRESULT FilterFindFirst(FILTER_INFORMATION_CLASS dwInformationClass, LPVOID lpBuffer,
                        DWORD dwBufferSize, LPDWORD lpBytesReturned, LPHANDLE lpFilterFind);
HRESULT FilterFindNext(HANDLE hFilterFind, FILTER_INFORMATION_CLASS dwInformationClass,
                       LPVOID lpBuffer, DWORD dwBufferSize, LPDWORD lpBytesReturned);
HRESULT FilterFindClose(HANDLE hFilterFind);
HRESULT FilterVolumeFindFirst(FILTER_VOLUME_INFORMATION_CLASS dwInformationClass, LPVOID lpBuffer,
                              DWORD dwBufferSize, LPDWORD lpBytesReturned, PHANDLE lpVolumeFind);
HRESULT FilterVolumeFindNext(HANDLE hVolumeFind, FILTER_VOLUME_INFORMATION_CLASS dwInformationClass,
                             LPVOID lpBuffer, DWORD dwBufferSize, LPDWORD lpBytesReturned);
HRESULT FilterVolumeFindClose(HANDLE hVolumeFind);
HRESULT FilterVolumeInstanceFindFirst(LPCWSTR lpVolumeName,
                                      INSTANCE_INFORMATION_CLASS dwInformationClass,
                                      LPVOID lpBuffer, DWORD dwBufferSize, LPDWORD lpBytesReturned,
                                      LPHANDLE lpVolumeInstanceFind);
HRESULT FilterVolumeInstanceFindNext(HANDLE hVolumeInstanceFind,
                                     INSTANCE_INFORMATION_CLASS dwInformationClass, LPVOID lpBuffer,
                                     DWORD dwBufferSize, LPDWORD lpBytesReturned);
HRESULT FilterVolumeInstanceFindClose(HANDLE hVolumeInstanceFind);
/* A filter's instances on all volumes; an unknown filter: ERROR_FLT_FILTER_NOT_FOUND. */
HRESULT FilterInstanceFindFirst(LPCWSTR lpFilterName, INSTANCE_INFORMATION_CLASS dwInformationClass,
                                LPVOID lpBuffer, DWORD dwBufferSize, LPDWORD lpBytesReturned,
                                LPHANDLE lpFilterInstanceFind);
HRESULT FilterInstanceFindNext(HANDLE hFilterInstanceFind,
                               INSTANCE_INFORMATION_CLASS dwInformationClass, LPVOID lpBuffer,
                               DWORD dwBufferSize, LPDWORD lpBytesReturned);
HRESULT FilterInstanceFindClose(HANDLE hFilterInstanceFind);
/* The DOS name ("C:") of a volume given by its device name. */
HRESULT FilterGetDosName(LPCWSTR lpVolumeName, LPWSTR lpDosName, DWORD dwDosNameBufferSize);
/* Attaches the filter's instance lpInstanceName (NULL: its default instance)
 * to the volume, given by device name or "X:", as FltAttachVolume; the name of
 * the instance created is copied to lpCreatedInstanceName when given
 * (dwCreatedInstanceNameLength in bytes). An unknown filter:
 * ERROR_FLT_FILTER_NOT_FOUND (0x801F0013); an unknown volume:
 * ERROR_FLT_VOLUME_NOT_FOUND (0x801F0014). */
HRESULT FilterAttach(LPCWSTR lpFilterName, LPCWSTR lpVolumeName, LPCWSTR lpInstanceName,
                     DWORD dwCreatedInstanceNameLength, LPWSTR lpCreatedInstanceName);
/* Detaches an instance (NULL: the filter's highest one there), as FltDetachVolume. */
HRESULT FilterDetach(LPCWSTR lpFilterName, LPCWSTR lpVolumeName, LPCWSTR lpInstanceName);
/* The model has no catalog of driver images: FilterLoad of a service not loaded
 * gives HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND), of one loaded
 * ERROR_SERVICE_ALREADY_RUNNING. FilterUnload unloads a loaded driver as
 * `fltmc unload` does (its unload callback may refuse). */
HRESULT FilterLoad(LPCWSTR lpFilterName);
HRESULT FilterUnload(LPCWSTR lpFilterName);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_FLTUSER_H */
