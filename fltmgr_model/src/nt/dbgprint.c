/*
 * Debug output: DbgPrint, DbgPrintEx and vDbgPrintEx, and the process-wide
 * sink their text goes to (fltsim_debug_set_sink; standard error by default);
 * and the failure report of wdm.h's always-checked ASSERT / NT_ASSERT.
 * The format is interpreted the Windows way, by fltsim's own walker: 'l' means
 * 32 bits (LLP64), I64, I32 and I are Microsoft's size prefixes, and %wZ, %Z,
 * %ws/%S and %wc/%C take counted and UTF-16 strings, printed as UTF-8. Each
 * conversion is formatted on its own with snprintf, so no Windows format
 * string ever reaches the host's printf. A message is cut at 512 bytes, as
 * Windows cuts it.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>

#include "model_internal.h"

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

struct out {
    char text[DBGPRINT_MAX_BYTES + 1];
    size_t used;
    bool truncated; /* something did not fit; nothing more is written */
};

/* Appends n bytes; what does not fit is dropped, cut at a UTF-8 character
 * boundary so the message stays valid text. */
static void out_bytes(struct out *o, const char *s, size_t n)
{
    if (o->truncated || n == 0)
        return;
    size_t room = DBGPRINT_MAX_BYTES - o->used;
    if (n > room) {
        n = room;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        o->truncated = true;
    }
    memcpy(o->text + o->used, s, n);
    o->used += n;
}

static void out_repeat(struct out *o, char c, size_t count)
{
    char run[32];
    memset(run, c, sizeof(run));
    while (count > 0 && !o->truncated) {
        size_t k = count < sizeof(run) ? count : sizeof(run);
        out_bytes(o, run, k);
        count -= k;
    }
}

/* snprintf of one rebuilt conversion, appended. A result longer than the
 * scratch buffer is longer than a whole message, so it truncates anyway. */
static void out_format(struct out *o, const char *spec, ...) __attribute__((format(printf, 2, 3)));

static void out_format(struct out *o, const char *spec, ...)
{
    char scratch[2 * DBGPRINT_MAX_BYTES];
    va_list ap;
    va_start(ap, spec);
    int r = vsnprintf(scratch, sizeof(scratch), spec, ap);
    va_end(ap);
    if (r < 0)
        return;
    size_t n = (size_t)r;
    if (n >= sizeof(scratch)) {
        out_bytes(o, scratch, sizeof(scratch) - 1);
        o->truncated = true;
        return;
    }
    out_bytes(o, scratch, n);
}

/* ---- one conversion ---- */

enum length_modifier {
    LEN_DEFAULT, /* int, or char / char string for c and s */
    LEN_HH,      /* char */
    LEN_H,       /* short; narrow char / string */
    LEN_L,       /* 'l': 32 bits on Windows; wide char / string */
    LEN_W,       /* 'w': wide char / string */
    LEN_LL,      /* 64 bits */
    LEN_I32,     /* 32 bits */
    LEN_I64,     /* 64 bits */
    LEN_I,       /* pointer-sized */
    LEN_Z,       /* size_t */
    LEN_J,       /* intmax_t */
    LEN_T,       /* ptrdiff_t */
    LEN_LONG_DBL /* 'L': long double */
};

struct spec {
    char flags[8]; /* "-+ #0" in the order given, at most one of each */
    int width;     /* -1: none */
    int precision; /* -1: none */
    enum length_modifier length;
    char conversion;
};

/* Pads s (len bytes, chars characters wide) to the field width. */
static void out_padded(struct out *o, const struct spec *sp, const char *s, size_t len,
                       size_t chars)
{
    bool left = strchr(sp->flags, '-') != NULL;
    size_t pad = (sp->width > 0 && (size_t)sp->width > chars) ? (size_t)sp->width - chars : 0;
    if (!left)
        out_repeat(o, ' ', pad);
    out_bytes(o, s, len);
    if (left)
        out_repeat(o, ' ', pad);
}

/* Characters a UTF-16 run prints as (a surrogate pair is one). */
static size_t utf16_chars(const WCHAR *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= 0xD800 && s[i] <= 0xDBFF && i + 1 < n && s[i + 1] >= 0xDC00 &&
            s[i + 1] <= 0xDFFF)
            i++;
        chars++;
    }
    return chars;
}

/* Prints n UTF-16 units as UTF-8, padded to the field width by characters. */
static void out_utf16(struct out *o, const struct spec *sp, const WCHAR *s, size_t n)
{
    bool left = strchr(sp->flags, '-') != NULL;
    size_t chars = utf16_chars(s, n);
    size_t pad = (sp->width > 0 && (size_t)sp->width > chars) ? (size_t)sp->width - chars : 0;
    if (!left)
        out_repeat(o, ' ', pad);
    size_t i = 0;
    while (i < n && !o->truncated) {
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
    if (left)
        out_repeat(o, ' ', pad);
}

static size_t limit_units(const struct spec *sp, size_t n)
{
    if (sp->precision >= 0 && (size_t)sp->precision < n)
        return (size_t)sp->precision;
    return n;
}

static void out_null(struct out *o, const struct spec *sp)
{
    static const char text[] = "(null)";
    out_padded(o, sp, text, sizeof(text) - 1, sizeof(text) - 1);
}

/* Builds "%<flags><width>.<precision>j<conversion>" for an integer. */
static void int_spec(const struct spec *sp, char *buf, size_t size)
{
    int k = snprintf(buf, size, "%%%s", sp->flags);
    if (sp->width >= 0)
        k += snprintf(buf + k, size - (size_t)k, "%d", sp->width);
    if (sp->precision >= 0)
        k += snprintf(buf + k, size - (size_t)k, ".%d", sp->precision);
    snprintf(buf + k, size - (size_t)k, "j%c", sp->conversion);
}

/* Fetches a signed integer argument of the width the length modifier names. */
static intmax_t fetch_signed(enum length_modifier length, va_list *ap)
{
    switch (length) {
    case LEN_HH:
        return (signed char)va_arg(*ap, int);
    case LEN_H:
        return (short)va_arg(*ap, int);
    case LEN_LL:
    case LEN_I64:
        return va_arg(*ap, long long);
    case LEN_I:
        return va_arg(*ap, intptr_t);
    case LEN_Z:
        return va_arg(*ap, SSIZE_T);
    case LEN_J:
        return va_arg(*ap, intmax_t);
    case LEN_T:
        return va_arg(*ap, ptrdiff_t);
    default: /* default, 'l' and I32 are all 32 bits on Windows */
        return va_arg(*ap, int);
    }
}

static uintmax_t fetch_unsigned(enum length_modifier length, va_list *ap)
{
    switch (length) {
    case LEN_HH:
        return (unsigned char)va_arg(*ap, unsigned int);
    case LEN_H:
        return (unsigned short)va_arg(*ap, unsigned int);
    case LEN_LL:
    case LEN_I64:
        return va_arg(*ap, unsigned long long);
    case LEN_I:
        return va_arg(*ap, uintptr_t);
    case LEN_Z:
        return va_arg(*ap, size_t);
    case LEN_J:
        return va_arg(*ap, uintmax_t);
    case LEN_T:
        return (uintmax_t)va_arg(*ap, ptrdiff_t);
    default:
        return va_arg(*ap, unsigned int);
    }
}

/* The Unicode conversions may only be used at PASSIVE_LEVEL (DbgPrint's
 * documentation); above it fltsim still prints them and reports the call. */
static void check_unicode_irql(const char *literal, size_t literal_len)
{
    struct fltsim_tls *t = fltsim__tls();
    if (t->irql == PASSIVE_LEVEL)
        return;
    int len = literal_len > 32 ? 32 : (int)literal_len;
    if (t->sys != NULL)
        fltsim__report(t->sys, t->filter, NULL, t->op, "V28", "10",
                       "DbgPrint with the Unicode conversion %.*s at IRQL %u; Unicode format "
                       "codes may only be used at PASSIVE_LEVEL",
                       len, literal, (unsigned)t->irql);
    else
        fprintf(stderr,
                "fltsim: DbgPrint with %.*s at IRQL %u (Unicode format codes need "
                "PASSIVE_LEVEL)\n",
                len, literal, (unsigned)t->irql);
}

/* Formats one parsed conversion, consuming its argument. literal/literal_len
 * is the conversion's text in the format, printed for conversions Windows
 * does not support. */
static void convert(struct out *o, const struct spec *sp, const char *literal, size_t literal_len,
                    va_list *ap)
{
    char fmt[48];
    bool wide;

    switch (sp->conversion) {
    case 'd':
    case 'i':
        int_spec(sp, fmt, sizeof(fmt));
        out_format(o, fmt, fetch_signed(sp->length, ap));
        return;
    case 'u':
    case 'o':
    case 'x':
    case 'X':
        int_spec(sp, fmt, sizeof(fmt));
        out_format(o, fmt, fetch_unsigned(sp->length, ap));
        return;

    case 'p': {
        /* As Windows prints it: all hex digits of a pointer, upper case,
         * without "0x". */
        char digits[2 * sizeof(void *) + 1];
        uintptr_t v = (uintptr_t)va_arg(*ap, void *);
        snprintf(digits, sizeof(digits), "%0*" PRIXPTR, (int)(2 * sizeof(void *)), v);
        out_padded(o, sp, digits, strlen(digits), strlen(digits));
        return;
    }

    case 'c':
    case 'C':
        wide = (sp->conversion == 'C' && sp->length != LEN_H && sp->length != LEN_HH) ||
               sp->length == LEN_L || sp->length == LEN_W;
        if (wide) {
            check_unicode_irql(literal, literal_len);
            WCHAR w = (WCHAR)va_arg(*ap, int);
            out_utf16(o, sp, &w, 1);
        } else {
            char ch = (char)va_arg(*ap, int);
            out_padded(o, sp, &ch, 1, 1);
        }
        return;

    case 's':
    case 'S':
        wide = (sp->conversion == 'S' && sp->length != LEN_H && sp->length != LEN_HH) ||
               sp->length == LEN_L || sp->length == LEN_W;
        if (wide) {
            check_unicode_irql(literal, literal_len);
            const WCHAR *ws = va_arg(*ap, const WCHAR *);
            if (ws == NULL) {
                out_null(o, sp);
                return;
            }
            /* With a precision, read no further than it allows. */
            size_t n = 0;
            while ((sp->precision < 0 || n < (size_t)sp->precision) && ws[n] != UNICODE_NULL)
                n++;
            out_utf16(o, sp, ws, n);
        } else {
            const char *s = va_arg(*ap, const char *);
            if (s == NULL) {
                out_null(o, sp);
                return;
            }
            size_t n = 0;
            while ((sp->precision < 0 || n < (size_t)sp->precision) && s[n] != '\0')
                n++;
            out_padded(o, sp, s, n, n);
        }
        return;

    case 'Z':
        if (sp->length == LEN_W || sp->length == LEN_L) {
            check_unicode_irql(literal, literal_len);
            PCUNICODE_STRING us = va_arg(*ap, PCUNICODE_STRING);
            if (us == NULL || us->Buffer == NULL) {
                out_null(o, sp);
                return;
            }
            out_utf16(o, sp, us->Buffer, limit_units(sp, us->Length / sizeof(WCHAR)));
        } else {
            PCANSI_STRING as = va_arg(*ap, PCANSI_STRING);
            if (as == NULL || as->Buffer == NULL) {
                out_null(o, sp);
                return;
            }
            size_t n = limit_units(sp, as->Length);
            out_padded(o, sp, as->Buffer, n, n);
        }
        return;

    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
    case 'a':
    case 'A':
        /* DbgPrint does not support floating point: the argument is consumed
         * so later ones stay in place, and the conversion prints as written. */
        if (sp->length == LEN_LONG_DBL)
            (void)va_arg(*ap, long double);
        else
            (void)va_arg(*ap, double);
        out_bytes(o, literal, literal_len);
        return;

    case 'n':
        /* Never stores anything; the pointer is consumed and the conversion
         * prints as written. */
        (void)va_arg(*ap, void *);
        out_bytes(o, literal, literal_len);
        return;

    default:
        out_bytes(o, literal, literal_len);
        return;
    }
}

/* Parses the conversion starting after a '%'. Returns the position after it,
 * or NULL when the format ends inside it. Width and precision given as '*'
 * are fetched from the arguments (a negative width means left-justified, a
 * negative precision means none). */
static const char *parse_spec(const char *p, struct spec *sp, va_list *ap)
{
    size_t nflags = 0;
    memset(sp, 0, sizeof(*sp));
    sp->width = -1;
    sp->precision = -1;

    while (*p != '\0' && strchr("-+ #0", *p) != NULL) {
        if (strchr(sp->flags, *p) == NULL && nflags < sizeof(sp->flags) - 1)
            sp->flags[nflags++] = *p;
        p++;
    }

    if (*p == '*') {
        int w = va_arg(*ap, int);
        if (w < 0) {
            if (strchr(sp->flags, '-') == NULL && nflags < sizeof(sp->flags) - 1)
                sp->flags[nflags++] = '-';
            w = w == INT_MIN ? INT_MAX : -w;
        }
        sp->width = w;
        p++;
    } else if (*p >= '0' && *p <= '9') {
        long w = 0;
        while (*p >= '0' && *p <= '9') {
            if (w < 100000)
                w = w * 10 + (*p - '0');
            p++;
        }
        sp->width = (int)w;
    }

    if (*p == '.') {
        p++;
        if (*p == '*') {
            int pr = va_arg(*ap, int);
            sp->precision = pr < 0 ? -1 : pr;
            p++;
        } else {
            long pr = 0;
            while (*p >= '0' && *p <= '9') {
                if (pr < 100000)
                    pr = pr * 10 + (*p - '0');
                p++;
            }
            sp->precision = (int)pr;
        }
    }

    /* Length modifiers, Microsoft's size prefixes included. */
    if (p[0] == 'h' && p[1] == 'h') {
        sp->length = LEN_HH;
        p += 2;
    } else if (p[0] == 'h') {
        sp->length = LEN_H;
        p++;
    } else if (p[0] == 'l' && p[1] == 'l') {
        sp->length = LEN_LL;
        p += 2;
    } else if (p[0] == 'l') {
        sp->length = LEN_L;
        p++;
    } else if (p[0] == 'w') {
        sp->length = LEN_W;
        p++;
    } else if (p[0] == 'I' && p[1] == '6' && p[2] == '4') {
        sp->length = LEN_I64;
        p += 3;
    } else if (p[0] == 'I' && p[1] == '3' && p[2] == '2') {
        sp->length = LEN_I32;
        p += 3;
    } else if (p[0] == 'I') {
        sp->length = LEN_I;
        p++;
    } else if (p[0] == 'z') {
        sp->length = LEN_Z;
        p++;
    } else if (p[0] == 'j') {
        sp->length = LEN_J;
        p++;
    } else if (p[0] == 't') {
        sp->length = LEN_T;
        p++;
    } else if (p[0] == 'L') {
        sp->length = LEN_LONG_DBL;
        p++;
    }

    if (*p == '\0')
        return NULL;
    sp->conversion = *p;
    return p + 1;
}

/* Whether a length modifier makes sense with a conversion; any other combination
 * (e.g. "%wd", "%Lx") is not understood and prints as written. */
static bool length_fits(const struct spec *sp)
{
    switch (sp->conversion) {
    case 'd':
    case 'i':
    case 'u':
    case 'o':
    case 'x':
    case 'X':
        return sp->length != LEN_W && sp->length != LEN_LONG_DBL;
    case 'c':
    case 'C':
    case 's':
    case 'S':
        return sp->length == LEN_DEFAULT || sp->length == LEN_H || sp->length == LEN_L ||
               sp->length == LEN_W;
    case 'Z':
        return sp->length == LEN_DEFAULT || sp->length == LEN_H || sp->length == LEN_W ||
               sp->length == LEN_L;
    case 'p':
        return sp->length == LEN_DEFAULT;
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
    case 'a':
    case 'A':
        return sp->length == LEN_DEFAULT || sp->length == LEN_L || sp->length == LEN_LONG_DBL;
    default:
        return true;
    }
}

static void format_message(struct out *o, const char *format, va_list *ap)
{
    const char *p = format;
    while (*p != '\0' && !o->truncated) {
        const char *pct = strchr(p, '%');
        if (pct == NULL) {
            out_bytes(o, p, strlen(p));
            break;
        }
        out_bytes(o, p, (size_t)(pct - p));
        if (pct[1] == '%') {
            out_bytes(o, "%", 1);
            p = pct + 2;
            continue;
        }
        struct spec sp;
        const char *next = parse_spec(pct + 1, &sp, ap);
        if (next == NULL) {
            /* The format ends inside a conversion: print what is there. */
            out_bytes(o, pct, strlen(pct));
            break;
        }
        if (length_fits(&sp))
            convert(o, &sp, pct, (size_t)(next - pct), ap);
        else
            out_bytes(o, pct, (size_t)(next - pct));
        p = next;
    }
}

ULONG vDbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, va_list arglist)
{
    /* Windows filters by component and level (by default it shows only
     * errors); fltsim shows every message whatever its level. */
    (void)ComponentId;
    (void)Level;

    struct out o;
    o.used = 0;
    o.truncated = false;
    if (Format != NULL) {
        va_list ap;
        va_copy(ap, arglist);
        format_message(&o, Format, &ap);
        va_end(ap);
    }
    o.text[o.used] = '\0';
    sink_write(o.text);
    return (ULONG)(o.truncated ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS);
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

/* ---- assertions ---- */

void fltsim_assert_failed(const char *expression, const char *file, int line)
{
    struct fltsim_tls *t = fltsim__tls();
    fprintf(stderr, "fltsim: assertion failed: %s (%s:%d)\n", expression, file, line);
    if (t->sys != NULL)
        fltsim__report(t->sys, t->filter, NULL, t->op, "ASSERT", "-",
                       "assertion failed: %s (%s:%d)", expression, file, line);
}
