/*
 * NT base types for code compiled against fltsim's fltKernel.h: LLP64 integer
 * widths, 16-bit WCHAR, counted strings, list entries and the small macros every
 * driver uses (DESIGN decisions 2 and 3). WDK names and values; no Microsoft
 * header text. Everything that includes this must be compiled with
 * -fshort-wchar, and the header refuses to compile otherwise.
 */
#ifndef FLTSIM_NTDEF_H
#define FLTSIM_NTDEF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if !defined(__SIZEOF_WCHAR_T__) || __SIZEOF_WCHAR_T__ != 2
#error "fltsim: code that includes fltKernel.h must be compiled with -fshort-wchar (16-bit WCHAR)"
#endif

#include "fltsim/sal.h"
#include "fltsim/decl/crt.h"
#include "sdkddkver.h"

/* DBG is 1 in a checked (debug) build, which defines it; the WDK's headers
 * treat an undefined DBG as 0. */
#ifndef DBG
#define DBG 0
#endif

/* ---- declaration helpers ---- */

#define IN
#define OUT
#define OPTIONAL
#define NOTHING

#ifdef __cplusplus
#define EXTERN_C extern "C"
#define EXTERN_C_START extern "C" {
#define EXTERN_C_END }
#else
#define EXTERN_C extern
#define EXTERN_C_START
#define EXTERN_C_END
#endif

#include "guiddef.h"

/* DEFINE_ENUM_FLAG_OPERATORS(T): in C++ the bitwise operators |, &, ^, ~ and
 * their assignments on a flags enumeration, computed on the integer of the
 * enumeration's size; C needs nothing. */
#ifdef __cplusplus
extern "C++" {
template <size_t S> struct _ENUM_FLAG_INTEGER_FOR_SIZE;
template <> struct _ENUM_FLAG_INTEGER_FOR_SIZE<1> {
    typedef signed char type;
};
template <> struct _ENUM_FLAG_INTEGER_FOR_SIZE<2> {
    typedef short type;
};
template <> struct _ENUM_FLAG_INTEGER_FOR_SIZE<4> {
    typedef int type;
};
template <> struct _ENUM_FLAG_INTEGER_FOR_SIZE<8> {
    typedef long long type;
};
template <class T> struct _ENUM_FLAG_SIZED_INTEGER {
    typedef typename _ENUM_FLAG_INTEGER_FOR_SIZE<sizeof(T)>::type type;
};
}
#define FLTSIM_ENUM_FLAG_INT(E) _ENUM_FLAG_SIZED_INTEGER<E>::type
#define DEFINE_ENUM_FLAG_OPERATORS(E)                                                              \
    extern "C++" {                                                                                 \
    inline constexpr E operator|(E a, E b) noexcept                                                \
    {                                                                                              \
        return E(((FLTSIM_ENUM_FLAG_INT(E))a) | ((FLTSIM_ENUM_FLAG_INT(E))b));                     \
    }                                                                                              \
    inline E &operator|=(E &a, E b) noexcept                                                       \
    {                                                                                              \
        return (E &)(((FLTSIM_ENUM_FLAG_INT(E) &)a) |= ((FLTSIM_ENUM_FLAG_INT(E))b));              \
    }                                                                                              \
    inline constexpr E operator&(E a, E b) noexcept                                                \
    {                                                                                              \
        return E(((FLTSIM_ENUM_FLAG_INT(E))a) & ((FLTSIM_ENUM_FLAG_INT(E))b));                     \
    }                                                                                              \
    inline E &operator&=(E &a, E b) noexcept                                                       \
    {                                                                                              \
        return (E &)(((FLTSIM_ENUM_FLAG_INT(E) &)a) &= ((FLTSIM_ENUM_FLAG_INT(E))b));              \
    }                                                                                              \
    inline constexpr E operator~(E a) noexcept                                                     \
    {                                                                                              \
        return E(~((FLTSIM_ENUM_FLAG_INT(E))a));                                                   \
    }                                                                                              \
    inline constexpr E operator^(E a, E b) noexcept                                                \
    {                                                                                              \
        return E(((FLTSIM_ENUM_FLAG_INT(E))a) ^ ((FLTSIM_ENUM_FLAG_INT(E))b));                     \
    }                                                                                              \
    inline E &operator^=(E &a, E b) noexcept                                                       \
    {                                                                                              \
        return (E &)(((FLTSIM_ENUM_FLAG_INT(E) &)a) ^= ((FLTSIM_ENUM_FLAG_INT(E))b));              \
    }                                                                                              \
    }
#else
#define DEFINE_ENUM_FLAG_OPERATORS(E)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- integer types (LLP64: LONG and ULONG stay 32-bit on every host) ---- */

#define VOID void
#define CONST const
typedef void *PVOID, **PPVOID;
typedef const void *PCVOID;
typedef char CHAR, CCHAR, *PCHAR, *PSTR, *PCH, *LPSTR, *PSZ;
typedef const char *PCSZ;
typedef CCHAR *PCCHAR;
typedef const char *PCSTR, *PCCH, *LPCSTR;
typedef signed char SCHAR, INT8, *PINT8;
typedef unsigned char UINT8, *PUINT8;
typedef short INT16, *PINT16;
typedef unsigned short UINT16, *PUINT16;
typedef unsigned char UCHAR, *PUCHAR, BYTE, *PBYTE;
typedef short SHORT, CSHORT, *PSHORT;
typedef unsigned short USHORT, *PUSHORT, WORD;
typedef int LONG, *PLONG, INT, INT32, LONG32;
typedef unsigned int ULONG, *PULONG, UINT, UINT32, ULONG32, DWORD, *PDWORD;
typedef ULONG CLONG;
typedef long long LONGLONG, *PLONGLONG, LONG64, INT64, *PLONG64;
typedef unsigned long long ULONGLONG, *PULONGLONG, ULONG64, UINT64, DWORD64, *PULONG64;
typedef intptr_t LONG_PTR, INT_PTR, *PLONG_PTR;
typedef uintptr_t ULONG_PTR, UINT_PTR, *PULONG_PTR, DWORD_PTR;
typedef size_t SIZE_T, *PSIZE_T;
typedef intptr_t SSIZE_T;
typedef unsigned char BOOLEAN, *PBOOLEAN;
typedef int BOOL;
typedef wchar_t WCHAR, *PWCHAR, *PWCH, *PWSTR, *LPWSTR;
typedef const wchar_t *PCWCH, *PCWSTR, *LPCWSTR;
/* Text characters: narrow unless the build defines UNICODE, as in the WDK. */
#ifndef _TCHAR_DEFINED
#define _TCHAR_DEFINED
#ifdef UNICODE
typedef WCHAR TCHAR, *PTCHAR, TUCHAR, *PTUCHAR;
typedef PWSTR LPTCH, PTCH, PTSTR, LPTSTR, PUTSTR, LPUTSTR;
typedef PCWSTR PCTSTR, LPCTSTR, PCUTSTR, LPCUTSTR;
#define __TEXT(quote) L##quote
#else
typedef char TCHAR, *PTCHAR;
typedef unsigned char TUCHAR, *PTUCHAR;
typedef PSTR LPTCH, PTCH, PTSTR, LPTSTR, PUTSTR, LPUTSTR;
typedef PCSTR PCTSTR, LPCTSTR, PCUTSTR, LPCUTSTR;
#define __TEXT(quote) quote
#endif
#define TEXT(quote) __TEXT(quote)
#endif
typedef LONG NTSTATUS, *PNTSTATUS;
typedef void *HANDLE, **PHANDLE;
typedef ULONG ACCESS_MASK, *PACCESS_MASK;
typedef UCHAR KIRQL, *PKIRQL;
typedef CCHAR KPROCESSOR_MODE;
typedef LONG KPRIORITY;
typedef ULONG LCID;
typedef ULONG SECURITY_INFORMATION, *PSECURITY_INFORMATION;
typedef PVOID PSECURITY_DESCRIPTOR;
typedef PVOID PSID;
typedef ULONG LOGICAL;

#define TRUE 1
#define FALSE 0
#ifndef NULL
#define NULL ((void *)0)
#endif

#define MAXUCHAR 0xff
#define MAXUSHORT 0xffff
#define MAXULONG 0xffffffffU
#define MAXLONG 0x7fffffff
#define MINLONG (-MAXLONG - 1)
#define MAXLONGLONG 0x7fffffffffffffffLL
#define ANYSIZE_ARRAY 1

typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    };
    struct {
        ULONG LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    struct {
        ULONG LowPart;
        ULONG HighPart;
    };
    struct {
        ULONG LowPart;
        ULONG HighPart;
    } u;
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

typedef struct _LUID {
    ULONG LowPart;
    LONG HighPart;
} LUID, *PLUID;

/* ---- status helpers (SPEC 11: severity in the top two bits) ---- */

#include "ntstatus.h"

#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)
#define NT_INFORMATION(Status) ((((ULONG)(Status)) >> 30) == 1)
#define NT_WARNING(Status) ((((ULONG)(Status)) >> 30) == 2)
#define NT_ERROR(Status) ((((ULONG)(Status)) >> 30) == 3)

/* ---- the small macros ---- */

#define UNREFERENCED_PARAMETER(P) ((void)(P))
#define DBG_UNREFERENCED_PARAMETER(P) ((void)(P))
#define DBG_UNREFERENCED_LOCAL_VARIABLE(V) ((void)(V))
#define ARGUMENT_PRESENT(ArgumentPointer) ((CHAR *)((ULONG_PTR)(ArgumentPointer)) != (CHAR *)NULL)
#define FIELD_OFFSET(type, field) ((LONG)offsetof(type, field))
#define RTL_FIELD_SIZE(type, field) (sizeof(((type *)0)->field))
#define RTL_SIZEOF_THROUGH_FIELD(type, field)                                                      \
    (FIELD_OFFSET(type, field) + RTL_FIELD_SIZE(type, field))
#define RTL_NUMBER_OF(A) (sizeof(A) / sizeof((A)[0]))
#define ARRAYSIZE(A) RTL_NUMBER_OF(A)
#define CONTAINING_RECORD(address, type, field)                                                    \
    ((type *)((PCHAR)(address) - (ULONG_PTR)offsetof(type, field)))
#ifdef __cplusplus
#define C_ASSERT(e) static_assert(e, #e)
#else
#define C_ASSERT(e) _Static_assert(e, #e)
#endif
#define ALIGN_DOWN_BY(length, alignment) ((ULONG_PTR)(length) & ~((ULONG_PTR)(alignment)-1))
#define ALIGN_UP_BY(length, alignment)                                                             \
    (ALIGN_DOWN_BY(((ULONG_PTR)(length) + (alignment)-1), alignment))
#define ALIGN_DOWN_POINTER_BY(address, alignment) ((PVOID)ALIGN_DOWN_BY(address, alignment))
#define ALIGN_UP_POINTER_BY(address, alignment) ((PVOID)ALIGN_UP_BY(address, alignment))
#define POINTER_ALIGNMENT __attribute__((aligned(sizeof(void *))))
#ifndef NOMINMAX
#ifndef max
#define max(a, b) (((a) > (b)) ? (a) : (b))
#endif
#ifndef min
#define min(a, b) (((a) < (b)) ? (a) : (b))
#endif
#endif

/* ---- counted strings ---- */

typedef struct _UNICODE_STRING {
    USHORT Length;        /* bytes, without any terminator */
    USHORT MaximumLength; /* bytes */
    PWCH Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;

typedef struct _STRING {
    USHORT Length;
    USHORT MaximumLength;
    PCHAR Buffer;
} STRING, ANSI_STRING, OEM_STRING, *PSTRING, *PANSI_STRING, *POEM_STRING;
typedef const STRING *PCANSI_STRING;

#define UNICODE_NULL ((WCHAR)0)
#define ANSI_NULL ((CHAR)0)
#define UNICODE_STRING_MAX_BYTES ((USHORT)65534)
#define UNICODE_STRING_MAX_CHARS (32767)

/* A counted string over a literal; the literal's terminator is not counted.
 * C converts the buffer through void *; C++ casts the const away to the
 * literal's own character type (CHAR or WCHAR, told apart by size), so one
 * macro serves UNICODE_STRING and STRING in both. */
#ifdef __cplusplus
extern "C++" {
template <size_t S> struct _FLTSIM_CONSTANT_STRING_CHAR;
template <> struct _FLTSIM_CONSTANT_STRING_CHAR<sizeof(CHAR)> {
    typedef CHAR type;
};
template <> struct _FLTSIM_CONSTANT_STRING_CHAR<sizeof(WCHAR)> {
    typedef WCHAR type;
};
}
#define FLTSIM_CONSTANT_STRING_BUFFER(s)                                                           \
    (const_cast<_FLTSIM_CONSTANT_STRING_CHAR<sizeof((s)[0])>::type *>(s))
#else
#define FLTSIM_CONSTANT_STRING_BUFFER(s) ((void *)(s))
#endif
#define RTL_CONSTANT_STRING(s)                                                                     \
    {                                                                                              \
        (USHORT)(sizeof(s) - sizeof((s)[0])), (USHORT)sizeof(s), FLTSIM_CONSTANT_STRING_BUFFER(s)  \
    }

/* Declares a const UNICODE_STRING named var over a private copy of the literal. */
#define DECLARE_CONST_UNICODE_STRING(var, str)                                                     \
    static const WCHAR var##_buffer[] = str;                                                       \
    const UNICODE_STRING var = {(USHORT)(sizeof(str) - sizeof(WCHAR)), (USHORT)sizeof(str),        \
                                (PWCH)var##_buffer}

#define DECLARE_GLOBAL_CONST_UNICODE_STRING(var, str) DECLARE_CONST_UNICODE_STRING(var, str)

/* Declares an empty UNICODE_STRING named var with room for size characters. */
#define DECLARE_UNICODE_STRING_SIZE(var, size)                                                     \
    WCHAR var##_buffer[size];                                                                      \
    UNICODE_STRING var = {0, (USHORT)((size) * sizeof(WCHAR)), var##_buffer}

/* ---- doubly linked lists (the WDK's inline helpers, same semantics) ---- */

typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY;

typedef struct _SINGLE_LIST_ENTRY {
    struct _SINGLE_LIST_ENTRY *Next;
} SINGLE_LIST_ENTRY, *PSINGLE_LIST_ENTRY;

static inline void InitializeListHead(PLIST_ENTRY ListHead)
{
    ListHead->Flink = ListHead->Blink = ListHead;
}

static inline BOOLEAN IsListEmpty(const LIST_ENTRY *ListHead)
{
    return (BOOLEAN)(ListHead->Flink == ListHead);
}

static inline BOOLEAN RemoveEntryList(PLIST_ENTRY Entry)
{
    PLIST_ENTRY prev = Entry->Blink;
    PLIST_ENTRY next = Entry->Flink;
    prev->Flink = next;
    next->Blink = prev;
    return (BOOLEAN)(prev == next);
}

static inline PLIST_ENTRY RemoveHeadList(PLIST_ENTRY ListHead)
{
    PLIST_ENTRY entry = ListHead->Flink;
    RemoveEntryList(entry);
    return entry;
}

static inline PLIST_ENTRY RemoveTailList(PLIST_ENTRY ListHead)
{
    PLIST_ENTRY entry = ListHead->Blink;
    RemoveEntryList(entry);
    return entry;
}

static inline void InsertTailList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry)
{
    PLIST_ENTRY last = ListHead->Blink;
    Entry->Flink = ListHead;
    Entry->Blink = last;
    last->Flink = Entry;
    ListHead->Blink = Entry;
}

static inline void InsertHeadList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry)
{
    PLIST_ENTRY first = ListHead->Flink;
    Entry->Flink = first;
    Entry->Blink = ListHead;
    first->Blink = Entry;
    ListHead->Flink = Entry;
}

static inline void PushEntryList(PSINGLE_LIST_ENTRY ListHead, PSINGLE_LIST_ENTRY Entry)
{
    Entry->Next = ListHead->Next;
    ListHead->Next = Entry;
}

static inline PSINGLE_LIST_ENTRY PopEntryList(PSINGLE_LIST_ENTRY ListHead)
{
    PSINGLE_LIST_ENTRY first = ListHead->Next;
    if (first != NULL)
        ListHead->Next = first->Next;
    return first;
}

/* ---- object attributes (for the routines that take them) ---- */

#define OBJ_INHERIT 0x00000002L
#define OBJ_PERMANENT 0x00000010L
#define OBJ_EXCLUSIVE 0x00000020L
#define OBJ_CASE_INSENSITIVE 0x00000040L
#define OBJ_OPENIF 0x00000080L
#define OBJ_OPENLINK 0x00000100L
#define OBJ_KERNEL_HANDLE 0x00000200L
#define OBJ_FORCE_ACCESS_CHECK 0x00000400L

typedef struct _OBJECT_ATTRIBUTES {
    ULONG Length;
    HANDLE RootDirectory;
    PUNICODE_STRING ObjectName;
    ULONG Attributes;
    PVOID SecurityDescriptor;
    PVOID SecurityQualityOfService;
} OBJECT_ATTRIBUTES, *POBJECT_ATTRIBUTES;

#define InitializeObjectAttributes(p, n, a, r, s)                                                  \
    do {                                                                                           \
        (p)->Length = sizeof(OBJECT_ATTRIBUTES);                                                   \
        (p)->RootDirectory = (r);                                                                  \
        (p)->Attributes = (a);                                                                     \
        (p)->ObjectName = (n);                                                                     \
        (p)->SecurityDescriptor = (s);                                                             \
        (p)->SecurityQualityOfService = NULL;                                                      \
    } while (0)

#ifdef __cplusplus
}
#endif

/* Structured exception handling: __try and friends (nt/seh.c). */
#include "excpt.h"

#endif /* FLTSIM_NTDEF_H */
