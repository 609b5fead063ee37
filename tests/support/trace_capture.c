/*
 * A trace sink over a memory stream (see trace_capture.h), for the suites
 * that check what the sinks write. The sinks themselves are the sim's
 * (fltsim/trace.h); this only opens, reads back and closes one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_capture.h"

void capture_open(struct capture *c, enum fltsim_trace_format format, ULONG flags)
{
    memset(c, 0, sizeof(*c));
    c->out = open_memstream(&c->text, &c->size);
    assert_non_null(c->out);
    assert_status(fltsim_trace_sink_create(format, c->out, flags, &c->sink), STATUS_SUCCESS);
}

const char *capture_text(struct capture *c)
{
    assert_status(fltsim_trace_sink_finish(c->sink), STATUS_SUCCESS);
    fflush(c->out);
    return c->text;
}

void capture_close(struct capture *c)
{
    fltsim_trace_sink_destroy(c->sink);
    fclose(c->out);
    free(c->text);
}

bool capture_has_line(const char *text, const char *const *frags)
{
    for (const char *line = text; *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        bool all = true;
        for (const char *const *f = frags; *f != NULL && all; f++) {
            const char *hit = strstr(line, *f);
            all = hit != NULL && hit + strlen(*f) <= line + len;
        }
        if (all)
            return true;
        line += len + (end != NULL);
    }
    return false;
}
