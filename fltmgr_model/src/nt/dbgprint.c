/*
 * Debug output: DbgPrint, DbgPrintEx and vDbgPrintEx, and the process-wide
 * sink their text goes to (fltsim_debug_set_sink; standard error by default);
 * the failure report of wdm.h's always-checked ASSERT / NT_ASSERT; and
 * DbgBreakPoint, which with no debugger raises STATUS_BREAKPOINT.
 * The format is interpreted the Windows way by fltsim's one printf walker
 * (format.h, shared with the CRT's wide printf family): 'l' means 32 bits
 * (LLP64), I64, I32 and I are Microsoft's size prefixes, and %wZ, %Z, %ws/%S
 * and %wc/%C take counted and UTF-16 strings, printed here as UTF-8. A
 * message is cut at 512 bytes, as Windows cuts it.
 */
#include <stdlib.h>

#include "format.h"

/* Windows sends at most this many bytes per DbgPrint call. */
#define DBGPRINT_MAX_BYTES 512

/* ---- the sink ---- */

static uv_once_t sink_once = UV_ONCE_INIT;
static uv_mutex_t sink_lock; /* guards sink_cb/sink_ctx and serializes the calls */
static fltsim_debug_sink_cb sink_cb;
static void *sink_ctx;

static void sink_init(void)
{
    if (uv_mutex_init(&sink_lock) != 0)
        abort();
}

void fltsim_debug_set_sink(fltsim_debug_sink_cb cb, void *ctx)
{
    uv_once(&sink_once, sink_init);
    uv_mutex_lock(&sink_lock);
    sink_cb = cb;
    sink_ctx = cb != NULL ? ctx : NULL;
    uv_mutex_unlock(&sink_lock);
}

/* Hands one message to the sink. The sink runs under sink_lock, so messages
 * never interleave and, once fltsim_debug_set_sink returns, the old sink is
 * not called again; a sink must therefore not call DbgPrint itself. */
static void sink_write(const char *text)
{
    uv_once(&sink_once, sink_init);
    uv_mutex_lock(&sink_lock);
    if (sink_cb != NULL) {
        sink_cb(sink_ctx, text);
    } else {
        fputs(text, stderr);
        fflush(stderr);
    }
    uv_mutex_unlock(&sink_lock);
}

/* ---- the output buffer ---- */

/* What the walker (format.h) writes one message into: UTF-8, cut at 512 bytes. */
struct out {
    struct fltsim_fmt_out base; /* base.full: something did not fit; nothing more is written */
    char text[DBGPRINT_MAX_BYTES + 1];
    size_t used;
};

/* Appends n bytes; what does not fit is dropped, cut at a UTF-8 character
 * boundary so the message stays valid text. */
static void out_bytes(struct out *o, const char *s, size_t n)
{
    if (o->base.full || n == 0)
        return;
    size_t room = DBGPRINT_MAX_BYTES - o->used;
    if (n > room) {
        n = room;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        o->base.full = true;
    }
    memcpy(o->text + o->used, s, n);
    o->used += n;
}

static void out_narrow(struct fltsim_fmt_out *base, const char *s, size_t n)
{
    out_bytes((struct out *)(void *)base, s, n);
}

/* Prints n UTF-16 units as UTF-8. */
static void out_wide(struct fltsim_fmt_out *base, const WCHAR *s, size_t n)
{
    struct out *o = (struct out *)(void *)base;
    size_t i = 0;
    while (i < n && !o->base.full) {
        /* One character at a time, so a message cut short ends on a whole
         * character; a surrogate pair goes to the converter as one. */
        size_t k = (s[i] >= 0xD800 && s[i] <= 0xDBFF && i + 1 < n && s[i + 1] >= 0xDC00 &&
                    s[i + 1] <= 0xDFFF)
                       ? 2
                       : 1;
        char buf[8];
        out_bytes(o, buf, fltsim_utf16_to_utf8(s + i, k, buf, sizeof(buf)));
        i += k;
    }
}

ULONG vDbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, va_list arglist)
{
    /* Windows filters by component and level (by default it shows only
     * errors); fltsim shows every message whatever its level. */
    (void)ComponentId;
    (void)Level;

    struct out o;
    o.base.narrow = out_narrow;
    o.base.wide = out_wide;
    o.base.full = false;
    o.used = 0;
    if (Format != NULL) {
        va_list ap;
        va_copy(ap, arglist);
        (void)fltsim__format(&o.base, FLTSIM_FMT_DBGPRINT, Format, &ap);
        va_end(ap);
    }
    o.text[o.used] = '\0';
    sink_write(o.text);
    return (ULONG)(o.base.full ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS);
}

ULONG DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...)
{
    va_list ap;
    va_start(ap, Format);
    ULONG r = vDbgPrintEx(ComponentId, Level, Format, ap);
    va_end(ap);
    return r;
}

ULONG DbgPrint(PCSTR Format, ...)
{
    va_list ap;
    va_start(ap, Format);
    /* DbgPrint is DbgPrintEx for the default component at INFO level. */
    ULONG r = vDbgPrintEx(0, DPFLTR_INFO_LEVEL, Format, ap);
    va_end(ap);
    return r;
}

/* ---- assertions and breakpoints ---- */

VOID DbgBreakPoint(VOID)
{
    fltsim__raise_status(STATUS_BREAKPOINT, "DbgBreakPoint", __builtin_return_address(0));
}

VOID DbgBreakPointWithStatus(ULONG Status)
{
    (void)Status;
    fltsim__raise_status(STATUS_BREAKPOINT, "DbgBreakPointWithStatus",
                         __builtin_return_address(0));
}

void fltsim_assert_failed(const char *expression, const char *file, int line)
{
    struct fltsim_tls *t = fltsim__tls();
    fprintf(stderr, "fltsim: assertion failed: %s (%s:%d)\n", expression, file, line);
    if (t->sys != NULL)
        fltsim__report(t->sys, t->filter, NULL, t->op, "ASSERT", "-",
                       "assertion failed: %s (%s:%d)", expression, file, line);
}
