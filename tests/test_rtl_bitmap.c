/*
 * Bitmaps (nt/rtl_bitmap.c): the WDK's bit numbering (bit i is bit i % 32 of
 * ULONG i / 32), setting, clearing, testing and counting bits and ranges
 * across ULONG boundaries with the bits past SizeOfBitMap ignored,
 * RtlAreBits(Set|Clear) (FALSE for an empty range or one outside), the Find
 * routines' hint (from the hint to the end, then from the start), a random
 * mix checked against a plain array, and out-of-range misuse reported from
 * filter code with the buffer left untouched.
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

#define NOT_FOUND 0xFFFFFFFFu

static void bits_follow_the_wdk_numbering(void **state)
{
    (void)state;
    ULONG buffer[3] = {0, 0, 0};
    RTL_BITMAP b;
    RtlInitializeBitMap(&b, buffer, 70);
    assert_int_equal(b.SizeOfBitMap, 70);
    assert_ptr_equal(b.Buffer, buffer);
    RtlSetBit(&b, 0);
    RtlSetBit(&b, 33);
    RtlSetBit(&b, 69);
    assert_int_equal(buffer[0], 0x1);
    assert_int_equal(buffer[1], 0x2);
    assert_int_equal(buffer[2], 0x20);
    assert_true(RtlTestBit(&b, 33));
    assert_false(RtlTestBit(&b, 34));
    RtlClearBit(&b, 33);
    assert_int_equal(buffer[1], 0);
    assert_int_equal(RtlNumberOfSetBits(&b), 2);
    assert_int_equal(RtlNumberOfClearBits(&b), 68);
}

/* Ranges across ULONG boundaries; the fill-alls write whole ULONGs, and
 * the bits past the end never count. */
static void ranges_cross_words_and_the_tail_is_ignored(void **state)
{
    (void)state;
    ULONG buffer[3];
    RTL_BITMAP b;
    RtlInitializeBitMap(&b, buffer, 70);
    RtlSetAllBits(&b);
    assert_int_equal(buffer[2], 0xFFFFFFFFu);
    assert_int_equal(RtlNumberOfSetBits(&b), 70);
    assert_int_equal(RtlNumberOfClearBits(&b), 0);
    RtlClearAllBits(&b);
    assert_int_equal(RtlNumberOfSetBits(&b), 0);
    buffer[2] = 0xFFFFFFC0u; /* only bits past the end */
    assert_int_equal(RtlNumberOfSetBits(&b), 0);
    buffer[2] = 0;

    RtlSetBits(&b, 30, 36); /* 30..65 */
    assert_int_equal(buffer[0], 0xC0000000u);
    assert_int_equal(buffer[1], 0xFFFFFFFFu);
    assert_int_equal(buffer[2], 0x3u);
    assert_int_equal(RtlNumberOfSetBits(&b), 36);
    assert_true(RtlAreBitsSet(&b, 30, 36));
    assert_false(RtlAreBitsSet(&b, 29, 2));
    assert_true(RtlAreBitsClear(&b, 0, 30));
    assert_true(RtlAreBitsClear(&b, 66, 4));
    assert_false(RtlAreBitsClear(&b, 66, 5)); /* past the end */
    assert_false(RtlAreBitsClear(&b, 70, 1));
    assert_false(RtlAreBitsClear(&b, 0, 0)); /* an empty range */
    assert_false(RtlAreBitsSet(&b, 31, 0));
    RtlClearBits(&b, 32, 32);
    assert_int_equal(buffer[1], 0);
    assert_int_equal(RtlNumberOfSetBits(&b), 4);
    RtlSetBits(&b, 10, 0); /* nothing */
    assert_int_equal(RtlNumberOfSetBits(&b), 4);
}

/* The search starts at the hint and wraps to the start; a run found on the
 * second pass may reach past the hint. */
static void find_uses_the_hint_then_wraps(void **state)
{
    (void)state;
    ULONG buffer[4];
    RTL_BITMAP b;
    RtlInitializeBitMap(&b, buffer, 128);
    RtlClearAllBits(&b);
    RtlSetBits(&b, 10, 20); /* 10..29 set */
    RtlSetBits(&b, 100, 5); /* 100..104 set */
    assert_int_equal(RtlFindClearBits(&b, 5, 0), 0);
    assert_int_equal(RtlFindClearBits(&b, 5, 8), 30);    /* 8..9 is too short */
    assert_int_equal(RtlFindClearBits(&b, 10, 95), 105); /* after the set run */
    assert_int_equal(RtlFindClearBits(&b, 30, 110), 30); /* wraps: 30..59 */
    assert_int_equal(RtlFindClearBits(&b, 70, 40), 30);  /* wraps and crosses the hint */
    assert_int_equal(RtlFindClearBits(&b, 71, 0), NOT_FOUND);
    assert_int_equal(RtlFindSetBits(&b, 3, 50), 100);
    assert_int_equal(RtlFindSetBits(&b, 6, 50), 10);
    assert_int_equal(RtlFindSetBits(&b, 21, 0), NOT_FOUND);
    assert_int_equal(RtlFindClearBits(&b, 5, 500), 0); /* a hint outside: from 0 */
    assert_int_equal(RtlFindClearBits(&b, 129, 0), NOT_FOUND);
    assert_int_equal(RtlFindClearBits(&b, 0, 77), 77);

    assert_int_equal(RtlFindClearBitsAndSet(&b, 4, 60), 60);
    assert_true(RtlAreBitsSet(&b, 60, 4));
    assert_int_equal(RtlFindClearBitsAndSet(&b, 4, 60), 64);
    assert_int_equal(RtlFindSetBitsAndClear(&b, 8, 60), 60);
    assert_true(RtlAreBitsClear(&b, 60, 8));
    assert_int_equal(RtlFindSetBitsAndClear(&b, 100, 0), NOT_FOUND);
    assert_int_equal(RtlNumberOfSetBits(&b), 25);
}

static ULONG reference_find(const bool *bits, ULONG size, bool value, ULONG n, ULONG hint)
{
    if (hint >= size)
        hint = 0;
    for (int pass = 0; pass < 2; pass++) {
        ULONG from = pass == 0 ? hint : 0;
        ULONG to = pass == 0 ? size : hint; /* starts before to */
        for (ULONG s = from; s < to && s + n <= size; s++) {
            ULONG k = 0;
            while (k < n && bits[s + k] == value)
                k++;
            if (k == n)
                return s;
        }
    }
    return NOT_FOUND;
}

static void random_operations_match_a_reference(void **state)
{
    (void)state;
    enum { SIZE = 1000 };
    ULONG buffer[(SIZE + 31) / 32];
    bool bits[SIZE] = {false};
    RTL_BITMAP b;
    RtlInitializeBitMap(&b, buffer, SIZE);
    RtlClearAllBits(&b);
    srand(42);
    for (int op = 0; op < 5000; op++) {
        ULONG start = (ULONG)rand() % SIZE;
        ULONG n = 1 + (ULONG)rand() % 40;
        if (n > SIZE - start)
            n = SIZE - start;
        bool value = rand() % 2;
        switch (rand() % 4) {
        case 0:
            if (value)
                RtlSetBits(&b, start, n);
            else
                RtlClearBits(&b, start, n);
            for (ULONG i = 0; i < n; i++)
                bits[start + i] = value;
            break;
        case 1: {
            bool all = true;
            for (ULONG i = 0; i < n; i++)
                all = all && bits[start + i] == value;
            assert_int_equal(value ? RtlAreBitsSet(&b, start, n) : RtlAreBitsClear(&b, start, n),
                             all);
            break;
        }
        default: {
            ULONG want = reference_find(bits, SIZE, value, n, start);
            ULONG got = value ? RtlFindSetBits(&b, n, start) : RtlFindClearBits(&b, n, start);
            assert_int_equal(got, want);
        }
        }
    }
    ULONG set = 0;
    for (ULONG i = 0; i < SIZE; i++)
        set += bits[i];
    assert_int_equal(RtlNumberOfSetBits(&b), set);
}

/* ---- misuse from filter code ---- */

static ULONG guarded[4];
static BOOLEAN tested;

static FLT_PREOP_CALLBACK_STATUS misuse_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)data;
    (void)objects;
    *context = NULL;
    RTL_BITMAP b;
    memset(guarded, 0, sizeof(guarded));
    RtlInitializeBitMap(&b, guarded, 40); /* guarded[2..3] lie past it */
    RtlSetBit(&b, 40);
    RtlSetBits(&b, 30, 50); /* only 30..39 */
    RtlClearBit(&b, 1000);
    tested = RtlTestBit(&b, 64);
    RtlSetBits(&b, 100, 1);
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void out_of_range_is_reported_and_kept_inside(void **state)
{
    (void)state;
    struct test_world w;
    struct tf_filter a;
    tf_reset_all();
    world_create(&w, 0);
    tf_init(&a, "A", "300000");
    tf_only(&a, IRP_MJ_CREATE);
    a.pre = misuse_pre;
    assert_status(tf_load(w.sys, &a), STATUS_SUCCESS);
    HANDLE h = world_open(&w, L"C:\\a.txt", GENERIC_READ);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    assert_int_equal(guarded[0], 0xC0000000u);
    assert_int_equal(guarded[1], 0xFFu);
    assert_int_equal(guarded[2], 0);
    assert_int_equal(guarded[3], 0);
    assert_false(tested);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "RTL"), 5);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(w.sys, 1, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "RtlSetBits(30, 50) reaches past the bitmap's 40 bits"));
    world_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bits_follow_the_wdk_numbering),
        cmocka_unit_test(ranges_cross_words_and_the_tail_is_ignored),
        cmocka_unit_test(find_uses_the_hint_then_wraps),
        cmocka_unit_test(random_operations_match_a_reference),
        cmocka_unit_test(out_of_range_is_reported_and_kept_inside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
