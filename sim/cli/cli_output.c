/*
 * What the fltsim program writes, and the promise that it loses nothing the
 * user owns: the trace (--trace-out) and the other output files go through
 * sim/common's output files (a temporary file renamed into place when
 * complete), an output that is one of the command's inputs is refused before
 * anything is written, and a write error on any output, standard output
 * included, is an error naming it with exit status 4.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "cli.h"

void cli_output_init(void)
{
    /* A reader that goes away (`fltsim ... | head`) or a file-size limit is a
     * write error (EPIPE, EFBIG) that the writer reports, naming the output,
     * rather than a signal that kills fltsim without a word and, for a file,
     * in the middle of it. */
    signal(SIGPIPE, SIG_IGN);
#ifdef SIGXFSZ
    signal(SIGXFSZ, SIG_IGN);
#endif
    fltsim__output_wrap_stdout();
}

bool cli_output_distinct(const char *command, const char *output, const char *output_what,
                         const char *input, const char *input_what)
{
    if (output == NULL || input == NULL || !fltsim__output_same_file(output, input))
        return true;
    fprintf(stderr,
            "fltsim %s: %s '%s' is the same file as %s '%s'; refusing to overwrite an input "
            "(name another file)\n",
            command, output_what, output, input_what, input);
    return false;
}

bool cli_trace_open(const struct cli_options *options, enum fltsim_trace_format default_format,
                    struct cli_trace *trace)
{
    memset(trace, 0, sizeof(*trace));
    if (options->trace_off)
        return true;
    enum fltsim_trace_format format = options->trace_set ? options->trace_format : default_format;
    int err = fltsim__output_open(&trace->out, options->trace_out);
    if (err != 0) {
        fprintf(stderr, "fltsim: cannot write the trace to '%s': %s\n", options->trace_out,
                strerror(err));
        return false;
    }
    trace->stream = trace->out.stream;
    ULONG flags = options->show_threads ? FLTSIM_TRACE_SHOW_THREADS : 0;
    if (!NT_SUCCESS(fltsim_trace_sink_create(format, trace->stream, flags, &trace->sink))) {
        fprintf(stderr, "fltsim: cannot create the %s trace sink\n",
                fltsim_trace_format_name(format));
        fltsim__output_abort(&trace->out);
        memset(trace, 0, sizeof(*trace));
        return false;
    }
    return true;
}

bool cli_trace_close(struct cli_trace *trace, bool keep)
{
    bool finished = true;
    if (trace->sink != NULL) {
        finished = NT_SUCCESS(fltsim_trace_sink_finish(trace->sink));
        fltsim_trace_sink_destroy(trace->sink);
    }
    const char *target = trace->out.target;
    bool ok = true;
    if (!keep || trace->stream == NULL) {
        fltsim__output_abort(&trace->out);
    } else if (target != NULL) {
        int err = ENOMEM; /* a sink that ran out of memory (mermaid) */
        if (finished || ferror(trace->stream))
            err = fltsim__output_commit(&trace->out); /* a write error: why, and no rename */
        else
            fltsim__output_abort(&trace->out);
        if (err != 0) {
            fprintf(stderr,
                    "fltsim: cannot write the trace to '%s': %s; the file is left as it was\n",
                    target, strerror(err));
            ok = false;
        }
    } else {
        /* Standard output: a write error there is cli_output_finish's to
         * report, once, at the end. */
        if (!finished && !ferror(stdout))
            fprintf(stderr, "fltsim: the trace on standard output is incomplete: %s\n",
                    strerror(ENOMEM));
        ok = finished;
        fltsim__output_abort(&trace->out);
    }
    memset(trace, 0, sizeof(*trace));
    return ok;
}

int cli_output_finish(int status)
{
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        int err = fltsim__output_stdout_error();
        if (err == 0)
            err = errno;
        fprintf(stderr, "fltsim: error writing standard output%s%s\n", err != 0 ? ": " : "",
                err != 0 ? strerror(err) : "");
        return status > CLI_EXIT_ERROR ? status : CLI_EXIT_ERROR;
    }
    return status;
}
