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

/* Windows' limit (Learn: "a maximum of 63 reparse points ... in a particular path"). */
#define FLTSIM_TEST_MAX_REPARSES 63

/* snprintf into a wide buffer (ASCII only). */
static void swprintf_ascii(WCHAR *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void swprintf_ascii(WCHAR *out, size_t n, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    size_t k = 0;
    for (; tmp[k] != 0 && k + 1 < n; k++)
        out[k] = (WCHAR)tmp[k];
    out[k] = 0;
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

/* ---- creates that meet reparse points ---- */

/* The data of path (opened without FILE_OPEN_REPARSE_POINT), or the status. */
static NTSTATUS read_text(struct mf *m, PCWSTR path, char *out, size_t size)
{
    HANDLE h;
    memset(out, 0, size);
    NTSTATUS st = cr(m, path, GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, &h, NULL);
    if (!NT_SUCCESS(st))
        return st;
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    st = fltsim_io_read(m->sys, h, out, (ULONG)size - 1, &zero, 0, &iosb);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    return st == STATUS_END_OF_FILE ? STATUS_SUCCESS : st;
}

/* The path (from the volume root) of what path opens, options added. */
static NTSTATUS opened_name(struct mf *m, PCWSTR path, ULONG options, char *out, size_t size)
{
    HANDLE h;
    out[0] = 0;
    NTSTATUS st = cr(m, path, FILE_READ_ATTRIBUTES, ALL_SHARE, FILE_OPEN, options, &h, NULL);
    if (!NT_SUCCESS(st))
        return st;
    struct {
        FILE_NAME_INFORMATION info;
        WCHAR more[128];
    } nb;
    IO_STATUS_BLOCK iosb;
    assert_status(
        fltsim_io_query_information(m->sys, h, &nb, sizeof(nb), FileNameInformation, 0, &iosb),
        STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    size_t n = nb.info.FileNameLength / sizeof(WCHAR), k = 0;
    const WCHAR *fn = nb.info.FileName; /* runs on into nb.more */
    for (; k < n && k + 1 < size; k++)
        out[k] = (char)fn[k];
    out[k] = 0;
    return st;
}

static void reparse_create_follows_junction(void **state)
{
    struct mf *m = *state;
    struct rbuf b;
    char text[64];
    mount_point(&b, L"\\??\\C:\\dir", L"C:\\dir");
    assert_status(set_rp(m, L"C:\\empty", &b), STATUS_SUCCESS);
    /* An intermediate component: the rest of the name goes on at the target. */
    assert_status(read_text(m, L"C:\\empty\\b.txt", text, sizeof(text)), STATUS_SUCCESS);
    assert_string_equal(text, "bravo");
    assert_status(opened_name(m, L"C:\\empty\\sub", FILE_DIRECTORY_FILE, text, sizeof(text)),
                  STATUS_SUCCESS);
    assert_string_equal(text, "\\dir\\sub");
    /* The last component: the target itself, unless the caller opens the
     * junction (FILE_OPEN_REPARSE_POINT). */
    assert_status(opened_name(m, L"C:\\empty", FILE_DIRECTORY_FILE, text, sizeof(text)),
                  STATUS_SUCCESS);
    assert_string_equal(text, "\\dir");
    assert_status(opened_name(m, L"C:\\empty", FILE_OPEN_REPARSE_POINT, text, sizeof(text)),
                  STATUS_SUCCESS);
    assert_string_equal(text, "\\empty");
    /* FILE_OPEN_REPARSE_POINT is about the last component only. */
    assert_status(opened_name(m, L"C:\\empty\\b.txt", FILE_OPEN_REPARSE_POINT, text, sizeof(text)),
                  STATUS_SUCCESS);
    assert_string_equal(text, "\\dir\\b.txt");
    /* What the target lacks is not found there. */
    assert_status(read_text(m, L"C:\\empty\\none.txt", text, sizeof(text)),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    /* A relative open through a directory handle reparses too. */
    HANDLE root = open_self(m, L"C:\\", FILE_LIST_DIRECTORY);
    struct fltsim_create_params p = {.path = L"empty\\b.txt",
                                     .root_directory = root,
                                     .desired_access = GENERIC_READ | SYNCHRONIZE,
                                     .share_access = ALL_SHARE,
                                     .disposition = FILE_OPEN,
                                     .create_options = FILE_SYNCHRONOUS_IO_NONALERT};
    HANDLE h = NULL;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_create(m->sys, &p, &h, &iosb), STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, root), STATUS_SUCCESS);
}

static void reparse_create_follows_symbolic_links(void **state)
{
    struct mf *m = *state;
    struct rbuf b;
    char text[64];
    /* Absolute, to a file. */
    assert_status(fltsim_memfs_add_file(m->fs, L"\\abs", "", 0), STATUS_SUCCESS);
    symlink_buf(&b, L"\\??\\C:\\dir\\b.txt", false);
    assert_status(set_rp(m, L"C:\\abs", &b), STATUS_SUCCESS);
    assert_status(read_text(m, L"C:\\abs", text, sizeof(text)), STATUS_SUCCESS);
    assert_string_equal(text, "bravo");
    /* Relative, from the link's own directory, ".." resolved. */
    assert_status(fltsim_memfs_add_file(m->fs, L"\\dir\\sub\\rel", "", 0), STATUS_SUCCESS);
    symlink_buf(&b, L"..\\..\\a.txt", true);
    assert_status(set_rp(m, L"C:\\dir\\sub\\rel", &b), STATUS_SUCCESS);
    assert_status(read_text(m, L"C:\\dir\\sub\\rel", text, sizeof(text)), STATUS_SUCCESS);
    assert_string_equal(text, "hello world");
    /* Relative, to a directory, met on the way. */
    assert_status(fltsim_memfs_add_directory(m->fs, L"\\dir\\sub\\up"), STATUS_SUCCESS);
    symlink_buf(&b, L"..\\.", true);
    assert_status(set_rp(m, L"C:\\dir\\sub\\up", &b), STATUS_SUCCESS);
    assert_status(opened_name(m, L"C:\\dir\\sub\\up\\b.txt", 0, text, sizeof(text)),
                  STATUS_SUCCESS);
    assert_string_equal(text, "\\dir\\b.txt");
    /* Above the root there is nothing. */
    symlink_buf(&b, L"..\\..\\..\\..\\a.txt", true);
    assert_status(set_rp(m, L"C:\\dir\\sub\\rel", &b), STATUS_SUCCESS);
    assert_status(read_text(m, L"C:\\dir\\sub\\rel", text, sizeof(text)),
                  STATUS_OBJECT_PATH_NOT_FOUND);
}

static void reparse_create_stops_after_63_reparses(void **state)
{
    struct mf *m = *state;
    struct rbuf b;
    char text[64];
    /* l0 -> l1 -> ... -> l63 -> \a.txt: from l1, 63 reparses; from l0, 64. */
    for (int i = 0; i <= FLTSIM_TEST_MAX_REPARSES; i++) {
        WCHAR name[16], target[32];
        swprintf_ascii(name, 16, "\\l%d", i);
        if (i == FLTSIM_TEST_MAX_REPARSES)
            swprintf_ascii(target, 32, "\\??\\C:\\a.txt");
        else
            swprintf_ascii(target, 32, "\\??\\C:\\l%d", i + 1);
        assert_status(fltsim_memfs_add_file(m->fs, name, "", 0), STATUS_SUCCESS);
        WCHAR cpath[20] = L"C:";
        memcpy(cpath + 2, name, (fltsim_wcslen(name) + 1) * sizeof(WCHAR));
        symlink_buf(&b, target, false);
        assert_status(set_rp(m, cpath, &b), STATUS_SUCCESS);
    }
    assert_status(read_text(m, L"C:\\l1", text, sizeof(text)), STATUS_SUCCESS);
    assert_string_equal(text, "hello world");
    assert_status(read_text(m, L"C:\\l0", text, sizeof(text)), STATUS_REPARSE_POINT_NOT_RESOLVED);
    /* A loop ends the same way. */
    symlink_buf(&b, L"\\??\\C:\\l0", false);
    assert_status(set_rp(m, L"C:\\l63", &b), STATUS_SUCCESS);
    IO_STATUS_BLOCK iosb = {{STATUS_SUCCESS}, 7};
    struct fltsim_create_params p = {.path = L"C:\\l5",
                                     .desired_access = GENERIC_READ | SYNCHRONIZE,
                                     .share_access = ALL_SHARE,
                                     .disposition = FILE_OPEN,
                                     .create_options = FILE_SYNCHRONOUS_IO_NONALERT};
    HANDLE h = NULL;
    assert_status(fltsim_io_create(m->sys, &p, &h, &iosb), STATUS_REPARSE_POINT_NOT_RESOLVED);
    assert_status(iosb.Status, STATUS_REPARSE_POINT_NOT_RESOLVED);
    assert_null(h);
}

static void reparse_create_unknown_tag_is_not_handled(void **state)
{
    struct mf *m = *state;
    struct rbuf b;
    char text[64];
    guid_buf(&b, TAG_THIRD_PARTY, &guid_a, "hsm");
    assert_status(set_rp(m, L"C:\\a.txt", &b), STATUS_SUCCESS);
    assert_status(read_text(m, L"C:\\a.txt", text, sizeof(text)),
                  STATUS_IO_REPARSE_TAG_NOT_HANDLED);
    /* The reparse point itself still opens. */
    assert_status(opened_name(m, L"C:\\a.txt", FILE_OPEN_REPARSE_POINT, text, sizeof(text)),
                  STATUS_SUCCESS);
    assert_string_equal(text, "\\a.txt");
    /* A junction whose data names nothing valid. */
    mount_point(&b, L"\\??\\C:\\dir", L"C:\\dir");
    ((PREPARSE_DATA_BUFFER)b.bytes)->MountPointReparseBuffer.SubstituteNameLength = 500;
    assert_status(set_rp(m, L"C:\\empty", &b), STATUS_SUCCESS);
    assert_status(opened_name(m, L"C:\\empty", 0, text, sizeof(text)),
                  STATUS_IO_REPARSE_DATA_INVALID);
}

/* ---- filters and STATUS_REPARSE ---- */

/* Post-create: what the filter saw of a reparse (recorded, asserted on the
 * test thread). */
static FLT_POSTOP_CALLBACK_STATUS watch_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                             PCFLT_RELATED_OBJECTS objects, PVOID context,
                                             FLT_POST_OPERATION_FLAGS flags)
{
    (void)tf;
    (void)objects;
    (void)context;
    (void)flags;
    if (data->IoStatus.Status == STATUS_REPARSE) {
        PFLT_TAG_DATA_BUFFER t = data->TagData;
        rec_add("post:REPARSE info=0x%lx tag=0x%lx unparsed=%u",
                (unsigned long)data->IoStatus.Information,
                t != NULL ? (unsigned long)t->FileTag : 0ul,
                t != NULL ? (unsigned)t->UnparsedNameLength : 0u);
    } else {
        rec_add("post:0x%08lx", (unsigned long)(ULONG)data->IoStatus.Status);
    }
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static void reparse_filter_sees_status_reparse_in_post_create(void **state)
{
    struct mf *m = *state;
    struct rbuf b;
    char text[64];
    tf_reset_all();
    rec_reset();
    static struct tf_filter tf; /* the system keeps it until teardown */
    tf_init(&tf, "W", "370000");
    tf_only(&tf, IRP_MJ_CREATE);
    tf.post = watch_post;
    assert_status(tf_load(m->sys, &tf), STATUS_SUCCESS);
    mount_point(&b, L"\\??\\C:\\dir", L"C:\\dir");
    assert_status(set_rp(m, L"C:\\empty", &b), STATUS_SUCCESS);
    rec_reset();
    assert_status(read_text(m, L"C:\\empty\\b.txt", text, sizeof(text)), STATUS_SUCCESS);
    assert_string_equal(text, "bravo");
    /* The first create reparses (the rest, "\b.txt", is 12 bytes unparsed);
     * the I/O manager's second opens the target. */
    assert_recorded("W:pre:CREATE W:post:CREATE post:REPARSE info=0xa0000003 tag=0xa0000003 "
                    "unparsed=12 W:pre:CREATE W:post:CREATE post:0x00000000");
    assert_int_equal(fltsim_system_report_count(m->sys), 0);
}

/* Pre-create of the simrep kind: a name under \virtual is sent to \dir with
 * IoReplaceFileObjectName and STATUS_REPARSE / IO_REPARSE. */
static FLT_PREOP_CALLBACK_STATUS redirect_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                              PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)context;
    static const WCHAR prefix[] = L"\\virtual\\";
    const size_t plen = sizeof(prefix) / sizeof(WCHAR) - 1;
    PUNICODE_STRING name = &objects->FileObject->FileName;
    size_t n = name->Length / sizeof(WCHAR);
    if (n <= plen || memcmp(name->Buffer, prefix, plen * sizeof(WCHAR)) != 0) {
        char narrow[128];
        size_t k = 0;
        for (; k < n && k + 1 < sizeof(narrow); k++)
            narrow[k] = (char)name->Buffer[k];
        narrow[k] = 0;
        rec_add("pre:%s", narrow);
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    WCHAR target[128] = L"\\Device\\HarddiskVolume1\\dir\\";
    size_t t = fltsim_wcslen(target);
    memcpy(target + t, name->Buffer + plen, (n - plen) * sizeof(WCHAR));
    t += n - plen;
    NTSTATUS st = IoReplaceFileObjectName(objects->FileObject, target, (USHORT)(t * sizeof(WCHAR)));
    rec_add("pre:redirect=0x%08lx", (unsigned long)(ULONG)st);
    data->IoStatus.Status = STATUS_REPARSE;
    data->IoStatus.Information = IO_REPARSE;
    return FLT_PREOP_COMPLETE;
}

static void reparse_filter_replacing_the_name_reissues_the_create(void **state)
{
    struct mf *m = *state;
    char text[64];
    tf_reset_all();
    rec_reset();
    static struct tf_filter tf; /* the system keeps it until teardown */
    tf_init(&tf, "R", "370000");
    tf_only(&tf, IRP_MJ_CREATE);
    tf.pre = redirect_pre;
    assert_status(tf_load(m->sys, &tf), STATUS_SUCCESS);
    rec_reset();
    assert_status(read_text(m, L"C:\\virtual\\b.txt", text, sizeof(text)), STATUS_SUCCESS);
    assert_string_equal(text, "bravo");
    assert_recorded("R:pre:CREATE pre:redirect=0x00000000 R:pre:CREATE pre:\\dir\\b.txt");
    assert_status(opened_name(m, L"C:\\virtual\\sub", FILE_DIRECTORY_FILE, text, sizeof(text)),
                  STATUS_SUCCESS);
    assert_string_equal(text, "\\dir\\sub");
    /* Where the new name leads nowhere, the reissued create says so. */
    assert_status(read_text(m, L"C:\\virtual\\none", text, sizeof(text)),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    /* A pre-create completing with STATUS_REPARSE breaks no rule. */
    assert_int_equal(fltsim_system_report_count(m->sys), 0);
    /* The replaced names are the I/O manager's pool, not the filter's. */
    struct fltsim_pool_stats ps;
    fltsim_driver_pool_stats(tf.driver, 0, &ps);
    assert_int_equal(ps.outstanding, 0);
    assert_status(fltsim_driver_unload(tf.driver, 0), STATUS_SUCCESS);
}

static void reparse_io_replace_file_object_name_keeps_or_swaps_the_buffer(void **state)
{
    (void)state;
    FILE_OBJECT fo;
    memset(&fo, 0, sizeof(fo));
    WCHAR x[] = L"x", xy[] = L"\\xy", longer[] = L"\\a\\much\\longer\\name.txt";
    assert_status(IoReplaceFileObjectName(&fo, x, 2), STATUS_INVALID_PARAMETER);
    PWSTR first = fltsim_pool_allocate_system(8 * sizeof(WCHAR), 0x74736554u);
    assert_non_null(first);
    memcpy(first, L"\\abcdef", 7 * sizeof(WCHAR));
    fo.FileName.Buffer = first;
    fo.FileName.Length = 7 * sizeof(WCHAR);
    fo.FileName.MaximumLength = 8 * sizeof(WCHAR);
    /* Shorter: in place. */
    assert_status(IoReplaceFileObjectName(&fo, xy, 3 * sizeof(WCHAR)), STATUS_SUCCESS);
    assert_ptr_equal(fo.FileName.Buffer, first);
    assert_int_equal(fo.FileName.Length, 3 * sizeof(WCHAR));
    assert_memory_equal(fo.FileName.Buffer, L"\\xy", 3 * sizeof(WCHAR));
    /* Longer: a new buffer, the old one freed. */
    USHORT bytes = (USHORT)(sizeof(longer) - sizeof(WCHAR));
    assert_status(IoReplaceFileObjectName(&fo, longer, bytes), STATUS_SUCCESS);
    assert_ptr_not_equal(fo.FileName.Buffer, first);
    assert_int_equal(fo.FileName.Length, bytes);
    assert_true(fo.FileName.MaximumLength >= bytes);
    assert_memory_equal(fo.FileName.Buffer, longer, bytes);
    ExFreePool(fo.FileName.Buffer);
    /* simrep looks it up by name (MmGetSystemRoutineAddress) and uses its
     * own fallback when it is missing; it is there now. */
    UNICODE_STRING routine;
    RtlInitUnicodeString(&routine, L"IoReplaceFileObjectName");
    PVOID found = MmGetSystemRoutineAddress(&routine);
    PVOID direct;
    NTSTATUS (*fn)(PFILE_OBJECT, PWSTR, USHORT) = IoReplaceFileObjectName;
    memcpy(&direct, &fn, sizeof(direct));
    assert_ptr_equal(found, direct);
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
        cmocka_unit_test_setup_teardown(reparse_create_follows_junction, setup, teardown),
        cmocka_unit_test_setup_teardown(reparse_create_follows_symbolic_links, setup, teardown),
        cmocka_unit_test_setup_teardown(reparse_create_stops_after_63_reparses, setup, teardown),
        cmocka_unit_test_setup_teardown(reparse_create_unknown_tag_is_not_handled, setup, teardown),
        cmocka_unit_test_setup_teardown(reparse_filter_sees_status_reparse_in_post_create, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(reparse_filter_replacing_the_name_reissues_the_create,
                                        setup, teardown),
        cmocka_unit_test(reparse_io_replace_file_object_name_keeps_or_swaps_the_buffer),
    };
    return FLTSIM_RUN_SUITE("reparse", tests);
}
