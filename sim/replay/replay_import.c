/*
 * fltsim import: the calls a replay issues, written as a scenario file
 * (scenarios/README.md) that `fltsim run` replays identically. The steps go
 * to a temporary file while the capture streams; the volumes, filters and
 * threads, known only at the end, are written first, then the steps copied.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fltsim/io.h>

#include "replay_internal.h"

struct ithread {
    uint32_t pid, tid;
};

struct import_state {
    FILE *files;   /* the volumes' files: "drive|yaml line" */
    FILE *filters; /* the filters: section */
    FILE *steps;
    struct ithread *threads;
    size_t thread_count, thread_cap;
    uint64_t steps_written;
    bool failed;
};

/* A YAML single-quoted scalar: backslashes stay, quotes double. */
static void quoted(FILE *out, const char *s)
{
    fputc('\'', out);
    for (; *s != '\0'; s++) {
        if (*s == '\'')
            fputc('\'', out);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, out);
    }
    fputc('\'', out);
}

static struct import_state *state(struct replay *rp)
{
    return rp->imp;
}

void fltsim__replay_import_begin(struct replay *rp)
{
    struct import_state *im = calloc(1, sizeof(*im));
    if (im == NULL) {
        fltsim__replay_fail(rp, "import: out of memory");
        return;
    }
    im->files = tmpfile();
    im->filters = tmpfile();
    im->steps = tmpfile();
    if (im->files == NULL || im->filters == NULL || im->steps == NULL)
        fltsim__replay_fail(rp, "import: no temporary file for the steps");
    rp->imp = im;
}

void fltsim__replay_import_file(struct replay *rp, const char *path, bool directory,
                                uint64_t size)
{
    struct import_state *im = state(rp);
    if (im == NULL || im->files == NULL)
        return;
    fprintf(im->files, "%c|", path[0] >= 'a' && path[0] <= 'z' ? path[0] - 'a' + 'A' : path[0]);
    if (directory) {
        fputs("      - dir: ", im->files);
        quoted(im->files, path + 2);
    } else {
        fputs("      - path: ", im->files);
        quoted(im->files, path + 2);
        fprintf(im->files, "\n        zeros: %llu", (unsigned long long)size);
    }
    fputs("\n\x1e\n", im->files); /* record separator: one entry may take two lines */
}

void fltsim__replay_import_filter(struct replay *rp, const struct fltsim_replay_filter *filter,
                                  const char *name, const char *altitude)
{
    struct import_state *im = state(rp);
    if (im == NULL || im->filters == NULL)
        return;
    fputs("  - name: ", im->filters);
    quoted(im->filters, name);
    if (filter->builtin != NULL) {
        fputs("\n    builtin: ", im->filters);
        quoted(im->filters, filter->builtin);
    } else {
        fputs("\n    object: ", im->filters);
        quoted(im->filters, filter->object);
    }
    fputs("\n    altitude: ", im->filters);
    quoted(im->filters, altitude);
    fputc('\n', im->filters);
}

static void thread_name(char *out, size_t size, uint32_t pid, uint32_t tid)
{
    snprintf(out, size, "p%ut%u", pid, tid);
}

static void use_thread(struct replay *rp, uint32_t pid, uint32_t tid)
{
    struct import_state *im = state(rp);
    for (size_t i = im->thread_count; i > 0; i--)
        if (im->threads[i - 1].pid == pid && im->threads[i - 1].tid == tid)
            return;
    if (im->thread_count == im->thread_cap) {
        size_t c = im->thread_cap == 0 ? 16 : im->thread_cap * 2;
        struct ithread *p = realloc(im->threads, c * sizeof(*p));
        if (p == NULL) {
            fltsim__replay_fail(rp, "import: out of memory");
            return;
        }
        im->threads = p;
        im->thread_cap = c;
    }
    im->threads[im->thread_count++] = (struct ithread){pid, tid};
}

static void status_value(FILE *out, NTSTATUS s)
{
    const char *name = fltsim_ntstatus_name(s);
    if (name != NULL)
        fputs(name, out);
    else
        fprintf(out, "0x%08X", (unsigned)s);
}

static const char *op_name(enum rcall_kind k)
{
    switch (k) {
    case RC_CREATE:
        return "create";
    case RC_READ:
        return "read";
    case RC_WRITE:
        return "write";
    case RC_QUERY_INFO:
        return "query_information";
    case RC_SET_INFO:
        return "set_information";
    case RC_RENAME:
        return "rename";
    case RC_DELETE:
        return "delete";
    case RC_QUERY_DIR:
        return "query_directory";
    case RC_FLUSH:
        return "flush";
    case RC_ACQUIRE_SECTION:
        return "acquire_for_section_sync";
    case RC_RELEASE_SECTION:
        return "release_for_section_sync";
    case RC_CLOSE:
        return "close";
    case RC_QUERY_OPEN:
        return "query_open";
    case RC_QUERY_VOLUME:
        return "query_volume_information";
    case RC_LOCK:
        return "lock";
    case RC_UNLOCK:
        return "unlock";
    case RC_FS_CONTROL:
        return "fs_control";
    case RC_DEVICE_CONTROL:
        return "device_control";
    case RC_QUERY_EA:
        return "query_ea";
    case RC_QUERY_SECURITY:
        return "query_security";
    case RC_ACQUIRE_MOD_WRITE:
        return "acquire_for_mod_write";
    case RC_RELEASE_MOD_WRITE:
        return "release_for_mod_write";
    case RC_ACQUIRE_CC_FLUSH:
        return "acquire_for_cc_flush";
    case RC_RELEASE_CC_FLUSH:
        return "release_for_cc_flush";
    }
    return "?";
}

static void io_flags(FILE *out, ULONG f)
{
    if (f == 0)
        return;
    fputs("    flags: [", out);
    const char *sep = "";
    if (f & FLTSIM_IO_NONCACHED) {
        fprintf(out, "%snoncached", sep);
        sep = ", ";
    }
    if (f & FLTSIM_IO_PAGING) {
        fprintf(out, "%spaging", sep);
        sep = ", ";
    }
    if (f & FLTSIM_IO_SYNC_PAGING) {
        fprintf(out, "%ssync_paging", sep);
        sep = ", ";
    }
    if (f & FLTSIM_IO_FAST_ONLY) {
        fprintf(out, "%sfast_only", sep);
        sep = ", ";
    }
    fputs("]\n", out);
}

void fltsim__replay_import_call(struct replay *rp, const struct rcall *c)
{
    struct import_state *im = state(rp);
    if (im == NULL || im->steps == NULL)
        return;
    FILE *out = im->steps;
    char tname[32];
    use_thread(rp, c->pid, c->tid);
    thread_name(tname, sizeof(tname), c->pid, c->tid);
    const struct fltsim_capture_event *ev = c->event;
    if (ev != NULL) {
        char b[48];
        if (ev->line != 0)
            fprintf(out, "  # row %llu (line %llu): %s", (unsigned long long)ev->index + 1,
                    (unsigned long long)ev->line, ev->operation);
        else
            fprintf(out, "  # event %llu: %s", (unsigned long long)ev->index, ev->operation);
        fprintf(out, ", recorded %s%s\n", fltsim_capture_status_name(ev->result, b, sizeof(b)),
                ev->result == c->seen ? "" : " (divergence)");
    } else if (c->implied) {
        fprintf(out, "  # implied: %s\n",
                c->kind == RC_CREATE ? "the capture never opened this file"
                                     : "a handle the capture left open");
    }
    fprintf(out, "  - op: %s\n    thread: %s\n", op_name(c->kind), tname);
    if (c->kind == RC_QUERY_OPEN) {
        fputs("    path: ", out);
        quoted(out, c->path);
        fprintf(out, "\n    class: %u\n", (unsigned)c->info_class);
    } else if (c->kind == RC_CREATE) {
        fputs("    path: ", out);
        quoted(out, c->path);
        fputc('\n', out);
        if (NT_SUCCESS(c->status))
            fprintf(out, "    handle: h%u\n", c->handle->id);
        fprintf(out,
                "    access: 0x%X\n    share: 0x%X\n    disposition: 0x%X\n    options: 0x%X\n",
                (unsigned)c->access, (unsigned)c->share, (unsigned)c->disposition,
                (unsigned)c->options);
        if (c->attributes != 0)
            fprintf(out, "    attributes: 0x%X\n", (unsigned)c->attributes);
        if (c->allocation != 0)
            fprintf(out, "    allocation_size: %lld\n", (long long)c->allocation);
        if (c->io_flags & FLTSIM_IO_KERNEL_MODE)
            fputs("    kernel_mode: true\n", out);
    } else {
        fprintf(out, "    handle: h%u\n", c->handle->id);
    }
    switch (c->kind) {
    case RC_READ:
        fprintf(out, "    offset: %lld\n    length: %u\n", (long long)c->offset,
                (unsigned)c->length);
        io_flags(out, c->io_flags);
        break;
    case RC_WRITE:
        fprintf(out, "    offset: %lld\n    zeros: %u\n", (long long)c->offset,
                (unsigned)c->length);
        io_flags(out, c->io_flags);
        break;
    case RC_QUERY_INFO:
        fprintf(out, "    class: %u\n    length: %u\n", (unsigned)c->info_class,
                (unsigned)c->length);
        io_flags(out, c->io_flags);
        break;
    case RC_QUERY_VOLUME:
        fprintf(out, "    class: %u\n    length: %u\n", (unsigned)c->info_class,
                (unsigned)c->length);
        break;
    case RC_LOCK:
        fprintf(out,
                "    offset: %lld\n    length: %lld\n    exclusive: %s\n    fail_immediately: %s\n",
                (long long)c->offset, (long long)c->value, c->exclusive ? "true" : "false",
                c->fail_immediately ? "true" : "false");
        io_flags(out, c->io_flags);
        break;
    case RC_UNLOCK:
        fprintf(out, "    minor: %s\n", c->minor == IRP_MN_UNLOCK_SINGLE ? "single" : "all");
        if (c->minor == IRP_MN_UNLOCK_SINGLE)
            fprintf(out, "    offset: %lld\n    length: %lld\n", (long long)c->offset,
                    (long long)c->value);
        io_flags(out, c->io_flags);
        break;
    case RC_FS_CONTROL:
    case RC_DEVICE_CONTROL:
        fprintf(out, "    code: 0x%X\n    out_length: %u\n", (unsigned)c->code,
                (unsigned)c->length);
        if (c->kind == RC_DEVICE_CONTROL)
            io_flags(out, c->io_flags);
        break;
    case RC_QUERY_EA:
        fprintf(out, "    length: %u\n    restart: %s\n", (unsigned)c->length,
                c->restart ? "true" : "false");
        break;
    case RC_QUERY_SECURITY:
        fprintf(out, "    information: 0x%X\n    length: %u\n", (unsigned)c->security_information,
                (unsigned)c->length);
        break;
    case RC_ACQUIRE_MOD_WRITE:
        fprintf(out, "    ending_offset: %lld\n", (long long)c->value);
        break;
    case RC_SET_INFO:
        fprintf(out, "    class: %u\n", (unsigned)c->info_class);
        if (c->info_class == FileEndOfFileInformation)
            fprintf(out, "    end_of_file: %lld\n", (long long)c->value);
        else if (c->info_class == FileAllocationInformation)
            fprintf(out, "    allocation_size: %lld\n", (long long)c->value);
        else if (c->info_class == FilePositionInformation)
            fprintf(out, "    position: %lld\n", (long long)c->value);
        else
            fprintf(out, "    attributes: 0x%X\n", (unsigned)c->attributes);
        break;
    case RC_RENAME:
        fputs("    new_name: ", out);
        quoted(out, c->new_name);
        fprintf(out, "\n    replace: %s\n", c->replace ? "true" : "false");
        break;
    case RC_DELETE:
        fprintf(out, "    delete: %s\n", c->delete_file ? "true" : "false");
        break;
    case RC_QUERY_DIR:
        fprintf(out, "    class: %u\n    length: %u\n    restart: %s\n    single: %s\n",
                (unsigned)c->info_class, (unsigned)c->length, c->restart ? "true" : "false",
                c->single ? "true" : "false");
        if (c->pattern != NULL) {
            fputs("    pattern: ", out);
            quoted(out, c->pattern);
            fputc('\n', out);
        }
        break;
    case RC_ACQUIRE_SECTION:
        fprintf(out, "    sync_type: %u\n    protection: 0x%X\n", (unsigned)c->sync_type,
                (unsigned)c->protection);
        break;
    default:
        break;
    }
    fputs("    expect: {status: ", out);
    status_value(out, c->status);
    fputs("}\n", out);
    im->steps_written++;
}

/* false when from could not be read back */
static bool copy_stream(FILE *from, FILE *to)
{
    char buf[65536];
    size_t n;
    rewind(from);
    while ((n = fread(buf, 1, sizeof(buf), from)) > 0)
        fwrite(buf, 1, n, to);
    return !ferror(from);
}

static void write_volumes(struct replay *rp, FILE *out)
{
    struct import_state *im = state(rp);
    fputs("volumes:\n", out);
    for (size_t i = 0; i < rp->volume_count; i++) {
        struct rvolume *v = &rp->volumes[i];
        fprintf(out, "  - drive: %c\n", v->drive);
        if (v->host_root != NULL) {
            fputs("    fs: hostfs\n    root: ", out);
            quoted(out, v->host_root);
            fprintf(out, "\n    read_only: %s\n", v->read_only ? "true" : "false");
            continue;
        }
        /* This volume's entries, in namespace order. */
        bool any = false;
        char line[4096];
        rewind(im->files);
        bool mine = false;
        while (fgets(line, sizeof(line), im->files) != NULL) {
            if (strcmp(line, "\x1e\n") == 0) {
                mine = false;
                continue;
            }
            const char *text = line;
            if (line[1] == '|' && (line[0] >= 'A' && line[0] <= 'Z')) {
                mine = line[0] == v->drive;
                text = line + 2;
            }
            if (!mine)
                continue;
            if (!any)
                fputs("    files:\n", out);
            any = true;
            fputs(text, out);
        }
    }
}

void fltsim__replay_import_end(struct replay *rp)
{
    struct import_state *im = state(rp);
    FILE *out = rp->import;
    if (im == NULL)
        return;
    /* The steps wait in temporary files: one that lost a write (a full
     * temporary directory) would make a scenario without them. */
    if (im->files != NULL && im->filters != NULL && im->steps != NULL &&
        (fflush(im->files) != 0 || ferror(im->files) || fflush(im->filters) != 0 ||
         ferror(im->filters) || fflush(im->steps) != 0 || ferror(im->steps))) {
        fltsim__replay_fail(rp, "import: writing the temporary file of the steps failed: %s",
                            strerror(errno != 0 ? errno : EIO));
    } else if (im->files != NULL && im->filters != NULL && im->steps != NULL) {
        const char *name = rp->options->import_name != NULL ? rp->options->import_name
                                                            : rp->capture_path;
        fputs("# Written by fltsim import: each step is one row of the capture (or an implied\n"
              "# open/close around rows on files the capture never opened); `expect` holds the\n"
              "# status the replay saw, and a comment the recorded Result.\n",
              out);
        fputs("scenario: ", out);
        char title[512];
        snprintf(title, sizeof(title), "Process Monitor capture %s", name);
        quoted(out, title);
        fprintf(out, "\nexecutor: deterministic\nverifier: report\n");
        write_volumes(rp, out);
        if (ftell(im->filters) > 0) {
            fputs("filters:\n", out);
            if (!copy_stream(im->filters, out))
                fltsim__replay_fail(rp, "import: the temporary file of the filters cannot be "
                                        "read back");
        }
        if (im->thread_count > 0) {
            fputs("threads:\n", out);
            for (size_t i = 0; i < im->thread_count; i++) {
                char tname[32];
                thread_name(tname, sizeof(tname), im->threads[i].pid, im->threads[i].tid);
                fprintf(out, "  - {name: %s, process: %u, thread: %u}\n", tname,
                        im->threads[i].pid, im->threads[i].tid);
            }
        }
        fputs("steps:\n", out);
        if (im->steps_written == 0)
            fputs("  - note: the capture has no replayable rows\n", out);
        if (!copy_stream(im->steps, out))
            fltsim__replay_fail(rp, "import: the temporary file of the steps cannot be read back");
    }
    if (im->files != NULL)
        fclose(im->files);
    if (im->filters != NULL)
        fclose(im->filters);
    if (im->steps != NULL)
        fclose(im->steps);
    free(im->threads);
    free(im);
    rp->imp = NULL;
}
