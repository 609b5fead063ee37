/*
 * FsRtl name matching: FsRtlIsNameInExpression with the wildcards * and ? and
 * the DOS wildcards < > " that the Win32 layer translates *.* patterns into,
 * and FsRtlDoesNameContainWildCards. The matcher runs the expression as a
 * nondeterministic automaton over the name (one set of live expression
 * positions per name character), so it takes time proportional to name length
 * times expression length whatever the pattern, never backtracking. Upcasing
 * comes from rtl_string.c.
 */
#include "model_internal.h"

/* One bit per expression position, position Length/2 (end) included. A
 * UNICODE_STRING holds at most 32767 characters. */
#define STATE_WORDS ((UNICODE_STRING_MAX_CHARS + 1 + 63) / 64)

/* The rule id and SPEC section of a report about an argument fltsim does not
 * model. */
#define NOT_MODELED_RULE "SIM"
#define NOT_MODELED_SPEC "-"

static bool is_wild(WCHAR c)
{
    return c == L'*' || c == L'?' || c == DOS_STAR || c == DOS_QM || c == DOS_DOT;
}

static bool state_get(const uint64_t *set, size_t i)
{
    return (set[i / 64] >> (i % 64)) & 1u;
}

static void state_put(uint64_t *set, size_t i, bool on)
{
    if (on)
        set[i / 64] |= (uint64_t)1 << (i % 64);
    else
        set[i / 64] &= ~((uint64_t)1 << (i % 64));
}

/* A custom upcase table is not modeled: say so where the filter will see it. */
static void report_upcase_table(void)
{
    struct fltsim_tls *t = fltsim__tls();
    const char *message = "FsRtlIsNameInExpression: a caller-supplied UpcaseTable is not "
                          "modeled; fltsim's own upcase table was used instead";
    if (t->sys != NULL)
        fltsim__report(t->sys, t->filter, NULL, t->op, NOT_MODELED_RULE, NOT_MODELED_SPEC, "%s",
                       message);
    else
        fprintf(stderr, "fltsim: %s\n", message);
}

/* Adds to set the positions reachable from live ones without consuming a name
 * character, when the next name character is c (at_end: there is none).
 * Empty moves only go from position i to i + 1, so one forward pass closes
 * the set. lo..hi bound the live positions and are widened as needed. */
static void close_empty_moves(const WCHAR *expr, size_t m, uint64_t *set, size_t *lo, size_t *hi,
                              bool at_end, WCHAR c)
{
    for (size_t i = *lo; i < m && i <= *hi; i++) {
        if (!state_get(set, i))
            continue;
        WCHAR e = expr[i];
        bool skip;
        if (e == L'*' || e == DOS_STAR)
            skip = true; /* both may match no characters at all */
        else if (e == DOS_QM)
            skip = at_end || c == L'.'; /* matches nothing at a dot or the end */
        else if (e == DOS_DOT)
            skip = at_end; /* matches nothing only beyond the name */
        else
            skip = false;
        if (skip) {
            state_put(set, i + 1, true);
            if (i + 1 > *hi)
                *hi = i + 1;
        }
    }
}

BOOLEAN FsRtlIsNameInExpression(PUNICODE_STRING Expression, PUNICODE_STRING Name,
                                BOOLEAN IgnoreCase, PWCH UpcaseTable)
{
    if (UpcaseTable != NULL)
        report_upcase_table();

    size_t m = Expression->Length / sizeof(WCHAR);
    size_t n = Name->Length / sizeof(WCHAR);
    /* Documented: an empty string matches only another empty one, so "*"
     * does not match an empty name. */
    if (m == 0 || n == 0)
        return (BOOLEAN)(m == 0 && n == 0);

    const WCHAR *expr = Expression->Buffer;
    const WCHAR *name = Name->Buffer;

    /* DOS_STAR may consume a dot only when another dot follows it. */
    size_t last_dot = n; /* n: the name has no dot */
    for (size_t k = n; k-- > 0;) {
        if (name[k] == L'.') {
            last_dot = k;
            break;
        }
    }

    uint64_t set[STATE_WORDS];
    memset(set, 0, ((m + 1 + 63) / 64) * sizeof(uint64_t));
    size_t lo = 0, hi = 0; /* no live position lies outside lo..hi */
    state_put(set, 0, true);

    for (size_t p = 0; p < n; p++) {
        WCHAR c = IgnoreCase ? RtlUpcaseUnicodeChar(name[p]) : name[p];
        close_empty_moves(expr, m, set, &lo, &hi, false, c);

        /* Consume name[p]. Each live position i either stays (a star eats
         * the character) or moves to i + 1. Going from hi down to lo updates
         * the set in place: position i + 1 is written before i is read. */
        size_t new_lo = SIZE_MAX, new_hi = 0;
        size_t top = hi < m ? hi : m - 1;
        if (hi >= m)
            state_put(set, m, false); /* the end consumes nothing */
        for (size_t i = top + 1; i-- > lo;) {
            if (!state_get(set, i))
                continue;
            WCHAR e = expr[i];
            bool stay, advance;
            if (e == L'*') {
                stay = true;
                advance = false;
            } else if (e == DOS_STAR) {
                stay = c != L'.' || p < last_dot;
                advance = false;
            } else if (e == L'?') {
                stay = false;
                advance = true;
            } else if (e == DOS_QM) {
                stay = false;
                advance = c != L'.';
            } else if (e == DOS_DOT) {
                stay = false;
                advance = c == L'.';
            } else {
                stay = false;
                advance = e == c;
            }
            state_put(set, i, stay);
            if (advance) {
                state_put(set, i + 1, true);
                if (i + 1 > new_hi)
                    new_hi = i + 1;
                new_lo = i + 1 < new_lo ? i + 1 : new_lo;
            }
            if (stay) {
                if (i > new_hi)
                    new_hi = i;
                new_lo = i < new_lo ? i : new_lo;
            }
        }
        if (new_lo == SIZE_MAX)
            return FALSE; /* no way left to match the rest of the name */
        lo = new_lo;
        hi = new_hi;
    }

    close_empty_moves(expr, m, set, &lo, &hi, true, 0);
    return (BOOLEAN)state_get(set, m);
}

BOOLEAN FsRtlDoesNameContainWildCards(PUNICODE_STRING Name)
{
    size_t n = Name->Length / sizeof(WCHAR);
    for (size_t i = 0; i < n; i++) {
        if (is_wild(Name->Buffer[i]))
            return TRUE;
    }
    return FALSE;
}
