/*
 * Generic tables (nt/rtl_table.c over splay trees, nt/rtl_avl.c over AVL
 * trees): the caller's routines called as Windows calls them (allocate with
 * the table's header plus the data, data returned past the header, compare
 * with the key buffer first and the element second, free with the block),
 * NewElement, collation-order enumeration (restartable, without splaying,
 * like a directory), GetElement (insertion order for splay tables, collation
 * order for AVL tables), Full lookups and inserts, the AVL balance kept under
 * random operations, and misuse reported from filter code.
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

#define TAG_T 'lbaT'
#define SPLAY_HEADER (sizeof(RTL_SPLAY_LINKS) + sizeof(LIST_ENTRY)) /* 40 on x64 */
#define AVL_HEADER sizeof(RTL_BALANCED_LINKS)                       /* 32 on x64 */

struct rec {
    ULONG key;
    ULONG payload;
    BOOLEAN by_tens; /* a search key that matches any element of the same ten */
};

static struct {
    LONG allocs, frees;
    CLONG last_size;
    PVOID last_block, last_freed;
    PVOID first, second;
    PVOID table;
    int bad_compare; /* returns this instead of a result once, when nonzero */
} tc;

static RTL_GENERIC_COMPARE_RESULTS compare_keys(const struct rec *a, const struct rec *b)
{
    ULONG x = a->by_tens ? a->key / 10 : a->key, y = a->by_tens ? b->key / 10 : b->key;
    if (tc.bad_compare != 0) {
        int bad = tc.bad_compare;
        tc.bad_compare = 0;
        return (RTL_GENERIC_COMPARE_RESULTS)bad;
    }
    return x < y ? GenericLessThan : x > y ? GenericGreaterThan : GenericEqual;
}

static PVOID take(CLONG size)
{
    tc.allocs++;
    tc.last_size = size;
    tc.last_block = ExAllocatePoolWithTag(PagedPool, size, TAG_T);
    return tc.last_block;
}

static void give(PVOID block)
{
    tc.frees++;
    tc.last_freed = block;
    ExFreePoolWithTag(block, TAG_T);
}

static RTL_GENERIC_COMPARE_RESULTS splay_compare(PRTL_GENERIC_TABLE t, PVOID a, PVOID b)
{
    tc.table = t;
    tc.first = a;
    tc.second = b;
    return compare_keys(a, b);
}

static PVOID splay_allocate(PRTL_GENERIC_TABLE t, CLONG size)
{
    (void)t;
    return take(size);
}

static VOID splay_free(PRTL_GENERIC_TABLE t, PVOID block)
{
    (void)t;
    give(block);
}

static RTL_GENERIC_COMPARE_RESULTS avl_compare(PRTL_AVL_TABLE t, PVOID a, PVOID b)
{
    tc.table = t;
    tc.first = a;
    tc.second = b;
    return compare_keys(a, b);
}

static PVOID avl_allocate(PRTL_AVL_TABLE t, CLONG size)
{
    (void)t;
    return take(size);
}

static VOID avl_free(PRTL_AVL_TABLE t, PVOID block)
{
    (void)t;
    give(block);
}

static ULONG64 tag_outstanding(void)
{
    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(TAG_T, &st);
    return st.outstanding;
}

static int reset(void **state)
{
    (void)state;
    memset(&tc, 0, sizeof(tc));
    return 0;
}

static struct rec key(ULONG k)
{
    struct rec r = {k, k * 7, FALSE};
    return r;
}

static void splay_empty(PRTL_GENERIC_TABLE t)
{
    while (!RtlIsGenericTableEmpty(t))
        assert_true(RtlDeleteElementGenericTable(t, RtlGetElementGenericTable(t, 0)));
}

static void avl_empty(PRTL_AVL_TABLE t)
{
    while (!RtlIsGenericTableEmptyAvl(t))
        assert_true(RtlDeleteElementGenericTableAvl(t, RtlGetElementGenericTableAvl(t, 0)));
}

/* ---- splay tables ---- */

/* The allocate routine gets the links and the insert-order entry plus the
 * data; the data comes back past them, copied; a duplicate allocates nothing. */
static void splay_insert_allocates_header_plus_data(void **state)
{
    (void)state;
    RTL_GENERIC_TABLE t;
    int context;
    RtlInitializeGenericTable(&t, splay_compare, splay_allocate, splay_free, &context);
    assert_true(RtlIsGenericTableEmpty(&t));
    assert_ptr_equal(t.TableContext, &context);

    struct rec r = key(5);
    BOOLEAN fresh = FALSE;
    struct rec *e = RtlInsertElementGenericTable(&t, &r, sizeof(r), &fresh);
    assert_true(fresh);
    assert_int_equal(tc.allocs, 1);
    assert_int_equal(tc.last_size, 40 + sizeof(r));
    assert_ptr_equal(e, (char *)tc.last_block + 40);
    assert_true(e != &r);
    assert_int_equal(e->payload, 35);

    struct rec again = key(5);
    again.payload = 99;
    assert_ptr_equal(RtlInsertElementGenericTable(&t, &again, sizeof(again), &fresh), e);
    assert_false(fresh);
    assert_int_equal(tc.allocs, 1);
    assert_int_equal(e->payload, 35); /* the existing element is kept */
    /* compare(Table, the caller's buffer, the element's data) */
    assert_ptr_equal(tc.table, &t);
    assert_ptr_equal(tc.first, &again);
    assert_ptr_equal(tc.second, e);

    struct rec six = key(6);
    assert_non_null(RtlInsertElementGenericTable(&t, &six, sizeof(six), NULL));
    assert_int_equal(RtlNumberGenericTableElements(&t), 2);
    assert_false(RtlIsGenericTableEmpty(&t));
    splay_empty(&t);
    assert_int_equal(tc.frees, 2);
    assert_int_equal(tag_outstanding(), 0);
}

static void splay_lookup_and_delete_free_the_block(void **state)
{
    (void)state;
    RTL_GENERIC_TABLE t;
    RtlInitializeGenericTable(&t, splay_compare, splay_allocate, splay_free, NULL);
    ULONG keys[] = {4, 9, 1, 7, 3, 8, 2, 10, 6, 5};
    for (int i = 0; i < 10; i++) {
        struct rec r = key(keys[i]);
        RtlInsertElementGenericTable(&t, &r, sizeof(r), NULL);
    }
    struct rec k = key(7);
    struct rec *e = RtlLookupElementGenericTable(&t, &k);
    assert_non_null(e);
    assert_int_equal(e->key, 7);
    struct rec missing = key(11);
    assert_null(RtlLookupElementGenericTable(&t, &missing));
    assert_true(RtlDeleteElementGenericTable(&t, &k));
    assert_ptr_equal(tc.last_freed, (char *)e - SPLAY_HEADER);
    assert_false(RtlDeleteElementGenericTable(&t, &k));
    assert_null(RtlLookupElementGenericTable(&t, &k));
    assert_int_equal(RtlNumberGenericTableElements(&t), 9);
    splay_empty(&t);
    assert_int_equal(tag_outstanding(), 0);
}

/* Enumerations go in collation order; RtlEnumerateGenericTable continues
 * from the root, so a lookup in between moves it (as on Windows). */
static void splay_enumerations_follow_collation_order(void **state)
{
    (void)state;
    RTL_GENERIC_TABLE t;
    RtlInitializeGenericTable(&t, splay_compare, splay_allocate, splay_free, NULL);
    for (ULONG i = 0; i < 100; i++) {
        struct rec r = key((i * 37) % 100);
        RtlInsertElementGenericTable(&t, &r, sizeof(r), NULL);
    }
    ULONG expect = 0;
    for (struct rec *e = RtlEnumerateGenericTable(&t, TRUE); e != NULL;
         e = RtlEnumerateGenericTable(&t, FALSE))
        assert_int_equal(e->key, expect++);
    assert_int_equal(expect, 100);

    PVOID restart = NULL;
    expect = 0;
    for (struct rec *e = RtlEnumerateGenericTableWithoutSplaying(&t, &restart); e != NULL;
         e = RtlEnumerateGenericTableWithoutSplaying(&t, &restart))
        assert_int_equal(e->key, expect++);
    assert_int_equal(expect, 100);

    struct rec *first = RtlEnumerateGenericTable(&t, TRUE);
    assert_int_equal(first->key, 0);
    struct rec k = key(50);
    RtlLookupElementGenericTable(&t, &k);
    assert_int_equal(((struct rec *)RtlEnumerateGenericTable(&t, FALSE))->key, 51);
    splay_empty(&t);
}

/* GetElement counts in insertion order; a delete shifts the later ones. */
static void splay_get_element_counts_insertion_order(void **state)
{
    (void)state;
    RTL_GENERIC_TABLE t;
    RtlInitializeGenericTable(&t, splay_compare, splay_allocate, splay_free, NULL);
    ULONG keys[] = {30, 10, 20, 50, 40};
    for (int i = 0; i < 5; i++) {
        struct rec r = key(keys[i]);
        RtlInsertElementGenericTable(&t, &r, sizeof(r), NULL);
    }
    for (ULONG i = 0; i < 5; i++)
        assert_int_equal(((struct rec *)RtlGetElementGenericTable(&t, i))->key, keys[i]);
    for (int i = 4; i >= 0; i--)
        assert_int_equal(((struct rec *)RtlGetElementGenericTable(&t, (ULONG)i))->key, keys[i]);
    assert_int_equal(((struct rec *)RtlGetElementGenericTable(&t, 3))->key, 50);
    assert_int_equal(((struct rec *)RtlGetElementGenericTable(&t, 1))->key, 10);
    assert_null(RtlGetElementGenericTable(&t, 5));
    assert_null(RtlGetElementGenericTable(&t, (ULONG)-1));
    struct rec k = key(10);
    RtlDeleteElementGenericTable(&t, &k);
    assert_int_equal(((struct rec *)RtlGetElementGenericTable(&t, 1))->key, 20);
    assert_int_equal(((struct rec *)RtlGetElementGenericTable(&t, 3))->key, 40);
    /* avscan's teardown: the first element until the table is empty */
    splay_empty(&t);
    assert_int_equal(tc.frees, 5);
    assert_int_equal(tag_outstanding(), 0);
}

static void splay_full_lookup_feeds_full_insert(void **state)
{
    (void)state;
    RTL_GENERIC_TABLE t;
    RtlInitializeGenericTable(&t, splay_compare, splay_allocate, splay_free, NULL);
    PVOID where = (PVOID)0x1;
    TABLE_SEARCH_RESULT result;
    struct rec r = key(20);
    assert_null(RtlLookupElementGenericTableFull(&t, &r, &where, &result));
    assert_int_equal(result, TableEmptyTree);
    assert_ptr_equal(where, (PVOID)0x1); /* untouched for an empty tree */
    struct rec *e20 = RtlInsertElementGenericTableFull(&t, &r, sizeof(r), NULL, where, result);
    assert_int_equal(e20->key, 20);

    struct rec r10 = key(10);
    assert_null(RtlLookupElementGenericTableFull(&t, &r10, &where, &result));
    assert_int_equal(result, TableInsertAsLeft);
    assert_ptr_equal(where, (char *)e20 - SPLAY_HEADER);
    BOOLEAN fresh;
    RtlInsertElementGenericTableFull(&t, &r10, sizeof(r10), &fresh, where, result);
    assert_true(fresh);
    assert_ptr_equal(RtlLookupElementGenericTableFull(&t, &r, &where, &result), e20);
    assert_int_equal(result, TableFoundNode);
    assert_ptr_equal(where, (char *)e20 - SPLAY_HEADER);
    assert_ptr_equal(RtlInsertElementGenericTableFull(&t, &r, sizeof(r), &fresh, where, result),
                     e20);
    assert_false(fresh);
    assert_int_equal(RtlNumberGenericTableElements(&t), 2);
    splay_empty(&t);
}

/* A random mix of inserts, lookups and deletes agrees with a plain array. */
static void splay_random_operations_match_a_reference(void **state)
{
    (void)state;
    enum { KEYS = 512, OPS = 20000 };
    bool in[KEYS] = {false};
    ULONG count = 0;
    RTL_GENERIC_TABLE t;
    RtlInitializeGenericTable(&t, splay_compare, splay_allocate, splay_free, NULL);
    srand(15);
    for (int op = 0; op < OPS; op++) {
        struct rec r = key((ULONG)rand() % KEYS);
        switch (rand() % 3) {
        case 0: {
            BOOLEAN fresh;
            assert_non_null(RtlInsertElementGenericTable(&t, &r, sizeof(r), &fresh));
            assert_int_equal(fresh, !in[r.key]);
            count += !in[r.key];
            in[r.key] = true;
            break;
        }
        case 1:
            assert_int_equal(RtlDeleteElementGenericTable(&t, &r), in[r.key]);
            count -= in[r.key];
            in[r.key] = false;
            break;
        default:
            assert_int_equal(RtlLookupElementGenericTable(&t, &r) != NULL, in[r.key]);
        }
    }
    assert_int_equal(RtlNumberGenericTableElements(&t), count);
    ULONG seen = 0, last = 0;
    PVOID restart = NULL;
    for (struct rec *e = RtlEnumerateGenericTableWithoutSplaying(&t, &restart); e != NULL;
         e = RtlEnumerateGenericTableWithoutSplaying(&t, &restart)) {
        assert_true(in[e->key]);
        assert_true(seen == 0 || e->key > last);
        last = e->key;
        seen++;
    }
    assert_int_equal(seen, count);
    splay_empty(&t);
    assert_int_equal(tag_outstanding(), 0);
}

/* ---- AVL tables ---- */

static void avl_insert_allocates_links_plus_data(void **state)
{
    (void)state;
    RTL_AVL_TABLE t;
    RtlInitializeGenericTableAvl(&t, avl_compare, avl_allocate, avl_free, NULL);
    assert_true(RtlIsGenericTableEmptyAvl(&t));
    struct rec r = key(3);
    BOOLEAN fresh;
    struct rec *e = RtlInsertElementGenericTableAvl(&t, &r, sizeof(r), &fresh);
    assert_true(fresh);
    assert_int_equal(tc.last_size, 32 + sizeof(r));
    assert_ptr_equal(e, (char *)tc.last_block + 32);
    assert_ptr_equal(RtlInsertElementGenericTableAvl(&t, &r, sizeof(r), &fresh), e);
    assert_false(fresh);
    assert_ptr_equal(tc.first, &r);
    assert_ptr_equal(tc.second, e);
    /* the WDK's shape: BalancedRoot is a sentinel whose RightChild is the root */
    assert_ptr_equal(t.BalancedRoot.RightChild, (char *)e - AVL_HEADER);
    assert_ptr_equal(t.BalancedRoot.RightChild->Parent, &t.BalancedRoot);
    assert_true(RtlDeleteElementGenericTableAvl(&t, &r));
    assert_ptr_equal(tc.last_freed, (char *)e - AVL_HEADER);
    assert_int_equal(t.DeleteCount, 1);
    assert_true(RtlIsGenericTableEmptyAvl(&t));
}

/* An AVL table keeps no insertion order: GetElement counts in collation
 * order, from any starting point. */
static void avl_get_element_counts_collation_order(void **state)
{
    (void)state;
    RTL_AVL_TABLE t;
    RtlInitializeGenericTableAvl(&t, avl_compare, avl_allocate, avl_free, NULL);
    for (ULONG i = 0; i < 1000; i++) {
        struct rec r = key((i * 389) % 1000);
        RtlInsertElementGenericTableAvl(&t, &r, sizeof(r), NULL);
    }
    for (ULONG i = 0; i < 1000; i++)
        assert_int_equal(((struct rec *)RtlGetElementGenericTableAvl(&t, i))->key, i);
    for (ULONG i = 1000; i-- > 0;)
        assert_int_equal(((struct rec *)RtlGetElementGenericTableAvl(&t, i))->key, i);
    ULONG jumps[] = {500, 3, 997, 499, 0, 998, 250};
    for (int i = 0; i < 7; i++)
        assert_int_equal(((struct rec *)RtlGetElementGenericTableAvl(&t, jumps[i]))->key, jumps[i]);
    assert_null(RtlGetElementGenericTableAvl(&t, 1000));
    avl_empty(&t);
    assert_int_equal(tc.frees, 1000);
    assert_int_equal(tag_outstanding(), 0);
}

/* The tree's height below n; checks links, balance factors and order. */
static int check_subtree(PRTL_BALANCED_LINKS n, PRTL_BALANCED_LINKS parent, ULONG *count)
{
    if (n == NULL)
        return 0;
    assert_ptr_equal(n->Parent, parent);
    int l = check_subtree(n->LeftChild, n, count);
    int r = check_subtree(n->RightChild, n, count);
    assert_int_equal(n->Balance, r - l);
    assert_true(n->Balance >= -1 && n->Balance <= 1);
    const struct rec *me = (const struct rec *)((char *)n + AVL_HEADER);
    if (n->LeftChild != NULL)
        assert_true(((struct rec *)((char *)n->LeftChild + AVL_HEADER))->key < me->key);
    if (n->RightChild != NULL)
        assert_true(((struct rec *)((char *)n->RightChild + AVL_HEADER))->key > me->key);
    (*count)++;
    return (l > r ? l : r) + 1;
}

static void check_avl(RTL_AVL_TABLE *t)
{
    ULONG count = 0;
    int height = check_subtree(t->BalancedRoot.RightChild, &t->BalancedRoot, &count);
    assert_int_equal(count, t->NumberGenericTableElements);
    assert_int_equal(t->DepthOfTree, height);
    /* an AVL tree of height h has at least N(h) = N(h-1) + N(h-2) + 1 nodes */
    ULONG64 fewest = 0, before = 0;
    for (int h = 1; h <= height; h++) {
        ULONG64 next = h == 1 ? 1 : fewest + before + 1;
        before = fewest;
        fewest = next;
    }
    assert_true(count >= fewest);
}

static void avl_stays_balanced_under_random_operations(void **state)
{
    (void)state;
    enum { KEYS = 4096, OPS = 40000 };
    bool *in = calloc(KEYS, sizeof(bool));
    assert_non_null(in);
    RTL_AVL_TABLE t;
    RtlInitializeGenericTableAvl(&t, avl_compare, avl_allocate, avl_free, NULL);
    srand(1515);
    for (int op = 0; op < OPS; op++) {
        struct rec r = key((ULONG)rand() % KEYS);
        if (rand() % 5 < 3) {
            BOOLEAN fresh;
            RtlInsertElementGenericTableAvl(&t, &r, sizeof(r), &fresh);
            assert_int_equal(fresh, !in[r.key]);
            in[r.key] = true;
        } else {
            assert_int_equal(RtlDeleteElementGenericTableAvl(&t, &r), in[r.key]);
            in[r.key] = false;
        }
        if (op % 4000 == 0)
            check_avl(&t);
    }
    check_avl(&t);
    ULONG k = 0;
    for (struct rec *e = RtlEnumerateGenericTableAvl(&t, TRUE); e != NULL;
         e = RtlEnumerateGenericTableAvl(&t, FALSE)) {
        while (!in[k])
            k++;
        assert_int_equal(e->key, k++);
    }
    avl_empty(&t);

    /* keys in ascending order, the splay tree's worst case, stay shallow */
    for (ULONG i = 0; i < 65535; i++) {
        struct rec r = key(i);
        RtlInsertElementGenericTableAvl(&t, &r, sizeof(r), NULL);
    }
    check_avl(&t);
    assert_true(t.DepthOfTree <= 17);
    avl_empty(&t);
    assert_int_equal(tag_outstanding(), 0);
    free(in);
}

/* The table's RestartKey carries RtlEnumerateGenericTableAvl; deleting the
 * element it stands on lets the enumeration go on with the next. */
static void avl_enumerations_and_delete_while_enumerating(void **state)
{
    (void)state;
    RTL_AVL_TABLE t;
    RtlInitializeGenericTableAvl(&t, avl_compare, avl_allocate, avl_free, NULL);
    for (ULONG i = 0; i < 50; i++) {
        struct rec r = key((i * 13) % 50);
        RtlInsertElementGenericTableAvl(&t, &r, sizeof(r), NULL);
    }
    ULONG expect = 0;
    for (struct rec *e = RtlEnumerateGenericTableAvl(&t, TRUE); e != NULL;
         e = RtlEnumerateGenericTableAvl(&t, FALSE)) {
        assert_int_equal(e->key, expect++);
        assert_ptr_equal((char *)t.RestartKey + AVL_HEADER, e);
    }
    assert_int_equal(expect, 50);
    /* delete the even keys as the enumeration passes them */
    expect = 0;
    for (struct rec *e = RtlEnumerateGenericTableAvl(&t, TRUE); e != NULL;
         e = RtlEnumerateGenericTableAvl(&t, FALSE)) {
        assert_int_equal(e->key, expect++);
        if (e->key % 2 == 0) {
            struct rec k = key(e->key);
            RtlDeleteElementGenericTableAvl(&t, &k);
        }
    }
    assert_int_equal(expect, 50);
    assert_int_equal(RtlNumberGenericTableElementsAvl(&t), 25);
    PVOID restart = NULL;
    expect = 1;
    for (struct rec *e = RtlEnumerateGenericTableWithoutSplayingAvl(&t, &restart); e != NULL;
         e = RtlEnumerateGenericTableWithoutSplayingAvl(&t, &restart), expect += 2)
        assert_int_equal(e->key, expect);
    assert_int_equal(expect, 51);
    avl_empty(&t);
}

/* The left-most element equal to a key that matches a whole ten. */
static void avl_first_matching_is_the_leftmost_equal(void **state)
{
    (void)state;
    RTL_AVL_TABLE t;
    RtlInitializeGenericTableAvl(&t, avl_compare, avl_allocate, avl_free, NULL);
    for (ULONG i = 0; i < 100; i++) {
        struct rec r = key((i * 31) % 100);
        RtlInsertElementGenericTableAvl(&t, &r, sizeof(r), NULL);
    }
    struct rec probe = {57, 0, TRUE};
    PVOID restart = (PVOID)0x1;
    struct rec *e = RtlLookupFirstMatchingElementGenericTableAvl(&t, &probe, &restart);
    assert_non_null(e);
    assert_int_equal(e->key, 50);
    assert_ptr_equal((char *)restart + AVL_HEADER, e);
    assert_int_equal(((struct rec *)RtlEnumerateGenericTableWithoutSplayingAvl(&t, &restart))->key,
                     51);
    struct rec none = {120, 0, TRUE};
    assert_null(RtlLookupFirstMatchingElementGenericTableAvl(&t, &none, &restart));
    assert_null(restart);
    avl_empty(&t);
}

/* Skips entries the match function rejects, stops where it says so. */
static NTSTATUS even_tens_below_70(PRTL_AVL_TABLE t, PVOID user, PVOID match_data)
{
    (void)t;
    const struct rec *r = user;
    *(int *)match_data += 1;
    if (r->key >= 70)
        return STATUS_NO_MORE_MATCHES;
    return (r->key % 20 == 10) ? STATUS_NO_MATCH : STATUS_SUCCESS;
}

static void avl_like_a_directory_resumes_and_survives_deletes(void **state)
{
    (void)state;
    RTL_AVL_TABLE t;
    RtlInitializeGenericTableAvl(&t, avl_compare, avl_allocate, avl_free, NULL);
    for (ULONG i = 0; i < 10; i++) {
        struct rec r = key(i * 10);
        RtlInsertElementGenericTableAvl(&t, &r, sizeof(r), NULL);
    }
    int calls = 0;
    PVOID restart = NULL;
    ULONG deletes = 0;
    struct rec from = key(25); /* not in the table: the next one up is 30 */
    struct rec *e = RtlEnumerateGenericTableLikeADirectory(&t, even_tens_below_70, &calls, FALSE,
                                                           &restart, &deletes, &from);
    assert_int_equal(e->key, 40);
    assert_int_equal(calls, 2);
    e = RtlEnumerateGenericTableLikeADirectory(&t, even_tens_below_70, &calls, TRUE, &restart,
                                               &deletes, &from);
    assert_int_equal(e->key, 60);
    /* NextFlag FALSE resumes on the same entry */
    e = RtlEnumerateGenericTableLikeADirectory(&t, even_tens_below_70, &calls, FALSE, &restart,
                                               &deletes, &from);
    assert_int_equal(e->key, 60);
    assert_null(RtlEnumerateGenericTableLikeADirectory(&t, even_tens_below_70, &calls, TRUE,
                                                       &restart, &deletes, &from));
    assert_null(restart);

    /* From an exact match: FALSE returns it, TRUE the one after it. */
    struct rec at40 = key(40);
    restart = NULL;
    e = RtlEnumerateGenericTableLikeADirectory(&t, NULL, NULL, FALSE, &restart, &deletes, &at40);
    assert_int_equal(e->key, 40);
    restart = NULL;
    e = RtlEnumerateGenericTableLikeADirectory(&t, NULL, NULL, TRUE, &restart, &deletes, &at40);
    assert_int_equal(e->key, 50);

    /* The entry the restart key stands on is deleted: DeleteCount changed,
     * so the enumeration resumes from Buffer instead of the stale key. */
    restart = NULL;
    e = RtlEnumerateGenericTableLikeADirectory(&t, NULL, NULL, FALSE, &restart, &deletes, &at40);
    assert_int_equal(deletes, t.DeleteCount);
    assert_true(RtlDeleteElementGenericTableAvl(&t, &at40));
    e = RtlEnumerateGenericTableLikeADirectory(&t, NULL, NULL, TRUE, &restart, &deletes, &at40);
    assert_int_equal(e->key, 50);
    avl_empty(&t);
}

static void avl_full_lookup_feeds_full_insert_and_delete_ex(void **state)
{
    (void)state;
    RTL_AVL_TABLE t;
    RtlInitializeGenericTableAvl(&t, avl_compare, avl_allocate, avl_free, NULL);
    PVOID where = (PVOID)0x1;
    TABLE_SEARCH_RESULT result;
    struct rec r = key(20);
    assert_null(RtlLookupElementGenericTableFullAvl(&t, &r, &where, &result));
    assert_int_equal(result, TableEmptyTree);
    assert_ptr_equal(where, (PVOID)0x1);
    struct rec *e20 = RtlInsertElementGenericTableFullAvl(&t, &r, sizeof(r), NULL, where, result);
    struct rec r30 = key(30);
    assert_null(RtlLookupElementGenericTableFullAvl(&t, &r30, &where, &result));
    assert_int_equal(result, TableInsertAsRight);
    assert_ptr_equal(where, (char *)e20 - AVL_HEADER);
    BOOLEAN fresh;
    struct rec *e30 =
        RtlInsertElementGenericTableFullAvl(&t, &r30, sizeof(r30), &fresh, where, result);
    assert_true(fresh);
    assert_ptr_equal(RtlLookupElementGenericTableFullAvl(&t, &r30, &where, &result), e30);
    assert_int_equal(result, TableFoundNode);
    RtlDeleteElementGenericTableAvlEx(&t, where);
    assert_ptr_equal(tc.last_freed, (char *)e30 - AVL_HEADER);
    assert_int_equal(RtlNumberGenericTableElementsAvl(&t), 1);
    assert_int_equal(t.DeleteCount, 1);
    avl_empty(&t);
}

/* ---- misuse, from filter code ---- */

static ULONG misuse_results;

static FLT_PREOP_CALLBACK_STATUS misuse_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)data;
    (void)objects;
    *context = NULL;
    RTL_GENERIC_TABLE zero_splay;
    RTL_AVL_TABLE zero_avl;
    memset(&zero_splay, 0, sizeof(zero_splay));
    memset(&zero_avl, 0, sizeof(zero_avl));
    struct rec r = key(1);
    misuse_results = 0;
    if (RtlInsertElementGenericTable(&zero_splay, &r, sizeof(r), NULL) == NULL)
        misuse_results |= 1;
    if (RtlLookupElementGenericTableAvl(&zero_avl, &r) == NULL)
        misuse_results |= 2;

    RTL_AVL_TABLE t;
    RtlInitializeGenericTableAvl(&t, avl_compare, avl_allocate, avl_free, NULL);
    RtlInsertElementGenericTableAvl(&t, &r, sizeof(r), NULL);
    tc.bad_compare = 7; /* not an RTL_GENERIC_COMPARE_RESULTS: taken as greater */
    struct rec r5 = key(5);
    RtlInsertElementGenericTableAvl(&t, &r5, sizeof(r5), NULL);
    /* a stale "empty tree" result for a table that is not empty */
    struct rec r3 = key(3);
    RtlInsertElementGenericTableFullAvl(&t, &r3, sizeof(r3), NULL, NULL, TableEmptyTree);
    if (RtlNumberGenericTableElementsAvl(&t) == 3 &&
        ((struct rec *)RtlGetElementGenericTableAvl(&t, 1))->key == 3)
        misuse_results |= 4;
    avl_empty(&t);
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void misuse_is_reported(void **state)
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
    assert_int_equal(misuse_results, 7);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "RTL"), 4);
    const char *expect[] = {"RtlInitializeGenericTable never initialized",
                            "RtlInitializeGenericTableAvl never initialized",
                            "returned 7, which is not an RTL_GENERIC_COMPARE_RESULTS",
                            "do not fit the table"};
    for (ULONG i = 0; i < 4; i++) {
        struct fltsim_report rep;
        assert_status(fltsim_system_report_get(w.sys, i, &rep), STATUS_SUCCESS);
        if (strstr(rep.message, expect[i]) == NULL)
            fail_msg("report %lu \"%s\" lacks \"%s\"", (unsigned long)i, rep.message, expect[i]);
    }
    world_destroy(&w);
    assert_int_equal(tag_outstanding(), 0);
}

int main(void)
{
#define CASE(name) cmocka_unit_test_setup(name, reset)
    const struct CMUnitTest tests[] = {
        CASE(splay_insert_allocates_header_plus_data),
        CASE(splay_lookup_and_delete_free_the_block),
        CASE(splay_enumerations_follow_collation_order),
        CASE(splay_get_element_counts_insertion_order),
        CASE(splay_full_lookup_feeds_full_insert),
        CASE(splay_random_operations_match_a_reference),
        CASE(avl_insert_allocates_links_plus_data),
        CASE(avl_get_element_counts_collation_order),
        CASE(avl_stays_balanced_under_random_operations),
        CASE(avl_enumerations_and_delete_while_enumerating),
        CASE(avl_first_matching_is_the_leftmost_equal),
        CASE(avl_like_a_directory_resumes_and_survives_deletes),
        CASE(avl_full_lookup_feeds_full_insert_and_delete_ex),
        CASE(misuse_is_reported),
    };
#undef CASE
    return cmocka_run_group_tests(tests, NULL, NULL);
}
