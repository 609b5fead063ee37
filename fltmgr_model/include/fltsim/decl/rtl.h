/*
 * Rtl: memory and counted-string routines.
 * Part of the WDK surface: include <wdm.h>, not this file.
 */
#ifndef FLTSIM_WDK_RTL_H
#define FLTSIM_WDK_RTL_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- memory ---- */

#define RtlCopyMemory(d, s, n) memcpy((d), (s), (n))
#define RtlMoveMemory(d, s, n) memmove((d), (s), (n))
#define RtlFillMemory(d, n, f) memset((d), (f), (n))
#define RtlZeroMemory(d, n) memset((d), 0, (n))
#define RtlEqualMemory(a, b, n) (memcmp((a), (b), (n)) == 0)
#define RtlSecureZeroMemory(d, n) memset((d), 0, (n))
/* Number of leading bytes that are equal. */
SIZE_T RtlCompareMemory(const void *Source1, const void *Source2, SIZE_T Length);

/* ---- counted strings (Rtl; case-insensitive means NTFS upcase rules) ---- */

void RtlInitUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString);
NTSTATUS RtlInitUnicodeStringEx(PUNICODE_STRING DestinationString, PCWSTR SourceString);
void RtlInitString(PSTRING DestinationString, PCSTR SourceString);
void RtlInitAnsiString(PANSI_STRING DestinationString, PCSTR SourceString);
void RtlCopyUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString);
LONG RtlCompareUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2,
                             BOOLEAN CaseInSensitive);
BOOLEAN RtlEqualUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2,
                              BOOLEAN CaseInSensitive);
BOOLEAN RtlPrefixUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2,
                               BOOLEAN CaseInSensitive);
BOOLEAN RtlSuffixUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2,
                               BOOLEAN CaseInSensitive);
NTSTATUS RtlAppendUnicodeToString(PUNICODE_STRING Destination, PCWSTR Source);
NTSTATUS RtlAppendUnicodeStringToString(PUNICODE_STRING Destination, PCUNICODE_STRING Source);
WCHAR RtlUpcaseUnicodeChar(WCHAR SourceCharacter);
WCHAR RtlDowncaseUnicodeChar(WCHAR SourceCharacter);
/* RtlUpcaseUnicodeString: with AllocateDestinationString the buffer comes from
 * pool (tag 'SltR') and is freed with RtlFreeUnicodeString. */
NTSTATUS RtlUpcaseUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                                BOOLEAN AllocateDestinationString);
void RtlFreeUnicodeString(PUNICODE_STRING UnicodeString);

/* ---- conversions, hashing and the other counted-string routines ---- */

/* fltsim's ANSI code page is Windows-1252: one byte per character. */
NTSTATUS RtlInitAnsiStringEx(PANSI_STRING DestinationString, PCSZ SourceString);
NTSTATUS RtlInitStringEx(PSTRING DestinationString, PCSZ SourceString);
ULONG RtlxUnicodeStringToAnsiSize(PCUNICODE_STRING UnicodeString);
ULONG RtlxAnsiStringToUnicodeSize(PCANSI_STRING AnsiString);
#define RtlUnicodeStringToAnsiSize(STRING) RtlxUnicodeStringToAnsiSize(STRING)
#define RtlAnsiStringToUnicodeSize(STRING) RtlxAnsiStringToUnicodeSize(STRING)
NTSTATUS RtlUnicodeStringToAnsiString(PANSI_STRING DestinationString, PCUNICODE_STRING SourceString,
                                      BOOLEAN AllocateDestinationString);
NTSTATUS RtlAnsiStringToUnicodeString(PUNICODE_STRING DestinationString, PCANSI_STRING SourceString,
                                      BOOLEAN AllocateDestinationString);
VOID RtlFreeAnsiString(PANSI_STRING AnsiString);
NTSTATUS RtlIntegerToUnicodeString(ULONG Value, ULONG Base, PUNICODE_STRING String);
NTSTATUS RtlInt64ToUnicodeString(ULONGLONG Value, ULONG Base, PUNICODE_STRING String);
NTSTATUS RtlUnicodeStringToInteger(PCUNICODE_STRING String, ULONG Base, PULONG Value);
NTSTATUS RtlCharToInteger(PCSZ String, ULONG Base, PULONG Value);
#define HASH_STRING_ALGORITHM_DEFAULT 0
#define HASH_STRING_ALGORITHM_X65599 1
#define HASH_STRING_ALGORITHM_INVALID 0xffffffff
NTSTATUS RtlHashUnicodeString(PCUNICODE_STRING String, BOOLEAN CaseInSensitive, ULONG HashAlgorithm,
                              PULONG HashValue);
LONG RtlCompareString(const STRING *String1, const STRING *String2, BOOLEAN CaseInSensitive);
BOOLEAN RtlEqualString(const STRING *String1, const STRING *String2, BOOLEAN CaseInSensitive);
VOID RtlCopyString(PSTRING DestinationString, const STRING *SourceString);
NTSTATUS RtlAppendStringToString(PSTRING Destination, const STRING *Source);
NTSTATUS RtlDowncaseUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                                  BOOLEAN AllocateDestinationString);
BOOLEAN RtlCreateUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString);
NTSTATUS RtlUTF8ToUnicodeN(PWSTR UnicodeStringDestination, ULONG UnicodeStringMaxByteCount,
                           PULONG UnicodeStringActualByteCount, PCCH UTF8StringSource,
                           ULONG UTF8StringByteCount);
NTSTATUS RtlUnicodeToUTF8N(PCHAR UTF8StringDestination, ULONG UTF8StringMaxByteCount,
                           PULONG UTF8StringActualByteCount, PCWCH UnicodeStringSource,
                           ULONG UnicodeStringByteCount);
/* The GUID as "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" in a pool buffer that
 * RtlFreeUnicodeString frees, and back. */
NTSTATUS RtlStringFromGUID(REFGUID Guid, PUNICODE_STRING GuidString);
NTSTATUS RtlGUIDFromString(PCUNICODE_STRING GuidString, GUID *Guid);
ULONG RtlRandomEx(PULONG Seed);

/* ---- interlocked bit operations on a ULONG of flags ---- */

#define RtlInterlockedSetBits(Flags, Flag) InterlockedOr((PLONG)(Flags), (LONG)(Flag))
#define RtlInterlockedAndBits(Flags, Flag) InterlockedAnd((PLONG)(Flags), (LONG)(Flag))
#define RtlInterlockedClearBits(Flags, Flag) RtlInterlockedAndBits((Flags), ~(Flag))
#define RtlInterlockedXorBits(Flags, Flag) InterlockedXor((PLONG)(Flags), (LONG)(Flag))
#define RtlInterlockedSetBitsDiscardReturn(Flags, Flag) (void)RtlInterlockedSetBits(Flags, Flag)
#define RtlInterlockedAndBitsDiscardReturn(Flags, Flag) (void)RtlInterlockedAndBits(Flags, Flag)
#define RtlInterlockedClearBitsDiscardReturn(Flags, Flag)                                          \
    RtlInterlockedAndBitsDiscardReturn((Flags), ~(Flag))

/* ---- bitmaps ---- */

typedef struct _RTL_BITMAP {
    ULONG SizeOfBitMap;
    PULONG Buffer;
} RTL_BITMAP, *PRTL_BITMAP;

VOID RtlInitializeBitMap(PRTL_BITMAP BitMapHeader, PULONG BitMapBuffer, ULONG SizeOfBitMap);
VOID RtlClearAllBits(PRTL_BITMAP BitMapHeader);
VOID RtlSetAllBits(PRTL_BITMAP BitMapHeader);
VOID RtlClearBit(PRTL_BITMAP BitMapHeader, ULONG BitNumber);
VOID RtlSetBit(PRTL_BITMAP BitMapHeader, ULONG BitNumber);
BOOLEAN RtlTestBit(PRTL_BITMAP BitMapHeader, ULONG BitNumber);
VOID RtlClearBits(PRTL_BITMAP BitMapHeader, ULONG StartingIndex, ULONG NumberToClear);
VOID RtlSetBits(PRTL_BITMAP BitMapHeader, ULONG StartingIndex, ULONG NumberToSet);
ULONG RtlFindClearBits(PRTL_BITMAP BitMapHeader, ULONG NumberToFind, ULONG HintIndex);
ULONG RtlFindSetBits(PRTL_BITMAP BitMapHeader, ULONG NumberToFind, ULONG HintIndex);
ULONG RtlFindClearBitsAndSet(PRTL_BITMAP BitMapHeader, ULONG NumberToFind, ULONG HintIndex);
ULONG RtlFindSetBitsAndClear(PRTL_BITMAP BitMapHeader, ULONG NumberToFind, ULONG HintIndex);
BOOLEAN RtlAreBitsClear(PRTL_BITMAP BitMapHeader, ULONG StartingIndex, ULONG Length);
BOOLEAN RtlAreBitsSet(PRTL_BITMAP BitMapHeader, ULONG StartingIndex, ULONG Length);
ULONG RtlNumberOfClearBits(PRTL_BITMAP BitMapHeader);
ULONG RtlNumberOfSetBits(PRTL_BITMAP BitMapHeader);

/* ---- time ---- */

typedef struct _TIME_FIELDS {
    CSHORT Year;   /* 1601... */
    CSHORT Month;  /* 1..12 */
    CSHORT Day;    /* 1..31 */
    CSHORT Hour;   /* 0..23 */
    CSHORT Minute; /* 0..59 */
    CSHORT Second; /* 0..59 */
    CSHORT Milliseconds;
    CSHORT Weekday; /* 0..6 = Sunday..Saturday */
} TIME_FIELDS, *PTIME_FIELDS;

VOID RtlTimeToTimeFields(PLARGE_INTEGER Time, PTIME_FIELDS TimeFields);
/* FALSE when a field is out of its range, the day is not in the month, or
 * the year is past 30827; Weekday is ignored. */
BOOLEAN RtlTimeFieldsToTime(PTIME_FIELDS TimeFields, PLARGE_INTEGER Time);

/* ---- the running Windows version ---- */

typedef struct _OSVERSIONINFOW {
    ULONG dwOSVersionInfoSize;
    ULONG dwMajorVersion;
    ULONG dwMinorVersion;
    ULONG dwBuildNumber;
    ULONG dwPlatformId;
    WCHAR szCSDVersion[128];
} OSVERSIONINFOW, *POSVERSIONINFOW, *LPOSVERSIONINFOW, RTL_OSVERSIONINFOW, *PRTL_OSVERSIONINFOW;

typedef struct _OSVERSIONINFOEXW {
    ULONG dwOSVersionInfoSize;
    ULONG dwMajorVersion;
    ULONG dwMinorVersion;
    ULONG dwBuildNumber;
    ULONG dwPlatformId;
    WCHAR szCSDVersion[128];
    USHORT wServicePackMajor;
    USHORT wServicePackMinor;
    USHORT wSuiteMask;
    UCHAR wProductType;
    UCHAR wReserved;
} OSVERSIONINFOEXW, *POSVERSIONINFOEXW, *LPOSVERSIONINFOEXW, RTL_OSVERSIONINFOEXW,
    *PRTL_OSVERSIONINFOEXW;

#define VER_PLATFORM_WIN32_NT 2
#define VER_NT_WORKSTATION 0x0000001
#define VER_NT_DOMAIN_CONTROLLER 0x0000002
#define VER_NT_SERVER 0x0000003

/* RtlGetVersion: fills an RTL_OSVERSIONINFOW or, by its size, an
 * RTL_OSVERSIONINFOEXW with the simulated Windows version. */
NTSTATUS RtlGetVersion(PRTL_OSVERSIONINFOW lpVersionInformation);
/* TRUE when the simulated Windows is at least the NTDDI version given. */
BOOLEAN RtlIsNtDdiVersionAvailable(ULONG Version);
BOOLEAN RtlIsServicePackVersionInstalled(ULONG Version);

static inline void RtlInitEmptyAnsiString(PANSI_STRING AnsiString, PCHAR Buffer, USHORT BufferSize)
{
    AnsiString->Length = 0;
    AnsiString->MaximumLength = BufferSize;
    AnsiString->Buffer = Buffer;
}

static inline void RtlInitEmptyUnicodeString(PUNICODE_STRING UnicodeString, PWCHAR Buffer,
                                             USHORT BufferSize)
{
    UnicodeString->Length = 0;
    UnicodeString->MaximumLength = BufferSize;
    UnicodeString->Buffer = Buffer;
}

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_RTL_H */
