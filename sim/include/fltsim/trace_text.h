/*
 * A human-readable trace sink: one line per event, indented by the node's
 * depth in the filter stack, for people watching the callback model at work.
 */
#ifndef FLTSIM_TRACE_TEXT_H
#define FLTSIM_TRACE_TEXT_H

#include <stdio.h>

#include <fltsim/model.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fltsim_trace_text {
    FILE *out;
    bool show_threads; /* append the thread id and IRQL to each line */
};

/* A fltsim_trace_cb; ctx is a struct fltsim_trace_text. */
void fltsim_trace_text_cb(void *ctx, const struct fltsim_event *event);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_TRACE_TEXT_H */
