/*
 * fltsim's one Windows-style printf walker (format.h), behind DbgPrint, the
 * CRT's wide printf family and ntstrsafe's printf routines. It parses each
 * conversion the way Microsoft's runtime does ('l' is 32 bits, I64/I32/I
 * prefixes, %wZ/%Z, %ws/%S/%hs, %p as all hex digits) and formats integers
 * and floating point one conversion at a time with the host's snprintf, so
 * no Windows format string ever reaches the host's printf. The output
 * decides the encoding it stores.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>

#include "format.h"

struct walk {
    struct fltsim_fmt_out *out;
    enum fltsim_fmt_dialect dialect;
    const char *nfmt;  /* the format, FLTSIM_FMT_DBGPRINT and FLTSIM_FMT_CRT_NARROW */
    const WCHAR *wfmt; /* the format, FLTSIM_FMT_CRT_WIDE */
};

static unsigned unit_at(const struct walk *w, size_t i)
{
    return w->wfmt != NULL ? (unsigned)w->wfmt[i] : (unsigned char)w->nfmt[i];
}

/* Copies format units [from, to) to the output as they are. */
static void emit_format_text(const struct walk *w, size_t from, size_t to)
{
    if (to <= from)
        return;
    if (w->wfmt != NULL)
        w->out->wide(w->out, w->wfmt + from, to - from);
    else
        w->out->narrow(w->out, w->nfmt + from, to - from);
}

static void emit_repeat(struct fltsim_fmt_out *out, char c, size_t count)
{
    char run[32];
    memset(run, c, sizeof(run));
    while (count > 0 && !out->full) {
        size_t k = count < sizeof(run) ? count : sizeof(run);
        out->narrow(out, run, k);
        count -= k;
    }
}

/* snprintf of one rebuilt conversion, appended. A result longer than the
 * scratch buffer (a wide field) is formatted again into one of its size. */
static void emit_snprintf(struct fltsim_fmt_out *out, const char *spec, ...)
    __attribute__((format(printf, 2, 3)));

static void emit_snprintf(struct fltsim_fmt_out *out, const char *spec, ...)
{
    char scratch[128];
    va_list ap, again;
    va_start(ap, spec);
    va_copy(again, ap);
    int r = vsnprintf(scratch, sizeof(scratch), spec, ap);
    va_end(ap);
    if (r >= 0 && (size_t)r < sizeof(scratch)) {
        out->narrow(out, scratch, (size_t)r);
    } else if (r >= 0) {
        char *big = malloc((size_t)r + 1);
        if (big != NULL) {
            vsnprintf(big, (size_t)r + 1, spec, again);
            out->narrow(out, big, (size_t)r);
            free(big);
        } else {
            /* No memory for the whole field: what fits in scratch. */
            out->narrow(out, scratch, sizeof(scratch) - 1);
        }
    }
    va_end(again);
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
    unsigned conversion;
    size_t start, end; /* the conversion's text in the format: [start, end) */
};

static bool left_justified(const struct spec *sp)
{
    return strchr(sp->flags, '-') != NULL;
}

static size_t pad_for(const struct spec *sp, size_t columns)
{
    return (sp->width > 0 && (size_t)sp->width > columns) ? (size_t)sp->width - columns : 0;
}

/* Pads n narrow bytes (n characters wide) to the field width. */
static void emit_narrow_field(struct fltsim_fmt_out *out, const struct spec *sp, const char *s,
                              size_t n)
{
    size_t pad = pad_for(sp, n);
    if (!left_justified(sp))
        emit_repeat(out, ' ', pad);
    out->narrow(out, s, n);
    if (left_justified(sp))
        emit_repeat(out, ' ', pad);
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

/* Pads n UTF-16 units to the field width: by characters for DbgPrint (which
 * prints UTF-8), by units for the CRT (whose output is the units). */
static void emit_wide_field(const struct walk *w, const struct spec *sp, const WCHAR *s, size_t n)
{
    size_t columns = w->dialect == FLTSIM_FMT_DBGPRINT ? utf16_chars(s, n) : n;
    size_t pad = pad_for(sp, columns);
    if (!left_justified(sp))
        emit_repeat(w->out, ' ', pad);
    w->out->wide(w->out, s, n);
    if (left_justified(sp))
        emit_repeat(w->out, ' ', pad);
}

static size_t limit_units(const struct spec *sp, size_t n)
{
    if (sp->precision >= 0 && (size_t)sp->precision < n)
        return (size_t)sp->precision;
    return n;
}

static void emit_null(struct fltsim_fmt_out *out, const struct spec *sp)
{
    static const char text[] = "(null)";
    emit_narrow_field(out, sp, text, sizeof(text) - 1);
}

/* Builds "%<flags><width>.<precision><infix><conversion>" for snprintf. */
static void host_spec(const struct spec *sp, const char *infix, char *buf, size_t size)
{
    int k = snprintf(buf, size, "%%%s", sp->flags);
    if (sp->width >= 0)
        k += snprintf(buf + k, size - (size_t)k, "%d", sp->width);
    if (sp->precision >= 0)
        k += snprintf(buf + k, size - (size_t)k, ".%d", sp->precision);
    snprintf(buf + k, size - (size_t)k, "%s%c", infix, (char)sp->conversion);
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

/* DbgPrint's Unicode conversions may only be used at PASSIVE_LEVEL (its
 * documentation); above it fltsim still prints them and reports the call. */
static void check_unicode_irql(const struct walk *w, const struct spec *sp)
{
    if (w->dialect != FLTSIM_FMT_DBGPRINT)
        return;
    struct fltsim_tls *t = fltsim__tls();
    if (t->irql == PASSIVE_LEVEL)
        return;
    const char *literal = w->nfmt + sp->start;
    size_t literal_len = sp->end - sp->start;
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

/* Whether %c/%s (or %C/%S) is wide: an explicit h is narrow and l or w wide;
 * otherwise the lower-case conversion has the format's own width and the
 * upper-case one the other. */
static bool conversion_is_wide(const struct walk *w, const struct spec *sp)
{
    if (sp->length == LEN_H || sp->length == LEN_HH)
        return false;
    if (sp->length == LEN_L || sp->length == LEN_W)
        return true;
    bool upper = sp->conversion == 'C' || sp->conversion == 'S';
    return upper != (w->dialect == FLTSIM_FMT_CRT_WIDE);
}

static void convert_string(const struct walk *w, const struct spec *sp, va_list *ap)
{
    if (conversion_is_wide(w, sp)) {
        check_unicode_irql(w, sp);
        const WCHAR *ws = va_arg(*ap, const WCHAR *);
        if (ws == NULL) {
            emit_null(w->out, sp);
            return;
        }
        /* With a precision, read no further than it allows. The length is
         * measured before anything is written, as Windows does, so a string
         * that is also the destination (minispy's "%s ..." idiom) copies. */
        size_t n = 0;
        while ((sp->precision < 0 || n < (size_t)sp->precision) && ws[n] != UNICODE_NULL)
            n++;
        emit_wide_field(w, sp, ws, n);
    } else {
        const char *s = va_arg(*ap, const char *);
        if (s == NULL) {
            emit_null(w->out, sp);
            return;
        }
        size_t n = 0;
        while ((sp->precision < 0 || n < (size_t)sp->precision) && s[n] != '\0')
            n++;
        emit_narrow_field(w->out, sp, s, n);
    }
}

static void convert_char(const struct walk *w, const struct spec *sp, va_list *ap)
{
    if (conversion_is_wide(w, sp)) {
        check_unicode_irql(w, sp);
        WCHAR wc = (WCHAR)va_arg(*ap, int);
        emit_wide_field(w, sp, &wc, 1);
    } else {
        char ch = (char)va_arg(*ap, int);
        emit_narrow_field(w->out, sp, &ch, 1);
    }
}

static void convert_counted(const struct walk *w, const struct spec *sp, va_list *ap)
{
    if (sp->length == LEN_W || sp->length == LEN_L) {
        check_unicode_irql(w, sp);
        PCUNICODE_STRING us = va_arg(*ap, PCUNICODE_STRING);
        if (us == NULL || us->Buffer == NULL) {
            emit_null(w->out, sp);
            return;
        }
        emit_wide_field(w, sp, us->Buffer, limit_units(sp, us->Length / sizeof(WCHAR)));
    } else {
        PCANSI_STRING as = va_arg(*ap, PCANSI_STRING);
        if (as == NULL || as->Buffer == NULL) {
            emit_null(w->out, sp);
            return;
        }
        emit_narrow_field(w->out, sp, as->Buffer, limit_units(sp, as->Length));
    }
}

static void convert_float(const struct walk *w, const struct spec *sp, va_list *ap)
{
    char fmt[48];
    if (w->dialect == FLTSIM_FMT_DBGPRINT) {
        /* DbgPrint does not support floating point: the argument is consumed
         * so later ones stay in place, and the conversion prints as written. */
        if (sp->length == LEN_LONG_DBL)
            (void)va_arg(*ap, long double);
        else
            (void)va_arg(*ap, double);
        emit_format_text(w, sp->start, sp->end);
        return;
    }
    if (sp->length == LEN_LONG_DBL) {
        host_spec(sp, "L", fmt, sizeof(fmt));
        emit_snprintf(w->out, fmt, va_arg(*ap, long double));
    } else {
        host_spec(sp, "", fmt, sizeof(fmt));
        emit_snprintf(w->out, fmt, va_arg(*ap, double));
    }
}

/* Formats one parsed conversion, consuming its argument. Returns NULL, or
 * what makes it invalid (the CRT dialects). */
static const char *convert(const struct walk *w, const struct spec *sp, va_list *ap)
{
    char fmt[48];

    switch (sp->conversion) {
    case 'd':
    case 'i':
        host_spec(sp, "j", fmt, sizeof(fmt));
        emit_snprintf(w->out, fmt, fetch_signed(sp->length, ap));
        return NULL;
    case 'u':
    case 'o':
    case 'x':
    case 'X':
        host_spec(sp, "j", fmt, sizeof(fmt));
        emit_snprintf(w->out, fmt, fetch_unsigned(sp->length, ap));
        return NULL;

    case 'p': {
        /* As Windows prints it: all hex digits of a pointer, upper case,
         * without "0x". */
        char digits[2 * sizeof(void *) + 1];
        uintptr_t v = (uintptr_t)va_arg(*ap, void *);
        snprintf(digits, sizeof(digits), "%0*" PRIXPTR, (int)(2 * sizeof(void *)), v);
        emit_narrow_field(w->out, sp, digits, strlen(digits));
        return NULL;
    }

    case 'c':
    case 'C':
        convert_char(w, sp, ap);
        return NULL;
    case 's':
    case 'S':
        convert_string(w, sp, ap);
        return NULL;
    case 'Z':
        convert_counted(w, sp, ap);
        return NULL;

    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
    case 'a':
    case 'A':
        convert_float(w, sp, ap);
        return NULL;

    case 'n':
        if (w->dialect != FLTSIM_FMT_DBGPRINT)
            return "%n is disabled (Microsoft's CRT treats it as an invalid parameter)";
        /* DbgPrint never stores anything; the pointer is consumed and the
         * conversion prints as written. */
        (void)va_arg(*ap, void *);
        emit_format_text(w, sp->start, sp->end);
        return NULL;

    default:
        if (w->dialect != FLTSIM_FMT_DBGPRINT)
            return "the format has an unknown conversion";
        emit_format_text(w, sp->start, sp->end);
        return NULL;
    }
}

static bool is_digit(unsigned u)
{
    return u >= '0' && u <= '9';
}

/* Parses the conversion whose '%' is at index pct. Returns false when the
 * format ends inside it. Width and precision given as '*' are fetched from
 * the arguments (a negative width means left-justified, a negative
 * precision means none). */
static bool parse_spec(const struct walk *w, size_t pct, struct spec *sp, va_list *ap)
{
    size_t nflags = 0;
    size_t i = pct + 1;
    memset(sp, 0, sizeof(*sp));
    sp->width = -1;
    sp->precision = -1;
    sp->start = pct;

    for (unsigned u = unit_at(w, i); u != 0 && u < 0x80 && strchr("-+ #0", (int)u) != NULL;
         u = unit_at(w, ++i)) {
        if (strchr(sp->flags, (int)u) == NULL && nflags < sizeof(sp->flags) - 1)
            sp->flags[nflags++] = (char)u;
    }

    if (unit_at(w, i) == '*') {
        int width = va_arg(*ap, int);
        if (width < 0) {
            if (strchr(sp->flags, '-') == NULL && nflags < sizeof(sp->flags) - 1)
                sp->flags[nflags++] = '-';
            width = width == INT_MIN ? INT_MAX : -width;
        }
        sp->width = width;
        i++;
    } else if (is_digit(unit_at(w, i))) {
        long width = 0;
        for (; is_digit(unit_at(w, i)); i++)
            if (width < 100000)
                width = width * 10 + (long)(unit_at(w, i) - '0');
        sp->width = (int)width;
    }

    if (unit_at(w, i) == '.') {
        i++;
        if (unit_at(w, i) == '*') {
            int precision = va_arg(*ap, int);
            sp->precision = precision < 0 ? -1 : precision;
            i++;
        } else {
            long precision = 0;
            for (; is_digit(unit_at(w, i)); i++)
                if (precision < 100000)
                    precision = precision * 10 + (long)(unit_at(w, i) - '0');
            sp->precision = (int)precision;
        }
    }

    /* Length modifiers, Microsoft's size prefixes included. */
    unsigned c0 = unit_at(w, i);
    unsigned c1 = c0 != 0 ? unit_at(w, i + 1) : 0;
    unsigned c2 = c1 != 0 ? unit_at(w, i + 2) : 0;
    if (c0 == 'h' && c1 == 'h') {
        sp->length = LEN_HH;
        i += 2;
    } else if (c0 == 'h') {
        sp->length = LEN_H;
        i++;
    } else if (c0 == 'l' && c1 == 'l') {
        sp->length = LEN_LL;
        i += 2;
    } else if (c0 == 'l') {
        sp->length = LEN_L;
        i++;
    } else if (c0 == 'w') {
        sp->length = LEN_W;
        i++;
    } else if (c0 == 'I' && c1 == '6' && c2 == '4') {
        sp->length = LEN_I64;
        i += 3;
    } else if (c0 == 'I' && c1 == '3' && c2 == '2') {
        sp->length = LEN_I32;
        i += 3;
    } else if (c0 == 'I') {
        sp->length = LEN_I;
        i++;
    } else if (c0 == 'z') {
        sp->length = LEN_Z;
        i++;
    } else if (c0 == 'j') {
        sp->length = LEN_J;
        i++;
    } else if (c0 == 't') {
        sp->length = LEN_T;
        i++;
    } else if (c0 == 'L') {
        sp->length = LEN_LONG_DBL;
        i++;
    }

    if (unit_at(w, i) == 0)
        return false;
    sp->conversion = unit_at(w, i);
    sp->end = i + 1;
    return true;
}

/* Whether a length modifier makes sense with a conversion; any other combination
 * (e.g. "%wd", "%Lx") is not understood. */
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

const char *fltsim__format(struct fltsim_fmt_out *out, enum fltsim_fmt_dialect dialect,
                           const void *format, va_list *ap)
{
    struct walk w = {out, dialect, NULL, NULL};
    if (dialect == FLTSIM_FMT_CRT_WIDE)
        w.wfmt = format;
    else
        w.nfmt = format;

    size_t i = 0;
    while (unit_at(&w, i) != 0 && !out->full) {
        size_t pct = i;
        while (unit_at(&w, pct) != 0 && unit_at(&w, pct) != '%')
            pct++;
        emit_format_text(&w, i, pct);
        if (unit_at(&w, pct) == 0)
            break;
        if (unit_at(&w, pct + 1) == '%') {
            out->narrow(out, "%", 1);
            i = pct + 2;
            continue;
        }
        struct spec sp;
        if (!parse_spec(&w, pct, &sp, ap)) {
            if (dialect != FLTSIM_FMT_DBGPRINT)
                return "the format ends inside a conversion";
            /* DbgPrint: print what is there. */
            size_t end = pct;
            while (unit_at(&w, end) != 0)
                end++;
            emit_format_text(&w, pct, end);
            break;
        }
        if (length_fits(&sp)) {
            const char *invalid = convert(&w, &sp, ap);
            if (invalid != NULL)
                return invalid;
        } else if (dialect != FLTSIM_FMT_DBGPRINT) {
            return "the format has a size prefix its conversion does not take";
        } else {
            emit_format_text(&w, sp.start, sp.end);
        }
        i = sp.end;
    }
    return NULL;
}
