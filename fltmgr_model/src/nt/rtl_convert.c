/*
 * The Rtl routines that convert counted strings between ANSI and Unicode
 * and work on ANSI STRINGs (compare, copy, append), the ones that allocate a
 * Unicode string for the caller (create, duplicate, downcase), string
 * hashing and RtlIsNameLegalDOS8Dot3. fltsim's code pages are a US-English
 * Windows': ANSI 1252 (defined here for every string family) and OEM 437;
 * allocations are paged pool under FLTSIM_RTL_STRING_TAG, so a filter that
 * never frees them shows in the leak report at unload. Numbers and UTF-8 are
 * rtl_number.c.
 */
#include "nt_internal.h"
#include "strings_internal.h"

/* ---- the ANSI code page: Windows-1252 ---- */

/* 0x80..0x9F, the only bytes where 1252 differs from Latin-1. The five it
 * leaves undefined (0x81 0x8D 0x8F 0x90 0x9D) map to themselves. */
static const WCHAR cp1252_high[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

WCHAR fltsim__ansi_to_unicode(unsigned char c)
{
    return c >= 0x80 && c <= 0x9F ? cp1252_high[c - 0x80] : (WCHAR)c;
}

char fltsim__unicode_to_ansi(WCHAR u, bool *mapped)
{
    if (mapped != NULL)
        *mapped = true;
    if (u < 0x80 || (u >= 0xA0 && u <= 0xFF))
        return (char)(unsigned char)u;
    for (unsigned i = 0; i < 32; i++)
        if (cp1252_high[i] == u)
            return (char)(unsigned char)(0x80 + i);
    if (mapped != NULL)
        *mapped = false;
    return FLTSIM_ANSI_DEFAULT_CHAR;
}

void fltsim__string_misuse(const char *api, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    fltsim__ke_report("KE", "-", "%s: %s", api, what);
}

static void check_passive(const char *api)
{
    fltsim__check_irql(fltsim__tls()->sys, PASSIVE_LEVEL, api);
}

/* Paged pool for a string handed to the caller; the leak report names api. */
static void *string_alloc(size_t bytes, const char *api)
{
    return fltsim_ExAllocatePoolWithTag_at(PagedPool, bytes, FLTSIM_RTL_STRING_TAG, api, 0);
}

/* ---- ANSI <-> Unicode ---- */

ULONG RtlxUnicodeStringToAnsiSize(PCUNICODE_STRING UnicodeString)
{
    /* A single-byte code page: one byte per UTF-16 unit, and the terminator. */
    return (ULONG)(UnicodeString->Length / sizeof(WCHAR)) + 1;
}

ULONG RtlxAnsiStringToUnicodeSize(PCANSI_STRING AnsiString)
{
    return ((ULONG)AnsiString->Length + 1) * sizeof(WCHAR);
}

NTSTATUS RtlUnicodeStringToAnsiString(PANSI_STRING DestinationString, PCUNICODE_STRING SourceString,
                                      BOOLEAN AllocateDestinationString)
{
    static const char api[] = "RtlUnicodeStringToAnsiString";
    check_passive(api);
    if (DestinationString == NULL || SourceString == NULL) {
        fltsim__string_misuse(api, "a NULL string (Windows faults on it)");
        return STATUS_INVALID_PARAMETER;
    }
    ULONG size = RtlxUnicodeStringToAnsiSize(SourceString);
    if (size > MAXUSHORT)
        return STATUS_INVALID_PARAMETER_2;
    NTSTATUS status = STATUS_SUCCESS;
    /* As on Windows, Length is set before anything can fail. */
    DestinationString->Length = (USHORT)(size - 1);
    if (AllocateDestinationString) {
        PCHAR buffer = string_alloc(size, api);
        if (buffer == NULL)
            return STATUS_NO_MEMORY;
        DestinationString->Buffer = buffer;
        DestinationString->MaximumLength = (USHORT)size;
    } else if (DestinationString->MaximumLength < size) {
        /* Too small: what fits is converted, terminated, and reported. */
        if (DestinationString->MaximumLength == 0)
            return STATUS_BUFFER_OVERFLOW;
        DestinationString->Length = (USHORT)(DestinationString->MaximumLength - 1);
        status = STATUS_BUFFER_OVERFLOW;
    }
    for (USHORT i = 0; i < DestinationString->Length; i++)
        DestinationString->Buffer[i] = fltsim__unicode_to_ansi(SourceString->Buffer[i], NULL);
    DestinationString->Buffer[DestinationString->Length] = ANSI_NULL;
    return status;
}

NTSTATUS RtlAnsiStringToUnicodeString(PUNICODE_STRING DestinationString, PCANSI_STRING SourceString,
                                      BOOLEAN AllocateDestinationString)
{
    static const char api[] = "RtlAnsiStringToUnicodeString";
    check_passive(api);
    if (DestinationString == NULL || SourceString == NULL) {
        fltsim__string_misuse(api, "a NULL string (Windows faults on it)");
        return STATUS_INVALID_PARAMETER;
    }
    ULONG size = RtlxAnsiStringToUnicodeSize(SourceString);
    if (size > MAXUSHORT)
        return STATUS_INVALID_PARAMETER_2;
    /* As on Windows, Length is set first: after STATUS_BUFFER_OVERFLOW it
     * says how long the string would be, and nothing was converted. */
    DestinationString->Length = (USHORT)(size - sizeof(WCHAR));
    if (AllocateDestinationString) {
        PWCH buffer = string_alloc(size, api);
        if (buffer == NULL)
            return STATUS_NO_MEMORY;
        DestinationString->Buffer = buffer;
        DestinationString->MaximumLength = (USHORT)size;
    } else if (DestinationString->Length >= DestinationString->MaximumLength) {
        return STATUS_BUFFER_OVERFLOW;
    }
    for (USHORT i = 0; i < SourceString->Length; i++)
        DestinationString->Buffer[i] =
            fltsim__ansi_to_unicode((unsigned char)SourceString->Buffer[i]);
    DestinationString->Buffer[SourceString->Length] = UNICODE_NULL;
    return STATUS_SUCCESS;
}

VOID RtlFreeAnsiString(PANSI_STRING AnsiString)
{
    check_passive("RtlFreeAnsiString");
    if (AnsiString->Buffer != NULL) {
        ExFreePoolWithTag(AnsiString->Buffer, FLTSIM_RTL_STRING_TAG);
        AnsiString->Buffer = NULL;
        AnsiString->Length = 0;
        AnsiString->MaximumLength = 0;
    }
}

NTSTATUS RtlInitAnsiStringEx(PANSI_STRING DestinationString, PCSZ SourceString)
{
    size_t size = 0;
    if (SourceString != NULL) {
        while (SourceString[size] != ANSI_NULL)
            if (++size > MAXUSHORT - 1)
                return STATUS_NAME_TOO_LONG; /* the destination is left as it was */
    }
    DestinationString->Length = (USHORT)size;
    DestinationString->MaximumLength = SourceString != NULL ? (USHORT)(size + 1) : 0;
    DestinationString->Buffer = (PCHAR)SourceString;
    return STATUS_SUCCESS;
}

NTSTATUS RtlInitStringEx(PSTRING DestinationString, PCSZ SourceString)
{
    return RtlInitAnsiStringEx(DestinationString, SourceString);
}

/* ---- ANSI STRINGs ---- */

/* RtlUpperChar: a-z directly; any other byte through Unicode's case
 * mapping, kept when its uppercase form is not in the code page. */
static unsigned char ansi_upcase(unsigned char c)
{
    if (c < 'a')
        return c;
    if (c <= 'z')
        return (unsigned char)(c - ('a' - 'A'));
    if (c < 0x80)
        return c;
    bool mapped;
    char up = fltsim__unicode_to_ansi(RtlUpcaseUnicodeChar(fltsim__ansi_to_unicode(c)), &mapped);
    return mapped ? (unsigned char)up : c;
}

LONG RtlCompareString(const STRING *String1, const STRING *String2, BOOLEAN CaseInSensitive)
{
    if (String1 == NULL || String2 == NULL) {
        fltsim__string_misuse("RtlCompareString", "a NULL string (Windows faults on it)");
        return 0;
    }
    USHORT n = String1->Length < String2->Length ? String1->Length : String2->Length;
    for (USHORT i = 0; i < n; i++) {
        unsigned char a = (unsigned char)String1->Buffer[i];
        unsigned char b = (unsigned char)String2->Buffer[i];
        if (CaseInSensitive) {
            a = ansi_upcase(a);
            b = ansi_upcase(b);
        }
        /* CHAR is signed on Windows: bytes from 0x80 sort before ASCII. */
        if (a != b)
            return (LONG)(signed char)a - (LONG)(signed char)b;
    }
    return (LONG)String1->Length - (LONG)String2->Length;
}

BOOLEAN RtlEqualString(const STRING *String1, const STRING *String2, BOOLEAN CaseInSensitive)
{
    if (String1 == NULL || String2 == NULL) {
        fltsim__string_misuse("RtlEqualString", "a NULL string (Windows faults on it)");
        return FALSE;
    }
    if (String1->Length != String2->Length)
        return FALSE;
    return (BOOLEAN)(RtlCompareString(String1, String2, CaseInSensitive) == 0);
}

VOID RtlCopyString(PSTRING DestinationString, const STRING *SourceString)
{
    if (DestinationString == NULL) {
        fltsim__string_misuse("RtlCopyString", "the destination is NULL (Windows faults on it)");
        return;
    }
    if (SourceString == NULL) {
        DestinationString->Length = 0;
        return;
    }
    USHORT n = SourceString->Length < DestinationString->MaximumLength
                   ? SourceString->Length
                   : DestinationString->MaximumLength;
    if (n != 0)
        memmove(DestinationString->Buffer, SourceString->Buffer, n);
    DestinationString->Length = n;
    if (n < DestinationString->MaximumLength)
        DestinationString->Buffer[n] = ANSI_NULL;
}

NTSTATUS RtlAppendStringToString(PSTRING Destination, const STRING *Source)
{
    if (Destination == NULL || Source == NULL) {
        fltsim__string_misuse("RtlAppendStringToString", "a NULL string (Windows faults on it)");
        return STATUS_INVALID_PARAMETER;
    }
    if (Source->Length == 0)
        return STATUS_SUCCESS;
    if ((ULONG)Destination->Length + Source->Length > Destination->MaximumLength)
        return STATUS_BUFFER_TOO_SMALL; /* nothing appended */
    /* Unlike the Unicode form, nothing is terminated. */
    memmove(Destination->Buffer + Destination->Length, Source->Buffer, Source->Length);
    Destination->Length = (USHORT)(Destination->Length + Source->Length);
    return STATUS_SUCCESS;
}

/* ---- Unicode strings allocated for the caller ---- */

BOOLEAN RtlCreateUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString)
{
    static const char api[] = "RtlCreateUnicodeString";
    check_passive(api);
    if (DestinationString == NULL || SourceString == NULL) {
        fltsim__string_misuse(api, "a NULL string (Windows faults on it)");
        return FALSE;
    }
    size_t units = 0;
    while (SourceString[units] != UNICODE_NULL)
        if (++units > UNICODE_STRING_MAX_CHARS - 1)
            return FALSE; /* does not fit a UNICODE_STRING with its terminator */
    size_t size = (units + 1) * sizeof(WCHAR);
    PWCH buffer = string_alloc(size, api);
    if (buffer == NULL)
        return FALSE;
    memcpy(buffer, SourceString, size);
    DestinationString->Buffer = buffer;
    DestinationString->Length = (USHORT)(size - sizeof(WCHAR));
    DestinationString->MaximumLength = (USHORT)size;
    return TRUE;
}

NTSTATUS RtlDuplicateUnicodeString(ULONG Flags, PCUNICODE_STRING StringIn,
                                   PUNICODE_STRING StringOut)
{
    static const char api[] = "RtlDuplicateUnicodeString";
    const ULONG both = RTL_DUPLICATE_UNICODE_STRING_NULL_TERMINATE |
                       RTL_DUPLICATE_UNICODE_STRING_ALLOCATE_NULL_STRING;
    check_passive(api);
    /* ALLOCATE_NULL_STRING alone is refused: it only means something with
     * NULL_TERMINATE. */
    if (StringIn == NULL || StringOut == NULL || (Flags & ~both) != 0 ||
        Flags == RTL_DUPLICATE_UNICODE_STRING_ALLOCATE_NULL_STRING ||
        StringIn->Length > StringIn->MaximumLength ||
        (StringIn->Buffer == NULL && StringIn->MaximumLength != 0))
        return STATUS_INVALID_PARAMETER;
    if (StringIn->Length == 0 && Flags != both) {
        StringOut->Length = 0;
        StringOut->MaximumLength = 0;
        StringOut->Buffer = NULL;
        return STATUS_SUCCESS;
    }
    size_t size = StringIn->Length;
    if (Flags & RTL_DUPLICATE_UNICODE_STRING_NULL_TERMINATE)
        size += sizeof(WCHAR);
    if (size > MAXUSHORT)
        return STATUS_NAME_TOO_LONG; /* fltsim's choice: MaximumLength cannot hold it */
    PWCH buffer = string_alloc(size, api);
    if (buffer == NULL)
        return STATUS_NO_MEMORY;
    if (StringIn->Length != 0)
        memcpy(buffer, StringIn->Buffer, StringIn->Length);
    if (Flags & RTL_DUPLICATE_UNICODE_STRING_NULL_TERMINATE)
        buffer[StringIn->Length / sizeof(WCHAR)] = UNICODE_NULL;
    StringOut->Buffer = buffer;
    StringOut->Length = StringIn->Length;
    StringOut->MaximumLength = (USHORT)size;
    return STATUS_SUCCESS;
}

NTSTATUS RtlDowncaseUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                                  BOOLEAN AllocateDestinationString)
{
    static const char api[] = "RtlDowncaseUnicodeString";
    check_passive(api);
    if (DestinationString == NULL || SourceString == NULL) {
        fltsim__string_misuse(api, "a NULL string (Windows faults on it)");
        return STATUS_INVALID_PARAMETER;
    }
    USHORT bytes = SourceString->Length & ~(USHORT)1;
    const WCHAR *src = SourceString->Buffer;
    if (AllocateDestinationString) {
        /* As RtlUpcaseUnicodeString: exactly the characters, no room for a
         * terminator; on failure the destination is untouched. */
        PWCH buffer = string_alloc(bytes, api);
        if (buffer == NULL)
            return STATUS_NO_MEMORY;
        DestinationString->Buffer = buffer;
        DestinationString->MaximumLength = bytes;
    } else if (bytes > DestinationString->MaximumLength) {
        return STATUS_BUFFER_OVERFLOW;
    }
    /* Source and destination may be the same string. */
    for (size_t i = 0; i < bytes / sizeof(WCHAR); i++)
        DestinationString->Buffer[i] = RtlDowncaseUnicodeChar(src[i]);
    DestinationString->Length = bytes;
    return STATUS_SUCCESS;
}

/* ---- hashing ---- */

NTSTATUS RtlHashUnicodeString(PCUNICODE_STRING String, BOOLEAN CaseInSensitive, ULONG HashAlgorithm,
                              PULONG HashValue)
{
    if (String == NULL || HashValue == NULL ||
        (HashAlgorithm != HASH_STRING_ALGORITHM_DEFAULT &&
         HashAlgorithm != HASH_STRING_ALGORITHM_X65599))
        return STATUS_INVALID_PARAMETER;
    /* x65599: h = h * 65599 + c over the characters, upcased when
     * case-insensitive, in 32-bit arithmetic. */
    ULONG hash = 0;
    for (size_t i = 0; i < String->Length / sizeof(WCHAR); i++) {
        WCHAR c = String->Buffer[i];
        hash = hash * 65599u + (CaseInSensitive ? RtlUpcaseUnicodeChar(c) : c);
    }
    *HashValue = hash;
    return STATUS_SUCCESS;
}

/* ---- 8.3 names ---- */

/* The OEM code page of a US-English Windows (437), 0x80..0xFF; below 0x80
 * it is ASCII. */
static const WCHAR cp437_high[128] = {
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7, 0x00EA, 0x00EB, 0x00E8, 0x00EF,
    0x00EE, 0x00EC, 0x00C4, 0x00C5, 0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9,
    0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192, 0x00E1, 0x00ED, 0x00F3, 0x00FA,
    0x00F1, 0x00D1, 0x00AA, 0x00BA, 0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556, 0x2555, 0x2563, 0x2551, 0x2557,
    0x255D, 0x255C, 0x255B, 0x2510, 0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F,
    0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x2567, 0x2568, 0x2564, 0x2565, 0x2559,
    0x2558, 0x2552, 0x2553, 0x256B, 0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580,
    0x03B1, 0x00DF, 0x0393, 0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4, 0x03A6, 0x0398, 0x03A9, 0x03B4,
    0x221E, 0x03C6, 0x03B5, 0x2229, 0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248,
    0x00B0, 0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x00A0,
};

/* The OEM byte of u, or false when 437 has no such character. */
static bool unicode_to_oem(WCHAR u, unsigned char *out)
{
    if (u < 0x80) {
        *out = (unsigned char)u;
        return true;
    }
    for (unsigned i = 0; i < 128; i++)
        if (cp437_high[i] == u) {
            *out = (unsigned char)(0x80 + i);
            return true;
        }
    return false;
}

/* A character a FAT short name may not hold (control characters, the
 * reserved punctuation, and 0xE5, the deleted-entry marker). */
static bool fat_illegal(unsigned char c)
{
    return c < 0x20 || c == 0xE5 || strchr("\"*+,/:;<=>?[\\]|", c) != NULL;
}

BOOLEAN RtlIsNameLegalDOS8Dot3(PCUNICODE_STRING Name, POEM_STRING OemName,
                               PBOOLEAN NameContainsSpaces)
{
    if (Name == NULL) {
        fltsim__string_misuse("RtlIsNameLegalDOS8Dot3", "the name is NULL (Windows faults on it)");
        return FALSE;
    }
    /* The name upcased into the OEM code page: at most 12 characters, each
     * of which must exist there (else STATUS_UNMAPPABLE_CHARACTER inside). */
    unsigned char oem[12];
    size_t len = Name->Length / sizeof(WCHAR);
    size_t room = OemName != NULL ? OemName->MaximumLength : sizeof(oem);
    if (len > 12 || len > room)
        return FALSE;
    for (size_t i = 0; i < len; i++)
        if (!unicode_to_oem(RtlUpcaseUnicodeChar(Name->Buffer[i]), &oem[i]))
            return FALSE;
    if (OemName != NULL) {
        memcpy(OemName->Buffer, oem, len);
        OemName->Length = (USHORT)len;
    }
    if (len == 0)
        return FALSE;
    /* "." and ".." are legal; any other leading dot is not. */
    if (oem[0] == '.') {
        if (len > 2 || (len == 2 && oem[1] != '.'))
            return FALSE;
        if (NameContainsSpaces != NULL)
            *NameContainsSpaces = FALSE;
        return TRUE;
    }
    size_t dot = len;
    bool spaces = false;
    for (size_t i = 0; i < len; i++) {
        if (oem[i] == ' ') {
            /* Not first, not last, not before the dot. */
            if (i == 0 || i == len - 1 || oem[i + 1] == '.')
                return FALSE;
            spaces = true;
        } else if (oem[i] == '.') {
            if (dot != len)
                return FALSE; /* a second dot */
            dot = i;
        } else if (fat_illegal(oem[i])) {
            return FALSE;
        }
    }
    /* Eight characters, then at most a dot and three. */
    if (dot == len ? len > 8 : (dot > 8 || len - dot > 4 || dot == len - 1))
        return FALSE;
    if (NameContainsSpaces != NULL)
        *NameContainsSpaces = spaces;
    return TRUE;
}
