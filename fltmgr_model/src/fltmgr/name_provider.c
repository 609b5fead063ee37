/*
 * Name providers (issue 17 item 6): a filter that registers
 * GenerateFileNameCallback answers the name queries of the filters above it
 * on its volume. This file finds the provider below a caller, calls its
 * GenerateFileName with an FLT_NAME_CONTROL (FltCheckAndGrowNameControl
 * grows it), falls back for a normalized name to the opened name and one
 * NormalizeNameComponent(Ex) call per component, and reports (V29) a provider
 * whose answer FltMgr cannot use. filename.c decides when to ask and caches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filename_internal.h"

#define CONTROL_TAG 'cnMF'      /* shows as 'FMnc' */
#define FIRST_CONTROL_BYTES 64u /* small, so that a provider must grow it */
#define MAX_NAME_BYTES 0xfff0u
#define FIRST_EXPAND_BYTES 128u
#define MAX_EXPAND_BYTES 0x10000u

/* One GenerateFileName call running on a thread: the provider's own name
 * queries for fo go below it, and FltCheckAndGrowNameControl knows its
 * control. Kept on the simulated thread (fltsim_tls.name_frames). */
struct name_frame {
    struct name_frame *outer;
    PFLT_INSTANCE provider;
    PFILE_OBJECT fo;
    FLT_NAME_CONTROL control; /* what the provider sees */
    WCHAR *buffer;            /* the buffer FltMgr allocated for control */
    USHORT size;              /* its bytes */
};

/* ------------------------------------------------------------------------- */
/* Finding the provider                                                      */
/* ------------------------------------------------------------------------- */

PFLT_INSTANCE fltsim__name_provider_generating(PFILE_OBJECT fo)
{
    for (struct name_frame *f = fltsim__tls()->name_frames; f != NULL; f = f->outer)
        if (f->fo == fo)
            return f->provider;
    return NULL;
}

PFLT_INSTANCE fltsim__name_provider_below(PFLT_INSTANCE caller, bool include_self)
{
    PFLT_VOLUME volume = caller->volume;
    fltsim_system *sys = volume->sys;
    PFLT_INSTANCE skip = NULL; /* the last candidate that was going away */
    for (;;) {
        PFLT_INSTANCE found = NULL;
        uv_mutex_lock(&sys->lock);
        bool below = false;
        for (PLIST_ENTRY e = volume->instances.Flink; e != &volume->instances; e = e->Flink) {
            PFLT_INSTANCE i = CONTAINING_RECORD(e, struct _FLT_INSTANCE, volume_link);
            if (i == caller) {
                below = true;
                if (!include_self)
                    continue;
            }
            if (!below)
                continue;
            if (skip != NULL) {
                if (i == skip)
                    skip = NULL;
                continue;
            }
            if (i->filter->reg.GenerateFileNameCallback != NULL &&
                __atomic_load_n(&i->state, __ATOMIC_SEQ_CST) == FLTSIM_INSTANCE_ATTACHED) {
                found = i;
                fltsim__instance_ref(found);
                break;
            }
        }
        uv_mutex_unlock(&sys->lock);
        if (found == NULL)
            return NULL;
        /* A rundown reference for the time of the call, as FltMgr holds the
         * provider's instance while it asks it. */
        NTSTATUS status = fltsim__object_reference(found);
        fltsim__instance_unref(found);
        if (NT_SUCCESS(status))
            return found;
        skip = found; /* torn down meanwhile: look further down */
    }
}

void fltsim__name_provider_done(PFLT_INSTANCE provider)
{
    fltsim__object_dereference(provider);
}

/* ------------------------------------------------------------------------- */
/* FltCheckAndGrowNameControl                                                */
/* ------------------------------------------------------------------------- */

NTSTATUS FltCheckAndGrowNameControl(PFLT_NAME_CONTROL NameCtrl, USHORT NewSize)
{
    static const char api[] = "FltCheckAndGrowNameControl";
    fltsim__check_irql(fltsim__tls()->sys, APC_LEVEL, api);
    struct name_frame *f = fltsim__tls()->name_frames;
    while (f != NULL && &f->control != NameCtrl)
        f = f->outer;
    if (f == NULL)
        return fltsim__fail(STATUS_INVALID_PARAMETER,
                            "%s: NameCtrl is not the FLT_NAME_CONTROL of a GenerateFileName "
                            "callback running on this thread",
                            api);
    if (NewSize <= f->size)
        return STATUS_SUCCESS;
    WCHAR *grown = fltsim__pool_allocate_internal(PagedPool, NewSize, CONTROL_TAG, true);
    if (grown == NULL)
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory for %u bytes", api,
                            (unsigned)NewSize);
    /* The contents are kept: what the provider wrote, within the old buffer. */
    USHORT keep = f->control.Name.Length;
    if (keep > f->size)
        keep = f->size;
    memcpy(grown, f->buffer, keep);
    ExFreePoolWithTag(f->buffer, CONTROL_TAG);
    f->buffer = grown;
    f->size = NewSize;
    f->control.Name.Buffer = grown;
    f->control.Name.Length = keep;
    f->control.Name.MaximumLength = NewSize;
    return STATUS_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Calling the provider                                                      */
/* ------------------------------------------------------------------------- */

struct provider_call {
    PFLT_INSTANCE inst;
    const struct fltsim__name_request *rq;
    /* GenerateFileName */
    FLT_FILE_NAME_OPTIONS options;
    BOOLEAN cache;
    struct name_frame *frame;
    /* NormalizeNameComponent(Ex) */
    PCUNICODE_STRING parent, component;
    USHORT volume_bytes;
    PFILE_NAMES_INFORMATION expand;
    ULONG expand_bytes;
    PVOID *context;
    NTSTATUS status;
};

static void generate_thunk(void *p)
{
    struct provider_call *c = p;
    c->status = c->inst->filter->reg.GenerateFileNameCallback(
        c->inst, c->rq->fo, c->rq->data, c->options, &c->cache, &c->frame->control);
}

static void normalize_thunk(void *p)
{
    struct provider_call *c = p;
    const FLT_REGISTRATION *reg = &c->inst->filter->reg;
    FLT_NORMALIZE_NAME_FLAGS flags =
        c->rq->case_sensitive ? FLTFL_NORMALIZE_NAME_CASE_SENSITIVE : 0;
    if (c->rq->destination)
        flags |= FLTFL_NORMALIZE_NAME_DESTINATION_FILE_NAME;
    /* Vista and later call only the Ex routine when both are registered. */
    if (reg->NormalizeNameComponentExCallback != NULL)
        c->status = reg->NormalizeNameComponentExCallback(c->inst, c->rq->fo, c->parent,
                                                          c->volume_bytes, c->component, c->expand,
                                                          c->expand_bytes, flags, c->context);
    else
        c->status =
            reg->NormalizeNameComponentCallback(c->inst, c->parent, c->volume_bytes, c->component,
                                                c->expand, c->expand_bytes, flags, c->context);
}

static void cleanup_thunk(void *p)
{
    struct provider_call *c = p;
    c->inst->filter->reg.NormalizeContextCleanupCallback(c->context);
}

/* Runs one of the provider's callbacks as its code: the operation and post
 * state of the query stay (its own queries are made where the caller's
 * was). An exception it does not handle fails the query. */
static void callout(struct provider_call *c, void (*thunk)(void *), const char *what)
{
    PFLT_INSTANCE inst = c->inst;
    struct fltsim_tls *t = fltsim__tls();
    struct fltsim_callout save;
    fltsim__enter(&save, inst->volume->sys, inst->filter, t->op);
    t->in_post = save.in_post;
    t->callout_what = what + 4; /* named for crash reports: "its X" is X */
    struct fltsim_seh_frame seh;
    if (!fltsim__seh_call(&seh, thunk, c))
        c->status = fltsim__seh_uncaught(&seh, inst->volume->sys, inst->filter, inst, NULL, what,
                                         "fltsim ends the callback and the name query fails");
    fltsim__leave(&save);
}

/* V29 (a name request FltMgr cannot serve; SPEC 10 has no rule of its own for
 * name providers): the provider's answer cannot be used. Returns the status
 * the query fails with. */
static NTSTATUS bad_provider(const struct fltsim__name_request *rq, PFLT_INSTANCE inst,
                             NTSTATUS status, const char *what)
{
    fltsim_system *sys = inst->volume->sys;
    fltsim__report(sys, inst->filter, inst, fltsim__tls()->op, "V29", "7.3",
                   "name provider %s: %s; %s returned 0x%08x", inst->filter->name8, what, rq->api,
                   (unsigned)status);
    return fltsim__fail(status, "%s: name provider %s: %s", rq->api, inst->filter->name8, what);
}

static bool starts_with_volume(const WCHAR *name, size_t units, PCUNICODE_STRING device)
{
    size_t d = device->Length / sizeof(WCHAR);
    if (units < d || (units > d && name[d] != L'\\'))
        return false;
    UNICODE_STRING head = {(USHORT)(d * sizeof(WCHAR)), (USHORT)(d * sizeof(WCHAR)), (PWCH)name};
    return fltsim__ustr_equal_ci(&head, device);
}

/* GenerateFileName for format (with the request's method and flags):
 * *name gets a malloc'd copy of what the provider wrote. */
static NTSTATUS generate(PFLT_INSTANCE inst, const struct fltsim__name_request *rq,
                         FLT_FILE_NAME_OPTIONS format, WCHAR **name, size_t *units, bool *cache)
{
    *name = NULL;
    *units = 0;
    struct name_frame frame;
    memset(&frame, 0, sizeof(frame));
    frame.provider = inst;
    frame.fo = rq->fo;
    frame.size = FIRST_CONTROL_BYTES;
    frame.buffer = fltsim__pool_allocate_internal(PagedPool, frame.size, CONTROL_TAG, true);
    if (frame.buffer == NULL)
        return fltsim__fail(STATUS_INSUFFICIENT_RESOURCES, "%s: out of memory", rq->api);
    frame.control.Name.Buffer = frame.buffer;
    frame.control.Name.MaximumLength = frame.size;

    struct provider_call c = {.inst = inst, .rq = rq, .frame = &frame};
    c.options = (rq->options & ~FLT_VALID_FILE_NAME_FORMATS) | format;
    struct fltsim_tls *t = fltsim__tls();
    frame.outer = t->name_frames;
    t->name_frames = &frame;
    callout(&c, generate_thunk, "its GenerateFileNameCallback");
    t->name_frames = frame.outer;

    NTSTATUS status = c.status;
    const UNICODE_STRING *n = &frame.control.Name;
    if (NT_SUCCESS(status)) {
        /* FltMgr cannot take a name it cannot read or cannot split a volume
         * off: the status FltParseFileNameInformation gives such a name. */
        PCUNICODE_STRING device = &inst->volume->device_name;
        if (n->Buffer != frame.buffer || n->Length > frame.size || n->Length % sizeof(WCHAR))
            status = bad_provider(rq, inst, STATUS_OBJECT_NAME_INVALID,
                                  "GenerateFileNameCallback replaced the FLT_NAME_CONTROL's "
                                  "buffer or set a Length beyond it (only "
                                  "FltCheckAndGrowNameControl may grow it)");
        else if (n->Length == 0)
            status = bad_provider(rq, inst, STATUS_OBJECT_NAME_INVALID,
                                  "GenerateFileNameCallback returned success with an empty name");
        else if (format != FLT_FILE_NAME_SHORT &&
                 !starts_with_volume(n->Buffer, n->Length / sizeof(WCHAR), device)) {
            char want[128];
            fltsim__ustr_to_utf8(device, want, sizeof(want));
            char what[256];
            snprintf(what, sizeof(what),
                     "GenerateFileNameCallback returned a name that does not start with the "
                     "volume's device name %s",
                     want);
            status = bad_provider(rq, inst, STATUS_OBJECT_NAME_INVALID, what);
        }
    }
    if (NT_SUCCESS(status)) {
        *name = malloc(n->Length + sizeof(WCHAR));
        if (*name == NULL)
            status = STATUS_INSUFFICIENT_RESOURCES;
        else {
            memcpy(*name, n->Buffer, n->Length);
            *units = n->Length / sizeof(WCHAR);
            *cache = c.cache != FALSE;
        }
    }
    ExFreePoolWithTag(frame.buffer, CONTROL_TAG);
    return status;
}

/* Appends src (units) to the growing name *out (*used units, *room). */
static bool append(WCHAR **out, size_t *used, size_t *room, const WCHAR *src, size_t units)
{
    if (*used + units + 1 > *room) {
        size_t want = (*used + units + 1) * 2;
        WCHAR *grown = realloc(*out, want * sizeof(WCHAR));
        if (grown == NULL)
            return false;
        *out = grown;
        *room = want;
    }
    memcpy(*out + *used, src, units * sizeof(WCHAR));
    *used += units;
    return true;
}

/* NormalizeNameComponent(Ex) for one component below parent: *expanded
 * (malloc'd) gets the long name the provider gives. */
static NTSTATUS normalize_one(struct provider_call *c, PCUNICODE_STRING parent,
                              PCUNICODE_STRING component, WCHAR **expanded, size_t *units)
{
    const ULONG fixed = (ULONG)offsetof(FILE_NAMES_INFORMATION, FileName);
    for (ULONG size = FIRST_EXPAND_BYTES;; size *= 4) {
        PFILE_NAMES_INFORMATION info = calloc(1, size);
        if (info == NULL)
            return STATUS_INSUFFICIENT_RESOURCES;
        c->parent = parent;
        c->component = component;
        c->expand = info;
        c->expand_bytes = size;
        callout(c, normalize_thunk, "its NormalizeNameComponentCallback");
        NTSTATUS status = c->status;
        if ((status == STATUS_BUFFER_TOO_SMALL || status == STATUS_BUFFER_OVERFLOW) &&
            size < MAX_EXPAND_BYTES) {
            free(info);
            continue;
        }
        if (NT_SUCCESS(status) &&
            (info->FileNameLength == 0 || info->FileNameLength > size - fixed ||
             info->FileNameLength % sizeof(WCHAR)))
            status = bad_provider(c->rq, c->inst, STATUS_OBJECT_NAME_INVALID,
                                  "NormalizeNameComponentCallback returned success with an "
                                  "empty FileName or a FileNameLength beyond its buffer");
        if (NT_SUCCESS(status)) {
            *units = info->FileNameLength / sizeof(WCHAR);
            memmove(info, info->FileName, info->FileNameLength);
            *expanded = (WCHAR *)info;
        } else {
            free(info);
        }
        return status;
    }
}

/* The normalized form of the opened name (units, with the volume): each
 * component after the volume through NormalizeNameComponent(Ex), the parent
 * normalized so far, one NormalizationContext for the whole name. */
static NTSTATUS normalize_components(PFLT_INSTANCE inst, const struct fltsim__name_request *rq,
                                     const WCHAR *opened, size_t units, WCHAR **out,
                                     size_t *out_units)
{
    PCUNICODE_STRING device = &inst->volume->device_name;
    size_t d = device->Length / sizeof(WCHAR);
    size_t used = 0, room = 0;
    WCHAR *norm = NULL;
    static const WCHAR sep = L'\\';
    if (!append(&norm, &used, &room, opened, d) || !append(&norm, &used, &room, &sep, 1)) {
        free(norm);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    PVOID context = NULL;
    struct provider_call c = {
        .inst = inst, .rq = rq, .volume_bytes = (USHORT)device->Length, .context = &context};
    NTSTATUS status = STATUS_SUCCESS;
    size_t at = d;
    while (at < units && NT_SUCCESS(status)) {
        while (at < units && opened[at] == L'\\')
            at++;
        size_t end = at;
        while (end < units && opened[end] != L'\\')
            end++;
        if (end == at)
            break;
        /* A stream suffix stays as it is; the file's name is normalized. */
        size_t name_end = end;
        if (end == units)
            for (size_t i = at; i < end; i++)
                if (opened[i] == L':') {
                    name_end = i;
                    break;
                }
        UNICODE_STRING parent = {(USHORT)(used * sizeof(WCHAR)), (USHORT)(used * sizeof(WCHAR)),
                                 norm};
        if (used > d + 1)
            parent.Length = parent.MaximumLength = (USHORT)((used - 1) * sizeof(WCHAR));
        UNICODE_STRING component = {(USHORT)((name_end - at) * sizeof(WCHAR)),
                                    (USHORT)((name_end - at) * sizeof(WCHAR)), (PWCH)opened + at};
        WCHAR *expanded = NULL;
        size_t got = 0;
        status = normalize_one(&c, &parent, &component, &expanded, &got);
        if (NT_SUCCESS(status)) {
            bool ok = append(&norm, &used, &room, expanded, got) &&
                      append(&norm, &used, &room, opened + name_end, end - name_end) &&
                      (end == units || append(&norm, &used, &room, &sep, 1));
            free(expanded);
            if (!ok)
                status = STATUS_INSUFFICIENT_RESOURCES;
        }
        at = end;
    }
    if (context != NULL && inst->filter->reg.NormalizeContextCleanupCallback != NULL)
        callout(&c, cleanup_thunk, "its NormalizeContextCleanupCallback");
    if (!NT_SUCCESS(status)) {
        free(norm);
        return status;
    }
    if (used > d + 1 && norm[used - 1] == L'\\')
        used--; /* the opened name ended with a separator */
    *out = norm;
    *out_units = used;
    return STATUS_SUCCESS;
}

NTSTATUS fltsim__name_provider_ask(PFLT_INSTANCE provider, const struct fltsim__name_request *rq,
                                   WCHAR **name, size_t *units, bool *cache)
{
    *cache = false;
    FLT_FILE_NAME_OPTIONS format = FltGetFileNameFormat(rq->options);
    NTSTATUS status = generate(provider, rq, format, name, units, cache);
    if (format != FLT_FILE_NAME_NORMALIZED || NT_SUCCESS(status))
        return status;
    /* Windows 8 and later ask for the normalized name first; a provider that
     * fails it (STATUS_NOT_SUPPORTED: it normalizes by components) is asked
     * for the opened name, normalized one component at a time. */
    WCHAR *opened;
    size_t opened_units;
    status = generate(provider, rq, FLT_FILE_NAME_OPENED, &opened, &opened_units, cache);
    if (!NT_SUCCESS(status))
        return status;
    status = normalize_components(provider, rq, opened, opened_units, name, units);
    free(opened);
    if (!NT_SUCCESS(status))
        *cache = false;
    return status;
}

NTSTATUS fltsim__name_provider_destination(PFLT_INSTANCE provider,
                                           const struct fltsim__name_request *rq,
                                           const WCHAR *target, size_t units, bool bare,
                                           WCHAR **name, size_t *out_units)
{
    *name = NULL;
    *out_units = 0;
    PCUNICODE_STRING device = &provider->volume->device_name;
    size_t d = device->Length / sizeof(WCHAR);
    WCHAR *dir = NULL; /* the target's directory, with the volume */
    size_t dir_units = 0;
    const WCHAR *final = target;
    size_t final_units = units;
    NTSTATUS status;
    if (bare) {
        /* In the directory the file is in: its name as the provider gives
         * it, in the format asked for. A destination is never cached. */
        struct fltsim__name_request source = *rq;
        source.destination = false;
        bool cache;
        status = fltsim__name_provider_ask(provider, &source, &dir, &dir_units, &cache);
        if (!NT_SUCCESS(status))
            return status;
        while (dir_units > d + 1 && dir[dir_units - 1] != L'\\')
            dir_units--;
    } else {
        /* A path on the volume: its directory as given (opened), or each of
         * its components through NormalizeNameComponent(Ex) with
         * FLTFL_NORMALIZE_NAME_DESTINATION_FILE_NAME; the final component
         * stays as given (it need not exist). */
        size_t last = units;
        while (last > 0 && target[last - 1] != L'\\')
            last--;
        final = target + last;
        final_units = units - last;
        size_t parent_units = last > 1 ? last - 1 : last;
        size_t room = 0;
        WCHAR *opened = NULL;
        size_t opened_units = 0;
        if (!append(&opened, &opened_units, &room, device->Buffer, d) ||
            !append(&opened, &opened_units, &room, target, parent_units)) {
            free(opened);
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        if (FltGetFileNameFormat(rq->options) == FLT_FILE_NAME_NORMALIZED) {
            struct fltsim__name_request dest = *rq;
            dest.destination = true;
            status = normalize_components(provider, &dest, opened, opened_units, &dir, &dir_units);
            free(opened);
            if (!NT_SUCCESS(status))
                return status;
        } else {
            dir = opened;
            dir_units = opened_units;
        }
    }
    size_t room = dir_units;
    static const WCHAR sep = L'\\';
    bool ok =
        (dir_units > 0 && dir[dir_units - 1] == L'\\') || append(&dir, &dir_units, &room, &sep, 1);
    ok = ok && append(&dir, &dir_units, &room, final, final_units);
    if (!ok) {
        free(dir);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    *name = dir;
    *out_units = dir_units;
    return STATUS_SUCCESS;
}
