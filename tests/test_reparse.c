/*
 * Reparse points (issue 18, item 9): memfs stores them through
 * FSCTL_SET/GET/DELETE_REPARSE_POINT with NTFS's checks and statuses, shows
 * them in attributes, listings (EaSize) and FileAttributeTagInformation;
 * hostfs keeps none. A create that meets one returns STATUS_REPARSE with
 * the reparse data, and the I/O manager follows junctions and symbolic links
 * up to Windows' limit; a filter's STATUS_REPARSE with a new name
 * (IoReplaceFileObjectName) makes it reissue the create.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fltsim/hostfs.h>

#include "memfs_fx.h"

/* ---- reparse buffers ---- */

struct rbuf {
    _Alignas(8) UCHAR bytes[1024];
    ULONG len;
};

static USHORT wlen(PCWSTR s)
{
    return (USHORT)(fltsim_wcslen(s) * sizeof(WCHAR));
}

/* A junction (IO_REPARSE_TAG_MOUNT_POINT) to target, printed as print. */
static void mount_point(struct rbuf *b, PCWSTR target, PCWSTR print)
{
    memset(b, 0, sizeof(*b));
    PREPARSE_DATA_BUFFER r = (PREPARSE_DATA_BUFFER)b->bytes;
    USHORT t = wlen(target), p = wlen(print);
    r->ReparseTag = IO_REPARSE_TAG_MOUNT_POINT;
    r->MountPointReparseBuffer.SubstituteNameOffset = 0;
    r->MountPointReparseBuffer.SubstituteNameLength = t;
    r->MountPointReparseBuffer.PrintNameOffset = (USHORT)(t + sizeof(WCHAR));
    r->MountPointReparseBuffer.PrintNameLength = p;
    memcpy(r->MountPointReparseBuffer.PathBuffer, target, t);
    memcpy((UCHAR *)r->MountPointReparseBuffer.PathBuffer + t + sizeof(WCHAR), print, p);
    r->ReparseDataLength =
        (USHORT)(FIELD_OFFSET(REPARSE_DATA_BUFFER, MountPointReparseBuffer.PathBuffer) -
                 REPARSE_DATA_BUFFER_HEADER_SIZE + t + p + 2 * sizeof(WCHAR));
    b->len = REPARSE_DATA_BUFFER_HEADER_SIZE + r->ReparseDataLength;
}

/* A symbolic link (IO_REPARSE_TAG_SYMLINK) to target, relative or not. */
static void symlink_buf(struct rbuf *b, PCWSTR target, bool relative)
{
    memset(b, 0, sizeof(*b));
    PREPARSE_DATA_BUFFER r = (PREPARSE_DATA_BUFFER)b->bytes;
    USHORT t = wlen(target);
    r->ReparseTag = IO_REPARSE_TAG_SYMLINK;
    r->SymbolicLinkReparseBuffer.SubstituteNameOffset = 0;
    r->SymbolicLinkReparseBuffer.SubstituteNameLength = t;
    r->SymbolicLinkReparseBuffer.PrintNameOffset = t;
    r->SymbolicLinkReparseBuffer.PrintNameLength = t;
    r->SymbolicLinkReparseBuffer.Flags = relative ? SYMLINK_FLAG_RELATIVE : 0;
    memcpy(r->SymbolicLinkReparseBuffer.PathBuffer, target, t);
    memcpy((UCHAR *)r->SymbolicLinkReparseBuffer.PathBuffer + t, target, t);
    r->ReparseDataLength =
        (USHORT)(FIELD_OFFSET(REPARSE_DATA_BUFFER, SymbolicLinkReparseBuffer.PathBuffer) -
                 REPARSE_DATA_BUFFER_HEADER_SIZE + 2 * t);
    b->len = REPARSE_DATA_BUFFER_HEADER_SIZE + r->ReparseDataLength;
}

static const GUID guid_a = {0x1234abcd, 0x1, 0x2, {1, 2, 3, 4, 5, 6, 7, 8}};
static const GUID guid_b = {0x1234abcd, 0x1, 0x2, {1, 2, 3, 4, 5, 6, 7, 9}};
#define TAG_THIRD_PARTY 0x00000123u         /* not Microsoft's: bit 31 clear */
#define SUPPORTS_REPARSE_POINTS 0x00000080u /* FILE_SUPPORTS_REPARSE_POINTS (ntifs.h) */

/* Another vendor's reparse point: REPARSE_GUID_DATA_BUFFER with data. */
static void guid_buf(struct rbuf *b, ULONG tag, const GUID *g, const char *data)
{
    memset(b, 0, sizeof(*b));
    PREPARSE_GUID_DATA_BUFFER r = (PREPARSE_GUID_DATA_BUFFER)b->bytes;
    r->ReparseTag = tag;
    r->ReparseDataLength = (USHORT)strlen(data);
    r->ReparseGuid = *g;
    memcpy(r->GenericReparseBuffer.DataBuffer, data, strlen(data));
    b->len = REPARSE_GUID_DATA_BUFFER_HEADER_SIZE + r->ReparseDataLength;
}

/* A DELETE buffer: the header only. */
static void delete_buf(struct rbuf *b, ULONG tag, const GUID *g)
{
    memset(b, 0, sizeof(*b));
    memcpy(b->bytes, &tag, sizeof(tag));
    if (g != NULL) {
        memcpy(b->bytes + FIELD_OFFSET(REPARSE_GUID_DATA_BUFFER, ReparseGuid), g, sizeof(*g));
        b->len = REPARSE_GUID_DATA_BUFFER_HEADER_SIZE;
    } else {
        b->len = REPARSE_DATA_BUFFER_HEADER_SIZE;
    }
}

/* ---- requests ---- */

/* Opens path itself (FILE_OPEN_REPARSE_POINT) with access. */
static HANDLE open_self(struct mf *m, PCWSTR path, ACCESS_MASK access)
{
    HANDLE h = NULL;
    assert_status(cr(m, path, access, ALL_SHARE, FILE_OPEN, FILE_OPEN_REPARSE_POINT, &h, NULL),
                  STATUS_SUCCESS);
    return h;
}

static NTSTATUS fsctl_on(struct mf *m, PCWSTR path, ULONG code, const struct rbuf *in, void *out,
                         ULONG out_len, ULONG_PTR *info)
{
    HANDLE h = open_self(m, path, FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES);
    IO_STATUS_BLOCK iosb = {{STATUS_SUCCESS}, 0};
    NTSTATUS st = fltsim_io_fs_control(m->sys, h, code, in != NULL ? in->bytes : NULL,
                                       in != NULL ? in->len : 0, out, out_len, &iosb);
    if (info != NULL)
        *info = iosb.Information;
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    return st;
}

static NTSTATUS set_rp(struct mf *m, PCWSTR path, const struct rbuf *b)
{
    return fsctl_on(m, path, FSCTL_SET_REPARSE_POINT, b, NULL, 0, NULL);
}

static ULONG attributes_of(struct mf *m, PCWSTR path, ULONG *tag)
{
    HANDLE h = open_self(m, path, FILE_READ_ATTRIBUTES);
    FILE_ATTRIBUTE_TAG_INFORMATION t;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_query_information(m->sys, h, &t, sizeof(t), FileAttributeTagInformation,
                                              0, &iosb),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    if (tag != NULL)
        *tag = t.ReparseTag;
    return t.FileAttributes;
}

/* ---- set, get, delete ---- */

static void reparse_set_get_mount_point_round_trips(void **state)
{
    struct mf *m = *state;
    struct rbuf b, got;
    mount_point(&b, L"\\??\\C:\\dir", L"C:\\dir");
    assert_status(set_rp(m, L"C:\\empty", &b), STATUS_SUCCESS);
    ULONG_PTR info = 0;
    assert_status(fsctl_on(m, L"C:\\empty", FSCTL_GET_REPARSE_POINT, NULL, got.bytes,
                           sizeof(got.bytes), &info),
                  STATUS_SUCCESS);
    assert_int_equal(info, b.len);
    assert_memory_equal(got.bytes, b.bytes, b.len);

    ULONG tag = 0;
    ULONG attrs = attributes_of(m, L"C:\\empty", &tag);
    assert_int_equal(attrs, FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT);
    assert_int_equal(tag, IO_REPARSE_TAG_MOUNT_POINT);
    /* A plain file: no tag. */
    attributes_of(m, L"C:\\a.txt", &tag);
    assert_int_equal(tag, 0);

    /* The listing shows the attribute and, in EaSize, the tag (NTFS). */
    HANDLE root = open_self(m, L"C:\\", FILE_LIST_DIRECTORY);
    _Alignas(8) UCHAR buf[512];
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_query_directory(m->sys, root, buf, sizeof(buf),
                                            FileFullDirectoryInformation, L"empty", SL_RESTART_SCAN,
                                            &iosb),
                  STATUS_SUCCESS);
    const FILE_FULL_DIR_INFORMATION *e = (const FILE_FULL_DIR_INFORMATION *)buf;
    assert_int_equal(e->FileAttributes, FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT);
    assert_int_equal(e->EaSize, IO_REPARSE_TAG_MOUNT_POINT);
    assert_status(fltsim_io_query_directory(m->sys, root, buf, sizeof(buf),
                                            FileIdBothDirectoryInformation, L"a.txt",
                                            SL_RESTART_SCAN, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(((const FILE_ID_BOTH_DIR_INFORMATION *)buf)->EaSize, 0);
    assert_status(fltsim_io_close(m->sys, root), STATUS_SUCCESS);

    /* FileBasicInformation cannot clear the attribute: only the FSCTLs do. */
    HANDLE h = open_self(m, L"C:\\empty", FILE_WRITE_ATTRIBUTES);
    FILE_BASIC_INFORMATION basic;
    memset(&basic, 0, sizeof(basic));
    basic.FileAttributes = FILE_ATTRIBUTE_HIDDEN;
    assert_status(
        fltsim_io_set_information(m->sys, h, &basic, sizeof(basic), FileBasicInformation, &iosb),
        STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    assert_int_equal(attributes_of(m, L"C:\\empty", NULL), FILE_ATTRIBUTE_DIRECTORY |
                                                               FILE_ATTRIBUTE_HIDDEN |
                                                               FILE_ATTRIBUTE_REPARSE_POINT);

    /* Set again with the same tag replaces the data. */
    mount_point(&b, L"\\??\\C:\\dir\\sub", L"C:\\dir\\sub");
    assert_status(set_rp(m, L"C:\\empty", &b), STATUS_SUCCESS);
    assert_status(fsctl_on(m, L"C:\\empty", FSCTL_GET_REPARSE_POINT, NULL, got.bytes,
                           sizeof(got.bytes), &info),
                  STATUS_SUCCESS);
    assert_memory_equal(got.bytes, b.bytes, b.len);
}

static void reparse_set_bad_buffers_fail_as_ntfs(void **state)
{
    struct mf *m = *state;
    struct rbuf b;
    /* Shorter than the header. */
    mount_point(&b, L"\\??\\C:\\dir", L"C:\\dir");
    b.len = 4;
    assert_status(set_rp(m, L"C:\\empty", &b), STATUS_IO_REPARSE_DATA_INVALID);
    /* ReparseDataLength disagreeing with the buffer's length. */
    mount_point(&b, L"\\??\\C:\\dir", L"C:\\dir");
    b.len -= 2;
    assert_status(set_rp(m, L"C:\\empty", &b), STATUS_IO_REPARSE_DATA_INVALID);
    /* Over MAXIMUM_REPARSE_DATA_BUFFER_SIZE. */
    HANDLE h = open_self(m, L"C:\\empty", FILE_WRITE_ATTRIBUTES);
    UCHAR *big = calloc(1, MAXIMUM_REPARSE_DATA_BUFFER_SIZE + 8);
    assert_non_null(big);
    ULONG tag = IO_REPARSE_TAG_MOUNT_POINT;
    USHORT dl = MAXIMUM_REPARSE_DATA_BUFFER_SIZE;
    memcpy(big, &tag, 4);
    memcpy(big + 4, &dl, 2);
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_fs_control(m->sys, h, FSCTL_SET_REPARSE_POINT, big,
                                       MAXIMUM_REPARSE_DATA_BUFFER_SIZE + 8, NULL, 0, &iosb),
                  STATUS_IO_REPARSE_DATA_INVALID);
    free(big);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    /* A reserved tag. */
    mount_point(&b, L"\\??\\C:\\dir", L"C:\\dir");
    ((PREPARSE_DATA_BUFFER)b.bytes)->ReparseTag = IO_REPARSE_TAG_RESERVED_ONE;
    assert_status(set_rp(m, L"C:\\empty", &b), STATUS_IO_REPARSE_TAG_INVALID);
    /* Another vendor's tag without its GUID, and Microsoft's with one. */
    mount_point(&b, L"\\??\\C:\\dir", L"C:\\dir");
    ((PREPARSE_DATA_BUFFER)b.bytes)->ReparseTag = TAG_THIRD_PARTY;
    assert_status(set_rp(m, L"C:\\a.txt", &b), STATUS_IO_REPARSE_DATA_INVALID);
    guid_buf(&b, IO_REPARSE_TAG_SYMLINK, &guid_a, "data");
    assert_status(set_rp(m, L"C:\\a.txt", &b), STATUS_IO_REPARSE_DATA_INVALID);
    /* A junction on a file, and on a directory with entries. */
    mount_point(&b, L"\\??\\C:\\dir", L"C:\\dir");
    assert_status(set_rp(m, L"C:\\a.txt", &b), STATUS_NOT_A_DIRECTORY);
    assert_status(set_rp(m, L"C:\\dir", &b), STATUS_DIRECTORY_NOT_EMPTY);
    /* Nothing was stored by any of them. */
    assert_int_equal(attributes_of(m, L"C:\\empty", NULL), FILE_ATTRIBUTE_DIRECTORY);
    assert_int_equal(attributes_of(m, L"C:\\a.txt", NULL) & FILE_ATTRIBUTE_REPARSE_POINT, 0);

    /* Replacing needs the same tag, and for another vendor the same GUID. */
    guid_buf(&b, TAG_THIRD_PARTY, &guid_a, "first");
    assert_status(set_rp(m, L"C:\\a.txt", &b), STATUS_SUCCESS);
    symlink_buf(&b, L"x", true);
    assert_status(set_rp(m, L"C:\\a.txt", &b), STATUS_IO_REPARSE_TAG_MISMATCH);
    guid_buf(&b, TAG_THIRD_PARTY, &guid_b, "second");
    assert_status(set_rp(m, L"C:\\a.txt", &b), STATUS_REPARSE_ATTRIBUTE_CONFLICT);
    guid_buf(&b, TAG_THIRD_PARTY, &guid_a, "second");
    assert_status(set_rp(m, L"C:\\a.txt", &b), STATUS_SUCCESS);

    /* Without write access to the data or attributes. */
    h = open_self(m, L"C:\\empty", FILE_READ_ATTRIBUTES);
    mount_point(&b, L"\\??\\C:\\dir", L"C:\\dir");
    assert_status(
        fltsim_io_fs_control(m->sys, h, FSCTL_SET_REPARSE_POINT, b.bytes, b.len, NULL, 0, &iosb),
        STATUS_ACCESS_DENIED);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
}

static void reparse_get_reports_missing_and_short_buffers(void **state)
{
    struct mf *m = *state;
    struct rbuf b, got;
    ULONG_PTR info = 99;
    assert_status(fsctl_on(m, L"C:\\a.txt", FSCTL_GET_REPARSE_POINT, NULL, got.bytes,
                           sizeof(got.bytes), &info),
                  STATUS_NOT_A_REPARSE_POINT);
    assert_int_equal(info, 0);

    symlink_buf(&b, L"dir\\b.txt", true);
    assert_status(set_rp(m, L"C:\\a.txt", &b), STATUS_SUCCESS);
    /* Not even the header: nothing returned, Information the size needed. */
    assert_status(fsctl_on(m, L"C:\\a.txt", FSCTL_GET_REPARSE_POINT, NULL, got.bytes, 4, &info),
                  STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(info, b.len);
    /* The header and part of the data: what fits, STATUS_BUFFER_OVERFLOW. */
    memset(got.bytes, 0, sizeof(got.bytes));
    assert_status(fsctl_on(m, L"C:\\a.txt", FSCTL_GET_REPARSE_POINT, NULL, got.bytes, 20, &info),
                  STATUS_BUFFER_OVERFLOW);
    assert_int_equal(info, 20);
    assert_memory_equal(got.bytes, b.bytes, 20);

    /* Another vendor's point needs room for the GUID header. */
    guid_buf(&b, TAG_THIRD_PARTY, &guid_a, "payload");
    assert_status(set_rp(m, L"C:\\dir\\b.txt", &b), STATUS_SUCCESS);
    assert_status(fsctl_on(m, L"C:\\dir\\b.txt", FSCTL_GET_REPARSE_POINT, NULL, got.bytes,
                           REPARSE_GUID_DATA_BUFFER_HEADER_SIZE - 1, &info),
                  STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(info, b.len);
    assert_status(fsctl_on(m, L"C:\\dir\\b.txt", FSCTL_GET_REPARSE_POINT, NULL, got.bytes,
                           sizeof(got.bytes), &info),
                  STATUS_SUCCESS);
    assert_memory_equal(got.bytes, b.bytes, b.len);
}

static void reparse_delete_checks_tag_and_guid(void **state)
{
    struct mf *m = *state;
    struct rbuf b, d;
    delete_buf(&d, IO_REPARSE_TAG_MOUNT_POINT, NULL);
    assert_status(fsctl_on(m, L"C:\\empty", FSCTL_DELETE_REPARSE_POINT, &d, NULL, 0, NULL),
                  STATUS_NOT_A_REPARSE_POINT);
    mount_point(&b, L"\\??\\C:\\dir", L"C:\\dir");
    assert_status(set_rp(m, L"C:\\empty", &b), STATUS_SUCCESS);
    /* A delete buffer carries no data. */
    assert_status(fsctl_on(m, L"C:\\empty", FSCTL_DELETE_REPARSE_POINT, &b, NULL, 0, NULL),
                  STATUS_IO_REPARSE_DATA_INVALID);
    delete_buf(&d, IO_REPARSE_TAG_SYMLINK, NULL);
    assert_status(fsctl_on(m, L"C:\\empty", FSCTL_DELETE_REPARSE_POINT, &d, NULL, 0, NULL),
                  STATUS_IO_REPARSE_TAG_MISMATCH);
    delete_buf(&d, IO_REPARSE_TAG_RESERVED_ZERO, NULL);
    assert_status(fsctl_on(m, L"C:\\empty", FSCTL_DELETE_REPARSE_POINT, &d, NULL, 0, NULL),
                  STATUS_IO_REPARSE_TAG_INVALID);
    delete_buf(&d, IO_REPARSE_TAG_MOUNT_POINT, NULL);
    assert_status(fsctl_on(m, L"C:\\empty", FSCTL_DELETE_REPARSE_POINT, &d, NULL, 0, NULL),
                  STATUS_SUCCESS);
    assert_int_equal(attributes_of(m, L"C:\\empty", NULL), FILE_ATTRIBUTE_DIRECTORY);
    assert_status(fsctl_on(m, L"C:\\empty", FSCTL_DELETE_REPARSE_POINT, &d, NULL, 0, NULL),
                  STATUS_NOT_A_REPARSE_POINT);

    /* Another vendor's: its GUID must match. */
    guid_buf(&b, TAG_THIRD_PARTY, &guid_a, "x");
    assert_status(set_rp(m, L"C:\\a.txt", &b), STATUS_SUCCESS);
    delete_buf(&d, TAG_THIRD_PARTY, NULL);
    assert_status(fsctl_on(m, L"C:\\a.txt", FSCTL_DELETE_REPARSE_POINT, &d, NULL, 0, NULL),
                  STATUS_IO_REPARSE_DATA_INVALID);
    delete_buf(&d, TAG_THIRD_PARTY, &guid_b);
    assert_status(fsctl_on(m, L"C:\\a.txt", FSCTL_DELETE_REPARSE_POINT, &d, NULL, 0, NULL),
                  STATUS_REPARSE_ATTRIBUTE_CONFLICT);
    delete_buf(&d, TAG_THIRD_PARTY, &guid_a);
    assert_status(fsctl_on(m, L"C:\\a.txt", FSCTL_DELETE_REPARSE_POINT, &d, NULL, 0, NULL),
                  STATUS_SUCCESS);
    assert_int_equal(attributes_of(m, L"C:\\a.txt", NULL) & FILE_ATTRIBUTE_REPARSE_POINT, 0);
}

static ULONG fs_attributes(struct mf *m, PCWSTR root)
{
    HANDLE h = open_self(m, root, FILE_READ_ATTRIBUTES);
    _Alignas(8) UCHAR buf[128];
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_query_volume_information(m->sys, h, buf, sizeof(buf),
                                                     FileFsAttributeInformation, &iosb),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    return ((const FILE_FS_ATTRIBUTE_INFORMATION *)buf)->FileSystemAttributes;
}

/* hostfs keeps no reparse points: SET and DELETE are controls it does not
 * implement, GET finds none. */
static void reparse_hostfs_keeps_none(void **state)
{
    struct mf *m = *state;
    char dir[] = "/tmp/fltsim-reparse-XXXXXX";
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/fltsim-reparse-XXXXXX", tmp != NULL ? tmp : "/tmp");
    char *made = mkdtemp(path);
    if (made == NULL)
        made = mkdtemp(dir);
    assert_non_null(made);
    struct fltsim_hostfs *hfs;
    assert_status(fltsim_hostfs_create(made, NULL, &hfs), STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume2",
                                      .drive_letter = L'D',
                                      .ops = &fltsim_hostfs_ops,
                                      .fs = hfs,
                                      .fs_type = FLT_FSTYPE_NTFS};
    PFLT_VOLUME vol;
    assert_status(fltsim_volume_mount(m->sys, &vp, &vol), STATUS_SUCCESS);
    struct rbuf b, got;
    mount_point(&b, L"\\??\\C:\\dir", L"C:\\dir");
    assert_status(set_rp(m, L"D:\\", &b), STATUS_INVALID_DEVICE_REQUEST);
    delete_buf(&b, IO_REPARSE_TAG_MOUNT_POINT, NULL);
    assert_status(fsctl_on(m, L"D:\\", FSCTL_DELETE_REPARSE_POINT, &b, NULL, 0, NULL),
                  STATUS_INVALID_DEVICE_REQUEST);
    assert_status(
        fsctl_on(m, L"D:\\", FSCTL_GET_REPARSE_POINT, NULL, got.bytes, sizeof(got.bytes), NULL),
        STATUS_NOT_A_REPARSE_POINT);
    /* memfs says it supports reparse points, hostfs does not. */
    assert_true(fs_attributes(m, L"C:\\") & SUPPORTS_REPARSE_POINTS);
    assert_false(fs_attributes(m, L"D:\\") & SUPPORTS_REPARSE_POINTS);
    assert_status(fltsim_volume_dismount(vol), STATUS_SUCCESS); /* releases hfs */
    assert_int_equal(rmdir(made), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reparse_set_get_mount_point_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(reparse_set_bad_buffers_fail_as_ntfs, setup, teardown),
        cmocka_unit_test_setup_teardown(reparse_get_reports_missing_and_short_buffers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(reparse_delete_checks_tag_and_guid, setup, teardown),
        cmocka_unit_test_setup_teardown(reparse_hostfs_keeps_none, setup, teardown),
    };
    return FLTSIM_RUN_SUITE("reparse", tests);
}
