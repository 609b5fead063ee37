/*
 * PRIVATE to the hostfs suites (test_hostfs.c, test_hostfs_parity.c): the
 * world every case gets (a fresh temporary directory under $TMPDIR or /tmp,
 * removed afterwards, mounted through hostfs as C:), NtCreateFile with every
 * parameter, and the names a directory holds, as the host lists them and as
 * a directory query returns them. Static inline, because the short names
 * (setup, cr) mean other things in other suites.
 */
#ifndef FLTSIM_HOSTFS_FX_H
#define FLTSIM_HOSTFS_FX_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fltsim/hostfs.h>

#include "fltsim_test.h"

#define ALL_SHARE (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

struct hf {
    char dir[512];
    fltsim_system *sys;
    struct fltsim_hostfs *fs;
    PFLT_VOLUME volume;
};

/* ---- host side ---- */

static inline void host_path(const struct hf *h, const char *rel, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", h->dir, rel);
}

/* Names in a host directory, sorted, comma-separated. */
static inline const char *host_list(const struct hf *h, const char *rel)
{
    static char out[1024];
    char p[1024], *names[64];
    int n = 0;
    host_path(h, rel, p, sizeof(p));
    DIR *d = opendir(p);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        assert_true(n < 64);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i > 0)
            strcat(out, ",");
        strcat(out, names[i]);
        free(names[i]);
    }
    return out;
}

static inline void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0700);
        DIR *d = opendir(path);
        if (d != NULL) {
            for (struct dirent *e; (e = readdir(d)) != NULL;) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char child[1024];
                int n = snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
                if (n > 0 && (size_t)n < sizeof(child))
                    remove_tree(child);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* ---- fixture ---- */

static inline void make_temp_dir(char *out, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";
    snprintf(out, size, "%s/fltsim-hostfs-XXXXXX", tmp);
    assert_non_null(mkdtemp(out));
}

static inline int setup(void **state)
{
    struct hf *h = calloc(1, sizeof(*h));
    assert_non_null(h);
    tf_reset_all();
    rec_reset();
    make_temp_dir(h->dir, sizeof(h->dir));
    struct fltsim_system_options o = test_options(0);
    assert_status(fltsim_system_create(&o, &h->sys), STATUS_SUCCESS);
    assert_status(fltsim_hostfs_create(h->dir, NULL, &h->fs), STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume1",
                                      .drive_letter = L'C',
                                      .ops = &fltsim_hostfs_ops,
                                      .fs = h->fs,
                                      .fs_type = FLT_FSTYPE_NTFS};
    assert_status(fltsim_volume_mount(h->sys, &vp, &h->volume), STATUS_SUCCESS);
    *state = h;
    return 0;
}

static inline int teardown(void **state)
{
    struct hf *h = *state;
    if (h->sys != NULL)
        fltsim_system_destroy(h->sys);
    tf_reset_all();
    remove_tree(h->dir);
    free(h);
    return 0;
}

/* NtCreateFile on sys; returns the status, *handle and the Information value. */
static inline NTSTATUS cr(fltsim_system *sys, PCWSTR path, ACCESS_MASK access, ULONG share,
                          ULONG disposition, ULONG options, HANDLE *handle, ULONG_PTR *info)
{
    struct fltsim_create_params p = {.path = path,
                                     .desired_access = access | SYNCHRONIZE,
                                     .share_access = share,
                                     .disposition = disposition,
                                     .create_options = options | FILE_SYNCHRONOUS_IO_NONALERT};
    IO_STATUS_BLOCK iosb = {{STATUS_SUCCESS}, 0xdead};
    HANDLE local = NULL;
    NTSTATUS st = fltsim_io_create(sys, &p, handle != NULL ? handle : &local, &iosb);
    if (info != NULL)
        *info = iosb.Information;
    if (handle == NULL && local != NULL)
        assert_status(fltsim_io_close(sys, local), STATUS_SUCCESS);
    return st;
}

/* Collects the names of a FILE_NAMES_INFORMATION buffer, comma-separated. */
static inline void names_of(const void *buffer, ULONG_PTR length, char *out, size_t size)
{
    const UCHAR *p = buffer;
    out[0] = '\0';
    for (ULONG_PTR at = 0; at < length;) {
        const FILE_NAMES_INFORMATION *e = (const void *)(p + at);
        char name[300];
        fltsim_utf16_to_utf8(e->FileName, e->FileNameLength / sizeof(WCHAR), name, sizeof(name));
        if (out[0] != '\0')
            strncat(out, ",", size - strlen(out) - 1);
        strncat(out, name, size - strlen(out) - 1);
        if (e->NextEntryOffset == 0)
            break;
        assert_int_equal(e->NextEntryOffset % 8, 0);
        at += e->NextEntryOffset;
    }
}

#endif /* FLTSIM_HOSTFS_FX_H */
