/*
 * Interlocked singly linked lists (nt/slist.c): ExInitializeSListHead,
 * ExInterlockedPush/Pop/FlushSList, ExQueryDepthSList and wdm.h's
 * InterlockedPushEntrySList family: last in, first out, the depth and the
 * WDK's x64 header layout, misuse reported from filter code, and threads
 * pushing and popping one list under both executors (and ThreadSanitizer).
 */
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

struct item {
    SLIST_ENTRY entry; /* 16-byte aligned, so the item is too */
    int id;
    LONG seen;
};

static PSLIST_ENTRY first_in_header(const SLIST_HEADER *h)
{
    return (PSLIST_ENTRY)(ULONG_PTR)(h->HeaderX64.NextEntry << 4);
}

static void push_pop_is_lifo_and_tracks_depth(void **state)
{
    (void)state;
    SLIST_HEADER head;
    memset(&head, 0xAB, sizeof(head));
    ExInitializeSListHead(&head);
    assert_int_equal(ExQueryDepthSList(&head), 0);
    assert_null(ExInterlockedPopEntrySList(&head, NULL));

    struct item *it = calloc(3, sizeof(*it));
    assert_non_null(it);
    assert_null(ExInterlockedPushEntrySList(&head, &it[0].entry, NULL));
    assert_ptr_equal(InterlockedPushEntrySList(&head, &it[1].entry), &it[0].entry);
    assert_ptr_equal(ExInterlockedPushEntrySList(&head, &it[2].entry, NULL), &it[1].entry);
    assert_int_equal(ExQueryDepthSList(&head), 3);
    /* The WDK's x64 layout: depth in the low 16 bits, the first entry's
     * address shifted right by four in NextEntry. */
    assert_int_equal(head.HeaderX64.Depth, 3);
    assert_ptr_equal(first_in_header(&head), &it[2].entry);
    ULONGLONG sequence = head.HeaderX64.Sequence;

    assert_ptr_equal(ExInterlockedPopEntrySList(&head, NULL), &it[2].entry);
    assert_ptr_equal(InterlockedPopEntrySList(&head), &it[1].entry);
    assert_int_equal(ExQueryDepthSList(&head), 1);
    assert_true(head.HeaderX64.Sequence != sequence);

    InterlockedPushEntrySList(&head, &it[1].entry);
    PSLIST_ENTRY chain = InterlockedFlushSList(&head);
    assert_ptr_equal(chain, &it[1].entry);
    assert_ptr_equal(chain->Next, &it[0].entry);
    assert_null(chain->Next->Next);
    assert_int_equal(ExQueryDepthSList(&head), 0);
    assert_null(first_in_header(&head));
    assert_null(ExInterlockedFlushSList(&head));
    assert_null(ExInterlockedPopEntrySList(&head, NULL));
    free(it);
}

/* ---- misuse from filter code ---- */

static struct item *misuse_items;
static SLIST_HEADER misuse_head;
static USHORT misuse_depth;

static FLT_PREOP_CALLBACK_STATUS misuse_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)data;
    (void)objects;
    *context = NULL;
    ExInitializeSListHead(&misuse_head);
    ExInterlockedPushEntrySList(&misuse_head, &misuse_items[0].entry, NULL);
    /* the same entry again: Windows would make the list loop */
    ExInterlockedPushEntrySList(&misuse_head, &misuse_items[0].entry, NULL);
    /* an entry that is not 16-byte aligned */
    ExInterlockedPushEntrySList(&misuse_head, (PSLIST_ENTRY)((char *)&misuse_items[1] + 8), NULL);
    ExInterlockedPushEntrySList(&misuse_head, NULL, NULL);
    ExInterlockedPopEntrySList(NULL, NULL);
    misuse_depth = ExQueryDepthSList(&misuse_head);
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void misuse_is_reported_and_refused(void **state)
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
    misuse_items = calloc(2, sizeof(*misuse_items));
    assert_non_null(misuse_items);
    HANDLE h = world_open(&w, L"C:\\a.txt", GENERIC_READ);
    assert_status(fltsim_io_close(w.sys, h), STATUS_SUCCESS);
    assert_int_equal(misuse_depth, 1);
    assert_int_equal(fltsim_system_report_count_rule(w.sys, "KE"), 4);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(w.sys, 0, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "already the list's first entry"));
    assert_status(fltsim_system_report_get(w.sys, 1, &r), STATUS_SUCCESS);
    assert_non_null(strstr(r.message, "16-byte aligned"));
    assert_ptr_equal(ExInterlockedPopEntrySList(&misuse_head, NULL), &misuse_items[0].entry);
    assert_null(ExInterlockedPopEntrySList(&misuse_head, NULL));
    free(misuse_items);
    world_destroy(&w);
}

/* ---- threads ---- */

#define PER_THREAD 300
#define THREADS 4
#define ROUNDS 20

struct churn {
    SLIST_HEADER head;
    struct item *items; /* THREADS * PER_THREAD */
    LONG next_index;
    LONG popped; /* all pops, all threads */
};

/* Each round a thread pushes what it holds and pops as many entries
 * (anyone's) back, so an entry is always in exactly one place: the list or
 * one thread's hands. A pop that finds the list empty yields. */
static void churn_thread(void *arg)
{
    struct churn *c = arg;
    int me = (int)__atomic_fetch_add(&c->next_index, 1, __ATOMIC_SEQ_CST);
    LARGE_INTEGER zero = {.QuadPart = 0};
    PSLIST_ENTRY hands[PER_THREAD];
    for (int i = 0; i < PER_THREAD; i++)
        hands[i] = &c->items[me * PER_THREAD + i].entry;
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < PER_THREAD; i++)
            InterlockedPushEntrySList(&c->head, hands[i]);
        for (int n = 0; n < PER_THREAD;) {
            PSLIST_ENTRY e = InterlockedPopEntrySList(&c->head);
            if (e == NULL) {
                KeDelayExecutionThread(KernelMode, FALSE, &zero);
                continue;
            }
            hands[n++] = e;
            __atomic_add_fetch(&c->popped, 1, __ATOMIC_SEQ_CST);
        }
    }
    for (int i = 0; i < PER_THREAD; i++)
        __atomic_add_fetch(&CONTAINING_RECORD(hands[i], struct item, entry)->seen, 1,
                           __ATOMIC_SEQ_CST);
}

static void threads_push_and_pop_every_entry_once(void **state)
{
    (void)state;
    struct test_world w;
    world_create(&w, 0);
    struct churn *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->items = calloc(THREADS * PER_THREAD, sizeof(struct item));
    assert_non_null(c->items);
    ExInitializeSListHead(&c->head);
    fltsim_thread *t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_status(fltsim_thread_spawn(w.sys, 1000, 4001 + (ULONG)i, churn_thread, c, &t[i]),
                      STATUS_SUCCESS);
    for (int i = 0; i < THREADS; i++)
        fltsim_thread_join(t[i]);
    assert_int_equal(ExQueryDepthSList(&c->head), 0);
    assert_int_equal(c->popped, THREADS * PER_THREAD * ROUNDS);
    /* every entry ended in exactly one thread's hands */
    for (int i = 0; i < THREADS * PER_THREAD; i++)
        assert_int_equal(c->items[i].seen, 1);
    free(c->items);
    free(c);
    world_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(push_pop_is_lifo_and_tracks_depth),
        cmocka_unit_test(misuse_is_reported_and_refused),
        cmocka_unit_test(threads_push_and_pop_every_entry_once),
    };
    return FLTSIM_RUN_SUITE("slist", tests);
}
