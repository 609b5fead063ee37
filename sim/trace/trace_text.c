/*
 * The text trace format, for people (fltsim/trace.h). Operations print as a
 * tree: the pre callbacks going down, the file system at the bottom, the posts
 * coming back up, each with what it returned, and the operation status
 * callbacks a pre asked for beside it. Thread and IRQL appear where they
 * change, and an operation's number where its lines interleave with another's;
 * an operation started inside a callback still running on its thread (a
 * filter's own I/O) names that callback on its first line.
 */
#include <stdio.h>
#include <string.h>

#include "trace_internal.h"

static const char *kind_text(enum fltsim_op_kind kind)
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

static void put_irql(FILE *out, KIRQL irql)
{
    switch (irql) {
    case PASSIVE_LEVEL:
        fputs("PASSIVE", out);
        break;
    case APC_LEVEL:
        fputs("APC", out);
        break;
    case DISPATCH_LEVEL:
        fputs("DISPATCH", out);
        break;
    default:
        fprintf(out, "IRQL%u", (unsigned)irql);
    }
}

static void put_str(FILE *out, const char *s)
{
    fltsim__trace_put_clean(out, s != NULL ? s : "?");
}

static void put_status(FILE *out, const struct fltsim_event *ev)
{
    const char *name = fltsim__trace_status_name(ev);
    if (name != NULL)
        fputs(name, out);
    else if (fltsim__trace_status_kind(ev) == FLTSIM__STATUS_NTSTATUS)
        fprintf(out, "0x%08X", (unsigned)(ULONG)ev->status);
    else
        fprintf(out, "(invalid status %ld)", (long)ev->status);
}

static void indent(FILE *out, ULONG depth)
{
    for (ULONG i = 0; i < depth + 1; i++)
        fputs("  ", out);
}

/* Indents a line of an operation and, when the line before belonged to
 * another operation, names this one. */
static void op_line(struct fltsim_trace_sink *sink, const struct fltsim_event *ev)
{
    indent(sink->out, ev->depth);
    if (sink->u.text.have_last && sink->u.text.last_op != ev->op_id)
        fprintf(sink->out, "#%llu ", (unsigned long long)ev->op_id);
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

/* Ends the line: "  [T1000 PASSIVE]" when asked for every line, on an
 * operation's first line, and where the thread or IRQL changed. */
static void end_line(struct fltsim_trace_sink *sink, const struct fltsim_event *ev)
{
    struct fltsim__text_state *t = &sink->u.text;
    bool show = (sink->flags & FLTSIM_TRACE_SHOW_THREADS) || !t->have_last ||
                ev->type == FLTSIM_EV_IO_START || t->last_thread != ev->thread_id ||
                t->last_irql != ev->irql;
    if (show) {
        fprintf(sink->out, "  [T%u ", (unsigned)ev->thread_id);
        put_irql(sink->out, ev->irql);
        fputc(']', sink->out);
    }
    fputc('\n', sink->out);
}

/* Keeps the list of callbacks running: a pre or post entered, or returned
 * (the innermost of that thread, operation and filter). Deeper than the list
 * holds, the innermost are not named. */
static void track_callback(struct fltsim__text_state *t, const struct fltsim_event *ev)
{
    const char *filter = ev->filter != NULL ? ev->filter : "?";
    if (ev->type == FLTSIM_EV_PRE || ev->type == FLTSIM_EV_POST) {
        if (t->open_count < sizeof(t->open) / sizeof(t->open[0])) {
            struct fltsim__text_callback *c = &t->open[t->open_count++];
            c->thread = ev->thread_id;
            c->op = ev->op_id;
            c->post = ev->type == FLTSIM_EV_POST;
            snprintf(c->filter, sizeof(c->filter), "%s", filter);
        }
        return;
    }
    if (ev->type != FLTSIM_EV_PRE_RETURN && ev->type != FLTSIM_EV_POST_RETURN)
        return;
    for (size_t i = t->open_count; i-- > 0;) {
        struct fltsim__text_callback *c = &t->open[i];
        if (c->thread == ev->thread_id && c->op == ev->op_id &&
            strncmp(c->filter, filter, sizeof(c->filter) - 1) == 0) {
            memmove(c, c + 1, (t->open_count - i - 1) * sizeof(*c));
            t->open_count--;
            return;
        }
    }
}

/* ", issued by Mistakes in #1's pre" when the operation starts on the thread
 * of a callback still running (the innermost). */
static void put_issuer(FILE *out, const struct fltsim__text_state *t, const struct fltsim_event *ev)
{
    for (size_t i = t->open_count; i-- > 0;) {
        const struct fltsim__text_callback *c = &t->open[i];
        if (c->thread != ev->thread_id)
            continue;
        if (c->op != ev->op_id) {
            fputs(", issued by ", out);
            fltsim__trace_put_clean(out, c->filter);
            fprintf(out, " in #%llu's %s", (unsigned long long)c->op, c->post ? "post" : "pre");
        }
        return;
    }
}

/* A communication port event: what the program (by process) or the filter
 * did on which port, the sizes, and how it ended. */
static void put_port(FILE *out, const struct fltsim_event *ev)
{
    static const char *const ended_by[] = {
        "the program closed its handle", "the filter closed the client port", "the filter unloads"};
    fputs("[port] ", out);
    if (ev->type == FLTSIM_EV_PORT_SEND) {
        put_str(out, ev->filter);
        fprintf(out, " sends message %llu to process %u on ", (unsigned long long)ev->message_id,
                (unsigned)ev->process_id);
    } else {
        fprintf(out, "process %u ", (unsigned)ev->process_id);
    }
    switch (ev->type) {
    case FLTSIM_EV_PORT_CONNECT:
        fputs("connects to ", out);
        break;
    case FLTSIM_EV_PORT_DISCONNECT:
        fputs("disconnects from ", out);
        break;
    case FLTSIM_EV_PORT_MESSAGE:
        fputs("sends a message to ", out);
        break;
    case FLTSIM_EV_PORT_GET:
        fprintf(out, "gets message %llu on ", (unsigned long long)ev->message_id);
        break;
    case FLTSIM_EV_PORT_REPLY:
        fprintf(out, "replies to message %llu on ", (unsigned long long)ev->message_id);
        break;
    default:
        break;
    }
    put_str(out, ev->port);
    if (ev->type != FLTSIM_EV_PORT_SEND && ev->filter != NULL) {
        fputs(" of ", out);
        put_str(out, ev->filter);
    }
    switch (ev->type) {
    case FLTSIM_EV_PORT_CONNECT:
        fprintf(out, " (context %u bytes): ", (unsigned)ev->in_size);
        put_status(out, ev);
        break;
    case FLTSIM_EV_PORT_DISCONNECT:
        fprintf(out, " (%s)", ev->flags < 3 ? ended_by[ev->flags] : "?");
        break;
    case FLTSIM_EV_PORT_MESSAGE:
        fprintf(out, " (%u bytes in, %u out): ", (unsigned)ev->in_size, (unsigned)ev->out_size);
        put_status(out, ev);
        fprintf(out, ", %llu returned", (unsigned long long)ev->information);
        break;
    case FLTSIM_EV_PORT_SEND:
        fprintf(out, " (%u bytes, ", (unsigned)ev->in_size);
        if (ev->flags & 1)
            fprintf(out, "reply room %u, ", (unsigned)ev->out_size);
        else
            fputs("no reply, ", out);
        fputs((ev->flags & 2) ? "timeout): " : "no timeout): ", out);
        put_status(out, ev);
        if (ev->flags & 1)
            fprintf(out, ", reply %llu bytes", (unsigned long long)ev->information);
        break;
    case FLTSIM_EV_PORT_GET:
        fprintf(out, " (%u bytes, reply room %u)", (unsigned)ev->in_size, (unsigned)ev->out_size);
        break;
    case FLTSIM_EV_PORT_REPLY:
        fprintf(out, " (%u bytes): ", (unsigned)ev->in_size);
        put_status(out, ev);
        break;
    default:
        break;
    }
}

/* A process created or exited, or a handle made to a process or thread. */
static void put_process(FILE *out, const struct fltsim_event *ev)
{
    switch (ev->type) {
    case FLTSIM_EV_PROCESS_CREATE:
        fprintf(out, "[process] process %u creates process %u (parent %u, thread %u) ",
                (unsigned)ev->process_id, (unsigned)ev->object_process_id,
                (unsigned)ev->parent_process_id, (unsigned)ev->object_thread_id);
        put_str(out, ev->detail);
        fputs(": ", out);
        break;
    case FLTSIM_EV_PROCESS_EXIT:
        fprintf(out, "[process] process %u ", (unsigned)ev->object_process_id);
        put_str(out, ev->detail);
        fputs(" exits: ", out);
        break;
    default:
        fprintf(out, "[handle] process %u %s ", (unsigned)ev->process_id,
                ev->type == FLTSIM_EV_HANDLE_OPEN ? "opens" : "duplicates a handle to");
        if (ev->object_thread_id != 0)
            fprintf(out, "thread %u of ", (unsigned)ev->object_thread_id);
        fprintf(out, "process %u ", (unsigned)ev->object_process_id);
        if (ev->table_process_id == 4)
            fputs("as a kernel handle", out);
        else
            fprintf(out, "into process %u", (unsigned)ev->table_process_id);
        fprintf(out, " (desired 0x%x, granted 0x%x): ", (unsigned)ev->desired_access,
                (unsigned)ev->granted_access);
        break;
    }
    put_status(out, ev);
}

/* An object callback event: whose callback, which handle to what, and the
 * access it went in with and left (pre) or the access granted (post). */
static void put_ob(FILE *out, const struct fltsim_event *ev)
{
    const char *operation = fltsim__trace_ob_operation_name(ev->ob_operation);
    fputs("[ob] ", out);
    put_str(out, ev->filter);
    fputs(" (", out);
    put_str(out, ev->altitude);
    fputs(ev->type == FLTSIM_EV_OB_PRE ? ") pre: " : ") post: ", out);
    fprintf(out, "process %u %s a %shandle to ", (unsigned)ev->process_id,
            operation != NULL && operation[0] == 'd' ? "duplicates" : "opens",
            ev->flags & 1 ? "kernel " : "");
    put_str(out, ev->object_type);
    fprintf(out, " %u", (unsigned)ev->object_process_id);
    if (ev->type == FLTSIM_EV_OB_PRE) {
        fprintf(out, ", desired 0x%X -> 0x%X", (unsigned)ev->desired_access,
                (unsigned)ev->granted_access);
    } else {
        fputs(": ", out);
        put_status(out, ev);
        fprintf(out, ", granted 0x%X of 0x%X", (unsigned)ev->granted_access,
                (unsigned)ev->desired_access);
    }
}

void fltsim__trace_text_event(struct fltsim_trace_sink *sink, const struct fltsim_event *ev)
{
    FILE *out = sink->out;
    switch (ev->type) {
    case FLTSIM_EV_IO_START:
        fprintf(out, "#%llu %s ", (unsigned long long)ev->op_id, kind_text(ev->kind));
        fltsim__trace_put_op_name(out, ev);
        if (ev->detail != NULL) {
            fputc(' ', out);
            put_str(out, ev->detail);
        }
        put_issuer(out, &sink->u.text, ev);
        break;
    case FLTSIM_EV_IO_COMPLETE:
        fputs("  ", out);
        if (sink->u.text.have_last && sink->u.text.last_op != ev->op_id)
            fprintf(out, "#%llu ", (unsigned long long)ev->op_id);
        fputs("= ", out);
        put_status(out, ev);
        fprintf(out, ", information %llu", (unsigned long long)ev->information);
        break;
    case FLTSIM_EV_PRE:
    case FLTSIM_EV_POST:
        op_line(sink, ev);
        fputs("-> ", out);
        put_str(out, ev->filter);
        fputs(" (", out);
        put_str(out, ev->altitude);
        fputs(ev->type == FLTSIM_EV_PRE ? ") pre" : ") post", out);
        if (ev->type == FLTSIM_EV_POST && (ev->flags & FLTFL_POST_OPERATION_DRAINING))
            fputs(" (draining)", out);
        break;
    case FLTSIM_EV_STATUS_CALLBACK:
        /* At the requesting instance's depth, like its pre: the routine
         * returns nothing, the status is what it is told. */
        op_line(sink, ev);
        fputs("-> ", out);
        put_str(out, ev->filter);
        fputs(" (", out);
        put_str(out, ev->altitude);
        fputs(") status callback: IoCallDriver returned ", out);
        put_status(out, ev);
        break;
    case FLTSIM_EV_PRE_RETURN:
    case FLTSIM_EV_POST_RETURN:
        op_line(sink, ev);
        fputs("<- ", out);
        put_status(out, ev);
        break;
    case FLTSIM_EV_FS:
        op_line(sink, ev);
        fputs("-> file system", out);
        break;
    case FLTSIM_EV_FS_RETURN:
        op_line(sink, ev);
        fputs("<- file system: ", out);
        put_status(out, ev);
        fprintf(out, ", information %llu", (unsigned long long)ev->information);
        break;
    case FLTSIM_EV_INSTANCE_SETUP:
        fputs("[setup] ", out);
        put_str(out, ev->filter);
        fputs(" instance '", out);
        put_str(out, ev->instance);
        fputs("' at ", out);
        put_str(out, ev->altitude);
        fputs(" on ", out);
        put_str(out, ev->volume);
        fputs(" (", out);
        setup_flags(out, ev->flags);
        fputs("): ", out);
        put_status(out, ev);
        if (ev->detail != NULL) {
            fputs(" - ", out);
            put_str(out, ev->detail);
        }
        break;
    case FLTSIM_EV_QUERY_TEARDOWN:
        fputs("[query teardown] ", out);
        put_str(out, ev->filter);
        fputs(" instance '", out);
        put_str(out, ev->instance);
        fputs("': ", out);
        put_status(out, ev);
        if (ev->detail != NULL) {
            fputs(" - ", out);
            put_str(out, ev->detail);
        }
        break;
    case FLTSIM_EV_TEARDOWN_START:
    case FLTSIM_EV_TEARDOWN_COMPLETE:
        fputs(ev->type == FLTSIM_EV_TEARDOWN_START ? "[teardown start] " : "[teardown complete] ",
              out);
        put_str(out, ev->filter);
        fputs(" instance '", out);
        put_str(out, ev->instance);
        fputs("' on ", out);
        put_str(out, ev->volume);
        fprintf(out, " (%s)", teardown_reason(ev->flags));
        break;
    case FLTSIM_EV_FILTER_UNLOAD:
        fputs("[unload] ", out);
        put_str(out, ev->filter);
        if (ev->flags & FLTFL_FILTER_UNLOAD_MANDATORY)
            fputs(" (mandatory)", out);
        fputs(": ", out);
        put_status(out, ev);
        break;
    case FLTSIM_EV_PEND:
        indent(out, ev->depth);
        fprintf(out, ".. #%llu pended in %s by ", (unsigned long long)ev->op_id,
                ev->flags ? "post" : "pre");
        put_str(out, ev->filter);
        break;
    case FLTSIM_EV_RESUME:
        indent(out, ev->depth);
        fprintf(out, ".. #%llu resumed after ", (unsigned long long)ev->op_id);
        put_str(out, ev->filter);
        fputs(ev->flags ? "'s post (" : "'s pre as ", out);
        put_status(out, ev);
        if (ev->flags)
            fputc(')', out);
        break;
    case FLTSIM_EV_CONTEXT_SET:
    case FLTSIM_EV_CONTEXT_CLEANUP:
        fputs("[context] ", out);
        put_str(out, ev->filter);
        fputs(ev->type == FLTSIM_EV_CONTEXT_SET ? " sets a " : "'s ", out);
        put_str(out, ev->detail);
        fputs(ev->type == FLTSIM_EV_CONTEXT_SET ? " context: " : " context is cleaned up", out);
        if (ev->type == FLTSIM_EV_CONTEXT_SET)
            put_status(out, ev);
        break;
    case FLTSIM_EV_NAME_QUERY:
        fputs("[name] ", out);
        put_str(out, ev->filter);
        fputs(" asks for the ", out);
        put_str(out, ev->detail);
        fputs(" name", out);
        if (ev->op_id != 0)
            fprintf(out, " in #%llu", (unsigned long long)ev->op_id);
        fputs(": ", out);
        put_status(out, ev);
        if (ev->name != NULL) {
            fputc(' ', out);
            put_str(out, ev->name);
            fputs(ev->flags ? " (cache)" : " (file system)", out);
        }
        break;
    case FLTSIM_EV_WORK_QUEUED:
    case FLTSIM_EV_WORK_RUN:
        fputs("[work] ", out);
        put_str(out, ev->filter);
        fputs(ev->type == FLTSIM_EV_WORK_QUEUED ? " queues a " : " ", out);
        put_str(out, ev->detail);
        fputs(ev->type == FLTSIM_EV_WORK_QUEUED ? " work item" : " work item runs", out);
        if (ev->op_id != 0)
            fprintf(out, " for #%llu", (unsigned long long)ev->op_id);
        if (ev->type == FLTSIM_EV_WORK_QUEUED) {
            fputs(": ", out);
            put_status(out, ev);
        }
        break;
    case FLTSIM_EV_PORT_CONNECT:
    case FLTSIM_EV_PORT_DISCONNECT:
    case FLTSIM_EV_PORT_MESSAGE:
    case FLTSIM_EV_PORT_SEND:
    case FLTSIM_EV_PORT_GET:
    case FLTSIM_EV_PORT_REPLY:
        put_port(out, ev);
        break;
    case FLTSIM_EV_PROCESS_CREATE:
    case FLTSIM_EV_PROCESS_EXIT:
    case FLTSIM_EV_HANDLE_OPEN:
    case FLTSIM_EV_HANDLE_DUPLICATE:
        put_process(out, ev);
        break;
    case FLTSIM_EV_OB_PRE:
    case FLTSIM_EV_OB_POST:
        put_ob(out, ev);
        break;
    case FLTSIM_EV_REPORT:
        fputs("!! verifier ", out);
        put_str(out, ev->rule);
        fputs(": ", out);
        if (ev->filter != NULL) {
            put_str(out, ev->filter);
            fputs(": ", out);
        }
        put_str(out, ev->detail);
        break;
    default:
        fprintf(out, "(unknown event type %d)", (int)ev->type);
        break;
    }
    end_line(sink, ev);

    struct fltsim__text_state *t = &sink->u.text;
    t->have_last = true;
    t->last_thread = ev->thread_id;
    t->last_irql = ev->irql;
    track_callback(t, ev);
    if (ev->op_id != 0)
        t->last_op = ev->op_id;
    /* People watch this one live, and a crash should not eat the last lines. */
    fflush(out);
}

void fltsim__trace_text_note(struct fltsim_trace_sink *sink, const char *text)
{
    /* A note's lines keep their line breaks: "== " heads the first. */
    FILE *out = sink->out;
    fputs("\n== ", out);
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p == '\n')
            fputs("\n   ", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", (unsigned)*p);
        else
            fputc(*p, out);
    }
    fputc('\n', out);
}
