/*
 * ntintsafe.h for fltsim: the WDK's overflow-checked integer routines
 * (RtlULongAdd, RtlSizeTMult, RtlLongToULong ...). Each returns
 * STATUS_SUCCESS with the exact result, or STATUS_INTEGER_OVERFLOW with the
 * type's error value in *Result. The routines are written once as X-macro
 * lists (name and types) so that their implementation expands the same lists.
 */
#ifndef FLTSIM_NTINTSAFE_H
#define FLTSIM_NTINTSAFE_H

#include "ntdef.h"

/* Add, Sub and Mult exist for each of these: Rtl<Name>Add(Augend, Addend,
 * Result), Rtl<Name>Sub(Minuend, Subtrahend, Result), Rtl<Name>Mult(
 * Multiplicand, Multiplier, Result). */
#define FLTSIM_INTSAFE_MATH_LIST(X)                                                                \
    X(UInt8, UINT8)                                                                                \
    X(Int8, INT8)                                                                                  \
    X(UShort, USHORT)                                                                              \
    X(Word, WORD)                                                                                  \
    X(Short, SHORT)                                                                                \
    X(UInt, UINT)                                                                                  \
    X(ULong, ULONG)                                                                                \
    X(DWord, DWORD)                                                                                \
    X(Long, LONG)                                                                                  \
    X(Int, INT)                                                                                    \
    X(UIntPtr, UINT_PTR)                                                                           \
    X(SizeT, size_t)                                                                               \
    X(ULongPtr, ULONG_PTR)                                                                         \
    X(DWordPtr, DWORD_PTR)                                                                         \
    X(IntPtr, INT_PTR)                                                                             \
    X(PtrdiffT, ptrdiff_t)                                                                         \
    X(LongPtr, LONG_PTR)                                                                           \
    X(SSIZET, SSIZE_T)                                                                             \
    X(ULongLong, ULONGLONG)                                                                        \
    X(LongLong, LONGLONG)

/* Rtl<Name>(Operand, Result): converts From to To when the value fits. */
#define FLTSIM_INTSAFE_CONVERSION_LIST(X)                                                          \
    X(UInt8ToInt8, UINT8, INT8)                                                                    \
    X(UInt8ToChar, UINT8, CHAR)                                                                    \
    X(ByteToInt8, BYTE, INT8)                                                                      \
    X(ByteToChar, BYTE, CHAR)                                                                      \
    X(Int8ToUChar, INT8, UCHAR)                                                                    \
    X(Int8ToUInt8, INT8, UINT8)                                                                    \
    X(Int8ToUShort, INT8, USHORT)                                                                  \
    X(Int8ToUInt, INT8, UINT)                                                                      \
    X(Int8ToULong, INT8, ULONG)                                                                    \
    X(Int8ToUIntPtr, INT8, UINT_PTR)                                                               \
    X(Int8ToULongPtr, INT8, ULONG_PTR)                                                             \
    X(Int8ToULongLong, INT8, ULONGLONG)                                                            \
    X(UShortToUChar, USHORT, UCHAR)                                                                \
    X(UShortToUInt8, USHORT, UINT8)                                                                \
    X(UShortToByte, USHORT, BYTE)                                                                  \
    X(UShortToInt8, USHORT, INT8)                                                                  \
    X(UShortToShort, USHORT, SHORT)                                                                \
    X(UShortToChar, USHORT, CHAR)                                                                  \
    X(WordToUChar, WORD, UCHAR)                                                                    \
    X(WordToByte, WORD, BYTE)                                                                      \
    X(WordToShort, WORD, SHORT)                                                                    \
    X(WordToChar, WORD, CHAR)                                                                      \
    X(ShortToUChar, SHORT, UCHAR)                                                                  \
    X(ShortToUInt8, SHORT, UINT8)                                                                  \
    X(ShortToByte, SHORT, BYTE)                                                                    \
    X(ShortToInt8, SHORT, INT8)                                                                    \
    X(ShortToUShort, SHORT, USHORT)                                                                \
    X(ShortToWord, SHORT, WORD)                                                                    \
    X(ShortToUInt, SHORT, UINT)                                                                    \
    X(ShortToULong, SHORT, ULONG)                                                                  \
    X(ShortToUIntPtr, SHORT, UINT_PTR)                                                             \
    X(ShortToULongPtr, SHORT, ULONG_PTR)                                                           \
    X(ShortToDWordPtr, SHORT, DWORD_PTR)                                                           \
    X(ShortToULongLong, SHORT, ULONGLONG)                                                          \
    X(ShortToChar, SHORT, CHAR)                                                                    \
    X(UIntToUChar, UINT, UCHAR)                                                                    \
    X(UIntToUInt8, UINT, UINT8)                                                                    \
    X(UIntToByte, UINT, BYTE)                                                                      \
    X(UIntToInt8, UINT, INT8)                                                                      \
    X(UIntToUShort, UINT, USHORT)                                                                  \
    X(UIntToWord, UINT, WORD)                                                                      \
    X(UIntToShort, UINT, SHORT)                                                                    \
    X(UIntToLong, UINT, LONG)                                                                      \
    X(UIntToInt, UINT, INT)                                                                        \
    X(UIntToIntPtr, UINT, INT_PTR)                                                                 \
    X(UIntToPtrdiffT, UINT, ptrdiff_t)                                                             \
    X(UIntToLongPtr, UINT, LONG_PTR)                                                               \
    X(UIntToSSIZET, UINT, SSIZE_T)                                                                 \
    X(UIntToChar, UINT, CHAR)                                                                      \
    X(ULongToUChar, ULONG, UCHAR)                                                                  \
    X(ULongToUInt8, ULONG, UINT8)                                                                  \
    X(ULongToByte, ULONG, BYTE)                                                                    \
    X(ULongToInt8, ULONG, INT8)                                                                    \
    X(ULongToUShort, ULONG, USHORT)                                                                \
    X(ULongToWord, ULONG, WORD)                                                                    \
    X(ULongToShort, ULONG, SHORT)                                                                  \
    X(ULongToUInt, ULONG, UINT)                                                                    \
    X(ULongToLong, ULONG, LONG)                                                                    \
    X(ULongToInt, ULONG, INT)                                                                      \
    X(ULongToUIntPtr, ULONG, UINT_PTR)                                                             \
    X(ULongToIntPtr, ULONG, INT_PTR)                                                               \
    X(ULongToPtrdiffT, ULONG, ptrdiff_t)                                                           \
    X(ULongToLongPtr, ULONG, LONG_PTR)                                                             \
    X(ULongToSSIZET, ULONG, SSIZE_T)                                                               \
    X(ULongToChar, ULONG, CHAR)                                                                    \
    X(DWordToUChar, DWORD, UCHAR)                                                                  \
    X(DWordToByte, DWORD, BYTE)                                                                    \
    X(DWordToUShort, DWORD, USHORT)                                                                \
    X(DWordToWord, DWORD, WORD)                                                                    \
    X(DWordToShort, DWORD, SHORT)                                                                  \
    X(DWordToUInt, DWORD, UINT)                                                                    \
    X(DWordToLong, DWORD, LONG)                                                                    \
    X(DWordToInt, DWORD, INT)                                                                      \
    X(DWordToUIntPtr, DWORD, UINT_PTR)                                                             \
    X(DWordToIntPtr, DWORD, INT_PTR)                                                               \
    X(DWordToPtrdiffT, DWORD, ptrdiff_t)                                                           \
    X(DWordToLongPtr, DWORD, LONG_PTR)                                                             \
    X(DWordToSSIZET, DWORD, SSIZE_T)                                                               \
    X(DWordToChar, DWORD, CHAR)                                                                    \
    X(LongToUChar, LONG, UCHAR)                                                                    \
    X(LongToUInt8, LONG, UINT8)                                                                    \
    X(LongToByte, LONG, BYTE)                                                                      \
    X(LongToInt8, LONG, INT8)                                                                      \
    X(LongToUShort, LONG, USHORT)                                                                  \
    X(LongToWord, LONG, WORD)                                                                      \
    X(LongToShort, LONG, SHORT)                                                                    \
    X(LongToUInt, LONG, UINT)                                                                      \
    X(LongToULong, LONG, ULONG)                                                                    \
    X(LongToDWord, LONG, DWORD)                                                                    \
    X(LongToInt, LONG, INT)                                                                        \
    X(LongToUIntPtr, LONG, UINT_PTR)                                                               \
    X(LongToSizeT, LONG, size_t)                                                                   \
    X(LongToULongPtr, LONG, ULONG_PTR)                                                             \
    X(LongToDWordPtr, LONG, DWORD_PTR)                                                             \
    X(LongToIntPtr, LONG, INT_PTR)                                                                 \
    X(LongToPtrdiffT, LONG, ptrdiff_t)                                                             \
    X(LongToULongLong, LONG, ULONGLONG)                                                            \
    X(LongToChar, LONG, CHAR)                                                                      \
    X(IntToUChar, INT, UCHAR)                                                                      \
    X(IntToUInt8, INT, UINT8)                                                                      \
    X(IntToByte, INT, BYTE)                                                                        \
    X(IntToInt8, INT, INT8)                                                                        \
    X(IntToUShort, INT, USHORT)                                                                    \
    X(IntToWord, INT, WORD)                                                                        \
    X(IntToShort, INT, SHORT)                                                                      \
    X(IntToUInt, INT, UINT)                                                                        \
    X(IntToULong, INT, ULONG)                                                                      \
    X(IntToDWord, INT, DWORD)                                                                      \
    X(IntToUIntPtr, INT, UINT_PTR)                                                                 \
    X(IntToSizeT, INT, size_t)                                                                     \
    X(IntToULongPtr, INT, ULONG_PTR)                                                               \
    X(IntToDWordPtr, INT, DWORD_PTR)                                                               \
    X(IntToULongLong, INT, ULONGLONG)                                                              \
    X(IntToChar, INT, CHAR)                                                                        \
    X(UIntPtrToUChar, UINT_PTR, UCHAR)                                                             \
    X(UIntPtrToUInt8, UINT_PTR, UINT8)                                                             \
    X(UIntPtrToInt8, UINT_PTR, INT8)                                                               \
    X(UIntPtrToUInt16, UINT_PTR, UINT16)                                                           \
    X(UIntPtrToUShort, UINT_PTR, USHORT)                                                           \
    X(UIntPtrToInt16, UINT_PTR, INT16)                                                             \
    X(UIntPtrToShort, UINT_PTR, SHORT)                                                             \
    X(UIntPtrToUInt, UINT_PTR, UINT)                                                               \
    X(UIntPtrToULong, UINT_PTR, ULONG)                                                             \
    X(UIntPtrToDWord, UINT_PTR, DWORD)                                                             \
    X(UIntPtrToLong, UINT_PTR, LONG)                                                               \
    X(UIntPtrToInt, UINT_PTR, INT)                                                                 \
    X(UIntPtrToIntPtr, UINT_PTR, INT_PTR)                                                          \
    X(UIntPtrToLongPtr, UINT_PTR, LONG_PTR)                                                        \
    X(UIntPtrToSSIZET, UINT_PTR, SSIZE_T)                                                          \
    X(UIntPtrToInt64, UINT_PTR, INT64)                                                             \
    X(UIntPtrToLongLong, UINT_PTR, LONGLONG)                                                       \
    X(UIntPtrToChar, UINT_PTR, CHAR)                                                               \
    X(SizeTToUInt, size_t, UINT)                                                                   \
    X(SizeTToULong, size_t, ULONG)                                                                 \
    X(SizeTToDWord, size_t, DWORD)                                                                 \
    X(SizeTToLong, size_t, LONG)                                                                   \
    X(SizeTToInt, size_t, INT)                                                                     \
    X(SizeTToIntPtr, size_t, INT_PTR)                                                              \
    X(SizeTToPtrdiffT, size_t, ptrdiff_t)                                                          \
    X(SizeTToLongPtr, size_t, LONG_PTR)                                                            \
    X(SizeTToSSIZET, size_t, SSIZE_T)                                                              \
    X(SizeTToInt64, size_t, INT64)                                                                 \
    X(ULongPtrToUChar, ULONG_PTR, UCHAR)                                                           \
    X(ULongPtrToUInt8, ULONG_PTR, UINT8)                                                           \
    X(ULongPtrToInt8, ULONG_PTR, INT8)                                                             \
    X(ULongPtrToUShort, ULONG_PTR, USHORT)                                                         \
    X(ULongPtrToShort, ULONG_PTR, SHORT)                                                           \
    X(ULongPtrToUInt, ULONG_PTR, UINT)                                                             \
    X(ULongPtrToULong, ULONG_PTR, ULONG)                                                           \
    X(ULongPtrToDWord, ULONG_PTR, DWORD)                                                           \
    X(ULongPtrToLong, ULONG_PTR, LONG)                                                             \
    X(ULongPtrToInt, ULONG_PTR, INT)                                                               \
    X(ULongPtrToUIntPtr, ULONG_PTR, UINT_PTR)                                                      \
    X(ULongPtrToIntPtr, ULONG_PTR, INT_PTR)                                                        \
    X(ULongPtrToPtrdiffT, ULONG_PTR, ptrdiff_t)                                                    \
    X(ULongPtrToLongPtr, ULONG_PTR, LONG_PTR)                                                      \
    X(ULongPtrToSSIZET, ULONG_PTR, SSIZE_T)                                                        \
    X(ULongPtrToInt64, ULONG_PTR, INT64)                                                           \
    X(ULongPtrToLongLong, ULONG_PTR, LONGLONG)                                                     \
    X(ULongPtrToChar, ULONG_PTR, CHAR)                                                             \
    X(DWordPtrToUInt, DWORD_PTR, UINT)                                                             \
    X(DWordPtrToULong, DWORD_PTR, ULONG)                                                           \
    X(DWordPtrToDWord, DWORD_PTR, DWORD)                                                           \
    X(DWordPtrToLong, DWORD_PTR, LONG)                                                             \
    X(DWordPtrToInt, DWORD_PTR, INT)                                                               \
    X(DWordPtrToUIntPtr, DWORD_PTR, UINT_PTR)                                                      \
    X(DWordPtrToIntPtr, DWORD_PTR, INT_PTR)                                                        \
    X(DWordPtrToPtrdiffT, DWORD_PTR, ptrdiff_t)                                                    \
    X(DWordPtrToLongPtr, DWORD_PTR, LONG_PTR)                                                      \
    X(DWordPtrToSSIZET, DWORD_PTR, SSIZE_T)                                                        \
    X(DWordPtrToInt64, DWORD_PTR, INT64)                                                           \
    X(IntPtrToUChar, INT_PTR, UCHAR)                                                               \
    X(IntPtrToUInt8, INT_PTR, UINT8)                                                               \
    X(IntPtrToInt8, INT_PTR, INT8)                                                                 \
    X(IntPtrToUShort, INT_PTR, USHORT)                                                             \
    X(IntPtrToShort, INT_PTR, SHORT)                                                               \
    X(IntPtrToUInt, INT_PTR, UINT)                                                                 \
    X(IntPtrToULong, INT_PTR, ULONG)                                                               \
    X(IntPtrToDWord, INT_PTR, DWORD)                                                               \
    X(IntPtrToLong, INT_PTR, LONG)                                                                 \
    X(IntPtrToInt, INT_PTR, INT)                                                                   \
    X(IntPtrToUIntPtr, INT_PTR, UINT_PTR)                                                          \
    X(IntPtrToSizeT, INT_PTR, size_t)                                                              \
    X(IntPtrToULongPtr, INT_PTR, ULONG_PTR)                                                        \
    X(IntPtrToDWordPtr, INT_PTR, DWORD_PTR)                                                        \
    X(IntPtrToLongPtr, INT_PTR, LONG_PTR)                                                          \
    X(IntPtrToULongLong, INT_PTR, ULONGLONG)                                                       \
    X(IntPtrToChar, INT_PTR, CHAR)                                                                 \
    X(PtrdiffTToUInt, ptrdiff_t, UINT)                                                             \
    X(PtrdiffTToULong, ptrdiff_t, ULONG)                                                           \
    X(PtrdiffTToDWord, ptrdiff_t, DWORD)                                                           \
    X(PtrdiffTToLong, ptrdiff_t, LONG)                                                             \
    X(PtrdiffTToInt, ptrdiff_t, INT)                                                               \
    X(PtrdiffTToUIntPtr, ptrdiff_t, UINT_PTR)                                                      \
    X(PtrdiffTToSizeT, ptrdiff_t, size_t)                                                          \
    X(PtrdiffTToULongPtr, ptrdiff_t, ULONG_PTR)                                                    \
    X(PtrdiffTToDWordPtr, ptrdiff_t, DWORD_PTR)                                                    \
    X(LongPtrToUChar, LONG_PTR, UCHAR)                                                             \
    X(LongPtrToUInt8, LONG_PTR, UINT8)                                                             \
    X(LongPtrToInt8, LONG_PTR, INT8)                                                               \
    X(LongPtrToUShort, LONG_PTR, USHORT)                                                           \
    X(LongPtrToShort, LONG_PTR, SHORT)                                                             \
    X(LongPtrToUInt, LONG_PTR, UINT)                                                               \
    X(LongPtrToULong, LONG_PTR, ULONG)                                                             \
    X(LongPtrToDWord, LONG_PTR, DWORD)                                                             \
    X(LongPtrToLong, LONG_PTR, LONG)                                                               \
    X(LongPtrToInt, LONG_PTR, INT)                                                                 \
    X(LongPtrToUIntPtr, LONG_PTR, UINT_PTR)                                                        \
    X(LongPtrToSizeT, LONG_PTR, size_t)                                                            \
    X(LongPtrToULongPtr, LONG_PTR, ULONG_PTR)                                                      \
    X(LongPtrToDWordPtr, LONG_PTR, DWORD_PTR)                                                      \
    X(LongPtrToIntPtr, LONG_PTR, INT_PTR)                                                          \
    X(LongPtrToULongLong, LONG_PTR, ULONGLONG)                                                     \
    X(LongPtrToChar, LONG_PTR, CHAR)                                                               \
    X(SSIZETToUInt, SSIZE_T, UINT)                                                                 \
    X(SSIZETToULong, SSIZE_T, ULONG)                                                               \
    X(SSIZETToDWord, SSIZE_T, DWORD)                                                               \
    X(SSIZETToLong, SSIZE_T, LONG)                                                                 \
    X(SSIZETToInt, SSIZE_T, INT)                                                                   \
    X(SSIZETToUIntPtr, SSIZE_T, UINT_PTR)                                                          \
    X(SSIZETToSizeT, SSIZE_T, size_t)                                                              \
    X(SSIZETToULongPtr, SSIZE_T, ULONG_PTR)                                                        \
    X(SSIZETToDWordPtr, SSIZE_T, DWORD_PTR)                                                        \
    X(SSIZETToIntPtr, SSIZE_T, INT_PTR)                                                            \
    X(ULongLongToUChar, ULONGLONG, UCHAR)                                                          \
    X(ULongLongToUInt8, ULONGLONG, UINT8)                                                          \
    X(ULongLongToInt8, ULONGLONG, INT8)                                                            \
    X(ULongLongToUShort, ULONGLONG, USHORT)                                                        \
    X(ULongLongToShort, ULONGLONG, SHORT)                                                          \
    X(ULongLongToUInt, ULONGLONG, UINT)                                                            \
    X(ULongLongToULong, ULONGLONG, ULONG)                                                          \
    X(ULongLongToDWord, ULONGLONG, DWORD)                                                          \
    X(ULongLongToLong, ULONGLONG, LONG)                                                            \
    X(ULongLongToInt, ULONGLONG, INT)                                                              \
    X(ULongLongToUIntPtr, ULONGLONG, UINT_PTR)                                                     \
    X(ULongLongToSizeT, ULONGLONG, size_t)                                                         \
    X(ULongLongToULongPtr, ULONGLONG, ULONG_PTR)                                                   \
    X(ULongLongToDWordPtr, ULONGLONG, DWORD_PTR)                                                   \
    X(ULongLongToIntPtr, ULONGLONG, INT_PTR)                                                       \
    X(ULongLongToPtrdiffT, ULONGLONG, ptrdiff_t)                                                   \
    X(ULongLongToLongPtr, ULONGLONG, LONG_PTR)                                                     \
    X(ULongLongToSSIZET, ULONGLONG, SSIZE_T)                                                       \
    X(ULongLongToInt64, ULONGLONG, INT64)                                                          \
    X(ULongLongToLongLong, ULONGLONG, LONGLONG)                                                    \
    X(ULongLongToChar, ULONGLONG, CHAR)                                                            \
    X(Int64ToUInt, INT64, UINT)                                                                    \
    X(Int64ToULong, INT64, ULONG)                                                                  \
    X(Int64ToDWord, INT64, DWORD)                                                                  \
    X(Int64ToLong, INT64, LONG)                                                                    \
    X(Int64ToInt, INT64, INT)                                                                      \
    X(Int64ToUIntPtr, INT64, UINT_PTR)                                                             \
    X(Int64ToSizeT, INT64, size_t)                                                                 \
    X(Int64ToULongPtr, INT64, ULONG_PTR)                                                           \
    X(Int64ToDWordPtr, INT64, DWORD_PTR)                                                           \
    X(Int64ToIntPtr, INT64, INT_PTR)                                                               \
    X(Int64ToPtrdiffT, INT64, ptrdiff_t)                                                           \
    X(Int64ToLongPtr, INT64, LONG_PTR)                                                             \
    X(Int64ToSSIZET, INT64, SSIZE_T)                                                               \
    X(Int64ToULongLong, INT64, ULONGLONG)                                                          \
    X(LongLongToUChar, LONGLONG, UCHAR)                                                            \
    X(LongLongToUInt8, LONGLONG, UINT8)                                                            \
    X(LongLongToInt8, LONGLONG, INT8)                                                              \
    X(LongLongToUShort, LONGLONG, USHORT)                                                          \
    X(LongLongToShort, LONGLONG, SHORT)                                                            \
    X(LongLongToUInt, LONGLONG, UINT)                                                              \
    X(LongLongToULong, LONGLONG, ULONG)                                                            \
    X(LongLongToLong, LONGLONG, LONG)                                                              \
    X(LongLongToInt, LONGLONG, INT)                                                                \
    X(LongLongToIntPtr, LONGLONG, INT_PTR)                                                         \
    X(LongLongToLongPtr, LONGLONG, LONG_PTR)                                                       \
    X(LongLongToULongLong, LONGLONG, ULONGLONG)                                                    \
    X(LongLongToChar, LONGLONG, CHAR)

#ifdef __cplusplus
extern "C" {
#endif

#define FLTSIM_INTSAFE_DECLARE_MATH(Name, Type)                                                    \
    NTSTATUS Rtl##Name##Add(Type Augend, Type Addend, Type *Result);                               \
    NTSTATUS Rtl##Name##Sub(Type Minuend, Type Subtrahend, Type *Result);                          \
    NTSTATUS Rtl##Name##Mult(Type Multiplicand, Type Multiplier, Type *Result);
FLTSIM_INTSAFE_MATH_LIST(FLTSIM_INTSAFE_DECLARE_MATH)
#undef FLTSIM_INTSAFE_DECLARE_MATH

#define FLTSIM_INTSAFE_DECLARE_CONVERSION(Name, From, To)                                          \
    NTSTATUS Rtl##Name(From Operand, To *Result);
FLTSIM_INTSAFE_CONVERSION_LIST(FLTSIM_INTSAFE_DECLARE_CONVERSION)
#undef FLTSIM_INTSAFE_DECLARE_CONVERSION

/* The WDK's second names for the 64-bit and SIZE_T forms. */
#define RtlUInt64Add RtlULongLongAdd
#define RtlUInt64Sub RtlULongLongSub
#define RtlUInt64Mult RtlULongLongMult
#define RtlULong64Add RtlULongLongAdd
#define RtlULong64Sub RtlULongLongSub
#define RtlULong64Mult RtlULongLongMult
#define RtlDWord64Add RtlULongLongAdd
#define RtlDWord64Sub RtlULongLongSub
#define RtlDWord64Mult RtlULongLongMult
#define RtlInt64Add RtlLongLongAdd
#define RtlInt64Sub RtlLongLongSub
#define RtlInt64Mult RtlLongLongMult
#define RtlLong64Add RtlLongLongAdd
#define RtlLong64Sub RtlLongLongSub
#define RtlLong64Mult RtlLongLongMult
#define RtlSIZETAdd RtlULongPtrAdd
#define RtlSIZETSub RtlULongPtrSub
#define RtlSIZETMult RtlULongPtrMult

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_NTINTSAFE_H */
