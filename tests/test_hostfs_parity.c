/*
 * hostfs against memfs (issue 4): one sequence of requests (creates with
 * each disposition, sharing, reads and writes past the end, end of file,
 * renames with and without replace, delete dispositions, a directory
 * listing) runs over hostfs on a temporary directory (hostfs_fx.h) and over
 * memfs, and every status and Information value must be the same. Each
 * behaviour on its own is test_hostfs.c. They differ on purpose in two ways
 * the sequence stays clear of: memfs makes 8.3 short names and has named
 * streams (test_shortnames.c, test_streams.c), hostfs has neither, as NTFS
 * with 8.3 generation off and a file system without streams
 * (hostfs_no_short_names, hostfs_no_named_streams in test_hostfs.c).
 */
#include <string.h>

#include "fltsim_test.h"
#include "hostfs_fx.h"

/* ---- parity with memfs ---- */

#define PARITY_STEPS 64

struct outcome {
    NTSTATUS status[PARITY_STEPS];
    ULONG_PTR info[PARITY_STEPS];
    char names[512];
    int n;
};

static void note(struct outcome *o, NTSTATUS status, ULONG_PTR info)
{
    assert_true(o->n < PARITY_STEPS);
    o->status[o->n] = status;
    o->info[o->n] = info;
    o->n++;
}

/* One sequence of requests on C:, every status and Information recorded. */
/* The call runs before its Information is read (argument order is unspecified). */
#define NOTE(call, information)                                                                    \
    do {                                                                                           \
        NTSTATUS st_ = (call);                                                                     \
        note(o, st_, (information));                                                               \
    } while (0)

static void parity_sequence(fltsim_system *sys, struct outcome *o)
{
    HANDLE f = NULL, g = NULL, d = NULL;
    ULONG_PTR info;
    IO_STATUS_BLOCK iosb;
    char buf[64];
    LONGLONG off;
    const ACCESS_MASK rwd = GENERIC_READ | GENERIC_WRITE | DELETE;

    memset(o, 0, sizeof(*o));
    NOTE(cr(sys, L"C:\\work", FILE_LIST_DIRECTORY | DELETE, ALL_SHARE, FILE_CREATE,
            FILE_DIRECTORY_FILE, &d, &info),
         info);
    NOTE(cr(sys, L"C:\\work\\one.txt", rwd, FILE_SHARE_READ, FILE_CREATE, 0, &f, &info), info);
    NOTE(cr(sys, L"C:\\work\\ONE.TXT", rwd, ALL_SHARE, FILE_CREATE, 0, NULL, &info), info);
    NOTE(cr(sys, L"C:\\work\\one.txt", GENERIC_WRITE, ALL_SHARE, FILE_OPEN, 0, NULL, &info), info);
    NOTE(cr(sys, L"C:\\work\\missing.txt", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, &info),
         info);
    NOTE(cr(sys, L"C:\\nowhere\\x.txt", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, &info), info);
    off = 0;
    NOTE(fltsim_io_write(sys, f, "0123456789", 10, &off, 0, &iosb), iosb.Information);
    off = 20;
    NOTE(fltsim_io_write(sys, f, "tail", 4, &off, 0, &iosb), iosb.Information);
    off = 30;
    NOTE(fltsim_io_read(sys, f, buf, sizeof(buf), &off, 0, &iosb), iosb.Information);
    off = 18;
    NOTE(fltsim_io_read(sys, f, buf, sizeof(buf), &off, 0, &iosb), iosb.Information);
    FILE_STANDARD_INFORMATION s;
    NOTE(fltsim_io_query_information(sys, f, &s, sizeof(s), FileStandardInformation, 0, &iosb),
         iosb.Information);
    NOTE((NTSTATUS)s.EndOfFile.LowPart, (ULONG_PTR)s.AllocationSize.QuadPart);
    NOTE((NTSTATUS)s.Directory, s.DeletePending);
    FILE_END_OF_FILE_INFORMATION e = {{{7, 0}}};
    NOTE(fltsim_io_set_information(sys, f, &e, sizeof(e), FileEndOfFileInformation, &iosb),
         iosb.Information);
    off = 0;
    NOTE(fltsim_io_read(sys, f, buf, sizeof(buf), &off, 0, &iosb), iosb.Information);
    NOTE(fltsim_io_rename(sys, f, L"two.txt", FALSE, &iosb), iosb.Information);
    NOTE(cr(sys, L"C:\\work\\three.txt", rwd, ALL_SHARE, FILE_OVERWRITE_IF, 0, &g, &info), info);
    NOTE(fltsim_io_rename(sys, g, L"TWO.txt", FALSE, &iosb), iosb.Information);
    NOTE(fltsim_io_close(sys, f), 0);
    NOTE(fltsim_io_rename(sys, g, L"two.txt", TRUE, &iosb), iosb.Information);
    NOTE(fltsim_io_delete(sys, g, TRUE), 0);
    NOTE(cr(sys, L"C:\\work\\two.txt", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, &info), info);
    NOTE(fltsim_io_close(sys, g), 0);
    NOTE(cr(sys, L"C:\\work\\two.txt", GENERIC_READ, ALL_SHARE, FILE_OPEN, 0, NULL, &info), info);
    NOTE(cr(sys, L"C:\\work\\a.dat", rwd, ALL_SHARE, FILE_SUPERSEDE, 0, NULL, &info), info);
    NOTE(cr(sys, L"C:\\work\\b.txt", rwd, ALL_SHARE, FILE_OPEN_IF, 0, NULL, &info), info);
    NOTE(cr(sys, L"C:\\work\\b.txt", rwd, ALL_SHARE, FILE_SUPERSEDE, 0, NULL, &info), info);
    /* Listed after b.txt, as NTFS orders upcased names (byte order would not). */
    NOTE(cr(sys, L"C:\\work\\Zeta.txt", rwd, ALL_SHARE, FILE_CREATE, 0, NULL, &info), info);
    NOTE(fltsim_io_delete(sys, d, TRUE), 0);
    UCHAR dirbuf[1024];
    NOTE(fltsim_io_query_directory(sys, d, dirbuf, sizeof(dirbuf), FileNamesInformation, L"*", 0,
                                   &iosb),
         iosb.Information);
    names_of(dirbuf, iosb.Information, o->names, sizeof(o->names));
    NOTE(fltsim_io_query_directory(sys, d, dirbuf, sizeof(dirbuf), FileNamesInformation, NULL, 0,
                                   &iosb),
         iosb.Information);
    NOTE(fltsim_io_close(sys, d), 0);
}

static void hostfs_matches_memfs_on_one_sequence(void **state)
{
    struct hf *h = *state;
    struct outcome on_host, on_memfs;
    fltsim_system *msys;
    struct fltsim_memfs *mfs;
    PFLT_VOLUME mvol;

    parity_sequence(h->sys, &on_host);
    /* One deterministic system per thread at a time: the hostfs one goes
     * first (the host directory stays for the checks below). */
    fltsim_system_destroy(h->sys);
    h->sys = NULL;

    struct fltsim_system_options o = test_options(0);
    assert_status(fltsim_system_create(&o, &msys), STATUS_SUCCESS);
    assert_status(fltsim_memfs_create(NULL, &mfs), STATUS_SUCCESS);
    struct fltsim_volume_params vp = {.device_name = L"\\Device\\HarddiskVolume1",
                                      .drive_letter = L'C',
                                      .ops = &fltsim_memfs_ops,
                                      .fs = mfs,
                                      .fs_type = FLT_FSTYPE_NTFS};
    assert_status(fltsim_volume_mount(msys, &vp, &mvol), STATUS_SUCCESS);
    parity_sequence(msys, &on_memfs);
    fltsim_system_destroy(msys);

    assert_int_equal(on_host.n, on_memfs.n);
    for (int i = 0; i < on_host.n; i++) {
        if (on_host.status[i] != on_memfs.status[i] || on_host.info[i] != on_memfs.info[i])
            print_error("step %d: hostfs 0x%08x/%lu, memfs 0x%08x/%lu\n", i,
                        (unsigned)on_host.status[i], (unsigned long)on_host.info[i],
                        (unsigned)on_memfs.status[i], (unsigned long)on_memfs.info[i]);
        assert_status(on_host.status[i], on_memfs.status[i]);
        assert_int_equal(on_host.info[i], on_memfs.info[i]);
    }
    assert_string_equal(on_host.names, on_memfs.names);
    assert_string_equal(on_host.names, ".,..,a.dat,b.txt,Zeta.txt");
    /* The directory was not empty, so it stayed; its files are on the host
     * (host_list: byte order). */
    assert_string_equal(host_list(h, "work"), "Zeta.txt,a.dat,b.txt");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hostfs_matches_memfs_on_one_sequence, setup, teardown),
    };
    return FLTSIM_RUN_SUITE("hostfs parity", tests);
}
