/*
 * PRIVATE to fltmgr_model/src/nt: what fltsim's string families share:
 * ntstrsafe (strsafe.c, strsafe_ustr.c), the Rtl conversions (rtl_convert.c,
 * rtl_guid.c) and ip2string.c. That is the ANSI code page fltsim simulates
 * (Windows-1252, the system code page of a US-English Windows; rtl_convert.c
 * defines it), the pool tag of the strings Rtl allocates for a caller, and
 * how a call Windows would fault or bugcheck on is reported.
 */
#ifndef FLTSIM_NT_STRINGS_INTERNAL_H
#define FLTSIM_NT_STRINGS_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Only the WDK's base types: ip2string.c includes the WDK's socket types,
 * which cannot meet the host's that model_internal.h brings in. */
#include "ntdef.h"

/* The pool tag of strings the Rtl routines allocate for their caller
 * (freed with RtlFreeUnicodeString / RtlFreeAnsiString): 'SltR', shown as
 * "RtlS" in a pool dump. Windows documents no tag for these; this is
 * fltsim's, the same as rtl_string.c's. */
#define FLTSIM_RTL_STRING_TAG 0x536c7452u

/* The character an unmappable one becomes in the ANSI code page. */
#define FLTSIM_ANSI_DEFAULT_CHAR '?'

/* The UTF-16 unit ANSI byte c stands for (Windows-1252; the five bytes 1252
 * leaves undefined map to the C1 control of the same value, as Windows'
 * table does). Cannot fail. */
WCHAR fltsim__ansi_to_unicode(unsigned char c);

/* The ANSI byte for UTF-16 unit u, or FLTSIM_ANSI_DEFAULT_CHAR with *mapped
 * false (mapped may be NULL) when 1252 has no such character. fltsim does not
 * apply Windows' best-fit mappings (U+0100 to 'A' ...). Cannot fail. */
char fltsim__unicode_to_ansi(WCHAR u, bool *mapped);

/* A call Windows would fault or bugcheck on: a verifier report (rule KE)
 * naming api and saying what is wrong (a printf format), after which the
 * routine returns its documented error and leaves memory it was not given
 * alone. */
void fltsim__string_misuse(const char *api, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ntstrsafe's formatting (strsafe.c): formats format (char when width is 1,
 * WCHAR when 2) with the arguments in *ap into dest, storing at most room
 * characters and no terminator; narrow and wide parts cross through the ANSI
 * code page. *written is what was stored. Returns STATUS_SUCCESS,
 * STATUS_BUFFER_OVERFLOW (the text was longer than room, cut there), or for
 * a format the kernel C runtime refuses (%n, an unknown conversion ...) a
 * report naming api and STATUS_INVALID_PARAMETER with *written 0. */
NTSTATUS fltsim__strsafe_vprintf(const char *api, void *dest, size_t width, size_t room,
                                 const void *format, va_list *ap, size_t *written);

/* RtlUnicodeStringValidateWorker (strsafe_ustr.c): STATUS_SUCCESS when s is
 * a well-formed counted string of at most NTSTRSAFE_UNICODE_STRING_MAX_CCH
 * characters (even Length and MaximumLength, Length <= MaximumLength, a
 * Buffer unless both are 0), or NULL with STRSAFE_IGNORE_NULLS in flags;
 * STATUS_INVALID_PARAMETER otherwise, and a report naming api for a NULL s
 * without that flag (Windows faults on it). */
NTSTATUS fltsim__ustr_validate(const char *api, PCUNICODE_STRING s, DWORD flags);

#endif /* FLTSIM_NT_STRINGS_INTERNAL_H */
