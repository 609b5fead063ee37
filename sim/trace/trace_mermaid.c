/*
 * The Mermaid trace format (fltsim/trace.h): a sequence diagram that renders
 * on GitHub. Lifelines must be declared before the first message, so the sink
 * keeps a copy of every event and draws the diagram in finish: the I/O
 * manager, one lifeline per instance (highest altitude first), one per volume
 * (the file system below it) and a worker lifeline when work items run.
 * Calls go down as solid arrows (pre callbacks, the file system), answers
 * come back up as dashed ones (the file system's status, the posts, the
 * completion); pend, resume, operation status callbacks, instance setup and
 * teardown, unload and verifier reports are notes. A program using a
 * communication port gets a lifeline of its own (P1234, left of the I/O
 * manager) and its messages are arrows to and from the filter. Every label is escaped so
 * that no character of a file name or message can end it or start Mermaid
 * syntax.
 */
#include <stdlib.h>
#include <string.h>

#include "trace_internal.h"

/* ---- keeping the events ---- */

static char *dup_or_null(const char *s, bool *failed)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    if (d == NULL)
        *failed = true;
    return d;
}

static void free_item(struct fltsim__mermaid_item *item)
{
    free((char *)item->ev.filter);
    free((char *)item->ev.instance);
    free((char *)item->ev.altitude);
    free((char *)item->ev.volume);
    free((char *)item->ev.detail);
    free((char *)item->ev.rule);
    free((char *)item->ev.name);
    free((char *)item->ev.port);
    free((char *)item->ev.object_type);
    free(item->note);
}

static struct fltsim__mermaid_item *new_item(struct fltsim__mermaid_state *m)
{
    if (m->count == m->capacity) {
        size_t cap = m->capacity ? m->capacity * 2 : 64;
        struct fltsim__mermaid_item *grown = realloc(m->items, cap * sizeof(*grown));
        if (grown == NULL) {
            m->lost = true;
            return NULL;
        }
        m->items = grown;
        m->capacity = cap;
    }
    struct fltsim__mermaid_item *item = &m->items[m->count];
    memset(item, 0, sizeof(*item));
    return item;
}

void fltsim__trace_mermaid_event(struct fltsim_trace_sink *sink, const struct fltsim_event *ev)
{
    struct fltsim__mermaid_state *m = &sink->u.mermaid;
    struct fltsim__mermaid_item *item = new_item(m);
    if (item == NULL)
        return;
    bool failed = false;
    item->ev = *ev;
    item->ev.filter = dup_or_null(ev->filter, &failed);
    item->ev.instance = dup_or_null(ev->instance, &failed);
    item->ev.altitude = dup_or_null(ev->altitude, &failed);
    item->ev.volume = dup_or_null(ev->volume, &failed);
    item->ev.detail = dup_or_null(ev->detail, &failed);
    item->ev.rule = dup_or_null(ev->rule, &failed);
    item->ev.name = dup_or_null(ev->name, &failed);
    item->ev.port = dup_or_null(ev->port, &failed);
    item->ev.object_type = dup_or_null(ev->object_type, &failed);
    if (failed) {
        free_item(item);
        m->lost = true;
        return;
    }
    m->count++;
}

void fltsim__trace_mermaid_note(struct fltsim_trace_sink *sink, const char *text)
{
    struct fltsim__mermaid_state *m = &sink->u.mermaid;
    struct fltsim__mermaid_item *item = new_item(m);
    if (item == NULL)
        return;
    item->note = strdup(text);
    if (item->note == NULL) {
        m->lost = true;
        return;
    }
    m->count++;
}

void fltsim__trace_mermaid_free(struct fltsim_trace_sink *sink)
{
    struct fltsim__mermaid_state *m = &sink->u.mermaid;
    for (size_t i = 0; i < m->count; i++)
        free_item(&m->items[i]);
    free(m->items);
    m->items = NULL;
    m->count = m->capacity = 0;
}

/* ---- escaping ---- */

/* Writes text for a label: characters Mermaid reads as syntax (# ; : and the
 * HTML-ish < > " & % { }) as its entity codes (#35; ...), a line break as
 * <br/> when breaks is set, control characters as spaces. UTF-8 passes
 * through. */
static void put_text(FILE *out, const char *s, bool breaks)
{
    if (s == NULL)
        s = "?";
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        switch (*p) {
        case '#':
        case ';':
        case ':':
        case '"':
        case '&':
        case '%':
        case '{':
        case '}':
            fprintf(out, "#%u;", (unsigned)*p);
            break;
        case '<':
            fputs("#lt;", out);
            break;
        case '>':
            fputs("#gt;", out);
            break;
        case '\n':
            fputs(breaks ? "<br/>" : " ", out);
            break;
        default:
            fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, out);
        }
    }
}

static void put_label(FILE *out, const char *s)
{
    put_text(out, s, false);
}

/* A status without its FLT_PREOP_ / FLT_POSTOP_ prefix (labels stay short),
 * an NTSTATUS by name, or its value. */
static void put_status(FILE *out, const struct fltsim_event *ev)
{
    const char *name = fltsim__trace_status_name(ev);
    if (name == NULL) {
        fprintf(out, "0x%08X", (unsigned)(ULONG)ev->status);
        return;
    }
    if (strncmp(name, "FLT_PREOP_", 10) == 0)
        name += 10;
    else if (strncmp(name, "FLT_POSTOP_", 11) == 0)
        name += 11;
    put_label(out, name);
}

/* ---- lifelines ---- */

enum lifeline_kind { LIFE_PROCESS, LIFE_IO, LIFE_INSTANCE, LIFE_FILTER, LIFE_VOLUME, LIFE_WORKER };

struct lifeline {
    enum lifeline_kind kind;
    ULONG process_id;                                  /* LIFE_PROCESS */
    const char *filter, *instance, *altitude, *volume; /* borrowed from the items */
    size_t first_seen;
    char id[16];
};

struct diagram {
    FILE *out;
    ULONG64 last_op; /* operation of the last message drawn, 0 = none */
    struct lifeline *lines;
    size_t count, capacity;
    bool failed;
};

static bool same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static struct lifeline *add_lifeline(struct diagram *d, enum lifeline_kind kind, size_t seen)
{
    if (d->count == d->capacity) {
        size_t cap = d->capacity ? d->capacity * 2 : 16;
        struct lifeline *grown = realloc(d->lines, cap * sizeof(*grown));
        if (grown == NULL) {
            d->failed = true;
            return NULL;
        }
        d->lines = grown;
        d->capacity = cap;
    }
    struct lifeline *l = &d->lines[d->count++];
    memset(l, 0, sizeof(*l));
    l->kind = kind;
    l->first_seen = seen;
    return l;
}

static struct lifeline *find_instance(struct diagram *d, const struct fltsim_event *ev)
{
    for (size_t i = 0; i < d->count; i++) {
        struct lifeline *l = &d->lines[i];
        if (l->kind == LIFE_INSTANCE && same(l->filter, ev->filter) &&
            same(l->instance, ev->instance) && same(l->altitude, ev->altitude))
            return l;
    }
    return NULL;
}

/* The lifeline of a filter named by an event without an instance: its first
 * instance (highest after sorting), else one of its own. */
static struct lifeline *find_filter(struct diagram *d, const char *filter)
{
    for (size_t i = 0; i < d->count; i++) {
        struct lifeline *l = &d->lines[i];
        if ((l->kind == LIFE_INSTANCE || l->kind == LIFE_FILTER) && same(l->filter, filter))
            return l;
    }
    return NULL;
}

static struct lifeline *find_volume(struct diagram *d, const char *volume)
{
    for (size_t i = 0; i < d->count; i++) {
        if (d->lines[i].kind == LIFE_VOLUME && same(d->lines[i].volume, volume))
            return &d->lines[i];
    }
    return NULL;
}

static struct lifeline *find_process(struct diagram *d, ULONG process_id)
{
    for (size_t i = 0; i < d->count; i++) {
        if (d->lines[i].kind == LIFE_PROCESS && d->lines[i].process_id == process_id)
            return &d->lines[i];
    }
    return NULL;
}

static struct lifeline *find_kind(struct diagram *d, enum lifeline_kind kind)
{
    for (size_t i = 0; i < d->count; i++) {
        if (d->lines[i].kind == kind)
            return &d->lines[i];
    }
    return NULL;
}

/* Compares decimal altitudes ("370030", "370030.5") as numbers: the longer
 * integer part is higher, then digit by digit. <0 when a is lower. */
static int altitude_cmp(const char *a, const char *b)
{
    size_t ia = strcspn(a, "."), ib = strcspn(b, ".");
    while (ia > 1 && *a == '0')
        a++, ia--;
    while (ib > 1 && *b == '0')
        b++, ib--;
    if (ia != ib)
        return ia < ib ? -1 : 1;
    return strcmp(a, b);
}

/* Programs (by process id), IO; instances from the top of the stack down (first seen first at
 * one altitude); filters known only by name; volumes; the worker. */
static int lifeline_order(const void *pa, const void *pb)
{
    const struct lifeline *a = pa, *b = pb;
    if (a->kind != b->kind)
        return (int)a->kind - (int)b->kind;
    if (a->kind == LIFE_INSTANCE) {
        int c = altitude_cmp(a->altitude, b->altitude);
        if (c != 0)
            return -c;
    }
    if (a->kind == LIFE_PROCESS && a->process_id != b->process_id)
        return a->process_id < b->process_id ? -1 : 1;
    return a->first_seen < b->first_seen ? -1 : a->first_seen > b->first_seen;
}

static void collect_lifelines(struct diagram *d, const struct fltsim__mermaid_state *m)
{
    add_lifeline(d, LIFE_IO, 0);
    for (size_t i = 0; i < m->count && !d->failed; i++) {
        const struct fltsim_event *ev = &m->items[i].ev;
        if (m->items[i].note != NULL)
            continue;
        if (ev->filter != NULL && ev->instance != NULL && ev->altitude != NULL &&
            find_instance(d, ev) == NULL) {
            struct lifeline *l = add_lifeline(d, LIFE_INSTANCE, i);
            if (l != NULL)
                l->filter = ev->filter, l->instance = ev->instance, l->altitude = ev->altitude;
        }
        if (ev->volume != NULL && find_volume(d, ev->volume) == NULL) {
            struct lifeline *l = add_lifeline(d, LIFE_VOLUME, i);
            if (l != NULL)
                l->volume = ev->volume;
        }
        if ((ev->type == FLTSIM_EV_WORK_QUEUED || ev->type == FLTSIM_EV_WORK_RUN) &&
            find_kind(d, LIFE_WORKER) == NULL)
            add_lifeline(d, LIFE_WORKER, i);
        if (fltsim__trace_is_port(ev) && find_process(d, ev->process_id) == NULL) {
            struct lifeline *l = add_lifeline(d, LIFE_PROCESS, i);
            if (l != NULL)
                l->process_id = ev->process_id;
        }
    }
    /* Filters named without an instance (work items, unload, reports) and
     * without any instance of theirs in the trace get a lifeline of their own. */
    for (size_t i = 0; i < m->count && !d->failed; i++) {
        const struct fltsim_event *ev = &m->items[i].ev;
        if (m->items[i].note == NULL && ev->filter != NULL && find_filter(d, ev->filter) == NULL) {
            struct lifeline *l = add_lifeline(d, LIFE_FILTER, i);
            if (l != NULL)
                l->filter = ev->filter;
        }
    }
    if (d->failed)
        return;
    qsort(d->lines, d->count, sizeof(*d->lines), lifeline_order);
    ULONG inst = 0, vol = 0;
    for (size_t i = 0; i < d->count; i++) {
        struct lifeline *l = &d->lines[i];
        switch (l->kind) {
        case LIFE_PROCESS:
            snprintf(l->id, sizeof(l->id), "P%u", (unsigned)l->process_id);
            break;
        case LIFE_IO:
            snprintf(l->id, sizeof(l->id), "IO");
            break;
        case LIFE_INSTANCE:
        case LIFE_FILTER:
            snprintf(l->id, sizeof(l->id), "F%u", (unsigned)++inst);
            break;
        case LIFE_VOLUME:
            snprintf(l->id, sizeof(l->id), "V%u", (unsigned)++vol);
            break;
        case LIFE_WORKER:
            snprintf(l->id, sizeof(l->id), "W");
            break;
        }
    }
}

static void declare(struct diagram *d)
{
    FILE *out = d->out;
    for (size_t i = 0; i < d->count; i++) {
        const struct lifeline *l = &d->lines[i];
        fprintf(out, "    participant %s as ", l->id);
        switch (l->kind) {
        case LIFE_PROCESS:
            fprintf(out, "process %u", (unsigned)l->process_id);
            break;
        case LIFE_IO:
            fputs("I/O manager", out);
            break;
        case LIFE_INSTANCE:
            put_label(out, l->filter);
            fputc('/', out);
            put_label(out, l->instance);
            fputs("<br/>", out);
            put_label(out, l->altitude);
            break;
        case LIFE_FILTER:
            put_label(out, l->filter);
            break;
        case LIFE_VOLUME:
            put_label(out, l->volume);
            fputs("<br/>file system", out);
            break;
        case LIFE_WORKER:
            fputs("worker threads", out);
            break;
        }
        fputc('\n', out);
    }
}

/* ---- messages ---- */

/* Where each operation in flight is: the lifeline its last arrow reached and
 * the one that called the file system (which gets the answer). */
struct op_place {
    ULONG64 op_id;
    const struct lifeline *at, *fs_caller;
};

struct places {
    struct op_place *items;
    size_t count, capacity;
};

static struct op_place *place_of(struct places *p, ULONG64 op_id, const struct lifeline *io)
{
    for (size_t i = p->count; i > 0; i--) {
        if (p->items[i - 1].op_id == op_id)
            return &p->items[i - 1];
    }
    if (p->count == p->capacity) {
        size_t cap = p->capacity ? p->capacity * 2 : 16;
        struct op_place *grown = realloc(p->items, cap * sizeof(*grown));
        if (grown == NULL)
            return NULL;
        p->items = grown;
        p->capacity = cap;
    }
    struct op_place *place = &p->items[p->count++];
    place->op_id = op_id;
    place->at = io;
    place->fs_caller = io;
    return place;
}

static void forget_place(struct places *p, ULONG64 op_id)
{
    for (size_t i = p->count; i > 0; i--) {
        if (p->items[i - 1].op_id == op_id) {
            p->items[i - 1] = p->items[--p->count];
            return;
        }
    }
}

/* The return event answering the call at index i (same operation and depth),
 * or NULL when the trace ends first. */
static const struct fltsim_event *answer_of(const struct fltsim__mermaid_state *m, size_t i,
                                            enum fltsim_event_type type)
{
    const struct fltsim_event *call = &m->items[i].ev;
    for (size_t j = i + 1; j < m->count; j++) {
        const struct fltsim_event *ev = &m->items[j].ev;
        if (m->items[j].note == NULL && ev->type == type && ev->op_id == call->op_id &&
            ev->depth == call->depth)
            return ev;
    }
    return NULL;
}

static void arrow(FILE *out, const struct lifeline *from, const char *style,
                  const struct lifeline *to)
{
    fprintf(out, "    %s%s%s: ", from->id, style, to->id);
}

static void note_over(FILE *out, const struct lifeline *over)
{
    fprintf(out, "    Note over %s: ", over->id);
}

/* The lifeline of an event's instance, else of its filter, else the I/O
 * manager's. */
static const struct lifeline *owner(struct diagram *d, const struct fltsim_event *ev)
{
    const struct lifeline *l = NULL;
    if (ev->filter != NULL && ev->instance != NULL && ev->altitude != NULL)
        l = find_instance(d, ev);
    if (l == NULL && ev->filter != NULL)
        l = find_filter(d, ev->filter);
    return l != NULL ? l : find_kind(d, LIFE_IO);
}

static void put_op(FILE *out, ULONG64 op_id)
{
    fprintf(out, "#35;%llu", (unsigned long long)op_id);
}

/* Names the operation at the start of a callback's label when the message
 * before belonged to another one (operations interleave on several threads). */
static void op_prefix(struct diagram *d, const struct fltsim_event *ev)
{
    if (d->last_op != 0 && d->last_op != ev->op_id) {
        put_op(d->out, ev->op_id);
        fputc(' ', d->out);
    }
}

/* A communication port event: an arrow between the program and the filter
 * (a note over the program for a message it gets). */
static void draw_port(struct diagram *d, const struct fltsim_event *ev,
                      const struct lifeline *filter)
{
    FILE *out = d->out;
    const struct lifeline *program = find_process(d, ev->process_id);
    if (program == NULL)
        return;
    switch (ev->type) {
    case FLTSIM_EV_PORT_CONNECT:
        arrow(out, program, "->>", filter);
        fputs("connect ", out);
        put_label(out, ev->port);
        fputs(" → ", out);
        put_status(out, ev);
        break;
    case FLTSIM_EV_PORT_DISCONNECT:
        if (ev->flags == 0)
            arrow(out, program, "-x", filter);
        else
            arrow(out, filter, "-x", program);
        fputs(ev->flags == 0   ? "CloseHandle "
              : ev->flags == 1 ? "FltCloseClientPort "
                               : "unload disconnects ",
              out);
        put_label(out, ev->port);
        break;
    case FLTSIM_EV_PORT_MESSAGE:
        arrow(out, program, "->>", filter);
        fputs("FilterSendMessage ", out);
        put_label(out, ev->port);
        fprintf(out, " %u bytes, out %u → ", (unsigned)ev->in_size, (unsigned)ev->out_size);
        put_status(out, ev);
        fprintf(out, ", %llu returned", (unsigned long long)ev->information);
        break;
    case FLTSIM_EV_PORT_SEND:
        arrow(out, filter, "-)", program);
        fprintf(out, "FltSendMessage message %llu ", (unsigned long long)ev->message_id);
        put_label(out, ev->port);
        fprintf(out, " %u bytes", (unsigned)ev->in_size);
        if (ev->flags & 1)
            fprintf(out, ", reply room %u", (unsigned)ev->out_size);
        fputs((ev->flags & 2) ? ", timeout → " : " → ", out);
        put_status(out, ev);
        if (ev->flags & 1)
            fprintf(out, ", reply %llu bytes", (unsigned long long)ev->information);
        break;
    case FLTSIM_EV_PORT_GET:
        note_over(out, program);
        fprintf(out, "FilterGetMessage → message %llu, %u bytes",
                (unsigned long long)ev->message_id, (unsigned)ev->in_size);
        break;
    case FLTSIM_EV_PORT_REPLY:
        arrow(out, program, "-->>", filter);
        fprintf(out, "FilterReplyMessage message %llu, %u bytes → ",
                (unsigned long long)ev->message_id, (unsigned)ev->in_size);
        put_status(out, ev);
        break;
    default:
        return;
    }
    fputc('\n', out);
}

/* A process created or exited, or a handle made: a note by the I/O
 * lifeline (processes other than programs have none of their own). */
static void draw_process(FILE *out, const struct lifeline *io, const struct fltsim_event *ev)
{
    char text[160];
    switch (ev->type) {
    case FLTSIM_EV_PROCESS_CREATE:
        snprintf(text, sizeof(text), "process %u creates process %u (parent %u)",
                 (unsigned)ev->process_id, (unsigned)ev->object_process_id,
                 (unsigned)ev->parent_process_id);
        break;
    case FLTSIM_EV_PROCESS_EXIT:
        snprintf(text, sizeof(text), "process %u exits", (unsigned)ev->object_process_id);
        break;
    default:
        snprintf(
            text, sizeof(text), "process %u %s %s %u%s%s, granted 0x%x of 0x%x",
            (unsigned)ev->process_id,
            ev->type == FLTSIM_EV_HANDLE_OPEN ? "opens" : "duplicates a handle to",
            ev->object_thread_id != 0 ? "thread" : "process",
            (unsigned)(ev->object_thread_id != 0 ? ev->object_thread_id : ev->object_process_id),
            ev->table_process_id == 4 ? " (kernel handle)" : "",
            ev->type == FLTSIM_EV_HANDLE_DUPLICATE ? " for another process" : "",
            (unsigned)ev->granted_access, (unsigned)ev->desired_access);
        break;
    }
    fprintf(out, "    Note right of %s: ", io->id);
    put_label(out, text);
    if (ev->detail != NULL) {
        fputc(' ', out);
        put_label(out, ev->detail);
    }
    fputs(" → ", out);
    put_status(out, ev);
}

static void draw_event(struct diagram *d, struct places *places,
                       const struct fltsim__mermaid_state *m, size_t i)
{
    FILE *out = d->out;
    const struct fltsim_event *ev = &m->items[i].ev;
    const struct lifeline *io = find_kind(d, LIFE_IO);
    const struct lifeline *self = owner(d, ev);
    struct op_place fallback = {ev->op_id, io, io};
    struct op_place *place = &fallback;
    if (ev->op_id != 0 && fltsim__trace_has_op(ev)) {
        place = place_of(places, ev->op_id, io);
        if (place == NULL) {
            d->failed = true;
            place = &fallback;
        }
    }
    const struct fltsim_event *answer;

    switch (ev->type) {
    case FLTSIM_EV_IO_START:
        fprintf(out, "    Note right of %s: ", io->id);
        put_op(out, ev->op_id);
        fputs(ev->kind == FLTSIM_OP_FAST_IO     ? " fast I/O "
              : ev->kind == FLTSIM_OP_FS_FILTER ? " FS filter "
                                                : " IRP ",
              out);
        fltsim__trace_put_op_name(out, ev); /* only A-Z, 0-9, _ / */
        if (ev->detail != NULL) {
            fputc(' ', out);
            put_label(out, ev->detail);
        }
        break;
    case FLTSIM_EV_PRE:
        arrow(out, place->at, "->>", self);
        op_prefix(d, ev);
        fputs("pre", out);
        answer = answer_of(m, i, FLTSIM_EV_PRE_RETURN);
        if (answer != NULL) {
            fputs(" → ", out);
            put_status(out, answer);
        }
        place->at = self;
        break;
    case FLTSIM_EV_POST:
        if (place->at != self)
            arrow(out, place->at, "-->>", self);
        else
            note_over(out, self);
        op_prefix(d, ev);
        fputs((ev->flags & FLTFL_POST_OPERATION_DRAINING) ? "post (draining)" : "post", out);
        answer = answer_of(m, i, FLTSIM_EV_POST_RETURN);
        if (answer != NULL) {
            fputs(" → ", out);
            put_status(out, answer);
        }
        place->at = self;
        break;
    case FLTSIM_EV_PRE_RETURN:
    case FLTSIM_EV_POST_RETURN:
        return; /* drawn with the call */
    case FLTSIM_EV_FS: {
        const struct lifeline *volume = find_volume(d, ev->volume);
        if (volume == NULL)
            return;
        arrow(out, place->at, "->>", volume);
        op_prefix(d, ev);
        fltsim__trace_put_op_name(out, ev);
        place->fs_caller = place->at;
        place->at = volume;
        break;
    }
    case FLTSIM_EV_FS_RETURN:
        arrow(out, place->at, "-->>", place->fs_caller);
        op_prefix(d, ev);
        put_status(out, ev);
        fprintf(out, ", information %llu", (unsigned long long)ev->information);
        place->at = place->fs_caller;
        break;
    case FLTSIM_EV_IO_COMPLETE:
        arrow(out, place->at, "-->>", io);
        put_op(out, ev->op_id);
        fputc(' ', out);
        put_status(out, ev);
        fprintf(out, ", information %llu", (unsigned long long)ev->information);
        forget_place(places, ev->op_id);
        break;
    case FLTSIM_EV_PEND:
        note_over(out, self);
        put_op(out, ev->op_id);
        fputs(ev->flags ? " pended in post" : " pended in pre", out);
        place->at = self;
        break;
    case FLTSIM_EV_RESUME:
        note_over(out, self);
        put_op(out, ev->op_id);
        fputs(ev->flags ? " resumed after the post (" : " resumed as ", out);
        put_status(out, ev);
        if (ev->flags)
            fputc(')', out);
        place->at = self;
        break;
    case FLTSIM_EV_CONTEXT_SET:
    case FLTSIM_EV_CONTEXT_CLEANUP:
        note_over(out, self);
        put_label(out, ev->detail);
        if (ev->type == FLTSIM_EV_CONTEXT_SET) {
            fputs(" context set → ", out);
            put_status(out, ev);
        } else {
            fputs(" context cleanup", out);
        }
        break;
    case FLTSIM_EV_NAME_QUERY:
        note_over(out, self);
        if (ev->op_id != 0) {
            put_op(out, ev->op_id);
            fputc(' ', out);
        }
        put_label(out, ev->detail);
        fputs(" name → ", out);
        put_status(out, ev);
        if (ev->name != NULL) {
            fputc(' ', out);
            put_label(out, ev->name);
            fputs(ev->flags ? " (cache)" : " (file system)", out);
        }
        break;
    case FLTSIM_EV_STATUS_CALLBACK:
        /* A note: the operation stays where it is (at the file system). */
        note_over(out, self);
        put_op(out, ev->op_id);
        fputs(" status callback, IoCallDriver returned ", out);
        put_status(out, ev);
        break;
    case FLTSIM_EV_WORK_QUEUED:
        arrow(out, self, "-)", find_kind(d, LIFE_WORKER));
        fputs("queue ", out);
        put_label(out, ev->detail);
        if (ev->op_id != 0) {
            fputs(" for ", out);
            put_op(out, ev->op_id);
        }
        if (ev->status != STATUS_SUCCESS) {
            fputs(" → ", out);
            put_status(out, ev);
        }
        break;
    case FLTSIM_EV_WORK_RUN:
        arrow(out, find_kind(d, LIFE_WORKER), "->>", self);
        put_label(out, ev->detail);
        fputs(" work routine", out);
        if (ev->op_id != 0) {
            fputs(" for ", out);
            put_op(out, ev->op_id);
        }
        break;
    case FLTSIM_EV_INSTANCE_SETUP:
        note_over(out, self);
        fputs("setup on ", out);
        put_label(out, ev->volume);
        fputs(" → ", out);
        put_status(out, ev);
        break;
    case FLTSIM_EV_QUERY_TEARDOWN:
        note_over(out, self);
        fputs("query teardown → ", out);
        put_status(out, ev);
        break;
    case FLTSIM_EV_TEARDOWN_START:
    case FLTSIM_EV_TEARDOWN_COMPLETE:
        note_over(out, self);
        fputs(ev->type == FLTSIM_EV_TEARDOWN_START ? "teardown start on " : "teardown complete on ",
              out);
        put_label(out, ev->volume);
        break;
    case FLTSIM_EV_FILTER_UNLOAD:
        note_over(out, self);
        fputs((ev->flags & FLTFL_FILTER_UNLOAD_MANDATORY) ? "mandatory unload → " : "unload → ",
              out);
        put_status(out, ev);
        break;
    case FLTSIM_EV_PORT_CONNECT:
    case FLTSIM_EV_PORT_DISCONNECT:
    case FLTSIM_EV_PORT_MESSAGE:
    case FLTSIM_EV_PORT_SEND:
    case FLTSIM_EV_PORT_GET:
    case FLTSIM_EV_PORT_REPLY:
        draw_port(d, ev, self);
        return;
    case FLTSIM_EV_OB_PRE:
    case FLTSIM_EV_OB_POST:
        note_over(out, self);
        fputs(ev->type == FLTSIM_EV_OB_PRE ? "object pre: " : "object post: ", out);
        fprintf(out, "process %u ", (unsigned)ev->process_id);
        put_label(out, fltsim__trace_ob_operation_name(ev->ob_operation));
        fputs(ev->flags & 1 ? " kernel handle to " : " handle to ", out);
        put_label(out, ev->object_type);
        fprintf(out, " %u", (unsigned)ev->object_process_id);
        if (ev->type == FLTSIM_EV_OB_PRE) {
            fprintf(out, ", desired 0x%X → 0x%X", (unsigned)ev->desired_access,
                    (unsigned)ev->granted_access);
        } else {
            fputs(" → ", out);
            put_status(out, ev);
            fprintf(out, ", granted 0x%X", (unsigned)ev->granted_access);
        }
        break;
    case FLTSIM_EV_PROCESS_CREATE:
    case FLTSIM_EV_PROCESS_EXIT:
    case FLTSIM_EV_HANDLE_OPEN:
    case FLTSIM_EV_HANDLE_DUPLICATE:
        draw_process(out, io, ev);
        break;
    case FLTSIM_EV_REPORT:
        note_over(out, self);
        fputs("verifier ", out);
        put_label(out, ev->rule);
        fputs(" ", out);
        put_label(out, ev->detail);
        break;
    default:
        return;
    }
    fputc('\n', out);
    if (ev->op_id != 0)
        d->last_op = ev->op_id;
}

void fltsim__trace_mermaid_write(struct fltsim_trace_sink *sink)
{
    const struct fltsim__mermaid_state *m = &sink->u.mermaid;
    struct diagram d = {.out = sink->out};
    struct places places = {0};
    collect_lifelines(&d, m);
    if (d.failed) {
        sink->u.mermaid.lost = true;
        goto out;
    }
    /* wrap: long notes (scenario steps, verifier messages) break into lines
     * instead of stretching the diagram. */
    fputs("```mermaid\n%%{init: {\"sequence\": {\"wrap\": true}}}%%\nsequenceDiagram\n", sink->out);
    declare(&d);
    /* Notes span every lifeline, programs (left of IO) included. */
    const struct lifeline *first = &d.lines[0], *last = &d.lines[d.count - 1];
    for (size_t i = 0; i < m->count; i++) {
        if (m->items[i].note != NULL) {
            if (first == last)
                fprintf(sink->out, "    Note over %s: ", first->id);
            else
                fprintf(sink->out, "    Note over %s,%s: ", first->id, last->id);
            put_text(sink->out, m->items[i].note, true);
            fputc('\n', sink->out);
        } else {
            draw_event(&d, &places, m, i);
        }
    }
    if (m->lost || d.failed)
        fputs("    Note over IO: events missing (out of memory)\n", sink->out);
    fputs("```\n", sink->out);
    if (d.failed)
        sink->u.mermaid.lost = true;
out:
    free(places.items);
    free(d.lines);
}
