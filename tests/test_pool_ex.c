/*
 * The pool routines beside ExAllocatePoolWithTag (nt/pool.c): ExAllocatePool3
 * and its extended parameters, the priority and quota forms, a failure that
 * raises (structured exception handling), POOL_ZERO_ALLOCATION,
 * and FltAllocatePoolAlignedWithTag / FltFreePoolAlignedWithTag: aligned as
 * the volume's device asks, counted per tag, mixing the free routines and a
 * leak at unload reported. Filter code runs in filter A's pre-create.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

#define TAG_P '3loP' /* 'Pol3' */
#define TAG_Q 'atoQ' /* 'Qota' */
#define TAG_L 'nglA' /* 'Algn' */

static ULONG64 outstanding(ULONG tag, ULONG64 *bytes)
{
    struct fltsim_pool_stats st;
    fltsim_pool_tag_stats(tag, &st);
    if (bytes != NULL)
        *bytes = st.outstanding_bytes;
    return st.outstanding;
}

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

static POOL_EXTENDED_PARAMETER param(POOL_EXTENDED_PARAMETER_TYPE type, ULONG64 value,
                                     bool optional)
{
    POOL_EXTENDED_PARAMETER p;
    memset(&p, 0, sizeof(p));
    p.Type = type;
    p.Optional = optional ? 1 : 0;
    p.Reserved2 = value;
    return p;
}

/* Valid extended parameters allocate as ExAllocatePool2 does; a required one
 * fltsim cannot honour, an invalid priority or an unknown type fails the
 * request, and optional ones are ignored. One NUMA node, 0, is simulated. */
static void pool3_checks_its_extended_parameters(void **state)
{
    (void)state;
    const POOL_FLAGS np = POOL_FLAG_NON_PAGED;
    struct {
        POOL_EXTENDED_PARAMETER p;
        POOL_FLAGS flags;
        bool ok;
    } cases[] = {
        {param(PoolExtendedParameterPriority, HighPoolPriority, false), np, true},
        {param(PoolExtendedParameterPriority, 5, false), np, false},
        {param(PoolExtendedParameterPriority, 5, true), np, true},
        {param(PoolExtendedParameterNumaNode, 0, false), np, true},
        {param(PoolExtendedParameterNumaNode, 3, false), np, false},
        {param(PoolExtendedParameterNumaNode, 3 | MM_ANY_NODE_OK, false), np, true},
        {param(PoolExtendedParameterNumaNode, 3, false), POOL_FLAG_PAGED, true},
        {param(PoolExtendedParameterMax, 0, false), np, false},
        {param(PoolExtendedParameterMax, 0, true), np, true},
        {param(PoolExtendedParameterSecurePool, 0, true), np, true},
    };
    ULONG64 before = outstanding(TAG_P, NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char *p = ExAllocatePool3(cases[i].flags, 48, TAG_P, &cases[i].p, 1);
        if (cases[i].ok != (p != NULL))
            fail_msg("case %zu: %s", i, p != NULL ? "allocated" : "refused");
        if (p != NULL) {
            assert_true(all_zero(p, 48));
            ExFreePoolWithTag(p, TAG_P);
        }
    }
    assert_null(ExAllocatePool3(np, 16, TAG_P, NULL, 1));
    assert_null(ExAllocatePool3(np, 16, 0, NULL, 0));
    PVOID plain = ExAllocatePool3(np, 16, TAG_P, NULL, 0);
    assert_non_null(plain);
    /* POOL_FLAG_CACHE_ALIGNED: a cache line */
    for (int i = 0; i < 8; i++) {
        PVOID line = ExAllocatePool2(np | POOL_FLAG_CACHE_ALIGNED, 24, TAG_P);
        assert_int_equal((uintptr_t)line % 64, 0);
        ExFreePoolWithTag(line, TAG_P);
    }
    assert_int_equal(outstanding(TAG_P, NULL), before + 1);
    ExFreePoolWithTag(plain, TAG_P);
    assert_int_equal(outstanding(TAG_P, NULL), before);
}

static void priority_quota_and_zero_forms_count_per_tag(void **state)
{
    (void)state;
    ULONG64 bytes;
    PVOID a = ExAllocatePoolWithTagPriority(NonPagedPoolNx, 100, TAG_Q, LowPoolPriority);
    PVOID b = ExAllocatePoolWithQuotaTag(PagedPool, 50, TAG_Q);
    PVOID c = ExAllocatePoolWithQuotaTag(PagedPool | POOL_QUOTA_FAIL_INSTEAD_OF_RAISE, 10, TAG_Q);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_int_equal(outstanding(TAG_Q, &bytes), 3);
    assert_int_equal(bytes, 160);
    ExFreePoolWithTag(a, TAG_Q);
    ExFreePoolWithTag(b, TAG_Q);
    ExFreePool(c);
    assert_int_equal(outstanding(TAG_Q, NULL), 0);

    /* POOL_ZERO_ALLOCATION zeroes (the block is likely the one just freed,
     * dirty; under AddressSanitizer a fresh block is filled with 0xbe). */
    unsigned char *dirty = ExAllocatePoolWithTag(PagedPool, 64, TAG_Q);
    memset(dirty, 0x5A, 64);
    ExFreePool(dirty);
    unsigned char *z = ExAllocatePoolWithTag(PagedPool | POOL_ZERO_ALLOCATION, 64, TAG_Q);
    assert_true(all_zero(z, 64));
    ExFreePool(z);
}

/* ---- filter code ---- */

struct fixture {
    struct test_world w;
    struct tf_filter a;
    void (*body)(struct fixture *f, PCFLT_RELATED_OBJECTS objects);
    PVOID p[8];
    int site_line;
};
static struct fixture *current;

static FLT_PREOP_CALLBACK_STATUS body_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                          PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)data;
    *context = NULL;
    if (current->body != NULL)
        current->body(current, objects);
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void as_filter(struct fixture *f, void (*body)(struct fixture *, PCFLT_RELATED_OBJECTS))
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

/* Each raising request in its own __try: the code it raised, or 0. The
 * pointers are volatile: they change inside __try and are read after it. */
static NTSTATUS raised[6];

static void raise_body(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    (void)objects;
    PVOID volatile p = NULL;
    memset(raised, 0, sizeof(raised));
    __try {
        p = ExAllocatePoolWithQuotaTag(PagedPool, 8, TAG_Q);
    } __except (raised[0] = GetExceptionCode(), EXCEPTION_EXECUTE_HANDLER) {
    }
    f->p[0] = p;
    f->p[1] = ExAllocatePoolWithQuotaTag(PagedPool | POOL_QUOTA_FAIL_INSTEAD_OF_RAISE, 8, TAG_Q);
    p = NULL;
    __try {
        p = ExAllocatePool2(POOL_FLAG_PAGED | POOL_FLAG_RAISE_ON_FAILURE, 8, TAG_Q);
    } __except (raised[2] = GetExceptionCode(), EXCEPTION_EXECUTE_HANDLER) {
    }
    f->p[2] = p;
    f->p[3] = ExAllocatePool2(POOL_FLAG_PAGED | POOL_FLAG_RAISE_ON_FAILURE, 8, TAG_P);
    p = NULL;
    __try {
        p = ExAllocatePoolWithTag(PagedPool | POOL_RAISE_IF_ALLOCATION_FAILURE, 8, TAG_Q);
    } __except (raised[4] = GetExceptionCode(), EXCEPTION_EXECUTE_HANDLER) {
    }
    f->p[4] = p;
    p = NULL;
    __try {
        p = ExAllocatePool2(POOL_FLAG_RAISE_ON_FAILURE, 8, TAG_P); /* no pool type */
    } __except (raised[5] = GetExceptionCode(), EXCEPTION_EXECUTE_HANDLER) {
    }
    f->p[5] = p;
}

/* A failure the caller asked to raise raises (the quota form without
 * POOL_QUOTA_FAIL_INSTEAD_OF_RAISE, POOL_FLAG_RAISE_ON_FAILURE,
 * POOL_RAISE_IF_ALLOCATION_FAILURE): STATUS_INSUFFICIENT_RESOURCES, or
 * STATUS_INVALID_PARAMETER for an invalid request; the others return NULL,
 * and a request that succeeds does not raise. Nothing is reported. */
static void failures_that_raise_raise(void **state)
{
    struct fixture *f = *state;
    struct fltsim_fault fault = {.kind = FLTSIM_FAULT_ALLOC, .tag = TAG_Q};
    assert_status(fltsim_fault_add(f->w.sys, &fault), STATUS_SUCCESS);
    as_filter(f, raise_body);
    assert_null(f->p[0]);
    assert_status(raised[0], STATUS_INSUFFICIENT_RESOURCES);
    assert_null(f->p[1]);
    assert_null(f->p[2]);
    assert_status(raised[2], STATUS_INSUFFICIENT_RESOURCES);
    assert_non_null(f->p[3]);
    assert_null(f->p[4]);
    assert_status(raised[4], STATUS_INSUFFICIENT_RESOURCES);
    assert_null(f->p[5]);
    assert_status(raised[5], STATUS_INVALID_PARAMETER);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
    ExFreePoolWithTag(f->p[3], TAG_P);
}

static void secure_body(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    (void)objects;
    POOL_EXTENDED_PARAMETER p = param(PoolExtendedParameterSecurePool, 0, false);
    f->p[0] = ExAllocatePool3(POOL_FLAG_NON_PAGED, 8, TAG_P, &p, 1);
}

static void pool3_required_secure_pool_is_refused_and_reported(void **state)
{
    struct fixture *f = *state;
    as_filter(f, secure_body);
    assert_null(f->p[0]);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "SIM"), 1);
}

static void aligned_body(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    PDEVICE_OBJECT device = objects->FileObject->DeviceObject;
    f->p[0] = FltAllocatePoolAlignedWithTag(objects->Instance, NonPagedPoolNx, 100, TAG_L);
    f->p[1] =
        FltAllocatePoolAlignedWithTag(objects->Instance, NonPagedPoolCacheAligned, 100, TAG_L);
    device->AlignmentRequirement = 511; /* FILE_512_BYTE_ALIGNMENT */
    f->p[2] = FltAllocatePoolAlignedWithTag(objects->Instance, PagedPool, 100, TAG_L);
    f->p[3] = FltAllocatePoolAlignedWithTag(objects->Instance, PagedPool, 0, TAG_L);
    device->AlignmentRequirement = 0;
    for (int i = 0; i < 4; i++)
        FltFreePoolAlignedWithTag(objects->Instance, f->p[i], TAG_L);
}

/* The buffer is aligned as the volume's device asks (and at least as pool
 * is); zero bytes get the least memory that keeps the alignment. */
static void aligned_pool_follows_the_device(void **state)
{
    struct fixture *f = *state;
    struct fltsim_pool_stats before;
    fltsim_pool_tag_stats(TAG_L, &before);
    as_filter(f, aligned_body);
    assert_int_equal((uintptr_t)f->p[0] % 16, 0);
    assert_int_equal((uintptr_t)f->p[1] % 64, 0);
    assert_int_equal((uintptr_t)f->p[2] % 512, 0);
    assert_non_null(f->p[3]);
    assert_int_equal((uintptr_t)f->p[3] % 512, 0);
    struct fltsim_pool_stats after;
    fltsim_pool_tag_stats(TAG_L, &after);
    assert_int_equal(after.total, before.total + 4);
    assert_int_equal(after.outstanding, 0);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

static void aligned_misuse_body(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    f->p[0] = FltAllocatePoolAlignedWithTag(objects->Instance, PagedPool, 10, 0);
    f->p[1] = FltAllocatePoolAlignedWithTag(NULL, PagedPool, 10, TAG_L);
    PVOID aligned = FltAllocatePoolAlignedWithTag(objects->Instance, PagedPool, 10, TAG_L);
    ExFreePool(aligned); /* the wrong free routine */
    PVOID plain = ExAllocatePoolWithTag(PagedPool, 10, TAG_L);
    FltFreePoolAlignedWithTag(objects->Instance, plain, TAG_L); /* the wrong one again */
    PVOID tagged = FltAllocatePoolAlignedWithTag(objects->Instance, PagedPool, 10, TAG_L);
    FltFreePoolAlignedWithTag(objects->Instance, tagged, TAG_P); /* another tag */
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    f->p[2] = FltAllocatePoolAlignedWithTag(objects->Instance, PagedPool, 10, TAG_L); /* V28 */
    KeLowerIrql(old);
    FltFreePoolAlignedWithTag(objects->Instance, f->p[2], TAG_L);
}

static void aligned_pool_misuse_is_reported(void **state)
{
    struct fixture *f = *state;
    as_filter(f, aligned_misuse_body);
    assert_null(f->p[0]);
    assert_null(f->p[1]);
    assert_int_equal(outstanding(TAG_L, NULL), 0); /* each block was still freed */
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V23"), 5);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V28"), 1);
    const char *expect[] = {"Tag is required", "Instance is required",
                            "must be freed by FltFreePoolAlignedWithTag",
                            "allocated by ExAllocatePool* and must be freed by ExFreePool",
                            "the block was allocated with tag 'Algn'"};
    for (ULONG i = 0; i < 5; i++) {
        struct fltsim_report r;
        assert_status(fltsim_system_report_get(f->w.sys, i, &r), STATUS_SUCCESS);
        if (strstr(r.message, expect[i]) == NULL)
            fail_msg("report %lu \"%s\" lacks \"%s\"", (unsigned long)i, r.message, expect[i]);
    }
}

static void aligned_leak_body(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    f->p[0] = FltAllocatePoolAlignedWithTag(objects->Instance, PagedPool, 24, TAG_L);
}

static void aligned_leak_is_reported_at_unload(void **state)
{
    struct fixture *f = *state;
    as_filter(f, aligned_leak_body);
    assert_status(fltsim_driver_unload(f->a.driver, 0), STATUS_SUCCESS);
    f->a.filter = NULL;
    f->a.driver = NULL;
    assert_int_equal(fltsim_system_report_count(f->w.sys), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(f->w.sys, 0, &r), STATUS_SUCCESS);
    assert_string_equal(r.rule, "V23");
    assert_non_null(
        strstr(r.message, "'Algn' (24 bytes) allocated at FltAllocatePoolAlignedWithTag"));
}

int main(void)
{
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pool3_checks_its_extended_parameters),
        cmocka_unit_test(priority_quota_and_zero_forms_count_per_tag),
        CASE(failures_that_raise_raise),
        CASE(pool3_required_secure_pool_is_refused_and_reported),
        CASE(aligned_pool_follows_the_device),
        CASE(aligned_pool_misuse_is_reported),
        CASE(aligned_leak_is_reported_at_unload),
    };
#undef CASE
    return FLTSIM_RUN_SUITE("pool_ex", tests);
}
