/*
 * PRIVATE to fltmgr_model/src/nt: fltsim's one Windows-style printf walker,
 * shared by DbgPrint (dbgprint.c), the wide printf family of the kernel C
 * runtime (crt_wprintf.c) and ntstrsafe's printf routines (strsafe.c). It
 * parses Microsoft's conversions ('l' means 32 bits, I64/I32/I size
 * prefixes, %wZ/%Z counted strings, %ws/%S wide strings) and hands the text
 * to an output that stores it as UTF-8, UTF-16 or an ANSI code page.
 */
#ifndef FLTSIM_NT_FORMAT_H
#define FLTSIM_NT_FORMAT_H

#include "model_internal.h"

/* Where the walker writes. narrow receives ASCII/UTF-8 bytes (conversion
 * results, narrow string arguments, a narrow format's literal text), wide
 * receives UTF-16 units (wide string arguments, a wide format's literal
 * text); each output converts to what it stores. An output sets full once it
 * takes nothing more, and the walk then stops. */
struct fltsim_fmt_out {
    void (*narrow)(struct fltsim_fmt_out *out, const char *s, size_t n);
    void (*wide)(struct fltsim_fmt_out *out, const WCHAR *s, size_t n);
    bool full;
};

enum fltsim_fmt_dialect {
    /* DbgPrint: a narrow format; %s and %c are narrow by default; floating
     * point, %n and conversions it does not know print as written; Unicode
     * conversions above PASSIVE_LEVEL are reported (V28); a field width counts
     * characters (a surrogate pair is one). */
    FLTSIM_FMT_DBGPRINT,
    /* The CRT's wprintf family: a UTF-16 format; %s and %c are wide by
     * default (%S, %C, %hs narrow); floating point is formatted; %n, an
     * unknown conversion or a format ending inside a conversion is an invalid
     * parameter; a field width counts UTF-16 units. */
    FLTSIM_FMT_CRT_WIDE,
    /* The CRT's narrow _vsnprintf (behind ntstrsafe's A routines): a char
     * format; %s and %c are narrow by default (%S, %C, %ls, %ws wide);
     * otherwise as FLTSIM_FMT_CRT_WIDE. */
    FLTSIM_FMT_CRT_NARROW,
};

/* Formats format (a char string for FLTSIM_FMT_DBGPRINT and
 * FLTSIM_FMT_CRT_NARROW, a WCHAR string for FLTSIM_FMT_CRT_WIDE; not NULL)
 * with the arguments in *ap into out. Returns NULL, or for an invalid format
 * (the CRT dialects only) a static text
 * naming the problem; out then holds what came before it. Cannot fail
 * otherwise. */
const char *fltsim__format(struct fltsim_fmt_out *out, enum fltsim_fmt_dialect dialect,
                           const void *format, va_list *ap);

#endif /* FLTSIM_NT_FORMAT_H */
