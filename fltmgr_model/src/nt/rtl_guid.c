/*
 * RtlStringFromGUID and RtlGUIDFromString: a GUID as the registry and the
 * object manager write it, "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" with
 * upper-case digits, in a paged-pool buffer the caller frees with
 * RtlFreeUnicodeString, and that form (digits of either case) back into a
 * GUID. Nothing else is accepted: no missing braces, no spaces.
 */
#include "nt_internal.h"
#include "strings_internal.h"

/* Characters of the braced form, without a terminator. */
#define GUID_STRING_CHARS 38

NTSTATUS RtlStringFromGUID(REFGUID Guid, PUNICODE_STRING GuidString)
{
    static const char api[] = "RtlStringFromGUID";
    fltsim__check_irql(fltsim__tls()->sys, PASSIVE_LEVEL, api);
    if (Guid == NULL || GuidString == NULL) {
        fltsim__string_misuse(api, "a NULL argument (Windows faults on it)");
        return STATUS_INVALID_PARAMETER;
    }
    char text[GUID_STRING_CHARS + 1];
    snprintf(text, sizeof(text), "{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}",
             (unsigned)Guid->Data1, (unsigned)Guid->Data2, (unsigned)Guid->Data3, Guid->Data4[0],
             Guid->Data4[1], Guid->Data4[2], Guid->Data4[3], Guid->Data4[4], Guid->Data4[5],
             Guid->Data4[6], Guid->Data4[7]);
    size_t size = (GUID_STRING_CHARS + 1) * sizeof(WCHAR);
    PWCH buffer = fltsim_ExAllocatePoolWithTag_at(PagedPool, size, FLTSIM_RTL_STRING_TAG, api, 0);
    if (buffer == NULL)
        return STATUS_NO_MEMORY;
    for (size_t i = 0; i <= GUID_STRING_CHARS; i++)
        buffer[i] = (WCHAR)(unsigned char)text[i];
    GuidString->Buffer = buffer;
    GuidString->Length = GUID_STRING_CHARS * sizeof(WCHAR);
    GuidString->MaximumLength = (USHORT)size;
    return STATUS_SUCCESS;
}

/* Reads count hex digits at s[*at], advancing; false on anything else. */
static bool hex_field(const WCHAR *s, size_t *at, unsigned count, ULONG *value)
{
    ULONG v = 0;
    for (unsigned k = 0; k < count; k++) {
        WCHAR c = s[(*at)++];
        unsigned d;
        if (c >= L'0' && c <= L'9')
            d = c - L'0';
        else if (c >= L'a' && c <= L'f')
            d = c - L'a' + 10;
        else if (c >= L'A' && c <= L'F')
            d = c - L'A' + 10;
        else
            return false;
        v = (v << 4) | d;
    }
    *value = v;
    return true;
}

static bool expect(const WCHAR *s, size_t *at, WCHAR c)
{
    return s[(*at)++] == c;
}

NTSTATUS RtlGUIDFromString(PCUNICODE_STRING GuidString, GUID *Guid)
{
    static const char api[] = "RtlGUIDFromString";
    fltsim__check_irql(fltsim__tls()->sys, PASSIVE_LEVEL, api);
    if (GuidString == NULL || Guid == NULL) {
        fltsim__string_misuse(api, "a NULL argument (Windows faults on it)");
        return STATUS_INVALID_PARAMETER;
    }
    if (GuidString->Length != GUID_STRING_CHARS * sizeof(WCHAR) || GuidString->Buffer == NULL)
        return STATUS_INVALID_PARAMETER;
    const WCHAR *s = GuidString->Buffer;
    size_t at = 0;
    ULONG d1, d2, d3, b[8];
    bool ok = expect(s, &at, L'{') && hex_field(s, &at, 8, &d1) && expect(s, &at, L'-') &&
              hex_field(s, &at, 4, &d2) && expect(s, &at, L'-') && hex_field(s, &at, 4, &d3) &&
              expect(s, &at, L'-') && hex_field(s, &at, 2, &b[0]) && hex_field(s, &at, 2, &b[1]) &&
              expect(s, &at, L'-');
    for (int i = 2; ok && i < 8; i++)
        ok = hex_field(s, &at, 2, &b[i]);
    ok = ok && expect(s, &at, L'}');
    if (!ok)
        return STATUS_INVALID_PARAMETER; /* *Guid is left as it was */
    Guid->Data1 = d1;
    Guid->Data2 = (USHORT)d2;
    Guid->Data3 = (USHORT)d3;
    for (int i = 0; i < 8; i++)
        Guid->Data4[i] = (UCHAR)b[i];
    return STATUS_SUCCESS;
}
