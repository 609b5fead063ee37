/*
 * PRIVATE to the suites of files a filter opens itself (test_filter_create.c,
 * test_zw_file.c): three test filters, U (300000), M (200000, the one that
 * opens) and L (100000), each counting what it sees of \dir\b.txt; M runs a
 * test's action from its pre-create of a create of C:\go.txt, so the
 * action's calls run as filter code would; the object attributes of b.txt,
 * and the helpers both suites use. Static inline: the short names mean other
 * things in other suites.
 */
#ifndef FLTSIM_FILTER_CREATE_FX_H
#define FLTSIM_FILTER_CREATE_FX_H

#include <stdlib.h>
#include <string.h>

#include "fltsim_test.h"

/* What a filter saw of the operations on \dir\b.txt. */
struct seen {
    LONG creates, cleanups, closes, reads, queries, sets;
    ULONG create_flags;    /* Data->Flags of the last create */
    UCHAR create_op_flags; /* Iopb->OperationFlags of the last create */
    KPROCESSOR_MODE create_mode;
};

struct fixture;
typedef void (*action_fn)(struct fixture *f, PCFLT_RELATED_OBJECTS objects);

struct fixture {
    struct test_world w;
    struct tf_filter u, m, l;
    struct tf_filter n; /* loaded by a test; it lives until teardown */
    struct seen su, sm, sl;
    action_fn action;
    /* what the action found */
    NTSTATUS status, status2;
    HANDLE handle;
    PFILE_OBJECT fo;
    IO_STATUS_BLOCK iosb;
    char got[32];
    ULONG bytes;
};

static inline bool names_b(PFILE_OBJECT fo)
{
    static const WCHAR want[] = L"b.txt";
    size_t n = fo->FileName.Length / sizeof(WCHAR), w = 5;
    return fo->FileName.Buffer != NULL && n >= w &&
           memcmp(fo->FileName.Buffer + n - w, want, w * sizeof(WCHAR)) == 0;
}

static inline bool names_go(PFILE_OBJECT fo)
{
    static const WCHAR want[] = L"go.txt";
    size_t n = fo->FileName.Length / sizeof(WCHAR), w = 6;
    return fo->FileName.Buffer != NULL && n >= w &&
           memcmp(fo->FileName.Buffer + n - w, want, w * sizeof(WCHAR)) == 0;
}

static inline void count(struct seen *s, PFLT_CALLBACK_DATA data)
{
    switch (data->Iopb->MajorFunction) {
    case IRP_MJ_CREATE:
        s->creates++;
        s->create_flags = data->Flags;
        s->create_op_flags = data->Iopb->OperationFlags;
        s->create_mode = data->RequestorMode;
        break;
    case IRP_MJ_CLEANUP:
        s->cleanups++;
        break;
    case IRP_MJ_CLOSE:
        s->closes++;
        break;
    case IRP_MJ_READ:
        s->reads++;
        break;
    case IRP_MJ_QUERY_INFORMATION:
        s->queries++;
        break;
    case IRP_MJ_SET_INFORMATION:
        s->sets++;
        break;
    default:
        break;
    }
}

static struct fixture *the_fixture;

static inline FLT_PREOP_CALLBACK_STATUS pre(struct tf_filter *tf, PFLT_CALLBACK_DATA data,
                                            PCFLT_RELATED_OBJECTS objects, PVOID *context)
{
    (void)context;
    struct fixture *f = the_fixture;
    PFILE_OBJECT fo = data->Iopb->TargetFileObject;
    if (fo != NULL && names_b(fo))
        count(tf->user, data);
    if (tf == &f->m && data->Iopb->MajorFunction == IRP_MJ_CREATE && fo != NULL && names_go(fo) &&
        f->action != NULL) {
        action_fn act = f->action;
        f->action = NULL; /* once */
        act(f, objects);
    }
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static inline void all_ops(struct tf_filter *tf)
{
    tf_only(tf, IRP_MJ_CREATE);
    static const UCHAR more[] = {IRP_MJ_CLEANUP, IRP_MJ_CLOSE, IRP_MJ_READ,
                                 IRP_MJ_QUERY_INFORMATION, IRP_MJ_SET_INFORMATION};
    for (size_t i = 0; i < sizeof(more); i++)
        tf->ops[more[i]].pre = tf->ops[more[i]].post = true;
    tf->pre = pre;
}

static inline int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    the_fixture = f;
    world_create(&f->w, 0);
    tf_init(&f->u, "U", "300000");
    tf_init(&f->m, "M", "200000");
    tf_init(&f->l, "L", "100000");
    all_ops(&f->u);
    all_ops(&f->m);
    all_ops(&f->l);
    f->u.user = &f->su;
    f->m.user = &f->sm;
    f->l.user = &f->sl;
    assert_status(tf_load(f->w.sys, &f->u), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->m), STATUS_SUCCESS);
    assert_status(tf_load(f->w.sys, &f->l), STATUS_SUCCESS);
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    struct fixture *f = *state;
    world_destroy(&f->w);
    the_fixture = NULL;
    free(f);
    return 0;
}

/* Runs act as M's code: from its pre-create of C:\go.txt (not found). */
static inline void run_as_m(struct fixture *f, action_fn act)
{
    f->action = act;
    HANDLE h = NULL;
    assert_status(fltsim_io_open(f->w.sys, L"C:\\go.txt", GENERIC_READ, &h),
                  STATUS_OBJECT_NAME_NOT_FOUND);
    assert_null(f->action); /* it ran */
}

static inline void assert_one_report(struct fixture *f, const char *rule, const char *text)
{
    assert_int_equal(fltsim_system_report_count(f->w.sys), 1);
    struct fltsim_report r;
    assert_status(fltsim_system_report_get(f->w.sys, 0, &r), STATUS_SUCCESS);
    assert_string_equal(r.rule, rule);
    if (strstr(r.message, text) == NULL)
        fail_msg("report '%s' does not mention '%s'", r.message, text);
    fltsim_system_reports_clear(f->w.sys);
}

static UNICODE_STRING b_name;
static OBJECT_ATTRIBUTES b_attributes;

static inline POBJECT_ATTRIBUTES b_oa(void)
{
    RtlInitUnicodeString(&b_name, L"\\??\\C:\\dir\\b.txt");
    InitializeObjectAttributes(&b_attributes, &b_name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
                               NULL, NULL);
    return &b_attributes;
}

/* FltCreateFileEx of \dir\b.txt below M's instance (or at the top), for
 * synchronous reading. */
static inline NTSTATUS open_b(struct fixture *f, PFLT_INSTANCE inst, ULONG share, ULONG flags,
                              PFILE_OBJECT *fo)
{
    return FltCreateFileEx(f->m.filter, inst, &f->handle, fo, GENERIC_READ | SYNCHRONIZE, b_oa(),
                           &f->iosb, NULL, FILE_ATTRIBUTE_NORMAL, share, FILE_OPEN,
                           FILE_SYNCHRONOUS_IO_NONALERT | FILE_NON_DIRECTORY_FILE, NULL, 0, flags);
}

static inline void act_close(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    (void)objects;
    f->status = FltClose(f->handle);
}

static inline void act_close_twice(struct fixture *f, PCFLT_RELATED_OBJECTS objects)
{
    (void)objects;
    f->status = FltClose(f->handle);
    f->status2 = FltClose(f->handle);
}

#endif /* FLTSIM_FILTER_CREATE_FX_H */
