/*
 * 8.3 short names (issue 17, item 5): memfs gives a file whose name is not
 * already 8.3 a short name as NTFS does (~1..~4, then the checksum form),
 * opens by it, reports it in FileAlternateNameInformation and in the
 * directory listings that carry one, and answers FileNormalizedNameInformation
 * with the long form of a path opened through short names.
 */
#include <stdio.h>
#include <string.h>

#include "memfs_fx.h"

/* WCHAR is 16-bit here (-fshort-wchar): the C library's wide functions do
 * not apply. */
static void wide(WCHAR *out, const char *s)
{
    while ((*out++ = (WCHAR)(UCHAR)*s++) != 0)
        ;
}

static int wcmp(const WCHAR *a, const WCHAR *b)
{
    while (*a != 0 && *a == *b)
        a++, b++;
    return (int)*a - (int)*b;
}

struct name_buf {
    FILE_NAME_INFORMATION info;
    WCHAR more[300];
};

/* Queries a name class of path's file; returns the status, the name in *out
 * (NUL-terminated, when it succeeds). */
static NTSTATUS query_name(struct mf *m, PCWSTR path, FILE_INFORMATION_CLASS cls, WCHAR *out)
{
    HANDLE h;
    assert_status(cr(m, path, FILE_READ_ATTRIBUTES, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    struct name_buf nb;
    IO_STATUS_BLOCK iosb;
    NTSTATUS st = fltsim_io_query_information(m->sys, h, &nb, sizeof(nb), cls, 0, &iosb);
    if (NT_SUCCESS(st)) {
        memcpy(out, nb.info.FileName, nb.info.FileNameLength);
        out[nb.info.FileNameLength / sizeof(WCHAR)] = 0;
    }
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    return st;
}

static void assert_alternate(struct mf *m, PCWSTR path, PCWSTR expected)
{
    WCHAR got[300];
    assert_status(query_name(m, path, FileAlternateNameInformation, got), STATUS_SUCCESS);
    if (wcmp(got, expected) != 0) {
        char a[300], b[300];
        size_t i = 0;
        for (; got[i] != 0 && i < sizeof(a) - 1; i++)
            a[i] = (char)got[i];
        a[i] = 0;
        for (i = 0; expected[i] != 0 && i < sizeof(b) - 1; i++)
            b[i] = (char)expected[i];
        b[i] = 0;
        fail_msg("alternate name: got \"%s\", expected \"%s\"", a, b);
    }
}

static void shortname_open_by_short_path(void **state)
{
    struct mf *m = *state;
    assert_status(fltsim_memfs_add_file(m->fs, L"\\Program Files\\x.txt", "xdata", 5),
                  STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_directory(m->fs, L"\\Program Data"), STATUS_SUCCESS);
    assert_alternate(m, L"C:\\Program Files", L"PROGRA~1");
    assert_alternate(m, L"C:\\Program Data", L"PROGRA~2");

    HANDLE h;
    assert_status(cr(m, L"C:\\PROGRA~1\\x.txt", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                  STATUS_SUCCESS);
    char buf[8] = {0};
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_read(m->sys, h, buf, sizeof(buf), NULL, 0, &iosb), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, 5);
    assert_memory_equal(buf, "xdata", 5);
    struct name_buf nb;
    assert_status(fltsim_io_query_information(m->sys, h, &nb, sizeof(nb),
                                              FileNormalizedNameInformation, 0, &iosb),
                  STATUS_SUCCESS);
    static const WCHAR want[] = L"\\Program Files\\x.txt";
    assert_int_equal(nb.info.FileNameLength, sizeof(want) - sizeof(WCHAR));
    assert_memory_equal(nb.info.FileName, want, sizeof(want) - sizeof(WCHAR));
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);

    /* Any case, and as the last component too. */
    assert_status(cr(m, L"C:\\progra~2", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_SUCCESS);
    /* The short name is taken: FILE_CREATE collides, FILE_OPEN_IF opens. */
    ULONG_PTR info = 0;
    assert_status(cr(m, L"C:\\PROGRA~1", GENERIC_READ, ALL_SHARE, FILE_CREATE, FILE_DIRECTORY_FILE,
                     NULL, &info),
                  STATUS_OBJECT_NAME_COLLISION);
    assert_status(cr(m, L"C:\\PROGRA~3", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_OBJECT_NAME_NOT_FOUND);
}

static void shortname_generation_rules(void **state)
{
    struct mf *m = *state;
    static const struct {
        PCWSTR path, alternate;
    } cases[] = {
        {L"\\my file.tar.gz", L"MYFILE~1.GZ"}, /* spaces and inner periods dropped */
        {L"\\.gitmodules", L"GITMOD~1"},       /* leading periods skipped */
        {L"\\a+b=c.txt", L"A_B_C~1.TXT"},      /* illegal characters become '_' */
        {L"\\document.html", L"DOCUME~1.HTM"}, /* the extension cut to three */
        {L"\\x.longext", L"X~1.LON"},          /* a short base */
        {L"\\readme.TXT", L"readme.TXT"},      /* already 8.3: its own name */
        {L"\\NOEXT", L"NOEXT"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_status(fltsim_memfs_add_file(m->fs, cases[i].path, "", 0), STATUS_SUCCESS);
        WCHAR full[64] = L"C:";
        size_t n = fltsim_wcslen(cases[i].path);
        memcpy(full + 2, cases[i].path, (n + 1) * sizeof(WCHAR));
        assert_alternate(m, full, cases[i].alternate);
    }
    /* The root has neither. */
    WCHAR got[300];
    assert_status(query_name(m, L"C:\\", FileAlternateNameInformation, got),
                  STATUS_OBJECT_NAME_NOT_FOUND);
}

/* ~1..~4 on the first six characters, then two characters, four hex digits
 * of a checksum of the long name, and ~1, ~2 for the names that share it. */
static void shortname_collisions(void **state)
{
    struct mf *m = *state;
    WCHAR first_hashed[16] = {0};
    for (int i = 1; i <= 6; i++) {
        WCHAR path[64], full[64], got[300];
        char a[64];
        snprintf(a, sizeof(a), "\\Longfilename %d.txt", i);
        wide(path, a);
        snprintf(a, sizeof(a), "C:\\Longfilename %d.txt", i);
        wide(full, a);
        assert_status(fltsim_memfs_add_file(m->fs, path, "", 0), STATUS_SUCCESS);
        assert_status(query_name(m, full, FileAlternateNameInformation, got), STATUS_SUCCESS);
        if (i <= 4) {
            WCHAR want[16];
            snprintf(a, sizeof(a), "LONGFI~%d.TXT", i);
            wide(want, a);
            assert_int_equal(wcmp(got, want), 0);
            continue;
        }
        assert_int_equal(fltsim_wcslen(got), 12);
        assert_true(got[0] == L'L' && got[1] == L'O');
        for (int k = 2; k < 6; k++)
            assert_non_null(strchr("0123456789ABCDEF", (int)got[k]));
        /* Another long name has another checksum: ~1 again. */
        assert_int_equal(wcmp(got + 6, L"~1.TXT"), 0);
        if (i == 5)
            memcpy(first_hashed, got, 12 * sizeof(WCHAR));
        else
            assert_int_not_equal(memcmp(first_hashed, got, 12 * sizeof(WCHAR)), 0);
        /* Open by it, and it is the file's own. */
        HANDLE h;
        assert_status(cr(m, full, FILE_READ_ATTRIBUTES, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
                      STATUS_SUCCESS);
        assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
        WCHAR by_short[32] = L"C:\\";
        memcpy(by_short + 3, got, 13 * sizeof(WCHAR));
        WCHAR normalized[300];
        assert_status(query_name(m, by_short, FileNormalizedNameInformation, normalized),
                      STATUS_SUCCESS);
        assert_int_equal(wcmp(normalized, path), 0);
    }
    /* The same long name whose checksum form is taken goes on to ~2: free
     * "Longfilename 5.txt"'s short name, give it to a file as its long name,
     * and make the long name again. */
    assert_status(cr(m, L"C:\\Longfilename 5.txt", DELETE, ALL_SHARE, FILE_OPEN,
                     FILE_DELETE_ON_CLOSE, NULL, NULL),
                  STATUS_SUCCESS);
    assert_false(exists(m, L"\\Longfilename 5.txt"));
    WCHAR taken[16] = L"\\";
    memcpy(taken + 1, first_hashed, 12 * sizeof(WCHAR));
    assert_status(fltsim_memfs_add_file(m->fs, taken, "", 0), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(m->fs, L"\\Longfilename 5.txt", "", 0), STATUS_SUCCESS);
    WCHAR got[300];
    assert_status(query_name(m, L"C:\\Longfilename 5.txt", FileAlternateNameInformation, got),
                  STATUS_SUCCESS);
    assert_memory_equal(got, first_hashed, 6 * sizeof(WCHAR));
    assert_int_equal(wcmp(got + 6, L"~2.TXT"), 0);
}

/* FileBothDirectoryInformation and FileIdBothDirectoryInformation carry the
 * short name; an 8.3 name and "." show none. */
static void shortname_listing(void **state)
{
    struct mf *m = *state;
    assert_status(fltsim_memfs_add_directory(m->fs, L"\\Program Files"), STATUS_SUCCESS);
    HANDLE h;
    assert_status(
        cr(m, L"C:\\", FILE_LIST_DIRECTORY, ALL_SHARE, FILE_OPEN, FILE_DIRECTORY_FILE, &h, NULL),
        STATUS_SUCCESS);
    FILE_INFORMATION_CLASS classes[] = {FileBothDirectoryInformation,
                                        FileIdBothDirectoryInformation};
    for (size_t c = 0; c < 2; c++) {
        _Alignas(8) UCHAR buf[4096];
        IO_STATUS_BLOCK iosb;
        assert_status(fltsim_io_query_directory(m->sys, h, buf, sizeof(buf), classes[c], NULL,
                                                SL_RESTART_SCAN, &iosb),
                      STATUS_SUCCESS);
        int seen = 0;
        for (ULONG at = 0;;) {
            CCHAR short_len;
            const WCHAR *short_name, *name;
            ULONG name_len, next;
            if (c == 0) {
                FILE_BOTH_DIR_INFORMATION *e = (FILE_BOTH_DIR_INFORMATION *)(buf + at);
                short_len = e->ShortNameLength;
                short_name = e->ShortName;
                name = e->FileName;
                name_len = e->FileNameLength;
                next = e->NextEntryOffset;
            } else {
                FILE_ID_BOTH_DIR_INFORMATION *e = (FILE_ID_BOTH_DIR_INFORMATION *)(buf + at);
                short_len = e->ShortNameLength;
                short_name = e->ShortName;
                name = e->FileName;
                name_len = e->FileNameLength;
                next = e->NextEntryOffset;
            }
            if (name_len == 13 * sizeof(WCHAR) && memcmp(name, L"Program Files", name_len) == 0) {
                assert_int_equal(short_len, 8 * sizeof(WCHAR));
                assert_memory_equal(short_name, L"PROGRA~1", 8 * sizeof(WCHAR));
                seen++;
            } else {
                assert_int_equal(short_len, 0); /* ".", a.txt, dir, empty */
            }
            if (next == 0)
                break;
            at += next;
        }
        assert_int_equal(seen, 1);
    }
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
}

/* A directory query's pattern matches short names too (NTFS): "*.HTM" finds
 * "document.html" through DOCUME~1.HTM, "PROGRA~1" finds "Program Files". */
static void shortname_pattern_matches_short_names(void **state)
{
    struct mf *m = *state;
    assert_status(fltsim_memfs_add_file(m->fs, L"\\document.html", "", 0), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_directory(m->fs, L"\\Program Files"), STATUS_SUCCESS);
    HANDLE h;
    assert_status(
        cr(m, L"C:\\", FILE_LIST_DIRECTORY, ALL_SHARE, FILE_OPEN, FILE_DIRECTORY_FILE, &h, NULL),
        STATUS_SUCCESS);
    static const struct {
        PCWSTR pattern, found;
    } cases[] = {{L"*.HTM", L"document.html"}, {L"progra~1", L"Program Files"}};
    for (size_t i = 0; i < 2; i++) {
        _Alignas(8) UCHAR buf[1024];
        IO_STATUS_BLOCK iosb;
        assert_status(fltsim_io_query_directory(m->sys, h, buf, sizeof(buf), FileNamesInformation,
                                                cases[i].pattern, SL_RESTART_SCAN, &iosb),
                      STATUS_SUCCESS);
        const FILE_NAMES_INFORMATION *e = (const FILE_NAMES_INFORMATION *)buf;
        size_t n = fltsim_wcslen(cases[i].found);
        assert_int_equal(e->FileNameLength, n * sizeof(WCHAR));
        assert_memory_equal(e->FileName, cases[i].found, n * sizeof(WCHAR));
        assert_int_equal(e->NextEntryOffset, 0);
    }
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
}

/* A rename gives the new name its own short name; the old one is free. */
static void shortname_rename(void **state)
{
    struct mf *m = *state;
    assert_status(fltsim_memfs_add_file(m->fs, L"\\Long name one.txt", "1", 1), STATUS_SUCCESS);
    assert_status(fltsim_memfs_add_file(m->fs, L"\\Long name two.txt", "2", 1), STATUS_SUCCESS);
    assert_alternate(m, L"C:\\Long name two.txt", L"LONGNA~2.TXT");
    HANDLE h;
    assert_status(
        cr(m, L"C:\\Long name one.txt", DELETE | SYNCHRONIZE, ALL_SHARE, FILE_OPEN, 0, &h, NULL),
        STATUS_SUCCESS);
    /* Another file's short name is taken. */
    assert_status(fltsim_io_rename(m->sys, h, L"LONGNA~2.TXT", FALSE, NULL),
                  STATUS_OBJECT_NAME_COLLISION);
    assert_status(fltsim_io_rename(m->sys, h, L"C:\\Other long name.txt", FALSE, NULL),
                  STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    assert_alternate(m, L"C:\\Other long name.txt", L"OTHERL~1.TXT");
    assert_status(cr(m, L"C:\\LONGNA~1.TXT", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    /* The next file takes the freed ~1. */
    assert_status(fltsim_memfs_add_file(m->fs, L"\\Long name three.txt", "3", 1), STATUS_SUCCESS);
    assert_alternate(m, L"C:\\Long name three.txt", L"LONGNA~1.TXT");
}

/* Short names in every name form the I/O manager takes, and relative to a
 * root directory handle opened by its short name. */
static void shortname_name_forms(void **state)
{
    struct mf *m = *state;
    assert_status(fltsim_memfs_add_file(m->fs, L"\\Program Files\\x.txt", "x", 1),
                  STATUS_SUCCESS);
    static const PCWSTR forms[] = {L"\\??\\C:\\PROGRA~1\\x.txt", L"\\DosDevices\\C:\\PROGRA~1\\x.txt",
                                   L"\\Device\\HarddiskVolume1\\PROGRA~1\\x.txt",
                                   L"\\\\.\\C:\\PROGRA~1\\x.txt"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
        assert_status(cr(m, forms[i], GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, NULL),
                      STATUS_SUCCESS);
    HANDLE dir, h;
    assert_status(cr(m, L"C:\\progra~1", FILE_LIST_DIRECTORY, ALL_SHARE, FILE_OPEN,
                     FILE_DIRECTORY_FILE, &dir, NULL),
                  STATUS_SUCCESS);
    struct fltsim_create_params p = {.path = L"x.txt",
                                     .root_directory = dir,
                                     .desired_access = GENERIC_READ | SYNCHRONIZE,
                                     .share_access = ALL_SHARE,
                                     .disposition = FILE_OPEN,
                                     .create_options = FILE_SYNCHRONOUS_IO_NONALERT};
    IO_STATUS_BLOCK iosb;
    assert_status(fltsim_io_create(m->sys, &p, &h, &iosb), STATUS_SUCCESS);
    struct name_buf nb;
    assert_status(fltsim_io_query_information(m->sys, h, &nb, sizeof(nb),
                                              FileNormalizedNameInformation, 0, &iosb),
                  STATUS_SUCCESS);
    assert_memory_equal(nb.info.FileName, L"\\Program Files\\x.txt", 20 * sizeof(WCHAR));
    assert_status(fltsim_io_close(m->sys, h), STATUS_SUCCESS);
    assert_status(fltsim_io_close(m->sys, dir), STATUS_SUCCESS);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(shortname_open_by_short_path),
        T(shortname_generation_rules),
        T(shortname_collisions),
        T(shortname_listing),
        T(shortname_rename),
        T(shortname_name_forms),
        T(shortname_pattern_matches_short_names),
    };
#undef T
    return FLTSIM_RUN_SUITE("shortnames", tests);
}
