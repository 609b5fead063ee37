/*
 * hostfs, the file system over a real host directory (issue 4). Each case
 * gets a fresh temporary directory mounted as C: (hostfs_fx.h) and acts
 * through the test I/O API; the host side is set up and checked with plain
 * POSIX calls. Creation, deletion, rename, enumeration, data, the read-only
 * mode, the root's confinement and a filter in the stack, one behaviour at
 * a time; one sequence compared with memfs's answers is
 * test_hostfs_parity.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fltsim/hostfs.h>

#include "fltsim_test.h"
#include "hostfs_fx.h"

/* ---- host side ---- */

static void host_put(const struct hf *h, const char *rel, const char *data)
{
    char p[1024];
    host_path(h, rel, p, sizeof(p));
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, strlen(data), f), strlen(data));
    assert_int_equal(fclose(f), 0);
}

static void host_mkdir(const struct hf *h, const char *rel)
{
    char p[1024];
    host_path(h, rel, p, sizeof(p));
    assert_int_equal(mkdir(p, 0777), 0);
}

/* The content of a host file as a string, or "<missing>". */
static const char *host_get(const struct hf *h, const char *rel)
{
    static char buf[4096];
    char p[1024];
    host_path(h, rel, p, sizeof(p));
    FILE *f = fopen(p, "rb");
    if (f == NULL)
        return "<missing>";
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static bool host_exists(const struct hf *h, const char *rel)
{
    char p[1024];
    struct stat st;
    host_path(h, rel, p, sizeof(p));
    return lstat(p, &st) == 0;
}

static long host_size(const struct hf *h, const char *rel)
{
    char p[1024];
    struct stat st;
    host_path(h, rel, p, sizeof(p));
    if (lstat(p, &st) != 0)
        return -1;
    return (long)st.st_size;
}

/* ---- handles ---- */

static HANDLE open_rw(fltsim_system *sys, PCWSTR path)
{
    HANDLE h = NULL;
    assert_status(cr(sys, path, GENERIC_READ | GENERIC_WRITE, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    return h;
}

/* The full name a handle reports (FileNameInformation), as UTF-8. */
static const char *name_of(fltsim_system *sys, HANDLE h)
{
    static char out[600];
    UCHAR buf[1024];
    IO_STATUS_BLOCK iosb;
    assert_status(
        fltsim_io_query_information(sys, h, buf, sizeof(buf), FileNameInformation, 0, &iosb),
        STATUS_SUCCESS);
    const FILE_NAME_INFORMATION *n = (const void *)buf;
    fltsim_utf16_to_utf8(n->FileName, n->FileNameLength / sizeof(WCHAR), out, sizeof(out));
    return out;
}

static FILE_STANDARD_INFORMATION standard_of(fltsim_system *sys, HANDLE h)
{
    FILE_STANDARD_INFORMATION s;
    IO_STATUS_BLOCK iosb;
    assert_status(
        fltsim_io_query_information(sys, h, &s, sizeof(s), FileStandardInformation, 0, &iosb),
        STATUS_SUCCESS);
    return s;
}

/* ---- creation ---- */

static void hostfs_create_bad_root_is_refused_with_a_reason(void **state)
{
    struct hf *h = *state;
    struct fltsim_hostfs *fs = (struct fltsim_hostfs *)0x1;
    char missing[600], file[600];

    snprintf(missing, sizeof(missing), "%s/no-such-dir", h->dir);
    assert_status(fltsim_hostfs_create(missing, NULL, &fs), STATUS_OBJECT_PATH_NOT_FOUND);
    assert_null(fs);
    assert_non_null(strstr(fltsim_last_error(), "no-such-dir"));

    host_put(h, "plain", "x");
    snprintf(file, sizeof(file), "%s/plain", h->dir);
    assert_status(fltsim_hostfs_create(file, NULL, &fs), STATUS_OBJECT_PATH_NOT_FOUND);
    assert_non_null(strstr(fltsim_last_error(), "not a directory"));

    struct fltsim_hostfs_options bad = {.flags = 0x100};
    assert_status(fltsim_hostfs_create(h->dir, &bad, &fs), STATUS_INVALID_PARAMETER);
    assert_non_null(strstr(fltsim_last_error(), "unknown flags"));
    assert_status(fltsim_hostfs_create(NULL, NULL, &fs), STATUS_INVALID_PARAMETER);
    assert_status(fltsim_hostfs_create(h->dir, NULL, NULL), STATUS_INVALID_PARAMETER);
    fltsim_hostfs_destroy(NULL);
}

static void hostfs_every_disposition_follows_ntfs(void **state)
{
    struct hf *h = *state;
    fltsim_system *sys = h->sys;
    ULONG_PTR info;
    const ACCESS_MASK rw = GENERIC_READ | GENERIC_WRITE;

    /* Missing file. */
    assert_status(cr(sys, L"C:\\f.txt", rw, 0, FILE_OPEN, 0, NULL, &info),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(info, FILE_DOES_NOT_EXIST);
    assert_status(cr(sys, L"C:\\f.txt", rw, 0, FILE_OVERWRITE, 0, NULL, &info),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    assert_false(host_exists(h, "f.txt"));
    assert_status(cr(sys, L"C:\\f.txt", rw, 0, FILE_CREATE, 0, NULL, &info), STATUS_SUCCESS);
    assert_int_equal(info, FILE_CREATED);
    assert_true(host_exists(h, "f.txt"));
    assert_status(cr(sys, L"C:\\f.txt", rw, 0, FILE_CREATE, 0, NULL, &info),
                  STATUS_OBJECT_NAME_COLLISION);
    assert_int_equal(info, FILE_EXISTS);
    assert_status(cr(sys, L"C:\\f.txt", rw, 0, FILE_OPEN, 0, NULL, &info), STATUS_SUCCESS);
    assert_int_equal(info, FILE_OPENED);
    assert_status(cr(sys, L"C:\\f.txt", rw, 0, FILE_OPEN_IF, 0, NULL, &info), STATUS_SUCCESS);
    assert_int_equal(info, FILE_OPENED);

    /* Overwrites truncate the host file. */
    host_put(h, "f.txt", "some data");
    assert_status(cr(sys, L"C:\\f.txt", rw, 0, FILE_OVERWRITE, 0, NULL, &info), STATUS_SUCCESS);
    assert_int_equal(info, FILE_OVERWRITTEN);
    assert_int_equal(host_size(h, "f.txt"), 0);
    host_put(h, "f.txt", "more");
    assert_status(cr(sys, L"C:\\f.txt", rw, 0, FILE_OVERWRITE_IF, 0, NULL, &info), STATUS_SUCCESS);
    assert_int_equal(info, FILE_OVERWRITTEN);
    assert_int_equal(host_size(h, "f.txt"), 0);
    host_put(h, "f.txt", "again");
    assert_status(cr(sys, L"C:\\f.txt", rw, 0, FILE_SUPERSEDE, 0, NULL, &info), STATUS_SUCCESS);
    assert_int_equal(info, FILE_SUPERSEDED);
    assert_int_equal(host_size(h, "f.txt"), 0);

    /* The creating dispositions on new names. */
    assert_status(cr(sys, L"C:\\g.txt", rw, 0, FILE_OPEN_IF, 0, NULL, &info), STATUS_SUCCESS);
    assert_int_equal(info, FILE_CREATED);
    assert_status(cr(sys, L"C:\\h.txt", rw, 0, FILE_OVERWRITE_IF, 0, NULL, &info), STATUS_SUCCESS);
    assert_int_equal(info, FILE_CREATED);
    assert_status(cr(sys, L"C:\\i.txt", rw, 0, FILE_SUPERSEDE, 0, NULL, &info), STATUS_SUCCESS);
    assert_int_equal(info, FILE_CREATED);
    assert_string_equal(host_list(h, ""), "f.txt,g.txt,h.txt,i.txt");

    /* Directories. */
    assert_status(
        cr(sys, L"C:\\d", FILE_LIST_DIRECTORY, 0, FILE_CREATE, FILE_DIRECTORY_FILE, NULL, &info),
        STATUS_SUCCESS);
    struct stat st;
    char p[1024];
    host_path(h, "d", p, sizeof(p));
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_status(cr(sys, L"C:\\d", rw, 0, FILE_OPEN, FILE_NON_DIRECTORY_FILE, NULL, NULL),
                  STATUS_FILE_IS_A_DIRECTORY);
    assert_status(
        cr(sys, L"C:\\f.txt", FILE_LIST_DIRECTORY, 0, FILE_OPEN, FILE_DIRECTORY_FILE, NULL, NULL),
        STATUS_NOT_A_DIRECTORY);
    assert_status(cr(sys, L"C:\\d", rw, 0, FILE_OVERWRITE, 0, NULL, NULL),
                  STATUS_OBJECT_NAME_COLLISION);
    assert_status(cr(sys, L"C:\\d\\in.txt", rw, 0, FILE_CREATE, 0, NULL, NULL), STATUS_SUCCESS);
    assert_true(host_exists(h, "d/in.txt"));
    /* A missing or non-directory intermediate component. */
    assert_status(cr(sys, L"C:\\nodir\\x.txt", rw, 0, FILE_CREATE, 0, NULL, NULL),
                  STATUS_OBJECT_PATH_NOT_FOUND);
    assert_status(cr(sys, L"C:\\f.txt\\x.txt", rw, 0, FILE_CREATE, 0, NULL, NULL),
                  STATUS_OBJECT_PATH_NOT_FOUND);
    assert_int_equal(fltsim_hostfs_open_count(h->fs), 0);
}

static void hostfs_open_matches_host_names_ignoring_case(void **state)
{
    struct hf *h = *state;
    fltsim_system *sys = h->sys;
    HANDLE f;
    char buf[32];
    IO_STATUS_BLOCK iosb;

    host_mkdir(h, "SubDir");
    host_put(h, "SubDir/MixedCase.TXT", "mixed");
    assert_status(cr(sys, L"C:\\subdir\\MIXEDCASE.txt", GENERIC_READ, FILE_SHARE_READ, FILE_OPEN, 0,
                     &f, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_read(sys, f, buf, sizeof(buf), NULL, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 5);
    assert_memory_equal(buf, "mixed", 5);
    /* The name reported is the host's spelling. */
    assert_string_equal(name_of(sys, f), "\\SubDir\\MixedCase.TXT");
    /* Both spellings are one file: share access sees the first open. */
    assert_status(
        cr(sys, L"C:\\SUBDIR\\mixedcase.TXT", GENERIC_WRITE, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
        STATUS_SHARING_VIOLATION);
    assert_status(fltsim_io_close(sys, f), STATUS_SUCCESS);

    /* An exact match wins; otherwise the first entry in byte order. */
    host_put(h, "ab", "lower");
    host_put(h, "AB", "upper");
    assert_status(fltsim_io_open(sys, L"C:\\ab", GENERIC_READ, &f), STATUS_SUCCESS);
    assert_string_equal(name_of(sys, f), "\\ab");
    assert_status(fltsim_io_close(sys, f), STATUS_SUCCESS);
    assert_status(fltsim_io_open(sys, L"C:\\aB", GENERIC_READ, &f), STATUS_SUCCESS);
    assert_string_equal(name_of(sys, f), "\\AB");
    assert_status(fltsim_io_close(sys, f), STATUS_SUCCESS);

    /* Latin-1 letters fold too (RtlUpcaseUnicodeChar). */
    host_put(h, "\xc3\xa9t\xc3\xa9.txt", "summer"); /* "été.txt" */
    assert_status(fltsim_io_open(sys, L"C:\\\x00c9T\x00c9.TXT", GENERIC_READ, &f), STATUS_SUCCESS);
    assert_status(fltsim_io_close(sys, f), STATUS_SUCCESS);

    /* New names are created with the case given; an existing name in other
     * case is opened, not created again. */
    assert_status(cr(sys, L"C:\\NewName.Txt", GENERIC_WRITE, 0, FILE_CREATE, 0, NULL, NULL),
                  STATUS_SUCCESS);
    assert_true(host_exists(h, "NewName.Txt"));
    assert_status(cr(sys, L"C:\\NEWNAME.TXT", GENERIC_WRITE, 0, FILE_CREATE, 0, NULL, NULL),
                  STATUS_OBJECT_NAME_COLLISION);
    assert_false(host_exists(h, "NEWNAME.TXT"));
}

static void hostfs_sharing_violation_among_its_opens(void **state)
{
    struct hf *h = *state;
    fltsim_system *sys = h->sys;
    HANDLE a, b;

    host_put(h, "s.txt", "shared");
    assert_status(cr(sys, L"C:\\s.txt", GENERIC_READ, FILE_SHARE_READ, FILE_OPEN, 0, &a, NULL),
                  STATUS_SUCCESS);
    assert_status(cr(sys, L"C:\\s.txt", GENERIC_WRITE, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_SHARING_VIOLATION);
    /* An overwrite counts as writing. */
    assert_status(cr(sys, L"C:\\s.txt", GENERIC_READ, ALL_SHARE, FILE_OVERWRITE, 0, NULL, NULL),
                  STATUS_SHARING_VIOLATION);
    assert_string_equal(host_get(h, "s.txt"), "shared");
    assert_status(cr(sys, L"C:\\s.txt", GENERIC_READ, FILE_SHARE_READ, FILE_OPEN, 0, &b, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_close(sys, a), STATUS_SUCCESS);
    assert_status(fltsim_io_close(sys, b), STATUS_SUCCESS);
    assert_status(cr(sys, L"C:\\s.txt", GENERIC_WRITE, 0, FILE_OPEN, 0, NULL, NULL),
                  STATUS_SUCCESS);
}

/* ---- deletion ---- */

static void hostfs_delete_on_close_unlinks_at_last_cleanup(void **state)
{
    struct hf *h = *state;
    fltsim_system *sys = h->sys;
    HANDLE a, b;

    assert_status(cr(sys, L"C:\\tmp.txt", GENERIC_READ | GENERIC_WRITE | DELETE, ALL_SHARE,
                     FILE_CREATE, FILE_DELETE_ON_CLOSE, &a, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_write(sys, a, "abc", 3, NULL, 0, NULL), STATUS_SUCCESS);
    b = open_rw(sys, L"C:\\tmp.txt");
    assert_status(fltsim_io_close(sys, a), STATUS_SUCCESS);
    /* Delete pending now: still on the host, but no new open. */
    assert_true(host_exists(h, "tmp.txt"));
    assert_status(cr(sys, L"C:\\tmp.txt", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_DELETE_PENDING);
    assert_true(standard_of(sys, b).DeletePending);
    assert_status(fltsim_io_close(sys, b), STATUS_SUCCESS);
    assert_false(host_exists(h, "tmp.txt"));

    /* A read-only file cannot be opened for delete on close. */
    host_put(h, "ro.txt", "ro");
    char p[1024];
    host_path(h, "ro.txt", p, sizeof(p));
    assert_int_equal(chmod(p, 0444), 0);
    assert_status(
        cr(sys, L"C:\\ro.txt", DELETE, ALL_SHARE, FILE_OPEN, FILE_DELETE_ON_CLOSE, NULL, NULL),
        STATUS_CANNOT_DELETE);
    assert_true(host_exists(h, "ro.txt"));
    assert_int_equal(fltsim_hostfs_open_count(h->fs), 0);
}

static void hostfs_delete_pending_by_disposition(void **state)
{
    struct hf *h = *state;
    fltsim_system *sys = h->sys;
    HANDLE f, d;

    host_put(h, "victim.txt", "bye");
    assert_status(
        cr(sys, L"C:\\victim.txt", GENERIC_READ | DELETE, ALL_SHARE, FILE_OPEN, 0, &f, NULL),
        STATUS_SUCCESS);
    assert_status(fltsim_io_delete(sys, f, TRUE), STATUS_SUCCESS);
    assert_true(standard_of(sys, f).DeletePending);
    assert_status(cr(sys, L"C:\\victim.txt", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_DELETE_PENDING);
    /* Undelete, then delete again: only the last word counts. */
    assert_status(fltsim_io_delete(sys, f, FALSE), STATUS_SUCCESS);
    assert_false(standard_of(sys, f).DeletePending);
    assert_status(fltsim_io_delete(sys, f, TRUE), STATUS_SUCCESS);
    assert_true(host_exists(h, "victim.txt"));
    assert_status(fltsim_io_close(sys, f), STATUS_SUCCESS);
    assert_false(host_exists(h, "victim.txt"));

    /* A directory must be empty; the root cannot be deleted. */
    host_mkdir(h, "full");
    host_put(h, "full/x", "x");
    assert_status(cr(sys, L"C:\\full", DELETE, ALL_SHARE, FILE_OPEN, FILE_DIRECTORY_FILE, &d, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_delete(sys, d, TRUE), STATUS_DIRECTORY_NOT_EMPTY);
    assert_status(fltsim_io_close(sys, d), STATUS_SUCCESS);
    host_mkdir(h, "empty");
    assert_status(
        cr(sys, L"C:\\empty", DELETE, ALL_SHARE, FILE_OPEN, FILE_DIRECTORY_FILE, &d, NULL),
        STATUS_SUCCESS);
    assert_status(fltsim_io_delete(sys, d, TRUE), STATUS_SUCCESS);
    assert_status(fltsim_io_close(sys, d), STATUS_SUCCESS);
    assert_false(host_exists(h, "empty"));
    assert_true(host_exists(h, "full/x"));
    assert_status(cr(sys, L"C:\\", DELETE, ALL_SHARE, FILE_OPEN, FILE_DIRECTORY_FILE, &d, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_delete(sys, d, TRUE), STATUS_CANNOT_DELETE);
    assert_status(fltsim_io_close(sys, d), STATUS_SUCCESS);
}

/* ---- rename ---- */

static void hostfs_rename_with_and_without_replace(void **state)
{
    struct hf *h = *state;
    fltsim_system *sys = h->sys;
    HANDLE f, other;

    host_put(h, "a.txt", "alpha");
    host_put(h, "c.txt", "charlie");
    host_mkdir(h, "dir");
    f = open_rw(sys, L"C:\\a.txt");
    f = (fltsim_io_close(sys, f), NULL);
    assert_status(cr(sys, L"C:\\a.txt", GENERIC_READ | DELETE, ALL_SHARE, FILE_OPEN, 0, &f, NULL),
                  STATUS_SUCCESS);

    /* A bare name: same directory. */
    assert_status(fltsim_io_rename(sys, f, L"b.txt", FALSE, NULL), STATUS_SUCCESS);
    assert_string_equal(host_list(h, ""), "b.txt,c.txt,dir");
    assert_string_equal(name_of(sys, f), "\\b.txt");
    /* Onto an existing name (any case) without replace. */
    assert_status(fltsim_io_rename(sys, f, L"C.TXT", FALSE, NULL), STATUS_OBJECT_NAME_COLLISION);
    assert_string_equal(host_get(h, "c.txt"), "charlie");
    /* Replacing a file that is open is refused. */
    other = open_rw(sys, L"C:\\c.txt");
    assert_status(fltsim_io_rename(sys, f, L"c.txt", TRUE, NULL), STATUS_ACCESS_DENIED);
    assert_status(fltsim_io_close(sys, other), STATUS_SUCCESS);
    /* With replace: the new spelling is kept and the old entry goes. */
    assert_status(fltsim_io_rename(sys, f, L"C.txt", TRUE, NULL), STATUS_SUCCESS);
    assert_string_equal(host_list(h, ""), "C.txt,dir");
    assert_string_equal(host_get(h, "C.txt"), "alpha");
    /* A fully qualified name moves it to another directory. */
    assert_status(fltsim_io_rename(sys, f, L"C:\\dir\\moved.txt", FALSE, NULL), STATUS_SUCCESS);
    assert_string_equal(host_list(h, "dir"), "moved.txt");
    assert_string_equal(name_of(sys, f), "\\dir\\moved.txt");
    /* Only the case changes. */
    assert_status(fltsim_io_rename(sys, f, L"MOVED.txt", FALSE, NULL), STATUS_SUCCESS);
    assert_string_equal(host_list(h, "dir"), "MOVED.txt");
    assert_status(fltsim_io_close(sys, f), STATUS_SUCCESS);

    /* A directory cannot move into itself, nor while a file below is open. */
    HANDLE d;
    host_mkdir(h, "dir/sub");
    assert_status(cr(sys, L"C:\\dir", DELETE | FILE_LIST_DIRECTORY, ALL_SHARE, FILE_OPEN,
                     FILE_DIRECTORY_FILE, &d, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_rename(sys, d, L"C:\\dir\\sub\\dir", FALSE, NULL),
                  STATUS_INVALID_PARAMETER);
    other = open_rw(sys, L"C:\\dir\\MOVED.txt");
    assert_status(fltsim_io_rename(sys, d, L"dir2", FALSE, NULL), STATUS_ACCESS_DENIED);
    assert_status(fltsim_io_close(sys, other), STATUS_SUCCESS);
    assert_status(fltsim_io_rename(sys, d, L"dir2", FALSE, NULL), STATUS_SUCCESS);
    assert_string_equal(host_get(h, "dir2/MOVED.txt"), "alpha");
    assert_status(fltsim_io_close(sys, d), STATUS_SUCCESS);
}

/* ---- enumeration ---- */

static void hostfs_directory_listing_with_wildcards(void **state)
{
    struct hf *h = *state;
    fltsim_system *sys = h->sys;
    UCHAR buf[2048];
    char names[512];
    IO_STATUS_BLOCK iosb;
    HANDLE d;

    host_mkdir(h, "dir");
    host_put(h, "dir/b.txt", "b");
    host_put(h, "dir/a.txt", "a");
    host_put(h, "dir/c.log", "c");
    host_mkdir(h, "dir/sub");
    host_put(h, "dir/bad:name", "not an NT name");
    char target[1024], link[1024];
    host_path(h, "dir/a.txt", target, sizeof(target));
    host_path(h, "dir/link.txt", link, sizeof(link));
    assert_int_equal(symlink(target, link), 0);

    assert_status(cr(sys, L"C:\\dir", FILE_LIST_DIRECTORY, ALL_SHARE, FILE_OPEN,
                     FILE_DIRECTORY_FILE, &d, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_query_directory(sys, d, buf, sizeof(buf), FileNamesInformation,
                                            L"*.TXT", 0, &iosb),
                  STATUS_SUCCESS);
    names_of(buf, iosb.Information, names, sizeof(names));
    assert_string_equal(names, "a.txt,b.txt"); /* the symbolic link is not shown */
    assert_status(
        fltsim_io_query_directory(sys, d, buf, sizeof(buf), FileNamesInformation, NULL, 0, &iosb),
        STATUS_NO_MORE_FILES);
    /* A restart with a new pattern, one entry at a time. */
    assert_status(fltsim_io_query_directory(sys, d, buf, sizeof(buf), FileNamesInformation, L"*",
                                            SL_RESTART_SCAN | SL_RETURN_SINGLE_ENTRY, &iosb),
                  STATUS_SUCCESS);
    names_of(buf, iosb.Information, names, sizeof(names));
    assert_string_equal(names, ".");
    /* An entry added between queries shows up in its place. */
    host_put(h, "dir/bb.txt", "bb");
    assert_status(
        fltsim_io_query_directory(sys, d, buf, sizeof(buf), FileNamesInformation, NULL, 0, &iosb),
        STATUS_SUCCESS);
    names_of(buf, iosb.Information, names, sizeof(names));
    assert_string_equal(names, "..,a.txt,b.txt,bb.txt,c.log,sub");
    /* Sizes and kinds come from the host. */
    assert_status(fltsim_io_query_directory(sys, d, buf, sizeof(buf), FileDirectoryInformation,
                                            L"c.log", SL_RESTART_SCAN, &iosb),
                  STATUS_SUCCESS);
    const FILE_DIRECTORY_INFORMATION *e = (const void *)buf;
    assert_int_equal(e->EndOfFile.QuadPart, 1);
    assert_int_equal(e->AllocationSize.QuadPart, 4096);
    assert_int_equal(e->FileAttributes, FILE_ATTRIBUTE_ARCHIVE);
    assert_int_equal(e->NextEntryOffset, 0);
    assert_status(fltsim_io_close(sys, d), STATUS_SUCCESS);

    /* No match at all on the first query. */
    assert_status(cr(sys, L"C:\\dir", FILE_LIST_DIRECTORY, ALL_SHARE, FILE_OPEN,
                     FILE_DIRECTORY_FILE, &d, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_query_directory(sys, d, buf, sizeof(buf), FileNamesInformation,
                                            L"*.doc", 0, &iosb),
                  STATUS_NO_SUCH_FILE);
    assert_status(fltsim_io_close(sys, d), STATUS_SUCCESS);
}

/* ---- data ---- */

static void hostfs_read_past_end_of_file(void **state)
{
    struct hf *h = *state;
    fltsim_system *sys = h->sys;
    char buf[64];
    IO_STATUS_BLOCK iosb;
    HANDLE f;

    host_put(h, "r.txt", "hello");
    assert_status(fltsim_io_open(sys, L"C:\\r.txt", GENERIC_READ, &f), STATUS_SUCCESS);
    LONGLONG off = 100;
    assert_status(fltsim_io_read(sys, f, buf, sizeof(buf), &off, 0, &iosb), STATUS_END_OF_FILE);
    assert_int_equal(iosb.Information, 0);
    off = 5;
    assert_status(fltsim_io_read(sys, f, buf, sizeof(buf), &off, 0, &iosb), STATUS_END_OF_FILE);
    off = 3;
    assert_status(fltsim_io_read(sys, f, buf, sizeof(buf), &off, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 2);
    assert_memory_equal(buf, "lo", 2);
    /* The file pointer moves with synchronous reads. */
    assert_status(fltsim_io_read(sys, f, buf, 64, NULL, 0, &iosb), STATUS_END_OF_FILE);
    /* Non-cached reads must be sector-aligned. */
    off = 1;
    assert_status(fltsim_io_read(sys, f, buf, 512, &off, FLTSIM_IO_NONCACHED, &iosb),
                  STATUS_INVALID_PARAMETER);
    assert_status(fltsim_io_close(sys, f), STATUS_SUCCESS);
}

static void hostfs_write_extends_and_appends(void **state)
{
    struct hf *h = *state;
    fltsim_system *sys = h->sys;
    IO_STATUS_BLOCK iosb;
    HANDLE f;

    host_put(h, "w.txt", "hello");
    f = open_rw(sys, L"C:\\w.txt");
    LONGLONG off = 8;
    assert_status(fltsim_io_write(sys, f, "XYZ", 3, &off, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 3);
    assert_int_equal(host_size(h, "w.txt"), 11);
    FILE_STANDARD_INFORMATION s = standard_of(sys, f);
    assert_int_equal(s.EndOfFile.QuadPart, 11);
    assert_int_equal(s.AllocationSize.QuadPart, 4096);
    char buf[16];
    off = 0;
    assert_status(fltsim_io_read(sys, f, buf, sizeof(buf), &off, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 11);
    assert_memory_equal(buf, "hello\0\0\0XYZ", 11); /* the gap reads as zeros */
    /* Appending. */
    LONGLONG end = (LONGLONG)(((ULONGLONG)0xFFFFFFFF << 32) | FILE_WRITE_TO_END_OF_FILE);
    assert_status(fltsim_io_write(sys, f, "!", 1, &end, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(host_size(h, "w.txt"), 12);
    /* End of file can be cut and grown. */
    FILE_END_OF_FILE_INFORMATION e = {{{4, 0}}};
    assert_status(fltsim_io_set_information(sys, f, &e, sizeof(e), FileEndOfFileInformation, &iosb),
                  STATUS_SUCCESS);
    assert_string_equal(host_get(h, "w.txt"), "hell");
    assert_status(fltsim_io_flush(sys, f, &iosb), STATUS_SUCCESS);
    assert_status(fltsim_io_close(sys, f), STATUS_SUCCESS);
}

static void hostfs_readonly_attribute_maps_to_permissions(void **state)
{
    struct hf *h = *state;
    fltsim_system *sys = h->sys;
    IO_STATUS_BLOCK iosb;
    HANDLE f;
    char p[1024];
    struct stat st;

    host_put(h, "p.txt", "data");
    f = open_rw(sys, L"C:\\p.txt");
    FILE_BASIC_INFORMATION b;
    memset(&b, 0, sizeof(b));
    b.FileAttributes = FILE_ATTRIBUTE_READONLY;
    b.LastWriteTime.QuadPart = 133485408000000000LL; /* 2024-01-01T00:00:00Z */
    assert_status(fltsim_io_set_information(sys, f, &b, sizeof(b), FileBasicInformation, &iosb),
                  STATUS_SUCCESS);
    host_path(h, "p.txt", p, sizeof(p));
    assert_int_equal(lstat(p, &st), 0);
    assert_int_equal(st.st_mode & 0222, 0);
    assert_int_equal(st.st_mtime, 1704067200);
    memset(&b, 0, sizeof(b));
    assert_status(
        fltsim_io_query_information(sys, f, &b, sizeof(b), FileBasicInformation, 0, &iosb),
        STATUS_SUCCESS);
    assert_int_equal(b.FileAttributes, FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_ARCHIVE);
    assert_int_equal(b.LastWriteTime.QuadPart, 133485408000000000LL);
    assert_status(fltsim_io_close(sys, f), STATUS_SUCCESS);
    /* A read-only file opens for reading only. */
    assert_status(cr(sys, L"C:\\p.txt", GENERIC_WRITE, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_ACCESS_DENIED);
    assert_status(cr(sys, L"C:\\p.txt", GENERIC_READ, ALL_SHARE, FILE_OVERWRITE, 0, NULL, NULL),
                  STATUS_ACCESS_DENIED);
    assert_status(cr(sys, L"C:\\p.txt", GENERIC_READ | FILE_WRITE_ATTRIBUTES, ALL_SHARE, FILE_OPEN,
                     0, &f, NULL),
                  STATUS_SUCCESS);
    b.FileAttributes = FILE_ATTRIBUTE_NORMAL;
    b.LastWriteTime.QuadPart = 0;
    assert_status(fltsim_io_set_information(sys, f, &b, sizeof(b), FileBasicInformation, &iosb),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_close(sys, f), STATUS_SUCCESS);
    assert_int_equal(lstat(p, &st), 0);
    assert_true((st.st_mode & S_IWUSR) != 0);
    f = open_rw(sys, L"C:\\p.txt");
    assert_status(fltsim_io_write(sys, f, "D", 1, NULL, 0, NULL), STATUS_SUCCESS);
    assert_status(fltsim_io_close(sys, f), STATUS_SUCCESS);
    assert_string_equal(host_get(h, "p.txt"), "Data");
}

static void hostfs_fast_io_and_section_sync_serve_host_data(void **state)
{
    struct hf *h = *state;
    fltsim_system *sys = h->sys;
    IO_STATUS_BLOCK iosb;
    char buf[16];
    HANDLE f;

    host_put(h, "fast.txt", "fast data");
    f = open_rw(sys, L"C:\\fast.txt");
    LONGLONG off = 5;
    assert_status(fltsim_io_read(sys, f, buf, sizeof(buf), &off, FLTSIM_IO_FAST, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 4);
    assert_memory_equal(buf, "data", 4);
    off = 0;
    assert_status(fltsim_io_write(sys, f, "FAST", 4, &off, FLTSIM_IO_FAST, &iosb), STATUS_SUCCESS);
    /* Extending declines fast I/O; the IRP that follows extends the file. */
    off = 9;
    assert_status(fltsim_io_write(sys, f, "!", 1, &off, FLTSIM_IO_FAST, &iosb), STATUS_SUCCESS);
    assert_string_equal(host_get(h, "fast.txt"), "FAST data!");
    /* The handle writes: NTFS's answer for a section with writers. */
    assert_status(fltsim_io_map_section(sys, f, PAGE_READONLY), STATUS_FILE_LOCKED_WITH_WRITERS);
    assert_status(fltsim_io_release_for_section_sync(sys, f), STATUS_INVALID_DEVICE_STATE);
    assert_status(fltsim_io_close(sys, f), STATUS_SUCCESS);
}

/* ---- read-only hostfs and the root ---- */

static void hostfs_read_only_mode_refuses_modifications(void **state)
{
    struct hf *h = *state;
    fltsim_system *sys = h->sys;
    struct fltsim_hostfs *ro;
    PFLT_VOLUME vol;
    IO_STATUS_BLOCK iosb;
    HANDLE f;
    char buf[16];

    host_put(h, "keep.txt", "keep");
    host_mkdir(h, "d");
    struct fltsim_hostfs_options o = {.flags = FLTSIM_HOSTFS_READ_ONLY};
    assert_status(fltsim_hostfs_create(h->dir, &o, &ro), STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume2",
                                      .drive_letter = L'D',
                                      .ops = &fltsim_hostfs_ops,
                                      .fs = ro,
                                      .fs_type = FLT_FSTYPE_NTFS};
    assert_status(fltsim_volume_mount(sys, &vp, &vol), STATUS_SUCCESS);

    assert_status(cr(sys, L"D:\\new.txt", GENERIC_WRITE, 0, FILE_CREATE, 0, NULL, NULL),
                  STATUS_MEDIA_WRITE_PROTECTED);
    assert_status(cr(sys, L"D:\\new.txt", GENERIC_WRITE, 0, FILE_OPEN_IF, 0, NULL, NULL),
                  STATUS_MEDIA_WRITE_PROTECTED);
    assert_status(cr(sys, L"D:\\d\\sub", FILE_LIST_DIRECTORY, 0, FILE_CREATE, FILE_DIRECTORY_FILE,
                     NULL, NULL),
                  STATUS_MEDIA_WRITE_PROTECTED);
    assert_status(cr(sys, L"D:\\keep.txt", GENERIC_WRITE, 0, FILE_OVERWRITE, 0, NULL, NULL),
                  STATUS_MEDIA_WRITE_PROTECTED);
    assert_status(cr(sys, L"D:\\keep.txt", DELETE, 0, FILE_OPEN, FILE_DELETE_ON_CLOSE, NULL, NULL),
                  STATUS_MEDIA_WRITE_PROTECTED);
    assert_status(cr(sys, L"D:\\keep.txt", GENERIC_READ | GENERIC_WRITE | DELETE, ALL_SHARE,
                     FILE_OPEN, 0, &f, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_read(sys, f, buf, sizeof(buf), NULL, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 4);
    LONGLONG off = 0;
    assert_status(fltsim_io_write(sys, f, "X", 1, &off, 0, &iosb), STATUS_MEDIA_WRITE_PROTECTED);
    assert_status(fltsim_io_delete(sys, f, TRUE), STATUS_MEDIA_WRITE_PROTECTED);
    assert_status(fltsim_io_rename(sys, f, L"other.txt", FALSE, NULL),
                  STATUS_MEDIA_WRITE_PROTECTED);
    FILE_END_OF_FILE_INFORMATION e = {{{0, 0}}};
    assert_status(fltsim_io_set_information(sys, f, &e, sizeof(e), FileEndOfFileInformation, &iosb),
                  STATUS_MEDIA_WRITE_PROTECTED);
    /* The position is the file object's, so it may still move. */
    FILE_POSITION_INFORMATION pos = {{{2, 0}}};
    assert_status(
        fltsim_io_set_information(sys, f, &pos, sizeof(pos), FilePositionInformation, &iosb),
        STATUS_SUCCESS);
    assert_status(fltsim_io_close(sys, f), STATUS_SUCCESS);
    assert_string_equal(host_list(h, ""), "d,keep.txt");
    assert_string_equal(host_get(h, "keep.txt"), "keep");
    assert_int_equal(fltsim_hostfs_open_count(ro), 0);
}

static void hostfs_paths_never_leave_the_root(void **state)
{
    struct hf *h = *state;
    fltsim_system *sys = h->sys;
    char outside[600], link[1024];

    /* A directory beside the root, reached by a symbolic link inside it. */
    snprintf(outside, sizeof(outside), "%s-outside", h->dir);
    assert_int_equal(mkdir(outside, 0777), 0);
    host_path(h, "escape", link, sizeof(link));
    assert_int_equal(symlink(outside, link), 0);
    assert_status(cr(sys, L"C:\\escape", FILE_LIST_DIRECTORY, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_ACCESS_DENIED);
    assert_status(cr(sys, L"C:\\escape\\x.txt", GENERIC_WRITE, 0, FILE_CREATE, 0, NULL, NULL),
                  STATUS_ACCESS_DENIED);
    assert_status(cr(sys, L"C:\\ESCAPE\\x.txt", GENERIC_WRITE, 0, FILE_CREATE, 0, NULL, NULL),
                  STATUS_ACCESS_DENIED);
    /* ".." is not a name. */
    assert_status(cr(sys, L"C:\\..\\x.txt", GENERIC_WRITE, 0, FILE_CREATE, 0, NULL, NULL),
                  STATUS_OBJECT_NAME_INVALID);
    /* Names the host cannot hold: an unpaired surrogate, too many bytes. */
    assert_status(cr(sys, L"C:\\\xd800x", GENERIC_WRITE, 0, FILE_CREATE, 0, NULL, NULL),
                  STATUS_OBJECT_NAME_INVALID);
    WCHAR longname[4 + 200 + 1] = L"C:\\";
    for (int i = 0; i < 200; i++)
        longname[3 + i] = 0x00E9; /* two UTF-8 bytes each: 400 > 255 */
    longname[203] = 0;
    assert_status(cr(sys, longname, GENERIC_WRITE, 0, FILE_CREATE, 0, NULL, NULL),
                  STATUS_OBJECT_NAME_INVALID);
    DIR *d = opendir(outside);
    assert_non_null(d);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        entries++;
    closedir(d);
    assert_int_equal(entries, 2); /* "." and ".." only */
    rmdir(outside);
}

/* ---- a filter in the stack ---- */

static FLT_PREOP_CALLBACK_STATUS deny_writes(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                             PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)tf;
    (void)objects;
    (void)context;
    if (data->Iopb->MajorFunction != IRP_MJ_WRITE)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    data->IoStatus.Status = STATUS_ACCESS_DENIED;
    data->IoStatus.Information = 0;
    return FLT_PREOP_COMPLETE;
}

static void hostfs_filter_completing_a_write_keeps_the_host_file(void **state)
{
    struct hf *h = *state;
    fltsim_system *sys = h->sys;
    static struct tf_filter tf; /* outlives the test: teardown unloads it */
    IO_STATUS_BLOCK iosb;
    char buf[16];
    HANDLE f;

    host_put(h, "guarded.txt", "original");
    tf_init(&tf, "A", "370000");
    tf.pre = deny_writes;
    assert_status(tf_load(sys, &tf), STATUS_SUCCESS);
    rec_trace_system(sys);
    rec_reset();
    f = open_rw(sys, L"C:\\guarded.txt");
    LONGLONG off = 0;
    assert_status(fltsim_io_write(sys, f, "changed!", 8, &off, 0, &iosb), STATUS_ACCESS_DENIED);
    assert_status(fltsim_io_read(sys, f, buf, sizeof(buf), &off, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 8);
    assert_memory_equal(buf, "original", 8);
    assert_status(fltsim_io_close(sys, f), STATUS_SUCCESS);
    assert_string_equal(host_get(h, "guarded.txt"), "original");
    /* The filter saw the write; hostfs never did, and served the rest. */
    assert_non_null(strstr(rec_text(), "A:pre:WRITE"));
    assert_null(strstr(rec_text(), "FS:WRITE"));
    assert_non_null(strstr(rec_text(), "FS:READ"));
    assert_int_equal(fltsim_system_report_count(sys), 0);
}

/* hostfs makes no short names (NTFS with 8.3 generation disabled): a long
 * name has no alternate name and no short path opens it, an 8.3 name is its
 * own; the normalized name is the path from the root. */
static void hostfs_no_short_names(void **state)
{
    struct hf *h = *state;
    assert_status(cr(h->sys, L"C:\\Program Files", GENERIC_READ, ALL_SHARE, FILE_CREATE,
                     FILE_DIRECTORY_FILE, NULL, NULL),
                  STATUS_SUCCESS);
    HANDLE f;
    assert_status(
        cr(h->sys, L"C:\\Program Files\\a.txt", GENERIC_READ, ALL_SHARE, FILE_CREATE, 0, &f, NULL),
        STATUS_SUCCESS);
    struct {
        FILE_NAME_INFORMATION info;
        WCHAR more[64];
    } nb;
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_query_information(h->sys, f, &nb, sizeof(nb),
                                              FileAlternateNameInformation, 0, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(nb.info.FileNameLength, 5 * sizeof(WCHAR));
    assert_memory_equal(nb.info.FileName, L"a.txt", 5 * sizeof(WCHAR));
    assert_status(fltsim_io_query_information(h->sys, f, &nb, sizeof(nb),
                                              FileNormalizedNameInformation, 0, &iosb),
                  STATUS_SUCCESS);
    assert_int_equal(nb.info.FileNameLength, 20 * sizeof(WCHAR));
    assert_memory_equal(nb.info.FileName, L"\\Program Files\\a.txt", 20 * sizeof(WCHAR));
    assert_status(fltsim_io_close(h->sys, f), STATUS_SUCCESS);
    assert_status(
        cr(h->sys, L"C:\\Program Files", FILE_READ_ATTRIBUTES, ALL_SHARE, FILE_OPEN, 0, &f, NULL),
        STATUS_SUCCESS);
    assert_status(fltsim_io_query_information(h->sys, f, &nb, sizeof(nb),
                                              FileAlternateNameInformation, 0, &iosb),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    assert_status(fltsim_io_close(h->sys, f), STATUS_SUCCESS);
    assert_status(
        cr(h->sys, L"C:\\PROGRA~1\\a.txt", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
        STATUS_OBJECT_PATH_NOT_FOUND);
}

/* hostfs has no named streams (FILE_NAMED_STREAMS is not claimed): a stream
 * part is an invalid name and FileStreamInformation an unsupported class, as
 * on a file system without streams. */
static void hostfs_no_named_streams(void **state)
{
    struct hf *h = *state;
    HANDLE f;
    assert_status(cr(h->sys, L"C:\\s.txt", GENERIC_WRITE, ALL_SHARE, FILE_CREATE, 0, &f, NULL),
                  STATUS_SUCCESS);
    _Alignas(8) UCHAR buf[128];
    IO_STATUS_BLOCK iosb;
    assert_status(
        fltsim_io_query_information(h->sys, f, buf, sizeof(buf), FileStreamInformation, 0, &iosb),
        STATUS_INVALID_PARAMETER);
    assert_status(fltsim_io_close(h->sys, f), STATUS_SUCCESS);
    static const PCWSTR forms[] = {L"C:\\s.txt:ads", L"C:\\s.txt:ads:$DATA", L"C:\\s.txt::$DATA"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
        assert_status(cr(h->sys, forms[i], GENERIC_READ, ALL_SHARE, FILE_OPEN_IF, 0, NULL, NULL),
                      STATUS_OBJECT_NAME_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hostfs_create_bad_root_is_refused_with_a_reason, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hostfs_every_disposition_follows_ntfs, setup, teardown),
        cmocka_unit_test_setup_teardown(hostfs_no_short_names, setup, teardown),
        cmocka_unit_test_setup_teardown(hostfs_no_named_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(hostfs_open_matches_host_names_ignoring_case, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hostfs_sharing_violation_among_its_opens, setup, teardown),
        cmocka_unit_test_setup_teardown(hostfs_delete_on_close_unlinks_at_last_cleanup, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hostfs_delete_pending_by_disposition, setup, teardown),
        cmocka_unit_test_setup_teardown(hostfs_rename_with_and_without_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(hostfs_directory_listing_with_wildcards, setup, teardown),
        cmocka_unit_test_setup_teardown(hostfs_read_past_end_of_file, setup, teardown),
        cmocka_unit_test_setup_teardown(hostfs_write_extends_and_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(hostfs_readonly_attribute_maps_to_permissions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hostfs_fast_io_and_section_sync_serve_host_data, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hostfs_read_only_mode_refuses_modifications, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(hostfs_paths_never_leave_the_root, setup, teardown),
        cmocka_unit_test_setup_teardown(hostfs_filter_completing_a_write_keeps_the_host_file, setup,
                                        teardown),
    };
    return FLTSIM_RUN_SUITE("hostfs", tests);
}
