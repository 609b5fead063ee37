/*
 * memfs's answers to information requests (issue 2, item 6): the query and
 * set information classes with NTFS's rules and buffer overflows, renames,
 * and directory enumeration with wildcards, restarts and small buffers.
 * Cases go through the test I/O API with no filters loaded, or call
 * fltsim_memfs_ops directly where the I/O manager would refuse the request.
 * Opening, reading and writing files is test_memfs.c.
 */
#include <stdio.h>
#include <string.h>

#include "memfs_fx.h"

/* ---- information ---- */

static void memfs_query_classes(void **state)
{
    struct mf *m = *state;
    HANDLE h;
    assert_status(cr(m, L"C:\\dir\\b.txt", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    IO_STATUS_BLOCK iosb;
    FILE_BASIC_INFORMATION basic;
    assert_status(fltsim_io_query_information(m->sys, h, &basic, sizeof(basic),
                                              FileBasicInformation, 0, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(iosb.Information, sizeof(basic));
    assert_int_equal(basic.FileAttributes, FILE_ATTRIBUTE_ARCHIVE);
    assert_true(basic.CreationTime.QuadPart >= FLTSIM_MEMFS_DEFAULT_START_TIME);
    FILE_STANDARD_INFORMATION std;
    assert_status(fltsim_io_query_information(m->sys, h, &std, sizeof(std), FileStandardInformation,
                                              0, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(std.EndOfFile.QuadPart, 5);
    assert_int_equal(std.AllocationSize.QuadPart, 4096);
    assert_int_equal(std.NumberOfLinks, 1);
    assert_false(std.DeletePending);
    assert_false(std.Directory);
    FILE_INTERNAL_INFORMATION internal;
    assert_status(fltsim_io_query_information(m->sys, h, &internal, sizeof(internal),
                                              FileInternalInformation, 0, &iosb),
                  STATUS_SUCCESS);
    struct fltsim_memfs_stat st;
    assert_status(fltsim_memfs_stat(m->fs, L"\\dir\\b.txt", &st), STATUS_SUCCESS);
    assert_int_equal(internal.IndexNumber.QuadPart, st.file_id);
    FILE_NETWORK_OPEN_INFORMATION net;
    assert_status(fltsim_io_query_information(m->sys, h, &net, sizeof(net),
                                              FileNetworkOpenInformation, 0, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(net.EndOfFile.QuadPart, 5);
    assert_int_equal(net.LastWriteTime.QuadPart, basic.LastWriteTime.QuadPart);
    FILE_ATTRIBUTE_TAG_INFORMATION tag;
    assert_status(fltsim_io_query_information(m->sys, h, &tag, sizeof(tag),
                                              FileAttributeTagInformation, 0, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(tag.ReparseTag, 0);
    struct {
        FILE_ALL_INFORMATION all;
        WCHAR more[32];
    } all;
    assert_status(
        fltsim_io_query_information(m->sys, h, &all, sizeof(all), FileAllInformation, 0, &iosb),
        STATUS_SUCCESS);
    assert_int_equal(all.all.StandardInformation.EndOfFile.QuadPart, 5);
    assert_int_equal(all.all.NameInformation.FileNameLength, 10 * sizeof(WCHAR));
    char buf[64];
    assert_status(fltsim_io_query_information(m->sys, h, buf, sizeof(buf),
                                              FileCompressionInformation, 0, &iosb),
                  STATUS_INVALID_PARAMETER);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);

    /* The root's name and a directory's standard information. */
    assert_status(cr(m, L"C:\\", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, &h, NULL), STATUS_SUCCESS);
    struct {
        FILE_NAME_INFORMATION info;
        WCHAR more[8];
    } name;
    assert_status(
        fltsim_io_query_information(m->sys, h, &name, sizeof(name), FileNameInformation, 0, &iosb),
        STATUS_SUCCESS);
    assert_int_equal(name.info.FileNameLength, sizeof(WCHAR));
    assert_int_equal(name.info.FileName[0], L'\\');
    assert_status(fltsim_io_query_information(m->sys, h, &std, sizeof(std), FileStandardInformation,
                                              0, &iosb),
                  STATUS_SUCCESS);
    assert_true(std.Directory);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
}

/* A name that does not fit: partial copy, full length, STATUS_BUFFER_OVERFLOW. */
static void memfs_query_name_overflow(void **state)
{
    struct mf *m = *state;
    HANDLE h;
    assert_status(cr(m, L"C:\\dir\\b.txt", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    union {
        FILE_NAME_INFORMATION info;
        UCHAR bytes[12];
    } small;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_query_information(m->sys, h, &small, sizeof(small), FileNameInformation,
                                              0, &iosb),
                  STATUS_BUFFER_OVERFLOW);
    assert_int_equal(small.info.FileNameLength, 10 * sizeof(WCHAR));
    assert_int_equal(iosb.Information, sizeof(small));
    assert_memory_equal(small.info.FileName, L"\\dir", 4 * sizeof(WCHAR));
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
}

static void memfs_set_basic_end_of_file_and_allocation(void **state)
{
    struct mf *m = *state;
    HANDLE h;
    assert_status(
        cr(m, L"C:\\a.txt", GENERIC_READ | GENERIC_WRITE, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
        STATUS_SUCCESS);
    FILE_BASIC_INFORMATION basic;
    assert_status(fltsim_io_query_information(m->sys, h, &basic, sizeof(basic),
                                              FileBasicInformation, 0, NULL),
                  STATUS_SUCCESS);
    FILE_BASIC_INFORMATION set = {.LastWriteTime = {.QuadPart = 1234},
                                  .LastAccessTime = {.QuadPart = -1},
                                  .FileAttributes = FILE_ATTRIBUTE_HIDDEN};
    assert_status(
        fltsim_io_set_information(m->sys, h, &set, sizeof(set), FileBasicInformation, NULL),
        STATUS_SUCCESS);
    FILE_BASIC_INFORMATION after;
    assert_status(fltsim_io_query_information(m->sys, h, &after, sizeof(after),
                                              FileBasicInformation, 0, NULL),
                  STATUS_SUCCESS);
    assert_int_equal(after.LastWriteTime.QuadPart, 1234);
    assert_int_equal(after.CreationTime.QuadPart, basic.CreationTime.QuadPart);
    assert_int_equal(after.FileAttributes, FILE_ATTRIBUTE_HIDDEN);
    FILE_BASIC_INFORMATION normal = {.FileAttributes = FILE_ATTRIBUTE_NORMAL};
    assert_status(
        fltsim_io_set_information(m->sys, h, &normal, sizeof(normal), FileBasicInformation, NULL),
        STATUS_SUCCESS);
    assert_status(fltsim_io_query_information(m->sys, h, &after, sizeof(after),
                                              FileBasicInformation, 0, NULL),
                  STATUS_SUCCESS);
    assert_int_equal(after.FileAttributes, FILE_ATTRIBUTE_NORMAL);

    FILE_END_OF_FILE_INFORMATION eof = {{.QuadPart = 20}};
    assert_status(
        fltsim_io_set_information(m->sys, h, &eof, sizeof(eof), FileEndOfFileInformation, NULL),
        STATUS_SUCCESS);
    char data[32];
    size_t size;
    assert_status(fltsim_memfs_read_file(m->fs, L"\\a.txt", data, sizeof(data), &size),
                  STATUS_SUCCESS);
    assert_int_equal(size, 20);
    assert_memory_equal(data + 11, "\0\0\0\0\0\0\0\0\0", 9);
    eof.EndOfFile.QuadPart = 5;
    assert_status(
        fltsim_io_set_information(m->sys, h, &eof, sizeof(eof), FileEndOfFileInformation, NULL),
        STATUS_SUCCESS);
    assert_int_equal(file_size(m, L"\\a.txt"), 5);
    FILE_ALLOCATION_INFORMATION alloc = {{.QuadPart = 2}};
    assert_status(fltsim_io_set_information(m->sys, h, &alloc, sizeof(alloc),
                                            FileAllocationInformation, NULL),
                  STATUS_SUCCESS);
    assert_int_equal(file_size(m, L"\\a.txt"), 2);
    FILE_STANDARD_INFORMATION std;
    assert_status(
        fltsim_io_query_information(m->sys, h, &std, sizeof(std), FileStandardInformation, 0, NULL),
        STATUS_SUCCESS);
    assert_int_equal(std.AllocationSize.QuadPart, 4096);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
}

/* AdvanceOnly moves valid data length, never the file size (NTFS). */
static void memfs_advance_only_end_of_file_changes_nothing(void **state)
{
    (void)state;
    struct fltsim_memfs *fs = standalone();
    struct direct d;
    assert_status(direct_create(fs, &d, L"\\a.txt", FILE_WRITE_DATA, FILE_OPEN, 0, 0),
                  STATUS_SUCCESS);
    FILE_END_OF_FILE_INFORMATION eof = {{.QuadPart = 100}};
    direct_request(&d, FLTFL_CALLBACK_DATA_IRP_OPERATION, IRP_MJ_SET_INFORMATION);
    d.iopb.Parameters.SetFileInformation.Length = sizeof(eof);
    d.iopb.Parameters.SetFileInformation.FileInformationClass = FileEndOfFileInformation;
    d.iopb.Parameters.SetFileInformation.AdvanceOnly = TRUE;
    d.iopb.Parameters.SetFileInformation.InfoBuffer = &eof;
    assert_status(fltsim_memfs_ops.irp_cb(fs, &d.data), STATUS_SUCCESS);
    struct fltsim_memfs_stat st;
    assert_status(fltsim_memfs_stat(fs, L"\\a.txt", &st), STATUS_SUCCESS);
    assert_int_equal(st.size, 11);
    direct_close(fs, &d);
    fltsim_memfs_destroy(fs);
}

/* FileDispositionInformationEx: ON_CLOSE, IGNORE_READONLY, unknown bits. */
static void memfs_disposition_ex_flags(void **state)
{
    (void)state;
    struct fltsim_memfs *fs = standalone();
    struct direct d;
    assert_status(direct_create(fs, &d, L"\\a.txt", DELETE, FILE_OPEN, 0, 0), STATUS_SUCCESS);
    FILE_DISPOSITION_INFORMATION_EX ex = {FILE_DISPOSITION_DELETE |
                                          FILE_DISPOSITION_POSIX_SEMANTICS};
    direct_request(&d, FLTFL_CALLBACK_DATA_IRP_OPERATION, IRP_MJ_SET_INFORMATION);
    d.iopb.Parameters.SetFileInformation.Length = sizeof(ex);
    d.iopb.Parameters.SetFileInformation.FileInformationClass = FileDispositionInformationEx;
    d.iopb.Parameters.SetFileInformation.InfoBuffer = &ex;
    assert_status(fltsim_memfs_ops.irp_cb(fs, &d.data), STATUS_INVALID_PARAMETER);
    ex.Flags = FILE_DISPOSITION_DELETE | FILE_DISPOSITION_ON_CLOSE;
    assert_status(fltsim_memfs_ops.irp_cb(fs, &d.data), STATUS_SUCCESS);
    struct fltsim_memfs_stat st;
    assert_status(fltsim_memfs_stat(fs, L"\\a.txt", &st), STATUS_SUCCESS);
    assert_false(st.delete_pending); /* ON_CLOSE: at this open's cleanup */
    direct_close(fs, &d);
    assert_int_equal(fltsim_memfs_stat(fs, L"\\a.txt", &st), STATUS_OBJECT_NAME_NOT_FOUND);
    fltsim_memfs_destroy(fs);
}

/* ---- rename ---- */

static void memfs_rename_variations(void **state)
{
    struct mf *m = *state;
    fltsim_system *sys = m->sys;
    HANDLE h;
    assert_status(cr(m, L"C:\\a.txt", DELETE, ALL_SHARE, FILE_OPEN, 0, &h, NULL), STATUS_SUCCESS);
    /* A case change in place. */
    assert_status(fltsim_io_rename(sys, h, L"A.TXT", FALSE, NULL), STATUS_SUCCESS);
    struct {
        FILE_NAME_INFORMATION info;
        WCHAR more[32];
    } name;
    assert_status(fltsim_io_query_information(sys, h, &name, sizeof(name), FileNameInformation,
                                              FLTSIM_IO_KERNEL_MODE, NULL),
                  STATUS_SUCCESS);
    assert_memory_equal(name.info.FileName, L"\\A.TXT", 6 * sizeof(WCHAR));
    /* Onto an open file, even with replace: access denied. */
    HANDLE b;
    assert_status(cr(m, L"C:\\dir\\b.txt", FILE_READ_DATA, ALL_SHARE, FILE_OPEN, 0, &b, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_rename(sys, h, L"C:\\dir\\b.txt", TRUE, NULL), STATUS_ACCESS_DENIED);
    assert_status(fltsim_io_close(sys, b), STATUS_SUCCESS);
    /* Onto a directory: access denied. */
    assert_status(fltsim_io_rename(sys, h, L"C:\\dir\\sub", TRUE, NULL), STATUS_ACCESS_DENIED);
    /* Replacing a closed file works. */
    assert_status(fltsim_io_rename(sys, h, L"C:\\dir\\b.txt", TRUE, NULL), STATUS_SUCCESS);
    assert_false(exists(m, L"\\A.TXT"));
    assert_int_equal(file_size(m, L"\\dir\\b.txt"), 11);
    /* A bare name with a backslash is invalid. */
    assert_status(fltsim_io_rename(sys, h, L"x\\y", FALSE, NULL), STATUS_INVALID_PARAMETER);
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);

    /* A directory cannot move into itself, nor while a file below it is open. */
    HANDLE dir;
    assert_status(cr(m, L"C:\\dir", DELETE, ALL_SHARE, FILE_OPEN, 0, &dir, NULL), STATUS_SUCCESS);
    assert_status(fltsim_io_rename(sys, dir, L"C:\\dir\\sub\\dir2", FALSE, NULL),
                  STATUS_INVALID_PARAMETER);
    assert_status(cr(m, L"C:\\dir\\abc", FILE_READ_DATA, ALL_SHARE, FILE_OPEN, 0, &b, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_rename(sys, dir, L"dir2", FALSE, NULL), STATUS_ACCESS_DENIED);
    assert_status(fltsim_io_close(sys, b), STATUS_SUCCESS);
    assert_status(fltsim_io_rename(sys, dir, L"dir2", FALSE, NULL), STATUS_SUCCESS);
    assert_true(exists(m, L"\\dir2\\abc"));
    assert_status(fltsim_io_close(sys, dir), STATUS_SUCCESS);
}

/* ---- enumeration ---- */

/* Collects the names of a FILE_NAMES_INFORMATION buffer, comma-separated. */
static void names_of(const void *buffer, ULONG_PTR length, char *out, size_t size)
{
    const UCHAR *p = buffer;
    out[0] = '\0';
    for (ULONG_PTR at = 0; at < length;) {
        const FILE_NAMES_INFORMATION *e = (const void *)(p + at);
        char name[64];
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

static void memfs_enumeration_patterns(void **state)
{
    struct mf *m = *state;
    fltsim_system *sys = m->sys;
    UCHAR buf[2048];
    char names[512];
    IO_STATUS_BLOCK iosb;
    struct {
        PCWSTR pattern;
        const char *expected;
    } cases[] = {
        {NULL, ".,..,abc,axc.txt,b.txt,sub"},
        {L"*", ".,..,abc,axc.txt,b.txt,sub"},
        {L"*.txt", "axc.txt,b.txt"},
        {L"A?C", "abc"},
        {L"B.TXT", "b.txt"},
        {L"<.TXT", "axc.txt,b.txt"}, /* DOS_STAR */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        HANDLE h;
        assert_status(cr(m, L"C:\\dir", FILE_LIST_DIRECTORY, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                      STATUS_SUCCESS);
        assert_status(fltsim_io_query_directory(sys, h, buf, sizeof(buf), FileNamesInformation,
                                                cases[i].pattern, 0, &iosb),
                      STATUS_SUCCESS);
        names_of(buf, iosb.Information, names, sizeof(names));
        assert_string_equal(names, cases[i].expected);
        assert_status(fltsim_io_query_directory(sys, h, buf, sizeof(buf), FileNamesInformation,
                                                NULL, 0, &iosb),
                      STATUS_NO_MORE_FILES);
        assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
    }
    /* The root has no "." and "..". */
    HANDLE root;
    assert_status(cr(m, L"C:\\", FILE_LIST_DIRECTORY, ALL_SHARE, FILE_OPEN, 0, &root, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_query_directory(sys, root, buf, sizeof(buf), FileNamesInformation, NULL,
                                            0, &iosb),
                  STATUS_SUCCESS);
    names_of(buf, iosb.Information, names, sizeof(names));
    assert_string_equal(names, "a.txt,dir,empty");
    assert_status(fltsim_io_close(sys, root), STATUS_SUCCESS);
}

static void memfs_enumeration_single_restart_and_end(void **state)
{
    struct mf *m = *state;
    fltsim_system *sys = m->sys;
    UCHAR buf[2048];
    char names[256];
    IO_STATUS_BLOCK iosb;
    HANDLE h;
    assert_status(cr(m, L"C:\\dir", FILE_LIST_DIRECTORY, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    /* No match on a scan's first query: NO_SUCH_FILE. */
    assert_status(fltsim_io_query_directory(sys, h, buf, sizeof(buf), FileNamesInformation,
                                            L"*.NONE", 0, &iosb),
                  STATUS_NO_SUCH_FILE);
    /* Restart with a pattern, one entry at a time. */
    assert_status(fltsim_io_query_directory(sys, h, buf, sizeof(buf), FileNamesInformation,
                                            L"*.TXT", SL_RESTART_SCAN | SL_RETURN_SINGLE_ENTRY,
                                            &iosb),
                  STATUS_SUCCESS);
    names_of(buf, iosb.Information, names, sizeof(names));
    assert_string_equal(names, "axc.txt");
    assert_status(fltsim_io_query_directory(sys, h, buf, sizeof(buf), FileNamesInformation, NULL,
                                            SL_RETURN_SINGLE_ENTRY, &iosb),
                  STATUS_SUCCESS);
    names_of(buf, iosb.Information, names, sizeof(names));
    assert_string_equal(names, "b.txt");
    assert_status(fltsim_io_query_directory(sys, h, buf, sizeof(buf), FileNamesInformation, NULL,
                                            SL_RETURN_SINGLE_ENTRY, &iosb),
                  STATUS_NO_MORE_FILES);
    /* Restart without a new pattern keeps the old one. */
    assert_status(fltsim_io_query_directory(sys, h, buf, sizeof(buf), FileNamesInformation, NULL,
                                            SL_RESTART_SCAN, &iosb),
                  STATUS_SUCCESS);
    names_of(buf, iosb.Information, names, sizeof(names));
    assert_string_equal(names, "axc.txt,b.txt");
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
}

static void memfs_enumeration_classes_and_small_buffers(void **state)
{
    struct mf *m = *state;
    fltsim_system *sys = m->sys;
    IO_STATUS_BLOCK iosb;
    HANDLE h;
    assert_status(cr(m, L"C:\\dir", FILE_LIST_DIRECTORY, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    UCHAR buf[1024];
    assert_status(fltsim_io_query_directory(sys, h, buf, sizeof(buf),
                                            FileIdBothDirectoryInformation, L"B.TXT", 0, &iosb),
                  STATUS_SUCCESS);
    const FILE_ID_BOTH_DIR_INFORMATION *e = (const void *)buf;
    assert_int_equal(e->NextEntryOffset, 0);
    assert_int_equal(e->EndOfFile.QuadPart, 5);
    assert_int_equal(e->FileNameLength, 5 * sizeof(WCHAR));
    assert_int_equal(e->ShortNameLength, 0);
    struct fltsim_memfs_stat st;
    assert_status(fltsim_memfs_stat(m->fs, L"\\dir\\b.txt", &st), STATUS_SUCCESS);
    assert_int_equal(e->FileId.QuadPart, st.file_id);
    assert_int_equal(iosb.Information, offsetof(FILE_ID_BOTH_DIR_INFORMATION, FileName) + 10);
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);

    /* The first entry's name does not fit: partial name, BUFFER_OVERFLOW. */
    assert_status(cr(m, L"C:\\dir", FILE_LIST_DIRECTORY, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    ULONG small = (ULONG)offsetof(FILE_NAMES_INFORMATION, FileName) + 2;
    assert_status(
        fltsim_io_query_directory(sys, h, buf, small, FileNamesInformation, L"AXC.TXT", 0, &iosb),
        STATUS_BUFFER_OVERFLOW);
    const FILE_NAMES_INFORMATION *n = (const void *)buf;
    assert_int_equal(n->FileNameLength, 7 * sizeof(WCHAR));
    assert_int_equal(n->FileName[0], L'a');
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);

    /* Not a directory; a class memfs does not enumerate. */
    assert_status(cr(m, L"C:\\a.txt", FILE_LIST_DIRECTORY, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    assert_status(
        fltsim_io_query_directory(sys, h, buf, sizeof(buf), FileNamesInformation, NULL, 0, &iosb),
        STATUS_INVALID_PARAMETER);
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(memfs_query_classes),
        T(memfs_query_name_overflow),
        T(memfs_set_basic_end_of_file_and_allocation),
        T(memfs_advance_only_end_of_file_changes_nothing),
        T(memfs_disposition_ex_flags),
        T(memfs_rename_variations),
        T(memfs_enumeration_patterns),
        T(memfs_enumeration_single_restart_and_end),
        T(memfs_enumeration_classes_and_small_buffers),
    };
#undef T
    return FLTSIM_RUN_SUITE("memfs info", tests);
}
