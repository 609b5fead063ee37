/*
 * Lookups that hand out references (SPEC 1.4, 2.1, 2.4): the volume, filter
 * and instance an object leads to, volumes by name, the walk up and down an
 * instance stack, the enumerations with their STATUS_BUFFER_TOO_SMALL
 * contract, and a filter reference that holds up unload. Every reference a
 * case takes is released, and no V23 report may follow. Attaching and
 * detaching the instances they find is test_instances.c.
 */
#include "instances_fx.h"

/* ------------------------------------------------------------------------- */
/* Fixture                                                                   */
/* ------------------------------------------------------------------------- */

static int completes; /* TeardownComplete events seen by count_trace, atomic */

static void count_trace(void *ctx, const struct fltsim_event *ev)
{
    (void)ctx;
    if (ev->type == FLTSIM_EV_TEARDOWN_COMPLETE)
        __atomic_add_fetch(&completes, 1, __ATOMIC_SEQ_CST);
}

/* The shared fixture (instances_fx.h), with the count of teardowns reset. */
static int completes_fx_setup(void **state)
{
    __atomic_store_n(&completes, 0, __ATOMIC_SEQ_CST);
    return fx_setup(state);
}

/* ========================================================================= */
/* Lookups that hand out references (SPEC 1.4, 2.1, 2.4)                     */
/* ========================================================================= */

/* SPEC 1.4, 2.4 (rundown references): FltGetVolumeFromInstance and
 * FltGetFilterFromInstance return referenced objects: releasing them is balanced (no V23). */
static void get_volume_and_filter_from_instance(void **state)
{
    struct fx *f = *state;
    load(f, &f->a, "A", "300000", 0);
    PFLT_INSTANCE inst = f->a.last_instance;
    PFLT_VOLUME v = NULL;
    PFLT_FILTER flt = NULL;
    assert_status(FltGetVolumeFromInstance(inst, &v), STATUS_SUCCESS);
    assert_status(FltGetFilterFromInstance(inst, &flt), STATUS_SUCCESS);
    assert_ptr_equal(v, f->w.volume);
    assert_ptr_equal(flt, f->a.filter);
    FltObjectDereference(v);
    FltObjectDereference(flt);
    assert_int_equal(v23(f), 0);
}

/* SPEC 2.4 (references; name forms are [SIM]): FltGetVolumeFromName takes "C:", "\??\C:", the
 * device name with or without a trailing backslash; an unknown name is STATUS_FLT_VOLUME_NOT_FOUND.
 */
static void get_volume_from_name_forms(void **state)
{
    struct fx *f = *state;
    mount_d(f);
    load(f, &f->a, "A", "300000", 0);
    static const PCWSTR c_names[] = {L"C:", L"\\??\\C:", L"\\Device\\HarddiskVolume1",
                                     L"\\Device\\HarddiskVolume1\\"};
    for (size_t i = 0; i < sizeof(c_names) / sizeof(c_names[0]); i++) {
        UNICODE_STRING n;
        RtlInitUnicodeString(&n, c_names[i]);
        PFLT_VOLUME v = NULL;
        NTSTATUS status = FltGetVolumeFromName(f->a.filter, &n, &v);
        if (v != NULL)
            FltObjectDereference(v);
        if (!NT_SUCCESS(status) || v != f->w.volume)
            fail_msg("FltGetVolumeFromName(name #%u) did not return C:", (unsigned)i);
    }
    UNICODE_STRING dn = RTL_CONSTANT_STRING(L"D:");
    PFLT_VOLUME d = NULL;
    assert_status(FltGetVolumeFromName(f->a.filter, &dn, &d), STATUS_SUCCESS);
    assert_ptr_equal(d, f->d);
    FltObjectDereference(d);

    static const PCWSTR unknown[] = {L"Z:", L"\\??\\Z:", L"\\Device\\HarddiskVolume9",
                                     L"HarddiskVolume1"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        UNICODE_STRING n;
        RtlInitUnicodeString(&n, unknown[i]);
        PFLT_VOLUME v = NULL;
        NTSTATUS status = FltGetVolumeFromName(f->a.filter, &n, &v);
        if (v != NULL)
            FltObjectDereference(v);
        assert_status(status, STATUS_FLT_VOLUME_NOT_FOUND);
        assert_null(v);
    }
    assert_int_equal(v23(f), 0);
}

/* SPEC 2.4 (references): FltGetVolumeFromFileObject: the volume a file object was opened on. */
static void get_volume_from_file_object(void **state)
{
    struct fx *f = *state;
    mount_d(f);
    load(f, &f->a, "A", "300000", 0);
    HANDLE hc = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    HANDLE hd = world_open(&f->w, L"D:\\d.txt", GENERIC_READ);
    PFLT_VOLUME vc = NULL, vd = NULL;
    NTSTATUS sc = FltGetVolumeFromFileObject(f->a.filter, fltsim_io_file_object(f->w.sys, hc), &vc);
    NTSTATUS sd = FltGetVolumeFromFileObject(f->a.filter, fltsim_io_file_object(f->w.sys, hd), &vd);
    if (vc != NULL)
        FltObjectDereference(vc);
    if (vd != NULL)
        FltObjectDereference(vd);
    assert_status(fltsim_io_close(f->w.sys, hc), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, hd), STATUS_SUCCESS);
    assert_status(sc, STATUS_SUCCESS);
    assert_status(sd, STATUS_SUCCESS);
    assert_ptr_equal(vc, f->w.volume);
    assert_ptr_equal(vd, f->d);
    assert_int_equal(v23(f), 0);
}

/* SPEC 2.4, 12.8: FltGetVolumeInstanceFromName: the filter's instance by name on a volume;
 * [SIM] STATUS_FLT_INSTANCE_NOT_FOUND when there is none. */
static void get_volume_instance_from_name(void **state)
{
    struct fx *f = *state;
    load(f, &f->a, "A", "300000", 0);
    load(f, &f->b, "B", "200000", 0);
    NTSTATUS status;
    PFLT_INSTANCE i = find_instance(f->a.filter, f->w.volume, L"A Instance", &status);
    if (i != NULL)
        FltObjectDereference(i);
    assert_status(status, STATUS_SUCCESS);
    assert_ptr_equal(i, f->a.last_instance);
    i = find_instance(f->a.filter, f->w.volume, L"B Instance", &status);
    assert_null(i);
    assert_status(status, STATUS_FLT_INSTANCE_NOT_FOUND);
    i = find_instance(f->a.filter, f->w.volume, L"Nope", &status);
    assert_null(i);
    assert_status(status, STATUS_FLT_INSTANCE_NOT_FOUND);
    assert_int_equal(v23(f), 0);
}

/* SPEC 2.1, 2.3 (higher altitude = farther from the file system): top,
 * bottom, upper and lower over three instances loaded out of altitude
 * order; STATUS_NO_MORE_ENTRIES past either end. Each result is referenced. */
static void top_bottom_upper_lower_walk_the_stack(void **state)
{
    struct fx *f = *state;
    load(f, &f->b, "B", "200000", 0);
    load(f, &f->a, "A", "300000", 0);
    load(f, &f->c, "C", "100000", 0);
    PFLT_INSTANCE ia = f->a.last_instance, ib = f->b.last_instance, ic = f->c.last_instance;

    struct {
        NTSTATUS status;
        PFLT_INSTANCE got;
    } r[8];
    r[0].status = FltGetTopInstance(f->w.volume, &r[0].got);
    r[1].status = FltGetBottomInstance(f->w.volume, &r[1].got);
    r[2].status = FltGetUpperInstance(ic, &r[2].got);
    r[3].status = FltGetUpperInstance(ib, &r[3].got);
    r[4].status = FltGetUpperInstance(ia, &r[4].got);
    r[5].status = FltGetLowerInstance(ia, &r[5].got);
    r[6].status = FltGetLowerInstance(ib, &r[6].got);
    r[7].status = FltGetLowerInstance(ic, &r[7].got);
    for (int k = 0; k < 8; k++)
        if (r[k].got != NULL)
            FltObjectDereference(r[k].got);

    const PFLT_INSTANCE want[8] = {ia, ic, ib, ia, NULL, ib, ic, NULL};
    for (int k = 0; k < 8; k++) {
        assert_status(r[k].status, want[k] != NULL ? STATUS_SUCCESS : STATUS_NO_MORE_ENTRIES);
        assert_ptr_equal(r[k].got, want[k]);
    }
    assert_int_equal(v23(f), 0);
}

/* SPEC 2.4 (references): FltEnumerateInstances: STATUS_BUFFER_TOO_SMALL with the count needed when
 * the list is short; otherwise every instance, each referenced. */
static void enumerate_instances_too_small_then_references(void **state)
{
    struct fx *f = *state;
    mount_d(f);
    load(f, &f->a, "A", "300000", 0);
    load(f, &f->b, "B", "200000", 0);
    load(f, &f->c, "C", "100000", 0);
    PFLT_INSTANCE list[8] = {0};
    ULONG n = 0;
    assert_status(FltEnumerateInstances(f->w.volume, NULL, list, 2, &n), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(n, 3);
    n = 0;
    assert_status(FltEnumerateInstances(f->w.volume, NULL, NULL, 0, &n), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(n, 3);

    NTSTATUS status;
    PFLT_INSTANCE ia = find_instance(f->a.filter, f->w.volume, L"A Instance", &status);
    PFLT_INSTANCE ib = find_instance(f->b.filter, f->w.volume, L"B Instance", &status);
    PFLT_INSTANCE ic = find_instance(f->c.filter, f->w.volume, L"C Instance", &status);
    n = 0;
    assert_status(FltEnumerateInstances(f->w.volume, NULL, list, 8, &n), STATUS_SUCCESS);
    bool seen_a = false, seen_b = false, seen_c = false;
    for (ULONG k = 0; k < n; k++) {
        seen_a |= list[k] == ia;
        seen_b |= list[k] == ib;
        seen_c |= list[k] == ic;
        FltObjectDereference(list[k]);
    }
    PFLT_INSTANCE found[3] = {ia, ib, ic};
    for (int k = 0; k < 3; k++)
        if (found[k] != NULL)
            FltObjectDereference(found[k]);
    assert_non_null(ia);
    assert_non_null(ib);
    assert_non_null(ic);
    assert_int_equal(n, 3);
    assert_true(seen_a && seen_b && seen_c);

    /* By filter: A has one instance on C: and one on D:. */
    n = 0;
    assert_status(FltEnumerateInstances(NULL, f->a.filter, list, 8, &n), STATUS_SUCCESS);
    PFLT_VOLUME volumes[2] = {NULL, NULL};
    for (ULONG k = 0; k < n && k < 2; k++) {
        PFLT_VOLUME v = NULL;
        if (NT_SUCCESS(FltGetVolumeFromInstance(list[k], &v))) {
            volumes[k] = v;
            FltObjectDereference(v);
        }
    }
    for (ULONG k = 0; k < n; k++)
        FltObjectDereference(list[k]);
    assert_int_equal(n, 2);
    assert_true((volumes[0] == f->w.volume && volumes[1] == f->d) ||
                (volumes[0] == f->d && volumes[1] == f->w.volume));
    assert_int_equal(v23(f), 0);
}

/* SPEC 2.4 (references): FltEnumerateVolumes: the same contract over mounted volumes. */
static void enumerate_volumes_too_small_then_references(void **state)
{
    struct fx *f = *state;
    mount_d(f);
    load(f, &f->a, "A", "300000", 0);
    PFLT_VOLUME list[4] = {0};
    ULONG n = 0;
    assert_status(FltEnumerateVolumes(f->a.filter, list, 1, &n), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(n, 2);
    n = 0;
    assert_status(FltEnumerateVolumes(f->a.filter, list, 4, &n), STATUS_SUCCESS);
    bool seen_c = false, seen_d = false;
    for (ULONG k = 0; k < n; k++) {
        seen_c |= list[k] == f->w.volume;
        seen_d |= list[k] == f->d;
        FltObjectDereference(list[k]);
    }
    assert_int_equal(n, 2);
    assert_true(seen_c && seen_d);
    assert_int_equal(v23(f), 0);
}

/* SPEC 11 (STATUS_BUFFER_TOO_SMALL): FltGetVolumeName: STATUS_BUFFER_TOO_SMALL with the size in
 * bytes, then the device name. */
static void get_volume_name_too_small_then_name(void **state)
{
    struct fx *f = *state;
    static const WCHAR expected[] = L"\\Device\\HarddiskVolume1";
    const ULONG bytes = (ULONG)(sizeof(expected) - sizeof(WCHAR));
    ULONG needed = 0;
    assert_status(FltGetVolumeName(f->w.volume, NULL, &needed), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(needed, bytes);

    WCHAR buffer[64];
    UNICODE_STRING name = {0, (USHORT)(bytes - sizeof(WCHAR)), buffer};
    needed = 0;
    assert_status(FltGetVolumeName(f->w.volume, &name, &needed), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(needed, bytes);

    name.MaximumLength = (USHORT)bytes;
    assert_status(FltGetVolumeName(f->w.volume, &name, NULL), STATUS_SUCCESS);
    assert_int_equal(name.Length, bytes);
    assert_memory_equal(buffer, expected, bytes);

    name.MaximumLength = sizeof(buffer);
    name.Length = 0;
    assert_status(FltGetVolumeName(f->w.volume, &name, &needed), STATUS_SUCCESS);
    assert_int_equal(name.Length, bytes);
    assert_memory_equal(buffer, expected, bytes);
}

/* SPEC 2.4 (FLT_FILESYSTEM_TYPE): FltGetFileSystemType, from a volume or an instance (SPEC 2.4
 * types). */
static void get_file_system_type_of_volume_and_instance(void **state)
{
    struct fx *f = *state;
    mount_d(f);
    load(f, &f->a, "A", "300000", 0);
    FLT_FILESYSTEM_TYPE type = FLT_FSTYPE_UNKNOWN;
    assert_status(FltGetFileSystemType(f->w.volume, &type), STATUS_SUCCESS);
    assert_int_equal(type, FLT_FSTYPE_NTFS);
    type = FLT_FSTYPE_UNKNOWN;
    assert_status(FltGetFileSystemType(f->d, &type), STATUS_SUCCESS);
    assert_int_equal(type, FLT_FSTYPE_FAT);
    NTSTATUS status;
    PFLT_INSTANCE on_c = find_instance(f->a.filter, f->w.volume, L"A Instance", &status);
    PFLT_INSTANCE on_d = find_instance(f->a.filter, f->d, L"A Instance", &status);
    FLT_FILESYSTEM_TYPE type_c = FLT_FSTYPE_UNKNOWN, type_d = FLT_FSTYPE_UNKNOWN;
    NTSTATUS sc = FltGetFileSystemType(on_c, &type_c);
    NTSTATUS sd = FltGetFileSystemType(on_d, &type_d);
    if (on_c != NULL)
        FltObjectDereference(on_c);
    if (on_d != NULL)
        FltObjectDereference(on_d);
    assert_status(sc, STATUS_SUCCESS);
    assert_status(sd, STATUS_SUCCESS);
    assert_int_equal(type_c, FLT_FSTYPE_NTFS);
    assert_int_equal(type_d, FLT_FSTYPE_FAT);
}

static FLT_PREOP_CALLBACK_STATUS lookup_filters_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                                    PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)data;
    (void)objects;
    (void)context;
    struct filter_lookups *r = tf->user;
    r->count_status = FltEnumerateFilters(NULL, 0, &r->count);
    PFLT_FILTER list[8] = {0};
    r->list_status = FltEnumerateFilters(list, 8, &r->listed);
    for (ULONG k = 0; NT_SUCCESS(r->list_status) && k < r->listed && k < 8; k++) {
        r->saw_a |= list[k] == tf->filter;
        r->saw_b |= list[k] != tf->filter && list[k] != NULL;
        FltObjectDereference(list[k]);
    }
    UNICODE_STRING b = RTL_CONSTANT_STRING(L"B");
    UNICODE_STRING nope = RTL_CONSTANT_STRING(L"Nope");
    r->by_name_status = FltGetFilterFromName(&b, &r->by_name);
    if (r->by_name != NULL)
        FltObjectDereference(r->by_name);
    r->missing_status = FltGetFilterFromName(&nope, &r->missing);
    if (r->missing != NULL)
        FltObjectDereference(r->missing);
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

/* SPEC 1.4 (references): FltEnumerateFilters and FltGetFilterFromName find the system through the
 * calling filter: from a filter callback they see the loaded filters (with
 * references); from a thread running no filter code they find none. */
static void enumerate_filters_and_filter_from_name(void **state)
{
    struct fx *f = *state;
    struct filter_lookups *r = &f->lookups;
    tf_init(&f->a, "A", "300000");
    tf_only(&f->a, IRP_MJ_CREATE);
    f->a.user = r;
    f->a.pre = lookup_filters_pre;
    assert_status(tf_load(f->w.sys, &f->a), STATUS_SUCCESS);
    load(f, &f->b, "B", "200000", 0);

    ULONG outside = 99;
    assert_status(FltEnumerateFilters(NULL, 0, &outside), STATUS_SUCCESS);
    assert_int_equal(outside, 0);
    UNICODE_STRING a = RTL_CONSTANT_STRING(L"A");
    PFLT_FILTER flt = NULL;
    assert_status(FltGetFilterFromName(&a, &flt), STATUS_FLT_FILTER_NOT_FOUND);
    assert_null(flt);

    touch(f, L"C:\\a.txt");
    assert_status(r->count_status, STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(r->count, 2);
    assert_status(r->list_status, STATUS_SUCCESS);
    assert_int_equal(r->listed, 2);
    assert_true(r->saw_a && r->saw_b);
    assert_status(r->by_name_status, STATUS_SUCCESS);
    assert_ptr_equal(r->by_name, f->b.filter);
    assert_status(r->missing_status, STATUS_FLT_FILTER_NOT_FOUND);
    assert_null(r->missing);
    assert_int_equal(v23(f), 0);
}

/* SPEC 1.4: the filter reference FltGetFilterFromInstance hands out is a
 * rundown reference: the unload waits (200 ms bound) until it is released. */
static void filter_from_instance_reference_delays_unload(void **state)
{
    struct fx *f = *state;
    load(f, &f->a, "A", "300000", 0);
    fltsim_system_set_trace(f->w.sys, count_trace, NULL);
    PFLT_FILTER flt = NULL;
    assert_status(FltGetFilterFromInstance(f->a.last_instance, &flt), STATUS_SUCCESS);
    struct unload_job job = {.drv = f->a.driver, .status = STATUS_PENDING};
    fltsim_thread *thread = unload_in_background(f->w.sys, &job);
    /* The unload runs until it blocks on the reference: the deterministic
     * executor runs it inside this wait, the concurrent one in parallel. */
    assert_status(fltsim_system_wait_idle(f->w.sys, 300), STATUS_TIMEOUT);
    bool torn_down = __atomic_load_n(&completes, __ATOMIC_SEQ_CST) >= 1;
    int done_while_referenced = __atomic_load_n(&job.done, __ATOMIC_SEQ_CST);
    FltObjectDereference(flt);
    fltsim_thread_join(thread);
    f->a.filter = NULL;
    assert_true(torn_down);
    assert_int_equal(done_while_referenced, 0);
    assert_status(job.status, STATUS_SUCCESS);
}

#define FX(test) cmocka_unit_test_setup_teardown(test, completes_fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX(get_volume_and_filter_from_instance),
        FX(get_volume_from_name_forms),
        FX(get_volume_from_file_object),
        FX(get_volume_instance_from_name),
        FX(top_bottom_upper_lower_walk_the_stack),
        FX(enumerate_instances_too_small_then_references),
        FX(enumerate_volumes_too_small_then_references),
        FX(get_volume_name_too_small_then_name),
        FX(get_file_system_type_of_volume_and_instance),
        FX(enumerate_filters_and_filter_from_name),
        FX(filter_from_instance_reference_delays_unload),
    };
    return FLTSIM_RUN_SUITE("lookups", tests);
}
