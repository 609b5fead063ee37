/*
 * FltMgr: file names, as FltMgr builds, caches and parses them
 * (FLT_FILE_NAME_INFORMATION), and the name-provider interface through which
 * a filter that changes the namespace generates and normalizes names.
 * Part of the WDK surface: include <fltKernel.h>, not this file.
 */
#ifndef FLTSIM_WDK_FLT_NAME_H
#define FLTSIM_WDK_FLT_NAME_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- name options: format (bits 0-7), query method (8-15), flags (24-31) ---- */

#define FLT_VALID_FILE_NAME_FORMATS 0x000000ff
#define FLT_FILE_NAME_NORMALIZED 0x01
#define FLT_FILE_NAME_OPENED 0x02
#define FLT_FILE_NAME_SHORT 0x03
#define FltGetFileNameFormat(_NameOptions) ((_NameOptions)&FLT_VALID_FILE_NAME_FORMATS)

#define FLT_VALID_FILE_NAME_QUERY_METHODS 0x0000ff00
#define FLT_FILE_NAME_QUERY_DEFAULT 0x0100
#define FLT_FILE_NAME_QUERY_CACHE_ONLY 0x0200
#define FLT_FILE_NAME_QUERY_FILESYSTEM_ONLY 0x0300
#define FLT_FILE_NAME_QUERY_ALWAYS_ALLOW_CACHE_LOOKUP 0x0400
#define FltGetFileNameQueryMethod(_NameOptions) ((_NameOptions)&FLT_VALID_FILE_NAME_QUERY_METHODS)

#define FLT_VALID_FILE_NAME_FLAGS 0xff000000
#define FLT_FILE_NAME_REQUEST_FROM_CURRENT_PROVIDER 0x01000000
#define FLT_FILE_NAME_DO_NOT_CACHE 0x02000000
#define FLT_FILE_NAME_ALLOW_QUERY_ON_REPARSE 0x04000000

/* ---- name information ---- */

typedef USHORT FLT_FILE_NAME_PARSED_FLAGS;
#define FLTFL_FILE_NAME_PARSED_FINAL_COMPONENT 0x0001
#define FLTFL_FILE_NAME_PARSED_EXTENSION 0x0002
#define FLTFL_FILE_NAME_PARSED_STREAM 0x0004
#define FLTFL_FILE_NAME_PARSED_PARENT_DIR 0x0008

/* Name is [Volume][ParentDir][FinalComponent] with FinalComponent holding
 * the Extension and the Stream; for a short name, only the last component. */
typedef struct _FLT_FILE_NAME_INFORMATION {
    USHORT Size;
    FLT_FILE_NAME_PARSED_FLAGS NamesParsed;
    FLT_FILE_NAME_OPTIONS Format;
    UNICODE_STRING Name;
    UNICODE_STRING Volume;
    UNICODE_STRING Share;
    UNICODE_STRING Extension;
    UNICODE_STRING Stream;
    UNICODE_STRING FinalComponent;
    UNICODE_STRING ParentDir;
} FLT_FILE_NAME_INFORMATION, *PFLT_FILE_NAME_INFORMATION;

/* The name comes referenced; FltReleaseFileNameInformation drops it. */
NTSTATUS FltGetFileNameInformation(PFLT_CALLBACK_DATA CallbackData,
                                   FLT_FILE_NAME_OPTIONS NameOptions,
                                   PFLT_FILE_NAME_INFORMATION *FileNameInformation);
NTSTATUS FltGetFileNameInformationUnsafe(PFILE_OBJECT FileObject, PFLT_INSTANCE Instance,
                                         FLT_FILE_NAME_OPTIONS NameOptions,
                                         PFLT_FILE_NAME_INFORMATION *FileNameInformation);
VOID FltReleaseFileNameInformation(PFLT_FILE_NAME_INFORMATION FileNameInformation);
VOID FltReferenceFileNameInformation(PFLT_FILE_NAME_INFORMATION FileNameInformation);
NTSTATUS FltParseFileName(PCUNICODE_STRING FileName, PUNICODE_STRING Extension,
                          PUNICODE_STRING Stream, PUNICODE_STRING FinalComponent);
NTSTATUS FltParseFileNameInformation(PFLT_FILE_NAME_INFORMATION FileNameInformation);
NTSTATUS FltGetTunneledName(PFLT_CALLBACK_DATA CallbackData,
                            PFLT_FILE_NAME_INFORMATION FileNameInformation,
                            PFLT_FILE_NAME_INFORMATION *RetTunneledFileNameInformation);
NTSTATUS FltGetDestinationFileNameInformation(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject,
                                              HANDLE RootDirectory, PWSTR FileName,
                                              ULONG FileNameLength,
                                              FLT_FILE_NAME_OPTIONS NameOptions,
                                              PFLT_FILE_NAME_INFORMATION *RetFileNameInformation);
NTSTATUS FltIsDirectory(PFILE_OBJECT FileObject, PFLT_INSTANCE Instance, PBOOLEAN IsDirectory);
NTSTATUS FltPurgeFileNameInformationCache(PFLT_INSTANCE Instance, PFILE_OBJECT FileObject);
NTSTATUS FltGetVolumeGuidName(PFLT_VOLUME Volume, PUNICODE_STRING VolumeGuidName,
                              PULONG BufferSizeNeeded);

/* The routines that hand out a reference record where they were called, so
 * that a reference still held at unload names the file and line (V22). The
 * functions above stay callable by address; such calls have no site. Define
 * FLTSIM_NO_NAME_SITES before including to get the plain functions only. */
NTSTATUS fltsim_FltGetFileNameInformation_at(PFLT_CALLBACK_DATA CallbackData,
                                             FLT_FILE_NAME_OPTIONS NameOptions,
                                             PFLT_FILE_NAME_INFORMATION *FileNameInformation,
                                             const char *file, int line);
NTSTATUS fltsim_FltGetFileNameInformationUnsafe_at(PFILE_OBJECT FileObject, PFLT_INSTANCE Instance,
                                                   FLT_FILE_NAME_OPTIONS NameOptions,
                                                   PFLT_FILE_NAME_INFORMATION *FileNameInformation,
                                                   const char *file, int line);
void fltsim_FltReferenceFileNameInformation_at(PFLT_FILE_NAME_INFORMATION FileNameInformation,
                                               const char *file, int line);
NTSTATUS fltsim_FltGetDestinationFileNameInformation_at(
    PFLT_INSTANCE Instance, PFILE_OBJECT FileObject, HANDLE RootDirectory, PWSTR FileName,
    ULONG FileNameLength, FLT_FILE_NAME_OPTIONS NameOptions,
    PFLT_FILE_NAME_INFORMATION *RetFileNameInformation, const char *file, int line);
#ifndef FLTSIM_NO_NAME_SITES
#define FltGetFileNameInformation(d, o, n)                                                         \
    fltsim_FltGetFileNameInformation_at((d), (o), (n), __FILE__, __LINE__)
#define FltGetFileNameInformationUnsafe(f, i, o, n)                                                \
    fltsim_FltGetFileNameInformationUnsafe_at((f), (i), (o), (n), __FILE__, __LINE__)
#define FltReferenceFileNameInformation(n)                                                         \
    fltsim_FltReferenceFileNameInformation_at((n), __FILE__, __LINE__)
#define FltGetDestinationFileNameInformation(i, f, r, n, l, o, ret)                                \
    fltsim_FltGetDestinationFileNameInformation_at((i), (f), (r), (n), (l), (o), (ret), __FILE__,  \
                                                   __LINE__)
#endif

/* ---- name providers ---- */

typedef struct _FLT_NAME_CONTROL {
    UNICODE_STRING Name;
} FLT_NAME_CONTROL;

#define FLTFL_NORMALIZE_NAME_CASE_SENSITIVE 0x01
#define FLTFL_NORMALIZE_NAME_DESTINATION_FILE_NAME 0x02

/* Makes sure NameCtrl->Name can hold NewSize bytes, keeping its contents. */
NTSTATUS FltCheckAndGrowNameControl(PFLT_NAME_CONTROL NameCtrl, USHORT NewSize);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_FLT_NAME_H */
