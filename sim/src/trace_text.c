/*
 * The text trace sink (fltsim/trace_text.h). Operations print as a tree: the
 * pre callbacks going down, the file system at the bottom, the posts coming
 * back up, each with the status it returned.
 */
#include <string.h>

#include "fltsim/trace_text.h"

static const char *kind_name(enum fltsim_op_kind kind)
{
    switch (kind) {
    case FLTSIM_OP_IRP:
        return "IRP";
    case FLTSIM_OP_FAST_IO:
        return "fast I/O";
    case FLTSIM_OP_FS_FILTER:
        return "FS filter";
    }
    return "?";
}

static void indent(FILE *out, ULONG depth)
{
    for (ULONG i = 0; i < depth + 1; i++)
        fputs("  ", out);
}

static void suffix(const struct fltsim_trace_text *t, const struct fltsim_event *ev)
{
    if (t->show_threads)
        fprintf(t->out, "   [thread %u, IRQL %u]", (unsigned)ev->thread_id, (unsigned)ev->irql);
    fputc('\n', t->out);
}

static void setup_flags(FILE *out, ULONG flags)
{
    const char *sep = "";
    if (flags & FLTFL_INSTANCE_SETUP_AUTOMATIC_ATTACHMENT) {
        fprintf(out, "%sautomatic", sep);
        sep = "|";
    }
    if (flags & FLTFL_INSTANCE_SETUP_MANUAL_ATTACHMENT) {
        fprintf(out, "%smanual", sep);
        sep = "|";
    }
    if (flags & FLTFL_INSTANCE_SETUP_NEWLY_MOUNTED_VOLUME)
        fprintf(out, "%snewly mounted", sep);
}

static const char *teardown_reason(ULONG reason)
{
    switch (reason) {
    case FLTFL_INSTANCE_TEARDOWN_MANUAL:
        return "manual detach";
    case FLTFL_INSTANCE_TEARDOWN_FILTER_UNLOAD:
        return "filter unload";
    case FLTFL_INSTANCE_TEARDOWN_MANDATORY_FILTER_UNLOAD:
        return "mandatory filter unload";
    case FLTFL_INSTANCE_TEARDOWN_VOLUME_DISMOUNT:
        return "volume dismount";
    case FLTFL_INSTANCE_TEARDOWN_INTERNAL_ERROR:
        return "internal error";
    }
    return "?";
}

void fltsim_trace_text_cb(void *ctx, const struct fltsim_event *ev)
{
    const struct fltsim_trace_text *t = ctx;
    FILE *out = t->out;
    char st[64];
    const char *name;
    switch (ev->type) {
    case FLTSIM_EV_IO_START:
        name = fltsim_major_name(ev->major);
        fprintf(out, "#%llu %s %s %s", (unsigned long long)ev->op_id, kind_name(ev->kind),
                name ? name : "?", ev->detail ? ev->detail : "");
        suffix(t, ev);
        break;
    case FLTSIM_EV_IO_COMPLETE:
        fprintf(out, "  = %s, information %llu\n",
                fltsim_ntstatus_format(ev->status, st, sizeof(st)),
                (unsigned long long)ev->information);
        break;
    case FLTSIM_EV_PRE:
        indent(out, ev->depth);
        fprintf(out, "-> %s (%s) pre", ev->filter, ev->altitude);
        suffix(t, ev);
        break;
    case FLTSIM_EV_PRE_RETURN:
        indent(out, ev->depth);
        name = fltsim_preop_status_name((FLT_PREOP_CALLBACK_STATUS)ev->status);
        fprintf(out, "<- %s\n", name ? name : "(invalid status)");
        break;
    case FLTSIM_EV_POST:
        indent(out, ev->depth);
        fprintf(out, "-> %s (%s) post", ev->filter, ev->altitude);
        suffix(t, ev);
        break;
    case FLTSIM_EV_POST_RETURN:
        indent(out, ev->depth);
        name = fltsim_postop_status_name((FLT_POSTOP_CALLBACK_STATUS)ev->status);
        fprintf(out, "<- %s\n", name ? name : "(invalid status)");
        break;
    case FLTSIM_EV_FS:
        indent(out, ev->depth);
        fputs("-> file system", out);
        suffix(t, ev);
        break;
    case FLTSIM_EV_FS_RETURN:
        indent(out, ev->depth);
        fprintf(out, "<- file system: %s, information %llu\n",
                fltsim_ntstatus_format(ev->status, st, sizeof(st)),
                (unsigned long long)ev->information);
        break;
    case FLTSIM_EV_INSTANCE_SETUP:
        fprintf(out, "[setup] %s instance '%s' at %s on %s (", ev->filter, ev->instance,
                ev->altitude, ev->volume);
        setup_flags(out, ev->flags);
        fprintf(out, "): %s%s%s\n", fltsim_ntstatus_format(ev->status, st, sizeof(st)),
                ev->detail ? " - " : "", ev->detail ? ev->detail : "");
        break;
    case FLTSIM_EV_QUERY_TEARDOWN:
        fprintf(out, "[query teardown] %s instance '%s': %s\n", ev->filter, ev->instance,
                fltsim_ntstatus_format(ev->status, st, sizeof(st)));
        break;
    case FLTSIM_EV_TEARDOWN_START:
        fprintf(out, "[teardown start] %s instance '%s' on %s (%s)\n", ev->filter, ev->instance,
                ev->volume, teardown_reason(ev->flags));
        break;
    case FLTSIM_EV_TEARDOWN_COMPLETE:
        fprintf(out, "[teardown complete] %s instance '%s' on %s\n", ev->filter, ev->instance,
                ev->volume);
        break;
    case FLTSIM_EV_FILTER_UNLOAD:
        fprintf(out, "[unload] %s%s: %s\n", ev->filter, (ev->flags & 1) ? " (mandatory)" : "",
                fltsim_ntstatus_format(ev->status, st, sizeof(st)));
        break;
    case FLTSIM_EV_PEND:
        indent(out, ev->depth);
        fprintf(out, ".. #%llu pended in %s by %s", (unsigned long long)ev->op_id,
                ev->flags ? "post" : "pre", ev->filter);
        suffix(t, ev);
        break;
    case FLTSIM_EV_RESUME:
        indent(out, ev->depth);
        if (ev->flags)
            fprintf(out, ".. #%llu resumed after %s's post (%s)", (unsigned long long)ev->op_id,
                    ev->filter, fltsim_ntstatus_format(ev->status, st, sizeof(st)));
        else {
            name = fltsim_preop_status_name((FLT_PREOP_CALLBACK_STATUS)ev->status);
            fprintf(out, ".. #%llu resumed after %s's pre as %s", (unsigned long long)ev->op_id,
                    ev->filter, name ? name : "(invalid status)");
        }
        suffix(t, ev);
        break;
    case FLTSIM_EV_WORK_QUEUED:
        fprintf(out, "[work] %s queues a %s work item", ev->filter ? ev->filter : "?",
                ev->detail ? ev->detail : "");
        if (ev->op_id != 0)
            fprintf(out, " for #%llu", (unsigned long long)ev->op_id);
        fprintf(out, ": %s", fltsim_ntstatus_format(ev->status, st, sizeof(st)));
        suffix(t, ev);
        break;
    case FLTSIM_EV_WORK_RUN:
        fprintf(out, "[work] %s %s work item runs", ev->filter ? ev->filter : "?",
                ev->detail ? ev->detail : "");
        if (ev->op_id != 0)
            fprintf(out, " for #%llu", (unsigned long long)ev->op_id);
        suffix(t, ev);
        break;
    case FLTSIM_EV_REPORT:
        fprintf(out, "!! verifier %s: %s%s%s\n", ev->rule ? ev->rule : "",
                ev->filter ? ev->filter : "", ev->filter ? ": " : "", ev->detail);
        break;
    }
    fflush(out);
}
