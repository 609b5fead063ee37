/*
 * ntintsafe's overflow-checked arithmetic and conversions (RtlULongAdd,
 * RtlSizeTMult, RtlLongLongToULong ...), expanded from the lists that
 * ntintsafe.h declares them from, so every routine it declares is defined
 * and no other. Each returns STATUS_SUCCESS with the exact result, or
 * STATUS_INTEGER_OVERFLOW with the WDK's error value in *Result: all bits set
 * (ULONG_ERROR, LONG_ERROR = -1 ...), except '\0' for UCHAR and, for CHAR,
 * what its signedness gives (INT8_ERROR, -1, where char is signed).
 */
#include <limits.h>
#include <ntintsafe.h>

#include "nt_internal.h"
#include "strings_internal.h"

/* The error value of each result type, by its name in the lists. */
#define INTSAFE_ERROR_UCHAR ((UCHAR)0)
#define INTSAFE_ERROR_CHAR ((CHAR)(CHAR_MIN < 0 ? -1 : 0))
#define INTSAFE_ERROR_INT8 ((INT8)-1)
#define INTSAFE_ERROR_UINT8 ((UINT8)-1)
#define INTSAFE_ERROR_BYTE ((BYTE)-1)
#define INTSAFE_ERROR_SHORT ((SHORT)-1)
#define INTSAFE_ERROR_INT16 ((INT16)-1)
#define INTSAFE_ERROR_USHORT ((USHORT)-1)
#define INTSAFE_ERROR_UINT16 ((UINT16)-1)
#define INTSAFE_ERROR_WORD ((WORD)-1)
#define INTSAFE_ERROR_INT ((INT)-1)
#define INTSAFE_ERROR_UINT ((UINT)-1)
#define INTSAFE_ERROR_LONG ((LONG)-1)
#define INTSAFE_ERROR_ULONG ((ULONG)-1)
#define INTSAFE_ERROR_DWORD ((DWORD)-1)
#define INTSAFE_ERROR_INT64 ((INT64)-1)
#define INTSAFE_ERROR_LONGLONG ((LONGLONG)-1)
#define INTSAFE_ERROR_ULONGLONG ((ULONGLONG)-1)
#define INTSAFE_ERROR_INT_PTR ((INT_PTR)-1)
#define INTSAFE_ERROR_UINT_PTR ((UINT_PTR)-1)
#define INTSAFE_ERROR_LONG_PTR ((LONG_PTR)-1)
#define INTSAFE_ERROR_ULONG_PTR ((ULONG_PTR)-1)
#define INTSAFE_ERROR_DWORD_PTR ((DWORD_PTR)-1)
#define INTSAFE_ERROR_size_t ((size_t)-1)
#define INTSAFE_ERROR_ptrdiff_t ((ptrdiff_t)-1)
#define INTSAFE_ERROR_SSIZE_T ((SSIZE_T)-1)

/* A NULL result pointer: Windows faults storing through it. */
static NTSTATUS null_result(const char *api)
{
    fltsim__string_misuse(api, "the result pointer is NULL (Windows faults storing through it)");
    return STATUS_INVALID_PARAMETER;
}

/* The compiler's checked arithmetic computes in infinite precision and says
 * whether the result fits the result's type: exactly the WDK's rule, for
 * signed and unsigned types alike. */
#define INTSAFE_MATH(Name, Type, Op, What, A, B)                                                   \
    NTSTATUS Rtl##Name##What(Type A, Type B, Type *Result)                                         \
    {                                                                                              \
        if (Result == NULL)                                                                        \
            return null_result("Rtl" #Name #What);                                                 \
        if (__builtin_##Op##_overflow(A, B, Result)) {                                             \
            *Result = (Type)-1;                                                                    \
            return STATUS_INTEGER_OVERFLOW;                                                        \
        }                                                                                          \
        return STATUS_SUCCESS;                                                                     \
    }

#define FLTSIM_INTSAFE_DEFINE_MATH(Name, Type)                                                     \
    INTSAFE_MATH(Name, Type, add, Add, Augend, Addend)                                             \
    INTSAFE_MATH(Name, Type, sub, Sub, Minuend, Subtrahend)                                        \
    INTSAFE_MATH(Name, Type, mul, Mult, Multiplicand, Multiplier)
FLTSIM_INTSAFE_MATH_LIST(FLTSIM_INTSAFE_DEFINE_MATH)

/* A conversion is Operand + 0 computed into the target type. */
#define FLTSIM_INTSAFE_DEFINE_CONVERSION(Name, From, To)                                           \
    NTSTATUS Rtl##Name(From Operand, To *Result)                                                   \
    {                                                                                              \
        if (Result == NULL)                                                                        \
            return null_result("Rtl" #Name);                                                       \
        if (__builtin_add_overflow(Operand, 0, Result)) {                                          \
            *Result = INTSAFE_ERROR_##To;                                                          \
            return STATUS_INTEGER_OVERFLOW;                                                        \
        }                                                                                          \
        return STATUS_SUCCESS;                                                                     \
    }
FLTSIM_INTSAFE_CONVERSION_LIST(FLTSIM_INTSAFE_DEFINE_CONVERSION)
