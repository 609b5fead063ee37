/*
 * memfs, the NTFS-like file system at the bottom of the stack (issue 2, item
 * 6): creates and their dispositions, options, sharing and deletion; reads
 * and writes; fast I/O and the FS-filter callbacks; its clock, helpers and
 * lifetime. Most cases go through the test I/O API with no filters loaded;
 * the cases for requests the I/O manager refuses or never builds (bad
 * dispositions, paging writes, target-directory opens, fast I/O) call
 * fltsim_memfs_ops directly with a hand-built callback data. What memfs
 * answers to information, rename and directory queries is test_memfs_info.c.
 */
#include "memfs_fx.h"

/* ---- create ---- */

/* Each disposition on an existing file, with its IoStatus.Information. */
static void memfs_dispositions_on_existing_file(void **state)
{
    struct mf *m = *state;
    ULONG_PTR info;
    assert_status(cr(m, L"C:\\a.txt", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, &info),
                  STATUS_SUCCESS);
    assert_int_equal(info, FILE_OPENED);
    assert_status(cr(m, L"C:\\a.txt", GENERIC_READ, ALL_SHARE, FILE_OPEN_IF, 0, NULL, &info),
                  STATUS_SUCCESS);
    assert_int_equal(info, FILE_OPENED);
    assert_status(cr(m, L"C:\\a.txt", GENERIC_READ, ALL_SHARE, FILE_CREATE, 0, NULL, &info),
                  STATUS_OBJECT_NAME_COLLISION);
    assert_int_equal(info, FILE_EXISTS);
    assert_int_equal(file_size(m, L"\\a.txt"), 11);
    assert_status(cr(m, L"C:\\a.txt", GENERIC_WRITE, ALL_SHARE, FILE_OVERWRITE, 0, NULL, &info),
                  STATUS_SUCCESS);
    assert_int_equal(info, FILE_OVERWRITTEN);
    assert_int_equal(file_size(m, L"\\a.txt"), 0);
    assert_status(fltsim_memfs_add_file(m->fs, L"\\b.txt", "12345", 5), STATUS_SUCCESS);
    assert_status(cr(m, L"C:\\b.txt", GENERIC_WRITE, ALL_SHARE, FILE_OVERWRITE_IF, 0, NULL, &info),
                  STATUS_SUCCESS);
    assert_int_equal(info, FILE_OVERWRITTEN);
    assert_int_equal(file_size(m, L"\\b.txt"), 0);
    assert_status(fltsim_memfs_add_file(m->fs, L"\\c.txt", "12345", 5), STATUS_SUCCESS);
    assert_status(
        cr(m, L"C:\\c.txt", GENERIC_WRITE | DELETE, ALL_SHARE, FILE_SUPERSEDE, 0, NULL, &info),
        STATUS_SUCCESS);
    assert_int_equal(info, FILE_SUPERSEDED);
    assert_int_equal(file_size(m, L"\\c.txt"), 0);
}

/* Each disposition on a missing file. */
static void memfs_dispositions_on_missing_file(void **state)
{
    struct mf *m = *state;
    ULONG_PTR info;
    assert_status(cr(m, L"C:\\n1", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, &info),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(info, FILE_DOES_NOT_EXIST);
    assert_status(cr(m, L"C:\\n1", GENERIC_WRITE, ALL_SHARE, FILE_OVERWRITE, 0, NULL, &info),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(info, FILE_DOES_NOT_EXIST);
    assert_false(exists(m, L"\\n1"));
    const ULONG creating[] = {FILE_CREATE, FILE_OPEN_IF, FILE_OVERWRITE_IF, FILE_SUPERSEDE};
    const PCWSTR names[] = {L"C:\\n1", L"C:\\n2", L"C:\\n3", L"C:\\n4"};
    for (int i = 0; i < 4; i++) {
        assert_status(
            cr(m, names[i], GENERIC_WRITE | DELETE, ALL_SHARE, creating[i], 0, NULL, &info),
            STATUS_SUCCESS);
        assert_int_equal(info, FILE_CREATED);
        assert_true(exists(m, names[i] + 2));
    }
}

/* New files get ARCHIVE; new directories DIRECTORY; allocation rounds to 4096. */
static void memfs_new_file_and_directory_attributes(void **state)
{
    struct mf *m = *state;
    struct fltsim_create_params p = {.path = L"C:\\new.txt",
                                     .desired_access = GENERIC_READ | SYNCHRONIZE,
                                     .file_attributes = FILE_ATTRIBUTE_HIDDEN,
                                     .disposition = FILE_CREATE,
                                     .create_options = FILE_SYNCHRONOUS_IO_NONALERT,
                                     .allocation_size = 5000};
    HANDLE h;
    assert_status(fltsim_io_create(m->sys, &p, &h, NULL), STATUS_SUCCESS);
    FILE_STANDARD_INFORMATION std;
    assert_status(
        fltsim_io_query_information(m->sys, h, &std, sizeof(std), FileStandardInformation, 0, NULL),
        STATUS_SUCCESS);
    assert_int_equal(std.AllocationSize.QuadPart, 8192);
    assert_int_equal(std.EndOfFile.QuadPart, 0);
    assert_false(std.Directory);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    struct fltsim_memfs_stat st;
    assert_status(fltsim_memfs_stat(m->fs, L"\\new.txt", &st), STATUS_SUCCESS);
    assert_int_equal(st.attributes, FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_ARCHIVE);

    ULONG_PTR info;
    assert_status(cr(m, L"C:\\newdir", FILE_LIST_DIRECTORY, ALL_SHARE, FILE_CREATE,
                     FILE_DIRECTORY_FILE, NULL, &info),
                  STATUS_SUCCESS);
    assert_int_equal(info, FILE_CREATED);
    assert_status(fltsim_memfs_stat(m->fs, L"\\newdir", &st), STATUS_SUCCESS);
    assert_true(st.directory);
    assert_int_equal(st.attributes & FILE_ATTRIBUTE_DIRECTORY, FILE_ATTRIBUTE_DIRECTORY);
}

/* Directory and non-directory options against what exists. */
static void memfs_directory_options(void **state)
{
    struct mf *m = *state;
    assert_status(
        cr(m, L"C:\\dir", GENERIC_READ, ALL_SHARE, FILE_OPEN, FILE_NON_DIRECTORY_FILE, NULL, NULL),
        STATUS_FILE_IS_A_DIRECTORY);
    assert_status(
        cr(m, L"C:\\a.txt", GENERIC_READ, ALL_SHARE, FILE_OPEN, FILE_DIRECTORY_FILE, NULL, NULL),
        STATUS_NOT_A_DIRECTORY);
    assert_status(
        cr(m, L"C:\\dir", GENERIC_READ, ALL_SHARE, FILE_OPEN, FILE_DIRECTORY_FILE, NULL, NULL),
        STATUS_SUCCESS);
    assert_status(cr(m, L"C:\\dir", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_SUCCESS);
    /* Overwriting a directory: [assumption, as fastfat] a name collision. */
    assert_status(cr(m, L"C:\\dir", GENERIC_WRITE, ALL_SHARE, FILE_OVERWRITE_IF, 0, NULL, NULL),
                  STATUS_OBJECT_NAME_COLLISION);
    /* A trailing backslash names a directory only. */
    assert_status(
        cr(m, L"C:\\dir\\", GENERIC_READ, ALL_SHARE, FILE_OPEN, FILE_DIRECTORY_FILE, NULL, NULL),
        STATUS_SUCCESS);
    assert_status(cr(m, L"C:\\a.txt\\", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_OBJECT_NAME_INVALID);
}

/* Option combinations memfs refuses itself (the I/O manager refuses them first). */
static void memfs_invalid_option_combinations(void **state)
{
    (void)state;
    struct fltsim_memfs *fs = standalone();
    struct direct d;
    assert_status(direct_create(fs, &d, L"\\x", FILE_READ_DATA, FILE_CREATE,
                                FILE_DIRECTORY_FILE | FILE_NON_DIRECTORY_FILE, 0),
                  STATUS_INVALID_PARAMETER);
    assert_status(
        direct_create(fs, &d, L"\\x", FILE_READ_DATA, FILE_OVERWRITE_IF, FILE_DIRECTORY_FILE, 0),
        STATUS_INVALID_PARAMETER);
    assert_status(direct_create(fs, &d, L"\\x", FILE_READ_DATA, 6, 0, 0), STATUS_INVALID_PARAMETER);
    assert_null(d.fo.FsContext);
    assert_int_equal(fltsim_memfs_open_count(fs), 0);
    fltsim_memfs_destroy(fs);
}

/* Name validation and missing paths. */
static void memfs_names_and_paths(void **state)
{
    struct mf *m = *state;
    /* "a:b" names a stream (test_streams.c); a colon elsewhere does not. */
    const PCWSTR invalid[] = {L"C:\\a<b",    L"C:\\a>b",  L"C:\\a:b\\c", L"C:\\a\"b",
                              L"C:\\a|b",    L"C:\\a?b",  L"C:\\a*b",    L"C:\\dir\\\\b.txt",
                              L"C:\\dir\\.", L"C:\\..\\x"};
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
        assert_status(cr(m, invalid[i], GENERIC_READ, ALL_SHARE, FILE_OPEN_IF, 0, NULL, NULL),
                      STATUS_OBJECT_NAME_INVALID);
    WCHAR longname[300] = L"C:\\";
    for (int i = 3; i < 3 + 256; i++)
        longname[i] = L'x';
    assert_status(cr(m, longname, GENERIC_READ, ALL_SHARE, FILE_OPEN_IF, 0, NULL, NULL),
                  STATUS_OBJECT_NAME_INVALID);
    assert_status(cr(m, L"C:\\nodir\\x", GENERIC_READ, ALL_SHARE, FILE_OPEN_IF, 0, NULL, NULL),
                  STATUS_OBJECT_PATH_NOT_FOUND);
    assert_status(cr(m, L"C:\\a.txt\\x", GENERIC_READ, ALL_SHARE, FILE_OPEN_IF, 0, NULL, NULL),
                  STATUS_OBJECT_PATH_NOT_FOUND);
    /* Names are case-insensitive and keep the case they were created with. */
    assert_status(cr(m, L"C:\\DIR\\B.TXT", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_SUCCESS);
    HANDLE h;
    assert_status(cr(m, L"C:\\DIR\\B.TXT", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    struct {
        FILE_NAME_INFORMATION info;
        WCHAR more[64];
    } name;
    assert_status(
        fltsim_io_query_information(m->sys, h, &name, sizeof(name), FileNameInformation, 0, NULL),
        STATUS_SUCCESS);
    assert_int_equal(name.info.FileNameLength, 10 * sizeof(WCHAR));
    assert_memory_equal(name.info.FileName, L"\\dir\\b.txt", 10 * sizeof(WCHAR));
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
}

/* IoCheckShareAccess: only read, write and delete access count. */
static void memfs_share_access_matrix(void **state)
{
    struct mf *m = *state;
    HANDLE first;
    /* A reader that shares nothing. */
    assert_status(cr(m, L"C:\\a.txt", FILE_READ_DATA, 0, FILE_OPEN, 0, &first, NULL),
                  STATUS_SUCCESS);
    assert_status(cr(m, L"C:\\a.txt", FILE_READ_DATA, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_SHARING_VIOLATION);
    assert_status(cr(m, L"C:\\a.txt", FILE_WRITE_DATA, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_SHARING_VIOLATION);
    assert_status(cr(m, L"C:\\a.txt", DELETE, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_SHARING_VIOLATION);
    /* An open asking for attributes only is not counted and not refused. */
    assert_status(cr(m, L"C:\\a.txt", FILE_READ_ATTRIBUTES, 0, FILE_OPEN, 0, NULL, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, first), STATUS_SUCCESS);

    /* A reader sharing read: another reader is fine only if it shares read. */
    assert_status(cr(m, L"C:\\a.txt", FILE_READ_DATA, FILE_SHARE_READ, FILE_OPEN, 0, &first, NULL),
                  STATUS_SUCCESS);
    assert_status(cr(m, L"C:\\a.txt", FILE_READ_DATA, FILE_SHARE_READ, FILE_OPEN, 0, NULL, NULL),
                  STATUS_SUCCESS);
    assert_status(cr(m, L"C:\\a.txt", FILE_READ_DATA, FILE_SHARE_WRITE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_SHARING_VIOLATION);
    assert_status(cr(m, L"C:\\a.txt", FILE_WRITE_DATA, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_SHARING_VIOLATION);
    assert_status(fltsim_io_close(m->sys, first), STATUS_SUCCESS);

    /* A writer sharing read and write: writers and readers that share write. */
    assert_status(cr(m, L"C:\\a.txt", FILE_WRITE_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE,
                     FILE_OPEN, 0, &first, NULL),
                  STATUS_SUCCESS);
    assert_status(cr(m, L"C:\\a.txt", FILE_READ_DATA, FILE_SHARE_READ, FILE_OPEN, 0, NULL, NULL),
                  STATUS_SHARING_VIOLATION);
    assert_status(cr(m, L"C:\\a.txt", FILE_READ_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, FILE_OPEN,
                     0, NULL, NULL),
                  STATUS_SUCCESS);
    assert_status(cr(m, L"C:\\a.txt", DELETE, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_SHARING_VIOLATION);
    assert_status(fltsim_io_close(m->sys, first), STATUS_SUCCESS);

    /* Share access is released at cleanup. */
    assert_status(cr(m, L"C:\\a.txt", FILE_READ_DATA, 0, FILE_OPEN, 0, NULL, NULL), STATUS_SUCCESS);
    assert_status(cr(m, L"C:\\a.txt", FILE_READ_DATA, 0, FILE_OPEN, 0, NULL, NULL), STATUS_SUCCESS);
}

/* A read-only file: no writing opens, no overwrite, no deletion. */
static void memfs_read_only_file(void **state)
{
    struct mf *m = *state;
    HANDLE h;
    assert_status(cr(m, L"C:\\a.txt", FILE_WRITE_ATTRIBUTES, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    FILE_BASIC_INFORMATION basic = {.FileAttributes = FILE_ATTRIBUTE_READONLY};
    assert_status(
        fltsim_io_set_information(m->sys, h, &basic, sizeof(basic), FileBasicInformation, NULL),
        STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    assert_status(cr(m, L"C:\\a.txt", FILE_WRITE_DATA, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_ACCESS_DENIED);
    assert_status(cr(m, L"C:\\a.txt", FILE_APPEND_DATA, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_ACCESS_DENIED);
    assert_status(cr(m, L"C:\\a.txt", FILE_READ_DATA, ALL_SHARE, FILE_OVERWRITE_IF, 0, NULL, NULL),
                  STATUS_ACCESS_DENIED);
    assert_status(
        cr(m, L"C:\\a.txt", DELETE, ALL_SHARE, FILE_OPEN, FILE_DELETE_ON_CLOSE, NULL, NULL),
        STATUS_CANNOT_DELETE);
    assert_status(cr(m, L"C:\\a.txt", DELETE, ALL_SHARE, FILE_OPEN, 0, &h, NULL), STATUS_SUCCESS);
    assert_status(fltsim_io_delete(m->sys, h, TRUE), STATUS_CANNOT_DELETE);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    assert_int_equal(file_size(m, L"\\a.txt"), 11);
}

/* Overwriting a hidden or system file must name those attributes. */
static void memfs_overwrite_keeps_hidden_and_system(void **state)
{
    struct mf *m = *state;
    struct fltsim_create_params p = {.path = L"C:\\h.txt",
                                     .desired_access = GENERIC_WRITE | SYNCHRONIZE,
                                     .file_attributes = FILE_ATTRIBUTE_HIDDEN,
                                     .disposition = FILE_CREATE,
                                     .create_options = FILE_SYNCHRONOUS_IO_NONALERT};
    HANDLE h;
    assert_status(fltsim_io_create(m->sys, &p, &h, NULL), STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    p.disposition = FILE_OVERWRITE;
    p.file_attributes = FILE_ATTRIBUTE_NORMAL;
    assert_status(fltsim_io_create(m->sys, &p, &h, NULL), STATUS_ACCESS_DENIED);
    p.file_attributes = FILE_ATTRIBUTE_HIDDEN;
    assert_status(fltsim_io_create(m->sys, &p, &h, NULL), STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
}

/* Delete disposition and delete-on-close; DELETE_PENDING meanwhile. */
static void memfs_delete_pending_and_delete_on_close(void **state)
{
    struct mf *m = *state;
    HANDLE h, other;
    assert_status(cr(m, L"C:\\a.txt", DELETE, ALL_SHARE, FILE_OPEN, FILE_DELETE_ON_CLOSE, &h, NULL),
                  STATUS_SUCCESS);
    assert_status(cr(m, L"C:\\a.txt", FILE_READ_DATA, ALL_SHARE, FILE_OPEN, 0, &other, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    /* Its cleanup made the file delete-pending; it goes with the last handle. */
    assert_status(cr(m, L"C:\\a.txt", FILE_READ_DATA, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_DELETE_PENDING);
    FILE_STANDARD_INFORMATION std;
    assert_status(fltsim_io_query_information(m->sys, other, &std, sizeof(std),
                                              FileStandardInformation, 0, NULL),
                  STATUS_SUCCESS);
    assert_true(std.DeletePending);
    assert_true(exists(m, L"\\a.txt"));
    assert_status(fltsim_io_close(m->sys, other), STATUS_SUCCESS);
    assert_false(exists(m, L"\\a.txt"));

    /* Disposition FALSE cancels a pending delete. */
    assert_status(cr(m, L"C:\\dir\\b.txt", DELETE, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_delete(m->sys, h, TRUE), STATUS_SUCCESS);
    assert_true(fltsim_io_file_object(m->sys, h)->DeletePending);
    assert_status(fltsim_io_delete(m->sys, h, FALSE), STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    assert_true(exists(m, L"\\dir\\b.txt"));
}

/* Directories: not deleted while they have children; the root never. */
static void memfs_directory_delete_rules(void **state)
{
    struct mf *m = *state;
    HANDLE h;
    assert_status(cr(m, L"C:\\dir", DELETE, ALL_SHARE, FILE_OPEN, 0, &h, NULL), STATUS_SUCCESS);
    assert_status(fltsim_io_delete(m->sys, h, TRUE), STATUS_DIRECTORY_NOT_EMPTY);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    assert_status(cr(m, L"C:\\empty", DELETE, ALL_SHARE, FILE_OPEN, 0, &h, NULL), STATUS_SUCCESS);
    assert_status(fltsim_io_delete(m->sys, h, TRUE), STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    assert_false(exists(m, L"\\empty"));
    assert_status(cr(m, L"C:\\", DELETE, ALL_SHARE, FILE_OPEN, 0, &h, NULL), STATUS_SUCCESS);
    assert_status(fltsim_io_delete(m->sys, h, TRUE), STATUS_CANNOT_DELETE);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    /* Delete-on-close of a non-empty directory opens, and deletes nothing. */
    assert_status(cr(m, L"C:\\dir", DELETE, ALL_SHARE, FILE_OPEN, FILE_DELETE_ON_CLOSE, NULL, NULL),
                  STATUS_SUCCESS);
    assert_true(exists(m, L"\\dir"));
}

/* SL_OPEN_TARGET_DIRECTORY opens the parent and keeps the last component. */
static void memfs_open_target_directory(void **state)
{
    (void)state;
    struct fltsim_memfs *fs = standalone();
    struct direct d;
    assert_status(direct_create(fs, &d, L"\\dir\\new.txt", FILE_WRITE_DATA, FILE_OPEN, 0,
                                SL_OPEN_TARGET_DIRECTORY),
                  STATUS_SUCCESS);
    assert_int_equal(d.data.IoStatus.Information, FILE_DOES_NOT_EXIST);
    assert_int_equal(d.fo.FileName.Length, 7 * sizeof(WCHAR));
    assert_memory_equal(d.fo.FileName.Buffer, L"new.txt", 7 * sizeof(WCHAR));
    direct_close(fs, &d);
    assert_status(
        direct_create(fs, &d, L"\\a.txt", FILE_WRITE_DATA, FILE_OPEN, 0, SL_OPEN_TARGET_DIRECTORY),
        STATUS_SUCCESS);
    assert_int_equal(d.data.IoStatus.Information, FILE_EXISTS);
    direct_close(fs, &d);
    assert_status(direct_create(fs, &d, L"\\nodir\\x", FILE_WRITE_DATA, FILE_OPEN, 0,
                                SL_OPEN_TARGET_DIRECTORY),
                  STATUS_OBJECT_PATH_NOT_FOUND);
    assert_int_equal(fltsim_memfs_open_count(fs), 0);
    fltsim_memfs_destroy(fs);
}

/* ---- read and write ---- */

static void memfs_read_at_offsets_and_end_of_file(void **state)
{
    struct mf *m = *state;
    HANDLE h;
    assert_status(cr(m, L"C:\\a.txt", FILE_READ_DATA, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    char buf[32] = {0};
    IO_STATUS_BLOCK iosb;
    LONGLONG at = 6;
    assert_status(fltsim_io_read(m->sys, h, buf, sizeof(buf), &at, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 5);
    assert_memory_equal(buf, "world", 5);
    at = 11;
    assert_status(fltsim_io_read(m->sys, h, buf, 4, &at, 0, &iosb), STATUS_END_OF_FILE);
    assert_int_equal(iosb.Information, 0);
    at = 100;
    assert_status(fltsim_io_read(m->sys, h, buf, 0, &at, 0, &iosb), STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);

    assert_status(cr(m, L"C:\\dir", FILE_READ_DATA, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    at = 0;
    assert_status(fltsim_io_read(m->sys, h, buf, 4, &at, 0, &iosb), STATUS_INVALID_DEVICE_REQUEST);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
}

static void memfs_write_extends_appends_and_zero_fills(void **state)
{
    struct mf *m = *state;
    HANDLE h;
    assert_status(
        cr(m, L"C:\\a.txt", FILE_READ_DATA | FILE_WRITE_DATA, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
        STATUS_SUCCESS);
    IO_STATUS_BLOCK iosb;
    LONGLONG at = 13;
    assert_status(fltsim_io_write(m->sys, h, "XY", 2, &at, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 2);
    LARGE_INTEGER end = {.LowPart = FILE_WRITE_TO_END_OF_FILE, .HighPart = -1};
    assert_status(fltsim_io_write(m->sys, h, "!", 1, &end.QuadPart, 0, &iosb), STATUS_SUCCESS);
    char data[32];
    size_t size;
    assert_status(fltsim_memfs_read_file(m->fs, L"\\a.txt", data, sizeof(data), &size),
                  STATUS_SUCCESS);
    assert_int_equal(size, 16);
    assert_memory_equal(data, "hello world\0\0XY!", 16);
    /* The file pointer follows synchronous I/O. */
    assert_int_equal(fltsim_io_file_object(m->sys, h)->CurrentByteOffset.QuadPart, 16);
    assert_true(fltsim_io_file_object(m->sys, h)->Flags & FO_FILE_MODIFIED);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    struct fltsim_memfs_stat st;
    assert_status(fltsim_memfs_stat(m->fs, L"\\a.txt", &st), STATUS_SUCCESS);
    assert_true(st.attributes & FILE_ATTRIBUTE_ARCHIVE);
}

/* Paging writes never extend a file. */
static void memfs_paging_write_does_not_extend(void **state)
{
    struct mf *m = *state;
    HANDLE h;
    assert_status(cr(m, L"C:\\a.txt", FILE_WRITE_DATA, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    IO_STATUS_BLOCK iosb;
    LONGLONG at = 8;
    char page[512];
    memset(page, 'P', sizeof(page));
    assert_status(fltsim_io_write(m->sys, h, page, 512, &at, FLTSIM_IO_PAGING, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 3);
    at = 4096;
    assert_status(fltsim_io_write(m->sys, h, page, 512, &at, FLTSIM_IO_PAGING, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 0);
    assert_int_equal(file_size(m, L"\\a.txt"), 11);
    char data[16];
    size_t size;
    assert_status(fltsim_memfs_read_file(m->fs, L"\\a.txt", data, sizeof(data), &size),
                  STATUS_SUCCESS);
    assert_memory_equal(data, "hello woPPP", 11);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
}

/* Non-cached I/O must be sector aligned (512); paging I/O is not checked. */
static void memfs_noncached_io_must_be_aligned(void **state)
{
    struct mf *m = *state;
    HANDLE h;
    assert_status(cr(m, L"C:\\a.txt", FILE_READ_DATA, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    char buf[1024];
    LONGLONG at = 0;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_read(m->sys, h, buf, 100, &at, FLTSIM_IO_NONCACHED, &iosb),
                  STATUS_INVALID_PARAMETER);
    at = 3;
    assert_status(fltsim_io_read(m->sys, h, buf, 512, &at, FLTSIM_IO_NONCACHED, &iosb),
                  STATUS_INVALID_PARAMETER);
    at = 0;
    assert_status(fltsim_io_read(m->sys, h, buf, 512, &at, FLTSIM_IO_NONCACHED, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 11);
    at = 3;
    assert_status(fltsim_io_read(m->sys, h, buf, 100, &at, FLTSIM_IO_PAGING, &iosb),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
}

/* Capacity: a write that does not fit fails whole. */
static void memfs_capacity_gives_disk_full(void **state)
{
    struct mf *m = *state;
    fltsim_system *sys = m->sys;
    struct fltsim_memfs *fs;
    PFLT_VOLUME v;
    struct fltsim_memfs_options o = {.capacity_bytes = 16};
    assert_status(fltsim_memfs_create(&o, &fs), STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\Small",
                                      .drive_letter = L'S',
                                      .ops = &fltsim_memfs_ops,
                                      .fs = fs};
    assert_status(fltsim_volume_mount(sys, &vp, &v), STATUS_SUCCESS);
    struct fltsim_create_params p = {.path = L"S:\\f",
                                     .desired_access = GENERIC_WRITE | SYNCHRONIZE,
                                     .disposition = FILE_CREATE,
                                     .create_options = FILE_SYNCHRONOUS_IO_NONALERT};
    HANDLE h;
    assert_status(fltsim_io_create(sys, &p, &h, NULL), STATUS_SUCCESS);
    LONGLONG zero = 0;
    assert_status(fltsim_io_write(sys, h, "0123456789", 10, &zero, 0, NULL), STATUS_SUCCESS);
    LONGLONG ten = 10;
    assert_status(fltsim_io_write(sys, h, "0123456789", 10, &ten, 0, NULL), STATUS_DISK_FULL);
    assert_status(fltsim_io_close(sys, h), STATUS_SUCCESS);
    struct fltsim_memfs_stat st;
    assert_status(fltsim_memfs_stat(fs, L"\\f", &st), STATUS_SUCCESS);
    assert_int_equal(st.size, 10);
}

/* add_zero_file: size zero bytes, read back as zeros; the same collisions
 * and limits as add_file (no data buffer needed for a large file). */
static void memfs_add_zero_file_reads_zeros(void **state)
{
    struct mf *m = *state;
    unsigned char buf[4096];
    size_t size = 0;
    assert_status(fltsim_memfs_add_zero_file(m->fs, L"\\z\\big.bin", 8u << 20), STATUS_SUCCESS);
    assert_int_equal(file_size(m, L"\\z\\big.bin"), 8u << 20);
    assert_true(exists(m, L"\\z"));
    assert_status(fltsim_memfs_add_zero_file(m->fs, L"\\z\\empty.bin", 0), STATUS_SUCCESS);
    assert_int_equal(file_size(m, L"\\z\\empty.bin"), 0);
    assert_status(fltsim_memfs_add_zero_file(m->fs, L"\\z\\four.bin", sizeof(buf)), STATUS_SUCCESS);
    memset(buf, 0xAA, sizeof(buf));
    assert_status(fltsim_memfs_read_file(m->fs, L"\\z\\four.bin", buf, sizeof(buf), &size),
                  STATUS_SUCCESS);
    assert_int_equal(size, sizeof(buf));
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0);
    assert_status(fltsim_memfs_add_zero_file(m->fs, L"\\z\\four.bin", 1),
                  STATUS_OBJECT_NAME_COLLISION);
    assert_status(fltsim_memfs_add_zero_file(m->fs, L"\\a.txt\\x", 1),
                  STATUS_OBJECT_NAME_COLLISION);
    assert_status(fltsim_memfs_add_zero_file(m->fs, L"\\huge", FLTSIM_MEMFS_MAX_FILE_SIZE + 1),
                  STATUS_DISK_FULL);
    assert_status(fltsim_memfs_add_zero_file(NULL, L"\\n", 1), STATUS_INVALID_PARAMETER);
    /* add_file still wants the data it copies. */
    assert_status(fltsim_memfs_add_file(m->fs, L"\\nodata", NULL, 1), STATUS_INVALID_PARAMETER);
}

/* ---- fast I/O and FS-filter callbacks ---- */

static void memfs_fast_io_answers_and_declines(void **state)
{
    (void)state;
    struct fltsim_memfs *fs = standalone();
    struct direct d;
    assert_status(
        direct_create(fs, &d, L"\\a.txt", FILE_READ_DATA | FILE_WRITE_DATA, FILE_OPEN, 0, 0),
        STATUS_SUCCESS);
    char buf[16] = {0};
    direct_request(&d, FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, IRP_MJ_READ);
    d.iopb.Parameters.Read.Length = 5;
    d.iopb.Parameters.Read.ReadBuffer = buf;
    assert_true(fltsim_memfs_ops.fast_io_cb(fs, &d.data));
    assert_status(d.data.IoStatus.Status, STATUS_SUCCESS);
    assert_int_equal(d.data.IoStatus.Information, 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(d.fo.CurrentByteOffset.QuadPart, 5);
    /* At end of file: handled, STATUS_END_OF_FILE. */
    d.iopb.Parameters.Read.ByteOffset.QuadPart = 11;
    assert_true(fltsim_memfs_ops.fast_io_cb(fs, &d.data));
    assert_status(d.data.IoStatus.Status, STATUS_END_OF_FILE);
    /* A write that extends the file is declined (the IRP path does it). */
    direct_request(&d, FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, IRP_MJ_WRITE);
    d.iopb.Parameters.Write.Length = 4;
    d.iopb.Parameters.Write.ByteOffset.QuadPart = 10;
    d.iopb.Parameters.Write.WriteBuffer = buf;
    d.data.IoStatus.Status = 0x1234;
    assert_false(fltsim_memfs_ops.fast_io_cb(fs, &d.data));
    assert_int_equal(d.data.IoStatus.Status, 0x1234); /* untouched */
    /* Query classes outside basic/standard/network-open are declined. */
    FILE_NAME_INFORMATION name;
    direct_request(&d, FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, IRP_MJ_QUERY_INFORMATION);
    d.iopb.Parameters.QueryFileInformation.Length = sizeof(name);
    d.iopb.Parameters.QueryFileInformation.FileInformationClass = FileNameInformation;
    d.iopb.Parameters.QueryFileInformation.InfoBuffer = &name;
    assert_false(fltsim_memfs_ops.fast_io_cb(fs, &d.data));
    /* Non-cached file objects get no fast I/O. */
    d.fo.Flags |= FO_NO_INTERMEDIATE_BUFFERING;
    direct_request(&d, FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, IRP_MJ_READ);
    d.iopb.Parameters.Read.Length = 5;
    d.iopb.Parameters.Read.ReadBuffer = buf;
    assert_false(fltsim_memfs_ops.fast_io_cb(fs, &d.data));
    d.fo.Flags &= ~FO_NO_INTERMEDIATE_BUFFERING;
    direct_close(fs, &d);
    fltsim_memfs_destroy(fs);

    struct fltsim_memfs_options o = {.flags = FLTSIM_MEMFS_NO_FAST_IO};
    assert_status(fltsim_memfs_create(&o, &fs), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(fs, L"\\a.txt", "x", 1), STATUS_SUCCESS);
    assert_status(direct_create(fs, &d, L"\\a.txt", FILE_READ_DATA, FILE_OPEN, 0, 0),
                  STATUS_SUCCESS);
    direct_request(&d, FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, IRP_MJ_READ);
    d.iopb.Parameters.Read.Length = 1;
    d.iopb.Parameters.Read.ReadBuffer = buf;
    assert_false(fltsim_memfs_ops.fast_io_cb(fs, &d.data));
    direct_close(fs, &d);
    fltsim_memfs_destroy(fs);
}

static void memfs_section_sync_counts_acquires(void **state)
{
    (void)state;
    struct fltsim_memfs *fs = standalone();
    struct direct d;
    assert_status(direct_create(fs, &d, L"\\a.txt", FILE_READ_DATA, FILE_OPEN, 0, 0),
                  STATUS_SUCCESS);
    direct_request(&d, FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION,
                   IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION);
    assert_status(fltsim_memfs_ops.fs_filter_cb(fs, &d.data), STATUS_INVALID_DEVICE_STATE);
    direct_request(&d, FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION,
                   IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION);
    assert_status(fltsim_memfs_ops.fs_filter_cb(fs, &d.data), STATUS_SUCCESS);
    direct_request(&d, FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION,
                   IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION);
    assert_status(fltsim_memfs_ops.fs_filter_cb(fs, &d.data), STATUS_SUCCESS);
    assert_status(fltsim_memfs_ops.fs_filter_cb(fs, &d.data), STATUS_INVALID_DEVICE_STATE);
    direct_close(fs, &d);
    fltsim_memfs_destroy(fs);
}

/* ---- clock, helpers, lifetime ---- */

/* Every timestamp is the previous one plus FLTSIM_MEMFS_CLOCK_STEP. */
static void memfs_clock_is_deterministic(void **state)
{
    (void)state;
    struct fltsim_memfs *a, *b;
    struct fltsim_memfs_options o = {.start_time = 1000000};
    assert_status(fltsim_memfs_create(&o, &a), STATUS_SUCCESS);
    assert_status(fltsim_memfs_create(&o, &b), STATUS_SUCCESS);
    for (int i = 0; i < 3; i++) {
        WCHAR path[] = L"\\f0";
        path[2] = (WCHAR)(L'0' + i);
        assert_status(fltsim_memfs_add_file(a, path, "", 0), STATUS_SUCCESS);
        assert_status(fltsim_memfs_add_file(b, path, "", 0), STATUS_SUCCESS);
    }
    struct direct d1, d2;
    assert_status(direct_create(a, &d1, L"\\f2", FILE_READ_ATTRIBUTES, FILE_OPEN, 0, 0),
                  STATUS_SUCCESS);
    assert_status(direct_create(b, &d2, L"\\f2", FILE_READ_ATTRIBUTES, FILE_OPEN, 0, 0),
                  STATUS_SUCCESS);
    FILE_BASIC_INFORMATION x, y;
    direct_request(&d1, FLTFL_CALLBACK_DATA_IRP_OPERATION, IRP_MJ_QUERY_INFORMATION);
    d1.iopb.Parameters.QueryFileInformation.Length = sizeof(x);
    d1.iopb.Parameters.QueryFileInformation.FileInformationClass = FileBasicInformation;
    d1.iopb.Parameters.QueryFileInformation.InfoBuffer = &x;
    assert_status(fltsim_memfs_ops.irp_cb(a, &d1.data), STATUS_SUCCESS);
    direct_request(&d2, FLTFL_CALLBACK_DATA_IRP_OPERATION, IRP_MJ_QUERY_INFORMATION);
    d2.iopb.Parameters.QueryFileInformation.Length = sizeof(y);
    d2.iopb.Parameters.QueryFileInformation.FileInformationClass = FileBasicInformation;
    d2.iopb.Parameters.QueryFileInformation.InfoBuffer = &y;
    assert_status(fltsim_memfs_ops.irp_cb(b, &d2.data), STATUS_SUCCESS);
    assert_int_equal(x.CreationTime.QuadPart, y.CreationTime.QuadPart);
    assert_true(x.CreationTime.QuadPart > 1000000);
    assert_int_equal((x.CreationTime.QuadPart - 1000000) % FLTSIM_MEMFS_CLOCK_STEP, 0);
    direct_close(a, &d1);
    direct_close(b, &d2);
    fltsim_memfs_destroy(a);
    fltsim_memfs_destroy(b);
}

static void memfs_helpers_and_their_errors(void **state)
{
    (void)state;
    struct fltsim_memfs *fs = standalone();
    assert_status(fltsim_memfs_add_file(fs, L"\\a.txt", "x", 1), STATUS_OBJECT_NAME_COLLISION);
    assert_status(fltsim_memfs_add_directory(fs, L"\\a.txt"), STATUS_OBJECT_NAME_COLLISION);
    assert_status(fltsim_memfs_add_directory(fs, L"\\dir"), STATUS_SUCCESS); /* exists already */
    assert_status(fltsim_memfs_add_file(fs, L"\\bad|name", "x", 1), STATUS_OBJECT_NAME_INVALID);
    assert_status(fltsim_memfs_add_file(fs, L"\\deep\\er\\f", "xyz", 3), STATUS_SUCCESS);
    char buf[2];
    size_t size = 0;
    assert_status(fltsim_memfs_read_file(fs, L"\\deep\\er\\f", buf, sizeof(buf), &size),
                  STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(size, 3);
    struct fltsim_memfs_stat st;
    assert_status(fltsim_memfs_stat(fs, L"\\missing", &st), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_status(fltsim_memfs_stat(fs, L"\\missing\\x", &st), STATUS_OBJECT_PATH_NOT_FOUND);
    assert_status(fltsim_memfs_stat(fs, L"\\deep", &st), STATUS_SUCCESS);
    assert_true(st.directory);
    fltsim_memfs_destroy(fs);
}

/* Opens are counted until their close; destroy frees what was never closed. */
static void memfs_open_count_and_destroy_with_open_files(void **state)
{
    (void)state;
    struct fltsim_memfs *fs = standalone();
    struct direct d1, d2;
    assert_status(direct_create(fs, &d1, L"\\a.txt", FILE_READ_DATA, FILE_OPEN, 0, 0),
                  STATUS_SUCCESS);
    assert_status(direct_create(fs, &d2, L"\\dir", FILE_READ_DATA, FILE_OPEN, 0, 0),
                  STATUS_SUCCESS);
    assert_int_equal(fltsim_memfs_open_count(fs), 2);
    direct_close(fs, &d1);
    assert_int_equal(fltsim_memfs_open_count(fs), 1);
    fltsim_memfs_destroy(fs); /* d2 never closed: LeakSanitizer checks nothing leaks */
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(memfs_dispositions_on_existing_file),
        T(memfs_dispositions_on_missing_file),
        T(memfs_new_file_and_directory_attributes),
        T(memfs_directory_options),
        T(memfs_invalid_option_combinations),
        T(memfs_names_and_paths),
        T(memfs_share_access_matrix),
        T(memfs_read_only_file),
        T(memfs_overwrite_keeps_hidden_and_system),
        T(memfs_delete_pending_and_delete_on_close),
        T(memfs_directory_delete_rules),
        T(memfs_open_target_directory),
        T(memfs_read_at_offsets_and_end_of_file),
        T(memfs_write_extends_appends_and_zero_fills),
        T(memfs_paging_write_does_not_extend),
        T(memfs_noncached_io_must_be_aligned),
        T(memfs_capacity_gives_disk_full),
        T(memfs_add_zero_file_reads_zeros),
        T(memfs_fast_io_answers_and_declines),
        T(memfs_section_sync_counts_acquires),
        T(memfs_clock_is_deterministic),
        T(memfs_helpers_and_their_errors),
        T(memfs_open_count_and_destroy_with_open_files),
    };
#undef T
    return FLTSIM_RUN_SUITE("memfs", tests);
}
