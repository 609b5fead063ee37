/*
 * Bitmaps (RTL_BITMAP): RtlInitializeBitMap, setting, clearing and testing
 * bits and ranges, counting them, RtlAreBits(Set|Clear) and
 * RtlFind(Clear|Set)Bits(AndSet|AndClear) with the hint Learn describes (from
 * the hint to the end, then from the start back to the hint). Bit i is bit
 * i % 32 of ULONG i / 32, as on Windows; bits past SizeOfBitMap in the last
 * ULONG are never counted or found. An index outside the bitmap, which
 * Windows does not check, is reported (RTL) and kept out of the buffer.
 */
#include "nt_internal.h"

#define NOT_FOUND 0xFFFFFFFFu

static bool header_ok(PRTL_BITMAP h, const char *api)
{
    if (h == NULL || (h->Buffer == NULL && h->SizeOfBitMap != 0)) {
        fltsim__rtl_report("%s on a bitmap header %p without a buffer; nothing done", api,
                           (void *)h);
        return false;
    }
    return true;
}

static bool bit(const RTL_BITMAP *h, ULONG i)
{
    return (h->Buffer[i >> 5] >> (i & 31)) & 1;
}

/* The first index in [i, end) whose bit is value, or end. */
static ULONG next_with(const RTL_BITMAP *h, bool value, ULONG i, ULONG end)
{
    while (i < end) {
        ULONG w = h->Buffer[i >> 5];
        if (!value)
            w = ~w;
        w &= 0xFFFFFFFFu << (i & 31);
        if (w != 0) {
            ULONG found = (i & ~31u) + (ULONG)__builtin_ctz(w);
            return found < end ? found : end;
        }
        i = (i & ~31u) + 32;
    }
    return end;
}

/* Sets [start, start + count) to value; the range lies inside the bitmap. */
static void fill(PRTL_BITMAP h, ULONG start, ULONG count, bool value)
{
    while (count > 0) {
        ULONG shift = start & 31;
        ULONG n = 32 - shift < count ? 32 - shift : count;
        ULONG mask = (n == 32 ? 0xFFFFFFFFu : ((1u << n) - 1)) << shift;
        if (value)
            h->Buffer[start >> 5] |= mask;
        else
            h->Buffer[start >> 5] &= ~mask;
        start += n;
        count -= n;
    }
}

/* A range the caller gave: clamped to the bitmap with a report. */
static bool clamp(PRTL_BITMAP h, ULONG *start, ULONG *count, const char *api)
{
    ULONG size = h->SizeOfBitMap;
    if (*start <= size && *count <= size - *start)
        return true;
    fltsim__rtl_report("%s(%lu, %lu) reaches past the bitmap's %lu bits (Windows writes past its "
                       "buffer); only the bits inside are changed",
                       api, (unsigned long)*start, (unsigned long)*count, (unsigned long)size);
    if (*start > size)
        *start = size;
    *count = size - *start;
    return false;
}

VOID RtlInitializeBitMap(PRTL_BITMAP BitMapHeader, PULONG BitMapBuffer, ULONG SizeOfBitMap)
{
    if (BitMapHeader == NULL) {
        fltsim__rtl_report("RtlInitializeBitMap(NULL); nothing done");
        return;
    }
    if (((ULONG_PTR)BitMapBuffer & (sizeof(ULONG) - 1)) != 0)
        fltsim__rtl_report("RtlInitializeBitMap: the buffer %p is not ULONG-aligned",
                           (void *)BitMapBuffer);
    BitMapHeader->SizeOfBitMap = SizeOfBitMap;
    BitMapHeader->Buffer = BitMapBuffer;
}

/* Whole ULONGs, as Windows fills them (the bits past the end included). */
static void fill_all(PRTL_BITMAP h, ULONG value)
{
    ULONG words = (ULONG)(((ULONG64)h->SizeOfBitMap + 31) / 32);
    for (ULONG i = 0; i < words; i++)
        h->Buffer[i] = value;
}

VOID RtlClearAllBits(PRTL_BITMAP BitMapHeader)
{
    if (header_ok(BitMapHeader, "RtlClearAllBits"))
        fill_all(BitMapHeader, 0);
}

VOID RtlSetAllBits(PRTL_BITMAP BitMapHeader)
{
    if (header_ok(BitMapHeader, "RtlSetAllBits"))
        fill_all(BitMapHeader, 0xFFFFFFFFu);
}

static bool index_ok(PRTL_BITMAP h, ULONG i, const char *api)
{
    if (!header_ok(h, api))
        return false;
    if (i < h->SizeOfBitMap)
        return true;
    fltsim__rtl_report("%s(%lu) outside the bitmap's %lu bits; ignored", api, (unsigned long)i,
                       (unsigned long)h->SizeOfBitMap);
    return false;
}

VOID RtlClearBit(PRTL_BITMAP BitMapHeader, ULONG BitNumber)
{
    if (index_ok(BitMapHeader, BitNumber, "RtlClearBit"))
        fill(BitMapHeader, BitNumber, 1, false);
}

VOID RtlSetBit(PRTL_BITMAP BitMapHeader, ULONG BitNumber)
{
    if (index_ok(BitMapHeader, BitNumber, "RtlSetBit"))
        fill(BitMapHeader, BitNumber, 1, true);
}

BOOLEAN RtlTestBit(PRTL_BITMAP BitMapHeader, ULONG BitNumber)
{
    return index_ok(BitMapHeader, BitNumber, "RtlTestBit") && bit(BitMapHeader, BitNumber);
}

VOID RtlClearBits(PRTL_BITMAP BitMapHeader, ULONG StartingIndex, ULONG NumberToClear)
{
    if (!header_ok(BitMapHeader, "RtlClearBits"))
        return;
    clamp(BitMapHeader, &StartingIndex, &NumberToClear, "RtlClearBits");
    fill(BitMapHeader, StartingIndex, NumberToClear, false);
}

VOID RtlSetBits(PRTL_BITMAP BitMapHeader, ULONG StartingIndex, ULONG NumberToSet)
{
    if (!header_ok(BitMapHeader, "RtlSetBits"))
        return;
    clamp(BitMapHeader, &StartingIndex, &NumberToSet, "RtlSetBits");
    fill(BitMapHeader, StartingIndex, NumberToSet, true);
}

static ULONG count_set(const RTL_BITMAP *h)
{
    ULONG size = h->SizeOfBitMap, total = 0;
    for (ULONG i = 0; i < size / 32; i++)
        total += (ULONG)__builtin_popcount(h->Buffer[i]);
    if (size & 31)
        total += (ULONG)__builtin_popcount(h->Buffer[size / 32] & ((1u << (size & 31)) - 1));
    return total;
}

ULONG RtlNumberOfSetBits(PRTL_BITMAP BitMapHeader)
{
    return header_ok(BitMapHeader, "RtlNumberOfSetBits") ? count_set(BitMapHeader) : 0;
}

ULONG RtlNumberOfClearBits(PRTL_BITMAP BitMapHeader)
{
    if (!header_ok(BitMapHeader, "RtlNumberOfClearBits"))
        return 0;
    return BitMapHeader->SizeOfBitMap - count_set(BitMapHeader);
}

/* FALSE for an empty range or one not inside the bitmap (Learn). */
static BOOLEAN all_equal(PRTL_BITMAP h, ULONG start, ULONG length, bool value, const char *api)
{
    if (!header_ok(h, api) || length == 0 || start >= h->SizeOfBitMap ||
        length > h->SizeOfBitMap - start)
        return FALSE;
    return next_with(h, !value, start, start + length) == start + length;
}

BOOLEAN RtlAreBitsClear(PRTL_BITMAP BitMapHeader, ULONG StartingIndex, ULONG Length)
{
    return all_equal(BitMapHeader, StartingIndex, Length, false, "RtlAreBitsClear");
}

BOOLEAN RtlAreBitsSet(PRTL_BITMAP BitMapHeader, ULONG StartingIndex, ULONG Length)
{
    return all_equal(BitMapHeader, StartingIndex, Length, true, "RtlAreBitsSet");
}

/* The first run of n bits equal to value starting in [lo, hi]. */
static ULONG search(const RTL_BITMAP *h, bool value, ULONG n, ULONG lo, ULONG hi)
{
    ULONG i = lo;
    while (i <= hi) {
        ULONG s = next_with(h, value, i, hi + 1);
        if (s > hi)
            break;
        ULONG e = next_with(h, !value, s, s + n); /* s + n <= SizeOfBitMap */
        if (e - s >= n)
            return s;
        i = e + 1;
    }
    return NOT_FOUND;
}

/* From the hint to the end, then from the start back to the hint: the run
 * found first may start before the hint and reach past it. Zero bits are
 * found at the hint. */
static ULONG find(PRTL_BITMAP h, bool value, ULONG n, ULONG hint, const char *api)
{
    if (!header_ok(h, api))
        return NOT_FOUND;
    ULONG size = h->SizeOfBitMap;
    if (hint >= size)
        hint = 0;
    if (n == 0)
        return hint;
    if (n > size)
        return NOT_FOUND;
    ULONG last = size - n; /* the last start that fits */
    ULONG found = hint <= last ? search(h, value, n, hint, last) : NOT_FOUND;
    if (found == NOT_FOUND && hint > 0)
        found = search(h, value, n, 0, hint - 1 < last ? hint - 1 : last);
    return found;
}

ULONG RtlFindClearBits(PRTL_BITMAP BitMapHeader, ULONG NumberToFind, ULONG HintIndex)
{
    return find(BitMapHeader, false, NumberToFind, HintIndex, "RtlFindClearBits");
}

ULONG RtlFindSetBits(PRTL_BITMAP BitMapHeader, ULONG NumberToFind, ULONG HintIndex)
{
    return find(BitMapHeader, true, NumberToFind, HintIndex, "RtlFindSetBits");
}

ULONG RtlFindClearBitsAndSet(PRTL_BITMAP BitMapHeader, ULONG NumberToFind, ULONG HintIndex)
{
    ULONG at = find(BitMapHeader, false, NumberToFind, HintIndex, "RtlFindClearBitsAndSet");
    if (at != NOT_FOUND)
        fill(BitMapHeader, at, NumberToFind, true);
    return at;
}

ULONG RtlFindSetBitsAndClear(PRTL_BITMAP BitMapHeader, ULONG NumberToFind, ULONG HintIndex)
{
    ULONG at = find(BitMapHeader, true, NumberToFind, HintIndex, "RtlFindSetBitsAndClear");
    if (at != NOT_FOUND)
        fill(BitMapHeader, at, NumberToFind, false);
    return at;
}
