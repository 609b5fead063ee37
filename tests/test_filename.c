/*
 * File names (SPEC 7.3, V22, V29): FltGetFileNameInformation(Unsafe) in the
 * opened, normalized and short formats, its option checks, the places where
 * asking the file system is unsafe, pre-create and failed creates;
 * FltParseFileNameInformation on Learn's examples; references, an
 * over-release and a leak at unload. Filter N (200000) asks for names in the
 * callback a test names; U (300000) issues paging reads below itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

enum around {
    AROUND_NONE,
    AROUND_DISPATCH,  /* KeRaiseIrql(DISPATCH_LEVEL) */
    AROUND_TOP_LEVEL, /* IoSetTopLevelIrp(FSRTL_FSP_TOP_LEVEL_IRP) */
    AROUND_GUARDED    /* KeEnterGuardedRegion: all APCs disabled */
};

struct probe {
    UCHAR major;
    bool in_post;
    FLT_FILE_NAME_OPTIONS options;
    enum around around;
    bool keep;   /* do not release the name (a leak) */
    bool parse;  /* FltParseFileNameInformation before copying */
    bool unsafe; /* FltGetFileNameInformationUnsafe instead */
    /* results */
    LONG calls;
    NTSTATUS status;
    WCHAR name[256], final[64], parent[128], ext[16];
    USHORT volume_bytes, parsed;
    PFLT_FILE_NAME_INFORMATION kept;
};

struct fixture {
    struct test_world w;
    struct tf_filter u, n;
    struct probe p;
    bool u_paging_read; /* U reads a.txt with FLTFL_IO_OPERATION_PAGING in its post-create */
};

static void copy_ustr(WCHAR *dst, size_t room, PCUNICODE_STRING s)
{
    size_t n = s->Length / sizeof(WCHAR);
    if (n >= room)
        n = room - 1;
    if (n > 0)
        memcpy(dst, s->Buffer, n * sizeof(WCHAR));
    dst[n] = 0;
}

static void run_probe(struct probe *p, PFLT_CALLBACK_DATA data, PCFLT_RELATED_OBJECTS objects)
{
    KIRQL old = PASSIVE_LEVEL;
    PIRP top = NULL;
    if (p->around == AROUND_DISPATCH)
        KeRaiseIrql(DISPATCH_LEVEL, &old);
    else if (p->around == AROUND_TOP_LEVEL) {
        top = IoGetTopLevelIrp();
        IoSetTopLevelIrp((PIRP)FSRTL_FSP_TOP_LEVEL_IRP);
    } else if (p->around == AROUND_GUARDED)
        KeEnterGuardedRegion();
    PFLT_FILE_NAME_INFORMATION info = NULL;
    p->status = p->unsafe ? FltGetFileNameInformationUnsafe(objects->FileObject, objects->Instance,
                                                            p->options, &info)
                          : FltGetFileNameInformation(data, p->options, &info);
    if (p->around == AROUND_DISPATCH)
        KeLowerIrql(old);
    else if (p->around == AROUND_TOP_LEVEL)
        IoSetTopLevelIrp(top);
    else if (p->around == AROUND_GUARDED)
        KeLeaveGuardedRegion();
    if (!NT_SUCCESS(p->status)) {
        assert_null(info);
        return;
    }
    assert_non_null(info);
    if (p->parse)
        assert_status(FltParseFileNameInformation(info), STATUS_SUCCESS);
    copy_ustr(p->name, 256, &info->Name);
    copy_ustr(p->final, 64, &info->FinalComponent);
    copy_ustr(p->parent, 128, &info->ParentDir);
    copy_ustr(p->ext, 16, &info->Extension);
    p->volume_bytes = info->Volume.Length;
    p->parsed = info->NamesParsed;
    if (p->keep)
        p->kept = info;
    else
        FltReleaseFileNameInformation(info);
}

static bool probe_here(struct probe *p, PFLT_CALLBACK_DATA data, bool in_post)
{
    return p->major == data->Iopb->MajorFunction && p->in_post == in_post &&
           __atomic_fetch_add(&p->calls, 1, __ATOMIC_SEQ_CST) == 0;
}

static FLT_PREOP_CALLBACK_STATUS n_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                       PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)context;
    struct probe *p = tf->user;
    if (p != NULL && probe_here(p, data, false))
        run_probe(p, data, objects);
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS n_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                         PCFLT_RELATED_OBJECTS objects, PVOID context,
                                         FLT_POST_OPERATION_FLAGS flags)
{
    (void)context;
    struct probe *p = tf->user;
    if (p != NULL && !(flags & FLTFL_POST_OPERATION_DRAINING) && probe_here(p, data, true))
        run_probe(p, data, objects);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static FLT_POSTOP_CALLBACK_STATUS u_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                         PCFLT_RELATED_OBJECTS objects, PVOID context,
                                         FLT_POST_OPERATION_FLAGS flags)
{
    (void)context;
    (void)flags;
    struct fixture *f = tf->user;
    if (f->u_paging_read && data->Iopb->MajorFunction == IRP_MJ_CREATE &&
        NT_SUCCESS(data->IoStatus.Status)) {
        char buf[16];
        ULONG bytes = 0;
        LARGE_INTEGER zero = {.QuadPart = 0};
        FltReadFile(objects->Instance, objects->FileObject, &zero, 5, buf,
                    FLTFL_IO_OPERATION_PAGING | FLTFL_IO_OPERATION_SYNCHRONOUS_PAGING, &bytes, NULL,
                    NULL);
    }
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    tf_reset_all();
    world_create(&f->w, 0);
    tf_init(&f->u, "U", "300000");
    tf_init(&f->n, "N", "200000");
    tf_only(&f->u, IRP_MJ_CREATE);
    f->u.post = u_post;
    f->u.user = f;
    f->n.pre = n_pre;
    f->n.post = n_post;
    f->n.user = &f->p;
    assert_status(tf_load(f->w.sys, &f->u), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->n), STATUS_SUCCESS);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    world_destroy(&f->w);
    free(f);
    return 0;
}

static void plan(struct fixture *f, UCHAR major, bool in_post, FLT_FILE_NAME_OPTIONS options)
{
    memset(&f->p, 0, sizeof(f->p));
    f->p.major = major;
    f->p.in_post = in_post;
    f->p.options = options;
    f->p.status = STATUS_PENDING;
}

static NTSTATUS open_close(struct fixture *f, PCWSTR path)
{
    HANDLE h = NULL;
    NTSTATUS status = fltsim_io_open(f->w.sys, path, GENERIC_READ, &h);
    if (NT_SUCCESS(status))
        assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    return status;
}

/* ASCII of a wide string, '?' for the rest. */
static void narrow(const WCHAR *w, char *out, size_t size)
{
    size_t i = 0;
    for (; w[i] != 0 && i + 1 < size; i++)
        out[i] = w[i] < 128 ? (char)w[i] : '?';
    out[i] = 0;
}

/* fmt with one %d into a wide buffer (ASCII only). */
static void swprintf_like(WCHAR *out, const WCHAR *fmt, int value)
{
    char f8[64], t[64];
    narrow(fmt, f8, sizeof(f8));
    snprintf(t, sizeof(t), f8, value);
    size_t i = 0;
    for (; t[i] != 0; i++)
        out[i] = (WCHAR)t[i];
    out[i] = 0;
}

static void assert_wide(const WCHAR *got, const WCHAR *want)
{
    char a[512], b[512];
    narrow(got, a, sizeof(a));
    narrow(want, b, sizeof(b));
    assert_string_equal(a, b);
}

#define NORMALIZED_DEFAULT (FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_DEFAULT)
#define OPENED_DEFAULT (FLT_FILE_NAME_OPENED | FLT_FILE_NAME_QUERY_DEFAULT)

/* SPEC 7.3: after the create, both formats come from the file system with
 * the volume's device name in front; Name and Volume are filled, nothing is
 * parsed until FltParseFileNameInformation. */
static void filename_post_create_opened_and_normalized(void **state)
{
    struct fixture *f = *state;
    static const FLT_FILE_NAME_OPTIONS options[] = {
        NORMALIZED_DEFAULT, OPENED_DEFAULT,
        FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_FILESYSTEM_ONLY,
        FLT_FILE_NAME_OPENED | FLT_FILE_NAME_QUERY_ALWAYS_ALLOW_CACHE_LOOKUP,
        NORMALIZED_DEFAULT | FLT_FILE_NAME_DO_NOT_CACHE | FLT_FILE_NAME_ALLOW_QUERY_ON_REPARSE,
        /* no name provider above N: as a default query */
        NORMALIZED_DEFAULT | FLT_FILE_NAME_REQUEST_FROM_CURRENT_PROVIDER};
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
        plan(f, IRP_MJ_CREATE, true, options[i]);
        assert_status(open_close(f, L"C:\\dir\\b.txt"), STATUS_SUCCESS);
        assert_status(f->p.status, STATUS_SUCCESS);
        assert_wide(f->p.name, L"\\Device\\HarddiskVolume1\\dir\\b.txt");
        assert_int_equal(f->p.volume_bytes, sizeof(L"\\Device\\HarddiskVolume1") - sizeof(WCHAR));
        assert_int_equal(f->p.parsed, 0);
    }
    plan(f, IRP_MJ_READ, false, NORMALIZED_DEFAULT);
    f->p.parse = true;
    HANDLE h = world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ);
    char buf[8];
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 5, &zero, 0, NULL), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_status(f->p.status, STATUS_SUCCESS);
    assert_wide(f->p.final, L"b.txt");
    assert_wide(f->p.parent, L"\\dir\\");
    assert_wide(f->p.ext, L"txt");
    assert_int_equal(f->p.parsed,
                     FLTFL_FILE_NAME_PARSED_FINAL_COMPONENT | FLTFL_FILE_NAME_PARSED_EXTENSION |
                         FLTFL_FILE_NAME_PARSED_STREAM | FLTFL_FILE_NAME_PARSED_PARENT_DIR);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* SPEC 7.3: exactly one format and one query method, no unknown flag. */
static void filename_bad_options_are_invalid_parameter(void **state)
{
    struct fixture *f = *state;
    static const FLT_FILE_NAME_OPTIONS bad[] = {
        0,
        FLT_FILE_NAME_NORMALIZED,
        FLT_FILE_NAME_QUERY_DEFAULT,
        4 | FLT_FILE_NAME_QUERY_DEFAULT,
        FLT_FILE_NAME_NORMALIZED | 0x0500,
        FLT_FILE_NAME_OPENED | FLT_FILE_NAME_QUERY_DEFAULT | 0x0010,
        FLT_FILE_NAME_OPENED | FLT_FILE_NAME_QUERY_DEFAULT | 0x00010000,
        FLT_FILE_NAME_OPENED | FLT_FILE_NAME_QUERY_DEFAULT | 0x08000000};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        plan(f, IRP_MJ_CREATE, true, bad[i]);
        assert_status(open_close(f, L"C:\\a.txt"), STATUS_SUCCESS);
        assert_status(f->p.status, STATUS_INVALID_PARAMETER);
    }
}

/* Learn's examples of FLT_FILE_NAME_INFORMATION, a local and a remote one. */
static void filename_parse_learn_examples(void **state)
{
    (void)state;
    FLT_FILE_NAME_INFORMATION i;
    memset(&i, 0, sizeof(i));
    i.Format = FLT_FILE_NAME_NORMALIZED;
    RtlInitUnicodeString(&i.Name, L"\\Device\\HarddiskVolume1\\Documents and Settings\\MyUser\\My "
                                  L"Documents\\Test Results.txt:stream1");
    i.Volume = i.Name;
    i.Volume.Length = sizeof(L"\\Device\\HarddiskVolume1") - sizeof(WCHAR);
    assert_status(FltParseFileNameInformation(&i), STATUS_SUCCESS);
    WCHAR got[128];
    copy_ustr(got, 128, &i.Share);
    assert_wide(got, L"");
    copy_ustr(got, 128, &i.Extension);
    assert_wide(got, L"txt");
    copy_ustr(got, 128, &i.Stream);
    assert_wide(got, L":stream1");
    copy_ustr(got, 128, &i.FinalComponent);
    assert_wide(got, L"Test Results.txt:stream1");
    copy_ustr(got, 128, &i.ParentDir);
    assert_wide(got, L"\\Documents and Settings\\MyUser\\My Documents\\");

    memset(&i, 0, sizeof(i));
    i.Format = FLT_FILE_NAME_NORMALIZED;
    RtlInitUnicodeString(&i.Name, L"\\Device\\LanmanRedirector\\MyServer\\MyShare\\Documents and "
                                  L"Settings\\MyUser\\My Documents\\Test Results.txt:stream1");
    i.Volume = i.Name;
    i.Volume.Length = sizeof(L"\\Device\\LanmanRedirector") - sizeof(WCHAR);
    assert_status(FltParseFileNameInformation(&i), STATUS_SUCCESS);
    copy_ustr(got, 128, &i.Share);
    assert_wide(got, L"\\MyServer\\MyShare");
    copy_ustr(got, 128, &i.ParentDir);
    assert_wide(got, L"\\Documents and Settings\\MyUser\\My Documents\\");
    assert_status(FltParseFileNameInformation(NULL), STATUS_INVALID_PARAMETER);
}

/* SPEC 7.3: in pre-create the opened name is the file object's, whether the
 * file exists or not; SL_OPEN_TARGET_DIRECTORY gives the parent; a short
 * name there is refused. */
static void filename_pre_create(void **state)
{
    struct fixture *f = *state;
    plan(f, IRP_MJ_CREATE, false, OPENED_DEFAULT);
    assert_status(open_close(f, L"C:\\dir\\missing.txt"), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_status(f->p.status, STATUS_SUCCESS);
    assert_wide(f->p.name, L"\\Device\\HarddiskVolume1\\dir\\missing.txt");

    plan(f, IRP_MJ_CREATE, false, OPENED_DEFAULT);
    struct fltsim_create_params cp = {.path = L"C:\\dir\\new.txt",
                                      .desired_access = GENERIC_WRITE,
                                      .share_access = FILE_SHARE_READ | FILE_SHARE_WRITE,
                                      .disposition = FILE_OPEN,
                                      .create_options = FILE_SYNCHRONOUS_IO_NONALERT,
                                      .operation_flags = SL_OPEN_TARGET_DIRECTORY};
    HANDLE h = NULL;
    if (NT_SUCCESS(fltsim_io_create(f->w.sys, &cp, &h, NULL)))
        fltsim_io_close(f->w.sys, h);
    assert_status(f->p.status, STATUS_SUCCESS);
    assert_wide(f->p.name, L"\\Device\\HarddiskVolume1\\dir");

    plan(f, IRP_MJ_CREATE, false, FLT_FILE_NAME_SHORT | FLT_FILE_NAME_QUERY_DEFAULT);
    assert_status(open_close(f, L"C:\\a.txt"), STATUS_SUCCESS);
    assert_status(f->p.status, STATUS_FLT_INVALID_NAME_REQUEST);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V29"), 1);
}

/* SPEC 7.3: a normalized name in pre-create succeeds when only the last
 * component is missing (the file system names the parent), fails when a
 * directory on the way is missing, and with SL_OPEN_TARGET_DIRECTORY is the
 * parent's. */
static void filename_pre_create_normalized(void **state)
{
    struct fixture *f = *state;
    plan(f, IRP_MJ_CREATE, false, NORMALIZED_DEFAULT);
    assert_status(open_close(f, L"C:\\DIR\\missing.txt"), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_status(f->p.status, STATUS_SUCCESS);
    assert_wide(f->p.name, L"\\Device\\HarddiskVolume1\\dir\\missing.txt");

    plan(f, IRP_MJ_CREATE, false, NORMALIZED_DEFAULT);
    assert_status(open_close(f, L"C:\\a.txt"), STATUS_SUCCESS);
    assert_status(f->p.status, STATUS_SUCCESS);
    assert_wide(f->p.name, L"\\Device\\HarddiskVolume1\\a.txt");

    plan(f, IRP_MJ_CREATE, false, NORMALIZED_DEFAULT);
    assert_status(open_close(f, L"C:\\nodir\\x.txt"), STATUS_OBJECT_PATH_NOT_FOUND);
    assert_status(f->p.status, STATUS_OBJECT_PATH_NOT_FOUND);

    plan(f, IRP_MJ_CREATE, false, NORMALIZED_DEFAULT);
    struct fltsim_create_params cp = {.path = L"C:\\Dir\\new.txt",
                                      .desired_access = GENERIC_WRITE,
                                      .share_access = FILE_SHARE_READ | FILE_SHARE_WRITE,
                                      .disposition = FILE_OPEN,
                                      .create_options = FILE_SYNCHRONOUS_IO_NONALERT,
                                      .operation_flags = SL_OPEN_TARGET_DIRECTORY};
    HANDLE h = NULL;
    if (NT_SUCCESS(fltsim_io_create(f->w.sys, &cp, &h, NULL)))
        fltsim_io_close(f->w.sys, h);
    assert_status(f->p.status, STATUS_SUCCESS);
    assert_wide(f->p.name, L"\\Device\\HarddiskVolume1\\dir");
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* SPEC 7.3: no file was opened by a failed create: nothing to name. */
static void filename_after_failed_create(void **state)
{
    struct fixture *f = *state;
    plan(f, IRP_MJ_CREATE, true, NORMALIZED_DEFAULT);
    assert_status(open_close(f, L"C:\\nope.txt"), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(f->p.calls, 1);
    assert_status(f->p.status, STATUS_FLT_INVALID_NAME_REQUEST);
}

/* SPEC 7.3, V29: where the file system cannot be asked, the query fails
 * with STATUS_FLT_INVALID_NAME_REQUEST (CACHE_MISS when a cache lookup was
 * all that was allowed), and the verifier says why. */
static void filename_unsafe_places(void **state)
{
    struct fixture *f = *state;
    static const enum around arounds[] = {AROUND_DISPATCH, AROUND_TOP_LEVEL, AROUND_GUARDED};
    for (size_t i = 0; i < 3; i++) {
        fltsim_system_reports_clear(f->w.sys);
        plan(f, IRP_MJ_CREATE, true, NORMALIZED_DEFAULT);
        f->p.around = arounds[i];
        assert_status(open_close(f, L"C:\\a.txt"), STATUS_SUCCESS);
        assert_status(f->p.status, STATUS_FLT_INVALID_NAME_REQUEST);
        assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V29"), 1);
    }

    /* after cleanup and in close */
    static const struct {
        UCHAR major;
        bool in_post;
    } places[] = {{IRP_MJ_CLEANUP, true}, {IRP_MJ_CLOSE, false}, {IRP_MJ_CLOSE, true}};
    for (size_t i = 0; i < 3; i++) {
        fltsim_system_reports_clear(f->w.sys);
        plan(f, places[i].major, places[i].in_post, NORMALIZED_DEFAULT);
        assert_status(open_close(f, L"C:\\a.txt"), STATUS_SUCCESS);
        assert_int_equal(f->p.calls, 1);
        assert_status(f->p.status, STATUS_FLT_INVALID_NAME_REQUEST);
        assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V29"), 1);
    }
    /* pre-cleanup is still fine */
    plan(f, IRP_MJ_CLEANUP, false, NORMALIZED_DEFAULT);
    assert_status(open_close(f, L"C:\\a.txt"), STATUS_SUCCESS);
    assert_status(f->p.status, STATUS_SUCCESS);

    /* paging I/O */
    fltsim_system_reports_clear(f->w.sys);
    plan(f, IRP_MJ_READ, false, OPENED_DEFAULT);
    f->u_paging_read = true;
    assert_status(open_close(f, L"C:\\a.txt"), STATUS_SUCCESS);
    f->u_paging_read = false;
    assert_status(f->p.status, STATUS_FLT_INVALID_NAME_REQUEST);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V29"), 1);

    /* ALWAYS_ALLOW_CACHE_LOOKUP where unsafe: a cache miss, no report */
    fltsim_system_reports_clear(f->w.sys);
    plan(f, IRP_MJ_CLOSE, false,
         FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_ALWAYS_ALLOW_CACHE_LOOKUP);
    assert_status(open_close(f, L"C:\\a.txt"), STATUS_SUCCESS);
    assert_status(f->p.status, STATUS_FLT_NAME_CACHE_MISS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* SPEC 7.3: in the FS-filter callbacks the file system holds its locks
 * for, a name query is refused; pre-ACQUIRE_FOR_SECTION_SYNCHRONIZATION is
 * still a safe place, its post is not. DO_NOT_CACHE: nothing is cached
 * to find. */
static void filename_fs_filter_callbacks(void **state)
{
    struct fixture *f = *state;
    static const struct {
        UCHAR major;
        bool in_post;
        NTSTATUS want;
    } places[] = {
        {IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION, false, STATUS_SUCCESS},
        {IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION, true, STATUS_FLT_INVALID_NAME_REQUEST},
        {IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION, false, STATUS_FLT_INVALID_NAME_REQUEST},
        {IRP_MJ_ACQUIRE_FOR_MOD_WRITE, false, STATUS_FLT_INVALID_NAME_REQUEST},
        {IRP_MJ_RELEASE_FOR_MOD_WRITE, true, STATUS_FLT_INVALID_NAME_REQUEST},
        {IRP_MJ_ACQUIRE_FOR_CC_FLUSH, false, STATUS_FLT_INVALID_NAME_REQUEST},
        {IRP_MJ_RELEASE_FOR_CC_FLUSH, true, STATUS_FLT_INVALID_NAME_REQUEST},
    };
    for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
        fltsim_system_reports_clear(f->w.sys);
        plan(f, places[i].major, places[i].in_post,
             NORMALIZED_DEFAULT | FLT_FILE_NAME_DO_NOT_CACHE);
        HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
        fltsim_io_map_section(f->w.sys, h, PAGE_READONLY);
        fltsim_io_acquire_for_mod_write(f->w.sys, h, 0);
        fltsim_io_release_for_mod_write(f->w.sys, h);
        fltsim_io_acquire_for_cc_flush(f->w.sys, h);
        fltsim_io_release_for_cc_flush(f->w.sys, h);
        assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
        assert_int_equal(f->p.calls, 1);
        assert_status(f->p.status, places[i].want);
        assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V29"),
                         NT_SUCCESS(places[i].want) ? 0 : 1);
    }
}

/* SPEC 7.3: CACHE_ONLY never asks the file system. */
static void filename_cache_only_misses(void **state)
{
    struct fixture *f = *state;
    plan(f, IRP_MJ_CREATE, true, FLT_FILE_NAME_OPENED | FLT_FILE_NAME_QUERY_CACHE_ONLY);
    assert_status(open_close(f, L"C:\\a.txt"), STATUS_SUCCESS);
    assert_status(f->p.status, STATUS_FLT_NAME_CACHE_MISS);
}

/* The short format: the final component only, no volume; or the status of a
 * file system that has no short name for the file. */
static void filename_short_format(void **state)
{
    struct fixture *f = *state;
    plan(f, IRP_MJ_CREATE, true, FLT_FILE_NAME_SHORT | FLT_FILE_NAME_QUERY_DEFAULT);
    assert_status(open_close(f, L"C:\\dir\\b.txt"), STATUS_SUCCESS);
    if (NT_SUCCESS(f->p.status)) {
        assert_int_equal(f->p.volume_bytes, 0);
        char got[256];
        narrow(f->p.name, got, sizeof(got));
        assert_null(strchr(got, '\\'));
    } else {
        assert_status(f->p.status, STATUS_OBJECT_NAME_NOT_FOUND);
    }
}

/* The Unsafe routine names a file object outside a callback's data. */
static void filename_unsafe_routine(void **state)
{
    struct fixture *f = *state;
    plan(f, IRP_MJ_READ, true, NORMALIZED_DEFAULT);
    f->p.unsafe = true;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    char buf[8];
    LONGLONG zero = 0;
    assert_status(fltsim_io_read(f->w.sys, h, buf, 5, &zero, 0, NULL), STATUS_SUCCESS);
    assert_status(f->p.status, STATUS_SUCCESS);
    assert_wide(f->p.name, L"\\Device\\HarddiskVolume1\\a.txt");

    PFLT_FILE_NAME_INFORMATION info = (PFLT_FILE_NAME_INFORMATION)1;
    assert_status(FltGetFileNameInformationUnsafe(fltsim_io_file_object(f->w.sys, h), NULL,
                                                  NORMALIZED_DEFAULT, &info),
                  STATUS_INVALID_PARAMETER);
    assert_null(info);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* A name of the file object of h, asked by N's instance from the test
 * thread (FltGetFileNameInformationUnsafe). */
static NTSTATUS name_of(struct fixture *f, HANDLE h, FLT_FILE_NAME_OPTIONS options,
                        PFLT_FILE_NAME_INFORMATION *info)
{
    return FltGetFileNameInformationUnsafe(fltsim_io_file_object(f->w.sys, h), f->n.last_instance,
                                           options, info);
}

/* SPEC 7.3: a name is cached per instance and file object and shared; CACHE_ONLY
 * finds it, FILESYSTEM_ONLY and DO_NOT_CACHE go around the cache. */
static void filename_cache_shares_and_bypasses(void **state)
{
    struct fixture *f = *state;
    HANDLE h = world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ);
    PFLT_FILE_NAME_INFORMATION a, b, c;
    const FLT_FILE_NAME_OPTIONS cache_only =
        FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_CACHE_ONLY;
    assert_status(name_of(f, h, NORMALIZED_DEFAULT | FLT_FILE_NAME_DO_NOT_CACHE, &a),
                  STATUS_SUCCESS);
    assert_status(name_of(f, h, cache_only, &b), STATUS_FLT_NAME_CACHE_MISS);
    assert_status(name_of(f, h, FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_FILESYSTEM_ONLY, &b),
                  STATUS_SUCCESS);
    assert_status(name_of(f, h, cache_only, &c), STATUS_FLT_NAME_CACHE_MISS);
    assert_ptr_not_equal(a, b);
    FltReleaseFileNameInformation(a);
    FltReleaseFileNameInformation(b);

    assert_status(name_of(f, h, NORMALIZED_DEFAULT, &a), STATUS_SUCCESS);
    assert_status(name_of(f, h, NORMALIZED_DEFAULT, &b), STATUS_SUCCESS);
    assert_status(name_of(f, h, cache_only, &c), STATUS_SUCCESS);
    assert_ptr_equal(a, b);
    assert_ptr_equal(a, c);
    FltReleaseFileNameInformation(a);
    FltReleaseFileNameInformation(b);
    FltReleaseFileNameInformation(c);
    /* the cache's own reference is not the filter's to release */
    FltReleaseFileNameInformation(c);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V22"), 1);
    /* the opened format is a different entry */
    assert_status(name_of(f, h, FLT_FILE_NAME_OPENED | FLT_FILE_NAME_QUERY_CACHE_ONLY, &c),
                  STATUS_FLT_NAME_CACHE_MISS);
    /* FltPurgeFileNameInformationCache empties it */
    assert_status(FltPurgeFileNameInformationCache(f->n.last_instance, NULL), STATUS_SUCCESS);
    assert_status(name_of(f, h, cache_only, &c), STATUS_FLT_NAME_CACHE_MISS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* Issue 17 item 8: every name query is a name_query trace event naming the
 * filter, the operation it was asked in, format and method, the status, and
 * the name with where it came from. */
struct name_events {
    int count;
    struct fltsim_event last;
    char filter[32], detail[64], name[256];
};

static void on_name_event(void *ctx, const struct fltsim_event *ev)
{
    struct name_events *ne = ctx;
    if (ev->type != FLTSIM_EV_NAME_QUERY)
        return;
    ne->count++;
    ne->last = *ev;
    snprintf(ne->filter, sizeof(ne->filter), "%s", ev->filter != NULL ? ev->filter : "");
    snprintf(ne->detail, sizeof(ne->detail), "%s", ev->detail != NULL ? ev->detail : "");
    snprintf(ne->name, sizeof(ne->name), "%s", ev->name != NULL ? ev->name : "(none)");
}

static void filename_queries_are_traced(void **state)
{
    struct fixture *f = *state;
    struct name_events ne = {0};
    fltsim_system_set_trace(f->w.sys, on_name_event, &ne);
    plan(f, IRP_MJ_CREATE, true, NORMALIZED_DEFAULT);
    assert_status(open_close(f, L"C:\\a.txt"), STATUS_SUCCESS);
    assert_int_equal(ne.count, 1);
    assert_int_equal(ne.last.type, FLTSIM_EV_NAME_QUERY);
    assert_string_equal(ne.filter, "N");
    assert_non_null(ne.last.instance);
    assert_true(ne.last.op_id != 0);
    assert_int_equal(ne.last.major, IRP_MJ_CREATE);
    assert_status(ne.last.status, STATUS_SUCCESS);
    assert_string_equal(ne.detail, "normalized default");
    assert_string_equal(ne.name, "\\Device\\HarddiskVolume1\\a.txt");
    assert_int_equal(ne.last.flags, 0); /* the file system answered */

    plan(f, IRP_MJ_READ, true, NORMALIZED_DEFAULT); /* no queries in callbacks */
    HANDLE h = world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ);
    PFLT_FILE_NAME_INFORMATION a, b;
    assert_status(name_of(f, h, FLT_FILE_NAME_OPENED | FLT_FILE_NAME_QUERY_CACHE_ONLY, &a),
                  STATUS_FLT_NAME_CACHE_MISS);
    assert_int_equal(ne.count, 2);
    assert_int_equal(ne.last.op_id, 0); /* not inside an operation */
    assert_status(ne.last.status, STATUS_FLT_NAME_CACHE_MISS);
    assert_string_equal(ne.detail, "opened cache_only");
    assert_string_equal(ne.name, "(none)");
    assert_status(name_of(f, h, NORMALIZED_DEFAULT, &a), STATUS_SUCCESS);
    assert_int_equal(ne.last.flags, 0);
    assert_status(name_of(f, h, NORMALIZED_DEFAULT, &b), STATUS_SUCCESS);
    assert_int_equal(ne.count, 4);
    assert_int_equal(ne.last.flags, 1); /* from the cache */
    assert_string_equal(ne.name, "\\Device\\HarddiskVolume1\\dir\\b.txt");
    FltReleaseFileNameInformation(a);
    FltReleaseFileNameInformation(b);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    fltsim_system_set_trace(f->w.sys, NULL, NULL);
}

/* SPEC 7.3 / issue 17: a rename empties the cache: the next query gives
 * the new name; a name held from before keeps the old one. */
static void filename_rename_invalidates_cache(void **state)
{
    struct fixture *f = *state;
    HANDLE h = world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ | DELETE);
    PFLT_FILE_NAME_INFORMATION before, after;
    assert_status(name_of(f, h, NORMALIZED_DEFAULT, &before), STATUS_SUCCESS);
    assert_status(fltsim_io_rename(f->w.sys, h, L"c.txt", FALSE, NULL), STATUS_SUCCESS);
    assert_status(name_of(f, h, FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_CACHE_ONLY, &after),
                  STATUS_FLT_NAME_CACHE_MISS);
    assert_status(name_of(f, h, NORMALIZED_DEFAULT, &after), STATUS_SUCCESS);
    WCHAR got[256];
    copy_ustr(got, 256, &after->Name);
    assert_wide(got, L"\\Device\\HarddiskVolume1\\dir\\c.txt");
    copy_ustr(got, 256, &before->Name);
    assert_wide(got, L"\\Device\\HarddiskVolume1\\dir\\b.txt");
    FltReleaseFileNameInformation(before);
    FltReleaseFileNameInformation(after);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* SPEC 7.3: ALWAYS_ALLOW_CACHE_LOOKUP finds a cached name where the file
 * system cannot be asked (pre-close); DEFAULT does not look there. */
static void filename_cache_lookup_where_unsafe(void **state)
{
    struct fixture *f = *state;
    HANDLE h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    PFLT_FILE_NAME_INFORMATION info;
    assert_status(name_of(f, h, NORMALIZED_DEFAULT, &info), STATUS_SUCCESS);
    FltReleaseFileNameInformation(info);
    plan(f, IRP_MJ_CLOSE, false,
         FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_ALWAYS_ALLOW_CACHE_LOOKUP);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_status(f->p.status, STATUS_SUCCESS);
    assert_wide(f->p.name, L"\\Device\\HarddiskVolume1\\a.txt");

    h = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    assert_status(name_of(f, h, NORMALIZED_DEFAULT, &info), STATUS_SUCCESS);
    FltReleaseFileNameInformation(info);
    plan(f, IRP_MJ_CLOSE, false, NORMALIZED_DEFAULT);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_status(f->p.status, STATUS_FLT_INVALID_NAME_REQUEST);
}

/* FltGetDestinationFileNameInformation: a bare name lands in the file's
 * directory, a full path (\??\C:\..., \Device\HarddiskVolume1\...) is taken
 * as it is, normalized through its parent directory, a name relative to a
 * RootDirectory handle in that directory; another volume is
 * STATUS_NOT_SAME_DEVICE and the short format is refused. */
static void filename_destination_names(void **state)
{
    struct fixture *f = *state;
    HANDLE h = world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ);
    PFILE_OBJECT fo = fltsim_io_file_object(f->w.sys, h);
    PFLT_INSTANCE inst = f->n.last_instance;
    PFLT_FILE_NAME_INFORMATION info;
    WCHAR got[256];
    static const struct {
        const WCHAR *target;
        FLT_FILE_NAME_OPTIONS options;
        const WCHAR *want;
    } cases[] = {
        {L"new.txt", NORMALIZED_DEFAULT, L"\\Device\\HarddiskVolume1\\dir\\new.txt"},
        {L"new.txt", OPENED_DEFAULT, L"\\Device\\HarddiskVolume1\\dir\\new.txt"},
        {L"\\??\\C:\\DIR\\x.txt", NORMALIZED_DEFAULT, L"\\Device\\HarddiskVolume1\\dir\\x.txt"},
        {L"\\??\\c:\\DIR\\x.txt", OPENED_DEFAULT, L"\\Device\\HarddiskVolume1\\DIR\\x.txt"},
        {L"\\Device\\HarddiskVolume1\\y.txt", NORMALIZED_DEFAULT,
         L"\\Device\\HarddiskVolume1\\y.txt"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        UNICODE_STRING t = ustr(cases[i].target);
        assert_status(FltGetDestinationFileNameInformation(inst, fo, NULL, t.Buffer, t.Length,
                                                           cases[i].options, &info),
                      STATUS_SUCCESS);
        copy_ustr(got, 256, &info->Name);
        assert_wide(got, cases[i].want);
        assert_int_equal(info->Volume.Length, sizeof(L"\\Device\\HarddiskVolume1") - 2);
        FltReleaseFileNameInformation(info);
    }
    UNICODE_STRING t = ustr(L"\\??\\D:\\x.txt");
    assert_status(FltGetDestinationFileNameInformation(inst, fo, NULL, t.Buffer, t.Length,
                                                       NORMALIZED_DEFAULT, &info),
                  STATUS_NOT_SAME_DEVICE);
    t = ustr(L"\\??\\C:\\nodir\\x.txt");
    assert_status(FltGetDestinationFileNameInformation(inst, fo, NULL, t.Buffer, t.Length,
                                                       NORMALIZED_DEFAULT, &info),
                  STATUS_OBJECT_PATH_NOT_FOUND);
    t = ustr(L"x.txt");
    assert_status(FltGetDestinationFileNameInformation(
                      inst, fo, NULL, t.Buffer, t.Length,
                      FLT_FILE_NAME_SHORT | FLT_FILE_NAME_QUERY_DEFAULT, &info),
                  STATUS_INVALID_PARAMETER);
    assert_null(info);

    /* Relative to a RootDirectory handle (FILE_RENAME_INFORMATION's): the
     * directory's name, then the target's; a handle that is none: invalid. */
    HANDLE root = world_open(&f->w, L"C:\\dir", GENERIC_READ);
    t = ustr(L"z.txt");
    assert_status(FltGetDestinationFileNameInformation(inst, fo, root, t.Buffer, t.Length,
                                                       NORMALIZED_DEFAULT, &info),
                  STATUS_SUCCESS);
    copy_ustr(got, 256, &info->Name);
    assert_wide(got, L"\\Device\\HarddiskVolume1\\dir\\z.txt");
    FltReleaseFileNameInformation(info);
    assert_status(FltGetDestinationFileNameInformation(inst, fo, (HANDLE)(ULONG_PTR)0x7ff0,
                                                       t.Buffer, t.Length, NORMALIZED_DEFAULT,
                                                       &info),
                  STATUS_INVALID_HANDLE);
    assert_status(fltsim_io_close(f->w.sys, root), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* FltIsDirectory asks the file system. */
static void filename_is_directory(void **state)
{
    struct fixture *f = *state;
    HANDLE file = world_open(&f->w, L"C:\\a.txt", GENERIC_READ);
    HANDLE dir = world_open(&f->w, L"C:\\dir", GENERIC_READ);
    BOOLEAN is = TRUE;
    assert_status(FltIsDirectory(fltsim_io_file_object(f->w.sys, file), f->n.last_instance, &is),
                  STATUS_SUCCESS);
    assert_false(is);
    assert_status(FltIsDirectory(fltsim_io_file_object(f->w.sys, dir), f->n.last_instance, &is),
                  STATUS_SUCCESS);
    assert_true(is);
    assert_status(FltIsDirectory(NULL, f->n.last_instance, &is), STATUS_INVALID_PARAMETER);
    assert_status(fltsim_io_close(f->w.sys, file), STATUS_SUCCESS);
    assert_status(fltsim_io_close(f->w.sys, dir), STATUS_SUCCESS);
}

/* FltGetVolumeGuidName: \??\Volume{GUID}, the same every time; the size
 * asked first, a small buffer refused. */
static void filename_volume_guid_name(void **state)
{
    struct fixture *f = *state;
    ULONG need = 0;
    assert_status(FltGetVolumeGuidName(f->w.volume, NULL, &need), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(need, 48 * sizeof(WCHAR));
    WCHAR small[10];
    UNICODE_STRING s = {0, sizeof(small), small};
    need = 0;
    assert_status(FltGetVolumeGuidName(f->w.volume, &s, &need), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(need, 96);
    assert_status(FltGetVolumeGuidName(f->w.volume, NULL, NULL), STATUS_INVALID_PARAMETER);
    WCHAR a[64], b[64];
    UNICODE_STRING ua = {0, sizeof(a), a}, ub = {0, sizeof(b), b};
    assert_status(FltGetVolumeGuidName(f->w.volume, &ua, NULL), STATUS_SUCCESS);
    assert_status(FltGetVolumeGuidName(f->w.volume, &ub, NULL), STATUS_SUCCESS);
    assert_int_equal(ua.Length, 96);
    assert_memory_equal(a, b, 96);
    WCHAR text[64];
    copy_ustr(text, 64, &ua);
    char narrowed[64];
    narrow(text, narrowed, sizeof(narrowed));
    assert_int_equal(strncmp(narrowed, "\\??\\Volume{", 11), 0);
    assert_int_equal(narrowed[47], '}');
    assert_int_equal(narrowed[19], '-');
    assert_int_equal(narrowed[24], '-');
}

/* No tunnelling in fltsim: nothing was tunneled, the name stays. */
static void filename_tunneled_name_is_null(void **state)
{
    struct fixture *f = *state;
    plan(f, IRP_MJ_CREATE, true, NORMALIZED_DEFAULT);
    f->p.keep = true;
    assert_status(open_close(f, L"C:\\a.txt"), STATUS_SUCCESS);
    assert_non_null(f->p.kept);
    PFLT_FILE_NAME_INFORMATION tunneled = (PFLT_FILE_NAME_INFORMATION)1;
    assert_status(FltGetTunneledName(NULL, f->p.kept, &tunneled), STATUS_INVALID_PARAMETER);
    assert_null(tunneled);
    FltReleaseFileNameInformation(f->p.kept);
}

/* Threads query the names of their own file objects while others rename
 * and close theirs: a rename anywhere on the volume empties its cache, and
 * no thread ever sees a stale name (both executors; ThreadSanitizer). */
#define NAME_THREADS 4
#define NAME_ROUNDS 40
struct name_worker {
    struct fixture *f;
    int index;
    LONG failures;
};

static void name_worker_main(void *ctx)
{
    struct name_worker *nw = ctx;
    struct fixture *f = nw->f;
    WCHAR path[32], renamed[32];
    swprintf_like(path, L"C:\\dir\\w%d.txt", nw->index);
    swprintf_like(renamed, L"C:\\dir\\r%d.txt", nw->index);
    for (int round = 0; round < NAME_ROUNDS; round++) {
        struct fltsim_create_params cp = {.path = round % 2 ? renamed : path,
                                          .desired_access = GENERIC_READ | DELETE,
                                          .share_access = FILE_SHARE_READ | FILE_SHARE_WRITE |
                                                          FILE_SHARE_DELETE,
                                          .disposition = FILE_OPEN_IF,
                                          .create_options = FILE_SYNCHRONOUS_IO_NONALERT};
        HANDLE h = NULL;
        if (!NT_SUCCESS(fltsim_io_create(f->w.sys, &cp, &h, NULL))) {
            nw->failures++;
            continue;
        }
        PFLT_FILE_NAME_INFORMATION a = NULL, b = NULL;
        if (!NT_SUCCESS(name_of(f, h, NORMALIZED_DEFAULT, &a)) ||
            !NT_SUCCESS(name_of(f, h, NORMALIZED_DEFAULT, &b)) ||
            !RtlEqualUnicodeString(&a->Name, &b->Name, FALSE))
            /* the same block unless another thread's rename emptied the
             * volume's cache in between: the same name either way */
            nw->failures++;
        if (a != NULL)
            FltReleaseFileNameInformation(a);
        if (b != NULL)
            FltReleaseFileNameInformation(b);
        if (!NT_SUCCESS(fltsim_io_rename(f->w.sys, h, round % 2 ? path : renamed, TRUE, NULL)))
            nw->failures++;
        PFLT_FILE_NAME_INFORMATION c = NULL;
        if (NT_SUCCESS(name_of(f, h, NORMALIZED_DEFAULT, &c))) {
            /* the new name, never the cached old one */
            const WCHAR *want = (round % 2 ? path : renamed) + 2; /* past "C:" */
            size_t vol = c->Volume.Length / sizeof(WCHAR);
            size_t n = c->Name.Length / sizeof(WCHAR) - vol;
            for (size_t i = 0; i < n; i++)
                if (want[i] != c->Name.Buffer[vol + i])
                    nw->failures++;
            FltReleaseFileNameInformation(c);
        } else {
            nw->failures++;
        }
        fltsim_io_close(f->w.sys, h);
    }
}

static void filename_threads_share_cache_and_see_renames(void **state)
{
    struct fixture *f = *state;
    /* N's instance exists once something was opened */
    assert_status(open_close(f, L"C:\\a.txt"), STATUS_SUCCESS);
    struct name_worker workers[NAME_THREADS];
    fltsim_thread *threads[NAME_THREADS];
    for (int i = 0; i < NAME_THREADS; i++) {
        workers[i] = (struct name_worker){f, i, 0};
        assert_status(fltsim_thread_spawn(f->w.sys, 3000 + (ULONG)i, 6000 + (ULONG)i,
                                          name_worker_main, &workers[i], &threads[i]),
                      STATUS_SUCCESS);
    }
    for (int i = 0; i < NAME_THREADS; i++) {
        fltsim_thread_join(threads[i]);
        assert_int_equal(workers[i].failures, 0);
    }
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* V22: references are counted; one release too many is reported and
 * changes nothing (ASan sees no use after free). */
static void filename_reference_and_over_release(void **state)
{
    struct fixture *f = *state;
    plan(f, IRP_MJ_CREATE, true, OPENED_DEFAULT);
    f->p.keep = true;
    assert_status(open_close(f, L"C:\\a.txt"), STATUS_SUCCESS);
    PFLT_FILE_NAME_INFORMATION info = f->p.kept;
    assert_non_null(info);
    FltReferenceFileNameInformation(info);
    FltReleaseFileNameInformation(info);
    assert_int_equal(info->Name.Length, sizeof(L"\\Device\\HarddiskVolume1\\a.txt") - 2);
    FltReleaseFileNameInformation(info);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V22"), 0);
    FltReleaseFileNameInformation(info);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V22"), 1);
    FltReferenceFileNameInformation(info);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V22"), 2);
}

/* V22: a reference the filter still holds at unload is reported with the
 * filter's name and the file and line it was obtained at. */
static void filename_leak_at_unload_names_the_site(void **state)
{
    struct fixture *f = *state;
    plan(f, IRP_MJ_CREATE, true, OPENED_DEFAULT);
    f->p.keep = true;
    assert_status(open_close(f, L"C:\\a.txt"), STATUS_SUCCESS);
    assert_non_null(f->p.kept);
    assert_status(fltsim_driver_unload(f->n.driver, 0), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V22"), 1);
    struct fltsim_report r;
    bool found = false;
    for (ULONG i = 0; i < fltsim_system_report_count(f->w.sys); i++) {
        assert_status(fltsim_system_report_get(f->w.sys, i, &r), STATUS_SUCCESS);
        if (strcmp(r.rule, "V22") == 0) {
            found = true;
            assert_non_null(strstr(r.message, "N unloads"));
            assert_non_null(strstr(r.message, "test_filename.c:"));
        }
    }
    assert_true(found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(filename_post_create_opened_and_normalized, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(filename_bad_options_are_invalid_parameter, setup,
                                        teardown),
        cmocka_unit_test(filename_parse_learn_examples),
        cmocka_unit_test_setup_teardown(filename_pre_create, setup, teardown),
        cmocka_unit_test_setup_teardown(filename_pre_create_normalized, setup, teardown),
        cmocka_unit_test_setup_teardown(filename_after_failed_create, setup, teardown),
        cmocka_unit_test_setup_teardown(filename_unsafe_places, setup, teardown),
        cmocka_unit_test_setup_teardown(filename_fs_filter_callbacks, setup, teardown),
        cmocka_unit_test_setup_teardown(filename_cache_only_misses, setup, teardown),
        cmocka_unit_test_setup_teardown(filename_short_format, setup, teardown),
        cmocka_unit_test_setup_teardown(filename_unsafe_routine, setup, teardown),
        cmocka_unit_test_setup_teardown(filename_cache_shares_and_bypasses, setup, teardown),
        cmocka_unit_test_setup_teardown(filename_queries_are_traced, setup, teardown),
        cmocka_unit_test_setup_teardown(filename_rename_invalidates_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(filename_cache_lookup_where_unsafe, setup, teardown),
        cmocka_unit_test_setup_teardown(filename_destination_names, setup, teardown),
        cmocka_unit_test_setup_teardown(filename_is_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(filename_volume_guid_name, setup, teardown),
        cmocka_unit_test_setup_teardown(filename_tunneled_name_is_null, setup, teardown),
        cmocka_unit_test_setup_teardown(filename_threads_share_cache_and_see_renames, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(filename_reference_and_over_release, setup, teardown),
        cmocka_unit_test_setup_teardown(filename_leak_at_unload_names_the_site, setup, teardown),
    };
    return fltsim_run_suite("filename", tests, sizeof(tests) / sizeof(tests[0]));
}
