/*
 * Zw: the registry routines (ZwOpenKey, ZwQueryValueKey, ZwClose) and the
 * file routines of wdm.h (ZwCreateFile ... ZwSetInformationFile).
 * Part of the WDK surface: include <wdm.h>, not this file.
 */
#ifndef FLTSIM_WDK_ZW_H
#define FLTSIM_WDK_ZW_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- registry (ZwOpenKey, ZwQueryValueKey, ZwClose) ---- */

/* Value types. */
#define REG_NONE 0
#define REG_SZ 1
#define REG_EXPAND_SZ 2
#define REG_BINARY 3
#define REG_DWORD 4
#define REG_DWORD_LITTLE_ENDIAN 4
#define REG_DWORD_BIG_ENDIAN 5
#define REG_LINK 6
#define REG_MULTI_SZ 7
#define REG_RESOURCE_LIST 8
#define REG_FULL_RESOURCE_DESCRIPTOR 9
#define REG_RESOURCE_REQUIREMENTS_LIST 10
#define REG_QWORD 11
#define REG_QWORD_LITTLE_ENDIAN 11

/* Key access rights. */
#define KEY_QUERY_VALUE 0x0001
#define KEY_SET_VALUE 0x0002
#define KEY_CREATE_SUB_KEY 0x0004
#define KEY_ENUMERATE_SUB_KEYS 0x0008
#define KEY_NOTIFY 0x0010
#define KEY_CREATE_LINK 0x0020
#define KEY_WOW64_32KEY 0x0200
#define KEY_WOW64_64KEY 0x0100
#define KEY_WOW64_RES 0x0300
#define KEY_READ                                                                                   \
    ((STANDARD_RIGHTS_READ | KEY_QUERY_VALUE | KEY_ENUMERATE_SUB_KEYS | KEY_NOTIFY) &              \
     (~SYNCHRONIZE))
#define KEY_WRITE ((STANDARD_RIGHTS_WRITE | KEY_SET_VALUE | KEY_CREATE_SUB_KEY) & (~SYNCHRONIZE))
#define KEY_EXECUTE ((KEY_READ) & (~SYNCHRONIZE))
#define KEY_ALL_ACCESS                                                                             \
    ((STANDARD_RIGHTS_ALL | KEY_QUERY_VALUE | KEY_SET_VALUE | KEY_CREATE_SUB_KEY |                 \
      KEY_ENUMERATE_SUB_KEYS | KEY_NOTIFY | KEY_CREATE_LINK) &                                     \
     (~SYNCHRONIZE))

typedef enum _KEY_VALUE_INFORMATION_CLASS {
    KeyValueBasicInformation,
    KeyValueFullInformation,
    KeyValuePartialInformation,
    KeyValueFullInformationAlign64,
    KeyValuePartialInformationAlign64,
    KeyValueLayerInformation,
    MaxKeyValueInfoClass
} KEY_VALUE_INFORMATION_CLASS;

typedef struct _KEY_VALUE_BASIC_INFORMATION {
    ULONG TitleIndex;
    ULONG Type;
    ULONG NameLength;
    WCHAR Name[1];
} KEY_VALUE_BASIC_INFORMATION, *PKEY_VALUE_BASIC_INFORMATION;

typedef struct _KEY_VALUE_FULL_INFORMATION {
    ULONG TitleIndex;
    ULONG Type;
    ULONG DataOffset;
    ULONG DataLength;
    ULONG NameLength;
    WCHAR Name[1];
} KEY_VALUE_FULL_INFORMATION, *PKEY_VALUE_FULL_INFORMATION;

typedef struct _KEY_VALUE_PARTIAL_INFORMATION {
    ULONG TitleIndex;
    ULONG Type;
    ULONG DataLength;
    UCHAR Data[1];
} KEY_VALUE_PARTIAL_INFORMATION, *PKEY_VALUE_PARTIAL_INFORMATION;

typedef struct _KEY_VALUE_PARTIAL_INFORMATION_ALIGN64 {
    ULONG Type;
    ULONG DataLength;
    UCHAR Data[1];
} KEY_VALUE_PARTIAL_INFORMATION_ALIGN64, *PKEY_VALUE_PARTIAL_INFORMATION_ALIGN64;

/* ZwOpenKey: opens a key of the fake registry (fltsim_registry_set_value fills
 * it) by full path ("\Registry\Machine\...") or relative to RootDirectory.
 * Key names are always compared case-insensitively, as Cm does. The registry
 * is the one of the system whose filter code runs on the calling thread (or
 * RootDirectory's). PASSIVE_LEVEL (verifier V28). STATUS_OBJECT_NAME_NOT_FOUND
 * for a missing key; STATUS_OBJECT_PATH_SYNTAX_BAD for a relative name without
 * RootDirectory or an absolute one with it; STATUS_INVALID_HANDLE for a bad
 * RootDirectory. *KeyHandle is NULL on failure. A handle still open when its
 * driver unloads is reported (V23). */
NTSTATUS ZwOpenKey(PHANDLE KeyHandle, ACCESS_MASK DesiredAccess,
                   POBJECT_ATTRIBUTES ObjectAttributes);
/* ZwQueryValueKey: Basic, Full, Partial and their Align64 variants.
 * *ResultLength is always set (the full size needed for SUCCESS, OVERFLOW and
 * TOO_SMALL; 0 otherwise). STATUS_BUFFER_TOO_SMALL when Length cannot hold the
 * fixed part (nothing written); STATUS_BUFFER_OVERFLOW with the fixed part
 * filled and as much name and data as fit. STATUS_ACCESS_DENIED without
 * KEY_QUERY_VALUE; STATUS_KEY_DELETED once the key is deleted. KeyValueLayer-
 * Information is not modeled (STATUS_NOT_IMPLEMENTED). PASSIVE_LEVEL. */
NTSTATUS ZwQueryValueKey(HANDLE KeyHandle, PUNICODE_STRING ValueName,
                         KEY_VALUE_INFORMATION_CLASS KeyValueInformationClass,
                         PVOID KeyValueInformation, ULONG Length, PULONG ResultLength);
/* ZwClose: closes a handle from ZwOpenKey, or a file handle (ZwCreateFile,
 * FltCreateFile). A handle that is not open returns STATUS_INVALID_HANDLE and
 * is reported (V23; on Windows a bugcheck). PASSIVE_LEVEL. */
NTSTATUS ZwClose(HANDLE Handle);

/* ---- files (wdm.h): the I/O a driver sends to the top of the stack ---- */

/* Opens through the whole filter stack, kernel mode: a kernel handle with
 * OBJ_KERNEL_HANDLE, else a handle of the current process. A filter calling
 * it from its own callbacks sees its own create again. PASSIVE_LEVEL. */
NTSTATUS ZwCreateFile(PHANDLE FileHandle, ACCESS_MASK DesiredAccess,
                      POBJECT_ATTRIBUTES ObjectAttributes, PIO_STATUS_BLOCK IoStatusBlock,
                      PLARGE_INTEGER AllocationSize, ULONG FileAttributes, ULONG ShareAccess,
                      ULONG CreateDisposition, ULONG CreateOptions, PVOID EaBuffer, ULONG EaLength);
NTSTATUS ZwOpenFile(PHANDLE FileHandle, ACCESS_MASK DesiredAccess,
                    POBJECT_ATTRIBUTES ObjectAttributes, PIO_STATUS_BLOCK IoStatusBlock,
                    ULONG ShareAccess, ULONG OpenOptions);
/* Synchronous: the call returns when the request completed (Event, when
 * given, is set then); an ApcRoutine is not modeled (STATUS_NOT_SUPPORTED). */
NTSTATUS ZwReadFile(HANDLE FileHandle, HANDLE Event, PIO_APC_ROUTINE ApcRoutine, PVOID ApcContext,
                    PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer, ULONG Length,
                    PLARGE_INTEGER ByteOffset, PULONG Key);
NTSTATUS ZwWriteFile(HANDLE FileHandle, HANDLE Event, PIO_APC_ROUTINE ApcRoutine, PVOID ApcContext,
                     PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer, ULONG Length,
                     PLARGE_INTEGER ByteOffset, PULONG Key);
NTSTATUS ZwQueryInformationFile(HANDLE FileHandle, PIO_STATUS_BLOCK IoStatusBlock,
                                PVOID FileInformation, ULONG Length,
                                FILE_INFORMATION_CLASS FileInformationClass);
NTSTATUS ZwSetInformationFile(HANDLE FileHandle, PIO_STATUS_BLOCK IoStatusBlock,
                              PVOID FileInformation, ULONG Length,
                              FILE_INFORMATION_CLASS FileInformationClass);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_ZW_H */
