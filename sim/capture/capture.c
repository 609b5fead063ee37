/*
 * Opening a capture: the file (gzip-compressed or not, through zlib), the
 * format (given, or guessed from the first bytes) and the backend that reads
 * it (capture_csv.c, capture_xml.c, capture_pml.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture_internal.h"

int fltsim__capture_fail(struct fltsim_capture *cap, const char *fmt, ...)
{
    if (cap->failed)
        return -1; /* keep the first error: it names where reading went wrong */
    int n = snprintf(cap->error, sizeof(cap->error), "%s: ", cap->path);
    if (n < 0 || (size_t)n >= sizeof(cap->error))
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cap->error + n, sizeof(cap->error) - (size_t)n, fmt, ap);
    va_end(ap);
    cap->failed = true;
    return -1;
}

static enum fltsim_capture_format guess_format(struct fltsim_capture *cap)
{
    unsigned char head[64];
    int n = gzread(cap->gz, head, sizeof(head));
    gzrewind(cap->gz);
    if (n >= 4 && memcmp(head, "PML_", 4) == 0)
        return FLTSIM_CAPTURE_PML;
    int i = 0;
    if (n >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF)
        i = 3;
    while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
        i++;
    if (i < n && head[i] == '<')
        return FLTSIM_CAPTURE_XML;
    return FLTSIM_CAPTURE_CSV;
}

struct fltsim_capture *fltsim_capture_open(const char *path, enum fltsim_capture_format format,
                                           char *error, size_t error_size)
{
    struct fltsim_capture *cap = calloc(1, sizeof(*cap));
    char *copy = strdup(path);
    if (cap == NULL || copy == NULL) {
        snprintf(error, error_size, "%s: out of memory", path);
        free(cap);
        free(copy);
        return NULL;
    }
    cap->path = copy;
    struct stat st;
    if (stat(path, &st) != 0 || (cap->gz = gzopen(path, "rb")) == NULL) {
        snprintf(error, error_size, "%s: %s", path, strerror(errno != 0 ? errno : ENOENT));
        free(cap->path);
        free(cap);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(error, error_size, "%s: is a directory, not a capture file", path);
        fltsim_capture_close(cap);
        return NULL;
    }
    cap->size = (uint64_t)st.st_size;
    gzbuffer(cap->gz, 256 * 1024);
    cap->format = format == FLTSIM_CAPTURE_AUTO ? guess_format(cap) : format;
    bool ok;
    switch (cap->format) {
    case FLTSIM_CAPTURE_CSV:
        ok = fltsim__capture_csv_open(cap);
        break;
    case FLTSIM_CAPTURE_XML:
        ok = fltsim__capture_xml_open(cap);
        break;
    case FLTSIM_CAPTURE_PML:
        ok = fltsim__capture_pml_open(cap);
        break;
    default:
        fltsim__capture_fail(cap, "unknown capture format %d", (int)format);
        ok = false;
        break;
    }
    if (!ok) {
        snprintf(error, error_size, "%s", cap->error);
        cap->backend = NULL;
        fltsim_capture_close(cap);
        return NULL;
    }
    return cap;
}

int fltsim_capture_next(struct fltsim_capture *cap, const struct fltsim_capture_event **event)
{
    if (cap->failed)
        return -1;
    return cap->backend->next(cap, event);
}

const char *fltsim_capture_error(const struct fltsim_capture *cap)
{
    return cap->error;
}

enum fltsim_capture_format fltsim_capture_format_of(const struct fltsim_capture *cap)
{
    return cap->format;
}

uint64_t fltsim_capture_position(const struct fltsim_capture *cap)
{
    z_off_t off = gzoffset(cap->gz);
    return off < 0 ? 0 : (uint64_t)off;
}

uint64_t fltsim_capture_size(const struct fltsim_capture *cap)
{
    return cap->size;
}

uint64_t fltsim_capture_event_count(const struct fltsim_capture *cap)
{
    return cap->event_count;
}

void fltsim_capture_close(struct fltsim_capture *cap)
{
    if (cap == NULL)
        return;
    if (cap->backend != NULL && cap->backend->close != NULL)
        cap->backend->close(cap);
    if (cap->gz != NULL)
        gzclose(cap->gz);
    free(cap->path);
    free(cap);
}
