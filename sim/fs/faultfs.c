/*
 * faultfs (fltsim/faultfs.h): the fault-injecting wrapper around another file
 * system. This file owns the rules, the operation counter and the
 * asynchronous and delayed completions; the inner file system does the real
 * work, and the model's fault ledger (fltsim_fault_point_reach) sees every
 * operation as a point.
 */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <fltsim/faultfs.h>


struct ffs_rule {
    struct fltsim_faultfs_rule def; /* def.path unused: see pattern */
    UNICODE_STRING pattern;         /* upcased expression; Buffer NULL = any name */
    ULONG64 matched;
};

struct fltsim_faultfs {
    fltsim_system *sys;
    const struct fltsim_fs_ops *inner_ops;
    void *inner_fs;
    uv_mutex_t lock; /* rules, counters */
    struct ffs_rule *rules;
    size_t rule_count;
    ULONG64 ops, failed;
};

/* What to do with one operation. */
struct ffs_action {
    NTSTATUS status; /* STATUS_SUCCESS: pass to the inner file system */
    bool async;
    ULONG delay_ms;
};

NTSTATUS fltsim_faultfs_create(fltsim_system *sys, const struct fltsim_fs_ops *inner_ops,
                               void *inner_fs, struct fltsim_faultfs **out)
{
    if (out != NULL)
        *out = NULL;
    if (sys == NULL || inner_ops == NULL || inner_ops->irp_cb == NULL || out == NULL)
        return fltsim_last_error_set(
            STATUS_INVALID_PARAMETER,
            "fltsim_faultfs_create: sys, inner_ops with irp_cb and out are "
            "required");
    struct fltsim_faultfs *ffs = calloc(1, sizeof(*ffs));
    if (ffs == NULL)
        return fltsim_last_error_set(STATUS_INSUFFICIENT_RESOURCES,
                                     "fltsim_faultfs_create: out of memory");
    if (uv_mutex_init(&ffs->lock) != 0) {
        free(ffs);
        return fltsim_last_error_set(STATUS_INSUFFICIENT_RESOURCES,
                                     "fltsim_faultfs_create: no lock");
    }
    ffs->sys = sys;
    ffs->inner_ops = inner_ops;
    ffs->inner_fs = inner_fs;
    *out = ffs;
    return STATUS_SUCCESS;
}

void fltsim_faultfs_destroy(struct fltsim_faultfs *ffs)
{
    if (ffs == NULL)
        return;
    if (ffs->inner_ops->release_cb != NULL)
        ffs->inner_ops->release_cb(ffs->inner_fs);
    for (size_t i = 0; i < ffs->rule_count; i++)
        free(ffs->rules[i].pattern.Buffer);
    free(ffs->rules);
    uv_mutex_destroy(&ffs->lock);
    free(ffs);
}

NTSTATUS fltsim_faultfs_add_rule(struct fltsim_faultfs *ffs, const struct fltsim_faultfs_rule *rule)
{
    static const char api[] = "fltsim_faultfs_add_rule";
    if (ffs == NULL || rule == NULL)
        return fltsim_last_error_set(STATUS_INVALID_PARAMETER, "%s: ffs and rule are required",
                                     api);
    if (rule->major < -1 || rule->major > IRP_MJ_MAXIMUM_FUNCTION)
        return fltsim_last_error_set(STATUS_INVALID_PARAMETER,
                                     "%s: major %d is not an IRP_MJ_* code (or -1 for any)", api,
                                     rule->major);
    if (NT_SUCCESS(rule->status) && rule->status != STATUS_SUCCESS)
        return fltsim_last_error_set(
            STATUS_INVALID_PARAMETER,
            "%s: status 0x%08X is a success status; give a warning or error "
            "status, or STATUS_SUCCESS for no failure",
            api, (unsigned)rule->status);
    if (rule->status == STATUS_SUCCESS && !rule->async && rule->delay_ms == 0)
        return fltsim_last_error_set(
            STATUS_INVALID_PARAMETER,
            "%s: the rule does nothing (no failure status, not async, no delay)", api);
    struct ffs_rule r;
    memset(&r, 0, sizeof(r));
    r.def = *rule;
    r.def.path = NULL;
    if (rule->path != NULL) {
        size_t cap = strlen(rule->path) + 1;
        if (cap > 32767)
            return fltsim_last_error_set(STATUS_INVALID_PARAMETER, "%s: path is too long", api);
        WCHAR *w = malloc(cap * sizeof(WCHAR));
        if (w == NULL)
            return fltsim_last_error_set(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", api);
        size_t n = fltsim_utf8_to_utf16(rule->path, w, cap);
        if (n == (size_t)-1) {
            free(w);
            return fltsim_last_error_set(STATUS_INVALID_PARAMETER,
                                         "%s: path '%s' is not valid UTF-8", api, rule->path);
        }
        /* FsRtlIsNameInExpression wants an upcased expression when it
         * ignores case. */
        for (size_t i = 0; i < n; i++)
            w[i] = RtlUpcaseUnicodeChar(w[i]);
        r.pattern.Buffer = w;
        r.pattern.Length = (USHORT)(n * sizeof(WCHAR));
        r.pattern.MaximumLength = r.pattern.Length;
    }
    uv_mutex_lock(&ffs->lock);
    struct ffs_rule *grown = realloc(ffs->rules, (ffs->rule_count + 1) * sizeof(*grown));
    if (grown == NULL) {
        uv_mutex_unlock(&ffs->lock);
        free(r.pattern.Buffer);
        return fltsim_last_error_set(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", api);
    }
    ffs->rules = grown;
    ffs->rules[ffs->rule_count++] = r;
    uv_mutex_unlock(&ffs->lock);
    return STATUS_SUCCESS;
}

ULONG64 fltsim_faultfs_op_count(struct fltsim_faultfs *ffs)
{
    uv_mutex_lock(&ffs->lock);
    ULONG64 n = ffs->ops;
    uv_mutex_unlock(&ffs->lock);
    return n;
}

ULONG64 fltsim_faultfs_failed_count(struct fltsim_faultfs *ffs)
{
    uv_mutex_lock(&ffs->lock);
    ULONG64 n = ffs->failed;
    uv_mutex_unlock(&ffs->lock);
    return n;
}

void *fltsim_faultfs_inner(struct fltsim_faultfs *ffs)
{
    return ffs->inner_fs;
}

/* ffs->lock held. */
static bool rule_matches(struct ffs_rule *r, UCHAR major, PFILE_OBJECT fo)
{
    if (r->def.major != -1 && r->def.major != major)
        return false;
    if (r->pattern.Buffer != NULL) {
        UNICODE_STRING empty = {0, 0, NULL};
        PUNICODE_STRING name = fo != NULL ? &fo->FileName : &empty;
        if (!FsRtlIsNameInExpression(&r->pattern, name, TRUE, NULL))
            return false;
    }
    r->matched++;
    return r->def.nth == 0 || r->matched == r->def.nth;
}

/* Counts the operation and decides its fate: the system's fault rules first
 * (the point is always recorded), then this wrapper's. */
static struct ffs_action decide(struct fltsim_faultfs *ffs, PFLT_CALLBACK_DATA data)
{
    struct ffs_action a = {STATUS_SUCCESS, false, 0};
    UCHAR major = data->Iopb->MajorFunction;
    NTSTATUS sys_status = STATUS_SUCCESS;
    bool sys_fault = fltsim_fault_point_reach(ffs->sys, FLTSIM_FAULT_FS, major, &sys_status);
    uv_mutex_lock(&ffs->lock);
    ffs->ops++;
    bool decided = false;
    if (sys_fault) {
        a.status = sys_status;
        decided = true;
    }
    /* Every rule counts the operations it matches, also once one decided. */
    for (size_t i = 0; i < ffs->rule_count; i++) {
        struct ffs_rule *r = &ffs->rules[i];
        if (rule_matches(r, major, data->Iopb->TargetFileObject) && !decided) {
            a.status = r->def.status;
            a.async = r->def.async;
            a.delay_ms = r->def.delay_ms;
            decided = true;
        }
    }
    if (major == IRP_MJ_CLOSE)
        a.status = STATUS_SUCCESS; /* close cannot fail */
    if (!NT_SUCCESS(a.status))
        ffs->failed++;
    uv_mutex_unlock(&ffs->lock);
    return a;
}

static void delay(ULONG ms)
{
    if (ms == 0)
        return;
    LARGE_INTEGER interval;
    interval.QuadPart = -(LONGLONG)ms * 10000; /* relative, 100 ns units */
    KeDelayExecutionThread(KernelMode, FALSE, &interval);
}

/* Runs the operation now (inner file system or the failure). Returns what
 * the inner file system returned, STATUS_PENDING included. */
static NTSTATUS perform(struct fltsim_faultfs *ffs, PFLT_CALLBACK_DATA data, NTSTATUS fail)
{
    if (!NT_SUCCESS(fail)) {
        data->IoStatus.Status = fail;
        data->IoStatus.Information = 0;
        return fail;
    }
    return ffs->inner_ops->irp_cb(ffs->inner_fs, data);
}

struct ffs_async {
    struct fltsim_faultfs *ffs;
    PFLT_CALLBACK_DATA data;
    struct ffs_action action;
};

/* On a system worker: the file system finishes the request later. */
static void async_run(void *ctx)
{
    struct ffs_async *w = ctx;
    struct fltsim_faultfs *ffs = w->ffs;
    PFLT_CALLBACK_DATA data = w->data;
    struct ffs_action a = w->action;
    free(w);
    delay(a.delay_ms);
    /* When the inner file system pends too, it completes the request itself. */
    if (perform(ffs, data, a.status) != STATUS_PENDING)
        fltsim_fs_complete(data);
}

static NTSTATUS faultfs_irp(void *fs, PFLT_CALLBACK_DATA data)
{
    struct fltsim_faultfs *ffs = fs;
    struct ffs_action a = decide(ffs, data);
    if (a.async) {
        struct ffs_async *w = malloc(sizeof(*w));
        if (w != NULL) {
            w->ffs = ffs;
            w->data = data;
            w->action = a;
            if (NT_SUCCESS(fltsim_system_post_work(ffs->sys, async_run, w)))
                return STATUS_PENDING;
            free(w);
        }
        /* Nothing to run it on: it completes synchronously instead. */
    }
    delay(a.delay_ms);
    return perform(ffs, data, a.status);
}

static BOOLEAN faultfs_fast_io(void *fs, PFLT_CALLBACK_DATA data)
{
    struct fltsim_faultfs *ffs = fs;
    struct ffs_action a = decide(ffs, data);
    delay(a.delay_ms);
    if (!NT_SUCCESS(a.status) || ffs->inner_ops->fast_io_cb == NULL)
        return FALSE; /* fast I/O fails by declining: the I/O manager sends an IRP */
    return ffs->inner_ops->fast_io_cb(ffs->inner_fs, data);
}

static NTSTATUS faultfs_fs_filter(void *fs, PFLT_CALLBACK_DATA data)
{
    struct fltsim_faultfs *ffs = fs;
    if (ffs->inner_ops->fs_filter_cb != NULL)
        return ffs->inner_ops->fs_filter_cb(ffs->inner_fs, data);
    data->IoStatus.Status = STATUS_SUCCESS;
    data->IoStatus.Information = 0;
    return STATUS_SUCCESS;
}

static void faultfs_release(void *fs)
{
    fltsim_faultfs_destroy(fs);
}

const struct fltsim_fs_ops fltsim_faultfs_ops = {
    .name = "faultfs",
    .irp_cb = faultfs_irp,
    .fast_io_cb = faultfs_fast_io,
    .fs_filter_cb = faultfs_fs_filter,
    .release_cb = faultfs_release,
};
