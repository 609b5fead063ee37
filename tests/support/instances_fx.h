/*
 * PRIVATE to the instances and lookups suites: the fixture they share (a
 * standard world per case, with room for three test filters, a volume D: and
 * what filter hooks record) and the helpers both use to load test filters,
 * mount D:, find instances and open files. Static inline, because the short
 * names (load, touch, mount_d) mean other things in other suites.
 */
#ifndef FLTSIM_INSTANCES_FX_H
#define FLTSIM_INSTANCES_FX_H

#include <stdlib.h>

#include "fltsim_test.h"

/* What attach_during_dismount_hook's calls returned (test_instances.c). */
struct late_calls {
    NTSTATUS attach, volume_reference;
};

/* What lookup_filters_pre saw from inside a callback (test_lookups.c). */
struct filter_lookups {
    NTSTATUS count_status, list_status, by_name_status, missing_status;
    ULONG count, listed;
    bool saw_a, saw_b;
    PFLT_FILTER by_name, missing;
};

/* Results that filter hooks write live here, not on a test's stack: a hook can
 * run again while world_destroy unloads the filters, after the test returned. */
struct fx {
    struct test_world w;
    struct tf_filter a, b, c;
    PFLT_VOLUME d;
    NTSTATUS seen;
    struct late_calls late;
    struct filter_lookups lookups;
};

/* A fresh world per case, destroyed by fx_teardown. Each suite clears its
 * own records before calling it. */
static inline int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    world_create(&f->w, 0);
    *state = f;
    return 0;
}

static inline int fx_teardown(void **state)
{
    struct fx *f = *state;
    if (f->w.sys != NULL)
        world_destroy(&f->w);
    free(f);
    return 0;
}

/* Loads a test filter that registers IRP_MJ_CREATE only. */
static inline void load(struct fx *f, struct tf_filter *tf, const char *name, const char *altitude,
                        ULONG instance_flags)
{
    tf_init(tf, name, altitude);
    tf_only(tf, IRP_MJ_CREATE);
    tf->instance_flags = instance_flags;
    assert_status(tf_load(f->w.sys, tf), STATUS_SUCCESS);
}

/* Mounts D: = \Device\HarddiskVolume2, memfs with \d.txt, reported as FAT. */
static inline PFLT_VOLUME mount_d(struct fx *f)
{
    struct fltsim_memfs *fs = NULL;
    assert_status(fltsim_memfs_create(NULL, &fs), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(fs, L"\\d.txt", "delta", 5), STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume2",
                                      .drive_letter = L'D',
                                      .ops = &fltsim_memfs_ops,
                                      .fs = fs,
                                      .fs_type = FLT_FSTYPE_FAT};
    assert_status(fltsim_volume_mount(f->w.sys, &vp, &f->d), STATUS_SUCCESS);
    return f->d;
}

/* The instance of filter named name on volume (referenced: release it), or
 * NULL with the status in *status. */
static inline PFLT_INSTANCE find_instance(PFLT_FILTER filter, PFLT_VOLUME volume, PCWSTR name,
                                          NTSTATUS *status)
{
    UNICODE_STRING n;
    RtlInitUnicodeString(&n, name);
    PFLT_INSTANCE found = NULL;
    *status = FltGetVolumeInstanceFromName(filter, volume, &n, &found);
    return found;
}

/* Opens and closes path; the recorder then shows which instances saw the create. */
static inline void touch(struct fx *f, PCWSTR path)
{
    rec_reset();
    HANDLE h = world_open(&f->w, path, GENERIC_READ);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* V23 reports so far (leaks, unreleased references among them). */
static inline ULONG v23(struct fx *f)
{
    return fltsim_system_report_count_rule(f->w.sys, "V23");
}

#endif /* FLTSIM_INSTANCES_FX_H */
