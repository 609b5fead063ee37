/*
 * Named data streams in memfs (issue 17, item 5): file.txt:name and
 * file.txt:name:$DATA open, create, read, write and delete a stream of their
 * own, file.txt::$DATA is the default stream, FileStreamInformation lists
 * them with their sizes, and sharing and delete go per stream as on NTFS.
 * hostfs has none (test_hostfs.c).
 */
#include <stdio.h>
#include <string.h>

#include "memfs_fx.h"

static void put(struct mf *m, HANDLE h, const char *data)
{
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    assert_status(fltsim_io_write(m->sys, h, data, (ULONG)strlen(data), &zero, 0, &iosb),
                  STATUS_SUCCESS);
}

/* Reads path's data (at most size - 1 bytes) as a NUL-terminated string. */
static void get(struct mf *m, PCWSTR path, char *out, size_t size)
{
    HANDLE h;
    assert_status(cr(m, path, GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, &h, NULL), STATUS_SUCCESS);
    IO_STATUS_BLOCK iosb;
    LONGLONG zero = 0;
    memset(out, 0, size);
    NTSTATUS st = fltsim_io_read(m->sys, h, out, (ULONG)size - 1, &zero, 0, &iosb);
    assert_true(st == STATUS_SUCCESS || st == STATUS_END_OF_FILE);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
}

/* The stream names FileStreamInformation lists for path, "name=size,". */
static NTSTATUS list_streams(struct mf *m, PCWSTR path, ULONG length, char *out, size_t size)
{
    HANDLE h;
    assert_status(cr(m, path, FILE_READ_ATTRIBUTES, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    _Alignas(8) UCHAR buf[1024];
    IO_STATUS_BLOCK iosb;
    NTSTATUS st =
        fltsim_io_query_information(m->sys, h, buf, length, FileStreamInformation, 0, &iosb);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    out[0] = 0;
    if ((ULONG)st >= 0xC0000000u || iosb.Information == 0) /* errors; warnings fill */
        return st;
    for (ULONG at = 0;;) {
        const FILE_STREAM_INFORMATION *e = (const FILE_STREAM_INFORMATION *)(buf + at);
        size_t k = strlen(out);
        for (ULONG i = 0; i < e->StreamNameLength / sizeof(WCHAR) && k + 1 < size; i++)
            out[k++] = (char)e->StreamName[i];
        snprintf(out + k, size - k, "=%lld,", (long long)e->StreamSize.QuadPart);
        if (e->NextEntryOffset == 0)
            break;
        at += e->NextEntryOffset;
    }
    return st;
}

static void stream_create_read_write(void **state)
{
    struct mf *m = *state;
    HANDLE h;
    ULONG_PTR info = 0;
    assert_status(cr(m, L"C:\\a.txt:ads", GENERIC_WRITE, ALL_SHARE, FILE_CREATE, 0, &h, &info),
                  STATUS_SUCCESS);
    assert_int_equal(info, FILE_CREATED);
    put(m, h, "stream");
    struct name_info {
        FILE_NAME_INFORMATION info;
        WCHAR more[32];
    } nb;
    IO_STATUS_BLOCK iosb;
    assert_status(
        fltsim_io_query_information(m->sys, h, &nb, sizeof(nb), FileNameInformation, 0, &iosb),
        STATUS_SUCCESS);
    assert_int_equal(nb.info.FileNameLength, 10 * sizeof(WCHAR));
    assert_memory_equal(nb.info.FileName, L"\\a.txt:ads", 10 * sizeof(WCHAR));
    /* The alternate name is the file's, without the stream. */
    assert_status(fltsim_io_query_information(m->sys, h, &nb, sizeof(nb),
                                              FileAlternateNameInformation, 0, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(nb.info.FileNameLength, 5 * sizeof(WCHAR));
    assert_memory_equal(nb.info.FileName, L"a.txt", 5 * sizeof(WCHAR));
    FILE_STANDARD_INFORMATION std;
    assert_status(fltsim_io_query_information(m->sys, h, &std, sizeof(std), FileStandardInformation,
                                              0, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(std.EndOfFile.QuadPart, 6);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);

    char buf[32];
    get(m, L"C:\\a.txt:ads", buf, sizeof(buf));
    assert_string_equal(buf, "stream");
    get(m, L"C:\\A.TXT:ADS:$data", buf, sizeof(buf));
    assert_string_equal(buf, "stream");
    get(m, L"C:\\a.txt", buf, sizeof(buf)); /* the default stream is untouched */
    assert_string_equal(buf, "hello world");
    get(m, L"C:\\a.txt::$DATA", buf, sizeof(buf));
    assert_string_equal(buf, "hello world");
    assert_int_equal(file_size(m, L"\\a.txt"), 11);

    /* FILE_CREATE on an existing stream collides; FILE_OPEN of a missing one
     * does not find it. */
    assert_status(cr(m, L"C:\\a.txt:ads", GENERIC_READ, ALL_SHARE, FILE_CREATE, 0, NULL, &info),
                  STATUS_OBJECT_NAME_COLLISION);
    assert_status(cr(m, L"C:\\a.txt:none", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    /* Overwriting a stream empties only it. */
    assert_status(cr(m, L"C:\\a.txt:ads", GENERIC_WRITE, ALL_SHARE, FILE_OVERWRITE, 0, NULL, &info),
                  STATUS_SUCCESS);
    assert_int_equal(info, FILE_OVERWRITTEN);
    char list[128];
    assert_status(list_streams(m, L"C:\\a.txt", 1024, list, sizeof(list)), STATUS_SUCCESS);
    assert_string_equal(list, "::$DATA=11,:ads:$DATA=0,");
}

/* A stream of a missing file makes the file first (FILE_OPEN_IF, FILE_CREATE). */
static void stream_creates_its_file(void **state)
{
    struct mf *m = *state;
    ULONG_PTR info = 0;
    assert_status(cr(m, L"C:\\new.txt:s", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, &info),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    assert_false(exists(m, L"\\new.txt"));
    assert_status(cr(m, L"C:\\new.txt:s", GENERIC_WRITE, ALL_SHARE, FILE_OPEN_IF, 0, NULL, &info),
                  STATUS_SUCCESS);
    assert_int_equal(info, FILE_CREATED);
    assert_true(exists(m, L"\\new.txt"));
    assert_int_equal(file_size(m, L"\\new.txt"), 0);
    char list[128];
    assert_status(list_streams(m, L"C:\\new.txt:s", 1024, list, sizeof(list)), STATUS_SUCCESS);
    assert_string_equal(list, "::$DATA=0,:s:$DATA=0,");
    /* A directory has no default stream but may hold named ones. */
    assert_status(list_streams(m, L"C:\\dir", 1024, list, sizeof(list)), STATUS_SUCCESS);
    assert_string_equal(list, "");
    assert_status(cr(m, L"C:\\dir:tag", GENERIC_WRITE, ALL_SHARE, FILE_CREATE, 0, NULL, NULL),
                  STATUS_SUCCESS);
    assert_status(list_streams(m, L"C:\\dir", 1024, list, sizeof(list)), STATUS_SUCCESS);
    assert_string_equal(list, ":tag:$DATA=0,");
}

static void stream_bad_names(void **state)
{
    struct mf *m = *state;
    static const PCWSTR invalid[] = {L"C:\\a.txt:",   L"C:\\a.txt:s:$FOO", L"C:\\a.txt:s:",
                                     L"C:\\a.txt:s*", L"C:\\:s",           L"C:\\a.txt:s:$DATA:x"};
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
        assert_status(cr(m, invalid[i], GENERIC_READ, ALL_SHARE, FILE_OPEN_IF, 0, NULL, NULL),
                      STATUS_OBJECT_NAME_INVALID);
    assert_status(cr(m, L"C:\\a.txt:s", GENERIC_READ, ALL_SHARE, FILE_OPEN_IF, FILE_DIRECTORY_FILE,
                     NULL, NULL),
                  STATUS_NOT_A_DIRECTORY);
    /* FileStreamInformation needs room for one record's fixed part. */
    char list[128];
    assert_status(list_streams(m, L"C:\\a.txt", 8, list, sizeof(list)),
                  STATUS_INFO_LENGTH_MISMATCH);
}

/* Not all entries fit: the whole ones that do, STATUS_BUFFER_OVERFLOW. */
static void stream_list_overflow(void **state)
{
    struct mf *m = *state;
    assert_status(cr(m, L"C:\\a.txt:first", GENERIC_WRITE, ALL_SHARE, FILE_CREATE, 0, NULL, NULL),
                  STATUS_SUCCESS);
    char list[128];
    ULONG one = (ULONG)offsetof(FILE_STREAM_INFORMATION, StreamName) + 7 * sizeof(WCHAR);
    assert_status(list_streams(m, L"C:\\a.txt", one + 8, list, sizeof(list)),
                  STATUS_BUFFER_OVERFLOW);
    assert_string_equal(list, "::$DATA=11,");
}

/* Each stream has its own share access: a stream open does not stop
 * another stream's, nor does an exclusive open of the file stop a stream. */
static void stream_sharing_is_per_stream(void **state)
{
    struct mf *m = *state;
    HANDLE whole, s;
    assert_status(cr(m, L"C:\\a.txt", GENERIC_READ | GENERIC_WRITE, 0, FILE_OPEN, 0, &whole, NULL),
                  STATUS_SUCCESS);
    assert_status(
        cr(m, L"C:\\a.txt:ads", GENERIC_READ | GENERIC_WRITE, 0, FILE_OPEN_IF, 0, &s, NULL),
        STATUS_SUCCESS);
    assert_status(cr(m, L"C:\\a.txt", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_SHARING_VIOLATION);
    assert_status(cr(m, L"C:\\a.txt:ads", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_SHARING_VIOLATION);
    assert_status(cr(m, L"C:\\a.txt:other", GENERIC_READ, ALL_SHARE, FILE_OPEN_IF, 0, NULL, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, s), STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, whole), STATUS_SUCCESS);
}

/* Deleting a stream takes only it; deleting the file takes its streams. */
static void stream_delete(void **state)
{
    struct mf *m = *state;
    assert_status(cr(m, L"C:\\a.txt:one", GENERIC_WRITE, ALL_SHARE, FILE_CREATE, 0, NULL, NULL),
                  STATUS_SUCCESS);
    assert_status(cr(m, L"C:\\a.txt:two", GENERIC_WRITE, ALL_SHARE, FILE_CREATE, 0, NULL, NULL),
                  STATUS_SUCCESS);
    assert_status(
        cr(m, L"C:\\a.txt:one", DELETE, ALL_SHARE, FILE_OPEN, FILE_DELETE_ON_CLOSE, NULL, NULL),
        STATUS_SUCCESS);
    char list[128];
    assert_status(list_streams(m, L"C:\\a.txt", 1024, list, sizeof(list)), STATUS_SUCCESS);
    assert_string_equal(list, "::$DATA=11,:two:$DATA=0,");
    assert_true(exists(m, L"\\a.txt"));

    /* The file goes with its streams, even one still open. */
    HANDLE two;
    assert_status(cr(m, L"C:\\a.txt:two", GENERIC_WRITE, ALL_SHARE, FILE_OPEN, 0, &two, NULL),
                  STATUS_SUCCESS);
    assert_status(
        cr(m, L"C:\\a.txt", DELETE, ALL_SHARE, FILE_OPEN, FILE_DELETE_ON_CLOSE, NULL, NULL),
        STATUS_SUCCESS);
    assert_false(exists(m, L"\\a.txt"));
    put(m, two, "late"); /* the open stream still takes its data */
    assert_status(fltsim_io_close(m->sys, two), STATUS_SUCCESS);
    assert_status(cr(m, L"C:\\a.txt", GENERIC_WRITE, ALL_SHARE, FILE_CREATE, 0, NULL, NULL),
                  STATUS_SUCCESS);
    assert_status(cr(m, L"C:\\a.txt:two", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    /* A stream cannot be renamed. */
    HANDLE s;
    assert_status(
        cr(m, L"C:\\a.txt:x", DELETE | GENERIC_WRITE, ALL_SHARE, FILE_CREATE, 0, &s, NULL),
        STATUS_SUCCESS);
    assert_status(fltsim_io_rename(m->sys, s, L"b.txt", FALSE, NULL), STATUS_INVALID_PARAMETER);
    assert_status(fltsim_io_close(m->sys, s), STATUS_SUCCESS);
}

/* A directory with an open stream of a file below cannot be renamed (its
 * path would change under the handle), as with the file itself open. */
static void stream_open_below_blocks_directory_rename(void **state)
{
    struct mf *m = *state;
    HANDLE s, d;
    assert_status(cr(m, L"C:\\dir\\b.txt:s", GENERIC_WRITE, ALL_SHARE, FILE_OPEN_IF, 0, &s, NULL),
                  STATUS_SUCCESS);
    assert_status(cr(m, L"C:\\dir", DELETE, ALL_SHARE, FILE_OPEN, FILE_DIRECTORY_FILE, &d, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_rename(m->sys, d, L"dir2", FALSE, NULL), STATUS_ACCESS_DENIED);
    assert_status(fltsim_io_close(m->sys, s), STATUS_SUCCESS);
    assert_status(fltsim_io_rename(m->sys, d, L"dir2", FALSE, NULL), STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, d), STATUS_SUCCESS);
    char buf[8];
    get(m, L"C:\\dir2\\b.txt", buf, sizeof(buf));
    assert_string_equal(buf, "bravo");
}

/* A read-only file takes no new stream; its existing ones open for reading. */
static void stream_read_only_file(void **state)
{
    struct mf *m = *state;
    assert_status(cr(m, L"C:\\a.txt:old", GENERIC_WRITE, ALL_SHARE, FILE_CREATE, 0, NULL, NULL),
                  STATUS_SUCCESS);
    HANDLE h;
    assert_status(cr(m, L"C:\\a.txt", FILE_WRITE_ATTRIBUTES, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    FILE_BASIC_INFORMATION b;
    memset(&b, 0, sizeof(b));
    b.FileAttributes = FILE_ATTRIBUTE_READONLY;
    assert_status(fltsim_io_set_information(m->sys, h, &b, sizeof(b), FileBasicInformation, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    assert_status(cr(m, L"C:\\a.txt:new", GENERIC_WRITE, ALL_SHARE, FILE_CREATE, 0, NULL, NULL),
                  STATUS_ACCESS_DENIED);
    assert_status(cr(m, L"C:\\a.txt:old", GENERIC_WRITE, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_ACCESS_DENIED);
    assert_status(cr(m, L"C:\\a.txt:old", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_SUCCESS);
}

/* memfs says it has named streams. */
static void stream_volume_attribute(void **state)
{
    struct mf *m = *state;
    HANDLE h;
    assert_status(cr(m, L"C:\\a.txt", FILE_READ_ATTRIBUTES, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    _Alignas(8) UCHAR buf[128];
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_query_volume_information(m->sys, h, buf, sizeof(buf),
                                                     FileFsAttributeInformation, &iosb),
                  STATUS_SUCCESS);
    const FILE_FS_ATTRIBUTE_INFORMATION *a = (const FILE_FS_ATTRIBUTE_INFORMATION *)buf;
    assert_true(a->FileSystemAttributes & 0x00040000u); /* FILE_NAMED_STREAMS */
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(stream_create_read_write),
        T(stream_creates_its_file),
        T(stream_bad_names),
        T(stream_list_overflow),
        T(stream_sharing_is_per_stream),
        T(stream_delete),
        T(stream_volume_attribute),
        T(stream_open_below_blocks_directory_rename),
        T(stream_read_only_file),
    };
#undef T
    return FLTSIM_RUN_SUITE("streams", tests);
}
