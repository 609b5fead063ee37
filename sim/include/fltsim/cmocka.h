/*
 * CMocka helpers for a minifilter's tests, header-only: NTSTATUS assertions
 * that print both statuses by name and value, an assertion that a system has
 * no verifier report (printing every report when it has), and a world in one
 * line: a system with a memfs volume mounted at a drive letter, files added to
 * it and filters loaded into it, usable as CMocka setup and teardown. Includes
 * what CMocka needs before <cmocka.h>, CMocka itself and fltsim's test API
 * (<fltKernel.h>, <fltsim/model.h>, <fltsim/io.h>, <fltsim/memfs.h>).
 */
#ifndef FLTSIM_CMOCKA_H
#define FLTSIM_CMOCKA_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fltKernel.h>
#include <fltsim/io.h>
#include <fltsim/memfs.h>
#include <fltsim/model.h>

/* ---- NTSTATUS ---- */

/* A status as the assertions print it: "STATUS_ACCESS_DENIED (0xC0000022)"
 * with with_value, "STATUS_ACCESS_DENIED" without; "0x12345678" for a value
 * fltsim has no name for. buf of at least 80 bytes. Returns buf. */
static inline char *fltsim_cmocka_status_text(NTSTATUS status, bool with_value, char *buf,
                                              size_t size)
{
    const char *name = fltsim_ntstatus_name(status);
    if (name == NULL)
        snprintf(buf, size, "0x%08X", (unsigned)(ULONG)status);
    else if (with_value)
        snprintf(buf, size, "%s (0x%08X)", name, (unsigned)(ULONG)status);
    else
        snprintf(buf, size, "%s", name);
    return buf;
}

/* Prints "EXPR: expected STATUS_SUCCESS, got STATUS_ACCESS_DENIED (0xC0000022)"
 * (and the thread's fltsim_last_error when it has one and the status is a
 * failure) and fails the test at file:line, unless the two are equal as 32-bit
 * values. */
static inline void fltsim_cmocka_ntstatus_equal(NTSTATUS actual, NTSTATUS expected,
                                                const char *expr, const char *file, int line)
{
    if ((ULONG)actual == (ULONG)expected)
        return;
    char got[96], want[96];
    print_error("%s: expected %s, got %s\n", expr,
                fltsim_cmocka_status_text(expected, false, want, sizeof(want)),
                fltsim_cmocka_status_text(actual, true, got, sizeof(got)));
    if (!NT_SUCCESS(actual) && fltsim_last_error()[0] != '\0')
        print_error("  fltsim_last_error: %s\n", fltsim_last_error());
    _fail(file, line);
}

/* Prints "EXPR: expected success, got STATUS_ACCESS_DENIED (0xC0000022)" and
 * fails the test unless NT_SUCCESS(actual) (informational statuses succeed). */
static inline void fltsim_cmocka_nt_success(NTSTATUS actual, const char *expr, const char *file,
                                            int line)
{
    if (NT_SUCCESS(actual))
        return;
    char got[96];
    print_error("%s: expected success, got %s\n", expr,
                fltsim_cmocka_status_text(actual, true, got, sizeof(got)));
    if (fltsim_last_error()[0] != '\0')
        print_error("  fltsim_last_error: %s\n", fltsim_last_error());
    _fail(file, line);
}

#define assert_ntstatus_equal(actual, expected)                                                    \
    fltsim_cmocka_ntstatus_equal((NTSTATUS)(actual), (NTSTATUS)(expected), #actual, __FILE__,      \
                                 __LINE__)
#define assert_nt_success(expr)                                                                    \
    fltsim_cmocka_nt_success((NTSTATUS)(expr), #expr, __FILE__, __LINE__)

/* ---- verifier reports ---- */

/* Fails the test when sys has recorded verifier reports, after printing
 * "EXPR: N verifier report(s):" and each one as fltsim_report_format writes
 * it, one per line. Call it at the end of the test itself (after unloading
 * the filter, for the reports made at unload), not in a teardown: a failing
 * assertion leaves a teardown at once, and the world would not be destroyed. */
static inline void fltsim_cmocka_no_reports(fltsim_system *sys, const char *expr, const char *file,
                                            int line)
{
    ULONG count = fltsim_system_report_count(sys);
    if (count == 0)
        return;
    print_error("%s: %u verifier report%s:\n", expr, (unsigned)count, count == 1 ? "" : "s");
    for (ULONG i = 0; i < count; i++) {
        struct fltsim_report report;
        char text[1024];
        if (NT_SUCCESS(fltsim_system_report_get(sys, i, &report)))
            print_error("  %s\n", fltsim_report_format(&report, text, sizeof(text)));
    }
    _fail(file, line);
}

#define assert_no_reports(sys) fltsim_cmocka_no_reports((sys), #sys, __FILE__, __LINE__)

/* ---- a world in one line ---- */

/* A system with one memfs volume (NTFS-like) mounted at a drive letter. The
 * volume owns fs; fltsim_world_destroy (or the system's own destruction)
 * closes what is open, unloads every loaded filter and frees it all. */
struct fltsim_test_world {
    fltsim_system *sys;
    struct fltsim_memfs *fs;
    PFLT_VOLUME volume; /* \Device\HarddiskVolume1 */
};

/* Creates the world with the system options (NULL: the defaults), asserting
 * that every step succeeds. */
static inline void fltsim_world_with_memfs_ex(struct fltsim_test_world *world,
                                              const struct fltsim_system_options *options,
                                              WCHAR drive)
{
    memset(world, 0, sizeof(*world));
    assert_nt_success(fltsim_system_create(options, &world->sys));
    assert_nt_success(fltsim_memfs_create(NULL, &world->fs));
    struct fltsim_volume_params params = {.device_name = L"\\Device\\HarddiskVolume1",
                                          .drive_letter = drive,
                                          .ops = &fltsim_memfs_ops,
                                          .fs = world->fs,
                                          .fs_type = FLT_FSTYPE_NTFS};
    NTSTATUS status = fltsim_volume_mount(world->sys, &params, &world->volume);
    if (!NT_SUCCESS(status))
        fltsim_memfs_destroy(world->fs); /* not the volume's: it did not mount */
    assert_nt_success(status);
}

/* fltsim_world_with_memfs(&world, L'C'): the world with the default options. */
static inline void fltsim_world_with_memfs(struct fltsim_test_world *world, WCHAR drive)
{
    fltsim_world_with_memfs_ex(world, NULL, drive);
}

/* Adds a file holding text (NUL-terminated; "" for an empty file) at path on
 * the volume (L"\\dir\\a.txt": from its root; missing directories are made),
 * bypassing the filters. Asserts success. */
static inline void fltsim_world_add_file(struct fltsim_test_world *world, PCWSTR path,
                                         const char *text)
{
    assert_nt_success(fltsim_memfs_add_file(world->fs, path, text, strlen(text)));
}

/* Adds a directory (and missing parents) at path on the volume. */
static inline void fltsim_world_add_directory(struct fltsim_test_world *world, PCWSTR path)
{
    assert_nt_success(fltsim_memfs_add_directory(world->fs, path));
}

/* Loads a filter whose registry entry has one instance, "NAME Instance" at
 * altitude, the default instance: DriverEntry entry runs, and it attaches to
 * the volume as FltMgr offers it. Asserts success; returns the driver (for
 * fltsim_driver_unload; the world's destruction unloads it otherwise). */
static inline fltsim_driver *fltsim_world_load(struct fltsim_test_world *world, PCWSTR name,
                                               PCWSTR altitude, PDRIVER_INITIALIZE entry)
{
    WCHAR instance[128];
    size_t n = 0;
    for (; name[n] != 0 && n < 64; n++)
        instance[n] = name[n];
    assert_true(name[n] == 0); /* a service name of at most 64 units */
    static const WCHAR suffix[] = L" Instance";
    memcpy(instance + n, suffix, sizeof(suffix));
    struct fltsim_instance_def instances[] = {{instance, altitude, 0}};
    struct fltsim_filter_def def = {name, instance, instances, 1};
    fltsim_driver *driver = NULL;
    assert_nt_success(fltsim_driver_load(world->sys, &def, entry, &driver));
    return driver;
}

/* Destroys the world: fltsim_system_destroy (handles closed, filters
 * unloaded, the volume dismounted and its memfs freed). */
static inline void fltsim_world_destroy(struct fltsim_test_world *world)
{
    fltsim_system_destroy(world->sys);
    memset(world, 0, sizeof(*world));
}

/* CMocka setup: *state becomes a new struct fltsim_test_world with memfs
 * mounted as C:. With cmocka_unit_test_prestate_setup_teardown, the initial
 * *state may point to the struct fltsim_system_options to create it with. */
static inline int fltsim_cmocka_setup_memfs(void **state)
{
    const struct fltsim_system_options *options = (const struct fltsim_system_options *)*state;
    struct fltsim_test_world *world = (struct fltsim_test_world *)calloc(1, sizeof(*world));
    assert_non_null(world);
    *state = world;
    fltsim_world_with_memfs_ex(world, options, L'C');
    return 0;
}

/* CMocka teardown of fltsim_cmocka_setup_memfs: destroys the world and frees
 * it. */
static inline int fltsim_cmocka_teardown(void **state)
{
    struct fltsim_test_world *world = (struct fltsim_test_world *)*state;
    if (world != NULL && world->sys != NULL)
        fltsim_world_destroy(world);
    free(world);
    *state = NULL;
    return 0;
}

#endif /* FLTSIM_CMOCKA_H */
