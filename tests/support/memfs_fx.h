/*
 * PRIVATE to the memfs suites (test_memfs.c, test_memfs_info.c): the world
 * every case gets (memfs mounted as C: holding \a.txt, \dir\b.txt,
 * \dir\abc, \dir\axc.txt and the directories \dir\sub and \empty, no
 * filters), NtCreateFile with every parameter, memfs's own view of a file,
 * and requests built by hand that reach memfs without the I/O manager.
 * Static inline, because the short names (setup, cr) mean other things in
 * other suites.
 */
#ifndef FLTSIM_MEMFS_FX_H
#define FLTSIM_MEMFS_FX_H

#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

struct mf {
    fltsim_system *sys;
    struct fltsim_memfs *fs;
    PFLT_VOLUME volume;
};

static inline int setup(void **state)
{
    struct mf *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    struct fltsim_system_options o = test_options(0);
    assert_status(fltsim_system_create(&o, &m->sys), STATUS_SUCCESS);
    assert_status(fltsim_memfs_create(NULL, &m->fs), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(m->fs, L"\\a.txt", "hello world", 11), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(m->fs, L"\\dir\\b.txt", "bravo", 5), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(m->fs, L"\\dir\\abc", "", 0), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(m->fs, L"\\dir\\axc.txt", "", 0), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_directory(m->fs, L"\\dir\\sub"), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_directory(m->fs, L"\\empty"), STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume1",
                                      .drive_letter = L'C',
                                      .ops = &fltsim_memfs_ops,
                                      .fs = m->fs,
                                      .fs_type = FLT_FSTYPE_NTFS};
    assert_status(fltsim_volume_mount(m->sys, &vp, &m->volume), STATUS_SUCCESS);
    *state = m;
    return 0;
}

static inline int teardown(void **state)
{
    struct mf *m = *state;
    fltsim_system_destroy(m->sys);
    free(m);
    return 0;
}

/* NtCreateFile with the given parameters; returns the status, *h and the
 * Information value. */
static inline NTSTATUS cr(struct mf *m, PCWSTR path, ACCESS_MASK access, ULONG share,
                          ULONG disposition, ULONG options, HANDLE *h, ULONG_PTR *info)
{
    struct fltsim_create_params p = {.path = path,
                                     .desired_access = access | SYNCHRONIZE,
                                     .share_access = share,
                                     .disposition = disposition,
                                     .create_options = options | FILE_SYNCHRONOUS_IO_NONALERT};
    IO_STATUS_BLOCK iosb = {{STATUS_SUCCESS}, 0xdead};
    HANDLE local = NULL;
    NTSTATUS st = fltsim_io_create(m->sys, &p, h != NULL ? h : &local, &iosb);
    if (info != NULL)
        *info = iosb.Information;
    if (h == NULL && local != NULL)
        assert_status(fltsim_io_close(m->sys, local), STATUS_SUCCESS);
    return st;
}

#define ALL_SHARE (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

static inline ULONG64 file_size(struct mf *m, PCWSTR path)
{
    struct fltsim_memfs_stat st;
    assert_status(fltsim_memfs_stat(m->fs, path, &st), STATUS_SUCCESS);
    return st.size;
}

static inline bool exists(struct mf *m, PCWSTR path)
{
    struct fltsim_memfs_stat st;
    NTSTATUS s = fltsim_memfs_stat(m->fs, path, &st);
    return NT_SUCCESS(s) && st.exists;
}

/* ---- direct requests (no I/O manager) ---- */

struct direct {
    FILE_OBJECT fo;
    FLT_IO_PARAMETER_BLOCK iopb;
    FLT_CALLBACK_DATA data;
    IO_SECURITY_CONTEXT security;
    WCHAR name[300];
};

static inline void direct_request(struct direct *d, ULONG kind, UCHAR major)
{
    memset(&d->iopb, 0, sizeof(d->iopb));
    memset(&d->data, 0, sizeof(d->data));
    PFLT_IO_PARAMETER_BLOCK p = &d->iopb;
    memcpy((void *)&d->data.Iopb, &p, sizeof(p));
    d->data.Flags = kind;
    d->iopb.MajorFunction = major;
    d->iopb.TargetFileObject = &d->fo;
}

static inline NTSTATUS direct_create(struct fltsim_memfs *fs, struct direct *d, PCWSTR path,
                                     ACCESS_MASK access, ULONG disposition, ULONG options,
                                     UCHAR sl_flags)
{
    memset(d, 0, sizeof(*d));
    size_t n = fltsim_wcslen(path);
    memcpy(d->name, path, n * sizeof(WCHAR));
    d->fo.FileName.Buffer = d->name;
    d->fo.FileName.Length = (USHORT)(n * sizeof(WCHAR));
    d->fo.FileName.MaximumLength = sizeof(d->name);
    d->fo.Flags = FO_SYNCHRONOUS_IO;
    d->security.DesiredAccess = access;
    direct_request(d, FLTFL_CALLBACK_DATA_IRP_OPERATION, IRP_MJ_CREATE);
    d->iopb.OperationFlags = sl_flags;
    d->iopb.Parameters.Create.SecurityContext = &d->security;
    d->iopb.Parameters.Create.Options = (disposition << 24) | options;
    d->iopb.Parameters.Create.ShareAccess = ALL_SHARE;
    return fltsim_memfs_ops.irp_cb(fs, &d->data);
}

static inline void direct_close(struct fltsim_memfs *fs, struct direct *d)
{
    direct_request(d, FLTFL_CALLBACK_DATA_IRP_OPERATION, IRP_MJ_CLEANUP);
    assert_status(fltsim_memfs_ops.irp_cb(fs, &d->data), STATUS_SUCCESS);
    direct_request(d, FLTFL_CALLBACK_DATA_IRP_OPERATION, IRP_MJ_CLOSE);
    assert_status(fltsim_memfs_ops.irp_cb(fs, &d->data), STATUS_SUCCESS);
}

static inline struct fltsim_memfs *standalone(void)
{
    struct fltsim_memfs *fs;
    assert_status(fltsim_memfs_create(NULL, &fs), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(fs, L"\\a.txt", "hello world", 11), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_directory(fs, L"\\dir"), STATUS_SUCCESS);
    return fs;
}
#endif /* FLTSIM_MEMFS_FX_H */
