/*
 * More of the Win32 API and the Microsoft C runtime for fltsim's user-mode
 * programs (windows.h includes it), the part Microsoft's scanner, minispy and
 * avscan user programs use besides winbase.h's: file times and SYSTEMTIME,
 * FormatMessage over the system's messages for the errors fltsim returns,
 * GetSystemDirectory, LoadLibraryEx/FreeLibrary (no module exists in the
 * simulation: every load fails with ERROR_MOD_NOT_FOUND), MultiByteToWideChar,
 * sprintf_s, _strnicmp and fopen_s (a file of the host). Defined in
 * fltmgr_model/src/win32/misc.c and crt_user.c; file mapping (views of the
 * sections a filter hands the program) and VirtualQuery (of those views
 * only) in mapping.c.
 */
#ifndef FLTSIM_WDK_WINBASE_EXTRA_H
#define FLTSIM_WDK_WINBASE_EXTRA_H

#include <stdio.h>

#include "winerror.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- winerror.h: more codes and HRESULT macros ---- */

#define SEVERITY_SUCCESS 0
#define SEVERITY_ERROR 1
#define FACILITY_WIN32 7
#define MAKE_HRESULT(sev, fac, code)                                                               \
    ((HRESULT)(((unsigned long)(sev) << 31) | ((unsigned long)(fac) << 16) |                       \
               ((unsigned long)(code))))
#define E_POINTER ((HRESULT)0x80004003L)
#define E_HANDLE ((HRESULT)0x80070006L)
#define E_NOTIMPL ((HRESULT)0x80004001L)
#define E_ABORT ((HRESULT)0x80004004L)
#define E_ACCESSDENIED ((HRESULT)0x80070005L)
#define ERROR_MOD_NOT_FOUND 126L
#define ERROR_MR_MID_NOT_FOUND 317L
#define ERROR_INVALID_FLAGS 1004L
#define ERROR_RESOURCE_TYPE_NOT_FOUND 1813L
#define ERROR_RESOURCE_LANG_NOT_FOUND 1815L
#define ERROR_NO_UNICODE_TRANSLATION 1113L

/* ---- winnt.h: reparse tags (as fltsim/decl/fsctl.h has them) ---- */

#define IO_REPARSE_TAG_MOUNT_POINT (0xA0000003L)
#define IO_REPARSE_TAG_HSM (0xC0000004L)
#define IO_REPARSE_TAG_SIS (0x80000007L)
#define IO_REPARSE_TAG_DFS (0x8000000AL)
#define IO_REPARSE_TAG_SYMLINK (0xA000000CL)
#define IO_REPARSE_TAG_DFSR (0x80000012L)

#define MAKELANGID(p, s) ((((WORD)(s)) << 10) | (WORD)(p))
#define LANG_NEUTRAL 0x00
#define LANG_ENGLISH 0x09
#define SUBLANG_NEUTRAL 0x00
#define SUBLANG_DEFAULT 0x01
#define SUBLANG_ENGLISH_US 0x01

/* ---- file times ---- */

typedef struct _FILETIME {
    DWORD dwLowDateTime;
    DWORD dwHighDateTime;
} FILETIME, *PFILETIME, *LPFILETIME;

typedef struct _SYSTEMTIME {
    WORD wYear;
    WORD wMonth;
    WORD wDayOfWeek;
    WORD wDay;
    WORD wHour;
    WORD wMinute;
    WORD wSecond;
    WORD wMilliseconds;
} SYSTEMTIME, *PSYSTEMTIME, *LPSYSTEMTIME;

/* UTC to the simulated machine's local time (its time zone, as
 * ExSystemTimeToLocalTime); a time that would fall outside 0 ..
 * 0x7FFFFFFFFFFFFFFF fails with ERROR_INVALID_PARAMETER. */
BOOL FileTimeToLocalFileTime(const FILETIME *lpFileTime, LPFILETIME lpLocalFileTime);
/* A time of 0x8000000000000000 or more fails with ERROR_INVALID_PARAMETER. */
BOOL FileTimeToSystemTime(const FILETIME *lpFileTime, LPSYSTEMTIME lpSystemTime);

/* ---- messages ---- */

#define FORMAT_MESSAGE_ALLOCATE_BUFFER 0x00000100
#define FORMAT_MESSAGE_IGNORE_INSERTS 0x00000200
#define FORMAT_MESSAGE_FROM_STRING 0x00000400
#define FORMAT_MESSAGE_FROM_HMODULE 0x00000800
#define FORMAT_MESSAGE_FROM_SYSTEM 0x00001000
#define FORMAT_MESSAGE_ARGUMENT_ARRAY 0x00002000
#define FORMAT_MESSAGE_MAX_WIDTH_MASK 0x000000FF

/* FROM_SYSTEM: the system's text of a Win32 error code that fltsim's
 * routines return (winerror.h), or of its HRESULT_FROM_WIN32, as Windows
 * has it in English, ending in "\r\n"; another code fails with
 * ERROR_MR_MID_NOT_FOUND. FROM_HMODULE: no module has a message table in
 * the simulation (ERROR_RESOURCE_TYPE_NOT_FOUND; then FROM_SYSTEM, when also
 * given). dwLanguageId 0 or an English one, else ERROR_RESOURCE_LANG_NOT_FOUND;
 * a text that does not fit nSize characters (with its terminator):
 * ERROR_INSUFFICIENT_BUFFER. Not provided (ERROR_NOT_SUPPORTED):
 * FROM_STRING, ALLOCATE_BUFFER and a line width. Returns the characters
 * stored, without the terminator, or 0. */
DWORD FormatMessageA(DWORD dwFlags, LPCVOID lpSource, DWORD dwMessageId, DWORD dwLanguageId,
                     LPSTR lpBuffer, DWORD nSize, va_list *Arguments);
DWORD FormatMessageW(DWORD dwFlags, LPCVOID lpSource, DWORD dwMessageId, DWORD dwLanguageId,
                     LPWSTR lpBuffer, DWORD nSize, va_list *Arguments);

/* ---- the system directory and modules ---- */

typedef struct HINSTANCE__ *HINSTANCE;
typedef HINSTANCE HMODULE;

/* "C:\Windows\system32": its length, or when uSize is too small the size
 * it needs, terminator included. */
UINT GetSystemDirectoryA(LPSTR lpBuffer, UINT uSize);
UINT GetSystemDirectoryW(LPWSTR lpBuffer, UINT uSize);

#define DONT_RESOLVE_DLL_REFERENCES 0x00000001
#define LOAD_LIBRARY_AS_DATAFILE 0x00000002
#define LOAD_WITH_ALTERED_SEARCH_PATH 0x00000008
#define LOAD_LIBRARY_AS_IMAGE_RESOURCE 0x00000020
#define LOAD_LIBRARY_AS_DATAFILE_EXCLUSIVE 0x00000040
#define LOAD_LIBRARY_SEARCH_SYSTEM32 0x00000800
/* No DLL exists in the simulation: NULL with ERROR_MOD_NOT_FOUND (a NULL
 * name or hFile not NULL: ERROR_INVALID_PARAMETER). */
HMODULE LoadLibraryExA(LPCSTR lpLibFileName, HANDLE hFile, DWORD dwFlags);
HMODULE LoadLibraryExW(LPCWSTR lpLibFileName, HANDLE hFile, DWORD dwFlags);
/* No module is ever loaded: FALSE with ERROR_INVALID_HANDLE. */
BOOL FreeLibrary(HMODULE hLibModule);

/* ---- code pages ---- */

#define CP_ACP 0
#define CP_OEMCP 1
#define CP_THREAD_ACP 3
#define CP_UTF8 65001
#define MB_PRECOMPOSED 0x00000001
#define MB_ERR_INVALID_CHARS 0x00000008
/* The simulated machine's ANSI code page is UTF-8 (65001, as Windows with
 * "Use Unicode UTF-8 for worldwide language support"; a program's argv is
 * UTF-8): CP_ACP, CP_THREAD_ACP and CP_UTF8 convert UTF-8, with Windows'
 * rules (cbMultiByte -1: through the terminator; cchWideChar 0: the size
 * needed; ERROR_INSUFFICIENT_BUFFER, ERROR_NO_UNICODE_TRANSLATION under
 * MB_ERR_INVALID_CHARS, else U+FFFD for an invalid sequence; flags other
 * than MB_ERR_INVALID_CHARS: ERROR_INVALID_FLAGS); another code page:
 * ERROR_INVALID_PARAMETER. */
int MultiByteToWideChar(UINT CodePage, DWORD dwFlags, LPCSTR lpMultiByteStr, int cbMultiByte,
                        LPWSTR lpWideCharStr, int cchWideChar);

/* ---- views of the sections a filter hands the program (mapping.c) ---- */

typedef struct _MEMORY_BASIC_INFORMATION {
    PVOID BaseAddress;
    PVOID AllocationBase;
    DWORD AllocationProtect;
    WORD PartitionId;
    SIZE_T RegionSize;
    DWORD State;
    DWORD Protect;
    DWORD Type;
} MEMORY_BASIC_INFORMATION, *PMEMORY_BASIC_INFORMATION;
#define FILE_MAP_COPY 0x0001
#define FILE_MAP_WRITE 0x0002
#define FILE_MAP_READ 0x0004
#define FILE_MAP_ALL_ACCESS 0x000F001F
#define MEM_UNMAP_WITH_TRANSIENT_BOOST 0x00000001
#define MEM_PRESERVE_PLACEHOLDER 0x00000002
LPVOID MapViewOfFile(HANDLE hFileMappingObject, DWORD dwDesiredAccess, DWORD dwFileOffsetHigh,
                     DWORD dwFileOffsetLow, SIZE_T dwNumberOfBytesToMap);
BOOL UnmapViewOfFile(LPCVOID lpBaseAddress);
BOOL UnmapViewOfFileEx(PVOID BaseAddress, ULONG UnmapFlags);
SIZE_T VirtualQuery(LPCVOID lpAddress, PMEMORY_BASIC_INFORMATION lpBuffer, SIZE_T dwLength);

#ifdef UNICODE
#define FormatMessage FormatMessageW
#define GetSystemDirectory GetSystemDirectoryW
#define LoadLibraryEx LoadLibraryExW
#else
#define FormatMessage FormatMessageA
#define GetSystemDirectory GetSystemDirectoryA
#define LoadLibraryEx LoadLibraryExA
#endif

/* ---- the C runtime ---- */

/* sprintf_s: Microsoft's narrow formats (%ws, %S, %I64d, 'l' is 32 bits).
 * A NULL buffer or format, a size of 0, or a result that does not fit is an
 * invalid parameter: buffer[0] is emptied and, in a simulated process, the
 * process ends with 0xC0000409 (the Universal CRT's default handler's
 * __fastfail(FAST_FAIL_INVALID_ARG)); elsewhere -1 with errno EINVAL or
 * ERANGE. Wide string arguments are stored as UTF-8 (the ANSI code page).
 * Returns the characters written, without the terminator. */
#define sprintf_s fltsim_user_sprintf_s
int fltsim_user_sprintf_s(char *buffer, size_t sizeOfBuffer, const char *format, ...);
/* _strnicmp, _stricmp: ASCII case-insensitive (the "C" locale), the
 * difference of the first lower-cased characters that differ; a NULL string
 * or a count above INT_MAX is an invalid parameter (as for sprintf_s; else
 * _NLSCMPERROR with errno EINVAL). */
#define _strnicmp fltsim_user_strnicmp
int fltsim_user_strnicmp(const char *string1, const char *string2, size_t count);
#define _stricmp fltsim_user_stricmp
int fltsim_user_stricmp(const char *string1, const char *string2);
/* fopen_s: fopen of a file of the host (the machine the simulation runs
 * on, not a simulated volume: no filter sees its I/O), as the program's
 * console output is the scenario's. 0, or errno's value (*pFile NULL);
 * EINVAL for a NULL argument. */
#define fopen_s fltsim_user_fopen_s
errno_t fltsim_user_fopen_s(FILE **pFile, const char *filename, const char *mode);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_WINBASE_EXTRA_H */
