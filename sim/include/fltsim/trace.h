/*
 * Trace sinks (DESIGN decision 9): every event the model emits
 * (struct fltsim_event, fltsim/model.h) can go to one or more sinks, each
 * writing one format to a stdio stream:
 *
 *   text        for people: one line per event, indented by stack depth,
 *               showing filter, altitude, major/minor, status (and, with
 *               FLTSIM_TRACE_SHOW_THREADS, thread and IRQL);
 *   jsonl       JSON Lines: one object per event, fields documented in the
 *               README ("Trace formats");
 *   mermaid     a Mermaid sequence diagram (one lifeline per instance plus the
 *               I/O manager and the file system; pend and resume shown), in a
 *               ```mermaid fence so that it renders on GitHub; written when the
 *               sink is finished, because lifelines are declared first;
 *   normalized  the form golden files compare against: one line per event,
 *               fixed field order, nothing that varies between runs of the
 *               deterministic executor with one seed.
 *
 * A sink is not thread-safe, and needs not be: the model never calls the trace
 * callback concurrently for one system.
 */
#ifndef FLTSIM_TRACE_H
#define FLTSIM_TRACE_H

#include <stdio.h>

#include <fltsim/model.h>

#ifdef __cplusplus
extern "C" {
#endif

enum fltsim_trace_format {
    FLTSIM_TRACE_TEXT = 0,
    FLTSIM_TRACE_JSONL = 1,
    FLTSIM_TRACE_MERMAID = 2,
    FLTSIM_TRACE_NORMALIZED = 3
};

/* "text", "jsonl", "mermaid", "normalized". */
const char *fltsim_trace_format_name(enum fltsim_trace_format format);
/* Parses one of those names (case-sensitive). false when unknown. */
bool fltsim_trace_format_parse(const char *name, enum fltsim_trace_format *out);

/* Text sink: append "[thread N, IRQL L]" to callback lines. */
#define FLTSIM_TRACE_SHOW_THREADS 0x00000001

struct fltsim_trace_sink;

/* Creates a sink writing format to out (not closed by the sink).
 * STATUS_INVALID_PARAMETER (unknown format or flag, out NULL),
 * STATUS_INSUFFICIENT_RESOURCES. */
NTSTATUS fltsim_trace_sink_create(enum fltsim_trace_format format, FILE *out, ULONG flags,
                                  struct fltsim_trace_sink **sink);

/* A fltsim_trace_cb: ctx is a struct fltsim_trace_sink *. */
void fltsim_trace_sink_event(void *ctx, const struct fltsim_event *event);

/* A marker between events, e.g. "step 3: read h1": text prints "== ...",
 * jsonl an object with "type":"note", mermaid a note over the I/O manager,
 * normalized a "# ..." line. UTF-8. */
void fltsim_trace_sink_note(struct fltsim_trace_sink *sink, const char *text);

/* Writes what the format keeps until the end (the Mermaid diagram) and
 * flushes. STATUS_UNSUCCESSFUL when writing failed (ferror on the stream).
 * Events after finish are ignored. */
NTSTATUS fltsim_trace_sink_finish(struct fltsim_trace_sink *sink);

/* Frees the sink (without finishing it). NULL is ignored. */
void fltsim_trace_sink_destroy(struct fltsim_trace_sink *sink);

/* Fan-out to several sinks: a fltsim_trace_cb whose ctx is a struct
 * fltsim_trace_tee (NULL entries are skipped). */
#define FLTSIM_TRACE_TEE_MAX 4
struct fltsim_trace_tee {
    struct fltsim_trace_sink *sinks[FLTSIM_TRACE_TEE_MAX];
};
void fltsim_trace_tee_event(void *ctx, const struct fltsim_event *event);
void fltsim_trace_tee_note(struct fltsim_trace_tee *tee, const char *text);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_TRACE_H */
