/*
 * The management routines of fltUser.h (issue 19 item 2): a test thread
 * spawned with fltsim_thread_spawn acts as the program and enumerates
 * filters, volumes and a volume's instances, asks for DOS names; the answers
 * are checked in the test's own thread after the program returns. Under both
 * executors. Test filters: Alpha (385250.5) and Beta (40500) on C: and D:;
 * Gamma (300000, no automatic attachment) for FilterAttach and FilterDetach.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <fltUser.h>

#include <fltsim/program.h>

#include "fltsim_test.h"

struct fixture {
    struct test_world w; /* C: = \Device\HarddiskVolume1, NTFS */
    struct tf_filter alpha, beta, gamma;
};

static int setup(void **state)
{
    tf_reset_all();
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    world_create(&f->w, 0);
    struct fltsim_memfs *fs;
    assert_status(fltsim_memfs_create(NULL, &fs), STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume2",
                                      .drive_letter = L'D',
                                      .ops = &fltsim_memfs_ops,
                                      .fs = fs,
                                      .fs_type = FLT_FSTYPE_FAT};
    PFLT_VOLUME d = NULL;
    assert_status(fltsim_volume_mount(f->w.sys, &vp, &d), STATUS_SUCCESS);
    tf_init(&f->alpha, "Alpha", "385250.5");
    tf_init(&f->beta, "Beta", "40500");
    assert_status(tf_load(f->w.sys, &f->alpha), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->beta), STATUS_SUCCESS);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    world_destroy(&f->w);
    free(f);
    return 0;
}

/* Runs fn(ctx) as a user program of the fixture's system and waits for it. */
static void as_program(struct fixture *f, void (*fn)(void *ctx), void *ctx)
{
    fltsim_thread *t = NULL;
    assert_status(fltsim_thread_spawn(f->w.sys, 3000, 3001, fn, ctx, &t), STATUS_SUCCESS);
    fltsim_thread_join(t);
}

/* A counted wide name as ASCII text (the test names are ASCII). */
static void narrow(const WCHAR *w, USHORT bytes, char *out, size_t size)
{
    size_t n = bytes / sizeof(WCHAR);
    if (n >= size)
        n = size - 1;
    for (size_t k = 0; k < n; k++)
        out[k] = (char)w[k];
    out[n] = '\0';
}

#define MAX_ROWS 8

struct answers {
    HRESULT first, next[MAX_ROWS], close, close_again;
    DWORD returned[MAX_ROWS + 1];
    char names[MAX_ROWS + 1][128];
    ULONG instances[MAX_ROWS + 1];
    HANDLE handle;
    int rows;
};

/* ---- filters ---- */

static void filters_program(void *ctx)
{
    struct answers *a = ctx;
    _Alignas(8) BYTE buf[512];
    FILTER_FULL_INFORMATION *fi = (FILTER_FULL_INFORMATION *)buf;
    a->first =
        FilterFindFirst(FilterFullInformation, buf, sizeof(buf), &a->returned[0], &a->handle);
    HRESULT hr = a->first;
    for (int k = 0; SUCCEEDED(hr) && k < MAX_ROWS; k++) {
        narrow(fi->FilterNameBuffer, fi->FilterNameLength, a->names[k], sizeof(a->names[k]));
        a->instances[k] = fi->NumberOfInstances;
        a->rows++;
        hr = a->next[k] =
            FilterFindNext(a->handle, FilterFullInformation, buf, sizeof(buf), &a->returned[k + 1]);
    }
    a->close = FilterFindClose(a->handle);
    a->close_again = FilterFindClose(a->handle);
}

static void fltlib_filters_are_enumerated_then_no_more_items(void **state)
{
    struct fixture *f = *state;
    struct answers a = {.rows = 0};
    as_program(f, filters_program, &a);
    assert_int_equal(a.first, S_OK);
    assert_int_equal(a.rows, 2);
    assert_string_equal(a.names[0], "Alpha");
    assert_string_equal(a.names[1], "Beta");
    assert_int_equal(a.instances[0], 2);
    assert_int_equal(a.instances[1], 2);
    assert_int_equal(a.returned[0], offsetof(FILTER_FULL_INFORMATION, FilterNameBuffer) + 10);
    assert_int_equal(a.next[1], HRESULT_FROM_WIN32(ERROR_NO_MORE_ITEMS));
    assert_int_equal(a.close, S_OK);
    assert_int_equal(a.close_again, HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE));
}

struct small {
    HANDLE handle;
    HRESULT first, bad_class, next, bad_class_first;
    DWORD needed, returned;
    char name[64];
    HANDLE bad_handle;
};

static void small_buffer_program(void *ctx)
{
    struct small *s = ctx;
    _Alignas(8) BYTE buf[256];
    s->first = FilterFindFirst(FilterFullInformation, buf, 4, &s->needed, &s->handle);
    s->bad_class =
        FilterFindNext(s->handle, (FILTER_INFORMATION_CLASS)9, buf, sizeof(buf), &s->returned);
    s->next = FilterFindNext(s->handle, FilterFullInformation, buf, sizeof(buf), &s->returned);
    FILTER_FULL_INFORMATION *fi = (FILTER_FULL_INFORMATION *)buf;
    narrow(fi->FilterNameBuffer, fi->FilterNameLength, s->name, sizeof(s->name));
    FilterFindClose(s->handle);
    DWORD r = 0;
    s->bad_class_first =
        FilterFindFirst((FILTER_INFORMATION_CLASS)9, buf, sizeof(buf), &r, &s->bad_handle);
}

static void fltlib_small_buffer_gives_the_size_and_keeps_the_entry(void **state)
{
    struct fixture *f = *state;
    struct small s = {.first = 0};
    as_program(f, small_buffer_program, &s);
    assert_int_equal(s.first, HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER));
    assert_int_equal(s.needed, offsetof(FILTER_FULL_INFORMATION, FilterNameBuffer) + 10);
    assert_int_equal(s.bad_class, HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER));
    assert_int_equal(s.next, S_OK);
    assert_int_equal(s.returned, s.needed);
    assert_string_equal(s.name, "Alpha");
    assert_int_equal(s.bad_class_first, HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER));
    assert_ptr_equal(s.bad_handle, INVALID_HANDLE_VALUE);
}

/* The snapshot of FindFirst outlives an unload made before FindNext. */
static void first_only_program(void *ctx)
{
    struct answers *a = ctx;
    _Alignas(8) BYTE buf[512];
    a->first =
        FilterFindFirst(FilterFullInformation, buf, sizeof(buf), &a->returned[0], &a->handle);
}

static void next_program(void *ctx)
{
    struct answers *a = ctx;
    _Alignas(8) BYTE buf[512];
    FILTER_FULL_INFORMATION *fi = (FILTER_FULL_INFORMATION *)buf;
    a->next[0] =
        FilterFindNext(a->handle, FilterFullInformation, buf, sizeof(buf), &a->returned[1]);
    narrow(fi->FilterNameBuffer, fi->FilterNameLength, a->names[1], sizeof(a->names[1]));
    a->close = FilterFindClose(a->handle);
}

static void fltlib_find_enumerates_the_snapshot_of_find_first(void **state)
{
    struct fixture *f = *state;
    struct answers a = {.rows = 0};
    as_program(f, first_only_program, &a);
    assert_int_equal(a.first, S_OK);
    assert_status(fltsim_driver_unload(f->beta.driver, FLTSIM_UNLOAD_MANDATORY), STATUS_SUCCESS);
    as_program(f, next_program, &a);
    assert_int_equal(a.next[0], S_OK);
    assert_string_equal(a.names[1], "Beta");
    assert_int_equal(a.close, S_OK);
}

struct aggregate {
    HRESULT first, next, end;
    ULONG flags, instances;
    char name[2][64], altitude[2][64];
};

static void aggregate_program(void *ctx)
{
    struct aggregate *a = ctx;
    _Alignas(8) BYTE buf[512];
    FILTER_AGGREGATE_BASIC_INFORMATION *ai = (FILTER_AGGREGATE_BASIC_INFORMATION *)buf;
    HANDLE h = INVALID_HANDLE_VALUE;
    DWORD r = 0;
    a->first = FilterFindFirst(FilterAggregateBasicInformation, buf, sizeof(buf), &r, &h);
    for (int k = 0; k < 2; k++) {
        if (k == 1)
            a->next = FilterFindNext(h, FilterAggregateBasicInformation, buf, sizeof(buf), &r);
        narrow((WCHAR *)(buf + ai->Type.MiniFilter.FilterNameBufferOffset),
               ai->Type.MiniFilter.FilterNameLength, a->name[k], sizeof(a->name[k]));
        narrow((WCHAR *)(buf + ai->Type.MiniFilter.FilterAltitudeBufferOffset),
               ai->Type.MiniFilter.FilterAltitudeLength, a->altitude[k], sizeof(a->altitude[k]));
        if (k == 0) {
            a->flags = ai->Flags;
            a->instances = ai->Type.MiniFilter.NumberOfInstances;
        }
    }
    a->end = FilterFindNext(h, FilterAggregateBasicInformation, buf, sizeof(buf), &r);
    FilterFindClose(h);
}

static void fltlib_filters_in_aggregate_basic_information(void **state)
{
    struct fixture *f = *state;
    struct aggregate a = {.first = 0};
    as_program(f, aggregate_program, &a);
    assert_int_equal(a.first, S_OK);
    assert_int_equal(a.next, S_OK);
    assert_int_equal(a.end, HRESULT_FROM_WIN32(ERROR_NO_MORE_ITEMS));
    assert_int_equal(a.flags, FLTFL_AGGREGATE_INFO_IS_MINIFILTER);
    assert_int_equal(a.instances, 2);
    assert_string_equal(a.name[0], "Alpha");
    assert_string_equal(a.altitude[0], "385250.5");
    assert_string_equal(a.name[1], "Beta");
    assert_string_equal(a.altitude[1], "40500");
}

/* ---- volumes and DOS names ---- */

struct volumes {
    HRESULT first, next[4], dos[5];
    char names[4][128];
    WCHAR dos_c[8], dos_d[8], dos_small[2];
    int rows;
};

static void volumes_program(void *ctx)
{
    struct volumes *v = ctx;
    _Alignas(8) BYTE buf[512];
    FILTER_VOLUME_BASIC_INFORMATION *vi = (FILTER_VOLUME_BASIC_INFORMATION *)buf;
    HANDLE h = INVALID_HANDLE_VALUE;
    DWORD r = 0;
    HRESULT hr = v->first =
        FilterVolumeFindFirst(FilterVolumeBasicInformation, buf, sizeof(buf), &r, &h);
    for (int k = 0; SUCCEEDED(hr) && k < 3; k++) {
        narrow(vi->FilterVolumeName, vi->FilterVolumeNameLength, v->names[k], sizeof(v->names[k]));
        v->rows++;
        hr = v->next[k] =
            FilterVolumeFindNext(h, FilterVolumeBasicInformation, buf, sizeof(buf), &r);
    }
    FilterVolumeFindClose(h);
    v->dos[0] = FilterGetDosName(L"\\Device\\HarddiskVolume1", v->dos_c, 8);
    v->dos[1] = FilterGetDosName(L"\\device\\harddiskvolume2", v->dos_d, 8);
    v->dos[2] = FilterGetDosName(L"\\Device\\HarddiskVolume9", v->dos_c, 8);
    v->dos[3] = FilterGetDosName(L"\\Device\\HarddiskVolume1", v->dos_small, 2);
    v->dos[4] = FilterGetDosName(NULL, v->dos_small, 2);
}

static void fltlib_volumes_and_dos_names(void **state)
{
    struct fixture *f = *state;
    struct volumes v = {.rows = 0};
    as_program(f, volumes_program, &v);
    assert_int_equal(v.first, S_OK);
    assert_int_equal(v.rows, 2);
    assert_string_equal(v.names[0], "\\Device\\HarddiskVolume1");
    assert_string_equal(v.names[1], "\\Device\\HarddiskVolume2");
    assert_int_equal(v.next[1], HRESULT_FROM_WIN32(ERROR_NO_MORE_ITEMS));
    assert_int_equal(v.dos[0], S_OK);
    assert_true(v.dos_c[0] == L'C' && v.dos_c[1] == L':' && v.dos_c[2] == 0);
    assert_int_equal(v.dos[1], S_OK);
    assert_true(v.dos_d[0] == L'D' && v.dos_d[1] == L':' && v.dos_d[2] == 0);
    assert_int_equal(v.dos[2], HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND));
    assert_int_equal(v.dos[3], HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER));
    assert_int_equal(v.dos[4], HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER));
}

/* ---- a volume's instances ---- */

struct instances {
    HRESULT first, next[4], by_letter, unknown, bad_class;
    char text[4][4][128]; /* instance, altitude, volume, filter */
    int rows;
};

static void instances_program(void *ctx)
{
    struct instances *s = ctx;
    _Alignas(8) BYTE buf[1024];
    INSTANCE_FULL_INFORMATION *ii = (INSTANCE_FULL_INFORMATION *)buf;
    HANDLE h = INVALID_HANDLE_VALUE;
    DWORD r = 0;
    HRESULT hr = s->first = FilterVolumeInstanceFindFirst(
        L"\\Device\\HarddiskVolume1", InstanceFullInformation, buf, sizeof(buf), &r, &h);
    for (int k = 0; SUCCEEDED(hr) && k < 3; k++) {
        narrow((WCHAR *)(buf + ii->InstanceNameBufferOffset), ii->InstanceNameLength, s->text[k][0],
               128);
        narrow((WCHAR *)(buf + ii->AltitudeBufferOffset), ii->AltitudeLength, s->text[k][1], 128);
        narrow((WCHAR *)(buf + ii->VolumeNameBufferOffset), ii->VolumeNameLength, s->text[k][2],
               128);
        narrow((WCHAR *)(buf + ii->FilterNameBufferOffset), ii->FilterNameLength, s->text[k][3],
               128);
        s->rows++;
        hr = s->next[k] =
            FilterVolumeInstanceFindNext(h, InstanceFullInformation, buf, sizeof(buf), &r);
    }
    FilterVolumeInstanceFindClose(h);
    s->by_letter =
        FilterVolumeInstanceFindFirst(L"d:", InstanceFullInformation, buf, sizeof(buf), &r, &h);
    if (SUCCEEDED(s->by_letter))
        FilterVolumeInstanceFindClose(h);
    s->unknown =
        FilterVolumeInstanceFindFirst(L"Q:", InstanceFullInformation, buf, sizeof(buf), &r, &h);
    s->bad_class = FilterVolumeInstanceFindFirst(L"C:", (INSTANCE_INFORMATION_CLASS)9, buf,
                                                 sizeof(buf), &r, &h);
}

static void fltlib_volume_instances_in_altitude_order(void **state)
{
    struct fixture *f = *state;
    struct instances s = {.rows = 0};
    as_program(f, instances_program, &s);
    assert_int_equal(s.first, S_OK);
    assert_int_equal(s.rows, 2);
    assert_string_equal(s.text[0][0], "Alpha Instance");
    assert_string_equal(s.text[0][1], "385250.5");
    assert_string_equal(s.text[0][2], "\\Device\\HarddiskVolume1");
    assert_string_equal(s.text[0][3], "Alpha");
    assert_string_equal(s.text[1][0], "Beta Instance");
    assert_string_equal(s.text[1][1], "40500");
    assert_string_equal(s.text[1][3], "Beta");
    assert_int_equal(s.next[1], HRESULT_FROM_WIN32(ERROR_NO_MORE_ITEMS));
    assert_int_equal(s.by_letter, S_OK);
    assert_int_equal(s.unknown, HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND));
    assert_int_equal(s.bad_class, HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER));
}

/* ---- a filter's instances ---- */

struct filter_instances {
    HRESULT first, next[4], unknown, bad_handle;
    char volume[4][128], instance[4][64];
    int rows;
};

static void filter_instances_program(void *ctx)
{
    struct filter_instances *s = ctx;
    _Alignas(8) BYTE buf[1024];
    INSTANCE_FULL_INFORMATION *ii = (INSTANCE_FULL_INFORMATION *)buf;
    HANDLE h = INVALID_HANDLE_VALUE;
    DWORD r = 0;
    HRESULT hr = s->first =
        FilterInstanceFindFirst(L"BETA", InstanceFullInformation, buf, sizeof(buf), &r, &h);
    for (int k = 0; SUCCEEDED(hr) && k < 3; k++) {
        narrow((WCHAR *)(buf + ii->VolumeNameBufferOffset), ii->VolumeNameLength, s->volume[k],
               sizeof(s->volume[k]));
        narrow((WCHAR *)(buf + ii->InstanceNameBufferOffset), ii->InstanceNameLength,
               s->instance[k], sizeof(s->instance[k]));
        s->rows++;
        hr = s->next[k] = FilterInstanceFindNext(h, InstanceFullInformation, buf, sizeof(buf), &r);
    }
    /* A filter-instance handle is not a volume-instance handle. */
    s->bad_handle = FilterVolumeInstanceFindNext(h, InstanceFullInformation, buf, sizeof(buf), &r);
    FilterInstanceFindClose(h);
    s->unknown =
        FilterInstanceFindFirst(L"Nobody", InstanceFullInformation, buf, sizeof(buf), &r, &h);
}

static void fltlib_filter_instances_on_all_volumes(void **state)
{
    struct fixture *f = *state;
    struct filter_instances s = {.rows = 0};
    as_program(f, filter_instances_program, &s);
    assert_int_equal(s.first, S_OK);
    assert_int_equal(s.rows, 2);
    assert_string_equal(s.instance[0], "Beta Instance");
    assert_string_equal(s.instance[1], "Beta Instance");
    assert_true((strcmp(s.volume[0], "\\Device\\HarddiskVolume1") == 0 &&
                 strcmp(s.volume[1], "\\Device\\HarddiskVolume2") == 0) ||
                (strcmp(s.volume[1], "\\Device\\HarddiskVolume1") == 0 &&
                 strcmp(s.volume[0], "\\Device\\HarddiskVolume2") == 0));
    assert_int_equal(s.next[1], HRESULT_FROM_WIN32(ERROR_NO_MORE_ITEMS));
    assert_int_equal(s.bad_handle, HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE));
    assert_int_equal(s.unknown, (HRESULT)0x801F0013L);
}

/* ---- FilterAttach, FilterDetach, FilterLoad, FilterUnload ---- */

struct manage {
    HRESULT attach, attach_again, no_filter, no_volume, small_name, detach, detach_again;
    HRESULT load_loaded, load_unknown, unload_unknown, unload;
    WCHAR created[64], tiny[4];
    int on_c_after_attach, on_c_after_detach;
};

static int count_instances(LPCWSTR volume)
{
    _Alignas(8) BYTE buf[1024];
    HANDLE h = INVALID_HANDLE_VALUE;
    DWORD r = 0;
    int n = 0;
    HRESULT hr =
        FilterVolumeInstanceFindFirst(volume, InstanceFullInformation, buf, sizeof(buf), &r, &h);
    while (SUCCEEDED(hr)) {
        n++;
        hr = FilterVolumeInstanceFindNext(h, InstanceFullInformation, buf, sizeof(buf), &r);
    }
    if (h != INVALID_HANDLE_VALUE)
        FilterVolumeInstanceFindClose(h);
    return n;
}

static void manage_program(void *ctx)
{
    struct manage *m = ctx;
    m->attach = FilterAttach(L"gamma", L"C:", NULL, sizeof(m->created), m->created);
    m->on_c_after_attach = count_instances(L"C:");
    m->attach_again = FilterAttach(L"Gamma", L"C:", NULL, 0, NULL);
    m->no_filter = FilterAttach(L"Nobody", L"C:", NULL, 0, NULL);
    m->no_volume = FilterAttach(L"Gamma", L"\\Device\\Nowhere", NULL, 0, NULL);
    m->small_name = FilterAttach(L"Gamma", L"D:", NULL, sizeof(m->tiny), m->tiny);
    m->detach = FilterDetach(L"Gamma", L"\\Device\\HarddiskVolume1", L"Gamma Instance");
    m->on_c_after_detach = count_instances(L"C:");
    m->detach_again = FilterDetach(L"Gamma", L"C:", L"Gamma Instance");
    m->load_loaded = FilterLoad(L"Alpha");
    m->load_unknown = FilterLoad(L"Nobody");
    m->unload_unknown = FilterUnload(L"Nobody");
    m->unload = FilterUnload(L"beta");
}

static void fltlib_attach_detach_load_unload(void **state)
{
    struct fixture *f = *state;
    tf_init(&f->gamma, "Gamma", "300000");
    f->gamma.instance_flags = FLTSIM_INSTANCE_SUPPRESS_AUTOMATIC;
    assert_status(tf_load(f->w.sys, &f->gamma), STATUS_SUCCESS);
    struct manage m = {.attach = 0};
    as_program(f, manage_program, &m);
    assert_int_equal(m.attach, S_OK);
    char name[64];
    size_t n = 0;
    while (m.created[n] != 0 && n < 63)
        n++;
    narrow(m.created, (USHORT)(n * sizeof(WCHAR)), name, sizeof(name));
    assert_string_equal(name, "Gamma Instance");
    assert_int_equal(m.on_c_after_attach, 3);
    assert_int_equal(m.attach_again, (HRESULT)0x801F0012L); /* instance name collision */
    assert_int_equal(m.no_filter, (HRESULT)0x801F0013L);
    assert_int_equal(m.no_volume, (HRESULT)0x801F0014L);
    assert_int_equal(m.small_name, HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER));
    assert_int_equal(m.detach, S_OK);
    assert_int_equal(m.on_c_after_detach, 2);
    assert_int_equal(m.detach_again, (HRESULT)0x801F0015L); /* instance not found */
    assert_int_equal(m.load_loaded, HRESULT_FROM_WIN32(ERROR_SERVICE_ALREADY_RUNNING));
    assert_int_equal(m.load_unknown, HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND));
    assert_int_equal(m.unload_unknown, (HRESULT)0x801F0013L);
    assert_int_equal(m.unload, S_OK);
    assert_null(fltsim_driver_find(f->w.sys, L"Beta"));
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* ---- the standard classes (fltUserStructures.h's layouts) ---- */

struct standard {
    HRESULT filter_first, volume_first, volume_next, basic_small, basic, partial, aggregate;
    DWORD filter_size, volume_size, basic_needed, basic_size, partial_size, aggregate_size;
    ULONG filter_flags, filter_mini_flags, filter_frame, filter_instances, volume_flags;
    ULONG instance_flags, instance_mini_flags, supported;
    FLT_FILESYSTEM_TYPE volume_fs[2], instance_fs;
    char filter[64], altitude[64], volume[2][64];
    char basic_name[64], partial_name[64], partial_altitude[64];
    char agg_text[4][64]; /* instance, altitude, volume, filter */
    ULONG next_offsets;   /* NextEntryOffset of every entry, or'ed */
};

static void standard_program(void *ctx)
{
    struct standard *s = ctx;
    _Alignas(8) BYTE buf[1024];
    HANDLE h = INVALID_HANDLE_VALUE;
    DWORD r = 0;
    FILTER_AGGREGATE_STANDARD_INFORMATION *fi = (FILTER_AGGREGATE_STANDARD_INFORMATION *)buf;
    memset(buf, 0xcc, sizeof(buf));
    s->filter_first =
        FilterFindFirst(FilterAggregateStandardInformation, buf, sizeof(buf), &s->filter_size, &h);
    s->filter_flags = fi->Flags;
    s->filter_mini_flags = fi->Type.MiniFilter.Flags;
    s->filter_frame = fi->Type.MiniFilter.FrameID;
    s->filter_instances = fi->Type.MiniFilter.NumberOfInstances;
    s->next_offsets |= fi->NextEntryOffset;
    narrow((WCHAR *)(buf + fi->Type.MiniFilter.FilterNameBufferOffset),
           fi->Type.MiniFilter.FilterNameLength, s->filter, sizeof(s->filter));
    narrow((WCHAR *)(buf + fi->Type.MiniFilter.FilterAltitudeBufferOffset),
           fi->Type.MiniFilter.FilterAltitudeLength, s->altitude, sizeof(s->altitude));
    FilterFindClose(h);

    FILTER_VOLUME_STANDARD_INFORMATION *vi = (FILTER_VOLUME_STANDARD_INFORMATION *)buf;
    memset(buf, 0xcc, sizeof(buf));
    s->volume_first = FilterVolumeFindFirst(FilterVolumeStandardInformation, buf, sizeof(buf),
                                            &s->volume_size, &h);
    s->volume_flags = vi->Flags | vi->FrameID;
    s->volume_fs[0] = vi->FileSystemType;
    s->next_offsets |= vi->NextEntryOffset;
    narrow(vi->FilterVolumeName, vi->FilterVolumeNameLength, s->volume[0], sizeof(s->volume[0]));
    s->volume_next = FilterVolumeFindNext(h, FilterVolumeStandardInformation, buf, sizeof(buf), &r);
    s->volume_fs[1] = vi->FileSystemType;
    narrow(vi->FilterVolumeName, vi->FilterVolumeNameLength, s->volume[1], sizeof(s->volume[1]));
    FilterVolumeFindClose(h);

    /* Basic: too small first (the size needed), then the entry. */
    INSTANCE_BASIC_INFORMATION *bi = (INSTANCE_BASIC_INFORMATION *)buf;
    s->basic_small = FilterVolumeInstanceFindFirst(L"C:", InstanceBasicInformation, buf,
                                                   sizeof(*bi), &s->basic_needed, &h);
    memset(buf, 0xcc, sizeof(buf));
    s->basic =
        FilterVolumeInstanceFindNext(h, InstanceBasicInformation, buf, sizeof(buf), &s->basic_size);
    s->next_offsets |= bi->NextEntryOffset;
    narrow((WCHAR *)(buf + bi->InstanceNameBufferOffset), bi->InstanceNameLength, s->basic_name,
           sizeof(s->basic_name));
    /* Partial: the second instance of C: (Beta). */
    INSTANCE_PARTIAL_INFORMATION *pi = (INSTANCE_PARTIAL_INFORMATION *)buf;
    memset(buf, 0xcc, sizeof(buf));
    s->partial = FilterVolumeInstanceFindNext(h, InstancePartialInformation, buf, sizeof(buf),
                                              &s->partial_size);
    s->next_offsets |= pi->NextEntryOffset;
    narrow((WCHAR *)(buf + pi->InstanceNameBufferOffset), pi->InstanceNameLength, s->partial_name,
           sizeof(s->partial_name));
    narrow((WCHAR *)(buf + pi->AltitudeBufferOffset), pi->AltitudeLength, s->partial_altitude,
           sizeof(s->partial_altitude));
    FilterVolumeInstanceFindClose(h);

    /* Aggregate standard: Alpha's instance on D: (FAT). */
    INSTANCE_AGGREGATE_STANDARD_INFORMATION *ai = (INSTANCE_AGGREGATE_STANDARD_INFORMATION *)buf;
    memset(buf, 0xcc, sizeof(buf));
    s->aggregate = FilterVolumeInstanceFindFirst(L"D:", InstanceAggregateStandardInformation, buf,
                                                 sizeof(buf), &s->aggregate_size, &h);
    s->instance_flags = ai->Flags;
    s->instance_mini_flags = ai->Type.MiniFilter.Flags | ai->Type.MiniFilter.FrameID;
    s->instance_fs = ai->Type.MiniFilter.VolumeFileSystemType;
    s->supported = ai->Type.MiniFilter.SupportedFeatures;
    s->next_offsets |= ai->NextEntryOffset;
    narrow((WCHAR *)(buf + ai->Type.MiniFilter.InstanceNameBufferOffset),
           ai->Type.MiniFilter.InstanceNameLength, s->agg_text[0], 64);
    narrow((WCHAR *)(buf + ai->Type.MiniFilter.AltitudeBufferOffset),
           ai->Type.MiniFilter.AltitudeLength, s->agg_text[1], 64);
    narrow((WCHAR *)(buf + ai->Type.MiniFilter.VolumeNameBufferOffset),
           ai->Type.MiniFilter.VolumeNameLength, s->agg_text[2], 64);
    narrow((WCHAR *)(buf + ai->Type.MiniFilter.FilterNameBufferOffset),
           ai->Type.MiniFilter.FilterNameLength, s->agg_text[3], 64);
    FilterVolumeInstanceFindClose(h);
}

static void fltlib_standard_information_classes(void **state)
{
    struct fixture *f = *state;
    struct standard s;
    memset(&s, 0, sizeof(s));
    as_program(f, standard_program, &s);
    /* Filters: FLTFL_ASI_IS_MINIFILTER, frame 0, names after the structure. */
    assert_int_equal(s.filter_first, S_OK);
    assert_int_equal(sizeof(FILTER_AGGREGATE_STANDARD_INFORMATION), 28);
    assert_int_equal(s.filter_size, 28 + (5 + 8) * 2);
    assert_int_equal(s.filter_flags, FLTFL_ASI_IS_MINIFILTER);
    assert_int_equal(s.filter_mini_flags, 0);
    assert_int_equal(s.filter_frame, 0);
    assert_int_equal(s.filter_instances, 2);
    assert_string_equal(s.filter, "Alpha");
    assert_string_equal(s.altitude, "385250.5");
    /* Volumes: the file system's type. */
    assert_int_equal(s.volume_first, S_OK);
    assert_int_equal(s.volume_next, S_OK);
    assert_int_equal(s.volume_size,
                     offsetof(FILTER_VOLUME_STANDARD_INFORMATION, FilterVolumeName) + 23 * 2);
    assert_int_equal(s.volume_flags, 0);
    assert_string_equal(s.volume[0], "\\Device\\HarddiskVolume1");
    assert_int_equal(s.volume_fs[0], FLT_FSTYPE_NTFS);
    assert_string_equal(s.volume[1], "\\Device\\HarddiskVolume2");
    assert_int_equal(s.volume_fs[1], FLT_FSTYPE_FAT);
    /* Instances: basic (the name), partial (and the altitude). */
    assert_int_equal(s.basic_small, HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER));
    assert_int_equal(s.basic_needed, sizeof(INSTANCE_BASIC_INFORMATION) + 14 * 2);
    assert_int_equal(s.basic, S_OK);
    assert_int_equal(s.basic_size, s.basic_needed);
    assert_string_equal(s.basic_name, "Alpha Instance");
    assert_int_equal(s.partial, S_OK);
    assert_int_equal(s.partial_size, sizeof(INSTANCE_PARTIAL_INFORMATION) + (13 + 5) * 2);
    assert_string_equal(s.partial_name, "Beta Instance");
    assert_string_equal(s.partial_altitude, "40500");
    /* Aggregate standard: a minifilter's instance, the volume's type. */
    assert_int_equal(s.aggregate, S_OK);
    assert_int_equal(s.aggregate_size,
                     sizeof(INSTANCE_AGGREGATE_STANDARD_INFORMATION) + (14 + 8 + 23 + 5) * 2);
    assert_int_equal(s.instance_flags, FLTFL_IASI_IS_MINIFILTER);
    assert_int_equal(s.instance_mini_flags, 0);
    assert_int_equal(s.instance_fs, FLT_FSTYPE_FAT);
    assert_int_equal(s.supported, 0);
    assert_string_equal(s.agg_text[0], "Alpha Instance");
    assert_string_equal(s.agg_text[1], "385250.5");
    assert_string_equal(s.agg_text[2], "\\Device\\HarddiskVolume2");
    assert_string_equal(s.agg_text[3], "Alpha");
    assert_int_equal(s.next_offsets, 0);
}

/* ---- whose find handles are ---- */

static HANDLE shared_find;
static HRESULT foreign_next, foreign_close;

static int opener_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    _Alignas(8) BYTE buf[512];
    DWORD r = 0;
    if (FAILED(FilterFindFirst(FilterFullInformation, buf, sizeof(buf), &r, &shared_find)))
        return 1;
    Sleep(INFINITE); /* ended holding it */
    return 0;
}

static int foreign_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    _Alignas(8) BYTE buf[512];
    DWORD r = 0;
    foreign_next = FilterFindNext(shared_find, FilterFullInformation, buf, sizeof(buf), &r);
    foreign_close = FilterFindClose(shared_find);
    return 0;
}

static void other_thread_next(void *ctx)
{
    _Alignas(8) BYTE buf[512];
    DWORD r = 0;
    *(HRESULT *)ctx = FilterFindNext(shared_find, FilterFullInformation, buf, sizeof(buf), &r);
}

static void volume_left_open(void *ctx)
{
    _Alignas(8) BYTE buf[512];
    DWORD r = 0;
    HANDLE h;
    *(HRESULT *)ctx = FilterVolumeFindFirst(FilterVolumeBasicInformation, buf, sizeof(buf), &r, &h);
}

static void fltlib_find_handles_are_their_process_and_system(void **state)
{
    struct fixture *f = *state;
    /* A process's handle: no other process's, nor a thread of none. */
    struct fltsim_process_params params = {.name = "opener.exe", .main = opener_main};
    fltsim_process *opener, *foreign;
    assert_status(fltsim_process_start(f->w.sys, &params, &opener), STATUS_SUCCESS);
    assert_status(fltsim_process_wait(opener, FLTSIM_PROCESS_IDLE, NULL, 10000), STATUS_SUCCESS);
    params = (struct fltsim_process_params){.name = "foreign.exe", .main = foreign_main};
    assert_status(fltsim_process_start(f->w.sys, &params, &foreign), STATUS_SUCCESS);
    assert_status(fltsim_process_wait(foreign, FLTSIM_PROCESS_EXIT, NULL, 10000), STATUS_SUCCESS);
    fltsim_process_free(foreign);
    assert_int_equal(foreign_next, HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE));
    assert_int_equal(foreign_close, HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE));
    HRESULT hr = S_OK;
    as_program(f, other_thread_next, &hr);
    assert_int_equal(hr, HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE));
    /* Its end closes it (AddressSanitizer's leak check: nothing else frees it). */
    fltsim_process_free(opener);

    /* A handle of a thread of no process is its system's: destroying the
     * system frees it, and the next system does not know it. */
    struct answers a = {.rows = 0};
    as_program(f, first_only_program, &a);
    assert_int_equal(a.first, S_OK);
    shared_find = a.handle;
    world_destroy(&f->w);
    world_create(&f->w, 0);
    hr = S_OK;
    as_program(f, other_thread_next, &hr);
    assert_int_equal(hr, HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE));
    as_program(f, volume_left_open, &hr);
    assert_int_equal(hr, S_OK); /* left open: the fixture's fltsim_system_destroy frees it */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(fltlib_filters_are_enumerated_then_no_more_items, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(fltlib_small_buffer_gives_the_size_and_keeps_the_entry,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(fltlib_find_enumerates_the_snapshot_of_find_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(fltlib_volumes_and_dos_names, setup, teardown),
        cmocka_unit_test_setup_teardown(fltlib_volume_instances_in_altitude_order, setup, teardown),
        cmocka_unit_test_setup_teardown(fltlib_attach_detach_load_unload, setup, teardown),
        cmocka_unit_test_setup_teardown(fltlib_filter_instances_on_all_volumes, setup, teardown),
        cmocka_unit_test_setup_teardown(fltlib_standard_information_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(fltlib_find_handles_are_their_process_and_system, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(fltlib_filters_in_aggregate_basic_information, setup,
                                        teardown),
    };
    return FLTSIM_RUN_SUITE("fltlib", tests);
}
