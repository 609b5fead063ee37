/*
 * Name providers (issue 17 item 6, SPEC 7.3): P (100000) registers
 * GenerateFileName and NormalizeNameComponent(Ex) and shows the directory
 * \dir as \user; N (200000) above it and L (50000) below it ask for names.
 * Cases: names through the provider, REQUEST_FROM_CURRENT_PROVIDER, the
 * fallback to NormalizeNameComponent(Ex) per component, the cache the
 * provider allows or refuses, FltCheckAndGrowNameControl, the providers
 * whose answers cannot be used (V29), destination names, pre-create, threads
 * asking at once, and the name_query trace.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

#define CONTROL_TAG 'cnMF' /* FltMgr's name-control buffers ('FMnc') */
#define NORMALIZED_DEFAULT (FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_DEFAULT)
#define OPENED_DEFAULT (FLT_FILE_NAME_OPENED | FLT_FILE_NAME_QUERY_DEFAULT)
#define VOL L"\\Device\\HarddiskVolume1"

enum gen_mode {
    GEN_MAP,             /* \dir shown as \user */
    GEN_FAIL_NORMALIZED, /* STATUS_NOT_SUPPORTED for a normalized name */
    GEN_BAD_VOLUME,      /* a name on another device */
    GEN_EMPTY,           /* success with an empty name */
    GEN_RECURSE,         /* asks itself with REQUEST_FROM_CURRENT_PROVIDER */
    GEN_GROW_CHECK,      /* exercises FltCheckAndGrowNameControl, then maps */
    GEN_RAISE            /* raises an exception it does not handle */
};

#define NAME_THREADS 4
#define NAME_ROUNDS 8

/* What P does and saw. The callbacks record; the cases assert. */
struct provider_state {
    fltsim_system *sys;
    enum gen_mode mode;
    BOOLEAN cache;
    bool threaded; /* only count, atomically: several threads ask at once */
    LONG generate_calls;
    FLT_FILE_NAME_OPTIONS last_options;
    bool last_had_data;
    WCHAR lower[256]; /* the name P got from below */
    NTSTATUS recurse_status;
    /* NormalizeNameComponent(Ex) */
    char calls[1024]; /* "parent|component|flags|volume bytes;" per call */
    LONG normalize_calls, plain_calls, too_small, contexts_made, cleanup_calls;
    LONG last_nth; /* how many calls the context of the last call had seen */
    PFILE_OBJECT normalize_fo;
    /* FltCheckAndGrowNameControl inside GenerateFileName */
    NTSTATUS grow_small, grow_big, grow_fail, grow_foreign;
    bool grow_small_same, grow_big_kept, grow_fail_kept;
};
static struct provider_state ps;

struct fixture {
    struct test_world w;
    struct tf_filter p, n, l;
    struct tf_filter q; /* loaded by the stacked-providers case only */
    /* a query N (and P) make in their post-create, through the callback data */
    FLT_FILE_NAME_OPTIONS n_options, p_options;
    NTSTATUS n_status, p_status;
    WCHAR n_name[256], p_name[256];
    /* and N in its pre-create */
    FLT_FILE_NAME_OPTIONS n_pre_options;
    NTSTATUS n_pre_status;
    WCHAR n_pre_name[256];
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

static void narrow_ustr(PCUNICODE_STRING s, char *out, size_t size)
{
    size_t n = s->Length / sizeof(WCHAR), i = 0;
    for (; i < n && i + 1 < size; i++)
        out[i] = s->Buffer[i] < 128 ? (char)s->Buffer[i] : '?';
    out[i] = 0;
}

#define assert_wide(g, w) assert_wide_at((g), (w), __LINE__)
static void assert_wide_at(const WCHAR *got, const WCHAR *want, int line)
{
    UNICODE_STRING g = ustr(got), w = ustr(want);
    char a[512], b[512];
    narrow_ustr(&g, a, sizeof(a));
    narrow_ustr(&w, b, sizeof(b));
    if (strcmp(a, b) != 0)
        print_error("line %d: ", line);
    assert_string_equal(a, b);
}

/* ---- the provider ---- */

/* name with the directory from right after the volume shown as to. */
static void map_dir(PCUNICODE_STRING name, USHORT volume_bytes, const WCHAR *from, const WCHAR *to,
                    WCHAR *out, size_t room)
{
    size_t n = name->Length / sizeof(WCHAR), v = volume_bytes / sizeof(WCHAR), at = 0;
    size_t fl = wcslen(from), tl = wcslen(to);
    const WCHAR *w = name->Buffer;
    bool mapped = n >= v + fl && memcmp(w + v, from, fl * sizeof(WCHAR)) == 0 &&
                  (n == v + fl || w[v + fl] == L'\\');
    for (size_t i = 0; i < n && at + 1 < room; i++) {
        if (mapped && i == v) {
            for (size_t k = 0; k < tl && at + 1 < room; k++)
                out[at++] = to[k];
            i += fl - 1;
            continue;
        }
        out[at++] = w[i];
    }
    out[at] = 0;
}

static NTSTATUS put_name(PFLT_NAME_CONTROL ctrl, const WCHAR *text)
{
    UNICODE_STRING s = ustr(text);
    NTSTATUS status = FltCheckAndGrowNameControl(ctrl, s.Length);
    if (NT_SUCCESS(status))
        RtlCopyUnicodeString(&ctrl->Name, &s);
    return status;
}

static void grow_check(PFLT_NAME_CONTROL ctrl)
{
    ctrl->Name.Buffer[0] = L'a';
    ctrl->Name.Buffer[1] = L'b';
    ctrl->Name.Length = 2 * sizeof(WCHAR);
    PWCH before = ctrl->Name.Buffer;
    ps.grow_small = FltCheckAndGrowNameControl(ctrl, 8);
    ps.grow_small_same = ctrl->Name.Buffer == before;
    ps.grow_big = FltCheckAndGrowNameControl(ctrl, 1000);
    ps.grow_big_kept = ctrl->Name.Length == 4 && ctrl->Name.MaximumLength >= 1000 &&
                       ctrl->Name.Buffer[0] == L'a' && ctrl->Name.Buffer[1] == L'b';
    struct fltsim_fault fault = {.kind = FLTSIM_FAULT_ALLOC, .nth = 1, .tag = CONTROL_TAG};
    if (NT_SUCCESS(fltsim_fault_add(ps.sys, &fault))) {
        before = ctrl->Name.Buffer;
        ps.grow_fail = FltCheckAndGrowNameControl(ctrl, 3000);
        ps.grow_fail_kept = ctrl->Name.Buffer == before && ctrl->Name.Length == 4 &&
                            ctrl->Name.MaximumLength < 3000 && ctrl->Name.Buffer[0] == L'a';
        fltsim_faults_clear(ps.sys);
    }
    FLT_NAME_CONTROL foreign;
    WCHAR room[4];
    foreign.Name.Buffer = room;
    foreign.Name.Length = 0;
    foreign.Name.MaximumLength = sizeof(room);
    ps.grow_foreign = FltCheckAndGrowNameControl(&foreign, 100);
}

static NTSTATUS p_generate(PFLT_INSTANCE instance, PFILE_OBJECT fo, PFLT_CALLBACK_DATA data,
                           FLT_FILE_NAME_OPTIONS options, PBOOLEAN cache, PFLT_NAME_CONTROL ctrl)
{
    __atomic_fetch_add(&ps.generate_calls, 1, __ATOMIC_SEQ_CST);
    if (!ps.threaded) {
        ps.last_options = options;
        ps.last_had_data = data != NULL;
    }
    FLT_FILE_NAME_OPTIONS format = FltGetFileNameFormat(options);
    switch (ps.mode) {
    case GEN_FAIL_NORMALIZED:
        if (format == FLT_FILE_NAME_NORMALIZED)
            return STATUS_NOT_SUPPORTED;
        break;
    case GEN_BAD_VOLUME:
        return put_name(ctrl, L"\\Device\\Bogus\\x.txt");
    case GEN_EMPTY:
        ctrl->Name.Length = 0;
        return STATUS_SUCCESS;
    case GEN_RECURSE: {
        PFLT_FILE_NAME_INFORMATION again = NULL;
        ps.recurse_status = FltGetFileNameInformationUnsafe(
            fo, instance, options | FLT_FILE_NAME_REQUEST_FROM_CURRENT_PROVIDER, &again);
        if (again != NULL)
            FltReleaseFileNameInformation(again);
        return NT_SUCCESS(ps.recurse_status) ? STATUS_UNSUCCESSFUL : ps.recurse_status;
    }
    case GEN_GROW_CHECK:
        grow_check(ctrl);
        break;
    case GEN_RAISE:
        ExRaiseStatus(STATUS_ACCESS_VIOLATION);
    case GEN_MAP:
        break;
    }
    /* What the provider below (here the file system) calls the file: asked
     * without REQUEST_FROM_CURRENT_PROVIDER, as NameChanger does. */
    FLT_FILE_NAME_OPTIONS below = options & ~FLT_FILE_NAME_REQUEST_FROM_CURRENT_PROVIDER;
    PFLT_FILE_NAME_INFORMATION lower = NULL;
    NTSTATUS status = data != NULL ? FltGetFileNameInformation(data, below, &lower)
                                   : FltGetFileNameInformationUnsafe(fo, instance, below, &lower);
    if (!NT_SUCCESS(status))
        return status;
    if (!ps.threaded)
        copy_ustr(ps.lower, 256, &lower->Name);
    WCHAR mapped[300];
    map_dir(&lower->Name, lower->Volume.Length, L"\\dir", L"\\user", mapped, 300);
    FltReleaseFileNameInformation(lower);
    status = put_name(ctrl, mapped);
    if (NT_SUCCESS(status))
        *cache = ps.cache;
    return status;
}

/* Q, a second provider above P (stacked providers): shows \user as \view,
 * asking P (below it) for the name. */
static LONG q_generate_calls;
static WCHAR q_lower[256];

static NTSTATUS q_generate(PFLT_INSTANCE instance, PFILE_OBJECT fo, PFLT_CALLBACK_DATA data,
                           FLT_FILE_NAME_OPTIONS options, PBOOLEAN cache, PFLT_NAME_CONTROL ctrl)
{
    q_generate_calls++;
    FLT_FILE_NAME_OPTIONS below = options & ~FLT_FILE_NAME_REQUEST_FROM_CURRENT_PROVIDER;
    PFLT_FILE_NAME_INFORMATION lower = NULL;
    NTSTATUS status = data != NULL ? FltGetFileNameInformation(data, below, &lower)
                                   : FltGetFileNameInformationUnsafe(fo, instance, below, &lower);
    if (!NT_SUCCESS(status))
        return status;
    copy_ustr(q_lower, 256, &lower->Name);
    WCHAR mapped[300];
    map_dir(&lower->Name, lower->Volume.Length, L"\\user", L"\\view", mapped, 300);
    FltReleaseFileNameInformation(lower);
    status = put_name(ctrl, mapped);
    *cache = FALSE;
    return status;
}

static NTSTATUS q_normalize_ex(PFLT_INSTANCE instance, PFILE_OBJECT fo, PCUNICODE_STRING parent,
                               USHORT volume_bytes, PCUNICODE_STRING component,
                               PFILE_NAMES_INFORMATION expand, ULONG expand_bytes,
                               FLT_NORMALIZE_NAME_FLAGS flags, PVOID *context)
{
    (void)instance, (void)fo, (void)parent, (void)volume_bytes, (void)flags, (void)context;
    if (expand_bytes < offsetof(FILE_NAMES_INFORMATION, FileName) + component->Length)
        return STATUS_BUFFER_TOO_SMALL;
    memset(expand, 0, sizeof(*expand));
    expand->FileNameLength = component->Length;
    memcpy(expand->FileName, component->Buffer, component->Length);
    return STATUS_SUCCESS;
}

static NTSTATUS normalize_common(PFILE_OBJECT fo, PCUNICODE_STRING parent, USHORT volume_bytes,
                                 PCUNICODE_STRING component, PFILE_NAMES_INFORMATION expand,
                                 ULONG expand_bytes, FLT_NORMALIZE_NAME_FLAGS flags, PVOID *context)
{
    if (expand_bytes < 200) { /* the provider wants more room */
        __atomic_fetch_add(&ps.too_small, 1, __ATOMIC_SEQ_CST);
        return STATUS_BUFFER_TOO_SMALL;
    }
    __atomic_fetch_add(&ps.normalize_calls, 1, __ATOMIC_SEQ_CST);
    if (!ps.threaded) {
        ps.normalize_fo = fo;
        char p[256], c[128], line[420];
        narrow_ustr(parent, p, sizeof(p));
        narrow_ustr(component, c, sizeof(c));
        snprintf(line, sizeof(line), "%s|%s|%u|%u;", p, c, (unsigned)flags, (unsigned)volume_bytes);
        strncat(ps.calls, line, sizeof(ps.calls) - strlen(ps.calls) - 1);
    }
    if (*context == NULL) {
        *context = ExAllocatePoolWithTag(PagedPool, sizeof(LONG), 'xcNP');
        if (*context == NULL)
            return STATUS_INSUFFICIENT_RESOURCES;
        *(LONG *)*context = 0;
        __atomic_fetch_add(&ps.contexts_made, 1, __ATOMIC_SEQ_CST);
    }
    /* one context per name: this call is the name's n-th */
    LONG nth = ++*(LONG *)*context;
    if (!ps.threaded)
        ps.last_nth = nth;
    /* The long name of "user" is "User"; the others are as given. */
    UNICODE_STRING user = ustr(L"user"), long_user = ustr(L"User");
    PCUNICODE_STRING out = RtlEqualUnicodeString(component, &user, TRUE) ? &long_user : component;
    memset(expand, 0, sizeof(*expand));
    expand->FileNameLength = out->Length;
    memcpy(expand->FileName, out->Buffer, out->Length);
    return STATUS_SUCCESS;
}

static NTSTATUS p_normalize_ex(PFLT_INSTANCE instance, PFILE_OBJECT fo, PCUNICODE_STRING parent,
                               USHORT volume_bytes, PCUNICODE_STRING component,
                               PFILE_NAMES_INFORMATION expand, ULONG expand_bytes,
                               FLT_NORMALIZE_NAME_FLAGS flags, PVOID *context)
{
    (void)instance;
    return normalize_common(fo, parent, volume_bytes, component, expand, expand_bytes, flags,
                            context);
}

static NTSTATUS p_normalize(PFLT_INSTANCE instance, PCUNICODE_STRING parent, USHORT volume_bytes,
                            PCUNICODE_STRING component, PFILE_NAMES_INFORMATION expand,
                            ULONG expand_bytes, FLT_NORMALIZE_NAME_FLAGS flags, PVOID *context)
{
    (void)instance;
    __atomic_fetch_add(&ps.plain_calls, 1, __ATOMIC_SEQ_CST);
    return normalize_common(NULL, parent, volume_bytes, component, expand, expand_bytes, flags,
                            context);
}

static void p_cleanup(PVOID *context)
{
    __atomic_fetch_add(&ps.cleanup_calls, 1, __ATOMIC_SEQ_CST);
    ExFreePoolWithTag(*context, 'xcNP');
    *context = NULL;
}

/* ---- the filters' post-create queries ---- */

static void query_in_post(PFLT_CALLBACK_DATA data, FLT_FILE_NAME_OPTIONS options, NTSTATUS *status,
                          WCHAR *name)
{
    if (options == 0 || !NT_SUCCESS(data->IoStatus.Status))
        return;
    PFLT_FILE_NAME_INFORMATION info = NULL;
    *status = FltGetFileNameInformation(data, options, &info);
    if (info != NULL) {
        copy_ustr(name, 256, &info->Name);
        FltReleaseFileNameInformation(info);
    }
}

static FLT_PREOP_CALLBACK_STATUS n_pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                       PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)objects;
    (void)context;
    struct fixture *f = tf->user;
    if (f->n_pre_options != 0) {
        PFLT_FILE_NAME_INFORMATION info = NULL;
        f->n_pre_status = FltGetFileNameInformation(data, f->n_pre_options, &info);
        if (info != NULL) {
            copy_ustr(f->n_pre_name, 256, &info->Name);
            FltReleaseFileNameInformation(info);
        }
    }
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS n_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                         PCFLT_RELATED_OBJECTS objects, PVOID context,
                                         FLT_POST_OPERATION_FLAGS flags)
{
    (void)objects;
    (void)context;
    (void)flags;
    struct fixture *f = tf->user;
    query_in_post(data, f->n_options, &f->n_status, f->n_name);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static FLT_POSTOP_CALLBACK_STATUS p_post(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                         PCFLT_RELATED_OBJECTS objects, PVOID context,
                                         FLT_POST_OPERATION_FLAGS flags)
{
    (void)objects;
    (void)context;
    (void)flags;
    struct fixture *f = tf->user;
    query_in_post(data, f->p_options, &f->p_status, f->p_name);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static int setup_with(void **state, bool plain_normalize)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    memset(&ps, 0, sizeof(ps));
    tf_reset_all();
    world_create(&f->w, 0);
    ps.sys = f->w.sys;
    tf_init(&f->p, "P", "100000");
    tf_init(&f->n, "N", "200000");
    tf_init(&f->l, "L", "50000");
    tf_only(&f->p, IRP_MJ_CREATE);
    tf_only(&f->n, IRP_MJ_CREATE);
    tf_only(&f->l, IRP_MJ_CREATE);
    f->p.generate_file_name = p_generate;
    if (plain_normalize) {
        f->p.normalize_name_component = p_normalize;
    } else {
        /* both: Vista and later call only the Ex one */
        f->p.normalize_name_component = p_normalize;
        f->p.normalize_name_component_ex = p_normalize_ex;
    }
    f->p.normalize_context_cleanup = p_cleanup;
    f->p.post = p_post;
    f->p.user = f;
    f->n.pre = n_pre;
    f->n.post = n_post;
    f->n.user = f;
    assert_status(tf_load(f->w.sys, &f->l), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->p), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->n), STATUS_SUCCESS);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, false);
}

static int setup_plain(void **state)
{
    return setup_with(state, true);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    world_destroy(&f->w);
    free(f);
    return 0;
}

/* FltGetFileNameInformationUnsafe from who's instance; the name into out. */
static NTSTATUS query(struct fixture *f, struct tf_filter *who, HANDLE h,
                      FLT_FILE_NAME_OPTIONS options, WCHAR *out)
{
    PFLT_FILE_NAME_INFORMATION info = NULL;
    out[0] = 0;
    NTSTATUS status = FltGetFileNameInformationUnsafe(fltsim_io_file_object(f->w.sys, h),
                                                      who->last_instance, options, &info);
    if (info != NULL) {
        copy_ustr(out, 256, &info->Name);
        FltReleaseFileNameInformation(info);
    }
    return status;
}

static NTSTATUS open_close(struct fixture *f, PCWSTR path, UCHAR operation_flags)
{
    struct fltsim_create_params cp = {.path = path,
                                      .desired_access = GENERIC_READ,
                                      .share_access = FILE_SHARE_READ | FILE_SHARE_WRITE,
                                      .disposition = FILE_OPEN,
                                      .create_options = FILE_SYNCHRONOUS_IO_NONALERT,
                                      .operation_flags = operation_flags};
    HANDLE h = NULL;
    IO_STATUS_BLOCK iosb;
    NTSTATUS status = fltsim_io_create(f->w.sys, &cp, &h, &iosb);
    if (NT_SUCCESS(status))
        assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    return status;
}

/* The first report of rule whose message holds text, or fails. */
static void assert_report(struct fixture *f, const char *rule, const char *filter, const char *text)
{
    ULONG n = fltsim_system_report_count(f->w.sys);
    for (ULONG i = 0; i < n; i++) {
        struct fltsim_report r;
        assert_status(fltsim_system_report_get(f->w.sys, i, &r), STATUS_SUCCESS);
        if (strcmp(r.rule, rule) == 0 && strcmp(r.filter, filter) == 0 &&
            strstr(r.message, text) != NULL)
            return;
    }
    print_error("no %s report from %s holding '%s' among %u\n", rule, filter, text, (unsigned)n);
    fail();
}

/* ---- cases ---- */

/* A filter above the provider gets the provider's names, through the
 * callback data and the Unsafe routine; the provider itself saw the name
 * from below; a filter below it gets the file system's. */
static void nameprov_query_from_above_gets_provider_name(void **state)
{
    struct fixture *f = *state;
    WCHAR name[256];
    HANDLE h = world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ);
    assert_status(query(f, &f->n, h, OPENED_DEFAULT, name), STATUS_SUCCESS);
    assert_wide(name, VOL L"\\user\\b.txt");
    assert_wide(ps.lower, VOL L"\\dir\\b.txt");
    assert_false(ps.last_had_data);
    assert_int_equal(ps.last_options, OPENED_DEFAULT);
    assert_status(query(f, &f->n, h, NORMALIZED_DEFAULT, name), STATUS_SUCCESS);
    assert_wide(name, VOL L"\\user\\b.txt");
    assert_int_equal(ps.normalize_calls, 0); /* GenerateFileName gave the normalized name */
    assert_status(query(f, &f->n, h, FLT_FILE_NAME_SHORT | FLT_FILE_NAME_QUERY_DEFAULT, name),
                  STATUS_SUCCESS);
    assert_wide(name, L"b.txt");
    LONG calls = ps.generate_calls;
    assert_int_equal(calls, 3);
    assert_status(query(f, &f->l, h, NORMALIZED_DEFAULT, name), STATUS_SUCCESS);
    assert_wide(name, VOL L"\\dir\\b.txt");
    assert_int_equal(ps.generate_calls, calls); /* L is below P: the file system answered */
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);

    /* Through the callback data in N's post-create: P gets the data and
     * asks below with it. */
    f->n_options = NORMALIZED_DEFAULT;
    ps.lower[0] = 0;
    assert_status(open_close(f, L"C:\\dir\\b.txt", 0), STATUS_SUCCESS);
    assert_status(f->n_status, STATUS_SUCCESS);
    assert_wide(f->n_name, VOL L"\\user\\b.txt");
    assert_true(ps.last_had_data);
    assert_wide(ps.lower, VOL L"\\dir\\b.txt");
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* REQUEST_FROM_CURRENT_PROVIDER: the provider's own query goes to itself;
 * without it, to what is below it. */
static void nameprov_request_from_current_provider_asks_itself(void **state)
{
    struct fixture *f = *state;
    WCHAR name[256];
    HANDLE h = world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ);
    assert_status(query(f, &f->p, h, NORMALIZED_DEFAULT, name), STATUS_SUCCESS);
    assert_wide(name, VOL L"\\dir\\b.txt");
    assert_int_equal(ps.generate_calls, 0);
    assert_status(
        query(f, &f->p, h, OPENED_DEFAULT | FLT_FILE_NAME_REQUEST_FROM_CURRENT_PROVIDER, name),
        STATUS_SUCCESS);
    assert_wide(name, VOL L"\\user\\b.txt");
    assert_int_equal(ps.generate_calls, 1);
    assert_true(ps.last_options & FLT_FILE_NAME_REQUEST_FROM_CURRENT_PROVIDER);
    /* P's cache holds the name from below (its first query): asking itself
     * goes around it */
    assert_status(
        query(f, &f->p, h, NORMALIZED_DEFAULT | FLT_FILE_NAME_REQUEST_FROM_CURRENT_PROVIDER, name),
        STATUS_SUCCESS);
    assert_wide(name, VOL L"\\user\\b.txt");
    assert_int_equal(ps.generate_calls, 2);
    assert_status(query(f, &f->p, h, NORMALIZED_DEFAULT, name), STATUS_SUCCESS);
    assert_wide(name, VOL L"\\dir\\b.txt");
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);

    f->p_options = NORMALIZED_DEFAULT | FLT_FILE_NAME_REQUEST_FROM_CURRENT_PROVIDER;
    assert_status(open_close(f, L"C:\\dir\\b.txt", 0), STATUS_SUCCESS);
    assert_status(f->p_status, STATUS_SUCCESS);
    assert_wide(f->p_name, VOL L"\\user\\b.txt");
    assert_int_equal(ps.generate_calls, 3);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* Windows 8+: a provider failing the normalized name is asked for the opened
 * one, then NormalizeNameComponentEx (not the plain one) once per component,
 * with the parent normalized so far, the volume's length, a buffer grown on
 * STATUS_BUFFER_TOO_SMALL, one context for the whole name, cleaned up once. */
static void nameprov_refused_normalized_falls_back_to_components_ex(void **state)
{
    struct fixture *f = *state;
    ps.mode = GEN_FAIL_NORMALIZED;
    WCHAR name[256];
    HANDLE h = world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ);
    assert_status(query(f, &f->n, h, NORMALIZED_DEFAULT, name), STATUS_SUCCESS);
    assert_wide(name, VOL L"\\User\\b.txt");
    assert_int_equal(ps.generate_calls, 2); /* normalized (refused), then opened */
    assert_int_equal(FltGetFileNameFormat(ps.last_options), FLT_FILE_NAME_OPENED);
    assert_string_equal(ps.calls, "\\Device\\HarddiskVolume1\\|user|0|46;"
                                  "\\Device\\HarddiskVolume1\\User|b.txt|0|46;");
    assert_true(ps.too_small >= 1);
    assert_int_equal(ps.plain_calls, 0);
    assert_ptr_equal(ps.normalize_fo, fltsim_io_file_object(f->w.sys, h));
    assert_int_equal(ps.contexts_made, 1);
    assert_int_equal(ps.last_nth, 2); /* the second component got the first's context */
    assert_int_equal(ps.cleanup_calls, 1);
    /* the opened name is not normalized */
    assert_status(query(f, &f->n, h, OPENED_DEFAULT | FLT_FILE_NAME_DO_NOT_CACHE, name),
                  STATUS_SUCCESS);
    assert_wide(name, VOL L"\\user\\b.txt");
    assert_int_equal(ps.normalize_calls, 2);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);

    /* A case-sensitive create: FLTFL_NORMALIZE_NAME_CASE_SENSITIVE. */
    ps.calls[0] = 0;
    f->n_options = NORMALIZED_DEFAULT;
    assert_status(open_close(f, L"C:\\dir\\b.txt", SL_CASE_SENSITIVE), STATUS_SUCCESS);
    assert_status(f->n_status, STATUS_SUCCESS);
    assert_wide(f->n_name, VOL L"\\User\\b.txt");
    assert_string_equal(ps.calls, "\\Device\\HarddiskVolume1\\|user|1|46;"
                                  "\\Device\\HarddiskVolume1\\User|b.txt|1|46;");
    assert_int_equal(ps.cleanup_calls, 2);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* A provider with only the plain NormalizeNameComponent gets that one. */
static void nameprov_plain_normalize_only_is_called(void **state)
{
    struct fixture *f = *state;
    ps.mode = GEN_FAIL_NORMALIZED;
    WCHAR name[256];
    HANDLE h = world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ);
    assert_status(query(f, &f->n, h, NORMALIZED_DEFAULT, name), STATUS_SUCCESS);
    assert_wide(name, VOL L"\\User\\b.txt");
    assert_int_equal(ps.normalize_calls, 2);
    assert_int_equal(ps.plain_calls, ps.normalize_calls + ps.too_small); /* every call */
    assert_null(ps.normalize_fo);
    assert_int_equal(ps.cleanup_calls, 1);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* In pre-create the provider is asked too (with the create's callback data;
 * its own query below builds the name from the file object), for a file that
 * does not exist yet as well; nothing is cached. */
static void nameprov_pre_create_asks_provider_uncached(void **state)
{
    struct fixture *f = *state;
    ps.cache = TRUE;
    f->n_pre_options = OPENED_DEFAULT;
    assert_status(open_close(f, L"C:\\dir\\b.txt", 0), STATUS_SUCCESS);
    assert_status(f->n_pre_status, STATUS_SUCCESS);
    assert_wide(f->n_pre_name, VOL L"\\user\\b.txt");
    assert_true(ps.last_had_data);
    assert_int_equal(ps.generate_calls, 1);

    f->n_pre_options = NORMALIZED_DEFAULT;
    assert_status(open_close(f, L"C:\\dir\\new.txt", 0), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_status(f->n_pre_status, STATUS_SUCCESS);
    assert_wide(f->n_pre_name, VOL L"\\user\\new.txt");
    assert_wide(ps.lower, VOL L"\\dir\\new.txt");
    assert_int_equal(ps.generate_calls, 2);

    /* not cached in pre-create: the post-create asks the provider again */
    f->n_pre_options = OPENED_DEFAULT;
    f->n_options = OPENED_DEFAULT;
    assert_status(open_close(f, L"C:\\dir\\b.txt", 0), STATUS_SUCCESS);
    assert_status(f->n_status, STATUS_SUCCESS);
    assert_wide(f->n_name, VOL L"\\user\\b.txt");
    assert_int_equal(ps.generate_calls, 4);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* Several threads asking at once: each query's GenerateFileName and
 * NormalizeNameComponentEx calls are its own (one context per name, cleaned
 * up once), and every thread gets the provider's name. */
struct name_worker {
    struct fixture *f;
    int index;
    int failures;
};

static void name_worker_main(void *arg)
{
    struct name_worker *nw = arg;
    struct fixture *f = nw->f;
    for (int round = 0; round < NAME_ROUNDS; round++) {
        HANDLE h = NULL;
        if (!NT_SUCCESS(fltsim_io_open(f->w.sys, L"C:\\dir\\b.txt", GENERIC_READ, &h))) {
            nw->failures++;
            continue;
        }
        PFLT_FILE_NAME_INFORMATION info = NULL;
        UNICODE_STRING want = ustr(VOL L"\\User\\b.txt");
        if (!NT_SUCCESS(FltGetFileNameInformationUnsafe(fltsim_io_file_object(f->w.sys, h),
                                                        f->n.last_instance, NORMALIZED_DEFAULT,
                                                        &info)) ||
            !RtlEqualUnicodeString(&info->Name, &want, FALSE))
            nw->failures++;
        if (info != NULL)
            FltReleaseFileNameInformation(info);
        fltsim_io_close(f->w.sys, h);
    }
}

static void nameprov_threads_at_once_get_own_contexts(void **state)
{
    struct fixture *f = *state;
    assert_status(open_close(f, L"C:\\a.txt", 0), STATUS_SUCCESS); /* N's instance exists */
    ps.mode = GEN_FAIL_NORMALIZED;
    ps.threaded = true;
    struct name_worker workers[NAME_THREADS];
    fltsim_thread *threads[NAME_THREADS];
    for (int i = 0; i < NAME_THREADS; i++) {
        workers[i] = (struct name_worker){f, i, 0};
        assert_status(fltsim_thread_spawn(f->w.sys, 3000 + (ULONG)i, 6000 + (ULONG)i,
                                          name_worker_main, &workers[i], &threads[i]),
                      STATUS_SUCCESS);
    }
    int failures = 0;
    for (int i = 0; i < NAME_THREADS; i++) {
        fltsim_thread_join(threads[i]); /* all of them before any assertion */
        failures += workers[i].failures;
    }
    assert_int_equal(failures, 0);
    const LONG queries = NAME_THREADS * NAME_ROUNDS;
    assert_int_equal(ps.generate_calls, 2 * queries);
    assert_int_equal(ps.normalize_calls, 2 * queries);
    assert_int_equal(ps.contexts_made, queries);
    assert_int_equal(ps.cleanup_calls, queries);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* The caller's cache keeps a provider's name only when the provider said
 * CacheFileNameInformation TRUE and the query allows caching. */
static void nameprov_cache_follows_provider_and_options(void **state)
{
    struct fixture *f = *state;
    const FLT_FILE_NAME_OPTIONS cache_only =
        FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_CACHE_ONLY;
    WCHAR name[256];
    ps.cache = TRUE;
    HANDLE h = world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ);
    assert_status(query(f, &f->n, h, NORMALIZED_DEFAULT, name), STATUS_SUCCESS);
    assert_status(query(f, &f->n, h, NORMALIZED_DEFAULT, name), STATUS_SUCCESS);
    assert_int_equal(ps.generate_calls, 1);
    assert_status(query(f, &f->n, h, cache_only, name), STATUS_SUCCESS);
    assert_wide(name, VOL L"\\user\\b.txt");
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);

    ps.cache = FALSE; /* the provider refuses */
    h = world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ);
    assert_status(query(f, &f->n, h, NORMALIZED_DEFAULT, name), STATUS_SUCCESS);
    assert_status(query(f, &f->n, h, NORMALIZED_DEFAULT, name), STATUS_SUCCESS);
    assert_int_equal(ps.generate_calls, 3);
    assert_status(query(f, &f->n, h, cache_only, name), STATUS_FLT_NAME_CACHE_MISS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);

    ps.cache = TRUE; /* the query refuses */
    h = world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ);
    assert_status(query(f, &f->n, h, NORMALIZED_DEFAULT | FLT_FILE_NAME_DO_NOT_CACHE, name),
                  STATUS_SUCCESS);
    assert_status(
        query(f, &f->n, h, FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_FILESYSTEM_ONLY, name),
        STATUS_SUCCESS);
    assert_wide(name, VOL L"\\user\\b.txt");
    assert_int_equal(ps.generate_calls, 5);
    assert_status(query(f, &f->n, h, cache_only, name), STATUS_FLT_NAME_CACHE_MISS);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* FltCheckAndGrowNameControl: no change when big enough, grows keeping the
 * contents, fails with STATUS_INSUFFICIENT_RESOURCES keeping the old buffer,
 * refuses a control FltMgr did not hand out. */
static void nameprov_grow_name_control_keeps_contents(void **state)
{
    struct fixture *f = *state;
    ps.mode = GEN_GROW_CHECK;
    WCHAR name[256];
    HANDLE h = world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ);
    assert_status(query(f, &f->n, h, OPENED_DEFAULT, name), STATUS_SUCCESS);
    assert_wide(name, VOL L"\\user\\b.txt");
    assert_status(ps.grow_small, STATUS_SUCCESS);
    assert_true(ps.grow_small_same);
    assert_status(ps.grow_big, STATUS_SUCCESS);
    assert_true(ps.grow_big_kept);
    assert_status(ps.grow_fail, STATUS_INSUFFICIENT_RESOURCES);
    assert_true(ps.grow_fail_kept);
    assert_status(ps.grow_foreign, STATUS_INVALID_PARAMETER);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    FLT_NAME_CONTROL outside;
    memset(&outside, 0, sizeof(outside));
    assert_status(FltCheckAndGrowNameControl(&outside, 10), STATUS_INVALID_PARAMETER);
    assert_status(FltCheckAndGrowNameControl(NULL, 10), STATUS_INVALID_PARAMETER);
}

/* A provider whose answer cannot be used: a report naming it and the
 * problem, a failing status, nothing cached, no crash. */
static void nameprov_unusable_answers_are_reported(void **state)
{
    struct fixture *f = *state;
    WCHAR name[256];
    HANDLE h = world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ);
    ps.cache = TRUE;
    ps.mode = GEN_BAD_VOLUME;
    assert_status(query(f, &f->n, h, OPENED_DEFAULT, name), STATUS_OBJECT_NAME_INVALID);
    assert_report(f, "V29", "P",
                  "does not start with the volume's device name \\Device\\HarddiskVolume1");

    ps.mode = GEN_EMPTY;
    assert_status(query(f, &f->n, h, OPENED_DEFAULT, name), STATUS_OBJECT_NAME_INVALID);
    assert_report(f, "V29", "P", "returned success with an empty name");

    ps.mode = GEN_RECURSE;
    assert_status(query(f, &f->n, h, OPENED_DEFAULT, name), STATUS_FLT_INVALID_NAME_REQUEST);
    assert_status(ps.recurse_status, STATUS_FLT_INVALID_NAME_REQUEST);
    assert_report(f, "V29", "P", "asks itself again");
    assert_int_equal(fltsim_system_report_count_rule(f->w.sys, "V29"), 3);
    assert_status(query(f, &f->n, h, FLT_FILE_NAME_OPENED | FLT_FILE_NAME_QUERY_CACHE_ONLY, name),
                  STATUS_FLT_NAME_CACHE_MISS);

    ps.mode = GEN_RAISE; /* the exception ends the callback and fails the query */
    assert_status(query(f, &f->n, h, OPENED_DEFAULT, name), STATUS_ACCESS_VIOLATION);
    assert_report(f, "SEH", "P", "GenerateFileNameCallback");

    ps.mode = GEN_MAP; /* and a good answer afterwards */
    assert_status(query(f, &f->n, h, OPENED_DEFAULT, name), STATUS_SUCCESS);
    assert_wide(name, VOL L"\\user\\b.txt");
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
}

/* FltGetDestinationFileNameInformation: a bare target is in the directory
 * the provider names; a full target's directory is normalized by
 * NormalizeNameComponentEx with FLTFL_NORMALIZE_NAME_DESTINATION_FILE_NAME
 * (its final component stays as given). Below the provider: the file
 * system's names. */
static NTSTATUS destination(struct tf_filter *who, PFILE_OBJECT fo, const WCHAR *target,
                            FLT_FILE_NAME_OPTIONS options, WCHAR *out)
{
    UNICODE_STRING t = ustr(target);
    PFLT_FILE_NAME_INFORMATION info = NULL;
    out[0] = 0;
    NTSTATUS status = FltGetDestinationFileNameInformation(who->last_instance, fo, NULL, t.Buffer,
                                                           t.Length, options, &info);
    if (info != NULL) {
        copy_ustr(out, 256, &info->Name);
        FltReleaseFileNameInformation(info);
    }
    return status;
}

static void nameprov_destination_names_go_through_provider(void **state)
{
    struct fixture *f = *state;
    WCHAR name[256];
    HANDLE h = world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ);
    PFILE_OBJECT fo = fltsim_io_file_object(f->w.sys, h);
    assert_status(destination(&f->n, fo, L"new.txt", NORMALIZED_DEFAULT, name), STATUS_SUCCESS);
    assert_wide(name, VOL L"\\user\\new.txt");
    assert_status(destination(&f->n, fo, L"new.txt", OPENED_DEFAULT, name), STATUS_SUCCESS);
    assert_wide(name, VOL L"\\user\\new.txt");
    assert_int_equal(ps.generate_calls, 2);
    assert_status(destination(&f->n, fo, L"\\??\\C:\\user\\x.txt", OPENED_DEFAULT, name),
                  STATUS_SUCCESS);
    assert_wide(name, VOL L"\\user\\x.txt");
    assert_int_equal(ps.normalize_calls, 0);
    assert_status(destination(&f->n, fo, L"\\??\\C:\\user\\x.txt", NORMALIZED_DEFAULT, name),
                  STATUS_SUCCESS);
    assert_wide(name, VOL L"\\User\\x.txt");
    assert_string_equal(ps.calls, "\\Device\\HarddiskVolume1\\|user|2|46;");
    assert_ptr_equal(ps.normalize_fo, fo);
    assert_int_equal(ps.cleanup_calls, 1);
    assert_status(
        destination(&f->n, fo, L"\\Device\\HarddiskVolume1\\y.txt", NORMALIZED_DEFAULT, name),
        STATUS_SUCCESS);
    assert_wide(name, VOL L"\\y.txt");
    assert_status(destination(&f->n, fo, L"\\??\\D:\\x.txt", NORMALIZED_DEFAULT, name),
                  STATUS_NOT_SAME_DEVICE);
    assert_status(destination(&f->n, fo, L"a\\b.txt", NORMALIZED_DEFAULT, name),
                  STATUS_OBJECT_NAME_INVALID);
    LONG calls = ps.generate_calls;
    assert_status(destination(&f->l, fo, L"new.txt", NORMALIZED_DEFAULT, name), STATUS_SUCCESS);
    assert_wide(name, VOL L"\\dir\\new.txt");
    assert_int_equal(ps.generate_calls, calls);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

/* Stacked providers: N above Q above P. N gets Q's name; Q's own query goes
 * to P (below it), and P's to the file system; a query from between them
 * (P with REQUEST_FROM_CURRENT_PROVIDER) stays at P. */
static void nameprov_stacked_providers_ask_downwards(void **state)
{
    struct fixture *f = *state;
    struct tf_filter *q = &f->q; /* the fixture's: it outlives the case until teardown */
    tf_init(q, "Q", "150000");
    tf_only(q, IRP_MJ_CREATE);
    q->generate_file_name = q_generate;
    q->normalize_name_component_ex = q_normalize_ex;
    assert_status(tf_load(f->w.sys, q), STATUS_SUCCESS);
    q_generate_calls = 0;
    q_lower[0] = 0;
    WCHAR name[256];
    HANDLE h = world_open(&f->w, L"C:\\dir\\b.txt", GENERIC_READ);
    assert_status(query(f, &f->n, h, NORMALIZED_DEFAULT, name), STATUS_SUCCESS);
    assert_wide(name, VOL L"\\view\\b.txt");
    assert_wide(q_lower, VOL L"\\user\\b.txt");
    assert_wide(ps.lower, VOL L"\\dir\\b.txt");
    assert_int_equal(q_generate_calls, 1);
    assert_int_equal(ps.generate_calls, 1);
    assert_status(query(f, &f->n, h, OPENED_DEFAULT, name), STATUS_SUCCESS);
    assert_wide(name, VOL L"\\view\\b.txt");
    assert_status(query(f, q, h, NORMALIZED_DEFAULT, name), STATUS_SUCCESS);
    assert_wide(name, VOL L"\\user\\b.txt");
    assert_status(
        query(f, &f->p, h, OPENED_DEFAULT | FLT_FILE_NAME_REQUEST_FROM_CURRENT_PROVIDER, name),
        STATUS_SUCCESS);
    assert_wide(name, VOL L"\\user\\b.txt");
    assert_int_equal(q_generate_calls, 2);
    assert_status(fltsim_io_close(f->w.sys, h), STATUS_SUCCESS);
    assert_int_equal(fltsim_system_report_count(f->w.sys), 0);
}

struct name_events {
    char text[1024]; /* "filter|detail|name;" per name_query event */
};

static void on_name_event(void *ctx, const struct fltsim_event *ev)
{
    struct name_events *ne = ctx;
    if (ev->type != FLTSIM_EV_NAME_QUERY)
        return;
    char line[400];
    snprintf(line, sizeof(line), "%s|%s|%s;", ev->filter != NULL ? ev->filter : "",
             ev->detail != NULL ? ev->detail : "", ev->name != NULL ? ev->name : "(none)");
    strncat(ne->text, line, sizeof(ne->text) - strlen(ne->text) - 1);
}

/* The name_query event says which provider answered; the provider's own
 * query below it is an event of its own. */
static void nameprov_query_trace_names_provider(void **state)
{
    struct fixture *f = *state;
    struct name_events ne;
    memset(&ne, 0, sizeof(ne));
    fltsim_system_set_trace(f->w.sys, on_name_event, &ne);
    f->n_options = NORMALIZED_DEFAULT;
    assert_status(open_close(f, L"C:\\dir\\b.txt", 0), STATUS_SUCCESS);
    fltsim_system_set_trace(f->w.sys, NULL, NULL);
    assert_string_equal(ne.text, "P|normalized default|\\Device\\HarddiskVolume1\\dir\\b.txt;"
                                 "N|normalized default via P|"
                                 "\\Device\\HarddiskVolume1\\user\\b.txt;");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(nameprov_query_from_above_gets_provider_name, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(nameprov_request_from_current_provider_asks_itself, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(nameprov_refused_normalized_falls_back_to_components_ex,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(nameprov_plain_normalize_only_is_called, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(nameprov_pre_create_asks_provider_uncached, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(nameprov_threads_at_once_get_own_contexts, setup, teardown),
        cmocka_unit_test_setup_teardown(nameprov_cache_follows_provider_and_options, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(nameprov_grow_name_control_keeps_contents, setup, teardown),
        cmocka_unit_test_setup_teardown(nameprov_unusable_answers_are_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(nameprov_destination_names_go_through_provider, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(nameprov_stacked_providers_ask_downwards, setup, teardown),
        cmocka_unit_test_setup_teardown(nameprov_query_trace_names_provider, setup, teardown),
    };
    return fltsim_run_suite("name_provider", tests, sizeof(tests) / sizeof(tests[0]));
}
