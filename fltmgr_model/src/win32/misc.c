/*
 * The Win32 routines of winbase_extra.h that are not the C runtime: file
 * times (FileTimeToLocalFileTime over the simulated machine's time zone,
 * FileTimeToSystemTime over RtlTimeToTimeFields), FormatMessage over a table
 * of the system's English messages for the Win32 errors fltsim returns,
 * GetSystemDirectory, LoadLibraryEx and FreeLibrary (the simulation has no
 * modules) and MultiByteToWideChar (UTF-8, over RtlUTF8ToUnicodeN). Each
 * sets the last error as Windows does and returns its failure value.
 */
#include <stdint.h>
#include <string.h>

#include "win32_internal.h"

/* ---- file times ---- */

static LONGLONG filetime_value(const FILETIME *ft)
{
    return (LONGLONG)(((ULONGLONG)ft->dwHighDateTime << 32) | ft->dwLowDateTime);
}

BOOL FileTimeToLocalFileTime(const FILETIME *lpFileTime, LPFILETIME lpLocalFileTime)
{
    if (lpFileTime == NULL || lpLocalFileTime == NULL) {
        fltsim__w32_set_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    /* The time zone of the simulated machine the calling thread belongs to
     * (UTC for a thread of none); local = UTC - bias. */
    fltsim_system *sys = fltsim__w32_system();
    LONGLONG shift = sys != NULL ? -(LONGLONG)sys->time_zone_bias * 60 * 10000000 : 0;
    LONGLONG utc = filetime_value(lpFileTime);
    /* A time or a result outside 0 .. 0x7FFFFFFFFFFFFFFF is refused. */
    if (utc < 0 || (shift > 0 && utc > INT64_MAX - shift) || utc + shift < 0) {
        fltsim__w32_set_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    ULONGLONG local = (ULONGLONG)(utc + shift);
    lpLocalFileTime->dwLowDateTime = (DWORD)(local & 0xFFFFFFFFu);
    lpLocalFileTime->dwHighDateTime = (DWORD)(local >> 32);
    return TRUE;
}

BOOL FileTimeToSystemTime(const FILETIME *lpFileTime, LPSYSTEMTIME lpSystemTime)
{
    if (lpFileTime == NULL || lpSystemTime == NULL || filetime_value(lpFileTime) < 0) {
        fltsim__w32_set_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    LARGE_INTEGER t = {.QuadPart = filetime_value(lpFileTime)};
    TIME_FIELDS f;
    RtlTimeToTimeFields(&t, &f);
    lpSystemTime->wYear = (WORD)f.Year;
    lpSystemTime->wMonth = (WORD)f.Month;
    lpSystemTime->wDayOfWeek = (WORD)f.Weekday;
    lpSystemTime->wDay = (WORD)f.Day;
    lpSystemTime->wHour = (WORD)f.Hour;
    lpSystemTime->wMinute = (WORD)f.Minute;
    lpSystemTime->wSecond = (WORD)f.Second;
    lpSystemTime->wMilliseconds = (WORD)f.Milliseconds;
    return TRUE;
}

/* ---- FormatMessage ---- */

/* The system message table's English text of the Win32 errors fltsim's
 * routines return (fltsim/decl/winerror.h), as Windows 10 has them. */
static const struct {
    DWORD code;
    const char *text;
} system_messages[] = {
    {ERROR_SUCCESS, "The operation completed successfully."},
    {ERROR_INVALID_FUNCTION, "Incorrect function."},
    {ERROR_FILE_NOT_FOUND, "The system cannot find the file specified."},
    {ERROR_PATH_NOT_FOUND, "The system cannot find the path specified."},
    {ERROR_ACCESS_DENIED, "Access is denied."},
    {ERROR_INVALID_HANDLE, "The handle is invalid."},
    {ERROR_NOT_ENOUGH_MEMORY, "Not enough memory resources are available to process this command."},
    {ERROR_OUTOFMEMORY, "Not enough memory resources are available to complete this operation."},
    {ERROR_NOT_SUPPORTED, "The request is not supported."},
    {ERROR_INVALID_PARAMETER, "The parameter is incorrect."},
    {ERROR_INSUFFICIENT_BUFFER, "The data area passed to a system call is too small."},
    {ERROR_MOD_NOT_FOUND, "The specified module could not be found."},
    {ERROR_ALREADY_EXISTS, "Cannot create a file when that file already exists."},
    {ERROR_MORE_DATA, "More data is available."},
    {WAIT_TIMEOUT, "The wait operation timed out."},
    {ERROR_NO_MORE_ITEMS, "No more data is available."},
    {ERROR_TOO_MANY_POSTS, "Too many posts were made to a semaphore."},
    {ERROR_OPERATION_ABORTED,
     "The I/O operation has been aborted because of either a thread exit or an application "
     "request."},
    {ERROR_IO_INCOMPLETE, "Overlapped I/O event is not in a signaled state."},
    {ERROR_IO_PENDING, "Overlapped I/O operation is in progress."},
    {ERROR_INVALID_FLAGS, "Invalid flags."},
    {ERROR_SERVICE_ALREADY_RUNNING, "An instance of the service is already running."},
    {ERROR_NO_UNICODE_TRANSLATION,
     "No mapping for the Unicode character exists in the target multi-byte code page."},
    {ERROR_NOT_FOUND, "Element not found."},
    {ERROR_CONNECTION_COUNT_LIMIT,
     "A connection to the server could not be made because the limit on the number of "
     "concurrent connections for this account has been reached."},
    {ERROR_NO_SYSTEM_RESOURCES,
     "Insufficient system resources exist to complete the requested service."},
    {ERROR_TIMEOUT, "This operation returned because the timeout period expired."},
    {ERROR_RESOURCE_TYPE_NOT_FOUND,
     "The specified resource type cannot be found in the image file."},
    {ERROR_RESOURCE_LANG_NOT_FOUND,
     "The specified resource language ID cannot be found in the image file."},
};

/* The text of code (a Win32 error, or its HRESULT_FROM_WIN32), or NULL. */
static const char *system_message(DWORD code)
{
    if ((code & 0xFFFF0000u) == 0x80070000u)
        code &= 0xFFFFu;
    for (size_t i = 0; i < sizeof(system_messages) / sizeof(system_messages[0]); i++)
        if (system_messages[i].code == code)
            return system_messages[i].text;
    return NULL;
}

/* The message's text (ending in "\r\n"), or NULL with the last error set. */
static const char *find_message(DWORD flags, LPCVOID source, DWORD id, DWORD language)
{
    (void)source;
    DWORD supported = FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_FROM_HMODULE |
                      FORMAT_MESSAGE_IGNORE_INSERTS | FORMAT_MESSAGE_ARGUMENT_ARRAY;
    if ((flags & ~supported) != 0) {
        fltsim__w32_set_error(ERROR_NOT_SUPPORTED);
        return NULL;
    }
    if ((flags & (FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_FROM_HMODULE)) == 0) {
        fltsim__w32_set_error(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    WORD primary = (WORD)(language & 0x3FF);
    if (language != 0 && primary != LANG_NEUTRAL && primary != LANG_ENGLISH) {
        fltsim__w32_set_error(ERROR_RESOURCE_LANG_NOT_FOUND);
        return NULL;
    }
    if ((flags & FORMAT_MESSAGE_FROM_SYSTEM) == 0) {
        /* The program's image, or the module named: none has a message
         * table here. */
        fltsim__w32_set_error(ERROR_RESOURCE_TYPE_NOT_FOUND);
        return NULL;
    }
    const char *text = system_message(id);
    if (text == NULL)
        fltsim__w32_set_error(ERROR_MR_MID_NOT_FOUND);
    return text;
}

DWORD FormatMessageA(DWORD dwFlags, LPCVOID lpSource, DWORD dwMessageId, DWORD dwLanguageId,
                     LPSTR lpBuffer, DWORD nSize, va_list *Arguments)
{
    (void)Arguments; /* the system's texts of these codes have no inserts */
    const char *text = find_message(dwFlags, lpSource, dwMessageId, dwLanguageId);
    if (text == NULL)
        return 0;
    size_t len = strlen(text);
    if (lpBuffer == NULL || nSize < len + 3) {
        fltsim__w32_set_error(lpBuffer == NULL ? ERROR_INVALID_PARAMETER
                                               : ERROR_INSUFFICIENT_BUFFER);
        return 0;
    }
    memcpy(lpBuffer, text, len);
    memcpy(lpBuffer + len, "\r\n", 3);
    return (DWORD)(len + 2);
}

DWORD FormatMessageW(DWORD dwFlags, LPCVOID lpSource, DWORD dwMessageId, DWORD dwLanguageId,
                     LPWSTR lpBuffer, DWORD nSize, va_list *Arguments)
{
    (void)Arguments;
    const char *text = find_message(dwFlags, lpSource, dwMessageId, dwLanguageId);
    if (text == NULL)
        return 0;
    size_t len = strlen(text); /* ASCII */
    if (lpBuffer == NULL || nSize < len + 3) {
        fltsim__w32_set_error(lpBuffer == NULL ? ERROR_INVALID_PARAMETER
                                               : ERROR_INSUFFICIENT_BUFFER);
        return 0;
    }
    for (size_t i = 0; i < len; i++)
        lpBuffer[i] = (WCHAR)(unsigned char)text[i];
    lpBuffer[len] = '\r';
    lpBuffer[len + 1] = '\n';
    lpBuffer[len + 2] = 0;
    return (DWORD)(len + 2);
}

/* ---- the system directory and modules ---- */

static const char system_directory[] = "C:\\Windows\\system32";

UINT GetSystemDirectoryA(LPSTR lpBuffer, UINT uSize)
{
    UINT len = (UINT)(sizeof(system_directory) - 1);
    if (lpBuffer == NULL || uSize <= len)
        return len + 1;
    memcpy(lpBuffer, system_directory, len + 1);
    return len;
}

UINT GetSystemDirectoryW(LPWSTR lpBuffer, UINT uSize)
{
    UINT len = (UINT)(sizeof(system_directory) - 1);
    if (lpBuffer == NULL || uSize <= len)
        return len + 1;
    for (UINT i = 0; i <= len; i++)
        lpBuffer[i] = (WCHAR)system_directory[i];
    return len;
}

static HMODULE no_module(const void *name, HANDLE file)
{
    fltsim__w32_set_error(name == NULL || file != NULL ? ERROR_INVALID_PARAMETER
                                                       : ERROR_MOD_NOT_FOUND);
    return NULL;
}

HMODULE LoadLibraryExA(LPCSTR lpLibFileName, HANDLE hFile, DWORD dwFlags)
{
    (void)dwFlags;
    return no_module(lpLibFileName, hFile);
}

HMODULE LoadLibraryExW(LPCWSTR lpLibFileName, HANDLE hFile, DWORD dwFlags)
{
    (void)dwFlags;
    return no_module(lpLibFileName, hFile);
}

BOOL FreeLibrary(HMODULE hLibModule)
{
    (void)hLibModule;
    fltsim__w32_set_error(ERROR_INVALID_HANDLE);
    return FALSE;
}

/* ---- code pages ---- */

int MultiByteToWideChar(UINT CodePage, DWORD dwFlags, LPCSTR lpMultiByteStr, int cbMultiByte,
                        LPWSTR lpWideCharStr, int cchWideChar)
{
    if (CodePage != CP_ACP && CodePage != CP_THREAD_ACP && CodePage != CP_UTF8) {
        fltsim__w32_set_error(ERROR_INVALID_PARAMETER);
        return 0;
    }
    if (lpMultiByteStr == NULL || cbMultiByte == 0 || cbMultiByte < -1 || cchWideChar < 0 ||
        (cchWideChar != 0 && lpWideCharStr == NULL) ||
        (cchWideChar != 0 && (const void *)lpMultiByteStr == (const void *)lpWideCharStr)) {
        fltsim__w32_set_error(ERROR_INVALID_PARAMETER);
        return 0;
    }
    if ((dwFlags & ~(DWORD)MB_ERR_INVALID_CHARS) != 0) {
        fltsim__w32_set_error(ERROR_INVALID_FLAGS);
        return 0;
    }
    ULONG src_bytes = cbMultiByte == -1 ? (ULONG)strlen(lpMultiByteStr) + 1 : (ULONG)cbMultiByte;
    ULONG needed = 0;
    NTSTATUS status = RtlUTF8ToUnicodeN(NULL, 0, &needed, lpMultiByteStr, src_bytes);
    if (status == STATUS_SOME_NOT_MAPPED && (dwFlags & MB_ERR_INVALID_CHARS) != 0) {
        fltsim__w32_set_error(ERROR_NO_UNICODE_TRANSLATION);
        return 0;
    }
    if (!NT_SUCCESS(status)) {
        fltsim__w32_set_error(ERROR_INVALID_PARAMETER);
        return 0;
    }
    int units = (int)(needed / sizeof(WCHAR));
    if (cchWideChar == 0)
        return units;
    if (units > cchWideChar) {
        /* Windows fills what fits before it fails. */
        ULONG written = 0;
        (void)RtlUTF8ToUnicodeN(lpWideCharStr, (ULONG)cchWideChar * sizeof(WCHAR), &written,
                                lpMultiByteStr, src_bytes);
        fltsim__w32_set_error(ERROR_INSUFFICIENT_BUFFER);
        return 0;
    }
    ULONG written = 0;
    (void)RtlUTF8ToUnicodeN(lpWideCharStr, (ULONG)cchWideChar * sizeof(WCHAR), &written,
                            lpMultiByteStr, src_bytes);
    return (int)(written / sizeof(WCHAR));
}
