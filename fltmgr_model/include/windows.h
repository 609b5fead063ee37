/*
 * windows.h for fltsim: what a minifilter's user-mode program (a service, a
 * scanner, a logger) includes, compiled for a simulated process
 * (fltsim/program.h) with 16-bit WCHAR: the base types (ntdef.h), the Win32
 * slice (fltsim/decl/winbase.h), and, for the program's own C runtime calls,
 * two redirections:
 *   - console output (printf, wprintf, puts, putchar, fprintf/fwprintf/
 *     fputs to stdout or stderr, vprintf) goes to the simulated process's
 *     console, which the scenario or the C API reads, and is formatted the
 *     Microsoft way (%ws, %S, %Id, %I64x, 'l' is 32 bits); console input
 *     (getchar, fgets on stdin) is what the scenario types
 *     (fltsim_process_input);
 *   - malloc, calloc, realloc, free, _strdup, _wcsdup are the process's heap
 *     (as is HeapAlloc): what the program has not freed when it ends, or is
 *     killed, is freed then, as Windows frees a process's memory.
 * A program that includes <stdio.h>/<stdlib.h> itself gets the same, in any
 * order: this header includes them first.
 */
#ifndef FLTSIM_WINDOWS_H
#define FLTSIM_WINDOWS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntdef.h"
#include "fltsim/decl/winbase.h"
#include "fltsim/decl/winbase_extra.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef RtlEqualMemory
#define RtlEqualMemory(a, b, n) (memcmp((a), (b), (n)) == 0)
#define RtlCopyMemory(d, s, n) memcpy((d), (s), (n))
#define RtlMoveMemory(d, s, n) memmove((d), (s), (n))
#define RtlFillMemory(d, n, f) memset((d), (f), (n))
#define RtlZeroMemory(d, n) memset((d), 0, (n))
#endif
#define CopyMemory RtlCopyMemory
#define MoveMemory RtlMoveMemory
#define FillMemory RtlFillMemory
#define ZeroMemory RtlZeroMemory
#define SecureZeroMemory RtlZeroMemory

#ifndef max
#define max(a, b) (((a) > (b)) ? (a) : (b))
#define min(a, b) (((a) < (b)) ? (a) : (b))
#endif
#define LOWORD(l) ((WORD)(((DWORD_PTR)(l)) & 0xffff))
#define HIWORD(l) ((WORD)((((DWORD_PTR)(l)) >> 16) & 0xffff))
#define MAKELONG(a, b) ((LONG)(((WORD)(((DWORD_PTR)(a)) & 0xffff)) | ((DWORD)((WORD)(((DWORD_PTR)(b)) & 0xffff))) << 16))

/* ---- the process heap ---- */

#define HEAP_ZERO_MEMORY 0x00000008
HANDLE GetProcessHeap(void);
LPVOID HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes);
LPVOID HeapReAlloc(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem, SIZE_T dwBytes);
BOOL HeapFree(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem);

void *fltsim_user_malloc(size_t size);
void *fltsim_user_calloc(size_t count, size_t size);
void *fltsim_user_realloc(void *block, size_t size);
void fltsim_user_free(void *block);
char *fltsim_user_strdup(const char *s);
WCHAR *fltsim_user_wcsdup(const WCHAR *s);
#define malloc fltsim_user_malloc
#define calloc fltsim_user_calloc
#define realloc fltsim_user_realloc
#define free fltsim_user_free
#define _strdup fltsim_user_strdup
#define strdup fltsim_user_strdup
#define _wcsdup fltsim_user_wcsdup

/* ---- the console ---- */

int fltsim_user_printf(const char *format, ...);
int fltsim_user_vprintf(const char *format, va_list ap);
int fltsim_user_wprintf(const WCHAR *format, ...);
int fltsim_user_fprintf(FILE *stream, const char *format, ...);
int fltsim_user_vfprintf(FILE *stream, const char *format, va_list ap);
int fltsim_user_fwprintf(FILE *stream, const WCHAR *format, ...);
int fltsim_user_puts(const char *s);
int fltsim_user_fputs(const char *s, FILE *stream);
int fltsim_user_putchar(int c);
int fltsim_user_getchar(void);
char *fltsim_user_fgets(char *s, int size, FILE *stream);
#define printf fltsim_user_printf
#define vprintf fltsim_user_vprintf
#define wprintf fltsim_user_wprintf
#define fprintf fltsim_user_fprintf
#define vfprintf fltsim_user_vfprintf
#define fwprintf fltsim_user_fwprintf
#define puts fltsim_user_puts
#define fputs fltsim_user_fputs
#undef putchar
#define putchar fltsim_user_putchar
#undef getchar
#define getchar fltsim_user_getchar
#define fgets fltsim_user_fgets

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WINDOWS_H */
