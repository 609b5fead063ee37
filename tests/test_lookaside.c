/*
 * Lookaside lists (nt/lookaside.c): NPAGED_LOOKASIDE_LIST,
 * PAGED_LOOKASIDE_LIST and LOOKASIDE_LIST_EX with their Initialize, Allocate,
 * Free, Delete and Flush routines: entries cached up to the depth and reused,
 * the caller's allocate and free routines called with the list's type, size
 * and tag, the counters, pool accounting per tag, the misuse Windows corrupts
 * memory on (another list's entry, after the delete, twice) reported with a
 * defined outcome, and at unload a list never deleted or entries never freed
 * reported once (V23). Concurrent allocation runs under both executors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

#define TAG_A 'aLsT' /* shows as 'TsLa' */
#define TAG_B 'bLsT'
#define TAG_LEAK 'kaeL' /* 'Leak' */

/* ---- a custom allocator that records how it is called ---- */

struct calls {
    LONG allocates, frees;
    POOL_TYPE last_type;
    SIZE_T last_size;
    ULONG last_tag;
    PVOID last_freed;
    PLOOKASIDE_LIST_EX last_lookaside;
};
static struct calls calls;

static PVOID custom_allocate(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    __atomic_add_fetch(&calls.allocates, 1, __ATOMIC_SEQ_CST);
    calls.last_type = PoolType;
    calls.last_size = NumberOfBytes;
    calls.last_tag = Tag;
    /* Pool again, as a filter's own allocate routine usually does. */
    return ExAllocatePoolWithTag(NonPagedPoolNx, NumberOfBytes, Tag);
}

static VOID custom_free(PVOID Buffer)
{
    __atomic_add_fetch(&calls.frees, 1, __ATOMIC_SEQ_CST);
    calls.last_freed = Buffer;
    ExFreePool(Buffer);
}

static PVOID custom_allocate_ex(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag,
                                PLOOKASIDE_LIST_EX Lookaside)
{
    calls.last_lookaside = Lookaside;
    return custom_allocate(PoolType, NumberOfBytes, Tag);
}

static VOID custom_free_ex(PVOID Buffer, PLOOKASIDE_LIST_EX Lookaside)
{
    calls.last_lookaside = Lookaside;
    custom_free(Buffer);
}

static ULONG64 outstanding(ULONG tag)
{
    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(tag, &st);
    return st.outstanding;
}

/* ---- running code as a filter's (reports land in the system) ---- */

struct fixture {
    struct test_world w;
    struct tf_filter a;
    void (*body)(struct fixture *f);
    NPAGED_LOOKASIDE_LIST np, np2;
    PAGED_LOOKASIDE_LIST pg;
    LOOKASIDE_LIST_EX ex;
    PVOID entries[16];
    int site_line;
    ULONG value;
};
static struct fixture *current;

static FLT_PREOP_CALLBACK_STATUS body_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                          PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)data;
    (void)objects;
    *context = NULL;
    if (current->body != NULL)
        current->body(current);
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

/* Runs body as filter A's code (its pre-create). */
static void as_filter(struct fixture *f, void (*body)(struct fixture *f))
{
    f->body = body;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    f->body = NULL;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    tf_reset_all();
    world_create(&f->w, 0);
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.pre = body_pre;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    memset(&calls, 0, sizeof(calls));
    current = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    world_destroy(&f->w);
    current = NULL;
    free(f);
    return 0;
}

static void unload_a(struct fixture *f)
{
    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    f->a.filter = NULL;
    f->a.driver = NULL;
}

/* The only report, which must have rule and every needle. */
static void assert_one_report(fltsim_system *sys, const char *rule, const char *const *needles)
{
    assert_int_equal(fltsim_system_report_count(sys), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(sys, 0, &r), STATUS_SUCCESS);
    assert_string_equal(r.rule, rule);
    for (; *needles != NULL; needles++)
        if (strstr(r.message, *needles) == NULL)
            fail_msg("report \"%s\" lacks \"%s\"", r.message, *needles);
}

/* ---- caching, depth and counters ---- */

/* Entries come from pool with the list's tag; freed ones are cached and come
 * back first (last in, first out); deleting gives the cached ones back. */
static void npaged_freed_entries_are_cached_and_reused(void **state)
{
    (void)state;
    NPAGED_LOOKASIDE_LIST *l = &current->np;
    ExInitializeNPagedLookasideList(l, NULL, NULL, 0, 48, TAG_A, 0);
    assert_int_equal(l->L.Depth, 4);
    assert_int_equal(l->L.MaximumDepth, 256);
    assert_int_equal(l->L.Type, NonPagedPool);
    assert_int_equal(l->L.Tag, TAG_A);
    assert_int_equal(l->L.Size, 48);
    assert_ptr_equal(l->L.Free, ExFreePool);

    PVOID e[3];
    for (int i = 0; i < 3; i++) {
        e[i] = ExAllocateFromNPagedLookasideList(l);
        assert_non_null(e[i]);
        assert_int_equal((ULONG_PTR)e[i] % 16, 0);
    }
    assert_int_equal(l->L.TotalAllocates, 3);
    assert_int_equal(l->L.AllocateMisses, 3);
    assert_int_equal(outstanding(TAG_A), 3);

    for (int i = 0; i < 3; i++)
        ExFreeToNPagedLookasideList(l, e[i]);
    assert_int_equal(l->L.TotalFrees, 3);
    assert_int_equal(l->L.FreeMisses, 0);
    assert_int_equal(ExQueryDepthSList(&l->L.ListHead), 3);
    assert_int_equal(outstanding(TAG_A), 3); /* cached entries are still pool */

    assert_ptr_equal(ExAllocateFromNPagedLookasideList(l), e[2]);
    assert_ptr_equal(ExAllocateFromNPagedLookasideList(l), e[1]);
    assert_int_equal(l->L.AllocateMisses, 3);
    assert_int_equal(l->L.TotalAllocates, 5);
    ExFreeToNPagedLookasideList(l, e[2]);
    ExFreeToNPagedLookasideList(l, e[1]);

    ExDeleteNPagedLookasideList(l);
    assert_int_equal(outstanding(TAG_A), 0);
}

/* Past the depth, a freed entry goes to the free routine; the allocate
 * routine sees the list's type, size and tag; delete frees what is cached. */
static void free_beyond_depth_goes_to_the_free_routine(void **state)
{
    (void)state;
    NPAGED_LOOKASIDE_LIST *l = &current->np;
    ExInitializeNPagedLookasideList(l, custom_allocate, custom_free, 0, 100, TAG_A, 0);
    assert_ptr_equal(l->L.Allocate, custom_allocate);
    PVOID e[10];
    for (int i = 0; i < 10; i++)
        e[i] = ExAllocateFromNPagedLookasideList(l);
    assert_int_equal(calls.allocates, 10);
    assert_int_equal(calls.last_type, NonPagedPool);
    assert_int_equal(calls.last_size, 100);
    assert_int_equal(calls.last_tag, TAG_A);
    for (int i = 0; i < 10; i++)
        ExFreeToNPagedLookasideList(l, e[i]);
    assert_int_equal(ExQueryDepthSList(&l->L.ListHead), 4);
    assert_int_equal(calls.frees, 6);
    assert_ptr_equal(calls.last_freed, e[9]);
    assert_int_equal(l->L.FreeMisses, 6);
    ExDeleteNPagedLookasideList(l);
    assert_int_equal(calls.frees, 10);
    assert_int_equal(outstanding(TAG_A), 0);
}

/* The depth doubles after a window of 128 allocations with many misses, up
 * to MaximumDepth, and comes down by one after each window without misses. */
static void depth_grows_with_misses_and_shrinks_without(void **state)
{
    (void)state;
    NPAGED_LOOKASIDE_LIST *l = &current->np;
    ExInitializeNPagedLookasideList(l, NULL, NULL, 0, 32, TAG_A, 0);
    enum { BURST = 300 };
    PVOID *e = calloc(BURST, sizeof(PVOID));
    assert_non_null(e);
    USHORT seen_max = 0;
    for (int round = 0; round < 12; round++) {
        for (int i = 0; i < BURST; i++)
            e[i] = ExAllocateFromNPagedLookasideList(l);
        for (int i = 0; i < BURST; i++)
            ExFreeToNPagedLookasideList(l, e[i]);
        assert_true(ExQueryDepthSList(&l->L.ListHead) <= l->L.Depth);
        if (l->L.Depth > seen_max)
            seen_max = l->L.Depth;
    }
    assert_int_equal(seen_max, 256); /* grew to the maximum, never past it */
    assert_true(l->L.LastTotalAllocates > 0);

    /* Steady use that the cache serves: one step down per window (windows
     * end every 128 allocations since the list was initialized). */
    while (l->L.TotalAllocates % 128 != 0)
        ExFreeToNPagedLookasideList(l, ExAllocateFromNPagedLookasideList(l));
    USHORT before = l->L.Depth;
    for (int i = 0; i < 128 * 3; i++)
        ExFreeToNPagedLookasideList(l, ExAllocateFromNPagedLookasideList(l));
    assert_int_equal(l->L.Depth, before - 3);
    free(e);
    ExDeleteNPagedLookasideList(l);
    assert_int_equal(outstanding(TAG_A), 0);
}

static void paged_list_allocates_paged_pool(void **state)
{
    (void)state;
    PAGED_LOOKASIDE_LIST *l = &current->pg;
    ExInitializePagedLookasideList(l, custom_allocate, custom_free,
                                   POOL_RAISE_IF_ALLOCATION_FAILURE, 24, TAG_B, 0);
    PVOID e = ExAllocateFromPagedLookasideList(l);
    assert_non_null(e);
    assert_int_equal(calls.last_type, PagedPool | POOL_RAISE_IF_ALLOCATION_FAILURE);
    assert_int_equal(calls.last_size, 24);
    ExFreeToPagedLookasideList(l, e);
    ExDeletePagedLookasideList(l);
    assert_int_equal(calls.frees, 1);
}

/* The flag bits reach the allocate routine as the pool type. */
static void npaged_nx_flag_gives_nx_pool(void **state)
{
    (void)state;
    NPAGED_LOOKASIDE_LIST *l = &current->np;
    ExInitializeNPagedLookasideList(l, custom_allocate, custom_free, POOL_NX_ALLOCATION, 16, TAG_A,
                                    0);
    ExFreeToNPagedLookasideList(l, ExAllocateFromNPagedLookasideList(l));
    assert_int_equal(calls.last_type, NonPagedPoolNx);
    assert_int_equal(l->L.Type, NonPagedPoolNx);
    ExDeleteNPagedLookasideList(l);
}

/* The Ex routines pass the list to its routines; Flush gives every cached
 * entry to the free routine and leaves the list usable. */
static void ex_list_routines_get_the_list_and_flush_frees_cached(void **state)
{
    (void)state;
    LOOKASIDE_LIST_EX *l = &current->ex;
    assert_status(ExInitializeLookasideListEx(l, custom_allocate_ex, custom_free_ex, PagedPool, 0,
                                              64, TAG_B, 0),
                  STATUS_SUCCESS);
    PVOID e[3];
    for (int i = 0; i < 3; i++)
        e[i] = ExAllocateFromLookasideListEx(l);
    assert_ptr_equal(calls.last_lookaside, l);
    assert_int_equal(calls.last_type, PagedPool);
    for (int i = 0; i < 3; i++)
        ExFreeToLookasideListEx(l, e[i]);
    assert_int_equal(calls.frees, 0);
    ExFlushLookasideListEx(l);
    assert_int_equal(calls.frees, 3);
    assert_int_equal(ExQueryDepthSList(&l->L.ListHead), 0);
    PVOID again = ExAllocateFromLookasideListEx(l);
    assert_non_null(again);
    assert_int_equal(calls.allocates, 4);
    ExFreeToLookasideListEx(l, again);
    ExDeleteLookasideListEx(l);
    assert_int_equal(calls.frees, 4);
    assert_int_equal(outstanding(TAG_B), 0);
}

/* Invalid or mutually exclusive flags fail with STATUS_INVALID_PARAMETER_5;
 * the valid ones reach the allocate routine as pool-type modifiers. */
static void ex_flags_are_checked_and_passed_on(void **state)
{
    (void)state;
    LOOKASIDE_LIST_EX *l = &current->ex;
    assert_status(ExInitializeLookasideListEx(l, NULL, NULL, NonPagedPoolNx,
                                              EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL |
                                                  EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE,
                                              64, TAG_B, 0),
                  STATUS_INVALID_PARAMETER_5);
    assert_status(ExInitializeLookasideListEx(l, NULL, NULL, NonPagedPoolNx, 0x4, 64, TAG_B, 0),
                  STATUS_INVALID_PARAMETER_5);
    assert_status(ExInitializeLookasideListEx(l, custom_allocate_ex, custom_free_ex, NonPagedPoolNx,
                                              EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE, 64, TAG_B,
                                              0),
                  STATUS_SUCCESS);
    ExFreeToLookasideListEx(l, ExAllocateFromLookasideListEx(l));
    assert_int_equal(calls.last_type, NonPagedPoolNx | POOL_QUOTA_FAIL_INSTEAD_OF_RAISE);
    ExDeleteLookasideListEx(l);
    assert_status(ExInitializeLookasideListEx(l, custom_allocate_ex, custom_free_ex, NonPagedPoolNx,
                                              EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL, 64, TAG_B,
                                              0),
                  STATUS_SUCCESS);
    ExFreeToLookasideListEx(l, ExAllocateFromLookasideListEx(l));
    assert_int_equal(calls.last_type, NonPagedPoolNx | POOL_RAISE_IF_ALLOCATION_FAILURE);
    ExDeleteLookasideListEx(l);
}

/* An entry freed with ExFreePool is no longer the list's: no leak later. */
static void entry_freed_to_pool_leaves_the_list(void **state)
{
    struct fixture *f = *state;
    ExInitializeNPagedLookasideList(&f->np, NULL, NULL, 0, 32, TAG_A, 0);
    PVOID e = ExAllocateFromNPagedLookasideList(&f->np);
    ExFreePool(e);
    assert_int_equal(outstanding(TAG_A), 0);
    ExDeleteNPagedLookasideList(&f->np);
    unload_a(f);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* ---- misuse, reported from filter code ---- */

static void free_to_wrong_list_body(struct fixture *f)
{
    ExInitializeNPagedLookasideList(&f->np, NULL, NULL, 0, 32, TAG_A, 0);
    ExInitializeNPagedLookasideList(&f->np2, NULL, NULL, 0, 64, TAG_B, 0);
    PVOID e = ExAllocateFromNPagedLookasideList(&f->np);
    ExFreeToNPagedLookasideList(&f->np2, e);
    f->value = ExQueryDepthSList(&f->np.L.ListHead) * 10 + ExQueryDepthSList(&f->np2.L.ListHead);
    ExDeleteNPagedLookasideList(&f->np);
    ExDeleteNPagedLookasideList(&f->np2);
}

/* Windows would cache the entry on the other list (of another size); fltsim
 * reports it and gives it back to its own list. */
static void free_to_wrong_list_is_reported_and_goes_home(void **state)
{
    struct fixture *f = *state;
    as_filter(f, free_to_wrong_list_body);
    assert_int_equal(f->value, 10);
    const char *needles[] = {"ExFreeToNPagedLookasideList", "'TsLa', 32-byte entries",
                             "not from this one", "back to its own list", NULL};
    assert_one_report(f->w.sys, "V23", needles);
    assert_int_equal(outstanding(TAG_A), 0);
}

static void free_after_delete_body(struct fixture *f)
{
    ExInitializeNPagedLookasideList(&f->np, custom_allocate, custom_free, 0, 32, TAG_A, 0);
    PVOID e = ExAllocateFromNPagedLookasideList(&f->np);
    ExDeleteNPagedLookasideList(&f->np);
    ExFreeToNPagedLookasideList(&f->np, e);
}

/* Freed to its list after the delete: reported, and given to the list's
 * free routine so nothing leaks. */
static void free_after_delete_is_reported_and_freed(void **state)
{
    struct fixture *f = *state;
    as_filter(f, free_after_delete_body);
    const char *needles[] = {"the list was deleted before the entry came back", NULL};
    assert_one_report(f->w.sys, "V23", needles);
    assert_int_equal(calls.frees, 1);
    assert_int_equal(outstanding(TAG_A), 0);
}

static void double_free_body(struct fixture *f)
{
    ExInitializeNPagedLookasideList(&f->np, NULL, NULL, 0, 32, TAG_A, 0);
    PVOID e = ExAllocateFromNPagedLookasideList(&f->np);
    ExFreeToNPagedLookasideList(&f->np, e);
    ExFreeToNPagedLookasideList(&f->np, e);
    static char not_an_entry[32] __attribute__((aligned(16)));
    ExFreeToNPagedLookasideList(&f->np, not_an_entry);
    f->value = ExQueryDepthSList(&f->np.L.ListHead);
    ExDeleteNPagedLookasideList(&f->np);
}

/* A second free (which on Windows pushes the entry twice and loops the list)
 * and a pointer that never came from a list are reported and ignored. */
static void double_free_and_foreign_pointer_are_ignored(void **state)
{
    struct fixture *f = *state;
    as_filter(f, double_free_body);
    assert_int_equal(f->value, 1);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V23"), 2);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(f->w.sys, 0, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "already freed"));
    assert_int_equal(outstanding(TAG_A), 0);
}

static void uninitialized_body(struct fixture *f)
{
    memset(&f->np, 0, sizeof(f->np));
    f->entries[0] = ExAllocateFromNPagedLookasideList(&f->np);
    ExDeleteNPagedLookasideList(&f->np);
    ExInitializeNPagedLookasideList(&f->np, NULL, NULL, 0, 2, TAG_A, 0); /* below minimum */
    f->value = f->np.L.Size;
    f->entries[1] = ExAllocateFromNPagedLookasideList(&f->np);
    ExFreeToNPagedLookasideList(&f->np, f->entries[1]);
    /* initialized again without a delete: the old list goes first */
    ExInitializeNPagedLookasideList(&f->np, NULL, NULL, 0, 16, TAG_A, 0);
    ExDeleteNPagedLookasideList(&f->np);
    ExDeleteNPagedLookasideList(&f->np); /* twice */
}

static void uninitialized_deleted_twice_and_reinitialized_are_reported(void **state)
{
    struct fixture *f = *state;
    as_filter(f, uninitialized_body);
    assert_null(f->entries[0]);
    assert_int_equal(f->value, LOOKASIDE_MINIMUM_BLOCK_SIZE);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V23"), 5);
    const char *expect[] = {"never initialized or was deleted; NULL returned",
                            "never initialized or was already deleted",
                            "below LOOKASIDE_MINIMUM_BLOCK_SIZE", "initialized already",
                            "never initialized or was already deleted"};
    for (ULONG i = 0; i < 5; i++) {
        struct fltsim_report r;
        assert_status(fltsim_system_report_get(f->w.sys, i, &r), STATUS_SUCCESS);
        if (strstr(r.message, expect[i]) == NULL)
            fail_msg("report %lu \"%s\" lacks \"%s\"", (unsigned long)i, r.message, expect[i]);
    }
    assert_int_equal(outstanding(TAG_A), 0);
}

static void paged_at_dispatch_body(struct fixture *f)
{
    ExInitializePagedLookasideList(&f->pg, NULL, NULL, 0, 32, TAG_B, 0);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    PVOID e = ExAllocateFromPagedLookasideList(&f->pg);
    KeLowerIrql(old);
    ExFreeToPagedLookasideList(&f->pg, e);
    ExDeletePagedLookasideList(&f->pg);
}

static void paged_list_above_apc_is_reported(void **state)
{
    struct fixture *f = *state;
    as_filter(f, paged_at_dispatch_body);
    const char *needles[] = {"ExAllocateFromPagedLookasideList", NULL};
    assert_one_report(f->w.sys, "V28", needles);
}

static void list_in_freed_pool_body(struct fixture *f)
{
    NPAGED_LOOKASIDE_LIST *l = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*l), TAG_B);
    ExInitializeNPagedLookasideList(l, NULL, NULL, 0, 32, TAG_A, 0);
    ExFreeToNPagedLookasideList(l, ExAllocateFromNPagedLookasideList(l));
    ExFreePoolWithTag(l, TAG_B);
    f->value = (ULONG)outstanding(TAG_A);
}

/* Freeing the memory a list lives in without deleting the list corrupts the
 * system's list of lookaside lists on Windows: reported, and the list
 * deleted (its cached entry freed) first. */
static void list_freed_with_its_memory_is_reported_and_deleted(void **state)
{
    struct fixture *f = *state;
    as_filter(f, list_in_freed_pool_body);
    assert_int_equal(f->value, 0);
    const char *needles[] = {"never deleted", "ExDeleteNPagedLookasideList", NULL};
    assert_one_report(f->w.sys, "V23", needles);
}

/* ---- leaks at unload (V23) ---- */

static void leak_body(struct fixture *f)
{
    ExInitializeNPagedLookasideList(&f->np, NULL, NULL, 0, 40, TAG_LEAK, 0);
    for (int i = 0; i < 3; i++) {
        f->site_line = __LINE__ + 1;
        f->entries[i] = ExAllocateFromNPagedLookasideList(&f->np);
    }
    ExFreeToNPagedLookasideList(&f->np, f->entries[0]);
}

/* A list never deleted with one cached entry and two held: one report naming
 * the list, its tag, where it was initialized and where the entries were
 * allocated, and no pool report for the same blocks. */
static void list_never_deleted_is_one_report_at_unload(void **state)
{
    struct fixture *f = *state;
    as_filter(f, leak_body);
    assert_int_equal(outstanding(TAG_LEAK), 3);
    unload_a(f);
    char site[64];
    snprintf(site, sizeof(site), "test_lookaside.c:%d", f->site_line);
    const char *needles[] = {"A unloads: lookaside list",
                             "'Leak', NPAGED_LOOKASIDE_LIST of 40-byte entries",
                             "was never deleted (ExDeleteNPagedLookasideList)",
                             "1 cached entry",
                             "2 entries allocated at",
                             site,
                             "never freed (ExFreeToNPagedLookasideList)",
                             NULL};
    assert_one_report(f->w.sys, "V23", needles);
}

static void deleted_with_held_body(struct fixture *f)
{
    leak_body(f);
    ExDeleteNPagedLookasideList(&f->np);
}

static void entries_held_past_delete_are_reported_at_unload(void **state)
{
    struct fixture *f = *state;
    as_filter(f, deleted_with_held_body);
    assert_int_equal(outstanding(TAG_LEAK), 2);
    unload_a(f);
    const char *needles[] = {"deleted): 2 entries allocated at test_lookaside.c", NULL};
    assert_one_report(f->w.sys, "V23", needles);
}

static void clean_body(struct fixture *f)
{
    leak_body(f);
    ExFreeToNPagedLookasideList(&f->np, f->entries[1]);
    ExFreeToNPagedLookasideList(&f->np, f->entries[2]);
    ExDeleteNPagedLookasideList(&f->np);
}

/* A list made with POOL_RAISE_IF_ALLOCATION_FAILURE raises
 * STATUS_INSUFFICIENT_RESOURCES when its pool fails, and is whole after it:
 * the next allocation succeeds and the delete leaves nothing behind. */
static void raise_body(struct fixture *f)
{
    ExInitializeNPagedLookasideList(&f->np, NULL, NULL, POOL_RAISE_IF_ALLOCATION_FAILURE, 32,
                                    TAG_A, 0);
    struct fltsim_fault fault = {.kind = FLTSIM_FAULT_ALLOC, .tag = TAG_A, .nth = 1};
    assert_status(fltsim_fault_add(f->w.sys, &fault), STATUS_SUCCESS);
    PVOID volatile entry = NULL;
    f->value = 0;
    __try {
        entry = ExAllocateFromNPagedLookasideList(&f->np);
    } __except (f->value = (ULONG)GetExceptionCode(), EXCEPTION_EXECUTE_HANDLER) {
    }
    f->entries[0] = entry;
    f->entries[1] = ExAllocateFromNPagedLookasideList(&f->np);
    ExFreeToNPagedLookasideList(&f->np, f->entries[1]);
    ExDeleteNPagedLookasideList(&f->np);
}

static void raising_list_raises_and_stays_whole(void **state)
{
    struct fixture *f = *state;
    as_filter(f, raise_body);
    assert_null(f->entries[0]);
    assert_status((NTSTATUS)f->value, STATUS_INSUFFICIENT_RESOURCES);
    assert_non_null(f->entries[1]);
    unload_a(f);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_int_equal(outstanding(TAG_A), 0);
}

static void list_deleted_and_entries_freed_no_report(void **state)
{
    struct fixture *f = *state;
    as_filter(f, clean_body);
    unload_a(f);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    assert_int_equal(outstanding(TAG_LEAK), 0);
}

/* A driver that opted in to NX pool gets NX lists (wdm.h's POOL_NX_OPTIN). */
static void nx_opt_in_body(struct fixture *f)
{
    ExInitializeDriverRuntime(DrvRtPoolNxOptIn);
    ExInitializeNPagedLookasideList(&f->np, custom_allocate, custom_free, 0, 32, TAG_A, 0);
    ExFreeToNPagedLookasideList(&f->np, ExAllocateFromNPagedLookasideList(&f->np));
    ExDeleteNPagedLookasideList(&f->np);
}

static void driver_nx_opt_in_makes_npaged_lists_nx(void **state)
{
    struct fixture *f = *state;
    ExInitializeNPagedLookasideList(&f->np, custom_allocate, custom_free, 0, 32, TAG_A, 0);
    ExFreeToNPagedLookasideList(&f->np, ExAllocateFromNPagedLookasideList(&f->np));
    ExDeleteNPagedLookasideList(&f->np);
    assert_int_equal(calls.last_type, NonPagedPool);
    as_filter(f, nx_opt_in_body);
    assert_int_equal(calls.last_type, NonPagedPoolNx);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* ---- threads ---- */

struct churn {
    NPAGED_LOOKASIDE_LIST *list;
    int rounds;
};

static void churn_thread(void *arg)
{
    struct churn *c = arg;
    PVOID held[8];
    for (int r = 0; r < c->rounds; r++) {
        for (int i = 0; i < 8; i++) {
            held[i] = ExAllocateFromNPagedLookasideList(c->list);
            memset(held[i], r & 0xff, 32);
        }
        for (int i = 0; i < 8; i++)
            ExFreeToNPagedLookasideList(c->list, held[i]);
    }
}

/* Threads allocating and freeing through one list: every entry is handed to
 * one thread at a time and the counts add up. */
static void concurrent_allocate_and_free_add_up(void **state)
{
    struct fixture *f = *state;
    ExInitializeNPagedLookasideList(&f->np, NULL, NULL, 0, 32, TAG_A, 0);
    struct churn c = {&f->np, 400};
    fltsim_thread *t[4];
    for (int i = 0; i < 4; i++)
        assert_status(fltsim_thread_spawn(f->w.sys, 1000, 4001 + (ULONG)i, churn_thread, &c, &t[i]),
                      STATUS_SUCCESS);
    for (int i = 0; i < 4; i++)
        fltsim_thread_join(t[i]);
    assert_int_equal(f->np.L.TotalAllocates, 4 * 400 * 8);
    assert_int_equal(f->np.L.TotalFrees, 4 * 400 * 8);
    assert_int_equal(outstanding(TAG_A), ExQueryDepthSList(&f->np.L.ListHead));
    ExDeleteNPagedLookasideList(&f->np);
    assert_int_equal(outstanding(TAG_A), 0);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

int main(void)
{
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        CASE(npaged_freed_entries_are_cached_and_reused),
        CASE(free_beyond_depth_goes_to_the_free_routine),
        CASE(depth_grows_with_misses_and_shrinks_without),
        CASE(paged_list_allocates_paged_pool),
        CASE(npaged_nx_flag_gives_nx_pool),
        CASE(ex_list_routines_get_the_list_and_flush_frees_cached),
        CASE(ex_flags_are_checked_and_passed_on),
        CASE(entry_freed_to_pool_leaves_the_list),
        CASE(free_to_wrong_list_is_reported_and_goes_home),
        CASE(free_after_delete_is_reported_and_freed),
        CASE(double_free_and_foreign_pointer_are_ignored),
        CASE(uninitialized_deleted_twice_and_reinitialized_are_reported),
        CASE(paged_list_above_apc_is_reported),
        CASE(list_freed_with_its_memory_is_reported_and_deleted),
        CASE(list_never_deleted_is_one_report_at_unload),
        CASE(raising_list_raises_and_stays_whole),
        CASE(entries_held_past_delete_are_reported_at_unload),
        CASE(list_deleted_and_entries_freed_no_report),
        CASE(driver_nx_opt_in_makes_npaged_lists_nx),
        CASE(concurrent_allocate_and_free_add_up),
    };
#undef CASE
    return FLTSIM_RUN_SUITE("lookaside", tests);
}
